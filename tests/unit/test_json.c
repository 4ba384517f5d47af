/* test_json.c: unit tests for lib/json (JSON to msgpack and back). */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

/* JSON -> msgpack -> JSON with the default options; NULL on error. */
static char *
rt(const char *json, size_t n, int *err)
{
	struct tw_buf mp, out;
	struct tw_mpw w;
	struct tw_mp_reader r;
	char *s = NULL;
	int rc;

	tw_buf_init(&mp, 1 << 24);
	tw_buf_init(&out, 1 << 24);
	tw_mpw_init(&w, &mp);
	if ((rc = tw_json_to_mp(json, n, &w, NULL, NULL)) == 0) {
		tw_mp_reader_init(&r, mp.data, mp.len);
		if ((rc = tw_json_from_mp(&out, &r, NULL, 0)) == 0 &&
		    tw_mp_remaining(&r) != 0)
			rc = TW_EINTERNAL;
		if (rc == 0)
			s = tw_buf_take(&out, NULL);
	}
	if (err != NULL)
		*err = rc;
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&out);
	return s;
}

static void
check_rt(const char *json, const char *want, const char *name)
{
	char *got = rt(json, strlen(json), NULL);

	is_str(got, want, "%s", name);
	free(got);
}

static void
check_err(const char *json, size_t n, int want, const char *name)
{
	int err = 0;
	char *got = rt(json, n, &err);

	is_int(err, want, "%s", name);
	free(got);
}

