/* conf.c: YAML configuration loading driven by per-module key tables. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "conf.h"

#define MSG_MAX 8192		/* one diagnostic line, file name included */
#define TEXT_MAX 1024		/* the message part of a diagnostic */
#define PATH_LEN_MAX 4096	/* a dotted key path */
#define WHERE_MAX 65536		/* positions recorded per load */
#define QUOTE_MAX 48		/* bytes of user text quoted in a message */
#define QUOTE_BUF 224		/* room for QUOTE_MAX bytes escaped, "..." */
#define NEAR_LEN 40		/* longest name considered for "did you mean" */
#define VAR_MAX 256		/* longest environment variable name */

#define FIELD(base, k, type) ((type *)(void *)((char *)(base) + (k)->offset))
#define CFIELD(base, k, type)                                               \
	((const type *)(const void *)((const char *)(base) + (k)->offset))

struct tw_conf_where {
	char *path;
	int line, col;
};

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

/* A YAML node with its 1-based position: the loader's own small tree. */
struct node {
	enum node_kind kind;
	int line, col;
	bool plain;		/* an untagged plain scalar (may be null) */
	char *text;		/* scalar bytes after the node, NUL-terminated,
				 * may hold NULs */
	size_t len;
	struct node **kids;	/* sequence items; mapping key, value, ... */
	size_t n, cap;
};

/* One load: where messages go and the dotted path being filled. */
struct ctx {
	struct tw_conf_diag *d;
	const char *name;
	unsigned opts;
	int nerr;
	bool oom;
	struct tw_buf path;
};

/* A parsed scalar; strings point into the text they were parsed from. */
union val {
	struct {
		const char *p;
		size_t len;
	} s;
	bool b;
	int64_t i;
	uint64_t u;
	int e;
};

/* The best "did you mean" candidate so far. */
struct near {
	const char *best;
	int dist;
};

static void cerr(struct ctx *c, int line, int col, const char *fmt, ...)
    TW_PRINTF(4, 5);
static void catf(char *dst, size_t n, const char *fmt, ...) TW_PRINTF(3, 4);
static int diag_vadd(struct tw_conf_diag *d, const char *file, int line,
    int col, const char *fmt, va_list ap) TW_PRINTF(5, 0);
static void map_fill(struct ctx *c, const struct tw_conf_key *keys,
    const struct tw_conf_variant *variants, const struct node *m, int line,
    int col, char *base);

/* ---- small helpers ---- */

/* Append a formatted string to the NUL-terminated dst of size n, cutting. */
static void
catf(char *dst, size_t n, const char *fmt, ...)
{
	size_t len = strlen(dst);
	va_list ap;

	if (len + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + len, n - len, fmt, ap);
	va_end(ap);
}

/* Copy user text s into dst (QUOTE_BUF bytes) for a message, escaped and cut. */
static const char *
quote(char *dst, const char *s, size_t len)
{
	size_t n = len, o = 0;
	bool cut = false;

	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		/* Do not split a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		cut = true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(dst + o, QUOTE_BUF - o, "\\x%02x",
			    ch);
		else
			dst[o++] = (char)ch;
	}
	if (cut) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

/* Whether the len bytes at s spell the C string name. */
static bool
same(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(s, name, len) == 0;
}

/* A libyaml 0-based mark component as a 1-based int. */
static int
pos1(size_t v)
{
	return v >= (size_t)INT_MAX - 1 ? INT_MAX : (int)v + 1;
}

/* Optimal string alignment distance of two short strings. */
static int
osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
	int d[NEAR_LEN + 1][NEAR_LEN + 1];
	int cost, v;

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Consider cand as a suggestion for s: edit distance at most 2. */
static void
near_try(struct near *nr, const char *s, size_t len, const char *cand)
{
	size_t lc = strlen(cand);
	int dist;

	if (len > NEAR_LEN || lc > NEAR_LEN || len + 2 < lc || lc + 2 < len)
		return;
	dist = osa_distance(s, len, cand, lc);
	/* A distance as long as the name itself is no resemblance. */
	if (dist <= 2 && dist < (int)lc && dist < nr->dist) {
		nr->best = cand;
		nr->dist = dist;
	}
}

/* Format a byte count with the largest exact binary unit. */
static const char *
fmt_size(char *dst, size_t n, uint64_t v)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = { { "TiB", 40 }, { "GiB", 30 }, { "MiB", 20 },
		{ "KiB", 10 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v != 0 && (v & ((UINT64_C(1) << units[i].shift) - 1)) == 0) {
			snprintf(dst, n, "%" PRIu64 "%s", v >> units[i].shift,
			    units[i].unit);
			return dst;
		}
	}
	snprintf(dst, n, "%" PRIu64 "B", v);
	return dst;
}

/* Format milliseconds as "1h2m3s400ms", omitting zero parts. */
static const char *
fmt_duration(char *dst, size_t n, uint64_t v)
{
	dst[0] = '\0';
	if (v == 0) {
		snprintf(dst, n, "0s");
		return dst;
	}
	if (v >= 3600000)
		catf(dst, n, "%" PRIu64 "h", v / 3600000);
	if (v % 3600000 >= 60000)
		catf(dst, n, "%" PRIu64 "m", v % 3600000 / 60000);
	if (v % 60000 >= 1000)
		catf(dst, n, "%" PRIu64 "s", v % 60000 / 1000);
	if (v % 1000 != 0)
		catf(dst, n, "%" PRIu64 "ms", v % 1000);
	return dst;
}

/* ---- diagnostics ---- */

void
tw_conf_diag_init(struct tw_conf_diag *d)
{
	memset(d, 0, sizeof(*d));
}

/* Forget the recorded positions. */
static void
where_clear(struct tw_conf_diag *d)
{
	for (size_t i = 0; i < d->nwhere; i++)
		free(d->where[i].path);
	d->nwhere = 0;
}

