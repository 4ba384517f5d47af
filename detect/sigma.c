/* sigma.c: the Sigma phase-1 loader (RULES.md §13) into the native rule engine. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_load.h"
#include "sigma.h"
#include "value.h"

#define SIGMA_IDS_MAX 1024 /* search identifiers of one rule */

/* Logsource table (RULES.md §13). */
enum mapper { MAP_FIELDS, MAP_GCP, MAP_AUDITD, MAP_PROCESS, MAP_WEB };

static const struct {
	const char *product, *service, *category;
	unsigned kinds;
	const char *guard;
	enum mapper map;
	const char *kw_path;
} sources[] = {
	{ "kubernetes", "audit", NULL, 1u << TW_KIND_K8S_AUDIT, NULL,
	    MAP_FIELDS, "fields" },
	{ "kubernetes", "audit", "application", 1u << TW_KIND_K8S_AUDIT, NULL,
	    MAP_FIELDS, "fields" },
	{ "aws", "cloudtrail", NULL, 1u << TW_KIND_CLOUD_AUDIT,
	    "audit.kind = cloudtrail", MAP_FIELDS, "fields" },
	{ "gcp", "gcp.audit", NULL, 1u << TW_KIND_CLOUD_AUDIT,
	    "audit.kind = gcp_audit", MAP_GCP, "fields" },
	{ "linux", "auditd", NULL, 1u << TW_KIND_HOST_AUDIT, NULL, MAP_AUDITD,
	    "fields" },
	{ "linux", NULL, "process_creation", 1u << TW_KIND_HOST_AUDIT,
	    "audit.action = execve", MAP_PROCESS, "fields" },
	{ NULL, NULL, "webserver", (1u << TW_KIND_FILE) |
	    (1u << TW_KIND_CONTAINER), NULL, MAP_WEB, "message" },
};

static const struct {
	const char *from, *to;
} process_map[] = {
	{ "Image", "process.executable" },
	{ "CommandLine", "process.command_line" },
	{ "CurrentDirectory", "process.cwd" },
	{ "ProcessId", "process.pid" },
	{ "ParentProcessId", "process.ppid" },
	{ "User", "audit.actor.user" },
}, web_map[] = {
	{ "cs-method", "http.method" },
	{ "c-uri", "http.url" },
	{ "cs-uri-query", "http.url" },
	{ "cs-uri-stem", "http.url" },
	{ "sc-status", "http.status" },
	{ "c-useragent", "http.user_agent" },
	{ "cs-user-agent", "http.user_agent" },
	{ "c-ip", "http.remote_ip" },
	{ "cs-referer", "http.referrer" },
};

static const char *const supported_mods[] = { "contains", "startswith",
	"endswith", "all", "re", "i", "m", "s", "cidr", "exists", "gt", "gte",
	"lt", "lte", "cased", "neq", NULL };

static int refuse(char **why, const struct tw_ynode **where,
    const struct tw_ynode *n, const char *fmt, ...) TW_PRINTF(4, 5);

static int
refuse(char **why, const struct tw_ynode **where, const struct tw_ynode *n,
    const char *fmt, ...)
{
	va_list ap;

	if (where != NULL && n != NULL)
		*where = n;
	if (why != NULL) {
		va_start(ap, fmt);
		if (vasprintf(why, fmt, ap) == -1)
			*why = NULL;
		va_end(ap);
	}
	return TW_EUNSUPPORTED;
}

bool
tw_sigma_is(const struct tw_ynode *root)
{
	return tw_ymap_get(root, "detection") != NULL;
}

static const char *
scalar_text(const struct tw_ynode *n)
{
	return n != NULL && n->kind == TW_Y_SCALAR && !tw_ynull(n) ? n->text :
	    NULL;
}

