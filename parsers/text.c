/* text.c: the plain text format: one record per line, as it is. */
#include "config.h"

#include <stdlib.h>

#include "formats.h"

struct text_state {
	struct tw_buf scratch;
};

static int
text_new(const struct tw_parse_opts *o, void **state)
{
	struct text_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	tw_buf_init(&s->scratch, (size_t)64 << 20);
	*state = s;
	return 0;
}

static void
text_free(void *state)
{
	struct text_state *s = state;

	tw_buf_cleanup(&s->scratch);
	free(s);
}

/*
 * A line has no time of its own: it takes the reference clock (the time
 * it was read). A trailing CR of a CRLF file is not part of the message.
 */
static int
text_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct text_state *s = state;
	uint32_t keys = 0;
	size_t hdr;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, o->now_ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	keys += tw_rec_source(w, o, "file", "text");
	keys += tw_rec_message(w, &s->scratch, p, n);
	tw_mpw_patch32(w, hdr, keys);
	if (w->err != 0)
		return w->err;
	return emit(arg, (const uint8_t *)w->buf->data, w->buf->len);
}

const struct tw_format tw_format_text = {
	.name = "text",
	.framing = TW_FRAMING_LINES,
	.state_new = text_new,
	.state_free = text_free,
	.parse = text_parse,
	.flush = NULL,
	.detect = NULL,
};
