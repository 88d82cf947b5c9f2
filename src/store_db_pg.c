/* SPDX-License-Identifier: MIT */
/*
 * store_db_pg: the PostgreSQL engine of the store's SQL driver, on libpq. See src/store_db.h.
 *
 * Values travel as text and the server infers each parameter's type from where it stands
 * (paramTypes 0). Statements run many times are named server-side prepared statements, prepared
 * the first time they run; the others go through PQexecParams. A result is read whole before
 * the first row is handed out, so several statements may be stepped at once, as with SQLite.
 *
 * Inside a transaction, a persistent INSERT, UPDATE or DELETE without RETURNING (nothing to
 * read) is sent in libpq's pipeline mode: db_step() queues it and answers DB_DONE without
 * waiting for the server, and the next call that needs an answer (any other statement, the
 * commit) first collects the queued results. A failure among them fails that call with the
 * server's message, and the transaction, which PostgreSQL has aborted, cannot commit. One
 * round trip per file instead of one per row.
 *
 * Nothing half done survives a dead writer: every change the store makes to a file's findings
 * runs inside one transaction (db_begin .. db_commit), and PostgreSQL rolls back the open
 * transaction of a connection that goes away (a scanner killed mid-file, a lost network), so
 * other readers never see a half file. Advisory locks die with the connection too.
 */
#include "store_db.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* Type OIDs of the built-in types we read (pg_type.dat; stable across releases). */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
};

/* The first key of the running-scan advisory locks ("uplg"); the second is the scan id. */
#define RUN_MARK_KEY 0x75706c67

/* PostgreSQL takes at most 65535 parameters in one statement. */
#define MAX_PARAMS 65535

/* Columns of one ad-hoc query row handed to the callback (as the SQLite engine). */
#define QUERY_MAX_COLS 256

struct pg_db {
	struct db base;
	PGconn *conn;
	enum ul_store_mode mode;
	bool nomem;
	unsigned long next_name; /* names of prepared statements */
	bool pipeline;           /* in pipeline mode, with `pending` statements queued */
	int pending;
	char abort_err[UL_ERROR_MAX]; /* the failure that aborted the open transaction */
	char err[UL_ERROR_MAX];
};

/* Queued statements collected at the latest after this many (their results take memory). */
#define PIPELINE_MAX 2000

enum param_kind { P_NULL, P_INT, P_TEXT };

struct pg_param {
	enum param_kind kind;
	char *text; /* P_TEXT, owned */
	char num[24];
};

enum stmt_state { S_READY, S_ROWS, S_DONE };

struct pg_stmt {
	struct db_stmt base;
	char *sql;    /* rewritten: $1, $2, ... */
	int nnumbers; /* the highest ?N of the original text */
	int *map;     /* ?N -> index of $M (0-based), -1 when N is not used */
	int nparams;
	struct pg_param *params;
	const char **values;
	bool persistent, prepared, bind_nomem;
	bool no_rows; /* INSERT, UPDATE or DELETE without RETURNING: may be pipelined */
	char name[32];
	PGresult *res;
	enum stmt_state state;
	int row, nrows;
	/* bytea values of the current row, decoded on demand */
	char **blob;
	size_t *blob_len;
};

static struct pg_db *pg(struct db *db)
{
	return (struct pg_db *)db;
}

static struct pg_stmt *ps(struct db_stmt *s)
{
	return (struct pg_stmt *)s;
}

/* ---- errors ------------------------------------------------------------------------------ */

/* Copy `src` as one line: every run of white space that holds a line break or tab becomes one
 * space, and trailing white space goes. */
static void one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	if (!src)
		src = "";
	for (const char *p = src; *p && n + 1 < size; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			while (p[1] && isspace((unsigned char)p[1]))
				p++;
			if (n > 0 && dst[n - 1] != ' ')
				dst[n++] = ' ';
			continue;
		}
		dst[n++] = *p;
	}
	while (n > 0 && isspace((unsigned char)dst[n - 1]))
		n--;
	dst[n] = '\0';
}

__attribute__((format(printf, 3, 4))) static bool set_err(struct pg_db *d, bool nomem,
                                                          const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	d->nomem = nomem;
	return false;
}

static bool is_nomem_text(const char *msg)
{
	return msg && strstr(msg, "out of memory") != NULL;
}

/*
 * The error of a failed command, one line: the primary message, then the server's detail in
 * parentheses and its hint ("x (y) hint: z"). Without a result (libpq could not make one: out
 * of memory or a lost connection) the connection's message.
 */
static bool res_err(struct pg_db *d, const PGresult *res)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!primary) {
		const char *msg = res ? PQresultErrorMessage(res) : "";
		if (!msg || !*msg)
			msg = PQerrorMessage(d->conn);
		char line[UL_ERROR_MAX];
		one_line(line, sizeof(line), msg);
		if (!*line)
			snprintf(line, sizeof(line), "%s",
			         res ? PQresStatus(PQresultStatus(res))
			             : "no answer from the server");
		/* libpq's own allocation failures ("out of memory") come without a result. */
		return set_err(d, is_nomem_text(line), "%s", line);
	}
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	char a[UL_ERROR_MAX], b[UL_ERROR_MAX / 2], c[UL_ERROR_MAX / 2];
	one_line(a, sizeof(a), primary);
	one_line(b, sizeof(b), detail);
	one_line(c, sizeof(c), hint);
	set_err(d, state && strcmp(state, "53200") == 0, "%s%s%s%s%s%s", a, *b ? " (" : "", b,
	        *b ? ")" : "", *c ? " hint: " : "", c);
	/* the first failure of a transaction is the reason its COMMIT will fail */
	if (!*d->abort_err && PQtransactionStatus(d->conn) == PQTRANS_INERROR)
		snprintf(d->abort_err, sizeof(d->abort_err), "%s", d->err);
	return false;
}

