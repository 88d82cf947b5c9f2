/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_SOURCE_H
#define UPGLOG_SOURCE_H

/**
 * source: one command-line input (a file, a folder, `-` for stdin, a `.gz`, a `.zip`, a `.tar`,
 * a `.tar.gz`) -> a sequence of entries, one per log file, each readable as a byte stream.
 *
 * Containers are recognised by their first bytes, not their names, and may nest: a `.gz`
 * inside a `.zip` inside a `.tar.gz` is read straight through, never extracted to disk.
 *
 * Paths are identities: two different logs never share one. Inside containers they are
 * written `outer!inner/path.log` with '/' separators ('\' in a member name separates folders
 * too, and "." components are dropped). In every name, bytes that are not UTF-8, control
 * bytes, '!' and '\' are written \xNN (`a\x21b.log` is a file named `a!b.log`). A member
 * whose normalized name an earlier member of the same archive already had is numbered
 * `name\#2`, `name\#3`, ... and carries a `note`.
 *
 * Inside folders and containers, a file is taken when its name looks like a log (`*.log*`,
 * `*.txt`, `*.out`, `*.err`), when it lies in a Cisco or DC Directory log folder, or when it is
 * itself a container; other files are passed over silently. A path named on the command line is
 * always read.
 *
 * A source owns everything it hands out; an entry and its strings stay valid until the next
 * `ul_source_next` or `ul_source_close`.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "upglog/error.h"

/** Where a file sat on the upgraded server. */
enum ul_location {
	UL_LOC_OTHER = 0,
	UL_LOC_CISCO_LOGS, /**< ...\Program Files\Common Files\Cisco\Logs\** */
	UL_LOC_DCD,        /**< ...\Dcdsrvr\log\** */
	UL_LOC_C_ROOT,     /**< *.log / *.txt at the root of a copied C: drive */
};

/** "other", "cisco-logs", "dcd", "c-root". */
const char *ul_location_name(enum ul_location loc);

/**
 * Location class of a path (any separators, any case). `drive_root` says the file's folder is
 * known to be the root of a C: drive; a parent folder named `C`, `C$`, `C:`, `C_drive`,
 * `drive_c` or `c-drive` also counts.
 */
enum ul_location ul_location_of(const char *path, bool drive_root);

enum ul_source_kind {
	UL_SRC_FILE = 0,
	UL_SRC_DIR,
	UL_SRC_GZ,
	UL_SRC_ZIP,
	UL_SRC_TAR,
	UL_SRC_STDIN,
};

/** "file", "dir", "gz", "zip", "tar", "stdin". */
const char *ul_source_kind_name(enum ul_source_kind kind);

/** Limits against hostile containers. Zero fields take the defaults below. */
struct ul_source_limits {
	uint64_t max_size;  /**< largest expanded size of one compressed member (bytes) */
	uint64_t max_ratio; /**< largest expanded:compressed ratio of one member */
	unsigned max_depth; /**< containers inside containers: an archive, or a gzip layer that
	                         holds another container, is a level; a .tar.gz is one */
};
#define UL_DEFAULT_MAX_SIZE  (8ull << 30)
#define UL_DEFAULT_MAX_RATIO 200u
#define UL_DEFAULT_MAX_DEPTH 3u
/** The ratio is judged only once a member has expanded past this many bytes. */
#define UL_RATIO_GRACE (16ull << 20)

/** One log file found in a source. */
struct ul_entry {
	const char *path; /**< identity and display path; valid UTF-8 */
	enum ul_location location;
	int64_t size;  /**< size as stored (expanded when known), -1 unknown */
	int64_t mtime; /**< modification time, seconds since the epoch; 0 unknown */
	bool renamed;  /**< the name holds bytes written as \xNN (see the path syntax above) */
	/** A one-line note about the name (a duplicate member numbered), or NULL. */
	const char *note;
	/** Set when the entry cannot be read at all: a status word ("unreadable", "corrupt",
	 *  "encrypted", "loop", "too-deep", ...) and a one-line reason. NULL otherwise. */
	const char *error_kind;
	const char *error;
};

struct ul_source;

/**
 * Open one command-line input. NULL with `err` set when the path itself cannot be opened
 * (nothing to scan); otherwise problems with what is inside come back as entries.
 */
struct ul_source *ul_source_open(const char *path, const struct ul_source_limits *limits,
                                 struct ul_error *err);
void ul_source_close(struct ul_source *src);

/** Kind of the top-level input. */
enum ul_source_kind ul_source_kind(const struct ul_source *src);
/** The input as named on the command line. */
const char *ul_source_path(const struct ul_source *src);
/** Size and mtime of the top-level input (0 for stdin and folders' size). */
int64_t ul_source_size(const struct ul_source *src);
int64_t ul_source_mtime(const struct ul_source *src);
/**
 * How many bytes of a top-level regular file (compressed or not) have been read so far, for
 * progress; -1 when that cannot be known (a folder, standard input).
 */
int64_t ul_source_consumed(const struct ul_source *src);

/**
 * Move to the next entry. Returns 1 and sets *entry, 0 when the source is exhausted. An entry
 * with `error_kind` set cannot be read; record it and call next again.
 */
int ul_source_next(struct ul_source *src, const struct ul_entry **entry);

/**
 * Read the current entry. Returns bytes read (> 0), 0 at its end, -1 on error with `err` set
 * ("truncated", "corrupt", "too-large", "bomb", "unreadable"): the bytes returned before stay
 * good, the entry is finished.
 */
ssize_t ul_source_read(struct ul_source *src, void *buf, size_t cap, struct ul_error *err);

/** Skip the rest of the current entry without reading it (cheap for archive members). */
void ul_source_skip(struct ul_source *src);

#endif
