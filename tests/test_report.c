/* SPDX-License-Identifier: MIT */
/* report: the triage (text, JSON, JSON lines, HTML, Markdown) and the query formats, on a
 * database filled here. */
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

#include "report_int.h"

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
	fx->cat = tu_catalog("r.rules", rules, sizeof(rules) - 1);
	fx->st = tu_memory_store(fx->cat, &fx->scan);
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

static void format_parsed_in_one_place(void **state)
{
	(void)state;
	enum ul_format f = UL_FMT_TEXT;
	char list[128];
	unsigned triage = 1u << UL_FMT_TEXT | 1u << UL_FMT_JSON | 1u << UL_FMT_HTML |
	                  1u << UL_FMT_MARKDOWN | 1u << UL_FMT_JSONL;
	assert_true(ul_format_parse("html", triage, &f, list, sizeof(list)));
	assert_int_equal(f, UL_FMT_HTML);
	assert_true(ul_format_parse("md", triage, &f, NULL, 0));
	assert_int_equal(f, UL_FMT_MARKDOWN);
	assert_true(ul_format_parse("jsonl", triage, &f, NULL, 0));
	assert_int_equal(f, UL_FMT_JSONL);
	/* csv is a format, but not one the triage prints */
	assert_false(ul_format_parse("csv", triage, &f, list, sizeof(list)));
	assert_string_equal(list, "text, json, jsonl, html or markdown");
	assert_false(ul_format_parse("jsonl", 1u << UL_FMT_JSON, &f, list, sizeof(list)));
	assert_string_equal(list, "json");
	assert_false(ul_format_parse(NULL, triage, &f, NULL, 0));
	for (int i = 0; i < UL_FMT_COUNT; i++) {
		assert_true(
		        ul_format_parse(ul_format_name((enum ul_format)i), 1u << i, &f, NULL, 0));
		assert_int_equal(f, i);
	}
}

static void paths_cut_in_the_middle(void **state)
{
	(void)state;
	char buf[256];
	const char *p = "/srv/cases/4711/C/Program Files/Common Files/Cisco/Logs/"
	                "ccminst_031405_224107.log";
	rep_fit_path(p, 40, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 40);
	assert_non_null(strstr(buf, "..."));
	assert_true(strncmp(buf, "/srv/", 5) == 0);
	assert_string_equal(buf + strlen(buf) - 25, "ccminst_031405_224107.log");
	/* fits: unchanged */
	rep_fit_path("C:/a/b.log", 40, buf, sizeof(buf));
	assert_string_equal(buf, "C:/a/b.log");
	/* a file name longer than the width: both ends kept */
	rep_fit_path("/x/a-very-long-file-name-that-does-not-fit-anywhere.log", 20, buf,
	             sizeof(buf));
	assert_int_equal(strlen(buf), 20);
	assert_non_null(strstr(buf, "..."));
	assert_string_equal(buf + 12, "here.log");
	/* UTF-8 counts in characters and is never cut inside one */
	rep_fit_path("/d/\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9/"
	             "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9/f.log",
	             12, buf, sizeof(buf));
	size_t cells = 0;
	for (const char *q = buf; *q; q++)
		cells += ((unsigned char)*q & 0xC0) != 0x80;
	assert_int_equal(cells, 12);
	assert_string_equal(buf + strlen(buf) - 8, "...f.log");
	assert_string_equal(rep_base("b.zip!C/x/y.log"), "y.log");
	assert_true(rep_is_path("/srv/a.log"));
	assert_true(rep_is_path("C:\\Windows\\setup.log"));
	assert_true(rep_is_path("c:/x"));
	assert_true(rep_is_path("\\\\fs02\\share\\x.log"));
	assert_false(rep_is_path("Error 1722. see C:\\x.log"));
	assert_false(rep_is_path("a/b"));
	assert_false(rep_is_path(NULL));
	assert_string_equal(rep_base("C:\\Windows\\setup.log"), "setup.log");
}

/* Every triage format is a renderer of the same gathered triage: each names the root cause
 * (the earliest failure), the later failure, and the unreadable file. */
static void every_format_renders_the_gathered_triage(void **state)
{
	struct fixture *fx = *state;
	static const enum ul_format formats[] = { UL_FMT_TEXT, UL_FMT_JSON, UL_FMT_JSONL,
		                                  UL_FMT_HTML, UL_FMT_MARKDOWN };
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct ul_error err;
		struct ul_triage_summary sum;
		struct ul_report_opts o = { .out = fx->out, .format = formats[i], .db = "f.db" };
		rewind(fx->out);
		assert_true(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
		fputc('\0', fx->out);
		const char *t = text_of(fx);
		assert_int_equal(sum.verdict, UL_OUT_FAILED);
		assert_non_null(strstr(t, "early.log"));
		assert_non_null(strstr(t, "Error 1722. early"));
		assert_non_null(strstr(t, "late.log"));
		if (formats[i] != UL_FMT_JSONL) /* lines only: files, verdicts, servers */
			assert_non_null(strstr(t, "cut.log.gz"));
	}
	/* a query format is not a triage format */
	struct ul_error err;
	struct ul_triage_summary sum;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_CSV };
	assert_false(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
	assert_non_null(strstr(err.msg, "csv"));
}

