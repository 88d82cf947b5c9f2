/* SPDX-License-Identifier: MIT */
/* report: the triage as text, for a person at a terminal. */
#include <inttypes.h>
#include <string.h>

#include "report_int.h"

#define MAX_OTHER 8  /* other failures listed */
#define MAX_FILES 12 /* files without a success listed with their reason */
#define MAX_NOISE 6  /* noise kinds named in the hidden-lines line */

enum { C_RESET, C_BOLD, C_RED, C_GREEN, C_YELLOW, C_DIM };

static const char *paint(const struct ul_report_opts *o, int c)
{
	static const char *const codes[] = { "\033[0m",    "\033[1m",    "\033[1;31m",
		                             "\033[1;32m", "\033[1;33m", "\033[2m" };
	return o->color ? codes[c] : "";
}

static int outcome_colour(enum ul_outcome o)
{
	return rep_bad(o) ? C_RED : o == UL_OUT_SUCCEEDED ? C_GREEN : C_YELLOW;
}

/* Print each '\n'-separated line of `block` numbered from `first`. */
static void print_context(const struct ul_report_opts *o, const char *block, int64_t first,
                          int width)
{
	if (!block)
		return;
	const char *s = block;
	for (int64_t n = first;; n++) {
		const char *nl = strchr(s, '\n');
		int len = nl ? (int)(nl - s) : (int)strlen(s);
		fprintf(o->out, "%s    %*" PRId64 " | %.*s%s\n", paint(o, C_DIM), width, n,
		        len > 160 ? 160 : len, s, paint(o, C_RESET));
		if (!nl)
			break;
		s = nl + 1;
	}
}

static void text_cause(const struct ul_report_opts *o, const struct ul_server_cause *r)
{
	FILE *out = o->out;
	fprintf(out, "\n  %sRoot cause%s  %s:%" PRId64 "\n", paint(o, C_BOLD), paint(o, C_RESET),
	        rep_shown(o, r->file), r->line);
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
		int64_t nb = rep_count_lines(r->before);
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

static void text_server(const struct ul_report_opts *o, const struct ul_server *s)
{
	FILE *out = o->out;
	fprintf(out, "\n%s%s%s", paint(o, C_BOLD), *s->host ? s->host : "(unnamed server)",
	        paint(o, C_RESET));
	fprintf(out, " \xC2\xB7 %s", ul_role_name(s->role));
	if (s->role_evidence)
		fprintf(out, " (%s)", s->role_evidence);
	fprintf(out, " \xC2\xB7 %s%s%s\n", paint(o, outcome_colour(s->outcome)),
	        rep_upper_outcome(s->outcome), paint(o, C_RESET));
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
		fprintf(out, " \xC2\xB7 %srestart pending%s", paint(o, C_YELLOW),
		        paint(o, C_RESET));
	fprintf(out, "\n  %s\n", s->verdict ? s->verdict : ul_outcome_name(s->outcome));
	if (rep_bad(s->outcome) && s->ncauses)
		text_cause(o, &s->causes[0]);
	if (s->advice)
		fprintf(out, "  %sWhat to do%s  %s\n", paint(o, C_BOLD), paint(o, C_RESET),
		        s->advice);
	if (rep_bad(s->outcome) && s->ncauses > 1) {
		fprintf(out, "\n  %sOther candidates%s\n", paint(o, C_BOLD), paint(o, C_RESET));
		for (size_t i = 1; i < s->ncauses; i++) {
			const struct ul_server_cause *c = &s->causes[i];
			fprintf(out, "    %zu. %s:%" PRId64 "  %s\n       %.160s\n", i + 1,
			        rep_shown(o, c->file), c->line, c->reason ? c->reason : "",
			        c->text ? c->text : "");
		}
	}
}

static void text_cluster(const struct ul_report_opts *o, const struct rep_triage *t)
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
		fprintf(out, "  %-*s  %-*s  %-23s  %-23s  %s%s%s%s\n", (int)hw,
		        *s->host ? s->host : "?", (int)rw, ul_role_name(s->role),
		        s->started ? s->started : "-", s->finished ? s->finished : "-",
		        paint(o, outcome_colour(s->outcome)), ul_outcome_name(s->outcome),
		        paint(o, C_RESET), s->reboot ? ", restart pending" : "");
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
			fprintf(out, "  %s:%" PRId64, rep_shown(o, c->file), c->line);
		fprintf(out, "\n      %s\n", c->text ? c->text : "");
		if (c->advice)
			fprintf(out, "      %s%s%s\n", paint(o, C_DIM), c->advice,
			        paint(o, C_RESET));
		fprintf(out, "      evidence: %s\n", c->evidence ? c->evidence : "inferred");
	}
}

/* One failure line: time, file:line, the rule's severity and the rule that judged it. */
static void text_failure(const struct ul_report_opts *o, const struct rep_finding *f)
{
	fprintf(o->out, "  %s  %s:%" PRId64 "  %s[%s %s]%s %.120s\n", f->ts ? f->ts : "(no time)",
	        rep_shown(o, f->file), f->line,
	        paint(o, f->sev >= UL_SEV_CATASTROPHIC ? C_RED : C_YELLOW),
	        ul_severity_name(f->sev), f->rule ? f->rule : "?", paint(o, C_RESET),
	        f->text ? f->text : "");
}

