/* SPDX-License-Identifier: MIT */
/* source: folders, gzip, zip and tar inputs -> entries (include/upglog/source.h). */
#include "testutil.h"

#include "upglog/source.h"

#define KEEP (4u << 20) /* bytes of an entry kept for comparison */

/* ---- running a source -------------------------------------------------------------------- */

struct got {
	char *path; /* relative to the top-level input when it starts with it */
	char *error_kind;
	enum ul_location loc;
	bool renamed, noted;
	int64_t size, mtime;
	char *data;  /* first KEEP bytes */
	size_t len;  /* all bytes read */
	int read_rc; /* 0 clean end, -1 error */
	char read_kind[24];
	char read_msg[UL_ERROR_MAX];
};

struct run {
	struct got *v;
	size_t n;
	enum ul_source_kind kind;
};

static char *relative(const char *path, const char *top)
{
	size_t n = strlen(top);
	if (strncmp(path, top, n) == 0) {
		path += n;
		while (*path == '/')
			path++;
	}
	return tu_fmt("%s", path);
}

/* Read every entry of `top`; `chunk` is the read size. */
static struct run scan_with(const char *top, const struct ul_source_limits *lim, size_t chunk)
{
	struct run r = { 0 };
	struct ul_error err;
	ul_error_clear(&err);
	struct ul_source *src = ul_source_open(top, lim, &err);
	if (!src)
		fail_msg("open %s: %s (%s)", top, err.msg, err.kind);
	r.kind = ul_source_kind(src);
	assert_string_equal(ul_source_path(src), top);
	char *buf = tu_xmalloc(chunk);
	const struct ul_entry *e;
	size_t cap = 0;
	while (ul_source_next(src, &e) == 1) {
		assert_non_null(e);
		assert_non_null(e->path);
		if (!tu_utf8_valid(e->path, strlen(e->path)))
			fail_msg("entry path is not valid UTF-8: '%s'", e->path);
		if (r.n == cap) {
			cap = cap ? 2 * cap : 16;
			r.v = realloc(r.v, cap * sizeof(*r.v));
			assert_non_null(r.v);
		}
		struct got *g = &r.v[r.n++];
		memset(g, 0, sizeof(*g));
		g->path = relative(e->path, top);
		g->loc = e->location;
		g->renamed = e->renamed;
		g->noted = e->note != NULL;
		g->size = e->size;
		g->mtime = e->mtime;
		if (e->error_kind) {
			assert_non_null(e->error);
			g->error_kind = tu_fmt("%s", e->error_kind);
			assert_int_equal(ul_source_read(src, buf, chunk, &err), 0);
			continue;
		}
		g->data = tu_xmalloc(KEEP);
		for (;;) {
			ul_error_clear(&err);
			ssize_t n = ul_source_read(src, buf, chunk, &err);
			if (n < 0) {
				g->read_rc = -1;
				snprintf(g->read_kind, sizeof(g->read_kind), "%s", err.kind);
				snprintf(g->read_msg, sizeof(g->read_msg), "%s", err.msg);
				break;
			}
			if (n == 0)
				break;
			assert_true((size_t)n <= chunk);
			if (g->len < KEEP)
				memcpy(g->data + g->len, buf,
				       (size_t)n < KEEP - g->len ? (size_t)n : KEEP - g->len);
			g->len += (size_t)n;
		}
	}
	/* Exhausted stays exhausted. */
	assert_int_equal(ul_source_next(src, &e), 0);
	free(buf);
	ul_source_close(src);
	return r;
}

static struct run scan(const char *top, const struct ul_source_limits *lim)
{
	return scan_with(top, lim, 1000);
}

static void free_run(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].error_kind);
		free(r->v[i].data);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static const struct got *find(const struct run *r, const char *rel)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].path, rel) == 0)
			return &r->v[i];
	return NULL;
}

static void dump(const struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		print_message("  entry %zu: '%s' error=%s read=%d %s len=%zu\n", i, r->v[i].path,
		              r->v[i].error_kind ? r->v[i].error_kind : "-", r->v[i].read_rc,
		              r->v[i].read_kind, r->v[i].len);
}

/* The entry `rel`, read cleanly with exactly `len` bytes `data`. */
static const struct got *expect_entry(const struct run *r, const char *rel, const void *data,
                                      size_t len)
{
	const struct got *g = find(r, rel);
	if (!g) {
		dump(r);
		fail_msg("no entry '%s'", rel);
	}
	if (g->error_kind)
		fail_msg("'%s' is an error entry: %s", rel, g->error_kind);
	if (g->read_rc != 0)
		fail_msg("reading '%s' failed: %s (%s)", rel, g->read_msg, g->read_kind);
	if (g->len != len)
		fail_msg("'%s': %zu bytes read, expected %zu", rel, g->len, len);
	assert_memory_equal(g->data, data, len < KEEP ? len : KEEP);
	return g;
}

static const struct got *expect_text(const struct run *r, const char *rel, const char *text)
{
	return expect_entry(r, rel, text, strlen(text));
}

/* Kind of the failure of an entry: its error entry kind or its read error kind, or NULL. */
static const char *failure_of(const struct got *g)
{
	if (g->error_kind)
		return g->error_kind;
	return g->read_rc < 0 ? g->read_kind : NULL;
}

/* Log-like text of about `n` bytes, different for each seed. */
static char *log_text(size_t n, uint64_t seed)
{
	char *s = tu_xmalloc(n + 100);
	size_t o = 0;
	uint64_t rng = seed;
	for (unsigned i = 0; o < n; i++)
		o += (size_t)sprintf(s + o,
		                     "MSI (s) (A0:EC) [12:00:%02u:%03u]: line %u value %016llx\r\n",
		                     i % 60, i % 1000, i, (unsigned long long)tu_rand(&rng));
	s[n] = '\0';
	return s;
}

/* Each test gets a fresh temporary folder as its state, removed even when the test fails. */
static int make_tmp(void **state)
{
	*state = tu_tmpdir();
	return 0;
}

static int remove_tmp(void **state)
{
	tu_rmrf(*state);
	free(*state);
	return 0;
}

/* ---- folders ----------------------------------------------------------------------------- */

