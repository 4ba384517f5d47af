/* test_rules_load.c: unit tests for detect/rules_load: packs, overlays, filters, errors with positions. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "tap.h"

#define RULE(extra) \
    "rules:\n" \
    "  - id: r1\n" \
    "    title: t\n" \
    "    severity: low\n" \
    "    source: file\n" \
    "    condition: message exists\n" extra

/* Load files (name, text pairs) and expect exactly these messages. */
static void
load_fails(const char *what, size_t n, const char *const *names,
    const char *const *texts, const char *const *want)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs = NULL;
	size_t lens[8], nw = 0;
	bool same;
	int r;

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(texts[i]);
	while (want[nw] != NULL)
		nw++;
	tw_conf_diag_init(&d);
	r = tw_ruleset_load_mem(names, texts, lens, n, 0, &rs, &d, NULL);
	same = r == TW_ECONFIG && tw_conf_diag_count(&d) == nw;
	for (size_t i = 0; same && i < nw; i++)
		same = strcmp(tw_conf_diag_msg(&d, i), want[i]) == 0;
	ok(same, "%s", what);
	if (!same)
		for (size_t i = 0; i < tw_conf_diag_count(&d); i++)
			diag("got: %s", tw_conf_diag_msg(&d, i));
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
}

static void
fails1(const char *what, const char *text, const char *want)
{
	const char *names[1] = { "x.yaml" }, *texts[1] = { text };
	const char *w[2] = { want, NULL };

	load_fails(what, 1, names, texts, w);
}

static void
test_errors(void)
{
	fails1("unknown rule key", RULE("    bogus: 1\n"),
	    "x.yaml:7:5: rule 'r1': unknown key 'bogus'");
	fails1("a condition error points at its token",
	    "rules:\n  - id: r1\n    title: t\n    severity: low\n"
	    "    source: file\n    condition: message = 'x' and foo\n",
	    "x.yaml:6:34: rule 'r1': condition: 'foo' is neither a macro nor "
	    "followed by an operator");
	fails1("bad severity", "rules:\n  - {id: r1, title: t, severity: urgent, "
	    "source: file, condition: message exists}\n",
	    "x.yaml:2:34: rule 'r1': severity must be one of informational low "
	    "medium high critical");
	fails1("unknown source kind", "rules:\n  - {id: r1, title: t, severity: "
	    "low, source: [file, pod], condition: message exists}\n",
	    "x.yaml:2:54: rule 'r1': unknown source kind 'pod'");
	fails1("missing title", "rules:\n  - {id: r1, severity: low, source: "
	    "file, condition: message exists}\n",
	    "x.yaml:2:5: rule 'r1': missing title");
	fails1("duplicate ids", RULE("  - {id: r1, title: t, severity: low, "
	    "source: file, condition: message exists}\n"),
	    "x.yaml:7:5: duplicate rule id 'r1' (first at x.yaml:2:5)");
	fails1("bad duration", RULE("    throttle: {key: [message], window: "
	    "5 min}\n"), "x.yaml:7:40: rule 'r1': bad duration '5 min' (want "
	    "e.g. 500ms, 60s, 2m, 1h, 1d)");
	fails1("threshold count", RULE("    threshold: {count: 1, window: "
	    "1m}\n"), "x.yaml:7:24: rule 'r1': threshold count must be an "
	    "integer from 2 to 10000");
	fails1("unknown threshold key", RULE("    threshold: {count: 2, "
	    "window: 1m, per: x}\n"), "x.yaml:7:39: threshold: unknown key 'per'");
	{
		const char *names[1] = { "x.yaml" };
		const char *t1[1] = { "lists: {a: [$b], b: [$a]}\n" };
		const char *w1[] = { "x.yaml:1:9: list 'a': list cycle via $a",
		    "x.yaml:1:18: list 'b': list cycle via $b", NULL };
		const char *t2[1] = { "macros: {m1: m2, m2: m1}\n" };
		const char *w2[] = {
		    "x.yaml:1:14: macro 'm1': in macro m2: macro cycle via m1",
		    "x.yaml:1:22: macro 'm2': in macro m1: macro cycle via m2",
		    NULL };

		load_fails("list cycle", 1, names, t1, w1);
		load_fails("macro cycle", 1, names, t2, w2);
	}
	fails1("alias shadowing a record key", "aliases: {message: [a.b]}\n",
	    "x.yaml:1:11: alias 'message' would shadow a top-level record key");
	fails1("name both macro and list", "lists: {x: [1]}\nmacros: {x: a "
	    "exists}\n", "x.yaml:2:10: 'x' is both a macro and a list "
	    "(at x.yaml:1:9)");
	fails1("unknown list", RULE("  - {id: r2, title: t, severity: low, "
	    "source: file, condition: message in $nope}\n"),
	    "x.yaml:7:75: rule 'r2': condition: unknown list $nope");
	fails1("exception comps/fields", RULE("    exceptions:\n"
	    "      - {name: e, fields: [a, b], comps: [in], values: [[x, y]]}\n"),
	    "x.yaml:8:42: rule 'r1': exception comps/fields length mismatch");
	fails1("exception row length", RULE("    exceptions:\n"
	    "      - {name: e, fields: [a, b], values: [[x]]}\n"),
	    "x.yaml:8:44: rule 'r1': exception values/fields length mismatch");
	fails1("unsupported pack version", "version: 2\n",
	    "x.yaml:1:10: unsupported pack version (want 1)");
	fails1("a plain = in a list", "lists: {ops: [=]}\n",
	    "x.yaml:1:15: list 'ops': a plain '=' must be quoted");
	fails1("YAML syntax", "rules: [\n",
	    "x.yaml:2:1: YAML syntax error: did not find expected node content "
	    "while parsing a flow node");
	{
		const char *names[2] = { "p.yaml", "o.yaml" };
		const char *texts[2] = { RULE(""), "version: 1\noverrides:\n"
		    "  - rule: nope\n    severity: high\n  - list: nolist\n"
		    "    append: [a]\nfilters:\n  - {id: f, rules: [r9], "
		    "condition: a exists}\n" };
		const char *want[] = {
			"o.yaml:3:11: overlay: unknown rule id 'nope'",
			"o.yaml:5:11: overlay: unknown list 'nolist'",
			"o.yaml:8:21: overlay: filter f selects unknown rule 'r9'",
			NULL };

		load_fails("overlay errors", 2, names, texts, want);
	}
}

