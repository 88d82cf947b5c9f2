/* SPDX-License-Identifier: MIT */
/*
 * A growable NUL-terminated string for the library's internal text building (interpret, mask,
 * prefilter). Internal: no ul_ module of its own, no header in include/.
 */
#ifndef UPGLOG_STRBUF_H
#define UPGLOG_STRBUF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ul_strbuf {
	char *p; /* NULL until the first add */
	size_t len, cap;
	bool oom; /* an add failed since the last reset: the text is not whole */
};

/* Append `n` bytes of `s`; false (and `oom` set) when memory ran out. */
static inline bool ul_strbuf_add(struct ul_strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return false;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

/* Empty again, keeping the memory. */
static inline void ul_strbuf_reset(struct ul_strbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

static inline void ul_strbuf_free(struct ul_strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

#endif
