/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_STORE_H
#define UPGLOG_STORE_H

/**
 * store: the only module that speaks SQL. Schema v2 (documented in README.md, `PRAGMA
 * user_version` = 2): scans, sources, files, findings, rule_hits, rules, verdicts, candidates,
 * facts, servers, checks, and the views v_findings, v_failures, v_noise, v_servers,
 * v_failed_servers, v_checks. A v1 database is upgraded in place when opened for writing.
 * The database is a SQLite file or, when the name is a PostgreSQL connection string or URI
 * (`postgresql://...`, `host=... dbname=...`), a PostgreSQL database with the same schema in
 * its dialect (an engine of the private driver src/store_db.h; no SQL dialect shows here).
 *
 * Writing: prepared statements, WAL, and one transaction per file, so a crash leaves whole
 * files or nothing. Any number of processes may write one database at once: the schema is
 * created or upgraded under a lock (SQLite BEGIN IMMEDIATE, PostgreSQL an advisory lock), and
 * a writer waits up to five minutes for another's transaction (SQLite). Writers of the same
 * path, the same source or the same scan's cluster wait for each other. A file whose size and
 * mtime are unchanged since it was last stored without error is not read again (the scan asks
 * `ul_store_lookup` before it reads); one whose content hash is unchanged keeps its rows
 * (`ul_store_keep`). Every text a log wrote is masked (mask.h) before it is stored;
 * `scans.arguments` is JSON and comes masked argument by argument from the caller. Every
 * error names the database.
 *
 * Content hash, whoever stored it: `ul_store_file_begin` takes the path's lock and remembers
 * the row it replaces. When `ul_store_file_end` finds that row was read without error, from
 * the same content hash, by the same catalogue and upglog version (those of the scan the row
 * belongs to) -- another scanner stored the file after this one looked it up -- it rolls its
 * own rows back and keeps that row as `ul_store_keep` does: one row for the path, the same
 * findings and file id, attached to this scan. Otherwise the new rows replace the old.
 *
 * Reading: the triage report reads what one scan covered through the `ul_store_each_*`
 * functions; `ul_store_query` runs any SQL (read-only unless the store was opened for writing).
 * Text a log wrote is masked again as it is read, for a database an older upglog wrote.
 *
 * Strings handed to callbacks are valid only during the callback.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/catalog.h"
#include "upglog/error.h"
#include "upglog/interpret.h"

#define UL_SCHEMA_VERSION 2

enum ul_store_mode {
	UL_STORE_CREATE,   /**< read-write; create the file and schema when missing */
	UL_STORE_READONLY, /**< an existing database, read-only */
	UL_STORE_WRITE,    /**< an existing database, read-write (query --write) */
};

struct ul_store;

/** Does `name` (a --db value) name a database server (PostgreSQL) rather than a SQLite file? */
bool ul_store_names_server(const char *name);

/** `path` ":memory:" gives a private in-memory SQLite database; a PostgreSQL connection
 *  string or URI opens that database (see above). */
struct ul_store *ul_store_open(const char *path, enum ul_store_mode mode, struct ul_error *err);
void ul_store_close(struct ul_store *st);

/** The database's name for messages: its path, or a PostgreSQL connection string without its
 *  password. */
const char *ul_store_name(const struct ul_store *st);

/* ---- writing a scan ------------------------------------------------------------------------ */

/** Start a scan: a `scans` row, and the catalogue in `rules`. */
bool ul_store_begin_scan(struct ul_store *st, const char *version, const char *arguments,
                         const struct ul_catalog *cat, int64_t *scan_id, struct ul_error *err);
bool ul_store_end_scan(struct ul_store *st, int64_t scan_id, struct ul_error *err);

/**
 * Read-only: is this top-level input (not a folder) unchanged since a previous visit that read
 * it to the end? Then its files can all be kept without reading it.
 */
bool ul_store_source_unchanged(struct ul_store *st, const char *path, const char *kind,
                               int64_t size, int64_t mtime, bool *unchanged, struct ul_error *err);

/**
 * Record that this scan visits a top-level input; with `unchanged` (see above) its files are
 * attached to this scan as they are.
 */