static bool
streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
tw_sigma_meta(struct tw_arena *a, const char *file,
    const struct tw_ynode *root, struct tw_sigma_meta *meta,
    const struct tw_ynode **where, char **why)
{
	static const char *const levels[] = { "informational", "low", "medium",
	    "high", "critical", NULL };
	const struct tw_ynode *ls, *n, *tags;
	const char *s, *base;
	size_t i;

	memset(meta, 0, sizeof(*meta));
	if ((n = tw_ymap_get(root, "correlation")) != NULL)
		return refuse(why, where, n, "Sigma correlation rules are "
		    "phase 2 (the threshold engine); not supported");
	if ((s = scalar_text(tw_ymap_get(root, "id"))) != NULL) {
		if ((meta->id = tw_arena_strndup(a, s, strlen(s))) == NULL)
			return TW_ENOMEM;
	} else {
		char *id;

		base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
		if (asprintf(&id, "sigma:%s", base) == -1)
			return TW_ENOMEM;
		if ((s = strrchr(id, '.')) != NULL && s > id + 6)
			id[s - id] = '\0';
		meta->id = tw_arena_strndup(a, id, strlen(id));
		free(id);
		if (meta->id == NULL)
			return TW_ENOMEM;
	}
	if ((s = scalar_text(tw_ymap_get(root, "title"))) == NULL)
		return refuse(why, where, root, "Sigma rule without a title");
	if ((meta->title = tw_arena_strndup(a, s, strlen(s))) == NULL)
		return TW_ENOMEM;
	meta->severity = "medium";
	if ((n = tw_ymap_get(root, "level")) != NULL &&
	    (s = scalar_text(n)) != NULL) {
		for (i = 0; levels[i] != NULL; i++)
			if (strcmp(levels[i], s) == 0)
				break;
		if (levels[i] == NULL)
			return refuse(why, where, n, "unknown Sigma level '%s'",
			    s);
		meta->severity = levels[i];
	}
	if ((tags = tw_ymap_get(root, "tags")) != NULL &&
	    tags->kind == TW_Y_SEQ && tags->n > 0) {
		if ((meta->tags = tw_arena_alloc(a, tags->n *
		    sizeof(*meta->tags))) == NULL)
			return TW_ENOMEM;
		for (i = 0; i < tags->n; i++) {
			if (tags->kids[i]->kind != TW_Y_SCALAR)
				return refuse(why, where, tags->kids[i],
				    "Sigma tags must be scalars");
			if ((meta->tags[meta->ntags++] = tw_arena_strndup(a,
			    tags->kids[i]->text, tags->kids[i]->len)) == NULL)
				return TW_ENOMEM;
		}
	}
	ls = tw_ymap_get(root, "logsource");
	if (ls == NULL || ls->kind != TW_Y_MAP)
		return refuse(why, where, ls != NULL ? ls : root,
		    "Sigma rule without a logsource mapping");
	meta->product = scalar_text(tw_ymap_get(ls, "product"));
	meta->service = scalar_text(tw_ymap_get(ls, "service"));
	meta->category = scalar_text(tw_ymap_get(ls, "category"));
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (streq(sources[i].product, meta->product) &&
		    streq(sources[i].service, meta->service) &&
		    streq(sources[i].category, meta->category))
			break;
	}
	if (i == sizeof(sources) / sizeof(sources[0]))
		return refuse(why, where, ls, "no logsource mapping for product "
		    "%s, service %s, category %s",
		    meta->product != NULL ? meta->product : "-",
		    meta->service != NULL ? meta->service : "-",
		    meta->category != NULL ? meta->category : "-");
	meta->kinds = sources[i].kinds;
	meta->guard = sources[i].guard;
	meta->kw_path = sources[i].kw_path;
	return 0;
}

/* ---- detection ---- */

struct sctx {
	struct tw_compiler *c;
	struct tw_arena *a;
	const struct tw_sigma_meta *meta;
	enum mapper map;
	const struct tw_ynode **where;
	char **why;
};

static bool
py_isupper(const char *s)
{
	bool cased = false;

	for (; *s != '\0'; s++) {
		if (*s >= 'a' && *s <= 'z')
			return false;
		if (*s >= 'A' && *s <= 'Z')
			cased = true;
	}
	return cased;
}

