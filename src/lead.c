/* SPDX-License-Identifier: MIT */
/* lead: literal prefixes of a pattern's matches. See lead.h. */
#include "lead.h"

#include <ctype.h>
#include <string.h>

#include "rxtok.h"

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

/* Groups the analysis reads (plain and named), skips whole (look-around, atomic), or not. */
static bool group_bad(const struct ul_rx_tok *t)
{
	return t->group == UL_RXG_OPTION || t->group == UL_RXG_VERB || t->group == UL_RXG_OTHER;
}

static bool group_opaque(const struct ul_rx_tok *t)
{
	return t->group == UL_RXG_LOOK || t->group == UL_RXG_ATOMIC;
}

/* Skip to the '|' or ')' that ends the current branch (not consumed), or the end. */
static void skip_branch(struct lp *p)
{
	unsigned depth = 0;
	struct ul_rx_tok t;
	while (!p->bad) {
		size_t end = ul_rx_next(p->p, p->i, &t);
		if (t.kind == UL_RX_END)
			return;
		if (t.kind == UL_RX_OPEN) {
			if (group_bad(&t))
				p->bad = true;
			depth += !t.closed;
		} else if (t.kind == UL_RX_CLOSE) {
			if (!depth)
				return;
			depth--;
		} else if (t.kind == UL_RX_ALT && !depth) {
			return;
		}
		p->i = end;
	}
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

/* A class member as one ASCII character: a literal or escaped punctuation; false otherwise. */
static bool member_char(const char *s, const struct ul_rx_member *m, unsigned char *out)
{
	unsigned char a = (unsigned char)s[m->at];
	if (m->kind == UL_RXM_ESCAPE && m->end == m->at + 2 && ispunct((unsigned char)m->esc)) {
		*out = (unsigned char)m->esc;
		return true;
	}
	if (m->kind != UL_RXM_CHAR || a >= 0x80 || a == '[' || a == '\\')
		return false;
	*out = a;
	return true;
}

/*
 * A small character class as a set of one-character entries: ASCII members, escaped
 * punctuation and ranges, at most CLASS_MAX of them, not negated. False for any other class.
 */
#define CLASS_MAX 8

static bool read_class(const struct lp *p, const struct ul_rx_tok *cls, struct ul_leads *g)
{
	const char *s = p->p;
	char members[CLASS_MAX];
	size_t n = 0;
	if (cls->negated || cls->unterminated || s[cls->first] == ']')
		return false;
	struct ul_rx_member m, dash, to;
	size_t i = cls->first;
	for (;;) {
		i = ul_rx_member(s, cls, i, &m);
		if (m.kind == UL_RXM_END)
			break;
		unsigned char a, b;
		if (!member_char(s, &m, &a))
			return false;
		b = a;
		/* `a-b`: a range, unless the '-' is the last member. */
		size_t after = ul_rx_member(s, cls, i, &dash);
		if (dash.kind == UL_RXM_CHAR && s[dash.at] == '-') {
			size_t end = ul_rx_member(s, cls, after, &to);
			if (to.kind != UL_RXM_END) {
				if (to.kind != UL_RXM_CHAR || (unsigned char)s[to.at] >= 0x80 ||
				    s[to.at] == '[' || s[to.at] == '\\' ||
				    (unsigned char)s[to.at] < a)
					return false;
				b = (unsigned char)s[to.at];
				i = end;
			}
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
	return true;
}

/* One branch, extending t, up to the '|' or ')' that ends it. */
static void parse_seq(struct lp *p, struct ul_leads *t)
{
	const char *s = p->p;
	while (!p->bad) {
		struct ul_rx_tok tok;
		size_t end = ul_rx_next(s, p->i, &tok);
		if (tok.kind == UL_RX_END || tok.kind == UL_RX_ALT || tok.kind == UL_RX_CLOSE)
			return;
		if (!any_open(t)) {
			skip_branch(p);
			return;
		}
		/* The next atom as a set g: a group, a small class or one literal character. */
		struct ul_leads g;
		if (tok.kind == UL_RX_OPEN) {
			if (group_bad(&tok)) {
				p->bad = true;
				return;
			}
			if (group_opaque(&tok)) {
				close_all(t);
				continue;
			}
			p->i = tok.body;
			single(&g, "", 0);
			parse_alt(p, &g);
			if (p->bad || s[p->i] != ')') {
				p->bad = true;
				return;
			}
			p->i++;
		} else if (tok.kind == UL_RX_CLASS) {
			if (!read_class(p, &tok, &g)) {
				close_all(t);
				continue;
			}
			p->i = end;
		} else if (tok.kind == UL_RX_ESCAPE && tok.end == tok.at + 2 &&
		           ispunct((unsigned char)tok.esc)) {
			single(&g, &tok.esc, 1);
			p->i = end;
		} else if (tok.kind == UL_RX_CHAR && !strchr("]{}", s[tok.at])) {
			single(&g, s + tok.at, end - tok.at);
			p->i = end;
		} else {
			/* Anchors, '.', other escapes, quotes, a stray quantifier: the known part ends. */
			close_all(t);
			continue;
		}
		/* Then what may repeat or skip it. */
		struct ul_rx_tok q;
		size_t qend = ul_rx_next(s, p->i, &q);
		/* A '{' that is not a quantifier is read as one, as before: the known part ends. */
		if ((q.kind == UL_RX_QUANT && (q.brace || s[q.at] == '*')) ||
		    (q.kind == UL_RX_CHAR && s[q.at] == '{')) {
			close_all(t);
			continue;
		}
		struct ul_leads skipped = *t;
		concat(t, &g);
		if (q.kind == UL_RX_QUANT && s[q.at] == '+') {
			close_all(t);
		} else if (q.kind == UL_RX_QUANT) { /* '?' */
			p->i = qend;
			if (!unite(t, &skipped)) {
				*t = skipped;
				close_all(t);
			}
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
