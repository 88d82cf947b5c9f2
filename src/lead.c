/* SPDX-License-Identifier: MIT */
/* lead: literal prefixes of a pattern's matches. See lead.h. */
#include "lead.h"

#include <ctype.h>
#include <string.h>

struct lp {
	const char *p;
	size_t i;
	bool bad; /* something that may change how the rest reads (an option): give up */
};

/* ---- sets -------------------------------------------------------------------------------- */

/* End every entry's known part: the set still covers every match. */
static void close_all(struct ul_leads *t)
{
	for (size_t k = 0; k < t->n; k++)
		t->v[k].exact = false;
}

static bool any_open(const struct ul_leads *t)
{
	for (size_t k = 0; k < t->n; k++)
		if (t->v[k].exact)
			return true;
	return false;
}

/* t := t followed by one of g. When the product is too large, t is closed instead. */
static void concat(struct ul_leads *t, const struct ul_leads *g)
{
	struct ul_leads out = { .known = true };
	for (size_t k = 0; k < t->n; k++) {
		const struct ul_lead_entry *e = &t->v[k];
		size_t ways = e->exact ? g->n : 1;
		if (out.n + ways > UL_LEAD_MAX) {
			close_all(t);
			return;
		}
		if (!e->exact) {
			out.v[out.n++] = *e;
			continue;
		}
		for (size_t j = 0; j < g->n; j++) {
			struct ul_lead_entry x = *e;
			const struct ul_lead_entry *y = &g->v[j];
			size_t room = UL_LEAD_LEN - x.len, take = y->len < room ? y->len : room;
			memcpy(x.s + x.len, y->s, take);
			x.len = (uint8_t)(x.len + take);
			x.exact = y->exact && take == y->len;
			out.v[out.n++] = x;
		}
	}
	*t = out;
}

static bool same(const struct ul_lead_entry *a, const struct ul_lead_entry *b)
{
	return a->len == b->len && a->exact == b->exact && memcmp(a->s, b->s, a->len) == 0;
}

/* r := r or t (an entry already in r is not added twice). False when there is no room. */
static bool unite(struct ul_leads *r, const struct ul_leads *t)
{
	for (size_t k = 0; k < t->n; k++) {
		bool dup = false;
		for (size_t j = 0; j < r->n && !dup; j++)
			dup = same(&r->v[j], &t->v[k]);
		if (dup)
			continue;
		if (r->n == UL_LEAD_MAX)
			return false;
		r->v[r->n++] = t->v[k];
	}
	return true;
}

/* ---- reading the pattern ------------------------------------------------------------------ */

enum group { G_CAPTURE, G_PLAIN, G_OPAQUE, G_BAD };

/*
 * What the group opening at p->i is, and where its body starts (*body). Plain and named
 * groups are read; look-around and atomic groups are opaque (skipped over); anything else
 * (option settings, verbs, recursion, conditionals, comments) is bad.
 */
static enum group group_kind(const struct lp *p, size_t *body)
{
	const char *s = p->p + p->i; /* at '(' */
	if (s[1] == '*')
		return G_BAD;
	if (s[1] != '?') {
		*body = p->i + 1;
		return G_CAPTURE;
	}
	if (s[2] == ':') {
		*body = p->i + 3;
		return G_PLAIN;
	}
	size_t name = 0;
	if (s[2] == '<' && (isalpha((unsigned char)s[3]) || s[3] == '_'))
		name = 3;
	else if (s[2] == 'P' && s[3] == '<')
		name = 4;
	else if (s[2] == '\'')
		name = 3;
	if (name) {
		char close = s[2] == '\'' ? '\'' : '>';
		const char *e = strchr(s + name, close);
		if (!e)
			return G_BAD;
		*body = p->i + (size_t)(e - s) + 1;
		return G_CAPTURE;
	}
	if (s[2] == '=' || s[2] == '!' || s[2] == '>' ||
	    (s[2] == '<' && (s[3] == '=' || s[3] == '!'))) {
		*body = p->i + 2;
		return G_OPAQUE;
	}
	return G_BAD;
}

