/* test_eval.c: unit tests for detect/eval: the index selects a superset of the matching rules. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "detect_util.h"
#include "json.h"
#include "tap.h"

/* Records of a labelled events file (the "record" of each line). */
static size_t
load_records(const char *path, struct tw_buf **recs)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	*recs = NULL;
	if (f == NULL)
		return 0;
	while ((len = getline(&line, &cap, f)) > 1) {
		struct tw_buf *nr;

		if ((nr = realloc(*recs, (n + 1) * sizeof(**recs))) == NULL)
			break;
		*recs = nr;
		tw_buf_init(&nr[n], 1 << 20);
		if (event_record(line, (size_t)len, &nr[n]) != 0) {
			tw_buf_cleanup(&nr[n]);
			continue;
		}
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

int
main(void)
{
	struct tw_conf_diag d;
	struct tw_ruleset *rs = NULL;
	struct tw_engine_ctx *fast = tw_engine_ctx_new();
	struct tw_engine_ctx *slow = tw_engine_ctx_new();
	struct tw_eval_stats st;
	struct tw_buf *recs;
	char rules[4096], events[4096];
	const char *paths[1];
	size_t n, same = 0;
	uint64_t nrec, cand_fast, cand_slow;

	paths[0] = data_path("rules/rules.yaml", rules, sizeof(rules));
	tw_conf_diag_init(&d);
	ok(tw_ruleset_load(paths, 1, 0, &rs, &d, NULL) == 0, "the starter pack");
	if (rs == NULL)
		return done_testing();
	n = load_records(data_path("rules/events.jsonl", events,
	    sizeof(events)), &recs);
	is_int(n, 158, "158 records");
	tw_engine_ctx_set_flags(slow, TW_ENGINE_EXHAUSTIVE);
	for (size_t i = 0; i < n; i++) {
		const size_t *a, *b;
		size_t na, nb;

		if (tw_engine_match(rs, fast, recs[i].data, recs[i].len) != 0 ||
		    tw_engine_match(rs, slow, recs[i].data, recs[i].len) != 0)
			continue;
		na = tw_engine_matched(fast, &a);
		nb = tw_engine_matched(slow, &b);
		if (na == nb && memcmp(a, b, na * sizeof(*a)) == 0)
			same++;
	}
	is_int(same, n, "the index loses no match on any record");
	tw_engine_ctx_stats(fast, &nrec, &cand_fast);
	tw_engine_ctx_stats(slow, &nrec, &cand_slow);
	ok(cand_fast * 3 < cand_slow, "the index evaluates far fewer rules "
	    "(%llu vs %llu)", (unsigned long long)cand_fast,
	    (unsigned long long)cand_slow);
	tw_ruleset_stats(rs, &st);
	ok(st.rules_witness + st.rules_literal + st.rules_always == 32,
	    "every rule counted once (%zu witness, %zu literal, %zu always)",
	    st.rules_witness, st.rules_literal, st.rules_always);
	ok(st.rules_always <= 2, "almost every rule is behind the index");
	is_int(tw_engine_match(rs, fast, "\xc1", 1), TW_EMSGPACK,
	    "a malformed record matches nothing");
	for (size_t i = 0; i < n; i++)
		tw_buf_cleanup(&recs[i]);
	free(recs);
	tw_engine_ctx_free(fast);
	tw_engine_ctx_free(slow);
	tw_ruleset_free(rs);
	tw_conf_diag_cleanup(&d);
	return done_testing();
}
