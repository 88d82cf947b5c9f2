/* SPDX-License-Identifier: MIT */
/* scan: the pipeline. See include/upglog/scan.h. */
#include "upglog/scan.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "upglog/classify.h"
#include "upglog/cluster.h"
#include "upglog/decode.h"
#include "upglog/hash.h"
#include "upglog/interpret.h"

#define BLOCK       (512u << 10) /* raw bytes per block handed to a worker */
#define SNIFF_BYTES (16u << 10)  /* bytes decoded up front to decide the family */

enum task_kind {
	T_SOURCE_BEGIN,
	T_SOURCE_END,
	T_FILE_BEGIN,
	T_BLOCK,
	T_FILE_END,
	T_FILE_FAILED,
	T_KEEP,
};

/* One unit of work in the ordered queue. Strings are owned by the task. */
struct task {
	enum task_kind kind;
	bool done; /* guarded by the pool mutex */
	/* T_BLOCK: input */
	unsigned char *raw;
	size_t len;
	unsigned flags;
	uint64_t raw_base;
	enum ul_encoding enc;
	ul_family fam;
	/* T_BLOCK: results */
	struct ul_chunk chunk;
	struct ul_hits hits;
	uint64_t hash;
	bool ok;
	struct ul_error err;
	/* files and sources */
	char *path;
	const char *kind_word; /* static string */
	int64_t size, mtime;
	enum ul_location loc;
	bool renamed, unchanged, complete;
	char known_hash[17];
	char status[24];
	char *message;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct task *slots;
	size_t q;
	uint64_t head, tail, claim;
	bool stop;
	pthread_t *threads;
	unsigned nthreads;
	const struct ul_catalog *cat;
	const struct ul_classifier *proto; /* the reading thread's: workers share its prefilter */
	size_t max_line;
	bool all_caps, prefilter;
	bool failed;
	struct ul_error err;
};

/* What the consumer knows about the file being stored. */
struct file_state {
	bool open;
	int64_t file_id;
	struct ul_file_row row;
	char *path;
	enum ul_encoding enc;
	ul_family fam;
	struct ul_hash hash;
	uint64_t fallback;
	char known_hash[17];
	bool store_failed;
};

struct scan {
	struct ul_store *st;
	const struct ul_catalog *cat;
	const struct ul_scan_opts *opts;
	int64_t scan_id;
	struct pool pool;
	struct ul_classifier *inline_cl;
	struct ul_interp *interp;
	struct ul_scan_stats stats;
	struct ul_error err;
	bool fatal;
	/* consumer */
	int64_t source_id;
	char *source_path; /* as stored: "stdin:LABEL" for a labelled standard input */
	bool source_clean;
	struct file_state file;
	struct timespec started, last_progress;
	/* progress through the inputs: the one being read, and the sizes of those done */
	const struct ul_source *cur_src;
	uint64_t inputs_done;
	/* producer */
	unsigned char *rb;
	size_t rb_len;
	struct ul_chunk sniff;
};

static double since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* ---- workers ------------------------------------------------------------------------------- */

static void process_block(struct pool *p, struct task *t, struct ul_classifier *cl)
{
	t->ok = ul_decode_block(t->enc, t->raw, t->len, p->max_line, t->flags, &t->chunk);
	if (!t->ok) {
		ul_error_set(&t->err, "memory", "out of memory decoding lines");
		return;
	}
	t->hash = ul_hash_bytes(t->raw, t->len);
	t->ok = ul_classify_chunk(cl, t->fam, &t->chunk, p->all_caps, &t->hits, &t->err);
}

/*
 * With the pool locked: claim the oldest block no thread has claimed, or NULL when none is
 * queued. Tasks below the tail were consumed without a worker (only blocks need one) and their
 * slots may already hold newer tasks: they are never claimed.
 */
