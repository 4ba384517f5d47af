# parsers/: pure functions over bytes -> schema-v1 records; no I/O.
noinst_LIBRARIES += %D%/libparsers.a
%C%_libparsers_a_SOURCES = \
	%D%/parser.c %D%/parser.h %D%/formats.h \
	%D%/json_lines.c \
	%D%/text.c
%C%_libparsers_a_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(YAJL_CFLAGS)
