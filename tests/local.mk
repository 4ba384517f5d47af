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
	%D%/unit/test_httpd
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

# --- integration tests: pytest against the real binaries, reported as TAP.
TESTS += %D%/integration/run-pytest.sh
EXTRA_DIST += %D%/integration %D%/data
