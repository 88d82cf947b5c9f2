/* SPDX-License-Identifier: MIT */
/* The Hyperscan prefilter of the classifier. See prefilter.h. */
#include "prefilter.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "rxtok.h"
#include "strbuf.h"
#include "upglog/hash.h"

#if UL_HAVE_HYPERSCAN
#include <hs.h>
#endif

/* ---- rewriting a pattern so it stays on one line ------------------------------------------ */

static void puts_(struct ul_strbuf *o, const char *s)
{
	ul_strbuf_add(o, s, strlen(s));
}

/* Does the option group `t` turn on dot-all (an 's' before any '-')? */
static bool sets_dotall(const char *p, const struct ul_rx_tok *t)
{
	if (t->group != UL_RXG_OPTION)
		return false;
	for (size_t i = t->at + 2; i < t->body && p[i] != '-'; i++)
		if (p[i] == 's')
			return true;
	return false;
}

/*
 * Trailing repeats cost reports, not matches: `^Note: 1: (?<code>\d+)` says "match" once per
 * digit of every note. For a yes/no answer per line, `X\d+` is the same question as `X\d`,
 * `X.*` the same as `X`, `X(?:...)?` the same as `X`. trim_tail() rewrites the end of a
 * pattern that way; captures come from PCRE2 afterwards, so nothing is lost.
 */

/* End of the element starting at p[i] (an atom, class or group), or 0 when unsure. */
static size_t element_end(const char *p, size_t i)
{
	struct ul_rx_tok t;
	size_t end = ul_rx_next(p, i, &t);
	switch (t.kind) {
	case UL_RX_CHAR:
		return p[i] == '{' ? 0 : end;
	case UL_RX_ESCAPE:
	case UL_RX_META:
		return end;
	case UL_RX_CLASS:
		return t.unterminated ? 0 : end;
	case UL_RX_OPEN: {
		/* The whole group, to its ')'. */
		unsigned depth = 1;
		if (t.closed)
			return end;
		for (size_t j = end;;) {
			j = ul_rx_next(p, j, &t);
			if (t.kind == UL_RX_END)
				return 0;
			if (t.kind == UL_RX_OPEN && !t.closed)
				depth++;
			else if (t.kind == UL_RX_CLOSE && --depth == 0)
				return j;
		}
	}
	default: /* the end, ')', '|', a quantifier, a \Q quote */
		return 0;
	}
}

/* A quantifier at p[i]: its end, and its minimum count. 0 when none. */
static size_t quantifier_end(const char *p, size_t i, unsigned *min)
{
	struct ul_rx_tok t;
	size_t end = ul_rx_next(p, i, &t);
	if (t.kind != UL_RX_QUANT)
		return 0;
	*min = t.min;
	return end;
}

/*
 * Trim the tail of p[from, to) in place (the text after `to` moves up); returns the new `to`.
 * Stops at alternations, anchors and anything it does not recognise.
 */
static size_t trim_range(char *p, size_t from, size_t to, bool nested)
{
	for (;;) {
		/* Find the last element of [from, to); give up on a top-level '|'. */
		size_t i = from, last = (size_t)-1, last_end = 0, q_end = 0;
		unsigned min = 1;
		while (i < to) {
			if (p[i] == '|')
				return to;
			size_t e = element_end(p, i);
			if (!e || e > to)
				return to;
			unsigned m = 1;
			size_t qe = quantifier_end(p, e, &m);
			last = i;
			last_end = e;
			q_end = qe ? qe : e;
			min = qe ? m : 1;
			i = q_end;
		}
		if (last == (size_t)-1 || q_end != to)
			return to;
		bool group = p[last] == '(';
		bool plain_group = group && (p[last + 1] != '?' || p[last + 2] == ':' ||
		                             p[last + 2] == '<' || p[last + 2] == 'P');
		if (group && p[last + 1] == '?' && p[last + 2] == '<' &&
		    (p[last + 3] == '=' || p[last + 3] == '!'))
			plain_group = false;
		/* Inside a group the tail may go entirely; the whole pattern must keep something. */
		if (min == 0 && (last > from || nested)) {
			/* `X(...)?`, `X.*`: drop the optional tail. */
			memmove(p + last, p + to, strlen(p + to) + 1);
			to = last;
			continue;
		}
		if (q_end > last_end && min >= 1) {
			/* `X\d+`, `X\d{2,5}`: the element `min` times (once for +). */
			char count[16] = "";
			if (min > 1)
				snprintf(count, sizeof(count), "{%u}", min);
			size_t clen = strlen(count), old = q_end - last_end;
			memmove(p + last_end + clen, p + q_end, strlen(p + q_end) + 1);
			memcpy(p + last_end, count, clen);
			to = to - old + clen;
			if (min > 1 || !plain_group)
				return to;
		}
		if (!plain_group || (q_end > last_end && min != 1))
			return to;
		/* A group at the end: trim inside it. */
		size_t body = last + 1;
		if (p[body] == '?') {
			body++;
			if (p[body] == ':') {
				body++;
			} else {
				while (p[body] && p[body] != '>')
					body++;
				body++;
			}
		}
		size_t close = last_end - 1;
		if (body >= close)
			return to;
		size_t new_close = trim_range(p, body, close, true);
		return to - (close - new_close);
	}
}

