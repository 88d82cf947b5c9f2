/* SPDX-License-Identifier: MIT */
/* cluster: servers from files, the run, root cause by time, roles, checks, small parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "upglog/catalog.h"
#include "upglog/cluster.h"
#include "upglog/store.h"

static const char rules[] = "rule c.error\n"
                            "  severity error\n  family any\n"
                            "  match ^Error (?<code>\\d+)\n"
                            "  title Error {code}\n  fix Read the log.\n"
                            "  sample Error 1722. x\n";

struct fixture {
	struct ul_catalog *cat;
	struct ul_store *st;
	int64_t scan;
	int64_t source;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	fx->cat = tu_catalog("c.rules", rules, sizeof(rules) - 1);
	fx->st = tu_memory_store(fx->cat, &fx->scan);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	ul_store_close(fx->st);
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

static void source(struct fixture *fx, const char *path)
{
	struct ul_error err;
	assert_true(ul_store_source(fx->st, fx->scan, path, "dir", 0, 1, false, &fx->source, &err));
}

struct file_spec {
	const char *path, *host, *family;
	enum ul_outcome outcome;
	const char *started, *finished;
	uint64_t err_line;  /* an error finding on this line (0: none) */
	const char *err_ts; /* its time */
	bool root;          /* ... and it is the root cause */
	long exit_code;
	const char *facts[4][2];
	uint64_t fact_line;
};

static void file(struct fixture *fx, const struct file_spec *s)
{
	struct ul_error err;
	struct ul_file_row r = { .scan_id = fx->scan,
		                 .source_id = fx->source,
		                 .path = s->path,
		                 .location = "other",
		                 .family = s->family ? s->family : "cisco",
		                 .encoding = "utf-8",
		                 .lines = 50,
		                 .status = "ok" };
	int64_t id;
	assert_true(ul_store_file_begin(fx->st, &r, &id, &err));
	struct ul_verdict v = { .outcome = s->outcome };
	if (s->err_line) {
		struct ul_finding f = { .line = s->err_line,
			                .ts = s->err_ts,
			                .rule = (uint32_t)ul_catalog_find(fx->cat, "c.error"),
			                .severity = UL_SEV_ERROR,
			                .code = "1722",
			                .text = "Error 1722. x",
			                .title = "Error 1722" };
		assert_true(ul_store_finding(fx->st, id, fx->cat, &f, &err));
		if (s->root) {
			v.root_line = s->err_line;
			v.ncandidates = 1;
			v.candidates[0].line = s->err_line;
			snprintf(v.candidates[0].reason, sizeof(v.candidates[0].reason), "own");
			snprintf(v.failed_at, sizeof(v.failed_at), "%s", s->err_ts);
		}
	}
	if (s->exit_code) {
		v.has_exit = true;
		v.exit_code = s->exit_code;
	}
	snprintf(v.host, sizeof(v.host), "%s", s->host ? s->host : "");
	snprintf(v.started, sizeof(v.started), "%s", s->started ? s->started : "");
	snprintf(v.finished, sizeof(v.finished), "%s", s->finished ? s->finished : "");
	for (size_t i = 0; i < 4 && s->facts[i][0]; i++) {
		snprintf(v.facts[i].key, sizeof(v.facts[i].key), "%s", s->facts[i][0]);
		snprintf(v.facts[i].value, sizeof(v.facts[i].value), "%s", s->facts[i][1]);
		v.facts[i].line = s->fact_line ? s->fact_line : 1;
		snprintf(v.facts[i].ts, sizeof(v.facts[i].ts), "%s", s->started ? s->started : "");
		v.nfacts++;
	}
	assert_true(ul_store_file_end(fx->st, id, &r, fx->cat, NULL, 0, &v, &err));
}

static struct ul_cluster *build(struct fixture *fx, const struct ul_cluster_opts *o)
{
	struct ul_error err;
	struct ul_cluster *cl = ul_cluster_build(fx->st, fx->scan, o, &err);
	if (!cl)
		fail_msg("%s", err.msg);
	return cl;
}

