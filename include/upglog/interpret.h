/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_INTERPRET_H
#define UPGLOG_INTERPRET_H

/**
 * interpret: classified lines of one file -> findings, noise tallies and a verdict.
 *
 * A per-file state machine fed chunk by chunk, in line order. For MSI logs it follows the
 * sessions, the running action, `Return value 3`, rollback and the final status lines; for
 * other families it reads outcome and exit-code events. The verdict comes from the final
 * status; the root cause is the first error-or-worse finding inside the failing action (else
 * the nearest one before the failure), with up to three ranked candidates.
 *
 * Timestamps: the date comes from the session header (in the machine's short-date format) or
 * from lines that carry one, the time of day from each line; a clock that jumps back by more
 * than twelve hours means midnight passed. A finding whose line has no time of its own takes
 * the time of the nearest line of its block that has one, above or below (a time from below
 * dates that finding only), else the last time seen. Secrets (`PWD=...`, `password=...`) are
 * masked in every text handed out.
 *
 * Memory is bounded per file: only counters, the action stack and a few candidate findings are
 * kept, whatever the file's size.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/catalog.h"
#include "upglog/classify.h"
#include "upglog/decode.h"
#include "upglog/error.h"

enum ul_outcome {
	UL_OUT_UNKNOWN = 0, /**< not an installer log, or nothing says how it ended */
	UL_OUT_SUCCEEDED,
	UL_OUT_FAILED,
	UL_OUT_INCOMPLETE,    /**< an installer log that ends mid-install */
	UL_OUTCOME_CANCELLED, /**< the user cancelled the setup (exit 1602, 0x642) */
};
#define UL_OUTCOME_COUNT 5

/** "unknown", "succeeded", "failed", "incomplete", "cancelled". */
const char *ul_outcome_name(enum ul_outcome o);

/** Lines of context kept above and below findings of severity warning and worse. */
#define UL_CONTEXT 3

/**
 * One finding, borrowed: every pointer is valid only during the callback that receives it.
 * Strings are NUL-terminated valid UTF-8 (secrets masked).
 */
struct ul_finding {
	uint64_t line;   /**< 1-based line number */
	uint64_t offset; /**< byte offset of the line in the (decompressed) file */
	const char *ts;  /**< "YYYY-MM-DDTHH:MM:SS[.mmm]" local time, or NULL if unknown */
	uint32_t rule;   /**< catalogue rank */
	enum ul_severity severity;
	const char *code;     /**< captured or constant code, or NULL */
	const char *action;   /**< captured action, else the action running, or NULL */
	const char *text;     /**< the line (cut to UL_FINDING_TEXT bytes) */
	const char *title;    /**< the rule's title with its {captures} filled in */
	const char *captures; /**< JSON object of every named capture, or NULL when none */
	const char *before;   /**< up to UL_CONTEXT lines above, joined by '\n', or NULL */
	const char *after;    /**< up to UL_CONTEXT lines below, or NULL */
};

/** Longest line text kept in a finding. */
#define UL_FINDING_TEXT 4096

/** A ranked root-cause candidate. */
struct ul_candidate {
	uint64_t line;
	char reason[160];
};

/**
 * A fact a rule with event `fact` stated about the server: the capture's name and value
 * (`host` = `PUB01`, `nt_product_type` = `2`, `from_version` = `3.3(4)`), the first of each
 * name in the file.
 */
struct ul_fact {
	char key[32];
	char value[96];
	uint64_t line;
	char ts[32]; /**< timestamp of the line, "" when unknown */
};

/** Most facts kept per file. */
#define UL_MAX_FACTS 16

/** How one file ended. */
struct ul_verdict {
	enum ul_outcome outcome;
	uint64_t root_line; /**< line of the root-cause finding, 0 when none */
	char action[128];   /**< failing action, "" when none */
	bool has_exit;
	long exit_code;     /**< final exit/status code when `has_exit` */
	bool reboot;        /**< a restart is needed (3010, 1641, reboot lines) */
	char reason[200];   /**< one line: why this outcome */
	char product[128];  /**< product name when a line said it */
	char host[64];      /**< computer name when the log said it */
	char started[32];   /**< first timestamp of the file ("" when unknown) */
	char failed_at[32]; /**< timestamp of the root cause ("" when unknown) */
	char finished[32];  /**< last timestamp of the file ("" when unknown) */
	struct ul_fact facts[UL_MAX_FACTS];
	size_t nfacts;
	struct ul_candidate candidates[3];
	size_t ncandidates;
};

/** Noise and rule tallies of one file, handed out at the end. */
struct ul_tally {
	uint32_t rule;
	uint64_t count, first_line, last_line;
};

/** Where findings go. Return false to stop the file (the error is the sink's to report). */
struct ul_interp_sink {
	void *ctx;
	bool (*finding)(void *ctx, const struct ul_finding *f);
};

struct ul_interp;

/** `keep_noise`: hand noise lines out as findings too. */
struct ul_interp *ul_interp_create(const struct ul_catalog *cat, bool keep_noise);
void ul_interp_destroy(struct ul_interp *in);

/** Start a file of family `fam`; findings go to `sink` (copied). */
void ul_interp_begin(struct ul_interp *in, ul_family fam, const struct ul_interp_sink *sink);

/**
 * Feed the next chunk of the file and its hits. `first_line` is the 1-based number of the
 * chunk's first line, `raw_base` the byte offset of the block. False when the sink refused.
 */
bool ul_interp_chunk(struct ul_interp *in, const struct ul_chunk *chunk, uint64_t first_line,
                     uint64_t raw_base, const struct ul_hits *hits);

/** Finish the file: flush pending findings, decide the verdict. False when the sink refused. */
bool ul_interp_end(struct ul_interp *in, struct ul_verdict *out);

/** Rules that hit in the file just ended, in rank order; valid until the next begin. */
const struct ul_tally *ul_interp_tallies(const struct ul_interp *in, size_t *n);

/**
 * Parse a session-header date as Windows writes it in the machine's short-date format
 * (`7/18/2000`, `31.01.2022`, `2019/7/8`, `20/12/2024`) into year, month, day.
 */
bool ul_interp_parse_date(const char *s, size_t len, int *y, int *m, int *d);

#endif
