/* buf.h: growable byte buffers with a ceiling; every append can fail. */
#ifndef TW_BUF_H
#define TW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * A buffer embedded by its owner. data is NUL-terminated after every
 * successful append (the NUL is not counted in len), so text can be used
 * as a C string. Appends past max fail with TW_ETOOBIG and leave the
 * buffer unchanged. Not thread-safe.
 */
struct tw_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* ceiling on len set by the owner */
};

/* Initialise an empty buffer that may hold at most max bytes. */
void tw_buf_init(struct tw_buf *b, size_t max);
/* Free the memory; the buffer may be initialised again. */
void tw_buf_cleanup(struct tw_buf *b);
/* Forget the contents but keep the memory. */
void tw_buf_reset(struct tw_buf *b);
/* Make room for n more bytes; TW_ETOOBIG past max, TW_ENOMEM. */
int tw_buf_reserve(struct tw_buf *b, size_t n) TW_WARN_UNUSED;
int tw_buf_add(struct tw_buf *b, const void *p, size_t n) TW_WARN_UNUSED;
int tw_buf_addc(struct tw_buf *b, char c) TW_WARN_UNUSED;
int tw_buf_adds(struct tw_buf *b, const char *s) TW_WARN_UNUSED;
int tw_buf_addf(struct tw_buf *b, const char *fmt, ...)
    TW_PRINTF(2, 3) TW_WARN_UNUSED;
int tw_buf_vaddf(struct tw_buf *b, const char *fmt, va_list ap)
    TW_WARN_UNUSED;
/* Hand the bytes (NUL-terminated) to the caller and reset the buffer. */
char *tw_buf_take(struct tw_buf *b, size_t *len);

#endif