/* The record path of Sigma field f, or NULL when it has no mapping. */
static char *
map_field(const struct sctx *x, const char *f)
{
	char *p = NULL;

	switch (x->map) {
	case MAP_GCP:
		if (strcmp(f, "gcp.audit.method_name") == 0)
			return strdup("audit.action");
		/* FALLTHROUGH */
	case MAP_FIELDS:
		if (asprintf(&p, "fields.%s", f) == -1)
			p = NULL;
		return p;
	case MAP_AUDITD:
		if (strcmp(f, "type") == 0)
			return strdup("fields.records.type");
		if (asprintf(&p, py_isupper(f) ? "fields.records.enriched.%s" :
		    "fields.records.fields.%s", f) == -1)
			p = NULL;
		return p;
	case MAP_PROCESS:
		for (size_t i = 0; i < sizeof(process_map) /
		    sizeof(process_map[0]); i++)
			if (strcmp(f, process_map[i].from) == 0)
				return strdup(process_map[i].to);
		return NULL;
	case MAP_WEB:
		for (size_t i = 0; i < sizeof(web_map) / sizeof(web_map[0]); i++)
			if (strcmp(f, web_map[i].from) == 0)
				return strdup(web_map[i].to);
		return NULL;
	}
	return NULL;
}

static struct tw_node *
const_node(struct sctx *x, bool v)
{
	struct tw_node *n = tw_node_new(x->c, TW_NODE_CONST, NULL, 0);

	if (n != NULL)
		n->value = v;
	return n;
}

static int
wrap(struct sctx *x, enum tw_node_kind kind, struct tw_node **kids, size_t n,
    struct tw_node **out)
{
	if (kind == TW_NODE_NOT || n != 1)
		*out = tw_node_new(x->c, kind, kids, n);
	else
		*out = kids[0];
	return *out != NULL ? 0 : TW_ENOMEM;
}

/* A keyword search: case-insensitive substrings of the rule's text field. */
static int
keywords(struct sctx *x, const struct tw_ynode *const *items, size_t n,
    struct tw_node **out)
{
	struct tw_scalar *v;
	char *why = NULL;
	int r;

	if (n == 0)
		return (*out = const_node(x, false)) != NULL ? 0 : TW_ENOMEM;
	if ((v = tw_arena_alloc(x->a, n * sizeof(*v))) == NULL)
		return TW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (items[i]->kind != TW_Y_SCALAR)
			return refuse(x->why, x->where, items[i],
			    "unsupported nested value in a Sigma keyword list");
		v[i].kind = TW_SCALAR_STR;
		if ((v[i].s = tw_ypystr(items[i], x->a, &v[i].n)) == NULL)
			return TW_ENOMEM;
	}
	r = tw_compile_pred(x->c, TW_Q_LEAVES, TW_OP_ICONTAINS,
	    x->meta->kw_path, v, n, 0, out, &why);
	if (r == TW_EPARSE)
		r = refuse(x->why, x->where, items[0], "%s", why != NULL ? why :
		    "bad keyword");
	free(why);
	return r;
}

/* re.sub(r"\\([*?\\])", r"\1", s) */
static char *
unescape_wild(struct tw_arena *a, const char *s, size_t n, size_t *len)
{
	char *t;
	size_t k = 0;

	if ((t = tw_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '*' ||
		    s[i + 1] == '?' || s[i + 1] == '\\'))
			i++;
		t[k++] = s[i];
	}
	t[k] = '\0';
	*len = k;
	return t;
}

/* Sigma wildcards to a glob: \* \? \\ literal, [ as a class. */
static char *
sigma_glob(struct tw_arena *a, const char *s, size_t n, size_t *len)
{
	char *t;
	size_t k = 0;

	if (n > SIZE_MAX / 3 - 1 || (t = tw_arena_alloc(a, 3 * n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '*' ||
		    s[i + 1] == '?' || s[i + 1] == '\\')) {
			char lit = s[++i];

			if (lit == '\\')
				t[k++] = lit;
			else {
				t[k++] = '[';
				t[k++] = lit;
				t[k++] = ']';
			}
			continue;
		}
		if (s[i] == '[') {
			memcpy(t + k, "[[]", 3);
			k += 3;
			continue;
		}
		t[k++] = s[i];
	}
	t[k] = '\0';
	*len = k;
	return t;
}

