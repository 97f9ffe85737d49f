/* src/server/s3copy.c: the copy-source headers of CopyObject and
 * UploadPartCopy, the HTTP dates of conditional requests and the
 * attribute list of GetObjectAttributes (s3copy.h).
 * Strict: a header that does not parse is reported as such; the copies
 * refuse it (400), never reading it as "no condition" or "the whole
 * object", while a GET ignores it as RFC 9110 says. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/str.h"
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

static const char *const longdays[] = { "Sunday", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday" };

/* A day name at *p from names (7 of them), moved past. */
static bool
dayname(const char **p, const char *const *names)
{
	size_t	i, n;

	for (i = 0; i < 7; i++) {
		n = strlen(names[i]);
		if (strncmp(*p, names[i], n) == 0) {
			*p += n;
			return true;
		}
	}
	return false;
}

/* A month name at *p, moved past; tm_mon. */
static bool
monthname(const char **p, int *mon)
{
	int	i;

	for (i = 0; i < 12; i++)
		if (strncmp(*p, months[i], 3) == 0) {
			*p += 3;
			*mon = i;
			return true;
		}
	return false;
}

/* "HH:MM:SS" at *p. */
static bool
clock_of(const char **p, struct tm *tm)
{
	return fixed(p, 2, &tm->tm_hour) && *(*p)++ == ':' &&
	    fixed(p, 2, &tm->tm_min) && *(*p)++ == ':' &&
	    fixed(p, 2, &tm->tm_sec);
}

bool
cf_s3_http_date_parse(const char *v, int64_t *us)
{
	struct tm	 tm, chk;
	const char	*p = v;
	time_t		 t;
	bool		 ok;

	/* By hand, not strptime: %a and %b depend on the locale.  The
	 * three forms RFC 9110 (5.6.7) has a recipient accept:
	 * IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete
	 * RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
	 * "Sun Nov  6 08:49:37 1994".  The day name is not checked
	 * against the date (RFC 9110 leaves that to the recipient). */
	memset(&tm, 0, sizeof(tm));
	if (v == NULL)
		return false;
	if (strlen(v) == 29 && v[3] == ',') {
		ok = dayname(&p, days) && *p++ == ',' && *p++ == ' ' &&
		    fixed(&p, 2, &tm.tm_mday) && *p++ == ' ' &&
		    monthname(&p, &tm.tm_mon) && *p++ == ' ' &&
		    fixed(&p, 4, &tm.tm_year) && *p++ == ' ' &&
		    clock_of(&p, &tm) && strcmp(p, " GMT") == 0;
	} else if (strlen(v) == 24 && v[3] == ' ') {
		ok = dayname(&p, days) && *p++ == ' ' &&
		    monthname(&p, &tm.tm_mon) && *p++ == ' ';
		if (ok && *p == ' ')
			p++;
		ok = ok && fixed(&p, *(p + 1) == ' ' ? 1 : 2, &tm.tm_mday) &&
		    *p++ == ' ' && clock_of(&p, &tm) && *p++ == ' ' &&
		    fixed(&p, 4, &tm.tm_year) && *p == '\0';
	} else {
		/* Two-digit years: 70-99 are 1970-1999, 00-69 2000-2069
		 * (RFC 9110 reads them as the most recent past year with
		 * those digits; dates past 2069 are IMF-fixdates). */
		ok = dayname(&p, longdays) && *p++ == ',' && *p++ == ' ' &&
		    fixed(&p, 2, &tm.tm_mday) && *p++ == '-' &&
		    monthname(&p, &tm.tm_mon) && *p++ == '-' &&
		    fixed(&p, 2, &tm.tm_year) && *p++ == ' ' &&
		    clock_of(&p, &tm) && strcmp(p, " GMT") == 0;
		if (ok)
			tm.tm_year += tm.tm_year >= 70 ? 1900 : 2000;
	}
	if (!ok || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
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

bool
cf_s3_object_attrs_parse(const char *v, unsigned *mask)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} names[] = {
		{ "ETag", CF_S3_ATTR_ETAG },
		{ "Checksum", CF_S3_ATTR_CHECKSUM },
		{ "ObjectParts", CF_S3_ATTR_PARTS },
		{ "StorageClass", CF_S3_ATTR_CLASS },
		{ "ObjectSize", CF_S3_ATTR_SIZE },
	};
	const char	*p = v, *e;
	unsigned	 m = 0;
	size_t		 n, i;

	if (v == NULL)
		return false;
	while (cf_http_list_next(&p, &e, &n)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n &&
			    strncasecmp(names[i].name, e, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return false;
		m |= names[i].bit;
	}
	if (m == 0)
		return false;
	*mask = m;
	return true;
}
