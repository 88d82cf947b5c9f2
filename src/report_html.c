/* SPDX-License-Identifier: MIT */
/*
 * report: the triage as one self-contained HTML page, to attach to a ticket. Inline CSS and
 * SVG only: no script, no font, nothing fetched (a Content-Security-Policy says so, so a
 * browser refuses anything else); readable with scripting off; prints on A4. Per server the
 * verdict in plain words, the root cause with its context lines, what to do and a timeline
 * (each log a lane, failures marked, the root cause highlighted); the cluster's upgrade
 * windows side by side on one time axis; the checks; other failures in time order; the noise
 * hidden; every file read with its status.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_int.h"

#define MAX_LANES 40  /* logs drawn per server timeline */
#define MAX_OTHER 200 /* other failures listed */
#define SVG_W     960
#define LABEL_W   250 /* lane labels left of the plot */
#define PLOT_X0   (LABEL_W + 10)
#define PLOT_X1   (SVG_W - 20)
#define LANE_H    22
#define AXIS_H    28

static const char css[] =
        ":root{--fail:#b3261e;--ok:#1b6e35;--warn:#8a5a00;--muted:#5f6368;--line:#d0d4d9;"
        "--bg:#f6f7f9}\n"
        "*{box-sizing:border-box}\n"
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',"
        "Arial,sans-serif;color:#1f2328;margin:0 auto;max-width:1040px;padding:24px}\n"
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:"
        "2px solid var(--line);padding-bottom:4px}h3{font-size:16px;margin:0 0 6px}"
        "h4{font-size:14px;margin:14px 0 4px}\n"
        ".badge{display:inline-block;padding:1px 8px;border-radius:4px;font-weight:700;"
        "color:#fff;background:var(--warn);font-size:.85em;letter-spacing:.03em}\n"
        ".o-failed,.o-cancelled{background:var(--fail)}.o-succeeded{background:var(--ok)}\n"
        ".headline{font-size:15px;margin:6px 0 0}.meta,.muted{color:var(--muted)}\n"
        ".notice{border-left:4px solid #c77700;padding:2px 8px;margin:8px 0 0}\n"
        ".server{border:1px solid var(--line);border-left:6px solid var(--warn);"
        "border-radius:6px;padding:12px 16px;margin:14px 0;break-inside:avoid-page}\n"
        ".server.o-failed,.server.o-cancelled{border-left-color:var(--fail);background:none}"
        "\n.server.o-succeeded{border-left-color:var(--ok);background:none}\n"
        ".facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}"
        "\n.facts dt{color:var(--muted)}.facts dd{margin:0}\n"
        ".cause{background:var(--bg);border-radius:6px;padding:8px 12px;margin:10px 0}\n"
        "pre.context{font:12px/1.4 ui-monospace,'DejaVu Sans Mono','Liberation Mono',"
        "Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere;margin:8px 0;"
        "padding:8px;background:#fff;border:1px solid var(--line);border-radius:4px}\n"
        "pre.context .ln{color:var(--muted);user-select:none}\n"
        "pre.context mark{display:block;background:#fde7e4;color:#5c0f0a;font-weight:600}\n"
        ".advice{border-left:4px solid var(--ok);padding:4px 10px;margin:10px 0;"
        "background:#eef7f0}\n"
        "code,.path{font-family:ui-monospace,'DejaVu Sans Mono','Liberation Mono',Consolas,"
        "monospace;font-size:12px;overflow-wrap:anywhere}\n"
        "table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;"
        "vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}"
        "th{background:var(--bg);font-weight:600}td.num{text-align:right;"
        "font-variant-numeric:tabular-nums}\n"
        ".sev-catastrophic,.sev-error{color:var(--fail);font-weight:600}"
        ".sev-warning{color:var(--warn);font-weight:600}.sev-info{color:var(--muted)}\n"
        "figure{margin:10px 0}figcaption{color:var(--muted);font-size:12px}\n"
        "svg.timeline{width:100%;height:auto;display:block}\n"
        "svg .lbl{font:12px system-ui,Arial,sans-serif;fill:#1f2328}"
        "svg .tick{font:11px system-ui,Arial,sans-serif;fill:#5f6368}\n"
        "svg .grid{stroke:#e3e6ea}svg .bar{fill:#c3c7cc}svg .bar.o-failed,svg .bar.o-cancelled"
        "{fill:#f2b8b2}svg .bar.o-succeeded{fill:#a9d8b6}svg .bar.o-incomplete,"
        "svg .bar.o-unknown{fill:#efd98f}\n"
        "svg .fail{stroke:#8c0d06;stroke-width:2}svg circle.root{fill:#ffd400;stroke:#000;"
        "stroke-width:1.5}svg .rootlbl{font:bold 11px system-ui,Arial,sans-serif;fill:#000;"
        "paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
        "code.nw{white-space:nowrap}\n"
        ".legend span{margin-right:14px}.sw{display:inline-block;width:12px;height:10px;"
        "vertical-align:middle;margin-right:4px}\n"
        "@media print{@page{size:A4;margin:12mm}body{max-width:none;padding:0;font-size:10pt}"
        "h2{break-after:avoid}.server,figure,tr{break-inside:avoid}a{color:inherit;"
        "text-decoration:none}}\n";

