/* err.h: the one error table of trawl; every int-returning function uses it. */
#ifndef TW_ERR_H
#define TW_ERR_H

/*
 * X(name, value, message). Functions return 0 on success or a negative
 * TW_E* code. TW_EIO means a system call failed and errno says why.
 */
#define TW_ERR_MAP(X)                                                       \
	X(NOMEM, -1, "out of memory")                                       \
	X(TOOBIG, -2, "too big")                                            \
	X(INVAL, -3, "invalid argument")                                    \
	X(IO, -4, "i/o error")                                              \
	X(PARSE, -5, "malformed input")                                     \
	X(LIMIT, -6, "limit exceeded")                                      \
	X(NOTFOUND, -7, "not found")                                        \
	X(EXISTS, -8, "already exists")                                     \
	X(AGAIN, -9, "try again")                                           \
	X(CONFIG, -10, "invalid configuration")                             \
	X(DEPTH, -11, "nesting too deep")                                   \
	X(COUNT, -12, "count does not match")                               \
	X(RATIO, -13, "compression ratio too high")                         \
	X(ZSTD, -14, "bad zstd frame")                                      \
	X(MSGPACK, -15, "bad msgpack")                                      \
	X(UTF8, -16, "invalid utf-8")                                       \
	X(EOF, -17, "unexpected end of input")                              \
	X(UNSUPPORTED, -18, "not supported")                                \
	X(AUTH, -19, "not authorised")                                      \
	X(CLOSED, -20, "closed")                                            \
	X(INTERNAL, -21, "internal error")

enum tw_err {
#define TW_ERR_ENUM(name, value, msg) TW_E##name = (value),
	TW_ERR_MAP(TW_ERR_ENUM)
#undef TW_ERR_ENUM
};

/* The message for code (0 gives "success"); never NULL, thread-safe. */
const char *tw_strerror(int code);

/* The symbolic name for code ("TW_ETOOBIG"); never NULL, thread-safe. */
const char *tw_errname(int code);

#if defined(__GNUC__)
#define TW_WARN_UNUSED __attribute__((warn_unused_result))
#define TW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TW_WARN_UNUSED
#define TW_PRINTF(f, a)
#endif

/*
 * GCC does not accept (void)f() for warn_unused_result: deliberate ignores
 * go through this one helper, with a comment at the call saying why.
 */
static inline void
tw_ignore(int r)
{
	(void)r;
}

#endif
