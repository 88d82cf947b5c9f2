/* SPDX-License-Identifier: MIT */
/* interpret: hits -> findings and verdicts. See include/upglog/interpret.h. */
#include "upglog/interpret.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "strbuf.h"
#include "upglog/mask.h"

#define MAX_DEPTH    32   /* action stack */
#define MAX_ERRORS   16   /* first eligible errors remembered per file */
#define MAX_PENDING  256  /* findings waiting for their lines below */
#define CONTEXT_LINE 1024 /* longest context line kept */

const char *ul_outcome_name(enum ul_outcome o)
{
	static const char *const names[UL_OUTCOME_COUNT] = { "unknown", "succeeded", "failed",
		                                             "incomplete", "cancelled" };
	return (unsigned)o < UL_OUTCOME_COUNT ? names[o] : "unknown";
}

/* ---- small owned strings ----------------------------------------------------------------- */

/* Length of `s` cut to at most `max` bytes on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* ---- secrets ----------------------------------------------------------------------------- */

/* Mask the buffer's secrets (see mask.h). Without memory for a copy, masks in place. */
static void sb_mask(struct ul_strbuf *b)
{
	if (!b->len || !ul_mask_has_secret(b->p, b->len))
		return;
	char *m = ul_mask_text(b->p, b->len);
	if (m) {
		size_t n = strlen(m);
		if (n < b->cap) {
			memcpy(b->p, m, n + 1);
			free(m);
		} else {
			free(b->p); /* the masked copy becomes the buffer */
			b->p = m;
			b->cap = n + 1;
		}
		b->len = n;
		return;
	}
	ul_mask_inplace(b->p); /* never grows: needs no memory */
	b->len = strlen(b->p);
}

/* ---- dates and times --------------------------------------------------------------------- */

static bool read_num(const char **s, const char *end, int *out, int maxdigits)
{
	int v = 0, n = 0;
	while (*s < end && isdigit((unsigned char)**s) && n < maxdigits) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	*out = v;
	return n > 0;
}

static bool valid_date(int y, int m, int d)
{
	return y >= 1980 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

bool ul_interp_parse_date(const char *s, size_t len, int *y, int *m, int *d)
{
	const char *p = s, *end = s + len;
	int a, b, c;
	if (!read_num(&p, end, &a, 4) || p >= end)
		return false;
	char sep = *p++;
	if (sep != '/' && sep != '.' && sep != '-')
		return false;
	if (!read_num(&p, end, &b, 2) || p >= end || *p++ != sep || !read_num(&p, end, &c, 4))
		return false;
	if (a > 31) { /* 2019/7/8: year first */
		*y = a, *m = b, *d = c;
	} else if (sep == '.') { /* 31.01.2022: day first */
		*y = c, *d = a, *m = b;
	} else if (a > 12) { /* 20/12/2024 */
		*y = c, *d = a, *m = b;
	} else { /* 7/18/2000, and ambiguous ones read the US way */
		*y = c, *m = a, *d = b;
	}
	if (*y < 100)
		*y += 2000;
	return valid_date(*y, *m, *d);
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void add_days(int *y, int *m, int *d, int days)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	while (days-- > 0) {
		int dim = mdays[*m - 1] + (*m == 2 && leap(*y));
		if (++*d > dim) {
			*d = 1;
			if (++*m > 12) {
				*m = 1;
				++*y;
			}
		}
	}
}

/* A time of day: seconds since midnight and milliseconds (-1 when absent). */
struct tod {
	int secs, ms;
};

/*
 * An AM/PM token at `p`: +1 for after noon, -1 for before, 0 when there is none. English
 * (`PM`), Spanish (`p. m.`, `a.m.`), Korean, Chinese and Japanese forms.
 */
static int meridiem(const char *p, const char *end)
{
	static const struct {
		const char *word;
		int half;
	} words[] = {
		{ "\xEC\x98\xA4\xED\x9B\x84", 1 },  /* 오후 */
		{ "\xEC\x98\xA4\xEC\xA0\x84", -1 }, /* 오전 */
		{ "\xE4\xB8\x8B\xE5\x8D\x88", 1 },  /* 下午 */
		{ "\xE4\xB8\x8A\xE5\x8D\x88", -1 }, /* 上午 */
		{ "\xE5\x8D\x88\xE5\xBE\x8C", 1 },  /* 午後 */
		{ "\xE5\x8D\x88\xE5\x89\x8D", -1 }, /* 午前 */
	};
	if (p + 1 < end) {
		char c = (char)(*p | 0x20), n = p[1];
		if ((c == 'p' || c == 'a') && (n == 'M' || n == 'm' || n == '.') &&
		    (p + 2 >= end || !isalnum((unsigned char)p[2])))
			return c == 'p' ? 1 : -1;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].word);
		if ((size_t)(end - p) >= n && memcmp(p, words[i].word, n) == 0)
			return words[i].half;
	}
	return 0;
}

/* H:MM:SS or HH:MM:SS, then optionally [:.]mmm. */
static bool parse_tod(const char *s, const char *end, struct tod *t)
{
	int h, m, sec, ms = -1;
	const char *p = s;
	if (!read_num(&p, end, &h, 2) || p >= end || *p++ != ':' || !read_num(&p, end, &m, 2) ||
	    p >= end || *p++ != ':' || !read_num(&p, end, &sec, 2))
		return false;
	if (p + 1 < end && (*p == ':' || *p == '.') && isdigit((unsigned char)p[1])) {
		p++;
		read_num(&p, end, &ms, 3);
	}
	/* 12-hour clocks: "10:36:52 PM", and as other locales write it ("02:54:03 p. m."). */
	int half = p < end && *p == ' ' ? meridiem(p + 1, end) : 0;
	if (half && h >= 1 && h <= 12)
		h = (h % 12) + (half > 0 ? 12 : 0);
	if (h > 23 || m > 59 || sec > 60)
		return false;
	t->secs = h * 3600 + m * 60 + sec;
	t->ms = ms;
	return true;
}

/*
 * Find a date and/or time near the start of a line: `MSI (s) (A0:EC) [14:22:31:234]:`,
 * `[1A24:1810][2016-02-08T00:08:24]`, `2016-02-08 00:08:24`, `06/30/2022 06:36:47`,
 * `18:04:48 Installation Succeeded`.
 */
