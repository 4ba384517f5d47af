/* test_metrics.c: unit tests for lib/metrics (registry and exposition). */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "tap.h"

#define THREADS 8
#define ADDS 100000

struct worker {
	struct tw_metrics *m;
	struct tw_counter *shared;
	struct tw_gauge *gauge;
	struct tw_histogram *hist;
	int id;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct tw_counter *mine, *again;
	char labels[32];

	snprintf(labels, sizeof(labels), "thread=\"%d\"", w->id);
	mine = tw_metrics_counter(w->m, "test_per_thread_total", "Per thread.",
	    labels);
	for (int i = 0; i < ADDS; i++) {
		tw_counter_inc(w->shared);
		tw_counter_add(mine, 2);
		if (i % 10 == 0) {
			tw_gauge_add(w->gauge, 0.5);
			tw_histogram_observe(w->hist, (double)(i % 3));
		}
	}
	/* Get-or-create from many threads at once hands out one pointer. */
	again = tw_metrics_counter(w->m, "test_shared_total", "Shared.", NULL);
	return again == w->shared ? mine : NULL;
}

static void
test_threads(void)
{
	static const double bounds[] = { 0, 1, 2 };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct tw_metrics *m = tw_metrics_new();
	struct tw_counter *shared;
	struct tw_gauge *g;
	struct tw_histogram *h;
	int same = 1, per_ok = 1;
	void *ret;

	shared = tw_metrics_counter(m, "test_shared_total", "Shared.", NULL);
	g = tw_metrics_gauge(m, "test_gauge", "G.", NULL);
	h = tw_metrics_histogram(m, "test_hist", "H.", NULL, bounds, 3);
	ok(shared != NULL && g != NULL && h != NULL, "threads: registered");
	for (int i = 0; i < THREADS; i++) {
		w[i].m = m;
		w[i].shared = shared;
		w[i].gauge = g;
		w[i].hist = h;
		w[i].id = i;
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], &ret);
		if (ret == NULL)
			same = 0;
		else if (tw_counter_get(ret) != 2 * (uint64_t)ADDS)
			per_ok = 0;
	}
	is_int(tw_counter_get(shared), (long long)THREADS * ADDS,
	    "threads: shared counter sums every thread's adds");
	ok(same, "threads: concurrent get-or-create returns the same pointer");
	ok(per_ok, "threads: per-thread series counted separately");
	ok(tw_gauge_get(g) == THREADS * (ADDS / 10) * 0.5,
	    "threads: gauge_add is atomic (%g)", tw_gauge_get(g));
	is_int(tw_histogram_count(h), THREADS * (ADDS / 10),
	    "threads: histogram count");
	tw_metrics_free(m);
}

static void
test_get_or_create(void)
{
	struct tw_metrics *m = tw_metrics_new();
	struct tw_counter *a, *b, *c;
	struct tw_gauge *g;
	struct tw_histogram *h;
	double bounds[] = { 1, 2 };

	a = tw_metrics_counter(m, "req_total", "Requests.", "code=\"200\"");
	b = tw_metrics_counter(m, "req_total", "Other help.", "code=\"200\"");
	c = tw_metrics_counter(m, "req_total", "Requests.", "code=\"500\"");
	ok(a != NULL && a == b, "counter: same name+labels, same pointer");
	ok(c != NULL && c != a, "counter: other labels, other series");
	ok(tw_metrics_counter(m, "req_total", NULL, NULL) ==
	    tw_metrics_counter(m, "req_total", NULL, ""),
	    "counter: NULL and \"\" labels are the same series");

	ok(tw_metrics_gauge(m, "req_total", "x", NULL) == NULL,
	    "conflict: gauge over a counter is refused");
	ok(tw_metrics_histogram(m, "req_total", "x", NULL, bounds, 2) == NULL,
	    "conflict: histogram over a counter is refused");
	is_int(tw_metrics_gauge_fn(m, "req_total", "x", NULL, NULL, NULL),
	    TW_EINVAL, "conflict: gauge_fn over a counter is refused");
	is_int(tw_metrics_info(m, "req_total", "x", NULL), TW_EINVAL,
	    "conflict: info over a counter is refused");
	g = tw_metrics_gauge(m, "depth", "Depth.", NULL);
	ok(g != NULL && tw_metrics_counter(m, "depth", "x", NULL) == NULL,
	    "conflict: counter over a gauge is refused");

	h = tw_metrics_histogram(m, "lat", "L.", "a=\"1\"", bounds, 2);
	ok(h != NULL && h == tw_metrics_histogram(m, "lat", "L.", "a=\"1\"",
	    bounds, 2), "histogram: get-or-create");
	bounds[1] = 3;
	ok(tw_metrics_histogram(m, "lat", "L.", "a=\"2\"", bounds, 2) == NULL,
	    "histogram: other bounds in one family are refused");

	ok(tw_metrics_counter(NULL, "x_total", "x", NULL) == NULL,
	    "NULL registry gives NULL metrics");
	tw_counter_add(NULL, 1);
	tw_counter_inc(NULL);
	tw_gauge_set(NULL, 1);
	tw_gauge_add(NULL, 1);
	tw_histogram_observe(NULL, 1);
	ok(tw_counter_get(NULL) == 0 && tw_gauge_get(NULL) == 0 &&
	    tw_histogram_count(NULL) == 0 && tw_histogram_sum(NULL) == 0,
	    "updates and reads accept NULL");
	tw_metrics_free(m);
	tw_metrics_free(NULL);
	ok(1, "free(NULL) is a no-op");
}

