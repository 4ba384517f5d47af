/* metrics.c: Prometheus metrics registry and text exposition (format 0.0.4). */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

/*
 * Counters are split over a few cache-line-sized shards; each thread picks
 * one on first use (round robin), so hot counters bumped from several
 * threads do not bounce one line between cores. A scrape sums them.
 */
#define COUNTER_SHARDS 8
#define CACHELINE 64

struct counter_shard {
	_Alignas(CACHELINE) _Atomic uint64_t v;
};

struct tw_counter {
	struct counter_shard shard[COUNTER_SHARDS];
};

struct tw_gauge {
	_Atomic uint64_t bits; /* the double's bit pattern */
};

struct tw_histogram {
	const double *bounds; /* the family's, nbounds of them */
	size_t nbounds;
	_Atomic uint64_t sum_bits;
	/* nbounds + 1 of them, not cumulative; the last is +Inf */
	_Atomic uint64_t buckets[];
};

enum family_type {
	FAMILY_COUNTER,
	FAMILY_GAUGE,
	FAMILY_HISTOGRAM,
	FAMILY_INFO,
};

struct series {
	struct series *next;
	char *labels; /* "" for none */
	struct tw_counter *counter;
	struct tw_gauge *gauge;
	struct tw_histogram *histogram;
	int is_fn;
	tw_metrics_gauge_cb fn;
	void *arg;
};

struct family {
	struct family *next;
	char *name;
	char *help;
	enum family_type type;
	double *bounds;
	size_t nbounds;
	struct series *series; /* sorted by labels */
};

struct tw_metrics {
	pthread_mutex_t lock;
	struct family *head;
	struct family *tail;
};

/* What a registration asks for. */
struct reg {
	const char *name;
	const char *help;
	const char *labels;
	enum family_type type;
	const double *bounds;
	size_t nbounds;
	int is_fn;
};

