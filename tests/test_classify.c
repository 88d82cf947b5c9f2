/* SPDX-License-Identifier: MIT */
/* classify: precedence, families, captures, prefilter equivalence, checks, sniffing. */
#include "testutil.h"

#include <dirent.h>
#include <time.h>

#include "catalog_impl.h"
#include "upglog/catalog.h"
#include "upglog/classify.h"
#include "upglog/decode.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static struct ul_catalog *build(const char *text)
{
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	ul_error_clear(&err);
	assert_non_null(cat);
	if (!ul_catalog_add_text(cat, "families.rules", TU_FAMILIES, strlen(TU_FAMILIES), &err) ||
	    !ul_catalog_add_text(cat, "test.rules", text, strlen(text), &err) ||
	    !ul_catalog_compile(cat, &err))
		fail_msg("%s", err.msg);
	return cat;
}

static struct ul_catalog *shipped(void)
{
	const char *dir = getenv("UPGLOG_PATTERNS");
	if (!dir || !*dir)
		return NULL;
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	ul_error_clear(&err);
	if (!ul_catalog_add_dir(cat, dir, &err) || !ul_catalog_compile(cat, &err))
		fail_msg("shipped catalogue: %s", err.msg);
	return cat;
}

static struct ul_classifier *classifier(const struct ul_catalog *cat, bool prefilter)
{
	struct ul_error err;
	ul_error_clear(&err);
	struct ul_classifier *cl = ul_classifier_create(cat, prefilter, &err);
	if (!cl)
		fail_msg("classifier: %s", err.msg);
	assert_int_equal(ul_classifier_prefiltered(cl), prefilter && UL_HAVE_HYPERSCAN);
	return cl;
}

/* Lines (joined by '\n') -> chunk through the real decoder. */
static void chunk_of(struct ul_chunk *c, const char *text)
{
	assert_true(ul_decode_block(UL_ENC_UTF8, text, strlen(text), 1u << 16, 0, c));
}

static const char *id_of(const struct ul_catalog *cat, long rank)
{
	return rank < 0 ? "(none)" : ul_catalog_rule(cat, (size_t)rank)->id;
}

static long line(struct ul_classifier *cl, ul_family fam, const char *s, uint32_t *caps)
{
	return ul_classify_line(cl, fam, s, strlen(s), caps);
}

/* Slot of the capture `name` in rule `rank`. */
static unsigned slot(const struct ul_catalog *cat, long rank, const char *name)
{
	assert_true(rank >= 0);
	const struct ul_rule *r = ul_catalog_rule(cat, (size_t)rank);
	for (unsigned i = 0; i < r->ncaps; i++)
		if (strcmp(r->cap_names[i], name) == 0)
			return i;
	fail_msg("rule %s has no capture '%s'", r->id, name);
	return 0;
}

static void expect_cap(const struct ul_catalog *cat, long rank, const uint32_t *caps,
                       const char *name, uint32_t start, uint32_t end)
{
	unsigned k = slot(cat, rank, name);
	if (caps[2 * k] != start || caps[2 * k + 1] != end)
		fail_msg("capture %s: (%u, %u), expected (%u, %u)", name, caps[2 * k],
		         caps[2 * k + 1], start, end);
}

/* ---- precedence, families, captures ------------------------------------------------------ */

static const char prec_rules[] = "rule p.early\n  severity error\n  family msi generic\n"
                                 "  match foo\n  sample foo\n"
                                 "rule p.high\n  severity error\n  family msi\n  priority 5\n"
                                 "  match foo bar\n  sample foo bar\n"
                                 "rule p.late\n  severity error\n  family msi generic\n"
                                 "  match ^foo\n  sample xfoo\n"
                                 "rule p.burn\n  severity error\n  family burn\n"
                                 "  match foo\n  sample foo\n";

static void precedence(void **state)
{
	(void)state;
	struct ul_catalog *cat = build(prec_rules);
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		assert_string_equal(id_of(cat, line(cl, TU_FAM_MSI, "foo bar", NULL)), "p.high");
		assert_string_equal(id_of(cat, line(cl, TU_FAM_MSI, "foo", NULL)), "p.early");
		assert_string_equal(id_of(cat, line(cl, TU_FAM_MSI, "a foo", NULL)), "p.early");
		assert_string_equal(id_of(cat, line(cl, TU_FAM_GENERIC, "foo bar", NULL)),
		                    "p.early");
		assert_string_equal(id_of(cat, line(cl, TU_FAM_BURN, "foo bar", NULL)), "p.burn");
		assert_int_equal(line(cl, TU_FAM_SQL, "foo bar", NULL), -1);
		assert_int_equal(line(cl, TU_FAM_MSI, "fo o", NULL), -1);
		assert_int_equal(line(cl, TU_FAM_MSI, "", NULL), -1);
		/* Rule on its own, ignoring precedence. */
		long late = ul_catalog_find(cat, "p.late");
		assert_true(ul_classify_rule_matches(cl, (size_t)late, "foo", 3));
		assert_false(ul_classify_rule_matches(cl, (size_t)late, "a foo", 5));
		ul_classifier_destroy(cl);
	}
	ul_catalog_destroy(cat);
}

/* Lines a decisive literal must not decide: its exceptions, and its rule failing to match. */
static const char shortcut_rules[] =
        "rule s.reboot\n  severity info\n  family msi\n  event reboot\n  priority 11\n"
        "  match ^PROPERTY CHANGE: Adding ReplacedInUseFiles property\n"
        "  sample PROPERTY CHANGE: Adding ReplacedInUseFiles property\n"
        "rule s.change\n  severity noise\n  family msi\n  priority 10\n"
        "  match ^PROPERTY CHANGE:\n  sample PROPERTY CHANGE: Adding X property.\n"
        "rule s.key-missing\n  severity noise\n  family msi\n  priority 10\n"
        "  match ^Note: 1: 1402 2: .* 3: 2\\s*$\n  sample Note: 1: 1402 2: HKEY 3: 2\n"
        "rule s.key-denied\n  severity warning\n  family msi\n  priority 10\n"
        "  match ^Note: 1: 1402 2: (?<key>.*) 3: 5\\s*$\n  sample Note: 1: 1402 2: HKEY 3: 5\n"
        "rule s.denied\n  severity error\n  family msi\n"
        "  match denied\n  sample access denied\n";

