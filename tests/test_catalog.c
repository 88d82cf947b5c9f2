/* SPDX-License-Identifier: MIT */
/* catalog: rule parsing, errors, precedence, export and portability (upglog/catalog.h). */
#include "testutil.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "catalog_impl.h"
#include "lead.h"
#include "upglog/catalog.h"

/* A catalogue from one or more texts, compiled; fails the test on any error. */
static struct ul_catalog *build(const char *const *texts, size_t n)
{
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	assert_non_null(cat);
	if (!ul_catalog_add_text(cat, "families.rules", TU_FAMILIES, strlen(TU_FAMILIES), &err))
		fail_msg("families: %s", err.msg);
	for (size_t i = 0; i < n; i++) {
		char *origin = tu_fmt("text%zu.rules", i);
		ul_error_clear(&err);
		if (!ul_catalog_add_text(cat, origin, texts[i], strlen(texts[i]), &err))
			fail_msg("add %s: %s", origin, err.msg);
		free(origin);
	}
	if (!ul_catalog_compile(cat, &err))
		fail_msg("compile: %s", err.msg);
	return cat;
}

static struct ul_catalog *build1(const char *text)
{
	return build(&text, 1);
}

/* The error of a catalogue that must fail (adding or compiling). */
static struct ul_error fail_with(const char *origin, const char *text)
{
	struct ul_error err;
	ul_error_clear(&err);
	struct ul_catalog *cat = ul_catalog_new();
	assert_non_null(cat);
	bool ok =
	        ul_catalog_add_text(cat, "families.rules", TU_FAMILIES, strlen(TU_FAMILIES), &err);
	assert_true(ok);
	ok = ul_catalog_add_text(cat, origin, text, strlen(text), &err);
	if (ok) {
		assert_false(ul_error_is_set(&err));
		ok = ul_catalog_compile(cat, &err);
	}
	ul_catalog_destroy(cat);
	if (ok)
		fail_msg("catalogue was accepted:\n%s", text);
	assert_true(ul_error_is_set(&err));
	assert_null(strchr(err.msg, '\n'));
	return err;
}

