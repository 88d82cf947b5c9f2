/* SPDX-License-Identifier: MIT */
/* report: gathers the triage once, picks its renderer; query output. See
 * include/upglog/report.h; the renderers are report_<format>.c (src/report_int.h). */
#include "upglog/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_int.h"
#include "upglog/decode.h"

#define CELL_MAX   80 /* widest table cell */
#define TABLE_ROWS 5000

/* ---- formats ------------------------------------------------------------------------------- */

static const char *const format_names[UL_FMT_COUNT] = { "text",  "json", "table",   "csv",
	                                                "jsonl", "html", "markdown" };

const char *ul_format_name(enum ul_format f)
{
	return (unsigned)f < UL_FMT_COUNT ? format_names[f] : "text";
}

bool ul_format_parse(const char *word, unsigned allowed, enum ul_format *out, char *list,
                     size_t cap)
{
	for (unsigned i = 0; word && i < UL_FMT_COUNT; i++)
		if ((allowed & (1u << i)) && (strcmp(word, format_names[i]) == 0 ||
		                              (i == UL_FMT_MARKDOWN && strcmp(word, "md") == 0))) {
			*out = (enum ul_format)i;
			return true;
		}
	if (list && cap) {
		size_t n = 0, left = 0;
		for (unsigned i = 0; i < UL_FMT_COUNT; i++)
			left += (allowed >> i) & 1u;
		list[0] = '\0';
		for (unsigned i = 0; i < UL_FMT_COUNT; i++) {
			if (!(allowed & (1u << i)))
				continue;
			left--;
			int w = snprintf(list + n, cap - n, "%s%s", format_names[i],
			                 left > 1    ? ", "
			                 : left == 1 ? " or "
			                             : "");
			if (w < 0 || (size_t)w >= cap - n)
				break;
			n += (size_t)w;
		}
	}
	return false;
}

/* ---- the renderers, chosen from one table -------------------------------------------------- */

static const struct rep_renderer renderers[] = {
	{ UL_FMT_TEXT, -1, rep_text },
	{ UL_FMT_JSON, UL_SEV_ERROR, rep_json },
	{ UL_FMT_JSONL, UL_SEV_INFO, rep_jsonl },
	{ UL_FMT_HTML, -1, rep_html },
	{ UL_FMT_MARKDOWN, -1, rep_markdown },
};

