/* rules_load.c: rule packs, overlays and Sigma files into compiled rules (RULES.md §2, §6, §10). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ops.h"
#include "rules_load.h"
#include "sigma.h"
#include "template.h"
#include "value.h"
#include "ytree.h"

#define RULES_ARENA_MAX ((size_t)1 << 30)
#define FILES_MAX 10000
#define DIR_DEPTH_MAX 16
#define FILTERS_MAX 64 /* filters selecting one rule */

static const char *const kind_names[TW_KIND_COUNT] = {
	"container", "k8s_audit", "faas", "cloud_audit", "host_audit",
	"syslog", "file",
};

static const char *const top_level_keys[] = { "time", "observed_time", "id",
	"source", "message", "raw", "level", "stream", "parts", "incomplete",
	"lines", "k8s", "container", "host", "cloud", "faas", "trace",
	"process", "http", "user", "error", "audit", "syslog", "labels",
	"fields", NULL };

static const char *const severities[] = { "informational", "low", "medium",
	"high", "critical", NULL };

static const char *const rule_keys[] = { "id", "title", "description",
	"source", "severity", "tags", "condition", "exceptions", "output",
	"fields", "throttle", "threshold", "enabled", "references",
	"falsepositives", "author", "status", NULL };

static const char *const pack_keys[] = { "version", "lists", "aliases",
	"macros", "rules", NULL };

int
tw_kind_parse(const char *s, size_t n)
{
	for (int i = 0; i < TW_KIND_COUNT; i++)
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], s, n) == 0)
			return i;
	return -1;
}

const char *
tw_kind_name(enum tw_kind k)
{
	return (unsigned)k < TW_KIND_COUNT ? kind_names[k] : "?";
}

int
tw_duration_parse(const char *s, size_t n, int64_t *ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = { { "ms", 1000000LL }, { "s", 1000000000LL },
	    { "m", 60000000000LL }, { "h", 3600000000000LL },
	    { "d", 86400000000000LL } };
	size_t d = 0;
	int64_t v = 0;

	if (n == 0 || s[0] < '1' || s[0] > '9')
		return TW_EINVAL;
	while (d < n && s[d] >= '0' && s[d] <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return TW_EINVAL;
		v = v * 10 + (s[d] - '0');
		d++;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].unit) == n - d &&
		    memcmp(units[i].unit, s + d, n - d) == 0) {
			if (v > INT64_MAX / units[i].ns)
				return TW_EINVAL;
			*ns = v * units[i].ns;
			return 0;
		}
	}
	return TW_EINVAL;
}

static bool
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static bool
valid_name(const char *s)
{
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	    s[0] == '_'))
		return false;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* ---- the loader's state ---- */

enum fkind { F_EMPTY, F_PACK, F_OVERLAY, F_SIGMA };

struct lfile {
	char *path;
	char *text;
	size_t len;
	struct tw_ynode *root;
	enum fkind kind;
};

/* A value node with the file it came from. */
struct src {
	const char *file;
	const struct tw_ynode *n;
};

/* Exception rows appended by an overlay. */
struct app {
	const char *name;
	struct src rows;
};

struct rdesc {
	const char *file;
	const struct tw_ynode *node; /* native: the rule mapping */
	const char *id;
	bool id_str;                 /* the id was a YAML string */
	struct src en, sev, out, tt; /* overlay overrides (n NULL: none) */
	bool tt_removed;
	struct app *apps;
	size_t napps;
	bool sigma;
	bool sigma_refused;
	struct tw_sigma_meta meta;
};

struct filt {
	const char *file;
	const struct tw_ynode *node, *rules, *cond;
	const char *id;
	struct tw_node *ast;
	bool bad;
};

enum symkind { SYM_LIST, SYM_ALIAS, SYM_MACRO };

struct symdef {
	const char *name;
	enum symkind kind;
	struct src at;
};

struct loader {
	unsigned flags;
	struct tw_conf_diag *d, *w;
	struct tw_rules *out;
	struct lfile *files;
	size_t nfiles, capfiles;
	struct rdesc *rd;
	size_t nrd, caprd;
	struct filt *flt;
	size_t nflt, capflt;
	struct symdef *defs;
	size_t ndefs, capdefs;
	struct tw_compiler *c;
	struct tw_rule **rules;
	size_t nrules, caprules;
	size_t errors;
	int fatal; /* TW_ENOMEM */
};

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

struct loader;
static void vdiag(struct loader *L, bool warn, const char *file, int line,
    int col, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static void lerr(struct loader *L, const char *file, const struct tw_ynode *n,
    const char *fmt, ...) TW_PRINTF(4, 5);
static void lwarn(struct loader *L, const char *file,
    const struct tw_ynode *n, const char *fmt, ...) TW_PRINTF(4, 5);
static void lerr_off(struct loader *L, const char *file,
    const struct tw_ynode *n, long off, const char *fmt, ...) TW_PRINTF(5, 6);

static void
vdiag(struct loader *L, bool warn, const char *file, int line, int col,
    const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) == -1) {
		L->fatal = TW_ENOMEM;
		return;
	}
	if (!warn) {
		L->errors++;
		tw_conf_diag_add(L->d, file, line, col, "%s", msg);
	} else if (L->w != NULL)
		tw_conf_diag_add(L->w, file, line, col, "warning: %s", msg);
	free(msg);
}

/* An error at node n of file (n NULL: the file itself). */
static void
lerr(struct loader *L, const char *file, const struct tw_ynode *n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(L, false, file, n != NULL ? n->line : 0, n != NULL ? n->col : 0,
	    fmt, ap);
	va_end(ap);
}

static void
lwarn(struct loader *L, const char *file, const struct tw_ynode *n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(L, true, file, n != NULL ? n->line : 0, n != NULL ? n->col : 0,
	    fmt, ap);
	va_end(ap);
}

/* An error at byte off of scalar n's text, when the source shows it as is. */
static void
lerr_off(struct loader *L, const char *file, const struct tw_ynode *n,
    long off, const char *fmt, ...)
{
	int col = n->col;
	va_list ap;

	if (off >= 0 && n->verbatim && (size_t)off <= n->len) {
		size_t len;

		col += n->style != TW_YS_PLAIN;
		for (size_t i = 0; i < (size_t)off; i += len, col++)
			tw_utf8_next(n->text + i, n->len - i, &len);
	}
	va_start(ap, fmt);
	vdiag(L, false, file, n->line, col, fmt, ap);
	va_end(ap);
}

static bool
oom(struct loader *L, int r)
{
	if (r == TW_ENOMEM)
		L->fatal = TW_ENOMEM;
	return r == TW_ENOMEM;
}

/* A non-null scalar, or NULL. */
static const struct tw_ynode *
scalar(const struct tw_ynode *n)
{
	return n != NULL && n->kind == TW_Y_SCALAR && !tw_ynull(n) ? n : NULL;
}

static char *
sdup(struct loader *L, const struct tw_ynode *n)
{
	char *s = tw_arena_strndup(L->out->a, n->text, n->len);

	if (s == NULL)
		L->fatal = TW_ENOMEM;
	return s;
}

/* ---- files ---- */