void
tw_conf_diag_cleanup(struct tw_conf_diag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	where_clear(d);
	free(d->where);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

size_t
tw_conf_diag_count(const struct tw_conf_diag *d)
{
	return d != NULL ? d->n : 0;
}

const char *
tw_conf_diag_msg(const struct tw_conf_diag *d, size_t i)
{
	return d != NULL && i < d->n ? d->msgs[i] : NULL;
}

/* Store one formatted message; TW_ENOMEM when it could not be kept. */
static int
diag_vadd(struct tw_conf_diag *d, const char *file, int line, int col,
    const char *fmt, va_list ap)
{
	struct tw_buf b;
	char text[TEXT_MAX], **msgs;
	size_t cap;
	int r = 0;

	tw_buf_init(&b, MSG_MAX);
	if (d == NULL || d->full)
		goto out;
	if (d->n >= TW_CONF_DIAG_MAX) {
		d->full = true;
		line = 0;
		snprintf(text, sizeof(text),
		    "too many errors; the rest are not shown");
	} else
		vsnprintf(text, sizeof(text), fmt, ap);
	if (file != NULL && line > 0)
		r = tw_buf_addf(&b, "%s:%d:%d: %s", file, line, col, text);
	else if (file != NULL)
		r = tw_buf_addf(&b, "%s: %s", file, text);
	else
		r = tw_buf_adds(&b, text);
	/* A file name too long for MSG_MAX: keep the message without it. */
	if (r == TW_ETOOBIG)
		r = tw_buf_adds(&b, text);
	if (r != 0)
		goto out;
	if (d->n == d->cap) {
		cap = d->cap != 0 ? d->cap * 2 : 8;
		if ((msgs = realloc(d->msgs, cap * sizeof(*msgs))) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		d->msgs = msgs;
		d->cap = cap;
	}
	d->msgs[d->n++] = tw_buf_take(&b, NULL);
out:
	tw_buf_cleanup(&b);
	return r;
}

void
tw_conf_diag_add(struct tw_conf_diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* The API is void: a message lost to allocation failure is lost. */
	tw_ignore(diag_vadd(d, file, line, col, fmt, ap));
	va_end(ap);
}

/* The recorded position of the first len bytes of path; TW_ENOTFOUND. */
static int
where_find(const struct tw_conf_diag *d, const char *path, size_t len,
    int *line, int *col)
{
	/* Newest first: a path is recorded once per load anyway. */
	for (size_t i = d->nwhere; i-- > 0;) {
		if (same(path, len, d->where[i].path)) {
			*line = d->where[i].line;
			*col = d->where[i].col;
			return 0;
		}
	}
	return TW_ENOTFOUND;
}

int
tw_conf_pos(const struct tw_conf_diag *d, const char *path, int *line,
    int *col)
{
	if (d == NULL || path == NULL)
		return TW_ENOTFOUND;
	return where_find(d, path, strlen(path), line, col);
}

/* The position of path or of its nearest recorded ancestor, else 1:1. */
static void
where_near(const struct tw_conf_diag *d, const char *path, int *line,
    int *col)
{
	size_t len = strlen(path);

	*line = 1;
	*col = 1;
	while (len > 0 && where_find(d, path, len, line, col) != 0) {
		/* "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" */
		while (len > 0 && path[len - 1] != '.' && path[len - 1] != '[')
			len--;
		if (len > 0)
			len--;
	}
}

void
tw_conf_diag_at(struct tw_conf_diag *d, const char *path, const char *fmt,
    ...)
{
	va_list ap;
	int line, col;

	if (d == NULL)
		return;
	where_near(d, path != NULL ? path : "", &line, &col);
	va_start(ap, fmt);
	/* The API is void: a message lost to allocation failure is lost. */
	tw_ignore(diag_vadd(d, d->file, line, col, fmt, ap));
	va_end(ap);
}

/* Start a load in d: remember its name, forget old positions. */
static int
diag_begin(struct tw_conf_diag *d, const char *name)
{
	char *file;

	if (d == NULL)
		return 0;
	if ((file = strdup(name)) == NULL)
		return TW_ENOMEM;
	free(d->file);
	d->file = file;
	where_clear(d);
	return 0;
}

/* ---- load context ---- */

/* Report an error of this load at line:col (1-based). */
static void
cerr(struct ctx *c, int line, int col, const char *fmt, ...)
{
	va_list ap;

	c->nerr++;
	va_start(ap, fmt);
	/* The error is counted even if its message cannot be stored. */
	tw_ignore(diag_vadd(c->d, c->name, line, col, fmt, ap));
	va_end(ap);
}

/* The dotted path of the value being filled ("" at the top). */
static const char *
cpath(const struct ctx *c)
{
	return c->path.data != NULL ? c->path.data : "";
}

/*
 * Paths only label messages and positions, so an append that fails
 * (absurdly deep or long names) is ignored: the label is cut, nothing more.
 */
static size_t
path_key(struct tw_buf *path, const char *name)
{
	size_t old = path->len;

	if (old > 0)
		tw_ignore(tw_buf_addc(path, '.'));
	tw_ignore(tw_buf_adds(path, name));
	return old;
}

static size_t
path_index(struct tw_buf *path, size_t i)
{
	size_t old = path->len;

	tw_ignore(tw_buf_addf(path, "[%zu]", i));
	return old;
}

static void
path_pop(struct tw_buf *path, size_t old)
{
	if (path->data != NULL && old <= path->len) {
		path->len = old;
		path->data[old] = '\0';
	}
}

/* " in 'path'", or "" at the top level. */
static const char *
in_path(const struct ctx *c, char *buf, size_t n)
{
	buf[0] = '\0';
	if (cpath(c)[0] != '\0')
		snprintf(buf, n, " in '%s'", cpath(c));
	return buf;
}

/* Record the position of the value at the current path. */
static void
where_add(struct ctx *c, int line, int col)
{
	struct tw_conf_diag *d = c->d;
	struct tw_conf_where *w;
	size_t cap;
	char *p;

	if (d == NULL || d->nwhere >= WHERE_MAX)
		return;
	if (d->nwhere == d->capwhere) {
		cap = d->capwhere != 0 ? d->capwhere * 2 : 32;
		if ((w = realloc(d->where, cap * sizeof(*w))) == NULL) {
			c->oom = true;
			return;
		}
		d->where = w;
		d->capwhere = cap;
	}
	if ((p = strdup(cpath(c))) == NULL) {
		c->oom = true;
		return;
	}
	d->where[d->nwhere].path = p;
	d->where[d->nwhere].line = line;
	d->where[d->nwhere].col = col;
	d->nwhere++;
}

/* ---- the YAML tree ---- */

static void
node_free(struct node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n);
}

/* Append kid to parent's children; TW_ENOMEM. */
static int
node_add(struct node *parent, struct node *kid)
{
	struct node **kids;
	size_t cap;

	if (parent->n == parent->cap) {
		cap = parent->cap != 0 ? parent->cap * 2 : 4;
		if ((kids = realloc(parent->kids, cap * sizeof(*kids))) == NULL)
			return TW_ENOMEM;
		parent->kids = kids;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* A node for a scalar or collection start event; TW_ENOMEM. */
static int
node_new(const yaml_event_t *ev, struct node **out)
{
	size_t len = 0;
	struct node *n;

	if (ev->type == YAML_SCALAR_EVENT)
		len = ev->data.scalar.length;
	/* A scalar's text lives right after its node: one allocation. */
	if (len > SIZE_MAX - sizeof(*n) - 1 ||
	    (n = calloc(1, sizeof(*n) + len + 1)) == NULL)
		return TW_ENOMEM;
	n->line = pos1(ev->start_mark.line);
	n->col = pos1(ev->start_mark.column);
	if (ev->type == YAML_SCALAR_EVENT) {
		n->kind = NODE_SCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.tag == NULL;
		n->text = (char *)(n + 1);
		n->len = len;
		if (len > 0)
			memcpy(n->text, ev->data.scalar.value, len);
	} else
		n->kind = ev->type == YAML_MAPPING_START_EVENT ? NODE_MAP :
		    NODE_SEQ;
	*out = n;
	return 0;
}

/* The 1-based line and column of byte offset off in text. */
static void
offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
	size_t bol = 0;

	if (off > len)
		off = len;
	*line = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			if (*line < INT_MAX)
				(*line)++;
			bol = i + 1;
		}
	}
	*col = pos1(off - bol);
}

/* Report libyaml's error with its position and problem text. */
static int
yaml_error(struct ctx *c, const yaml_parser_t *p, const char *text,
    size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "syntax error";
	int line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return TW_ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		offset_pos(text, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			cerr(c, line, col, "invalid input: %s (byte 0x%02x)",
			    problem, (unsigned)p->problem_value & 0xffu);
		else
			cerr(c, line, col, "invalid input: %s", problem);
	} else if (p->context != NULL)
		cerr(c, pos1(p->problem_mark.line), pos1(p->problem_mark.column),
		    "syntax error: %s (%s at %d:%d)", problem, p->context,
		    pos1(p->context_mark.line), pos1(p->context_mark.column));
	else
		cerr(c, pos1(p->problem_mark.line), pos1(p->problem_mark.column),
		    "syntax error: %s", problem);
	return TW_ECONFIG;
}

/*
 * Parse text into a tree (*rootp NULL for an empty stream), refusing
 * aliases, a second document, nesting deeper than TW_CONF_DEPTH_MAX and
 * more than TW_CONF_NODES_MAX nodes. Returns 0, TW_ECONFIG (reported) or
 * TW_ENOMEM.
 */
static int
tree_parse(struct ctx *c, const char *text, size_t len, struct node **rootp)
{
	struct node *stack[TW_CONF_DEPTH_MAX], *root = NULL, *nd;
	yaml_parser_t p;
	yaml_event_t ev;
	char q[QUOTE_BUF];
	const char *anchor;
	size_t nodes = 0;
	int depth = 0, docs = 0, r = 0;
	bool done = false;

	*rootp = NULL;
	if (!yaml_parser_initialize(&p))
		return TW_ENOMEM;
	/* libyaml reads text in place; text outlives the parser. */
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = yaml_error(c, &p, text, len);
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
				cerr(c, pos1(ev.start_mark.line),
				    pos1(ev.start_mark.column),
				    "a configuration file holds one YAML "
				    "document; this is a second one");
				r = TW_ECONFIG;
			}
			break;
		case YAML_ALIAS_EVENT:
			anchor = (const char *)ev.data.alias.anchor;
			cerr(c, pos1(ev.start_mark.line),
			    pos1(ev.start_mark.column),
			    "aliases are not supported (found '*%s')",
			    quote(q, anchor, strlen(anchor)));
			r = TW_ECONFIG;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			r = node_new(&ev, &nd);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (r == 0 && nd != NULL) {
			if (++nodes > TW_CONF_NODES_MAX) {
				cerr(c, nd->line, nd->col,
				    "more than %d YAML nodes", TW_CONF_NODES_MAX);
				r = TW_ECONFIG;
			} else if (nd->kind != NODE_SCALAR &&
			    depth == TW_CONF_DEPTH_MAX) {
				cerr(c, nd->line, nd->col,
				    "nesting deeper than %d levels",
				    TW_CONF_DEPTH_MAX);
				r = TW_ECONFIG;
			} else if (depth > 0)
				r = node_add(stack[depth - 1], nd);
			else if (root == NULL)
				root = nd;
			else
				r = TW_EINTERNAL; /* libyaml gave two roots */
			if (r != 0)
				node_free(nd);
			else if (nd->kind != NODE_SCALAR)
				stack[depth++] = nd;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (r != 0)
		node_free(root);
	else
		*rootp = root;
	return r;
}

