/* test_record.c: unit tests for lib/record, driven by tests/data/formats. */
#include "config.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "tap.h"

/* from_json into a fresh buffer; 0 or the error. */
static int
from_json(const char *p, size_t n, struct tw_buf *mp, char **why)
{
	struct tw_mpw w;

	tw_buf_reset(mp);
	tw_mpw_init(&w, mp);
	return tw_record_from_json(p, n, &w, why);
}

static int
to_json(const struct tw_buf *mp, struct tw_buf *out, unsigned flags)
{
	size_t used = 0;
	int r;

	tw_buf_reset(out);
	if ((r = tw_record_to_json(out, mp->data, mp->len, &used, flags)) ==
	    0 && used != mp->len)
		r = TW_EINTERNAL;
	return r;
}

/*
 * Rewrite raw U+0085, U+2028 and U+2029 in line[0..len) as the \\uXXXX
 * escapes our renderer writes; the new length (bounded by cap - 1).
 */
static size_t
escape_separators(char *line, size_t len, size_t cap)
{
	for (size_t i = 0; i + 1 < len; i++) {
		const unsigned char *u = (const unsigned char *)line + i;
		const char *esc = NULL;
		size_t k = 0;
		if (u[0] == 0xc2 && u[1] == 0x85) {
			esc = "\\u0085";
			k = 2;
		} else if (i + 2 < len && u[0] == 0xe2 && u[1] == 0x80 &&
		    (u[2] == 0xa8 || u[2] == 0xa9)) {
			esc = u[2] == 0xa8 ? "\\u2028" : "\\u2029";
			k = 3;
		}
		if (esc == NULL || len + 6 - k >= cap)
			continue;
		memmove(line + i + 6, line + i + k, len - i - k + 1);
		memcpy(line + i, esc, 6);
		len += 6 - k;
		i += 5;
	}
	return len;
}

static bool
same(const struct tw_buf *a, const struct tw_buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

/* The integer value of the top-level "time" key of a JSON line, if any. */
static bool
json_time(const char *line, int64_t *ns)
{
	int depth = 0;

	for (const char *p = line; *p != '\0'; p++) {
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		} else if (*p == '"') {
			if (depth == 1 && strncmp(p, "\"time\":", 7) == 0 &&
			    (p[-1] == '{' || p[-1] == ',')) {
				*ns = strtoll(p + 7, NULL, 10);
				return true;
			}
			for (p++; *p != '"'; p++)
				if (*p == '\\')
					p++;
		}
	}
	return false;
}

static int
check_file(const char *path, const char *name)
{
	struct tw_buf m1, m2, j1, j2;
	char *line = NULL, *why = NULL;
	size_t cap = 0, lines = 0, bad = 0, exact = 0;
	ssize_t len;
	int64_t want, got;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		ok(0, "%s: cannot open", name);
		return 0;
	}
	tw_buf_init(&m1, 1 << 24);
	tw_buf_init(&m2, 1 << 24);
	tw_buf_init(&j1, 1 << 24);
	tw_buf_init(&j2, 1 << 24);
	/* Room to spare: escape_separators() grows a line in place. */
	cap = 1 << 20;
	if ((line = malloc(cap)) == NULL)
		return 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		lines++;
		if (from_json(line, (size_t)len, &m1, &why) != 0) {
			diag("%s:%zu: from_json: %s", name, lines,
			    why != NULL ? why : "?");
			free(why);
			why = NULL;
			bad++;
			continue;
		}
		if (to_json(&m1, &j1, 0) != 0 ||
		    from_json(j1.data, j1.len, &m2, NULL) != 0 ||
		    to_json(&m2, &j2, 0) != 0) {
			diag("%s:%zu: second round trip failed", name, lines);
			bad++;
			continue;
		}
		/* the same value: the msgpack of both passes is identical */
		if (!same(&m1, &m2)) {
			diag("%s:%zu: msgpack differs after a round trip", name,
			    lines);
			bad++;
		}
		/* and the canonical JSON is a fixed point */
		if (!same(&j1, &j2)) {
			diag("%s:%zu: JSON not stable: %s", name, lines,
			    j2.data);
			bad++;
		}
		if (json_time(line, &want) && (tw_record_time(m1.data, m1.len,
		    &got) != 0 || got != want)) {
			diag("%s:%zu: tw_record_time", name, lines);
			bad++;
		}
		/* sorted, compact, ensure_ascii=False: byte for byte, but
		 * for the line separators we escape (tw_json_add_string) */
		len = (ssize_t)escape_separators(line, (size_t)len, cap);
		if (j1.len == (size_t)len && memcmp(j1.data, line, j1.len) == 0)
			exact++;
		else
			diag("%s:%zu: differs from the file:\n# %s", name,
			    lines, j1.data);
	}
	ok(lines > 0 && bad == 0, "%s: %zu records round-trip", name, lines);
	is_int(exact, lines, "%s: rendered exactly as written", name);
	free(line);
	fclose(f);
	tw_buf_cleanup(&m1);
	tw_buf_cleanup(&m2);
	tw_buf_cleanup(&j1);
	tw_buf_cleanup(&j2);
	return 1;
}