static void shortcuts_fall_through(void **state)
{
	(void)state;
	static const struct {
		const char *line, *rule;
	} cases[] = {
		{ "MSI (s) (A0:EC): PROPERTY CHANGE: Adding X property. Its value is 'denied'.",
		  "s.change" },
		{ "PROPERTY CHANGE: Adding ReplacedInUseFiles property. Its value is 'x'.",
		  "s.reboot" },
		{ "Note: 1: 1402 2: HKEY_LOCAL_MACHINE\\Software\\denied 3: 2", "s.key-missing" },
		{ "Note: 1: 1402 2: HKEY_LOCAL_MACHINE\\Software 3: 5", "s.key-denied" },
		{ "Note: 1: 1402 2: HKEY_LOCAL_MACHINE\\Software\\denied 3: 4", "s.denied" },
		{ "Note: 1: 1402 2: HKEY_LOCAL_MACHINE 3: 4", NULL },
	};
	struct ul_catalog *cat = build(shortcut_rules);
	size_t n;
	assert_non_null(ul_catalog_decisive(cat, TU_FAM_MSI, 'P', &n));
	assert_int_equal(n, 1);
	assert_non_null(ul_catalog_decisive(cat, TU_FAM_MSI, 'N', &n));
	assert_int_equal(n, 1);
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			/* Without captures the shortcuts run; with them, every rule in order. */
			uint32_t caps[2 * UL_MAX_CAPS];
			long fast = line(cl, TU_FAM_MSI, cases[i].line, NULL);
			long slow = line(cl, TU_FAM_MSI, cases[i].line, caps);
			const char *want = cases[i].rule ? cases[i].rule : "(none)";
			if (strcmp(id_of(cat, fast), want) != 0 ||
			    strcmp(id_of(cat, slow), want) != 0)
				fail_msg("'%s': %s with shortcuts, %s without, want %s",
				         cases[i].line, id_of(cat, fast), id_of(cat, slow), want);
		}
		ul_classifier_destroy(cl);
	}
	ul_catalog_destroy(cat);
}

static const char cap_rules[] =
        "rule c.code\n  severity error\n  family generic\n"
        "  match ^(?<code>\\d+)(?: (?<action>[A-Z]\\w+))?(?: x(?<rv>\\d))?$\n  sample 1\n"
        "rule c.unnamed\n  severity error\n  family generic\n"
        "  match ^(\\w+) (\\w+) (?<action>\\w+)$\n  sample a b c\n"
        "rule c.utf8\n  severity error\n  family generic\n"
        "  match ^(?<word>é+)(?<tail>€)\n  sample é€\n";

static void captures_in_slot_order(void **state)
{
	(void)state;
	struct ul_catalog *cat = build(cap_rules);
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		uint32_t caps[2 * UL_MAX_CAPS];

		memset(caps, 0xAB, sizeof(caps));
		long r = line(cl, TU_FAM_GENERIC, "1603 InstallFiles", caps);
		assert_string_equal(id_of(cat, r), "c.code");
		expect_cap(cat, r, caps, "code", 0, 4);
		expect_cap(cat, r, caps, "action", 5, 17);
		expect_cap(cat, r, caps, "rv", UL_CAP_UNSET, UL_CAP_UNSET);
		for (unsigned k = 3; k < UL_MAX_CAPS; k++)
			assert_true(caps[2 * k] == UL_CAP_UNSET && caps[2 * k + 1] == UL_CAP_UNSET);

		memset(caps, 0xAB, sizeof(caps));
		r = line(cl, TU_FAM_GENERIC, "7 x3", caps);
		assert_string_equal(id_of(cat, r), "c.code");
		expect_cap(cat, r, caps, "code", 0, 1);
		expect_cap(cat, r, caps, "action", UL_CAP_UNSET, UL_CAP_UNSET);
		expect_cap(cat, r, caps, "rv", 3, 4);

		/* The unnamed groups before it do not shift the named slot. */
		r = line(cl, TU_FAM_GENERIC, "one two three", caps);
		assert_string_equal(id_of(cat, r), "c.unnamed");
		assert_int_equal(ul_catalog_rule(cat, (size_t)r)->ncaps, 1);
		expect_cap(cat, r, caps, "action", 8, 13);

		/* Offsets are bytes. */
		r = line(cl, TU_FAM_GENERIC, "ééé€!", caps);
		assert_string_equal(id_of(cat, r), "c.utf8");
		expect_cap(cat, r, caps, "word", 0, 6);
		expect_cap(cat, r, caps, "tail", 6, 9);
		ul_classifier_destroy(cl);
	}
	ul_catalog_destroy(cat);
}

static const char chunk_rules[] = "rule k.noise\n  severity noise\n  family generic\n"
                                  "  match ^noise (?<n>\\d+)\n  sample noise 1\n"
                                  "rule k.event\n  severity noise\n  family generic\n"
                                  "  event log-start\n  match ^=== start (?<date>\\S+)\n"
                                  "  sample === start 1/2/3\n"
                                  "rule k.err\n  severity error\n  family generic\n"
                                  "  match ^err (?<code>\\d+)\n  sample err 5\n";

static void classify_chunk_captures(void **state)
{
	(void)state;
	struct ul_catalog *cat = build(chunk_rules);
	struct ul_chunk c;
	ul_chunk_init(&c);
	chunk_of(&c, "noise 12\nplain\n=== start 7/8/9\nerr 42\n\nerr x\nnoise 3");
	assert_int_equal(c.nlines, 7);
	struct ul_hits h;
	ul_hits_init(&h);
	struct ul_error err;
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		for (int round = 0; round < 2; round++) { /* hits are cleared, not appended */
			ul_error_clear(&err);
			assert_true(ul_classify_chunk(cl, TU_FAM_GENERIC, &c, false, &h, &err));
			assert_int_equal(h.n, 4);
			assert_int_equal(h.limit_errors, 0);
			const uint32_t lines[] = { 0, 2, 3, 6 };
			const char *ids[] = { "k.noise", "k.event", "k.err", "k.noise" };
			for (size_t i = 0; i < 4; i++) {
				assert_int_equal(h.v[i].line, lines[i]);
				assert_string_equal(id_of(cat, h.v[i].rule), ids[i]);
			}
			/* Noise without an event: no captures unless asked. */
			assert_int_equal(h.v[0].caps, -1);
			assert_int_equal(h.v[3].caps, -1);
			assert_true(h.v[1].caps >= 0);
			assert_true(h.v[2].caps >= 0);
			assert_int_equal(h.caps[h.v[1].caps], 10);
			assert_int_equal(h.caps[h.v[1].caps + 1], 15);
			assert_int_equal(h.caps[h.v[2].caps], 4);
			assert_int_equal(h.caps[h.v[2].caps + 1], 6);
			assert_true((size_t)h.v[2].caps + 2 <= h.ncaps);
		}
		ul_error_clear(&err);
		assert_true(ul_classify_chunk(cl, TU_FAM_GENERIC, &c, true, &h, &err));
		assert_int_equal(h.n, 4);
		for (size_t i = 0; i < 4; i++)
			assert_true(h.v[i].caps >= 0);
		assert_int_equal(h.caps[h.v[0].caps], 6);
		assert_int_equal(h.caps[h.v[0].caps + 1], 8);
		assert_int_equal(h.caps[h.v[3].caps], 6);
		assert_int_equal(h.caps[h.v[3].caps + 1], 7);
		/* Another family: no rule applies. */
		assert_true(ul_classify_chunk(cl, TU_FAM_MSI, &c, true, &h, &err));
		assert_int_equal(h.n, 0);
		ul_classifier_destroy(cl);
	}
	ul_hits_finish(&h);
	ul_chunk_finish(&c);
	ul_catalog_destroy(cat);
}

/* ---- the Windows Installer engine prefix ------------------------------------------------- */

