/* SPDX-License-Identifier: MIT */
/* mask: every secret form setup logs use, readable results, and no secret left in any form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "upglog/mask.h"

static void expect_masked(const char *in, const char *want)
{
	char *got = ul_mask_text(in, strlen(in));
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("masking\n  %s\ngave\n  %s\nwant\n  %s", in, got, want);
	/* Idempotent: masking again changes nothing. */
	char *again = ul_mask_text(got, strlen(got));
	assert_string_equal(again, got);
	free(again);
	free(got);
}

/* The forms of the README table, each as a real log writes it. */
static void known_forms_keep_the_line_readable(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		/* MSI property changes and dumps, any property whose name carries a password */
		{ "MSI (s) (A0:EC) [22:41:07:123]: PROPERTY CHANGE: Adding SAPWD property. Its "
		  "value "
		  "is 'S3cr3t!'.",
		  "MSI (s) (A0:EC) [22:41:07:123]: PROPERTY CHANGE: Adding SAPWD property. Its "
		  "value "
		  "is '****'." },
		{ "MSI (c) (10:14): PROPERTY CHANGE: Modifying DBPASSWORD property. Its current "
		  "value "
		  "is 'old pass'. Its new value: 'it''s new'.",
		  "MSI (c) (10:14): PROPERTY CHANGE: Modifying DBPASSWORD property. Its current "
		  "value "
		  "is '****'. Its new value: '****'." },
		{ "MSI (s) (A0:EC): PROPERTY CHANGE: Adding INSTALLDIR property. Its value is "
		  "'C:\\Program Files\\Cisco\\'.",
		  "MSI (s) (A0:EC): PROPERTY CHANGE: Adding INSTALLDIR property. Its value is "
		  "'C:\\Program Files\\Cisco\\'." },
		{ "Property(S): CCMPWD = my pass phrase", "Property(S): CCMPWD = ****" },
		{ "Property(C): AdminPassword = x", "Property(C): AdminPassword = ****" },
		{ "Property(S): PIDKEY = 12345", "Property(S): PIDKEY = 12345" },
		{ "Property(S): SQLSAPWD = **********", "Property(S): SQLSAPWD = **********" },
		/* command lines */
		{ "******* Command Line: 'SAPWD=hunter2 DBPASSWORD=\"a b c\" /qn'",
		  "******* Command Line: 'SAPWD=**** DBPASSWORD=\"****\" /qn'" },
		{ "Target=osql -S PUB01 -U sa -P Secr3t -i C:\\x.sql",
		  "Target=osql -S PUB01 -U sa -P **** -i C:\\x.sql" },
		{ "isql -Usa -PSecr3t -d master", "isql -Usa -P**** -d master" },
		{ "OSQL.EXE /S PUB01 /U sa /P Secr3t /Q \"exit\"",
		  "OSQL.EXE /S PUB01 /U sa /P **** /Q \"exit\"" },
		{ "setup.exe -Pwd hunter2 -Quiet", "setup.exe -Pwd **** -Quiet" },
		{ "Install.ps1 -Password 'two words' -Force",
		  "Install.ps1 -Password '****' -Force" },
		{ "runner.exe /password hunter2 /log x", "runner.exe /password **** /log x" },
		{ "runner.exe /password:hunter2 /log x", "runner.exe /password:**** /log x" },
		{ "psexec \\\\pub01 -u admin /p:hunter2 cmd",
		  "psexec \\\\pub01 -u admin /p:**** cmd" },
		{ "msbuild /p:Configuration=Release", "msbuild /p:Configuration=Release" },
		{ "msbuild /p:DbPassword=hunter2", "msbuild /p:DbPassword=****" },
		{ "tool --password=hunter2 --user=x", "tool --password=**** --user=x" },
		/* connection strings */
		{ "driver={sql server};server=PUB01;UID=sa;PWD=hunter2;database=master",
		  "driver={sql server};server=PUB01;UID=sa;PWD=****;database=master" },
		{ "Provider=SQLOLEDB;User ID=sa;Password=my secret;Data Source=PUB01",
		  "Provider=SQLOLEDB;User ID=sa;Password=****;Data Source=PUB01" },
		{ "DSN=CCM;PWD={a;b};X=1", "DSN=CCM;PWD={****};X=1" },
		{ "driver={sql server};UID=sa;PWD=;database=master",
		  "driver={sql server};UID=sa;PWD=;database=master" },
		/* response files, InstallShield */
		{ "szPwd=hunter2", "szPwd=****" },
		{ "szPassword=hunter2", "szPassword=****" },
		{ "svPassword: hunter2", "svPassword: ****" },
		/* URLs, JSON, registry writes */
		{ "GET https://admin:hunter2@pub01.example.com/ccmadmin",
		  "GET https://admin:****@pub01.example.com/ccmadmin" },
		{ "{\"user\": \"sa\", \"password\": \"hun\\\"ter2\"}",
		  "{\"user\": \"sa\", \"password\": \"****\"}" },
		{ "Executing op: RegAddValue(Name=SQLPwd,Value=hunter2,)",
		  "Executing op: RegAddValue(Name=SQLPwd,Value=****,)" },
		{ "Executing op: RegAddValue(Name=Version,Value=4.0,)",
		  "Executing op: RegAddValue(Name=Version,Value=4.0,)" },
		/* prose about passwords is not a secret */
		{ "Invalid password format to convert from V8 to V3",
		  "Invalid password format to convert from V8 to V3" },
		{ "no secrets here, passwordless=yes", "no secrets here, passwordless=yes" },
		{ "PasswordPolicy=1 MinPasswordLength=8", "PasswordPolicy=1 MinPasswordLength=8" },
		{ "xcopy /P /Y a b", "xcopy /P /Y a b" },
		/* several lines: each on its own */
		{ "PWD=a1\nplain\npassword: abc,rest", "PWD=****\nplain\npassword: ****,rest" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_masked(cases[i][0], cases[i][1]);
}

/* A capture holding only the value is masked because its line shows it is a password. */
static void slices_know_their_line(void **state)
{
	(void)state;
	const char *line = "Property(S): SQLSAPWD = Tr0ub4dor&3";
	const char *v = strstr(line, "Tr0ub");
	char *m = ul_mask_slice(line, strlen(line), (size_t)(v - line), strlen(v));
	assert_string_equal(m, "****");
	free(m);
	m = ul_mask_slice(line, strlen(line), 0, 12);
	assert_string_equal(m, "Property(S):");
	free(m);
}

static void in_place_never_grows(void **state)
{
	(void)state;
	char s[] = "osql -U sa -P ab PWD=hunter2; DATABASE=CCM0300";
	ul_mask_inplace(s);
	assert_string_equal(s, "osql -U sa -P ** PWD=****; DATABASE=CCM0300");
	char t[] = "a\nSAPWD=xyz\nb";
	ul_mask_inplace(t);
	assert_string_equal(t, "a\nSAPWD=***\nb");
}

/*
 * Property test: secrets of random shapes (letters, digits, punctuation, spaces, quotes) put
 * in every known form, with random text around, never survive masking; neither does any
 * 4-byte piece of them.
 */
static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_secret(char *buf, size_t cap, bool spaces, bool quotes)
{
	static const char plain[] =
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char punct[] = "!#$%()*+-./?@[]^_~";
	size_t n = 6 + next_rand() % 14;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next_rand() % 20;
		if (r == 0 && spaces && i > 0 && i + 1 < n)
			buf[i] = ' ';
		else if (r == 1 && quotes)
			buf[i] = '\'';
		else if (r == 2)
			buf[i] = punct[next_rand() % (sizeof(punct) - 1)];
		else
			buf[i] = plain[next_rand() % (sizeof(plain) - 1)];
	}
	/* A quote or ')' followed by a blank or ')' is where a value closes: not inside one. */
	for (size_t i = 0; i + 1 < n; i++)
		if ((buf[i] == '\'' || buf[i] == ')') && (buf[i + 1] == ' ' || buf[i + 1] == ')'))
			buf[i + 1] = 'k';
	/* Starts and ends with a letter: a secret that is only stars would be "masked". */
	buf[0] = 'Q';
	buf[n - 1] = 'z';
	buf[n] = '\0';
}

