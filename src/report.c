/* SPDX-License-Identifier: MIT */
/* report: triage and query output. See include/upglog/report.h. */
#include "upglog/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "upglog/decode.h"

#define MAX_OTHER  8  /* other failures listed in text */
#define MAX_NOISE  6  /* noise kinds named in the hidden-lines line */
#define CELL_MAX   80 /* widest table cell */
#define TABLE_ROWS 5000

/* ---- owned copies of what the store hands out ---------------------------------------------- */

struct fnd {
	char *file, *ts, *rule, *severity, *code, *action, *text, *before, *after, *title, *explain,
	        *fix, *reason;
	int64_t line;
	bool present;
};

struct fview {
	char *path, *family, *location, *encoding, *status, *error, *outcome, *reason, *action,
	        *product, *failed_at;
	int64_t lines, exit_code;
	bool has_exit, reboot;
	struct fnd root;
	struct fnd cand[3];
	size_t ncand;
};

struct model {
	struct fview *v;
	size_t n, cap;
	bool oom;
};

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void fnd_copy(struct fnd *d, const struct ul_finding_view *s)
{
	d->present = true;
	d->file = dup(s->file);
	d->ts = dup(s->ts);
	d->rule = dup(s->rule);
	d->severity = dup(s->severity);
	d->code = dup(s->code);
	d->action = dup(s->action);
	d->text = dup(s->text);
	d->before = dup(s->before);
	d->after = dup(s->after);
	d->title = dup(s->title);
	d->explain = dup(s->explain);
	d->fix = dup(s->fix);
	d->line = s->line;
}

static void fnd_free(struct fnd *d)
{
	char *all[] = { d->file,   d->ts,    d->rule,  d->severity, d->code, d->action, d->text,
		        d->before, d->after, d->title, d->explain,  d->fix,  d->reason };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	memset(d, 0, sizeof(*d));
}

static bool collect_file(void *ctx, const struct ul_file_view *f)
{
	struct model *m = ctx;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct fview *v = realloc(m->v, cap * sizeof(*v));
		if (!v) {
			m->oom = true;
			return false;
		}
		m->v = v;
		m->cap = cap;
	}
	struct fview *d = &m->v[m->n++];
	memset(d, 0, sizeof(*d));
	d->path = dup(f->path);
	d->family = dup(f->family);
	d->location = dup(f->location);
	d->encoding = dup(f->encoding);
	d->status = dup(f->status);
	d->error = dup(f->error);
	d->outcome = dup(f->outcome);
	d->reason = dup(f->reason);
	d->action = dup(f->action);
	d->product = dup(f->product);
	d->failed_at = dup(f->failed_at);
	d->lines = f->lines;
	d->has_exit = f->has_exit;
	d->exit_code = f->exit_code;
	d->reboot = f->reboot;
	if (f->has_root)
		fnd_copy(&d->root, &f->root);
	for (size_t i = 0; i < f->ncandidates; i++) {
		struct fnd *c = &d->cand[d->ncand++];
		if (f->candidates[i].has_finding)
			fnd_copy(c, &f->candidates[i].finding);
		else
			c->file = dup(f->path);
		c->line = f->candidates[i].line;
		c->reason = dup(f->candidates[i].reason);
	}
	return true;
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct fview *d = &m->v[i];
		char *all[] = { d->path,   d->family,  d->location, d->encoding,
			        d->status, d->error,   d->outcome,  d->reason,
			        d->action, d->product, d->failed_at };
		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			free(all[k]);
		fnd_free(&d->root);
		for (size_t k = 0; k < d->ncand; k++)
			fnd_free(&d->cand[k]);
	}
	free(m->v);
}

/* ---- deciding the bundle's verdict --------------------------------------------------------- */

static int outcome_rank(const char *o)
{
	if (!o)
		return 0;
	if (strcmp(o, "failed") == 0)
		return 3;
	if (strcmp(o, "incomplete") == 0)
		return 2;
	if (strcmp(o, "succeeded") == 0)
		return 1;
	return 0;
}

