/* SPDX-License-Identifier: MIT */
/* Private to explain.c: the code table that gen_codes.py generates from codes.tsv. */
#ifndef UPGLOG_CODES_H
#define UPGLOG_CODES_H

#include <stddef.h>

#include "upglog/explain.h"

/** Every entry of codes.tsv, sorted by (space, code); each (space, code) pair occurs once. */
extern const struct ul_code_info ul_explain_table[];

/** Number of entries in ul_explain_table. */
extern const size_t ul_explain_table_len;

#endif
