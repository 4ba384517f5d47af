/* engine.c: the rule engine's entry point: load a rule set, evaluate records, build alerts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "engine.h"
#include "template.h"
#include "timefmt.h"
#include "value.h"

struct tw_ruleset {
	struct tw_rules *rules;
	struct tw_eval_index *ix;
};

struct tw_engine_ctx {
	struct tw_match *m;
	struct tw_eval_scratch sc;
	unsigned flags;
	uint64_t *matches, *limits;
	size_t nstats;
	uint64_t records;
	struct tw_buf out, json, group, dv, ttkey;
};

int
tw_ruleset_load(const char *const *paths, size_t npaths, unsigned flags,
    struct tw_ruleset **out, struct tw_conf_diag *d, struct tw_conf_diag *w)
{
	struct tw_ruleset *rs;
	int r;

	*out = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return TW_ENOMEM;
	if ((r = tw_rules_load(paths, npaths, flags, &rs->rules, d, w)) != 0 ||
	    (r = tw_eval_index_build(rs->rules, &rs->ix)) != 0) {
		tw_ruleset_free(rs);
		return r;
	}
	*out = rs;
	return 0;
}

int
tw_ruleset_load_mem(const char *const *names, const char *const *texts,
    const size_t *lens, size_t n, unsigned flags, struct tw_ruleset **out,
    struct tw_conf_diag *d, struct tw_conf_diag *w)
{
	struct tw_ruleset *rs;
	int r;

	*out = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return TW_ENOMEM;
	if ((r = tw_rules_load_mem(names, texts, lens, n, flags, &rs->rules, d,
	    w)) != 0 || (r = tw_eval_index_build(rs->rules, &rs->ix)) != 0) {
		tw_ruleset_free(rs);
		return r;
	}
	*out = rs;
	return 0;
}

void
tw_ruleset_free(struct tw_ruleset *rs)
{
	if (rs == NULL)
		return;
	tw_rules_free(rs->rules);
	free(rs);
}

size_t
tw_ruleset_count(const struct tw_ruleset *rs)
{
	return rs->rules->n;
}

const struct tw_rule *
tw_ruleset_rule(const struct tw_ruleset *rs, size_t i)
{
	return i < rs->rules->n ? rs->rules->rules[i] : NULL;
}

long
tw_ruleset_find(const struct tw_ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->rules->n; i++)
		if (strcmp(rs->rules->rules[i]->id, id) == 0)
			return (long)i;
	return -1;
}

const struct tw_symbols *
tw_ruleset_symbols(const struct tw_ruleset *rs)
{
	return rs->rules->sym;
}

const struct tw_rules *
tw_ruleset_rules(const struct tw_ruleset *rs)
{
	return rs->rules;
}

void
tw_ruleset_stats(const struct tw_ruleset *rs, struct tw_eval_stats *st)
{
	tw_eval_index_stats(rs->ix, st);
}

struct tw_engine_ctx *
tw_engine_ctx_new(void)
{
	struct tw_engine_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->m = tw_match_new()) == NULL) {
		free(c);
		return NULL;
	}
	tw_eval_scratch_init(&c->sc);
	tw_buf_init(&c->out, (size_t)16 << 20);
	tw_buf_init(&c->json, (size_t)256 << 20);
	tw_buf_init(&c->group, (size_t)16 << 20);
	tw_buf_init(&c->dv, (size_t)16 << 20);
	tw_buf_init(&c->ttkey, (size_t)16 << 20);
	return c;
}

void
tw_engine_ctx_free(struct tw_engine_ctx *c)
{
	if (c == NULL)
		return;
	tw_match_free(c->m);
	tw_eval_scratch_cleanup(&c->sc);
	tw_buf_cleanup(&c->out);
	tw_buf_cleanup(&c->json);
	tw_buf_cleanup(&c->group);
	tw_buf_cleanup(&c->dv);
	tw_buf_cleanup(&c->ttkey);
	free(c->matches);
	free(c->limits);
	free(c);
}

void
tw_engine_ctx_set_flags(struct tw_engine_ctx *c, unsigned flags)
{
	c->flags = flags;
}

static int
stats_size(struct tw_engine_ctx *c, size_t n)
{
	uint64_t *m, *l;

	if (c->nstats >= n)
		return 0;
	if ((m = realloc(c->matches, n * sizeof(*m))) == NULL)
		return TW_ENOMEM;
	c->matches = m;
	if ((l = realloc(c->limits, n * sizeof(*l))) == NULL)
		return TW_ENOMEM;
	c->limits = l;
	memset(c->matches + c->nstats, 0, (n - c->nstats) * sizeof(*m));
	memset(c->limits + c->nstats, 0, (n - c->nstats) * sizeof(*l));
	c->nstats = n;
	return 0;
}

int
tw_engine_match(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    const void *rec, size_t len)
{
	int r;

	c->sc.nmatched = 0;
	if ((r = stats_size(c, rs->rules->n)) != 0)
		return r;
	c->records++;
	if ((r = tw_eval_record(rs->ix, rs->rules, c->m, &c->sc, rec, len,
	    c->flags, c->limits)) != 0) {
		c->sc.nmatched = 0;
		return r;
	}
	for (size_t i = 0; i < c->sc.nmatched; i++)
		c->matches[c->sc.matched[i]]++;
	return 0;
}

size_t
tw_engine_matched(const struct tw_engine_ctx *c, const size_t **rules)
{
	*rules = c->sc.matched;
	return c->sc.nmatched;
}

int64_t
tw_engine_record_time(const void *rec, size_t len)
{
	struct tw_mp_obj o;
	int64_t ns;

	if (tw_mp_path(rec, len, "time", &o) != 0)
		return 0;
	switch (o.type) {
	case TW_MP_EXT:
		if (o.ext_type == TW_MP_EXT_TIMESTAMP &&
		    tw_time_from_mp_timestamp(o.v.s.p, o.v.s.len, &ns) == 0)
			return ns;
		return 0;
	case TW_MP_UINT:
		return o.v.u > INT64_MAX ? INT64_MAX : (int64_t)o.v.u;
	case TW_MP_INT:
		return o.v.i;
	default:
		return 0;
	}
}

/*
 * The key of paths (RULES.md §8): per path the string form of the first
 * value of the first alias target that yields one, or <NA>; encoded.
 */
