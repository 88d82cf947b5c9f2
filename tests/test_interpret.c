/* SPDX-License-Identifier: MIT */
/* interpret: verdicts, root causes, timestamps, context and masking on crafted logs. */
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
#include "upglog/classify.h"
#include "upglog/decode.h"
#include "upglog/interpret.h"

/* A small catalogue of its own, so these tests pin the engine, not the shipped rules. */
static const char rules[] =
        "rule t.header\n"
        "  severity noise\n  family msi\n  event log-start\n  priority 30\n"
        "  match ^=== Verbose logging started: (?<date>[0-9./-]+)\\s+(?<time>[0-9:]+)\n"
        "  sample === Verbose logging started: 31.12.2024  23:59:58  Build type: SHIP\n"
        "rule t.start\n"
        "  severity noise\n  family msi\n  event action-start\n  priority 30\n"
        "  match ^Action start (?<time>[0-9:]+): (?<action>[^ .]+)\\.\n"
        "  sample Action start 1:02:03: InstallFiles.\n"
        "rule t.failed\n"
        "  severity catastrophic\n  family msi\n  event action-end\n  priority 31\n"
        "  code 1603\n"
        "  match ^Action ended (?<time>[0-9:]+): (?<action>[^ .]+)\\. Return value (?<rv>3)\\.\n"
        "  title Action {action} failed\n"
        "  sample Action ended 1:02:03: InstallFiles. Return value 3.\n"
        "rule t.cancel\n"
        "  severity warning\n  family msi\n  event action-end\n  priority 31\n"
        "  match ^Action ended (?<time>[0-9:]+): (?<action>[^ .]+)\\. Return value (?<rv>2)\\.\n"
        "  sample Action ended 1:02:03: WelcomeDlg. Return value 2.\n"
        "rule t.ended\n"
        "  severity noise\n  family msi\n  event action-end\n  priority 30\n"
        "  match ^Action ended (?<time>[0-9:]+): (?<action>[^ .]+)\\. Return value (?<rv>\\d)\\.\n"
        "  sample Action ended 1:02:03: InstallFiles. Return value 1.\n"
        "rule t.rollback\n"
        "  severity info\n  family msi\n  event rollback\n"
        "  match ^Action [0-9:]+: Rollback\\.\n"
        "  sample Action 1:02:03: Rollback. Rolling back action:\n"
        "rule t.error\n"
        "  severity catastrophic\n  family msi\n"
        "  match ^Error (?<code>\\d{4})\\.\n"
        "  title Error {code}\n"
        "  sample Error 1722. There is a problem with this Windows Installer package.\n"
        "rule t.warn\n"
        "  severity warning\n  family msi\n"
        "  match ^Info (?<code>\\d{4})\\.\n"
        "  sample Info 1603. The file is in use.\n"
        "rule t.ca\n"
        "  severity error\n  family msi\n  event ca-exit\n"
        "  match ^CustomAction (?<action>\\S+) returned actual error code (?<code>[1-9]\\d*)\n"
        "  sample CustomAction Foo returned actual error code 1603\n"
        "rule t.engine\n"
        "  severity error\n  family msi\n  event engine-return\n  priority 30\n"
        "  match MainEngineThread is returning (?<code>\\d+)\n"
        "  sample MSI (c) (A4:0C) [21:24:37:489]: MainEngineThread is returning 1603\n"
        "rule t.summary\n"
        "  severity error\n  family msi\n  event summary\n"
        "  match Note: 1: 1708\n"
        "  sample MSI (c) (A4:0C): Note: 1: 1708\n"
        "rule t.reboot\n"
        "  severity warning\n  family msi\n  event reboot\n"
        "  match ^Info 1903\\.\n  priority 5\n"
        "  sample Info 1903.Scheduling reboot operation\n"
        "rule t.noise\n"
        "  severity noise\n  family msi\n"
        "  match Note: 1: 2205 2:\n"
        "  sample MSI (s) (A0:EC): Note: 1: 2205 2:  3: Error\n"
        "rule t.secret\n"
        "  severity error\n  family msi\n"
        "  match ^Login failed\n"
        "  sample Login failed for user 'sa' with PWD=hunter2;\n"
        "rule t.timed\n"
        "  severity info\n  family msi\n"
        "  match ^tick$\n"
        "  sample MSI (s) (D0:A0) [23:59:59:010]: tick\n"
        "rule t.service\n"
        "  severity error\n  family msi\n"
        "  match ^Service(?: '(?<name>[^']+)')? did not start\n"
        "  title Service {name} failed to start\n"
        "  sample Service 'Foo' did not start\n"
        "rule t.fact\n"
        "  severity noise\n  family msi\n  event fact\n  priority 30\n"
        "  match ^Property\\(S\\): (?:ComputerName = (?<host>\\S+)|MsiNTProductType = "
        "(?<nt_product_type>\\d))\n"
        "  sample Property(S): ComputerName = PUB01\n"
        "rule t.secret-fact\n"
        "  severity noise\n  family msi\n  event fact\n  priority 30\n"
        "  match ^Property\\(S\\): SQLSAPWD = (?<sa_password>\\S+)\n"
        "  sample Property(S): SQLSAPWD = Sesame01\n"
        "rule g.exit\n"
        "  severity info\n  family generic\n  event exit-code\n"
        "  match EXITING \\((?<code>-?\\d+)\\)\n"
        "  sample ## Installation EXITING (0) ##\n"
        "rule g.stamp\n"
        "  severity error\n  family generic\n"
        "  match ERROR\n"
        "  sample Mon Mar 14 21:40:03 2005 : ERROR backup\n"
        "rule g.failed\n"
        "  severity catastrophic\n  family generic\n  event outcome-failed\n"
        "  match ^Setup failed\n"
        "  sample Setup failed to configure the server.\n"
        "rule g.ok\n"
        "  severity info\n  family generic\n  event outcome-ok\n"
        "  match Installation Succeeded\n"
        "  sample 18:04:48 Installation Succeeded\n";

