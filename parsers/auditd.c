/* auditd.c: the auditd format: Linux audit log records grouped into events by audit(sec.msec:serial). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "utf8.h"

/*
 * Records of one event share "audit(sec.msec:serial)" (and node=) and
 * may interleave with other events' records. An event is complete (as
 * auparse decides, auparse.c au_check_events) when its last record is a
 * PROCTITLE or a type that stands alone (user-space messages, ANOM_*,
 * ...), when an EOE record names it, or when a record stamped more
 * than 2 s later arrives; at flush (EOF, idle) everything pending is (no
 * "incomplete" flag: auditd has no terminator in files, that is how an
 * event ends). Events leave in the order of their first record.
 */
#define AU_PENDING_MAX 256	 /* events being assembled at once */
#define AU_EVENT_MAX (1u << 20)	 /* bytes of lines in one event */
#define AU_TEXT_MAX (16u << 20)	 /* decoded keys and values of one event */
#define AU_RECORDS_MAX 1024	 /* records in one event */
#define AU_FIELDS_MAX 2048	 /* fields kept of one record */
#define AU_TIMEOUT_S 2
#define AU_SCRATCH_MAX ((size_t)64 << 20)

struct au_span {
	uint32_t off, len; /* in the event's text */
};

struct au_kv {
	struct au_span k, v;
};

struct au_rec {
	struct au_span type;
	uint32_t kv, nkv; /* fields: ev->kvs[kv .. kv + nkv) */
	uint32_t en, nen; /* enriched (after 0x1D), likewise */
};

enum au_status { AU_FREE, AU_BUILDING, AU_COMPLETE };

struct au_event {
	enum au_status status;
	bool text_only;	   /* a line that is not an audit record */
	int64_t sec, time_ns;
	struct au_span id, node;
	struct tw_buf lines; /* the raw lines, '\n'-joined */
	struct tw_buf text;  /* types, keys and decoded values (UTF-8) */
	struct au_rec *recs;
	uint32_t nrecs, caprecs;
	struct au_kv *kvs;
	uint32_t nkvs, capkvs;
};

struct au_state {
	struct au_event ev[AU_PENDING_MAX]; /* a ring, oldest first */
	unsigned head, count;
	struct tw_buf line;    /* the line with U+FFFD, when not UTF-8 */
	struct tw_buf clean;   /* a decoded value with U+FFFD */
	struct tw_buf scratch; /* tw_rec_message; lower-cased types */
	struct tw_buf hex;     /* a hex value being decoded */
	struct tw_buf args;    /* EXECVE arguments, reassembled */
	struct au_span *argv;  /* offsets into args */
	size_t nargv, capargv;
};

/* One parsed header: spans into the (clean) line. */
struct au_header {
	const char *node, *type, *id, *body, *enriched;
	size_t nodelen, typelen, idlen, bodylen, enrichedlen;
	int64_t sec, time_ns;
};

/*
 * Types that can be followed by more records of their event (kernel
 * syscall-context records, SELinux, AppArmor); every other type is an
 * event by itself. PROCTITLE ends an event; EOE is the terminator.
 */
static const char *const multi_types[] = {
	"SYSCALL", "FS_WATCH", "PATH", "IPC", "SOCKETCALL", "CONFIG_CHANGE",
	"SOCKADDR", "CWD", "FS_INODE", "EXECVE", "IPC_SET_PERM", "MQ_OPEN",
	"MQ_SENDRECV", "MQ_NOTIFY", "MQ_GETSETATTR", "KERNEL_OTHER",
	"FD_PAIR", "OBJ_PID", "TTY", "BPRM_FCAPS", "CAPSET", "MMAP",
	"NETFILTER_PKT", "NETFILTER_CFG", "SECCOMP", "FEATURE_CHANGE",
	"REPLACE", "KERN_MODULE", "FANOTIFY", "TIME_INJOFFSET",
	"TIME_ADJNTPVAL", "BPF", "EVENT_LISTENER", "URINGOP", "OPENAT2",
	"DM_CTRL", "DM_EVENT", "AVC", "SELINUX_ERR", "AVC_PATH",
	"MAC_POLICY_LOAD", "MAC_STATUS", "MAC_CONFIG_CHANGE",
	"MAC_TASK_CONTEXTS", "MAC_OBJ_CONTEXTS", NULL,
};

/* Fields whose unquoted value is the kernel's hex encoding of a string
 * (audit-userspace auparse/typetab.h: the ESCAPED types, proctitle). */
static const char *const hex_keys[] = {
	"path", "comm", "exe", "file", "name", "watch", "cwd", "cmd", "acct",
	"dir", "key", "vm", "old-chardev", "new-chardev", "old-disk",
	"new-disk", "old-fs", "new-fs", "old-net", "new-net", "device",
	"cgroup", "apparmor", "operation", "denied_mask", "info", "profile",
	"requested_mask", "old-rng", "new-rng", "ocomm", "grp", "new_group",
	"invalid_context", "sw", "root_dir", "proctitle", "data", NULL,
};

/* Record types whose fields the generator does not lift generically. */
static const char *const aux_types[] = {
	"SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE", "SOCKADDR", NULL,
};

static bool
span_is(const char *p, size_t n, const char *s)
{
	size_t sn = strlen(s);

	return n == sn && memcmp(p, s, n) == 0;
}

static bool
in_list(const char *const *list, const char *p, size_t n)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (span_is(p, n, list[i]))
			return true;
	return false;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits p[0..n) as an unsigned number; false when empty or too long. */
