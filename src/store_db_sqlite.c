/* SPDX-License-Identifier: MIT */
/*
 * store_db_sqlite: the SQLite engine of the store's SQL driver (src/store_db.h). Everything
 * that is particular to SQLite files lives here: opening with the read-only guard, the
 * immutable reopen, WAL, the busy timeout, foreign keys, the `ul_mask()` SQL function, the
 * running-scan byte lock, checkpoints, PRAGMA user_version and integrity_check, ad-hoc queries.
 */
#include "store_db.h"

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

/* How long a writer waits for another one's transaction before it gives up. */
#define BUSY_TIMEOUT_MS (5 * 60 * 1000)

struct sq_db {
	struct db base;
	sqlite3 *h;
	enum ul_store_mode mode;
	char *path;
	int lock_fd;          /* the running-scan marker's file descriptor, or -1 */
	int64_t running_scan; /* scan whose marker this process holds, or 0 */
	bool nomem;           /* the last step failed because a bind ran out of memory */
};

struct sq_stmt {
	struct db_stmt base;
	sqlite3_stmt *s;
	/*
	 * A text bind copies the text and may run out of memory; the value would then silently
	 * be NULL. The failure is remembered here and the next step reports it instead of
	 * writing.
	 */
	bool bind_failed;
};

static const struct db_ops sq_ops;

static struct sq_db *SQ(struct db *db)
{
	return (struct sq_db *)db;
}

static struct sq_stmt *ST(struct db_stmt *s)
{
	return (struct sq_stmt *)s;
}

static const char *sq_errmsg(struct db *db)
{
	return SQ(db)->nomem ? "out of memory" : sqlite3_errmsg(SQ(db)->h);
}

