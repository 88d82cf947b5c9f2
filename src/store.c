/* SPDX-License-Identifier: MIT */
/* store: SQLite. See include/upglog/store.h; the schema is documented in README.md. */
#include "upglog/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "upglog/mask.h"

static const char schema_sql[] =
        "CREATE TABLE scans (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  started TEXT NOT NULL,\n"
        "  finished TEXT,\n"
        "  tool_version TEXT NOT NULL,\n"
        "  catalogue_hash TEXT NOT NULL,\n"
        "  arguments TEXT NOT NULL\n"
        ");\n"
        "CREATE TABLE sources (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  scan_id INTEGER NOT NULL REFERENCES scans(id),\n"
        "  path TEXT NOT NULL UNIQUE,\n"
        "  kind TEXT NOT NULL,\n"
        "  host TEXT,\n"
        "  size INTEGER,\n"
        "  mtime INTEGER,\n"
        "  complete INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE TABLE files (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  source_id INTEGER NOT NULL REFERENCES sources(id),\n"
        "  scan_id INTEGER NOT NULL REFERENCES scans(id),\n"
        "  path TEXT NOT NULL UNIQUE,\n"
        "  location TEXT NOT NULL,\n"
        "  family TEXT,\n"
        "  encoding TEXT,\n"
        "  size INTEGER,\n"
        "  mtime INTEGER,\n"
        "  bytes INTEGER,\n"
        "  lines INTEGER,\n"
        "  cut_lines INTEGER NOT NULL DEFAULT 0,\n"
        "  replaced INTEGER NOT NULL DEFAULT 0,\n"
        "  hash TEXT,\n"
        "  status TEXT NOT NULL,\n"
        "  error TEXT\n"
        ");\n"
        "CREATE INDEX files_source ON files(source_id);\n"
        "CREATE TABLE rules (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  rule_id TEXT NOT NULL UNIQUE,\n"
        "  rank INTEGER NOT NULL,\n"
        "  severity TEXT NOT NULL,\n"
        "  family TEXT NOT NULL,\n"
        "  event TEXT,\n"
        "  priority INTEGER NOT NULL,\n"
        "  code TEXT,\n"
        "  evidence TEXT NOT NULL,\n"
        "  title TEXT NOT NULL,\n"
        "  explain TEXT NOT NULL,\n"
        "  fix TEXT NOT NULL,\n"
        "  pattern TEXT NOT NULL,\n"
        "  origin TEXT NOT NULL\n"
        ");\n"
        "CREATE TABLE findings (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,\n"
        "  line INTEGER NOT NULL,\n"
        "  offset INTEGER NOT NULL,\n"
        "  ts TEXT,\n"
        "  rule_id TEXT NOT NULL,\n"
        "  severity TEXT NOT NULL,\n"
        "  level INTEGER NOT NULL,\n"
        "  code TEXT,\n"
        "  action TEXT,\n"
        "  text TEXT NOT NULL,\n"
        "  title TEXT,\n"
        "  captures TEXT,\n"
        "  context_before TEXT,\n"
        "  context_after TEXT,\n"
        "  UNIQUE(file_id, line)\n"
        ");\n"
        "CREATE INDEX findings_level ON findings(level, file_id);\n"
        "CREATE TABLE rule_hits (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,\n"
        "  rule_id TEXT NOT NULL,\n"
        "  severity TEXT NOT NULL,\n"
        "  count INTEGER NOT NULL,\n"
        "  first_line INTEGER NOT NULL,\n"
        "  last_line INTEGER NOT NULL,\n"
        "  UNIQUE(file_id, rule_id)\n"
        ");\n"
        "CREATE TABLE verdicts (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  file_id INTEGER NOT NULL UNIQUE REFERENCES files(id) ON DELETE CASCADE,\n"
        "  outcome TEXT NOT NULL,\n"
        "  finding_id INTEGER REFERENCES findings(id) ON DELETE SET NULL,\n"
        "  root_line INTEGER,\n"
        "  action TEXT,\n"
        "  exit_code INTEGER,\n"
        "  reboot INTEGER NOT NULL DEFAULT 0,\n"
        "  reason TEXT,\n"
        "  product TEXT,\n"
        "  host TEXT,\n"
        "  started TEXT,\n"
        "  failed_at TEXT\n"
        ");\n"
        "CREATE TABLE candidates (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  verdict_id INTEGER NOT NULL REFERENCES verdicts(id) ON DELETE CASCADE,\n"
        "  rank INTEGER NOT NULL,\n"
        "  line INTEGER NOT NULL,\n"
        "  finding_id INTEGER REFERENCES findings(id) ON DELETE SET NULL,\n"
        "  reason TEXT NOT NULL\n"
        ");\n"
        "CREATE INDEX candidates_verdict ON candidates(verdict_id);\n"
        "CREATE VIEW v_findings AS\n"
        "  SELECT f.id, fi.path AS file, f.line, f.ts, f.rule_id, f.severity, f.level, f.code,\n"
        "         f.action, f.text, f.title, r.fix\n"
        "  FROM findings f JOIN files fi ON fi.id = f.file_id\n"
        "  LEFT JOIN rules r ON r.rule_id = f.rule_id;\n"
        "CREATE VIEW v_failures AS\n"
        "  SELECT fi.path AS file, v.outcome, v.exit_code, v.action, v.reason, v.failed_at,\n"
        "         f.line, f.rule_id, f.code, f.text\n"
        "  FROM verdicts v JOIN files fi ON fi.id = v.file_id\n"
        "  LEFT JOIN findings f ON f.id = v.finding_id\n"
        "  WHERE v.outcome = 'failed';\n"
        "CREATE VIEW v_noise AS\n"
        "  SELECT fi.path AS file, h.rule_id, r.code, h.count, h.first_line, h.last_line\n"
        "  FROM rule_hits h JOIN files fi ON fi.id = h.file_id\n"
        "  LEFT JOIN rules r ON r.rule_id = h.rule_id\n"
        "  WHERE h.severity = 'noise';\n";

/* How long a writer waits for another one's transaction before it gives up. */
#define BUSY_TIMEOUT_MS (5 * 60 * 1000)

/*
 * Schema step v1 -> v2: servers and the cluster (migrations[1]; the loop in ensure_schema()
 * sets user_version). A fresh database runs schema_sql first, then this.
 */
static const char schema_v2_sql[] =
        "ALTER TABLE files ADD COLUMN host TEXT;\n"
        "ALTER TABLE files ADD COLUMN host_from TEXT;\n"
        "ALTER TABLE verdicts ADD COLUMN finished TEXT;\n"
        "CREATE TABLE facts (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,\n"
        "  key TEXT NOT NULL,\n"
        "  value TEXT NOT NULL,\n"
        "  line INTEGER NOT NULL,\n"
        "  ts TEXT\n"
        ");\n"
        "CREATE INDEX facts_file ON facts(file_id);\n"
        "CREATE TABLE servers (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  scan_id INTEGER NOT NULL REFERENCES scans(id),\n"
        "  host TEXT NOT NULL,\n"
        "  role TEXT NOT NULL,\n"
        "  role_evidence TEXT,\n"
        "  outcome TEXT NOT NULL,\n"
        "  product TEXT,\n"
        "  from_version TEXT,\n"
        "  to_version TEXT,\n"
        "  final_version TEXT,\n"
        "  started TEXT,\n"
        "  finished TEXT,\n"
        "  reboot INTEGER NOT NULL DEFAULT 0,\n"
        "  reason TEXT,\n"
        "  file_id INTEGER REFERENCES files(id) ON DELETE SET NULL,\n"
        "  line INTEGER,\n"
        "  finding_id INTEGER REFERENCES findings(id) ON DELETE SET NULL,\n"
        "  UNIQUE(scan_id, host)\n"
        ");\n"
        "CREATE TABLE checks (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  scan_id INTEGER NOT NULL REFERENCES scans(id),\n"
        "  name TEXT NOT NULL,\n"
        "  severity TEXT NOT NULL,\n"
        "  host TEXT,\n"
        "  hosts TEXT,\n"
        "  file_id INTEGER REFERENCES files(id) ON DELETE SET NULL,\n"
        "  line INTEGER,\n"
        "  text TEXT NOT NULL,\n"
        "  advice TEXT,\n"
        "  evidence TEXT NOT NULL\n"
        ");\n"
        "CREATE INDEX checks_scan ON checks(scan_id);\n"
        "CREATE VIEW v_servers AS\n"
        "  SELECT s.host, s.role, s.outcome, s.from_version, s.to_version, s.final_version,\n"
        "         s.started, s.finished, s.reason, fi.path AS file, s.line, f.text\n"
        "  FROM servers s LEFT JOIN files fi ON fi.id = s.file_id\n"
        "  LEFT JOIN findings f ON f.id = s.finding_id\n"
        "  WHERE s.scan_id = (SELECT max(scan_id) FROM servers);\n"
        "CREATE VIEW v_failed_servers AS\n"
        "  SELECT host, role, outcome, reason, file, line, text FROM v_servers\n"
        "  WHERE outcome IN ('failed', 'cancelled', 'incomplete');\n"
        "CREATE VIEW v_checks AS\n"
        "  SELECT c.name, c.severity, coalesce(c.host, c.hosts) AS hosts, fi.path AS file,\n"
        "         c.line, c.text, c.advice, c.evidence\n"
        "  FROM checks c LEFT JOIN files fi ON fi.id = c.file_id\n"
        "  WHERE c.scan_id = (SELECT max(scan_id) FROM checks);\n"
        /* v1 rows have no host and no facts: their files are read again on the next scan. */
        "UPDATE files SET hash = NULL, mtime = NULL;\n"
        "UPDATE sources SET complete = 0;\n";