/* `fmt` with every %s replaced by `v`. */
static void fill(char *out, size_t cap, const char *fmt, const char *v)
{
	size_t o = 0, vl = strlen(v);
	for (const char *p = fmt; *p && o + 1 < cap; p++) {
		if (p[0] == '%' && p[1] == 's' && o + vl + 1 < cap) {
			memcpy(out + o, v, vl);
			o += vl;
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void no_known_form_leaks(void **state)
{
	(void)state;
	/* %s is the secret; `spaces` / `quotes`: what the form allows inside the value. */
	static const struct {
		const char *fmt;
		bool spaces, quotes;
		bool alone; /* a line of its own (response files): nothing in front */
	} forms[] = {
		{ "MSI (s) (A0:EC) [10:00:00:000]: PROPERTY CHANGE: Adding SQLSAPWD property. Its "
		  "value is '%s'.",
		  true, true, false },
		{ "MSI (s) (A0:EC): PROPERTY CHANGE: Modifying CCMPWD property. Its current value "
		  "is "
		  "'%s'. Its new value: 'x%s'.",
		  true, true, false },
		{ "Property(S): PrivateDBPassword = %s", true, true, false },
		{ "Property(C): SAPWD = %s", true, true, false },
		{ "Command Line: SAPWD=%s DBNAME=CCM0300", false, false, false },
		{ "Command Line: DBPASSWORD=\"%s\" REBOOT=ReallySuppress", true, true, false },
		{ "CustomAction Exec returned: osql -E -S . -U sa -P %s -i x.sql", false, false,
		  false },
		{ "\"C:\\MSSQL\\Binn\\osql.exe\" -Usa -P%s -Q \"select 1\"", false, false, false },
		{ "isql /U sa /P %s /S PUB01", false, false, false },
		{ "setup.exe /s /f1\"C:\\setup.iss\" -Pwd %s", false, false, false },
		{ "Start-Install -Password \"%s\" -Quiet", true, true, false },
		{ "run.exe /password %s", false, false, false },
		{ "run.exe /p:%s /log", false, false, false },
		{ "driver={sql server};server=PUB01;UID=sa;PWD=%s;database=master", true, true,
		  false },
		{ "Provider=SQLOLEDB.1;Password=%s;User ID=sa;Initial Catalog=CCM0300", true, false,
		  false },
		{ "szPwd=%s", true, true, true },
		{ "[SdLogin-0]\nszName=Admin\nszPassword=%s", true, true, true },
		{ "ftp://ccmadmin:%s@pub01/logs", false, false, false },
		{ "Error 1920. Service failed (PWD='%s'); check the account", true, true, false },
		{ "Executing op: RegAddValue(Name=DBPwd,Value=%s,)", false, false, false },
		{ "\"password\": \"%s\"", true, true, false },
	};
	char secret[64], line[512];
	for (int round = 0; round < 400; round++) {
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			random_secret(secret, sizeof(secret), forms[f].spaces, forms[f].quotes);
			char body[300];
			fill(body, sizeof(body), forms[f].fmt, secret);
			const char *pre = (round & 1) && !forms[f].alone ? "12:00:01 " : "";
			snprintf(line, sizeof(line), "%s%s", pre, body);
			char *m = ul_mask_text(line, strlen(line));
			assert_non_null(m);
			size_t n = strlen(secret);
			for (size_t k = 0; k + 4 <= n; k++) {
				char piece[5];
				memcpy(piece, secret + k, 4);
				piece[4] = '\0';
				if (strchr(piece, ' ') || strchr(piece, '\''))
					continue; /* a piece with a separator may match the form */
				if (strstr(m, piece))
					fail_msg("form %zu leaks '%s' of '%s':\n  %s\n  %s", f,
					         piece, secret, line, m);
			}
			free(m);
		}
	}
}

/* Long, hostile and empty input: no crash, no read past the end. */
static void hostile_input(void **state)
{
	(void)state;
	static const char *const odd[] = {
		"",      "=",
		":",     "PWD=",
		"PWD='", "-P",
		"/p:",   "://a:b@",
		"a:@",   "'PWD'=",
		"PWD={", "x -P -P -P",
		"\"=\"", "PROPERTY CHANGE: Adding SAPWD property. Its value is '",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		size_t n = strlen(odd[i]);
		char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan catches an overread */
		memcpy(copy, odd[i], n);
		char *m = ul_mask_text(copy, n);
		assert_non_null(m);
		free(m);
		struct ul_mask_span sp[4];
		(void)ul_mask_find(copy, n, sp, 4);
		free(copy);
	}
	/* More secrets in one line than spans: the rest of the line is hidden. */
	char big[8192] = "";
	for (int i = 0; i < 200; i++)
		strcat(big, "PWD=abcdef;");
	char *m = ul_mask_text(big, strlen(big));
	assert_null(strstr(m, "abcdef"));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_forms_keep_the_line_readable),
		cmocka_unit_test(slices_know_their_line),
		cmocka_unit_test(in_place_never_grows),
		cmocka_unit_test(no_known_form_leaks),
		cmocka_unit_test(hostile_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