/* ---- escaping ------------------------------------------------------------------------------ */

static void esc_n(FILE *out, const char *s, size_t max)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (n >= max) {
			fputs("\xE2\x80\xA6", out);
			return;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*p < 0x20 && *p != '\n' ? ' ' : *p, out);
		}
		n += (*p & 0xC0) != 0x80;
	}
}

static void esc(FILE *out, const char *s)
{
	esc_n(out, s, (size_t)-1);
}

/* An id-safe token from a host name: letters, digits and '-' only. */
static void id_of(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s && *s ? s : "unnamed"); *p; p++)
		fputc((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		                      (*p >= '0' && *p <= '9')
		              ? *p
		              : '-',
		      out);
}

/* ---- time axis ----------------------------------------------------------------------------- */

struct axis {
	int64_t t0, t1;
};

static bool ts_of(const char *ts, int64_t *secs)
{
	return ts && ul_cluster_parse_ts(ts, secs);
}

static double x_of(const struct axis *a, int64_t t)
{
	double span = (double)(a->t1 - a->t0);
	double f = span > 0 ? (double)(t - a->t0) / span : 0;
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return PLOT_X0 + f * (PLOT_X1 - PLOT_X0);
}

/* A tick's label: the first tick says the date; the others as much as the span needs (seconds
 * for a few minutes, the day for more than one). */
static void clock_of(int64_t t, bool first, int64_t span, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm); /* the times are the logs' local clock read as UTC */
	int y = tm.tm_year + 1900, mo = tm.tm_mon + 1, d = tm.tm_mday, h = tm.tm_hour,
	    mi = tm.tm_min, se = tm.tm_sec;
	if (span >= 4 * 86400)
		snprintf(buf, cap, "%04d-%02d-%02d", y, mo, d);
	else if (first && span < 600)
		snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se);
	else if (first)
		snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi);
	else if (span >= 86400)
		snprintf(buf, cap, "%02d-%02d %02d:%02d", mo, d, h, mi);
	else if (span < 600)
		snprintf(buf, cap, "%02d:%02d:%02d", h, mi, se);
	else
		snprintf(buf, cap, "%02d:%02d", h, mi);
}