static enum ul_outcome rank_outcome(int r)
{
	static const enum ul_outcome map[] = { UL_OUT_UNKNOWN, UL_OUT_SUCCEEDED, UL_OUT_INCOMPLETE,
		                               UL_OUT_FAILED };
	return map[r];
}

/* Failed files in the order their root causes happened (time unknown last, then path). */
static int cmp_failure(const void *x, const void *y)
{
	const struct fview *a = *(const struct fview *const *)x,
	                   *b = *(const struct fview *const *)y;
	if (a->failed_at && b->failed_at) {
		int c = strcmp(a->failed_at, b->failed_at);
		if (c)
			return c;
	} else if (a->failed_at || b->failed_at) {
		return a->failed_at ? -1 : 1;
	}
	return strcmp(a->path, b->path);
}

/* A root-cause candidate of the whole bundle. */
struct bcand {
	const struct fview *file;
	const struct fnd *f;
	char reason[200];
};

/*
 * The bundle's candidates. One failed log: its own three. Several: the first line of each
 * failed log in time order (the chain of failures), then more of the first log's own. Returns
 * the first failed file (NULL when none) and fills `out`.
 */
static const struct fview *bundle_candidates(const struct model *m, struct bcand out[3], size_t *n)
{
	const struct fview **failed = malloc((m->n ? m->n : 1) * sizeof(*failed));
	size_t nf = 0;
	*n = 0;
	if (!failed)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (outcome_rank(m->v[i].outcome) == 3)
			failed[nf++] = &m->v[i];
	qsort(failed, nf, sizeof(*failed), cmp_failure);
	const struct fview *first = nf ? failed[0] : NULL;
	for (size_t i = 1; i < nf && *n < 2; i++) {
		const struct fview *f = failed[i];
		if (!f->ncand)
			continue;
		struct bcand *c = &out[1 + (*n)++];
		c->file = f;
		c->f = &f->cand[0];
		snprintf(c->reason, sizeof(c->reason), "a later failure, in another log (%s)",
		         f->reason ? f->reason : "failed");
	}
	size_t chain = *n;
	*n = 0;
	if (first && first->ncand) {
		out[0] = (struct bcand){ .file = first, .f = &first->cand[0] };
		snprintf(out[0].reason, sizeof(out[0].reason), "%s",
		         first->cand[0].reason ? first->cand[0].reason : "");
		*n = 1 + chain;
		for (size_t k = 1; k < first->ncand && *n < 3; k++) {
			struct bcand *c = &out[(*n)++];
			c->file = first;
			c->f = &first->cand[k];
			snprintf(c->reason, sizeof(c->reason), "%s",
			         first->cand[k].reason ? first->cand[k].reason : "");
		}
	}
	free(failed);
	return first;
}

/* ---- output helpers ------------------------------------------------------------------------ */

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

