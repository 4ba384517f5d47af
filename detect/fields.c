/* fields.c: record paths (RULES.md §3), interned into slots and filled by one walk. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

#define SLOTS_MAX 65536
#define SLOT_VALUES_CAP 65536 /* values one slot keeps per record */

static bool
key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '@' || c == '-' ||
	    c == ':' || c == '/' || c == '$';
}

static int
path_error(char **why, const char *text, size_t n, size_t pos,
    const char *what)
{
	if (why != NULL) {
		int len = n > 200 ? 200 : (int)n;

		*why = NULL;
		if (asprintf(why, "bad path '%.*s'%s at %zu: %s", len, text,
		    n > 200 ? "..." : "", pos, what) == -1)
			*why = NULL;
	}
	return TW_EPARSE;
}

static int64_t
parse_index(const char *s, size_t n)
{
	bool neg = false;
	int64_t v = 0;
	size_t i = 0;

	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	for (; i < n; i++) {
		int d = s[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return neg ? INT64_MIN : INT64_MAX;
		v = v * 10 + d;
	}
	return neg ? -v : v;
}

int
tw_path_parse(struct tw_arena *a, const char *text, size_t n,
    struct tw_path **out, char **why)
{
	struct tw_seg segs[TW_PATH_SEGS_MAX];
	struct tw_buf dec;
	struct tw_path *p;
	size_t pos = 0, ns = 0, i, j;
	int r = 0;

	tw_buf_init(&dec, TW_PATH_TEXT_MAX);
	*out = NULL;
	if (n == 0)
		return path_error(why, text, n, 0, "empty path");
	if (n > TW_PATH_TEXT_MAX)
		return path_error(why, text, n, 0, "path too long");
	if (text[0] == '.')
		return path_error(why, text, n, 0, "leading '.'");
	while (pos < n) {
		struct tw_seg *s = &segs[ns];

		if (ns == TW_PATH_SEGS_MAX) {
			r = path_error(why, text, n, pos, "too many segments");
			goto out;
		}
		memset(s, 0, sizeof(*s));
		i = pos;
		if (text[i] == '.')
			i++;
		if (i < n && text[i] == '*') {
			s->kind = TW_SEG_STAR;
			pos = i + 1;
			ns++;
			continue;
		}
		j = i;
		while (j < n && key_char(text[j]))
			j++;
		if (j > i) {
			s->kind = TW_SEG_KEY;
			if ((s->key = tw_arena_strndup(a, text + i, j - i)) ==
			    NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			s->klen = j - i;
			pos = j;
			ns++;
			continue;
		}
		if (text[pos] != '[') {
			r = path_error(why, text, n, pos, "unexpected character");
			goto out;
		}
		i = pos + 1;
		if (i < n && text[i] == '*' && i + 1 < n && text[i + 1] == ']') {
			s->kind = TW_SEG_STAR;
			pos = i + 2;
			ns++;
			continue;
		}
		j = i;
		if (j < n && text[j] == '-')
			j++;
		while (j < n && text[j] >= '0' && text[j] <= '9')
			j++;
		if (j > i && text[j - 1] != '-' && j < n && text[j] == ']') {
			s->kind = TW_SEG_IDX;
			s->idx = parse_index(text + i, j - i);
			pos = j + 1;
			ns++;
			continue;
		}
		if (i < n && text[i] == '"') {
			j = i + 1;
			while (j < n && text[j] != '"')
				j += text[j] == '\\' ? 2 : 1;
			if (j >= n || j + 1 >= n || text[j + 1] != ']') {
				r = path_error(why, text, n, pos,
				    "unterminated [\"key\"]");
				goto out;
			}
			tw_buf_reset(&dec);
			if ((r = tw_json_str_decode(text + i, j + 1 - i, &dec)) !=
			    0) {
				r = r == TW_ENOMEM ? r : path_error(why, text, n,
				    pos, "bad JSON string");
				goto out;
			}
			s->kind = TW_SEG_KEY;
			if ((s->key = tw_arena_strndup(a, dec.data != NULL ?
			    dec.data : "", dec.len)) == NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			s->klen = dec.len;
			pos = j + 2;
			ns++;
			continue;
		}
		if (i < n && text[i] == '\'') {
			j = i + 1;
			while (j < n && text[j] != '\'')
				j++;
			if (j >= n || j + 1 >= n || text[j + 1] != ']') {
				r = path_error(why, text, n, pos,
				    "unterminated ['key']");
				goto out;
			}
			s->kind = TW_SEG_KEY;
			if ((s->key = tw_arena_strndup(a, text + i + 1,
			    j - i - 1)) == NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			s->klen = j - i - 1;
			pos = j + 2;
			ns++;
			continue;
		}
		r = path_error(why, text, n, pos, "bad [...] segment");
		goto out;
	}
	if (segs[0].kind == TW_SEG_KEY && segs[0].klen == 3 &&
	    memcmp(segs[0].key, "raw", 3) == 0) {
		r = path_error(why, text, n, 0,
		    "`raw` (binary payload) is not addressable by rules");
		goto out;
	}
	if ((p = tw_arena_alloc(a, sizeof(*p))) == NULL ||
	    (p->segs = tw_arena_alloc(a, ns * sizeof(*p->segs))) == NULL ||
	    (p->text = tw_arena_strndup(a, text, n)) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	memcpy(p->segs, segs, ns * sizeof(*segs));
	p->n = ns;
	p->plain = true;
	for (i = 0; i < ns; i++)
		if (segs[i].kind == TW_SEG_STAR)
			p->plain = false;
	*out = p;
out:
	tw_buf_cleanup(&dec);
	return r;
}

static bool
seg_eq(const struct tw_seg *x, const struct tw_seg *y)
{
	if (x->kind != y->kind)
		return false;
	if (x->kind == TW_SEG_KEY)
		return x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0;
	if (x->kind == TW_SEG_IDX)
		return x->idx == y->idx;
	return true;
}

bool
tw_path_eq(const struct tw_path *x, const struct tw_path *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (!seg_eq(&x->segs[i], &y->segs[i]))
			return false;
	return true;
}

struct tw_path *
tw_path_join(struct tw_arena *a, const struct tw_path *prefix,
    const struct tw_path *rest, size_t from)
{
	struct tw_path *p;
	size_t n = prefix->n + (rest->n - from);

	if (n > TW_PATH_SEGS_MAX * 4 ||
	    (p = tw_arena_alloc(a, sizeof(*p))) == NULL ||
	    (p->segs = tw_arena_alloc(a, n * sizeof(*p->segs))) == NULL)
		return NULL;
	memcpy(p->segs, prefix->segs, prefix->n * sizeof(*p->segs));
	memcpy(p->segs + prefix->n, rest->segs + from,
	    (rest->n - from) * sizeof(*p->segs));
	p->n = n;
	p->text = rest->text;
	p->plain = true;
	for (size_t i = 0; i < n; i++)
		if (p->segs[i].kind == TW_SEG_STAR)
			p->plain = false;
	return p;
}

/* ---- the registry ---- */

struct tw_fields {
	const struct tw_path **paths;
	size_t n, cap;
};

struct tw_fields *
tw_fields_new(void)
{
	return calloc(1, sizeof(struct tw_fields));
}

void
tw_fields_free(struct tw_fields *f)
{
	if (f == NULL)
		return;
	free(f->paths);
	free(f);
}

int
tw_fields_intern(struct tw_fields *f, const struct tw_path *p, uint32_t *slot)
{
	const struct tw_path **np;
	size_t cap;

	for (size_t i = 0; i < f->n; i++) {
		if (tw_path_eq(f->paths[i], p)) {
			*slot = (uint32_t)i;
			return 0;
		}
	}
	if (f->n >= SLOTS_MAX)
		return TW_ELIMIT;
	if (f->n == f->cap) {
		cap = f->cap != 0 ? f->cap * 2 : 64;
		if ((np = realloc(f->paths, cap * sizeof(*np))) == NULL)
			return TW_ENOMEM;
		f->paths = np;
		f->cap = cap;
	}
	f->paths[f->n] = p;
	*slot = (uint32_t)f->n++;
	return 0;
}

size_t
tw_fields_count(const struct tw_fields *f)
{
	return f->n;
}

const struct tw_path *
tw_fields_path(const struct tw_fields *f, uint32_t slot)
{
	return slot < f->n ? f->paths[slot] : NULL;
}

/* ---- the trie ---- */

struct tkey {
	const char *key;
	size_t klen;
	struct tnode *child;
};

struct tidx {
	int64_t idx;
	struct tnode *child;
};

struct tnode {
	struct tkey *keys;
	size_t nkeys;
	struct tidx *idxs;
	size_t nidx;
	struct tnode *star;
	uint32_t *slots; /* terminal for these slots (equal paths share) */
	size_t nslots;
};

struct tw_trie {
	struct tnode *root;
};

/* Build-time node: children in linked lists. */
struct bnode {
	struct tw_seg seg;
	struct bnode *kids, *next;
	uint32_t *slots;
	size_t nslots;
};

static void
bnode_free(struct bnode *b)
{
	struct bnode *k, *kn;

	if (b == NULL)
		return;
	for (k = b->kids; k != NULL; k = kn) {
		kn = k->next;
		bnode_free(k);
	}
	free(b->slots);
	free(b);
}

static int
bnode_insert(struct bnode *root, const struct tw_path *p, uint32_t slot)
{
	struct bnode *cur = root, *k;
	uint32_t *s;

	for (size_t i = 0; i < p->n; i++) {
		for (k = cur->kids; k != NULL; k = k->next)
			if (seg_eq(&k->seg, &p->segs[i]))
				break;
		if (k == NULL) {
			if ((k = calloc(1, sizeof(*k))) == NULL)
				return TW_ENOMEM;
			k->seg = p->segs[i];
			k->next = cur->kids;
			cur->kids = k;
		}
		cur = k;
	}
	if ((s = realloc(cur->slots, (cur->nslots + 1) * sizeof(*s))) == NULL)
		return TW_ENOMEM;
	s[cur->nslots++] = slot;
	cur->slots = s;
	return 0;
}

static int
tkey_cmp(const void *a, const void *b)
{
	const struct tkey *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

static struct tnode *
freeze(const struct bnode *b, struct tw_arena *a)
{
	struct tnode *t;
	struct bnode *k;
	size_t nk = 0, ni = 0;

	if ((t = tw_arena_alloc(a, sizeof(*t))) == NULL)
		return NULL;
	for (k = b->kids; k != NULL; k = k->next) {
		if (k->seg.kind == TW_SEG_KEY)
			nk++;
		else if (k->seg.kind == TW_SEG_IDX)
			ni++;
	}
	if ((nk > 0 && (t->keys = tw_arena_alloc(a, nk * sizeof(*t->keys))) ==
	    NULL) || (ni > 0 && (t->idxs = tw_arena_alloc(a,
	    ni * sizeof(*t->idxs))) == NULL))
		return NULL;
	for (k = b->kids; k != NULL; k = k->next) {
		struct tnode *c = freeze(k, a);

		if (c == NULL)
			return NULL;
		if (k->seg.kind == TW_SEG_KEY) {
			t->keys[t->nkeys].key = k->seg.key;
			t->keys[t->nkeys].klen = k->seg.klen;
			t->keys[t->nkeys++].child = c;
		} else if (k->seg.kind == TW_SEG_IDX) {
			t->idxs[t->nidx].idx = k->seg.idx;
			t->idxs[t->nidx++].child = c;
		} else
			t->star = c;
	}
	if (t->nkeys > 1)
		qsort(t->keys, t->nkeys, sizeof(*t->keys), tkey_cmp);
	if (b->nslots > 0) {
		if ((t->slots = tw_arena_alloc(a, b->nslots *
		    sizeof(*t->slots))) == NULL)
			return NULL;
		memcpy(t->slots, b->slots, b->nslots * sizeof(*t->slots));
		t->nslots = b->nslots;
	}
	return t;
}

struct tw_trie *
tw_trie_build(const struct tw_fields *f, const bool *use, struct tw_arena *a)
{
	struct tw_trie *t = NULL;
	struct bnode *root;

	if ((root = calloc(1, sizeof(*root))) == NULL)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		if (use != NULL && !use[i])
			continue;
		if (bnode_insert(root, f->paths[i], (uint32_t)i) != 0)
			goto out;
	}
	if ((t = tw_arena_alloc(a, sizeof(*t))) == NULL ||
	    (t->root = freeze(root, a)) == NULL)
		t = NULL;
out:
	bnode_free(root);
	return t;
}

/* ---- per-record values ---- */

void
tw_slotvals_init(struct tw_slotvals *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->values_max = TW_SLOT_VALUES_MAX;
}

void
tw_slotvals_cleanup(struct tw_slotvals *sv)
{
	for (size_t i = 0; i < sv->nslots; i++)
		free(sv->slots[i].v);
	free(sv->slots);
	memset(sv, 0, sizeof(*sv));
}

int
tw_slotvals_reset(struct tw_slotvals *sv, size_t nslots)
{
	struct tw_slot *s;

	if (nslots > sv->nslots) {
		if ((s = realloc(sv->slots, nslots * sizeof(*s))) == NULL)
			return TW_ENOMEM;
		memset(s + sv->nslots, 0, (nslots - sv->nslots) * sizeof(*s));
		sv->slots = s;
		sv->nslots = nslots;
	}
	if (++sv->gen == 0) {
		/* Wrapped: make every slot stale for certain. */
		for (size_t i = 0; i < sv->nslots; i++)
			sv->slots[i].gen = 0;
		sv->gen = 1;
	}
	sv->values = 0;
	if (sv->values_max == 0)
		sv->values_max = TW_SLOT_VALUES_MAX;
	return 0;
}

static struct tw_slot *
slot_get(struct tw_slotvals *sv, uint32_t slot)
{
	struct tw_slot *s = &sv->slots[slot];

	if (s->gen != sv->gen) {
		s->gen = sv->gen;
		s->n = 0;
		s->has_direct = false;
	}
	return s;
}

static int
slot_push(struct tw_slotvals *sv, uint32_t slot, const struct tw_value *v)
{
	struct tw_slot *s = slot_get(sv, slot);
	struct tw_value *nv;
	uint32_t cap;

	if (sv->values >= sv->values_max || s->n >= SLOT_VALUES_CAP) {
		sv->truncated++;
		return 0;
	}
	if (s->n == s->cap) {
		cap = s->cap != 0 ? s->cap * 2 : 8;
		if ((nv = realloc(s->v, cap * sizeof(*nv))) == NULL)
			return TW_ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = *v;
	sv->values++;
	return 0;
}

const struct tw_value *
tw_slot_values(const struct tw_slotvals *sv, uint32_t slot, size_t *n)
{
	const struct tw_slot *s;

	if (slot >= sv->nslots || (s = &sv->slots[slot])->gen != sv->gen) {
		*n = 0;
		return NULL;
	}
	*n = s->n;
	return s->v;
}

const struct tw_value *
tw_slot_direct(const struct tw_slotvals *sv, uint32_t slot)
{
	const struct tw_slot *s;

	if (slot >= sv->nslots || (s = &sv->slots[slot])->gen != sv->gen ||
	    !s->has_direct)
		return NULL;
	return &s->direct;
}

/* Push the leaves of v (arrays expanded, nulls dropped) into the slot. */
static int
add_leaves(struct tw_slotvals *sv, uint32_t slot, const struct tw_value *v)
{
	struct tw_mp_reader r;
	struct tw_value e;
	int rc;

	if (v->o.type == TW_MP_NIL)
		return 0;
	if (v->o.type != TW_MP_ARRAY)
		return slot_push(sv, slot, v);
	tw_mp_reader_init(&r, v->body, (size_t)(v->end - v->body));
	for (uint32_t i = 0; i < v->o.v.count; i++) {
		if ((rc = tw_value_read(&r, v->end, &e)) != 0 ||
		    (rc = add_leaves(sv, slot, &e)) != 0 ||
		    (rc = tw_value_skip_rest(&r, &e)) != 0)
			return rc;
	}
	return 0;
}

/* Read a map key, containers included, leaving r on its value. */
static int
read_key(struct tw_mp_reader *r, const uint8_t *end, struct tw_value *k)
{
	int rc;

	if ((rc = tw_value_read(r, end, k)) != 0)
		return rc;
	return tw_value_skip_rest(r, k);
}

static const struct tnode *
find_key(const struct tnode *t, const char *k, size_t klen)
{
	size_t lo = 0, hi = t->nkeys;
	struct tkey want = { k, klen, NULL };

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = tkey_cmp(&want, &t->keys[mid]);

		if (c == 0)
			return t->keys[mid].child;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int walk(const struct tnode *t, const struct tw_value *v, bool direct,
    struct tw_slotvals *sv);

/* Apply t's key children to v, expanding arrays (arrays are transparent). */
static int
walk_keys(const struct tnode *t, const struct tw_value *v, bool direct,
    struct tw_slotvals *sv)
{
	struct tw_mp_reader r;
	struct tw_value k, e;
	const struct tnode *c;
	int rc;

	if (v->o.type != TW_MP_MAP && v->o.type != TW_MP_ARRAY)
		return 0;
	tw_mp_reader_init(&r, v->body, (size_t)(v->end - v->body));
	for (uint32_t i = 0; i < v->o.v.count; i++) {
		c = NULL;
		if (v->o.type == TW_MP_MAP) {
			if ((rc = read_key(&r, v->end, &k)) != 0)
				return rc;
			if (k.o.type == TW_MP_STR)
				c = find_key(t, k.o.v.s.p, k.o.v.s.len);
		}
		if ((rc = tw_value_read(&r, v->end, &e)) != 0)
			return rc;
		if (v->o.type == TW_MP_ARRAY)
			rc = walk_keys(t, &e, false, sv);
		else if (c != NULL)
			rc = walk(c, &e, direct, sv);
		if (rc != 0 || (rc = tw_value_skip_rest(&r, &e)) != 0)
			return rc;
	}
	return 0;
}

static int
walk(const struct tnode *t, const struct tw_value *v, bool direct,
    struct tw_slotvals *sv)
{
	struct tw_mp_reader r;
	struct tw_value e;
	int rc;

	for (size_t i = 0; i < t->nslots; i++) {
		if ((rc = add_leaves(sv, t->slots[i], v)) != 0)
			return rc;
		if (direct) {
			struct tw_slot *s = slot_get(sv, t->slots[i]);

			s->direct = *v;
			s->has_direct = true;
		}
	}
	if (t->nkeys > 0 && (rc = walk_keys(t, v, direct, sv)) != 0)
		return rc;
	if (t->nidx > 0 && v->o.type == TW_MP_ARRAY) {
		for (size_t j = 0; j < t->nidx; j++) {
			int64_t idx = t->idxs[j].idx, cnt = v->o.v.count;

			if (idx < 0)
				idx += cnt;
			if (idx < 0 || idx >= cnt)
				continue;
			tw_mp_reader_init(&r, v->body, (size_t)(v->end - v->body));
			for (int64_t i = 0; i <= idx; i++) {
				if ((rc = tw_value_read(&r, v->end, &e)) != 0)
					return rc;
				if (i == idx)
					rc = walk(t->idxs[j].child, &e, direct, sv);
				else
					rc = tw_value_skip_rest(&r, &e);
				if (rc != 0)
					return rc;
			}
		}
	}
	if (t->star != NULL && (v->o.type == TW_MP_MAP ||
	    v->o.type == TW_MP_ARRAY)) {
		tw_mp_reader_init(&r, v->body, (size_t)(v->end - v->body));
		for (uint32_t i = 0; i < v->o.v.count; i++) {
			struct tw_value k;

			if (v->o.type == TW_MP_MAP &&
			    (rc = read_key(&r, v->end, &k)) != 0)
				return rc;
			if ((rc = tw_value_read(&r, v->end, &e)) != 0 ||
			    (rc = walk(t->star, &e, false, sv)) != 0 ||
			    (rc = tw_value_skip_rest(&r, &e)) != 0)
				return rc;
		}
	}
	return 0;
}

int
tw_trie_walk(const struct tw_trie *t, const void *rec, size_t len,
    struct tw_slotvals *sv)
{
	struct tw_mp_reader r;
	struct tw_value v;
	int rc;

	tw_mp_reader_init(&r, rec, len);
	if ((rc = tw_value_read(&r, (const uint8_t *)rec + len, &v)) != 0)
		return rc;
	if (v.o.type != TW_MP_MAP)
		return TW_EMSGPACK;
	/* The root holds no slot (paths are never empty): its children do. */
	return walk(t->root, &v, true, sv);
}

int
tw_value_leaves(const struct tw_value *v,
    int (*fn)(void *arg, const struct tw_value *leaf), void *arg)
{
	struct tw_mp_reader r;
	struct tw_value k, e;
	int rc;

	if (v->o.type == TW_MP_NIL)
		return 0;
	if (v->o.type != TW_MP_MAP && v->o.type != TW_MP_ARRAY)
		return fn(arg, v);
	tw_mp_reader_init(&r, v->body, (size_t)(v->end - v->body));
	for (uint32_t i = 0; i < v->o.v.count; i++) {
		if (v->o.type == TW_MP_MAP &&
		    (rc = read_key(&r, v->end, &k)) != 0)
			return rc;
		if ((rc = tw_value_read(&r, v->end, &e)) != 0 ||
		    (rc = tw_value_leaves(&e, fn, arg)) != 0 ||
		    (rc = tw_value_skip_rest(&r, &e)) != 0)
			return rc;
	}
	return 0;
}

int
tw_value_keys(const struct tw_value *v,
    int (*fn)(void *arg, const struct tw_value *key), void *arg)
{
	struct tw_mp_reader r;
	struct tw_value k, e;
	int rc;

	if (v->o.type != TW_MP_MAP)
		return 0;
	tw_mp_reader_init(&r, v->body, (size_t)(v->end - v->body));
	for (uint32_t i = 0; i < v->o.v.count; i++) {
		if ((rc = read_key(&r, v->end, &k)) != 0)
			return rc;
		if ((rc = fn(arg, &k)) != 0)
			return rc;
		if ((rc = tw_value_read(&r, v->end, &e)) != 0 ||
		    (rc = tw_value_skip_rest(&r, &e)) != 0)
			return rc;
	}
	return 0;
}