static bool
parse_uint(const char *p, size_t n, size_t maxdigits, uint64_t *v)
{
	*v = 0;
	if (n == 0 || n > maxdigits)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	}
	return true;
}

/* Python's int() of a field: an optional sign and decimal digits. */
static bool
parse_int(const char *p, size_t n, int64_t *v)
{
	bool neg = false;
	uint64_t u;

	if (n > 0 && (p[0] == '-' || p[0] == '+')) {
		neg = p[0] == '-';
		p++;
		n--;
	}
	if (!parse_uint(p, n, 18, &u))
		return false;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

/* Whether a record of this type ends its event (see above). */
static bool
ends_event(const char *t, size_t n)
{
	uint64_t num;

	if (span_is(t, n, "PROCTITLE") || span_is(t, n, "EOE"))
		return true;
	/* auditd names types it does not know UNKNOWN[1234]. */
	if (n > 9 && memcmp(t, "UNKNOWN[", 8) == 0 && t[n - 1] == ']' &&
	    parse_uint(t + 8, n - 9, 9, &num))
		return num < 1300 || num >= 1700 ||
		    (num >= 1406 && num <= 1419) || num == 1320 ||
		    num == 1327;
	if (n > 8 && memcmp(t, "APPARMOR", 8) == 0)
		return false;
	return !in_list(multi_types, t, n);
}

static int
au_new(const struct tw_parse_opts *o, void **state)
{
	struct au_state *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TW_ENOMEM;
	for (size_t i = 0; i < AU_PENDING_MAX; i++) {
		/* A record may be one line longer than the event cap. */
		tw_buf_init(&s->ev[i].lines, SIZE_MAX / 2);
		tw_buf_init(&s->ev[i].text, SIZE_MAX / 2);
	}
	tw_buf_init(&s->line, AU_SCRATCH_MAX);
	tw_buf_init(&s->clean, AU_SCRATCH_MAX);
	tw_buf_init(&s->scratch, AU_SCRATCH_MAX);
	tw_buf_init(&s->hex, AU_SCRATCH_MAX);
	tw_buf_init(&s->args, AU_SCRATCH_MAX);
	*state = s;
	return 0;
}

static void
au_free(void *state)
{
	struct au_state *s = state;

	for (size_t i = 0; i < AU_PENDING_MAX; i++) {
		tw_buf_cleanup(&s->ev[i].lines);
		tw_buf_cleanup(&s->ev[i].text);
		free(s->ev[i].recs);
		free(s->ev[i].kvs);
	}
	tw_buf_cleanup(&s->line);
	tw_buf_cleanup(&s->clean);
	tw_buf_cleanup(&s->scratch);
	tw_buf_cleanup(&s->hex);
	tw_buf_cleanup(&s->args);
	free(s->argv);
	free(s);
}

static const char *
span_p(const struct au_event *ev, struct au_span sp)
{
	return ev->text.data + sp.off;
}

/* Copy p[0..n) into the event's text; false when it is full. */
static bool
text_add(struct au_event *ev, const char *p, size_t n, struct au_span *sp)
{
	if (ev->text.len + n > AU_TEXT_MAX ||
	    tw_buf_add(&ev->text, p, n) != 0)
		return false;
	sp->off = (uint32_t)(ev->text.len - n);
	sp->len = (uint32_t)n;
	return true;
}

/* Parse "[node=N ]type=T msg=audit(S.M:N): body[\x1d enriched]". */
static bool
parse_header(const char *p, size_t n, struct au_header *h)
{
	const char *e = p + n, *q, *sp, *colon, *dot;
	uint64_t sec, ms, serial;

	memset(h, 0, sizeof(*h));
	if (n > 5 && memcmp(p, "node=", 5) == 0) {
		if ((sp = memchr(p, ' ', n)) == NULL)
			return false;
		h->node = p + 5;
		h->nodelen = (size_t)(sp - h->node);
		p = sp;
		while (p < e && *p == ' ')
			p++;
	}
	if ((size_t)(e - p) < 5 || memcmp(p, "type=", 5) != 0)
		return false;
	h->type = p + 5;
	if ((sp = memchr(h->type, ' ', (size_t)(e - h->type))) == NULL)
		return false;
	h->typelen = (size_t)(sp - h->type);
	if (h->typelen == 0)
		return false;
	p = sp;
	while (p < e && *p == ' ')
		p++;
	if ((size_t)(e - p) < 10 || memcmp(p, "msg=audit(", 10) != 0)
		return false;
	h->id = p + 10;
	if ((q = memchr(h->id, ')', (size_t)(e - h->id))) == NULL)
		return false;
	h->idlen = (size_t)(q - h->id);
	if ((dot = memchr(h->id, '.', h->idlen)) == NULL ||
	    (colon = memchr(dot, ':', (size_t)(q - dot))) == NULL ||
	    !parse_uint(h->id, (size_t)(dot - h->id), 10, &sec) ||
	    !parse_uint(dot + 1, (size_t)(colon - dot - 1), 9, &ms) ||
	    !parse_uint(colon + 1, (size_t)(q - colon - 1), 20, &serial) ||
	    sec >= 9000000000ull)
		return false;
	h->sec = (int64_t)sec;
	h->time_ns = (int64_t)sec * 1000000000 + (int64_t)ms * 1000000;
	p = q + 1;
	if (p < e && *p == ':')
		p++;
	if (p < e && *p == ' ')
		p++;
	h->body = p;
	if ((q = memchr(p, 0x1d, (size_t)(e - p))) != NULL) {
		h->bodylen = (size_t)(q - p);
		h->enriched = q + 1;
		h->enrichedlen = (size_t)(e - q - 1);
	} else {
		h->bodylen = (size_t)(e - p);
	}
	return true;
}

static bool
is_upper_hex(const char *p, size_t n)
{
	if (n < 2 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]) && !(p[i] >= 'A' && p[i] <= 'F'))
			return false;
	return true;
}

