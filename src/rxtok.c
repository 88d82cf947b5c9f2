/* SPDX-License-Identifier: MIT */
/* rxtok: pattern syntax as tokens. See rxtok.h. */
#include "rxtok.h"

#include <ctype.h>
#include <string.h>

size_t ul_rx_char_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	for (size_t k = 1; k < n; k++)
		if (!s[k])
			return k;
	return n;
}

/* An escape at p[i] == '\\': its end; *kind says whether it is a \Q...\E quote. */
static size_t escape_end(const char *p, size_t i, bool *quote)
{
	char n = p[i + 1];
	*quote = false;
	if (!n)
		return i + 1;
	if (n == 'Q') {
		const char *e = strstr(p + i + 2, "\\E");
		*quote = true;
		return e ? (size_t)(e - p) + 2 : strlen(p);
	}
	if (n == 'x' && p[i + 2] == '{') {
		const char *close = strchr(p + i + 3, '}');
		return close ? (size_t)(close - p) + 1 : i + 2;
	}
	if (n == 'x' && isxdigit((unsigned char)p[i + 2]) && isxdigit((unsigned char)p[i + 3]))
		return i + 4;
	return i + 1 + ul_rx_char_len(p + i + 1);
}

size_t ul_rx_member(const char *p, const struct ul_rx_tok *cls, size_t i, struct ul_rx_member *m)
{
	size_t stop = cls->unterminated ? cls->end : cls->end - 1;
	memset(m, 0, sizeof(*m));
	m->at = i;
	if (i >= stop) {
		m->kind = UL_RXM_END;
		m->end = i;
		return i;
	}
	if (p[i] == '\\') {
		bool quote;
		m->end = escape_end(p, i, &quote);
		m->kind = quote ? UL_RXM_QUOTE : UL_RXM_ESCAPE;
		m->esc = p[i + 1];
	} else if (p[i] == '[' && p[i + 1] == ':') {
		const char *e = strstr(p + i + 2, ":]");
		if (e && (size_t)(e - p) + 2 <= stop) {
			m->kind = UL_RXM_POSIX;
			m->end = (size_t)(e - p) + 2;
		} else {
			m->kind = UL_RXM_CHAR;
			m->end = i + 1;
		}
	} else {
		m->kind = UL_RXM_CHAR;
		m->end = i + ul_rx_char_len(p + i);
	}
	if (m->end > stop)
		m->end = stop;
	return m->end;
}

/* A class at p[i] == '['. */
static size_t class_token(const char *p, size_t i, struct ul_rx_tok *t)
{
	size_t j = i + 1;
	t->kind = UL_RX_CLASS;
	if (p[j] == '^') {
		t->negated = true;
		j++;
	}
	t->first = j;
	if (p[j] == ']')
		j++; /* a ']' first is a member */
	while (p[j] && p[j] != ']') {
		if (p[j] == '\\') {
			bool quote;
			j = escape_end(p, j, &quote);
		} else if (p[j] == '[' && p[j + 1] == ':') {
			const char *e = strstr(p + j + 2, ":]");
			j = e ? (size_t)(e - p) + 2 : j + 1;
		} else {
			j += ul_rx_char_len(p + j);
		}
	}
	if (p[j] == ']') {
		t->end = j + 1;
	} else {
		t->end = j;
		t->unterminated = true;
	}
	return t->end;
}

