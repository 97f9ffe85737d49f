/* src/core/s3_policy.h: S3 bucket policies (IAM JSON) compiled into a
 * namespace's Cedar policy set (docs/s3.md, "Bucket policies").
 *
 * Pure: no I/O, no store.  The only outside knowledge, whether a named
 * principal is a user or a service account, comes through a callback.
 * Bounded: the JSON is at most CF_S3_POLICY_MAX bytes and nested at most
 * a few levels, so the Cedar text is linear in it.  Fuzzed by
 * fuzz/fuzz_s3_policy.c. */
#ifndef CF_CORE_S3_POLICY_H
#define CF_CORE_S3_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* AWS's limit for a bucket policy. */
#define CF_S3_POLICY_MAX	20480
/* The name of the namespace's policy set that holds the compiled text.
 * Reserved: coffer policy set under this name compiles IAM JSON. */
#define CF_S3_POLICY_NAME	"s3-bucket-policy"
/* The stored text's first line: this, then the canonical JSON. */
#define CF_S3_POLICY_MAGIC	"// s3-bucket-policy "

/* Is name a principal, and of which entity type?  *type is "User" or
 * "Service" (static); CF_E_NOTFOUND when there is none, any other error
 * fails the compilation. */
typedef cf_err (*cf_s3_principal_fn)(void *arg, const char *name,
    const char **type, struct cf_error *err);

struct cf_s3_policy;		/* opaque: a compiled bucket policy */

/* Compile the bucket policy json[0..len) of bucket into Cedar.  fn may
 * be NULL: names are then users unless written "coffer:service/NAME".
 * CF_E_INPUT (the message names the element: "Statement[1].NotAction:
 * ...") for what does not map, CF_E_LIMIT over CF_S3_POLICY_MAX, errors
 * of fn as they are.  On success *out is the caller's
 * (cf_s3_policy_free). */
cf_err	cf_s3_policy_compile(const char *bucket, const void *json,
	    size_t len, cf_s3_principal_fn fn, void *arg,
	    struct cf_s3_policy **out, struct cf_error *err);
void	cf_s3_policy_free(struct cf_s3_policy *p);	/* NULL: no-op */

/* The policy set text to store (the canonical JSON on its first line,
 * then one Cedar policy per statement and kind of resource); borrowed
 * from p. */
const char *cf_s3_policy_cedar(const struct cf_s3_policy *p);
/* The canonical JSON (compact, keys as given, ASCII); borrowed. */
const char *cf_s3_policy_json(const struct cf_s3_policy *p);
/* Does p contain a permit? */
bool	cf_s3_policy_permits(const struct cf_s3_policy *p);

/* Can going from old (NULL: none) to new (NULL: removed) only take
 * access away?  True when every permit of new is one of old's and every
 * forbid of old is one of new's (the same Cedar text). */
bool	cf_s3_policy_narrows(const struct cf_s3_policy *old,
	    const struct cf_s3_policy *new);

/* The JSON on a stored text's first line, into a new string (cf_free).
 * CF_E_INPUT when text is not a compiled bucket policy. */
cf_err	cf_s3_policy_stored_json(const char *text, size_t len, char **json,
	    struct cf_error *err);

#endif
