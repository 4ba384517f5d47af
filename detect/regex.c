/* regex.c: the portable PCRE2 subset of the rule language, with limits and a literal prefilter. */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "value.h"

#define LIT_SET_MAX 16   /* alternatives kept in a required set */
#define LIT_LEN_MAX 64   /* bytes kept of one literal (a prefix stays required) */
#define LIT_DEPTH_MAX 16 /* group nesting the extractor follows */

/* ---- portability ---- */

int
tw_regex_check(const char *pat, size_t n, char **why)
{
	static const char nonportable[] = "ZzKGhHRXpPNC";
	static const char *const bad[] = { "(?|", "(?R", "(?&", "(?C", "(*",
	    "[[:", "{," };
	size_t i = 0;

	while (i < n) {
		if (pat[i] == '\\' && i + 1 < n) {
			if ((pat[i + 1] != '\0' &&
			    strchr(nonportable, pat[i + 1]) != NULL) ||
			    (pat[i + 1] == 'x' && i + 2 < n && pat[i + 2] == '{')) {
				if (why != NULL && asprintf(why,
				    "non-portable regex escape \\%c", pat[i + 1]) ==
				    -1)
					*why = NULL;
				return TW_EPARSE;
			}
			i += 2;
			continue;
		}
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			size_t bl = strlen(bad[b]);

			if (n - i >= bl && memcmp(pat + i, bad[b], bl) == 0) {
				if (why != NULL && asprintf(why,
				    "non-portable regex construct '%s'", bad[b]) ==
				    -1)
					*why = NULL;
				return TW_EPARSE;
			}
		}
		i++;
	}
	return 0;
}

/* ---- required literals ---- */

struct lit {
	char s[LIT_LEN_MAX];
	size_t n;
	bool full; /* an append was dropped: only a prefix is known */
};

struct lset {
	struct lit v[LIT_SET_MAX];
	size_t count;
	bool valid;
};

struct rxp {
	const char *p;
	size_t n, i;
	int depth;
	bool giveup;
};

struct info {
	bool exact;       /* matches exactly one fixed string: str */
	struct lit str;
	struct lset exset; /* every alternative exact: their strings */
	struct lset best;  /* one of these occurs in every match */
};

static void
lit_addc(struct lit *l, char c)
{
	if (l->n < LIT_LEN_MAX)
		l->s[l->n++] = (char)tw_lower((unsigned char)c);
	else
		l->full = true;
}

static void
lit_cat(struct lit *l, const struct lit *m)
{
	for (size_t i = 0; i < m->n; i++)
		lit_addc(l, m->s[i]);
	if (m->full)
		l->full = true;
}

static size_t
lset_minlen(const struct lset *s)
{
	size_t m = (size_t)-1;

	for (size_t i = 0; i < s->count; i++)
		if (s->v[i].n < m)
			m = s->v[i].n;
	return s->count == 0 ? 0 : m;
}

/* Keep cand as best when it is more selective. */
static void
consider(struct lset *best, const struct lset *cand)
{
	size_t cm, bm;

	if (!cand->valid || cand->count == 0 || (cm = lset_minlen(cand)) == 0)
		return;
	bm = best->valid ? lset_minlen(best) : 0;
	if (!best->valid || cm > bm || (cm == bm && cand->count < best->count))
		*best = *cand;
}

static void
consider_lit(struct lset *best, const struct lit *l)
{
	struct lset one;

	if (l->n == 0)
		return;
	one.valid = true;
	one.count = 1;
	one.v[0] = *l;
	consider(best, &one);
}

