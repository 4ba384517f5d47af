# parsers/: pure functions over bytes -> schema-v1 records; no I/O.
noinst_LIBRARIES += %D%/libparsers.a
%C%_libparsers_a_SOURCES = \
	%D%/parser.c %D%/parser.h %D%/formats.h \
	%D%/cri.c \
	%D%/docker_json.c \
	%D%/k8s_meta.c %D%/k8s_meta.h \
	%D%/app_json.c %D%/app_json.h \
	%D%/multiline.c %D%/multiline.h \
	%D%/k8s_audit.c \
	%D%/audit_map.c %D%/audit_map.h \
	%D%/lambda.c %D%/lambda.h \
	%D%/lambda_telemetry.c \
	%D%/firehose.c \
	%D%/gcp.c \
	%D%/azure.c \
	%D%/mpval.c %D%/mpval.h \
	%D%/cloudtrail.c \
	%D%/auditd.c \
	%D%/kv.c %D%/kv.h \
	%D%/syslog.c \
	%D%/klog.c \
	%D%/logfmt.c \
	%D%/nginx.c \
	%D%/json_lines.c \
	%D%/text.c
%C%_libparsers_a_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(YAJL_CFLAGS) $(ZLIB_CFLAGS)