static void
test_names(void)
{
	static const char *const bad_names[] = {
		"", "1abc", "a-b", "a b", "é", "a.b", "a{", NULL,
	};
	static const char *const good_names[] = {
		"a", "_a", ":a", "a:b_c9", "ABC_total",
	};
	static const char *const bad_labels[] = {
		"a=1", "a=\"x", "1a=\"x\"", "a=\"x\",", "a=\"x\",a=\"y\"",
		"__a=\"x\"", "a=\"\\q\"", "a=\"x\"b=\"y\"", "a:b=\"x\"",
		"a=\"x\ny\"", ",a=\"x\"", "a =\"x\"",
	};
	static const char *const good_labels[] = {
		"a=\"\"", "a=\"x\",b=\"y\"", "a=\"\\\\ \\\" \\n\"", "_a=\"1\"",
		"a=\"{}=,\"",
	};
	struct tw_metrics *m = tw_metrics_new();
	double bounds[] = { 1 };
	int all;
	size_t i;

	all = 1;
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		if (tw_metrics_counter(m, bad_names[i], "x", NULL) != NULL)
			all = 0;
	ok(all, "names: invalid metric names are refused");
	all = 1;
	for (i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++)
		if (tw_metrics_counter(m, good_names[i], "x", NULL) == NULL)
			all = 0;
	ok(all, "names: valid metric names are accepted");
	all = 1;
	for (i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++)
		if (tw_metrics_gauge(m, "g", "x", bad_labels[i]) != NULL) {
			diag("accepted bad labels %s", bad_labels[i]);
			all = 0;
		}
	ok(all, "labels: malformed label lists are refused");
	all = 1;
	for (i = 0; i < sizeof(good_labels) / sizeof(good_labels[0]); i++)
		if (tw_metrics_gauge(m, "g", "x", good_labels[i]) == NULL) {
			diag("refused good labels %s", good_labels[i]);
			all = 0;
		}
	ok(all, "labels: well-formed label lists are accepted");
	ok(tw_metrics_histogram(m, "h", "x", "le=\"1\"", bounds, 1) == NULL,
	    "labels: le is reserved in histograms");
	ok(tw_metrics_gauge(m, "g2", "x", "le=\"1\"") != NULL,
	    "labels: le is fine elsewhere");
	tw_metrics_free(m);
}

