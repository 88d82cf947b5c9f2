/* SPDX-License-Identifier: MIT */
/* upglog: the command table. Each subcommand lives in its own cmd_*.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>
#include <zlib.h>

#include "cli.h"
#include "config.h"

const struct cli_cmd *const cli_commands[] = {
	&cli_cmd_triage, &cli_cmd_scan,    &cli_cmd_query, &cli_cmd_merge,
	&cli_cmd_rules,  &cli_cmd_explain, NULL,
};

/*
 * The options before the command. To add one: a row here and a case in main_option(); --help,
 * the man page and the completions follow from the row.
 */
enum { M_VERSION = 1, M_COLOR, M_GENERATE };
static const struct cli_opt main_opts[] = {
	{ M_VERSION, 'V', "version", NULL, NULL, CLI_COMP_NONE,
	  "print the version, the catalogue in use (its hash, number of rules and folder) and "
	  "the features built in: +hyperscan or -hyperscan (the multi-pattern prefilter), "
	  "+libarchive or -libarchive (.zip and .tar bundles), and the versions of PCRE2, SQLite "
	  "and zlib" },
	{ M_COLOR, 0, "color", "WHEN", "auto|always|never", CLI_COMP_VALUES,
	  "colour the output: auto (default: when standard output is a terminal, NO_COLOR is "
	  "unset or empty and TERM is not dumb), always or never" },
	/* For the build and packagers; documented in upglog(1), hidden from --help. */
	{ M_GENERATE, 0, "generate", "WHAT", NULL, CLI_COMP_NONE, NULL },
	{ 0 },
};

static void main_usage(FILE *f)
{
	const struct cli_cmd *m = &cli_cmd_upglog;
	fprintf(f, "usage: upglog %s\n\n", m->synopsis);
	cli_print_paragraphs(f, m->about);
	fputs("\ncommands:\n", f);
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-8s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(f, "  %-8s %s\n", "help", "print a command's help (upglog help triage)");
	fputs("\noptions:\n", f);
	cli_print_options(m, f);
	fputc('\n', f);
	cli_print_paragraphs(f, m->epilog);
}

const struct cli_cmd cli_cmd_upglog = {
	.name = "",
	.summary = "find why a Windows Installer (MSI) based upgrade failed",
	.synopsis = "[-V | --version] [--color WHEN] COMMAND [OPTIONS] [ARGS]",
	.about = "Find why a Windows Installer (MSI) based upgrade failed: classify every line "
	         "of its logs, name the root cause, keep every finding in SQLite.\n",
	.opts = main_opts,
	.args = CLI_COMP_NONE,
	.epilog = "Run 'upglog help COMMAND' or 'upglog COMMAND --help' for a command's "
	          "options; 'man upglog' for everything else.\n\nExit status: 0 nothing "
	          "failed, 1 a failure was found, 2 usage or configuration error, 3 some inputs "
	          "could not be read (the rest were scanned).\n",
	.stop_at_argument = true,
	.print_help = main_usage,
};

void cli_error(const struct cli_io *io, const char *fmt, ...)
{
	va_list ap;
	fputs("upglog: ", io->err);
	va_start(ap, fmt);
	vfprintf(io->err, fmt, ap);
	va_end(ap);
	fputc('\n', io->err);
}

int cli_usage_error(const struct cli_io *io, const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(io->err, "%s: ", cli_who(cmd));
	va_start(ap, fmt);
	vfprintf(io->err, fmt, ap);
	va_end(ap);
	fprintf(io->err, "\nRun '%s --help' for usage.\n", cli_who(cmd));
	return UL_EXIT_USAGE;
}

