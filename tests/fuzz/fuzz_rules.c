/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the catalogue and the classifier: the input is a rule file. It is parsed,
 * compiled and proved (`ul_classify_check`) with and without the prefilter; every rule is
 * exported and judged for portability, and every sample and `not` line is classified in every
 * family on both paths.
 *
 * Built with -DUL_FUZZ_EQUIVALENCE=1, a difference between the two paths traps too (off by
 * default: known divergences would stop every run at once).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upglog/catalog.h"
#include "upglog/classify.h"

#ifndef UL_FUZZ_EQUIVALENCE
#define UL_FUZZ_EQUIVALENCE 0
#endif

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Never write compiled prefilters to disk from a fuzzer. */
	setenv("UPGLOG_CACHE_DIR", "", 1);
	return 0;
}

static void check_error(const struct ul_error *err)
{
	CHECK(ul_error_is_set(err));
	CHECK(strchr(err->msg, '\n') == NULL);
	CHECK(strlen(err->msg) > 0);
}

static void count_failure(void *ctx, const struct ul_check_failure *f)
{
	CHECK(f->rule && f->kind && f->line && f->reason);
	(*(size_t *)ctx)++;
}

/* Every sample and not of every rule, classified on both paths in every family. */
static void classify_lines(const struct ul_catalog *cat, struct ul_classifier *ref,
                           struct ul_classifier *pf)
{
	size_t count = ul_catalog_count(cat);
	for (size_t i = 0; i < count; i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		for (size_t s = 0; s < r->nsamples + r->nnots; s++) {
			const char *line =
			        s < r->nsamples ? r->samples[s] : r->nots[s - r->nsamples];
			size_t len = strlen(line);
			/* The family declarations read the line too, as a file's first line. */
			struct ul_chunk c;
			ul_chunk_init(&c);
			if (ul_decode_block(UL_ENC_UTF8, line, len, 1u << 16, 0, &c))
				CHECK(ul_classify_sniff(cat, &c, line, UL_ENC_UTF8) <
				      ul_catalog_families(cat));
			ul_chunk_finish(&c);
			for (size_t f = 0; f < ul_catalog_families(cat); f++) {
				uint32_t ca[2 * UL_MAX_CAPS], cb[2 * UL_MAX_CAPS];
				long a = ul_classify_line(ref, (ul_family)f, line, len, ca);
				long b = ul_classify_line(pf, (ul_family)f, line, len, cb);
				CHECK(a >= -1 && a < (long)count);
				CHECK(b >= -1 && b < (long)count);
				for (unsigned k = 0; a >= 0 && k < 2 * UL_MAX_CAPS; k++)
					CHECK(ca[k] == UL_CAP_UNSET || ca[k] <= len);
				if (UL_FUZZ_EQUIVALENCE) {
					CHECK(a == b);
					CHECK(a < 0 || memcmp(ca, cb, sizeof(ca)) == 0);
				}
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ul_catalog *cat = ul_catalog_new();
	struct ul_error err;
	CHECK(cat);
	ul_error_clear(&err);
	/* Families the seeds' rules name; the input may declare more (or break these). */
	static const char families[] = "family msi\n  verdict msi\n  line ^MSI \\(\n"
	                               "family burn\nfamily sql\n  name sqlstp*\n"
	                               "family dcd\nfamily cisco\n  path *cisco/logs/*\n"
	                               "family generic\n  fallback yes\n";
	CHECK(ul_catalog_add_text(cat, "families.rules", families, sizeof(families) - 1, &err));
	if (!ul_catalog_add_text(cat, "fuzz.rules", (const char *)data, size, &err)) {
		check_error(&err);
		ul_catalog_destroy(cat);
		return 0;
	}
	if (!ul_catalog_compile(cat, &err)) {
		check_error(&err);
		ul_catalog_destroy(cat);
		return 0;
	}
	size_t count = ul_catalog_count(cat);
	CHECK(count > 0);
	CHECK(strlen(ul_catalog_hash(cat)) == 16);
	for (size_t i = 0; i < count; i++) {
		const struct ul_rule *r = ul_catalog_rule(cat, i);
		CHECK(r && r->id && r->match && r->title && r->explain && r->fix && r->evidence);
		CHECK(r->nsamples > 0 && r->ncaps <= UL_MAX_CAPS);
		CHECK(ul_catalog_find(cat, r->id) == (long)i);
		if (i > 0)
			CHECK(ul_catalog_rule(cat, i - 1)->priority >= r->priority);
		char buf[4096], tiny[8];
		if (ul_catalog_export_regex(cat, i, buf, sizeof(buf)))
			CHECK(strlen(buf) < sizeof(buf));
		if (ul_catalog_export_regex(cat, i, tiny, sizeof(tiny)))
			CHECK(strlen(tiny) < sizeof(tiny));
		const char *why = ul_catalog_unportable(cat, i);
		CHECK(!why || *why);
	}
	struct ul_classifier *ref = ul_classifier_create(cat, false, &err);
	struct ul_classifier *pf = ul_classifier_create(cat, true, &err);
	CHECK(ref && pf);
	size_t fa = 0, fb = 0;
	size_t na = ul_classify_check(ref, count_failure, &fa);
	size_t nb = ul_classify_check(pf, count_failure, &fb);
	CHECK(na == fa && nb == fb);
	if (UL_FUZZ_EQUIVALENCE)
		CHECK(na == nb);
	classify_lines(cat, ref, pf);
	ul_classifier_destroy(ref);
	ul_classifier_destroy(pf);
	ul_catalog_destroy(cat);
	return 0;
}
