/* src/base/timeutil.h: clocks and time formatting. */
#ifndef CF_BASE_TIMEUTIL_H
#define CF_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CF_TIME_STR_LEN 32	/* "2026-11-27T10:49:27.123456Z" + NUL */

/* Wall clock, microseconds since the Unix epoch. */
int64_t	cf_now_us(void);
/* Test hook: freeze cf_now_us() at us (microseconds since the epoch) until
 * the next call; 0 restores the real clock.  Tests that depend on the wall
 * clock (TOTP steps, expiry) use it instead of sleeping or hoping the
 * host is fast enough.  cf_mono_ns() is not affected. */
void	cf_test_clock_set(int64_t us);
/* Monotonic clock in nanoseconds (for intervals only). */
uint64_t cf_mono_ns(void);

/* RFC 3339 UTC with microseconds: "2026-11-27T10:49:27.123456Z". */
void	cf_time_format(int64_t us, char out[CF_TIME_STR_LEN]);
/* Parse the form above (fraction optional, 'Z' required). */
cf_err	cf_time_parse(const char *s, int64_t *us, struct cf_error *err);

#endif
