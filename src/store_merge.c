/* SPDX-License-Identifier: MIT */
/*
 * store_merge: SQLite databases scanned elsewhere (shards) merged into the store, SQLite or
 * PostgreSQL. See ul_store_merge_begin() in include/upglog/store.h and README.md ("Merging
 * databases"). Written against the store's SQL driver (store_db.h), so one code serves both
 * target engines; the shard is always read through the SQLite engine.
 *
 * One shard is one transaction on the target: rules, scans, sources, files with their
 * findings, rule hits, verdicts, candidates and facts, then servers and checks. Ids are
 * renumbered through maps (shard id -> target id); a finding is pointed at by its file and
 * line, which survive the copy, so verdicts, candidates and servers find theirs again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"
#include "upglog/mask.h"

/* ---- id maps ----------------------------------------------------------------------------- */

/* Shard ids, ascending (rows are read ORDER BY id), to target ids (0: none). */
struct idmap {
	int64_t *from, *to;
	size_t n, cap;
};

static bool map_add(struct idmap *m, int64_t from, int64_t to)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		int64_t *f = realloc(m->from, cap * sizeof(*f));
		if (!f)
			return false;
		m->from = f;
		int64_t *t = realloc(m->to, cap * sizeof(*t));
		if (!t)
			return false;
		m->to = t;
		m->cap = cap;
	}
	m->from[m->n] = from;
	m->to[m->n] = to;
	m->n++;
	return true;
}

static int64_t map_get(const struct idmap *m, int64_t from)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->from[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->from[lo] == from ? m->to[lo] : 0;
}

static void map_free(struct idmap *m)
{
	free(m->from);
	free(m->to);
	memset(m, 0, sizeof(*m));
}

/* ---- the merge --------------------------------------------------------------------------- */

struct ul_merge {
	struct ul_store *st;
	struct db *db;
	char started[32];
	int64_t *sources; /* target sources the merged shards brought */
	size_t nsources, cap;
	char hash[80]; /* the merged scans' catalogue hash; "mixed" when they differ */
};

struct ul_merge *ul_store_merge_begin(struct ul_store *target, struct ul_error *err)
{
	struct ul_merge *m = calloc(1, sizeof(*m));
	if (!m) {
		ul_error_set(err, "memory", "out of memory");
		return NULL;
	}
	m->st = target;
	m->db = store_conn(target);
	store_now_iso(m->started);
	return m;
}

void ul_store_merge_free(struct ul_merge *m)
{
	if (!m)
		return;
	free(m->sources);
	free(m);
}

/* One shard's merge: both connections, the maps and what went wrong. */
struct mctx {
	struct ul_merge *m;
	struct db *t; /* target */
	struct db *s; /* shard */
	const char *shard;
	struct ul_error *err;
	struct ul_merge_stats *stats;
	struct idmap scans, sources, files;
	char target_newest[32], shard_newest[32];
};

/* A database error of a statement of either connection, named after that database. */
static bool fail(struct mctx *c, struct db *db, const char *what)
{
	if (db == c->s)
		return ul_error_set(c->err, "shard", "%s: cannot read the %s: %s", c->shard, what,
		                    db_errmsg(db));
	return ul_error_set(c->err, db_err_nomem(db) ? "memory" : "store",
	                    "%s: merging %s: cannot write the %s: %s", db_display(db), c->shard,
	                    what, db_errmsg(db));
}

static bool oom(struct mctx *c)
{
	return ul_error_set(c->err, "memory", "merging %s: out of memory", c->shard);
}

static struct db_stmt *prep(struct mctx *c, struct db *db, const char *sql, const char *what)
{
	struct db_stmt *s = db_prepare(db, sql, false);
	if (!s)
		fail(c, db, what);
	return s;
}

/* Run a write statement once and reset it. */
static bool run(struct mctx *c, struct db_stmt *s, const char *what)
{
	enum db_step r = db_step(s);
	bool ok = r != DB_ERROR || fail(c, s->db, what);
	db_reset(s);
	return ok;
}

