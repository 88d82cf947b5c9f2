/* SPDX-License-Identifier: MIT */
/*
 * store: the store's logic, written once against the private SQL driver (src/store_db.h) that
 * SQLite and PostgreSQL implement. See include/upglog/store.h; the schema is documented in
 * README.md.
 */
#include "upglog/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_db.h"
#include "store_int.h"
#include "upglog/mask.h"

/*
 * The schema, written once for both engines: ID is the type of every table's key and INT of
 * every integer column. SQLite: INTEGER PRIMARY KEY (the rowid) and INTEGER; PostgreSQL: an
 * identity column and BIGINT (its INTEGER has 32 bits). Step 0 -> 1:
 */
#define SCHEMA_V1(ID, INT)                                                                        \
	"CREATE TABLE scans (\n"                                                                  \
	"  id " ID ",\n"                                                                          \
	"  started TEXT NOT NULL,\n"                                                              \
	"  finished TEXT,\n"                                                                      \
	"  tool_version TEXT NOT NULL,\n"                                                         \
	"  catalogue_hash TEXT NOT NULL,\n"                                                       \
	"  arguments TEXT NOT NULL\n"                                                             \
	");\n"                                                                                    \
	"CREATE TABLE sources (\n"                                                                \
	"  id " ID ",\n"                                                                          \
	"  scan_id " INT " NOT NULL REFERENCES scans(id),\n"                                      \
	"  path TEXT NOT NULL UNIQUE,\n"                                                          \
	"  kind TEXT NOT NULL,\n"                                                                 \
	"  host TEXT,\n"                                                                          \
	"  size " INT ",\n"                                                                       \
	"  mtime " INT ",\n"                                                                      \
	"  complete " INT " NOT NULL DEFAULT 0\n"                                                 \
	");\n"                                                                                    \
	"CREATE TABLE files (\n"                                                                  \
	"  id " ID ",\n"                                                                          \
	"  source_id " INT " NOT NULL REFERENCES sources(id),\n"                                  \
	"  scan_id " INT " NOT NULL REFERENCES scans(id),\n"                                      \
	"  path TEXT NOT NULL UNIQUE,\n"                                                          \
	"  location TEXT NOT NULL,\n"                                                             \
	"  family TEXT,\n"                                                                        \
	"  encoding TEXT,\n"                                                                      \
	"  size " INT ",\n"                                                                       \
	"  mtime " INT ",\n"                                                                      \
	"  bytes " INT ",\n"                                                                      \
	"  lines " INT ",\n"                                                                      \
	"  cut_lines " INT " NOT NULL DEFAULT 0,\n"                                               \
	"  replaced " INT " NOT NULL DEFAULT 0,\n"                                                \
	"  hash TEXT,\n"                                                                          \
	"  status TEXT NOT NULL,\n"                                                               \
	"  error TEXT\n"                                                                          \
	");\n"                                                                                    \
	"CREATE INDEX files_source ON files(source_id);\n"                                        \
	"CREATE TABLE rules (\n"                                                                  \
	"  id " ID ",\n"                                                                          \
	"  rule_id TEXT NOT NULL UNIQUE,\n"                                                       \
	"  rank " INT " NOT NULL,\n"                                                              \
	"  severity TEXT NOT NULL,\n"                                                             \
	"  family TEXT NOT NULL,\n"                                                               \
	"  event TEXT,\n"                                                                         \
	"  priority " INT " NOT NULL,\n"                                                          \
	"  code TEXT,\n"                                                                          \
	"  evidence TEXT NOT NULL,\n"                                                             \
	"  title TEXT NOT NULL,\n"                                                                \
	"  explain TEXT NOT NULL,\n"                                                              \
	"  fix TEXT NOT NULL,\n"                                                                  \
	"  pattern TEXT NOT NULL,\n"                                                              \
	"  origin TEXT NOT NULL\n"                                                                \
	");\n"                                                                                    \
	"CREATE TABLE findings (\n"                                                               \
	"  id " ID ",\n"                                                                          \
	"  file_id " INT " NOT NULL REFERENCES files(id) ON DELETE CASCADE,\n"                    \
	"  line " INT " NOT NULL,\n"                                                              \
	"  \"offset\" " INT " NOT NULL,\n"                                                        \
	"  ts TEXT,\n"                                                                            \
	"  rule_id TEXT NOT NULL,\n"                                                              \
	"  severity TEXT NOT NULL,\n"                                                             \
	"  level " INT " NOT NULL,\n"                                                             \
	"  code TEXT,\n"                                                                          \
	"  action TEXT,\n"                                                                        \
	"  text TEXT NOT NULL,\n"                                                                 \
	"  title TEXT,\n"                                                                         \
	"  captures TEXT,\n"                                                                      \
	"  context_before TEXT,\n"                                                                \
	"  context_after TEXT,\n"                                                                 \
	"  UNIQUE(file_id, line)\n"                                                               \
	");\n"                                                                                    \
	"CREATE INDEX findings_level ON findings(level, file_id);\n"                              \
	"CREATE TABLE rule_hits (\n"                                                              \
	"  id " ID ",\n"                                                                          \
	"  file_id " INT " NOT NULL REFERENCES files(id) ON DELETE CASCADE,\n"                    \
	"  rule_id TEXT NOT NULL,\n"                                                              \
	"  severity TEXT NOT NULL,\n"                                                             \
	"  count " INT " NOT NULL,\n"                                                             \
	"  first_line " INT " NOT NULL,\n"                                                        \
	"  last_line " INT " NOT NULL,\n"                                                         \
	"  UNIQUE(file_id, rule_id)\n"                                                            \
	");\n"                                                                                    \
	"CREATE TABLE verdicts (\n"                                                               \
	"  id " ID ",\n"                                                                          \
	"  file_id " INT " NOT NULL UNIQUE REFERENCES files(id) ON DELETE CASCADE,\n"             \
	"  outcome TEXT NOT NULL,\n"                                                              \
	"  finding_id " INT " REFERENCES findings(id) ON DELETE SET NULL,\n"                      \
	"  root_line " INT ",\n"                                                                  \
	"  action TEXT,\n"                                                                        \
	"  exit_code " INT ",\n"                                                                  \
	"  reboot " INT " NOT NULL DEFAULT 0,\n"                                                  \
	"  reason TEXT,\n"                                                                        \
	"  product TEXT,\n"                                                                       \
	"  host TEXT,\n"                                                                          \
	"  started TEXT,\n"                                                                       \
	"  failed_at TEXT\n"                                                                      \
	");\n"                                                                                    \
	"CREATE TABLE candidates (\n"                                                             \
	"  id " ID ",\n"                                                                          \
	"  verdict_id " INT " NOT NULL REFERENCES verdicts(id) ON DELETE CASCADE,\n"              \
	"  rank " INT " NOT NULL,\n"                                                              \
	"  line " INT " NOT NULL,\n"                                                              \
	"  finding_id " INT " REFERENCES findings(id) ON DELETE SET NULL,\n"                      \
	"  reason TEXT NOT NULL\n"                                                                \
	");\n"                                                                                    \
	"CREATE INDEX candidates_verdict ON candidates(verdict_id);\n"                            \
	"CREATE VIEW v_findings AS\n"                                                             \
	"  SELECT f.id, fi.path AS file, f.line, f.ts, f.rule_id, f.severity, f.level, f.code,\n" \
	"         f.action, f.text, f.title, r.fix\n"                                             \
	"  FROM findings f JOIN files fi ON fi.id = f.file_id\n"                                  \
	"  LEFT JOIN rules r ON r.rule_id = f.rule_id;\n"                                         \
	"CREATE VIEW v_failures AS\n"                                                             \
	"  SELECT fi.path AS file, v.outcome, v.exit_code, v.action, v.reason, v.failed_at,\n"    \
	"         f.line, f.rule_id, f.code, f.text\n"                                            \
	"  FROM verdicts v JOIN files fi ON fi.id = v.file_id\n"                                  \
	"  LEFT JOIN findings f ON f.id = v.finding_id\n"                                         \
	"  WHERE v.outcome = 'failed';\n"                                                         \
	"CREATE VIEW v_noise AS\n"                                                                \
	"  SELECT fi.path AS file, h.rule_id, r.code, h.count, h.first_line, h.last_line\n"       \
	"  FROM rule_hits h JOIN files fi ON fi.id = h.file_id\n"                                 \
	"  LEFT JOIN rules r ON r.rule_id = h.rule_id\n"                                          \
	"  WHERE h.severity = 'noise';\n"

/*
 * Schema step v1 -> v2: servers and the cluster (migrations[1]; the loop in ensure_schema()
 * sets the version). A fresh database runs SCHEMA_V1 first, then this. v1 rows have no host
 * and no facts: the step clears their hash and mtime, so their files are read again.
 */