static void walk_order_and_filter(void **state)
{
	const char *tmp = *state;
	const char *names[] = { "b.log",     "a.txt",         "c.out",    "d.err", "e.exe",
		                "f.dll",     "g.log.1",       "h",        "i.LOG", "j.Txt",
		                "sub/z.log", "sub/readme.md", "k.zip.bak" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *content = tu_fmt("content of %s\n", names[i]);
		free(tu_write_str(tmp, names[i], content));
		free(content);
	}
	char *empty = tu_join(tmp, "sub2");
	tu_mkdirs(empty);
	free(empty);

	struct run r = scan(tmp, NULL);
	assert_int_equal(r.kind, UL_SRC_DIR);
	const char *want[] = { "a.txt",   "b.log", "c.out", "d.err",
		               "g.log.1", "i.LOG", "j.Txt", "sub/z.log" };
	if (r.n != sizeof(want) / sizeof(want[0]))
		dump(&r);
	assert_int_equal(r.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < r.n; i++) {
		assert_string_equal(r.v[i].path, want[i]);
		char *content = tu_fmt("content of %s\n", want[i]);
		expect_text(&r, want[i], content);
		assert_int_equal(r.v[i].size, (int64_t)strlen(content));
		assert_true(r.v[i].mtime > 0);
		assert_false(r.v[i].renamed);
		assert_int_equal(r.v[i].loc, UL_LOC_OTHER);
		free(content);
	}
	free_run(&r);

	/* Read sizes do not matter. */
	r = scan_with(tmp, NULL, 1);
	expect_text(&r, "b.log", "content of b.log\n");
	free_run(&r);
}

static void walk_no_extension_in_log_folders(void **state)
{
	const char *tmp = *state;
	free(tu_write_str(tmp, "srv/Program Files/Common Files/Cisco/Logs/CCM/trace", "cisco\n"));
	free(tu_write_str(tmp, "srv/Program Files/Common Files/Cisco/Logs/ccm.exe", "MZ\n"));
	free(tu_write_str(tmp, "srv/Dcdsrvr/log/dcx500", "dcd\n"));
	free(tu_write_str(tmp, "srv/Dcdsrvr/bin/dcxadmin", "bin\n"));
	free(tu_write_str(tmp, "srv/other/noext", "no\n"));
	struct run r = scan(tmp, NULL);
	if (r.n != 2)
		dump(&r);
	assert_int_equal(r.n, 2);
	const struct got *g = expect_text(&r, "srv/Dcdsrvr/log/dcx500", "dcd\n");
	assert_int_equal(g->loc, UL_LOC_DCD);
	g = expect_text(&r, "srv/Program Files/Common Files/Cisco/Logs/CCM/trace", "cisco\n");
	assert_int_equal(g->loc, UL_LOC_CISCO_LOGS);
	free_run(&r);
}

static void explicit_path_always_read(void **state)
{
	const char *tmp = *state;
	const char *names[] = { "tool.exe", "README", "data.bin" };
	for (size_t i = 0; i < 3; i++) {
		char *path = tu_write_str(tmp, names[i], "named on the command line\n");
		struct run r = scan(path, NULL);
		assert_int_equal(r.kind, UL_SRC_FILE);
		assert_int_equal(r.n, 1);
		expect_text(&r, "", "named on the command line\n");
		free_run(&r);

		struct ul_error err;
		struct ul_source *src = ul_source_open(path, NULL, &err);
		assert_non_null(src);
		assert_int_equal(ul_source_size(src), 26);
		assert_true(ul_source_mtime(src) > 0);
		const struct ul_entry *e;
		assert_int_equal(ul_source_next(src, &e), 1);
		assert_string_equal(e->path, path);
		assert_null(e->error_kind);
		ul_source_close(src);
		free(path);
	}
}

static void open_errors_and_empty(void **state)
{
	const char *tmp = *state;
	char *missing = tu_join(tmp, "missing.log");
	struct ul_error err;
	ul_error_clear(&err);
	assert_null(ul_source_open(missing, NULL, &err));
	assert_string_equal(err.kind, "unreadable");
	assert_true(tu_contains(err.msg, missing));

	struct run r = scan(tmp, NULL);
	assert_int_equal(r.kind, UL_SRC_DIR);
	assert_int_equal(r.n, 0);
	free_run(&r);

	/* An empty file is one empty entry. */
	char *empty = tu_write(tmp, "empty.log", "", 0);
	r = scan(empty, NULL);
	assert_int_equal(r.n, 1);
	expect_entry(&r, "", "", 0);
	free_run(&r);

	assert_string_equal(ul_source_kind_name(UL_SRC_FILE), "file");
	assert_string_equal(ul_source_kind_name(UL_SRC_DIR), "dir");
	assert_string_equal(ul_source_kind_name(UL_SRC_GZ), "gz");
	assert_string_equal(ul_source_kind_name(UL_SRC_ZIP), "zip");
	assert_string_equal(ul_source_kind_name(UL_SRC_TAR), "tar");
	assert_string_equal(ul_source_kind_name(UL_SRC_STDIN), "stdin");
	free(empty);
	free(missing);
}

/* ---- locations --------------------------------------------------------------------------- */

static void location_of_paths(void **state)
{
	(void)state;
	struct {
		const char *path;
		bool root;
		enum ul_location want;
	} cases[] = {
		{ "D:\\dump\\Program Files\\Common Files\\Cisco\\Logs\\CCM\\ccm.log", false,
		  UL_LOC_CISCO_LOGS },
		{ "dump/program files/common files/cisco/logs/x.txt", false, UL_LOC_CISCO_LOGS },
		{ "b.zip!Program Files/Common Files/Cisco/Logs/trace", false, UL_LOC_CISCO_LOGS },
		{ "C:\\Dcdsrvr\\log\\trace.log", false, UL_LOC_DCD },
		{ "srv/DCDSRVR/LOG/sub/x", false, UL_LOC_DCD },
		{ "srv/MyDcdsrvr/log/a.log", false, UL_LOC_OTHER },
		{ "srv/Dcdsrvr/logs/a.log", false, UL_LOC_OTHER },
		{ "srv/C/setup.log", false, UL_LOC_C_ROOT },
		{ "srv/c/setup.log", false, UL_LOC_C_ROOT },
		{ "srv/C$/setup.txt", false, UL_LOC_C_ROOT },
		{ "srv\\C$\\setup.log", false, UL_LOC_C_ROOT },
		{ "srv/c_drive/x.txt", false, UL_LOC_C_ROOT },
		{ "srv/drive_c/x.log", false, UL_LOC_C_ROOT },
		{ "srv/c-drive/x.log", false, UL_LOC_C_ROOT },
		{ "C/setup.log", false, UL_LOC_C_ROOT },
		{ "bundle.zip!C$/sqlstp.log", false, UL_LOC_C_ROOT },
		{ "srv/C/sub/setup.log", false, UL_LOC_OTHER },
		{ "srv/C/setup.exe", false, UL_LOC_OTHER },
		{ "srv/D/setup.log", false, UL_LOC_OTHER },
		{ "srv/CC/setup.log", false, UL_LOC_OTHER },
		{ "setup.log", false, UL_LOC_OTHER },
		{ "setup.log", true, UL_LOC_C_ROOT },
		{ "copy/setup.txt", true, UL_LOC_C_ROOT },
		{ "copy/setup.dat", true, UL_LOC_OTHER },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum ul_location got = ul_location_of(cases[i].path, cases[i].root);
		if (got != cases[i].want)
			fail_msg("'%s'%s: %s, expected %s", cases[i].path,
			         cases[i].root ? " (drive root)" : "", ul_location_name(got),
			         ul_location_name(cases[i].want));
	}
	assert_string_equal(ul_location_name(UL_LOC_OTHER), "other");
	assert_string_equal(ul_location_name(UL_LOC_CISCO_LOGS), "cisco-logs");
	assert_string_equal(ul_location_name(UL_LOC_DCD), "dcd");
	assert_string_equal(ul_location_name(UL_LOC_C_ROOT), "c-root");
}

