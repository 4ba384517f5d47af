/* kv.h: key=value pairs, unescaping and year-less times for line formats. */
#ifndef TW_PARSERS_KV_H
#define TW_PARSERS_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mp.h"
#include "parser.h"

/*
 * Pairs are spans into the caller's line (valid as long as it is); the
 * list and its de-duplication table are owned by a struct tw_kv and reused
 * from line to line. Nothing here is thread-safe; nothing allocates per
 * pair once the arrays have grown to the largest line seen.
 */

/* A record's map must stay under the readers' 65 536 pairs (mp.h). */
#define TW_KV_PAIRS_MAX 60000

/* How backslashes in a value are read. */
enum tw_kv_esc {
	TW_KV_ESC_NONE, /* verbatim */
	TW_KV_ESC_ANY,  /* logfmt: a backslash takes the next byte as is */
	TW_KV_ESC_SD,   /* RFC 5424 PARAM-VALUE: only \" \\ \] */
};

struct tw_kv_pair {
	const char *key;
	const char *val; /* NULL: a bare key, which means true */
	uint32_t klen, vlen;
	uint32_t sub;    /* for the caller (SD element: its parameters) */
	uint8_t esc;     /* enum tw_kv_esc of val */
	bool dup;        /* a later pair of the same range has this key */
};

struct tw_kv {
	struct tw_kv_pair *pairs;
	size_t n, cap;
	uint32_t *slots; /* open addressing: pair index + 1, 0 = free */
	size_t nslots;
};

void tw_kv_init(struct tw_kv *kv);
void tw_kv_cleanup(struct tw_kv *kv);
/* Forget the pairs, keep the memory. */
void tw_kv_reset(struct tw_kv *kv);

/* Append a pair; TW_ELIMIT past TW_KV_PAIRS_MAX, TW_ENOMEM. */
int tw_kv_push(struct tw_kv *kv, const char *key, size_t klen,
    const char *val, size_t vlen, enum tw_kv_esc esc) TW_WARN_UNUSED;

/*
 * Append the logfmt pairs of p[0..n): space-separated key=value, the
 * value bare (up to a space) or double-quoted with backslash escapes
 * (unterminated: to the end); a key without '=' is a bare key. Returns
 * the number of pairs that had a '=', or TW_ELIMIT when the list filled
 * up (the pairs so far are kept).
 */
int tw_kv_logfmt(struct tw_kv *kv, const char *p, size_t n);

/*
 * Mark pairs[from..to) whose key comes again later in that range (the
 * last one wins, as when a dict is filled in order); returns how many
 * distinct keys the range has.
 */
uint32_t tw_kv_dedupe(struct tw_kv *kv, size_t from, size_t to);

/* The last pair of pairs[from..to) named key, or NULL. */
const struct tw_kv_pair *tw_kv_get(const struct tw_kv *kv, size_t from,
    size_t to, const char *key);

/*
 * Write p[0..n) as a msgpack str, with escapes resolved (scratch is reused
 * for that). The bytes must already be valid UTF-8.
 */
void tw_kv_write_str(struct tw_mpw *w, struct tw_buf *scratch,
    const char *p, size_t n, enum tw_kv_esc esc);
/*
 * A pair's value with its escapes resolved: a span of the line, or of
 * scratch when there were escapes. False for a bare key (or NULL).
 */
bool tw_kv_value(struct tw_buf *scratch, const struct tw_kv_pair *kp,
    const char **p, size_t *n);
/* A pair's value: its string, or true for a bare key. */
void tw_kv_write_val(struct tw_mpw *w, struct tw_buf *scratch,
    const struct tw_kv_pair *kp);
/* Write the pairs of [from..to) not marked dup as map entries; returns
 * how many were written. */
uint32_t tw_kv_write_pairs(struct tw_mpw *w, struct tw_buf *scratch,
    const struct tw_kv *kv, size_t from, size_t to);

/*
 * Lines as the parsers see them: a trailing CR dropped, and when the bytes
 * are not UTF-8 a sanitized copy (in clean) to parse instead, the original
 * going to "raw".
 */
struct tw_kv_line {
	const char *p;   /* what to parse: valid UTF-8 */
	size_t n;
	const char *raw; /* the original bytes when they were not UTF-8 */
	size_t rawlen;
};
int tw_kv_line(struct tw_kv_line *l, struct tw_buf *clean, const char *p,
    size_t n) TW_WARN_UNUSED;
/* "raw" when the line had one; returns the number of keys written. */
uint32_t tw_kv_write_raw(struct tw_mpw *w, const struct tw_kv_line *l);

/* "time" and, when asked for, "observed_time"; returns the key count. */
uint32_t tw_kv_write_time(struct tw_mpw *w, const struct tw_parse_opts *o,
    int64_t ns);

/* Unsigned decimal p[0..n) (1 to 19 digits) into *v; false otherwise. */
bool tw_kv_uint(const char *p, size_t n, uint64_t *v);

/* Month abbreviation ("Jan".."Dec", exact case) to 1..12, 0 otherwise. */
int tw_kv_month(const char *p);

/*
 * An RFC 3339 time (timefmt.h), or one without a zone, taken as UTC:
 * 0 or TW_EPARSE.
 */
int tw_kv_time(const char *p, size_t n, int64_t *ns) TW_WARN_UNUSED;

/* ns since the epoch of a proleptic Gregorian UTC civil time. */
int64_t tw_kv_civil_ns(int64_t year, int mon, int day, int hour, int min,
    int sec, int64_t frac_ns);

/*
 * A time without a year (RFC 3164, klog), taken as UTC: the year of now_ns,
 * or the one before when that would put it more than a day after now_ns.
 */
int64_t tw_kv_yearless_ns(int64_t now_ns, int mon, int day, int hour,
    int min, int sec, int64_t frac_ns);

#endif
