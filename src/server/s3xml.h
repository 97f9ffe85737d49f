/* src/server/s3xml.h: the XML request bodies of S3, parsed with expat
 * (bounded; no DTDs, so no entity expansion).  Pure: fuzzed by
 * fuzz/fuzz_s3xml.c. */
#ifndef CF_SERVER_S3XML_H
#define CF_SERVER_S3XML_H

#include <stddef.h>

#include "base/error.h"
#include "core/core.h"

#define CF_S3XML_MAX	(4u << 20)	/* bytes of a body */

/* A CompleteMultipartUpload body: <CompleteMultipartUpload> (with or
 * without the S3 namespace, or a prefix) holding <Part> elements of
 * <PartNumber> and <ETag> (quoted or not, "&#34;" too; other children,
 * such as <ChecksumCRC32>, ignored).  *out (cf_free) gets *n parts in
 * document order; at most max of them, else CF_E_LIMIT.  CF_E_INPUT for
 * anything malformed (err says what). */
cf_err	cf_s3xml_complete(const char *xml, size_t len, size_t max,
	    struct cf_mp_want **out, size_t *n, struct cf_error *err);

#endif