static bool line_stamp(const char *s, size_t len, int *y, int *mo, int *d, struct tod *t)
{
	const char *end = s + (len < 64 ? len : 64);
	*y = 0;
	if (len > 8 && memcmp(s, "MSI (", 5) == 0) {
		const char *b = memchr(s, '[', (size_t)(end - s));
		return b && parse_tod(b + 1, end, t);
	}
	/* ctime(): "Mon Mar 14 21:40:03 2005" */
	if (len >= 24 && s[3] == ' ' && s[7] == ' ' && isupper((unsigned char)s[4])) {
		static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
		const char *mp = NULL;
		for (int k = 0; k < 12 && !mp; k++)
			if (memcmp(s + 4, months + 3 * k, 3) == 0)
				mp = months + 3 * k;
		const char *q = s + 8;
		int dd, yy;
		if (mp && (*q == ' ' ? (void)q++, true : true) && read_num(&q, end, &dd, 2) &&
		    q < end && *q == ' ' && parse_tod(q + 1, end, t) && q + 10 < end &&
		    q[9] == ' ') {
			const char *yp = q + 10;
			if (read_num(&yp, end, &yy, 4) &&
			    valid_date(yy, (int)(mp - months) / 3 + 1, dd)) {
				*y = yy, *mo = (int)(mp - months) / 3 + 1, *d = dd;
				return true;
			}
		}
	}
	for (const char *p = s; p + 8 <= end; p++) {
		if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1])))
			continue;
		/* YYYY-MM-DD[T ]HH:MM:SS */
		if (p + 19 <= end && p[4] == '-' && p[7] == '-' && (p[10] == 'T' || p[10] == ' ')) {
			const char *q = p;
			int yy, mm, dd;
			if (read_num(&q, end, &yy, 4) && *q++ == '-' && read_num(&q, end, &mm, 2) &&
			    *q++ == '-' && read_num(&q, end, &dd, 2) && valid_date(yy, mm, dd) &&
			    parse_tod(p + 11, end, t)) {
				*y = yy, *mo = mm, *d = dd;
				return true;
			}
		}
		/* InstallShield: M-D-YYYY[hh:mm:ss AM] */
		const char *q = p;
		int a, b, c;
		if (read_num(&q, end, &a, 2) && q < end && *q == '-' &&
		    (q++, read_num(&q, end, &b, 2)) && q < end && *q == '-' &&
		    (q++, read_num(&q, end, &c, 4)) && q < end && *q == '[' && c >= 1980 &&
		    valid_date(c, a, b) && parse_tod(q + 1, end, t)) {
			*y = c, *mo = a, *d = b;
			return true;
		}
		/* MM/DD/YYYY HH:MM:SS */
		q = p;
		if (read_num(&q, end, &a, 2) && q < end && *q == '/' &&
		    (q++, read_num(&q, end, &b, 2)) && q < end && *q == '/' &&
		    (q++, read_num(&q, end, &c, 4)) && q < end && *q == ' ' && c >= 1980 &&
		    valid_date(c, a, b) && parse_tod(q + 1, end, t)) {
			*y = c, *mo = a, *d = b;
			return true;
		}
		if (parse_tod(p, end, t))
			return true;
	}
	return false;
}

/* ---- the state machine ------------------------------------------------------------------- */

struct err {
	uint64_t line; /* 0 = none */
	uint32_t rule;
	enum ul_severity sev;
	bool ca_exit;
	char action[64];
	char ts[32];
};

struct frame {
	char name[64];
	uint64_t start;
	struct err first_err; /* line 0 = none yet */
};

struct pending {
	struct ul_finding f;
	uint64_t after_until; /* last line the after-context needs */
	uint64_t after_next;  /* next line to add below */
	size_t nbefore, nafter;
	struct ul_strbuf text, code, action, captures, before, after, title;
	char ts[32];
	bool has_ts;
};

struct ul_interp {
	const struct ul_catalog *cat;
	bool keep_noise;
	ul_family fam;
	enum ul_verdict_model model; /* the family's, from its declaration */
	uint32_t decides;            /* events that may decide the verdict */
	struct ul_interp_sink sink;

	/* tallies */
	struct ul_tally *tally; /* by rank */
	uint32_t *touched;
	size_t ntouched;
	struct ul_tally *out_tally;

	/* clock */
	int y, mo, d;
	bool have_date;
	int last_secs, last_ms, days;
	bool have_clock;

	/* MSI */
	struct frame stack[MAX_DEPTH];
	size_t depth;
	bool any_msi, rollback;
	uint64_t fail_line, fail_start;
	struct err fail_root; /* first error inside the failing action (line 0: none) */
	char fail_action[64];
	uint64_t cancel_line;
	bool has_final, product_failed, product_ok;
	long final_code;
	uint64_t status_line;
	/* other families */
	uint64_t sessions; /* session headers seen (log-start events) */
	uint64_t outcome_failed, outcome_ok, exit_line, bad_exit_line;
	bool has_exit_event;
	long exit_event, bad_exit;
	/* everyone */
	struct err errors[MAX_ERRORS];
	size_t nerrors;
	struct err last_err;  /* the latest eligible error before the failure */
	struct err first_cat; /* first eligible catastrophic finding (line 0: none) */
	struct ul_fact facts[UL_MAX_FACTS];
	size_t nfacts;
	bool reboot;
	char product[128], host[64], started[32];
	uint64_t line_count;

	/* findings in flight */
	struct pending *pend;
	size_t npend, pend_head;
	struct ul_strbuf tail[UL_CONTEXT]; /* last lines of the previous chunk */
	size_t ntail;
	bool sink_failed;
	struct ul_strbuf scratch;
};

struct ul_interp *ul_interp_create(const struct ul_catalog *cat, bool keep_noise)
{
	struct ul_interp *in = calloc(1, sizeof(*in));
	size_t n = ul_catalog_count(cat);
	if (!in)
		return NULL;
	in->cat = cat;
	in->keep_noise = keep_noise;
	in->tally = calloc(n ? n : 1, sizeof(*in->tally));
	in->touched = calloc(n ? n : 1, sizeof(*in->touched));
	in->out_tally = calloc(n ? n : 1, sizeof(*in->out_tally));
	in->pend = calloc(MAX_PENDING, sizeof(*in->pend));
	if (!in->tally || !in->touched || !in->out_tally || !in->pend) {
		ul_interp_destroy(in);
		return NULL;
	}
	return in;
}

static void pending_free(struct pending *p)
{
	ul_strbuf_free(&p->text);
	ul_strbuf_free(&p->code);
	ul_strbuf_free(&p->action);
	ul_strbuf_free(&p->captures);
	ul_strbuf_free(&p->before);
	ul_strbuf_free(&p->after);
	ul_strbuf_free(&p->title);
}

void ul_interp_destroy(struct ul_interp *in)
{
	if (!in)
		return;
	for (size_t i = 0; in->pend && i < MAX_PENDING; i++)
		pending_free(&in->pend[i]);
	for (size_t i = 0; i < UL_CONTEXT; i++)
		ul_strbuf_free(&in->tail[i]);
	ul_strbuf_free(&in->scratch);
	free(in->pend);
	free(in->tally);
	free(in->touched);
	free(in->out_tally);
	free(in);
}

void ul_interp_begin(struct ul_interp *in, ul_family fam, const struct ul_interp_sink *sink)
{
	for (size_t i = 0; i < in->ntouched; i++)
		memset(&in->tally[in->touched[i]], 0, sizeof(struct ul_tally));
	in->ntouched = 0;
	const struct ul_family_def *def = ul_catalog_family_def(in->cat, fam);
	in->fam = fam;
	in->model = def ? def->model : UL_MODEL_RUNS;
	in->decides = def ? def->decides : ~0u;
	in->sink = *sink;
	in->have_date = in->have_clock = false;
	in->days = in->last_secs = 0;
	in->depth = 0;
	in->any_msi = in->rollback = false;
	in->fail_line = in->fail_start = in->cancel_line = 0;
	memset(&in->fail_root, 0, sizeof(in->fail_root));
	in->nfacts = 0;
	in->fail_action[0] = '\0';
	in->has_final = in->product_failed = in->product_ok = false;
	in->status_line = 0;
	in->sessions = 0;
	in->outcome_failed = in->outcome_ok = in->exit_line = in->bad_exit_line = 0;
	in->has_exit_event = false;
	in->nerrors = 0;
	memset(&in->last_err, 0, sizeof(in->last_err));
	memset(&in->first_cat, 0, sizeof(in->first_cat));
	in->reboot = false;
	in->product[0] = in->host[0] = in->started[0] = '\0';
	in->line_count = 0;
	in->npend = in->pend_head = 0;
	in->ntail = 0;
	in->sink_failed = false;
}