static const char *pack =
    "version: 1\n"
    "lists:\n"
    "  admins: [root, admin]\n"
    "rules:\n"
    "  - id: r1\n"
    "    title: t\n"
    "    severity: low\n"
    "    tags: [theme.x]\n"
    "    source: file\n"
    "    condition: user.name in $admins\n"
    "    exceptions:\n"
    "      - name: trusted\n"
    "        fields: [host.name]\n"
    "        values: [[bastion]]\n"
    "    throttle: {key: [user.name], window: 1h}\n"
    "  - id: r2\n"
    "    title: t\n"
    "    severity: low\n"
    "    source: [file, syslog]\n"
    "    condition: message contains boom\n"
    "  - id: r3\n"
    "    title: t\n"
    "    severity: low\n"
    "    enabled: false\n"
    "    source: file\n"
    "    condition: this is not checked because the rule is disabled\n";

static const char *overlay =
    "version: 1\n"
    "overrides:\n"
    "  - rule: r1\n"
    "    severity: critical\n"
    "    throttle: null\n"
    "    append_exceptions:\n"
    "      - {name: trusted, values: [[jump]]}\n"
    "  - list: admins\n"
    "    append: [ops]\n"
    "filters:\n"
    "  - id: no-ci\n"
    "    rules: [\"tag:theme.x\", \"source:syslog\"]\n"
    "    condition: host.name startswith ci-\n";

static const char *
ids(const struct tw_ruleset *rs, const char *json)
{
	static char out[256];
	struct tw_engine_ctx *c = tw_engine_ctx_new();
	struct tw_state *st = tw_state_new(tw_ruleset_count(rs));
	struct fired_list f;

	fired_init(&f);
	out[0] = '\0';
	if (eval_json(rs, c, st, json, &f) == 0)
		snprintf(out, sizeof(out), "%s", f.ids.data);
	fired_cleanup(&f);
	tw_state_free(st);
	tw_engine_ctx_free(c);
	return out;
}

static void
test_overlays(void)
{
	const char *names[2] = { "p.yaml", "o.yaml" };
	const char *texts[2] = { pack, overlay };
	size_t lens[2] = { strlen(pack), strlen(overlay) };
	struct tw_conf_diag d;
	struct tw_ruleset *rs = NULL;
	const struct tw_rule *r1;

	tw_conf_diag_init(&d);
	ok(tw_ruleset_load_mem(names, texts, lens, 1, 0, &rs, &d, NULL) == 0,
	    "the pack loads alone");
	ok(rs != NULL && tw_ruleset_count(rs) == 2, "the disabled rule is not "
	    "loaded");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},\"user\":"
	    "{\"name\":\"root\"},\"host\":{\"name\":\"bastion\"}}"), "",
	    "the exception holds");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},\"user\":"
	    "{\"name\":\"ops\"},\"host\":{\"name\":\"x\"}}"), "",
	    "ops is not an admin yet");
	tw_ruleset_free(rs);
	rs = NULL;
	ok(tw_ruleset_load_mem(names, texts, lens, 2, 0, &rs, &d, NULL) == 0,
	    "with the overlay");
	for (size_t i = 0; i < tw_conf_diag_count(&d); i++)
		diag("%s", tw_conf_diag_msg(&d, i));
	if (rs == NULL)
		return;
	r1 = tw_ruleset_rule(rs, 0);
	ok(strcmp(r1->severity, "critical") == 0 && !r1->throttle,
	    "severity overridden, throttle removed");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},\"user\":"
	    "{\"name\":\"ops\"},\"host\":{\"name\":\"x\"}}"), "r1 ",
	    "the list got ops appended");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},\"user\":"
	    "{\"name\":\"root\"},\"host\":{\"name\":\"jump\"}}"), "",
	    "the appended exception row holds");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},\"user\":"
	    "{\"name\":\"root\"},\"host\":{\"name\":\"ci-7\"}}"), "",
	    "the filter selects by tag");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"syslog\"},"
	    "\"message\":\"boom\",\"host\":{\"name\":\"ci-7\"}}"), "",
	    "the filter selects by source");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},"
	    "\"message\":\"boom\",\"host\":{\"name\":\"ci-7\"}}"), "",
	    "a selected rule is filtered for every record");
	is_str(ids(rs, "{\"time\":1,\"source\":{\"kind\":\"file\"},"
	    "\"message\":\"boom\",\"host\":{\"name\":\"web\"}}"), "r2 ",
	    "and fires when the filter does not hold");
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
}

int
main(void)
{
	test_errors();
	test_overlays();
	return done_testing();
}
