/* SPDX-License-Identifier: MIT */
/*
 * Private: the one reader of pattern syntax. The catalogue (portability check, export for
 * ripgrep), the literal-lead analysis (lead.h) and the prefilter's rewriting (prefilter.h) all
 * walk a rule's pattern through these tokens; what a token means to each of them is theirs to
 * decide. The syntax is PCRE2's, as rules write it (patterns/README.md).
 *
 * Outside a class a pattern is a run of tokens; a class is one token whose members are read
 * with `ul_rx_member`. A token never ends inside a UTF-8 character. Nothing is allocated.
 */
#ifndef UPGLOG_RXTOK_H
#define UPGLOG_RXTOK_H

#include <stdbool.h>
#include <stddef.h>

enum ul_rx_kind {
	UL_RX_END = 0, /**< the end of the pattern */
	UL_RX_CHAR,    /**< one literal character (a whole UTF-8 sequence), `{`, `}` and `]` too */
	UL_RX_ESCAPE,  /**< a backslash and what it escapes: `\d`, `\.`, `\xHH`, `\x{...}` */
	UL_RX_QUOTE,   /**< `\Q...\E` (to the end of the pattern when `\E` is missing) */
	UL_RX_CLASS,   /**< `[...]`, whole */
	UL_RX_OPEN,    /**< `(` with what introduces the group: `(?:`, `(?<name>`, `(?=` ... */
	UL_RX_CLOSE,   /**< `)` */
	UL_RX_ALT,     /**< `|` */
	UL_RX_QUANT, /**< `?`, `*`, `+`, `{m}`, `{m,}`, `{m,n}`, with a lazy `?` or possessive `+` */
	UL_RX_META,  /**< `^`, `$`, `.` */
};

enum ul_rx_group {
	UL_RXG_CAPTURE = 0, /**< `(` */
	UL_RXG_NAMED,       /**< `(?<name>`, `(?P<name>`, `(?'name'` */
	UL_RXG_PLAIN,       /**< `(?:` */
	UL_RXG_LOOK,        /**< `(?=`, `(?!`, `(?<=`, `(?<!` */
	UL_RXG_ATOMIC,      /**< `(?>` */
	UL_RXG_OPTION,      /**< `(?i)`, `(?i:`, `(?-s:` ...: option letters */
	UL_RXG_VERB,        /**< `(*VERB)` */
	UL_RXG_OTHER, /**< anything else: `(?|`, `(?(`, `(?R`, `(?#`, `(?1`, `(?&`, `(?P=` ... */
};

struct ul_rx_tok {
	enum ul_rx_kind kind;
	size_t at, end; /**< the token is p[at, end) */
	char esc;       /**< ESCAPE: the character after the backslash */
	/* CLASS */
	bool negated;      /**< `[^` */
	bool unterminated; /**< no closing `]` (the token runs to the end) */
	size_t first;      /**< where the members start (a `]` first is a member) */
	/* OPEN */
	enum ul_rx_group group;
	size_t body;     /**< where the group's body starts */
	bool angle_name; /**< NAMED, written `(?<name>` or `(?P<name>` */
	bool closed;     /**< the token holds its own `)`: an option setting `(?i)`, a `(*VERB)` */
	/* QUANT */
	unsigned min;    /**< least repeats */
	bool brace;      /**< written `{...}` */
	bool lazy;       /**< followed by `?` */
	bool possessive; /**< followed by `+` */
};

/** The token at p[i] (a class whole); returns its end. At the end: UL_RX_END, returns i. */
size_t ul_rx_next(const char *p, size_t i, struct ul_rx_tok *t);

enum ul_rx_member_kind {
	UL_RXM_END = 0, /**< the closing `]` (or the end of an unterminated class) */
	UL_RXM_CHAR,    /**< one literal character; `-` of a range too */
	UL_RXM_ESCAPE,  /**< as outside a class */
	UL_RXM_QUOTE,   /**< `\Q...\E` */
	UL_RXM_POSIX,   /**< `[:alpha:]` */
};

struct ul_rx_member {
	enum ul_rx_member_kind kind;
	size_t at, end;
	char esc;
};

/**
 * The member of the class `cls` (a CLASS token of `p`) at p[i] (start at cls->first); returns
 * its end.
 */
size_t ul_rx_member(const char *p, const struct ul_rx_tok *cls, size_t i, struct ul_rx_member *m);

/** Length of the UTF-8 character at s (1 for a stray byte; never past a NUL). */
size_t ul_rx_char_len(const char *s);

#endif
