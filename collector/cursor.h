/* cursor.h: small durable state files (cursors) under <data_dir>/cursors. */
#ifndef TRAWL_COLLECTOR_CURSOR_H
#define TRAWL_COLLECTOR_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * A cursor file holds a few "name value" lines (value an unsigned decimal
 * integer). It is replaced atomically: written to <name>.tmp, fsync'd,
 * renamed over <name>, and the directory fsync'd, so after a crash it is
 * either the old or the new contents, never a mix.
 */
#define CURSOR_FIELDS_MAX 16
#define CURSOR_NAME_MAX 128

struct cursor_field {
	const char *name;
	uint64_t value;
};

/*
 * Create <data_dir>/cursors (mode 0750) if needed and return its path
 * (malloc'd), or NULL with errno set.
 */
char *cursor_dir(const char *data_dir);

/*
 * Replace dir/name with the n fields of f. 0, TW_EINVAL (a bad name or too
 * many fields), TW_EIO (errno set; the old file is intact).
 */
int cursor_save(const char *dir, const char *name,
    const struct cursor_field *f, size_t n) TW_WARN_UNUSED;

/*
 * Read dir/name and set the value of every field of f it names (others
 * are left alone). 0, TW_ENOTFOUND (no file), TW_EPARSE (malformed: the
 * caller treats it as absent), TW_EIO.
 */
int cursor_load(const char *dir, const char *name, struct cursor_field *f,
    size_t n) TW_WARN_UNUSED;

/*
 * A file-name-safe cursor name from s: [A-Za-z0-9._-] kept, anything else
 * becomes '_', at most CURSOR_NAME_MAX - 8 bytes; written to out (size
 * CURSOR_NAME_MAX).
 */
void cursor_name_clean(const char *s, char *out);

#endif
