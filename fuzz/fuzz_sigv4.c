/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_sigv4.c: the S3 front end's SigV4 parsing and
 * canonicalisation (server/sigv4.c) on arbitrary bytes: an Authorization
 * header, a raw query (also read as a presigned one) and a raw path.
 * Input: header bytes, NUL, query bytes, NUL, path bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "server/sigv4.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cf_sigv4_header h[] = {
		{ "Host", "h" }, { "x-amz-date", " a  b " },
		{ "X-Amz-Date", "c" }, { "range", "" },
	};
	struct cf_sigv4_auth	a;
	struct cf_sigv4_query	q;
	struct cf_buf		cr, sts;
	char			*s, *query = "", *path = "/";
	char			*nul;
	bool			found;

	s = cf_malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	nul = memchr(s, '\0', size);
	if (nul != NULL && nul < s + size) {
		query = nul + 1;
		nul = memchr(query, '\0', (size_t)(s + size - query));
		if (nul != NULL && nul < s + size)
			path = nul + 1;
	}
	cf_buf_init(&cr, 1 << 20);
	cf_buf_init(&sts, 4096);
	if (cf_sigv4_query_parse(query, &q, NULL) == CF_OK) {
		if (q.n > CF_SIGV4_QUERY_MAX)
			abort();
		if (cf_sigv4_parse_header(s, &a, NULL) == CF_OK ||
		    (cf_sigv4_parse_query(&q, &a, &found, NULL) == CF_OK &&
		    found)) {
			if (strlen(a.signature) != 64)
				abort();
			if (cf_sigv4_canonical("GET", path, &q, h,
			    sizeof(h) / sizeof(h[0]), &a, "UNSIGNED-PAYLOAD",
			    &cr, NULL) == CF_OK &&
			    cf_sigv4_string_to_sign(&a, cr.data, cr.len,
			    &sts, NULL) != CF_OK)
				abort();
		}
		cf_sigv4_query_free(&q);
	}
	cf_buf_free(&cr);
	cf_buf_free(&sts);
	cf_free(s);
	return 0;
}
