/* ytree.h: a YAML document as a tree with positions, scalars typed as PyYAML does. */
#ifndef TW_YTREE_H
#define TW_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "expr.h"

enum tw_ykind { TW_Y_SCALAR, TW_Y_MAP, TW_Y_SEQ };

enum tw_ystyle { TW_YS_PLAIN, TW_YS_SINGLE, TW_YS_DOUBLE, TW_YS_BLOCK };

/* The type YAML 1.1 (PyYAML's safe_load) gives a scalar. */
enum tw_ytype { TW_YT_NULL, TW_YT_BOOL, TW_YT_INT, TW_YT_FLOAT, TW_YT_STR,
	TW_YT_BAD };

struct tw_ynode {
	enum tw_ykind kind;
	int line, col;       /* 1-based, of the node's first character */
	enum tw_ystyle style;
	bool tagged;         /* an explicit tag: taken as a string */
	char *text;          /* SCALAR, NUL-terminated */
	size_t len;
	struct tw_ynode **kids; /* MAP: key, value, key, value...; SEQ: items */
	size_t n;
	/* filled by tw_ytree_parse for verbatim single-line scalars */
	size_t src_off;      /* byte offset of the value text in the source */
	bool verbatim;       /* text == the source bytes at src_off */
};

/* Limits on one file. */
#define TW_YTREE_FILE_MAX (16u << 20)
#define TW_YTREE_DEPTH_MAX 64
#define TW_YTREE_NODES_MAX (1u << 20)

/*
 * Parse one YAML document from text[0..len) (name for messages). Errors
 * (syntax, aliases, a second document, duplicate keys, limits) go to d as
 * "name:line:col: message". *root is NULL for an empty document. Returns
 * 0, TW_ECONFIG (reported) or TW_ENOMEM.
 */
int tw_ytree_parse(const char *name, const char *text, size_t len,
    struct tw_ynode **root, struct tw_conf_diag *d) TW_WARN_UNUSED;

/* Free a tree; NULL is a no-op. */
void tw_ytree_free(struct tw_ynode *n);

/* The value of key in map, or NULL (also when map is not a map). */
const struct tw_ynode *tw_ymap_get(const struct tw_ynode *map,
    const char *key);

/* The YAML 1.1 type of a scalar (STR for quoted, block or tagged ones). */
enum tw_ytype tw_ytype(const struct tw_ynode *n);

/* Whether n is absent or a null scalar. */
bool tw_ynull(const struct tw_ynode *n);

/*
 * The scalar n as a typed literal (PyYAML's value: ints and floats in
 * canonical text, bools "true"/"false"), its text copied into a.
 * TW_EINVAL for null, a collection or a value safe_load refuses (a plain
 * "="); TW_ENOMEM.
 */
int tw_yscalar(const struct tw_ynode *n, struct tw_arena *a,
    struct tw_scalar *out) TW_WARN_UNUSED;

/*
 * The text of a scalar as Python's str() of its value would give ("True"
 * for a YAML bool, "None" for null), in a; for Sigma keywords. NULL on
 * ENOMEM.
 */
const char *tw_ypystr(const struct tw_ynode *n, struct tw_arena *a,
    size_t *len);

#endif