static void
test_roundtrip(void)
{
	check_rt("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}",
	    "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", "object");
	check_rt(" \t\r\n{ \"a\" : [ 1 , { } , [ ] ] }\n ",
	    "{\"a\":[1,{},[]]}", "whitespace dropped");
	check_rt("{}", "{}", "empty object");
	check_rt("[]", "[]", "empty array");
	check_rt("1", "1", "top-level number");
	check_rt(" 42 ", "42", "top-level number with spaces");
	check_rt("\"s\"", "\"s\"", "top-level string");
	check_rt("null", "null", "top-level null");
	check_rt("true", "true", "top-level true");
	check_rt("{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}",
	    "duplicate keys kept");
	/* Expected output: python3, ints beyond int64/uint64 as floats. */
	check_rt("[0,-0,1,-1,9223372036854775807,-9223372036854775808,"
	    "18446744073709551615,18446744073709551616,-9223372036854775809,"
	    "1.5,1e2,1E-2,-0.0,0.1,212.35,1e300,1e-300,"
	    "123456789012345678901234567890,3.141592653589793,1e16,1e15,1e-5,"
	    "0.0001,2.5e-8,1e-400,-1e-400,0.1000000000000000055511151231257827,"
	    "1000000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000000"
	    "00001]",
	    "[0,0,1,-1,9223372036854775807,-9223372036854775808,"
	    "18446744073709551615,1.8446744073709552e+19,-9.223372036854776e+18,"
	    "1.5,100.0,0.01,-0.0,0.1,212.35,1e+300,1e-300,"
	    "1.2345678901234568e+29,3.141592653589793,1e+16,1000000000000000.0,"
	    "1e-05,0.0001,2.5e-08,0.0,-0.0,0.1,1e+138]", "numbers");
	check_rt("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\\u007f\\u00e9"
	    "\\u20AC\\ud83d\\ude00\"",
	    "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\"", "escapes decoded, re-escaped minimally");
	check_rt("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "raw UTF-8 kept");
	check_rt("\"a\\u0000b\"", "\"a\\u0000b\"", "\\u0000 survives");
	check_rt("{\"k\\u0000\":\"\\u0000\"}", "{\"k\\u0000\":\"\\u0000\"}",
	    "\\u0000 in a key");
	check_rt("\"\\u2028\\u2029\xc2\x85\"", "\"\\u2028\\u2029\\u0085\"",
	    "U+2028, U+2029 and U+0085 escaped: one record, one line");
	/* yajl gets these wrong; check_string() re-decodes them. */
	check_rt("\"\\ud800\"", "\"\xef\xbf\xbd\"", "lone high surrogate");
	check_rt("\"\\ud800abc\"", "\"\xef\xbf\xbd" "abc\"",
	    "lone high surrogate keeps the next character");
	check_rt("\"\\udc00x\"", "\"\xef\xbf\xbdx\"", "lone low surrogate");
	check_rt("\"\\ud800\\u0041\"", "\"\xef\xbf\xbd" "A\"",
	    "high surrogate then not a low one");
	check_rt("\"\\ud800\\ud800\\udc00\"",
	    "\"\xef\xbf\xbd\xf0\x90\x80\x80\"", "lone high then a pair");
	check_rt("\"\\ud800\\n\"", "\"\xef\xbf\xbd\\n\"",
	    "high surrogate then another escape");
	check_rt("\"\\\\\\ud800\"", "\"\\\\\xef\xbf\xbd\"",
	    "escaped backslash before a surrogate");
	check_rt("{\"\\udfff\\\"\":\"\\\"\\ud83d\"}",
	    "{\"\xef\xbf\xbd\\\"\":\"\\\"\xef\xbf\xbd\"}",
	    "surrogates in keys and after escaped quotes");
	check_rt("\"why?\\n\"", "\"why?\\n\"", "a real '?' with escapes");
	check_rt("[\"\\ud83d\\ude00?\\t\xf0\x9f\x98\x80\"]",
	    "[\"\xf0\x9f\x98\x80?\\t\xf0\x9f\x98\x80\"]",
	    "pairs, '?' and raw 4-byte chars together");
}

static void
test_errors(void)
{
	char *why = NULL;
	struct tw_buf b;
	struct tw_mpw w;

	check_err("", 0, TW_EPARSE, "empty input");
	check_err("   ", 3, TW_EPARSE, "only whitespace");
	check_err("{", 1, TW_EPARSE, "unclosed object");
	check_err("[1,]", 4, TW_EPARSE, "trailing comma");
	check_err("{}x", 3, TW_EPARSE, "trailing garbage");
	check_err("1 2", 3, TW_EPARSE, "two values");
	check_err("tru", 3, TW_EPARSE, "truncated literal");
	check_err("1e400", 5, TW_EPARSE, "number beyond float64");
	check_err("[-1e400]", 8, TW_EPARSE, "negative number beyond float64");
	check_err("'a'", 3, TW_EPARSE, "single quotes");
	check_err("{a:1}", 5, TW_EPARSE, "bare key");
	check_err("// c\n1", 6, TW_EPARSE, "comment");
	check_err("NaN", 3, TW_EPARSE, "NaN");
	check_err("01", 2, TW_EPARSE, "leading zero");
	check_err("\"a\tb\"", 5, TW_EPARSE, "raw tab in a string");
	check_err("\"\\x\"", 4, TW_EPARSE, "bad escape");
	check_err("\"\\u12\"", 6, TW_EPARSE, "short \\u");
	check_err("\"a\0b\"", 5, TW_EPARSE, "raw NUL in a string");
	check_err("\"\xff\"", 3, TW_EUTF8, "invalid byte");
	check_err("\"\xed\xa0\x80\"", 5, TW_EUTF8, "raw surrogate");
	check_err("\"\xc0\x80\"", 4, TW_EUTF8, "overlong NUL");
	check_err("\"\xf4\x90\x80\x80\"", 6, TW_EUTF8, "above U+10FFFF");
	check_err("{\"\xe9t\xe9\":1}", 9, TW_EUTF8, "invalid key");
	check_err("\"\\n\xff\"", 5, TW_EUTF8, "invalid byte after an escape");
	check_err("\"\\u00e9\xe9\"", 9, TW_EUTF8, "latin-1 after an escape");

	tw_buf_init(&b, 1024);
	tw_mpw_init(&w, &b);
	is_int(tw_json_to_mp("[1,]", 4, &w, NULL, &why), TW_EPARSE,
	    "why: parse error");
	ok(why != NULL && strncmp(why, "parse error at byte ", 20) == 0,
	    "why: %s", why != NULL ? why : "(null)");
	free(why);
	is_int(tw_json_to_mp("[\"\xff\"]", 5, &w, NULL, &why), TW_EUTF8,
	    "why: utf8");
	ok(why != NULL && strstr(why, "UTF-8") != NULL, "why: %s",
	    why != NULL ? why : "(null)");
	free(why);
	is_int(tw_json_to_mp("{\"a\":", 5, &w, NULL, &why), TW_EPARSE,
	    "why: premature end");
	ok(why != NULL && strstr(why, "at byte 5") != NULL, "why: %s",
	    why != NULL ? why : "(null)");
	free(why);
	ok(tw_json_to_mp("[1]", 3, &w, NULL, &why) == 0 && why == NULL,
	    "why stays NULL on success");
	tw_buf_cleanup(&b);
}

static int
convert(const char *json, const struct tw_json_opts *o, struct tw_buf *b)
{
	struct tw_mpw w;

	tw_mpw_init(&w, b);
	return tw_json_to_mp(json, strlen(json), &w, o, NULL);
}

static void
test_limits(void)
{
	struct tw_json_opts o;
	struct tw_buf b;
	struct tw_mpw w;
	char *deep;
	size_t n = 100000;

	deep = malloc(2 * n + 1);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	tw_buf_init(&b, 1 << 24);
	tw_mpw_init(&w, &b);
	is_int(tw_json_to_mp(deep + n - 32, 64, &w, NULL, NULL), 0,
	    "32 nested arrays");
	is_int(tw_json_to_mp(deep + n - 33, 66, &w, NULL, NULL), TW_EDEPTH,
	    "33 nested arrays");
	is_int(tw_json_to_mp(deep, 2 * n, &w, NULL, NULL), TW_EDEPTH,
	    "100 000 nested arrays");
	tw_json_opts_default(&o);
	o.depth_max = 1000;
	is_int(tw_json_to_mp(deep + n - 64, 128, &w, &o, NULL), 0,
	    "depth_max is capped at 64: 64 accepted");
	is_int(tw_json_to_mp(deep + n - 65, 130, &w, &o, NULL), TW_EDEPTH,
	    "depth_max is capped at 64: 65 refused");
	o.depth_max = 0;
	is_int(tw_json_to_mp("1", 1, &w, &o, NULL), 0, "depth 0: scalar");
	is_int(tw_json_to_mp("[]", 2, &w, &o, NULL), TW_EDEPTH,
	    "depth 0: no container");
	free(deep);
	tw_buf_cleanup(&b);

	tw_json_opts_default(&o);
	o.count_max = 3;
	tw_buf_init(&b, 1024);
	is_int(convert("[1,2,3]", &o, &b), 0, "3 elements");
	is_int(convert("[1,2,3,4]", &o, &b), TW_ELIMIT, "4 elements");
	is_int(convert("{\"a\":1,\"b\":2,\"c\":3}", &o, &b), 0, "3 pairs");
	is_int(convert("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", &o, &b),
	    TW_ELIMIT, "4 pairs");
	is_int(convert("[[1,2,3],{\"a\":[1,2,3]}]", &o, &b), 0,
	    "the count is per container");
	tw_json_opts_default(&o);
	o.max_bytes = 4;
	is_int(convert("[1,2]", &o, &b), TW_ETOOBIG, "input over max_bytes");
	is_int(convert("[12]", &o, &b), 0, "input at max_bytes");
	tw_buf_cleanup(&b);

	/* The output ceiling: an error leaves what was there. */
	tw_buf_init(&b, 16);
	ok(tw_buf_add(&b, "\x01\x02", 2) == 0, "prefill");
	tw_mpw_init(&w, &b);
	is_int(tw_json_to_mp("[\"0123456789abcdef\"]", 20, &w, NULL, NULL),
	    TW_ETOOBIG, "output past the ceiling");
	ok(b.len == 2 && memcmp(b.data, "\x01\x02", 2) == 0,
	    "buffer as it was");
	is_int(tw_json_to_mp("1", 1, &w, NULL, NULL), TW_ETOOBIG,
	    "a writer's error sticks");
	tw_buf_cleanup(&b);
}

static void
test_compact(void)
{
	static const uint8_t want[] = { 0x01, 0x82, 0xa1, 'a', 0x92, 0x01,
		0x02, 0xa1, 'b', 0x80 };
	struct tw_json_opts o;
	struct tw_buf b, j1, j2;
	struct tw_mp_reader r;
	struct tw_mpw w;
	char *big;
	size_t n;

	tw_buf_init(&b, 1 << 24);
	ok(tw_buf_add(&b, "\x01", 1) == 0, "prefill");
	tw_mpw_init(&w, &b);
	ok(tw_json_to_mp("{\"a\":[1,2],\"b\":{}}", 18, &w, NULL, NULL) == 0 &&
	    b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0,
	    "compacted to the shortest headers, after what was there");
	tw_buf_reset(&b);
	tw_json_opts_default(&o);
	o.compact = false;
	ok(convert("{\"a\":[1,2],\"b\":{}}", &o, &b) == 0 && b.len == 21 &&
	    (uint8_t)b.data[0] == 0xdf && (uint8_t)b.data[7] == 0xdd,
	    "not compacted: 32-bit headers");
	tw_buf_reset(&b);

	/* 16 and 70 000 elements: array16 and array32 headers. */
	n = 70000;
	big = malloc(2 * n + 64);
	big[0] = '[';
	for (size_t i = 0; i < n; i++) {
		big[1 + 2 * i] = (char)('0' + i % 10);
		big[2 + 2 * i] = ',';
	}
	big[2 * n] = ']';
	tw_json_opts_default(&o);
	o.count_max = 100000;
	tw_mpw_init(&w, &b);
	ok(tw_json_to_mp(big, 2 * n + 1, &w, &o, NULL) == 0 &&
	    (uint8_t)b.data[0] == 0xdd && b.len == 5 + n,
	    "70 000 elements keep an array32 header");
	tw_buf_reset(&b);
	memcpy(big, "{\"x\":[", 6);
	for (size_t i = 0; i < 16; i++)
		memcpy(big + 6 + 2 * i, "1,", 2);
	memcpy(big + 6 + 31, "]}", 3);
	ok(convert(big, NULL, &b) == 0 && (uint8_t)b.data[0] == 0x81 &&
	    (uint8_t)b.data[3] == 0xdc && b.data[4] == 0 && b.data[5] == 16,
	    "16 elements: array16");
	free(big);

	/* compact or not, the JSON read back is the same */
	{
		const char *t = "{\"a\":{\"b\":[[],[{}],{\"c\":[1,2,3,"
		    "\"x\"]}],\"d\":\"\\u00e9\"},\"e\":[null,true,1.5]}";
		tw_buf_init(&j1, 4096);
		tw_buf_init(&j2, 4096);
		tw_buf_reset(&b);
		convert(t, NULL, &b) == 0 ? (void)0 : (void)0;
		tw_mp_reader_init(&r, b.data, b.len);
		ok(tw_json_from_mp(&j1, &r, NULL, 0) == 0, "render compact");
		tw_buf_reset(&b);
		ok(convert(t, &o, &b) == 0, "convert");
		tw_buf_reset(&b);
		o.compact = false;
		ok(convert(t, &o, &b) == 0, "convert without compaction");
		tw_mp_reader_init(&r, b.data, b.len);
		ok(tw_json_from_mp(&j2, &r, NULL, 0) == 0 &&
		    strcmp(j1.data, j2.data) == 0,
		    "same JSON with or without compaction");
		tw_buf_cleanup(&j1);
		tw_buf_cleanup(&j2);
	}
	tw_buf_cleanup(&b);
}

struct seen {
	struct tw_buf log;
	int calls;
};

static void
on_top(void *arg, const char *key, size_t klen, const struct tw_mp_obj *v)
{
	struct seen *s = arg;
	struct tw_mp_reader r;
	struct tw_buf one;
	struct tw_mpw w;

	s->calls++;
	tw_buf_init(&one, 1024);
	tw_mpw_init(&w, &one);
	switch (v->type) {
	case TW_MP_NIL:
		tw_mpw_nil(&w);
		break;
	case TW_MP_BOOL:
		tw_mpw_bool(&w, v->v.b);
		break;
	case TW_MP_UINT:
		tw_mpw_uint(&w, v->v.u);
		break;
	case TW_MP_INT:
		tw_mpw_int(&w, v->v.i);
		break;
	case TW_MP_FLOAT:
		tw_mpw_double(&w, v->v.f);
		break;
	case TW_MP_STR:
		tw_mpw_str(&w, v->v.s.p, v->v.s.len);
		break;
	default:
		tw_mpw_cstr(&w, "?!");
		break;
	}
	tw_mp_reader_init(&r, one.data, one.len);
	if (tw_json_add_string(&s->log, key, klen) != 0 ||
	    tw_buf_addc(&s->log, '=') != 0 ||
	    tw_json_from_mp(&s->log, &r, NULL, 0) != 0 ||
	    tw_buf_addc(&s->log, ' ') != 0)
		s->calls += 1000;
	tw_buf_cleanup(&one);
}

static int
write_x(void *arg, struct tw_mpw *w, const char *key, size_t klen,
    const struct tw_mp_obj *v)
{
	(void)arg;
	(void)v;
	if (klen == 1 && key[0] == 'k') {
		tw_mpw_cstr(w, "X");
		return 1;
	}
	if (klen == 3 && memcmp(key, "bad", 3) == 0)
		return TW_EINVAL;
	return 0;
}

static void
test_hooks(void)
{
	const char *t = "{\"level\":\"WARN\",\"msg\":\"hi\\nthere\",\"n\":5,"
	    "\"i\":-7,\"f\":1.5,\"b\":true,\"z\":null,\"obj\":{\"level\":"
	    "\"no\"},\"arr\":[1,\"no\"],\"esc\\u0041\":\"\\ud800x\",\"k\":1}";
	struct tw_json_opts o;
	struct tw_buf b, j;
	struct tw_mp_reader r;
	struct seen s;
	char *why = NULL;

	tw_json_opts_default(&o);
	tw_buf_init(&s.log, 4096);
	s.calls = 0;
	o.on_top_scalar = on_top;
	o.arg = &s;
	tw_buf_init(&b, 4096);
	ok(convert(t, &o, &b) == 0, "convert with on_top_scalar");
	is_str(s.log.data, "\"level\"=\"WARN\" \"msg\"=\"hi\\nthere\" "
	    "\"n\"=5 \"i\"=-7 \"f\"=1.5 \"b\"=true \"z\"=null "
	    "\"escA\"=\"\xef\xbf\xbdx\" \"k\"=1 ",
	    "on_top_scalar saw the top-level scalars, decoded");
	is_int(s.calls, 9, "one call each");
	ok(convert("[{\"a\":1}]", &o, &b) == 0 && s.calls == 9,
	    "no calls for an array at the top");
	tw_buf_cleanup(&s.log);

	tw_json_opts_default(&o);
	o.top_scalar_write = write_x;
	tw_buf_reset(&b);
	tw_buf_init(&j, 4096);
	ok(convert("{\"a\":1,\"k\":2,\"m\":{\"k\":3}}", &o, &b) == 0,
	    "convert with top_scalar_write");
	tw_mp_reader_init(&r, b.data, b.len);
	ok(tw_json_from_mp(&j, &r, NULL, 0) == 0 &&
	    strcmp(j.data, "{\"a\":1,\"k\":\"X\",\"m\":{\"k\":3}}") == 0,
	    "top_scalar_write replaced the top-level k only: %s", j.data);
	tw_buf_reset(&b);
	{
		struct tw_mpw w;
		tw_mpw_init(&w, &b);
		is_int(tw_json_to_mp("{\"a\":1,\"bad\":2}", 15, &w, &o, &why),
		    TW_EINVAL, "top_scalar_write's error stops the conversion");
	}
	ok(why != NULL && strstr(why, "\"bad\"") != NULL,
	    "why names the key: %s", why != NULL ? why : "(null)");
	free(why);
	is_int(b.len, 0, "nothing left behind");
	tw_buf_cleanup(&j);
	tw_buf_cleanup(&b);
}

/*
 * What the converter's fast path leaves to yajl comes out the same: more
 * top-level scalars than it keeps, \v and \f as whitespace, output that
 * fits compacted but not with yajl's 5-byte headers; and numbers near
 * the edges of its exact-double shortcut read back as strtod reads them.
 */
static void
test_fast_path(void)
{
	static const char *nums[] = {
		"0.1", "-0.0", "1e22", "1e23", "1e-22", "1e-23", "123.456e-7",
		"9007199254740992.0", "9007199254740993.0", "4.9e-324",
		"1.7976931348623157e308", "0.30000000000000004",
		"-9223372036854775809", "12345678901234567890.5",
		"1234567890123456789e-5",
	};
	struct tw_json_opts o;
	struct tw_buf b, big;
	struct tw_mp_obj v;
	struct tw_mpw w;
	struct seen s;
	char *got;
	int rc;

	tw_json_opts_default(&o);
	tw_buf_init(&s.log, 1 << 16);
	s.calls = 0;
	o.on_top_scalar = on_top;
	o.arg = &s;
	tw_buf_init(&b, 1 << 16);
	tw_buf_init(&big, 1 << 16);
	rc = tw_buf_addc(&big, '{');
	for (int i = 0; i < 70 && rc == 0; i++)
		rc = tw_buf_addf(&big, "%s\"k%d\":%d", i > 0 ? "," : "", i, i);
	ok(rc == 0 && tw_buf_addc(&big, '}') == 0 &&
	    convert(big.data, &o, &b) == 0, "70 top-level scalars");
	is_int(s.calls, 70, "each seen once");
	ok(strncmp(s.log.data, "\"k0\"=0 \"k1\"=1 ", 14) == 0 &&
	    strstr(s.log.data, "\"k69\"=69 ") != NULL, "in order");
	tw_buf_cleanup(&s.log);
	tw_buf_cleanup(&big);

	check_rt("{\v\"a\"\f:\t1 }\f", "{\"a\":1}", "\\v and \\f are blanks");

	/* 5 bytes compacted, 13 with 32-bit headers: yajl's ceiling holds. */
	tw_buf_init(&big, 8);
	tw_mpw_init(&w, &big);
	is_int(tw_json_to_mp("{\"a\":[1]}", 9, &w, NULL, NULL), TW_ETOOBIG,
	    "ceiling met as with 32-bit headers");
	is_int(big.len, 0, "nothing left behind");
	tw_buf_cleanup(&big);

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		tw_buf_reset(&b);
		tw_buf_init(&big, 64);
		ok(tw_buf_addf(&big, "{\"n\":%s}", nums[i]) == 0 &&
		    convert(big.data, NULL, &b) == 0 &&
		    tw_mp_path(b.data, b.len, "n", &v) == 0 &&
		    v.type == TW_MP_FLOAT &&
		    memcmp(&v.v.f, &(double){ strtod(nums[i], NULL) }, 8) == 0,
		    "%s reads back as strtod reads it", nums[i]);
		tw_buf_cleanup(&big);
	}
	got = rt("[-9223372036854775808,18446744073709551615,-0,0]", 48, NULL);
	is_str(got, "[-9223372036854775808,18446744073709551615,0,0]",
	    "integers at the edges");
	free(got);
	tw_buf_cleanup(&b);
}