static void
test_formats(void)
{
	const char *top = getenv("top_srcdir");
	struct dirent **names;
	char dir[4096], path[8192];
	size_t len;
	int n, files = 0;

	snprintf(dir, sizeof(dir), "%s/tests/data/formats",
	    top != NULL && *top != '\0' ? top : ".");
	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		ok(0, "cannot read %s", dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		len = strlen(names[i]->d_name);
		if (len > 15 && strcmp(names[i]->d_name + len - 15,
		    ".expected.jsonl") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    names[i]->d_name);
			files += check_file(path, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	ok(files >= 18, "%d expected files found in %s", files, dir);
}

static char *
rt(const char *json, unsigned flags, int *err)
{
	struct tw_buf mp, out;
	char *s = NULL;

	tw_buf_init(&mp, 1 << 20);
	tw_buf_init(&out, 1 << 20);
	if ((*err = from_json(json, strlen(json), &mp, NULL)) == 0 &&
	    (*err = to_json(&mp, &out, flags)) == 0)
		s = tw_buf_take(&out, NULL);
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&out);
	return s;
}

static void
check(const char *json, unsigned flags, const char *want, const char *name)
{
	int err;
	char *s = rt(json, flags, &err);

	is_str(s, want, "%s", name);
	free(s);
}

static void
check_err(const char *json, int want, const char *name)
{
	int err;
	char *s = rt(json, 0, &err);

	ok(s == NULL && err == want, "%s", name);
	if (err != want)
		diag("got %d", err);
	free(s);
}

static void
test_special_keys(void)
{
	const char *j = "{\"time\":1718356867100234567,\"observed_time\":-5,"
	    "\"raw\":\"/+8=\",\"message\":\"\xef\xbf\xbd\",\"fields\":"
	    "{\"time\":1,\"raw\":\"AA==\"}}";
	struct tw_buf mp;
	struct tw_mp_obj o;
	char *why = NULL;
	int64_t ns;

	tw_buf_init(&mp, 4096);
	ok(from_json(j, strlen(j), &mp, NULL) == 0, "from_json");
	ok(tw_mp_path(mp.data, mp.len, "time", &o) == 0 &&
	    o.type == TW_MP_EXT && o.ext_type == TW_MP_EXT_TIMESTAMP,
	    "time is a timestamp");
	ok(tw_record_time(mp.data, mp.len, &ns) == 0 &&
	    ns == 1718356867100234567LL, "tw_record_time");
	ok(tw_mp_path(mp.data, mp.len, "observed_time", &o) == 0 &&
	    o.type == TW_MP_EXT, "observed_time is a timestamp");
	ok(tw_mp_path(mp.data, mp.len, "raw", &o) == 0 &&
	    o.type == TW_MP_BIN && o.v.s.len == 2 &&
	    memcmp(o.v.s.p, "\xff\xef", 2) == 0, "raw is bin");
	ok(tw_mp_path(mp.data, mp.len, "fields.time", &o) == 0 &&
	    o.type == TW_MP_UINT, "nested time stays an integer");
	ok(tw_mp_path(mp.data, mp.len, "fields.raw", &o) == 0 &&
	    o.type == TW_MP_STR, "nested raw stays a string");
	check(j, 0, j, "round trip");
	check(j, TW_RECORD_NO_OBSERVED_TIME,
	    "{\"time\":1718356867100234567,\"raw\":\"/+8=\",\"message\":"
	    "\"\xef\xbf\xbd\",\"fields\":{\"time\":1,\"raw\":\"AA==\"}}",
	    "observed_time left out");
	check("{\"observed_time\":1,\"a\":1}", TW_RECORD_NO_OBSERVED_TIME,
	    "{\"a\":1}", "observed_time left out first");
	check("{\"a\":1,\"observed_time\":1}", TW_RECORD_NO_OBSERVED_TIME,
	    "{\"a\":1}", "observed_time left out last");
	check("{\"observed_time\":1}", TW_RECORD_NO_OBSERVED_TIME, "{}",
	    "observed_time alone");
	check("{\"time\":1}", TW_JSON_TIME_RFC3339,
	    "{\"time\":\"1970-01-01T00:00:00.000000001Z\"}",
	    "TW_JSON_TIME_RFC3339 passes through");
	check("{\"time\":-9223372036854775808,\"observed_time\":"
	    "9223372036854775807}", 0, "{\"time\":-9223372036854775808,"
	    "\"observed_time\":9223372036854775807}", "time extremes");
	check("{\"raw\":\"\"}", 0, "{\"raw\":\"\"}", "empty raw");
	check("{\"raw\":\"/+8\"}", 0, "{\"raw\":\"/+8=\"}",
	    "raw without padding");
	check(" {} ", 0, "{}", "empty record");

	check_err("{\"time\":\"2024-06-14T09:21:07Z\"}", TW_EPARSE,
	    "time as a string");
	check_err("{\"time\":1.5}", TW_EPARSE, "time as a float");
	check_err("{\"time\":null}", TW_EPARSE, "time as null");
	check_err("{\"time\":9223372036854775808}", TW_EPARSE,
	    "time past int64");
	check_err("{\"observed_time\":true}", TW_EPARSE, "observed_time bool");
	check_err("{\"raw\":\"!!!!\"}", TW_EPARSE, "raw not base64");
	check_err("{\"raw\":1}", TW_EPARSE, "raw not a string");
	check_err("[1]", TW_EPARSE, "an array");
	check_err("1", TW_EPARSE, "a number");
	check_err("", TW_EPARSE, "nothing");
	check_err("{\"a\":\"\xff\"}", TW_EUTF8, "invalid UTF-8");
	check_err("{\"a\":1}x", TW_EPARSE, "trailing garbage");
	is_int(from_json("{\"time\":\"x\"}", 12, &mp, &why), TW_EPARSE,
	    "why for a bad time");
	ok(why != NULL && strstr(why, "\"time\"") != NULL, "why: %s",
	    why != NULL ? why : "(null)");
	free(why);
	is_int(from_json("[]", 2, &mp, &why), TW_EPARSE, "why for an array");
	ok(why != NULL && strstr(why, "object") != NULL, "why: %s",
	    why != NULL ? why : "(null)");
	free(why);
	tw_buf_cleanup(&mp);
}

static void
test_batch(void)
{
	struct tw_buf mp, out;
	struct tw_mpw w;
	size_t used = 0, n1;

	tw_buf_init(&mp, 4096);
	tw_buf_init(&out, 4096);
	tw_mpw_init(&w, &mp);
	ok(tw_record_from_json("{\"a\":1}", 7, &w, NULL) == 0, "record 1");
	n1 = mp.len;
	ok(tw_record_from_json("{\"b\":[2]}", 9, &w, NULL) == 0, "record 2");
	ok(tw_record_to_json(&out, mp.data, mp.len, &used, 0) == 0 &&
	    used == n1 && strcmp(out.data, "{\"a\":1}") == 0,
	    "first of a batch, used = its size");
	tw_buf_reset(&out);
	ok(tw_record_to_json(&out, mp.data + used, mp.len - used, &used, 0) ==
	    0 && used == mp.len - n1 && strcmp(out.data, "{\"b\":[2]}") == 0,
	    "second of a batch");

	/* refusals leave out as it was */
	tw_buf_reset(&out);
	ok(tw_buf_add(&out, "x", 1) == 0, "prefill");
	is_int(tw_record_to_json(&out, "\x91\x01", 2, &used, 0), TW_EMSGPACK,
	    "not a map");
	is_int(tw_record_to_json(&out, "\x81\x01\x01", 3, &used, 0),
	    TW_EMSGPACK, "integer key");
	is_int(tw_record_to_json(&out, mp.data, n1 - 1, &used, 0), TW_EEOF,
	    "truncated");
	is_int(tw_record_to_json(&out, "", 0, &used, 0), TW_EEOF, "empty");
	ok(out.len == 1 && strcmp(out.data, "x") == 0, "out unchanged");

	tw_buf_reset(&mp);
	tw_mpw_init(&w, &mp);
	tw_mpw_map(&w, 1);
	tw_mpw_cstr(&w, "time");
	tw_mpw_uint(&w, 5);
	is_int(tw_record_time(mp.data, mp.len, &(int64_t){ 0 }), TW_EINVAL,
	    "time not a timestamp");
	is_int(tw_record_time("\x80", 1, &(int64_t){ 0 }), TW_ENOTFOUND,
	    "no time");
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&out);
}

static void
test_depth(void)
{
	char j[256];
	size_t n = 0;
	struct tw_buf mp, out;
	int d;

	tw_buf_init(&mp, 4096);
	tw_buf_init(&out, 4096);
	/* the record map itself is level 1 of 32 */
	for (d = 31; d <= 32; d++) {
		n = 0;
		n += (size_t)snprintf(j + n, sizeof(j) - n, "{\"f\":");
		for (int i = 0; i < d; i++)
			j[n++] = '[';
		for (int i = 0; i < d; i++)
			j[n++] = ']';
		j[n++] = '}';
		j[n] = '\0';
		if (d == 31)
			ok(from_json(j, n, &mp, NULL) == 0 &&
			    to_json(&mp, &out, 0) == 0 &&
			    strcmp(out.data, j) == 0, "32 levels in all");
		else
			is_int(from_json(j, n, &mp, NULL), TW_EDEPTH,
			    "33 levels refused");
	}
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&out);
}

int
main(void)
{
	test_formats();
	test_special_keys();
	test_batch();
	test_depth();
	return done_testing();
}
