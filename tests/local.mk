# tests/: unit tests (TAP), fuzz-corpus replay, Python integration tests.

TW_TEST_LDADD = parsers/libparsers.a lib/libtw.a $(TW_CORE_LIBS) $(TW_HTTPD_LIBS) $(CURL_LIBS)
TW_TEST_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) $(ZSTD_CFLAGS) \
	$(YAJL_CFLAGS) $(MHD_CFLAGS) $(CURL_CFLAGS) -I$(top_srcdir)/tests/unit

# --- unit tests: one program per module, TAP on stdout ---
TW_UNIT_TESTS = \
	%D%/unit/test_err \
	%D%/unit/test_buf \
	%D%/unit/test_log \
	%D%/unit/test_utf8 \
	%D%/unit/test_base64 \
	%D%/unit/test_timefmt \
	%D%/unit/test_conf \
	%D%/unit/test_mp \
	%D%/unit/test_json \
	%D%/unit/test_record \
	%D%/unit/test_batch \
	%D%/unit/test_metrics \
	%D%/unit/test_httpd \
	%D%/unit/test_store
check_PROGRAMS += $(TW_UNIT_TESTS)
TESTS += $(TW_UNIT_TESTS)
EXTRA_DIST += %D%/unit/tap.h

%C%_unit_test_err_SOURCES = %D%/unit/test_err.c
%C%_unit_test_err_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_err_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_buf_SOURCES = %D%/unit/test_buf.c
%C%_unit_test_buf_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_buf_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_log_SOURCES = %D%/unit/test_log.c
%C%_unit_test_log_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_log_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_utf8_SOURCES = %D%/unit/test_utf8.c
%C%_unit_test_utf8_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_utf8_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_base64_SOURCES = %D%/unit/test_base64.c
%C%_unit_test_base64_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_base64_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_timefmt_SOURCES = %D%/unit/test_timefmt.c
%C%_unit_test_timefmt_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_timefmt_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_conf_SOURCES = %D%/unit/test_conf.c
%C%_unit_test_conf_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_conf_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_mp_SOURCES = %D%/unit/test_mp.c
%C%_unit_test_mp_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_mp_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_json_SOURCES = %D%/unit/test_json.c
%C%_unit_test_json_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_json_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_record_SOURCES = %D%/unit/test_record.c
%C%_unit_test_record_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_record_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_batch_SOURCES = %D%/unit/test_batch.c
%C%_unit_test_batch_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_batch_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_metrics_SOURCES = %D%/unit/test_metrics.c
%C%_unit_test_metrics_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_metrics_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_httpd_SOURCES = %D%/unit/test_httpd.c
%C%_unit_test_httpd_CFLAGS = $(TW_TEST_CFLAGS)
%C%_unit_test_httpd_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_store_SOURCES = %D%/unit/test_store.c
%C%_unit_test_store_CFLAGS = $(TW_TEST_CFLAGS) $(OPENSSL_CFLAGS)
%C%_unit_test_store_LDADD = $(TW_TEST_LDADD) $(TW_STORE_LIBS)

# --- agent/: program modules compiled into their tests (their headers are
# the agent's own, hence -I agent).
TW_AGENT_UNIT_TESTS = %D%/unit/test_spool %D%/unit/test_checkpoint
check_PROGRAMS += $(TW_AGENT_UNIT_TESTS)
TESTS += $(TW_AGENT_UNIT_TESTS)
TW_AGENT_TEST_CFLAGS = $(TW_TEST_CFLAGS) -I$(top_srcdir)/agent
%C%_unit_test_spool_SOURCES = %D%/unit/test_spool.c agent/spool.c agent/fsio.c \
	agent/fileid.c
%C%_unit_test_spool_CFLAGS = $(TW_AGENT_TEST_CFLAGS)
%C%_unit_test_spool_LDADD = $(TW_TEST_LDADD)
%C%_unit_test_checkpoint_SOURCES = %D%/unit/test_checkpoint.c \
	agent/checkpoint.c agent/seq.c agent/fsio.c agent/fileid.c
%C%_unit_test_checkpoint_CFLAGS = $(TW_AGENT_TEST_CFLAGS)
%C%_unit_test_checkpoint_LDADD = $(TW_TEST_LDADD) -lpthread