bool ul_store_source(struct ul_store *st, int64_t scan_id, const char *path, const char *kind,
                     int64_t size, int64_t mtime, bool unchanged, int64_t *source_id,
                     struct ul_error *err);

/**
 * The source was read to its end (`complete`): forget its files that this scan did not see,
 * and mark it complete so an unchanged container is skipped next time. Also sets the source's
 * host from its files' verdicts.
 */
bool ul_store_source_done(struct ul_store *st, int64_t scan_id, int64_t source_id, bool complete,
                          struct ul_error *err);

/**
 * Name the server a finished source comes from, and give that name to its files (and their
 * verdicts) whose own lines named none: the host its logs name most often, else `given`
 * (`--host`), else `from_name` (derived from the input's own name); NULL or "" to skip one.
 * `files.host_from` records where each file's host came from: `log`, `bundle`, `option`, `name`.
 */
bool ul_store_source_host(struct ul_store *st, int64_t source_id, const char *given,
                          const char *from_name, struct ul_error *err);

/** What the store knows of a file path from earlier scans. */
struct ul_known {
	bool found; /**< a row exists */
	bool ok;    /**< ... and it was read without error */
	int64_t size, mtime;
	char hash[17]; /**< content hash, "" when none */
};

bool ul_store_lookup(struct ul_store *st, const char *path, struct ul_known *out,
                     struct ul_error *err);

/** Keep an unchanged file: attach it to this scan and source without reading it again. */
bool ul_store_keep(struct ul_store *st, int64_t scan_id, int64_t source_id, const char *path,
                   struct ul_error *err);

/** A file row. Text fields may be NULL. */
struct ul_file_row {
	int64_t scan_id, source_id;
	const char *path;
	const char *location;
	const char *family;
	const char *encoding;
	int64_t size, mtime;  /**< as stored in the source */
	int64_t bytes, lines; /**< decompressed bytes and lines read */
	int64_t cut_lines, replaced;
	const char *hash;
	const char *status; /**< "ok" or a reason word */
	const char *error;  /**< one line, or NULL */
};

/** Begin a file: opens its transaction and replaces any older rows of the same path. */
bool ul_store_file_begin(struct ul_store *st, const struct ul_file_row *row, int64_t *file_id,
                         struct ul_error *err);

/** Add a finding of the open file. */
bool ul_store_finding(struct ul_store *st, int64_t file_id, const struct ul_catalog *cat,
                      const struct ul_finding *f, struct ul_error *err);

/** Finish the open file: final row fields, tallies, verdict (may be NULL); commit. When the
 *  row it replaced holds the same content (see above), keep that row instead. */
bool ul_store_file_end(struct ul_store *st, int64_t file_id, const struct ul_file_row *row,
                       const struct ul_catalog *cat, const struct ul_tally *tallies,
                       size_t ntallies, const struct ul_verdict *verdict, struct ul_error *err);

/** Abandon the open file (rolls its transaction back). */
void ul_store_file_abort(struct ul_store *st);

/** Record a file that could not be read at all (its own small transaction). */
bool ul_store_file_failed(struct ul_store *st, const struct ul_file_row *row, struct ul_error *err);

/* ---- reading for reports ------------------------------------------------------------------ */

/** The latest scan id, or 0 when the database holds none. */
bool ul_store_latest_scan(struct ul_store *st, int64_t *scan_id, struct ul_error *err);

/** Did a scan finish? */
struct ul_scan_state {
	bool found;    /**< the scan exists */
	bool finished; /**< `scans.finished` is set */
	bool running;  /**< not finished, and the process running it is alive */
	char started[32];
};

/**
 * The state of scan `scan_id`. When it did not finish and `unread` is given, `unread` is
 * called for every input it did not read to the end and every file it could not read, with
 * the reason. A scan that stops leaves the inputs after the last one it began unvisited:
 * those have no row and are not listed.
 */
bool ul_store_scan_state(struct ul_store *st, int64_t scan_id, struct ul_scan_state *out,
                         bool (*unread)(void *ctx, const char *path, const char *why), void *ctx,
                         struct ul_error *err);

/** A finding as the report shows it. */
struct ul_finding_view {
	int64_t id;
	const char *file;
	int64_t line;
	const char *ts;
	const char *rule;
	const char *severity;
	const char *code;
	const char *action;
	const char *text;
	const char *before, *after;
	const char *title, *explain, *fix;
	const char *captures;
};

