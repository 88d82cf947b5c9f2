/* SPDX-License-Identifier: MIT */
/* decode: raw bytes -> UTF-8 lines. See include/upglog/decode.h for the contract. */
#include "upglog/decode.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Windows-1252 bytes 0x80..0x9F as Unicode; 0 marks the five undefined bytes. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

#define REPLACEMENT 0xFFFDu

const char *ul_decode_encoding_name(enum ul_encoding enc)
{
	switch (enc) {
	case UL_ENC_UTF8:
		return "utf-8";
	case UL_ENC_UTF8_BOM:
		return "utf-8-bom";
	case UL_ENC_UTF16LE:
		return "utf-16le";
	case UL_ENC_UTF16BE:
		return "utf-16be";
	}
	return "unknown";
}

void ul_chunk_init(struct ul_chunk *c)
{
	memset(c, 0, sizeof(*c));
}

void ul_chunk_finish(struct ul_chunk *c)
{
	if (!c)
		return;
	free(c->text);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

/* A C0 control that does not belong in a text log (TAB, LF, VT, FF, CR and ESC do). */
static bool odd_control(unsigned u)
{
	return u < 0x20 && u != '\t' && u != '\n' && u != '\v' && u != '\f' && u != '\r' &&
	       u != 0x1B;
}

static enum ul_detect detect_utf16(const unsigned char *b, size_t len, bool le)
{
	size_t units = len / 2, odd = 0;

	for (size_t i = 0; i < units; i++) {
		unsigned u = le ? (unsigned)b[2 * i] | (unsigned)b[2 * i + 1] << 8
		                : (unsigned)b[2 * i] << 8 | (unsigned)b[2 * i + 1];
		if (u == 0 || odd_control(u))
			odd++;
	}
	return odd * 10 > units ? UL_DETECT_BINARY : UL_DETECT_TEXT;
}

enum ul_detect ul_decode_detect(const void *head, size_t len, bool eof, enum ul_encoding *enc,
                                size_t *skip)
{
	const unsigned char *b = head;

	*enc = UL_ENC_UTF8;
	*skip = 0;
	if (len < UL_DECODE_SNIFF && !eof)
		return UL_DETECT_MORE;
	if (len > UL_DECODE_SNIFF)
		len = UL_DECODE_SNIFF;
	if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		*enc = UL_ENC_UTF8_BOM;
		*skip = 3;
	} else if (len >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
		*enc = UL_ENC_UTF16LE;
		*skip = 2;
		return detect_utf16(b + 2, len - 2, true);
	} else if (len >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
		*enc = UL_ENC_UTF16BE;
		*skip = 2;
		return detect_utf16(b + 2, len - 2, false);
	}

	/* Without a BOM, UTF-16 shows as NUL bytes in every other position. */
	size_t pairs = len / 2, zeven = 0, zodd = 0;
	for (size_t i = 0; i < pairs; i++) {
		zeven += b[2 * i] == 0;
		zodd += b[2 * i + 1] == 0;
	}
	if (*skip == 0 && pairs >= 2) {
		if (zodd * 10 >= pairs * 4 && zeven * 20 <= pairs) {
			*enc = UL_ENC_UTF16LE;
			return detect_utf16(b, len, true);
		}
		if (zeven * 10 >= pairs * 4 && zodd * 20 <= pairs) {
			*enc = UL_ENC_UTF16BE;
			return detect_utf16(b, len, false);
		}
	}

	size_t nul = 0, odd = 0;
	for (size_t i = *skip; i < len; i++) {
		nul += b[i] == 0;
		odd += odd_control(b[i]);
	}
	if (nul * 64 > len || odd * 10 > len)
		return UL_DETECT_BINARY;
	return UL_DETECT_TEXT;
}

static unsigned unit16(const unsigned char *p, bool le)
{
	return le ? (unsigned)p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | (unsigned)p[1];
}

size_t ul_decode_split(enum ul_encoding enc, const void *buf, size_t len)
{
	const unsigned char *b = buf;

	if (enc == UL_ENC_UTF16LE || enc == UL_ENC_UTF16BE) {
		bool le = enc == UL_ENC_UTF16LE;
		size_t units = len / 2;
		for (size_t i = units; i-- > 0;) {
			unsigned u = unit16(b + 2 * i, le);
			if (u == '\n' || (u == '\r' && i + 1 < units))
				return 2 * (i + 1);
		}
		return 0;
	}
	/* The last line end: an LF, or a CR that is not the last byte (an LF may follow it). */
	const unsigned char *nl = memrchr(b, '\n', len);
	const unsigned char *cr = len < 2 ? NULL : memrchr(b, '\r', len - 1);
	const unsigned char *end = cr && (!nl || cr > nl) ? cr : nl;
	return end ? (size_t)(end - b) + 1 : 0;
}

