/* test_expr.c: unit tests for detect/expr: the condition language against the oracle's answers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "expr.h"
#include "tap.h"

/*
 * The record and the expected results below were produced by
 * testdata/rules/ref_eval.py (1 true, 0 false, -1 a load error).
 */
static const char *rec_json = "{\"time\": 1700000000000000000, \"source\": {\"kind\": \"k8s_audit\"}, \"message\": \"Hello World AKIAABCDEFGHIJKLMNOP end\", \"audit\": {\"action\": \"create\", \"status_code\": 201, \"code_s\": \"201\", \"flag\": true, \"flag_s\": \"TRUE\", \"f\": 2.5, \"addrs\": [\"10.1.2.3\", \"10.20.0.9\"], \"addr\": \"::ffff:10.0.0.7\", \"empty\": [], \"nul\": null, \"path\": \"/var/lib/../lib/kubelet//pki/\", \"img\": [\"registry.corp.example/a\", \"nginx:1\"], \"m\": {\"k1\": \"v1\", \"Key_Two\": 2}, \"s\": \"a*b\", \"uni\": \"密钥café\", \"num_s\": \"1e3\", \"zero\": \"0\", \"list\": [[1, 2], [3, [4, null]]], \"maps\": [{\"a\": 1}, {\"a\": 2}, {\"b\": 3}], \"obj\": {}}}";
static const struct { const char *cond; int want; } cases[] = {
	{ "audit.action = create", 1 },
	{ "audit.action = Create", 0 },
	{ "audit.action ieq CREATE", 1 },
	{ "audit.action != create", 0 },
	{ "audit.nope != create", 1 },
	{ "not audit.nope = create", 1 },
	{ "audit.nope exists", 0 },
	{ "audit.nul exists", 0 },
	{ "audit.empty exists", 0 },
	{ "audit.obj exists", 1 },
	{ "audit.m exists", 1 },
	{ "audit.m = '{}'", 0 },
	{ "audit.status_code = 201", 1 },
	{ "audit.status_code = 201.0", 1 },
	{ "audit.status_code = '201'", 1 },
	{ "audit.code_s = 201", 1 },
	{ "audit.status_code >= 200 and audit.status_code < 300", 1 },
	{ "audit.code_s > 200", 1 },
	{ "audit.num_s = 1000", 1 },
	{ "audit.num_s > '999'", 1 },
	{ "audit.f = 2.5", 1 },
	{ "audit.f in (1, 2.5)", 1 },
	{ "audit.zero = false", 0 },
	{ "audit.flag = true", 1 },
	{ "audit.flag = 'true'", 1 },
	{ "audit.flag_s = true", 1 },
	{ "audit.flag_s = 'true'", 0 },
	{ "audit.flag ieq TRUE", 1 },
	{ "audit.addrs cidr 10.0.0.0/8", 1 },
	{ "all(audit.addrs) cidr 10.20.0.0/16", 0 },
	{ "all(audit.addrs) cidr 10.0.0.0/8", 1 },
	{ "audit.addr cidr 10.0.0.0/24", 1 },
	{ "audit.addr cidr '::ffff:0:0/96'", 1 },
	{ "any(audit.addrs) = 10.1.2.3", 1 },
	{ "all(audit.nope) = x", 0 },
	{ "not all(audit.nope) = x", 1 },
	{ "all(audit.empty) exists", 0 },
	{ "audit.path peq /var/lib/kubelet/pki", 1 },
	{ "audit.path pmatch /var/lib/kubelet", 1 },
	{ "audit.path pmatch /var/lib/kube", 0 },
	{ "audit.path pmatch /", 0 },
	{ "audit.img startswith registry.", 1 },
	{ "all(audit.img) startswith registry.", 0 },
	{ "not all(audit.img) istartswith REGISTRY.CORP", 1 },
	{ "audit.img endswith ':1'", 1 },
	{ "audit.img iendswith ':1'", 1 },
	{ "audit.img contains corp", 1 },
	{ "audit.img icontains CORP", 1 },
	{ "audit.s glob 'a*b'", 1 },
	{ "audit.s glob 'a[*]b'", 1 },
	{ "audit.s glob 'a[!*]b'", 0 },
	{ "audit.uni glob '??café'", 1 },
	{ "audit.uni iglob '*CAFÉ'", 0 },
	{ "audit.uni iglob '*CAFé'", 1 },
	{ "message regex '\\b(AKIA|ASIA)[0-9A-Z]{16}\\b'", 1 },
	{ "message iregex 'hello world'", 1 },
	{ "message regex 'hello world'", 0 },
	{ "message regex '(?i)HELLO'", 1 },
	{ "keys(audit.m) = k1", 1 },
	{ "keys(audit.m) iregex 'key_'", 1 },
	{ "keys(audit.nope) = x", 0 },
	{ "audit.m.* = 2", 1 },
	{ "audit.m[*] = v1", 1 },
	{ "audit.list = 4", 1 },
	{ "audit.list[1] = 3", 1 },
	{ "audit.list[1][1] = 4", 1 },
	{ "audit.list[-1] = 3", 1 },
	{ "audit.list[0][-1] = 2", 1 },
	{ "audit.maps.a = 2", 1 },
	{ "audit.maps[2].b = 3", 1 },
	{ "audit.maps.* = 3", 0 },
	{ "all(audit.maps.a) = (1, 2)", 1 },
	{ "audit.action in (get, list, create)", 1 },
	{ "audit.action = \"cre\\u0061te\"", 1 },
	{ "audit.action = 'create' or audit.action = x and audit.action = y", 1 },
	{ "(audit.action = x or audit.action = create) and not audit.f > 3", 1 },
	{ "not not audit.action = create", 1 },
	{ "audit[\"action\"] = create", 1 },
	{ "audit['status_code'] = 201", 1 },
	{ "source.kind = k8s_audit", 1 },
	{ "time > 1699999999999999999", 0 },
	{ "time = 1700000000000000000", 1 },
	{ "audit.uni contains 密", 1 },
	{ "audit.action startswith ''", 1 },
	{ "audit.s = 'a*b'", 1 },
	{ "audit.action = +5", 0 },
	{ "audit.f = 2.50", 1 },
	{ "audit.action = null", -1 },
	{ "keys(audit.m) exists", -1 },
	{ "audit.action", -1 },
	{ "foo", -1 },
	{ "audit.action == x", -1 },
	{ "audit.action = ", -1 },
	{ "audit.action < x", -1 },
	{ "(audit.action = x", -1 },
	{ "audit.action = x)", -1 },
	{ "audit.action = 'x", -1 },
	{ "audit.action regex '('", -1 },
	{ "audit.action cidr 300.0.0.1", -1 },
	{ "audit.action = $nolist", -1 },
	{ "raw exists", -1 },
	{ "audit.action in ()", -1 },
	{ "audit.action = x and", -1 },
	{ "audit.action regex '\\Z'", -1 },
	{ "all(audit.action = x", -1 },
	{ "audit.action = \"\\q\"", -1 },
	{ "and", -1 },
	{ "audit..x = 1", -1 },
	{ "audit.action ! x", -1 },
};

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(cond_eval(cases[i].cond, rec_json, NULL, 1), cases[i].want,
		    "%s", cases[i].cond);
}