/* Run an INSERT ... RETURNING id (or a one-value SELECT): *id is 0 when there is no row. */
static bool run_id(struct mctx *c, struct db_stmt *s, int64_t *id, const char *what)
{
	enum db_step r = db_step(s);
	*id = r == DB_ROW ? db_col_int(s, 0) : 0;
	bool ok = r != DB_ERROR || fail(c, s->db, what);
	db_reset(s);
	return ok;
}

static void bind_id(struct db_stmt *s, int i, int64_t id)
{
	if (id)
		db_bind_int(s, i, id);
	else
		db_bind_null(s, i);
}

/*
 * Bind the shard row's columns [from, from + n) to the target statement's parameters
 * [at, at + n) as they are; a column whose bit is set in `masked` (bit i for column from + i)
 * holds text a log wrote and is masked again: a shard an older upglog wrote may hold what this
 * one masks. False when out of memory.
 */
static bool copy_cols(struct db_stmt *src, int from, struct db_stmt *dst, int at, int n,
                      unsigned masked)
{
	for (int i = 0; i < n; i++) {
		int col = from + i, par = at + i;
		enum db_type ty = db_col_type(src, col);
		if (ty == DB_NULL) {
			db_bind_null(dst, par);
		} else if (ty == DB_INT) {
			db_bind_int(dst, par, db_col_int(src, col));
		} else {
			const char *v = db_col_text(src, col);
			size_t len = v ? strlen(v) : 0;
			if (v && (masked >> i & 1u) && ul_mask_has_secret(v, len)) {
				char *mv = ul_mask_text(v, len);
				if (!mv)
					return false;
				db_bind_text_owned(dst, par, mv);
			} else {
				db_bind_text(dst, par, v);
			}
		}
	}
	return true;
}

/* Copy a text column into buf ("" for NULL). */
static void col_copy(struct db_stmt *s, int i, char *buf, size_t cap)
{
	const char *v = db_col_text(s, i);
	snprintf(buf, cap, "%s", v ? v : "");
}

/* ---- opening the shard ------------------------------------------------------------------- */

