/* ytree.c: a YAML document as a tree with positions, scalars typed as PyYAML does. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "utf8.h"
#include "value.h"
#include "ytree.h"

static int
pos1(size_t v)
{
	return v >= INT_MAX ? INT_MAX : (int)v + 1;
}

void
tw_ytree_free(struct tw_ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		tw_ytree_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static int
add_kid(struct tw_ynode *p, struct tw_ynode *k)
{
	struct tw_ynode **kids;

	if ((p->n & (p->n - 1)) == 0) {
		size_t cap = p->n == 0 ? 4 : p->n * 2;

		if (p->n != 0 && p->n < 4)
			cap = 4;
		if ((kids = realloc(p->kids, cap * sizeof(*kids))) == NULL)
			return TW_ENOMEM;
		p->kids = kids;
	}
	p->kids[p->n++] = k;
	return 0;
}

/* Byte offset of line (0-based) and character column col in text. */
static bool
mark_offset(const char *text, size_t len, const size_t *lines, size_t nlines,
    size_t line, size_t col, size_t *off)
{
	size_t o, l;

	if (line >= nlines)
		return false;
	o = lines[line];
	for (size_t c = 0; c < col; c++) {
		if (o >= len)
			return false;
		l = 1;
		if ((unsigned char)text[o] >= 0x80) {
			size_t bad;

			if ((l = tw_utf8_char(text + o, len - o, &bad)) == 0)
				return false;
		}
		o += l;
	}
	*off = o;
	return true;
}

struct keyref {
	const struct tw_ynode *k;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct tw_ynode *x = ((const struct keyref *)a)->k;
	const struct tw_ynode *y = ((const struct keyref *)b)->k;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->text, y->text, n);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (int)tw_ytype(x) - (int)tw_ytype(y);
}

/* Refuse duplicate and non-scalar keys of a finished mapping. */
static int
check_keys(const char *name, const struct tw_ynode *m, struct tw_conf_diag *d)
{
	struct keyref *ks;
	size_t nk = m->n / 2;
	int r = 0;

	for (size_t i = 0; i < m->n; i += 2) {
		if (m->kids[i]->kind != TW_Y_SCALAR) {
			tw_conf_diag_add(d, name, m->kids[i]->line,
			    m->kids[i]->col, "mapping keys must be scalars");
			r = TW_ECONFIG;
		}
	}
	if (r != 0 || nk < 2)
		return r;
	if ((ks = malloc(nk * sizeof(*ks))) == NULL)
		return TW_ENOMEM;
	for (size_t i = 0; i < nk; i++)
		ks[i].k = m->kids[2 * i];
	qsort(ks, nk, sizeof(*ks), key_cmp);
	for (size_t i = 1; i < nk; i++) {
		if (key_cmp(&ks[i - 1], &ks[i]) == 0) {
			const struct tw_ynode *k = ks[i].k;
			const struct tw_ynode *first = ks[i - 1].k;

			if (first->line > k->line || (first->line == k->line &&
			    first->col > k->col))
				k = first;
			tw_conf_diag_add(d, name, k->line, k->col,
			    "duplicate key '%.*s'", (int)(k->len > 80 ? 80 :
			    k->len), k->text);
			r = TW_ECONFIG;
		}
	}
	free(ks);
	return r;
}

int
tw_ytree_parse(const char *name, const char *text, size_t len,
    struct tw_ynode **rootp, struct tw_conf_diag *d)
{
	struct tw_ynode *stack[TW_YTREE_DEPTH_MAX], *root = NULL, *nd;
	size_t *lines = NULL, nlines = 0, nodes = 0, off;
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, r = 0;
	bool done = false;

