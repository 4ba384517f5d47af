/* conf.h: YAML configuration loading driven by per-module key tables. */
#ifndef TW_CONF_H
#define TW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * Each module describes its keys in a table (struct tw_conf_key[], ended
 * by an entry whose name is NULL). The table drives parsing, defaults,
 * bounds, --check-config, reload checks and the reference documentation.
 * The loader fills a caller-zeroed struct through the offsets in the table.
 *
 * Storage per type (the field at .offset):
 *   STR, ADDR, PATH   char *             malloc'd, NUL-free
 *   BOOL              bool               true/false/yes/no/on/off (any case)
 *   INT               int64_t            decimal, optional sign
 *   SIZE              uint64_t bytes     "4096", "64KiB", "8 MiB"; units B,
 *                                        KiB, MiB, GiB, TiB (no KB/MB/GB)
 *   DURATION          uint64_t ms        "250ms", "10s", "5m", "1h",
 *                                        "1m30s" (units descending, each
 *                                        once); a bare number is an error
 *   ENUM              int                index into .enum_values
 *   STRLIST           struct tw_conf_strv  a sequence of scalars, or one
 *                                        scalar as a 1-element list
 *   SECTION           the struct itself  a nested mapping, keys in .sub
 *                                        (or chosen by .variants)
 *   LIST              struct tw_conf_list  a sequence of mappings, each
 *                                        .item_size bytes, keys in .sub
 *                                        (or chosen by .variants)
 *   ADDR              "host:port", "[v6]:port" or ":port", port 0-65535
 *   PATH              a non-empty path; existence is not checked
 *
 * Variants (SECTION or LIST with .variants): the mapping's `type` key picks
 * one struct tw_conf_variant, and only that variant's keys are allowed.
 * Every variant table must contain a key named "type" of type TW_CONF_STR,
 * at the same offset in all variants: that is where the type name is
 * stored, and how tw_conf_free() and tw_conf_reload_check() find the
 * variant again. Variants may lay their other fields out differently
 * (e.g. in a union), since only the selected variant's keys are touched.
 */
enum tw_conf_type {
	TW_CONF_STR,
	TW_CONF_BOOL,
	TW_CONF_INT,
	TW_CONF_SIZE,
	TW_CONF_DURATION,
	TW_CONF_ENUM,
	TW_CONF_STRLIST,
	TW_CONF_SECTION,
	TW_CONF_LIST,
	TW_CONF_ADDR,
	TW_CONF_PATH,
};

/* Key flags. */
#define TW_CONF_REQUIRED 0x01	/* absent (or null) is an error; no default */
#define TW_CONF_RELOADABLE 0x02 /* may change on SIGHUP */
#define TW_CONF_SECRET 0x04	/* a *_file key naming a secret file (STR/PATH) */

/* Load options. */
#define TW_CONF_OPT_ENV 0x01	/* ${VAR}, ${VAR:-def}, ${VAR:?msg} in values */

/* Limits on the input. */
#define TW_CONF_FILE_MAX (4u << 20)	/* bytes */
#define TW_CONF_DEPTH_MAX 32		/* nested mappings/sequences */
#define TW_CONF_NODES_MAX 65536		/* YAML nodes in one document */
#define TW_CONF_VALUE_MAX (1u << 20)	/* a value after interpolation */
#define TW_CONF_DIAG_MAX 100		/* messages kept, then "too many" */

/* Bounds: min == max == 0 means unbounded; use this for "no maximum". */
#define TW_CONF_NOMAX INT64_MAX

struct tw_conf_strv {
	char **v;
	size_t n;
};

struct tw_conf_list {
	void *items; /* n items of the key's .item_size bytes */
	size_t n;
};

struct tw_conf_variant;

struct tw_conf_key {
	const char *name;
	enum tw_conf_type type;
	size_t offset;		/* offsetof() into the struct being filled */
	const char *def;	/* default as YAML scalar text, or NULL (absent) */
	int64_t min, max;	/* INT/SIZE/DURATION bounds, inclusive */
	unsigned flags;
	const char *desc;	/* one sentence for docs and --help */
	const char *const *enum_values;		/* ENUM, NULL-terminated */
	const struct tw_conf_key *sub;		/* SECTION / LIST item keys */
	size_t item_size;			/* LIST */
	const struct tw_conf_variant *variants; /* ended by {NULL} */
};

struct tw_conf_variant {
	const char *type;
	const struct tw_conf_key *keys;
};

struct tw_conf_where;

/*
 * Diagnostics of one or more loads: the error messages, each
 * "file:line:col: message" (1-based), and the position of every value the
 * last load set, so a module's own checks after loading can point at the
 * offending line (tw_conf_pos, tw_conf_diag_at). Embedded by the caller;
 * the fields are private. One owner at a time, like any struct.
 */
