/* tap.h: a tiny TAP producer for the C unit tests (automake tap-driver). */
#ifndef TW_TAP_H
#define TW_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

/* ok(cond, name...): evaluates cond exactly once. */
#define ok(cond, ...)                                                       \
	do {                                                                \
		int tap_c_ = (cond) ? 1 : 0;                                \
		printf("%sok %d - ", tap_c_ ? "" : "not ", ++tap_n);        \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
		if (!tap_c_) {                                              \
			tap_failed++;                                       \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__);  \
		}                                                           \
		fflush(stdout);                                             \
	} while (0)

#define is_int(got, want, ...)                                              \
	do {                                                                \
		long long tap_g_ = (long long)(got);                        \
		long long tap_w_ = (long long)(want);                       \
		ok(tap_g_ == tap_w_, __VA_ARGS__);                          \
		if (tap_g_ != tap_w_)                                       \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_);  \
	} while (0)

#define is_str(got, want, ...)                                              \
	do {                                                                \
		const char *tap_g_ = (got);                                 \
		const char *tap_w_ = (want);                                \
		int tap_e_ = tap_g_ != NULL && tap_w_ != NULL &&            \
		    strcmp(tap_g_, tap_w_) == 0;                            \
		ok(tap_e_, __VA_ARGS__);                                    \
		if (!tap_e_)                                                \
			printf("#   got \"%s\"\n#  want \"%s\"\n",            \
			    tap_g_ ? tap_g_ : "(null)",                     \
			    tap_w_ ? tap_w_ : "(null)");                    \
	} while (0)

#define diag(...)                                                           \
	do {                                                                \
		printf("# ");                                               \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
	} while (0)

/* Print the plan and return the exit status for main(). */
static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed == 0 ? 0 : 1;
}

#endif