# A helper for the store's integration tests (not installed): appends
# NDJSON records as batches to a store directory.
check_PROGRAMS += %D%/store-write
%C%_store_write_SOURCES = %D%/store_write.c
%C%_store_write_CFLAGS = $(TW_TEST_CFLAGS) $(OPENSSL_CFLAGS)
%C%_store_write_LDADD = $(TW_TEST_LDADD) $(TW_STORE_LIBS)

# A helper for the Kafka integration tests (not installed): an in-process
# librdkafka mock cluster, a producer and a consumer.
check_PROGRAMS += %D%/kafka-tool
%C%_kafka_tool_SOURCES = %D%/kafka_tool.c
%C%_kafka_tool_CFLAGS = $(TW_TEST_CFLAGS) $(RDKAFKA_CFLAGS)
%C%_kafka_tool_LDADD = $(TW_TEST_LDADD) $(RDKAFKA_LIBS)

# --- benchmarks (tests/bench/): built by make check so they keep
# compiling, run only by `make bench`; they print ratios against a
# reference measured in the same run, and assert nothing.
check_PROGRAMS += %D%/bench/bench_parse
%C%_bench_bench_parse_SOURCES = %D%/bench/bench_parse.c
%C%_bench_bench_parse_CFLAGS = $(TW_TEST_CFLAGS)
%C%_bench_bench_parse_LDADD = $(TW_TEST_LDADD)
EXTRA_DIST += %D%/bench/gen.py %D%/bench/regexes.txt %D%/bench/run-parse-bench.sh
.PHONY: bench
bench: %D%/bench/bench_parse
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	PYTHON3='$(PYTHON3)' $(SHELL) $(srcdir)/%D%/bench/run-parse-bench.sh $(BENCH_ARGS)

# --- fuzz targets: LLVMFuzzerTestOneInput only; replay_main.c replays the
# corpus in make check, libFuzzer drives the same file with --enable-fuzzing.
TW_FUZZ_TARGETS = batch json conf
EXTRA_DIST += %D%/fuzz/corpus %D%/fuzz/replay_main.c %D%/fuzz/run-fuzzer.sh
TW_FUZZ_REPLAYS = %D%/fuzz/replay_batch %D%/fuzz/replay_json %D%/fuzz/replay_conf
check_PROGRAMS += $(TW_FUZZ_REPLAYS)
TESTS += $(TW_FUZZ_REPLAYS)
%C%_fuzz_replay_batch_SOURCES = %D%/fuzz/fuzz_batch.c %D%/fuzz/replay_main.c
%C%_fuzz_replay_batch_CFLAGS = $(TW_TEST_CFLAGS)
%C%_fuzz_replay_batch_LDADD = $(TW_TEST_LDADD)
%C%_fuzz_replay_json_SOURCES = %D%/fuzz/fuzz_json.c %D%/fuzz/replay_main.c
%C%_fuzz_replay_json_CFLAGS = $(TW_TEST_CFLAGS)
%C%_fuzz_replay_json_LDADD = $(TW_TEST_LDADD)
%C%_fuzz_replay_conf_SOURCES = %D%/fuzz/fuzz_conf.c %D%/fuzz/replay_main.c
%C%_fuzz_replay_conf_CFLAGS = $(TW_TEST_CFLAGS)
%C%_fuzz_replay_conf_LDADD = $(TW_TEST_LDADD)

if ENABLE_FUZZING
TW_FUZZERS = %D%/fuzz/fuzz_batch %D%/fuzz/fuzz_json %D%/fuzz/fuzz_conf
noinst_PROGRAMS += $(TW_FUZZERS)
%C%_fuzz_fuzz_batch_SOURCES = %D%/fuzz/fuzz_batch.c
%C%_fuzz_fuzz_batch_CFLAGS = $(TW_TEST_CFLAGS)
%C%_fuzz_fuzz_batch_LDADD = $(TW_TEST_LDADD)
%C%_fuzz_fuzz_batch_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
%C%_fuzz_fuzz_json_SOURCES = %D%/fuzz/fuzz_json.c
%C%_fuzz_fuzz_json_CFLAGS = $(TW_TEST_CFLAGS)
%C%_fuzz_fuzz_json_LDADD = $(TW_TEST_LDADD)
%C%_fuzz_fuzz_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
%C%_fuzz_fuzz_conf_SOURCES = %D%/fuzz/fuzz_conf.c
%C%_fuzz_fuzz_conf_CFLAGS = $(TW_TEST_CFLAGS)
%C%_fuzz_fuzz_conf_LDADD = $(TW_TEST_LDADD)
%C%_fuzz_fuzz_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif


