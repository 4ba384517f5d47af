/* regex.h: the portable PCRE2 subset of the rule language, with limits and a literal prefilter. */
#ifndef TW_REGEX_H
#define TW_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

/* Compile flags. */
#define TW_RX_CASELESS 0x01  /* iregex, (?i) for all of it */
#define TW_RX_MULTILINE 0x02 /* Sigma |re|m */
#define TW_RX_DOTALL 0x04    /* Sigma |re|s */

/* Defaults of the per-thread limits (RULES.md §5). */
#define TW_RX_MATCH_LIMIT 10000000u
#define TW_RX_DEPTH_LIMIT 100000u
#define TW_RX_HEAP_LIMIT_KIB 65536u
#define TW_RX_JIT_STACK_MAX (1u << 20)

/*
 * A compiled regex (PCRE2 code, JIT-compiled when the platform allows),
 * owned by the arena it was compiled into; read-only, shared by threads.
 * lits: strings of which every match contains at least one (ASCII
 * lower-cased), for the prefilter; nlits = 0 when none is known.
 */
struct tw_regex {
	void *code; /* pcre2_code_8 */
	const char *pattern;
	size_t plen;
	unsigned flags;
	char **lits;
	size_t *litlens;
	size_t nlits;
};

/*
 * Refuse constructs outside the portable subset (\Z \z \K \G \h \H \R \X
 * \p \P \N \C \x{...}, (?| (?R (?& (?C (*VERB) [[:class:]] {,n}). Returns
 * 0, or TW_EPARSE with *why (malloc'd) naming the construct.
 */
int tw_regex_check(const char *pat, size_t n, char **why) TW_WARN_UNUSED;

/*
 * Check and compile pat[0..n) (no UTF, newline LF) into a; *why on
 * TW_EPARSE; TW_ENOMEM.
 */
int tw_regex_compile(struct tw_arena *a, const char *pat, size_t n,
    unsigned flags, struct tw_regex **out, char **why) TW_WARN_UNUSED;

/* Per-thread PCRE2 match data, match context and JIT stack. */
struct tw_rx_thread;

/* With the default limits; NULL on ENOMEM. */
struct tw_rx_thread *tw_rx_thread_new(void);
void tw_rx_thread_free(struct tw_rx_thread *t);

/*
 * Search s[0..n) from offset start (unanchored unless anchored; notempty
 * refuses an empty match at start). Returns 1 with the match span in
 * *ms..*me, 0 for no match, TW_ELIMIT when a match, depth, heap or JIT
 * stack limit (or any other matching error) stopped it.
 */
int tw_regex_exec(const struct tw_regex *rx, struct tw_rx_thread *t,
    const char *s, size_t n, size_t start, bool anchored, bool notempty,
    size_t *ms, size_t *me) TW_WARN_UNUSED;

/*
 * Whether rx matches anywhere in s[0..n): the literal prefilter first,
 * then PCRE2. 1, 0 or TW_ELIMIT as tw_regex_exec.
 */
int tw_regex_search(const struct tw_regex *rx, struct tw_rx_thread *t,
    const char *s, size_t n) TW_WARN_UNUSED;

#endif
