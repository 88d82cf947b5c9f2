/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_SCAN_H
#define UPGLOG_SCAN_H

/**
 * scan: the pipeline, source -> decode -> classify -> interpret -> store, over every input.
 *
 * The calling thread reads (and decompresses) each file and cuts it into blocks of whole
 * lines; a pool of workers decodes and classifies blocks, any block of any file, in parallel;
 * the calling thread takes the results back in file order, runs the state machine and writes
 * the store. Line numbers, the MSI state machine and the database therefore see every file in
 * order, whatever the number of workers, and memory stays bounded by the number of blocks in
 * flight (about 2 MiB each), not by input size.
 *
 * A file that cannot be read is recorded (`files.status`, `files.error`), reported once through
 * `on_problem`, and the scan goes on; what was read before a fault is kept.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/catalog.h"
#include "upglog/error.h"
#include "upglog/source.h"
#include "upglog/store.h"

struct ul_scan_stats {
	uint64_t sources;
	uint64_t files;            /**< files read and stored */
	uint64_t kept;             /**< unchanged files not read again */
	uint64_t unchanged_inputs; /**< inputs (bundles, files) unchanged since the last scan */
	uint64_t problems;         /**< files (or inputs) that could not be read, fully or partly */
	uint64_t bytes;            /**< decompressed bytes read */
	uint64_t lines;
	uint64_t findings;     /**< non-noise findings stored */
	uint64_t failed;       /**< files whose verdict is failed */
	uint64_t limit_errors; /**< lines where a pattern hit the PCRE2 match limit */
	double seconds;
	/** Bytes of the inputs as stored (compressed or not): their total when every input is a
	 *  regular file, else 0 (unknown: a folder, standard input); and how many were read. */
	uint64_t input_total, input_done;
};

struct ul_scan_opts {
	const char *const *paths;
	size_t npaths;
	unsigned jobs;     /**< threads that classify, the reading one included; 0 = one per CPU */
	bool keep_noise;   /**< store noise lines as findings too */
	bool no_prefilter; /**< PCRE2 only, even when built with Hyperscan (same results) */
	bool force;        /**< read every file again even when unchanged */
	size_t max_line;   /**< longest line kept, bytes; 0 = UL_SCAN_MAX_LINE */
	struct ul_source_limits limits;
	const char *arguments; /**< recorded in scans.arguments: a JSON array, secrets masked */
	/** Server name for inputs whose logs name none (before the input's own name); or NULL. */
	const char *host;
	/** Name of standard input: stored as `stdin:LABEL` (and read for a host name); or NULL. */
	const char *label;
	void *ctx;
	/** One line about an input or file that could not be read (fully or at all). */
	void (*on_problem)(void *ctx, const char *kind, const char *message);
	/** Called now and then during the scan (at most ~5 times a second), and once at the end
	 *  of a scan that did not fail. May be NULL. */
	void (*on_progress)(void *ctx, const struct ul_scan_stats *so_far);
};

#define UL_SCAN_MAX_LINE (64u << 10)

/**
 * Scan every path into `st`. Returns false only when the scan as a whole cannot go on (the
 * database fails, memory runs out); unreadable inputs are counted in `stats->problems`.
 */
bool ul_scan_run(struct ul_store *st, const struct ul_catalog *cat, const struct ul_scan_opts *opts,
                 int64_t *scan_id, struct ul_scan_stats *stats, struct ul_error *err);

#endif
