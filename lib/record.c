/* record.c: records (schema v1, DESIGN.md §2) to and from canonical JSON. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "record.h"
#include "timefmt.h"

static bool
key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

int
tw_record_to_json(struct tw_buf *out, const void *rec, size_t n,
    size_t *used, unsigned flags)
{
	struct tw_mp_limits lim, sub;
	struct tw_mp_reader r;
	struct tw_mp_obj o, k;
	size_t start = out->len;
	bool first = true;
	int rc;

	tw_mp_limits_default(&lim);
	sub = lim;
	sub.depth_max = lim.depth_max - 1; /* values sit inside the record */
	tw_mp_reader_init(&r, rec, n);
	if ((rc = tw_mp_read(&r, &o)) != 0)
		goto fail;
	if (o.type != TW_MP_MAP) {
		rc = TW_EMSGPACK;
		goto fail;
	}
	if (o.v.count > lim.map_max) {
		rc = TW_ELIMIT;
		goto fail;
	}
	if ((rc = tw_buf_addc(out, '{')) != 0)
		goto fail;
	for (uint32_t i = 0; i < o.v.count; i++) {
		if ((rc = tw_mp_read(&r, &k)) != 0)
			goto fail;
		if (k.type != TW_MP_STR) {
			rc = TW_EMSGPACK;
			goto fail;
		}
		if ((flags & TW_RECORD_NO_OBSERVED_TIME) != 0 &&
		    key_is(k.v.s.p, k.v.s.len, "observed_time")) {
			if ((rc = tw_mp_skip(&r, &sub)) != 0)
				goto fail;
			continue;
		}
		if ((!first && (rc = tw_buf_addc(out, ',')) != 0) ||
		    (rc = tw_json_add_string(out, k.v.s.p, k.v.s.len)) != 0 ||
		    (rc = tw_buf_addc(out, ':')) != 0 ||
		    (rc = tw_json_from_mp(out, &r, &sub,
		    flags & ~(unsigned)TW_RECORD_NO_OBSERVED_TIME)) != 0)
			goto fail;
		first = false;
	}
	if ((rc = tw_buf_addc(out, '}')) != 0)
		goto fail;
	if (used != NULL)
		*used = (size_t)(r.p - (const uint8_t *)rec);
	return 0;
fail:
	if (out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

/* Writes the top-level values that canonical JSON spells differently. */
static int
write_special(void *arg, struct tw_mpw *w, const char *key, size_t klen,
    const struct tw_mp_obj *v)
{
	size_t len;
	int r;

	(void)arg;
	if (key_is(key, klen, "time") || key_is(key, klen, "observed_time")) {
		if (v->type == TW_MP_UINT && v->v.u <= INT64_MAX)
			tw_mpw_timestamp(w, (int64_t)v->v.u);
		else if (v->type == TW_MP_INT)
			tw_mpw_timestamp(w, v->v.i);
		else
			return TW_EPARSE;
		return 1;
	}
	if (key_is(key, klen, "raw")) {
		if (v->type != TW_MP_STR)
			return TW_EPARSE;
		/* The bin header, then the bytes decoded right after it. */
		len = tw_base64_decoded_len(v->v.s.p, v->v.s.len);
		tw_mpw_bin_header(w, len);
		if (w->err != 0)
			return w->err;
		if ((r = tw_base64_decode(w->buf, v->v.s.p, v->v.s.len)) != 0)
			return r;
		return 1;
	}
	return 0;
}

int
tw_record_from_json(const char *p, size_t n, struct tw_mpw *w, char **why)
{
	struct tw_json_opts o;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	if (i == n || p[i] != '{') {
		if (why != NULL)
			*why = strdup("a record must be a JSON object");
		return TW_EPARSE;
	}
	tw_json_opts_default(&o);
	o.top_scalar_write = write_special;
	return tw_json_to_mp(p, n, w, &o, why);
}

int
tw_record_time(const void *rec, size_t n, int64_t *ns)
{
	struct tw_mp_obj o;
	int r;

	if ((r = tw_mp_path(rec, n, "time", &o)) != 0)
		return r;
	if (o.type != TW_MP_EXT || o.ext_type != TW_MP_EXT_TIMESTAMP)
		return TW_EINVAL;
	return tw_time_from_mp_timestamp(o.v.s.p, o.v.s.len, ns);
}
