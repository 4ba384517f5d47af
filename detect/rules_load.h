/* rules_load.h: rule packs, overlays and Sigma files into compiled rules (RULES.md §2, §6, §10). */
#ifndef TW_RULES_LOAD_H
#define TW_RULES_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "conf.h"
#include "expr.h"
#include "fields.h"

/* source.kind values (RULES.md §1), one bit each in tw_rule.kinds. */
enum tw_kind {
	TW_KIND_CONTAINER, TW_KIND_K8S_AUDIT, TW_KIND_FAAS, TW_KIND_CLOUD_AUDIT,
	TW_KIND_HOST_AUDIT, TW_KIND_SYSLOG, TW_KIND_FILE, TW_KIND_COUNT
};

/* The kind named s[0..n), or -1. */
int tw_kind_parse(const char *s, size_t n);
const char *tw_kind_name(enum tw_kind k);

/* Paths as a rule lists them (fields, group_by, distinct, throttle key). */
struct tw_keypath {
	const char *text;             /* as written: the key in alert objects */
	const struct tw_path **paths; /* alias-expanded */
	uint32_t *slots;
	size_t npaths;
};

struct tw_keyset {
	struct tw_keypath *v;
	size_t n;
};

struct tw_template;

/* Bounds of thresholds and throttles. */
#define TW_THRESHOLD_COUNT_MAX 10000

/* A compiled rule; immutable, in the rule set's arena. */
struct tw_rule {
	const char *id, *title, *severity;
	const char **tags;
	size_t ntags;
	unsigned kinds;           /* 1 << enum tw_kind */
	const char *file;         /* where it was defined */
	int line, col;
	struct tw_node *cond;     /* the condition (for masks, indexing) */
	struct tw_node *full;     /* and not exceptions, and not filters */
	struct tw_template *output;
	struct tw_keyset fields;
	bool threshold;
	uint32_t th_count;
	int64_t th_window;        /* ns */
	const char *th_window_text;
	struct tw_keyset group_by, distinct;
	bool throttle;
	int64_t tt_window;
	const char *tt_window_text;
	uint32_t tt_max;
	struct tw_keyset tt_key;
	uint8_t digest[32];       /* SHA-256 of what defines it (state carry-over) */
	bool sigma;
};

/* Load flags. */
#define TW_LOAD_SIGMA_SKIP 0x01 /* a refused Sigma rule is a warning, not an error */

/* What the loader builds; the engine indexes it. */
struct tw_rules {
	struct tw_arena *a;
	struct tw_symbols *sym;
	struct tw_fields *fields;
	struct tw_rule **rules;
	size_t n;
	size_t files;
	size_t sigma_loaded, sigma_refused;
};

/*
 * Load every file of paths (directories: their *.yaml and *.yml files,
 * recursively, in name order) as one rule set: packs first, in order,
 * then overlays, in order; Sigma files anywhere. Every error goes to d as
 * "file:line:col: message" (warnings, e.g. refused Sigma rules under
 * TW_LOAD_SIGMA_SKIP, to w when not NULL). Returns 0 with *out, TW_ECONFIG
 * when anything was wrong (nothing is returned then), TW_ENOMEM.
 */
int tw_rules_load(const char *const *paths, size_t npaths, unsigned flags,
    struct tw_rules **out, struct tw_conf_diag *d, struct tw_conf_diag *w)
    TW_WARN_UNUSED;

/*
 * tw_rules_load over in-memory files: texts[i][0..lens[i]) is the content
 * of a file named names[i] (used in messages and to name Sigma rules).
 */
int tw_rules_load_mem(const char *const *names, const char *const *texts,
    const size_t *lens, size_t n, unsigned flags, struct tw_rules **out,
    struct tw_conf_diag *d, struct tw_conf_diag *w) TW_WARN_UNUSED;

/* Free a loaded rule set; NULL is a no-op. */
void tw_rules_free(struct tw_rules *r);

/*
 * Parse a duration [1-9][0-9]*(ms|s|m|h|d) (RULES.md §2.1) to ns: 0 or
 * TW_EINVAL.
 */
int tw_duration_parse(const char *s, size_t n, int64_t *ns) TW_WARN_UNUSED;

#endif
