/* eval.c: evaluating compiled rules over records: source gate, witness index, literal prefilter. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "eval.h"
#include "ops.h"
#include "template.h"
#include "value.h"

#define ALTS_MAX 64 /* alternatives of one witness or literal need */
#define WGROUPS_CAP 64 /* witness groups looked at per rule */

/* One (path, value) that a matching record must hold. */
struct walt {
	uint32_t slot;
	bool fold;
	const struct tw_lit *lits;
	size_t nlits;
};

struct wset {
	struct walt v[ALTS_MAX];
	size_t n;
	bool ok;
};

/* One literal that some value of a path must contain (ASCII-folded). */
struct nalt {
	uint32_t slot;
	bool leaves;
	const char *s;
	size_t n;
};

struct nset {
	struct nalt v[ALTS_MAX];
	size_t n;
	bool ok;
};

struct went {
	uint32_t slot;
	bool fold;
	const char *s;
	size_t n;
	uint64_t hash;
	uint32_t *rules;
	size_t nrules;
	struct went *next;
};

struct probe {
	uint32_t slot;
	bool fold;
};

struct acprobe {
	uint32_t slot;
	bool leaves;
	struct tw_ac *ac;
	uint32_t **pat_rules; /* per pattern id */
	size_t *pat_n;
	size_t npats;
};

struct kind_index {
	struct tw_trie *trie;
	size_t *rules;
	size_t nrules;
	struct went **b;
	size_t nb;
	struct probe *probes;
	size_t nprobes;
	struct acprobe *acs;
	size_t nacs;
	uint64_t *no_need;
	uint8_t *wfull; /* per rule: the witness bits a candidate has */
};

struct tw_eval_index {
	struct kind_index k[TW_KIND_COUNT];
	size_t nrules, words, nslots;
	struct tw_eval_stats stats;
};

/* ---- what a rule needs ---- */

static size_t
wset_values(const struct wset *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++)
		n += w->v[i].nlits;
	return n;
}

static void
witness(const struct tw_node *n, struct wset *out, int depth)
{
	struct wset *k;

	out->ok = false;
	out->n = 0;
	if (depth > TW_EXPR_DEPTH_MAX * 4)
		return;
	switch (n->kind) {
	case TW_NODE_PRED: {
		const struct tw_pred *p = n->pred;
		bool fold = p->op == TW_OP_IEQ;

		if ((p->quant != TW_Q_ANY && p->quant != TW_Q_ALL) ||
		    (p->op != TW_OP_EQ && p->op != TW_OP_IN && !fold) ||
		    p->npaths > ALTS_MAX)
			return;
		for (size_t i = 0; !fold && i < p->nlits; i++)
			if (p->lits[i].v.kind != TW_SCALAR_STR)
				return;
		for (size_t i = 0; i < p->npaths; i++) {
			out->v[i].slot = p->slots[i];
			out->v[i].fold = fold;
			out->v[i].lits = p->lits;
			out->v[i].nlits = p->nlits;
		}
		out->n = p->npaths;
		out->ok = out->n > 0;
		return;
	}
	case TW_NODE_AND:
		if ((k = malloc(sizeof(*k))) == NULL)
			return;
		for (size_t i = 0; i < n->n; i++) {
			witness(n->kids[i], k, depth + 1);
			/* The fewest values; on a tie the later conjunct. */
			if (k->ok && (!out->ok ||
			    wset_values(k) <= wset_values(out)))
				*out = *k;
		}
		free(k);
		return;
	case TW_NODE_OR:
		if ((k = malloc(sizeof(*k))) == NULL)
			return;
		out->ok = n->n > 0;
		for (size_t i = 0; i < n->n && out->ok; i++) {
			witness(n->kids[i], k, depth + 1);
			if (!k->ok || out->n + k->n > ALTS_MAX) {
				out->ok = false;
				break;
			}
			memcpy(out->v + out->n, k->v, k->n * sizeof(k->v[0]));
			out->n += k->n;
		}
		free(k);
		if (!out->ok)
			out->n = 0;
		return;
	default:
		return;
	}
}