/*
 * Leave pipeline mode: collect the results of the queued statements. False with the first
 * failure's message when one failed (the statements after it were skipped by the server).
 */
static bool flush(struct pg_db *d)
{
	if (!d->pipeline)
		return true;
	bool ok = true;
	if (!PQpipelineSync(d->conn)) {
		res_err(d, NULL);
		ok = false;
	}
	/* each queued statement's results end with NULL; the sync point's result ends it all */
	int nulls = 0;
	while (ok || PQstatus(d->conn) == CONNECTION_OK) {
		PGresult *r = PQgetResult(d->conn);
		if (!r) {
			if (++nulls > 1 || PQstatus(d->conn) != CONNECTION_OK)
				break;
			continue;
		}
		nulls = 0;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (ok && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
		    st != PGRES_PIPELINE_ABORTED)
			ok = res_err(d, r);
		PQclear(r);
	}
	PQexitPipelineMode(d->conn);
	d->pipeline = false;
	d->pending = 0;
	if (!ok && !*d->abort_err)
		snprintf(d->abort_err, sizeof(d->abort_err), "%s", d->err);
	return ok;
}

/* Run SQL without parameters; true when it succeeded. The result is cleared. */
static bool run(struct pg_db *d, const char *sql)
{
	if (!flush(d))
		return false;
	PGresult *r = PQexec(d->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
	if (!ok)
		res_err(d, r);
	PQclear(r);
	return ok;
}

/* Run a query expected to give one value in one row; the result, or NULL (error set). */
static PGresult *run_value(struct pg_db *d, const char *sql, int nparams, const char *const *values)
{
	if (!flush(d))
		return NULL;
	PGresult *r = nparams ? PQexecParams(d->conn, sql, nparams, NULL, values, NULL, NULL, 0)
	                      : PQexec(d->conn, sql);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		res_err(d, r);
		PQclear(r);
		return NULL;
	}
	if (PQntuples(r) != 1 || PQnfields(r) < 1) {
		PQclear(r);
		set_err(d, false, "unexpected answer to: %s", sql);
		return NULL;
	}
	return r;
}

/* The server's notices (a ROLLBACK outside a transaction, IF NOT EXISTS skipping) are not for
 * the user: the driver never prints. */
static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* ---- the connection's name without a password ------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A URI: drop the password of `user:password@` and a `password=` query parameter. */
static char *display_uri(const char *name)
{
	size_t len = strlen(name);
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	const char *auth = strstr(name, "://") + 3;
	size_t n = (size_t)(auth - name);
	memcpy(out, name, n);
	const char *auth_end = auth + strcspn(auth, "/?");
	const char *at = NULL;
	for (const char *p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	const char *p = auth;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		const char *user_end = colon ? colon : at;
		memcpy(out + n, auth, (size_t)(user_end - auth));
		n += (size_t)(user_end - auth);
		p = at;
	}
	const char *q = strchr(p, '?');
	if (!q) {
		strcpy(out + n, p);
		return out;
	}
	memcpy(out + n, p, (size_t)(q - p));
	n += (size_t)(q - p);
	bool first = true;
	for (const char *item = q + 1; *item;) {
		size_t ilen = strcspn(item, "&");
		if (!(ilen >= 9 && strncmp(item, "password=", 9) == 0) &&
		    !(ilen == 8 && strncmp(item, "password", 8) == 0)) {
			out[n++] = first ? '?' : '&';
			memcpy(out + n, item, ilen);
			n += ilen;
			first = false;
		}
		item += ilen;
		if (*item == '&')
			item++;
	}
	out[n] = '\0';
	return out;
}

/* key=value words: drop `password=...` (a value may be quoted '...' with \ escapes). */
static char *display_keywords(const char *name)
{
	char *out = malloc(strlen(name) + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	const char *p = name;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - start);
		const char *val = NULL;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '=') {
			p++;
			while (isspace((unsigned char)*p))
				p++;
			val = p;
			if (*p == '\'') {
				for (p++; *p && *p != '\''; p++)
					if (*p == '\\' && p[1])
						p++;
				if (*p == '\'')
					p++;
			} else {
				for (; *p && !isspace((unsigned char)*p); p++)
					if (*p == '\\' && p[1])
						p++;
			}
		}
		if (klen == 8 && strncmp(start, "password", 8) == 0)
			continue;
		if (n > 0)
			out[n++] = ' ';
		/* dbname may be a whole URI, which libpq expands: its password goes too */
		bool quoted = val && *val == '\'';
		const char *inner = val ? val + quoted : NULL;
		if (klen == 6 && strncmp(start, "dbname", 6) == 0 &&
		    (has_prefix(inner, "postgresql://") || has_prefix(inner, "postgres://"))) {
			char *uri = strndup(inner, (size_t)(p - inner) - (quoted && p[-1] == '\''));
			char *clean = uri ? display_uri(uri) : NULL;
			free(uri);
			if (!clean) {
				free(out);
				return NULL;
			}
			n += (size_t)sprintf(out + n, "dbname=%s%s%s", quoted ? "'" : "", clean,
			                     quoted ? "'" : "");
			free(clean);
			continue;
		}
		memcpy(out + n, start, (size_t)(p - start));
		n += (size_t)(p - start);
	}
	out[n] = '\0';
	return out;
}