static const struct ul_check *check(const struct ul_cluster *cl, const char *name)
{
	size_t n;
	const struct ul_check *c = ul_cluster_checks(cl, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return &c[i];
	return NULL;
}

/* ---- parsers ------------------------------------------------------------------------------ */

static void durations_roles_names_and_times(void **state)
{
	(void)state;
	int64_t s;
	assert_true(ul_cluster_parse_duration("8h", &s));
	assert_int_equal(s, 8 * 3600);
	assert_true(ul_cluster_parse_duration("1h30m", &s));
	assert_int_equal(s, 5400);
	assert_true(ul_cluster_parse_duration("2d", &s));
	assert_int_equal(s, 172800);
	assert_false(ul_cluster_parse_duration("8", &s));
	assert_false(ul_cluster_parse_duration("0h", &s));
	assert_false(ul_cluster_parse_duration("h", &s));
	assert_false(ul_cluster_parse_duration("", &s));

	char host[64];
	enum ul_role r;
	assert_true(ul_cluster_parse_role("PUB01=publisher", host, sizeof(host), &r));
	assert_string_equal(host, "PUB01");
	assert_int_equal(r, UL_ROLE_PUBLISHER);
	assert_true(ul_cluster_parse_role("s=Backup", host, sizeof(host), &r));
	assert_int_equal(r, UL_ROLE_SECONDARY);
	assert_false(ul_cluster_parse_role("PUB01", host, sizeof(host), &r));
	assert_false(ul_cluster_parse_role("=tftp", host, sizeof(host), &r));
	assert_false(ul_cluster_parse_role("X=boss", host, sizeof(host), &r));
	assert_false(ul_cluster_parse_role("X=unknown", host, sizeof(host), &r));

	char n[64];
	ul_cluster_host_from_name("/x/pub01-logs.zip", n, sizeof(n));
	assert_string_equal(n, "PUB01");
	ul_cluster_host_from_name("/x/bundles/SUB02/", n, sizeof(n));
	assert_string_equal(n, "SUB02");
	ul_cluster_host_from_name("/x/cisco-sub03-failed.tar.gz", n, sizeof(n));
	assert_string_equal(n, "SUB03");
	ul_cluster_host_from_name("stdin:tftp1_ccminst.log", n, sizeof(n));
	assert_string_equal(n, "TFTP1");
	ul_cluster_host_from_name("/x/callmanager.zip", n, sizeof(n));
	assert_string_equal(n, "CALLMANAGER");
	/* Escaped bytes of a stored name (`\x21` is '!') are not part of a computer name. */
	ul_cluster_host_from_name("/x/pub01\\x21logs.zip", n, sizeof(n));
	assert_string_equal(n, "PUB01");
	ul_cluster_host_from_name("/x/\\x01sub04\\x5c.zip", n, sizeof(n));
	assert_string_equal(n, "SUB04");
	ul_cluster_host_from_name("-", n, sizeof(n));
	assert_string_equal(n, "");

	int64_t a, b;
	assert_true(ul_cluster_parse_ts("2005-03-19T23:59:59", &a));
	assert_true(ul_cluster_parse_ts("2005-03-20T00:00:01.250", &b));
	assert_int_equal(b - a, 2);
	assert_true(ul_cluster_parse_ts("1970-01-01T00:00:00", &a));
	assert_int_equal(a, 0);
	assert_false(ul_cluster_parse_ts("19/03/2005", &a));
	assert_false(ul_cluster_parse_ts(NULL, &a));
}

/* ---- servers ------------------------------------------------------------------------------ */

/* The first error of a log that did not say how it ended, before the failure, is the cause. */
static void root_cause_by_time_across_logs(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/pub01");
	file(fx, &(struct file_spec){ .path = "/b/pub01/a-msi.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2005-03-14T22:41:07",
	                              .finished = "2005-03-14T22:56:49",
	                              .err_line = 2764,
	                              .err_ts = "2005-03-14T22:52:52",
	                              .root = true,
	                              .exit_code = 1603 });
	file(fx, &(struct file_spec){ .path = "/b/pub01/b-dbinst.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2005-03-14T22:49:45",
	                              .finished = "2005-03-14T22:53:00",
	                              .err_line = 13,
	                              .err_ts = "2005-03-14T22:49:59",
	                              .root = true });
	file(fx, &(struct file_spec){ .path = "/b/pub01/c-servprep.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_UNKNOWN,
	                              .started = "2005-03-14T22:35:20",
	                              .finished = "2005-03-14T22:37:09",
	                              .err_line = 45,
	                              .err_ts = "2005-03-14T22:36:52" });
	/* An error after the first failure in a log without an outcome is no candidate. */
	file(fx, &(struct file_spec){ .path = "/b/pub01/d-later.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_UNKNOWN,
	                              .started = "2005-03-14T22:55:00",
	                              .finished = "2005-03-14T22:58:00",
	                              .err_line = 7,
	                              .err_ts = "2005-03-14T22:57:00" });
	/* The original install two years before is another run. */
	file(fx, &(struct file_spec){ .path = "/b/pub01/e-sqlstp.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2003-01-10T10:00:00",
	                              .finished = "2003-01-10T10:30:00",
	                              .err_line = 3,
	                              .err_ts = "2003-01-10T10:10:00",
	                              .root = true });
	struct ul_cluster *cl = build(fx, NULL);
	size_t n;
	const struct ul_server *s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 1);
	assert_string_equal(s->host, "PUB01");
	assert_int_equal(s->outcome, UL_OUT_FAILED);
	assert_int_equal(s->files, 5);
	assert_int_equal(s->run_files, 4);
	assert_string_equal(s->started, "2005-03-14T22:35:20");
	assert_string_equal(s->finished, "2005-03-14T22:58:00");
	assert_int_equal(s->ncauses, 3);
	assert_string_equal(s->causes[0].file, "/b/pub01/c-servprep.log");
	assert_int_equal(s->causes[0].line, 45);
	assert_non_null(strstr(s->causes[0].reason, "before b-dbinst.log failed"));
	assert_string_equal(s->causes[1].file, "/b/pub01/b-dbinst.log");
	assert_non_null(strstr(s->causes[1].reason, "consequence"));
	assert_string_equal(s->causes[2].file, "/b/pub01/a-msi.log");
	assert_non_null(strstr(s->verdict, "PUB01 failed at 2005-03-14T22:36:52: error 1722"));
	assert_string_equal(s->advice, "Read the log.");
	assert_int_equal(ul_cluster_verdict(cl), UL_OUT_FAILED);
	ul_cluster_destroy(cl);
}

