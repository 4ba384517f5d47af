/* sink_file.h: the file sink: alerts as JSON lines, fsync'd before the
 * cursor moves, reopened on SIGUSR1 for log rotation. */
#ifndef TRAWL_COLLECTOR_SINK_FILE_H
#define TRAWL_COLLECTOR_SINK_FILE_H

#include "sink.h"

/*
 * A file sink for the sinks[] entry conf (type file): opens conf->path
 * for appending (created 0640; its directory must exist). Each alert is
 * one line, the alert object exactly as RULES.md §11 renders it; lines
 * are written and fdatasync'd in groups, and acked only after the
 * fdatasync, so a crash may repeat lines but never loses one. A write
 * that fails part-way is cut back (ftruncate) so no torn line stays.
 * 0 with *ops and *impl, TW_EIO with *why.
 */
int sink_file_new(const struct collector_sink *conf, struct tw_metrics *m,
    const struct sink_ops **ops, void **impl, char **why) TW_WARN_UNUSED;

#endif
