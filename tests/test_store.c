/* SPDX-License-Identifier: MIT */
/*
 * store: schema, one transaction per file, replacement, re-scan bookkeeping, read-only SQL.
 * The cases run on SQLite; when UPGLOG_TEST_PG holds a libpq connection string, the cases that
 * are not about SQLite files run on that PostgreSQL database as well, each on a fresh schema
 * (the schema `public` of that database is dropped: give it a database of its own).
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
#include "upglog/store.h"

static const char rules[] = "rule s.error\n"
                            "  severity error\n  family any\n  code 1722\n"
                            "  match ^Error (?<code>\\d+)\n"
                            "  title Error {code}\n  fix Look at the program's own log.\n"
                            "  sample Error 1722. x\n"
                            "rule s.noise\n"
                            "  severity noise\n  family any\n  code 2205\n"
                            "  match Note: 1: 2205\n"
                            "  sample Note: 1: 2205 2:\n";

struct fixture {
	struct ul_catalog *cat;
	struct ul_store *st;
	int64_t scan;
	char dir[64];
};

/* The PostgreSQL database while the PostgreSQL group runs, else NULL (SQLite in memory). */
static const char *pg_conn;

/* A PostgreSQL store on an empty schema, with a scan of `cat` begun. */
static struct ul_store *fresh_pg_store(struct ul_catalog *cat, int64_t *scan)
{
	struct ul_error err;
	struct ul_store *st = ul_store_open(pg_conn, UL_STORE_CREATE, &err);
	if (!st)
		fail_msg("%s", err.msg);
	if (!ul_store_query(st, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", NULL, NULL,
	                    &err))
		fail_msg("%s", err.msg);
	ul_store_close(st);
	if (!(st = ul_store_open(pg_conn, UL_STORE_CREATE, &err)))
		fail_msg("%s", err.msg);
	assert_true(ul_store_begin_scan(st, "test", "[]", cat, scan, &err));
	return st;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->cat = tu_catalog("s.rules", rules, sizeof(rules) - 1);
	fx->st = pg_conn ? fresh_pg_store(fx->cat, &fx->scan) : tu_memory_store(fx->cat, &fx->scan);
	*state = fx;
	return 0;
}

