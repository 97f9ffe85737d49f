/* src/server/s3_versioning.h: S3's bucket versioning, the pure parts
 * (docs/s3.md, "Versioning"): the PutBucketVersioning body, parsed with
 * expat as s3xml.c does, and the GetBucketVersioning answer.  s3.c
 * carries the requests through the reference monitor. */
#ifndef CF_SERVER_S3_VERSIONING_H
#define CF_SERVER_S3_VERSIONING_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

/* What a <VersioningConfiguration> asks (with or without the S3
 * namespace, or a prefix): status "enabled", "suspended" or "" (no
 * Status: no change); mfa_delete "Enabled", "Disabled" or "". */
struct cf_s3v_conf {
	char	status[16];
	char	mfa_delete[16];
};

/* CF_E_INPUT for a body that is not XML, has a DOCTYPE, another root, a
 * field twice or nested elements in a field (*why: S3's code
 * "MalformedXML"), or a Status or MfaDelete value S3 does not define
 * (*why: "IllegalVersioningConfigurationException"); err says what.
 * CF_E_NOMEM. */
cf_err	cf_s3v_parse(const char *xml, size_t len, struct cf_s3v_conf *out,
	    const char **why, struct cf_error *err);

/* The GetBucketVersioning answer for state ("unversioned": no Status,
 * as S3 says of a bucket never versioned), appended to b. */
cf_err	cf_s3v_answer(struct cf_buf *b, const char *state,
	    struct cf_error *err);

/* The version id S3 shows of a version (cf_version_rec's s3_null):
 * "null" for the null version, else vid. */
const char *cf_s3v_id(int s3_null, const char *vid);

/* The x-amz-version-id an answer about that version carries: none
 * (NULL) for the null version of a bucket never versioned (S3 sends
 * none there), else cf_s3v_id's. */
const char *cf_s3v_header(int s3_null, const char *vid);

#endif
