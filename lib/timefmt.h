/* timefmt.h: RFC 3339 timestamps and CLI time arguments as int64 UTC ns. */
#ifndef TW_TIMEFMT_H
#define TW_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Times are int64 nanoseconds since 1970-01-01T00:00:00Z, so they cover
 * 1677-09-21 to 2262-04-11. Nothing here depends on TZ or the C library's
 * time conversion functions; all functions are thread-safe.
 */

/*
 * Parse all of p[0..n) as YYYY-MM-DD(T|t| )HH:MM:SS[.1 to 9 digits]
 * followed by Z, z, +hh:mm, -hh:mm, +hhmm or -hhmm. TW_EPARSE for anything
 * else (including a seconds field of 60), TW_ELIMIT when the instant does
 * not fit in int64 ns.
 */
int tw_time_parse_rfc3339(const char *p, size_t n, int64_t *ns)
    TW_WARN_UNUSED;

/*
 * The last whole second tw_time_parse_rfc3339_cached saw: the lines of one
 * log mostly share it. Owned by one parser; not thread-safe.
 */
struct tw_time_cache {
	char prefix[19]; /* YYYY-MM-DDTHH:MM:SS as it was written */
	int64_t secs;
	bool valid;
};

/* Start with nothing remembered. */
void tw_time_cache_init(struct tw_time_cache *c);

/*
 * tw_time_parse_rfc3339, the same results, with the date and time of day
 * taken from c when the first 19 bytes are those of the last success.
 */
int tw_time_parse_rfc3339_cached(struct tw_time_cache *c, const char *p,
    size_t n, int64_t *ns) TW_WARN_UNUSED;

/*
 * Append ns as YYYY-MM-DDTHH:MM:SS[.fraction]Z in UTC, the fraction being
 * the nanoseconds without trailing zeros (none when they are 0).
 */
int tw_time_format_rfc3339(struct tw_buf *out, int64_t ns) TW_WARN_UNUSED;

/* The wall clock (CLOCK_REALTIME) in ns. */
int64_t tw_time_now_ns(void);

/*
 * A time given on the command line: an RFC 3339 timestamp, an integer of
 * ns since the epoch, "now", or a duration before now_ns such as "15m",
 * "-15m", "2h", "1h30m", "500ms" (units ms, s, m, h, d; the sign is
 * optional and means the same). TW_EPARSE, TW_ELIMIT on overflow.
 */
int tw_time_parse_arg(const char *s, int64_t now_ns, int64_t *ns)
    TW_WARN_UNUSED;

/*
 * Decode the payload of a msgpack timestamp extension (type -1; 4, 8 or 12
 * bytes) to ns, strictly: TW_EMSGPACK for another length or nanoseconds
 * over 999 999 999, TW_ELIMIT when the instant does not fit in int64 ns.
 */
int tw_time_from_mp_timestamp(const void *p, size_t len, int64_t *ns)
    TW_WARN_UNUSED;

#endif