static void msi_prefix_grammar(void **state)
{
	(void)state;
	struct {
		const char *line;
		const char *prefix; /* expected prefix, "" when none */
	} cases[] = {
		{ "MSI (s) (D0:A0) [21:24:37:486]: Doing action: X",
		  "MSI (s) (D0:A0) [21:24:37:486]: " },
		{ "MSI (c) (A0:EC): Doing action: X", "MSI (c) (A0:EC): " },
		{ "MSI (s) (A0!EC): Note: 1: 2205", "MSI (s) (A0!EC): " },
		{ "MSI (s) (A0:EC) : spaced", "MSI (s) (A0:EC) : " },
		{ "MSI (s) (a0:ec):tight", "MSI (s) (a0:ec):" },
		{ "MSI (s) (1234:ABCDEF) [1:2:3:4]: x", "MSI (s) (1234:ABCDEF) [1:2:3:4]: " },
		{ "MSI (s) (A0:EC):", "MSI (s) (A0:EC):" },
		{ "MSI (s) (ZZ:EC): x", "" },
		{ "MSI (ss) (A0:EC): x", "" },
		{ "MSI (1) (A0:EC): x", "" },
		{ "MSI (s) (A0EC): x", "" },
		{ "MSI (s) (A0:EC) [12:34] x", "" },
		{ "MSI (s) (A0:EC) []: x", "" },
		{ "MSI (s) (:EC): x", "" },
		{ "MSI (s) (A0:EC) x", "" },
		{ " MSI (s) (A0:EC): x", "" },
		{ "msi (s) (A0:EC): x", "" },
		{ "MSI (s)", "" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = ul_classify_msi_prefix(cases[i].line, strlen(cases[i].line));
		if (got != strlen(cases[i].prefix))
			fail_msg("'%s': prefix of %zu bytes, expected %zu", cases[i].line, got,
			         strlen(cases[i].prefix));
	}
	/* Never past the given length. */
	const char *l = "MSI (s) (A0:EC): x";
	for (size_t n = 0; n < strlen(l); n++)
		assert_true(ul_classify_msi_prefix(l, n) <= n);
}

static const char prefix_rules[] = "rule m.doing\n  severity error\n  family any\n"
                                   "  match ^Doing action: (?<action>\\w+)$\n"
                                   "  sample MSI (s) (A0:EC): Doing action: Foo\n"
                                   "  sample Doing action: Foo\n"
                                   "rule m.free\n  severity error\n  family any\n"
                                   "  match (?<code>Note: \\d+)\n  sample Note: 1\n";

/* Rules see the message after the prefix; offsets count from the start of the whole line. */
static void msi_prefix_is_invisible_to_rules(void **state)
{
	(void)state;
	struct ul_catalog *cat = build(prefix_rules);
	const char *pre = "MSI (s) (D0:A0) [21:24:37:486]: ";
	uint32_t p = (uint32_t)strlen(pre);
	char *prefixed = tu_fmt("%sDoing action: InstallFiles", pre);
	char *note = tu_fmt("%sNote: 1708", pre);
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		for (int fam = 0; fam < TU_FAM_COUNT; fam++) {
			uint32_t caps[2 * UL_MAX_CAPS];
			long r = line(cl, (ul_family)fam, prefixed, caps);
			assert_string_equal(id_of(cat, r), "m.doing");
			expect_cap(cat, r, caps, "action", p + 14, p + 26);
			r = line(cl, (ul_family)fam, "Doing action: InstallFiles", caps);
			assert_string_equal(id_of(cat, r), "m.doing");
			expect_cap(cat, r, caps, "action", 14, 26);
			r = line(cl, (ul_family)fam, note, caps);
			assert_string_equal(id_of(cat, r), "m.free");
			expect_cap(cat, r, caps, "code", p, p + 10);
			assert_int_equal(line(cl, (ul_family)fam,
			                      "xMSI (s) (A0:EC): Doing action: Foo", NULL),
			                 -1);
		}
		long doing = ul_catalog_find(cat, "m.doing");
		assert_true(
		        ul_classify_rule_matches(cl, (size_t)doing, prefixed, strlen(prefixed)));
		assert_int_equal(ul_classify_check(cl, NULL, NULL), 0);

		/* Same through a chunk. */
		struct ul_chunk c;
		ul_chunk_init(&c);
		char *text = tu_fmt("%s\n%s\nDoing action: X", prefixed, note);
		chunk_of(&c, text);
		struct ul_hits h;
		ul_hits_init(&h);
		struct ul_error err;
		assert_true(ul_classify_chunk(cl, TU_FAM_MSI, &c, false, &h, &err));
		assert_int_equal(h.n, 3);
		assert_true(h.v[0].caps >= 0);
		assert_int_equal(h.caps[h.v[0].caps], p + 14);
		assert_int_equal(h.caps[h.v[2].caps], 14);
		ul_hits_finish(&h);
		ul_chunk_finish(&c);
		free(text);
		ul_classifier_destroy(cl);
	}
	free(prefixed);
	free(note);
	ul_catalog_destroy(cat);
}

/* ---- lines are independent, whatever the engine sees at once ----------------------------- */

struct boundary_case {
	const char *pattern;
	const char *text; /* lines joined by '\n' */
};

/*
 * Patterns a line on its own never satisfies by way of a line end, and anchors that name the
 * start or end of the subject: each line must get the same verdict on both paths, including
 * noise rules whose hits are not confirmed by PCRE2 when no captures are wanted.
 */
static const struct boundary_case boundary_cases[] = {
	{ "foo\\P{L}bar", "foo\nbar" },
	{ "end\\p{Cc}start", "end\nstart" },
	{ "one\\012two", "one\ntwo" },
	{ "alpha\\cJbeta", "alpha\nbeta" },
	{ "gam\\o{12}ma", "gam\nma" },
	{ "del\\x{a}ta", "del\nta" },
	{ "eps[^x]ilon", "eps\nilon" },
	{ "ze\\sta", "ze\nta" },
	{ "et\\Da", "et\na" },
	{ "th\\Weta", "th\neta" },
	{ "io[[:space:]]ta", "io\nta" },
	{ "(?s)ka.ppa", "ka\nppa" },
	{ "lam\\Rbda", "lam\nbda" },
	{ "\\Afirst line", "zero\nfirst line\nfirst line" },
	{ "last line\\z", "last line\nlast line\nmore" },
	{ "last two\\Z", "last two\nlast two\nmore" },
	{ "^mu$", "mu\nxmu\nmux\nmu" },
	{ "\\bnu\\b", "nu\nxnu\nnux\nnu" },
};

static void prefilter_same_hits_across_line_ends(void **state)
{
	(void)state;
	char failures[4096] = "";
	size_t nfail = 0;
	for (size_t i = 0; i < sizeof(boundary_cases) / sizeof(boundary_cases[0]); i++) {
		const struct boundary_case *bc = &boundary_cases[i];
		char *text = tu_fmt("rule b.x\n  severity noise\n  family generic\n  match %s\n"
		                    "  sample zz\n",
		                    bc->pattern);
		struct ul_catalog *cat = build(text);
		struct ul_classifier *ref = classifier(cat, false), *pf = classifier(cat, true);
		struct ul_chunk c;
		ul_chunk_init(&c);
		chunk_of(&c, bc->text);
		struct ul_hits ha, hb;
		ul_hits_init(&ha);
		ul_hits_init(&hb);
		struct ul_error err;
		for (int all = 0; all < 2; all++) {
			assert_true(ul_classify_chunk(ref, TU_FAM_GENERIC, &c, all, &ha, &err));
			assert_true(ul_classify_chunk(pf, TU_FAM_GENERIC, &c, all, &hb, &err));
			bool same = ha.n == hb.n;
			for (size_t k = 0; same && k < ha.n; k++)
				same = ha.v[k].line == hb.v[k].line;
			if (!same) {
				char one[200];
				snprintf(one, sizeof(one),
				         "  /%s/%s: %zu hit(s), %zu with prefilter\n", bc->pattern,
				         all ? " (all captures)" : "", ha.n, hb.n);
				strncat(failures, one, sizeof(failures) - strlen(failures) - 1);
				nfail++;
			}
		}
		ul_hits_finish(&ha);
		ul_hits_finish(&hb);
		ul_chunk_finish(&c);
		ul_classifier_destroy(ref);
		ul_classifier_destroy(pf);
		ul_catalog_destroy(cat);
		free(text);
	}
	if (nfail)
		fail_msg("%zu divergence(s) between the paths:\n%s", nfail, failures);
}