const struct ul_tally *ul_interp_tallies(const struct ul_interp *in, size_t *n)
{
	*n = in->ntouched;
	return in->out_tally;
}

/* The n-th capture of a hit as (pointer, length); false when unset. */
static bool cap(const struct ul_hits *hits, const struct ul_hit *h, const char *line, int slot,
                const char **s, size_t *len)
{
	if (slot < 0 || h->caps < 0)
		return false;
	uint32_t a = hits->caps[h->caps + 2 * slot], b = hits->caps[h->caps + 2 * slot + 1];
	if (a == UL_CAP_UNSET)
		return false;
	*s = line + a;
	*len = b - a;
	return true;
}

static void copy_cap(char *dst, size_t cap_len, const char *s, size_t n)
{
	n = utf8_cut(s, n, cap_len - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static long parse_code(const char *s, size_t n, bool *ok)
{
	char buf[32];
	if (n == 0 || n >= sizeof(buf)) {
		*ok = false;
		return 0;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 0);
	if (*end == '\0' && (strncmp(buf, "0x", 2) == 0 || strncmp(buf, "0X", 2) == 0))
		v = (long)strtoul(buf, &end, 16);
	*ok = *end == '\0';
	return v;
}

static bool success_code(long code)
{
	return code == 0 || code == 3010 || code == 1641;
}

/* Findings that only repeat an outcome are never root causes. */
static bool eligible(const struct ul_rule *r)
{
	switch (r->event) {
	case UL_EV_ACTION_END:
	case UL_EV_ENGINE_RETURN:
	case UL_EV_SERVER_RETURN:
	case UL_EV_FINAL_STATUS:
	case UL_EV_PRODUCT_FAILED:
	case UL_EV_PRODUCT_OK:
	case UL_EV_SUMMARY:
	case UL_EV_EXIT_CODE:
	case UL_EV_OUTCOME_FAILED:
	case UL_EV_LOG_STOP:
		return false;
	default:
		return r->severity >= UL_SEV_ERROR;
	}
}

static void tick_clock(struct ul_interp *in, const struct tod *t)
{
	if (in->have_clock && t->secs + 12 * 3600 < in->last_secs)
		in->days++;
	in->last_secs = t->secs;
	in->last_ms = t->ms;
	in->have_clock = true;
}

/*
 * Timestamp of a hit line into ts (ISO), "" when the date is unknown. `near` is a time taken
 * from a neighbouring line (NULL when none); `ahead` says it came from below.
 */
static void stamp(struct ul_interp *in, const char *line, size_t len, const char *tcap, size_t tlen,
                  const struct tod *near, bool ahead, bool want, char ts[32])
{
	struct tod t;
	int y = 0, mo, d;
	bool ok = false;
	ts[0] = '\0';
	if (tcap && parse_tod(tcap, tcap + tlen, &t)) {
		ok = true;
	} else if (near && ahead) {
		/* A time from below dates this line only: the clock stays where it is. */
		if (!in->have_date)
			return;
		int days = in->days + (in->have_clock && near->secs + 12 * 3600 < in->last_secs);
		y = in->y, mo = in->mo, d = in->d;
		add_days(&y, &mo, &d, days);
		t = *near;
		goto format;
	} else if (near) {
		t = *near;
		ok = true;
	} else {
		ok = line_stamp(line, len, &y, &mo, &d, &t);
	}
	if (!ok) {
		/* A line without a time of its own happened at or after the last one that had. */
		if (!in->have_clock || !in->have_date)
			return;
		t.secs = in->last_secs;
		t.ms = in->last_ms;
		y = in->y, mo = in->mo, d = in->d;
		add_days(&y, &mo, &d, in->days);
	} else if (y) { /* the line carries its own date */
		in->y = y, in->mo = mo, in->d = d;
		in->have_date = true;
		in->days = 0;
		in->last_secs = t.secs;
		in->last_ms = t.ms;
		in->have_clock = true;
	} else {
		tick_clock(in, &t);
		if (!in->have_date)
			return;
		y = in->y, mo = in->mo, d = in->d;
		add_days(&y, &mo, &d, in->days);
	}
format:
	/* Only the clock moves for lines nobody shows; formatting is the costly part. */
	if (!want && in->started[0])
		return;
	int n = snprintf(ts, 32, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, t.secs / 3600,
	                 t.secs / 60 % 60, t.secs % 60);
	if (t.ms >= 0 && n > 0 && n < 28)
		snprintf(ts + n, (size_t)(32 - n), ".%03d", t.ms);
	if (!in->started[0])
		snprintf(in->started, sizeof(in->started), "%s", ts);
}

/*
 * A finding's line may carry no time (`Error 1920. ...` has no engine prefix, and Windows
 * Installer 2.0 lines have none at all). The nearest line of the chunk that has one, above or
 * below, is a better clock than the last event; a time from below only dates this line, the
 * clock does not move to it.
 */
static bool nearest_time(struct ul_interp *in, const struct ul_chunk *chunk, size_t idx,
                         struct tod *out, bool *ahead)
{
	struct tod t;
	int y, mo, d;
	const struct ul_line *l = &chunk->lines[idx];
	if (line_stamp(chunk->text + l->start, l->len, &y, &mo, &d, &t))
		return false; /* it has its own */
	for (size_t dist = 1; dist <= 64; dist++) {
		for (int dir = 0; dir < 2; dir++) {
			size_t k = dir ? idx + dist : idx - dist;
			if ((dir && k >= chunk->nlines) || (!dir && dist > idx))
				continue;
			l = &chunk->lines[k];
			if (!line_stamp(chunk->text + l->start, l->len, &y, &mo, &d, &t))
				continue;
			if (y && !dir) {
				in->y = y, in->mo = mo, in->d = d;
				in->have_date = true;
				in->days = 0;
				in->last_secs = t.secs;
				in->last_ms = t.ms;
				in->have_clock = true;
			}
			*out = t;
			*ahead = dir;
			return true;
		}
	}
	return false;
}

/* ---- findings and context ---------------------------------------------------------------- */

static bool add_context_line(struct ul_strbuf *b, size_t *count, const char *s, size_t n)
{
	n = utf8_cut(s, n, CONTEXT_LINE);
	if ((*count)++ && !ul_strbuf_add(b, "\n", 1))
		return false;
	return ul_strbuf_add(b, s, n);
}

static bool flush_head(struct ul_interp *in)
{
	struct pending *p = &in->pend[in->pend_head];
	/* Masked before the pointers are taken: masking may move the text. */
	sb_mask(&p->before);
	sb_mask(&p->after);
	/* A finding that lost part of its text to a failed allocation is not handed out. */
	if (p->text.oom || p->code.oom || p->action.oom || p->captures.oom || p->before.oom ||
	    p->after.oom || p->title.oom) {
		in->sink_failed = true;
		return false;
	}
	p->f.text = p->text.p ? p->text.p : "";
	p->f.code = p->code.len ? p->code.p : NULL;
	p->f.action = p->action.len ? p->action.p : NULL;
	p->f.captures = p->captures.len ? p->captures.p : NULL;
	p->f.before = p->nbefore ? p->before.p : NULL;
	p->f.after = p->nafter ? p->after.p : NULL;
	p->f.ts = p->has_ts ? p->ts : NULL;
	p->f.title = p->title.len ? p->title.p : NULL;
	bool ok = in->sink.finding(in->sink.ctx, &p->f);
	in->pend_head++;
	if (in->pend_head == in->npend)
		in->pend_head = in->npend = 0;
	if (!ok)
		in->sink_failed = true;
	return ok;
}

/* Hand out, in order, every finding whose lines below have all been seen. */
static bool flush_ready(struct ul_interp *in, uint64_t seen, bool all)
{
	while (in->pend_head < in->npend) {
		struct pending *p = &in->pend[in->pend_head];
		if (!all && p->after_until > seen)
			break;
		if (!flush_head(in))
			return false;
	}
	return true;
}

static void json_str(struct ul_strbuf *b, const char *s, size_t n)
{
	ul_strbuf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char buf[8];
		const char *esc = ul_json_escape((unsigned char)s[i], buf);
		if (esc)
			ul_strbuf_add(b, esc, strlen(esc));
		else
			ul_strbuf_add(b, s + i, 1);
	}
	ul_strbuf_add(b, "\"", 1);
}

static struct pending *new_pending(struct ul_interp *in)
{
	if (in->npend == MAX_PENDING) {
		/* A burst of findings: hand the oldest out with the context it has. */
		if (!flush_head(in))
			return NULL;
		if (in->pend_head > 0) {
			/* Compact: move live entries to the front, keep their buffers. */
			size_t live = in->npend - in->pend_head;
			for (size_t i = 0; i < live; i++) {
				struct pending tmp = in->pend[i];
				in->pend[i] = in->pend[in->pend_head + i];
				in->pend[in->pend_head + i] = tmp;
			}
			in->pend_head = 0;
			in->npend = live;
		}
	}
	struct pending *p = &in->pend[in->npend++];
	ul_strbuf_reset(&p->text);
	ul_strbuf_reset(&p->code);
	ul_strbuf_reset(&p->action);
	ul_strbuf_reset(&p->captures);
	ul_strbuf_reset(&p->before);
	ul_strbuf_reset(&p->after);
	ul_strbuf_reset(&p->title);
	p->nbefore = p->nafter = 0;
	p->has_ts = false;
	return p;
}

struct hitctx {
	const struct ul_chunk *chunk;
	const struct ul_hits *hits;
	const struct ul_hit *h;
	const struct ul_rule *r;
	const char *line;
	size_t len;
	uint64_t number, offset;
	const char *ts;
};

/*
 * A placeholder whose capture did not take part leaves nothing behind: no "?", no doubled
 * space, no empty brackets or quotes ("Service '' (?) failed" reads "Service failed").
 */
static void tidy_title(struct ul_strbuf *b)
{
	if (!b->p)
		return;
	static const char *const empty[] = { "''", "\"\"", "()", "[]" };
	char *s = b->p;
	bool again = true;
	while (again) {
		again = false;
		for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
			char *at = strstr(s, empty[i]);
			if (at) {
				memmove(at, at + 2, strlen(at + 2) + 1);
				again = true;
			}
		}
	}
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == ' ' && (o == 0 || s[o - 1] == ' '))
			continue;
		if (o > 0 && s[o - 1] == ' ' &&
		    (s[i] == ',' || s[i] == '.' || s[i] == ':' || s[i] == ';' || s[i] == ')'))
			o--;
		s[o++] = s[i];
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
	b->len = o;
}

