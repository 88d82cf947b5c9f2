/* SPDX-License-Identifier: MIT */
/* upglog scan: read inputs into the database. */
#include <errno.h>
#include <string.h>

#include "scan_opts.h"
#include "upglog/cluster.h"
#include "upglog/report.h"

static const char usage[] =
        "usage: upglog scan [--db FILE] [--format jsonl [-o FILE]] [OPTIONS] PATH...\n"
        "\n"
        "Read every log in each PATH (a file, a folder, a .gz, .zip, .tar or .tar.gz bundle,\n"
        "or - for standard input), classify every line and store the findings, the noise\n"
        "tallies and each file's verdict in the database. Files unchanged since the last scan\n"
        "are not read again.\n"
        "\n"
        "  --db FILE       the database (default: upglog.db)\n"
        "  --format jsonl  also print what the scan found as JSON lines (one flat object\n"
        "                  per finding, file verdict, server and check) for log pipelines\n"
        "  -o, --output FILE  write those lines to FILE instead of standard output\n" CLI_SCAN_HELP
        "  --help          this text\n"
        "\n"
        "Files are grouped by server (the host their logs name, else --host, else the\n"
        "input's own name); the servers, their roles and the cluster checks go into the\n"
        "servers and checks tables.\n"
        "\n"
        "Exit status: 0 nothing failed, 1 a failed installation was found (or a cluster\n"
        "check of severity error fired), 2 usage or configuration error, 3 some inputs could\n"
        "not be read (the rest were scanned).\n";

static int run(int argc, char **argv, const struct cli_io *io)
{
	static const struct option opts[] = {
		CLI_SCAN_OPTIONS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_scan cs;
	int c, rc = UL_EXIT_USAGE;
	bool jsonl = false;
	const char *output = NULL;
	cli_scan_init(&cs);
	while ((c = cli_getopt(argc, argv, "j:qo:", opts, &cli_cmd_scan, io)) != -1) {
		if (c == 'j')
			c = OPT_JOBS;
		else if (c == 'q')
			c = OPT_QUIET;
		else if (c == 'o')
			c = OPT_OUTPUT;
		int r = 0;
		enum ul_format f;
		char list[64];
		if (c == '?')
			r = UL_EXIT_USAGE;
		else if (c == OPT_FORMAT &&
		         ul_format_parse(optarg, 1u << UL_FMT_JSONL, &f, list, sizeof(list)))
			jsonl = true;
		else if (c == OPT_FORMAT)
			r = cli_usage_error(io, &cli_cmd_scan, "--format is %s, not '%s'", list,
			                    optarg);
		else if (c == OPT_OUTPUT)
			output = optarg;
		else
			r = cli_scan_option(&cs, c, optarg, &cli_cmd_scan, io);
		if (r != 0) {
			cli_scan_finish(&cs);
			return r < 0 ? UL_EXIT_USAGE : r;
		}
	}
	if (output && !jsonl) {
		cli_scan_finish(&cs);
		return cli_usage_error(io, &cli_cmd_scan, "--output goes with --format jsonl");
	}
	if (optind >= argc) {
		cli_scan_finish(&cs);
		return cli_usage_error(io, &cli_cmd_scan,
		                       "nothing to scan: give at least one PATH");
	}
	if (!cli_scan_paths(&cs, argc, argv, optind)) {
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
	st = ul_store_open(cs.db ? cs.db : "upglog.db", UL_STORE_CREATE, &err);
	if (!st) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
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
		ro.db = cs.db ? cs.db : "upglog.db";
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
	enum ul_outcome v = ul_cluster_verdict(cl);
	rc = stats.problems || sum.unreadable ? UL_EXIT_UNREADABLE
	     : sum.outcome[UL_OUT_FAILED] || v == UL_OUT_FAILED || v == UL_OUTCOME_CANCELLED
	             ? UL_EXIT_FAILURE
	             : UL_EXIT_OK;
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
	.usage = usage,
	.run = run,
};
