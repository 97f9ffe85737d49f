/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_http_request.c: the request parsing of the HTTP front end:
 * URL unescaping, query argument counting, route matching (under every
 * method the table has, and one it has not), the UTF-8 sanitizing of
 * what error messages quote and of a User-Agent, the X-Coffer-Purpose
 * check, and Range headers, on arbitrary bytes.
 * Input: URL bytes, then a NUL, then a Range header value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "server/http_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Match url under each method: a match lies inside the path, its
 * captures are within their bounds, and the same path under another
 * method matches the same pattern or none. */
static void
check_routes(const char *url, size_t len)
{
	static const char *const methods[] = { "GET", "HEAD", "PUT", "POST",
	    "DELETE", "PATCH", "BREW" };
	const struct cf_route	*tab;
	struct cf_route_match	 m;
	const char		*pattern = NULL;
	size_t			 n, i, j;
	bool			 known = false;

	tab = cf_http_routes(&n);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		cf_route_match(tab, n, methods[i], url, &m);
		if (i > 0 && m.path_known != known)
			abort();	/* the path decides, not the method */
		known = m.path_known;
		if (m.route == NULL) {
			if (m.ncap != 0)
				abort();
			continue;
		}
		if (!m.path_known || strcmp(m.route->method, methods[i]) != 0)
			abort();
		if (pattern != NULL && strcmp(pattern, m.route->pattern) != 0)
			abort();	/* patterns are disjoint */
		pattern = m.route->pattern;
		for (j = 0; j < m.ncap; j++) {
			if (m.cap[j].off + m.cap[j].len > len)
				abort();
			if (strcmp(m.cap[j].name, "key...") == 0) {
				if (m.cap[j].off + m.cap[j].len != len)
					abort();	/* the rest */
				continue;
			}
			if (m.cap[j].len == 0 || memchr(url + m.cap[j].off,
			    '/', m.cap[j].len) != NULL)
				abort();	/* one whole segment */
			if (strcmp(m.cap[j].name, "ns") == 0 &&
			    m.cap[j].len >= CF_NS_NAME_MAX)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*url;
	const uint8_t	*nul;
	size_t		 ulen, n, i;
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
	check_routes(url, strlen(url));
	/* The same bytes as a User-Agent: printable UTF-8, cut to size. */
	n = cf_http_header_text(url, safe, CF_USER_AGENT_MAX + 1);
	if (n > CF_USER_AGENT_MAX || strlen(safe) != n ||
	    !cf_utf8_valid(safe, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)safe[i] < 0x20 || safe[i] == 0x7f)
			abort();
	/* ... and as an X-Coffer-Purpose. */
	n = strlen(url);
	if (cf_http_purpose_ok(url) && (n == 0 || n > CF_PURPOSE_MAX ||
	    strspn(url, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") != n))
		abort();
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