/* EXECVE arguments: a12 or a12[3]. */
static bool
is_arg_key(const char *k, size_t n)
{
	size_t i = 1;

	if (n < 2 || k[0] != 'a')
		return false;
	while (i < n && is_digit(k[i]))
		i++;
	if (i == 1)
		return false;
	if (i == n)
		return true;
	if (k[i] != '[' || k[n - 1] != ']' || i + 2 >= n)
		return false;
	for (i++; i < n - 1; i++)
		if (!is_digit(k[i]))
			return false;
	return true;
}

static int
hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* Grow an array of elements of size sz to hold n + 1; false on ENOMEM. */
static bool
grow(void **arr, uint32_t *cap, uint32_t n, size_t sz)
{
	uint32_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap != 0 ? *cap * 2 : 16;
	if ((p = realloc(*arr, (size_t)ncap * sz)) == NULL)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* Store one field of the record being added: decoded, valid UTF-8. */
static void
add_field(struct au_state *s, struct au_event *ev, struct au_rec *rec,
    const char *k, size_t kn, const char *v, size_t vn, bool quoted)
{
	bool execve = span_is(span_p(ev, rec->type), rec->type.len, "EXECVE");
	struct au_kv kv;

	if (rec->nkv >= AU_FIELDS_MAX ||
	    !grow((void **)&ev->kvs, &ev->capkvs, ev->nkvs, sizeof(kv)))
		return;
	if (!text_add(ev, k, kn, &kv.k))
		return;
	if (!quoted && (in_list(hex_keys, k, kn) ||
	    (execve && is_arg_key(k, kn))) &&
	    is_upper_hex(v, vn)) {
		tw_buf_reset(&s->hex);
		if (tw_buf_reserve(&s->hex, vn / 2) != 0)
			return;
		for (size_t i = 0; i < vn; i += 2)
			s->hex.data[s->hex.len++] =
			    (char)(hexval(v[i]) << 4 | hexval(v[i + 1]));
		v = s->hex.data;
		vn = s->hex.len;
		if (!tw_utf8_valid(v, vn)) {
			tw_buf_reset(&s->clean);
			if (tw_utf8_sanitize(&s->clean, v, vn) != 0)
				return;
			v = s->clean.data;
			vn = s->clean.len;
		}
	}
	if (!text_add(ev, v, vn, &kv.v))
		return;
	if (span_is(k, kn, "proctitle")) {
		char *t = ev->text.data + kv.v.off;
		for (size_t i = 0; i < vn; i++)
			if (t[i] == '\0')
				t[i] = ' ';
	}
	ev->kvs[ev->nkvs++] = kv;
	rec->nkv++;
}

/*
 * Split "k=v k="v" k='nested' ..." into fields; a nested msg='...' of a
 * user-space record is split in turn (nested is false inside it).
 * Tokens without '=' (AVC's "avc:  denied  { read } for") are skipped.
 */
static void
add_fields(struct au_state *s, struct au_event *ev, struct au_rec *rec,
    const char *p, size_t n, bool nested)
{
	size_t i = 0;

	while (i < n) {
		size_t ks, kn, vs, vn;
		const char *q;
		bool quoted = false;

		while (i < n && p[i] == ' ')
			i++;
		ks = i;
		while (i < n && p[i] != '=' && p[i] != ' ')
			i++;
		if (i == n || p[i] == ' ')
			continue;
		kn = i - ks;
		i++;
		if (i < n && (p[i] == '"' || p[i] == '\'')) {
			vs = i + 1;
			if ((q = memchr(p + vs, p[i], n - vs)) != NULL) {
				vn = (size_t)(q - (p + vs));
				i = vs + vn + 1;
			} else {
				vn = n - vs;
				i = n;
			}
			if (p[vs - 1] == '\'' && nested &&
			    span_is(p + ks, kn, "msg")) {
				add_fields(s, ev, rec, p + vs, vn, false);
				continue;
			}
			quoted = true;
		} else {
			vs = i;
			while (i < n && p[i] != ' ')
				i++;
			vn = i - vs;
		}
		if (kn > 0)
			add_field(s, ev, rec, p + ks, kn, p + vs, vn, quoted);
	}
}

/* Split the enriched part "K=V K="V" K={ a=b c=d }" (values unquoted). */
static void
add_enriched(struct au_event *ev, struct au_rec *rec, const char *p,
    size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t ks, kn, vs, vn;
		struct au_kv kv;
		const char *q;

		while (i < n && p[i] == ' ')
			i++;
		ks = i;
		while (i < n && p[i] != '=' && p[i] != ' ')
			i++;
		if (i == n || p[i] == ' ')
			continue;
		kn = i - ks;
		i++;
		vs = i;
		if (i < n && p[i] == '"' &&
		    (q = memchr(p + i + 1, '"', n - i - 1)) != NULL) {
			vs = i + 1;
			vn = (size_t)(q - (p + vs));
			i = vs + vn + 1;
		} else if (i < n && p[i] == '{' &&
		    (q = memchr(p + i, '}', n - i)) != NULL) {
			vn = (size_t)(q - (p + vs)) + 1;
			i = vs + vn;
		} else {
			while (i < n && p[i] != ' ')
				i++;
			vn = i - vs;
		}
		if (kn == 0 || rec->nen >= AU_FIELDS_MAX ||
		    !grow((void **)&ev->kvs, &ev->capkvs, ev->nkvs,
		    sizeof(kv)) ||
		    !text_add(ev, p + ks, kn, &kv.k) ||
		    !text_add(ev, p + vs, vn, &kv.v))
			continue;
		ev->kvs[ev->nkvs++] = kv;
		rec->nen++;
	}
}

