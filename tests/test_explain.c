/* SPDX-License-Identifier: MIT */
/* explain: the compiled code table and its lookup rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "upglog/explain.h"

#define MAX_HITS 16

static size_t lookup(const char *q, const struct ul_code_info **hits)
{
	return ul_explain_lookup(q, hits, MAX_HITS);
}

/* The entry of `space` among the hits, or NULL. */
static const struct ul_code_info *hit_in(const struct ul_code_info **hits, size_t n,
                                         enum ul_code_space space)
{
	for (size_t i = 0; i < n; i++)
		if (hits[i]->space == space)
			return hits[i];
	return NULL;
}

static const struct ul_code_info *must_find(const char *q, enum ul_code_space space)
{
	const struct ul_code_info *hits[MAX_HITS];
	const struct ul_code_info *e = hit_in(hits, lookup(q, hits), space);
	assert_non_null(e);
	return e;
}

static void table_is_sorted_and_unique(void **state)
{
	(void)state;
	size_t n = ul_explain_count();
	assert_true(n >= 250);
	for (size_t i = 1; i < n; i++) {
		const struct ul_code_info *a = ul_explain_entry(i - 1), *b = ul_explain_entry(i);
		bool ordered = a->space < b->space || (a->space == b->space && a->code < b->code);
		if (!ordered)
			fail_msg("entries %zu and %zu out of order: %s %lld, %s %lld", i - 1, i,
			         ul_explain_space_name(a->space), a->code,
			         ul_explain_space_name(b->space), b->code);
	}
	assert_null(ul_explain_entry(n));
}

static void every_entry_is_complete(void **state)
{
	(void)state;
	static const char *const severities[] = { "noise", "info", "warning", "error",
		                                  "catastrophic" };
	for (size_t i = 0; i < ul_explain_count(); i++) {
		const struct ul_code_info *e = ul_explain_entry(i);
		assert_true((unsigned)e->space < UL_SPACE_COUNT);
		assert_non_null(e->name);
		assert_non_null(e->fix);
		assert_non_null(e->meaning);
		if (!e->meaning[0])
			fail_msg("%s %lld has no meaning", ul_explain_space_name(e->space),
			         e->code);
		bool known = false;
		for (size_t k = 0; k < sizeof(severities) / sizeof(severities[0]); k++)
			known = known || (e->severity && strcmp(e->severity, severities[k]) == 0);
		if (!known)
			fail_msg("%s %lld has severity '%s'", ul_explain_space_name(e->space),
			         e->code, e->severity ? e->severity : "(null)");
	}
}

static void space_names(void **state)
{
	(void)state;
	assert_string_equal(ul_explain_space_name(UL_SPACE_MSI_EXIT), "msi-exit");
	assert_string_equal(ul_explain_space_name(UL_SPACE_MSI_MESSAGE), "msi-message");
	assert_string_equal(ul_explain_space_name(UL_SPACE_ACTION_RV), "action-return");
	assert_string_equal(ul_explain_space_name(UL_SPACE_WIN32), "win32");
	assert_string_equal(ul_explain_space_name(UL_SPACE_HRESULT), "hresult");
	assert_string_equal(ul_explain_space_name(UL_SPACE_SETUP), "setup");
	assert_string_equal(ul_explain_space_name(UL_SPACE_IS_LAUNCHER), "is-launcher");
}

/* InstallShield's launcher numbers its own messages in MSI's range: both readings are shown,
 * each labelled, the launcher's after Windows Installer's. */
static void launcher_message_1608_is_its_own(void **state)
{
	(void)state;
	const struct ul_code_info *hits[MAX_HITS];
	size_t n = lookup("1608", hits);
	const struct ul_code_info *exit = hit_in(hits, n, UL_SPACE_MSI_EXIT);
	const struct ul_code_info *launcher = hit_in(hits, n, UL_SPACE_IS_LAUNCHER);
	assert_non_null(exit);
	assert_non_null(launcher);
	assert_non_null(strstr(launcher->meaning, "InstallDriver"));
	assert_null(strstr(exit->meaning, "InstallDriver"));
	assert_ptr_equal(hits[n - 1], launcher);
	/* A number only the launcher uses is still found, as a launcher message. */
	n = lookup("2010", hits);
	assert_non_null(hit_in(hits, n, UL_SPACE_IS_LAUNCHER));
}

