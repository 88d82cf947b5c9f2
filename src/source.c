/* SPDX-License-Identifier: MIT */
/*
 * source: inputs -> entries. See include/upglog/source.h.
 *
 * A source is a stack of frames (folder walk, container, gzip wrapper); every byte stream is
 * sniffed by its first bytes and either becomes a new frame or the current entry. Streams nest:
 * a gzip stream reads from its parent stream, an archive reads from the stream it was found in.
 */
#include "upglog/source.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "upglog/decode.h"

#if UL_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#endif

#define PEEK       512 /* enough for the tar magic at offset 257 */
#define ZBUF       (128u << 10)
#define AR_BLOCK   (64u << 10)
#define MAX_FRAMES 32

/* ---- names ------------------------------------------------------------------------------- */

const char *ul_location_name(enum ul_location loc)
{
	static const char *const names[] = { "other", "cisco-logs", "dcd", "c-root" };
	return (unsigned)loc < 4 ? names[loc] : "other";
}

const char *ul_source_kind_name(enum ul_source_kind kind)
{
	static const char *const names[] = { "file", "dir", "gz", "zip", "tar", "stdin" };
	return (unsigned)kind < 6 ? names[kind] : "file";
}

/* Does `path` hold `needle` (lower case, '/' separators) as whole components? */
static bool has_components(const char *path, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = path; *p; p++) {
		if (p != path && p[-1] != '/' && p[-1] != '\\' && p[-1] != '!')
			continue;
		size_t i = 0;
		for (; i < n && p[i]; i++) {
			char a = p[i] == '\\' ? '/' : (char)tolower((unsigned char)p[i]);
			if (a != needle[i])
				break;
		}
		if (i == n && (p[n] == '/' || p[n] == '\\'))
			return true;
	}
	return false;
}

static bool drive_root_name(const char *s, size_t n)
{
	static const char *const names[] = { "c", "c$", "c:", "c_drive", "drive_c", "c-drive" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
			return true;
	return false;
}

enum ul_location ul_location_of(const char *path, bool drive_root)
{
	if (has_components(path, "program files/common files/cisco/logs"))
		return UL_LOC_CISCO_LOGS;
	if (has_components(path, "dcdsrvr/log"))
		return UL_LOC_DCD;
	/* The file's folder: the component before the last separator. */
	const char *end = NULL, *start = path;
	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '\\' || *p == '!') {
			start = end ? end + 1 : path;
			end = p;
		}
	const char *base = end ? end + 1 : path;
	size_t blen = strlen(base);
	bool logish = (blen > 4 && (strcasecmp(base + blen - 4, ".log") == 0 ||
	                            strcasecmp(base + blen - 4, ".txt") == 0));
	if (!logish)
		return UL_LOC_OTHER;
	if (drive_root)
		return UL_LOC_C_ROOT;
	if (end && drive_root_name(start, (size_t)(end - start)))
		return UL_LOC_C_ROOT;
	return UL_LOC_OTHER;
}

/* ---- byte streams ------------------------------------------------------------------------ */

enum stream_kind { S_FD, S_GZ, S_MEMBER };

struct stream {
	enum stream_kind kind;
	int fd;
	bool own_fd;
	struct stream *parent; /* S_GZ: owned */
	z_stream z;
	bool z_ready, z_member_done, z_eof, z_truncated;
	uint64_t z_in_before; /* compressed bytes of the members before the current one */
	unsigned char *zbuf;
#if UL_HAVE_LIBARCHIVE
	struct archive *ar; /* S_MEMBER: borrowed from the frame */
	int64_t ar_start;
#endif
	unsigned char peek[PEEK];
	size_t npeek, ppos;
	uint64_t out; /* bytes handed out */
	const struct ul_source_limits *lim;
	const char *name; /* for messages; borrowed */
	bool failed;
	struct ul_error err; /* sticky */
};

static struct stream *stream_new(enum stream_kind kind, const struct ul_source_limits *lim,
                                 const char *name)
{
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = kind;
	s->fd = -1;
	s->lim = lim;
	s->name = name;
	return s;
}

static void stream_free(struct stream *s)
{
	if (!s)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->z_ready)
		inflateEnd(&s->z);
	free(s->zbuf);
	stream_free(s->parent);
	free(s);
}

static ssize_t stream_read(struct stream *s, void *buf, size_t cap);