static const char *shown(const struct ul_report_opts *o, const char *path)
{
	if (!path)
		return "?";
	size_t n = o->strip ? strlen(o->strip) : 0;
	if (n && strncmp(path, o->strip, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

static void commas(char *buf, size_t cap, uint64_t v)
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

enum { C_RESET, C_BOLD, C_RED, C_GREEN, C_YELLOW, C_DIM };

static const char *paint(const struct ul_report_opts *o, int c)
{
	static const char *const codes[] = { "\033[0m",    "\033[1m",    "\033[1;31m",
		                             "\033[1;32m", "\033[1;33m", "\033[2m" };
	return o->color ? codes[c] : "";
}

/* Print each '\n'-separated line of `block` numbered from `first`. */
static int64_t print_context(const struct ul_report_opts *o, const char *block, int64_t first,
                             int width)
{
	if (!block)
		return first;
	const char *s = block;
	int64_t n = first;
	for (;;) {
		const char *nl = strchr(s, '\n');
		int len = nl ? (int)(nl - s) : (int)strlen(s);
		fprintf(o->out, "%s    %*" PRId64 " | %.*s%s\n", paint(o, C_DIM), width, n,
		        len > 160 ? 160 : len, s, paint(o, C_RESET));
		n++;
		if (!nl)
			break;
		s = nl + 1;
	}
	return n;
}

static int64_t count_lines(const char *block)
{
	if (!block)
		return 0;
	int64_t n = 1;
	for (const char *p = block; *p; p++)
		n += *p == '\n';
	return n;
}

/* ---- text triage --------------------------------------------------------------------------- */

struct noise_ctx {
	uint64_t total;
	size_t kinds;
	char line[512];
	size_t len;
};

static bool collect_noise(void *ctx, const char *rule, const char *code, uint64_t count)
{
	struct noise_ctx *c = ctx;
	c->total += count;
	if (c->kinds++ < MAX_NOISE && c->len < sizeof(c->line) - 80) {
		char num[32];
		commas(num, sizeof(num), count);
		/* A message number says it best (2205); else the rule's name without its family. */
		const char *dot = strchr(rule, '.');
		const char *label = code && *code ? code : dot ? dot + 1 : rule;
		c->len += (size_t)snprintf(c->line + c->len, sizeof(c->line) - c->len,
		                           "%s%s \xC3\x97%s", c->len ? ", " : "", label, num);
	}
	return true;
}

struct other_ctx {
	const struct ul_report_opts *o;
	const struct fnd *skip[4];
	size_t shown, total;
	bool json, first;
};

static bool is_skipped(const struct other_ctx *c, const struct ul_finding_view *f)
{
	for (size_t i = 0; i < 4; i++)
		if (c->skip[i] && c->skip[i]->present && c->skip[i]->line == f->line &&
		    c->skip[i]->file && f->file && strcmp(c->skip[i]->file, f->file) == 0)
			return true;
	return false;
}

static bool print_other(void *ctx, const struct ul_finding_view *f)
{
	struct other_ctx *c = ctx;
	if (is_skipped(c, f))
		return true;
	c->total++;
	if (c->json) {
		FILE *out = c->o->out;
		fputs(c->first ? "\n    " : ",\n    ", out);
		c->first = false;
		fputs("{\"file\": ", out);
		ul_report_json_string(out, f->file);
		fprintf(out, ", \"line\": %" PRId64 ", \"rule\": ", f->line);
		ul_report_json_string(out, f->rule);
		fputs(", \"severity\": ", out);
		ul_report_json_string(out, f->severity);
		fputs(", \"code\": ", out);
		ul_report_json_string(out, f->code);
		fputs(", \"action\": ", out);
		ul_report_json_string(out, f->action);
		fputs(", \"text\": ", out);
		ul_report_json_string(out, f->text);
		fputs("}", out);
		return true;
	}
	if (c->shown >= MAX_OTHER)
		return true;
	c->shown++;
	fprintf(c->o->out, "  %s:%" PRId64 "  %s[%s]%s %.120s\n", shown(c->o, f->file), f->line,
	        paint(c->o, strcmp(f->severity, "catastrophic") == 0 ? C_RED : C_YELLOW),
	        f->severity, paint(c->o, C_RESET), f->text ? f->text : "");
	return true;
}

static void text_root(const struct ul_report_opts *o, const struct fview *f)
{
	const struct fnd *r = &f->root;
	FILE *out = o->out;
	fprintf(out, "\n%sRoot cause%s  %s:%" PRId64 "\n", paint(o, C_BOLD), paint(o, C_RESET),
	        shown(o, f->path), r->line);
	fprintf(out, "            ");
	if (r->code)
		fprintf(out, "code %s", r->code);
	if (r->action && *r->action)
		fprintf(out, "%saction %s", r->code ? " \xC2\xB7 " : "", r->action);
	if (r->ts)
		fprintf(out, " \xC2\xB7 %s", r->ts);
	fprintf(out, " \xC2\xB7 rule %s\n", r->rule ? r->rule : "?");
	if (r->title && *r->title)
		fprintf(out, "            %s\n", r->title);
	fputc('\n', out);
	int64_t nb = count_lines(r->before);
	int width = 1;
	for (int64_t v = r->line + 3; v >= 10; v /= 10)
		width++;
	print_context(o, r->before, r->line - nb, width);
	fprintf(out, "%s  > %*" PRId64 " | %.300s%s\n", paint(o, C_RED), width, r->line,
	        r->text ? r->text : "", paint(o, C_RESET));
	print_context(o, r->after, r->line + 1, width);
	if (r->explain && *r->explain)
		fprintf(out, "\n%sWhy%s         %s\n", paint(o, C_BOLD), paint(o, C_RESET),
		        r->explain);
	if (r->fix && *r->fix)
		fprintf(out, "%sWhat to do%s  %s\n", paint(o, C_BOLD), paint(o, C_RESET), r->fix);
}

static void text_summary(const struct ul_report_opts *o, const struct model *m,
                         const struct ul_triage_summary *sum)
{
	size_t by[4] = { 0 };
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].outcome)
			by[outcome_rank(m->v[i].outcome)]++;
	fprintf(o->out,
	        "\n%sFiles%s       %" PRIu64 " read: %zu failed, %zu incomplete, %zu "
	        "succeeded, %zu without an outcome",
	        paint(o, C_BOLD), paint(o, C_RESET), sum->files, by[3], by[2], by[1], by[0]);
	if (sum->unreadable)
		fprintf(o->out, "; %" PRIu64 " unreadable", sum->unreadable);
	fputc('\n', o->out);
	for (size_t i = 0; i < m->n; i++) {
		const struct fview *f = &m->v[i];
		if (f->status && strcmp(f->status, "ok") != 0)
			fprintf(o->out, "            %s%s%s: %s (%s)\n", paint(o, C_YELLOW),
			        shown(o, f->path), paint(o, C_RESET), f->status,
			        f->error ? f->error : "");
	}
}

static bool text_triage(struct ul_store *st, int64_t scan_id, const struct ul_report_opts *o,
                        const struct model *m, const struct ul_triage_summary *sum,
                        struct ul_error *err)
{
	FILE *out = o->out;
	struct bcand cand[3];
	size_t ncand;
	const struct fview *ff = bundle_candidates(m, cand, &ncand);
	static const char *const words[] = { "UNKNOWN", "SUCCEEDED", "FAILED", "INCOMPLETE" };
	int colour = sum->verdict == UL_OUT_FAILED      ? C_RED
	             : sum->verdict == UL_OUT_SUCCEEDED ? C_GREEN
	                                                : C_YELLOW;
	fprintf(out, "%s%s%s", paint(o, colour), words[sum->verdict], paint(o, C_RESET));
	if (ff) {
		const char *base = strrchr(ff->path, '/');
		fprintf(out, "  %s%s%s (%s)", ff->product ? ff->product : "",
		        ff->product ? ": " : "", ff->reason ? ff->reason : "failed",
		        base ? base + 1 : ff->path);
	} else if (sum->verdict == UL_OUT_SUCCEEDED)
		fprintf(out, "  no installer session failed");
	fputc('\n', out);

	struct other_ctx oc = { .o = o };
	if (ff && ff->root.present) {
		text_root(o, ff);
		oc.skip[0] = &ff->root;
	} else if (ff) {
		fprintf(out, "\nRoot cause  %s: %s (no single line to point at)\n",
		        shown(o, ff->path), ff->reason ? ff->reason : "failed");
	}
	if (ncand > 1) {
		fprintf(out, "\n%sOther candidates%s\n", paint(o, C_BOLD), paint(o, C_RESET));
		for (size_t i = 1; i < ncand; i++) {
			const struct fnd *c = cand[i].f;
			fprintf(out, "  %zu. %s:%" PRId64 "  %s\n     %.160s\n", i + 1,
			        shown(o, cand[i].file->path), c->line, cand[i].reason,
			        c->text ? c->text : "");
			oc.skip[i] = c;
		}
	}
	fprintf(out, "\n%sOther failures%s\n", paint(o, C_BOLD), paint(o, C_RESET));
	if (!ul_store_each_finding(st, scan_id, UL_SEV_ERROR, true, print_other, &oc, err))
		return false;
	if (oc.total == 0)
		fprintf(out, "  none\n");
	else if (oc.total > oc.shown)
		fprintf(out, "  ... and %zu more (upglog query for all)\n", oc.total - oc.shown);

	text_summary(o, m, sum);
	struct noise_ctx nc = { 0 };
	if (!ul_store_each_noise(st, scan_id, collect_noise, &nc, err))
		return false;
	char total[32];
	commas(total, sizeof(total), nc.total);
	fprintf(out, "%sHidden%s      %s harmless lines hidden%s%s", paint(o, C_BOLD),
	        paint(o, C_RESET), total, nc.len ? ": " : "", nc.line);
	if (nc.kinds > MAX_NOISE)
		fprintf(out, ", and %zu more kinds", nc.kinds - MAX_NOISE);
	fputc('\n', out);
	return true;
}

/* ---- JSON triage --------------------------------------------------------------------------- */

static void json_kv(FILE *out, const char *key, const char *val, bool comma)
{
	fprintf(out, "%s\"%s\": ", comma ? ", " : "", key);
	ul_report_json_string(out, val);
}

static void json_lines(FILE *out, const char *block)
{
	fputc('[', out);
	if (block) {
		const char *s = block;
		for (bool first = true;; first = false) {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s) : strlen(s);
			char *line = strndup(s, len);
			if (!first)
				fputs(", ", out);
			ul_report_json_string(out, line ? line : "");
			free(line);
			if (!nl)
				break;
			s = nl + 1;
		}
	}
	fputc(']', out);
}