static const char *rule_id(const struct ul_catalog *cat, size_t i)
{
	const struct ul_rule *r = ul_catalog_rule(cat, i);
	assert_non_null(r);
	return r->id;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static const char full_rule[] = "# a comment\n"
                                "\n"
                                "rule msi.action-failed\n"
                                "  severity   catastrophic\n"
                                "  family     msi burn\n"
                                "  event      action-end\n"
                                "  priority   20\n"
                                "  evidence   verified\n"
                                "  match      ^Action ended (\\d+:\\d\\d:\\d\\d): "
                                "(?<action>[^ .]+)\\. Return value (?<rv>3)\\.(?: "
                                "(?<extra>x))?\n"
                                "  title      Installer action {action} failed   \n"
                                "  explain    The action returned 3;\n"
                                "\t# an indented comment\n"
                                "  explain    the cause is inside it.\n"
                                "  fix        Read upward.\n"
                                "  fix        Then fix it.\n"
                                "  code       1603\n"
                                "  sample     Action ended 14:23:05: InstallFinalize. Return "
                                "value 3.\n"
                                "  sample     Action ended 9:02:46: Foo. Return value 3.\n"
                                "  not        Action ended 14:23:05: InstallFinalize. Return "
                                "value 1.\n";

static void parse_every_field(void **state)
{
	(void)state;
	struct ul_catalog *cat = build1(full_rule);
	assert_int_equal(ul_catalog_count(cat), 1);
	const struct ul_rule *r = ul_catalog_rule(cat, 0);
	assert_non_null(r);
	assert_string_equal(r->id, "msi.action-failed");
	assert_int_equal(r->severity, UL_SEV_CATASTROPHIC);
	assert_int_equal(r->families, 1u << TU_FAM_MSI | 1u << TU_FAM_BURN);
	assert_int_equal(r->event, UL_EV_ACTION_END);
	assert_int_equal(r->priority, 20);
	assert_string_equal(r->evidence, "verified");
	assert_string_equal(r->match, "^Action ended (\\d+:\\d\\d:\\d\\d): (?<action>[^ .]+)\\. "
	                              "Return value (?<rv>3)\\.(?: (?<extra>x))?");
	assert_string_equal(r->title, "Installer action {action} failed");
	assert_string_equal(r->explain, "The action returned 3; the cause is inside it.");
	assert_string_equal(r->fix, "Read upward. Then fix it.");
	assert_non_null(r->code);
	assert_string_equal(r->code, "1603");
	assert_string_equal(r->origin, "text0.rules");
	assert_int_equal(r->line, 3);
	assert_int_equal(r->nsamples, 2);
	assert_string_equal(r->samples[0],
	                    "Action ended 14:23:05: InstallFinalize. Return value 3.");
	assert_string_equal(r->samples[1], "Action ended 9:02:46: Foo. Return value 3.");
	assert_int_equal(r->nnots, 1);
	assert_string_equal(r->nots[0], "Action ended 14:23:05: InstallFinalize. Return value 1.");

	/* Three named groups; group 1 is unnamed, so action = 2, rv = 3, extra = 4. */
	assert_int_equal(r->ncaps, 3);
	bool seen[3] = { false, false, false };
	for (unsigned i = 0; i < r->ncaps; i++) {
		const char *n = r->cap_names[i];
		if (strcmp(n, "action") == 0) {
			assert_int_equal(r->cap_group[i], 2);
			assert_int_equal(r->known[UL_CAP_ACTION], (int)i);
			seen[0] = true;
		} else if (strcmp(n, "rv") == 0) {
			assert_int_equal(r->cap_group[i], 3);
			assert_int_equal(r->known[UL_CAP_RV], (int)i);
			seen[1] = true;
		} else if (strcmp(n, "extra") == 0) {
			assert_int_equal(r->cap_group[i], 4);
			seen[2] = true;
		} else {
			fail_msg("unexpected capture name '%s'", n);
		}
	}
	assert_true(seen[0] && seen[1] && seen[2]);
	assert_int_equal(r->known[UL_CAP_CODE], -1);
	assert_int_equal(r->known[UL_CAP_TIME], -1);
	assert_int_equal(r->known[UL_CAP_DATE], -1);
	assert_int_equal(r->known[UL_CAP_PRODUCT], -1);
	assert_int_equal(ul_catalog_find(cat, "msi.action-failed"), 0);
	assert_int_equal(ul_catalog_find(cat, "msi.nope"), -1);
	ul_catalog_destroy(cat);
}

/* Unset optional keys: documented defaults, never NULL strings. */
static void optional_keys_default(void **state)
{
	(void)state;
	struct ul_catalog *cat = build1("rule x.min\n"
	                                "  severity warning\n"
	                                "  family generic\n"
	                                "  match ^boom\n"
	                                "  sample boom\n");
	const struct ul_rule *r = ul_catalog_rule(cat, 0);
	assert_int_equal(r->severity, UL_SEV_WARNING);
	assert_int_equal(r->families, 1u << TU_FAM_GENERIC);
	assert_int_equal(r->event, UL_EV_NONE);
	assert_int_equal(r->priority, 0);
	assert_string_equal(r->evidence, "inferred");
	assert_non_null(r->explain);
	assert_string_equal(r->explain, "");
	assert_non_null(r->fix);
	assert_string_equal(r->fix, "");
	assert_null(r->code);
	assert_int_equal(r->nnots, 0);
	assert_int_equal(r->ncaps, 0);
	for (int k = 0; k < UL_CAP_KNOWN; k++)
		assert_int_equal(r->known[k], -1);
	ul_catalog_destroy(cat);
}

/* catalog.h: an unset title is the rule's id (reports always have something to show). */
static void unset_title_is_the_id(void **state)
{
	(void)state;
	struct ul_catalog *cat = build1("rule x.untitled\n"
	                                "  severity info\n"
	                                "  family any\n"
	                                "  match ^boom\n"
	                                "  sample boom\n");
	const struct ul_rule *r = ul_catalog_rule(cat, 0);
	assert_non_null(r->title);
	assert_string_equal(r->title, "x.untitled");
	ul_catalog_destroy(cat);
}

static void family_words(void **state)
{
	(void)state;
	struct ul_catalog *cat = build1("rule a.any\n  severity info\n  family any\n"
	                                "  match ^a\n  sample a\n"
	                                "rule a.list\n  severity info\n  family sql, dcd\tcisco\n"
	                                "  match ^b\n  sample b\n");
	assert_int_equal(ul_catalog_rule(cat, 0)->families, UL_FAM_ANY);
	assert_int_equal(ul_catalog_rule(cat, 1)->families,
	                 1u << TU_FAM_SQL | 1u << TU_FAM_DCD | 1u << TU_FAM_CISCO);
	ul_catalog_destroy(cat);
}

static void family_sets_as_text(void **state)
{
	(void)state;
	struct ul_catalog *cat = build1("rule a.any\n  severity info\n  family any\n"
	                                "  match ^a\n  sample a\n");
	char buf[64];
	ul_catalog_family_set_format(cat, UL_FAM_ANY, ",", buf, sizeof(buf));
	assert_string_equal(buf, "any");
	ul_catalog_family_set_format(cat, 1u << TU_FAM_MSI | 1u << TU_FAM_CISCO, " ", buf,
	                             sizeof(buf));
	assert_string_equal(buf, "msi cisco");
	ul_catalog_family_set_format(cat,
	                             1u << TU_FAM_SQL | 1u << TU_FAM_DCD | 1u << TU_FAM_GENERIC,
	                             ",", buf, sizeof(buf));
	assert_string_equal(buf, "sql,dcd,generic");
	ul_catalog_family_set_format(cat, 0, ",", buf, sizeof(buf));
	assert_string_equal(buf, "");
	ul_catalog_family_set_format(cat, 1u << TU_FAM_MSI | 1u << TU_FAM_BURN, ",", buf, 6);
	assert_string_equal(buf, "msi,b"); /* cut, still terminated */
	ul_catalog_destroy(cat);
}

static void names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < UL_SEV_COUNT; s++) {
		enum ul_severity out;
		assert_true(ul_severity_parse(ul_severity_name((enum ul_severity)s), &out));
		assert_int_equal(out, s);
	}
	for (int m = 0; m < UL_MODEL_COUNT; m++)
		assert_string_not_equal(ul_verdict_model_name((enum ul_verdict_model)m), "?");
	for (int e = 0; e < UL_EV_COUNT; e++) {
		enum ul_event out;
		assert_true(ul_event_parse(ul_event_name((enum ul_event)e), &out));
		assert_int_equal(out, e);
	}
	assert_string_equal(ul_severity_name(UL_SEV_NOISE), "noise");
	assert_string_equal(ul_severity_name(UL_SEV_CATASTROPHIC), "catastrophic");
	assert_string_equal(ul_event_name(UL_EV_ACTION_END), "action-end");
	assert_string_equal(ul_event_name(UL_EV_SUMMARY), "summary");
	enum ul_severity s;
	enum ul_event e;
	assert_false(ul_severity_parse("fatal", &s));
	assert_false(ul_severity_parse("Error", &s));
	assert_false(ul_event_parse("explode", &e));
}

/* ---- errors ------------------------------------------------------------------------------ */

#define RULE_HEAD "rule t.x\n"
#define OK_KEYS   "  severity error\n  family msi\n  match ^boom (?<code>\\d+)\n  sample boom 12\n"

