/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_STORE_DB_H
#define UPGLOG_STORE_DB_H

/*
 * store_db: the store module's private SQL driver. Not a public contract (include/upglog/store.h
 * is): only src/store*.c include it. The store's logic is written once against this interface;
 * two engines implement it:
 *
 *   src/store_db_sqlite.c  SQLite (always built)
 *   src/store_db_pg.c      PostgreSQL through libpq (built unless -Dpostgresql=disabled)
 *
 * SQL handed to the driver uses SQLite's numbered parameters ?1, ?2, ...; the PostgreSQL driver
 * rewrites them to $n outside string literals and quoted identifiers, and renumbers them so that
 * a number the text does not use may be skipped (PostgreSQL cannot type an unused parameter).
 * Values travel as text to PostgreSQL and the server infers each parameter's type from where it
 * stands; where it cannot (`?1 IS NULL`), write `CAST(?1 AS BIGINT)`, which both engines read.
 * Common SQL that both engines run: `INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING`,
 * `RETURNING id`, `coalesce`, `LIMIT`, quoted identifiers ("offset"). Where the dialects truly
 * differ (schema text, schema version, transactions, locks, integrity check, ad-hoc queries),
 * the driver has a function for it or the store asks db_engine().
 *
 * Errors: functions returning bool return false on failure; db_errmsg() then gives the engine's
 * one-line reason (no trailing newline). The driver never prints.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/error.h"
#include "upglog/store.h"

enum db_engine { DB_SQLITE, DB_POSTGRES };

struct db;
struct db_stmt;

/*
 * Does `name` (a --db value) name a PostgreSQL database rather than a SQLite file? True for a
 * `postgresql://` or `postgres://` URI and for a libpq key=value connection string
 * (`host=... dbname=...`: the first word is a libpq keyword followed by '='). True even in a
 * build without libpq, so that such a value is refused with a clear reason, never created as
 * a file.
 */
bool db_names_postgres(const char *name);

/* Is the PostgreSQL engine built in? */
bool db_postgres_available(void);

/*
 * Open a connection. SQLite: `name` is a path or ":memory:"; the driver does everything that
 * is particular to files (read-only guard, immutable fallback for a WAL database in a folder
 * this user cannot write, WAL mode, busy timeout, foreign keys, the `ul_mask()` SQL function).
 * PostgreSQL: `name` is a connection URI or key=value string (PG* environment variables fill
 * what it leaves out); a UL_STORE_READONLY connection runs every transaction read-only.
 * On failure `err` names `display` (the name without any password) and the reason.
 */
struct db *db_open(const char *name, enum ul_store_mode mode, struct ul_error *err);
void db_close(struct db *db);

enum db_engine db_engine(const struct db *db);

/* The database's name for messages: a SQLite path, or a PostgreSQL URI without password. */
const char *db_display(const struct db *db);

/* The engine's last error, one line. */
const char *db_errmsg(struct db *db);

/* Did the last error come from running out of memory? */
bool db_err_nomem(struct db *db);

/* Run SQL text of one or more statements without parameters or result rows. */
bool db_exec(struct db *db, const char *sql);

/*
 * Transactions. db_begin() starts a write transaction: SQLite takes the write lock at once
 * (BEGIN IMMEDIATE, waiting up to the busy timeout); PostgreSQL starts an ordinary transaction
 * (row locks and db_lock() order the writers).
 */
bool db_begin(struct db *db);
bool db_commit(struct db *db);
void db_rollback(struct db *db); /* harmless outside a transaction */

/*
 * Serialise writers on `key` (a path, "schema", ...) until the current transaction ends:
 * a PostgreSQL transaction-level advisory lock on a 64-bit hash of the key. SQLite: nothing to
 * do, its write transaction already excludes every other writer.
 */
bool db_lock(struct db *db, const char *key);

/*
 * Schema version: SQLite's `PRAGMA user_version`; PostgreSQL's row in table `upglog_schema`
 * (0 when the table does not exist). db_table_count(): tables and views in the database (the
 * current schema for PostgreSQL), the store's own excepted, to tell an empty database from a
 * foreign one.
 */
bool db_get_version(struct db *db, int64_t *version);
bool db_set_version(struct db *db, int64_t version);
bool db_table_count(struct db *db, int64_t *n);

/*
 * The running-scan marker: a lock that lives exactly as long as the process (and, for
 * PostgreSQL, its connection) that runs scan `scan_id`. SQLite: a lock on one byte of the
 * database file far past SQLite's own; PostgreSQL: a session-level advisory lock.
 * db_run_marked(): 1 a live process holds it, 0 none does, -1 cannot tell.
 */
void db_run_mark(struct db *db, int64_t scan_id, bool take);
int db_run_marked(struct db *db, int64_t scan_id);

/* After a scan: SQLite folds its WAL back into the file (passive checkpoint). */
void db_checkpoint(struct db *db);

/* Integrity: SQLite `PRAGMA integrity_check`; PostgreSQL: the connection answers. */
bool db_check(struct db *db, struct ul_error *err);

/* ---- statements ------------------------------------------------------------------------ */

enum db_step { DB_ERROR = 0, DB_ROW, DB_DONE };

enum db_type { DB_NULL, DB_INT, DB_REAL, DB_TEXT, DB_BLOB };