/* The same question in each engine's words. */
static const char *sql_for(const char *sqlite, const char *postgres)
{
	return pg_conn ? postgres : sqlite;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	ul_store_close(fx->st);
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

/* First column of the first row of `sql`, as text ("" when no row, "NULL" for NULL). */
struct one {
	char v[256];
	int rows;
};

static bool take_one(void *ctx, int ncols, const char *const *names, const char *const *values)
{
	struct one *o = ctx;
	(void)names;
	if (o->rows++ == 0 && ncols > 0)
		snprintf(o->v, sizeof(o->v), "%s", values[0] ? values[0] : "NULL");
	return true;
}

static const char *q(struct ul_store *st, const char *sql)
{
	static struct one o;
	struct ul_error err;
	memset(&o, 0, sizeof(o));
	if (!ul_store_query(st, sql, take_one, &o, &err))
		fail_msg("%s: %s", sql, err.msg);
	return o.v;
}

static struct ul_file_row row(struct fixture *fx, int64_t source, const char *path)
{
	return (struct ul_file_row){
		.scan_id = fx->scan,
		.source_id = source,
		.path = path,
		.location = "other",
		.family = "msi",
		.encoding = "utf-16le",
		.size = 100,
		.mtime = 1000,
		.bytes = 100,
		.lines = 3,
		.hash = "0123456789abcdef",
		.status = "ok",
	};
}

/* Store a file with content hash `hash`, one error finding on `line`, one noise tally and a
 * failed verdict. */
static int64_t store_file_hash(struct fixture *fx, int64_t source, const char *path, uint64_t line,
                               const char *hash)
{
	struct ul_error err;
	struct ul_file_row r = row(fx, source, path);
	r.hash = hash;
	int64_t id;
	assert_true(ul_store_file_begin(fx->st, &r, &id, &err));
	struct ul_finding f = {
		.line = line,
		.offset = 40,
		.ts = "2005-03-14T22:50:01",
		.rule = 1,
		.severity = UL_SEV_ERROR,
		.code = "1722",
		.action = "InstallFinalize",
		.text = "Error 1722. x",
		.title = "Error 1722",
		.before = "a\nb",
		.after = "c",
	};
	f.rule = (uint32_t)ul_catalog_find(fx->cat, "s.error");
	assert_true(ul_store_finding(fx->st, id, fx->cat, &f, &err));
	struct ul_tally t = { .rule = (uint32_t)ul_catalog_find(fx->cat, "s.noise"),
		              .count = 41,
		              .first_line = 1,
		              .last_line = 3 };
	struct ul_verdict v = { .outcome = UL_OUT_FAILED,
		                .root_line = line,
		                .has_exit = true,
		                .exit_code = 1603,
		                .ncandidates = 2 };
	snprintf(v.action, sizeof(v.action), "InstallFinalize");
	snprintf(v.reason, sizeof(v.reason), "the installer returned 1603");
	snprintf(v.host, sizeof(v.host), "PUB01");
	v.candidates[0].line = line;
	snprintf(v.candidates[0].reason, sizeof(v.candidates[0].reason), "first");
	v.candidates[1].line = 99; /* not a finding */
	snprintf(v.candidates[1].reason, sizeof(v.candidates[1].reason), "second");
	assert_true(ul_store_file_end(fx->st, id, &r, fx->cat, &t, 1, &v, &err));
	return id;
}

static int64_t store_file(struct fixture *fx, int64_t source, const char *path, uint64_t line)
{
	return store_file_hash(fx, source, path, line, "0123456789abcdef");
}

static int64_t source(struct fixture *fx, const char *path, const char *kind)
{
	struct ul_error err;
	int64_t id;
	assert_true(ul_store_source(fx->st, fx->scan, path, kind, 500, 2000, false, &id, &err));
	return id;
}

static void schema_version_and_tables(void **state)
{
	struct fixture *fx = *state;
	if (!pg_conn)
		assert_string_equal(q(fx->st, "PRAGMA user_version"), "2");
	const char *names[] = { "scans",      "sources",    "files",     "findings",
		                "rule_hits",  "rules",      "verdicts",  "candidates",
		                "v_findings", "v_failures", "v_noise",   "facts",
		                "servers",    "checks",     "v_servers", "v_failed_servers",
		                "v_checks" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char sql[128];
		if (pg_conn)
			snprintf(sql, sizeof(sql),
			         "SELECT count(*) FROM information_schema.tables"
			         " WHERE table_schema = current_schema() AND table_name = '%s'",
			         names[i]);
		else
			snprintf(sql, sizeof(sql),
			         "SELECT count(*) FROM sqlite_schema WHERE name = '%s'", names[i]);
		assert_string_equal(q(fx->st, sql), "1");
	}
	assert_string_equal(q(fx->st, "SELECT count(*) FROM rules"), "2");
	assert_string_equal(q(fx->st, "SELECT code FROM rules WHERE rule_id = 's.noise'"), "2205");
	assert_string_equal(q(fx->st, "SELECT tool_version FROM scans"), "test");
}

static void a_file_with_its_findings_and_verdict(void **state)
{
	struct fixture *fx = *state;
	int64_t src = source(fx, "/b/pub01.zip", "zip");
	store_file(fx, src, "/b/pub01.zip!C/x.log", 2);
	assert_string_equal(q(fx->st, "SELECT count(*) FROM findings"), "1");
	assert_string_equal(q(fx->st, "SELECT level FROM findings"), "3");
	assert_string_equal(q(fx->st, "SELECT title FROM findings"), "Error 1722");
	assert_string_equal(q(fx->st, "SELECT count FROM rule_hits"), "41");
	assert_string_equal(q(fx->st, "SELECT CASE WHEN v.finding_id = f.id THEN 1 ELSE 0 END"
	                              " FROM verdicts v, findings f"),
	                    "1");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM candidates"), "2");
	assert_string_equal(q(fx->st, "SELECT finding_id FROM candidates WHERE rank = 2"), "NULL");
	assert_string_equal(q(fx->st, "SELECT file || ':' || line FROM v_failures"),
	                    "/b/pub01.zip!C/x.log:2");
	assert_string_equal(q(fx->st, "SELECT count FROM v_noise"), "41");
	assert_string_equal(q(fx->st, "SELECT fix FROM v_findings"),
	                    "Look at the program's own log.");
}

static void rescanning_a_path_replaces_its_rows(void **state)
{
	struct fixture *fx = *state;
	int64_t src = source(fx, "/b/dir", "dir");
	store_file(fx, src, "/b/dir/x.log", 2);
	store_file_hash(fx, src, "/b/dir/x.log", 3, "fedcba9876543210"); /* new content */
	assert_string_equal(q(fx->st, "SELECT count(*) FROM files"), "1");
	assert_string_equal(q(fx->st, sql_for("SELECT group_concat(line) FROM findings",
	                                      "SELECT string_agg(CAST(line AS TEXT), ',')"
	                                      " FROM findings")),
	                    "3");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM verdicts"), "1");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM candidates"), "2");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM rule_hits"), "1");
}