/* InstallShield: sessions appended in one file, the last one's exit status decides. */
/* The product status lines (1707/1724 success, 1708 failure). */
static const char rules_product[] =
        "rule t.product-ok\n"
        "  severity noise\n  family msi\n  event product-ok\n  priority 30\n"
        "  match Product: (?<product>.+) -- (?:Installation|Removal) completed successfully\\.\n"
        "  sample MSI (s) (E0:38): Product: Demo -- Removal completed successfully.\n"
        "rule t.product-failed\n"
        "  severity error\n  family msi\n  event product-failed\n  priority 30\n"
        "  match Product: (?<product>.+) -- (?:Installation|Removal) (?:operation )?failed\\.\n"
        "  sample MSI (s) (E0:38): Product: Demo -- Installation operation failed.\n";

static const char rules_sessions[] =
        "rule i.start\n"
        "  severity info\n  family installshield\n  event log-start\n"
        "  match ^\\d+-\\d+-\\d{4}\\[[^\\]]*\\]: \\*\\*\\* engine started\n"
        "  sample 1-13-2026[05:12:52 PM]: *** engine started\n"
        "rule i.final\n"
        "  severity info\n  family installshield\n  event final-status\n"
        "  match final exit status: (?<code>0x[0-9A-F]+)\n"
        "  sample 1-13-2026[05:13:47 PM]: final exit status: 0x00000006\n"
        "rule i.error\n"
        "  severity error\n  family installshield\n"
        "  match Stage parcel status: (?<code>[1-9A-F][0-9A-F]*)\n"
        "  sample 1-13-2026[05:13:17 PM]: Stage parcel status: 80070006\n"
        "rule i.cancel\n"
        "  severity warning\n  family installshield inno\n  event user-cancel\n"
        "  match want to cancel|User canceled\n"
        "  sample 5-1-2025[09:17:07 PM]: Are you sure you want to cancel?\n"
        "rule i.result\n"
        "  severity info\n  family installshield\n  event exit-code\n"
        "  match ^ResultCode=(?<code>-?\\d+)\n"
        "  sample ResultCode=-3\n"
        "rule n.ok\n"
        "  severity info\n  family inno\n  event outcome-ok\n"
        "  match Installation process succeeded\n"
        "  sample 2026-08-23 14:58:30.100   Installation process succeeded.\n";

struct findings {
	struct {
		uint64_t line;
		char rule[32], code[16], action[32], text[256], ts[32], title[64];
		char before[512], after[512];
		enum ul_severity sev;
	} v[64];
	size_t n;
};

struct fixture {
	struct ul_catalog *cat;
	struct ul_classifier *cl;
	struct ul_interp *in;
	struct findings f;
	struct ul_verdict verdict;
};

