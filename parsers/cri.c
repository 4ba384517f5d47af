/* cri.c: the cri format: Kubernetes CRI container logs (containerd, CRI-O). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "formats.h"
#include "multiline.h"
#include "timefmt.h"

/* The two streams, in the order pending partials are flushed. */
enum { CRI_STDERR, CRI_STDOUT, CRI_STREAMS };

static const char *const stream_names[CRI_STREAMS] = { "stderr", "stdout" };

struct cri_state {
	struct tw_ml_writer out;
	struct tw_ml_partial pending[CRI_STREAMS];
	struct tw_time_cache time; /* the lines' second, mostly the last's */
};

static void
cri_free(void *state)
{
	struct cri_state *s = state;

	if (s == NULL)
		return;
	tw_ml_writer_cleanup(&s->out);
	for (int i = 0; i < CRI_STREAMS; i++)
		tw_ml_partial_cleanup(&s->pending[i]);
	free(s);
}

static int
cri_new(const struct tw_parse_opts *o, void **state)
{
	struct cri_state *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	for (int i = 0; i < CRI_STREAMS; i++)
		tw_ml_partial_init(&s->pending[i]);
	tw_time_cache_init(&s->time);
	if ((r = tw_ml_writer_init(&s->out, o, "cri", 0)) != 0) {
		cri_free(s);
		return r;
	}
	*state = s;
	return 0;
}

/* One line split into its fields; valid when stream >= 0. */
struct cri_line {
	int stream;
	bool partial, has_time;
	int64_t time_ns;
	const char *content;
	size_t content_len;
};

/* The first space in p[0..n), or NULL; the time before it is short. */
static inline const char *
first_space(const char *p, size_t n)
{
#ifdef __SSE2__
	__m128i sp = _mm_set1_epi8(' ');
	unsigned bits;

	/* An RFC 3339 time with ns is 30 or 35 bytes: 2 or 3 steps. */
	for (size_t i = 0; i + 16 <= n && i < 48; i += 16) {
		bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(p + i)), sp));
		if (bits != 0)
			return p + i + __builtin_ctz(bits);
	}
#endif
	return memchr(p, ' ', n);
}

/*
 * "<RFC 3339 time> <stdout|stderr> <tag>[:<tag>...] <content>", split at
 * the first three spaces as the kubelet does; the first tag "P" makes a
 * partial line, anything else a full one. A time that does not parse is
 * not fatal (the reference clock stands in); the stream is. tc, when not
 * NULL, remembers the last line's second.
 */
static void
cri_split(const char *p, size_t n, struct cri_line *l,
    struct tw_time_cache *tc)
{
	const char *sp1, *sp3, *end = p + n, *tag, *colon;

	memset(l, 0, sizeof(*l));
	l->stream = -1;
	if ((sp1 = first_space(p, n)) == NULL)
		return;
	/* The stream is 6 bytes, then a space: no other space can come first. */
	if (end - sp1 < 8 || sp1[7] != ' ')
		return;
	if (memcmp(sp1 + 1, "stdout", 6) == 0)
		l->stream = CRI_STDOUT;
	else if (memcmp(sp1 + 1, "stderr", 6) == 0)
		l->stream = CRI_STDERR;
	else
		return;
	tag = sp1 + 8;
	/* Mostly one letter, F or P. */
	if (end - tag >= 2 && tag[0] != ' ' && tag[1] == ' ')
		sp3 = tag + 1;
	else if ((sp3 = memchr(tag, ' ', (size_t)(end - tag))) == NULL)
		sp3 = end;
	if (sp3 == tag) {
		l->stream = -1; /* no tag */
		return;
	}
	colon = sp3 - tag > 1 ? memchr(tag, ':', (size_t)(sp3 - tag)) : NULL;
	l->partial = (colon != NULL ? colon : sp3) - tag == 1 && tag[0] == 'P';
	l->content = sp3 < end ? sp3 + 1 : end;
	l->content_len = (size_t)(end - l->content);
	l->has_time = (tc != NULL ?
	    tw_time_parse_rfc3339_cached(tc, p, (size_t)(sp1 - p),
	    &l->time_ns) :
	    tw_time_parse_rfc3339(p, (size_t)(sp1 - p), &l->time_ns)) == 0;
}