/* The rule's title with {capture} placeholders filled in from this line. */
static void render_title(struct pending *p, const struct hitctx *c)
{
	const char *t = c->r->title;
	bool missing = false;
	while (*t) {
		const char *open = strchr(t, '{');
		if (!open) {
			ul_strbuf_add(&p->title, t, strlen(t));
			break;
		}
		ul_strbuf_add(&p->title, t, (size_t)(open - t));
		const char *close = strchr(open, '}');
		if (!close) {
			ul_strbuf_add(&p->title, open, strlen(open));
			break;
		}
		size_t n = (size_t)(close - open - 1);
		const char *s;
		size_t len;
		bool found = false;
		for (unsigned i = 0; i < c->r->ncaps && !found; i++)
			if (strlen(c->r->cap_names[i]) == n &&
			    memcmp(c->r->cap_names[i], open + 1, n) == 0 &&
			    cap(c->hits, c->h, c->line, (int)i, &s, &len)) {
				/* A capture may hold only a password: masked as part of its line. */
				char *m =
				        ul_mask_slice(c->line, c->len, (size_t)(s - c->line), len);
				if (m)
					ul_strbuf_add(&p->title, m, utf8_cut(m, strlen(m), 200));
				else
					p->title.oom = true;
				free(m);
				found = true;
			}
		missing = missing || !found;
		t = close + 1;
	}
	if (missing)
		tidy_title(&p->title);
	sb_mask(&p->title);
}

/* Add capture [s, s + n) of the line, masked as part of it, cut to `max` bytes. */
static void sb_add_masked(struct ul_strbuf *b, const struct hitctx *c, const char *s, size_t n,
                          size_t max)
{
	char *m = ul_mask_slice(c->line, c->len, (size_t)(s - c->line), n);
	if (!m) {
		b->oom = true;
		return;
	}
	ul_strbuf_add(b, m, utf8_cut(m, strlen(m), max));
	free(m);
}

