/* metrics.h: Prometheus metrics registry and text exposition (format 0.0.4). */
#ifndef TW_METRICS_H
#define TW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * A registry holds metric families in registration order; a family has a
 * name, a help text, a type, and series told apart by their label set.
 *
 * Labels are passed preformatted and already escaped, as they appear
 * between the braces of the exposition: NULL or "" for none, or
 * `status="200",reason="bad_token"`. A series is identified by the exact
 * label string, so callers keep the label order fixed. Label strings are
 * checked for syntax (names [a-zA-Z_][a-zA-Z0-9_]*, not starting "__",
 * values quoted with only \\, \" and \n escapes, no repeated name); build
 * them with tw_metrics_label_add() to be safe. Metric names must match
 * [a-zA-Z_:][a-zA-Z0-9_:]*.
 *
 * Registration (tw_metrics_counter() and friends) is get-or-create under
 * the registry mutex: hot paths register once and keep the pointer. The
 * pointers stay valid until tw_metrics_free(). Updating a counter, gauge or
 * histogram is lock-free and never fails; every update function accepts
 * NULL and does nothing, so a failed or skipped registration (a NULL
 * registry gives NULL metrics) only loses the metric.
 */
struct tw_metrics;
struct tw_counter;
struct tw_gauge;
struct tw_histogram;

/* A gauge computed at scrape time; called under the registry mutex. */
typedef double (*tw_metrics_gauge_cb)(void *arg);

/* Default latency buckets in seconds, 0.0005 to 10 (+Inf is implicit). */
#define TW_METRICS_LATENCY_NBOUNDS 14
extern const double tw_metrics_latency_bounds[TW_METRICS_LATENCY_NBOUNDS];

/* Bounds per histogram and labels per series accepted at most. */
#define TW_METRICS_BOUNDS_MAX 64
#define TW_METRICS_LABELS_MAX 16

/* A new empty registry, or NULL when out of memory. */
struct tw_metrics *tw_metrics_new(void);
/* Free the registry and every metric in it; no scrape or update may run. */
void tw_metrics_free(struct tw_metrics *m);

/*
 * Get or create the counter name{labels}. NULL when m is NULL, a name or
 * the labels are invalid, the name is registered with another type, or
 * memory runs out (refusals are logged). help is copied on creation.
 * Thread-safe.
 */
struct tw_counter *tw_metrics_counter(struct tw_metrics *m, const char *name,
    const char *help, const char *labels);
/* Add n; lock-free (per-thread shards, relaxed atomics), NULL-safe. */
void tw_counter_add(struct tw_counter *c, uint64_t n);
/* Add 1; lock-free, NULL-safe. */
void tw_counter_inc(struct tw_counter *c);
/* The current total (sum of the shards); 0 for NULL. Thread-safe. */
uint64_t tw_counter_get(const struct tw_counter *c);

/* Get or create the gauge name{labels}; as tw_metrics_counter(). */
struct tw_gauge *tw_metrics_gauge(struct tw_metrics *m, const char *name,
    const char *help, const char *labels);
/* Set the value; lock-free, NULL-safe. */
void tw_gauge_set(struct tw_gauge *g, double v);
/* Add d (may be negative); lock-free (CAS), NULL-safe. */
void tw_gauge_add(struct tw_gauge *g, double d);
/* The current value; 0 for NULL. Thread-safe. */
double tw_gauge_get(const struct tw_gauge *g);

/*
 * Register the gauge name{labels} whose value is fn(arg) at scrape time.
 * Registering the same series again replaces fn and arg; fn NULL detaches
 * it (the series is then not rendered), so arg must stay valid until then
 * or until tw_metrics_free(). fn runs under the registry mutex and must
 * not call into the registry. Returns 0, TW_EINVAL (bad name or labels,
 * type conflict, m NULL), TW_EEXISTS (a plain gauge holds that series),
 * TW_ENOMEM. Thread-safe.
 */
int tw_metrics_gauge_fn(struct tw_metrics *m, const char *name,
    const char *help, const char *labels, tw_metrics_gauge_cb fn, void *arg);

/*
 * Set the info gauge name{labels} to 1, replacing the family's previous
 * label set (so a config hash can change on reload); rendered as a gauge.
 * Returns 0, TW_EINVAL (as tw_metrics_gauge_fn()), TW_ENOMEM. Thread-safe.
 */
int tw_metrics_info(struct tw_metrics *m, const char *name, const char *help,
    const char *labels);

/*
 * Get or create the histogram name{labels} with the given upper bounds
 * (finite, strictly increasing, 1..TW_METRICS_BOUNDS_MAX of them; +Inf is
 * added). bounds is copied; every series of a family must use the same
 * bounds and may not use the label "le". NULL on the errors of
 * tw_metrics_counter() or on bad or mismatched bounds. Thread-safe.
 */
struct tw_histogram *tw_metrics_histogram(struct tw_metrics *m,
    const char *name, const char *help, const char *labels,
    const double *bounds, size_t nbounds);
/* Count v in its bucket (NaN goes to +Inf); lock-free, NULL-safe. */
void tw_histogram_observe(struct tw_histogram *h, double v);
/* Observations so far; 0 for NULL. Thread-safe. */
uint64_t tw_histogram_count(const struct tw_histogram *h);
/* Sum of observations so far; 0 for NULL. Thread-safe. */
double tw_histogram_sum(const struct tw_histogram *h);

/*
 * Append the text exposition of every family to out: one # HELP (when
 * help is not empty) and # TYPE per family, families in registration
 * order, series sorted by label string. Returns 0, or TW_ETOOBIG /
 * TW_ENOMEM with out restored to its previous length. Thread-safe.
 */
int tw_metrics_render(struct tw_metrics *m, struct tw_buf *out);

/*
 * Append value escaped for a label value (\\, \", \n), without quotes.
 * Returns 0 or a tw_buf error with out unchanged.
 */
int tw_metrics_label_escape(struct tw_buf *out, const char *value);

/*
 * Append name="value" (value escaped), preceded by a comma when out is
 * not empty. Returns 0, TW_EINVAL for a bad label name, or a tw_buf error;
 * out is unchanged on error.
 */
int tw_metrics_label_add(struct tw_buf *out, const char *name,
    const char *value);

#endif