# --- one fuzz target per parser: fuzz_parse.c built with FUZZ_FORMAT.
TW_PARSE_FUZZ_FORMATS = cri docker_json k8s_audit_v1 lambda_text lambda_json lambda_telemetry firehose_cwl gcp_logentry pubsub_push azure_function_app_logs cloudtrail auditd syslog klog logfmt nginx_combined json text
EXTRA_DIST += %D%/fuzz/fuzz_parse.c
TW_PARSE_REPLAYS = %D%/fuzz/replay_parse_cri \
	%D%/fuzz/replay_parse_docker_json \
	%D%/fuzz/replay_parse_k8s_audit_v1 \
	%D%/fuzz/replay_parse_lambda_text \
	%D%/fuzz/replay_parse_lambda_json \
	%D%/fuzz/replay_parse_lambda_telemetry \
	%D%/fuzz/replay_parse_firehose_cwl \
	%D%/fuzz/replay_parse_gcp_logentry \
	%D%/fuzz/replay_parse_pubsub_push \
	%D%/fuzz/replay_parse_azure_function_app_logs \
	%D%/fuzz/replay_parse_cloudtrail \
	%D%/fuzz/replay_parse_auditd \
	%D%/fuzz/replay_parse_syslog \
	%D%/fuzz/replay_parse_klog \
	%D%/fuzz/replay_parse_logfmt \
	%D%/fuzz/replay_parse_nginx_combined \
	%D%/fuzz/replay_parse_json \
	%D%/fuzz/replay_parse_text
tests_fuzz_replay_parse_cri_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_cri_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"cri"'
tests_fuzz_replay_parse_cri_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_docker_json_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_docker_json_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"docker_json"'
tests_fuzz_replay_parse_docker_json_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_k8s_audit_v1_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_k8s_audit_v1_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"k8s_audit_v1"'
tests_fuzz_replay_parse_k8s_audit_v1_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_lambda_text_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_lambda_text_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"lambda_text"'
tests_fuzz_replay_parse_lambda_text_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_lambda_json_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_lambda_json_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"lambda_json"'
tests_fuzz_replay_parse_lambda_json_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_lambda_telemetry_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_lambda_telemetry_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"lambda_telemetry"'
tests_fuzz_replay_parse_lambda_telemetry_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_firehose_cwl_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_firehose_cwl_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"firehose_cwl"'
tests_fuzz_replay_parse_firehose_cwl_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_gcp_logentry_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_gcp_logentry_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"gcp_logentry"'
tests_fuzz_replay_parse_gcp_logentry_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_pubsub_push_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_pubsub_push_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"pubsub_push"'
tests_fuzz_replay_parse_pubsub_push_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_azure_function_app_logs_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_azure_function_app_logs_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"azure_function_app_logs"'
tests_fuzz_replay_parse_azure_function_app_logs_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_cloudtrail_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_cloudtrail_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"cloudtrail"'
tests_fuzz_replay_parse_cloudtrail_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_auditd_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_auditd_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"auditd"'
tests_fuzz_replay_parse_auditd_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_syslog_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_syslog_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"syslog"'
tests_fuzz_replay_parse_syslog_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_klog_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_klog_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"klog"'
tests_fuzz_replay_parse_klog_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_logfmt_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_logfmt_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"logfmt"'
tests_fuzz_replay_parse_logfmt_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_nginx_combined_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_nginx_combined_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"nginx_combined"'
tests_fuzz_replay_parse_nginx_combined_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_json_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_json_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"json"'
tests_fuzz_replay_parse_json_LDADD = $(TW_TEST_LDADD)
tests_fuzz_replay_parse_text_SOURCES = %D%/fuzz/fuzz_parse.c %D%/fuzz/replay_main.c
tests_fuzz_replay_parse_text_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"text"'
tests_fuzz_replay_parse_text_LDADD = $(TW_TEST_LDADD)
check_PROGRAMS += $(TW_PARSE_REPLAYS)
TESTS += $(TW_PARSE_REPLAYS)