static int
first_values(struct tw_match *m, const struct tw_keyset *ks, struct tw_buf *key)
{
	const struct tw_value *vals;
	const char *s;
	size_t n, nv;
	int r;

	tw_buf_reset(key);
	for (size_t i = 0; i < ks->n; i++) {
		s = TW_TEMPLATE_NA;
		n = strlen(s);
		for (size_t j = 0; j < ks->v[i].npaths; j++) {
			vals = tw_slot_values(&m->sv, ks->v[i].slots[j], &nv);
			if (nv > 0) {
				if ((r = tw_value_str(&vals[0], &m->tmp, &s, &n)) != 0)
					return r;
				break;
			}
		}
		if ((r = tw_state_key_add(key, s, n)) != 0)
			return r;
	}
	if (key->data == NULL)
		return tw_buf_add(key, "", 0);
	return 0;
}

/* The components of an encoded key, for the alert object. */
struct strv_store {
	const char *s[64];
	size_t n[64];
	struct tw_strv v;
};

static const struct tw_strv *
key_strv(const struct tw_buf *key, struct strv_store *st)
{
	size_t i = 0;

	while (i < 64 && tw_state_key_get(key->data, key->len, i, &st->s[i],
	    &st->n[i]))
		i++;
	st->v.s = st->s;
	st->v.n = st->n;
	st->v.count = i;
	return &st->v;
}

int
tw_engine_fire(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    struct tw_state *st, const void *rec, size_t len, int64_t detected_at,
    tw_alert_cb *cb, void *arg, tw_throttle_summary_cb *scb, void *sarg)
{
	struct strv_store gs, ks;
	struct tw_alert_in in;
	struct tw_alert al;
	char id[TW_DIGEST_HEX + 1], cnt[24];
	int64_t t = tw_engine_record_time(rec, len);
	int r = 0;

	for (size_t i = 0; i < c->sc.nmatched && r == 0; i++) {
		size_t ri = c->sc.matched[i];
		const struct tw_rule *ru = rs->rules->rules[ri];
		uint32_t n = 0;

		memset(&in, 0, sizeof(in));
		if (ru->threshold) {
			if ((r = first_values(c->m, &ru->group_by, &c->group)) != 0)
				break;
			if (ru->distinct.n > 0 &&
			    (r = first_values(c->m, &ru->distinct, &c->dv)) != 0)
				break;
			r = tw_state_threshold(st, ri, c->group.data, c->group.len,
			    ru->distinct.n > 0 ? c->dv.data : NULL, c->dv.len, t,
			    ru->th_window, ru->th_count, &n);
			if (r <= 0)
				continue;
			r = 0;
			in.group = key_strv(&c->group, &gs);
			in.count = n;
		}
		if (ru->throttle) {
			if ((r = first_values(c->m, &ru->tt_key, &c->ttkey)) != 0)
				break;
			r = tw_state_throttle(st, ri, c->ttkey.data, c->ttkey.len,
			    t, ru->tt_window, ru->tt_max, scb, sarg);
			if (r <= 0)
				continue;
			r = 0;
			in.ttkey = key_strv(&c->ttkey, &ks);
		}
		snprintf(cnt, sizeof(cnt), "%u", n);
		tw_buf_reset(&c->out);
		if ((r = tw_template_render(ru->output, c->m, ru->threshold ? cnt :
		    NULL, ru->threshold ? ru->th_window_text : NULL, &c->out)) != 0)
			break;
		in.rule = ru;
		in.rec = rec;
		in.len = len;
		in.time = t;
		in.detected_at = detected_at;
		in.output = c->out.data;
		in.outlen = c->out.len;
		tw_buf_reset(&c->json);
		if ((r = tw_alert_json(&c->json, c->m, &in, id)) != 0)
			break;
		al.rule = ri;
		al.r = ru;
		al.alert_id = id;
		al.output = c->out.data;
		al.outlen = c->out.len;
		al.json = c->json.data;
		al.jsonlen = c->json.len;
		al.time = t;
		r = cb != NULL ? cb(arg, &al) : 0;
	}
	return r;
}

