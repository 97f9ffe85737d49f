/* src/core/ops_versioning.c: S3's versioning state of a namespace
 * (PutBucketVersioning), decided as ns:set-versioning and audited.
 *
 * The state is how S3 clients see a namespace's versions (real ids, or
 * the "null" version of unversioned and suspended buckets); it never
 * changes which versions exist (docs/s3.md, "Versioning"). */
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "core/core_int.h"

cf_err
cf_core_ns_set_versioning(struct cf_core *c, struct cf_req *r,
    const char *name, const char *state, json_t **out, struct cf_error *err)
{
	struct core_act	act;
	char		res[CF_RESOURCE_MAX];
	cf_err		rc;

	(void)snprintf(res, sizeof(res), "ns/%s", name);
	rc = core_authorize(c, r, "ns:set-versioning", name, res, err);
	if (rc != CF_OK)
		return rc;
	if (state == NULL || (strcmp(state, "enabled") != 0 &&
	    strcmp(state, "suspended") != 0))
		return cf_error_set(err, CF_E_INPUT, "versioning must be "
		    "Enabled or Suspended (a bucket never goes back to "
		    "unversioned)");
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_ns_set_versioning(c->meta, &act.au, name, state,
		    err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    name);
	}
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:s}", "name", name, "versioning", state);
	return *out == NULL ? cf_error_set(err, CF_E_NOMEM, "out of memory") :
	    CF_OK;
}