bool cli_rules_add(struct cli_rules *r, const char *dir)
{
	if (r->n == sizeof(r->dirs) / sizeof(r->dirs[0]))
		return false;
	r->dirs[r->n++] = dir;
	return true;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder the running binary is in, or false. */
static bool exe_dir(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

/*
 * The shipped catalogue, first found of: $UPGLOG_PATTERNS; the checkout's patterns/ when the
 * binary runs from its meson build folder (someone editing rules wants those, not an older
 * installed copy); the catalogue installed beside the binary (<bindir>/../share/upglog/patterns,
 * which also holds for a DESTDIR or relocated install); the configured install path. --rules
 * folders come on top of it (cli_load_catalog).
 */
const char *cli_patterns_dir(void)
{
	static char found[PATH_MAX + 64];
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	const char *env = getenv("UPGLOG_PATTERNS");
	if (env && *env)
		return env;
	if (exe_dir(exe, sizeof(exe))) {
		snprintf(probe, sizeof(probe), "%s/meson-private", exe);
		if (is_dir(probe) && is_dir(UL_SOURCE_PATTERNS))
			return UL_SOURCE_PATTERNS;
		snprintf(found, sizeof(found), "%s/%s", exe, UL_PATTERNS_FROM_BINDIR);
		if (is_dir(found))
			return found;
	}
	if (is_dir(UL_INSTALLED_PATTERNS))
		return UL_INSTALLED_PATTERNS;
	return NULL;
}

bool cli_color_when(const char *when)
{
	if (strcmp(when, "always") == 0)
		return true;
	if (strcmp(when, "never") == 0)
		return false;
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	return isatty(STDOUT_FILENO) && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
}

struct ul_catalog *cli_load_catalog(const struct cli_io *io, const struct cli_rules *r)
{
	struct ul_error err;
	struct ul_catalog *cat = ul_catalog_new();
	const char *shipped = cli_patterns_dir();

	ul_error_clear(&err);
	if (!cat) {
		cli_error(io, "out of memory");
		return NULL;
	}
	if (!shipped) {
		cli_error(io,
		          "cannot find the shipped pattern catalogue (set UPGLOG_PATTERNS to its "
		          "folder)");
		goto fail;
	}
	if (!ul_catalog_add_dir(cat, shipped, &err))
		goto fail_err;
	for (size_t i = 0; r && i < r->n; i++)
		if (!ul_catalog_add_dir(cat, r->dirs[i], &err))
			goto fail_err;
	if (!ul_catalog_compile(cat, &err))
		goto fail_err;
	return cat;
fail_err:
	cli_error(io, "%s", err.msg);
fail:
	ul_catalog_destroy(cat);
	return NULL;
}

bool cli_parse_u64(const char *s, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	/* Sizes may carry a unit. */
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

static void features(FILE *f)
{
	fprintf(f, "features: %chyperscan %clibarchive +pcre2-%d.%d +sqlite-%s +zlib-%s\n",
	        UL_HAVE_HYPERSCAN ? '+' : '-', UL_HAVE_LIBARCHIVE ? '+' : '-', PCRE2_MAJOR,
	        PCRE2_MINOR, sqlite3_libversion(), zlibVersion());
}

static int version(const struct cli_io *io)
{
	printf("upglog %s\n", UL_VERSION);
	const char *dir = cli_patterns_dir();
	struct ul_error err;
	struct ul_catalog *cat = ul_catalog_new();
	ul_error_clear(&err);
	if (!dir)
		printf("catalogue: not found (set UPGLOG_PATTERNS to its folder)\n");
	else if (cat && ul_catalog_add_dir(cat, dir, &err) && ul_catalog_compile(cat, &err))
		printf("catalogue: %s (%zu rules in %s)\n", ul_catalog_hash(cat),
		       ul_catalog_count(cat), dir);
	else
		printf("catalogue: cannot load %s: %s\n", dir, err.msg);
	ul_catalog_destroy(cat);
	features(stdout);
	(void)io;
	return UL_EXIT_OK;
}

static const struct cli_cmd *find_command(const char *name)
{
	for (size_t i = 0; cli_commands[i]; i++)
		if (strcmp(name, cli_commands[i]->name) == 0)
			return cli_commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[16];
	size_t n = 0;
	for (; cli_commands[n] && n < 14; n++)
		names[n] = cli_commands[n]->name;
	names[n++] = "help";
	names[n] = NULL;
	const char *near = cli_did_you_mean(name, names);
	fprintf(stderr, "upglog: unknown command '%s'", name);
	if (near)
		fprintf(stderr, " (did you mean '%s'?)", near);
	fputs("\nRun 'upglog --help' for the list of commands.\n", stderr);
	return UL_EXIT_USAGE;
}

static int finish(int rc)
{
	/* Results that never reached the disk are not results. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "upglog: cannot write results: %s\n", strerror(errno));
		return UL_EXIT_USAGE;
	}
	return rc;
}

struct main_args {
	struct cli_io *io;
	bool version;
	const char *generate;
};

static int main_option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct main_args *a = ctx;
	switch (o->id) {
	case M_VERSION:
		a->version = true;
		return 0;
	case M_COLOR:
		a->io->color = cli_color_when(value);
		return 0;
	case M_GENERATE:
		a->generate = value;
		return 0;
	default:
		return UL_EXIT_USAGE;
	}
}

int main(int argc, char **argv)
{
	struct cli_io io = {
		.out = stdout,
		.err = stderr,
		.color = cli_color_when("auto"),
		.progress = isatty(STDERR_FILENO),
	};
	/* The options before the command, then the command and its own arguments. */
	struct main_args a = { .io = &io };
	int nargs;
	char **args = argv;
	int r = cli_parse(&cli_cmd_upglog, argc, argv, &io, main_option, &a, &nargs);
	if (r != 0)
		return r;
	if (nargs < 0) {
		/* --help: printed by the parser from the table alone; the full text here. */
		return finish(UL_EXIT_OK);
	}
	if (a.version)
		return finish(version(&io));
	if (a.generate) {
		/* cli_generate takes WHAT and its operands as arguments. */
		args[0] = (char *)a.generate;
		return finish(cli_generate(&io, 1 + nargs, args));
	}
	if (nargs == 0) {
		main_usage(stderr);
		return UL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "help") == 0) {
		if (nargs < 2) {
			main_usage(stdout);
			return finish(UL_EXIT_OK);
		}
		const struct cli_cmd *cmd = find_command(argv[2]);
		if (!cmd)
			return unknown_command(argv[2]);
		cli_print_help(cmd, stdout);
		return finish(UL_EXIT_OK);
	}
	const struct cli_cmd *cmd = find_command(name);
	if (!cmd)
		return unknown_command(name);
	return finish(cmd->run(nargs, argv + 1, &io));
}
