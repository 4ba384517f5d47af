/* record.h: records (schema v1, DESIGN.md §2) to and from canonical JSON. */
#ifndef TW_RECORD_H
#define TW_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "mp.h"

/* tw_record_to_json flags, besides the TW_JSON_* ones. */
#define TW_RECORD_NO_OBSERVED_TIME 0x100 /* leave the observed_time key out */

/*
 * Append the canonical JSON of the record map at the start of rec[0..n)
 * to out (one line, no newline): as tw_json_from_mp, so timestamps (time,
 * observed_time) are integer ns and bin (raw) is base64. *used gets the
 * bytes of msgpack it took, for walking a batch of concatenated records.
 * TW_EMSGPACK if the value is not a map with string keys; the limits are
 * tw_mp_limits_default's; otherwise as tw_json_from_mp. On error out is
 * unchanged. Thread-safe.
 */
int tw_record_to_json(struct tw_buf *out, const void *rec, size_t n,
    size_t *used, unsigned flags) TW_WARN_UNUSED;

/*
 * Append the msgpack record for the canonical JSON object in p[0..n)
 * through w: top-level time and observed_time must be integers (ns) and
 * become timestamps, a top-level raw must be base64 and becomes bin,
 * everything else is converted as by tw_json_to_mp with its defaults.
 * TW_EPARSE if p is not an object or those keys are malformed; otherwise
 * as tw_json_to_mp, including *why.
 */
int tw_record_from_json(const char *p, size_t n, struct tw_mpw *w,
    char **why) TW_WARN_UNUSED;

/*
 * The record's top-level time in ns: TW_ENOTFOUND without one, TW_EINVAL
 * if it is not a timestamp, else as tw_time_from_mp_timestamp.
 */
int tw_record_time(const void *rec, size_t n, int64_t *ns) TW_WARN_UNUSED;

#endif
