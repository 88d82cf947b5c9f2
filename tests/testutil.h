/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the unit tests: temporary folders, files, a PRNG, a UTF-8 validator, gzip
 * in memory and zip/tar archives built with libarchive's writer. Every helper fails the running
 * cmocka test when the machine refuses (no space, no permission), so tests stay short.
 */
#ifndef UPGLOG_TESTUTIL_H
#define UPGLOG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "upglog/catalog.h"
#include "upglog/store.h"

#if UL_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#endif

/* ---- families ---------------------------------------------------------------------------- */

/*
 * Families for tests that bring their own rules: the catalogue needs them declared (rules
 * name families, `family NAME` blocks declare them). Declared in this order, so the TU_FAM_*
 * numbers below are their indexes; tests on the shipped catalogue look families up by name.
 */
#define TU_FAMILIES                                                                            \
	"family msi\n  verdict msi\n  priority 10\n  line ^MSI \\(\n"                          \
	"family burn\n  line ^\\[[0-9A-F]+:[0-9A-F]+\\]\\[\n"                                  \
	"family sql\n  name sqlstp*\n"                                                         \
	"family dcd\n  path *dcdsrvr/*\n"                                                      \
	"family cisco\n  path *cisco/logs/*\n"                                                 \
	"family generic\n  fallback yes\n"                                                     \
	"family installshield\n  verdict sessions\n  first-line ^\\[InstallShield Silent\\]\n" \
	"family inno\n  decides outcome-failed outcome-ok user-cancel\n  line Inno Setup\n"

enum {
	TU_FAM_MSI = 0,
	TU_FAM_BURN,
	TU_FAM_SQL,
	TU_FAM_DCD,
	TU_FAM_CISCO,
	TU_FAM_GENERIC,
	TU_FAM_INSTALLSHIELD,
	TU_FAM_INNO,
	TU_FAM_COUNT,
};

/* A compiled catalogue of the test families and one rules text `rules` (named `name`). */
static inline struct ul_catalog *tu_catalog(const char *name, const char *rules, size_t len)
{
	struct ul_error err;
	struct ul_catalog *cat = ul_catalog_new();
	assert_non_null(cat);
	assert_true(
	        ul_catalog_add_text(cat, "families.rules", TU_FAMILIES, strlen(TU_FAMILIES), &err));
	assert_true(ul_catalog_add_text(cat, name, rules, len, &err));
	assert_true(ul_catalog_compile(cat, &err));
	return cat;
}

/* A database in memory with a scan of `cat` begun (its id in `*scan`). */
static inline struct ul_store *tu_memory_store(struct ul_catalog *cat, int64_t *scan)
{
	struct ul_error err;
	struct ul_store *st = ul_store_open(":memory:", UL_STORE_CREATE, &err);
	assert_non_null(st);
	assert_true(ul_store_begin_scan(st, "test", "[]", cat, scan, &err));
	return st;
}

/* ---- memory and strings ------------------------------------------------------------------ */

static inline void *tu_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		fail_msg("out of memory (%zu bytes)", n);
	return p;
}

/* printf into a new string. */
static inline char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline char *tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		fail_msg("out of memory formatting a string");
	return s;
}

/*
 * Query rows as text (an ul_row_fn for ul_store_query): each row's values joined by '|' and
 * ended by '\n', NULL as "NULL", appended to `s` (malloc'd, NUL-terminated; NULL while empty).
 */
struct tu_dump {
	char *s;
	size_t len, cap;
};

static inline bool tu_dump_row(void *ctx, int ncols, const char *const *names,
                               const char *const *values)
{
	struct tu_dump *d = ctx;
	(void)names;
	for (int i = 0; i < ncols; i++) {
		const char *v = values[i] ? values[i] : "NULL";
		size_t n = strlen(v) + 1;
		if (d->len + n + 1 > d->cap) {
			d->cap = (d->cap + n) * 2;
			d->s = realloc(d->s, d->cap);
			assert_non_null(d->s);
		}
		memcpy(d->s + d->len, v, n - 1);
		d->len += n - 1;
		d->s[d->len++] = i + 1 < ncols ? '|' : '\n';
		d->s[d->len] = '\0';
	}
	return true;
}

static inline char *tu_join(const char *a, const char *b)
{
	return tu_fmt("%s/%s", a, b);
}

static inline bool tu_contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* ---- a small deterministic PRNG (splitmix64) ------------------------------------------- */

static inline uint64_t tu_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline size_t tu_below(uint64_t *state, size_t n)
{
	return n ? (size_t)(tu_rand(state) % n) : 0;
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

/*
 * Strict UTF-8 check (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
 * Returns the offset of the first bad byte, or `n` when all of s[0..n) is valid.
 */
static inline size_t tu_utf8_bad_at(const void *data, size_t n)
{
	const unsigned char *s = data;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += len;
	}
	return n;
}

static inline bool tu_utf8_valid(const void *data, size_t n)
{
	return tu_utf8_bad_at(data, n) == n;
}

/* ---- files and folders ------------------------------------------------------------------- */