static bool sq_err_nomem(struct db *db)
{
	return SQ(db)->nomem || (sqlite3_errcode(SQ(db)->h) & 0xFF) == SQLITE_NOMEM;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Outside a transaction, SQLite answers some meetings with another process (switching a new
 * file to WAL, reading a schema being written, a WAL being recovered) with SQLITE_BUSY at
 * once, without the busy handler: try again for as long as the busy handler would wait.
 * Inside a transaction a statement is never run twice.
 */
static bool sq_exec(struct db *db, const char *sql)
{
	struct sq_db *d = SQ(db);
	d->nomem = false;
	int64_t start = now_ms();
	for (;;) {
		bool outside = sqlite3_get_autocommit(d->h) != 0;
		int rc = sqlite3_exec(d->h, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return true;
		if ((rc & 0xFF) != SQLITE_BUSY || !outside || now_ms() - start >= BUSY_TIMEOUT_MS)
			return false;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static bool sq_begin(struct db *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static bool sq_commit(struct db *db)
{
	return sq_exec(db, "COMMIT");
}

static void sq_rollback(struct db *db)
{
	struct sq_db *d = SQ(db);
	if (!sqlite3_get_autocommit(d->h))
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
}

static bool sq_lock(struct db *db, const char *key)
{
	(void)db; /* BEGIN IMMEDIATE already excludes every other writer */
	(void)key;
	return true;
}

/* The first column of the first row of `sql` (0 when there is no row). */
static bool one_int(struct sq_db *d, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	*out = 0;
	d->nomem = false;
	if (sqlite3_prepare_v2(d->h, sql, -1, &s, NULL) != SQLITE_OK)
		return false;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static bool sq_get_version(struct db *db, int64_t *version)
{
	return one_int(SQ(db), "PRAGMA user_version", version);
}

static bool sq_set_version(struct db *db, int64_t version)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)version);
	return sq_exec(db, sql);
}

static bool sq_table_count(struct db *db, int64_t *n)
{
	return one_int(SQ(db), "SELECT count(*) FROM sqlite_schema", n);
}

/*
 * A scan that runs holds a lock on one byte of the database file, far past anything SQLite
 * locks, for as long as its process lives: a reader tells a running scan from one that was
 * killed by testing that byte. Open-file-description locks, so no other descriptor of the
 * process disturbs them.
 */
#define RUN_LOCK_BASE ((off_t)1 << 40)

static void sq_run_mark(struct db *db, int64_t scan_id, bool take)
{
#ifdef F_OFD_SETLK
	struct sq_db *d = SQ(db);
	if (d->lock_fd < 0)
		return;
	struct flock fl = { .l_type = take ? F_RDLCK : F_UNLCK,
		            .l_whence = SEEK_SET,
		            .l_start = RUN_LOCK_BASE + (off_t)scan_id,
		            .l_len = 1 };
	if (fcntl(d->lock_fd, F_OFD_SETLK, &fl) == 0)
		d->running_scan = take ? scan_id : 0;
#else
	(void)db;
	(void)scan_id;
	(void)take;
#endif
}

static int sq_run_marked(struct db *db, int64_t scan_id)
{
#ifdef F_OFD_GETLK
	struct sq_db *d = SQ(db);
	if (d->lock_fd < 0)
		return -1;
	if (d->running_scan == scan_id)
		return 1;
	struct flock fl = { .l_type = F_WRLCK,
		            .l_whence = SEEK_SET,
		            .l_start = RUN_LOCK_BASE + (off_t)scan_id,
		            .l_len = 1 };
	if (fcntl(d->lock_fd, F_OFD_GETLK, &fl) != 0)
		return -1;
	return fl.l_type != F_UNLCK;
#else
	(void)db;
	(void)scan_id;
	return -1;
#endif
}

/* Fold the WAL back so the database file stands on its own when the tool exits. A checkpoint
 * that cannot run now (another process reads) is done by a later one. */
static void sq_checkpoint(struct db *db)
{
	sqlite3_wal_checkpoint_v2(SQ(db)->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static bool sq_check(struct db *db, struct ul_error *err)
{
	struct sq_db *d = SQ(db);
	sqlite3_stmt *s;
	bool ok = false;
	if (sqlite3_prepare_v2(d->h, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
		return ul_error_set(err, "store", "%s: integrity: %s", d->path,
		                    sqlite3_errmsg(d->h));
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		ok = v && strcmp(v, "ok") == 0;
		if (!ok)
			ul_error_set(err, "store", "%s: integrity check: %s", d->path, v ? v : "?");
	} else {
		ul_error_set(err, "store", "%s: integrity: %s", d->path, sqlite3_errmsg(d->h));
	}
	sqlite3_finalize(s);
	return ok;
}

/* ---- statements ---------------------------------------------------------------------------- */

static struct db_stmt *sq_prepare(struct db *db, const char *sql, bool persistent)
{
	struct sq_db *d = SQ(db);
	d->nomem = false;
	struct sq_stmt *st = calloc(1, sizeof(*st));
	if (!st) {
		d->nomem = true;
		return NULL;
	}
	st->base.db = db;
	if (sqlite3_prepare_v3(d->h, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &st->s,
	                       NULL) != SQLITE_OK ||
	    !st->s) {
		sqlite3_finalize(st->s);
		free(st);
		return NULL;
	}
	return &st->base;
}

static void sq_bind_int(struct db_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(ST(s)->s, i, v);
}

static void sq_bind_null(struct db_stmt *s, int i)
{
	sqlite3_bind_null(ST(s)->s, i);
}

static void note_bind(struct db_stmt *s, int rc)
{
	if (rc != SQLITE_OK && rc != SQLITE_RANGE)
		ST(s)->bind_failed = true;
}

static void sq_bind_text(struct db_stmt *s, int i, const char *v)
{
	if (!v)
		sqlite3_bind_null(ST(s)->s, i);
	else
		note_bind(s, sqlite3_bind_text(ST(s)->s, i, v, -1, SQLITE_TRANSIENT));
}

static void sq_bind_text_owned(struct db_stmt *s, int i, char *v)
{
	if (!v)
		sqlite3_bind_null(ST(s)->s, i);
	else
		note_bind(s, sqlite3_bind_text(ST(s)->s, i, v, -1, free)); /* frees v on failure */
}

static enum db_step sq_step(struct db_stmt *s)
{
	struct sq_stmt *st = ST(s);
	struct sq_db *d = SQ(s->db);
	d->nomem = false;
	if (st->bind_failed) {
		d->nomem = true;
		return DB_ERROR;
	}
	int rc = sqlite3_step(st->s);
	return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : DB_ERROR;
}

static int sq_col_count(struct db_stmt *s)
{
	return sqlite3_column_count(ST(s)->s);
}

static const char *sq_col_name(struct db_stmt *s, int i)
{
	return sqlite3_column_name(ST(s)->s, i);
}

static enum db_type sq_col_type(struct db_stmt *s, int i)
{
	switch (sqlite3_column_type(ST(s)->s, i)) {
	case SQLITE_INTEGER:
		return DB_INT;
	case SQLITE_FLOAT:
		return DB_REAL;
	case SQLITE_TEXT:
		return DB_TEXT;
	case SQLITE_BLOB:
		return DB_BLOB;
	default:
		return DB_NULL;
	}
}

static int64_t sq_col_int(struct db_stmt *s, int i)
{
	return sqlite3_column_int64(ST(s)->s, i);
}

static double sq_col_real(struct db_stmt *s, int i)
{
	return sqlite3_column_double(ST(s)->s, i);
}

static const char *sq_col_text(struct db_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(ST(s)->s, i);
}

static const void *sq_col_blob(struct db_stmt *s, int i)
{
	return sqlite3_column_blob(ST(s)->s, i);
}

static size_t sq_col_bytes(struct db_stmt *s, int i)
{
	return (size_t)sqlite3_column_bytes(ST(s)->s, i);
}

static void sq_reset(struct db_stmt *s)
{
	sqlite3_reset(ST(s)->s);
	sqlite3_clear_bindings(ST(s)->s);
	ST(s)->bind_failed = false;
}

static void sq_finalize(struct db_stmt *s)
{
	sqlite3_finalize(ST(s)->s);
	free(s);
}

/* ---- ad-hoc SQL ---------------------------------------------------------------------------- */

static bool sq_query_rows(struct db *db, const char *sql,
                          bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                          struct ul_error *err)
{
	struct sq_db *d = SQ(db);
	const char *tail = sql;
	size_t statement = 0;
	while (tail && *tail) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(d->h, tail, -1, &s, &tail) != SQLITE_OK)
			return ul_error_set(err, "query", "SQL error: %s", sqlite3_errmsg(d->h));
		if (!s)
			continue; /* white space or a comment */
		if (d->mode == UL_STORE_READONLY && !sqlite3_stmt_readonly(s)) {
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
			ul_error_set(err, "query", "SQL error: %s", sqlite3_errmsg(d->h));
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

/* ---- opening ------------------------------------------------------------------------------- */

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

/* SQL ul_mask(x): text x with its secrets masked (mask.h); any other value as it is. Ad-hoc
 * queries use it. */
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

static bool configure(struct sq_db *d)
{
	if (sqlite3_create_function_v2(d->h, "ul_mask", 1,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                               sql_mask, NULL, NULL, NULL) != SQLITE_OK)
		return false;
	sqlite3_busy_timeout(d->h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(d->h, 1);
	/* A query may read anything but must not reach outside the database. */
	sqlite3_db_config(d->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(d->h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	if (d->mode == UL_STORE_READONLY)
		sqlite3_limit(d->h, SQLITE_LIMIT_ATTACHED, 0);
	return true;
}

/* Open the read-only database again as an immutable file (see db_sqlite_open). */
static bool reopen_immutable(struct sq_db *d)
{
	char *wal = NULL;
	if (asprintf(&wal, "%s-wal", d->path) < 0)
		return false;
	struct stat wst;
	bool has_wal = stat(wal, &wst) == 0 && wst.st_size > 0;
	free(wal);
	if (has_wal)
		return false;
	/* file: URI of the path: '%', '?' and '#' escaped. */
	size_t n = strlen(d->path);
	char *uri = malloc(3 * n + 32), *o = uri;
	if (!uri)
		return false;
	o += sprintf(o, "file:");
	for (const char *p = d->path; *p; p++)
		o += strchr("%?#", *p) ? sprintf(o, "%%%02X", (unsigned char)*p)
		                       : sprintf(o, "%c", *p);
	strcpy(o, "?immutable=1");
	sqlite3_close(d->h);
	d->h = NULL;
	int rc = sqlite3_open_v2(
	        uri, &d->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	int64_t v;
	return rc == SQLITE_OK && configure(d) &&
	       one_int(d, "SELECT count(*) FROM sqlite_schema", &v);
}

static void sq_close(struct db *db)
{
	struct sq_db *d = SQ(db);
	sqlite3_close(d->h);
	/* After SQLite's own locks are gone: closing a descriptor of the file drops the
	 * process's POSIX locks on it. */
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(d->path);
	free(d);
}

struct db *db_sqlite_open(const char *path, enum ul_store_mode mode, struct ul_error *err)
{
	struct sq_db *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path)) || !(d->base.display = strdup(path))) {
		if (d)
			free(d->path);
		free(d);
		ul_error_set(err, "memory", "%s: out of memory", path);
		return NULL;
	}
	d->base.ops = &sq_ops;
	d->base.engine = DB_SQLITE;
	d->mode = mode;
	d->lock_fd = -1;
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
	if (sqlite3_open_v2(path, &d->h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ul_error_set(err, "store", "%s: cannot open database: %s", path,
		             d->h ? sqlite3_errmsg(d->h) : "out of memory");
		goto fail;
	}
	if (!configure(d)) {
		ul_error_set(err, "store", "%s: cannot set up the connection: %s", path,
		             sqlite3_errmsg(d->h));
		goto fail;
	}
	if (mode == UL_STORE_READONLY) {
		if (guarded && !sq_exec(&d->base, "PRAGMA query_only = 1"))
			goto fail_msg;
		/*
		 * Can it be read? A WAL database in a folder this user may not write, without
		 * its -shm file: SQLite cannot set up shared memory. With no -wal file either,
		 * everything is in the database file and nobody can be writing it (a writer
		 * needs the folder): read it as an immutable file.
		 */
		int64_t v;
		if (!one_int(d, "SELECT count(*) FROM sqlite_schema", &v)) {
			int code = sqlite3_errcode(d->h) & 0xFF;
			if (guarded || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY))
				goto fail_msg;
			if (!reopen_immutable(d)) {
				ul_error_set(
				        err, "store",
				        "%s: cannot read the database: its folder is not "
				        "writable and its -shm file is missing, and a -wal file "
				        "holds part of it; copy the database with its -wal file "
				        "somewhere writable",
				        path);
				goto fail;
			}
		}
	} else {
		if (sqlite3_db_readonly(d->h, "main") == 1) {
			ul_error_set(
			        err, "store",
			        "%s: the database is read-only for this user; cannot write to it",
			        path);
			goto fail;
		}
		if (!memory && !sq_exec(&d->base, "PRAGMA journal_mode = WAL"))
			goto fail_msg;
		if (!sq_exec(&d->base, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
		                       " PRAGMA temp_store = MEMORY"))
			goto fail_msg;
	}
	if (!memory)
		d->lock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return &d->base;
fail_msg:
	ul_error_set(err, "store", "%s: %s", path, sqlite3_errmsg(d->h));
fail:
	free(d->base.display);
	sq_close(&d->base);
	return NULL;
}

static const struct db_ops sq_ops = {
	.close = sq_close,
	.errmsg = sq_errmsg,
	.err_nomem = sq_err_nomem,
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.lock = sq_lock,
	.get_version = sq_get_version,
	.set_version = sq_set_version,
	.table_count = sq_table_count,
	.run_mark = sq_run_mark,
	.run_marked = sq_run_marked,
	.checkpoint = sq_checkpoint,
	.check = sq_check,
	.prepare = sq_prepare,
	.bind_int = sq_bind_int,
	.bind_null = sq_bind_null,
	.bind_text = sq_bind_text,
	.bind_text_owned = sq_bind_text_owned,
	.step = sq_step,
	.col_count = sq_col_count,
	.col_name = sq_col_name,
	.col_type = sq_col_type,
	.col_int = sq_col_int,
	.col_real = sq_col_real,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.col_bytes = sq_col_bytes,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.query_rows = sq_query_rows,
};
