/* fuzz_batch.c: fuzz the batch decoder; accepted batches must round-trip. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Contexts are costly to create: one of each for the whole run. */
static struct tw_batch_dec *dec;
static struct tw_batch_enc *enc;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_batch_limits lim, lim2;
	struct tw_batch_info info, info2;
	struct tw_buf recs, frame, recs2;
	const uint8_t *rec;
	size_t off = 0, len, n = 0;
	int rc;

	if (dec == NULL && (dec = tw_batch_dec_new()) == NULL)
		abort();
	if (enc == NULL && (enc = tw_batch_enc_new(1)) == NULL)
		abort();
	/* The defaults, but 4 MiB decompressed so each run stays fast. */
	tw_batch_limits_default(&lim);
	lim.decompressed_max = (size_t)4 << 20;
	tw_buf_init(&recs, SIZE_MAX);
	tw_buf_init(&frame, SIZE_MAX);
	tw_buf_init(&recs2, SIZE_MAX);

	rc = tw_batch_decode(dec, data, size, &lim, -1, &recs, &info);
	if (tw_batch_http_status(rc) == 500 && rc != TW_ENOMEM)
		abort(); /* every refusal is a 400 or a 413 */
	if (rc != 0) {
		if (recs.len != 0)
			abort();
		goto out;
	}
	if (info.raw_len != recs.len || info.compressed_len != size ||
	    recs.len > lim.decompressed_max ||
	    recs.len > TW_BATCH_RATIO_FREE + size * (size_t)lim.ratio_max)
		abort();

	/* The encoder accepts what the decoder did, under the same limits. */
	tw_batch_enc_reset(enc);
	tw_batch_enc_set_limits(enc, &lim);
	while ((rc = tw_batch_next(&recs, &off, &rec, &len)) == 1) {
		if (len == 0 || len > lim.record_max ||
		    tw_batch_enc_add(enc, rec, len) != 0)
			abort();
		n++;
	}
	if (rc != 0 || n != info.records || off != recs.len ||
	    tw_batch_enc_records(enc) != n ||
	    tw_batch_enc_raw_len(enc) != recs.len)
		abort();
	if (tw_batch_enc_finish(enc, &frame, &info2) != 0)
		abort();
	if (info2.records != info.records || info2.raw_len != info.raw_len ||
	    info2.time_min != info.time_min ||
	    info2.time_max != info.time_max ||
	    info2.compressed_len != frame.len)
		abort();

	/*
	 * Decode the re-encoded frame: identical record bytes. It may compress
	 * far better than the input did, so no size or ratio limit here.
	 */
	lim2 = lim;
	lim2.compressed_max = SIZE_MAX;
	lim2.ratio_max = 0;
	if (tw_batch_decode(dec, frame.data, frame.len, &lim2, n, &recs2,
	    &info2) != 0)
		abort();
	if (recs2.len != recs.len ||
	    memcmp(recs2.data, recs.data, recs.len) != 0 ||
	    info2.records != info.records ||
	    info2.time_min != info.time_min || info2.time_max != info.time_max)
		abort();
	if (n < lim2.records_max && tw_batch_decode(dec, frame.data,
	    frame.len, &lim2, (int64_t)n + 1, &recs2, NULL) != TW_ECOUNT)
		abort();
out:
	tw_buf_cleanup(&recs);
	tw_buf_cleanup(&frame);
	tw_buf_cleanup(&recs2);
	return 0;
}