/* Failures not shown as a cause; `ignored` picks those of logs that say they succeeded. */
static void text_failures(const struct ul_report_opts *o, const struct rep_triage *t, bool ignored)
{
	FILE *out = o->out;
	size_t total = 0, shown = 0;
	for (size_t i = 0; i < t->nfailures; i++) {
		const struct rep_finding *f = &t->failures[i];
		if (f->cause || f->ignored != ignored)
			continue;
		if (total++ == 0) {
			if (ignored)
				fprintf(out,
				        "\n%sIgnored errors%s  (in logs that say the install "
				        "succeeded: the installer went on past them)\n",
				        paint(o, C_BOLD), paint(o, C_RESET));
			else
				fprintf(out, "\n%sOther failures%s  (in time order)\n",
				        paint(o, C_BOLD), paint(o, C_RESET));
		}
		if (shown < MAX_OTHER) {
			shown++;
			text_failure(o, f);
		}
	}
	if (total == 0 && !ignored)
		fprintf(out, "\n%sOther failures%s\n  none\n", paint(o, C_BOLD), paint(o, C_RESET));
	if (total > shown) {
		char hint[512];
		rep_query_hint(o, hint, sizeof(hint));
		fprintf(out, "  ... and %zu more; for all: %s\n", total - shown, hint);
	}
}

static void text_files(const struct ul_report_opts *o, const struct rep_triage *t)
{
	FILE *out = o->out;
	char counts[256];
	rep_outcome_line(t, counts, sizeof(counts));
	fprintf(out, "\n%sFiles%s       %" PRIu64 " read: %s", paint(o, C_BOLD), paint(o, C_RESET),
	        t->sum.files, counts);
	if (t->sum.unreadable)
		fprintf(out, "; %" PRIu64 " unreadable", t->sum.unreadable);
	fputc('\n', out);
	size_t listed = 0, more = 0;
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
		if (f->status && strcmp(f->status, "ok") != 0) {
			fprintf(out, "            %s%s%s: %s (%s)\n", paint(o, C_YELLOW),
			        rep_shown(o, f->path), paint(o, C_RESET), f->status,
			        f->error ? f->error : "");
			continue;
		}
		/* Every outcome but success says why; a success says when a restart is due. */
		if (!f->has_verdict || (f->out == UL_OUT_SUCCEEDED && !f->reboot))
			continue;
		if (listed++ >= MAX_FILES) {
			more++;
			continue;
		}
		fprintf(out, "            %s: %s%s%s, %s%s\n", rep_base(f->path),
		        paint(o, outcome_colour(f->out)), ul_outcome_name(f->out),
		        paint(o, C_RESET), f->reason ? f->reason : "no reason recorded",
		        f->reboot ? "; restart pending" : "");
	}
	if (more)
		fprintf(out, "            ... and %zu more file%s (--format json lists all)\n",
		        more, rep_s(more));
}

static void text_noise(const struct ul_report_opts *o, const struct rep_triage *t)
{
	char total[32], line[512];
	size_t len = 0;
	line[0] = '\0';
	for (size_t i = 0; i < t->nnoise && i < MAX_NOISE; i++) {
		const struct rep_noise *n = &t->noise[i];
		char num[32];
		rep_commas(num, sizeof(num), n->count);
		/* A message number says it best (2205); else the rule's name without its family. */
		const char *dot = strchr(n->rule, '.');
		const char *label = n->code ? n->code : dot ? dot + 1 : n->rule;
		int w = snprintf(line + len, sizeof(line) - len, "%s%s \xC3\x97%s", len ? ", " : "",
		                 label, num);
		if (w < 0 || (size_t)w >= sizeof(line) - len)
			break;
		len += (size_t)w;
	}
	rep_commas(total, sizeof(total), t->noise_total);
	fprintf(o->out, "%sHidden%s      %s harmless line%s hidden%s%s", paint(o, C_BOLD),
	        paint(o, C_RESET), total, rep_s(t->noise_total), len ? ": " : "", line);
	if (t->nnoise > MAX_NOISE)
		fprintf(o->out, ", and %zu more kind%s", t->nnoise - MAX_NOISE,
		        rep_s(t->nnoise - MAX_NOISE));
	fputc('\n', o->out);
}

bool rep_text(const struct ul_report_opts *o, const struct rep_triage *t)
{
	FILE *out = o->out;
	char head[1024];
	rep_headline(t, head, sizeof(head));
	fprintf(out, "%s%s%s  %s\n", paint(o, outcome_colour(t->sum.verdict)),
	        rep_upper_outcome(t->sum.verdict), paint(o, C_RESET), head);
	if (o->notice)
		fprintf(out, "%sNote%s  %s\n", paint(o, C_BOLD), paint(o, C_RESET), o->notice);
	for (size_t i = 0; i < t->nservers; i++)
		text_server(o, &t->servers[i]);
	text_cluster(o, t);
	text_failures(o, t, false);
	text_failures(o, t, true);
	text_files(o, t);
	text_noise(o, t);
	return true;
}