struct bad_case {
	const char *name;
	const char *text;
	unsigned line;      /* expected line in "bad.rules:LINE:" */
	const char *reason; /* expected fragment of the message */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", RULE_HEAD OK_KEYS "  colour red\n", 6, "colour" },
	{ "key outside a rule", "# header\n  severity error\n", 2, "rule" },
	{ "text at column 0", "rules t.x\n" OK_KEYS, 1, "rule" },
	{ "missing severity", "\n" RULE_HEAD "  family msi\n  match ^a\n  sample a\n", 2,
	  "severity" },
	{ "missing family", RULE_HEAD "  severity error\n  match ^a\n  sample a\n", 1, "family" },
	{ "missing match", RULE_HEAD "  severity error\n  family msi\n  sample a\n", 1, "match" },
	{ "missing sample", RULE_HEAD "  severity error\n  family msi\n  match ^a\n", 1, "sample" },
	{ "missing sample, second rule",
	  RULE_HEAD OK_KEYS "rule t.y\n  severity error\n  family msi\n  match ^a\n", 6, "sample" },
	{ "bad severity", RULE_HEAD "  severity fatal\n  family msi\n  match ^a\n  sample a\n", 2,
	  "fatal" },
	{ "undeclared family",
	  RULE_HEAD "  severity error\n  family msi windows\n  match ^a\n"
	            "  sample a\n",
	  1, "windows" },
	{ "bad family name", "family Bad\n", 1, "Bad" },
	{ "family named any", "family any\n", 1, "any" },
	{ "family: unknown key", "family x\n  colour red\n", 2, "colour" },
	{ "family: unknown verdict", "family x\n  verdict maybe\n", 2, "maybe" },
	{ "family: unknown event", "family x\n  decides explode\n", 2, "explode" },
	{ "family: unknown encoding", "family x\n  encoding ebcdic\n", 2, "ebcdic" },
	{ "family: duplicate verdict", "family x\n  verdict msi\n  verdict runs\n", 3,
	  "duplicate" },
	{ "family: bad fallback", "family x\n  fallback maybe\n", 2, "fallback" },
	{ "family: bad line pattern", "\nfamily x\n  line ^(abc\n" RULE_HEAD OK_KEYS, 2, "offset" },
	{ "family: a second fallback", "family x\n  fallback yes\n" RULE_HEAD OK_KEYS, 1,
	  "fallback" },
	{ "bad event", RULE_HEAD OK_KEYS "  event explode\n", 6, "explode" },
	{ "bad evidence", RULE_HEAD OK_KEYS "  evidence rumour\n", 6, "evidence" },
	{ "bad priority word", RULE_HEAD OK_KEYS "  priority high\n", 6, "priority" },
	{ "bad priority suffix", RULE_HEAD OK_KEYS "  priority 5x\n", 6, "priority" },
	{ "priority out of range", RULE_HEAD OK_KEYS "  priority 99999\n", 6, "priority" },
	{ "key without value", RULE_HEAD OK_KEYS "  title\n", 6, "title" },
	{ "upper-case id", "rule Msi.Bad\n" OK_KEYS, 1, "Msi.Bad" },
	{ "id with a slash", "rule msi/bad\n" OK_KEYS, 1, "msi/bad" },
	{ "id starting with a dash", "rule -x\n" OK_KEYS, 1, "-x" },
	{ "rule without id", "rule\n" OK_KEYS, 1, "rule" },
	{ "duplicate match", RULE_HEAD OK_KEYS "  match ^other\n", 6, "duplicate" },
	{ "duplicate severity", RULE_HEAD OK_KEYS "  severity info\n", 6, "duplicate" },
	{ "duplicate family", RULE_HEAD OK_KEYS "  family burn\n", 6, "duplicate" },
	{ "duplicate title", RULE_HEAD OK_KEYS "  title a\n  title b\n", 7, "duplicate" },
	{ "pcre2 syntax",
	  "\n\n" RULE_HEAD "  severity error\n  family msi\n  match ^(abc\n"
	  "  sample abc\n",
	  3, "offset" },
	{ "matches the empty line",
	  RULE_HEAD "  severity error\n  family msi\n  match ^x*$\n"
	            "  sample xx\n",
	  1, "empty" },
	{ "matches the empty line, alternation",
	  RULE_HEAD "  severity error\n  family msi\n  match boom|\n  sample boom\n", 1, "empty" },
	{ "nine named groups",
	  RULE_HEAD "  severity error\n  family msi\n"
	            "  match (?<a>a)(?<b>b)(?<c>c)(?<d>d)(?<e>e)(?<f>f)(?<g>g)(?<h>h)(?<i>i)\n"
	            "  sample abcdefghi\n",
	  1, "8" },
	{ "title names an unknown group", RULE_HEAD OK_KEYS "  title Failed with {nope}\n", 1,
	  "nope" },
	{ "action-end without rv",
	  RULE_HEAD "  severity error\n  family msi\n  event action-end\n"
	            "  match ^Action ended (?<action>\\w+)\n  sample Action ended X\n",
	  1, "rv" },
	{ "action-end without action",
	  RULE_HEAD "  severity error\n  family msi\n  event action-end\n"
	            "  match ^Action ended (?<rv>\\d+)\n  sample Action ended 3\n",
	  1, "action" },
};

static void errors_name_origin_line_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct ul_error err = fail_with("bad.rules", c->text);
		char *where = tu_fmt("bad.rules:%u:", c->line);
		if (strncmp(err.msg, where, strlen(where)) != 0 || !strstr(err.msg, c->reason))
			fail_msg("%s: message '%s' should start with '%s' and name '%s'", c->name,
			         err.msg, where, c->reason);
		free(where);
		assert_string_equal(err.kind, "rules");
	}
}

/* A PCRE2 error names the reason, not only the offset. */
static void pcre2_error_message(void **state)
{
	(void)state;
	struct ul_error err = fail_with("p.rules", RULE_HEAD "  severity error\n  family msi\n"
	                                                     "  match ^a[bc\n  sample ab\n");
	assert_true(tu_contains(err.msg, "t.x"));
	assert_true(tu_contains(err.msg, "missing terminating ]"));
	assert_true(tu_contains(err.msg, "offset 5"));
}

/* ---- precedence and replacement ---------------------------------------------------------- */

#define R(id, prio, pat)                                                                  \
	"rule " id "\n  severity error\n  family msi\n  priority " #prio "\n  match " pat \
	"\n  sample " pat "\n"

static void precedence_priority_then_load_order(void **state)
{
	(void)state;
	const char *texts[] = {
		R("r.a", 0, "a") R("r.b", 10, "b") R("r.c", -10, "c"),
		R("r.d", 10, "d") R("r.e", 0, "e") R("r.f", 1000, "f"),
	};
	struct ul_catalog *cat = build(texts, 2);
	const char *want[] = { "r.f", "r.b", "r.d", "r.a", "r.e", "r.c" };
	assert_int_equal(ul_catalog_count(cat), 6);
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(rule_id(cat, i), want[i]);
		assert_int_equal(ul_catalog_find(cat, want[i]), (long)i);
	}
	assert_null(ul_catalog_rule(cat, 6));
	ul_catalog_destroy(cat);
}