static void
test_histogram(void)
{
	static const double bounds[] = { 1, 2, 5 };
	static const double unsorted[] = { 1, 3, 2 };
	static const double dup[] = { 1, 1 };
	const double inf[] = { 1, INFINITY };
	const double nan[] = { NAN };
	struct tw_metrics *m = tw_metrics_new();
	struct tw_histogram *h;
	struct tw_buf out;

	h = tw_metrics_histogram(m, "h_seconds", "H.", NULL, bounds, 3);
	tw_histogram_observe(h, 0.5);
	tw_histogram_observe(h, 1);   /* le is inclusive */
	tw_histogram_observe(h, 1.5);
	tw_histogram_observe(h, 3);
	tw_histogram_observe(h, 10);
	tw_histogram_observe(h, -1);
	is_int(tw_histogram_count(h), 6, "histogram: count");
	ok(tw_histogram_sum(h) == 15, "histogram: sum");
	tw_buf_init(&out, 1 << 16);
	ok(tw_metrics_render(m, &out) == 0, "histogram: rendered");
	is_str(out.data,
	    "# HELP h_seconds H.\n"
	    "# TYPE h_seconds histogram\n"
	    "h_seconds_bucket{le=\"1\"} 3\n"
	    "h_seconds_bucket{le=\"2\"} 4\n"
	    "h_seconds_bucket{le=\"5\"} 5\n"
	    "h_seconds_bucket{le=\"+Inf\"} 6\n"
	    "h_seconds_sum 15\n"
	    "h_seconds_count 6\n",
	    "histogram: buckets are cumulative, +Inf equals count");
	tw_buf_cleanup(&out);

	tw_histogram_observe(h, NAN);
	is_int(tw_histogram_count(h), 7, "histogram: NaN is counted (+Inf)");
	ok(tw_metrics_histogram(m, "b1", "x", NULL, unsorted, 3) == NULL &&
	    tw_metrics_histogram(m, "b2", "x", NULL, dup, 2) == NULL &&
	    tw_metrics_histogram(m, "b3", "x", NULL, inf, 2) == NULL &&
	    tw_metrics_histogram(m, "b4", "x", NULL, nan, 1) == NULL &&
	    tw_metrics_histogram(m, "b5", "x", NULL, bounds, 0) == NULL &&
	    tw_metrics_histogram(m, "b6", "x", NULL, NULL, 3) == NULL,
	    "histogram: bad bounds are refused");
	ok(tw_metrics_histogram(m, "lat", "x", NULL, tw_metrics_latency_bounds,
	    TW_METRICS_LATENCY_NBOUNDS) != NULL &&
	    tw_metrics_latency_bounds[0] == 0.0005 &&
	    tw_metrics_latency_bounds[TW_METRICS_LATENCY_NBOUNDS - 1] == 10,
	    "histogram: default latency bounds 0.0005..10 s");
	tw_metrics_free(m);
}

static double
fortytwo(void *arg)
{
	int *calls = arg;

	(*calls)++;
	return 42;
}

static double
seven(void *arg)
{
	return 7;
}

