/* src/core/ops_policy.c: custom policy sets stored on the server
 * (policy:set, policy:get, policy:rm; docs/policy.md, "Managing policies
 * on the server").
 *
 * A change is authorized (admin for a global set, the namespace's owner
 * for one attached to a namespace, and MFA either way: the grant rule),
 * validated (ops_policy_check) before anything is stored, appended as a
 * new version in one transaction whose audit record carries the digests
 * of the text replaced and of the new one, and then loaded into the
 * authorization engine (core_authz_reload) without a restart.
 *
 * SEC: a namespace owner's policies are only ever evaluated for
 * requests on that namespace, and may name only that namespace's
 * actions: an action scope left open, or an action about anything else
 * (users, tokens, other namespaces, the policies or bindings themselves),
 * is refused.  So no policy text lets an owner reach beyond the
 * namespace, nor hand its administration to someone else. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/actions.h"
#include "core/core_int.h"
#include "core/s3_policy.h"
#include "policy/policy.h"

#define DIGEST_STR_LEN	(7 + CF_SHA256_HEX_LEN + 1)	/* "sha256:" hex */

/* A decision evaluates the global sets and one namespace's. */
_Static_assert(CF_POLICY_GLOBAL_SETS_MAX + CF_POLICY_NS_SETS_MAX <=
    CORE_AUTHZ_MAX_PARTS, "more stored policy sets than a decision takes");

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* ns "" means global: NULL from here on. */
static const char *
scope_of(const char *ns)
{
	return ns != NULL && *ns != '\0' ? ns : NULL;
}

static void
policy_resource(char *out, size_t outsz, const char *ns, const char *name)
{
	if (ns != NULL && name != NULL)
		(void)snprintf(out, outsz, "ns/%s/policies/%s", ns, name);
	else if (ns != NULL)
		(void)snprintf(out, outsz, "ns/%s/policies", ns);
	else if (name != NULL)
		(void)snprintf(out, outsz, "policies/%s", name);
	else
		(void)snprintf(out, outsz, "policies");
}

/* policy:get on a global set needs admin, on a namespace's its owner;
 * policy:set and policy:rm need MFA on top (grant). */
static cf_err
policy_authorize(struct cf_core *c, struct cf_req *r, const char *action,
    const char *name, const char *ns, bool grant, struct cf_error *err)
{
	char	res[CF_RESOURCE_MAX];
	cf_err	rc;

	policy_resource(res, sizeof(res), ns, name);
	rc = core_authorize(c, r, action, ns, res, err);
	/* SEC: a policy can hand out access (a permit) or take it away
	 * from anyone (a forbid, or removing one), so changing one is
	 * granting: no credential without a human second factor. */
	if (rc == CF_OK && grant)
		rc = core_grant_check(c, r, err);
	return rc;
}

static cf_err
check_name(struct cf_req *r, const char *name, struct cf_error *err)
{
	if (cf_name_policy_valid(name))
		return CF_OK;
	r->errcode = "invalid_name";
	return cf_error_set(err, CF_E_INPUT, "invalid policy name (1-63 of "
	    "a-z 0-9 . _ -, starting with a letter or digit)");
}

/* The store's CF_E_NOTFOUND as the API's: the namespace or the set. */
static cf_err
not_found(struct cf_core *c, struct cf_req *r, const char *name,
    const char *ns, struct cf_error *err)
{
	struct cf_ns_rec	nsr;

	cf_error_clear(err);
	if (ns != NULL && cf_meta_ns_get(c->meta, ns, &nsr, NULL) ==
	    CF_E_NOTFOUND) {
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    ns);
	}
	r->errcode = "no_such_policy";
	if (ns != NULL)
		return cf_error_set(err, CF_E_NOTFOUND, "no policy set \"%s\" "
		    "in namespace \"%s\"", name, ns);
	return cf_error_set(err, CF_E_NOTFOUND, "no global policy set "
	    "\"%s\"", name);
}

