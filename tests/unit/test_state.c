/* test_state.c: unit tests for detect/state: threshold windows, distinct counts, throttles. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "tap.h"

#define S 1000000000LL

static int
th(struct tw_state *s, const char *key, const char *dv, int64_t t,
    uint32_t *n)
{
	return tw_state_threshold(s, 0, key, strlen(key), dv,
	    dv != NULL ? strlen(dv) : 0, t, 60 * S, 3, n);
}

struct sums {
	int n;
	uint64_t suppressed;
	int64_t first, last;
};

static void
on_sum(void *arg, const struct tw_throttle_summary *sum)
{
	struct sums *s = arg;

	s->n++;
	s->suppressed = sum->suppressed;
	s->first = sum->first_time;
	s->last = sum->last_time;
}

int
main(void)
{
	struct tw_state *s = tw_state_new(2);
	struct tw_buf k;
	struct sums sums = { 0, 0, 0, 0 };
	const char *c;
	size_t cn;
	uint32_t n = 0;

	/* event_count: window (t - 60s, t] */
	is_int(th(s, "g", NULL, 0, &n), 0, "1st event");
	is_int(th(s, "g", NULL, 10 * S, &n), 0, "2nd event");
	is_int(th(s, "g", NULL, 60 * S, &n), 0,
	    "an event exactly a window after the first does not see it");
	is_int(th(s, "g", NULL, 61 * S, &n), 1, "3 within the window fire");
	is_int(n, 3, "count 3");
	is_int(th(s, "g", NULL, 62 * S, &n), 0, "the group is cleared after firing");
	is_int(th(s, "h", NULL, 62 * S, &n), 0, "groups are separate");
	/* value_count */
	is_int(th(s, "v", "a", 0, &n), 0, "distinct a");
	is_int(th(s, "v", "a", 1 * S, &n), 0, "a again: still 1");
	is_int(th(s, "v", "b", 2 * S, &n), 0, "distinct b");
	is_int(th(s, "v", "c", 3 * S, &n), 1, "distinct c: 3 values fire");
	is_int(n, 3, "3 distinct values");
	/* throttle: one per key and window, then suppressed */
	is_int(tw_state_throttle(s, 1, "k", 1, 0, 60 * S, 1, on_sum, &sums), 1,
	    "the first alert passes");
	is_int(tw_state_throttle(s, 1, "k", 1, 10 * S, 60 * S, 1, on_sum,
	    &sums), 0, "the next is suppressed");
	is_int(tw_state_throttle(s, 1, "k", 1, -5 * S, 60 * S, 1, on_sum,
	    &sums), 0, "an earlier record falls into the open window");
	is_int(tw_state_throttle(s, 1, "j", 1, 10 * S, 60 * S, 1, on_sum,
	    &sums), 1, "another key passes");
	is_int(tw_state_suppressed(s, 1), 2, "two suppressed");
	is_int(sums.n, 0, "no summary yet");
	is_int(tw_state_throttle(s, 1, "k", 1, 60 * S, 60 * S, 1, on_sum,
	    &sums), 1, "a new window opens at t - start >= window");
	ok(sums.n == 1 && sums.suppressed == 2 && sums.first == 10 * S &&
	    sums.last == -5 * S, "the replaced window reports its suppressions");
	is_int(tw_state_throttle(s, 1, "k", 1, 61 * S, 60 * S, 1, on_sum,
	    &sums), 0, "suppressed again");
	tw_state_flush(s, on_sum, &sums);
	is_int(sums.n, 2, "flush reports open windows that suppressed");
	/* max */
	is_int(tw_state_throttle(s, 0, "m", 1, 0, 60 * S, 2, NULL, NULL), 1,
	    "max 2: 1st");
	is_int(tw_state_throttle(s, 0, "m", 1, 1, 60 * S, 2, NULL, NULL), 1,
	    "max 2: 2nd");
	is_int(tw_state_throttle(s, 0, "m", 1, 2, 60 * S, 2, NULL, NULL), 0,
	    "max 2: 3rd suppressed");
	/* bounds: LRU eviction past TW_STATE_GROUPS_MAX groups */
	for (int i = 0; i < TW_STATE_GROUPS_MAX + 5; i++) {
		char key[32];

		snprintf(key, sizeof(key), "grp%d", i);
		tw_ignore(th(s, key, NULL, 100 * S, &n));
	}
	/* g, h and v are there already: 3 + 10005 groups, 10000 kept */
	is_int(tw_state_evicted(s, 0), 8, "the least recently used groups go");
	/* keys */
	tw_buf_init(&k, 1024);
	ok(tw_state_key_add(&k, "a", 1) == 0 && tw_state_key_add(&k, "", 0) == 0 &&
	    tw_state_key_get(k.data, k.len, 1, &c, &cn) && cn == 0 &&
	    !tw_state_key_get(k.data, k.len, 2, &c, &cn), "key tuples");
	tw_buf_cleanup(&k);
	tw_state_free(s);
	return done_testing();
}