static ssize_t fail(struct stream *s, const char *kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static ssize_t fail(struct stream *s, const char *kind, const char *fmt, ...)
{
	char msg[UL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!s->failed)
		ul_error_set(&s->err, kind, "%s: %s", s->name, msg);
	s->failed = true;
	return -1;
}

/* Too big, or expanding too fast for what it consumed: a decompression bomb. */
static ssize_t check_bomb(struct stream *s, uint64_t consumed)
{
	if (s->out > s->lim->max_size)
		return fail(s, "too-large", "expands past %llu bytes (raise with --max-size)",
		            (unsigned long long)s->lim->max_size);
	if (s->out > UL_RATIO_GRACE && consumed > 0 && s->out / consumed > s->lim->max_ratio)
		return fail(s, "bomb",
		            "expands %llu:1, more than the %llu:1 allowed; likely a "
		            "decompression bomb (raise with --max-ratio)",
		            (unsigned long long)(s->out / consumed),
		            (unsigned long long)s->lim->max_ratio);
	return 0;
}

static ssize_t fd_read(struct stream *s, void *buf, size_t cap)
{
	for (;;) {
		ssize_t n = read(s->fd, buf, cap);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return fail(s, "unreadable", "read error: %s", strerror(errno));
	}
}

static bool gz_magic(const unsigned char *b, size_t n)
{
	return n >= 3 && b[0] == 0x1F && b[1] == 0x8B && b[2] == 8;
}

/*
 * Keep the unread input at the front of the buffer and top it up to `want` bytes. 1: there
 * are `want` bytes, 0: the input ends before, -1: read error.
 */
static int gz_fill(struct stream *s, size_t want)
{
	z_stream *z = &s->z;
	if (z->avail_in >= want)
		return 1;
	if (z->avail_in)
		memmove(s->zbuf, z->next_in, z->avail_in);
	z->next_in = s->zbuf;
	while (z->avail_in < want) {
		ssize_t n = stream_read(s->parent, s->zbuf + z->avail_in, ZBUF - z->avail_in);
		if (n < 0) {
			s->err = s->parent->err;
			s->failed = true;
			return -1;
		}
		if (n == 0)
			return 0;
		z->avail_in += (uInt)n;
	}
	return 1;
}

static ssize_t gz_read(struct stream *s, void *buf, size_t cap)
{
	z_stream *z = &s->z;

	if (s->z_eof)
		return 0;
	if (s->z_truncated)
		return fail(
		        s, "truncated",
		        "gzip stream ends early (truncated); the lines before the cut are kept");
	z->next_out = buf;
	z->avail_out = (uInt)(cap > UINT_MAX ? UINT_MAX : cap);
	while (z->avail_out > 0) {
		if (s->z_member_done) {
			/* Another gzip member (a concatenated .gz), or the end, or trailing junk. */
			int r = gz_fill(s, 3);
			if (r < 0)
				return -1;
			if (!gz_magic(z->next_in, z->avail_in)) {
				s->z_eof = true;
				break;
			}
			s->z_in_before += z->total_in;
			inflateReset(z);
			s->z_member_done = false;
		}
		if (z->avail_in == 0) {
			int r = gz_fill(s, 1);
			if (r < 0)
				return -1;
			if (r == 0) {
				/* The input ends inside a member: hand out what we have first. */
				s->z_truncated = true;
				if (z->avail_out < cap)
					break;
				return fail(s, "truncated",
				            "gzip stream ends early (truncated); the lines before "
				            "the cut "
				            "are kept");
			}
		}
		int rc = inflate(z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			s->z_member_done = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return fail(s, "corrupt", "gzip data is corrupt (%s)",
			            z->msg ? z->msg : "inflate error");
	}
	size_t got = cap - z->avail_out;
	s->out += got;
	/* The ratio counts every member's input, not only the current one's. */
	if (check_bomb(s, s->z_in_before + (uint64_t)z->total_in + 1) < 0)
		return -1;
	return (ssize_t)got;
}

#if UL_HAVE_LIBARCHIVE
static ssize_t member_read(struct stream *s, void *buf, size_t cap)
{
	la_ssize_t n = archive_read_data(s->ar, buf, cap);
	if (n < 0) {
		const char *why = archive_error_string(s->ar);
		return fail(s, "corrupt", "cannot read member: %s", why ? why : "archive error");
	}
	s->out += (uint64_t)n;
	int64_t used = archive_filter_bytes(s->ar, -1) - s->ar_start;
	if (check_bomb(s, used > 0 ? (uint64_t)used : 1) < 0)
		return -1;
	return n;
}
#endif

static ssize_t raw_read(struct stream *s, void *buf, size_t cap)
{
	if (s->failed)
		return -1;
	switch (s->kind) {
	case S_FD:
		return fd_read(s, buf, cap);
	case S_GZ:
		return gz_read(s, buf, cap);
	case S_MEMBER:
#if UL_HAVE_LIBARCHIVE
		return member_read(s, buf, cap);
#else
		break;
#endif
	}
	return fail(s, "unreadable", "no reader for this stream");
}

static ssize_t stream_read(struct stream *s, void *buf, size_t cap)
{
	if (s->ppos < s->npeek) {
		size_t n = s->npeek - s->ppos;
		if (n > cap)
			n = cap;
		memcpy(buf, s->peek + s->ppos, n);
		s->ppos += n;
		return (ssize_t)n;
	}
	return raw_read(s, buf, cap);
}

/* Fill the peek buffer (once). False on a read error. */
static bool stream_peek(struct stream *s)
{
	while (s->npeek < PEEK) {
		ssize_t n = raw_read(s, s->peek + s->npeek, PEEK - s->npeek);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		s->npeek += (size_t)n;
	}
	return true;
}

static struct stream *gz_open(struct stream *parent, const struct ul_source_limits *lim,
                              const char *name)
{
	struct stream *s = stream_new(S_GZ, lim, name);
	if (!s)
		return NULL;
	s->zbuf = malloc(ZBUF);
	if (!s->zbuf || inflateInit2(&s->z, 15 + 16) != Z_OK) {
		free(s->zbuf);
		free(s);
		return NULL;
	}
	s->z_ready = true;
	s->parent = parent;
	return s;
}

/* ---- what a stream holds ----------------------------------------------------------------- */

enum content { C_LOG, C_GZ, C_ZIP, C_TAR };

static enum content sniff(const struct stream *s)
{
	const unsigned char *b = s->peek;
	size_t n = s->npeek;
	if (gz_magic(b, n))
		return C_GZ;
	if (n >= 4 && b[0] == 'P' && b[1] == 'K' &&
	    ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) || (b[2] == 7 && b[3] == 8)))
		return C_ZIP;
	if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
		return C_TAR;
	return C_LOG;
}