/* Whether n is absent or a YAML null ("", ~, null written plain). */
static bool
is_null(const struct node *n)
{
	if (n == NULL)
		return true;
	if (n->kind != NODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || same(n->text, n->len, "~") ||
	    same(n->text, n->len, "null") || same(n->text, n->len, "Null") ||
	    same(n->text, n->len, "NULL");
}

/* ---- key tables ---- */

static size_t
keys_count(const struct tw_conf_key *keys)
{
	size_t n = 0;

	while (keys[n].name != NULL)
		n++;
	return n;
}

/* The key named by the len bytes at s, or NULL. */
static const struct tw_conf_key *
key_lookup(const struct tw_conf_key *keys, const char *s, size_t len)
{
	for (; keys->name != NULL; keys++)
		if (same(s, len, keys->name))
			return keys;
	return NULL;
}

/* The keys of the variant whose name is stored in base, or NULL. */
static const struct tw_conf_key *
variant_keys(const struct tw_conf_variant *variants, const char *base)
{
	const struct tw_conf_key *tk;
	const char *type;

	if (variants[0].type == NULL ||
	    (tk = key_lookup(variants[0].keys, "type", 4)) == NULL)
		return NULL;
	memcpy(&type, base + tk->offset, sizeof(type));
	if (type == NULL)
		return NULL;
	for (; variants->type != NULL; variants++)
		if (strcmp(variants->type, type) == 0)
			return variants->keys;
	return NULL;
}

/* ---- value parsers ---- */

/*
 * Read decimal digits at s[*i..len) into *v: 0, TW_EINVAL when there are
 * none, TW_ETOOBIG on overflow (the digits are consumed all the same).
 */
static int
digits(const char *s, size_t len, size_t *i, uint64_t *v)
{
	size_t start = *i;
	bool over = false;
	unsigned dg;

	*v = 0;
	for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		dg = (unsigned)(s[*i] - '0');
		if (*v > (UINT64_MAX - dg) / 10)
			over = true;
		else
			*v = *v * 10 + dg;
	}
	if (*i == start)
		return TW_EINVAL;
	return over ? TW_ETOOBIG : 0;
}

/* A decimal int64 with an optional sign: 0, TW_EINVAL, TW_ETOOBIG. */
static int
parse_int(const char *s, size_t len, int64_t *out)
{
	uint64_t v, lim;
	size_t i = 0;
	bool neg = false;
	int r;

	if (i < len && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	r = digits(s, len, &i, &v);
	if (r == TW_EINVAL || i != len)
		return TW_EINVAL;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (r == TW_ETOOBIG || v > lim)
		return TW_ETOOBIG;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/* true/false/yes/no/on/off in any case: 0 or TW_EINVAL. */
static int
parse_bool(const char *s, size_t len, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (len == strlen(yes[i]) && strncasecmp(s, yes[i], len) == 0) {
			*out = true;
			return 0;
		}
		if (len == strlen(no[i]) && strncasecmp(s, no[i], len) == 0) {
			*out = false;
			return 0;
		}
	}
	return TW_EINVAL;
}

/* Bytes: digits, optional spaces, optional B/KiB/MiB/GiB/TiB. */
static int
parse_size(const char *s, size_t len, uint64_t *out)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = { { "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 },
		{ "GiB", 30 }, { "TiB", 40 } };
	size_t i = 0, sp;
	uint64_t v;
	int r, shift = -1;

	r = digits(s, len, &i, &v);
	if (r == TW_EINVAL)
		return TW_EINVAL;
	for (sp = i; i < len && s[i] == ' '; i++)
		;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (same(s + i, len - i, units[u].unit))
			shift = (int)units[u].shift;
	/* Spaces belong between a number and its unit, nowhere else. */
	if (shift < 0 || (i > sp && i == len))
		return TW_EINVAL;
	if (r == TW_ETOOBIG || v > (UINT64_MAX >> shift))
		return TW_ETOOBIG;
	*out = v << shift;
	return 0;
}

#define DUR_NOUNIT 1 /* parse_duration: a bare number */

/* Milliseconds: <n>h<n>m<n>s<n>ms, units descending, each at most once. */
static int
parse_duration(const char *s, size_t len, uint64_t *out)
{
	static const uint64_t mult[] = { 1, 1000, 60000, 3600000 };
	uint64_t v, total = 0;
	size_t i = 0;
	int r, rank, last = 4;
	bool over = false;

	do {
		if ((r = digits(s, len, &i, &v)) == TW_EINVAL)
			return TW_EINVAL;
		over |= r == TW_ETOOBIG;
		if (i == len)
			return last == 4 ? DUR_NOUNIT : TW_EINVAL;
		if (s[i] == 'm' && i + 1 < len && s[i + 1] == 's') {
			rank = 0;
			i++;
		} else if (s[i] == 's')
			rank = 1;
		else if (s[i] == 'm')
			rank = 2;
		else if (s[i] == 'h')
			rank = 3;
		else
			return TW_EINVAL;
		i++;
		if (rank >= last)
			return TW_EINVAL;
		last = rank;
		if (!over && (v > UINT64_MAX / mult[rank] ||
		    v * mult[rank] > UINT64_MAX - total))
			over = true;
		else if (!over)
			total += v * mult[rank];
	} while (i < len);
	if (over)
		return TW_ETOOBIG;
	*out = total;
	return 0;
}

int
tw_conf_parse_size(const char *s, uint64_t *bytes)
{
	return parse_size(s, strlen(s), bytes);
}

int
tw_conf_parse_duration(const char *s, uint64_t *ms)
{
	int r = parse_duration(s, strlen(s), ms);

	return r == DUR_NOUNIT ? TW_EINVAL : r;
}

/* Why s (len bytes) is not host:port, [v6]:port or :port; NULL if it is. */
static const char *
addr_check(const char *s, size_t len)
{
	const char *end, *port, *colon;
	struct in6_addr a6;
	char v6[64];
	size_t hlen, plen;
	unsigned pv;

	if (len == 0)
		return "it is empty";
	if (s[0] == '[') {
		if ((end = memchr(s, ']', len)) == NULL)
			return "missing ']' after the IPv6 address";
		hlen = (size_t)(end - s) - 1;
		if (hlen == 0 || hlen >= sizeof(v6))
			return "bad IPv6 address";
		memcpy(v6, s + 1, hlen);
		v6[hlen] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return "bad IPv6 address";
		if (end + 1 == s + len || end[1] != ':')
			return "expected ':port' after ']'";
		port = end + 2;
	} else {
		if ((colon = memrchr(s, ':', len)) == NULL)
			return "expected host:port, [v6]:port or :port";
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen) != NULL)
			return "an IPv6 address needs brackets, as in [::1]:80";
		if (hlen > 253)
			return "the host name is too long";
		for (size_t i = 0; i < hlen; i++) {
			char ch = s[i];

			if (!((ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '.' ||
			    ch == '-' || ch == '_'))
				return "the host has characters not allowed "
				       "in a host name";
		}
		port = colon + 1;
	}
	plen = (size_t)(s + len - port);
	if (plen == 0)
		return "the port is missing";
	pv = 0;
	for (size_t i = 0; i < plen; i++) {
		if (plen > 5 || port[i] < '0' || port[i] > '9')
			return "the port must be a number from 0 to 65535";
		pv = pv * 10 + (unsigned)(port[i] - '0');
	}
	if (pv > 65535)
		return "the port must be a number from 0 to 65535";
	return NULL;
}

/* Whether bounds apply to k. */
static bool
bounded(const struct tw_conf_key *k)
{
	return k->min != 0 || k->max != 0;
}

/* An unsigned bound (SIZE, DURATION) as text. */
static const char *
fmt_ubound(const struct tw_conf_key *k, char *dst, size_t n, uint64_t v)
{
	if (k->type == TW_CONF_SIZE)
		return fmt_size(dst, n, v);
	return fmt_duration(dst, n, v);
}

/* Append "a, b, c" (the enum values) to dst. */
static void
cat_enum(char *dst, size_t n, const char *const *values)
{
	for (size_t i = 0; values[i] != NULL; i++)
		catf(dst, n, "%s%s", i > 0 ? ", " : "", values[i]);
}

/*
 * Parse s (len bytes), the value of key k at path, into *v, checking
 * bounds. On error why holds the whole message. STRLIST parses an item.
 */