static void json_finding(FILE *out, const struct fnd *f, const char *file, bool context,
                         const char *reason)
{
	fputs("{", out);
	json_kv(out, "file", f->file ? f->file : file, false);
	fprintf(out, ", \"line\": %" PRId64, f->line);
	json_kv(out, "rule", f->rule, true);
	json_kv(out, "severity", f->severity, true);
	json_kv(out, "code", f->code, true);
	json_kv(out, "action", f->action, true);
	json_kv(out, "text", f->text, true);
	json_kv(out, "ts", f->ts, true);
	if (context) {
		json_kv(out, "title", f->title, true);
		json_kv(out, "explain", f->explain, true);
		json_kv(out, "fix", f->fix, true);
		fputs(", \"context\": {\"before\": ", out);
		json_lines(out, f->before);
		fputs(", \"after\": ", out);
		json_lines(out, f->after);
		fputs("}", out);
	}
	if (reason)
		json_kv(out, "reason", reason, true);
	fputs("}", out);
}

static bool json_noise(void *ctx, const char *rule, const char *code, uint64_t count)
{
	struct other_ctx *c = ctx;
	FILE *out = c->o->out;
	fputs(c->first ? "\n    {" : ",\n    {", out);
	c->first = false;
	json_kv(out, "rule", rule, false);
	json_kv(out, "code", code && *code ? code : NULL, true);
	fprintf(out, ", \"count\": %" PRIu64 "}", count);
	return true;
}

