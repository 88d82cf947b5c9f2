/* SPDX-License-Identifier: MIT */
/* mask: secrets out of log text. See include/upglog/mask.h; the forms are listed in README.md. */
#include "upglog/mask.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"

#define MAX_SPANS 64 /* per line; past that the rest of the line is one secret */

struct finder {
	const char *s;
	size_t n;
	struct ul_mask_span spans[MAX_SPANS];
	size_t count;
	bool next_value; /* a `Name=<password property>` was seen: its `Value=` is a secret */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$' || c == '-';
}

static bool ieq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

static bool icontains(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(s + i, w, k) == 0)
			return true;
	return false;
}

static bool iends(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && strncasecmp(s + n - k, w, k) == 0;
}

/* Is a property, key or flag of this name a password? */
static bool secret_name(const char *s, size_t n)
{
	while (n && (*s == '-' || *s == '/')) {
		s++;
		n--;
	}
	if (n == 0 || n > 64)
		return false;
	if (icontains(s, n, "pwd") || icontains(s, n, "passw") || icontains(s, n, "passphrase")) {
		/* Names about passwords that do not hold one. */
		static const char *const about[] = { "less",    "policy",  "length", "complexity",
			                             "history", "expires", "expiry" };
		for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++)
			if (iends(s, n, about[i]))
				return false;
		return true;
	}
	return ieq(s, n, "pass") || ieq(s, n, "pw") || iends(s, n, "_pass") ||
	       iends(s, n, "-pass") || iends(s, n, ".pass") || iends(s, n, "dbpass") ||
	       iends(s, n, "sapass") || iends(s, n, "userpass");
}

static void add(struct finder *f, size_t start, size_t end)
{
	if (end > f->n)
		end = f->n;
	if (end <= start)
		return;
	size_t stars = 0;
	while (start + stars < end && f->s[start + stars] == '*')
		stars++;
	if (start + stars == end)
		return; /* already masked (or masked by the installer) */
	if (f->count == MAX_SPANS) {
		/* Too many to list: everything from here on is secret. */
		struct ul_mask_span *last = &f->spans[MAX_SPANS - 1];
		if (start < last->start)
			last->start = start;
		last->end = f->n;
		return;
	}
	f->spans[f->count++] = (struct ul_mask_span){ start, end };
}

/*
 * The value that starts at `i`: quoted ('...' or "...", with \" or doubled quotes inside),
 * braced ({...}, ODBC), to the end of the line (`to_eol`), or a bare word. The value's bytes
 * are [*vs, return value).
 */
static size_t value_end(const struct finder *f, size_t i, bool to_eol, bool token, size_t *vs)
{
	const char *s = f->s;
	size_t n = f->n;
	*vs = i;
	if (i >= n)
		return i;
	char q = s[i];
	if (q == '\'' || q == '"') {
		size_t j = i + 1;
		while (j < n) {
			if (s[j] == '\\' && j + 1 < n && (s[j + 1] == q || s[j + 1] == '\\')) {
				j += 2;
				continue;
			}
			if (s[j] == q) {
				if (j + 1 < n && s[j + 1] == q && j > i + 1) {
					j += 2;
					continue;
				}
				/* The closing quote ends a word; one inside a word is the value's. */
				if (j + 1 == n || is_space(s[j + 1]) || strchr(";,)}", s[j + 1]))
					break;
			}
			j++;
		}
		*vs = i + 1;
		return j;
	}
	if (q == '{') {
		size_t j = i + 1;
		while (j < n && s[j] != '}')
			j++;
		*vs = i + 1;
		return j;
	}
	if (to_eol) {
		size_t j = n;
		while (j > i && is_space(s[j - 1]))
			j--;
		return j;
	}
	size_t j = i;
	if (token) {
		/* A command-line word: everything to the next blank or quote. */
		while (j < n && !is_space(s[j]) && s[j] != '"' && s[j] != '\'')
			j++;
		return j;
	}
	/* A bracket closes the value only when the value did not open it: `Value=x)`. */
	int depth = 0;
	for (; j < n && !is_space(s[j]) && !strchr(";,&<>|", s[j]); j++) {
		/* A quote inside the value is part of it; one that ends a word closes an outer
		 * quote (`'SAPWD=x'`). */
		if ((s[j] == '"' || s[j] == '\'') &&
		    (j + 1 == n || is_space(s[j + 1]) || strchr(";,)", s[j + 1])))
			break;
		if (s[j] == '(' || s[j] == '[')
			depth++;
		else if ((s[j] == ')' || s[j] == ']') && depth-- == 0 &&
		         (j + 1 == n || is_space(s[j + 1]) || strchr(";,)", s[j + 1])))
			break;
	}
	/* A connection-string value with spaces (`Password=my secret;`) runs to its ';'. */
	if (j < n && (s[j] == ' ' || s[j] == '\t')) {
		size_t k = j;
		while (k < n && k - j < 64 && !strchr(";=:", s[k]) &&
		       !((s[k] == '-' || s[k] == '/') && is_space(s[k - 1])))
			k++;
		if (k < n && s[k] == ';')
			j = k;
	}
	return j;
}

