# query/: trawl, the command people type.
bin_PROGRAMS += %D%/trawl
%C%_trawl_SOURCES = %D%/main.c %D%/cmd_parse.c %D%/cmd_parse.h \
	%D%/cmd_query.c %D%/cmd_query.h %D%/cmd_verify.c %D%/cmd_verify.h
%C%_trawl_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(OPENSSL_CFLAGS)
%C%_trawl_LDADD = parsers/libparsers.a lib/libtw.a $(TW_CORE_LIBS) $(TW_STORE_LIBS)
