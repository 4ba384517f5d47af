/* audit_map.c: msgpack helpers shared by the audit formats (k8s, CloudTrail, auditd). */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_map.h"

/* Read the value at the reader into *v (its span and header). */
static int
take_value(struct tw_mp_reader *r, const struct tw_mp_limits *lim,
    struct tw_am_val *v)
{
	struct tw_mp_reader peek = *r;
	const uint8_t *start = r->p;
	int rc;

	if ((rc = tw_mp_read(&peek, &v->o)) != 0)
		return rc;
	if ((rc = tw_mp_skip(r, lim)) != 0)
		return rc;
	v->p = (const char *)start;
	v->n = (size_t)(r->p - start);
	return 0;
}

static bool
key_is(const struct tw_mp_obj *k, const char *key)
{
	size_t n = strlen(key);

	return k->type == TW_MP_STR && k->v.s.len == n &&
	    memcmp(k->v.s.p, key, n) == 0;
}

int
tw_am_index(const char *p, size_t n, const char *const *keys, size_t nkeys,
    struct tw_am_val *out)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj m, k;
	struct tw_am_val v;
	int rc;

	for (size_t i = 0; i < nkeys; i++)
		memset(&out[i], 0, sizeof(out[i]));
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, p, n);
	if (tw_mp_read(&r, &m) != 0 || m.type != TW_MP_MAP)
		return TW_EPARSE;
	for (uint32_t i = 0; i < m.v.count; i++) {
		if ((rc = tw_mp_read(&r, &k)) != 0 ||
		    (rc = take_value(&r, &lim, &v)) != 0)
			return TW_EPARSE;
		for (size_t j = 0; j < nkeys; j++) {
			if (!key_is(&k, keys[j]))
				continue;
			if (v.o.type == TW_MP_NIL)
				memset(&out[j], 0, sizeof(out[j]));
			else
				out[j] = v;
			break;
		}
	}
	return 0;
}

bool
tw_am_get(const char *p, size_t n, const char *key, struct tw_am_val *v)
{
	const char *keys[1] = { key };

	if (p == NULL || tw_am_index(p, n, keys, 1, v) != 0)
		return false;
	return v->p != NULL;
}

bool
tw_am_sub(const struct tw_am_val *m, const char *key, struct tw_am_val *v)
{
	if (m == NULL || m->p == NULL || m->o.type != TW_MP_MAP)
		return false;
	return tw_am_get(m->p, m->n, key, v);
}

bool
tw_am_has(const struct tw_am_val *m, const char *key)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj h, k;

	if (m == NULL || m->p == NULL || m->o.type != TW_MP_MAP)
		return false;
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, m->p, m->n);
	if (tw_mp_read(&r, &h) != 0)
		return false;
	for (uint32_t i = 0; i < h.v.count; i++) {
		if (tw_mp_read(&r, &k) != 0)
			return false;
		if (key_is(&k, key))
			return true;
		if (tw_mp_skip(&r, &lim) != 0)
			return false;
	}
	return false;
}

bool
tw_am_first(const struct tw_am_val *a, struct tw_am_val *v)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj h;

	if (a == NULL || a->p == NULL || a->o.type != TW_MP_ARRAY ||
	    a->o.v.count == 0)
		return false;
	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, a->p, a->n);
	if (tw_mp_read(&r, &h) != 0 || take_value(&r, &lim, v) != 0)
		return false;
	return v->o.type != TW_MP_NIL;
}

