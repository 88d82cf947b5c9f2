/* SPDX-License-Identifier: MIT */
/* Private to the store module (src/store*.c): what its other files need of src/store.c. */
#ifndef UPGLOG_STORE_INT_H
#define UPGLOG_STORE_INT_H

#include "store_db.h"
#include "upglog/store.h"

/* The store's connection (owned by the store). */
struct db *store_conn(struct ul_store *st);

/* Lock keys (db_lock) of the writers that must wait for each other: one file path, one source
 * (by id), one scan's cluster (by scan id). The key is the prefix and the path or id. */
#define STORE_LOCK_FILE    "file:"
#define STORE_LOCK_SOURCE  "source:"
#define STORE_LOCK_CLUSTER "cluster:"

/* The time now, UTC, ISO 8601 (`scans.started`, `scans.finished`). */
void store_now_iso(char buf[32]);

#endif