static int
scalar_parse(const struct tw_conf_key *k, const char *path, const char *s,
    size_t len, union val *v, char *why, size_t whysz)
{
	char q[QUOTE_BUF], a[40], b[40];
	struct near nr = { NULL, 3 };
	const char *reason;
	int r = 0;

	quote(q, s, len);
	switch (k->type) {
	case TW_CONF_STR:
	case TW_CONF_PATH:
	case TW_CONF_ADDR:
	case TW_CONF_STRLIST:
		if (memchr(s, '\0', len) != NULL) {
			snprintf(why, whysz, "the value of '%s' contains a "
			    "NUL byte", path);
			r = TW_EINVAL;
		} else if (k->type == TW_CONF_PATH && len == 0) {
			snprintf(why, whysz, "empty path for '%s'", path);
			r = TW_EINVAL;
		} else if (k->type == TW_CONF_ADDR &&
		    (reason = addr_check(s, len)) != NULL) {
			snprintf(why, whysz, "invalid address '%s' for '%s': %s",
			    q, path, reason);
			r = TW_EINVAL;
		}
		v->s.p = s;
		v->s.len = len;
		break;
	case TW_CONF_BOOL:
		if ((r = parse_bool(s, len, &v->b)) != 0)
			snprintf(why, whysz, "invalid boolean '%s' for '%s': "
			    "use true or false", q, path);
		break;
	case TW_CONF_INT:
		r = parse_int(s, len, &v->i);
		if (r == TW_EINVAL)
			snprintf(why, whysz, "invalid integer '%s' for '%s'", q,
			    path);
		else if (r == TW_ETOOBIG)
			snprintf(why, whysz, "integer '%s' for '%s' is out of "
			    "range", q, path);
		else if (bounded(k) && v->i < k->min) {
			snprintf(why, whysz, "value %" PRId64 " for '%s' is "
			    "below the minimum %" PRId64, v->i, path, k->min);
			r = TW_EINVAL;
		} else if (bounded(k) && v->i > k->max) {
			snprintf(why, whysz, "value %" PRId64 " for '%s' is "
			    "above the maximum %" PRId64, v->i, path, k->max);
			r = TW_EINVAL;
		}
		break;
	case TW_CONF_SIZE:
	case TW_CONF_DURATION:
		if (k->type == TW_CONF_SIZE)
			r = parse_size(s, len, &v->u);
		else
			r = parse_duration(s, len, &v->u);
		if (r == DUR_NOUNIT)
			snprintf(why, whysz, "invalid duration '%s' for '%s': "
			    "a duration needs a unit: ms, s, m, h", q, path);
		else if (r == TW_EINVAL && k->type == TW_CONF_SIZE)
			snprintf(why, whysz, "invalid size '%s' for '%s': use a "
			    "number of bytes, or a number with B, KiB, MiB, GiB "
			    "or TiB", q, path);
		else if (r == TW_EINVAL)
			snprintf(why, whysz, "invalid duration '%s' for '%s': "
			    "use a number with ms, s, m or h", q, path);
		else if (r == TW_ETOOBIG)
			snprintf(why, whysz, "%s '%s' for '%s' is too large",
			    k->type == TW_CONF_SIZE ? "size" : "duration", q,
			    path);
		else if (bounded(k) && v->u < (uint64_t)k->min) {
			snprintf(why, whysz, "value %s for '%s' is below the "
			    "minimum %s", fmt_ubound(k, a, sizeof(a), v->u),
			    path, fmt_ubound(k, b, sizeof(b),
			    (uint64_t)k->min));
			r = TW_EINVAL;
		} else if (bounded(k) && v->u > (uint64_t)k->max) {
			snprintf(why, whysz, "value %s for '%s' is above the "
			    "maximum %s", fmt_ubound(k, a, sizeof(a), v->u),
			    path, fmt_ubound(k, b, sizeof(b),
			    (uint64_t)k->max));
			r = TW_EINVAL;
		}
		break;
	case TW_CONF_ENUM:
		for (int i = 0; k->enum_values[i] != NULL; i++) {
			if (same(s, len, k->enum_values[i])) {
				v->e = i;
				goto out;
			}
			near_try(&nr, s, len, k->enum_values[i]);
		}
		snprintf(why, whysz, "invalid value '%s' for '%s': expected "
		    "one of ", q, path);
		cat_enum(why, whysz, k->enum_values);
		if (nr.best != NULL)
			catf(why, whysz, "; did you mean '%s'?", nr.best);
		r = TW_EINVAL;
		break;
	default:
		snprintf(why, whysz, "'%s' is not a scalar key", path);
		r = TW_EINVAL;
		break;
	}
out:
	return r;
}

