/* SPDX-License-Identifier: MIT */
/* Private to the upglog binary: the command table and helpers shared by the subcommands. */
#ifndef UPGLOG_CLI_H
#define UPGLOG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "opts.h"
#include "upglog/catalog.h"

/** Exit statuses: the contract scripts rely on. */
enum {
	UL_EXIT_OK = 0,         /**< nothing failed */
	UL_EXIT_FAILURE = 1,    /**< a failure was found (or a rule check failed) */
	UL_EXIT_USAGE = 2,      /**< usage or configuration error */
	UL_EXIT_UNREADABLE = 3, /**< some inputs could not be read; the rest were scanned */
};

/** Where a command writes. Tests swap these for memory streams. */
struct cli_io {
	FILE *out;
	FILE *err;
	bool color;    /**< --color=always, or auto: stdout is a terminal and NO_COLOR is unset */
	bool progress; /**< stderr is a terminal */
};

/**
 * A command. Its --help, man page option list and completions are made from these fields and
 * its option tables (see opts.h), so they cannot drift apart.
 */
struct cli_cmd {
	const char *name;
	const char *summary;        /**< one line, for `upglog --help` and the man page's NAME */
	const char *synopsis;       /**< what follows "upglog NAME " in the usage line */
	const char *about;          /**< the description paragraphs of --help */
	const struct cli_opt *opts; /**< its own options */
	const struct cli_opt *more_opts; /**< a table shared with other commands, or NULL */
	enum cli_complete args;          /**< what its arguments are, for completion */
	const char *epilog;              /**< after the options: exit status, examples */
	int (*run)(int argc, char **argv, const struct cli_io *io);
	bool stop_at_argument; /**< options only before the first argument (`upglog` itself) */
	void (*print_help)(FILE *f); /**< instead of the help made from the fields, or NULL */
};

/** `upglog` itself: the options before the command (-V, --color, --help). */
extern const struct cli_cmd cli_cmd_upglog;

/** Every command, in the order `upglog --help` lists them; NULL-terminated. */
extern const struct cli_cmd *const cli_commands[];

extern const struct cli_cmd cli_cmd_scan, cli_cmd_triage, cli_cmd_query, cli_cmd_merge,
        cli_cmd_rules, cli_cmd_explain;

/** Print "upglog: <msg>" on stderr. */
void cli_error(const struct cli_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Usage error: message plus a hint, returns UL_EXIT_USAGE. */
int cli_usage_error(const struct cli_io *io, const struct cli_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/** Rule folders given with --rules, in order. */
struct cli_rules {
	const char *dirs[32];
	size_t n;
};

/** Add a --rules folder; false when there are too many. */
bool cli_rules_add(struct cli_rules *r, const char *dir);

/**
 * Load the shipped catalogue plus the --rules folders and compile it. NULL after printing the
 * error (file, line, reason).
 */
struct ul_catalog *cli_load_catalog(const struct cli_io *io, const struct cli_rules *r);

/** The shipped catalogue folder, or NULL when none is found. */
const char *cli_patterns_dir(void);

/** Whether to colour standard output for --color=WHEN (auto looks at it and NO_COLOR). */
bool cli_color_when(const char *when);

/** upglog --generate WHAT [COMMAND]: completions, man page option lists, completion values. */
int cli_generate(const struct cli_io *io, int argc, char **argv);

/** Parse a positive integer option value; false on garbage. */
bool cli_parse_u64(const char *s, unsigned long long *out);

#endif
