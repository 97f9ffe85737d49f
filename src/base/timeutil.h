/* src/base/timeutil.h: clocks and time formatting. */
#ifndef CF_BASE_TIMEUTIL_H
#define CF_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CF_TIME_STR_LEN 32	/* "2026-11-27T10:49:27.123456Z" + NUL */

/* Wall clock, microseconds since the Unix epoch. */
int64_t	cf_now_us(void);
/* Monotonic clock in nanoseconds (for intervals only). */
uint64_t cf_mono_ns(void);

/* RFC 3339 UTC with microseconds: "2026-11-27T10:49:27.123456Z". */
void	cf_time_format(int64_t us, char out[CF_TIME_STR_LEN]);
/* Parse the form above (fraction optional, 'Z' required). */
cf_err	cf_time_parse(const char *s, int64_t *us, struct cf_error *err);

#endif