static void
event_reset(struct au_event *ev)
{
	ev->status = AU_FREE;
	ev->text_only = false;
	ev->nrecs = 0;
	ev->nkvs = 0;
	memset(&ev->id, 0, sizeof(ev->id));
	memset(&ev->node, 0, sizeof(ev->node));
	tw_buf_reset(&ev->lines);
	tw_buf_reset(&ev->text);
}

/* The pair of key among first .. first + n (the last, as a dict keeps). */
static const struct au_kv *
rec_get(const struct au_event *ev, uint32_t first, uint32_t n,
    const char *key)
{
	size_t kn = strlen(key);

	for (uint32_t i = n; i > 0; i--) {
		const struct au_kv *kv = &ev->kvs[first + i - 1];
		if (kv->k.len == kn &&
		    memcmp(span_p(ev, kv->k), key, kn) == 0)
			return kv;
	}
	return NULL;
}

static const struct au_kv *
field(const struct au_event *ev, const struct au_rec *r, const char *key)
{
	return rec_get(ev, r->kv, r->nkv, key);
}

static const struct au_kv *
enriched(const struct au_event *ev, const struct au_rec *r, const char *key)
{
	return rec_get(ev, r->en, r->nen, key);
}

/* Whether the pair at first + i has a later twin (the later one wins). */
static bool
shadowed(const struct au_event *ev, uint32_t first, uint32_t i, uint32_t n)
{
	const struct au_kv *a = &ev->kvs[first + i];

	for (uint32_t j = i + 1; j < n; j++) {
		const struct au_kv *b = &ev->kvs[first + j];
		if (a->k.len == b->k.len &&
		    memcmp(span_p(ev, a->k), span_p(ev, b->k), a->k.len) == 0)
			return true;
	}
	return false;
}

/* Write the pairs first .. first + n as a map, later twins winning. */
static void
put_pairs(struct tw_mpw *w, const struct au_event *ev, uint32_t first,
    uint32_t n)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < n; i++)
		if (!shadowed(ev, first, i, n))
			keep++;
	tw_mpw_map(w, keep);
	for (uint32_t i = 0; i < n; i++) {
		const struct au_kv *kv = &ev->kvs[first + i];
		if (shadowed(ev, first, i, n))
			continue;
		tw_mpw_str(w, span_p(ev, kv->k), kv->k.len);
		tw_mpw_str(w, span_p(ev, kv->v), kv->v.len);
	}
}

static void
put_span(struct tw_mpw *w, const struct au_event *ev, struct au_span sp)
{
	tw_mpw_str(w, span_p(ev, sp), sp.len);
}

/* Whether a field is there with a non-empty value (Python truthiness). */
static bool
truthy(const struct au_kv *kv)
{
	return kv != NULL && kv->v.len > 0;
}

/* A process attribute as the generator's proc dict holds it. */
struct au_opt {
	int state; /* 0 unset, 1 None, 2 value */
	struct au_span sp;
	int64_t num;
};

static void
opt_span(struct au_opt *o, const struct au_kv *kv)
{
	o->state = kv != NULL ? 2 : 1;
	if (kv != NULL)
		o->sp = kv->v;
}

static void
opt_int(const struct au_event *ev, struct au_opt *o, const struct au_kv *kv)
{
	o->state = kv != NULL &&
	    parse_int(span_p(ev, kv->v), kv->v.len, &o->num) ? 2 : 1;
}

/* Collect EXECVE a0..a(argc-1) (long ones from aN[0], aN[1], ...). */
static bool
collect_args(struct au_state *s, const struct au_event *ev)
{
	const struct au_kv *argc_kv = NULL;
	uint64_t argc = 0, next = 0;
	bool pieces = false;
	size_t start = 0;

	s->nargv = 0;
	tw_buf_reset(&s->args);
	for (uint32_t r = 0; r < ev->nrecs && argc_kv == NULL; r++)
		if (span_is(span_p(ev, ev->recs[r].type), ev->recs[r].type.len,
		    "EXECVE"))
			argc_kv = field(ev, &ev->recs[r], "argc");
	if (argc_kv == NULL || !parse_uint(span_p(ev, argc_kv->v),
	    argc_kv->v.len, 18, &argc))
		return false;
	for (uint32_t r = 0; r < ev->nrecs && next < argc; r++) {
		const struct au_rec *rec = &ev->recs[r];
		if (!span_is(span_p(ev, rec->type), rec->type.len, "EXECVE"))
			continue;
		for (uint32_t i = 0; i < rec->nkv && next < argc; i++) {
			const struct au_kv *kv = &ev->kvs[rec->kv + i];
			const char *k = span_p(ev, kv->k);
			uint64_t idx;
			size_t kn = kv->k.len, b;
			bool piece;

			if (!is_arg_key(k, kn))
				continue;
			for (b = 1; b < kn && is_digit(k[b]); b++)
				;
			piece = b < kn;
			if (!parse_uint(k + 1, b - 1, 18, &idx))
				continue;
			if (pieces && (!piece || idx != next)) {
				/* The pieces of argument next are done. */
				pieces = false;
				if (++next == argc)
					break;
			}
			if (idx != next)
				continue;
			if (!pieces) {
				if (s->nargv == s->capargv) {
					size_t ncap = s->capargv != 0 ?
					    s->capargv * 2 : 16;
					void *p = realloc(s->argv,
					    ncap * sizeof(*s->argv));
					if (p == NULL)
						return false;
					s->argv = p;
					s->capargv = ncap;
				}
				start = s->args.len;
				s->argv[s->nargv].off = (uint32_t)start;
				s->argv[s->nargv].len = 0;
				s->nargv++;
			}
			if (tw_buf_add(&s->args, span_p(ev, kv->v),
			    kv->v.len) != 0)
				return false;
			s->argv[s->nargv - 1].len =
			    (uint32_t)(s->args.len - start);
			if (piece)
				pieces = true;
			else
				next++;
		}
	}
	return true;
}

