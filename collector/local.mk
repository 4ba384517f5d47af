# collector/: trawl-collector.
bin_PROGRAMS += %D%/trawl-collector
%C%_trawl_collector_SOURCES = %D%/main.c \
	%D%/collector_conf.c %D%/collector_conf.h \
	%D%/batch_sink.c %D%/batch_sink.h \
	%D%/ingest.c %D%/ingest.h \
	%D%/kafka_input.c %D%/kafka_input.h \
	%D%/tokens.c %D%/tokens.h \
	%D%/cursor.c %D%/cursor.h \
	%D%/alert_log.c %D%/alert_log.h \
	%D%/sink.c %D%/sink.h \
	%D%/sink_file.c %D%/sink_file.h \
	%D%/detect_stage.c %D%/detect_stage.h
%C%_trawl_collector_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) $(MHD_CFLAGS) \
	$(ZSTD_CFLAGS) $(OPENSSL_CFLAGS) $(RDKAFKA_CFLAGS) $(PCRE2_CFLAGS)
%C%_trawl_collector_LDADD = detect/libdetect.a parsers/libparsers.a lib/libtw.a \
	$(TW_DETECT_LIBS) $(TW_CORE_LIBS) $(TW_HTTPD_LIBS) $(OPENSSL_LIBS) $(RDKAFKA_LIBS)
