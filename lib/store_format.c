/* store_format.c: the segment store's on-disk format (docs/store.md). */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base64.h"
#include "json.h"
#include "mp.h"
#include "store_format.h"

#define CHUNK ((size_t)1 << 20)
#define IDX_MAGIC "TWIX"
#define IDX_VERSION 1
#define IDX_HEAD 32
#define IDX_ENTRY 72
#define IDX_FILE_MAX ((size_t)256 << 20)
#define KEY_FILE_MAX ((size_t)64 << 10)
#define HMAC_KEY_MIN 16

struct tw_store_key {
	unsigned char *raw; /* HMAC secret */
	size_t raw_len;
	EVP_PKEY *pkey;	    /* an Ed25519 key, when the file was one */
	bool has_private;
	char hmac_id[17];
	char ed_id[17];
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

size_t
tw_store_hdr_encode(const struct tw_store_hdr *h, uint8_t *out)
{
	size_t alen = strnlen(h->agent, TW_STORE_AGENT_MAX);
	size_t hlen = TW_STORE_HDR_FIXED + alen + TW_STORE_HASH_LEN;

	memset(out, 0, TW_STORE_HDR_FIXED);
	memcpy(out, TW_STORE_MAGIC, 4);
	put16(out + 4, TW_STORE_VERSION);
	put16(out + 6, (uint16_t)hlen);
	put32(out + 8, h->body_len);
	put32(out + 12, h->records);
	put64(out + 16, (uint64_t)h->time_min);
	put64(out + 24, (uint64_t)h->time_max);
	put64(out + 32, (uint64_t)h->received_at);
	put64(out + 40, h->seq);
	put64(out + 48, h->index);
	out[56] = (uint8_t)alen;
	memcpy(out + 64, h->prev, TW_STORE_HASH_LEN);
	memcpy(out + TW_STORE_HDR_FIXED, h->agent, alen);
	memcpy(out + TW_STORE_HDR_FIXED + alen, h->hash, TW_STORE_HASH_LEN);
	return hlen;
}

int
tw_store_hdr_decode(const uint8_t *p, size_t n, struct tw_store_hdr *h,
    size_t *need)
{
	size_t alen, hlen;

	if (memcmp(p, TW_STORE_MAGIC, n < 4 ? n : 4) != 0)
		return TW_EPARSE;
	if (n < TW_STORE_HDR_FIXED) {
		if (need != NULL)
			*need = TW_STORE_HDR_FIXED;
		return TW_EEOF;
	}
	alen = p[56];
	hlen = TW_STORE_HDR_FIXED + alen + TW_STORE_HASH_LEN;
	if (get16(p + 4) != TW_STORE_VERSION || alen == 0 ||
	    get16(p + 6) != hlen || get32(p + 8) > TW_STORE_BODY_MAX)
		return TW_EPARSE;
	for (int i = 57; i < 64; i++)
		if (p[i] != 0)
			return TW_EPARSE;
	if (n < hlen) {
		if (need != NULL)
			*need = hlen;
		return TW_EEOF;
	}
	if (memchr(p + TW_STORE_HDR_FIXED, '\0', alen) != NULL)
		return TW_EPARSE;
	h->version = TW_STORE_VERSION;
	h->header_len = (uint16_t)hlen;
	h->body_len = get32(p + 8);
	h->records = get32(p + 12);
	h->time_min = (int64_t)get64(p + 16);
	h->time_max = (int64_t)get64(p + 24);
	h->received_at = (int64_t)get64(p + 32);
	h->seq = get64(p + 40);
	h->index = get64(p + 48);
	h->agent_len = (uint8_t)alen;
	memcpy(h->agent, p + TW_STORE_HDR_FIXED, alen);
	h->agent[alen] = '\0';
	memcpy(h->prev, p + 64, TW_STORE_HASH_LEN);
	memcpy(h->hash, p + TW_STORE_HDR_FIXED + alen, TW_STORE_HASH_LEN);
	return 0;
}

int
tw_store_block_hash(const uint8_t *hdr, size_t hdr_len, const void *body,
    size_t body_len, uint8_t out[TW_STORE_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	int r = TW_EINTERNAL;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TW_ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, hdr, hdr_len - TW_STORE_HASH_LEN) == 1 &&
	    (body_len == 0 || EVP_DigestUpdate(ctx, body, body_len) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return r;
}

int
tw_store_block_hash_fd(int fd, uint64_t off, const struct tw_store_hdr *h,
    uint8_t out[TW_STORE_HASH_LEN])
{
	uint8_t hdr[TW_STORE_HDR_MAX];
	EVP_MD_CTX *ctx = NULL;
	uint8_t *chunk = NULL;
	uint64_t pos, left;
	size_t got;
	int r;

	if ((r = tw_store_pread_full(fd, hdr, h->header_len, off, &got)) != 0)
		goto out;
	if (got != h->header_len) {
		r = TW_EEOF;
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (chunk = malloc(CHUNK)) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	r = TW_EINTERNAL;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, hdr, h->header_len - TW_STORE_HASH_LEN) != 1)
		goto out;
	pos = off + h->header_len;
	for (left = h->body_len; left > 0; left -= got, pos += got) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		if ((r = tw_store_pread_full(fd, chunk, want, pos, &got)) != 0)
			goto out;
		if (got != want) {
			r = TW_EEOF;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, chunk, got) != 1) {
			r = TW_EINTERNAL;
			goto out;
		}
	}
	r = EVP_DigestFinal_ex(ctx, out, NULL) == 1 ? 0 : TW_EINTERNAL;
out:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	return r;
}

int
tw_store_block_at(int fd, uint64_t off, uint64_t file_size, bool check_hash,
    struct tw_store_hdr *h)
{
	uint8_t hdr[TW_STORE_HDR_MAX], hash[TW_STORE_HASH_LEN];
	size_t want, got;
	int r;

	if (off >= file_size)
		return TW_EEOF;
	want = file_size - off < TW_STORE_HDR_MAX ? (size_t)(file_size - off) :
	    TW_STORE_HDR_MAX;
	if ((r = tw_store_pread_full(fd, hdr, want, off, &got)) != 0)
		return r;
	if ((r = tw_store_hdr_decode(hdr, got, h, NULL)) != 0)
		return r;
	if (tw_store_hdr_block_len(h) > file_size - off)
		return TW_EEOF;
	if (!check_hash)
		return 0;
	if ((r = tw_store_block_hash_fd(fd, off, h, hash)) != 0)
		return r;
	return memcmp(hash, h->hash, TW_STORE_HASH_LEN) == 0 ? 0 : TW_EINVAL;
}

int
tw_store_find_block(int fd, uint64_t from, uint64_t file_size,
    uint64_t *found)
{
	struct tw_store_hdr h;
	uint8_t *chunk;
	uint64_t pos = from + 1;
	size_t got;
	int r = TW_ENOTFOUND;

	if ((chunk = malloc(CHUNK)) == NULL)
		return TW_ENOMEM;
	while (pos + 4 <= file_size) {
		size_t want = file_size - pos < CHUNK ?
		    (size_t)(file_size - pos) : CHUNK;
		int rr;
		if ((rr = tw_store_pread_full(fd, chunk, want, pos, &got)) !=
		    0) {
			r = rr;
			goto out;
		}
		if (got < 4)
			break;
		for (size_t i = 0; i + 4 <= got; i++) {
			if (memcmp(chunk + i, TW_STORE_MAGIC, 4) != 0)
				continue;
			if (tw_store_block_at(fd, pos + i, file_size, true,
			    &h) == 0) {
				*found = pos + i;
				r = 0;
				goto out;
			}
		}
		pos += got - 3; /* a magic may straddle two chunks */
	}
out:
	free(chunk);
	return r;
}