#define SCHEMA_V2(ID, INT)                                                                     \
	"ALTER TABLE files ADD COLUMN host TEXT;\n"                                            \
	"ALTER TABLE files ADD COLUMN host_from TEXT;\n"                                       \
	"ALTER TABLE verdicts ADD COLUMN finished TEXT;\n"                                     \
	"CREATE TABLE facts (\n"                                                               \
	"  id " ID ",\n"                                                                       \
	"  file_id " INT " NOT NULL REFERENCES files(id) ON DELETE CASCADE,\n"                 \
	"  key TEXT NOT NULL,\n"                                                               \
	"  value TEXT NOT NULL,\n"                                                             \
	"  line " INT " NOT NULL,\n"                                                           \
	"  ts TEXT\n"                                                                          \
	");\n"                                                                                 \
	"CREATE INDEX facts_file ON facts(file_id);\n"                                         \
	"CREATE TABLE servers (\n"                                                             \
	"  id " ID ",\n"                                                                       \
	"  scan_id " INT " NOT NULL REFERENCES scans(id),\n"                                   \
	"  host TEXT NOT NULL,\n"                                                              \
	"  role TEXT NOT NULL,\n"                                                              \
	"  role_evidence TEXT,\n"                                                              \
	"  outcome TEXT NOT NULL,\n"                                                           \
	"  product TEXT,\n"                                                                    \
	"  from_version TEXT,\n"                                                               \
	"  to_version TEXT,\n"                                                                 \
	"  final_version TEXT,\n"                                                              \
	"  started TEXT,\n"                                                                    \
	"  finished TEXT,\n"                                                                   \
	"  reboot " INT " NOT NULL DEFAULT 0,\n"                                               \
	"  reason TEXT,\n"                                                                     \
	"  file_id " INT " REFERENCES files(id) ON DELETE SET NULL,\n"                         \
	"  line " INT ",\n"                                                                    \
	"  finding_id " INT " REFERENCES findings(id) ON DELETE SET NULL,\n"                   \
	"  UNIQUE(scan_id, host)\n"                                                            \
	");\n"                                                                                 \
	"CREATE TABLE checks (\n"                                                              \
	"  id " ID ",\n"                                                                       \
	"  scan_id " INT " NOT NULL REFERENCES scans(id),\n"                                   \
	"  name TEXT NOT NULL,\n"                                                              \
	"  severity TEXT NOT NULL,\n"                                                          \
	"  host TEXT,\n"                                                                       \
	"  hosts TEXT,\n"                                                                      \
	"  file_id " INT " REFERENCES files(id) ON DELETE SET NULL,\n"                         \
	"  line " INT ",\n"                                                                    \
	"  text TEXT NOT NULL,\n"                                                              \
	"  advice TEXT,\n"                                                                     \
	"  evidence TEXT NOT NULL\n"                                                           \
	");\n"                                                                                 \
	"CREATE INDEX checks_scan ON checks(scan_id);\n"                                       \
	"CREATE VIEW v_servers AS\n"                                                           \
	"  SELECT s.host, s.role, s.outcome, s.from_version, s.to_version, s.final_version,\n" \
	"         s.started, s.finished, s.reason, fi.path AS file, s.line, f.text\n"          \
	"  FROM servers s LEFT JOIN files fi ON fi.id = s.file_id\n"                           \
	"  LEFT JOIN findings f ON f.id = s.finding_id\n"                                      \
	"  WHERE s.scan_id = (SELECT max(scan_id) FROM servers);\n"                            \
	"CREATE VIEW v_failed_servers AS\n"                                                    \
	"  SELECT host, role, outcome, reason, file, line, text FROM v_servers\n"              \
	"  WHERE outcome IN ('failed', 'cancelled', 'incomplete');\n"                          \
	"CREATE VIEW v_checks AS\n"                                                            \
	"  SELECT c.name, c.severity, coalesce(c.host, c.hosts) AS hosts, fi.path AS file,\n"  \
	"         c.line, c.text, c.advice, c.evidence\n"                                      \
	"  FROM checks c LEFT JOIN files fi ON fi.id = c.file_id\n"                            \
	"  WHERE c.scan_id = (SELECT max(scan_id) FROM checks);\n"                             \
	"UPDATE files SET hash = NULL, mtime = NULL;\n"                                        \
	"UPDATE sources SET complete = 0;\n"

/*
 * The schema as a list of steps: migrations[i] takes a SQLite database from user_version i to
 * i + 1. ensure_schema() runs the steps a database lacks, in order, in one write transaction
 * under the "schema" lock, and sets the version after each (db_set_version). A new schema
 * version is one more entry here and in migrations_pg[].
 */
static const char *const migrations[] = {
	SCHEMA_V1("INTEGER PRIMARY KEY", "INTEGER"), /* 0 -> 1 */
	SCHEMA_V2("INTEGER PRIMARY KEY", "INTEGER"), /* 1 -> 2: servers and the cluster */
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == UL_SCHEMA_VERSION,
               "one migration step per schema version");

/*
 * The same schema in PostgreSQL's dialect, step by step as migrations[]: identity columns,
 * BIGINT for every integer, the same table, column and view names (a PostgreSQL database
 * is always created at the current version, but keeps its steps to upgrade as SQLite does).
 */
#define PG_ID "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
static const char *const migrations_pg[] = {
	SCHEMA_V1(PG_ID, "BIGINT"), /* 0 -> 1 */
	SCHEMA_V2(PG_ID, "BIGINT"), /* 1 -> 2: servers and the cluster */
};
_Static_assert(sizeof(migrations_pg) / sizeof(migrations_pg[0]) == UL_SCHEMA_VERSION,
               "one PostgreSQL migration step per schema version");

enum stmt {
	S_FILE_DELETE,
	S_FILE_INSERT,
	S_FILE_UPDATE,
	S_FINDING,
	S_HIT,
	S_VERDICT,
	S_CANDIDATE,
	S_FIND_LINE,
	S_FACT,
	S_LOOKUP,
	S_REPLACED,
	S_KEEP,
	S_SEEN,
	S_VISITED,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_FILE_DELETE] = "DELETE FROM files WHERE path = ?1",
	[S_FILE_INSERT] =
	        "INSERT INTO files (source_id, scan_id, path, location, family, encoding,"
	        " size, mtime, bytes, lines, cut_lines, replaced, hash, status, error)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
	        " RETURNING id",
	[S_FILE_UPDATE] = "UPDATE files SET family = ?2, encoding = ?3, bytes = ?4, lines = ?5,"
	                  " cut_lines = ?6, replaced = ?7, hash = ?8, status = ?9, error = ?10"
	                  " WHERE id = ?1",
	[S_FINDING] =
	        "INSERT INTO findings (file_id, line, \"offset\", ts, rule_id, severity,"
	        " level, code, action, text, title, captures, context_before, context_after)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	        " ON CONFLICT (file_id, line) DO UPDATE SET \"offset\" = excluded.\"offset\","
	        " ts = excluded.ts, rule_id = excluded.rule_id, severity = excluded.severity,"
	        " level = excluded.level, code = excluded.code, action = excluded.action,"
	        " text = excluded.text, title = excluded.title, captures = excluded.captures,"
	        " context_before = excluded.context_before, context_after = excluded.context_after",
	[S_HIT] = "INSERT INTO rule_hits (file_id, rule_id, severity, count, first_line, last_line)"
	          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_VERDICT] = "INSERT INTO verdicts (file_id, outcome, finding_id, root_line, action,"
	              " exit_code, reboot, reason, product, host, started, failed_at, finished)"
	              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	              " RETURNING id",
	[S_FACT] = "INSERT INTO facts (file_id, key, value, line, ts) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_CANDIDATE] = "INSERT INTO candidates (verdict_id, rank, line, finding_id, reason)"
	                " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FIND_LINE] = "SELECT id FROM findings WHERE file_id = ?1 AND line = ?2",
	[S_LOOKUP] = "SELECT size, mtime, hash, status FROM files WHERE path = ?1",
	/* The row a file's transaction replaces, and whether the same catalogue and upglog
	 * stored it (then the same content gives the same rows). */
	[S_REPLACED] = "SELECT f.hash, f.status, CASE WHEN s.catalogue_hash = c.catalogue_hash"
	               " AND s.tool_version = c.tool_version THEN 1 ELSE 0 END"
	               " FROM files f JOIN scans s ON s.id = f.scan_id JOIN scans c ON c.id = ?2"
	               " WHERE f.path = ?1",
	[S_KEEP] = "UPDATE files SET scan_id = ?1, source_id = ?2 WHERE path = ?3",
	[S_SEEN] = "INSERT INTO seen (path) VALUES (?1) ON CONFLICT DO NOTHING",
	[S_VISITED] = "INSERT INTO visited (path) VALUES (?1) ON CONFLICT DO NOTHING",
};

struct ul_store {
	struct db *db;
	enum ul_store_mode mode;
	int64_t own_scan; /* the scan this connection ran (the temp table visited holds its files) */
	struct db_stmt *stmt[S_COUNT];
	bool in_file;
	/* The row the open file's transaction replaced: ok, stored by the same catalogue and
	 * upglog, with this content hash ("" when none). */
	char replaced_hash[17];
};

static const char *dbname(const struct ul_store *st)
{
	return db_display(st->db);
}

const char *ul_store_name(const struct ul_store *st)
{
	return dbname(st);
}

