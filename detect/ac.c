/* ac.c: an Aho-Corasick automaton over ASCII-folded bytes, for the literal prefilter. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "value.h"

struct bstate {
	uint32_t next[256]; /* 0 = none (state 0 is the root, never a target) */
	uint32_t *ids;
	size_t nids;
};

struct tw_ac_builder {
	struct bstate *s;
	size_t n, cap;
};

struct tw_ac {
	uint8_t cls[256];    /* byte -> class */
	uint32_t nclass;
	uint32_t *delta;     /* state * nclass + class -> state */
	uint32_t *out_start; /* per state: offset into outs, count */
	uint32_t *out_n;
	uint32_t *dict;      /* next state up the fail chain with outputs */
	uint32_t *outs;
	uint32_t nstates;
};

struct tw_ac_builder *
tw_ac_builder_new(void)
{
	struct tw_ac_builder *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->s = calloc(16, sizeof(*b->s))) == NULL) {
		free(b);
		return NULL;
	}
	b->cap = 16;
	b->n = 1;
	return b;
}

void
tw_ac_builder_free(struct tw_ac_builder *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->s[i].ids);
	free(b->s);
	free(b);
}

int
tw_ac_add(struct tw_ac_builder *b, const char *p, size_t n, uint32_t id)
{
	uint32_t cur = 0, *ids;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = tw_lower((unsigned char)p[i]);

		if (b->s[cur].next[c] == 0) {
			if (b->n >= TW_AC_STATES_MAX)
				return TW_ELIMIT;
			if (b->n == b->cap) {
				struct bstate *ns = realloc(b->s, b->cap * 2 *
				    sizeof(*ns));

				if (ns == NULL)
					return TW_ENOMEM;
				memset(ns + b->cap, 0, b->cap * sizeof(*ns));
				b->s = ns;
				b->cap *= 2;
			}
			b->s[cur].next[c] = (uint32_t)b->n++;
		}
		cur = b->s[cur].next[c];
	}
	if ((ids = realloc(b->s[cur].ids, (b->s[cur].nids + 1) *
	    sizeof(*ids))) == NULL)
		return TW_ENOMEM;
	ids[b->s[cur].nids++] = id;
	b->s[cur].ids = ids;
	return 0;
}

struct tw_ac *
tw_ac_build(struct tw_ac_builder *b, struct tw_arena *a)
{
	struct tw_ac *ac = NULL;
	uint32_t *fail = NULL, *queue = NULL, head = 0, tail = 0;
	size_t nouts = 0, k = 0;
	bool used[256] = { false };

	if ((ac = tw_arena_alloc(a, sizeof(*ac))) == NULL)
		return NULL;
	for (size_t s = 0; s < b->n; s++) {
		for (int c = 0; c < 256; c++)
			if (b->s[s].next[c] != 0)
				used[c] = true;
		nouts += b->s[s].nids;
	}
	ac->nclass = 1;
	/* Bytes no pattern holds share class 0 (back to the root). */
	for (int c = 0; c < 256; c++)
		if (used[c] && tw_lower((unsigned char)c) == c)
			ac->cls[c] = (uint8_t)ac->nclass++;
	/* Upper-case bytes share their lower-case class. */
	for (int c = 'A'; c <= 'Z'; c++)
		ac->cls[c] = ac->cls[c + 32];
	ac->nstates = (uint32_t)b->n;
	if ((ac->delta = tw_arena_alloc(a, (size_t)ac->nstates * ac->nclass *
	    sizeof(*ac->delta))) == NULL ||
	    (ac->out_start = tw_arena_alloc(a, ac->nstates *
	    sizeof(*ac->out_start))) == NULL ||
	    (ac->out_n = tw_arena_alloc(a, ac->nstates *
	    sizeof(*ac->out_n))) == NULL ||
	    (ac->dict = tw_arena_alloc(a, ac->nstates *
	    sizeof(*ac->dict))) == NULL ||
	    (ac->outs = tw_arena_alloc(a, (nouts != 0 ? nouts : 1) *
	    sizeof(*ac->outs))) == NULL ||
	    (fail = calloc(b->n, sizeof(*fail))) == NULL ||
	    (queue = calloc(b->n, sizeof(*queue))) == NULL) {
		ac = NULL;
		goto out;
	}
	for (size_t s = 0; s < b->n; s++) {
		ac->out_start[s] = (uint32_t)k;
		ac->out_n[s] = (uint32_t)b->s[s].nids;
		for (size_t i = 0; i < b->s[s].nids; i++)
			ac->outs[k++] = b->s[s].ids[i];
	}
	/* Breadth first: fail links, the full transition table, dict links. */
	for (int c = 0; c < 256; c++) {
		uint32_t t = b->s[0].next[c];

		if (c != tw_lower((unsigned char)c) || ac->cls[c] == 0)
			continue;
		ac->delta[ac->cls[c]] = t;
		if (t != 0) {
			fail[t] = 0;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		uint32_t s = queue[head++];
		uint32_t f = fail[s];

		ac->dict[s] = ac->out_n[f] > 0 ? f : ac->dict[f];
		for (int c = 0; c < 256; c++) {
			uint32_t t, cl;

			if (c != tw_lower((unsigned char)c) || ac->cls[c] == 0)
				continue;
			cl = ac->cls[c];
			t = b->s[s].next[c];
			if (t != 0) {
				fail[t] = ac->delta[(size_t)f * ac->nclass + cl];
				ac->delta[(size_t)s * ac->nclass + cl] = t;
				queue[tail++] = t;
			} else
				ac->delta[(size_t)s * ac->nclass + cl] =
				    ac->delta[(size_t)f * ac->nclass + cl];
		}
	}
out:
	free(fail);
	free(queue);
	return ac;
}

void
tw_ac_scan(const struct tw_ac *ac, const char *s, size_t n,
    bool (*fn)(void *arg, uint32_t id), void *arg)
{
	uint32_t st = 0;

	for (size_t i = 0; i < n; i++) {
		st = ac->delta[(size_t)st * ac->nclass +
		    ac->cls[(unsigned char)s[i]]];
		if (st == 0)
			continue;
		for (uint32_t o = st; o != 0; o = ac->dict[o]) {
			for (uint32_t j = 0; j < ac->out_n[o]; j++)
				if (fn(arg, ac->outs[ac->out_start[o] + j]))
					return;
		}
	}
}