static void location_in_walk(void **state)
{
	const char *tmp = *state;
	free(tu_write_str(tmp, "srv/C/setup.log", "x\n"));
	free(tu_write_str(tmp, "srv/C/sub/deep.log", "x\n"));
	free(tu_write_str(tmp, "copy/install.log", "x\n"));
	free(tu_write_str(tmp, "copy/notes.out", "x\n"));
	free(tu_write_str(tmp, "copy/Program Files/Common Files/Cisco/Logs/ccm.log", "x\n"));
	free(tu_write_str(tmp, "copy/Program Files/app.log", "x\n"));
	struct run r = scan(tmp, NULL);
	struct {
		const char *rel;
		enum ul_location want;
	} want[] = {
		{ "srv/C/setup.log", UL_LOC_C_ROOT },
		{ "srv/C/sub/deep.log", UL_LOC_OTHER },
		/* A folder holding "Program Files" is the root of a copied drive. */
		{ "copy/install.log", UL_LOC_C_ROOT },
		{ "copy/notes.out", UL_LOC_OTHER },
		{ "copy/Program Files/Common Files/Cisco/Logs/ccm.log", UL_LOC_CISCO_LOGS },
		{ "copy/Program Files/app.log", UL_LOC_OTHER },
	};
	assert_int_equal(r.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct got *g = find(&r, want[i].rel);
		if (!g)
			fail_msg("no entry %s", want[i].rel);
		if (g->loc != want[i].want)
			fail_msg("%s: %s, expected %s", want[i].rel, ul_location_name(g->loc),
			         ul_location_name(want[i].want));
	}
	free_run(&r);
}

/* ---- gzip -------------------------------------------------------------------------------- */

static void gz_single_file(void **state)
{
	const char *tmp = *state;
	char *text = log_text(300000, 1);
	size_t zlen;
	unsigned char *z = tu_gzip(text, strlen(text), 6, &zlen);
	char *path = tu_write(tmp, "MSI1234.LOG.gz", z, zlen);
	struct run r = scan(path, NULL);
	assert_int_equal(r.kind, UL_SRC_GZ);
	assert_int_equal(r.n, 1);
	const struct got *g = expect_text(&r, "", text);
	assert_int_equal(g->loc, UL_LOC_OTHER);
	free_run(&r);

	/* In a folder, with the name it has. */
	r = scan(tmp, NULL);
	assert_int_equal(r.n, 1);
	expect_text(&r, "MSI1234.LOG.gz", text);
	free_run(&r);

	/* Recognised by its bytes, not its name. */
	free(path);
	path = tu_write(tmp, "renamed.log", z, zlen);
	r = scan(path, NULL);
	expect_text(&r, "", text);
	free_run(&r);
	free(path);
	free(z);
	free(text);
}

static void gz_multi_member(void **state)
{
	const char *tmp = *state;
	const char *parts[] = { "first member\r\n", "second member\r\n", "", "fourth\r\n" };
	unsigned char *all = NULL;
	size_t alen = 0;
	char want[200] = "";
	for (size_t i = 0; i < 4; i++) {
		size_t zlen;
		unsigned char *z = tu_gzip(parts[i], strlen(parts[i]), 9, &zlen);
		unsigned char *next = tu_concat(all ? all : (unsigned char *)"", alen, z, zlen);
		free(all);
		free(z);
		all = next;
		alen += zlen;
		strcat(want, parts[i]);
	}
	char *path = tu_write(tmp, "multi.log.gz", all, alen);
	struct run r = scan(path, NULL);
	assert_int_equal(r.n, 1);
	expect_text(&r, "", want);
	free_run(&r);

	/* A big first member, so the second starts deep inside a read. */
	char *big = log_text(400000, 2);
	size_t z1len, z2len;
	unsigned char *z1 = tu_gzip(big, strlen(big), 1, &z1len);
	unsigned char *z2 = tu_gzip("tail\r\n", 6, 9, &z2len);
	unsigned char *cat = tu_concat(z1, z1len, z2, z2len);
	free(path);
	path = tu_write(tmp, "big.log.gz", cat, z1len + z2len);
	char *bigwant = tu_fmt("%stail\r\n", big);
	r = scan(path, NULL);
	expect_text(&r, "", bigwant);
	free_run(&r);
	free(bigwant);
	free(cat);
	free(z1);
	free(z2);
	free(big);
	free(all);
	free(path);
}

/* A second member whose magic bytes straddle the end of one read is still a member. */
static void gz_member_at_read_boundary(void **state)
{
	const char *tmp = *state;
	for (size_t target = 505; target <= 512; target++) {
		/* A stored (level 0) member of exactly `target` bytes. */
		char text[600];
		unsigned char *z1 = NULL;
		size_t z1len = 0, n;
		for (n = 1; n < sizeof(text); n++) {
			for (size_t i = 0; i < n; i++)
				text[i] = i % 40 == 39 ? '\n' : (char)('a' + i % 26);
			size_t len;
			unsigned char *z = tu_gzip(text, n, 0, &len);
			if (len == target) {
				z1 = z;
				z1len = len;
				break;
			}
			free(z);
		}
		if (!z1)
			continue;
		size_t z2len;
		unsigned char *z2 = tu_gzip("second member\n", 14, 9, &z2len);
		unsigned char *all = tu_concat(z1, z1len, z2, z2len);
		char *path = tu_write(tmp, "edge.log.gz", all, z1len + z2len);
		char *want = tu_fmt("%.*ssecond member\n", (int)n, text);
		struct run r = scan(path, NULL);
		const struct got *g = find(&r, "");
		assert_non_null(g);
		if (g->len != strlen(want) || memcmp(g->data, want, strlen(want)) != 0)
			fail_msg("first member of %zu compressed bytes: %zu bytes read, expected "
			         "%zu "
			         "(the second member is lost)",
			         target, g->len, strlen(want));
		free_run(&r);
		free(want);
		free(path);
		free(all);
		free(z1);
		free(z2);
	}
}

