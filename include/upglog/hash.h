/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_HASH_H
#define UPGLOG_HASH_H

/**
 * hash: a fast, non-cryptographic streaming 64-bit hash for "has this content changed?".
 * Same bytes in any split across `ul_hash_update` calls give the same digest.
 */

#include <stddef.h>
#include <stdint.h>

struct ul_hash {
	uint64_t lane[4];
	unsigned char buf[32];
	size_t buffered;
	uint64_t total;
};

void ul_hash_init(struct ul_hash *h);
void ul_hash_update(struct ul_hash *h, const void *data, size_t len);
uint64_t ul_hash_final(const struct ul_hash *h);

/** One-shot convenience. */
uint64_t ul_hash_bytes(const void *data, size_t len);

/** Write `v` as 16 lower-case hex digits plus NUL into `out`. */
void ul_hash_hex(uint64_t v, char out[17]);

#endif