/* Every store error names the database. */
static bool db_err(struct ul_store *st, struct ul_error *err, const char *what)
{
	if (db_err_nomem(st->db))
		return ul_error_set(err, "memory", "%s: %s: out of memory", dbname(st), what);
	return ul_error_set(err, "store", "%s: %s: %s", dbname(st), what, db_errmsg(st->db));
}

static bool oom(struct ul_store *st, struct ul_error *err)
{
	return ul_error_set(err, "memory", "%s: out of memory", dbname(st));
}

static bool exec(struct ul_store *st, const char *sql, struct ul_error *err)
{
	if (db_exec(st->db, sql))
		return true;
	return ul_error_set(err, "store", "%s: %s", dbname(st), db_errmsg(st->db));
}

static bool begin(struct ul_store *st, struct ul_error *err)
{
	if (db_begin(st->db))
		return true;
	return ul_error_set(err, "store", "%s: %s", dbname(st), db_errmsg(st->db));
}

static bool commit(struct ul_store *st, struct ul_error *err)
{
	if (db_commit(st->db))
		return true;
	ul_error_set(err, "store", "%s: %s", dbname(st), db_errmsg(st->db));
	db_rollback(st->db);
	return false;
}

/* Serialise PostgreSQL writers on `what` + `key` until the transaction ends (store_db.h). */
static bool lock(struct ul_store *st, const char *what, const char *key, struct ul_error *err)
{
	char *k = NULL;
	if (asprintf(&k, "%s%s", what, key) < 0)
		return oom(st, err);
	bool ok = db_lock(st->db, k) || db_err(st, err, "lock");
	free(k);
	return ok;
}

static bool lock_id(struct ul_store *st, const char *what, int64_t id, struct ul_error *err)
{
	char k[32];
	snprintf(k, sizeof(k), "%lld", (long long)id);
	return lock(st, what, k, err);
}

static struct db_stmt *prep(struct ul_store *st, const char *sql)
{
	return db_prepare(st->db, sql, false);
}

/* The first column of the first row of `sql` (0 when there is no row). */
static bool one_int(struct ul_store *st, const char *sql, int64_t *out, struct ul_error *err)
{
	*out = 0;
	struct db_stmt *s = prep(st, sql);
	if (!s)
		return db_err(st, err, "cannot read the database");
	enum db_step rc = db_step(s);
	if (rc == DB_ROW)
		*out = db_col_int(s, 0);
	bool ok = rc != DB_ERROR || db_err(st, err, "cannot read the database");
	db_finalize(s);
	return ok;
}

/* Step a write statement once, then reset it. */
static bool run_stmt(struct ul_store *st, struct db_stmt *s, struct ul_error *err, const char *what)
{
	bool ok = db_step(s) != DB_ERROR || db_err(st, err, what);
	db_reset(s);
	return ok;
}

/* Step a statement that returns one id (RETURNING id), then reset it. */
static bool run_id(struct ul_store *st, struct db_stmt *s, int64_t *id, struct ul_error *err,
                   const char *what)
{
	enum db_step rc = db_step(s);
	bool ok = rc == DB_ROW || db_err(st, err, what);
	if (rc == DB_ROW)
		*id = db_col_int(s, 0);
	db_reset(s);
	return ok;
}

/* Run one statement with integer parameters ?1..?n. */
static bool run_ints(struct ul_store *st, const char *sql, const int64_t *v, int n,
                     struct ul_error *err, const char *what)
{
	struct db_stmt *s = prep(st, sql);
	if (!s)
		return db_err(st, err, what);
	for (int i = 0; i < n; i++)
		db_bind_int(s, i + 1, v[i]);
	bool ok = run_stmt(st, s, err, what);
	db_finalize(s);
	return ok;
}