static struct db *open_shard(struct mctx *c)
{
	struct stat sb;
	const char *p = c->shard;
	if (db_names_postgres(p)) {
		ul_error_set(c->err, "shard",
		             "%s: a shard is a SQLite database file, not a PostgreSQL database", p);
		return NULL;
	}
	if (stat(p, &sb) != 0) {
		ul_error_set(c->err, "missing", "%s: %s", p, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(sb.st_mode)) {
		ul_error_set(c->err, "not-database", "%s: a folder, not a database", p);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		ul_error_set(c->err, "not-database", "%s: not a regular file", p);
		return NULL;
	}
	/* The shard must not be the target itself. */
	struct stat tb;
	if (db_engine(c->t) == DB_SQLITE && stat(db_display(c->t), &tb) == 0 &&
	    tb.st_dev == sb.st_dev && tb.st_ino == sb.st_ino) {
		ul_error_set(c->err, "same", "%s: this is the target database itself", p);
		return NULL;
	}
	struct db *s = db_open(p, UL_STORE_READONLY, c->err);
	if (!s) {
		snprintf(c->err->kind, sizeof(c->err->kind), "not-database");
		return NULL;
	}
	int64_t version = 0, tables = 0;
	if (!db_get_version(s, &version)) {
		ul_error_set(c->err, "not-database", "%s: not a SQLite database: %s", p,
		             db_errmsg(s));
		goto fail;
	}
	if (version > UL_SCHEMA_VERSION) {
		ul_error_set(c->err, "newer",
		             "%s: database schema v%lld is newer than this upglog (v%d): merge it "
		             "with the upglog that wrote it",
		             p, (long long)version, UL_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0) {
		if (!db_table_count(s, &tables)) {
			ul_error_set(c->err, "not-database", "%s: not a SQLite database: %s", p,
			             db_errmsg(s));
			goto fail;
		}
		ul_error_set(c->err, "not-upglog",
		             tables ? "%s: the database holds other tables: not an upglog database"
		                    : "%s: not an upglog database (no schema)",
		             p);
		goto fail;
	}
	if (version < UL_SCHEMA_VERSION) {
		ul_error_set(
		        c->err, "older",
		        "%s: database schema v%lld is older than this upglog (v%d): upgrade the "
		        "shard first (upglog query --write --db SHARD \"SELECT 1\"), then merge it",
		        p, (long long)version, UL_SCHEMA_VERSION);
		goto fail;
	}
	return s;
fail:
	db_close(s);
	return NULL;
}

/* ---- the tables -------------------------------------------------------------------------- */

/* The newest scan of a database, "" when it holds none. */
static bool newest_scan(struct mctx *c, struct db *db, char out[32])
{
	struct db_stmt *s = prep(c, db, "SELECT max(started) FROM scans", "scans");
	if (!s)
		return false;
	enum db_step r = db_step(s);
	out[0] = '\0';
	if (r == DB_ROW)
		col_copy(s, 0, out, 32);
	bool ok = r != DB_ERROR || fail(c, db, "scans");
	db_finalize(s);
	return ok;
}

#define RULE_COLS                                                                            \
	"rule_id, rank, severity, family, event, priority, code, evidence, title, explain, " \
	"fix, pattern, origin"

/* Rules: added when missing; a shard newer than every scan of the target renews them. */
static bool merge_rules(struct mctx *c)
{
	bool renew = strcmp(c->shard_newest, c->target_newest) > 0;
	struct db_stmt *src = prep(c, c->s, "SELECT " RULE_COLS " FROM rules ORDER BY id", "rules");
	struct db_stmt *dst = prep(
	        c, c->t,
	        renew ? "INSERT INTO rules (" RULE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	                " ?9, ?10, ?11, ?12, ?13) ON CONFLICT (rule_id) DO UPDATE SET"
	                " rank = excluded.rank, severity = excluded.severity,"
	                " family = excluded.family, event = excluded.event,"
	                " priority = excluded.priority, code = excluded.code,"
	                " evidence = excluded.evidence, title = excluded.title,"
	                " explain = excluded.explain, fix = excluded.fix,"
	                " pattern = excluded.pattern, origin = excluded.origin"
	              : "INSERT INTO rules (" RULE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	                " ?9, ?10, ?11, ?12, ?13) ON CONFLICT (rule_id) DO NOTHING",
	        "rules");
	bool ok = src && dst;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(src)) == DB_ROW)
		ok = (copy_cols(src, 0, dst, 1, 13, 0) || oom(c)) && run(c, dst, "rules");
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "rules");
	db_finalize(src);
	db_finalize(dst);
	return ok;
}

/* Scans: each a new scan of the target, its command line masked again. */
static bool merge_scans(struct mctx *c, char hash[80], bool *mixed)
{
	struct db_stmt *src = prep(c, c->s,
	                           "SELECT id, started, finished, tool_version, catalogue_hash,"
	                           " arguments FROM scans ORDER BY id",
	                           "scans");
	struct db_stmt *dst = prep(c, c->t,
	                           "INSERT INTO scans (started, finished, tool_version,"
	                           " catalogue_hash, arguments) VALUES (?1, ?2, ?3, ?4, ?5)"
	                           " RETURNING id",
	                           "scans");
	bool ok = src && dst;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(src)) == DB_ROW) {
		int64_t old = db_col_int(src, 0), id = 0;
		const char *h = db_col_text(src, 4);
		if (h && !hash[0])
			snprintf(hash, 80, "%s", h);
		else if (h && strcmp(hash, h) != 0)
			*mixed = true;
		ok = (copy_cols(src, 1, dst, 1, 5, 1u << 4) || oom(c)) &&
		     run_id(c, dst, &id, "scans") && (map_add(&c->scans, old, id) || oom(c));
		c->stats->scans++;
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "scans");
	db_finalize(src);
	db_finalize(dst);
	return ok;
}

/*
 * Sources by path: a new one is added; one the target holds takes the shard's fields when the
 * shard's scan of it started later (a tie keeps the target's).
 */
