/* state.c: threshold (event_count, value_count) and throttle state (RULES.md §8, §9). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "state.h"

#define LRU_SCAN_MAX 1024 /* throttle windows looked at for an expired one */

struct dval {
	char *s;
	size_t n;
	uint32_t refs;
};

struct fifo_ent {
	int64_t t;
	uint32_t dv; /* index into group.dv, value_count only */
};

struct group {
	struct fifo_ent *q; /* ring */
	size_t head, len, cap;
	struct dval *dv;
	size_t ndv, capdv, live;
};

struct window {
	int64_t start;
	uint32_t passed;
	uint64_t suppressed;
	int64_t first_t, last_t;
};

struct entry {
	char *key;
	size_t klen;
	uint64_t hash;
	struct entry *hnext;
	struct entry *prev, *next; /* LRU: head is the most recent */
	union {
		struct group g;
		struct window w;
	} u;
};

struct table {
	struct entry **b;
	size_t nb, n;
	struct entry *head, *tail;
};

struct rule_state {
	struct table groups, windows;
	uint64_t suppressed, evicted;
};

struct tw_state {
	struct rule_state *r;
	size_t n;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void
group_clear(struct group *g)
{
	for (size_t i = 0; i < g->ndv; i++)
		free(g->dv[i].s);
	g->ndv = 0;
	g->live = 0;
	g->len = 0;
	g->head = 0;
}

static void
entry_free(struct entry *e, bool is_group)
{
	if (is_group) {
		group_clear(&e->u.g);
		free(e->u.g.q);
		free(e->u.g.dv);
	}
	free(e->key);
	free(e);
}

static void
table_free(struct table *t, bool is_group)
{
	struct entry *e, *en;

	for (e = t->head; e != NULL; e = en) {
		en = e->next;
		entry_free(e, is_group);
	}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

struct tw_state *
tw_state_new(size_t nrules)
{
	struct tw_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (nrules > 0 && (s->r = calloc(nrules, sizeof(*s->r))) == NULL) {
		free(s);
		return NULL;
	}
	s->n = nrules;
	return s;
}

void
tw_state_free(struct tw_state *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		table_free(&s->r[i].groups, true);
		table_free(&s->r[i].windows, false);
	}
	free(s->r);
	free(s);
}

int
tw_state_key_add(struct tw_buf *key, const char *s, size_t n)
{
	uint32_t len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	int r;

	if ((r = tw_buf_add(key, &len, sizeof(len))) != 0)
		return r;
	return tw_buf_add(key, s, len);
}

bool
tw_state_key_get(const char *key, size_t klen, size_t i, const char **s,
    size_t *n)
{
	size_t off = 0;
	uint32_t len;

	for (;;) {
		if (klen - off < sizeof(len))
			return false;
		memcpy(&len, key + off, sizeof(len));
		off += sizeof(len);
		if (klen - off < len)
			return false;
		if (i-- == 0) {
			*s = key + off;
			*n = len;
			return true;
		}
		off += len;
	}
}

static void
lru_unlink(struct table *t, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_front(struct table *t, struct entry *e)
{
	e->next = t->head;
	e->prev = NULL;
	if (t->head != NULL)
		t->head->prev = e;
	t->head = e;
	if (t->tail == NULL)
		t->tail = e;
}

static struct entry *
table_find(struct table *t, const char *key, size_t klen, uint64_t h)
{
	struct entry *e;

	if (t->nb == 0)
		return NULL;
	for (e = t->b[h & (t->nb - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

static void
table_remove(struct table *t, struct entry *e)
{
	struct entry **pp = &t->b[e->hash & (t->nb - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(t, e);
	t->n--;
}

static int
table_insert(struct table *t, struct entry *e)
{
	if (t->n + 1 > t->nb) {
		size_t nb = t->nb != 0 ? t->nb * 2 : 16;
		struct entry **b = calloc(nb, sizeof(*b)), *x, *xn;

		if (b == NULL)
			return TW_ENOMEM;
		for (size_t i = 0; i < t->nb; i++)
			for (x = t->b[i]; x != NULL; x = xn) {
				xn = x->hnext;
				x->hnext = b[x->hash & (nb - 1)];
				b[x->hash & (nb - 1)] = x;
			}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	e->hnext = t->b[e->hash & (t->nb - 1)];
	t->b[e->hash & (t->nb - 1)] = e;
	lru_front(t, e);
	t->n++;
	return 0;
}

static struct entry *
entry_new(const char *key, size_t klen, uint64_t h)
{
	struct entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->key = malloc(klen != 0 ? klen : 1)) == NULL) {
		free(e);
		return NULL;
	}
	if (klen > 0)
		memcpy(e->key, key, klen);
	e->klen = klen;
	e->hash = h;
	return e;
}

static void
fifo_pop(struct group *g)
{
	struct fifo_ent *f = &g->q[g->head];

	if (g->ndv > 0 && --g->dv[f->dv].refs == 0)
		g->live--;
	g->head = (g->head + 1) % g->cap;
	g->len--;
}

/* Drop the entry at ring position k (0 = front), keeping the order. */
static void
fifo_remove_at(struct group *g, size_t k)
{
	size_t cur = (g->head + k) % g->cap;

	if (g->ndv > 0 && --g->dv[g->q[cur].dv].refs == 0)
		g->live--;
	for (size_t i = k; i + 1 < g->len; i++) {
		size_t a = (g->head + i) % g->cap, b = (g->head + i + 1) % g->cap;

		g->q[a] = g->q[b];
	}
	g->len--;
}

static int
fifo_push(struct group *g, int64_t t, uint32_t dv)
{
	if (g->len == g->cap) {
		size_t cap = g->cap != 0 ? g->cap * 2 : 8;
		struct fifo_ent *q = malloc(cap * sizeof(*q));

		if (q == NULL)
			return TW_ENOMEM;
		for (size_t i = 0; i < g->len; i++)
			q[i] = g->q[(g->head + i) % g->cap];
		free(g->q);
		g->q = q;
		g->cap = cap;
		g->head = 0;
	}
	g->q[(g->head + g->len) % g->cap].t = t;
	g->q[(g->head + g->len) % g->cap].dv = dv;
	g->len++;
	return 0;
}

/* The index of distinct value dv in g, added (with no reference) if new. */
static int
dval_index(struct group *g, const char *dv, size_t n, uint32_t *idx)
{
	size_t free_slot = (size_t)-1;

	for (size_t i = 0; i < g->ndv; i++) {
		if (g->dv[i].refs > 0 && g->dv[i].n == n &&
		    memcmp(g->dv[i].s, dv, n) == 0) {
			*idx = (uint32_t)i;
			return 0;
		}
		if (g->dv[i].refs == 0 && free_slot == (size_t)-1)
			free_slot = i;
	}
	if (free_slot == (size_t)-1) {
		if (g->ndv == g->capdv) {
			size_t cap = g->capdv != 0 ? g->capdv * 2 : 8;
			struct dval *v = realloc(g->dv, cap * sizeof(*v));

			if (v == NULL)
				return TW_ENOMEM;
			g->dv = v;
			g->capdv = cap;
		}
		free_slot = g->ndv++;
		g->dv[free_slot].s = NULL;
	}
	free(g->dv[free_slot].s);
	if ((g->dv[free_slot].s = malloc(n != 0 ? n : 1)) == NULL) {
		g->dv[free_slot].n = 0;
		g->dv[free_slot].refs = 0;
		return TW_ENOMEM;
	}
	if (n > 0)
		memcpy(g->dv[free_slot].s, dv, n);
	g->dv[free_slot].n = n;
	g->dv[free_slot].refs = 0;
	*idx = (uint32_t)free_slot;
	return 0;
}

int
tw_state_threshold(struct tw_state *s, size_t rule, const char *key,
    size_t klen, const char *dv, size_t dvlen, int64_t t, int64_t window,
    uint32_t count, uint32_t *n)
{
	struct rule_state *rs = &s->r[rule];
	struct table *tb = &rs->groups;
	uint64_t h = fnv(key, klen);
	struct entry *e;
	struct group *g;
	uint32_t idx = 0;
	size_t cnt;
	int r;

	if ((e = table_find(tb, key, klen, h)) != NULL) {
		lru_unlink(tb, e);
		lru_front(tb, e);
	} else {
		if (tb->n >= TW_STATE_GROUPS_MAX) {
			struct entry *old = tb->tail;

			table_remove(tb, old);
			entry_free(old, true);
			rs->evicted++;
		}
		if ((e = entry_new(key, klen, h)) == NULL)
			return TW_ENOMEM;
		if ((r = table_insert(tb, e)) != 0) {
			entry_free(e, true);
			return r;
		}
	}
	g = &e->u.g;
	if (dv != NULL && (r = dval_index(g, dv, dvlen, &idx)) != 0)
		return r;
	if (g->len >= TW_STATE_FIFO_MAX) {
		/* Full: drop the oldest entry of this value, else the oldest. */
		size_t k = 0;

		if (dv != NULL)
			for (k = 0; k < g->len; k++)
				if (g->q[(g->head + k) % g->cap].dv == idx)
					break;
		fifo_remove_at(g, k < g->len ? k : 0);
	}
	if ((r = fifo_push(g, t, idx)) != 0)
		return r;
	if (dv != NULL && g->dv[idx].refs++ == 0)
		g->live++;
	/* The window is (t - window, t]. */
	while (g->len > 0 && g->q[g->head].t <= t - window)
		fifo_pop(g);
	cnt = dv != NULL ? g->live : g->len;
	if (cnt < count)
		return 0;
	*n = (uint32_t)cnt;
	group_clear(g);
	return 1;
}

static void
report(size_t rule, struct entry *e, tw_throttle_summary_cb *cb, void *arg)
{
	struct tw_throttle_summary sum;

	if (cb == NULL || e->u.w.suppressed == 0)
		return;
	sum.rule = rule;
	sum.key = e->key;
	sum.klen = e->klen;
	sum.suppressed = e->u.w.suppressed;
	sum.first_time = e->u.w.first_t;
	sum.last_time = e->u.w.last_t;
	cb(arg, &sum);
}

int
tw_state_throttle(struct tw_state *s, size_t rule, const char *key,
    size_t klen, int64_t t, int64_t window, uint32_t max,
    tw_throttle_summary_cb *cb, void *arg)
{
	struct rule_state *rs = &s->r[rule];
	struct table *tb = &rs->windows;
	uint64_t h = fnv(key, klen);
	struct entry *e, *victim;
	struct window *w;
	int r;

	if ((e = table_find(tb, key, klen, h)) != NULL) {
		lru_unlink(tb, e);
		lru_front(tb, e);
		w = &e->u.w;
		if (t - w->start < window) {
			if (w->passed >= max) {
				if (w->suppressed++ == 0)
					w->first_t = t;
				w->last_t = t;
				rs->suppressed++;
				return 0;
			}
			w->passed++;
			return 1;
		}
		report(rule, e, cb, arg);
		memset(w, 0, sizeof(*w));
		w->start = t;
		w->passed = 1;
		return 1;
	}
	if (tb->n >= TW_STATE_KEYS_MAX) {
		/* Expired windows go first, then the least recently used. */
		size_t k = 0;

		victim = NULL;
		for (e = tb->tail; e != NULL && k < LRU_SCAN_MAX; e = e->prev, k++)
			if (t - e->u.w.start >= window) {
				victim = e;
				break;
			}
		if (victim == NULL)
			victim = tb->tail;
		report(rule, victim, cb, arg);
		table_remove(tb, victim);
		entry_free(victim, false);
		rs->evicted++;
	}
	if ((e = entry_new(key, klen, h)) == NULL)
		return TW_ENOMEM;
	if ((r = table_insert(tb, e)) != 0) {
		entry_free(e, false);
		return r;
	}
	e->u.w.start = t;
	e->u.w.passed = 1;
	return 1;
}

void
tw_state_flush(struct tw_state *s, tw_throttle_summary_cb *cb, void *arg)
{
	for (size_t i = 0; i < s->n; i++) {
		for (struct entry *e = s->r[i].windows.head; e != NULL;
		    e = e->next) {
			report(i, e, cb, arg);
			e->u.w.suppressed = 0;
		}
	}
}

uint64_t
tw_state_suppressed(const struct tw_state *s, size_t rule)
{
	return rule < s->n ? s->r[rule].suppressed : 0;
}

uint64_t
tw_state_evicted(const struct tw_state *s, size_t rule)
{
	return rule < s->n ? s->r[rule].evicted : 0;
}

void
tw_state_take(struct tw_state *s, size_t rule, struct tw_state *from,
    size_t old_rule)
{
	if (rule >= s->n || old_rule >= from->n)
		return;
	table_free(&s->r[rule].groups, true);
	table_free(&s->r[rule].windows, false);
	s->r[rule] = from->r[old_rule];
	memset(&from->r[old_rule], 0, sizeof(from->r[old_rule]));
}
