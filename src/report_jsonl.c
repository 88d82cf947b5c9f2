/* SPDX-License-Identifier: MIT */
/*
 * report: the triage as JSON lines, for log pipelines (Fluent Bit, Vector, Loki, OpenSearch).
 * One flat object per line: every finding, every file's verdict, every server, every check.
 * Field names are stable and documented in the README; a field has one type in every object
 * (numbers as numbers, null when unknown), so an index maps it once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "upglog/hash.h"

/* "id": a digest of what names the event (kind, file, line, rule...), the same in every run, so
 * a pipeline that uses it as the document id keeps one copy when a scan is printed again. */
static void kv_id(FILE *out, const char *kind, const char *a, const char *b, int64_t n)
{
	struct ul_hash h;
	ul_hash_init(&h);
	const char *parts[] = { kind, a ? a : "", b ? b : "" };
	for (size_t i = 0; i < 3; i++)
		ul_hash_update(&h, parts[i], strlen(parts[i]) + 1); /* the NUL separates */
	ul_hash_update(&h, &n, sizeof(n));
	char hex[17];
	ul_hash_hex(ul_hash_final(&h), hex);
	fprintf(out, ", \"id\": \"%s\"", hex);
}

static void kv(FILE *out, const char *key, const char *val)
{
	fprintf(out, ", \"%s\": ", key);
	ul_report_json_string(out, val);
}

static void kv_int(FILE *out, const char *key, int64_t v, bool known)
{
	if (known)
		fprintf(out, ", \"%s\": %" PRId64, key, v);
	else
		fprintf(out, ", \"%s\": null", key);
}

/* A code as a number: decimal ("1603", "-1") or hexadecimal ("0x80070005"); as written in
 * `code_text` when it is not plain decimal, so nothing is lost. */
static void kv_code(FILE *out, const char *code)
{
	if (!code || !*code) {
		fputs(", \"code\": null", out);
		return;
	}
	bool hex = code[0] == '0' && (code[1] == 'x' || code[1] == 'X');
	char *end;
	errno = 0;
	long long v = hex ? (long long)strtoull(code + 2, &end, 16) : strtoll(code, &end, 10);
	bool number = errno == 0 && *end == '\0' && end != code + (hex ? 2 : 0);
	kv_int(out, "code", v, number);
	if (!number || hex)
		kv(out, "code_text", code);
}

static const char *outcome_severity(enum ul_outcome o, int *level)
{
	enum ul_severity s = rep_bad(o)              ? UL_SEV_ERROR
	                     : o == UL_OUT_SUCCEEDED ? UL_SEV_INFO
	                                             : UL_SEV_WARNING;
	*level = (int)s;
	return ul_severity_name(s);
}

static void finding(FILE *out, const struct rep_finding *f)
{
	fputs("{\"kind\": \"finding\"", out);
	kv_id(out, "finding", f->file, f->rule, f->line);
	kv(out, "ts", f->ts);
	kv(out, "host", f->host);
	kv(out, "file", f->file);
	kv_int(out, "line", f->line, true);
	kv(out, "severity", ul_severity_name(f->sev));
	kv_int(out, "level", (int64_t)f->sev, true);
	kv(out, "rule", f->rule);
	kv_code(out, f->code);
	kv(out, "action", f->action);
	kv(out, "title", f->title);
	kv(out, "text", f->text);
	fputs("}\n", out);
}

static void verdict(FILE *out, const struct rep_file *f)
{
	int level;
	bool unread = !f->status || strcmp(f->status, "ok") != 0;
	const char *sev = outcome_severity(f->out, &level);
	if (unread) { /* a file that could not be read (whole) counts as an error */
		level = UL_SEV_ERROR;
		sev = ul_severity_name(UL_SEV_ERROR);
	}
	const char *ts = f->failed_at ? f->failed_at : f->finished ? f->finished : f->started;
	fputs("{\"kind\": \"verdict\"", out);
	kv_id(out, "verdict", f->path, NULL, 0);
	kv(out, "ts", ts);
	kv(out, "host", f->host);
	kv(out, "file", f->path);
	kv_int(out, "line", f->root.line, f->root.line > 0);
	kv(out, "severity", sev);
	kv_int(out, "level", level, true);
	kv(out, "rule", f->root.rule);
	char code[32];
	snprintf(code, sizeof(code), "%" PRId64, f->exit_code);
	kv_code(out, f->has_exit ? code : NULL);
	kv(out, "action", f->action);
	kv(out, "title", f->root.title);
	kv(out, "text", f->has_verdict ? f->reason : f->error);
	kv(out, "outcome", ul_outcome_name(f->out));
	fprintf(out, ", \"reboot\": %s", f->reboot ? "true" : "false");
	kv(out, "status", f->status);
	kv(out, "started", f->started);
	kv(out, "finished", f->finished);
	fputs("}\n", out);
}

static void server(FILE *out, const struct ul_server *s)
{
	int level;
	const char *sev = outcome_severity(s->outcome, &level);
	const struct ul_server_cause *c = rep_bad(s->outcome) && s->ncauses ? &s->causes[0] : NULL;
	fputs("{\"kind\": \"server\"", out);
	kv_id(out, "server", s->host, s->started, 0);
	kv(out, "ts", s->finished ? s->finished : s->started);
	kv(out, "host", s->host && *s->host ? s->host : NULL);
	kv(out, "file", c ? c->file : NULL);
	kv_int(out, "line", c ? c->line : 0, c != NULL);
	kv(out, "severity", sev);
	kv_int(out, "level", level, true);
	kv(out, "rule", c ? c->rule : NULL);
	kv_code(out, c ? c->code : NULL);
	kv(out, "action", NULL);
	kv(out, "title", c ? c->title : NULL);
	kv(out, "text", s->verdict);
	kv(out, "outcome", ul_outcome_name(s->outcome));
	fprintf(out, ", \"reboot\": %s", s->reboot ? "true" : "false");
	kv(out, "role", ul_role_name(s->role));
	kv(out, "from_version", s->from_version);
	kv(out, "to_version", s->to_version);
	kv(out, "started", s->started);
	kv(out, "finished", s->finished);
	kv(out, "advice", s->advice);
	fputs("}\n", out);
}

static void check(FILE *out, const struct ul_check *c, const char *ts)
{
	fputs("{\"kind\": \"check\"", out);
	kv_id(out, "check", c->name, c->hosts, c->line);
	kv(out, "ts", ts);
	kv(out, "host", c->host);
	kv(out, "file", c->file);
	kv_int(out, "line", c->line, c->file != NULL);
	kv(out, "severity", ul_severity_name(c->severity));
	kv_int(out, "level", (int64_t)c->severity, true);
	kv(out, "rule", c->name);
	kv(out, "title", c->name);
	kv(out, "text", c->text);
	kv(out, "hosts", c->hosts);
	kv(out, "advice", c->advice);
	kv(out, "evidence", c->evidence);
	fputs("}\n", out);
}

bool rep_jsonl(const struct ul_report_opts *o, const struct rep_triage *t)
{
	FILE *out = o->out;
	for (size_t i = 0; i < t->nfindings; i++)
		finding(out, &t->findings[i]);
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].has_verdict || !t->files[i].status ||
		    strcmp(t->files[i].status, "ok") != 0) /* unreadable files too */
			verdict(out, &t->files[i]);
	for (size_t i = 0; i < t->nservers; i++)
		server(out, &t->servers[i]);
	for (size_t i = 0; i < t->nchecks; i++)
		check(out, &t->checks[i], ul_cluster_finished(t->cl));
	return true;
}
