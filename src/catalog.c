/* SPDX-License-Identifier: MIT */
/* catalog: rule files -> compiled, ordered catalogue. Format: patterns/README.md. */
#include "catalog_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "lead.h"
#include "rxtok.h"
#include "upglog/decode.h"
#include "upglog/hash.h"

/* Bounds that keep a hostile rule file from taking the process down. */
#define MAX_RULE_FILE (4u << 20)
#define MAX_RULES     20000
#define MATCH_LIMIT   1000000u
#define DEPTH_LIMIT   10000u

struct def {
	struct ul_rule pub;
	char **samples, **nots;
	size_t nsamples, nnots;
	size_t load_pos;
	unsigned text_no; /* which ul_catalog_add_text call defined it */
	pcre2_code *code;
	char *family_words; /* as written; resolved against the declared families at compile */
	bool have_severity, have_family;
};

/* A declared family. */
struct fdef {
	struct ul_family_def pub;
	char **v[4]; /* first-line, line, name, path */
	size_t n[4];
	pcre2_code **code[2]; /* first-line and line patterns, compiled */
	unsigned text_no;     /* which ul_catalog_add_text call declared it */
	bool have_verdict, have_decides, have_fallback;
};
enum { F_FIRST = 0, F_LINE, F_NAME, F_PATH };

struct ul_catalog {
	struct def **defs; /* load order */
	size_t n, cap;
	struct def **order;               /* precedence order, after compile */
	struct fdef *fams[UL_FAMILY_MAX]; /* declaration order */
	size_t nfams;
	ul_family fallback;
	uint32_t *fam[UL_FAMILY_MAX];
	size_t nfam[UL_FAMILY_MAX];
	pcre2_match_context *mctx;
	uint32_t max_groups;
	char hash[17];
	bool compiled;
	unsigned texts; /* ul_catalog_add_text calls so far */
	/* Per family: the decisive literals, sorted by first byte, and where each byte's start. */
	struct ul_decisive *dec[UL_FAMILY_MAX];
	uint32_t dec_at[UL_FAMILY_MAX][257];
};

/* ---- names ------------------------------------------------------------------------------- */

static const char *const severity_names[UL_SEV_COUNT] = {
	"noise", "info", "warning", "error", "catastrophic",
};
static const char *const model_names[UL_MODEL_COUNT] = { "runs", "msi", "sessions" };
static const char *const event_names[UL_EV_COUNT] = {
	"none",           "log-start",  "log-stop",      "action-start",  "action-info",
	"action-end",     "rollback",   "engine-return", "server-return", "final-status",
	"product-failed", "product-ok", "ca-exit",       "exit-code",     "outcome-failed",
	"outcome-ok",     "reboot",     "summary",       "fact",          "user-cancel",
};
static const char *const cap_known_names[UL_CAP_KNOWN] = {
	"code", "action", "time", "date", "rv", "product",
};

static bool lookup(const char *const *names, size_t n, const char *word, unsigned *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], word) == 0) {
			*out = (unsigned)i;
			return true;
		}
	}
	return false;
}

const char *ul_severity_name(enum ul_severity s)
{
	return (unsigned)s < UL_SEV_COUNT ? severity_names[s] : "?";
}

bool ul_severity_parse(const char *word, enum ul_severity *out)
{
	unsigned v;
	if (!lookup(severity_names, UL_SEV_COUNT, word, &v))
		return false;
	*out = (enum ul_severity)v;
	return true;
}

const char *ul_verdict_model_name(enum ul_verdict_model m)
{
	return (unsigned)m < UL_MODEL_COUNT ? model_names[m] : "?";
}

const char *ul_event_name(enum ul_event e)
{
	return (unsigned)e < UL_EV_COUNT ? event_names[e] : "?";
}

bool ul_event_parse(const char *word, enum ul_event *out)
{
	unsigned v;
	if (!lookup(event_names, UL_EV_COUNT, word, &v))
		return false;
	*out = (enum ul_event)v;
	return true;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

struct ul_catalog *ul_catalog_new(void)
{
	struct ul_catalog *cat = calloc(1, sizeof(*cat));
	if (!cat)
		return NULL;
	cat->mctx = pcre2_match_context_create(NULL);
	if (!cat->mctx) {
		free(cat);
		return NULL;
	}
	pcre2_set_match_limit(cat->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(cat->mctx, DEPTH_LIMIT);
	return cat;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void def_free(struct def *d)
{
	if (!d)
		return;
	free((char *)d->pub.id);
	free((char *)d->pub.match);
	free((char *)d->pub.title);
	free((char *)d->pub.explain);
	free((char *)d->pub.fix);
	free((char *)d->pub.code);
	free((char *)d->pub.evidence);
	free((char *)d->pub.origin);
	for (unsigned i = 0; i < d->pub.ncaps; i++)
		free((char *)d->pub.cap_names[i]);
	free_list(d->samples, d->nsamples);
	free_list(d->nots, d->nnots);
	pcre2_code_free(d->code);
	free(d->family_words);
	free(d);
}

static void fdef_free(struct fdef *f)
{
	if (!f)
		return;
	free((char *)f->pub.name);
	free((char *)f->pub.title);
	free((char *)f->pub.origin);
	for (int k = 0; k < 4; k++)
		free_list(f->v[k], f->n[k]);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; f->code[k] && i < f->n[k]; i++)
			pcre2_code_free(f->code[k][i]);
		free(f->code[k]);
	}
	free(f);
}

void ul_catalog_destroy(struct ul_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++)
		def_free(cat->defs[i]);
	free(cat->defs);
	free(cat->order);
	for (size_t f = 0; f < UL_FAMILY_MAX; f++) {
		free(cat->fam[f]);
		free(cat->dec[f]);
	}
	for (size_t f = 0; f < cat->nfams; f++)
		fdef_free(cat->fams[f]);
	pcre2_match_context_free(cat->mctx);
	free(cat);
}

/* ---- parsing ----------------------------------------------------------------------------- */

struct parser {
	struct ul_catalog *cat;
	const char *origin;
	unsigned line;
	struct def *cur;
	struct fdef *fcur; /* a family block being read (cur is NULL then) */
	struct ul_error *err;
};