static bool
has_wildcard(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] == '*' || s[i] == '?') && (i == 0 || s[i - 1] != '\\'))
			return true;
	return false;
}

static bool
has_mod(char *const *mods, size_t nm, const char *m)
{
	for (size_t i = 0; i < nm; i++)
		if (strcmp(mods[i], m) == 0)
			return true;
	return false;
}

static int
pred1(struct sctx *x, const struct tw_ynode *at, const char *path,
    enum tw_op op, const struct tw_scalar *v, unsigned rxflags,
    struct tw_node **out)
{
	char *why = NULL;
	int r;

	r = tw_compile_pred(x->c, TW_Q_ANY, op, path, v, v != NULL ? 1 : 0,
	    rxflags, out, &why);
	if (r == TW_EPARSE)
		r = refuse(x->why, x->where, at, "%s", why != NULL ? why :
		    "bad value");
	free(why);
	return r;
}

static bool
truthy(const struct tw_scalar *v)
{
	switch (v->kind) {
	case TW_SCALAR_BOOL:
		return v->b;
	case TW_SCALAR_INT:
	case TW_SCALAR_FLOAT:
		return v->d != 0;
	default:
		return v->n > 0;
	}
}

/* One value of a field selection (the oracle's sigma_value_pred). */
static int
value_pred(struct sctx *x, const char *path, char *const *mods, size_t nm,
    const struct tw_ynode *val, struct tw_node **out)
{
	static const struct {
		const char *mod;
		enum tw_op op, iop;
	} strops[] = {
		{ "contains", TW_OP_CONTAINS, TW_OP_ICONTAINS },
		{ "startswith", TW_OP_STARTSWITH, TW_OP_ISTARTSWITH },
		{ "endswith", TW_OP_ENDSWITH, TW_OP_IENDSWITH },
	}, numops[] = {
		{ "gt", TW_OP_GT, TW_OP_GT }, { "gte", TW_OP_GE, TW_OP_GE },
		{ "lt", TW_OP_LT, TW_OP_LT }, { "lte", TW_OP_LE, TW_OP_LE },
	};
	bool cased = has_mod(mods, nm, "cased"), neg = has_mod(mods, nm, "neq");
	struct tw_scalar v, s;
	struct tw_node *p;
	double d;
	int r;

	if (val->kind != TW_Y_SCALAR)
		return refuse(x->why, x->where, val,
		    "unsupported Sigma value (a nested list or mapping)");
	if (tw_ynull(val)) {
		if ((r = pred1(x, val, path, TW_OP_EXISTS, NULL, 0, &p)) != 0)
			return r;
		return wrap(x, TW_NODE_NOT, &p, 1, out);
	}
	if ((r = tw_yscalar(val, x->a, &v)) != 0)
		return r == TW_EINVAL ? refuse(x->why, x->where, val,
		    "unsupported Sigma value '%s'", val->text) : r;
	memset(&s, 0, sizeof(s));
	s.kind = TW_SCALAR_STR;
	if ((s.s = tw_ypystr(val, x->a, &s.n)) == NULL)
		return TW_ENOMEM;
	if (has_mod(mods, nm, "exists")) {
		if ((r = pred1(x, val, path, TW_OP_EXISTS, NULL, 0, &p)) != 0)
			return r;
		return truthy(&v) ? wrap(x, TW_NODE_AND, &p, 1, out) :
		    wrap(x, TW_NODE_NOT, &p, 1, out);
	}
	if (has_mod(mods, nm, "re"))
		return pred1(x, val, path, TW_OP_REGEX, &s,
		    (has_mod(mods, nm, "i") ? TW_RX_CASELESS : 0) |
		    (has_mod(mods, nm, "m") ? TW_RX_MULTILINE : 0) |
		    (has_mod(mods, nm, "s") ? TW_RX_DOTALL : 0), out);
	if (has_mod(mods, nm, "cidr"))
		return pred1(x, val, path, TW_OP_CIDR, &s, 0, out);
	for (size_t i = 0; i < sizeof(numops) / sizeof(numops[0]); i++) {
		if (!has_mod(mods, nm, numops[i].mod))
			continue;
		/* A value without a numeric view never compares. */
		if (v.kind == TW_SCALAR_BOOL || (v.kind == TW_SCALAR_STR &&
		    !tw_num_parse(v.s, v.n, &d)))
			return (*out = const_node(x, false)) != NULL ? 0 :
			    TW_ENOMEM;
		return pred1(x, val, path, numops[i].op, &v, 0, out);
	}
	if (v.kind != TW_SCALAR_STR) {
		if ((r = pred1(x, val, path, TW_OP_EQ, &v, 0, &p)) != 0)
			return r;
		return wrap(x, neg ? TW_NODE_NOT : TW_NODE_AND, &p, 1, out);
	}
	for (size_t i = 0; i < sizeof(strops) / sizeof(strops[0]); i++) {
		if (!has_mod(mods, nm, strops[i].mod))
			continue;
		if ((s.s = unescape_wild(x->a, v.s, v.n, &s.n)) == NULL)
			return TW_ENOMEM;
		return pred1(x, val, path, cased ? strops[i].op : strops[i].iop,
		    &s, 0, out);
	}
	if (has_wildcard(v.s, v.n)) {
		if ((s.s = sigma_glob(x->a, v.s, v.n, &s.n)) == NULL)
			return TW_ENOMEM;
		return pred1(x, val, path, cased ? TW_OP_GLOB : TW_OP_IGLOB, &s,
		    0, out);
	}
	if ((s.s = unescape_wild(x->a, v.s, v.n, &s.n)) == NULL)
		return TW_ENOMEM;
	if ((r = pred1(x, val, path, cased ? TW_OP_EQ : TW_OP_IEQ, &s, 0,
	    &p)) != 0)
		return r;
	return wrap(x, neg ? TW_NODE_NOT : TW_NODE_AND, &p, 1, out);
}