static char *display_name(const char *name)
{
	if (has_prefix(name, "postgresql://") || has_prefix(name, "postgres://"))
		return display_uri(name);
	return display_keywords(name);
}

/* ---- ?N -> $M ------------------------------------------------------------------------------ */

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/*
 * The length of the token at `p` that is no SQL to look into (a string literal, quoted
 * identifier, comment or dollar-quoted string), or 0 when `p` starts none. `start` is the
 * beginning of the text (to tell E'...' and $tag$ from the end of a word).
 */
static size_t skip_opaque(const char *start, const char *p)
{
	const char *q = p;
	if (*p == '\'' || *p == '"') {
		char quote = *p;
		/* E'...' takes backslash escapes */
		bool esc = quote == '\'' && p > start && (p[-1] == 'E' || p[-1] == 'e') &&
		           (p - 1 == start || !ident_char(p[-2]));
		for (q++; *q; q++) {
			if (esc && *q == '\\' && q[1]) {
				q++;
			} else if (*q == quote) {
				if (q[1] == quote)
					q++;
				else
					return (size_t)(q + 1 - p);
			}
		}
		return (size_t)(q - p);
	}
	if (p[0] == '-' && p[1] == '-') {
		while (*q && *q != '\n')
			q++;
		return (size_t)(q - p);
	}
	if (p[0] == '/' && p[1] == '*') {
		int depth = 0; /* PostgreSQL's block comments nest */
		while (*q) {
			if (q[0] == '/' && q[1] == '*') {
				depth++;
				q += 2;
			} else if (q[0] == '*' && q[1] == '/') {
				q += 2;
				if (--depth == 0)
					break;
			} else {
				q++;
			}
		}
		return (size_t)(q - p);
	}
	if (*p == '$' && (p == start || !ident_char(p[-1]))) {
		/* $tag$ ... $tag$, the tag empty or an identifier not starting with a digit */
		const char *t = p + 1;
		if (isdigit((unsigned char)*t))
			return 0;
		while (*t && ident_char(*t) && *t != '$')
			t++;
		if (*t != '$')
			return 0;
		size_t tlen = (size_t)(t + 1 - p);
		const char *s = t + 1;
		for (; *s; s++)
			if (strncmp(s, p, tlen) == 0)
				return (size_t)(s + tlen - p);
		return (size_t)(s - p);
	}
	return 0;
}

/*
 * Walk `sql`, calling back for every parameter: ?N, or a bare ? (SQLite numbers it one past
 * the highest so far). Returns false with `d`'s error on a number out of range. With `out`
 * (large enough) the text is written with each parameter as $map[N-1]+1.
 */
static bool walk_params(struct pg_db *d, const char *sql, bool *used, int *highest, const int *map,
                        char *out)
{
	size_t n = 0;
	int high = 0;
	for (const char *p = sql; *p;) {
		size_t skip = skip_opaque(sql, p);
		if (skip) {
			if (out)
				memcpy(out + n, p, skip);
			n += skip;
			p += skip;
			continue;
		}
		if (*p != '?') {
			if (out)
				out[n] = *p;
			n++;
			p++;
			continue;
		}
		long num;
		const char *q = p + 1;
		if (isdigit((unsigned char)*q)) {
			num = 0;
			while (isdigit((unsigned char)*q) && num <= MAX_PARAMS)
				num = num * 10 + (*q++ - '0');
			while (isdigit((unsigned char)*q))
				q++;
		} else {
			num = high + 1;
		}
		if (num < 1 || num > MAX_PARAMS)
			return set_err(d, false, "parameter %.*s out of range (1 to %d)",
			               (int)(q - p), p, MAX_PARAMS);
		if (num > high)
			high = (int)num;
		if (used)
			used[num - 1] = true;
		if (out)
			n += (size_t)sprintf(out + n, "$%d", map[num - 1] + 1);
		p = q;
	}
	if (out)
		out[n] = '\0';
	if (highest)
		*highest = high;
	return true;
}

/* Rewrite into `s`: s->sql, s->map, s->nnumbers, s->nparams. */
static bool rewrite(struct pg_db *d, struct pg_stmt *s, const char *sql)
{
	int high = 0;
	if (!walk_params(d, sql, NULL, &high, NULL, NULL))
		return false;
	bool *used = calloc((size_t)high + 1, sizeof(bool));
	s->map = malloc(((size_t)high + 1) * sizeof(int));
	if (!used || !s->map) {
		free(used);
		return set_err(d, true, "out of memory");
	}
	walk_params(d, sql, used, NULL, NULL, NULL);
	s->nnumbers = high;
	s->nparams = 0;
	for (int i = 0; i < high; i++)
		s->map[i] = used[i] ? s->nparams++ : -1;
	free(used);
	/* every parameter grows by at most 6 bytes ("?" -> "$65535") */
	size_t count = 0;
	for (const char *p = sql; *p; p++)
		count += *p == '?';
	s->sql = malloc(strlen(sql) + 6 * count + 1);
	if (!s->sql)
		return set_err(d, true, "out of memory");
	return walk_params(d, sql, NULL, NULL, s->map, s->sql);
}

/* ---- the connection ---------------------------------------------------------------------- */

static const struct db_ops pg_ops;

