/* SPDX-License-Identifier: MIT */
/*
 * Private to the binary: the option tables. Each command describes its options once, in a
 * `struct cli_opt` table; parsing, `--help`, the man pages' option lists and the bash, zsh
 * and fish completions are all derived from that table (see `upglog --generate`).
 */
#ifndef UPGLOG_CLI_OPTS_H
#define UPGLOG_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

struct cli_io;
struct cli_cmd;

/** What a shell should offer for an option's value or a command's arguments. */
enum cli_complete {
	CLI_COMP_NONE,     /**< nothing (a number, SQL, a name) */
	CLI_COMP_FILE,     /**< a path */
	CLI_COMP_DIR,      /**< a folder */
	CLI_COMP_VALUES,   /**< one of the option's `values` */
	CLI_COMP_RULE_IDS, /**< a rule id of the catalogue */
	CLI_COMP_CODES,    /**< an error code of the explain table, or a rule id */
};

/** One option. A table ends with an entry whose `name` is NULL. */
struct cli_opt {
	int id;           /**< handed to the command's handler (unique within the command) */
	char short_name;  /**< 'j' for -j, or 0 */
	const char *name; /**< long name without the dashes */
	const char *arg;  /**< metavariable of its value ("FILE", "N"); NULL for a flag */
	/** Accepted values, separated by '|' ("text|json"): checked before the handler runs,
	 *  shown in --help and completed. NULL when any value goes. */
	const char *values;
	enum cli_complete complete;
	/** What it does; wrapped in --help, copied into the man page. An option that may be
	 *  given more than once says "(repeatable)" here, and the completions allow it. NULL
	 *  hides the option from --help, the man page's list and the completions. */
	const char *help;
};

/** The options every command takes, after its own: --help. */
enum { CLI_OPT_HELP = 1000 };

/** "upglog triage", or "upglog" for the options before a command: who speaks in messages. */
const char *cli_who(const struct cli_cmd *cmd);

/**
 * Called for each option in command-line order with its value (NULL for a flag). Returns 0
 * to go on, else the exit status to stop with (after printing why).
 */
typedef int (*cli_opt_fn)(void *ctx, const struct cli_opt *opt, const char *value);

/**
 * Parse argv[1..argc) for `cmd` (argv[0] is the command name). Options may come before, between
 * or after the arguments (unless `cmd->stop_at_argument`: then the first argument ends them); `--` ends them; `-` alone and a negative number (`-2147287038`) are
 * arguments. Long options take `--name VALUE` or `--name=VALUE`, short ones `-j 4`, `-j4`, and
 * flags bundle (`-qf`). The arguments are moved, in order, to argv[1..1+*nargs).
 *
 * Returns 0, or the exit status to stop with: after a usage error (printed, with a "did you
 * mean" when an option is near a known one), or 0 with *nargs = -1 after --help was printed.
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, const struct cli_io *io,
              cli_opt_fn fn, void *ctx, int *nargs);

/** The options of `cmd`, its own and then the common ones, as one walk: i = 0, 1, ... NULL. */
const struct cli_opt *cli_opt_at(const struct cli_cmd *cmd, size_t i);

/** What --help and the man page show for an option's value: its values when short, else `arg`. */
const char *cli_opt_metavar(const struct cli_opt *o);

/** Print the aligned option list of --help (hidden options, without help text, left out). */
void cli_print_options(const struct cli_cmd *cmd, FILE *f);

/** Print `text` refilled to 79 columns; a blank line separates paragraphs. */
void cli_print_paragraphs(FILE *f, const char *text);

/** Print `cmd`'s full --help: usage, description and epilogue refilled to 79 columns (a blank
 *  line separates paragraphs), and the aligned option list. */
void cli_print_help(const struct cli_cmd *cmd, FILE *f);

/**
 * The closest of `names` (NULL-terminated) to `word` by edit distance (a transposition counts
 * as one edit) or as the only name it starts, when it is close enough to be a likely typo;
 * NULL otherwise.
 */
const char *cli_did_you_mean(const char *word, const char *const *names);

/** Edit distance (optimal string alignment) between a and b. */
size_t cli_edit_distance(const char *a, const char *b);

#endif
