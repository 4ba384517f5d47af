/* audit_map.h: msgpack helpers shared by the audit formats (k8s, CloudTrail, auditd). */
#ifndef TW_PARSERS_AUDIT_MAP_H
#define TW_PARSERS_AUDIT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parser.h"

/*
 * The audit formats convert an event to msgpack once (tw_json_to_mp) and
 * then pick values out of it the way the reference generators do with
 * Python dicts: a missing key and a JSON null are the same (None), and
 * None is never written (the records are "pruned"). These helpers never
 * allocate; every span points into the caller's msgpack.
 */

/* One value inside a msgpack buffer: its bytes and its decoded header. */
struct tw_am_val {
	const char *p;
	size_t n;
	struct tw_mp_obj o;
};

/*
 * Find key in the map encoded at p[0..n) (the whole buffer is the map).
 * True, with *v set, when the key is there and its value is not nil;
 * false for a missing key, a nil value, or when p is not a valid map.
 */
bool tw_am_get(const char *p, size_t n, const char *key,
    struct tw_am_val *v);
/*
 * One pass over the map at p[0..n): out[i] gets the value of keys[i]
 * (the last one when a key repeats, as json.loads keeps), its p NULL
 * when the key is missing or nil. TW_EPARSE when p is not a valid map.
 */
int tw_am_index(const char *p, size_t n, const char *const *keys,
    size_t nkeys, struct tw_am_val *out);
/* tw_am_get on the map value m (false when m is NULL or not a map). */
bool tw_am_sub(const struct tw_am_val *m, const char *key,
    struct tw_am_val *v);
/* Whether the map value m has key, whatever its value (nil too). */
bool tw_am_has(const struct tw_am_val *m, const char *key);
/* The first element of the array value a, unless it is nil. */
bool tw_am_first(const struct tw_am_val *a, struct tw_am_val *v);

/* Python's truth value: false for nil, false, 0, 0.0, "", [] and {}. */
bool tw_am_truthy(const struct tw_am_val *v);
/* Whether v (may be NULL) is the string s. */
bool tw_am_str_is(const struct tw_am_val *v, const char *s);

/*
 * Copy the value at p[0..n) through w, leaving out every map pair whose
 * value is nil, at any depth (array elements are kept as they are, as
 * the generators' prune() does). A value that does not pass tw_mp_skip
 * with the default limits is written as nil.
 */
void tw_am_copy(struct tw_mpw *w, const char *p, size_t n);
/* Write key and the pruned copy of v when v is present; the keys added. */
uint32_t tw_am_put(struct tw_mpw *w, const char *key,
    const struct tw_am_val *v);

/*
 * Python's str() of v (NULL is None): the text of a string, "None",
 * "True"/"False", an integer in decimal, a float as repr() does; maps and
 * arrays give "". *out points at v's bytes or at tmp (64 bytes).
 */
size_t tw_am_pystr(const struct tw_am_val *v, char tmp[64],
    const char **out);

/* Write one str made of cnt pieces p[i][0..n[i]), concatenated. */
void tw_am_write_concat(struct tw_mpw *w, const char *const *p,
    const size_t *n, size_t cnt);

/*
 * Where a CloudTrail event came from, for its source map: envelope
 * ("s3_records", "firehose_cwl") and the CloudWatch Logs group and
 * stream it was delivered through; each may be NULL (left out).
 */
struct tw_ct_source {
	const char *envelope;
	const char *log_group;
	size_t log_group_len;
	const char *log_stream;
	size_t log_stream_len;
};

/*
 * tw_cloudtrail_event (formats.h) with the whole source: one CloudTrail
 * event object json[0..n) becomes one record, emitted. Scratch space is
 * taken at the end of w's buffer (which is left as it was found), so
 * nothing is allocated unless json is not valid UTF-8. A value that is
 * not a JSON object becomes a message-only record. Returns emit's
 * result, or TW_ETOOBIG/TW_ENOMEM.
 */
int tw_cloudtrail_event_src(const struct tw_parse_opts *o,
    const struct tw_ct_source *src, const char *json, size_t n,
    struct tw_mpw *w, tw_emit_fn emit, void *arg);

#endif
