/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_s3_policy.c: the bucket policy compiler (core/s3_policy.c,
 * IAM JSON to Cedar) and the Put*Acl body parser (server/s3acl.c) on
 * arbitrary bytes.  Oracles: a policy that compiles yields Cedar that
 * parses and validates against Coffer's schema (so no stored bucket
 * policy can error at evaluation for want of a type); its stored text
 * gives back its JSON, which compiles again to the same text; a change
 * to itself only narrows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "core/core.h"
#include "core/s3_policy.h"
#include "policy/policy.h"
#include "server/s3acl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cf_schema	*schema;

/* Names from a to m are users, others services; "nobody" is none. */
static cf_err
lookup(void *arg, const char *name, const char **type, struct cf_error *err)
{
	(void)arg;
	if (strcmp(name, "nobody") == 0)
		return cf_error_set(err, CF_E_NOTFOUND, "no such principal");
	*type = name[0] >= 'a' && name[0] <= 'm' ? "User" : "Service";
	return CF_OK;
}

static void
check(const struct cf_s3_policy *p)
{
	struct cf_s3_policy	*again = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_validation	*v = NULL;
	const char		*t = cf_s3_policy_cedar(p);
	char			*j = NULL;

	if (cf_policy_set_parse(t, strlen(t), &ps, NULL) != CF_OK)
		abort();
	if (schema != NULL) {
		if (cf_validation_new(&v, NULL) != CF_OK)
			abort();
		if (cf_policy_validate(schema, ps, v, NULL) == CF_OK &&
		    !cf_validation_ok(v))
			abort();
		cf_validation_free(v);
	}
	cf_policy_set_free(ps);
	if (cf_s3_policy_stored_json(t, strlen(t), &j, NULL) != CF_OK ||
	    strcmp(j, cf_s3_policy_json(p)) != 0)
		abort();
	if (cf_s3_policy_compile("data", j, strlen(j), lookup, NULL, &again,
	    NULL) != CF_OK || strcmp(cf_s3_policy_cedar(again), t) != 0)
		abort();
	if (!cf_s3_policy_narrows(p, again) || !cf_s3_policy_narrows(again,
	    p))
		abort();
	cf_s3_policy_free(again);
	cf_free(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_s3_policy	*p = NULL;
	struct cf_buf		 sb;
	bool			 only;

	if (schema == NULL) {
		cf_buf_init(&sb, 1 << 22);
		if (cf_core_policy_schema(&sb, NULL) != CF_OK ||
		    cf_schema_parse(sb.data, sb.len, &schema, NULL) != CF_OK)
			abort();
		cf_buf_free(&sb);
	}
	if (cf_s3_policy_compile("data", data, size, lookup, NULL, &p,
	    NULL) == CF_OK) {
		check(p);
		cf_s3_policy_free(p);
	}
	(void)cf_s3acl_owner_only((const char *)data, size, "admin", &only,
	    NULL);
	return 0;
}
