/* test_template.c: unit tests for detect/template: placeholders, :json, :masked. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "tap.h"
#include "template.h"

static const char *pack =
    "rules:\n"
    "  - id: t1\n"
    "    title: t\n"
    "    severity: low\n"
    "    source: container\n"
    "    condition: message regex '\\b(AKIA|ASIA)[0-9A-Z]{16}\\b' and "
    "not message regex 'nomatch'\n"
    "    output: \"m={message:masked} j={fields:json} a={fields.a:json} "
    "l={fields.l:json} s={fields.l} n={nope} nj={nope:json} "
    "x={fields.l.x:json} {{lit}} k={k8s.pod:masked} w={fields.*:json}\"\n"
    "  - id: t2\n"
    "    title: t\n"
    "    severity: low\n"
    "    source: file\n"
    "    condition: message exists\n"
    "  - id: t3\n"
    "    title: t\n"
    "    severity: low\n"
    "    source: syslog\n"
    "    condition: message regex 'x+'\n"
    "    output: \"{message:masked}\"\n";

static void
render_is(const struct tw_ruleset *rs, const char *json, const char *want)
{
	struct tw_engine_ctx *c = tw_engine_ctx_new();
	struct tw_state *st = tw_state_new(tw_ruleset_count(rs));
	struct fired_list f;

	fired_init(&f);
	ok(eval_json(rs, c, st, json, &f) == 0, "evaluate %s", json);
	is_str(f.outputs.data, want, "output for %s", json);
	fired_cleanup(&f);
	tw_state_free(st);
	tw_engine_ctx_free(c);
}

static void
mask_is(const char *pattern, const char *s, const char *want)
{
	struct tw_arena *a = tw_arena_new(1 << 20);
	struct tw_rx_thread *t = tw_rx_thread_new();
	struct tw_regex *rx;
	struct tw_buf out;

	tw_buf_init(&out, 1 << 20);
	ok(tw_regex_compile(a, pattern, strlen(pattern), 0, &rx, NULL) == 0 &&
	    tw_mask(rx, t, s, strlen(s), &out) == 0, "mask %s", pattern);
	is_str(out.data, want, "mask %s over %s", pattern, s);
	tw_buf_cleanup(&out);
	tw_rx_thread_free(t);
	tw_arena_free(a);
}

static void
bad_template(const char *out, const char *want)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs;
	char yaml[512];

	snprintf(yaml, sizeof(yaml), "rules:\n  - {id: b, title: t, severity: "
	    "low, source: file, condition: message exists, output: '%s'}\n", out);
	tw_conf_diag_init(&d);
	rs = rules_from_text("b.yaml", yaml, &d);
	ok(rs == NULL && tw_conf_diag_count(&d) == 1 &&
	    strstr(tw_conf_diag_msg(&d, 0), want) != NULL,
	    "template '%s' refused: %s", out,
	    tw_conf_diag_count(&d) ? tw_conf_diag_msg(&d, 0) : "loaded");
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
}

int
main(void)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs;

	tw_conf_diag_init(&d);
	rs = rules_from_text("t.yaml", pack, &d);
	ok(rs != NULL, "the pack loads");
	for (size_t i = 0; i < tw_conf_diag_count(&d); i++)
		diag("%s", tw_conf_diag_msg(&d, i));
	render_is(rs, "{\"time\":1,\"source\":{\"kind\":\"container\"},"
	    "\"message\":\"key AKIAABCDEFGHIJKLMNOP and ASIAABCDEFGHIJKLMNOP\","
	    "\"fields\":{\"a\":3000.0,\"l\":[1,null,{\"x\":\"y\"}],\"b\":\"c\"}}",
	    "m=key AKIA**************** and ASIA**************** "
	    "j={\"a\":3000,\"b\":\"c\",\"l\":[1,null,{\"x\":\"y\"}]} a=3000 "
	    "l=[1,null,{\"x\":\"y\"}] s=1,{\"x\":\"y\"} n=<NA> nj=null "
	    "x=[\"y\"] {lit} k=<NA> w=[3000,1,{\"x\":\"y\"},\"c\"]\n");
	render_is(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},\"message\":"
	    "\"hi\"}", "t2\n");
	/* a match shorter than 4: its first 4 characters run past it */
	render_is(rs, "{\"time\":1,\"source\":{\"kind\":\"syslog\"},\"message\":"
	    "\"axxbcd\"}", "axxbc****bcd\n");
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);

	mask_is("b+", "abbbbbbbbbbc", "abbbb******c");
	mask_is("x", "\xe5\xaf\x86x\xe9\x92\xa5", "\xe5\xaf\x86x\xe9\x92\xa5****"
	    "\xe9\x92\xa5");
	mask_is("\xaf", "\xe5\xaf\x86" "ab", "\xe5\xaf\x86" "ab****ab");
	mask_is("z*", "abc", "abc");

	bad_template("{a", "unbalanced brace");
	bad_template("a}", "unbalanced brace");
	bad_template("{}", "unbalanced brace");
	bad_template("{threshold.count}", "only in threshold rules");
	bad_template("{a..b}", "bad path");
	bad_template("{raw}", "not addressable");
	return done_testing();
}