struct db *db_pg_open(const char *name, enum ul_store_mode mode, struct ul_error *err)
{
	char *display = display_name(name);
	struct pg_db *d = calloc(1, sizeof(*d));
	if (!display || !d) {
		free(display);
		free(d);
		ul_error_set(err, "store", "PostgreSQL: out of memory");
		return NULL;
	}
	d->base.ops = &pg_ops;
	d->base.engine = DB_POSTGRES;
	d->base.display = display;
	d->mode = mode;
	/* `name` is expanded (URI or key=value); PG* environment variables fill the rest. Text
	 * is UTF-8 whatever the user's locale says. */
	const char *const keys[] = { "dbname", "client_encoding", "fallback_application_name",
		                     NULL };
	const char *const values[] = { name, "UTF8", "upglog", NULL };
	d->conn = PQconnectdbParams(keys, values, 1);
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
		char line[UL_ERROR_MAX];
		one_line(line, sizeof(line), d->conn ? PQerrorMessage(d->conn) : "out of memory");
		ul_error_set(err, "store", "%s: cannot connect: %s", display, line);
		PQfinish(d->conn);
		free(display);
		free(d);
		return NULL;
	}
	PQsetNoticeProcessor(d->conn, quiet_notices, NULL);
	/*
	 * Writers wait for each other's locks up to five minutes, as SQLite's busy timeout, unless
	 * the connection string set its own lock_timeout. A read-only connection runs every
	 * transaction read-only.
	 */
	const char *setup = mode == UL_STORE_READONLY
	                            ? "SET default_transaction_read_only = on"
	                            : "SELECT set_config('lock_timeout', '5min', false)"
	                              " WHERE current_setting('lock_timeout') = '0'";
	if (!run(d, setup)) {
		ul_error_set(err, "store", "%s: %s", display, d->err);
		PQfinish(d->conn);
		free(display);
		free(d);
		return NULL;
	}
	return &d->base;
}

static void pg_close(struct db *db)
{
	struct pg_db *d = pg(db);
	PQfinish(d->conn);
	free(d);
}

static const char *pg_errmsg(struct db *db)
{
	return pg(db)->err;
}

static bool pg_err_nomem(struct db *db)
{
	return pg(db)->nomem;
}

static bool pg_exec(struct db *db, const char *sql)
{
	/* Several statements in one string run as one transaction when none is open. */
	return run(pg(db), sql);
}

static bool pg_begin(struct db *db)
{
	pg(db)->abort_err[0] = '\0';
	return run(pg(db), "BEGIN");
}

static bool pg_commit(struct db *db)
{
	struct pg_db *d = pg(db);
	if (!flush(d)) {
		/* the transaction is aborted: COMMIT ends it (as a rollback), the reason stays */
		PQclear(PQexec(d->conn, "COMMIT"));
		return false;
	}
	PGresult *r = PQexec(d->conn, "COMMIT");
	bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		res_err(d, r);
	/* COMMIT of a transaction in which a statement failed answers "ROLLBACK" and succeeds. */
	else if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
		ok = set_err(d, false, "the transaction was rolled back: %s",
		             *d->abort_err ? d->abort_err : "a statement in it failed");
	PQclear(r);
	d->abort_err[0] = '\0';
	return ok;
}

static void pg_rollback(struct db *db)
{
	struct pg_db *d = pg(db);
	flush(d); /* its error, if any, is the reason for the rollback */
	PGTransactionStatusType t = PQtransactionStatus(d->conn);
	if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
		PQclear(PQexec(d->conn, "ROLLBACK")); /* keeps the error that led here */
	d->abort_err[0] = '\0';
}

static bool pg_lock(struct db *db, const char *key)
{
	struct pg_db *d = pg(db);
	const char *values[] = { key };
	PGresult *r =
	        run_value(d, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", 1, values);
	PQclear(r);
	return r != NULL;
}

static bool pg_get_version(struct db *db, int64_t *version)
{
	struct pg_db *d = pg(db);
	*version = 0;
	/*
	 * Asked of pg_class under this statement's snapshot, not through to_regclass(): a name
	 * lookup may answer from the backend's catalog cache, which an advisory lock does not
	 * refresh, so a writer that waited on the "schema" lock for another one creating the
	 * schema would still find no table and then meet that writer's tables.
	 */
	PGresult *r =
	        run_value(d,
	                  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
	                  " JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace"
	                  " WHERE s.nspname = current_schema() AND c.relname = 'upglog_schema')",
	                  0, NULL);
	if (!r)
		return false;
	bool exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!exists)
		return true;
	r = run_value(d, "SELECT coalesce(max(version), 0) FROM upglog_schema", 0, NULL);
	if (!r)
		return false;
	*version = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return true;
}

static bool pg_set_version(struct db *db, int64_t version)
{
	char sql[400];
	snprintf(sql, sizeof(sql),
	         "CREATE TABLE IF NOT EXISTS upglog_schema (version BIGINT NOT NULL);"
	         " UPDATE upglog_schema SET version = %" PRId64 ";"
	         " INSERT INTO upglog_schema (version) SELECT %" PRId64
	         " WHERE NOT EXISTS (SELECT 1 FROM upglog_schema)",
	         version, version);
	return run(pg(db), sql);
}

static bool pg_table_count(struct db *db, int64_t *n)
{
	struct pg_db *d = pg(db);
	*n = 0;
	PGresult *r = run_value(d,
	                        "SELECT count(*) FROM pg_catalog.pg_class c"
	                        " JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace"
	                        " WHERE s.nspname = current_schema()"
	                        " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
	                        " AND c.relname <> 'upglog_schema'",
	                        0, NULL);
	if (!r)
		return false;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return true;
}