/* Skip an escape at '\' (a \Q...\E quote whole). */
static void skip_escape(struct lp *p)
{
	const char *s = p->p;
	if (s[p->i + 1] == 'Q') {
		const char *e = strstr(s + p->i + 2, "\\E");
		p->i = e ? (size_t)(e - s) + 2 : strlen(s);
	} else
		p->i += s[p->i + 1] ? 2 : 1;
}

/* Skip a character class starting at '[' (quotes inside it too). */
static void skip_class(struct lp *p)
{
	const char *s = p->p;
	p->i++;
	if (s[p->i] == '^')
		p->i++;
	if (s[p->i] == ']')
		p->i++;
	while (s[p->i] && s[p->i] != ']') {
		if (s[p->i] == '\\')
			skip_escape(p);
		else if (s[p->i] == '[' && s[p->i + 1] == ':') {
			const char *e = strstr(s + p->i + 2, ":]");
			p->i = e ? (size_t)(e - s) + 2 : p->i + 1;
		} else
			p->i++;
	}
	if (s[p->i])
		p->i++;
}

/* Skip to the '|' or ')' that ends the current branch (not consumed), or the end. */
static void skip_branch(struct lp *p)
{
	const char *s = p->p;
	unsigned depth = 0;
	while (s[p->i] && !p->bad) {
		char c = s[p->i];
		size_t body;
		if (c == '\\')
			skip_escape(p);
		else if (c == '[')
			skip_class(p);
		else if (c == '(') {
			if (group_kind(p, &body) == G_BAD)
				p->bad = true;
			depth++;
			p->i++;
		} else if (c == ')') {
			if (!depth)
				return;
			depth--;
			p->i++;
		} else if (c == '|' && !depth)
			return;
		else
			p->i++;
	}
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t char_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	for (size_t k = 1; k < n; k++)
		if (!s[k])
			return k;
	return n;
}

/*
 * After an atom: what quantifier follows. Returns 0 (none), '?' (optional), '+' (one or
 * more) or '*' (anything else that may repeat or skip: '*', '{'), and consumes a '?'
 * quantifier with its lazy/possessive mark.
 */
static char quantifier(struct lp *p)
{
	char c = p->p[p->i];
	if (c == '?') {
		p->i++;
		if (p->p[p->i] == '?' || p->p[p->i] == '+')
			p->i++;
		return '?';
	}
	if (c == '+' || c == '*' || c == '{')
		return c == '+' ? '+' : '*';
	return 0;
}

static void parse_alt(struct lp *p, struct ul_leads *r);

/* A set of one exact entry. */
static void single(struct ul_leads *g, const char *s, size_t len)
{
	memset(g, 0, sizeof(*g));
	g->known = true;
	g->n = 1;
	g->v[0].exact = true;
	memcpy(g->v[0].s, s, len);
	g->v[0].len = (uint8_t)len;
}

/*
 * A small character class at '[' as a set of one-character entries: ASCII members, escaped
 * punctuation and ranges, at most CLASS_MAX of them, not negated. False (nothing consumed)
 * for any other class.
 */
#define CLASS_MAX 8

static bool read_class(struct lp *p, struct ul_leads *g)
{
	const char *s = p->p;
	size_t i = p->i + 1;
	char members[CLASS_MAX];
	size_t n = 0;
	if (s[i] == '^' || s[i] == ']')
		return false;
	while (s[i] != ']') {
		unsigned char a = (unsigned char)s[i], b;
		if (!a || a >= 0x80 || a == '[')
			return false;
		if (a == '\\') {
			if (!s[i + 1] || !ispunct((unsigned char)s[i + 1]))
				return false;
			a = (unsigned char)s[++i];
		}
		i++;
		b = a;
		if (s[i] == '-' && s[i + 1] != ']') {
			b = (unsigned char)s[i + 1];
			if (!b || b >= 0x80 || b == '\\' || b == '[' || b < a)
				return false;
			i += 2;
		}
		for (unsigned ch = a; ch <= b; ch++) {
			if (n == CLASS_MAX)
				return false;
			members[n++] = (char)ch;
		}
	}
	memset(g, 0, sizeof(*g));
	g->known = true;
	for (size_t k = 0; k < n; k++) {
		struct ul_leads one;
		single(&one, &members[k], 1);
		if (!unite(g, &one))
			return false;
	}
	p->i = i + 1;
	return true;
}

