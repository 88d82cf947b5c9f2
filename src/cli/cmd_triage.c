/* SPDX-License-Identifier: MIT */
/* upglog triage: the verdict and root cause of one failed upgrade. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "scan_opts.h"
#include "upglog/cluster.h"
#include "upglog/report.h"

/* The formats the triage prints in (report.h). */
#define TRIAGE_FORMATS                                                                       \
	(1u << UL_FMT_TEXT | 1u << UL_FMT_JSON | 1u << UL_FMT_HTML | 1u << UL_FMT_MARKDOWN | \
	 1u << UL_FMT_JSONL)

/*
 * Options of triage (with cli_scan_opts). To add one: a row here and a case in option();
 * --help, the man page and the completions follow from the row.
 */
static const struct cli_opt opts[] = {
	{ OPT_DB, 'd', "db", "DB", NULL, CLI_COMP_FILE,
	  "the database: a SQLite file (default: in memory with PATHs, upglog.db without) or a "
	  "PostgreSQL connection string (postgresql://...)" },
	{ OPT_FORMAT, 'f', "format", "FORMAT", "text|json|jsonl|html|markdown|md", CLI_COMP_VALUES,
	  "the report's format: text for a person (default); json, one document for a script; "
	  "html, one "
	  "self-contained page for a ticket (timelines, no script); markdown (or md), pastes "
	  "into a ticket or chat; jsonl, one flat object per finding, verdict, server and check "
	  "for log pipelines" },
	{ OPT_OUTPUT, 'o', "output", "FILE", NULL, CLI_COMP_FILE,
	  "write the report to FILE instead of standard output (an html page is best kept in a "
	  "file)" },
	{ OPT_QUIET, 'q', "quiet", NULL, NULL, CLI_COMP_NONE,
	  "print no report and no progress: the exit status says it all (with --output the "
	  "report is still written to FILE)" },
	{ OPT_COLOR, 0, "color", "WHEN", "auto|always|never", CLI_COMP_VALUES,
	  "colour the text report: auto (default: when standard output is a terminal and "
	  "NO_COLOR is not set), always or never" },
	{ 0 },
};

struct triage_args {
	struct cli_scan cs;
	struct ul_report_opts ro;
	const char *output;
};

static int option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct triage_args *t = ctx;
	switch (o->id) {
	case OPT_FORMAT:
		/* The parser checked the row's list; ul_format_parse maps a value to its renderer,
		 * and a value of the row that the report cannot print for triage is refused. */
		if (!ul_format_parse(value, TRIAGE_FORMATS, &t->ro.format, NULL, 0))
			return cli_usage_error(t->cs.io, &cli_cmd_triage,
			                       "--format %s: not handled", value);
		return 0;
	case OPT_OUTPUT:
		t->output = value;
		return 0;
	case OPT_COLOR:
		t->ro.color = cli_color_when(value);
		return 0;
	default: {
		int r = cli_scan_option(&t->cs, o->id, value, &cli_cmd_triage, t->cs.io);
		return r < 0 ? UL_EXIT_USAGE : r;
	}
	}
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	struct triage_args t = { .output = NULL };
	int nargs, rc = UL_EXIT_USAGE;
	cli_scan_init(&t.cs);
	t.cs.io = io;
	t.ro = (struct ul_report_opts){ .out = io->out, .format = UL_FMT_TEXT, .color = io->color };
	int r = cli_parse(&cli_cmd_triage, argc, argv, io, option, &t, &nargs);
	if (r != 0 || nargs < 0) {
		cli_scan_finish(&t.cs);
		return r;
	}
	struct cli_scan cs = t.cs;
	struct ul_report_opts ro = t.ro;
	const char *output = t.output;
	bool scanning = nargs > 0;
	if (cli_stdin_twice(1 + nargs, argv, 1)) {
		cli_scan_finish(&cs);
		return cli_usage_error(
		        io, &cli_cmd_triage,
		        "standard input (-) is given twice; it can be read only once");
	}
	if (!cli_scan_paths(&cs, 1 + nargs, argv, 1)) {
		cli_error(io, "out of memory");
		cli_scan_finish(&cs);
		return UL_EXIT_USAGE;
	}
	struct ul_catalog *cat = NULL;
	struct ul_store *st = NULL;
	struct ul_cluster *cl = NULL;
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
	if (output && !cli_output_writable(io, output)) {
		cli_scan_finish(&cs);
		return UL_EXIT_USAGE;
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
		cli_error(io, "%s: no scan to report (give PATHs to scan)", ul_store_name(st));
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
	} else if (cs.quiet) {
		/* --quiet: the verdict is the exit status; the report goes nowhere. */
		out = fopen("/dev/null", "w");
		if (!out) {
			cli_error(io, "/dev/null: %s", strerror(errno));
			goto done;
		}
		ro.out = out;
	}
	ro.strip = cli_cwd();
	/* The page's title names the inputs by their own names (what the ticket is about). */
	char title[320] = "upglog triage";
	for (int i = 1; scanning && i < 1 + nargs; i++) {
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
	/* A report of a scan that did not finish says so itself, not only on stderr: the page
	 * or the file may travel without it. */
	char notice[200];
	struct ul_scan_state ss;
	if (!scanning && ul_store_scan_state(st, scan_id, &ss, NULL, NULL, &err) && ss.found &&
	    !ss.finished) {
		snprintf(
		        notice, sizeof(notice),
		        ss.running
		                ? "scan #%lld (started %s) is still running: this shows what it "
		                  "has stored so far"
		                : "scan #%lld (started %s) did not finish (killed or stopped by an "
		                  "error): this shows only what it stored",
		        (long long)scan_id, ss.started);
		ro.notice = notice;
	}
	ro.db = strcmp(db, ":memory:") != 0 ? ul_store_name(st) : NULL;
	cl = cli_cluster(&cs, io, st, scan_id, scanning);
	if (!cl)
		goto done;
	ro.cluster = cl;
	struct ul_triage_summary sum;
	if (!ul_report_triage(st, scan_id, &ro, &sum, &err)) {
		cli_error(io, "%s", err.msg);
		goto done;
	}
	if (out && fclose(out) != 0 && output) {
		out = NULL;
		cli_error(io, "%s: cannot write: %s", output, strerror(errno));
		goto done;
	}
	out = NULL;
	if (!scanning && cli_scan_unfinished(io, st, ul_store_name(st), scan_id))
		rc = UL_EXIT_UNREADABLE;
	else if (stats.problems || sum.unreadable)
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
	.synopsis = "[OPTIONS] [PATH...]",
	.about = "Say whether an upgrade failed, server by server: each server's verdict, the "
	         "line that explains it (with the lines around it and what to do), the "
	         "cluster's upgrade order and the upgrade guide's checks; then the other "
	         "failures and the harmless noise. Inputs given together form one cluster. "
	         "With PATHs, scans them first (into --db, or into a private "
	         "in-memory database when --db is not given); without PATHs, reports the latest "
	         "scan in --db.\n",
	.opts = opts,
	.more_opts = cli_scan_opts,
	.args = CLI_COMP_FILE,
	.epilog = "Exit status: 0 nothing failed, 1 a failure was found (a server failed or "
	          "was cancelled, or a cluster check of severity error fired; a fatal line in a "
	          "log without a final status makes it failed), 2 usage or configuration error, "
	          "3 some inputs could not be read, or the scan a report of --db reads did not "
	          "finish (killed, stopped, or still running); 3 wins over 1: the report still "
	          "carries the verdict of what could be read.\n",
	.run = run,
};
