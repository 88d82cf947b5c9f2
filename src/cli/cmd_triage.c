/* SPDX-License-Identifier: MIT */
/* upglog triage: the verdict and root cause of one failed upgrade. */
#include <errno.h>
#include <string.h>

#include "scan_opts.h"
#include "upglog/cluster.h"
#include "upglog/report.h"

static const char usage[] =
        "usage: upglog triage [--db FILE] [--format FORMAT] [-o FILE] [OPTIONS] [PATH...]\n"
        "\n"
        "Say whether an upgrade failed, server by server: each server's verdict, the line\n"
        "that explains it (with the lines around it and what to do), the cluster's upgrade\n"
        "order and the upgrade guide's checks; then the other failures and the harmless\n"
        "noise. Inputs given together form one cluster.\n"
        "With PATHs, scans them first (into --db, or into a private in-memory database when\n"
        "--db is not given); without PATHs, reports the latest scan in --db.\n"
        "\n"
        "  --db FILE        the database (default: in memory with PATHs, upglog.db without)\n"
        "  --format FORMAT  text (default); json (one document, for scripts); html (one\n"
        "                   self-contained page for a ticket: timelines, no script);\n"
        "                   markdown (pastes into a ticket or chat); jsonl (one flat\n"
        "                   object per finding, verdict, server and check, for log\n"
        "                   pipelines)\n"
        "  -o, --output FILE  write the report to FILE instead of standard output\n" CLI_SCAN_HELP
        "  --help           this text\n"
        "\n"
        "Exit status: 0 nothing failed, 1 a failure was found (a server failed or was\n"
        "cancelled, or a cluster check of severity error fired; a fatal line in a log without\n"
        "a final status makes it failed), 2 usage or configuration error, 3 some inputs could\n"
        "not be read (3 wins over 1: the report still carries the verdict of what could be\n"
        "read).\n";

#define TRIAGE_FORMATS                                                                       \
	(1u << UL_FMT_TEXT | 1u << UL_FMT_JSON | 1u << UL_FMT_HTML | 1u << UL_FMT_MARKDOWN | \
	 1u << UL_FMT_JSONL)

static int run(int argc, char **argv, const struct cli_io *io)
{
	static const struct option opts[] = {
		CLI_SCAN_OPTIONS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_scan cs;
	struct ul_report_opts ro = { .out = io->out, .format = UL_FMT_TEXT, .color = io->color };
	const char *output = NULL;
	int c, rc = UL_EXIT_USAGE;
	cli_scan_init(&cs);
	cs.quiet = true;
	while ((c = cli_getopt(argc, argv, "j:o:", opts, &cli_cmd_triage, io)) != -1) {
		int r = 0;
		if (c == 'j')
			c = OPT_JOBS;
		if (c == '?') {
			r = UL_EXIT_USAGE;
		} else if (c == OPT_FORMAT) {
			char list[128];
			if (!ul_format_parse(optarg, TRIAGE_FORMATS, &ro.format, list,
			                     sizeof(list)))
				r = cli_usage_error(io, &cli_cmd_triage, "--format is %s, not '%s'",
				                    list, optarg);
		} else if (c == OPT_OUTPUT || c == 'o') {
			output = optarg;
		} else if (c == OPT_QUIET) {
			cs.quiet = true;
		} else {
			r = cli_scan_option(&cs, c, optarg, &cli_cmd_triage, io);
		}
		if (r != 0) {
			cli_scan_finish(&cs);
			return r < 0 ? UL_EXIT_USAGE : r;
		}
	}
	bool scanning = optind < argc;
	if (!cli_scan_paths(&cs, argc, argv, optind)) {
		cli_error(io, "out of memory");
		cli_scan_finish(&cs);
		return UL_EXIT_USAGE;
	}
	struct ul_catalog *cat = NULL;
	struct ul_store *st = NULL;
	struct ul_cluster *cl = NULL;
	struct ul_error err;
	FILE *out = NULL;
	if (scanning && !(cat = cli_load_catalog(io, &cs.rules)))
		goto done;
	const char *db = cs.db ? cs.db : scanning ? ":memory:" : "upglog.db";
	st = ul_store_open(db, scanning ? UL_STORE_CREATE : UL_STORE_READONLY, &err);
	if (!st) {
		cli_error(io, "%s", err.msg);
		goto done;
	}
	int64_t scan_id = 0;
	struct ul_scan_stats stats = { 0 };
	if (scanning) {
		if (!cli_scan_run(&cs, io, st, cat, &scan_id, &stats))
			goto done;
	} else if (!ul_store_latest_scan(st, &scan_id, &err) || scan_id == 0) {
		cli_error(io, "%s: no scan to report (give PATHs to scan)", db);
		goto done;
	}
	if (output) {
		out = fopen(output, "w");
		if (!out) {
			cli_error(io, "%s: cannot write: %s", output, strerror(errno));
			goto done;
		}
		ro.out = out;
		ro.color = false;
	}
	ro.strip = cli_cwd();
	/* The page's title names the inputs by their own names (what the ticket is about). */
	char title[320] = "upglog triage";
	for (int i = optind; scanning && i < argc; i++) {
		size_t len = strlen(argv[i]);
		while (len > 1 && argv[i][len - 1] == '/')
			len--;
		const char *base = argv[i];
		for (size_t k = 0; k + 1 < len; k++)
			if (argv[i][k] == '/')
				base = argv[i] + k + 1;
		size_t used = strlen(title), n = len - (size_t)(base - argv[i]);
		if (used + n + 5 >= sizeof(title)) {
			strcat(title, " ...");
			break;
		}
		snprintf(title + used, sizeof(title) - used, " %.*s", (int)n, base);
	}
	ro.title = scanning ? title : NULL;
	ro.db = strcmp(db, ":memory:") != 0 ? db : NULL;
	cl = cli_cluster(&cs, io, st, scan_id, scanning);
	if (!cl)
		goto done;
	ro.cluster = cl;
	struct ul_triage_summary sum;
	if (!ul_report_triage(st, scan_id, &ro, &sum, &err)) {
		cli_error(io, "%s", err.msg);
		goto done;
	}
	if (out && fclose(out) != 0) {
		out = NULL;
		cli_error(io, "%s: cannot write: %s", output, strerror(errno));
		goto done;
	}
	out = NULL;
	if (stats.problems || sum.unreadable)
		rc = UL_EXIT_UNREADABLE;
	else if (sum.verdict == UL_OUT_FAILED || sum.verdict == UL_OUTCOME_CANCELLED)
		rc = UL_EXIT_FAILURE;
	else
		rc = UL_EXIT_OK;
done:
	ul_cluster_destroy(cl);
	if (out)
		fclose(out);
	ul_store_close(st);
	ul_catalog_destroy(cat);
	cli_scan_finish(&cs);
	return rc;
}

const struct cli_cmd cli_cmd_triage = {
	.name = "triage",
	.summary = "say why an upgrade failed: verdict, root cause, what to do",
	.usage = usage,
	.run = run,
};
