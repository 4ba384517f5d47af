/* template.c: alert output templates (RULES.md §7): {path}, {path:json}, {path:masked}. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "template.h"
#include "value.h"

#define TEMPLATE_PARTS_MAX 1024
#define MASK_SPANS_MAX 65536

enum part_kind { PART_TEXT, PART_PATH, PART_TH_COUNT, PART_TH_WINDOW };
enum part_fmt { FMT_PLAIN, FMT_JSON, FMT_MASKED };

struct part {
	enum part_kind kind;
	enum part_fmt fmt;
	const char *text; /* PART_TEXT */
	size_t len;
	const struct tw_path **paths;
	uint32_t *slots;
	size_t npaths;
	const struct tw_regex **masks;
	size_t nmasks;
};

struct tw_template {
	struct part *parts;
	size_t n;
};

struct mask_src {
	const struct tw_pred *pred;
	const struct tw_regex *rx;
};

struct mask_list {
	struct mask_src *v;
	size_t n, cap;
	int err;
};

/* The positive regex predicates of a condition, in order (RULES.md §7). */
static void
collect_masks(const struct tw_node *n, bool negated, struct mask_list *ml,
    int depth)
{
	if (depth > TW_EXPR_DEPTH_MAX * 4 || ml->err != 0)
		return;
	switch (n->kind) {
	case TW_NODE_AND:
	case TW_NODE_OR:
		for (size_t i = 0; i < n->n; i++)
			collect_masks(n->kids[i], negated, ml, depth + 1);
		return;
	case TW_NODE_NOT:
		collect_masks(n->kids[0], !negated, ml, depth + 1);
		return;
	case TW_NODE_PRED:
		if (negated || n->pred->quant == TW_Q_KEYS ||
		    (n->pred->op != TW_OP_REGEX && n->pred->op != TW_OP_IREGEX))
			return;
		for (size_t i = 0; i < n->pred->nlits; i++) {
			if (ml->n == ml->cap) {
				size_t cap = ml->cap != 0 ? ml->cap * 2 : 8;
				struct mask_src *v = realloc(ml->v,
				    cap * sizeof(*v));

				if (v == NULL) {
					ml->err = TW_ENOMEM;
					return;
				}
				ml->v = v;
				ml->cap = cap;
			}
			ml->v[ml->n].pred = n->pred;
			ml->v[ml->n++].rx = n->pred->lits[i].rx;
		}
		return;
	default:
		return;
	}
}

static bool
shares_path(const struct tw_pred *p, const struct part *pt)
{
	for (size_t i = 0; i < p->npaths; i++)
		for (size_t j = 0; j < pt->npaths; j++)
			if (tw_path_eq(p->paths[i], pt->paths[j]))
				return true;
	return false;
}

static int
template_error(char **why, const char *text, size_t n, const char *what)
{
	if (why != NULL && asprintf(why, "%s in template '%.*s'", what,
	    n > 200 ? 200 : (int)n, text) == -1)
		*why = NULL;
	return TW_EPARSE;
}

int
tw_template_compile(struct tw_compiler *c, struct tw_arena *a,
    const char *text, size_t n, bool threshold, const struct tw_node *cond,
    struct tw_template **out, char **why)
{
	struct mask_list ml = { NULL, 0, 0, 0 };
	struct part parts[TEMPLATE_PARTS_MAX], *pt;
	struct tw_template *t;
	struct tw_buf lit;
	size_t np = 0, i = 0, j;
	int r = 0;

