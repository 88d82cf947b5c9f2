/* SPDX-License-Identifier: MIT */
/* Private: how a byte is written inside a JSON string, for every module that writes JSON. */
#ifndef UPGLOG_JSON_H
#define UPGLOG_JSON_H

#include <stdio.h>

/**
 * The escape of byte `c` inside a JSON string literal (in `buf` or a constant), or NULL when
 * the byte stands for itself. Text is UTF-8 already; only quotes, backslashes and control
 * characters are escaped.
 */
static inline const char *ul_json_escape(unsigned char c, char buf[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (c >= 0x20)
		return NULL;
	snprintf(buf, 8, "\\u%04x", c);
	return buf;
}

#endif
