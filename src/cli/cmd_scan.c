/* SPDX-License-Identifier: MIT */
/* upglog scan: read inputs into the database. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "scan_opts.h"
#include "upglog/cluster.h"
#include "upglog/report.h"

/* Options of scan (with cli_scan_opts). To add one: a row and a case in option(). */
static const struct cli_opt opts[] = {
	{ OPT_DB, 'd', "db", "DB", NULL, CLI_COMP_FILE,
	  "the database: a SQLite file (default: upglog.db; created when missing, and the summary "
	  "says so) or a PostgreSQL connection string (postgresql://..., must exist)" },
	{ OPT_FORMAT, 'f', "format", "FORMAT", "jsonl", CLI_COMP_VALUES,
	  "also print what the scan found as JSON lines for a log pipeline: jsonl, one flat "
	  "object per finding, file verdict, server and check" },
	{ OPT_OUTPUT, 'o', "output", "FILE", NULL, CLI_COMP_FILE,
	  "write those JSON lines to FILE instead of standard output (with --format jsonl)" },
	{ OPT_QUIET, 'q', "quiet", NULL, NULL, CLI_COMP_NONE,
	  "no progress line and no summary on stderr" },
	{ 0 },
};

struct scan_args {
	struct cli_scan cs;
	bool jsonl;
	const char *output;
};

static int option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct scan_args *a = ctx;
	enum ul_format f;
	switch (o->id) {
	case OPT_FORMAT:
		/* Each value of the row needs its renderer here; others are refused. */
		if (!ul_format_parse(value, 1u << UL_FMT_JSONL, &f, NULL, 0))
			return cli_usage_error(a->cs.io, &cli_cmd_scan, "--format %s: not handled",
			                       value);
		a->jsonl = true;
		return 0;
	case OPT_OUTPUT:
		a->output = value;
		return 0;
	default: {
		int r = cli_scan_option(&a->cs, o->id, value, &cli_cmd_scan, a->cs.io);
		return r < 0 ? UL_EXIT_USAGE : r;
	}
	}
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	struct scan_args a = { .jsonl = false };
	int nargs, rc = UL_EXIT_USAGE;
	cli_scan_init(&a.cs);
	a.cs.io = io;
	int r = cli_parse(&cli_cmd_scan, argc, argv, io, option, &a, &nargs);
	struct cli_scan cs = a.cs;
	bool jsonl = a.jsonl;
	const char *output = a.output;
	if (r != 0 || nargs < 0) {
		cli_scan_finish(&cs);
		return r;
	}
	if (output && !jsonl) {
		cli_scan_finish(&cs);
		return cli_usage_error(io, &cli_cmd_scan, "--output goes with --format jsonl");
	}
	if (nargs == 0) {
		cli_scan_finish(&cs);
		return cli_usage_error(io, &cli_cmd_scan,
		                       "nothing to scan: give at least one PATH");
	}
	if (cli_stdin_twice(1 + nargs, argv, 1)) {
		cli_scan_finish(&cs);
		return cli_usage_error(
		        io, &cli_cmd_scan,
		        "standard input (-) is given twice; it can be read only once");
	}
	if (output && !cli_output_writable(io, output)) {
		cli_scan_finish(&cs);
		return UL_EXIT_USAGE;
	}
	if (!cli_scan_paths(&cs, 1 + nargs, argv, 1)) {
		cli_error(io, "out of memory");
		cli_scan_finish(&cs);
		return UL_EXIT_USAGE;
	}
	struct ul_catalog *cat = cli_load_catalog(io, &cs.rules);
	struct ul_error err;
	struct ul_store *st = NULL;
	struct ul_cluster *cl = NULL;
	FILE *out = NULL;
	if (!cat)
		goto out;
	const char *db = cs.db ? cs.db : "upglog.db";
	bool existed = ul_store_names_server(db) || access(db, F_OK) == 0;
	st = ul_store_open(db, UL_STORE_CREATE, &err);
	if (!st) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
	/* Never leave a database behind silently. */
	if (!existed && !cs.quiet)
		fprintf(io->err, "upglog: created the database %s\n", ul_store_name(st));
	int64_t scan_id;
	struct ul_scan_stats stats;
	if (!cli_scan_run(&cs, io, st, cat, &scan_id, &stats))
		goto out;
	if (!cs.quiet)
		cli_scan_summary(io, &stats);
	/* The status speaks for the inputs, including files kept from an earlier scan. */
	struct ul_store_summary sum;
	if (!ul_store_summary(st, scan_id, &sum, &err)) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
	cl = cli_cluster(&cs, io, st, scan_id, true);
	if (!cl)
		goto out;
	if (jsonl) {
		struct ul_report_opts ro = { .out = io->out,
			                     .format = UL_FMT_JSONL,
			                     .cluster = cl };
		if (output && !(out = fopen(output, "w"))) {
			cli_error(io, "%s: cannot write: %s", output, strerror(errno));
			goto out;
		}
		if (out)
			ro.out = out;
		ro.db = ul_store_name(st);
		struct ul_triage_summary ts;
		if (!ul_report_triage(st, scan_id, &ro, &ts, &err)) {
			cli_error(io, "%s", err.msg);
			goto out;
		}
		FILE *o = out;
		out = NULL;
		if (o && fclose(o) != 0) {
			cli_error(io, "%s: cannot write: %s", output, strerror(errno));
			goto out;
		}
	}
	rc = cli_scan_exit(&sum, cl, stats.problems);
out:
	if (out)
		fclose(out);
	ul_cluster_destroy(cl);
	ul_store_close(st);
	ul_catalog_destroy(cat);
	cli_scan_finish(&cs);
	return rc;
}

const struct cli_cmd cli_cmd_scan = {
	.name = "scan",
	.summary = "read logs and bundles into the findings database",
	.synopsis = "[OPTIONS] PATH...",
	.about = "Read every log in each PATH (a file, a folder, a .gz, .zip, .tar or .tar.gz "
	         "bundle, or - for standard input), classify every line and store the findings, "
	         "the noise tallies and each file's verdict in the database. Files unchanged "
	         "since the last scan are not read again.\n"
	         "\n"
	         "Files are grouped by server (the host their logs name, else --host, else the "
	         "input's own name); the servers, their roles and the cluster checks go into the "
	         "servers and checks tables.\n",
	.opts = opts,
	.more_opts = cli_scan_opts,
	.args = CLI_COMP_FILE,
	.epilog = "Exit status: 0 nothing failed, 1 a failed or cancelled installation was "
	          "found (or a cluster check of severity error fired), 2 usage or configuration "
	          "error, 3 "
	          "some inputs could not be read (the rest were scanned).\n",
	.run = run,
};
