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
	        *product, *failed_at, *host;
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
	d->host = dup(f->host);
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
		char *all[] = { d->path,   d->family,  d->location,  d->encoding,
			        d->status, d->error,   d->outcome,   d->reason,
			        d->action, d->product, d->failed_at, d->host };
		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			free(all[k]);
		fnd_free(&d->root);
		for (size_t k = 0; k < d->ncand; k++)
			fnd_free(&d->cand[k]);
	}
	free(m->v);
}

/* ---- file outcomes ------------------------------------------------------------------------- */

/* Ranks of a file's outcome, for the file counts and the list of failures (the verdict is the
 * cluster's). A cancelled setup did not fail, but it did not install either: it ranks just
 * below failed, and both have a cause. */
#define RANK_CANCELLED 3
#define RANK_FAILED    4

static int outcome_rank(const char *o)
{
	if (!o)
		return 0;
	if (strcmp(o, "failed") == 0)
		return RANK_FAILED;
	if (strcmp(o, "cancelled") == 0)
		return RANK_CANCELLED;
	if (strcmp(o, "incomplete") == 0)
		return 2;
	if (strcmp(o, "succeeded") == 0)
		return 1;
	return 0;
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
	const char *skip_file[8]; /* lines already shown as causes */
	int64_t skip_line[8];
	size_t nskip;
	size_t shown, total;
	bool json, first;
};

