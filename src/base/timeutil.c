/* src/base/timeutil.c: clocks and RFC 3339 formatting; see timeutil.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* The frozen wall clock of cf_test_clock_set(); 0: the real clock.
 * Atomic because worker and audit threads read the clock while a test
 * sets it. */
static _Atomic int64_t	frozen_us;

void
cf_test_clock_set(int64_t us)
{
	atomic_store(&frozen_us, us);
}

int64_t
cf_now_us(void)
{
	struct timespec	ts;
	int64_t		f = atomic_load_explicit(&frozen_us,
			    memory_order_relaxed);

	if (f != 0)
		return f;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t
cf_mono_ns(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* v in exactly n decimal digits, zero-padded, at out. */
static void
digits(char *out, unsigned v, size_t n)
{
	while (n > 0) {
		out[--n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
cf_time_format(int64_t us, char out[CF_TIME_STR_LEN])
{
	time_t		secs = (time_t)(us / 1000000);
	long		frac = (long)(us % 1000000);
	struct tm	tm;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	(void)gmtime_r(&secs, &tm);
	/* Clamp so the fields provably fit CF_TIME_STR_LEN. */
	if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		tm.tm_year = 0;
	/* "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ" by hand: every audit
	 * record and checkpoint formats one, and snprintf cost 3,400
	 * instructions of it. */
	digits(out, (unsigned)(tm.tm_year + 1900) % 10000u, 4);
	out[4] = '-';
	digits(out + 5, (unsigned)(tm.tm_mon + 1) % 100u, 2);
	out[7] = '-';
	digits(out + 8, (unsigned)tm.tm_mday % 100u, 2);
	out[10] = 'T';
	digits(out + 11, (unsigned)tm.tm_hour % 100u, 2);
	out[13] = ':';
	digits(out + 14, (unsigned)tm.tm_min % 100u, 2);
	out[16] = ':';
	digits(out + 17, (unsigned)tm.tm_sec % 100u, 2);
	out[19] = '.';
	digits(out + 20, (unsigned)frac % 1000000u, 6);
	out[26] = 'Z';
	out[27] = '\0';
}

cf_err
cf_time_parse(const char *s, int64_t *us, struct cf_error *err)
{
	struct tm	tm;
	const char	*p;
	long		frac = 0, scale = 100000;
	time_t		t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return cf_error_set(err, CF_E_INPUT, "bad timestamp");
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return cf_error_set(err, CF_E_INPUT, "bad timestamp");
		while (*p >= '0' && *p <= '9') {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (strcmp(p, "Z") != 0)
		return cf_error_set(err, CF_E_INPUT,
		    "bad timestamp (UTC 'Z' required)");
	t = timegm(&tm);
	*us = (int64_t)t * 1000000 + frac;
	return CF_OK;
}