/*
 * A file whose replaced row has the same content hash, read without error by the same
 * catalogue and upglog (another scanner stored it while this one read it): the stored row and
 * its findings stay, attached to this scan; one row for the path.
 */
static void same_content_keeps_the_stored_rows(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src = source(fx, "/b/dir", "dir");
	int64_t first = store_file(fx, src, "/b/dir/x.log", 2);
	int64_t scan2;
	assert_true(ul_store_begin_scan(fx->st, "test", "[]", fx->cat, &scan2, &err));
	fx->scan = scan2;
	store_file(fx, src, "/b/dir/x.log", 3);
	assert_string_equal(q(fx->st, "SELECT count(*) FROM files"), "1");
	char want[64];
	snprintf(want, sizeof(want), "%lld %lld", (long long)first, (long long)scan2);
	assert_string_equal(q(fx->st, "SELECT id || ' ' || scan_id FROM files"), want);
	assert_string_equal(q(fx->st, "SELECT count(*) || ' ' || min(line) FROM findings"), "1 2");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM verdicts"), "1");
	/* Another upglog or catalogue stored it: its rows are replaced. */
	assert_true(ul_store_begin_scan(fx->st, "test", "[]", fx->cat, &fx->scan, &err));
	snprintf(want, sizeof(want), "UPDATE scans SET tool_version = 'old' WHERE id = %lld",
	         (long long)scan2);
	assert_true(ul_store_query(fx->st, want, NULL, NULL, &err));
	store_file(fx, src, "/b/dir/x.log", 3);
	assert_string_equal(q(fx->st, "SELECT count(*) || ' ' || min(line) FROM findings"), "1 3");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM files"), "1");
}

static void an_aborted_file_leaves_nothing(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src = source(fx, "/b/dir", "dir");
	struct ul_file_row r = row(fx, src, "/b/dir/y.log");
	int64_t id;
	assert_true(ul_store_file_begin(fx->st, &r, &id, &err));
	ul_store_file_abort(fx->st);
	assert_string_equal(q(fx->st, "SELECT count(*) FROM files"), "0");
}

static void unreadable_files_are_recorded(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src = source(fx, "/b/dir", "dir");
	struct ul_file_row r = row(fx, src, "/b/dir/bad.log.gz");
	r.status = "truncated";
	r.error = "/b/dir/bad.log.gz: gzip stream ends early";
	assert_true(ul_store_file_failed(fx->st, &r, &err));
	assert_string_equal(q(fx->st, "SELECT status || '|' || error FROM files"),
	                    "truncated|/b/dir/bad.log.gz: gzip stream ends early");
}

static void lookup_and_keep(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_known k;
	int64_t src = source(fx, "/b/dir", "dir");
	assert_true(ul_store_lookup(fx->st, "/b/dir/x.log", &k, &err));
	assert_false(k.found);
	store_file(fx, src, "/b/dir/x.log", 2);
	assert_true(ul_store_lookup(fx->st, "/b/dir/x.log", &k, &err));
	assert_true(k.found);
	assert_true(k.ok);
	assert_int_equal(k.size, 100);
	assert_int_equal(k.mtime, 1000);
	assert_string_equal(k.hash, "0123456789abcdef");
	int64_t scan2;
	assert_true(ul_store_begin_scan(fx->st, "test", "[]", fx->cat, &scan2, &err));
	assert_true(ul_store_keep(fx->st, scan2, src, "/b/dir/x.log", &err));
	assert_string_equal(q(fx->st, "SELECT scan_id FROM files"), "2");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM findings"), "1");
}

