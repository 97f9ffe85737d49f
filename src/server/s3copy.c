/* src/server/s3copy.c: the copy-source headers of UploadPartCopy
 * (s3copy.h).  Strict: a header that does not parse is refused by the
 * caller (400), never read as "no condition" or "the whole object". */
#include <string.h>
#include <time.h>

#include "server/s3copy.h"

/* Decimal digits at *p, at most 19 (so no overflow), as a number. */
static bool
digits(const char **p, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 19)
			return false;
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	*out = v;
	return n > 0;
}

bool
cf_s3_copy_range_parse(const char *v, uint64_t *first, uint64_t *last)
{
	const char	*p = v;
	uint64_t	 a, b;

	if (v == NULL || strncmp(p, "bytes=", 6) != 0)
		return false;
	p += 6;
	if (!digits(&p, &a) || *p != '-')
		return false;
	p++;
	if (!digits(&p, &b) || *p != '\0' || a > b)
		return false;
	*first = a;
	*last = b;
	return true;
}

static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
    "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Exactly n digits at *p. */
static bool
fixed(const char **p, size_t n, int *out)
{
	size_t	i;
	int	v = 0;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool
cf_s3_http_date_parse(const char *v, int64_t *us)
{
	struct tm	 tm, chk;
	const char	*p = v;
	size_t		 i;
	time_t		 t;
	int		 wday = -1;

	/* By hand, not strptime: %a and %b depend on the locale. */
	memset(&tm, 0, sizeof(tm));
	if (v == NULL || strlen(v) != 29)
		return false;
	for (i = 0; i < 7; i++)
		if (strncmp(p, days[i], 3) == 0)
			wday = (int)i;
	p += 3;
	if (wday < 0 || strncmp(p, ", ", 2) != 0)
		return false;
	p += 2;
	if (!fixed(&p, 2, &tm.tm_mday) || *p++ != ' ')
		return false;
	tm.tm_mon = -1;
	for (i = 0; i < 12; i++)
		if (strncmp(p, months[i], 3) == 0)
			tm.tm_mon = (int)i;
	p += 3;
	if (tm.tm_mon < 0 || *p++ != ' ' || !fixed(&p, 4, &tm.tm_year) ||
	    *p++ != ' ' || !fixed(&p, 2, &tm.tm_hour) || *p++ != ':' ||
	    !fixed(&p, 2, &tm.tm_min) || *p++ != ':' ||
	    !fixed(&p, 2, &tm.tm_sec) || strcmp(p, " GMT") != 0)
		return false;
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return false;
	tm.tm_year -= 1900;
	chk = tm;
	t = timegm(&tm);
	/* No 31 February: timegm moves such a day into the next month. */
	if (t == (time_t)-1 || tm.tm_mday != chk.tm_mday ||
	    tm.tm_mon != chk.tm_mon || tm.tm_year != chk.tm_year)
		return false;
	*us = (int64_t)t * 1000000;
	return true;
}
