# agent/: trawl-agent.
bin_PROGRAMS += %D%/trawl-agent
%C%_trawl_agent_SOURCES = %D%/main.c %D%/agent_conf.c %D%/agent_conf.h
%C%_trawl_agent_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) $(MHD_CFLAGS)
%C%_trawl_agent_LDADD = parsers/libparsers.a lib/libtw.a $(TW_CORE_LIBS) $(TW_HTTPD_LIBS)