/* ---- output helpers ---------------------------------------------------------------------- */

static bool reserve_text(struct ul_chunk *c, size_t more)
{
	if (c->cap - c->len >= more)
		return true;
	size_t cap = c->cap ? c->cap : 4096;
	while (cap - c->len < more)
		cap *= 2;
	char *t = realloc(c->text, cap);
	if (!t)
		return false;
	c->text = t;
	c->cap = cap;
	return true;
}

static bool push_line(struct ul_chunk *c, size_t start, size_t raw)
{
	if (c->nlines == c->lines_cap) {
		size_t n = c->lines_cap ? c->lines_cap * 2 : 1024;
		struct ul_line *l = realloc(c->lines, n * sizeof(*l));
		if (!l)
			return false;
		c->lines = l;
		c->lines_cap = n;
	}
	c->lines[c->nlines++] = (struct ul_line){
		.start = (uint32_t)start,
		.len = (uint32_t)(c->len - start),
		.raw = (uint32_t)raw,
	};
	c->text[c->len++] = '\n';
	return true;
}

/* Bytes needed to write code point `cp` in UTF-8. */
static size_t utf8_len(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static char *put_utf8(char *o, uint32_t cp)
{
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
	return o;
}

/*
 * Line writer: appends code points to the chunk's current line up to `room` bytes; what does
 * not fit is dropped and the line is marked cut.
 */
struct writer {
	struct ul_chunk *c;
	char *o;     /* next output byte */
	size_t room; /* bytes the line may still take */
	bool cut;
};

static void put(struct writer *w, uint32_t cp)
{
	size_t n = utf8_len(cp);
	if (n > w->room) {
		w->room = 0;
		w->cut = true;
		return;
	}
	w->o = put_utf8(w->o, cp);
	w->room -= n;
}

/* ---- UTF-8 / Windows-1252 ---------------------------------------------------------------- */

#define ONES        0x0101010101010101ull
#define HIGHS       0x8080808080808080ull
#define HAS_ZERO(w) (((w)-ONES) & ~(w)&HIGHS)

/* True when s[0..n) is ASCII without NUL, so it can be copied unchanged. */
static bool plain_ascii(const unsigned char *s, size_t n)
{
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		if ((w & HIGHS) || HAS_ZERO(w))
			return false;
	}
	for (; n; s++, n--)
		if (*s == 0 || *s >= 0x80)
			return false;
	return true;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes are not valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *e, uint32_t *cp)
{
	unsigned c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		n = 2, v = c & 0x1F, min = 0x80;
	} else if (c < 0xF0) {
		n = 3, v = c & 0x0F, min = 0x800;
	} else if (c < 0xF5) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(e - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

bool ul_decode_is_utf8(const void *buf, size_t len)
{
	if (len == 0)
		return true;
	const unsigned char *s = buf, *e = s + len;
	while (s < e) {
		uint32_t cp;
		size_t n = *s < 0x80 ? 1 : utf8_seq(s, e, &cp);
		if (!n)
			return false;
		s += n;
	}
	return true;
}

static void utf8_text(struct writer *w, const unsigned char *s, const unsigned char *e)
{
	size_t n = (size_t)(e - s);

	if (n <= w->room && plain_ascii(s, n)) {
		memcpy(w->o, s, n);
		w->o += n;
		w->room -= n;
		return;
	}
	while (s < e && !w->cut) {
		uint32_t cp = *s;
		if (cp == 0) {
			put(w, REPLACEMENT);
			w->c->replaced++;
			s++;
		} else if (cp < 0x80) {
			put(w, cp);
			s++;
		} else if ((n = utf8_seq(s, e, &cp)) != 0) {
			put(w, cp);
			s += n;
		} else {
			/* Not UTF-8: read the byte as Windows-1252. */
			cp = *s++;
			if (cp < 0xA0) {
				cp = cp1252_high[cp - 0x80];
				if (!cp) {
					cp = REPLACEMENT;
					w->c->replaced++;
				}
			}
			w->c->fallback++;
			put(w, cp);
		}
	}
}

static bool begin_line(struct writer *w, struct ul_chunk *c, size_t raw_len, size_t max_line,
                       size_t per_byte)
{
	size_t room = raw_len * per_byte;
	if (room > max_line)
		room = max_line;
	if (!reserve_text(c, room + 1))
		return false;
	w->c = c;
	w->o = c->text + c->len;
	w->room = room;
	w->cut = false;
	return true;
}

static bool end_line(struct writer *w, size_t raw, bool cut)
{
	struct ul_chunk *c = w->c;
	size_t start = c->len;

	c->len = (size_t)(w->o - c->text);
	if (w->cut || cut)
		c->cut++;
	return push_line(c, start, raw);
}

/*
 * The first byte from p on that ends a plain stretch: LF, CR, NUL or a byte of 0x80 and up.
 * Sixteen bytes a step where SSE2 is there (every x86-64), then eight, then one.
 */
static const unsigned char *plain_end(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
	const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), nul = _mm_setzero_si128();
	for (; end - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit =
		        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)),
		                     _mm_cmpeq_epi8(v, nul));
		/* movemask takes each byte's top bit: the comparisons' and the high bytes'. */
		unsigned mask = (unsigned)(_mm_movemask_epi8(hit) | _mm_movemask_epi8(v));
		if (mask)
			return p + __builtin_ctz(mask);
	}
