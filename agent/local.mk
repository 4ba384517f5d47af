# agent/: trawl-agent.
bin_PROGRAMS += %D%/trawl-agent
TW_AGENT_CORE = %D%/fsio.c %D%/fsio.h %D%/fileid.c %D%/fileid.h \
	%D%/checkpoint.c %D%/checkpoint.h %D%/spool.c %D%/spool.h \
	%D%/seq.c %D%/seq.h
%C%_trawl_agent_SOURCES = %D%/main.c %D%/agent_conf.c %D%/agent_conf.h \
	$(TW_AGENT_CORE) %D%/batcher.c %D%/batcher.h \
	%D%/tail.c %D%/tail.h %D%/ship.c %D%/ship.h
%C%_trawl_agent_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) $(MHD_CFLAGS) \
	$(ZSTD_CFLAGS) $(CURL_CFLAGS)
%C%_trawl_agent_LDADD = parsers/libparsers.a lib/libtw.a $(TW_CORE_LIBS) $(TW_HTTPD_LIBS) \
	$(CURL_LIBS) -lpthread