static bool
lset_add(struct lset *s, const struct lit *l)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->v[i].n == l->n && memcmp(s->v[i].s, l->s, l->n) == 0)
			return true;
	if (s->count == LIT_SET_MAX)
		return false;
	s->v[s->count++] = *l;
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A quantifier at p->i: its minimum count (and p->i moves past it), or -1. */
static long
quantifier(struct rxp *p)
{
	size_t i = p->i, j;
	long min = -1;

	if (i >= p->n)
		return -1;
	if (p->p[i] == '*' || p->p[i] == '?')
		min = 0, i++;
	else if (p->p[i] == '+')
		min = 1, i++;
	else if (p->p[i] == '{') {
		j = i + 1;
		min = 0;
		while (j < p->n && is_digit(p->p[j])) {
			if (min < 100000)
				min = min * 10 + (p->p[j] - '0');
			j++;
		}
		if (j == i + 1)
			return -1;
		if (j < p->n && p->p[j] == ',') {
			j++;
			while (j < p->n && is_digit(p->p[j]))
				j++;
		}
		if (j >= p->n || p->p[j] != '}')
			return -1;
		i = j + 1;
	} else
		return -1;
	if (i < p->n && (p->p[i] == '?' || p->p[i] == '+'))
		i++;
	p->i = i;
	return min;
}

static void parse_alt(struct rxp *p, struct info *out);

/* Skip a [...] class starting at p->i. */
static void
skip_class(struct rxp *p)
{
	size_t i = p->i + 1;

	if (i < p->n && p->p[i] == '^')
		i++;
	if (i < p->n && p->p[i] == ']')
		i++;
	while (i < p->n && p->p[i] != ']')
		i += p->p[i] == '\\' ? 2 : 1;
	if (i >= p->n)
		p->giveup = true;
	p->i = i + 1;
}

/*
 * An escape at p->i: returns 1 with *c for a literal character, 0 for
 * anything else (class, assertion, backreference), consuming it.
 */
