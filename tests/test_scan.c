/* SPDX-License-Identifier: MIT */
/*
 * scan: the whole pipeline in-process, on logs written here. The same inputs must give the same
 * database whatever the number of workers and with or without the prefilter; bad files are
 * recorded and the rest goes on; unchanged files are kept on a second scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "upglog/catalog.h"
#include "upglog/scan.h"
#include "upglog/store.h"

#include "testutil.h"

struct fixture {
	struct ul_catalog *cat;
	char dir[512];
};

static bool make_dir(char *buf, size_t cap)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, cap, "%s/upglog-scan-XXXXXX", t && *t ? t : P_tmpdir);
	return mkdtemp(buf) != NULL;
}

static void rm_tree(const char *dir)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ul_error err;
	const char *patterns = getenv("UPGLOG_PATTERNS");
	if (!patterns) {
		free(fx);
		return -1;
	}
	fx->cat = ul_catalog_new();
	assert_true(ul_catalog_add_dir(fx->cat, patterns, &err));
	assert_true(ul_catalog_compile(fx->cat, &err));
	assert_true(make_dir(fx->dir, sizeof(fx->dir)));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	rm_tree(fx->dir);
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

/* A failed MSI log in the Windows Installer 3+ shape, `repeat` noise lines long. */
static char *msi_log(size_t repeat, size_t *len)
{
	size_t cap = 4096 + repeat * 200;
	char *s = malloc(cap), *o = s;
	o += sprintf(o,
	             "=== Verbose logging started: 31.01.2022  21:24:31  Build type: SHIP UNICODE "
	             "5.00.10011.00  Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===\r\n"
	             "Action start 21:24:32: INSTALL.\r\n"
	             "Action start 21:24:33: InstallFinalize.\r\n");
	for (size_t i = 0; i < repeat; i++)
		o += sprintf(o,
		             "MSI (s) (D0:A0) [21:24:3%zu:%03zu]: Note: 1: 2205 2:  3: Error \r\n",
		             4 + i % 5, i % 1000);
	o += sprintf(o, "Error 1722. There is a problem with this Windows Installer package. A "
	                "program run as part of the setup did not finish as expected. Contact your "
	                "support personnel or package vendor.  Action DBInstall, location: "
	                "C:\\Program Files\\Cisco\\Bin\\DBInstall.exe, command: -upgrade\r\n"
	                "Action ended 21:24:37: InstallFinalize. Return value 3.\r\n"
	                "Action ended 21:24:37: INSTALL. Return value 3.\r\n"
	                "MSI (c) (A4:0C) [21:24:37:489]: MainEngineThread is returning 1603\r\n");
	*len = (size_t)(o - s);
	return s;
}

static void write_msi(struct fixture *fx, const char *name, size_t repeat)
{
	size_t len;
	char *log = msi_log(repeat, &len);
	put_file(fx->dir, name, log, len);
	free(log);
}

static struct ul_store *scan(struct fixture *fx, const char *db, unsigned jobs, bool prefilter,
                             struct ul_scan_stats *stats)
{
	struct ul_error err;
	struct ul_store *st = ul_store_open(db, UL_STORE_CREATE, &err);
	assert_non_null(st);
	const char *paths[] = { fx->dir };
	struct ul_scan_opts o = {
		.paths = paths, .npaths = 1, .jobs = jobs, .no_prefilter = !prefilter
	};
	int64_t scan_id;
	if (!ul_scan_run(st, fx->cat, &o, &scan_id, stats, &err))
		fail_msg("scan: %s", err.msg);
	return st;
}