static bool ensure_schema(struct ul_store *st, struct ul_error *err)
{
	int64_t version, tables;
	if (!db_get_version(st->db, &version))
		return db_err(st, err, "cannot read the database");
	if (version == UL_SCHEMA_VERSION)
		return true;
	if (version > UL_SCHEMA_VERSION)
		return ul_error_set(err, "store",
		                    "%s: database schema v%lld is newer than this upglog (v%d)",
		                    dbname(st), (long long)version, UL_SCHEMA_VERSION);
	if (st->mode != UL_STORE_CREATE && version == 0) {
		if (!db_table_count(st->db, &tables))
			return db_err(st, err, "cannot read the database");
		if (tables > 0)
			return ul_error_set(err, "store",
			                    "%s: the database holds other tables: not an upglog "
			                    "database",
			                    dbname(st));
		return ul_error_set(err, "store", "%s: not an upglog database (no schema)",
		                    dbname(st));
	}
	/* An older schema is upgraded in place by a writer (scan, query --write), never a reader. */
	if (st->mode == UL_STORE_READONLY)
		return ul_error_set(err, "store",
		                    "%s: database schema v%lld is older than this upglog and must "
		                    "be upgraded to v%d: run a scan on it (or query --write) once",
		                    dbname(st), (long long)version, UL_SCHEMA_VERSION);
	/* Another process may create or upgrade it at the same time: decide under the lock. */
	if (!begin(st, err))
		return false;
	if (!lock(st, "schema", "", err))
		goto fail;
	if (!db_get_version(st->db, &version)) {
		db_err(st, err, "cannot read the database");
		goto fail;
	}
	if (version > UL_SCHEMA_VERSION) {
		ul_error_set(err, "store",
		             "%s: database schema v%lld is newer than this upglog (v%d)",
		             dbname(st), (long long)version, UL_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0) {
		if (!db_table_count(st->db, &tables)) {
			db_err(st, err, "cannot read the database");
			goto fail;
		}
		if (tables > 0) {
			ul_error_set(err, "store",
			             "%s: the database holds other tables: not an upglog database",
			             dbname(st));
			goto fail;
		}
	}
	const char *const *steps = db_engine(st->db) == DB_POSTGRES ? migrations_pg : migrations;
	for (int64_t v = version; v < UL_SCHEMA_VERSION; v++) {
		if (!exec(st, steps[v], err))
			goto fail;
		if (!db_set_version(st->db, v + 1)) {
			db_err(st, err, "schema version");
			goto fail;
		}
	}
	return commit(st, err);
fail:
	db_rollback(st->db);
	return false;
}

struct ul_store *ul_store_open(const char *path, enum ul_store_mode mode, struct ul_error *err)
{
	struct ul_store *st = calloc(1, sizeof(*st));
	if (!st) {
		ul_error_set(err, "memory", "%s: out of memory", path);
		return NULL;
	}
	st->mode = mode;
	st->db = db_open(path, mode, err);
	if (!st->db) {
		free(st);
		return NULL;
	}
	if (!ensure_schema(st, err))
		goto fail;
	/*
	 * The files this connection's scan saw in the source it reads (seen), and in all its
	 * sources (visited), so that the source's end forgets only files this scan did not see,
	 * whatever other scans of the same input running at the same time write into
	 * files.scan_id. Both are filled together from C (mark_seen()).
	 */
	if (mode != UL_STORE_READONLY &&
	    !exec(st,
	          "CREATE TEMP TABLE IF NOT EXISTS seen (path TEXT PRIMARY KEY);"
	          " CREATE TEMP TABLE IF NOT EXISTS visited (path TEXT PRIMARY KEY)",
	          err))
		goto fail;
	if (mode != UL_STORE_READONLY) {
		for (int i = 0; i < S_COUNT; i++)
			if (!(st->stmt[i] = db_prepare(st->db, stmt_sql[i], true))) {
				db_err(st, err, "prepare");
				goto fail;
			}
	}
	return st;
fail:
	ul_store_close(st);
	return NULL;
}

void ul_store_close(struct ul_store *st)
{
	if (!st)
		return;
	if (st->in_file)
		ul_store_file_abort(st);
	for (int i = 0; i < S_COUNT; i++)
		db_finalize(st->stmt[i]);
	db_close(st->db);
	free(st);
}

struct db *store_conn(struct ul_store *st)
{
	return st->db;
}

bool ul_store_names_server(const char *name)
{
	return db_names_postgres(name);
}

/* ---- binding helpers ----------------------------------------------------------------------- */

/* Text a log or a command line wrote: secrets masked (see mask.h) before it is stored. */
static bool bind_masked(struct db_stmt *s, int i, const char *v)
{
	if (!v || !ul_mask_has_secret(v, strlen(v))) {
		db_bind_text(s, i, v);
		return true;
	}
	char *m = ul_mask_text(v, strlen(v));
	if (!m)
		return false;
	db_bind_text_owned(s, i, m);
	return true;
}

static void bind_opt_int(struct db_stmt *s, int i, bool have, int64_t v)
{
	if (have)
		db_bind_int(s, i, v);
	else
		db_bind_null(s, i);
}

/* A bind that failed: clear the statement, report no memory. */
static bool bind_oom(struct ul_store *st, struct db_stmt *s, struct ul_error *err)
{
	db_reset(s);
	return oom(st, err);
}

void store_now_iso(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- scans and sources --------------------------------------------------------------------- */

static bool sync_rules(struct ul_store *st, const struct ul_catalog *cat, struct ul_error *err)
{
	static const char sql[] =
	        "INSERT INTO rules (rule_id, rank, severity, family, event, priority, code, "
	        "evidence,"
	        " title, explain, fix, pattern, origin)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	        " ON CONFLICT (rule_id) DO UPDATE SET rank = excluded.rank,"
	        " severity = excluded.severity, family = excluded.family, event = excluded.event,"
	        " priority = excluded.priority, code = excluded.code, evidence = excluded.evidence,"
	        " title = excluded.title, explain = excluded.explain, fix = excluded.fix,"
	        " pattern = excluded.pattern, origin = excluded.origin";
	struct db_stmt *s = prep(st, sql);
	if (!s)
		return db_err(st, err, "rules");
	bool ok = true;
	for (size_t i = 0; ok && i < ul_catalog_count(cat); i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		char fam[64];
		ul_catalog_family_set_format(cat, r->families, " ", fam, sizeof(fam));
		db_bind_text(s, 1, r->id);
		db_bind_int(s, 2, (int64_t)i);
		db_bind_text(s, 3, ul_severity_name(r->severity));
		db_bind_text(s, 4, fam);
		db_bind_text(s, 5, r->event ? ul_event_name(r->event) : NULL);
		db_bind_int(s, 6, r->priority);
		db_bind_text(s, 7, r->code);
		db_bind_text(s, 8, r->evidence);
		db_bind_text(s, 9, r->title);
		db_bind_text(s, 10, r->explain);
		db_bind_text(s, 11, r->fix);
		db_bind_text(s, 12, r->match);
		db_bind_text(s, 13, r->origin);
		ok = run_stmt(st, s, err, "rules");
	}
	db_finalize(s);
	return ok;
}

bool ul_store_begin_scan(struct ul_store *st, const char *version, const char *arguments,
                         const struct ul_catalog *cat, int64_t *scan_id, struct ul_error *err)
{
	char now[32];
	store_now_iso(now);
	if (!exec(st, "DELETE FROM visited", err) || !begin(st, err))
		return false;
	struct db_stmt *s = prep(st, "INSERT INTO scans (started, tool_version, catalogue_hash,"
	                             " arguments) VALUES (?1, ?2, ?3, ?4) RETURNING id");
	if (!s) {
		db_err(st, err, "scan");
		goto fail;
	}
	db_bind_text(s, 1, now);
	db_bind_text(s, 2, version);
	db_bind_text(s, 3, ul_catalog_hash(cat));
	db_bind_text(s, 4, arguments); /* JSON: the caller masks each argument (mask.h) */
	bool ok = run_id(st, s, scan_id, err, "scan");
	db_finalize(s);
	if (!ok || !sync_rules(st, cat, err) || !commit(st, err))
		goto fail;
	db_run_mark(st->db, *scan_id, true);
	st->own_scan = *scan_id;
	return true;
fail:
	db_rollback(st->db);
	return false;
}

bool ul_store_end_scan(struct ul_store *st, int64_t scan_id, struct ul_error *err)
{
	char now[32];
	store_now_iso(now);
	struct db_stmt *s = prep(st, "UPDATE scans SET finished = ?1 WHERE id = ?2");
	if (!s)
		return db_err(st, err, "scan");
	db_bind_text(s, 1, now);
	db_bind_int(s, 2, scan_id);
	bool ok = run_stmt(st, s, err, "scan");
	db_finalize(s);
	if (!ok)
		return false;
	db_run_mark(st->db, scan_id, false);
	db_checkpoint(st->db);
	return true;
}

bool ul_store_source_unchanged(struct ul_store *st, const char *path, const char *kind,
                               int64_t size, int64_t mtime, bool *unchanged, struct ul_error *err)
{
	*unchanged = false;
	if (strcmp(kind, "dir") == 0 || strcmp(kind, "stdin") == 0)
		return true;
	struct db_stmt *s = prep(st, "SELECT kind, size, mtime, complete FROM sources"
	                             " WHERE path = ?1");
	if (!s)
		return db_err(st, err, "source");
	db_bind_text(s, 1, path);
	enum db_step rc = db_step(s);
	if (rc == DB_ROW) {
		const char *old_kind = db_col_text(s, 0);
		*unchanged = old_kind && strcmp(old_kind, kind) == 0 && db_col_int(s, 1) == size &&
		             db_col_int(s, 2) == mtime && db_col_int(s, 3) == 1;
	}
	bool ok = rc != DB_ERROR || db_err(st, err, "source");
	db_finalize(s);
	return ok;
}

bool ul_store_source(struct ul_store *st, int64_t scan_id, const char *path, const char *kind,
                     int64_t size, int64_t mtime, bool unchanged, int64_t *source_id,
                     struct ul_error *err)
{
	static const char upsert[] =
	        "INSERT INTO sources (scan_id, path, kind, size, mtime, complete)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, 0)"
	        " ON CONFLICT (path) DO UPDATE SET scan_id = excluded.scan_id,"
	        " kind = excluded.kind, size = excluded.size, mtime = excluded.mtime,"
	        " complete = CASE WHEN ?6 = 1 THEN sources.complete ELSE 0 END"
	        " RETURNING id";
	if (!exec(st, "DELETE FROM seen", err))
		return false;
	struct db_stmt *s = prep(st, upsert);
	if (!s)
		return db_err(st, err, "source");
	db_bind_int(s, 1, scan_id);
	db_bind_text(s, 2, path);
	db_bind_text(s, 3, kind);
	db_bind_int(s, 4, size);
	db_bind_int(s, 5, mtime);
	db_bind_int(s, 6, unchanged);
	bool ok = run_id(st, s, source_id, err, "source");
	db_finalize(s);
	if (!ok || !unchanged)
		return ok;
	/* Every file of the unchanged input stays, now seen by this scan. */
	const int64_t ids[] = { *source_id, scan_id };
	return run_ints(st, "UPDATE files SET scan_id = ?2 WHERE source_id = ?1", ids, 2, err,
	                "source") &&
	       run_ints(st,
	                "INSERT INTO seen (path) SELECT path FROM files WHERE source_id = ?1"
	                " ON CONFLICT DO NOTHING",
	                ids, 1, err, "source") &&
	       run_ints(st,
	                "INSERT INTO visited (path) SELECT path FROM files WHERE source_id = ?1"
	                " ON CONFLICT DO NOTHING",
	                ids, 1, err, "source");
}

bool ul_store_source_done(struct ul_store *st, int64_t scan_id, int64_t source_id, bool complete,
                          struct ul_error *err)
{
	(void)scan_id; /* the temp table seen holds what this scan saw of the source */
	const int64_t v[] = { source_id, complete };
	bool ok = begin(st, err) && lock_id(st, STORE_LOCK_SOURCE, source_id, err) &&
	          (!complete || run_ints(st,
	                                 "DELETE FROM files WHERE source_id = ?1"
	                                 " AND path NOT IN (SELECT path FROM seen)",
	                                 v, 1, err, "source")) &&
	          run_ints(st,
	                   "UPDATE sources SET complete = ?2, host = coalesce((SELECT v.host"
	                   " FROM verdicts v JOIN files f ON f.id = v.file_id"
	                   " WHERE f.source_id = ?1 AND v.host IS NOT NULL AND v.host <> ''"
	                   " LIMIT 1), host) WHERE id = ?1",
	                   v, 2, err, "source");
	if (!ok) {
		db_rollback(st->db);
		return false;
	}
	return commit(st, err);
}

bool ul_store_source_host(struct ul_store *st, int64_t source_id, const char *given,
                          const char *from_name, struct ul_error *err)
{
	char host[64] = "";
	const char *from = NULL;
	/* The host its logs name most often (names that differ in case count together). */
	struct db_stmt *s = prep(st, "SELECT min(host) FROM files WHERE source_id = ?1"
	                             " AND host_from = 'log' GROUP BY upper(host)"
	                             " ORDER BY count(*) DESC, min(id) LIMIT 1");
	if (!s)
		return db_err(st, err, "host");
	db_bind_int(s, 1, source_id);
	enum db_step rc = db_step(s);
	if (rc == DB_ROW && db_col_text(s, 0)) {
		snprintf(host, sizeof(host), "%s", db_col_text(s, 0));
		from = "bundle";
	}
	if (rc == DB_ERROR) {
		db_err(st, err, "host");
		db_finalize(s);
		return false;
	}
	db_finalize(s);
	if (!from && given && *given) {
		snprintf(host, sizeof(host), "%s", given);
		from = "option";
	} else if (!from && from_name && *from_name) {
		snprintf(host, sizeof(host), "%s", from_name);
		from = "name";
	}
	if (!from)
		return true;
	static const char *const sql[] = {
		"UPDATE sources SET host = ?2 WHERE id = ?1",
		"UPDATE files SET host = ?2, host_from = ?3 WHERE source_id = ?1 AND host IS NULL",
		("UPDATE verdicts SET host = ?2 WHERE (host IS NULL OR host = '') AND file_id IN"
		 " (SELECT id FROM files WHERE source_id = ?1 AND host_from = ?3)"),
	};
	bool ok = begin(st, err) && lock_id(st, STORE_LOCK_SOURCE, source_id, err);
	for (size_t i = 0; ok && i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (!(s = prep(st, sql[i]))) {
			ok = db_err(st, err, "host");
			break;
		}
		db_bind_int(s, 1, source_id);
		db_bind_text(s, 2, host);
		if (i > 0)
			db_bind_text(s, 3, from);
		ok = run_stmt(st, s, err, "host");
		db_finalize(s);
	}
	if (!ok) {
		db_rollback(st->db);
		return false;
	}
	return commit(st, err);
}

/* ---- files --------------------------------------------------------------------------------- */

bool ul_store_lookup(struct ul_store *st, const char *path, struct ul_known *out,
                     struct ul_error *err)
{
	struct db_stmt *s = st->stmt[S_LOOKUP];
	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, path);
	enum db_step rc = db_step(s);
	if (rc == DB_ROW) {
		out->found = true;
		out->size = db_col_int(s, 0);
		out->mtime = db_col_int(s, 1);
		const char *h = db_col_text(s, 2);
		const char *status = db_col_text(s, 3);
		snprintf(out->hash, sizeof(out->hash), "%s", h ? h : "");
		out->ok = status && strcmp(status, "ok") == 0;
	}
	bool ok = rc != DB_ERROR || db_err(st, err, "lookup");
	db_reset(s);
	return ok;
}

/* This scan saw the file: in its source (seen) and in the scan (visited). */
static bool mark_seen(struct ul_store *st, const char *path, struct ul_error *err)
{
	db_bind_text(st->stmt[S_SEEN], 1, path);
	if (!run_stmt(st, st->stmt[S_SEEN], err, "file"))
		return false;
	db_bind_text(st->stmt[S_VISITED], 1, path);
	return run_stmt(st, st->stmt[S_VISITED], err, "file");
}

bool ul_store_keep(struct ul_store *st, int64_t scan_id, int64_t source_id, const char *path,
                   struct ul_error *err)
{
	struct db_stmt *s = st->stmt[S_KEEP];
	db_bind_int(s, 1, scan_id);
	db_bind_int(s, 2, source_id);
	db_bind_text(s, 3, path);
	return run_stmt(st, s, err, "keep") && mark_seen(st, path, err);
}

static void bind_row(struct db_stmt *s, const struct ul_file_row *r)
{
	db_bind_int(s, 1, r->source_id);
	db_bind_int(s, 2, r->scan_id);
	db_bind_text(s, 3, r->path);
	db_bind_text(s, 4, r->location ? r->location : "other");
	db_bind_text(s, 5, r->family);
	db_bind_text(s, 6, r->encoding);
	bind_opt_int(s, 7, r->size >= 0, r->size);
	bind_opt_int(s, 8, r->mtime > 0, r->mtime);
	db_bind_int(s, 9, r->bytes);
	db_bind_int(s, 10, r->lines);
	db_bind_int(s, 11, r->cut_lines);
	db_bind_int(s, 12, r->replaced);
	db_bind_text(s, 13, r->hash);
	db_bind_text(s, 14, r->status ? r->status : "ok");
	db_bind_text(s, 15, r->error);
}

/* In the open transaction: take the path's lock, remember the row it replaces (see
 * ul_store_file_end), replace it. */
static bool insert_row(struct ul_store *st, const struct ul_file_row *row, int64_t *file_id,
                       struct ul_error *err)
{
	st->replaced_hash[0] = '\0';
	if (!lock(st, STORE_LOCK_FILE, row->path, err) || !mark_seen(st, row->path, err))
		return false;
	struct db_stmt *r = st->stmt[S_REPLACED];
	db_bind_text(r, 1, row->path);
	db_bind_int(r, 2, row->scan_id);
	enum db_step rc = db_step(r);
	if (rc == DB_ROW) {
		const char *h = db_col_text(r, 0), *status = db_col_text(r, 1);
		if (h && status && strcmp(status, "ok") == 0 && db_col_int(r, 2) == 1)
			snprintf(st->replaced_hash, sizeof(st->replaced_hash), "%s", h);
	}
	bool ok = rc != DB_ERROR || db_err(st, err, "file");
	db_reset(r);
	if (!ok)
		return false;
	struct db_stmt *del = st->stmt[S_FILE_DELETE];
	db_bind_text(del, 1, row->path);
	if (!run_stmt(st, del, err, "file"))
		return false;
	struct db_stmt *ins = st->stmt[S_FILE_INSERT];
	bind_row(ins, row);
	return run_id(st, ins, file_id, err, "file");
}

bool ul_store_file_begin(struct ul_store *st, const struct ul_file_row *row, int64_t *file_id,
                         struct ul_error *err)
{
	if (!begin(st, err))
		return false;
	st->in_file = true;
	if (!insert_row(st, row, file_id, err)) {
		ul_store_file_abort(st);
		return false;
	}
	return true;
}

bool ul_store_finding(struct ul_store *st, int64_t file_id, const struct ul_catalog *cat,
                      const struct ul_finding *f, struct ul_error *err)
{
	struct db_stmt *s = st->stmt[S_FINDING];
	const struct ul_rule *r = ul_catalog_rule(cat, f->rule);
	db_bind_int(s, 1, file_id);
	db_bind_int(s, 2, (int64_t)f->line);
	db_bind_int(s, 3, (int64_t)f->offset);
	db_bind_text(s, 4, f->ts);
	db_bind_text(s, 5, r->id);
	db_bind_text(s, 6, ul_severity_name(f->severity));
	db_bind_int(s, 7, (int)f->severity);
	db_bind_text(s, 8, f->code);
	db_bind_text(s, 12, f->captures); /* JSON: masked value by value by the interpreter */
	if (!bind_masked(s, 9, f->action) || !bind_masked(s, 10, f->text) ||
	    !bind_masked(s, 11, f->title) || !bind_masked(s, 13, f->before) ||
	    !bind_masked(s, 14, f->after))
		return bind_oom(st, s, err);
	return run_stmt(st, s, err, "finding");
}

/* The finding at a line: *found says whether there is one. False on a database error. */
static bool finding_at(struct ul_store *st, int64_t file_id, uint64_t line, bool *found,
                       int64_t *id, struct ul_error *err)
{
	struct db_stmt *s = st->stmt[S_FIND_LINE];
	db_bind_int(s, 1, file_id);
	db_bind_int(s, 2, (int64_t)line);
	enum db_step rc = db_step(s);
	*found = rc == DB_ROW;
	if (*found)
		*id = db_col_int(s, 0);
	bool ok = rc != DB_ERROR || db_err(st, err, "finding");
	db_reset(s);
	return ok;
}

static bool write_verdict(struct ul_store *st, int64_t file_id, const struct ul_verdict *v,
                          struct ul_error *err)
{
	struct db_stmt *s = st->stmt[S_VERDICT];
	int64_t root = 0;
	bool have_root = false;
	if (v->root_line && !finding_at(st, file_id, v->root_line, &have_root, &root, err))
		return false;
	db_bind_int(s, 1, file_id);
	db_bind_text(s, 2, ul_outcome_name(v->outcome));
	bind_opt_int(s, 3, have_root, root);
	bind_opt_int(s, 4, v->root_line != 0, (int64_t)v->root_line);
	bind_opt_int(s, 6, v->has_exit, v->exit_code);
	db_bind_int(s, 7, v->reboot);
	db_bind_text(s, 10, v->host[0] ? v->host : NULL);
	db_bind_text(s, 11, v->started[0] ? v->started : NULL);
	db_bind_text(s, 12, v->failed_at[0] ? v->failed_at : NULL);
	db_bind_text(s, 13, v->finished[0] ? v->finished : NULL);
	if (!bind_masked(s, 5, v->action[0] ? v->action : NULL) ||
	    !bind_masked(s, 8, v->reason[0] ? v->reason : NULL) ||
	    !bind_masked(s, 9, v->product[0] ? v->product : NULL))
		return bind_oom(st, s, err);
	int64_t verdict_id = 0;
	if (!run_id(st, s, &verdict_id, err, "verdict"))
		return false;
	for (size_t i = 0; i < v->nfacts; i++) {
		struct db_stmt *f = st->stmt[S_FACT];
		db_bind_int(f, 1, file_id);
		db_bind_text(f, 2, v->facts[i].key);
		if (!bind_masked(f, 3, v->facts[i].value))
			return bind_oom(st, f, err);
		db_bind_int(f, 4, (int64_t)v->facts[i].line);
		db_bind_text(f, 5, v->facts[i].ts[0] ? v->facts[i].ts : NULL);
		if (!run_stmt(st, f, err, "fact"))
			return false;
	}
	if (v->host[0]) {
		struct db_stmt *h =
		        prep(st, "UPDATE files SET host = ?2, host_from = 'log' WHERE id = ?1");
		if (!h)
			return db_err(st, err, "host");
		db_bind_int(h, 1, file_id);
		db_bind_text(h, 2, v->host);
		bool ok = run_stmt(st, h, err, "host");
		db_finalize(h);
		if (!ok)
			return false;
	}
	for (size_t i = 0; i < v->ncandidates; i++) {
		struct db_stmt *c = st->stmt[S_CANDIDATE];
		int64_t fid = 0;
		bool have = false;
		if (!finding_at(st, file_id, v->candidates[i].line, &have, &fid, err))
			return false;
		db_bind_int(c, 1, verdict_id);
		db_bind_int(c, 2, (int64_t)i + 1);
		db_bind_int(c, 3, (int64_t)v->candidates[i].line);
		bind_opt_int(c, 4, have, fid);
		if (!bind_masked(c, 5, v->candidates[i].reason))
			return bind_oom(st, c, err);
		if (!run_stmt(st, c, err, "candidate"))
			return false;
	}
	return true;
}

bool ul_store_file_end(struct ul_store *st, int64_t file_id, const struct ul_file_row *row,
                       const struct ul_catalog *cat, const struct ul_tally *tallies,
                       size_t ntallies, const struct ul_verdict *verdict, struct ul_error *err)
{
	/*
	 * The row this transaction replaced was read without error from the same content by
	 * the same catalogue and upglog: another scanner stored this file while this one read
	 * it (or before, after this scan looked it up). Keep that row and its findings (they
	 * are what this one would write) and attach it to this scan.
	 */
	bool ok_now = !row->status || strcmp(row->status, "ok") == 0;
	if (ok_now && row->hash && st->replaced_hash[0] &&
	    strcmp(row->hash, st->replaced_hash) == 0) {
		ul_store_file_abort(st);
		return ul_store_keep(st, row->scan_id, row->source_id, row->path, err);
	}
	struct db_stmt *u = st->stmt[S_FILE_UPDATE];
	db_bind_int(u, 1, file_id);
	db_bind_text(u, 2, row->family);
	db_bind_text(u, 3, row->encoding);
	db_bind_int(u, 4, row->bytes);
	db_bind_int(u, 5, row->lines);
	db_bind_int(u, 6, row->cut_lines);
	db_bind_int(u, 7, row->replaced);
	db_bind_text(u, 8, row->hash);
	db_bind_text(u, 9, row->status ? row->status : "ok");
	db_bind_text(u, 10, row->error);
	if (!run_stmt(st, u, err, "file"))
		goto fail;
	for (size_t i = 0; i < ntallies; i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, tallies[i].rule);
		struct db_stmt *h = st->stmt[S_HIT];
		db_bind_int(h, 1, file_id);
		db_bind_text(h, 2, r->id);
		db_bind_text(h, 3, ul_severity_name(r->severity));
		db_bind_int(h, 4, (int64_t)tallies[i].count);
		db_bind_int(h, 5, (int64_t)tallies[i].first_line);
		db_bind_int(h, 6, (int64_t)tallies[i].last_line);
		if (!run_stmt(st, h, err, "rule hits"))
			goto fail;
	}
	if (verdict && !write_verdict(st, file_id, verdict, err))
		goto fail;
	if (!db_commit(st->db)) {
		db_err(st, err, "commit");
		goto fail;
	}
	st->in_file = false;
	return true;
fail:
	ul_store_file_abort(st);
	return false;
}

