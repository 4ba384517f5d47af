# collector/: trawl-collector.
bin_PROGRAMS += %D%/trawl-collector
%C%_trawl_collector_SOURCES = %D%/main.c \
	%D%/collector_conf.c %D%/collector_conf.h \
	%D%/ingest.c %D%/ingest.h \
	%D%/tokens.c %D%/tokens.h
%C%_trawl_collector_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) $(MHD_CFLAGS) \
	$(ZSTD_CFLAGS) $(OPENSSL_CFLAGS)
%C%_trawl_collector_LDADD = parsers/libparsers.a lib/libtw.a $(TW_CORE_LIBS) $(TW_HTTPD_LIBS) \
	$(OPENSSL_LIBS)