static bool merge_sources(struct mctx *c)
{
	struct db_stmt *src = prep(
	        c, c->s,
	        "SELECT so.id, so.scan_id, coalesce(sc.started, ''), so.path, so.kind, so.host,"
	        " so.size, so.mtime, so.complete FROM sources so"
	        " LEFT JOIN scans sc ON sc.id = so.scan_id ORDER BY so.id",
	        "sources");
	struct db_stmt *up = prep(
	        c, c->t,
	        "INSERT INTO sources (scan_id, path, kind, host, size, mtime, complete)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (path) DO UPDATE SET"
	        " scan_id = excluded.scan_id, kind = excluded.kind, host = excluded.host,"
	        " size = excluded.size, mtime = excluded.mtime, complete = excluded.complete"
	        " WHERE coalesce((SELECT started FROM scans WHERE id = sources.scan_id), '') < ?8"
	        " RETURNING id",
	        "sources");
	struct db_stmt *get = prep(c, c->t, "SELECT id FROM sources WHERE path = ?1", "sources");
	bool ok = src && up && get;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(src)) == DB_ROW) {
		int64_t old = db_col_int(src, 0), id = 0;
		db_bind_int(up, 1, map_get(&c->scans, db_col_int(src, 1)));
		ok = copy_cols(src, 3, up, 2, 6, 0) || oom(c);
		db_bind_text(up, 8, db_col_text(src, 2));
		ok = ok && run_id(c, up, &id, "sources");
		if (ok && id == 0) { /* the target's is newer: kept */
			db_bind_text(get, 1, db_col_text(src, 3));
			ok = run_id(c, get, &id, "sources");
		}
		ok = ok && (map_add(&c->sources, old, id) || oom(c));
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "sources");
	db_finalize(src);
	db_finalize(up);
	db_finalize(get);
	return ok;
}

/* The statements that copy one file's rows. */
enum {
	Q_FINDINGS,
	Q_FINDING_INS,
	Q_HITS,
	Q_HIT_INS,
	Q_VERDICT,
	Q_VERDICT_INS,
	Q_CANDIDATES,
	Q_CANDIDATE_INS,
	Q_FACTS,
	Q_FACT_INS,
	Q_COUNT
};

static const char *const child_sql[Q_COUNT] = {
	[Q_FINDINGS] = "SELECT line, \"offset\", ts, rule_id, severity, level, code, action, text,"
	               " title, captures, context_before, context_after FROM findings"
	               " WHERE file_id = ?1 ORDER BY line",
	[Q_FINDING_INS] = "INSERT INTO findings (file_id, line, \"offset\", ts, rule_id, severity,"
	                  " level, code, action, text, title, captures, context_before,"
	                  " context_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	                  " ?12, ?13, ?14)",
	[Q_HITS] = "SELECT rule_id, severity, count, first_line, last_line FROM rule_hits"
	           " WHERE file_id = ?1 ORDER BY id",
	[Q_HIT_INS] = "INSERT INTO rule_hits (file_id, rule_id, severity, count, first_line,"
	              " last_line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_VERDICT] = "SELECT v.id, f.line, v.outcome, v.root_line, v.action, v.exit_code,"
	              " v.reboot, v.reason, v.product, v.host, v.started, v.failed_at, v.finished"
	              " FROM verdicts v LEFT JOIN findings f ON f.id = v.finding_id"
	              " WHERE v.file_id = ?1",
	[Q_VERDICT_INS] = "INSERT INTO verdicts (file_id, finding_id, outcome, root_line, action,"
	                  " exit_code, reboot, reason, product, host, started, failed_at, finished)"
	                  " VALUES (?1, (SELECT id FROM findings WHERE file_id = ?1 AND line = ?2),"
	                  " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
	[Q_CANDIDATES] = "SELECT c.rank, c.line, f.line, c.reason FROM candidates c"
	                 " LEFT JOIN findings f ON f.id = c.finding_id WHERE c.verdict_id = ?1"
	                 " ORDER BY c.rank",
	[Q_CANDIDATE_INS] = "INSERT INTO candidates (verdict_id, rank, line, finding_id, reason)"
	                    " VALUES (?1, ?2, ?3, (SELECT id FROM findings WHERE file_id = ?4"
	                    " AND line = ?5), ?6)",
	[Q_FACTS] = "SELECT key, value, line, ts FROM facts WHERE file_id = ?1 ORDER BY id",
	[Q_FACT_INS] = "INSERT INTO facts (file_id, key, value, line, ts)"
	               " VALUES (?1, ?2, ?3, ?4, ?5)",
};