/* Write the pending parts of stream i as one record. */
static int
cri_put_pending(struct cri_state *s, const struct tw_parse_opts *o, int i,
    bool incomplete, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_ml_partial *pp = &s->pending[i];
	struct tw_ml_record rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	rec.time_ns = pp->time_ns;
	rec.stream = stream_names[i];
	rec.stream_len = 6;
	rec.msg = pp->data.data != NULL ? pp->data.data : "";
	rec.msg_len = pp->data.len;
	rec.parts = pp->parts;
	rec.incomplete = incomplete;
	rec.truncated = pp->truncated;
	r = tw_ml_write(&s->out, o, &rec, w, emit, arg);
	tw_ml_partial_reset(pp);
	return r;
}

/*
 * P lines wait in their stream's buffer until that stream's F line; the
 * other stream's lines go on meanwhile. A line that is not CRI at all is
 * a record of its own, with the reference clock as its time.
 */
static int
cri_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct cri_state *s = state;
	struct tw_ml_record rec;
	struct cri_line l;
	int64_t t;
	int r;

	cri_split(p, n, &l, &s->time);
	memset(&rec, 0, sizeof(rec));
	if (l.stream < 0) {
		rec.time_ns = o->now_ns;
		rec.msg = p;
		rec.msg_len = n;
		rec.parts = 1;
		return tw_ml_write(&s->out, o, &rec, w, emit, arg);
	}
	t = l.has_time ? l.time_ns : o->now_ns;
	if (l.partial || s->pending[l.stream].parts > 0) {
		if ((r = tw_ml_partial_add(&s->pending[l.stream], t, l.content,
		    l.content_len)) != 0)
			return r;
		if (l.partial)
			return 0;
		return cri_put_pending(s, o, l.stream, false, w, emit, arg);
	}
	rec.time_ns = t;
	rec.stream = stream_names[l.stream];
	rec.stream_len = 6;
	rec.msg = l.content;
	rec.msg_len = l.content_len;
	rec.parts = 1;
	return tw_ml_write(&s->out, o, &rec, w, emit, arg);
}

/* End of input: unterminated partials (stderr, then stdout), incomplete. */
static int
cri_flush(void *state, const struct tw_parse_opts *o, struct tw_mpw *w,
    tw_emit_fn emit, void *arg)
{
	struct cri_state *s = state;
	int r;

	for (int i = 0; i < CRI_STREAMS; i++)
		if (s->pending[i].parts > 0 &&
		    (r = cri_put_pending(s, o, i, true, w, emit, arg)) != 0)
			return r;
	return tw_ml_writer_flush(&s->out, o, w, emit, arg);
}

/* Whether p[0..n) is one CRI line with a time that parses. */
static bool
cri_line_ok(const char *p, size_t n)
{
	struct cri_line l;

	cri_split(p, n, &l, NULL);
	return l.stream >= 0 && l.has_time;
}

/* Sure when the first lines of the sample are all CRI lines. */
static int
cri_detect(const char *p, size_t n)
{
	const char *end = p + n, *nl;
	int lines = 0;

	while (p < end && lines < 4) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			/* A cut last line counts only if it is the only one. */
			if (lines == 0 && cri_line_ok(p, (size_t)(end - p)))
				lines++;
			break;
		}
		if (!cri_line_ok(p, (size_t)(nl - p)))
			return 0;
		lines++;
		p = nl + 1;
	}
	return lines > 0 ? 90 : 0;
}

const struct tw_format tw_format_cri = {
	.name = "cri",
	.framing = TW_FRAMING_LINES,
	.state_new = cri_new,
	.state_free = cri_free,
	.parse = cri_parse,
	.flush = cri_flush,
	.detect = cri_detect,
};