void ul_store_file_abort(struct ul_store *st)
{
	if (st->in_file)
		db_rollback(st->db);
	st->in_file = false;
}

bool ul_store_file_failed(struct ul_store *st, const struct ul_file_row *row, struct ul_error *err)
{
	int64_t id;
	if (!begin(st, err))
		return false;
	st->in_file = true;
	if (!insert_row(st, row, &id, err)) {
		ul_store_file_abort(st);
		return false;
	}
	st->in_file = false;
	return commit(st, err);
}

/* ---- reading ------------------------------------------------------------------------------- */

bool ul_store_latest_scan(struct ul_store *st, int64_t *scan_id, struct ul_error *err)
{
	return one_int(st, "SELECT coalesce(max(id), 0) FROM scans", scan_id, err);
}

bool ul_store_scan_state(struct ul_store *st, int64_t scan_id, struct ul_scan_state *out,
                         bool (*unread)(void *ctx, const char *path, const char *why), void *ctx,
                         struct ul_error *err)
{
	static const char pending[] =
	        "SELECT path, 'not read to its end' FROM sources WHERE scan_id = ?1"
	        " AND complete = 0"
	        " UNION ALL SELECT fi.path, fi.status FROM files fi JOIN sources so"
	        " ON so.id = fi.source_id WHERE so.scan_id = ?1 AND so.complete <> 0"
	        " AND fi.status <> 'ok' ORDER BY 1";
	memset(out, 0, sizeof(*out));
	struct db_stmt *s = prep(st, "SELECT started, finished FROM scans WHERE id = ?1");
	if (!s)
		return db_err(st, err, "scan");
	db_bind_int(s, 1, scan_id);
	enum db_step rc = db_step(s);
	if (rc == DB_ROW) {
		out->found = true;
		const char *started = db_col_text(s, 0);
		snprintf(out->started, sizeof(out->started), "%s", started ? started : "");
		out->finished = db_col_type(s, 1) != DB_NULL;
	}
	bool ok = rc != DB_ERROR || db_err(st, err, "scan");
	db_finalize(s);
	if (!ok || !out->found || out->finished)
		return ok;
	out->running = db_run_marked(st->db, scan_id) == 1;
	if (!unread)
		return true;
	if (!(s = prep(st, pending)))
		return db_err(st, err, "sources");
	db_bind_int(s, 1, scan_id);
	while (ok && (rc = db_step(s)) == DB_ROW)
		ok = unread(ctx, db_col_text(s, 0), db_col_text(s, 1));
	if (ok && rc == DB_ERROR)
		ok = db_err(st, err, "sources");
	db_finalize(s);
	return ok;
}

