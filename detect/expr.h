/* expr.h: the rule condition language (RULES.md §3-§5): parser, compiler and evaluator. */
#ifndef TW_EXPR_H
#define TW_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "fields.h"
#include "ops.h"
#include "regex.h"

enum tw_op {
	TW_OP_EQ, TW_OP_NE, TW_OP_LT, TW_OP_LE, TW_OP_GT, TW_OP_GE, TW_OP_IN,
	TW_OP_IEQ, TW_OP_CONTAINS, TW_OP_ICONTAINS, TW_OP_STARTSWITH,
	TW_OP_ISTARTSWITH, TW_OP_ENDSWITH, TW_OP_IENDSWITH, TW_OP_GLOB,
	TW_OP_IGLOB, TW_OP_PEQ, TW_OP_PMATCH, TW_OP_REGEX, TW_OP_IREGEX,
	TW_OP_CIDR, TW_OP_EXISTS,
};

enum tw_quant {
	TW_Q_ANY,    /* p op rhs, any(p) */
	TW_Q_ALL,    /* all(p): >= 1 value and every value */
	TW_Q_KEYS,   /* keys(p): the keys of every map value */
	TW_Q_LEAVES, /* every scalar leaf under p (Sigma keywords) */
};

enum tw_scalar_kind { TW_SCALAR_STR, TW_SCALAR_INT, TW_SCALAR_FLOAT,
	TW_SCALAR_BOOL };

/*
 * A typed literal value as written in a condition, a list or YAML: its
 * string form (canonical for numbers, "true"/"false"), its number, its
 * boolean. Spans are owned by whoever made it.
 */
struct tw_scalar {
	enum tw_scalar_kind kind;
	const char *s;
	size_t n;
	double d; /* INT, FLOAT */
	bool b;   /* BOOL */
};

/* A compiled literal of a predicate. */
struct tw_lit {
	struct tw_scalar v;
	bool has_num;       /* the numeric view of v exists */
	double num;
	const char *alt;    /* lower-cased (i* ops, iglob) or normalised (peq) */
	size_t altn;
	struct tw_regex *rx; /* regex, iregex */
	struct tw_net net;   /* cidr */
};

struct tw_pred {
	enum tw_quant quant;
	enum tw_op op;
	const struct tw_path **paths; /* alias-expanded, in target order */
	uint32_t *slots;              /* the slot of each path */
	size_t npaths;
	struct tw_lit *lits;
	size_t nlits;
	const char *operand;          /* as written: "all(audit.actor.name)" */
};

enum tw_node_kind { TW_NODE_AND, TW_NODE_OR, TW_NODE_NOT, TW_NODE_PRED,
	TW_NODE_CONST };

/* A condition: a tree (a DAG once macros are shared) in an arena. */
struct tw_node {
	enum tw_node_kind kind;
	struct tw_node **kids; /* AND, OR: n kids; NOT: 1 */
	size_t n;
	struct tw_pred *pred;  /* PRED */
	bool value;            /* CONST */
};

/* Limits of the language. */
#define TW_EXPR_TEXT_MAX (64u << 10) /* condition text bytes */
#define TW_EXPR_DEPTH_MAX 128        /* nesting, macros included */
#define TW_EXPR_NODES_MAX 100000     /* nodes after macro expansion */
#define TW_EXPR_TREE_DEPTH_MAX 256   /* levels after macro expansion */
#define TW_EXPR_ALIAS_DEPTH 8        /* alias targets naming aliases */
#define TW_EXPR_ALIAS_PATHS 256      /* paths one operand expands to */
#define TW_EXPR_LIST_ITEMS 100000    /* items of one list, flattened */

/*
 * Lists, aliases and macros of the loaded packs (RULES.md §2), by name.
 * Built by the loader, then read-only.
 */
struct tw_symbols;

struct tw_symbols *tw_symbols_new(void);
void tw_symbols_free(struct tw_symbols *s);
/*
 * Add a list whose items are scalars or "$name" references (kind STR with
 * a leading '$'), an alias with its target paths (parsed, in a), or a
 * macro's text. The symbols keep the pointers: the caller's storage must
 * outlive them. TW_EEXISTS for a name already used, TW_ENOMEM.
 */
int tw_symbols_add_list(struct tw_symbols *s, const char *name,
    const struct tw_scalar *items, size_t n) TW_WARN_UNUSED;
int tw_symbols_add_alias(struct tw_symbols *s, const char *name,
    const struct tw_path *const *targets, size_t n) TW_WARN_UNUSED;
int tw_symbols_add_macro(struct tw_symbols *s, const char *name,
    const char *text) TW_WARN_UNUSED;
/* Append items to an existing list (overlays); TW_ENOTFOUND. */
int tw_symbols_list_append(struct tw_symbols *s, const char *name,
    const struct tw_scalar *items, size_t n) TW_WARN_UNUSED;
bool tw_symbols_has_list(const struct tw_symbols *s, const char *name);
bool tw_symbols_has_alias(const struct tw_symbols *s, const char *name);
bool tw_symbols_has_macro(const struct tw_symbols *s, const char *name);
/* Name of macro i (i < count), in the order added, or NULL. */
const char *tw_symbols_macro_name(const struct tw_symbols *s, size_t i);

