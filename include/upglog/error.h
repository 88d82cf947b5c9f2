/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_ERROR_H
#define UPGLOG_ERROR_H

/**
 * Errors travel up as values; only the CLI prints them.
 *
 * Every fallible library function takes a `struct ul_error *` (which may be NULL when the caller
 * does not want the text) and, on failure, fills it with a one-line, human-readable message that
 * already names the file and the reason, plus a short machine word (`kind`) that the store keeps
 * in `files.status` ("unreadable", "truncated", "corrupt", ...).
 */

#include <stdarg.h>
#include <stdbool.h>

#define UL_ERROR_MAX 512

struct ul_error {
	char kind[24];          /**< short reason word; "" when no error */
	char msg[UL_ERROR_MAX]; /**< one line, no trailing newline */
};

/** Clear `err` (harmless on NULL). */
void ul_error_clear(struct ul_error *err);

/** Set kind and message (printf-style). Always returns false, so callers can `return ul_error_set(...)`. */
bool ul_error_set(struct ul_error *err, const char *kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

bool ul_error_setv(struct ul_error *err, const char *kind, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/** True when `err` holds an error. */
bool ul_error_is_set(const struct ul_error *err);

#endif
