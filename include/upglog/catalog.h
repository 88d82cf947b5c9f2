/* SPDX-License-Identifier: MIT */
#ifndef UPGLOG_CATALOG_H
#define UPGLOG_CATALOG_H

/**
 * catalog: the pattern catalogue. Parses `*.rules` files (format in patterns/README.md), compiles
 * every rule once (PCRE2 with JIT, plus the Hyperscan prefilter when built with it), orders the
 * rules by precedence and proves their samples.
 *
 * Precedence: a line gets at most one rule, the first in catalogue order that matches. Catalogue
 * order sorts rules by `priority` (higher first, default 0) and then by load order: directories
 * in the order given (shipped catalogue first, then each --rules DIR), files by name inside a
 * directory, rules top to bottom inside a file. A rule whose id was already loaded replaces the
 * earlier rule in place (it keeps the earlier load position, takes its own priority).
 *
 * A compiled catalogue is read-only and may be shared by any number of threads; each thread
 * matches through its own `struct ul_classifier` (classify.h).
 *
 * Ownership: the catalogue owns every string and array reachable from a `struct ul_rule`; they
 * live until `ul_catalog_destroy`.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upglog/decode.h"
#include "upglog/error.h"

enum ul_severity {
	UL_SEV_NOISE = 0,
	UL_SEV_INFO,
	UL_SEV_WARNING,
	UL_SEV_ERROR,
	UL_SEV_CATASTROPHIC,
};
#define UL_SEV_COUNT 5

/** "noise", "info", "warning", "error", "catastrophic". */
const char *ul_severity_name(enum ul_severity s);
/** Parse a severity word; false when unknown. */
bool ul_severity_parse(const char *word, enum ul_severity *out);

/**
 * Log families: what kind of log a file is. The catalogue declares them (`family NAME` blocks
 * in the rules files, patterns/README.md): a family is the index of its declaration, in load
 * order, and the C code knows none by name. `ul_classify_sniff` decides a file's family from
 * what each declaration says about first lines, file names, paths and encodings.
 */
typedef unsigned ul_family;
/** Most families one catalogue may declare (a rule's families are a bit set). */
#define UL_FAMILY_MAX 32
/** The family set of a rule with `family any`: every family, declared now or later. */
#define UL_FAM_ANY 0xFFFFFFFFu

/**
 * Events a rule can signal to the interpreter (interpret.h). The state machines key on events,
 * never on rule ids, so a localised or user-written rule drives them the same way.
 */
enum ul_event {
	UL_EV_NONE = 0,
	UL_EV_LOG_START,      /**< session header; captures date, time, version */
	UL_EV_LOG_STOP,       /**< session footer */
	UL_EV_ACTION_START,   /**< `Action start T: Name.`; captures action, time */
	UL_EV_ACTION_INFO,    /**< `Action T: Name. Description` (top-level progress line) */
	UL_EV_ACTION_END,     /**< `Action ended T: Name. Return value N.`; captures action, rv */
	UL_EV_ROLLBACK,       /**< the engine starts rolling back */
	UL_EV_ENGINE_RETURN,  /**< `MainEngineThread is returning N`; captures code */
	UL_EV_SERVER_RETURN,  /**< `Back from server. Return value: N`; captures code */
	UL_EV_FINAL_STATUS,   /**< `... success or error status: N`; captures code */
	UL_EV_PRODUCT_FAILED, /**< `Product: X -- Installation failed.` and its kin */
	UL_EV_PRODUCT_OK,     /**< `Product: X -- Installation completed successfully.` */
	UL_EV_CA_EXIT,        /**< a custom action's exit code; captures action, code */
	UL_EV_EXIT_CODE,      /**< a bootstrapper/setup exit code; captures code (0 = success) */
	UL_EV_OUTCOME_FAILED, /**< a non-MSI log states that the setup failed */
	UL_EV_OUTCOME_OK,     /**< a non-MSI log states that the setup succeeded */
	UL_EV_REBOOT,         /**< a restart is required to finish */
	UL_EV_SUMMARY, /**< a line that repeats an outcome (`Note: 1: 1708`): never a root cause */
	UL_EV_FACT,    /**< a fact about the server: every other named capture is one (`host`) */
	UL_EV_USER_CANCEL, /**< the user cancelled the setup (a cancel question answered yes) */
};
#define UL_EV_COUNT 20

const char *ul_event_name(enum ul_event e);
bool ul_event_parse(const char *word, enum ul_event *out);

/** How a family's verdict is decided: the state machines of the interpreter (interpret.h). */
enum ul_verdict_model {
	UL_MODEL_RUNS = 0, /**< setup and vendor logs: exit codes and outcome lines; one failed
	                        run fails the file (`verdict runs`, the default) */
	UL_MODEL_MSI,      /**< the Windows Installer state machine (`verdict msi`) */
	UL_MODEL_SESSIONS, /**< sessions appended in one file, each begun by a `log-start` line;
	                        the last session decides (`verdict sessions`) */
};
#define UL_MODEL_COUNT 3

/** "runs", "msi", "sessions". */
const char *ul_verdict_model_name(enum ul_verdict_model m);

/** A declared family. Plain data owned by the catalogue. */
struct ul_family_def {
	const char *name;  /**< as rules name it: lower case, e.g. "installshield" */
	const char *title; /**< one line; the name when unset */
	enum ul_verdict_model model;
	uint32_t decides; /**< events that may decide the verdict: bits of (1u << enum ul_event) */
	int priority;     /**< breaks ties between families that recognise a file equally well */
	bool fallback;    /**< the family of files no declaration recognises (exactly one) */
	const char *const *first_lines; /**< patterns; one matching the first line decides */
	size_t nfirst_lines;
	const char *const *lines; /**< patterns; every one of the first 64 lines matching votes */
	size_t nlines;
	const char *const *names; /**< globs on the file name, case-insensitive */
	size_t nnames;
	const char *const *paths; /**< globs on the whole path (`/` for every separator) */
	size_t npaths;
	unsigned
	        encodings; /**< bits of (1u << enum ul_encoding) a name or path match needs; 0 any */
	const char *origin; /**< file the declaration came from */
	unsigned line;      /**< line of its `family` keyword */
};