/* ---- the source -------------------------------------------------------------------------- */

enum frame_kind { F_DIR, F_ARCHIVE, F_GZ, F_SINGLE };

/* A member name and how many members of the archive carry it. */
struct seen {
	char *name;
	unsigned count;
};

struct frame {
	enum frame_kind kind;
	char *path; /* display path of this folder or container */
	/* F_DIR */
	char *fs;
	char **names;
	size_t n, i;
	dev_t dev;
	ino_t ino;
	bool drive_root;
	/* F_ARCHIVE, F_GZ, F_SINGLE: the stream this frame reads (owned) */
	struct stream *s;
	bool done;
	int64_t size, mtime; /* F_GZ: the compressed file's, which identify its content */
	/* F_ARCHIVE: member names met so far, to number duplicates (open addressing) */
	struct seen *seen;
	size_t nseen, capseen;
#if UL_HAVE_LIBARCHIVE
	struct archive *ar;
	unsigned char *rbuf;
#endif
};

struct ul_source {
	struct ul_source_limits lim;
	enum ul_source_kind kind;
	char *path;
	int64_t size, mtime;
	struct frame frames[MAX_FRAMES];
	size_t nframes;
	/* current entry */
	struct ul_entry entry;
	char *entry_path;
	char *entry_error;
	char *entry_note;
	char entry_kind[24]; /* the error's status word, owned here: callers pass stack copies */
	struct stream *cur;
	bool cur_owned;
	int root_fd; /* the regular file given on the command line, while open; else -1 */
};

/* Pop the top frame, releasing what it owns. */
static void frame_pop(struct ul_source *src)
{
	struct frame *f = &src->frames[--src->nframes];
	if (src->nframes == 0)
		src->root_fd = -1;
#if UL_HAVE_LIBARCHIVE
	if (f->ar)
		archive_read_free(f->ar);
	free(f->rbuf);
#endif
	for (size_t i = 0; i < f->capseen; i++)
		free(f->seen[i].name);
	free(f->seen);
	stream_free(f->s);
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->fs);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

/* Pop a frame pushed by open_archive before it was counted as an archive. */
static void frame_pop_plain(struct ul_source *src)
{
	struct frame *f = &src->frames[src->nframes - 1];
#if UL_HAVE_LIBARCHIVE
	if (f->ar) {
		archive_read_free(f->ar);
		f->ar = NULL;
	}
#endif
	frame_pop(src);
}

static void drop_entry(struct ul_source *src)
{
	if (src->cur_owned)
		stream_free(src->cur);
	src->cur = NULL;
	src->cur_owned = false;
	free(src->entry_path);
	free(src->entry_error);
	free(src->entry_note);
	src->entry_path = NULL;
	src->entry_error = NULL;
	src->entry_note = NULL;
	memset(&src->entry, 0, sizeof(src->entry));
}

void ul_source_close(struct ul_source *src)
{
	if (!src)
		return;
	drop_entry(src);
	while (src->nframes)
		frame_pop(src);
	free(src->path);
	free(src);
}

enum ul_source_kind ul_source_kind(const struct ul_source *src)
{
	return src->kind;
}

const char *ul_source_path(const struct ul_source *src)
{
	return src->path;
}

int64_t ul_source_size(const struct ul_source *src)
{
	return src->size;
}

int64_t ul_source_mtime(const struct ul_source *src)
{
	return src->mtime;
}

/*
 * Copy a name (n bytes) for a path: valid UTF-8 where every byte that could make two names
 * meet becomes \xNN: bytes that are not UTF-8, control bytes, '!' (it separates a container
 * from its members) and '\' (it starts the escapes). Distinct names stay distinct.
 */
