/* src/core/precond.c: the conditions of a conditional request on a
 * version (core.h, cf_core_precond): If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since of S3's GetObject and
 * HeadObject, and the x-amz-copy-source-if-* of CopyObject and
 * UploadPartCopy.  One evaluator for all of them, so a GET and a copy of
 * the same version never disagree on what a condition means.  Pure: no
 * I/O, no decision (the caller's decision is taken before). */
#include <string.h>

#include "base/str.h"
#include "core/core_int.h"

/* Is etag (unquoted) in list, a "*" or comma-separated ETags, each
 * quoted or not, weak or not? */
static bool
etag_listed(const char *list, const char *etag)
{
	const char	*p = list, *t;
	size_t		 n, elen = strlen(etag);

	while (cf_http_list_next(&p, &t, &n)) {
		if (n >= 2 && strncmp(t, "W/", 2) == 0) {
			t += 2;
			n -= 2;
		}
		if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
			t++;
			n -= 2;
		}
		if (n == 1 && t[0] == '*')
			return true;
		if (n > 0 && n == elen && strncmp(t, etag, n) == 0)
			return true;
	}
	return false;
}

/* RFC 9110, 13.2.2, in its order, which is also S3's precedence: an
 * If-Match that holds makes If-Unmodified-Since irrelevant (S3: 200 with
 * a failing If-Unmodified-Since), an If-None-Match present makes
 * If-Modified-Since irrelevant (S3: 304 with a holding
 * If-Modified-Since), and a 412 wins over a 304.  Last-Modified has
 * whole seconds (the HTTP date), so the version's time is compared in
 * whole seconds too: a client that sends back the Last-Modified it got
 * is "not modified since". */
enum cf_precond
cf_core_precond(const struct cf_cond *cd, const struct cf_object_view *v)
{
	const char	*etag = v->md5[0] != '\0' ? v->md5 : v->sha256;
	int64_t		 t = v->created_us / 1000000;

	if (cd->if_match != NULL) {
		if (!etag_listed(cd->if_match, etag))
			return CF_PRECOND_FAILED;
	} else if (cd->if_unmodified_since_us >= 0 &&
	    t > cd->if_unmodified_since_us / 1000000)
		return CF_PRECOND_FAILED;
	if (cd->if_none_match != NULL) {
		if (etag_listed(cd->if_none_match, etag))
			return CF_PRECOND_NOT_MODIFIED;
	} else if (cd->if_modified_since_us >= 0 &&
	    t <= cd->if_modified_since_us / 1000000)
		return CF_PRECOND_NOT_MODIFIED;
	return CF_PRECOND_HOLDS;
}
