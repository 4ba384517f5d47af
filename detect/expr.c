/* expr.c: the rule condition language (RULES.md §3-§5): parser, compiler and evaluator. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "value.h"

#define TOKENS_MAX 65536
#define EXPR_ARENA_MAX ((size_t)256 << 20)

static const char *const op_names[] = {
	[TW_OP_EQ] = "=", [TW_OP_NE] = "!=", [TW_OP_LT] = "<",
	[TW_OP_LE] = "<=", [TW_OP_GT] = ">", [TW_OP_GE] = ">=",
	[TW_OP_IN] = "in", [TW_OP_IEQ] = "ieq", [TW_OP_CONTAINS] = "contains",
	[TW_OP_ICONTAINS] = "icontains", [TW_OP_STARTSWITH] = "startswith",
	[TW_OP_ISTARTSWITH] = "istartswith", [TW_OP_ENDSWITH] = "endswith",
	[TW_OP_IENDSWITH] = "iendswith", [TW_OP_GLOB] = "glob",
	[TW_OP_IGLOB] = "iglob", [TW_OP_PEQ] = "peq", [TW_OP_PMATCH] = "pmatch",
	[TW_OP_REGEX] = "regex", [TW_OP_IREGEX] = "iregex",
	[TW_OP_CIDR] = "cidr", [TW_OP_EXISTS] = "exists",
};

int
tw_op_parse(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strlen(op_names[i]) == n && memcmp(op_names[i], s, n) == 0)
			return (int)i;
	return -1;
}

const char *
tw_op_name(enum tw_op op)
{
	return (size_t)op < sizeof(op_names) / sizeof(op_names[0]) ?
	    op_names[op] : "?";
}

/* ---- symbols ---- */

struct list_sym {
	char *name;
	struct tw_scalar *items; /* owned array; item spans are the caller's */
	size_t n;
};

struct alias_sym {
	char *name;
	const struct tw_path *const *targets;
	size_t n;
};

struct macro_sym {
	char *name;
	const char *text;
};

struct tw_symbols {
	struct list_sym *lists;
	size_t nlists, caplists;
	struct alias_sym *aliases;
	size_t naliases, capaliases;
	struct macro_sym *macros;
	size_t nmacros, capmacros;
};

struct tw_symbols *
tw_symbols_new(void)
{
	return calloc(1, sizeof(struct tw_symbols));
}

void
tw_symbols_free(struct tw_symbols *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nlists; i++) {
		free(s->lists[i].name);
		free(s->lists[i].items);
	}
	for (size_t i = 0; i < s->naliases; i++)
		free(s->aliases[i].name);
	for (size_t i = 0; i < s->nmacros; i++)
		free(s->macros[i].name);
	free(s->lists);
	free(s->aliases);
	free(s->macros);
	free(s);
}

static struct list_sym *
find_list(const struct tw_symbols *s, const char *name, size_t n)
{
	for (size_t i = 0; s != NULL && i < s->nlists; i++)
		if (strlen(s->lists[i].name) == n &&
		    memcmp(s->lists[i].name, name, n) == 0)
			return &s->lists[i];
	return NULL;
}

static const struct alias_sym *
find_alias(const struct tw_symbols *s, const char *name, size_t n)
{
	for (size_t i = 0; s != NULL && i < s->naliases; i++)
		if (strlen(s->aliases[i].name) == n &&
		    memcmp(s->aliases[i].name, name, n) == 0)
			return &s->aliases[i];
	return NULL;
}

static const struct macro_sym *
find_macro(const struct tw_symbols *s, const char *name, size_t n)
{
	for (size_t i = 0; s != NULL && i < s->nmacros; i++)
		if (strlen(s->macros[i].name) == n &&
		    memcmp(s->macros[i].name, name, n) == 0)
			return &s->macros[i];
	return NULL;
}

bool
tw_symbols_has_list(const struct tw_symbols *s, const char *name)
{
	return find_list(s, name, strlen(name)) != NULL;
}

bool
tw_symbols_has_alias(const struct tw_symbols *s, const char *name)
{
	return find_alias(s, name, strlen(name)) != NULL;
}

bool
tw_symbols_has_macro(const struct tw_symbols *s, const char *name)
{
	return find_macro(s, name, strlen(name)) != NULL;
}

const char *
tw_symbols_macro_name(const struct tw_symbols *s, size_t i)
{
	return i < s->nmacros ? s->macros[i].name : NULL;
}

/* Grow *arr (of *cap elements of size sz) to hold one more. */
static int
grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap != 0 ? *cap * 2 : 16;
	if ((p = realloc(*arr, c * sz)) == NULL)
		return TW_ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

int
tw_symbols_add_list(struct tw_symbols *s, const char *name,
    const struct tw_scalar *items, size_t n)
{
	struct list_sym *l;
	int r;

	if (find_list(s, name, strlen(name)) != NULL)
		return TW_EEXISTS;
	if ((r = grow((void **)&s->lists, &s->caplists, s->nlists,
	    sizeof(*s->lists))) != 0)
		return r;
	l = &s->lists[s->nlists];
	memset(l, 0, sizeof(*l));
	if ((l->name = strdup(name)) == NULL ||
	    (n > 0 && (l->items = malloc(n * sizeof(*items))) == NULL)) {
		free(l->name);
		return TW_ENOMEM;
	}
	if (n > 0)
		memcpy(l->items, items, n * sizeof(*items));
	l->n = n;
	s->nlists++;
	return 0;
}

int
tw_symbols_list_append(struct tw_symbols *s, const char *name,
    const struct tw_scalar *items, size_t n)
{
	struct list_sym *l = find_list(s, name, strlen(name));
	struct tw_scalar *ni;

	if (l == NULL)
		return TW_ENOTFOUND;
	if (n == 0)
		return 0;
	if ((ni = realloc(l->items, (l->n + n) * sizeof(*ni))) == NULL)
		return TW_ENOMEM;
	memcpy(ni + l->n, items, n * sizeof(*items));
	l->items = ni;
	l->n += n;
	return 0;
}

