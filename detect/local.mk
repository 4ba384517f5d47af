# detect/: the rule engine (RULES.md): rule and Sigma loading, the condition
# language, candidate index, threshold/throttle state, templates, alerts.
noinst_LIBRARIES += %D%/libdetect.a
%C%_libdetect_a_SOURCES = \
	%D%/arena.c %D%/arena.h \
	%D%/value.c %D%/value.h \
	%D%/fields.c %D%/fields.h \
	%D%/ops.c %D%/ops.h \
	%D%/regex.c %D%/regex.h \
	%D%/expr.c %D%/expr.h \
	%D%/ytree.c %D%/ytree.h \
	%D%/template.c %D%/template.h \
	%D%/state.c %D%/state.h \
	%D%/alert.c %D%/alert.h \
	%D%/sigma.c %D%/sigma.h \
	%D%/rules_load.c %D%/rules_load.h \
	%D%/ac.c %D%/ac.h \
	%D%/eval.c %D%/eval.h \
	%D%/engine.c %D%/engine.h
%C%_libdetect_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(MSGPACK_CFLAGS) \
	$(PCRE2_CFLAGS) $(OPENSSL_CFLAGS)

# What a consumer of libdetect.a links after it (and lib/libtw.a).
TW_DETECT_LIBS = $(PCRE2_LIBS) $(OPENSSL_LIBS) $(YAML_LIBS)
