/* SPDX-License-Identifier: MIT */
/* classify: lines -> hits. See include/upglog/classify.h. */
#include "upglog/classify.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_impl.h"
#include "config.h"
#include "prefilter.h"

/*
 * The memo: MSI logs repeat the same messages thousands of times (`Note: 1: 2205 2:  3:
 * Error`). A line's rule depends on its message alone, so a direct-mapped table of recent
 * short messages and the rule that won them (kept only for rules that need no captures)
 * spares the matchers the repeats. Results are the same with or without it.
 *
 * Before the memo, the catalogue's decisive literals (catalog_impl.h): `Executing op:`,
 * `PROPERTY CHANGE:`, `Note: 1: 1402 2: ` and their kin start most lines of a verbose log, and
 * the catalogue has proved which noise rule such a message goes to (unless one of the
 * literal's exceptions starts it, and, where the literal is not the whole pattern, when that
 * rule matches). A comparison, or one anchored PCRE2 run, decides it.
 */
#define MEMO_SLOTS 8192
#define MEMO_KEY   96
#define PENDING    INT32_MIN

/* A slot; its hash lives apart (`memo_tags`) so that a miss reads 8 bytes of a 64 KiB array. */
struct memo {
	int32_t rank; /* -1: no rule */
	uint8_t fam, len;
	char key[MEMO_KEY];
};

/*
 * The prefilter databases, one per family, built on first use and shared by every classifier
 * made with ul_classifier_share from the same first one (the threads of a scan): they take a
 * while to compile, and are read-only once built. The last classifier to go frees them.
 */
struct shared_pf {
	pthread_mutex_t mu;
	unsigned refs;
	struct ul_prefilter *pf[UL_FAMILY_MAX];
	bool tried[UL_FAMILY_MAX];
	struct ul_error err; /* why a build failed, once */
};

#if UL_HAVE_HYPERSCAN
static struct shared_pf *shared_new(void)
{
	struct shared_pf *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	pthread_mutex_init(&sh->mu, NULL);
	sh->refs = 1;
	return sh;
}
#endif