static bool json_triage(struct ul_store *st, int64_t scan_id, const struct ul_report_opts *o,
                        const struct model *m, const struct ul_triage_summary *sum,
                        struct ul_error *err)
{
	FILE *out = o->out;
	struct bcand cand[3];
	size_t ncand;
	const struct fview *ff = bundle_candidates(m, cand, &ncand);
	fputs("{\n  ", out);
	json_kv(out, "verdict", ul_outcome_name(sum->verdict), false);
	fputs(",\n  \"root_cause\": ", out);
	if (ff && ff->root.present)
		json_finding(out, &ff->root, ff->path, true, NULL);
	else
		fputs("null", out);
	fputs(",\n  \"candidates\": [", out);
	for (size_t i = 0; i < ncand; i++) {
		fputs(i ? ",\n    " : "\n    ", out);
		json_finding(out, cand[i].f, cand[i].file->path, false, cand[i].reason);
	}
	fputs("],\n  \"failures\": [", out);
	bool first = true;
	for (size_t i = 0; i < m->n; i++) {
		const struct fview *f = &m->v[i];
		if (outcome_rank(f->outcome) != 3)
			continue;
		fputs(first ? "\n    {" : ",\n    {", out);
		first = false;
		json_kv(out, "file", f->path, false);
		json_kv(out, "reason", f->reason, true);
		json_kv(out, "action", f->action, true);
		if (f->has_exit)
			fprintf(out, ", \"exit_code\": %" PRId64, f->exit_code);
		else
			fputs(", \"exit_code\": null", out);
		fputs(", \"root_cause\": ", out);
		if (f->root.present)
			json_finding(out, &f->root, f->path, false, NULL);
		else
			fputs("null", out);
		fputs("}", out);
	}
	fputs("],\n  \"findings\": [", out);
	struct other_ctx oc = { .o = o, .json = true, .first = true };
	if (!ul_store_each_finding(st, scan_id, UL_SEV_ERROR, false, print_other, &oc, err))
		return false;
	uint64_t counts[UL_SEV_COUNT];
	if (!ul_store_counts(st, scan_id, counts, err))
		return false;
	fputs("],\n  \"counts\": {", out);
	for (int i = 0; i < UL_SEV_COUNT; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "",
		        ul_severity_name((enum ul_severity)i), counts[i]);
	fputs("},\n  \"noise\": [", out);
	struct other_ctx nc = { .o = o, .first = true };
	if (!ul_store_each_noise(st, scan_id, json_noise, &nc, err))
		return false;
	fputs("],\n  \"files\": [", out);
	for (size_t i = 0; i < m->n; i++) {
		const struct fview *f = &m->v[i];
		fputs(i ? ",\n    {" : "\n    {", out);
		json_kv(out, "path", f->path, false);
		json_kv(out, "family", f->family, true);
		json_kv(out, "location", f->location, true);
		json_kv(out, "encoding", f->encoding, true);
		fprintf(out, ", \"lines\": %" PRId64, f->lines);
		json_kv(out, "status", f->status, true);
		json_kv(out, "verdict", f->outcome, true);
		json_kv(out, "reason", f->reason, true);
		if (f->has_exit)
			fprintf(out, ", \"exit_code\": %" PRId64, f->exit_code);
		fprintf(out, ", \"reboot\": %s}", f->reboot ? "true" : "false");
	}
	fputs("],\n  \"errors\": [", out);
	first = true;
	for (size_t i = 0; i < m->n; i++) {
		const struct fview *f = &m->v[i];
		if (!f->status || strcmp(f->status, "ok") == 0)
			continue;
		fputs(first ? "\n    {" : ",\n    {", out);
		first = false;
		json_kv(out, "file", f->path, false);
		json_kv(out, "status", f->status, true);
		json_kv(out, "error", f->error, true);
		fputs("}", out);
	}
	fprintf(out, "]\n}\n");
	return true;
}

bool ul_report_triage(struct ul_store *st, int64_t scan_id, const struct ul_report_opts *o,
                      struct ul_triage_summary *sum, struct ul_error *err)
{
	struct model m = { 0 };
	memset(sum, 0, sizeof(*sum));
	bool ok = ul_store_each_file(st, scan_id, collect_file, &m, err);
	if (!ok && m.oom)
		ul_error_set(err, "memory", "out of memory");
	if (ok) {
		int worst = 0;
		for (size_t i = 0; i < m.n; i++) {
			const struct fview *f = &m.v[i];
			bool readable = f->status && strcmp(f->status, "ok") == 0;
			if (!readable)
				sum->unreadable++;
			if (f->outcome || readable)
				sum->files++;
			int r = outcome_rank(f->outcome);
			if (r > worst)
				worst = r;
			sum->failed_files += r == 3;
		}
		sum->verdict = rank_outcome(worst);
	}
	if (ok)
		ok = o->format == UL_FMT_JSON ? json_triage(st, scan_id, o, &m, sum, err)
		                              : text_triage(st, scan_id, o, &m, sum, err);
	model_free(&m);
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
		fprintf(out, "... %zu more rows (use --format csv for all)\n",
		        c->rows - TABLE_ROWS);
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
