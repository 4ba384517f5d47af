/* arena.h: bump allocation for compiled rule sets, freed all at once. */
#ifndef TW_ARENA_H
#define TW_ARENA_H

#include <stddef.h>

/*
 * An arena hands out zeroed, 16-byte aligned blocks that live until the
 * arena is freed; it also runs deferred destructors (PCRE2 codes) then.
 * The total is capped by the owner. Not thread-safe while being filled;
 * what it holds may be read by any number of threads afterwards.
 */
struct tw_arena;

/* A new empty arena that may hold at most max bytes; NULL on ENOMEM. */
struct tw_arena *tw_arena_new(size_t max);
/* Run the deferred destructors (last first) and free everything. */
void tw_arena_free(struct tw_arena *a);
/* n zeroed bytes; NULL on ENOMEM or past the cap. */
void *tw_arena_alloc(struct tw_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n); NULL on ENOMEM or past the cap. */
char *tw_arena_strndup(struct tw_arena *a, const char *s, size_t n);
/* Run fn(p) when the arena is freed; TW_ENOMEM (fn is then run at once). */
int tw_arena_defer(struct tw_arena *a, void (*fn)(void *), void *p);
/* Bytes handed out so far. */
size_t tw_arena_used(const struct tw_arena *a);

#endif