static bool emit(struct ul_interp *in, const struct hitctx *c)
{
	struct pending *p = new_pending(in);
	if (!p)
		return false;
	const struct ul_rule *r = c->r;
	p->f.line = c->number;
	p->f.offset = c->offset;
	p->f.rule = c->h->rule;
	p->f.severity = r->severity;
	if (c->ts && c->ts[0]) {
		snprintf(p->ts, sizeof(p->ts), "%s", c->ts);
		p->has_ts = true;
	}
	/* The whole line is masked, then cut: a secret across the cut is still found. */
	char *masked = ul_mask_text(c->line, c->len);
	bool ok = masked && ul_strbuf_add(&p->text, masked,
	                                  utf8_cut(masked, strlen(masked), UL_FINDING_TEXT));
	free(masked);
	if (!ok)
		return false;

	const char *s;
	size_t n;
	/* Every capture is masked as part of its line (mask.h): it may hold only a password. */
	if (cap(c->hits, c->h, c->line, r->known[UL_CAP_CODE], &s, &n))
		sb_add_masked(&p->code, c, s, n, 64);
	else if (r->code)
		ul_strbuf_add(&p->code, r->code, strlen(r->code));
	if (cap(c->hits, c->h, c->line, r->known[UL_CAP_ACTION], &s, &n))
		sb_add_masked(&p->action, c, s, n, 128);
	else if (in->depth)
		ul_strbuf_add(&p->action, in->stack[in->depth - 1].name,
		              strlen(in->stack[in->depth - 1].name));
	if (r->ncaps && c->h->caps >= 0) {
		ul_strbuf_add(&p->captures, "{", 1);
		bool first = true;
		for (unsigned i = 0; i < r->ncaps; i++) {
			if (!cap(c->hits, c->h, c->line, (int)i, &s, &n))
				continue;
			if (!first)
				ul_strbuf_add(&p->captures, ",", 1);
			first = false;
			json_str(&p->captures, r->cap_names[i], strlen(r->cap_names[i]));
			ul_strbuf_add(&p->captures, ":", 1);
			char *m = ul_mask_slice(c->line, c->len, (size_t)(s - c->line), n);
			if (!m)
				return false;
			json_str(&p->captures, m, utf8_cut(m, strlen(m), 512));
			free(m);
		}
		ul_strbuf_add(&p->captures, "}", 1);
		if (first)
			ul_strbuf_reset(&p->captures);
	}

	render_title(p, c);
	p->after_until = c->number;
	p->after_next = c->number + 1;
	/* Warnings too: a root cause may be one (the user's cancel, a cancelled action). */
	if (r->severity >= UL_SEV_WARNING) {
		/* Lines above: from this chunk, then from the tail of the previous one. */
		size_t idx = c->h->line, want = UL_CONTEXT;
		size_t from_chunk = idx < want ? idx : want;
		size_t from_tail = want - from_chunk;
		if (from_tail > in->ntail)
			from_tail = in->ntail;
		for (size_t k = in->ntail - from_tail; k < in->ntail; k++) {
			if (in->tail[k].oom || !in->tail[k].p) {
				p->before.oom = true; /* that line was not kept */
				continue;
			}
			add_context_line(&p->before, &p->nbefore, in->tail[k].p, in->tail[k].len);
		}
		for (size_t k = idx - from_chunk; k < idx; k++) {
			const struct ul_line *l = &c->chunk->lines[k];
			add_context_line(&p->before, &p->nbefore, c->chunk->text + l->start,
			                 l->len);
		}
		p->after_until = c->number + UL_CONTEXT;
	}
	return true;
}

/* Lines of this chunk below pending findings. */
static void fill_after(struct ul_interp *in, const struct ul_chunk *chunk, uint64_t first_line)
{
	uint64_t end = first_line + chunk->nlines;
	for (size_t i = in->pend_head; i < in->npend; i++) {
		struct pending *p = &in->pend[i];
		for (; p->after_next <= p->after_until; p->after_next++) {
			if (p->after_next < first_line || p->after_next >= end)
				break;
			const struct ul_line *l = &chunk->lines[p->after_next - first_line];
			add_context_line(&p->after, &p->nafter, chunk->text + l->start, l->len);
		}
	}
}

static void keep_tail(struct ul_interp *in, const struct ul_chunk *chunk)
{
	size_t n = chunk->nlines < UL_CONTEXT ? chunk->nlines : UL_CONTEXT;
	if (n < UL_CONTEXT) {
		/* Short chunk: slide the old tail up. */
		size_t keep = in->ntail + n > UL_CONTEXT ? UL_CONTEXT - n : in->ntail;
		for (size_t k = 0; k < keep; k++) {
			struct ul_strbuf tmp = in->tail[k];
			in->tail[k] = in->tail[in->ntail - keep + k];
			in->tail[in->ntail - keep + k] = tmp;
		}
		in->ntail = keep;
	} else {
		in->ntail = 0;
	}
	for (size_t k = chunk->nlines - n; k < chunk->nlines; k++) {
		const struct ul_line *l = &chunk->lines[k];
		struct ul_strbuf *b = &in->tail[in->ntail++];
		ul_strbuf_reset(b);
		ul_strbuf_add(b, chunk->text + l->start,
		              utf8_cut(chunk->text + l->start, l->len, CONTEXT_LINE));
	}
}

/* ---- events ------------------------------------------------------------------------------ */

static void note_error(struct ul_interp *in, const struct hitctx *c, const char *action)
{
	const struct ul_rule *r = c->r;
	struct err e = { .line = c->number,
		         .rule = c->h->rule,
		         .sev = r->severity,
		         .ca_exit = r->event == UL_EV_CA_EXIT };
	snprintf(e.action, sizeof(e.action), "%s", action ? action : "");
	snprintf(e.ts, sizeof(e.ts), "%s", c->ts ? c->ts : "");
	if (in->nerrors < MAX_ERRORS)
		in->errors[in->nerrors++] = e;
	if (!in->fail_line)
		in->last_err = e;
	if (r->severity == UL_SEV_CATASTROPHIC && !in->first_cat.line)
		in->first_cat = e;
	for (size_t i = 0; i < in->depth; i++)
		if (!in->stack[i].first_err.line)
			in->stack[i].first_err = e;
}

static void on_action_start(struct ul_interp *in, const char *name, size_t n, uint64_t line)
{
	if (in->depth == MAX_DEPTH)
		memmove(in->stack, in->stack + 1, sizeof(in->stack[0]) * (MAX_DEPTH - 1)),
		        in->depth--;
	struct frame *f = &in->stack[in->depth++];
	copy_cap(f->name, sizeof(f->name), name, n);
	f->start = line;
	memset(&f->first_err, 0, sizeof(f->first_err));
}

static void on_action_end(struct ul_interp *in, const char *name, size_t n, long rv, uint64_t line)
{
	char nm[64];
	copy_cap(nm, sizeof(nm), name, n);
	uint64_t start = 0;
	struct err first_err = { 0 };
	for (size_t i = in->depth; i-- > 0;) {
		if (strcmp(in->stack[i].name, nm) == 0) {
			start = in->stack[i].start;
			first_err = in->stack[i].first_err;
			in->depth = i;
			break;
		}
	}
	if (rv == 2 && !in->cancel_line)
		in->cancel_line = line;
	if (rv != 3 || in->rollback || in->fail_line)
		return;
	in->fail_line = line;
	in->fail_start = start;
	in->fail_root = first_err;
	snprintf(in->fail_action, sizeof(in->fail_action), "%s", nm);
}

/* Every named capture of a `fact` rule other than the engine's own is a fact: first one wins. */
static void note_facts(struct ul_interp *in, const struct hitctx *c)
{
	const struct ul_rule *r = c->r;
	for (unsigned i = 0; i < r->ncaps; i++) {
		bool known = false;
		for (int k = 0; k < UL_CAP_KNOWN; k++)
			known = known || r->known[k] == (int)i;
		const char *s;
		size_t n;
		if (known || !cap(c->hits, c->h, c->line, (int)i, &s, &n) || n == 0)
			continue;
		bool seen = false;
		for (size_t k = 0; k < in->nfacts && !seen; k++)
			seen = strcmp(in->facts[k].key, r->cap_names[i]) == 0;
		if (seen || in->nfacts == UL_MAX_FACTS)
			continue;
		struct ul_fact *f = &in->facts[in->nfacts++];
		snprintf(f->key, sizeof(f->key), "%s", r->cap_names[i]);
		/* A fact is log text like any other: masked as part of its line (mask.h). */
		char *m = ul_mask_slice(c->line, c->len, (size_t)(s - c->line), n);
		if (m) {
			copy_cap(f->value, sizeof(f->value), m, strlen(m));
			free(m);
		} else {
			copy_cap(f->value, sizeof(f->value), s, n);
			ul_mask_inplace(f->value); /* never grows: needs no memory */
		}
		f->line = c->number;
		snprintf(f->ts, sizeof(f->ts), "%s", c->ts ? c->ts : "");
	}
}