/*
 * The files a scan covered. Another process's scan of the same input may since have become
 * the "last scan that visited" a source (sources.scan_id); so for the scan this connection
 * ran itself, the files it saw (the temp table visited) are the scope. SCOPE marks the place
 * in a query; the scan id is ?1 (which the own scope does not need).
 */
#define SCOPE      "@SCOPE@"
#define SCOPE_LAST "fi.source_id IN (SELECT id FROM sources WHERE scan_id = ?1)"
#define SCOPE_OWN  "fi.path IN (SELECT path FROM visited)"

static struct db_stmt *prepare_scoped(struct ul_store *st, const char *sql, int64_t scan_id)
{
	const char *at = strstr(sql, SCOPE);
	bool own = st->own_scan && st->own_scan == scan_id;
	char *full = NULL;
	if (!at || asprintf(&full, "%.*s%s%s", (int)(at - sql), sql, own ? SCOPE_OWN : SCOPE_LAST,
	                    at + strlen(SCOPE)) < 0)
		return NULL;
	struct db_stmt *s = prep(st, full);
	free(full);
	if (s && !own)
		db_bind_int(s, 1, scan_id);
	return s;
}

/*
 * Text a log wrote is masked again as it is read (mask.h): a database written by an older
 * upglog may hold what this one would mask. The masked copies live until masked_free(), so
 * they stay valid during the callback.
 */
struct masked {
	char *p[16];
	size_t n;
	bool oom;
};

static const char *masked(struct masked *m, const char *t)
{
	if (!t || !ul_mask_has_secret(t, strlen(t)))
		return t;
	char *x = m->n < sizeof(m->p) / sizeof(m->p[0]) ? ul_mask_text(t, strlen(t)) : NULL;
	if (!x) {
		m->oom = true;
		return NULL;
	}
	m->p[m->n++] = x;
	return x;
}

static void masked_free(struct masked *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->p[i]);
	m->n = 0;
}

/* Columns 0..14 of FINDING_COLS fill a view. */
#define FINDING_COLS                                                                        \
	"f.id, fi.path, f.line, f.ts, f.rule_id, f.severity, f.code, f.action, f.text,"     \
	" f.context_before, f.context_after, coalesce(f.title, r.title), r.explain, r.fix," \
	" f.captures"

static void read_finding(struct db_stmt *s, int at, struct ul_finding_view *v, struct masked *m)
{
	v->id = db_col_int(s, at + 0);
	v->file = db_col_text(s, at + 1);
	v->line = db_col_int(s, at + 2);
	v->ts = db_col_text(s, at + 3);
	v->rule = db_col_text(s, at + 4);
	v->severity = db_col_text(s, at + 5);
	v->code = db_col_text(s, at + 6);
	v->action = masked(m, db_col_text(s, at + 7));
	v->text = masked(m, db_col_text(s, at + 8));
	v->before = masked(m, db_col_text(s, at + 9));
	v->after = masked(m, db_col_text(s, at + 10));
	v->title = masked(m, db_col_text(s, at + 11));
	v->explain = db_col_text(s, at + 12);
	v->fix = db_col_text(s, at + 13);
	v->captures = db_col_text(s, at + 14);
}

/*
 * Candidates are read into the file view; their strings must outlive the candidate statement's
 * next step, so they are copied into a small per-call arena.
 */
struct arena {
	char buf[3][8192];
	size_t used[3];
};

static const char *keep_str(struct arena *a, int slot, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	if (a->used[slot] + n > sizeof(a->buf[slot]))
		n = sizeof(a->buf[slot]) - a->used[slot];
	if (n == 0)
		return "";
	char *d = a->buf[slot] + a->used[slot];
	memcpy(d, s, n - 1);
	d[n - 1] = '\0';
	a->used[slot] += n;
	return d;
}