/* Shard statements are the even ones, the target's the odd ones. */
static bool prepare_children(struct mctx *c, struct db_stmt *q[Q_COUNT])
{
	for (int i = 0; i < Q_COUNT; i++)
		if (!(q[i] = prep(c, i % 2 ? c->t : c->s, child_sql[i], "file rows")))
			return false;
	return true;
}

/*
 * Copy the rows of one table of a file: `src` selects them (parameter 1 the shard's file id),
 * `dst` inserts them (parameter 1 the target's file id, then the columns in order).
 */
static bool copy_rows(struct mctx *c, struct db_stmt *src, struct db_stmt *dst, int64_t from,
                      int64_t to, int ncols, unsigned masked, uint64_t *count, const char *what)
{
	db_bind_int(src, 1, from);
	bool ok = true;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(src)) == DB_ROW) {
		db_bind_int(dst, 1, to);
		ok = (copy_cols(src, 0, dst, 2, ncols, masked) || oom(c)) && run(c, dst, what);
		if (ok && count)
			(*count)++;
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, what);
	db_reset(src);
	return ok;
}

static bool copy_file_rows(struct mctx *c, struct db_stmt *q[Q_COUNT], int64_t from, int64_t to)
{
	/* findings: action, text, title, captures, context_before, context_after are masked */
	if (!copy_rows(c, q[Q_FINDINGS], q[Q_FINDING_INS], from, to, 13, 0x3f << 7,
	               &c->stats->findings, "findings") ||
	    !copy_rows(c, q[Q_HITS], q[Q_HIT_INS], from, to, 5, 0, NULL, "rule hits") ||
	    !copy_rows(c, q[Q_FACTS], q[Q_FACT_INS], from, to, 4, 1u << 1, NULL, "facts"))
		return false;
	struct db_stmt *v = q[Q_VERDICT], *vi = q[Q_VERDICT_INS];
	struct db_stmt *cs = q[Q_CANDIDATES], *ci = q[Q_CANDIDATE_INS];
	db_bind_int(v, 1, from);
	bool ok = true;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(v)) == DB_ROW) {
		int64_t old = db_col_int(v, 0), id = 0;
		db_bind_int(vi, 1, to);
		/* action, reason, product are masked */
		ok = (copy_cols(v, 1, vi, 2, 12, 1u << 3 | 1u << 6 | 1u << 7) || oom(c)) &&
		     run_id(c, vi, &id, "verdicts");
		if (!ok)
			break;
		db_bind_int(cs, 1, old);
		enum db_step rc = DB_DONE;
		while (ok && (rc = db_step(cs)) == DB_ROW) {
			db_bind_int(ci, 1, id);
			db_bind_int(ci, 4, to);
			ok = (copy_cols(cs, 0, ci, 2, 2, 0) &&
			      copy_cols(cs, 2, ci, 5, 2, 1u << 1)) ||
			     oom(c);
			ok = ok && run(c, ci, "candidates");
		}
		if (ok && rc == DB_ERROR)
			ok = fail(c, c->s, "candidates");
		db_reset(cs);
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "verdicts");
	db_reset(v);
	return ok;
}

#define FILE_COLS                                                                            \
	"location, family, encoding, size, mtime, bytes, lines, cut_lines, replaced, hash, " \
	"status, error, host, host_from"

/*
 * Files by path and content hash: the same content already there is attached to the shard's
 * scan; other content goes to the version whose scan started later (a tie keeps the
 * target's); a file without a hash (unreadable) is never the same content.
 */
