/* arena.c: bump allocation for compiled rule sets, freed all at once. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "err.h"

#define CHUNK_SIZE 65536
#define ALIGN 16

struct chunk {
	struct chunk *next;
	size_t used, size;
	/* the data follows, aligned */
};

struct deferred {
	struct deferred *next;
	void (*fn)(void *);
	void *p;
};

struct tw_arena {
	struct chunk *head;
	struct deferred *defer;
	size_t total, max;
};

struct tw_arena *
tw_arena_new(size_t max)
{
	struct tw_arena *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->max = max;
	return a;
}

void
tw_arena_free(struct tw_arena *a)
{
	struct chunk *c, *cn;
	struct deferred *d, *dn;

	if (a == NULL)
		return;
	for (d = a->defer; d != NULL; d = dn) {
		dn = d->next;
		d->fn(d->p);
		free(d);
	}
	for (c = a->head; c != NULL; c = cn) {
		cn = c->next;
		free(c);
	}
	free(a);
}

static size_t
header_size(void)
{
	return (sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

void *
tw_arena_alloc(struct tw_arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t size;
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	if (c == NULL || c->size - c->used < n) {
		size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
		if (a->total > a->max || size > a->max - a->total)
			return NULL;
		if ((c = malloc(header_size() + size)) == NULL)
			return NULL;
		c->used = 0;
		c->size = size;
		a->total += size;
		if (size == n && a->head != NULL) {
			/* A big block: keep filling the current chunk after it. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c + header_size() + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *
tw_arena_strndup(struct tw_arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX || (p = tw_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
tw_arena_defer(struct tw_arena *a, void (*fn)(void *), void *p)
{
	struct deferred *d;

	if ((d = malloc(sizeof(*d))) == NULL) {
		fn(p);
		return TW_ENOMEM;
	}
	d->fn = fn;
	d->p = p;
	d->next = a->defer;
	a->defer = d;
	return 0;
}

size_t
tw_arena_used(const struct tw_arena *a)
{
	return a->total;
}