static void
test_big(void)
{
	size_t n = 300000, i;
	char *t = malloc(n + 3), *want = malloc(n + 3), *got;

	/* Long strings with escapes outgrow yajl's arena buffer. */
	t[0] = '"';
	for (i = 1; i + 1 < n; i += 2)
		memcpy(t + i, "\\n", 2);
	t[i] = '"';
	t[i + 1] = '\0';
	got = rt(t, i + 1, NULL);
	ok(got != NULL && strcmp(got, t) == 0, "150 000 escapes round-trip");
	free(got);
	/* ... and with a lone surrogate, through the re-decoding path */
	memcpy(t + 1, "\\ud800", 6);
	memcpy(want, t, i + 2);
	got = rt(t, i + 1, NULL);
	ok(got != NULL && memcmp(got, "\"\xef\xbf\xbd\\n", 6) == 0 &&
	    strcmp(got + 4, t + 7) == 0, "long string with a surrogate");
	free(got);
	/* a long number goes through the heap copy for strtod */
	t[0] = '1';
	memset(t + 1, '0', 300);
	memcpy(t + 301, ".5", 3);
	got = rt(t, 303, NULL);
	is_str(got, "1e+300", "303-character number");
	free(got);
	free(t);
	free(want);
}

static const struct {
	double v;
	const char *repr;
} floats[] = {
	/* python3: (f.hex(), repr(f)) */
	{ 0x0.0p+0, "0.0" },
	{ -0x0.0p+0, "-0.0" },
	{ 0x1.0000000000000p+0, "1.0" },
	{ -0x1.0000000000000p+0, "-1.0" },
	{ 0x1.9000000000000p+6, "100.0" },
	{ 0x1.c6bf526340000p+49, "1000000000000000.0" },
	{ 0x1.1c37937e08000p+53, "1e+16" },
	{ 0x1.aa535d3d0c000p+53, "1.5e+16" },
	{ 0x1.b69b4ba630f35p+56, "1.2345678901234568e+17" },
	{ 0x1.999999999999ap-4, "0.1" },
	{ 0x1.a36e2eb1c432dp-14, "0.0001" },
	{ 0x1.4f8b588e368f1p-17, "1e-05" },
	{ 0x1.421f5f40d8376p-23, "1.5e-07" },
	{ 0x0.0000000000001p-1022, "5e-324" },
	{ 0x1.fffffffffffffp+1023, "1.7976931348623157e+308" },
	{ 0x1.4000000000000p+1, "2.5" },
	{ -0x1.e000000000000p+1, "-3.75" },
	{ 0x1.a8b3333333333p+7, "212.35" },
	{ 0x1.5555555555555p-2, "0.3333333333333333" },
	{ 0x1.5555555555555p-1, "0.6666666666666666" },
	{ 0x1.0f0cf064dd592p+73, "1e+22" },
	{ 0x1.0000000000000p+53, "9007199254740992.0" },
	{ 0x1.3333333333334p-2, "0.30000000000000004" },
	{ 0x1.18b54f22aeb03p+50, "1234567890123456.8" },
	{ 0x1.c6bf52633ffffp+49, "999999999999999.9" },
	{ 0x1.a36e2eb1c432dp-14, "0.0001" },
	{ 0x1.f333333333333p+1, "3.9" },
	{ 0x1.b4bc6a7ef9db2p+1, "3.412" },
	{ 0x1.0000000000000p-1022, "2.2250738585072014e-308" },
	{ 0x1.249ad2594c37dp+332, "1e+100" },
	{ 0x1.edd2f1a9fbe77p+6, "123.456" },
	{ -0x1.b7cdfd9d7bdbbp-34, "-1e-10" },
	{ 0x1.0000000000000p+52, "4503599627370496.0" },
	{ 0x1.1c37937e08000p+53, "1e+16" },
	{ 0x1.b1ae4d6e2ef50p+69, "1e+21" },
	{ 0x1.56a95319d63e1p+63, "1.2345678901234567e+19" },
	{ 0x1.0000000000000p-1, "0.5" },
	{ 0x1.ad7f29abcaf48p-24, "1e-07" },
	{ 0x1.34323358f2e06p+0, "1.203891" },
	{ -0x1.74de452e6b438p+811, "-1.989032661366619e+244" },
	{ 0x1.3270e269e0d37p+594, "7.761117632285041e+178" },
	{ 0x1.c7fd0a6a3a450p-826, "3.980498358697587e-249" },
	{ -0x1.f0824128b2f33p+292, "-1.5432835417340557e+88" },
	{ 0x1.8e811892f902bp-638, "1.3647584518757569e-192" },
	{ -0x1.1985d5d9dc9f8p-684, "-1.3701135617873088e-206" },
	{ -0x1.25d940ed90475p+655, "-1.7160537630466207e+197" },
	{ 0x1.675cc81e74ef5p-144, "6.294675241195386e-44" },
	{ 0x1.0a35a099950d8p-671, "1.0613447212142254e-202" },
	{ 0x1.d549b6f03675ap+689, "4.708325160387546e+207" },
	{ 0x1.c172411e20b8fp-38, "6.387016158513563e-12" },
	{ -0x1.16ece1738f7d9p-814, "-9.973130378568733e-246" },
	{ 0x1.1ddb66cad4a26p-781, "8.779753225680271e-236" },
	{ -0x1.192cfd3ac94afp-755, "-5.795503248498993e-228" },
	{ -0x1.c105d1fb17c23p+809, "-5.988180159386011e+243" },
	{ -0x1.0b33839263059p-488, "-1.306052388527796e-147" },
	{ -0x1.f48f1a09f76b5p-684, "-2.436117699484841e-206" },
	{ 0x1.630f1f29d0da9p-770, "2.233386999150174e-232" },
	{ -0x1.60af593bd04cfp-673, "-3.51527970626667e-203" },
	{ 0x1.1e29c658cda14p-820, "1.5987381841032883e-247" },
	{ 0x1.8d190f9ebdaccp-118, "4.6678633181812096e-36" },
	{ -0x1.1973e0becd7b0p-791, "-8.441872792105456e-239" },
	{ 0x1.7beaddbc496cbp-478, "1.9015657400796622e-144" },
	{ 0x1.cb2424a23d596p+693, "7.370437700706684e+208" },
	{ -0x1.a63ec24ede6a4p-857, "-1.7163996725272777e-258" },
	{ -0x1.766581e27a1c0p-733, "-3.2367190832119987e-221" },
	{ -0x1.d05584ef8aa38p-777, "-2.2818334634712625e-234" },
	{ -0x1.7ba94d0eda82fp-278, "-3.0536383926309363e-84" },
	{ 0x1.1dbe22e44158bp-601, "1.3449551894627777e-181" },
	{ -0x1.a736994e3bf91p-732, "-7.317495976062606e-221" },
	{ 0x1.850c5a38fd547p-254, "5.249822308814304e-77" },
	{ 0x1.135d25f557203p-624, "1.5450754142984396e-188" },
	{ -0x1.ce4228c38fb29p-155, "-3.953625698224792e-47" },
	{ -0x1.a70c31012f037p-760, "-2.72491267476498e-229" },
	{ -0x1.769b10f4205b4p-536, "-6.505141861548772e-162" },
	{ 0x1.5052434b9b5dfp+1010, "1.441484839555994e+304" },
	{ -0x1.ed162ae2eb154p-894, "-1.4583679262758548e-269" },
	{ -0x1.877186d76b07ep+112, "-7.939416668807721e+33" },
	{ 0x1.1af10506bf2efp+884, "1.4255183989699612e+266" },
	{ -0x1.6a78795e761d1p+711, "-1.525315701232403e+214" },
	{ 0x1.0a9587403e430p+458, "7.750545741548908e+137" },
	{ 0x1.8e2774cbd87adp-6, "0.024301399287089676" },
	{ 0x1.5319acb5c7427p-287, "5.326960081783017e-87" },
	{ -0x1.2ea20b2f14c94p+123, "-1.2570882301712172e+37" },
	{ 0x1.4733f3e7d1bfbp-688, "9.952684009002448e-208" },
	{ 0x1.d2055930d6eafp+206, "1.8721667527122837e+62" },
	{ 0x1.ff20686734721p+1004, "3.422978398947072e+302" },
	{ 0x1.e05cde00902c7p+383, "3.6967297937384553e+115" },
	{ 0x1.6cc3ababced20p+815, "3.113284956169447e+245" },
	{ -0x1.4bcfc49b64a08p-577, "-2.6202582260546103e-174" },
	{ 0x1.d4acefaecbd38p-724, "2.0745096302730225e-218" },
	{ -0x1.e07bc1e398f10p-975, "-5.877500503097409e-294" },
	{ 0x1.af4d46b0a18e8p-348, "2.938345597354166e-105" },
	{ 0x1.0f82ec1d3fcffp+378, "6.529598674765832e+113" },
	{ -0x1.acbe226e87555p+751, "-1.9837344250050814e+226" },
	{ 0x1.46c697d2caf82p+704, "1.0743030475716402e+212" },
	{ -0x1.6e1f40a097c97p+869, "-5.629271400715247e+261" },
	{ 0x1.eef86ab1031d0p-706, "5.743310614918485e-213" },
	{ -0x1.e0d7ac3baea9ep-786, "-4.61515470702556e-237" },
	{ -0x1.2135e92b1d3f2p+161, "-3.302201168194502e+48" },
	{ -0x1.f9acae01f5057p+280, "-3.8373366379117136e+84" },
	{ 0x1.242425051c1ccp+370, "2.7444240984593666e+111" },
	{ 0x1.54a7bb1fee08fp+411, "7.037254769664525e+123" },
	{ 0x1.6144b98289fcdp+1011, "3.0282415270685036e+304" },
	{ -0x1.11cdd9474031bp+193, "-1.3427313830183207e+58" },
	{ 0x1.a72d174c9df6ap-742, "7.145365052251808e-224" },
	{ 0x1.5e837d70820fep-640, "3.0010119427191346e-193" },
	{ 0x1.abd81f1d69ed6p+82, "8.08174890787967e+24" },
	{ -0x1.15945795e8229p-216, "-1.029599445714058e-65" },
	{ 0x1.3d6b2aa05e11ap-757, "1.6356324386913733e-228" },
	{ -0x1.d420f0f88080bp-77, "-1.210084267904234e-23" },
	{ 0x1.26dcbb394fb36p+245, "6.512205859834416e+73" },
	{ -0x1.448b3a5aa3c81p-704, "-1.5063173670565552e-212" },
	{ -0x1.58f33fe3b890bp-281, "-3.468068334360956e-85" },
	{ 0x1.58370d269a9a5p+802, "3.5862982565236525e+241" },
	{ -0x1.4eb5248db40afp-136, "-1.500880737539812e-41" },
	{ -0x1.5128862c33a4fp+562, "-1.9881605394901064e+169" },
	{ 0x1.5563dab2cd31ep+398, "8.608929980762736e+119" },
	{ -0x1.e583505c6af07p+781, "-2.412056419517317e+235" },
	{ 0x1.fb2297631a992p+432, "2.1970596639628e+130" },
	{ -0x1.539382b0537e6p-569, "-6.864829614150003e-172" },
	{ 0x1.2aa0a1df9fd78p+999, "6.249646571111859e+300" },
	{ 0x1.c76fb0f17a300p-130, "1.3070380624806793e-39" },
	{ 0x1.52399c4aaeac1p+154, "3.0170681842882087e+46" },
	{ -0x1.561e6211c70cfp-47, "-9.495701001087435e-15" },
	{ 0x1.c9f503f63af83p+606, "4.750750204750985e+182" },
	{ -0x1.477d26415479cp+684, "-1.0267710304426359e+206" },
	{ 0x1.b103cdf1582b0p+1010, "1.8559166032057722e+304" },
	{ 0x1.6fb1a14a0f9e7p-342, "1.6032007377980954e-103" },
	{ 0x1.2287672fdf202p+622, "1.9751801151887592e+187" },
	{ 0x1.0771f8ca81811p+115, "4.274642804177215e+34" },
	{ 0x1.d977ee2257159p-463, "7.765387138513795e-140" },
	{ 0x1.6aab0d1bc52d9p+740, "8.193439767873551e+222" },
	{ -0x1.b305fdd2e1609p-818, "-9.721565446084252e-247" },
	{ -0x1.66a3a47469a4dp-178, "-3.6566096214330605e-54" },
	{ -0x1.91b4a6a50df4dp+969, "-7.829495745681799e+291" },
	{ -0x1.6f0245bd86d40p-275, "-2.361499160522349e-83" },
	{ 0x1.499c9e25a7605p+535, "1.448139668433268e+161" },
	{ 0x1.287fff52ddf5dp-78, "3.8321725482165366e-24" },
	{ 0x1.e7c2a26a2c0bdp-684, "2.373829056313949e-206" },
	{ 0x1.b7dbd2d1c9af0p-404, "4.1586747791282524e-122" },
	{ -0x1.48c893b618676p-374, "-3.337733639824717e-113" },
	{ 0x1.6909e3bbbe9eap-974, "8.832790543982714e-294" },
	{ -0x1.28c2e7c26847fp+333, "-2.0284108606212458e+100" },
	{ 0x1.e05cf96d0cc5fp-277, "7.7271785554382585e-84" },
	{ 0x1.c9cbc43435cc5p+131, "4.868121678598285e+39" },
	{ 0x1.b0c4e010c4759p-427, "4.877621251706118e-129" },
	{ -0x1.af4016b4013efp-882, "-5.224362650831876e-266" },
	{ -0x1.caaf75e8766edp-574, "-2.8977267740353203e-173" },
	{ 0x1.088f590fbbd11p+282, "8.030506098092244e+84" },
	{ 0x1.03626f3fe39c0p-509, "6.045556425707975e-154" },
	{ -0x1.4a8b2b0c4312dp+448, "-9.38484012349791e+134" },
	{ -0x1.1e07a83f73f16p+821, "-1.5624204901097633e+247" },
	{ -0x1.be1c29e1a8ef4p-389, "-1.3820816268679183e-117" },
	{ -0x1.28881ad1b72dbp-41, "-5.267460409693142e-13" },
	{ 0x1.69a5d0dd27a65p+847, "1.3257208647146701e+255" },
	{ -0x1.88334e647cb8fp+496, "-3.1343387564175544e+149" },
	{ -0x1.ed0b6c7ac1491p+827, "-1.7236642596087033e+249" },
	{ -0x1.a2b7fdfe01893p-284, "-5.26215508230537e-86" },
	{ -0x1.c6ec8cc4169a3p-781, "-1.3972441246414233e-235" },
	{ 0x1.7e4236472f1a3p+607, "7.930940904982885e+182" },
	{ 0x1.50cad66237a04p+591, "1.0662269838816983e+178" },
	{ 0x1.5145c1a81682cp+949, "6.269123622077618e+285" },
	{ 0x1.36886a260cd0bp+617, "6.597432204635068e+185" },
	{ 0x1.bc97d0fef7928p-243, "1.2286657182299287e-73" },
	{ -0x1.32d0d113db17dp+962, "-4.671898820796292e+289" },
	{ 0x1.cec313571810ap+781, "2.2990284766219708e+235" },
	{ 0x1.442f9298cb3a5p-573, "4.0960622500000236e-173" },
	{ -0x1.94309570dc195p-611, "-1.8578815093690756e-184" },
	{ 0x1.58ca00d75985dp-604, "2.028598735161868e-182" },
	{ -0x1.8bb16000f49c8p-750, "-2.6098858497543247e-226" },
	{ -0x1.fd7b326b94c7fp-874, "-1.5800543282391385e-263" },
	{ -0x1.e4e4519f9919cp+815, "-4.138580468110595e+245" },
	{ -0x1.de2a05d158a2fp-558, "-1.979700384530873e-168" },
	{ 0x1.0339d068739fap-735, "5.602624368784844e-222" },
	{ 0x1.c631cdfd43f37p-172, "2.9637577225244357e-52" },
	{ 0x1.0914a9d33a01cp+518, "8.885378326057658e+155" },
	{ -0x1.8aa872607679dp-473, "-6.321104805376388e-143" },
	{ -0x1.98d7c4093f6dep+842, "-4.683524268002167e+253" },
	{ -0x1.ef80f58ee8571p-605, "-1.4576712926495294e-182" },
	{ 0x1.1fd925d39d0a8p+919, "4.982985442018492e+276" },
	{ 0x1.7cec31f7296abp-551, "2.018688023533605e-166" },
	{ 0x1.20724d953ee26p+976, "7.19616430630608e+293" },
	{ -0x1.29ba3fe3bfadap+934, "-1.6888652122551737e+281" },
	{ 0x1.b2c68774b15d7p+944, "2.5254629938390568e+284" },
	{ 0x1.58dbe7bdc968bp+254, "3.899603970996924e+76" },
	{ 0x1.4e25a15fc899ep-433, "5.884498686465263e-131" },
	{ -0x1.aa1551a28f7b3p-1, "-0.8321939001977995" },
	{ -0x1.7a86557b6fb7ep-39, "-2.6895800563014877e-12" },
	{ 0x1.6f7a243c71b9ap+937, "1.667616833822443e+282" },
	{ -0x1.aa1f6d42fddbbp-237, "-7.536779240929748e-72" },
	{ -0x1.e7fc229540a6ep-957, "-1.564806243429316e-288" },
	{ 0x1.8f87605e999f3p-183, "1.2729722444358082e-55" },
	{ -0x1.7a50df373ca53p+828, "-2.6451545124100877e+249" },
	{ 0x1.bcf35873be078p+458, "1.2936292141064353e+138" },
	{ -0x1.844e52587be6bp-245, "-2.6827804666270476e-74" },
	{ -0x1.575438b0d590bp+673, "-5.256027060419438e+202" },
	{ -0x1.5a82a06ec41adp+34, "-23253909947.064137" },
	{ 0x1.f9b0687322e25p+197, "3.967827360139949e+59" },
	{ -0x1.636a2fa7f0eabp-438, "-1.9559485635143812e-132" },
	{ 0x1.c77a2dd02de92p-651, "1.9041429903692674e-196" },
	{ -0x1.f40f6b239f3c7p+391, "-9.851688112218029e+117" },
	{ -0x1.5a81842d87208p-948, "-5.688985253318455e-286" },
	{ -0x1.3a1d45de00997p+649, "-2.866256113753001e+195" },
	{ 0x1.ee76f2ac34446p+433, "4.284334760083779e+130" },
	{ 0x1.8f227c59db916p-111, "6.0055116385069545e-34" },
	{ -0x1.4248c8857f9a4p-853, "-2.0961043337155302e-257" },
	{ -0x1.0c08bc7702420p-1012, "-2.3855829055394437e-305" },
	{ -0x1.ddbbd5464ecc2p-465, "-1.9588354272108557e-140" },
	{ -0x1.c865239194242p-560, "-4.7239295389576093e-169" },
	{ -0x1.488b1cfbf3360p+158, "-4.689128253227445e+47" },
	{ -0x1.16b02fc241d0bp+35, "-37404900882.056725" },
	{ 0x1.51707da45e18ap-224, "4.8891889123485164e-68" },
	{ 0x1.882a5ce5b2a92p-43, "1.7415645814351736e-13" },
	{ 0x1.34036d17e4497p+618, "1.3087808816820187e+186" },
	{ -0x1.6c6fdbd685167p+219, "-1.1993653182754763e+66" },
	{ 0x1.dd3313a0b9965p-205, "3.62502428300625e-62" },
	{ 0x1.6f36a8483f8b8p+995, "4.8031302683796236e+299" },
	{ -0x1.313f55b06258ep-77, "-7.890460386087061e-24" },
	{ -0x1.6a926076b3e36p+982, "-5.789083059546687e+295" },
	{ -0x1.4eb860726e25cp+165, "-6.114926900127176e+49" },
	{ 0x1.4b98d4787f93bp+911, "2.2423152312153185e+274" },
	{ 0x1.2b70442594052p-230, "6.779048301501982e-70" },
	{ -0x1.a6429b1491e24p-593, "-5.088065966122347e-179" },
	{ 0x1.2cb77f4de2c08p+387, "3.7027639610999215e+116" },
	{ -0x1.e2a1f727d8349p+240, "-3.331008319093603e+72" },
	{ -0x1.ee9e5efe09f07p-110, "-1.4884388187324959e-33" },
	{ 0x1.a1ecffcf00fecp+408, "1.0791887901409966e+123" },
	{ -0x1.9d04af47aebddp+920, "-1.4299647765176006e+277" },
	{ 0x1.e259b5d58c705p-694, "2.2924808400735589e-209" },
	{ 0x1.6f88938703800p-605, "1.0812088444412107e-182" },
	{ 0x1.729763a12917cp+902, "4.894534771866121e+271" },
	{ 0x1.5f6ad325b55ddp+360, "3.223900221186047e+108" },
	{ 0x1.f2ab53451d013p+953, "1.4830591812993337e+287" },
	{ -0x1.947249fc2d0a1p+964, "-2.4634109827844716e+290" },
	{ -0x1.a23cde67a9b75p-572, "-1.0568802049276326e-172" },
	{ 0x1.d1034d726c86bp-1016, "2.5867201219109653e-306" },
	{ -0x1.147437abec539p+653, "-4.036175494637978e+196" },
	{ 0x1.0d60ea72991b9p+386, "1.658446308654235e+116" },
	{ -0x1.45effccb573d9p-437, "-3.5874527890711494e-132" },
	{ -0x1.957d600000000p+19, "-830443.0" },
	{ 0x1.902c48ccccccdp+19, "819554.275" },
	{ -0x1.573d051eb851fp+15, "-43934.51" },
	{ -0x1.021aec9ba5e35p+17, "-132149.8485" },
	{ -0x1.9390891bef49dp+19, "-826500.28466" },
	{ -0x1.1fcee66666666p+16, "-73678.9" },
	{ 0x1.b70f551eb851fp+18, "449597.33" },
	{ 0x1.e18e200000000p+19, "986225.0" },
	{ -0x1.54ac532cf312bp+19, "-697698.599237" },
	{ 0x1.2b517eb851eb8p+19, "613003.96" },
	{ 0x1.b3d55653c9ce1p+17, "223146.674432016" },
	{ 0x1.d50c7c6167232p+19, "960611.88689" },
	{ -0x1.5005e4c0d05f8p+19, "-688175.14853686" },
	{ -0x1.685e000000000p+19, "-738032.0" },
	{ 0x1.2457400000000p+19, "598714.0" },
	{ 0x1.9f542e147ae14p+15, "53162.09" },
	{ -0x1.028e9020c49bap+17, "-132381.126" },
	{ 0x1.3e82d020c49bap+19, "652310.504" },
	{ -0x1.ccf191916872bp+19, "-944012.549" },
	{ -0x1.945cac7ae147bp+18, "-414066.695" },
	{ 0x1.017ff2342edbbp+19, "527359.56887" },
	{ -0x1.d5fd9a3497b74p+18, "-481270.40946" },
	{ 0x1.465cc00000000p+19, "668390.0" },
	{ 0x1.9068439aaa3adp+19, "820034.11263" },
	{ 0x1.84620013bb882p+19, "795408.002408758" },
	{ 0x1.33a9c21323486p+19, "630094.06483616" },
	{ -0x1.360bbab2cf8b2p+17, "-158743.45858187" },
	{ -0x1.68952f5c28f5cp+19, "-738473.48" },
	{ 0x1.6f4a000000000p+15, "47013.0" },
	{ 0x1.6c11666666666p+19, "745611.2" },
	{ 0x1.a80aa3d70a3d7p+17, "217109.28" },
	{ -0x1.3ff9526b18472p+19, "-655306.5755731" },
	{ 0x1.d13d400000000p+17, "238202.5" },
	{ 0x1.b9373ff2e48e9p+16, "112951.2498" },
	{ 0x1.641daeafc0cd6p+18, "364662.72947712" },
	{ 0x1.b123b33333333p+16, "110883.7" },
	{ 0x1.763f000000000p+19, "766456.0" },
	{ -0x1.eb38d6e7d566dp+18, "-503011.3579" },
	{ -0x1.bf12466666666p+19, "-915602.2" },
	{ 0x1.e21fde619fad3p+13, "15427.98358464" },
	{ -0x1.cd11900000000p+19, "-944268.5" },
	{ -0x1.bb5f367d04962p+16, "-113503.212845122" },
	{ 0x1.ce44101b7888fp+19, "946720.503353374" },
	{ 0x1.7c0bc793dd97fp+14, "24322.9449" },
	{ -0x1.744c6a5c40f39p+16, "-95308.41547018" },
	{ 0x1.2c2889236aa36p+19, "614724.28557331" },
	{ 0x1.af274829973dap+19, "883002.255077" },
	{ 0x1.6fb5ded5cfaadp+19, "753070.9636" },
	{ 0x1.9ce00da9fbe77p+19, "845568.427" },
	{ 0x1.4c07f23d70a3dp+19, "679999.57" },
	{ -0x1.45a2f18a65493p+17, "-166725.887036" },
	{ -0x1.c433ccccccccdp+16, "-115763.8" },
	{ 0x1.4e49b9399b2c4p+18, "342310.894141" },
	{ -0x1.a0dfceea4a8c1p+19, "-853758.4661" },
	{ 0x1.154800f5c28f6p+19, "567872.03" },
	{ 0x1.ad342a25aee63p+19, "879009.3171" },
	{ -0x1.5ca7400000000p+19, "-714042.0" },
	{ 0x1.c89632147ae14p+19, "935089.565" },
	{ 0x1.e1cd0cccccccdp+18, "493364.2" },
	{ -0x1.8d6f201287c20p+17, "-203486.2505655" },
	{ -0x1.494d350e56042p+19, "-674409.658" },
	{ -0x1.4a997c2ae8e1dp+19, "-677067.880238" },
	{ 0x1.e27e27330f8c6p+19, "988145.224983" },
	{ -0x1.3a39ed810624ep+18, "-321767.711" },
	{ -0x1.180c99999999ap+18, "-286770.4" },
	{ 0x1.b1e3800000000p+18, "444302.0" },
	{ -0x1.3c722833d8094p+18, "-324040.6281643" },
	{ -0x1.d12c000000000p+16, "-119084.0" },
	{ -0x1.c3c7712cfaca6p+17, "-231310.88418517" },
	{ 0x1.e41712ea93c7ap+17, "247854.14778373" },
	{ 0x1.c1f9acccccccdp+19, "921549.4" },
	{ 0x1.d9b6cf9db22d1p+19, "970166.488" },
	{ 0x1.cca3fcccccccdp+19, "943391.9" },
	{ -0x1.9630aeea4a8c1p+19, "-831877.4661" },
	{ -0x1.c19ef3d70a3d7p+19, "-920823.62" },
	{ -0x1.c058f33333333p+18, "-459107.8" },
	{ 0x1.3848512ca57a8p+19, "639554.5367" },
	{ -0x1.6f642c0db8fb3p+17, "-188104.34416878" },
	{ 0x1.9958e08b74f51p+19, "838343.017023543" },
	{ -0x1.50bf4e6afcce2p+13, "-10775.91329" },
	{ -0x1.90ea800000000p+19, "-821076.0" },
	{ 0x1.2490e3851eb85p+19, "599175.11" },
	{ -0x1.23baf33333333p+17, "-149365.9" },
	{ -0x1.c352400000000p+18, "-462153.0" },
	{ 0x1.0693c0ce703b0p+18, "268879.0126" },
	{ -0x1.96805e5604189p+19, "-832514.948" },
	{ -0x1.a7385cccccccdp+19, "-866754.9" },
	{ -0x1.6924f542c3c9fp+16, "-92452.95805" },
	{ 0x1.e2b878fd1dcd7p+19, "988611.780898" },
	{ 0x1.a0ab522de00d2p+19, "853338.5681" },
	{ 0x1.db67800000000p+17, "243407.0" },
	{ 0x1.a48c1b22d0e56p+15, "53830.053" },
	{ 0x1.abdb7a8f5c28fp+19, "876251.83" },
	{ -0x1.d10c5ae147ae1p+18, "-476209.42" },
	{ -0x1.233df0147ae14p+19, "-596463.5025" },
	{ 0x1.f69f18d81da35p+17, "257342.19409533" },
	{ 0x1.fad520a3d70a4p+18, "518996.51" },
	{ -0x1.a852400000000p+16, "-108626.25" },
	{ -0x1.c032c00000000p+18, "-458955.0" },
	{ 0x1.e2e8c00000000p+19, "988998.0" },
	{ -0x1.af53526fbc732p+101, "-4.271640619879909e+30" },
	{ -0x1.a5ec07c81e280p+82, "-7.969881126483307e+24" },
	{ 0x1.8d1502330e192p+36, "106590905136.88113" },
	{ -0x1.a27baf91679e2p+61, "-3.769361096129103e+18" },
	{ 0x1.ef085ccc3f19ap+67, "2.8536690304711793e+20" },
	{ -0x1.b87a5594d96acp+21, "-3608394.697680315" },
	{ -0x1.f1981a77cb8f0p+127, "-3.3070803993069993e+38" },
	{ 0x1.3df6615018d3ep+28, "333407765.00606143" },
	{ -0x1.9dc9af095d7f5p+74, "-3.053215258904706e+22" },
	{ -0x1.868db11aac108p+91, "-3.7772015225553626e+27" },
	{ -0x1.83d5c03e7fcb1p+50, "-1705716213219116.2" },
	{ -0x1.9d5a3d609c6d6p+48, "-454485879069805.4" },
	{ -0x1.a39c57ded242cp-4, "-0.10244402241109246" },
	{ -0x1.9b51264085c95p+65, "-5.927702536253254e+19" },
	{ -0x1.3ea1bcf215d06p+65, "-4.591968024649117e+19" },
	{ -0x1.8c09280bbfa60p+94, "-3.06417833332531e+28" },
	{ -0x1.072c7fbdd0421p+43, "-9042583744130.064" },
	{ -0x1.0b01acbfa90d2p+48, "-293576797825293.1" },
	{ -0x1.c30dd8b30ba6ep+24, "-29560280.699396543" },
	{ 0x1.0ff7ccedc1c36p-2, "0.2655937214007652" },
	{ 0x1.2d1e27782b9e3p+126, "1.0006354904296721e+38" },
	{ -0x1.d66dada8c6653p+117, "-3.053255081079511e+35" },
	{ 0x1.1dbacfacc5c0ep+61, "2.57362462342959e+18" },
	{ -0x1.078d22dc38305p+54, "-1.8545774934494228e+16" },
	{ -0x1.f104c34187403p+0, "-1.9414789233189829" },
	{ -0x1.01b9ce635ed8dp+104, "-2.0419142000965623e+31" },
	{ -0x1.7207437b4039ap+8, "-370.02837343519207" },
	{ -0x1.d4af5441d9ce3p+21, "-3839466.532153712" },
	{ 0x1.3f17b234b687dp+14, "20421.924029209174" },
	{ 0x1.91782056ccaf1p+48, "441420101373103.06" },
	{ 0x1.7dc0ad459b8f5p+8, "381.7526439194474" },
	{ -0x1.7001f375c9c84p+104, "-2.9156567615472368e+31" },
	{ 0x1.7792762323969p+48, "412945907655574.56" },
	{ -0x1.268626d70fbecp+48, "-323832595812286.75" },
	{ -0x1.80adb0e5af247p+39, "-826090746583.5712" },
	{ 0x1.396e5da04df09p+98, "3.880089282056669e+29" },
	{ 0x1.e90fd5956f4c1p+7, "244.53092638953788" },
	{ 0x1.607833113df0ap-1, "0.6884170492694193" },
	{ -0x1.7d8d30e8920bap+6, "-95.38788188353911" },
	{ -0x1.0697808000c12p+64, "-1.8921733646677254e+19" },
	{ -0x1.6047261b084c7p-6, "-0.021501338207717404" },
	{ -0x1.1a23179ea0233p+98, "-3.4926878685543844e+29" },
	{ -0x1.028636d457a3dp+38, "-277588325653.91" },
	{ 0x1.3a1138cb23be6p+55, "4.420103915555205e+16" },
	{ 0x1.996fd91e8b571p+91, "3.9598307843711554e+27" },
	{ 0x1.1c6c964218a64p+10, "1137.6966710320203" },
	{ 0x1.a521ab64fee0dp-2, "0.41126125148704845" },
	{ 0x1.817baf0388061p+8, "385.48313924857035" },
	{ 0x1.d63514d335f6cp+37, "252440648294.74548" },
	{ -0x1.21eafbd27124fp+6, "-72.47947624984339" },
	{ -0x1.c181bf26ce533p+24, "-29458879.15158577" },
	{ -0x1.a112115c8fe87p+120, "-2.1655542489072465e+36" },
	{ 0x1.aa1e44822d6bfp+15, "54543.13380567496" },
	{ 0x1.eebb204e62760p+40, "2124853300834.461" },
	{ 0x1.70f84327277a2p+78, "4.356026242765099e+23" },
	{ -0x1.12d556401a2a5p-6, "-0.016774496296792524" },
	{ 0x1.70cc8aac222efp+88, "4.4585062243489905e+26" },
	{ 0x1.247555e47eb5ap+23, "9583274.946279217" },
	{ 0x1.d5ccfcbbf8e7fp+73, "1.7332587716250731e+22" },
	{ -0x1.4a78d954d6d71p+64, "-2.3813021988126396e+19" },
};