static void svg_axis(FILE *out, const struct axis *a, int height)
{
	int64_t span = a->t1 - a->t0;
	for (int i = 0; i <= 4; i++) {
		int64_t t = a->t0 + span * i / 4;
		double x = x_of(a, t);
		char lbl[80];
		clock_of(t, i == 0, span, lbl, sizeof(lbl));
		fprintf(out,
		        "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		        "<text class=\"tick\" x=\"%.1f\" y=\"16\" text-anchor=\"%s\">%s</text>\n",
		        x, AXIS_H - 6, x, height, x,
		        i == 0   ? "start"
		        : i == 4 ? "end"
		                 : "middle",
		        lbl);
	}
}

/* ---- the pieces ---------------------------------------------------------------------------- */

static const char *outcome_word(enum ul_outcome o)
{
	return ul_outcome_name(o);
}

static void context_block(FILE *out, const char *block, int64_t first)
{
	for (const char *s = block; s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = strndup(s, len);
		fprintf(out, "<span class=\"ln\">%6" PRId64 " </span>", first++);
		esc_n(out, line ? line : "", 400);
		fputc('\n', out);
		free(line);
		s = nl ? nl + 1 : NULL;
	}
}

static void html_cause(const struct ul_report_opts *o, FILE *out, const struct ul_server_cause *c)
{
	fputs("<section class=\"cause\"><h4>Root cause</h4>\n<p><span class=\"path\">", out);
	esc(out, rep_shown(o, c->file));
	fprintf(out, "</span> line %" PRId64, c->line);
	if (c->code) {
		fputs(" &middot; code <code>", out);
		esc(out, c->code);
		fputs("</code>", out);
	}
	if (c->ts) {
		fputs(" &middot; ", out);
		esc(out, c->ts);
	}
	if (c->rule) {
		fputs(" &middot; rule <code>", out);
		esc(out, c->rule);
		fputs("</code>", out);
	}
	fputs("</p>\n", out);
	if (c->title && *c->title) {
		fputs("<p class=\"title\"><strong>", out);
		esc(out, c->title);
		fputs("</strong></p>\n", out);
	}
	if (c->reason) {
		fputs("<p class=\"muted\">", out);
		esc(out, c->reason);
		fputs("</p>\n", out);
	}
	if (c->text) {
		fputs("<pre class=\"context\">", out);
		if (c->before)
			context_block(out, c->before, c->line - rep_count_lines(c->before));
		fprintf(out, "<mark class=\"root-line\"><span class=\"ln\">%6" PRId64 " </span>",
		        c->line);
		esc_n(out, c->text, 600);
		fputs("</mark>", out);
		if (c->after)
			context_block(out, c->after, c->line + 1);
		fputs("</pre>\n", out);
	}
	if (c->explain && *c->explain) {
		fputs("<p><strong>Why:</strong> ", out);
		esc(out, c->explain);
		fputs("</p>\n", out);
	}
	fputs("</section>\n", out);
}

struct lane {
	const struct rep_file *f;
	int64_t t0, t1;
};

static int lane_cmp(const void *a, const void *b)
{
	const struct lane *x = a, *y = b;
	if (x->t0 != y->t0)
		return x->t0 < y->t0 ? -1 : 1;
	return strcmp(x->f->path, y->f->path);
}

