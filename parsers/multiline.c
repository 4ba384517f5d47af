/* multiline.c: container log lines into records (partials, Java traces). */
#include "config.h"

#include <string.h>

#include "k8s_meta.h"
#include "multiline.h"
#include "utf8.h"

/* U+FFFD takes 3 bytes for each bad byte at worst. */
#define TEXT_MAX (3 * TW_ML_MESSAGE_MAX + 16)
#define STREAM_MAX 256

size_t
tw_ml_cut(const char *p, size_t n, size_t max)
{
	size_t k, bad, i;

	if (n <= max)
		return n;
	/* Back off to the start of a character cut in two, if any. */
	for (i = max; i > 0 && max - i < 3 &&
	    ((unsigned char)p[i] & 0xc0) == 0x80; i--)
		;
	if (i < max && (k = tw_utf8_char(p + i, n - i, &bad)) != 0 &&
	    i + k > max)
		return i;
	return max;
}

void
tw_ml_partial_init(struct tw_ml_partial *pp)
{
	memset(pp, 0, sizeof(*pp));
	tw_buf_init(&pp->data, TW_ML_MESSAGE_MAX);
}

void
tw_ml_partial_cleanup(struct tw_ml_partial *pp)
{
	tw_buf_cleanup(&pp->data);
}

void
tw_ml_partial_reset(struct tw_ml_partial *pp)
{
	tw_buf_reset(&pp->data);
	pp->parts = 0;
	pp->truncated = false;
}

int
tw_ml_partial_add(struct tw_ml_partial *pp, int64_t time_ns, const char *p,
    size_t n)
{
	size_t keep;

	if (pp->parts++ == 0)
		pp->time_ns = time_ns;
	if (pp->truncated || n == 0)
		goto out;
	keep = tw_ml_cut(p, n, TW_ML_MESSAGE_MAX - pp->data.len);
	if (keep < n)
		pp->truncated = true;
	if (keep > 0 && tw_buf_add(&pp->data, p, keep) != 0)
		return TW_ENOMEM;
out:
	if (pp->parts == 0)
		pp->parts = UINT32_MAX; /* saturate rather than wrap */
	return 0;
}

/* The content of a record as it is written. */
struct view {
	int64_t time_ns;
	const char *stream; /* NULL: none */
	size_t stream_len;
	const char *text; /* valid UTF-8 */
	size_t text_len;
	const char *raw; /* NULL: the text is the content */
	size_t raw_len;
	const char *level;
	bool fields;
	uint32_t parts, lines;
	bool incomplete, truncated;
	const char *extra;
	size_t extra_len;
	uint32_t extra_keys;
};

int
tw_ml_writer_init(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    const char *format, unsigned json_flags)
{
	struct tw_k8s_meta meta;
	struct tw_mpw cw;

	memset(mw, 0, sizeof(*mw));
	tw_buf_init(&mw->constant, (size_t)64 << 10);
	tw_buf_init(&mw->text, TEXT_MAX);
	tw_buf_init(&mw->held.stream, STREAM_MAX);
	tw_buf_init(&mw->held.text, TEXT_MAX);
	tw_buf_init(&mw->held.raw, TW_ML_MESSAGE_MAX);
	tw_buf_init(&mw->held.extra, TW_ML_EXTRA_MAX);
	tw_app_json_init(&mw->aj);
	mw->json_flags = json_flags;
	mw->java = o->multiline_java;
	tw_k8s_meta_parse(&meta, o->path, o->target);
	tw_mpw_init(&cw, &mw->constant);
	mw->constant_keys = tw_rec_source(&cw, o, "container", format);
	mw->constant_keys += tw_k8s_meta_write(&cw, &meta);
	return cw.err != 0 ? TW_ENOMEM : 0;
}

void
tw_ml_writer_cleanup(struct tw_ml_writer *mw)
{
	tw_buf_cleanup(&mw->constant);
	tw_buf_cleanup(&mw->text);
	tw_buf_cleanup(&mw->held.stream);
	tw_buf_cleanup(&mw->held.text);
	tw_buf_cleanup(&mw->held.raw);
	tw_buf_cleanup(&mw->held.extra);
	tw_app_json_cleanup(&mw->aj);
}

/* A key of fewer than 32 bytes, a string literal: a few stores. */
#define PUT_KEY(o, lit) put_key((o), (lit), sizeof(lit) - 1)

static inline uint8_t *
put_key(uint8_t *o, const char *k, size_t n)
{
	*o++ = (uint8_t)(0xa0 | n);
	memcpy(o, k, n);
	return o + n;
}

static inline uint8_t *
put_str(uint8_t *o, const char *p, size_t n)
{
	o = tw_mp_put_str_header(o, n);
	memcpy(o, p, n);
	return o + n;
}

/*
 * put() with the room for the whole record reserved once and every byte
 * stored in place: the same bytes. False when even that room is not
 * there (near the buffer's ceiling): put() then writes value by value.
 */
static bool
put_fast(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    const struct view *v, struct tw_mpw *w)
{
	struct tw_buf *b = w->buf;
	uint32_t keys = 1;
	size_t bound;
	uint8_t *p;

	/*
	 * At most: the map32 header; each key with its value's header (time
	 * and observed_time whole); the bodies.
	 */
	bound = 5 + (5 + 15) + (14 + 15) + (8 + 5) + (4 + 5) + (6 + 5) +
	    (7 + 5) + (6 + 9) + (11 + 1) + (10 + 1) + (6 + 9) + 7 +
	    mw->constant.len + v->text_len + v->raw_len +
	    (v->level != NULL ? strlen(v->level) : 0) + v->stream_len +
	    v->extra_len + (v->fields ? mw->aj.fields.len : 0);
	if (v->text_len > UINT32_MAX || v->raw_len > UINT32_MAX ||
	    v->stream_len > UINT32_MAX || tw_buf_reserve(b, bound) != 0)
		return false;
	p = (uint8_t *)b->data;
	*p = 0xdf; /* map32: the count goes in at the end */
	p += 5;
	p = PUT_KEY(p, "time");
	p = tw_mp_put_timestamp(p, v->time_ns);
	if (o->observed_time) {
		p = PUT_KEY(p, "observed_time");
		p = tw_mp_put_timestamp(p, o->now_ns);
		keys++;
	}
	memcpy(p, mw->constant.data, mw->constant.len);
	p += mw->constant.len;
	keys += mw->constant_keys;
	p = PUT_KEY(p, "message");
	p = put_str(p, v->text, v->text_len);
	keys++;
	if (v->raw != NULL) {
		p = PUT_KEY(p, "raw");
		p = tw_mp_put_bin_header(p, v->raw_len);
		memcpy(p, v->raw, v->raw_len);
		p += v->raw_len;
		keys++;
	}
	if (v->level != NULL) {
		p = PUT_KEY(p, "level");
		p = put_str(p, v->level, strlen(v->level));
		keys++;
	}
	if (v->stream != NULL) {
		p = PUT_KEY(p, "stream");
		p = put_str(p, v->stream, v->stream_len);
		keys++;
	}
	if (v->parts > 1) {
		p = PUT_KEY(p, "parts");
		p = tw_mp_put_uint(p, v->parts);
		keys++;
	}
	if (v->incomplete) {
		p = PUT_KEY(p, "incomplete");
		*p++ = 0xc3;
		keys++;
	}
	if (v->truncated) {
		p = PUT_KEY(p, "truncated");
		*p++ = 0xc3;
		keys++;
	}
	if (v->lines > 1) {
		p = PUT_KEY(p, "lines");
		p = tw_mp_put_uint(p, v->lines);
		keys++;
	}
	if (v->extra != NULL && v->extra_keys > 0) {
		memcpy(p, v->extra, v->extra_len);
		p += v->extra_len;
		keys += v->extra_keys;
	}
	if (v->fields) {
		p = PUT_KEY(p, "fields");
		memcpy(p, mw->aj.fields.data, mw->aj.fields.len);
		p += mw->aj.fields.len;
		keys++;
	}
	tw_mp_put32((uint8_t *)b->data + 1, keys);
	tw_mpw_commit(w, p);
	return true;
}