static bool perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool perr(struct parser *p, const char *fmt, ...)
{
	char msg[UL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ul_error_set(p->err, "rules", "%s:%u: %s", p->origin, p->line, msg);
}

static bool set_text(struct parser *p, const char **field, const char *value, bool append)
{
	if (*field && !append)
		return perr(p, "rule %s: duplicate key", p->cur->pub.id);
	char *s;
	if (*field && append) {
		size_t a = strlen(*field), b = strlen(value);
		s = malloc(a + b + 2);
		if (s) {
			memcpy(s, *field, a);
			s[a] = ' ';
			memcpy(s + a + 1, value, b + 1);
		}
		free((char *)*field);
	} else {
		s = strdup(value);
	}
	if (!s)
		return perr(p, "out of memory");
	*field = s;
	return true;
}

static bool push_list(struct parser *p, char ***v, size_t *n, const char *value)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return perr(p, "out of memory");
	*v = nv;
	if (!(nv[*n] = strdup(value)))
		return perr(p, "out of memory");
	(*n)++;
	return true;
}

typedef bool (*key_fn)(struct parser *p, const char *value);

static bool key_severity(struct parser *p, const char *v)
{
	if (p->cur->have_severity)
		return perr(p, "rule %s: duplicate key 'severity'", p->cur->pub.id);
	if (!ul_severity_parse(v, &p->cur->pub.severity))
		return perr(p,
		            "rule %s: unknown severity '%s' (noise, info, warning, error, "
		            "catastrophic)",
		            p->cur->pub.id, v);
	p->cur->have_severity = true;
	return true;
}

static bool key_family(struct parser *p, const char *v)
{
	if (p->cur->have_family)
		return perr(p, "rule %s: duplicate key 'family'", p->cur->pub.id);
	/* Families may be declared in a file loaded later: names are resolved at compile. */
	if (!(p->cur->family_words = strdup(v)))
		return perr(p, "out of memory");
	p->cur->have_family = true;
	return true;
}

static bool key_event(struct parser *p, const char *v)
{
	if (p->cur->pub.event != UL_EV_NONE)
		return perr(p, "rule %s: duplicate key 'event'", p->cur->pub.id);
	if (!ul_event_parse(v, &p->cur->pub.event))
		return perr(p, "rule %s: unknown event '%s'", p->cur->pub.id, v);
	return true;
}

static bool key_priority(struct parser *p, const char *v)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < -1000 || n > 1000)
		return perr(p, "rule %s: priority must be an integer in -1000..1000",
		            p->cur->pub.id);
	p->cur->pub.priority = (int)n;
	return true;
}

static bool key_evidence(struct parser *p, const char *v)
{
	if (strcmp(v, "verified") && strcmp(v, "observed") && strcmp(v, "inferred"))
		return perr(p, "rule %s: evidence must be verified, observed or inferred",
		            p->cur->pub.id);
	return set_text(p, &p->cur->pub.evidence, v, false);
}

static bool key_match(struct parser *p, const char *v)
{
	return set_text(p, &p->cur->pub.match, v, false);
}
static bool key_title(struct parser *p, const char *v)
{
	return set_text(p, &p->cur->pub.title, v, false);
}
static bool key_explain(struct parser *p, const char *v)
{
	return set_text(p, &p->cur->pub.explain, v, true);
}
static bool key_fix(struct parser *p, const char *v)
{
	return set_text(p, &p->cur->pub.fix, v, true);
}
static bool key_code(struct parser *p, const char *v)
{
	return set_text(p, &p->cur->pub.code, v, false);
}
static bool key_sample(struct parser *p, const char *v)
{
	return push_list(p, &p->cur->samples, &p->cur->nsamples, v);
}
static bool key_not(struct parser *p, const char *v)
{
	return push_list(p, &p->cur->nots, &p->cur->nnots, v);
}

static const struct {
	const char *name;
	key_fn fn;
} keys[] = {
	{ "severity", key_severity }, { "family", key_family },     { "event", key_event },
	{ "priority", key_priority }, { "evidence", key_evidence }, { "match", key_match },
	{ "title", key_title },       { "explain", key_explain },   { "fix", key_fix },
	{ "code", key_code },         { "sample", key_sample },     { "not", key_not },
};

static bool valid_id(const char *id)
{
	if (!*id || !((*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9')))
		return false;
	for (; *id; id++) {
		char c = *id;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			return false;
	}
	return true;
}

/* ---- family declarations ----------------------------------------------------------------- */

static bool ferr_dup(struct parser *p, const char *key)
{
	return perr(p, "family %s: duplicate key '%s'", p->fcur->pub.name, key);
}

static bool fkey_title(struct parser *p, const char *v)
{
	if (p->fcur->pub.title)
		return ferr_dup(p, "title");
	if (!(p->fcur->pub.title = strdup(v)))
		return perr(p, "out of memory");
	return true;
}

static bool fkey_verdict(struct parser *p, const char *v)
{
	unsigned m;
	if (p->fcur->have_verdict)
		return ferr_dup(p, "verdict");
	if (!lookup(model_names, UL_MODEL_COUNT, v, &m))
		return perr(p, "family %s: unknown verdict '%s' (runs, msi, sessions)",
		            p->fcur->pub.name, v);
	p->fcur->pub.model = (enum ul_verdict_model)m;
	p->fcur->have_verdict = true;
	return true;
}

static bool fkey_decides(struct parser *p, const char *v)
{
	char buf[512];
	uint32_t set = 0;
	if (p->fcur->have_decides)
		return ferr_dup(p, "decides");
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		enum ul_event e;
		if (!ul_event_parse(w, &e) || e == UL_EV_NONE)
			return perr(p, "family %s: unknown event '%s'", p->fcur->pub.name, w);
		set |= 1u << e;
	}
	p->fcur->pub.decides = set;
	p->fcur->have_decides = true;
	return true;
}

static bool fkey_priority(struct parser *p, const char *v)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < -1000 || n > 1000)
		return perr(p, "family %s: priority must be an integer in -1000..1000",
		            p->fcur->pub.name);
	p->fcur->pub.priority = (int)n;
	return true;
}

static bool fkey_fallback(struct parser *p, const char *v)
{
	if (p->fcur->have_fallback)
		return ferr_dup(p, "fallback");
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return perr(p, "family %s: fallback is yes or no", p->fcur->pub.name);
	p->fcur->pub.fallback = strcmp(v, "yes") == 0;
	p->fcur->have_fallback = true;
	return true;
}

