/* src/core/ops_s3_policy.c: S3 bucket policies and ACL answers
 * (docs/s3.md, "Bucket policies" and "ACLs").
 *
 * A bucket policy is the namespace's policy set CF_S3_POLICY_NAME, in
 * the store and engine of ops_policy.c: the IAM JSON is compiled
 * (s3_policy.c), the Cedar is checked by ops_policy_check like any
 * namespace owner's set (validated, actions confined to the namespace's
 * data), stored as a version under the request's audit record, and
 * loaded.  The JSON rides on the text's first line, for GetBucketPolicy.
 * The same name through coffer policy set compiles the same way.
 *
 * SEC: who: policy:set, policy:get and policy:rm of the namespace, its
 * owner's.  The grant rule (a human second factor to hand out access)
 * holds for every change that can widen access: a new or changed Allow,
 * a Deny dropped.  A change that only takes access away (Deny statements
 * added, Allows dropped) grants nothing, and is what an S3 key (which
 * never carries MFA) may do on its own. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "core/core_int.h"
#include "core/s3_policy.h"

static void
res_of(char *out, size_t outsz, const char *ns)
{
	(void)snprintf(out, outsz, "ns/%s/policies/%s", ns,
	    CF_S3_POLICY_NAME);
}

static cf_err
principal_type(void *arg, const char *name, const char **type,
    struct cf_error *err)
{
	struct cf_core		*c = arg;
	struct cf_principal_rec	 p;
	cf_err			 rc;

	rc = cf_meta_principal_get(c->meta, name, &p, err);
	if (rc != CF_OK)
		return rc;
	*type = strcmp(core_principal_type(&p), "Service") == 0 ? "Service" :
	    "User";
	return CF_OK;
}

cf_err
core_s3_policy_compile(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *json, size_t len, struct cf_s3_policy **out,
    struct cf_error *err)
{
	cf_err	rc;

	if (ns == NULL) {
		r->errcode = "invalid_policy";
		return cf_error_set(err, CF_E_INPUT, "\"%s\" is a bucket's "
		    "policy: attach it to a namespace", CF_S3_POLICY_NAME);
	}
	rc = cf_s3_policy_compile(ns, json != NULL ? json : "",
	    json != NULL ? len : 0, principal_type, c, out, err);
	if (rc == CF_E_INPUT || rc == CF_E_LIMIT) {
		r->errcode = "malformed_policy";
		rc = CF_E_INPUT;
	}
	return rc;
}

/* The bucket policy in force on ns, compiled again from its JSON
 * (*old NULL: none).  *opaque true when there is one that no longer
 * compiles (a principal it names is gone): nothing can be said of a
 * change to it, so the caller treats it as widening. */
static cf_err
current(struct cf_core *c, const char *ns, struct cf_s3_policy **old,
    bool *opaque, int64_t *version, struct cf_error *err)
{
	struct cf_policy_rec	 rec;
	struct cf_error		 e2;
	char			*text = NULL, *json = NULL;
	cf_err			 rc;

	*old = NULL;
	*opaque = false;
	*version = 0;
	rc = cf_meta_policy_get(c->meta, CF_S3_POLICY_NAME, ns, 0, &rec,
	    &text, err);
	if (rc == CF_OK)
		*version = rec.version;
	if (rc == CF_E_NOTFOUND || (rc == CF_OK && rec.deleted)) {
		cf_error_clear(err);
		rc = CF_OK;
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	cf_error_clear(&e2);
	if (cf_s3_policy_stored_json(text, rec.text_len, &json, &e2) !=
	    CF_OK || cf_s3_policy_compile(ns, json, strlen(json),
	    principal_type, c, old, &e2) != CF_OK) {
		*opaque = true;
		if (e2.code == CF_E_NOMEM)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
out:
	cf_free(text);
	cf_free(json);
	return rc;
}

static cf_err
bucket_exists(struct cf_core *c, struct cf_req *r, const char *ns,
    struct cf_ns_rec *nsr, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_meta_ns_get(c->meta, ns, nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND, "no bucket \"%s\"", ns);
	}
	return rc;
}

/* The grant rule, unless going from old to new only takes access away. */
static cf_err
grant_unless_narrowing(struct cf_core *c, struct cf_req *r,
    const struct cf_s3_policy *old, bool opaque,
    const struct cf_s3_policy *new, struct cf_error *err)
{
	if (!opaque && cf_s3_policy_narrows(old, new))
		return CF_OK;
	return core_grant_check(c, r, err);
}

cf_err
cf_core_s3_policy_put(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *json, size_t len, struct cf_error *err)
{
	struct cf_s3_policy	*new = NULL, *old = NULL;
	struct cf_policy_rec	 rec;
	struct cf_ns_rec	 nsr;
	char			 res[CF_RESOURCE_MAX];
	bool			 opaque;
	int64_t			 ver = 0;
	cf_err			 rc;

	res_of(res, sizeof(res), ns);
	rc = core_authorize(c, r, "policy:set", ns, res, err);
	if (rc == CF_OK)
		rc = bucket_exists(c, r, ns, &nsr, err);
	if (rc == CF_OK)
		rc = core_s3_policy_compile(c, r, ns, json, len, &new, err);
	if (rc == CF_OK)
		rc = current(c, ns, &old, &opaque, &ver, err);
	if (rc == CF_OK)
		rc = grant_unless_narrowing(c, r, old, opaque, new, err);
	/* SEC: stored only over the version the narrowing was judged
	 * against. */
	if (rc == CF_OK)
		rc = core_policy_put_internal_at(c, r, ns, CF_S3_POLICY_NAME,
		    cf_s3_policy_cedar(new), 204, ver, &rec, err);
	cf_s3_policy_free(new);
	cf_s3_policy_free(old);
	return rc;
}

cf_err
cf_core_s3_policy_get(struct cf_core *c, struct cf_req *r, const char *ns,
    char **json, struct cf_error *err)
{
	struct cf_policy_rec	 rec;
	struct cf_ns_rec	 nsr;
	char			 res[CF_RESOURCE_MAX], *text = NULL;
	cf_err			 rc;

	res_of(res, sizeof(res), ns);
	rc = core_authorize(c, r, "policy:get", ns, res, err);
	if (rc == CF_OK)
		rc = bucket_exists(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_policy_get(c->meta, CF_S3_POLICY_NAME, ns, 0, &rec,
	    &text, err);
	if (rc == CF_OK && rec.deleted)
		rc = CF_E_NOTFOUND;
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_bucket_policy";
		rc = cf_error_set(err, CF_E_NOTFOUND, "the bucket policy does "
		    "not exist");
	}
	if (rc == CF_OK)
		rc = cf_s3_policy_stored_json(text, rec.text_len, json, err);
	if (rc == CF_E_INPUT) {
		/* SEC: the name is reserved: only this file writes it. */
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_INTERNAL, "the stored bucket "
		    "policy has no JSON line");
	}
	cf_free(text);
	return rc;
}