/* ---- prefilter equivalence on the shipped catalogue -------------------------------------- */

struct lines {
	char **v;
	size_t n, cap;
};

static void add_line(struct lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	/* One line each: no terminators inside. */
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	l->v[l->n++] = s;
}

/* Long s and the Kelvin sign fold to 's' and 'k' under Unicode case folding. */
#define LONG_S "\xC5\xBF"
#define KELVIN "\xE2\x84\xAA"

static const char *const inserts[] = { "0", "7",    " ",    ".", ":", "-",  "\\", "(", ")", "x",
	                               "é", LONG_S, KELVIN, "İ", "ß", "\t", "€",  "Z", "'", "%" };

/* One random edit of `s`. */
static char *mutate(uint64_t *rng, const char *s)
{
	size_t n = strlen(s);
	char *out = tu_xmalloc(3 * n + 64);
	size_t at = tu_below(rng, n + 1);
	switch (tu_below(rng, 10)) {
	case 0: /* delete a byte (may break a UTF-8 sequence; the decoder repairs it) */
		memcpy(out, s, n + 1);
		if (n)
			memmove(out + at - (at == n), out + at + 1 - (at == n), n - at + (at == n));
		break;
	case 1: { /* insert */
		const char *ins = inserts[tu_below(rng, sizeof(inserts) / sizeof(inserts[0]))];
		sprintf(out, "%.*s%s%s", (int)at, s, ins, s + at);
		break;
	}
	case 2: /* flip the case of one ASCII letter */
		memcpy(out, s, n + 1);
		if (at < n && ((out[at] | 0x20) >= 'a' && (out[at] | 0x20) <= 'z'))
			out[at] ^= 0x20;
		break;
	case 3: /* change a digit */
		memcpy(out, s, n + 1);
		for (size_t i = at; i < n; i++)
			if (out[i] >= '0' && out[i] <= '9') {
				out[i] = (char)('0' + tu_below(rng, 10));
				break;
			}
		break;
	case 4: /* truncate */
		sprintf(out, "%.*s", (int)at, s);
		break;
	case 5: { /* the 3.x line prefix, or another prefix */
		static const char *const pre[] = { "MSI (s) (C8:0C) [14:22:31:234]: ",
			                           "MSI (c) (A0!EC): ", "  ",
			                           "Info: ", "\xEF\xBB\xBF" };
		sprintf(out, "%s%s", pre[tu_below(rng, 5)], s);
		break;
	}
	case 6: /* Unicode look-alikes: long s and Kelvin sign fold to s and k */
	{
		size_t o = 0;
		for (size_t i = 0; i < n; i++) {
			if ((s[i] == 's' || s[i] == 'S') && tu_below(rng, 2)) {
				memcpy(out + o, LONG_S, 2);
				o += 2;
			} else if ((s[i] == 'k' || s[i] == 'K') && tu_below(rng, 2)) {
				memcpy(out + o, KELVIN, 3);
				o += 3;
			} else {
				out[o++] = s[i];
			}
		}
		out[o] = '\0';
		break;
	}
	case 7: /* all upper case */
		for (size_t i = 0; i <= n; i++)
			out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
		break;
	case 8: /* a suffix */
		sprintf(out, "%s%s", s, tu_below(rng, 2) ? " trailing words 1603" : ".");
		break;
	default: /* swap two neighbours */
		memcpy(out, s, n + 1);
		if (at + 1 < n) {
			char t = out[at];
			out[at] = out[at + 1];
			out[at + 1] = t;
		}
		break;
	}
	return out;
}

static char *msi_shape(uint64_t *rng)
{
	static const char *const names[] = {
		"InstallFiles", "InstallFinalize", "CostFinalize",          "CA_Setup.6B33_D155",
		"INSTALL",      "ExecuteAction",   "RemoveExistingProducts"
	};
	const char *name = names[tu_below(rng, sizeof(names) / sizeof(names[0]))];
	int h = (int)tu_below(rng, 24), m = (int)tu_below(rng, 60), s = (int)tu_below(rng, 60);
	int rv = (int)tu_below(rng, 5), code = (int)(1000 + tu_below(rng, 2000));
	unsigned a = (unsigned)tu_below(rng, 256), b = (unsigned)tu_below(rng, 256);
	switch (tu_below(rng, 14)) {
	case 0:
		return tu_fmt("Action start %d:%02d:%02d: %s.", h, m, s, name);
	case 1:
		return tu_fmt("Action ended %d:%02d:%02d: %s. Return value %d.", h, m, s, name, rv);
	case 2:
		return tu_fmt("Action %d:%02d:%02d: %s. Doing things", h, m, s, name);
	case 3:
		return tu_fmt("MSI (s) (%02X:%02X) [%02d:%02d:%02d:%03d]: Note: 1: %d 2: %s", a, b,
		              h, m, s, (int)tu_below(rng, 1000), code, name);
	case 4:
		return tu_fmt("MSI (s) (%02X:%02X): Product: Foo %d -- Installation failed.", a, b,
		              code);
	case 5:
		return tu_fmt("MSI (s) (%02X!%02X) [%02d:%02d:%02d:%03d]: MainEngineThread is "
		              "returning %d",
		              a, b, h, m, s, 0, code);
	case 6:
		return tu_fmt("MSI (c) (%02X:%02X) [%02d:%02d:%02d:%03d]: Back from server. Return "
		              "value: %d",
		              a, b, h, m, s, 7, code);
	case 7:
		return tu_fmt("Error %d. The installer has encountered an unexpected error.", code);
	case 8:
		return tu_fmt("CustomAction %s returned actual error code %d (note this may not "
		              "be 100%% accurate)",
		              name, code);
	case 9:
		return tu_fmt(
		        "=== Verbose logging started: %d/%d/2003  %d:%02d:%02d  Build type: "
		        "SHIP UNICODE 2.00.2600.1183  Calling process: C:\\WINNT\\msiexec.exe "
		        "===",
		        1 + m % 12, 1 + s % 28, h, m, s);
	case 10:
		return tu_fmt("MSI (s) (%02X:%02X) [%02d:%02d:%02d:%03d]: Windows Installer "
		              "installed the product. Product Name: Foo. Installation success or "
		              "error status: %d.",
		              a, b, h, m, s, 1, code);
	case 11:
		return tu_fmt("Property(S): %s = C:\\Program Files\\Foo\\", name);
	case 12:
		return tu_fmt("MSI (s) (%02X:%02X) [%02d:%02d:%02d:%03d]: Executing op: "
		              "FileCopy(SourceName=a.dll,DestName=%s)",
		              a, b, h, m, s, 2, name);
	default:
		return tu_fmt("DEBUG: Error %d:  Failed to connect to server. Error: 0x%08X", code,
		              (unsigned)tu_rand(rng));
	}
}