	*out = NULL;
	tw_buf_init(&lit, n + 1);
	if (cond != NULL) {
		collect_masks(cond, false, &ml, 0);
		if ((r = ml.err) != 0)
			goto out;
	}
	while (i <= n) {
		/* Flush literal text before a placeholder or at the end. */
		if (i == n || (text[i] == '{' && !(i + 1 < n &&
		    text[i + 1] == '{'))) {
			if (lit.len > 0) {
				if (np == TEMPLATE_PARTS_MAX) {
					r = template_error(why, text, n,
					    "too many parts");
					goto out;
				}
				pt = &parts[np++];
				memset(pt, 0, sizeof(*pt));
				pt->kind = PART_TEXT;
				if ((pt->text = tw_arena_strndup(a, lit.data,
				    lit.len)) == NULL) {
					r = TW_ENOMEM;
					goto out;
				}
				pt->len = lit.len;
				tw_buf_reset(&lit);
			}
			if (i == n)
				break;
		}
		if (text[i] == '{' && i + 1 < n && text[i + 1] == '{') {
			if ((r = tw_buf_addc(&lit, '{')) != 0)
				goto out;
			i += 2;
			continue;
		}
		if (text[i] == '}' && i + 1 < n && text[i + 1] == '}') {
			if ((r = tw_buf_addc(&lit, '}')) != 0)
				goto out;
			i += 2;
			continue;
		}
		if (text[i] == '}') {
			r = template_error(why, text, n,
			    "unbalanced brace (use {{ and }})");
			goto out;
		}
		if (text[i] != '{') {
			if ((r = tw_buf_addc(&lit, text[i])) != 0)
				goto out;
			i++;
			continue;
		}
		/* {inner}: up to the next brace, which must close it. */
		for (j = i + 1; j < n && text[j] != '{' && text[j] != '}'; j++)
			;
		if (j >= n || text[j] != '}' || j == i + 1) {
			r = template_error(why, text, n,
			    "unbalanced brace (use {{ and }})");
			goto out;
		}
		if (np == TEMPLATE_PARTS_MAX) {
			r = template_error(why, text, n, "too many parts");
			goto out;
		}
		pt = &parts[np];
		memset(pt, 0, sizeof(*pt));
		{
			const char *in = text + i + 1;
			size_t il = j - i - 1;

			/* (.*):(json|masked), '.' not matching a newline */
			if (memchr(in, '\n', il) == NULL) {
				if (il > 5 && memcmp(in + il - 5, ":json", 5) == 0) {
					pt->fmt = FMT_JSON;
					il -= 5;
				} else if (il > 7 &&
				    memcmp(in + il - 7, ":masked", 7) == 0) {
					pt->fmt = FMT_MASKED;
					il -= 7;
				} else if (il == 5 && memcmp(in, ":json", 5) == 0) {
					pt->fmt = FMT_JSON;
					il = 0;
				} else if (il == 7 && memcmp(in, ":masked", 7) == 0) {
					pt->fmt = FMT_MASKED;
					il = 0;
				}
			}
			if ((il == 15 && memcmp(in, "threshold.count", 15) == 0) ||
			    (il == 16 && memcmp(in, "threshold.window", 16) == 0)) {
				if (!threshold || pt->fmt != FMT_PLAIN) {
					r = template_error(why, text, n, il == 15 ?
					    "{threshold.count} only in threshold "
					    "rules, without format" :
					    "{threshold.window} only in threshold "
					    "rules, without format");
					goto out;
				}
				pt->kind = il == 15 ? PART_TH_COUNT :
				    PART_TH_WINDOW;
			} else {
				pt->kind = PART_PATH;
				if ((r = tw_compile_paths(c, in, il, &pt->paths,
				    &pt->slots, &pt->npaths, why)) != 0)
					goto out;
			}
		}
		if (pt->fmt == FMT_MASKED) {
			size_t k = 0;

			if (ml.n > 0 && (pt->masks = tw_arena_alloc(a, ml.n *
			    sizeof(*pt->masks))) == NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			for (size_t m = 0; m < ml.n; m++)
				if (shares_path(ml.v[m].pred, pt))
					pt->masks[k++] = ml.v[m].rx;
			pt->nmasks = k;
		}
		np++;
		i = j + 1;
	}
	if ((t = tw_arena_alloc(a, sizeof(*t))) == NULL ||
	    (np > 0 && (t->parts = tw_arena_alloc(a, np * sizeof(*parts))) ==
	    NULL)) {
		r = TW_ENOMEM;
		goto out;
	}
	if (np > 0)
		memcpy(t->parts, parts, np * sizeof(*parts));
	t->n = np;
	*out = t;
out:
	free(ml.v);
	tw_buf_cleanup(&lit);
	return r;
}

/* Character index -> byte offset table of s (n chars + 1 entries). */
static size_t *
char_offsets(const char *s, size_t n, size_t *nchars)
{
	size_t *off, k = 0, len;

	if ((off = malloc((n + 1) * sizeof(*off))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += len) {
		off[k++] = i;
		tw_utf8_next(s + i, n - i, &len);
	}
	off[k] = n;
	*nchars = k;
	return off;
}

/* Characters that start before byte b (ce) and that end at or before b (cs). */
static size_t
chars_before(const size_t *off, size_t nchars, size_t b, bool partial)
{
	size_t lo = 0, hi = nchars;

	/* the number of characters starting before b */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (off[mid] < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!partial && lo > 0 && off[lo] > b)
		lo--; /* b is inside character lo-1: it does not count */
	return lo;
}

int
tw_mask(const struct tw_regex *rx, struct tw_rx_thread *t, const char *s,
    size_t n, struct tw_buf *out)
{
	size_t *off = NULL, nchars = 0, start = 0, ms, me, last = 0;
	size_t (*spans)[2] = NULL, nspans = 0, cap = 0;
	bool empty_at = false;
	int r = 0, rc;

	tw_buf_reset(out);
	if ((off = char_offsets(s, n, &nchars)) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	while (start <= n) {
		if (empty_at) {
			rc = tw_regex_exec(rx, t, s, n, start, true, true, &ms, &me);
			empty_at = false;
			if (rc == 0) {
				start++;
				continue;
			}
		} else
			rc = tw_regex_exec(rx, t, s, n, start, false, false, &ms,
			    &me);
		if (rc < 0) {
			r = rc;
			goto out;
		}
		if (rc == 0)
			break;
		if (me == ms) {
			empty_at = true;
			start = ms;
			continue;
		}
		{
			size_t cs = chars_before(off, nchars, ms, false);
			size_t ce = chars_before(off, nchars, me, true);

			if (nspans > 0 && cs < spans[nspans - 1][1]) {
				if (ce > spans[nspans - 1][1])
					spans[nspans - 1][1] = ce;
			} else {
				if (nspans == MASK_SPANS_MAX)
					break;
				if (nspans == cap) {
					size_t nc = cap != 0 ? cap * 2 : 16;
					void *np = realloc(spans,
					    nc * sizeof(*spans));

					if (np == NULL) {
						r = TW_ENOMEM;
						goto out;
					}
					spans = np;
					cap = nc;
				}
				spans[nspans][0] = cs;
				spans[nspans++][1] = ce;
			}
		}
		start = me;
	}
	for (size_t i = 0; i < nspans; i++) {
		size_t cs = spans[i][0], ce = spans[i][1];
		size_t keep = cs + 4 < nchars ? cs + 4 : nchars;
		size_t stars = ce - cs > 8 ? ce - cs - 4 : 4;

		if ((r = tw_buf_add(out, s + off[last], off[cs] - off[last])) !=
		    0 || (r = tw_buf_add(out, s + off[cs], off[keep] -
		    off[cs])) != 0)
			goto out;
		for (size_t k = 0; k < stars; k++)
			if ((r = tw_buf_addc(out, '*')) != 0)
				goto out;
		last = ce;
	}
	r = tw_buf_add(out, s + off[last], n - off[last]);
out:
	if (r == TW_ELIMIT) {
		tw_buf_reset(out);
		if (tw_buf_add(out, s, n) != 0)
			r = TW_ENOMEM;
	}
	free(spans);
	free(off);
	return r;
}

void
tw_output_value(struct tw_match *m, const uint32_t *slots, size_t nslots,
    bool plain_single, struct tw_mpw *w, bool *present)
{
	const struct tw_value *vals, *d;
	size_t n, total = 0;

	for (size_t i = 0; i < nslots; i++) {
		tw_slot_values(&m->sv, slots[i], &n);
		total += n;
	}
	*present = total > 0;
	if (total == 0) {
		tw_mpw_nil(w);
		return;
	}
	if (nslots == 1 && plain_single &&
	    (d = tw_slot_direct(&m->sv, slots[0])) != NULL &&
	    tw_value_span(d, &n) == 0) {
		tw_mpw_raw(w, d->p, n);
		return;
	}
	tw_mpw_array(w, (uint32_t)total);
	for (size_t i = 0; i < nslots; i++) {
		vals = tw_slot_values(&m->sv, slots[i], &n);
		for (size_t k = 0; k < n; k++) {
			size_t len;

			if (tw_value_span(&vals[k], &len) == 0)
				tw_mpw_raw(w, vals[k].p, len);
			else
				tw_mpw_nil(w);
		}
	}
}

static int
render_path(const struct part *pt, struct tw_match *m, struct tw_buf *out)
{
	const struct tw_value *vals;
	struct tw_buf joined, masked;
	size_t n, count = 0;
	const char *s;
	size_t sl;
	int r = 0;

	if (pt->fmt == FMT_JSON) {
		struct tw_buf mp;
		struct tw_mpw w;
		struct tw_value v;
		struct tw_mp_reader rd;
		bool present;

		tw_buf_init(&mp, (size_t)64 << 20);
		tw_mpw_init(&w, &mp);
		tw_output_value(m, pt->slots, pt->npaths,
		    pt->npaths == 1 && pt->paths[0]->plain, &w, &present);
		if ((r = w.err) == 0) {
			tw_mp_reader_init(&rd, mp.data, mp.len);
			if ((r = tw_value_read(&rd, (const uint8_t *)mp.data +
			    mp.len, &v)) == 0)
				r = tw_value_cjson(out, &v, NULL);
		}
		tw_buf_cleanup(&mp);
		return r;
	}
	tw_buf_init(&joined, (size_t)64 << 20);
	tw_buf_init(&masked, (size_t)64 << 20);
	for (size_t i = 0; i < pt->npaths && r == 0; i++) {
		vals = tw_slot_values(&m->sv, pt->slots[i], &n);
		for (size_t k = 0; k < n && r == 0; k++) {
			if ((count++ > 0 && (r = tw_buf_addc(&joined, ',')) != 0) ||
			    (r = tw_value_str(&vals[k], &m->tmp, &s, &sl)) != 0)
				break;
			r = tw_buf_add(&joined, s, sl);
		}
	}
	if (r == 0 && count == 0)
		r = tw_buf_adds(out, TW_TEMPLATE_NA);
	else if (r == 0) {
		if (joined.data == NULL)
			r = tw_buf_add(&joined, "", 0);
		for (size_t i = 0; r == 0 && i < pt->nmasks; i++) {
			r = tw_mask(pt->masks[i], m->rx, joined.data, joined.len,
			    &masked);
			if (r == TW_ELIMIT) {
				m->limit_hits++;
				r = 0;
				break;
			}
			if (r == 0) {
				struct tw_buf tmp = joined;

				joined = masked;
				masked = tmp;
			}
		}
		if (r == 0)
			r = tw_buf_add(out, joined.data, joined.len);
	}
	tw_buf_cleanup(&joined);
	tw_buf_cleanup(&masked);
	return r;
}

int
tw_template_render(const struct tw_template *t, struct tw_match *m,
    const char *th_count, const char *th_window, struct tw_buf *out)
{
	int r = 0;

	for (size_t i = 0; i < t->n && r == 0; i++) {
		const struct part *pt = &t->parts[i];

		switch (pt->kind) {
		case PART_TEXT:
			r = tw_buf_add(out, pt->text, pt->len);
			break;
		case PART_TH_COUNT:
			r = tw_buf_adds(out, th_count != NULL ? th_count :
			    TW_TEMPLATE_NA);
			break;
		case PART_TH_WINDOW:
			r = tw_buf_adds(out, th_window != NULL ? th_window :
			    TW_TEMPLATE_NA);
			break;
		case PART_PATH:
			r = render_path(pt, m, out);
			break;
		}
	}
	if (r == 0 && out->data == NULL)
		r = tw_buf_add(out, "", 0);
	return r;
}

void
tw_template_slots(const struct tw_template *t,
    void (*fn)(void *arg, uint32_t slot), void *arg)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = 0; j < t->parts[i].npaths; j++)
			fn(arg, t->parts[i].slots[j]);
}
