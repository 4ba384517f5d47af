/* eval.h: evaluating compiled rules over records: source gate, witness index, literal prefilter. */
#ifndef TW_EVAL_H
#define TW_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr.h"
#include "rules_load.h"

/*
 * The candidate index of a rule set (RULES.md §14), built once in the rule
 * set's arena and then read-only: per source kind a trie of the paths its
 * rules use, a hash of required (path, value) witnesses, and Aho-Corasick
 * automata over the text fields for rules whose conditions need a literal.
 */
struct tw_eval_index;

/* Build the index of rules; TW_ENOMEM. */
int tw_eval_index_build(struct tw_rules *rules, struct tw_eval_index **out)
    TW_WARN_UNUSED;

/* Index statistics, for tests and docs. */
struct tw_eval_stats {
	size_t rules_witness;  /* rules behind a (path, value) witness */
	size_t rules_literal;  /* rules behind the literal prefilter */
	size_t rules_always;   /* rules evaluated for every record of a kind */
	size_t ac_patterns;
};

void tw_eval_index_stats(const struct tw_eval_index *ix,
    struct tw_eval_stats *st);

/* Per-thread evaluation state besides the tw_match. */
struct tw_eval_scratch {
	uint8_t *wmask;       /* per rule: the witnesses the record holds */
	uint64_t *need;       /* per rule: a needed literal occurs */
	size_t words;
	size_t *matched;      /* rule indices that matched the last record */
	size_t nmatched, cap;
	uint64_t candidates;  /* rules evaluated, summed over records */
	struct tw_buf s;      /* folded strings */
};

void tw_eval_scratch_init(struct tw_eval_scratch *sc);
void tw_eval_scratch_cleanup(struct tw_eval_scratch *sc);

/* Evaluation flags. */
#define TW_EVAL_EXHAUSTIVE 0x01 /* no index: every rule of the kind (tests) */

/*
 * Evaluate every rule on the record rec[0..len) (a msgpack map): only
 * rules of its source.kind, and of those only the candidates; fill m's
 * slots and sc->matched (in rule order) with the rules whose condition,
 * exceptions and filters hold. limits[i] (may be NULL) counts regex limit
 * hits of rule i. Returns 0, a msgpack error for a malformed record
 * (nothing matches), TW_ENOMEM.
 */
int tw_eval_record(const struct tw_eval_index *ix, const struct tw_rules *rules,
    struct tw_match *m, struct tw_eval_scratch *sc, const void *rec,
    size_t len, unsigned flags, uint64_t *limits) TW_WARN_UNUSED;

/* The source.kind of a record, or -1. */
int tw_eval_kind(const void *rec, size_t len);

#endif
