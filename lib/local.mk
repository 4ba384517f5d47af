# lib/: the shared core. Split by dependency so that a program pulls in only
# the objects (and so the libraries) it uses.
noinst_LIBRARIES += %D%/libtw.a
%C%_libtw_a_SOURCES = \
	%D%/err.c %D%/err.h \
	%D%/buf.c %D%/buf.h \
	%D%/log.c %D%/log.h \
	%D%/utf8.c %D%/utf8.h \
	%D%/base64.c %D%/base64.h \
	%D%/timefmt.c %D%/timefmt.h \
	%D%/conf.c %D%/conf.h \
	%D%/mp.c %D%/mp.h \
	%D%/json.c %D%/json.h \
	%D%/record.c %D%/record.h \
	%D%/batch.c %D%/batch.h \
	%D%/metrics.c %D%/metrics.h \
	%D%/httpd.c %D%/httpd.h \
	%D%/cli.c %D%/cli.h \
	%D%/daemon.c %D%/daemon.h \
	%D%/store_format.c %D%/store_format.h \
	%D%/store.c %D%/store.h \
	%D%/store_reader.c %D%/store_reader.h
%C%_libtw_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) $(ZSTD_CFLAGS) \
	$(YAJL_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS) $(OPENSSL_CFLAGS)

# What each consumer of libtw.a needs at link time, by the modules it uses.
TW_CORE_LIBS = $(YAML_LIBS) $(MSGPACK_LIBS) $(ZSTD_LIBS) $(YAJL_LIBS) $(ZLIB_LIBS)
# httpd.c: libmicrohttpd, and GnuTLS to verify client certificates.
TW_HTTPD_LIBS = $(MHD_LIBS) $(GNUTLS_LIBS)
# The segment store (store*.c): SHA-256, HMAC and Ed25519 from libcrypto.
TW_STORE_LIBS = $(OPENSSL_LIBS)
