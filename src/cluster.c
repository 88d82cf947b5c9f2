/* SPDX-License-Identifier: MIT */
/* cluster: files -> servers -> the cluster. See include/upglog/cluster.h. */
#include "upglog/cluster.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names and small parsers --------------------------------------------------------------- */

static const char *const role_names[UL_ROLE_COUNT] = {
	"unknown",    "publisher", "tftp",    "services",
	"subscriber", "secondary", "primary", "application",
};

const char *ul_role_name(enum ul_role r)
{
	return (unsigned)r < UL_ROLE_COUNT ? role_names[r] : "unknown";
}

bool ul_role_parse(const char *word, enum ul_role *out)
{
	for (int i = 0; i < UL_ROLE_COUNT; i++)
		if (strcasecmp(word, role_names[i]) == 0) {
			*out = (enum ul_role)i;
			return true;
		}
	if (strcasecmp(word, "backup") == 0) {
		*out = UL_ROLE_SECONDARY;
		return true;
	}
	return false;
}

bool ul_cluster_parse_role(const char *spec, char *host, size_t cap, enum ul_role *role)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= cap || !eq[1])
		return false;
	memcpy(host, spec, (size_t)(eq - spec));
	host[eq - spec] = '\0';
	return ul_role_parse(eq + 1, role) && *role != UL_ROLE_UNKNOWN;
}

bool ul_cluster_parse_duration(const char *s, int64_t *secs)
{
	int64_t total = 0;
	bool any = false;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return false;
		int64_t v = 0;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			if (v > 100000000)
				return false;
		}
		int64_t unit;
		switch (*s++) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return false;
		}
		total += v * unit;
		any = true;
	}
	*secs = total;
	return any && total > 0;
}

