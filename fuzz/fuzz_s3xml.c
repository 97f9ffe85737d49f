/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_s3xml.c: S3's CompleteMultipartUpload, DeleteObjects and
 * PutBucketVersioning body parsers (server/s3xml.c, s3_versioning.c,
 * expat) on arbitrary bytes.  Oracles: at most the parts (objects)
 * asked for; every part has a number in range and a non-empty,
 * NUL-terminated ETag without its quotes; every object a key of 1 to
 * 1024 bytes; a versioning status is "", "enabled" or "suspended". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "server/s3_versioning.h"
#include "server/s3xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_mp_want	*w = NULL;
	struct cf_s3xml_delete	 d;
	struct cf_s3v_conf	 vc;
	const char		*why = NULL;
	size_t			 n = 0, i;

	if (cf_s3v_parse((const char *)data, size, &vc, &why, NULL) ==
	    CF_OK && strcmp(vc.status, "") != 0 &&
	    strcmp(vc.status, "enabled") != 0 &&
	    strcmp(vc.status, "suspended") != 0)
		abort();
	if (why == NULL)
		abort();

	if (cf_s3xml_delete((const char *)data, size, 64, &d, NULL) ==
	    CF_OK) {
		if (d.n == 0 || d.n > 64)
			abort();
		for (i = 0; i < d.n; i++)
			if (d.objs[i].key == NULL || d.objs[i].key[0] ==
			    '\0' || strlen(d.objs[i].key) > 1024)
				abort();
		cf_s3xml_delete_free(&d);
	}
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
