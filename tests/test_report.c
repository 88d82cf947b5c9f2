/* SPDX-License-Identifier: MIT */
/* report: the triage (text and JSON) and the query formats, on a database filled here. */
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
#include "upglog/report.h"
#include "upglog/store.h"

static const char rules[] = "rule r.fatal\n"
                            "  severity catastrophic\n  family any\n"
                            "  match ^Error (?<code>\\d+)\\.\n"
                            "  title Error {code}\n  fix Read the program's log.\n"
                            "  explain A program failed.\n"
                            "  sample Error 1722. x\n"
                            "rule r.noise\n"
                            "  severity noise\n  family any\n  code 2205\n"
                            "  match Note: 1: 2205\n"
                            "  sample Note: 1: 2205 2:\n";

struct fixture {
	struct ul_catalog *cat;
	struct ul_store *st;
	int64_t scan;
	char *buf;
	size_t len;
	FILE *out;
};

/* One file: a failed verdict rooted at `line` with time `ts`, and 1234 noise lines. */
static void add_file(struct fixture *fx, int64_t src, const char *path, uint64_t line,
                     const char *ts, const char *text)
{
	struct ul_error err;
	struct ul_file_row r = { .scan_id = fx->scan,
		                 .source_id = src,
		                 .path = path,
		                 .location = "cisco-logs",
		                 .family = "msi",
		                 .encoding = "utf-16le",
		                 .lines = 3000,
		                 .status = "ok" };
	int64_t id;
	assert_true(ul_store_file_begin(fx->st, &r, &id, &err));
	struct ul_finding f = { .line = line,
		                .ts = ts,
		                .severity = UL_SEV_CATASTROPHIC,
		                .code = "1722",
		                .action = "InstallFinalize",
		                .text = text,
		                .title = "Error 1722",
		                .before = "above 1\nabove 2",
		                .after = "below" };
	f.rule = (uint32_t)ul_catalog_find(fx->cat, "r.fatal");
	assert_true(ul_store_finding(fx->st, id, fx->cat, &f, &err));
	struct ul_tally t[2] = {
		{ .rule = (uint32_t)ul_catalog_find(fx->cat, "r.fatal"),
		  .count = 1,
		  .first_line = line,
		  .last_line = line },
		{ .rule = (uint32_t)ul_catalog_find(fx->cat, "r.noise"),
		  .count = 1234,
		  .first_line = 1,
		  .last_line = 2999 },
	};
	struct ul_verdict v = { .outcome = UL_OUT_FAILED,
		                .root_line = line,
		                .has_exit = true,
		                .exit_code = 1603,
		                .ncandidates = 1 };
	snprintf(v.reason, sizeof(v.reason), "the installer returned 1603");
	snprintf(v.failed_at, sizeof(v.failed_at), "%s", ts);
	v.candidates[0].line = line;
	snprintf(v.candidates[0].reason, sizeof(v.candidates[0].reason), "first error inside");
	assert_true(ul_store_file_end(fx->st, id, &r, fx->cat, t, 2, &v, &err));
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ul_error err;
	fx->cat = ul_catalog_new();
	assert_true(ul_catalog_add_text(fx->cat, "families.rules", TU_FAMILIES, strlen(TU_FAMILIES),
	                                &err));
	assert_true(ul_catalog_add_text(fx->cat, "r.rules", rules, sizeof(rules) - 1, &err));
	assert_true(ul_catalog_compile(fx->cat, &err));
	fx->st = ul_store_open(":memory:", UL_STORE_CREATE, &err);
	assert_true(ul_store_begin_scan(fx->st, "t", "[]", fx->cat, &fx->scan, &err));
	int64_t src;
	assert_true(ul_store_source(fx->st, fx->scan, "/b/pub01", "dir", 0, 0, false, &src, &err));
	add_file(fx, src, "/b/pub01/late.log", 900, "2005-03-14T23:10:00", "Error 1722. late");
	add_file(fx, src, "/b/pub01/early.log", 40, "2005-03-14T22:50:00", "Error 1722. early");
	struct ul_file_row bad = { .scan_id = fx->scan,
		                   .source_id = src,
		                   .path = "/b/pub01/cut.log.gz",
		                   .location = "other",
		                   .status = "truncated",
		                   .error = "/b/pub01/cut.log.gz: gzip stream ends early" };
	assert_true(ul_store_file_failed(fx->st, &bad, &err));
	fx->out = open_memstream(&fx->buf, &fx->len);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	fclose(fx->out);
	free(fx->buf);
	ul_store_close(fx->st);
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

static const char *text_of(struct fixture *fx)
{
	fflush(fx->out);
	return fx->buf;
}

static void text_triage_points_at_the_earliest_failure(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_triage_summary sum;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_TEXT, .strip = "/b" };
	assert_true(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
	const char *t = text_of(fx);
	assert_int_equal(sum.verdict, UL_OUT_FAILED);
	assert_int_equal(sum.failed_files, 2);
	assert_int_equal(sum.unreadable, 1);
	assert_true(strncmp(t, "FAILED", 6) == 0);
	/* Earliest in time, paths shown relative to the stripped prefix. */
	assert_non_null(strstr(t, "Root cause  pub01/early.log:40"));
	assert_non_null(strstr(t, "  >"));
	assert_non_null(strstr(t, "Error 1722. early"));
	assert_non_null(strstr(t, "above 2"));
	assert_non_null(strstr(t, "What to do  Read the program's log."));
	assert_non_null(strstr(t, "pub01/late.log:900"));
	assert_non_null(strstr(t, "2,468 harmless lines hidden: 2205 \xC3\x97"
	                          "2,468"));
	assert_non_null(strstr(t, "pub01/cut.log.gz"));
	assert_null(strstr(t, "\033["));
}

static void colour_only_when_asked(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_triage_summary sum;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_TEXT, .color = true };
	assert_true(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
	assert_non_null(strstr(text_of(fx), "\033[1;31mFAILED"));
}

static void json_triage_shape(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_triage_summary sum;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_JSON };
	assert_true(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
	const char *t = text_of(fx);
	assert_non_null(strstr(t, "\"verdict\": \"failed\""));
	assert_non_null(
	        strstr(t, "\"root_cause\": {\"file\": \"/b/pub01/early.log\", \"line\": 40"));
	assert_non_null(strstr(t, "\"code\": \"1722\""));
	assert_non_null(strstr(t, "\"context\": {\"before\": [\"above 1\", \"above 2\"], "
	                          "\"after\": [\"below\"]}"));
	assert_non_null(strstr(t, "\"candidates\": ["));
	assert_non_null(strstr(t, "\"reason\": \"first error inside\""));
	assert_non_null(strstr(t, "\"counts\": {\"noise\": 2468, \"info\": 0, \"warning\": 0, "
	                          "\"error\": 0, \"catastrophic\": 2}"));
	assert_non_null(strstr(t, "\"errors\": [\n    {\"file\": \"/b/pub01/cut.log.gz\", "
	                          "\"status\": \"truncated\""));
	assert_non_null(strstr(t, "\"exit_code\": 1603"));
}

static void query_csv_quotes_and_nulls(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_CSV };
	assert_true(ul_report_query(
	        fx->st, "SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z, 'l1\nl2' AS w", &o,
	        &err));
	assert_string_equal(text_of(fx), "x,y,z,w\r\n\"a,b\",\"say \"\"hi\"\"\",,\"l1\nl2\"\r\n");
}