static void trim_tail(char *p)
{
	trim_range(p, 0, strlen(p), false);
}

/* Escapes whose meaning is the same on one line and in a chunk of lines, outside classes. */
static bool safe_escape(char n, bool in_class)
{
	if (strchr("\\.+*?()|[]{}^$#&-~/ '\"%,:;<=>@_`!", n))
		return true; /* escaped punctuation: the character itself */
	if (strchr("dSwtrf", n))
		return true; /* \S never matches '\n'; \d, \w neither */
	return !in_class && strchr("bB", n);
}

/* An escape rewritten line-safe into o; false when it cannot be. */
static bool put_escape(struct ul_strbuf *o, const char *p, size_t at, size_t end, char n,
                       bool in_class, bool negated)
{
	/* Inside a negated class, \n only says "not a line end" again. */
	if (in_class && negated && n == 'n') {
		ul_strbuf_add(o, p + at, 2);
		return true;
	}
	if (n == 'x') {
		/* \xHH, but never one that spells a line end; \x{...} is not worth it. */
		const char *h = p + at + 2;
		if (end != at + 4 || !isxdigit((unsigned char)h[0]) ||
		    !isxdigit((unsigned char)h[1]) || strncasecmp(h, "0a", 2) == 0 ||
		    strncasecmp(h, "0d", 2) == 0)
			return false;
		ul_strbuf_add(o, p + at, 4);
		return true;
	}
	if (n == 's')
		puts_(o, in_class ? "\\t\\x0b\\x0c\\r " : "[\\t\\x0b\\x0c\\r ]");
	else if (n == 'D' && !in_class)
		puts_(o, "[^0-9\\n]");
	else if (n == 'W' && !in_class)
		puts_(o, "[^0-9A-Za-z_\\n]");
	else if (n && end == at + 2 && safe_escape(n, in_class))
		ul_strbuf_add(o, p + at, 2);
	else
		return false; /* \p, \P, \c, \o, octal, \A, \z, \R, \v, \Q ...: line or buffer ends */
	return true;
}

char *ul_prefilter_line_safe(const char *p)
{
	struct ul_strbuf o = { 0 };
	struct ul_rx_tok t;
	for (size_t i = 0;; i = t.end) {
		ul_rx_next(p, i, &t);
		if (t.kind == UL_RX_END)
			break;
		if (t.kind == UL_RX_ESCAPE || t.kind == UL_RX_QUOTE) {
			if (t.kind == UL_RX_QUOTE ||
			    !put_escape(&o, p, t.at, t.end, t.esc, false, false))
				goto unsafe;
			continue;
		}
		if (t.kind == UL_RX_CLASS) {
			if (t.unterminated)
				goto unsafe;
			ul_strbuf_add(&o, p + t.at, t.first - t.at); /* '[' or '[^' */
			struct ul_rx_member m;
			for (size_t j = t.first;;) {
				j = ul_rx_member(p, &t, j, &m);
				if (m.kind == UL_RXM_END)
					break;
				if (m.kind == UL_RXM_POSIX ||
				    (p[m.at] == '[' && p[m.at + 1] == ':'))
					goto unsafe; /* [:space:] and its kin may hold '\n' */
				if (m.kind == UL_RXM_QUOTE ||
				    (m.kind == UL_RXM_ESCAPE &&
				     !put_escape(&o, p, m.at, m.end, m.esc, true, t.negated)))
					goto unsafe;
				if (m.kind == UL_RXM_CHAR)
					ul_strbuf_add(&o, p + m.at, m.end - m.at);
			}
			puts_(&o, t.negated ? "\\n]" : "]");
			continue;
		}
		if (t.kind == UL_RX_OPEN && sets_dotall(p, &t))
			goto unsafe;
		ul_strbuf_add(&o, p + t.at, t.end - t.at);
	}
	if (o.oom)
		goto unsafe;
	if (!o.p)
		o.p = strdup("");
	else
		trim_tail(o.p);
	return o.p;
unsafe:
	free(o.p);
	return NULL;
}