static void gz_truncated(void **state)
{
	const char *tmp = *state;
	char *text = log_text(200000, 3);
	size_t zlen;
	unsigned char *z = tu_gzip(text, strlen(text), 6, &zlen);
	size_t cuts[] = { zlen / 2, zlen - 4, zlen - 1 };
	for (size_t i = 0; i < 3; i++) {
		char *path = tu_write(tmp, "cut.log.gz", z, cuts[i]);
		struct run r = scan(path, NULL);
		assert_int_equal(r.n, 1);
		const struct got *g = &r.v[0];
		assert_null(g->error_kind);
		assert_int_equal(g->read_rc, -1);
		assert_string_equal(g->read_kind, "truncated");
		assert_true(tu_contains(g->read_msg, "cut.log.gz"));
		/* What came before the cut is good. */
		assert_true(g->len > 0 && g->len <= strlen(text));
		assert_memory_equal(g->data, text, g->len);
		if (i > 0)
			assert_int_equal(g->len, strlen(text));
		free_run(&r);
		free(path);
	}
	free(z);
	free(text);
}

static void gz_corrupt(void **state)
{
	const char *tmp = *state;
	char *text = log_text(50000, 4);
	size_t zlen;
	unsigned char *z = tu_gzip(text, strlen(text), 6, &zlen);

	/* A reserved block type right at the start. */
	unsigned char *bad = tu_concat(z, zlen, "", 0);
	bad[10] = 0x07;
	char *path = tu_write(tmp, "bad.log.gz", bad, zlen);
	struct run r = scan(path, NULL);
	assert_int_equal(r.n, 1);
	const char *kind = failure_of(&r.v[0]);
	assert_non_null(kind);
	assert_string_equal(kind, "corrupt");
	free_run(&r);
	free(path);

	/* A wrong CRC: every byte comes out, then the check fails. */
	memcpy(bad, z, zlen);
	bad[zlen - 8] ^= 0xFF;
	path = tu_write(tmp, "crc.log.gz", bad, zlen);
	r = scan(path, NULL);
	assert_int_equal(r.n, 1);
	kind = failure_of(&r.v[0]);
	assert_non_null(kind);
	assert_string_equal(kind, "corrupt");
	free_run(&r);
	free(path);
	free(bad);
	free(z);
	free(text);
}

static void gz_bomb_and_too_large(void **state)
{
	const char *tmp = *state;
	size_t n = 64u << 20;
	unsigned char *zeros = calloc(1, n);
	assert_non_null(zeros);
	size_t zlen;
	unsigned char *z = tu_gzip(zeros, n, 9, &zlen);
	free(zeros);
	char *path = tu_write(tmp, "bomb.log.gz", z, zlen);
	struct ul_source_limits lim = { .max_ratio = 50 };
	struct run r = scan_with(path, &lim, 1 << 16);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].read_rc, -1);
	assert_string_equal(r.v[0].read_kind, "bomb");
	assert_true(r.v[0].len < n);
	free_run(&r);

	/* The default ratio (200) lets a 1000:1 stream through only up to the grace size. */
	r = scan_with(path, NULL, 1 << 16);
	assert_string_equal(r.v[0].read_kind, "bomb");
	free_run(&r);

	/* Larger than max_size. */
	char *text = log_text(2u << 20, 5);
	free(z);
	z = tu_gzip(text, strlen(text), 6, &zlen);
	free(path);
	path = tu_write(tmp, "big.log.gz", z, zlen);
	struct ul_source_limits small = { .max_size = 1u << 20 };
	r = scan_with(path, &small, 1 << 16);
	assert_int_equal(r.v[0].read_rc, -1);
	assert_string_equal(r.v[0].read_kind, "too-large");
	assert_true(r.v[0].len <= (1u << 20) + (1u << 16));
	assert_memory_equal(r.v[0].data, text, r.v[0].len);
	free_run(&r);
	/* Within the limit: read whole. */
	struct ul_source_limits roomy = { .max_size = 4u << 20 };
	r = scan_with(path, &roomy, 1 << 16);
	expect_text(&r, "", text);
	free_run(&r);
	free(text);
	free(z);
	free(path);
}

/* A plain stream of many members is no bomb: the ratio counts all the input, not one member's. */
static void gz_multi_member_is_no_bomb(void **state)
{
	const char *tmp = *state;
	size_t n = 17u << 20;
	char *hex = tu_xmalloc(n);
	uint64_t rng = 6;
	for (size_t i = 0; i < n; i++)
		hex[i] = i % 64 == 63 ? '\n' : "0123456789abcdef"[tu_rand(&rng) & 15];
	size_t z1len, z2len;
	unsigned char *z1 = tu_gzip(hex, n, 1, &z1len);
	unsigned char *z2 = tu_gzip("tail\n", 5, 9, &z2len);
	unsigned char *all = tu_concat(z1, z1len, z2, z2len);
	char *path = tu_write(tmp, "two.log.gz", all, z1len + z2len);
	struct ul_source_limits lim = { .max_ratio = 50 };
	struct run r = scan_with(path, &lim, 1 << 16);
	assert_int_equal(r.n, 1);
	if (r.v[0].read_rc != 0)
		fail_msg("a %zu:%zu stream (ratio about %zu) failed: %s", n + 5, z1len + z2len,
		         (n + 5) / (z1len + z2len), r.v[0].read_msg);
	assert_int_equal(r.v[0].len, n + 5);
	free_run(&r);
	free(path);
	free(all);
	free(z1);
	free(z2);
	free(hex);
}

#if UL_HAVE_LIBARCHIVE

/* ---- zip --------------------------------------------------------------------------------- */

#define STORE   TU_STORE
#define DEFLATE TU_DEFLATE

