/* state.h: threshold (event_count, value_count) and throttle state (RULES.md §8, §9). */
#ifndef TW_STATE_H
#define TW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Bounds (RULES.md §8, §9). */
#define TW_STATE_GROUPS_MAX 10000  /* threshold groups per rule, LRU */
#define TW_STATE_KEYS_MAX 10000    /* throttle keys per rule */
#define TW_STATE_FIFO_MAX 16384    /* entries of one threshold group */

/*
 * The mutable state of a rule set's thresholds and throttles, by rule
 * index and key, in event time (record time). One owner thread (the
 * correlation thread): not thread-safe.
 */
struct tw_state;

/* State for nrules rules; NULL on ENOMEM. */
struct tw_state *tw_state_new(size_t nrules);
void tw_state_free(struct tw_state *s);

/*
 * A key is a tuple of strings; this appends one component to an encoded
 * key (length-prefixed, so tuples never collide).
 */
int tw_state_key_add(struct tw_buf *key, const char *s, size_t n)
    TW_WARN_UNUSED;

/*
 * Component i of an encoded key, or false past the last.
 */
bool tw_state_key_get(const char *key, size_t klen, size_t i,
    const char **s, size_t *n);

/*
 * Record a match of threshold rule at time t for group key; dv is the
 * encoded distinct tuple (value_count) or NULL (event_count). Returns 1 and
 * sets *n when the rule fires (the group is then cleared), 0 otherwise,
 * TW_ENOMEM.
 */
int tw_state_threshold(struct tw_state *s, size_t rule, const char *key,
    size_t klen, const char *dv, size_t dvlen, int64_t t, int64_t window,
    uint32_t count, uint32_t *n) TW_WARN_UNUSED;

/* What a throttle window that suppressed alerts reports when it ends. */
struct tw_throttle_summary {
	size_t rule;
	const char *key; /* encoded, as given to tw_state_throttle */
	size_t klen;
	uint64_t suppressed;
	int64_t first_time, last_time; /* of the suppressed alerts */
};

typedef void tw_throttle_summary_cb(void *arg,
    const struct tw_throttle_summary *sum);

/*
 * Pass an alert of rule at time t through its throttle for key: 1 passes,
 * 0 is suppressed (and counted), TW_ENOMEM. A window that suppressed
 * alerts and is replaced or evicted is reported to cb (may be NULL).
 */
int tw_state_throttle(struct tw_state *s, size_t rule, const char *key,
    size_t klen, int64_t t, int64_t window, uint32_t max,
    tw_throttle_summary_cb *cb, void *arg) TW_WARN_UNUSED;

/* Report every open window that suppressed alerts (shutdown) and forget it. */
void tw_state_flush(struct tw_state *s, tw_throttle_summary_cb *cb, void *arg);

/* Counters of rule: suppressed alerts, evicted threshold groups and throttle keys. */
uint64_t tw_state_suppressed(const struct tw_state *s, size_t rule);
uint64_t tw_state_evicted(const struct tw_state *s, size_t rule);

/* Move the state of rule old_rule in from (another rule set's) to rule in s. */
void tw_state_take(struct tw_state *s, size_t rule, struct tw_state *from,
    size_t old_rule);

#endif
