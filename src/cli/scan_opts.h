/* SPDX-License-Identifier: MIT */
/* Private to the binary: options shared by `scan` and `triage`. */
#ifndef UPGLOG_CLI_SCAN_OPTS_H
#define UPGLOG_CLI_SCAN_OPTS_H

#include "cli.h"
#include "upglog/scan.h"

enum {
	OPT_DB = 256,
	OPT_RULES,
	OPT_JOBS,
	OPT_KEEP_NOISE,
	OPT_QUIET,
	OPT_FORCE,
	OPT_NO_PREFILTER,
	OPT_MAX_SIZE,
	OPT_MAX_RATIO,
	OPT_MAX_DEPTH,
	OPT_MAX_LINE,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_WRITE,
	OPT_COLOR,
	/* servers and the cluster */
	OPT_HOST,
	OPT_LABEL,
	OPT_ROLE,
	OPT_WINDOW,
};

/*
 * The options `scan` and `triage` share (each command's own table has the rest). To add
 * one: a row here (or in the command's own table) and a case in cli_scan_option(); --help,
 * the man pages and the completions follow from the row.
 */
extern const struct cli_opt cli_scan_opts[];

#define CLI_MAX_ROLES 64

struct cli_scan {
	const struct cli_io *io; /**< for the option handler's messages */
	struct ul_scan_opts opts;
	/* servers and the cluster */
	const char *roles[CLI_MAX_ROLES];
	size_t nroles;
	int64_t window;
	struct cli_rules rules;
	const char *db;
	bool quiet;
	char **paths;
	size_t npaths;
	char *arguments;
};

void cli_scan_init(struct cli_scan *cs);
void cli_scan_finish(struct cli_scan *cs);

/** Handle option `id`: 0 when taken, -1 when not a scan option, else an exit status. */
int cli_scan_option(struct cli_scan *cs, int id, const char *arg, const struct cli_cmd *cmd,
                    const struct cli_io *io);

/** Whether `path` can be written (an existing file, or a new one in an existing folder we
 *  may write); when not, says why ("PATH: cannot write: reason") and returns false. Checked
 *  before a scan, so a long scan is not lost to a mistyped --output. */
bool cli_output_writable(const struct cli_io *io, const char *path);

/** Whether "-" (standard input, read once) is among argv[first..] more than once. */
bool cli_stdin_twice(int argc, char **argv, int first);

/** Take argv[first..] as the inputs (made absolute) and record the command line. */
bool cli_scan_paths(struct cli_scan *cs, int argc, char **argv, int first);

/** Run the scan, printing one line per unreadable input and a progress line on a terminal. */
bool cli_scan_run(struct cli_scan *cs, const struct cli_io *io, struct ul_store *st,
                  const struct ul_catalog *cat, int64_t *scan_id, struct ul_scan_stats *stats);

/**
 * Servers, roles and checks of scan `scan_id` (with the --role and --window options); with
 * `save`, written to the `servers` and `checks` tables. NULL after printing the error.
 */
struct ul_cluster *cli_cluster(struct cli_scan *cs, const struct cli_io *io, struct ul_store *st,
                               int64_t scan_id, bool save);

/**
 * The exit status of a run that stored files (scan, merge): 3 when something could not be
 * read (`problems`, or unreadable files in `sum`), else 1 when a file or the cluster failed
 * or was cancelled (a cancelled setup did not install: README, exit status), else 0.
 */
int cli_scan_exit(const struct ul_store_summary *sum, const struct ul_cluster *cl, bool problems);

/** The progress line: percentage, rate and time left when the inputs' size is known. */
void cli_progress_line(FILE *f, const struct ul_scan_stats *s);

/** The one-line summary at the end of a scan. */
void cli_scan_summary(const struct cli_io *io, const struct ul_scan_stats *s);

/** The current folder (for showing paths relative to it), or NULL. */
const char *cli_cwd(void);

/*
 * When scan `scan_id` of `db` did not finish (killed, stopped by an error, or still running),
 * say so on stderr with what it did not read, and return true: the caller exits with 3. False
 * when it finished; on a database error, says so and returns true.
 */
bool cli_scan_unfinished(const struct cli_io *io, struct ul_store *st, const char *db,
                         int64_t scan_id);

#endif