const double tw_metrics_latency_bounds[TW_METRICS_LATENCY_NBOUNDS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static _Thread_local unsigned shard_mine; /* 1 + shard index; 0 unset */
static _Atomic unsigned shard_next;

static const char *const type_names[] = {
	[FAMILY_COUNTER] = "counter",
	[FAMILY_GAUGE] = "gauge",
	[FAMILY_HISTOGRAM] = "histogram",
	[FAMILY_INFO] = "gauge",
};

static unsigned
shard_index(void)
{
	unsigned s = shard_mine;

	if (s == 0) {
		s = atomic_fetch_add_explicit(&shard_next, 1,
		    memory_order_relaxed) % COUNTER_SHARDS + 1;
		shard_mine = s;
	}
	return s - 1;
}

static uint64_t
double_bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

static double
bits_double(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static void
buf_restore(struct tw_buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

static int
is_name_start(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':');
}

static int
is_name_char(char c, int colon)
{
	return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics; without ':' for labels. */
static int
name_valid(const char *s, int colon)
{
	if (s == NULL || !is_name_start(*s, colon))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!is_name_char(*s, colon))
			return 0;
	return 1;
}

/* Check a preformatted label list; see metrics.h for the grammar. */
static int
labels_valid(const char *s, int forbid_le)
{
	struct {
		const char *p;
		size_t len;
	} seen[TW_METRICS_LABELS_MAX];
	size_t nseen = 0, len, i;
	const char *start;

	if (*s == '\0')
		return 1;
	for (;;) {
		start = s;
		if (!is_name_start(*s, 0))
			return 0;
		while (is_name_char(*s, 0))
			s++;
		len = (size_t)(s - start);
		if (len >= 2 && start[0] == '_' && start[1] == '_')
			return 0;
		if (forbid_le && len == 2 && memcmp(start, "le", 2) == 0)
			return 0;
		for (i = 0; i < nseen; i++)
			if (seen[i].len == len &&
			    memcmp(seen[i].p, start, len) == 0)
				return 0;
		if (nseen == TW_METRICS_LABELS_MAX)
			return 0;
		seen[nseen].p = start;
		seen[nseen].len = len;
		nseen++;
		if (*s++ != '=' || *s++ != '"')
			return 0;
		for (; *s != '"'; s++) {
			if (*s == '\0' || *s == '\n')
				return 0;
			if (*s == '\\') {
				s++;
				if (*s != '\\' && *s != '"' && *s != 'n')
					return 0;
			}
		}
		s++;
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

static int
bounds_valid(const double *bounds, size_t n)
{
	if (bounds == NULL || n == 0 || n > TW_METRICS_BOUNDS_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(bounds[i]))
			return 0;
		if (i > 0 && !(bounds[i] > bounds[i - 1]))
			return 0;
	}
	return 1;
}

static void
refuse(const char *name, const char *reason)
{
	tw_warn("metrics", "metric registration refused",
	    "name", name != NULL ? name : "(null)", "reason", reason);
}

/* Validate what does not need the registry; logs and returns 0 if bad. */
static int
reg_valid(const struct reg *r)
{
	if (!name_valid(r->name, 1)) {
		refuse(r->name, "invalid metric name");
		return 0;
	}
	if (!labels_valid(r->labels, r->type == FAMILY_HISTOGRAM)) {
		refuse(r->name, "invalid labels");
		return 0;
	}
	if (r->type == FAMILY_HISTOGRAM && !bounds_valid(r->bounds,
	    r->nbounds)) {
		refuse(r->name, "invalid histogram bounds");
		return 0;
	}
	return 1;
}

static void
series_free(struct series *s)
{
	free(s->labels);
	free(s->counter);
	free(s->gauge);
	free(s->histogram);
	free(s);
}

static void
family_free(struct family *f)
{
	struct series *s, *next;

	for (s = f->series; s != NULL; s = next) {
		next = s->next;
		series_free(s);
	}
	free(f->name);
	free(f->help);
	free(f->bounds);
	free(f);
}

/* Find or create the family; the registry lock is held. */
static int
family_get(struct tw_metrics *m, const struct reg *r, struct family **out)
{
	struct family *f;

	for (f = m->head; f != NULL; f = f->next)
		if (strcmp(f->name, r->name) == 0)
			break;
	if (f != NULL) {
		if (f->type != r->type) {
			refuse(r->name, "registered with another type");
			return TW_EINVAL;
		}
		if (f->type == FAMILY_HISTOGRAM && (f->nbounds != r->nbounds ||
		    memcmp(f->bounds, r->bounds,
		    r->nbounds * sizeof(double)) != 0)) {
			refuse(r->name, "registered with other bounds");
			return TW_EINVAL;
		}
		*out = f;
		return 0;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return TW_ENOMEM;
	f->type = r->type;
	f->name = strdup(r->name);
	f->help = strdup(r->help != NULL ? r->help : "");
	if (f->name == NULL || f->help == NULL)
		goto fail;
	if (r->type == FAMILY_HISTOGRAM) {
		f->bounds = malloc(r->nbounds * sizeof(double));
		if (f->bounds == NULL)
			goto fail;
		memcpy(f->bounds, r->bounds, r->nbounds * sizeof(double));
		f->nbounds = r->nbounds;
	}
	if (m->tail != NULL)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	*out = f;
	return 0;
fail:
	family_free(f);
	return TW_ENOMEM;
}

static struct series *
series_new(const struct family *f, const char *labels, int is_fn)
{
	struct series *s;
	size_t n;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->labels = strdup(labels)) == NULL)
		goto fail;
	s->is_fn = is_fn;
	switch (f->type) {
	case FAMILY_COUNTER:
		s->counter = aligned_alloc(CACHELINE, sizeof(*s->counter));
		if (s->counter == NULL)
			goto fail;
		for (n = 0; n < COUNTER_SHARDS; n++)
			atomic_init(&s->counter->shard[n].v, 0);
		break;
	case FAMILY_GAUGE:
		if (is_fn)
			break;
		if ((s->gauge = malloc(sizeof(*s->gauge))) == NULL)
			goto fail;
		atomic_init(&s->gauge->bits, double_bits(0.0));
		break;
	case FAMILY_HISTOGRAM:
		n = f->nbounds + 1;
		s->histogram = malloc(sizeof(*s->histogram) +
		    n * sizeof(s->histogram->buckets[0]));
		if (s->histogram == NULL)
			goto fail;
		s->histogram->bounds = f->bounds;
		s->histogram->nbounds = f->nbounds;
		atomic_init(&s->histogram->sum_bits, double_bits(0.0));
		while (n-- > 0)
			atomic_init(&s->histogram->buckets[n], 0);
		break;
	case FAMILY_INFO:
		break;
	}
	return s;
fail:
	series_free(s);
	return NULL;
}

/* Find or create the series in f, kept sorted; the lock is held. */
static int
series_get(struct family *f, const char *labels, int is_fn,
    struct series **out)
{
	struct series **pp, *s;
	int c = 1;

	for (pp = &f->series; *pp != NULL; pp = &(*pp)->next)
		if ((c = strcmp((*pp)->labels, labels)) >= 0)
			break;
	if (*pp != NULL && c == 0) {
		*out = *pp;
		return 0;
	}
	if ((s = series_new(f, labels, is_fn)) == NULL)
		return TW_ENOMEM;
	s->next = *pp;
	*pp = s;
	*out = s;
	return 0;
}

/* Get or create the series r describes; the lock is held. */
static int
lookup(struct tw_metrics *m, const struct reg *r, struct series **out)
{
	struct family *f;
	int err;

	if ((err = family_get(m, r, &f)) != 0)
		return err;
	if ((err = series_get(f, r->labels, r->is_fn, out)) != 0)
		return err;
	if ((*out)->is_fn != r->is_fn) {
		refuse(r->name, "series exists as another kind of gauge");
		return TW_EEXISTS;
	}
	return 0;
}

static struct series *
lookup_locked(struct tw_metrics *m, struct reg *r)
{
	struct series *s = NULL;

	if (m == NULL)
		return NULL;
	if (r->labels == NULL)
		r->labels = "";
	if (!reg_valid(r))
		return NULL;
	pthread_mutex_lock(&m->lock);
	if (lookup(m, r, &s) != 0)
		s = NULL;
	pthread_mutex_unlock(&m->lock);
	return s;
}

struct tw_metrics *
tw_metrics_new(void)
{
	struct tw_metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void
tw_metrics_free(struct tw_metrics *m)
{
	struct family *f, *next;

	if (m == NULL)
		return;
	for (f = m->head; f != NULL; f = next) {
		next = f->next;
		family_free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct tw_counter *
tw_metrics_counter(struct tw_metrics *m, const char *name, const char *help,
    const char *labels)
{
	struct reg r = { name, help, labels, FAMILY_COUNTER, NULL, 0, 0 };
	struct series *s = lookup_locked(m, &r);

	return s != NULL ? s->counter : NULL;
}

void
tw_counter_add(struct tw_counter *c, uint64_t n)
{
	if (c == NULL)
		return;
	atomic_fetch_add_explicit(&c->shard[shard_index()].v, n,
	    memory_order_relaxed);
}

void
tw_counter_inc(struct tw_counter *c)
{
	tw_counter_add(c, 1);
}

uint64_t
tw_counter_get(const struct tw_counter *c)
{
	uint64_t sum = 0;

	if (c == NULL)
		return 0;
	for (size_t i = 0; i < COUNTER_SHARDS; i++)
		sum += atomic_load_explicit(&c->shard[i].v,
		    memory_order_relaxed);
	return sum;
}

struct tw_gauge *
tw_metrics_gauge(struct tw_metrics *m, const char *name, const char *help,
    const char *labels)
{
	struct reg r = { name, help, labels, FAMILY_GAUGE, NULL, 0, 0 };
	struct series *s = lookup_locked(m, &r);

	return s != NULL ? s->gauge : NULL;
}

void
tw_gauge_set(struct tw_gauge *g, double v)
{
	if (g == NULL)
		return;
	atomic_store_explicit(&g->bits, double_bits(v), memory_order_relaxed);
}

static void
atomic_double_add(_Atomic uint64_t *bits, double d)
{
	uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(bits, &old,
	    double_bits(bits_double(old) + d), memory_order_relaxed,
	    memory_order_relaxed))
		continue;
}

void
tw_gauge_add(struct tw_gauge *g, double d)
{
	if (g == NULL)
		return;
	atomic_double_add(&g->bits, d);
}

double
tw_gauge_get(const struct tw_gauge *g)
{
	if (g == NULL)
		return 0;
	return bits_double(atomic_load_explicit(&g->bits,
	    memory_order_relaxed));
}

int
tw_metrics_gauge_fn(struct tw_metrics *m, const char *name, const char *help,
    const char *labels, tw_metrics_gauge_cb fn, void *arg)
{
	struct reg r = { name, help, labels, FAMILY_GAUGE, NULL, 0, 1 };
	struct series *s;
	int err;

	if (m == NULL)
		return TW_EINVAL;
	if (r.labels == NULL)
		r.labels = "";
	if (!reg_valid(&r))
		return TW_EINVAL;
	pthread_mutex_lock(&m->lock);
	if ((err = lookup(m, &r, &s)) == 0) {
		s->fn = fn;
		s->arg = arg;
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

int
tw_metrics_info(struct tw_metrics *m, const char *name, const char *help,
    const char *labels)
{
	struct reg r = { name, help, labels, FAMILY_INFO, NULL, 0, 0 };
	struct family *f;
	struct series *s, *next;
	int err;

	if (m == NULL)
		return TW_EINVAL;
	if (r.labels == NULL)
		r.labels = "";
	if (!reg_valid(&r))
		return TW_EINVAL;
	pthread_mutex_lock(&m->lock);
	if ((err = family_get(m, &r, &f)) != 0)
		goto out;
	if (f->series != NULL && f->series->next == NULL &&
	    strcmp(f->series->labels, r.labels) == 0)
		goto out;
	/* Nobody holds pointers to info series, so they can be replaced. */
	if ((s = series_new(f, r.labels, 0)) == NULL) {
		err = TW_ENOMEM;
		goto out;
	}
	for (next = f->series; next != NULL; ) {
		struct series *old = next;

		next = old->next;
		series_free(old);
	}
	f->series = s;
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

struct tw_histogram *
tw_metrics_histogram(struct tw_metrics *m, const char *name, const char *help,
    const char *labels, const double *bounds, size_t nbounds)
{
	struct reg r = { name, help, labels, FAMILY_HISTOGRAM, bounds,
	    nbounds, 0 };
	struct series *s = lookup_locked(m, &r);

	return s != NULL ? s->histogram : NULL;
}

void
tw_histogram_observe(struct tw_histogram *h, double v)
{
	size_t lo = 0, hi, mid;

	if (h == NULL)
		return;
	/* First bucket with v <= bound; NaN compares false, lands in +Inf. */
	hi = h->nbounds;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v <= h->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	atomic_fetch_add_explicit(&h->buckets[lo], 1, memory_order_relaxed);
	atomic_double_add(&h->sum_bits, v);
}

uint64_t
tw_histogram_count(const struct tw_histogram *h)
{
	uint64_t n = 0;

	if (h == NULL)
		return 0;
	for (size_t i = 0; i <= h->nbounds; i++)
		n += atomic_load_explicit(&h->buckets[i],
		    memory_order_relaxed);
	return n;
}

double
tw_histogram_sum(const struct tw_histogram *h)
{
	if (h == NULL)
		return 0;
	return bits_double(atomic_load_explicit(&h->sum_bits,
	    memory_order_relaxed));
}

/*
 * Format v as Prometheus parses it: integers without exponent, the
 * shortest round-tripping %g otherwise, and +Inf, -Inf, NaN. (printf's
 * decimal point follows LC_NUMERIC; the daemons never change it.)
 */
static void
fmt_double(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == 0)
		snprintf(buf, size, "0");
	else if (v > -1e17 && v < 1e17 && v == (double)(long long)v)
		snprintf(buf, size, "%.0f", v);
	else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static int
put_help(struct tw_buf *out, const struct family *f)
{
	const char *p;
	int r;

	if (f->help[0] != '\0') {
		if ((r = tw_buf_addf(out, "# HELP %s ", f->name)) != 0)
			return r;
		for (p = f->help; *p != '\0'; p++) {
			if (*p == '\\')
				r = tw_buf_adds(out, "\\\\");
			else if (*p == '\n')
				r = tw_buf_adds(out, "\\n");
			else
				r = tw_buf_addc(out, *p);
			if (r != 0)
				return r;
		}
		if ((r = tw_buf_addc(out, '\n')) != 0)
			return r;
	}
	return tw_buf_addf(out, "# TYPE %s %s\n", f->name,
	    type_names[f->type]);
}

/* name+suffix{labels,le="le"} value */
static int
put_sample(struct tw_buf *out, const struct family *f, const char *suffix,
    const char *labels, const char *le, const char *value)
{
	int r;

	if ((r = tw_buf_addf(out, "%s%s", f->name, suffix)) != 0)
		return r;
	if (labels[0] != '\0' || le != NULL) {
		r = tw_buf_addf(out, "{%s%s%s%s%s}", labels,
		    labels[0] != '\0' && le != NULL ? "," : "",
		    le != NULL ? "le=\"" : "", le != NULL ? le : "",
		    le != NULL ? "\"" : "");
		if (r != 0)
			return r;
	}
	return tw_buf_addf(out, " %s\n", value);
}

static int
put_histogram(struct tw_buf *out, const struct family *f,
    const struct series *s)
{
	const struct tw_histogram *h = s->histogram;
	char le[40], value[40];
	uint64_t cum = 0;
	size_t i;
	int r;

	for (i = 0; i <= h->nbounds; i++) {
		cum += atomic_load_explicit(&h->buckets[i],
		    memory_order_relaxed);
		if (i < h->nbounds)
			fmt_double(le, sizeof(le), h->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(value, sizeof(value), "%" PRIu64, cum);
		if ((r = put_sample(out, f, "_bucket", s->labels, le,
		    value)) != 0)
			return r;
	}
	fmt_double(value, sizeof(value), tw_histogram_sum(h));
	if ((r = put_sample(out, f, "_sum", s->labels, NULL, value)) != 0)
		return r;
	/* _count is the +Inf bucket, so the two always agree. */
	snprintf(value, sizeof(value), "%" PRIu64, cum);
	return put_sample(out, f, "_count", s->labels, NULL, value);
}

static int
put_family(struct tw_buf *out, const struct family *f)
{
	const struct series *s;
	char value[40];
	int r;

	if (f->series == NULL)
		return 0;
	if ((r = put_help(out, f)) != 0)
		return r;
	for (s = f->series; s != NULL; s = s->next) {
		switch (f->type) {
		case FAMILY_COUNTER:
			snprintf(value, sizeof(value), "%" PRIu64,
			    tw_counter_get(s->counter));
			break;
		case FAMILY_GAUGE:
			if (s->is_fn && s->fn == NULL)
				continue;
			fmt_double(value, sizeof(value), s->is_fn ?
			    s->fn(s->arg) : tw_gauge_get(s->gauge));
			break;
		case FAMILY_HISTOGRAM:
			if ((r = put_histogram(out, f, s)) != 0)
				return r;
			continue;
		case FAMILY_INFO:
			snprintf(value, sizeof(value), "1");
			break;
		}
		if ((r = put_sample(out, f, "", s->labels, NULL, value)) != 0)
			return r;
	}
	return 0;
}

int
tw_metrics_render(struct tw_metrics *m, struct tw_buf *out)
{
	const struct family *f;
	size_t len0 = out->len;
	int r = 0;

	if (m == NULL)
		return 0;
	pthread_mutex_lock(&m->lock);
	for (f = m->head; f != NULL; f = f->next)
		if ((r = put_family(out, f)) != 0)
			break;
	pthread_mutex_unlock(&m->lock);
	if (r != 0)
		buf_restore(out, len0);
	return r;
}

int
tw_metrics_label_escape(struct tw_buf *out, const char *value)
{
	size_t len0 = out->len;
	const char *p;
	int r = 0;

	if (value == NULL)
		return 0;
	for (p = value; *p != '\0' && r == 0; p++) {
		if (*p == '\\')
			r = tw_buf_adds(out, "\\\\");
		else if (*p == '"')
			r = tw_buf_adds(out, "\\\"");
		else if (*p == '\n')
			r = tw_buf_adds(out, "\\n");
		else
			r = tw_buf_addc(out, *p);
	}
	if (r != 0)
		buf_restore(out, len0);
	return r;
}

int
tw_metrics_label_add(struct tw_buf *out, const char *name, const char *value)
{
	size_t len0 = out->len;
	int r;

	if (!name_valid(name, 0) || (name[0] == '_' && name[1] == '_'))
		return TW_EINVAL;
	if ((r = tw_buf_addf(out, "%s%s=\"", len0 > 0 ? "," : "", name)) != 0)
		goto out;
	if ((r = tw_metrics_label_escape(out, value)) != 0)
		goto out;
	r = tw_buf_addc(out, '"');
out:
	if (r != 0)
		buf_restore(out, len0);
	return r;
}