static void query_json_and_table(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_JSON };
	assert_true(ul_report_query(fx->st, "SELECT 1 AS n, NULL AS z UNION ALL SELECT 2, 'q\"'",
	                            &o, &err));
	assert_string_equal(text_of(fx),
	                    "[\n  {\"n\": 1, \"z\": null},\n  {\"n\": 2, \"z\": \"q\\\"\"}\n]\n");
	rewind(fx->out);
	o.format = UL_FMT_TABLE;
	assert_true(ul_report_query(fx->st, "SELECT 'x' AS name, 12345 AS count", &o, &err));
	fputc('\0', fx->out);
	assert_string_equal(text_of(fx), "name  count\n----  -----\nx     12345\n");
	rewind(fx->out);
	o.format = UL_FMT_JSON;
	assert_true(ul_report_query(fx->st, "SELECT 1 WHERE 0", &o, &err));
	fputc('\0', fx->out);
	assert_string_equal(text_of(fx), "[]\n");
}

/* Numbers are numbers, NULL is null, a blob is hex and bad UTF-8 is replaced: valid JSON. */
static void query_values_keep_their_type(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_JSON };
	assert_true(ul_report_query(fx->st, "SELECT 1 AS i, 2.5 AS r, NULL AS n", &o, &err));
	fputc('\0', fx->out);
	assert_string_equal(text_of(fx), "[\n  {\"i\": 1, \"r\": 2.5, \"n\": null}\n]\n");
	rewind(fx->out);
	o.format = UL_FMT_JSONL;
	assert_true(ul_report_query(fx->st,
	                            "SELECT x'00ff41' AS b, CAST(x'41ff' AS TEXT) AS t, 3.0 AS f,"
	                            " 0.1 AS p, -7 AS m; SELECT 'two' AS s",
	                            &o, &err));
	fputc('\0', fx->out);
	assert_string_equal(text_of(fx),
	                    "{\"b\": \"x'00ff41'\", \"t\": \"A\xEF\xBF\xBD\", \"f\": 3.0, "
	                    "\"p\": 0.1, \"m\": -7}\n{\"s\": \"two\"}\n");
}

/* Every statement's rows come under that statement's own header. */
static void query_header_per_statement(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_TABLE };
	assert_true(ul_report_query(fx->st, "SELECT 1 AS a; SELECT 2 AS b", &o, &err));
	fputc('\0', fx->out);
	assert_string_equal(text_of(fx), "a\n-\n1\n\nb\n-\n2\n");
	rewind(fx->out);
	o.format = UL_FMT_CSV;
	assert_true(ul_report_query(fx->st, "SELECT 1 AS a; SELECT 2 AS b, 3 AS c", &o, &err));
	fputc('\0', fx->out);
	assert_string_equal(text_of(fx), "a\r\n1\r\n\r\nb,c\r\n2,3\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_triage_points_at_the_earliest_failure, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(colour_only_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(json_triage_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(query_csv_quotes_and_nulls, setup, teardown),
		cmocka_unit_test_setup_teardown(query_json_and_table, setup, teardown),
		cmocka_unit_test_setup_teardown(query_values_keep_their_type, setup, teardown),
		cmocka_unit_test_setup_teardown(query_header_per_statement, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