static bool same_host(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* One server's timeline: each of its logs in the run a lane, failures marked, the root cause
 * highlighted. */
static bool html_timeline(const struct ul_report_opts *o, FILE *out, const struct rep_triage *t,
                          const struct ul_server *s)
{
	struct axis a;
	if (!ts_of(s->started, &a.t0) || !ts_of(s->finished, &a.t1)) {
		fputs("<p class=\"muted\">No timeline: no log of this server gives times.</p>\n",
		      out);
		return true;
	}
	if (a.t1 <= a.t0)
		a.t1 = a.t0 + 60;
	struct lane *lanes = calloc(t->nfiles ? t->nfiles : 1, sizeof(*lanes));
	if (!lanes)
		return false;
	size_t n = 0, untimed = 0, outside = 0;
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
		if (!same_host(f->host, s->host))
			continue;
		int64_t f0, f1;
		if (!ts_of(f->started, &f0)) {
			untimed++;
			continue;
		}
		if (!ts_of(f->finished, &f1) || f1 < f0)
			f1 = f0;
		if (f1 < a.t0 || f0 > a.t1) { /* an earlier run */
			outside++;
			continue;
		}
		lanes[n++] = (struct lane){ f, f0, f1 };
	}
	qsort(lanes, n, sizeof(*lanes), lane_cmp);
	size_t drawn = n < MAX_LANES ? n : MAX_LANES;
	int height = AXIS_H + (int)drawn * LANE_H + 8;
	const struct ul_server_cause *root =
	        rep_bad(s->outcome) && s->ncauses ? &s->causes[0] : NULL;
	fputs("<figure><svg class=\"timeline\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" ",
	      out);
	fprintf(out, "viewBox=\"0 0 %d %d\" aria-label=\"timeline of ", SVG_W, height);
	esc(out, s->host);
	fputs("\">\n", out);
	svg_axis(out, &a, height);
	for (size_t i = 0; i < drawn; i++) {
		const struct lane *l = &lanes[i];
		int y = AXIS_H + (int)i * LANE_H;
		char label[200];
		rep_fit_path(rep_base(l->f->path), 34, label, sizeof(label));
		fputs("<g class=\"lane\" data-file=\"", out);
		esc(out, rep_base(l->f->path));
		fprintf(out, "\"><title>");
		esc(out, rep_shown(o, l->f->path));
		fputs(": ", out);
		esc(out, outcome_word(l->f->out));
		if (l->f->reason) {
			fputs(" \xE2\x80\x94 ", out);
			esc(out, l->f->reason);
		}
		fprintf(out, "</title><text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		        LABEL_W, y + 14);
		esc(out, label);
		double x0 = x_of(&a, l->t0), x1 = x_of(&a, l->t1);
		fprintf(out,
		        "</text><rect class=\"bar o-%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		        "height=\"10\" rx=\"2\"/>",
		        outcome_word(l->f->out), x0, y + 5, x1 - x0 < 3 ? 3 : x1 - x0);
		for (size_t k = 0; k < t->nfailures; k++) {
			const struct rep_finding *f = &t->failures[k];
			int64_t ft;
			if (!f->file || strcmp(f->file, l->f->path) != 0 || !ts_of(f->ts, &ft))
				continue;
			double x = x_of(&a, ft);
			fprintf(out,
			        "<line class=\"fail\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\">"
			        "<title>line %" PRId64 " ",
			        x, y + 2, x, y + 18, f->line);
			esc(out, f->ts);
			fputs(": ", out);
			esc_n(out, f->text, 200);
			fputs("</title></line>", out);
		}
		int64_t rt;
		if (root && root->file && strcmp(root->file, l->f->path) == 0 &&
		    ts_of(root->ts, &rt)) {
			double x = x_of(&a, rt);
			fprintf(out,
			        "<g class=\"root\"><circle class=\"root\" cx=\"%.1f\" cy=\"%d\" "
			        "r=\"7\">"
			        "<title>root cause, line %" PRId64 "</title></circle>"
			        "<text class=\"rootlbl\" x=\"%.1f\" y=\"%d\" "
			        "text-anchor=\"%s\">root "
			        "cause</text></g>",
			        x, y + 10, root->line, x > PLOT_X1 - 80 ? x - 10 : x + 10, y + 14,
			        x > PLOT_X1 - 80 ? "end" : "start");
		}
		fputs("</g>\n", out);
	}
	fputs("</svg>\n<figcaption>", out);
	fprintf(out,
	        "Each log of the run is a lane (%s to %s); bars are coloured by the log's own "
	        "verdict, dark ticks are failures, the yellow dot is the root cause.",
	        s->started, s->finished);
	if (n > drawn)
		fprintf(out, " %zu more log%s not drawn.", n - drawn, rep_s(n - drawn));
	if (outside)
		fprintf(out, " %zu log%s of earlier runs left out.", outside,
		        outside == 1 ? "" : "s");
	if (untimed)
		fprintf(out, " %zu log%s without times.", untimed, untimed == 1 ? "" : "s");
	fputs("</figcaption></figure>\n", out);
	free(lanes);
	return true;
}

static bool html_server(const struct ul_report_opts *o, FILE *out, const struct rep_triage *t,
                        const struct ul_server *s)
{
	const char *ow = outcome_word(s->outcome);
	fprintf(out, "<article class=\"server o-%s\" id=\"server-", ow);
	id_of(out, s->host);
	fprintf(out, "\" data-outcome=\"%s\">\n<h3>", ow);
	esc(out, *s->host ? s->host : "(unnamed server)");
	fprintf(out, " <span class=\"badge o-%s\">%s</span></h3>\n<p class=\"verdict-text\">", ow,
	        rep_upper_outcome(s->outcome));
	esc(out, s->verdict ? s->verdict : ow);
	fputs("</p>\n<dl class=\"facts\"><dt>role</dt><dd>", out);
	esc(out, ul_role_name(s->role));
	if (s->role_evidence) {
		fputs(" <span class=\"muted\">(", out);
		esc(out, s->role_evidence);
		fputs(")</span>", out);
	}
	fputs("</dd><dt>version</dt><dd>", out);
	if (s->product) {
		esc(out, s->product);
		fputc(' ', out);
	}
	esc(out, s->from_version ? s->from_version : "?");
	fputs(" &rarr; ", out);
	esc(out, s->to_version ? s->to_version : "?");
	if (s->final_version) {
		fputs(" <span class=\"muted\">(now on ", out);
		esc(out, s->final_version);
		fputs(")</span>", out);
	}
	fputs("</dd><dt>upgrade</dt><dd>", out);
	esc(out, s->started ? s->started : "?");
	fputs(" to ", out);
	esc(out, s->finished ? s->finished : "?");
	fprintf(out,
	        "</dd><dt>restart</dt><dd>%s</dd><dt>logs</dt><dd>%zu (%zu in this run)</dd>"
	        "</dl>\n",
	        s->reboot ? "<strong>pending</strong>" : "not needed", s->files, s->run_files);
	if (rep_bad(s->outcome) && s->ncauses)
		html_cause(o, out, &s->causes[0]);
	if (s->advice) {
		fputs("<p class=\"advice\"><strong>What to do:</strong> ", out);
		esc(out, s->advice);
		fputs("</p>\n", out);
	}
	if (rep_bad(s->outcome) && s->ncauses > 1) {
		fputs("<h4>Other candidates</h4><ol start=\"2\" class=\"candidates\">\n", out);
		for (size_t i = 1; i < s->ncauses; i++) {
			const struct ul_server_cause *c = &s->causes[i];
			fputs("<li><span class=\"path\">", out);
			esc(out, rep_base(c->file));
			fprintf(out, "</span> line %" PRId64 ": ", c->line);
			esc(out, c->reason);
			fputs("<br><code>", out);
			esc_n(out, c->text, 200);
			fputs("</code></li>\n", out);
		}
		fputs("</ol>\n", out);
	}
	fputs("<h4>Timeline</h4>\n", out);
	bool ok = html_timeline(o, out, t, s);
	fputs("</article>\n", out);
	return ok;
}

/* The cluster's upgrade windows side by side on one time axis: order and overlap. */
static void html_windows(FILE *out, const struct rep_triage *t)
{
	struct axis a;
	if (!ts_of(ul_cluster_started(t->cl), &a.t0) || !ts_of(ul_cluster_finished(t->cl), &a.t1)) {
		fputs("<p class=\"muted\">No server's logs give times: no windows to draw.</p>\n",
		      out);
		return;
	}
	if (a.t1 <= a.t0)
		a.t1 = a.t0 + 60;
	int height = AXIS_H + (int)t->nservers * LANE_H + 8;
	fprintf(out,
	        "<figure><svg class=\"timeline\" id=\"cluster-windows\" role=\"img\" "
	        "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	        "aria-label=\"upgrade windows of the cluster\">\n",
	        SVG_W, height);
	svg_axis(out, &a, height);
	for (size_t i = 0; i < t->nservers; i++) {
		const struct ul_server *s = &t->servers[i];
		int y = AXIS_H + (int)i * LANE_H;
		int64_t s0, s1;
		fputs("<g class=\"window\" data-host=\"", out);
		esc(out, s->host);
		fprintf(out, "\"><text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		        LABEL_W, y + 14);
		esc(out, *s->host ? s->host : "?");
		fprintf(out, " (%s)</text>", ul_role_name(s->role));
		if (ts_of(s->started, &s0)) {
			if (!ts_of(s->finished, &s1) || s1 < s0)
				s1 = s0;
			double x0 = x_of(&a, s0), x1 = x_of(&a, s1);
			fprintf(out,
			        "<rect class=\"bar o-%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			        "height=\"12\" rx=\"2\"><title>",
			        outcome_word(s->outcome), x0, y + 4, x1 - x0 < 3 ? 3 : x1 - x0);
			esc(out, s->host);
			fputs(": ", out);
			esc(out, s->started);
			fputs(" to ", out);
			esc(out, s->finished ? s->finished : "?");
			fprintf(out, ", %s</title></rect>", outcome_word(s->outcome));
			int64_t rt;
			if (rep_bad(s->outcome) && s->ncauses && ts_of(s->causes[0].ts, &rt))
				fprintf(out,
				        "<circle class=\"root\" cx=\"%.1f\" cy=\"%d\" "
				        "r=\"6\"><title>root "
				        "cause at %s</title></circle>",
				        x_of(&a, rt), y + 10, s->causes[0].ts);
		} else {
			fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%d\">no times</text>",
			        PLOT_X0, y + 14);
		}
		fputs("</g>\n", out);
	}
	fputs("</svg><figcaption>Upgrade window of each server, in upgrade order, on one time "
	      "axis: overlapping bars ran at the same time.</figcaption></figure>\n",
	      out);
}

static void html_checks(const struct ul_report_opts *o, FILE *out, const struct rep_triage *t)
{
	fputs("<section id=\"checks\"><h2>Checks of the upgrade guide</h2>\n", out);
	if (!t->nchecks) {
		fputs("<p>None fired (upgrade order, concurrency, window, versions, "
		      "pre-flight).</p>"
		      "</section>\n",
		      out);
		return;
	}
	fputs("<table><thead><tr><th>severity</th><th>check</th><th>servers</th><th>finding and "
	      "advice</th><th>evidence</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < t->nchecks; i++) {
		const struct ul_check *c = &t->checks[i];
		const char *sev = ul_severity_name(c->severity);
		fprintf(out,
		        "<tr class=\"check\"><td class=\"sev-%s\">%s</td><td><code class=\"nw\">",
		        sev, sev);
		esc(out, c->name);
		fputs("</code></td><td>", out);
		esc(out, c->hosts);
		fputs("</td><td>", out);
		esc(out, c->text);
		if (c->advice) {
			fputs("<br><span class=\"muted\">", out);
			esc(out, c->advice);
			fputs("</span>", out);
		}
		if (c->file) {
			fputs("<br><span class=\"path\">", out);
			esc(out, rep_shown(o, c->file));
			fprintf(out, "</span> line %" PRId64, c->line);
		}
		fputs("</td><td>", out);
		esc(out, c->evidence ? c->evidence : "inferred");
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

static void html_failures(const struct ul_report_opts *o, FILE *out, const struct rep_triage *t)
{
	fputs("<section id=\"failures\"><h2>Other failures, in time order</h2>\n", out);
	size_t total = 0, listed = 0;
	for (size_t i = 0; i < t->nfailures; i++) {
		const struct rep_finding *f = &t->failures[i];
		if (f->cause)
			continue;
		if (total++ == 0)
			fputs("<table><thead><tr><th>time</th><th>server</th><th>file</th>"
			      "<th>line</th><th>severity</th><th>line "
			      "text</th></tr></thead><tbody>\n",
			      out);
		if (listed >= MAX_OTHER)
			continue;
		listed++;
		const char *sev = ul_severity_name(f->sev);
		fprintf(out, "<tr class=\"failure%s\"><td>", f->ignored ? " ignored" : "");
		esc(out, f->ts ? f->ts : "-");
		fputs("</td><td>", out);
		esc(out, f->host ? f->host : "");
		fputs("</td><td class=\"path\">", out);
		esc(out, rep_base(f->file));
		fprintf(out, "</td><td class=\"num\">%" PRId64 "</td><td class=\"sev-%s\">%s",
		        f->line, sev, sev);
		fputs("<br><code>", out);
		esc(out, f->rule);
		fputs("</code>", out);
		if (f->ignored)
			fputs("<br><span class=\"muted\">ignored: its log succeeded</span>", out);
		fputs("</td><td><code>", out);
		esc_n(out, f->text, 300);
		fputs("</code></td></tr>\n", out);
	}
	if (total)
		fputs("</tbody></table>\n", out);
	else
		fputs("<p>None.</p>\n", out);
	if (total > listed) {
		char hint[512];
		rep_query_hint(o, hint, sizeof(hint));
		fprintf(out, "<p>%zu more. For all: <code>", total - listed);
		esc(out, hint);
		fputs("</code></p>\n", out);
	}
	fputs("</section>\n", out);
}

static void html_noise(FILE *out, const struct rep_triage *t)
{
	char num[32];
	rep_commas(num, sizeof(num), t->noise_total);
	fprintf(out,
	        "<section id=\"noise\"><h2>Noise hidden</h2>\n<p>%s harmless line%s (lines that "
	        "look like errors and are not) %s hidden.</p>\n",
	        num, rep_s(t->noise_total), t->noise_total == 1 ? "was" : "were");
	if (t->nnoise) {
		fputs("<table><thead><tr><th>rule</th><th>code</th><th>lines</th></tr></thead>"
		      "<tbody>\n",
		      out);
		for (size_t i = 0; i < t->nnoise; i++) {
			rep_commas(num, sizeof(num), t->noise[i].count);
			fputs("<tr><td><code>", out);
			esc(out, t->noise[i].rule);
			fputs("</code></td><td>", out);
			esc(out, t->noise[i].code ? t->noise[i].code : "");
			fprintf(out, "</td><td class=\"num\">%s</td></tr>\n", num);
		}
		fputs("</tbody></table>\n", out);
	}
	fputs("</section>\n", out);
}

static void html_files(const struct ul_report_opts *o, FILE *out, const struct rep_triage *t)
{
	char counts[256];
	rep_outcome_line(t, counts, sizeof(counts));
	fprintf(out,
	        "<section id=\"files\"><h2>Files read</h2>\n<p id=\"file-counts\">%" PRIu64
	        " file%s read: %s; %" PRIu64
	        " unreadable.</p>\n<table><thead><tr><th>file</th><th>server</th><th>status</th>"
	        "<th>verdict</th><th>lines</th></tr></thead><tbody>\n",
	        t->sum.files, rep_s(t->sum.files), counts, t->sum.unreadable);
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
		bool ok = f->status && strcmp(f->status, "ok") == 0;
		fprintf(out, "<tr class=\"file\" data-status=\"%s\"><td class=\"path\">",
		        ok ? "ok" : "bad");
		esc(out, rep_shown(o, f->path));
		fputs("</td><td>", out);
		esc(out, f->host ? f->host : "");
		fprintf(out, "</td><td class=\"%s\">", ok ? "" : "sev-error");
		esc(out, f->status ? f->status : "?");
		if (f->error) {
			fputs(": ", out);
			esc(out, f->error);
		}
		fputs("</td><td>", out);
		if (f->has_verdict) {
			fprintf(out, "<span class=\"badge o-%s\">%s</span> ", outcome_word(f->out),
			        outcome_word(f->out));
			esc(out, f->reason);
			if (f->reboot)
				fputs("; <strong>restart pending</strong>", out);
		}
		fprintf(out, "</td><td class=\"num\">%" PRId64 "</td></tr>\n", f->lines);
	}
	fputs("</tbody></table></section>\n", out);
}

bool rep_html(const struct ul_report_opts *o, const struct rep_triage *t)
{
	FILE *out = o->out;
	char head[1024];
	rep_headline(t, head, sizeof(head));
	const char *ow = outcome_word(t->sum.verdict);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"upglog\">\n<title>",
	      out);
	fprintf(out, "%s: ", rep_upper_outcome(t->sum.verdict));
	esc_n(out, o->title ? o->title : head, 160);
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n", css);
	fprintf(out,
	        "<h1>Upgrade triage <span class=\"badge o-%s\" id=\"verdict\">%s</span></h1>\n"
	        "<p class=\"headline\">",
	        ow, rep_upper_outcome(t->sum.verdict));
	esc(out, head);
	fputs("</p>\n", out);
	if (o->notice) {
		fputs("<p class=\"notice\" id=\"notice\"><strong>Note:</strong> ", out);
		esc(out, o->notice);
		fputs("</p>\n", out);
	}
	if (o->title) {
		fputs("<p class=\"meta\">", out);
		esc(out, o->title);
		fputs("</p>\n", out);
	}
	fputs("</header>\n<section id=\"cluster\"><h2>Cluster</h2>\n", out);
	if (t->nservers > 1)
		html_windows(out, t);
	fputs("<table><thead><tr><th>server</th><th>role</th><th>started</th><th>finished</th>"
	      "<th>verdict</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < t->nservers; i++) {
		const struct ul_server *s = &t->servers[i];
		fputs("<tr><td><a href=\"#server-", out);
		id_of(out, s->host);
		fputs("\">", out);
		esc(out, *s->host ? s->host : "?");
		fprintf(out, "</a></td><td>%s</td><td>", ul_role_name(s->role));
		esc(out, s->started ? s->started : "-");
		fputs("</td><td>", out);
		esc(out, s->finished ? s->finished : "-");
		fprintf(out, "</td><td><span class=\"badge o-%s\">%s</span>%s</td></tr>\n",
		        outcome_word(s->outcome), outcome_word(s->outcome),
		        s->reboot ? " restart pending" : "");
	}
	fputs("</tbody></table></section>\n<section id=\"servers\"><h2>Servers</h2>\n", out);
	if (!t->nservers)
		fputs("<p>No server: no log was read.</p>\n", out);
	else if (t->nservers > 1)
		fputs("<p class=\"muted\">Servers that failed or were cancelled first, then the "
		      "others, each in upgrade order.</p>\n",
		      out);
	for (int pass = 0; pass < 2; pass++) /* the failed ones first: what the ticket is about */
		for (size_t i = 0; i < t->nservers; i++)
			if (rep_bad(t->servers[i].outcome) == (pass == 0) &&
			    !html_server(o, out, t, &t->servers[i]))
				return false;
	fputs("</section>\n", out);
	html_checks(o, out, t);
	html_failures(o, out, t);
	html_noise(out, t);
	html_files(o, out, t);
	fputs("<footer class=\"meta\"><p>Made by upglog. The times are the logs' own local "
	      "clock.</p></footer>\n</body>\n</html>\n",
	      out);
	return true;
}