/* One branch, extending t, up to the '|' or ')' that ends it. */
static void parse_seq(struct lp *p, struct ul_leads *t)
{
	const char *s = p->p;
	while (!p->bad) {
		char c = s[p->i];
		if (!c || c == '|' || c == ')')
			return;
		if (!any_open(t)) {
			skip_branch(p);
			return;
		}
		/* The next atom as a set g: a group, a small class or one literal character. */
		struct ul_leads g;
		if (c == '(') {
			size_t body;
			enum group kind = group_kind(p, &body);
			if (kind == G_BAD) {
				p->bad = true;
				return;
			}
			if (kind == G_OPAQUE) {
				close_all(t);
				continue;
			}
			p->i = body;
			single(&g, "", 0);
			parse_alt(p, &g);
			if (p->bad || s[p->i] != ')') {
				p->bad = true;
				return;
			}
			p->i++;
		} else if (c == '[') {
			if (!read_class(p, &g)) {
				close_all(t);
				continue;
			}
		} else if (c == '\\') {
			if (!s[p->i + 1] || !ispunct((unsigned char)s[p->i + 1])) {
				close_all(t);
				continue;
			}
			single(&g, s + p->i + 1, 1);
			p->i += 2;
		} else if (strchr("^$.]{}?*+", c)) {
			close_all(t);
			continue;
		} else {
			size_t len = char_len(s + p->i);
			single(&g, s + p->i, len);
			p->i += len;
		}
		/* Then what may repeat or skip it. */
		char q = quantifier(p);
		if (q == '*') {
			close_all(t);
			continue;
		}
		struct ul_leads skipped = *t;
		concat(t, &g);
		if (q == '+')
			close_all(t);
		else if (q == '?' && !unite(t, &skipped)) {
			*t = skipped;
			close_all(t);
		}
	}
}

/* Alternatives, each starting from r's entries; r becomes their union. */
static void parse_alt(struct lp *p, struct ul_leads *r)
{
	const struct ul_leads start = *r;
	bool first = true;
	for (;;) {
		struct ul_leads t = start;
		parse_seq(p, &t);
		if (p->bad)
			return;
		if (first)
			*r = t;
		else if (!unite(r, &t)) {
			/* Too many ways: every match still starts with one of the start entries. */
			*r = start;
			close_all(r);
		}
		first = false;
		if (p->p[p->i] != '|')
			return;
		p->i++;
	}
}

void ul_lead_analyse(const char *pattern, struct ul_leads *out)
{
	struct lp p = { .p = pattern };
	memset(out, 0, sizeof(*out));
	for (;;) {
		/* Every top-level branch must be anchored at the start of the subject. */
		if (pattern[p.i] != '^')
			goto unknown;
		p.i++;
		struct ul_leads t = { .known = true, .n = 1 };
		t.v[0].exact = true;
		parse_seq(&p, &t);
		if (p.bad || !unite(out, &t))
			goto unknown;
		if (pattern[p.i] == ')')
			goto unknown;
		if (!pattern[p.i])
			break;
		p.i++; /* '|' */
	}
	out->known = true;
	return;
unknown:
	memset(out, 0, sizeof(*out));
}

bool ul_lead_excludes(const struct ul_leads *q, const char *lit, size_t len)
{
	if (!q->known)
		return false;
	for (size_t k = 0; k < q->n; k++) {
		size_t n = q->v[k].len < len ? q->v[k].len : len;
		if (memcmp(q->v[k].s, lit, n) == 0)
			return false; /* one is a prefix of the other: the pattern may match */
	}
	return true;
}