int
tw_symbols_add_alias(struct tw_symbols *s, const char *name,
    const struct tw_path *const *targets, size_t n)
{
	struct alias_sym *a;
	int r;

	if (find_alias(s, name, strlen(name)) != NULL)
		return TW_EEXISTS;
	if ((r = grow((void **)&s->aliases, &s->capaliases, s->naliases,
	    sizeof(*s->aliases))) != 0)
		return r;
	a = &s->aliases[s->naliases];
	if ((a->name = strdup(name)) == NULL)
		return TW_ENOMEM;
	a->targets = targets;
	a->n = n;
	s->naliases++;
	return 0;
}

int
tw_symbols_add_macro(struct tw_symbols *s, const char *name, const char *text)
{
	struct macro_sym *m;
	int r;

	if (find_macro(s, name, strlen(name)) != NULL)
		return TW_EEXISTS;
	if ((r = grow((void **)&s->macros, &s->capmacros, s->nmacros,
	    sizeof(*s->macros))) != 0)
		return r;
	m = &s->macros[s->nmacros];
	if ((m->name = strdup(name)) == NULL)
		return TW_ENOMEM;
	m->text = text;
	s->nmacros++;
	return 0;
}

static int set_why(char **why, const char *fmt, ...) TW_PRINTF(2, 3);

static int
set_why(char **why, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		if (vasprintf(why, fmt, ap) == -1)
			*why = NULL;
		va_end(ap);
	}
	return TW_EPARSE;
}

struct flat {
	struct tw_scalar *v;
	size_t n, cap;
};

static int
flatten(const struct tw_symbols *s, const struct list_sym *l,
    const struct list_sym **stack, size_t depth, struct flat *out, char **why)
{
	const struct list_sym *ref;
	int r;

	for (size_t i = 0; i < depth; i++)
		if (stack[i] == l)
			return set_why(why, "list cycle via $%s", l->name);
	if (depth >= 64)
		return set_why(why, "lists nested too deeply via $%s", l->name);
	stack[depth] = l;
	for (size_t i = 0; i < l->n; i++) {
		const struct tw_scalar *it = &l->items[i];

		if (it->kind == TW_SCALAR_STR && it->n > 0 && it->s[0] == '$') {
			if ((ref = find_list(s, it->s + 1, it->n - 1)) == NULL)
				return set_why(why, "unknown list $%.*s in $%s",
				    (int)(it->n - 1), it->s + 1, l->name);
			if ((r = flatten(s, ref, stack, depth + 1, out, why)) != 0)
				return r;
			continue;
		}
		if (out->n >= TW_EXPR_LIST_ITEMS)
			return set_why(why, "list $%s has more than %u items",
			    l->name, TW_EXPR_LIST_ITEMS);
		if ((r = grow((void **)&out->v, &out->cap, out->n,
		    sizeof(*out->v))) != 0)
			return r;
		out->v[out->n++] = *it;
	}
	return 0;
}

int
tw_symbols_list_items(const struct tw_symbols *s, const char *name,
    struct tw_arena *a, struct tw_scalar **items, size_t *n, char **why)
{
	const struct list_sym *stack[64], *l;
	struct flat f = { NULL, 0, 0 };
	int r;

	*items = NULL;
	*n = 0;
	if ((l = find_list(s, name, strlen(name))) == NULL)
		return TW_ENOTFOUND;
	if ((r = flatten(s, l, stack, 0, &f, why)) != 0)
		goto out;
	if (f.n > 0) {
		if ((*items = tw_arena_alloc(a, f.n * sizeof(**items))) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		memcpy(*items, f.v, f.n * sizeof(**items));
	}
	*n = f.n;
out:
	free(f.v);
	return r;
}

/* ---- the compiler ---- */

struct macro_cache {
	const struct macro_sym *m;
	struct tw_node *ast;
	bool busy; /* being compiled: a reference now is a cycle */
};

struct tw_compiler {
	struct tw_arena *a;
	const struct tw_symbols *sym;
	struct tw_fields *fields;
	struct macro_cache *cache;
	size_t ncache;
	int depth;
};

struct tw_compiler *
tw_compiler_new(struct tw_arena *a, const struct tw_symbols *sym,
    struct tw_fields *fields)
{
	struct tw_compiler *c;
	size_t n = sym != NULL ? sym->nmacros : 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->a = a;
	c->sym = sym;
	c->fields = fields;
	if (n > 0 && (c->cache = calloc(n, sizeof(*c->cache))) == NULL) {
		free(c);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		c->cache[i].m = &sym->macros[i];
	c->ncache = n;
	return c;
}

void
tw_compiler_free(struct tw_compiler *c)
{
	if (c == NULL)
		return;
	free(c->cache);
	free(c);
}

struct tw_node *
tw_node_new(struct tw_compiler *c, enum tw_node_kind kind,
    struct tw_node *const *kids, size_t n)
{
	struct tw_node *nd;

