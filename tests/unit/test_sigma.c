/* test_sigma.c: unit tests for detect/sigma: the SigmaHQ sample, modifiers, refusals. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "tap.h"

static const char *k8s_head =
    "title: t\nid: s1\nlevel: high\ntags: [attack.t1]\n"
    "logsource: {product: kubernetes, service: audit}\n";

/* Load one Sigma rule (k8s audit unless head is given); NULL on refusal. */
static struct tw_ruleset *
sigma(const char *head, const char *detection, struct tw_conf_diag *d)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml), "%s%s", head != NULL ? head : k8s_head,
	    detection);
	return rules_from_text("s.yml", yaml, d);
}

/* Whether the rule fires on the JSON record (fields given for k8s_audit). */
static int
fires(const char *detection, const char *fields)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs;
	struct tw_engine_ctx *c;
	struct tw_state *st;
	struct fired_list f;
	char json[4096];
	int r = -1;

	tw_conf_diag_init(&d);
	if ((rs = sigma(NULL, detection, &d)) == NULL) {
		for (size_t i = 0; i < tw_conf_diag_count(&d); i++)
			diag("%s", tw_conf_diag_msg(&d, i));
		tw_conf_diag_cleanup(&d);
		return -1;
	}
	snprintf(json, sizeof(json), "{\"time\":1,\"source\":{\"kind\":"
	    "\"k8s_audit\"},\"fields\":%s}", fields);
	c = tw_engine_ctx_new();
	st = tw_state_new(tw_ruleset_count(rs));
	fired_init(&f);
	if (eval_json(rs, c, st, json, &f) == 0)
		r = strcmp(f.ids.data, "s1 ") == 0;
	fired_cleanup(&f);
	tw_state_free(st);
	tw_engine_ctx_free(c);
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
	return r;
}

static void
refused(const char *head, const char *detection, const char *want)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs;

	tw_conf_diag_init(&d);
	rs = sigma(head, detection, &d);
	ok(rs == NULL && tw_conf_diag_count(&d) == 1 &&
	    strstr(tw_conf_diag_msg(&d, 0), want) != NULL, "refused: %s (%s)",
	    want, tw_conf_diag_count(&d) ? tw_conf_diag_msg(&d, 0) : "loaded");
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
}

static void
test_sample(void)
{
	struct tw_conf_diag d, w;
	struct tw_ruleset *rs = NULL;
	char path[4096];
	const char *paths[1];
	const struct tw_rules *ru;

	paths[0] = data_path("sigma/rules", path, sizeof(path));
	tw_conf_diag_init(&d);
	tw_conf_diag_init(&w);
	is_int(tw_ruleset_load(paths, 1, 0, &rs, &d, &w), TW_ECONFIG,
	    "the SigmaHQ sample does not load whole: one rule is refused");
	is_int(tw_conf_diag_count(&d), 1, "one error");
	ok(tw_conf_diag_count(&d) == 1 && strstr(tw_conf_diag_msg(&d, 0),
	    "aws_update_login_profile.yml:24:9: Sigma rule refused: "
	    "unsupported Sigma modifier 'fieldref'") != NULL, "%s",
	    tw_conf_diag_count(&d) ? tw_conf_diag_msg(&d, 0) : "");
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_init(&d);
	is_int(tw_ruleset_load(paths, 1, TW_LOAD_SIGMA_SKIP, &rs, &d, &w), 0,
	    "with TW_LOAD_SIGMA_SKIP the rest loads");
	ru = rs != NULL ? tw_ruleset_rules(rs) : NULL;
	ok(ru != NULL && ru->sigma_loaded == 125 && ru->sigma_refused == 1 &&
	    ru->n == 125, "125 loaded, 1 refused");
	ok(tw_conf_diag_count(&w) == 1, "the refusal is a warning");
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
	tw_conf_diag_cleanup(&w);
}

