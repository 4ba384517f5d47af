/* test_engine.c: unit tests for detect/engine: the starter pack end to end, ids, reload. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "tap.h"

static const char *pack =
    "rules:\n"
    "  - id: burst\n"
    "    title: t\n"
    "    severity: low\n"
    "    source: file\n"
    "    condition: message contains fail\n"
    "    threshold: {count: 2, window: 1m, group_by: [host.name], "
    "distinct: user}\n"
    "    throttle: {key: [host.name], window: 10m}\n"
    "    output: '{threshold.count} in {threshold.window} on {host.name}'\n";

static const char *
rec(int sec, const char *user)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "{\"time\":%lld,\"source\":{\"kind\":"
	    "\"file\"},\"message\":\"login fail\",\"host\":{\"name\":\"h1\"},"
	    "\"user\":\"%s\"}", (long long)sec * 1000000000LL, user);
	return buf;
}

struct sumcount {
	int n;
	uint64_t suppressed;
};

static void
on_summary(void *arg, const struct tw_throttle_summary *s)
{
	struct sumcount *c = arg;

	c->n++;
	c->suppressed += s->suppressed;
}

int
main(void)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs, *rs2;
	struct tw_engine_ctx *c = tw_engine_ctx_new();
	struct tw_state *st, *st2;
	struct fired_list f;
	struct sumcount sc = { 0, 0 };
	char first[256];

	tw_conf_diag_init(&d);
	fired_init(&f);
	rs = rules_from_text("p.yaml", pack, &d);
	ok(rs != NULL, "loads");
	st = tw_state_new(tw_ruleset_count(rs));
	ok(eval_json(rs, c, st, rec(0, "a"), &f) == 0 && f.ids.len == 0,
	    "one distinct user: nothing");
	ok(eval_json(rs, c, st, rec(1, "a"), &f) == 0 && f.ids.len == 0,
	    "the same user again: nothing");
	ok(eval_json(rs, c, st, rec(2, "b"), &f) == 0 &&
	    strcmp(f.outputs.data, "2 in 1m on h1\n") == 0,
	    "two distinct users fire (%s)", f.outputs.data);
	ok(strstr(f.json.data, "\"threshold\":{\"count\":2,\"distinct\":"
	    "[\"user\"],\"group\":{\"host.name\":\"h1\"},\"window\":\"1m\"}") !=
	    NULL, "the alert carries the threshold");
	ok(strstr(f.json.data, "\"throttle\":{\"key\":{\"host.name\":\"h1\"},"
	    "\"max\":1,\"window\":\"10m\"}") != NULL,
	    "and the throttle");
	snprintf(first, sizeof(first), "%.100s", f.json.data);
	tw_ignore(eval_json(rs, c, st, rec(3, "c"), &f));
	ok(eval_json(rs, c, st, rec(4, "d"), &f) == 0 && f.ids.len == 0,
	    "throttled within 10m");
	is_int(tw_state_suppressed(st, 0), 1, "one suppressed");

	/* A reload with the same rule carries the state: still throttled. */
	rs2 = rules_from_text("p.yaml", pack, &d);
	st2 = tw_state_new(tw_ruleset_count(rs2));
	tw_engine_carry_state(rs, st, rs2, st2);
	tw_ignore(eval_json(rs2, c, st2, rec(5, "e"), &f));
	ok(eval_json(rs2, c, st2, rec(6, "f"), &f) == 0 && f.ids.len == 0,
	    "state carried over a reload");
	tw_state_flush(st2, on_summary, &sc);
	ok(sc.n == 1 && sc.suppressed == 2, "the flush reports the window "
	    "(%d, %llu)", sc.n, (unsigned long long)sc.suppressed);

	/* Replaying the record yields the same alert_id. */
	tw_state_free(st);
	st = tw_state_new(tw_ruleset_count(rs));
	tw_ignore(eval_json(rs, c, st, rec(0, "a"), &f));
	tw_ignore(eval_json(rs, c, st, rec(1, "a"), &f));
	tw_ignore(eval_json(rs, c, st, rec(2, "b"), &f));
	ok(strncmp(f.json.data, first, strlen(first)) == 0,
	    "alert_id is deterministic");

	tw_state_free(st);
	tw_state_free(st2);
	tw_ruleset_free(rs);
	tw_ruleset_free(rs2);
	tw_engine_ctx_free(c);
	fired_cleanup(&f);
	tw_conf_diag_cleanup(&d);
	return done_testing();
}