/* Everything the audit and process maps take from the records. */
struct au_summary {
	int action_state; /* 0 unset, 1 None, 2 span, 3 lower-cased type */
	struct au_span action;
	uint32_t action_rec;
	int outcome; /* 0 unset, 1 success, 2 failure */
	const struct au_rec *actor, *session_rec, *key_rec;
	const struct au_kv *session, *key, *addr, *acct, *saddr;
	int target; /* 0 none, 1 account, 2 socket */
	bool proc_any, has_args;
	struct au_opt pid, ppid, name, exe, tty, cwd, title;
};

/* Walk the records as gen_auditd.py normalize() does. */
static void
summarise(struct au_state *s, const struct au_event *ev,
    struct au_summary *m)
{
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < ev->nrecs; i++) {
		const struct au_rec *r = &ev->recs[i];
		const char *t = span_p(ev, r->type);
		size_t tn = r->type.len;
		const struct au_kv *kv, *kv2;

		if (span_is(t, tn, "SYSCALL")) {
			kv = enriched(ev, r, "SYSCALL");
			if (!truthy(kv))
				kv = field(ev, r, "syscall");
			m->action_state = kv != NULL ? 2 : 1;
			if (kv != NULL)
				m->action = kv->v;
			kv = field(ev, r, "success");
			m->outcome = kv != NULL && kv->v.len == 3 &&
			    memcmp(span_p(ev, kv->v), "yes", 3) == 0 ? 1 : 2;
			opt_int(ev, &m->pid, field(ev, r, "pid"));
			opt_int(ev, &m->ppid, field(ev, r, "ppid"));
			opt_span(&m->name, field(ev, r, "comm"));
			opt_span(&m->exe, field(ev, r, "exe"));
			kv = field(ev, r, "tty");
			if (kv != NULL && kv->v.len == 6 &&
			    memcmp(span_p(ev, kv->v), "(none)", 6) == 0)
				kv = NULL;
			opt_span(&m->tty, kv);
			m->proc_any = true;
		}
		if (span_is(t, tn, "EXECVE") && !m->has_args &&
		    collect_args(s, ev)) {
			m->has_args = true;
			m->proc_any = true;
		}
		if (span_is(t, tn, "CWD") &&
		    (kv = field(ev, r, "cwd")) != NULL) {
			opt_span(&m->cwd, kv);
			m->proc_any = true;
		}
		if (span_is(t, tn, "PROCTITLE") &&
		    (kv = field(ev, r, "proctitle")) != NULL) {
			opt_span(&m->title, kv);
			m->proc_any = true;
		}
		if (!in_list(aux_types, t, tn)) {
			if (m->action_state == 0) {
				m->action_state = 3;
				m->action_rec = i;
			}
			if ((kv = field(ev, r, "res")) != NULL) {
				const char *v = span_p(ev, kv->v);
				size_t vn = kv->v.len;
				m->outcome = span_is(v, vn, "success") ||
				    span_is(v, vn, "1") ||
				    span_is(v, vn, "yes") ? 1 : 2;
			}
			if ((kv = field(ev, r, "pid")) != NULL) {
				opt_int(ev, &m->pid, kv);
				m->proc_any = true;
			}
			if (truthy(kv = field(ev, r, "exe"))) {
				opt_span(&m->exe, kv);
				m->proc_any = true;
			}
			if (truthy(kv = field(ev, r, "comm"))) {
				opt_span(&m->name, kv);
				m->proc_any = true;
			}
		}
		if (field(ev, r, "auid") != NULL)
			m->actor = r;
		if ((kv = field(ev, r, "ses")) != NULL)
			m->session = kv;
		if ((span_is(t, tn, "SYSCALL") ||
		    span_is(t, tn, "CONFIG_CHANGE")) &&
		    truthy(kv = field(ev, r, "key")) &&
		    !span_is(span_p(ev, kv->v), kv->v.len, "(null)"))
			m->key = kv;
		if (span_is(t, tn, "USER_AUTH") &&
		    truthy(kv = field(ev, r, "addr"))) {
			m->addr = kv;
			m->acct = field(ev, r, "acct");
			m->target = 1;
		}
		if (span_is(t, tn, "SOCKADDR") &&
		    truthy(kv2 = enriched(ev, r, "SADDR"))) {
			m->saddr = kv2;
			m->target = 2;
		}
	}
}