static char *clean_name(const char *s, size_t n, bool *renamed)
{
	char *out = malloc(4 * n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80         ? 1
		             : (c >> 5) == 6  ? 2
		             : (c >> 4) == 14 ? 3
		             : (c >> 3) == 30 ? 4
		                              : 0;
		/* The decoder's rules: no overlongs, surrogates or code points past U+10FFFF. */
		if (len && i + len <= n && c >= 0x20 && c != 0x7F && c != '!' && c != '\\' &&
		    ul_decode_is_utf8(s + i, len)) {
			memcpy(o, s + i, len);
			o += len;
			i += len;
		} else {
			o += sprintf(o, "\\x%02X", c);
			*renamed = true;
			i++;
		}
	}
	*o = '\0';
	return out;
}

/*
 * A member path as its archive means it: '\' and '/' both separate folders (Windows tools
 * write either), "." components and repeated or leading separators mean nothing. In place.
 */
static void normalize_member(char *p)
{
	char *w = p;
	for (char *r = p; *r;) {
		if (*r == '\\')
			*r = '/';
		if (*r == '/') {
			r++;
			continue;
		}
		size_t n = strcspn(r, "/\\");
		if (n == 1 && r[0] == '.') {
			r++;
			continue;
		}
		if (w != p)
			*w++ = '/';
		memmove(w, r, n);
		w += n;
		r += n;
	}
	*w = '\0';
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* How many members of this archive carried `name` before (0: the first). -1: no memory. */
static long seen_before(struct frame *f, const char *name)
{
	if (2 * (f->nseen + 1) > f->capseen) {
		size_t cap = f->capseen ? 2 * f->capseen : 64;
		struct seen *v = calloc(cap, sizeof(*v));
		if (!v)
			return -1;
		for (size_t i = 0; i < f->capseen; i++)
			if (f->seen[i].name) {
				size_t k = name_hash(f->seen[i].name) & (cap - 1);
				while (v[k].name)
					k = (k + 1) & (cap - 1);
				v[k] = f->seen[i];
			}
		free(f->seen);
		f->seen = v;
		f->capseen = cap;
	}
	size_t k = name_hash(name) & (f->capseen - 1);
	for (; f->seen[k].name; k = (k + 1) & (f->capseen - 1))
		if (strcmp(f->seen[k].name, name) == 0)
			return (long)f->seen[k].count++;
	if (!(f->seen[k].name = strdup(name)))
		return -1;
	f->seen[k].count = 1;
	f->nseen++;
	return 0;
}

static char *join(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *s = malloc(la + ls + lb + 1);
	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, sep, ls);
		memcpy(s + la + ls, b, lb + 1);
	}
	return s;
}

static bool frame_push(struct ul_source *src, struct frame *f)
{
	if (src->nframes == MAX_FRAMES)
		return false;
	src->frames[src->nframes++] = *f;
	return true;
}

/* Make the current entry an error entry. Takes ownership of `path`. */
static int error_entry(struct ul_source *src, char *path, const char *kind, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int error_entry(struct ul_source *src, char *path, const char *kind, const char *fmt, ...)
{
	char msg[UL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	src->entry_path = path;
	src->entry_error = strdup(msg);
	src->entry.path = path ? path : "?";
	snprintf(src->entry_kind, sizeof(src->entry_kind), "%s", kind);
	src->entry.error_kind = src->entry_kind;
	src->entry.error = src->entry_error ? src->entry_error : src->entry_kind;
	src->entry.size = -1;
	return 1;
}

/* Should a file met inside a folder or container be read? */
static bool wanted(const char *name, bool in_log_folder)
{
	char low[256];
	size_t n = strlen(name);
	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	static const char *const suffixes[] = { ".txt", ".out", ".err", ".gz",
		                                ".tgz", ".zip", ".tar" };
	if (strstr(low, ".log"))
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t k = strlen(suffixes[i]);
		if (n > k && strcmp(low + n - k, suffixes[i]) == 0)
			return true;
	}
	return in_log_folder && !strchr(low, '.');
}

/*
 * Container levels around what is opened next: a gzip layer or an archive is one, a .tar.gz
 * (an archive right inside a gzip layer) is one.
 */
static unsigned levels(const struct ul_source *src)
{
	unsigned n = 0;
	for (size_t i = 0; i < src->nframes; i++)
		if (src->frames[i].kind == F_GZ ||
		    (src->frames[i].kind == F_ARCHIVE && !(i && src->frames[i - 1].kind == F_GZ)))
			n++;
	return n;
}

/* Is the top frame the gzip layer whose content is being opened? */
static bool in_gz(const struct ul_source *src)
{
	return src->nframes && src->frames[src->nframes - 1].kind == F_GZ;
}

/* Decide what stream `s` (named `path`, owned by us now) is, and act. 1 = entry ready. */
static int dispatch(struct ul_source *src, struct stream *s, char *path, int64_t size,
                    int64_t mtime, enum ul_location loc, bool renamed, bool seekable);

#if UL_HAVE_LIBARCHIVE
static la_ssize_t ar_read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct frame *f = ctx;
	ssize_t n = stream_read(f->s, f->rbuf, AR_BLOCK);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", f->s->err.msg);
		return -1;
	}
	*buf = f->rbuf;
	return n;
}