/* ---- the database -------------------------------------------------------------------------- */

#if UL_HAVE_HYPERSCAN

struct ul_prefilter {
	hs_database_t *db;
	uint8_t *mode;
	size_t n;
	uint32_t *absent; /* positions whose mode is UL_PF_ABSENT */
	size_t nabsent;
	unsigned id; /* distinct per database, for the scratch bookkeeping */
};

static unsigned next_id;

/* What goes into the database: the rewritten expressions and their flags. */
struct exprs {
	char **expr;
	unsigned *flags, *ids;
	unsigned m; /* expressions Hyperscan takes, once sorted out */
	size_t n;   /* family positions */
};

/*
 * Compiled databases are cached on disk: compiling a family takes a few hundred milliseconds,
 * loading one takes about one. The file name carries a digest of everything the database is
 * made of (the rewritten expressions and the Hyperscan version); the file holds how Hyperscan
 * takes each rule (exactly, approximately, not at all) and the database, whose platform
 * Hyperscan checks when loading. A cache that cannot be read or written is simply not
 * used. UPGLOG_CACHE_DIR names another folder; set it empty to turn the cache off.
 */
#define CACHE_FORMAT "5"
#define CACHE_MAGIC  "upglog-prefilter-" CACHE_FORMAT "\n"

static bool cache_dir(char *buf, size_t cap)
{
	const char *dir = getenv("UPGLOG_CACHE_DIR");
	if (dir)
		return *dir && snprintf(buf, cap, "%s", dir) < (int)cap;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		return snprintf(buf, cap, "%s/upglog", xdg) < (int)cap;
	return home && *home && snprintf(buf, cap, "%s/.cache/upglog", home) < (int)cap;
}

static bool cache_path(const char *key, const char *fam, char *buf, size_t cap)
{
	char dir[PATH_MAX];
	if (!cache_dir(dir, sizeof(dir)))
		return false;
	int len = snprintf(buf, cap, "%s/prefilter-%s-%s.hsdb", dir, fam, key);
	return len > 0 && (size_t)len < cap;
}

static uint64_t cache_sum(const uint8_t *mode, size_t n, const char *bytes, size_t size)
{
	struct ul_hash h;
	ul_hash_init(&h);
	ul_hash_update(&h, mode, n);
	if (size)
		ul_hash_update(&h, bytes, size);
	return ul_hash_final(&h);
}

/*
 * Load the modes and the database. The modes must fit the rewritten rules (a rule that could
 * not be rewritten is absent); a family Hyperscan takes nothing of is stored without database.
 */
static bool cache_load(struct ul_prefilter *pf, const struct exprs *x, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char magic[sizeof(CACHE_MAGIC) - 1];
	uint64_t n = 0, size = 0;
	char *bytes = NULL;
	uint64_t sum = 0;
	bool ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
	          memcmp(magic, CACHE_MAGIC, sizeof(magic)) == 0 &&
	          fread(&n, sizeof(n), 1, f) == 1 && n == pf->n &&
	          fread(pf->mode, 1, pf->n, f) == pf->n && fread(&size, sizeof(size), 1, f) == 1 &&
	          size < (1ull << 31) && (bytes = malloc(size ? size : 1)) &&
	          fread(bytes, 1, size, f) == size && fread(&sum, sizeof(sum), 1, f) == 1 &&
	          fgetc(f) == EOF;
	fclose(f);
	/* A damaged file must not pass for a good one: the modes decide what PCRE2 confirms. */
	ok = ok && sum == cache_sum(pf->mode, pf->n, bytes, size);
	bool any = false;
	for (size_t k = 0; ok && k < pf->n; k++) {
		ok = pf->mode[k] <= UL_PF_EXACT && (x->expr[k] || pf->mode[k] == UL_PF_ABSENT);
		any = any || pf->mode[k] != UL_PF_ABSENT;
	}
	ok = ok && any == (size > 0);
	if (ok && size)
		ok = hs_deserialize_database(bytes, size, &pf->db) == HS_SUCCESS;
	free(bytes);
	if (!ok)
		memset(pf->mode, UL_PF_ABSENT, pf->n);
	return ok;
}