static int
escape(struct rxp *p, char *c)
{
	char e;
	size_t i = p->i + 1;

	if (i >= p->n) {
		p->giveup = true;
		return 0;
	}
	e = p->p[i];
	p->i = i + 1;
	if (!((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || is_digit(e))) {
		*c = e;
		return 1;
	}
	switch (e) {
	case 't': *c = '\t'; return 1;
	case 'n': *c = '\n'; return 1;
	case 'r': *c = '\r'; return 1;
	case 'f': *c = '\f'; return 1;
	case 'v': *c = '\v'; return 1;
	case 'e': *c = '\x1b'; return 1;
	case 'a': *c = '\a'; return 1;
	case 'x': {
		unsigned v = 0;
		int k = 0;

		while (k < 2 && p->i < p->n) {
			char h = p->p[p->i];

			if (is_digit(h))
				v = v * 16 + (unsigned)(h - '0');
			else if (h >= 'a' && h <= 'f')
				v = v * 16 + (unsigned)(h - 'a' + 10);
			else if (h >= 'A' && h <= 'F')
				v = v * 16 + (unsigned)(h - 'A' + 10);
			else
				break;
			p->i++, k++;
		}
		if (k == 0)
			return 0;
		*c = (char)v;
		return 1;
	}
	case 'c':
		if (p->i < p->n)
			p->i++;
		return 0;
	case 'g':
	case 'k':
	case 'o':
		if (p->i < p->n && (p->p[p->i] == '{' || p->p[p->i] == '<' ||
		    p->p[p->i] == '\'')) {
			char close = p->p[p->i] == '{' ? '}' :
			    p->p[p->i] == '<' ? '>' : '\'';

			while (p->i < p->n && p->p[p->i] != close)
				p->i++;
			if (p->i >= p->n)
				p->giveup = true;
			p->i++;
		} else {
			while (p->i < p->n && (is_digit(p->p[p->i]) ||
			    p->p[p->i] == '-' || p->p[p->i] == '+'))
				p->i++;
		}
		return 0;
	default:
		/* \1 \12 back references and octal \012: all their digits. */
		if (is_digit(e))
			while (p->i < p->n && is_digit(p->p[p->i]))
				p->i++;
		return 0;
	}
}

static void
parse_seq(struct rxp *p, struct info *out)
{
	struct lit run;
	struct lset best;
	struct info gi;
	bool exact = true;
	long q;
	char c;

	memset(&run, 0, sizeof(run));
	best.valid = false;
	best.count = 0;
	while (!p->giveup && p->i < p->n && p->p[p->i] != '|' &&
	    p->p[p->i] != ')') {
		c = p->p[p->i];
		if (c == '(') {
			bool look = false, zero = false;
			size_t i = p->i + 1;

			if (i < p->n && p->p[i] == '?') {
				char k = i + 1 < p->n ? p->p[i + 1] : '\0';

				if (k == '#') {
					while (i < p->n && p->p[i] != ')')
						i++;
					zero = true;
				} else if (k == ':' || k == '>') {
					i += 2;
				} else if (k == '=' || k == '!') {
					look = true;
					i += 2;
				} else if (k == '<' && i + 2 < p->n &&
				    (p->p[i + 2] == '=' || p->p[i + 2] == '!')) {
					look = true;
					i += 3;
				} else if (k == '<' || k == '\'' || (k == 'P' &&
				    i + 2 < p->n && p->p[i + 2] == '<')) {
					char close = k == '\'' ? '\'' : '>';

					while (i < p->n && p->p[i] != close)
						i++;
					i++;
				} else if (k == 'P') {
					/* (?P=name) (?P>name): not literal */
					while (i < p->n && p->p[i] != ')')
						i++;
					zero = true;
				} else {
					/* (?flags) or (?flags:...) */
					bool minus = false;

					i++;
					while (i < p->n && p->p[i] != ')' &&
					    p->p[i] != ':') {
						if (p->p[i] == '-')
							minus = true;
						else if (p->p[i] == 'x' && !minus)
							p->giveup = true;
						i++;
					}
					if (i < p->n && p->p[i] == ')')
						zero = true;
					else
						i++;
				}
			}
			if (zero) {
				if (i >= p->n) {
					p->giveup = true;
					break;
				}
				p->i = i + 1;
				consider_lit(&best, &run);
				memset(&run, 0, sizeof(run));
				exact = false;
				(void)quantifier(p);
				continue;
			}
			p->i = i;
			if (++p->depth > LIT_DEPTH_MAX) {
				p->giveup = true;
				break;
			}
			parse_alt(p, &gi);
			p->depth--;
			if (p->giveup || p->i >= p->n || p->p[p->i] != ')') {
				p->giveup = true;
				break;
			}
			p->i++;
			q = quantifier(p);
			if (look) {
				consider_lit(&best, &run);
				memset(&run, 0, sizeof(run));
				exact = false;
			} else if (q == -1 && gi.exact && !gi.str.full) {
				lit_cat(&run, &gi.str);
			} else {
				consider_lit(&best, &run);
				memset(&run, 0, sizeof(run));
				exact = false;
				if (q != 0) {
					if (gi.exact)
						consider_lit(&best, &gi.str);
					consider(&best, &gi.exset);
					consider(&best, &gi.best);
				}
			}
			continue;
		}
		if (c == '[' || c == '.' || c == '^' || c == '$' ||
		    c == '\\') {
			int lit = 0;

			if (c == '[')
				skip_class(p);
			else if (c == '\\') {
				if (p->i + 1 < p->n && p->p[p->i + 1] == 'Q') {
					/* \Q...\E: literal text */
					p->i += 2;
					while (p->i < p->n && !(p->p[p->i] == '\\' &&
					    p->i + 1 < p->n &&
					    p->p[p->i + 1] == 'E')) {
						lit_addc(&run, p->p[p->i]);
						p->i++;
					}
					if (p->i < p->n)
						p->i += 2;
					/* a quantifier after it binds to the last char */
					if (p->i < p->n && quantifier(p) != -1)
						p->giveup = true;
					continue;
				}
				if (p->i + 1 < p->n && p->p[p->i + 1] == 'E') {
					p->i += 2;
					continue;
				}
				lit = escape(p, &c);
			} else
				p->i++;
			if (lit) {
				goto literal;
			}
			consider_lit(&best, &run);
			memset(&run, 0, sizeof(run));
			exact = false;
			(void)quantifier(p);
			continue;
		}
		if (c == '*' || c == '+' || c == '?') {
			p->giveup = true;
			break;
		}
		if (c == '{') {
			size_t save = p->i;

			if (quantifier(p) != -1) {
				p->giveup = true;
				break;
			}
			p->i = save;
		}
		p->i++;
literal:
		q = quantifier(p);
		if (q == -1) {
			lit_addc(&run, c);
		} else if (q == 0) {
			consider_lit(&best, &run);
			memset(&run, 0, sizeof(run));
			exact = false;
		} else {
			lit_addc(&run, c);
			consider_lit(&best, &run);
			memset(&run, 0, sizeof(run));
			lit_addc(&run, c);
			exact = false;
		}
	}
	out->exact = exact && !run.full;
	out->str = run;
	out->exset.valid = false;
	out->exset.count = 0;
	consider_lit(&best, &run);
	out->best = best;
}

static void
parse_alt(struct rxp *p, struct info *out)
{
	struct info si;
	struct lset uni, exs;
	bool all_exact = true, uni_ok = true;
	int nalts = 0;

	uni.valid = true;
	uni.count = 0;
	exs.valid = true;
	exs.count = 0;
	for (;;) {
		parse_seq(p, &si);
		nalts++;
		if (p->giveup)
			break;
		if (si.exact) {
			if (si.str.n == 0 || !lset_add(&uni, &si.str))
				uni_ok = false;
			if (!lset_add(&exs, &si.str))
				all_exact = false;
		} else {
			all_exact = false;
			if (!si.best.valid)
				uni_ok = false;
			for (size_t k = 0; uni_ok && k < si.best.count; k++)
				if (!lset_add(&uni, &si.best.v[k]))
					uni_ok = false;
		}
		if (p->i < p->n && p->p[p->i] == '|') {
			p->i++;
			continue;
		}
		break;
	}
	out->exact = nalts == 1 && si.exact;
	out->str = si.str;
	out->exset = exs;
	out->exset.valid = all_exact && exs.count > 0;
	out->best = uni;
	out->best.valid = uni_ok && uni.count > 0 && lset_minlen(&uni) > 0;
}

/* The required literals of pat, into rx (none when unknown). */
static int
extract_literals(struct tw_arena *a, struct tw_regex *rx, const char *pat,
    size_t n)
{
	struct rxp p = { pat, n, 0, 0, false };
	struct info *top;
	int r = 0;

	if ((top = malloc(sizeof(*top))) == NULL)
		return TW_ENOMEM;
	parse_alt(&p, top);
	if (p.giveup || p.i != n || !top->best.valid)
		goto out;
	if ((rx->lits = tw_arena_alloc(a, top->best.count *
	    sizeof(*rx->lits))) == NULL || (rx->litlens = tw_arena_alloc(a,
	    top->best.count * sizeof(*rx->litlens))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < top->best.count; i++) {
		if ((rx->lits[i] = tw_arena_strndup(a, top->best.v[i].s,
		    top->best.v[i].n)) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		rx->litlens[i] = top->best.v[i].n;
	}
	rx->nlits = top->best.count;
out:
	free(top);
	return r;
}

/* ---- compile and match ---- */

static void
code_free(void *p)
{
	pcre2_code_free(p);
}

int
tw_regex_compile(struct tw_arena *a, const char *pat, size_t n,
    unsigned flags, struct tw_regex **out, char **why)
{
	pcre2_compile_context *cc = NULL;
	struct tw_regex *rx;
	pcre2_code *code;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	uint32_t opt = 0;
	int err, r = 0;

	*out = NULL;
	if ((r = tw_regex_check(pat, n, why)) != 0)
		return r;
	if (flags & TW_RX_CASELESS)
		opt |= PCRE2_CASELESS;
	if (flags & TW_RX_MULTILINE)
		opt |= PCRE2_MULTILINE;
	if (flags & TW_RX_DOTALL)
		opt |= PCRE2_DOTALL;
	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		return TW_ENOMEM;
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	pcre2_set_bsr(cc, PCRE2_BSR_ANYCRLF);
	code = pcre2_compile((PCRE2_SPTR)pat, n, opt, &err, &off, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		if (why != NULL && asprintf(why, "bad regex '%.*s': %s at "
		    "offset %zu", n > 200 ? 200 : (int)n, pat, (char *)msg,
		    (size_t)off) == -1)
			*why = NULL;
		return TW_EPARSE;
	}
	/* The arena owns the code from here, also on the error paths. */
	if ((r = tw_arena_defer(a, code_free, code)) != 0)
		return r;
	/* Without JIT (unsupported platform) the interpreter runs it. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	if ((rx = tw_arena_alloc(a, sizeof(*rx))) == NULL ||
	    (rx->pattern = tw_arena_strndup(a, pat, n)) == NULL)
		return TW_ENOMEM;
	rx->code = code;
	rx->plen = n;
	rx->flags = flags;
	if ((r = extract_literals(a, rx, pat, n)) != 0)
		return r;
	*out = rx;
	return 0;
}

struct tw_rx_thread {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *js;
};

struct tw_rx_thread *
tw_rx_thread_new(void)
{
	struct tw_rx_thread *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (t->mc = pcre2_match_context_create(NULL)) == NULL) {
		tw_rx_thread_free(t);
		return NULL;
	}
	pcre2_set_match_limit(t->mc, TW_RX_MATCH_LIMIT);
	pcre2_set_depth_limit(t->mc, TW_RX_DEPTH_LIMIT);
	pcre2_set_heap_limit(t->mc, TW_RX_HEAP_LIMIT_KIB);
	/* No JIT stack when JIT is unavailable: the interpreter needs none. */
	if ((t->js = pcre2_jit_stack_create(32 * 1024, TW_RX_JIT_STACK_MAX,
	    NULL)) != NULL)
		pcre2_jit_stack_assign(t->mc, NULL, t->js);
	return t;
}

void
tw_rx_thread_free(struct tw_rx_thread *t)
{
	if (t == NULL)
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mc);
	pcre2_jit_stack_free(t->js);
	free(t);
}

int
tw_regex_exec(const struct tw_regex *rx, struct tw_rx_thread *t,
    const char *s, size_t n, size_t start, bool anchored, bool notempty,
    size_t *ms, size_t *me)
{
	PCRE2_SIZE *ov;
	uint32_t opt = 0;
	int rc;

	if (anchored)
		opt |= PCRE2_ANCHORED;
	if (notempty)
		opt |= PCRE2_NOTEMPTY_ATSTART;
	rc = pcre2_match(rx->code, (PCRE2_SPTR)(s != NULL ? s : ""), n, start,
	    opt, t->md, t->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return TW_ELIMIT;
	ov = pcre2_get_ovector_pointer(t->md);
	*ms = ov[0];
	*me = ov[1];
	return 1;
}

int
tw_regex_search(const struct tw_regex *rx, struct tw_rx_thread *t,
    const char *s, size_t n)
{
	size_t ms, me, i;

	if (rx->nlits > 0) {
		for (i = 0; i < rx->nlits; i++)
			if (tw_memmem_fold(s, n, rx->lits[i], rx->litlens[i],
			    true) != NULL)
				break;
		if (i == rx->nlits)
			return 0;
	}
	return tw_regex_exec(rx, t, s, n, 0, false, false, &ms, &me);
}
