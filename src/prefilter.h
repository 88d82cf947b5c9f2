/* SPDX-License-Identifier: MIT */
/*
 * Private to the classifier, which owns the databases: the Hyperscan prefilter. One database per
 * log family holds every rule of the family; one scan of a whole chunk of lines (joined by '\n') tells, for each line,
 * the best rule Hyperscan can vouch for exactly and the rules PCRE2 must confirm.
 *
 * Patterns are rewritten so that no match can run across a line end (negated classes and \s
 * lose '\n'). A pattern that cannot be rewritten safely (\p, \A, \z, octal escapes, ...)
 * stays out of the database and PCRE2 tries it on every line; one Hyperscan takes only
 * approximately (HS_FLAG_PREFILTER) is a superset that PCRE2 confirms. Either way the
 * prefilter never misses a line a rule matches on its own.
 */
#ifndef UPGLOG_PREFILTER_H
#define UPGLOG_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/error.h"

/** How the database knows a family position. */
enum {
	UL_PF_ABSENT = 0, /**< not in the database: try PCRE2 on every line */
	UL_PF_SUPERSET,   /**< a report is a candidate that PCRE2 must confirm */
	UL_PF_EXACT,      /**< a report is a match, exactly as PCRE2 decides on the line */
};

struct ul_prefilter;

/**
 * Build the database of `n` patterns (PCRE2 syntax, as rules write them), whose positions are
 * 0..n-1 in precedence order (may take a while: call once, share). `name` names the set in
 * errors and in the on-disk cache (a family name). The prefilter knows nothing of the
 * catalogue: patterns in, positions out.
 */
struct ul_prefilter *ul_prefilter_build(const char *name, const char *const *patterns, size_t n,
                                        struct ul_error *err);
void ul_prefilter_free(struct ul_prefilter *pf);

/**
 * The family positions the database cannot report (UL_PF_ABSENT), in order: PCRE2 tries them on
 * every line. Never NULL for a built prefilter.
 */
const uint32_t *ul_prefilter_absent(const struct ul_prefilter *pf, size_t *n);

/** Per-thread scan state. */
struct ul_pf_scratch;
struct ul_pf_scratch *ul_pf_scratch_new(void);
void ul_pf_scratch_free(struct ul_pf_scratch *s);

/** A (line, family position) pair that PCRE2 must confirm. */
struct ul_pf_cand {
	uint32_t line, pos;
};

/**
 * Scan `buf` (`len` bytes, line i starting at `starts[i]`, lines separated by '\n'). Sets
 * `best[i]` to the smallest exact position reported for line i (UINT32_MAX when none; the
 * caller initialises it) and returns the superset reports in `*cands`/`*ncands`, sorted by
 * (line, pos), valid until the next scan with the same scratch. False when Hyperscan fails.
 */
bool ul_prefilter_scan(const struct ul_prefilter *pf, struct ul_pf_scratch *s, const char *buf,
                       size_t len, const uint32_t *starts, size_t nlines, uint32_t *best,
                       const struct ul_pf_cand **cands, size_t *ncands);

/**
 * The pattern rewritten for the prefilter: it cannot match across '\n', and a trailing repeat
 * is cut to its minimum (`X\d+` asks the same yes/no question as `X\d`, with fewer reports).
 * NULL when that cannot be done safely (the caller frees it).
 */
char *ul_prefilter_line_safe(const char *pattern);

#endif