static void
test_errors(void)
{
	static const struct {
		const char *cond;
		long off;
		const char *msg;
	} errs[] = {
		{ "audit.action = null", 15, "null literal" },
		{ "a = 1 and", 9, "unexpected end of condition" },
		{ "a = 1 b = 2", 6, "unexpected 'b'" },
		{ "a = 'x", 4, "unterminated string" },
		{ "foo", 0, "'foo' is neither a macro" },
		{ "a regex '('", 0, "bad regex" },
		{ "a < x", 0, "< needs numeric literals" },
		{ "a = $nope", 4, "unknown list $nope" },
	};
	struct tw_arena *a = tw_arena_new(1 << 20);
	struct tw_fields *f = tw_fields_new();
	struct tw_compiler *c = tw_compiler_new(a, NULL, f);

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct tw_node *n;
		char *why = NULL;
		long off = -2;

		is_int(tw_compile_condition(c, errs[i].cond, strlen(errs[i].cond),
		    &n, &why, &off), TW_EPARSE, "error: %s", errs[i].cond);
		is_int(off, errs[i].off, "offset of the error in %s", errs[i].cond);
		ok(why != NULL && strstr(why, errs[i].msg) != NULL,
		    "message '%s' has '%s'", why ? why : "", errs[i].msg);
		free(why);
	}
	tw_compiler_free(c);
	tw_fields_free(f);
	tw_arena_free(a);
}