/* Everything a scan stored that does not depend on when it ran, as one string. */
static char *dump(struct ul_store *st)
{
	static const char sql[] =
	        "SELECT path, location, family, encoding, bytes, lines, cut_lines, replaced, hash,"
	        " status, error FROM files ORDER BY path;"
	        "SELECT fi.path, f.line, f.offset, f.ts, f.rule_id, f.severity, f.code, f.action,"
	        " f.text, f.title, f.captures, f.context_before, f.context_after"
	        " FROM findings f JOIN files fi ON fi.id = f.file_id ORDER BY fi.path, f.line;"
	        "SELECT fi.path, h.rule_id, h.count, h.first_line, h.last_line FROM rule_hits h"
	        " JOIN files fi ON fi.id = h.file_id ORDER BY fi.path, h.rule_id;"
	        "SELECT fi.path, v.outcome, v.root_line, v.action, v.exit_code, v.reason,"
	        " v.failed_at, c.rank, c.line, c.reason FROM verdicts v JOIN files fi"
	        " ON fi.id = v.file_id LEFT JOIN candidates c ON c.verdict_id = v.id"
	        " ORDER BY fi.path, c.rank";
	struct tu_dump d = { 0 };
	struct ul_error err;
	if (!ul_store_query(st, sql, tu_dump_row, &d, &err))
		fail_msg("%s", err.msg);
	return d.s ? d.s : strdup("");
}

static void failed_log_gives_a_failed_verdict(void **state)
{
	struct fixture *fx = *state;
	write_msi(fx, "install.log", 10);
	struct ul_scan_stats s;
	struct ul_store *st = scan(fx, ":memory:", 1, true, &s);
	assert_int_equal(s.files, 1);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.problems, 0);
	assert_int_equal(s.lines, 17);
	char *d = dump(st);
	assert_non_null(strstr(d, "|failed|14|InstallFinalize|1603|"));
	assert_non_null(strstr(d, "|msi|utf-8|"));
	free(d);
	ul_store_close(st);
}

/*
 * A family is data: a rules folder that did not exist when upglog was built declares one (how
 * its files are recognised, how its verdict is decided) and its rules; the scan reads its logs
 * with it. Nothing is rebuilt.
 */
static const char acme_rules[] = "# A vendor's own setup log.\n"
                                 "family acme\n"
                                 "  title      ACME setup log\n"
                                 "  verdict    sessions\n"
                                 "  decides    exit-code\n"
                                 "  first-line ^ACME Setup \\d+\\.\\d+ log\n"
                                 "  name       acme-*.log\n"
                                 "\n"
                                 "rule acme.start\n"
                                 "  severity info\n  family acme\n  event log-start\n"
                                 "  match ^ACME Setup \\d+\\.\\d+ log\n"
                                 "  sample ACME Setup 2.1 log\n"
                                 "rule acme.exit\n"
                                 "  severity info\n  family acme\n  event exit-code\n"
                                 "  match ^Exit code (?<code>-?\\d+)$\n"
                                 "  sample Exit code 0\n"
                                 "rule acme.said-ok\n"
                                 "  severity info\n  family acme\n  event outcome-ok\n"
                                 "  match ^All done\n"
                                 "  sample All done\n"
                                 "rule acme.error\n"
                                 "  severity error\n  family acme\n"
                                 "  match ^ERR (?<code>\\d+) \n"
                                 "  sample ERR 5 Access denied\n";