static void unchanged_container_and_stale_files(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	bool same;
	int64_t src = source(fx, "/b/pub01.zip", "zip");
	store_file(fx, src, "/b/pub01.zip!a.log", 2);
	store_file(fx, src, "/b/pub01.zip!b.log", 2);
	/* Not complete yet: must be read again. */
	assert_true(
	        ul_store_source_unchanged(fx->st, "/b/pub01.zip", "zip", 500, 2000, &same, &err));
	assert_false(same);
	assert_true(ul_store_source_done(fx->st, fx->scan, src, true, &err));
	assert_string_equal(q(fx->st, "SELECT host FROM sources"), "PUB01");
	assert_true(
	        ul_store_source_unchanged(fx->st, "/b/pub01.zip", "zip", 500, 2000, &same, &err));
	assert_true(same);
	assert_true(
	        ul_store_source_unchanged(fx->st, "/b/pub01.zip", "zip", 501, 2000, &same, &err));
	assert_false(same);
	assert_true(ul_store_source_unchanged(fx->st, "/b/dir", "dir", 0, 0, &same, &err));
	assert_false(same);

	/* A later scan reads the bundle again and sees only a.log: b.log goes. */
	int64_t scan2, src2;
	assert_true(ul_store_begin_scan(fx->st, "test", "[]", fx->cat, &scan2, &err));
	assert_true(ul_store_source(fx->st, scan2, "/b/pub01.zip", "zip", 501, 2001, false, &src2,
	                            &err));
	assert_int_equal(src2, src);
	fx->scan = scan2;
	store_file(fx, src, "/b/pub01.zip!a.log", 2);
	assert_true(ul_store_source_done(fx->st, scan2, src, true, &err));
	assert_string_equal(q(fx->st, sql_for("SELECT group_concat(path) FROM files",
	                                      "SELECT string_agg(path, ',') FROM files")),
	                    "/b/pub01.zip!a.log");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM findings"), "1");
}

struct fv_ctx {
	int files;
	int64_t root_line;
	size_t ncand;
	char cand2[32];
};

static bool on_file(void *ctx, const struct ul_file_view *f)
{
	struct fv_ctx *c = ctx;
	c->files++;
	assert_string_equal(f->outcome, "failed");
	assert_true(f->has_root);
	c->root_line = f->root.line;
	assert_string_equal(f->root.text, "Error 1722. x");
	assert_string_equal(f->root.before, "a\nb");
	assert_string_equal(f->root.fix, "Look at the program's own log.");
	c->ncand = f->ncandidates;
	snprintf(c->cand2, sizeof(c->cand2), "%s", f->candidates[1].reason);
	assert_false(f->candidates[1].has_finding);
	assert_true(f->candidates[0].has_finding);
	return true;
}

static bool on_noise(void *ctx, const char *rule, const char *code, uint64_t count)
{
	(void)rule;
	assert_string_equal(code, "2205");
	*(uint64_t *)ctx += count;
	return true;
}

static void report_reads(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src = source(fx, "/b/pub01.zip", "zip");
	store_file(fx, src, "/b/pub01.zip!C/x.log", 2);
	struct fv_ctx c = { 0 };
	assert_true(ul_store_each_file(fx->st, fx->scan, on_file, &c, &err));
	assert_int_equal(c.files, 1);
	assert_int_equal(c.root_line, 2);
	assert_int_equal(c.ncand, 2);
	assert_string_equal(c.cand2, "second");
	uint64_t counts[UL_SEV_COUNT];
	assert_true(ul_store_counts(fx->st, fx->scan, counts, &err));
	assert_int_equal(counts[UL_SEV_NOISE], 41);
	uint64_t noise = 0;
	assert_true(ul_store_each_noise(fx->st, fx->scan, on_noise, &noise, &err));
	assert_int_equal(noise, 41);
	int64_t latest;
	assert_true(ul_store_latest_scan(fx->st, &latest, &err));
	assert_int_equal(latest, fx->scan);
	assert_true(ul_store_check(fx->st, &err));
}