static bool merge_files(struct mctx *c)
{
	struct db_stmt *q[Q_COUNT] = { 0 };
	struct db_stmt *src = prep(c, c->s,
	                           "SELECT fi.id, fi.source_id, fi.scan_id, coalesce(sc.started,"
	                           " ''), fi.path, " FILE_COLS " FROM files fi"
	                           " LEFT JOIN scans sc ON sc.id = fi.scan_id ORDER BY fi.id",
	                           "files");
	struct db_stmt *look = prep(c, c->t,
	                            "SELECT fi.id, fi.hash, coalesce(sc.started, '') FROM files fi"
	                            " LEFT JOIN scans sc ON sc.id = fi.scan_id WHERE fi.path = ?1",
	                            "files");
	struct db_stmt *attach = prep(
	        c, c->t, "UPDATE files SET scan_id = ?1, source_id = ?2 WHERE id = ?3", "files");
	struct db_stmt *del = prep(c, c->t, "DELETE FROM files WHERE id = ?1", "files");
	struct db_stmt *ins = prep(c, c->t,
	                           "INSERT INTO files (scan_id, source_id, path, " FILE_COLS ")"
	                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	                           " ?13, ?14, ?15, ?16, ?17) RETURNING id",
	                           "files");
	bool ok = src && look && attach && del && ins && prepare_children(c, q);
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(src)) == DB_ROW) {
		int64_t old = db_col_int(src, 0);
		int64_t scan = map_get(&c->scans, db_col_int(src, 2));
		int64_t source = map_get(&c->sources, db_col_int(src, 1));
		const char *started = db_col_text(src, 3), *path = db_col_text(src, 4);
		const char *hash = db_col_text(src, 14);
		/* The target's row of the path, if any. */
		db_bind_text(look, 1, path);
		enum db_step lr = db_step(look);
		int64_t have = 0;
		bool same = false, newer = true;
		if (lr == DB_ROW) {
			have = db_col_int(look, 0);
			const char *th = db_col_text(look, 1), *ts = db_col_text(look, 2);
			same = hash && th && strcmp(hash, th) == 0;
			newer = strcmp(started ? started : "", ts ? ts : "") > 0;
		} else if (lr == DB_ERROR) {
			ok = fail(c, c->t, "files");
		}
		db_reset(look);
		if (!ok)
			break;
		int64_t id = 0;
		if (have && same) {
			db_bind_int(attach, 1, scan);
			db_bind_int(attach, 2, source);
			db_bind_int(attach, 3, have);
			ok = run(c, attach, "files");
			id = have;
			c->stats->present++;
		} else if (have && !newer) {
			c->stats->older++; /* the shard's version is left out; nothing points at it */
		} else {
			if (have) {
				db_bind_int(del, 1, have);
				ok = run(c, del, "files");
				c->stats->replaced++;
			}
			db_bind_int(ins, 1, scan);
			db_bind_int(ins, 2, source);
			db_bind_text(ins, 3, path);
			/* error is masked: a reason may quote what a log wrote */
			ok = ok && (copy_cols(src, 5, ins, 4, 14, 1u << 11) || oom(c)) &&
			     run_id(c, ins, &id, "files") && copy_file_rows(c, q, old, id);
			c->stats->files++;
		}
		ok = ok && (map_add(&c->files, old, id) || oom(c));
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "files");
	db_finalize(src);
	db_finalize(look);
	db_finalize(attach);
	db_finalize(del);
	db_finalize(ins);
	for (int i = 0; i < Q_COUNT; i++)
		db_finalize(q[i]);
	return ok;
}