	*rootp = NULL;
	if (len > TW_YTREE_FILE_MAX) {
		tw_conf_diag_add(d, name, 0, 0, "file larger than %u bytes",
		    TW_YTREE_FILE_MAX);
		return TW_ECONFIG;
	}
	/* Line starts, to find the source bytes of single-line scalars. */
	for (size_t i = 0; i <= len; i++)
		if (i == 0 || text[i - 1] == '\n')
			nlines++;
	if ((lines = malloc(nlines * sizeof(*lines))) == NULL)
		return TW_ENOMEM;
	nlines = 0;
	for (size_t i = 0; i <= len; i++)
		if (i == 0 || text[i - 1] == '\n')
			lines[nlines++] = i;
	if (!yaml_parser_initialize(&p)) {
		free(lines);
		return TW_ENOMEM;
	}
	/* libyaml reads text in place; text outlives the parser. */
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				r = TW_ENOMEM;
				break;
			}
			tw_conf_diag_add(d, name, pos1(p.problem_mark.line),
			    pos1(p.problem_mark.column), "YAML syntax error: %s%s%s",
			    p.problem != NULL ? p.problem : "invalid input",
			    p.context != NULL ? " " : "",
			    p.context != NULL ? p.context : "");
			r = TW_ECONFIG;
			break;
		}
		/* From here ev owns memory: yaml_event_delete below. */
		nd = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				tw_conf_diag_add(d, name, pos1(ev.start_mark.line),
				    pos1(ev.start_mark.column), "a rule file holds "
				    "one YAML document; this is a second one");
				r = TW_ECONFIG;
			}
			break;
		case YAML_ALIAS_EVENT:
			tw_conf_diag_add(d, name, pos1(ev.start_mark.line),
			    pos1(ev.start_mark.column),
			    "YAML aliases (*%s) are not supported",
			    (const char *)ev.data.alias.anchor);
			r = TW_ECONFIG;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if ((nd = calloc(1, sizeof(*nd))) == NULL) {
				r = TW_ENOMEM;
				break;
			}
			nd->line = pos1(ev.start_mark.line);
			nd->col = pos1(ev.start_mark.column);
			if (ev.type == YAML_SCALAR_EVENT) {
				size_t sl = ev.data.scalar.length;

				nd->kind = TW_Y_SCALAR;
				switch (ev.data.scalar.style) {
				case YAML_SINGLE_QUOTED_SCALAR_STYLE:
					nd->style = TW_YS_SINGLE;
					break;
				case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
					nd->style = TW_YS_DOUBLE;
					break;
				case YAML_LITERAL_SCALAR_STYLE:
				case YAML_FOLDED_SCALAR_STYLE:
					nd->style = TW_YS_BLOCK;
					break;
				default:
					nd->style = TW_YS_PLAIN;
				}
				nd->tagged = ev.data.scalar.tag != NULL;
				if ((nd->text = malloc(sl + 1)) == NULL) {
					free(nd);
					nd = NULL;
					r = TW_ENOMEM;
					break;
				}
				memcpy(nd->text, ev.data.scalar.value, sl);
				nd->text[sl] = '\0';
				nd->len = sl;
				if (nd->style != TW_YS_BLOCK &&
				    mark_offset(text, len, lines, nlines,
				    ev.start_mark.line, ev.start_mark.column,
				    &off)) {
					if (nd->style != TW_YS_PLAIN)
						off++;
					if (off <= len && len - off >= sl &&
					    memcmp(text + off, nd->text, sl) == 0 &&
					    memchr(nd->text, '\n', sl) == NULL) {
						nd->verbatim = true;
						nd->src_off = off;
					}
				}
			} else
				nd->kind = ev.type == YAML_MAPPING_START_EVENT ?
				    TW_Y_MAP : TW_Y_SEQ;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) {
				depth--;
				if (stack[depth]->kind == TW_Y_MAP)
					r = check_keys(name, stack[depth], d);
			}
			break;
		default:
			break;
		}
		if (r == 0 && nd != NULL) {
			if (++nodes > TW_YTREE_NODES_MAX) {
				tw_conf_diag_add(d, name, nd->line, nd->col,
				    "more than %u YAML nodes", TW_YTREE_NODES_MAX);
				r = TW_ECONFIG;
			} else if (nd->kind != TW_Y_SCALAR &&
			    depth == TW_YTREE_DEPTH_MAX) {
				tw_conf_diag_add(d, name, nd->line, nd->col,
				    "nesting deeper than %d levels",
				    TW_YTREE_DEPTH_MAX);
				r = TW_ECONFIG;
			} else if (depth > 0)
				r = add_kid(stack[depth - 1], nd);
			else if (root == NULL)
				root = nd;
			else
				r = TW_EINTERNAL;
			if (r != 0)
				tw_ytree_free(nd);
			else if (nd->kind != TW_Y_SCALAR)
				stack[depth++] = nd;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	free(lines);
	if (r != 0)
		tw_ytree_free(root);
	else
		*rootp = root;
	return r;
}

