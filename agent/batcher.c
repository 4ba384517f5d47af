/* batcher.c: records into batches, cut by size, record count and linger. */
#include "config.h"

#include <stdlib.h>

#include "batcher.h"

/* Raw bytes a batch holds at most, whatever the estimate says. */
#define RAW_SOFT_MAX ((size_t)32 << 20)
/* The estimate of raw/compressed starts here and stays in [1, 50]. */
#define RATIO_START 4.0

struct batcher {
	struct batcher_opts o;
	struct tw_batch_enc *enc;
	double ratio;
	int64_t first_ms;
};

struct batcher *
batcher_new(const struct batcher_opts *o)
{
	struct tw_batch_limits lim;
	struct batcher *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->o = *o;
	b->ratio = RATIO_START;
	b->first_ms = -1;
	if ((b->enc = tw_batch_enc_new(o->zstd_level)) == NULL) {
		free(b);
		return NULL;
	}
	/* What a collector with default limits accepts. */
	tw_batch_limits_default(&lim);
	tw_batch_enc_set_limits(b->enc, &lim);
	return b;
}

int
batcher_add(struct batcher *b, const uint8_t *rec, size_t n, int64_t now_ms)
{
	int r;

	if ((r = tw_batch_enc_add(b->enc, rec, n)) != 0)
		return r;
	if (b->first_ms < 0)
		b->first_ms = now_ms;
	return 0;
}

size_t
batcher_records(const struct batcher *b)
{
	return tw_batch_enc_records(b->enc);
}

bool
batcher_full(const struct batcher *b)
{
	double raw_max = (double)b->o.max_bytes * b->ratio;

	if (raw_max > (double)RAW_SOFT_MAX)
		raw_max = (double)RAW_SOFT_MAX;
	return tw_batch_enc_records(b->enc) >= b->o.max_records ||
	    (double)tw_batch_enc_raw_len(b->enc) >= raw_max;
}

int64_t
batcher_deadline(const struct batcher *b)
{
	if (tw_batch_enc_records(b->enc) == 0)
		return -1;
	return b->first_ms + (int64_t)b->o.linger_ms;
}

int
batcher_finish(struct batcher *b, struct tw_buf *frame,
    struct tw_batch_info *info)
{
	double ratio;
	int r;

	if ((r = tw_batch_enc_finish(b->enc, frame, info)) != 0)
		return r;
	b->first_ms = -1;
	/* Only batches of some size say much about the data's ratio. */
	if (info->compressed_len > 0 && info->raw_len >= 64 * 1024) {
		ratio = (double)info->raw_len / (double)info->compressed_len;
		if (ratio < 1)
			ratio = 1;
		if (ratio > 50)
			ratio = 50;
		b->ratio = (b->ratio + ratio) / 2;
	}
	return 0;
}

void
batcher_free(struct batcher *b)
{
	if (b == NULL)
		return;
	tw_batch_enc_free(b->enc);
	free(b);
}
