/* SPDX-License-Identifier: MIT */
/* report: the triage as Markdown, to paste into a ticket or a chat. */
#include <inttypes.h>
#include <string.h>

#include "report_int.h"

#define MAX_OTHER 20 /* other failures listed */

/* Text in a table cell or a line: '|' escaped, breaks and control bytes as spaces, Markdown
 * punctuation that would start emphasis or code left alone only inside backticks. */
static void md_text(FILE *out, const char *s, size_t max)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n < max; p++) {
		if (*p < 0x20)
			fputc(' ', out);
		else if (strchr("|\\*_`<>[]#", *p))
			fprintf(out, "\\%c", *p);
		else
			fputc(*p, out);
		n += (*p & 0xC0) != 0x80;
	}
	if (s && n >= max && s[0])
		fputs("\xE2\x80\xA6", out);
}

/* Inline code: backticks inside are avoided by a double-backtick span. */
static void md_code(FILE *out, const char *s)
{
	bool tick = s && strchr(s, '`');
	fputs(tick ? "`` " : "`", out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		fputc(*p < 0x20 || *p == '|' ? ' ' : *p, out);
	fputs(tick ? " ``" : "`", out);
}

/* Lines of a fenced block; a fence of four backticks survives lines that hold three. */
static void md_block_lines(FILE *out, const char *block, int64_t first, int width)
{
	for (const char *s = block; s;) {
		const char *nl = strchr(s, '\n');
		int len = nl ? (int)(nl - s) : (int)strlen(s);
		fprintf(out, "  %*" PRId64 " | %.*s\n", width, first++, len > 200 ? 200 : len, s);
		s = nl ? nl + 1 : NULL;
	}
}

static void md_cause(const struct ul_report_opts *o, FILE *out, const struct ul_server_cause *c)
{
	fputs("**Root cause** ", out);
	md_code(out, rep_shown(o, c->file));
	fprintf(out, " line %" PRId64, c->line);
	if (c->code)
		fprintf(out, " \xC2\xB7 code %s", c->code);
	if (c->ts)
		fprintf(out, " \xC2\xB7 %s", c->ts);
	if (c->rule) {
		fputs(" \xC2\xB7 rule ", out);
		md_code(out, c->rule);
	}
	fputs("  \n", out);
	if (c->title && *c->title) {
		md_text(out, c->title, 300);
		fputs("  \n", out);
	}
	if (c->reason) {
		fputs("_", out);
		md_text(out, c->reason, 400);
		fputs("_\n", out);
	}
	if (c->text) {
		int width = 1;
		for (int64_t v = c->line + 3; v >= 10; v /= 10)
			width++;
		fputs("\n````text\n", out);
		if (c->before)
			md_block_lines(out, c->before, c->line - rep_count_lines(c->before), width);
		fprintf(out, "> %*" PRId64 " | %.300s\n", width, c->line, c->text);
		if (c->after)
			md_block_lines(out, c->after, c->line + 1, width);
		fputs("````\n", out);
	}
	if (c->explain && *c->explain) {
		fputs("\n**Why** ", out);
		md_text(out, c->explain, 600);
		fputc('\n', out);
	}
}

static void md_server(const struct ul_report_opts *o, FILE *out, const struct ul_server *s)
{
	fprintf(out, "\n### %s \xC2\xB7 %s \xC2\xB7 %s\n\n",
	        *s->host ? s->host : "(unnamed server)", ul_role_name(s->role),
	        rep_upper_outcome(s->outcome));
	md_text(out, s->verdict ? s->verdict : ul_outcome_name(s->outcome), 400);
	if (s->reboot && (!s->verdict || !strstr(s->verdict, "restart")))
		fputs(" \xC2\xB7 restart pending", out);
	fputs("\n\n", out);
	if (rep_bad(s->outcome) && s->ncauses)
		md_cause(o, out, &s->causes[0]);
	if (s->advice) {
		fputs("\n**What to do** ", out);
		md_text(out, s->advice, 600);
		fputc('\n', out);
	}
	if (rep_bad(s->outcome) && s->ncauses > 1) {
		fputs("\nOther candidates:\n\n", out);
		for (size_t i = 1; i < s->ncauses; i++) {
			const struct ul_server_cause *c = &s->causes[i];
			fprintf(out, "%zu. ", i + 1);
			md_code(out, rep_base(c->file));
			fprintf(out, " line %" PRId64 ": ", c->line);
			md_text(out, c->reason, 200);
			fputc('\n', out);
		}
	}
}

bool rep_markdown(const struct ul_report_opts *o, const struct rep_triage *t)
{
	FILE *out = o->out;
	char head[1024];
	rep_headline(t, head, sizeof(head));
	fprintf(out, "## upglog triage: %s\n\n", rep_upper_outcome(t->sum.verdict));
	md_text(out, head, 1000);
	fputc('\n', out);
	if (o->notice) {
		fputs("\n> **Note:** ", out);
		md_text(out, o->notice, 400);
		fputc('\n', out);
	}

	fputs("\n| server | role | verdict | version | started | finished | restart |\n"
	      "|---|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < t->nservers; i++) {
		const struct ul_server *s = &t->servers[i];
		fputs("| ", out);
		md_text(out, *s->host ? s->host : "?", 64);
		fprintf(out, " | %s | **%s** | ", ul_role_name(s->role),
		        ul_outcome_name(s->outcome));
		md_text(out, s->from_version ? s->from_version : "?", 40);
		fputs(" \xE2\x86\x92 ", out);
		md_text(out, s->to_version ? s->to_version : "?", 40);
		fprintf(out, " | %s | %s | %s |\n", s->started ? s->started : "-",
		        s->finished ? s->finished : "-", s->reboot ? "pending" : "-");
	}
	for (size_t i = 0; i < t->nservers; i++)
		md_server(o, out, &t->servers[i]);

	fputs("\n### Checks\n\n", out);
	if (!t->nchecks)
		fputs("None fired (upgrade order, concurrency, window, versions, pre-flight).\n",
		      out);
	else
		fputs("| severity | check | servers | where | finding | evidence |\n"
		      "|---|---|---|---|---|---|\n",
		      out);
	for (size_t i = 0; i < t->nchecks; i++) {
		const struct ul_check *c = &t->checks[i];
		fprintf(out, "| %s | %s | ", ul_severity_name(c->severity), c->name);
		md_text(out, c->hosts ? c->hosts : "", 200);
		fputs(" | ", out);
		if (c->file) {
			md_code(out, rep_base(c->file));
			fprintf(out, " line %" PRId64, c->line);
		}
		fputs(" | ", out);
		md_text(out, c->text, 300);
		if (c->advice) {
			fputs(" \xE2\x80\x94 ", out);
			md_text(out, c->advice, 300);
		}
		fprintf(out, " | %s |\n", c->evidence ? c->evidence : "inferred");
	}

	size_t total = 0, listed = 0;
	for (size_t i = 0; i < t->nfailures; i++) {
		const struct rep_finding *f = &t->failures[i];
		if (f->cause)
			continue;
		if (total++ == 0)
			fputs("\n### Other failures (in time order)\n\n"
			      "| time | file | line | severity | rule | text |\n"
			      "|---|---|---|---|---|---|\n",
			      out);
		if (listed >= MAX_OTHER)
			continue;
		listed++;
		fprintf(out, "| %s | ", f->ts ? f->ts : "-");
		md_code(out, rep_base(f->file));
		fprintf(out, " | %" PRId64 " | %s%s | ", f->line, ul_severity_name(f->sev),
		        f->ignored ? " (ignored: the log succeeded)" : "");
		md_code(out, f->rule);
		fputs(" | ", out);
		md_text(out, f->text, 160);
		fputs(" |\n", out);
	}
	if (total == 0)
		fputs("\n### Other failures\n\nNone.\n", out);
	else if (total > listed) {
		char hint[512];
		rep_query_hint(o, hint, sizeof(hint));
		fprintf(out, "\n%zu more; for all: ", total - listed);
		md_code(out, hint);
		fputc('\n', out);
	}

	char num[32];
	rep_commas(num, sizeof(num), t->noise_total);
	size_t bad = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		bad += t->files[i].status && strcmp(t->files[i].status, "ok") != 0;
	char counts[256];
	rep_outcome_line(t, counts, sizeof(counts));
	fprintf(out, "\n%" PRIu64 " file%s read: %s (%zu unreadable); %s harmless line%s hidden.\n",
	        t->sum.files, rep_s(t->sum.files), counts, bad, num, rep_s(t->noise_total));
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
		if (!f->status || strcmp(f->status, "ok") == 0)
			continue;
		fputs("- ", out);
		md_code(out, rep_shown(o, f->path));
		fprintf(out, ": %s", f->status);
		if (f->error) {
			fputs(" (", out);
			md_text(out, f->error, 200);
			fputs(")", out);
		}
		fputc('\n', out);
	}
	return true;
}
