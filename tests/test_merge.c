/* SPDX-License-Identifier: MIT */
/*
 * store merge: shards scanned apart and merged equal one scan of all their inputs; a shard
 * merged twice adds no file or finding; a changed file goes to the newer scan; an old shard's
 * secrets are masked on the way in; a bad shard is refused with its reason and a merge that
 * fails half-way leaves the target as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"
#include "upglog/catalog.h"
#include "upglog/cluster.h"
#include "upglog/scan.h"
#include "upglog/store.h"

struct fixture {
	struct ul_catalog *cat;
	char *dir;
	const char *fixtures;
};

static int setup(void **state)
{
	const char *patterns = getenv("UPGLOG_PATTERNS");
	const char *fixtures = getenv("UPGLOG_FIXTURES");
	if (!patterns || !fixtures)
		return -1;
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ul_error err;
	fx->cat = ul_catalog_new();
	assert_true(ul_catalog_add_dir(fx->cat, patterns, &err));
	assert_true(ul_catalog_compile(fx->cat, &err));
	fx->dir = tu_tmpdir();
	fx->fixtures = fixtures;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char *cmd = tu_fmt("rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(fx->dir);
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

/* Build the cluster of a scan and save its servers and checks, as the CLI does. */
static void save_cluster(struct ul_store *st, int64_t scan_id)
{
	struct ul_error err;
	struct ul_cluster_opts co = { 0 };
	struct ul_cluster *cl = ul_cluster_build(st, scan_id, &co, &err);
	if (!cl)
		fail_msg("cluster: %s", err.msg);
	if (!ul_cluster_save(st, scan_id, cl, &err))
		fail_msg("cluster save: %s", err.msg);
	ul_cluster_destroy(cl);
}

/* Scan `paths` into the database `db` (created), with its cluster; returns the scan id. */
static int64_t scan_into(struct fixture *fx, const char *db, const char *const *paths, size_t n)
{
	struct ul_error err;
	struct ul_store *st = ul_store_open(db, UL_STORE_CREATE, &err);
	if (!st)
		fail_msg("%s", err.msg);
	struct ul_scan_opts o = { .paths = paths, .npaths = n, .jobs = 1 };
	int64_t scan_id;
	struct ul_scan_stats stats;
	if (!ul_scan_run(st, fx->cat, &o, &scan_id, &stats, &err))
		fail_msg("scan: %s", err.msg);
	save_cluster(st, scan_id);
	ul_store_close(st);
	return scan_id;
}

static char *fixture_path(struct fixture *fx, const char *rel)
{
	return tu_fmt("%s/%s", fx->fixtures, rel);
}

/* A shard of one fixture input; the path of the database (free it). */
static char *shard_of(struct fixture *fx, const char *name, const char *input)
{
	char *db = tu_fmt("%s/%s", fx->dir, name);
	char *in = fixture_path(fx, input);
	const char *paths[] = { in };
	scan_into(fx, db, paths, 1);
	free(in);
	return db;
}

/* Merge `shards` into `target`, with the merge's own scan and its cluster. */
static int64_t merge(const char *target, const char *const *shards, size_t n,
                     struct ul_merge_stats *stats)
{
	struct ul_error err;
	struct ul_store *st = ul_store_open(target, UL_STORE_CREATE, &err);
	if (!st)
		fail_msg("%s", err.msg);
	struct ul_merge *m = ul_store_merge_begin(st, &err);
	assert_non_null(m);
	if (stats)
		memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < n; i++) {
		struct ul_merge_stats s;
		if (!ul_store_merge_shard(m, shards[i], &s, &err))
			fail_msg("merge %s: %s", shards[i], err.msg);
		if (stats) {
			stats->scans += s.scans;
			stats->files += s.files;
			stats->present += s.present;
			stats->replaced += s.replaced;
			stats->older += s.older;
			stats->findings += s.findings;
		}
	}
	int64_t scan_id;
	if (!ul_store_merge_end(m, "test", "[\"merge\"]", &scan_id, &err))
		fail_msg("merge end: %s", err.msg);
	assert_true(scan_id > 0);
	save_cluster(st, scan_id);
	ul_store_merge_free(m);
	ul_store_close(st);
	return scan_id;
}