static const struct rep_renderer *renderer_of(enum ul_format f)
{
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (renderers[i].format == f)
			return &renderers[i];
	return NULL;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void ul_report_json_string(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char buf[8];
		const char *esc = ul_json_escape(*p, buf);
		if (esc)
			fputs(esc, out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

const char *rep_shown(const struct ul_report_opts *o, const char *path)
{
	if (!path)
		return "?";
	size_t n = o->strip ? strlen(o->strip) : 0;
	if (n && strncmp(path, o->strip, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

const char *rep_base(const char *path)
{
	if (!path)
		return "?";
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '\\' || *p == '!')
			b = p + 1;
	return *b ? b : path;
}

const char *rep_s(uint64_t n)
{
	return n == 1 ? "" : "s";
}

void rep_commas(char *buf, size_t cap, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < cap; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
}

const char *rep_upper_outcome(enum ul_outcome o)
{
	static const char *const words[UL_OUTCOME_COUNT] = { "UNKNOWN", "SUCCEEDED", "FAILED",
		                                             "INCOMPLETE", "CANCELLED" };
	return (unsigned)o < UL_OUTCOME_COUNT ? words[o] : "UNKNOWN";
}

bool rep_bad(enum ul_outcome o)
{
	return o == UL_OUT_FAILED || o == UL_OUTCOME_CANCELLED;
}

void rep_outcome_counts(const struct rep_triage *t, size_t by[UL_OUTCOME_COUNT])
{
	memset(by, 0, UL_OUTCOME_COUNT * sizeof(*by));
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].has_verdict)
			by[t->files[i].out]++;
}

void rep_outcome_line(const struct rep_triage *t, char *buf, size_t cap)
{
	size_t by[UL_OUTCOME_COUNT];
	rep_outcome_counts(t, by);
	snprintf(buf, cap,
	         "%zu failed, %zu cancelled, %zu incomplete, %zu succeeded, %zu without an "
	         "outcome",
	         by[UL_OUT_FAILED], by[UL_OUTCOME_CANCELLED], by[UL_OUT_INCOMPLETE],
	         by[UL_OUT_SUCCEEDED], by[UL_OUT_UNKNOWN]);
}

size_t rep_error_checks(const struct rep_triage *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nchecks; i++)
		n += t->checks[i].severity >= UL_SEV_ERROR;
	return n;
}

size_t rep_bad_servers(const struct rep_triage *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nservers; i++)
		n += rep_bad(t->servers[i].outcome);
	return n;
}

void rep_headline(const struct rep_triage *t, char *buf, size_t cap)
{
	size_t nerr = rep_error_checks(t);
	if (t->nservers == 1 && t->servers[0].verdict && nerr)
		snprintf(buf, cap, "%s; %zu check%s of severity error fired", t->servers[0].verdict,
		         nerr, nerr == 1 ? "" : "s");
	else if (t->nservers == 1 && t->servers[0].verdict)
		snprintf(buf, cap, "%s", t->servers[0].verdict);
	else if (t->nservers > 1)
		snprintf(buf, cap,
		         "%zu servers: %zu failed or cancelled; %zu check%s of severity error%s%s",
		         t->nservers, rep_bad_servers(t), nerr, nerr == 1 ? "" : "s",
		         t->first ? "; first: " : "", t->first ? t->first->verdict : "");
	else if (t->sum.verdict == UL_OUT_SUCCEEDED)
		snprintf(buf, cap, "no installer session failed");
	else
		snprintf(buf, cap, "no log says how an upgrade ended");
}

void rep_query_hint(const struct ul_report_opts *o, char *buf, size_t cap)
{
	/* Quoted for a shell when it needs it (a PostgreSQL URI's '?' and '&'). */
	bool quote = o->db && strpbrk(o->db, " \t?&;|<>()$`\\\"*[]#~!{}") && !strchr(o->db, '\'');
	if (o->db)
		snprintf(buf, cap,
		         "upglog query --db %s%s%s \"SELECT file, line, severity, text FROM "
		         "v_findings "
		         "WHERE level >= 3 ORDER BY ts\"",
		         quote ? "'" : "", o->db, quote ? "'" : "");
	else
		snprintf(buf, cap,
		         "this triage kept no database: add --db upglog.db to keep one, then "
		         "upglog query --db upglog.db \"SELECT * FROM v_findings\"");
}

int64_t rep_count_lines(const char *block)
{
	if (!block)
		return 0;
	int64_t n = 1;
	for (const char *p = block; *p; p++)
		n += *p == '\n';
	return n;
}

static int file_cmp(const void *key, const void *elem)
{
	const struct rep_file *f = elem;
	return strcmp(key, f->path ? f->path : "");
}

const struct rep_file *rep_file_of(const struct rep_triage *t, const char *path)
{
	if (!path || !t->nfiles)
		return NULL;
	const struct rep_file *f = bsearch(path, t->files, t->nfiles, sizeof(*f), file_cmp);
	if (f)
		return f;
	for (size_t i = 0; i < t->nfiles; i++) /* the store's order is not ours */
		if (t->files[i].path && strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}

bool rep_is_path(const char *s)
{
	if (!s || strchr(s, '\n'))
		return false;
	bool drive = ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':' &&
	             (s[2] == '\\' || s[2] == '/');
	return s[0] == '/' || drive || (s[0] == '\\' && s[1] == '\\');
}

/* Display cells of the UTF-8 text between s and e. */
static size_t cells_between(const char *s, const char *e)
{
	size_t n = 0;
	for (; s < e; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Pointer to the byte after the first `cells` characters of s. */
static const char *after_cells(const char *s, size_t cells)
{
	while (*s && cells) {
		s++;
		while (((unsigned char)*s & 0xC0) == 0x80)
			s++;
		cells--;
	}
	return s;
}

void rep_fit_path(const char *s, size_t width, char *buf, size_t cap)
{
	if (!cap)
		return;
	buf[0] = '\0';
	if (!s)
		return;
	size_t len = strlen(s);
	size_t total = cells_between(s, s + len);
	if (total <= width || width < 8) {
		const char *e = total <= width ? s + len : after_cells(s, width);
		size_t n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		return;
	}
	/* Keep the file name whole when it fits with a start of at least a few cells; cut the
	 * middle of the path and mark the cut with "...". */
	const char *base = rep_base(s);
	size_t tail = cells_between(base, s + len);
	size_t keep_tail = tail + 4 <= width - 3 ? tail : (width - 3) / 2;
	size_t keep_head = width - 3 - keep_tail;
	const char *head_end = after_cells(s, keep_head);
	const char *tail_start = s;
	for (size_t skip = total - keep_tail; skip; skip--) {
		tail_start++;
		while (((unsigned char)*tail_start & 0xC0) == 0x80)
			tail_start++;
	}
	snprintf(buf, cap, "%.*s...%s", (int)(head_end - s), s, tail_start);
}

/* ---- gathering the triage ------------------------------------------------------------------ */

struct gather {
	struct rep_triage *t;
	struct rep_finding **arr;
	size_t *n, cap;
	size_t fcap;
	bool oom;
};

static void finding_copy(struct rep_finding *d, const struct ul_finding_view *s)
{
	memset(d, 0, sizeof(*d));
	d->file = dup(s->file);
	d->ts = dup(s->ts);
	d->rule = dup(s->rule);
	d->severity = dup(s->severity);
	d->code = dup(s->code && *s->code ? s->code : NULL);
	d->action = dup(s->action && *s->action ? s->action : NULL);
	d->text = dup(s->text);
	d->title = dup(s->title);
	d->explain = dup(s->explain);
	d->fix = dup(s->fix);
	d->before = dup(s->before);
	d->after = dup(s->after);
	d->line = s->line;
	if (!s->severity || !ul_severity_parse(s->severity, &d->sev))
		d->sev = UL_SEV_ERROR;
}

static void finding_free(struct rep_finding *d)
{
	char *all[] = { d->file, d->host,  d->ts,      d->rule, d->severity, d->code, d->action,
		        d->text, d->title, d->explain, d->fix,  d->before,   d->after };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	memset(d, 0, sizeof(*d));
}

static bool collect_file(void *ctx, const struct ul_file_view *f)
{
	struct gather *g = ctx;
	struct rep_triage *t = g->t;
	if (t->nfiles == g->fcap) {
		size_t cap = g->fcap ? g->fcap * 2 : 64;
		struct rep_file *v = realloc(t->files, cap * sizeof(*v));
		if (!v) {
			g->oom = true;
			return false;
		}
		t->files = v;
		g->fcap = cap;
	}
	struct rep_file *d = &t->files[t->nfiles++];
	memset(d, 0, sizeof(*d));
	d->path = dup(f->path);
	d->host = dup(f->host);
	d->host_from = dup(f->host_from);
	d->family = dup(f->family);
	d->location = dup(f->location);
	d->encoding = dup(f->encoding);
	d->status = dup(f->status);
	d->error = dup(f->error);
	d->outcome = dup(f->outcome);
	d->reason = dup(f->reason);
	d->action = dup(f->action && *f->action ? f->action : NULL);
	d->product = dup(f->product);
	d->started = dup(f->started);
	d->finished = dup(f->finished);
	d->failed_at = dup(f->failed_at);
	d->lines = f->lines;
	d->bytes = f->bytes;
	d->has_exit = f->has_exit;
	d->exit_code = f->exit_code;
	d->reboot = f->reboot;
	d->has_verdict = f->outcome != NULL;
	d->out = UL_OUT_UNKNOWN;
	for (int i = 0; f->outcome && i < UL_OUTCOME_COUNT; i++)
		if (strcmp(f->outcome, ul_outcome_name((enum ul_outcome)i)) == 0)
			d->out = (enum ul_outcome)i;
	if (f->has_root)
		finding_copy(&d->root, &f->root);
	return true;
}

static bool collect_finding(void *ctx, const struct ul_finding_view *f)
{
	struct gather *g = ctx;
	if (*g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct rep_finding *v = realloc(*g->arr, cap * sizeof(*v));
		if (!v) {
			g->oom = true;
			return false;
		}
		*g->arr = v;
		g->cap = cap;
	}
	struct rep_finding *d = &(*g->arr)[(*g->n)++];
	finding_copy(d, f);
	const struct rep_file *file = rep_file_of(g->t, f->file);
	d->host = dup(file ? file->host : NULL);
	d->ignored = file && file->out == UL_OUT_SUCCEEDED;
	return true;
}

static bool collect_noise(void *ctx, const char *rule, const char *code, uint64_t count)
{
	struct gather *g = ctx;
	struct rep_triage *t = g->t;
	if (t->nnoise == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct rep_noise *v = realloc(t->noise, cap * sizeof(*v));
		if (!v) {
			g->oom = true;
			return false;
		}
		t->noise = v;
		g->cap = cap;
	}
	struct rep_noise *d = &t->noise[t->nnoise++];
	d->rule = dup(rule);
	d->code = dup(code && *code ? code : NULL);
	d->count = count;
	t->noise_total += count;
	return true;
}

/* Time order; lines without a time after those with one, then by file and line. */
static int by_time(const void *a, const void *b)
{
	const struct rep_finding *x = a, *y = b;
	if (x->ts && y->ts) {
		int c = strcmp(x->ts, y->ts);
		if (c)
			return c;
	} else if (x->ts || y->ts) {
		return x->ts ? -1 : 1;
	}
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void first_failed(struct rep_triage *t)
{
	const struct ul_server *best = NULL;
	for (size_t i = 0; i < t->nservers; i++) {
		const struct ul_server *s = &t->servers[i];
		if (!rep_bad(s->outcome))
			continue;
		if (!best) {
			best = s;
			continue;
		}
		const char *a = s->ncauses ? s->causes[0].ts : NULL;
		const char *b = best->ncauses ? best->causes[0].ts : NULL;
		if (a && (!b || strcmp(a, b) < 0))
			best = s;
	}
	t->first = best;
}

/* Failures already shown as a bad server's root cause or candidate. */
static void mark_causes(struct rep_triage *t)
{
	for (size_t i = 0; i < t->nfailures; i++) {
		struct rep_finding *f = &t->failures[i];
		for (size_t s = 0; s < t->nservers && !f->cause; s++) {
			const struct ul_server *sv = &t->servers[s];
			if (!rep_bad(sv->outcome))
				continue;
			for (size_t c = 0; c < sv->ncauses; c++)
				if (sv->causes[c].line == f->line && sv->causes[c].file &&
				    f->file && strcmp(sv->causes[c].file, f->file) == 0)
					f->cause = true;
		}
	}
}

static void triage_free(struct rep_triage *t)
{
	for (size_t i = 0; i < t->nfiles; i++) {
		struct rep_file *d = &t->files[i];
		char *all[] = { d->path,     d->host,    d->host_from, d->family,   d->location,
			        d->encoding, d->status,  d->error,     d->outcome,  d->reason,
			        d->action,   d->product, d->started,   d->finished, d->failed_at };
		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			free(all[k]);
		finding_free(&d->root);
	}
	free(t->files);
	for (size_t i = 0; i < t->nfailures; i++)
		finding_free(&t->failures[i]);
	free(t->failures);
	for (size_t i = 0; i < t->nfindings; i++)
		finding_free(&t->findings[i]);
	free(t->findings);
	for (size_t i = 0; i < t->nnoise; i++) {
		free(t->noise[i].rule);
		free(t->noise[i].code);
	}
	free(t->noise);
}

static bool gather(struct ul_store *st, int64_t scan_id, const struct rep_renderer *r,
                   struct rep_triage *t, struct ul_error *err)
{
	struct gather g = { .t = t };
	bool ok = ul_store_each_file(st, scan_id, collect_file, &g, err);
	if (ok) {
		g.arr = &t->failures;
		g.n = &t->nfailures;
		g.cap = 0;
		ok = ul_store_each_finding(st, scan_id, UL_SEV_ERROR, true, collect_finding, &g,
		                           err);
	}
	if (ok && r->findings_min >= 0) {
		g.arr = &t->findings;
		g.n = &t->nfindings;
		g.cap = 0;
		ok = ul_store_each_finding(st, scan_id, (enum ul_severity)r->findings_min, false,
		                           collect_finding, &g, err);
	}
	if (ok) {
		g.cap = 0;
		ok = ul_store_each_noise(st, scan_id, collect_noise, &g, err);
	}
	if (ok)
		ok = ul_store_counts(st, scan_id, t->counts, err);
	if (!ok && g.oom)
		ul_error_set(err, "memory", "out of memory");
	if (!ok)
		return false;
	if (t->nfailures)
		qsort(t->failures, t->nfailures, sizeof(*t->failures), by_time);
	t->servers = ul_cluster_servers(t->cl, &t->nservers);
	t->checks = ul_cluster_checks(t->cl, &t->nchecks);
	first_failed(t);
	mark_causes(t);
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
		bool readable = f->status && strcmp(f->status, "ok") == 0;
		if (!readable)
			t->sum.unreadable++;
		if (f->has_verdict || readable)
			t->sum.files++;
		t->sum.failed_files += f->out == UL_OUT_FAILED;
	}
	t->sum.verdict = ul_cluster_verdict(t->cl);
	return true;
}

bool ul_report_triage(struct ul_store *st, int64_t scan_id, const struct ul_report_opts *o,
                      struct ul_triage_summary *sum, struct ul_error *err)
{
	memset(sum, 0, sizeof(*sum));
	const struct rep_renderer *r = renderer_of(o->format);
	if (!r)
		return ul_error_set(err, "usage", "the triage cannot be printed as %s",
		                    ul_format_name(o->format));
	struct rep_triage t = { 0 };
	struct ul_cluster *own = NULL;
	t.cl = o->cluster;
	if (!t.cl) {
		own = ul_cluster_build(st, scan_id, NULL, err);
		t.cl = own;
	}
	bool ok = t.cl && gather(st, scan_id, r, &t, err);
	if (ok) {
		*sum = t.sum;
		ok = r->render(o, &t);
		if (ok && ferror(o->out))
			ok = ul_error_set(err, "io", "cannot write the report");
		else if (!ok)
			ul_error_set(err, "memory", "out of memory");
	}
	ul_cluster_destroy(own);
	triage_free(&t);
	return ok;
}

/* ---- query output -------------------------------------------------------------------------- */

struct qctx {
	const struct ul_report_opts *o;
	size_t rows, total;
	size_t statement;
	/* table: buffered rows */
	int ncols;
	char **cells; /* rows * ncols */
	size_t cap;
	size_t width[256];
	char *names[256];
	bool oom;
};

/* A value as text that is always valid UTF-8; NULL for SQL NULL. To free(). */
static char *value_text(const struct ul_value *v, bool *oom)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f;
	switch (v->type) {
	case UL_VAL_NULL:
		return NULL;
	case UL_VAL_INT:
		if (asprintf(&s, "%" PRId64, v->i) < 0)
			s = NULL;
		break;
	case UL_VAL_REAL: {
		/* The shortest text that reads back as the same number, and looks like a real. */
		char buf[40];
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, v->r);
			if (strtod(buf, NULL) == v->r)
				break;
		}
		if (!strpbrk(buf, ".eEn"))
			strcat(buf, ".0");
		s = strdup(buf);
		break;
	}
	case UL_VAL_BLOB:
		/* A blob as an SQL literal: x'0aff' */
		f = open_memstream(&s, &len);
		if (!f)
			break;
		fputs("x'", f);
		for (size_t i = 0; i < v->len; i++)
			fprintf(f, "%02x", (unsigned char)v->p[i]);
		fputc('\'', f);
		if (fclose(f) != 0) {
			free(s);
			s = NULL;
		}
		break;
	case UL_VAL_TEXT:
		/* Text SQLite holds need not be UTF-8 (CAST(x'ff' AS TEXT)): bad bytes become U+FFFD. */
		f = open_memstream(&s, &len);
		if (!f)
			break;
		for (size_t i = 0; i < v->len;) {
			unsigned char c = (unsigned char)v->p[i];
			size_t n = c < 0x80         ? 1
			           : (c >> 5) == 6  ? 2
			           : (c >> 4) == 14 ? 3
			           : (c >> 3) == 30 ? 4
			                            : 0;
			if (c && n && i + n <= v->len && ul_decode_is_utf8(v->p + i, n)) {
				fwrite(v->p + i, 1, n, f);
				i += n;
			} else {
				fputs(c ? "\xEF\xBF\xBD" : "", f);
				i++;
			}
		}
		if (fclose(f) != 0) {
			free(s);
			s = NULL;
		}
		break;
	}
	if (!s)
		*oom = true;
	return s;
}

static void csv_cell(FILE *out, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Display width of a UTF-8 string in code points, tabs and breaks shown as one space. */
static size_t cells_of(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void put_cell(FILE *out, const char *s, size_t width)
{
	size_t used = 0;
	char fit[4 * CELL_MAX + 4];
	if (rep_is_path(s) && cells_of(s) > CELL_MAX) { /* keep a path's file name */
		rep_fit_path(s, CELL_MAX, fit, sizeof(fit));
		s = fit;
	}
	for (const char *p = s ? s : "NULL"; *p && used < CELL_MAX; p++) {
		unsigned char c = (unsigned char)*p;
		fputc(c == '\n' || c == '\r' || c == '\t' ? ' ' : c, out);
		used += (c & 0xC0) != 0x80;
	}
	for (; used < width; used++)
		fputc(' ', out);
}

static void flush_table(struct qctx *c)
{
	FILE *out = c->o->out;
	for (int i = 0; i < c->ncols; i++) {
		put_cell(out, c->names[i], i + 1 < c->ncols ? c->width[i] : 0);
		fputs(i + 1 < c->ncols ? "  " : "\n", out);
	}
	for (int i = 0; i < c->ncols; i++) {
		for (size_t k = 0; k < c->width[i]; k++)
			fputc('-', out);
		fputs(i + 1 < c->ncols ? "  " : "\n", out);
	}
	for (size_t r = 0; r < c->rows && r < TABLE_ROWS; r++)
		for (int i = 0; i < c->ncols; i++) {
			put_cell(out, c->cells[r * (size_t)c->ncols + (size_t)i],
			         i + 1 < c->ncols ? c->width[i] : 0);
			fputs(i + 1 < c->ncols ? "  " : "\n", out);
		}
	if (c->rows > TABLE_ROWS)
		fprintf(out, "... %zu more row%s (use --format csv for all)\n",
		        c->rows - TABLE_ROWS, rep_s(c->rows - TABLE_ROWS));
}

static void free_table(struct qctx *c)
{
	size_t n = (c->rows < TABLE_ROWS ? c->rows : TABLE_ROWS) * (size_t)c->ncols;
	for (size_t i = 0; c->cells && i < n; i++)
		free(c->cells[i]);
	free(c->cells);
	for (int i = 0; i < c->ncols; i++)
		free(c->names[i]);
	c->cells = NULL;
	c->cap = 0;
	c->rows = 0;
	c->ncols = 0;
	memset(c->width, 0, sizeof(c->width));
}

static void json_value(FILE *out, const struct ul_value *v, bool *oom)
{
	if (v->type == UL_VAL_NULL || (v->type == UL_VAL_REAL && v->r != v->r)) {
		fputs("null", out);
		return;
	}
	char *t = value_text(v, oom);
	if (!t)
		return;
	if (v->type == UL_VAL_INT)
		fputs(t, out);
	else if (v->type == UL_VAL_REAL)
		fputs(strpbrk(t, "n") ? "null" : t, out); /* inf has no JSON number */
	else
		ul_report_json_string(out, t);
	free(t);
}

static bool on_row(void *ctx, const struct ul_query_row *row)
{
	struct qctx *c = ctx;
	FILE *out = c->o->out;
	int ncols = row->ncols;
	bool new_statement = c->total && row->statement != c->statement;
	c->statement = row->statement;
	switch (c->o->format) {
	case UL_FMT_CSV:
		/* Each statement's rows under their own header, a blank line between. */
		if (new_statement)
			fputs("\r\n", out);
		if (c->total == 0 || new_statement)
			for (int i = 0; i < ncols; i++) {
				csv_cell(out, row->names[i]);
				fputs(i + 1 < ncols ? "," : "\r\n", out);
			}
		for (int i = 0; i < ncols; i++) {
			char *t = value_text(&row->values[i], &c->oom);
			csv_cell(out, t);
			free(t);
			fputs(i + 1 < ncols ? "," : "\r\n", out);
		}
		break;
	case UL_FMT_JSON:
	case UL_FMT_JSONL:
		if (c->o->format == UL_FMT_JSON)
			fputs(c->total ? ",\n  {" : "\n  {", out);
		else
			fputc('{', out);
		for (int i = 0; i < ncols; i++) {
			if (i)
				fputs(", ", out);
			ul_report_json_string(out, row->names[i]);
			fputs(": ", out);
			json_value(out, &row->values[i], &c->oom);
		}
		fputs(c->o->format == UL_FMT_JSON ? "}" : "}\n", out);
		break;
	default:
		if (new_statement) {
			/* The next statement: print this one's table, start its own. */
			flush_table(c);
			free_table(c);
			fputc('\n', out);
		}
		if (c->rows == 0) {
			c->ncols = ncols;
			for (int i = 0; i < ncols; i++) {
				c->names[i] = dup(row->names[i]);
				c->width[i] = cells_of(row->names[i]);
			}
		}
		if (c->rows < TABLE_ROWS) {
			size_t need = (c->rows + 1) * (size_t)ncols;
			if (need > c->cap) {
				size_t cap = c->cap ? c->cap * 2 : 64 * (size_t)ncols;
				while (cap < need)
					cap *= 2;
				char **v = realloc(c->cells, cap * sizeof(*v));
				if (!v) {
					c->oom = true;
					return false;
				}
				c->cells = v;
				c->cap = cap;
			}
			for (int i = 0; i < ncols; i++) {
				char *t = value_text(&row->values[i], &c->oom);
				c->cells[c->rows * (size_t)ncols + (size_t)i] = t;
				size_t w = t ? cells_of(t) : 4;
				if (w > CELL_MAX)
					w = CELL_MAX;
				if (w > c->width[i])
					c->width[i] = w;
			}
		}
		break;
	}
	c->rows++;
	c->total++;
	return !c->oom && !ferror(out);
}

bool ul_report_query(struct ul_store *st, const char *sql, const struct ul_report_opts *o,
                     struct ul_error *err)
{
	struct qctx c = { .o = o };
	if (o->format == UL_FMT_JSON)
		fputs("[", o->out);
	bool ok = ul_store_query_rows(st, sql, on_row, &c, err);
	if (o->format == UL_FMT_JSON)
		fputs(c.total ? "\n]\n" : "]\n", o->out);
	if (o->format == UL_FMT_TABLE) {
		if (c.ncols)
			flush_table(&c);
		free_table(&c);
	}
	if (c.oom)
		return ul_error_set(err, "memory", "out of memory");
	return ok;
}
