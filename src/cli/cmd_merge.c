/* SPDX-License-Identifier: MIT */
/* upglog merge: SQLite databases scanned elsewhere (shards) into one database. */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "scan_opts.h"
#include "upglog/cluster.h"

/*
 * Options of merge. To add one: a row here and a case in option(); --help, the man page and
 * the completions follow from the row. --role and --window are scan's, for the cluster of the
 * merge's own scan.
 */
static const struct cli_opt opts[] = {
	{ OPT_DB, 'd', "db", "TARGET", NULL, CLI_COMP_FILE,
	  "the database to merge into: a SQLite file (default: upglog.db; created when "
	  "missing) or a PostgreSQL connection string" },
	{ OPT_QUIET, 'q', "quiet", NULL, NULL, CLI_COMP_NONE,
	  "no line per shard and no summary on stderr (errors are still printed)" },
	{ OPT_ROLE, 0, "role", "HOST=ROLE", NULL, CLI_COMP_NONE,
	  "a server's role in the merged cluster: publisher, tftp, services, subscriber, "
	  "secondary, primary or application (repeatable); else read from the logs" },
	{ OPT_WINDOW, 0, "window", "DURATION", NULL, CLI_COMP_NONE,
	  "the maintenance window of the merged cluster (default 8h; 90m, 1h30m)" },
	{ 0 },
};

static int option(void *ctx, const struct cli_opt *o, const char *value)
{
	struct cli_scan *cs = ctx;
	int r = cli_scan_option(cs, o->id, value, &cli_cmd_merge, cs->io);
	return r < 0 ? UL_EXIT_USAGE : r;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void shard_line(const struct cli_io *io, const char *shard, const struct ul_merge_stats *s)
{
	fprintf(io->err,
	        "upglog: merged %s: %llu scan%s, %llu file%s copied (%llu replacing an older "
	        "version), %llu already present, %llu left out (the target's is not older), "
	        "%llu finding%s\n",
	        shard, (unsigned long long)s->scans, plural(s->scans), (unsigned long long)s->files,
	        plural(s->files), (unsigned long long)s->replaced, (unsigned long long)s->present,
	        (unsigned long long)s->older, (unsigned long long)s->findings, plural(s->findings));
}

static int run(int argc, char **argv, const struct cli_io *io)
{
	struct cli_scan cs;
	int nargs, rc = UL_EXIT_USAGE;
	cli_scan_init(&cs);
	cs.io = io;
	int r = cli_parse(&cli_cmd_merge, argc, argv, io, option, &cs, &nargs);
	if (r != 0 || nargs < 0) {
		cli_scan_finish(&cs);
		return r;
	}
	if (nargs == 0) {
		cli_scan_finish(&cs);
		return cli_usage_error(io, &cli_cmd_merge,
		                       "nothing to merge: give at least one SHARD database");
	}
	/* The shards as absolute paths, and the command line for the merge's scan row. */
	if (!cli_scan_paths(&cs, 1 + nargs, argv, 1)) {
		cli_error(io, "out of memory");
		cli_scan_finish(&cs);
		return UL_EXIT_USAGE;
	}
	const char *db = cs.db ? cs.db : "upglog.db";
	struct ul_error err;
	struct ul_store *st = NULL;
	struct ul_merge *m = NULL;
	struct ul_cluster *cl = NULL;
	bool existed = ul_store_names_server(db) || access(db, F_OK) == 0;
	st = ul_store_open(db, UL_STORE_CREATE, &err);
	if (!st) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
	if (!existed && !cs.quiet)
		fprintf(io->err, "upglog: created the database %s\n", ul_store_name(st));
	m = ul_store_merge_begin(st, &err);
	if (!m) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
	/* Each bad shard is one line; the others go on. A target that fails stops the run. */
	struct ul_merge_stats total = { 0 };
	size_t bad = 0, merged = 0;
	for (int i = 1; i <= nargs; i++) {
		struct ul_merge_stats s;
		if (!ul_store_merge_shard(m, argv[i], &s, &err)) {
			cli_error(io, "%s", err.msg);
			if (strcmp(err.kind, "store") == 0 || strcmp(err.kind, "memory") == 0)
				goto out;
			bad++;
			continue;
		}
		merged++;
		if (!cs.quiet)
			shard_line(io, argv[i], &s);
		total.scans += s.scans;
		total.files += s.files;
		total.replaced += s.replaced;
		total.present += s.present;
		total.older += s.older;
		total.findings += s.findings;
	}
	int64_t scan_id = 0;
	if (!ul_store_merge_end(m, UL_VERSION, cs.arguments, &scan_id, &err)) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
	if (!cs.quiet)
		fprintf(io->err,
		        "upglog: merged %zu of %zu shard%s into %s: %llu scan%s, %llu file%s "
		        "copied, "
		        "%llu already present, %llu finding%s\n",
		        merged, (size_t)nargs, plural((uint64_t)nargs), ul_store_name(st),
		        (unsigned long long)total.scans, plural(total.scans),
		        (unsigned long long)total.files, plural(total.files),
		        (unsigned long long)total.present, (unsigned long long)total.findings,
		        plural(total.findings));
	if (scan_id == 0) {
		/* No shard could be merged, or those merged brought no input. */
		rc = bad ? UL_EXIT_UNREADABLE : UL_EXIT_OK;
		goto out;
	}
	/* The merge's own scan: the servers and checks of everything it brought, as one
	 * cluster, like a scan of all the shards' inputs at once. */
	struct ul_store_summary sum;
	if (!ul_store_summary(st, scan_id, &sum, &err)) {
		cli_error(io, "%s", err.msg);
		goto out;
	}
	cl = cli_cluster(&cs, io, st, scan_id, true);
	if (!cl)
		goto out;
	rc = cli_scan_exit(&sum, cl, bad);
out:
	ul_cluster_destroy(cl);
	ul_store_merge_free(m);
	ul_store_close(st);
	cli_scan_finish(&cs);
	return rc;
}

const struct cli_cmd cli_cmd_merge = {
	.name = "merge",
	.summary = "merge databases scanned elsewhere into one database",
	.synopsis = "[OPTIONS] SHARD...",
	.about = "Merge SQLite databases written by upglog scan on other machines (shards) into "
	         "one database, SQLite or PostgreSQL, without duplicates. Each shard goes in "
	         "whole, in one transaction, or not at all; each of its scans becomes a scan of "
	         "the target with its servers and checks, and every text a log wrote is masked "
	         "again on the way in.\n"
	         "\n"
	         "A file the target already holds with the same content hash is not copied again: "
	         "the target's row is attached to the shard's scan. A path the target holds with "
	         "other content keeps the version whose scan started later. Merging a shard twice "
	         "adds its scans again but no file or finding.\n"
	         "\n"
	         "The merge ends with a scan of its own that visits every input the shards "
	         "brought: its servers and checks are those of one cluster, as if all the inputs "
	         "had been scanned at once, and triage --db reports it.\n",
	.opts = opts,
	.args = CLI_COMP_FILE,
	.epilog = "Exit status: 0 nothing failed, 1 a failed or cancelled installation was "
	          "found among the merged files (or a cluster check of severity error fired), 2 "
	          "usage error or the target cannot be written, 3 some shards could not be "
	          "merged (missing, not a database, not upglog's, a schema of another version; "
	          "the rest were merged) or a merged file could not be read where it was "
	          "scanned.\n"
	          "\n"
	          "Example: upglog merge --db fleet.db site1.db site2.db\n",
	.run = run,
};