static int open_archive(struct ul_source *src, struct stream *s, char *path, bool seekable)
{
	if (levels(src) + !in_gz(src) > src->lim.max_depth) {
		stream_free(s);
		return error_entry(src, path, "too-deep",
		                   "%s: containers nested deeper than %u levels; not opened", path,
		                   src->lim.max_depth);
	}
	if (src->nframes == MAX_FRAMES) {
		stream_free(s);
		return error_entry(src, path, "too-deep", "%s: nested too deep", path);
	}
	/* The frame goes in its slot first: libarchive calls back into it while opening. */
	struct frame *f = &src->frames[src->nframes++];
	*f = (struct frame){ .kind = F_ARCHIVE, .path = path, .s = s };
	f->ar = archive_read_new();
	f->rbuf = malloc(AR_BLOCK);
	if (!f->ar || !f->rbuf) {
		frame_pop_plain(src);
		return error_entry(src, NULL, "unreadable", "out of memory");
	}
	archive_read_support_format_zip(f->ar);
	archive_read_support_format_tar(f->ar);
	archive_read_support_format_gnutar(f->ar);
	archive_read_support_filter_all(f->ar);
	int rc;
	if (seekable && s->kind == S_FD && lseek(s->fd, 0, SEEK_SET) == 0) {
		/* A file on disk: let libarchive seek (zip central directory, zip64). */
		s->npeek = s->ppos = 0;
		rc = archive_read_open_fd(f->ar, s->fd, AR_BLOCK);
	} else {
		rc = archive_read_open(f->ar, f, NULL, ar_read_cb, NULL);
	}
	if (rc != ARCHIVE_OK) {
		const char *why = archive_error_string(f->ar);
		char msg[UL_ERROR_MAX];
		snprintf(msg, sizeof(msg), "%s", why ? why : "unknown format");
		char *p = strdup(path);
		frame_pop(src);
		return error_entry(src, p, "corrupt", "%s: cannot open archive: %s", p ? p : "?",
		                   msg);
	}
	return 0;
}

/* Next member of the archive on top. */
static int next_member(struct ul_source *src, struct frame *f)
{
	struct archive_entry *ae;

	for (;;) {
		int rc = archive_read_next_header(f->ar, &ae);
		if (rc == ARCHIVE_EOF) {
			frame_pop(src);
			return 0;
		}
		if (rc == ARCHIVE_FATAL || rc == ARCHIVE_RETRY) {
			/* Copy what we need before the frame (and its archive) goes. */
			const char *why = archive_error_string(f->ar);
			char reason[UL_ERROR_MAX];
			snprintf(reason, sizeof(reason), "%s", why ? why : "read error");
			char *path = strdup(f->path);
			frame_pop(src);
			return error_entry(
			        src, path, "corrupt",
			        "%s: archive is damaged; members after this point are lost: %s",
			        path ? path : "?", reason);
		}
		if (archive_entry_filetype(ae) != AE_IFREG)
			continue;
		const char *raw = archive_entry_pathname(ae);
		char *slashed = strdup(raw ? raw : "");
		if (!slashed)
			return error_entry(src, NULL, "unreadable", "out of memory");
		/* Separators first: the \xNN escapes made next must stay as they are. */
		normalize_member(slashed);
		bool renamed = false;
		char *name = clean_name(slashed, strlen(slashed), &renamed);
		free(slashed);
		if (!name)
			return error_entry(src, NULL, "unreadable", "out of memory");
		char *path = join(f->path, "!", name);
		free(name);
		if (!path)
			return error_entry(src, NULL, "unreadable", "out of memory");
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : strrchr(path, '!') + 1;
		enum ul_location loc = ul_location_of(path, false);
		if (!wanted(base, loc == UL_LOC_CISCO_LOGS || loc == UL_LOC_DCD)) {
			free(path);
			continue;
		}
		/* Two members that mean one path (logs\\x.log, logs/x.log, ./logs/x.log, or the
		 * same name twice) are kept apart: the second is name\\#2, and so on. No other
		 * name holds "\\#": a literal backslash is written \\x5C. */
		long dup = seen_before(f, path);
		if (dup < 0) {
			free(path);
			return error_entry(src, NULL, "unreadable", "out of memory");
		}
		char *note = NULL;
		if (dup > 0) {
			char *numbered = NULL;
			if (asprintf(&numbered, "%s\\#%ld", path, dup + 1) < 0 ||
			    asprintf(&note,
			             "%s: the archive holds more than one member of this path "
			             "(this is number %ld); stored as %s",
			             path, dup + 1, numbered) < 0) {
				free(numbered);
				free(path);
				return error_entry(src, NULL, "unreadable", "out of memory");
			}
			free(path);
			path = numbered;
		}
		if (archive_entry_is_encrypted(ae)) {
			free(note);
			return error_entry(src, path, "encrypted",
			                   "%s: member is encrypted; upglog does not read "
			                   "password-protected archives",
			                   path);
		}
		struct stream *s = stream_new(S_MEMBER, &src->lim, NULL);
		if (!s) {
			free(note);
			free(path);
			return error_entry(src, NULL, "unreadable", "out of memory");
		}
		s->ar = f->ar;
		s->ar_start = archive_filter_bytes(f->ar, -1);
		int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
		int got =
		        dispatch(src, s, path, size, archive_entry_mtime(ae), loc, renamed, false);
		if (got == 1 && !src->entry.error_kind && note) {
			src->entry_note = note;
			src->entry.note = note;
		} else {
			free(note);
		}
		return got;
	}
}
#endif

