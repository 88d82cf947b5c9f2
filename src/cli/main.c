/* SPDX-License-Identifier: MIT */
/* upglog: the command table. Each subcommand lives in its own cmd_*.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

static const struct cli_cmd *const commands[] = {
	&cli_cmd_triage, &cli_cmd_scan, &cli_cmd_query, &cli_cmd_rules, &cli_cmd_explain,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void main_usage(FILE *f)
{
	fprintf(f,
	        "usage: upglog COMMAND [OPTIONS] [ARGS]\n\n"
	        "Find why a Windows Installer (MSI) based upgrade failed: classify every line of\n"
	        "its logs, name the root cause, keep every finding in SQLite.\n\n"
	        "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f,
	        "\nRun 'upglog COMMAND --help' for a command's options.\n"
	        "Exit status: 0 nothing failed, 1 a failure was found, 2 usage or configuration\n"
	        "error, 3 some inputs could not be read (the rest were scanned).\n");
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

const char *cli_patterns_dir(void)
{
	static char found[PATH_MAX];
	const char *env = getenv("UPGLOG_PATTERNS");
	if (env && *env)
		return env;
	/* Next to the binary: <bin>/patterns, <bin>/../share/upglog/patterns. */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			const char *rel[] = { "/patterns", "/../share/upglog/patterns" };
			for (size_t i = 0; i < 2; i++) {
				snprintf(found, sizeof(found), "%s%s", exe, rel[i]);
				if (is_dir(found))
					return found;
			}
		}
	}
	if (is_dir(UL_INSTALLED_PATTERNS))
		return UL_INSTALLED_PATTERNS;
	if (is_dir(UL_SOURCE_PATTERNS))
		return UL_SOURCE_PATTERNS;
	return NULL;
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

int cli_getopt(int argc, char **argv, const char *shorts, const struct option *opts,
               const struct cli_cmd *cmd, const struct cli_io *io)
{
	/* Options may follow the PATHs (GNU order); a command that must stop at its first
	 * argument (explain: "-2147287038" is a code) starts `shorts` with '+'. */
	char spec[64];
	bool in_order = shorts && shorts[0] == '+';
	snprintf(spec, sizeof(spec), "%s:%s", in_order ? "+" : "", shorts ? shorts + in_order : "");
	int c = getopt_long(argc, argv, spec, opts, NULL);
	if (c == '?' || c == ':') {
		const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		if (c == ':')
			cli_usage_error(io, cmd, "option '%s' needs a value", arg);
		else
			cli_usage_error(io, cmd, "unknown option '%s'", arg);
		return '?';
	}
	return c;
}

int main(int argc, char **argv)
{
	struct cli_io io = {
		.out = stdout,
		.err = stderr,
		.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
		.progress = isatty(STDERR_FILENO),
	};
	if (argc < 2) {
		main_usage(stderr);
		return UL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		main_usage(stdout);
		return UL_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("upglog %s\n", UL_VERSION);
		return UL_EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, commands[i]->name) != 0)
			continue;
		for (int k = 2; k < argc; k++) {
			if (strcmp(argv[k], "--") == 0)
				break;
			if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
				fputs(commands[i]->usage, stdout);
				return fclose(stdout) == 0 ? UL_EXIT_OK : UL_EXIT_USAGE;
			}
		}
		opterr = 0;
		optind = 1;
		int rc = commands[i]->run(argc - 1, argv + 1, &io);
		/* Results that never reached the disk are not results. */
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "upglog: cannot write results: %s\n", strerror(errno));
			return UL_EXIT_USAGE;
		}
		return rc;
	}
	fprintf(stderr, "upglog: unknown command '%s'\n\n", name);
	main_usage(stderr);
	return UL_EXIT_USAGE;
}