static void copy(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

static bool collect(void *ctx, const struct ul_finding *f)
{
	struct fixture *fx = ctx;
	assert_true(fx->f.n < 64);
	size_t i = fx->f.n++;
	fx->f.v[i].line = f->line;
	copy(fx->f.v[i].rule, 32, ul_catalog_rule(fx->cat, f->rule)->id);
	copy(fx->f.v[i].code, 16, f->code);
	copy(fx->f.v[i].action, 32, f->action);
	copy(fx->f.v[i].text, 256, f->text);
	copy(fx->f.v[i].ts, 32, f->ts);
	copy(fx->f.v[i].title, 64, f->title);
	copy(fx->f.v[i].before, 512, f->before);
	copy(fx->f.v[i].after, 512, f->after);
	fx->f.v[i].sev = f->severity;
	return true;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ul_error err;
	fx->cat = ul_catalog_new();
	assert_true(ul_catalog_add_text(fx->cat, "families.rules", TU_FAMILIES, strlen(TU_FAMILIES),
	                                &err));
	assert_true(ul_catalog_add_text(fx->cat, "test.rules", rules, sizeof(rules) - 1, &err));
	assert_true(ul_catalog_add_text(fx->cat, "product.rules", rules_product,
	                                sizeof(rules_product) - 1, &err));
	assert_true(ul_catalog_add_text(fx->cat, "sessions.rules", rules_sessions,
	                                sizeof(rules_sessions) - 1, &err));
	assert_true(ul_catalog_compile(fx->cat, &err));
	fx->cl = ul_classifier_create(fx->cat, true, &err);
	assert_non_null(fx->cl);
	fx->in = ul_interp_create(fx->cat, false);
	assert_non_null(fx->in);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	ul_interp_destroy(fx->in);
	ul_classifier_destroy(fx->cl);
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

/* Run `text` through decode, classify and interpret, `per_chunk` lines per chunk (0: one). */
static void run_family(struct fixture *fx, ul_family fam, const char *text, size_t per_chunk)
{
	struct ul_chunk all, part;
	struct ul_hits hits;
	struct ul_error err;
	ul_chunk_init(&all);
	ul_chunk_init(&part);
	ul_hits_init(&hits);
	fx->f.n = 0;
	struct ul_interp_sink sink = { .ctx = fx, .finding = collect };
	ul_interp_begin(fx->in, fam, &sink);
	assert_true(ul_decode_block(UL_ENC_UTF8, text, strlen(text), 4096, 0, &all));
	if (per_chunk == 0)
		per_chunk = all.nlines ? all.nlines : 1;
	for (size_t first = 0; first < all.nlines; first += per_chunk) {
		size_t last = first + per_chunk < all.nlines ? first + per_chunk : all.nlines;
		const char *start = all.text + all.lines[first].start;
		const char *end =
		        all.text + all.lines[last - 1].start + all.lines[last - 1].len + 1;
		assert_true(
		        ul_decode_block(UL_ENC_UTF8, start, (size_t)(end - start), 4096, 0, &part));
		assert_true(ul_classify_chunk(fx->cl, fam, &part, false, &hits, &err));
		assert_true(ul_interp_chunk(fx->in, &part, first + 1, 0, &hits));
	}
	assert_true(ul_interp_end(fx->in, &fx->verdict));
	ul_hits_finish(&hits);
	ul_chunk_finish(&part);
	ul_chunk_finish(&all);
}

static void run(struct fixture *fx, const char *text)
{
	run_family(fx, TU_FAM_MSI, text, 0);
}

static const char *finding_at(struct fixture *fx, uint64_t line)
{
	for (size_t i = 0; i < fx->f.n; i++)
		if (fx->f.v[i].line == line)
			return fx->f.v[i].rule;
	return NULL;
}

static const char failed_log[] =
        "=== Verbose logging started: 14.03.2005  22:41:07  Build type: SHIP UNICODE 2.00\n" /* 1 */
        "Action start 22:41:08: INSTALL.\n"                                                  /* 2 */
        "Error 1935. An error occurred during the installation of assembly.\n"               /* 3 */
        "Action start 22:50:01: InstallFinalize.\n"                                          /* 4 */
        "MSI (s) (A0:EC): Note: 1: 2205 2:  3: Error\n"                                      /* 5 */
        "Info 1603. The file C:\\x.dll is being held in use.\n"                              /* 6 */
        "Error 1722. There is a problem with this Windows Installer package.\n"              /* 7 */
        "CustomAction DBInstall returned actual error code 1603\n"                           /* 8 */
        "Action ended 22:50:09: InstallFinalize. Return value 3.\n"                          /* 9 */
        "Action 22:50:09: Rollback. Rolling back action:\n"      /* 10 */
        "Error 1402. Could not open key during rollback.\n"      /* 11 */
        "Action ended 22:50:10: INSTALL. Return value 3.\n"      /* 12 */
        "MSI (c) (9C:A4): Note: 1: 1708\n"                       /* 13 */
        "MSI (c) (9C:A4): MainEngineThread is returning 1603\n"; /* 14 */

static void failed_install_root_cause_is_first_error_inside_action(void **state)
{
	struct fixture *fx = *state;
	run(fx, failed_log);
	struct ul_verdict *v = &fx->verdict;
	assert_int_equal(v->outcome, UL_OUT_FAILED);
	assert_true(v->has_exit);
	assert_int_equal(v->exit_code, 1603);
	assert_int_equal(v->root_line, 7);
	assert_string_equal(v->action, "InstallFinalize");
	assert_true(v->ncandidates >= 2 && v->ncandidates <= 3);
	assert_int_equal(v->candidates[0].line, 7);
	assert_non_null(strstr(v->candidates[0].reason, "InstallFinalize"));
	/* The custom action's exit code is the next best pointer. */
	assert_int_equal(v->candidates[1].line, 8);
	/* The root cause carries the time of the nearest line with one (the action end, below). */
	assert_string_equal(v->failed_at, "2005-03-14T22:50:09");
}

static void noise_is_counted_not_emitted(void **state)
{
	struct fixture *fx = *state;
	run(fx, failed_log);
	assert_null(finding_at(fx, 5)); /* Note 2205 */
	assert_string_equal(finding_at(fx, 7), "t.error");
	size_t n;
	const struct ul_tally *t = ul_interp_tallies(fx->in, &n);
	bool seen = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ul_catalog_rule(fx->cat, t[i].rule)->id, "t.noise") == 0) {
			assert_int_equal(t[i].count, 1);
			assert_int_equal(t[i].first_line, 5);
			assert_int_equal(t[i].last_line, 5);
			seen = true;
		}
		if (i)
			assert_true(t[i - 1].rule < t[i].rule);
	}
	assert_true(seen);
}