static bool read_candidates(struct ul_store *st, int64_t file_id, struct ul_file_view *fv,
                            struct arena *a, struct ul_error *err)
{
	static const char sql[] = "SELECT c.line, c.reason, c.finding_id, " FINDING_COLS
	                          " FROM verdicts v JOIN candidates c ON c.verdict_id = v.id"
	                          " JOIN files fi ON fi.id = v.file_id"
	                          " LEFT JOIN findings f ON f.id = c.finding_id"
	                          " LEFT JOIN rules r ON r.rule_id = f.rule_id"
	                          " WHERE v.file_id = ?1 ORDER BY c.rank LIMIT 3";
	struct db_stmt *s = prep(st, sql);
	if (!s)
		return db_err(st, err, "candidates");
	db_bind_int(s, 1, file_id);
	fv->ncandidates = 0;
	struct masked m = { .n = 0 };
	enum db_step rc;
	while ((rc = db_step(s)) == DB_ROW && fv->ncandidates < 3) {
		size_t k = fv->ncandidates++;
		struct ul_candidate_view *c = &fv->candidates[k];
		memset(c, 0, sizeof(*c));
		memset(a->buf[k], 0, 1);
		a->used[k] = 0;
		c->line = db_col_int(s, 0);
		c->reason = keep_str(a, (int)k, masked(&m, db_col_text(s, 1)));
		c->has_finding = db_col_type(s, 2) != DB_NULL;
		if (c->has_finding) {
			struct ul_finding_view t;
			read_finding(s, 3, &t, &m);
			c->finding = t;
			c->finding.file = keep_str(a, (int)k, t.file);
			c->finding.ts = keep_str(a, (int)k, t.ts);
			c->finding.rule = keep_str(a, (int)k, t.rule);
			c->finding.severity = keep_str(a, (int)k, t.severity);
			c->finding.code = keep_str(a, (int)k, t.code);
			c->finding.action = keep_str(a, (int)k, t.action);
			c->finding.text = keep_str(a, (int)k, t.text);
			c->finding.title = keep_str(a, (int)k, t.title);
			c->finding.before = c->finding.after = NULL;
			c->finding.explain = c->finding.fix = c->finding.captures = NULL;
		}
		masked_free(&m);
		if (m.oom)
			break;
	}
	bool ok = m.oom ? oom(st, err) : rc != DB_ERROR || db_err(st, err, "candidates");
	db_finalize(s);
	return ok;
}

bool ul_store_each_file(struct ul_store *st, int64_t scan_id,
                        bool (*cb)(void *ctx, const struct ul_file_view *f), void *ctx,
                        struct ul_error *err)
{
	static const char sql[] =
	        "SELECT fi.id, fi.path, fi.location, fi.family, fi.encoding, fi.status, fi.error,"
	        " fi.lines, fi.bytes, v.outcome, v.reason, v.action, v.product, v.started,"
	        " v.failed_at, v.exit_code, v.reboot,"
	        " CASE WHEN v.finding_id IS NULL THEN 0 ELSE 1 END, " FINDING_COLS
	        ", v.finished, fi.host, fi.host_from"
	        " FROM files fi LEFT JOIN verdicts v ON v.file_id = fi.id"
	        " LEFT JOIN findings f ON f.id = v.finding_id"
	        " LEFT JOIN rules r ON r.rule_id = f.rule_id"
	        " WHERE " SCOPE " ORDER BY fi.path";
	struct arena *a = malloc(sizeof(*a));
	if (!a)
		return oom(st, err);
	struct db_stmt *s = prepare_scoped(st, sql, scan_id);
	if (!s) {
		free(a);
		return db_err(st, err, "files");
	}
	bool ok = true;
	enum db_step rc = DB_DONE;
	struct masked m = { .n = 0 };
	while (ok && (rc = db_step(s)) == DB_ROW) {
		struct ul_file_view fv;
		memset(&fv, 0, sizeof(fv));
		fv.id = db_col_int(s, 0);
		fv.path = db_col_text(s, 1);
		fv.location = db_col_text(s, 2);
		fv.family = db_col_text(s, 3);
		fv.encoding = db_col_text(s, 4);
		fv.status = db_col_text(s, 5);
		fv.error = db_col_text(s, 6);
		fv.lines = db_col_int(s, 7);
		fv.bytes = db_col_int(s, 8);
		fv.outcome = db_col_text(s, 9);
		fv.reason = masked(&m, db_col_text(s, 10));
		fv.action = masked(&m, db_col_text(s, 11));
		fv.product = masked(&m, db_col_text(s, 12));
		fv.started = db_col_text(s, 13);
		fv.failed_at = db_col_text(s, 14);
		fv.has_exit = db_col_type(s, 15) != DB_NULL;
		fv.exit_code = db_col_int(s, 15);
		fv.reboot = db_col_int(s, 16) != 0;
		fv.has_root = db_col_int(s, 17) != 0;
		if (fv.has_root)
			read_finding(s, 18, &fv.root, &m);
		fv.finished = db_col_text(s, 33);
		fv.host = db_col_text(s, 34);
		fv.host_from = db_col_text(s, 35);
		if (m.oom)
			ok = oom(st, err);
		else if (fv.outcome && !read_candidates(st, fv.id, &fv, a, err))
			ok = false;
		else
			ok = cb(ctx, &fv);
		masked_free(&m);
	}
	if (ok && rc == DB_ERROR)
		ok = db_err(st, err, "files");
	db_finalize(s);
	free(a);
	return ok;
}

bool ul_store_each_finding(struct ul_store *st, int64_t scan_id, enum ul_severity min,
                           bool causes_only, bool (*cb)(void *ctx, const struct ul_finding_view *f),
                           void *ctx, struct ul_error *err)
{
	/* Lines that only repeat an outcome (events below) are consequences, not causes. */
	static const char sql[] =
	        "SELECT " FINDING_COLS " FROM findings f JOIN files fi ON fi.id = f.file_id"
	        " LEFT JOIN rules r ON r.rule_id = f.rule_id"
	        " WHERE " SCOPE
	        " AND f.level >= ?2 AND (?3 = 0 OR r.event IS NULL OR r.event NOT IN"
	        " ('action-end', 'engine-return', 'server-return', 'final-status', "
	        "'product-failed',"
	        " 'product-ok', 'summary', 'exit-code', 'outcome-failed', 'log-stop'))"
	        " ORDER BY fi.path, f.line";
	struct db_stmt *s = prepare_scoped(st, sql, scan_id);
	if (!s)
		return db_err(st, err, "findings");
	db_bind_int(s, 2, (int)min);
	db_bind_int(s, 3, causes_only);
	bool ok = true;
	enum db_step rc = DB_DONE;
	struct masked m = { .n = 0 };
	while (ok && (rc = db_step(s)) == DB_ROW) {
		struct ul_finding_view v;
		read_finding(s, 0, &v, &m);
		ok = m.oom ? oom(st, err) : cb(ctx, &v);
		masked_free(&m);
	}
	if (ok && rc == DB_ERROR)
		ok = db_err(st, err, "findings");
	db_finalize(s);
	return ok;
}

bool ul_store_each_fact(struct ul_store *st, int64_t scan_id,
                        bool (*cb)(void *ctx, const struct ul_fact_view *f), void *ctx,
                        struct ul_error *err)
{
	static const char sql[] = "SELECT fa.file_id, fi.path, fa.key, fa.value, fa.line,"
	                          " fa.ts FROM facts fa JOIN files fi ON fi.id = fa.file_id"
	                          " WHERE " SCOPE " ORDER BY fi.path, fa.line, fa.id";
	struct db_stmt *s = prepare_scoped(st, sql, scan_id);
	if (!s)
		return db_err(st, err, "facts");
	bool ok = true;
	enum db_step rc = DB_DONE;
	struct masked m = { .n = 0 };
	while (ok && (rc = db_step(s)) == DB_ROW) {
		struct ul_fact_view v = {
			.file_id = db_col_int(s, 0),
			.file = db_col_text(s, 1),
			.key = db_col_text(s, 2),
			.value = masked(&m, db_col_text(s, 3)),
			.line = db_col_int(s, 4),
			.ts = db_col_text(s, 5),
		};
		ok = m.oom ? oom(st, err) : cb(ctx, &v);
		masked_free(&m);
	}
	if (ok && rc == DB_ERROR)
		ok = db_err(st, err, "facts");
	db_finalize(s);
	return ok;
}

