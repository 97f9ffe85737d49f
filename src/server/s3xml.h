/* src/server/s3xml.h: the XML request bodies of S3, parsed with expat
 * (bounded; no DTDs, so no entity expansion).  Pure: fuzzed by
 * fuzz/fuzz_s3xml.c. */
#ifndef CF_SERVER_S3XML_H
#define CF_SERVER_S3XML_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "core/core.h"

#define CF_S3XML_MAX	(4u << 20)	/* bytes of a body */

/* A CompleteMultipartUpload body: <CompleteMultipartUpload> (with or
 * without the S3 namespace, or a prefix) holding <Part> elements of
 * <PartNumber> and <ETag> (quoted or not, "&#34;" too), optionally one
 * <ChecksumCRC32>, <ChecksumCRC32C>, <ChecksumCRC64NVME>, <ChecksumSHA1>
 * or <ChecksumSHA256> (cf_mp_want.checksum; other children ignored).
 * *out (cf_free) gets *n parts in document order; at most max of them,
 * else CF_E_LIMIT.  CF_E_INPUT for anything malformed (err says what). */
cf_err	cf_s3xml_complete(const char *xml, size_t len, size_t max,
	    struct cf_mp_want **out, size_t *n, struct cf_error *err);

/* A DeleteObjects body: <Delete> (namespace or not) holding <Object>
 * elements of <Key> (taken as is, blanks included: 1 to 1024 bytes) and
 * an optional <VersionId>, and an optional <Quiet>true|false</Quiet>.
 * At least one and at most max objects (else CF_E_LIMIT); CF_E_INPUT
 * for anything malformed.  *out is freed with cf_s3xml_delete_free. */
struct cf_s3xml_obj {
	char	*key;
	char	 version_id[64];	/* "": none */
};
struct cf_s3xml_delete {
	struct cf_s3xml_obj	*objs;
	size_t			 n;
	bool			 quiet;
};
cf_err	cf_s3xml_delete(const char *xml, size_t len, size_t max,
	    struct cf_s3xml_delete *out, struct cf_error *err);
void	cf_s3xml_delete_free(struct cf_s3xml_delete *d);

#endif