static void zip_members(void **state)
{
	const char *tmp = *state;
	char *big = log_text(100000, 7);
	struct tu_member m[] = {
		{ "a.log", "alpha\r\n", 7, STORE, false },
		{ "inner/", NULL, 0, TU_DEFAULT, true },
		{ "inner/x.log", big, strlen(big), DEFLATE, false },
		{ "win\\dir\\y.log", "windows names\r\n", 15, DEFLATE, false },
		{ "prog.exe", "MZ", 2, STORE, false },
		{ "empty.log", "", 0, STORE, false },
		{ "Program Files/Common Files/Cisco/Logs/trace", "cisco\n", 6, DEFLATE, false },
		{ "./dot.txt", "dot\n", 4, STORE, false },
	};
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, sizeof(m) / sizeof(m[0]), &len);
	char *path = tu_write(tmp, "bundle.zip", zip, len);
	struct run r = scan(path, NULL);
	assert_int_equal(r.kind, UL_SRC_ZIP);
	if (r.n != 6)
		dump(&r);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.v[0].path, "!a.log");
	expect_text(&r, "!a.log", "alpha\r\n");
	const struct got *g = expect_text(&r, "!inner/x.log", big);
	assert_int_equal(g->size, (int64_t)strlen(big));
	assert_int_equal(g->mtime, 1500000000);
	expect_text(&r, "!win/dir/y.log", "windows names\r\n");
	expect_entry(&r, "!empty.log", "", 0);
	g = expect_text(&r, "!Program Files/Common Files/Cisco/Logs/trace", "cisco\n");
	assert_int_equal(g->loc, UL_LOC_CISCO_LOGS);
	expect_text(&r, "!dot.txt", "dot\n");
	assert_null(find(&r, "!prog.exe"));
	free_run(&r);

	/* In a folder, paths read outer.zip!inner/x.log. */
	r = scan(tmp, NULL);
	expect_text(&r, "bundle.zip!inner/x.log", big);
	free_run(&r);
	free(path);
	free(zip);
	free(big);
}

static bool has_bytes(const unsigned char *b, size_t n, const char *sig, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(b + i, sig, k) == 0)
			return true;
	return false;
}

static void zip64_members(void **state)
{
	const char *tmp = *state;
	char *text = log_text(70000, 8);
	struct tu_member m[] = {
		{ "one.log", text, strlen(text), DEFLATE, false },
		{ "two.log", "second\n", 7, STORE, false },
	};
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, "zip:zip64", NULL, m, 2, &len);
	/* The zip64 end-of-central-directory record proves the writer made a zip64 archive. */
	if (!has_bytes(zip, len, "PK\x06\x06", 4))
		skip();
	char *path = tu_write(tmp, "z64.zip", zip, len);
	struct run r = scan(path, NULL);
	assert_int_equal(r.n, 2);
	expect_text(&r, "!one.log", text);
	expect_text(&r, "!two.log", "second\n");
	free_run(&r);
	free(path);
	free(zip);
	free(text);
}

/* Set the "encrypted" flag of the first member in its local and central headers. */
static void flag_first_encrypted(unsigned char *zip, size_t len)
{
	assert_memory_equal(zip, "PK\x03\x04", 4);
	zip[6] |= 1;
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(zip + i, "PK\x01\x02", 4) == 0) {
			zip[i + 8] |= 1;
			return;
		}
	fail_msg("no central directory header");
}

static void zip_encrypted(void **state)
{
	const char *tmp = *state;
	struct tu_member m[] = {
		{ "secret.log", "top secret\n", 11, STORE, false },
		{ "plain.log", "plain text\n", 11, STORE, false },
	};
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, 2, &len);
	flag_first_encrypted(zip, len);
	char *path = tu_write(tmp, "flagged.zip", zip, len);
	struct run r = scan(path, NULL);
	const struct got *g = find(&r, "!secret.log");
	if (!g)
		dump(&r);
	assert_non_null(g);
	assert_non_null(g->error_kind);
	assert_string_equal(g->error_kind, "encrypted");
	expect_text(&r, "!plain.log", "plain text\n");
	free_run(&r);
	free(path);
	free(zip);

	/* Really encrypted with a password (traditional PKWARE), where libarchive can write it. */
	struct archive *probe = archive_write_new();
	archive_write_set_format_zip(probe);
	bool can = archive_write_set_options(probe, "zip:encryption=zipcrypt") == ARCHIVE_OK;
	archive_write_free(probe);
	if (can) {
		zip = tu_archive("zip", NULL, "zip:encryption=zipcrypt", "secret", m, 1, &len);
		path = tu_write(tmp, "zipcrypt.zip", zip, len);
		r = scan(path, NULL);
		assert_int_equal(r.n, 1);
		assert_non_null(r.v[0].error_kind);
		assert_string_equal(r.v[0].error_kind, "encrypted");
		free_run(&r);
		free(path);
		free(zip);
	}
}

static void zip_damaged(void **state)
{
	const char *tmp = *state;
	char *a = log_text(20000, 9), *b = log_text(20000, 10);
	size_t cn = 300000;
	char *c = tu_xmalloc(cn);
	uint64_t rng = 11;
	for (size_t i = 0; i < cn; i++)
		c[i] = (char)(i % 80 == 79 ? '\n' : 0x21 + tu_rand(&rng) % 94);
	for (int deflate = 0; deflate < 2; deflate++) {
		enum tu_method opt = deflate ? DEFLATE : STORE;
		struct tu_member m[] = {
			{ "a.log", a, strlen(a), opt, false },
			{ "b.log", b, strlen(b), opt, false },
			{ "c.log", c, cn, opt, false },
			{ "d.log", "after\n", 6, opt, false },
		};
		size_t len;
		unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, 4, &len);
		/* Cut in the middle of c.log's data: the central directory is gone too. */
		size_t cut = len - cn / 2;
		char *path = tu_write(tmp, "damaged.zip", zip, cut);
		struct run r = scan(path, NULL);
		expect_text(&r, "!a.log", a);
		expect_text(&r, "!b.log", b);
		/* c.log, or the archive after b.log, must be reported; d.log cannot be there. */
		bool reported = false;
		for (size_t i = 2; i < r.n; i++)
			reported = reported || failure_of(&r.v[i]) != NULL;
		if (!reported) {
			dump(&r);
			fail_msg("%s zip cut at %zu of %zu: the damage is not reported",
			         deflate ? "deflated" : "stored", cut, len);
		}
		const struct got *g = find(&r, "!c.log");
		if (g && !g->error_kind)
			assert_memory_equal(g->data, c, g->len < cn ? g->len : cn);
		assert_null(find(&r, "!d.log"));
		free_run(&r);
		free(path);
		free(zip);
	}
	free(a);
	free(b);
	free(c);
}