struct ul_candidate_view {
	int64_t line;
	const char *reason;
	bool has_finding;
	struct ul_finding_view finding;
};

/** One file of a scan with its verdict. */
struct ul_file_view {
	int64_t id;
	const char *path, *location, *family, *encoding, *status, *error;
	int64_t lines, bytes;
	const char *outcome; /**< NULL when the file has no verdict row */
	const char *reason, *action, *product, *started, *failed_at;
	bool has_exit, reboot;
	int64_t exit_code;
	bool has_root;
	struct ul_finding_view root;
	struct ul_candidate_view candidates[3];
	size_t ncandidates;
	const char *finished;  /**< last timestamp of the file, or NULL */
	const char *host;      /**< the server the file comes from, or NULL */
	const char *host_from; /**< `log`, `bundle`, `option`, `name`, or NULL */
};

/** Every file the scan covered (its sources' files), in path order. */
bool ul_store_each_file(struct ul_store *st, int64_t scan_id,
                        bool (*cb)(void *ctx, const struct ul_file_view *f), void *ctx,
                        struct ul_error *err);

/**
 * Findings of at least `min` severity in the scan's files, in (path, line) order. With
 * `causes_only`, lines that only repeat an outcome (`Return value 3`, final status, ...) are
 * left out.
 */
bool ul_store_each_finding(struct ul_store *st, int64_t scan_id, enum ul_severity min,
                           bool causes_only, bool (*cb)(void *ctx, const struct ul_finding_view *f),
                           void *ctx, struct ul_error *err);

/** A fact a `fact` rule found (see `struct ul_fact`). */
struct ul_fact_view {
	int64_t file_id;
	const char *file;
	const char *key, *value;
	int64_t line;
	const char *ts; /**< or NULL */
};

/** Facts of the scan's files, in (path, line) order. */
bool ul_store_each_fact(struct ul_store *st, int64_t scan_id,
                        bool (*cb)(void *ctx, const struct ul_fact_view *f), void *ctx,
                        struct ul_error *err);

/* ---- servers and the cluster (written by the cluster module) ------------------------------- */

/** One server's verdict. Text fields may be NULL. */
struct ul_server_row {
	const char *host, *role, *role_evidence, *outcome, *product;
	const char *from_version, *to_version, *final_version;
	const char *started, *finished, *reason;
	bool reboot;
	int64_t file_id, line; /**< the root-cause line (0 when none) */
};

/** One cluster check that fired. */
struct ul_check_row {
	const char *name, *severity;
	const char *host;  /**< the server it names first, or NULL */
	const char *hosts; /**< every server it names, comma-separated, or NULL */
	int64_t file_id, line;
	const char *text, *advice, *evidence;
};

/** Replace the servers and checks of scan `scan_id` (one transaction). When a file they
 *  point at is gone (a concurrent scan of the same input stored it again under a new id since
 *  the cluster was read), nothing is written and `err->kind` is "stale": build it again. */
bool ul_store_write_cluster(struct ul_store *st, int64_t scan_id,
                            const struct ul_server_row *servers, size_t nservers,
                            const struct ul_check_row *checks, size_t nchecks,
                            struct ul_error *err);

/** Files of a scan by verdict and status. */
struct ul_store_summary {
	uint64_t files;                     /**< files the scan covered (read now or kept) */
	uint64_t outcome[UL_OUTCOME_COUNT]; /**< by enum ul_outcome */
	uint64_t unreadable;                /**< files whose status is not "ok" */
};

bool ul_store_summary(struct ul_store *st, int64_t scan_id, struct ul_store_summary *out,
                      struct ul_error *err);

/** Line counts per severity (noise from rule_hits) over the scan's files. */
bool ul_store_counts(struct ul_store *st, int64_t scan_id, uint64_t counts[UL_SEV_COUNT],
                     struct ul_error *err);

/** Noise tallies of the scan's files, biggest first: rule id, its code (or ""), count. */
bool ul_store_each_noise(struct ul_store *st, int64_t scan_id,
                         bool (*cb)(void *ctx, const char *rule, const char *code, uint64_t count),
                         void *ctx, struct ul_error *err);