static int dispatch(struct ul_source *src, struct stream *s, char *path, int64_t size,
                    int64_t mtime, enum ul_location loc, bool renamed, bool seekable)
{
	s->name = path;
	if (!stream_peek(s)) {
		struct ul_error e = s->err;
		stream_free(s);
		return error_entry(src, path, e.kind, "%s", e.msg);
	}
	switch (sniff(s)) {
	case C_GZ: {
		/* A gzip layer around a log is free; one inside another gzip layer is a level. */
		if (in_gz(src) && levels(src) + 1 > src->lim.max_depth) {
			stream_free(s);
			return error_entry(
			        src, path, "too-deep",
			        "%s: containers nested deeper than %u levels (gzip layers "
			        "count); not opened",
			        path, src->lim.max_depth);
		}
		struct stream *g = gz_open(s, &src->lim, path);
		if (!g) {
			stream_free(s);
			return error_entry(src, path, "unreadable", "%s: out of memory", path);
		}
		struct frame f = {
			.kind = F_GZ, .path = path, .s = g, .size = size, .mtime = mtime
		};
		if (!frame_push(src, &f)) {
			stream_free(g);
			return error_entry(src, path, "too-deep",
			                   "%s: compressed streams nested too deep", path);
		}
		return 0;
	}
	case C_ZIP:
	case C_TAR:
#if UL_HAVE_LIBARCHIVE
		return open_archive(src, s, path, seekable);
#else
		stream_free(s);
		return error_entry(src, path, "unsupported",
		                   "%s: zip/tar bundles need upglog built with libarchive", path);
#endif
	case C_LOG:
		break;
	}
	src->cur = s;
	src->cur_owned = true;
	src->entry_path = path;
	src->entry.path = path;
	src->entry.location = loc;
	src->entry.size = size;
	src->entry.mtime = mtime;
	src->entry.renamed = renamed;
	return 1;
}

/* The content of a gzip frame is one stream: dispatch it once. */
static int next_in_gz(struct ul_source *src, struct frame *f)
{
	if (f->done || !f->s) {
		frame_pop(src);
		return 0;
	}
	/* "x.log.gz" holds "x.log": the outer name stays the identity, it is what the user has. */
	char *path = strdup(f->path);
	if (!path)
		return error_entry(src, NULL, "unreadable", "out of memory");
	struct stream *g = f->s;
	f->s = NULL;
	f->done = true;
	/* The compressed file's size and time identify its content: an unchanged .log.gz is
	 * known without reading it. */
	return dispatch(src, g, path, f->size, f->mtime, ul_location_of(path, false), false, false);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_drive_root(const char *dir_name, char **names, size_t n)
{
	const char *base = strrchr(dir_name, '/');
	base = base ? base + 1 : dir_name;
	if (drive_root_name(base, strlen(base)))
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(names[i], "Program Files") == 0 ||
		    strcasecmp(names[i], "Dcdsrvr") == 0 || strcasecmp(names[i], "WINNT") == 0)
			return true;
	return false;
}