void ul_cluster_host_from_name(const char *path, char *out, size_t cap)
{
	static const char *const exts[] = {
		".tar.gz", ".tgz", ".zip", ".tar", ".gz", ".log", ".txt"
	};
	char base[256];
	out[0] = '\0';
	if (!path || strcmp(path, "-") == 0 || cap == 0)
		return;
	const char *p = path;
	if (strncmp(p, "stdin:", 6) == 0)
		p += 6;
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && p[b - 1] != '/')
		b--;
	if (n - b >= sizeof(base))
		n = b + sizeof(base) - 1;
	memcpy(base, p + b, n - b);
	base[n - b] = '\0';
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
			size_t bl = strlen(base), el = strlen(exts[i]);
			if (bl > el && strcasecmp(base + bl - el, exts[i]) == 0) {
				base[bl - el] = '\0';
				again = true;
			}
		}
	}
	/*
	 * A stored name writes a byte it cannot keep as `\xNN` (and a repeated member as `\#N`):
	 * no computer name holds one, so an escape separates tokens like '-' does.
	 */
	for (char *e = base; (e = strchr(e, '\\'));) {
		size_t len = 1;
		if (e[1] == 'x' && isxdigit((unsigned char)e[2]) && isxdigit((unsigned char)e[3]))
			len = 4;
		else if (e[1] == '#')
			len = 2 + strspn(e + 2, "0123456789");
		memset(e, ' ', len);
		e += len;
	}
	/* The first token with letters and digits, as computer names usually have. */
	const char *pick = NULL;
	size_t plen = 0;
	for (const char *t = base; *t;) {
		size_t len = strcspn(t, "-_. ");
		bool alpha = false, digit = false;
		for (size_t i = 0; i < len; i++) {
			alpha = alpha || isalpha((unsigned char)t[i]);
			digit = digit || isdigit((unsigned char)t[i]);
		}
		if (alpha && digit && len <= 15) {
			pick = t;
			plen = len;
			break;
		}
		t += len;
		while (*t && strchr("-_. ", *t))
			t++;
	}
	if (!pick) {
		pick = base + strspn(base, " ");
		plen = strcspn(pick, " ");
	}
	if (plen >= cap)
		plen = cap - 1;
	for (size_t i = 0; i < plen; i++)
		out[i] = (char)toupper((unsigned char)pick[i]);
	out[plen] = '\0';
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool ul_cluster_parse_ts(const char *ts, int64_t *secs)
{
	int y, mo, d, h, mi, s;
	if (!ts || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	*secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return true;
}

/* ---- what is read from the store ----------------------------------------------------------- */

struct cfact {
	char *key, *value, *ts;
	int64_t line;
};

struct cfinding {
	bool present;
	int64_t line;
	char *ts, *rule, *code, *text, *title, *explain, *fix, *before, *after, *reason;
};

struct cfile {
	int64_t id;
	char *path, *family, *host, *outcome, *reason, *product, *started, *finished, *failed_at;
	int64_t lines, exit_code;
	bool has_exit, reboot;
	struct cfinding root;
	struct cfinding first_err; /* first error-or-worse cause of the file */
	struct cfact *facts;
	size_t nfacts, capfacts;
	int64_t t_start, t_end;
	bool dated, in_run;
	bool cancel_echo; /* failed, but after the run's user cancel: it reports the cancel */
	bool unread;      /* its status is not "ok": nothing of it was read */
	char *error;      /* why, when unread */
	size_t server;
};

struct sfile {
	size_t file; /* index into files */
};

struct ul_cluster {
	struct cfile *files;
	size_t nfiles, capfiles;
	struct ul_server *servers;
	size_t nservers;
	struct ul_check *checks;
	size_t nchecks, capchecks;
	char **strs;
	size_t nstrs, capstrs;
	bool oom;
	enum ul_outcome verdict;
	const char *started, *finished;
	int64_t window;
	size_t hint;   /* file_by_id: the last file found */
	size_t cursor; /* take_error: the file the findings have reached */
};

/* Every string the public structs point at is owned here. */
static char *keep(struct ul_cluster *cl, char *s)
{
	if (!s) {
		cl->oom = true;
		return NULL;
	}
	if (cl->nstrs == cl->capstrs) {
		size_t cap = cl->capstrs ? cl->capstrs * 2 : 256;
		char **v = realloc(cl->strs, cap * sizeof(*v));
		if (!v) {
			free(s);
			cl->oom = true;
			return NULL;
		}
		cl->strs = v;
		cl->capstrs = cap;
	}
	cl->strs[cl->nstrs++] = s;
	return s;
}

static char *dup(struct ul_cluster *cl, const char *s)
{
	return s ? keep(cl, strdup(s)) : NULL;
}

static char *fmt(struct ul_cluster *cl, const char *f, ...) __attribute__((format(printf, 2, 3)));

static char *fmt(struct ul_cluster *cl, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	return keep(cl, n < 0 ? NULL : s);
}

static void copy_finding(struct ul_cluster *cl, struct cfinding *d, const struct ul_finding_view *f,
                         int64_t line)
{
	d->present = true;
	d->line = line;
	if (!f)
		return;
	d->ts = dup(cl, f->ts);
	d->rule = dup(cl, f->rule);
	d->code = dup(cl, f->code);
	d->text = dup(cl, f->text);
	d->title = dup(cl, f->title);
	d->explain = dup(cl, f->explain);
	d->fix = dup(cl, f->fix);
	d->before = dup(cl, f->before);
	d->after = dup(cl, f->after);
}

static bool take_file(void *ctx, const struct ul_file_view *f)
{
	struct ul_cluster *cl = ctx;
	if (cl->nfiles == cl->capfiles) {
		size_t cap = cl->capfiles ? cl->capfiles * 2 : 64;
		struct cfile *v = realloc(cl->files, cap * sizeof(*v));
		if (!v) {
			cl->oom = true;
			return false;
		}
		cl->files = v;
		cl->capfiles = cap;
	}
	struct cfile *d = &cl->files[cl->nfiles++];
	memset(d, 0, sizeof(*d));
	d->id = f->id;
	d->path = dup(cl, f->path);
	d->family = dup(cl, f->family);
	d->host = f->host && *f->host ? dup(cl, f->host) : NULL;
	for (char *p = d->host; p && *p; p++)
		*p = (char)toupper((unsigned char)*p);
	d->outcome = dup(cl, f->outcome);
	d->reason = dup(cl, f->reason);
	d->product = dup(cl, f->product);
	d->started = dup(cl, f->started);
	d->finished = dup(cl, f->finished);
	d->failed_at = dup(cl, f->failed_at);
	d->lines = f->lines;
	d->unread = f->status && strcmp(f->status, "ok") != 0;
	d->error = d->unread ? dup(cl, f->error ? f->error : f->status) : NULL;
	d->has_exit = f->has_exit;
	d->exit_code = f->exit_code;
	d->reboot = f->reboot;
	if (f->has_root) {
		copy_finding(cl, &d->root, &f->root, f->root.line);
		d->root.reason = f->ncandidates ? dup(cl, f->candidates[0].reason) : NULL;
	} else if (f->ncandidates) {
		copy_finding(cl, &d->root, NULL, f->candidates[0].line);
		d->root.reason = dup(cl, f->candidates[0].reason);
	}
	return !cl->oom;
}

static struct cfile *file_by_id(struct ul_cluster *cl, int64_t id)
{
	/* Files come in path order, facts too: the last file found is the likely one. */
	for (size_t k = cl->hint; k < cl->nfiles && k <= cl->hint + 1; k++)
		if (cl->files[k].id == id) {
			cl->hint = k;
			return &cl->files[k];
		}
	for (size_t i = 0; i < cl->nfiles; i++)
		if (cl->files[i].id == id) {
			cl->hint = i;
			return &cl->files[i];
		}
	return NULL;
}

static bool take_fact(void *ctx, const struct ul_fact_view *f)
{
	struct ul_cluster *cl = ctx;
	struct cfile *d = file_by_id(cl, f->file_id);
	if (!d)
		return true;
	if (d->nfacts == d->capfacts) {
		size_t cap = d->capfacts ? d->capfacts * 2 : 8;
		struct cfact *v = realloc(d->facts, cap * sizeof(*v));
		if (!v) {
			cl->oom = true;
			return false;
		}
		d->facts = v;
		d->capfacts = cap;
	}
	struct cfact *k = &d->facts[d->nfacts++];
	k->key = dup(cl, f->key);
	k->value = dup(cl, f->value);
	k->ts = dup(cl, f->ts);
	k->line = f->line;
	return !cl->oom;
}

/* Findings come in (path, line) order, like the files: one cursor walks both. */
static bool take_error(void *ctx, const struct ul_finding_view *f)
{
	struct ul_cluster *cl = ctx;
	if (!f->file)
		return true;
	while (cl->cursor < cl->nfiles &&
	       (!cl->files[cl->cursor].path || strcmp(cl->files[cl->cursor].path, f->file) < 0))
		cl->cursor++;
	if (cl->cursor == cl->nfiles)
		return true;
	struct cfile *d = &cl->files[cl->cursor];
	if (d->first_err.present || strcmp(d->path, f->file) != 0)
		return true;
	copy_finding(cl, &d->first_err, f, f->line);
	return !cl->oom;
}

/* ---- servers ------------------------------------------------------------------------------- */

static int outcome_rank(const char *o)
{
	if (!o)
		return 0;
	static const char *const order[] = { "unknown", "succeeded", "incomplete", "cancelled",
		                             "failed" };
	for (int i = 0; i < 5; i++)
		if (strcmp(o, order[i]) == 0)
			return i;
	return 0;
}

static enum ul_outcome rank_outcome(int r)
{
	static const enum ul_outcome map[] = { UL_OUT_UNKNOWN, UL_OUT_SUCCEEDED, UL_OUT_INCOMPLETE,
		                               UL_OUTCOME_CANCELLED, UL_OUT_FAILED };
	return map[r];
}

static int outcome_rank_of(enum ul_outcome o)
{
	for (int i = 0; i < 5; i++)
		if (rank_outcome(i) == o)
			return i;
	return 0;
}

/*
 * A file's outcome, with the user's cancel told apart from a failure: a file whose own verdict
 * is `cancelled` (an InstallShield run ending 0x642, a launcher's 1602, an Inno Setup cancel),
 * or a Windows Installer log that says failed because the user cancelled (exit 1602).
 */
static int file_rank(const struct cfile *f)
{
	int r = outcome_rank(f->outcome);
	if (r == 4 && ((f->has_exit && f->exit_code == 1602) || f->cancel_echo))
		return 3;
	return r;
}

/* When a file failed or was cancelled: its root cause's time, else when it says it failed. */
static bool stop_time(const struct cfile *f, int64_t *t)
{
	return (f->root.present && ul_cluster_parse_ts(f->root.ts, t)) ||
	       ul_cluster_parse_ts(f->failed_at, t);
}

/*
 * A user's cancel ends the run: what the upgrade driver and its summary write after it
 * ("msiexec.exe returned 1602", "Upgrade CANCELLED", "Result: FAILED") reports that cancel and
 * is no failure of its own. A file of the run that failed at or after the earliest cancel is
 * its echo; one that failed before it (or whose failure has no time) is a failure, and
 * failed outranks cancelled.
 */
static void mark_cancel_echoes(struct ul_cluster *cl, const size_t *idx, size_t n)
{
	int64_t cancel = INT64_MAX, t;
	for (size_t i = 0; i < n; i++) {
		struct cfile *f = &cl->files[idx[i]];
		f->cancel_echo = false;
		if (f->in_run && file_rank(f) == 3 && stop_time(f, &t) && t < cancel)
			cancel = t;
	}
	if (cancel == INT64_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		struct cfile *f = &cl->files[idx[i]];
		if (f->in_run && file_rank(f) == 4 && stop_time(f, &t) && t >= cancel)
			f->cancel_echo = true;
	}
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path ? path : "?";
}

/* The first value of fact `key` among the run's files (in time order). */
static const struct cfact *fact_of(const struct ul_cluster *cl, const size_t *idx, size_t n,
                                   const char *key, const struct cfile **from)
{
	for (size_t i = 0; i < n; i++) {
		const struct cfile *f = &cl->files[idx[i]];
		if (!f->in_run)
			continue;
		for (size_t k = 0; k < f->nfacts; k++)
			if (f->facts[k].key && strcmp(f->facts[k].key, key) == 0) {
				if (from)
					*from = f;
				return &f->facts[k];
			}
	}
	return NULL;
}

static int cmp_file_time(const void *a, const void *b, void *files)
{
	const struct cfile *fs = files;
	const struct cfile *x = &fs[*(const size_t *)a], *y = &fs[*(const size_t *)b];
	if (x->dated != y->dated)
		return x->dated ? -1 : 1;
	if (x->dated && x->t_start != y->t_start)
		return x->t_start < y->t_start ? -1 : 1;
	return strcmp(x->path ? x->path : "", y->path ? y->path : "");
}

struct cause_pick {
	const struct cfile *file;
	const struct cfinding *f;
	int64_t t;
	bool dated;
	bool from_failed;
};

static int cmp_cause(const void *a, const void *b)
{
	const struct cause_pick *x = a, *y = b;
	if (x->dated != y->dated)
		return x->dated ? -1 : 1;
	if (x->dated && x->t != y->t)
		return x->t < y->t ? -1 : 1;
	int c = strcmp(x->file->path ? x->file->path : "", y->file->path ? y->file->path : "");
	if (c)
		return c;
	return x->f->line < y->f->line ? -1 : x->f->line > y->f->line;
}

static void set_cause(struct ul_cluster *cl, struct ul_server_cause *c, const struct cause_pick *p,
                      char *reason)
{
	c->file_id = p->file->id;
	c->file = p->file->path;
	c->line = p->f->line;
	c->ts = p->f->ts;
	c->rule = p->f->rule;
	c->code = p->f->code;
	c->text = p->f->text;
	c->title = p->f->title;
	c->explain = p->f->explain;
	c->fix = p->f->fix;
	c->before = p->f->before;
	c->after = p->f->after;
	c->reason = reason;
	(void)cl;
}

/* Root cause by time over the run's files, with three ranked candidates. */
static void server_causes(struct ul_cluster *cl, struct ul_server *s, const size_t *idx, size_t n)
{
	struct cause_pick *p = calloc(2 * n + 1, sizeof(*p));
	size_t np = 0;
	int64_t first_fail = INT64_MAX;
	if (!p) {
		cl->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cfile *f = &cl->files[idx[i]];
		if (!f->in_run)
			continue;
		int r = file_rank(f);
		const struct cfinding *fd = NULL;
		if (r >= 3 && f->root.present)
			fd = &f->root;
		else if (r == 0 || r == 2)
			fd = f->first_err.present ? &f->first_err : NULL;
		if (!fd)
			continue;
		struct cause_pick *c = &p[np++];
		c->file = f;
		c->f = fd;
		c->from_failed = r >= 3;
		c->dated = ul_cluster_parse_ts(fd->ts, &c->t);
		if (c->from_failed && c->dated && c->t < first_fail)
			first_fail = c->t;
	}
	/* An error of a file that did not fail counts only before the first failure. */
	size_t k = 0;
	bool any_failed = false;
	for (size_t i = 0; i < np; i++) {
		any_failed = any_failed || p[i].from_failed;
		if (p[i].from_failed ||
		    (p[i].dated && p[i].t <= first_fail && first_fail != INT64_MAX))
			p[k++] = p[i];
	}
	np = any_failed ? k : 0;
	qsort(p, np, sizeof(*p), cmp_cause);
	const struct cause_pick *first_failed = NULL;
	for (size_t i = 0; i < np && !first_failed; i++)
		if (p[i].from_failed)
			first_failed = &p[i];
	for (size_t i = 0; i < np && s->ncauses < 3; i++) {
		char *reason;
		if (i == 0 && !p[i].from_failed)
			reason = fmt(
			        cl,
			        "the first error of the run, before %s failed (%s): the failures "
			        "after it follow from it",
			        base_name(first_failed->file->path),
			        first_failed->file->reason ? first_failed->file->reason : "failed");
		else if (i == 0)
			reason = dup(cl, p[i].f->reason      ? p[i].f->reason
			                 : p[i].file->reason ? p[i].file->reason
			                                     : "the first failure of the run");
		else
			reason = fmt(cl, "%s: %s, later (%s)",
			             p[i].from_failed ? "a consequence" : "an error",
			             base_name(p[i].file->path),
			             p[i].file->reason ? p[i].file->reason : "failed");
		set_cause(cl, &s->causes[s->ncauses++], &p[i], reason);
	}
	/* The chosen file's own next candidates would need their texts: the store gives the
	 * first one; others are listed by the report from the file verdicts. */
	free(p);
}

static const char *version_word(const char *v)
{
	return v ? v : "?";
}

/* `cancel_code`: the exit code of the cancelled file that set the outcome (0: none logged). */
static void server_words(struct ul_cluster *cl, struct ul_server *s, int64_t cancel_code)
{
	const char *prod = s->product ? s->product : "the product";
	const struct ul_server_cause *c = s->ncauses ? &s->causes[0] : NULL;
	const char *what = c ? (c->title && *c->title ? c->title : c->text) : NULL;
	const char *host = *s->host ? s->host : "(unnamed server)";
	switch (s->outcome) {
	case UL_OUT_FAILED:
		s->verdict =
		        fmt(cl, "%s failed%s%s: %s", host, c && c->ts ? " at " : "",
		            c && c->ts ? c->ts : "", what ? what : "a log says the upgrade failed");
		/* "...: the service ..." reads as a sentence; "SQLSvc" stays. */
		if (s->verdict && what) {
			char *w = strstr(s->verdict, ": ") + 2;
			if (isupper((unsigned char)w[0]) && islower((unsigned char)w[1]))
				w[0] = (char)tolower((unsigned char)w[0]);
		}
		if (s->final_version && s->verdict)
			s->verdict =
			        fmt(cl, "%s; %s stays on %s", s->verdict, prod, s->final_version);
		break;
	case UL_OUTCOME_CANCELLED: {
		char code[32] = "";
		if (cancel_code)
			snprintf(code, sizeof(code), " (%" PRId64 ")", cancel_code);
		s->verdict = fmt(cl, "%s was cancelled by the user%s%s%s%s%s", host, code,
		                 s->final_version ? "; " : "", s->final_version ? prod : "",
		                 s->final_version ? " stays on " : "",
		                 s->final_version ? s->final_version : "");
		break;
	}
	case UL_OUT_INCOMPLETE:
		s->verdict = fmt(cl, "%s did not finish: its installer log ends mid-install", host);
		break;
	case UL_OUT_SUCCEEDED:
		if (s->from_version || s->to_version)
			s->verdict =
			        fmt(cl, "%s succeeded: %s %s -> %s%s", host, prod,
			            version_word(s->from_version),
			            version_word(s->to_version ? s->to_version : s->final_version),
			            s->reboot ? "; a restart is pending" : "");
		else
			s->verdict = fmt(cl, "%s succeeded%s", host,
			                 s->reboot ? "; a restart is pending" : "");
		break;
	default:
		s->verdict = fmt(cl, "%s: no log says how its upgrade ended", host);
		break;
	}
	if (c && c->fix && *c->fix)
		s->advice = c->fix;
	else if (s->outcome == UL_OUTCOME_CANCELLED)
		s->advice = "Run the upgrade again and let it finish; nothing failed.";
	else if (s->outcome == UL_OUT_INCOMPLETE)
		s->advice =
		        "Find out whether the installer is still running or the server restarted "
		        "during the upgrade; collect the logs again when it has ended.";
}

static void server_role(struct ul_cluster *cl, struct ul_server *s, const size_t *idx, size_t n,
                        const struct ul_cluster_opts *o)
{
	char host[64];
	enum ul_role role;
	for (size_t i = 0; o && i < o->nroles; i++)
		if (ul_cluster_parse_role(o->roles[i], host, sizeof(host), &role) &&
		    strcasecmp(host, s->host) == 0) {
			s->role = role;
			s->role_evidence = "given with --role";
			s->role_verified = true;
			return;
		}
	const struct cfile *from = NULL;
	const struct cfact *f = fact_of(cl, idx, n, "role", &from);
	if (f && ul_role_parse(f->value, &role)) {
		s->role = role;
		s->role_evidence = fmt(cl, "stated in %s:%" PRId64, base_name(from->path), f->line);
		return;
	}
	if ((f = fact_of(cl, idx, n, "backup_utility", &from))) {
		s->role = UL_ROLE_PUBLISHER;
		s->role_evidence = fmt(cl, "inferred: the Backup Utility runs here, %s:%" PRId64,
		                       base_name(from->path), f->line);
		return;
	}
	const struct cfact *tftp = fact_of(cl, idx, n, "tftp_service", &from);
	const struct cfile *from2 = NULL;
	const struct cfact *ccm = fact_of(cl, idx, n, "ccm_service", &from2);
	if (tftp && !ccm) {
		s->role = UL_ROLE_TFTP;
		s->role_evidence = fmt(
		        cl, "inferred: Cisco TFTP installed without Cisco CallManager, %s:%" PRId64,
		        base_name(from->path), tftp->line);
		return;
	}
	if ((f = fact_of(cl, idx, n, "servprep", &from))) {
		s->role = UL_ROLE_SUBSCRIBER;
		s->role_evidence = fmt(cl,
		                       "inferred: ServPrep ran and the Backup Utility did not, "
		                       "%s:%" PRId64,
		                       base_name(from->path), f->line);
		return;
	}
	s->role = UL_ROLE_UNKNOWN;
}

static int cmp_server(const void *a, const void *b)
{
	const struct ul_server *x = a, *y = b;
	int64_t tx, ty;
	bool dx = ul_cluster_parse_ts(x->started, &tx), dy = ul_cluster_parse_ts(y->started, &ty);
	if (dx != dy)
		return dx ? -1 : 1;
	if (dx && tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->host, y->host);
}

static void build_server(struct ul_cluster *cl, struct ul_server *s, size_t *idx, size_t n,
                         const struct ul_cluster_opts *o)
{
	qsort_r(idx, n, sizeof(*idx), cmp_file_time, cl->files);
	/* The run: the latest group of dated files, plus the files without dates. */
	size_t group = 0;
	int64_t end = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		const struct cfile *f = &cl->files[idx[i]];
		if (!f->dated)
			break;
		if (i > 0 && f->t_start > end + UL_CLUSTER_RUN_GAP)
			group = i;
		if (f->t_end > end)
			end = f->t_end;
	}
	int64_t rs = INT64_MAX, re = INT64_MIN;
	const struct cfile *fs = NULL, *fe = NULL;
	for (size_t i = 0; i < n; i++) {
		struct cfile *f = &cl->files[idx[i]];
		f->in_run = i >= group;
		if (!f->in_run)
			continue;
		s->run_files++;
		if (f->dated && f->t_start < rs)
			rs = f->t_start, fs = f;
		if (f->dated && f->t_end > re)
			re = f->t_end, fe = f;
	}
	s->files = n;
	if (fs) {
		s->started = fs->started ? fs->started : fs->failed_at;
		s->start_file_id = fs->id;
		s->start_file = fs->path;
		s->start_line = 1;
		for (size_t k = 0; k < fs->nfacts; k++)
			if (fs->facts[k].ts && s->started &&
			    strcmp(fs->facts[k].ts, s->started) == 0) {
				s->start_line = fs->facts[k].line;
				break;
			}
	}
	if (fe) {
		s->finished = fe->finished    ? fe->finished
		              : fe->failed_at ? fe->failed_at
		                              : fe->started;
		s->end_file_id = fe->id;
		s->end_file = fe->path;
		s->end_line = fe->lines > 0 ? fe->lines : 1;
	}
	mark_cancel_echoes(cl, idx, n);
	int worst = 0;
	int64_t cancel_code = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cfile *f = &cl->files[idx[i]];
		if (!f->in_run)
			continue;
		int r = file_rank(f);
		if (r > worst)
			worst = r;
		if (r == 3 && f->has_exit && !cancel_code)
			cancel_code = f->exit_code;
		s->reboot = s->reboot || f->reboot;
		if (!s->product && f->product && *f->product)
			s->product = f->product;
	}
	s->outcome = rank_outcome(worst);
	const struct cfact *v;
	if ((v = fact_of(cl, idx, n, "from_version", NULL)))
		s->from_version = v->value;
	if ((v = fact_of(cl, idx, n, "to_version", NULL)) ||
	    (v = fact_of(cl, idx, n, "product_version", NULL)))
		s->to_version = v->value;
	if ((v = fact_of(cl, idx, n, "final_version", NULL)))
		s->final_version = v->value;
	else if (s->outcome == UL_OUT_SUCCEEDED)
		s->final_version = s->to_version;
	else if (s->outcome == UL_OUT_FAILED || s->outcome == UL_OUTCOME_CANCELLED)
		s->final_version = s->from_version; /* the installer rolled back */
	server_causes(cl, s, idx, n);
	server_role(cl, s, idx, n, o);
	server_words(cl, s, cancel_code);
	/* A server known only from inputs that could not be read: say that, not "no log says". */
	size_t unread = 0;
	for (size_t i = 0; i < n; i++)
		unread += cl->files[idx[i]].unread;
	const char *host = *s->host ? s->host : "(unnamed server)";
	if (s->outcome == UL_OUT_UNKNOWN && n == 1 && unread == 1)
		s->verdict = fmt(cl, "%s: its log could not be read (%s)", host,
		                 cl->files[idx[0]].error ? cl->files[idx[0]].error : "unreadable");
	else if (s->outcome == UL_OUT_UNKNOWN && n && unread == n)
		s->verdict = fmt(cl, "%s: none of its %zu logs could be read", host, n);
}

