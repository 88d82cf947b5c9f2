/* SPDX-License-Identifier: MIT */
/* cli options: the table-driven parser, --help from the table, "did you mean". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* The parser reports usage errors through this (main.c in the binary). */
int cli_usage_error(const struct cli_io *io, const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(io->err, "upglog %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(io->err, fmt, ap);
	va_end(ap);
	fputc('\n', io->err);
	return UL_EXIT_USAGE;
}

enum { O_DB = 1, O_FORMAT, O_QUIET, O_JOBS, O_KEEP };

static const struct cli_opt own[] = {
	{ O_DB, 'd', "db", "FILE", NULL, CLI_COMP_FILE, "the database" },
	{ O_FORMAT, 'f', "format", "FORMAT", "text|json", CLI_COMP_VALUES, "text or json" },
	{ O_QUIET, 'q', "quiet", NULL, NULL, CLI_COMP_NONE, "say nothing" },
	{ 0 },
};
static const struct cli_opt shared[] = {
	{ O_JOBS, 'j', "jobs", "N", NULL, CLI_COMP_NONE, "threads" },
	{ O_KEEP, 0, "keep-noise", NULL, NULL, CLI_COMP_NONE,
	  "a help text long enough to be wrapped onto a second line of the help output, "
	  "lined up under the first" },
	{ 0 },
};
static const struct cli_cmd cmd = {
	.name = "demo",
	.summary = "a command for the tests",
	.synopsis = "[OPTIONS] ARG...",
	.about = "About it.\n",
	.opts = own,
	.more_opts = shared,
	.epilog = "The end.\n",
};

/* What the handler saw, in order: "db=x,quiet,jobs=2". */
struct seen {
	char log[512];
	int fail_on; /* option id whose handler fails with 5 */
};

static int record(void *ctx, const struct cli_opt *o, const char *value)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%s%s%s%s", n ? "," : "", o->name,
	         value ? "=" : "", value ? value : "");
	return o->id == s->fail_on ? 5 : 0;
}

struct result {
	int rc, nargs;
	char args[256];
	struct seen seen;
	char *out, *err;
};

static struct result parse(const char *line, int fail_on)
{
	struct result r = { .seen.fail_on = fail_on };
	char buf[512], *argv[32];
	int argc = 0;
	size_t outlen = 0, errlen = 0;
	snprintf(buf, sizeof(buf), "demo %s", line);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 31;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = strcmp(t, "''") == 0 ? (char *)"" : t;
	argv[argc] = NULL;
	FILE *out = open_memstream(&r.out, &outlen), *err = open_memstream(&r.err, &errlen);
	assert_non_null(out);
	assert_non_null(err);
	struct cli_io io = { .out = out, .err = err };
	r.rc = cli_parse(&cmd, argc, argv, &io, record, &r.seen, &r.nargs);
	fclose(out);
	fclose(err);
	for (int i = 0; i < r.nargs; i++) {
		size_t n = strlen(r.args);
		snprintf(r.args + n, sizeof(r.args) - n, "%s%s", i ? "," : "", argv[1 + i]);
	}
	return r;
}

static void done(struct result *r)
{
	free(r->out);
	free(r->err);
}

static void options_anywhere(void **state)
{
	(void)state;
	struct result r = parse("a --db x b -q c --jobs 2", -1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nargs, 3);
	assert_string_equal(r.args, "a,b,c");
	assert_string_equal(r.seen.log, "db=x,quiet,jobs=2");
	assert_string_equal(r.err, "");
	done(&r);
}

static void spellings_of_values(void **state)
{
	(void)state;
	struct result r = parse("--db=x -dy -d z --format=json -fjson -f text -j4", -1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nargs, 0);
	assert_string_equal(r.seen.log,
	                    "db=x,db=y,db=z,format=json,format=json,format=text,jobs=4");
	done(&r);
	/* Flags bundle; the first one that takes a value takes the rest of the word. */
	r = parse("-qj8 -qfjson", -1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.log, "quiet,jobs=8,quiet,format=json");
	done(&r);
	/* An empty value is a value. */
	r = parse("--db ''", -1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.log, "db=");
	done(&r);
}

static void arguments_that_look_like_options(void **state)
{
	(void)state;
	struct result r = parse("- -2147287038 -0x1 -- --db -q", -1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.args, "-,-2147287038,-0x1,--db,-q");
	assert_string_equal(r.seen.log, "");
	done(&r);
	/* A value is taken as it is, even when it looks like an option. */
	r = parse("--db --quiet x", -1);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.seen.log, "db=--quiet");
	assert_string_equal(r.args, "x");
	done(&r);
}