/*
 * The schema as a list of steps: migrations[i] takes a database from user_version i to i + 1.
 * ensure_schema() runs the steps a database lacks, in order, in one BEGIN IMMEDIATE
 * transaction, and sets user_version after each. A new schema version is one more entry.
 */
static const char *const migrations[] = {
	schema_sql,    /* 0 -> 1 */
	schema_v2_sql, /* 1 -> 2: servers and the cluster */
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(NMIGRATIONS == UL_SCHEMA_VERSION, "one migration step per schema version");

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
	S_KEEP,
	S_SEEN,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_FILE_DELETE] = "DELETE FROM files WHERE path = ?1",
	[S_FILE_INSERT] =
	        "INSERT INTO files (source_id, scan_id, path, location, family, encoding,"
	        " size, mtime, bytes, lines, cut_lines, replaced, hash, status, error)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[S_FILE_UPDATE] = "UPDATE files SET family = ?2, encoding = ?3, bytes = ?4, lines = ?5,"
	                  " cut_lines = ?6, replaced = ?7, hash = ?8, status = ?9, error = ?10"
	                  " WHERE id = ?1",
	[S_FINDING] =
	        "INSERT OR REPLACE INTO findings (file_id, line, offset, ts, rule_id, severity,"
	        " level, code, action, text, title, captures, context_before, context_after)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_HIT] = "INSERT INTO rule_hits (file_id, rule_id, severity, count, first_line, last_line)"
	          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_VERDICT] = "INSERT INTO verdicts (file_id, outcome, finding_id, root_line, action,"
	              " exit_code, reboot, reason, product, host, started, failed_at, finished)"
	              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_FACT] = "INSERT INTO facts (file_id, key, value, line, ts) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_CANDIDATE] = "INSERT INTO candidates (verdict_id, rank, line, finding_id, reason)"
	                " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FIND_LINE] = "SELECT id FROM findings WHERE file_id = ?1 AND line = ?2",
	[S_LOOKUP] = "SELECT size, mtime, hash, status FROM files WHERE path = ?1",
	[S_KEEP] = "UPDATE files SET scan_id = ?1, source_id = ?2 WHERE path = ?3",
	[S_SEEN] = "INSERT OR IGNORE INTO temp.seen (path) VALUES (?1)",
};

