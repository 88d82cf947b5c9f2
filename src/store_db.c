/* SPDX-License-Identifier: MIT */
/* store_db: the driver calls, dispatched to the connection's engine. See src/store_db.h. */
#include "store_db.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* libpq's connection keywords (PostgreSQL 15 documentation, "Parameter Key Words"). */
static const char *const pg_keywords[] = {
	"host",
	"hostaddr",
	"port",
	"dbname",
	"user",
	"password",
	"passfile",
	"channel_binding",
	"connect_timeout",
	"client_encoding",
	"options",
	"application_name",
	"fallback_application_name",
	"keepalives",
	"keepalives_idle",
	"keepalives_interval",
	"keepalives_count",
	"tcp_user_timeout",
	"replication",
	"gssencmode",
	"sslmode",
	"requiressl",
	"sslcompression",
	"sslcert",
	"sslkey",
	"sslpassword",
	"sslrootcert",
	"sslcrl",
	"sslcrldir",
	"sslsni",
	"requirepeer",
	"ssl_min_protocol_version",
	"ssl_max_protocol_version",
	"krbsrvname",
	"gsslib",
	"service",
	"target_session_attrs",
};

bool db_names_postgres(const char *name)
{
	if (!name)
		return false;
	if (strncmp(name, "postgresql://", 13) == 0 || strncmp(name, "postgres://", 11) == 0)
		return true;
	/* key=value: the first word is a libpq keyword, followed by '=' (spaces allowed). */
	const char *p = name;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = 0;
	while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_'))
		n++;
	const char *q = p + n;
	while (isspace((unsigned char)*q))
		q++;
	if (n == 0 || *q != '=')
		return false;
	for (size_t i = 0; i < sizeof(pg_keywords) / sizeof(pg_keywords[0]); i++)
		if (strlen(pg_keywords[i]) == n && strncmp(pg_keywords[i], p, n) == 0)
			return true;
	return false;
}

bool db_postgres_available(void)
{
#ifdef UPGLOG_HAVE_POSTGRESQL
	return true;
#else
	return false;
#endif
}

struct db *db_open(const char *name, enum ul_store_mode mode, struct ul_error *err)
{
	if (!db_names_postgres(name))
		return db_sqlite_open(name, mode, err);
#ifdef UPGLOG_HAVE_POSTGRESQL
	return db_pg_open(name, mode, err);
#else
	(void)mode;
	ul_error_set(err, "store",
	             "%s: a PostgreSQL database, but this upglog was built without PostgreSQL "
	             "support (-Dpostgresql=disabled or libpq missing)",
	             strncmp(name, "postgres", 8) == 0 ? "--db postgresql://..." : "--db");
	return NULL;
#endif
}

void db_close(struct db *db)
{
	if (!db)
		return;
	char *display = db->display;
	db->ops->close(db);
	free(display);
}

enum db_engine db_engine(const struct db *db)
{
	return db->engine;
}
const char *db_display(const struct db *db)
{
	return db->display ? db->display : "?";
}
const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}
bool db_err_nomem(struct db *db)
{
	return db->ops->err_nomem(db);
}
bool db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}
bool db_begin(struct db *db)
{
	return db->ops->begin(db);
}
bool db_commit(struct db *db)
{
	return db->ops->commit(db);
}
void db_rollback(struct db *db)
{
	db->ops->rollback(db);
}
bool db_lock(struct db *db, const char *key)
{
	return db->ops->lock(db, key);
}
bool db_get_version(struct db *db, int64_t *v)
{
	return db->ops->get_version(db, v);
}
bool db_set_version(struct db *db, int64_t v)
{
	return db->ops->set_version(db, v);
}
bool db_table_count(struct db *db, int64_t *n)
{
	return db->ops->table_count(db, n);
}
void db_run_mark(struct db *db, int64_t id, bool take)
{
	db->ops->run_mark(db, id, take);
}
int db_run_marked(struct db *db, int64_t id)
{
	return db->ops->run_marked(db, id);
}
void db_checkpoint(struct db *db)
{
	db->ops->checkpoint(db);
}
bool db_check(struct db *db, struct ul_error *err)
{
	return db->ops->check(db, err);
}

struct db_stmt *db_prepare(struct db *db, const char *sql, bool persistent)
{
	return db->ops->prepare(db, sql, persistent);
}

void db_bind_int(struct db_stmt *s, int i, int64_t v)
{
	s->db->ops->bind_int(s, i, v);
}
void db_bind_null(struct db_stmt *s, int i)
{
	s->db->ops->bind_null(s, i);
}
void db_bind_text(struct db_stmt *s, int i, const char *v)
{
	s->db->ops->bind_text(s, i, v);
}
void db_bind_text_owned(struct db_stmt *s, int i, char *v)
{
	s->db->ops->bind_text_owned(s, i, v);
}
enum db_step db_step(struct db_stmt *s)
{
	return s->db->ops->step(s);
}
int db_col_count(struct db_stmt *s)
{
	return s->db->ops->col_count(s);
}
const char *db_col_name(struct db_stmt *s, int i)
{
	return s->db->ops->col_name(s, i);
}
enum db_type db_col_type(struct db_stmt *s, int i)
{
	return s->db->ops->col_type(s, i);
}
int64_t db_col_int(struct db_stmt *s, int i)
{
	return s->db->ops->col_int(s, i);
}
double db_col_real(struct db_stmt *s, int i)
{
	return s->db->ops->col_real(s, i);
}
const char *db_col_text(struct db_stmt *s, int i)
{
	return s->db->ops->col_text(s, i);
}
const void *db_col_blob(struct db_stmt *s, int i)
{
	return s->db->ops->col_blob(s, i);
}
size_t db_col_bytes(struct db_stmt *s, int i)
{
	return s->db->ops->col_bytes(s, i);
}
void db_reset(struct db_stmt *s)
{
	s->db->ops->reset(s);
}

void db_finalize(struct db_stmt *s)
{
	if (s)
		s->db->ops->finalize(s);
}

bool db_query_rows(struct db *db, const char *sql,
                   bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                   struct ul_error *err)
{
	return db->ops->query_rows(db, sql, cb, ctx, err);
}