/* A new empty folder under $TMPDIR (or the system default). Free with tu_rmrf + free. */
static inline char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = P_tmpdir;
	char *t = tu_fmt("%s/upglog-test-XXXXXX", base);
	if (!mkdtemp(t))
		fail_msg("mkdtemp %s: %s", t, strerror(errno));
	return t;
}

/* mkdir -p for `path` itself. */
static inline void tu_mkdirs(const char *path)
{
	char *p = tu_fmt("%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

/* Write `len` bytes to dir/rel, creating the folders in between. Returns the full path. */
static inline char *tu_write(const char *dir, const char *rel, const void *data, size_t len)
{
	char *path = tu_join(dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	tu_mkdirs(path);
	*slash = '/';
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("create %s: %s", path, strerror(errno));
	if (len && fwrite(data, 1, len, f) != len)
		fail_msg("write %s: %s", path, strerror(errno));
	if (fclose(f) != 0)
		fail_msg("close %s: %s", path, strerror(errno));
	return path;
}

static inline char *tu_write_str(const char *dir, const char *rel, const char *text)
{
	return tu_write(dir, rel, text, strlen(text));
}

/* Whole file into memory (NUL added after the data). */
static inline char *tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("open %s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	char *buf = tu_xmalloc(cap);
	for (;;) {
		if (cap - n < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				fail_msg("out of memory");
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static inline int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf; symbolic links are removed, never followed. */
static inline void tu_rmrf(const char *path)
{
	if (path)
		nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- gzip -------------------------------------------------------------------------------- */

/* One gzip member holding data[0..len). */
static inline unsigned char *tu_gzip(const void *data, size_t len, int level, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		fail_msg("deflateInit2 failed");
	size_t cap = deflateBound(&z, (uLong)len) + 64;
	unsigned char *out = tu_xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		fail_msg("deflate did not finish");
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* a then b in one new buffer. */
static inline unsigned char *tu_concat(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char *out = tu_xmalloc(alen + blen);
	memcpy(out, a, alen);
	memcpy(out + alen, b, blen);
	return out;
}

/* ---- archives ---------------------------------------------------------------------------- */

#if UL_HAVE_LIBARCHIVE

/** Zip compression of one member. */
enum tu_method { TU_DEFAULT = 0, TU_STORE, TU_DEFLATE };

/** One member of an archive to build; `dir` makes a folder entry. */
struct tu_member {
	const char *name;
	const void *data;
	size_t len;
	enum tu_method method; /* zip only */
	bool dir;
};

struct tu_buf {
	unsigned char *p;
	size_t n, cap;
};

static inline la_ssize_t tu_ar_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	struct tu_buf *b = ctx;
	(void)a;
	if (b->cap - b->n < len) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap - b->n < len)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return (la_ssize_t)len;
}

/*
 * Build an archive in memory. `format` is a libarchive format name ("zip", "ustar", "pax"),
 * `filter` a filter name ("gzip") or NULL, `options` libarchive options for the whole archive
 * (or NULL) and `passphrase` the password for encrypted zip members (or NULL).
 */
static inline unsigned char *tu_archive(const char *format, const char *filter, const char *options,
                                        const char *passphrase, const struct tu_member *m, size_t n,
                                        size_t *outlen)
{
	struct tu_buf b = { 0 };
	struct archive *a = archive_write_new();
	if (!a)
		fail_msg("archive_write_new failed");
	if (archive_write_set_format_by_name(a, format) != ARCHIVE_OK)
		fail_msg("format %s: %s", format, archive_error_string(a));
	if (filter && archive_write_add_filter_by_name(a, filter) != ARCHIVE_OK)
		fail_msg("filter %s: %s", filter, archive_error_string(a));
	if (options && archive_write_set_options(a, options) != ARCHIVE_OK)
		fail_msg("options %s: %s", options, archive_error_string(a));
	if (passphrase && archive_write_set_passphrase(a, passphrase) != ARCHIVE_OK)
		fail_msg("passphrase: %s", archive_error_string(a));
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, &b, NULL, tu_ar_write, NULL) != ARCHIVE_OK)
		fail_msg("archive_write_open: %s", archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		if (m[i].method == TU_STORE &&
		    archive_write_zip_set_compression_store(a) != ARCHIVE_OK)
			fail_msg("store %s: %s", m[i].name, archive_error_string(a));
		if (m[i].method == TU_DEFLATE &&
		    archive_write_zip_set_compression_deflate(a) != ARCHIVE_OK)
			fail_msg("deflate %s: %s", m[i].name, archive_error_string(a));
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, m[i].dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, m[i].dir ? 0755 : 0644);
		archive_entry_set_size(e, m[i].dir ? 0 : (la_int64_t)m[i].len);
		archive_entry_set_mtime(e, 1500000000, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			fail_msg("header %s: %s", m[i].name, archive_error_string(a));
		if (!m[i].dir && m[i].len &&
		    archive_write_data(a, m[i].data, m[i].len) != (la_ssize_t)m[i].len)
			fail_msg("data %s: %s", m[i].name, archive_error_string(a));
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		fail_msg("archive_write_close: %s", archive_error_string(a));
	archive_write_free(a);
	*outlen = b.n;
	return b.p;
}

#endif /* UL_HAVE_LIBARCHIVE */

#endif