static void zip_member_bomb(void **state)
{
	const char *tmp = *state;
	size_t n = 64u << 20;
	unsigned char *zeros = calloc(1, n);
	assert_non_null(zeros);
	struct tu_member m[] = {
		{ "ok.log", "fine\n", 5, DEFLATE, false },
		{ "bomb.log", zeros, n, DEFLATE, false },
	};
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, 2, &len);
	free(zeros);
	char *path = tu_write(tmp, "bomb.zip", zip, len);
	struct ul_source_limits lim = { .max_ratio = 50 };
	struct run r = scan_with(path, &lim, 1 << 16);
	expect_text(&r, "!ok.log", "fine\n");
	const struct got *g = find(&r, "!bomb.log");
	assert_non_null(g);
	const char *kind = failure_of(g);
	assert_non_null(kind);
	assert_string_equal(kind, "bomb");
	free_run(&r);
	free(path);
	free(zip);
}

/* ---- tar --------------------------------------------------------------------------------- */

static void tar_and_tar_gz(void **state)
{
	const char *tmp = *state;
	char *text = log_text(30000, 12);
	struct tu_member m[] = {
		{ "logs/", NULL, 0, TU_DEFAULT, true },
		{ "logs/a.log", text, strlen(text), TU_DEFAULT, false },
		{ "logs/b.txt", "bee\n", 4, TU_DEFAULT, false },
		{ "bin/tool.exe", "MZ", 2, TU_DEFAULT, false },
		{ "logs/c.log.gz", NULL, 0, TU_DEFAULT, false },
	};
	size_t glen;
	unsigned char *gz = tu_gzip("inside gzip\n", 12, 9, &glen);
	m[4].data = gz;
	m[4].len = glen;
	for (int zipped = 0; zipped < 2; zipped++) {
		size_t len;
		unsigned char *tar =
		        tu_archive("ustar", zipped ? "gzip" : NULL, NULL, NULL, m, 5, &len);
		char *path = tu_write(tmp, zipped ? "b.tar.gz" : "b.tar", tar, len);
		struct run r = scan(path, NULL);
		if (zipped)
			assert_true(r.kind == UL_SRC_TAR || r.kind == UL_SRC_GZ);
		else
			assert_int_equal(r.kind, UL_SRC_TAR);
		if (r.n != 3)
			dump(&r);
		assert_int_equal(r.n, 3);
		assert_string_equal(r.v[0].path, "!logs/a.log");
		const struct got *g = expect_text(&r, "!logs/a.log", text);
		assert_int_equal(g->mtime, 1500000000);
		expect_text(&r, "!logs/b.txt", "bee\n");
		expect_text(&r, "!logs/c.log.gz", "inside gzip\n");
		free_run(&r);
		free(path);
		free(tar);
	}
	free(gz);
	free(text);
}

/* A member name that is not UTF-8 is shown with \xNN escapes, like a file name on disk. */
static void archive_member_non_utf8_name(void **state)
{
	const char *tmp = *state;
	struct tu_member m[] = {
		{ "logs/bad\xFF.log", "latin\n", 6, TU_DEFAULT, false },
		{ "logs/good.log", "good\n", 5, TU_DEFAULT, false },
	};
	size_t len;
	unsigned char *tar = tu_archive("ustar", NULL, NULL, NULL, m, 2, &len);
	char *path = tu_write(tmp, "names.tar", tar, len);
	struct run r = scan(path, NULL);
	assert_int_equal(r.n, 2);
	expect_text(&r, "!logs/good.log", "good\n");
	const struct got *g = find(&r, "!logs/bad\\xFF.log");
	if (!g) {
		dump(&r);
		fail_msg("no entry '!logs/bad\\xFF.log'");
	}
	assert_true(g->renamed);
	expect_text(&r, "!logs/bad\\xFF.log", "latin\n");
	free_run(&r);
	free(path);
	free(tar);
}

/* ---- nesting ----------------------------------------------------------------------------- */

/* outer.zip { a.log, mid.tar.gz { b.log, inner.zip { c.log, d.log.gz } } } */
static char *write_nested(const char *tmp, char **texts)
{
	for (int i = 0; i < 4; i++)
		texts[i] = log_text(5000 + 1000 * (size_t)i, 20 + (uint64_t)i);
	size_t dlen, ilen, mlen, olen;
	unsigned char *d = tu_gzip(texts[3], strlen(texts[3]), 9, &dlen);
	struct tu_member inner[] = {
		{ "c.log", texts[2], strlen(texts[2]), DEFLATE, false },
		{ "d.log.gz", d, dlen, STORE, false },
	};
	unsigned char *iz = tu_archive("zip", NULL, NULL, NULL, inner, 2, &ilen);
	struct tu_member mid[] = {
		{ "b.log", texts[1], strlen(texts[1]), TU_DEFAULT, false },
		{ "deeper/inner.zip", iz, ilen, TU_DEFAULT, false },
	};
	unsigned char *mt = tu_archive("ustar", "gzip", NULL, NULL, mid, 2, &mlen);
	struct tu_member outer[] = {
		{ "a.log", texts[0], strlen(texts[0]), DEFLATE, false },
		{ "mid.tar.gz", mt, mlen, STORE, false },
	};
	unsigned char *oz = tu_archive("zip", NULL, NULL, NULL, outer, 2, &olen);
	char *path = tu_write(tmp, "outer.zip", oz, olen);
	free(d);
	free(iz);
	free(mt);
	free(oz);
	return path;
}

static void nested_containers(void **state)
{
	const char *tmp = *state;
	char *texts[4];
	char *path = write_nested(tmp, texts);
	struct run r = scan(path, NULL);
	if (r.n != 4)
		dump(&r);
	assert_int_equal(r.n, 4);
	expect_text(&r, "!a.log", texts[0]);
	expect_text(&r, "!mid.tar.gz!b.log", texts[1]);
	expect_text(&r, "!mid.tar.gz!deeper/inner.zip!c.log", texts[2]);
	expect_text(&r, "!mid.tar.gz!deeper/inner.zip!d.log.gz", texts[3]);
	free_run(&r);
	for (int i = 0; i < 4; i++)
		free(texts[i]);
	free(path);
}