/* The scan id as the second int4 key of the lock (ids past 2^31 wrap; scans are far fewer). */
static int32_t run_key(int64_t scan_id)
{
	return (int32_t)(uint32_t)(uint64_t)scan_id;
}

static void pg_run_mark(struct db *db, int64_t scan_id, bool take)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_%s(%d, %" PRId32 ")",
	         take ? "lock" : "unlock", RUN_MARK_KEY, run_key(scan_id));
	/* A session lock: it lives until unlocked or until this connection ends. */
	run(pg(db), sql);
}

static int pg_run_marked(struct db *db, int64_t scan_id)
{
	struct pg_db *d = pg(db);
	char sql[512];
	/* the two-int4 form of an advisory lock shows as classid, objid, objsubid 2 */
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted"
	         " AND database = (SELECT oid FROM pg_catalog.pg_database"
	         " WHERE datname = current_database())"
	         " AND classid = '%u'::oid AND objid = '%u'::oid AND objsubid = 2"
	         " AND pid <> pg_backend_pid()",
	         (unsigned)RUN_MARK_KEY, (unsigned)(uint32_t)run_key(scan_id));
	PGresult *r = run_value(d, sql, 0, NULL);
	if (!r)
		return -1;
	int marked = strtoll(PQgetvalue(r, 0, 0), NULL, 10) > 0;
	PQclear(r);
	return marked;
}

static void pg_checkpoint(struct db *db)
{
	(void)db; /* the server writes its own checkpoints */
}

static bool pg_check(struct db *db, struct ul_error *err)
{
	struct pg_db *d = pg(db);
	PGresult *r = run_value(d, "SELECT 1", 0, NULL);
	bool ok = r && strcmp(PQgetvalue(r, 0, 0), "1") == 0;
	PQclear(r);
	if (!ok)
		return ul_error_set(err, "store", "%s: integrity check: %s", d->base.display,
		                    r ? "the server answered wrong" : d->err);
	return true;
}

/* ---- statements -------------------------------------------------------------------------- */

static void clear_blobs(struct pg_stmt *s)
{
	if (!s->blob)
		return;
	for (int i = 0; s->res && i < PQnfields(s->res); i++)
		free(s->blob[i]);
	free(s->blob);
	free(s->blob_len);
	s->blob = NULL;
	s->blob_len = NULL;
}

static void clear_params(struct pg_stmt *s)
{
	for (int i = 0; i < s->nparams; i++) {
		free(s->params[i].text);
		s->params[i].text = NULL;
		s->params[i].kind = P_NULL;
	}
	s->bind_nomem = false;
}

static void clear_result(struct pg_stmt *s)
{
	clear_blobs(s);
	PQclear(s->res);
	s->res = NULL;
	s->state = S_READY;
}

/* The next word of `sql` from `*p` on (comments and literals skipped), upper-cased into `w`;
 * false at the end. */
static bool next_word(const char *sql, const char **p, char *w, size_t size)
{
	while (**p) {
		size_t skip = skip_opaque(sql, *p);
		if (skip) {
			*p += skip;
		} else if (isalpha((unsigned char)**p) || **p == '_') {
			size_t n = 0;
			for (; ident_char(**p); (*p)++)
				if (n + 1 < size)
					w[n++] = (char)toupper((unsigned char)**p);
			w[n] = '\0';
			return true;
		} else {
			(*p)++;
		}
	}
	return false;
}

/* An INSERT, UPDATE or DELETE without RETURNING: it answers no rows. */
static bool writes_no_rows(const char *sql)
{
	const char *p = sql;
	char w[16];
	if (!next_word(sql, &p, w, sizeof(w)) ||
	    (strcmp(w, "INSERT") && strcmp(w, "UPDATE") && strcmp(w, "DELETE")))
		return false;
	while (next_word(sql, &p, w, sizeof(w)))
		if (!strcmp(w, "RETURNING"))
			return false;
	return true;
}

static struct db_stmt *pg_prepare(struct db *db, const char *sql, bool persistent)
{
	struct pg_db *d = pg(db);
	struct pg_stmt *s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(d, true, "out of memory");
		return NULL;
	}
	s->base.db = db;
	s->persistent = persistent;
	if (!rewrite(d, s, sql))
		goto fail;
	if (s->nparams) {
		s->params = calloc((size_t)s->nparams, sizeof(*s->params));
		s->values = calloc((size_t)s->nparams, sizeof(*s->values));
		if (!s->params || !s->values) {
			set_err(d, true, "out of memory");
			goto fail;
		}
	}
	if (persistent) {
		snprintf(s->name, sizeof(s->name), "upglog_%lu", ++d->next_name);
		s->no_rows = writes_no_rows(sql);
	}
	return &s->base;
fail:
	free(s->params);
	free(s->values);
	free(s->sql);
	free(s->map);
	free(s);
	return NULL;
}

/* The parameter that ?i binds, or NULL when the text does not use ?i. */
static struct pg_param *param(struct pg_stmt *s, int i)
{
	if (i < 1 || i > s->nnumbers || s->map[i - 1] < 0)
		return NULL;
	struct pg_param *p = &s->params[s->map[i - 1]];
	free(p->text);
	p->text = NULL;
	p->kind = P_NULL;
	return p;
}