#define WGROUPS_MAX 8 /* witnesses a rule must all hold (one bit each) */

/*
 * Every conjunct of an AND that has a witness gives one group: a matching
 * record holds them all. The WGROUPS_MAX with the fewest values are kept.
 */
static void
witness_groups(const struct tw_node *n, struct wset *groups, size_t *ng,
    size_t cap, int depth)
{
	if (depth > TW_EXPR_DEPTH_MAX * 4)
		return;
	if (n->kind == TW_NODE_AND) {
		for (size_t i = 0; i < n->n; i++)
			witness_groups(n->kids[i], groups, ng, cap, depth + 1);
		return;
	}
	if (*ng == cap)
		return;
	witness(n, &groups[*ng], depth + 1);
	if (groups[*ng].ok)
		(*ng)++;
}

static int
wset_cmp(const void *a, const void *b)
{
	size_t x = wset_values(a), y = wset_values(b);

	return x < y ? -1 : x > y;
}

static size_t
nset_minlen(const struct nset *s)
{
	size_t m = (size_t)-1;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].n < m)
			m = s->v[i].n;
	return s->n > 0 ? m : 0;
}

static bool
nadd(struct nset *s, uint32_t slot, bool leaves, const char *p, size_t n)
{
	if (n == 0 || s->n == ALTS_MAX)
		return false;
	s->v[s->n].slot = slot;
	s->v[s->n].leaves = leaves;
	s->v[s->n].s = p;
	s->v[s->n].n = n;
	s->n++;
	return true;
}

struct longest {
	const char *p;
	size_t n;
};

static void
longest_run(void *arg, const char *run, size_t n)
{
	struct longest *l = arg;

	if (n > l->n) {
		l->p = run;
		l->n = n;
	}
}

static void
need(const struct tw_node *n, struct nset *out, int depth)
{
	struct nset *k;

	out->ok = false;
	out->n = 0;
	if (depth > TW_EXPR_DEPTH_MAX * 4)
		return;
	switch (n->kind) {
	case TW_NODE_PRED: {
		const struct tw_pred *p = n->pred;
		bool leaves = p->quant == TW_Q_LEAVES;

		if (p->quant == TW_Q_KEYS)
			return;
		out->ok = true;
		for (size_t s = 0; s < p->npaths && out->ok; s++) {
			for (size_t i = 0; i < p->nlits && out->ok; i++) {
				const struct tw_lit *l = &p->lits[i];
				struct longest lr = { NULL, 0 };

				switch (p->op) {
				case TW_OP_REGEX:
				case TW_OP_IREGEX:
					if (l->rx->nlits == 0) {
						out->ok = false;
						break;
					}
					for (size_t j = 0; j < l->rx->nlits &&
					    out->ok; j++)
						out->ok = nadd(out, p->slots[s], leaves,
						    l->rx->lits[j], l->rx->litlens[j]);
					break;
				case TW_OP_EQ:
				case TW_OP_IN:
					if (l->v.kind == TW_SCALAR_INT ||
					    l->v.kind == TW_SCALAR_FLOAT) {
						out->ok = false;
						break;
					}
					/* FALLTHROUGH */
				case TW_OP_IEQ:
				case TW_OP_CONTAINS:
				case TW_OP_ICONTAINS:
				case TW_OP_STARTSWITH:
				case TW_OP_ISTARTSWITH:
				case TW_OP_ENDSWITH:
				case TW_OP_IENDSWITH:
					out->ok = nadd(out, p->slots[s], leaves,
					    l->v.s, l->v.n);
					break;
				case TW_OP_GLOB:
				case TW_OP_IGLOB:
					tw_glob_runs(l->v.s, l->v.n, longest_run, &lr);
					out->ok = nadd(out, p->slots[s], leaves, lr.p,
					    lr.n);
					break;
				default:
					out->ok = false;
				}
			}
		}
		if (out->n == 0)
			out->ok = false;
		if (!out->ok)
			out->n = 0;
		return;
	}
	case TW_NODE_AND:
		if ((k = malloc(sizeof(*k))) == NULL)
			return;
		for (size_t i = 0; i < n->n; i++) {
			need(n->kids[i], k, depth + 1);
			if (k->ok && (!out->ok || nset_minlen(k) > nset_minlen(out) ||
			    (nset_minlen(k) == nset_minlen(out) && k->n < out->n)))
				*out = *k;
		}
		free(k);
		return;
	case TW_NODE_OR:
		if ((k = malloc(sizeof(*k))) == NULL)
			return;
		out->ok = n->n > 0;
		for (size_t i = 0; i < n->n && out->ok; i++) {
			need(n->kids[i], k, depth + 1);
			if (!k->ok || out->n + k->n > ALTS_MAX) {
				out->ok = false;
				break;
			}
			memcpy(out->v + out->n, k->v, k->n * sizeof(k->v[0]));
			out->n += k->n;
		}
		free(k);
		if (!out->ok)
			out->n = 0;
		return;
	default:
		return;
	}
}