/* audit.target of a SOCKADDR: "{ saddr_fam=inet laddr=A lport=P }". */
static void
put_socket(struct tw_mpw *w, const struct au_event *ev,
    const struct au_kv *saddr)
{
	const char *p = span_p(ev, saddr->v), *e = p + saddr->v.len;
	const char *addr = NULL, *port = NULL;
	size_t addrlen = 0, portlen = 0;
	uint32_t keys = 1;
	int64_t num = 0;
	size_t hdr;

	/* str.strip("{} ") */
	while (p < e && (*p == '{' || *p == '}' || *p == ' '))
		p++;
	while (e > p && (e[-1] == '{' || e[-1] == '}' || e[-1] == ' '))
		e--;
	while (p < e) {
		const char *tok, *eq;
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\n'))
			p++;
		tok = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if ((eq = memchr(tok, '=', (size_t)(p - tok))) == NULL)
			continue;
		if (span_is(tok, (size_t)(eq - tok), "laddr")) {
			addr = eq + 1;
			addrlen = (size_t)(p - addr);
		} else if (span_is(tok, (size_t)(eq - tok), "lport")) {
			port = eq + 1;
			portlen = (size_t)(p - port);
		}
	}
	tw_mpw_cstr(w, "target");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "type");
	tw_mpw_cstr(w, "socket");
	if (addr != NULL) {
		tw_mpw_cstr(w, "address");
		tw_mpw_str(w, addr, addrlen);
		keys++;
	}
	if (port != NULL && parse_int(port, portlen, &num)) {
		tw_mpw_cstr(w, "port");
		tw_mpw_int(w, num);
		keys++;
	}
	tw_mpw_patch32(w, hdr, keys);
}

static void
put_audit(struct au_state *s, struct tw_mpw *w, const struct au_event *ev,
    const struct au_summary *m)
{
	uint32_t keys = 3, k;
	size_t hdr, sub;

	tw_mpw_cstr(w, "audit");
	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "kind");
	tw_mpw_cstr(w, "auditd");
	tw_mpw_cstr(w, "id");
	put_span(w, ev, ev->id);
	tw_mpw_cstr(w, "record_types");
	tw_mpw_array(w, ev->nrecs);
	for (uint32_t i = 0; i < ev->nrecs; i++)
		put_span(w, ev, ev->recs[i].type);
	if (m->action_state == 2) {
		tw_mpw_cstr(w, "action");
		put_span(w, ev, m->action);
		keys++;
	} else if (m->action_state == 3) {
		struct au_span t = ev->recs[m->action_rec].type;
		tw_buf_reset(&s->scratch);
		if (tw_buf_add(&s->scratch, span_p(ev, t), t.len) == 0) {
			for (size_t i = 0; i < s->scratch.len; i++)
				if (s->scratch.data[i] >= 'A' &&
				    s->scratch.data[i] <= 'Z')
					s->scratch.data[i] += 'a' - 'A';
			tw_mpw_cstr(w, "action");
			tw_mpw_str(w, s->scratch.data, s->scratch.len);
			keys++;
		}
	}
	if (m->outcome != 0) {
		tw_mpw_cstr(w, "outcome");
		tw_mpw_cstr(w, m->outcome == 1 ? "success" : "failure");
		keys++;
	}
	if (m->actor != NULL) {
		const struct au_kv *kv;
		tw_mpw_cstr(w, "actor");
		sub = tw_mpw_map32_placeholder(w);
		k = 0;
		if ((kv = field(ev, m->actor, "auid")) != NULL) {
			tw_mpw_cstr(w, "id");
			put_span(w, ev, kv->v);
			k++;
		}
		if ((kv = enriched(ev, m->actor, "AUID")) != NULL) {
			tw_mpw_cstr(w, "name");
			put_span(w, ev, kv->v);
			k++;
		}
		if ((kv = field(ev, m->actor, "uid")) != NULL) {
			tw_mpw_cstr(w, "uid");
			put_span(w, ev, kv->v);
			k++;
		}
		if ((kv = enriched(ev, m->actor, "UID")) != NULL) {
			tw_mpw_cstr(w, "user");
			put_span(w, ev, kv->v);
			k++;
		}
		tw_mpw_patch32(w, sub, k);
		keys++;
	}
	if (m->session != NULL) {
		tw_mpw_cstr(w, "session");
		put_span(w, ev, m->session->v);
		keys++;
	}
	if (m->key != NULL) {
		tw_mpw_cstr(w, "key");
		put_span(w, ev, m->key->v);
		keys++;
	}
	if (m->addr != NULL) {
		tw_mpw_cstr(w, "source_address");
		put_span(w, ev, m->addr->v);
		keys++;
	}
	if (m->target == 1) {
		tw_mpw_cstr(w, "target");
		tw_mpw_map(w, m->acct != NULL ? 2 : 1);
		tw_mpw_cstr(w, "type");
		tw_mpw_cstr(w, "account");
		if (m->acct != NULL) {
			tw_mpw_cstr(w, "name");
			put_span(w, ev, m->acct->v);
		}
		keys++;
	} else if (m->target == 2) {
		put_socket(w, ev, m->saddr);
		keys++;
	}
	tw_mpw_patch32(w, hdr, keys);
}

static uint32_t
put_opt(struct tw_mpw *w, const struct au_event *ev, const char *key,
    const struct au_opt *o, bool num)
{
	if (o->state != 2)
		return 0;
	tw_mpw_cstr(w, key);
	if (num)
		tw_mpw_int(w, o->num);
	else
		put_span(w, ev, o->sp);
	return 1;
}