static void shared_release(struct shared_pf *sh)
{
	if (!sh)
		return;
	pthread_mutex_lock(&sh->mu);
	unsigned left = --sh->refs;
	pthread_mutex_unlock(&sh->mu);
	if (left)
		return;
	for (size_t f = 0; f < UL_FAMILY_MAX; f++)
		ul_prefilter_free(sh->pf[f]);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

/* Family `fam`'s database, built from its rules' patterns alone on first use. */
static const struct ul_prefilter *shared_get(struct shared_pf *sh, const struct ul_catalog *cat,
                                             ul_family fam)
{
	if (fam >= UL_FAMILY_MAX)
		return NULL;
	pthread_mutex_lock(&sh->mu);
	if (!sh->tried[fam]) {
		sh->tried[fam] = true;
		size_t n;
		const uint32_t *ranks = ul_catalog_family(cat, fam, &n);
		const char **pats = malloc((n ? n : 1) * sizeof(*pats));
		if (pats) {
			for (size_t k = 0; k < n; k++)
				pats[k] = ul_catalog_rule(cat, ranks[k])->match;
			sh->pf[fam] = ul_prefilter_build(ul_catalog_family_name(cat, fam), pats, n,
			                                 &sh->err);
			free(pats);
		}
	}
	struct ul_prefilter *pf = sh->pf[fam];
	pthread_mutex_unlock(&sh->mu);
	return pf;
}

struct ul_classifier {
	const struct ul_catalog *cat;
	struct shared_pf *shared; /* NULL without prefilter */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	bool prefilter;
	uint64_t limit_errors;
	/*
	 * Per chunk: the messages that go to the matchers, joined by '\n' (`starts`, `best` and
	 * `idx` by matcher line), and per chunk line the prefix cut off, the memo's answer and
	 * the message's hash.
	 */
	char *bodies;
	size_t bodies_cap;
	uint32_t *starts, *best, *idx, *delta;
	int32_t *known;
	uint64_t *hashv;
	size_t lines_cap;
	uint64_t *memo_tags; /* hash of each slot's message */
	struct memo *memo;
	struct ul_pf_scratch *pfs;
};

void ul_hits_init(struct ul_hits *h)
{
	memset(h, 0, sizeof(*h));
}

void ul_hits_clear(struct ul_hits *h)
{
	h->n = 0;
	h->ncaps = 0;
	h->limit_errors = 0;
}

void ul_hits_finish(struct ul_hits *h)
{
	if (!h)
		return;
	free(h->v);
	free(h->caps);
	memset(h, 0, sizeof(*h));
}

void ul_classifier_destroy(struct ul_classifier *cl)
{
	if (!cl)
		return;
	pcre2_match_data_free(cl->md);
	ul_pf_scratch_free(cl->pfs);
	free(cl->bodies);
	free(cl->starts);
	free(cl->best);
	free(cl->idx);
	free(cl->delta);
	free(cl->known);
	free(cl->hashv);
	free(cl->memo_tags);
	free(cl->memo);
	shared_release(cl->shared);
	free(cl);
}

static struct ul_classifier *create(const struct ul_catalog *cat, bool prefilter,
                                    struct shared_pf *shared, struct ul_error *err)
{
	struct ul_classifier *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		ul_error_set(err, "memory", "out of memory");
		return NULL;
	}
	cl->cat = cat;
	cl->mctx = ul_catalog_match_context(cat);
	cl->md = pcre2_match_data_create(ul_catalog_max_groups(cat), NULL);
	cl->memo = calloc(MEMO_SLOTS, sizeof(*cl->memo));
	cl->memo_tags = calloc(MEMO_SLOTS, sizeof(*cl->memo_tags));
	if (!cl->md || !cl->memo || !cl->memo_tags) {
		ul_error_set(err, "memory", "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < MEMO_SLOTS; k++)
		cl->memo[k].len = UINT8_MAX; /* empty: no message is that long */
#if UL_HAVE_HYPERSCAN
	cl->prefilter = prefilter;
	if (prefilter && shared) {
		pthread_mutex_lock(&shared->mu);
		shared->refs++;
		pthread_mutex_unlock(&shared->mu);
		cl->shared = shared;
	} else if (prefilter) {
		cl->shared = shared_new();
	}
	if (prefilter && (!cl->shared || !(cl->pfs = ul_pf_scratch_new()))) {
		ul_error_set(err, "memory", "out of memory");
		goto fail;
	}
#else
	(void)prefilter;
	(void)shared;
#endif
	return cl;
fail:
	ul_classifier_destroy(cl);
	return NULL;
}

struct ul_classifier *ul_classifier_create(const struct ul_catalog *cat, bool prefilter,
                                           struct ul_error *err)
{
	return create(cat, prefilter, NULL, err);
}

struct ul_classifier *ul_classifier_share(const struct ul_classifier *cl, struct ul_error *err)
{
	return create(cl->cat, cl->prefilter, cl->shared, err);
}

bool ul_classifier_prefiltered(const struct ul_classifier *cl)
{
	return cl->prefilter;
}

/* ---- the MSI engine prefix ----------------------------------------------------------------- */

static size_t hex_run(const char *s, size_t i, size_t len)
{
	size_t j = i;
	while (j < len && isxdigit((unsigned char)s[j]))
		j++;
	return j;
}

size_t ul_classify_msi_prefix(const char *s, size_t len)
{
	if (len < 12 || memcmp(s, "MSI (", 5) != 0 || !isalpha((unsigned char)s[5]) ||
	    memcmp(s + 6, ") (", 3) != 0)
		return 0;
	size_t j = hex_run(s, 9, len);
	if (j == 9 || j >= len || (s[j] != ':' && s[j] != '!'))
		return 0;
	size_t k = hex_run(s, j + 1, len);
	if (k == j + 1 || k >= len || s[k] != ')')
		return 0;
	j = k + 1;
	if (j + 1 < len && s[j] == ' ' && s[j + 1] == '[') {
		k = j + 2;
		while (k < len && (isdigit((unsigned char)s[k]) || s[k] == ':'))
			k++;
		if (k == j + 2 || k >= len || s[k] != ']')
			return 0;
		j = k + 1;
	}
	if (j < len && s[j] == ' ')
		j++;
	if (j >= len || s[j] != ':')
		return 0;
	j++;
	if (j < len && s[j] == ' ')
		j++;
	return j;
}

/* ---- matching ------------------------------------------------------------------------------ */

/* PCRE2 on one rule. Lines from the decoder are valid UTF-8, so the UTF check is skipped. */
static bool pmatch(struct ul_classifier *cl, size_t rank, const char *s, size_t len,
                   uint32_t options)
{
	int rc = pcre2_match(ul_catalog_code(cl->cat, rank), (PCRE2_SPTR)s, len, 0, options, cl->md,
	                     cl->mctx);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		cl->limit_errors++;
	return rc >= 0;
}

/* Copy the named slots of the last successful match into caps, shifted by `delta`. */
static void take_caps(struct ul_classifier *cl, const struct ul_rule *r, uint32_t delta,
                      uint32_t *caps)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(cl->md);
	uint32_t pairs = pcre2_get_ovector_count(cl->md);
	for (unsigned i = 0; i < UL_MAX_CAPS; i++) {
		caps[2 * i] = caps[2 * i + 1] = UL_CAP_UNSET;
		if (i >= r->ncaps || r->cap_group[i] >= pairs)
			continue;
		PCRE2_SIZE a = ov[2 * r->cap_group[i]], b = ov[2 * r->cap_group[i] + 1];
		if (a != PCRE2_UNSET && b != PCRE2_UNSET) {
			caps[2 * i] = (uint32_t)a + delta;
			caps[2 * i + 1] = (uint32_t)b + delta;
		}
	}
}

/* First family position from `from` on whose rule matches, or -1 (the reference path). */
static long first_match(struct ul_classifier *cl, const uint32_t *ranks, size_t n, size_t from,
                        const char *s, size_t len, uint32_t options)
{
	for (size_t k = from; k < n; k++)
		if (pmatch(cl, ranks[k], s, len, options))
			return (long)k;
	return -1;
}

static bool push_hit(struct ul_hits *h, uint32_t line, uint32_t rule, const uint32_t *caps,
                     unsigned ncaps)
{
	if (h->n == h->cap) {
		size_t n = h->cap ? h->cap * 2 : 1024;
		struct ul_hit *v = realloc(h->v, n * sizeof(*v));
		if (!v)
			return false;
		h->v = v;
		h->cap = n;
	}
	int32_t at = -1;
	if (caps) {
		if (h->ncaps + 2 * ncaps > h->caps_cap) {
			size_t n = h->caps_cap ? h->caps_cap * 2 : 1024;
			while (n < h->ncaps + 2 * ncaps)
				n *= 2;
			uint32_t *v = realloc(h->caps, n * sizeof(*v));
			if (!v)
				return false;
			h->caps = v;
			h->caps_cap = n;
		}
		at = (int32_t)h->ncaps;
		if (ncaps) {
			memcpy(h->caps + h->ncaps, caps, 2 * ncaps * sizeof(*caps));
			h->ncaps += 2 * ncaps;
		}
	}
	h->v[h->n++] = (struct ul_hit){ .line = line, .rule = rule, .caps = at };
	return true;
}

/*
 * Line `line` won position k (PCRE2 has just matched it when `matched`). Record the hit, with its
 * captures when wanted, and say in *won which rank it went to (-1: none). PCRE2 has the last
 * word: when it does not confirm a rule the prefilter vouched for, the next rule gets its turn.
 */
static bool record(struct ul_classifier *cl, const uint32_t *ranks, size_t n, long k, bool matched,
                   uint32_t line, const char *body, size_t len, uint32_t delta, bool all_captures,
                   struct ul_hits *out, long *won)
{
	uint32_t caps[2 * UL_MAX_CAPS];
	*won = -1;
	while (k >= 0) {
		const struct ul_rule *r = ul_catalog_rule(cl->cat, ranks[k]);
		if (!all_captures && ul_rule_counted_only(r)) {
			*won = (long)ranks[k];
			return push_hit(out, line, ranks[k], NULL, 0);
		}
		if (matched || pmatch(cl, ranks[k], body, len, PCRE2_NO_UTF_CHECK)) {
			take_caps(cl, r, delta, caps);
			*won = (long)ranks[k];
			return push_hit(out, line, ranks[k], caps, r->ncaps);
		}
		k = first_match(cl, ranks, n, (size_t)k + 1, body, len, PCRE2_NO_UTF_CHECK);
		matched = true;
	}
	return true;
}

static bool grow_u32(uint32_t **v, size_t cap)
{
	uint32_t *p = realloc(*v, cap * sizeof(*p));
	if (p)
		*v = p;
	return p != NULL;
}

static bool grow(struct ul_classifier *cl, size_t lines, size_t bytes)
{
	if (lines > cl->lines_cap) {
		size_t cap = cl->lines_cap ? cl->lines_cap : 1024;
		while (cap < lines)
			cap *= 2;
		int32_t *k = realloc(cl->known, cap * sizeof(*k));
		if (k)
			cl->known = k;
		uint64_t *h = realloc(cl->hashv, cap * sizeof(*h));
		if (h)
			cl->hashv = h;
		if (!k || !h || !grow_u32(&cl->starts, cap) || !grow_u32(&cl->best, cap) ||
		    !grow_u32(&cl->idx, cap) || !grow_u32(&cl->delta, cap))
			return false;
		cl->lines_cap = cap;
	}
	if (bytes > cl->bodies_cap) {
		size_t cap = cl->bodies_cap ? cl->bodies_cap : 65536;
		while (cap < bytes)
			cap *= 2;
		char *p = realloc(cl->bodies, cap);
		if (!p)
			return false;
		cl->bodies = p;
		cl->bodies_cap = cap;
	}
	return true;
}

/* A quick hash of a short message (multiply-rotate over 8-byte words). */
static uint64_t memo_hash(const char *s, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
	}
	uint64_t t = 0;
	memcpy(&t, s, n);
	h = (h ^ t) * 0x94D049BB133111EBull;
	return h ^ (h >> 29);
}