int
tw_engine_summary_json(const struct tw_ruleset *rs,
    const struct tw_throttle_summary *sum, struct tw_buf *out)
{
	const struct tw_rule *ru = tw_ruleset_rule(rs, sum->rule);
	struct tw_buf mp;
	struct tw_mpw w;
	struct tw_mp_reader r;
	struct tw_value v;
	const char *s;
	size_t n;
	int rc;

	if (ru == NULL || !ru->throttle)
		return TW_EINVAL;
	tw_buf_init(&mp, (size_t)16 << 20);
	tw_mpw_init(&w, &mp);
	tw_mpw_map(&w, 6);
	tw_mpw_cstr(&w, "rule");
	tw_mpw_cstr(&w, ru->id);
	tw_mpw_cstr(&w, "key");
	tw_mpw_map(&w, (uint32_t)ru->tt_key.n);
	for (size_t i = 0; i < ru->tt_key.n; i++) {
		tw_mpw_cstr(&w, ru->tt_key.v[i].text);
		if (tw_state_key_get(sum->key, sum->klen, i, &s, &n))
			tw_mpw_str(&w, s, n);
		else
			tw_mpw_cstr(&w, TW_TEMPLATE_NA);
	}
	tw_mpw_cstr(&w, "window");
	tw_mpw_cstr(&w, ru->tt_window_text);
	tw_mpw_cstr(&w, "suppressed");
	tw_mpw_uint(&w, sum->suppressed);
	tw_mpw_cstr(&w, "first_time");
	tw_mpw_int(&w, sum->first_time);
	tw_mpw_cstr(&w, "last_time");
	tw_mpw_int(&w, sum->last_time);
	if ((rc = w.err) == 0) {
		tw_mp_reader_init(&r, mp.data, mp.len);
		if ((rc = tw_value_read(&r, (const uint8_t *)mp.data + mp.len,
		    &v)) == 0)
			rc = tw_value_cjson(out, &v, NULL);
	}
	tw_buf_cleanup(&mp);
	return rc;
}

int
tw_engine_eval(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    struct tw_state *st, const void *rec, size_t len, int64_t detected_at,
    tw_alert_cb *cb, void *arg, tw_throttle_summary_cb *scb, void *sarg)
{
	int r;

	if ((r = tw_engine_match(rs, c, rec, len)) != 0)
		return r;
	return tw_engine_fire(rs, c, st, rec, len, detected_at, cb, arg, scb,
	    sarg);
}

void
tw_engine_ctx_rule_stats(const struct tw_engine_ctx *c, size_t i,
    uint64_t *matches, uint64_t *regex_limits)
{
	*matches = i < c->nstats ? c->matches[i] : 0;
	*regex_limits = i < c->nstats ? c->limits[i] : 0;
}

void
tw_engine_ctx_stats(const struct tw_engine_ctx *c, uint64_t *records,
    uint64_t *candidates)
{
	*records = c->records;
	*candidates = c->sc.candidates;
}

void
tw_engine_carry_state(const struct tw_ruleset *old_rs,
    struct tw_state *old_st, const struct tw_ruleset *new_rs,
    struct tw_state *new_st)
{
	for (size_t i = 0; i < new_rs->rules->n; i++) {
		const struct tw_rule *nr = new_rs->rules->rules[i];
		long j = tw_ruleset_find(old_rs, nr->id);

		if (j >= 0 && memcmp(old_rs->rules->rules[j]->digest, nr->digest,
		    sizeof(nr->digest)) == 0)
			tw_state_take(new_st, i, old_st, (size_t)j);
	}
}
