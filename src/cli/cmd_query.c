/* SPDX-License-Identifier: MIT */
/* upglog query: ad-hoc SQL over the findings. */
#include <string.h>
#include <unistd.h>

#include "scan_opts.h"
#include "upglog/report.h"

/*
 * Options of query. To add one: a row here and a case in option(); --help, the man page and
 * the completions follow from the row.
 */
static const struct cli_opt opts[] = {
	{ OPT_DB, 'd', "db", "DB", NULL, CLI_COMP_FILE,
	  "the database: a SQLite file (default: upglog.db) or a PostgreSQL connection string "
	  "(postgresql://...)" },
	{ OPT_FORMAT, 'f', "format", "FORMAT", "table|csv|json|jsonl", CLI_COMP_VALUES,
	  "table (default), csv, json (one array of row objects) or jsonl (one object per "
	  "line)" },
	{ OPT_WRITE, 0, "write", NULL, NULL, CLI_COMP_NONE,
	  "allow statements that change the database" },
	{ 0 },
};

struct query_args {
	const struct cli_io *io;
	struct ul_report_opts ro;
	const char *db;
	bool write;
};

static int option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct query_args *q = ctx;
	switch (o->id) {
	case OPT_DB:
		q->db = value;
		break;
	case OPT_WRITE:
		q->write = true;
		break;
	case OPT_FORMAT:
		/* Every value of the row needs its case here (the parser checked the list). */
		if (strcmp(value, "table") == 0)
			q->ro.format = UL_FMT_TABLE;
		else if (strcmp(value, "csv") == 0)
			q->ro.format = UL_FMT_CSV;
		else if (strcmp(value, "json") == 0)
			q->ro.format = UL_FMT_JSON;
		else if (strcmp(value, "jsonl") == 0)
			q->ro.format = UL_FMT_JSONL;
		else
			return cli_usage_error(q->io, &cli_cmd_query, "--format %s: not handled",
			                       value);
		break;
	default:
		return UL_EXIT_USAGE;
	}
	return 0;
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	struct query_args q = { .io = io,
		                .ro = { .out = io->out, .format = UL_FMT_TABLE },
		                .db = "upglog.db" };
	int nargs;
	int r = cli_parse(&cli_cmd_query, argc, argv, io, option, &q, &nargs);
	if (r != 0 || nargs < 0)
		return r;
	struct ul_report_opts ro = q.ro;
	const char *db = q.db;
	bool write = q.write;
	if (nargs != 1)
		return cli_usage_error(io, &cli_cmd_query,
		                       "give exactly one SQL argument (quote it)");
	if (!ul_store_names_server(db) && access(db, F_OK) != 0) {
		cli_error(io, "%s: no such database (run 'upglog scan' first)", db);
		return UL_EXIT_USAGE;
	}
	struct ul_error err;
	struct ul_store *st = ul_store_open(db, write ? UL_STORE_WRITE : UL_STORE_READONLY, &err);
	if (!st) {
		cli_error(io, "%s", err.msg);
		return UL_EXIT_USAGE;
	}
	bool ok = ul_report_query(st, argv[1], &ro, &err);
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
	} else if (latest && cli_scan_unfinished(io, st, ul_store_name(st), latest)) {
		rc = UL_EXIT_UNREADABLE;
	}
	ul_store_close(st);
	return rc;
}

const struct cli_cmd cli_cmd_query = {
	.name = "query",
	.summary = "run SQL over the findings (read-only unless --write)",
	.synopsis = "[OPTIONS] SQL",
	.about = "Run SQL against the findings database and print the rows. The database is "
	         "opened read-only: a statement that would change it is refused unless --write "
	         "is given. Tables: scans, sources, files, findings, rule_hits, rules, verdicts, "
	         "candidates, facts, servers, checks; views: v_findings, v_failures, v_noise, "
	         "v_servers, v_failed_servers, v_checks (see upglog-schema(7) for every column). "
	         "Numbers print as numbers, NULL as null, a blob as x'0aff'.\n",
	.opts = opts,
	.args = CLI_COMP_NONE,
	.epilog = "Exit status: 0, 2 on an error, 3 when the latest scan in the database did "
	          "not finish (killed, stopped by an error, or still running): the rows are what "
	          "it stored.\n"
	          "\n"
	          "Example: upglog query \"SELECT file, line, code, text FROM v_failures\"\n",
	.run = run,
};
