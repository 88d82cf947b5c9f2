/* SPDX-License-Identifier: MIT */
#include "upglog/error.h"

#include <stdio.h>
#include <string.h>

void ul_error_clear(struct ul_error *err)
{
	if (err) {
		err->kind[0] = '\0';
		err->msg[0] = '\0';
	}
}

bool ul_error_setv(struct ul_error *err, const char *kind, const char *fmt, va_list ap)
{
	if (!err)
		return false;
	snprintf(err->kind, sizeof(err->kind), "%s", kind ? kind : "error");
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	/* One line, always: a message may quote input that holds line breaks. */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return false;
}

bool ul_error_set(struct ul_error *err, const char *kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ul_error_setv(err, kind, fmt, ap);
	va_end(ap);
	return false;
}

bool ul_error_is_set(const struct ul_error *err)
{
	return err && err->kind[0] != '\0';
}
