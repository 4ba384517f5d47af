/* template.h: alert output templates (RULES.md §7): {path}, {path:json}, {path:masked}. */
#ifndef TW_TEMPLATE_H
#define TW_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "expr.h"
#include "mp.h"

/* The text of a missing value in {path}. */
#define TW_TEMPLATE_NA "<NA>"

struct tw_template;

/*
 * Compile text[0..n): literal text, {{ and }}, {path} with an optional
 * trailing :json or :masked, and (threshold rules only, no format)
 * {threshold.count} and {threshold.window}. :masked placeholders take the
 * positive regex predicates of cond that share a path with them. Paths are
 * interned through c. TW_EPARSE with *why; TW_ENOMEM.
 */
int tw_template_compile(struct tw_compiler *c, struct tw_arena *a,
    const char *text, size_t n, bool threshold, const struct tw_node *cond,
    struct tw_template **out, char **why) TW_WARN_UNUSED;

/*
 * Render t for the record whose slots m holds into out (appended).
 * th_count and th_window fill the threshold placeholders (NULL: "<NA>").
 * A mask regex that hits a limit leaves the rest unmasked and counts in
 * m->limit_hits. Returns 0 or a buffer error.
 */
int tw_template_render(const struct tw_template *t, struct tw_match *m,
    const char *th_count, const char *th_window, struct tw_buf *out)
    TW_WARN_UNUSED;

/* Call fn for the slot of every path t renders. */
void tw_template_slots(const struct tw_template *t,
    void (*fn)(void *arg, uint32_t slot), void *arg);

/*
 * Write the output value of a path (RULES.md §7 :json, alert fields) as
 * msgpack: nil when missing; for one path without * that crossed no array
 * the stored value as it is; otherwise an array of every value. Returns
 * whether a value was written as *present (nil otherwise) through w.
 */
void tw_output_value(struct tw_match *m, const uint32_t *slots,
    size_t nslots, bool plain_single, struct tw_mpw *w, bool *present);

/*
 * Replace every non-empty, leftmost, non-overlapping match of rx in s[0..n)
 * by its first 4 characters and max(4, n-4) '*' (RULES.md §7), into out
 * (reset first). Returns 0, TW_ELIMIT (out then holds s unchanged) or a
 * buffer error.
 */
int tw_mask(const struct tw_regex *rx, struct tw_rx_thread *t, const char *s,
    size_t n, struct tw_buf *out) TW_WARN_UNUSED;

#endif
