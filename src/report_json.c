/* SPDX-License-Identifier: MIT */
/* report: the triage as one JSON document, for scripts. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static void json_kv(FILE *out, const char *key, const char *val, bool comma)
{
	fprintf(out, "%s\"%s\": ", comma ? ", " : "", key);
	ul_report_json_string(out, val);
}

static void json_lines(FILE *out, const char *block)
{
	fputc('[', out);
	for (const char *s = block; s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = strndup(s, len);
		if (s != block)
			fputs(", ", out);
		ul_report_json_string(out, line ? line : "");
		free(line);
		s = nl ? nl + 1 : NULL;
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

static void json_finding(FILE *out, const struct rep_finding *f, const char *file)
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
	if (rep_bad(s->outcome) && s->ncauses)
		json_cause(out, &s->causes[0], true);
	else
		fputs("null", out);
	fputs(", \"candidates\": [", out);
	for (size_t i = 0; rep_bad(s->outcome) && i < s->ncauses; i++) {
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

bool rep_json(const struct ul_report_opts *o, const struct rep_triage *t)
{
	FILE *out = o->out;
	fputs("{\n  ", out);
	json_kv(out, "verdict", ul_outcome_name(t->sum.verdict), false);
	fputs(",\n  ", out);
	json_kv(out, "notice", o->notice, false);
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
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
		if (!rep_bad(f->out)) /* a cancelled setup did not install either */
			continue;
		fputs(first ? "\n    {" : ",\n    {", out);
		first = false;
		json_kv(out, "file", f->path, false);
		json_kv(out, "verdict", f->outcome, true);
		json_kv(out, "reason", f->reason, true);
		json_kv(out, "action", f->action, true);
		if (f->has_exit)
			fprintf(out, ", \"exit_code\": %" PRId64, f->exit_code);
		else
			fputs(", \"exit_code\": null", out);
		fputs(", \"root_cause\": ", out);
		if (f->root.file || f->root.line)
			json_finding(out, &f->root, f->path);
		else
			fputs("null", out);
		fputs("}", out);
	}
	fputs("],\n  \"findings\": [", out);
	for (size_t i = 0; i < t->nfindings; i++) {
		fputs(i ? ",\n    " : "\n    ", out);
		json_finding(out, &t->findings[i], NULL);
	}
	fputs("],\n  \"counts\": {", out);
	for (int i = 0; i < UL_SEV_COUNT; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "",
		        ul_severity_name((enum ul_severity)i), t->counts[i]);
	fputs("},\n  \"noise\": [", out);
	for (size_t i = 0; i < t->nnoise; i++) {
		fputs(i ? ",\n    {" : "\n    {", out);
		json_kv(out, "rule", t->noise[i].rule, false);
		json_kv(out, "code", t->noise[i].code, true);
		fprintf(out, ", \"count\": %" PRIu64 "}", t->noise[i].count);
	}
	fputs("],\n  \"files\": [", out);
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
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
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct rep_file *f = &t->files[i];
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