/* Open folder `fs` (display `path`, owned) as a new frame. 1 = error entry, 0 = pushed. */
static int open_dir(struct ul_source *src, char *fs, char *path, const struct stat *st)
{
	for (size_t i = 0; i < src->nframes; i++) {
		const struct frame *f = &src->frames[i];
		if (f->kind == F_DIR && f->dev == st->st_dev && f->ino == st->st_ino) {
			free(fs);
			return error_entry(
			        src, path, "loop",
			        "%s: symbolic link loop (leads back to %s); not followed", path,
			        f->path);
		}
	}
	DIR *d = opendir(fs);
	if (!d) {
		int e = errno;
		free(fs);
		return error_entry(src, path, "unreadable", "%s: cannot open folder: %s", path,
		                   strerror(e));
	}
	struct frame f = {
		.kind = F_DIR, .path = path, .fs = fs, .dev = st->st_dev, .ino = st->st_ino
	};
	bool oom = false;
	for (struct dirent *e; !oom && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char **v = realloc(f.names, (f.n + 1) * sizeof(*v));
		oom = !v || !(v[f.n] = strdup(e->d_name));
		if (v)
			f.names = v;
		if (!oom)
			f.n++;
	}
	closedir(d);
	if (oom) {
		/* A folder half listed would lose files without a word. */
		for (size_t i = 0; i < f.n; i++)
			free(f.names[i]);
		free(f.names);
		free(fs);
		return error_entry(src, path, "unreadable", "%s: out of memory listing the folder",
		                   path);
	}
	if (f.n)
		qsort(f.names, f.n, sizeof(*f.names), cmp_str);
	f.drive_root = is_drive_root(path, f.names, f.n);
	if (!frame_push(src, &f)) {
		for (size_t i = 0; i < f.n; i++)
			free(f.names[i]);
		free(f.names);
		free(fs);
		return error_entry(src, path, "too-deep", "%s: folders nested too deep", path);
	}
	return 0;
}

static int open_file(struct ul_source *src, char *fs, char *path, const struct stat *st,
                     enum ul_location loc, bool renamed)
{
	int fd = open(fs, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		free(fs);
		return error_entry(src, path, "unreadable", "%s: cannot open: %s", path,
		                   strerror(e));
	}
	free(fs);
	struct stream *s = stream_new(S_FD, &src->lim, path);
	if (!s) {
		close(fd);
		return error_entry(src, path, "unreadable", "%s: out of memory", path);
	}
	s->fd = fd;
	s->own_fd = true;
	/* Read front to back, once: let the kernel read ahead. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return dispatch(src, s, path, (int64_t)st->st_size, (int64_t)st->st_mtime, loc, renamed,
	                true);
}

static int next_in_dir(struct ul_source *src, struct frame *f)
{
	if (f->i >= f->n) {
		frame_pop(src);
		return 0;
	}
	const char *name = f->names[f->i++];
	char *fs = join(f->fs, "/", name);
	bool renamed = false;
	char *clean = clean_name(name, strlen(name), &renamed);
	char *path = clean ? join(f->path, "/", clean) : NULL;
	free(clean);
	if (!fs || !path) {
		free(fs);
		free(path);
		return error_entry(src, NULL, "unreadable", "out of memory");
	}
	struct stat st;
	if (stat(fs, &st) != 0) {
		int e = errno;
		struct stat lst;
		bool dangling = lstat(fs, &lst) == 0 && S_ISLNK(lst.st_mode);
		free(fs);
		if (e == ELOOP)
			return error_entry(src, path, "loop",
			                   "%s: symbolic link loop; not followed", path);
		return error_entry(src, path, "unreadable", "%s: %s", path,
		                   dangling ? "broken symbolic link" : strerror(e));
	}
	if (S_ISDIR(st.st_mode))
		return open_dir(src, fs, path, &st);
	enum ul_location loc = ul_location_of(path, f->drive_root);
	if (!S_ISREG(st.st_mode) || !wanted(name, loc == UL_LOC_CISCO_LOGS || loc == UL_LOC_DCD)) {
		free(fs);
		free(path);
		return 0;
	}
	return open_file(src, fs, path, &st, loc, renamed);
}

static int next_single(struct ul_source *src, struct frame *f)
{
	if (f->done || !f->s) {
		frame_pop(src);
		return 0;
	}
	f->done = true;
	struct stream *s = f->s;
	f->s = NULL;
	char *path = strdup(f->path);
	if (!path) {
		stream_free(s);
		return error_entry(src, NULL, "unreadable", "out of memory");
	}
	return dispatch(src, s, path, src->size, src->mtime, ul_location_of(path, false), false,
	                src->kind != UL_SRC_STDIN);
}

int ul_source_next(struct ul_source *src, const struct ul_entry **entry)
{
	drop_entry(src);
	while (src->nframes) {
		struct frame *f = &src->frames[src->nframes - 1];
		int rc = 0;
		switch (f->kind) {
		case F_DIR:
			rc = next_in_dir(src, f);
			break;
		case F_GZ:
			rc = next_in_gz(src, f);
			break;
		case F_SINGLE:
			rc = next_single(src, f);
			break;
		case F_ARCHIVE:
#if UL_HAVE_LIBARCHIVE
			rc = next_member(src, f);
#else
			frame_pop(src);
#endif
			break;
		}
		if (rc) {
			*entry = &src->entry;
			return 1;
		}
	}
	return 0;
}

int64_t ul_source_consumed(const struct ul_source *src)
{
	if (src->kind == UL_SRC_DIR || src->kind == UL_SRC_STDIN || src->size <= 0)
		return -1;
	if (src->root_fd < 0)
		return src->nframes == 0 ? src->size : -1;
	off_t pos = lseek(src->root_fd, 0, SEEK_CUR);
	if (pos < 0)
		return -1;
	return (int64_t)pos < src->size ? (int64_t)pos : src->size;
}

ssize_t ul_source_read(struct ul_source *src, void *buf, size_t cap, struct ul_error *err)
{
	if (!src->cur)
		return 0;
	ssize_t n = stream_read(src->cur, buf, cap);
	if (n < 0 && err)
		*err = src->cur->err;
	return n;
}

void ul_source_skip(struct ul_source *src)
{
	/* Archive members are skipped by the next header read; files and gzip streams close. */
	if (src->cur_owned)
		stream_free(src->cur);
	src->cur = NULL;
	src->cur_owned = false;
}

