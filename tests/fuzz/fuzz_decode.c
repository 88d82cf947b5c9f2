/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for decode: detect, split and block on arbitrary bytes.
 *
 * Byte 0 steers: bits 0-1 pick the encoding, bit 2 uses the detected one instead, bit 3 marks
 * the last block as continuing, bits 4-7 pick max_line (0 = no practical limit). The rest is
 * the stream. Every promise of decode.h that can be checked from outside is checked; a broken
 * one traps.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "upglog/decode.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_chunk(const struct ul_chunk *c, size_t max_line)
{
	size_t at = 0;
	for (size_t i = 0; i < c->nlines; i++) {
		const struct ul_line *l = &c->lines[i];
		CHECK(l->start == at);
		CHECK(l->len <= max_line);
		CHECK(l->start + (size_t)l->len < c->len);
		CHECK(c->text[l->start + l->len] == '\n');
		CHECK(!memchr(c->text + l->start, '\n', l->len));
		CHECK(!memchr(c->text + l->start, '\r', l->len));
		at = l->start + (size_t)l->len + 1;
	}
	CHECK(at == c->len);
	CHECK(ul_decode_is_utf8(c->text, c->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned ctl = data[0];
	data++;
	size--;

	enum ul_encoding enc, enc2;
	size_t skip, skip2;
	enum ul_detect d = ul_decode_detect(data, size, true, &enc, &skip);
	CHECK(d == UL_DETECT_TEXT || d == UL_DETECT_BINARY);
	CHECK(skip == 0 || skip == 2 || skip == 3);
	CHECK(skip <= size);
	enum ul_detect d2 = ul_decode_detect(data, size, false, &enc2, &skip2);
	if (size < UL_DECODE_SNIFF)
		CHECK(d2 == UL_DETECT_MORE);
	else
		CHECK(d2 == d && enc2 == enc && skip2 == skip);
	CHECK(strlen(ul_decode_encoding_name(enc)) > 0);

	if (!(ctl & 4)) {
		enc = (enum ul_encoding)(ctl & 3);
		skip = 0;
	}
	size_t max_line = (ctl >> 4) ? (ctl >> 4) * 7 : (size_t)1 << 20;
	const uint8_t *p = data + skip;
	size_t n = size - skip;

	struct ul_chunk c;
	ul_chunk_init(&c);
	/* Block by block, as the scan pipeline cuts a stream. */
	while (n > 0) {
		size_t cut = ul_decode_split(enc, p, n);
		CHECK(cut <= n);
		unsigned flags = 0;
		if (cut == 0) {
			cut = n;
			if (ctl & 8)
				flags = UL_BLOCK_CONTINUES;
		}
		CHECK(ul_decode_block(enc, p, cut, max_line, flags, &c));
		check_chunk(&c, max_line);
		p += cut;
		n -= cut;
	}
	/* The whole stream as one block. */
	CHECK(ul_decode_block(enc, data + skip, size - skip, max_line, 0, &c));
	check_chunk(&c, max_line);

	/* Valid UTF-8 without NUL or line ends comes out unchanged as one line. */
	if ((enc == UL_ENC_UTF8 || enc == UL_ENC_UTF8_BOM) && size > skip && max_line >= size &&
	    ul_decode_is_utf8(data + skip, size - skip) && !memchr(data + skip, 0, size - skip) &&
	    !memchr(data + skip, '\n', size - skip) && !memchr(data + skip, '\r', size - skip)) {
		CHECK(c.nlines == 1);
		CHECK(c.lines[0].len == size - skip);
		CHECK(memcmp(c.text, data + skip, size - skip) == 0);
		CHECK(c.fallback == 0 && c.replaced == 0 && c.cut == 0);
	}
	ul_chunk_finish(&c);
	return 0;
}
