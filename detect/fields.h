/* fields.h: record paths (RULES.md §3), interned into slots and filled by one walk. */
#ifndef TW_FIELDS_H
#define TW_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "value.h"

enum tw_seg_kind {
	TW_SEG_KEY,
	TW_SEG_IDX,  /* [N], negative from the end */
	TW_SEG_STAR, /* .* or [*] */
};

struct tw_seg {
	enum tw_seg_kind kind;
	const char *key; /* TW_SEG_KEY; may hold any byte */
	size_t klen;
	int64_t idx;     /* TW_SEG_IDX, saturated to the int64 range */
};

/* A parsed path; immutable once parsed, owned by the arena it was made in. */
struct tw_path {
	struct tw_seg *segs;
	size_t n;
	const char *text; /* as written */
	bool plain;       /* no star */
};

/* Longest path text accepted, and most segments. */
#define TW_PATH_TEXT_MAX 1024
#define TW_PATH_SEGS_MAX 64

/*
 * Parse text[0..n) as a path (RULES.md §3 grammar): keys, [N], [*], .*,
 * ["json"] and ['raw'] keys. A path starting with the key `raw` is refused.
 * On error returns TW_EPARSE and sets *why (malloc'd, when why is not
 * NULL); TW_ENOMEM.
 */
int tw_path_parse(struct tw_arena *a, const char *text, size_t n,
    struct tw_path **out, char **why) TW_WARN_UNUSED;

/* Whether two paths have the same segments. */
bool tw_path_eq(const struct tw_path *x, const struct tw_path *y);

/* The path made of prefix's segments followed by rest's from index from. */
struct tw_path *tw_path_join(struct tw_arena *a, const struct tw_path *prefix,
    const struct tw_path *rest, size_t from);

/*
 * A registry of the distinct paths a rule set uses, each with a slot
 * number, and the tries that fill them. Built single-threaded, then read
 * by any number of threads.
 */
struct tw_fields;
struct tw_trie;

struct tw_fields *tw_fields_new(void);
void tw_fields_free(struct tw_fields *f);
/* The slot of p, adding it if new; TW_ENOMEM, TW_ELIMIT past 65 536 slots. */
int tw_fields_intern(struct tw_fields *f, const struct tw_path *p,
    uint32_t *slot) TW_WARN_UNUSED;
size_t tw_fields_count(const struct tw_fields *f);
const struct tw_path *tw_fields_path(const struct tw_fields *f, uint32_t slot);

/*
 * A trie over the slots for which use[slot] is true (all when use is NULL),
 * allocated in a; NULL on ENOMEM.
 */
struct tw_trie *tw_trie_build(const struct tw_fields *f, const bool *use,
    struct tw_arena *a);

/*
 * Per-thread values of every slot for the record being evaluated: each
 * slot holds the leaves its path yields, in document order (arrays
 * expanded, nulls dropped), and for a path walked through maps and indexes
 * only, the value it reached as stored (for :json and alert fields).
 */
struct tw_slot {
	uint32_t gen;
	uint32_t n, cap;
	struct tw_value *v;
	struct tw_value direct;
	bool has_direct;
};

struct tw_slotvals {
	struct tw_slot *slots;
	size_t nslots;
	uint32_t gen;
	size_t values, values_max; /* per record */
	uint64_t truncated;        /* values dropped past values_max */
};

/* Per-record cap on slot values; more are dropped and counted. */
#define TW_SLOT_VALUES_MAX (1u << 20)

void tw_slotvals_init(struct tw_slotvals *sv);
void tw_slotvals_cleanup(struct tw_slotvals *sv);

/*
 * Forget the previous record and make room for nslots slots (TW_ENOMEM).
 */
int tw_slotvals_reset(struct tw_slotvals *sv, size_t nslots) TW_WARN_UNUSED;

/*
 * Walk the record (a msgpack map at rec[0..len), already checked with
 * tw_mp_skip under the default limits) once and fill every slot the trie
 * covers. Returns 0, TW_ENOMEM, or a msgpack error for a malformed record.
 */
int tw_trie_walk(const struct tw_trie *t, const void *rec, size_t len,
    struct tw_slotvals *sv) TW_WARN_UNUSED;

/* The values of slot for the current record (n = 0 when none). */
const struct tw_value *tw_slot_values(const struct tw_slotvals *sv,
    uint32_t slot, size_t *n);

/* The value reached directly by slot's path, or NULL. */
const struct tw_value *tw_slot_direct(const struct tw_slotvals *sv,
    uint32_t slot);

/*
 * Call fn for every leaf under v (maps and arrays entered recursively,
 * nulls skipped) until it returns non-zero, which is returned.
 */
int tw_value_leaves(const struct tw_value *v,
    int (*fn)(void *arg, const struct tw_value *leaf), void *arg);

/* Call fn for the key of every pair of the map v, as tw_value_leaves. */
int tw_value_keys(const struct tw_value *v,
    int (*fn)(void *arg, const struct tw_value *key), void *arg);

#endif