struct ul_store {
	sqlite3 *db;
	enum ul_store_mode mode;
	char *path;
	int lock_fd;          /* the running-scan marker's file descriptor, or -1 */
	int64_t running_scan; /* scan whose marker this process holds, or 0 */
	int64_t own_scan;     /* the scan this connection ran (temp.visited holds its files) */
	sqlite3_stmt *stmt[S_COUNT];
	bool in_file;
};

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Every store error names the database. */
static bool db_err(struct ul_store *st, struct ul_error *err, const char *what)
{
	return ul_error_set(err, "store", "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static bool exec(struct ul_store *st, const char *sql, struct ul_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ul_error_set(err, "store", "%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

/*
 * exec() for the set-up of a connection, which may meet another process creating the same
 * database: SQLite answers some of those meetings (switching a new file to WAL, reading a
 * schema being written) with SQLITE_BUSY at once, without the busy handler. Try again for as
 * long as the busy handler would wait.
 */
static bool exec_setup(struct ul_store *st, const char *sql, struct ul_error *err)
{
	for (int waited = 0;; waited += 10) {
		int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return true;
		if ((rc & 0xFF) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			return exec(st, sql, err); /* once more, for the message */
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* The first column of the first row of `sql` (0 when there is no row). */
static bool one_int(struct ul_store *st, const char *sql, int64_t *out, struct ul_error *err)
{
	sqlite3_stmt *s;
	*out = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "cannot read the database");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "cannot read the database");
	return true;
}

static bool ensure_schema(struct ul_store *st, struct ul_error *err)
{
	int64_t version, tables;
	if (!one_int(st, "PRAGMA user_version", &version, err))
		return false;
	if (version == UL_SCHEMA_VERSION)
		return true;
	if (version > UL_SCHEMA_VERSION)
		return ul_error_set(err, "store",
		                    "%s: database schema v%lld is newer than this upglog (v%d)",
		                    st->path, (long long)version, UL_SCHEMA_VERSION);
	if (st->mode != UL_STORE_CREATE && version == 0) {
		if (!one_int(st, "SELECT count(*) FROM sqlite_schema", &tables, err))
			return false;
		if (tables > 0)
			return ul_error_set(err, "store",
			                    "%s: the database holds other tables: not an upglog "
			                    "database",
			                    st->path);
		return ul_error_set(err, "store", "%s: not an upglog database (no schema)",
		                    st->path);
	}
	/* An older schema is upgraded in place by a writer (scan, query --write), never a reader. */
	if (st->mode == UL_STORE_READONLY)
		return ul_error_set(err, "store",
		                    "%s: database schema v%lld is older than this upglog and must "
		                    "be upgraded to v%d: run a scan on it (or query --write) once",
		                    st->path, (long long)version, UL_SCHEMA_VERSION);
	/* Another process may create or upgrade it at the same time: decide under the lock. */
	if (!exec(st, "BEGIN IMMEDIATE", err))
		return false;
	if (!one_int(st, "PRAGMA user_version", &version, err))
		goto fail;
	if (version > UL_SCHEMA_VERSION) {
		ul_error_set(err, "store",
		             "%s: database schema v%lld is newer than this upglog (v%d)", st->path,
		             (long long)version, UL_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0) {
		if (!one_int(st, "SELECT count(*) FROM sqlite_schema", &tables, err))
			goto fail;
		if (tables > 0) {
			ul_error_set(err, "store",
			             "%s: the database holds other tables: not an upglog database",
			             st->path);
			goto fail;
		}
	}
	for (int64_t v = version; v < UL_SCHEMA_VERSION; v++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)v + 1);
		if (!exec(st, migrations[v], err) || !exec(st, sql, err))
			goto fail;
	}
	if (exec(st, "COMMIT", err))
		return true;
fail:
	exec(st, "ROLLBACK", NULL);
	return false;
}

/* Can this process write the file and create files beside it (-wal, -shm)? */
static bool writable_here(const char *path)
{
	if (access(path, W_OK) != 0)
		return false;
	char *dir = strdup(path);
	if (!dir)
		return false;
	char *slash = strrchr(dir, '/');
	bool ok =
	        slash ? (slash == dir ? access("/", W_OK) : (*slash = '\0', access(dir, W_OK))) == 0
	              : access(".", W_OK) == 0;
	free(dir);
	return ok;
}

/* SQL ul_mask(x): text x with its secrets masked (mask.h); any other value as it is. */
static void sql_mask(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	if (sqlite3_value_type(argv[0]) != SQLITE_TEXT || !t || !ul_mask_has_secret(t, (size_t)n)) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	char *m = ul_mask_text(t, (size_t)n);
	if (!m) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_text(ctx, m, -1, free);
}

static bool configure(struct ul_store *st)
{
	if (sqlite3_create_function_v2(st->db, "ul_mask", 1,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                               sql_mask, NULL, NULL, NULL) != SQLITE_OK)
		return false;
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* A query may read anything but must not reach outside the database. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	if (st->mode == UL_STORE_READONLY)
		sqlite3_limit(st->db, SQLITE_LIMIT_ATTACHED, 0);
	return true;
}

/* Open the read-only store again as an immutable file (see ul_store_open). */
static bool reopen_immutable(struct ul_store *st, struct ul_error *err)
{
	char *wal = NULL;
	if (asprintf(&wal, "%s-wal", st->path) < 0)
		return false;
	struct stat wst;
	bool has_wal = stat(wal, &wst) == 0 && wst.st_size > 0;
	free(wal);
	if (has_wal)
		return false;
	/* file: URI of the path: '%', '?' and '#' escaped. */
	size_t n = strlen(st->path);
	char *uri = malloc(3 * n + 32), *o = uri;
	if (!uri)
		return false;
	o += sprintf(o, "file:");
	for (const char *p = st->path; *p; p++)
		o += strchr("%?#", *p) ? sprintf(o, "%%%02X", (unsigned char)*p)
		                       : sprintf(o, "%c", *p);
	strcpy(o, "?immutable=1");
	sqlite3_close(st->db);
	st->db = NULL;
	int rc = sqlite3_open_v2(
	        uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return false;
	return configure(st) && ensure_schema(st, err);
}

struct ul_store *ul_store_open(const char *path, enum ul_store_mode mode, struct ul_error *err)
{
	struct ul_store *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		ul_error_set(err, "memory", "%s: out of memory", path);
		return NULL;
	}
	st->mode = mode;
	st->lock_fd = -1;
	bool memory = strcmp(path, ":memory:") == 0;
	/*
	 * A read-only store opens a file it may write read-write, and refuses writes itself
	 * (query_only, no ATTACH, statement check): a read-write connection that closes last
	 * removes the -wal and -shm files a read-only one would leave behind.
	 */
	bool guarded = mode == UL_STORE_READONLY && !memory && writable_here(path);
	int flags = mode == UL_STORE_READONLY
	                    ? (guarded ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY)
	            : mode == UL_STORE_WRITE ? SQLITE_OPEN_READWRITE
	                                     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ul_error_set(err, "store", "%s: cannot open database: %s", path,
		             st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	if (!configure(st)) {
		db_err(st, err, "cannot set up the connection");
		goto fail;
	}
	if (mode == UL_STORE_READONLY) {
		if (guarded && !exec(st, "PRAGMA query_only = 1", err))
			goto fail;
	} else {
		if (sqlite3_db_readonly(st->db, "main") == 1) {
			ul_error_set(
			        err, "store",
			        "%s: the database is read-only for this user; cannot write to it",
			        path);
			goto fail;
		}
		if (!memory && !exec_setup(st, "PRAGMA journal_mode = WAL", err))
			goto fail;
		if (!exec(st, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", err))
			goto fail;
	}
	if (!ensure_schema(st, err)) {
		int code = sqlite3_errcode(st->db) & 0xFF;
		if (mode != UL_STORE_READONLY || guarded ||
		    (code != SQLITE_CANTOPEN && code != SQLITE_READONLY))
			goto fail;
		/*
		 * A WAL database in a folder this user may not write, without its -shm file:
		 * SQLite cannot set up shared memory. With no -wal file either, everything is in
		 * the database file and nobody can be writing it (a writer needs the folder):
		 * read it as an immutable file.
		 */
		if (!reopen_immutable(st, err)) {
			ul_error_set(err, "store",
			             "%s: cannot read the database: its folder is not writable and "
			             "its -shm file is missing, and a -wal file holds part of it; "
			             "copy the database with its -wal file somewhere writable",
			             path);
			goto fail;
		}
	}
	/*
	 * The files this connection's scan saw in the source it reads, so that the source's end
	 * forgets only files this scan did not see, whatever other scans of the same input
	 * running at the same time write into files.scan_id.
	 */
	if (mode != UL_STORE_READONLY &&
	    !exec_setup(st,
	                "PRAGMA temp_store = MEMORY;"
	                " CREATE TEMP TABLE IF NOT EXISTS seen (path TEXT PRIMARY KEY);"
	                " CREATE TEMP TABLE IF NOT EXISTS visited (path TEXT PRIMARY KEY);"
	                " CREATE TEMP TRIGGER IF NOT EXISTS seen_is_visited AFTER INSERT ON seen"
	                " BEGIN INSERT OR IGNORE INTO visited (path) VALUES (new.path); END",
	                err))
		goto fail;
	if (mode != UL_STORE_READONLY) {
		for (int i = 0; i < S_COUNT; i++)
			if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			                       &st->stmt[i], NULL) != SQLITE_OK) {
				db_err(st, err, "prepare");
				goto fail;
			}
	}
	if (!memory)
		st->lock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	/* After SQLite's own locks are gone: closing a descriptor of the file drops the
	 * process's POSIX locks on it. */
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->path);
	free(st);
}

/*
 * A scan that runs holds a lock on one byte of the database file, far past anything SQLite
 * locks, for as long as its process lives: a reader tells a running scan from one that was
 * killed by testing that byte. Open-file-description locks, so no other descriptor of the
 * process disturbs them.
 */
#define RUN_LOCK_BASE ((off_t)1 << 40)

static void run_lock(struct ul_store *st, int64_t scan_id, bool take)
{
#ifdef F_OFD_SETLK
	if (st->lock_fd < 0)
		return;
	struct flock fl = { .l_type = take ? F_RDLCK : F_UNLCK,
		            .l_whence = SEEK_SET,
		            .l_start = RUN_LOCK_BASE + (off_t)scan_id,
		            .l_len = 1 };
	if (fcntl(st->lock_fd, F_OFD_SETLK, &fl) == 0)
		st->running_scan = take ? scan_id : 0;
#else
	(void)st;
	(void)scan_id;
	(void)take;
#endif
}

/* 1: a live process holds the scan's marker; 0: none does; -1: cannot tell. */
static int run_locked(struct ul_store *st, int64_t scan_id)
{
#ifdef F_OFD_GETLK
	if (st->lock_fd < 0)
		return -1;
	if (st->running_scan == scan_id)
		return 1;
	struct flock fl = { .l_type = F_WRLCK,
		            .l_whence = SEEK_SET,
		            .l_start = RUN_LOCK_BASE + (off_t)scan_id,
		            .l_len = 1 };
	if (fcntl(st->lock_fd, F_OFD_GETLK, &fl) != 0)
		return -1;
	return fl.l_type != F_UNLCK;
#else
	(void)st;
	(void)scan_id;
	return -1;
#endif
}

/* ---- binding helpers ----------------------------------------------------------------------- */

/*
 * A text bind copies the text and may run out of memory; the value would then silently be
 * NULL. The failure is remembered here and run_stmt() reports it instead of writing.
 */
static _Thread_local bool bind_failed;

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v) {
		if (sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) != SQLITE_OK)
			bind_failed = true;
	} else {
		sqlite3_bind_null(s, i);
	}
}

/* Text a log or a command line wrote: secrets masked (see mask.h) before it is stored. */
static bool bind_masked(sqlite3_stmt *s, int i, const char *v)
{
	if (!v || !ul_mask_has_secret(v, strlen(v))) {
		bind_text(s, i, v);
		return true;
	}
	char *m = ul_mask_text(v, strlen(v));
	if (!m)
		return false;
	if (sqlite3_bind_text(s, i, m, -1, free) != SQLITE_OK)
		return false; /* SQLite freed m */
	return true;
}

static bool oom(struct ul_store *st, struct ul_error *err)
{
	return ul_error_set(err, "memory", "%s: out of memory", st->path);
}