static void
put_process(struct au_state *s, struct tw_mpw *w, const struct au_event *ev,
    const struct au_summary *m)
{
	uint32_t keys = 0;
	size_t hdr;

	tw_mpw_cstr(w, "process");
	hdr = tw_mpw_map32_placeholder(w);
	keys += put_opt(w, ev, "pid", &m->pid, true);
	keys += put_opt(w, ev, "ppid", &m->ppid, true);
	keys += put_opt(w, ev, "name", &m->name, false);
	keys += put_opt(w, ev, "executable", &m->exe, false);
	if (m->has_args) {
		size_t total = s->nargv > 0 ? s->nargv - 1 : 0;

		tw_mpw_cstr(w, "args");
		tw_mpw_array(w, (uint32_t)s->nargv);
		for (size_t i = 0; i < s->nargv; i++) {
			tw_mpw_str(w, s->args.data + s->argv[i].off,
			    s->argv[i].len);
			total += s->argv[i].len;
		}
		tw_mpw_cstr(w, "command_line");
		if (w->err == 0 && total <= UINT32_MAX) {
			tw_mpw_str_header(w, total);
			for (size_t i = 0; i < s->nargv; i++) {
				if (i > 0)
					tw_mpw_raw(w, " ", 1);
				tw_mpw_raw(w, s->args.data + s->argv[i].off,
				    s->argv[i].len);
			}
		} else if (w->err == 0) {
			w->err = TW_ETOOBIG;
		}
		keys += 2;
	}
	keys += put_opt(w, ev, "cwd", &m->cwd, false);
	keys += put_opt(w, ev, "tty", &m->tty, false);
	keys += put_opt(w, ev, "title", &m->title, false);
	tw_mpw_patch32(w, hdr, keys);
}

/* The record of one event (or of a line that was not a record). */
static int
emit_event(struct au_state *s, const struct tw_parse_opts *o,
    const struct au_event *ev, bool full, struct tw_mpw *w, tw_emit_fn emit,
    void *arg)
{
	struct au_summary m;
	size_t base = w->buf->len, hdr;
	uint32_t keys = 0;
	int r;

	hdr = tw_mpw_map32_placeholder(w);
	tw_mpw_cstr(w, "time");
	tw_mpw_timestamp(w, ev->text_only ? o->now_ns : ev->time_ns);
	keys++;
	if (o->observed_time) {
		tw_mpw_cstr(w, "observed_time");
		tw_mpw_timestamp(w, o->now_ns);
		keys++;
	}
	if (!ev->text_only) {
		tw_mpw_cstr(w, "id");
		put_span(w, ev, ev->id);
		keys++;
	}
	keys += tw_rec_source(w, o, "host_audit", "auditd");
	keys += tw_rec_message(w, &s->scratch, ev->lines.data, ev->lines.len);
	if (ev->text_only || !full)
		goto done;
	if (ev->node.len > 0) {
		tw_mpw_cstr(w, "host");
		tw_mpw_map(w, 1);
		tw_mpw_cstr(w, "name");
		put_span(w, ev, ev->node);
		keys++;
	}
	summarise(s, ev, &m);
	put_audit(s, w, ev, &m);
	keys++;
	if (m.proc_any) {
		put_process(s, w, ev, &m);
		keys++;
	}
	tw_mpw_cstr(w, "fields");
	tw_mpw_map(w, 1);
	tw_mpw_cstr(w, "records");
	tw_mpw_array(w, ev->nrecs);
	for (uint32_t i = 0; i < ev->nrecs; i++) {
		const struct au_rec *rec = &ev->recs[i];
		tw_mpw_map(w, rec->nen > 0 ? 3 : 2);
		tw_mpw_cstr(w, "type");
		put_span(w, ev, rec->type);
		tw_mpw_cstr(w, "fields");
		put_pairs(w, ev, rec->kv, rec->nkv);
		if (rec->nen > 0) {
			tw_mpw_cstr(w, "enriched");
			put_pairs(w, ev, rec->en, rec->nen);
		}
	}
	keys++;
done:
	tw_mpw_patch32(w, hdr, keys);
	if (w->err == TW_ETOOBIG && full) {
		/* Too big with everything: send the lines alone. */
		w->buf->len = base;
		w->err = 0;
		return emit_event(s, o, ev, false, w, emit, arg);
	}
	if (w->err != 0)
		return w->err;
	r = emit(arg, (const uint8_t *)w->buf->data + base,
	    w->buf->len - base);
	w->buf->len = base;
	return r;
}

/* Emit the complete events at the head of the ring, in order. */
static int
drain(struct au_state *s, const struct tw_parse_opts *o, struct tw_mpw *w,
    tw_emit_fn emit, void *arg)
{
	int r;

	while (s->count > 0 && s->ev[s->head].status == AU_COMPLETE) {
		struct au_event *ev = &s->ev[s->head];
		r = emit_event(s, o, ev, true, w, emit, arg);
		event_reset(ev);
		s->head = (s->head + 1) % AU_PENDING_MAX;
		s->count--;
		if (r != 0)
			return r;
	}
	return 0;
}

/* A free slot at the tail of the ring, emitting the oldest if full. */
static int
event_alloc(struct au_state *s, const struct tw_parse_opts *o,
    struct tw_mpw *w, tw_emit_fn emit, void *arg, struct au_event **out)
{
	struct au_event *ev;
	int r;

