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
	&cli_cmd_triage, &cli_cmd_scan, &cli_cmd_query, &cli_cmd_rules, &cli_cmd_explain, NULL,
};

static void main_usage(FILE *f)
{
	fprintf(f,
	        "usage: upglog [-V | --version] [--color WHEN] COMMAND [OPTIONS] [ARGS]\n\n"
	        "Find why a Windows Installer (MSI) based upgrade failed: classify every line of\n"
	        "its logs, name the root cause, keep every finding in SQLite.\n\n"
	        "commands:\n");
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-8s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(f,
	        "  %-8s %s\n"
	        "\noptions:\n"
	        "  -V, --version     print the version, the catalogue's hash and the features\n"
	        "                    built in\n"
	        "      --color WHEN  auto (default), always or never: colour output (NO_COLOR\n"
	        "                    in the environment turns auto off)\n"
	        "  -h, --help        print this help and exit\n"
	        "\nRun 'upglog help COMMAND' or 'upglog COMMAND --help' for a command's options;\n"
	        "'man upglog' for everything else.\n"
	        "Exit status: 0 nothing failed, 1 a failure was found, 2 usage or configuration\n"
	        "error, 3 some inputs could not be read (the rest were scanned).\n",
	        "help", "print a command's help (upglog help triage)");
}

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
	fprintf(io->err, "upglog %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(io->err, fmt, ap);
	va_end(ap);
	fprintf(io->err, "\nRun 'upglog %s --help' for usage.\n", cmd->name);
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

int main(int argc, char **argv)
{
	struct cli_io io = {
		.out = stdout,
		.err = stderr,
		.color = cli_color_when("auto"),
		.progress = isatty(STDERR_FILENO),
	};
	/* Options before the command: -V, --help, --color, --generate. */
	int k = 1;
	for (; k < argc && argv[k][0] == '-'; k++) {
		const char *a = argv[k];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			main_usage(stdout);
			return finish(UL_EXIT_OK);
		}
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)
			return finish(version(&io));
		if (strncmp(a, "--color", 7) == 0 && (a[7] == '=' || a[7] == '\0')) {
			const char *when = a[7] == '=' ? a + 8 : k + 1 < argc ? argv[++k] : "";
			if (strcmp(when, "auto") != 0 && strcmp(when, "always") != 0 &&
			    strcmp(when, "never") != 0) {
				fprintf(stderr,
				        "upglog: --color takes auto, always or never, not '%s'\n",
				        when);
				return UL_EXIT_USAGE;
			}
			io.color = cli_color_when(when);
			continue;
		}
		if (strcmp(a, "--generate") == 0)
			return finish(cli_generate(&io, argc - k - 1, argv + k + 1));
		const char *names[] = { "help", "version", "color", "generate", NULL };
		const char *near = a[1] == '-' ? cli_did_you_mean(a + 2, names) : NULL;
		fprintf(stderr, "upglog: unknown option '%s'", a);
		if (near)
			fprintf(stderr, " (did you mean '--%s'?)", near);
		fputs("\nRun 'upglog --help' for usage.\n", stderr);
		return UL_EXIT_USAGE;
	}
	if (k >= argc) {
		main_usage(stderr);
		return UL_EXIT_USAGE;
	}
	const char *name = argv[k];
	if (strcmp(name, "help") == 0) {
		if (k + 1 >= argc) {
			main_usage(stdout);
			return finish(UL_EXIT_OK);
		}
		const struct cli_cmd *cmd = find_command(argv[k + 1]);
		if (!cmd)
			return unknown_command(argv[k + 1]);
		cli_print_help(cmd, stdout);
		return finish(UL_EXIT_OK);
	}
	const struct cli_cmd *cmd = find_command(name);
	if (!cmd)
		return unknown_command(name);
	return finish(cmd->run(argc - k, argv + k, &io));
}