static void
test_doubles(void)
{
	struct tw_buf b;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i, bad = 0;
	double v, back;

	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		tw_buf_init(&b, 64);
		if (tw_json_add_double(&b, floats[i].v) != 0 ||
		    strcmp(b.data, floats[i].repr) != 0) {
			diag("%a: got %s, want %s", floats[i].v,
			    b.data != NULL ? b.data : "(null)",
			    floats[i].repr);
			bad++;
		}
		tw_buf_cleanup(&b);
	}
	is_int(bad, 0, "%zu doubles render as python's repr()",
	    sizeof(floats) / sizeof(floats[0]));
	bad = 0;
	for (i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		tw_buf_init(&b, 64);
		if (tw_json_add_double(&b, v) != 0 ||
		    (back = strtod(b.data, NULL)) != v ||
		    signbit(back) != signbit(v) ||
		    strpbrk(b.data, ".e") == NULL)
			bad++;
		tw_buf_cleanup(&b);
	}
	is_int(bad, 0, "100 000 random doubles read back exactly");
	tw_buf_init(&b, 64);
	ok(tw_json_add_double(&b, NAN) == 0 && strcmp(b.data, "null") == 0,
	    "NaN is null");
	tw_buf_reset(&b);
	ok(tw_json_add_double(&b, -INFINITY) == 0 &&
	    strcmp(b.data, "null") == 0, "-Inf is null");
	tw_buf_cleanup(&b);
}

