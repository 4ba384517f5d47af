/* engine.h: the rule engine's entry point: load a rule set, evaluate records, build alerts. */
#ifndef TW_ENGINE_H
#define TW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "eval.h"
#include "expr.h"
#include "rules_load.h"
#include "state.h"

/*
 * A compiled, immutable rule set: shared read-only by every thread and
 * replaced by pointer on reload. Matching (tw_engine_match) is stateless
 * and runs on any number of threads, each with its own tw_engine_ctx;
 * thresholds and throttles (tw_engine_fire) keep their state in a
 * tw_state owned by one thread, fed in record order.
 */
struct tw_ruleset;
struct tw_engine_ctx;

/*
 * Load and compile the rule files and directories of paths (packs,
 * overlays, Sigma; see tw_rules_load, flags TW_LOAD_*). Errors go to d as
 * "file:line:col: message", warnings to w (may be NULL). Returns 0 with
 * *out, TW_ECONFIG, TW_ENOMEM.
 */
int tw_ruleset_load(const char *const *paths, size_t npaths, unsigned flags,
    struct tw_ruleset **out, struct tw_conf_diag *d, struct tw_conf_diag *w)
    TW_WARN_UNUSED;
/* tw_ruleset_load over in-memory files (see tw_rules_load_mem). */
int tw_ruleset_load_mem(const char *const *names, const char *const *texts,
    const size_t *lens, size_t n, unsigned flags, struct tw_ruleset **out,
    struct tw_conf_diag *d, struct tw_conf_diag *w) TW_WARN_UNUSED;
void tw_ruleset_free(struct tw_ruleset *rs);

size_t tw_ruleset_count(const struct tw_ruleset *rs);
const struct tw_rule *tw_ruleset_rule(const struct tw_ruleset *rs, size_t i);
/* The index of the rule with id, or -1. */
long tw_ruleset_find(const struct tw_ruleset *rs, const char *id);
/* Lists, aliases and macros, for tw_expr_compile (trawl query --where). */
const struct tw_symbols *tw_ruleset_symbols(const struct tw_ruleset *rs);
/* The loader's counters and the index statistics. */
const struct tw_rules *tw_ruleset_rules(const struct tw_ruleset *rs);
void tw_ruleset_stats(const struct tw_ruleset *rs, struct tw_eval_stats *st);

/* A new per-thread context (PCRE2 match data, JIT stack, slots); NULL on ENOMEM. */
struct tw_engine_ctx *tw_engine_ctx_new(void);
void tw_engine_ctx_free(struct tw_engine_ctx *c);

/* Context flags. */
#define TW_ENGINE_EXHAUSTIVE TW_EVAL_EXHAUSTIVE /* skip the index (tests) */

void tw_engine_ctx_set_flags(struct tw_engine_ctx *c, unsigned flags);

/*
 * Evaluate every rule on the record rec[0..len) (a msgpack map, schema
 * v1): afterwards tw_engine_matched lists the rules whose condition
 * (exceptions and filters included) holds, in rule order. Returns 0, a
 * TW_E* code for a malformed record (then nothing matched), TW_ENOMEM.
 */
int tw_engine_match(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    const void *rec, size_t len) TW_WARN_UNUSED;

/* Rule indices matched by the last tw_engine_match. */
size_t tw_engine_matched(const struct tw_engine_ctx *c, const size_t **rules);

/* One alert (RULES.md §11), valid during the callback. */
struct tw_alert {
	size_t rule;              /* index in the rule set */
	const struct tw_rule *r;
	const char *alert_id;     /* 32 hex digits */
	const char *output;       /* the rendered template */
	size_t outlen;
	const char *json;         /* the alert object, canonical JSON */
	size_t jsonlen;
	int64_t time;             /* the record's */
};

/* Receives alerts; a non-zero return stops tw_engine_fire with it. */
typedef int tw_alert_cb(void *arg, const struct tw_alert *a);

/*
 * For the rules the last tw_engine_match on rec matched, in order: apply
 * thresholds and throttles (state st, created for rs with
 * tw_state_new(tw_ruleset_count(rs))), render outputs and build alerts,
 * passed to cb. detected_at is the alert's detected_at (ns). Throttle
 * summaries go to scb (may be NULL). Returns 0, cb's value, TW_ENOMEM.
 */
int tw_engine_fire(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    struct tw_state *st, const void *rec, size_t len, int64_t detected_at,
    tw_alert_cb *cb, void *arg, tw_throttle_summary_cb *scb, void *sarg)
    TW_WARN_UNUSED;

/*
 * Append a throttle summary (RULES.md §9) as canonical JSON to out:
 * {"first_time", "key": {path: value}, "last_time", "rule", "suppressed",
 * "window"}. Returns 0 or a TW_E* code.
 */
int tw_engine_summary_json(const struct tw_ruleset *rs,
    const struct tw_throttle_summary *sum, struct tw_buf *out)
    TW_WARN_UNUSED;

/* tw_engine_match, then tw_engine_fire. */
int tw_engine_eval(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    struct tw_state *st, const void *rec, size_t len, int64_t detected_at,
    tw_alert_cb *cb, void *arg, tw_throttle_summary_cb *scb, void *sarg)
    TW_WARN_UNUSED;

/* Per-thread counters of rule i: condition matches, regex limit hits. */
void tw_engine_ctx_rule_stats(const struct tw_engine_ctx *c, size_t i,
    uint64_t *matches, uint64_t *regex_limits);
/* Rules evaluated (after the index) and records seen by this context. */
void tw_engine_ctx_stats(const struct tw_engine_ctx *c, uint64_t *records,
    uint64_t *candidates);

/*
 * Carry threshold and throttle state over a reload: for every rule of
 * new_rs whose id and definition (digest) are unchanged in old_rs, move
 * its state from old_st into new_st.
 */
void tw_engine_carry_state(const struct tw_ruleset *old_rs,
    struct tw_state *old_st, const struct tw_ruleset *new_rs,
    struct tw_state *new_st);

/* The record's time in ns (a timestamp or an integer; 0 when absent). */
int64_t tw_engine_record_time(const void *rec, size_t len);

#endif