/* ---- reading a database back --------------------------------------------------------------- */

static char *query(const char *db, const char *sql)
{
	struct ul_error err;
	struct ul_store *st = ul_store_open(db, UL_STORE_READONLY, &err);
	if (!st)
		fail_msg("%s", err.msg);
	struct tu_dump d = { 0 };
	if (!ul_store_query(st, sql, tu_dump_row, &d, &err))
		fail_msg("%s: %s", sql, err.msg);
	ul_store_close(st);
	return d.s ? d.s : strdup("");
}

static void write_sql(const char *db, const char *sql)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(h);
}

/*
 * Everything stored about files, and the servers and checks of the latest scan, without ids:
 * rows point at each other by path and line.
 */
static char *content(const char *db)
{
	static const char sql[] =
	        "SELECT path, kind, host, size, mtime, complete FROM sources ORDER BY path;"
	        "SELECT path, location, family, encoding, size, mtime, bytes, lines, cut_lines,"
	        " replaced, hash, status, error, host, host_from FROM files ORDER BY path;"
	        "SELECT fi.path, f.line, f.\"offset\", f.ts, f.rule_id, f.severity, f.level, "
	        "f.code,"
	        " f.action, f.text, f.title, f.captures, f.context_before, f.context_after"
	        " FROM findings f JOIN files fi ON fi.id = f.file_id ORDER BY fi.path, f.line;"
	        "SELECT fi.path, h.rule_id, h.severity, h.count, h.first_line, h.last_line"
	        " FROM rule_hits h JOIN files fi ON fi.id = h.file_id ORDER BY fi.path, h.rule_id;"
	        "SELECT fi.path, v.outcome, f.line, v.root_line, v.action, v.exit_code, v.reboot,"
	        " v.reason, v.product, v.host, v.started, v.failed_at, v.finished FROM verdicts v"
	        " JOIN files fi ON fi.id = v.file_id LEFT JOIN findings f ON f.id = v.finding_id"
	        " ORDER BY fi.path;"
	        "SELECT fi.path, c.rank, c.line, f.line, c.reason FROM candidates c"
	        " JOIN verdicts v ON v.id = c.verdict_id JOIN files fi ON fi.id = v.file_id"
	        " LEFT JOIN findings f ON f.id = c.finding_id ORDER BY fi.path, c.rank;"
	        "SELECT fi.path, x.key, x.value, x.line, x.ts FROM facts x"
	        " JOIN files fi ON fi.id = x.file_id ORDER BY fi.path, x.line, x.key;"
	        "SELECT s.host, s.role, s.role_evidence, s.outcome, s.product, s.from_version,"
	        " s.to_version, s.final_version, s.started, s.finished, s.reboot, s.reason,"
	        " fi.path, s.line, f.line FROM servers s LEFT JOIN files fi ON fi.id = s.file_id"
	        " LEFT JOIN findings f ON f.id = s.finding_id"
	        " WHERE s.scan_id = (SELECT max(id) FROM scans) ORDER BY s.host;"
	        "SELECT c.name, c.severity, c.host, c.hosts, fi.path, c.line, c.text, c.advice,"
	        " c.evidence FROM checks c LEFT JOIN files fi ON fi.id = c.file_id"
	        " WHERE c.scan_id = (SELECT max(id) FROM scans)"
	        " ORDER BY c.name, c.host, c.text;"
	        "SELECT rule_id, severity, pattern FROM rules ORDER BY rule_id";
	return query(db, sql);
}

static int64_t count(const char *db, const char *table)
{
	char *sql = tu_fmt("SELECT count(*) FROM %s", table);
	char *v = query(db, sql);
	int64_t n = strtoll(v, NULL, 10);
	free(v);
	free(sql);
	return n;
}

/* ---- the cases ----------------------------------------------------------------------------- */

