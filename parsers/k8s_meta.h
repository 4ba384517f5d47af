/* k8s_meta.h: Kubernetes and Docker metadata from log file paths alone. */
#ifndef TW_PARSERS_K8S_META_H
#define TW_PARSERS_K8S_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp.h"

/* A span of a path; len 0 when unknown. */
struct tw_k8s_span {
	const char *p;
	size_t len;
};

/*
 * What the kubelet and Docker file layouts say. Spans point into the
 * path strings given to tw_k8s_meta_parse and are valid while they are.
 */
struct tw_k8s_meta {
	struct tw_k8s_span namespace, pod, pod_uid, container, container_id;
	uint64_t restart_count;
	bool has_restart_count;
};

/*
 * Fill m from the tailed path and the link target (either may be NULL):
 *   .../<ns>_<pod>_<uid>/<container>/<restart>.log[.<rotation suffix>]
 *     (kubelet's pod log directory; the old .../<uid>/<container>/ form
 *     gives the uid only)
 *   .../containers/<pod>_<ns>_<container>-<64 hex id>.log
 *     (the legacy link; the id is taken after the last '-')
 *   .../<id>/<id>-json.log[.<n>[.gz]] (Docker json-file)
 * The pod directory is authoritative for names; the link and Docker paths
 * give the container id. Only well-formed UTF-8 parts are kept. No I/O.
 */
void tw_k8s_meta_parse(struct tw_k8s_meta *m, const char *path,
    const char *target);

/*
 * Write the "k8s" map and the "container" map (only those with something
 * known) as key/value pairs; returns the number of keys written.
 */
uint32_t tw_k8s_meta_write(struct tw_mpw *w, const struct tw_k8s_meta *m);

#endif