/* ---- checks -------------------------------------------------------------------------------- */

static void add_check(struct ul_cluster *cl, const char *name, enum ul_severity sev,
                      const char *host, const char *hosts, const struct cfile *file, int64_t line,
                      char *text, const char *advice, const char *evidence)
{
	if (cl->nchecks == cl->capchecks) {
		size_t cap = cl->capchecks ? cl->capchecks * 2 : 16;
		struct ul_check *v = realloc(cl->checks, cap * sizeof(*v));
		if (!v) {
			cl->oom = true;
			return;
		}
		cl->checks = v;
		cl->capchecks = cap;
	}
	struct ul_check *c = &cl->checks[cl->nchecks++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->severity = sev;
	c->host = host;
	c->hosts = hosts ? hosts : host;
	c->file_id = file ? file->id : 0;
	c->file = file ? file->path : NULL;
	c->line = file ? line : 0;
	c->text = text;
	c->advice = advice;
	c->evidence = evidence;
}

/* Position in the guide's order; -1 when the role says nothing about order. */
static int order_rank(enum ul_role r)
{
	switch (r) {
	case UL_ROLE_PUBLISHER:
		return 0;
	case UL_ROLE_TFTP:
		return 1;
	case UL_ROLE_SERVICES:
		return 2;
	case UL_ROLE_SUBSCRIBER:
	case UL_ROLE_SECONDARY:
		return 3;
	case UL_ROLE_PRIMARY:
		return 4;
	case UL_ROLE_APPLICATION:
		return 5;
	default:
		return -1;
	}
}

struct sinfo {
	int64_t t0, t1;
	bool dated;
	bool window_verified; /* start and end come from Windows Installer logs */
	size_t *idx;
	size_t n;
};

static const struct cfile *file_of(const struct ul_cluster *cl, int64_t id)
{
	for (size_t i = 0; i < cl->nfiles; i++)
		if (cl->files[i].id == id)
			return &cl->files[i];
	return NULL;
}

static bool is_msi(const struct cfile *f)
{
	return f && f->family && strcmp(f->family, "msi") == 0;
}

static void check_order(struct ul_cluster *cl, const struct sinfo *si)
{
	static const char advice_pub[] =
	        "Upgrade the publisher first and start no other server until its upgrade has "
	        "succeeded; then upgrade this server again.";
	static const char advice[] =
	        "Follow the guide's order: publisher, TFTP server, servers running only "
	        "CallManager services, backup (secondary) subscribers, then primary subscribers; "
	        "one server at a time.";
	for (size_t b = 0; b < cl->nservers; b++) {
		const struct ul_server *B = &cl->servers[b];
		int rb = order_rank(B->role);
		if (rb < 0 || !si[b].dated)
			continue;
		for (size_t a = 0; a < cl->nservers; a++) {
			const struct ul_server *A = &cl->servers[a];
			int ra = order_rank(A->role);
			if (a == b || ra < 0 || ra >= rb || !si[a].dated)
				continue;
			bool pub = A->role == UL_ROLE_PUBLISHER;
			const char *ev = A->role_verified && B->role_verified &&
			                                 si[a].window_verified &&
			                                 si[b].window_verified
			                         ? "verified"
			                         : "inferred";
			char *hosts = fmt(cl, "%s,%s", B->host, A->host);
			const struct cfile *sf = file_of(cl, B->start_file_id);
			if (si[b].t0 < si[a].t1) {
				add_check(
				        cl, "upgrade-order", pub ? UL_SEV_ERROR : UL_SEV_WARNING,
				        B->host, hosts, sf, B->start_line,
				        fmt(cl,
				            "%s (%s) started its upgrade at %s, before %s (%s) had "
				            "finished (%s)",
				            B->host, ul_role_name(B->role), B->started, A->host,
				            ul_role_name(A->role), A->finished),
				        pub ? advice_pub : advice, ev);
			} else if (pub && (A->outcome == UL_OUT_FAILED ||
			                   A->outcome == UL_OUTCOME_CANCELLED ||
			                   A->outcome == UL_OUT_INCOMPLETE)) {
				add_check(cl, "upgrade-order", UL_SEV_ERROR, B->host, hosts, sf,
				          B->start_line,
				          fmt(cl,
				              "%s (%s) was upgraded at %s although the publisher "
				              "%s had "
				              "not been upgraded (%s)",
				              B->host, ul_role_name(B->role), B->started, A->host,
				              ul_outcome_name(A->outcome)),
				          advice_pub, ev);
			}
		}
	}
}

static bool order_flagged(const struct ul_cluster *cl, const char *x, const char *y)
{
	for (size_t i = 0; i < cl->nchecks; i++) {
		const struct ul_check *c = &cl->checks[i];
		if (strcmp(c->name, "upgrade-order") != 0 || !c->hosts)
			continue;
		const char *comma = strchr(c->hosts, ',');
		if (!comma)
			continue;
		size_t n1 = (size_t)(comma - c->hosts);
		bool xy = strlen(x) == n1 && strncmp(c->hosts, x, n1) == 0 &&
		          strcmp(comma + 1, y) == 0;
		bool yx = strlen(y) == n1 && strncmp(c->hosts, y, n1) == 0 &&
		          strcmp(comma + 1, x) == 0;
		if (xy || yx)
			return true;
	}
	return false;
}

static void check_concurrent(struct ul_cluster *cl, const struct sinfo *si)
{
	for (size_t a = 0; a < cl->nservers; a++)
		for (size_t b = a + 1; b < cl->nservers; b++) {
			const struct ul_server *A = &cl->servers[a], *B = &cl->servers[b];
			if (!si[a].dated || !si[b].dated || !*A->host || !*B->host)
				continue;
			/* Servers are in start order: b started at or after a. */
			if (si[b].t0 >= si[a].t1 || order_flagged(cl, A->host, B->host))
				continue;
			add_check(cl, "concurrent-upgrade", UL_SEV_WARNING, B->host,
			          fmt(cl, "%s,%s", B->host, A->host), file_of(cl, B->start_file_id),
			          B->start_line,
			          fmt(cl,
			              "%s started its upgrade at %s while %s was still upgrading "
			              "(until %s)",
			              B->host, B->started, A->host, A->finished),
			          "Upgrade one server at a time: start the next server only when "
			          "the one "
			          "before has finished and its services are back.",
			          si[a].window_verified && si[b].window_verified ? "verified"
			                                                         : "inferred");
		}
}

static void check_window(struct ul_cluster *cl, const struct sinfo *si)
{
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	size_t first = 0, last = 0, dated = 0;
	bool verified = true;
	for (size_t i = 0; i < cl->nservers; i++) {
		if (!si[i].dated)
			continue;
		dated++;
		verified = verified && si[i].window_verified;
		if (si[i].t0 < t0)
			t0 = si[i].t0, first = i;
		if (si[i].t1 > t1)
			t1 = si[i].t1, last = i;
	}
	if (!dated)
		return;
	cl->started = cl->servers[first].started;
	cl->finished = cl->servers[last].finished;
	int64_t span = t1 - t0;
	if (span <= cl->window)
		return;
	add_check(cl, "maintenance-window", UL_SEV_WARNING, NULL, NULL,
	          file_of(cl, cl->servers[last].end_file_id), cl->servers[last].end_line,
	          fmt(cl,
	              "the cluster upgrade took %" PRId64 "h%02" PRId64 "m (%s to %s), longer than "
	              "the %" PRId64 "h%02" PRId64 "m window",
	              span / 3600, span / 60 % 60, cl->started, cl->finished, cl->window / 3600,
	              cl->window / 60 % 60),
	          "Plan the upgrade of the whole cluster inside one maintenance window: phones "
	          "register to servers on different versions until every server is upgraded.",
	          verified ? "verified" : "inferred");
}

static void check_versions(struct ul_cluster *cl)
{
	const struct ul_server *ref = NULL;
	bool mixed = false;
	for (size_t i = 0; i < cl->nservers; i++) {
		const struct ul_server *s = &cl->servers[i];
		if (!s->final_version || !*s->host)
			continue;
		if (!ref)
			ref = s;
		else if (strcmp(ref->final_version, s->final_version) != 0)
			mixed = true;
	}
	if (!mixed)
		return;
	char *list = fmt(cl, "%s", "");
	char *hosts = fmt(cl, "%s", "");
	const struct ul_server *last = NULL;
	for (size_t i = 0; i < cl->nservers && list && hosts; i++) {
		const struct ul_server *s = &cl->servers[i];
		if (!s->final_version || !*s->host)
			continue;
		list = fmt(cl, "%s%s%s on %s", list, *list ? ", " : "", s->host, s->final_version);
		hosts = fmt(cl, "%s%s%s", hosts, *hosts ? "," : "", s->host);
		if (!last || strcmp(s->final_version, ref->final_version) != 0)
			last = s;
	}
	if (!list || !hosts || !last)
		return;
	const struct cfile *f = file_of(cl, last->end_file_id);
	add_check(cl, "mixed-versions", UL_SEV_ERROR, NULL, hosts, f, last->end_line,
	          fmt(cl, "the servers are left on different CallManager versions: %s", list),
	          "Bring every server to the same version: finish the failed upgrades (publisher "
	          "first) or revert the upgraded servers as the guide describes.",
	          "inferred");
}

/* Compare dotted numbers with an optional "srN" suffix: 2000.2.5sr2. */
static void os_parts(const char *v, int out[4])
{
	memset(out, 0, 4 * sizeof(int));
	int i = 0;
	const char *p = v;
	while (*p && i < 3) {
		if (!isdigit((unsigned char)*p))
			break;
		out[i++] = atoi(p);
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '.')
			p++;
	}
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "sr", 2) == 0)
		out[3] = atoi(p + 2);
}