static char *random_text(uint64_t *rng)
{
	size_t n = tu_below(rng, 120);
	char *out = tu_xmalloc(3 * n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = tu_rand(rng);
		if (r % 23 == 0) {
			memcpy(out + o, "é", 2);
			o += 2;
		} else {
			out[o++] = (char)(0x20 + (r >> 8) % 95);
		}
	}
	out[o] = '\0';
	return out;
}

static struct lines generated_lines(const struct ul_catalog *cat, uint64_t seed)
{
	struct lines l = { 0 };
	uint64_t rng = seed;
	for (size_t i = 0; i < ul_catalog_count(cat); i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		for (size_t s = 0; s < r->nsamples; s++) {
			add_line(&l, tu_fmt("%s", r->samples[s]));
			for (int k = 0; k < 6; k++)
				add_line(&l, mutate(&rng, r->samples[s]));
		}
		for (size_t s = 0; s < r->nnots; s++) {
			add_line(&l, tu_fmt("%s", r->nots[s]));
			add_line(&l, mutate(&rng, r->nots[s]));
		}
	}
	for (int i = 0; i < 2500; i++) {
		char *s = msi_shape(&rng);
		add_line(&l, s);
		add_line(&l, mutate(&rng, s));
	}
	for (int i = 0; i < 800; i++)
		add_line(&l, random_text(&rng));
	return l;
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void compare_hits(const struct ul_catalog *cat, const struct ul_chunk *c,
                         const struct ul_hits *a, const struct ul_hits *b, ul_family fam, bool all)
{
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		uint32_t la = i < a->n ? a->v[i].line : UINT32_MAX;
		uint32_t lb = j < b->n ? b->v[j].line : UINT32_MAX;
		uint32_t ln = la < lb ? la : lb;
		const struct ul_line *l = &c->lines[ln];
		if (la != lb || a->v[i].rule != b->v[j].rule)
			fail_msg("family %s: line '%.*s': without prefilter %s, with prefilter %s",
			         ul_catalog_family_name(cat, fam), (int)l->len, c->text + l->start,
			         la == ln ? id_of(cat, a->v[i].rule) : "(none)",
			         lb == ln ? id_of(cat, b->v[j].rule) : "(none)");
		const struct ul_rule *r = ul_catalog_rule(cat, a->v[i].rule);
		if ((a->v[i].caps < 0) != (b->v[j].caps < 0))
			fail_msg("line '%.*s': captures computed on one path only", (int)l->len,
			         c->text + l->start);
		if (all)
			assert_true(a->v[i].caps >= 0);
		if (a->v[i].caps >= 0 && r->ncaps > 0 &&
		    memcmp(a->caps + a->v[i].caps, b->caps + b->v[j].caps,
		           2 * r->ncaps * sizeof(uint32_t)) != 0)
			fail_msg("family %s: line '%.*s' (rule %s): captures differ",
			         ul_catalog_family_name(cat, fam), (int)l->len, c->text + l->start,
			         r->id);
		i++;
		j++;
	}
}

/* Each line's rule on the reference path (`ref`, no shortcuts) and with every shortcut. */
static void same_rules(const struct ul_catalog *cat, const struct ul_chunk *c,
                       const struct ul_hits *ref, const struct ul_hits *fast, ul_family fam)
{
	size_t i = 0, j = 0;
	while (i < ref->n || j < fast->n) {
		uint32_t la = i < ref->n ? ref->v[i].line : UINT32_MAX;
		uint32_t lb = j < fast->n ? fast->v[j].line : UINT32_MAX;
		uint32_t line = la < lb ? la : lb;
		long ra = la == line ? (long)ref->v[i].rule : -1;
		long rb = lb == line ? (long)fast->v[j].rule : -1;
		if (ra != rb)
			fail_msg("family %s: line '%.*s': %s on the reference path, %s with "
			         "shortcuts",
			         ul_catalog_family_name(cat, fam), (int)c->lines[line].len,
			         c->text + c->lines[line].start, id_of(cat, ra), id_of(cat, rb));
		i += la == line;
		j += lb == line;
	}
}

/* How many lines of the chunk a decisive literal of `fam` decides. */
static size_t decisive_lines(const struct ul_catalog *cat, const struct ul_chunk *c, ul_family fam)
{
	size_t count = 0;
	for (size_t i = 0; i < c->nlines; i++) {
		const char *s = c->text + c->lines[i].start;
		size_t d = ul_classify_msi_prefix(s, c->lines[i].len), len = c->lines[i].len - d, n;
		if (!len)
			continue;
		const struct ul_decisive *v =
		        ul_catalog_decisive(cat, fam, (unsigned char)s[d], &n);
		for (size_t k = 0; k < n; k++)
			if (v[k].len <= len && memcmp(v[k].lit, s + d, v[k].len) == 0) {
				count++;
				break;
			}
	}
	return count;
}

static void prefilter_same_hits_shipped(void **state)
{
	(void)state;
	struct ul_catalog *cat = shipped();
	if (!cat)
		skip();
	struct lines l = generated_lines(cat, 12345);
	assert_true(l.n > 3000);
	size_t total = 0;
	for (size_t i = 0; i < l.n; i++)
		total += strlen(l.v[i]) + 1;
	char *text = tu_xmalloc(total + 1), *o = text;
	for (size_t i = 0; i < l.n; i++)
		o += sprintf(o, "%s\n", l.v[i]);
	struct ul_chunk c;
	ul_chunk_init(&c);
	chunk_of(&c, text);
	assert_int_equal(c.nlines, l.n);

	struct ul_classifier *ref = classifier(cat, false), *pf = classifier(cat, true);
	struct ul_hits ha, hb;
	ul_hits_init(&ha);
	ul_hits_init(&hb);
	struct ul_error err;
	size_t matched = 0, decided = 0;
	for (int f = 0; f < (int)ul_catalog_families(cat); f++) {
		for (int all = 0; all < 2; all++) {
			ul_error_clear(&err);
			assert_true(ul_classify_chunk(ref, (ul_family)f, &c, all, &ha, &err));
			assert_true(ul_classify_chunk(pf, (ul_family)f, &c, all, &hb, &err));
			compare_hits(cat, &c, &ha, &hb, (ul_family)f, all);
			matched += ha.n;
		}
		/* Decisive literals and the memo against every rule tried in order. */
		ul_error_clear(&err);
		assert_true(ul_classify_chunk(ref, (ul_family)f, &c, true, &ha, &err));
		for (int p = 0; p < 2; p++) {
			struct ul_classifier *fast = p ? pf : ref;
			assert_true(ul_classify_chunk(fast, (ul_family)f, &c, false, &hb, &err));
			same_rules(cat, &c, &ha, &hb, (ul_family)f);
		}
		decided += decisive_lines(cat, &c, (ul_family)f);
		/* Line by line with captures. */
		for (size_t i = 0; i < c.nlines; i++) {
			const char *s = c.text + c.lines[i].start;
			uint32_t ca[2 * UL_MAX_CAPS], cb[2 * UL_MAX_CAPS];
			long ra = ul_classify_line(ref, (ul_family)f, s, c.lines[i].len, ca);
			long rb = ul_classify_line(pf, (ul_family)f, s, c.lines[i].len, cb);
			if (ra != rb)
				fail_msg("family %s: line '%.*s': %s vs %s with prefilter",
				         ul_catalog_family_name(cat, (ul_family)f),
				         (int)c.lines[i].len, s, id_of(cat, ra), id_of(cat, rb));
			if (ra >= 0)
				assert_memory_equal(ca, cb, sizeof(ca));
			assert_int_equal(
			        ul_classify_line(pf, (ul_family)f, s, c.lines[i].len, NULL), rb);
		}
	}
	/* The generator must reach the rules and the shortcuts, or the comparison proves little. */
	assert_true(matched > l.n / 2);
	assert_true(decided > 100);
	ul_hits_finish(&ha);
	ul_hits_finish(&hb);
	ul_classifier_destroy(ref);
	ul_classifier_destroy(pf);
	ul_chunk_finish(&c);
	free(text);
	free_lines(&l);
	ul_catalog_destroy(cat);
}