	if ((nd = tw_arena_alloc(c->a, sizeof(*nd))) == NULL)
		return NULL;
	nd->kind = kind;
	if (n > 0) {
		if ((nd->kids = tw_arena_alloc(c->a, n * sizeof(*kids))) == NULL)
			return NULL;
		memcpy(nd->kids, kids, n * sizeof(*kids));
	}
	nd->n = n;
	return nd;
}

/* Count nodes (shared ones each time) and depth, stopping past the limits. */
static bool
node_walk(const struct tw_node *n, size_t depth, size_t *size)
{
	if (++*size > TW_EXPR_NODES_MAX || depth > TW_EXPR_TREE_DEPTH_MAX)
		return false;
	for (size_t i = 0; i < n->n; i++)
		if (!node_walk(n->kids[i], depth + 1, size))
			return false;
	return true;
}

bool
tw_node_check(const struct tw_node *n)
{
	size_t size = 0;

	return node_walk(n, 1, &size);
}

/* Expand the aliases of path p (RULES.md §3) into out. */
static int
expand_aliases(struct tw_compiler *c, const struct tw_path *p, int depth,
    const struct tw_path ***out, size_t *n, size_t *cap, char **why)
{
	const struct alias_sym *al = NULL;
	struct tw_path *j;
	int r;

	if (depth > TW_EXPR_ALIAS_DEPTH)
		return set_why(why, "alias recursion in '%s'", p->text);
	if (p->n > 0 && p->segs[0].kind == TW_SEG_KEY)
		al = find_alias(c->sym, p->segs[0].key, p->segs[0].klen);
	if (al == NULL) {
		if (*n >= TW_EXPR_ALIAS_PATHS)
			return set_why(why, "'%s' expands to more than %d paths",
			    p->text, TW_EXPR_ALIAS_PATHS);
		if ((r = grow((void **)out, cap, *n, sizeof(**out))) != 0)
			return r;
		(*out)[(*n)++] = p;
		return 0;
	}
	for (size_t i = 0; i < al->n; i++) {
		if ((j = tw_path_join(c->a, al->targets[i], p, 1)) == NULL)
			return TW_ENOMEM;
		if ((r = expand_aliases(c, j, depth + 1, out, n, cap, why)) != 0)
			return r;
	}
	return 0;
}

int
tw_compile_paths(struct tw_compiler *c, const char *text, size_t n,
    const struct tw_path ***paths, uint32_t **slots, size_t *npaths,
    char **why)
{
	const struct tw_path **tmp = NULL, **pp;
	struct tw_path *p;
	size_t np = 0, cap = 0;
	uint32_t *sl;
	int r;

	if ((r = tw_path_parse(c->a, text, n, &p, why)) != 0)
		return r;
	if ((r = expand_aliases(c, p, 0, &tmp, &np, &cap, why)) != 0)
		goto out;
	if ((pp = tw_arena_alloc(c->a, np * sizeof(*pp))) == NULL ||
	    (sl = tw_arena_alloc(c->a, np * sizeof(*sl))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < np; i++) {
		pp[i] = tmp[i];
		if ((r = tw_fields_intern(c->fields, tmp[i], &sl[i])) != 0) {
			if (r == TW_ELIMIT)
				r = set_why(why, "too many distinct paths");
			goto out;
		}
	}
	*paths = pp;
	*slots = sl;
	*npaths = np;
out:
	free(tmp);
	return r;
}

static char *
lower_dup(struct tw_arena *a, const char *s, size_t n)
{
	char *t;

	if ((t = tw_arena_strndup(a, s, n)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		t[i] = (char)tw_lower((unsigned char)t[i]);
	return t;
}

/* Compile one literal for op (RULES.md §5 load-time checks). */
static int
make_lit(struct tw_compiler *c, enum tw_op op, const struct tw_scalar *v,
    unsigned rxflags, struct tw_lit *l, char **why)
{
	struct tw_buf t;
	int r = 0;

	memset(l, 0, sizeof(*l));
	l->v = *v;
	if (v->kind == TW_SCALAR_INT || v->kind == TW_SCALAR_FLOAT) {
		l->has_num = true;
		l->num = v->d;
	} else if (v->kind == TW_SCALAR_STR)
		l->has_num = tw_num_parse(v->s, v->n, &l->num);
	switch (op) {
	case TW_OP_REGEX:
	case TW_OP_IREGEX:
		return tw_regex_compile(c->a, v->s, v->n, rxflags |
		    (op == TW_OP_IREGEX ? TW_RX_CASELESS : 0), &l->rx, why);
	case TW_OP_CIDR:
		tw_buf_init(&t, 4096);
		if ((r = tw_buf_add(&t, v->s, v->n)) == 0 &&
		    memchr(v->s, '/', v->n) == NULL)
			r = tw_buf_adds(&t, memchr(v->s, ':', v->n) != NULL ?
			    "/128" : "/32");
		if (r == 0 && !tw_net_parse(t.data, t.len, &l->net))
			r = set_why(why, "bad cidr literal '%.*s'",
			    (int)(v->n > 200 ? 200 : v->n), v->s);
		tw_buf_cleanup(&t);
		return r;
	case TW_OP_LT:
	case TW_OP_LE:
	case TW_OP_GT:
	case TW_OP_GE:
		if (!l->has_num)
			return set_why(why, "%s needs numeric literals, not "
			    "'%.*s'", tw_op_name(op),
			    (int)(v->n > 200 ? 200 : v->n), v->s);
		return 0;
	case TW_OP_PEQ:
	case TW_OP_PMATCH:
		tw_buf_init(&t, (size_t)1 << 20);
		if ((r = tw_pnorm(v->s, v->n, &t)) == 0 &&
		    (l->alt = tw_arena_strndup(c->a, t.data, t.len)) == NULL)
			r = TW_ENOMEM;
		l->altn = t.len;
		tw_buf_cleanup(&t);
		return r;
	case TW_OP_IEQ:
	case TW_OP_ICONTAINS:
	case TW_OP_ISTARTSWITH:
	case TW_OP_IENDSWITH:
	case TW_OP_IGLOB:
		if ((l->alt = lower_dup(c->a, v->s, v->n)) == NULL)
			return TW_ENOMEM;
		l->altn = v->n;
		return 0;
	default:
		return 0;
	}
}

static int
build_pred(struct tw_compiler *c, enum tw_quant q, enum tw_op op,
    const char *path, size_t pathlen, const char *operand,
    const struct tw_scalar *vals, size_t nvals, unsigned rxflags,
    struct tw_node **out, char **why)
{
	struct tw_pred *p;
	struct tw_node *nd;
	int r;

	if ((p = tw_arena_alloc(c->a, sizeof(*p))) == NULL)
		return TW_ENOMEM;
	p->quant = q;
	p->op = op;
	if ((r = tw_compile_paths(c, path, pathlen, &p->paths, &p->slots,
	    &p->npaths, why)) != 0)
		return r;
	if ((p->operand = tw_arena_strndup(c->a, operand, strlen(operand))) ==
	    NULL)
		return TW_ENOMEM;
	if (op == TW_OP_EXISTS) {
		if (q == TW_Q_KEYS)
			return set_why(why, "keys(...) exists is not allowed; "
			    "use the path itself");
	} else {
		if (nvals == 0)
			return set_why(why, "empty value list for '%s'", operand);
		if ((p->lits = tw_arena_alloc(c->a, nvals *
		    sizeof(*p->lits))) == NULL)
			return TW_ENOMEM;
		for (size_t i = 0; i < nvals; i++)
			if ((r = make_lit(c, op, &vals[i], rxflags, &p->lits[i],
			    why)) != 0)
				return r;
		p->nlits = nvals;
	}
	if ((nd = tw_node_new(c, TW_NODE_PRED, NULL, 0)) == NULL)
		return TW_ENOMEM;
	nd->pred = p;
	*out = nd;
	return 0;
}

int
tw_compile_pred(struct tw_compiler *c, enum tw_quant q, enum tw_op op,
    const char *path, const struct tw_scalar *vals, size_t nvals,
    unsigned rxflags, struct tw_node **out, char **why)
{
	return build_pred(c, q, op, path, strlen(path), path, vals, nvals,
	    rxflags, out, why);
}

/* ---- lexer ---- */

enum tok_kind { TOK_END, TOK_P, TOK_W, TOK_S };

struct tok {
	enum tok_kind k;
	const char *p; /* TOK_W: the word; TOK_S: the decoded string */
	size_t n;
	size_t off;
};

/* Python's str.isspace() for one code point. */
static bool
py_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) ||
	    c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

struct lexer {
	struct tw_compiler *c;
	const char *text;
	size_t n;
	struct tok *toks;
	size_t ntoks, cap;
	char *why;
	long err_off;
};

static int
lex_push(struct lexer *lx, enum tok_kind k, const char *p, size_t n,
    size_t off)
{
	int r;

	if (lx->ntoks >= TOKENS_MAX) {
		lx->err_off = (long)off;
		return set_why(&lx->why, "condition has too many tokens");
	}
	if ((r = grow((void **)&lx->toks, &lx->cap, lx->ntoks,
	    sizeof(*lx->toks))) != 0)
		return r;
	lx->toks[lx->ntoks].k = k;
	lx->toks[lx->ntoks].p = p;
	lx->toks[lx->ntoks].n = n;
	lx->toks[lx->ntoks].off = off;
	lx->ntoks++;
	return 0;
}

static int
lex(struct lexer *lx)
{
	const char *t = lx->text;
	size_t n = lx->n, i = 0, j, k, len;
	struct tw_buf b;
	char *s;
	int r = 0;

	tw_buf_init(&b, TW_EXPR_TEXT_MAX);
	while (r == 0 && i < n) {
		char c = t[i];

		if (py_space(tw_utf8_next(t + i, n - i, &len))) {
			i += len;
			continue;
		}
		if (c == '(' || c == ')' || c == ',') {
			r = lex_push(lx, TOK_P, t + i, 1, i);
			i++;
		} else if (i + 1 < n && (c == '<' || c == '>' || c == '!') &&
		    t[i + 1] == '=') {
			r = lex_push(lx, TOK_W, t + i, 2, i);
			i += 2;
		} else if (c == '=' || c == '<' || c == '>') {
			r = lex_push(lx, TOK_W, t + i, 1, i);
			i++;
		} else if (c == '\'') {
			tw_buf_reset(&b);
			for (j = i + 1;; j++) {
				if (j >= n) {
					lx->err_off = (long)i;
					r = set_why(&lx->why, "unterminated string");
					goto out;
				}
				if (t[j] == '\'') {
					if (j + 1 < n && t[j + 1] == '\'') {
						if ((r = tw_buf_addc(&b, '\'')) != 0)
							goto out;
						j++;
						continue;
					}
					break;
				}
				if ((r = tw_buf_addc(&b, t[j])) != 0)
					goto out;
			}
			if ((s = tw_arena_strndup(lx->c->a, b.data != NULL ?
			    b.data : "", b.len)) == NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			r = lex_push(lx, TOK_S, s, b.len, i);
			i = j + 1;
		} else if (c == '"') {
			j = i + 1;
			while (j < n && t[j] != '"')
				j += t[j] == '\\' ? 2 : 1;
			if (j >= n) {
				lx->err_off = (long)i;
				r = set_why(&lx->why, "unterminated string");
				goto out;
			}
			tw_buf_reset(&b);
			if ((r = tw_json_str_decode(t + i, j + 1 - i, &b)) != 0) {
				if (r == TW_EPARSE) {
					lx->err_off = (long)i;
					set_why(&lx->why, "bad JSON string %.*s",
					    (int)(j + 1 - i > 100 ? 100 : j + 1 - i),
					    t + i);
				}
				goto out;
			}
			if ((s = tw_arena_strndup(lx->c->a, b.data != NULL ?
			    b.data : "", b.len)) == NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			r = lex_push(lx, TOK_S, s, b.len, i);
			i = j + 1;
		} else {
			j = i;
			while (j < n) {
				if (py_space(tw_utf8_next(t + j, n - j, &len)) ||
				    strchr("(),=<>!'\"", t[j]) != NULL)
					break;
				if (t[j] == '[') {
					/* a bracket segment may quote anything */
					k = j + 1;
					while (k < n && t[k] != ']') {
						if (t[k] == '"' || t[k] == '\'') {
							char q = t[k++];

							while (k < n && t[k] != q)
								k += (q == '"' &&
								    t[k] == '\\') ? 2 : 1;
						}
						k++;
					}
					j = k + 1;
				} else
					j += len;
			}
			if (j > n)
				j = n;
			if (j == i) {
				lx->err_off = (long)i;
				r = set_why(&lx->why, "unexpected character '%c'",
				    c);
				goto out;
			}
			r = lex_push(lx, TOK_W, t + i, j - i, i);
			i = j;
		}
	}
out:
	tw_buf_cleanup(&b);
	return r;
}

/* ---- parser ---- */

struct parser {
	struct lexer lx;
	size_t pos;
	struct tw_scalar *vals; /* p_values scratch */
	size_t nvals, capvals;
};

static const struct tok end_tok = { TOK_END, "", 0, 0 };

static const struct tok *
peek(struct parser *p)
{
	return p->pos < p->lx.ntoks ? &p->lx.toks[p->pos] : &end_tok;
}

static const struct tok *
take(struct parser *p)
{
	const struct tok *t = peek(p);

	if (p->pos < p->lx.ntoks)
		p->pos++;
	return t;
}

static bool
tok_is(const struct tok *t, enum tok_kind k, const char *s)
{
	return t->k == k && t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

static bool
is_keyword(const struct tok *t)
{
	return t->k == TOK_W && (tok_is(t, TOK_W, "and") ||
	    tok_is(t, TOK_W, "or") || tok_is(t, TOK_W, "not") ||
	    tw_op_parse(t->p, t->n) >= 0);
}

struct parser;
static int perr(struct parser *p, const struct tok *t, const char *fmt, ...)
    TW_PRINTF(3, 4);

/* Fail at token t (or the end of text). */
static int
perr(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	va_list ap;

	if (p->lx.why == NULL) {
		p->lx.err_off = t->k == TOK_END ? (long)p->lx.n : (long)t->off;
		va_start(ap, fmt);
		if (vasprintf(&p->lx.why, fmt, ap) == -1)
			p->lx.why = NULL;
		va_end(ap);
	}
	return TW_EPARSE;
}

static const char *
tok_desc(const struct tok *t, char *buf, size_t n)
{
	if (t->k == TOK_END)
		snprintf(buf, n, "end of condition");
	else
		snprintf(buf, n, "'%.*s'", (int)(t->n > 60 ? 60 : t->n), t->p);
	return buf;
}

static int p_or(struct parser *p, struct tw_node **out);
static int compile_text(struct tw_compiler *c, const char *text, size_t n,
    struct tw_node **out, char **why, long *err_off);

static int
macro_ref(struct parser *p, const struct tok *t, struct tw_node **out)
{
	struct tw_compiler *c = p->lx.c;
	struct macro_cache *mc = NULL;
	char *why = NULL;
	long off;
	int r;

	for (size_t i = 0; i < c->ncache; i++)
		if (strlen(c->cache[i].m->name) == t->n &&
		    memcmp(c->cache[i].m->name, t->p, t->n) == 0)
			mc = &c->cache[i];
	if (mc == NULL)
		return perr(p, t, "'%.*s' is neither a macro nor followed by an "
		    "operator", (int)(t->n > 100 ? 100 : t->n), t->p);
	if (mc->ast != NULL) {
		*out = mc->ast;
		return 0;
	}
	if (mc->busy)
		return perr(p, t, "macro cycle via %s", mc->m->name);
	mc->busy = true;
	r = compile_text(c, mc->m->text, strlen(mc->m->text), &mc->ast, &why,
	    &off);
	mc->busy = false;
	if (r == TW_EPARSE) {
		r = perr(p, t, "in macro %s: %s", mc->m->name,
		    why != NULL ? why : "error");
		mc->ast = NULL;
	}
	free(why);
	if (r == 0)
		*out = mc->ast;
	return r;
}

/* Scalar of a value token (RULES.md §4 literal). */
static int
word_scalar(struct parser *p, const struct tok *t, struct tw_scalar *v)
{
	size_t i = 0, d = 0, f = 0;
	const char *s = t->p;
	char buf[TW_NUM_STR_MAX];
	bool neg = false;

	memset(v, 0, sizeof(*v));
	v->kind = TW_SCALAR_STR;
	/* Literals outlive the condition text: copy. */
	if ((v->s = tw_arena_strndup(p->lx.c->a, s, t->n)) == NULL)
		return TW_ENOMEM;
	v->n = t->n;
	if (tok_is(t, TOK_W, "true") || tok_is(t, TOK_W, "false")) {
		v->kind = TW_SCALAR_BOOL;
		v->b = s[0] == 't';
		return 0;
	}
	if (tok_is(t, TOK_W, "null"))
		return perr(p, t, "null literal: use `not <path> exists` (null "
		    "and absent are the same)");
	if (t->n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	while (i + d < t->n && s[i + d] >= '0' && s[i + d] <= '9')
		d++;
	if (d == 0)
		return 0;
	if (i + d == t->n) {
		/* An integer: canonical text without sign or leading zeros. */
		size_t z = i;
		char *q;

		while (z < t->n - 1 && s[z] == '0')
			z++;
		neg = neg && !(t->n - z == 1 && s[z] == '0');
		if ((q = tw_arena_alloc(p->lx.c->a, t->n - z + 2)) == NULL)
			return TW_ENOMEM;
		q[0] = '-';
		memcpy(q + 1, s + z, t->n - z);
		v->kind = TW_SCALAR_INT;
		v->s = neg ? q : q + 1;
		v->n = t->n - z + (neg ? 1 : 0);
		(void)tw_num_parse(s, t->n, &v->d);
		return 0;
	}
	if (s[i + d] != '.')
		return 0;
	while (i + d + 1 + f < t->n && s[i + d + 1 + f] >= '0' &&
	    s[i + d + 1 + f] <= '9')
		f++;
	if (f == 0 || i + d + 1 + f != t->n)
		return 0;
	v->kind = TW_SCALAR_FLOAT;
	(void)tw_num_parse(s, t->n, &v->d);
	tw_num_str(v->d, buf);
	if ((v->s = tw_arena_strndup(p->lx.c->a, buf, strlen(buf))) == NULL)
		return TW_ENOMEM;
	v->n = strlen(buf);
	return 0;
}

static int
push_val(struct parser *p, const struct tw_scalar *v)
{
	int r;

	if (p->nvals >= TW_EXPR_LIST_ITEMS)
		return perr(p, peek(p), "too many values");
	if ((r = grow((void **)&p->vals, &p->capvals, p->nvals,
	    sizeof(*p->vals))) != 0)
		return r;
	p->vals[p->nvals++] = *v;
	return 0;
}

static int
p_value(struct parser *p)
{
	const struct tok *t = take(p);
	struct tw_scalar v, *items;
	char *name, *why = NULL;
	size_t n;
	int r;

	if (t->k == TOK_S) {
		memset(&v, 0, sizeof(v));
		v.kind = TW_SCALAR_STR;
		v.s = t->p;
		v.n = t->n;
		return push_val(p, &v);
	}
	if (t->k != TOK_W) {
		char d[80];

		return perr(p, t, "expected a value, got %s",
		    tok_desc(t, d, sizeof(d)));
	}
	if (t->n > 0 && t->p[0] == '$') {
		if ((name = tw_arena_strndup(p->lx.c->a, t->p + 1, t->n - 1)) ==
		    NULL)
			return TW_ENOMEM;
		r = tw_symbols_list_items(p->lx.c->sym, name, p->lx.c->a,
		    &items, &n, &why);
		if (r == TW_ENOTFOUND)
			r = perr(p, t, "unknown list $%s", name);
		else if (r == TW_EPARSE)
			r = perr(p, t, "%s", why != NULL ? why : "bad list");
		free(why);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = push_val(p, &items[i]);
		return r;
	}
	if ((r = word_scalar(p, t, &v)) != 0)
		return r;
	return push_val(p, &v);
}

static int
p_values(struct parser *p)
{
	const struct tok *t;
	char d[80];
	int r;

	if (!tok_is(peek(p), TOK_P, "("))
		return p_value(p);
	take(p);
	for (;;) {
		if ((r = p_value(p)) != 0)
			return r;
		t = take(p);
		if (tok_is(t, TOK_P, ")"))
			return 0;
		if (!tok_is(t, TOK_P, ","))
			return perr(p, t, "expected , or ) in a value list, got "
			    "%s", tok_desc(t, d, sizeof(d)));
	}
}

static int
p_primary(struct parser *p, struct tw_node **out)
{
	const struct tok *t = peek(p), *w, *o;
	enum tw_quant q = TW_Q_ANY;
	char d[80], *operand = NULL, *why = NULL;
	const char *word;
	size_t wn;
	bool func = false;
	int op, r;

	if (tok_is(t, TOK_P, "(")) {
		take(p);
		if ((r = p_or(p, out)) != 0)
			return r;
		t = take(p);
		if (!tok_is(t, TOK_P, ")"))
			return perr(p, t, "expected ), got %s",
			    tok_desc(t, d, sizeof(d)));
		return 0;
	}
	if (t->k != TOK_W || is_keyword(t))
		return perr(p, t, "unexpected %s", tok_desc(t, d, sizeof(d)));
	w = take(p);
	word = w->p;
	wn = w->n;
	if ((tok_is(w, TOK_W, "all") || tok_is(w, TOK_W, "any") ||
	    tok_is(w, TOK_W, "keys")) && tok_is(peek(p), TOK_P, "(")) {
		q = w->p[0] == 'a' ? (w->p[1] == 'l' ? TW_Q_ALL : TW_Q_ANY) :
		    TW_Q_KEYS;
		take(p);
		t = take(p);
		if (t->k == TOK_END)
			return perr(p, t, "expected a path after %.*s(",
			    (int)w->n, w->p);
		word = t->p;
		wn = t->n;
		if (!tok_is(take(p), TOK_P, ")"))
			return perr(p, t, "expected ) after %.*s(", (int)w->n,
			    w->p);
		func = true;
	}
	o = peek(p);
	if (!func && !(o->k == TOK_W && tw_op_parse(o->p, o->n) >= 0))
		return macro_ref(p, w, out);
	o = take(p);
	if (o->k != TOK_W || (op = tw_op_parse(o->p, o->n)) < 0)
		return perr(p, o, "unknown operator %s",
		    tok_desc(o, d, sizeof(d)));
	if (func) {
		if (asprintf(&operand, "%.*s(%.*s)", (int)w->n, w->p, (int)wn,
		    word) == -1)
			return TW_ENOMEM;
	} else if ((operand = strndup(word, wn)) == NULL)
		return TW_ENOMEM;
	p->nvals = 0;
	if (op != TW_OP_EXISTS && (r = p_values(p)) != 0)
		goto out;
	r = build_pred(p->lx.c, q, (enum tw_op)op, word, wn, operand, p->vals,
	    p->nvals, 0, out, &why);
	if (r == TW_EPARSE)
		r = perr(p, w, "%s", why != NULL ? why : "bad predicate");
out:
	free(why);
	free(operand);
	return r;
}

static int
p_not(struct parser *p, struct tw_node **out)
{
	struct tw_node *kid;
	int r;

	if (!tok_is(peek(p), TOK_W, "not"))
		return p_primary(p, out);
	take(p);
	if (++p->lx.c->depth > TW_EXPR_DEPTH_MAX)
		return perr(p, peek(p), "condition nested too deeply");
	r = p_not(p, &kid);
	p->lx.c->depth--;
	if (r != 0)
		return r;
	if ((*out = tw_node_new(p->lx.c, TW_NODE_NOT, &kid, 1)) == NULL)
		return TW_ENOMEM;
	return 0;
}

/* A list of operands joined by word (and/or); one operand is returned as is. */
static int
p_list(struct parser *p, const char *word, enum tw_node_kind kind,
    int (*sub)(struct parser *, struct tw_node **), struct tw_node **out)
{
	struct tw_node **kids = NULL, *k;
	size_t n = 0, cap = 0;
	int r;

	if (++p->lx.c->depth > TW_EXPR_DEPTH_MAX)
		return perr(p, peek(p), "condition nested too deeply");
	for (;;) {
		if ((r = sub(p, &k)) != 0)
			goto out;
		if ((r = grow((void **)&kids, &cap, n, sizeof(*kids))) != 0)
			goto out;
		kids[n++] = k;
		if (!tok_is(peek(p), TOK_W, word))
			break;
		take(p);
	}
	if (n == 1)
		*out = kids[0];
	else if ((*out = tw_node_new(p->lx.c, kind, kids, n)) == NULL)
		r = TW_ENOMEM;
out:
	p->lx.c->depth--;
	free(kids);
	return r;
}

static int
p_and(struct parser *p, struct tw_node **out)
{
	return p_list(p, "and", TW_NODE_AND, p_not, out);
}

static int
p_or(struct parser *p, struct tw_node **out)
{
	return p_list(p, "or", TW_NODE_OR, p_and, out);
}

static int
compile_text(struct tw_compiler *c, const char *text, size_t n,
    struct tw_node **out, char **why, long *err_off)
{
	struct parser p;
	char d[80];
	int r;

	memset(&p, 0, sizeof(p));
	p.lx.c = c;
	p.lx.text = text;
	p.lx.n = n;
	p.lx.err_off = -1;
	*out = NULL;
	if (n > TW_EXPR_TEXT_MAX) {
		p.lx.err_off = 0;
		r = set_why(&p.lx.why, "condition longer than %u bytes",
		    TW_EXPR_TEXT_MAX);
		goto out;
	}
	if ((r = lex(&p.lx)) != 0)
		goto out;
	if ((r = p_or(&p, out)) != 0)
		goto out;
	if (p.pos != p.lx.ntoks) {
		r = perr(&p, peek(&p), "unexpected %s after the condition",
		    tok_desc(peek(&p), d, sizeof(d)));
		goto out;
	}
out:
	if (r != 0) {
		*out = NULL;
		if (r == TW_EPARSE && p.lx.why == NULL)
			p.lx.why = strdup("bad condition");
	}
	if (why != NULL) {
		*why = p.lx.why;
		p.lx.why = NULL;
	}
	if (err_off != NULL)
		*err_off = p.lx.err_off;
	free(p.lx.why);
	free(p.lx.toks);
	free(p.vals);
	return r;
}

int
tw_compile_condition(struct tw_compiler *c, const char *text, size_t n,
    struct tw_node **out, char **why, long *err_off)
{
	int r;

	c->depth = 0;
	if ((r = compile_text(c, text, n, out, why, err_off)) != 0)
		return r;
	if (!tw_node_check(*out)) {
		*out = NULL;
		if (err_off != NULL)
			*err_off = -1;
		return set_why(why, "condition has more than %d nodes or is "
		    "nested deeper than %d after macro expansion",
		    TW_EXPR_NODES_MAX, TW_EXPR_TREE_DEPTH_MAX);
	}
	return 0;
}

int
tw_compile_macro(struct tw_compiler *c, const char *name,
    struct tw_node **out, char **why, long *err_off)
{
	struct macro_cache *mc = NULL;
	int r;

	for (size_t i = 0; i < c->ncache; i++)
		if (strcmp(c->cache[i].m->name, name) == 0)
			mc = &c->cache[i];
	if (mc == NULL)
		return TW_ENOTFOUND;
	if (mc->ast != NULL) {
		*out = mc->ast;
		return 0;
	}
	c->depth = 0;
	mc->busy = true;
	r = compile_text(c, mc->m->text, strlen(mc->m->text), &mc->ast, why,
	    err_off);
	mc->busy = false;
	if (r != 0) {
		mc->ast = NULL;
		return r;
	}
	*out = mc->ast;
	return 0;
}

/* ---- evaluation ---- */

struct tw_match *
tw_match_new(void)
{
	struct tw_match *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	tw_slotvals_init(&m->sv);
	tw_buf_init(&m->tmp, (size_t)64 << 20);
	tw_buf_init(&m->fold, (size_t)64 << 20);
	tw_buf_init(&m->norm, (size_t)64 << 20);
	if ((m->rx = tw_rx_thread_new()) == NULL) {
		tw_match_free(m);
		return NULL;
	}
	return m;
}

void
tw_match_free(struct tw_match *m)
{
	if (m == NULL)
		return;
	tw_slotvals_cleanup(&m->sv);
	tw_rx_thread_free(m->rx);
	tw_buf_cleanup(&m->tmp);
	tw_buf_cleanup(&m->fold);
	tw_buf_cleanup(&m->norm);
	free(m);
}

/* A value with its forms computed on demand. */
struct vform {
	const struct tw_value *v;
	const char *s;
	size_t n;
	bool have_s, have_fold;
	int num; /* -1 unknown, 0 none, 1 in d */
	double d;
};

static int
form_str(struct tw_match *m, struct vform *f)
{
	int r;

	if (f->have_s)
		return 0;
	if ((r = tw_value_str(f->v, &m->tmp, &f->s, &f->n)) != 0)
		return r;
	f->have_s = true;
	return 0;
}

static int
form_fold(struct tw_match *m, struct vform *f)
{
	int r;

	if (f->have_fold)
		return 0;
	if ((r = form_str(m, f)) != 0)
		return r;
	tw_buf_reset(&m->fold);
	if ((r = tw_buf_add(&m->fold, f->s, f->n)) != 0)
		return r;
	for (size_t i = 0; i < f->n; i++)
		m->fold.data[i] = (char)tw_lower((unsigned char)m->fold.data[i]);
	f->have_fold = true;
	return 0;
}

static bool
form_num(struct vform *f)
{
	if (f->num < 0)
		f->num = tw_value_num(f->v, &f->d) ? 1 : 0;
	return f->num == 1;
}

static bool
ends_with(const char *s, size_t n, const char *x, size_t xn)
{
	return n >= xn && memcmp(s + n - xn, x, xn) == 0;
}

/* Whether value f and literal l satisfy op: 1, 0, or a negative error. */
static int
cmp1(struct tw_match *m, struct vform *f, enum tw_op op, const struct tw_lit *l)
{
	struct tw_net net;
	int r;

	if (f->v->o.type == TW_MP_MAP)
		return 0;
	switch (op) {
	case TW_OP_EQ:
	case TW_OP_IN:
		if (l->v.kind == TW_SCALAR_BOOL) {
			if (f->v->o.type == TW_MP_BOOL)
				return f->v->o.v.b == l->v.b;
			if (f->v->o.type != TW_MP_STR)
				return 0;
			return f->v->o.v.s.len == l->v.n &&
			    tw_ascii_eq(f->v->o.v.s.p, l->v.s, l->v.n);
		}
		if (l->v.kind != TW_SCALAR_STR)
			return form_num(f) && f->d == l->num;
		if ((r = form_str(m, f)) != 0)
			return r;
		return f->n == l->v.n && memcmp(f->s, l->v.s, f->n) == 0;
	case TW_OP_IEQ:
		if ((r = form_str(m, f)) != 0)
			return r;
		return f->n == l->altn && tw_ascii_eq(f->s, l->alt, f->n);
	case TW_OP_LT:
		return form_num(f) && f->d < l->num;
	case TW_OP_LE:
		return form_num(f) && f->d <= l->num;
	case TW_OP_GT:
		return form_num(f) && f->d > l->num;
	case TW_OP_GE:
		return form_num(f) && f->d >= l->num;
	default:
		break;
	}
	if ((r = form_str(m, f)) != 0)
		return r;
	switch (op) {
	case TW_OP_CONTAINS:
		return tw_memmem_fold(f->s, f->n, l->v.s, l->v.n, false) != NULL;
	case TW_OP_ICONTAINS:
		return tw_memmem_fold(f->s, f->n, l->alt, l->altn, true) != NULL;
	case TW_OP_STARTSWITH:
		return f->n >= l->v.n && memcmp(f->s, l->v.s, l->v.n) == 0;
	case TW_OP_ISTARTSWITH:
		return f->n >= l->altn && tw_ascii_eq(f->s, l->alt, l->altn);
	case TW_OP_ENDSWITH:
		return ends_with(f->s, f->n, l->v.s, l->v.n);
	case TW_OP_IENDSWITH:
		return f->n >= l->altn &&
		    tw_ascii_eq(f->s + f->n - l->altn, l->alt, l->altn);
	case TW_OP_GLOB:
		return tw_glob_match(l->v.s, l->v.n, f->s, f->n);
	case TW_OP_IGLOB:
		if ((r = form_fold(m, f)) != 0)
			return r;
		return tw_glob_match(l->alt, l->altn, m->fold.data, f->n);
	case TW_OP_PEQ:
	case TW_OP_PMATCH:
		if ((r = tw_pnorm(f->s, f->n, &m->norm)) != 0)
			return r;
		return tw_pmatch(m->norm.data, m->norm.len, l->alt, l->altn,
		    op == TW_OP_PMATCH);
	case TW_OP_REGEX:
	case TW_OP_IREGEX:
		return tw_regex_search(l->rx, m->rx, f->s, f->n);
	case TW_OP_CIDR:
		if (!tw_net_parse(f->s, f->n, &net))
			return 0;
		return tw_net_inside(&net, &l->net);
	default:
		return 0;
	}
}

struct visit {
	const struct tw_pred *p;
	enum tw_op op;
	struct tw_match *m;
	bool all;
	size_t count;
	bool hit, miss, limit;
	int err;
};

/* Look at one value: 1 stops the walk. */
static int
visit(void *arg, const struct tw_value *v)
{
	struct visit *x = arg;
	struct vform f = { v, NULL, 0, false, false, -1, 0 };
	int h = 0;

	x->count++;
	if (x->op == TW_OP_EXISTS) {
		x->hit = true;
		return 1;
	}
	for (size_t i = 0; i < x->p->nlits && h == 0; i++)
		h = cmp1(x->m, &f, x->op, &x->p->lits[i]);
	if (h == TW_ELIMIT) {
		x->limit = true;
		return 1;
	}
	if (h < 0) {
		x->err = h;
		return 1;
	}
	if (x->all && !h) {
		x->miss = true;
		return 1;
	}
	if (!x->all && h) {
		x->hit = true;
		return 1;
	}
	return 0;
}

static bool
pred_eval(const struct tw_pred *p, enum tw_op op, struct tw_match *m)
{
	struct visit x;
	const struct tw_value *vals;
	size_t n;
	int r = 0;

	if (op == TW_OP_NE)
		return !pred_eval(p, TW_OP_EQ, m);
	memset(&x, 0, sizeof(x));
	x.p = p;
	x.op = op;
	x.m = m;
	x.all = p->quant == TW_Q_ALL;
	for (size_t s = 0; s < p->npaths && r == 0; s++) {
		vals = tw_slot_values(&m->sv, p->slots[s], &n);
		for (size_t i = 0; i < n && r == 0; i++) {
			if (p->quant == TW_Q_KEYS)
				r = tw_value_keys(&vals[i], visit, &x);
			else if (p->quant == TW_Q_LEAVES)
				r = tw_value_leaves(&vals[i], visit, &x);
			else
				r = visit(&x, &vals[i]);
		}
	}
	if (r < 0 && x.err == 0)
		x.err = r;
	if (x.err != 0) {
		if (m->err == 0)
			m->err = x.err;
		return false;
	}
	if (x.limit) {
		m->limit_hits++;
		return false;
	}
	if (x.all)
		return x.count > 0 && !x.miss;
	return x.hit;
}

bool
tw_node_eval(const struct tw_node *n, struct tw_match *m)
{
	switch (n->kind) {
	case TW_NODE_AND:
		for (size_t i = 0; i < n->n; i++)
			if (!tw_node_eval(n->kids[i], m))
				return false;
		return true;
	case TW_NODE_OR:
		for (size_t i = 0; i < n->n; i++)
			if (tw_node_eval(n->kids[i], m))
				return true;
		return false;
	case TW_NODE_NOT:
		return !tw_node_eval(n->kids[0], m);
	case TW_NODE_PRED:
		return pred_eval(n->pred, n->pred->op, m);
	case TW_NODE_CONST:
		return n->value;
	}
	return false;
}

/* ---- standalone expressions ---- */

struct tw_expr {
	struct tw_arena *a;
	struct tw_fields *fields;
	struct tw_trie *trie;
	struct tw_node *root;
};

void
tw_expr_free(struct tw_expr *e)
{
	if (e == NULL)
		return;
	tw_fields_free(e->fields);
	tw_arena_free(e->a);
	free(e);
}

struct tw_expr *
tw_expr_compile(const char *text, const struct tw_symbols *sym, char **why)
{
	struct tw_compiler *c = NULL;
	struct tw_expr *e;
	char *w = NULL;
	long off = -1;
	int r;

	if (why != NULL)
		*why = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->a = tw_arena_new(EXPR_ARENA_MAX)) == NULL ||
	    (e->fields = tw_fields_new()) == NULL ||
	    (c = tw_compiler_new(e->a, sym, e->fields)) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	if ((r = tw_compile_condition(c, text, strlen(text), &e->root, &w,
	    &off)) != 0)
		goto out;
	if ((e->trie = tw_trie_build(e->fields, NULL, e->a)) == NULL)
		r = TW_ENOMEM;
out:
	tw_compiler_free(c);
	if (r != 0) {
		if (why != NULL) {
			if (w != NULL && off >= 0) {
				if (asprintf(why, "at %ld: %s", off, w) == -1)
					*why = NULL;
			} else if (w != NULL) {
				*why = w;
				w = NULL;
			} else
				*why = strdup(tw_strerror(r));
		}
		tw_expr_free(e);
		e = NULL;
	}
	free(w);
	return e;
}

int
tw_record_check(const void *rec, size_t len)
{
	struct tw_mp_limits lim;
	struct tw_mp_reader r;
	struct tw_mp_obj o;
	int rc;

	tw_mp_limits_default(&lim);
	tw_mp_reader_init(&r, rec, len);
	if ((rc = tw_mp_read(&r, &o)) != 0)
		return rc;
	if (o.type != TW_MP_MAP)
		return TW_EMSGPACK;
	tw_mp_reader_init(&r, rec, len);
	return tw_mp_skip(&r, &lim);
}

int
tw_expr_eval(const struct tw_expr *e, struct tw_match *m, const void *rec,
    size_t len)
{
	struct tw_match *own = NULL;
	int r;

	if (m == NULL && (m = own = tw_match_new()) == NULL)
		return TW_ENOMEM;
	if ((r = tw_record_check(rec, len)) != 0 ||
	    (r = tw_slotvals_reset(&m->sv, tw_fields_count(e->fields))) != 0 ||
	    (r = tw_trie_walk(e->trie, rec, len, &m->sv)) != 0)
		goto out;
	m->err = 0;
	r = tw_node_eval(e->root, m) ? 1 : 0;
	if (m->err != 0)
		r = m->err;
out:
	tw_match_free(own);
	return r;
}