bool
tw_am_truthy(const struct tw_am_val *v)
{
	if (v == NULL || v->p == NULL)
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

bool
tw_am_str_is(const struct tw_am_val *v, const char *s)
{
	return v != NULL && v->p != NULL && key_is(&v->o, s);
}

/* Copy one value from r (already checked by tw_mp_skip) without nils. */
static void
copy_value(struct tw_mpw *w, struct tw_mp_reader *r,
    const struct tw_mp_limits *lim)
{
	struct tw_mp_reader scan;
	const uint8_t *start = r->p;
	struct tw_mp_obj o;
	uint32_t keep = 0;

	if (tw_mp_read(r, &o) != 0) {
		r->p = r->end;
		return;
	}
	if (o.type == TW_MP_ARRAY) {
		tw_mpw_raw(w, start, (size_t)(r->p - start));
		for (uint32_t i = 0; i < o.v.count; i++)
			copy_value(w, r, lim);
		return;
	}
	if (o.type != TW_MP_MAP) {
		/* Scalars keep their exact bytes. */
		r->p = start;
		if (tw_mp_skip(r, lim) != 0)
			r->p = r->end;
		tw_mpw_raw(w, start, (size_t)(r->p - start));
		return;
	}
	scan = *r;
	for (uint32_t i = 0; i < o.v.count; i++) {
		if (tw_mp_skip(&scan, lim) != 0 || scan.p >= scan.end)
			break;
		if (*scan.p != 0xc0)
			keep++;
		if (tw_mp_skip(&scan, lim) != 0)
			break;
	}
	tw_mpw_map(w, keep);
	for (uint32_t i = 0; i < o.v.count; i++) {
		const uint8_t *k = r->p;
		if (tw_mp_skip(r, lim) != 0)
			return;
		if (r->p < r->end && *r->p == 0xc0) {
			r->p++;
			continue;
		}
		tw_mpw_raw(w, k, (size_t)(r->p - k));
		copy_value(w, r, lim);
	}
}

void
tw_am_copy(struct tw_mpw *w, const char *p, size_t n)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, p, n);
	if (tw_mp_skip(&r, &lim) != 0) {
		tw_mpw_nil(w);
		return;
	}
	n = (size_t)((const char *)r.p - p);
	/* No 0xc0 byte at all (UTF-8 never has one): no nil to leave out. */
	if (memchr(p, 0xc0, n) == NULL) {
		tw_mpw_raw(w, p, n);
		return;
	}
	tw_mp_reader_init(&r, p, n);
	copy_value(w, &r, &lim);
}

uint32_t
tw_am_put(struct tw_mpw *w, const char *key, const struct tw_am_val *v)
{
	if (v == NULL || v->p == NULL || v->o.type == TW_MP_NIL)
		return 0;
	tw_mpw_cstr(w, key);
	tw_am_copy(w, v->p, v->n);
	return 1;
}

/* A double as Python's repr(): the shortest text that reads back. */
static size_t
py_float(double d, char tmp[64])
{
	int len = 0;

	if (isnan(d))
		return (size_t)snprintf(tmp, 64, "nan");
	if (isinf(d))
		return (size_t)snprintf(tmp, 64, d < 0 ? "-inf" : "inf");
	for (int prec = 1; prec <= 17; prec++) {
		len = snprintf(tmp, 64, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (strpbrk(tmp, ".e") == NULL && len < 62) {
		memcpy(tmp + len, ".0", 3);
		len += 2;
	}
	return (size_t)len;
}

size_t
tw_am_pystr(const struct tw_am_val *v, char tmp[64], const char **out)
{
	*out = tmp;
	if (v == NULL || v->p == NULL || v->o.type == TW_MP_NIL) {
		*out = "None";
		return 4;
	}
	switch (v->o.type) {
	case TW_MP_STR:
		*out = v->o.v.s.p;
		return v->o.v.s.len;
	case TW_MP_BOOL:
		*out = v->o.v.b ? "True" : "False";
		return v->o.v.b ? 4 : 5;
	case TW_MP_UINT:
		return (size_t)snprintf(tmp, 64, "%" PRIu64, v->o.v.u);
	case TW_MP_INT:
		return (size_t)snprintf(tmp, 64, "%" PRId64, v->o.v.i);
	case TW_MP_FLOAT:
		return py_float(v->o.v.f, tmp);
	default:
		*out = "";
		return 0;
	}
}

void
tw_am_write_concat(struct tw_mpw *w, const char *const *p, const size_t *n,
    size_t cnt)
{
	size_t total = 0;

	for (size_t i = 0; i < cnt; i++)
		total += n[i];
	if (w->err != 0 || total > UINT32_MAX) {
		if (w->err == 0)
			w->err = TW_ETOOBIG;
		return;
	}
	/* A failed write sticks in w->err; later ones do nothing. */
	tw_mpw_str_header(w, total);
	for (size_t i = 0; i < cnt; i++)
		tw_mpw_raw(w, p[i], n[i]);
}
