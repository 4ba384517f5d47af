/* alert.c: alert objects (RULES.md §11) with deterministic alert_id and record digest. */
#include "config.h"

#include <openssl/sha.h>
#include <string.h>

#include "alert.h"
#include "template.h"
#include "value.h"

static void
hex32(const unsigned char *md, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < TW_DIGEST_HEX / 2; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[TW_DIGEST_HEX] = '\0';
}

int
tw_alert_digest(const void *rec, size_t len, char *hex)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct tw_mp_reader r;
	struct tw_value v;
	struct tw_buf b;
	int rc;

	tw_buf_init(&b, (size_t)256 << 20);
	tw_mp_reader_init(&r, rec, len);
	if ((rc = tw_value_read(&r, (const uint8_t *)rec + len, &v)) != 0)
		goto out;
	if (v.o.type != TW_MP_MAP) {
		rc = TW_EMSGPACK;
		goto out;
	}
	if ((rc = tw_value_cjson(&b, &v, "observed_time")) != 0)
		goto out;
	SHA256((const unsigned char *)b.data, b.len, md);
	hex32(md, hex);
out:
	tw_buf_cleanup(&b);
	return rc;
}

int
tw_alert_id(const char *rule_id, const char *digest, char *hex)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct tw_buf b;
	int rc;

	tw_buf_init(&b, (size_t)1 << 20);
	if ((rc = tw_buf_addc(&b, '[')) == 0 &&
	    (rc = tw_cjson_str(&b, rule_id, strlen(rule_id))) == 0 &&
	    (rc = tw_buf_addc(&b, ',')) == 0 &&
	    (rc = tw_cjson_str(&b, digest, strlen(digest))) == 0 &&
	    (rc = tw_buf_addc(&b, ']')) == 0) {
		SHA256((const unsigned char *)b.data, b.len, md);
		hex32(md, hex);
	}
	tw_buf_cleanup(&b);
	return rc;
}

/* The encoded bytes of the top-level value of rec under key. */
static bool
find_top(const void *rec, size_t len, const char *key, const uint8_t **p,
    size_t *n)
{
	const uint8_t *end = (const uint8_t *)rec + len;
	struct tw_mp_reader m;
	struct tw_value k, v;

	tw_mp_reader_init(&m, rec, len);
	if (tw_value_read(&m, end, &v) != 0 || v.o.type != TW_MP_MAP)
		return false;
	for (uint32_t i = 0, cnt = v.o.v.count; i < cnt; i++) {
		if (tw_value_read(&m, end, &k) != 0 ||
		    tw_value_skip_rest(&m, &k) != 0 ||
		    tw_value_read(&m, end, &v) != 0 ||
		    tw_value_skip_rest(&m, &v) != 0)
			return false;
		if (k.o.type == TW_MP_STR && tw_mp_str_eq(&k.o, key)) {
			*p = v.p;
			*n = (size_t)(m.p - v.p);
			return true;
		}
	}
	return false;
}

static void
put_strmap(struct tw_mpw *w, const struct tw_keyset *ks,
    const struct tw_strv *vals)
{
	tw_mpw_map(w, (uint32_t)ks->n);
	for (size_t i = 0; i < ks->n; i++) {
		tw_mpw_cstr(w, ks->v[i].text);
		if (vals != NULL && i < vals->count)
			tw_mpw_str(w, vals->s[i], vals->n[i]);
		else
			tw_mpw_cstr(w, TW_TEMPLATE_NA);
	}
}

