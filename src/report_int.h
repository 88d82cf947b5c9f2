/* SPDX-License-Identifier: MIT */
/*
 * Private to the report module: the triage gathered once from the store, and the renderers
 * that print it. report.c gathers (struct rep_triage) and picks the renderer from one table;
 * each output format is a renderer in a file of its own (report_text.c, report_json.c,
 * report_html.c, report_markdown.c, report_jsonl.c). A renderer reads the gathered triage
 * only: it never queries the store.
 */
#ifndef UPGLOG_REPORT_INT_H
#define UPGLOG_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "upglog/report.h"

/** A finding, owned by the gathered triage. */
struct rep_finding {
	char *file, *host, *ts, *rule, *severity, *code, *action, *text, *title, *explain, *fix;
	char *before, *after; /* context lines, '\n'-separated, or NULL */
	int64_t line;
	enum ul_severity sev;
	bool cause;   /* shown as a server's root cause or candidate */
	bool ignored; /* in a log that says it succeeded: the installer went on past it */
};

/** A file of the scan with its verdict. */
struct rep_file {
	char *path, *host, *host_from, *family, *location, *encoding, *status, *error;
	char *outcome, *reason, *action, *product, *started, *finished, *failed_at;
	int64_t lines, bytes, exit_code;
	bool has_exit, reboot;
	enum ul_outcome out; /* parsed `outcome`; UL_OUT_UNKNOWN without a verdict row */
	bool has_verdict;
	struct rep_finding root; /* its own root cause (root.file NULL when none) */
};

struct rep_noise {
	char *rule, *code; /* code NULL when the rule captures none */
	uint64_t count;
};

struct rep_triage {
	struct rep_file *files; /* path order */
	size_t nfiles;
	const struct ul_cluster *cl;
	const struct ul_server *servers; /* upgrade order */
	size_t nservers;
	const struct ul_check *checks;
	size_t nchecks;
	const struct ul_server *first; /* the failed server whose root cause happened first */
	/* Findings of severity error and worse that may explain something (lines that only
	 * repeat an outcome left out), in time order (lines without a time last, by file). */
	struct rep_finding *failures;
	size_t nfailures;
	/* Every finding of at least the renderer's `findings_min` severity, in (path, line)
	 * order; none when the renderer asks for none. */
	struct rep_finding *findings;
	size_t nfindings;
	struct rep_noise *noise; /* biggest first */
	size_t nnoise;
	uint64_t noise_total;
	uint64_t counts[UL_SEV_COUNT];
	struct ul_triage_summary sum;
};

/** One output format of the triage. */
struct rep_renderer {
	enum ul_format format;
	/* -1: no `findings`; else the least severity gathered into `findings`. */
	int findings_min;
	bool (*render)(const struct ul_report_opts *o, const struct rep_triage *t);
};

bool rep_text(const struct ul_report_opts *o, const struct rep_triage *t);
bool rep_json(const struct ul_report_opts *o, const struct rep_triage *t);
bool rep_html(const struct ul_report_opts *o, const struct rep_triage *t);
bool rep_markdown(const struct ul_report_opts *o, const struct rep_triage *t);
bool rep_jsonl(const struct ul_report_opts *o, const struct rep_triage *t);

/* ---- helpers shared by the renderers (report.c) ---- */

/** `path` without the `o->strip` prefix; "?" for NULL. */
const char *rep_shown(const struct ul_report_opts *o, const char *path);
/** The last component of a path (after '/', '\\' or '!'). */
const char *rep_base(const char *path);
/** "s" unless n is 1: "%zu file%s", n, rep_s(n). */
const char *rep_s(uint64_t n);
/** 1234567 -> "1,234,567". */
void rep_commas(char *buf, size_t cap, uint64_t v);
/** "FAILED", "SUCCEEDED", ... */
const char *rep_upper_outcome(enum ul_outcome o);
/** failed or cancelled */
bool rep_bad(enum ul_outcome o);
/** Files by their own outcome (files without a verdict row count as unknown). */
void rep_outcome_counts(const struct rep_triage *t, size_t by[UL_OUTCOME_COUNT]);
/** "2 failed, 1 cancelled, 0 incomplete, 5 succeeded, 1 without an outcome" */
void rep_outcome_line(const struct rep_triage *t, char *buf, size_t cap);
/** How many checks of severity error or worse fired; bad servers. */
size_t rep_error_checks(const struct rep_triage *t);
size_t rep_bad_servers(const struct rep_triage *t);
/** The one-line headline after the verdict word (never NULL). */
void rep_headline(const struct rep_triage *t, char *buf, size_t cap);
/** The hint that leads to every row: names the database to query. */
void rep_query_hint(const struct ul_report_opts *o, char *buf, size_t cap);
/** Lines of a '\n'-separated block (0 for NULL). */
int64_t rep_count_lines(const char *block);
/** The file of the gathered triage with this path, or NULL. */
const struct rep_file *rep_file_of(const struct rep_triage *t, const char *path);
/** An absolute path: "/...", "C:\\..." or "C:/...", "\\\\server\\..." (one line). */
bool rep_is_path(const char *s);
/** Fit `s` into `width` display cells, cutting the middle of a path so its file name stays
 *  ("C:/Program Files/.../Logs/ccminst.log"); writes into buf (cap >= 4 * width + 1). */
void rep_fit_path(const char *s, size_t width, char *buf, size_t cap);

#endif