static void pg_bind_int(struct db_stmt *st, int i, int64_t v)
{
	struct pg_param *p = param(ps(st), i);
	if (p) {
		p->kind = P_INT;
		snprintf(p->num, sizeof(p->num), "%" PRId64, v);
	}
}

static void pg_bind_null(struct db_stmt *st, int i)
{
	param(ps(st), i);
}

static void pg_bind_text_owned(struct db_stmt *st, int i, char *v)
{
	struct pg_param *p = param(ps(st), i);
	if (p && v) {
		p->kind = P_TEXT;
		p->text = v;
	} else {
		free(v);
	}
}

static void pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	char *copy = NULL;
	if (v && !(copy = strdup(v))) {
		ps(st)->bind_nomem = true;
		return;
	}
	pg_bind_text_owned(st, i, copy);
}

/* Run the statement: s->res holds its whole result. */
static bool execute(struct pg_stmt *s, bool *queued)
{
	struct pg_db *d = pg(s->base.db);
	for (int i = 0; i < s->nparams; i++) {
		const struct pg_param *p = &s->params[i];
		s->values[i] = p->kind == P_INT ? p->num : p->kind == P_TEXT ? p->text : NULL;
	}
	bool pipelined = s->persistent && s->no_rows &&
	                 (d->pipeline || PQtransactionStatus(d->conn) == PQTRANS_INTRANS);
	if ((!pipelined || !s->prepared) && !flush(d))
		return false;
	if (s->persistent && !s->prepared) {
		PGresult *r = PQprepare(d->conn, s->name, s->sql, s->nparams, NULL);
		bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			res_err(d, r);
		PQclear(r);
		if (!ok)
			return false;
		s->prepared = true;
	}
	if (pipelined) {
		if (!d->pipeline) {
			if (!PQenterPipelineMode(d->conn))
				return res_err(d, NULL);
			d->pipeline = true;
		}
		if (!PQsendQueryPrepared(d->conn, s->name, s->nparams, s->values, NULL, NULL, 0))
			return res_err(d, NULL);
		*queued = true;
		return ++d->pending < PIPELINE_MAX || flush(d);
	}
	s->res =
	        s->persistent
	                ? PQexecPrepared(d->conn, s->name, s->nparams, s->values, NULL, NULL, 0)
	                : PQexecParams(d->conn, s->sql, s->nparams, NULL, s->values, NULL, NULL, 0);
	ExecStatusType st = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK) {
		s->nrows = PQntuples(s->res);
	} else if (st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY) {
		s->nrows = 0;
	} else {
		res_err(d, s->res);
		PQclear(s->res);
		s->res = NULL;
		return false;
	}
	s->row = -1;
	return true;
}

static enum db_step pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = ps(st);
	struct pg_db *d = pg(st->db);
	if (s->bind_nomem) {
		set_err(d, true, "out of memory");
		return DB_ERROR;
	}
	if (s->state != S_ROWS) {
		/* first step, or a step after the end: run (again, with the same bindings) */
		clear_result(s);
		bool queued = false;
		if (!execute(s, &queued))
			return DB_ERROR;
		if (queued) {
			s->state = S_DONE;
			return DB_DONE;
		}
		s->state = S_ROWS;
	}
	clear_blobs(s);
	if (++s->row < s->nrows)
		return DB_ROW;
	s->state = S_DONE;
	return DB_DONE;
}

/* The current row's value i, or NULL when there is none or it is SQL NULL. */
static const char *value(struct pg_stmt *s, int i, Oid *type)
{
	if (s->state != S_ROWS || !s->res || s->row < 0 || s->row >= s->nrows || i < 0 ||
	    i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i))
		return NULL;
	*type = PQftype(s->res, i);
	return PQgetvalue(s->res, s->row, i);
}

static int pg_col_count(struct db_stmt *st)
{
	struct pg_stmt *s = ps(st);
	return s->res ? PQnfields(s->res) : 0;
}

static const char *pg_col_name(struct db_stmt *st, int i)
{
	struct pg_stmt *s = ps(st);
	return s->res && i >= 0 && i < PQnfields(s->res) ? PQfname(s->res, i) : NULL;
}

/* Is `t` a numeric value without fraction or exponent that fits int64? */
static bool integral(const char *t, int64_t *v)
{
	const char *p = t + (*t == '-');
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p)
		return false;
	errno = 0;
	long long n = strtoll(t, NULL, 10);
	if (errno == ERANGE)
		return false;
	*v = n;
	return true;
}

static enum db_type type_of(Oid type, const char *t)
{
	int64_t ignored;
	switch (type) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		return DB_INT;
	case OID_NUMERIC:
		/* sum() of integers is numeric: integral values read as integers, as SQLite's */
		return integral(t, &ignored) ? DB_INT : DB_REAL;
	case OID_FLOAT4:
	case OID_FLOAT8:
		return DB_REAL;
	case OID_BYTEA:
		return DB_BLOB;
	default:
		return DB_TEXT;
	}
}

static enum db_type pg_col_type(struct db_stmt *st, int i)
{
	Oid type = 0;
	const char *t = value(ps(st), i, &type);
	return t ? type_of(type, t) : DB_NULL;
}

/* A number as SQLite converts text: the integer it starts with, a real truncated. */
static int64_t text_int(const char *t)
{
	char *end;
	errno = 0;
	long long v = strtoll(t, &end, 10);
	if (errno != ERANGE && *end != '.' && *end != 'e' && *end != 'E' && *end != 'N' &&
	    *end != 'I')
		return v;
	double r = strtod(t, NULL);
	if (isnan(r))
		return 0;
	if (r >= 9223372036854775807.0)
		return INT64_MAX;
	if (r <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)r;
}

