/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_REPORT_H
#define UPGLOG_REPORT_H

/**
 * report: reads the store and prints. The triage report (text for people, JSON for scripts)
 * covers the files of one scan; query results print as a table, CSV or JSON.
 *
 * Output goes to the FILE given in the options; nothing is printed anywhere else.
 */

#include <stdbool.h>
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
	UL_FMT_JSONL, /**< query: one JSON object per row and line */
};

struct ul_report_opts {
	FILE *out;
	enum ul_format format;
	bool color;        /**< ANSI colours (text only) */
	const char *strip; /**< path prefix to drop when showing file names (the cwd), or NULL */
	/** Servers and checks of the scan; NULL: built by the report with default options. */
	const struct ul_cluster *cluster;
};

/** What the triage found, for the exit status. */
struct ul_triage_summary {
	enum ul_outcome verdict;
	uint64_t files, failed_files, unreadable;
};

/**
 * Print the triage of scan `scan_id`: one block per server (verdict, root cause by time, what
 * to do), the cluster table and checks, then the other failures and the noise. The verdict is
 * the cluster's (see cluster.h).
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
