/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_CLASSIFY_H
#define UPGLOG_CLASSIFY_H

/**
 * classify: lines -> hits. Gives each line at most one rule of the catalogue (the first in
 * precedence order that matches, see catalog.h) and, where wanted, the rule's named captures.
 *
 * Rules see a line's message: a line that starts with the Windows Installer engine prefix
 * (`MSI (s) (D0:A0) [21:24:37:486]: ` or, before Windows Installer 3.0, `MSI (s) (A0:EC): `) is
 * matched without it, in every family. Capture offsets are relative to the whole line.
 *
 * When upglog is built with Hyperscan, one multi-pattern scan over a whole chunk finds the
 * candidate rules of every line and PCRE2 runs only where a candidate needs confirming or its
 * captures are wanted; without it (or with `prefilter` off) PCRE2 tries the family's rules in
 * order. Both paths give identical hits; the test suite proves it on the fixtures and the real
 * corpus. One exception, by design: where PCRE2 gives up on a line (its match or depth limit,
 * counted in `limit_errors`), the reference path takes the line as no match for that rule,
 * while Hyperscan's exact answer stands on the prefiltered path.
 *
 * A classifier belongs to one thread at a time. It borrows the catalogue, which must outlive it;
 * the prefilter belongs to the classifiers (ul_classifier_share), not to the catalogue.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/catalog.h"
#include "upglog/decode.h"
#include "upglog/error.h"

/** Capture offset that means "group did not take part". */
#define UL_CAP_UNSET UINT32_MAX

/** One classified line. */
struct ul_hit {
	uint32_t line; /**< index into the chunk's lines */
	uint32_t rule; /**< catalogue rank */
	int32_t caps;  /**< index of the hit's first capture pair in `ul_hits.caps`, or -1 when the
	                    captures were not computed; pair k belongs to the rule's slot k */
};

/** Hits of one chunk, in line order. Reused across chunks; `ul_hits_finish` frees. */
struct ul_hits {
	struct ul_hit *v;
	size_t n, cap;
	uint32_t *caps; /**< (start, end) byte offsets relative to the line; UL_CAP_UNSET pairs */
	size_t ncaps, caps_cap;
	uint64_t limit_errors; /**< PCRE2 match/depth limit reached (counted as no match) */
};

void ul_hits_init(struct ul_hits *h);
void ul_hits_clear(struct ul_hits *h);
void ul_hits_finish(struct ul_hits *h);

struct ul_classifier;

/**
 * A classifier of `cat`. With `prefilter`, it owns the multi-pattern databases of the families
 * it classifies (built from the rules' patterns on first use, and cached on disk).
 */
struct ul_classifier *ul_classifier_create(const struct ul_catalog *cat, bool prefilter,
                                           struct ul_error *err);
/**
 * Another classifier of the same catalogue and prefilter setting, for another thread, that
 * shares `cl`'s prefilter databases (each family is built once for all of them, under a lock).
 * It reads only what never changes in `cl`, so it may run while `cl` classifies on its own
 * thread. Classifiers that share may be destroyed in any order.
 */
struct ul_classifier *ul_classifier_share(const struct ul_classifier *cl, struct ul_error *err);
void ul_classifier_destroy(struct ul_classifier *cl);

/** True when this classifier uses the multi-pattern prefilter. */
bool ul_classifier_prefiltered(const struct ul_classifier *cl);

/**
 * Classify every line of `chunk` against the rules of `fam`, appending to `out` (cleared first).
 * Captures are computed for hits whose rule is above noise or carries an event, and for every
 * hit when `all_captures` is set. False only when memory runs out.
 */
bool ul_classify_chunk(struct ul_classifier *cl, ul_family fam, const struct ul_chunk *chunk,
                       bool all_captures, struct ul_hits *out, struct ul_error *err);

/**
 * Classify one line (no terminator). Returns the winning rank or -1; when `caps` is given it
 * receives 2 * UL_MAX_CAPS offsets (slot order, UL_CAP_UNSET when unset).
 */
long ul_classify_line(struct ul_classifier *cl, ul_family fam, const char *line, size_t len,
                      uint32_t *caps);

/** Does rule `rank` match `line` on its own (ignoring precedence)? */
bool ul_classify_rule_matches(struct ul_classifier *cl, size_t rank, const char *line, size_t len);

/** What a failed sample check found. */
struct ul_check_failure {
	const struct ul_rule *rule;
	const char *kind;   /**< "sample", "not", "unportable" */
	const char *line;   /**< the sample or not line (or the pattern) */
	const char *reason; /**< e.g. "does not match", "taken by msi.other", "look-around" */
};

/**
 * Prove every rule: each `sample` must match and win its line in every family of the rule, each
 * `not` must not match, and each pattern must be in the portable subset. `report` is called for
 * each failure (may be NULL). Returns the number of failures.
 */
size_t ul_classify_check(struct ul_classifier *cl,
                         void (*report)(void *ctx, const struct ul_check_failure *f), void *ctx);

/**
 * Length of the Windows Installer engine prefix that starts `line` (through the colon and one
 * space), or 0 when the line does not start with one. Grammar:
 * `MSI (` letter `) (` hex+ `:`|`!` hex+ `)` [` [` digits-and-colons `]`] [` `] `:` [` `].
 */
size_t ul_classify_msi_prefix(const char *line, size_t len);

/**
 * Decide a file's family from its first decoded lines, its path (inner path for bundle members)
 * and its encoding, by the families the catalogue declares: a family whose `first-line`
 * signature matches line 1 wins, then the family most of the first 64 lines vote for (ties:
 * higher `priority`, then a family whose `encoding` hint fits, then declaration order), then the
 * first family whose `name` or `path` glob matches (when its encodings allow), else the fallback
 * family. `first` may be NULL or empty, `path` NULL.
 */
ul_family ul_classify_sniff(const struct ul_catalog *cat, const struct ul_chunk *first,
                            const char *path, enum ul_encoding enc);

#endif