static void bind_opt_int(sqlite3_stmt *s, int i, bool have, int64_t v)
{
	if (have)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Step a write statement once, then reset it. */
static bool run_stmt(struct ul_store *st, sqlite3_stmt *s, struct ul_error *err, const char *what)
{
	if (bind_failed) {
		bind_failed = false;
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return ul_error_set(err, "memory", "%s: %s: out of memory", st->path, what);
	}
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(st, err, what);
	return true;
}

static void now_iso(char buf[32])
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
	        " ON CONFLICT(rule_id) DO UPDATE SET rank = excluded.rank,"
	        " severity = excluded.severity, family = excluded.family, event = excluded.event,"
	        " priority = excluded.priority, code = excluded.code, evidence = excluded.evidence,"
	        " title = excluded.title, explain = excluded.explain, fix = excluded.fix,"
	        " pattern = excluded.pattern, origin = excluded.origin";
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "rules");
	bool ok = true;
	for (size_t i = 0; ok && i < ul_catalog_count(cat); i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		char fam[64];
		ul_catalog_family_set_format(cat, r->families, " ", fam, sizeof(fam));
		bind_text(s, 1, r->id);
		sqlite3_bind_int64(s, 2, (int64_t)i);
		bind_text(s, 3, ul_severity_name(r->severity));
		bind_text(s, 4, fam);
		bind_text(s, 5, r->event ? ul_event_name(r->event) : NULL);
		sqlite3_bind_int(s, 6, r->priority);
		bind_text(s, 7, r->code);
		bind_text(s, 8, r->evidence);
		bind_text(s, 9, r->title);
		bind_text(s, 10, r->explain);
		bind_text(s, 11, r->fix);
		bind_text(s, 12, r->match);
		bind_text(s, 13, r->origin);
		ok = run_stmt(st, s, err, "rules");
	}
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_begin_scan(struct ul_store *st, const char *version, const char *arguments,
                         const struct ul_catalog *cat, int64_t *scan_id, struct ul_error *err)
{
	char now[32];
	sqlite3_stmt *s;
	now_iso(now);
	if (!exec(st, "DELETE FROM temp.visited", err) || !exec(st, "BEGIN IMMEDIATE", err))
		return false;
	if (sqlite3_prepare_v2(
	            st->db,
	            "INSERT INTO scans (started, tool_version, catalogue_hash, arguments)"
	            " VALUES (?1, ?2, ?3, ?4)",
	            -1, &s, NULL) != SQLITE_OK) {
		db_err(st, err, "scan");
		goto fail;
	}
	bind_text(s, 1, now);
	bind_text(s, 2, version);
	bind_text(s, 3, ul_catalog_hash(cat));
	bind_text(s, 4, arguments); /* JSON: the caller masks each argument (mask.h) */
	bool ok = run_stmt(st, s, err, "scan");
	sqlite3_finalize(s);
	if (!ok)
		goto fail;
	*scan_id = sqlite3_last_insert_rowid(st->db);
	if (!sync_rules(st, cat, err))
		goto fail;
	if (!exec(st, "COMMIT", err))
		goto fail;
	run_lock(st, *scan_id, true);
	st->own_scan = *scan_id;
	return true;
fail:
	exec(st, "ROLLBACK", NULL);
	return false;
}

bool ul_store_end_scan(struct ul_store *st, int64_t scan_id, struct ul_error *err)
{
	char now[32];
	sqlite3_stmt *s;
	now_iso(now);
	if (sqlite3_prepare_v2(st->db, "UPDATE scans SET finished = ?1 WHERE id = ?2", -1, &s,
	                       NULL) != SQLITE_OK)
		return db_err(st, err, "scan");
	bind_text(s, 1, now);
	sqlite3_bind_int64(s, 2, scan_id);
	bool ok = run_stmt(st, s, err, "scan");
	sqlite3_finalize(s);
	if (!ok)
		return false;
	run_lock(st, scan_id, false);
	/* Fold the WAL back so the database file stands on its own when the tool exits. A
	 * checkpoint that cannot run now (another process reads) is done by a later one. */
	sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return true;
}

bool ul_store_source_unchanged(struct ul_store *st, const char *path, const char *kind,
                               int64_t size, int64_t mtime, bool *unchanged, struct ul_error *err)
{
	sqlite3_stmt *s;
	*unchanged = false;
	if (strcmp(kind, "dir") == 0 || strcmp(kind, "stdin") == 0)
		return true;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT kind, size, mtime, complete FROM sources WHERE path = ?1",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "source");
	bind_text(s, 1, path);
	if (bind_failed) {
		bind_failed = false;
		sqlite3_finalize(s);
		return oom(st, err);
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *old_kind = col(s, 0);
		*unchanged = old_kind && strcmp(old_kind, kind) == 0 &&
		             sqlite3_column_int64(s, 1) == size &&
		             sqlite3_column_int64(s, 2) == mtime && sqlite3_column_int(s, 3) == 1;
	}
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE || db_err(st, err, "source");
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_source(struct ul_store *st, int64_t scan_id, const char *path, const char *kind,
                     int64_t size, int64_t mtime, bool unchanged, int64_t *source_id,
                     struct ul_error *err)
{
	static const char upsert[] =
	        "INSERT INTO sources (scan_id, path, kind, size, mtime, complete)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, 0)"
	        " ON CONFLICT(path) DO UPDATE SET scan_id = excluded.scan_id, kind = excluded.kind,"
	        " size = excluded.size, mtime = excluded.mtime,"
	        " complete = CASE WHEN ?6 THEN sources.complete ELSE 0 END"
	        " RETURNING id";
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, upsert, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "source");
	sqlite3_bind_int64(s, 1, scan_id);
	bind_text(s, 2, path);
	bind_text(s, 3, kind);
	sqlite3_bind_int64(s, 4, size);
	sqlite3_bind_int64(s, 5, mtime);
	sqlite3_bind_int(s, 6, unchanged);
	if (!exec(st, "DELETE FROM temp.seen", err)) {
		sqlite3_finalize(s);
		return false;
	}
	if (bind_failed) {
		bind_failed = false;
		sqlite3_finalize(s);
		return oom(st, err);
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*source_id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_err(st, err, "source");
	if (!unchanged)
		return true;
	/* Every file of the unchanged input stays, now seen by this scan. */
	static const char *const keep[] = {
		"UPDATE files SET scan_id = ?1 WHERE source_id = ?2",
		"INSERT OR IGNORE INTO temp.seen (path) SELECT path FROM files"
		" WHERE source_id = ?2 AND ?1 = ?1",
	};
	bool ok = true;
	for (size_t i = 0; ok && i < 2; i++) {
		if (sqlite3_prepare_v2(st->db, keep[i], -1, &s, NULL) != SQLITE_OK)
			return db_err(st, err, "source");
		sqlite3_bind_int64(s, 1, scan_id);
		sqlite3_bind_int64(s, 2, *source_id);
		ok = run_stmt(st, s, err, "source");
		sqlite3_finalize(s);
	}
	return ok;
}

bool ul_store_source_done(struct ul_store *st, int64_t scan_id, int64_t source_id, bool complete,
                          struct ul_error *err)
{
	static const char *const sql[] = {
		"DELETE FROM files WHERE source_id = ?2 AND ?3 AND ?1 = ?1"
		" AND path NOT IN (SELECT path FROM temp.seen)",
		"UPDATE sources SET complete = ?3, host = coalesce((SELECT v.host FROM verdicts v"
		" JOIN files f ON f.id = v.file_id WHERE f.source_id = ?2 AND v.host IS NOT NULL"
		" AND v.host <> '' LIMIT 1), host) WHERE id = ?2 AND ?1 = ?1",
	};
	bool ok = exec(st, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; ok && i < 2; i++) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK) {
			ok = db_err(st, err, "source");
			break;
		}
		sqlite3_bind_int64(s, 1, scan_id);
		sqlite3_bind_int64(s, 2, source_id);
		sqlite3_bind_int(s, 3, complete);
		ok = run_stmt(st, s, err, "source");
		sqlite3_finalize(s);
	}
	if (!ok) {
		exec(st, "ROLLBACK", NULL);
		return false;
	}
	return exec(st, "COMMIT", err);
}