/* Keep the cache small: past CACHE_KEEP databases, the least recently written go. */
#define CACHE_KEEP 24

static void cache_trim(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct entry {
		char name[128];
		time_t mtime;
	} e[CACHE_KEEP + 8];
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "prefilter-", 10) != 0 || len < 6 || len >= 128 ||
		    strcmp(de->d_name + len - 5, ".hsdb") != 0)
			continue;
		char path[PATH_MAX];
		struct stat st;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) != 0)
			continue;
		if (n == sizeof(e) / sizeof(e[0])) {
			/* Full: forget the newest seen so far, the oldest must stay candidates. */
			size_t newest = 0;
			for (size_t i = 1; i < n; i++)
				if (e[i].mtime > e[newest].mtime)
					newest = i;
			if (st.st_mtime >= e[newest].mtime)
				continue;
			e[newest] = e[--n];
		}
		memcpy(e[n].name, de->d_name, len + 1);
		e[n].mtime = st.st_mtime;
		n++;
	}
	closedir(d);
	while (n > CACHE_KEEP) {
		size_t oldest = 0;
		for (size_t i = 1; i < n; i++)
			if (e[i].mtime < e[oldest].mtime)
				oldest = i;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e[oldest].name) < (int)sizeof(path))
			unlink(path);
		e[oldest] = e[--n];
	}
}

static void cache_store(const struct ul_prefilter *pf, const char *path)
{
	char *bytes = NULL, tmp[PATH_MAX + 32], dir[PATH_MAX];
	size_t size = 0;
	if (pf->db && hs_serialize_database(pf->db, &bytes, &size) != HS_SUCCESS)
		return;
	/* Create the folder (and its parent, ~/.cache) when missing. */
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		char *parent = strrchr(dir, '/');
		if (parent && parent != dir) {
			*parent = '\0';
			mkdir(dir, 0700);
			*parent = '/';
		}
		mkdir(dir, 0700);
	}
	/* Write aside and rename: a reader never sees half a file, concurrent writers are fine. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (f) {
		uint64_t n = pf->n, sz = size;
		bool ok = fwrite(CACHE_MAGIC, 1, sizeof(CACHE_MAGIC) - 1, f) ==
		                  sizeof(CACHE_MAGIC) - 1 &&
		          fwrite(&n, sizeof(n), 1, f) == 1 &&
		          fwrite(pf->mode, 1, pf->n, f) == pf->n &&
		          fwrite(&sz, sizeof(sz), 1, f) == 1 && fwrite(bytes, 1, size, f) == size;
		uint64_t sum = cache_sum(pf->mode, pf->n, bytes, size);
		ok = ok && fwrite(&sum, sizeof(sum), 1, f) == 1;
		ok = fclose(f) == 0 && ok;
		if (!ok || rename(tmp, path) != 0)
			unlink(tmp);
	}
	free(bytes);
	if (slash) {
		*slash = '\0';
		cache_trim(dir);
	}
}

static void exprs_free(struct exprs *x)
{
	for (size_t i = 0; x->expr && i < x->n; i++)
		free(x->expr[i]);
	free(x->expr);
	free(x->flags);
	free(x->ids);
}

/* Each pattern rewritten line-safe, or NULL where it cannot be (x->m stays 0). */
static bool rewrite(const char *const *patterns, size_t n, struct exprs *x, struct ul_error *err)
{
	x->expr = calloc(n ? n : 1, sizeof(*x->expr));
	x->flags = calloc(n ? n : 1, sizeof(*x->flags));
	x->ids = calloc(n ? n : 1, sizeof(*x->ids));
	x->n = n;
	if (!x->expr || !x->flags || !x->ids)
		return ul_error_set(err, "memory", "out of memory building the prefilter");
	for (size_t k = 0; k < n; k++)
		x->expr[k] = ul_prefilter_line_safe(patterns[k]);
	return true;
}

/*
 * Sort out how Hyperscan can take each rewritten rule (sets pf->mode) and pack the ones it
 * takes at the front of x, with their flags and family positions.
 */