/* Skip blanks from i. */
static size_t skip_blanks(const struct finder *f, size_t i)
{
	while (i < f->n && (f->s[i] == ' ' || f->s[i] == '\t'))
		i++;
	return i;
}

/* `KEY=value`, `KEY = value to the end`, `KEY: value`, `"key": "value"`, `/p:value`. */
static void key_value(struct finder *f, size_t i)
{
	const char *s = f->s;
	size_t n = f->n;
	char sep = s[i];
	if (sep == ':' && i + 1 < n && (s[i + 1] == '/' || s[i + 1] == '\\'))
		return; /* a URL or a drive letter */
	if (sep == '=' && ((i + 1 < n && s[i + 1] == '=') ||
	                   (i > 0 && strchr("=!<>", s[i - 1]) && s[i - 1] != '\0')))
		return; /* a comparison */
	size_t k = i;
	while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
		k--;
	bool spaced = k != i;
	size_t key_start, key_end;
	if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\'')) {
		char q = s[k - 1];
		key_end = k - 1;
		key_start = key_end;
		while (key_start > 0 && s[key_start - 1] != q)
			key_start--;
		if (key_start == 0)
			return;
	} else {
		key_end = k;
		key_start = k;
		while (key_start > 0 && is_key_char(s[key_start - 1]))
			key_start--;
	}
	const char *key = s + key_start;
	size_t klen = key_end - key_start;
	if (klen == 0)
		return;
	size_t v = skip_blanks(f, i + 1);
	/* `/p:value` and `-p:value`: a password flag, unless it sets a property (`/p:Name=x`). */
	bool p_flag = klen == 1 && (key[0] | 0x20) == 'p' && key_start > 0 &&
	              (s[key_start - 1] == '/' || s[key_start - 1] == '-') && sep == ':';
	if (p_flag) {
		size_t vs, e = value_end(f, v, false, true, &vs);
		if (!memchr(s + vs, '=', e - vs))
			add(f, vs, e);
		return;
	}
	size_t vs, e;
	if (secret_name(key, klen) || (f->next_value && ieq(key, klen, "Value"))) {
		f->next_value = false;
		/* `KEY = value` (a property dump) and `KEY=value` alone on its line (a response
		 * or INI file) run to the end of the line. */
		size_t lead = 0;
		while (lead < key_start && (s[lead] == ' ' || s[lead] == '\t'))
			lead++;
		bool to_eol = sep == '=' && (spaced || lead == key_start);
		e = value_end(f, v, to_eol, false, &vs);
		add(f, vs, e);
		return;
	}
	if (ieq(key, klen, "Name") || ieq(key, klen, "Property") ||
	    ieq(key, klen, "PropertyName")) {
		e = value_end(f, v, false, false, &vs);
		f->next_value = secret_name(s + vs, e - vs);
	}
}

/* Does the line name a SQL command-line tool before `i`? Their -P is the password. */
static bool sql_tool(const struct finder *f, size_t i)
{
	static const char *const tools[] = { "osql", "isql", "sqlcmd", "bcp" };
	for (size_t t = 0; t < sizeof(tools) / sizeof(tools[0]); t++)
		if (icontains(f->s, i, tools[t]))
			return true;
	return false;
}