static void a_family_declared_in_a_rules_folder(void **state)
{
	struct fixture *fx = *state;
	char rules[1100], logs[1100];
	snprintf(rules, sizeof(rules), "%s/rules", fx->dir);
	snprintf(logs, sizeof(logs), "%s/logs", fx->dir);
	assert_int_equal(mkdir(rules, 0700), 0);
	assert_int_equal(mkdir(logs, 0700), 0);
	put_file(rules, "acme.rules", acme_rules, sizeof(acme_rules) - 1);
	/* Two runs appended; the last fails, and only its own error is the root cause. */
	static const char appended[] =
	        "ACME Setup 2.1 log\r\nERR 2 File not found\r\nExit code 2\r\n"
	        "ACME Setup 2.1 log\r\nERR 5 Access denied\r\nExit code 5\r\n";
	put_file(logs, "install.txt", appended, sizeof(appended) - 1);
	/* Recognised by name; `All done` does not decide in this family, the exit code does. */
	static const char by_name[] = "Exit code 0\r\nAll done\r\n";
	put_file(logs, "acme-old.log", by_name, sizeof(by_name) - 1);
	/* The same lines under another name belong to no family of theirs. */
	put_file(logs, "other.log", by_name, sizeof(by_name) - 1);

	struct ul_error err;
	const char *patterns = getenv("UPGLOG_PATTERNS");
	struct ul_catalog *cat = ul_catalog_new();
	if (!ul_catalog_add_dir(cat, patterns, &err) || !ul_catalog_add_dir(cat, rules, &err) ||
	    !ul_catalog_compile(cat, &err))
		fail_msg("%s", err.msg);
	ul_family acme;
	assert_true(ul_catalog_family_find(cat, "acme", &acme));
	assert_int_equal(ul_catalog_family_def(cat, acme)->model, UL_MODEL_SESSIONS);

	struct ul_store *st = ul_store_open(":memory:", UL_STORE_CREATE, &err);
	assert_non_null(st);
	const char *paths[] = { logs };
	struct ul_scan_opts o = { .paths = paths, .npaths = 1, .jobs = 1 };
	int64_t scan_id;
	struct ul_scan_stats stats;
	if (!ul_scan_run(st, cat, &o, &scan_id, &stats, &err))
		fail_msg("scan: %s", err.msg);
	char *d = dump(st);
	assert_non_null(strstr(d, "/install.txt|other|acme|utf-8|"));
	assert_non_null(strstr(d, "/acme-old.log|other|acme|utf-8|"));
	assert_non_null(strstr(d, "/other.log|other|generic|utf-8|"));
	assert_non_null(
	        strstr(d, "/install.txt|failed|5|NULL|5|the last of 2 sessions: setup returned 5"));
	assert_non_null(strstr(d, "/acme-old.log|succeeded|"));
	free(d);
	ul_store_close(st);
	ul_catalog_destroy(cat);
}

static void same_results_with_any_number_of_workers(void **state)
{
	struct fixture *fx = *state;
	/* Several files, one big enough to span many blocks. */
	write_msi(fx, "a.log", 10);
	write_msi(fx, "big.log", 40000);
	write_msi(fx, "c.txt", 3);
	struct ul_scan_stats s;
	struct ul_store *one = scan(fx, ":memory:", 1, true, &s);
	char *ref = dump(one);
	ul_store_close(one);
	assert_int_equal(s.files, 3);
	unsigned jobs[] = { 2, 4, 7 };
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		struct ul_store *st = scan(fx, ":memory:", jobs[i], true, &s);
		char *d = dump(st);
		assert_string_equal(d, ref);
		free(d);
		ul_store_close(st);
	}
	free(ref);
}

/*
 * Many small files: most tasks need no worker (file begin and end), so the queue turns over
 * faster than the workers claim. Workers once took a slot that had been reused for a newer
 * block; repeated runs must agree line for line.
 */
static void many_small_files_agree_every_time(void **state)
{
	struct fixture *fx = *state;
	for (int i = 0; i < 60; i++) {
		char name[32];
		snprintf(name, sizeof(name), "server%02d.log", i);
		write_msi(fx, name, (size_t)(i % 7) * 900);
	}
	struct ul_scan_stats s;
	struct ul_store *one = scan(fx, ":memory:", 1, true, &s);
	char *ref = dump(one);
	ul_store_close(one);
	for (int round = 0; round < 4; round++) {
		struct ul_store *st = scan(fx, ":memory:", round % 2 ? 4 : 2, round < 2, &s);
		char *d = dump(st);
		assert_string_equal(d, ref);
		free(d);
		ul_store_close(st);
	}
	free(ref);
}

static void prefilter_changes_nothing(void **state)
{
	struct fixture *fx = *state;
	write_msi(fx, "a.log", 200);
	const char *fixtures = getenv("UPGLOG_FIXTURES");
	struct ul_scan_stats s;
	struct ul_store *with = scan(fx, ":memory:", 2, true, &s);
	struct ul_store *without = scan(fx, ":memory:", 2, false, &s);
	char *a = dump(with), *b = dump(without);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ul_store_close(with);
	ul_store_close(without);
	(void)fixtures;
}

