/* SPDX-License-Identifier: MIT */
/* hash: streaming digest (include/upglog/hash.h). */
#include "testutil.h"

#include "upglog/hash.h"

static void fill(uint64_t *rng, unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)tu_rand(rng);
}

/* Same bytes in any split give the same digest, for lengths around every block boundary. */
static void any_split_same_digest(void **state)
{
	(void)state;
	uint64_t rng = 1;
	unsigned char buf[700];
	fill(&rng, buf, sizeof(buf));
	for (size_t n = 0; n <= sizeof(buf); n += n < 130 ? 1 : 37) {
		uint64_t whole = ul_hash_bytes(buf, n);
		for (int round = 0; round < 40; round++) {
			struct ul_hash h;
			ul_hash_init(&h);
			size_t at = 0;
			while (at < n) {
				size_t take = tu_below(&rng, 3) == 0 ? 0 : 1 + tu_below(&rng, 70);
				if (take > n - at)
					take = n - at;
				ul_hash_update(&h, buf + at, take);
				at += take;
			}
			if (ul_hash_final(&h) != whole)
				fail_msg("length %zu, split round %d: digest differs", n, round);
		}
		/* One byte at a time. */
		struct ul_hash h;
		ul_hash_init(&h);
		for (size_t i = 0; i < n; i++)
			ul_hash_update(&h, buf + i, 1);
		assert_true(ul_hash_final(&h) == whole);
	}
}

/* Final does not consume the state: asking twice, or going on after it, works. */
static void final_is_a_peek(void **state)
{
	(void)state;
	const char *a = "=== Verbose logging started: 7/18/2003  9:02:46 ===\r\n";
	const char *b = "MSI (s) (A0:EC): Product: Foo -- Installation failed.\r\n";
	struct ul_hash h;
	ul_hash_init(&h);
	ul_hash_update(&h, a, strlen(a));
	uint64_t first = ul_hash_final(&h);
	assert_true(ul_hash_final(&h) == first);
	assert_true(first == ul_hash_bytes(a, strlen(a)));
	ul_hash_update(&h, b, strlen(b));
	size_t la = strlen(a), lb = strlen(b);
	char *ab = tu_xmalloc(la + lb);
	memcpy(ab, a, la);
	memcpy(ab + la, b, lb);
	assert_true(ul_hash_final(&h) == ul_hash_bytes(ab, la + lb));
	free(ab);
}

/* Flipping any single bit changes the digest; so does length, with the same byte values. */
static void one_bit_changes_digest(void **state)
{
	(void)state;
	uint64_t rng = 99;
	size_t sizes[] = { 1, 7, 8, 31, 32, 33, 64, 100, 257 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		unsigned char *buf = tu_xmalloc(n);
		fill(&rng, buf, n);
		uint64_t base = ul_hash_bytes(buf, n);
		for (size_t bit = 0; bit < 8 * n; bit++) {
			buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
			if (ul_hash_bytes(buf, n) == base)
				fail_msg("size %zu: flipping bit %zu keeps the digest", n, bit);
			buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
		}
		free(buf);
	}
	unsigned char zeros[80] = { 0 };
	uint64_t seen[81];
	for (size_t n = 0; n <= 80; n++) {
		seen[n] = ul_hash_bytes(zeros, n);
		for (size_t k = 0; k < n; k++)
			if (seen[k] == seen[n])
				fail_msg("%zu and %zu zero bytes give the same digest", k, n);
	}
}

/* A digest is a deterministic function of the bytes alone (no address, no time). */
static void digest_is_stable(void **state)
{
	(void)state;
	const char text[] = "Action ended 14:23:05: InstallFinalize. Return value 3.";
	char *copy = tu_fmt("%s", text);
	assert_true(ul_hash_bytes(text, sizeof(text) - 1) == ul_hash_bytes(copy, strlen(copy)));
	free(copy);
	assert_true(ul_hash_bytes("a", 1) != ul_hash_bytes("b", 1));
	assert_true(ul_hash_bytes("ab", 2) != ul_hash_bytes("ba", 2));
}

static void hex_format(void **state)
{
	(void)state;
	char out[17];
	memset(out, 'x', sizeof(out));
	ul_hash_hex(0x0123456789ABCDEFull, out);
	assert_string_equal(out, "0123456789abcdef");
	ul_hash_hex(0, out);
	assert_string_equal(out, "0000000000000000");
	ul_hash_hex(UINT64_MAX, out);
	assert_string_equal(out, "ffffffffffffffff");
	ul_hash_hex(0xA, out);
	assert_string_equal(out, "000000000000000a");
	ul_hash_hex(0xF000000000000000ull, out);
	assert_string_equal(out, "f000000000000000");
	/* The digest in hex parses back to itself. */
	uint64_t d = ul_hash_bytes("upglog", 6);
	ul_hash_hex(d, out);
	assert_int_equal(strlen(out), 16);
	assert_true(strtoull(out, NULL, 16) == d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(any_split_same_digest),
		cmocka_unit_test(final_is_a_peek),
		cmocka_unit_test(one_bit_changes_digest),
		cmocka_unit_test(digest_is_stable),
		cmocka_unit_test(hex_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