/* `-P secret`, `-Psecret` (SQL tools), `/P secret`, `-Pwd secret`, `--password secret`. */
static void flag(struct finder *f, size_t i)
{
	const char *s = f->s;
	size_t n = f->n;
	size_t a = i + 1;
	if (s[i] == '-' && a < n && s[a] == '-')
		a++;
	size_t b = a;
	while (b < n && isalnum((unsigned char)s[b]))
		b++;
	if (b == a)
		return;
	size_t vs, e;
	if (b < n && (s[b] == ':' || s[b] == '='))
		return; /* key_value() has it */
	bool blank = b == n || s[b] == ' ' || s[b] == '\t';
	if (secret_name(s + a, b - a) || (b - a == 1 && s[a] == 'P')) {
		if (!blank)
			return;
		size_t v = skip_blanks(f, b);
		if (v >= n || ((s[v] == '-' || s[v] == '/') && b - a == 1))
			return; /* `-P` followed by another flag: not a value */
		e = value_end(f, v, false, true, &vs);
		add(f, vs, e);
		return;
	}
	if (s[a] == 'P' && s[i] == '-' && a == i + 1 && sql_tool(f, i)) {
		/* osql -Psecret: the value is glued to the flag. */
		e = value_end(f, a + 1, false, true, &vs);
		add(f, vs, e);
	}
}

/* scheme://user:password@host */
static void url(struct finder *f, size_t i)
{
	const char *s = f->s;
	/* The user part ends at the last '@' of the word: a password may hold '@' or even a
	 * '/' its writer did not escape. The user name holds neither. */
	size_t j = i + 3, colon = 0, at = 0;
	bool slash = false;
	for (; j < f->n && !is_space(s[j]) && s[j] != '"' && s[j] != '\''; j++) {
		if (s[j] == ':' && !colon && !at && !slash)
			colon = j;
		if (s[j] == '/' && !colon)
			slash = true;
		if (s[j] == '@')
			at = j;
	}
	if (at && colon && colon < at)
		add(f, colon + 1, at);
}

/* MSI: `PROPERTY CHANGE: Adding SAPWD property. Its value is 'x'.` (also Modifying, Deleting). */
static void property_change(struct finder *f)
{
	static const char head[] = "PROPERTY CHANGE: ";
	const char *s = f->s;
	size_t n = f->n, hl = sizeof(head) - 1;
	size_t at = 0;
	for (; at + hl <= n; at++)
		if (memcmp(s + at, head, hl) == 0)
			break;
	if (at + hl > n)
		return;
	size_t p = at + hl;
	while (p < n && s[p] != ' ')
		p++; /* Adding / Modifying / Deleting */
	size_t name = skip_blanks(f, p), ne = name;
	while (ne < n && s[ne] != ' ')
		ne++;
	if (!secret_name(s + name, ne - name))
		return;
	size_t q = ne;
	while (q < n && s[q] != '\'')
		q++;
	if (q >= n)
		return;
	size_t last = n;
	while (last > q + 1 && s[last - 1] != '\'')
		last--;
	last = last > q + 1 ? last - 1 : n; /* the closing quote, or the end when cut */
	static const char next[] = "'. Its new value: '";
	size_t nl = sizeof(next) - 1;
	for (size_t k = q + 1; k + nl <= last + 1 && k + nl <= n; k++)
		if (memcmp(s + k, next, nl) == 0) {
			add(f, q + 1, k);
			add(f, k + nl, last);
			return;
		}
	add(f, q + 1, last);
}

static bool maybe_secret(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		char c = (char)(s[i] | 0x20), d = (char)(s[i + 1] | 0x20);
		if ((c == 'p' && (d == 'w' || d == 'a')) || s[i] == '@' ||
		    ((s[i] == '-' || s[i] == '/') && d == 'p'))
			return true;
	}
	return false;
}

static int cmp_span(const void *x, const void *y)
{
	const struct ul_mask_span *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

static size_t find(struct finder *f, const char *s, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->s = s;
	f->n = n;
	if (!maybe_secret(s, n))
		return 0;
	property_change(f);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' || c == ':') {
			if (c == ':' && i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/')
				url(f, i);
			else
				key_value(f, i);
		} else if ((c == '-' || c == '/') &&
		           (i == 0 || is_space(s[i - 1]) || strchr("\"'(,", s[i - 1]))) {
			flag(f, i);
		}
	}
	if (f->count < 2)
		return f->count;
	qsort(f->spans, f->count, sizeof(f->spans[0]), cmp_span);
	size_t out = 0;
	for (size_t i = 0; i < f->count; i++) {
		if (out && f->spans[i].start <= f->spans[out - 1].end) {
			if (f->spans[i].end > f->spans[out - 1].end)
				f->spans[out - 1].end = f->spans[i].end;
			continue;
		}
		f->spans[out++] = f->spans[i];
	}
	f->count = out;
	return out;
}