bool ul_store_source_host(struct ul_store *st, int64_t source_id, const char *given,
                          const char *from_name, struct ul_error *err)
{
	sqlite3_stmt *s;
	char host[64] = "";
	const char *from = NULL;
	if (sqlite3_prepare_v2(st->db,
	                       "SELECT host FROM files WHERE source_id = ?1 AND host_from = 'log'"
	                       " GROUP BY upper(host) ORDER BY count(*) DESC, min(id) LIMIT 1",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "host");
	sqlite3_bind_int64(s, 1, source_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && col(s, 0)) {
		snprintf(host, sizeof(host), "%s", col(s, 0));
		from = "bundle";
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_err(st, err, "host");
		sqlite3_finalize(s);
		return false;
	}
	sqlite3_finalize(s);
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
	bool ok = exec(st, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; ok && i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK) {
			ok = db_err(st, err, "host");
			break;
		}
		sqlite3_bind_int64(s, 1, source_id);
		bind_text(s, 2, host);
		if (i > 0)
			bind_text(s, 3, from);
		ok = run_stmt(st, s, err, "host");
		sqlite3_finalize(s);
	}
	if (!ok) {
		exec(st, "ROLLBACK", NULL);
		return false;
	}
	return exec(st, "COMMIT", err);
}

/* ---- files --------------------------------------------------------------------------------- */

bool ul_store_lookup(struct ul_store *st, const char *path, struct ul_known *out,
                     struct ul_error *err)
{
	sqlite3_stmt *s = st->stmt[S_LOOKUP];
	memset(out, 0, sizeof(*out));
	bind_text(s, 1, path);
	if (bind_failed) {
		bind_failed = false;
		sqlite3_clear_bindings(s);
		return oom(st, err);
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->found = true;
		out->size = sqlite3_column_int64(s, 0);
		out->mtime = sqlite3_column_int64(s, 1);
		const char *h = (const char *)sqlite3_column_text(s, 2);
		const char *status = (const char *)sqlite3_column_text(s, 3);
		snprintf(out->hash, sizeof(out->hash), "%s", h ? h : "");
		out->ok = status && strcmp(status, "ok") == 0;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "lookup");
	return true;
}

static bool mark_seen(struct ul_store *st, const char *path, struct ul_error *err)
{
	sqlite3_stmt *s = st->stmt[S_SEEN];
	bind_text(s, 1, path);
	return run_stmt(st, s, err, "file");
}

bool ul_store_keep(struct ul_store *st, int64_t scan_id, int64_t source_id, const char *path,
                   struct ul_error *err)
{
	sqlite3_stmt *s = st->stmt[S_KEEP];
	sqlite3_bind_int64(s, 1, scan_id);
	sqlite3_bind_int64(s, 2, source_id);
	bind_text(s, 3, path);
	return run_stmt(st, s, err, "keep") && mark_seen(st, path, err);
}

static void bind_row(sqlite3_stmt *s, const struct ul_file_row *r)
{
	sqlite3_bind_int64(s, 1, r->source_id);
	sqlite3_bind_int64(s, 2, r->scan_id);
	bind_text(s, 3, r->path);
	bind_text(s, 4, r->location ? r->location : "other");
	bind_text(s, 5, r->family);
	bind_text(s, 6, r->encoding);
	bind_opt_int(s, 7, r->size >= 0, r->size);
	bind_opt_int(s, 8, r->mtime > 0, r->mtime);
	sqlite3_bind_int64(s, 9, r->bytes);
	sqlite3_bind_int64(s, 10, r->lines);
	sqlite3_bind_int64(s, 11, r->cut_lines);
	sqlite3_bind_int64(s, 12, r->replaced);
	bind_text(s, 13, r->hash);
	bind_text(s, 14, r->status ? r->status : "ok");
	bind_text(s, 15, r->error);
}

static bool insert_row(struct ul_store *st, const struct ul_file_row *row, int64_t *file_id,
                       struct ul_error *err)
{
	if (!mark_seen(st, row->path, err))
		return false;
	sqlite3_stmt *del = st->stmt[S_FILE_DELETE];
	bind_text(del, 1, row->path);
	if (!run_stmt(st, del, err, "file"))
		return false;
	sqlite3_stmt *ins = st->stmt[S_FILE_INSERT];
	bind_row(ins, row);
	if (!run_stmt(st, ins, err, "file"))
		return false;
	*file_id = sqlite3_last_insert_rowid(st->db);
	return true;
}

bool ul_store_file_begin(struct ul_store *st, const struct ul_file_row *row, int64_t *file_id,
                         struct ul_error *err)
{
	if (!exec(st, "BEGIN IMMEDIATE", err))
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
	sqlite3_stmt *s = st->stmt[S_FINDING];
	const struct ul_rule *r = ul_catalog_rule(cat, f->rule);
	sqlite3_bind_int64(s, 1, file_id);
	sqlite3_bind_int64(s, 2, (int64_t)f->line);
	sqlite3_bind_int64(s, 3, (int64_t)f->offset);
	bind_text(s, 4, f->ts);
	bind_text(s, 5, r->id);
	bind_text(s, 6, ul_severity_name(f->severity));
	sqlite3_bind_int(s, 7, (int)f->severity);
	bind_text(s, 8, f->code);
	bind_text(s, 12, f->captures); /* JSON: masked value by value by the interpreter */
	if (!bind_masked(s, 9, f->action) || !bind_masked(s, 10, f->text) ||
	    !bind_masked(s, 11, f->title) || !bind_masked(s, 13, f->before) ||
	    !bind_masked(s, 14, f->after)) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return oom(st, err);
	}
	return run_stmt(st, s, err, "finding");
}

/* The finding at a line: *found says whether there is one. False on a database error. */
static bool finding_at(struct ul_store *st, int64_t file_id, uint64_t line, bool *found,
                       int64_t *id, struct ul_error *err)
{
	sqlite3_stmt *s = st->stmt[S_FIND_LINE];
	sqlite3_bind_int64(s, 1, file_id);
	sqlite3_bind_int64(s, 2, (int64_t)line);
	int rc = sqlite3_step(s);
	*found = rc == SQLITE_ROW;
	if (*found)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || db_err(st, err, "finding");
}

static bool write_verdict(struct ul_store *st, int64_t file_id, const struct ul_verdict *v,
                          struct ul_error *err)
{
	sqlite3_stmt *s = st->stmt[S_VERDICT];
	int64_t root = 0;
	bool have_root = false;
	if (v->root_line && !finding_at(st, file_id, v->root_line, &have_root, &root, err))
		return false;
	sqlite3_bind_int64(s, 1, file_id);
	bind_text(s, 2, ul_outcome_name(v->outcome));
	bind_opt_int(s, 3, have_root, root);
	bind_opt_int(s, 4, v->root_line != 0, (int64_t)v->root_line);
	bind_opt_int(s, 6, v->has_exit, v->exit_code);
	sqlite3_bind_int(s, 7, v->reboot);
	bind_text(s, 10, v->host[0] ? v->host : NULL);
	bind_text(s, 11, v->started[0] ? v->started : NULL);
	bind_text(s, 12, v->failed_at[0] ? v->failed_at : NULL);
	bind_text(s, 13, v->finished[0] ? v->finished : NULL);
	if (!bind_masked(s, 5, v->action[0] ? v->action : NULL) ||
	    !bind_masked(s, 8, v->reason[0] ? v->reason : NULL) ||
	    !bind_masked(s, 9, v->product[0] ? v->product : NULL)) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return oom(st, err);
	}
	if (!run_stmt(st, s, err, "verdict"))
		return false;
	int64_t verdict_id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < v->nfacts; i++) {
		sqlite3_stmt *f = st->stmt[S_FACT];
		sqlite3_bind_int64(f, 1, file_id);
		bind_text(f, 2, v->facts[i].key);
		if (!bind_masked(f, 3, v->facts[i].value)) {
			sqlite3_reset(f);
			sqlite3_clear_bindings(f);
			return oom(st, err);
		}
		sqlite3_bind_int64(f, 4, (int64_t)v->facts[i].line);
		bind_text(f, 5, v->facts[i].ts[0] ? v->facts[i].ts : NULL);
		if (!run_stmt(st, f, err, "fact"))
			return false;
	}
	if (v->host[0]) {
		sqlite3_stmt *h;
		if (sqlite3_prepare_v2(
		            st->db, "UPDATE files SET host = ?2, host_from = 'log' WHERE id = ?1",
		            -1, &h, NULL) != SQLITE_OK)
			return db_err(st, err, "host");
		sqlite3_bind_int64(h, 1, file_id);
		bind_text(h, 2, v->host);
		bool ok = run_stmt(st, h, err, "host");
		sqlite3_finalize(h);
		if (!ok)
			return false;
	}
	for (size_t i = 0; i < v->ncandidates; i++) {
		sqlite3_stmt *c = st->stmt[S_CANDIDATE];
		int64_t fid = 0;
		bool have = false;
		if (!finding_at(st, file_id, v->candidates[i].line, &have, &fid, err))
			return false;
		sqlite3_bind_int64(c, 1, verdict_id);
		sqlite3_bind_int64(c, 2, (int64_t)i + 1);
		sqlite3_bind_int64(c, 3, (int64_t)v->candidates[i].line);
		bind_opt_int(c, 4, have, fid);
		if (!bind_masked(c, 5, v->candidates[i].reason)) {
			sqlite3_reset(c);
			sqlite3_clear_bindings(c);
			return oom(st, err);
		}
		if (!run_stmt(st, c, err, "candidate"))
			return false;
	}
	return true;
}