#undef PUT_KEY

/* Write one record into w (reset first) and hand it to emit. */
static int
put(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    const struct view *v, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	uint32_t keys = 0;
	size_t hdr;

	tw_buf_reset(w->buf);
	tw_mpw_init(w, w->buf);
	if (put_fast(mw, o, v, w))
		return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, v->time_ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	tw_mpw_raw(w, mw->constant.data, mw->constant.len);
	keys += mw->constant_keys;
	tw_mpw_cstr(w, "message");
	tw_mpw_str(w, v->text, v->text_len);
	keys++;
	if (v->raw != NULL) {
		tw_mpw_cstr(w, "raw");
		tw_mpw_bin(w, v->raw, v->raw_len);
		keys++;
	}
	if (v->level != NULL) {
		tw_mpw_cstr(w, "level");
		tw_mpw_cstr(w, v->level);
		keys++;
	}
	if (v->stream != NULL) {
		tw_mpw_cstr(w, "stream");
		tw_mpw_str(w, v->stream, v->stream_len);
		keys++;
	}
	if (v->parts > 1) {
		tw_mpw_cstr(w, "parts");
		tw_mpw_uint(w, v->parts);
		keys++;
	}
	if (v->incomplete) {
		tw_mpw_cstr(w, "incomplete");
		tw_mpw_bool(w, true);
		keys++;
	}
	if (v->truncated) {
		tw_mpw_cstr(w, "truncated");
		tw_mpw_bool(w, true);
		keys++;
	}
	if (v->lines > 1) {
		tw_mpw_cstr(w, "lines");
		tw_mpw_uint(w, v->lines);
		keys++;
	}
	if (v->extra != NULL && v->extra_keys > 0) {
		tw_mpw_raw(w, v->extra, v->extra_len);
		keys += v->extra_keys;
	}
	if (v->fields) {
		tw_mpw_cstr(w, "fields");
		tw_mpw_raw(w, mw->aj.fields.data, mw->aj.fields.len);
		keys++;
	}
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

/* Write the held record and forget it. */
static int
put_held(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct tw_ml_held *h = &mw->held;
	struct view v;

	memset(&v, 0, sizeof(v));
	v.time_ns = h->time_ns;
	if (h->has_stream) {
		v.stream = h->stream.data;
		v.stream_len = h->stream.len;
	}
	v.text = h->text.data != NULL ? h->text.data : "";
	v.text_len = h->text.len;
	if (h->has_raw) {
		v.raw = h->raw.data != NULL ? h->raw.data : "";
		v.raw_len = h->raw.len;
	}
	v.parts = h->parts;
	v.lines = h->lines;
	v.incomplete = h->incomplete;
	v.truncated = h->truncated;
	if (h->extra_keys > 0) {
		v.extra = h->extra.data;
		v.extra_len = h->extra.len;
		v.extra_keys = h->extra_keys;
	}
	h->active = false;
	return put(mw, o, &v, w, emit, arg);
}

/* Keep a copy of the record v until the next one shows whether it joins. */
static int
hold(struct tw_ml_writer *mw, const struct view *v)
{
	struct tw_ml_held *h = &mw->held;

	tw_buf_reset(&h->stream);
	tw_buf_reset(&h->text);
	tw_buf_reset(&h->raw);
	tw_buf_reset(&h->extra);
	h->time_ns = v->time_ns;
	h->has_stream = v->stream != NULL;
	h->has_raw = v->raw != NULL;
	h->parts = v->parts;
	h->lines = 1;
	h->incomplete = v->incomplete;
	h->truncated = v->truncated;
	h->full = false;
	h->extra_keys = 0;
	if ((h->has_stream && tw_buf_add(&h->stream, v->stream,
	    v->stream_len < STREAM_MAX ? v->stream_len : STREAM_MAX) != 0) ||
	    tw_buf_add(&h->text, v->text, v->text_len) != 0 ||
	    (h->has_raw && tw_buf_add(&h->raw, v->raw, v->raw_len) != 0))
		return TW_ENOMEM;
	if (v->extra != NULL && v->extra_keys > 0) {
		if (tw_buf_add(&h->extra, v->extra, v->extra_len) != 0)
			return TW_ENOMEM;
		h->extra_keys = v->extra_keys;
	}
	h->active = true;
	return 0;
}

/* Whether v would continue the held record's stack trace. */
static bool
joins(const struct tw_ml_writer *mw, const struct view *v)
{
	const struct tw_ml_held *h = &mw->held;

	if (!h->active || v->raw != NULL || h->has_stream != (v->stream != NULL))
		return false;
	if (v->stream != NULL && (h->stream.len != v->stream_len ||
	    memcmp(h->stream.data, v->stream, v->stream_len) != 0))
		return false;
	return tw_ml_java_continues(v->text, v->text_len);
}

/* Append v's message to the held one as one more line, within the cap. */
static int
join(struct tw_ml_writer *mw, const struct view *v)
{
	struct tw_ml_held *h = &mw->held;
	size_t room, keep;

	if (h->lines < UINT32_MAX)
		h->lines++;
	if (v->truncated)
		h->truncated = true;
	if (h->full)
		return 0;
	room = h->text.len < TW_ML_MESSAGE_MAX ?
	    TW_ML_MESSAGE_MAX - h->text.len : 0;
	if (room == 0) {
		h->full = h->truncated = true;
		return 0;
	}
	keep = tw_ml_cut(v->text, v->text_len, room - 1);
	if (keep < v->text_len)
		h->full = h->truncated = true;
	if (tw_buf_addc(&h->text, '\n') != 0 ||
	    tw_buf_add(&h->text, v->text, keep) != 0)
		return TW_ENOMEM;
	return 0;
}

int
tw_ml_write(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    const struct tw_ml_record *r, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	struct view v;
	size_t n;
	int rc;

	memset(&v, 0, sizeof(v));
	v.time_ns = r->time_ns;
	v.stream = r->stream;
	v.stream_len = r->stream_len;
	v.parts = r->parts;
	v.incomplete = r->incomplete;
	v.truncated = r->truncated;
	v.extra = r->extra;
	v.extra_len = r->extra_len;
	v.extra_keys = r->extra_keys;
	v.lines = 1;
	n = tw_ml_cut(r->msg, r->msg_len, TW_ML_MESSAGE_MAX);
	if (n < r->msg_len)
		v.truncated = true;
	/*
	 * A JSON object that converts is well-formed UTF-8 throughout (every
	 * string is checked, nothing else may be past ASCII): trying it first
	 * spares JSON lines the separate validation pass.
	 */
	if (tw_app_json_parse(&mw->aj, r->msg, n, mw->json_flags,
	    &v.level)) {
		v.fields = true;
		v.text = r->msg;
		v.text_len = n;
	} else if (tw_utf8_valid(r->msg, n)) {
		v.text = r->msg;
		v.text_len = n;
	} else {
		tw_buf_reset(&mw->text);
		if (tw_utf8_sanitize(&mw->text, r->msg, n) != 0)
			return TW_ENOMEM;
		v.text = mw->text.data;
		v.text_len = mw->text.len;
		v.raw = r->msg;
		v.raw_len = n;
		v.fields = tw_app_json_parse(&mw->aj, v.text, v.text_len,
		    mw->json_flags, &v.level);
	}
	if (!mw->java)
		return put(mw, o, &v, w, emit, arg);
	if (joins(mw, &v))
		return join(mw, &v);
	if (mw->held.active && (rc = put_held(mw, o, w, emit, arg)) != 0)
		return rc;
	/* Nothing joins a JSON line: it need not wait. */
	if (v.fields)
		return put(mw, o, &v, w, emit, arg);
	return hold(mw, &v);
}

int
tw_ml_writer_flush(struct tw_ml_writer *mw, const struct tw_parse_opts *o,
    struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	if (!mw->held.active)
		return 0;
	return put_held(mw, o, w, emit, arg);
}

/* Generated from Python 3.11 re (Unicode 14.0.0): \w and \d past ASCII. */
static const uint32_t word_ranges[][2] = {
	{ 0x000aa, 0x000aa }, { 0x000b2, 0x000b3 }, { 0x000b5, 0x000b5 },
	{ 0x000b9, 0x000ba }, { 0x000bc, 0x000be }, { 0x000c0, 0x000d6 },
	{ 0x000d8, 0x000f6 }, { 0x000f8, 0x002c1 }, { 0x002c6, 0x002d1 },
	{ 0x002e0, 0x002e4 }, { 0x002ec, 0x002ec }, { 0x002ee, 0x002ee },
	{ 0x00370, 0x00374 }, { 0x00376, 0x00377 }, { 0x0037a, 0x0037d },
	{ 0x0037f, 0x0037f }, { 0x00386, 0x00386 }, { 0x00388, 0x0038a },
	{ 0x0038c, 0x0038c }, { 0x0038e, 0x003a1 }, { 0x003a3, 0x003f5 },
	{ 0x003f7, 0x00481 }, { 0x0048a, 0x0052f }, { 0x00531, 0x00556 },
	{ 0x00559, 0x00559 }, { 0x00560, 0x00588 }, { 0x005d0, 0x005ea },
	{ 0x005ef, 0x005f2 }, { 0x00620, 0x0064a }, { 0x00660, 0x00669 },
	{ 0x0066e, 0x0066f }, { 0x00671, 0x006d3 }, { 0x006d5, 0x006d5 },
	{ 0x006e5, 0x006e6 }, { 0x006ee, 0x006fc }, { 0x006ff, 0x006ff },
	{ 0x00710, 0x00710 }, { 0x00712, 0x0072f }, { 0x0074d, 0x007a5 },
	{ 0x007b1, 0x007b1 }, { 0x007c0, 0x007ea }, { 0x007f4, 0x007f5 },
	{ 0x007fa, 0x007fa }, { 0x00800, 0x00815 }, { 0x0081a, 0x0081a },
	{ 0x00824, 0x00824 }, { 0x00828, 0x00828 }, { 0x00840, 0x00858 },
	{ 0x00860, 0x0086a }, { 0x00870, 0x00887 }, { 0x00889, 0x0088e },
	{ 0x008a0, 0x008c9 }, { 0x00904, 0x00939 }, { 0x0093d, 0x0093d },
	{ 0x00950, 0x00950 }, { 0x00958, 0x00961 }, { 0x00966, 0x0096f },
	{ 0x00971, 0x00980 }, { 0x00985, 0x0098c }, { 0x0098f, 0x00990 },
	{ 0x00993, 0x009a8 }, { 0x009aa, 0x009b0 }, { 0x009b2, 0x009b2 },
	{ 0x009b6, 0x009b9 }, { 0x009bd, 0x009bd }, { 0x009ce, 0x009ce },
	{ 0x009dc, 0x009dd }, { 0x009df, 0x009e1 }, { 0x009e6, 0x009f1 },
	{ 0x009f4, 0x009f9 }, { 0x009fc, 0x009fc }, { 0x00a05, 0x00a0a },
	{ 0x00a0f, 0x00a10 }, { 0x00a13, 0x00a28 }, { 0x00a2a, 0x00a30 },
	{ 0x00a32, 0x00a33 }, { 0x00a35, 0x00a36 }, { 0x00a38, 0x00a39 },
	{ 0x00a59, 0x00a5c }, { 0x00a5e, 0x00a5e }, { 0x00a66, 0x00a6f },
	{ 0x00a72, 0x00a74 }, { 0x00a85, 0x00a8d }, { 0x00a8f, 0x00a91 },
	{ 0x00a93, 0x00aa8 }, { 0x00aaa, 0x00ab0 }, { 0x00ab2, 0x00ab3 },
	{ 0x00ab5, 0x00ab9 }, { 0x00abd, 0x00abd }, { 0x00ad0, 0x00ad0 },
	{ 0x00ae0, 0x00ae1 }, { 0x00ae6, 0x00aef }, { 0x00af9, 0x00af9 },
	{ 0x00b05, 0x00b0c }, { 0x00b0f, 0x00b10 }, { 0x00b13, 0x00b28 },
	{ 0x00b2a, 0x00b30 }, { 0x00b32, 0x00b33 }, { 0x00b35, 0x00b39 },
	{ 0x00b3d, 0x00b3d }, { 0x00b5c, 0x00b5d }, { 0x00b5f, 0x00b61 },
	{ 0x00b66, 0x00b6f }, { 0x00b71, 0x00b77 }, { 0x00b83, 0x00b83 },
	{ 0x00b85, 0x00b8a }, { 0x00b8e, 0x00b90 }, { 0x00b92, 0x00b95 },
	{ 0x00b99, 0x00b9a }, { 0x00b9c, 0x00b9c }, { 0x00b9e, 0x00b9f },
	{ 0x00ba3, 0x00ba4 }, { 0x00ba8, 0x00baa }, { 0x00bae, 0x00bb9 },
	{ 0x00bd0, 0x00bd0 }, { 0x00be6, 0x00bf2 }, { 0x00c05, 0x00c0c },
	{ 0x00c0e, 0x00c10 }, { 0x00c12, 0x00c28 }, { 0x00c2a, 0x00c39 },
	{ 0x00c3d, 0x00c3d }, { 0x00c58, 0x00c5a }, { 0x00c5d, 0x00c5d },
	{ 0x00c60, 0x00c61 }, { 0x00c66, 0x00c6f }, { 0x00c78, 0x00c7e },
	{ 0x00c80, 0x00c80 }, { 0x00c85, 0x00c8c }, { 0x00c8e, 0x00c90 },
	{ 0x00c92, 0x00ca8 }, { 0x00caa, 0x00cb3 }, { 0x00cb5, 0x00cb9 },
	{ 0x00cbd, 0x00cbd }, { 0x00cdd, 0x00cde }, { 0x00ce0, 0x00ce1 },
	{ 0x00ce6, 0x00cef }, { 0x00cf1, 0x00cf2 }, { 0x00d04, 0x00d0c },
	{ 0x00d0e, 0x00d10 }, { 0x00d12, 0x00d3a }, { 0x00d3d, 0x00d3d },
	{ 0x00d4e, 0x00d4e }, { 0x00d54, 0x00d56 }, { 0x00d58, 0x00d61 },
	{ 0x00d66, 0x00d78 }, { 0x00d7a, 0x00d7f }, { 0x00d85, 0x00d96 },
	{ 0x00d9a, 0x00db1 }, { 0x00db3, 0x00dbb }, { 0x00dbd, 0x00dbd },
	{ 0x00dc0, 0x00dc6 }, { 0x00de6, 0x00def }, { 0x00e01, 0x00e30 },
	{ 0x00e32, 0x00e33 }, { 0x00e40, 0x00e46 }, { 0x00e50, 0x00e59 },
	{ 0x00e81, 0x00e82 }, { 0x00e84, 0x00e84 }, { 0x00e86, 0x00e8a },
	{ 0x00e8c, 0x00ea3 }, { 0x00ea5, 0x00ea5 }, { 0x00ea7, 0x00eb0 },
	{ 0x00eb2, 0x00eb3 }, { 0x00ebd, 0x00ebd }, { 0x00ec0, 0x00ec4 },
	{ 0x00ec6, 0x00ec6 }, { 0x00ed0, 0x00ed9 }, { 0x00edc, 0x00edf },
	{ 0x00f00, 0x00f00 }, { 0x00f20, 0x00f33 }, { 0x00f40, 0x00f47 },
	{ 0x00f49, 0x00f6c }, { 0x00f88, 0x00f8c }, { 0x01000, 0x0102a },
	{ 0x0103f, 0x01049 }, { 0x01050, 0x01055 }, { 0x0105a, 0x0105d },
	{ 0x01061, 0x01061 }, { 0x01065, 0x01066 }, { 0x0106e, 0x01070 },
	{ 0x01075, 0x01081 }, { 0x0108e, 0x0108e }, { 0x01090, 0x01099 },
	{ 0x010a0, 0x010c5 }, { 0x010c7, 0x010c7 }, { 0x010cd, 0x010cd },
	{ 0x010d0, 0x010fa }, { 0x010fc, 0x01248 }, { 0x0124a, 0x0124d },
	{ 0x01250, 0x01256 }, { 0x01258, 0x01258 }, { 0x0125a, 0x0125d },
	{ 0x01260, 0x01288 }, { 0x0128a, 0x0128d }, { 0x01290, 0x012b0 },
	{ 0x012b2, 0x012b5 }, { 0x012b8, 0x012be }, { 0x012c0, 0x012c0 },
	{ 0x012c2, 0x012c5 }, { 0x012c8, 0x012d6 }, { 0x012d8, 0x01310 },
	{ 0x01312, 0x01315 }, { 0x01318, 0x0135a }, { 0x01369, 0x0137c },
	{ 0x01380, 0x0138f }, { 0x013a0, 0x013f5 }, { 0x013f8, 0x013fd },
	{ 0x01401, 0x0166c }, { 0x0166f, 0x0167f }, { 0x01681, 0x0169a },
	{ 0x016a0, 0x016ea }, { 0x016ee, 0x016f8 }, { 0x01700, 0x01711 },
	{ 0x0171f, 0x01731 }, { 0x01740, 0x01751 }, { 0x01760, 0x0176c },
	{ 0x0176e, 0x01770 }, { 0x01780, 0x017b3 }, { 0x017d7, 0x017d7 },
	{ 0x017dc, 0x017dc }, { 0x017e0, 0x017e9 }, { 0x017f0, 0x017f9 },
	{ 0x01810, 0x01819 }, { 0x01820, 0x01878 }, { 0x01880, 0x01884 },
	{ 0x01887, 0x018a8 }, { 0x018aa, 0x018aa }, { 0x018b0, 0x018f5 },
	{ 0x01900, 0x0191e }, { 0x01946, 0x0196d }, { 0x01970, 0x01974 },
	{ 0x01980, 0x019ab }, { 0x019b0, 0x019c9 }, { 0x019d0, 0x019da },
	{ 0x01a00, 0x01a16 }, { 0x01a20, 0x01a54 }, { 0x01a80, 0x01a89 },
	{ 0x01a90, 0x01a99 }, { 0x01aa7, 0x01aa7 }, { 0x01b05, 0x01b33 },
	{ 0x01b45, 0x01b4c }, { 0x01b50, 0x01b59 }, { 0x01b83, 0x01ba0 },
	{ 0x01bae, 0x01be5 }, { 0x01c00, 0x01c23 }, { 0x01c40, 0x01c49 },
	{ 0x01c4d, 0x01c7d }, { 0x01c80, 0x01c88 }, { 0x01c90, 0x01cba },
	{ 0x01cbd, 0x01cbf }, { 0x01ce9, 0x01cec }, { 0x01cee, 0x01cf3 },
	{ 0x01cf5, 0x01cf6 }, { 0x01cfa, 0x01cfa }, { 0x01d00, 0x01dbf },
	{ 0x01e00, 0x01f15 }, { 0x01f18, 0x01f1d }, { 0x01f20, 0x01f45 },
	{ 0x01f48, 0x01f4d }, { 0x01f50, 0x01f57 }, { 0x01f59, 0x01f59 },
	{ 0x01f5b, 0x01f5b }, { 0x01f5d, 0x01f5d }, { 0x01f5f, 0x01f7d },
	{ 0x01f80, 0x01fb4 }, { 0x01fb6, 0x01fbc }, { 0x01fbe, 0x01fbe },
	{ 0x01fc2, 0x01fc4 }, { 0x01fc6, 0x01fcc }, { 0x01fd0, 0x01fd3 },
	{ 0x01fd6, 0x01fdb }, { 0x01fe0, 0x01fec }, { 0x01ff2, 0x01ff4 },
	{ 0x01ff6, 0x01ffc }, { 0x02070, 0x02071 }, { 0x02074, 0x02079 },
	{ 0x0207f, 0x02089 }, { 0x02090, 0x0209c }, { 0x02102, 0x02102 },
	{ 0x02107, 0x02107 }, { 0x0210a, 0x02113 }, { 0x02115, 0x02115 },
	{ 0x02119, 0x0211d }, { 0x02124, 0x02124 }, { 0x02126, 0x02126 },
	{ 0x02128, 0x02128 }, { 0x0212a, 0x0212d }, { 0x0212f, 0x02139 },
	{ 0x0213c, 0x0213f }, { 0x02145, 0x02149 }, { 0x0214e, 0x0214e },
	{ 0x02150, 0x02189 }, { 0x02460, 0x0249b }, { 0x024ea, 0x024ff },
	{ 0x02776, 0x02793 }, { 0x02c00, 0x02ce4 }, { 0x02ceb, 0x02cee },
	{ 0x02cf2, 0x02cf3 }, { 0x02cfd, 0x02cfd }, { 0x02d00, 0x02d25 },
	{ 0x02d27, 0x02d27 }, { 0x02d2d, 0x02d2d }, { 0x02d30, 0x02d67 },
	{ 0x02d6f, 0x02d6f }, { 0x02d80, 0x02d96 }, { 0x02da0, 0x02da6 },
	{ 0x02da8, 0x02dae }, { 0x02db0, 0x02db6 }, { 0x02db8, 0x02dbe },
	{ 0x02dc0, 0x02dc6 }, { 0x02dc8, 0x02dce }, { 0x02dd0, 0x02dd6 },
	{ 0x02dd8, 0x02dde }, { 0x02e2f, 0x02e2f }, { 0x03005, 0x03007 },
	{ 0x03021, 0x03029 }, { 0x03031, 0x03035 }, { 0x03038, 0x0303c },
	{ 0x03041, 0x03096 }, { 0x0309d, 0x0309f }, { 0x030a1, 0x030fa },
	{ 0x030fc, 0x030ff }, { 0x03105, 0x0312f }, { 0x03131, 0x0318e },
	{ 0x03192, 0x03195 }, { 0x031a0, 0x031bf }, { 0x031f0, 0x031ff },
	{ 0x03220, 0x03229 }, { 0x03248, 0x0324f }, { 0x03251, 0x0325f },
	{ 0x03280, 0x03289 }, { 0x032b1, 0x032bf }, { 0x03400, 0x04dbf },
	{ 0x04e00, 0x0a48c }, { 0x0a4d0, 0x0a4fd }, { 0x0a500, 0x0a60c },
	{ 0x0a610, 0x0a62b }, { 0x0a640, 0x0a66e }, { 0x0a67f, 0x0a69d },
	{ 0x0a6a0, 0x0a6ef }, { 0x0a717, 0x0a71f }, { 0x0a722, 0x0a788 },
	{ 0x0a78b, 0x0a7ca }, { 0x0a7d0, 0x0a7d1 }, { 0x0a7d3, 0x0a7d3 },
	{ 0x0a7d5, 0x0a7d9 }, { 0x0a7f2, 0x0a801 }, { 0x0a803, 0x0a805 },
	{ 0x0a807, 0x0a80a }, { 0x0a80c, 0x0a822 }, { 0x0a830, 0x0a835 },
	{ 0x0a840, 0x0a873 }, { 0x0a882, 0x0a8b3 }, { 0x0a8d0, 0x0a8d9 },
	{ 0x0a8f2, 0x0a8f7 }, { 0x0a8fb, 0x0a8fb }, { 0x0a8fd, 0x0a8fe },
	{ 0x0a900, 0x0a925 }, { 0x0a930, 0x0a946 }, { 0x0a960, 0x0a97c },
	{ 0x0a984, 0x0a9b2 }, { 0x0a9cf, 0x0a9d9 }, { 0x0a9e0, 0x0a9e4 },
	{ 0x0a9e6, 0x0a9fe }, { 0x0aa00, 0x0aa28 }, { 0x0aa40, 0x0aa42 },
	{ 0x0aa44, 0x0aa4b }, { 0x0aa50, 0x0aa59 }, { 0x0aa60, 0x0aa76 },
	{ 0x0aa7a, 0x0aa7a }, { 0x0aa7e, 0x0aaaf }, { 0x0aab1, 0x0aab1 },
	{ 0x0aab5, 0x0aab6 }, { 0x0aab9, 0x0aabd }, { 0x0aac0, 0x0aac0 },
	{ 0x0aac2, 0x0aac2 }, { 0x0aadb, 0x0aadd }, { 0x0aae0, 0x0aaea },
	{ 0x0aaf2, 0x0aaf4 }, { 0x0ab01, 0x0ab06 }, { 0x0ab09, 0x0ab0e },
	{ 0x0ab11, 0x0ab16 }, { 0x0ab20, 0x0ab26 }, { 0x0ab28, 0x0ab2e },
	{ 0x0ab30, 0x0ab5a }, { 0x0ab5c, 0x0ab69 }, { 0x0ab70, 0x0abe2 },
	{ 0x0abf0, 0x0abf9 }, { 0x0ac00, 0x0d7a3 }, { 0x0d7b0, 0x0d7c6 },
	{ 0x0d7cb, 0x0d7fb }, { 0x0f900, 0x0fa6d }, { 0x0fa70, 0x0fad9 },
	{ 0x0fb00, 0x0fb06 }, { 0x0fb13, 0x0fb17 }, { 0x0fb1d, 0x0fb1d },
	{ 0x0fb1f, 0x0fb28 }, { 0x0fb2a, 0x0fb36 }, { 0x0fb38, 0x0fb3c },
	{ 0x0fb3e, 0x0fb3e }, { 0x0fb40, 0x0fb41 }, { 0x0fb43, 0x0fb44 },
	{ 0x0fb46, 0x0fbb1 }, { 0x0fbd3, 0x0fd3d }, { 0x0fd50, 0x0fd8f },
	{ 0x0fd92, 0x0fdc7 }, { 0x0fdf0, 0x0fdfb }, { 0x0fe70, 0x0fe74 },
	{ 0x0fe76, 0x0fefc }, { 0x0ff10, 0x0ff19 }, { 0x0ff21, 0x0ff3a },
	{ 0x0ff41, 0x0ff5a }, { 0x0ff66, 0x0ffbe }, { 0x0ffc2, 0x0ffc7 },
	{ 0x0ffca, 0x0ffcf }, { 0x0ffd2, 0x0ffd7 }, { 0x0ffda, 0x0ffdc },
	{ 0x10000, 0x1000b }, { 0x1000d, 0x10026 }, { 0x10028, 0x1003a },
	{ 0x1003c, 0x1003d }, { 0x1003f, 0x1004d }, { 0x10050, 0x1005d },
	{ 0x10080, 0x100fa }, { 0x10107, 0x10133 }, { 0x10140, 0x10178 },
	{ 0x1018a, 0x1018b }, { 0x10280, 0x1029c }, { 0x102a0, 0x102d0 },
	{ 0x102e1, 0x102fb }, { 0x10300, 0x10323 }, { 0x1032d, 0x1034a },
	{ 0x10350, 0x10375 }, { 0x10380, 0x1039d }, { 0x103a0, 0x103c3 },
	{ 0x103c8, 0x103cf }, { 0x103d1, 0x103d5 }, { 0x10400, 0x1049d },
	{ 0x104a0, 0x104a9 }, { 0x104b0, 0x104d3 }, { 0x104d8, 0x104fb },
	{ 0x10500, 0x10527 }, { 0x10530, 0x10563 }, { 0x10570, 0x1057a },
	{ 0x1057c, 0x1058a }, { 0x1058c, 0x10592 }, { 0x10594, 0x10595 },
	{ 0x10597, 0x105a1 }, { 0x105a3, 0x105b1 }, { 0x105b3, 0x105b9 },
	{ 0x105bb, 0x105bc }, { 0x10600, 0x10736 }, { 0x10740, 0x10755 },
	{ 0x10760, 0x10767 }, { 0x10780, 0x10785 }, { 0x10787, 0x107b0 },
	{ 0x107b2, 0x107ba }, { 0x10800, 0x10805 }, { 0x10808, 0x10808 },
	{ 0x1080a, 0x10835 }, { 0x10837, 0x10838 }, { 0x1083c, 0x1083c },
	{ 0x1083f, 0x10855 }, { 0x10858, 0x10876 }, { 0x10879, 0x1089e },
	{ 0x108a7, 0x108af }, { 0x108e0, 0x108f2 }, { 0x108f4, 0x108f5 },
	{ 0x108fb, 0x1091b }, { 0x10920, 0x10939 }, { 0x10980, 0x109b7 },
	{ 0x109bc, 0x109cf }, { 0x109d2, 0x10a00 }, { 0x10a10, 0x10a13 },
	{ 0x10a15, 0x10a17 }, { 0x10a19, 0x10a35 }, { 0x10a40, 0x10a48 },
	{ 0x10a60, 0x10a7e }, { 0x10a80, 0x10a9f }, { 0x10ac0, 0x10ac7 },
	{ 0x10ac9, 0x10ae4 }, { 0x10aeb, 0x10aef }, { 0x10b00, 0x10b35 },
	{ 0x10b40, 0x10b55 }, { 0x10b58, 0x10b72 }, { 0x10b78, 0x10b91 },
	{ 0x10ba9, 0x10baf }, { 0x10c00, 0x10c48 }, { 0x10c80, 0x10cb2 },
	{ 0x10cc0, 0x10cf2 }, { 0x10cfa, 0x10d23 }, { 0x10d30, 0x10d39 },
	{ 0x10e60, 0x10e7e }, { 0x10e80, 0x10ea9 }, { 0x10eb0, 0x10eb1 },
	{ 0x10f00, 0x10f27 }, { 0x10f30, 0x10f45 }, { 0x10f51, 0x10f54 },
	{ 0x10f70, 0x10f81 }, { 0x10fb0, 0x10fcb }, { 0x10fe0, 0x10ff6 },
	{ 0x11003, 0x11037 }, { 0x11052, 0x1106f }, { 0x11071, 0x11072 },
	{ 0x11075, 0x11075 }, { 0x11083, 0x110af }, { 0x110d0, 0x110e8 },
	{ 0x110f0, 0x110f9 }, { 0x11103, 0x11126 }, { 0x11136, 0x1113f },
	{ 0x11144, 0x11144 }, { 0x11147, 0x11147 }, { 0x11150, 0x11172 },
	{ 0x11176, 0x11176 }, { 0x11183, 0x111b2 }, { 0x111c1, 0x111c4 },
	{ 0x111d0, 0x111da }, { 0x111dc, 0x111dc }, { 0x111e1, 0x111f4 },
	{ 0x11200, 0x11211 }, { 0x11213, 0x1122b }, { 0x11280, 0x11286 },
	{ 0x11288, 0x11288 }, { 0x1128a, 0x1128d }, { 0x1128f, 0x1129d },
	{ 0x1129f, 0x112a8 }, { 0x112b0, 0x112de }, { 0x112f0, 0x112f9 },
	{ 0x11305, 0x1130c }, { 0x1130f, 0x11310 }, { 0x11313, 0x11328 },
	{ 0x1132a, 0x11330 }, { 0x11332, 0x11333 }, { 0x11335, 0x11339 },
	{ 0x1133d, 0x1133d }, { 0x11350, 0x11350 }, { 0x1135d, 0x11361 },
	{ 0x11400, 0x11434 }, { 0x11447, 0x1144a }, { 0x11450, 0x11459 },
	{ 0x1145f, 0x11461 }, { 0x11480, 0x114af }, { 0x114c4, 0x114c5 },
	{ 0x114c7, 0x114c7 }, { 0x114d0, 0x114d9 }, { 0x11580, 0x115ae },
	{ 0x115d8, 0x115db }, { 0x11600, 0x1162f }, { 0x11644, 0x11644 },
	{ 0x11650, 0x11659 }, { 0x11680, 0x116aa }, { 0x116b8, 0x116b8 },
	{ 0x116c0, 0x116c9 }, { 0x11700, 0x1171a }, { 0x11730, 0x1173b },
	{ 0x11740, 0x11746 }, { 0x11800, 0x1182b }, { 0x118a0, 0x118f2 },
	{ 0x118ff, 0x11906 }, { 0x11909, 0x11909 }, { 0x1190c, 0x11913 },
	{ 0x11915, 0x11916 }, { 0x11918, 0x1192f }, { 0x1193f, 0x1193f },
	{ 0x11941, 0x11941 }, { 0x11950, 0x11959 }, { 0x119a0, 0x119a7 },
	{ 0x119aa, 0x119d0 }, { 0x119e1, 0x119e1 }, { 0x119e3, 0x119e3 },
	{ 0x11a00, 0x11a00 }, { 0x11a0b, 0x11a32 }, { 0x11a3a, 0x11a3a },
	{ 0x11a50, 0x11a50 }, { 0x11a5c, 0x11a89 }, { 0x11a9d, 0x11a9d },
	{ 0x11ab0, 0x11af8 }, { 0x11c00, 0x11c08 }, { 0x11c0a, 0x11c2e },
	{ 0x11c40, 0x11c40 }, { 0x11c50, 0x11c6c }, { 0x11c72, 0x11c8f },
	{ 0x11d00, 0x11d06 }, { 0x11d08, 0x11d09 }, { 0x11d0b, 0x11d30 },
	{ 0x11d46, 0x11d46 }, { 0x11d50, 0x11d59 }, { 0x11d60, 0x11d65 },
	{ 0x11d67, 0x11d68 }, { 0x11d6a, 0x11d89 }, { 0x11d98, 0x11d98 },
	{ 0x11da0, 0x11da9 }, { 0x11ee0, 0x11ef2 }, { 0x11fb0, 0x11fb0 },
	{ 0x11fc0, 0x11fd4 }, { 0x12000, 0x12399 }, { 0x12400, 0x1246e },
	{ 0x12480, 0x12543 }, { 0x12f90, 0x12ff0 }, { 0x13000, 0x1342e },
	{ 0x14400, 0x14646 }, { 0x16800, 0x16a38 }, { 0x16a40, 0x16a5e },
	{ 0x16a60, 0x16a69 }, { 0x16a70, 0x16abe }, { 0x16ac0, 0x16ac9 },
	{ 0x16ad0, 0x16aed }, { 0x16b00, 0x16b2f }, { 0x16b40, 0x16b43 },
	{ 0x16b50, 0x16b59 }, { 0x16b5b, 0x16b61 }, { 0x16b63, 0x16b77 },
	{ 0x16b7d, 0x16b8f }, { 0x16e40, 0x16e96 }, { 0x16f00, 0x16f4a },
	{ 0x16f50, 0x16f50 }, { 0x16f93, 0x16f9f }, { 0x16fe0, 0x16fe1 },
	{ 0x16fe3, 0x16fe3 }, { 0x17000, 0x187f7 }, { 0x18800, 0x18cd5 },
	{ 0x18d00, 0x18d08 }, { 0x1aff0, 0x1aff3 }, { 0x1aff5, 0x1affb },
	{ 0x1affd, 0x1affe }, { 0x1b000, 0x1b122 }, { 0x1b150, 0x1b152 },
	{ 0x1b164, 0x1b167 }, { 0x1b170, 0x1b2fb }, { 0x1bc00, 0x1bc6a },
	{ 0x1bc70, 0x1bc7c }, { 0x1bc80, 0x1bc88 }, { 0x1bc90, 0x1bc99 },
	{ 0x1d2e0, 0x1d2f3 }, { 0x1d360, 0x1d378 }, { 0x1d400, 0x1d454 },
	{ 0x1d456, 0x1d49c }, { 0x1d49e, 0x1d49f }, { 0x1d4a2, 0x1d4a2 },
	{ 0x1d4a5, 0x1d4a6 }, { 0x1d4a9, 0x1d4ac }, { 0x1d4ae, 0x1d4b9 },
	{ 0x1d4bb, 0x1d4bb }, { 0x1d4bd, 0x1d4c3 }, { 0x1d4c5, 0x1d505 },
	{ 0x1d507, 0x1d50a }, { 0x1d50d, 0x1d514 }, { 0x1d516, 0x1d51c },
	{ 0x1d51e, 0x1d539 }, { 0x1d53b, 0x1d53e }, { 0x1d540, 0x1d544 },
	{ 0x1d546, 0x1d546 }, { 0x1d54a, 0x1d550 }, { 0x1d552, 0x1d6a5 },
	{ 0x1d6a8, 0x1d6c0 }, { 0x1d6c2, 0x1d6da }, { 0x1d6dc, 0x1d6fa },
	{ 0x1d6fc, 0x1d714 }, { 0x1d716, 0x1d734 }, { 0x1d736, 0x1d74e },
	{ 0x1d750, 0x1d76e }, { 0x1d770, 0x1d788 }, { 0x1d78a, 0x1d7a8 },
	{ 0x1d7aa, 0x1d7c2 }, { 0x1d7c4, 0x1d7cb }, { 0x1d7ce, 0x1d7ff },
	{ 0x1df00, 0x1df1e }, { 0x1e100, 0x1e12c }, { 0x1e137, 0x1e13d },
	{ 0x1e140, 0x1e149 }, { 0x1e14e, 0x1e14e }, { 0x1e290, 0x1e2ad },
	{ 0x1e2c0, 0x1e2eb }, { 0x1e2f0, 0x1e2f9 }, { 0x1e7e0, 0x1e7e6 },
	{ 0x1e7e8, 0x1e7eb }, { 0x1e7ed, 0x1e7ee }, { 0x1e7f0, 0x1e7fe },
	{ 0x1e800, 0x1e8c4 }, { 0x1e8c7, 0x1e8cf }, { 0x1e900, 0x1e943 },
	{ 0x1e94b, 0x1e94b }, { 0x1e950, 0x1e959 }, { 0x1ec71, 0x1ecab },
	{ 0x1ecad, 0x1ecaf }, { 0x1ecb1, 0x1ecb4 }, { 0x1ed01, 0x1ed2d },
	{ 0x1ed2f, 0x1ed3d }, { 0x1ee00, 0x1ee03 }, { 0x1ee05, 0x1ee1f },
	{ 0x1ee21, 0x1ee22 }, { 0x1ee24, 0x1ee24 }, { 0x1ee27, 0x1ee27 },
	{ 0x1ee29, 0x1ee32 }, { 0x1ee34, 0x1ee37 }, { 0x1ee39, 0x1ee39 },
	{ 0x1ee3b, 0x1ee3b }, { 0x1ee42, 0x1ee42 }, { 0x1ee47, 0x1ee47 },
	{ 0x1ee49, 0x1ee49 }, { 0x1ee4b, 0x1ee4b }, { 0x1ee4d, 0x1ee4f },
	{ 0x1ee51, 0x1ee52 }, { 0x1ee54, 0x1ee54 }, { 0x1ee57, 0x1ee57 },
	{ 0x1ee59, 0x1ee59 }, { 0x1ee5b, 0x1ee5b }, { 0x1ee5d, 0x1ee5d },
	{ 0x1ee5f, 0x1ee5f }, { 0x1ee61, 0x1ee62 }, { 0x1ee64, 0x1ee64 },
	{ 0x1ee67, 0x1ee6a }, { 0x1ee6c, 0x1ee72 }, { 0x1ee74, 0x1ee77 },
	{ 0x1ee79, 0x1ee7c }, { 0x1ee7e, 0x1ee7e }, { 0x1ee80, 0x1ee89 },
	{ 0x1ee8b, 0x1ee9b }, { 0x1eea1, 0x1eea3 }, { 0x1eea5, 0x1eea9 },
	{ 0x1eeab, 0x1eebb }, { 0x1f100, 0x1f10c }, { 0x1fbf0, 0x1fbf9 },
	{ 0x20000, 0x2a6df }, { 0x2a700, 0x2b738 }, { 0x2b740, 0x2b81d },
	{ 0x2b820, 0x2cea1 }, { 0x2ceb0, 0x2ebe0 }, { 0x2f800, 0x2fa1d },
	{ 0x30000, 0x3134a },
};
static const uint32_t digit_ranges[][2] = {
	{ 0x00660, 0x00669 }, { 0x006f0, 0x006f9 }, { 0x007c0, 0x007c9 },
	{ 0x00966, 0x0096f }, { 0x009e6, 0x009ef }, { 0x00a66, 0x00a6f },
	{ 0x00ae6, 0x00aef }, { 0x00b66, 0x00b6f }, { 0x00be6, 0x00bef },
	{ 0x00c66, 0x00c6f }, { 0x00ce6, 0x00cef }, { 0x00d66, 0x00d6f },
	{ 0x00de6, 0x00def }, { 0x00e50, 0x00e59 }, { 0x00ed0, 0x00ed9 },
	{ 0x00f20, 0x00f29 }, { 0x01040, 0x01049 }, { 0x01090, 0x01099 },
	{ 0x017e0, 0x017e9 }, { 0x01810, 0x01819 }, { 0x01946, 0x0194f },
	{ 0x019d0, 0x019d9 }, { 0x01a80, 0x01a89 }, { 0x01a90, 0x01a99 },
	{ 0x01b50, 0x01b59 }, { 0x01bb0, 0x01bb9 }, { 0x01c40, 0x01c49 },
	{ 0x01c50, 0x01c59 }, { 0x0a620, 0x0a629 }, { 0x0a8d0, 0x0a8d9 },
	{ 0x0a900, 0x0a909 }, { 0x0a9d0, 0x0a9d9 }, { 0x0a9f0, 0x0a9f9 },
	{ 0x0aa50, 0x0aa59 }, { 0x0abf0, 0x0abf9 }, { 0x0ff10, 0x0ff19 },
	{ 0x104a0, 0x104a9 }, { 0x10d30, 0x10d39 }, { 0x11066, 0x1106f },
	{ 0x110f0, 0x110f9 }, { 0x11136, 0x1113f }, { 0x111d0, 0x111d9 },
	{ 0x112f0, 0x112f9 }, { 0x11450, 0x11459 }, { 0x114d0, 0x114d9 },
	{ 0x11650, 0x11659 }, { 0x116c0, 0x116c9 }, { 0x11730, 0x11739 },
	{ 0x118e0, 0x118e9 }, { 0x11950, 0x11959 }, { 0x11c50, 0x11c59 },
	{ 0x11d50, 0x11d59 }, { 0x11da0, 0x11da9 }, { 0x16a60, 0x16a69 },
	{ 0x16ac0, 0x16ac9 }, { 0x16b50, 0x16b59 }, { 0x1d7ce, 0x1d7ff },
	{ 0x1e140, 0x1e149 }, { 0x1e2f0, 0x1e2f9 }, { 0x1e950, 0x1e959 },
	{ 0x1fbf0, 0x1fbf9 },
};

static bool
in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c < r[mid][0])
			hi = mid;
		else if (c > r[mid][1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The code point at p[0..n), n > 0, and its length; U+FFFD if ill-formed. */
static uint32_t
decode(const char *s, size_t n, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bad;

	switch ((*len = tw_utf8_char(s, n, &bad))) {
	case 1:
		return p[0];
	case 2:
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	case 3:
		return (uint32_t)(p[0] & 0x0f) << 12 |
		    (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	case 4:
		return (uint32_t)(p[0] & 0x07) << 18 |
		    (uint32_t)(p[1] & 0x3f) << 12 |
		    (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	default:
		*len = bad;
		return 0xfffd;
	}
}

static bool
is_word(uint32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '_';
	return in_ranges(c, word_ranges,
	    sizeof(word_ranges) / sizeof(word_ranges[0]));
}

static bool
is_digit(uint32_t c)
{
	if (c < 0x80)
		return c >= '0' && c <= '9';
	return in_ranges(c, digit_ranges,
	    sizeof(digit_ranges) / sizeof(digit_ranges[0]));
}

static bool
has_prefix(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(p, lit, k) == 0;
}

static bool
has_suffix(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	/* At least one character must come before the suffix. */
	return n > k && memcmp(p + n - k, lit, k) == 0;
}

bool
tw_ml_java_continues(const char *p, size_t n)
{
	size_t i = 0, k, len, digits;
	const char *rest, *nl;

	while ((k = tw_app_json_space(p + i, n - i)) != 0)
		i += k;
	if (i > 0) {
		/* \s+at |\s+\.\.\. \d+ (more|common frames omitted) */
		if (has_prefix(p + i, n - i, "at "))
			return true;
		if (!has_prefix(p + i, n - i, "... "))
			return false;
		for (i += 4, digits = 0; i < n &&
		    is_digit(decode(p + i, n - i, &len)); i += len)
			digits++;
		return digits > 0 && i < n && p[i] == ' ' &&
		    (has_prefix(p + i + 1, n - i - 1, "more") ||
		    has_prefix(p + i + 1, n - i - 1, "common frames omitted"));
	}
	if (has_prefix(p, n, "Caused by: "))
		return true;
	/* [\w$.]+(Exception|Error|Throwable)(: .*)?$ */
	for (i = 0; i < n; i += len) {
		uint32_t c = decode(p + i, n - i, &len);
		if (c != '$' && c != '.' && !is_word(c))
			break;
	}
	if (!has_suffix(p, i, "Exception") && !has_suffix(p, i, "Error") &&
	    !has_suffix(p, i, "Throwable"))
		return false;
	rest = p + i;
	k = n - i;
	if (k == 0 || (k == 1 && rest[0] == '\n'))
		return true;
	if (k < 2 || rest[0] != ':' || rest[1] != ' ')
		return false;
	/* '.' stops at a newline; '$' also matches before a final one. */
	nl = memchr(rest + 2, '\n', k - 2);
	return nl == NULL || nl == rest + k - 1;
}