static void exit_code_and_message_1603_differ(void **state)
{
	(void)state;
	const struct ul_code_info *hits[MAX_HITS];
	size_t n = lookup("1603", hits);
	assert_true(n >= 2);
	/* Most specific first: the exit code, then the message, then the system error. */
	assert_int_equal(hits[0]->space, UL_SPACE_MSI_EXIT);
	assert_int_equal(hits[1]->space, UL_SPACE_MSI_MESSAGE);
	for (size_t i = 2; i < n; i++)
		assert_int_equal(hits[i]->space, UL_SPACE_WIN32);
	assert_int_equal(hits[0]->code, 1603);
	assert_int_equal(hits[1]->code, 1603);
	assert_string_equal(hits[0]->name, "ERROR_INSTALL_FAILURE");
	assert_string_equal(hits[0]->severity, "catastrophic");
	assert_string_not_equal(hits[0]->meaning, hits[1]->meaning);
}

static void overlapping_1601_to_1611_keep_their_own_meanings(void **state)
{
	(void)state;
	for (int code = 1601; code <= 1611; code++) {
		char q[16];
		const struct ul_code_info *hits[MAX_HITS];
		snprintf(q, sizeof(q), "%d", code);
		size_t n = lookup(q, hits);
		const struct ul_code_info *x = hit_in(hits, n, UL_SPACE_MSI_EXIT);
		const struct ul_code_info *m = hit_in(hits, n, UL_SPACE_MSI_MESSAGE);
		assert_non_null(x);
		if (m)
			assert_string_not_equal(x->meaning, m->meaning);
	}
}

static void hresult_0x80070643_is_exit_code_1603(void **state)
{
	(void)state;
	const struct ul_code_info *hits[MAX_HITS];
	size_t n = lookup("0x80070643", hits);
	const struct ul_code_info *x = hit_in(hits, n, UL_SPACE_MSI_EXIT);
	assert_non_null(x);
	assert_int_equal(x->code, 1603);
	assert_string_equal(x->name, "ERROR_INSTALL_FAILURE");
	/* Its own HRESULT entry, if any, comes before the decomposition. */
	if (hit_in(hits, n, UL_SPACE_HRESULT))
		assert_int_equal(hits[0]->space, UL_SPACE_HRESULT);
	/* Upper-case hex and the signed decimal spelling say the same. */
	assert_ptr_equal(must_find("0X80070643", UL_SPACE_MSI_EXIT), x);
	assert_ptr_equal(must_find("-2147023293", UL_SPACE_MSI_EXIT), x);
}

static void win32_facility_without_own_entry_decomposes(void **state)
{
	(void)state;
	const struct ul_code_info *hits[MAX_HITS];
	/* 0x80070426 = HRESULT_FROM_WIN32(1062): no HRESULT entry, but Win32 1062 exists. */
	size_t n = lookup("0x80070426", hits);
	assert_null(hit_in(hits, n, UL_SPACE_HRESULT));
	const struct ul_code_info *w = hit_in(hits, n, UL_SPACE_WIN32);
	assert_non_null(w);
	assert_int_equal(w->code, 1062);
	/* A wrapped code never reads as an Installer message number. */
	assert_null(hit_in(hits, n, UL_SPACE_MSI_MESSAGE));
}

static void negative_decimal_is_a_signed_hresult(void **state)
{
	(void)state;
	const struct ul_code_info *a = must_find("-2147287038", UL_SPACE_HRESULT);
	const struct ul_code_info *b = must_find("0x80030002", UL_SPACE_HRESULT);
	assert_ptr_equal(a, b);
	assert_int_equal(a->code, 0x80030002L);
	assert_string_equal(a->name, "STG_E_FILENOTFOUND");
	/* The unsigned decimal spelling works too. */
	assert_ptr_equal(must_find("2147680258", UL_SPACE_HRESULT), a);
}

