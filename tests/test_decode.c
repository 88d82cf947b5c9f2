/* SPDX-License-Identifier: MIT */
/* decode: encoding detection, line splitting and block decoding (include/upglog/decode.h). */
#include "testutil.h"

#include "upglog/decode.h"

#define NOLIMIT ((size_t)1 << 20)

/* Byte string from a literal (may hold NULs). */
#define B(lit) (const unsigned char *)(lit), sizeof(lit) - 1

/* ---- helpers ----------------------------------------------------------------------------- */

/* UTF-16 code units of an ASCII/Latin-1 string, with or without a BOM. */
static unsigned char *utf16(const char *s, bool le, bool bom, size_t *len)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out = tu_xmalloc(2 * n + 2);
	if (bom) {
		out[o++] = le ? 0xFF : 0xFE;
		out[o++] = le ? 0xFE : 0xFF;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = le ? c : 0;
		out[o++] = le ? 0 : c;
	}
	*len = o;
	return out;
}

/* Code units (host values) -> UTF-16LE/BE bytes. */
static size_t units(const uint16_t *u, size_t n, bool le, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (unsigned char)(le ? u[i] & 0xFF : u[i] >> 8);
		out[2 * i + 1] = (unsigned char)(le ? u[i] >> 8 : u[i] & 0xFF);
	}
	return 2 * n;
}

/* Every structural promise of a chunk: lines in order inside text, '\n' after each, UTF-8. */
static void check_chunk(const struct ul_chunk *c, size_t max_line)
{
	size_t at = 0;
	for (size_t i = 0; i < c->nlines; i++) {
		const struct ul_line *l = &c->lines[i];
		assert_int_equal(l->start, at);
		assert_true(l->start + (size_t)l->len < c->len);
		assert_int_equal(c->text[l->start + l->len], '\n');
		assert_null(memchr(c->text + l->start, '\n', l->len));
		assert_null(memchr(c->text + l->start, '\r', l->len));
		assert_true(l->len <= max_line);
		if (i > 0)
			assert_true(l->raw > c->lines[i - 1].raw);
		at = l->start + (size_t)l->len + 1;
	}
	assert_int_equal(at, c->len);
	size_t bad = tu_utf8_bad_at(c->text, c->len);
	if (bad != c->len)
		fail_msg("chunk text is not valid UTF-8 at byte %zu (0x%02X)", bad,
		         (unsigned char)c->text[bad]);
}

static void expect_line(const struct ul_chunk *c, size_t i, const char *text)
{
	assert_true(i < c->nlines);
	size_t n = strlen(text);
	const struct ul_line *l = &c->lines[i];
	if (l->len != n || memcmp(c->text + l->start, text, n) != 0)
		fail_msg("line %zu is '%.*s' (%u bytes), expected '%s'", i, (int)l->len,
		         c->text + l->start, l->len, text);
}

/* Decode and check structure; the chunk stays for the caller to inspect. */
static void decode(struct ul_chunk *c, enum ul_encoding enc, const void *buf, size_t len,
                   size_t max_line, unsigned flags)
{
	assert_true(ul_decode_block(enc, buf, len, max_line, flags, c));
	check_chunk(c, max_line);
}

/* ---- detect ------------------------------------------------------------------------------ */

static void detect_utf8_plain(void **state)
{
	(void)state;
	enum ul_encoding enc = UL_ENC_UTF16BE;
	size_t skip = 99;
	assert_int_equal(
	        ul_decode_detect(B("MSI (s) (C8:0C): hello\r\nwörld\n"), true, &enc, &skip),
	        UL_DETECT_TEXT);
	assert_int_equal(enc, UL_ENC_UTF8);
	assert_int_equal(skip, 0);
	/* Windows-1252 bytes mixed in are still a text log. */
	assert_int_equal(ul_decode_detect(B("caf\xE9 cr\xE8me \x80 100\r\n"), true, &enc, &skip),
	                 UL_DETECT_TEXT);
	assert_int_equal(enc, UL_ENC_UTF8);
	assert_string_equal(ul_decode_encoding_name(UL_ENC_UTF8), "utf-8");
}

static void detect_utf8_bom(void **state)
{
	(void)state;
	enum ul_encoding enc;
	size_t skip;
	assert_int_equal(
	        ul_decode_detect(B("\xEF\xBB\xBF=== Logging started ===\r\n"), true, &enc, &skip),
	        UL_DETECT_TEXT);
	assert_int_equal(enc, UL_ENC_UTF8_BOM);
	assert_int_equal(skip, 3);
	assert_string_equal(ul_decode_encoding_name(UL_ENC_UTF8_BOM), "utf-8-bom");
}