/*
 * Prepare one statement. `persistent`: it will be run many times (SQLite
 * SQLITE_PREPARE_PERSISTENT; PostgreSQL a named server-side prepared statement).
 * NULL on failure (db_errmsg says why).
 */
struct db_stmt *db_prepare(struct db *db, const char *sql, bool persistent);

/* Binding: parameters are numbered from 1. Text is copied. A bind that runs out of memory is
 * remembered and reported by the next db_step() as DB_ERROR with db_err_nomem() true. */
void db_bind_int(struct db_stmt *s, int i, int64_t v);
void db_bind_null(struct db_stmt *s, int i);
void db_bind_text(struct db_stmt *s, int i, const char *v); /* NULL binds NULL */
/* Takes `v` (malloc'd) and frees it, also on failure. */
void db_bind_text_owned(struct db_stmt *s, int i, char *v);

/*
 * Run or advance: DB_ROW with a row to read, DB_DONE at the end, DB_ERROR on failure. Column
 * values are valid until the next db_step(), db_reset() or db_finalize().
 */
enum db_step db_step(struct db_stmt *s);

int db_col_count(struct db_stmt *s);
const char *db_col_name(struct db_stmt *s, int i);
enum db_type db_col_type(struct db_stmt *s, int i); /* PostgreSQL: by the column's type
                                                       (integers and booleans DB_INT, float
                                                       and numeric DB_REAL, bytea DB_BLOB) */
int64_t db_col_int(struct db_stmt *s, int i);       /* NULL reads 0; a boolean 0 or 1 */
double db_col_real(struct db_stmt *s, int i);
const char *db_col_text(struct db_stmt *s, int i); /* NULL for SQL NULL */
const void *db_col_blob(struct db_stmt *s, int i);
size_t db_col_bytes(struct db_stmt *s, int i);

/* Make the statement ready to run again with new bindings (bindings are cleared). */
void db_reset(struct db_stmt *s);
void db_finalize(struct db_stmt *s); /* harmless on NULL */

/*
 * Ad-hoc SQL (`upglog query`): run `sql` (one or more statements), calling `cb` for every
 * result row with typed values (see struct ul_query_row). On a read-only connection a
 * statement that would write is refused: SQLite checks each statement before running it;
 * PostgreSQL runs everything in a READ ONLY transaction. Errors go to `err` ("query" kind).
 */
bool db_query_rows(struct db *db, const char *sql,
                   bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                   struct ul_error *err);

/* ---- for the engines ------------------------------------------------------------------- */

/*
 * Each engine fills one table of these and embeds `struct db` / `struct db_stmt` as the first
 * member of its own connection and statement structs. src/store_db.c turns the calls above into
 * calls through the table; db_open() picks the engine with db_names_postgres().
 */
struct db_ops {
	void (*close)(struct db *db);
	const char *(*errmsg)(struct db *db);
	bool (*err_nomem)(struct db *db);
	bool (*exec)(struct db *db, const char *sql);
	bool (*begin)(struct db *db);
	bool (*commit)(struct db *db);
	void (*rollback)(struct db *db);
	bool (*lock)(struct db *db, const char *key);
	bool (*get_version)(struct db *db, int64_t *version);
	bool (*set_version)(struct db *db, int64_t version);
	bool (*table_count)(struct db *db, int64_t *n);
	void (*run_mark)(struct db *db, int64_t scan_id, bool take);
	int (*run_marked)(struct db *db, int64_t scan_id);
	void (*checkpoint)(struct db *db);
	bool (*check)(struct db *db, struct ul_error *err);
	struct db_stmt *(*prepare)(struct db *db, const char *sql, bool persistent);
	void (*bind_int)(struct db_stmt *s, int i, int64_t v);
	void (*bind_null)(struct db_stmt *s, int i);
	void (*bind_text)(struct db_stmt *s, int i, const char *v);
	void (*bind_text_owned)(struct db_stmt *s, int i, char *v);
	enum db_step (*step)(struct db_stmt *s);
	int (*col_count)(struct db_stmt *s);
	const char *(*col_name)(struct db_stmt *s, int i);
	enum db_type (*col_type)(struct db_stmt *s, int i);
	int64_t (*col_int)(struct db_stmt *s, int i);
	double (*col_real)(struct db_stmt *s, int i);
	const char *(*col_text)(struct db_stmt *s, int i);
	const void *(*col_blob)(struct db_stmt *s, int i);
	size_t (*col_bytes)(struct db_stmt *s, int i);
	void (*reset)(struct db_stmt *s);
	void (*finalize)(struct db_stmt *s);
	bool (*query_rows)(struct db *db, const char *sql,
	                   bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
	                   struct ul_error *err);
};

struct db {
	const struct db_ops *ops;
	enum db_engine engine;
	char *display; /* owned; freed by db_close() after ops->close() */
};

struct db_stmt {
	struct db *db;
};

/* The engines' open functions; they set ops, engine and display. */
struct db *db_sqlite_open(const char *name, enum ul_store_mode mode, struct ul_error *err);
#ifdef UPGLOG_HAVE_POSTGRESQL
struct db *db_pg_open(const char *name, enum ul_store_mode mode, struct ul_error *err);
#endif

#endif
