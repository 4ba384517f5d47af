# query/: trawl, the command people type.
bin_PROGRAMS += %D%/trawl
%C%_trawl_SOURCES = %D%/main.c %D%/cmd_parse.c %D%/cmd_parse.h \
	%D%/cmd_query.c %D%/cmd_query.h %D%/cmd_verify.c %D%/cmd_verify.h \
	%D%/cmd_rules.c %D%/cmd_rules.h
%C%_trawl_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(OPENSSL_CFLAGS) \
	$(PCRE2_CFLAGS) $(YAML_CFLAGS)
%C%_trawl_LDADD = detect/libdetect.a parsers/libparsers.a lib/libtw.a \
	$(TW_DETECT_LIBS) $(TW_CORE_LIBS) $(TW_STORE_LIBS)
