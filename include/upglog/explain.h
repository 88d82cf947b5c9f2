/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_EXPLAIN_H
#define UPGLOG_EXPLAIN_H

/**
 * explain: what an error code means, how bad it is and the usual fix, from a table compiled
 * into the binary (src/codes.tsv), never from the network.
 *
 * The same number means different things in different namespaces: 1603 as a Windows Installer
 * *message* (`Info 1603.`) is "a file is held in use", as an *exit code* it is "fatal error
 * during installation". A lookup therefore returns every namespace the code exists in, each
 * entry saying which one it is. HRESULTs of the Win32 facility (0x8007xxxx) are also explained
 * through the Win32 code they wrap.
 *
 * All returned pointers point into static, read-only data.
 */

#include <stdbool.h>
#include <stddef.h>

enum ul_code_space {
	UL_SPACE_MSI_EXIT = 0, /**< msiexec exit code / `MainEngineThread is returning N` */
	UL_SPACE_MSI_MESSAGE,  /**< Windows Installer message number (`Error N.`, `Note: 1: N`) */
	UL_SPACE_ACTION_RV,    /**< `Action ended ... Return value N.` (0..8) */
	UL_SPACE_WIN32,        /**< Windows system error code (winerror.h) */
	UL_SPACE_HRESULT,      /**< HRESULT, written 0xXXXXXXXX */
	UL_SPACE_SETUP,        /**< InstallShield / SQL Server 2000 setup result codes */
	UL_SPACE_IS_LAUNCHER, /**< InstallShield setup.exe launcher messages (collide with MSI's) */
};
#define UL_SPACE_COUNT 7

/** "msi-exit", "msi-message", "action-return", "win32", "hresult", "setup", "is-launcher". */
const char *ul_explain_space_name(enum ul_code_space s);

struct ul_code_info {
	enum ul_code_space space;
	long long code;       /**< the number (HRESULTs as their unsigned 32-bit value) */
	const char *name;     /**< symbolic name (ERROR_INSTALL_FAILURE), or "" */
	const char *severity; /**< "noise", "info", "warning", "error" or "catastrophic" */
	const char *meaning;  /**< one or two sentences */
	const char *fix;      /**< the usual fix, or "" */
};

/** Most entries one lookup can return (every namespace, plus a wrapped Win32 code). */
#define UL_EXPLAIN_MAX_HITS 16

/**
 * Parse a code as `upglog explain` takes it: decimal ("1603"), negative decimal down to -2^31
 * ("-2147287038", as MSI writes HRESULTs in Note lines) or hex up to 0xFFFFFFFF
 * ("0x80070643"). False for anything else.
 */
bool ul_explain_parse(const char *query, long long *value);

/**
 * Look `query` (see `ul_explain_parse`) up. Stores up to `max` entries in `out`, most specific
 * first, and returns how many it stored (0: unknown code, or `query` is not a code). A negative
 * query is also read as the unsigned HRESULT it spells. For a Win32-facility HRESULT
 * (0x8007XXXX), the entries of the wrapped code XXXX (as msiexec exit code and as Win32 code)
 * follow the HRESULT's own entry, if it has one.
 */
size_t ul_explain_lookup(const char *query, const struct ul_code_info **out, size_t max);

/** Number of entries in the table (for tests). */
size_t ul_explain_count(void);

/** Entry `i` of the table, in table order (for tests). */
const struct ul_code_info *ul_explain_entry(size_t i);

#endif