static int cmp_os(const char *a, const char *b)
{
	int x[4], y[4];
	os_parts(a, x);
	os_parts(b, y);
	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* "3.1(4)" -> 301; -1 when not a CallManager version. */
static int ccm_release(const char *v)
{
	int ma, mi;
	if (!v || sscanf(v, "%d.%d", &ma, &mi) != 2)
		return -1;
	return ma * 100 + mi;
}

static const struct cfile *fact_file(const struct ul_cluster *cl, const size_t *idx, size_t n,
                                     const char *key, const struct cfact **fact)
{
	const struct cfile *from = NULL;
	*fact = fact_of(cl, idx, n, key, &from);
	return *fact ? from : NULL;
}

static void check_server_facts(struct ul_cluster *cl, size_t i, const struct sinfo *si)
{
	const struct ul_server *s = &cl->servers[i];
	const struct cfact *f;
	const struct cfile *file;
	if ((file = fact_file(cl, si->idx, si->n, "nt_product_type", &f)) &&
	    strcmp(f->value, "2") == 0)
		add_check(
		        cl, "domain-controller", UL_SEV_ERROR, s->host, NULL, file, f->line,
		        fmt(cl, "%s is a domain controller (MsiNTProductType = 2)", s->host),
		        "A CallManager server must not be a domain controller: demote it (dcpromo) "
		        "or move the server into a workgroup or member-server role before "
		        "upgrading.",
		        is_msi(file) ? "verified" : "inferred");
	if ((file = fact_file(cl, si->idx, si->n, "terminal_server", &f)) ||
	    (file = fact_file(cl, si->idx, si->n, "terminal_services", &f)))
		add_check(cl, "terminal-services", UL_SEV_WARNING, s->host, NULL, file, f->line,
		          fmt(cl, "%s: Terminal Services is installed or in use during the upgrade",
		              s->host),
		          "Do not upgrade through Terminal Services (TAC 7426): use the console or "
		          "VNC, and disable Terminal Services before the upgrade.",
		          "inferred");
	if ((file = fact_file(cl, si->idx, si->n, "vnc", &f)))
		add_check(
		        cl, "vnc", UL_SEV_INFO, s->host, NULL, file, f->line,
		        fmt(cl, "%s: the upgrade ran with a VNC session or server active (%s)",
		            s->host, f->value),
		        "VNC is the remote method the guide allows; keep the session open until "
		        "the "
		        "upgrade ends and disable VNC afterwards if your security policy asks for "
		        "it.",
		        "inferred");
	if ((file = fact_file(cl, si->idx, si->n, "os_version", &f)) &&
	    cmp_os(f->value, "2000.2.5sr2") < 0)
		add_check(cl, "os-version", UL_SEV_ERROR, s->host, NULL, file, f->line,
		          fmt(cl, "%s runs Cisco OS %s, below 2000.2.5sr2", s->host, f->value),
		          "Upgrade the Cisco-provided operating system to 2000.2.5sr2 or later "
		          "before "
		          "upgrading CallManager.",
		          "inferred");
	if ((file = fact_file(cl, si->idx, si->n, "from_version", &f)) &&
	    ccm_release(f->value) >= 0 && ccm_release(f->value) < 302)
		add_check(
		        cl, "source-version", UL_SEV_ERROR, s->host, NULL, file, f->line,
		        fmt(cl,
		            "%s is upgraded from CallManager %s: this release must go to 3.2 first",
		            s->host, f->value),
		        "Upgrade to CallManager 3.2 first, then to 4.0.", "inferred");
	if ((file = fact_file(cl, si->idx, si->n, "security_software", &f)))
		add_check(
		        cl, "security-policy", UL_SEV_WARNING, s->host, NULL, file, f->line,
		        fmt(cl, "%s: %s was active during the upgrade", s->host, f->value),
		        "Disable Cisco-approved antivirus, intrusion detection and Cisco Security "
		        "Agent before upgrading (TAC 7426) and enable them again afterwards.",
		        "inferred");
}

/* A configuration change while any server of the cluster was upgrading. */
static void check_config(struct ul_cluster *cl, const struct sinfo *si)
{
	for (size_t i = 0; i < cl->nservers; i++)
		for (size_t k = 0; k < si[i].n; k++) {
			const struct cfile *file = &cl->files[si[i].idx[k]];
			for (size_t j = 0; j < file->nfacts; j++) {
				const struct cfact *f = &file->facts[j];
				int64_t t;
				if (strcmp(f->key, "config_change") != 0 ||
				    !ul_cluster_parse_ts(f->ts, &t))
					continue;
				const struct ul_server *during = NULL;
				for (size_t o = 0; o < cl->nservers && !during; o++)
					if (si[o].dated && t >= si[o].t0 && t <= si[o].t1)
						during = &cl->servers[o];
				if (!during)
					continue;
				add_check(cl, "configuration-during-upgrade", UL_SEV_WARNING,
				          cl->servers[i].host,
				          fmt(cl, "%s,%s", cl->servers[i].host, during->host), file,
				          f->line,
				          fmt(cl,
				              "a configuration change (%s) was made on %s at %s "
				              "while %s "
				              "was upgrading",
				              f->value, cl->servers[i].host, f->ts, during->host),
				          "Make no configuration changes until every server is "
				          "upgraded; "
				          "redo this change afterwards and check replication.",
				          "inferred");
			}
		}
}

static int cmp_check(const void *a, const void *b)
{
	const struct ul_check *x = a, *y = b;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return strcmp(x->hosts ? x->hosts : "", y->hosts ? y->hosts : "");
}

static void run_checks(struct ul_cluster *cl)
{
	struct sinfo *si = calloc(cl->nservers ? cl->nservers : 1, sizeof(*si));
	size_t *all = calloc(cl->nfiles ? cl->nfiles : 1, sizeof(*all));
	if (!si || !all) {
		free(si);
		free(all);
		cl->oom = true;
		return;
	}
	size_t used = 0;
	for (size_t i = 0; i < cl->nservers; i++) {
		struct ul_server *s = &cl->servers[i];
		si[i].idx = all + used;
		for (size_t k = 0; k < cl->nfiles; k++)
			if (cl->files[k].server == i)
				all[used++] = k;
		si[i].n = (size_t)(all + used - si[i].idx);
		qsort_r(si[i].idx, si[i].n, sizeof(size_t), cmp_file_time, cl->files);
		si[i].dated = ul_cluster_parse_ts(s->started, &si[i].t0) &&
		              ul_cluster_parse_ts(s->finished, &si[i].t1);
		si[i].window_verified = is_msi(file_of(cl, s->start_file_id)) &&
		                        is_msi(file_of(cl, s->end_file_id));
	}
	check_order(cl, si);
	check_concurrent(cl, si);
	check_window(cl, si);
	check_versions(cl);
	for (size_t i = 0; i < cl->nservers; i++)
		if (*cl->servers[i].host)
			check_server_facts(cl, i, &si[i]);
	check_config(cl, si);
	if (cl->nchecks)
		qsort(cl->checks, cl->nchecks, sizeof(*cl->checks), cmp_check);
	free(si);
	free(all);
}

/* ---- the whole ----------------------------------------------------------------------------- */

void ul_cluster_destroy(struct ul_cluster *cl)
{
	if (!cl)
		return;
	for (size_t i = 0; i < cl->nfiles; i++)
		free(cl->files[i].facts);
	free(cl->files);
	free(cl->servers);
	free(cl->checks);
	for (size_t i = 0; i < cl->nstrs; i++)
		free(cl->strs[i]);
	free(cl->strs);
	free(cl);
}

struct ul_cluster *ul_cluster_build(struct ul_store *st, int64_t scan_id,
                                    const struct ul_cluster_opts *o, struct ul_error *err)
{
	struct ul_cluster *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		ul_error_set(err, "memory", "out of memory");
		return NULL;
	}
	cl->window = o && o->window > 0 ? o->window : UL_CLUSTER_WINDOW;
	if (!ul_store_each_file(st, scan_id, take_file, cl, err) ||
	    !ul_store_each_fact(st, scan_id, take_fact, cl, err) ||
	    !ul_store_each_finding(st, scan_id, UL_SEV_ERROR, true, take_error, cl, err)) {
		if (cl->oom)
			ul_error_set(err, "memory", "out of memory");
		ul_cluster_destroy(cl);
		return NULL;
	}
	/* Servers by host; files without any host form one unnamed server. */
	char **hosts = calloc(cl->nfiles ? cl->nfiles : 1, sizeof(*hosts));
	size_t nh = 0;
	if (!hosts)
		goto oom;
	for (size_t i = 0; i < cl->nfiles; i++) {
		struct cfile *f = &cl->files[i];
		const char *h = f->host ? f->host : "";
		size_t k = 0;
		while (k < nh && strcmp(hosts[k], h) != 0)
			k++;
		if (k == nh)
			hosts[nh++] = (char *)h;
		f->server = k;
		f->dated = ul_cluster_parse_ts(f->started, &f->t_start) ||
		           ul_cluster_parse_ts(f->failed_at, &f->t_start);
		if (f->dated && !ul_cluster_parse_ts(f->finished, &f->t_end))
			f->t_end = f->t_start;
		if (f->dated && f->t_end < f->t_start)
			f->t_end = f->t_start;
	}
	cl->servers = calloc(nh ? nh : 1, sizeof(*cl->servers));
	size_t *idx = calloc(cl->nfiles ? cl->nfiles : 1, sizeof(*idx));
	if (!cl->servers || !idx) {
		free(idx);
		free(hosts);
		goto oom;
	}
	cl->nservers = nh;
	for (size_t k = 0; k < nh; k++) {
		size_t n = 0;
		for (size_t i = 0; i < cl->nfiles; i++)
			if (cl->files[i].server == k)
				idx[n++] = i;
		cl->servers[k].host = hosts[k];
		build_server(cl, &cl->servers[k], idx, n, o);
	}
	free(idx);
	free(hosts);
	/* Upgrade order; then files point at their server's new position. */
	size_t *pos = calloc(nh ? nh : 1, sizeof(*pos));
	if (!pos)
		goto oom;
	struct ul_server *copy = malloc((nh ? nh : 1) * sizeof(*copy));
	if (!copy) {
		free(pos);
		goto oom;
	}
	memcpy(copy, cl->servers, nh * sizeof(*copy));
	qsort(cl->servers, nh, sizeof(*cl->servers), cmp_server);
	for (size_t k = 0; k < nh; k++)
		for (size_t j = 0; j < nh; j++)
			if (cl->servers[j].host == copy[k].host)
				pos[k] = j;
	for (size_t i = 0; i < cl->nfiles; i++)
		cl->files[i].server = pos[cl->files[i].server];
	free(copy);
	free(pos);
	run_checks(cl);
	if (cl->oom)
		goto oom;
	int worst = 0;
	bool failed = false;
	for (size_t i = 0; i < cl->nservers; i++) {
		int r = outcome_rank_of(cl->servers[i].outcome);
		worst = r > worst ? r : worst;
	}
	for (size_t i = 0; i < cl->nchecks; i++)
		failed = failed || cl->checks[i].severity >= UL_SEV_ERROR;
	cl->verdict = failed ? UL_OUT_FAILED : rank_outcome(worst);
	return cl;
oom:
	ul_error_set(err, "memory", "out of memory");
	ul_cluster_destroy(cl);
	return NULL;
}