static int64_t pg_col_int(struct db_stmt *st, int i)
{
	Oid type = 0;
	const char *t = value(ps(st), i, &type);
	if (!t)
		return 0;
	if (type == OID_BOOL)
		return *t == 't';
	return text_int(t);
}

static double pg_col_real(struct db_stmt *st, int i)
{
	Oid type = 0;
	const char *t = value(ps(st), i, &type);
	if (!t)
		return 0;
	if (type == OID_BOOL)
		return *t == 't';
	return strtod(t, NULL);
}

/* The bytes of bytea value i of the current row (NUL-terminated), decoded once. */
static const char *blob(struct pg_stmt *s, int i, const char *t, size_t *len)
{
	struct pg_db *d = pg(s->base.db);
	if (!s->blob) {
		int n = PQnfields(s->res);
		s->blob = calloc((size_t)n, sizeof(*s->blob));
		s->blob_len = calloc((size_t)n, sizeof(*s->blob_len));
		if (!s->blob || !s->blob_len) {
			free(s->blob);
			free(s->blob_len);
			s->blob = NULL;
			s->blob_len = NULL;
			set_err(d, true, "out of memory");
			return NULL;
		}
	}
	if (!s->blob[i]) {
		size_t n = 0;
		unsigned char *raw = PQunescapeBytea((const unsigned char *)t, &n);
		char *copy = raw ? malloc(n + 1) : NULL;
		if (!copy) {
			PQfreemem(raw);
			set_err(d, true, "out of memory");
			return NULL;
		}
		memcpy(copy, raw, n);
		copy[n] = '\0';
		PQfreemem(raw);
		s->blob[i] = copy;
		s->blob_len[i] = n;
	}
	*len = s->blob_len[i];
	return s->blob[i];
}

static const char *pg_col_text(struct db_stmt *st, int i)
{
	Oid type = 0;
	const char *t = value(ps(st), i, &type);
	size_t len;
	if (t && type == OID_BOOL)
		return *t == 't' ? "1" : "0";
	if (t && type == OID_BYTEA)
		return blob(ps(st), i, t, &len);
	return t;
}

static const void *pg_col_blob(struct db_stmt *st, int i)
{
	return pg_col_text(st, i);
}

static size_t pg_col_bytes(struct db_stmt *st, int i)
{
	struct pg_stmt *s = ps(st);
	Oid type = 0;
	const char *t = value(s, i, &type);
	size_t len = 0;
	if (!t)
		return 0;
	if (type == OID_BOOL)
		return 1;
	if (type == OID_BYTEA)
		return blob(s, i, t, &len) ? len : 0;
	return (size_t)PQgetlength(s->res, s->row, i);
}

static void pg_reset(struct db_stmt *st)
{
	struct pg_stmt *s = ps(st);
	clear_result(s);
	clear_params(s);
}

static void pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *s = ps(st);
	struct pg_db *d = pg(st->db);
	pg_reset(st);
	flush(d); /* queued runs of this statement; a failure shows at the commit */
	/* In a failed transaction DEALLOCATE is refused too: the name then lives on until the
	 * connection ends, harmless (names are never reused). */
	if (s->prepared && PQstatus(d->conn) == CONNECTION_OK &&
	    PQtransactionStatus(d->conn) != PQTRANS_INERROR) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(d->conn, sql));
	}
	free(s->params);
	free(s->values);
	free(s->sql);
	free(s->map);
	free(s);
}

/* ---- ad-hoc SQL -------------------------------------------------------------------------- */

/* Does a statement of `sql` end the transaction it runs in (COMMIT, END, ROLLBACK but not
 * ROLLBACK TO, ABORT, PREPARE TRANSACTION)? Looked at the first words of every statement. */
static bool ends_transaction(const char *sql)
{
	bool at_start = true;
	for (const char *p = sql; *p;) {
		size_t skip = skip_opaque(sql, p);
		if (skip && (*p == '-' || *p == '/')) {
			p += skip; /* comments do not start a statement */
			continue;
		}
		if (skip) {
			at_start = false;
			p += skip;
			continue;
		}
		if (*p == ';') {
			at_start = true;
			p++;
			continue;
		}
		if (isspace((unsigned char)*p) || !at_start) {
			p++;
			continue;
		}
		at_start = false;
		char w[2][24] = { "", "" };
		const char *q = p;
		for (int k = 0; k < 2; k++) {
			while (isspace((unsigned char)*q))
				q++;
			size_t n = 0;
			while (isalpha((unsigned char)*q) && n + 1 < sizeof(w[k]))
				w[k][n++] = (char)toupper((unsigned char)*q++);
			w[k][n] = '\0';
		}
		if (!strcmp(w[0], "COMMIT") || !strcmp(w[0], "END") || !strcmp(w[0], "ABORT") ||
		    (!strcmp(w[0], "ROLLBACK") && strcmp(w[1], "TO") != 0) ||
		    (!strcmp(w[0], "PREPARE") && !strcmp(w[1], "TRANSACTION")))
			return true;
	}
	return false;
}