static bool starts_with(const char *s, size_t len, const char *lit, size_t n)
{
	return n <= len && memcmp(s, lit, n) == 0;
}

/* Does a decisive literal (catalog_impl.h) give this message its rule? */
static bool decided(struct ul_classifier *cl, ul_family fam, const char *body, size_t blen,
                    int32_t *rank)
{
	size_t n;
	const struct ul_decisive *d = ul_catalog_decisive(cl->cat, fam, (unsigned char)body[0], &n);
	for (size_t k = 0; k < n; k++) {
		if (!starts_with(body, blen, d[k].lit, d[k].len))
			continue;
		bool exception = false;
		for (unsigned x = 0; x < d[k].nexc && !exception; x++)
			exception = starts_with(body, blen, d[k].exc[x], d[k].exc_len[x]);
		if (exception ||
		    (d[k].confirm && !pmatch(cl, d[k].rank, body, blen, PCRE2_NO_UTF_CHECK)))
			continue;
		*rank = (int32_t)d[k].rank;
		return true;
	}
	return false;
}

/*
 * Lay the chunk out for the matchers: each line's prefix is cut, and the messages that neither
 * a decisive literal nor the memo decides (with `shortcuts`: no captures wanted) are copied,
 * each followed by '\n'. Returns the number of matcher lines.
 */