if ENABLE_FUZZING
tests_fuzz_fuzz_parse_cri_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_cri_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"cri"'
tests_fuzz_fuzz_parse_cri_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_cri_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_docker_json_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_docker_json_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"docker_json"'
tests_fuzz_fuzz_parse_docker_json_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_docker_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_k8s_audit_v1_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_k8s_audit_v1_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"k8s_audit_v1"'
tests_fuzz_fuzz_parse_k8s_audit_v1_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_k8s_audit_v1_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_lambda_text_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_lambda_text_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"lambda_text"'
tests_fuzz_fuzz_parse_lambda_text_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_lambda_text_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_lambda_json_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_lambda_json_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"lambda_json"'
tests_fuzz_fuzz_parse_lambda_json_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_lambda_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_lambda_telemetry_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_lambda_telemetry_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"lambda_telemetry"'
tests_fuzz_fuzz_parse_lambda_telemetry_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_lambda_telemetry_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_firehose_cwl_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_firehose_cwl_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"firehose_cwl"'
tests_fuzz_fuzz_parse_firehose_cwl_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_firehose_cwl_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_gcp_logentry_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_gcp_logentry_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"gcp_logentry"'
tests_fuzz_fuzz_parse_gcp_logentry_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_gcp_logentry_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_pubsub_push_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_pubsub_push_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"pubsub_push"'
tests_fuzz_fuzz_parse_pubsub_push_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_pubsub_push_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_azure_function_app_logs_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_azure_function_app_logs_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"azure_function_app_logs"'
tests_fuzz_fuzz_parse_azure_function_app_logs_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_azure_function_app_logs_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_cloudtrail_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_cloudtrail_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"cloudtrail"'
tests_fuzz_fuzz_parse_cloudtrail_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_cloudtrail_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_auditd_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_auditd_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"auditd"'
tests_fuzz_fuzz_parse_auditd_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_auditd_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_syslog_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_syslog_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"syslog"'
tests_fuzz_fuzz_parse_syslog_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_syslog_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_klog_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_klog_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"klog"'
tests_fuzz_fuzz_parse_klog_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_klog_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_logfmt_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_logfmt_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"logfmt"'
tests_fuzz_fuzz_parse_logfmt_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_logfmt_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_nginx_combined_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_nginx_combined_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"nginx_combined"'
tests_fuzz_fuzz_parse_nginx_combined_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_nginx_combined_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_json_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_json_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"json"'
tests_fuzz_fuzz_parse_json_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parse_text_SOURCES = %D%/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_text_CFLAGS = $(TW_TEST_CFLAGS) -DFUZZ_FORMAT='"text"'
tests_fuzz_fuzz_parse_text_LDADD = $(TW_TEST_LDADD)
tests_fuzz_fuzz_parse_text_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
noinst_PROGRAMS += %D%/fuzz/fuzz_parse_cri \
	%D%/fuzz/fuzz_parse_docker_json \
	%D%/fuzz/fuzz_parse_k8s_audit_v1 \
	%D%/fuzz/fuzz_parse_lambda_text \
	%D%/fuzz/fuzz_parse_lambda_json \
	%D%/fuzz/fuzz_parse_lambda_telemetry \
	%D%/fuzz/fuzz_parse_firehose_cwl \
	%D%/fuzz/fuzz_parse_gcp_logentry \
	%D%/fuzz/fuzz_parse_pubsub_push \
	%D%/fuzz/fuzz_parse_azure_function_app_logs \
	%D%/fuzz/fuzz_parse_cloudtrail \
	%D%/fuzz/fuzz_parse_auditd \
	%D%/fuzz/fuzz_parse_syslog \
	%D%/fuzz/fuzz_parse_klog \
	%D%/fuzz/fuzz_parse_logfmt \
	%D%/fuzz/fuzz_parse_nginx_combined \
	%D%/fuzz/fuzz_parse_json \
	%D%/fuzz/fuzz_parse_text
endif

# --- integration tests: pytest against the real binaries, reported as TAP.
TESTS += %D%/integration/run-pytest.sh
EXTRA_DIST += %D%/integration %D%/data