static void two_shards_equal_one_scan_of_both(void **state)
{
	struct fixture *fx = *state;
	char *a = shard_of(fx, "pub01.db", "cluster/pub01");
	char *b = shard_of(fx, "sub01.db", "cluster/sub01");
	char *single = tu_fmt("%s/single.db", fx->dir);
	char *target = tu_fmt("%s/target.db", fx->dir);
	char *in1 = fixture_path(fx, "cluster/pub01"), *in2 = fixture_path(fx, "cluster/sub01");
	const char *both[] = { in1, in2 };
	scan_into(fx, single, both, 2);

	const char *shards[] = { a, b };
	struct ul_merge_stats s;
	int64_t id = merge(target, shards, 2, &s);
	assert_int_equal(id, 3); /* the two shards' scans, then the merge's own */
	assert_int_equal(s.scans, 2);
	assert_int_equal(s.present, 0);
	assert_int_equal((int64_t)s.files, count(single, "files"));
	assert_int_equal((int64_t)s.findings, count(single, "findings"));
	assert_true(s.findings > 0);

	char *want = content(single), *got = content(target);
	assert_string_equal(got, want);
	/* Both servers of the cluster, one checked against the other. */
	assert_true(tu_contains(got, "PUB01|publisher"));
	assert_true(tu_contains(got, "SUB01|subscriber"));
	/* Each shard's own scan is kept, with its own server. */
	char *kept = query(target, "SELECT s.scan_id, s.host, c.arguments FROM servers s"
	                           " JOIN scans c ON c.id = s.scan_id WHERE s.scan_id < 3"
	                           " ORDER BY 1");
	assert_true(tu_contains(kept, "1|PUB01|"));
	assert_true(tu_contains(kept, "2|SUB01|"));
	char *first = query(a, "SELECT started, finished, tool_version, catalogue_hash FROM scans");
	char *copied = query(target, "SELECT started, finished, tool_version, catalogue_hash"
	                             " FROM scans WHERE id = 1");
	assert_string_equal(copied, first);
	free(kept);
	free(first);
	free(copied);
	free(want);
	free(got);
	free(in1);
	free(in2);
	free(a);
	free(b);
	free(single);
	free(target);
}

static void the_same_shard_twice_adds_no_file(void **state)
{
	struct fixture *fx = *state;
	char *a = shard_of(fx, "pub01.db", "cluster/pub01");
	char *target = tu_fmt("%s/target.db", fx->dir);
	const char *shards[] = { a };
	struct ul_merge_stats s1, s2;
	merge(target, shards, 1, &s1);
	char *before = content(target);
	int64_t findings = count(target, "findings"), files = count(target, "files");
	int64_t scans = count(target, "scans");
	merge(target, shards, 1, &s2);
	assert_true(s1.files > 0);
	assert_int_equal(s2.files, 0);
	assert_int_equal(s2.findings, 0);
	assert_int_equal(s2.present, s1.files);
	assert_int_equal(count(target, "files"), files);
	assert_int_equal(count(target, "findings"), findings);
	/* The shard's scan and the merge's own, once more. */
	assert_int_equal(count(target, "scans"), scans + 2);
	char *after = content(target);
	assert_string_equal(after, before);
	/* Both merges in one run: the second copy of the shard is all "present". */
	char *t2 = tu_fmt("%s/t2.db", fx->dir);
	const char *twice[] = { a, a };
	struct ul_merge_stats s3;
	merge(t2, twice, 2, &s3);
	assert_int_equal(s3.files, s1.files);
	assert_int_equal(s3.present, s1.files);
	assert_int_equal(count(t2, "findings"), findings);
	free(t2);
	free(before);
	free(after);
	free(a);
	free(target);
}

/* One MSI log of a failed install; `variant` changes its content (and hash). */
static char *msi_log(int variant)
{
	return tu_fmt(
	        "=== Verbose logging started: 19.03.2005  22:30:01  Build type: SHIP UNICODE "
	        "3.01.4000.1823  Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===\r\n"
	        "MSI (s) (A4:B8) [22:30:02:125]: Product: Cisco CallManager -- Installation "
	        "started.\r\n"
	        "Action start 22:30:02: INSTALL.\r\n"
	        "Action start 22:30:05: InstallFinalize.\r\n"
	        "MSI (s) (A4:B8) [22:30:%02d:500]: Note: 1: 2205 2:  3: Error \r\n"
	        "Error 1722. There is a problem with this Windows Installer package. A program "
	        "run as part of the setup did not finish as expected. Contact your support "
	        "personnel or package vendor.  Action DBInstall, location: C:\\Program "
	        "Files\\Cisco\\Bin\\DBInstall.exe, command: -upgrade SAPWD=%s\r\n"
	        "Action ended 22:31:07: InstallFinalize. Return value 3.\r\n"
	        "Action ended 22:31:07: INSTALL. Return value 3.\r\n"
	        "MSI (c) (A4:0C) [22:31:07:489]: MainEngineThread is returning 1603\r\n",
	        10 + variant, variant ? "Other0ne" : "Secr3tOne");
}