static char *temp_db(char *buf, size_t cap)
{
	const char *dir = getenv("TMPDIR");
	snprintf(buf, cap, "%s/upglog-store-XXXXXX", dir ? dir : P_tmpdir);
	int fd = mkstemp(buf);
	assert_true(fd >= 0);
	close(fd);
	unlink(buf); /* let SQLite create it */
	return buf;
}

static void remove_db(const char *path)
{
	char p[600];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void read_only_refuses_writes(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	char path[512];
	temp_db(path, sizeof(path));
	struct ul_store *w = ul_store_open(path, UL_STORE_CREATE, &err);
	assert_non_null(w);
	int64_t scan;
	assert_true(ul_store_begin_scan(w, "t", "[]", fx->cat, &scan, &err));
	ul_store_close(w);

	struct ul_store *r = ul_store_open(path, UL_STORE_READONLY, &err);
	assert_non_null(r);
	assert_string_equal(q(r, "SELECT count(*) FROM scans"), "1");
	struct one o = { 0 };
	assert_false(ul_store_query(r, "DELETE FROM scans", take_one, &o, &err));
	assert_non_null(strstr(err.msg, "--write"));
	assert_false(ul_store_query(r, "SELECT count(*) FROM scans; DROP TABLE scans", take_one, &o,
	                            &err));
	assert_false(ul_store_query(r, "SELEC nonsense", take_one, &o, &err));
	assert_non_null(strstr(err.msg, "SQL error"));
	ul_store_close(r);

	struct ul_store *rw = ul_store_open(path, UL_STORE_WRITE, &err);
	assert_non_null(rw);
	assert_true(ul_store_query(rw, "DELETE FROM scans WHERE id = 1", take_one, &o, &err));
	assert_string_equal(q(rw, "SELECT count(*) FROM scans"), "0");
	ul_store_close(rw);
	remove_db(path);
}

/* The v1 schema as upglog created it (tests/data/schema-v1.sql), with rows in it. */
static void make_v1(const char *path)
{
	const char *root = getenv("UPGLOG_SOURCE_ROOT");
	char file[1024];
	snprintf(file, sizeof(file), "%s/tests/data/schema-v1.sql", root ? root : ".");
	FILE *f = fopen(file, "rb");
	assert_non_null(f);
	static char sql[65536];
	size_t n = fread(sql, 1, sizeof(sql) - 1, f);
	fclose(f);
	sql[n] = '\0';
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	static const char rows[] =
	        "INSERT INTO scans VALUES (1, '2026-01-01T00:00:00Z', NULL, 'v1', 'h', '[]');"
	        "INSERT INTO sources VALUES (1, 1, '/b/pub01.zip', 'zip', NULL, 5, 6, 1);"
	        "INSERT INTO files (id, source_id, scan_id, path, location, status, hash, mtime)"
	        " VALUES (1, 1, 1, '/b/pub01.zip!x.log', 'other', 'ok', 'abc', 7);"
	        "INSERT INTO verdicts (file_id, outcome, reason) VALUES (1, 'failed', 'old');";
	assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void a_version_1_database_upgrades_in_place(void **state)
{
	(void)state;
	struct ul_error err;
	char path[512];
	temp_db(path, sizeof(path));
	make_v1(path);
	/* Read-only: refused with the way out. */
	assert_null(ul_store_open(path, UL_STORE_READONLY, &err));
	assert_non_null(strstr(err.msg, "v1"));
	struct ul_store *st = ul_store_open(path, UL_STORE_WRITE, &err);
	assert_non_null(st);
	assert_string_equal(q(st, "PRAGMA user_version"), "2");
	assert_string_equal(q(st, "SELECT reason FROM verdicts"), "old");
	assert_string_equal(q(st, "SELECT coalesce(host, 'none') FROM files"), "none");
	/* ... and its files are read again on their next scan, to get their host and facts. */
	assert_string_equal(
	        q(st, "SELECT coalesce(hash, 'none') || coalesce(mtime, '-') FROM files"), "none-");
	assert_string_equal(q(st, "SELECT complete FROM sources"), "0");
	assert_string_equal(q(st, "SELECT count(*) FROM v_servers"), "0");
	assert_string_equal(q(st, "SELECT count(*) FROM facts"), "0");
	assert_string_equal(q(st, "PRAGMA integrity_check"), "ok");
	ul_store_close(st);
	/* Opening again leaves it as it is. */
	st = ul_store_open(path, UL_STORE_READONLY, &err);
	assert_non_null(st);
	assert_string_equal(q(st, "PRAGMA user_version"), "2");
	ul_store_close(st);
	remove_db(path);
}

static void facts_hosts_servers_and_checks(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src;
	assert_true(
	        ul_store_source(fx->st, fx->scan, "/b/sub01-logs", "dir", 0, 1, false, &src, &err));
	struct ul_file_row r = row(fx, src, "/b/sub01-logs/a.log");
	int64_t a, b;
	assert_true(ul_store_file_begin(fx->st, &r, &a, &err));
	struct ul_verdict v = { .outcome = UL_OUT_SUCCEEDED, .nfacts = 1 };
	snprintf(v.host, sizeof(v.host), "SUB01");
	snprintf(v.finished, sizeof(v.finished), "2005-03-19T21:00:00");
	snprintf(v.facts[0].key, sizeof(v.facts[0].key), "host");
	snprintf(v.facts[0].value, sizeof(v.facts[0].value), "SUB01");
	v.facts[0].line = 4;
	assert_true(ul_store_file_end(fx->st, a, &r, fx->cat, NULL, 0, &v, &err));
	r = row(fx, src, "/b/sub01-logs/b.log");
	assert_true(ul_store_file_begin(fx->st, &r, &b, &err));
	struct ul_verdict w = { .outcome = UL_OUT_UNKNOWN };
	assert_true(ul_store_file_end(fx->st, b, &r, fx->cat, NULL, 0, &w, &err));
	assert_true(ul_store_source_done(fx->st, fx->scan, src, true, &err));
	/* The logs' host wins over --host and over the input's name. */
	assert_true(ul_store_source_host(fx->st, src, "GIVEN", "SUB99", &err));
	assert_string_equal(q(fx->st, "SELECT host FROM sources"), "SUB01");
	assert_string_equal(q(fx->st, "SELECT host || ' ' || host_from FROM files WHERE path LIKE"
	                              " '%b.log'"),
	                    "SUB01 bundle");
	assert_string_equal(q(fx->st, "SELECT host FROM verdicts WHERE file_id = 2"), "SUB01");
	assert_string_equal(q(fx->st, "SELECT key || '=' || value || '@' || line FROM facts"),
	                    "host=SUB01@4");
	assert_string_equal(q(fx->st, "SELECT finished FROM verdicts WHERE file_id = 1"),
	                    "2005-03-19T21:00:00");

	struct ul_server_row sr = { .host = "SUB01",
		                    .role = "subscriber",
		                    .outcome = "failed",
		                    .reason = "SUB01 failed",
		                    .file_id = a,
		                    .line = 3 };
	struct ul_check_row cr = { .name = "domain-controller",
		                   .severity = "error",
		                   .host = "SUB01",
		                   .file_id = a,
		                   .line = 4,
		                   .text = "DC",
		                   .advice = "demote",
		                   .evidence = "verified" };
	assert_true(ul_store_write_cluster(fx->st, fx->scan, &sr, 1, &cr, 1, &err));
	/* Written twice: replaced, not added. */
	assert_true(ul_store_write_cluster(fx->st, fx->scan, &sr, 1, &cr, 1, &err));
	assert_string_equal(q(fx->st, "SELECT count(*) FROM servers"), "1");
	assert_string_equal(q(fx->st, "SELECT host || ' ' || outcome FROM v_failed_servers"),
	                    "SUB01 failed");
	assert_string_equal(q(fx->st, "SELECT name || ' ' || hosts || ' ' || line FROM v_checks"),
	                    "domain-controller SUB01 4");

	/* What a log wrote is masked in facts, servers and checks as everywhere (mask.h). */
	r = row(fx, src, "/b/sub01-logs/c.log");
	int64_t c;
	assert_true(ul_store_file_begin(fx->st, &r, &c, &err));
	struct ul_verdict x = { .outcome = UL_OUT_SUCCEEDED, .nfacts = 1 };
	snprintf(x.facts[0].key, sizeof(x.facts[0].key), "db");
	snprintf(x.facts[0].value, sizeof(x.facts[0].value), "server=PUB01;PWD=Sesame07");
	x.facts[0].line = 2;
	assert_true(ul_store_file_end(fx->st, c, &r, fx->cat, NULL, 0, &x, &err));
	assert_string_equal(q(fx->st, "SELECT value FROM facts WHERE key = 'db'"),
	                    "server=PUB01;PWD=****");
	sr.reason = "osql -U sa -P Sesame08 failed";
	cr.text = "Command Line: SAPWD=Sesame09";
	cr.advice = "reset CCMPWD=Sesame10";
	assert_true(ul_store_write_cluster(fx->st, fx->scan, &sr, 1, &cr, 1, &err));
	assert_string_equal(q(fx->st, "SELECT reason FROM servers"), "osql -U sa -P **** failed");
	assert_string_equal(q(fx->st, "SELECT text || ' / ' || advice FROM checks"),
	                    "Command Line: SAPWD=**** / reset CCMPWD=****");

	/* A file the rows point at is gone (a concurrent scan stored it again): nothing is
	 * written, the caller is told to build again, the rows before stay. */
	sr.file_id = c + 1000;
	assert_false(ul_store_write_cluster(fx->st, fx->scan, &sr, 1, &cr, 1, &err));
	assert_string_equal(err.kind, "stale");
	sr.file_id = a;
	cr.file_id = c + 1000;
	assert_false(ul_store_write_cluster(fx->st, fx->scan, &sr, 1, &cr, 1, &err));
	assert_string_equal(err.kind, "stale");
	assert_string_equal(q(fx->st, "SELECT reason FROM servers"), "osql -U sa -P **** failed");
	assert_string_equal(q(fx->st, "SELECT count(*) FROM checks"), "1");
}

static void foreign_and_newer_databases_are_refused(void **state)
{
	(void)state;
	struct ul_error err;
	char path[512];
	temp_db(path, sizeof(path));
	struct ul_store *w = ul_store_open(path, UL_STORE_CREATE, &err);
	assert_non_null(w);
	struct one o = { 0 };
	assert_true(ul_store_query(w, "PRAGMA user_version = 7", take_one, &o, &err));
	ul_store_close(w);
	assert_null(ul_store_open(path, UL_STORE_CREATE, &err));
	assert_non_null(strstr(err.msg, "newer"));
	assert_non_null(strstr(err.msg, path));
	remove_db(path);

	/* A missing database is not created by a read-only open. */
	assert_null(ul_store_open(path, UL_STORE_READONLY, &err));
	assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
	/* The store's logic: on every engine. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(schema_version_and_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(a_file_with_its_findings_and_verdict, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(rescanning_a_path_replaces_its_rows, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(same_content_keeps_the_stored_rows, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(an_aborted_file_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_files_are_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(lookup_and_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(unchanged_container_and_stale_files, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(report_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(facts_hosts_servers_and_checks, setup, teardown),
	};
	/* SQLite files: permissions, the read-only guard, upgrading old files, user_version. */
	const struct CMUnitTest sqlite_files[] = {
		cmocka_unit_test_setup_teardown(read_only_refuses_writes, setup, teardown),
		cmocka_unit_test(a_version_1_database_upgrades_in_place),
		cmocka_unit_test_setup_teardown(foreign_and_newer_databases_are_refused, setup,
		                                teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("sqlite files", sqlite_files, NULL, NULL);
	const char *pg = getenv("UPGLOG_TEST_PG");
	if (pg && *pg) {
		pg_conn = pg;
		failed += cmocka_run_group_tests_name("postgresql", tests, NULL, NULL);
		pg_conn = NULL;
	}
	return failed;
}