int
tw_alert_json(struct tw_buf *out, struct tw_match *m,
    const struct tw_alert_in *in, char *id)
{
	const struct tw_rule *ru = in->rule;
	char digest[TW_DIGEST_HEX + 1];
	struct tw_buf mp, fb;
	struct tw_mpw w, fw;
	struct tw_mp_reader r;
	struct tw_value v;
	uint32_t nkeys = 7, nfields = 0;
	const uint8_t *vp;
	size_t vn;
	bool present, has_id;
	int rc;

	tw_buf_init(&mp, (size_t)256 << 20);
	tw_buf_init(&fb, (size_t)256 << 20);
	if ((rc = tw_alert_digest(in->rec, in->len, digest)) != 0 ||
	    (rc = tw_alert_id(ru->id, digest, id)) != 0)
		goto out;
	/* fields: the output value of each path, missing ones left out */
	tw_mpw_init(&fw, &fb);
	for (size_t i = 0; i < ru->fields.n; i++) {
		size_t before = fb.len;

		tw_mpw_cstr(&fw, ru->fields.v[i].text);
		tw_output_value(m, ru->fields.v[i].slots, ru->fields.v[i].npaths,
		    ru->fields.v[i].npaths == 1 && ru->fields.v[i].paths[0]->plain,
		    &fw, &present);
		if (!present) {
			fb.len = before;
			continue;
		}
		nfields++;
	}
	if ((rc = fw.err) != 0)
		goto out;
	nkeys += nfields > 0;
	nkeys += ru->threshold;
	nkeys += ru->throttle;
	tw_mpw_init(&w, &mp);
	tw_mpw_map(&w, nkeys);
	tw_mpw_cstr(&w, "alert_id");
	tw_mpw_cstr(&w, id);
	tw_mpw_cstr(&w, "rule");
	tw_mpw_map(&w, 4);
	tw_mpw_cstr(&w, "id");
	tw_mpw_cstr(&w, ru->id);
	tw_mpw_cstr(&w, "title");
	tw_mpw_cstr(&w, ru->title);
	tw_mpw_cstr(&w, "severity");
	tw_mpw_cstr(&w, ru->severity);
	tw_mpw_cstr(&w, "tags");
	tw_mpw_array(&w, (uint32_t)ru->ntags);
	for (size_t i = 0; i < ru->ntags; i++)
		tw_mpw_cstr(&w, ru->tags[i]);
	tw_mpw_cstr(&w, "time");
	tw_mpw_int(&w, in->time);
	tw_mpw_cstr(&w, "detected_at");
	tw_mpw_int(&w, in->detected_at);
	tw_mpw_cstr(&w, "source");
	if (find_top(in->rec, in->len, "source", &vp, &vn))
		tw_mpw_raw(&w, vp, vn);
	else
		tw_mpw_nil(&w);
	tw_mpw_cstr(&w, "output");
	tw_mpw_str(&w, in->output, in->outlen);
	if (ru->threshold) {
		tw_mpw_cstr(&w, "threshold");
		tw_mpw_map(&w, ru->distinct.n > 0 ? 4 : 3);
		tw_mpw_cstr(&w, "group");
		put_strmap(&w, &ru->group_by, in->group);
		tw_mpw_cstr(&w, "count");
		tw_mpw_uint(&w, in->count);
		tw_mpw_cstr(&w, "window");
		tw_mpw_cstr(&w, ru->th_window_text);
		if (ru->distinct.n > 0) {
			tw_mpw_cstr(&w, "distinct");
			tw_mpw_array(&w, (uint32_t)ru->distinct.n);
			for (size_t i = 0; i < ru->distinct.n; i++)
				tw_mpw_cstr(&w, ru->distinct.v[i].text);
		}
	}
	if (ru->throttle) {
		tw_mpw_cstr(&w, "throttle");
		tw_mpw_map(&w, 3);
		tw_mpw_cstr(&w, "key");
		put_strmap(&w, &ru->tt_key, in->ttkey);
		tw_mpw_cstr(&w, "window");
		tw_mpw_cstr(&w, ru->tt_window_text);
		tw_mpw_cstr(&w, "max");
		tw_mpw_uint(&w, ru->tt_max);
	}
	if (nfields > 0) {
		tw_mpw_cstr(&w, "fields");
		tw_mpw_map(&w, nfields);
		tw_mpw_raw(&w, fb.data, fb.len);
	}
	tw_mpw_cstr(&w, "record");
	has_id = find_top(in->rec, in->len, "id", &vp, &vn);
	tw_mpw_map(&w, has_id ? 3 : 2);
	tw_mpw_cstr(&w, "time");
	tw_mpw_int(&w, in->time);
	tw_mpw_cstr(&w, "digest");
	tw_mpw_cstr(&w, digest);
	if (has_id) {
		tw_mpw_cstr(&w, "id");
		tw_mpw_raw(&w, vp, vn);
	}
	if ((rc = w.err) != 0)
		goto out;
	tw_mp_reader_init(&r, mp.data, mp.len);
	if ((rc = tw_value_read(&r, (const uint8_t *)mp.data + mp.len, &v)) ==
	    0)
		rc = tw_value_cjson(out, &v, NULL);
out:
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&fb);
	return rc;
}