static void cancelled_unknown_and_unnamed(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/x");
	file(fx, &(struct file_spec){ .path = "/b/x/cancel.log",
	                              .host = "APP1",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2024-06-03T10:00:00",
	                              .finished = "2024-06-03T10:01:00",
	                              .exit_code = 1602,
	                              .facts = { { "from_version", "3.3(4)" } } });
	file(fx, &(struct file_spec){ .path = "/b/x/none.log", .outcome = UL_OUT_UNKNOWN });
	struct ul_cluster *cl = build(fx, NULL);
	size_t n;
	const struct ul_server *s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].host, "APP1");
	assert_int_equal(s[0].outcome, UL_OUTCOME_CANCELLED);
	assert_non_null(strstr(s[0].verdict, "cancelled by the user (1602)"));
	assert_string_equal(s[0].final_version, "3.3(4)");
	assert_string_equal(s[1].host, "");
	assert_int_equal(s[1].outcome, UL_OUT_UNKNOWN);
	assert_null(s[1].started);
	assert_int_equal(ul_cluster_verdict(cl), UL_OUTCOME_CANCELLED);
	ul_cluster_destroy(cl);
}

/*
 * A file whose own verdict is cancelled (an InstallShield Suite run the user cancelled, with no
 * Windows Installer exit code) makes its server cancelled, over a succeeded log of the same run;
 * its cancel line is the cause. A failed file of the same run still wins.
 */