const struct ul_server *ul_cluster_servers(const struct ul_cluster *cl, size_t *n)
{
	*n = cl->nservers;
	return cl->servers;
}

const struct ul_check *ul_cluster_checks(const struct ul_cluster *cl, size_t *n)
{
	*n = cl->nchecks;
	return cl->checks;
}

enum ul_outcome ul_cluster_verdict(const struct ul_cluster *cl)
{
	return cl->verdict;
}

const char *ul_cluster_started(const struct ul_cluster *cl)
{
	return cl->started;
}

const char *ul_cluster_finished(const struct ul_cluster *cl)
{
	return cl->finished;
}

bool ul_cluster_save(struct ul_store *st, int64_t scan_id, const struct ul_cluster *cl,
                     struct ul_error *err)
{
	struct ul_server_row *sr = calloc(cl->nservers ? cl->nservers : 1, sizeof(*sr));
	struct ul_check_row *cr = calloc(cl->nchecks ? cl->nchecks : 1, sizeof(*cr));
	if (!sr || !cr) {
		free(sr);
		free(cr);
		return ul_error_set(err, "memory", "out of memory");
	}
	for (size_t i = 0; i < cl->nservers; i++) {
		const struct ul_server *s = &cl->servers[i];
		sr[i] = (struct ul_server_row){
			.host = s->host,
			.role = ul_role_name(s->role),
			.role_evidence = s->role_evidence,
			.outcome = ul_outcome_name(s->outcome),
			.product = s->product,
			.from_version = s->from_version,
			.to_version = s->to_version,
			.final_version = s->final_version,
			.started = s->started,
			.finished = s->finished,
			.reason = s->verdict,
			.reboot = s->reboot,
			.file_id = s->ncauses ? s->causes[0].file_id : 0,
			.line = s->ncauses ? s->causes[0].line : 0,
		};
	}
	for (size_t i = 0; i < cl->nchecks; i++) {
		const struct ul_check *c = &cl->checks[i];
		cr[i] = (struct ul_check_row){
			.name = c->name,
			.severity = ul_severity_name(c->severity),
			.host = c->host,
			.hosts = c->hosts,
			.file_id = c->file_id,
			.line = c->line,
			.text = c->text,
			.advice = c->advice,
			.evidence = c->evidence,
		};
	}
	bool ok = ul_store_write_cluster(st, scan_id, sr, cl->nservers, cr, cl->nchecks, err);
	free(sr);
	free(cr);
	return ok;
}