static const char *render(struct fixture *fx, enum ul_format f)
{
	struct ul_error err;
	struct ul_triage_summary sum;
	struct ul_report_opts o = { .out = fx->out, .format = f };
	rewind(fx->out);
	assert_true(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
	fputc('\0', fx->out);
	return text_of(fx);
}

static void hostile_text_is_escaped(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src;
	assert_true(ul_store_source(fx->st, fx->scan, "/b/pub02", "dir", 0, 0, false, &src, &err));
	add_file(fx, src, "/b/pub02/<x>.log", 7, "2005-03-14T22:00:00",
	         "Error 1722. <script>alert(1)</script> a|b & \"c\"");
	const char *t = render(fx, UL_FMT_HTML);
	assert_null(strstr(t, "<script"));
	assert_null(strstr(t, "<x>"));
	assert_non_null(strstr(t, "&lt;script&gt;alert(1)&lt;/script&gt; a|b &amp; &quot;c&quot;"));
	t = render(fx, UL_FMT_MARKDOWN);
	/* in the fenced context block the line stays as it is; outside, nothing is raw HTML */
	const char *fence = strstr(t, "````text\n");
	assert_non_null(fence);
	assert_non_null(strstr(fence, "<script>alert(1)</script> a|b"));
	const char *raw = strstr(t, "<script>");
	assert_true(raw > fence && raw < strstr(fence + 8, "````"));
	t = render(fx, UL_FMT_JSONL);
	assert_non_null(strstr(t, "\"text\": \"Error 1722. <script>alert(1)</script> a|b & "
	                          "\\\"c\\\"\""));
}

/* One failed file whose findings are out of time order: lines[i] at ts[i], the first the root. */
static void add_findings(struct fixture *fx, int64_t src, const char *path, size_t n,
                         const uint64_t *lines, const char *const *ts)
{
	struct ul_error err;
	struct ul_file_row r = { .scan_id = fx->scan,
		                 .source_id = src,
		                 .path = path,
		                 .location = "other",
		                 .family = "msi",
		                 .encoding = "utf-8",
		                 .lines = 100,
		                 .status = "ok" };
	int64_t id;
	assert_true(ul_store_file_begin(fx->st, &r, &id, &err));
	for (size_t i = 0; i < n; i++) {
		char text[64];
		snprintf(text, sizeof(text), "Error 1722. at line %u", (unsigned)lines[i]);
		struct ul_finding f = { .line = lines[i],
			                .ts = ts[i],
			                .severity = UL_SEV_CATASTROPHIC,
			                .code = "1722",
			                .text = text,
			                .title = "Error 1722" };
		f.rule = (uint32_t)ul_catalog_find(fx->cat, "r.fatal");
		assert_true(ul_store_finding(fx->st, id, fx->cat, &f, &err));
	}
	struct ul_tally t = { .rule = (uint32_t)ul_catalog_find(fx->cat, "r.fatal"),
		              .count = n,
		              .first_line = 1,
		              .last_line = 100 };
	struct ul_verdict v = { .outcome = UL_OUT_FAILED, .root_line = lines[0] };
	snprintf(v.reason, sizeof(v.reason), "the installer returned 1603");
	snprintf(v.failed_at, sizeof(v.failed_at), "%s", ts[0]);
	assert_true(ul_store_file_end(fx->st, id, &r, fx->cat, &t, 1, &v, &err));
}

/* The text report: failures by time, not by file and line; labelled with the rule; the hint
 * names the database. */
static void text_failures_by_time_and_hint(void **state)
{
	struct fixture *fx = *state;
	struct ul_error err;
	int64_t src;
	assert_true(ul_store_source(fx->st, fx->scan, "/b/pub01b", "dir", 0, 0, false, &src, &err));
	static const uint64_t lines[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 95 };
	static const char *const ts[] = { "2005-03-14T23:50:00", "2005-03-14T23:05:00",
		                          "2005-03-14T22:55:00", "2005-03-14T23:45:00",
		                          "2005-03-14T23:01:00", "2005-03-14T23:40:00",
		                          "2005-03-14T23:02:00", "2005-03-14T23:35:00",
		                          "2005-03-14T23:03:00", "2005-03-14T23:30:00" };
	add_findings(fx, src, "/b/pub01/z.log", 10, lines, ts);
	struct ul_triage_summary sum;
	struct ul_report_opts o = { .out = fx->out, .format = UL_FMT_TEXT, .db = "cases.db" };
	assert_true(ul_report_triage(fx->st, fx->scan, &o, &sum, &err));
	fputc('\0', fx->out);
	const char *t = text_of(fx);
	const char *other = strstr(t, "Other failures  (in time order)\n");
	assert_non_null(other);
	other = strchr(other, '\n') + 1;
	/* the rows: "  TS  FILE:LINE  [SEVERITY RULE] TEXT", times ascending */
	char prev[32] = "";
	size_t rows = 0;
	for (const char *l = other; strncmp(l, "  2005-", 7) == 0; l = strchr(l, '\n') + 1) {
		char cur[32];
		snprintf(cur, sizeof(cur), "%.19s", l + 2);
		assert_true(strcmp(prev, cur) <= 0);
		memcpy(prev, cur, sizeof(prev));
		rows++;
	}
	assert_int_equal(rows, 8); /* MAX_OTHER shown */
	assert_non_null(strstr(other, "z.log:30  [catastrophic r.fatal]"));
	assert_true(strstr(other, "z.log:30") < strstr(other, "z.log:20"));
	assert_non_null(strstr(other, "more; for all: upglog query --db cases.db \""));
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
		cmocka_unit_test(format_parsed_in_one_place),
		cmocka_unit_test(paths_cut_in_the_middle),
		cmocka_unit_test_setup_teardown(every_format_renders_the_gathered_triage, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(hostile_text_is_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(text_failures_by_time_and_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(query_values_keep_their_type, setup, teardown),
		cmocka_unit_test_setup_teardown(query_header_per_statement, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