static void same_id_replaces_in_place(void **state)
{
	(void)state;
	const char *texts[] = {
		R("r.a", 0, "a") R("r.b", 0, "b") R("r.c", 0, "c"),
		/* r.b again (same priority): keeps its place between a and c. r.c again with a
		 * higher priority: moves first. */
		R("r.b", 0, "bee") R("r.c", 5, "sea"),
	};
	struct ul_catalog *cat = build(texts, 2);
	assert_int_equal(ul_catalog_count(cat), 3);
	assert_string_equal(rule_id(cat, 0), "r.c");
	assert_string_equal(rule_id(cat, 1), "r.a");
	assert_string_equal(rule_id(cat, 2), "r.b");
	assert_string_equal(ul_catalog_rule(cat, 1)->match, "a");
	assert_string_equal(ul_catalog_rule(cat, 2)->match, "bee");
	assert_string_equal(ul_catalog_rule(cat, 2)->origin, "text1.rules");
	assert_string_equal(ul_catalog_rule(cat, 0)->match, "sea");
	assert_int_equal(ul_catalog_rule(cat, 0)->priority, 5);
	ul_catalog_destroy(cat);

	/* Replaced with a lower priority: behind rules of the old priority. */
	const char *texts2[] = { R("r.a", 0, "a") R("r.b", 0, "b"), R("r.a", -1, "aa") };
	cat = build(texts2, 2);
	assert_string_equal(rule_id(cat, 0), "r.b");
	assert_string_equal(rule_id(cat, 1), "r.a");
	ul_catalog_destroy(cat);
}

#define F(id, fam, pat) \
	"rule " id "\n  severity error\n  family " fam "\n  match " pat "\n  sample " pat "\n"

static void family_lists(void **state)
{
	(void)state;
	const char *text = F("f.msi", "msi", "a") F("f.burn", "burn", "b") F("f.any", "any", "c")
	        F("f.msisql", "msi sql",
	          "d") "rule f.first\n  severity error\n  family sql\n  priority 9\n  match e\n"
	               "  sample e\n";
	struct ul_catalog *cat = build1(text);
	struct {
		ul_family fam;
		const char *ids[4];
		size_t n;
	} want[] = {
		{ TU_FAM_MSI, { "f.msi", "f.any", "f.msisql" }, 3 },
		{ TU_FAM_BURN, { "f.burn", "f.any" }, 2 },
		{ TU_FAM_SQL, { "f.first", "f.any", "f.msisql" }, 3 },
		{ TU_FAM_DCD, { "f.any" }, 1 },
		{ TU_FAM_CISCO, { "f.any" }, 1 },
		{ TU_FAM_GENERIC, { "f.any" }, 1 },
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		size_t n = 99;
		const uint32_t *ranks = ul_catalog_family(cat, want[k].fam, &n);
		assert_int_equal(n, want[k].n);
		for (size_t i = 0; i < n; i++) {
			assert_non_null(ranks);
			assert_string_equal(rule_id(cat, ranks[i]), want[k].ids[i]);
			if (i > 0)
				assert_true(ranks[i] > ranks[i - 1]);
		}
	}
	ul_catalog_destroy(cat);
}

/* ---- hash -------------------------------------------------------------------------------- */

static char *hash_of(const char *text)
{
	struct ul_catalog *cat = build1(text);
	const char *h = ul_catalog_hash(cat);
	assert_non_null(h);
	assert_int_equal(strlen(h), 16);
	assert_int_equal(strspn(h, "0123456789abcdef"), 16);
	char *copy = tu_fmt("%s", h);
	ul_catalog_destroy(cat);
	return copy;
}

static void hash_follows_rules(void **state)
{
	(void)state;
	const char *base = "rule h.a\n  severity error\n  family msi\n  match ^boom\n"
	                   "  title Boom\n  sample boom\n";
	const char *variants[] = {
		"rule h.b\n  severity error\n  family msi\n  match ^boom\n  title Boom\n  sample "
		"boom\n",
		"rule h.a\n  severity warning\n  family msi\n  match ^boom\n  title Boom\n"
		"  sample boom\n",
		"rule h.a\n  severity error\n  family burn\n  match ^boom\n  title Boom\n"
		"  sample boom\n",
		"rule h.a\n  severity error\n  family msi\n  match ^booom\n  title Boom\n"
		"  sample booom\n",
		"rule h.a\n  severity error\n  family msi\n  match ^boom\n  title Bang\n"
		"  sample boom\n",
		"rule h.a\n  severity error\n  family msi\n  match ^boom\n  title Boom\n"
		"  priority 1\n  sample boom\n",
		"rule h.a\n  severity error\n  family msi\n  match ^boom\n  title Boom\n"
		"  code 1603\n  sample boom\n",
		"rule h.a\n  severity error\n  family msi\n  match ^boom\n  title Boom\n"
		"  event rollback\n  sample boom\n",
		"rule h.a\n  severity error\n  family msi\n  match ^boom\n  title Boom\n"
		"  explain More words.\n  sample boom\n",
	};
	char *h0 = hash_of(base);
	char *again = hash_of(base);
	assert_string_equal(h0, again);
	free(again);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		char *h = hash_of(variants[i]);
		if (strcmp(h, h0) == 0)
			fail_msg("variant %zu keeps the catalogue hash:\n%s", i, variants[i]);
		free(h);
	}
	/* Comments and blank lines are not part of a rule. */
	char *with_comment = tu_fmt("# comment\n\n%s\n# end\n", base);
	char *h = hash_of(with_comment);
	assert_string_equal(h, h0);
	free(h);
	free(with_comment);
	free(h0);
}

/* ---- export and portability -------------------------------------------------------------- */

static char *export_of(const char *pattern)
{
	char *text = tu_fmt("rule e.x\n  severity info\n  family any\n  match %s\n  sample zz\n",
	                    pattern);
	struct ul_catalog *cat = build1(text);
	char buf[1024];
	assert_true(ul_catalog_export_regex(cat, 0, buf, sizeof(buf)));
	ul_catalog_destroy(cat);
	free(text);
	return tu_fmt("%s", buf);
}