static void
digest_str(const struct cf_policy_rec *p, char out[DIGEST_STR_LEN])
{
	if (p == NULL || p->deleted)
		cf_strlcpy(out, "none", DIGEST_STR_LEN);
	else
		(void)snprintf(out, DIGEST_STR_LEN, "sha256:%s", p->sha256);
}

static json_t *
policy_json(const struct cf_policy_rec *p, bool with_deleted)
{
	char	d[DIGEST_STR_LEN];
	json_t	*j;

	digest_str(p, d);
	j = json_pack("{s:s,s:s?,s:I,s:s?,s:I,s:o,s:s}", "name", p->name,
	    "ns", p->ns[0] != '\0' ? p->ns : NULL, "version",
	    (json_int_t)p->version, "digest", p->deleted ? NULL : d, "size",
	    (json_int_t)p->text_len, "created", core_time_json(p->created_us),
	    "created_by", p->created_by);
	if (j != NULL && with_deleted &&
	    json_object_set_new(j, "deleted", json_boolean(p->deleted)) != 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The audit record of a change says which text it replaced with which:
 * "sha256:OLD->sha256:NEW" ("none" for no text), after the decision's
 * reasons.  The digests are what matter, so the reasons give way when
 * both do not fit. */
static void
note_change(struct cf_req *r, const struct cf_policy_rec *old,
    const struct cf_policy_rec *new)
{
	char	a[DIGEST_STR_LEN], b[DIGEST_STR_LEN];
	char	change[2 * DIGEST_STR_LEN + 4], why[CF_REASONS_MAX];
	size_t	room, n;

	digest_str(old, a);
	digest_str(new, b);
	(void)snprintf(change, sizeof(change), "%s->%s", a, b);
	cf_strlcpy(why, r->reasons, sizeof(why));
	room = sizeof(r->reasons) - strlen(change) - 1;
	if (strlen(why) >= room)
		why[room > 0 ? room - 1 : 0] = '\0';
	/* why, ",", change: fits by the cut above. */
	n = strlen(why);
	memcpy(r->reasons, why, n);
	if (n > 0)
		r->reasons[n++] = ',';
	cf_strlcpy(r->reasons + n, change, sizeof(r->reasons) - n);
}

/* --- validation --- */

struct ns_check {
	const char	**errcode;
	struct cf_error	*err;
};

/* SEC: the actions a namespace owner's policy may name: those decided
 * on one namespace, less the administration of access itself (bindings,
 * policies), which stays with the owner role. */
static bool
ns_action_allowed(const char *name)
{
	const struct cf_action_def	*def = cf_action_find(name);

	return def != NULL && (def->flags & CF_ACT_NS) != 0 &&
	    (def->flags & CF_ACT_RECORD) == 0 &&
	    def->role != CF_ROLE_NONE && def->role < CF_ROLE_ADMIN &&
	    !cf_str_has_prefix(name, "policy:") &&
	    !cf_str_has_prefix(name, "binding:");
}

static cf_err
ns_check_action(void *arg, const struct cf_policy_action_ref *a,
    struct cf_error *err)
{
	struct ns_check	*x = arg;
	const char	*pid = a->policy_id;
	char		 id[64];

	(void)err;
	*x->errcode = "invalid_policy";
	if (a->any)
		return cf_error_set(x->err, CF_E_INPUT, "policy \"%.64s\": a "
		    "namespace's policy must name its actions (action == "
		    "Action::\"object:get\", action in [...]): an open action "
		    "scope would be about every action", pid);
	if (a->ilen >= sizeof(id) || memchr(a->id, '\0', a->ilen) != NULL) {
		cf_strlcpy(id, "?", sizeof(id));
	} else {
		memcpy(id, a->id, a->ilen);
		id[a->ilen] = '\0';
	}
	if (ns_action_allowed(id)) {
		*x->errcode = NULL;
		return CF_OK;
	}
	return cf_error_set(x->err, CF_E_INPUT, "policy \"%.64s\" names action "
	    "\"%s\", which a namespace's policy may not name (only its ns:get, "
	    "ns:list and object:* actions)", pid, id);
}

/* Is text[0..len) a policy set that may be stored for ns (NULL:
 * global)?  Every check that a policy set must pass before it is stored
 * goes here (the posture check runs it again on the stored sets).
 * CF_E_INPUT with *errcode "invalid_policy" otherwise. */
static cf_err
ops_policy_check(struct cf_core *c, const char **errcode, const char *ns,
    const char *text, size_t len, struct cf_error *err)
{
	struct cf_policy_set	*ps = NULL;
	struct ns_check		 x;
	cf_err			 rc;

	*errcode = "invalid_policy";
	if (memchr(text, '\0', len) != NULL || !cf_utf8_valid(text, len)) {
		rc = cf_error_set(err, CF_E_INPUT, "policy text must be UTF-8 "
		    "without NUL bytes");
		goto out;
	}
	rc = cf_policy_set_parse(text, len, &ps, err);
	if (rc == CF_E_INPUT || rc == CF_E_LIMIT) {
		/* "line:col: message" (nesting too deep is a limit of
		 * the parser, still the text's fault). */
		rc = CF_E_INPUT;
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if (ns != NULL) {
		x.errcode = errcode;
		x.err = err;
		rc = cf_policy_set_actions(ps, ns_check_action, &x, err);
		if (rc != CF_OK)
			goto out;
	}
	rc = core_authz_validate(c, ps, err);
	if (rc != CF_OK)
		goto out;
	*errcode = NULL;
out:
	if (rc != CF_OK && rc != CF_E_INPUT)
		*errcode = NULL;
	cf_policy_set_free(ps);
	return rc;
}

cf_err
core_policy_recheck(struct cf_core *c, const char *ns, const char *text,
    size_t len, struct cf_error *err)
{
	const char	*errcode = NULL;

	return ops_policy_check(c, &errcode, ns != NULL && ns[0] != '\0' ?
	    ns : NULL, text, len, err);
}

/* --- operations --- */

/* After a committed change: the engine loads the sets in force.  SEC:
 * fail closed: a failed reload leaves the previous sets deciding (and
 * the change stored, for the next reload or restart); the caller is
 * told with 503, and the answer gets a record of its own (the change's
 * record said the change was made, which it was). */
cf_err
core_authz_reload_after(struct cf_core *c, struct cf_req *r,
    struct cf_error *err)
{
	char	esc[4 * CF_ERROR_MSG_LEN];	/* cf_log_escape: 4 per byte */
	cf_err	rc;

	rc = core_authz_reload(c, err);
	if (rc == CF_OK)
		return CF_OK;
	cf_log_escape(err != NULL ? err->msg : "", esc, sizeof(esc));
	log_warnx("event=policy_reload_failed request=%s msg=\"%s\"",
	    r->request_id, esc);
	cf_error_clear(err);
	r->audited = false;
	r->errcode = "policy_reload_failed";
	return cf_error_set(err, CF_E_IO, "the policy change is stored, but "
	    "loading it failed: the server decides with the previous policy "
	    "sets until a later change or a restart loads it (see the server "
	    "log)");
}

static cf_err
policy_set(struct cf_core *c, struct cf_req *r, const char *name,
    const char *ns, const char *text, size_t len, struct cf_s3_policy **s3p,
    bool *created, json_t **out, struct cf_error *err)
{
	struct cf_policy_rec	 cur, rec, put;
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	uint8_t			 d[CF_SHA256_LEN];
	bool			 have = false;
	cf_err			 rc;

	*created = false;
	ns = scope_of(ns);
	rc = policy_authorize(c, r, "policy:set", name, ns, true, err);
	if (rc == CF_OK)
		rc = check_name(r, name, err);
	/* SEC: the share grants' names (ops_share.c) are reserved, so that
	 * no set written here is listed or revoked as one (policy get and
	 * rm still reach them: they are the namespace's sets). */
	if (rc == CF_OK && cf_str_has_prefix(name, CORE_SHARE_GRANT_PREFIX)) {
		r->errcode = "invalid_name";
		rc = cf_error_set(err, CF_E_INPUT, "policy names starting "
		    "with \"" CORE_SHARE_GRANT_PREFIX "\" are coffer share "
		    "grant's");
	}
	/* The bucket policy's name is reserved too: its text is IAM JSON,
	 * compiled as PutBucketPolicy compiles it (ops_s3_policy.c), so
	 * that GetBucketPolicy always finds its JSON line.  This is the
	 * way, with MFA, to a bucket policy that grants. */
	if (rc == CF_OK && strcmp(name, CF_S3_POLICY_NAME) == 0) {
		rc = core_s3_policy_compile(c, r, ns, text, len, s3p, err);
		if (rc == CF_OK) {
			text = cf_s3_policy_cedar(*s3p);
			len = strlen(text);
		}
	}
	if (rc != CF_OK)
		return rc;
	if (text == NULL)
		text = "";
	if (len > CF_POLICY_TEXT_MAX) {
		r->errcode = "too_large";
		return cf_error_set(err, CF_E_LIMIT, "policy text is %zu "
		    "bytes, limit is %u", len, CF_POLICY_TEXT_MAX);
	}
	rc = ops_policy_check(c, &r->errcode, ns, text, len, err);
	if (rc != CF_OK)
		return rc;
	if (ns != NULL) {
		rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
		if (rc == CF_E_NOTFOUND)
			return not_found(c, r, name, ns, err);
		if (rc != CF_OK)
			return rc;
	}
	rc = cf_meta_policy_get(c->meta, name, ns != NULL ? ns : "", 0, &cur,
	    NULL, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	} else if (rc == CF_OK)
		have = true;
	if (rc != CF_OK)
		return rc;

	memset(&put, 0, sizeof(put));
	cf_strlcpy(put.name, name, sizeof(put.name));
	cf_strlcpy(put.ns, ns != NULL ? ns : "", sizeof(put.ns));
	cf_strlcpy(put.created_by, r->principal.name, sizeof(put.created_by));
	put.created_us = core_now_us(c);
	put.text_len = len;
	cf_sha256(text, len, d);
	cf_hex_encode(d, sizeof(d), put.sha256);
	if (have && !cur.deleted && strcmp(cur.sha256, put.sha256) == 0) {
		/* The same text again: nothing to store or load. */
		note_change(r, &cur, &cur);
		*out = policy_json(&cur, false);
		if (*out != NULL && json_object_set_new(*out, "unchanged",
		    json_true()) != 0) {
			json_decref(*out);
			*out = NULL;
		}
		return *out == NULL ? nomem(err) : CF_OK;
	}
	note_change(r, have ? &cur : NULL, &put);
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_policy_put(c->meta, &act.au, &put, text, len,
		    have ? cur.version : 0, &rec, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT)
		r->errcode = "policy_changed";
	if (rc == CF_E_LIMIT) {
		/* Text sizes were checked above: the count of sets. */
		r->errcode = "too_many_policies";
		rc = CF_E_INPUT;
	}
	if (rc == CF_E_NOTFOUND)
		return not_found(c, r, name, ns, err);
	if (rc != CF_OK)
		return rc;
	*created = true;
	rc = core_authz_reload_after(c, r, err);
	if (rc != CF_OK)
		return rc;
	*out = policy_json(&rec, false);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_policy_set(struct cf_core *c, struct cf_req *r, const char *name,
    const char *ns, const char *text, size_t len, bool *created,
    json_t **out, struct cf_error *err)
{
	struct cf_s3_policy	*s3p = NULL;
	cf_err			 rc;

	rc = policy_set(c, r, name, ns, text, len, &s3p, created, out, err);
	cf_s3_policy_free(s3p);
	return rc;
}

struct list_ctx {
	struct cf_core	*c;
	struct cf_req	*r;
	json_t		*arr;
	bool		 filter;
};

static cf_err
list_cb(void *arg, const struct cf_policy_rec *p, struct cf_error *err)
{
	struct list_ctx	*x = arg;

	/* Unfiltered (one scope, authorized as a whole), or only the sets
	 * the caller may manage. */
	if (x->filter && !core_can(x->c, x->r, "policy:get",
	    p->ns[0] != '\0' ? p->ns : NULL))
		return CF_OK;
	if (json_array_append_new(x->arr, policy_json(p, false)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_policy_list(struct cf_core *c, struct cf_req *r, const char *ns,
    json_t **out, struct cf_error *err)
{
	struct list_ctx	x;
	char		res[CF_RESOURCE_MAX];
	cf_err		rc;

	if (ns != NULL) {
		ns = scope_of(ns);
		rc = policy_authorize(c, r, "policy:get", NULL, ns, false,
		    err);
	} else {
		policy_resource(res, sizeof(res), NULL, NULL);
		rc = core_authorize_listing(c, r, "policy:get", res, err);
	}
	if (rc != CF_OK)
		return rc;
	x.c = c;
	x.r = r;
	x.filter = ns == NULL;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_policy_list(c->meta, x.filter ? NULL : (ns != NULL ?
	    ns : ""), list_cb, &x, err);
	if (rc == CF_E_NOTFOUND)
		rc = not_found(c, r, "", ns, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "policies", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_policy_get(struct cf_core *c, struct cf_req *r, const char *name,
    const char *ns, int64_t version, json_t **out, struct cf_error *err)
{
	struct cf_policy_rec	 p;
	char			*text = NULL;
	json_t			*j = NULL, *t;
	cf_err			 rc;

	ns = scope_of(ns);
	rc = policy_authorize(c, r, "policy:get", name, ns, false, err);
	if (rc == CF_OK && ns == NULL && strcmp(name, "builtin") == 0) {
		/* The built-in role templates: in force in every decision,
		 * version 0, not stored. */
		*out = json_pack("{s:s, s:n, s:i, s:b, s:s}", "name",
		    "builtin", "ns", "version", 0, "builtin", 1, "text",
		    cf_core_builtin_policies());
		return *out == NULL ? nomem(err) : CF_OK;
	}
	if (rc == CF_OK)
		rc = check_name(r, name, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_policy_get(c->meta, name, ns != NULL ? ns : "", version,
	    &p, &text, err);
	/* The set in force: a removed one is gone (its history stays). */
	if (rc == CF_OK && version == 0 && p.deleted)
		rc = CF_E_NOTFOUND;
	if (rc == CF_E_NOTFOUND) {
		cf_free(text);
		return not_found(c, r, name, ns, err);
	}
	if (rc != CF_OK)
		return rc;
	j = policy_json(&p, true);
	t = json_stringn(text, p.text_len);
	cf_free(text);
	if (j == NULL || t == NULL || json_object_set_new(j, "text", t) != 0) {
		json_decref(j);
		return nomem(err);
	}
	*out = j;
	return CF_OK;
}

static cf_err
history_cb(void *arg, const struct cf_policy_rec *p, struct cf_error *err)
{
	if (json_array_append_new(arg, policy_json(p, true)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_policy_history(struct cf_core *c, struct cf_req *r, const char *name,
    const char *ns, json_t **out, struct cf_error *err)
{
	json_t	*arr;
	cf_err	 rc;

	ns = scope_of(ns);
	rc = policy_authorize(c, r, "policy:get", name, ns, false, err);
	if (rc == CF_OK)
		rc = check_name(r, name, err);
	if (rc != CF_OK)
		return rc;
	arr = json_array();
	if (arr == NULL)
		return nomem(err);
	rc = cf_meta_policy_history(c->meta, name, ns != NULL ? ns : "",
	    history_cb, arr, err);
	if (rc == CF_E_NOTFOUND)
		rc = not_found(c, r, name, ns, err);
	if (rc != CF_OK) {
		json_decref(arr);
		return rc;
	}
	*out = json_pack("{s:s,s:s?,s:o}", "name", name, "ns", ns, "versions",
	    arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_policy_rm(struct cf_core *c, struct cf_req *r, const char *name,
    const char *ns, json_t **out, struct cf_error *err)
{
	struct cf_policy_rec	 cur, rec, put;
	struct core_act		 act;
	cf_err			 rc;

	ns = scope_of(ns);
	rc = policy_authorize(c, r, "policy:rm", name, ns, true, err);
	if (rc == CF_OK)
		rc = check_name(r, name, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_policy_get(c->meta, name, ns != NULL ? ns : "", 0, &cur,
	    NULL, err);
	if (rc == CF_OK && cur.deleted)
		rc = CF_E_NOTFOUND;
	if (rc == CF_E_NOTFOUND)
		return not_found(c, r, name, ns, err);
	if (rc != CF_OK)
		return rc;
	memset(&put, 0, sizeof(put));
	cf_strlcpy(put.name, name, sizeof(put.name));
	cf_strlcpy(put.ns, ns != NULL ? ns : "", sizeof(put.ns));
	cf_strlcpy(put.created_by, r->principal.name, sizeof(put.created_by));
	put.created_us = core_now_us(c);
	put.deleted = true;
	note_change(r, &cur, &put);
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_policy_put(c->meta, &act.au, &put, "", 0,
		    cur.version, &rec, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT)
		r->errcode = "policy_changed";
	if (rc == CF_E_NOTFOUND)
		return not_found(c, r, name, ns, err);
	if (rc != CF_OK)
		return rc;
	rc = core_authz_reload_after(c, r, err);
	if (rc != CF_OK)
		return rc;
	*out = policy_json(&rec, true);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* A set made by the server itself for an authorized request (a share
 * grant, ops_share.c): checked as any namespace's set, stored (or, with
 * text NULL, removed: its tombstone) as a new version under r's audit
 * record, then loaded.  The caller authorized r and set its resource and
 * reasons. */
cf_err
core_policy_put_internal(struct cf_core *c, struct cf_req *r,
    const char *ns, const char *name, const char *text, int status,
    struct cf_policy_rec *out, struct cf_error *err)
{
	return core_policy_put_internal_at(c, r, ns, name, text, status, -1,
	    out, err);
}

cf_err
core_policy_put_internal_at(struct cf_core *c, struct cf_req *r,
    const char *ns, const char *name, const char *text, int status,
    int64_t expect, struct cf_policy_rec *out, struct cf_error *err)
{
	struct cf_policy_rec	 cur, put;
	struct core_act		 act;
	bool			 have = false;
	size_t			 len = text != NULL ? strlen(text) : 0;
	cf_err			 rc;

	if (text != NULL) {
		rc = ops_policy_check(c, &r->errcode, ns, text, len, err);
		if (rc != CF_OK)
			return rc;
	}
	rc = cf_meta_policy_get(c->meta, name, ns, 0, &cur, NULL, err);
	if (rc == CF_E_NOTFOUND && text != NULL) {
		cf_error_clear(err);
		rc = CF_OK;
	} else if (rc == CF_OK)
		have = true;
	if (rc != CF_OK)
		return rc;
	/* The caller decided on version expect: another change since then
	 * is a conflict, not something to overwrite unseen. */
	if (expect >= 0 && (have ? cur.version : 0) != expect) {
		r->errcode = "policy_changed";
		return cf_error_set(err, CF_E_CONFLICT, "the policy set "
		    "changed meanwhile: read it again and retry");
	}
	memset(&put, 0, sizeof(put));
	cf_strlcpy(put.name, name, sizeof(put.name));
	cf_strlcpy(put.ns, ns, sizeof(put.ns));
	cf_strlcpy(put.created_by, r->principal.name, sizeof(put.created_by));
	put.created_us = core_now_us(c);
	put.deleted = text == NULL;
	put.text_len = len;
	rc = core_act_begin(&act, c, r, status, err);
	if (rc == CF_OK)
		rc = cf_meta_policy_put(c->meta, &act.au, &put, text != NULL ?
		    text : "", len, have ? cur.version : 0, out, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_LIMIT) {
		r->errcode = "too_many_policies";
		rc = CF_E_INPUT;
	}
	if (rc != CF_OK)
		return rc;
	return core_authz_reload_after(c, r, err);
}
