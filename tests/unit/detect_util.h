/* detect_util.h: helpers shared by the detect/ unit tests (records from JSON, conditions). */
#ifndef TW_DETECT_UTIL_H
#define TW_DETECT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "expr.h"
#include "json.h"
#include "record.h"

/* The msgpack record of a canonical JSON object; aborts on bad JSON. */
static inline void
rec_from_json(const char *json, struct tw_buf *out)
{
	struct tw_mpw w;
	char *why = NULL;

	tw_buf_reset(out);
	tw_mpw_init(&w, out);
	if (tw_record_from_json(json, strlen(json), &w, &why) != 0) {
		printf("# bad test record %s: %s\n", json, why ? why : "?");
		abort();
	}
	free(why);
}

/*
 * Evaluate condition text on the JSON record: 1, 0, or -1 when the
 * condition does not compile (the reason printed as a TAP comment when
 * show is set).
 */
static inline int
cond_eval(const char *cond, const char *json, const struct tw_symbols *sym,
    int show)
{
	struct tw_buf rec;
	struct tw_expr *e;
	char *why = NULL;
	int r;

	if ((e = tw_expr_compile(cond, sym, &why)) == NULL) {
		if (show)
			printf("# compile '%s': %s\n", cond, why ? why : "?");
		free(why);
		return -1;
	}
	tw_buf_init(&rec, 1 << 20);
	rec_from_json(json, &rec);
	r = tw_expr_eval(e, NULL, rec.data, rec.len);
	tw_buf_cleanup(&rec);
	tw_expr_free(e);
	return r;
}

/* A rule set from one in-memory YAML file; NULL (errors printed) on failure. */
static inline struct tw_ruleset *
rules_from_text(const char *name, const char *yaml, struct tw_conf_diag *d)
{
	struct tw_ruleset *rs = NULL;
	const char *names[1] = { name }, *texts[1] = { yaml };
	size_t lens[1] = { strlen(yaml) };

	if (tw_ruleset_load_mem(names, texts, lens, 1, 0, &rs, d, NULL) != 0)
		return NULL;
	return rs;
}

/* The alerts of one record, outputs and objects, joined by newlines. */
struct fired_list {
	struct tw_buf outputs, ids, json;
};

static inline int
fired_collect(void *arg, const struct tw_alert *a)
{
	struct fired_list *f = arg;

	tw_ignore(tw_buf_add(&f->outputs, a->output, a->outlen));
	tw_ignore(tw_buf_addc(&f->outputs, '\n'));
	tw_ignore(tw_buf_adds(&f->ids, a->r->id));
	tw_ignore(tw_buf_addc(&f->ids, ' '));
	tw_ignore(tw_buf_add(&f->json, a->json, a->jsonlen));
	tw_ignore(tw_buf_addc(&f->json, '\n'));
	return 0;
}

static inline void
fired_init(struct fired_list *f)
{
	tw_buf_init(&f->outputs, 1 << 20);
	tw_buf_init(&f->ids, 1 << 20);
	tw_buf_init(&f->json, 1 << 20);
}

static inline void
fired_reset(struct fired_list *f)
{
	tw_buf_reset(&f->outputs);
	tw_buf_reset(&f->ids);
	tw_buf_reset(&f->json);
	tw_ignore(tw_buf_add(&f->outputs, "", 0));
	tw_ignore(tw_buf_add(&f->ids, "", 0));
	tw_ignore(tw_buf_add(&f->json, "", 0));
}

static inline void
fired_cleanup(struct fired_list *f)
{
	tw_buf_cleanup(&f->outputs);
	tw_buf_cleanup(&f->ids);
	tw_buf_cleanup(&f->json);
}

/* Evaluate one JSON record through rs with state st; alerts into f (reset). */
static inline int
eval_json(const struct tw_ruleset *rs, struct tw_engine_ctx *c,
    struct tw_state *st, const char *json, struct fired_list *f)
{
	struct tw_buf rec;
	int r;

	tw_buf_init(&rec, 1 << 20);
	rec_from_json(json, &rec);
	fired_reset(f);
	r = tw_engine_eval(rs, c, st, rec.data, rec.len, 0, fired_collect, f,
	    NULL, NULL);
	tw_buf_cleanup(&rec);
	return r;
}

/* The msgpack record of a labelled event line (its "record" member). */
static inline int
event_record(const char *line, size_t len, struct tw_buf *out)
{
	struct tw_buf mp, json;
	struct tw_mpw w;
	struct tw_mp_reader r;
	struct tw_mp_obj o, k;
	char *why = NULL;
	int rc = -1;

	tw_buf_init(&mp, 1 << 24);
	tw_buf_init(&json, 1 << 24);
	tw_mpw_init(&w, &mp);
	if (tw_json_to_mp(line, len, &w, NULL, NULL) != 0)
		goto out;
	tw_mp_reader_init(&r, mp.data, mp.len);
	if (tw_mp_read(&r, &o) != 0 || o.type != TW_MP_MAP)
		goto out;
	for (uint32_t i = 0; i < o.v.count; i++) {
		if (tw_mp_read(&r, &k) != 0)
			goto out;
		if (k.type == TW_MP_STR && tw_mp_str_eq(&k, "record")) {
			struct tw_mpw rw;

			if (tw_json_from_mp(&json, &r, NULL, 0) != 0)
				goto out;
			tw_buf_reset(out);
			tw_mpw_init(&rw, out);
			rc = tw_record_from_json(json.data, json.len, &rw, &why);
			goto out;
		}
		if (tw_mp_skip(&r, &(struct tw_mp_limits){ 64, 1 << 20,
		    1 << 20 }) != 0)
			goto out;
	}
out:
	free(why);
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&json);
	return rc;
}

/* The path of a file under the source tree's tests/data. */
static inline const char *
data_path(const char *rel, char *buf, size_t n)
{
	const char *top = getenv("top_srcdir");

	snprintf(buf, n, "%s/tests/data/%s", top != NULL ? top : ".", rel);
	return buf;
}

#endif
