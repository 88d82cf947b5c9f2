/* SPDX-License-Identifier: MIT */
/* upglog query: ad-hoc SQL over the findings. */
#include <string.h>
#include <unistd.h>

#include "scan_opts.h"
#include "upglog/report.h"

static const char usage[] =
        "usage: upglog query [--db FILE] [--format table|csv|json|jsonl] [--write] SQL\n"
        "\n"
        "Run SQL against the findings database and print the rows. The database is opened\n"
        "read-only: a statement that would change it is refused unless --write is given.\n"
        "Tables: scans, sources, files, findings, rule_hits, rules, verdicts, candidates;\n"
        "views: v_findings, v_failures, v_noise (see README.md for every column).\n"
        "\n"
        "  --db FILE        the database (default: upglog.db)\n"
        "  --format FORMAT  table (default), csv, json (one array of row objects) or\n"
        "                   jsonl (one object per line); numbers print as numbers, NULL as\n"
        "                   null, a blob as x'0aff'\n"
        "  --write          allow statements that change the database\n"
        "  --help           this text\n"
        "\n"
        "Exit status: 0, 2 on an error, 3 when the latest scan in the database did not finish\n"
        "(killed, stopped by an error, or still running): the rows are what it stored.\n"
        "\n"
        "Example: upglog query \"SELECT file, line, code, text FROM v_failures\"\n";

static int run(int argc, char **argv, const struct cli_io *io)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "write", no_argument, NULL, OPT_WRITE },
		{ NULL, 0, NULL, 0 },
	};
	struct ul_report_opts ro = { .out = io->out, .format = UL_FMT_TABLE };
	const char *db = "upglog.db";
	bool write = false;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts, &cli_cmd_query, io)) != -1) {
		switch (c) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_WRITE:
			write = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				ro.format = UL_FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				ro.format = UL_FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				ro.format = UL_FMT_JSON;
			else if (strcmp(optarg, "jsonl") == 0)
				ro.format = UL_FMT_JSONL;
			else
				return cli_usage_error(
				        io, &cli_cmd_query,
				        "--format is table, csv, json or jsonl, not '%s'", optarg);
			break;
		default:
			return UL_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(io, &cli_cmd_query,
		                       "give exactly one SQL argument (quote it)");
	if (access(db, F_OK) != 0) {
		cli_error(io, "%s: no such database (run 'upglog scan' first)", db);
		return UL_EXIT_USAGE;
	}
	struct ul_error err;
	struct ul_store *st = ul_store_open(db, write ? UL_STORE_WRITE : UL_STORE_READONLY, &err);
	if (!st) {
		cli_error(io, "%s", err.msg);
		return UL_EXIT_USAGE;
	}
	bool ok = ul_report_query(st, argv[optind], &ro, &err);
	if (!ok) {
		ul_store_close(st);
		cli_error(io, "%s", err.msg);
		return UL_EXIT_USAGE;
	}
	/* Rows of a scan that did not finish are not the whole story: say so. */
	int64_t latest = 0;
	int rc = UL_EXIT_OK;
	if (!ul_store_latest_scan(st, &latest, &err)) {
		cli_error(io, "%s", err.msg);
		rc = UL_EXIT_USAGE;
	} else if (latest && cli_scan_unfinished(io, st, db, latest)) {
		rc = UL_EXIT_UNREADABLE;
	}
	ul_store_close(st);
	return rc;
}

const struct cli_cmd cli_cmd_query = {
	.name = "query",
	.summary = "run SQL over the findings (read-only unless --write)",
	.usage = usage,
	.run = run,
};
