/* SPDX-License-Identifier: MIT */
/* upglog triage: the verdict and root cause of one failed upgrade. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "scan_opts.h"
#include "upglog/report.h"

static const char usage[] =
        "usage: upglog triage [--db FILE] [--format text|json] [--output FILE] [OPTIONS]\n"
        "                     [PATH...]\n"
        "\n"
        "Say whether an upgrade failed, point at the line that explains it (with the lines\n"
        "around it and what to do), list the other failures, and count the harmless noise.\n"
        "With PATHs, scans them first (into --db, or into a private in-memory database when\n"
        "--db is not given); without PATHs, reports the latest scan in --db.\n"
        "\n"
        "  --db FILE        the database (default: in memory with PATHs, upglog.db without)\n"
        "  --format FORMAT  text (default) or json\n"
        "  --output FILE    write the report to FILE instead of standard output\n" CLI_SCAN_HELP
        "  --help           this text\n"
        "\n"
        "Exit status: 0 nothing failed, 1 a failure was found (a log's verdict is failed; a\n"
        "fatal line in a log without a final status makes it failed), 2 usage or\n"
        "configuration error, 3 some inputs could not be read, or the scan a report of --db\n"
        "reads did not finish (killed, stopped, or still running); 3 wins over 1: the report\n"
        "still carries the verdict of what could be read.\n";

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
			if (strcmp(optarg, "text") == 0)
				ro.format = UL_FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				ro.format = UL_FMT_JSON;
			else
				r = cli_usage_error(io, &cli_cmd_triage,
				                    "--format is text or json, not '%s'", optarg);
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
	struct ul_error err;
	FILE *out = NULL;
	/* The report must not overwrite what it reports on. */
	struct stat ost;
	if (output && stat(output, &ost) == 0) {
		const char *db_path = cs.db ? cs.db : scanning ? NULL : "upglog.db";
		struct stat ist;
		for (size_t i = 0; i <= cs.npaths; i++) {
			const char *in = i < cs.npaths ? cs.paths[i] : db_path;
			if (in && stat(in, &ist) == 0 && ist.st_dev == ost.st_dev &&
			    ist.st_ino == ost.st_ino) {
				cli_scan_finish(&cs);
				return cli_usage_error(io, &cli_cmd_triage,
				                       "--output %s is one of the inputs (or the "
				                       "database); it would be overwritten",
				                       output);
			}
		}
	}
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
	if (!scanning && cli_scan_unfinished(io, st, db, scan_id))
		rc = UL_EXIT_UNREADABLE;
	else if (stats.problems || sum.unreadable)
		rc = UL_EXIT_UNREADABLE;
	else if (sum.verdict == UL_OUT_FAILED)
		rc = UL_EXIT_FAILURE;
	else
		rc = UL_EXIT_OK;
done:
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