static void gz_bytes(const char *src, size_t len, unsigned char **out, size_t *outlen)
{
	uLongf cap = compressBound((uLong)len) + 64;
	*out = malloc(cap);
	z_stream z = { 0 };
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
}

struct problems {
	int n;
	char last[512];
};

static void on_problem(void *ctx, const char *kind, const char *msg)
{
	struct problems *p = ctx;
	p->n++;
	snprintf(p->last, sizeof(p->last), "%s: %s", kind, msg);
}

static void bad_files_are_recorded_and_the_rest_goes_on(void **state)
{
	struct fixture *fx = *state;
	write_msi(fx, "a.log", 5);
	/* A truncated gzip: the lines before the cut are kept. */
	size_t len, glen;
	char *log = msi_log(2000, &len);
	unsigned char *gz;
	gz_bytes(log, len, &gz, &glen);
	put_file(fx->dir, "cut.log.gz", gz, glen / 2);
	free(gz);
	free(log);
	/* Binary junk with a log's name. */
	unsigned char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 % 251);
	put_file(fx->dir, "junk.log", junk, sizeof(junk));
	/* A line of 3 MB, then more lines. */
	size_t big = 3u << 20;
	char *huge = malloc(big + 64);
	memset(huge, 'x', big);
	strcpy(huge + big, "\nError 1722. after the long line\n");
	put_file(fx->dir, "long.log", huge, strlen(huge));
	free(huge);

	struct ul_error err;
	struct ul_store *st = ul_store_open(":memory:", UL_STORE_CREATE, &err);
	struct problems p = { 0 };
	const char *paths[] = { fx->dir, "/nonexistent/upglog-test" };
	struct ul_scan_opts o = {
		.paths = paths, .npaths = 2, .jobs = 2, .ctx = &p, .on_problem = on_problem
	};
	struct ul_scan_stats s;
	int64_t id;
	assert_true(ul_scan_run(st, fx->cat, &o, &id, &s, &err));
	assert_int_equal(s.problems, 3);
	assert_int_equal(p.n, 3);
	char *d = dump(st);
	assert_non_null(strstr(d, "cut.log.gz|other|msi|utf-8|"));
	assert_non_null(strstr(d, "|truncated|"));
	assert_non_null(strstr(d, "junk.log|other|NULL|NULL|"));
	assert_non_null(strstr(d, "|binary|"));
	assert_non_null(strstr(d, "/nonexistent/upglog-test|other|NULL|NULL|"));
	assert_non_null(strstr(d, "|unreadable|"));
	/* The long line was cut and counted, the line after it kept. */
	assert_non_null(strstr(d, "long.log|other|generic|utf-8|"));
	assert_non_null(strstr(d, "|2|1|0|"));
	free(d);
	ul_store_close(st);
}

static void unchanged_files_are_kept(void **state)
{
	struct fixture *fx = *state;
	char db[600];
	snprintf(db, sizeof(db), "%s/t.db", fx->dir);
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/logs", fx->dir);
	mkdir(sub, 0755);
	write_msi(fx, "logs/a.log", 5);
	write_msi(fx, "logs/b.log", 5);
	struct ul_scan_stats s;
	struct ul_error err;
	const char *paths[] = { sub };
	struct ul_scan_opts o = { .paths = paths, .npaths = 1, .jobs = 1 };
	int64_t id;
	struct ul_store *st = ul_store_open(db, UL_STORE_CREATE, &err);
	assert_true(ul_scan_run(st, fx->cat, &o, &id, &s, &err));
	assert_int_equal(s.files, 2);
	char *first = dump(st);
	assert_true(ul_scan_run(st, fx->cat, &o, &id, &s, &err));
	assert_int_equal(s.files, 0);
	assert_int_equal(s.kept, 2);
	char *second = dump(st);
	assert_string_equal(first, second);
	/* Change one file: it alone is read again and replaces its rows. */
	sleep(1);
	write_msi(fx, "logs/b.log", 6);
	assert_true(ul_scan_run(st, fx->cat, &o, &id, &s, &err));
	assert_int_equal(s.files, 1);
	assert_int_equal(s.kept, 1);
	char *third = dump(st);
	assert_string_not_equal(first, third);
	/* Remove one: a complete re-read of the folder forgets it. */
	char gone[600];
	snprintf(gone, sizeof(gone), "%s/logs/a.log", fx->dir);
	unlink(gone);
	assert_true(ul_scan_run(st, fx->cat, &o, &id, &s, &err));
	char *fourth = dump(st);
	assert_null(strstr(fourth, "logs/a.log"));
	assert_true(ul_store_check(st, &err));
	free(first);
	free(second);
	free(third);
	free(fourth);
	ul_store_close(st);
}