bool ul_store_file_end(struct ul_store *st, int64_t file_id, const struct ul_file_row *row,
                       const struct ul_catalog *cat, const struct ul_tally *tallies,
                       size_t ntallies, const struct ul_verdict *verdict, struct ul_error *err)
{
	sqlite3_stmt *u = st->stmt[S_FILE_UPDATE];
	sqlite3_bind_int64(u, 1, file_id);
	bind_text(u, 2, row->family);
	bind_text(u, 3, row->encoding);
	sqlite3_bind_int64(u, 4, row->bytes);
	sqlite3_bind_int64(u, 5, row->lines);
	sqlite3_bind_int64(u, 6, row->cut_lines);
	sqlite3_bind_int64(u, 7, row->replaced);
	bind_text(u, 8, row->hash);
	bind_text(u, 9, row->status ? row->status : "ok");
	bind_text(u, 10, row->error);
	if (!run_stmt(st, u, err, "file"))
		goto fail;
	for (size_t i = 0; i < ntallies; i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, tallies[i].rule);
		sqlite3_stmt *h = st->stmt[S_HIT];
		sqlite3_bind_int64(h, 1, file_id);
		bind_text(h, 2, r->id);
		bind_text(h, 3, ul_severity_name(r->severity));
		sqlite3_bind_int64(h, 4, (int64_t)tallies[i].count);
		sqlite3_bind_int64(h, 5, (int64_t)tallies[i].first_line);
		sqlite3_bind_int64(h, 6, (int64_t)tallies[i].last_line);
		if (!run_stmt(st, h, err, "rule hits"))
			goto fail;
	}
	if (verdict && !write_verdict(st, file_id, verdict, err))
		goto fail;
	if (!exec(st, "COMMIT", err))
		goto fail;
	st->in_file = false;
	return true;
fail:
	ul_store_file_abort(st);
	return false;
}

void ul_store_file_abort(struct ul_store *st)
{
	if (st->in_file)
		exec(st, "ROLLBACK", NULL);
	st->in_file = false;
}

bool ul_store_file_failed(struct ul_store *st, const struct ul_file_row *row, struct ul_error *err)
{
	int64_t id;
	if (!exec(st, "BEGIN IMMEDIATE", err))
		return false;
	st->in_file = true;
	if (!insert_row(st, row, &id, err)) {
		ul_store_file_abort(st);
		return false;
	}
	st->in_file = false;
	return exec(st, "COMMIT", err);
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
	static const char sql[] = "SELECT started, finished FROM scans WHERE id = ?1";
	static const char pending[] =
	        "SELECT path, 'not read to its end' FROM sources WHERE scan_id = ?1 AND NOT "
	        "complete"
	        " UNION ALL SELECT fi.path, fi.status FROM files fi JOIN sources so"
	        " ON so.id = fi.source_id WHERE so.scan_id = ?1 AND so.complete"
	        " AND fi.status <> 'ok' ORDER BY 1";
	sqlite3_stmt *s;
	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "scan");
	sqlite3_bind_int64(s, 1, scan_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->found = true;
		snprintf(out->started, sizeof(out->started), "%s", col(s, 0) ? col(s, 0) : "");
		out->finished = sqlite3_column_type(s, 1) != SQLITE_NULL;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, "scan");
	if (!out->found || out->finished)
		return true;
	out->running = run_locked(st, scan_id) == 1;
	if (!unread)
		return true;
	if (sqlite3_prepare_v2(st->db, pending, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "sources");
	sqlite3_bind_int64(s, 1, scan_id);
	bool ok = true;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ok = unread(ctx, col(s, 0), col(s, 1));
	if (ok && rc != SQLITE_DONE)
		ok = db_err(st, err, "sources");
	sqlite3_finalize(s);
	return ok;
}

/*
 * The files a scan covered. Another process's scan of the same input may since have become
 * the "last scan that visited" a source (sources.scan_id); so for the scan this connection
 * ran itself, the files it saw (temp.visited) are the scope. SCOPE marks the place in a query.
 */
#define SCOPE      "@SCOPE@"
#define SCOPE_LAST "fi.source_id IN (SELECT id FROM sources WHERE scan_id = ?1)"
#define SCOPE_OWN  "fi.path IN (SELECT path FROM temp.visited) AND ?1 = ?1"

static int prepare_scoped(struct ul_store *st, const char *sql, int64_t scan_id, sqlite3_stmt **s)
{
	const char *at = strstr(sql, SCOPE);
	const char *scope = st->own_scan && st->own_scan == scan_id ? SCOPE_OWN : SCOPE_LAST;
	char *full = NULL;
	if (!at || asprintf(&full, "%.*s%s%s", (int)(at - sql), sql, scope, at + strlen(SCOPE)) < 0)
		return SQLITE_NOMEM;
	int rc = sqlite3_prepare_v2(st->db, full, -1, s, NULL);
	free(full);
	return rc;
}

/* Columns 0..14 of FINDING_COLS fill a view. Text a log wrote is masked again as it is read
 * (ul_mask()): a database written by an older upglog may hold what this one would mask. */
#define FINDING_COLS                                                                     \
	"f.id, fi.path, f.line, f.ts, f.rule_id, f.severity, f.code, ul_mask(f.action)," \
	" ul_mask(f.text), ul_mask(f.context_before), ul_mask(f.context_after),"         \
	" ul_mask(coalesce(f.title, r.title)), r.explain, r.fix, f.captures"

