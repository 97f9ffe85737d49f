/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_http_request.c: the request parsing of the HTTP front end:
 * URL unescaping, query argument counting, route resolution, the UTF-8
 * sanitizing of what error messages quote, and Range headers, on
 * arbitrary bytes.
 * Input: URL bytes, then a NUL, then a Range header value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "server/http_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*url, *ns = NULL, *rest = NULL;
	const uint8_t	*nul;
	size_t		 ulen, restlen = 0, n;
	uint64_t	 first = 0, last = 0, objsize;
	char		 range[256], safe[512];
	int		 r;

	nul = memchr(data, 0, size);
	ulen = nul != NULL ? (size_t)(nul - data) : size;
	url = malloc(ulen + 1);
	if (url == NULL)
		return 0;
	memcpy(url, data, ulen);
	url[ulen] = '\0';
	if (cf_http_query_args(url) > ulen)
		abort();
	n = cf_http_unescape(url);
	if (n > ulen || strlen(url) != n)
		abort();	/* never grows, never embeds a NUL */
	/* What an error message may quote: always valid UTF-8. */
	n = cf_http_text_safe(url, safe, sizeof(safe));
	if (n >= sizeof(safe) || strlen(safe) != n ||
	    !cf_utf8_valid(safe, n))
		abort();
	(void)cf_http_resolve(url, &ns, &rest, &restlen);
	if (rest != NULL && strlen(rest) > restlen)
		abort();
	cf_free(ns);
	cf_free(rest);
	free(url);
	if (nul != NULL) {
		n = size - ulen - 1;
		if (n >= sizeof(range))
			n = sizeof(range) - 1;
		memcpy(range, nul + 1, n);
		range[n] = '\0';
		objsize = n > 0 ? (uint64_t)(uint8_t)range[0] * 977 : 0;
		r = cf_http_parse_range(range, objsize, &first, &last);
		if (r == 1 && (first > last || last >= objsize))
			abort();	/* a served range lies inside
					 * the object */
	}
	return 0;
}
