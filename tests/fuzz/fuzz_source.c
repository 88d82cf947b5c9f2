/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for source: the input becomes a file (sniffed as a log, gzip, zip or tar by
 * its bytes), which is opened and read to the end, entry by entry, with small limits so that
 * bombs and deep nesting are cheap.
 *
 * Built with -DUL_FUZZ_CONTRACT=0, the check that every entry path is valid UTF-8 is left out
 * (useful while that known bug stands, to look for crashes beyond it).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upglog/decode.h"
#include "upglog/source.h"

#ifndef UL_FUZZ_CONTRACT
#define UL_FUZZ_CONTRACT 1
#endif

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];
static int fd = -1;

/*
 * One temporary file, rewritten for each input. It is unlinked at once and reached through
 * /dev/fd, so a crashing run leaves nothing behind; without /dev/fd the named file is used.
 */
static bool write_input(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		const char *base = getenv("TMPDIR");
		if (!base || !*base)
			base = P_tmpdir;
		char name[4096];
		snprintf(name, sizeof(name), "%s/upglog-fuzz-XXXXXX", base);
		fd = mkstemp(name);
		if (fd < 0)
			return false;
		snprintf(path, sizeof(path), "/dev/fd/%d", fd);
		if (access(path, R_OK) == 0)
			unlink(name);
		else
			snprintf(path, sizeof(path), "%s", name);
	}
	if (ftruncate(fd, 0) != 0)
		return false;
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void remove_input(void)
{
	if (path[0] && strncmp(path, "/dev/fd/", 8) != 0)
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	if (!registered) {
		atexit(remove_input);
		registered = true;
	}
	if (!write_input(data, size))
		return 0;
	struct ul_source_limits lim = { .max_size = 1u << 20, .max_ratio = 20, .max_depth = 3 };
	struct ul_error err;
	ul_error_clear(&err);
	struct ul_source *src = ul_source_open(path, &lim, &err);
	CHECK(src);
	CHECK(strcmp(ul_source_path(src), path) == 0);
	CHECK(strlen(ul_source_kind_name(ul_source_kind(src))) > 0);
	static char buf[16384];
	const struct ul_entry *e;
	unsigned entries = 0;
	while (ul_source_next(src, &e) == 1) {
		CHECK(e && e->path);
		if (UL_FUZZ_CONTRACT)
			CHECK(ul_decode_is_utf8(e->path, strlen(e->path)));
		CHECK(strlen(ul_location_name(e->location)) > 0);
		if (e->error_kind) {
			CHECK(e->error && *e->error_kind);
			continue;
		}
		/* Skip every third entry, read the others to the end. */
		if (++entries % 3 == 0) {
			ul_source_skip(src);
			continue;
		}
		uint64_t total = 0;
		for (;;) {
			ul_error_clear(&err);
			ssize_t n =
			        ul_source_read(src, buf, 1 + (entries * 977) % sizeof(buf), &err);
			if (n < 0) {
				CHECK(ul_error_is_set(&err));
				break;
			}
			if (n == 0)
				break;
			total += (uint64_t)n;
			/* A member may be larger than max_size only if it is not compressed. */
			CHECK(total <= (1u << 20) + sizeof(buf) || total <= size);
		}
	}
	CHECK(ul_source_next(src, &e) == 0);
	ul_source_close(src);
	return 0;
}