static void detect_utf16_bom(void **state)
{
	(void)state;
	for (int le = 0; le < 2; le++) {
		size_t len, skip = 0;
		unsigned char *b =
		        utf16("=== Verbose logging started ===\r\nMSI (c)\r\n", le, true, &len);
		enum ul_encoding enc;
		assert_int_equal(ul_decode_detect(b, len, true, &enc, &skip), UL_DETECT_TEXT);
		assert_int_equal(enc, le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE);
		assert_int_equal(skip, 2);
		free(b);
	}
	assert_string_equal(ul_decode_encoding_name(UL_ENC_UTF16LE), "utf-16le");
	assert_string_equal(ul_decode_encoding_name(UL_ENC_UTF16BE), "utf-16be");
}

static void detect_utf16_no_bom(void **state)
{
	(void)state;
	for (int le = 0; le < 2; le++) {
		size_t len, skip = 7;
		unsigned char *b =
		        utf16("MSI (s) (A0:EC): Product: Foo -- Installation failed.\r\n", le,
		              false, &len);
		enum ul_encoding enc;
		assert_int_equal(ul_decode_detect(b, len, true, &enc, &skip), UL_DETECT_TEXT);
		assert_int_equal(enc, le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE);
		assert_int_equal(skip, 0);
		free(b);
	}
}

static void detect_binary(void **state)
{
	(void)state;
	enum ul_encoding enc;
	size_t skip;
	/* An executable header: NULs everywhere, not in a UTF-16 pattern. */
	unsigned char exe[1024];
	memset(exe, 0, sizeof(exe));
	memcpy(exe, "MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF", 14);
	for (size_t i = 64; i < sizeof(exe); i += 7)
		exe[i] = (unsigned char)(i * 31);
	assert_int_equal(ul_decode_detect(exe, sizeof(exe), true, &enc, &skip), UL_DETECT_BINARY);

	/* No NULs but full of control bytes. */
	unsigned char ctl[600];
	for (size_t i = 0; i < sizeof(ctl); i++)
		ctl[i] = (unsigned char)(i % 3 == 0 ? 0x01 + i % 8 : 'a');
	assert_int_equal(ul_decode_detect(ctl, sizeof(ctl), true, &enc, &skip), UL_DETECT_BINARY);

	/* A UTF-16 byte order mark in front of binary stays binary. */
	unsigned char bin16[512];
	for (size_t i = 0; i < sizeof(bin16); i++)
		bin16[i] = (unsigned char)(i < 2 ? (i ? 0xFE : 0xFF) : (i % 2 ? 0 : i % 5));
	assert_int_equal(ul_decode_detect(bin16, sizeof(bin16), true, &enc, &skip),
	                 UL_DETECT_BINARY);
}

static void detect_more_and_eof(void **state)
{
	(void)state;
	enum ul_encoding enc;
	size_t skip;
	const char *text = "=== Logging started: 4/25/2015  4:25:27 ===\r\n";
	assert_int_equal(ul_decode_detect(text, strlen(text), false, &enc, &skip), UL_DETECT_MORE);
	assert_int_equal(ul_decode_detect(text, strlen(text), true, &enc, &skip), UL_DETECT_TEXT);

	/* A full sniff window decides even without eof. */
	char *big = tu_xmalloc(UL_DECODE_SNIFF + 100);
	for (size_t i = 0; i < UL_DECODE_SNIFF + 100; i++)
		big[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 26);
	assert_int_equal(ul_decode_detect(big, UL_DECODE_SNIFF, false, &enc, &skip),
	                 UL_DETECT_TEXT);
	assert_int_equal(ul_decode_detect(big, UL_DECODE_SNIFF + 100, false, &enc, &skip),
	                 UL_DETECT_TEXT);
	assert_int_equal(ul_decode_detect(big, UL_DECODE_SNIFF - 1, false, &enc, &skip),
	                 UL_DETECT_MORE);
	free(big);
}

static void detect_empty(void **state)
{
	(void)state;
	enum ul_encoding enc = UL_ENC_UTF16LE;
	size_t skip = 5;
	assert_int_equal(ul_decode_detect("", 0, false, &enc, &skip), UL_DETECT_MORE);
	assert_int_equal(ul_decode_detect("", 0, true, &enc, &skip), UL_DETECT_TEXT);
	assert_int_equal(enc, UL_ENC_UTF8);
	assert_int_equal(skip, 0);
}

/* ---- split ------------------------------------------------------------------------------- */

static void split_utf8(void **state)
{
	(void)state;
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\ndef")), 4);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\ndef\n")), 8);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\r\ndef")), 5);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\rdef")), 4);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\rdef\rgh")), 8);
	/* A CR as the last byte may be half of a CRLF: not taken yet. */
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\r")), 0);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("abc\rdef\r")), 4);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("\r")), 0);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("\n")), 1);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("no terminator")), 0);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, "", 0), 0);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8_BOM, B("x\r\ny")), 3);
}