/*
 * The flattened items of list name ("$x" items expanded in place), in a.
 * TW_ENOTFOUND, TW_EPARSE for a cycle or an unknown reference (with *why),
 * TW_ENOMEM.
 */
int tw_symbols_list_items(const struct tw_symbols *s, const char *name,
    struct tw_arena *a, struct tw_scalar **items, size_t *n, char **why)
    TW_WARN_UNUSED;

/*
 * A compiler: parses conditions against symbols, interns every path into
 * fields, allocates into a, and caches compiled macros (so equal macros
 * are shared). One per rule set; not thread-safe.
 */
struct tw_compiler;

struct tw_compiler *tw_compiler_new(struct tw_arena *a,
    const struct tw_symbols *sym, struct tw_fields *fields);
void tw_compiler_free(struct tw_compiler *c);

/*
 * Compile condition text[0..n). On TW_EPARSE *why gets a malloc'd
 * message and *err_off the byte offset in text it points at (or -1 when
 * the error lies elsewhere, e.g. in a macro). TW_ENOMEM.
 */
int tw_compile_condition(struct tw_compiler *c, const char *text, size_t n,
    struct tw_node **out, char **why, long *err_off) TW_WARN_UNUSED;

/*
 * Compile macro name (once; later calls return the cached tree). Errors
 * as tw_compile_condition, the offset into the macro's text.
 */
int tw_compile_macro(struct tw_compiler *c, const char *name,
    struct tw_node **out, char **why, long *err_off) TW_WARN_UNUSED;

/*
 * Build a predicate directly (the Sigma compiler): path text (aliases
 * expanded), quantifier, operator and literal values, checked and
 * compiled as the condition language would (regex flags from rxflags).
 * TW_EPARSE with *why, TW_ENOMEM.
 */
int tw_compile_pred(struct tw_compiler *c, enum tw_quant q, enum tw_op op,
    const char *path, const struct tw_scalar *vals, size_t nvals,
    unsigned rxflags, struct tw_node **out, char **why) TW_WARN_UNUSED;

/* A node of kind with kids (copied), in the compiler's arena; NULL on ENOMEM. */
struct tw_node *tw_node_new(struct tw_compiler *c, enum tw_node_kind kind,
    struct tw_node *const *kids, size_t n);

/* Resolve a path text with aliases: its target paths (in a). */
int tw_compile_paths(struct tw_compiler *c, const char *text, size_t n,
    const struct tw_path ***paths, uint32_t **slots, size_t *npaths,
    char **why) TW_WARN_UNUSED;

/*
 * Whether the tree n stays within TW_EXPR_NODES_MAX nodes (shared subtrees
 * counted each time they are reached) and TW_EXPR_TREE_DEPTH_MAX levels;
 * the walk itself stops at the limits.
 */
bool tw_node_check(const struct tw_node *n);

/* The operator named s[0..n), or -1. */
int tw_op_parse(const char *s, size_t n);
/* The name of op. */
const char *tw_op_name(enum tw_op op);

/*
 * Per-thread evaluation scratch: slot values, PCRE2 match data and JIT
 * stack, string buffers. The fields are for detect/ modules; others use
 * the functions. One owner thread at a time.
 */
struct tw_match {
	struct tw_slotvals sv;
	struct tw_rx_thread *rx;
	struct tw_buf tmp, fold, norm;
	uint64_t limit_hits; /* regex limits hit, added to by evaluations */
	int err;             /* first hard error (TW_ENOMEM) of an evaluation */
};

/* A new scratch; NULL on ENOMEM. */
struct tw_match *tw_match_new(void);
void tw_match_free(struct tw_match *m);

/*
 * Evaluate a compiled condition on the record whose slots m holds (filled
 * by tw_trie_walk). A regex that hits a limit makes its predicate false
 * and increments m->limit_hits.
 */
bool tw_node_eval(const struct tw_node *n, struct tw_match *m);

/*
 * A standalone expression (trawl query --where): its own paths and trie.
 */
struct tw_expr;

/*
 * Compile text (NUL-terminated) against sym (lists, aliases and macros of
 * loaded rules; NULL for none). NULL on error with *why (malloc'd; NULL
 * when out of memory).
 */
struct tw_expr *tw_expr_compile(const char *text, const struct tw_symbols *sym,
    char **why);
void tw_expr_free(struct tw_expr *e);

/*
 * Evaluate e on the record rec[0..len) (a msgpack map). m is the calling
 * thread's scratch (NULL: a temporary one is made). Returns 1 (matches),
 * 0, or a negative TW_E* code for a malformed record (TW_EMSGPACK,
 * TW_EDEPTH, TW_ELIMIT) or TW_ENOMEM. Thread-safe for distinct m.
 */
int tw_expr_eval(const struct tw_expr *e, struct tw_match *m, const void *rec,
    size_t len) TW_WARN_UNUSED;

/*
 * Check that rec[0..len) is one msgpack map within the DESIGN.md §8
 * limits, as every evaluation requires: 0 or a TW_E* code.
 */
int tw_record_check(const void *rec, size_t len) TW_WARN_UNUSED;

#endif