static void
test_symbols(void)
{
	struct tw_symbols *s = tw_symbols_new();
	struct tw_arena *a = tw_arena_new(1 << 20);
	struct tw_scalar l1[3], l2[2], cyc1[1], cyc2[1], *items;
	struct tw_path *t1 = NULL, *t2 = NULL, *t3 = NULL;
	const struct tw_path *al[2], *al2[1];
	const char *rec = "{\"audit\":{\"x\":\"b\",\"y\":[\"q\",\"z\"]},"
	    "\"fields\":{\"x\":\"c\"}}";
	char *why = NULL;
	size_t n;

	memset(l1, 0, sizeof(l1));
	memset(l2, 0, sizeof(l2));
	l1[0] = (struct tw_scalar){ TW_SCALAR_STR, "a", 1, 0, false };
	l1[1] = (struct tw_scalar){ TW_SCALAR_STR, "$l2", 3, 0, false };
	l1[2] = (struct tw_scalar){ TW_SCALAR_INT, "7", 1, 7, false };
	l2[0] = (struct tw_scalar){ TW_SCALAR_STR, "b", 1, 0, false };
	l2[1] = (struct tw_scalar){ TW_SCALAR_BOOL, "true", 4, 0, true };
	cyc1[0] = (struct tw_scalar){ TW_SCALAR_STR, "$c2", 3, 0, false };
	cyc2[0] = (struct tw_scalar){ TW_SCALAR_STR, "$c1", 3, 0, false };
	ok(tw_symbols_add_list(s, "l1", l1, 3) == 0 &&
	    tw_symbols_add_list(s, "l2", l2, 2) == 0 &&
	    tw_symbols_add_list(s, "c1", cyc1, 1) == 0 &&
	    tw_symbols_add_list(s, "c2", cyc2, 1) == 0, "lists added");
	is_int(tw_symbols_add_list(s, "l1", l1, 1), TW_EEXISTS, "no duplicates");
	ok(tw_symbols_list_items(s, "l1", a, &items, &n, NULL) == 0 && n == 4 &&
	    strcmp(items[1].s, "b") == 0 && items[3].kind == TW_SCALAR_INT,
	    "nested lists flatten in place");
	is_int(tw_symbols_list_items(s, "c1", a, &items, &n, &why), TW_EPARSE,
	    "a list cycle is an error (%s)", why ? why : "");
	free(why);
	ok(tw_path_parse(a, "audit.x", 7, &t1, NULL) == 0 &&
	    tw_path_parse(a, "fields.x", 8, &t2, NULL) == 0 &&
	    tw_path_parse(a, "audit", 5, &t3, NULL) == 0, "alias targets");
	al[0] = t1;
	al[1] = t2;
	al2[0] = t3;
	ok(tw_symbols_add_alias(s, "ax", al, 2) == 0 &&
	    tw_symbols_add_alias(s, "au", al2, 1) == 0, "aliases added");
	ok(tw_symbols_add_macro(s, "is_b", "ax = b") == 0 &&
	    tw_symbols_add_macro(s, "both", "is_b and au.y = z") == 0 &&
	    tw_symbols_add_macro(s, "loop1", "loop2") == 0 &&
	    tw_symbols_add_macro(s, "loop2", "loop1") == 0, "macros added");
	is_int(cond_eval("audit.x in $l1", rec, s, 1), 1, "$list in a tuple");
	is_int(cond_eval("fields.x in $l1", rec, s, 1), 0, "not in the list");
	is_int(cond_eval("ax = c", rec, s, 1), 1, "alias: any target");
	is_int(cond_eval("all(ax) = b", rec, s, 1), 0, "alias: all targets");
	is_int(cond_eval("both", rec, s, 1), 1, "macros expand, nested");
	is_int(cond_eval("not both", rec, s, 1), 0, "macro under not");
	is_int(cond_eval("loop1", rec, s, 0), -1, "a macro cycle is an error");
	is_int(cond_eval("audit.x = $c1", rec, s, 0), -1,
	    "a list cycle in use is an error");
	tw_symbols_free(s);
	tw_arena_free(a);
}

static void
test_api(void)
{
	struct tw_expr *e;
	struct tw_match *m = tw_match_new();
	struct tw_buf rec;
	char *why = NULL;

	tw_buf_init(&rec, 1 << 20);
	rec_from_json("{\"level\":\"error\",\"http\":{\"status\":503}}", &rec);
	e = tw_expr_compile("level = error and http.status >= 500", NULL, &why);
	ok(e != NULL, "compile a --where expression");
	is_int(tw_expr_eval(e, m, rec.data, rec.len), 1, "it matches");
	is_int(tw_expr_eval(e, m, "\x93\x01\x02\x03", 4), TW_EMSGPACK,
	    "a record that is not a map");
	is_int(tw_expr_eval(e, m, "\x81\xa1", 2), TW_EEOF, "a truncated record");
	tw_expr_free(e);
	e = tw_expr_compile("level = (", NULL, &why);
	ok(e == NULL && why != NULL && strncmp(why, "at ", 3) == 0,
	    "errors say where (%s)", why ? why : "");
	free(why);
	tw_match_free(m);
	tw_buf_cleanup(&rec);
}

int
main(void)
{
	test_table();
	test_errors();
	test_symbols();
	test_api();
	return done_testing();
}