size_t ul_mask_find(const char *s, size_t n, struct ul_mask_span *spans, size_t max)
{
	struct finder f;
	size_t count = find(&f, s, n);
	for (size_t i = 0; i < count && i < max; i++)
		spans[i] = f.spans[i];
	return count;
}

bool ul_mask_has_secret(const char *s, size_t n)
{
	struct finder f;
	return find(&f, s, n) > 0;
}

static char *finish(struct ul_strbuf *o)
{
	ul_strbuf_add(o, "", 0);
	if (o->oom) {
		free(o->p);
		return NULL;
	}
	return o->p;
}

/* Bytes [from, to) of a line whose secrets are `spans`, masked, onto `o`. */
static void put_masked(struct ul_strbuf *o, const char *s, const struct ul_mask_span *spans,
                       size_t nspans, size_t from, size_t to)
{
	size_t at = from;
	for (size_t i = 0; i < nspans && at < to; i++) {
		if (spans[i].end <= at)
			continue;
		if (spans[i].start >= to)
			break;
		if (spans[i].start > at)
			ul_strbuf_add(o, s + at, spans[i].start - at);
		ul_strbuf_add(o, UL_MASK_STARS, sizeof(UL_MASK_STARS) - 1);
		at = spans[i].end;
	}
	if (at < to)
		ul_strbuf_add(o, s + at, to - at);
}

static void mask_lines(struct ul_strbuf *o, const char *s, size_t n)
{
	struct finder *f = malloc(sizeof(*f));
	if (!f) {
		o->oom = true;
		return;
	}
	size_t at = 0;
	while (at <= n) {
		const char *nl = memchr(s + at, '\n', n - at);
		size_t end = nl ? (size_t)(nl - s) : n;
		size_t count = find(f, s + at, end - at);
		put_masked(o, s + at, f->spans, count, 0, end - at);
		if (!nl)
			break;
		ul_strbuf_add(o, "\n", 1);
		at = end + 1;
	}
	free(f);
}

char *ul_mask_text(const char *s, size_t n)
{
	if (s && !maybe_secret(s, n))
		return strndup(s, n); /* most lines: nothing to look at twice */
	struct ul_strbuf o = { 0 };
	mask_lines(&o, s ? s : "", s ? n : 0);
	return finish(&o);
}

char *ul_mask_slice(const char *line, size_t n, size_t from, size_t len)
{
	if (from > n)
		from = n;
	if (len > n - from)
		len = n - from;
	if (!maybe_secret(line, n))
		return strndup(line + from, len);
	struct finder *f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	/* The slice's own line: secrets of lines other than the slice's do not matter. */
	size_t ls = from, le = from + len;
	while (ls > 0 && line[ls - 1] != '\n')
		ls--;
	while (le < n && line[le] != '\n')
		le++;
	size_t count = find(f, line + ls, le - ls);
	struct ul_strbuf o = { 0 };
	put_masked(&o, line + ls, f->spans, count, from - ls, from - ls + len);
	free(f);
	char *once = finish(&o);
	if (!once)
		return NULL;
	char *twice = ul_mask_text(once, strlen(once));
	free(once);
	return twice;
}

void ul_mask_inplace(char *s)
{
	struct finder *f = malloc(sizeof(*f));
	if (!s || !f) {
		/* No memory for the finder: hide the whole text rather than risk a secret. */
		if (s && !f && *s && ul_mask_has_secret(s, strlen(s)))
			s[0] = '\0';
		free(f);
		return;
	}
	char *line = s;
	for (;;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		size_t count = find(f, line, n);
		/* From the last span back, so the earlier offsets stay good. */
		for (size_t i = count; i-- > 0;) {
			size_t a = f->spans[i].start, b = f->spans[i].end;
			size_t stars = b - a < 4 ? b - a : 4;
			memset(line + a, '*', stars);
			memmove(line + a + stars, line + b, strlen(line + b) + 1);
			n -= (b - a) - stars;
		}
		if (!nl)
			break;
		line += n + 1;
	}
	free(f);
}
