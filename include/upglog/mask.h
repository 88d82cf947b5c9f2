/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_MASK_H
#define UPGLOG_MASK_H

/**
 * mask: secrets out of log text before it is stored or printed.
 *
 * A secret is found by the name it is given (any property, key or flag whose name carries a
 * password word: PWD, SAPWD, DBPASSWORD, CCMPWD, AdminPassword, szPwd, ...) or by the shape of
 * the command line that holds it (`osql -U sa -P secret`, `/p:secret`, `user:pass@host`). Its
 * value, and only its value, becomes `****`, so the line stays readable:
 * `PROPERTY CHANGE: Adding SAPWD property. Its value is '****'.` The forms are listed in
 * README.md ("Secrets").
 *
 * Masking is idempotent: a value that is already only stars is left alone. Text is handled line
 * by line (a value never runs past a line break). Every function takes bytes and a length and
 * never reads past them.
 */

#include <stdbool.h>
#include <stddef.h>

/** What a secret value becomes. */
#define UL_MASK_STARS "****"

/** A secret value: bytes [start, end) of the line. */
struct ul_mask_span {
	size_t start, end;
};

/**
 * The secret values of one line `s` (n bytes, no line break expected), in order and not
 * overlapping. Writes at most `max` spans and returns how many there are (which may be more
 * than `max`).
 */
size_t ul_mask_find(const char *s, size_t n, struct ul_mask_span *spans, size_t max);

/** Does the line hold a secret that masking would change? */
bool ul_mask_has_secret(const char *s, size_t n);

/**
 * A masked copy of `s` (n bytes, any number of lines): NUL-terminated, to free(); NULL when
 * out of memory.
 */
char *ul_mask_text(const char *s, size_t n);

/**
 * A masked copy of bytes [from, from + len) of the line `line` (n bytes): what lies inside a
 * secret of the whole line becomes `****`, and the slice is masked on its own as well. For a
 * capture that holds only a password value, which alone does not look secret.
 */
char *ul_mask_slice(const char *line, size_t n, size_t from, size_t len);

/**
 * Mask a NUL-terminated string in place. Values shorter than four bytes become as many stars
 * as they had bytes, so the string never grows. For fixed buffers.
 */
void ul_mask_inplace(char *s);

#endif