#endif
	for (; end - p >= 8; p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		if ((w & HIGHS) || HAS_ZERO(w) || HAS_ZERO(w ^ ('\r' * ONES)) ||
		    HAS_ZERO(w ^ ('\n' * ONES)))
			break;
	}
	for (; p < end; p++)
		if (*p == '\n' || *p == '\r' || *p == 0 || *p >= 0x80)
			break;
	return p;
}

static bool block_utf8(const unsigned char *buf, size_t len, size_t max_line, unsigned flags,
                       struct ul_chunk *c)
{
	const unsigned char *p = buf, *end = buf + len, *nl = NULL;
	struct writer w;

	while (p < end) {
		/* The usual line, plain ASCII ending in LF, CRLF or the block's end: a copy. */
		const unsigned char *q = plain_end(p, end), *next = NULL;
		if (q == end)
			next = end;
		else if (*q == '\n')
			next = q + 1;
		else if (*q == '\r' && q + 1 < end && q[1] == '\n')
			next = q + 2;
		size_t n = (size_t)(q - p);
		if (next && n <= max_line) {
			if (!begin_line(&w, c, n, max_line, 1))
				return false;
			memcpy(w.o, p, n);
			w.o += n;
			bool last = q == end;
			if (!end_line(&w, (size_t)(p - buf), last && (flags & UL_BLOCK_CONTINUES)))
				return false;
			p = next;
			continue;
		}
		/* The next LF is remembered, so CR-only files are not rescanned line after line. */
		if (!nl || nl < p) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				nl = end;
		}
		const unsigned char *cr = memchr(p, '\r', (size_t)(nl - p));
		const unsigned char *eol = cr ? cr : nl;
		/* cp1252 bytes take up to 3 UTF-8 bytes, U+FFFD 3. */
		if (!begin_line(&w, c, (size_t)(eol - p), max_line, 3))
			return false;
		utf8_text(&w, p, eol);
		bool last = eol == end;
		if (!end_line(&w, (size_t)(p - buf), last && (flags & UL_BLOCK_CONTINUES)))
			return false;
		if (last)
			break;
		p = eol + 1;
		if (*eol == '\r' && p < end && *p == '\n')
			p++;
	}
	return true;
}

/* ---- UTF-16 ------------------------------------------------------------------------------ */

static bool plain16(unsigned u)
{
	return u < 0x80 && u != 0 && u != '\n' && u != '\r';
}

#if defined(__SSE2__)
/* Eight code units from p as 16-bit lanes in host order. */
static __m128i load16(const unsigned char *p, bool le)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	return le ? v : _mm_or_si128(_mm_slli_epi16(v, 8), _mm_srli_epi16(v, 8));
}
#endif

#if defined(__SSE2__)
/* Lanes of v that are not plain ASCII, as 0xFFFF. */
static __m128i stop16(__m128i v)
{
	const __m128i high = _mm_set1_epi16((short)0xFF80), lf = _mm_set1_epi16('\n'),
	              cr = _mm_set1_epi16('\r'), zero = _mm_setzero_si128();
	__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi16(v, lf), _mm_cmpeq_epi16(v, cr)),
	                           _mm_cmpeq_epi16(v, zero));
	return _mm_or_si128(bad, _mm_xor_si128(_mm_cmpeq_epi16(_mm_and_si128(v, high), zero),
	                                       _mm_set1_epi16(-1)));
}
#endif

