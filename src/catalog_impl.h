/* SPDX-License-Identifier: MIT */
/* Private: what classify.c needs from a compiled catalogue. Not part of any public contract. */
#ifndef UPGLOG_CATALOG_IMPL_H
#define UPGLOG_CATALOG_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "upglog/catalog.h"

/** Rule `i`'s compiled pattern (JIT-compiled when the platform allows). */
const pcre2_code *ul_catalog_code(const struct ul_catalog *cat, size_t i);

/** Largest PCRE2 ovector any rule needs (pairs). */
uint32_t ul_catalog_max_groups(const struct ul_catalog *cat);

/** PCRE2 match context with the catalogue's match and depth limits. */
pcre2_match_context *ul_catalog_match_context(const struct ul_catalog *cat);

/** Most exceptions one decisive literal carries. */
#define UL_DECISIVE_EXC 4

/**
 * A decisive literal of a family: a message that starts with `lit`, and with none of the
 * exceptions, goes to rule `rank` (a noise rule without an event, so no captures are ever
 * wanted) when `confirm` is false, and when the rule's pattern matches it otherwise; no
 * earlier rule of the family can take it. The catalogue proves it when it compiles (lead.h):
 * every earlier rule's possible leads start differently, or extend `lit` (those leads are the
 * exceptions); and without `confirm`, the rule's pattern matches whatever follows `lit`. The
 * classifier then decides such lines with a comparison, or one PCRE2 run, instead of the
 * matchers.
 */
struct ul_decisive {
	char lit[48];
	uint32_t len;
	uint32_t rank;
	bool confirm;
	uint8_t nexc;
	uint8_t exc_len[UL_DECISIVE_EXC];
	char exc[UL_DECISIVE_EXC][48];
};

/** The decisive literals of `fam` whose first byte is `first`; NULL or *n == 0 when none. */
const struct ul_decisive *ul_catalog_decisive(const struct ul_catalog *cat, ul_family fam,
                                              unsigned char first, size_t *n);

/**
 * The family of a file from its first decoded lines, its path and its encoding, as the
 * declarations say (patterns/README.md, "Families"); the fallback family when none recognises it.
 */
ul_family ul_catalog_sniff(const struct ul_catalog *cat, const struct ul_chunk *first,
                           const char *path, enum ul_encoding enc);

#endif