static void context_lines_around_errors_span_chunks(void **state)
{
	struct fixture *fx = *state;
	/* Two lines per chunk: line 7's context comes from three chunks. */
	run_family(fx, TU_FAM_MSI, failed_log, 2);
	for (size_t i = 0; i < fx->f.n; i++) {
		if (fx->f.v[i].line != 7)
			continue;
		assert_string_equal(fx->f.v[i].before,
		                    "Action start 22:50:01: InstallFinalize.\n"
		                    "MSI (s) (A0:EC): Note: 1: 2205 2:  3: Error\n"
		                    "Info 1603. The file C:\\x.dll is being held in use.");
		assert_string_equal(fx->f.v[i].after,
		                    "CustomAction DBInstall returned actual error code 1603\n"
		                    "Action ended 22:50:09: InstallFinalize. Return value 3.\n"
		                    "Action 22:50:09: Rollback. Rolling back action:");
		assert_string_equal(fx->f.v[i].title, "Error 1722");
		assert_string_equal(fx->f.v[i].code, "1722");
		assert_string_equal(fx->f.v[i].action, "InstallFinalize");
		return;
	}
	fail_msg("no finding on line 7");
}

static void chunking_does_not_change_the_verdict(void **state)
{
	struct fixture *fx = *state;
	for (size_t per = 1; per <= 5; per++) {
		run_family(fx, TU_FAM_MSI, failed_log, per);
		assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
		assert_int_equal(fx->verdict.root_line, 7);
		assert_int_equal(fx->f.n, 10);
	}
}