struct tw_conf_diag {
	char **msgs;
	size_t n, cap;
	bool full;			/* TW_CONF_DIAG_MAX reached */
	char *file;			/* name given to the last load */
	struct tw_conf_where *where;	/* dotted path -> position */
	size_t nwhere, capwhere;
};

void tw_conf_diag_init(struct tw_conf_diag *d);
/* Free everything; d may be initialised again. */
void tw_conf_diag_cleanup(struct tw_conf_diag *d);
/* Number of messages (at most TW_CONF_DIAG_MAX + 1). */
size_t tw_conf_diag_count(const struct tw_conf_diag *d);
/* Message i, owned by d; NULL when i is out of range. */
const char *tw_conf_diag_msg(const struct tw_conf_diag *d, size_t i);
/*
 * Add "file:line:col: message" (just "file: message" when line <= 0, just
 * "message" when file is NULL). For modules' checks after loading; an
 * allocation failure loses the message.
 */
void tw_conf_diag_add(struct tw_conf_diag *d, const char *file, int line,
    int col, const char *fmt, ...) TW_PRINTF(5, 6);
/*
 * Add a message at the position of the value at dotted path ("agent.http",
 * "inputs[1].paths") in the last load; a path the file did not set (a
 * default) takes the position of its nearest ancestor that it did, else
 * 1:1.
 */
void tw_conf_diag_at(struct tw_conf_diag *d, const char *path,
    const char *fmt, ...) TW_PRINTF(3, 4);
/*
 * The 1-based position of the value at dotted path in the last load: 0, or
 * TW_ENOTFOUND when the file did not set it.
 */
int tw_conf_pos(const struct tw_conf_diag *d, const char *path, int *line,
    int *col);

/*
 * Parse text (len bytes, need not be NUL-terminated; name is used in
 * messages) and fill out, a zeroed struct described by root: values from
 * the text, then defaults for every key not present (also inside absent
 * sections), checking types and bounds. All errors are added to d (which
 * may be NULL) in one pass. Returns 0; TW_ECONFIG when the configuration
 * has errors; TW_EINVAL when root itself is broken (see
 * tw_conf_table_check); TW_ENOMEM. On failure out holds no memory
 * (calling tw_conf_free on it is still safe). opts: TW_CONF_OPT_* (without
 * TW_CONF_OPT_ENV a "${" is literal text). Thread-safe; reads the
 * environment only with TW_CONF_OPT_ENV.
 */
int tw_conf_load_mem(const char *name, const char *text, size_t len,
    const struct tw_conf_key *root, void *out, unsigned opts,
    struct tw_conf_diag *d) TW_WARN_UNUSED;
/*
 * tw_conf_load_mem() on the contents of path. Also returns TW_EIO ("path:
 * cannot read: reason") and TW_ECONFIG for files over TW_CONF_FILE_MAX.
 */
int tw_conf_load_file(const char *path, const struct tw_conf_key *root,
    void *out, unsigned opts, struct tw_conf_diag *d) TW_WARN_UNUSED;
/*
 * Free the strings, string lists and lists of obj, recursively, and zero
 * those fields. Safe on a zeroed or partially filled struct, and twice.
 */
void tw_conf_free(const struct tw_conf_key *root, void *obj);

/*
 * Sanity-check a key table: names unique and [a-z0-9_], SECRET keys end in
 * "_file", defaults parse and are in bounds, REQUIRED keys have no default,
 * ENUMs have values, LIST/SECTION have keys, variant tables have a "type"
 * STR key at one offset. Returns 0, or TW_EINVAL with *why (when why is
 * not NULL) set to a malloc'd sentence the caller frees; TW_ENOMEM.
 */
int tw_conf_table_check(const struct tw_conf_key *root, char **why)
    TW_WARN_UNUSED;

/*
 * Append a Markdown reference of root to out: a "## title" heading (when
 * title is not NULL) and one table row per key (dotted name, type,
 * default, bounds, reloadable, description). Returns 0 or the tw_buf
 * error.
 */
int tw_conf_write_reference(struct tw_buf *out, const struct tw_conf_key *root,
    const char *title) TW_WARN_UNUSED;

/*
 * Compare two loaded configurations and add to d one message per changed
 * key that is not RELOADABLE ("'collector.listen' cannot change on reload;
 * restart to apply"), placed by d's positions (load new_obj with d).
 * Returns 0, or TW_ECONFIG when anything such changed.
 */
int tw_conf_reload_check(const struct tw_conf_key *root, const void *old_obj,
    const void *new_obj, struct tw_conf_diag *d) TW_WARN_UNUSED;

/*
 * The value parsers behind SIZE and DURATION, for command-line flags:
 * 0, TW_EINVAL when malformed, TW_ETOOBIG on overflow.
 */
int tw_conf_parse_size(const char *s, uint64_t *bytes) TW_WARN_UNUSED;
int tw_conf_parse_duration(const char *s, uint64_t *ms) TW_WARN_UNUSED;

#endif