bool ul_store_write_cluster(struct ul_store *st, int64_t scan_id,
                            const struct ul_server_row *servers, size_t nservers,
                            const struct ul_check_row *checks, size_t nchecks, struct ul_error *err)
{
	static const char ins_server[] =
	        "INSERT INTO servers (scan_id, host, role, role_evidence, outcome, product,"
	        " from_version, to_version, final_version, started, finished, reboot, reason,"
	        " file_id, line, finding_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	        " ?11, ?12, ?13, ?14, ?15, ?16)";
	static const char ins_check[] =
	        "INSERT INTO checks (scan_id, name, severity, host, hosts, file_id, line, text,"
	        " advice, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
	struct db_stmt *s = NULL;
	if (!begin(st, err))
		return false;
	if (!lock_id(st, STORE_LOCK_CLUSTER, scan_id, err))
		goto fail_quiet;
	/* Under the write lock: every file the rows point at must still be there. */
	if (!(s = prep(st, "SELECT 1 FROM files WHERE id = ?1")))
		goto fail;
	for (size_t i = 0; i < nservers + nchecks; i++) {
		int64_t id = i < nservers ? servers[i].file_id : checks[i - nservers].file_id;
		if (id <= 0)
			continue;
		db_bind_int(s, 1, id);
		enum db_step rc = db_step(s);
		if (rc == DB_ERROR)
			goto fail;
		db_reset(s);
		if (rc == DB_DONE) {
			ul_error_set(
			        err, "stale",
			        "%s: the files changed while the cluster was built (another scan "
			        "of the same input)",
			        dbname(st));
			goto fail_quiet;
		}
	}
	db_finalize(s);
	s = NULL;
	const int64_t id[] = { scan_id };
	if (!run_ints(st, "DELETE FROM servers WHERE scan_id = ?1", id, 1, err, "cluster") ||
	    !run_ints(st, "DELETE FROM checks WHERE scan_id = ?1", id, 1, err, "cluster"))
		goto fail_quiet;
	if (!(s = prep(st, ins_server)))
		goto fail;
	for (size_t i = 0; i < nservers; i++) {
		const struct ul_server_row *r = &servers[i];
		int64_t fid = 0;
		bool have = false;
		if (r->file_id > 0 && r->line > 0 &&
		    !finding_at(st, r->file_id, (uint64_t)r->line, &have, &fid, err))
			goto fail_quiet;
		db_bind_int(s, 1, scan_id);
		db_bind_text(s, 2, r->host);
		db_bind_text(s, 3, r->role);
		db_bind_text(s, 5, r->outcome);
		db_bind_text(s, 7, r->from_version);
		db_bind_text(s, 8, r->to_version);
		db_bind_text(s, 9, r->final_version);
		db_bind_text(s, 10, r->started);
		db_bind_text(s, 11, r->finished);
		db_bind_int(s, 12, r->reboot);
		bind_opt_int(s, 14, r->file_id > 0, r->file_id);
		bind_opt_int(s, 15, r->line > 0, r->line);
		bind_opt_int(s, 16, have, fid);
		/* Evidence, product and reason quote what the logs wrote: masked like any log text. */
		if (!bind_masked(s, 4, r->role_evidence) || !bind_masked(s, 6, r->product) ||
		    !bind_masked(s, 13, r->reason)) {
			bind_oom(st, s, err);
			goto fail_quiet;
		}
		if (!run_stmt(st, s, err, "servers"))
			goto fail_quiet;
	}
	db_finalize(s);
	if (!(s = prep(st, ins_check)))
		goto fail;
	for (size_t i = 0; i < nchecks; i++) {
		const struct ul_check_row *c = &checks[i];
		db_bind_int(s, 1, scan_id);
		db_bind_text(s, 2, c->name);
		db_bind_text(s, 3, c->severity);
		db_bind_text(s, 4, c->host);
		db_bind_text(s, 5, c->hosts);
		bind_opt_int(s, 6, c->file_id > 0, c->file_id);
		bind_opt_int(s, 7, c->line > 0, c->line);
		db_bind_text(s, 10, c->evidence);
		if (!bind_masked(s, 8, c->text) || !bind_masked(s, 9, c->advice)) {
			bind_oom(st, s, err);
			goto fail_quiet;
		}
		if (!run_stmt(st, s, err, "checks"))
			goto fail_quiet;
	}
	db_finalize(s);
	return commit(st, err);
fail:
	db_err(st, err, "cluster");
fail_quiet:
	db_finalize(s);
	db_rollback(st->db);
	return false;
}

bool ul_store_summary(struct ul_store *st, int64_t scan_id, struct ul_store_summary *out,
                      struct ul_error *err)
{
	static const char sql[] = "SELECT coalesce(v.outcome, ''),"
	                          " CASE WHEN fi.status = 'ok' THEN 1 ELSE 0 END, count(*)"
	                          " FROM files fi LEFT JOIN verdicts v ON v.file_id = fi.id"
	                          " WHERE " SCOPE " GROUP BY 1, 2";
	memset(out, 0, sizeof(*out));
	struct db_stmt *s = prepare_scoped(st, sql, scan_id);
	if (!s)
		return db_err(st, err, "summary");
	enum db_step rc;
	while ((rc = db_step(s)) == DB_ROW) {
		const char *o = db_col_text(s, 0);
		uint64_t n = (uint64_t)db_col_int(s, 2);
		out->files += n;
		if (!db_col_int(s, 1))
			out->unreadable += n;
		for (int k = 0; k < UL_OUTCOME_COUNT; k++)
			if (o && strcmp(o, ul_outcome_name((enum ul_outcome)k)) == 0)
				out->outcome[k] += n;
	}
	bool ok = rc == DB_DONE || db_err(st, err, "summary");
	db_finalize(s);
	return ok;
}

bool ul_store_counts(struct ul_store *st, int64_t scan_id, uint64_t counts[UL_SEV_COUNT],
                     struct ul_error *err)
{
	static const char sql[] =
	        "SELECT h.severity, CAST(sum(h.count) AS BIGINT) FROM rule_hits h"
	        " JOIN files fi ON fi.id = h.file_id WHERE " SCOPE " GROUP BY h.severity";
	memset(counts, 0, sizeof(uint64_t) * UL_SEV_COUNT);
	struct db_stmt *s = prepare_scoped(st, sql, scan_id);
	if (!s)
		return db_err(st, err, "counts");
	enum db_step rc;
	while ((rc = db_step(s)) == DB_ROW) {
		enum ul_severity sev;
		const char *name = db_col_text(s, 0);
		if (name && ul_severity_parse(name, &sev))
			counts[sev] = (uint64_t)db_col_int(s, 1);
	}
	bool ok = rc == DB_DONE || db_err(st, err, "counts");
	db_finalize(s);
	return ok;
}

bool ul_store_each_noise(struct ul_store *st, int64_t scan_id,
                         bool (*cb)(void *ctx, const char *rule, const char *code, uint64_t count),
                         void *ctx, struct ul_error *err)
{
	static const char sql[] = "SELECT h.rule_id, coalesce(min(r.code), ''),"
	                          " CAST(sum(h.count) AS BIGINT) AS n"
	                          " FROM rule_hits h JOIN files fi ON fi.id = h.file_id"
	                          " LEFT JOIN rules r ON r.rule_id = h.rule_id"
	                          " WHERE " SCOPE " AND h.severity = 'noise'"
	                          " GROUP BY h.rule_id ORDER BY n DESC, h.rule_id";
	struct db_stmt *s = prepare_scoped(st, sql, scan_id);
	if (!s)
		return db_err(st, err, "noise");
	bool ok = true;
	enum db_step rc = DB_DONE;
	while (ok && (rc = db_step(s)) == DB_ROW)
		ok = cb(ctx, db_col_text(s, 0), db_col_text(s, 1), (uint64_t)db_col_int(s, 2));
	if (ok && rc == DB_ERROR)
		ok = db_err(st, err, "noise");
	db_finalize(s);
	return ok;
}

/* ---- ad-hoc SQL ---------------------------------------------------------------------------- */

bool ul_store_query_rows(struct ul_store *st, const char *sql,
                         bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                         struct ul_error *err)
{
	return db_query_rows(st->db, sql, cb, ctx, err);
}

struct text_rows {
	ul_row_fn cb;
	void *ctx;
};

static bool text_row(void *ctx, const struct ul_query_row *row)
{
	struct text_rows *t = ctx;
	const char *values[256];
	char num[256][32];
	char *blobs[256];
	bool ok = true;
	for (int i = 0; i < row->ncols; i++) {
		const struct ul_value *v = &row->values[i];
		blobs[i] = NULL;
		/* Numbers as SQLite writes them; text and a blob's bytes as they are. */
		if (v->type == UL_VAL_INT) {
			snprintf(num[i], sizeof(num[i]), "%lld", (long long)v->i);
			values[i] = num[i];
		} else if (v->type == UL_VAL_REAL) {
			snprintf(num[i], sizeof(num[i]), "%.15g", v->r);
			values[i] = num[i];
		} else if (v->type == UL_VAL_NULL) {
			values[i] = NULL;
		} else if (v->type == UL_VAL_TEXT) {
			values[i] = v->p;
		} else {
			values[i] = blobs[i] = strndup(v->p, v->len);
			ok = ok && blobs[i];
		}
	}
	ok = ok && t->cb(t->ctx, row->ncols, row->names, values);
	for (int i = 0; i < row->ncols; i++)
		free(blobs[i]);
	return ok;
}

bool ul_store_query(struct ul_store *st, const char *sql, ul_row_fn cb, void *ctx,
                    struct ul_error *err)
{
	struct text_rows t = { cb, ctx };
	return ul_store_query_rows(st, sql, text_row, &t, err);
}

bool ul_store_check(struct ul_store *st, struct ul_error *err)
{
	return db_check(st->db, err);
}