static void
test_exposition(void)
{
	static const double bounds[] = { 0.005, 0.5, 1 };
	struct tw_metrics *m = tw_metrics_new();
	struct tw_counter *c;
	struct tw_gauge *g;
	struct tw_histogram *h;
	struct tw_buf out, lb;
	int calls = 0;

	c = tw_metrics_counter(m, "trawl_records_in_total", "Records read.",
	    "source=\"file\"");
	tw_counter_add(c, 3);
	tw_counter_inc(tw_metrics_counter(m, "trawl_records_in_total",
	    "Records read.", NULL));
	tw_counter_add(tw_metrics_counter(m, "trawl_records_in_total",
	    "Records read.", "source=\"api\""), 12345678901234ULL);

	g = tw_metrics_gauge(m, "trawl_value", "Odd \\ help\nsecond line.",
	    "k=\"a\"");
	tw_gauge_set(g, 2.5);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"b\""),
	    -0.125);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"c\""), 1e15);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"d\""),
	    INFINITY);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"e\""),
	    -INFINITY);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"f\""), NAN);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"g\""), 0.1);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"h\""), 1e-7);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"i\""), 1e20);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"j\""), -0.0);
	tw_gauge_set(tw_metrics_gauge(m, "trawl_value", NULL, "k=\"k\""),
	    1.0 / 3);

	h = tw_metrics_histogram(m, "trawl_latency_seconds", "Latency.",
	    "stage=\"parse\"", bounds, 3);
	tw_histogram_observe(h, 0.001);
	tw_histogram_observe(h, 0.25);
	tw_histogram_observe(h, 2);

	ok(tw_metrics_info(m, "trawl_build_info", "Build.",
	    "version=\"1.0\"") == 0, "info: set");
	ok(tw_metrics_info(m, "trawl_build_info", "Build.",
	    "version=\"1.1\",hash=\"ab\"") == 0, "info: replaced");

	ok(tw_metrics_gauge_fn(m, "trawl_store_bytes", "Store size.", NULL,
	    fortytwo, &calls) == 0, "gauge_fn: registered");
	ok(tw_metrics_gauge_fn(m, "trawl_detached", "Gone.", NULL, NULL,
	    NULL) == 0, "gauge_fn: registered detached");

	/* Labels built with the helpers, escaping included. */
	tw_buf_init(&lb, 256);
	ok(tw_metrics_label_add(&lb, "path", "/a\"b\\c\nd") == 0 &&
	    tw_metrics_label_add(&lb, "code", "200") == 0,
	    "label_add: built");
	tw_counter_inc(tw_metrics_counter(m, "trawl_nohelp_total", NULL,
	    lb.data));
	tw_buf_cleanup(&lb);

	tw_buf_init(&out, 1 << 16);
	ok(tw_buf_adds(&out, "PREFIX\n") == 0, "render: prefix kept");
	ok(tw_metrics_render(m, &out) == 0, "render: ok");
	is_str(out.data,
	    "PREFIX\n"
	    "# HELP trawl_records_in_total Records read.\n"
	    "# TYPE trawl_records_in_total counter\n"
	    "trawl_records_in_total 1\n"
	    "trawl_records_in_total{source=\"api\"} 12345678901234\n"
	    "trawl_records_in_total{source=\"file\"} 3\n"
	    "# HELP trawl_value Odd \\\\ help\\nsecond line.\n"
	    "# TYPE trawl_value gauge\n"
	    "trawl_value{k=\"a\"} 2.5\n"
	    "trawl_value{k=\"b\"} -0.125\n"
	    "trawl_value{k=\"c\"} 1000000000000000\n"
	    "trawl_value{k=\"d\"} +Inf\n"
	    "trawl_value{k=\"e\"} -Inf\n"
	    "trawl_value{k=\"f\"} NaN\n"
	    "trawl_value{k=\"g\"} 0.1\n"
	    "trawl_value{k=\"h\"} 1e-07\n"
	    "trawl_value{k=\"i\"} 1e+20\n"
	    "trawl_value{k=\"j\"} 0\n"
	    "trawl_value{k=\"k\"} 0.3333333333333333\n"
	    "# HELP trawl_latency_seconds Latency.\n"
	    "# TYPE trawl_latency_seconds histogram\n"
	    "trawl_latency_seconds_bucket{stage=\"parse\",le=\"0.005\"} 1\n"
	    "trawl_latency_seconds_bucket{stage=\"parse\",le=\"0.5\"} 2\n"
	    "trawl_latency_seconds_bucket{stage=\"parse\",le=\"1\"} 2\n"
	    "trawl_latency_seconds_bucket{stage=\"parse\",le=\"+Inf\"} 3\n"
	    "trawl_latency_seconds_sum{stage=\"parse\"} 2.251\n"
	    "trawl_latency_seconds_count{stage=\"parse\"} 3\n"
	    "# HELP trawl_build_info Build.\n"
	    "# TYPE trawl_build_info gauge\n"
	    "trawl_build_info{version=\"1.1\",hash=\"ab\"} 1\n"
	    "# HELP trawl_store_bytes Store size.\n"
	    "# TYPE trawl_store_bytes gauge\n"
	    "trawl_store_bytes 42\n"
	    "# HELP trawl_detached Gone.\n"
	    "# TYPE trawl_detached gauge\n"
	    "# TYPE trawl_nohelp_total counter\n"
	    "trawl_nohelp_total{path=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 1\n",
	    "render: exact exposition text");
	is_int(calls, 1, "gauge_fn: called once per scrape");

	/* gauge_fn: replace, detach, conflicts with plain gauges. */
	ok(tw_metrics_gauge_fn(m, "trawl_store_bytes", NULL, NULL, seven,
	    NULL) == 0, "gauge_fn: replaced");
	tw_buf_reset(&out);
	ok(tw_metrics_render(m, &out) == 0 &&
	    strstr(out.data, "\ntrawl_store_bytes 7\n") != NULL,
	    "gauge_fn: replacement rendered");
	ok(tw_metrics_gauge_fn(m, "trawl_store_bytes", NULL, NULL, NULL,
	    NULL) == 0, "gauge_fn: detached");
	tw_buf_reset(&out);
	ok(tw_metrics_render(m, &out) == 0 &&
	    strstr(out.data, "\ntrawl_store_bytes ") == NULL &&
	    calls == 1, "gauge_fn: detached series not rendered");
	is_int(tw_metrics_gauge_fn(m, "trawl_value", NULL, "k=\"a\"", seven,
	    NULL), TW_EEXISTS, "gauge_fn: a plain gauge series is refused");
	ok(tw_metrics_gauge(m, "trawl_store_bytes", NULL, NULL) == NULL,
	    "gauge: a gauge_fn series is refused");
	ok(tw_metrics_gauge_fn(m, "trawl_store_bytes", NULL, "x=\"1\"", seven,
	    NULL) == 0, "gauge_fn: fn and plain series mix in a family");
	tw_buf_cleanup(&out);

	/* A ceiling hit leaves the buffer as it was. */
	tw_buf_init(&out, 100);
	ok(tw_buf_adds(&out, "keep") == 0, "render: small buffer");
	is_int(tw_metrics_render(m, &out), TW_ETOOBIG,
	    "render: TW_ETOOBIG past the ceiling");
	ok(out.len == 4 && strcmp(out.data, "keep") == 0,
	    "render: buffer restored on error");
	tw_buf_cleanup(&out);

	tw_metrics_free(m);

	m = tw_metrics_new();
	tw_buf_init(&out, 64);
	ok(tw_metrics_render(m, &out) == 0 && out.len == 0,
	    "render: empty registry renders nothing");
	tw_buf_cleanup(&out);
	tw_metrics_free(m);
}

