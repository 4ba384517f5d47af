/* test_fields.c: unit tests for detect/fields: paths, the trie walk, slot values. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "fields.h"
#include "tap.h"

static const char *record_json =
    "{\"time\":1,\"message\":\"m\",\"fields\":{"
    "\"a\":[1,[2,null,3],{\"b\":\"x\"},[],{}],"
    "\"m\":{\"k1\":\"v1\",\"k2\":[\"v2\",\"v3\"]},"
    "\"dotted.key\":\"d\",\"n\":null,\"arr\":[{\"c\":[{\"d\":1},{\"d\":2}]}]}}";

/* The string forms of a path's values joined by '|', or "-" when missing. */
static void
values_is(const char *path, const char *want)
{
	struct tw_arena *a = tw_arena_new(1 << 20);
	struct tw_fields *f = tw_fields_new();
	struct tw_slotvals sv;
	struct tw_path *p;
	struct tw_trie *t;
	struct tw_buf rec, got, tmp;
	const struct tw_value *v;
	uint32_t slot;
	size_t n;
	char *why = NULL;

	tw_slotvals_init(&sv);
	tw_buf_init(&rec, 1 << 20);
	tw_buf_init(&got, 1 << 20);
	tw_buf_init(&tmp, 1 << 20);
	rec_from_json(record_json, &rec);
	if (tw_path_parse(a, path, strlen(path), &p, &why) != 0 ||
	    tw_fields_intern(f, p, &slot) != 0 ||
	    (t = tw_trie_build(f, NULL, a)) == NULL ||
	    tw_slotvals_reset(&sv, tw_fields_count(f)) != 0 ||
	    tw_trie_walk(t, rec.data, rec.len, &sv) != 0) {
		ok(0, "walk %s: %s", path, why ? why : "error");
		goto out;
	}
	v = tw_slot_values(&sv, slot, &n);
	for (size_t i = 0; i < n; i++) {
		const char *s;
		size_t sl;

		if (i > 0)
			tw_ignore(tw_buf_addc(&got, '|'));
		if (tw_value_str(&v[i], &tmp, &s, &sl) == 0)
			tw_ignore(tw_buf_add(&got, s, sl));
	}
	if (n == 0)
		tw_ignore(tw_buf_adds(&got, "-"));
	is_str(got.data, want, "values of %s", path);
out:
	free(why);
	tw_buf_cleanup(&rec);
	tw_buf_cleanup(&got);
	tw_buf_cleanup(&tmp);
	tw_slotvals_cleanup(&sv);
	tw_fields_free(f);
	tw_arena_free(a);
}

static void
bad_path(const char *path)
{
	struct tw_arena *a = tw_arena_new(1 << 20);
	struct tw_path *p;
	char *why = NULL;

	is_int(tw_path_parse(a, path, strlen(path), &p, &why), TW_EPARSE,
	    "bad path '%s' (%s)", path, why ? why : "");
	free(why);
	tw_arena_free(a);
}

int
main(void)
{
	values_is("message", "m");
	values_is("fields.a", "1|2|3|{\"b\":\"x\"}|{}");
	values_is("fields.a.b", "x");
	values_is("fields.a[1]", "2|3");
	values_is("fields.a[-1]", "{}");
	values_is("fields.a[9]", "-");
	values_is("fields.m.*", "v1|v2|v3");
	values_is("fields.m[*]", "v1|v2|v3");
	values_is("fields[\"dotted.key\"]", "d");
	values_is("fields['dotted.key']", "d");
	values_is("fields.n", "-");
	values_is("fields.arr.c.d", "1|2");
	values_is("fields.nope.x", "-");
	values_is("message.x", "-");
	values_is("fields.a[0]", "1");
	values_is("*.m.k1", "v1");
	values_is("[*][\"dotted.key\"]", "d");
	bad_path("");
	bad_path(".a");
	bad_path("a..b");
	bad_path("a[");
	bad_path("a[x]");
	bad_path("raw");
	bad_path("raw.x");
	bad_path("a b");
	bad_path("a[\"\\q\"]");
	return done_testing();
}