/*
 * The prefilter belongs to the classifiers: one made with ul_classifier_share uses the same
 * databases, keeps them when the first one is gone, and finds what a plain PCRE2 run finds.
 */
static void shared_prefilter_outlives_its_first_classifier(void **state)
{
	(void)state;
	struct ul_catalog *cat = shipped();
	if (!cat)
		skip();
	struct lines l = generated_lines(cat, 777);
	size_t total = 0;
	for (size_t i = 0; i < l.n; i++)
		total += strlen(l.v[i]) + 1;
	char *text = tu_xmalloc(total + 1), *o = text;
	for (size_t i = 0; i < l.n; i++)
		o += sprintf(o, "%s\n", l.v[i]);
	struct ul_chunk c;
	ul_chunk_init(&c);
	chunk_of(&c, text);
	struct ul_error err;
	struct ul_classifier *ref = classifier(cat, false), *first = classifier(cat, true);
	struct ul_classifier *second = ul_classifier_share(first, &err);
	assert_non_null(second);
	assert_int_equal(ul_classifier_prefiltered(second), ul_classifier_prefiltered(first));
	struct ul_hits ha, hb;
	ul_hits_init(&ha);
	ul_hits_init(&hb);
	ul_family msi;
	assert_true(ul_catalog_family_find(cat, "msi", &msi));
	assert_true(ul_classify_chunk(first, msi, &c, true, &hb, &err)); /* builds msi's database */
	ul_classifier_destroy(first);
	for (ul_family f = 0; f < ul_catalog_families(cat); f++) {
		assert_true(ul_classify_chunk(ref, f, &c, true, &ha, &err));
		assert_true(ul_classify_chunk(second, f, &c, true, &hb, &err));
		compare_hits(cat, &c, &ha, &hb, f, true);
	}
	ul_hits_finish(&ha);
	ul_hits_finish(&hb);
	ul_classifier_destroy(second);
	ul_classifier_destroy(ref);
	ul_chunk_finish(&c);
	free(text);
	free_lines(&l);
	ul_catalog_destroy(cat);
}

/* Whatever state the prefilter's on-disk cache is in (cold, warm, damaged), hits stay the same. */
static void prefilter_cache_is_transparent(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	const char *was = getenv("UPGLOG_CACHE_DIR");
	char *saved = was ? tu_fmt("%s", was) : NULL;
	setenv("UPGLOG_CACHE_DIR", dir, 1);
	char *rules = tu_fmt("%s%s%s", prec_rules, cap_rules, chunk_rules);
	struct ul_chunk c;
	ul_chunk_init(&c);
	struct ul_hits ha, hb;
	ul_hits_init(&ha);
	ul_hits_init(&hb);
	struct ul_error err;
	char *kept[8] = { 0 }, *names[8] = { 0 };
	size_t kept_len[8] = { 0 }, nkept = 0;
	bool hyperscan = false;
	for (int round = 0; round < 4; round++) {
		if (round == 3) {
			/*
			 * A damaged mode byte (how Hyperscan takes a rule) must not pass for a good one:
			 * the file is rejected and written again as it was.
			 */
			DIR *d = opendir(dir);
			assert_non_null(d);
			for (struct dirent *e; (e = readdir(d)) && nkept < 8;) {
				if (e->d_name[0] == '.')
					continue;
				char *p = tu_join(dir, e->d_name);
				size_t len;
				char *bytes = tu_slurp(p, &len);
				const char *nl = memchr(bytes, '\n', len);
				assert_non_null(nl);
				size_t at = (size_t)(nl - bytes) + 1 +
				            8; /* after the magic and the count */
				assert_true(at < len);
				kept[nkept] = tu_xmalloc(len);
				memcpy(kept[nkept], bytes, len);
				kept_len[nkept] = len;
				names[nkept++] = tu_fmt("%s", e->d_name);
				bytes[at] ^= 3;
				free(tu_write(dir, e->d_name, bytes, len));
				free(bytes);
				free(p);
			}
			closedir(d);
		}
		if (round == 2) {
			/* Damage what the earlier rounds left: flip bytes, cut files short. */
			DIR *d = opendir(dir);
			assert_non_null(d);
			int k = 0;
			for (struct dirent *e; (e = readdir(d));) {
				if (e->d_name[0] == '.')
					continue;
				char *p = tu_join(dir, e->d_name);
				size_t len;
				char *bytes = tu_slurp(p, &len);
				if (len > 0 && k++ % 2 == 0)
					bytes[len / 2] ^= 0x5A;
				else
					len /= 3;
				free(tu_write(dir, e->d_name, bytes, len));
				free(bytes);
				free(p);
			}
			closedir(d);
		}
		struct ul_catalog *cat = build(rules);
		if (round == 0) {
			struct lines l = generated_lines(cat, 99);
			size_t total = 0;
			for (size_t i = 0; i < l.n; i++)
				total += strlen(l.v[i]) + 1;
			char *text = tu_xmalloc(total + 1), *o = text;
			for (size_t i = 0; i < l.n; i++)
				o += sprintf(o, "%s\n", l.v[i]);
			chunk_of(&c, text);
			free(text);
			free_lines(&l);
		}
		struct ul_classifier *ref = classifier(cat, false), *pf = classifier(cat, true);
		for (int f = 0; f < TU_FAM_COUNT; f++) {
			assert_true(ul_classify_chunk(ref, (ul_family)f, &c, true, &ha, &err));
			assert_true(ul_classify_chunk(pf, (ul_family)f, &c, true, &hb, &err));
			compare_hits(cat, &c, &ha, &hb, (ul_family)f, true);
		}
		/* Without Hyperscan there is no database, so nothing to cache. */
		hyperscan = ul_classifier_prefiltered(pf);
		ul_classifier_destroy(ref);
		ul_classifier_destroy(pf);
		ul_catalog_destroy(cat);
	}
	assert_true(hyperscan ? nkept > 0 : nkept == 0);
	for (size_t k = 0; k < nkept; k++) {
		char *p = tu_join(dir, names[k]);
		size_t len;
		char *bytes = tu_slurp(p, &len);
		assert_int_equal(len, kept_len[k]);
		assert_memory_equal(bytes, kept[k], len);
		free(bytes);
		free(p);
		free(kept[k]);
		free(names[k]);
	}
	ul_hits_finish(&ha);
	ul_hits_finish(&hb);
	ul_chunk_finish(&c);
	free(rules);
	if (saved)
		setenv("UPGLOG_CACHE_DIR", saved, 1);
	else
		unsetenv("UPGLOG_CACHE_DIR");
	free(saved);
	tu_rmrf(dir);
	free(dir);
}