static bool is_skipped(const struct other_ctx *c, const struct ul_finding_view *f)
{
	for (size_t i = 0; i < c->nskip; i++)
		if (c->skip_line[i] == f->line && c->skip_file[i] && f->file &&
		    strcmp(c->skip_file[i], f->file) == 0)
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

/* ---- the gathered triage: what every renderer reads -------------------------------------- */

struct triage {
	struct model m;
	const struct ul_cluster *cl;
	const struct ul_server *servers;
	size_t nservers;
	const struct ul_check *checks;
	size_t nchecks;
	const struct ul_server *first; /* the failed server whose root cause happened first */
	struct ul_triage_summary sum;
};

static bool bad_outcome(enum ul_outcome o)
{
	return o == UL_OUT_FAILED || o == UL_OUTCOME_CANCELLED;
}

static void gather_first(struct triage *t)
{
	const struct ul_server *best = NULL;
	for (size_t i = 0; i < t->nservers; i++) {
		const struct ul_server *s = &t->servers[i];
		if (!bad_outcome(s->outcome))
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

static const char *upper_outcome(enum ul_outcome o)
{
	static const char *const words[UL_OUTCOME_COUNT] = { "UNKNOWN", "SUCCEEDED", "FAILED",
		                                             "INCOMPLETE", "CANCELLED" };
	return (unsigned)o < UL_OUTCOME_COUNT ? words[o] : "UNKNOWN";
}

static int outcome_colour(enum ul_outcome o)
{
	return bad_outcome(o) ? C_RED : o == UL_OUT_SUCCEEDED ? C_GREEN : C_YELLOW;
}

/* ---- text triage --------------------------------------------------------------------------- */

static void text_cause(const struct ul_report_opts *o, const struct ul_server_cause *r)
{
	FILE *out = o->out;
	fprintf(out, "\n  %sRoot cause%s  %s:%" PRId64 "\n", paint(o, C_BOLD), paint(o, C_RESET),
	        shown(o, r->file), r->line);
	fprintf(out, "              ");
	bool sep = false;
	if (r->code) {
		fprintf(out, "code %s", r->code);
		sep = true;
	}
	if (r->ts) {
		fprintf(out, "%s%s", sep ? " \xC2\xB7 " : "", r->ts);
		sep = true;
	}
	fprintf(out, "%srule %s\n", sep ? " \xC2\xB7 " : "", r->rule ? r->rule : "?");
	if (r->title && *r->title)
		fprintf(out, "              %s\n", r->title);
	fprintf(out, "              %s\n", r->reason ? r->reason : "");
	if (r->text) {
		fputc('\n', out);
		int64_t nb = count_lines(r->before);
		int width = 1;
		for (int64_t v = r->line + 3; v >= 10; v /= 10)
			width++;
		print_context(o, r->before, r->line - nb, width);
		fprintf(out, "%s  > %*" PRId64 " | %.300s%s\n", paint(o, C_RED), width, r->line,
		        r->text, paint(o, C_RESET));
		print_context(o, r->after, r->line + 1, width);
	}
	if (r->explain && *r->explain)
		fprintf(out, "\n  %sWhy%s         %s\n", paint(o, C_BOLD), paint(o, C_RESET),
		        r->explain);
}

static void text_server(const struct ul_report_opts *o, const struct ul_server *s,
                        struct other_ctx *oc, size_t *skipped)
{
	FILE *out = o->out;
	fprintf(out, "\n%s%s%s", paint(o, C_BOLD), *s->host ? s->host : "(unnamed server)",
	        paint(o, C_RESET));
	fprintf(out, " \xC2\xB7 %s", ul_role_name(s->role));
	if (s->role_evidence)
		fprintf(out, " (%s)", s->role_evidence);
	fprintf(out, " \xC2\xB7 %s%s%s\n", paint(o, outcome_colour(s->outcome)),
	        upper_outcome(s->outcome), paint(o, C_RESET));
	if (s->product || s->from_version || s->to_version)
		fprintf(out, "  %s%s%s -> %s", s->product ? s->product : "",
		        s->product && s->from_version ? " " : "",
		        s->from_version ? s->from_version : (s->product ? "" : "?"),
		        s->to_version ? s->to_version : "?");
	else
		fputs("  version unknown", out);
	if (s->started)
		fprintf(out, " \xC2\xB7 %s to %s", s->started, s->finished ? s->finished : "?");
	if (s->reboot)
		fputs(" \xC2\xB7 restart pending", out);
	fprintf(out, "\n  %s\n", s->verdict ? s->verdict : "");
	if (bad_outcome(s->outcome) && s->ncauses) {
		text_cause(o, &s->causes[0]);
		if (*skipped < 4) {
			oc->skip_file[*skipped] = s->causes[0].file;
			oc->skip_line[(*skipped)++] = s->causes[0].line;
		}
	}
	if (s->advice)
		fprintf(out, "  %sWhat to do%s  %s\n", paint(o, C_BOLD), paint(o, C_RESET),
		        s->advice);
	if (bad_outcome(s->outcome) && s->ncauses > 1) {
		fprintf(out, "\n  %sOther candidates%s\n", paint(o, C_BOLD), paint(o, C_RESET));
		for (size_t i = 1; i < s->ncauses; i++) {
			const struct ul_server_cause *c = &s->causes[i];
			fprintf(out, "    %zu. %s:%" PRId64 "  %s\n       %.160s\n", i + 1,
			        shown(o, c->file), c->line, c->reason ? c->reason : "",
			        c->text ? c->text : "");
			if (*skipped < 8) {
				oc->skip_file[*skipped] = c->file;
				oc->skip_line[(*skipped)++] = c->line;
			}
		}
	}
}

static void text_cluster(const struct ul_report_opts *o, const struct triage *t)
{
	FILE *out = o->out;
	const char *t0 = ul_cluster_started(t->cl), *t1 = ul_cluster_finished(t->cl);
	fprintf(out, "\n%sCluster%s     %zu server%s", paint(o, C_BOLD), paint(o, C_RESET),
	        t->nservers, t->nservers == 1 ? "" : "s");
	if (t0 && t1)
		fprintf(out, ", %s to %s", t0, t1);
	fputc('\n', out);
	size_t hw = 4, rw = 4;
	for (size_t i = 0; i < t->nservers; i++) {
		size_t h = strlen(*t->servers[i].host ? t->servers[i].host : "?");
		size_t r = strlen(ul_role_name(t->servers[i].role));
		hw = h > hw ? h : hw;
		rw = r > rw ? r : rw;
	}
	fprintf(out, "  %-*s  %-*s  %-23s  %-23s  %s\n", (int)hw, "host", (int)rw, "role",
	        "started", "finished", "verdict");
	for (size_t i = 0; i < t->nservers; i++) {
		const struct ul_server *s = &t->servers[i];
		fprintf(out, "  %-*s  %-*s  %-23s  %-23s  %s%s%s\n", (int)hw,
		        *s->host ? s->host : "?", (int)rw, ul_role_name(s->role),
		        s->started ? s->started : "-", s->finished ? s->finished : "-",
		        paint(o, outcome_colour(s->outcome)), ul_outcome_name(s->outcome),
		        paint(o, C_RESET));
	}
	fprintf(out, "\n%sChecks%s\n", paint(o, C_BOLD), paint(o, C_RESET));
	if (!t->nchecks)
		fprintf(out, "  none fired (upgrade order, concurrency, window, versions, "
		             "pre-flight)\n");
	for (size_t i = 0; i < t->nchecks; i++) {
		const struct ul_check *c = &t->checks[i];
		int col = c->severity >= UL_SEV_ERROR     ? C_RED
		          : c->severity == UL_SEV_WARNING ? C_YELLOW
		                                          : C_DIM;
		fprintf(out, "  %s[%s]%s %s", paint(o, col), ul_severity_name(c->severity),
		        paint(o, C_RESET), c->name);
		if (c->hosts)
			fprintf(out, " (%s)", c->hosts);
		if (c->file)
			fprintf(out, "  %s:%" PRId64, shown(o, c->file), c->line);
		fprintf(out, "\n      %s\n", c->text ? c->text : "");
		if (c->advice)
			fprintf(out, "      %s%s%s\n", paint(o, C_DIM), c->advice,
			        paint(o, C_RESET));
		fprintf(out, "      evidence: %s\n", c->evidence ? c->evidence : "inferred");
	}
}

static void text_summary(const struct ul_report_opts *o, const struct model *m,
                         const struct ul_triage_summary *sum)
{
	size_t by[RANK_FAILED + 1] = { 0 };
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].outcome)
			by[outcome_rank(m->v[i].outcome)]++;
	fprintf(o->out,
	        "\n%sFiles%s       %" PRIu64 " read: %zu failed, %zu incomplete, %zu "
	        "succeeded, %zu without an outcome",
	        paint(o, C_BOLD), paint(o, C_RESET), sum->files, by[RANK_FAILED], by[2], by[1],
	        by[0]);
	if (by[RANK_CANCELLED])
		fprintf(o->out, ", %zu cancelled", by[RANK_CANCELLED]);
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
                        const struct triage *t, struct ul_error *err)
{
	FILE *out = o->out;
	const struct ul_triage_summary *sum = &t->sum;
	fprintf(out, "%s%s%s", paint(o, outcome_colour(sum->verdict)), upper_outcome(sum->verdict),
	        paint(o, C_RESET));
	size_t nbad = 0, nerr = 0;
	for (size_t i = 0; i < t->nservers; i++)
		nbad += bad_outcome(t->servers[i].outcome);
	for (size_t i = 0; i < t->nchecks; i++)
		nerr += t->checks[i].severity >= UL_SEV_ERROR;
	if (t->nservers == 1 && t->servers[0].verdict) {
		fprintf(out, "  %s", t->servers[0].verdict);
		if (nerr)
			fprintf(out, "; %zu check%s of severity error fired", nerr,
			        nerr == 1 ? "" : "s");
	} else if (t->nservers > 1)
		fprintf(out,
		        "  %zu servers: %zu failed or cancelled; %zu check%s of severity error%s%s",
		        t->nservers, nbad, nerr, nerr == 1 ? "" : "s", t->first ? "; first: " : "",
		        t->first ? t->first->verdict : "");
	else if (sum->verdict == UL_OUT_SUCCEEDED)
		fprintf(out, "  no installer session failed");
	fputc('\n', out);

	struct other_ctx oc = { .o = o };
	size_t skipped = 0;
	for (size_t i = 0; i < t->nservers; i++)
		text_server(o, &t->servers[i], &oc, &skipped);
	oc.nskip = skipped;
	text_cluster(o, t);

	fprintf(out, "\n%sOther failures%s\n", paint(o, C_BOLD), paint(o, C_RESET));
	if (!ul_store_each_finding(st, scan_id, UL_SEV_ERROR, true, print_other, &oc, err))
		return false;
	if (oc.total == 0)
		fprintf(out, "  none\n");
	else if (oc.total > oc.shown)
		fprintf(out, "  ... and %zu more (upglog query for all)\n", oc.total - oc.shown);

	text_summary(o, &t->m, sum);
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

static void json_cause(FILE *out, const struct ul_server_cause *c, bool context)
{
	fputs("{", out);
	json_kv(out, "file", c->file, false);
	fprintf(out, ", \"line\": %" PRId64, c->line);
	json_kv(out, "rule", c->rule, true);
	json_kv(out, "code", c->code, true);
	json_kv(out, "text", c->text, true);
	json_kv(out, "ts", c->ts, true);
	if (context) {
		json_kv(out, "title", c->title, true);
		json_kv(out, "explain", c->explain, true);
		json_kv(out, "fix", c->fix, true);
		fputs(", \"context\": {\"before\": ", out);
		json_lines(out, c->before);
		fputs(", \"after\": ", out);
		json_lines(out, c->after);
		fputs("}", out);
	}
	json_kv(out, "reason", c->reason, true);
	fputs("}", out);
}

static void json_fnd(FILE *out, const struct fnd *f, const char *file)
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

static void json_server(FILE *out, const struct ul_server *s)
{
	json_kv(out, "host", s->host, false);
	json_kv(out, "role", ul_role_name(s->role), true);
	json_kv(out, "role_evidence", s->role_evidence, true);
	json_kv(out, "verdict", ul_outcome_name(s->outcome), true);
	json_kv(out, "summary", s->verdict, true);
	json_kv(out, "product", s->product, true);
	json_kv(out, "from_version", s->from_version, true);
	json_kv(out, "to_version", s->to_version, true);
	json_kv(out, "final_version", s->final_version, true);
	json_kv(out, "started", s->started, true);
	json_kv(out, "finished", s->finished, true);
	fprintf(out, ", \"reboot\": %s", s->reboot ? "true" : "false");
	fprintf(out, ", \"files\": %zu, \"run_files\": %zu", s->files, s->run_files);
	fputs(", \"root_cause\": ", out);
	if (bad_outcome(s->outcome) && s->ncauses)
		json_cause(out, &s->causes[0], true);
	else
		fputs("null", out);
	fputs(", \"candidates\": [", out);
	for (size_t i = 0; bad_outcome(s->outcome) && i < s->ncauses; i++) {
		fputs(i ? ", " : "", out);
		json_cause(out, &s->causes[i], false);
	}
	fputs("]", out);
	json_kv(out, "advice", s->advice, true);
}

static void json_check(FILE *out, const struct ul_check *c)
{
	json_kv(out, "name", c->name, false);
	json_kv(out, "severity", ul_severity_name(c->severity), true);
	json_kv(out, "host", c->host, true);
	fputs(", \"hosts\": [", out);
	const char *h = c->hosts;
	for (bool first = true; h && *h; first = false) {
		size_t n = strcspn(h, ",");
		char *one = strndup(h, n);
		fputs(first ? "" : ", ", out);
		ul_report_json_string(out, one ? one : "");
		free(one);
		h += n;
		if (*h == ',')
			h++;
	}
	fputs("]", out);
	json_kv(out, "file", c->file, true);
	if (c->file)
		fprintf(out, ", \"line\": %" PRId64, c->line);
	else
		fputs(", \"line\": null", out);
	json_kv(out, "text", c->text, true);
	json_kv(out, "advice", c->advice, true);
	json_kv(out, "evidence", c->evidence, true);
}

static bool json_triage(struct ul_store *st, int64_t scan_id, const struct ul_report_opts *o,
                        const struct triage *t, struct ul_error *err)
{
	FILE *out = o->out;
	const struct model *m = &t->m;
	fputs("{\n  ", out);
	json_kv(out, "verdict", ul_outcome_name(t->sum.verdict), false);
	fputs(",\n  \"root_cause\": ", out);
	if (t->first && t->first->ncauses)
		json_cause(out, &t->first->causes[0], true);
	else
		fputs("null", out);
	fputs(",\n  \"candidates\": [", out);
	for (size_t i = 0; t->first && i < t->first->ncauses; i++) {
		fputs(i ? ",\n    " : "\n    ", out);
		json_cause(out, &t->first->causes[i], false);
	}
	fputs("],\n  \"servers\": [", out);
	for (size_t i = 0; i < t->nservers; i++) {
		fputs(i ? ",\n    {" : "\n    {", out);
		json_server(out, &t->servers[i]);
		fputs("}", out);
	}
	fputs("],\n  \"checks\": [", out);
	for (size_t i = 0; i < t->nchecks; i++) {
		fputs(i ? ",\n    {" : "\n    {", out);
		json_check(out, &t->checks[i]);
		fputs("}", out);
	}
	fputs("],\n  \"cluster\": {", out);
	json_kv(out, "verdict", ul_outcome_name(ul_cluster_verdict(t->cl)), false);
	json_kv(out, "started", ul_cluster_started(t->cl), true);
	json_kv(out, "finished", ul_cluster_finished(t->cl), true);
	fputs(", \"order\": [", out);
	for (size_t i = 0; i < t->nservers; i++) {
		fputs(i ? ", " : "", out);
		ul_report_json_string(out, t->servers[i].host);
	}
	fprintf(out, "], \"servers\": %zu", t->nservers);
	fputs("},\n  \"failures\": [", out);
	bool first = true;
	for (size_t i = 0; i < m->n; i++) {
		const struct fview *f = &m->v[i];
		if (outcome_rank(f->outcome) < RANK_CANCELLED)
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
			json_fnd(out, &f->root, f->path);
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
		json_kv(out, "host", f->host, true);
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
	struct triage t = { 0 };
	struct ul_cluster *own = NULL;
	memset(sum, 0, sizeof(*sum));
	bool ok = ul_store_each_file(st, scan_id, collect_file, &t.m, err);
	if (!ok && t.m.oom)
		ul_error_set(err, "memory", "out of memory");
	t.cl = o->cluster;
	if (ok && !t.cl) {
		own = ul_cluster_build(st, scan_id, NULL, err);
		t.cl = own;
		ok = own != NULL;
	}
	if (ok) {
		t.servers = ul_cluster_servers(t.cl, &t.nservers);
		t.checks = ul_cluster_checks(t.cl, &t.nchecks);
		gather_first(&t);
		for (size_t i = 0; i < t.m.n; i++) {
			const struct fview *f = &t.m.v[i];
			bool readable = f->status && strcmp(f->status, "ok") == 0;
			if (!readable)
				t.sum.unreadable++;
			if (f->outcome || readable)
				t.sum.files++;
			t.sum.failed_files += outcome_rank(f->outcome) == RANK_FAILED;
		}
		t.sum.verdict = ul_cluster_verdict(t.cl);
		*sum = t.sum;
		ok = o->format == UL_FMT_JSON ? json_triage(st, scan_id, o, &t, err)
		                              : text_triage(st, scan_id, o, &t, err);
	}
	ul_cluster_destroy(own);
	model_free(&t.m);
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