void
tw_store_hex(const uint8_t h[TW_STORE_HASH_LEN], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < TW_STORE_HASH_LEN; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tw_store_unhex(const char *p, size_t n, uint8_t h[TW_STORE_HASH_LEN])
{
	if (n != 2 * TW_STORE_HASH_LEN)
		return TW_EPARSE;
	for (int i = 0; i < TW_STORE_HASH_LEN; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return TW_EPARSE;
		h[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
tw_store_name(char out[TW_STORE_NAME_MAX], uint64_t id, const char *ext)
{
	snprintf(out, TW_STORE_NAME_MAX, "%020" PRIu64 "%s", id, ext);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A segment file name: exactly 20 digits and ".seg". */
static bool
segment_name(const char *name, uint64_t *id)
{
	uint64_t v = 0;

	if (strlen(name) != 20 + strlen(TW_STORE_SEG_EXT) ||
	    strcmp(name + 20, TW_STORE_SEG_EXT) != 0)
		return false;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(name[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*id = v;
	return true;
}

int
tw_store_list_segments(int dirfd, uint64_t **ids, size_t *n)
{
	uint64_t *v = NULL, id;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int fd, r = 0;

	*ids = NULL;
	*n = 0;
	if ((fd = dup(dirfd)) < 0)
		return TW_EIO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return TW_EIO;
	}
	rewinddir(d); /* the duplicate shares dirfd's position */
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				r = TW_EIO;
			break;
		}
		if (!segment_name(de->d_name, &id))
			continue;
		if (cnt == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			uint64_t *nv = realloc(v, ncap * sizeof(*v));
			if (nv == NULL) {
				r = TW_ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = id;
	}
	closedir(d);
	if (r != 0) {
		free(v);
		return r;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*ids = v;
	*n = cnt;
	return 0;
}

bool
tw_store_file_exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, 0) == 0;
}

int
tw_store_pread_full(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, (char *)p + done, n - done,
		    (off_t)(off + done));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return TW_EIO;
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return 0;
}

int
tw_store_pwrite_full(int fd, const void *p, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pwrite(fd, (const char *)p + done, n - done,
		    (off_t)(off + done));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return TW_EIO;
		}
		if (k == 0) {
			errno = ENOSPC;
			return TW_EIO;
		}
		done += (size_t)k;
	}
	return 0;
}

int
tw_store_fsync_dir(int dirfd)
{
	while (fsync(dirfd) != 0)
		if (errno != EINTR)
			return TW_EIO;
	return 0;
}

int
tw_store_write_atomic(int dirfd, const char *name, const void *p, size_t n)
{
	char tmp[256];
	int fd = -1, r, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", name,
	    TW_STORE_TMP_EXT) >= sizeof(tmp))
		return TW_EINVAL;
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640)) < 0)
		return TW_EIO;
	if ((r = tw_store_pwrite_full(fd, p, n, 0)) != 0)
		goto fail;
	while (fsync(fd) != 0)
		if (errno != EINTR) {
			r = TW_EIO;
			goto fail;
		}
	if (close(fd) != 0) {
		fd = -1;
		r = TW_EIO;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		r = TW_EIO;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return r;
}

int
tw_store_read_file(int dirfd, const char *name, size_t max, struct tw_buf *out)
{
	struct stat st;
	size_t got;
	int fd, r;

	tw_buf_reset(out);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? TW_ENOTFOUND : TW_EIO;
	if (fstat(fd, &st) != 0) {
		r = TW_EIO;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = TW_ETOOBIG;
		goto out;
	}
	if ((r = tw_buf_reserve(out, (size_t)st.st_size + 1)) != 0)
		goto out;
	if ((r = tw_store_pread_full(fd, out->data, (size_t)st.st_size, 0,
	    &got)) != 0)
		goto out;
	out->len = got;
	out->data[got] = '\0';
out:
	close(fd);
	return r;
}

/* --- the sparse time index --- */