/* Unanchored patterns: named groups become plain groups, nothing else changes. */
static void export_drops_group_names(void **state)
{
	(void)state;
	struct {
		const char *in, *out;
	} cases[] = {
		{ "zz(?<code>\\d+) (?P<action>\\w+)$", "zz(\\d+) (\\w+)$" },
		{ "Action ended (?<time>[^ ]+): (?<action>[^ .]+)\\.",
		  "Action ended ([^ ]+): ([^ .]+)\\." },
		/* Inside a class, "(?<" is three plain characters. */
		{ "zz[(?<x>)]+", "zz[(?<x>)]+" },
		{ "zz[a(?P<n>]+(?<v>q)?", "zz[a(?P<n>]+(q)?" },
		/* An escaped parenthesis opens no group. */
		{ "zz\\(?<n>", "zz\\(?<n>" },
		/* Non-capturing groups and flags stay. */
		{ "(?i)zz(?:a|b)?", "(?i)zz(?:a|b)?" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = export_of(cases[i].in);
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("export of '%s' is '%s', expected '%s'", cases[i].in, got,
			         cases[i].out);
		free(got);
	}
}

static pcre2_code *compile_export(const char *re)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c =
	        pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
	if (!c) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		fail_msg("exported '%s' does not compile: %s at %zu", re, (const char *)msg,
		         (size_t)off);
	}
	return c;
}