static void
test_strings(void)
{
	struct tw_buf b;
	char s[64], want[128];
	bool all = true;

	tw_buf_init(&b, 1024);
	ok(tw_json_add_string(&b, "a\"b\\c\x01\x1f\x7f/", 9) == 0 &&
	    strcmp(b.data, "\"a\\\"b\\\\c\\u0001\\u001f\x7f/\"") == 0,
	    "escapes: %s", b.data);
	tw_buf_reset(&b);
	ok(tw_json_add_string(&b, "\xe9t\xe9 \xff\xfe \xe2\x82", 9) == 0 &&
	    strcmp(b.data, "\"\xef\xbf\xbdt\xef\xbf\xbd \xef\xbf\xbd"
	    "\xef\xbf\xbd \xef\xbf\xbd\"") == 0,
	    "ill-formed UTF-8 becomes U+FFFD per maximal subpart");
	tw_buf_reset(&b);
	ok(tw_json_add_string(&b, "", 0) == 0 && strcmp(b.data, "\"\"") == 0,
	    "empty string");
	tw_buf_cleanup(&b);
	/* every special byte at every offset of a long run (8-byte path) */
	for (size_t at = 0; at < 40; at++) {
		static const char specials[] = "\"\\\n\x01\x80";
		for (size_t k = 0; k < 5; k++) {
			const char *esc[] = { "\\\"", "\\\\", "\\n", "\\u0001",
				"\xef\xbf\xbd" };
			memset(s, 'x', 40);
			s[at] = specials[k];
			snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)at,
			    s, esc[k], (int)(39 - at), s + at + 1);
			tw_buf_init(&b, 1024);
			if (tw_json_add_string(&b, s, 40) != 0 ||
			    strcmp(b.data, want) != 0)
				all = false;
			tw_buf_cleanup(&b);
		}
	}
	ok(all, "each special byte is found at each offset");
	tw_buf_init(&b, 6);
	ok(tw_buf_add(&b, "ab", 2) == 0, "prefill");
	is_int(tw_json_add_string(&b, "\n\n\n", 3), TW_ETOOBIG,
	    "string past the ceiling");
	ok(b.len == 2 && strcmp(b.data, "ab") == 0, "buffer as it was");
	tw_buf_cleanup(&b);
}

