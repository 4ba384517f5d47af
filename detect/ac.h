/* ac.h: an Aho-Corasick automaton over ASCII-folded bytes, for the literal prefilter. */
#ifndef TW_AC_H
#define TW_AC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

/*
 * Patterns are matched case-insensitively (ASCII): a hit on a pattern is a
 * necessary condition the caller confirms. Built once, then read-only.
 */
struct tw_ac;

/* Most states one automaton may have (the sum of the pattern lengths). */
#define TW_AC_STATES_MAX (1u << 20)

struct tw_ac_builder;

struct tw_ac_builder *tw_ac_builder_new(void);
void tw_ac_builder_free(struct tw_ac_builder *b);
/* Add pattern p[0..n) (n > 0) with the caller's id; TW_ENOMEM, TW_ELIMIT. */
int tw_ac_add(struct tw_ac_builder *b, const char *p, size_t n, uint32_t id)
    TW_WARN_UNUSED;
/* The automaton, in a; NULL on ENOMEM. The builder may be freed after. */
struct tw_ac *tw_ac_build(struct tw_ac_builder *b, struct tw_arena *a);

/*
 * Scan s[0..n) and call fn(arg, id) for every pattern occurrence (ids may
 * repeat); fn returns true to stop early.
 */
void tw_ac_scan(const struct tw_ac *ac, const char *s, size_t n,
    bool (*fn)(void *arg, uint32_t id), void *arg);

#endif
