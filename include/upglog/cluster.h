/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_CLUSTER_H
#define UPGLOG_CLUSTER_H

/**
 * cluster: files -> servers -> the cluster.
 *
 * Reads what a scan stored (files with their host, verdicts, root causes, facts) and speaks in
 * servers: every file belongs to the server its host names; a server's files merge into one
 * timeline ordered by time. Of that timeline only the upgrade run counts: the latest group of
 * files whose times lie within UL_CLUSTER_RUN_GAP of each other (an earlier attempt or the
 * original installation years before is left out); files without any date stay with the run.
 *
 * Per server: outcome (failed > cancelled > incomplete > succeeded > unknown over the run's
 * files; a file's own `cancelled` verdict, or a failed one with exit code 1602, is a cancel,
 * and a file that failed at or after the run's earliest cancel reports it: a cancel too),
 * versions before and after, start and end, reboot pending, and the root cause by
 * time: the earliest of the failed files' root causes and of the first errors of the run's
 * files that did not say how they ended (a service-account change that failed before the
 * service could not log on), never later than the first failure; three ranked candidates.
 *
 * Servers given together form a cluster: each gets a role (`--role`, else the facts its logs
 * state, else `unknown`) and the checks of the upgrade guide run over them. The cluster verdict
 * is failed when a server failed or a check of severity error or worse fired.
 *
 * Facts the cluster reads (named captures of rules with event `fact`): host, role,
 * backup_utility, servprep, ccm_service, tftp_service, from_version, to_version,
 * final_version, product_version, os_version, nt_product_type, terminal_server,
 * terminal_services, vnc, security_software, config_change.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/catalog.h"
#include "upglog/error.h"
#include "upglog/interpret.h"
#include "upglog/store.h"

/** Files of one server more than this far apart belong to different runs. */
#define UL_CLUSTER_RUN_GAP (12 * 3600)

/** Default maintenance window: 8 hours. */
#define UL_CLUSTER_WINDOW (8 * 3600)

enum ul_role {
	UL_ROLE_UNKNOWN = 0,
	UL_ROLE_PUBLISHER,
	UL_ROLE_TFTP,
	UL_ROLE_SERVICES,   /**< runs Cisco CallManager services only */
	UL_ROLE_SUBSCRIBER, /**< a subscriber whose backup/primary status is not known */
	UL_ROLE_SECONDARY,
	UL_ROLE_PRIMARY,
	UL_ROLE_APPLICATION,
};
#define UL_ROLE_COUNT 8

/** "unknown", "publisher", "tftp", "services", "subscriber", "secondary", "primary",
 *  "application". */
const char *ul_role_name(enum ul_role r);
/** Case-insensitive; also "backup" for secondary. */
bool ul_role_parse(const char *word, enum ul_role *out);

struct ul_cluster_opts {
	const char *const *roles; /**< "HOST=ROLE" each (validated by ul_cluster_parse_role) */
	size_t nroles;
	int64_t window; /**< seconds; 0 = UL_CLUSTER_WINDOW */
};

/** Split "HOST=ROLE"; false when it is not of that form or the role is unknown. */
bool ul_cluster_parse_role(const char *spec, char *host, size_t cap, enum ul_role *role);

/** "8h", "90m", "1h30m", "45s", "2d" -> seconds; false when malformed or zero. */
bool ul_cluster_parse_duration(const char *s, int64_t *secs);

/**
 * A host name from an input's own name: of the base name without container extensions, the
 * first token (split at `-`, `_`, `.`, space) holding both letters and digits, else the whole
 * stem; upper case ("pub01-logs.zip" -> "PUB01", "/x/PUB01/" -> "PUB01"). "" for "-".
 */
void ul_cluster_host_from_name(const char *path, char *out, size_t cap);

/** Seconds since 1970 of "YYYY-MM-DDTHH:MM:SS[.mmm]" read as UTC; false when malformed. */
bool ul_cluster_parse_ts(const char *ts, int64_t *secs);

/** A line that explains a server's verdict. Strings are owned by the cluster. */
struct ul_server_cause {
	int64_t file_id;
	const char *file;
	int64_t line;
	const char *ts;   /**< or NULL */
	const char *rule; /**< or NULL when the line is not a finding */
	const char *code, *text, *title, *explain, *fix, *before, *after; /**< or NULL */
	const char *reason; /**< why it is ranked here */
};

struct ul_server {
	const char *host; /**< "" when no file named one */
	enum ul_role role;
	const char *role_evidence; /**< "given", or what in the logs says so, or NULL */
	bool role_verified;        /**< given by the user (the logs' role evidence is inferred) */
	enum ul_outcome outcome;
	const char *product;                                   /**< or NULL */
	const char *from_version, *to_version, *final_version; /**< or NULL */
	const char *started, *finished;                        /**< the run's times, or NULL */
	bool reboot;
	const char *verdict; /**< one line in plain words */
	const char *advice;  /**< what to do, or NULL */
	struct ul_server_cause causes[3];
	size_t ncauses;
	size_t files, run_files;
	int64_t start_file_id; /**< file and line that show the start (0 when unknown) */
	const char *start_file;
	int64_t start_line;
	int64_t end_file_id;
	const char *end_file;
	int64_t end_line;
};

struct ul_check {
	const char *name; /**< upgrade-order, concurrent-upgrade, maintenance-window, ... */
	enum ul_severity severity;
	const char *host;  /**< the server it is about, or NULL for the whole cluster */
	const char *hosts; /**< every server it names, comma-separated */
	int64_t file_id;   /**< the file and line that prove it (0 when none) */
	const char *file;
	int64_t line;
	const char *text;
	const char *advice;
	const char *evidence; /**< "verified" or "inferred" */
};

struct ul_cluster;

/** Build servers, roles and checks from scan `scan_id`. NULL with `err` set on failure. */
struct ul_cluster *ul_cluster_build(struct ul_store *st, int64_t scan_id,
                                    const struct ul_cluster_opts *o, struct ul_error *err);
void ul_cluster_destroy(struct ul_cluster *cl);

/** Servers in upgrade order (start time; servers without times last, by host). */
const struct ul_server *ul_cluster_servers(const struct ul_cluster *cl, size_t *n);
/** Checks that fired, worst first, then in time order. */
const struct ul_check *ul_cluster_checks(const struct ul_cluster *cl, size_t *n);
/** failed (a server failed or a check of severity error or worse), else the worst server. */
enum ul_outcome ul_cluster_verdict(const struct ul_cluster *cl);
/** First start and last end over the servers, NULL when unknown. */
const char *ul_cluster_started(const struct ul_cluster *cl);
const char *ul_cluster_finished(const struct ul_cluster *cl);

/** Write the servers and checks into the `servers` and `checks` tables of scan `scan_id`;
 *  `err->kind` "stale" when the files changed since the build (see ul_store_write_cluster). */
bool ul_cluster_save(struct ul_store *st, int64_t scan_id, const struct ul_cluster *cl,
                     struct ul_error *err);

#endif