/* Servers and checks of the shard's scans, with their scan and file renumbered. */
static bool merge_cluster(struct mctx *c)
{
	struct db_stmt *ss =
	        prep(c, c->s,
	             "SELECT s.scan_id, s.file_id, (SELECT f.line FROM findings f WHERE f.id ="
	             " s.finding_id), host, role, role_evidence, outcome, product, from_version,"
	             " to_version, final_version, started, finished, reboot, reason, line"
	             " FROM servers s ORDER BY s.id",
	             "servers");
	struct db_stmt *si = prep(
	        c, c->t,
	        "INSERT INTO servers (scan_id, file_id, finding_id, host, role, role_evidence,"
	        " outcome, product, from_version, to_version, final_version, started, finished,"
	        " reboot, reason, line) VALUES (?1, ?2, (SELECT id FROM findings WHERE file_id ="
	        " ?2 AND line = ?3), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	        "servers");
	struct db_stmt *cs = prep(c, c->s,
	                          "SELECT scan_id, file_id, name, severity, host, hosts, line,"
	                          " text, advice, evidence FROM checks ORDER BY id",
	                          "checks");
	struct db_stmt *ci = prep(c, c->t,
	                          "INSERT INTO checks (scan_id, file_id, name, severity, host,"
	                          " hosts, line, text, advice, evidence)"
	                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	                          "checks");
	bool ok = ss && si && cs && ci;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(ss)) == DB_ROW) {
		db_bind_int(si, 1, map_get(&c->scans, db_col_int(ss, 0)));
		bind_id(si, 2, map_get(&c->files, db_col_int(ss, 1)));
		/* role_evidence and reason are masked */
		ok = (copy_cols(ss, 2, si, 3, 1, 0) &&
		      copy_cols(ss, 3, si, 4, 13, 1u << 2 | 1u << 11)) ||
		     oom(c);
		ok = ok && run(c, si, "servers");
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "servers");
	while (ok && (r = db_step(cs)) == DB_ROW) {
		db_bind_int(ci, 1, map_get(&c->scans, db_col_int(cs, 0)));
		bind_id(ci, 2, map_get(&c->files, db_col_int(cs, 1)));
		/* text and advice are masked */
		ok = (copy_cols(cs, 2, ci, 3, 8, 1u << 5 | 1u << 6) || oom(c)) &&
		     run(c, ci, "checks");
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "checks");
	db_finalize(ss);
	db_finalize(si);
	db_finalize(cs);
	db_finalize(ci);
	return ok;
}

/*
 * PostgreSQL writers of the target meet on advisory locks (store_db.h), under the keys the
 * store takes: "source:ID" for an input the target holds, "file:PATH" for a file. The merge
 * takes all of them first, sources by id and then files by path, before it writes anything:
 * it never waits for a lock while it holds rows another writer needs, and two merges take
 * theirs in the same order. SQLite has nothing to do: its write transaction excludes every
 * other writer.
 */
static bool lock_keys(struct mctx *c, struct db_stmt *s, const char *what)
{
	bool ok = s != NULL;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(s)) == DB_ROW) {
		char *key = NULL;
		if (asprintf(&key, "%s%s", what, db_col_text(s, 0)) < 0)
			return oom(c);
		ok = db_lock(c->t, key) || fail(c, c->t, "locks");
		free(key);
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, s->db, "locks");
	return ok;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static bool lock_paths(struct mctx *c)
{
	if (db_engine(c->t) != DB_POSTGRES)
		return true;
	/* The shard's input paths the target holds, as the target's source ids. */
	struct db_stmt *paths = prep(c, c->s, "SELECT path FROM sources ORDER BY path", "sources");
	struct db_stmt *id = prep(c, c->t, "SELECT id FROM sources WHERE path = ?1", "sources");
	struct idmap ids = { 0 };
	bool ok = paths && id;
	enum db_step r = DB_DONE;
	while (ok && (r = db_step(paths)) == DB_ROW) {
		int64_t sid = 0;
		db_bind_text(id, 1, db_col_text(paths, 0));
		ok = run_id(c, id, &sid, "sources") && (!sid || map_add(&ids, sid, sid) || oom(c));
	}
	if (ok && r == DB_ERROR)
		ok = fail(c, c->s, "sources");
	db_finalize(paths);
	db_finalize(id);
	/* Sources by id, ascending. */
	if (ids.n)
		qsort(ids.from, ids.n, sizeof(*ids.from), cmp_id);
	for (size_t i = 0; ok && i < ids.n; i++) {
		char key[40];
		snprintf(key, sizeof(key), STORE_LOCK_SOURCE "%lld", (long long)ids.from[i]);
		ok = db_lock(c->t, key) || fail(c, c->t, "locks");
	}
	map_free(&ids);
	if (!ok)
		return false;
	struct db_stmt *files = prep(c, c->s, "SELECT path FROM files ORDER BY path", "files");
	ok = lock_keys(c, files, STORE_LOCK_FILE);
	db_finalize(files);
	return ok;
}