static bool fkey_list(struct parser *p, int k, const char *v)
{
	return push_list(p, &p->fcur->v[k], &p->fcur->n[k], v);
}
static bool fkey_first_line(struct parser *p, const char *v)
{
	return fkey_list(p, F_FIRST, v);
}
static bool fkey_line(struct parser *p, const char *v)
{
	return fkey_list(p, F_LINE, v);
}
static bool fkey_name(struct parser *p, const char *v)
{
	return fkey_list(p, F_NAME, v);
}
static bool fkey_path(struct parser *p, const char *v)
{
	return fkey_list(p, F_PATH, v);
}

static bool fkey_encoding(struct parser *p, const char *v)
{
	static const char *const encs[] = { "utf-8", "utf-8-bom", "utf-16le", "utf-16be" };
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		unsigned e;
		if (!lookup(encs, sizeof(encs) / sizeof(encs[0]), w, &e))
			return perr(p,
			            "family %s: unknown encoding '%s' (utf-8, utf-8-bom, utf-16le, "
			            "utf-16be)",
			            p->fcur->pub.name, w);
		p->fcur->pub.encodings |= 1u << e;
	}
	return true;
}

static const struct {
	const char *name;
	key_fn fn;
} fkeys[] = {
	{ "title", fkey_title },       { "verdict", fkey_verdict },
	{ "decides", fkey_decides },   { "priority", fkey_priority },
	{ "fallback", fkey_fallback }, { "first-line", fkey_first_line },
	{ "line", fkey_line },         { "name", fkey_name },
	{ "path", fkey_path },         { "encoding", fkey_encoding },
};

/* A finished family block: add it, or replace the family of the same name in place. */
static bool finish_family(struct parser *p)
{
	struct fdef *f = p->fcur;
	struct ul_catalog *cat = p->cat;
	if (!f)
		return true;
	p->fcur = NULL;
	if (!f->pub.title && !(f->pub.title = strdup(f->pub.name))) {
		fdef_free(f);
		return perr(p, "out of memory");
	}
	if (!f->have_decides)
		f->pub.decides = ~0u;
	f->pub.first_lines = (const char *const *)f->v[F_FIRST];
	f->pub.nfirst_lines = f->n[F_FIRST];
	f->pub.lines = (const char *const *)f->v[F_LINE];
	f->pub.nlines = f->n[F_LINE];
	f->pub.names = (const char *const *)f->v[F_NAME];
	f->pub.nnames = f->n[F_NAME];
	f->pub.paths = (const char *const *)f->v[F_PATH];
	f->pub.npaths = f->n[F_PATH];
	f->text_no = cat->texts;
	for (size_t i = 0; i < cat->nfams; i++) {
		if (strcmp(cat->fams[i]->pub.name, f->pub.name) == 0) {
			if (cat->fams[i]->text_no == cat->texts) {
				/* Replacing is for a family of another file; twice in one file is a mistake. */
				unsigned first = cat->fams[i]->pub.line;
				p->line = f->pub.line;
				perr(p, "family %s: declared twice in this file (first at line %u)",
				     f->pub.name, first);
				fdef_free(f);
				return false;
			}
			fdef_free(cat->fams[i]);
			cat->fams[i] = f;
			return true;
		}
	}
	if (cat->nfams == UL_FAMILY_MAX) {
		fdef_free(f);
		return perr(p, "more than %d families", UL_FAMILY_MAX);
	}
	cat->fams[cat->nfams++] = f;
	return true;
}

static bool start_family(struct parser *p, const char *name)
{
	if (!valid_id(name) || strchr(name, '.'))
		return perr(p, "bad family name '%s' (lower-case letters, digits, '-', '_')", name);
	if (strcmp(name, "any") == 0)
		return perr(p, "'any' is not a family name: rules use it for every family");
	struct fdef *f = calloc(1, sizeof(*f));
	if (!f || !(f->pub.name = strdup(name)) || !(f->pub.origin = strdup(p->origin))) {
		fdef_free(f);
		return perr(p, "out of memory");
	}
	f->pub.line = p->line;
	p->fcur = f;
	return true;
}

static long find_loaded(const struct ul_catalog *cat, const char *id)
{
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->defs[i]->pub.id, id) == 0)
			return (long)i;
	return -1;
}

/* A finished rule block: check required keys, then add it (or replace the same id). */
static bool finish_rule(struct parser *p)
{
	struct def *d = p->cur;
	struct ul_catalog *cat = p->cat;

	if (!d)
		return true;
	p->cur = NULL;
	unsigned at = p->line;
	p->line = d->pub.line;
	const char *missing = !d->have_severity ? "severity"
	                      : !d->have_family ? "family"
	                      : !d->pub.match   ? "match"
	                      : !d->nsamples    ? "sample"
	                                        : NULL;
	if (missing) {
		perr(p, "rule %s: missing '%s'", d->pub.id, missing);
		def_free(d);
		return false;
	}
	p->line = at;
	d->pub.samples = (const char *const *)d->samples;
	d->pub.nsamples = d->nsamples;
	d->pub.nots = (const char *const *)d->nots;
	d->pub.nnots = d->nnots;
	if (!d->pub.title && !(d->pub.title = strdup(d->pub.id)))
		goto oom;
	if (!d->pub.explain && !(d->pub.explain = strdup("")))
		goto oom;
	if (!d->pub.fix && !(d->pub.fix = strdup("")))
		goto oom;
	if (!d->pub.evidence && !(d->pub.evidence = strdup("inferred")))
		goto oom;

	long old = find_loaded(cat, d->pub.id);
	d->text_no = cat->texts;
	if (old >= 0 && cat->defs[old]->text_no == cat->texts) {
		/* Replacing is for a rule of another file; twice in one file is a mistake. */
		p->line = d->pub.line;
		perr(p, "rule %s: defined twice in this file (first at line %u)", d->pub.id,
		     cat->defs[old]->pub.line);
		def_free(d);
		return false;
	}
	if (old >= 0) {
		d->load_pos = cat->defs[old]->load_pos;
		def_free(cat->defs[old]);
		cat->defs[old] = d;
		return true;
	}
	if (cat->n >= MAX_RULES) {
		def_free(d);
		return perr(p, "more than %d rules", MAX_RULES);
	}
	if (cat->n == cat->cap) {
		size_t ncap = cat->cap ? cat->cap * 2 : 64;
		struct def **v = realloc(cat->defs, ncap * sizeof(*v));
		if (!v)
			goto oom;
		cat->defs = v;
		cat->cap = ncap;
	}
	d->load_pos = cat->n;
	cat->defs[cat->n++] = d;
	return true;
oom:
	def_free(d);
	return perr(p, "out of memory");
}