static void
test_escape(void)
{
	struct tw_buf b;

	tw_buf_init(&b, 64);
	ok(tw_metrics_label_escape(&b, "a\"b\\c\nd e") == 0,
	    "escape: ok");
	is_str(b.data, "a\\\"b\\\\c\\nd e", "escape: \\ \" and newline");
	tw_buf_reset(&b);
	ok(tw_metrics_label_escape(&b, "") == 0 && b.len == 0,
	    "escape: empty value");
	ok(tw_metrics_label_add(&b, "a", "x") == 0 &&
	    tw_metrics_label_add(&b, "b", "y\"") == 0,
	    "label_add: two labels");
	is_str(b.data, "a=\"x\",b=\"y\\\"\"", "label_add: comma-separated");
	is_int(tw_metrics_label_add(&b, "bad-name", "x"), TW_EINVAL,
	    "label_add: bad name refused");
	is_int(tw_metrics_label_add(&b, "__x", "x"), TW_EINVAL,
	    "label_add: reserved name refused");
	is_str(b.data, "a=\"x\",b=\"y\\\"\"", "label_add: unchanged on error");
	tw_buf_cleanup(&b);

	tw_buf_init(&b, 8);
	ok(tw_buf_adds(&b, "ab") == 0, "escape: small buffer");
	is_int(tw_metrics_label_escape(&b, "\"\"\"\"\""), TW_ETOOBIG,
	    "escape: TW_ETOOBIG past the ceiling");
	is_str(b.data, "ab", "escape: buffer restored on error");
	is_int(tw_metrics_label_add(&b, "name", "value"), TW_ETOOBIG,
	    "label_add: TW_ETOOBIG past the ceiling");
	is_str(b.data, "ab", "label_add: buffer restored on error");
	tw_buf_cleanup(&b);
}

int
main(void)
{
	/* Refusals are logged at warn; keep the TAP output readable. */
	tw_log_set_level(TW_LOG_ERROR);
	test_get_or_create();
	test_names();
	test_histogram();
	test_exposition();
	test_escape();
	test_threads();
	return done_testing();
}
