/* SPDX-License-Identifier: MIT */
/*
 * Four independent multiply-rotate lanes over 8-byte words keep the CPU's multipliers busy
 * (several GB/s); a final avalanche mixes the lanes and the length. Good enough to notice a
 * changed log; not meant to resist an adversary.
 */
#include "upglog/hash.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static uint64_t rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

static uint64_t round64(uint64_t acc, uint64_t w)
{
	acc += w * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

void ul_hash_init(struct ul_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->lane[0] = P1 + P2;
	h->lane[1] = P2;
	h->lane[2] = 0;
	h->lane[3] = 0 - P1;
}

static void stripe(struct ul_hash *h, const unsigned char *p)
{
	h->lane[0] = round64(h->lane[0], load64(p));
	h->lane[1] = round64(h->lane[1], load64(p + 8));
	h->lane[2] = round64(h->lane[2], load64(p + 16));
	h->lane[3] = round64(h->lane[3], load64(p + 24));
}

void ul_hash_update(struct ul_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->total += len;
	if (h->buffered) {
		size_t take = 32 - h->buffered;
		if (take > len)
			take = len;
		memcpy(h->buf + h->buffered, p, take);
		h->buffered += take;
		p += take;
		len -= take;
		if (h->buffered < 32)
			return;
		stripe(h, h->buf);
		h->buffered = 0;
	}
	for (; len >= 32; p += 32, len -= 32)
		stripe(h, p);
	memcpy(h->buf, p, len);
	h->buffered = len;
}

uint64_t ul_hash_final(const struct ul_hash *h)
{
	uint64_t v = rotl(h->lane[0], 1) + rotl(h->lane[1], 7) + rotl(h->lane[2], 12) +
	             rotl(h->lane[3], 18);
	v ^= h->total * P3;
	for (size_t i = 0; i < h->buffered; i++)
		v = rotl(v ^ (h->buf[i] * P3), 11) * P1;
	v ^= v >> 33;
	v *= P2;
	v ^= v >> 29;
	v *= P3;
	v ^= v >> 32;
	return v;
}

uint64_t ul_hash_bytes(const void *data, size_t len)
{
	struct ul_hash h;
	ul_hash_init(&h);
	ul_hash_update(&h, data, len);
	return ul_hash_final(&h);
}

void ul_hash_hex(uint64_t v, char out[17])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--) {
		out[i] = hex[v & 15];
		v >>= 4;
	}
	out[16] = '\0';
}
