/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_s3xml.c: S3's CompleteMultipartUpload body parser
 * (server/s3xml.c, expat) on arbitrary bytes.  Oracles: at most the
 * parts asked for; every part has a number in range and a non-empty,
 * NUL-terminated ETag without its quotes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "server/s3xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_mp_want	*w = NULL;
	size_t			 n = 0, i;

	if (cf_s3xml_complete((const char *)data, size, 64, &w, &n, NULL) !=
	    CF_OK)
		return 0;
	if (n > 64)
		abort();
	for (i = 0; i < n; i++) {
		size_t l = strnlen(w[i].etag, sizeof(w[i].etag));

		if (w[i].number < 1 || w[i].number > 1000000 || l == 0 ||
		    l >= sizeof(w[i].etag))
			abort();
	}
	cf_free(w);
	return 0;
}