/* Kind of a top-level input, decided by looking inside it (a .gz may hold a tar). */
static enum ul_source_kind top_kind(struct stream *s, const struct ul_source_limits *lim)
{
	switch (sniff(s)) {
	case C_ZIP:
		return UL_SRC_ZIP;
	case C_TAR:
		return UL_SRC_TAR;
	case C_LOG:
		return UL_SRC_FILE;
	case C_GZ:
		break;
	}
	/* Peek through the gzip layer without consuming the outer stream for good. */
	z_stream z = { 0 };
	unsigned char out[PEEK];
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return UL_SRC_GZ;
	z.next_in = (unsigned char *)s->peek;
	z.avail_in = (uInt)s->npeek;
	z.next_out = out;
	z.avail_out = sizeof(out);
	inflate(&z, Z_SYNC_FLUSH);
	size_t got = sizeof(out) - z.avail_out;
	inflateEnd(&z);
	(void)lim;
	return got >= 262 && memcmp(out + 257, "ustar", 5) == 0 ? UL_SRC_TAR : UL_SRC_GZ;
}

struct ul_source *ul_source_open(const char *path, const struct ul_source_limits *limits,
                                 struct ul_error *err)
{
	struct ul_source *src = calloc(1, sizeof(*src));
	if (src)
		src->root_fd = -1;
	if (!src || !(src->path = strdup(path))) {
		free(src);
		ul_error_set(err, "unreadable", "%s: out of memory", path);
		return NULL;
	}
	if (limits)
		src->lim = *limits;
	if (!src->lim.max_size)
		src->lim.max_size = UL_DEFAULT_MAX_SIZE;
	if (!src->lim.max_ratio)
		src->lim.max_ratio = UL_DEFAULT_MAX_RATIO;
	if (!src->lim.max_depth)
		src->lim.max_depth = UL_DEFAULT_MAX_DEPTH;

	struct frame f = { .kind = F_SINGLE };
	struct stat st;
	if (strcmp(path, "-") == 0) {
		src->kind = UL_SRC_STDIN;
		f.s = stream_new(S_FD, &src->lim, src->path);
		if (f.s)
			f.s->fd = STDIN_FILENO;
	} else {
		if (stat(path, &st) != 0) {
			ul_error_set(err, "unreadable", "%s: %s", path, strerror(errno));
			goto fail;
		}
		src->mtime = (int64_t)st.st_mtime;
		if (S_ISDIR(st.st_mode)) {
			src->kind = UL_SRC_DIR;
			bool renamed = false;
			char *fs = strdup(path), *disp = clean_name(path, strlen(path), &renamed);
			if (!fs || !disp) {
				free(fs);
				free(disp);
				ul_error_set(err, "unreadable", "%s: out of memory", path);
				goto fail;
			}
			size_t n = strlen(disp);
			while (n > 1 && disp[n - 1] == '/')
				disp[--n] = '\0';
			if (open_dir(src, fs, disp, &st)) {
				ul_error_set(err, src->entry.error_kind, "%s", src->entry.error);
				goto fail;
			}
			return src;
		}
		if (!S_ISREG(st.st_mode)) {
			ul_error_set(err, "unreadable", "%s: not a regular file or folder", path);
			goto fail;
		}
		src->size = (int64_t)st.st_size;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			ul_error_set(err, "unreadable", "%s: cannot open: %s", path,
			             strerror(errno));
			goto fail;
		}
		f.s = stream_new(S_FD, &src->lim, src->path);
		if (f.s) {
			f.s->fd = fd;
			f.s->own_fd = true;
			src->root_fd = fd;
		} else {
			close(fd);
		}
	}
	bool renamed = false;
	if (!f.s ||
	    !(f.path = src->kind == UL_SRC_STDIN ? strdup(path)
	                                         : clean_name(path, strlen(path), &renamed))) {
		stream_free(f.s);
		ul_error_set(err, "unreadable", "%s: out of memory", path);
		goto fail;
	}
	if (!stream_peek(f.s)) {
		ul_error_set(err, f.s->err.kind, "%s", f.s->err.msg);
		stream_free(f.s);
		free(f.path);
		goto fail;
	}
	if (src->kind != UL_SRC_STDIN)
		src->kind = top_kind(f.s, &src->lim);
	frame_push(src, &f);
	return src;
fail:
	ul_source_close(src);
	return NULL;
}