# --- detect/: the rule engine's unit tests and fuzz targets (rule loader,
# condition language). libdetect.a comes first: it needs lib/libtw.a.
TW_DETECT_TEST_LDADD = detect/libdetect.a $(TW_TEST_LDADD) $(TW_DETECT_LIBS)
TW_DETECT_TEST_CFLAGS = $(TW_TEST_CFLAGS) $(PCRE2_CFLAGS) $(OPENSSL_CFLAGS)
TW_DETECT_UNIT_TESTS = \
	%D%/unit/test_value \
	%D%/unit/test_fields \
	%D%/unit/test_ops \
	%D%/unit/test_regex \
	%D%/unit/test_expr \
	%D%/unit/test_ytree \
	%D%/unit/test_template \
	%D%/unit/test_state \
	%D%/unit/test_alert \
	%D%/unit/test_sigma \
	%D%/unit/test_rules_load \
	%D%/unit/test_ac \
	%D%/unit/test_eval \
	%D%/unit/test_engine
check_PROGRAMS += $(TW_DETECT_UNIT_TESTS)
TESTS += $(TW_DETECT_UNIT_TESTS)
EXTRA_DIST += %D%/unit/detect_util.h
%C%_unit_test_value_SOURCES = %D%/unit/test_value.c
%C%_unit_test_value_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_value_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_fields_SOURCES = %D%/unit/test_fields.c
%C%_unit_test_fields_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_fields_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_ops_SOURCES = %D%/unit/test_ops.c
%C%_unit_test_ops_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_ops_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_regex_SOURCES = %D%/unit/test_regex.c
%C%_unit_test_regex_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_regex_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_expr_SOURCES = %D%/unit/test_expr.c
%C%_unit_test_expr_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_expr_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_ytree_SOURCES = %D%/unit/test_ytree.c
%C%_unit_test_ytree_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_ytree_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_template_SOURCES = %D%/unit/test_template.c
%C%_unit_test_template_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_template_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_state_SOURCES = %D%/unit/test_state.c
%C%_unit_test_state_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_state_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_alert_SOURCES = %D%/unit/test_alert.c
%C%_unit_test_alert_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_alert_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_sigma_SOURCES = %D%/unit/test_sigma.c
%C%_unit_test_sigma_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_sigma_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_rules_load_SOURCES = %D%/unit/test_rules_load.c
%C%_unit_test_rules_load_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_rules_load_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_ac_SOURCES = %D%/unit/test_ac.c
%C%_unit_test_ac_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_ac_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_eval_SOURCES = %D%/unit/test_eval.c
%C%_unit_test_eval_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_eval_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_unit_test_engine_SOURCES = %D%/unit/test_engine.c
%C%_unit_test_engine_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_unit_test_engine_LDADD = $(TW_DETECT_TEST_LDADD)

TW_DETECT_FUZZ_REPLAYS = %D%/fuzz/replay_rules_load %D%/fuzz/replay_expr
check_PROGRAMS += $(TW_DETECT_FUZZ_REPLAYS)
TESTS += $(TW_DETECT_FUZZ_REPLAYS)
EXTRA_DIST += %D%/fuzz/rules_load.dict %D%/fuzz/expr.dict
%C%_fuzz_replay_rules_load_SOURCES = %D%/fuzz/fuzz_rules_load.c %D%/fuzz/replay_main.c
%C%_fuzz_replay_rules_load_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_fuzz_replay_rules_load_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_fuzz_replay_expr_SOURCES = %D%/fuzz/fuzz_expr.c %D%/fuzz/replay_main.c
%C%_fuzz_replay_expr_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_fuzz_replay_expr_LDADD = $(TW_DETECT_TEST_LDADD)

if ENABLE_FUZZING
noinst_PROGRAMS += %D%/fuzz/fuzz_rules_load %D%/fuzz/fuzz_expr
%C%_fuzz_fuzz_rules_load_SOURCES = %D%/fuzz/fuzz_rules_load.c
%C%_fuzz_fuzz_rules_load_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_fuzz_fuzz_rules_load_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_fuzz_fuzz_rules_load_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
%C%_fuzz_fuzz_expr_SOURCES = %D%/fuzz/fuzz_expr.c
%C%_fuzz_fuzz_expr_CFLAGS = $(TW_DETECT_TEST_CFLAGS)
%C%_fuzz_fuzz_expr_LDADD = $(TW_DETECT_TEST_LDADD)
%C%_fuzz_fuzz_expr_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
