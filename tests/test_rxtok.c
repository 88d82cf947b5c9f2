/* SPDX-License-Identifier: MIT */
/* rxtok: the one reader of pattern syntax (src/rxtok.h), and the prefilter's rewriting on it. */
#include "testutil.h"

#include "prefilter.h"
#include "rxtok.h"

/* The kinds of `p`'s tokens as letters: c char, e escape, q quote, [ class, ( open, ) close,
 * | alt, * quantifier, ^ meta. */
static void kinds(const char *p, char *out, size_t cap)
{
	static const char letter[] = { 0, 'c', 'e', 'q', '[', '(', ')', '|', '*', '^' };
	struct ul_rx_tok t;
	size_t n = 0;
	for (size_t i = 0;; i = t.end) {
		ul_rx_next(p, i, &t);
		if (t.kind == UL_RX_END)
			break;
		assert_true(t.end > t.at);
		assert_true(n + 1 < cap);
		out[n++] = letter[t.kind];
	}
	out[n] = '\0';
}

static void tokens_of_a_rule(void **state)
{
	(void)state;
	char k[128];
	kinds("^Action ended (?<time>\\d{1,2}:\\d\\d): (?:x|y)+?\\.$", k, sizeof(k));
	assert_string_equal(k, "^ccccccccccccc(e*cee)cc(c|c)*e^");
	kinds("a\\Qb(c\\Ed[]x]é{,2}", k, sizeof(k));
	assert_string_equal(k, "cqc[ccccc");
	/* An escape is one token, \xHH and \x{...} whole. */
	struct ul_rx_tok t;
	assert_int_equal(ul_rx_next("\\x0a+", 0, &t), 4);
	assert_int_equal(t.esc, 'x');
	assert_int_equal(ul_rx_next("\\x{263A}", 0, &t), 8);
	assert_int_equal(ul_rx_next("\\é", 0, &t), 3);
}

static void groups(void **state)
{
	(void)state;
	struct ul_rx_tok t;
	static const struct {
		const char *p;
		enum ul_rx_group g;
		size_t body;
		bool closed;
	} cases[] = {
		{ "(a)", UL_RXG_CAPTURE, 1, false },      { "(?:a)", UL_RXG_PLAIN, 3, false },
		{ "(?<code>a)", UL_RXG_NAMED, 8, false }, { "(?P<n>a)", UL_RXG_NAMED, 6, false },
		{ "(?'n'a)", UL_RXG_NAMED, 5, false },    { "(?=a)", UL_RXG_LOOK, 3, false },
		{ "(?<!a)", UL_RXG_LOOK, 4, false },      { "(?>a)", UL_RXG_ATOMIC, 3, false },
		{ "(?i)a", UL_RXG_OPTION, 4, true },      { "(?i-s:a)", UL_RXG_OPTION, 6, false },
		{ "(*ACCEPT)a", UL_RXG_VERB, 9, true },   { "(?|a)", UL_RXG_OTHER, 2, false },
		{ "(?#c)", UL_RXG_OTHER, 2, false },      { "(?<1a>x)", UL_RXG_OTHER, 2, false },
		{ "(?P=n)", UL_RXG_OTHER, 2, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ul_rx_next(cases[i].p, 0, &t);
		assert_int_equal(t.kind, UL_RX_OPEN);
		if (t.group != cases[i].g || t.body != cases[i].body || t.closed != cases[i].closed)
			fail_msg("%s: group %d body %zu closed %d", cases[i].p, t.group, t.body,
			         t.closed);
	}
	ul_rx_next("(?<code>a)", 0, &t);
	assert_true(t.angle_name);
	ul_rx_next("(?'n'a)", 0, &t);
	assert_false(t.angle_name);
}

static void quantifiers(void **state)
{
	(void)state;
	struct ul_rx_tok t;
	assert_int_equal(ul_rx_next("{2,5}?x", 0, &t), 6);
	assert_int_equal(t.kind, UL_RX_QUANT);
	assert_true(t.brace && t.lazy && !t.possessive);
	assert_int_equal(t.min, 2);
	assert_int_equal(ul_rx_next("++", 0, &t), 2);
	assert_true(t.possessive);
	assert_int_equal(t.min, 1);
	/* Not a quantifier: a literal brace. */
	ul_rx_next("{x}", 0, &t);
	assert_int_equal(t.kind, UL_RX_CHAR);
	ul_rx_next("{2,x}", 0, &t);
	assert_int_equal(t.kind, UL_RX_CHAR);
}

static void class_members(void **state)
{
	(void)state;
	const char *p = "[^]a-z\\]\\Qx]\\E[:digit:][é]";
	struct ul_rx_tok t;
	assert_int_equal(ul_rx_next(p, 0, &t), strlen(p));
	assert_true(t.negated);
	assert_false(t.unterminated);
	static const enum ul_rx_member_kind want[] = {
		UL_RXM_CHAR,  UL_RXM_CHAR,  UL_RXM_CHAR, UL_RXM_CHAR, UL_RXM_ESCAPE,
		UL_RXM_QUOTE, UL_RXM_POSIX, UL_RXM_CHAR, UL_RXM_CHAR, UL_RXM_END,
	};
	struct ul_rx_member m;
	size_t i = t.first;
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		i = ul_rx_member(p, &t, i, &m);
		if (m.kind != want[k])
			fail_msg("member %zu: kind %d, want %d", k, m.kind, want[k]);
	}
	ul_rx_next("[abc", 0, &t);
	assert_true(t.unterminated);
}

/* The prefilter's rewriting reads classes through the tokenizer: `[]]` is a class of ']'. */
static void line_safe_rewrites(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "^Note: 1: (?<code>\\d+)", "^Note: 1: (?<code>\\d)" },
		{ "a[^ ]+b", "a[^ \\n]+b" },
		{ "x\\sy", "x[\\t\\x0b\\x0c\\r ]y" },
		{ "R[]]emoval", "R[]]emoval" },
		{ "[^]]*x", "[^]\\n]*x" },
		{ "(?i)abc(?:d)?", "(?i)abc" },
		{ "a\\x0a", NULL },
		{ "a[[:space:]]", NULL },
		{ "a\\Qb\\E", NULL },
		{ "(?s)a.b", NULL },
		{ "a\\pL", NULL },
		{ "[abc", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = ul_prefilter_line_safe(cases[i].in);
		if ((got == NULL) != (cases[i].out == NULL) ||
		    (got && strcmp(got, cases[i].out) != 0))
			fail_msg("%s: got %s, want %s", cases[i].in, got ? got : "(unsafe)",
			         cases[i].out ? cases[i].out : "(unsafe)");
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens_of_a_rule),   cmocka_unit_test(groups),
		cmocka_unit_test(quantifiers),        cmocka_unit_test(class_members),
		cmocka_unit_test(line_safe_rewrites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