static size_t lay_out(struct ul_classifier *cl, ul_family fam, const struct ul_chunk *chunk,
                      bool shortcuts)
{
	size_t pos = 0, m = 0;
	for (size_t i = 0; i < chunk->nlines; i++) {
		const struct ul_line *l = &chunk->lines[i];
		const char *s = chunk->text + l->start;
		size_t d = ul_classify_msi_prefix(s, l->len), blen = l->len - d;
		cl->delta[i] = (uint32_t)d;
		cl->known[i] = PENDING;
		if (shortcuts && blen && decided(cl, fam, s + d, blen, &cl->known[i]))
			continue;
		if (shortcuts && blen <= MEMO_KEY) {
			uint64_t h = memo_hash(s + d, blen);
			const struct memo *e = &cl->memo[h & (MEMO_SLOTS - 1)];
			if (cl->memo_tags[h & (MEMO_SLOTS - 1)] == h && e->fam == (uint8_t)fam &&
			    e->len == blen && memcmp(e->key, s + d, blen) == 0) {
				cl->known[i] = e->rank;
				continue;
			}
			cl->hashv[i] = h;
		}
		cl->idx[m] = (uint32_t)i;
		cl->starts[m++] = (uint32_t)pos;
		memcpy(cl->bodies + pos, s + d, blen);
		pos += blen;
		cl->bodies[pos++] = '\n';
	}
	return m;
}

static void memo_put(struct ul_classifier *cl, ul_family fam, const char *body, size_t len,
                     uint64_t h, long rank)
{
	struct memo *e = &cl->memo[h & (MEMO_SLOTS - 1)];
	cl->memo_tags[h & (MEMO_SLOTS - 1)] = h;
	e->rank = (int32_t)rank;
	e->fam = (uint8_t)fam;
	e->len = (uint8_t)len;
	memcpy(e->key, body, len);
}

