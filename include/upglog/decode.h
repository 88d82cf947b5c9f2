/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_DECODE_H
#define UPGLOG_DECODE_H

/**
 * decode: raw log bytes -> UTF-8 lines.
 *
 * The stage is built from three pure functions so that one big file can be split across
 * workers: `ul_decode_detect` looks at the first bytes of a stream once, `ul_decode_split` finds
 * where a buffer may be cut at a line boundary, and `ul_decode_block` turns a block of whole
 * lines into a chunk. The caller (the scan pipeline, a test, a fuzzer) owns the buffers.
 *
 * Rules the decoder follows:
 *  - UTF-8 with or without BOM; a byte that is not part of a valid UTF-8 sequence is read as
 *    Windows-1252 (the five bytes Windows-1252 leaves undefined become U+FFFD and are counted as
 *    replaced). The output is always valid UTF-8.
 *  - UTF-16LE/BE with BOM, or without BOM when the NUL pattern of the first bytes says so.
 *    Unpaired surrogates become U+FFFD (counted).
 *  - NUL characters become U+FFFD (counted), never dropped.
 *  - Line ends: CRLF, LF and lone CR all end a line; the terminator is not part of the line.
 *  - A line longer than the block's `max_line` is cut to at most `max_line` bytes (on a UTF-8
 *    character boundary) and counted; the rest of that line is skipped, the next line is kept.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ul_encoding {
	UL_ENC_UTF8 = 0, /**< UTF-8 (possibly with Windows-1252 bytes mixed in) */
	UL_ENC_UTF8_BOM, /**< UTF-8 after an EF BB BF byte order mark */
	UL_ENC_UTF16LE,  /**< UTF-16 little endian (BOM FF FE, or detected) */
	UL_ENC_UTF16BE,  /**< UTF-16 big endian (BOM FE FF, or detected) */
};

/** "utf-8", "utf-8-bom", "utf-16le", "utf-16be". */
const char *ul_decode_encoding_name(enum ul_encoding enc);

enum ul_detect {
	UL_DETECT_TEXT,   /**< text; *enc and *skip are set */
	UL_DETECT_BINARY, /**< not a text log */
	UL_DETECT_MORE, /**< give more bytes (only returned when !eof and len < UL_DECODE_SNIFF) */
};

/** Bytes `ul_decode_detect` wants to look at before it decides (fewer at end of stream). */
#define UL_DECODE_SNIFF 4096

/**
 * Decide the encoding of a stream from its first `len` bytes.
 * `skip` receives the length of the byte order mark (0, 2 or 3) the caller must drop.
 */
enum ul_detect ul_decode_detect(const void *head, size_t len, bool eof, enum ul_encoding *enc,
                                size_t *skip);

/**
 * Length of the longest prefix of `buf` that ends with a complete line terminator, so that the
 * prefix can be decoded on its own. Returns 0 when `buf` holds no terminator. A CR that is the
 * last byte (or code unit) is not taken as a terminator yet, because an LF may follow.
 */
size_t ul_decode_split(enum ul_encoding enc, const void *buf, size_t len);

/** One decoded line of a chunk. */
struct ul_line {
	uint32_t start; /**< offset of the line's first byte in chunk->text */
	uint32_t len;   /**< length in bytes, terminator excluded */
	uint32_t raw;   /**< offset of the line's first raw byte, relative to the block */
};

/**
 * A block's decoded lines. `text` holds every line followed by one '\n', so a line can be
 * handed to a regex engine as a whole buffer or on its own. Storage is owned by the chunk and
 * reused across blocks; `ul_chunk_finish` frees it.
 */
struct ul_chunk {
	char *text;
	size_t len, cap;
	struct ul_line *lines;
	size_t nlines, lines_cap;
	uint32_t cut;      /**< lines cut to max_line in this block */
	uint32_t replaced; /**< characters replaced by U+FFFD in this block */
	uint32_t fallback; /**< bytes read as Windows-1252 in this block */
};

void ul_chunk_init(struct ul_chunk *c);
void ul_chunk_finish(struct ul_chunk *c);

/** Flags for `ul_decode_block`. */
enum {
	/** The block's last line goes on past the block; the caller skips the rest of it. The line
	 *  is counted as cut. */
	UL_BLOCK_CONTINUES = 1u << 0,
};

/**
 * Decode a block that starts at a line boundary into `out` (cleared first). The last line of the
 * block may lack a terminator (end of stream). Returns false only when memory runs out.
 */
bool ul_decode_block(enum ul_encoding enc, const void *buf, size_t len, size_t max_line,
                     unsigned flags, struct ul_chunk *out);

/** True when `s[0..len)` is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool ul_decode_is_utf8(const void *s, size_t len);

#endif