static bool parse_line(struct parser *p, char *s)
{
	size_t n = strlen(s);
	if (!ul_decode_is_utf8(s, n))
		return perr(p, "not valid UTF-8 (rule files are UTF-8)");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	char *t = s;
	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '\0' || *t == '#')
		return true;
	if (t == s) {
		bool family = strncmp(s, "family", 6) == 0 && (s[6] == ' ' || s[6] == '\t');
		if (!family && (strncmp(s, "rule", 4) != 0 || (s[4] != ' ' && s[4] != '\t')))
			return perr(p,
			            "expected 'rule ID', 'family NAME' or an indented 'key value' "
			            "line");
		if (!finish_rule(p) || !finish_family(p))
			return false;
		if (family) {
			char *name = s + 6;
			while (*name == ' ' || *name == '\t')
				name++;
			return start_family(p, name);
		}
		char *id = s + 4;
		while (*id == ' ' || *id == '\t')
			id++;
		if (!valid_id(id))
			return perr(p,
			            "bad rule id '%s' (lower-case letters, digits, '.', '-', '_')",
			            id);
		struct def *d = calloc(1, sizeof(*d));
		if (!d || !(d->pub.id = strdup(id)) || !(d->pub.origin = strdup(p->origin))) {
			def_free(d);
			return perr(p, "out of memory");
		}
		d->pub.line = p->line;
		p->cur = d;
		return true;
	}
	if (!p->cur && !p->fcur)
		return perr(p, "key outside a rule block");
	char *key = t;
	while (*t && *t != ' ' && *t != '\t')
		t++;
	if (*t)
		*t++ = '\0';
	while (*t == ' ' || *t == '\t')
		t++;
	if (p->fcur) {
		for (size_t i = 0; i < sizeof(fkeys) / sizeof(fkeys[0]); i++) {
			if (strcmp(fkeys[i].name, key) == 0) {
				if (*t == '\0')
					return perr(p, "family %s: '%s' needs a value",
					            p->fcur->pub.name, key);
				return fkeys[i].fn(p, t);
			}
		}
		return perr(p, "family %s: unknown key '%s'", p->fcur->pub.name, key);
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) == 0) {
			if (*t == '\0')
				return perr(p, "rule %s: '%s' needs a value", p->cur->pub.id, key);
			return keys[i].fn(p, t);
		}
	}
	return perr(p, "rule %s: unknown key '%s'", p->cur->pub.id, key);
}

bool ul_catalog_add_text(struct ul_catalog *cat, const char *origin, const char *text, size_t len,
                         struct ul_error *err)
{
	struct parser p = { .cat = cat, .origin = origin, .err = err };
	char *buf = malloc(len + 1);