/* The longest prefix, even when a lone CR comes after the last LF. */
static void split_utf8_cr_after_lf(void **state)
{
	(void)state;
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("a\nb\rc")), 4);
	assert_int_equal(ul_decode_split(UL_ENC_UTF8, B("a\r\nb\rc\rd")), 7);
}

static void split_utf16(void **state)
{
	(void)state;
	for (int le = 0; le < 2; le++) {
		enum ul_encoding enc = le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE;
		size_t len;
		unsigned char *b = utf16("ab\r\ncd\ref", le, false, &len);
		assert_int_equal(ul_decode_split(enc, b, len), 14);
		free(b);
		b = utf16("ab\ncd", le, false, &len);
		assert_int_equal(ul_decode_split(enc, b, len), 6);
		/* An odd byte at the end is not a unit. */
		assert_int_equal(ul_decode_split(enc, b, len - 1), 6);
		free(b);
		b = utf16("ab\r", le, false, &len);
		assert_int_equal(ul_decode_split(enc, b, len), 0);
		free(b);
		b = utf16("abcdef", le, false, &len);
		assert_int_equal(ul_decode_split(enc, b, len), 0);
		free(b);
		/* A byte 0x0A that is half of another unit is no terminator. */
		uint16_t u[] = { 0x0A41, 0x0D42, 0x0043 };
		unsigned char raw[8];
		size_t n = units(u, 3, le, raw);
		assert_int_equal(ul_decode_split(enc, raw, n), 0);
	}
}

/* ---- block: line ends, offsets ----------------------------------------------------------- */

