/* src/server/s3acl.h: the AccessControlPolicy body of PutBucketAcl and
 * PutObjectAcl, parsed with expat (bounded; no DTDs), only to tell
 * whether it states the one ACL Coffer has: the owner's FULL_CONTROL.
 * Pure: fuzzed by fuzz/fuzz_s3_policy.c. */
#ifndef CF_SERVER_S3ACL_H
#define CF_SERVER_S3ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define CF_S3ACL_MAX	(64u * 1024)	/* bytes of a body */

/* xml[0..len): an <AccessControlPolicy> (namespace or not).  *owner_only
 * is true when its Owner (if given) is owner and every Grant gives
 * FULL_CONTROL to the CanonicalUser owner (no grant at all: also true).
 * CF_E_INPUT for anything malformed (err says what), CF_E_LIMIT over
 * CF_S3ACL_MAX or too many grants. */
cf_err	cf_s3acl_owner_only(const char *xml, size_t len, const char *owner,
	    bool *owner_only, struct cf_error *err);

#endif