/* What the matchers need to decide each matcher line. */
struct decide {
	const uint32_t *ranks;
	size_t n;
	bool prefiltered;
	const uint32_t *absent;
	size_t nabsent;
	const struct ul_pf_cand *cand;
	size_t ncand, c;
};

/* Prefilter the m matcher lines: one Hyperscan scan. False when it cannot run. */
static bool prefilter(struct ul_classifier *cl, ul_family fam, size_t m, size_t len,
                      struct decide *dc)
{
	const struct ul_prefilter *pf = shared_get(cl->shared, cl->cat, fam);
	if (!pf)
		return false;
	dc->absent = ul_prefilter_absent(pf, &dc->nabsent);
	for (size_t j = 0; j < m; j++)
		cl->best[j] = UINT32_MAX;
	return ul_prefilter_scan(pf, cl->pfs, cl->bodies, len, cl->starts, m, cl->best, &dc->cand,
	                         &dc->ncand);
}

/*
 * The winning family position of matcher line j, or -1; *matched says PCRE2 has just matched
 * it. Prefiltered: PCRE2 only for candidates ranked above the best exact report.
 */
static long winner(struct ul_classifier *cl, struct decide *dc, uint32_t j, const char *body,
                   size_t blen, bool *matched)
{
	*matched = !dc->prefiltered;
	if (!dc->prefiltered)
		return first_match(cl, dc->ranks, dc->n, 0, body, blen, PCRE2_NO_UTF_CHECK);
	uint32_t best = cl->best[j];
	/* Merge this line's candidates with the always-tried rules, in order. */
	while (dc->c < dc->ncand && dc->cand[dc->c].line < j)
		dc->c++;
	size_t a = 0;
	for (;;) {
		uint32_t next = UINT32_MAX;
		bool from_cand = dc->c < dc->ncand && dc->cand[dc->c].line == j;
		if (from_cand)
			next = dc->cand[dc->c].pos;
		if (a < dc->nabsent && dc->absent[a] < next) {
			next = dc->absent[a];
			from_cand = false;
		}
		if (next >= best)
			break;
		if (from_cand)
			dc->c++;
		else
			a++;
		if (pmatch(cl, dc->ranks[next], body, blen, PCRE2_NO_UTF_CHECK)) {
			*matched = true;
			return (long)next;
		}
	}
	return best == UINT32_MAX ? -1 : (long)best;
}

bool ul_classify_chunk(struct ul_classifier *cl, ul_family fam, const struct ul_chunk *chunk,
                       bool all_captures, struct ul_hits *out, struct ul_error *err)
{
	struct decide dc = { 0 };
	dc.ranks = ul_catalog_family(cl->cat, fam, &dc.n);
	bool shortcuts = !all_captures;

	ul_hits_clear(out);
	cl->limit_errors = 0;
	if (!grow(cl, chunk->nlines, chunk->len + 1))
		goto oom;
	size_t m = lay_out(cl, fam, chunk, shortcuts);
	size_t len =
	        m ? cl->starts[m - 1] +
	                        (chunk->lines[cl->idx[m - 1]].len - cl->delta[cl->idx[m - 1]]) + 1
	          : 0;
	dc.prefiltered = cl->prefilter && m > 0 && prefilter(cl, fam, m, len, &dc);
	for (uint32_t i = 0, j = 0; i < chunk->nlines; i++) {
		if (cl->known[i] != PENDING) {
			if (cl->known[i] >= 0 && !push_hit(out, i, (uint32_t)cl->known[i], NULL, 0))
				goto oom;
			continue;
		}
		const char *body = cl->bodies + cl->starts[j];
		size_t blen = chunk->lines[i].len - cl->delta[i];
		bool matched;
		long k = winner(cl, &dc, j++, body, blen, &matched), won = -1;
		if (k >= 0 && !record(cl, dc.ranks, dc.n, k, matched, i, body, blen, cl->delta[i],
		                      all_captures, out, &won))
			goto oom;
		/* Remember it when the result is the same for every line with this message. */
		if (shortcuts && blen <= MEMO_KEY &&
		    (won < 0 || ul_rule_counted_only(ul_catalog_rule(cl->cat, (size_t)won))))
			memo_put(cl, fam, body, blen, cl->hashv[i], won);
	}
	out->limit_errors = cl->limit_errors;
	return true;
oom:
	return ul_error_set(err, "memory", "out of memory classifying lines");
}

