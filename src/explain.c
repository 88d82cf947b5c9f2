/* SPDX-License-Identifier: MIT */
/*
 * explain: look a number up in the table gen_codes.py compiles from codes.tsv. The table is
 * sorted by (space, code), so each namespace costs one binary search; nothing is allocated and
 * nothing is written outside the caller's array.
 */
#include "upglog/explain.h"

#include "codes.h"

#define HRESULT_FACILITY_MASK 0xFFFF0000LL
#define HRESULT_WIN32_PREFIX  0x80070000LL /* severity bit + FACILITY_WIN32 */
#define U32_LIMIT             0x100000000LL

static const char *const space_names[UL_SPACE_COUNT] = {
	[UL_SPACE_MSI_EXIT] = "msi-exit",       [UL_SPACE_MSI_MESSAGE] = "msi-message",
	[UL_SPACE_ACTION_RV] = "action-return", [UL_SPACE_WIN32] = "win32",
	[UL_SPACE_HRESULT] = "hresult",         [UL_SPACE_SETUP] = "setup",
	[UL_SPACE_IS_LAUNCHER] = "is-launcher",
};

const char *ul_explain_space_name(enum ul_code_space s)
{
	return (unsigned)s < UL_SPACE_COUNT ? space_names[s] : "unknown";
}

size_t ul_explain_count(void)
{
	return ul_explain_table_len;
}

const struct ul_code_info *ul_explain_entry(size_t i)
{
	return i < ul_explain_table_len ? &ul_explain_table[i] : NULL;
}

static int digit_value(char c, unsigned base)
{
	int d;
	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

bool ul_explain_parse(const char *q, long long *out)
{
	unsigned base = 10;
	bool negative = false;

	if (!q)
		return false;
	if (*q == '-') {
		negative = true;
		q++;
	} else if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
		base = 16;
		q += 2;
	}
	if (!*q)
		return false;
	unsigned long long v = 0;
	for (; *q; q++) {
		int d = digit_value(*q, base);
		/* v stays below 2^32 between steps, so v * 16 + 15 cannot overflow. */
		if (d < 0)
			return false;
		v = v * base + (unsigned)d;
		if (v > 0xFFFFFFFFULL)
			return false;
	}
	if (negative && v > 0x80000000ULL)
		return false;
	*out = negative ? -(long long)v : (long long)v;
	return true;
}

static const struct ul_code_info *find(enum ul_code_space s, long long code)
{
	size_t lo = 0, hi = ul_explain_table_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ul_code_info *e = &ul_explain_table[mid];
		if (e->space < s || (e->space == s && e->code < code))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ul_explain_table_len && ul_explain_table[lo].space == s &&
	    ul_explain_table[lo].code == code)
		return &ul_explain_table[lo];
	return NULL;
}

struct hits {
	const struct ul_code_info **out;
	size_t max, n;
};

static void add(struct hits *h, const struct ul_code_info *e)
{
	if (!e || h->n == h->max)
		return;
	for (size_t i = 0; i < h->n; i++)
		if (h->out[i] == e)
			return;
	h->out[h->n++] = e;
}

size_t ul_explain_lookup(const char *query, const struct ul_code_info **out, size_t max)
{
	struct hits h = { .out = out, .max = out ? max : 0 };
	long long values[2];
	size_t nvalues = 0;

	if (!ul_explain_parse(query, &values[0]))
		return 0;
	nvalues = 1;
	if (values[0] < 0)
		values[nvalues++] = values[0] + U32_LIMIT;
	/* Most specific first: the enum lists the namespaces in that order. */
	for (int s = 0; s < UL_SPACE_COUNT; s++)
		for (size_t i = 0; i < nvalues; i++)
			add(&h, find((enum ul_code_space)s, values[i]));
	/* 0x8007XXXX wraps Win32 code XXXX, which may also be an msiexec exit code (0x643). */
	for (size_t i = 0; i < nvalues; i++) {
		if ((values[i] & HRESULT_FACILITY_MASK) != HRESULT_WIN32_PREFIX)
			continue;
		long long wrapped = values[i] & 0xFFFF;
		add(&h, find(UL_SPACE_MSI_EXIT, wrapped));
		add(&h, find(UL_SPACE_WIN32, wrapped));
	}
	return h.n;
}