const struct tw_ynode *
tw_ymap_get(const struct tw_ynode *map, const char *key)
{
	size_t kl = strlen(key);

	if (map == NULL || map->kind != TW_Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct tw_ynode *k = map->kids[i];

		if (k->kind == TW_Y_SCALAR && k->len == kl &&
		    memcmp(k->text, key, kl) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

static bool
text_is(const struct tw_ynode *n, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(n->text, *words) == 0)
			return true;
	return false;
}

static bool
digits_us(const char *s, size_t *i, size_t n, const char *set)
{
	size_t s0 = *i;

	while (*i < n && strchr(set, s[*i]) != NULL && s[*i] != '\0')
		(*i)++;
	return *i > s0;
}

/* (:[0-5]?[0-9])+ at s[*i..n). */
static bool
sexa_tail(const char *s, size_t *i, size_t n)
{
	size_t k = 0;

	while (*i < n && s[*i] == ':') {
		size_t j = *i + 1, d = 0;

		while (j < n && s[j] >= '0' && s[j] <= '9' && d < 2)
			j++, d++;
		if (d == 0 || (d == 2 && s[*i + 1] > '5'))
			return false;
		*i = j;
		k++;
	}
	return k > 0;
}

static bool
re_int(const char *s, size_t n)
{
	size_t i = 0, j;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'b') {
		j = i + 2;
		return digits_us(s, &j, n, "01_") && j == n;
	}
	if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'x') {
		j = i + 2;
		return digits_us(s, &j, n, "0123456789abcdefABCDEF_") && j == n;
	}
	if (n - i >= 2 && s[i] == '0') {
		j = i + 1;
		return digits_us(s, &j, n, "01234567_") && j == n;
	}
	if (n - i == 1 && s[i] == '0')
		return true;
	if (i < n && s[i] >= '1' && s[i] <= '9') {
		j = i + 1;
		digits_us(s, &j, n, "0123456789_");
		if (j == n)
			return true;
		return sexa_tail(s, &j, n) && j == n;
	}
	return false;
}

static bool
exp_tail(const char *s, size_t *i, size_t n)
{
	size_t j = *i;

	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j >= n || (s[j] != '-' && s[j] != '+'))
			return false;
		j++;
		if (!digits_us(s, &j, n, "0123456789"))
			return false;
	}
	*i = j;
	return true;
}

static bool
re_float(const char *s, size_t n)
{
	static const char *const inf[] = { ".inf", ".Inf", ".INF", NULL };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN", NULL };
	size_t i = 0, j;

	for (int k = 0; nan[k] != NULL; k++)
		if (strlen(nan[k]) == n && memcmp(s, nan[k], n) == 0)
			return true;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	for (int k = 0; inf[k] != NULL; k++)
		if (strlen(inf[k]) == n - i && memcmp(s + i, inf[k], n - i) == 0)
			return true;
	/* [0-9][0-9_]*\.[0-9_]*(exp)? */
	if (i < n && s[i] >= '0' && s[i] <= '9') {
		j = i + 1;
		digits_us(s, &j, n, "0123456789_");
		if (j < n && s[j] == '.') {
			j++;
			digits_us(s, &j, n, "0123456789_");
			if (exp_tail(s, &j, n) && j == n)
				return true;
		}
		/* [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* */
		j = i + 1;
		digits_us(s, &j, n, "0123456789_");
		if (sexa_tail(s, &j, n) && j < n && s[j] == '.') {
			j++;
			digits_us(s, &j, n, "0123456789_");
			return j == n;
		}
		return false;
	}
	/* \.[0-9][0-9_]*(exp)? without a sign */
	if (i == 0 && n >= 2 && s[0] == '.' && s[1] >= '0' && s[1] <= '9') {
		j = 2;
		digits_us(s, &j, n, "0123456789_");
		return exp_tail(s, &j, n) && j == n;
	}
	return false;
}