int
tw_store_idx_encode(uint64_t segment_id, const struct tw_store_idx_entry *ent,
    size_t n, const char *const *agents, uint32_t nagents, struct tw_buf *out)
{
	uint8_t head[IDX_HEAD], e[IDX_ENTRY], sum[TW_STORE_HASH_LEN];
	size_t start = out->len;
	unsigned int sumlen;
	int r;

	memset(head, 0, sizeof(head));
	memcpy(head, IDX_MAGIC, 4);
	put16(head + 4, IDX_VERSION);
	put64(head + 8, segment_id);
	put64(head + 16, n);
	put32(head + 24, nagents);
	if ((r = tw_buf_add(out, head, sizeof(head))) != 0)
		goto fail;
	for (uint32_t i = 0; i < nagents; i++) {
		size_t len = strnlen(agents[i], TW_STORE_AGENT_MAX);
		if ((r = tw_buf_addc(out, (char)len)) != 0 ||
		    (r = tw_buf_add(out, agents[i], len)) != 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		memset(e, 0, sizeof(e));
		put64(e, ent[i].offset);
		put64(e + 8, ent[i].index);
		put64(e + 16, ent[i].seq);
		put64(e + 24, (uint64_t)ent[i].time_min);
		put64(e + 32, (uint64_t)ent[i].time_max);
		put64(e + 40, (uint64_t)ent[i].received_at);
		put32(e + 48, ent[i].len);
		put32(e + 52, ent[i].records);
		put32(e + 56, ent[i].agent_no);
		if ((r = tw_buf_add(out, e, sizeof(e))) != 0)
			goto fail;
	}
	if (EVP_Digest(out->data + start, out->len - start, sum, &sumlen,
	    EVP_sha256(), NULL) != 1) {
		r = TW_EINTERNAL;
		goto fail;
	}
	if ((r = tw_buf_add(out, sum, sizeof(sum))) != 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	return r;
}

void
tw_store_idx_cleanup(struct tw_store_idx *idx)
{
	for (uint32_t i = 0; i < idx->nagents; i++)
		free(idx->agents[i]);
	free(idx->agents);
	free(idx->ent);
	memset(idx, 0, sizeof(*idx));
}

int
tw_store_idx_load(int dirfd, uint64_t id, struct tw_store_idx *idx)
{
	char name[TW_STORE_NAME_MAX];
	uint8_t sum[TW_STORE_HASH_LEN];
	const uint8_t *p, *end;
	unsigned int sumlen;
	struct tw_buf b;
	uint64_t n;
	int r;

	memset(idx, 0, sizeof(*idx));
	tw_buf_init(&b, IDX_FILE_MAX);
	tw_store_name(name, id, TW_STORE_IDX_EXT);
	if ((r = tw_store_read_file(dirfd, name, IDX_FILE_MAX, &b)) != 0)
		goto out;
	r = TW_EPARSE;
	if (b.len < IDX_HEAD + TW_STORE_HASH_LEN)
		goto out;
	p = (const uint8_t *)b.data;
	end = p + b.len - TW_STORE_HASH_LEN;
	if (EVP_Digest(p, b.len - TW_STORE_HASH_LEN, sum, &sumlen,
	    EVP_sha256(), NULL) != 1 ||
	    memcmp(sum, end, TW_STORE_HASH_LEN) != 0)
		goto out;
	if (memcmp(p, IDX_MAGIC, 4) != 0 || get16(p + 4) != IDX_VERSION ||
	    get64(p + 8) != id)
		goto out;
	n = get64(p + 16);
	idx->segment_id = id;
	idx->nagents = 0;
	if (get32(p + 24) > (uint32_t)(end - p))
		goto out;
	if ((idx->agents = calloc(get32(p + 24) + 1, sizeof(char *))) == NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	{
		uint32_t na = get32(p + 24);
		p += IDX_HEAD;
		for (uint32_t i = 0; i < na; i++) {
			size_t len;
			if (p >= end || (len = *p) == 0 ||
			    (size_t)(end - p) < 1 + len ||
			    memchr(p + 1, '\0', len) != NULL)
				goto out;
			if ((idx->agents[i] = strndup((const char *)p + 1,
			    len)) == NULL) {
				r = TW_ENOMEM;
				goto out;
			}
			idx->nagents++;
			p += 1 + len;
		}
	}
	if (n > (uint64_t)(end - p) / IDX_ENTRY ||
	    (uint64_t)(end - p) != n * IDX_ENTRY)
		goto out;
	if (n > 0 && (idx->ent = calloc((size_t)n, sizeof(*idx->ent))) ==
	    NULL) {
		r = TW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++, p += IDX_ENTRY) {
		struct tw_store_idx_entry *e = &idx->ent[i];
		e->offset = get64(p);
		e->index = get64(p + 8);
		e->seq = get64(p + 16);
		e->time_min = (int64_t)get64(p + 24);
		e->time_max = (int64_t)get64(p + 32);
		e->received_at = (int64_t)get64(p + 40);
		e->len = get32(p + 48);
		e->records = get32(p + 52);
		e->agent_no = get32(p + 56);
		if (e->agent_no >= idx->nagents || e->len < TW_STORE_HDR_MIN)
			goto out;
		/* Ascending; a damaged block kept in place leaves a hole. */
		if (i > 0 &&
		    (e->offset < idx->ent[i - 1].offset + idx->ent[i - 1].len ||
		    e->index <= idx->ent[i - 1].index))
			goto out;
	}
	idx->n = (size_t)n;
	r = 0;
out:
	if (r != 0)
		tw_store_idx_cleanup(idx);
	tw_buf_cleanup(&b);
	return r;
}

/* --- JSON fields of checkpoint and anchor files --- */

/* Convert one JSON object to msgpack in mp. */
static int
json_parse(const char *p, size_t n, struct tw_buf *mp)
{
	struct tw_mpw w;

	tw_buf_reset(mp);
	tw_mpw_init(&w, mp);
	return tw_json_to_mp(p, n, &w, NULL, NULL);
}

static int
get_u64(const struct tw_buf *mp, const char *key, uint64_t *v)
{
	struct tw_mp_obj o;

	if (tw_mp_path(mp->data, mp->len, key, &o) != 0 ||
	    o.type != TW_MP_UINT)
		return TW_EPARSE;
	*v = o.v.u;
	return 0;
}

static int
get_i64(const struct tw_buf *mp, const char *key, int64_t *v)
{
	struct tw_mp_obj o;

	if (tw_mp_path(mp->data, mp->len, key, &o) != 0)
		return TW_EPARSE;
	if (o.type == TW_MP_INT)
		*v = o.v.i;
	else if (o.type == TW_MP_UINT && o.v.u <= INT64_MAX)
		*v = (int64_t)o.v.u;
	else
		return TW_EPARSE;
	return 0;
}

static int
get_str(const struct tw_buf *mp, const char *key, const char **p, size_t *n)
{
	struct tw_mp_obj o;

	if (tw_mp_path(mp->data, mp->len, key, &o) != 0 ||
	    o.type != TW_MP_STR)
		return TW_EPARSE;
	*p = o.v.s.p;
	*n = o.v.s.len;
	return 0;
}

static int
get_hash(const struct tw_buf *mp, const char *key, uint8_t h[32])
{
	const char *p;
	size_t n;

	if (get_str(mp, key, &p, &n) != 0)
		return TW_EPARSE;
	return tw_store_unhex(p, n, h);
}

/* --- keys and signatures --- */

const char *
tw_store_sig_name(enum tw_store_sig alg)
{
	switch (alg) {
	case TW_STORE_SIG_HMAC_SHA256:
		return "hmac-sha256";
	case TW_STORE_SIG_ED25519:
		return "ed25519";
	default:
		return "none";
	}
}

int
tw_store_sig_parse(const char *s, enum tw_store_sig *alg)
{
	if (strcmp(s, "none") == 0)
		*alg = TW_STORE_SIG_NONE;
	else if (strcmp(s, "hmac-sha256") == 0 || strcmp(s, "hmac") == 0)
		*alg = TW_STORE_SIG_HMAC_SHA256;
	else if (strcmp(s, "ed25519") == 0)
		*alg = TW_STORE_SIG_ED25519;
	else
		return TW_EINVAL;
	return 0;
}

static void
set_why(char **why, const char *path, const char *msg)
{
	if (why == NULL)
		return;
	free(*why);
	if (asprintf(why, "%s: %s", path, msg) < 0)
		*why = NULL;
}

/* The first 8 bytes of SHA-256(prefix || p), in hex. */
static void
key_id(const char *prefix, const void *p, size_t n, char out[17])
{
	uint8_t h[TW_STORE_HASH_LEN];
	char hex[65];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, prefix, strlen(prefix)) == 1 &&
	    EVP_DigestUpdate(ctx, p, n) == 1 &&
	    EVP_DigestFinal_ex(ctx, h, NULL) == 1) {
		tw_store_hex(h, hex);
		memcpy(out, hex, 16);
		out[16] = '\0';
	}
	EVP_MD_CTX_free(ctx);
}

struct tw_store_key *
tw_store_key_load(const char *path, enum tw_store_sig alg, char **why)
{
	struct tw_store_key *k = NULL;
	unsigned char pub[64];
	size_t publen = sizeof(pub), n = 0;
	char *text = NULL;
	BIO *bio = NULL;
	FILE *f = NULL;
	bool ok = false;

	if ((f = fopen(path, "rb")) == NULL) {
		set_why(why, path, strerror(errno));
		goto out;
	}
	if ((text = malloc(KEY_FILE_MAX + 1)) == NULL ||
	    (k = calloc(1, sizeof(*k))) == NULL) {
		set_why(why, path, "out of memory");
		goto out;
	}
	n = fread(text, 1, KEY_FILE_MAX + 1, f);
	if (ferror(f)) {
		set_why(why, path, strerror(errno));
		goto out;
	}
	if (n > KEY_FILE_MAX) {
		set_why(why, path, "key file larger than 64 KiB");
		goto out;
	}
	text[n] = '\0';
	if (strstr(text, "-----BEGIN") != NULL) {
		if ((bio = BIO_new_mem_buf(text, (int)n)) == NULL)
			goto nomem;
		k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		if (k->pkey != NULL) {
			k->has_private = true;
		} else {
			BIO_free(bio);
			if ((bio = BIO_new_mem_buf(text, (int)n)) == NULL)
				goto nomem;
			k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		}
		ERR_clear_error(); /* the failed attempt queued errors */
		if (k->pkey != NULL &&
		    EVP_PKEY_id(k->pkey) != EVP_PKEY_ED25519) {
			EVP_PKEY_free(k->pkey);
			k->pkey = NULL;
			k->has_private = false;
		}
		if (k->pkey != NULL &&
		    EVP_PKEY_get_raw_public_key(k->pkey, pub, &publen) == 1)
			key_id("", pub, publen, k->ed_id);
	}
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
	    text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n > 0) {
		if ((k->raw = malloc(n)) == NULL)
			goto nomem;
		memcpy(k->raw, text, n);
		k->raw_len = n;
		key_id("trawl-checkpoint-hmac-key:", k->raw, n, k->hmac_id);
	}
	switch (alg) {
	case TW_STORE_SIG_HMAC_SHA256:
		if (k->raw_len < HMAC_KEY_MIN) {
			set_why(why, path, "an HMAC key needs at least 16 "
			    "bytes");
			goto out;
		}
		break;
	case TW_STORE_SIG_ED25519:
		if (k->pkey == NULL || !k->has_private) {
			set_why(why, path, "not a PEM Ed25519 private key");
			goto out;
		}
		break;
	default:
		if (k->raw_len == 0 && k->pkey == NULL) {
			set_why(why, path, "empty key file");
			goto out;
		}
		break;
	}
	ok = true;
	goto out;
nomem:
	set_why(why, path, "out of memory");
out:
	if (f != NULL)
		fclose(f);
	BIO_free(bio);
	if (text != NULL) {
		OPENSSL_cleanse(text, KEY_FILE_MAX + 1);
		free(text);
	}
	if (!ok) {
		tw_store_key_free(k);
		k = NULL;
	}
	return k;
}