static void a_files_cancelled_verdict_cancels_its_server(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/w");
	file(fx, &(struct file_spec){ .path = "/b/w/launcher.log",
	                              .host = "WKS1",
	                              .family = "installshield",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2024-06-03T09:14:00",
	                              .finished = "2024-06-03T09:14:10" });
	file(fx, &(struct file_spec){ .path = "/b/w/suite.log",
	                              .host = "WKS1",
	                              .family = "installshield",
	                              .outcome = UL_OUTCOME_CANCELLED,
	                              .started = "2024-06-03T09:14:20",
	                              .finished = "2024-06-03T09:15:45",
	                              .err_line = 28,
	                              .err_ts = "2024-06-03T09:15:40",
	                              .root = true });
	struct ul_cluster *cl = build(fx, NULL);
	size_t n;
	const struct ul_server *s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].outcome, UL_OUTCOME_CANCELLED);
	assert_non_null(strstr(s[0].verdict, "WKS1 was cancelled by the user"));
	assert_null(strstr(s[0].verdict, "1602"));
	assert_int_equal(s[0].ncauses, 1);
	assert_string_equal(s[0].causes[0].file, "/b/w/suite.log");
	assert_int_equal(s[0].causes[0].line, 28);
	assert_int_equal(ul_cluster_verdict(cl), UL_OUTCOME_CANCELLED);
	ul_cluster_destroy(cl);

	file(fx, &(struct file_spec){ .path = "/b/w/z-msi.log",
	                              .host = "WKS1",
	                              .family = "msi",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2024-06-03T09:15:00",
	                              .finished = "2024-06-03T09:15:30",
	                              .exit_code = 1603 });
	cl = build(fx, NULL);
	s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].outcome, UL_OUT_FAILED);
	assert_int_equal(ul_cluster_verdict(cl), UL_OUT_FAILED);
	ul_cluster_destroy(cl);
}

/*
 * The user cancels the CallManager MSI (1602): the upgrade driver's log and the summary written
 * after it say failed ("Upgrade CANCELLED", "Result: FAILED"). They report the cancel: the server
 * is cancelled, its cause the MSI's cancel line. A log that failed before the cancel is a
 * failure of its own and wins; one whose failure has no time cannot be placed and wins too.
 */
static void failures_reported_after_a_cancel_are_its_echo(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/s");
	file(fx, &(struct file_spec){ .path = "/b/s/CCMUpgrade_110704.log",
	                              .host = "SUB01",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2004-11-07T21:32:49",
	                              .finished = "2004-11-07T22:09:15",
	                              .err_line = 16,
	                              .err_ts = "2004-11-07T22:09:13",
	                              .root = true });
	file(fx, &(struct file_spec){ .path = "/b/s/ccminst_110704_213612.log",
	                              .host = "SUB01",
	                              .family = "msi",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2004-11-07T21:36:12",
	                              .finished = "2004-11-07T22:09:10",
	                              .err_line = 1719,
	                              .err_ts = "2004-11-07T22:03:25",
	                              .root = true,
	                              .exit_code = 1602 });
	file(fx, &(struct file_spec){ .path = "/b/s/UpgradeSummary.txt",
	                              .host = "SUB01",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2004-11-07T21:32:49",
	                              .finished = "2004-11-07T22:09:15",
	                              .err_line = 8,
	                              .err_ts = "2004-11-07T22:09:15",
	                              .root = true });
	struct ul_cluster *cl = build(fx, NULL);
	size_t n;
	const struct ul_server *s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].outcome, UL_OUTCOME_CANCELLED);
	assert_non_null(strstr(s[0].verdict, "cancelled by the user (1602)"));
	assert_true(s[0].ncauses >= 1);
	assert_string_equal(s[0].causes[0].file, "/b/s/ccminst_110704_213612.log");
	assert_int_equal(s[0].causes[0].line, 1719);
	assert_int_equal(ul_cluster_verdict(cl), UL_OUTCOME_CANCELLED);
	ul_cluster_destroy(cl);

	/* ServPrep failed before the installer ran: the server failed. */
	file(fx, &(struct file_spec){ .path = "/b/s/ServPrep_110704.log",
	                              .host = "SUB01",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2004-11-07T21:32:54",
	                              .finished = "2004-11-07T21:33:51",
	                              .err_line = 12,
	                              .err_ts = "2004-11-07T21:33:40",
	                              .root = true });
	cl = build(fx, NULL);
	s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].outcome, UL_OUT_FAILED);
	assert_string_equal(s[0].causes[0].file, "/b/s/ServPrep_110704.log");
	ul_cluster_destroy(cl);
}