static char *
render(const struct tw_buf *mp, unsigned flags, int *err)
{
	struct tw_mp_reader r;
	struct tw_buf out;
	char *s = NULL;

	tw_buf_init(&out, 4096);
	tw_mp_reader_init(&r, mp->data, mp->len);
	if ((*err = tw_json_from_mp(&out, &r, NULL, flags)) == 0)
		s = tw_buf_take(&out, NULL);
	tw_buf_cleanup(&out);
	return s;
}

static void
test_from_mp(void)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_buf b, out;
	struct tw_mpw w;
	char *s;
	int err;

	tw_buf_init(&b, 4096);
	tw_mpw_init(&w, &b);
	tw_mpw_map(&w, 9);
	tw_mpw_cstr(&w, "bin");
	tw_mpw_bin(&w, "\xff\xfe\x00", 3);
	tw_mpw_cstr(&w, "time");
	tw_mpw_timestamp(&w, 1718356867100234567LL);
	tw_mpw_cstr(&w, "neg");
	tw_mpw_timestamp(&w, -1);
	tw_mpw_cstr(&w, "ext");
	tw_mpw_raw(&w, "\xd5\x05\x01\x02", 4);
	tw_mpw_cstr(&w, "f32");
	tw_mpw_raw(&w, "\xca\x3f\xc0\x00\x00", 5);
	tw_mpw_cstr(&w, "nan");
	tw_mpw_double(&w, NAN);
	tw_mpw_cstr(&w, "bad");
	tw_mpw_str(&w, "\xe9t\xe9\x01", 4);
	tw_mpw_cstr(&w, "i");
	tw_mpw_int(&w, INT64_MIN);
	tw_mpw_cstr(&w, "u");
	tw_mpw_uint(&w, UINT64_MAX);
	s = render(&b, 0, &err);
	is_str(s, "{\"bin\":\"//4A\",\"time\":1718356867100234567,\"neg\":-1,"
	    "\"ext\":\"AQI=\",\"f32\":1.5,\"nan\":null,"
	    "\"bad\":\"\xef\xbf\xbdt\xef\xbf\xbd\\u0001\","
	    "\"i\":-9223372036854775808,\"u\":18446744073709551615}",
	    "bin, timestamps, ext, float32, NaN, bad UTF-8, extremes");
	free(s);
	s = render(&b, TW_JSON_TIME_RFC3339, &err);
	ok(s != NULL && strstr(s, "\"time\":\"2024-06-14T09:21:07.100234567Z\","
	    "\"neg\":\"1969-12-31T23:59:59.999999999Z\"") != NULL,
	    "TW_JSON_TIME_RFC3339");
	free(s);

	/* non-string keys */
	tw_buf_reset(&b);
	tw_mpw_init(&w, &b);
	tw_mpw_map(&w, 6);
	tw_mpw_int(&w, -3);
	tw_mpw_uint(&w, 1);
	tw_mpw_nil(&w);
	tw_mpw_uint(&w, 2);
	tw_mpw_bool(&w, true);
	tw_mpw_uint(&w, 3);
	tw_mpw_double(&w, 2.5);
	tw_mpw_uint(&w, 4);
	tw_mpw_bin(&w, "a", 1);
	tw_mpw_uint(&w, 5);
	tw_mpw_timestamp(&w, 7);
	tw_mpw_uint(&w, 6);
	s = render(&b, 0, &err);
	is_str(s, "{\"-3\":1,\"null\":2,\"true\":3,\"2.5\":4,\"YQ==\":5,"
	    "\"7\":6}", "non-string keys become strings");
	free(s);
	tw_buf_reset(&b);
	tw_mpw_init(&w, &b);
	tw_mpw_map(&w, 1);
	tw_mpw_array(&w, 0);
	tw_mpw_uint(&w, 1);
	s = render(&b, 0, &err);
	ok(s == NULL && err == TW_EUNSUPPORTED, "container as a key");
	free(s);

	/* errors leave out and r as they were */
	tw_buf_reset(&b);
	tw_mpw_init(&w, &b);
	tw_mpw_array(&w, 3);
	tw_mpw_uint(&w, 1);
	tw_mpw_array(&w, 1);
	tw_mpw_array(&w, 1);
	tw_mpw_nil(&w);
	tw_mpw_uint(&w, 2);
	tw_buf_init(&out, 4096);
	ok(tw_buf_add(&out, "x", 1) == 0, "prefill");
	tw_mp_limits_default(&lim);
	lim.depth_max = 2;
	tw_mp_reader_init(&r, b.data, b.len);
	is_int(tw_json_from_mp(&out, &r, &lim, 0), TW_EDEPTH, "depth limit");
	ok(out.len == 1 && r.p == (const uint8_t *)b.data,
	    "out and r unchanged");
	lim.depth_max = 3;
	tw_mp_reader_init(&r, b.data, b.len);
	ok(tw_json_from_mp(&out, &r, &lim, 0) == 0 &&
	    strcmp(out.data, "x[1,[[null]],2]") == 0, "depth 3 is enough");
	lim.array_max = 2;
	tw_mp_reader_init(&r, b.data, b.len);
	is_int(tw_json_from_mp(&out, &r, &lim, 0), TW_ELIMIT, "array_max");
	tw_mp_reader_init(&r, b.data, b.len - 1);
	is_int(tw_json_from_mp(&out, &r, NULL, 0), TW_EEOF, "truncated");
	tw_mp_reader_init(&r, "\xc1", 1);
	is_int(tw_json_from_mp(&out, &r, NULL, 0), TW_EMSGPACK, "0xc1");
	tw_mp_reader_init(&r, "\xc7\x05\xff\0\0\0\0\0", 8);
	is_int(tw_json_from_mp(&out, &r, NULL, 0), TW_EMSGPACK,
	    "timestamp of 5 bytes");
	tw_mp_reader_init(&r, "\x81\xa1k\xd6\xff\0\0\0\x01\x01", 10);
	ok(tw_json_from_mp(&out, &r, NULL, 0) == 0 &&
	    tw_mp_remaining(&r) == 1 && strstr(out.data, "{\"k\":1000000000}")
	    != NULL, "stops after one value");
	ok(strcmp(out.data, "x[1,[[null]],2]{\"k\":1000000000}") == 0,
	    "appended: %s", out.data);
	tw_buf_cleanup(&out);
	tw_buf_init(&out, 8);
	tw_mp_reader_init(&r, b.data, b.len);
	is_int(tw_json_from_mp(&out, &r, NULL, 0), TW_ETOOBIG,
	    "output past the ceiling");
	ok(out.len == 0 && r.p == (const uint8_t *)b.data,
	    "out and r unchanged");
	tw_buf_cleanup(&out);
	tw_buf_cleanup(&b);
}

int
main(void)
{
	test_roundtrip();
	test_errors();
	test_limits();
	test_compact();
	test_hooks();
	test_fast_path();
	test_big();
	test_doubles();
	test_strings();
	test_from_mp();
	return done_testing();
}