void
tw_store_key_free(struct tw_store_key *k)
{
	if (k == NULL)
		return;
	if (k->raw != NULL) {
		OPENSSL_cleanse(k->raw, k->raw_len);
		free(k->raw);
	}
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* Sign (or with verify, check) msg; sig is base64 text. */
static int
sig_hmac(const struct tw_store_key *k, const char *msg, size_t n,
    uint8_t out[TW_STORE_HASH_LEN])
{
	unsigned int len = TW_STORE_HASH_LEN;

	if (k->raw_len == 0 || k->raw_len > INT32_MAX)
		return TW_EINVAL;
	if (HMAC(EVP_sha256(), k->raw, (int)k->raw_len,
	    (const unsigned char *)msg, n, out, &len) == NULL ||
	    len != TW_STORE_HASH_LEN)
		return TW_EINTERNAL;
	return 0;
}

int
tw_store_ckpt_payload(const struct tw_store_ckpt *c, struct tw_buf *out)
{
	char name[TW_STORE_NAME_MAX], prev[65], last[65];

	tw_store_name(name, c->segment_id, TW_STORE_SEG_EXT);
	tw_store_hex(c->first_prev, prev);
	tw_store_hex(c->last_hash, last);
	return tw_buf_addf(out, "{\"v\":1,\"segment\":\"%s\","
	    "\"segment_id\":%" PRIu64 ",\"first_block\":%" PRIu64 ","
	    "\"last_block\":%" PRIu64 ",\"blocks\":%" PRIu64 ","
	    "\"first_prev_hash\":\"%s\",\"last_hash\":\"%s\","
	    "\"bytes\":%" PRIu64 ",\"time_min\":%" PRId64 ","
	    "\"time_max\":%" PRId64 ",\"received_min\":%" PRId64 ","
	    "\"received_max\":%" PRId64 ",\"sealed_at\":%" PRId64 "}",
	    name, c->segment_id, c->first_block, c->last_block, c->blocks,
	    prev, last, c->bytes, c->time_min, c->time_max, c->received_min,
	    c->received_max, c->sealed_at);
}

int
tw_store_ckpt_render(const struct tw_store_ckpt *c, enum tw_store_sig alg,
    const struct tw_store_key *key, struct tw_buf *out)
{
	uint8_t sig[64];
	size_t siglen = 0, start = out->len, pstart;
	EVP_MD_CTX *ctx = NULL;
	const char *kid = "";
	int r;

	if ((r = tw_store_ckpt_payload(c, out)) != 0)
		goto out;
	pstart = start;
	switch (alg) {
	case TW_STORE_SIG_NONE:
		break;
	case TW_STORE_SIG_HMAC_SHA256:
		if (key == NULL) {
			r = TW_EINVAL;
			goto out;
		}
		if ((r = sig_hmac(key, out->data + pstart, out->len - pstart,
		    sig)) != 0)
			goto out;
		siglen = TW_STORE_HASH_LEN;
		kid = key->hmac_id;
		break;
	case TW_STORE_SIG_ED25519:
		if (key == NULL || key->pkey == NULL || !key->has_private) {
			r = TW_EINVAL;
			goto out;
		}
		if ((ctx = EVP_MD_CTX_new()) == NULL) {
			r = TW_ENOMEM;
			goto out;
		}
		siglen = sizeof(sig);
		if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
		    EVP_DigestSign(ctx, sig, &siglen,
		    (const unsigned char *)out->data + pstart,
		    out->len - pstart) != 1) {
			r = TW_EINTERNAL;
			goto out;
		}
		kid = key->ed_id;
		break;
	}
	if ((r = tw_buf_addf(out, "\n{\"alg\":\"%s\"", tw_store_sig_name(alg)))
	    != 0)
		goto out;
	if (alg != TW_STORE_SIG_NONE &&
	    ((r = tw_buf_addf(out, ",\"key_id\":\"%s\",\"sig\":\"",
	    kid)) != 0 ||
	    (r = tw_base64_encode(out, sig, siglen)) != 0 ||
	    (r = tw_buf_addc(out, '"')) != 0))
		goto out;
	r = tw_buf_adds(out, "}\n");
out:
	EVP_MD_CTX_free(ctx);
	if (r != 0)
		out->len = start;
	return r;
}