/* A malloc'd NUL-terminated copy of len bytes at s, or NULL. */
static char *
copy_text(const char *s, size_t len)
{
	char *p;

	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void
strv_clear(struct tw_conf_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* Store a parsed value in k's field of base; TW_ENOMEM. */
static int
scalar_store(const struct tw_conf_key *k, void *base, const union val *v)
{
	struct tw_conf_strv *sv;
	char *s, **sp;

	switch (k->type) {
	case TW_CONF_STR:
	case TW_CONF_PATH:
	case TW_CONF_ADDR:
		if ((s = copy_text(v->s.p, v->s.len)) == NULL)
			return TW_ENOMEM;
		sp = FIELD(base, k, char *);
		free(*sp);
		*sp = s;
		break;
	case TW_CONF_STRLIST:
		/* A default: a one-element list. */
		sv = FIELD(base, k, struct tw_conf_strv);
		strv_clear(sv);
		if ((sv->v = calloc(1, sizeof(*sv->v))) == NULL)
			return TW_ENOMEM;
		sv->n = 1;
		if ((sv->v[0] = copy_text(v->s.p, v->s.len)) == NULL)
			return TW_ENOMEM;
		break;
	case TW_CONF_BOOL:
		*FIELD(base, k, bool) = v->b;
		break;
	case TW_CONF_INT:
		*FIELD(base, k, int64_t) = v->i;
		break;
	case TW_CONF_SIZE:
	case TW_CONF_DURATION:
		*FIELD(base, k, uint64_t) = v->u;
		break;
	case TW_CONF_ENUM:
		*FIELD(base, k, int) = v->e;
		break;
	default:
		break;
	}
	return 0;
}

/* ---- interpolation ---- */

static bool
is_var_char(char ch, bool first)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    ch == '_' || (!first && ch >= '0' && ch <= '9');
}

/*
 * Expand ${VAR}, ${VAR:-default}, ${VAR:?message} and $${ (a literal
 * "${") in the value node v into out. Errors are reported at v; returns
 * 0, TW_ECONFIG or TW_ENOMEM.
 */
static int
interpolate(struct ctx *c, const struct node *v, struct tw_buf *out)
{
	const char *p = v->text, *end = v->text + v->len;
	const char *dollar, *close, *name, *arg, *val;
	char var[VAR_MAX], q[QUOTE_BUF];
	size_t nlen;
	int mode, r = 0;

	while (p < end && r == 0) {
		if ((dollar = memchr(p, '$', (size_t)(end - p))) == NULL) {
			r = tw_buf_add(out, p, (size_t)(end - p));
			break;
		}
		if ((r = tw_buf_add(out, p, (size_t)(dollar - p))) != 0)
			break;
		p = dollar;
		if (end - p >= 3 && p[1] == '$' && p[2] == '{') {
			r = tw_buf_add(out, "${", 2);
			p += 3;
			continue;
		}
		if (end - p < 2 || p[1] != '{') {
			r = tw_buf_addc(out, '$');
			p++;
			continue;
		}
		name = p + 2;
		if ((close = memchr(name, '}', (size_t)(end - name))) == NULL) {
			cerr(c, v->line, v->col, "unterminated '${' in the "
			    "value of '%s'", cpath(c));
			r = TW_ECONFIG;
			break;
		}
		for (nlen = 0; name + nlen < close &&
		    is_var_char(name[nlen], nlen == 0); nlen++)
			;
		arg = name + nlen;
		mode = 0;
		if (close - arg >= 2 && arg[0] == ':' &&
		    (arg[1] == '-' || arg[1] == '?')) {
			mode = arg[1];
			arg += 2;
		} else if (arg != close)
			nlen = 0;
		if (nlen == 0 || nlen >= sizeof(var)) {
			cerr(c, v->line, v->col, "invalid variable reference "
			    "'%s' in the value of '%s': use ${NAME}, "
			    "${NAME:-default} or ${NAME:?message}",
			    quote(q, p, (size_t)(close + 1 - p)), cpath(c));
			r = TW_ECONFIG;
			break;
		}
		memcpy(var, name, nlen);
		var[nlen] = '\0';
		val = getenv(var);
		if (mode != 0 && (val == NULL || val[0] == '\0'))
			val = NULL;
		if (val != NULL)
			r = tw_buf_adds(out, val);
		else if (mode == '-')
			r = tw_buf_add(out, arg, (size_t)(close - arg));
		else if (mode == '?') {
			cerr(c, v->line, v->col, "environment variable '%s' is "
			    "not set or empty: %s (in the value of '%s')", var,
			    quote(q, arg, (size_t)(close - arg)), cpath(c));
			r = TW_ECONFIG;
		} else {
			cerr(c, v->line, v->col, "environment variable '%s' is "
			    "not set (in the value of '%s')", var, cpath(c));
			r = TW_ECONFIG;
		}
		p = close + 1;
	}
	if (r == TW_ETOOBIG) {
		cerr(c, v->line, v->col, "the value of '%s' is longer than %u "
		    "bytes after interpolation", cpath(c), TW_CONF_VALUE_MAX);
		r = TW_ECONFIG;
	} else if (r == TW_ENOMEM)
		c->oom = true;
	return r;
}

/*
 * The text of scalar node v after interpolation (when enabled): *s and
 * *len point into v or into buf. 0, or an error already reported.
 */
static int
value_text(struct ctx *c, const struct node *v, struct tw_buf *buf,
    const char **s, size_t *len)
{
	int r;

	*s = v->text;
	*len = v->len;
	if ((c->opts & TW_CONF_OPT_ENV) == 0 ||
	    memchr(v->text, '$', v->len) == NULL)
		return 0;
	if ((r = interpolate(c, v, buf)) != 0)
		return r;
	*s = buf->data != NULL ? buf->data : "";
	*len = buf->len;
	return 0;
}

/* ---- filling structs ---- */

/* Parse scalar node v as k's value and store it. */
static void
scalar_fill(struct ctx *c, const struct tw_conf_key *k, const struct node *v,
    char *base)
{
	char why[TEXT_MAX];
	struct tw_buf buf;
	union val val;
	const char *s;
	size_t len;

	tw_buf_init(&buf, TW_CONF_VALUE_MAX);
	if (value_text(c, v, &buf, &s, &len) != 0)
		goto out;
	if (scalar_parse(k, cpath(c), s, len, &val, why, sizeof(why)) != 0) {
		cerr(c, v->line, v->col, "%s", why);
		goto out;
	}
	if (scalar_store(k, base, &val) != 0)
		c->oom = true;
out:
	tw_buf_cleanup(&buf);
}

/* Fill a string list from a scalar (one item) or a sequence of scalars. */
static void
strv_fill(struct ctx *c, const struct tw_conf_key *k, const struct node *v,
    char *base)
{
	struct tw_conf_strv *sv = FIELD(base, k, struct tw_conf_strv);
	const struct node *item;
	char why[TEXT_MAX];
	struct tw_buf buf;
	union val val;
	const char *s;
	size_t n, len, old = 0;

	if (v->kind == NODE_MAP) {
		cerr(c, v->line, v->col, "expected a string or a list of "
		    "strings for '%s'", cpath(c));
		return;
	}
	strv_clear(sv);
	n = v->kind == NODE_SCALAR ? 1 : v->n;
	if (n == 0)
		return;
	if ((sv->v = calloc(n, sizeof(*sv->v))) == NULL) {
		c->oom = true;
		return;
	}
	sv->n = n;
	tw_buf_init(&buf, TW_CONF_VALUE_MAX);
	for (size_t i = 0; i < n; i++) {
		item = v->kind == NODE_SCALAR ? v : v->kids[i];
		if (v->kind == NODE_SEQ) {
			old = path_index(&c->path, i);
			where_add(c, item->line, item->col);
		}
		tw_buf_reset(&buf);
		if (item->kind != NODE_SCALAR || is_null(item))
			cerr(c, item->line, item->col, "expected a string for "
			    "'%s'", cpath(c));
		else if (value_text(c, item, &buf, &s, &len) != 0)
			;
		else if (scalar_parse(k, cpath(c), s, len, &val, why,
		    sizeof(why)) != 0)
			cerr(c, item->line, item->col, "%s", why);
		else if ((sv->v[i] = copy_text(val.s.p, val.s.len)) == NULL)
			c->oom = true;
		if (v->kind == NODE_SEQ)
			path_pop(&c->path, old);
	}
	tw_buf_cleanup(&buf);
}

/* Fill a list from a sequence of mappings. */
static void
list_fill(struct ctx *c, const struct tw_conf_key *k, const struct node *v,
    char *base)
{
	struct tw_conf_list *l = FIELD(base, k, struct tw_conf_list);
	const struct node *item;
	size_t old;

	if (v->n == 0)
		return;
	if ((l->items = calloc(v->n, k->item_size)) == NULL) {
		c->oom = true;
		return;
	}
	l->n = v->n;
	for (size_t i = 0; i < v->n; i++) {
		item = v->kids[i];
		old = path_index(&c->path, i);
		where_add(c, item->line, item->col);
		if (item->kind != NODE_MAP)
			cerr(c, item->line, item->col, "expected a mapping for "
			    "'%s'", cpath(c));
		else
			map_fill(c, k->sub, k->variants, item, item->line,
			    item->col, (char *)l->items + i * k->item_size);
		path_pop(&c->path, old);
	}
}

/*
 * k is not in the file (or null): report it if required, else apply its
 * default; line:col is where a missing required key is reported.
 */
static void
absent_fill(struct ctx *c, const struct tw_conf_key *k, int line, int col,
    char *base)
{
	char why[TEXT_MAX];
	union val val;

	if (k->flags & TW_CONF_REQUIRED) {
		cerr(c, line, col, "missing required key '%s'", cpath(c));
		return;
	}
	switch (k->type) {
	case TW_CONF_SECTION:
		/* Without a `type` a variant section has nothing to default. */
		if (k->variants == NULL)
			map_fill(c, k->sub, NULL, NULL, line, col,
			    base + k->offset);
		break;
	case TW_CONF_LIST:
		break;
	default:
		if (k->def == NULL)
			break;
		if (scalar_parse(k, cpath(c), k->def, strlen(k->def), &val,
		    why, sizeof(why)) != 0)
			cerr(c, line, col, "bad default in the key table: %s",
			    why);
		else if (scalar_store(k, base, &val) != 0)
			c->oom = true;
		break;
	}
}

/* Fill k's field from value node v (kn is its key node). */
static void
value_fill(struct ctx *c, const struct tw_conf_key *k, const struct node *kn,
    const struct node *v, char *base)
{
	size_t old = path_key(&c->path, k->name);

	where_add(c, v->line, v->col);
	if (is_null(v)) {
		absent_fill(c, k, kn->line, kn->col, base);
		goto out;
	}
	switch (k->type) {
	case TW_CONF_SECTION:
		if (v->kind != NODE_MAP)
			cerr(c, v->line, v->col, "expected a mapping for '%s'",
			    cpath(c));
		else
			map_fill(c, k->sub, k->variants, v, v->line, v->col,
			    base + k->offset);
		break;
	case TW_CONF_LIST:
		if (v->kind != NODE_SEQ)
			cerr(c, v->line, v->col, "expected a sequence of "
			    "mappings for '%s'", cpath(c));
		else
			list_fill(c, k, v, base);
		break;
	case TW_CONF_STRLIST:
		strv_fill(c, k, v, base);
		break;
	default:
		if (v->kind != NODE_SCALAR)
			cerr(c, v->line, v->col, "expected a single value for "
			    "'%s', not a %s", cpath(c),
			    v->kind == NODE_MAP ? "mapping" : "sequence");
		else
			scalar_fill(c, k, v, base);
		break;
	}
out:
	path_pop(&c->path, old);
}

/*
 * The variant that mapping m's `type` key selects, or NULL (reported);
 * *pair is the index of the type key in m->kids.
 */
static const struct tw_conf_variant *
variant_pick(struct ctx *c, const struct tw_conf_variant *variants,
    const struct node *m, size_t *pair)
{
	const struct tw_conf_variant *var = NULL;
	const struct node *tv = NULL;
	struct near nr = { NULL, 3 };
	char why[TEXT_MAX], q[QUOTE_BUF];
	struct tw_buf buf;
	const char *s;
	size_t len, i;

	tw_buf_init(&buf, TW_CONF_VALUE_MAX);
	for (i = 0; i + 1 < m->n; i += 2) {
		if (m->kids[i]->kind == NODE_SCALAR &&
		    same(m->kids[i]->text, m->kids[i]->len, "type")) {
			tv = m->kids[i + 1];
			*pair = i;
			break;
		}
	}
	if (tv == NULL || is_null(tv)) {
		cerr(c, m->line, m->col, "missing required key '%s%stype'",
		    cpath(c), cpath(c)[0] != '\0' ? "." : "");
		goto out;
	}
	if (tv->kind != NODE_SCALAR) {
		snprintf(why, sizeof(why), "expected a type name for '%s%stype': "
		    "one of ", cpath(c), cpath(c)[0] != '\0' ? "." : "");
		goto bad;
	}
	if (value_text(c, tv, &buf, &s, &len) != 0)
		goto out;
	for (i = 0; variants[i].type != NULL; i++) {
		if (same(s, len, variants[i].type)) {
			var = &variants[i];
			goto out;
		}
		near_try(&nr, s, len, variants[i].type);
	}
	snprintf(why, sizeof(why), "unknown type '%s' for '%s': expected one "
	    "of ", quote(q, s, len), cpath(c));
bad:
	for (i = 0; variants[i].type != NULL; i++)
		catf(why, sizeof(why), "%s%s", i > 0 ? ", " : "",
		    variants[i].type);
	if (nr.best != NULL)
		catf(why, sizeof(why), "; did you mean '%s'?", nr.best);
	cerr(c, tv->line, tv->col, "%s", why);
out:
	tw_buf_cleanup(&buf);
	return var;
}

/* Report key node kn as unknown, with a suggestion when one is close. */
static void
unknown_key(struct ctx *c, const struct tw_conf_key *keys,
    const struct tw_conf_variant *variants,
    const struct tw_conf_variant *var, const struct node *kn)
{
	const struct tw_conf_variant *other = NULL;
	struct near nr = { NULL, 3 };
	char q[QUOTE_BUF], in[512], tail[256];

	tail[0] = '\0';
	if (var != NULL) {
		for (size_t i = 0; variants[i].type != NULL; i++) {
			if (&variants[i] != var && key_lookup(variants[i].keys,
			    kn->text, kn->len) != NULL) {
				other = &variants[i];
				break;
			}
		}
		catf(tail, sizeof(tail), " for type '%s'", var->type);
		if (other != NULL)
			catf(tail, sizeof(tail), " (it is a key of type '%s')",
			    other->type);
	}
	if (other == NULL) {
		for (; keys->name != NULL; keys++)
			near_try(&nr, kn->text, kn->len, keys->name);
		if (nr.best != NULL)
			catf(tail, sizeof(tail), "; did you mean '%s'?",
			    nr.best);
	}
	cerr(c, kn->line, kn->col, "unknown key '%s'%s%s",
	    quote(q, kn->text, kn->len), in_path(c, in, sizeof(in)), tail);
}

/*
 * Fill base from mapping m (NULL when absent) with keys, or with the keys
 * of the variant that m's `type` selects. Unknown and duplicate keys are
 * reported; keys not in m get their defaults, required ones are reported
 * missing at line:col.
 */
static void
map_fill(struct ctx *c, const struct tw_conf_key *keys,
    const struct tw_conf_variant *variants, const struct node *m, int line,
    int col, char *base)
{
	const struct tw_conf_variant *var = NULL;
	const struct tw_conf_key *k;
	const struct node **seen = NULL, *kn, *vn;
	char in[512], q[QUOTE_BUF];
	size_t nkeys, i, tpair = 0, old;
	union val val;

	if (variants != NULL) {
		if (m == NULL || (var = variant_pick(c, variants, m,
		    &tpair)) == NULL)
			return;
		keys = var->keys;
	}
	nkeys = keys_count(keys);
	if ((seen = calloc(nkeys + 1, sizeof(*seen))) == NULL) {
		c->oom = true;
		return;
	}
	if (var != NULL) {
		/*
		 * Store the type first, so tw_conf_free finds the variant
		 * whatever else fails; table_check made sure the key exists.
		 */
		k = key_lookup(keys, "type", 4);
		seen[k - keys] = m->kids[tpair];
		old = path_key(&c->path, "type");
		where_add(c, m->kids[tpair + 1]->line, m->kids[tpair + 1]->col);
		path_pop(&c->path, old);
		val.s.p = var->type;
		val.s.len = strlen(var->type);
		if (scalar_store(k, base, &val) != 0)
			c->oom = true;
	}
	for (i = 0; m != NULL && i + 1 < m->n; i += 2) {
		kn = m->kids[i];
		vn = m->kids[i + 1];
		if (kn->kind != NODE_SCALAR) {
			cerr(c, kn->line, kn->col, "a key must be a string, "
			    "not a %s%s", kn->kind == NODE_MAP ? "mapping" :
			    "sequence", in_path(c, in, sizeof(in)));
			continue;
		}
		if ((k = key_lookup(keys, kn->text, kn->len)) == NULL) {
			unknown_key(c, keys, variants, var, kn);
			continue;
		}
		if (seen[k - keys] != NULL) {
			if (seen[k - keys] != kn)
				cerr(c, kn->line, kn->col, "duplicate key "
				    "'%s'%s (first at line %d)",
				    quote(q, kn->text, kn->len),
				    in_path(c, in, sizeof(in)),
				    seen[k - keys]->line);
			continue;
		}
		seen[k - keys] = kn;
		value_fill(c, k, kn, vn, base);
	}
	for (i = 0; i < nkeys; i++) {
		if (seen[i] == NULL) {
			old = path_key(&c->path, keys[i].name);
			absent_fill(c, &keys[i], line, col, base);
			path_pop(&c->path, old);
		}
	}
	free(seen);
}

/* ---- table check ---- */

/* The width of the field a key of type t fills; 0 when not fixed. */
static size_t
field_size(enum tw_conf_type t)
{
	switch (t) {
	case TW_CONF_STR:
	case TW_CONF_ADDR:
	case TW_CONF_PATH:
		return sizeof(char *);
	case TW_CONF_BOOL:
		return sizeof(bool);
	case TW_CONF_INT:
		return sizeof(int64_t);
	case TW_CONF_SIZE:
	case TW_CONF_DURATION:
		return sizeof(uint64_t);
	case TW_CONF_ENUM:
		return sizeof(int);
	case TW_CONF_STRLIST:
		return sizeof(struct tw_conf_strv);
	case TW_CONF_LIST:
		return sizeof(struct tw_conf_list);
	default:
		return 0;
	}
}

struct tcheck {
	char why[TEXT_MAX];
	struct tw_buf path;
};

static int tc_fail(struct tcheck *t, const char *fmt, ...) TW_PRINTF(2, 3);
static int tc_keys(struct tcheck *t, const struct tw_conf_key *keys,
    int depth, size_t item_size);

/* Record the first problem; returns TW_EINVAL. */
static int
tc_fail(struct tcheck *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return TW_EINVAL;
}

static const char *
tpath(const struct tcheck *t)
{
	return t->path.data != NULL ? t->path.data : "";
}

/* Check the variants of key k (path pushed); item_size 0 if unknown. */
static int
tc_variants(struct tcheck *t, const struct tw_conf_key *k, int depth,
    size_t item_size)
{
	const struct tw_conf_variant *vs = k->variants;
	const struct tw_conf_key *tk, *tk0 = NULL;
	int r;

	if (vs[0].type == NULL)
		return tc_fail(t, "'%s' has no variants", tpath(t));
	for (size_t i = 0; vs[i].type != NULL; i++) {
		if (vs[i].type[0] == '\0' || vs[i].keys == NULL)
			return tc_fail(t, "a variant of '%s' has an empty "
			    "type name or no keys", tpath(t));
		for (size_t j = 0; j < i; j++)
			if (strcmp(vs[i].type, vs[j].type) == 0)
				return tc_fail(t, "'%s' has two variants of "
				    "type '%s'", tpath(t), vs[i].type);
		if ((r = tc_keys(t, vs[i].keys, depth, item_size)) != 0)
			return r;
		tk = key_lookup(vs[i].keys, "type", 4);
		if (tk == NULL || tk->type != TW_CONF_STR)
			return tc_fail(t, "variant '%s' of '%s' needs a key "
			    "'type' of type TW_CONF_STR", vs[i].type,
			    tpath(t));
		if (tk0 != NULL && tk->offset != tk0->offset)
			return tc_fail(t, "the 'type' keys of the variants of "
			    "'%s' are at different offsets", tpath(t));
		tk0 = tk;
	}
	return 0;
}

/* Check one key table; item_size bounds the offsets when not 0. */
static int
tc_keys(struct tcheck *t, const struct tw_conf_key *keys, int depth,
    size_t item_size)
{
	const struct tw_conf_key *k;
	char why[TEXT_MAX];
	size_t old = 0, fs, nlen;
	union val val;
	int r = 0;

	if (keys == NULL)
		return tc_fail(t, "'%s' has no key table", tpath(t));
	if (depth > TW_CONF_DEPTH_MAX)
		return tc_fail(t, "key tables nest deeper than %d levels at "
		    "'%s'", TW_CONF_DEPTH_MAX, tpath(t));
	for (k = keys; k->name != NULL && r == 0; k++) {
		old = path_key(&t->path, k->name);
		nlen = strlen(k->name);
		if (nlen == 0 || strspn(k->name,
		    "abcdefghijklmnopqrstuvwxyz0123456789_") != nlen)
			r = tc_fail(t, "key '%s' has a name that is not "
			    "[a-z0-9_]+", tpath(t));
		else if (key_lookup(keys, k->name, nlen) != k)
			r = tc_fail(t, "key '%s' appears twice", tpath(t));
		else if ((unsigned)k->type > (unsigned)TW_CONF_PATH)
			r = tc_fail(t, "key '%s' has an unknown type %d",
			    tpath(t), (int)k->type);
		else if (item_size != 0 && (fs = field_size(k->type)) != 0 &&
		    (k->offset > item_size || fs > item_size - k->offset))
			r = tc_fail(t, "key '%s' lies outside its list item "
			    "of %zu bytes", tpath(t), item_size);
		else if ((k->flags & TW_CONF_REQUIRED) && k->def != NULL)
			r = tc_fail(t, "key '%s' is required and has a "
			    "default", tpath(t));
		else if ((k->flags & TW_CONF_SECRET) && (nlen < 5 ||
		    strcmp(k->name + nlen - 5, "_file") != 0))
			r = tc_fail(t, "key '%s' is TW_CONF_SECRET but its "
			    "name does not end in '_file'", tpath(t));
		else if ((k->flags & TW_CONF_SECRET) &&
		    k->type != TW_CONF_PATH && k->type != TW_CONF_STR)
			r = tc_fail(t, "key '%s' is TW_CONF_SECRET but not a "
			    "path", tpath(t));
		else if ((k->type == TW_CONF_SIZE ||
		    k->type == TW_CONF_DURATION) && (k->min < 0 || k->max < 0))
			r = tc_fail(t, "key '%s' has negative bounds",
			    tpath(t));
		else if ((k->type == TW_CONF_INT || k->type == TW_CONF_SIZE ||
		    k->type == TW_CONF_DURATION) && k->min > k->max)
			r = tc_fail(t, "key '%s' has min > max (for a minimum "
			    "only, use max = TW_CONF_NOMAX)", tpath(t));
		else if (k->type == TW_CONF_ENUM && (k->enum_values == NULL ||
		    k->enum_values[0] == NULL))
			r = tc_fail(t, "enum key '%s' has no values", tpath(t));
		else if ((k->type == TW_CONF_SECTION ||
		    k->type == TW_CONF_LIST) && k->def != NULL)
			r = tc_fail(t, "key '%s' is a section or list and "
			    "cannot have a default", tpath(t));
		else if ((k->type == TW_CONF_SECTION ||
		    k->type == TW_CONF_LIST) &&
		    (k->sub == NULL) == (k->variants == NULL))
			r = tc_fail(t, "key '%s' needs exactly one of .sub and "
			    ".variants", tpath(t));
		else if (k->type == TW_CONF_LIST && k->item_size == 0)
			r = tc_fail(t, "list key '%s' has no item_size",
			    tpath(t));
		else if (k->type == TW_CONF_SECTION && k->sub != NULL)
			r = tc_keys(t, k->sub, depth + 1, 0);
		else if (k->type == TW_CONF_LIST && k->sub != NULL)
			r = tc_keys(t, k->sub, depth + 1, k->item_size);
		else if (k->type == TW_CONF_SECTION)
			r = tc_variants(t, k, depth + 1, 0);
		else if (k->type == TW_CONF_LIST)
			r = tc_variants(t, k, depth + 1, k->item_size);
		else if (k->def != NULL && scalar_parse(k, tpath(t), k->def,
		    strlen(k->def), &val, why, sizeof(why)) != 0)
			r = tc_fail(t, "bad default: %s", why);
		if (r == 0)
			path_pop(&t->path, old);
	}
	return r;
}

int
tw_conf_table_check(const struct tw_conf_key *root, char **why)
{
	struct tcheck t;
	int r;

	if (why != NULL)
		*why = NULL;
	t.why[0] = '\0';
	tw_buf_init(&t.path, PATH_LEN_MAX);
	r = tc_keys(&t, root, 0, 0);
	if (r != 0 && why != NULL && (*why = strdup(t.why)) == NULL)
		r = TW_ENOMEM;
	tw_buf_cleanup(&t.path);
	return r;
}

/* ---- loading ---- */

int
tw_conf_load_mem(const char *name, const char *text, size_t len,
    const struct tw_conf_key *root, void *out, unsigned opts,
    struct tw_conf_diag *d)
{
	struct node *tree = NULL;
	bool table_ok = false;
	char *why = NULL;
	struct ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.name = name != NULL ? name : "<config>";
	c.opts = opts;
	tw_buf_init(&c.path, PATH_LEN_MAX);
	if ((r = tw_conf_table_check(root, &why)) != 0) {
		if (r == TW_EINVAL)
			tw_conf_diag_add(d, c.name, 0, 0, "invalid key table: "
			    "%s", why);
		goto out;
	}
	table_ok = true;
	if ((r = diag_begin(d, c.name)) != 0)
		goto out;
	if (len > TW_CONF_FILE_MAX) {
		cerr(&c, 1, 1, "the configuration is larger than %u MiB",
		    TW_CONF_FILE_MAX >> 20);
		r = TW_ECONFIG;
		goto out;
	}
	if ((r = tree_parse(&c, text != NULL ? text : "", len, &tree)) != 0)
		goto out;
	if (!is_null(tree) && tree->kind != NODE_MAP)
		cerr(&c, tree->line, tree->col, "expected a mapping of keys at "
		    "the top level");
	else
		map_fill(&c, root, NULL, is_null(tree) ? NULL : tree, 1, 1,
		    out);
	r = c.oom ? TW_ENOMEM : c.nerr > 0 ? TW_ECONFIG : 0;
out:
	if (r != 0 && table_ok)
		tw_conf_free(root, out);
	node_free(tree);
	free(why);
	tw_buf_cleanup(&c.path);
	return r;
}

int
tw_conf_load_file(const char *path, const struct tw_conf_key *root,
    void *out, unsigned opts, struct tw_conf_diag *d)
{
	char chunk[16384], ebuf[128];
	struct tw_buf b;
	ssize_t n;
	int fd, r = 0;

	tw_buf_init(&b, TW_CONF_FILE_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		r = TW_EIO;
		goto out;
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1) {
			r = TW_EIO;
			goto out;
		}
		if (n == 0)
			break;
		if ((r = tw_buf_add(&b, chunk, (size_t)n)) != 0)
			goto out;
	}
	r = tw_conf_load_mem(path, b.data != NULL ? b.data : "", b.len, root,
	    out, opts, d);
out:
	if (r == TW_EIO)
		tw_conf_diag_add(d, path, 0, 0, "cannot read: %s",
		    strerror_r(errno, ebuf, sizeof(ebuf)));
	else if (r == TW_ETOOBIG) {
		tw_conf_diag_add(d, path, 0, 0, "the file is larger than %u "
		    "MiB", TW_CONF_FILE_MAX >> 20);
		r = TW_ECONFIG;
	}
	if (fd != -1)
		close(fd);
	tw_buf_cleanup(&b);
	return r;
}