static void classify_exprs(struct ul_prefilter *pf, struct exprs *x)
{
	for (size_t k = 0; k < x->n; k++) {
		char *use = x->expr[k];
		x->expr[k] = NULL;
		if (!use)
			continue; /* its meaning in a chunk of lines differs: PCRE2 on every line */
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *ce = NULL;
		uint8_t mode = UL_PF_EXACT;
		unsigned fl = HS_FLAG_UTF8 | HS_FLAG_MULTILINE;
		if (hs_expression_info(use, fl, &info, &ce) != HS_SUCCESS) {
			hs_free_compile_error(ce);
			ce = NULL;
			fl |= HS_FLAG_PREFILTER;
			mode = UL_PF_SUPERSET;
			if (hs_expression_info(use, fl, &info, &ce) != HS_SUCCESS) {
				/* Not for Hyperscan at all: PCRE2 tries it on every line. */
				hs_free_compile_error(ce);
				free(use);
				continue;
			}
		}
		free(info);
		x->expr[x->m] = use;
		x->flags[x->m] = fl;
		x->ids[x->m] = (unsigned)k;
		x->m++;
		pf->mode[k] = mode;
	}
}

/*
 * The cache key: everything the database is made of, known before Hyperscan looks at a single
 * expression (that look costs more than loading the database).
 */
static void digest(const struct exprs *x, char hex[17])
{
	struct ul_hash h;
	uint64_t n = x->n;
	ul_hash_init(&h);
	ul_hash_update(&h, hs_version(), strlen(hs_version()) + 1);
	ul_hash_update(&h, &n, sizeof(n));
	for (size_t k = 0; k < x->n; k++) {
		const char *e = x->expr[k] ? x->expr[k] : "";
		ul_hash_update(&h, x->expr[k] ? "+" : "-", 1);
		ul_hash_update(&h, e, strlen(e) + 1);
	}
	ul_hash_hex(ul_hash_final(&h), hex);
}

struct ul_prefilter *ul_prefilter_build(const char *name, const char *const *patterns, size_t n,
                                        struct ul_error *err)
{
	char path[PATH_MAX], key[17];
	struct exprs x = { 0 };
	struct ul_prefilter *pf = calloc(1, sizeof(*pf));
	if (!pf || !(pf->mode = calloc(n ? n : 1, 1))) {
		free(pf);
		ul_error_set(err, "memory", "out of memory building the prefilter");
		return NULL;
	}
	pf->n = n;
	if (!rewrite(patterns, n, &x, err))
		goto fail;
	digest(&x, key);
	bool cached = cache_path(key, name, path, sizeof(path));
	if (cached && cache_load(pf, &x, path))
		goto done;
	classify_exprs(pf, &x);
	if (x.m > 0) {
		hs_compile_error_t *ce = NULL;
		if (hs_compile_multi((const char *const *)x.expr, x.flags, x.ids, x.m,
		                     HS_MODE_BLOCK, NULL, &pf->db, &ce) != HS_SUCCESS) {
			ul_error_set(err, "rules", "prefilter for family %s: %s", name,
			             ce ? ce->message : "compile failed");
			hs_free_compile_error(ce);
			goto fail;
		}
		if (cached)
			cache_store(pf, path);
	}
done:
	exprs_free(&x);
	if (!(pf->absent = malloc((n ? n : 1) * sizeof(*pf->absent)))) {
		ul_error_set(err, "memory", "out of memory building the prefilter");
		ul_prefilter_free(pf);
		return NULL;
	}
	for (size_t k = 0; k < n; k++)
		if (pf->mode[k] == UL_PF_ABSENT)
			pf->absent[pf->nabsent++] = (uint32_t)k;
	pf->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	return pf;
fail:
	exprs_free(&x);
	ul_prefilter_free(pf);
	return NULL;
}

void ul_prefilter_free(struct ul_prefilter *pf)
{
	if (!pf)
		return;
	hs_free_database(pf->db);
	free(pf->mode);
	free(pf->absent);
	free(pf);
}

const uint32_t *ul_prefilter_absent(const struct ul_prefilter *pf, size_t *n)
{
	*n = pf->nabsent;
	return pf->absent;
}

/* ---- scanning ------------------------------------------------------------------------------ */

#define SCRATCH_DBS 16