static int
ckpt_fail(char *why, size_t whylen, int r, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return r;
}

int
tw_store_ckpt_check(const char *p, size_t n, const struct tw_store_key *key,
    struct tw_store_ckpt *c, enum tw_store_sig *alg, char *why, size_t whylen)
{
	const char *nl, *sp, *s;
	size_t plen, slen, sn;
	struct tw_buf mp, sig;
	char name[TW_STORE_NAME_MAX];
	enum tw_store_sig a;
	EVP_MD_CTX *ctx = NULL;
	uint64_t v;
	int r;

	tw_buf_init(&mp, TW_STORE_META_MAX * 2);
	tw_buf_init(&sig, 256);
	memset(c, 0, sizeof(*c));
	if ((nl = memchr(p, '\n', n)) == NULL) {
		r = ckpt_fail(why, whylen, TW_EPARSE, "no signature line");
		goto out;
	}
	plen = (size_t)(nl - p);
	sp = nl + 1;
	slen = n - plen - 1;
	while (slen > 0 && (sp[slen - 1] == '\n' || sp[slen - 1] == '\r'))
		slen--;
	if (json_parse(p, plen, &mp) != 0 ||
	    get_u64(&mp, "v", &v) != 0 || v != 1 ||
	    get_u64(&mp, "segment_id", &c->segment_id) != 0 ||
	    get_u64(&mp, "first_block", &c->first_block) != 0 ||
	    get_u64(&mp, "last_block", &c->last_block) != 0 ||
	    get_u64(&mp, "blocks", &c->blocks) != 0 ||
	    get_hash(&mp, "first_prev_hash", c->first_prev) != 0 ||
	    get_hash(&mp, "last_hash", c->last_hash) != 0 ||
	    get_u64(&mp, "bytes", &c->bytes) != 0 ||
	    get_i64(&mp, "time_min", &c->time_min) != 0 ||
	    get_i64(&mp, "time_max", &c->time_max) != 0 ||
	    get_i64(&mp, "received_min", &c->received_min) != 0 ||
	    get_i64(&mp, "received_max", &c->received_max) != 0 ||
	    get_i64(&mp, "sealed_at", &c->sealed_at) != 0 ||
	    get_str(&mp, "segment", &s, &sn) != 0) {
		r = ckpt_fail(why, whylen, TW_EPARSE, "malformed payload");
		goto out;
	}
	tw_store_name(name, c->segment_id, TW_STORE_SEG_EXT);
	if (sn != strlen(name) || memcmp(s, name, sn) != 0) {
		r = ckpt_fail(why, whylen, TW_EPARSE, "segment name does not "
		    "match segment_id");
		goto out;
	}
	if (json_parse(sp, slen, &mp) != 0 ||
	    get_str(&mp, "alg", &s, &sn) != 0) {
		r = ckpt_fail(why, whylen, TW_EPARSE, "malformed signature "
		    "line");
		goto out;
	}
	{
		char an[32];
		if (sn >= sizeof(an)) {
			r = ckpt_fail(why, whylen, TW_EPARSE, "unknown "
			    "signature algorithm");
			goto out;
		}
		memcpy(an, s, sn);
		an[sn] = '\0';
		if (tw_store_sig_parse(an, &a) != 0) {
			r = ckpt_fail(why, whylen, TW_EPARSE, "unknown "
			    "signature algorithm");
			goto out;
		}
	}
	if (alg != NULL)
		*alg = a;
	if (a != TW_STORE_SIG_NONE &&
	    (get_str(&mp, "sig", &s, &sn) != 0 ||
	    tw_base64_decode(&sig, s, sn) != 0)) {
		r = ckpt_fail(why, whylen, TW_EPARSE, "malformed signature");
		goto out;
	}
	r = 0;
	if (key == NULL)
		goto out;
	switch (a) {
	case TW_STORE_SIG_NONE:
		r = ckpt_fail(why, whylen, TW_EAUTH, "checkpoint is not "
		    "signed");
		break;
	case TW_STORE_SIG_HMAC_SHA256: {
		uint8_t want[TW_STORE_HASH_LEN];
		if (key->raw_len == 0) {
			r = ckpt_fail(why, whylen, TW_EAUTH, "the key is not "
			    "an HMAC key");
			break;
		}
		if ((r = sig_hmac(key, p, plen, want)) != 0)
			break;
		if (sig.len != sizeof(want) ||
		    CRYPTO_memcmp(want, sig.data, sizeof(want)) != 0)
			r = ckpt_fail(why, whylen, TW_EAUTH, "bad checkpoint "
			    "signature");
		break;
	}
	case TW_STORE_SIG_ED25519:
		if (key->pkey == NULL) {
			r = ckpt_fail(why, whylen, TW_EAUTH, "the key is not "
			    "an Ed25519 key");
			break;
		}
		if ((ctx = EVP_MD_CTX_new()) == NULL) {
			r = TW_ENOMEM;
			break;
		}
		if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) !=
		    1 || EVP_DigestVerify(ctx, (const unsigned char *)sig.data,
		    sig.len, (const unsigned char *)p, plen) != 1)
			r = ckpt_fail(why, whylen, TW_EAUTH, "bad checkpoint "
			    "signature");
		break;
	}