cf_err
cf_core_s3_policy_delete(struct cf_core *c, struct cf_req *r, const char *ns,
    struct cf_error *err)
{
	struct cf_s3_policy	*old = NULL;
	struct cf_policy_rec	 rec;
	struct cf_ns_rec	 nsr;
	char			 res[CF_RESOURCE_MAX];
	bool			 opaque = false;
	int64_t			 ver = 0;
	cf_err			 rc;

	res_of(res, sizeof(res), ns);
	rc = core_authorize(c, r, "policy:rm", ns, res, err);
	if (rc == CF_OK)
		rc = bucket_exists(c, r, ns, &nsr, err);
	if (rc == CF_OK)
		rc = current(c, ns, &old, &opaque, &ver, err);
	/* None in force: nothing to do, and 204 as on AWS. */
	if (rc == CF_OK && old == NULL && !opaque)
		return CF_OK;
	if (rc == CF_OK)
		rc = grant_unless_narrowing(c, r, old, opaque, NULL, err);
	if (rc == CF_OK)
		rc = core_policy_put_internal_at(c, r, ns, CF_S3_POLICY_NAME,
		    NULL, 204, ver, &rec, err);
	cf_s3_policy_free(old);
	return rc;
}

cf_err
cf_core_s3_acl(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *version_id, bool put,
    char owner[CF_PRINCIPAL_MAX], struct cf_error *err)
{
	struct cf_version_rec	 v;
	struct cf_ns_rec	 nsr;
	char			 res[CF_RESOURCE_MAX];
	const char		*action;
	cf_err			 rc;

	if (key != NULL && key[0] != '\0') {
		action = put ? "object:put" : "object:head";
		(void)snprintf(res, sizeof(res), "ns/%s/obj/%s", ns, key);
	} else {
		/* Restating the bucket's ACL is its access administration,
		 * though "private" changes nothing: the owner's. */
		action = put ? "policy:get" : "ns:get";
		(void)snprintf(res, sizeof(res), "ns/%s", ns);
		key = NULL;
	}
	rc = core_authorize(c, r, action, ns, res, err);
	if (rc == CF_OK)
		rc = bucket_exists(c, r, ns, &nsr, err);
	if (rc != CF_OK)
		return rc;
	if (key != NULL) {
		if (!cf_name_key_valid(key, strlen(key)))
			return cf_error_set(err, CF_E_INPUT, "invalid object "
			    "key");
		rc = cf_meta_version_get(c->meta, ns, key, version_id, &v,
		    err);
		if (rc == CF_OK && v.delete_marker && version_id == NULL)
			rc = CF_E_NOTFOUND;
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			r->errcode = version_id != NULL ? "no_such_version" :
			    "no_such_object";
			return cf_error_set(err, CF_E_NOTFOUND, "no such %s",
			    version_id != NULL ? "version" : "key");
		}
		if (rc != CF_OK)
			return rc;
	}
	cf_strlcpy(owner, nsr.created_by, CF_PRINCIPAL_MAX);
	return CF_OK;
}
