/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure at the Nth call: upglog's own allocations (malloc, calloc, realloc,
 * strdup, strndup, linked through --wrap) and SQLite's (its allocator, set with
 * SQLITE_CONFIG_MALLOC) fail one at a time, N = 1, 2, 3, ..., while the whole
 * pipeline scans a small bundle into a database. Every run must end cleanly: either the scan
 * succeeds (the failure was handled on the way) or it fails with a message. Never a crash, a
 * NULL dereference (the sanitizer build checks), a leak, or a secret in what was stored.
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

#include <sqlite3.h>

#include "upglog/catalog.h"
#include "upglog/mask.h"
#include "upglog/scan.h"
#include "upglog/store.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static struct ul_scan_stats clean; /* what a run without failures stores */
static long fail_at = -1; /* the call that fails, counting from 1; 0: none; -1: not counting */
static long calls;

static bool fail_now(void)
{
	if (fail_at < 0)
		return false;
	return ++calls == fail_at; /* fail_at 0: count, never fail */
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

/*
 * SQLite's own allocations fail the same way: its allocator is set to these (a size header
 * in front of each block), counted with upglog's.
 */
#define HDR 16

static void *sq_malloc(int n)
{
	if (fail_now())
		return NULL;
	char *p = __real_malloc((size_t)n + HDR);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + HDR;
}

static void sq_free(void *p)
{
	if (p)
		free((char *)p - HDR);
}

static int sq_size(void *p)
{
	int n = 0;
	if (p)
		memcpy(&n, (char *)p - HDR, sizeof(n));
	return n;
}

static void *sq_realloc(void *p, int n)
{
	if (fail_now())
		return NULL;
	char *q = __real_realloc(p ? (char *)p - HDR : NULL, (size_t)n + HDR);
	if (!q)
		return NULL;
	memcpy(q, &n, sizeof(n));
	return q + HDR;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *app)
{
	(void)app;
	return SQLITE_OK;
}

static void sq_shutdown(void *app)
{
	(void)app;
}

static const char failed_log[] =
        "=== Verbose logging started: 14/03/2005  22:41:07  Build type: SHIP UNICODE 2.00 ===\r\n"
        "MSI (s) (D8:2C) [22:41:07:100]: PROPERTY CHANGE: Adding SAPWD property. Its value is "
        "'Secret77'.\r\n"
        "Action start 22:41:08: INSTALL.\r\n"
        "Action start 22:50:01: InstallFinalize.\r\n"
        "MSI (s) (D8:2C): Note: 1: 2205 2:  3: Error \r\n"
        "Error 1722. There is a problem with this Windows Installer package. A program run as "
        "part of the setup did not finish as expected.  Action DBInstall, location: "
        "C:\\MSSQL\\Binn\\osql.exe, command: -U sa -P Secret78 -i x.sql\r\n"
        "Action ended 22:52:52: InstallFinalize. Return value 3.\r\n"
        "Action ended 22:52:53: INSTALL. Return value 3.\r\n"
        "MSI (c) (9C:A4): MainEngineThread is returning 1603\r\n";

struct fixture {
	struct ul_catalog *cat;
	char dir[512];
};

static int setup(void **state)
{
	const char *patterns = getenv("UPGLOG_PATTERNS");
	if (!patterns)
		return -1;
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ul_error err;
	fx->cat = ul_catalog_new();
	if (!ul_catalog_add_dir(fx->cat, patterns, &err) || !ul_catalog_compile(fx->cat, &err))
		return -1;
	const char *t = getenv("TMPDIR");
	snprintf(fx->dir, sizeof(fx->dir), "%s/upglog-oom-XXXXXX", t && *t ? t : P_tmpdir);
	if (!mkdtemp(fx->dir))
		return -1;
	char path[600];
	snprintf(path, sizeof(path), "%s/setup.log", fx->dir);
	FILE *f = fopen(path, "wb");
	fwrite(failed_log, 1, sizeof(failed_log) - 1, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/b\x01!x.txt", fx->dir);
	f = fopen(path, "wb");
	fputs("plain text\r\nPWD=Secret79;\r\n", f);
	fclose(f);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	ul_catalog_destroy(fx->cat);
	free(fx);
	return 0;
}

static char *clean_dump;

/* Appends every value to the dump in ctx; fails on a stored secret. */
static bool no_secret(void *ctx, int ncols, const char *const *names, const char *const *values)
{
	char **dump = ctx;
	(void)names;
	for (int i = 0; i < ncols; i++) {
		const char *v = values[i] ? values[i] : "NULL";
		if (strstr(v, "Secret7"))
			fail_msg("a secret was stored: %s", v);
		size_t have = *dump ? strlen(*dump) : 0;
		char *d = __real_realloc(*dump, have + strlen(v) + 2);
		assert_non_null(d);
		strcpy(d + have, v);
		strcat(d, "|");
		*dump = d;
	}
	return true;
}

/* One whole run; false when it stopped with an error (whose message must be set). */
static bool one_run(struct fixture *fx, long n)
{
	struct ul_error err;
	ul_error_clear(&err);
	calls = 0;
	fail_at = n;
	bool ok = false, reported = false;
	struct ul_store *st = ul_store_open(":memory:", UL_STORE_CREATE, &err);
	if (st) {
		const char *paths[] = { fx->dir };
		struct ul_scan_opts o = { .paths = paths, .npaths = 1, .jobs = 1 };
		int64_t scan_id;
		struct ul_scan_stats stats;
		ok = ul_scan_run(st, fx->cat, &o, &scan_id, &stats, &err);
		fail_at = -1;
		reported = stats.problems > 0;
		/* Going on is fine only when nothing was lost without a word. */
		if (n == 0)
			clean = stats;
		else if (ok && stats.problems == 0 &&
		         (stats.files != clean.files || stats.findings != clean.findings ||
		          stats.failed != clean.failed || stats.lines != clean.lines))
			fail_msg("allocation %ld failed: %llu files, %llu findings, %llu failed "
			         "stored "
			         "(%llu, %llu, %llu without failures), no problem reported",
			         n, (unsigned long long)stats.files,
			         (unsigned long long)stats.findings,
			         (unsigned long long)stats.failed, (unsigned long long)clean.files,
			         (unsigned long long)clean.findings,
			         (unsigned long long)clean.failed);
	}
	fail_at = -1;
	if (!ok && !ul_error_is_set(&err))
		fail_msg("allocation %ld failed and the run stopped without a message", n);
	if (st) {
		static const char sql[] =
		        "SELECT line, rule_id, code, action, text, title, captures, context_before,"
		        " context_after FROM findings ORDER BY file_id, line;"
		        " SELECT outcome, root_line, action, exit_code, reason FROM verdicts;"
		        " SELECT rank, line, reason FROM candidates ORDER BY verdict_id, rank;"
		        " SELECT path, status, lines FROM files ORDER BY path";
		struct ul_error qerr;
		char *dump = NULL;
		if (!ul_store_query(st, sql, no_secret, &dump, &qerr))
			fail_msg("%s", qerr.msg);
		if (n == 0)
			clean_dump = dump;
		else if (ok && !reported && clean_dump && strcmp(dump, clean_dump) != 0)
			fail_msg("allocation %ld failed and the run went on, storing other "
			         "results:\n%s\ninstead of\n%s",
			         n, dump, clean_dump);
		if (n != 0)
			free(dump);
		ul_store_close(st);
	}
	return ok;
}

static void every_allocation_may_fail(void **state)
{
	struct fixture *fx = *state;
	/* The number of allocations of a run that fails nothing. */
	assert_true(one_run(fx, 0));
	long total = calls;
	assert_true(total > 50);
	/* UPGLOG_OOM_STRIDE=K fails every K-th allocation only (a sanitizer build is about five
	 * times slower; CI samples there and sweeps every allocation in the plain build). */
	long stride = 1;
	const char *env = getenv("UPGLOG_OOM_STRIDE");
	if (env && *env)
		stride = strtol(env, NULL, 10);
	if (stride < 1)
		stride = 1;
	long failed = 0, runs = 0;
	for (long n = 1; n <= total; n += stride, runs++)
		failed += !one_run(fx, n);
	print_message("%ld allocations, %ld failed in turn (every %ld.); %ld runs stopped with a "
	              "message, %ld went on\n",
	              total, runs, stride, failed, runs - failed);
	free(clean_dump);
	clean_dump = NULL;
}

/* The masking functions alone: NULL or a fully masked result, never a secret. */
static void masking_without_memory(void **state)
{
	(void)state;
	const char *line = "osql -U sa -P Secret80 PWD=Secret81;";
	for (long n = 1; n < 20; n++) {
		calls = 0;
		fail_at = n;
		char *a = ul_mask_text(line, strlen(line));
		char *b = ul_mask_slice(line, strlen(line), 14, 8);
		char c[64];
		strcpy(c, line);
		ul_mask_inplace(c);
		fail_at = -1;
		assert_true(!a || !strstr(a, "Secret8"));
		assert_true(!b || !strstr(b, "Secret8"));
		assert_null(strstr(c, "Secret8"));
		free(a);
		free(b);
	}
}

int main(void)
{
	static const sqlite3_mem_methods mem = { sq_malloc,  sq_free, sq_realloc,  sq_size,
		                                 sq_roundup, sq_init, sq_shutdown, NULL };
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_allocation_may_fail, setup, teardown),
		cmocka_unit_test(masking_without_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