static void error_before_the_failing_action_is_a_fallback(void **state)
{
	struct fixture *fx = *state;
	run(fx, "=== Verbose logging started: 7/18/2000  9:00:00  Build type: SHIP\n"
	        "Action start 9:00:01: INSTALL.\n"
	        "Error 1920. Service failed to start.\n"
	        "Action start 9:00:05: StartServices.\n"
	        "Action ended 9:00:06: StartServices. Return value 3.\n"
	        "MSI (c) (1:2): MainEngineThread is returning 1603\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.root_line, 3);
	assert_non_null(strstr(fx->verdict.candidates[0].reason, "before"));
}

static void success_despite_errors(void **state)
{
	struct fixture *fx = *state;
	run(fx, "Action start 9:00:01: INSTALL.\n"
	        "Error 1402. Could not open key.\n"
	        "Action ended 9:00:02: INSTALL. Return value 1.\n"
	        "MSI (c) (1:2): MainEngineThread is returning 0\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
	assert_int_equal(fx->verdict.root_line, 0);
	assert_int_equal(fx->verdict.ncandidates, 0);
}

static void reboot_required_is_success(void **state)
{
	struct fixture *fx = *state;
	run(fx, "Action start 9:00:01: INSTALL.\n"
	        "Info 1903.Scheduling reboot operation\n"
	        "MSI (c) (1:2): MainEngineThread is returning 3010\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
	assert_true(fx->verdict.reboot);
	assert_int_equal(fx->verdict.exit_code, 3010);
}

static void client_ui_failure_after_success_is_success(void **state)
{
	struct fixture *fx = *state;
	/* A UI action returning 3 after the server finished is not the install failing. */
	run(fx, "Action start 9:00:01: INSTALL.\n"
	        "Action ended 9:00:02: LaunchApplication. Return value 3.\n"
	        "Action ended 9:00:02: INSTALL. Return value 1.\n"
	        "MSI (c) (1:2): MainEngineThread is returning 0\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
}

static void user_cancel(void **state)
{
	struct fixture *fx = *state;
	run(fx, "Action start 4:59:20: INSTALL.\n"
	        "Action ended 4:59:24: WelcomeDlg. Return value 2.\n"
	        "Action ended 4:59:29: INSTALL. Return value 2.\n"
	        "MSI (c) (94:A4): MainEngineThread is returning 1602\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.exit_code, 1602);
	assert_int_equal(fx->verdict.root_line, 2);
}

static void summary_lines_are_never_the_root_cause(void **state)
{
	struct fixture *fx = *state;
	run(fx, "Action start 9:00:01: INSTALL.\n"
	        "MSI (c) (1:2): Note: 1: 1708\n"
	        "Action ended 9:00:02: INSTALL. Return value 3.\n"
	        "MSI (c) (1:2): MainEngineThread is returning 1603\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	/* Nothing but summaries: the failing action's own line is the best pointer. */
	assert_int_equal(fx->verdict.root_line, 3);
}

static void log_cut_mid_install_is_incomplete(void **state)
{
	struct fixture *fx = *state;
	run(fx, "=== Verbose logging started: 7/18/2000  9:00:00  Build type: SHIP\n"
	        "Action start 9:00:01: INSTALL.\n"
	        "Action start 9:00:02: InstallFiles.\n"
	        "Info 1603. The file is in use.\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_INCOMPLETE);
	assert_int_equal(fx->verdict.root_line, 0);
}

static const char major_upgrade_head[] =
        "=== Verbose logging started: 8/2/2005  19:27:37  Build type: SHIP\n"
        "Action start 19:27:57: INSTALL.\n"
        "Action start 19:27:57: RemoveExistingProducts.\n"
        "Action start 19:27:58: INSTALL.\n"
        "Action ended 19:36:31: INSTALL. Return value 1.\n"
        "MSI (s) (FC:30): Product: Cisco CallManager -- Removal completed successfully.\n"
        "Action ended 19:36:33: RemoveExistingProducts. Return value 1.\n"
        "Action start 19:36:33: InstallFiles.\n";

static void nested_removal_status_does_not_end_the_install(void **state)
{
	struct fixture *fx = *state;
	/* A major upgrade cut in InstallFiles: the old version's removal, nested in
	 * RemoveExistingProducts, completed; the install itself never said how it ended. */
	run(fx, major_upgrade_head);
	assert_int_equal(fx->verdict.outcome, UL_OUT_INCOMPLETE);
	/* The same log carried to its end: the session's own status line decides. */
	char full[2048];
	snprintf(full, sizeof(full), "%s%s", major_upgrade_head,
	         "Action ended 19:47:43: InstallFiles. Return value 1.\n"
	         "Action ended 19:52:10: INSTALL. Return value 1.\n"
	         "MSI (s) (48:4C): Product: Cisco CallManager -- Installation completed "
	         "successfully.\n");
	run(fx, full);
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
	/* A client log: the server's status line comes while the client's INSTALL and
	 * ExecuteAction are still open, and counts. */
	run(fx, "Action start 9:00:01: INSTALL.\n"
	        "Action start 9:00:02: ExecuteAction.\n"
	        "Action start 9:00:03: INSTALL.\n"
	        "Action ended 9:10:00: INSTALL. Return value 1.\n"
	        "MSI (s) (48:4C): Product: Demo -- Installation completed successfully.\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
}

static void fatal_line_without_final_status_is_failed(void **state)
{
	struct fixture *fx = *state;
	run(fx, "=== Verbose logging started: 9/10/2018  18:48:41  Build type: SHIP\n"
	        "Error 1618. Another installation is already in progress.\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.root_line, 2);
}

static void not_an_installer_log_is_unknown(void **state)
{
	struct fixture *fx = *state;
	run(fx, "hello\nworld\n");
	assert_int_equal(fx->verdict.outcome, UL_OUT_UNKNOWN);
	run_family(fx, TU_FAM_GENERIC, "just text\n", 0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_UNKNOWN);
}

static void generic_outcomes(void **state)
{
	struct fixture *fx = *state;
	run_family(fx, TU_FAM_GENERIC, "start\n## Installation EXITING (0) ##\n", 0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
	run_family(fx, TU_FAM_GENERIC, "start\n## Installation EXITING (-3) ##\n", 0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.exit_code, -3);
	run_family(fx, TU_FAM_GENERIC,
	           "18:00:01 begin\nSetup failed to configure the server.\n18:04:48 x\n", 0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.root_line, 2);
	run_family(fx, TU_FAM_GENERIC, "18:04:48 Installation Succeeded\n", 0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
}

static const char suite_two_runs[] =
        "11-13-2023[02:54:03 p. m.]: *** engine started\n"             /* 1 */
        "11-13-2023[02:54:42 p. m.]: Stage parcel status: 80070006\n"  /* 2 */
        "11-13-2023[02:54:47 p. m.]: final exit status: 0x00000006\n"  /* 3 */
        "11-13-2023[11:58:01 p. m.]: *** engine started\n"             /* 4 */
        "11-14-2023[00:02:03 a. m.]: final exit status: 0x00000000\n"; /* 5 */

/* A Suite log appends every run: the last one decides, an earlier failure stays a finding. */
static void installshield_last_session_decides(void **state)
{
	struct fixture *fx = *state;
	run_family(fx, TU_FAM_INSTALLSHIELD, suite_two_runs, 2);
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
	assert_int_equal(fx->verdict.exit_code, 0);
	assert_non_null(strstr(fx->verdict.reason, "last of 2 sessions"));
	assert_string_equal(finding_at(fx, 2), "i.error");
	/* M-D-YYYY[hh:mm:ss p. m.]: the date of each line, a localised 12-hour clock. */
	assert_string_equal(fx->f.v[0].ts, "2023-11-13T14:54:03");
	assert_string_equal(fx->verdict.started, "2023-11-13T14:54:03");
	assert_string_equal(fx->f.v[fx->f.n - 1].ts, "2023-11-14T00:02:03");

	/* The other way round: the failure of the last run, its own first error. */
	run_family(fx, TU_FAM_INSTALLSHIELD,
	           "1-13-2026[05:12:52 PM]: *** engine started\n"
	           "1-13-2026[05:12:53 PM]: Stage parcel status: 80070005\n"
	           "1-13-2026[05:12:54 PM]: final exit status: 0x00000005\n"
	           "1-13-2026[06:11:58 PM]: *** engine started\n"
	           "1-13-2026[06:12:19 PM]: Stage parcel status: 80070006\n"
	           "1-13-2026[06:12:22 PM]: final exit status: 0x00000006\n",
	           0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.exit_code, 6);
	assert_int_equal(fx->verdict.root_line, 5);
	assert_string_equal(fx->verdict.failed_at, "2026-01-13T18:12:19");
}

static void installshield_cancel_and_cut_session(void **state)
{
	struct fixture *fx = *state;
	run_family(fx, TU_FAM_INSTALLSHIELD,
	           "5-1-2025[09:12:40 PM]: *** engine started\n"
	           "5-1-2025[09:17:07 PM]: Are you sure you want to cancel?\n"
	           "5-1-2025[09:17:28 PM]: final exit status: 0x00000642\n",
	           0);
	assert_int_equal(fx->verdict.outcome, UL_OUTCOME_CANCELLED);
	assert_string_equal(ul_outcome_name(fx->verdict.outcome), "cancelled");
	assert_int_equal(fx->verdict.exit_code, 1602);
	assert_int_equal(fx->verdict.root_line, 2);
	/* A run that succeeded, then one cut before its exit status: the file is incomplete. */
	run_family(fx, TU_FAM_INSTALLSHIELD,
	           "5-1-2025[09:12:40 PM]: *** engine started\n"
	           "5-1-2025[09:17:28 PM]: final exit status: 0x00000000\n"
	           "5-1-2025[09:20:00 PM]: *** engine started\n",
	           0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_INCOMPLETE);
}

/* The silent-mode result file: ResultCode is the exit code; no ResultCode, no verdict. */
static void installshield_silent_result(void **state)
{
	struct fixture *fx = *state;
	run_family(fx, TU_FAM_INSTALLSHIELD,
	           "[InstallShield Silent]\nVersion=v7.00\nFile=Log File\n[ResponseResult]\n"
	           "ResultCode=-3\n",
	           0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_FAILED);
	assert_int_equal(fx->verdict.exit_code, -3);
	run_family(fx, TU_FAM_INSTALLSHIELD,
	           "[InstallShield Silent]\nVersion=v5.00.000\nFile=Response File\n", 0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_UNKNOWN);
}

/* Other families: a user cancel is its own outcome unless the log also says it succeeded. */
static void cancel_in_other_families(void **state)
{
	struct fixture *fx = *state;
	run_family(fx, TU_FAM_INNO,
	           "2026-08-23 14:58:32.352   User canceled the installation process.\n"
	           "2026-08-23 14:58:32.353   Uninstallation process succeeded.\n",
	           0);
	assert_int_equal(fx->verdict.outcome, UL_OUTCOME_CANCELLED);
	assert_int_equal(fx->verdict.root_line, 1);
	run_family(fx, TU_FAM_INNO, "2026-08-23 14:58:30.100   Installation process succeeded.\n",
	           0);
	assert_int_equal(fx->verdict.outcome, UL_OUT_SUCCEEDED);
}

static void midnight_rolls_the_date(void **state)
{
	struct fixture *fx = *state;
	run(fx, "=== Verbose logging started: 31.12.2024  23:59:58  Build type: SHIP UNICODE\n"
	        "MSI (s) (D0:A0) [23:59:59:010]: tick\n"
	        "MSI (s) (D0:A0) [00:00:01:250]: tick\n"
	        "Login failed for user 'sa'\n");
	assert_int_equal(fx->f.n, 3);
	assert_string_equal(fx->f.v[0].ts, "2024-12-31T23:59:59.010");
	assert_string_equal(fx->f.v[1].ts, "2025-01-01T00:00:01.250");
	/* No time on the line: the last one seen. */
	assert_string_equal(fx->f.v[2].ts, "2025-01-01T00:00:01.250");
	assert_string_equal(fx->verdict.started, "2024-12-31T23:59:59.010");
	/* A 12-hour clock. */
	run_family(fx, TU_FAM_GENERIC, "Setup failed at 3/14/2005 10:36:52 PM\n", 0);
	assert_int_equal(fx->f.n, 1);
	assert_string_equal(fx->f.v[0].ts, "2005-03-14T22:36:52");
	run_family(fx, TU_FAM_GENERIC, "Setup failed at 3/14/2005 12:05:00 AM\n", 0);
	assert_int_equal(fx->f.n, 1);
	assert_string_equal(fx->f.v[0].ts, "2005-03-14T00:05:00");
}

static void dates_in_the_machines_format(void **state)
{
	(void)state;
	int y, m, d;
	struct {
		const char *s;
		int y, m, d;
	} ok[] = {
		{ "7/18/2000", 2000, 7, 18 },  { "31.01.2022", 2022, 1, 31 },
		{ "2019/7/8", 2019, 7, 8 },    { "20/12/2024", 2024, 12, 20 },
		{ "12.04.2021", 2021, 4, 12 }, { "08-03-2021", 2021, 8, 3 },
		{ "3/4/05", 2005, 3, 4 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(ul_interp_parse_date(ok[i].s, strlen(ok[i].s), &y, &m, &d));
		assert_int_equal(y, ok[i].y);
		assert_int_equal(m, ok[i].m);
		assert_int_equal(d, ok[i].d);
	}
	const char *bad[] = { "", "13/13/2020", "2020", "1/2", "a/b/c", "31.02.x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ul_interp_parse_date(bad[i], strlen(bad[i]), &y, &m, &d));
}

static void secrets_are_masked(void **state)
{
	struct fixture *fx = *state;
	run(fx, "Login failed for user 'sa' with PWD=hunter2;\n");
	assert_int_equal(fx->f.n, 1);
	assert_null(strstr(fx->f.v[0].text, "hunter2"));
	assert_non_null(strstr(fx->f.v[0].text, "PWD=****;"));
}

/* 17 errors (more than the interpreter keeps), then the fatal line, then one more error. */
static void a_fatal_line_past_the_kept_errors_is_named_by_its_rule(void **state)
{
	struct fixture *fx = *state;
	char log[4096] = "=== Verbose logging started: 14.03.2005  22:41:07  Build type: SHIP\n";
	for (int i = 0; i < 17; i++)
		strcat(log, "Login failed for user 'x'\n");
	strcat(log, "Error 1722. There is a problem with this Windows Installer package.\n");
	strcat(log, "Login failed for user 'y'\n");
	run(fx, log);
	struct ul_verdict *v = &fx->verdict;
	assert_int_equal(v->outcome, UL_OUT_FAILED);
	assert_string_equal(v->reason, "a fatal error (t.error) and no final status");
	bool named = false;
	for (size_t i = 0; i < v->ncandidates; i++)
		if (v->candidates[i].line == 19)
			named = strstr(v->candidates[i].reason, "(t.error)") != NULL;
	assert_true(named);
}

static void an_unfilled_capture_leaves_no_mark_in_the_title(void **state)
{
	struct fixture *fx = *state;
	run(fx, "Service did not start\nService 'Cisco Tftp' did not start\n");
	assert_int_equal(fx->f.n, 2);
	assert_string_equal(fx->f.v[0].title, "Service failed to start");
	assert_string_equal(fx->f.v[1].title, "Service Cisco Tftp failed to start");
}

static void facts_host_and_the_last_time(void **state)
{
	struct fixture *fx = *state;
	run(fx, "=== Verbose logging started: 3/19/2005  23:50:00  Build type: SHIP\n"
	        "Action start 23:50:01: INSTALL.\n"
	        "Property(S): MsiNTProductType = 2\n"
	        "Property(S): ComputerName = SUB02\n"
	        "Property(S): ComputerName = OTHER\n"
	        "Action ended 0:10:02: INSTALL. Return value 1.\n"
	        "MSI (c) (9C:A4): MainEngineThread is returning 0\n");
	struct ul_verdict *v = &fx->verdict;
	assert_string_equal(v->host, "SUB02");
	assert_int_equal(v->nfacts, 2);
	assert_string_equal(v->facts[0].key, "nt_product_type");
	assert_string_equal(v->facts[0].value, "2");
	assert_int_equal(v->facts[0].line, 3);
	assert_string_equal(v->facts[1].key, "host");
	assert_string_equal(v->facts[1].value, "SUB02");
	assert_string_equal(v->facts[1].ts, "2005-03-19T23:50:01");
	assert_string_equal(v->started, "2005-03-19T23:50:01");
	assert_string_equal(v->finished, "2005-03-20T00:10:02");
}

/* A fact is log text: a capture that holds only a password is masked as part of its line. */
static void a_secret_fact_is_masked(void **state)
{
	struct fixture *fx = *state;
	run(fx, "=== Verbose logging started: 3/19/2005  23:50:00  Build type: SHIP\n"
	        "Property(S): SQLSAPWD = Sesame01\n"
	        "MSI (c) (9C:A4): MainEngineThread is returning 0\n");
	struct ul_verdict *v = &fx->verdict;
	assert_int_equal(v->nfacts, 1);
	assert_string_equal(v->facts[0].key, "sa_password");
	assert_string_equal(v->facts[0].value, "****");
}

static void ctime_stamps_and_a_date_from_an_unmatched_line(void **state)
{
	struct fixture *fx = *state;
	run_family(fx, TU_FAM_GENERIC, "Mon Mar 14 21:40:03 2005 : ERROR backup\n", 0);
	assert_string_equal(fx->f.v[0].ts, "2005-03-14T21:40:03");
	run_family(fx, TU_FAM_GENERIC, "03/19/2005 20:05:00 started\n[20:05:02.200] ERROR x\n", 0);
	assert_string_equal(fx->f.v[0].ts, "2005-03-19T20:05:02.200");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failed_install_root_cause_is_first_error_inside_action),
		cmocka_unit_test(noise_is_counted_not_emitted),
		cmocka_unit_test(context_lines_around_errors_span_chunks),
		cmocka_unit_test(chunking_does_not_change_the_verdict),
		cmocka_unit_test(error_before_the_failing_action_is_a_fallback),
		cmocka_unit_test(success_despite_errors),
		cmocka_unit_test(reboot_required_is_success),
		cmocka_unit_test(client_ui_failure_after_success_is_success),
		cmocka_unit_test(user_cancel),
		cmocka_unit_test(summary_lines_are_never_the_root_cause),
		cmocka_unit_test(log_cut_mid_install_is_incomplete),
		cmocka_unit_test(nested_removal_status_does_not_end_the_install),
		cmocka_unit_test(fatal_line_without_final_status_is_failed),
		cmocka_unit_test(not_an_installer_log_is_unknown),
		cmocka_unit_test(generic_outcomes),
		cmocka_unit_test(installshield_last_session_decides),
		cmocka_unit_test(installshield_cancel_and_cut_session),
		cmocka_unit_test(installshield_silent_result),
		cmocka_unit_test(cancel_in_other_families),
		cmocka_unit_test(midnight_rolls_the_date),
		cmocka_unit_test(dates_in_the_machines_format),
		cmocka_unit_test(secrets_are_masked),
		cmocka_unit_test(a_fatal_line_past_the_kept_errors_is_named_by_its_rule),
		cmocka_unit_test(an_unfilled_capture_leaves_no_mark_in_the_title),
		cmocka_unit_test(facts_host_and_the_last_time),
		cmocka_unit_test(a_secret_fact_is_masked),
		cmocka_unit_test(ctime_stamps_and_a_date_from_an_unmatched_line),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