	if (s->count == AU_PENDING_MAX) {
		s->ev[s->head].status = AU_COMPLETE;
		if ((r = drain(s, o, w, emit, arg)) != 0)
			return r;
	}
	ev = &s->ev[(s->head + s->count) % AU_PENDING_MAX];
	event_reset(ev);
	ev->status = AU_BUILDING;
	s->count++;
	*out = ev;
	return 0;
}

/* The pending event a record with this id and node belongs to. */
static struct au_event *
event_find(struct au_state *s, const struct au_header *h)
{
	for (unsigned i = 0; i < s->count; i++) {
		struct au_event *ev = &s->ev[(s->head + i) % AU_PENDING_MAX];
		if (ev->status == AU_BUILDING && !ev->text_only &&
		    ev->id.len == h->idlen && ev->node.len == h->nodelen &&
		    memcmp(span_p(ev, ev->id), h->id, h->idlen) == 0 &&
		    (h->nodelen == 0 ||
		    memcmp(span_p(ev, ev->node), h->node, h->nodelen) == 0))
			return ev;
	}
	return NULL;
}

/* Append a raw line to the event's message. */
static bool
add_line(struct au_event *ev, const char *p, size_t n)
{
	if (ev->lines.len > 0 && tw_buf_addc(&ev->lines, '\n') != 0)
		return false;
	return tw_buf_add(&ev->lines, p, n) == 0;
}

/*
 * One line: a record joins its event (or starts one); a line that is not
 * a record is queued as a message of its own, in order.
 */
static int
au_parse(void *state, const struct tw_parse_opts *o, const char *p,
    size_t n, struct tw_mpw *w, tw_emit_fn emit, void *arg)
{
	struct au_state *s = state;
	struct au_event *ev;
	struct au_header h;
	struct au_rec *rec;
	const char *text = p;
	size_t tlen, i = 0;
	int r;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n)
		return 0;
	tlen = n;
	if (!tw_utf8_valid(p, n)) {
		tw_buf_reset(&s->line);
		if ((r = tw_utf8_sanitize(&s->line, p, n)) != 0)
			return r;
		text = s->line.data;
		tlen = s->line.len;
	}
	if (!parse_header(text, tlen, &h)) {
		if ((r = event_alloc(s, o, w, emit, arg, &ev)) != 0)
			return r;
		ev->text_only = true;
		ev->status = AU_COMPLETE;
		if (!add_line(ev, p, n))
			return TW_ENOMEM;
		return drain(s, o, w, emit, arg);
	}
	for (unsigned k = 0; k < s->count; k++) {
		ev = &s->ev[(s->head + k) % AU_PENDING_MAX];
		if (ev->status == AU_BUILDING && !ev->text_only &&
		    ev->sec + AU_TIMEOUT_S < h.sec)
			ev->status = AU_COMPLETE;
	}
	ev = event_find(s, &h);
	if (span_is(h.type, h.typelen, "EOE")) {
		if (ev != NULL)
			ev->status = AU_COMPLETE;
		return drain(s, o, w, emit, arg);
	}
	if (ev != NULL && (ev->lines.len + n > AU_EVENT_MAX ||
	    ev->nrecs >= AU_RECORDS_MAX)) {
		ev->status = AU_COMPLETE;
		ev = NULL;
	}
	if (ev == NULL) {
		if ((r = event_alloc(s, o, w, emit, arg, &ev)) != 0)
			return r;
		ev->sec = h.sec;
		ev->time_ns = h.time_ns;
		if (!text_add(ev, h.id, h.idlen, &ev->id) ||
		    !text_add(ev, h.node != NULL ? h.node : "", h.nodelen,
		    &ev->node))
			return TW_ENOMEM;
	}
	if (!add_line(ev, p, n) ||
	    !grow((void **)&ev->recs, &ev->caprecs, ev->nrecs, sizeof(*rec)))
		return TW_ENOMEM;
	rec = &ev->recs[ev->nrecs];
	memset(rec, 0, sizeof(*rec));
	if (!text_add(ev, h.type, h.typelen, &rec->type))
		return TW_ENOMEM;
	ev->nrecs++;
	rec->kv = ev->nkvs;
	add_fields(s, ev, rec, h.body, h.bodylen, true);
	rec->en = ev->nkvs;
	if (h.enriched != NULL)
		add_enriched(ev, rec, h.enriched, h.enrichedlen);
	if (ends_event(h.type, h.typelen))
		ev->status = AU_COMPLETE;
	return drain(s, o, w, emit, arg);
}

/* End of input (or idle): every pending event is as complete as it gets. */
static int
au_flush(void *state, const struct tw_parse_opts *o, struct tw_mpw *w,
    tw_emit_fn emit, void *arg)
{
	struct au_state *s = state;

	for (unsigned k = 0; k < s->count; k++)
		s->ev[(s->head + k) % AU_PENDING_MAX].status = AU_COMPLETE;
	return drain(s, o, w, emit, arg);
}

/* A sample whose first line is an audit record. */
static int
au_detect(const char *p, size_t n)
{
	struct au_header h;
	const char *nl;
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	p += i;
	n -= i;
	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	return parse_header(p, n, &h) ? 90 : 0;
}

const struct tw_format tw_format_auditd = {
	.name = "auditd",
	.framing = TW_FRAMING_LINES,
	.state_new = au_new,
	.state_free = au_free,
	.parse = au_parse,
	.flush = au_flush,
	.detect = au_detect,
};