/* Value c of row r as the SQLite engine types it; bytea decoded into *owned. */
static bool query_value(PGresult *res, int r, int c, struct ul_value *v, char **owned)
{
	memset(v, 0, sizeof(*v));
	*owned = NULL;
	if (PQgetisnull(res, r, c)) {
		v->type = UL_VAL_NULL;
		return true;
	}
	const char *t = PQgetvalue(res, r, c);
	Oid type = PQftype(res, c);
	switch (type_of(type, t)) {
	case DB_INT:
		v->type = UL_VAL_INT;
		v->i = type == OID_BOOL ? *t == 't' : text_int(t);
		break;
	case DB_REAL:
		v->type = UL_VAL_REAL;
		v->r = strtod(t, NULL);
		break;
	case DB_BLOB: {
		size_t n = 0;
		unsigned char *raw = PQunescapeBytea((const unsigned char *)t, &n);
		char *copy = raw ? malloc(n + 1) : NULL;
		if (!copy) {
			PQfreemem(raw);
			return false;
		}
		memcpy(copy, raw, n);
		copy[n] = '\0';
		PQfreemem(raw);
		*owned = copy;
		v->type = UL_VAL_BLOB;
		v->p = copy;
		v->len = n;
		break;
	}
	default:
		v->type = UL_VAL_TEXT;
		v->p = t;
		v->len = (size_t)PQgetlength(res, r, c);
		break;
	}
	return true;
}

/* Hand the rows of `res` to the callback; false when it or a conversion failed. */
static bool query_result(struct pg_db *d, PGresult *res, size_t statement,
                         bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                         struct ul_error *err)
{
	int n = PQnfields(res);
	if (n > QUERY_MAX_COLS)
		n = QUERY_MAX_COLS;
	const char *names[QUERY_MAX_COLS];
	struct ul_value values[QUERY_MAX_COLS];
	char *owned[QUERY_MAX_COLS];
	for (int c = 0; c < n; c++)
		names[c] = PQfname(res, c);
	struct ul_query_row row = {
		.statement = statement, .ncols = n, .names = names, .values = values
	};
	for (int r = 0; r < PQntuples(res); r++) {
		bool converted = true;
		int c = 0;
		for (; c < n && converted; c++)
			converted = query_value(res, r, c, &values[c], &owned[c]);
		bool ok = converted && cb(ctx, &row);
		for (int k = 0; k < c; k++)
			free(owned[k]);
		if (!converted) {
			set_err(d, true, "out of memory");
			return ul_error_set(err, "query", "SQL error: out of memory");
		}
		if (!ok)
			return ul_error_is_set(err) ? false
			                            : ul_error_set(err, "query", "output failed");
	}
	return true;
}

static bool pg_query_rows(struct db *db, const char *sql,
                          bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                          struct ul_error *err)
{
	struct pg_db *d = pg(db);
	const char *ro_refused = "this statement would change the database; queries are "
	                         "read-only unless --write is given";
	bool readonly = d->mode == UL_STORE_READONLY;
	if (readonly) {
		/* Everything runs in one READ ONLY transaction that is rolled back at the end, so
		 * the only way out would be to end it: refused before anything runs. */
		if (ends_transaction(sql))
			return ul_error_set(err, "query", "%s", ro_refused);
		if (!run(d, "BEGIN READ ONLY"))
			return ul_error_set(err, "query", "SQL error: %s", d->err);
	}
	if (!flush(d))
		return ul_error_set(err, "query", "SQL error: %s", d->err);
	bool ok = true;
	if (!PQsendQuery(d->conn, sql)) {
		char line[UL_ERROR_MAX];
		one_line(line, sizeof(line), PQerrorMessage(d->conn));
		ok = ul_error_set(err, "query", "SQL error: %s", line);
	} else {
		/* Rows come one at a time: a large answer is never held whole. */
		PQsetSingleRowMode(d->conn);
		size_t statement = 0;
		PGresult *res;
		while ((res = PQgetResult(d->conn))) {
			ExecStatusType st = PQresultStatus(res);
			if (ok && (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK)) {
				ok = query_result(d, res, statement, cb, ctx, err);
				if (!ok) {
					/* stop the server; the rest of the results are drained */
					PGcancel *c = PQgetCancel(d->conn);
					char buf[256];
					if (c)
						PQcancel(c, buf, sizeof(buf));
					PQfreeCancel(c);
				}
			} else if (ok && st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY) {
				res_err(d, res);
				const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
				if (state && strcmp(state, "25006") == 0)
					ul_error_set(err, "query", "%s", ro_refused);
				else
					ul_error_set(err, "query", "SQL error: %s", d->err);
				ok = false;
			}
			if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
				statement++; /* one index per statement, as the SQLite engine */
			PQclear(res);
		}
	}
	if (readonly)
		pg_rollback(db);
	return ok;
}

static const struct db_ops pg_ops = {
	.close = pg_close,
	.errmsg = pg_errmsg,
	.err_nomem = pg_err_nomem,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.lock = pg_lock,
	.get_version = pg_get_version,
	.set_version = pg_set_version,
	.table_count = pg_table_count,
	.run_mark = pg_run_mark,
	.run_marked = pg_run_marked,
	.checkpoint = pg_checkpoint,
	.check = pg_check,
	.prepare = pg_prepare,
	.bind_int = pg_bind_int,
	.bind_null = pg_bind_null,
	.bind_text = pg_bind_text,
	.bind_text_owned = pg_bind_text_owned,
	.step = pg_step,
	.col_count = pg_col_count,
	.col_name = pg_col_name,
	.col_type = pg_col_type,
	.col_int = pg_col_int,
	.col_real = pg_col_real,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_bytes = pg_col_bytes,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.query_rows = pg_query_rows,
};