static int
add_file(struct loader *L, const char *path)
{
	if (L->nfiles >= FILES_MAX) {
		lerr(L, path, NULL, "more than %d rule files", FILES_MAX);
		return 0;
	}
	if (grow((void **)&L->files, &L->capfiles, L->nfiles,
	    sizeof(*L->files)) != 0)
		return TW_ENOMEM;
	memset(&L->files[L->nfiles], 0, sizeof(L->files[0]));
	if ((L->files[L->nfiles].path = strdup(path)) == NULL)
		return TW_ENOMEM;
	L->nfiles++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
yaml_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) ||
	    (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

static int
collect(struct loader *L, const char *path, int depth)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, *full;
	size_t n = 0, cap = 0;
	DIR *dir;
	int r = 0;

	if (stat(path, &st) == -1) {
		lerr(L, path, NULL, "cannot read: %s", strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return add_file(L, path);
	if (depth > DIR_DEPTH_MAX) {
		lerr(L, path, NULL, "directories nested too deeply");
		return 0;
	}
	if ((dir = opendir(path)) == NULL) {
		lerr(L, path, NULL, "cannot read: %s", strerror(errno));
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&full, "%s/%s", path, de->d_name) == -1 ||
		    grow((void **)&names, &cap, n, sizeof(*names)) != 0) {
			r = TW_ENOMEM;
			break;
		}
		names[n++] = full;
	}
	closedir(dir);
	if (r == 0 && n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISDIR(st.st_mode))
			r = collect(L, names[i], depth + 1);
		else if (yaml_name(names[i]))
			r = add_file(L, names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int
read_file(struct loader *L, struct lfile *f)
{
	struct tw_buf b;
	char chunk[65536];
	size_t got;
	FILE *fp;
	int r = 0;

	if ((fp = fopen(f->path, "rb")) == NULL) {
		lerr(L, f->path, NULL, "cannot read: %s", strerror(errno));
		return (f->text = strdup("")) == NULL ? TW_ENOMEM : 0;
	}
	tw_buf_init(&b, TW_YTREE_FILE_MAX);
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if ((r = tw_buf_add(&b, chunk, got)) != 0)
			break;
	if (r == 0 && ferror(fp))
		lerr(L, f->path, NULL, "cannot read: %s", strerror(errno));
	fclose(fp);
	if (r == TW_ETOOBIG) {
		lerr(L, f->path, NULL, "larger than %u bytes", TW_YTREE_FILE_MAX);
		tw_buf_reset(&b);
		r = 0;
	}
	if (r != 0) {
		tw_buf_cleanup(&b);
		return r;
	}
	f->text = b.data != NULL ? b.data : strdup("");
	f->len = b.len;
	return f->text == NULL ? TW_ENOMEM : 0;
}

/* ---- symbols ---- */

static const struct symdef *
find_def(struct loader *L, const char *name, enum symkind kind)
{
	for (size_t i = 0; i < L->ndefs; i++)
		if (L->defs[i].kind == kind && strcmp(L->defs[i].name, name) == 0)
			return &L->defs[i];
	return NULL;
}

/* Record a definition; false (reported) when the name is taken. */
static bool
define(struct loader *L, const char *file, const struct tw_ynode *key,
    enum symkind kind)
{
	static const char *const what[] = { "list", "alias", "macro" };
	const struct symdef *o;

	if (tw_ytype(key) != TW_YT_STR || !valid_name(key->text)) {
		lerr(L, file, key, "bad %s name '%s' (want [A-Za-z_][A-Za-z0-9_]*)",
		    what[kind], key->text);
		return false;
	}
	if ((o = find_def(L, key->text, kind)) != NULL) {
		lerr(L, file, key, "duplicate %s '%s' (first at %s:%d:%d)",
		    what[kind], key->text, o->at.file, o->at.n->line,
		    o->at.n->col);
		return false;
	}
	if ((kind == SYM_MACRO && ((o = find_def(L, key->text, SYM_LIST)) !=
	    NULL || (o = find_def(L, key->text, SYM_ALIAS)) != NULL)) ||
	    (kind != SYM_MACRO && (o = find_def(L, key->text, SYM_MACRO)) !=
	    NULL)) {
		lerr(L, file, key, "'%s' is both a %s and a %s (at %s:%d:%d)",
		    key->text, what[kind], what[o->kind], o->at.file,
		    o->at.n->line, o->at.n->col);
		return false;
	}
	if (grow((void **)&L->defs, &L->capdefs, L->ndefs,
	    sizeof(*L->defs)) != 0) {
		L->fatal = TW_ENOMEM;
		return false;
	}
	L->defs[L->ndefs].name = key->text;
	L->defs[L->ndefs].kind = kind;
	L->defs[L->ndefs].at.file = file;
	L->defs[L->ndefs].at.n = key;
	L->ndefs++;
	return true;
}

/* Typed list items of a sequence (or null: none), copied into the arena. */
static bool
list_items(struct loader *L, const char *file, const char *name,
    const struct tw_ynode *v, struct tw_scalar **items, size_t *n)
{
	*items = NULL;
	*n = 0;
	if (tw_ynull(v))
		return true;
	if (v->kind != TW_Y_SEQ) {
		lerr(L, file, v, "list '%s' must be a sequence", name);
		return false;
	}
	if (v->n > 0 && (*items = tw_arena_alloc(L->out->a, v->n *
	    sizeof(**items))) == NULL) {
		L->fatal = TW_ENOMEM;
		return false;
	}
	for (size_t i = 0; i < v->n; i++) {
		int r;

		if (scalar(v->kids[i]) == NULL) {
			lerr(L, file, v->kids[i], "list '%s': items must be "
			    "scalars", name);
			return false;
		}
		if ((r = tw_yscalar(v->kids[i], L->out->a, &(*items)[i])) != 0) {
			if (!oom(L, r))
				lerr(L, file, v->kids[i], "list '%s': a plain '%s' "
				    "must be quoted", name, v->kids[i]->text);
			return false;
		}
	}
	*n = v->n;
	return true;
}

static void
pack(struct loader *L, struct lfile *f)
{
	const struct tw_ynode *root = f->root, *sec, *k, *v;
	struct tw_scalar ver, *items;
	size_t nitems;
	int r;

	for (size_t i = 0; i + 1 < root->n; i += 2)
		if (!in_list(pack_keys, root->kids[i]->text))
			lwarn(L, f->path, root->kids[i], "unknown top-level key "
			    "'%s' ignored", root->kids[i]->text);
	if ((v = tw_ymap_get(root, "version")) != NULL &&
	    (tw_yscalar(v, L->out->a, &ver) != 0 ||
	    ver.kind != TW_SCALAR_INT || strcmp(ver.s, "1") != 0))
		lerr(L, f->path, v, "unsupported pack version (want 1)");
	if ((sec = tw_ymap_get(root, "lists")) != NULL && !tw_ynull(sec)) {
		if (sec->kind != TW_Y_MAP)
			lerr(L, f->path, sec, "lists must be a mapping");
		for (size_t i = 0; sec->kind == TW_Y_MAP && i + 1 < sec->n;
		    i += 2) {
			k = sec->kids[i];
			v = sec->kids[i + 1];
			if (!define(L, f->path, k, SYM_LIST) ||
			    !list_items(L, f->path, k->text, v, &items, &nitems))
				continue;
			if (oom(L, tw_symbols_add_list(L->out->sym, k->text, items,
			    nitems)))
				return;
		}
	}
	if ((sec = tw_ymap_get(root, "aliases")) != NULL && !tw_ynull(sec)) {
		if (sec->kind != TW_Y_MAP)
			lerr(L, f->path, sec, "aliases must be a mapping");
		for (size_t i = 0; sec->kind == TW_Y_MAP && i + 1 < sec->n;
		    i += 2) {
			const struct tw_path **targets;
			bool ok = true;

			k = sec->kids[i];
			v = sec->kids[i + 1];
			if (in_list(top_level_keys, k->text)) {
				lerr(L, f->path, k, "alias '%s' would shadow a "
				    "top-level record key", k->text);
				continue;
			}
			if (!define(L, f->path, k, SYM_ALIAS))
				continue;
			if (v->kind != TW_Y_SEQ || v->n == 0) {
				lerr(L, f->path, v, "alias '%s' must be a non-empty "
				    "list of paths", k->text);
				continue;
			}
			if ((targets = tw_arena_alloc(L->out->a, v->n *
			    sizeof(*targets))) == NULL) {
				L->fatal = TW_ENOMEM;
				return;
			}
			for (size_t j = 0; j < v->n; j++) {
				struct tw_path *p;
				char *why = NULL;

				if (scalar(v->kids[j]) == NULL) {
					lerr(L, f->path, v->kids[j], "alias '%s': "
					    "targets must be paths", k->text);
					ok = false;
					continue;
				}
				r = tw_path_parse(L->out->a, v->kids[j]->text,
				    v->kids[j]->len, &p, &why);
				if (r != 0) {
					if (!oom(L, r))
						lerr(L, f->path, v->kids[j],
						    "alias '%s': %s", k->text, why);
					free(why);
					ok = false;
					continue;
				}
				targets[j] = p;
			}
			if (ok && oom(L, tw_symbols_add_alias(L->out->sym, k->text,
			    targets, v->n)))
				return;
		}
	}
	if ((sec = tw_ymap_get(root, "macros")) != NULL && !tw_ynull(sec)) {
		if (sec->kind != TW_Y_MAP)
			lerr(L, f->path, sec, "macros must be a mapping");
		for (size_t i = 0; sec->kind == TW_Y_MAP && i + 1 < sec->n;
		    i += 2) {
			char *text;

			k = sec->kids[i];
			v = sec->kids[i + 1];
			if (!define(L, f->path, k, SYM_MACRO))
				continue;
			if (scalar(v) == NULL) {
				lerr(L, f->path, v, "macro '%s' must be a condition",
				    k->text);
				continue;
			}
			if ((text = sdup(L, v)) == NULL ||
			    oom(L, tw_symbols_add_macro(L->out->sym, k->text,
			    text)))
				return;
		}
	}
	if ((sec = tw_ymap_get(root, "rules")) != NULL && !tw_ynull(sec)) {
		if (sec->kind != TW_Y_SEQ) {
			lerr(L, f->path, sec, "rules must be a sequence");
			return;
		}
		for (size_t i = 0; i < sec->n; i++) {
			const struct tw_ynode *rn = sec->kids[i], *id;
			struct rdesc *rd;

			if (rn->kind != TW_Y_MAP) {
				lerr(L, f->path, rn, "a rule must be a mapping");
				continue;
			}
			if ((id = scalar(tw_ymap_get(rn, "id"))) == NULL ||
			    tw_ytype(id) == TW_YT_BOOL) {
				lerr(L, f->path, id != NULL ? id : rn,
				    "rule without an id");
				continue;
			}
			if (grow((void **)&L->rd, &L->caprd, L->nrd,
			    sizeof(*L->rd)) != 0) {
				L->fatal = TW_ENOMEM;
				return;
			}
			rd = &L->rd[L->nrd];
			memset(rd, 0, sizeof(*rd));
			rd->file = f->path;
			rd->node = rn;
			rd->id_str = tw_ytype(id) == TW_YT_STR;
			if ((rd->id = sdup(L, id)) == NULL)
				return;
			L->nrd++;
		}
	}
}

static struct rdesc *
find_rule(struct loader *L, const char *id)
{
	for (size_t i = 0; i < L->nrd; i++)
		if (strcmp(L->rd[i].id, id) == 0)
			return &L->rd[i];
	return NULL;
}

/* The rule a YAML scalar names: the same text and the same YAML type. */
static struct rdesc *
find_rule_node(struct loader *L, const struct tw_ynode *n)
{
	struct rdesc *rd;

	if (n == NULL || (rd = find_rule(L, n->text)) == NULL ||
	    rd->id_str != (tw_ytype(n) == TW_YT_STR))
		return NULL;
	return rd;
}

static const struct tw_ynode *
rd_pos(const struct rdesc *rd)
{
	return rd->sigma ? NULL : rd->node;
}

static void
check_ids(struct loader *L)
{
	for (size_t i = 0; i < L->nrd; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(L->rd[i].id, L->rd[j].id) == 0) {
				const struct tw_ynode *p = rd_pos(&L->rd[j]);

				lerr(L, L->rd[i].file, rd_pos(&L->rd[i]),
				    "duplicate rule id '%s' (first at %s:%d:%d)",
				    L->rd[i].id, L->rd[j].file,
				    p != NULL ? p->line : 1, p != NULL ? p->col : 1);
				break;
			}
}

static void
sigma_file(struct loader *L, struct lfile *f)
{
	const struct tw_ynode *where = f->root;
	struct rdesc *rd;
	char *why = NULL;
	int r;

	if (grow((void **)&L->rd, &L->caprd, L->nrd, sizeof(*L->rd)) != 0) {
		L->fatal = TW_ENOMEM;
		return;
	}
	rd = &L->rd[L->nrd];
	memset(rd, 0, sizeof(*rd));
	rd->file = f->path;
	rd->node = f->root;
	rd->sigma = true;
	r = tw_sigma_meta(L->out->a, f->path, f->root, &rd->meta, &where, &why);
	if (r == TW_EUNSUPPORTED) {
		if (L->flags & TW_LOAD_SIGMA_SKIP)
			lwarn(L, f->path, where, "Sigma rule refused: %s", why);
		else
			lerr(L, f->path, where, "Sigma rule refused: %s", why);
		L->out->sigma_refused++;
		free(why);
		return;
	}
	free(why);
	if (oom(L, r))
		return;
	rd->id = rd->meta.id;
	rd->id_str = true;
	L->nrd++;
}

/* The exception named name in rule node rn, or NULL. */
static const struct tw_ynode *
find_exception(const struct tw_ynode *rn, const char *name)
{
	const struct tw_ynode *ex = tw_ymap_get(rn, "exceptions"), *nm;

	if (ex == NULL || ex->kind != TW_Y_SEQ)
		return NULL;
	for (size_t i = 0; i < ex->n; i++)
		if ((nm = scalar(tw_ymap_get(ex->kids[i], "name"))) != NULL &&
		    strcmp(nm->text, name) == 0)
			return ex->kids[i];
	return NULL;
}

static bool
only_keys(struct loader *L, const char *file, const struct tw_ynode *m,
    const char *const *keys, const char *what)
{
	bool ok = true;

	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (!in_list(keys, m->kids[i]->text)) {
			lerr(L, file, m->kids[i], "%s: unknown key '%s'", what,
			    m->kids[i]->text);
			ok = false;
		}
	return ok;
}

static void
override_rule(struct loader *L, const char *file, const struct tw_ynode *o)
{
	static const char *const keys[] = { "rule", "enabled", "severity",
	    "throttle", "output", "append_exceptions", NULL };
	const struct tw_ynode *id = scalar(tw_ymap_get(o, "rule")), *v;
	struct rdesc *rd;

	if (id == NULL || (rd = find_rule_node(L, id)) == NULL) {
		lerr(L, file, id != NULL ? id : o, "overlay: unknown rule id '%s'",
		    id != NULL ? id->text : "");
		return;
	}
	if (!only_keys(L, file, o, keys, "overlay override"))
		return;
	if ((v = tw_ymap_get(o, "enabled")) != NULL)
		rd->en = (struct src){ file, v };
	if ((v = tw_ymap_get(o, "severity")) != NULL)
		rd->sev = (struct src){ file, v };
	if ((v = tw_ymap_get(o, "output")) != NULL)
		rd->out = (struct src){ file, v };
	if ((v = tw_ymap_get(o, "throttle")) != NULL) {
		rd->tt_removed = tw_ynull(v);
		rd->tt = (struct src){ file, tw_ynull(v) ? NULL : v };
	}
	if ((v = tw_ymap_get(o, "append_exceptions")) != NULL && !tw_ynull(v)) {
		if (v->kind != TW_Y_SEQ) {
			lerr(L, file, v, "append_exceptions must be a sequence");
			return;
		}
		for (size_t i = 0; i < v->n; i++) {
			static const char *const akeys[] = { "name", "values",
			    NULL };
			const struct tw_ynode *ae = v->kids[i], *nm;
			struct app *ap;

			if (ae->kind != TW_Y_MAP) {
				lerr(L, file, ae, "append_exceptions items must be "
				    "mappings");
				continue;
			}
			if (!only_keys(L, file, ae, akeys, "append_exceptions"))
				continue;
			nm = scalar(tw_ymap_get(ae, "name"));
			if (nm == NULL || rd->sigma ||
			    find_exception(rd->node, nm->text) == NULL) {
				lerr(L, file, nm != NULL ? nm : ae, "overlay: rule "
				    "%s has no exception '%s'", rd->id,
				    nm != NULL ? nm->text : "");
				continue;
			}
			if ((ap = realloc(rd->apps, (rd->napps + 1) *
			    sizeof(*ap))) == NULL) {
				L->fatal = TW_ENOMEM;
				return;
			}
			rd->apps = ap;
			ap[rd->napps].name = nm->text;
			ap[rd->napps].rows.file = file;
			ap[rd->napps].rows.n = tw_ymap_get(ae, "values");
			rd->napps++;
		}
	}
}

static void
overlay(struct loader *L, struct lfile *f)
{
	static const char *const keys[] = { "version", "overrides", "filters",
	    NULL };
	static const char *const fkeys[] = { "id", "rules", "condition", NULL };
	const struct tw_ynode *root = f->root, *sec, *v;
	struct tw_scalar ver, *items;
	size_t nitems;

	if (!only_keys(L, f->path, root, keys, "overlay"))
		return;
	if ((v = tw_ymap_get(root, "version")) != NULL &&
	    (tw_yscalar(v, L->out->a, &ver) != 0 ||
	    ver.kind != TW_SCALAR_INT || strcmp(ver.s, "1") != 0))
		lerr(L, f->path, v, "unsupported overlay version (want 1)");
	if ((sec = tw_ymap_get(root, "overrides")) != NULL && !tw_ynull(sec)) {
		if (sec->kind != TW_Y_SEQ)
			lerr(L, f->path, sec, "overrides must be a sequence");
		for (size_t i = 0; sec->kind == TW_Y_SEQ && i < sec->n; i++) {
			const struct tw_ynode *o = sec->kids[i], *ln;

			if (o->kind != TW_Y_MAP) {
				lerr(L, f->path, o, "an override must be a mapping");
				continue;
			}
			if ((ln = tw_ymap_get(o, "list")) == NULL) {
				override_rule(L, f->path, o);
				continue;
			}
			{
				static const char *const lkeys[] = { "list",
				    "append", NULL };

				if (!only_keys(L, f->path, o, lkeys,
				    "overlay list override"))
					continue;
			}
			if (scalar(ln) == NULL || tw_ytype(ln) != TW_YT_STR ||
			    !tw_symbols_has_list(L->out->sym, ln->text)) {
				lerr(L, f->path, ln, "overlay: unknown list '%s'",
				    scalar(ln) != NULL ? ln->text : "");
				continue;
			}
			if (!list_items(L, f->path, ln->text,
			    tw_ymap_get(o, "append"), &items, &nitems))
				continue;
			if (oom(L, tw_symbols_list_append(L->out->sym, ln->text,
			    items, nitems)))
				return;
		}
	}
	if ((sec = tw_ymap_get(root, "filters")) != NULL && !tw_ynull(sec)) {
		if (sec->kind != TW_Y_SEQ)
			lerr(L, f->path, sec, "filters must be a sequence");
		for (size_t i = 0; sec->kind == TW_Y_SEQ && i < sec->n; i++) {
			const struct tw_ynode *fl = sec->kids[i], *id, *rs, *cond;
			struct filt *ft;
			bool ok = true;

			if (fl->kind != TW_Y_MAP) {
				lerr(L, f->path, fl, "a filter must be a mapping");
				continue;
			}
			if (!only_keys(L, f->path, fl, fkeys, "filter"))
				continue;
			id = scalar(tw_ymap_get(fl, "id"));
			rs = tw_ymap_get(fl, "rules");
			cond = scalar(tw_ymap_get(fl, "condition"));
			if (id == NULL || cond == NULL || rs == NULL ||
			    rs->kind != TW_Y_SEQ || rs->n == 0) {
				lerr(L, f->path, fl, "overlay: a filter needs id, "
				    "rules and condition");
				continue;
			}
			for (size_t j = 0; j < rs->n; j++) {
				const struct tw_ynode *sel = scalar(rs->kids[j]);

				if (sel == NULL) {
					lerr(L, f->path, rs->kids[j], "filter %s: "
					    "selectors must be scalars", id->text);
					ok = false;
				} else if (strncmp(sel->text, "tag:", 4) != 0 &&
				    strncmp(sel->text, "source:", 7) != 0 &&
				    find_rule_node(L, sel) == NULL) {
					lerr(L, f->path, sel, "overlay: filter %s "
					    "selects unknown rule '%s'", id->text,
					    sel->text);
					ok = false;
				}
			}
			if (!ok)
				continue;
			if (grow((void **)&L->flt, &L->capflt, L->nflt,
			    sizeof(*L->flt)) != 0) {
				L->fatal = TW_ENOMEM;
				return;
			}
			ft = &L->flt[L->nflt++];
			memset(ft, 0, sizeof(*ft));
			ft->file = f->path;
			ft->node = fl;
			ft->id = id->text;
			ft->rules = rs;
			ft->cond = cond;
		}
	}
}

/* ---- compiling rules ---- */

static void
hash_node(EVP_MD_CTX *h, const struct tw_ynode *n)
{
	unsigned char k;

	if (n == NULL) {
		EVP_DigestUpdate(h, "~", 1);
		return;
	}
	k = (unsigned char)n->kind;
	EVP_DigestUpdate(h, &k, 1);
	if (n->kind == TW_Y_SCALAR) {
		uint64_t len = n->len;

		EVP_DigestUpdate(h, &len, sizeof(len));
		EVP_DigestUpdate(h, n->text, n->len);
		return;
	}
	EVP_DigestUpdate(h, &n->n, sizeof(n->n));
	for (size_t i = 0; i < n->n; i++)
		hash_node(h, n->kids[i]);
}

static bool
selects(const struct tw_ynode *sel, const struct tw_rule *r,
    const struct tw_ynode *rn)
{
	const char *s = sel->text;
	int k;

	if (strncmp(s, "tag:", 4) == 0) {
		for (size_t i = 0; i < r->ntags; i++)
			if (strcmp(r->tags[i], s + 4) == 0)
				return true;
		return false;
	}
	if (strncmp(s, "source:", 7) == 0)
		return (k = tw_kind_parse(s + 7, strlen(s + 7))) >= 0 &&
		    (r->kinds & (1u << k)) != 0;
	(void)rn;
	return strcmp(s, r->id) == 0;
}

/* Paths a rule lists: a sequence of path scalars (or one, when one is allowed). */
static bool
keyset(struct loader *L, const char *file, const char *rid, const char *what,
    const struct tw_ynode *v, bool one_ok, struct tw_keyset *ks)
{
	const struct tw_ynode *const *items = &v;
	size_t n = 1;
	int r;

	memset(ks, 0, sizeof(*ks));
	if (tw_ynull(v))
		return true;
	if (v->kind == TW_Y_SEQ) {
		items = (const struct tw_ynode *const *)v->kids;
		n = v->n;
	} else if (v->kind != TW_Y_SCALAR || !one_ok) {
		lerr(L, file, v, "rule '%s': %s must be a list of paths", rid,
		    what);
		return false;
	}
	if (n == 0)
		return true;
	if ((ks->v = tw_arena_alloc(L->out->a, n * sizeof(*ks->v))) == NULL) {
		L->fatal = TW_ENOMEM;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct tw_keypath *kp = &ks->v[i];
		char *why = NULL;

		if (scalar(items[i]) == NULL) {
			lerr(L, file, items[i], "rule '%s': %s must be paths", rid,
			    what);
			return false;
		}
		if ((kp->text = sdup(L, items[i])) == NULL)
			return false;
		r = tw_compile_paths(L->c, items[i]->text, items[i]->len,
		    &kp->paths, &kp->slots, &kp->npaths, &why);
		if (r != 0) {
			if (!oom(L, r))
				lerr(L, file, items[i], "rule '%s': %s: %s", rid,
				    what, why != NULL ? why : "bad path");
			free(why);
			return false;
		}
	}
	ks->n = n;
	return true;
}

/* JSON string literal of s, as Python's json.dumps(ensure_ascii=False). */
static int
quote_cell(struct tw_buf *b, const struct tw_scalar *v)
{
	if (v->kind == TW_SCALAR_STR && v->n > 0 && v->s[0] == '$')
		return tw_buf_add(b, v->s, v->n);
	if (v->kind != TW_SCALAR_STR)
		return tw_buf_add(b, v->s, v->n);
	return tw_cjson_str(b, v->s, v->n);
}

/* Append the text of one exception (RULES.md §6) rows to b. */
static bool
exception_text(struct loader *L, const char *file, const char *rid,
    const struct tw_ynode *ex, const struct src *extra, size_t nextra,
    struct tw_buf *b, bool *any)
{
	static const char *const ekeys[] = { "name", "fields", "comps",
	    "values", NULL };
	const struct tw_ynode *fields, *comps, *rows;
	const char **ops = NULL;
	bool ok = false;

	if (!only_keys(L, file, ex, ekeys, "exception"))
		return false;
	fields = tw_ymap_get(ex, "fields");
	comps = tw_ymap_get(ex, "comps");
	if (fields == NULL || fields->kind != TW_Y_SEQ || fields->n == 0) {
		lerr(L, file, fields != NULL ? fields : ex, "rule '%s': exception "
		    "fields must be a non-empty list", rid);
		return false;
	}
	if ((ops = calloc(fields->n, sizeof(*ops))) == NULL) {
		L->fatal = TW_ENOMEM;
		return false;
	}
	for (size_t i = 0; i < fields->n; i++) {
		if (scalar(fields->kids[i]) == NULL) {
			lerr(L, file, fields->kids[i], "rule '%s': exception fields "
			    "must be operands", rid);
			goto out;
		}
		ops[i] = "=";
	}
	if (!tw_ynull(comps)) {
		if (comps->kind != TW_Y_SEQ || comps->n != fields->n) {
			lerr(L, file, comps, "rule '%s': exception comps/fields "
			    "length mismatch", rid);
			goto out;
		}
		for (size_t i = 0; i < comps->n; i++) {
			const struct tw_ynode *c = scalar(comps->kids[i]);
			int op;

			if (c != NULL && strcmp(c->text, "eq") == 0) {
				ops[i] = "=";
				continue;
			}
			if (c == NULL || (op = tw_op_parse(c->text, c->len)) < 0 ||
			    op == TW_OP_EXISTS) {
				lerr(L, file, comps->kids[i], "rule '%s': bad "
				    "exception comparison '%s'", rid,
				    c != NULL ? c->text : "");
				goto out;
			}
			ops[i] = c->text;
		}
	}
	for (size_t e = 0; e <= nextra; e++) {
		const char *rf = e == 0 ? file : extra[e - 1].file;

		rows = e == 0 ? tw_ymap_get(ex, "values") : extra[e - 1].n;
		if (tw_ynull(rows))
			continue;
		if (rows->kind != TW_Y_SEQ) {
			lerr(L, rf, rows, "rule '%s': exception values must be a "
			    "list of rows", rid);
			goto out;
		}
		for (size_t i = 0; i < rows->n; i++) {
			const struct tw_ynode *row = rows->kids[i];

			if (row->kind != TW_Y_SEQ || row->n != fields->n) {
				lerr(L, rf, row, "rule '%s': exception values/fields "
				    "length mismatch", rid);
				goto out;
			}
			if ((*any && tw_buf_adds(b, " or ") != 0) ||
			    tw_buf_addc(b, '(') != 0)
				goto nomem;
			for (size_t j = 0; j < row->n; j++) {
				const struct tw_ynode *cell = row->kids[j];
				struct tw_scalar v;

				if (tw_buf_addf(b, "%s%s %s ", j > 0 ? " and " : "",
				    fields->kids[j]->text, ops[j]) != 0)
					goto nomem;
				if (cell->kind == TW_Y_SEQ) {
					if (cell->n == 0) {
						lerr(L, rf, cell, "rule '%s': empty "
						    "exception value list", rid);
						goto out;
					}
					if (tw_buf_addc(b, '(') != 0)
						goto nomem;
					for (size_t k = 0; k < cell->n; k++) {
						if (scalar(cell->kids[k]) == NULL ||
						    tw_yscalar(cell->kids[k],
						    L->out->a, &v) != 0) {
							lerr(L, rf, cell->kids[k],
							    "rule '%s': exception "
							    "values must be scalars",
							    rid);
							goto out;
						}
						if ((k > 0 && tw_buf_adds(b, ", ") !=
						    0) || quote_cell(b, &v) != 0)
							goto nomem;
					}
					if (tw_buf_addc(b, ')') != 0)
						goto nomem;
					continue;
				}
				if (scalar(cell) == NULL ||
				    tw_yscalar(cell, L->out->a, &v) != 0) {
					lerr(L, rf, cell, "rule '%s': exception "
					    "values must be scalars or lists", rid);
					goto out;
				}
				if (quote_cell(b, &v) != 0)
					goto nomem;
			}
			if (tw_buf_addc(b, ')') != 0)
				goto nomem;
			*any = true;
		}
	}
	ok = true;
	goto out;
nomem:
	L->fatal = TW_ENOMEM;
out:
	free(ops);
	return ok;
}

/* The exceptions of a rule as one condition, or *out NULL when none. */
static bool
exceptions(struct loader *L, const struct rdesc *rd, const char *rid,
    struct tw_node **out)
{
	const struct tw_ynode *ex = tw_ymap_get(rd->node, "exceptions"), *nm;
	struct tw_buf b;
	struct src *extra = NULL;
	size_t nextra;
	char *why = NULL;
	bool any = false, ok = true;
	long off;
	int r;

	*out = NULL;
	if (tw_ynull(ex))
		return true;
	if (ex->kind != TW_Y_SEQ) {
		lerr(L, rd->file, ex, "rule '%s': exceptions must be a list", rid);
		return false;
	}
	tw_buf_init(&b, TW_EXPR_TEXT_MAX);
	for (size_t i = 0; ok && i < ex->n; i++) {
		const struct tw_ynode *e = ex->kids[i];

		if (e->kind != TW_Y_MAP ||
		    (nm = scalar(tw_ymap_get(e, "name"))) == NULL) {
			lerr(L, rd->file, e, "rule '%s': exception names must be "
			    "present and unique", rid);
			ok = false;
			break;
		}
		if (find_exception(rd->node, nm->text) != e) {
			lerr(L, rd->file, nm, "rule '%s': exception names must be "
			    "present and unique", rid);
			ok = false;
			break;
		}
		nextra = 0;
		free(extra);
		if ((extra = calloc(rd->napps + 1, sizeof(*extra))) == NULL) {
			L->fatal = TW_ENOMEM;
			ok = false;
			break;
		}
		for (size_t j = 0; j < rd->napps; j++)
			if (strcmp(rd->apps[j].name, nm->text) == 0)
				extra[nextra++] = rd->apps[j].rows;
		ok = exception_text(L, rd->file, rid, e, extra, nextra, &b, &any);
	}
	free(extra);
	if (ok && any) {
		r = tw_compile_condition(L->c, b.data, b.len, out, &why, &off);
		if (r != 0) {
			if (!oom(L, r))
				lerr(L, rd->file, ex, "rule '%s': exceptions: %s",
				    rid, why != NULL ? why : "bad exception");
			ok = false;
		}
	}
	free(why);
	tw_buf_cleanup(&b);
	return ok;
}

static bool
int_value(const struct tw_ynode *n, struct tw_arena *a, long long *v)
{
	struct tw_scalar s;
	char *end;

	if (scalar(n) == NULL || tw_yscalar(n, a, &s) != 0)
		return false;
	if (s.kind != TW_SCALAR_INT && s.kind != TW_SCALAR_STR)
		return false;
	errno = 0;
	*v = strtoll(s.s, &end, 10);
	return errno == 0 && end != s.s && *end == '\0';
}

static bool
duration(struct loader *L, const char *file, const char *rid,
    const struct tw_ynode *v, int64_t *ns, const char **text)
{
	if (scalar(v) == NULL || tw_duration_parse(v->text, v->len, ns) != 0) {
		lerr(L, file, v, "rule '%s': bad duration '%s' (want e.g. 500ms, "
		    "60s, 2m, 1h, 1d)", rid, scalar(v) != NULL ? v->text : "");
		return false;
	}
	return (*text = sdup(L, v)) != NULL;
}

static bool
threshold(struct loader *L, const struct rdesc *rd, struct tw_rule *ru)
{
	static const char *const keys[] = { "count", "window", "group_by",
	    "distinct", NULL };
	const struct tw_ynode *th = tw_ymap_get(rd->node, "threshold"), *v;
	long long cnt;

	if (tw_ynull(th) || (th->kind == TW_Y_MAP && th->n == 0))
		return true;
	if (th->kind != TW_Y_MAP) {
		lerr(L, rd->file, th, "rule '%s': threshold must be a mapping",
		    ru->id);
		return false;
	}
	if (!only_keys(L, rd->file, th, keys, "threshold"))
		return false;
	ru->threshold = true;
	v = tw_ymap_get(th, "count");
	if (!int_value(v, L->out->a, &cnt) || cnt < 2 ||
	    cnt > TW_THRESHOLD_COUNT_MAX) {
		lerr(L, rd->file, v != NULL ? v : th, "rule '%s': threshold count "
		    "must be an integer from 2 to %d", ru->id,
		    TW_THRESHOLD_COUNT_MAX);
		return false;
	}
	ru->th_count = (uint32_t)cnt;
	if ((v = tw_ymap_get(th, "window")) == NULL) {
		lerr(L, rd->file, th, "rule '%s': threshold needs a window",
		    ru->id);
		return false;
	}
	if (!duration(L, rd->file, ru->id, v, &ru->th_window,
	    &ru->th_window_text))
		return false;
	return keyset(L, rd->file, ru->id, "group_by",
	    tw_ymap_get(th, "group_by"), false, &ru->group_by) &&
	    keyset(L, rd->file, ru->id, "distinct", tw_ymap_get(th, "distinct"),
	    true, &ru->distinct);
}

static bool
throttle(struct loader *L, const struct rdesc *rd, struct tw_rule *ru)
{
	static const char *const keys[] = { "key", "window", "max", NULL };
	const struct tw_ynode *tt, *v;
	const char *file = rd->tt.n != NULL ? rd->tt.file : rd->file;
	long long max = 1;

	if (rd->tt_removed)
		return true;
	tt = rd->tt.n != NULL ? rd->tt.n : rd->sigma ? NULL :
	    tw_ymap_get(rd->node, "throttle");
	if (tw_ynull(tt) || (tt->kind == TW_Y_MAP && tt->n == 0))
		return true;
	if (tt->kind != TW_Y_MAP) {
		lerr(L, file, tt, "rule '%s': throttle must be a mapping", ru->id);
		return false;
	}
	if (!only_keys(L, file, tt, keys, "throttle"))
		return false;
	ru->throttle = true;
	if ((v = tw_ymap_get(tt, "max")) != NULL &&
	    (!int_value(v, L->out->a, &max) || max < 1 || max > UINT32_MAX)) {
		lerr(L, file, v, "rule '%s': throttle max must be >= 1", ru->id);
		return false;
	}
	ru->tt_max = (uint32_t)max;
	if ((v = tw_ymap_get(tt, "window")) == NULL) {
		lerr(L, file, tt, "rule '%s': throttle needs a window", ru->id);
		return false;
	}
	if (!duration(L, file, ru->id, v, &ru->tt_window, &ru->tt_window_text))
		return false;
	return keyset(L, file, ru->id, "throttle key", tw_ymap_get(tt, "key"),
	    false, &ru->tt_key);
}

static bool
sources(struct loader *L, const struct rdesc *rd, struct tw_rule *ru)
{
	const struct tw_ynode *s = tw_ymap_get(rd->node, "source");
	const struct tw_ynode *const *items = &s;
	size_t n = 1;
	int k;

	if (tw_ynull(s) || (s->kind == TW_Y_SEQ && s->n == 0)) {
		lerr(L, rd->file, s != NULL ? s : rd->node, "rule '%s': source is "
		    "mandatory (it drives indexing)", ru->id);
		return false;
	}
	if (s->kind == TW_Y_SEQ) {
		items = (const struct tw_ynode *const *)s->kids;
		n = s->n;
	} else if (s->kind != TW_Y_SCALAR) {
		lerr(L, rd->file, s, "rule '%s': source must be a kind or a list "
		    "of kinds", ru->id);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (scalar(items[i]) == NULL ||
		    (k = tw_kind_parse(items[i]->text, items[i]->len)) < 0) {
			lerr(L, rd->file, items[i], "rule '%s': unknown source kind "
			    "'%s'", ru->id, items[i]->kind == TW_Y_SCALAR ?
			    items[i]->text : "");
			return false;
		}
		ru->kinds |= 1u << k;
	}
	return true;
}

static bool
tags(struct loader *L, const struct rdesc *rd, struct tw_rule *ru)
{
	const struct tw_ynode *t = tw_ymap_get(rd->node, "tags");

	if (tw_ynull(t))
		return true;
	if (t->kind != TW_Y_SEQ) {
		lerr(L, rd->file, t, "rule '%s': tags must be a list", ru->id);
		return false;
	}
	if (t->n > 0 && (ru->tags = tw_arena_alloc(L->out->a, t->n *
	    sizeof(*ru->tags))) == NULL) {
		L->fatal = TW_ENOMEM;
		return false;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (scalar(t->kids[i]) == NULL) {
			lerr(L, rd->file, t->kids[i], "rule '%s': tags must be "
			    "scalars", ru->id);
			return false;
		}
		if ((ru->tags[ru->ntags++] = sdup(L, t->kids[i])) == NULL)
			return false;
	}
	return true;
}

static bool
enabled(struct loader *L, const struct rdesc *rd)
{
	struct src en = rd->en;
	struct tw_scalar v;

	if (en.n == NULL && !rd->sigma) {
		en.file = rd->file;
		en.n = tw_ymap_get(rd->node, "enabled");
	}
	if (en.n == NULL)
		return true;
	if (scalar(en.n) == NULL || tw_yscalar(en.n, L->out->a, &v) != 0 ||
	    v.kind != TW_SCALAR_BOOL) {
		lerr(L, en.file, en.n, "rule '%s': enabled must be true or false",
		    rd->id);
		return true;
	}
	return v.b;
}

static bool
severity(struct loader *L, const struct rdesc *rd, struct tw_rule *ru)
{
	struct src sev = rd->sev.n != NULL ? rd->sev : (struct src){ rd->file,
	    rd->sigma ? NULL : tw_ymap_get(rd->node, "severity") };
	const char *sv;

	if (sev.n == NULL && rd->sigma)
		return true;
	sv = scalar(sev.n) != NULL ? sev.n->text : "";
	for (size_t i = 0; severities[i] != NULL; i++)
		if (strcmp(severities[i], sv) == 0) {
			ru->severity = severities[i];
			return true;
		}
	lerr(L, sev.file, sev.n != NULL ? sev.n : rd->node, "rule '%s': severity "
	    "must be one of informational low medium high critical", rd->id);
	return false;
}

static void
compile_rule(struct loader *L, struct rdesc *rd)
{
	const struct tw_ynode *rn = rd->node, *v;
	struct tw_rule *ru;
	struct tw_node *exc = NULL;
	struct tw_node *kids[FILTERS_MAX + 2];
	struct src out;
	EVP_MD_CTX *h = NULL;
	size_t nkids = 0;
	char *why = NULL;
	bool ok = true;
	long off;
	int r;

	if (!rd->sigma) {
		for (size_t i = 0; i + 1 < rn->n; i += 2)
			if (!in_list(rule_keys, rn->kids[i]->text)) {
				lerr(L, rd->file, rn->kids[i], "rule '%s': unknown "
				    "key '%s'", rd->id, rn->kids[i]->text);
				ok = false;
			}
	}
	if (!enabled(L, rd) || !ok)
		return;
	if ((ru = tw_arena_alloc(L->out->a, sizeof(*ru))) == NULL) {
		L->fatal = TW_ENOMEM;
		return;
	}
	ru->id = rd->id;
	ru->file = rd->file;
	ru->line = rn->line;
	ru->col = rn->col;
	ru->sigma = rd->sigma;
	if (rd->sigma) {
		const struct tw_ynode *where = rn;

		ru->title = rd->meta.title;
		ru->severity = rd->meta.severity;
		ru->tags = rd->meta.tags;
		ru->ntags = rd->meta.ntags;
		ru->kinds = rd->meta.kinds;
		r = tw_sigma_compile(L->c, L->out->a, rn, &rd->meta, &ru->cond,
		    &where, &why);
		if (r == TW_EUNSUPPORTED) {
			if (L->flags & TW_LOAD_SIGMA_SKIP)
				lwarn(L, rd->file, where, "Sigma rule refused: %s",
				    why);
			else
				lerr(L, rd->file, where, "Sigma rule refused: %s",
				    why);
			L->out->sigma_refused++;
			rd->sigma_refused = true;
			free(why);
			return;
		}
		free(why);
		why = NULL;
		if (oom(L, r))
			return;
		L->out->sigma_loaded++;
		ok = severity(L, rd, ru) && ok;
	} else {
		if ((v = scalar(tw_ymap_get(rn, "title"))) == NULL) {
			lerr(L, rd->file, rn, "rule '%s': missing title", rd->id);
			ok = false;
		} else if ((ru->title = sdup(L, v)) == NULL)
			return;
		ok = severity(L, rd, ru) && ok;
		ok = sources(L, rd, ru) && ok;
		ok = tags(L, rd, ru) && ok;
		if ((v = scalar(tw_ymap_get(rn, "condition"))) == NULL) {
			lerr(L, rd->file, rn, "rule '%s': missing condition",
			    rd->id);
			ok = false;
		} else {
			r = tw_compile_condition(L->c, v->text, v->len, &ru->cond,
			    &why, &off);
			if (r != 0) {
				if (!oom(L, r))
					lerr_off(L, rd->file, v, off, "rule '%s': "
					    "condition: %s", rd->id, why);
				ok = false;
			}
			free(why);
			why = NULL;
		}
		ok = exceptions(L, rd, rd->id, &exc) && ok;
		ok = threshold(L, rd, ru) && ok;
		if (!keyset(L, rd->file, rd->id, "fields",
		    tw_ymap_get(rn, "fields"), false, &ru->fields))
			ok = false;
	}
	ok = throttle(L, rd, ru) && ok;
	/* The output is checked even when something else failed. */
	out = rd->out.n != NULL ? rd->out : (struct src){ rd->file,
	    rd->sigma ? NULL : tw_ymap_get(rn, "output") };
	if (out.n != NULL && scalar(out.n) == NULL) {
		lerr(L, out.file, out.n, "rule '%s': output must be a template",
		    rd->id);
		ok = false;
	} else {
		r = tw_template_compile(L->c, L->out->a, out.n != NULL ?
		    out.n->text : ru->id, out.n != NULL ? out.n->len :
		    strlen(ru->id), ru->threshold, ru->cond, &ru->output, &why);
		if (r != 0) {
			if (!oom(L, r))
				lerr(L, out.file, out.n != NULL ? out.n : rn,
				    "rule '%s': %s", rd->id, why != NULL ? why :
				    "bad output");
			ok = false;
		}
		free(why);
		why = NULL;
	}
	if (!ok || ru->cond == NULL)
		return;
	if (ru->sigma && !tw_node_check(ru->cond)) {
		lerr(L, rd->file, rn, "rule '%s': condition has more than %d nodes "
		    "or is nested deeper than %d", rd->id, TW_EXPR_NODES_MAX,
		    TW_EXPR_TREE_DEPTH_MAX);
		return;
	}
	/* cond and not exceptions and not filter... as one AND */
	nkids = 0;
	kids[nkids++] = ru->cond;
	if (exc != NULL && (kids[nkids++] = tw_node_new(L->c, TW_NODE_NOT, &exc,
	    1)) == NULL) {
		L->fatal = TW_ENOMEM;
		return;
	}
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		L->fatal = TW_ENOMEM;
		goto out;
	}
	EVP_DigestUpdate(h, ru->id, strlen(ru->id) + 1);
	hash_node(h, rn);
	hash_node(h, rd->en.n);
	hash_node(h, rd->sev.n);
	hash_node(h, rd->out.n);
	hash_node(h, rd->tt.n);
	EVP_DigestUpdate(h, &rd->tt_removed, sizeof(rd->tt_removed));
	for (size_t i = 0; i < rd->napps; i++)
		hash_node(h, rd->apps[i].rows.n);
	for (size_t i = 0; i < L->nflt; i++) {
		struct filt *ft = &L->flt[i];
		bool sel = false;

		for (size_t j = 0; j < ft->rules->n; j++)
			sel |= selects(ft->rules->kids[j], ru, rn);
		if (!sel)
			continue;
		if (ft->ast == NULL && !ft->bad) {
			r = tw_compile_condition(L->c, ft->cond->text,
			    ft->cond->len, &ft->ast, &why, &off);
			if (r != 0) {
				if (!oom(L, r))
					lerr_off(L, ft->file, ft->cond, off, "filter "
					    "%s: %s", ft->id, why);
				ft->bad = true;
			}
			free(why);
			why = NULL;
		}
		if (ft->ast == NULL)
			goto out;
		if (nkids == FILTERS_MAX + 2) {
			lerr(L, ft->file, ft->node, "rule '%s': more than %d "
			    "filters", rd->id, FILTERS_MAX);
			goto out;
		}
		if ((kids[nkids++] = tw_node_new(L->c, TW_NODE_NOT, &ft->ast,
		    1)) == NULL) {
			L->fatal = TW_ENOMEM;
			goto out;
		}
		hash_node(h, ft->cond);
	}
	if (nkids == 1)
		ru->full = ru->cond;
	else if ((ru->full = tw_node_new(L->c, TW_NODE_AND, kids, nkids)) ==
	    NULL) {
		L->fatal = TW_ENOMEM;
		goto out;
	}
	EVP_DigestFinal_ex(h, ru->digest, NULL);
	if (grow((void **)&L->rules, &L->caprules, L->nrules,
	    sizeof(*L->rules)) != 0) {
		L->fatal = TW_ENOMEM;
		goto out;
	}
	L->rules[L->nrules++] = ru;
out:
	EVP_MD_CTX_free(h);
}

/* Every list flattens, every alias expands, every macro compiles. */
static void
check_symbols(struct loader *L)
{
	struct tw_fields *scratch = NULL;
	struct tw_compiler *sc = NULL;

	if ((scratch = tw_fields_new()) == NULL ||
	    (sc = tw_compiler_new(L->out->a, L->out->sym, scratch)) == NULL) {
		L->fatal = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < L->ndefs && L->fatal == 0; i++) {
		const struct symdef *d = &L->defs[i];
		struct tw_scalar *items;
		const struct tw_path **paths;
		uint32_t *slots;
		struct tw_node *ast;
		size_t n;
		char *why = NULL;
		long off = -1;
		int r;

		switch (d->kind) {
		case SYM_LIST:
			if (!tw_symbols_has_list(L->out->sym, d->name))
				continue;
			r = tw_symbols_list_items(L->out->sym, d->name, L->out->a,
			    &items, &n, &why);
			if (r != 0 && !oom(L, r))
				lerr(L, d->at.file, d->at.n, "list '%s': %s",
				    d->name, why);
			break;
		case SYM_ALIAS:
			if (!tw_symbols_has_alias(L->out->sym, d->name))
				continue;
			r = tw_compile_paths(sc, d->name, strlen(d->name), &paths,
			    &slots, &n, &why);
			if (r != 0 && !oom(L, r))
				lerr(L, d->at.file, d->at.n, "alias '%s': %s",
				    d->name, why);
			break;
		case SYM_MACRO:
			if (!tw_symbols_has_macro(L->out->sym, d->name))
				continue;
			r = tw_compile_macro(L->c, d->name, &ast, &why, &off);
			if (r != 0 && !oom(L, r)) {
				/* Point into the macro's text. */
				const struct tw_ynode *val = NULL, *sec;

				sec = NULL;
				for (size_t f = 0; f < L->nfiles && val == NULL; f++)
					if (strcmp(L->files[f].path, d->at.file) == 0 &&
					    (sec = tw_ymap_get(L->files[f].root,
					    "macros")) != NULL)
						val = tw_ymap_get(sec, d->name);
				if (val != NULL && val->kind == TW_Y_SCALAR)
					lerr_off(L, d->at.file, val, off, "macro "
					    "'%s': %s", d->name, why);
				else
					lerr(L, d->at.file, d->at.n, "macro '%s': %s",
					    d->name, why);
			}
			break;
		}
		free(why);
	}
out:
	tw_compiler_free(sc);
	tw_fields_free(scratch);
}

void
tw_rules_free(struct tw_rules *r)
{
	if (r == NULL)
		return;
	tw_symbols_free(r->sym);
	tw_fields_free(r->fields);
	free(r->rules);
	tw_arena_free(r->a);
	free(r);
}

static void
classify(struct loader *L, struct lfile *f)
{
	const struct tw_ynode *root = f->root;

	if (root == NULL) {
		f->kind = F_EMPTY;
		return;
	}
	if (root->kind != TW_Y_MAP) {
		lerr(L, f->path, root, "a rule file must be a YAML mapping");
		f->kind = F_EMPTY;
		return;
	}
	if (tw_sigma_is(root))
		f->kind = F_SIGMA;
	else if ((tw_ymap_get(root, "overrides") != NULL ||
	    tw_ymap_get(root, "filters") != NULL) &&
	    tw_ymap_get(root, "rules") == NULL &&
	    tw_ymap_get(root, "lists") == NULL &&
	    tw_ymap_get(root, "macros") == NULL &&
	    tw_ymap_get(root, "aliases") == NULL)
		f->kind = F_OVERLAY;
	else
		f->kind = F_PACK;
}

static void classify(struct loader *L, struct lfile *f);

/* Parse a file's text (already in f->text) into its tree. */
static int
parse_file(struct loader *L, struct lfile *f)
{
	int r = tw_ytree_parse(f->path, f->text, f->len, &f->root, L->d);

	if (r == TW_ECONFIG) {
		L->errors++;
		r = 0;
	}
	if (r == 0)
		classify(L, f);
	return r;
}

static int
load(const char *const *paths, size_t npaths, const char *const *texts,
    const size_t *lens, unsigned flags, struct tw_rules **out,
    struct tw_conf_diag *d, struct tw_conf_diag *w)
{
	struct loader L;
	struct tw_rules *rs;
	int r = 0;

	*out = NULL;
	memset(&L, 0, sizeof(L));
	L.flags = flags;
	L.d = d;
	L.w = w;
	if ((rs = calloc(1, sizeof(*rs))) == NULL ||
	    (rs->a = tw_arena_new(RULES_ARENA_MAX)) == NULL ||
	    (rs->sym = tw_symbols_new()) == NULL ||
	    (rs->fields = tw_fields_new()) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	L.out = rs;
	for (size_t i = 0; i < npaths && r == 0; i++) {
		if (texts == NULL) {
			r = collect(&L, paths[i], 0);
			continue;
		}
		if ((r = add_file(&L, paths[i])) != 0)
			break;
		if (lens[i] > TW_YTREE_FILE_MAX) {
			lerr(&L, paths[i], NULL, "larger than %u bytes",
			    TW_YTREE_FILE_MAX);
			L.nfiles--;
			free(L.files[L.nfiles].path);
			continue;
		}
		if ((L.files[L.nfiles - 1].text = malloc(lens[i] + 1)) == NULL) {
			r = TW_ENOMEM;
			break;
		}
		memcpy(L.files[L.nfiles - 1].text, texts[i], lens[i]);
		L.files[L.nfiles - 1].text[lens[i]] = '\0';
		L.files[L.nfiles - 1].len = lens[i];
	}
	for (size_t i = 0; i < L.nfiles && r == 0; i++)
		if (texts != NULL || (r = read_file(&L, &L.files[i])) == 0)
			r = parse_file(&L, &L.files[i]);
	if (r != 0)
		goto out;
	rs->files = L.nfiles;
	for (size_t i = 0; i < L.nfiles && L.fatal == 0; i++)
		if (L.files[i].kind == F_PACK)
			pack(&L, &L.files[i]);
	for (size_t i = 0; i < L.nfiles && L.fatal == 0; i++)
		if (L.files[i].kind == F_SIGMA)
			sigma_file(&L, &L.files[i]);
	check_ids(&L);
	for (size_t i = 0; i < L.nfiles && L.fatal == 0; i++)
		if (L.files[i].kind == F_OVERLAY)
			overlay(&L, &L.files[i]);
	if (L.fatal == 0 && (L.c = tw_compiler_new(rs->a, rs->sym,
	    rs->fields)) == NULL)
		L.fatal = TW_ENOMEM;
	if (L.fatal == 0)
		check_symbols(&L);
	for (size_t i = 0; i < L.nrd && L.fatal == 0; i++)
		compile_rule(&L, &L.rd[i]);
	if ((r = L.fatal) != 0)
		goto out;
	if (L.errors > 0) {
		r = TW_ECONFIG;
		goto out;
	}
	rs->rules = L.rules;
	rs->n = L.nrules;
	L.rules = NULL;
	*out = rs;
	rs = NULL;
out:
	tw_compiler_free(L.c);
	for (size_t i = 0; i < L.nfiles; i++) {
		tw_ytree_free(L.files[i].root);
		free(L.files[i].text);
		free(L.files[i].path);
	}
	free(L.files);
	for (size_t i = 0; i < L.nrd; i++)
		free(L.rd[i].apps);
	free(L.rd);
	free(L.flt);
	free(L.defs);
	free(L.rules);
	tw_rules_free(rs);
	return r;
}

int
tw_rules_load(const char *const *paths, size_t npaths, unsigned flags,
    struct tw_rules **out, struct tw_conf_diag *d, struct tw_conf_diag *w)
{
	return load(paths, npaths, NULL, NULL, flags, out, d, w);
}

int
tw_rules_load_mem(const char *const *names, const char *const *texts,
    const size_t *lens, size_t n, unsigned flags, struct tw_rules **out,
    struct tw_conf_diag *d, struct tw_conf_diag *w)
{
	return load(names, n, texts, lens, flags, out, d, w);
}
