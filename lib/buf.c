/* buf.c: growable byte buffers with a ceiling (curl's dynbuf). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
tw_buf_init(struct tw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
tw_buf_cleanup(struct tw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
tw_buf_reset(struct tw_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
tw_buf_reserve(struct tw_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return TW_ETOOBIG;
	need = b->len + n + 1; /* room for the terminating NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if (cap < need)
		cap = need;
	if ((p = realloc(b->data, cap)) == NULL)
		return TW_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
tw_buf_add(struct tw_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = tw_buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
tw_buf_addc(struct tw_buf *b, char c)
{
	return tw_buf_add(b, &c, 1);
}

int
tw_buf_adds(struct tw_buf *b, const char *s)
{
	return tw_buf_add(b, s, strlen(s));
}

int
tw_buf_vaddf(struct tw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return TW_EINVAL;
	if ((r = tw_buf_reserve(b, (size_t)n)) != 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
tw_buf_addf(struct tw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tw_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *
tw_buf_take(struct tw_buf *b, size_t *len)
{
	char *p = b->data;

	if (p == NULL && (p = calloc(1, 1)) == NULL)
		return NULL;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
