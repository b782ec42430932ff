/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Minimal TAP producer for the C unit tests; `prove` reads the output.
 */
#ifndef _HT_TAP_H
#define _HT_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

/* tap_ok() - report one test point */
static inline int tap_ok(int cond, const char *file, int line,
			 const char *what)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

/* tap_is() - report an equality test point, with both values on failure */
static inline int tap_is(uint64_t got, uint64_t want, const char *file,
			 int line, const char *what)
{
	if (!tap_ok(got == want, file, line, what))
		printf("#   got %" PRIu64 " (0x%" PRIx64 "), want %" PRIu64
		       " (0x%" PRIx64 ")\n", got, got, want, want);
	return got == want;
}

#define ok(cond, what)		tap_ok(!!(cond), __FILE__, __LINE__, (what))
#define is(got, want, what)	tap_is((uint64_t)(got), (uint64_t)(want), \
				       __FILE__, __LINE__, (what))
#define diag(...)		(printf("# " __VA_ARGS__), printf("\n"))

/* done_testing() - print the plan and return the exit status */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* _HT_TAP_H */