out:
	EVP_MD_CTX_free(ctx);
	tw_buf_cleanup(&mp);
	tw_buf_cleanup(&sig);
	return r;
}

/* --- the retention anchor --- */

void
tw_store_anchor_init(struct tw_store_anchor *a)
{
	memset(a, 0, sizeof(*a));
	tw_buf_init(&a->ckpt, TW_STORE_META_MAX);
}

void
tw_store_anchor_cleanup(struct tw_store_anchor *a)
{
	tw_buf_cleanup(&a->ckpt);
}

int
tw_store_anchor_load(int dirfd, struct tw_store_anchor *a)
{
	struct tw_buf text, mp;
	const char *nl;
	uint64_t v;
	size_t line;
	int r;

	tw_buf_init(&text, TW_STORE_META_MAX * 2);
	tw_buf_init(&mp, TW_STORE_META_MAX * 2);
	if ((r = tw_store_read_file(dirfd, TW_STORE_ANCHOR,
	    TW_STORE_META_MAX * 2, &text)) != 0) {
		if (r == TW_ETOOBIG)
			r = TW_EPARSE;
		goto out;
	}
	nl = memchr(text.data, '\n', text.len);
	line = nl != NULL ? (size_t)(nl - text.data) : text.len;
	r = TW_EPARSE;
	if (json_parse(text.data, line, &mp) != 0 ||
	    get_u64(&mp, "v", &v) != 0 || v != 1 ||
	    get_u64(&mp, "first_segment", &a->first_segment) != 0 ||
	    get_u64(&mp, "first_block", &a->first_block) != 0 ||
	    get_hash(&mp, "prev_hash", a->prev) != 0 ||
	    get_u64(&mp, "deleted_segments", &a->deleted_segments) != 0 ||
	    get_u64(&mp, "deleted_blocks", &a->deleted_blocks) != 0 ||
	    get_u64(&mp, "deleted_bytes", &a->deleted_bytes) != 0 ||
	    get_i64(&mp, "updated_at", &a->updated_at) != 0)
		goto out;
	tw_buf_reset(&a->ckpt);
	if (nl != NULL && (r = tw_buf_add(&a->ckpt, nl + 1,
	    text.len - line - 1)) != 0)
		goto out;
	r = 0;
out:
	tw_buf_cleanup(&text);
	tw_buf_cleanup(&mp);
	return r;
}

int
tw_store_anchor_save(int dirfd, const struct tw_store_anchor *a)
{
	char prev[65];
	struct tw_buf b;
	int r;

	tw_buf_init(&b, TW_STORE_META_MAX * 2);
	tw_store_hex(a->prev, prev);
	if ((r = tw_buf_addf(&b, "{\"v\":1,\"first_segment\":%" PRIu64 ","
	    "\"first_block\":%" PRIu64 ",\"prev_hash\":\"%s\","
	    "\"deleted_segments\":%" PRIu64 ",\"deleted_blocks\":%" PRIu64 ","
	    "\"deleted_bytes\":%" PRIu64 ",\"updated_at\":%" PRId64 "}\n",
	    a->first_segment, a->first_block, prev, a->deleted_segments,
	    a->deleted_blocks, a->deleted_bytes, a->updated_at)) != 0 ||
	    (r = tw_buf_add(&b, a->ckpt.data, a->ckpt.len)) != 0)
		goto out;
	if ((r = tw_store_write_atomic(dirfd, TW_STORE_ANCHOR, b.data,
	    b.len)) != 0)
		goto out;
	r = tw_store_fsync_dir(dirfd);
out:
	tw_buf_cleanup(&b);
	return r;
}