/* ---- freeing ---- */

/* Free the allocated fields of base described by keys (or its variant). */
static void
free_keys(const struct tw_conf_key *keys,
    const struct tw_conf_variant *variants, char *base, int depth)
{
	struct tw_conf_list *l;
	char **sp;

	if (depth > TW_CONF_DEPTH_MAX)
		return;
	if (variants != NULL && (keys = variant_keys(variants, base)) == NULL)
		return;
	for (const struct tw_conf_key *k = keys; k->name != NULL; k++) {
		switch (k->type) {
		case TW_CONF_STR:
		case TW_CONF_ADDR:
		case TW_CONF_PATH:
			sp = FIELD(base, k, char *);
			free(*sp);
			*sp = NULL;
			break;
		case TW_CONF_STRLIST:
			strv_clear(FIELD(base, k, struct tw_conf_strv));
			break;
		case TW_CONF_SECTION:
			free_keys(k->sub, k->variants, base + k->offset,
			    depth + 1);
			break;
		case TW_CONF_LIST:
			l = FIELD(base, k, struct tw_conf_list);
			for (size_t i = 0; i < l->n; i++)
				free_keys(k->sub, k->variants,
				    (char *)l->items + i * k->item_size,
				    depth + 1);
			free(l->items);
			l->items = NULL;
			l->n = 0;
			break;
		default:
			break;
		}
	}
}