static void depth_limit(void **state)
{
	const char *tmp = *state;
	char *texts[4];
	char *path = write_nested(tmp, texts);
	struct ul_source_limits lim = { .max_depth = 1 };
	struct run r = scan(path, &lim);
	expect_text(&r, "!a.log", texts[0]);
	size_t deep = 0;
	for (size_t i = 0; i < r.n; i++)
		if (r.v[i].error_kind && strcmp(r.v[i].error_kind, "too-deep") == 0)
			deep++;
	if (deep != 1)
		dump(&r);
	assert_int_equal(deep, 1);
	assert_null(find(&r, "!mid.tar.gz!deeper/inner.zip!c.log"));
	free_run(&r);

	/* Deep enough for all three archives. */
	lim.max_depth = 3;
	r = scan(path, &lim);
	assert_int_equal(r.n, 4);
	free_run(&r);
	for (int i = 0; i < 4; i++)
		free(texts[i]);
	free(path);
}

/* ---- identity: two different logs never share one path ------------------------------------ */

/* logs\setup.log, logs/setup.log, ./logs/setup.log and the same name twice: all kept, numbered. */
static void duplicate_members_are_numbered(void **state)
{
	const char *tmp = *state;
	struct tu_member m[] = {
		{ "logs\\setup.log", "first\n", 6, DEFLATE, false },
		{ "logs/setup.log", "second\n", 7, DEFLATE, false },
		{ "./logs/setup.log", "third\n", 6, DEFLATE, false },
		{ "logs//setup.log", "fourth\n", 7, DEFLATE, false },
		{ "other.log", "o\n", 2, DEFLATE, false },
	};
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, 5, &len);
	char *path = tu_write(tmp, "dup.zip", zip, len);
	struct run r = scan(path, NULL);
	assert_int_equal(r.n, 5);
	assert_false(expect_text(&r, "!logs/setup.log", "first\n")->noted);
	assert_true(expect_text(&r, "!logs/setup.log\\#2", "second\n")->noted);
	assert_true(expect_text(&r, "!logs/setup.log\\#3", "third\n")->noted);
	assert_true(expect_text(&r, "!logs/setup.log\\#4", "fourth\n")->noted);
	assert_false(expect_text(&r, "!other.log", "o\n")->noted);
	/* Still a Cisco-style path for the location: '\\' separated the folders. */
	free_run(&r);
	free(path);
	free(zip);
}

/* A file named `b.zip!inner.log` beside `b.zip` holding `inner.log`: two paths. */
static void bang_in_a_name_is_escaped(void **state)
{
	const char *tmp = *state;
	struct tu_member m[] = { { "inner.log", "member\n", 7, DEFLATE, false } };
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, 1, &len);
	free(tu_write(tmp, "d/b.zip", zip, len));
	free(tu_write_str(tmp, "d/b.zip!inner.log", "file\n"));
	char *dir = tu_join(tmp, "/d");
	struct run r = scan(dir, NULL);
	assert_int_equal(r.n, 2);
	expect_text(&r, "b.zip!inner.log", "member\n");
	assert_true(expect_text(&r, "b.zip\\x21inner.log", "file\n")->renamed);
	free_run(&r);
	free(dir);
	free(zip);
}

/* A control byte's escape and a real name that reads like it: two paths. */
static void escapes_cannot_meet_real_names(void **state)
{
	const char *tmp = *state;
	free(tu_write_str(tmp, "e/a\x01.log", "control\n"));
	free(tu_write_str(tmp, "e/a\\x01.log", "literal\n"));
	free(tu_write_str(tmp, "e/c\\d.log", "backslash\n"));
	char *dir = tu_join(tmp, "/e");
	struct run r = scan(dir, NULL);
	assert_int_equal(r.n, 3);
	expect_text(&r, "a\\x01.log", "control\n");
	expect_text(&r, "a\\x5Cx01.log", "literal\n");
	expect_text(&r, "c\\x5Cd.log", "backslash\n");
	free_run(&r);
	free(dir);
}

/* Gzip layers are levels of --max-depth: a .gz inside a .gz inside a .gz ... */
static void gzip_layers_count_toward_depth(void **state)
{
	const char *tmp = *state;
	const char *text = "deep\n";
	size_t len = strlen(text);
	unsigned char *data = tu_xmalloc(len);
	memcpy(data, text, len);
	for (int i = 0; i < 5; i++) {
		size_t n;
		unsigned char *z = tu_gzip(data, len, 6, &n);
		free(data);
		data = z;
		len = n;
	}
	char *path = tu_write(tmp, "deep.log.gz", data, len);
	struct ul_source_limits lim = { .max_depth = 2 };
	struct run r = scan(path, &lim);
	assert_int_equal(r.n, 1);
	assert_non_null(failure_of(&r.v[0]));
	assert_string_equal(failure_of(&r.v[0]), "too-deep");
	free_run(&r);
	lim.max_depth = 5;
	r = scan(path, &lim);
	assert_int_equal(r.n, 1);
	expect_text(&r, "", text);
	free_run(&r);
	free(path);
	free(data);
}

static void skip_entries(void **state)
{
	const char *tmp = *state;
	char *big = log_text(100000, 30);
	struct tu_member m[] = {
		{ "a.log", big, strlen(big), DEFLATE, false },
		{ "b.log", "bee\n", 4, DEFLATE, false },
	};
	size_t len;
	unsigned char *zip = tu_archive("zip", NULL, NULL, NULL, m, 2, &len);
	char *path = tu_write(tmp, "s.zip", zip, len);
	free(tu_write_str(tmp, "dir/x.log", "x\n"));
	free(tu_write_str(tmp, "dir/y.log", "y\n"));
	char *dir = tu_join(tmp, "dir");
	const char *tops[] = { path, dir };
	const char *second[] = { "bee\n", "y\n" };
	for (size_t t = 0; t < 2; t++) {
		struct ul_error err;
		struct ul_source *src = ul_source_open(tops[t], NULL, &err);
		assert_non_null(src);
		const struct ul_entry *e;
		char buf[64];
		assert_int_equal(ul_source_next(src, &e), 1);
		assert_true(ul_source_read(src, buf, 1, &err) == 1); /* partly read, then skipped */
		ul_source_skip(src);
		assert_int_equal(ul_source_read(src, buf, sizeof(buf), &err), 0);
		assert_int_equal(ul_source_next(src, &e), 1);
		ssize_t n = ul_source_read(src, buf, sizeof(buf), &err);
		assert_int_equal(n, (ssize_t)strlen(second[t]));
		assert_memory_equal(buf, second[t], (size_t)n);
		assert_int_equal(ul_source_next(src, &e), 0);
		ul_source_close(src);
	}
	free(dir);
	free(path);
	free(zip);
	free(big);
}