struct ul_pf_scratch {
	hs_scratch_t *hs;
	unsigned ready[SCRATCH_DBS]; /* databases the scratch was sized for */
	struct ul_pf_cand *c;
	size_t n, cap;
	bool oom;
	/* the scan in progress */
	const uint32_t *starts;
	size_t nlines, cursor;
	uint32_t *best;
	const uint8_t *mode;
};

struct ul_pf_scratch *ul_pf_scratch_new(void)
{
	return calloc(1, sizeof(struct ul_pf_scratch));
}

void ul_pf_scratch_free(struct ul_pf_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->hs);
	free(s->c);
	free(s);
}

static bool scratch_for(struct ul_pf_scratch *s, const struct ul_prefilter *pf)
{
	for (size_t i = 0; i < SCRATCH_DBS; i++)
		if (s->ready[i] == pf->id)
			return true;
	if (hs_alloc_scratch(pf->db, &s->hs) != HS_SUCCESS)
		return false;
	for (size_t i = 0; i < SCRATCH_DBS; i++)
		if (!s->ready[i]) {
			s->ready[i] = pf->id;
			break;
		}
	return true;
}

/* The line holding byte `at`: a cursor for the usual increasing order, else a binary search. */
static size_t line_of(struct ul_pf_scratch *s, size_t at)
{
	size_t i = s->cursor;
	if (s->starts[i] > at) {
		size_t lo = 0, hi = i;
		while (lo + 1 < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->starts[mid] <= at)
				lo = mid;
			else
				hi = mid;
		}
		return lo;
	}
	while (i + 1 < s->nlines && s->starts[i + 1] <= at)
		i++;
	s->cursor = i;
	return i;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
	struct ul_pf_scratch *s = ctx;
	(void)from;
	(void)flags;
	if (to == 0)
		return 0;
	size_t line = line_of(s, (size_t)to - 1);
	if (s->mode[id] == UL_PF_EXACT) {
		if (id < s->best[line])
			s->best[line] = id;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ul_pf_cand *c = realloc(s->c, cap * sizeof(*c));
		if (!c) {
			s->oom = true;
			return 1;
		}
		s->c = c;
		s->cap = cap;
	}
	s->c[s->n++] = (struct ul_pf_cand){ (uint32_t)line, id };
	return 0;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct ul_pf_cand *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

bool ul_prefilter_scan(const struct ul_prefilter *pf, struct ul_pf_scratch *s, const char *buf,
                       size_t len, const uint32_t *starts, size_t nlines, uint32_t *best,
                       const struct ul_pf_cand **cands, size_t *ncands)
{
	s->n = 0;
	*cands = NULL;
	*ncands = 0;
	if (!pf->db || nlines == 0)
		return true;
	if (!scratch_for(s, pf))
		return false;
	s->oom = false;
	s->starts = starts;
	s->nlines = nlines;
	s->cursor = 0;
	s->best = best;
	s->mode = pf->mode;
	if (hs_scan(pf->db, buf, (unsigned)len, 0, s->hs, on_match, s) != HS_SUCCESS || s->oom)
		return false;
	/* Mostly in order already; candidates are rare next to exact reports. */
	if (s->n > 1)
		qsort(s->c, s->n, sizeof(*s->c), cmp_cand);
	*cands = s->c;
	*ncands = s->n;
	return true;
}

#else /* !UL_HAVE_HYPERSCAN */

struct ul_prefilter *ul_prefilter_build(const char *name, const char *const *patterns, size_t n,
                                        struct ul_error *err)
{
	(void)name;
	(void)patterns;
	(void)n;
	(void)err;
	return NULL;
}

void ul_prefilter_free(struct ul_prefilter *pf)
{
	(void)pf;
}

const uint32_t *ul_prefilter_absent(const struct ul_prefilter *pf, size_t *n)
{
	(void)pf;
	*n = 0;
	return NULL;
}

struct ul_pf_scratch *ul_pf_scratch_new(void)
{
	return NULL;
}

void ul_pf_scratch_free(struct ul_pf_scratch *s)
{
	(void)s;
}

bool ul_prefilter_scan(const struct ul_prefilter *pf, struct ul_pf_scratch *s, const char *buf,
                       size_t len, const uint32_t *starts, size_t nlines, uint32_t *best,
                       const struct ul_pf_cand **cands, size_t *ncands)
{
	(void)pf, (void)s, (void)buf, (void)len, (void)starts, (void)nlines, (void)best;
	*cands = NULL;
	*ncands = 0;
	return false;
}

#endif