void
tw_conf_free(const struct tw_conf_key *root, void *obj)
{
	if (root != NULL && obj != NULL)
		free_keys(root, NULL, obj, 0);
}

/* ---- reload check ---- */

struct reload {
	struct tw_conf_diag *d;
	struct tw_buf path;
	int changed;
};

static void rl_map(struct reload *rl, const struct tw_conf_key *keys,
    const struct tw_conf_variant *variants, const char *a, const char *b,
    int depth);

/* Report the key at the current path as changed. */
static void
rl_report(struct reload *rl)
{
	const char *p = rl->path.data != NULL ? rl->path.data : "";

	rl->changed++;
	tw_conf_diag_at(rl->d, p, "'%s' cannot change on reload; restart to "
	    "apply", p);
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Compare k's field in a and b (path pushed). */
static void
rl_value(struct reload *rl, const struct tw_conf_key *k, const char *a,
    const char *b, int depth)
{
	const struct tw_conf_strv *sa, *sb;
	const struct tw_conf_list *la, *lb;
	size_t old;
	bool diff = false;

	if (k->flags & TW_CONF_RELOADABLE)
		return;
	switch (k->type) {
	case TW_CONF_STR:
	case TW_CONF_ADDR:
	case TW_CONF_PATH:
		diff = !str_eq(*CFIELD(a, k, char *), *CFIELD(b, k, char *));
		break;
	case TW_CONF_BOOL:
		diff = *CFIELD(a, k, bool) != *CFIELD(b, k, bool);
		break;
	case TW_CONF_INT:
		diff = *CFIELD(a, k, int64_t) != *CFIELD(b, k, int64_t);
		break;
	case TW_CONF_SIZE:
	case TW_CONF_DURATION:
		diff = *CFIELD(a, k, uint64_t) != *CFIELD(b, k, uint64_t);
		break;
	case TW_CONF_ENUM:
		diff = *CFIELD(a, k, int) != *CFIELD(b, k, int);
		break;
	case TW_CONF_STRLIST:
		sa = CFIELD(a, k, struct tw_conf_strv);
		sb = CFIELD(b, k, struct tw_conf_strv);
		diff = sa->n != sb->n;
		for (size_t i = 0; !diff && i < sa->n; i++)
			diff = !str_eq(sa->v[i], sb->v[i]);
		break;
	case TW_CONF_SECTION:
		rl_map(rl, k->sub, k->variants, a + k->offset, b + k->offset,
		    depth + 1);
		break;
	case TW_CONF_LIST:
		la = CFIELD(a, k, struct tw_conf_list);
		lb = CFIELD(b, k, struct tw_conf_list);
		if (la->n != lb->n) {
			diff = true;
			break;
		}
		for (size_t i = 0; i < la->n; i++) {
			old = path_index(&rl->path, i);
			rl_map(rl, k->sub, k->variants,
			    (const char *)la->items + i * k->item_size,
			    (const char *)lb->items + i * k->item_size,
			    depth + 1);
			path_pop(&rl->path, old);
		}
		break;
	default:
		break;
	}
	if (diff)
		rl_report(rl);
}

/* Compare the fields of a and b described by keys (or their variant). */
static void
rl_map(struct reload *rl, const struct tw_conf_key *keys,
    const struct tw_conf_variant *variants, const char *a, const char *b,
    int depth)
{
	const struct tw_conf_key *ka;
	size_t old;

	if (depth > TW_CONF_DEPTH_MAX)
		return;
	if (variants != NULL) {
		ka = variant_keys(variants, a);
		if (ka != variant_keys(variants, b)) {
			old = path_key(&rl->path, "type");
			rl_report(rl);
			path_pop(&rl->path, old);
			return;
		}
		if ((keys = ka) == NULL)
			return;
	}
	for (const struct tw_conf_key *k = keys; k->name != NULL; k++) {
		old = path_key(&rl->path, k->name);
		rl_value(rl, k, a, b, depth);
		path_pop(&rl->path, old);
	}
}

int
tw_conf_reload_check(const struct tw_conf_key *root, const void *old_obj,
    const void *new_obj, struct tw_conf_diag *d)
{
	struct reload rl;

	rl.d = d;
	rl.changed = 0;
	tw_buf_init(&rl.path, PATH_LEN_MAX);
	rl_map(&rl, root, NULL, old_obj, new_obj, 0);
	tw_buf_cleanup(&rl.path);
	return rl.changed > 0 ? TW_ECONFIG : 0;
}

/* ---- reference documentation ---- */

/* Append s to a Markdown table cell, escaping what would break the row. */
static int
md_cell(struct tw_buf *out, const char *s)
{
	int r = 0;

	for (; s != NULL && *s != '\0' && r == 0; s++) {
		if (*s == '|')
			r = tw_buf_adds(out, "\\|");
		else if (*s == '\n' || *s == '\r')
			r = tw_buf_addc(out, ' ');
		else
			r = tw_buf_addc(out, *s);
	}
	return r;
}

/* The type column for k. */
static void
ref_type(const struct tw_conf_key *k, char *dst, size_t n)
{
	static const char *const names[] = {
		[TW_CONF_STR] = "string",
		[TW_CONF_BOOL] = "boolean",
		[TW_CONF_INT] = "integer",
		[TW_CONF_SIZE] = "size (B, KiB, MiB, GiB, TiB)",
		[TW_CONF_DURATION] = "duration (ms, s, m, h)",
		[TW_CONF_ENUM] = "one of",
		[TW_CONF_STRLIST] = "string or list of strings",
		[TW_CONF_SECTION] = "section",
		[TW_CONF_LIST] = "list of sections",
		[TW_CONF_ADDR] = "address (host:port)",
		[TW_CONF_PATH] = "path",
	};

	dst[0] = '\0';
	catf(dst, n, "%s", (unsigned)k->type <= (unsigned)TW_CONF_PATH ?
	    names[k->type] : "?");
	if (k->type == TW_CONF_ENUM && k->enum_values != NULL)
		for (size_t i = 0; k->enum_values[i] != NULL; i++)
			catf(dst, n, "%s`%s`", i > 0 ? ", " : " ",
			    k->enum_values[i]);
	if (k->flags & TW_CONF_SECRET)
		catf(dst, n, " (file holding a secret)");
}

/* The bounds column for k. */
static void
ref_bounds(const struct tw_conf_key *k, char *dst, size_t n)
{
	char a[40], b[40];

	dst[0] = '\0';
	if (!bounded(k))
		return;
	if (k->type == TW_CONF_INT) {
		snprintf(a, sizeof(a), "%" PRId64, k->min);
		snprintf(b, sizeof(b), "%" PRId64, k->max);
	} else if (k->type == TW_CONF_SIZE || k->type == TW_CONF_DURATION) {
		fmt_ubound(k, a, sizeof(a), (uint64_t)k->min);
		fmt_ubound(k, b, sizeof(b), (uint64_t)k->max);
	} else
		return;
	if (k->max == INT64_MAX)
		snprintf(dst, n, "at least %s", a);
	else if (k->type == TW_CONF_INT && k->min == INT64_MIN)
		snprintf(dst, n, "at most %s", b);
	else
		snprintf(dst, n, "%s to %s", a, b);
}

/* One table row for k at the current path, of variant vtype if any. */
static int
ref_row(struct tw_buf *out, const char *path, const struct tw_conf_key *k,
    const char *vtype)
{
	char type[512], bounds[100];
	int r;

	ref_type(k, type, sizeof(type));
	ref_bounds(k, bounds, sizeof(bounds));
	if ((r = tw_buf_addf(out, "| `%s`", path)) != 0)
		return r;
	if (vtype != NULL && (r = tw_buf_addf(out, " (type `%s`)", vtype)) != 0)
		return r;
	if ((r = tw_buf_adds(out, " | ")) != 0 || (r = md_cell(out, type)) != 0 ||
	    (r = tw_buf_adds(out, " | ")) != 0)
		return r;
	if (k->flags & TW_CONF_REQUIRED)
		r = tw_buf_adds(out, "required");
	else if (k->def != NULL && (r = tw_buf_adds(out, "`")) == 0 &&
	    (r = md_cell(out, k->def)) == 0)
		r = tw_buf_adds(out, "`");
	if (r != 0 || (r = tw_buf_adds(out, " | ")) != 0 ||
	    (r = md_cell(out, bounds)) != 0 ||
	    (r = tw_buf_addf(out, " | %s | ",
	    (k->flags & TW_CONF_RELOADABLE) ? "yes" : "no")) != 0 ||
	    (r = md_cell(out, k->desc)) != 0)
		return r;
	return tw_buf_adds(out, " |\n");
}

static int ref_keys(struct tw_buf *out, struct tw_buf *path,
    const struct tw_conf_key *keys, const char *vtype, int depth);

/* Rows for the keys under section or list k (path pushed). */
static int
ref_sub(struct tw_buf *out, struct tw_buf *path, const struct tw_conf_key *k,
    int depth)
{
	const struct tw_conf_variant *v;
	size_t old = path->len, tpos;
	int r;

	if (k->type == TW_CONF_LIST && (r = tw_buf_adds(path, "[]")) != 0)
		return r;
	if (k->sub != NULL)
		r = ref_keys(out, path, k->sub, NULL, depth + 1);
	else {
		/* One row for the discriminator, listing the types. */
		tpos = path_key(path, "type");
		r = tw_buf_addf(out, "| `%s` | one of",
		    path->data != NULL ? path->data : "");
		for (v = k->variants; r == 0 && v->type != NULL; v++)
			r = tw_buf_addf(out, "%s`%s`",
			    v == k->variants ? " " : ", ", v->type);
		if (r == 0)
			r = tw_buf_addf(out, " | required |  | %s | Selects "
			    "the kind; rows marked (type `x`) apply to that "
			    "kind only. |\n", (k->flags & TW_CONF_RELOADABLE) ?
			    "yes" : "no");
		path_pop(path, tpos);
		for (v = k->variants; r == 0 && v->type != NULL; v++)
			r = ref_keys(out, path, v->keys, v->type, depth + 1);
	}
	path_pop(path, old);
	return r;
}

/* Rows for keys, prefixed by path; vtype names their variant. */
static int
ref_keys(struct tw_buf *out, struct tw_buf *path,
    const struct tw_conf_key *keys, const char *vtype, int depth)
{
	size_t old;
	int r = 0;

	if (depth > TW_CONF_DEPTH_MAX || keys == NULL)
		return 0;
	for (const struct tw_conf_key *k = keys; k->name != NULL && r == 0;
	    k++) {
		/* The discriminator got its own row from ref_sub. */
		if (vtype != NULL && strcmp(k->name, "type") == 0)
			continue;
		old = path_key(path, k->name);
		r = ref_row(out, path->data != NULL ? path->data : "", k, vtype);
		if (r == 0 && (k->type == TW_CONF_SECTION ||
		    k->type == TW_CONF_LIST))
			r = ref_sub(out, path, k, depth);
		path_pop(path, old);
	}
	return r;
}

int
tw_conf_write_reference(struct tw_buf *out, const struct tw_conf_key *root,
    const char *title)
{
	struct tw_buf path;
	int r = 0;

	tw_buf_init(&path, PATH_LEN_MAX);
	if (title != NULL && (r = tw_buf_addf(out, "## %s\n\n", title)) != 0)
		goto out;
	if ((r = tw_buf_adds(out, "| Key | Type | Default | Bounds | "
	    "Reloadable | Description |\n|---|---|---|---|---|---|\n")) != 0)
		goto out;
	r = ref_keys(out, &path, root, NULL, 0);
out:
	tw_buf_cleanup(&path);
	return r;
}
