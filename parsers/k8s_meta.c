/* k8s_meta.c: Kubernetes and Docker metadata from log file paths alone. */
#include "config.h"

#include <string.h>

#include "k8s_meta.h"
#include "utf8.h"

/* Up to this many trailing path components are looked at. */
#define COMPONENTS 4

/* The last components of a path, the base name first. */
struct components {
	struct tw_k8s_span c[COMPONENTS];
	int n;
};

static void
split_path(const char *path, struct components *pc)
{
	size_t end = strlen(path), i;

	pc->n = 0;
	while (pc->n < COMPONENTS && end > 0) {
		i = end;
		while (i > 0 && path[i - 1] != '/')
			i--;
		pc->c[pc->n].p = path + i;
		pc->c[pc->n].len = end - i;
		pc->n++;
		if (i == 0)
			break;
		end = i - 1;
	}
}

static bool
span_is(const struct tw_k8s_span *s, const char *lit)
{
	return s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

/* Set *dst to p[0..n) unless it is already known, empty or not UTF-8. */
static void
set(struct tw_k8s_span *dst, const char *p, size_t n)
{
	if (dst->len != 0 || n == 0 || !tw_utf8_valid(p, n))
		return;
	dst->p = p;
	dst->len = n;
}

/* A container id as the runtimes write it: 64 lowercase hex digits. */
static bool
is_id(const char *p, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* 8-4-4-4-12 hex digits. */
static bool
is_uuid(const char *p, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/*
 * Split s at its underscores into exactly three non-empty parts;
 * false otherwise.
 */
static bool
split3(const struct tw_k8s_span *s, struct tw_k8s_span part[3])
{
	const char *p = s->p, *end = s->p + s->len, *u;
	int i;

	for (i = 0; i < 3; i++) {
		u = i < 2 ? memchr(p, '_', (size_t)(end - p)) : NULL;
		if (i < 2 && u == NULL)
			return false;
		if (i == 2 && memchr(p, '_', (size_t)(end - p)) != NULL)
			return false;
		part[i].p = p;
		part[i].len = (size_t)((i < 2 ? u : end) - p);
		if (part[i].len == 0)
			return false;
		p = i < 2 ? u + 1 : end;
	}
	return true;
}

/* <restart>.log, maybe followed by a rotation suffix (".20240614-092107"). */
static bool
restart_count(const struct tw_k8s_span *base, uint64_t *n)
{
	size_t i = 0;

	*n = 0;
	while (i < base->len && base->p[i] >= '0' && base->p[i] <= '9') {
		if (i >= 9)
			return false; /* beyond any real restart count */
		*n = *n * 10 + (uint64_t)(base->p[i] - '0');
		i++;
	}
	if (i == 0 || base->len - i < 4 || memcmp(base->p + i, ".log", 4) != 0)
		return false;
	i += 4;
	return i == base->len || base->p[i] == '.';
}

/* .../<ns>_<pod>_<uid>/<container>/<restart>.log (or .../<uid>/...). */
static void
try_pod_dir(struct tw_k8s_meta *m, const char *path)
{
	struct tw_k8s_span part[3];
	struct components pc;
	uint64_t n;

	if (path == NULL)
		return;
	split_path(path, &pc);
	if (pc.n < 3 || !restart_count(&pc.c[0], &n) || pc.c[1].len == 0)
		return;
	if (split3(&pc.c[2], part)) {
		set(&m->namespace, part[0].p, part[0].len);
		set(&m->pod, part[1].p, part[1].len);
		set(&m->pod_uid, part[2].p, part[2].len);
	} else if (is_uuid(pc.c[2].p, pc.c[2].len)) {
		set(&m->pod_uid, pc.c[2].p, pc.c[2].len);
	} else {
		return;
	}
	set(&m->container, pc.c[1].p, pc.c[1].len);
	if (!m->has_restart_count) {
		m->restart_count = n;
		m->has_restart_count = true;
	}
}

/*
 * .../containers/<pod>_<ns>_<container>-<id>.log. The kubelet cuts names
 * over 251 bytes, id included; without a whole id the container name
 * cannot be told apart, and the link is believed only in a "containers"
 * directory.
 */
static void
try_link(struct tw_k8s_meta *m, const char *path)
{
	struct tw_k8s_span stem, part[3];
	struct components pc;
	const char *dash;

	if (path == NULL)
		return;
	split_path(path, &pc);
	if (pc.n < 1 || pc.c[0].len <= 4 ||
	    memcmp(pc.c[0].p + pc.c[0].len - 4, ".log", 4) != 0)
		return;
	stem.p = pc.c[0].p;
	stem.len = pc.c[0].len - 4;
	if (!split3(&stem, part))
		return;
	dash = NULL;
	for (size_t i = part[2].len; i > 0; i--)
		if (part[2].p[i - 1] == '-') {
			dash = part[2].p + i - 1;
			break;
		}
	if (dash != NULL && dash > part[2].p &&
	    is_id(dash + 1, (size_t)(part[2].p + part[2].len - dash - 1))) {
		set(&m->container, part[2].p, (size_t)(dash - part[2].p));
		set(&m->container_id, dash + 1, 64);
	} else if (pc.n < 2 || !span_is(&pc.c[1], "containers")) {
		return;
	}
	set(&m->pod, part[0].p, part[0].len);
	set(&m->namespace, part[1].p, part[1].len);
}

/* .../<id>/<id>-json.log, maybe rotated (".1", ".1.gz"). */
static void
try_docker(struct tw_k8s_meta *m, const char *path)
{
	struct components pc;
	const struct tw_k8s_span *base, *dir;

	if (path == NULL)
		return;
	split_path(path, &pc);
	if (pc.n < 2)
		return;
	base = &pc.c[0];
	dir = &pc.c[1];
	if (!is_id(dir->p, dir->len) || base->len < dir->len + 9 ||
	    memcmp(base->p, dir->p, dir->len) != 0 ||
	    memcmp(base->p + dir->len, "-json.log", 9) != 0 ||
	    (base->len > dir->len + 9 && base->p[dir->len + 9] != '.'))
		return;
	set(&m->container_id, dir->p, dir->len);
}

void
tw_k8s_meta_parse(struct tw_k8s_meta *m, const char *path,
    const char *target)
{
	memset(m, 0, sizeof(*m));
	try_pod_dir(m, target);
	try_pod_dir(m, path);
	try_link(m, path);
	try_link(m, target);
	try_docker(m, path);
	try_docker(m, target);
}

static void
write_span(struct tw_mpw *w, const char *key, const struct tw_k8s_span *s)
{
	if (s->len == 0)
		return;
	tw_mpw_cstr(w, key);
	tw_mpw_str(w, s->p, s->len);
}

uint32_t
tw_k8s_meta_write(struct tw_mpw *w, const struct tw_k8s_meta *m)
{
	uint32_t keys = 0, n;

	n = (m->namespace.len != 0) + (m->pod.len != 0) +
	    (m->pod_uid.len != 0) + (m->container.len != 0) +
	    m->has_restart_count;
	if (n != 0) {
		tw_mpw_cstr(w, "k8s");
		tw_mpw_map(w, n);
		write_span(w, "namespace", &m->namespace);
		write_span(w, "pod", &m->pod);
		write_span(w, "pod_uid", &m->pod_uid);
		write_span(w, "container", &m->container);
		if (m->has_restart_count) {
			tw_mpw_cstr(w, "restart_count");
			tw_mpw_uint(w, m->restart_count);
		}
		keys++;
	}
	if (m->container_id.len != 0) {
		tw_mpw_cstr(w, "container");
		tw_mpw_map(w, 1);
		write_span(w, "id", &m->container_id);
		keys++;
	}
	return keys;
}