static void severities_from_the_knowledge_sheet(void **state)
{
	(void)state;
	const struct ul_code_info *e = must_find("3010", UL_SPACE_MSI_EXIT);
	assert_string_equal(e->severity, "warning");
	assert_string_equal(e->name, "ERROR_SUCCESS_REBOOT_REQUIRED");
	assert_string_equal(must_find("1641", UL_SPACE_MSI_EXIT)->severity, "warning");
	assert_string_equal(must_find("2205", UL_SPACE_MSI_MESSAGE)->severity, "noise");
	assert_string_equal(must_find("2228", UL_SPACE_MSI_MESSAGE)->severity, "noise");
	assert_string_equal(must_find("1722", UL_SPACE_MSI_MESSAGE)->severity, "catastrophic");
	assert_string_equal(must_find("1603", UL_SPACE_MSI_MESSAGE)->severity, "warning");
	assert_string_equal(must_find("1707", UL_SPACE_MSI_MESSAGE)->severity, "info");
}

static void action_return_values_0_to_8(void **state)
{
	(void)state;
	for (int v = 0; v <= 8; v++) {
		char q[16];
		snprintf(q, sizeof(q), "%d", v);
		assert_int_equal(must_find(q, UL_SPACE_ACTION_RV)->code, v);
	}
	assert_string_equal(must_find("3", UL_SPACE_ACTION_RV)->name, "ERROR_INSTALL_FAILURE");
}

static void installshield_result_codes(void **state)
{
	(void)state;
	static const char *const codes[] = { "0",  "-1", "-2",  "-3",  "-4",  "-5",  "-6",  "-7",
		                             "-8", "-9", "-10", "-11", "-12", "-51", "-52", "-53" };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		must_find(codes[i], UL_SPACE_SETUP);
}

static void garbage_finds_nothing(void **state)
{
	(void)state;
	static const char *const junk[] = {
		"abc",
		"",
		"0x",
		"-",
		"-0x5",
		"0x-5",
		"99999999999999999999",
		"4294967296",
		"0x100000000",
		"-2147483649",
		"12a",
		" 1603",
		"1603 ",
		"1603.",
		"+1603",
		"0xg",
	};
	const struct ul_code_info *hits[MAX_HITS];
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		if (lookup(junk[i], hits) != 0)
			fail_msg("'%s' was found", junk[i]);
	assert_int_equal(lookup(NULL, hits), 0);
	assert_int_equal(lookup("77777", hits), 0);
}

static void never_writes_past_max(void **state)
{
	(void)state;
	const struct ul_code_info *hits[2] = { NULL, NULL };
	assert_int_equal(ul_explain_lookup("1603", hits, 1), 1);
	assert_int_equal(hits[0]->space, UL_SPACE_MSI_EXIT);
	assert_null(hits[1]);
	assert_int_equal(ul_explain_lookup("1603", NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_sorted_and_unique),
		cmocka_unit_test(every_entry_is_complete),
		cmocka_unit_test(space_names),
		cmocka_unit_test(launcher_message_1608_is_its_own),
		cmocka_unit_test(exit_code_and_message_1603_differ),
		cmocka_unit_test(overlapping_1601_to_1611_keep_their_own_meanings),
		cmocka_unit_test(hresult_0x80070643_is_exit_code_1603),
		cmocka_unit_test(win32_facility_without_own_entry_decomposes),
		cmocka_unit_test(negative_decimal_is_a_signed_hresult),
		cmocka_unit_test(severities_from_the_knowledge_sheet),
		cmocka_unit_test(action_return_values_0_to_8),
		cmocka_unit_test(installshield_result_codes),
		cmocka_unit_test(garbage_finds_nothing),
		cmocka_unit_test(never_writes_past_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