bool ul_store_merge_shard(struct ul_merge *m, const char *shard, struct ul_merge_stats *out,
                          struct ul_error *err)
{
	struct ul_merge_stats stats = { 0 };
	struct ul_error local;
	struct mctx c = {
		.m = m, .t = m->db, .shard = shard, .err = err ? err : &local, .stats = &stats
	};
	char hash[80] = "";
	bool mixed = false, ok = false, began = false;
	if (out)
		memset(out, 0, sizeof(*out));
	c.s = open_shard(&c);
	if (!c.s)
		return false;
	/* One snapshot of the shard, even while a scan writes it. */
	if (!db_exec(c.s, "BEGIN")) {
		fail(&c, c.s, "database");
		goto out;
	}
	if (!db_begin(c.t)) {
		fail(&c, c.t, "database (cannot begin a transaction)");
		goto out;
	}
	began = true;
	ok = lock_paths(&c) && newest_scan(&c, c.s, c.shard_newest) &&
	     newest_scan(&c, c.t, c.target_newest) && merge_rules(&c) &&
	     merge_scans(&c, hash, &mixed) && merge_sources(&c) && merge_files(&c) &&
	     merge_cluster(&c);
	if (ok && !db_commit(c.t))
		ok = fail(&c, c.t, "database (commit)");
	began = !ok;
	/* The sources the merge's own scan will visit. */
	for (size_t i = 0; ok && i < c.sources.n; i++) {
		if (m->nsources == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			int64_t *p = realloc(m->sources, cap * sizeof(*p));
			if (!p) {
				/* The shard is in; only the merge's own scan would miss it. */
				ok = oom(&c);
				break;
			}
			m->sources = p;
			m->cap = cap;
		}
		m->sources[m->nsources++] = c.sources.to[i];
	}
	if (ok && hash[0]) {
		if (!m->hash[0] && !mixed)
			snprintf(m->hash, sizeof(m->hash), "%s", hash);
		else if (mixed || strcmp(m->hash, hash) != 0)
			snprintf(m->hash, sizeof(m->hash), "mixed");
	}
out:
	if (began)
		db_rollback(c.t);
	db_exec(c.s, "ROLLBACK");
	db_close(c.s);
	map_free(&c.scans);
	map_free(&c.sources);
	map_free(&c.files);
	if (ok && out)
		*out = stats;
	return ok;
}

bool ul_store_merge_end(struct ul_merge *m, const char *version, const char *arguments,
                        int64_t *scan_id, struct ul_error *err)
{
	*scan_id = 0;
	if (m->nsources == 0)
		return true;
	struct mctx c = { .m = m, .t = m->db, .shard = "shards", .err = err };
	char now[32];
	store_now_iso(now);
	if (!db_begin(m->db))
		return fail(&c, m->db, "database (cannot begin a transaction)");
	struct db_stmt *ins = prep(&c, m->db,
	                           "INSERT INTO scans (started, finished, tool_version,"
	                           " catalogue_hash, arguments) VALUES (?1, ?2, ?3, ?4, ?5)"
	                           " RETURNING id",
	                           "scans");
	struct db_stmt *up =
	        prep(&c, m->db, "UPDATE sources SET scan_id = ?1 WHERE id = ?2", "sources");
	bool ok = ins && up;
	if (ok) {
		db_bind_text(ins, 1, m->started);
		db_bind_text(ins, 2, now);
		db_bind_text(ins, 3, version);
		db_bind_text(ins, 4, m->hash[0] ? m->hash : "mixed");
		char *a = arguments ? ul_mask_text(arguments, strlen(arguments)) : NULL;
		if (arguments && !a)
			ok = oom(&c);
		else
			db_bind_text_owned(ins, 5, a ? a : strdup("[]"));
		ok = ok && run_id(&c, ins, scan_id, "scans");
	}
	for (size_t i = 0; ok && i < m->nsources; i++) {
		db_bind_int(up, 1, *scan_id);
		db_bind_int(up, 2, m->sources[i]);
		ok = run(&c, up, "sources");
	}
	db_finalize(ins);
	db_finalize(up);
	if (ok && !db_commit(m->db))
		ok = fail(&c, m->db, "database (commit)");
	if (!ok) {
		db_rollback(m->db);
		*scan_id = 0;
	}
	return ok;
}