static void usage_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *says;
	} cases[] = {
		{ "--dbb x", "unknown option '--dbb' (did you mean '--db'?)" },
		{ "--frmat=json", "unknown option '--frmat' (did you mean '--format'?)" },
		{ "--kep-noise", "did you mean '--keep-noise'?" },
		{ "--form json", "did you mean '--format'?" }, /* no abbreviations */
		{ "--zzzzzz", "unknown option '--zzzzzz'\n" },
		{ "-x", "unknown option '-x'" },
		{ "-qx", "unknown option '-x'" },
		{ "--db", "option '--db' needs a value (FILE)" },
		{ "x -j", "option '-j' needs a value (N)" },
		{ "--quiet=1", "option '--quiet' takes no value" },
		{ "--format xml", "--format takes text or json, not 'xml'" },
		{ "-f jsn", "not 'jsn' (did you mean 'json'?)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = parse(cases[i].line, -1);
		if (r.rc != UL_EXIT_USAGE || !strstr(r.err, cases[i].says))
			fail_msg("'%s': rc %d, said: %s", cases[i].line, r.rc, r.err);
		assert_string_equal(r.out, "");
		done(&r);
	}
}

static void handler_failure_stops(void **state)
{
	(void)state;
	struct result r = parse("-q --db x --jobs 3", O_DB);
	assert_int_equal(r.rc, 5);
	assert_string_equal(r.seen.log, "quiet,db=x");
	done(&r);
}

static void help_from_the_table(void **state)
{
	(void)state;
	struct result r = parse("a --help --db x", -1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nargs, -1);
	assert_string_equal(r.seen.log, "");
	assert_string_equal(r.out,
	                    "usage: upglog demo [OPTIONS] ARG...\n"
	                    "\n"
	                    "About it.\n"
	                    "\n"
	                    "options:\n"
	                    "  -d, --db FILE           the database\n"
	                    "  -f, --format text|json  text or json\n"
	                    "  -q, --quiet             say nothing\n"
	                    "  -j, --jobs N            threads\n"
	                    "      --keep-noise        a help text long enough to be wrapped onto "
	                    "a second\n"
	                    "                          line of the help output, lined up under the "
	                    "first\n"
	                    "  -h, --help              print this help and exit\n"
	                    "\n"
	                    "The end.\n");
	done(&r);
	r = parse("-h", -1);
	assert_int_equal(r.nargs, -1);
	assert_true(strncmp(r.out, "usage: upglog demo", 18) == 0);
	done(&r);
}

static void every_option_once(void **state)
{
	(void)state;
	const char *names[] = { "db", "format", "quiet", "jobs", "keep-noise", "help" };
	size_t i = 0;
	for (const struct cli_opt *o; (o = cli_opt_at(&cmd, i)); i++) {
		assert_true(i < 6);
		assert_string_equal(o->name, names[i]);
	}
	assert_int_equal(i, 6);
}

static void distance_and_suggestions(void **state)
{
	(void)state;
	assert_int_equal(cli_edit_distance("triage", "triage"), 0);
	assert_int_equal(cli_edit_distance("tirage", "triage"), 1); /* transposition */
	assert_int_equal(cli_edit_distance("scan", "scans"), 1);
	assert_int_equal(cli_edit_distance("", "abc"), 3);
	assert_int_equal(cli_edit_distance("query", "rules"), 4);
	const char *cmds[] = { "triage", "scan", "query", "rules", "explain", "help", NULL };
	assert_string_equal(cli_did_you_mean("tirage", cmds), "triage");
	assert_string_equal(cli_did_you_mean("scna", cmds), "scan");
	assert_string_equal(cli_did_you_mean("explian", cmds), "explain");
	assert_string_equal(cli_did_you_mean("rule", cmds), "rules");
	assert_string_equal(cli_did_you_mean("exp", cmds), "explain"); /* the one it starts */
	assert_null(cli_did_you_mean("triage", cmds));                 /* itself: no hint */
	assert_null(cli_did_you_mean("list", cmds));
	assert_null(cli_did_you_mean("x", cmds));
	assert_null(cli_did_you_mean("completely-different", cmds));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_anywhere),
		cmocka_unit_test(spellings_of_values),
		cmocka_unit_test(arguments_that_look_like_options),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(handler_failure_stops),
		cmocka_unit_test(help_from_the_table),
		cmocka_unit_test(every_option_once),
		cmocka_unit_test(distance_and_suggestions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
