/* SPDX-License-Identifier: MIT */
/* upglog scan: read inputs into the database. */
#include "scan_opts.h"
#include "upglog/cluster.h"

static const char usage[] =
        "usage: upglog scan [--db FILE] [OPTIONS] PATH...\n"
        "\n"
        "Read every log in each PATH (a file, a folder, a .gz, .zip, .tar or .tar.gz bundle,\n"
        "or - for standard input), classify every line and store the findings, the noise\n"
        "tallies and each file's verdict in the database. Files unchanged since the last scan\n"
        "are not read again.\n"
        "\n"
        "  --db FILE       the database (default: upglog.db)\n" CLI_SCAN_HELP
        "  --help          this text\n"
        "\n"
        "Files are grouped by server (the host their logs name, else --host, else the\n"
        "input's own name); the servers, their roles and the cluster checks go into the\n"
        "servers and checks tables.\n"
        "\n"
        "Exit status: 0 nothing failed, 1 a failed or cancelled installation was found (or\n"
        "a cluster check of severity error fired), 2 usage or configuration error, 3 some\n"
        "inputs could not be read (the rest were scanned).\n";

static int run(int argc, char **argv, const struct cli_io *io)
{
	static const struct option opts[] = { CLI_SCAN_OPTIONS, { NULL, 0, NULL, 0 } };
	struct cli_scan cs;
	int c, rc = UL_EXIT_USAGE;
	cli_scan_init(&cs);
	while ((c = cli_getopt(argc, argv, "j:q", opts, &cli_cmd_scan, io)) != -1) {
		if (c == 'j')
			c = OPT_JOBS;
		else if (c == 'q')
			c = OPT_QUIET;
		int r = c == '?' ? UL_EXIT_USAGE
		                 : cli_scan_option(&cs, c, optarg, &cli_cmd_scan, io);
		if (r != 0) {
			cli_scan_finish(&cs);
			return r < 0 ? UL_EXIT_USAGE : r;
		}
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
	struct ul_cluster *cl = cli_cluster(&cs, io, st, scan_id, true);
	if (!cl)
		goto out;
	enum ul_outcome v = ul_cluster_verdict(cl);
	ul_cluster_destroy(cl);
	/* A cancelled setup did not install: it exits like a failure (README, exit status). */
	bool stopped = sum.outcome[UL_OUT_FAILED] || sum.outcome[UL_OUTCOME_CANCELLED] ||
	               v == UL_OUT_FAILED || v == UL_OUTCOME_CANCELLED;
	rc = stats.problems || sum.unreadable ? UL_EXIT_UNREADABLE
	     : stopped                        ? UL_EXIT_FAILURE
	                                      : UL_EXIT_OK;
out:
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
