/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_REPORT_H
#define UPGLOG_REPORT_H

/**
 * report: reads the store and prints. The triage of one scan is gathered once (servers,
 * verdicts, root causes with context, candidates, failures by time, checks, noise tallies,
 * files and errors) and printed by one renderer per format: text for people, JSON for
 * scripts, a self-contained HTML page and Markdown for a ticket, JSON lines for log
 * pipelines. Query results print as a table, CSV or JSON.
 *
 * Output goes to the FILE given in the options; nothing is printed anywhere else.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "upglog/cluster.h"
#include "upglog/error.h"
#include "upglog/interpret.h"
#include "upglog/store.h"

enum ul_format {
	UL_FMT_TEXT = 0,
	UL_FMT_JSON,
	UL_FMT_TABLE,
	UL_FMT_CSV,
	UL_FMT_JSONL,    /**< one flat JSON object per line: triage events, or query rows */
	UL_FMT_HTML,     /**< one self-contained page: inline CSS and SVG, no script */
	UL_FMT_MARKDOWN, /**< pastes into a ticket or chat */
};
#define UL_FMT_COUNT 7

/** "text", "json", "table", "csv", "jsonl", "html", "markdown". */
const char *ul_format_name(enum ul_format f);

/**
 * Parse a --format word among the formats whose bit (1u << format) is set in `allowed`
 * ("md" is markdown). False when unknown or not allowed; then `list` (when not NULL) names
 * the allowed ones ("text, json or html") for the message.
 */
bool ul_format_parse(const char *word, unsigned allowed, enum ul_format *out, char *list,
                     size_t cap);

struct ul_report_opts {
	FILE *out;
	enum ul_format format;
	bool color;        /**< ANSI colours (text only) */
	const char *strip; /**< path prefix to drop when showing file names (the cwd), or NULL */
	/** Servers and checks of the scan; NULL: built by the report with default options. */
	const struct ul_cluster *cluster;
	/** The database the scan is in, for hints that lead to every row; NULL when it lives in
	 *  memory only (the hint then says how to keep one). */
	const char *db;
	/** The command that produced the scan, shown in the HTML page's title; or NULL. */
	const char *title;
	/** A caveat every report shows under its verdict (text, json `notice`, html,
	 *  markdown): the scan it reads did not finish. NULL: none. */
	const char *notice;
};

/** What the triage found, for the exit status. */
struct ul_triage_summary {
	enum ul_outcome verdict;
	uint64_t files, failed_files, unreadable;
};

/**
 * Print the triage of scan `scan_id` in `o->format` (text, json, jsonl, html or markdown): one
 * block per server (verdict, root cause by time, what to do), the cluster table and checks,
 * then the other failures in time order and the noise. The verdict is the cluster's (see
 * cluster.h). JSON lines: one object per finding (every severity above noise), per file
 * verdict, per server and per check, each with a `kind` field.
 */
bool ul_report_triage(struct ul_store *st, int64_t scan_id, const struct ul_report_opts *o,
                      struct ul_triage_summary *sum, struct ul_error *err);

/**
 * Run `sql` and print its rows in `o->format`: table, CSV (each statement under its own
 * header), JSON (one array of row objects, every statement's rows in order) or JSON lines (one
 * object per row). Numbers print as numbers, NULL as null (empty in CSV, NULL in a table), a
 * blob as its SQL literal `x'0aff'`; text that is not valid UTF-8 has its bad bytes replaced by
 * U+FFFD, so the output always is.
 */
bool ul_report_query(struct ul_store *st, const char *sql, const struct ul_report_opts *o,
                     struct ul_error *err);

/** Write `s` as a JSON string literal (quotes included); NULL prints null. */
void ul_report_json_string(FILE *out, const char *s);

#endif