/*
 * Families whose logs append one session after another (InstallShield writes every run of
 * setup.exe into the same file): the last session alone decides the verdict, so a new
 * session header forgets the outcome of the one before. Its findings are already stored.
 */
static bool last_session_decides(const struct ul_interp *in)
{
	return in->model == UL_MODEL_SESSIONS;
}

/*
 * Events that say how the install ended count only where the family's declaration lets them
 * decide (`decides`): an Inno Setup log's `ResultCode=0` is a script's text, not an outcome.
 * The structure of a log (sessions, actions, rollback) is always followed.
 */
static bool may_decide(const struct ul_interp *in, enum ul_event e)
{
	switch (e) {
	case UL_EV_ENGINE_RETURN:
	case UL_EV_FINAL_STATUS:
	case UL_EV_PRODUCT_FAILED:
	case UL_EV_PRODUCT_OK:
	case UL_EV_EXIT_CODE:
	case UL_EV_OUTCOME_FAILED:
	case UL_EV_OUTCOME_OK:
	case UL_EV_REBOOT:
	case UL_EV_USER_CANCEL:
		return (in->decides >> e) & 1;
	default:
		return true;
	}
}

/*
 * A product status line written while an ordinary action runs belongs to a session nested in
 * that action: the removal of the old version inside RemoveExistingProducts during a major
 * upgrade, or a custom action's nested installation. Its "Removal completed successfully" says
 * nothing of the session this log is about (a log cut after it has not finished). The session's
 * own line comes when only the top-level actions (INSTALL, ADMIN, ADVERTISE, the client's
 * ExecuteAction) are open, or none.
 */
static bool in_nested_session(const struct ul_interp *in)
{
	static const char *const top[] = { "INSTALL", "ADMIN", "ADVERTISE", "ExecuteAction" };
	for (size_t i = 0; i < in->depth; i++) {
		bool is_top = false;
		for (size_t k = 0; k < sizeof(top) / sizeof(top[0]) && !is_top; k++)
			is_top = strcmp(in->stack[i].name, top[k]) == 0;
		if (!is_top)
			return true;
	}
	return false;
}

static void new_session(struct ul_interp *in)
{
	in->sessions++;
	if (!last_session_decides(in))
		return;
	in->outcome_failed = in->outcome_ok = in->exit_line = in->bad_exit_line = 0;
	in->has_exit_event = in->has_final = false;
	in->status_line = in->cancel_line = 0;
	in->nerrors = 0;
	memset(&in->last_err, 0, sizeof(in->last_err));
	memset(&in->first_cat, 0, sizeof(in->first_cat));
	in->reboot = false;
}

static void handle_event(struct ul_interp *in, const struct hitctx *c)
{
	const struct ul_rule *r = c->r;
	const char *s = NULL, *a = NULL;
	size_t n = 0, an = 0;
	bool have_code = cap(c->hits, c->h, c->line, r->known[UL_CAP_CODE], &s, &n);
	long code = 0;
	bool ok = false;
	if (have_code)
		code = parse_code(s, n, &ok);
	else if (r->code)
		code = parse_code(r->code, strlen(r->code), &ok);
	bool have_action = cap(c->hits, c->h, c->line, r->known[UL_CAP_ACTION], &a, &an);
	const char *ps;
	size_t pn;
	if (cap(c->hits, c->h, c->line, r->known[UL_CAP_PRODUCT], &ps, &pn) && !in->product[0])
		copy_cap(in->product, sizeof(in->product), ps, pn);
	for (unsigned i = 0; i < r->ncaps; i++)
		if (strcmp(r->cap_names[i], "host") == 0 && !in->host[0] &&
		    cap(c->hits, c->h, c->line, (int)i, &ps, &pn))
			copy_cap(in->host, sizeof(in->host), ps, pn);

	switch (r->event) {
	case UL_EV_LOG_START:
		in->any_msi = true;
		new_session(in);
		if (cap(c->hits, c->h, c->line, r->known[UL_CAP_DATE], &s, &n) && !in->have_date) {
			int y, m, d;
			if (ul_interp_parse_date(s, n, &y, &m, &d)) {
				in->y = y, in->mo = m, in->d = d;
				in->have_date = true;
				in->days = 0;
				in->have_clock = false;
			}
		}
		break;
	case UL_EV_ACTION_START:
	case UL_EV_ACTION_INFO:
		in->any_msi = true;
		if (have_action && r->event == UL_EV_ACTION_START)
			on_action_start(in, a, an, c->number);
		break;
	case UL_EV_ACTION_END: {
		in->any_msi = true;
		const char *rs;
		size_t rn;
		bool rok = false;
		long rv = cap(c->hits, c->h, c->line, r->known[UL_CAP_RV], &rs, &rn)
		                  ? parse_code(rs, rn, &rok)
		                  : -1;
		if (have_action && rok)
			on_action_end(in, a, an, rv, c->number);
		break;
	}
	case UL_EV_ROLLBACK:
		in->rollback = true;
		break;
	case UL_EV_ENGINE_RETURN:
	case UL_EV_FINAL_STATUS:
		/* The last final line in the file speaks for the session. */
		if (ok) {
			in->has_final = true;
			in->final_code = code;
			in->status_line = c->number;
		}
		break;
	case UL_EV_PRODUCT_FAILED:
		if (!in_nested_session(in))
			in->product_failed = true;
		break;
	case UL_EV_PRODUCT_OK:
		if (!in_nested_session(in))
			in->product_ok = true;
		break;
	case UL_EV_EXIT_CODE:
		if (ok) {
			in->has_exit_event = true;
			in->exit_event = code;
			in->exit_line = c->number;
			if (!success_code(code) && !in->bad_exit_line) {
				in->bad_exit = code;
				in->bad_exit_line = c->number;
			}
		}
		break;
	case UL_EV_OUTCOME_FAILED:
		if (!in->outcome_failed)
			in->outcome_failed = c->number;
		break;
	case UL_EV_OUTCOME_OK:
		in->outcome_ok = c->number;
		break;
	case UL_EV_REBOOT:
		in->reboot = true;
		break;
	case UL_EV_FACT:
		note_facts(in, c);
		break;
	case UL_EV_USER_CANCEL:
		if (!in->cancel_line)
			in->cancel_line = c->number;
		break;
	case UL_EV_SERVER_RETURN:
	case UL_EV_CA_EXIT:
	case UL_EV_LOG_STOP:
	case UL_EV_SUMMARY:
	case UL_EV_NONE:
		break;
	}
}

/*
 * A log whose only date is on a line no rule takes ("03/19/2005 20:05:00 DBInstall started")
 * still dates its lines: the first dated line of the chunk gives the date (not the clock).
 */
static void learn_date(struct ul_interp *in, const struct ul_chunk *chunk)
{
	size_t n = chunk->nlines < 200 ? chunk->nlines : 200;
	for (size_t k = 0; k < n; k++) {
		const struct ul_line *l = &chunk->lines[k];
		struct tod t;
		int y, mo, d;
		if (line_stamp(chunk->text + l->start, l->len, &y, &mo, &d, &t) && y) {
			in->y = y, in->mo = mo, in->d = d;
			in->have_date = true;
			in->days = 0;
			return;
		}
	}
}

