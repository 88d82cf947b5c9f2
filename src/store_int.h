/* SPDX-License-Identifier: MIT */
/* Private to the store module (src/store*.c): what its other files need of src/store.c. */
#ifndef UPGLOG_STORE_INT_H
#define UPGLOG_STORE_INT_H

#include "store_db.h"
#include "upglog/store.h"

/* The store's connection (owned by the store). */
struct db *store_conn(struct ul_store *st);

#endif