/* ---- merging shards ------------------------------------------------------------------------ */

/**
 * Merging SQLite databases scanned elsewhere (shards) into this one (README, "Merging
 * databases"). Each shard goes in whole or not at all (one transaction on the target), so a
 * killed merge leaves the target as it was before that shard. Every scan of the shard becomes
 * a new scan of the target with its servers and checks; its sources, files and their rows are
 * copied with every id renumbered and every text a log wrote masked again (mask.h). A file whose
 * path the target already holds with the same content hash is not copied: the target's row is
 * attached to the shard's scan. A path held with other content: the version whose scan started
 * later wins (a tie keeps the target's). Rules are added; a shard whose newest scan is newer
 * than every scan of the target also renews the target's rules.
 */
struct ul_merge;

/** What merging one shard did. */
struct ul_merge_stats {
	uint64_t scans; /**< scans of the shard, each now a scan of the target */
	uint64_t files; /**< files copied with their rows */
	uint64_t
	        present; /**< held by the target with the same content hash: attached, not copied */
	uint64_t
	        replaced; /**< held by the target with other content from an older scan: replaced */
	uint64_t older;   /**< held by the target with other content from a scan at least as new:
	                        the shard's version left out */
	uint64_t findings; /**< findings copied */
};

/** Start merging into `target`, a store opened with UL_STORE_CREATE or UL_STORE_WRITE. */
struct ul_merge *ul_store_merge_begin(struct ul_store *target, struct ul_error *err);

/**
 * Merge the SQLite database at `shard` (opened read-only; its schema must be the current one).
 * On failure `err` names the shard (or the target) and the reason, `err->kind` is one word
 * (`missing`, `not-database`, `not-upglog`, `newer`, `older`, `same`, `shard`, `store`,
 * `memory`), and the target holds nothing of the shard.
 */
bool ul_store_merge_shard(struct ul_merge *m, const char *shard, struct ul_merge_stats *out,
                          struct ul_error *err);

/**
 * Close the merge with a scan of its own: `version`, the command line `arguments` (JSON,
 * masked again), started when the merge began; every input the merged shards brought is now
 * visited by it, so `triage --db` and the views read all of them as one cluster. `*scan_id` is
 * 0 (and nothing is written) when no shard was merged.
 */
bool ul_store_merge_end(struct ul_merge *m, const char *version, const char *arguments,
                        int64_t *scan_id, struct ul_error *err);

void ul_store_merge_free(struct ul_merge *m);

/* ---- ad-hoc SQL --------------------------------------------------------------------------- */

/** Column values of one result row; NULL for SQL NULL. */
typedef bool (*ul_row_fn)(void *ctx, int ncols, const char *const *names,
                          const char *const *values);

/**
 * Run one or more SQL statements, calling `cb` per result row (column names repeat in every
 * call). In a read-only store, statements that would write are refused with an error.
 */
bool ul_store_query(struct ul_store *st, const char *sql, ul_row_fn cb, void *ctx,
                    struct ul_error *err);

/** One value of a result row, with its SQLite type. */
enum ul_value_type { UL_VAL_NULL, UL_VAL_INT, UL_VAL_REAL, UL_VAL_TEXT, UL_VAL_BLOB };

struct ul_value {
	enum ul_value_type type;
	int64_t i;     /**< UL_VAL_INT */
	double r;      /**< UL_VAL_REAL */
	const char *p; /**< UL_VAL_TEXT (NUL-terminated, not always valid UTF-8), UL_VAL_BLOB */
	size_t len;    /**< bytes of p */
};

struct ul_query_row {
	size_t statement; /**< 0 for the first statement of the SQL, 1 for the next, ... */
	int ncols;
	const char *const *names;
	const struct ul_value *values;
};

/** As ul_store_query, with each value's type and the statement it belongs to. */
bool ul_store_query_rows(struct ul_store *st, const char *sql,
                         bool (*cb)(void *ctx, const struct ul_query_row *row), void *ctx,
                         struct ul_error *err);

/** SQLite: `PRAGMA integrity_check` says "ok"; PostgreSQL: the server answers. */
bool ul_store_check(struct ul_store *st, struct ul_error *err);

#endif