/* Disk full: the scan stops with an error that names the database; what was committed stays,
 * and the scan is recorded as not finished. SQLITE_FULL comes from PRAGMA max_page_count. */
static void disk_full_names_the_database(void **state)
{
	struct fixture *fx = *state;
	char sub[600], db[700];
	snprintf(sub, sizeof(sub), "%s/logs", fx->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(db, sizeof(db), "%s/full.db", fx->dir);
	size_t len;
	char *log = msi_log(20, &len);
	put_file(sub, "a.log", log, len);
	free(log);
	log = msi_log(30000, &len);
	put_file(sub, "b.log", log, len);
	free(log);
	struct ul_error err;
	struct ul_store *st = ul_store_open(db, UL_STORE_CREATE, &err);
	assert_non_null(st);
	struct tu_dump d = { 0 };
	assert_true(ul_store_query(st, "PRAGMA page_count", tu_dump_row, &d, &err));
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA max_page_count = %d", atoi(d.s) + 40);
	free(d.s);
	d = (struct tu_dump){ 0 };
	assert_true(ul_store_query(st, pragma, tu_dump_row, &d, &err));
	free(d.s);
	const char *paths[] = { sub };
	struct ul_scan_opts o = { .paths = paths, .npaths = 1, .jobs = 2, .keep_noise = true };
	int64_t scan_id;
	struct ul_scan_stats stats;
	ul_error_clear(&err);
	assert_false(ul_scan_run(st, fx->cat, &o, &scan_id, &stats, &err));
	if (!strstr(err.msg, db) || !strstr(err.msg, "full"))
		fail_msg("the error does not name the database and the reason: %s", err.msg);
	ul_store_close(st);

	st = ul_store_open(db, UL_STORE_READONLY, &err);
	assert_non_null(st);
	assert_true(ul_store_check(st, &err));
	struct ul_scan_state ss;
	assert_true(ul_store_scan_state(st, scan_id, &ss, NULL, NULL, &err));
	assert_true(ss.found);
	assert_false(ss.finished);
	assert_false(ss.running);
	d = (struct tu_dump){ 0 };
	assert_true(ul_store_query(st, "SELECT path FROM files WHERE status = 'ok'", tu_dump_row,
	                           &d, &err));
	/* a.log (first in path order) was committed before the disk filled up. */
	assert_non_null(d.s);
	assert_non_null(strstr(d.s, "/logs/a.log"));
	free(d.s);
	ul_store_close(st);
}

/* An unchanged .log.gz is known by the compressed file's size and time: not read again. */
static void unchanged_gz_is_not_read_again(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *log = msi_log(50, &len);
	uLongf zlen = compressBound(len) + 64;
	unsigned char *z = malloc(zlen);
	z_stream zs = { 0 };
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)log;
	zs.avail_in = (uInt)len;
	zs.next_out = z;
	zs.avail_out = (uInt)zlen;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	put_file(fx->dir, "setup.log.gz", z, zs.total_out);
	deflateEnd(&zs);
	free(z);
	free(log);
	char db[700];
	snprintf(db, sizeof(db), "%s/gz.db", fx->dir);
	struct ul_scan_stats s;
	ul_store_close(scan(fx, db, 1, true, &s));
	assert_int_equal(s.files, 1);
	assert_true(s.bytes > 0);
	ul_store_close(scan(fx, db, 1, true, &s));
	assert_int_equal(s.kept, 1);
	assert_int_equal(s.files, 0);
	assert_int_equal(s.bytes, 0);
}