/* ---- check ------------------------------------------------------------------------------- */

struct failures {
	size_t n;
	char text[16][300];
};

static void record(void *ctx, const struct ul_check_failure *f)
{
	struct failures *fs = ctx;
	assert_non_null(f->rule);
	assert_non_null(f->kind);
	assert_non_null(f->line);
	assert_non_null(f->reason);
	if (fs->n < 16)
		snprintf(fs->text[fs->n], sizeof(fs->text[0]), "%s|%s|%s|%s", f->rule->id, f->kind,
		         f->line, f->reason);
	fs->n++;
}

static bool has_failure(const struct failures *fs, const char *id, const char *kind,
                        const char *reason_part)
{
	char *prefix = tu_fmt("%s|%s|", id, kind);
	bool found = false;
	for (size_t i = 0; i < fs->n && i < 16 && !found; i++)
		found = strncmp(fs->text[i], prefix, strlen(prefix)) == 0 &&
		        strstr(fs->text[i] + strlen(prefix), reason_part);
	free(prefix);
	return found;
}

static void check_shipped_is_clean(void **state)
{
	(void)state;
	struct ul_catalog *cat = shipped();
	if (!cat)
		skip();
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		struct failures fs = { 0 };
		size_t n = ul_classify_check(cl, record, &fs);
		for (size_t i = 0; i < fs.n && i < 16; i++)
			print_message("check: %s\n", fs.text[i]);
		assert_int_equal(n, fs.n);
		assert_int_equal(n, 0);
		ul_classifier_destroy(cl);
	}
	ul_catalog_destroy(cat);
}

static const char bad_rules[] = "rule c.nomatch\n  severity error\n  family msi\n"
                                "  match ^alpha\n  sample beta\n"
                                "rule c.loser\n  severity error\n  family msi burn\n"
                                "  match ^gamma\n  sample gamma ray\n"
                                "rule c.winner\n  severity error\n  family msi\n  priority 5\n"
                                "  match ray$\n  sample x ray\n"
                                "rule c.notbad\n  severity error\n  family msi\n"
                                "  match ^delta\n  sample delta 1\n  not delta 2\n"
                                "  not epsilon\n"
                                "rule c.unport\n  severity error\n  family generic\n"
                                "  match ^eps(?=ilon)\n  sample epsilon\n"
                                "rule c.good\n  severity error\n  family any\n"
                                "  match ^zeta \\d+$\n  sample zeta 1\n  not zeta x\n";

static void check_reports_each_failure(void **state)
{
	(void)state;
	struct ul_catalog *cat = build(bad_rules);
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		struct failures fs = { 0 };
		size_t n = ul_classify_check(cl, record, &fs);
		for (size_t i = 0; i < fs.n && i < 16; i++)
			print_message("check: %s\n", fs.text[i]);
		assert_int_equal(n, 4);
		assert_int_equal(fs.n, 4);
		assert_true(has_failure(&fs, "c.nomatch", "sample", "not match"));
		assert_true(has_failure(&fs, "c.loser", "sample", "c.winner"));
		assert_true(has_failure(&fs, "c.notbad", "not", ""));
		assert_true(has_failure(&fs, "c.unport", "unportable", "look-around"));
		/* Without a callback the count is the same. */
		assert_int_equal(ul_classify_check(cl, NULL, NULL), 4);
		ul_classifier_destroy(cl);
	}
	ul_catalog_destroy(cat);
}

/* ---- sniff ------------------------------------------------------------------------------- */

/* The family the shipped catalogue gives a file with these first lines and this path. */
static const char *sniff_in(const struct ul_catalog *cat, const char *text, const char *path,
                            enum ul_encoding enc)
{
	struct ul_chunk c;
	ul_chunk_init(&c);
	chunk_of(&c, text);
	ul_family f = ul_classify_sniff(cat, &c, path, enc);
	ul_chunk_finish(&c);
	return ul_catalog_family_name(cat, f);
}

static struct ul_catalog *sniff_cat;

static const char *sniff(const char *text, const char *path)
{
	return sniff_in(sniff_cat, text, path, UL_ENC_UTF8);
}

static void sniff_families(void **state)
{
	(void)state;
	sniff_cat = shipped();
	if (!sniff_cat)
		skip();
	const char *verbose = "=== Verbose logging started: 7/18/2003  9:02:46  Build type: SHIP "
	                      "UNICODE 2.00.2600.1183  Calling process: C:\\WINNT\\msiexec.exe "
	                      "===\r\nMSI (c) (A0:EC): Resetting cached policy values\r\n";
	const char *msi_lines = "MSI (s) (A0:EC): Doing action: InstallFiles\r\n"
	                        "MSI (s) (A0:EC): Note: 1: 2205 2:  3: Error\r\n";
	const char *burn = "[1A24:1810][2016-02-08T00:08:24]i001: Burn v3.10.2.2516, Windows "
	                   "v6.3\r\n[1A24:1810][2016-02-08T00:08:24]i000: Initializing\r\n";
	const char *plain = "Starting setup\r\nCopying files\r\n";

	assert_string_equal(sniff(verbose, "dump/install.log"), "msi");
	assert_string_equal(sniff(msi_lines, "dump/x.txt"), "msi");
	/* What the lines say beats the name. */
	assert_string_equal(sniff(msi_lines, "C:\\WINNT\\sqlstp.log"), "msi");
	assert_string_equal(sniff(burn, "dump/Foo_20160208.log"), "burn");
	assert_string_equal(sniff(plain, "C:\\WINNT\\sqlstp.log"), "sql");
	assert_string_equal(sniff(plain, "dump/SQLSTP.LOG"), "sql");
	assert_string_equal(sniff(plain, "bundle.zip!WINNT/sqlstp.log"), "sql");
	/* An escaped '!' or '\' is part of the name (stored paths write them `\xNN`). */
	assert_string_equal(sniff(plain, "bundle.zip!WINNT/sqlstp\\x21old.log"), "sql");
	assert_string_equal(sniff(plain, "dump/a\\x5csqlstp.log"), "generic");
	assert_string_equal(sniff(plain, "C:\\Dcdsrvr\\log\\trace.txt"), "dcd");
	assert_string_equal(sniff(plain, "srv/dcdsrvr/log/dcx500.log"), "dcd");
	assert_string_equal(sniff(plain, "srv\\Program Files\\Common Files\\Cisco\\Logs\\x.log"),
	                    "cisco");
	assert_string_equal(sniff(plain, "b.zip!Program Files/Common Files/Cisco/Logs/MIVR/a.log"),
	                    "cisco");
	assert_string_equal(sniff(plain, "dump/notes.txt"), "generic");
	assert_string_equal(sniff("", "dump/notes.txt"), "generic");
	assert_string_equal(ul_catalog_family_name(sniff_cat, ul_classify_sniff(sniff_cat, NULL,
	                                                                        NULL, UL_ENC_UTF8)),
	                    "generic");
	struct ul_chunk empty;
	ul_chunk_init(&empty);
	assert_string_equal(
	        ul_catalog_family_name(sniff_cat,
	                               ul_classify_sniff(sniff_cat, &empty, "x.log", UL_ENC_UTF8)),
	        "generic");
	/* Only the start of a line counts. */
	assert_string_equal(sniff("note: MSI (s) (A0:EC): quoted\r\n", "x.log"), "generic");

	/* InstallShield: the engine and launcher prefix, any AM/PM token; the silent result file. */
	assert_string_equal(
	        sniff("11-13-2023[02:54:03 p. m.]: *** InstallShield suite engine (Unicode) "
	              "started\r\n",
	              "Temp/InstallShield.log"),
	        "installshield");
	assert_string_equal(
	        sniff("1-23-2009[01:10:12 PM]: InstallShield setup.exe (Unicode) started\r\n",
	              "x.log"),
	        "installshield");
	assert_string_equal(sniff("[InstallShield Silent]\r\nVersion=v7.00\r\nFile=Log File\r\n",
	                          "C:\\WINNT\\setup.log"),
	                    "installshield");
	assert_string_equal(sniff("1-23-2009[01:10:12]: no AM/PM\r\n", "x.log"), "installshield");
	assert_string_equal(sniff("1-23-09[01:10:12 PM]: two-digit year\r\n", "x.log"), "generic");
	assert_string_equal(sniff("x [InstallShield Silent]\r\n", "x.log"), "generic");
	/* Inno Setup writes Setup.log too; other installers' Setup.log is no SQL Server log. */
	assert_string_equal(
	        sniff("2023-09-18 21:24:59.701   Log opened. (Time zone: UTC+05:30)\r\n"
	              "2023-09-18 21:24:59.701   Setup version: Inno Setup version 5.5.9 "
	              "(u)\r\n",
	              "C:\\Setup.log"),
	        "inno");
	assert_string_equal(
	        sniff("Setup Log of: Zorro\r\nComposer Version: 3.1\r\n", "x/Setup.log"),
	        "generic");
	/* An encoding hint: a UTF-16 file named like the launcher's default log is InstallShield's,
	 * the same name in UTF-8 with nothing recognisable is not. */
	assert_string_equal(
	        sniff_in(sniff_cat, "garbled\r\n", "Temp/InstallShield.log", UL_ENC_UTF16LE),
	        "installshield");
	assert_string_equal(
	        sniff_in(sniff_cat, "garbled\r\n", "Temp/InstallShield.log", UL_ENC_UTF8),
	        "generic");
	/* A tie between families with as many lines each: the higher priority (msi) wins. */
	assert_string_equal(sniff("MSI (s) (A0:EC): Doing action: InstallFiles\r\n"
	                          "[1A24:1810][2016-02-08T00:08:24]i000: Initializing\r\n",
	                          "x.log"),
	                    "msi");
	ul_catalog_destroy(sniff_cat);
	sniff_cat = NULL;
}

