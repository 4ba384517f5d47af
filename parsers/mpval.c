/* mpval.c: values of JSON converted to msgpack: look-ups, truth, copies. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "mpval.h"
#include "timefmt.h"

/* Deeper than tw_json_to_mp ever nests: a guard for hand-made input. */
#define MPVAL_DEPTH_MAX 64

int
tw_mpval_root(struct tw_mpval *v, const void *p, size_t n)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	int rc;

	memset(v, 0, sizeof(*v));
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, p, n);
	if ((rc = tw_mp_read(&r, &v->o)) != 0)
		return rc;
	tw_mp_reader_init(&r, p, n);
	if ((rc = tw_mp_skip(&r, &lim)) != 0)
		return rc;
	v->p = p;
	v->n = (size_t)(r.p - v->p);
	return 0;
}

/* Read the value at r into v and move r past it. */
static int
value_at(struct tw_mp_reader *r, const struct tw_mp_limits *lim,
    struct tw_mpval *v)
{
	struct tw_mp_reader h = *r;
	const uint8_t *start = r->p;
	int rc;

	if ((rc = tw_mp_read(&h, &v->o)) != 0 ||
	    (rc = tw_mp_skip(r, lim)) != 0)
		return rc;
	v->p = start;
	v->n = (size_t)(r->p - start);
	return 0;
}

void
tw_mpval_get_keys(const struct tw_mpval *m, const char *const *keys,
    struct tw_mpval *vals)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj hdr, k;
	struct tw_mpval v;
	size_t lens[32], nkeys = 0;

	while (keys[nkeys] != NULL && nkeys < 32) {
		lens[nkeys] = strlen(keys[nkeys]);
		memset(&vals[nkeys], 0, sizeof(vals[nkeys]));
		nkeys++;
	}
	if (!tw_mpval_is(m, TW_MP_MAP))
		return;
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, m->p, m->n);
	if (tw_mp_read(&r, &hdr) != 0)
		return;
	for (uint32_t i = 0; i < hdr.v.count; i++) {
		if (tw_mp_read(&r, &k) != 0)
			return;
		if (k.type != TW_MP_STR) {
			if (tw_mp_skip(&r, &lim) != 0)
				return;
			continue;
		}
		if (value_at(&r, &lim, &v) != 0)
			return;
		for (size_t j = 0; j < nkeys; j++)
			if (lens[j] == k.v.s.len &&
			    memcmp(keys[j], k.v.s.p, lens[j]) == 0) {
				vals[j] = v;
				break;
			}
	}
}

struct tw_mpval
tw_mpval_get(const struct tw_mpval *m, const char *key)
{
	const char *keys[2] = { key, NULL };
	struct tw_mpval v;

	tw_mpval_get_keys(m, keys, &v);
	return v;
}

bool
tw_mpval_present(const struct tw_mpval *v)
{
	return v->p != NULL && v->o.type != TW_MP_NIL;
}

bool
tw_mpval_truthy(const struct tw_mpval *v)
{
	if (v->p == NULL)
		return false;
	switch (v->o.type) {
	case TW_MP_NIL:
		return false;
	case TW_MP_BOOL:
		return v->o.v.b;
	case TW_MP_UINT:
		return v->o.v.u != 0;
	case TW_MP_INT:
		return v->o.v.i != 0;
	case TW_MP_FLOAT:
		return v->o.v.f != 0.0;
	case TW_MP_STR:
	case TW_MP_BIN:
		return v->o.v.s.len != 0;
	case TW_MP_ARRAY:
	case TW_MP_MAP:
		return v->o.v.count != 0;
	default:
		return true;
	}
}

const struct tw_mpval *
tw_mpval_or(const struct tw_mpval *a, const struct tw_mpval *b)
{
	return tw_mpval_truthy(a) ? a : b;
}

bool
tw_mpval_str_eq(const struct tw_mpval *v, const char *s)
{
	return tw_mpval_is(v, TW_MP_STR) && tw_mp_str_eq(&v->o, s);
}

/*
 * Whether some map in the value at r holds a null value: 1 (r is left
 * anywhere), 0 (r is after the value) or a TW_E* code.
 */
static int
scan_nil(struct tw_mp_reader *r, const struct tw_mp_limits *lim, int depth)
{
	struct tw_mp_obj o;
	int rc;

	if (depth > MPVAL_DEPTH_MAX)
		return TW_EDEPTH;
	if ((rc = tw_mp_read(r, &o)) != 0)
		return rc;
	if (o.type == TW_MP_ARRAY) {
		for (uint32_t i = 0; i < o.v.count; i++)
			if ((rc = scan_nil(r, lim, depth + 1)) != 0)
				return rc;
	} else if (o.type == TW_MP_MAP) {
		for (uint32_t i = 0; i < o.v.count; i++) {
			if ((rc = tw_mp_skip(r, lim)) != 0)
				return rc;
			if (r->p < r->end && *r->p == 0xc0)
				return 1;
			if ((rc = scan_nil(r, lim, depth + 1)) != 0)
				return rc;
		}
	}
	return 0;
}