static void tally(struct ul_interp *in, uint32_t rank, uint64_t line)
{
	struct ul_tally *t = &in->tally[rank];
	if (t->count++ == 0) {
		t->rule = rank;
		t->first_line = line;
		in->touched[in->ntouched++] = rank;
	}
	t->last_line = line;
}

bool ul_interp_chunk(struct ul_interp *in, const struct ul_chunk *chunk, uint64_t first_line,
                     uint64_t raw_base, const struct ul_hits *hits)
{
	if (in->sink_failed)
		return false;
	if (!in->have_date)
		learn_date(in, chunk);
	for (size_t i = 0; i < hits->n; i++) {
		const struct ul_hit *h = &hits->v[i];
		const struct ul_line *l = &chunk->lines[h->line];
		struct hitctx c = {
			.chunk = chunk,
			.hits = hits,
			.h = h,
			.r = ul_catalog_rule(in->cat, h->rule),
			.line = chunk->text + l->start,
			.len = l->len,
			.number = first_line + h->line,
			.offset = raw_base + l->raw,
		};
		tally(in, h->rule, c.number);
		if (ul_rule_counted_only(c.r) && !in->keep_noise)
			continue;
		bool keep = c.r->severity > UL_SEV_NOISE || in->keep_noise;
		char ts[32] = "";
		const char *tcap = NULL;
		size_t tlen = 0;
		cap(hits, h, c.line, c.r->known[UL_CAP_TIME], &tcap, &tlen);
		struct tod near;
		bool ahead = false;
		bool have_near = keep && !tcap && nearest_time(in, chunk, h->line, &near, &ahead);
		stamp(in, c.line, c.len, tcap, tlen, have_near ? &near : NULL, ahead,
		      keep || eligible(c.r) || c.r->event == UL_EV_FACT, ts);
		c.ts = ts;
		if (c.r->event != UL_EV_NONE && may_decide(in, c.r->event))
			handle_event(in, &c);
		if (eligible(c.r)) {
			const char *act = NULL;
			size_t an;
			char abuf[64];
			if (cap(hits, h, c.line, c.r->known[UL_CAP_ACTION], &act, &an)) {
				copy_cap(abuf, sizeof(abuf), act, an);
				act = abuf;
			} else if (in->depth) {
				act = in->stack[in->depth - 1].name;
			}
			note_error(in, &c, act);
		}
		if (keep && !emit(in, &c))
			return false;
	}
	/* Findings of this chunk and the one before take their lines below from here. */
	fill_after(in, chunk, first_line);
	in->line_count = first_line + chunk->nlines - 1;
	if (!flush_ready(in, in->line_count, false))
		return false;
	keep_tail(in, chunk);
	return true;
}

/* ---- verdict ----------------------------------------------------------------------------- */

static const struct err *find_error(const struct ul_interp *in, uint64_t line)
{
	for (size_t i = 0; i < in->nerrors; i++)
		if (in->errors[i].line == line)
			return &in->errors[i];
	/* Beyond the first MAX_ERRORS: the ones remembered on their own. */
	const struct err *kept[] = { &in->last_err, &in->first_cat, &in->fail_root };
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (kept[i]->line == line)
			return kept[i];
	return NULL;
}

static void add_candidate(struct ul_verdict *v, uint64_t line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void add_candidate(struct ul_verdict *v, uint64_t line, const char *fmt, ...)
{
	if (!line || v->ncandidates == 3)
		return;
	for (size_t i = 0; i < v->ncandidates; i++)
		if (v->candidates[i].line == line)
			return;
	struct ul_candidate *c = &v->candidates[v->ncandidates++];
	c->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

static const char *rule_id(const struct ul_interp *in, uint32_t rank)
{
	return ul_catalog_rule(in->cat, rank)->id;
}

static void msi_verdict(struct ul_interp *in, struct ul_verdict *v)
{
	long code = in->final_code;
	if (in->has_final) {
		v->has_exit = true;
		v->exit_code = code;
		if (success_code(code)) {
			v->outcome = UL_OUT_SUCCEEDED;
			v->reboot = v->reboot || code != 0;
			snprintf(v->reason, sizeof(v->reason), "the installer returned %ld%s", code,
			         code == 3010   ? " (success, restart required)"
			         : code == 1641 ? " (success, restart started)"
			                        : "");
		} else {
			v->outcome = UL_OUT_FAILED;
			snprintf(v->reason, sizeof(v->reason), "the installer returned %ld", code);
		}
	} else if (in->product_failed) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason), "the product status line says it failed");
	} else if (in->product_ok) {
		v->outcome = UL_OUT_SUCCEEDED;
		snprintf(v->reason, sizeof(v->reason), "the product status line says it succeeded");
	} else if (in->fail_line) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason),
		         "action %s returned 3; the log ends before "
		         "the final status",
		         in->fail_action);
	} else if (in->first_cat.line) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason), "a fatal error (%s) and no final status",
		         rule_id(in, in->first_cat.rule));
	} else if (in->any_msi) {
		v->outcome = UL_OUT_INCOMPLETE;
		snprintf(v->reason, sizeof(v->reason),
		         "the log ends before the installer finished");
	} else {
		v->outcome = UL_OUT_UNKNOWN;
		snprintf(v->reason, sizeof(v->reason), "no installer session found");
	}
}

/*
 * Setup and vendor logs are often appended to run after run (a failed step, then its
 * rollback that "succeeds"): one failed run is enough to call the file failed.
 */
static void other_verdict(struct ul_interp *in, struct ul_verdict *v)
{
	if (in->bad_exit_line) {
		v->has_exit = true;
		v->exit_code = in->bad_exit;
		v->outcome = UL_OUT_FAILED;
		if (in->exit_event != in->bad_exit)
			snprintf(v->reason, sizeof(v->reason),
			         "a run of the setup failed with exit code %ld (line %llu); the "
			         "last "
			         "run logged exited with %ld",
			         in->bad_exit, (unsigned long long)in->bad_exit_line,
			         in->exit_event);
		else
			snprintf(v->reason, sizeof(v->reason), "the setup exited with %ld",
			         in->bad_exit);
	} else if (in->outcome_failed) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason), "the log says the setup failed");
	} else if (in->cancel_line && !in->outcome_ok) {
		v->outcome = UL_OUTCOME_CANCELLED;
		snprintf(v->reason, sizeof(v->reason), "the user cancelled the setup");
	} else if (in->has_exit_event) {
		v->has_exit = true;
		v->exit_code = in->exit_event;
		v->outcome = UL_OUT_SUCCEEDED;
		v->reboot = v->reboot || in->exit_event != 0;
		snprintf(v->reason, sizeof(v->reason), "the setup exited with %ld", in->exit_event);
	} else if (in->outcome_ok) {
		v->outcome = UL_OUT_SUCCEEDED;
		snprintf(v->reason, sizeof(v->reason), "the log says the setup succeeded");
	} else if (in->first_cat.line) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason), "a fatal error (%s) and no final status",
		         rule_id(in, in->first_cat.rule));
	} else {
		v->outcome = UL_OUT_UNKNOWN;
		snprintf(v->reason, sizeof(v->reason), "nothing in the log says how it ended");
	}
}