long ul_classify_line(struct ul_classifier *cl, ul_family fam, const char *line, size_t len,
                      uint32_t *caps)
{
	/* One line is a chunk of one line: the same path as a whole file. */
	struct ul_chunk chunk;
	struct ul_hits hits;
	struct ul_error err;
	long won = -1;
	ul_chunk_init(&chunk);
	ul_hits_init(&hits);
	if (!ul_decode_is_utf8(line, len) ||
	    !ul_decode_block(UL_ENC_UTF8, line, len, len + 1, 0, &chunk) || chunk.nlines != 1 ||
	    chunk.lines[0].len != len)
		goto out;
	if (!ul_classify_chunk(cl, fam, &chunk, caps != NULL, &hits, &err) || hits.n == 0)
		goto out;
	won = (long)hits.v[0].rule;
	if (caps) {
		const struct ul_rule *r = ul_catalog_rule(cl->cat, hits.v[0].rule);
		for (unsigned i = 0; i < UL_MAX_CAPS; i++)
			caps[2 * i] = caps[2 * i + 1] = UL_CAP_UNSET;
		if (hits.v[0].caps >= 0 && r->ncaps)
			memcpy(caps, hits.caps + hits.v[0].caps, 2 * r->ncaps * sizeof(*caps));
	}
out:
	ul_hits_finish(&hits);
	ul_chunk_finish(&chunk);
	return won;
}

bool ul_classify_rule_matches(struct ul_classifier *cl, size_t rank, const char *line, size_t len)
{
	size_t d = ul_classify_msi_prefix(line, len);
	return ul_decode_is_utf8(line, len) && pmatch(cl, rank, line + d, len - d, 0);
}

/* ---- sample check ------------------------------------------------------------------------ */

static void fail(size_t *count, void (*report)(void *, const struct ul_check_failure *), void *ctx,
                 const struct ul_rule *r, const char *kind, const char *line, const char *reason)
{
	(*count)++;
	if (report) {
		struct ul_check_failure f = { r, kind, line, reason };
		report(ctx, &f);
	}
}

size_t ul_classify_check(struct ul_classifier *cl,
                         void (*report)(void *ctx, const struct ul_check_failure *f), void *ctx)
{
	size_t failures = 0, count = ul_catalog_count(cl->cat);
	char why[256];

	for (size_t i = 0; i < count; i++) {
		const struct ul_rule *r = ul_catalog_rule(cl->cat, i);
		const char *bad = ul_catalog_unportable(cl->cat, i);
		if (bad)
			fail(&failures, report, ctx, r, "unportable", r->match, bad);
		for (size_t s = 0; s < r->nsamples; s++) {
			const char *line = r->samples[s];
			size_t len = strlen(line);
			if (!ul_classify_rule_matches(cl, i, line, len)) {
				fail(&failures, report, ctx, r, "sample", line, "does not match");
				continue;
			}
			for (size_t f = 0; f < ul_catalog_families(cl->cat); f++) {
				if (!(r->families & (1u << f)))
					continue;
				long won = ul_classify_line(cl, (ul_family)f, line, len, NULL);
				if (won != (long)i) {
					snprintf(why, sizeof(why),
					         "in family %s the line goes to %s",
					         ul_catalog_family_name(cl->cat, (ul_family)f),
					         won < 0 ? "no rule"
					                 : ul_catalog_rule(cl->cat, (size_t)won)
					                           ->id);
					fail(&failures, report, ctx, r, "sample", line, why);
					break;
				}
			}
		}
		for (size_t s = 0; s < r->nnots; s++)
			if (ul_classify_rule_matches(cl, i, r->nots[s], strlen(r->nots[s])))
				fail(&failures, report, ctx, r, "not", r->nots[s], "matches");
	}
	return failures;
}

/* ---- family sniffing --------------------------------------------------------------------- */

ul_family ul_classify_sniff(const struct ul_catalog *cat, const struct ul_chunk *first,
                            const char *path, enum ul_encoding enc)
{
	return ul_catalog_sniff(cat, first, path, enc);
}