	if (!buf)
		return ul_error_set(err, "rules", "%s: out of memory", origin);
	if (cat->compiled) {
		free(buf);
		return ul_error_set(err, "rules", "%s: catalogue already compiled", origin);
	}
	cat->texts++;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		return ul_error_set(err, "rules", "%s: NUL byte in rule file", origin);
	}
	bool ok = true;
	char *line = buf;
	while (ok && line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		p.line++;
		ok = parse_line(&p, line);
		line = nl ? nl + 1 : NULL;
	}
	p.line++;
	if (ok)
		ok = finish_rule(&p) && finish_family(&p);
	else
		def_free(p.cur);
	fdef_free(p.fcur);
	free(buf);
	return ok;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_file(struct ul_catalog *cat, const char *path, struct ul_error *err)
{
	/* Never block on a FIFO or a device that carries a rule file's name. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ul_error_set(err, "rules", "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ul_error_set(err, "rules", "%s: not a regular file", path);
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return ul_error_set(err, "rules", "%s: cannot open: %s", path, strerror(errno));
	}
	char *buf = malloc(MAX_RULE_FILE + 1);
	size_t n = buf ? fread(buf, 1, MAX_RULE_FILE + 1, f) : 0;
	bool rd_err = ferror(f);
	fclose(f);
	bool ok;
	if (!buf)
		ok = ul_error_set(err, "rules", "%s: out of memory", path);
	else if (rd_err)
		ok = ul_error_set(err, "rules", "%s: read error", path);
	else if (n > MAX_RULE_FILE)
		ok = ul_error_set(err, "rules", "%s: larger than %u bytes", path, MAX_RULE_FILE);
	else
		ok = ul_catalog_add_text(cat, path, buf, n, err);
	free(buf);
	return ok;
}

bool ul_catalog_add_dir(struct ul_catalog *cat, const char *dir, struct ul_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return ul_error_set(err, "rules", "%s: cannot open rules folder: %s", dir,
		                    strerror(errno));
	char **names = NULL;
	size_t n = 0;
	bool ok = true;
	for (struct dirent *e; ok && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".rules") != 0 || e->d_name[0] == '.')
			continue;
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(e->d_name))) {
			names = v ? v : names;
			ok = ul_error_set(err, "rules", "%s: out of memory", dir);
			break;
		}
		names = v;
		n++;
	}
	closedir(d);
	if (ok && n == 0)
		ok = ul_error_set(err, "rules", "%s: no *.rules files", dir);
	if (ok)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; ok && i < n; i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			ok = ul_error_set(err, "rules", "%s/%s: path too long", dir, names[i]);
		else
			ok = add_file(cat, path, err);
	}
	free_list(names, n);
	return ok;
}

/* ---- compiling --------------------------------------------------------------------------- */

static int cmp_precedence(const void *a, const void *b)
{
	const struct def *x = *(struct def *const *)a, *y = *(struct def *const *)b;
	if (x->pub.priority != y->pub.priority)
		return x->pub.priority > y->pub.priority ? -1 : 1;
	return x->load_pos < y->load_pos ? -1 : x->load_pos > y->load_pos;
}

static bool rule_err(struct ul_error *err, const struct def *d, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static bool rule_err(struct ul_error *err, const struct def *d, const char *fmt, ...)
{
	char msg[UL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ul_error_set(err, "rules", "%s:%u: rule %s: %s", d->pub.origin, d->pub.line,
	                    d->pub.id, msg);
}

/* Named groups -> capture slots. */
static bool collect_names(struct def *d, struct ul_error *err)
{
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table = NULL;

	pcre2_pattern_info(d->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(d->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(d->code, PCRE2_INFO_NAMETABLE, &table);
	for (int k = 0; k < UL_CAP_KNOWN; k++)
		d->pub.known[k] = -1;
	if (count > UL_MAX_CAPS)
		return rule_err(err, d, "more than %d named groups", UL_MAX_CAPS);
	for (uint32_t i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * size;
		uint32_t group = (uint32_t)e[0] << 8 | e[1];
		char *name = strdup((const char *)e + 2);
		if (!name)
			return rule_err(err, d, "out of memory");
		d->pub.cap_names[i] = name;
		d->pub.cap_group[i] = group;
		unsigned k;
		if (lookup(cap_known_names, UL_CAP_KNOWN, name, &k))
			d->pub.known[k] = (int)i;
	}
	d->pub.ncaps = count;
	return true;
}

/* Every {name} in the title must be a capture of the rule. */
static bool check_title(const struct def *d, struct ul_error *err)
{
	for (const char *s = d->pub.title; (s = strchr(s, '{'));) {
		const char *e = strchr(s, '}');
		if (!e)
			return rule_err(err, d, "title: '{' without '}'");
		size_t len = (size_t)(e - s - 1);
		bool found = false;
		for (unsigned i = 0; i < d->pub.ncaps && !found; i++)
			found = strlen(d->pub.cap_names[i]) == len &&
			        memcmp(d->pub.cap_names[i], s + 1, len) == 0;
		if (!found)
			return rule_err(err, d, "title names {%.*s}, which is not a named group",
			                (int)len, s + 1);
		s = e + 1;
	}
	return true;
}

/* The captures an event needs to drive the interpreter. */
static bool check_event(const struct def *d, struct ul_error *err)
{
	const int *k = d->pub.known;
	switch (d->pub.event) {
	case UL_EV_ACTION_START:
	case UL_EV_ACTION_INFO:
		if (k[UL_CAP_ACTION] < 0)
			return rule_err(err, d, "event %s needs an (?<action>...) group",
			                ul_event_name(d->pub.event));
		break;
	case UL_EV_ACTION_END:
		if (k[UL_CAP_ACTION] < 0 || k[UL_CAP_RV] < 0)
			return rule_err(err, d,
			                "event action-end needs (?<action>...) and (?<rv>...)");
		break;
	case UL_EV_ENGINE_RETURN:
	case UL_EV_SERVER_RETURN:
	case UL_EV_FINAL_STATUS:
	case UL_EV_CA_EXIT:
	case UL_EV_EXIT_CODE:
		if (k[UL_CAP_CODE] < 0 && !d->pub.code)
			return rule_err(err, d, "event %s needs a (?<code>...) group or a code",
			                ul_event_name(d->pub.event));
		break;
	default:
		break;
	}
	return true;
}

static bool compile_rule(struct ul_catalog *cat, struct def *d, struct ul_error *err)
{
	int code;
	PCRE2_SIZE off;

	d->code = pcre2_compile((PCRE2_SPTR)d->pub.match, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
	                        &off, NULL);
	if (!d->code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return rule_err(err, d, "match: %s at offset %zu", (const char *)msg, (size_t)off);
	}
	/* JIT is an accelerator: where the platform refuses it, the interpreter still works. */
	(void)pcre2_jit_compile(d->code, PCRE2_JIT_COMPLETE);
	uint32_t groups = 0;
	pcre2_pattern_info(d->code, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (groups + 1 > cat->max_groups)
		cat->max_groups = groups + 1;
	if (!collect_names(d, err) || !check_title(d, err) || !check_event(d, err))
		return false;

	/* A rule that matches an empty line would claim every blank line. */
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(d->code, NULL);
	if (!md)
		return rule_err(err, d, "out of memory");
	int rc = pcre2_match(d->code, (PCRE2_SPTR) "", 0, 0, 0, md, cat->mctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return rule_err(err, d, "match: the pattern matches an empty line");
	return true;
}

static void compute_hash(struct ul_catalog *cat)
{
	struct ul_hash h;
	ul_hash_init(&h);
	for (size_t i = 0; i < cat->n; i++) {
		const struct ul_rule *r = &cat->order[i]->pub;
		const char *parts[] = { r->id,      r->match, r->title,
			                r->explain, r->fix,   r->code ? r->code : "" };
		for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
			ul_hash_update(&h, parts[k], strlen(parts[k]) + 1);
		int nums[] = { (int)r->severity, (int)r->families, (int)r->event, r->priority };
		ul_hash_update(&h, nums, sizeof(nums));
	}
	/* How files are recognised changes what every rule sees. */
	for (size_t i = 0; i < cat->nfams; i++) {
		const struct fdef *f = cat->fams[i];
		ul_hash_update(&h, f->pub.name, strlen(f->pub.name) + 1);
		for (int k = 0; k < 4; k++)
			for (size_t j = 0; j < f->n[k]; j++)
				ul_hash_update(&h, f->v[k][j], strlen(f->v[k][j]) + 1);
		int nums[] = { (int)f->pub.model, (int)f->pub.decides, f->pub.priority,
			       (int)f->pub.fallback, (int)f->pub.encodings };
		ul_hash_update(&h, nums, sizeof(nums));
	}
	ul_hash_hex(ul_hash_final(&h), cat->hash);
}

/* ---- decisive literals ------------------------------------------------------------------- */

_Static_assert(sizeof(((struct ul_decisive *)0)->lit) >= UL_LEAD_LEN &&
                       sizeof(((struct ul_decisive *)0)->exc[0]) >= UL_LEAD_LEN,
               "a lead fits a literal");

static int cmp_decisive(const void *a, const void *b)
{
	const struct ul_decisive *x = a, *y = b;
	int c = (int)(unsigned char)x->lit[0] - (int)(unsigned char)y->lit[0];
	if (!c)
		c = (x->rank > y->rank) - (x->rank < y->rank);
	if (!c)
		c = (int)x->confirm - (int)y->confirm;
	if (!c)
		c = memcmp(x->lit, y->lit, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Shortest lead worth a PCRE2 run of its rule before the matchers. */
#define CONFIRM_MIN 6

/*
 * Can `lit` decide for the rule at family position k? Every rule before it must be unable to
 * match a message starting with `lit`, except through a longer lead that extends `lit`: such
 * leads become the literal's exceptions (at most UL_DECISIVE_EXC).
 */
static bool decides(const struct ul_catalog *cat, int f, size_t k, const struct ul_leads *leads,
                    const struct ul_lead_entry *lit, struct ul_decisive *out)
{
	out->nexc = 0;
	for (size_t q = 0; q < k; q++) {
		const struct ul_leads *other = &leads[cat->fam[f][q]];
		if (!other->known)
			return false;
		for (size_t j = 0; j < other->n; j++) {
			const struct ul_lead_entry *e = &other->v[j];
			size_t n = e->len < lit->len ? e->len : lit->len;
			if (memcmp(e->s, lit->s, n) != 0)
				continue; /* starts differently: cannot match */
			if (e->len <= lit->len || out->nexc == UL_DECISIVE_EXC)
				return false;
			memcpy(out->exc[out->nexc], e->s, e->len);
			out->exc_len[out->nexc++] = e->len;
		}
	}
	return true;
}

/*
 * Family f's decisive literals (catalog_impl.h): the leads of noise rules without an event
 * that no rule before them can match a message with (exceptions aside). An exact lead decides
 * alone; another one with its rule's pattern.
 */
static bool find_decisive_family(struct ul_catalog *cat, int f, const struct ul_leads *leads)
{
	size_t n = cat->nfam[f], count = 0, cap = 0;
	struct ul_decisive *v = NULL, d;
	for (size_t k = 0; k < n; k++) {
		uint32_t rank = cat->fam[f][k];
		const struct ul_rule *r = &cat->order[rank]->pub;
		const struct ul_leads *own = &leads[rank];
		if (!ul_rule_counted_only(r) || !own->known)
			continue;
		for (size_t e = 0; e < own->n; e++) {
			const struct ul_lead_entry *lit = &own->v[e];
			if (!lit->len || (!lit->exact && lit->len < CONFIRM_MIN))
				continue;
			memset(&d, 0, sizeof(d));
			if (!decides(cat, f, k, leads, lit, &d))
				continue;
			if (count == cap) {
				cap = cap ? cap * 2 : 16;
				struct ul_decisive *nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return false;
				}
				v = nv;
			}
			memcpy(d.lit, lit->s, lit->len);
			d.len = lit->len;
			d.rank = rank;
			d.confirm = !lit->exact;
			v[count++] = d;
		}
	}
	if (count)
		qsort(v, count, sizeof(*v), cmp_decisive);
	cat->dec[f] = v;
	size_t at = 0;
	for (unsigned b = 0; b < 256; b++) {
		cat->dec_at[f][b] = (uint32_t)at;
		while (at < count && (unsigned char)v[at].lit[0] == b)
			at++;
	}
	cat->dec_at[f][256] = (uint32_t)count;
	return true;
}

static bool find_decisive(struct ul_catalog *cat)
{
	struct ul_leads *leads = malloc(cat->n * sizeof(*leads));
	if (!leads)
		return false;
	for (size_t i = 0; i < cat->n; i++)
		ul_lead_analyse(cat->order[i]->pub.match, &leads[i]);
	bool ok = true;
	for (size_t f = 0; f < cat->nfams && ok; f++)
		ok = find_decisive_family(cat, (int)f, leads);
	free(leads);
	return ok;
}

/* ---- families ---------------------------------------------------------------------------- */

static bool fam_err(struct ul_error *err, const struct fdef *f, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static bool fam_err(struct ul_error *err, const struct fdef *f, const char *fmt, ...)
{
	char msg[UL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ul_error_set(err, "rules", "%s:%u: family %s: %s", f->pub.origin, f->pub.line,
	                    f->pub.name, msg);
}

/* Compile the recognition patterns; exactly one family takes what nobody recognises. */
static bool compile_families(struct ul_catalog *cat, struct ul_error *err)
{
	size_t fallbacks = 0;
	for (size_t i = 0; i < cat->nfams; i++) {
		struct fdef *f = cat->fams[i];
		if (f->pub.fallback && fallbacks++)
			return fam_err(err, f,
			               "a second fallback family (%s is one); exactly one "
			               "takes the files no family recognises",
			               cat->fams[cat->fallback]->pub.name);
		if (f->pub.fallback)
			cat->fallback = (ul_family)i;
		for (int k = F_FIRST; k <= F_LINE; k++) {
			if (!f->n[k])
				continue;
			f->code[k] = calloc(f->n[k], sizeof(*f->code[k]));
			if (!f->code[k])
				return fam_err(err, f, "out of memory");
			for (size_t j = 0; j < f->n[k]; j++) {
				int code;
				PCRE2_SIZE off;
				f->code[k][j] =
				        pcre2_compile((PCRE2_SPTR)f->v[k][j], PCRE2_ZERO_TERMINATED,
				                      PCRE2_UTF, &code, &off, NULL);
				if (!f->code[k][j]) {
					PCRE2_UCHAR msg[256];
					pcre2_get_error_message(code, msg, sizeof(msg));
					return fam_err(err, f, "%s: %s at offset %zu",
					               k == F_FIRST ? "first-line" : "line",
					               (const char *)msg, (size_t)off);
				}
				(void)pcre2_jit_compile(f->code[k][j], PCRE2_JIT_COMPLETE);
			}
		}
	}
	if (cat->nfams == 0)
		return ul_error_set(err, "rules",
		                    "no family is declared (a 'family NAME' block; see "
		                    "patterns/README.md)");
	if (!fallbacks)
		return ul_error_set(
		        err, "rules",
		        "no family says 'fallback yes'; exactly one must take the files "
		        "no family recognises");
	return true;
}

/* A rule's family words as a set of declared families. */
static bool resolve_families(struct ul_catalog *cat, struct def *d, struct ul_error *err)
{
	char buf[512];
	unsigned set = 0;
	snprintf(buf, sizeof(buf), "%s", d->family_words ? d->family_words : "");
	for (char *save = NULL, *w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		ul_family f;
		if (strcmp(w, "any") == 0) {
			set = UL_FAM_ANY;
		} else if (ul_catalog_family_find(cat, w, &f)) {
			set |= 1u << f;
		} else {
			char names[256] = "";
			for (size_t i = 0; i < cat->nfams; i++) {
				size_t len = strlen(names);
				snprintf(names + len, sizeof(names) - len, "%s%s", i ? " " : "",
				         cat->fams[i]->pub.name);
			}
			return rule_err(err, d, "unknown family '%s' (declared: %s; or any)", w,
			                names);
		}
	}
	if (!set)
		return rule_err(err, d, "empty family");
	d->pub.families = set;
	return true;
}

size_t ul_catalog_families(const struct ul_catalog *cat)
{
	return cat->nfams;
}

const struct ul_family_def *ul_catalog_family_def(const struct ul_catalog *cat, ul_family f)
{
	return f < cat->nfams ? &cat->fams[f]->pub : NULL;
}

const char *ul_catalog_family_name(const struct ul_catalog *cat, ul_family f)
{
	return f < cat->nfams ? cat->fams[f]->pub.name : "?";
}

bool ul_catalog_family_find(const struct ul_catalog *cat, const char *name, ul_family *out)
{
	for (size_t i = 0; i < cat->nfams; i++) {
		if (strcmp(cat->fams[i]->pub.name, name) == 0) {
			*out = (ul_family)i;
			return true;
		}
	}
	return false;
}

ul_family ul_catalog_fallback(const struct ul_catalog *cat)
{
	return cat->fallback;
}

void ul_catalog_family_set_format(const struct ul_catalog *cat, unsigned set, const char *sep,
                                  char *buf, size_t cap)
{
	if (!cap)
		return;
	buf[0] = '\0';
	if (set == UL_FAM_ANY) {
		snprintf(buf, cap, "any");
		return;
	}
	for (size_t f = 0; f < cat->nfams; f++) {
		if (!(set & (1u << f)))
			continue;
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%s", len ? sep : "", cat->fams[f]->pub.name);
	}
}

/* Case-insensitive glob: `*` any run of characters, `?` one; `\` and `!` read as `/`. */
static char glob_char(char c)
{
	return c == '\\' || c == '!' ? '/' : (char)tolower((unsigned char)c);
}

static bool glob(const char *pat, const char *s)
{
	const char *star = NULL, *back = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			back = s;
		} else if (*pat && (*pat == '?' || glob_char(*pat) == glob_char(*s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++back;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/*
 * Does a folder (or bundle member) name end at q? Stored paths separate with '/' and '!' and
 * write a name's own '\' and '!' as `\xNN` (and a repeated member as `name\#2`), so a '\'
 * that starts such an escape is part of the name: `a\x21b.log` is judged by all of it. Any
 * other '\' separates, for a Windows path given as it is.
 */
static bool path_sep(const char *q)
{
	if (*q == '/' || *q == '!')
		return true;
	if (*q != '\\')
		return false;
	if (q[1] == '#')
		return false;
	return !(q[1] == 'x' && isxdigit((unsigned char)q[2]) && isxdigit((unsigned char)q[3]));
}

static bool any_match(pcre2_code *const *codes, size_t n, const char *s, size_t len,
                      pcre2_match_data *md, pcre2_match_context *mctx)
{
	for (size_t i = 0; i < n; i++)
		if (pcre2_match(codes[i], (PCRE2_SPTR)s, len, 0, 0, md, mctx) >= 0)
			return true;
	return false;
}

/* Lines of a file's start that vote for a family. */
#define SNIFF_LINES 64

ul_family ul_catalog_sniff(const struct ul_catalog *cat, const struct ul_chunk *first,
                           const char *path, enum ul_encoding enc)
{
	size_t n = first ? first->nlines : 0, votes[UL_FAMILY_MAX] = { 0 };
	bool first_hit[UL_FAMILY_MAX] = { false };
	if (n > SNIFF_LINES)
		n = SNIFF_LINES;
	pcre2_match_data *md = n ? pcre2_match_data_create(1, NULL) : NULL;
	for (size_t i = 0; md && i < n; i++) {
		const char *s = first->text + first->lines[i].start;
		size_t len = first->lines[i].len;
		if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			len -= 3;
		}
		for (size_t f = 0; f < cat->nfams; f++) {
			const struct fdef *d = cat->fams[f];
			if (i == 0 &&
			    any_match(d->code[F_FIRST], d->n[F_FIRST], s, len, md, cat->mctx))
				first_hit[f] = true;
			votes[f] += any_match(d->code[F_LINE], d->n[F_LINE], s, len, md, cat->mctx);
		}
	}
	pcre2_match_data_free(md);

	/* What the lines say beats the name: a first-line signature, then the most votes. */
	long best = -1;
	for (size_t f = 0; f < cat->nfams; f++) {
		if (!first_hit[f] && !votes[f])
			continue;
		if (best < 0) {
			best = (long)f;
			continue;
		}
		const struct ul_family_def *a = &cat->fams[f]->pub, *b = &cat->fams[best]->pub;
		bool a_enc = (a->encodings >> enc) & 1, b_enc = (b->encodings >> enc) & 1;
		if (first_hit[f] != first_hit[best] ? first_hit[f]
		    : votes[f] != votes[best]       ? votes[f] > votes[best]
		    : a->priority != b->priority    ? a->priority > b->priority
		                                    : a_enc && !b_enc)
			best = (long)f;
	}
	if (best >= 0)
		return (ul_family)best;

	/* Then the file's name and path, where the family's encodings allow. */
	const char *p = path ? path : "", *base = p;
	for (const char *q = p; *q; q++)
		if (path_sep(q))
			base = q + 1;
	for (size_t f = 0; f < cat->nfams; f++) {
		const struct ul_family_def *d = &cat->fams[f]->pub;
		if (d->encodings && !((d->encodings >> enc) & 1))
			continue;
		bool hit = false;
		for (size_t i = 0; i < d->nnames && !hit; i++)
			hit = glob(d->names[i], base);
		for (size_t i = 0; i < d->npaths && !hit; i++)
			hit = glob(d->paths[i], p);
		if (hit && (best < 0 || d->priority > cat->fams[best]->pub.priority))
			best = (long)f;
	}
	return best >= 0 ? (ul_family)best : cat->fallback;
}

/* ---- the whole catalogue ----------------------------------------------------------------- */

bool ul_catalog_compile(struct ul_catalog *cat, struct ul_error *err)
{
	if (cat->compiled)
		return true;
	if (cat->n == 0)
		return ul_error_set(err, "rules", "the catalogue has no rules");
	cat->order = malloc(cat->n * sizeof(*cat->order));
	if (!cat->order)
		return ul_error_set(err, "rules", "out of memory");
	memcpy(cat->order, cat->defs, cat->n * sizeof(*cat->order));
	qsort(cat->order, cat->n, sizeof(*cat->order), cmp_precedence);
	if (!compile_families(cat, err))
		return false;
	for (size_t i = 0; i < cat->n; i++)
		if (!resolve_families(cat, cat->order[i], err) ||
		    !compile_rule(cat, cat->order[i], err))
			return false;
	for (size_t f = 0; f < cat->nfams; f++) {
		cat->fam[f] = malloc(cat->n * sizeof(uint32_t));
		if (!cat->fam[f])
			return ul_error_set(err, "rules", "out of memory");
		for (size_t i = 0; i < cat->n; i++)
			if (cat->order[i]->pub.families & (1u << f))
				cat->fam[f][cat->nfam[f]++] = (uint32_t)i;
	}
	if (!find_decisive(cat))
		return ul_error_set(err, "rules", "out of memory");
	compute_hash(cat);
	cat->compiled = true;
	return true;
}

/* ---- queries ----------------------------------------------------------------------------- */

size_t ul_catalog_count(const struct ul_catalog *cat)
{
	return cat->compiled ? cat->n : 0;
}

const struct ul_rule *ul_catalog_rule(const struct ul_catalog *cat, size_t i)
{
	return cat->compiled && i < cat->n ? &cat->order[i]->pub : NULL;
}

long ul_catalog_find(const struct ul_catalog *cat, const char *id)
{
	for (size_t i = 0; cat->compiled && i < cat->n; i++)
		if (strcmp(cat->order[i]->pub.id, id) == 0)
			return (long)i;
	return -1;
}

const uint32_t *ul_catalog_family(const struct ul_catalog *cat, ul_family fam, size_t *n)
{
	if (fam >= cat->nfams) {
		*n = 0;
		return NULL;
	}
	*n = cat->nfam[fam];
	return cat->fam[fam];
}

const char *ul_catalog_hash(const struct ul_catalog *cat)
{
	return cat->hash;
}

const struct ul_decisive *ul_catalog_decisive(const struct ul_catalog *cat, ul_family fam,
                                              unsigned char first, size_t *n)
{
	*n = (size_t)(cat->dec_at[fam][first + 1] - cat->dec_at[fam][first]);
	return cat->dec[fam] ? cat->dec[fam] + cat->dec_at[fam][first] : NULL;
}

const pcre2_code *ul_catalog_code(const struct ul_catalog *cat, size_t i)
{
	return cat->order[i]->code;
}

uint32_t ul_catalog_max_groups(const struct ul_catalog *cat)
{
	return cat->max_groups;
}

pcre2_match_context *ul_catalog_match_context(const struct ul_catalog *cat)
{
	return cat->mctx;
}

/* ---- portability ------------------------------------------------------------------------- */

/* Punctuation ripgrep's engine allows after a backslash (its meta characters). */
static bool portable_escape(char c)
{
	return strchr("\\.+*?()|[]{}^$#&-~", c) != NULL || strchr("dDwWsSbBAztnrfx", c) != NULL;
}

/* Why an escape (outside or inside a class) is not portable, or NULL. */
static const char *escape_unportable(char c, bool quote)
{
	if (quote)
		return "\\Q...\\E quoting";
	if (c >= '1' && c <= '9')
		return "back-reference";
	if (!c || !portable_escape(c))
		return "escape outside the common subset";
	return NULL;
}

const char *ul_catalog_unportable(const struct ul_catalog *cat, size_t i)
{
	const char *s = cat->order[i]->pub.match;
	struct ul_rx_tok t;
	for (size_t at = 0;; at = t.end) {
		ul_rx_next(s, at, &t);
		const char *why = NULL;
		switch (t.kind) {
		case UL_RX_END:
			return NULL;
		case UL_RX_ESCAPE:
		case UL_RX_QUOTE:
			why = escape_unportable(t.esc, t.kind == UL_RX_QUOTE);
			break;
		case UL_RX_CLASS: {
			struct ul_rx_member m;
			for (size_t j = t.first; !why;) {
				j = ul_rx_member(s, &t, j, &m);
				if (m.kind == UL_RXM_END)
					break;
				if (m.kind == UL_RXM_ESCAPE || m.kind == UL_RXM_QUOTE)
					why = escape_unportable(m.esc, m.kind == UL_RXM_QUOTE);
			}
			break;
		}
		case UL_RX_OPEN:
			why = t.group == UL_RXG_LOOK     ? "look-around"
			      : t.group == UL_RXG_ATOMIC ? "atomic group"
			      : t.group == UL_RXG_OTHER || t.group == UL_RXG_VERB
			              ? "PCRE-only group syntax"
			              : NULL;
			break;
		case UL_RX_QUANT:
			why = t.possessive ? "possessive quantifier" : NULL;
			break;
		default:
			break;
		}
		if (why)
			return why;
	}
}

/* The Windows Installer engine prefix that rules do not see (classify.h), as a regex. */
#define MSI_PREFIX_RE \
	"(?:MSI \\([A-Za-z]\\) \\([0-9A-Fa-f]+[:!][0-9A-Fa-f]+\\)(?: \\[[0-9:]+\\])? ?: ?)?"

bool ul_catalog_export_regex(const struct ul_catalog *cat, size_t i, char *buf, size_t cap)
{
	const char *s = cat->order[i]->pub.match;
	size_t o = 0, at = 0;
	struct ul_rx_tok t;

	if (cap == 0)
		return false;
	/* A rule anchored at the start of the message is anchored after the prefix on a full line. */
	if (*s == '^') {
		int n = snprintf(buf, cap, "^%s", MSI_PREFIX_RE);
		if (n < 0 || (size_t)n >= cap)
			return false;
		o = (size_t)n;
		at = 1;
	}
	for (;; at = t.end) {
		ul_rx_next(s, at, &t);
		if (t.kind == UL_RX_END)
			break;
		/* Named groups become plain groups: ripgrep takes neither name syntax. */
		bool unnamed = t.kind == UL_RX_OPEN && t.group == UL_RXG_NAMED && t.angle_name;
		size_t len = unnamed ? 1 : t.end - t.at;
		if (o + len + 1 > cap) /* and the terminating NUL */
			return false;
		memcpy(buf + o, s + t.at, len);
		o += len;
	}
	buf[o] = '\0';
	return true;
}
