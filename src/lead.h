/* SPDX-License-Identifier: MIT */
/*
 * Private to the catalogue: what the subject must start with for a pattern to match.
 *
 * `ul_lead_analyse` reads a PCRE2 pattern (compiled with PCRE2_UTF and no other option) and
 * finds a small set of literal strings such that every subject the pattern matches starts with
 * one of them. An entry is *exact* when the pattern matches every subject that starts with it
 * (one path of the pattern made of literals only, to the pattern's end). Anything the analysis
 * does not understand makes it answer less, never wrong: an unanchored pattern, an option
 * setting such as `(?i)`, or a set that grows too large gives "unknown" (any subject may match),
 * and a construct it cannot read ends an entry's known part there.
 *
 * The catalogue uses it to prove that a cheap literal test decides a line (catalog_impl.h). The
 * pattern is read through rxtok.h, the reader the catalogue and the prefilter use too.
 */
#ifndef UPGLOG_LEAD_H
#define UPGLOG_LEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UL_LEAD_MAX 16 /* entries in one set */
#define UL_LEAD_LEN 48 /* bytes kept of one entry */

struct ul_lead_entry {
	char s[UL_LEAD_LEN];
	uint8_t len;
	bool exact; /* while parsing: the path so far is all literal and may grow */
};

struct ul_leads {
	bool known; /* false: any subject may match */
	size_t n;
	struct ul_lead_entry v[UL_LEAD_MAX];
};

/** Analyse `pattern` (NUL-terminated). */
void ul_lead_analyse(const char *pattern, struct ul_leads *out);

/** True when no subject that starts with lit[0..len) can match the pattern `q` describes. */
bool ul_lead_excludes(const struct ul_leads *q, const char *lit, size_t len);

#endif