/* An exit or final status code of a setup: 0, 3010, 1641 succeed, 1602 is a user cancel. */
static void setup_code_verdict(struct ul_verdict *v, long code, const char *what, const char *where)
{
	v->has_exit = true;
	v->exit_code = code;
	v->outcome = success_code(code) ? UL_OUT_SUCCEEDED
	             : code == 1602     ? UL_OUTCOME_CANCELLED
	                                : UL_OUT_FAILED;
	v->reboot = v->reboot || code == 3010 || code == 1641;
	snprintf(v->reason, sizeof(v->reason), "%s%s %ld (0x%lX)%s", where, what, code,
	         (unsigned long)code & 0xFFFFFFFFul,
	         code == 1602   ? ": the user cancelled"
	         : code == 3010 ? ": success, restart required"
	                        : "");
}

/* InstallShield and other appended logs: the last session decides (see new_session). */
static void session_verdict(struct ul_interp *in, struct ul_verdict *v)
{
	char where[64] = "";
	if (in->sessions > 1)
		snprintf(where, sizeof(where),
		         "the last of %llu sessions: ", (unsigned long long)in->sessions);
	if (in->has_final) {
		setup_code_verdict(v, in->final_code, "final exit status", where);
	} else if (in->has_exit_event) {
		setup_code_verdict(v, in->exit_event, "setup returned", where);
	} else if (in->outcome_failed) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason), "%sthe log says the setup failed", where);
	} else if (in->cancel_line) {
		v->outcome = UL_OUTCOME_CANCELLED;
		snprintf(v->reason, sizeof(v->reason), "%sthe user cancelled the setup", where);
	} else if (in->outcome_ok) {
		v->outcome = UL_OUT_SUCCEEDED;
		snprintf(v->reason, sizeof(v->reason), "%sthe log says the setup succeeded", where);
	} else if (in->first_cat.line) {
		v->outcome = UL_OUT_FAILED;
		snprintf(v->reason, sizeof(v->reason), "%sa fatal error (%s) and no exit status",
		         where, rule_id(in, in->first_cat.rule));
	} else if (in->sessions) {
		v->outcome = UL_OUT_INCOMPLETE;
		snprintf(v->reason, sizeof(v->reason),
		         "%sthe log ends before the setup's exit status", where);
	} else {
		v->outcome = UL_OUT_UNKNOWN;
		snprintf(v->reason, sizeof(v->reason), "nothing in the log says how it ended");
	}
}

static void choose_root(struct ul_interp *in, struct ul_verdict *v)
{
	/* A cancelled setup: the user's answer is the cause, errors after it are its echo. */
	if (v->outcome == UL_OUTCOME_CANCELLED)
		add_candidate(v, in->cancel_line, "the user cancelled the setup");
	if (in->fail_line) {
		snprintf(v->action, sizeof(v->action), "%s", in->fail_action);
		if (in->fail_root.line)
			add_candidate(v, in->fail_root.line,
			              "first error inside the failing action %s (%s)",
			              in->fail_action, rule_id(in, in->fail_root.rule));
		/* A custom action's exit code inside the failing action names the program. */
		for (size_t i = 0; i < in->nerrors; i++) {
			const struct err *e = &in->errors[i];
			if (e->ca_exit && e->line >= in->fail_start && e->line < in->fail_line)
				add_candidate(v, e->line, "custom action %s failed inside %s",
				              e->action, in->fail_action);
		}
		if (in->last_err.line && in->last_err.line < in->fail_line)
			add_candidate(v, in->last_err.line,
			              "last error before action %s returned 3 (%s)",
			              in->fail_action, rule_id(in, in->last_err.rule));
		for (size_t i = 0; i < in->nerrors; i++) {
			const struct err *e = &in->errors[i];
			if (e->line >= in->fail_start && e->line < in->fail_line)
				add_candidate(v, e->line, "error inside the failing action %s (%s)",
				              in->fail_action, rule_id(in, e->rule));
		}
		add_candidate(v, in->fail_line, "action %s returned 3 (fatal)", in->fail_action);
	} else {
		/* No action returned 3: the first real error in the file is the best pointer. */
		if (in->nerrors)
			add_candidate(v, in->errors[0].line, "first error in the log (%s)",
			              rule_id(in, in->errors[0].rule));
		if (in->first_cat.line)
			add_candidate(v, in->first_cat.line, "first fatal error in the log (%s)",
			              rule_id(in, in->first_cat.rule));
		for (size_t i = 1; i < in->nerrors; i++)
			add_candidate(v, in->errors[i].line, "error in the log (%s)",
			              rule_id(in, in->errors[i].rule));
		if (in->cancel_line)
			add_candidate(v, in->cancel_line, "the user cancelled the installation");
		if (in->outcome_failed)
			add_candidate(v, in->outcome_failed, "the log says the setup failed");
		if (in->bad_exit_line)
			add_candidate(v, in->bad_exit_line, "the setup's exit code");
		add_candidate(v, in->status_line, "the installer's final status");
	}
	if (v->ncandidates)
		v->root_line = v->candidates[0].line;
}

/* The clock where the file ended: its last time of day on the date it had reached. */
static void finished_ts(const struct ul_interp *in, char ts[32])
{
	ts[0] = '\0';
	if (!in->have_date || !in->have_clock)
		return;
	int y = in->y, mo = in->mo, d = in->d;
	add_days(&y, &mo, &d, in->days);
	snprintf(ts, 32, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, in->last_secs / 3600,
	         in->last_secs / 60 % 60, in->last_secs % 60);
}

bool ul_interp_end(struct ul_interp *in, struct ul_verdict *v)
{
	memset(v, 0, sizeof(*v));
	bool ok = !in->sink_failed && flush_ready(in, UINT64_MAX, true);
	v->reboot = in->reboot;
	if (in->model == UL_MODEL_MSI)
		msi_verdict(in, v);
	else if (last_session_decides(in))
		session_verdict(in, v);
	else
		other_verdict(in, v);
	if (v->outcome == UL_OUT_FAILED || v->outcome == UL_OUTCOME_CANCELLED)
		choose_root(in, v);
	snprintf(v->product, sizeof(v->product), "%s", in->product);
	snprintf(v->host, sizeof(v->host), "%s", in->host);
	snprintf(v->started, sizeof(v->started), "%s", in->started);
	const struct err *root = v->root_line ? find_error(in, v->root_line) : NULL;
	snprintf(v->failed_at, sizeof(v->failed_at), "%s", root ? root->ts : "");
	finished_ts(in, v->finished);
	memcpy(v->facts, in->facts, sizeof(in->facts[0]) * in->nfacts);
	v->nfacts = in->nfacts;

	/* Tallies in rank order. */
	size_t n = 0;
	for (size_t i = 0; i < in->ntouched; i++)
		in->out_tally[n++] = in->tally[in->touched[i]];
	for (size_t i = 1; i < n; i++) {
		struct ul_tally t = in->out_tally[i];
		size_t j = i;
		for (; j > 0 && in->out_tally[j - 1].rule > t.rule; j--)
			in->out_tally[j] = in->out_tally[j - 1];
		in->out_tally[j] = t;
	}
	return ok;
}