/*
 * The installer's log is cut mid-install (collected while it ran, or copied short): logs of the
 * run that say they succeeded, even ones dated after the cut, do not make the server
 * succeeded.
 */
static void a_cut_installer_log_keeps_its_server_incomplete(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/c");
	file(fx, &(struct file_spec){ .path = "/b/c/ServPrep_060105.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2005-06-01T19:50:02",
	                              .finished = "2005-06-01T19:51:12" });
	file(fx, &(struct file_spec){ .path = "/b/c/ccminst_060105_195429.log",
	                              .host = "PUB01",
	                              .family = "msi",
	                              .outcome = UL_OUT_INCOMPLETE,
	                              .started = "2005-06-01T19:54:30",
	                              .finished = "2005-06-01T20:03:30" });
	file(fx, &(struct file_spec){ .path = "/b/c/DBInst_060105_201245.log",
	                              .host = "PUB01",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2005-06-01T20:12:45",
	                              .finished = "2005-06-01T20:18:12" });
	struct ul_cluster *cl = build(fx, NULL);
	size_t n;
	const struct ul_server *s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].outcome, UL_OUT_INCOMPLETE);
	assert_int_equal(ul_cluster_verdict(cl), UL_OUT_INCOMPLETE);
	ul_cluster_destroy(cl);
}

/* Roles from the logs' facts, then from --role; the order and window checks follow them. */
static void roles_order_and_window(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/c");
	file(fx, &(struct file_spec){ .path = "/b/c/p.log",
	                              .host = "CM1",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2005-03-19T20:00:00",
	                              .finished = "2005-03-19T21:00:00",
	                              .facts = { { "backup_utility", "x" } },
	                              .fact_line = 1 });
	file(fx, &(struct file_spec){ .path = "/b/c/t.log",
	                              .host = "CM2",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2005-03-19T20:30:00",
	                              .finished = "2005-03-19T21:30:00",
	                              .facts = { { "tftp_service", "Cisco Tftp" },
	                                         { "servprep", "ServPrep" } } });
	file(fx, &(struct file_spec){ .path = "/b/c/s.log",
	                              .host = "CM3",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2005-03-19T21:40:00",
	                              .finished = "2005-03-20T05:00:00",
	                              .facts = { { "servprep", "ServPrep" },
	                                         { "ccm_service", "Cisco CallManager" } } });
	struct ul_cluster *cl = build(fx, NULL);
	size_t n;
	const struct ul_server *s = ul_cluster_servers(cl, &n);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].role, UL_ROLE_PUBLISHER);
	assert_int_equal(s[1].role, UL_ROLE_TFTP);
	assert_int_equal(s[2].role, UL_ROLE_SUBSCRIBER);
	assert_false(s[0].role_verified);
	const struct ul_check *c = check(cl, "upgrade-order");
	assert_non_null(c);
	assert_int_equal(c->severity, UL_SEV_ERROR);
	assert_string_equal(c->hosts, "CM2,CM1");
	assert_string_equal(c->file, "/b/c/t.log");
	assert_null(check(cl, "concurrent-upgrade"));
	c = check(cl, "maintenance-window");
	assert_non_null(c);
	assert_non_null(strstr(c->text, "9h00m"));
	assert_int_equal(ul_cluster_verdict(cl), UL_OUT_FAILED);
	ul_cluster_destroy(cl);

	/* Given roles win; equal ranks overlap: concurrent, not order. A wider window. */
	const char *roles[] = { "cm1=subscriber", "CM2=subscriber", "CM3=primary" };
	struct ul_cluster_opts o = { .roles = roles, .nroles = 3, .window = 10 * 3600 };
	cl = build(fx, &o);
	s = ul_cluster_servers(cl, &n);
	assert_int_equal(s[0].role, UL_ROLE_SUBSCRIBER);
	assert_true(s[0].role_verified);
	assert_null(check(cl, "upgrade-order"));
	c = check(cl, "concurrent-upgrade");
	assert_non_null(c);
	assert_string_equal(c->hosts, "CM2,CM1");
	assert_string_equal(c->evidence, "inferred");
	assert_null(check(cl, "maintenance-window"));
	assert_int_equal(ul_cluster_verdict(cl), UL_OUT_SUCCEEDED);
	ul_cluster_destroy(cl);
}