/* ---- match limit ------------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char limit_rules[] = "rule l.evil\n  severity error\n  family generic\n"
                                  "  match ^(a+)+$\n  sample aaaa\n"
                                  "rule l.fine\n  severity info\n  family generic\n"
                                  "  match ^x\n  sample x\n";

static void match_limit_is_no_match(void **state)
{
	(void)state;
	struct ul_catalog *cat = build(limit_rules);
	char evil[64];
	memset(evil, 'a', 40);
	strcpy(evil + 40, "b");
	char *text = tu_fmt("aaaa\n%s\nx\n%s", evil, evil);
	struct ul_chunk c;
	ul_chunk_init(&c);
	chunk_of(&c, text);
	struct ul_hits h;
	ul_hits_init(&h);
	struct ul_error err;
	for (int pf = 0; pf < 2; pf++) {
		struct ul_classifier *cl = classifier(cat, pf);
		double t0 = now();
		ul_error_clear(&err);
		assert_true(ul_classify_chunk(cl, TU_FAM_GENERIC, &c, true, &h, &err));
		double took = now() - t0;
		assert_true(took < 5.0);
		assert_int_equal(h.n, 2);
		assert_string_equal(id_of(cat, h.v[0].rule), "l.evil");
		assert_int_equal(h.v[0].line, 0);
		assert_string_equal(id_of(cat, h.v[1].rule), "l.fine");
		assert_int_equal(h.v[1].line, 2);
		if (!pf)
			assert_int_equal(h.limit_errors, 2);
		assert_int_equal(line(cl, TU_FAM_GENERIC, evil, NULL), -1);
		ul_classifier_destroy(cl);
	}
	ul_hits_finish(&h);
	ul_chunk_finish(&c);
	free(text);
	ul_catalog_destroy(cat);
}

/* A line on which PCRE2 gives up gets the same verdict with and without the prefilter. */
/*
 * The one documented difference between the paths (classify.h): where PCRE2 gives up on a
 * line (match limit), the reference path counts it and takes the line as no match; with the
 * prefilter, Hyperscan's exact answer stands. The shipped catalogue never gets near the limit.
 */
static void match_limit_counted_and_prefilter_exact(void **state)
{
	(void)state;
	struct ul_catalog *cat = build("rule l.alt\n  severity noise\n  family generic\n"
	                               "  match ^(a+)+$|zzz\n  sample zzz\n");
	char evil[64];
	memset(evil, 'a', 40);
	strcpy(evil + 40, "b zzz");
	struct ul_classifier *ref = classifier(cat, false), *pf = classifier(cat, true);
	struct ul_chunk chunk;
	struct ul_hits hits;
	struct ul_error err;
	ul_chunk_init(&chunk);
	ul_hits_init(&hits);
	assert_true(ul_decode_block(UL_ENC_UTF8, evil, strlen(evil), 4096, 0, &chunk));
	assert_true(ul_classify_chunk(ref, TU_FAM_GENERIC, &chunk, false, &hits, &err));
	assert_int_equal(hits.n, 0);
	assert_true(hits.limit_errors > 0);
	if (ul_classifier_prefiltered(pf)) {
		assert_true(ul_classify_chunk(pf, TU_FAM_GENERIC, &chunk, false, &hits, &err));
		assert_int_equal(hits.n, 1);
	}
	ul_hits_finish(&hits);
	ul_chunk_finish(&chunk);
	ul_classifier_destroy(ref);
	ul_classifier_destroy(pf);
	ul_catalog_destroy(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(precedence),
		cmocka_unit_test(shortcuts_fall_through),
		cmocka_unit_test(captures_in_slot_order),
		cmocka_unit_test(classify_chunk_captures),
		cmocka_unit_test(msi_prefix_grammar),
		cmocka_unit_test(msi_prefix_is_invisible_to_rules),
		cmocka_unit_test(prefilter_same_hits_across_line_ends),
		cmocka_unit_test(prefilter_same_hits_shipped),
		cmocka_unit_test(shared_prefilter_outlives_its_first_classifier),
		cmocka_unit_test(prefilter_cache_is_transparent),
		cmocka_unit_test(check_shipped_is_clean),
		cmocka_unit_test(check_reports_each_failure),
		cmocka_unit_test(sniff_families),
		cmocka_unit_test(match_limit_is_no_match),
		cmocka_unit_test(match_limit_counted_and_prefilter_exact),
	};
	/* No prefilter cache in the user's home from a test run, unless the runner names one. */
	setenv("UPGLOG_CACHE_DIR", "", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
