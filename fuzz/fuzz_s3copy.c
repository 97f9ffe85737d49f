/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_s3copy.c: UploadPartCopy's header parsers (server/s3copy.c:
 * x-amz-copy-source-range, the copy-source HTTP dates) on arbitrary
 * bytes.  Oracles: a range is FIRST <= LAST and parses again from its
 * canonical form to the same pair; a date is whole seconds, after 1970,
 * and prints back (RFC 9110 form) to a date that parses to itself.
 * Also the HTTP list splitter of the conditional and Content-Encoding
 * headers (base/str.c, cf_http_list_next): every element lies inside the
 * input, is not empty, holds no comma and no blank at either end, and the
 * cursor only moves forward to the string's end.  And GetObjectAttributes'
 * x-amz-object-attributes (cf_s3_object_attrs_parse): a list it takes
 * names at least one of the five attributes, and nothing else, and the
 * names of the mask it gives, as a list, parse back to the same mask. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/str.h"
#include "server/s3copy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
list_check(const char *s, size_t size)
{
	const char	*p = s, *prev = s, *t;
	size_t		 n;

	while (cf_http_list_next(&p, &t, &n)) {
		if (n == 0 || t < prev || t + n > s + size || p < t + n ||
		    memchr(t, ',', n) != NULL || memchr(t, '\0', n) != NULL ||
		    t[0] == ' ' || t[0] == '\t' || t[n - 1] == ' ' ||
		    t[n - 1] == '\t')
			abort();
		prev = p;
	}
	if (p < prev || *p != '\0')
		abort();
}

static void
attrs_check(const char *s)
{
	static const char *const names[] = { "ETag", "Checksum",
	    "ObjectParts", "StorageClass", "ObjectSize" };
	char		again[96];
	unsigned	m = 0, m2 = 0;
	size_t		i, len = 0;

	if (!cf_s3_object_attrs_parse(s, &m))
		return;
	if (m == 0 || (m & ~(CF_S3_ATTR_ETAG | CF_S3_ATTR_CHECKSUM |
	    CF_S3_ATTR_PARTS | CF_S3_ATTR_CLASS | CF_S3_ATTR_SIZE)) != 0)
		abort();
	again[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((m & (1u << i)) != 0)
			len += (size_t)snprintf(again + len, sizeof(again) -
			    len, "%s%s", len > 0 ? "," : "", names[i]);
	if (!cf_s3_object_attrs_parse(again, &m2) || m2 != m)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, again[64];
	uint64_t	 a, b, a2, b2;
	int64_t		 us, us2;
	struct tm	 tm;
	time_t		 t;

	s = cf_malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cf_s3_copy_range_parse(s, &a, &b)) {
		if (a > b)
			abort();
		(void)snprintf(again, sizeof(again), "bytes=%llu-%llu",
		    (unsigned long long)a, (unsigned long long)b);
		if (!cf_s3_copy_range_parse(again, &a2, &b2) || a2 != a ||
		    b2 != b)
			abort();
	}
	if (cf_s3_http_date_parse(s, &us)) {
		if (us < 0 || us % 1000000 != 0)
			abort();
		t = (time_t)(us / 1000000);
		if (gmtime_r(&t, &tm) == NULL || strftime(again,
		    sizeof(again), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0 ||
		    !cf_s3_http_date_parse(again, &us2) || us2 != us)
			abort();
	}
	list_check(s, size);
	attrs_check(s);
	cf_free(s);
	return 0;
}