#endif /* UL_HAVE_LIBARCHIVE */

/* ---- links, names, permissions ----------------------------------------------------------- */

static void symlinks(void **state)
{
	const char *tmp = *state;
	free(tu_write_str(tmp, "a.log", "a\n"));
	free(tu_write_str(tmp, "sub/s.log", "s\n"));
	struct {
		const char *target, *name;
	} links[] = {
		{ ".", "loop" },        /* folder loop */
		{ "..", "sub/up" },     /* folder loop one level down */
		{ "l2.log", "l1.log" }, /* file link loop */
		{ "l1.log", "l2.log" },  { "nowhere.log", "gone.log" }, /* broken */
		{ "a.log", "link.log" },                                /* fine */
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char *p = tu_join(tmp, links[i].name);
		if (symlink(links[i].target, p) != 0)
			fail_msg("symlink %s: %s", p, strerror(errno));
		free(p);
	}
	struct run r = scan(tmp, NULL);
	expect_text(&r, "a.log", "a\n");
	expect_text(&r, "link.log", "a\n");
	expect_text(&r, "sub/s.log", "s\n");
	struct {
		const char *rel, *kind;
	} want[] = {
		{ "loop", "loop" },   { "sub/up", "loop" },         { "l1.log", "loop" },
		{ "l2.log", "loop" }, { "gone.log", "unreadable" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct got *g = find(&r, want[i].rel);
		if (!g || !g->error_kind || strcmp(g->error_kind, want[i].kind) != 0) {
			dump(&r);
			fail_msg("'%s' should be an error entry '%s'", want[i].rel, want[i].kind);
		}
	}
	assert_int_equal(r.n, 8);
	free_run(&r);
}

static void non_utf8_names(void **state)
{
	const char *tmp = *state;
	free(tu_write_str(tmp, "bad\xFF.log", "latin\n"));
	free(tu_write_str(tmp, "caf\xE9.log", "cafe\n"));
	free(tu_write_str(tmp, "ok-\xC3\xA9.log", "fine\n"));
	struct run r = scan(tmp, NULL);
	assert_int_equal(r.n, 3);
	const struct got *g = expect_text(&r, "bad\\xFF.log", "latin\n");
	assert_true(g->renamed);
	g = expect_text(&r, "caf\\xE9.log", "cafe\n");
	assert_true(g->renamed);
	g = expect_text(&r, "ok-\xC3\xA9.log", "fine\n");
	assert_false(g->renamed);
	free_run(&r);
}

/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either. */
static void non_utf8_names_strict(void **state)
{
	const char *tmp = *state;
	const char *names[] = { "over\xE0\x80\xAF.log", "sur\xED\xA0\x80.log",
		                "big\xF4\x90\x80\x80.log", "over4\xF0\x80\x80\xAF.log" };
	for (size_t i = 0; i < 4; i++)
		free(tu_write_str(tmp, names[i], "x\n"));
	struct ul_error err;
	struct ul_source *src = ul_source_open(tmp, NULL, &err);
	assert_non_null(src);
	const struct ul_entry *e;
	size_t n = 0, bad = 0;
	char report[1024] = "";
	while (ul_source_next(src, &e) == 1) {
		n++;
		if (!tu_utf8_valid(e->path, strlen(e->path)) || !e->renamed) {
			bad++;
			char *one = relative(e->path, tmp);
			size_t o = strlen(report);
			for (const unsigned char *p = (const unsigned char *)one;
			     *p && o + 5 < sizeof(report); p++)
				o += (size_t)snprintf(report + o, sizeof(report) - o,
				                      *p < 0x80 ? "%c" : "<%02X>", *p);
			snprintf(report + o, sizeof(report) - o, " (renamed=%d); ", e->renamed);
		}
	}
	ul_source_close(src);
	assert_int_equal(n, 4);
	if (bad)
		fail_msg("%zu path(s) kept bytes that are not UTF-8: %s", bad, report);
}

static void unreadable_by_permission(void **state)
{
	if (geteuid() == 0)
		skip(); /* root reads everything */
	const char *tmp = *state;
	char *file = tu_write_str(tmp, "locked.log", "x\n");
	char *dir = tu_join(tmp, "closed");
	free(tu_write_str(tmp, "closed/in.log", "x\n"));
	free(tu_write_str(tmp, "open.log", "o\n"));
	chmod(file, 0);
	chmod(dir, 0);
	struct run r = scan(tmp, NULL);
	chmod(dir, 0755);
	expect_text(&r, "open.log", "o\n");
	const struct got *g = find(&r, "locked.log");
	assert_non_null(g);
	assert_non_null(g->error_kind);
	assert_string_equal(g->error_kind, "unreadable");
	g = find(&r, "closed");
	assert_non_null(g);
	assert_non_null(g->error_kind);
	assert_string_equal(g->error_kind, "unreadable");
	free_run(&r);
	free(file);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(walk_order_and_filter, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(walk_no_extension_in_log_folders, make_tmp,
		                                remove_tmp),
		cmocka_unit_test_setup_teardown(explicit_path_always_read, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(open_errors_and_empty, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(location_of_paths, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(location_in_walk, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_single_file, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_multi_member, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_member_at_read_boundary, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_truncated, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_corrupt, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_bomb_and_too_large, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(gz_multi_member_is_no_bomb, make_tmp, remove_tmp),
#if UL_HAVE_LIBARCHIVE
		cmocka_unit_test_setup_teardown(zip_members, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(zip64_members, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(zip_encrypted, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(zip_damaged, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(zip_member_bomb, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(tar_and_tar_gz, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(archive_member_non_utf8_name, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(nested_containers, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(depth_limit, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(skip_entries, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(duplicate_members_are_numbered, make_tmp,
		                                remove_tmp),
		cmocka_unit_test_setup_teardown(bang_in_a_name_is_escaped, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(escapes_cannot_meet_real_names, make_tmp,
		                                remove_tmp),
		cmocka_unit_test_setup_teardown(gzip_layers_count_toward_depth, make_tmp,
		                                remove_tmp),
#endif
		cmocka_unit_test_setup_teardown(symlinks, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(non_utf8_names, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(non_utf8_names_strict, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(unreadable_by_permission, make_tmp, remove_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