static void block_mixed_line_ends(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	decode(&c, UL_ENC_UTF8, B("ab\r\ncd\ref\n\ngh"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 5);
	expect_line(&c, 0, "ab");
	expect_line(&c, 1, "cd");
	expect_line(&c, 2, "ef");
	expect_line(&c, 3, "");
	expect_line(&c, 4, "gh");
	const uint32_t raw[] = { 0, 4, 7, 10, 11 };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(c.lines[i].raw, raw[i]);
	assert_int_equal(c.cut, 0);
	assert_int_equal(c.replaced, 0);
	assert_int_equal(c.fallback, 0);
	assert_memory_equal(c.text, "ab\ncd\nef\n\ngh\n", 13);

	/* CR CR is two line ends; CR LF one; LF CR two. */
	decode(&c, UL_ENC_UTF8, B("a\r\rb\n\rc\r\n"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 5);
	expect_line(&c, 0, "a");
	expect_line(&c, 1, "");
	expect_line(&c, 2, "b");
	expect_line(&c, 3, "");
	expect_line(&c, 4, "c");
	ul_chunk_finish(&c);
}

static void block_counts_and_last_line(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	decode(&c, UL_ENC_UTF8, "", 0, NOLIMIT, 0);
	assert_int_equal(c.nlines, 0);
	decode(&c, UL_ENC_UTF8, B("\n"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 1);
	expect_line(&c, 0, "");
	decode(&c, UL_ENC_UTF8, B("one\ntwo\n"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 2);
	decode(&c, UL_ENC_UTF8, B("one\ntwo"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 2);
	expect_line(&c, 1, "two");
	assert_int_equal(c.lines[1].raw, 4);
	decode(&c, UL_ENC_UTF8, B("one\r"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 1);
	expect_line(&c, 0, "one");
	decode(&c, UL_ENC_UTF8, B("\r\n\r\n"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 2);
	ul_chunk_finish(&c);
}

/* ---- block: bytes that are not UTF-8 ----------------------------------------------------- */

static void block_cp1252_fallback(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	/* é as one Windows-1252 byte, then a real UTF-8 é, then € as 0x80 and ’ as 0x92. */
	decode(&c, UL_ENC_UTF8, B("caf\xE9 caf\xC3\xA9 \x80 it\x92s\n"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 1);
	expect_line(&c, 0, "café café € it’s");
	assert_int_equal(c.fallback, 3);
	assert_int_equal(c.replaced, 0);
	/* All of 0xA0..0xFF map to the same code point. */
	decode(&c, UL_ENC_UTF8, B("\xA0\xFF\xC0\xD7"), NOLIMIT, 0);
	expect_line(&c, 0, "\xC2\xA0\xC3\xBF\xC3\x80\xC3\x97");
	assert_int_equal(c.fallback, 4);
	ul_chunk_finish(&c);
}

static void block_cp1252_undefined(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	decode(&c, UL_ENC_UTF8,
	       B("a\x81"
	         "b\x8D"
	         "c\x8F"
	         "d\x90"
	         "e\x9D"
	         "f"),
	       NOLIMIT, 0);
	expect_line(&c, 0, "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf");
	assert_int_equal(c.replaced, 5);
	ul_chunk_finish(&c);
}

static void block_nul_replaced(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	decode(&c, UL_ENC_UTF8, B("a\0b\0\0\n\0"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 2);
	expect_line(&c, 0, "a\uFFFDb\uFFFD\uFFFD");
	expect_line(&c, 1, "\uFFFD");
	assert_int_equal(c.replaced, 4);
	ul_chunk_finish(&c);
}

static void block_rejects_bad_utf8(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	/* Overlong '/' (C0 AF), overlong 3-byte NUL (E0 80 80), a surrogate (ED A0 80), a code
	 * point past U+10FFFF (F4 90 80 80): each byte is read as Windows-1252 on its own. */
	decode(&c, UL_ENC_UTF8, B("\xC0\xAF|\xE0\x80\x80|\xED\xA0\x80|\xF4\x90\x80\x80"), NOLIMIT,
	       0);
	expect_line(&c, 0, "À¯|à€€|í\xC2\xA0€|ô\uFFFD€€");
	assert_int_equal(c.fallback, 12);
	assert_int_equal(c.replaced, 1); /* 0x90 is undefined */
	/* Valid 2-, 3- and 4-byte sequences pass unchanged. */
	decode(&c, UL_ENC_UTF8, B("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"), NOLIMIT,
	       0);
	expect_line(&c, 0, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
	assert_int_equal(c.fallback, 0);
	/* A sequence cut by the line end is not joined across it. */
	decode(&c, UL_ENC_UTF8, B("x\xE2\x82\ny"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 2);
	expect_line(&c, 0, "xâ‚");
	expect_line(&c, 1, "y");
	ul_chunk_finish(&c);
}

/* ---- block: UTF-16 ----------------------------------------------------------------------- */

static void block_utf16_lines(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (int le = 0; le < 2; le++) {
		enum ul_encoding enc = le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE;
		size_t len;
		unsigned char *b = utf16("ab\r\ncd\ref\n\ngh", le, false, &len);
		decode(&c, enc, b, len, NOLIMIT, 0);
		assert_int_equal(c.nlines, 5);
		expect_line(&c, 0, "ab");
		expect_line(&c, 2, "ef");
		expect_line(&c, 3, "");
		expect_line(&c, 4, "gh");
		const uint32_t raw[] = { 0, 8, 14, 20, 22 };
		for (size_t i = 0; i < 5; i++)
			assert_int_equal(c.lines[i].raw, raw[i]);
		free(b);

		/* Non-ASCII BMP characters, a surrogate pair and a NUL. */
		uint16_t u[] = { 'W', 0x00FC, 0x20AC, 0xD83D, 0xDE00, 0, '!', '\n' };
		unsigned char raw16[32];
		size_t n = units(u, 8, le, raw16);
		decode(&c, enc, raw16, n, NOLIMIT, 0);
		assert_int_equal(c.nlines, 1);
		expect_line(&c, 0, "Wü€\xF0\x9F\x98\x80\uFFFD!");
		assert_int_equal(c.replaced, 1);
	}
	ul_chunk_finish(&c);
}

static void block_utf16_unpaired_surrogates(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (int le = 0; le < 2; le++) {
		enum ul_encoding enc = le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE;
		/* high alone, low alone, high then high+low, high at the end of a line */
		uint16_t u[] = { 'a',    0xD800, 'b',    0xDC00, 'c',    0xDBFF, 0xDBFF,
			         0xDFFF, 'd',    0xD801, '\n',   0xDC01, 'e' };
		unsigned char raw[32];
		size_t n = units(u, 13, le, raw);
		decode(&c, enc, raw, n, NOLIMIT, 0);
		assert_int_equal(c.nlines, 2);
		expect_line(&c, 0, "a\uFFFDb\uFFFDc\uFFFD\U0010FFFFd\uFFFD");
		expect_line(&c, 1, "\uFFFDe");
		assert_int_equal(c.replaced, 5);
	}
	ul_chunk_finish(&c);
}

/* A dangling odd byte after a terminated last line: one U+FFFD, counted, not dropped. */
static void block_utf16_odd_byte_after_terminator(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (int le = 0; le < 2; le++) {
		enum ul_encoding enc = le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE;
		size_t len;
		unsigned char *b = utf16("ab\nX", le, false, &len);
		decode(&c, enc, b, len - 1, NOLIMIT, 0); /* X loses one byte */
		assert_int_equal(c.nlines, 2);
		expect_line(&c, 0, "ab");
		expect_line(&c, 1, "\uFFFD");
		assert_int_equal(c.lines[1].raw, 6);
		assert_int_equal(c.replaced, 1);
		free(b);
	}
	ul_chunk_finish(&c);
}

/* An odd byte that ends an unterminated line belongs to that line: no extra line appears. */
static void block_utf16_odd_byte_same_line(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (int le = 0; le < 2; le++) {
		enum ul_encoding enc = le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE;
		size_t len;
		unsigned char *b = utf16("ab\ncdX", le, false, &len);
		decode(&c, enc, b, len - 1, NOLIMIT, 0);
		assert_int_equal(c.replaced, 1);
		if (c.nlines != 2)
			fail_msg("%s: 'ab\\ncd' plus an odd byte gave %zu lines, expected 2",
			         ul_decode_encoding_name(enc), c.nlines);
		expect_line(&c, 1, "cd\uFFFD");
		free(b);
	}
	ul_chunk_finish(&c);
}

/* ---- block: max_line and continuing lines ----------------------------------------------- */

static void block_max_line(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	/* Exactly max_line bytes: kept whole. */
	decode(&c, UL_ENC_UTF8, B("abcde\nxy\n"), 5, 0);
	expect_line(&c, 0, "abcde");
	assert_int_equal(c.cut, 0);
	/* Longer: cut, the rest of the line skipped, the next line kept. */
	decode(&c, UL_ENC_UTF8, B("abcdefgh\nxy\nlonglonglong"), 4, 0);
	assert_int_equal(c.nlines, 3);
	expect_line(&c, 0, "abcd");
	expect_line(&c, 1, "xy");
	expect_line(&c, 2, "long");
	assert_int_equal(c.cut, 2);
	assert_int_equal(c.lines[1].raw, 9);
	assert_int_equal(c.lines[2].raw, 12);
	/* Never inside a character: 'é' (2 bytes) does not fit after "ab" in 3 bytes. */
	decode(&c, UL_ENC_UTF8, B("ab\xC3\xA9z\n"), 3, 0);
	expect_line(&c, 0, "ab");
	assert_int_equal(c.cut, 1);
	/* Same with a Windows-1252 byte that becomes 3 bytes (0x80 -> €). */
	decode(&c, UL_ENC_UTF8, B("ab\x80z\n"), 4, 0);
	expect_line(&c, 0, "ab");
	assert_int_equal(c.cut, 1);
	/* And in UTF-16 with a 4-byte character. */
	uint16_t u[] = { 'a', 0xD83D, 0xDE00, 'b', '\n', 'c' };
	unsigned char raw[16];
	size_t n = units(u, 6, true, raw);
	decode(&c, UL_ENC_UTF16LE, raw, n, 4, 0);
	assert_int_equal(c.nlines, 2);
	expect_line(&c, 0, "a");
	expect_line(&c, 1, "c");
	assert_int_equal(c.cut, 1);
	ul_chunk_finish(&c);
}

static void block_continues(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	decode(&c, UL_ENC_UTF8, B("one\ntwo\nthr"), NOLIMIT, UL_BLOCK_CONTINUES);
	assert_int_equal(c.nlines, 3);
	expect_line(&c, 2, "thr");
	assert_int_equal(c.cut, 1);
	decode(&c, UL_ENC_UTF8, B("one\ntwo\nthr"), NOLIMIT, 0);
	assert_int_equal(c.cut, 0);
	size_t len;
	unsigned char *b = utf16("one\r\ntw", false, false, &len);
	decode(&c, UL_ENC_UTF16BE, b, len, NOLIMIT, UL_BLOCK_CONTINUES);
	assert_int_equal(c.nlines, 2);
	expect_line(&c, 1, "tw");
	assert_int_equal(c.cut, 1);
	free(b);
	ul_chunk_finish(&c);
}

static void chunk_reuse(void **state)
{
	(void)state;
	struct ul_chunk c;
	ul_chunk_init(&c);
	/* A big block with cuts and replacements, then a small clean one. */
	size_t n = 200000;
	char *big = tu_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 97 == 96 ? '\n' : i % 13 == 0 ? (char)0x81 : (char)('a' + i % 26);
	decode(&c, UL_ENC_UTF8, big, n, 50, 0);
	assert_true(c.nlines > 2000);
	assert_true(c.cut > 0 && c.replaced > 0 && c.fallback > 0);
	free(big);
	decode(&c, UL_ENC_UTF8, B("x\ny"), NOLIMIT, 0);
	assert_int_equal(c.nlines, 2);
	assert_int_equal(c.len, 4);
	expect_line(&c, 0, "x");
	expect_line(&c, 1, "y");
	assert_int_equal(c.cut, 0);
	assert_int_equal(c.replaced, 0);
	assert_int_equal(c.fallback, 0);
	decode(&c, UL_ENC_UTF8, "", 0, NOLIMIT, 0);
	assert_int_equal(c.nlines, 0);
	assert_int_equal(c.len, 0);
	ul_chunk_finish(&c);
	assert_null(c.text);
	assert_null(c.lines);
	ul_chunk_finish(&c); /* twice is harmless */
}

/* ---- property tests against a reference decoder ------------------------------------------ */

static const uint16_t ref_cp1252[32] = {
	0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

struct ref {
	char *text;
	size_t len;
	size_t nlines;
	uint32_t replaced, fallback;
};

static void ref_put(struct ref *r, uint32_t cp)
{
	char *o = r->text + r->len;
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3F));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	r->len = (size_t)(o - r->text);
}

/* Reference for UTF-8 input: written from decode.h's rules, one byte at a time. */
static void ref_utf8(const unsigned char *b, size_t n, struct ref *r)
{
	r->text = tu_xmalloc(3 * n + n + 1);
	r->len = r->nlines = 0;
	r->replaced = r->fallback = 0;
	size_t i = 0;
	bool open = false;
	while (i < n) {
		unsigned c = b[i];
		if (c == '\n' || c == '\r') {
			r->text[r->len++] = '\n';
			r->nlines++;
			open = false;
			i += c == '\r' && i + 1 < n && b[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		open = true;
		/* The sequence the lead byte announces, when it is there and valid. */
		size_t len = c >= 0xC2 && c <= 0xDF   ? 2
		             : c >= 0xE0 && c <= 0xEF ? 3
		             : c >= 0xF0              ? 4
		                                      : 0;
		if (len && (i + len > n || !tu_utf8_valid(b + i, len)))
			len = 0;
		if (c == 0) {
			ref_put(r, 0xFFFD);
			r->replaced++;
			i++;
		} else if (c < 0x80) {
			ref_put(r, c);
			i++;
		} else if (len) {
			memcpy(r->text + r->len, b + i, len);
			r->len += len;
			i += len;
		} else {
			uint32_t cp = c >= 0xA0 ? c : ref_cp1252[c - 0x80];
			if (!cp) {
				cp = 0xFFFD;
				r->replaced++;
			}
			r->fallback++;
			ref_put(r, cp);
			i++;
		}
	}
	if (open) {
		r->text[r->len++] = '\n';
		r->nlines++;
	}
}

/* Reference for UTF-16 input of an even length. */
static void ref_utf16(const unsigned char *b, size_t n, bool le, struct ref *r)
{
	size_t units16 = n / 2;
	r->text = tu_xmalloc(3 * units16 + units16 + 1);
	r->len = r->nlines = 0;
	r->replaced = r->fallback = 0;
	bool open = false;
	for (size_t i = 0; i < units16;) {
		uint32_t u = le ? b[2 * i] | (uint32_t)b[2 * i + 1] << 8
		                : (uint32_t)b[2 * i] << 8 | b[2 * i + 1];
		if (u == '\n' || u == '\r') {
			r->text[r->len++] = '\n';
			r->nlines++;
			open = false;
			i++;
			if (u == '\r' && i < units16) {
				uint32_t v = le ? b[2 * i] | (uint32_t)b[2 * i + 1] << 8
				                : (uint32_t)b[2 * i] << 8 | b[2 * i + 1];
				if (v == '\n')
					i++;
			}
			continue;
		}
		open = true;
		i++;
		if (u >= 0xD800 && u <= 0xDBFF && i < units16) {
			uint32_t lo = le ? b[2 * i] | (uint32_t)b[2 * i + 1] << 8
			                 : (uint32_t)b[2 * i] << 8 | b[2 * i + 1];
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				ref_put(r, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
				i++;
				continue;
			}
		}
		if (u == 0 || (u >= 0xD800 && u <= 0xDFFF)) {
			u = 0xFFFD;
			r->replaced++;
		}
		ref_put(r, u);
	}
	if (open) {
		r->text[r->len++] = '\n';
		r->nlines++;
	}
}

/* Random bytes biased towards what logs and attacks hold: line ends, NULs, high bytes. */
/*
 * Random bytes: half the time dense with line ends and odd bytes, half the time long plain
 * runs with a rare odd byte (the decoders' fast paths take sixteen bytes at a time).
 */
static size_t random_bytes(uint64_t *rng, unsigned char *buf, size_t cap)
{
	size_t n = tu_below(rng, cap + 1);
	static const unsigned char pick[] = {
		'\r', '\n', 0,    0x80, 0x81, 0x9D, 0xC3, 0xA9, 0xE2,
		0x82, 0xAC, 0xED, 0xA0, 0xF0, 0x9F, 0xD8, 0xDC, 0xFF
	};
	uint64_t odd = tu_below(rng, 2) ? 4 : 8 + tu_below(rng, 60);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = tu_rand(rng);
		buf[i] = r % odd == 0   ? pick[(r >> 8) % sizeof(pick)]
		         : r % odd == 1 ? (unsigned char)(r >> 16)
		                        : (unsigned char)('a' + (r >> 8) % 26);
	}
	return n;
}

/* What a block cut mid-line must count as cut: its last line, when nothing ends it. */
static void expect_continues(struct ul_chunk *c, enum ul_encoding enc, const unsigned char *buf,
                             size_t n, const struct ref *r)
{
	bool wide = enc == UL_ENC_UTF16LE || enc == UL_ENC_UTF16BE;
	size_t unit = wide ? 2 : 1;
	unsigned last = 0;
	if (n >= unit)
		last = !wide                   ? buf[n - 1]
		       : enc == UL_ENC_UTF16LE ? (unsigned)buf[n - 2] | (unsigned)buf[n - 1] << 8
		                               : (unsigned)buf[n - 2] << 8 | (unsigned)buf[n - 1];
	decode(c, enc, buf, n, NOLIMIT, UL_BLOCK_CONTINUES);
	assert_int_equal(c->nlines, r->nlines);
	assert_memory_equal(c->text, r->text, r->len);
	assert_int_equal(c->cut, n >= unit && last != '\n' && last != '\r' ? 1 : 0);
}

static void compare_with_ref(const struct ul_chunk *c, const struct ref *r, const char *what,
                             size_t round)
{
	if (c->nlines != r->nlines || c->len != r->len || memcmp(c->text, r->text, r->len) != 0)
		fail_msg("%s round %zu: decoder gave %zu lines/%zu bytes, reference %zu lines/%zu "
		         "bytes",
		         what, round, c->nlines, c->len, r->nlines, r->len);
	assert_int_equal(c->replaced, r->replaced);
	assert_int_equal(c->fallback, r->fallback);
	assert_int_equal(c->cut, 0);
}

static void property_random_utf8(void **state)
{
	(void)state;
	uint64_t rng = 20240601;
	unsigned char buf[400];
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (size_t round = 0; round < 20000; round++) {
		size_t n = random_bytes(&rng, buf, sizeof(buf));
		struct ref r;
		ref_utf8(buf, n, &r);
		decode(&c, UL_ENC_UTF8, buf, n, NOLIMIT, 0);
		compare_with_ref(&c, &r, "utf-8", round);
		expect_continues(&c, UL_ENC_UTF8, buf, n, &r);
		free(r.text);
		/* With a small max_line: still well formed, same number of lines. */
		size_t max_line = 1 + tu_below(&rng, 12);
		decode(&c, UL_ENC_UTF8, buf, n, max_line, 0);
		assert_int_equal(c.nlines, r.nlines);
	}
	ul_chunk_finish(&c);
}

static void property_random_utf16(void **state)
{
	(void)state;
	uint64_t rng = 77;
	unsigned char buf[400] = { 0 };
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (size_t round = 0; round < 20000; round++) {
		size_t n = random_bytes(&rng, buf, sizeof(buf)) & ~(size_t)1;
		/* Half the rounds: text that is mostly ASCII, as Windows Installer writes it. */
		unsigned char narrow[sizeof(buf) / 2];
		size_t nn = tu_below(&rng, 2) ? random_bytes(&rng, narrow, sizeof(narrow)) : 0;
		for (int le = 0; le < 2; le++) {
			enum ul_encoding enc = le ? UL_ENC_UTF16LE : UL_ENC_UTF16BE;
			if (nn) {
				for (size_t i = 0; i < nn; i++) {
					buf[2 * i + !le] = narrow[i];
					buf[2 * i + le] = narrow[i] == 0xD8 ? 0xD8 : 0;
				}
				n = 2 * nn;
			}
			struct ref r;
			ref_utf16(buf, n, le, &r);
			decode(&c, enc, buf, n, NOLIMIT, 0);
			compare_with_ref(&c, &r, ul_decode_encoding_name(enc), round);
			expect_continues(&c, enc, buf, n, &r);
			free(r.text);
			size_t max_line = 1 + tu_below(&rng, 12);
			decode(&c, enc, buf, n, max_line,
			       tu_below(&rng, 2) ? UL_BLOCK_CONTINUES : 0);
		}
		/* Odd lengths: never a crash, always well formed. */
		size_t odd = n + 1 <= sizeof(buf) ? n + 1 : n - 1;
		decode(&c, UL_ENC_UTF16LE, buf, odd, 1 + tu_below(&rng, 12), 0);
	}
	ul_chunk_finish(&c);
}

/* Whatever split says can be decoded on its own and ends at a line end. */
static void property_split_then_block(void **state)
{
	(void)state;
	uint64_t rng = 4242;
	unsigned char buf[300];
	struct ul_chunk c;
	ul_chunk_init(&c);
	for (size_t round = 0; round < 3000; round++) {
		size_t n = random_bytes(&rng, buf, sizeof(buf));
		size_t cut = ul_decode_split(UL_ENC_UTF8, buf, n);
		assert_true(cut <= n);
		if (cut) {
			unsigned char last = buf[cut - 1];
			assert_true(last == '\n' || last == '\r');
			if (last == '\r')
				assert_true(cut < n && buf[cut] != '\n');
		}
		/* No terminator after the prefix, other than a CR as the very last byte. */
		for (size_t i = cut; i < n; i++)
			if (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < n))
				fail_msg("round %zu: split gave %zu of %zu, but byte %zu ends a "
				         "line",
				         round, cut, n, i);
		decode(&c, UL_ENC_UTF8, buf, cut, NOLIMIT, 0);
	}
	ul_chunk_finish(&c);
}

/* ---- is_utf8 ----------------------------------------------------------------------------- */

static void is_utf8_strict(void **state)
{
	(void)state;
	assert_true(ul_decode_is_utf8("", 0));
	assert_true(ul_decode_is_utf8(B("plain ascii\r\n")));
	assert_true(
	        ul_decode_is_utf8(B("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF")));
	assert_true(ul_decode_is_utf8(B("nul \0 inside")));
	const char *bad[] = {
		"\x80",             /* lone continuation */
		"\xC3",             /* cut sequence */
		"\xE2\x82",         /* cut sequence */
		"\xC0\xAF",         /* overlong '/' */
		"\xC1\xBF",         /* overlong */
		"\xE0\x80\xAF",     /* overlong 3-byte */
		"\xF0\x80\x80\xAF", /* overlong 4-byte */
		"\xED\xA0\x80",     /* surrogate */
		"\xED\xBF\xBF",     /* surrogate */
		"\xF4\x90\x80\x80", /* past U+10FFFF */
		"\xF5\x80\x80\x80", /* bad lead */
		"\xFF",             /* bad lead */
		"\xC3\x28",         /* bad continuation */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = tu_fmt("ok %s ok", bad[i]);
		if (ul_decode_is_utf8(s, strlen(s)))
			fail_msg("bad sequence %zu accepted", i);
		free(s);
	}
	/* Length is respected: a valid prefix of a longer buffer. */
	assert_true(ul_decode_is_utf8("ab\xC3\xA9\xFF", 4));
	assert_false(ul_decode_is_utf8("ab\xC3\xA9\xFF", 3));
	/* Agrees with a strict validator on random bytes. */
	uint64_t rng = 5;
	unsigned char buf[64];
	for (int round = 0; round < 20000; round++) {
		size_t n = random_bytes(&rng, buf, sizeof(buf));
		if (ul_decode_is_utf8(buf, n) != tu_utf8_valid(buf, n))
			fail_msg("round %d: is_utf8 disagrees with the reference", round);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detect_utf8_plain),
		cmocka_unit_test(detect_utf8_bom),
		cmocka_unit_test(detect_utf16_bom),
		cmocka_unit_test(detect_utf16_no_bom),
		cmocka_unit_test(detect_binary),
		cmocka_unit_test(detect_more_and_eof),
		cmocka_unit_test(detect_empty),
		cmocka_unit_test(split_utf8),
		cmocka_unit_test(split_utf8_cr_after_lf),
		cmocka_unit_test(split_utf16),
		cmocka_unit_test(block_mixed_line_ends),
		cmocka_unit_test(block_counts_and_last_line),
		cmocka_unit_test(block_cp1252_fallback),
		cmocka_unit_test(block_cp1252_undefined),
		cmocka_unit_test(block_nul_replaced),
		cmocka_unit_test(block_rejects_bad_utf8),
		cmocka_unit_test(block_utf16_lines),
		cmocka_unit_test(block_utf16_unpaired_surrogates),
		cmocka_unit_test(block_utf16_odd_byte_after_terminator),
		cmocka_unit_test(block_utf16_odd_byte_same_line),
		cmocka_unit_test(block_max_line),
		cmocka_unit_test(block_continues),
		cmocka_unit_test(chunk_reuse),
		cmocka_unit_test(property_random_utf8),
		cmocka_unit_test(property_random_utf16),
		cmocka_unit_test(property_split_then_block),
		cmocka_unit_test(is_utf8_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
