/* fuzz_json.c: JSON <-> msgpack round trips of lib/json and lib/record. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json.h"
#include "record.h"
#include "timefmt.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CEILING (1 << 24)

static bool
same(const struct tw_buf *a, const struct tw_buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

static void
seen_top(void *arg, const char *key, size_t klen, const struct tw_mp_obj *v)
{
	size_t *calls = arg;

	/* what the contract promises: decoded, valid UTF-8 text */
	if (!tw_utf8_valid(key, klen) || (v->type == TW_MP_STR &&
	    !tw_utf8_valid(v->v.s.p, v->v.s.len)))
		abort();
	(*calls)++;
}

/*
 * JSON -> msgpack (m1) -> JSON (j1) -> msgpack (m2): m2 == m1, and j1 is
 * well-formed UTF-8; compaction changes the bytes, never the value.
 */
static void
generic(const char *p, size_t n)
{
	struct tw_json_opts o;
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_buf m1, m2, m3, j1, j2;
	struct tw_mpw w;
	size_t calls = 0;
	char *why = NULL;
	int rc;

	tw_json_opts_default(&o);
	o.on_top_scalar = seen_top;
	o.arg = &calls;
	tw_mp_limits_default(&lim);
	tw_buf_init(&m1, CEILING);
	tw_buf_init(&m2, CEILING);
	tw_buf_init(&m3, CEILING);
	tw_buf_init(&j1, CEILING);
	tw_buf_init(&j2, CEILING);
	tw_mpw_init(&w, &m1);
	rc = tw_json_to_mp(p, n, &w, &o, &why);
	if (rc != 0) {
		if (m1.len != 0)
			abort();
		goto out;
	}
	if (why != NULL)
		abort();
	tw_mp_reader_init(&r, m1.data, m1.len);
	if (tw_mp_skip(&r, &lim) != 0 || tw_mp_remaining(&r) != 0)
		abort();
	tw_mp_reader_init(&r, m1.data, m1.len);
	if (tw_json_from_mp(&j1, &r, &lim, 0) != 0 ||
	    tw_mp_remaining(&r) != 0 || !tw_utf8_valid(j1.data, j1.len))
		abort();
	tw_mpw_init(&w, &m2);
	if (tw_json_to_mp(j1.data, j1.len, &w, NULL, NULL) != 0 ||
	    !same(&m1, &m2))
		abort();
	/* without compaction: other bytes, the same JSON */
	o.compact = false;
	o.on_top_scalar = NULL;
	tw_mpw_init(&w, &m3);
	if (tw_json_to_mp(p, n, &w, &o, NULL) != 0 || m3.len < m1.len)
		abort();
	tw_mp_reader_init(&r, m3.data, m3.len);
	if (tw_json_from_mp(&j2, &r, &lim, 0) != 0 || !same(&j1, &j2))
		abort();
out:
	free(why);
	tw_buf_cleanup(&m1);
	tw_buf_cleanup(&m2);
	tw_buf_cleanup(&m3);
	tw_buf_cleanup(&j1);
	tw_buf_cleanup(&j2);
}

/* The same for records, with their time/observed_time/raw spellings. */
static void
record(const char *p, size_t n)
{
	struct tw_buf m1, m2, j1, j2;
	struct tw_mpw w;
	size_t used;
	int64_t ns;
	char *why = NULL;

	tw_buf_init(&m1, CEILING);
	tw_buf_init(&m2, CEILING);
	tw_buf_init(&j1, CEILING);
	tw_buf_init(&j2, CEILING);
	tw_mpw_init(&w, &m1);
	if (tw_record_from_json(p, n, &w, &why) != 0)
		goto out;
	if (tw_record_to_json(&j1, m1.data, m1.len, &used, 0) != 0 ||
	    used != m1.len || !tw_utf8_valid(j1.data, j1.len))
		abort();
	tw_mpw_init(&w, &m2);
	if (tw_record_from_json(j1.data, j1.len, &w, NULL) != 0 ||
	    !same(&m1, &m2))
		abort();
	if (tw_record_to_json(&j2, m2.data, m2.len, &used, 0) != 0 ||
	    !same(&j1, &j2))
		abort();
	tw_buf_reset(&j2);
	if (tw_record_to_json(&j2, m1.data, m1.len, &used,
	    TW_RECORD_NO_OBSERVED_TIME | TW_JSON_TIME_RFC3339) != 0)
		abort();
	/* Only that it is safe on any record: the answer may be an error. */
	tw_ignore(tw_record_time(m1.data, m1.len, &ns));
out:
	free(why);
	tw_buf_cleanup(&m1);
	tw_buf_cleanup(&m2);
	tw_buf_cleanup(&j1);
	tw_buf_cleanup(&j2);
}

/* Cheap checks of the helpers on the same bytes. */
static void
helpers(const char *p, size_t n)
{
	struct tw_buf a, b;
	int64_t ns, ns2;

	tw_buf_init(&a, CEILING);
	tw_buf_init(&b, CEILING);
	if (tw_utf8_sanitize(&a, p, n) != 0 || !tw_utf8_valid(a.data, a.len) ||
	    (tw_utf8_valid(p, n) && (a.len != n || memcmp(a.data, p, n) != 0)))
		abort();
	tw_buf_reset(&a);
	if (tw_base64_decode(&a, p, n) == 0) {
		if (a.len != tw_base64_decoded_len(p, n) ||
		    tw_base64_encode(&b, a.data, a.len) != 0 || b.len < n ||
		    memcmp(b.data, p, n) != 0)
			abort();
	}
	tw_buf_reset(&a);
	if (tw_time_parse_rfc3339(p, n, &ns) == 0) {
		if (tw_time_format_rfc3339(&a, ns) != 0 ||
		    tw_time_parse_rfc3339(a.data, a.len, &ns2) != 0 ||
		    ns != ns2)
			abort();
	}
	tw_buf_cleanup(&a);
	tw_buf_cleanup(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	generic(p, size);
	record(p, size);
	helpers(p, size);
	return 0;
}