static void pre_flight_facts(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/d");
	file(fx, &(struct file_spec){
	                 .path = "/b/d/msi.log",
	                 .family = "msi",
	                 .host = "DC1",
	                 .outcome = UL_OUT_SUCCEEDED,
	                 .started = "2005-03-19T20:00:00",
	                 .finished = "2005-03-19T21:00:00",
	                 .facts = { { "nt_product_type", "2" }, { "terminal_server", "1" } },
	                 .fact_line = 9 });
	file(fx, &(struct file_spec){ .path = "/b/d/upg.log",
	                              .host = "DC1",
	                              .outcome = UL_OUT_SUCCEEDED,
	                              .started = "2005-03-19T19:59:00",
	                              .finished = "2005-03-19T21:01:00",
	                              .facts = { { "os_version", "2000.2.5sr1" },
	                                         { "from_version", "3.0(12)" },
	                                         { "security_software", "McAfee" },
	                                         { "vnc", "WinVNC" } } });
	struct ul_cluster *cl = build(fx, NULL);
	const struct ul_check *c = check(cl, "domain-controller");
	assert_non_null(c);
	assert_string_equal(c->evidence, "verified");
	assert_int_equal(c->line, 9);
	assert_non_null(check(cl, "terminal-services"));
	assert_non_null(check(cl, "os-version"));
	assert_non_null(check(cl, "source-version"));
	assert_non_null(check(cl, "security-policy"));
	c = check(cl, "vnc");
	assert_non_null(c);
	assert_int_equal(c->severity, UL_SEV_INFO);
	/* Worst first. */
	size_t n;
	const struct ul_check *all = ul_cluster_checks(cl, &n);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i - 1].severity >= all[i].severity);
	ul_cluster_destroy(cl);
}

static bool first_cell(void *ctx, int ncols, const char *const *names, const char *const *values)
{
	(void)names;
	char *out = ctx;
	if (!*out && ncols > 0)
		snprintf(out, 256, "%s", values[0] ? values[0] : "NULL");
	return true;
}

static void saved_to_the_tables(void **state)
{
	struct fixture *fx = *state;
	source(fx, "/b/e");
	file(fx, &(struct file_spec){ .path = "/b/e/x.log",
	                              .host = "S1",
	                              .outcome = UL_OUT_FAILED,
	                              .started = "2005-03-19T20:00:00",
	                              .finished = "2005-03-19T21:00:00",
	                              .err_line = 12,
	                              .err_ts = "2005-03-19T20:30:00",
	                              .root = true,
	                              .facts = { { "nt_product_type", "2" } } });
	struct ul_error err;
	struct ul_cluster *cl = build(fx, NULL);
	assert_true(ul_cluster_save(fx->st, fx->scan, cl, &err));
	ul_cluster_destroy(cl);
	char v[256] = "";
	assert_true(ul_store_query(fx->st,
	                           "SELECT host || ' ' || role || ' ' || outcome || ' ' || line ||"
	                           " ' ' || (finding_id IS NOT NULL) FROM servers",
	                           first_cell, v, &err));
	assert_string_equal(v, "S1 unknown failed 12 1");
	v[0] = '\0';
	assert_true(
	        ul_store_query(fx->st,
	                       "SELECT name || ' ' || severity || ' ' || host || ' ' || evidence"
	                       " FROM checks",
	                       first_cell, v, &err));
	assert_string_equal(v, "domain-controller error S1 inferred");
	v[0] = '\0';
	assert_true(
	        ul_store_query(fx->st, "SELECT text FROM v_failed_servers", first_cell, v, &err));
	assert_string_equal(v, "Error 1722. x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_roles_names_and_times),
		cmocka_unit_test_setup_teardown(root_cause_by_time_across_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(cancelled_unknown_and_unnamed, setup, teardown),
		cmocka_unit_test_setup_teardown(failures_reported_after_a_cancel_are_its_echo,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(a_cut_installer_log_keeps_its_server_incomplete,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(a_files_cancelled_verdict_cancels_its_server, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(roles_order_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(pre_flight_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(saved_to_the_tables, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