static void read_finding(sqlite3_stmt *s, int at, struct ul_finding_view *v)
{
	v->id = sqlite3_column_int64(s, at + 0);
	v->file = col(s, at + 1);
	v->line = sqlite3_column_int64(s, at + 2);
	v->ts = col(s, at + 3);
	v->rule = col(s, at + 4);
	v->severity = col(s, at + 5);
	v->code = col(s, at + 6);
	v->action = col(s, at + 7);
	v->text = col(s, at + 8);
	v->before = col(s, at + 9);
	v->after = col(s, at + 10);
	v->title = col(s, at + 11);
	v->explain = col(s, at + 12);
	v->fix = col(s, at + 13);
	v->captures = col(s, at + 14);
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
	static const char sql[] = "SELECT c.line, ul_mask(c.reason), c.finding_id, " FINDING_COLS
	                          " FROM verdicts v JOIN candidates c ON c.verdict_id = v.id"
	                          " JOIN files fi ON fi.id = v.file_id"
	                          " LEFT JOIN findings f ON f.id = c.finding_id"
	                          " LEFT JOIN rules r ON r.rule_id = f.rule_id"
	                          " WHERE v.file_id = ?1 ORDER BY c.rank LIMIT 3";
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "candidates");
	sqlite3_bind_int64(s, 1, file_id);
	fv->ncandidates = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && fv->ncandidates < 3) {
		size_t k = fv->ncandidates++;
		struct ul_candidate_view *c = &fv->candidates[k];
		memset(c, 0, sizeof(*c));
		memset(a->buf[k], 0, 1);
		a->used[k] = 0;
		c->line = sqlite3_column_int64(s, 0);
		c->reason = keep_str(a, (int)k, col(s, 1));
		c->has_finding = sqlite3_column_type(s, 2) != SQLITE_NULL;
		if (c->has_finding) {
			struct ul_finding_view t;
			read_finding(s, 3, &t);
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
	}
	bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE || db_err(st, err, "candidates");
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_each_file(struct ul_store *st, int64_t scan_id,
                        bool (*cb)(void *ctx, const struct ul_file_view *f), void *ctx,
                        struct ul_error *err)
{
	static const char sql[] =
	        "SELECT fi.id, fi.path, fi.location, fi.family, fi.encoding, fi.status, fi.error,"
	        " fi.lines, fi.bytes, v.outcome, ul_mask(v.reason), ul_mask(v.action),"
	        " ul_mask(v.product), v.started,"
	        " v.failed_at, v.exit_code, v.reboot, v.finding_id IS NOT NULL, " FINDING_COLS
	        ", v.finished, fi.host, fi.host_from"
	        " FROM files fi LEFT JOIN verdicts v ON v.file_id = fi.id"
	        " LEFT JOIN findings f ON f.id = v.finding_id"
	        " LEFT JOIN rules r ON r.rule_id = f.rule_id"
	        " WHERE " SCOPE " ORDER BY fi.path";
	sqlite3_stmt *s;
	struct arena *a = malloc(sizeof(*a));
	if (!a)
		return ul_error_set(err, "memory", "out of memory");
	if (prepare_scoped(st, sql, scan_id, &s) != SQLITE_OK) {
		free(a);
		return db_err(st, err, "files");
	}
	sqlite3_bind_int64(s, 1, scan_id);
	bool ok = true;
	int rc;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ul_file_view fv;
		memset(&fv, 0, sizeof(fv));
		fv.id = sqlite3_column_int64(s, 0);
		fv.path = col(s, 1);
		fv.location = col(s, 2);
		fv.family = col(s, 3);
		fv.encoding = col(s, 4);
		fv.status = col(s, 5);
		fv.error = col(s, 6);
		fv.lines = sqlite3_column_int64(s, 7);
		fv.bytes = sqlite3_column_int64(s, 8);
		fv.outcome = col(s, 9);
		fv.reason = col(s, 10);
		fv.action = col(s, 11);
		fv.product = col(s, 12);
		fv.started = col(s, 13);
		fv.failed_at = col(s, 14);
		fv.has_exit = sqlite3_column_type(s, 15) != SQLITE_NULL;
		fv.exit_code = sqlite3_column_int64(s, 15);
		fv.reboot = sqlite3_column_int(s, 16) != 0;
		fv.has_root = sqlite3_column_int(s, 17) != 0;
		if (fv.has_root)
			read_finding(s, 18, &fv.root);
		fv.finished = col(s, 33);
		fv.host = col(s, 34);
		fv.host_from = col(s, 35);
		if (fv.outcome && !read_candidates(st, fv.id, &fv, a, err)) {
			ok = false;
			break;
		}
		ok = cb(ctx, &fv);
	}
	if (ok && rc != SQLITE_DONE)
		ok = db_err(st, err, "files");
	sqlite3_finalize(s);
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
	        " AND f.level >= ?2 AND (NOT ?3 OR r.event IS NULL OR r.event NOT IN"
	        " ('action-end', 'engine-return', 'server-return', 'final-status', "
	        "'product-failed',"
	        " 'product-ok', 'summary', 'exit-code', 'outcome-failed', 'log-stop'))"
	        " ORDER BY fi.path, f.line";
	sqlite3_stmt *s;
	if (prepare_scoped(st, sql, scan_id, &s) != SQLITE_OK)
		return db_err(st, err, "findings");
	sqlite3_bind_int64(s, 1, scan_id);
	sqlite3_bind_int(s, 2, (int)min);
	sqlite3_bind_int(s, 3, causes_only);
	bool ok = true;
	int rc;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ul_finding_view v;
		read_finding(s, 0, &v);
		ok = cb(ctx, &v);
	}
	if (ok && rc != SQLITE_DONE)
		ok = db_err(st, err, "findings");
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_each_fact(struct ul_store *st, int64_t scan_id,
                        bool (*cb)(void *ctx, const struct ul_fact_view *f), void *ctx,
                        struct ul_error *err)
{
	static const char sql[] = "SELECT fa.file_id, fi.path, fa.key, ul_mask(fa.value), fa.line,"
	                          " fa.ts FROM facts fa JOIN files fi ON fi.id = fa.file_id"
	                          " WHERE " SCOPE " ORDER BY fi.path, fa.line, fa.id";
	sqlite3_stmt *s;
	if (prepare_scoped(st, sql, scan_id, &s) != SQLITE_OK)
		return db_err(st, err, "facts");
	sqlite3_bind_int64(s, 1, scan_id);
	bool ok = true;
	int rc;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ul_fact_view v = {
			.file_id = sqlite3_column_int64(s, 0),
			.file = col(s, 1),
			.key = col(s, 2),
			.value = col(s, 3),
			.line = sqlite3_column_int64(s, 4),
			.ts = col(s, 5),
		};
		ok = cb(ctx, &v);
	}
	if (ok && rc != SQLITE_DONE)
		ok = db_err(st, err, "facts");
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_write_cluster(struct ul_store *st, int64_t scan_id,
                            const struct ul_server_row *servers, size_t nservers,
                            const struct ul_check_row *checks, size_t nchecks, struct ul_error *err)
{
	static const char del[] = "DELETE FROM servers WHERE scan_id = ?1;"
	                          " DELETE FROM checks WHERE scan_id = ?1";
	static const char ins_server[] =
	        "INSERT INTO servers (scan_id, host, role, role_evidence, outcome, product,"
	        " from_version, to_version, final_version, started, finished, reboot, reason,"
	        " file_id, line, finding_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	        " ?11, ?12, ?13, ?14, ?15, ?16)";
	static const char ins_check[] =
	        "INSERT INTO checks (scan_id, name, severity, host, hosts, file_id, line, text,"
	        " advice, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
	sqlite3_stmt *s = NULL;
	if (!exec(st, "BEGIN IMMEDIATE", err))
		return false;
	/* Under the write lock: every file the rows point at must still be there. */
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM files WHERE id = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < nservers + nchecks; i++) {
		int64_t id = i < nservers ? servers[i].file_id : checks[i - nservers].file_id;
		if (id <= 0)
			continue;
		sqlite3_bind_int64(s, 1, id);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE) {
			ul_error_set(
			        err, "stale",
			        "%s: the files changed while the cluster was built (another scan "
			        "of the same input)",
			        st->path);
			goto fail_quiet;
		}
		if (rc != SQLITE_ROW)
			goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	const char *tail = del;
	while (*tail) {
		if (sqlite3_prepare_v2(st->db, tail, -1, &s, &tail) != SQLITE_OK)
			goto fail;
		if (!s)
			break;
		sqlite3_bind_int64(s, 1, scan_id);
		if (!run_stmt(st, s, err, "cluster"))
			goto fail_quiet;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (sqlite3_prepare_v2(st->db, ins_server, -1, &s, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < nservers; i++) {
		const struct ul_server_row *r = &servers[i];
		int64_t fid = 0;
		bool have = false;
		if (r->file_id > 0 && r->line > 0 &&
		    !finding_at(st, r->file_id, (uint64_t)r->line, &have, &fid, err))
			goto fail_quiet;
		sqlite3_bind_int64(s, 1, scan_id);
		bind_text(s, 2, r->host);
		bind_text(s, 3, r->role);
		bind_text(s, 5, r->outcome);
		bind_text(s, 7, r->from_version);
		bind_text(s, 8, r->to_version);
		bind_text(s, 9, r->final_version);
		bind_text(s, 10, r->started);
		bind_text(s, 11, r->finished);
		sqlite3_bind_int(s, 12, r->reboot);
		bind_opt_int(s, 14, r->file_id > 0, r->file_id);
		bind_opt_int(s, 15, r->line > 0, r->line);
		bind_opt_int(s, 16, have, fid);
		/* Evidence, product and reason quote what the logs wrote: masked like any log text. */
		if (!bind_masked(s, 4, r->role_evidence) || !bind_masked(s, 6, r->product) ||
		    !bind_masked(s, 13, r->reason)) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			oom(st, err);
			goto fail_quiet;
		}
		if (!run_stmt(st, s, err, "servers"))
			goto fail_quiet;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db, ins_check, -1, &s, NULL) != SQLITE_OK) {
		s = NULL;
		goto fail;
	}
	for (size_t i = 0; i < nchecks; i++) {
		const struct ul_check_row *c = &checks[i];
		sqlite3_bind_int64(s, 1, scan_id);
		bind_text(s, 2, c->name);
		bind_text(s, 3, c->severity);
		bind_text(s, 4, c->host);
		bind_text(s, 5, c->hosts);
		bind_opt_int(s, 6, c->file_id > 0, c->file_id);
		bind_opt_int(s, 7, c->line > 0, c->line);
		bind_text(s, 10, c->evidence);
		if (!bind_masked(s, 8, c->text) || !bind_masked(s, 9, c->advice)) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			oom(st, err);
			goto fail_quiet;
		}
		if (!run_stmt(st, s, err, "checks"))
			goto fail_quiet;
	}
	sqlite3_finalize(s);
	return exec(st, "COMMIT", err);
