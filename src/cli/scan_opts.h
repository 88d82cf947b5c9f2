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
};

/* getopt entries every scanning command takes. */
#define CLI_SCAN_OPTIONS                                                 \
	{ "db", required_argument, NULL, OPT_DB },                       \
	        { "rules", required_argument, NULL, OPT_RULES },         \
	        { "jobs", required_argument, NULL, OPT_JOBS },           \
	        { "keep-noise", no_argument, NULL, OPT_KEEP_NOISE },     \
	        { "quiet", no_argument, NULL, OPT_QUIET },               \
	        { "force", no_argument, NULL, OPT_FORCE },               \
	        { "no-prefilter", no_argument, NULL, OPT_NO_PREFILTER }, \
	        { "max-size", required_argument, NULL, OPT_MAX_SIZE },   \
	        { "max-ratio", required_argument, NULL, OPT_MAX_RATIO }, \
	        { "max-depth", required_argument, NULL, OPT_MAX_DEPTH }, \
	{                                                                \
		"max-line", required_argument, NULL, OPT_MAX_LINE        \
	}

/* Help text for those options (one source for both commands). */
#define CLI_SCAN_HELP                                                                           \
	"  --rules DIR     add a folder of *.rules files (repeatable)\n"                        \
	"  --jobs N        threads that classify, the reading one included (default: one per\n" \
	"                  CPU; 1 = everything on one thread)\n"                                \
	"  --keep-noise    store harmless lines as findings too (they are always counted)\n"    \
	"  --force         read every file again, even when unchanged since the last scan\n"    \
	"  --quiet         no progress line and no summary on stderr\n"                         \
	"  --max-size N    largest expanded size of one compressed member (default 8G)\n"       \
	"  --max-ratio N   largest expansion ratio of one compressed member (default 200)\n"    \
	"  --max-depth N   containers inside containers, gzip layers too (default 3)\n"         \
	"  --max-line N    longer lines are cut to N bytes and counted (default 64K)\n"         \
	"  --no-prefilter  match with PCRE2 alone (same findings, slower; for verification)\n"

struct cli_scan {
	struct ul_scan_opts opts;
	struct cli_rules rules;
	const char *db;
	bool quiet;
	char **paths;
	size_t npaths;
	char *arguments;
};

void cli_scan_init(struct cli_scan *cs);
void cli_scan_finish(struct cli_scan *cs);

/** Handle option `c`: 0 when taken, -1 when not a scan option, else an exit status. */
int cli_scan_option(struct cli_scan *cs, int c, const char *arg, const struct cli_cmd *cmd,
                    const struct cli_io *io);

/** Take argv[first..] as the inputs (made absolute) and record the command line. */
bool cli_scan_paths(struct cli_scan *cs, int argc, char **argv, int first);

/** Run the scan, printing one line per unreadable input and a progress line on a terminal. */
bool cli_scan_run(struct cli_scan *cs, const struct cli_io *io, struct ul_store *st,
                  const struct ul_catalog *cat, int64_t *scan_id, struct ul_scan_stats *stats);

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
