/* formats.h: every format the parsers implement, and what they share. */
#ifndef TW_PARSERS_FORMATS_H
#define TW_PARSERS_FORMATS_H

#include "parser.h"

/* One per parsers/<file>.c; registered in parser.c. */
extern const struct tw_format tw_format_cri;
extern const struct tw_format tw_format_docker_json;
extern const struct tw_format tw_format_k8s_audit_v1;
extern const struct tw_format tw_format_lambda_text;
extern const struct tw_format tw_format_lambda_json;
extern const struct tw_format tw_format_lambda_telemetry;
extern const struct tw_format tw_format_firehose_cwl;
extern const struct tw_format tw_format_gcp_logentry;
extern const struct tw_format tw_format_pubsub_push;
extern const struct tw_format tw_format_azure_function_app_logs;
extern const struct tw_format tw_format_cloudtrail;
extern const struct tw_format tw_format_auditd;
extern const struct tw_format tw_format_rfc3164;
extern const struct tw_format tw_format_rfc5424;
extern const struct tw_format tw_format_syslog;
extern const struct tw_format tw_format_klog;
extern const struct tw_format tw_format_logfmt;
extern const struct tw_format tw_format_nginx_combined;
extern const struct tw_format tw_format_json;
extern const struct tw_format tw_format_text;

/*
 * Entry points one format lends another (envelopes route their payloads):
 * one CloudTrail event object (cloudtrail.c), and one CloudWatch Logs
 * event of a Lambda log group (lambda.c). envelope is the source.envelope
 * value to record ("s3_records", "firehose_cwl") or NULL.
 */
int tw_cloudtrail_event(const struct tw_parse_opts *o, const char *envelope,
    const char *json, size_t n, struct tw_mpw *w, tw_emit_fn emit,
    void *arg);

#endif