fail:
	db_err(st, err, "cluster");
fail_quiet:
	sqlite3_finalize(s);
	exec(st, "ROLLBACK", NULL);
	return false;
}

bool ul_store_summary(struct ul_store *st, int64_t scan_id, struct ul_store_summary *out,
                      struct ul_error *err)
{
	static const char sql[] = "SELECT coalesce(v.outcome, ''), fi.status = 'ok', count(*)"
	                          " FROM files fi LEFT JOIN verdicts v ON v.file_id = fi.id"
	                          " WHERE " SCOPE " GROUP BY 1, 2";
	sqlite3_stmt *s;
	memset(out, 0, sizeof(*out));
	if (prepare_scoped(st, sql, scan_id, &s) != SQLITE_OK)
		return db_err(st, err, "summary");
	sqlite3_bind_int64(s, 1, scan_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *o = col(s, 0);
		uint64_t n = (uint64_t)sqlite3_column_int64(s, 2);
		out->files += n;
		if (!sqlite3_column_int(s, 1))
			out->unreadable += n;
		for (int k = 0; k < UL_OUTCOME_COUNT; k++)
			if (o && strcmp(o, ul_outcome_name((enum ul_outcome)k)) == 0)
				out->outcome[k] += n;
	}
	bool ok = rc == SQLITE_DONE || db_err(st, err, "summary");
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_counts(struct ul_store *st, int64_t scan_id, uint64_t counts[UL_SEV_COUNT],
                     struct ul_error *err)
{
	static const char sql[] =
	        "SELECT h.severity, sum(h.count) FROM rule_hits h"
	        " JOIN files fi ON fi.id = h.file_id WHERE " SCOPE " GROUP BY h.severity";
	sqlite3_stmt *s;
	memset(counts, 0, sizeof(uint64_t) * UL_SEV_COUNT);
	if (prepare_scoped(st, sql, scan_id, &s) != SQLITE_OK)
		return db_err(st, err, "counts");
	sqlite3_bind_int64(s, 1, scan_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		enum ul_severity sev;
		if (col(s, 0) && ul_severity_parse(col(s, 0), &sev))
			counts[sev] = (uint64_t)sqlite3_column_int64(s, 1);
	}
	bool ok = rc == SQLITE_DONE || db_err(st, err, "counts");
	sqlite3_finalize(s);
	return ok;
}

bool ul_store_each_noise(struct ul_store *st, int64_t scan_id,
                         bool (*cb)(void *ctx, const char *rule, const char *code, uint64_t count),
                         void *ctx, struct ul_error *err)
{
	static const char sql[] = "SELECT h.rule_id, coalesce(r.code, ''), sum(h.count) AS n"
	                          " FROM rule_hits h JOIN files fi ON fi.id = h.file_id"
	                          " LEFT JOIN rules r ON r.rule_id = h.rule_id"
	                          " WHERE " SCOPE " AND h.severity = 'noise'"
	                          " GROUP BY h.rule_id ORDER BY n DESC, h.rule_id";
	sqlite3_stmt *s;
	if (prepare_scoped(st, sql, scan_id, &s) != SQLITE_OK)
		return db_err(st, err, "noise");
	sqlite3_bind_int64(s, 1, scan_id);
	bool ok = true;
	int rc;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ok = cb(ctx, col(s, 0), col(s, 1), (uint64_t)sqlite3_column_int64(s, 2));
	if (ok && rc != SQLITE_DONE)
		ok = db_err(st, err, "noise");
	sqlite3_finalize(s);
	return ok;
}

/* ---- ad-hoc SQL ---------------------------------------------------------------------------- */

bool ul_store_query_rows(struct ul_store *st, const char *sql,
                         bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                         struct ul_error *err)
{
	const char *tail = sql;
	size_t statement = 0;
	while (tail && *tail) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(st->db, tail, -1, &s, &tail) != SQLITE_OK)
			return ul_error_set(err, "query", "SQL error: %s", sqlite3_errmsg(st->db));
		if (!s)
			continue; /* white space or a comment */
		if (st->mode == UL_STORE_READONLY && !sqlite3_stmt_readonly(s)) {
			sqlite3_finalize(s);
			return ul_error_set(err, "query",
			                    "this statement would change the database; queries are "
			                    "read-only unless --write is given");
		}
		int n = sqlite3_column_count(s);
		const char *names[256];
		struct ul_value values[256];
		if (n > 256)
			n = 256;
		for (int i = 0; i < n; i++)
			names[i] = sqlite3_column_name(s, i);
		struct ul_query_row row = {
			.statement = statement++, .ncols = n, .names = names, .values = values
		};
		int rc;
		bool ok = true;
		while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			for (int i = 0; i < n; i++) {
				struct ul_value *v = &values[i];
				memset(v, 0, sizeof(*v));
				switch (sqlite3_column_type(s, i)) {
				case SQLITE_INTEGER:
					v->type = UL_VAL_INT;
					v->i = sqlite3_column_int64(s, i);
					break;
				case SQLITE_FLOAT:
					v->type = UL_VAL_REAL;
					v->r = sqlite3_column_double(s, i);
					break;
				case SQLITE_TEXT:
					v->type = UL_VAL_TEXT;
					v->p = (const char *)sqlite3_column_text(s, i);
					v->len = (size_t)sqlite3_column_bytes(s, i);
					break;
				case SQLITE_BLOB:
					v->type = UL_VAL_BLOB;
					v->p = sqlite3_column_blob(s, i);
					v->len = (size_t)sqlite3_column_bytes(s, i);
					if (!v->p)
						v->p = "";
					break;
				default:
					v->type = UL_VAL_NULL;
					break;
				}
			}
			ok = cb(ctx, &row);
		}
		if (ok && rc != SQLITE_DONE) {
			ul_error_set(err, "query", "SQL error: %s", sqlite3_errmsg(st->db));
			sqlite3_finalize(s);
			return false;
		}
		sqlite3_finalize(s);
		if (!ok)
			return ul_error_is_set(err) ? false
			                            : ul_error_set(err, "query", "output failed");
	}
	return true;
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
	sqlite3_stmt *s;
	bool ok = false;
	if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
		return db_err(st, err, "integrity");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *v = col(s, 0);
		ok = v && strcmp(v, "ok") == 0;
		if (!ok)
			ul_error_set(err, "store", "%s: integrity check: %s", st->path,
			             v ? v : "?");
	} else {
		db_err(st, err, "integrity");
	}
	sqlite3_finalize(s);
	return ok;
}