static void
test_semantics(void)
{
	is_int(fires("detection: {sel: {verb: CREATE}, condition: sel}\n",
	    "{\"verb\":\"create\"}"), 1, "plain strings compare case-insensitively");
	is_int(fires("detection: {sel: {verb|cased: CREATE}, condition: sel}\n",
	    "{\"verb\":\"create\"}"), 0, "|cased");
	is_int(fires("detection: {sel: {uri|contains: SECRETS}, condition: sel}\n",
	    "{\"uri\":\"/api/v1/secrets/x\"}"), 1, "|contains");
	is_int(fires("detection: {sel: {uri|startswith: /API}, condition: sel}\n",
	    "{\"uri\":\"/api/v1\"}"), 1, "|startswith");
	is_int(fires("detection: {sel: {uri|endswith: [/exec, /attach]}, "
	    "condition: sel}\n", "{\"uri\":\"/pods/x/attach\"}"), 1,
	    "a value list is OR");
	is_int(fires("detection: {sel: {uri|contains|all: [api, pods]}, "
	    "condition: sel}\n", "{\"uri\":\"/api/v1/secrets\"}"), 0,
	    "|all is AND");
	is_int(fires("detection: {sel: {uri: '/api/*/pods*'}, condition: sel}\n",
	    "{\"uri\":\"/API/v1/pods/x\"}"), 1, "wildcards glob");
	is_int(fires("detection: {sel: {uri: 'a\\*b'}, condition: sel}\n",
	    "{\"uri\":\"a*b\"}"), 1, "an escaped * is literal");
	is_int(fires("detection: {sel: {uri: 'a\\*b'}, condition: sel}\n",
	    "{\"uri\":\"axb\"}"), 0, "and only itself");
	is_int(fires("detection: {sel: {uri|re|i: '^/API/V[0-9]'}, "
	    "condition: sel}\n", "{\"uri\":\"/api/v1\"}"), 1, "|re|i");
	is_int(fires("detection: {sel: {ip|cidr: 10.0.0.0/8}, condition: sel}\n",
	    "{\"ip\":\"10.2.3.4\"}"), 1, "|cidr");
	is_int(fires("detection: {sel: {code|gte: 400}, condition: sel}\n",
	    "{\"code\":403}"), 1, "|gte");
	is_int(fires("detection: {sel: {code: 403}, condition: sel}\n",
	    "{\"code\":\"403\"}"), 1, "numbers are typed =");
	is_int(fires("detection: {sel: {user: null}, condition: sel}\n",
	    "{\"verb\":\"x\"}"), 1, "null is not exists");
	is_int(fires("detection: {sel: {user|exists: true}, condition: sel}\n",
	    "{\"user\":{\"a\":1}}"), 1, "|exists");
	is_int(fires("detection: {sel: {verb|neq: get}, condition: sel}\n",
	    "{\"verb\":\"GET\"}"), 0, "|neq");
	is_int(fires("detection: {kw: [EVIL, bad], condition: kw}\n",
	    "{\"a\":{\"b\":[\"x\",\"this is Evil\"]}}"), 1,
	    "keywords search every string leaf of fields, case-insensitively");
	is_int(fires("detection: {kw: {'|all': [a, zz]}, condition: kw}\n",
	    "{\"a\":\"a\"}"), 0, "'|all' keywords are AND");
	is_int(fires("detection: {s1: {a: 1}, s2: {b: 2}, _x: {c: 3}, "
	    "condition: 1 of s*}\n", "{\"b\":2}"), 1, "1 of s*");
	is_int(fires("detection: {s1: {a: 1}, s2: {b: 2}, condition: all of "
	    "them}\n", "{\"b\":2}"), 0, "all of them");
	is_int(fires("detection: {s1: {a: 1}, _x: {b: 2}, condition: all of "
	    "them}\n", "{\"a\":1}"), 1, "them leaves out _ identifiers");
	is_int(fires("detection: {s1: {a: 1}, f: {b: 2}, condition: "
	    "[s1 and not f, f and s1]}\n", "{\"a\":1,\"b\":2}"), 1,
	    "a condition list is OR");
	is_int(fires("detection: {s1: [{a: 1}, {b: 2}], condition: s1}\n",
	    "{\"b\":2}"), 1, "a list of maps is OR");
}

static void
test_refusals(void)
{
	refused(NULL, "detection: {sel: {a|base64: x}, condition: sel}\n",
	    "s.yml:6:19: Sigma rule refused: unsupported Sigma modifier 'base64'");
	refused(NULL, "detection: {sel: {a: x}, condition: sel | count() > 5}\n",
	    "Sigma v1 aggregation");
	refused(NULL, "detection: {sel: {a: x}, condition: nope}\n",
	    "unknown search identifier nope");
	refused(NULL, "detection: {sel: {a: x}, condition: 1 of x*}\n",
	    "no search identifier matches x*");
	refused("title: t\nlogsource: {product: windows}\n",
	    "detection: {sel: {a: x}, condition: sel}\n",
	    "no logsource mapping for product windows");
	refused("title: t\nlogsource: {product: linux, category: "
	    "process_creation}\n", "detection: {sel: {ParentImage: x}, "
	    "condition: sel}\n", "no field mapping for ParentImage");
	refused("title: t\ncorrelation: {type: event_count}\n",
	    "detection: {sel: {a: x}, condition: sel}\n", "correlation");
}

int
main(void)
{
	test_sample();
	test_semantics();
	test_refusals();
	return done_testing();
}