static struct task *claim_block(struct pool *p)
{
	if (p->claim < p->tail)
		p->claim = p->tail;
	while (p->claim < p->head) {
		struct task *t = &p->slots[p->claim++ % p->q];
		if (t->kind == T_BLOCK)
			return t;
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct ul_error err;
	struct ul_classifier *cl = ul_classifier_share(p->proto, &err);

	pthread_mutex_lock(&p->mu);
	if (!cl) {
		p->failed = true;
		p->err = err;
	}
	for (;;) {
		struct task *t = claim_block(p);
		if (!t) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		if (cl) {
			process_block(p, t, cl);
		} else {
			t->ok = false;
			t->err = err;
		}
		pthread_mutex_lock(&p->mu);
		t->done = true;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	ul_classifier_destroy(cl);
	return NULL;
}

/* ---- consumer: results back in order ------------------------------------------------------- */

static bool on_finding(void *ctx, const struct ul_finding *f)
{
	struct scan *s = ctx;
	if (!ul_store_finding(s->st, s->file.file_id, s->cat, f, &s->err)) {
		s->fatal = true;
		return false;
	}
	s->stats.findings++;
	return true;
}

static void problem(struct scan *s, const char *kind, const char *msg)
{
	s->stats.problems++;
	s->source_clean = false;
	if (s->opts->on_problem)
		s->opts->on_problem(s->opts->ctx, kind, msg);
}

static void file_row(struct scan *s, const struct task *t, struct ul_file_row *row,
                     const char *status, const char *error)
{
	memset(row, 0, sizeof(*row));
	row->scan_id = s->scan_id;
	row->source_id = s->source_id;
	row->path = t->path;
	row->location = ul_location_name(t->loc);
	row->size = t->size;
	row->mtime = t->mtime;
	row->status = status;
	row->error = error;
}

static void begin_file(struct scan *s, struct task *t)
{
	struct file_state *f = &s->file;
	free(f->path);
	memset(f, 0, sizeof(*f));
	f->path = t->path;
	t->path = NULL;
	f->enc = t->enc;
	f->fam = t->fam;
	snprintf(f->known_hash, sizeof(f->known_hash), "%s", t->known_hash);
	ul_hash_init(&f->hash);
	struct task view = *t;
	view.path = f->path;
	file_row(s, &view, &f->row, "ok", NULL);
	f->row.family = ul_catalog_family_name(s->cat, t->fam);
	f->row.encoding = ul_decode_encoding_name(t->enc);
	if (!ul_store_file_begin(s->st, &f->row, &f->file_id, &s->err)) {
		s->fatal = true;
		return;
	}
	f->open = true;
	struct ul_interp_sink sink = { .ctx = s, .finding = on_finding };
	ul_interp_begin(s->interp, t->fam, &sink);
}

static void take_block(struct scan *s, struct task *t)
{
	struct file_state *f = &s->file;
	if (!f->open)
		return;
	if (!t->ok) {
		s->err = t->err;
		s->fatal = true;
		return;
	}
	if (!ul_interp_chunk(s->interp, &t->chunk, (uint64_t)f->row.lines + 1, t->raw_base,
	                     &t->hits)) {
		/* The store says why when it refused; otherwise memory ran out. */
		if (!ul_error_is_set(&s->err))
			ul_error_set(&s->err, "memory", "%s: out of memory while interpreting it",
			             f->path);
		s->fatal = true;
		return;
	}
	f->row.lines += (int64_t)t->chunk.nlines;
	f->row.bytes += (int64_t)t->len;
	f->row.cut_lines += t->chunk.cut;
	f->row.replaced += t->chunk.replaced;
	f->fallback += t->chunk.fallback;
	ul_hash_update(&f->hash, &t->hash, sizeof(t->hash));
	s->stats.lines += t->chunk.nlines;
	s->stats.bytes += t->len;
	s->stats.limit_errors += t->hits.limit_errors;
}

static void end_file(struct scan *s, struct task *t)
{
	struct file_state *f = &s->file;
	if (!f->open)
		return;
	f->open = false;
	struct ul_verdict v;
	if (!ul_interp_end(s->interp, &v)) {
		if (!ul_error_is_set(&s->err))
			ul_error_set(&s->err, "memory", "%s: out of memory while interpreting it",
			             f->path);
		s->fatal = true;
		return;
	}
	char hex[17];
	ul_hash_hex(ul_hash_final(&f->hash), hex);
	bool fault = t->status[0] != '\0';
	if (!fault && f->known_hash[0] && strcmp(hex, f->known_hash) == 0) {
		/* Same content as stored: keep the old rows untouched. */
		ul_store_file_abort(s->st);
		if (!ul_store_keep(s->st, s->scan_id, s->source_id, f->path, &s->err))
			s->fatal = true;
		s->stats.kept++;
		return;
	}
	f->row.hash = hex;
	if (f->fallback && (f->enc == UL_ENC_UTF8 || f->enc == UL_ENC_UTF8_BOM))
		f->row.encoding = "windows-1252";
	f->row.status = fault ? t->status : "ok";
	f->row.error = fault ? t->message : NULL;
	size_t ntally;
	const struct ul_tally *tally = ul_interp_tallies(s->interp, &ntally);
	if (!ul_store_file_end(s->st, f->file_id, &f->row, s->cat, tally, ntally, &v, &s->err)) {
		s->fatal = true;
		return;
	}
	s->stats.files++;
	if (v.outcome == UL_OUT_FAILED)
		s->stats.failed++;
	if (fault)
		problem(s, t->status, t->message);
}

static void progress(struct scan *s)
{
	s->stats.seconds = since(&s->started);
	if (s->stats.input_total) {
		int64_t cur = s->cur_src ? ul_source_consumed(s->cur_src) : 0;
		uint64_t done = s->inputs_done + (cur > 0 ? (uint64_t)cur : 0);
		s->stats.input_done = done < s->stats.input_total ? done : s->stats.input_total;
	}
	s->opts->on_progress(s->opts->ctx, &s->stats);
}

static void consume(struct scan *s, struct task *t)
{
	if (s->fatal)
		return;
	struct ul_file_row row;
	switch (t->kind) {
	case T_SOURCE_BEGIN:
		s->stats.sources++;
		if (t->unchanged)
			s->stats.unchanged_inputs++;
		s->source_clean = true;
		free(s->source_path);
		s->source_path = t->path ? strdup(t->path) : NULL;
		if (!ul_store_source(s->st, s->scan_id, t->path, t->kind_word, t->size, t->mtime,
		                     t->unchanged, &s->source_id, &s->err))
			s->fatal = true;
		break;
	case T_SOURCE_END:
		if (!ul_store_source_done(s->st, s->scan_id, s->source_id,
		                          t->complete && s->source_clean, &s->err))
			s->fatal = true;
		else {
			char name[64];
			ul_cluster_host_from_name(s->source_path, name, sizeof(name));
			if (!ul_store_source_host(s->st, s->source_id, s->opts->host, name,
			                          &s->err))
				s->fatal = true;
		}
		break;
	case T_FILE_FAILED:
		file_row(s, t, &row, t->status, t->message);
		if (!ul_store_file_failed(s->st, &row, &s->err))
			s->fatal = true;
		problem(s, t->status, t->message);
		break;
	case T_KEEP:
		if (!ul_store_keep(s->st, s->scan_id, s->source_id, t->path, &s->err))
			s->fatal = true;
		s->stats.kept++;
		break;
	case T_FILE_BEGIN:
		begin_file(s, t);
		break;
	case T_BLOCK:
		take_block(s, t);
		break;
	case T_FILE_END:
		end_file(s, t);
		break;
	}
	if (s->opts->on_progress && since(&s->last_progress) > 0.2) {
		clock_gettime(CLOCK_MONOTONIC, &s->last_progress);
		progress(s);
	}
}

static void release(struct task *t)
{
	free(t->path);
	free(t->message);
	t->path = t->message = NULL;
}

/* Consume the oldest task; wait for it when `block`. False when nothing was consumed. */
static bool consume_oldest(struct scan *s, bool block)
{
	struct pool *p = &s->pool;
	pthread_mutex_lock(&p->mu);
	if (p->tail == p->head) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	struct task *t = &p->slots[p->tail % p->q];
	while (!t->done && block)
		pthread_cond_wait(&p->done, &p->mu);
	bool ready = t->done;
	pthread_mutex_unlock(&p->mu);
	if (!ready)
		return false;
	consume(s, t);
	release(t);
	pthread_mutex_lock(&p->mu);
	p->tail++;
	pthread_mutex_unlock(&p->mu);
	return true;
}

/* ---- producer: inputs into the queue ------------------------------------------------------- */

/*
 * With workers running, the reading thread takes a block itself rather than wait for one: it
 * claims the oldest unclaimed block and classifies it. False when there is none.
 */
static bool help(struct scan *s)
{
	struct pool *p = &s->pool;
	if (!p->nthreads)
		return false;
	pthread_mutex_lock(&p->mu);
	struct task *t = claim_block(p);
	pthread_mutex_unlock(&p->mu);
	if (!t)
		return false;
	process_block(p, t, s->inline_cl);
	pthread_mutex_lock(&p->mu);
	t->done = true;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
	return true;
}

/* A free slot at the head of the queue, prepared for `kind`. */
static struct task *next_slot(struct scan *s, enum task_kind kind)
{
	struct pool *p = &s->pool;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		bool full = p->head - p->tail == p->q;
		pthread_mutex_unlock(&p->mu);
		if (!full)
			break;
		if (!consume_oldest(s, false) && !help(s))
			consume_oldest(s, true);
	}
	struct task *t = &p->slots[p->head % p->q];
	t->kind = kind;
	t->done = false;
	t->flags = 0;
	t->len = 0;
	t->unchanged = t->complete = t->renamed = false;
	t->status[0] = '\0';
	t->known_hash[0] = '\0';
	t->size = -1;
	t->mtime = 0;
	t->loc = UL_LOC_OTHER;
	return t;
}

static void submit(struct scan *s, struct task *t)
{
	struct pool *p = &s->pool;
	if (p->nthreads == 0) {
		/* One job: everything on this thread, in order. */
		if (t->kind == T_BLOCK)
			process_block(p, t, s->inline_cl);
		t->done = true;
		p->head++;
		consume_oldest(s, true);
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (t->kind != T_BLOCK)
		t->done = true;
	p->head++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	/* Keep the queue short: take back whatever is already finished. */
	while (consume_oldest(s, false))
		;
}

static void submit_simple(struct scan *s, enum task_kind kind, const char *path, const char *status,
                          const char *message, enum ul_location loc)
{
	struct task *t = next_slot(s, kind);
	t->path = path ? strdup(path) : NULL;
	t->message = message ? strdup(message) : NULL;
	snprintf(t->status, sizeof(t->status), "%s", status ? status : "");
	t->loc = loc;
	submit(s, t);
}

/* Fill the read buffer from the entry. Sets *eof; on a read fault, *fault gets the error. */
static void fill(struct scan *s, struct ul_source *src, bool *eof, struct ul_error *fault)
{
	while (s->rb_len < BLOCK && !*eof) {
		ssize_t n = ul_source_read(src, s->rb + s->rb_len, BLOCK - s->rb_len, fault);
		if (n < 0 || n == 0)
			*eof = true;
		else
			s->rb_len += (size_t)n;
	}
}

static void consume_rb(struct scan *s, size_t n, uint64_t *raw_pos)
{
	memmove(s->rb, s->rb + n, s->rb_len - n);
	s->rb_len -= n;
	*raw_pos += n;
}

/* After a line longer than a block: drop bytes up to and including its terminator. */
static void skip_rest_of_line(struct scan *s, struct ul_source *src, enum ul_encoding enc,
                              bool *eof, struct ul_error *fault, uint64_t *raw_pos)
{
	bool wide = enc == UL_ENC_UTF16LE || enc == UL_ENC_UTF16BE;
	size_t unit = wide ? 2 : 1;
	for (;;) {
		fill(s, src, eof, fault);
		if (s->rb_len < unit)
			return;
		size_t i = 0;
		for (; i + unit <= s->rb_len; i += unit) {
			unsigned c = wide ? (enc == UL_ENC_UTF16LE ? s->rb[i] | s->rb[i + 1] << 8
			                                           : s->rb[i] << 8 | s->rb[i + 1])
			                  : s->rb[i];
			if (c != '\n' && c != '\r')
				continue;
			size_t end = i + unit;
			if (c == '\r' && end + unit > s->rb_len && !*eof) {
				/* CR at the buffer's end: an LF may follow; look again after a fill. */
				break;
			}
			if (c == '\r' && end + unit <= s->rb_len) {
				unsigned d = wide ? (enc == UL_ENC_UTF16LE
				                             ? s->rb[end] | s->rb[end + 1] << 8
				                             : s->rb[end] << 8 | s->rb[end + 1])
				                  : s->rb[end];
				if (d == '\n')
					end += unit;
			}
			consume_rb(s, end, raw_pos);
			return;
		}
		consume_rb(s, i, raw_pos);
		if (*eof && s->rb_len < unit)
			return;
	}
}

static void read_entry(struct scan *s, struct ul_source *src, const struct ul_entry *e,
                       const char *known_hash)
{
	struct ul_error fault;
	bool eof = false;
	uint64_t raw_pos = 0;
	ul_error_clear(&fault);
	s->rb_len = 0;
	fill(s, src, &eof, &fault);

	enum ul_encoding enc;
	size_t bom;
	if (ul_decode_detect(s->rb, s->rb_len, true, &enc, &bom) == UL_DETECT_BINARY) {
		char msg[UL_ERROR_MAX];
		snprintf(msg, sizeof(msg), "%s: binary data, not a text log; skipped", e->path);
		submit_simple(s, T_FILE_FAILED, e->path, "binary", msg, e->location);
		ul_source_skip(src);
		return;
	}
	consume_rb(s, bom, &raw_pos);
	size_t head = s->rb_len < SNIFF_BYTES ? s->rb_len : SNIFF_BYTES;
	size_t cut = (eof && head == s->rb_len) ? head : ul_decode_split(enc, s->rb, head);
	if (!ul_decode_block(enc, s->rb, cut ? cut : head,
	                     s->opts->max_line ? s->opts->max_line : UL_SCAN_MAX_LINE, 0,
	                     &s->sniff))
		s->sniff.nlines = 0;
	/* A numbered duplicate (`setup.log\\#2`) is judged by the name it shares. */
	const char *mark = NULL;
	for (const char *m = e->path; (m = strstr(m, "\\#")); m += 2)
		mark = m;
	char *shared = mark && e->note ? strndup(e->path, (size_t)(mark - e->path)) : NULL;
	ul_family fam = ul_classify_sniff(s->cat, &s->sniff, shared ? shared : e->path, enc);
	free(shared);

	struct task *t = next_slot(s, T_FILE_BEGIN);
	t->path = strdup(e->path);
	t->loc = e->location;
	t->size = e->size;
	t->mtime = e->mtime;
	t->renamed = e->renamed;
	t->enc = enc;
	t->fam = fam;
	snprintf(t->known_hash, sizeof(t->known_hash), "%s", known_hash ? known_hash : "");
	submit(s, t);

	for (;;) {
		if (s->rb_len == 0 && eof)
			break;
		size_t n = eof ? s->rb_len : ul_decode_split(enc, s->rb, s->rb_len);
		unsigned flags = 0;
		if (n == 0) {
			if (s->rb_len < BLOCK && !eof) {
				fill(s, src, &eof, &fault);
				continue;
			}
			/* A whole block without a line end: keep its start, drop the rest. */
			n = s->rb_len;
			if (enc == UL_ENC_UTF16LE || enc == UL_ENC_UTF16BE)
				n &= ~(size_t)1;
			flags = UL_BLOCK_CONTINUES;
		}
		struct task *b = next_slot(s, T_BLOCK);
		if (!b->raw && !(b->raw = malloc(BLOCK))) {
			ul_error_set(&s->err, "memory", "out of memory");
			s->fatal = true;
			return;
		}
		/* The read buffer becomes the block; the slot's old buffer takes the rest. */
		unsigned char *full = s->rb;
		s->rb = b->raw;
		b->raw = full;
		memcpy(s->rb, full + n, s->rb_len - n);
		s->rb_len -= n;
		b->len = n;
		b->flags = flags;
		b->raw_base = raw_pos;
		b->enc = enc;
		b->fam = fam;
		raw_pos += n;
		submit(s, b);
		if (flags & UL_BLOCK_CONTINUES)
			skip_rest_of_line(s, src, enc, &eof, &fault, &raw_pos);
		fill(s, src, &eof, &fault);
		if (s->fatal)
			return;
	}
	struct task *end = next_slot(s, T_FILE_END);
	if (ul_error_is_set(&fault)) {
		snprintf(end->status, sizeof(end->status), "%s", fault.kind);
		end->message = strdup(fault.msg);
	}
	submit(s, end);
}

static bool unchanged_file(struct scan *s, const struct ul_entry *e, struct ul_known *k)
{
	memset(k, 0, sizeof(*k));
	if (s->opts->force)
		return false;
	if (!ul_store_lookup(s->st, e->path, k, &s->err)) {
		s->fatal = true;
		return false;
	}
	return k->found && k->ok && e->size >= 0 && e->mtime > 0 && k->size == e->size &&
	       k->mtime == e->mtime;
}

static void scan_path(struct scan *s, const char *path)
{
	struct ul_error err;
	struct ul_source *src = ul_source_open(path, &s->opts->limits, &err);
	struct task *t = next_slot(s, T_SOURCE_BEGIN);
	/* A labelled standard input is stored under its label: two runs keep their own rows. */
	char *label = NULL;
	if (strcmp(path, "-") == 0 && s->opts->label && *s->opts->label &&
	    asprintf(&label, "stdin:%s", s->opts->label) < 0)
		label = NULL;
	if (label)
		path = label;
	t->path = strdup(path);
	if (!src) {
		/* Nothing to read: still record the input and say why, once. */
		t->kind_word = "file";
		submit(s, t);
		submit_simple(s, T_FILE_FAILED, path, err.kind, err.msg, UL_LOC_OTHER);
		struct task *end = next_slot(s, T_SOURCE_END);
		submit(s, end);
		free(label);
		return;
	}
	t->kind_word = ul_source_kind_name(ul_source_kind(src));
	t->size = ul_source_size(src);
	t->mtime = ul_source_mtime(src);
	int64_t t_size = t->size;
	bool unchanged = false;
	if (!s->opts->force && !ul_store_source_unchanged(s->st, path, t->kind_word, t->size,
	                                                  t->mtime, &unchanged, &s->err))
		s->fatal = true;
	t->unchanged = unchanged;
	submit(s, t);
	s->cur_src = src;
	const struct ul_entry *e;
	while (!unchanged && !s->fatal && ul_source_next(src, &e)) {
		struct ul_known k;
		struct ul_entry named;
		if (label) {
			named = *e;
			named.path = label;
			e = &named;
		}
		if (e->error_kind) {
			submit_simple(s, T_FILE_FAILED, e->path, e->error_kind, e->error,
			              e->location);
		} else if (unchanged_file(s, e, &k)) {
			submit_simple(s, T_KEEP, e->path, NULL, NULL, e->location);
			ul_source_skip(src);
		} else {
			if (e->note && s->opts->on_problem) {
				s->opts->on_problem(s->opts->ctx, "renamed", e->note);
			} else if (e->renamed && s->opts->on_problem) {
				char msg[UL_ERROR_MAX];
				snprintf(msg, sizeof(msg),
				         "%s: file name is not valid UTF-8 or holds control bytes, "
				         "'!' or '\\'; stored with \\xNN escapes",
				         e->path);
				s->opts->on_problem(s->opts->ctx, "renamed", msg);
			}
			read_entry(s, src, e, k.found && k.ok ? k.hash : NULL);
		}
	}
	s->cur_src = NULL;
	s->inputs_done += t_size > 0 ? (uint64_t)t_size : 0;
	ul_source_close(src);
	struct task *end = next_slot(s, T_SOURCE_END);
	end->complete = !s->fatal;
	submit(s, end);
	free(label);
}

/* ---- set-up -------------------------------------------------------------------------------- */

static bool pool_start(struct scan *s, unsigned jobs)
{
	struct pool *p = &s->pool;
	p->cat = s->cat;
	p->max_line = s->opts->max_line ? s->opts->max_line : UL_SCAN_MAX_LINE;
	p->all_caps = s->opts->keep_noise;
	p->prefilter = !s->opts->no_prefilter;
	p->q = jobs <= 1 ? 1 : 2 * (size_t)jobs + 2;
	p->slots = calloc(p->q, sizeof(*p->slots));
	if (!p->slots)
		return ul_error_set(&s->err, "memory", "out of memory");
	for (size_t i = 0; i < p->q; i++) {
		ul_chunk_init(&p->slots[i].chunk);
		ul_hits_init(&p->slots[i].hits);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	/* The reading thread classifies too: alone, or helping the workers (see help()). */
	s->inline_cl = ul_classifier_create(s->cat, p->prefilter, &s->err);
	if (!s->inline_cl)
		return false;
	p->proto = s->inline_cl;
	unsigned workers = jobs <= 1 ? 0 : jobs - 1;
	if (!workers)
		return true;
	p->threads = calloc(workers, sizeof(*p->threads));
	if (!p->threads)
		return ul_error_set(&s->err, "memory", "out of memory");
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			return ul_error_set(&s->err, "memory", "cannot start worker threads");
		p->nthreads++;
	}
	return true;
}

static void pool_stop(struct scan *s)
{
	struct pool *p = &s->pool;
	if (p->slots) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	for (size_t i = 0; p->slots && i < p->q; i++) {
		release(&p->slots[i]);
		free(p->slots[i].raw);
		ul_chunk_finish(&p->slots[i].chunk);
		ul_hits_finish(&p->slots[i].hits);
	}
	if (p->slots) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
	}
	free(p->slots);
	ul_classifier_destroy(s->inline_cl);
}

/* Sum of the inputs' sizes when every input is a regular file (else 0: unknown). */
static uint64_t input_total(const struct ul_scan_opts *opts)
{
	uint64_t total = 0;
	for (size_t i = 0; i < opts->npaths; i++) {
		struct stat st;
		if (strcmp(opts->paths[i], "-") == 0 || stat(opts->paths[i], &st) != 0 ||
		    !S_ISREG(st.st_mode))
			return 0;
		total += (uint64_t)st.st_size;
	}
	return total;
}

bool ul_scan_run(struct ul_store *st, const struct ul_catalog *cat, const struct ul_scan_opts *opts,
                 int64_t *scan_id, struct ul_scan_stats *stats, struct ul_error *err)
{
	struct scan *s = calloc(1, sizeof(*s));
	bool ok = false;
	if (!s)
		return ul_error_set(err, "memory", "out of memory");
	s->st = st;
	s->cat = cat;
	s->opts = opts;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	s->last_progress = s->started;
	ul_chunk_init(&s->sniff);
	unsigned jobs = opts->jobs;
	if (jobs == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? (unsigned)n : 1;
	}
	s->rb = malloc(BLOCK);
	s->interp = ul_interp_create(cat, opts->keep_noise);
	if (!s->rb || !s->interp) {
		ul_error_set(&s->err, "memory", "out of memory");
		goto out;
	}
	if (!ul_store_begin_scan(st, UL_VERSION, opts->arguments ? opts->arguments : "[]", cat,
	                         &s->scan_id, &s->err))
		goto out;
	if (!pool_start(s, jobs))
		goto out;
	s->stats.input_total = input_total(opts);
	for (size_t i = 0; i < opts->npaths && !s->fatal; i++)
		scan_path(s, opts->paths[i]);
	while (consume_oldest(s, true))
		;
	/* The last word of the progress line: everything read. */
	if (opts->on_progress && !s->fatal) {
		s->inputs_done = s->stats.input_total;
		progress(s);
	}
	if (s->pool.failed) {
		s->err = s->pool.err;
		s->fatal = true;
	}
	if (!s->fatal)
		ok = ul_store_end_scan(st, s->scan_id, &s->err);
out:
	pool_stop(s);
	if (s->file.open)
		ul_store_file_abort(st);
	free(s->file.path);
	ul_chunk_finish(&s->sniff);
	ul_interp_destroy(s->interp);
	free(s->rb);
	free(s->source_path);
	s->stats.seconds = since(&s->started);
	if (stats)
		*stats = s->stats;
	if (scan_id)
		*scan_id = s->scan_id;
	if (!ok && err)
		*err = s->err;
	free(s);
	return ok;
}