/* A shard of one folder holding MSIxxxx.LOG, its scan dated `started`. */
static char *shard_of_log(struct fixture *fx, const char *name, int variant, const char *started)
{
	char *logdir = tu_fmt("%s/logs", fx->dir);
	char *log = msi_log(variant);
	free(tu_write(logdir, "MSI3a1b.LOG", log, strlen(log)));
	char *db = tu_fmt("%s/%s", fx->dir, name);
	const char *paths[] = { logdir };
	scan_into(fx, db, paths, 1);
	char *sql = tu_fmt("UPDATE scans SET started = '%s', finished = '%s'", started, started);
	write_sql(db, sql);
	free(sql);
	free(log);
	free(logdir);
	return db;
}

static void a_changed_file_goes_to_the_newer_scan(void **state)
{
	struct fixture *fx = *state;
	char *old = shard_of_log(fx, "old.db", 0, "2026-01-05T10:00:00Z");
	char *new = shard_of_log(fx, "new.db", 1, "2026-01-06T10:00:00Z");
	char *new_hash = query(new, "SELECT hash FROM files");
	char *old_hash = query(old, "SELECT hash FROM files");
	assert_string_not_equal(new_hash, old_hash);

	/* Older first: the newer replaces it. */
	char *t1 = tu_fmt("%s/t1.db", fx->dir);
	const char *order1[] = { old, new };
	struct ul_merge_stats s1;
	merge(t1, order1, 2, &s1);
	assert_int_equal(s1.files, 2);
	assert_int_equal(s1.replaced, 1);
	assert_int_equal(s1.older, 0);
	/* Newer first: the older is left out. */
	char *t2 = tu_fmt("%s/t2.db", fx->dir);
	const char *order2[] = { new, old };
	struct ul_merge_stats s2;
	merge(t2, order2, 2, &s2);
	assert_int_equal(s2.files, 1);
	assert_int_equal(s2.replaced, 0);
	assert_int_equal(s2.older, 1);
	/* Either way the target holds the newer version alone, with its own findings. */
	char *h1 = query(t1, "SELECT hash FROM files"), *h2 = query(t2, "SELECT hash FROM files");
	assert_string_equal(h1, new_hash);
	assert_string_equal(h2, new_hash);
	char *f1 = query(t1, "SELECT f.line, f.text FROM findings f ORDER BY 1");
	char *f2 = query(t2, "SELECT f.line, f.text FROM findings f ORDER BY 1");
	char *fn = query(new, "SELECT f.line, f.text FROM findings f ORDER BY 1");
	assert_string_equal(f1, fn);
	assert_string_equal(f2, fn);
	assert_true(tu_contains(fn, "1722"));
	/* The verdict found its root-cause finding again in the copy. */
	char *v = query(t1, "SELECT f.code FROM verdicts v JOIN findings f ON f.id = v.finding_id");
	assert_string_equal(v, "1722\n");
	free(v);
	free(f1);
	free(f2);
	free(fn);
	free(h1);
	free(h2);
	free(t1);
	free(t2);
	free(new_hash);
	free(old_hash);
	free(old);
	free(new);
}