static int search_id(struct sctx *x, const struct tw_ynode *body,
    struct tw_node **out, int depth);

/* One "field|mod|mod: value(s)" entry of a selection map. */
static int
field_entry(struct sctx *x, const struct tw_ynode *key,
    const struct tw_ynode *val, struct tw_node **out)
{
	char *copy = NULL, *mods[32], *field, *path = NULL, *save = NULL;
	const struct tw_ynode *const *vals = &val;
	struct tw_node **preds = NULL;
	size_t nm = 0, nv = 1;
	bool all;
	int r = 0;

	if ((copy = strdup(key->text)) == NULL)
		return TW_ENOMEM;
	field = copy;
	if ((save = strchr(copy, '|')) != NULL) {
		*save++ = '\0';
		for (char *m = strtok(save, "|"); m != NULL;
		    m = strtok(NULL, "|")) {
			size_t k;

			if (nm == 32) {
				r = refuse(x->why, x->where, key,
				    "too many Sigma modifiers");
				goto out;
			}
			for (k = 0; supported_mods[k] != NULL; k++)
				if (strcmp(supported_mods[k], m) == 0)
					break;
			if (supported_mods[k] == NULL) {
				r = refuse(x->why, x->where, key,
				    "unsupported Sigma modifier '%s'", m);
				goto out;
			}
			mods[nm++] = m;
		}
	}
	all = has_mod(mods, nm, "all");
	if (val->kind == TW_Y_SEQ) {
		vals = (const struct tw_ynode *const *)val->kids;
		nv = val->n;
	}
	if (field[0] == '\0') {
		/* '|all': [...] and plain keyword lists */
		for (size_t i = 0; i < nm; i++)
			if (strcmp(mods[i], "all") != 0) {
				r = refuse(x->why, x->where, key, "unsupported "
				    "keyword modifier '%s'", mods[i]);
				goto out;
			}
		if ((preds = calloc(nv != 0 ? nv : 1, sizeof(*preds))) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nv; i++)
			if ((r = keywords(x, &vals[i], 1, &preds[i])) != 0)
				goto out;
		r = wrap(x, all ? TW_NODE_AND : TW_NODE_OR, preds, nv, out);
		goto out;
	}
	if ((path = map_field(x, field)) == NULL) {
		r = refuse(x->why, x->where, key, "no field mapping for %s "
		    "(logsource %s/%s/%s)", field,
		    x->meta->product != NULL ? x->meta->product : "-",
		    x->meta->service != NULL ? x->meta->service : "-",
		    x->meta->category != NULL ? x->meta->category : "-");
		goto out;
	}
	if ((preds = calloc(nv != 0 ? nv : 1, sizeof(*preds))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nv; i++)
		if ((r = value_pred(x, path, mods, nm, vals[i], &preds[i])) != 0)
			goto out;
	r = wrap(x, all ? TW_NODE_AND : TW_NODE_OR, preds, nv, out);
out:
	free(preds);
	free(path);
	free(copy);
	return r;
}

static int
search_id(struct sctx *x, const struct tw_ynode *body, struct tw_node **out,
    int depth)
{
	struct tw_node **kids = NULL;
	bool plain = true;
	size_t n;
	int r = 0;

	if (depth > 16)
		return refuse(x->why, x->where, body, "Sigma detection nested "
		    "too deeply");
	if (body->kind == TW_Y_SCALAR)
		return keywords(x, (const struct tw_ynode *const *)&body, 1, out);
	n = body->kind == TW_Y_MAP ? body->n / 2 : body->n;
	if ((kids = calloc(n != 0 ? n : 1, sizeof(*kids))) == NULL)
		return TW_ENOMEM;
	if (body->kind == TW_Y_SEQ) {
		for (size_t i = 0; i < n; i++)
			if (body->kids[i]->kind == TW_Y_MAP)
				plain = false;
		if (plain) {
			r = keywords(x, (const struct tw_ynode *const *)body->kids,
			    n, out);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if ((r = search_id(x, body->kids[i], &kids[i],
			    depth + 1)) != 0)
				goto out;
		r = wrap(x, TW_NODE_OR, kids, n, out);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = field_entry(x, body->kids[2 * i], body->kids[2 * i + 1],
		    &kids[i])) != 0)
			goto out;
	if (n == 0)
		r = (*out = const_node(x, true)) != NULL ? 0 : TW_ENOMEM;
	else
		r = wrap(x, TW_NODE_AND, kids, n, out);
out:
	free(kids);
	return r;
}

/* ---- the condition ---- */

struct scond {
	struct sctx *x;
	const struct tw_ynode *at;
	char **toks;
	size_t ntoks, pos;
	const char **names;
	struct tw_node **asts;
	size_t nids;
	int depth;
};

static const char *
speek(struct scond *s)
{
	return s->pos < s->ntoks ? s->toks[s->pos] : NULL;
}

static bool
speek_is(struct scond *s, const char *w)
{
	return speek(s) != NULL && strcmp(speek(s), w) == 0;
}

static int s_or(struct scond *s, struct tw_node **out);

static int
s_prim(struct scond *s, struct tw_node **out)
{
	struct tw_node **kids;
	const char *t = speek(s), *pat;
	size_t n = 0;
	bool one;
	int r;

	if (t == NULL)
		return refuse(s->x->why, s->x->where, s->at,
		    "Sigma condition ends too early");
	s->pos++;
	if (strcmp(t, "(") == 0) {
		if ((r = s_or(s, out)) != 0)
			return r;
		if (!speek_is(s, ")"))
			return refuse(s->x->why, s->x->where, s->at,
			    "Sigma condition: expected )");
		s->pos++;
		return 0;
	}
	if ((strcmp(t, "1") == 0 || strcmp(t, "all") == 0) &&
	    speek_is(s, "of")) {
		one = t[0] == '1';
		s->pos++;
		if ((pat = speek(s)) == NULL)
			return refuse(s->x->why, s->x->where, s->at,
			    "Sigma condition: '%s of' without a pattern", t);
		s->pos++;
		if ((kids = calloc(s->nids != 0 ? s->nids : 1,
		    sizeof(*kids))) == NULL)
			return TW_ENOMEM;
		for (size_t i = 0; i < s->nids; i++) {
			bool m = strcmp(pat, "them") == 0 ? s->names[i][0] != '_' :
			    tw_glob_match(pat, strlen(pat), s->names[i],
			    strlen(s->names[i]));

			if (m)
				kids[n++] = s->asts[i];
		}
		if (n == 0)
			r = refuse(s->x->why, s->x->where, s->at, "no search "
			    "identifier matches %s", pat);
		else
			r = wrap(s->x, one ? TW_NODE_OR : TW_NODE_AND, kids, n,
			    out);
		free(kids);
		return r;
	}
	for (size_t i = 0; i < s->nids; i++)
		if (strcmp(s->names[i], t) == 0) {
			*out = s->asts[i];
			return 0;
		}
	return refuse(s->x->why, s->x->where, s->at,
	    "unknown search identifier %s", t);
}

static int
s_not(struct scond *s, struct tw_node **out)
{
	struct tw_node *k;
	int r;

	if (!speek_is(s, "not"))
		return s_prim(s, out);
	s->pos++;
	if (++s->depth > TW_EXPR_DEPTH_MAX)
		return refuse(s->x->why, s->x->where, s->at,
		    "Sigma condition nested too deeply");
	r = s_not(s, &k);
	s->depth--;
	if (r != 0)
		return r;
	return wrap(s->x, TW_NODE_NOT, &k, 1, out);
}

static int
s_list(struct scond *s, const char *word, enum tw_node_kind kind,
    int (*sub)(struct scond *, struct tw_node **), struct tw_node **out)
{
	struct tw_node **kids = NULL, **nk;
	size_t n = 0;
	int r;

	if (++s->depth > TW_EXPR_DEPTH_MAX)
		return refuse(s->x->why, s->x->where, s->at,
		    "Sigma condition nested too deeply");
	for (;;) {
		if ((nk = realloc(kids, (n + 1) * sizeof(*kids))) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		kids = nk;
		if ((r = sub(s, &kids[n])) != 0)
			goto out;
		n++;
		if (!speek_is(s, word))
			break;
		s->pos++;
	}
	r = wrap(s->x, kind, kids, n, out);
out:
	s->depth--;
	free(kids);
	return r;
}

static int
s_and(struct scond *s, struct tw_node **out)
{
	return s_list(s, "and", TW_NODE_AND, s_not, out);
}

static int
s_or(struct scond *s, struct tw_node **out)
{
	return s_list(s, "or", TW_NODE_OR, s_and, out);
}

/* Split a condition into ( ) and runs of other non-space characters. */
static int
tokenize(const char *c, char ***toks, size_t *n)
{
	char **t = NULL, **nt;
	size_t k = 0;

	while (*c != '\0') {
		size_t len;

		if (*c == ' ' || (*c >= '\t' && *c <= '\r')) {
			c++;
			continue;
		}
		if (*c == '(' || *c == ')')
			len = 1;
		else
			for (len = 0; c[len] != '\0' && c[len] != '(' &&
			    c[len] != ')' && c[len] != ' ' &&
			    !(c[len] >= '\t' && c[len] <= '\r'); len++)
				;
		if (k >= 4096 || (nt = realloc(t, (k + 1) * sizeof(*t))) == NULL)
			goto fail;
		t = nt;
		if ((t[k] = strndup(c, len)) == NULL)
			goto fail;
		k++;
		c += len;
	}
	*toks = t;
	*n = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		free(t[i]);
	free(t);
	return k >= 4096 ? TW_ELIMIT : TW_ENOMEM;
}

int
tw_sigma_compile(struct tw_compiler *c, struct tw_arena *a,
    const struct tw_ynode *root, const struct tw_sigma_meta *meta,
    struct tw_node **out, const struct tw_ynode **where, char **why)
{
	struct sctx x = { c, a, meta, MAP_FIELDS, where, why };
	const struct tw_ynode *det, *cn = NULL;
	struct scond s;
	struct tw_buf cond;
	struct tw_node *ast, *guard, *both[2];
	char *gwhy = NULL;
	long off;
	int r = 0;

	memset(&s, 0, sizeof(s));
	tw_buf_init(&cond, 1 << 20);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (streq(sources[i].product, meta->product) &&
		    streq(sources[i].service, meta->service) &&
		    streq(sources[i].category, meta->category))
			x.map = sources[i].map;
	det = tw_ymap_get(root, "detection");
	if (det == NULL || det->kind != TW_Y_MAP) {
		r = refuse(why, where, det != NULL ? det : root,
		    "Sigma detection must be a mapping");
		goto out;
	}
	s.x = &x;
	if ((s.names = calloc(det->n / 2 + 1, sizeof(*s.names))) == NULL ||
	    (s.asts = calloc(det->n / 2 + 1, sizeof(*s.asts))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i + 1 < det->n; i += 2) {
		const struct tw_ynode *k = det->kids[i], *v = det->kids[i + 1];

		if (strcmp(k->text, "condition") == 0) {
			cn = v;
			continue;
		}
		if (strcmp(k->text, "timeframe") == 0)
			continue;
		if (s.nids == SIGMA_IDS_MAX) {
			r = refuse(why, where, k, "too many search identifiers");
			goto out;
		}
		s.names[s.nids] = k->text;
		if ((r = search_id(&x, v, &s.asts[s.nids], 0)) != 0)
			goto out;
		s.nids++;
	}
	if (cn == NULL) {
		r = refuse(why, where, det, "Sigma detection without a condition");
		goto out;
	}
	s.at = cn;
	if (cn->kind == TW_Y_SEQ) {
		for (size_t i = 0; i < cn->n; i++) {
			if (cn->kids[i]->kind != TW_Y_SCALAR) {
				r = refuse(why, where, cn->kids[i],
				    "Sigma condition must be text");
				goto out;
			}
			if ((r = tw_buf_addf(&cond, "%s(%s)", i > 0 ? " or " : "",
			    cn->kids[i]->text)) != 0)
				goto out;
		}
	} else if (cn->kind == TW_Y_SCALAR)
		r = tw_buf_adds(&cond, cn->text);
	else
		r = refuse(why, where, cn, "Sigma condition must be text");
	if (r != 0)
		goto out;
	if (cond.data == NULL || strchr(cond.data, '|') != NULL) {
		r = refuse(why, where, cn, cond.data == NULL ?
		    "empty Sigma condition" :
		    "Sigma v1 aggregation ('|') in the condition is not "
		    "supported");
		goto out;
	}
	if ((r = tokenize(cond.data, &s.toks, &s.ntoks)) != 0) {
		if (r == TW_ELIMIT)
			r = refuse(why, where, cn, "Sigma condition too long");
		goto out;
	}
	if ((r = s_or(&s, &ast)) != 0)
		goto out;
	if (s.pos != s.ntoks) {
		r = refuse(why, where, cn, "Sigma condition: unexpected '%s'",
		    s.toks[s.pos]);
		goto out;
	}
	if (meta->guard != NULL) {
		if ((r = tw_compile_condition(c, meta->guard,
		    strlen(meta->guard), &guard, &gwhy, &off)) != 0) {
			if (r == TW_EPARSE)
				r = refuse(why, where, root, "%s", gwhy);
			goto out;
		}
		both[0] = guard;
		both[1] = ast;
		if ((ast = tw_node_new(c, TW_NODE_AND, both, 2)) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
	}
	*out = ast;
out:
	for (size_t i = 0; i < s.ntoks; i++)
		free(s.toks[i]);
	free(s.toks);
	free(s.names);
	free(s.asts);
	free(gwhy);
	tw_buf_cleanup(&cond);
	return r;
}