static bool re_matches(pcre2_code *c, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
	int rc = pcre2_match(c, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/*
 * Anchored patterns are exported for whole lines: the Windows Installer engine prefix may stand
 * in front (catalog.h). The export has no named groups and as many groups as the rule.
 */
static void export_anchored_takes_msi_prefix(void **state)
{
	(void)state;
	char *re = export_of("^Doing action: (?<action>\\w+)(?P<dot>\\.)?$");
	pcre2_code *c = compile_export(re);
	uint32_t names = 99, groups = 0;
	pcre2_pattern_info(c, PCRE2_INFO_NAMECOUNT, &names);
	pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &groups);
	assert_int_equal(names, 0);
	assert_int_equal(groups, 2);
	const char *yes[] = {
		"Doing action: InstallFiles",
		"Doing action: InstallFiles.",
		"MSI (s) (D0:A0) [21:24:37:486]: Doing action: InstallFiles",
		"MSI (c) (A0:EC): Doing action: InstallFiles",
		"MSI (s) (A0!EC): Doing action: InstallFiles",
	};
	const char *no[] = {
		"x Doing action: InstallFiles",
		"MSI (s) (A0:EC): x Doing action: InstallFiles",
		"MSI (s) (A0:EC): Doing action: Install Files",
		"Doing action: ",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!re_matches(c, yes[i]))
			fail_msg("export '%s' misses '%s'", re, yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (re_matches(c, no[i]))
			fail_msg("export '%s' matches '%s'", re, no[i]);
	pcre2_code_free(c);
	free(re);
}

/* A class that starts with ']' holds it as a character: "(?<" after it is still in the class. */
static void export_class_starting_with_bracket(void **state)
{
	(void)state;
	char *got = export_of("zz[](?<n>)]+");
	assert_string_equal(got, "zz[](?<n>)]+");
	free(got);
	got = export_of("zz[^](?<n>)]+");
	assert_string_equal(got, "zz[^](?<n>)]+");
	free(got);
}

/* "False when it does not fit in cap bytes": text plus NUL that fits exactly is accepted. */
static void export_buffer_bounds(void **state)
{
	(void)state;
	struct ul_catalog *cat = build1("rule e.x\n  severity info\n  family any\n"
	                                "  match (?<a>zz)\\dz\n  sample zz1z\n");
	const char *want = "(zz)\\dz";
	size_t need = strlen(want) + 1;
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	assert_false(ul_catalog_export_regex(cat, 0, buf, need - 1));
	assert_false(ul_catalog_export_regex(cat, 0, buf, 1));
	memset(buf, 'x', sizeof(buf));
	bool ok = ul_catalog_export_regex(cat, 0, buf, need);
	ul_catalog_destroy(cat);
	if (!ok)
		fail_msg("'%s' needs %zu bytes with its NUL, but a buffer of %zu is refused", want,
		         need, need);
	assert_string_equal(buf, want);
	assert_int_equal(buf[need], 'x');
}

static void unportable_reasons(void **state)
{
	(void)state;
	struct {
		const char *pattern, *reason;
	} cases[] = {
		{ "^zz(?=a)", "look-around" },    { "^zz(?!a)", "look-around" },
		{ "(?<=a)zz", "look-around" },    { "(?<!a)zz", "look-around" },
		{ "^(z)z\\1", "back-reference" }, { "^(?>zz)", "atomic" },
		{ "^zz++", "possessive" },        { "^zz*+y", "possessive" },
		{ "^zz?+", "possessive" },        { "^z{2}+", "possessive" },
		{ "^\\Qzz\\E", "\\Q" },           { "^zz\\/", "escape" },
		{ "^zz\\_", "escape" },           { "^zz\\e", "escape" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = tu_fmt("rule u.x\n  severity info\n  family any\n  match %s\n"
		                    "  sample zz\n",
		                    cases[i].pattern);
		struct ul_catalog *cat = build1(text);
		const char *why = ul_catalog_unportable(cat, 0);
		if (!why || !strstr(why, cases[i].reason))
			fail_msg("'%s': unportable says '%s', expected '%s'", cases[i].pattern,
			         why ? why : "(null)", cases[i].reason);
		ul_catalog_destroy(cat);
		free(text);
	}
}

static void portable_patterns_pass(void **state)
{
	(void)state;
	const char *patterns[] = {
		("^Action ended (?<time>\\d{1,2}:\\d\\d:\\d\\d): (?<action>[^ .]+)\\. Return value "
		 "(?<rv>\\d+)\\."),
		"(?i)^zz(?:error|fail(?:ed|ure))\\s+\\w+$",
		"^zz[(?=!<>]",
		"^zz\\(\\)\\[\\]\\{\\}\\.\\*\\+\\?\\|\\^\\$\\#\\&\\-\\~\\\\",
		"^zz+?\\d*?x??",
		"^zz\\x41\\t\\b\\B\\s\\S\\w\\W\\d\\D",
		"^z{1,3}z",
		"^zz[^]a]",
	};
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char *text = tu_fmt("rule p.x\n  severity info\n  family any\n  match %s\n"
		                    "  sample zz\n",
		                    patterns[i]);
		struct ul_catalog *cat = build1(text);
		const char *why = ul_catalog_unportable(cat, 0);
		if (why)
			fail_msg("'%s' is portable, but unportable says '%s'", patterns[i], why);
		ul_catalog_destroy(cat);
		free(text);
	}
}

/* ---- folders ----------------------------------------------------------------------------- */

static void add_dir_errors_name_folder(void **state)
{
	(void)state;
	char *tmp = tu_tmpdir();
	char *missing = tu_join(tmp, "no-such-folder");
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	ul_error_clear(&err);
	assert_false(ul_catalog_add_dir(cat, missing, &err));
	assert_true(tu_contains(err.msg, missing));
	ul_catalog_destroy(cat);

	/* A folder without *.rules files (other files do not count). */
	char *empty = tu_join(tmp, "empty");
	tu_mkdirs(empty);
	free(tu_write_str(empty, "notes.txt", "rule x\n"));
	free(tu_write_str(empty, ".hidden.rules", F("h.x", "msi", "x")));
	cat = ul_catalog_new();
	ul_error_clear(&err);
	assert_false(ul_catalog_add_dir(cat, empty, &err));
	assert_true(tu_contains(err.msg, empty));
	ul_catalog_destroy(cat);

	tu_rmrf(tmp);
	free(empty);
	free(missing);
	free(tmp);
}

/* A duplicate id inside one file is an error naming both lines, not a silent replacement. */
static void duplicate_id_in_one_file(void **state)
{
	(void)state;
	struct ul_error err =
	        fail_with("dup.rules", R("r.a", 0, "a") R("r.b", 0, "b") R("r.a", 0, "again"));
	assert_true(tu_contains(err.msg, "dup.rules:"));
	assert_true(tu_contains(err.msg, "rule r.a: defined twice in this file (first at line 1)"));
}

/* Likewise a family declared twice in one file; another file may replace it (see above). */
static void duplicate_family_in_one_file(void **state)
{
	(void)state;
	struct ul_error err = fail_with("fam.rules", "family acme\n  name acme*.log\n"
	                                             "family acme\n  name other*.log\n");
	assert_true(tu_contains(err.msg, "fam.rules:3:"));
	assert_true(
	        tu_contains(err.msg, "family acme: declared twice in this file (first at line 1)"));
}

/* A FIFO (or any non-file) named *.rules is refused at once, never read (it would block). */
static void fifo_rules_file_does_not_hang(void **state)
{
	(void)state;
	char *tmp = tu_tmpdir();
	free(tu_write_str(tmp, "a.rules", F("a.x", "msi", "x")));
	char *fifo = tu_join(tmp, "b.rules");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	ul_error_clear(&err);
	alarm(20); /* a hang fails the test instead of stalling the suite */
	assert_false(ul_catalog_add_dir(cat, tmp, &err));
	alarm(0);
	assert_true(tu_contains(err.msg, fifo));
	assert_true(tu_contains(err.msg, "not a regular file"));
	ul_catalog_destroy(cat);
	tu_rmrf(tmp);
	free(fifo);
	free(tmp);
}

static void add_dir_name_order(void **state)
{
	(void)state;
	char *tmp = tu_tmpdir();
	free(tu_write_str(tmp, "0-families.rules", TU_FAMILIES));
	free(tu_write_str(tmp, "b.rules", F("d.from-b", "msi", "b")));
	free(tu_write_str(tmp, "a.rules", F("d.from-a", "msi", "a") F("d.from-a2", "msi", "a2")));
	free(tu_write_str(tmp, "c.rules", F("d.from-c", "msi", "c")));
	free(tu_write_str(tmp, "z.rules.bak", "garbage\n"));
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	ul_error_clear(&err);
	if (!ul_catalog_add_dir(cat, tmp, &err) || !ul_catalog_compile(cat, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ul_catalog_count(cat), 4);
	const char *want[] = { "d.from-a", "d.from-a2", "d.from-b", "d.from-c" };
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(rule_id(cat, i), want[i]);
	assert_true(tu_contains(ul_catalog_rule(cat, 2)->origin, "b.rules"));
	assert_int_equal(ul_catalog_rule(cat, 1)->line, 6);
	ul_catalog_destroy(cat);

	/* An error in the second file names that file and line. */
	free(tu_write_str(tmp, "b.rules", "rule d.bad\n  severity error\n  colour red\n"));
	cat = ul_catalog_new();
	ul_error_clear(&err);
	assert_false(ul_catalog_add_dir(cat, tmp, &err));
	assert_true(tu_contains(err.msg, "b.rules:3:"));
	ul_catalog_destroy(cat);

	/* A later folder overrides a rule by id. */
	char *user = tu_join(tmp, "user");
	free(tu_write_str(user, "mine.rules", F("d.from-a", "msi", "override")));
	free(tu_write_str(tmp, "b.rules", F("d.from-b", "msi", "b")));
	cat = ul_catalog_new();
	ul_error_clear(&err);
	if (!ul_catalog_add_dir(cat, tmp, &err) || !ul_catalog_add_dir(cat, user, &err) ||
	    !ul_catalog_compile(cat, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ul_catalog_count(cat), 4);
	assert_string_equal(rule_id(cat, 0), "d.from-a");
	assert_string_equal(ul_catalog_rule(cat, 0)->match, "override");
	ul_catalog_destroy(cat);

	tu_rmrf(tmp);
	free(user);
	free(tmp);
}

/* The shipped catalogue, when the test runner names it, loads and compiles. */
static void shipped_catalogue_compiles(void **state)
{
	(void)state;
	const char *dir = getenv("UPGLOG_PATTERNS");
	if (!dir || !*dir)
		skip();
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	ul_error_clear(&err);
	if (!ul_catalog_add_dir(cat, dir, &err) || !ul_catalog_compile(cat, &err))
		fail_msg("%s", err.msg);
	assert_true(ul_catalog_count(cat) > 10);
	for (size_t i = 0; i < ul_catalog_count(cat); i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		assert_true(r->nsamples > 0);
		if (i > 0)
			assert_true(ul_catalog_rule(cat, i - 1)->priority >= r->priority);
	}
	ul_catalog_destroy(cat);
}

/* ---- leads and decisive literals ----------------------------------------------------------- */

/* The lead set of `pattern` as text: "?" when unknown, else entries "s" (exact) or "s..." */
static char *leads_text(const char *pattern)
{
	struct ul_leads l;
	ul_lead_analyse(pattern, &l);
	if (!l.known)
		return tu_fmt("?");
	char *out = tu_fmt("%s", "");
	for (size_t k = 0; k < l.n; k++) {
		char *next = tu_fmt("%s%s%.*s%s", out, k ? "|" : "", (int)l.v[k].len, l.v[k].s,
		                    l.v[k].exact ? "" : "...");
		free(out);
		out = next;
	}
	return out;
}

static void lead_sets(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *want;
	} cases[] = {
		{ "^Executing op:", "Executing op:" },
		{ "^Doing action: |^Skipping action: ", "Doing action: |Skipping action: " },
		{ "^(?:Doing action: |Skipping [^ ]+ action: )", "Doing action: |Skipping ..." },
		{ "^Note: 1: (2711|2732) 2:", "Note: 1: 2711 2:|Note: 1: 2732 2:" },
		{ "^Note: 1: (?<code>27) 2:", "Note: 1: 27 2:" },
		{ "^Note: (?P<c>1)(?'d'2)", "Note: 12" },
		{ "^abc?d", "abcd|abd" },
		{ "^abc??d", "abcd|abd" },
		{ "^(?:a|b)?c", "ac|bc|c" },
		{ "^a+b", "a..." },
		{ "^ab*c", "a..." },
		{ "^ab{2}c", "a..." },
		{ "^(?:ab)+c", "ab..." },
		{ "^(?:ab)*c", "..." },
		{ "^a\\.b\\\\c", "a.b\\c" },
		{ "^a\\db", "a..." },
		{ "^a\\Q.b\\E", "a..." },
		{ "^a[\\Q]|\\E]b|^c", "a...|c" },
		{ "^a\\d\\Q|(?i)\\E|^c", "a...|c" },
		{ "^a[bc]d", "abd|acd" },
		{ "^Property\\([CSN]\\):", "Property(C):|Property(S):|Property(N):" },
		{ "^x[0-3]?y", "x0y|x1y|x2y|x3y|xy" },
		{ "^[.\\]-]", ".|]|-" },
		{ "^[A-Za-z]:", "..." },
		{ "^[^a]b", "..." },
		{ "^[]a]b", "..." },
		{ "^[\\d]x", "..." },
		{ "^[[:alpha:]]x", "..." },
		{ "^[\xc3\xa9]x", "..." },
		{ "^[ab]+c", "a...|b..." },
		{ "^a.b", "a..." },
		{ "^foo$", "foo..." },
		{ "^foo\\b", "foo..." },
		{ "^(?=abc)abcd", "..." },
		{ "^ab(?!c)", "ab..." },
		{ "^(?:|\\s*)\\*{7} x", "..." },
		{ "^\xc3\xa9?x", "\xc3\xa9x|x" },
		{ "^(?:a\\d)?b", "a...|b" },
		/* Unknown: unanchored, options that change the reading, odd groups. */
		{ "foo", "?" },
		{ "^foo|bar", "?" },
		{ "^foo|", "?" },
		{ "(?i)^foo", "?" },
		{ "^a(?i)b", "?" },
		{ "^(?:x|y(?i))z", "?" },
		{ "^(?:x|y\\d(?i))z", "?" },
		{ "^(*UCP)x", "?" },
		{ "^(?|a|b)", "?" },
		{ "^(?#c)a", "?" },
		{ "^a)", "?" },
		{ "^(a", "?" },
		{ "", "?" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = leads_text(cases[i].pattern);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("'%s': leads '%s', want '%s'", cases[i].pattern, got,
			         cases[i].want);
		free(got);
	}
}

/* Too many ways: the set stays a cover of every match, with nothing exact. */
static void lead_sets_bounded(void **state)
{
	(void)state;
	struct ul_leads l;
	ul_lead_analyse("^(a|b|c|d)(a|b|c|d)(a|b|c|d)x", &l);
	assert_true(l.known);
	assert_true(l.n <= UL_LEAD_MAX);
	for (size_t k = 0; k < l.n; k++)
		assert_false(l.v[k].exact);
	assert_false(ul_lead_excludes(&l, "dcbx", 4));
	assert_true(ul_lead_excludes(&l, "e", 1));
	char long_lit[200];
	memset(long_lit, 'q', sizeof(long_lit) - 1);
	long_lit[0] = '^';
	long_lit[sizeof(long_lit) - 1] = '\0';
	ul_lead_analyse(long_lit, &l);
	assert_true(l.known);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].len, UL_LEAD_LEN);
	assert_false(l.v[0].exact);
}

static void lead_excludes(void **state)
{
	(void)state;
	struct ul_leads l;
	ul_lead_analyse("^Note: 1: (1708|1725)\\b", &l);
	assert_true(ul_lead_excludes(&l, "Note: 1: 2205 2:", 16));
	assert_false(ul_lead_excludes(&l, "Note: 1: 17", 11));      /* a prefix of an entry */
	assert_false(ul_lead_excludes(&l, "Note: 1: 1708 2:", 16)); /* an entry is its prefix */
	ul_lead_analyse("unanchored", &l);
	assert_false(ul_lead_excludes(&l, "anything", 8));
}

/* The decisive literals of family msi as "literal=rule" lines. */
static char *decisive_text(const struct ul_catalog *cat)
{
	char *out = tu_fmt("%s", "");
	for (unsigned b = 0; b < 256; b++) {
		size_t n;
		const struct ul_decisive *d =
		        ul_catalog_decisive(cat, TU_FAM_MSI, (unsigned char)b, &n);
		for (size_t k = 0; k < n; k++) {
			assert_int_equal((unsigned char)d[k].lit[0], b);
			char *next =
			        tu_fmt("%s%.*s=%s%s", out, (int)d[k].len, d[k].lit,
			               rule_id(cat, d[k].rank), d[k].confirm ? " (confirm)" : "");
			free(out);
			out = next;
			for (unsigned x = 0; x < d[k].nexc; x++) {
				next = tu_fmt("%s except %.*s", out, (int)d[k].exc_len[x],
				              d[k].exc[x]);
				free(out);
				out = next;
			}
			next = tu_fmt("%s\n", out);
			free(out);
			out = next;
		}
	}
	return out;
}

#define NOISE(id, prio, match)                                                             \
	"rule " id "\n  severity noise\n  family msi\n  priority " prio "\n  match " match \
	"\n  sample Executing op: x\n"

static void decisive_literals(void **state)
{
	(void)state;
	static const struct {
		const char *name, *rules, *want;
	} cases[] = {
		{ "alone", NOISE("n.op", "10", "^Executing op:"), "Executing op:=n.op\n" },
		{ "each exact branch",
		  NOISE("n.do", "10", "^(?:Doing action: |Skipping [^ ]+ action: |Skip: )"),
		  "Doing action: =n.do\nSkip: =n.do\nSkipping =n.do (confirm)\n" },
		{ "a lead too short to confirm", NOISE("n.note", "10", "^Note\\d"), "" },
		{ "a lead to confirm", NOISE("n.key", "10", "^Note: 1: 1402 2: .* 3: 2\\s*$"),
		  "Note: 1: 1402 2: =n.key (confirm)\n" },
		{ "a higher rule on another prefix",
		  "rule e.start\n  severity error\n  family msi\n  priority 30\n"
		  "  match ^Action start\n  sample Action start\n" NOISE("n.op", "10",
		                                                         "^Executing op:"),
		  "Executing op:=n.op\n" },
		{ "a higher rule on a longer lead",
		  "rule e.crash\n  severity error\n  family msi\n  priority 30\n"
		  "  match ^Executing op: Crash\n  sample Executing op: Crash\n" NOISE(
		          "n.op", "10", "^Executing op:"),
		  "Executing op:=n.op except Executing op: Crash\n" },
		{ "a higher rule on the same lead",
		  "rule e.crash\n  severity error\n  family msi\n  priority 30\n"
		  "  match ^Executing op:\\d\n  sample Executing op:1\n" NOISE("n.op", "10",
		                                                               "^Executing op:"),
		  "" },
		{ "too many exceptions",
		  "rule e.crash\n  severity error\n  family msi\n  priority 30\n"
		  "  match ^Executing op: (?:A|B|C|D|E)\n  sample Executing op: A\n" NOISE(
		          "n.op", "10", "^Executing op:"),
		  "" },
		{ "a higher rule the line may start",
		  "rule e.crash\n  severity error\n  family msi\n  priority 30\n"
		  "  match ^Exec\\w+\n  sample Executing\n" NOISE("n.op", "10", "^Executing op:"),
		  "" },
		{ "a higher unanchored rule",
		  "rule e.any\n  severity error\n  family msi\n  priority 30\n"
		  "  match failed\n  sample failed\n" NOISE("n.op", "10", "^Executing op:"),
		  "" },
		{ "a higher caseless rule",
		  "rule e.any\n  severity error\n  family msi\n  priority 30\n"
		  "  match (?i)^executing op: crash\n  sample EXECUTING OP: CRASH\n" NOISE(
		          "n.op", "10", "^Executing op:"),
		  "" },
		{ "a lower unanchored rule",
		  NOISE("n.op", "10",
		        "^Executing op:") "rule e.any\n  severity error\n  family msi\n"
		                          "  match op:\n  sample op:\n",
		  "Executing op:=n.op\n" },
		{ "a rule of another family",
		  "rule e.crash\n  severity error\n  family burn\n  priority 30\n"
		  "  match ^Executing op: Crash\n  sample Executing op: Crash\n" NOISE(
		          "n.op", "10", "^Executing op:"),
		  "Executing op:=n.op\n" },
		{ "not noise",
		  "rule i.op\n  severity info\n  family msi\n  match ^Executing op:\n"
		  "  sample Executing op: x\n",
		  "" },
		{ "an event",
		  "rule n.stop\n  severity noise\n  family msi\n  event log-stop\n"
		  "  match ^=== Logging stopped\n  sample === Logging stopped\n",
		  "" },
		{ "not exact", NOISE("n.op", "10", "^Executing op:$"),
		  "Executing op:=n.op (confirm)\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ul_catalog *cat = build1(cases[i].rules);
		char *got = decisive_text(cat);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: decisive\n%s\nwant\n%s", cases[i].name, got, cases[i].want);
		free(got);
		ul_catalog_destroy(cat);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_every_field),
		cmocka_unit_test(optional_keys_default),
		cmocka_unit_test(unset_title_is_the_id),
		cmocka_unit_test(family_words),
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(family_sets_as_text),
		cmocka_unit_test(errors_name_origin_line_reason),
		cmocka_unit_test(pcre2_error_message),
		cmocka_unit_test(precedence_priority_then_load_order),
		cmocka_unit_test(same_id_replaces_in_place),
		cmocka_unit_test(family_lists),
		cmocka_unit_test(hash_follows_rules),
		cmocka_unit_test(export_drops_group_names),
		cmocka_unit_test(export_anchored_takes_msi_prefix),
		cmocka_unit_test(export_class_starting_with_bracket),
		cmocka_unit_test(export_buffer_bounds),
		cmocka_unit_test(unportable_reasons),
		cmocka_unit_test(portable_patterns_pass),
		cmocka_unit_test(add_dir_errors_name_folder),
		cmocka_unit_test(add_dir_name_order),
		cmocka_unit_test(duplicate_id_in_one_file),
		cmocka_unit_test(duplicate_family_in_one_file),
		cmocka_unit_test(fifo_rules_file_does_not_hang),
		cmocka_unit_test(shipped_catalogue_compiles),
		cmocka_unit_test(lead_sets),
		cmocka_unit_test(lead_sets_bounded),
		cmocka_unit_test(lead_excludes),
		cmocka_unit_test(decisive_literals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