enum tw_ytype
tw_ytype(const struct tw_ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
	    NULL };
	static const char *const bools[] = { "yes", "Yes", "YES", "no", "No",
	    "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
	    "ON", "off", "Off", "OFF", NULL };

	if (n == NULL || n->kind != TW_Y_SCALAR)
		return TW_YT_BAD;
	if (n->style != TW_YS_PLAIN || n->tagged)
		return TW_YT_STR;
	if (memchr(n->text, '\0', n->len) != NULL)
		return TW_YT_STR;
	if (text_is(n, nulls))
		return TW_YT_NULL;
	if (text_is(n, bools))
		return TW_YT_BOOL;
	if (re_float(n->text, n->len))
		return TW_YT_FLOAT;
	if (re_int(n->text, n->len))
		return TW_YT_INT;
	if (strcmp(n->text, "=") == 0)
		return TW_YT_BAD;
	return TW_YT_STR;
}

bool
tw_ynull(const struct tw_ynode *n)
{
	return n == NULL || (n->kind == TW_Y_SCALAR && tw_ytype(n) == TW_YT_NULL);
}

/* The value of a YAML 1.1 int scalar: canonical decimal text and double. */
static int
int_value(const struct tw_ynode *n, struct tw_arena *a, struct tw_scalar *out)
{
	char buf[TW_NUM_STR_MAX], *t, *q;
	const char *s = n->text;
	size_t len = n->len, k = 0, i = 0;
	bool neg = false;
	uint64_t v = 0, base = 10;

	if ((t = tw_arena_alloc(a, len + 2)) == NULL)
		return TW_ENOMEM;
	for (size_t j = 0; j < len; j++)
		if (s[j] != '_')
			t[k++] = s[j];
	t[k] = '\0';
	if (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-';
		i = 1;
	}
	out->kind = TW_SCALAR_INT;
	if (strchr(t, ':') != NULL) {
		/* base 60: a:b:c */
		uint64_t part = 0;

		for (; t[i] != '\0'; i++) {
			if (t[i] == ':') {
				v = v * 60 + part;
				part = 0;
			} else
				part = part * 10 + (uint64_t)(t[i] - '0');
			if (v > UINT64_MAX / 61)
				return TW_EINVAL;
		}
		v = v * 60 + part;
	} else if (t[i] == '0' && t[i + 1] != '\0') {
		base = t[i + 1] == 'b' ? 2 : t[i + 1] == 'x' ? 16 : 8;
		i += base == 8 ? 1 : 2;
		for (; t[i] != '\0'; i++) {
			unsigned dg = t[i] <= '9' ? (unsigned)(t[i] - '0') :
			    (unsigned)((t[i] | 0x20) - 'a' + 10);

			if (v > (UINT64_MAX - dg) / base)
				return TW_EINVAL;
			v = v * base + dg;
		}
	} else {
		/* Decimal: keep every digit, however many. */
		while (t[i] == '0' && t[i + 1] != '\0')
			i++;
		neg = neg && strcmp(t + i, "0") != 0;
		q = t + i;
		if (neg)
			*--q = '-';
		out->s = q;
		out->n = strlen(q);
		(void)tw_num_parse(q, out->n, &out->d);
		return 0;
	}
	if (neg && v == 0)
		neg = false;
	snprintf(buf, sizeof(buf), "%s%llu", neg ? "-" : "",
	    (unsigned long long)v);
	if ((out->s = tw_arena_strndup(a, buf, strlen(buf))) == NULL)
		return TW_ENOMEM;
	out->n = strlen(buf);
	out->d = neg ? -(double)v : (double)v;
	return 0;
}

