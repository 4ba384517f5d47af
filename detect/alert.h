/* alert.h: alert objects (RULES.md §11) with deterministic alert_id and record digest. */
#ifndef TW_ALERT_H
#define TW_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "expr.h"
#include "rules_load.h"

#define TW_DIGEST_HEX 32 /* hex digits kept of a SHA-256 */

/*
 * The record digest: the first 32 hex digits of SHA-256 over the canonical
 * JSON of the record map without observed_time. hex gets 33 bytes. Returns
 * 0 or a TW_E* code for a malformed record.
 */
int tw_alert_digest(const void *rec, size_t len, char *hex) TW_WARN_UNUSED;

/* alert_id: SHA-256 over the canonical JSON ["<rule id>","<digest>"], 32 hex. */
int tw_alert_id(const char *rule_id, const char *digest, char *hex)
    TW_WARN_UNUSED;

/* A tuple of strings (threshold group, throttle key), by reference. */
struct tw_strv {
	const char **s;
	size_t *n;
	size_t count;
};

/* What an alert is made of besides the rule and the record. */
struct tw_alert_in {
	const struct tw_rule *rule;
	const void *rec;            /* the record (msgpack map) */
	size_t len;
	int64_t time;               /* the record's time */
	int64_t detected_at;
	const char *output;         /* rendered template */
	size_t outlen;
	const struct tw_strv *group; /* threshold rules: the group key values */
	uint32_t count;             /* threshold rules: n */
	const struct tw_strv *ttkey; /* throttled rules: the key values */
};

/*
 * Append the alert object as canonical JSON (keys sorted, one line, no
 * newline) to out, taking `fields` values from the slots m holds for the
 * record; id (33 bytes) gets the alert_id. Returns 0 or a TW_E* code.
 */
int tw_alert_json(struct tw_buf *out, struct tw_match *m,
    const struct tw_alert_in *in, char *id) TW_WARN_UNUSED;

#endif