static void an_old_shards_secrets_are_masked(void **state)
{
	struct fixture *fx = *state;
	char *a = shard_of_log(fx, "a.db", 0, "2026-01-05T10:00:00Z");
	/* What an upglog that masked less would have stored. */
	write_sql(a, "UPDATE findings SET text = text || ' /p:DbPassword=Hunter2Secret',"
	             " context_before = 'DBPASSWORD=Hunter2Secret';"
	             "UPDATE verdicts SET reason = 'failed: PWD=Hunter2Secret';"
	             "UPDATE facts SET value = 'SAPWD=Hunter2Secret';"
	             "INSERT INTO facts (file_id, key, value, line) SELECT id, 'note',"
	             " 'SAPWD=Hunter2Secret', 1 FROM files;"
	             "UPDATE servers SET reason = 'Command Line: SAPWD=Hunter2Secret';"
	             "UPDATE scans SET arguments = '[\"scan\",\"--password=Hunter2Secret\"]'");
	char *raw = query(a, "SELECT text FROM findings");
	assert_true(tu_contains(raw, "Hunter2Secret"));
	char *target = tu_fmt("%s/target.db", fx->dir);
	const char *shards[] = { a };
	merge(target, shards, 1, NULL);
	static const char every_text[] =
	        "SELECT arguments FROM scans; SELECT text, action, title, captures, context_before,"
	        " context_after FROM findings; SELECT reason, action, product FROM verdicts;"
	        " SELECT reason FROM candidates; SELECT value FROM facts; SELECT reason, "
	        "role_evidence"
	        " FROM servers; SELECT text, advice FROM checks; SELECT error FROM files";
	char *all = query(target, every_text);
	assert_false(tu_contains(all, "Hunter2Secret"));
	assert_false(tu_contains(all, "Secr3tOne")); /* the log's own secret, masked by the scan */
	assert_true(tu_contains(all, "DbPassword=****"));
	assert_true(tu_contains(all, "PWD=****"));
	free(all);
	free(raw);
	free(target);
	free(a);
}

static void an_unreadable_file_is_never_the_same_content(void **state)
{
	struct fixture *fx = *state;
	/* A .gz that is not gzip: stored as corrupt, without a hash. */
	char *logdir = tu_fmt("%s/logs", fx->dir);
	free(tu_write(logdir, "MSI3a1b.LOG.gz", "\x1f\x8b\x08\x00not gzip at all", 20));
	char *bad = tu_fmt("%s/bad.db", fx->dir);
	const char *paths[] = { logdir };
	scan_into(fx, bad, paths, 1);
	write_sql(bad, "UPDATE scans SET started = '2026-01-05T10:00:00Z'");
	char *status = query(bad, "SELECT status, hash IS NULL FROM files");
	assert_string_equal(status, "corrupt|1\n");
	/* Twice: the second copy is not newer than the first, so it is left out. */
	char *target = tu_fmt("%s/target.db", fx->dir);
	const char *twice[] = { bad, bad };
	struct ul_merge_stats s;
	merge(target, twice, 2, &s);
	assert_int_equal(s.files, 1);
	assert_int_equal(s.present, 0);
	assert_int_equal(s.older, 1);
	assert_int_equal(count(target, "files"), 1);
	/* The same path read later, whole: it replaces the unreadable one. */
	size_t len;
	char *log = msi_log(0);
	unsigned char *gz = tu_gzip(log, strlen(log), 6, &len);
	free(tu_write(logdir, "MSI3a1b.LOG.gz", gz, len));
	char *good = tu_fmt("%s/good.db", fx->dir);
	scan_into(fx, good, paths, 1);
	write_sql(good, "UPDATE scans SET started = '2026-01-06T10:00:00Z'");
	const char *later[] = { good };
	merge(target, later, 1, &s);
	assert_int_equal(s.files, 1);
	assert_int_equal(s.replaced, 1);
	char *now = query(target, "SELECT status, hash IS NULL FROM files");
	assert_string_equal(now, "ok|0\n");
	free(now);
	free(good);
	free(gz);
	free(log);
	free(target);
	free(status);
	free(bad);
	free(logdir);
}