/* A group at p[i] == '('. */
static size_t open_token(const char *p, size_t i, struct ul_rx_tok *t)
{
	const char *s = p + i;
	t->kind = UL_RX_OPEN;
	t->end = t->body = i + 1;
	if (s[1] == '*') {
		const char *e = strchr(s, ')');
		t->group = UL_RXG_VERB;
		t->closed = e != NULL;
		t->end = t->body = e ? (size_t)(e - p) + 1 : strlen(p);
		return t->end;
	}
	if (s[1] != '?') {
		t->group = UL_RXG_CAPTURE;
		return t->end;
	}
	char c = s[2];
	size_t name = 0;
	if (c == '<' && (isalpha((unsigned char)s[3]) || s[3] == '_'))
		name = 3;
	else if (c == 'P' && s[3] == '<')
		name = 4;
	else if (c == '\'')
		name = 3;
	if (name) {
		size_t j = name;
		while (isalnum((unsigned char)s[j]) || s[j] == '_' || (unsigned char)s[j] >= 0x80)
			j++;
		const char *e = s[j] == (c == '\'' ? '\'' : '>') && j > name ? s + j : NULL;
		if (e) {
			t->group = UL_RXG_NAMED;
			t->angle_name = c != '\'';
			t->end = t->body = (size_t)(e - p) + 1;
			return t->end;
		}
		t->group = UL_RXG_OTHER;
		t->end = t->body = i + 2;
		return t->end;
	}
	t->end = t->body = i + 3;
	if (c == ':') {
		t->group = UL_RXG_PLAIN;
	} else if (c == '=' || c == '!') {
		t->group = UL_RXG_LOOK;
	} else if (c == '<' && (s[3] == '=' || s[3] == '!')) {
		t->group = UL_RXG_LOOK;
		t->end = t->body = i + 4;
	} else if (c == '>') {
		t->group = UL_RXG_ATOMIC;
	} else {
		/* Option letters, then ')' (a setting) or ':' (a group with options). */
		size_t j = 2;
		while (s[j] && strchr("imsxnUJ-^", s[j]))
			j++;
		if (j > 2 && (s[j] == ')' || s[j] == ':')) {
			t->group = UL_RXG_OPTION;
			t->closed = s[j] == ')';
			t->end = t->body = i + j + 1;
		} else {
			t->group = UL_RXG_OTHER;
			t->end = t->body = i + 2;
		}
	}
	return t->end;
}

/* A quantifier at p[i], or false. */
static bool quant_token(const char *p, size_t i, struct ul_rx_tok *t)
{
	size_t j;
	if (p[i] == '?' || p[i] == '*' || p[i] == '+') {
		t->min = p[i] == '+';
		j = i + 1;
	} else if (p[i] == '{' && isdigit((unsigned char)p[i + 1])) {
		unsigned m = 0;
		for (j = i + 1; isdigit((unsigned char)p[j]); j++)
			m = m * 10 + (unsigned)(p[j] - '0');
		if (p[j] == ',')
			for (j++; isdigit((unsigned char)p[j]); j++)
				;
		if (p[j] != '}')
			return false;
		j++;
		t->min = m;
		t->brace = true;
	} else {
		return false;
	}
	if (p[j] == '?') {
		t->lazy = true;
		j++;
	} else if (p[j] == '+') {
		t->possessive = true;
		j++;
	}
	t->kind = UL_RX_QUANT;
	t->end = j;
	return true;
}

size_t ul_rx_next(const char *p, size_t i, struct ul_rx_tok *t)
{
	memset(t, 0, sizeof(*t));
	t->at = t->end = i;
	char c = p[i];
	switch (c) {
	case '\0':
		t->kind = UL_RX_END;
		return i;
	case '\\': {
		bool quote;
		t->end = escape_end(p, i, &quote);
		t->kind = quote ? UL_RX_QUOTE : UL_RX_ESCAPE;
		t->esc = p[i + 1];
		return t->end;
	}
	case '[':
		return class_token(p, i, t);
	case '(':
		return open_token(p, i, t);
	case ')':
		t->kind = UL_RX_CLOSE;
		break;
	case '|':
		t->kind = UL_RX_ALT;
		break;
	case '^':
	case '$':
	case '.':
		t->kind = UL_RX_META;
		break;
	default:
		if (quant_token(p, i, t))
			return t->end;
		t->kind = UL_RX_CHAR;
		t->end = i + ul_rx_char_len(p + i);
		return t->end;
	}
	t->end = i + 1;
	return t->end;
}
