/* mpval.h: values of JSON converted to msgpack: look-ups, truth, copies. */
#ifndef TW_PARSERS_MPVAL_H
#define TW_PARSERS_MPVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"

/*
 * One value inside a msgpack document (typically the output of
 * tw_json_to_mp kept in a parser's state buffer): a span of its bytes,
 * children included, and its decoded header. The span borrows the
 * document's memory. p == NULL means the key was absent; a JSON null is
 * present with type TW_MP_NIL. All functions are pure and thread-safe.
 */
struct tw_mpval {
	const uint8_t *p; /* first byte; NULL when absent */
	size_t n;	  /* encoded length of the whole value */
	struct tw_mp_obj o;
};

/* The one value at p[0..n): TW_EEOF, TW_EMSGPACK, TW_EDEPTH, TW_ELIMIT. */
int tw_mpval_root(struct tw_mpval *v, const void *p, size_t n)
    TW_WARN_UNUSED;

/*
 * For each keys[i] (a NULL-terminated list of at most 32 names) set
 * vals[i] to that key's value in the map m, the last one when a key
 * repeats (as JSON parsers keep it), or to absent. Every vals[i] is
 * absent when m is not a map.
 */
void tw_mpval_get_keys(const struct tw_mpval *m, const char *const *keys,
    struct tw_mpval *vals);

/* The value of key in the map m, or an absent value. */
struct tw_mpval tw_mpval_get(const struct tw_mpval *m, const char *key);

/* Present and not null (Python: "is not None"). */
bool tw_mpval_present(const struct tw_mpval *v);

/*
 * Python truthiness: false for absent, null, false, 0, 0.0, "", [] and
 * {}; true for everything else.
 */
bool tw_mpval_truthy(const struct tw_mpval *v);

/* Python's "a or b": a when it is truthy, else b. */
const struct tw_mpval *tw_mpval_or(const struct tw_mpval *a,
    const struct tw_mpval *b);

static inline bool
tw_mpval_is(const struct tw_mpval *v, enum tw_mp_type t)
{
	return v->p != NULL && v->o.type == t;
}

/* Whether v is the string s. */
bool tw_mpval_str_eq(const struct tw_mpval *v, const char *s);

/*
 * Write v through w as it is, except that map entries whose value is
 * null are left out at every depth (schema v1 records never hold nil; a
 * null inside an array stays). A value without nulls is copied in one
 * piece. Malformed input sets w->err to TW_EMSGPACK.
 */
void tw_mpw_value(struct tw_mpw *w, const struct tw_mpval *v);

/* Write key and v (as tw_mpw_value) when v is present: 1, else 0. */
uint32_t tw_mpw_kv(struct tw_mpw *w, const char *key,
    const struct tw_mpval *v);

/* Write key and v when v is a string: 1, else 0. */
uint32_t tw_mpw_kv_str(struct tw_mpw *w, const char *key,
    const struct tw_mpval *v);

/*
 * Append v as Python's str() would show it in an f-string: strings as
 * they are, None for absent or null, True/False, integers, floats as
 * repr(); containers as compact JSON (an approximation).
 */
int tw_mpval_append_text(struct tw_buf *b, const struct tw_mpval *v)
    TW_WARN_UNUSED;

/*
 * A string value as an RFC 3339 time in ns; a time without a zone is
 * taken as UTC. TW_EPARSE when v is not such a string.
 */
int tw_mpval_time(const struct tw_mpval *v, int64_t *ns) TW_WARN_UNUSED;

#endif