static void bad_shards_are_refused_with_their_reason(void **state)
{
	struct fixture *fx = *state;
	char *good = shard_of(fx, "pub01.db", "cluster/pub01");
	char *target = tu_fmt("%s/target.db", fx->dir);
	const char *shards[] = { good };
	merge(target, shards, 1, NULL);
	char *before = content(target);
	int64_t scans = count(target, "scans");

	char *missing = tu_fmt("%s/missing.db", fx->dir);
	char *text = tu_write(fx->dir, "notes.db", "not a database\r\n", 16);
	char *foreign = tu_fmt("%s/foreign.db", fx->dir);
	write_sql(foreign, "CREATE TABLE inventory (host TEXT)");
	char *empty = tu_write(fx->dir, "empty.db", "", 0);
	char *newer = shard_of(fx, "newer.db", "cluster/sub01");
	write_sql(newer, "PRAGMA user_version = 99");
	char *older = shard_of(fx, "older.db", "cluster/sub01");
	write_sql(older, "PRAGMA user_version = 1");
	struct {
		const char *path, *kind, *says;
	} cases[] = {
		{ missing, "missing", "No such file" },
		{ text, "not-database", "notes.db" },
		{ foreign, "not-upglog", "other tables" },
		{ empty, "not-upglog", "no schema" },
		{ newer, "newer", "newer than this upglog" },
		{ older, "older", "upgrade the shard first" },
		{ target, "same", "target database itself" },
		{ fx->dir, "not-database", "folder" },
	};
	struct ul_error err;
	struct ul_store *st = ul_store_open(target, UL_STORE_WRITE, &err);
	assert_non_null(st);
	struct ul_merge *m = ul_store_merge_begin(st, &err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ul_merge_stats s;
		ul_error_clear(&err);
		assert_false(ul_store_merge_shard(m, cases[i].path, &s, &err));
		assert_string_equal(err.kind, cases[i].kind);
		/* One line that names the shard and says why. */
		assert_true(tu_contains(err.msg, cases[i].path));
		if (!tu_contains(err.msg, cases[i].says))
			fail_msg("%s: '%s' does not say '%s'", cases[i].path, err.msg,
			         cases[i].says);
		assert_null(strchr(err.msg, '\n'));
	}
	int64_t id = -1;
	assert_true(ul_store_merge_end(m, "test", "[]", &id, &err));
	assert_int_equal(id, 0); /* nothing merged: no scan of its own */
	ul_store_merge_free(m);
	ul_store_close(st);
	assert_int_equal(count(target, "scans"), scans);
	char *after = content(target);
	assert_string_equal(after, before);
	free(after);
	free(before);
	free(missing);
	free(text);
	free(foreign);
	free(empty);
	free(newer);
	free(older);
	free(good);
	free(target);
}

static void a_failed_merge_leaves_the_target_as_it_was(void **state)
{
	struct fixture *fx = *state;
	char *a = shard_of(fx, "pub01.db", "cluster/pub01");
	char *b = shard_of(fx, "sub01.db", "cluster/sub01");
	char *target = tu_fmt("%s/target.db", fx->dir);
	const char *first[] = { a };
	merge(target, first, 1, NULL);
	/* The target refuses the last rows the merge writes (servers, after files and
	 * findings): the whole shard must go. */
	write_sql(target, "CREATE TRIGGER no_servers BEFORE INSERT ON servers"
	                  " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	char *before = content(target);
	int64_t scans = count(target, "scans"), findings = count(target, "findings");
	struct ul_error err;
	struct ul_store *st = ul_store_open(target, UL_STORE_WRITE, &err);
	assert_non_null(st);
	struct ul_merge *m = ul_store_merge_begin(st, &err);
	struct ul_merge_stats s;
	assert_false(ul_store_merge_shard(m, b, &s, &err));
	assert_string_equal(err.kind, "store");
	assert_true(tu_contains(err.msg, target));
	assert_true(tu_contains(err.msg, "refused by the test"));
	ul_store_merge_free(m);
	ul_store_close(st);
	assert_int_equal(count(target, "scans"), scans);
	assert_int_equal(count(target, "findings"), findings);
	char *after = content(target);
	assert_string_equal(after, before);
	free(after);
	free(before);
	free(a);
	free(b);
	free(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(two_shards_equal_one_scan_of_both, setup, teardown),
		cmocka_unit_test_setup_teardown(the_same_shard_twice_adds_no_file, setup, teardown),
		cmocka_unit_test_setup_teardown(a_changed_file_goes_to_the_newer_scan, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(an_old_shards_secrets_are_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unreadable_file_is_never_the_same_content, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(bad_shards_are_refused_with_their_reason, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(a_failed_merge_leaves_the_target_as_it_was, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