/* Every secret form of a real setup log: none reaches any table, whatever the column. */
static void secrets_never_reach_the_database(void **state)
{
	struct fixture *fx = *state;
	static const char log[] =
	        "=== Verbose logging started: 31.01.2022  21:24:31  Build type: SHIP UNICODE "
	        "5.00.10011.00  Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===\r\n"
	        "MSI (s) (D0:A0) [21:24:31:100]: Command Line: SAPWD=Hunter2a DBPASSWORD=\"Two "
	        "Words\" REBOOT=ReallySuppress\r\n"
	        "MSI (s) (D0:A0) [21:24:31:200]: PROPERTY CHANGE: Adding SQLSAPWD property. Its "
	        "value "
	        "is 'Hunter2b'.\r\n"
	        "Action start 21:24:32: INSTALL.\r\n"
	        "Action start 21:24:33: DBInstall.\r\n"
	        "MSI (s) (D0:A0) [21:24:33:300]: Executing op: "
	        "CustomActionSchedule(Action=DBInstall,"
	        "ActionType=3122,Source=C:\\MSSQL\\Binn\\osql.exe,Target=-S PUB01 -U sa -P "
	        "Hunter2c "
	        "-i C:\\ccm.sql,)\r\n"
	        "Error 1722. There is a problem with this Windows Installer package. A program run "
	        "as "
	        "part of the setup did not finish as expected. Action DBInstall, location: "
	        "C:\\MSSQL\\Binn\\osql.exe, command: -S PUB01 -U sa -PHunter2d -i C:\\ccm.sql\r\n"
	        "[Microsoft][ODBC SQL Server Driver][SQL Server]Login failed for user 'sa'. "
	        "driver={sql server};server=PUB01;UID=sa;PWD=Hunter2e;database=master\r\n"
	        "Action ended 21:24:37: DBInstall. Return value 3.\r\n"
	        "Action ended 21:24:37: INSTALL. Return value 3.\r\n"
	        "Property(S): CCMPWD = Hunter2f and more\r\n"
	        "Property(S): AdminPassword = Hunter2g\r\n"
	        "MSI (c) (A4:0C) [21:24:37:489]: MainEngineThread is returning 1603\r\n";
	put_file(fx->dir, "secret.log", log, sizeof(log) - 1);
	struct ul_error err;
	struct ul_store *st = ul_store_open(":memory:", UL_STORE_CREATE, &err);
	assert_non_null(st);
	const char *paths[] = { fx->dir };
	struct ul_scan_opts o = { .paths = paths, .npaths = 1, .jobs = 1, .keep_noise = true };
	int64_t scan_id;
	struct ul_scan_stats stats;
	assert_true(ul_scan_run(st, fx->cat, &o, &scan_id, &stats, &err));
	assert_int_equal(stats.failed, 1);
	struct tu_dump d = { 0 };
	static const char *const tables[] = { "scans",     "sources",  "files",     "findings",
		                              "rule_hits", "verdicts", "candidates" };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "SELECT * FROM %s", tables[i]);
		assert_true(ul_store_query(st, sql, tu_dump_row, &d, &err));
	}
	assert_non_null(d.s);
	assert_non_null(
	        strstr(d.s, "PROPERTY CHANGE: Adding SQLSAPWD property. Its value is '****'"));
	assert_null(strstr(d.s, "Hunter2"));
	assert_null(strstr(d.s, "Words"));
	free(d.s);
	ul_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(failed_log_gives_a_failed_verdict, setup, teardown),
		cmocka_unit_test_setup_teardown(a_family_declared_in_a_rules_folder, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(same_results_with_any_number_of_workers, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(many_small_files_agree_every_time, setup, teardown),
		cmocka_unit_test_setup_teardown(prefilter_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_files_are_recorded_and_the_rest_goes_on, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(unchanged_files_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(disk_full_names_the_database, setup, teardown),
		cmocka_unit_test_setup_teardown(unchanged_gz_is_not_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(secrets_never_reach_the_database, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