/* Copy the value at r without null map values; move r past it. */
static int
copy_pruned(struct tw_mpw *w, struct tw_mp_reader *r,
    const struct tw_mp_limits *lim, int depth)
{
	struct tw_mp_reader c;
	const uint8_t *start = r->p, *k;
	struct tw_mp_obj o;
	uint32_t keep = 0;
	int rc;

	if (depth > MPVAL_DEPTH_MAX)
		return TW_EDEPTH;
	if ((rc = tw_mp_read(r, &o)) != 0)
		return rc;
	switch (o.type) {
	case TW_MP_ARRAY:
		tw_mpw_array(w, o.v.count);
		for (uint32_t i = 0; i < o.v.count; i++)
			if ((rc = copy_pruned(w, r, lim, depth + 1)) != 0)
				return rc;
		return 0;
	case TW_MP_MAP:
		c = *r;
		for (uint32_t i = 0; i < o.v.count; i++) {
			if ((rc = tw_mp_skip(&c, lim)) != 0)
				return rc;
			if (c.p < c.end && *c.p == 0xc0) {
				c.p++;
				continue;
			}
			if ((rc = tw_mp_skip(&c, lim)) != 0)
				return rc;
			keep++;
		}
		tw_mpw_map(w, keep);
		for (uint32_t i = 0; i < o.v.count; i++) {
			k = r->p;
			if ((rc = tw_mp_skip(r, lim)) != 0)
				return rc;
			if (r->p < r->end && *r->p == 0xc0) {
				r->p++;
				continue;
			}
			tw_mpw_raw(w, k, (size_t)(r->p - k));
			if ((rc = copy_pruned(w, r, lim, depth + 1)) != 0)
				return rc;
		}
		return 0;
	default:
		tw_mpw_raw(w, start, (size_t)(r->p - start));
		return 0;
	}
}

void
tw_mpw_value(struct tw_mpw *w, const struct tw_mpval *v)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	int rc;

	if (v->p == NULL) {
		tw_mpw_nil(w);
		return;
	}
	if (v->o.type != TW_MP_MAP && v->o.type != TW_MP_ARRAY) {
		tw_mpw_raw(w, v->p, v->n);
		return;
	}
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, v->p, v->n);
	if ((rc = scan_nil(&r, &lim, 0)) == 0) {
		tw_mpw_raw(w, v->p, v->n);
		return;
	}
	tw_mp_reader_init(&r, v->p, v->n);
	if (rc < 0 || (rc = copy_pruned(w, &r, &lim, 0)) != 0)
		if (w->err == 0)
			w->err = TW_EMSGPACK;
}

uint32_t
tw_mpw_kv(struct tw_mpw *w, const char *key, const struct tw_mpval *v)
{
	if (!tw_mpval_present(v))
		return 0;
	tw_mpw_cstr(w, key);
	tw_mpw_value(w, v);
	return 1;
}

uint32_t
tw_mpw_kv_str(struct tw_mpw *w, const char *key, const struct tw_mpval *v)
{
	if (!tw_mpval_is(v, TW_MP_STR))
		return 0;
	tw_mpw_cstr(w, key);
	tw_mpw_str(w, v->o.v.s.p, v->o.v.s.len);
	return 1;
}

int
tw_mpval_append_text(struct tw_buf *b, const struct tw_mpval *v)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;

	if (v->p == NULL)
		return tw_buf_adds(b, "None");
	switch (v->o.type) {
	case TW_MP_NIL:
		return tw_buf_adds(b, "None");
	case TW_MP_BOOL:
		return tw_buf_adds(b, v->o.v.b ? "True" : "False");
	case TW_MP_UINT:
		return tw_buf_addf(b, "%" PRIu64, v->o.v.u);
	case TW_MP_INT:
		return tw_buf_addf(b, "%" PRId64, v->o.v.i);
	case TW_MP_FLOAT:
		return tw_json_add_double(b, v->o.v.f);
	case TW_MP_STR:
		return tw_buf_add(b, v->o.v.s.p, v->o.v.s.len);
	default:
		tw_mp_limits_default(&lim);
		tw_mp_reader_init(&r, v->p, v->n);
		return tw_json_from_mp(b, &r, &lim, 0);
	}
}

int
tw_mpval_time(const struct tw_mpval *v, int64_t *ns)
{
	char tmp[64];
	size_t n;

	if (!tw_mpval_is(v, TW_MP_STR))
		return TW_EPARSE;
	n = v->o.v.s.len;
	if (tw_time_parse_rfc3339(v->o.v.s.p, n, ns) == 0)
		return 0;
	/* No zone: UTC, as the reference generators read it. */
	if (n == 0 || n + 1 >= sizeof(tmp) ||
	    v->o.v.s.p[n - 1] < '0' || v->o.v.s.p[n - 1] > '9')
		return TW_EPARSE;
	memcpy(tmp, v->o.v.s.p, n);
	tmp[n] = 'Z';
	return tw_time_parse_rfc3339(tmp, n + 1, ns) == 0 ? 0 : TW_EPARSE;
}
