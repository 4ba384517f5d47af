/* sigma.h: the Sigma phase-1 loader (RULES.md §13) into the native rule engine. */
#ifndef TW_SIGMA_H
#define TW_SIGMA_H

#include <stdbool.h>
#include <stddef.h>

#include "expr.h"
#include "ytree.h"

/* Whether a YAML document looks like a Sigma rule (it has a detection). */
bool tw_sigma_is(const struct tw_ynode *root);

/* A Sigma rule's metadata, in the arena given to tw_sigma_meta. */
struct tw_sigma_meta {
	const char *id;       /* the Sigma id, or "sigma:<file name>" */
	const char *title;
	const char *severity; /* from level; medium when absent */
	const char **tags;
	size_t ntags;
	unsigned kinds;       /* 1 << enum tw_kind of the mapped sources */
	const char *kw_path;  /* where keywords are searched */
	const char *guard;    /* condition added by the logsource, or NULL */
	const char *product, *service, *category;
};

/*
 * Read the metadata and map the logsource of the Sigma rule root (file
 * names the rule when it has no id). On refusal returns TW_EUNSUPPORTED
 * with *why (malloc'd, one line naming the construct) and *where (the node
 * to point at); TW_ENOMEM.
 */
int tw_sigma_meta(struct tw_arena *a, const char *file,
    const struct tw_ynode *root, struct tw_sigma_meta *meta,
    const struct tw_ynode **where, char **why) TW_WARN_UNUSED;

/*
 * Compile the detection of root into a condition through c (the guard of
 * the logsource included). Refusals as tw_sigma_meta.
 */
int tw_sigma_compile(struct tw_compiler *c, struct tw_arena *a,
    const struct tw_ynode *root, const struct tw_sigma_meta *meta,
    struct tw_node **out, const struct tw_ynode **where, char **why)
    TW_WARN_UNUSED;

#endif