/*
 * Narrow the plain ASCII units from i on (not LF, CR, NUL or 0x80 and up) into o, at most
 * `cap` of them (all inside the block), sixteen a step; returns the first unit not taken. Bytes
 * past the returned length may be written too, within `cap`.
 */
static size_t plain16_take(const unsigned char *buf, size_t i, bool le, char *o, size_t cap)
{
	size_t k = i, end = i + cap;
#if defined(__SSE2__)
	for (; end - k >= 16; k += 16) {
		__m128i a = load16(buf + 2 * k, le), b = load16(buf + 2 * k + 16, le);
		_mm_storeu_si128((__m128i *)(void *)(o + (k - i)), _mm_packus_epi16(a, b));
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(stop16(a), stop16(b)));
		if (mask)
			return k + (size_t)__builtin_ctz(mask);
	}
#endif
	for (; k < end; k++) {
		unsigned u = unit16(buf + 2 * k, le);
		if (!plain16(u))
			break;
		o[k - i] = (char)u;
	}
	return k;
}

static bool block_utf16(const unsigned char *buf, size_t len, bool le, size_t max_line,
                        unsigned flags, struct ul_chunk *c)
{
	size_t units = len / 2, i = 0;
	bool dangling = len & 1; /* a last byte without its pair: the stream was cut */
	struct writer w;

	while (i < units || (dangling && i == units)) {
		/*
		 * The usual line, plain ASCII ending in LF, CRLF or the block's end: narrowed as it
		 * is scanned, in room for the longest line it can be.
		 */
		size_t cap = units - i < max_line ? units - i : max_line;
		if (!begin_line(&w, c, cap, max_line, 1))
			return false;
		size_t j = plain16_take(buf, i, le, w.o, cap), next = 0;
		if (j == units && !dangling)
			next = units;
		else if (j < units && unit16(buf + 2 * j, le) == '\n')
			next = j + 1;
		else if (j + 1 < units && unit16(buf + 2 * j, le) == '\r' &&
		         unit16(buf + 2 * (j + 1), le) == '\n')
			next = j + 2;
		if (next) {
			w.o += j - i;
			bool last = j == units;
			if (!end_line(&w, 2 * i, last && (flags & UL_BLOCK_CONTINUES)))
				return false;
			i = next;
			continue;
		}
		j = i;
		while (j < units) {
			unsigned u = unit16(buf + 2 * j, le);
			if (u == '\n' || u == '\r')
				break;
			j++;
		}
		/* A BMP code unit takes at most 3 UTF-8 bytes; a surrogate pair 4 for 2 units. */
		if (!begin_line(&w, c, j - i + dangling, max_line, 3))
			return false;
		for (size_t k = i; k < j && !w.cut; k++) {
			uint32_t u = unit16(buf + 2 * k, le);
			if (u >= 0xD800 && u <= 0xDBFF && k + 1 < j) {
				uint32_t lo = unit16(buf + 2 * (k + 1), le);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					put(&w, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
					k++;
					continue;
				}
			}
			if (u == 0 || (u >= 0xD800 && u <= 0xDFFF)) {
				u = REPLACEMENT;
				c->replaced++;
			}
			put(&w, u);
		}
		bool last = j == units;
		if (last && dangling) {
			/* Say so on the line it belongs to; never drop it silently. */
			put(&w, REPLACEMENT);
			c->replaced++;
			dangling = false;
		}
		if (!end_line(&w, 2 * i, last && (flags & UL_BLOCK_CONTINUES)))
			return false;
		if (last)
			break;
		unsigned t = unit16(buf + 2 * j, le);
		i = j + 1;
		if (t == '\r' && i < units && unit16(buf + 2 * i, le) == '\n')
			i++;
	}
	return true;
}

bool ul_decode_block(enum ul_encoding enc, const void *buf, size_t len, size_t max_line,
                     unsigned flags, struct ul_chunk *out)
{
	out->len = 0;
	out->nlines = 0;
	out->cut = 0;
	out->replaced = 0;
	out->fallback = 0;
	if (max_line == 0)
		max_line = 1;
	switch (enc) {
	case UL_ENC_UTF16LE:
		return block_utf16(buf, len, true, max_line, flags, out);
	case UL_ENC_UTF16BE:
		return block_utf16(buf, len, false, max_line, flags, out);
	case UL_ENC_UTF8:
	case UL_ENC_UTF8_BOM:
		break;
	}
	return block_utf8(buf, len, max_line, flags, out);
}