/* ---- building ---- */

static uint64_t
whash(uint32_t slot, bool fold, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ slot ^ ((uint64_t)fold << 32);

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Collect the paths a rule reads: condition, outputs, keys. */
static void
mark_node(const struct tw_node *n, bool *use, int depth)
{
	if (depth > TW_EXPR_DEPTH_MAX * 4)
		return;
	if (n->kind == TW_NODE_PRED) {
		for (size_t i = 0; i < n->pred->npaths; i++)
			use[n->pred->slots[i]] = true;
		return;
	}
	for (size_t i = 0; i < n->n; i++)
		mark_node(n->kids[i], use, depth + 1);
}

static void
mark_keys(const struct tw_keyset *ks, bool *use)
{
	for (size_t i = 0; i < ks->n; i++)
		for (size_t j = 0; j < ks->v[i].npaths; j++)
			use[ks->v[i].slots[j]] = true;
}

static void
mark_slot(void *arg, uint32_t slot)
{
	((bool *)arg)[slot] = true;
}

struct wtuple {
	uint32_t slot;
	bool fold;
	const char *s;
	size_t n;
	uint32_t rule;
};

static int
wtuple_cmp(const void *a, const void *b)
{
	const struct wtuple *x = a, *y = b;
	int c;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	if (x->fold != y->fold)
		return x->fold < y->fold ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if ((c = memcmp(x->s, y->s, x->n)) != 0)
		return c;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

struct ntuple {
	uint32_t slot;
	bool leaves;
	char *s; /* folded, owned */
	size_t n;
	uint32_t rule;
};

static int
ntuple_cmp(const void *a, const void *b)
{
	const struct ntuple *x = a, *y = b;
	int c;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	if (x->leaves != y->leaves)
		return x->leaves < y->leaves ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if ((c = memcmp(x->s, y->s, x->n)) != 0)
		return c;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int
build_witnesses(struct kind_index *k, struct wtuple *wt, size_t nw,
    struct tw_arena *a)
{
	size_t ngroups = 0, i, j;

	if (nw == 0)
		return 0;
	qsort(wt, nw, sizeof(*wt), wtuple_cmp);
	for (i = 0; i < nw; i = j) {
		for (j = i + 1; j < nw && wt[j].slot == wt[i].slot &&
		    wt[j].fold == wt[i].fold && wt[j].n == wt[i].n &&
		    memcmp(wt[j].s, wt[i].s, wt[i].n) == 0; j++)
			;
		ngroups++;
	}
	for (k->nb = 16; k->nb < 2 * ngroups; k->nb *= 2)
		;
	if ((k->b = tw_arena_alloc(a, k->nb * sizeof(*k->b))) == NULL)
		return TW_ENOMEM;
	for (i = 0; i < nw; i = j) {
		struct went *e;
		size_t nr = 0;

		for (j = i + 1; j < nw && wt[j].slot == wt[i].slot &&
		    wt[j].fold == wt[i].fold && wt[j].n == wt[i].n &&
		    memcmp(wt[j].s, wt[i].s, wt[i].n) == 0; j++)
			;
		if ((e = tw_arena_alloc(a, sizeof(*e))) == NULL ||
		    (e->rules = tw_arena_alloc(a, (j - i) *
		    sizeof(*e->rules))) == NULL)
			return TW_ENOMEM;
		e->slot = wt[i].slot;
		e->fold = wt[i].fold;
		e->s = wt[i].s;
		e->n = wt[i].n;
		for (size_t m = i; m < j; m++)
			if (nr == 0 || e->rules[nr - 1] != wt[m].rule)
				e->rules[nr++] = wt[m].rule;
		e->nrules = nr;
		e->hash = whash(e->slot, e->fold, e->s, e->n);
		e->next = k->b[e->hash & (k->nb - 1)];
		k->b[e->hash & (k->nb - 1)] = e;
	}
	/* The distinct (slot, fold) pairs to look up. */
	for (i = 0; i < nw; i++)
		if (i == 0 || wt[i].slot != wt[i - 1].slot ||
		    wt[i].fold != wt[i - 1].fold)
			k->nprobes++;
	if ((k->probes = tw_arena_alloc(a, k->nprobes *
	    sizeof(*k->probes))) == NULL)
		return TW_ENOMEM;
	k->nprobes = 0;
	for (i = 0; i < nw; i++)
		if (i == 0 || wt[i].slot != wt[i - 1].slot ||
		    wt[i].fold != wt[i - 1].fold) {
			k->probes[k->nprobes].slot = wt[i].slot;
			k->probes[k->nprobes++].fold = wt[i].fold;
		}
	return 0;
}

static int
build_needs(struct kind_index *k, struct ntuple *nt, size_t nn,
    struct tw_arena *a, size_t *npatterns)
{
	size_t i, j, g;
	int r = 0;

	if (nn == 0)
		return 0;
	qsort(nt, nn, sizeof(*nt), ntuple_cmp);
	for (i = 0; i < nn; i++)
		if (i == 0 || nt[i].slot != nt[i - 1].slot ||
		    nt[i].leaves != nt[i - 1].leaves)
			k->nacs++;
	if ((k->acs = tw_arena_alloc(a, k->nacs * sizeof(*k->acs))) == NULL)
		return TW_ENOMEM;
	for (i = 0, g = 0; i < nn; i = j, g++) {
		struct acprobe *ap = &k->acs[g];
		struct tw_ac_builder *b;
		size_t p, q, npat = 0;

		for (j = i + 1; j < nn && nt[j].slot == nt[i].slot &&
		    nt[j].leaves == nt[i].leaves; j++)
			;
		ap->slot = nt[i].slot;
		ap->leaves = nt[i].leaves;
		for (p = i; p < j; p++)
			if (p == i || nt[p].n != nt[p - 1].n ||
			    memcmp(nt[p].s, nt[p - 1].s, nt[p].n) != 0)
				npat++;
		if ((ap->pat_rules = tw_arena_alloc(a, npat *
		    sizeof(*ap->pat_rules))) == NULL ||
		    (ap->pat_n = tw_arena_alloc(a, npat *
		    sizeof(*ap->pat_n))) == NULL ||
		    (b = tw_ac_builder_new()) == NULL)
			return TW_ENOMEM;
		for (p = i; p < j && r == 0; p = q) {
			size_t nr = 0;

			for (q = p + 1; q < j && nt[q].n == nt[p].n &&
			    memcmp(nt[q].s, nt[p].s, nt[p].n) == 0; q++)
				;
			if ((ap->pat_rules[ap->npats] = tw_arena_alloc(a, (q - p) *
			    sizeof(uint32_t))) == NULL) {
				r = TW_ENOMEM;
				break;
			}
			for (size_t m = p; m < q; m++)
				if (nr == 0 ||
				    ap->pat_rules[ap->npats][nr - 1] != nt[m].rule)
					ap->pat_rules[ap->npats][nr++] = nt[m].rule;
			ap->pat_n[ap->npats] = nr;
			r = tw_ac_add(b, nt[p].s, nt[p].n, (uint32_t)ap->npats);
			ap->npats++;
		}
		if (r == 0 && (ap->ac = tw_ac_build(b, a)) == NULL)
			r = TW_ENOMEM;
		tw_ac_builder_free(b);
		if (r != 0)
			return r;
		*npatterns += ap->npats;
	}
	return 0;
}

static void
bit_set(uint64_t *b, size_t i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool
bit_get(const uint64_t *b, size_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

int
tw_eval_index_build(struct tw_rules *rules, struct tw_eval_index **out)
{
	struct tw_eval_index *ix;
	struct tw_arena *a = rules->a;
	struct wtuple *wt = NULL;
	struct ntuple *nt = NULL;
	struct wset *ws = NULL;
	struct nset *ns = NULL;
	bool *use = NULL;
	size_t nslots = tw_fields_count(rules->fields), nw, nn, capw, capn;
	int r = 0;

	*out = NULL;
	if ((ix = tw_arena_alloc(a, sizeof(*ix))) == NULL ||
	    (use = calloc(nslots + 1, sizeof(*use))) == NULL ||
	    (ws = malloc(WGROUPS_CAP * sizeof(*ws))) == NULL ||
	    (ns = malloc(sizeof(*ns))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	ix->nrules = rules->n;
	ix->words = (rules->n + 63) / 64 + 1;
	ix->nslots = nslots;
	for (int kind = 0; kind < TW_KIND_COUNT; kind++) {
		struct kind_index *k = &ix->k[kind];

		memset(use, 0, (nslots + 1) * sizeof(*use));
		nw = nn = capw = capn = 0;
		if ((k->wfull = tw_arena_alloc(a, rules->n + 1)) == NULL ||
		    (k->no_need = tw_arena_alloc(a,
		    ix->words * sizeof(uint64_t))) == NULL ||
		    (k->rules = tw_arena_alloc(a, (rules->n + 1) *
		    sizeof(*k->rules))) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < rules->n; i++) {
			const struct tw_rule *ru = rules->rules[i];
			size_t wv = 0, ng;

			if ((ru->kinds & (1u << kind)) == 0)
				continue;
			k->rules[k->nrules++] = i;
			mark_node(ru->full, use, 0);
			mark_keys(&ru->fields, use);
			mark_keys(&ru->group_by, use);
			mark_keys(&ru->distinct, use);
			mark_keys(&ru->tt_key, use);
			tw_template_slots(ru->output, mark_slot, use);
			ng = 0;
			witness_groups(ru->cond, ws, &ng, WGROUPS_CAP, 0);
			if (ng > 1)
				qsort(ws, ng, sizeof(*ws), wset_cmp);
			if (ng > WGROUPS_MAX)
				ng = WGROUPS_MAX;
			k->wfull[i] = (uint8_t)((1u << ng) - 1);
			for (size_t g = 0; g < ng; g++)
				for (size_t j = 0; j < ws[g].n; j++)
					wv += ws[g].v[j].nlits;
			if (nw + wv > capw) {
				size_t c = (nw + wv) * 2 + 16;
				struct wtuple *t = realloc(wt, c * sizeof(*t));

				if (t == NULL) {
					r = TW_ENOMEM;
					goto out;
				}
				wt = t;
				capw = c;
			}
			for (size_t g = 0; g < ng; g++)
				for (size_t j = 0; j < ws[g].n; j++)
					for (size_t l = 0; l < ws[g].v[j].nlits; l++) {
						const struct tw_lit *li =
						    &ws[g].v[j].lits[l];

						wt[nw].slot = ws[g].v[j].slot;
						wt[nw].fold = ws[g].v[j].fold;
						wt[nw].s = ws[g].v[j].fold ? li->alt :
						    li->v.s;
						wt[nw].n = ws[g].v[j].fold ? li->altn :
						    li->v.n;
						wt[nw++].rule = (uint32_t)(i << 3 | g);
					}
			need(ru->cond, ns, 0);
			if (!ns->ok) {
				bit_set(k->no_need, i);
			} else {
				if (nn + ns->n > capn) {
					size_t c = (nn + ns->n) * 2 + 16;
					struct ntuple *t = realloc(nt, c *
					    sizeof(*t));

					if (t == NULL) {
						r = TW_ENOMEM;
						goto out;
					}
					nt = t;
					capn = c;
				}
				for (size_t j = 0; j < ns->n; j++) {
					char *f;

					if ((f = tw_arena_strndup(a, ns->v[j].s,
					    ns->v[j].n)) == NULL) {
						r = TW_ENOMEM;
						goto out;
					}
					for (size_t c = 0; c < ns->v[j].n; c++)
						f[c] = (char)tw_lower(
						    (unsigned char)f[c]);
					nt[nn].slot = ns->v[j].slot;
					nt[nn].leaves = ns->v[j].leaves;
					nt[nn].s = f;
					nt[nn].n = ns->v[j].n;
					nt[nn++].rule = (uint32_t)i;
				}
			}
			if (kind == 0 || (ru->kinds & ((1u << kind) - 1)) == 0) {
				if (ng > 0)
					ix->stats.rules_witness++;
				else if (ns->ok)
					ix->stats.rules_literal++;
				else
					ix->stats.rules_always++;
			}
		}
		if ((k->trie = tw_trie_build(rules->fields, use, a)) == NULL ||
		    (r = build_witnesses(k, wt, nw, a)) != 0 ||
		    (r = build_needs(k, nt, nn, a, &ix->stats.ac_patterns)) != 0) {
			if (r == 0)
				r = TW_ENOMEM;
			goto out;
		}
	}
	*out = ix;
out:
	free(use);
	free(wt);
	free(nt);
	free(ws);
	free(ns);
	return r;
}

void
tw_eval_index_stats(const struct tw_eval_index *ix, struct tw_eval_stats *st)
{
	*st = ix->stats;
}

/* ---- evaluating ---- */

void
tw_eval_scratch_init(struct tw_eval_scratch *sc)
{
	memset(sc, 0, sizeof(*sc));
	tw_buf_init(&sc->s, (size_t)64 << 20);
}

void
tw_eval_scratch_cleanup(struct tw_eval_scratch *sc)
{
	free(sc->wmask);
	free(sc->need);
	free(sc->matched);
	tw_buf_cleanup(&sc->s);
	memset(sc, 0, sizeof(*sc));
}

int
tw_eval_kind(const void *rec, size_t len)
{
	struct tw_mp_obj o;

	if (tw_mp_path(rec, len, "source.kind", &o) != 0 ||
	    o.type != TW_MP_STR)
		return -1;
	return tw_kind_parse(o.v.s.p, o.v.s.len);
}

struct acmark {
	const struct acprobe *ap;
	uint64_t *need;
};

static bool
ac_hit(void *arg, uint32_t id)
{
	struct acmark *am = arg;

	for (size_t i = 0; i < am->ap->pat_n[id]; i++)
		bit_set(am->need, am->ap->pat_rules[id][i]);
	return false;
}

struct leafscan {
	struct acmark am;
	struct tw_match *m;
};

static int
scan_leaf(void *arg, const struct tw_value *v)
{
	struct leafscan *ls = arg;
	const char *s;
	size_t n;

	if (tw_value_str(v, &ls->m->tmp, &s, &n) == 0)
		tw_ac_scan(ls->am.ap->ac, s, n, ac_hit, &ls->am);
	return 0;
}

/* Mark the candidates of kind k for the record whose slots m holds. */
static void
candidates(const struct kind_index *k, struct tw_match *m,
    struct tw_eval_scratch *sc, size_t words)
{
	const struct tw_value *vals;
	const char *s;
	size_t n, nv;

	for (size_t i = 0; i < k->nrules; i++)
		sc->wmask[k->rules[i]] = 0;
	memcpy(sc->need, k->no_need, words * sizeof(uint64_t));
	for (size_t p = 0; p < k->nprobes; p++) {
		vals = tw_slot_values(&m->sv, k->probes[p].slot, &nv);
		for (size_t i = 0; i < nv; i++) {
			struct went *e;
			uint64_t h;

			if (vals[i].o.type == TW_MP_MAP ||
			    tw_value_str(&vals[i], &m->tmp, &s, &n) != 0)
				continue;
			if (k->probes[p].fold) {
				tw_buf_reset(&sc->s);
				if (tw_buf_add(&sc->s, s, n) != 0)
					continue;
				for (size_t c = 0; c < n; c++)
					sc->s.data[c] = (char)tw_lower(
					    (unsigned char)sc->s.data[c]);
				s = sc->s.data;
			}
			h = whash(k->probes[p].slot, k->probes[p].fold, s, n);
			for (e = k->b[h & (k->nb - 1)]; e != NULL; e = e->next)
				if (e->hash == h && e->slot == k->probes[p].slot &&
				    e->fold == k->probes[p].fold && e->n == n &&
				    memcmp(e->s, s, n) == 0)
					for (size_t r = 0; r < e->nrules; r++)
						sc->wmask[e->rules[r] >> 3] |=
						    (uint8_t)(1u << (e->rules[r] & 7));
		}
	}
	for (size_t a = 0; a < k->nacs; a++) {
		struct leafscan ls = { { &k->acs[a], sc->need }, m };

		vals = tw_slot_values(&m->sv, k->acs[a].slot, &nv);
		for (size_t i = 0; i < nv; i++) {
			if (k->acs[a].leaves) {
				(void)tw_value_leaves(&vals[i], scan_leaf, &ls);
				continue;
			}
			if (vals[i].o.type == TW_MP_MAP ||
			    tw_value_str(&vals[i], &m->tmp, &s, &n) != 0)
				continue;
			tw_ac_scan(k->acs[a].ac, s, n, ac_hit, &ls.am);
		}
	}
}

int
tw_eval_record(const struct tw_eval_index *ix, const struct tw_rules *rules,
    struct tw_match *m, struct tw_eval_scratch *sc, const void *rec,
    size_t len, unsigned flags, uint64_t *limits)
{
	const struct kind_index *k;
	int kind, r;

	sc->nmatched = 0;
	if ((r = tw_record_check(rec, len)) != 0)
		return r;
	if ((kind = tw_eval_kind(rec, len)) < 0)
		return tw_slotvals_reset(&m->sv, ix->nslots);
	k = &ix->k[kind];
	if ((r = tw_slotvals_reset(&m->sv, ix->nslots)) != 0 ||
	    (r = tw_trie_walk(k->trie, rec, len, &m->sv)) != 0)
		return r;
	if (sc->words < ix->words) {
		uint8_t *w = realloc(sc->wmask, ix->nrules + 1);
		uint64_t *nd;

		if (w == NULL)
			return TW_ENOMEM;
		sc->wmask = w;
		if ((nd = realloc(sc->need, ix->words * sizeof(*nd))) == NULL)
			return TW_ENOMEM;
		sc->need = nd;
		sc->words = ix->words;
	}
	if (sc->cap < k->nrules) {
		size_t *mt = realloc(sc->matched, k->nrules * sizeof(*mt));

		if (mt == NULL)
			return TW_ENOMEM;
		sc->matched = mt;
		sc->cap = k->nrules;
	}
	if ((flags & TW_EVAL_EXHAUSTIVE) == 0)
		candidates(k, m, sc, ix->words);
	m->err = 0;
	for (size_t i = 0; i < k->nrules; i++) {
		size_t ri = k->rules[i];
		uint64_t before = m->limit_hits;

		if ((flags & TW_EVAL_EXHAUSTIVE) == 0 &&
		    (sc->wmask[ri] != k->wfull[ri] || !bit_get(sc->need, ri)))
			continue;
		sc->candidates++;
		if (tw_node_eval(rules->rules[ri]->full, m))
			sc->matched[sc->nmatched++] = ri;
		if (limits != NULL && m->limit_hits != before)
			limits[ri] += m->limit_hits - before;
		if (m->err != 0)
			return m->err;
	}
	return 0;
}