/** Most named capture groups one rule may have. */
#define UL_MAX_CAPS 8

/** Capture names the engine understands; other names are kept with the finding as they are. */
enum ul_cap {
	UL_CAP_CODE = 0, /**< an error/exit code or HRESULT */
	UL_CAP_ACTION,   /**< installer action or custom action name */
	UL_CAP_TIME,     /**< time of day as written */
	UL_CAP_DATE,     /**< date as written (session header) */
	UL_CAP_RV,       /**< action return value */
	UL_CAP_PRODUCT,  /**< product name */
};
#define UL_CAP_KNOWN 6

/** One rule, as loaded. Plain data owned by the catalogue. */
struct ul_rule {
	const char *id; /**< e.g. "msi.action-failed" */
	enum ul_severity severity;
	unsigned families; /**< bit set of (1u << ul_family); UL_FAM_ANY for `any` */
	enum ul_event event;
	int priority;         /**< higher wins; default 0 */
	const char *match;    /**< the PCRE2 pattern as written */
	const char *title;    /**< may hold {capture} placeholders; the id when unset */
	const char *explain;  /**< never NULL */
	const char *fix;      /**< never NULL */
	const char *code;     /**< constant code when the pattern has no `code` group; or NULL */
	const char *evidence; /**< "verified", "observed" or "inferred" */
	const char *origin;   /**< file the rule came from */
	unsigned line;        /**< line of its `rule` keyword in that file */
	const char *const *samples;
	size_t nsamples;
	const char *const *nots;
	size_t nnots;
	unsigned ncaps; /**< named groups, in slot order */
	const char *cap_names[UL_MAX_CAPS];
	uint32_t cap_group[UL_MAX_CAPS]; /**< PCRE2 group number of each slot */
	int known[UL_CAP_KNOWN];         /**< slot of each `enum ul_cap` name, or -1 */
};

/**
 * A noise rule without an event: its lines are only counted. Its captures are never needed,
 * and which rule a line gets then depends on the line's message alone (the classifier's
 * shortcuts rest on this).
 */
static inline bool ul_rule_counted_only(const struct ul_rule *r)
{
	return r->severity == UL_SEV_NOISE && r->event == UL_EV_NONE;
}

struct ul_catalog;

/** An empty catalogue; NULL when memory runs out. */
struct ul_catalog *ul_catalog_new(void);
void ul_catalog_destroy(struct ul_catalog *cat);

/**
 * Add every `*.rules` file of `dir` (files in name order). On error `err` names file, line and
 * reason, and the catalogue must be destroyed.
 */
bool ul_catalog_add_dir(struct ul_catalog *cat, const char *dir, struct ul_error *err);

/** Add rules from text (tests and fuzzers); `origin` names it in errors. */
bool ul_catalog_add_text(struct ul_catalog *cat, const char *origin, const char *text, size_t len,
                         struct ul_error *err);

/** Order by precedence and compile every rule. Call once, after the last add. */
bool ul_catalog_compile(struct ul_catalog *cat, struct ul_error *err);

size_t ul_catalog_count(const struct ul_catalog *cat);
/** Rule at precedence rank `i` (0 = first). */
const struct ul_rule *ul_catalog_rule(const struct ul_catalog *cat, size_t i);
/** Rank of the rule with this id, or -1. */
long ul_catalog_find(const struct ul_catalog *cat, const char *id);

/** Ranks of the rules that apply to `fam`, in precedence order. */
const uint32_t *ul_catalog_family(const struct ul_catalog *cat, ul_family fam, size_t *n);

/** Number of declared families (after compile). */
size_t ul_catalog_families(const struct ul_catalog *cat);
/** Family `f`'s declaration, or NULL when out of range. */
const struct ul_family_def *ul_catalog_family_def(const struct ul_catalog *cat, ul_family f);
/** Family `f`'s name, "?" when out of range. */
const char *ul_catalog_family_name(const struct ul_catalog *cat, ul_family f);
/** The family declared as `name`; false when there is none. */
bool ul_catalog_family_find(const struct ul_catalog *cat, const char *name, ul_family *out);
/** The family that takes files nobody recognises. */
ul_family ul_catalog_fallback(const struct ul_catalog *cat);
/** A set of families as names joined by `sep`, or "any" (cut to fit, always terminated). */
void ul_catalog_family_set_format(const struct ul_catalog *cat, unsigned set, const char *sep,
                                  char *buf, size_t cap);

/** Hex digest over every rule's definition (stored with each scan). */
const char *ul_catalog_hash(const struct ul_catalog *cat);

/**
 * Write rule `i`'s pattern in the subset that PCRE2 and ripgrep's default engine both accept
 * (named groups become plain groups), for whole lines: a pattern anchored with `^` gets the
 * optional Windows Installer engine prefix in front, since rules match the message after it
 * (classify.h). False when it does not fit in `cap` bytes.
 */
bool ul_catalog_export_regex(const struct ul_catalog *cat, size_t i, char *buf, size_t cap);

/**
 * Why rule `i`'s pattern falls outside the portable subset (look-around, back-references,
 * atomic groups, possessive quantifiers, \Q..\E, ...), or NULL when it is portable.
 */
const char *ul_catalog_unportable(const struct ul_catalog *cat, size_t i);

#endif