static int
float_value(const struct tw_ynode *n, struct tw_arena *a,
    struct tw_scalar *out)
{
	char buf[TW_NUM_STR_MAX], *t;
	size_t k = 0, i = 0;
	bool neg = false;

	if ((t = tw_arena_alloc(a, n->len + 1)) == NULL)
		return TW_ENOMEM;
	for (size_t j = 0; j < n->len; j++)
		if (n->text[j] != '_')
			t[k++] = (char)tw_lower((unsigned char)n->text[j]);
	t[k] = '\0';
	if (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-';
		i = 1;
	}
	out->kind = TW_SCALAR_FLOAT;
	if (strcmp(t + i, ".inf") == 0)
		out->d = neg ? -INFINITY : INFINITY;
	else if (strcmp(t + i, ".nan") == 0)
		out->d = NAN;
	else if (strchr(t, ':') != NULL) {
		double v = 0, part = 0, frac = 0;
		char *dot = strchr(t, '.');

		if (dot != NULL) {
			frac = strtod(dot, NULL);
			*dot = '\0';
		}
		for (; t[i] != '\0'; i++) {
			if (t[i] == ':') {
				v = v * 60 + part;
				part = 0;
			} else
				part = part * 10 + (t[i] - '0');
		}
		v = v * 60 + part + frac;
		out->d = neg ? -v : v;
	} else
		out->d = strtod(t, NULL);
	tw_num_str(out->d, buf);
	if ((out->s = tw_arena_strndup(a, buf, strlen(buf))) == NULL)
		return TW_ENOMEM;
	out->n = strlen(buf);
	return 0;
}

int
tw_yscalar(const struct tw_ynode *n, struct tw_arena *a,
    struct tw_scalar *out)
{
	memset(out, 0, sizeof(*out));
	switch (tw_ytype(n)) {
	case TW_YT_STR:
		out->kind = TW_SCALAR_STR;
		if ((out->s = tw_arena_strndup(a, n->text, n->len)) == NULL)
			return TW_ENOMEM;
		out->n = n->len;
		return 0;
	case TW_YT_BOOL:
		out->kind = TW_SCALAR_BOOL;
		out->b = n->text[0] == 'y' || n->text[0] == 'Y' ||
		    n->text[0] == 't' || n->text[0] == 'T' ||
		    ((n->text[0] == 'o' || n->text[0] == 'O') &&
		    (n->text[1] == 'n' || n->text[1] == 'N'));
		out->s = out->b ? "true" : "false";
		out->n = strlen(out->s);
		return 0;
	case TW_YT_INT:
		return int_value(n, a, out);
	case TW_YT_FLOAT:
		return float_value(n, a, out);
	default:
		return TW_EINVAL;
	}
}

const char *
tw_ypystr(const struct tw_ynode *n, struct tw_arena *a, size_t *len)
{
	struct tw_scalar v;
	char *t;

	if (tw_ynull(n)) {
		*len = 4;
		return "None";
	}
	if (tw_yscalar(n, a, &v) != 0) {
		*len = n->len;
		return tw_arena_strndup(a, n->text, n->len);
	}
	if (v.kind == TW_SCALAR_BOOL) {
		*len = v.b ? 4 : 5;
		return v.b ? "True" : "False";
	}
	if (v.kind == TW_SCALAR_FLOAT && isfinite(v.d) &&
	    strpbrk(v.s, ".e") == NULL) {
		/* Python's repr(1.0) is "1.0". */
		if ((t = tw_arena_alloc(a, v.n + 3)) == NULL)
			return NULL;
		memcpy(t, v.s, v.n);
		memcpy(t + v.n, ".0", 3);
		*len = v.n + 2;
		return t;
	}
	*len = v.n;
	return v.s;
}
