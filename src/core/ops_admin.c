/* src/core/ops_admin.c: namespaces, principals, tokens, bindings, audit
 * reading.  Each operation authorizes first (core_authorize). */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/core_int.h"

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static void
ns_resource(char *out, size_t outsz, const char *ns)
{
	(void)snprintf(out, outsz, "ns/%s", ns);
}

cf_err
cf_core_whoami(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	json_t	*j = NULL, *bs;
	size_t	 i;
	cf_err	 rc;

	rc = core_authorize_self(c, r, "whoami", "session", err);
	if (rc != CF_OK)
		return rc;
	bs = json_array();
	if (bs == NULL)
		return nomem(err);
	for (i = 0; i < r->nbindings; i++)
		(void)json_array_append_new(bs, json_pack("{s:s,s:s?}", "role",
		    r->bindings[i].role, "ns",
		    r->bindings[i].ns[0] != '\0' ? r->bindings[i].ns : NULL));
	/* whoami describes the credential, so it needs no scope action;
	 * it shows the scope, which narrows the bindings listed. */
	j = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:o,s:o,s:b}", "principal",
	    r->principal.name, "kind", r->principal.kind, "token_id",
	    r->token_id, "bindings", bs, "authn", r->authn, "mfa", r->mfa,
	    "mfa_age", r->mfa_age >= 0 ? json_integer(r->mfa_age) :
	    json_null(), "scope", r->scope[0] != '\0' ?
	    json_loads(r->scope, 0, NULL) : json_null(), "has_password",
	    r->principal.has_password);
	if (j == NULL)
		return nomem(err);
	*out = j;
	return CF_OK;
}

static json_t *
ns_json(const struct cf_ns_rec *ns)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:I,s:I,s:s}", "name",
	    ns->name, "env", ns->env, "sensitivity", ns->sensitivity,
	    "created", core_time_json(ns->created_us), "created_by",
	    ns->created_by, "retain_days", (json_int_t)ns->retain_days,
	    "purge_after_days", (json_int_t)ns->purge_days, "versioning",
	    ns->versioning[0] != '\0' ? ns->versioning : "enabled");
}

cf_err
cf_core_ns_create(struct cf_core *c, struct cf_req *r, const char *name,
    const char *env, json_t **out, struct cf_error *err)
{
	return cf_core_ns_create_sens(c, r, name, env, NULL, out, err);
}

static cf_err	ns_create(struct cf_core *c, struct cf_req *r,
		    const char *name, const char *env, const char *sensitivity,
		    const char *versioning, json_t **out,
		    struct cf_error *err);

cf_err
cf_core_ns_create_sens(struct cf_core *c, struct cf_req *r, const char *name,
    const char *env, const char *sensitivity, json_t **out,
    struct cf_error *err)
{
	return ns_create(c, r, name, env, sensitivity, "enabled", out, err);
}

cf_err
cf_core_s3_bucket_create(struct cf_core *c, struct cf_req *r,
    const char *name, json_t **out, struct cf_error *err)
{
	/* S3: a bucket starts unversioned (docs/s3.md, "Versioning"). */
	return ns_create(c, r, name, NULL, NULL, "unversioned", out, err);
}

static cf_err
ns_create(struct cf_core *c, struct cf_req *r, const char *name,
    const char *env, const char *sensitivity, const char *versioning,
    json_t **out, struct cf_error *err)
{
	struct cf_ns_rec	ns;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	ns_resource(res, sizeof(res), name);
	rc = core_authorize(c, r, "ns:create", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_ns_valid(name))
		return cf_error_set(err, CF_E_INPUT, "invalid namespace name "
		    "(3-63 of a-z 0-9 . -, starting and ending with a letter "
		    "or digit)");
	if (env == NULL)
		env = "dev";
	if (!cf_name_env_valid(env))
		return cf_error_set(err, CF_E_INPUT,
		    "invalid environment (dev, staging or prod)");
	if (sensitivity == NULL)
		sensitivity = "internal";
	if (!cf_name_sensitivity_valid(sensitivity))
		return cf_error_set(err, CF_E_INPUT, "invalid sensitivity "
		    "(public, internal, confidential or restricted)");
	memset(&ns, 0, sizeof(ns));
	cf_strlcpy(ns.name, name, sizeof(ns.name));
	cf_strlcpy(ns.env, env, sizeof(ns.env));
	cf_strlcpy(ns.sensitivity, sensitivity, sizeof(ns.sensitivity));
	cf_strlcpy(ns.versioning, versioning, sizeof(ns.versioning));
	cf_strlcpy(ns.created_by, r->principal.name, sizeof(ns.created_by));
	ns.created_us = cf_now_us();
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_ns_create(c->meta, &act.au, &ns, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = ns_json(&ns);
	return *out == NULL ? nomem(err) : CF_OK;
}

struct ns_list_ctx {
	struct cf_core	*c;
	struct cf_req	*r;
	json_t		*arr;
};

static cf_err
ns_list_cb(void *arg, const struct cf_ns_rec *ns, struct cf_error *err)
{
	struct ns_list_ctx	*x = arg;

	/* Only namespaces the caller may read (ns:get) are listed. */
	if (!core_can(x->c, x->r, "ns:get", ns->name))
		return CF_OK;
	if (json_array_append_new(x->arr, ns_json(ns)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_ns_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct ns_list_ctx	x;
	cf_err			rc;

	/* Any principal may list; the listing is filtered per namespace. */
	rc = core_authorize_listing(c, r, "ns:list", "ns", err);
	if (rc != CF_OK)
		return rc;
	x.c = c;
	x.r = r;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_ns_list(c->meta, ns_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "namespaces", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_ns_get(struct cf_core *c, struct cf_req *r, const char *name,
    json_t **out, struct cf_error *err)
{
	struct cf_ns_rec	ns;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	ns_resource(res, sizeof(res), name);
	rc = core_authorize(c, r, "ns:get", name, res, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_ns_get(c->meta, name, &ns, err);
	if (rc != CF_OK)
		return rc;
	*out = ns_json(&ns);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_ns_set_sensitivity(struct cf_core *c, struct cf_req *r,
    const char *name, const char *sensitivity, json_t **out,
    struct cf_error *err)
{
	struct cf_ns_rec	ns;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	ns_resource(res, sizeof(res), name);
	/* SEC: authorized against the current sensitivity, so lowering a
	 * restricted namespace needs MFA (no API token can do it). */
	rc = core_authorize_data(c, r, "ns:set-sensitivity", NULL, name, res,
	    err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_sensitivity_valid(sensitivity))
		return cf_error_set(err, CF_E_INPUT, "invalid sensitivity "
		    "(public, internal, confidential or restricted)");
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_ns_set_sensitivity(c->meta, &act.au, name,
		    sensitivity, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_OK)
		rc = cf_meta_ns_get(c->meta, name, &ns, err);
	if (rc != CF_OK)
		return rc;
	*out = ns_json(&ns);
	return *out == NULL ? nomem(err) : CF_OK;
}

struct blobids {
	char	(*ids)[CF_BLOB_ID_LEN + 1];
	size_t	 n, cap;
};

static cf_err
collect_blob(void *arg, const char *id, struct cf_error *err)
{
	struct blobids	*b = arg;
	void		*nv;

	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		nv = cf_reallocarray(b->ids, b->cap, sizeof(*b->ids));
		if (nv == NULL)
			return nomem(err);
		b->ids = nv;
	}
	cf_strlcpy(b->ids[b->n++], id, CF_BLOB_ID_LEN + 1);
	return CF_OK;
}

cf_err
cf_core_ns_delete(struct cf_core *c, struct cf_req *r, const char *name,
    json_t **out, struct cf_error *err)
{
	struct blobids	b = { NULL, 0, 0 };
	struct core_act	act;
	char		res[CF_RESOURCE_MAX];
	uint64_t	nver = 0;
	size_t		i;
	cf_err		rc;

	ns_resource(res, sizeof(res), name);
	rc = core_authorize_data(c, r, "ns:delete", NULL, name, res, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: a hold anywhere in it, or a version inside the retention
	 * period, stops the delete whoever asks. */
	rc = core_privacy_guard(c, r, name, NULL, 0, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_ns_delete_counted(c->meta, &act.au, name,
		    collect_blob, &b, &nver, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	/* The metadata is gone, so the blobs are unreachable ciphertext
	 * already; deleting them is cleanup, not a correctness step. */
	for (i = 0; i < b.n; i++)
		(void)cf_blob_delete(c->blobs, b.ids[i], NULL);
	/* SEC: the namespace's policy sets went with it; they must stop
	 * deciding before a namespace of the same name can be created. */
	rc = core_authz_reload_after(c, r, err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:I}", "deleted", name, "versions_destroyed",
	    (json_int_t)nver);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(b.ids);
	return rc;
}

static json_t *
principal_json(struct cf_core *c, const struct cf_principal_rec *p)
{
	struct cf_principal_rec	o;
	const char		*owner = NULL;

	if (p->owner_id != 0 &&
	    cf_meta_principal_get_id(c->meta, p->owner_id, &o, NULL) == CF_OK)
		owner = o.name;
	return json_pack("{s:s,s:s,s:o,s:b,s:s?}", "name", p->name, "kind",
	    p->kind, "created", core_time_json(p->created_us), "disabled",
	    p->disabled, "owner", owner);
}

cf_err
cf_core_principal_create(struct cf_core *c, struct cf_req *r, const char *name,
    const char *kind, json_t **out, struct cf_error *err)
{
	return cf_core_principal_create_owned(c, r, name, kind, NULL, out,
	    err);
}

cf_err
cf_core_principal_create_owned(struct cf_core *c, struct cf_req *r,
    const char *name, const char *kind, const char *owner, json_t **out,
    struct cf_error *err)
{
	struct cf_principal_rec	p, o;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "principal/%s", name);
	rc = core_authorize(c, r, "principal:create", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_principal_valid(name))
		return cf_error_set(err, CF_E_INPUT, "invalid principal name "
		    "(1-63 of a-z 0-9 . _ -, starting with a letter or digit)");
	if (kind == NULL)
		kind = "user";
	if (strcmp(kind, "user") != 0 && strcmp(kind, "service") != 0)
		return cf_error_set(err, CF_E_INPUT,
		    "kind must be \"user\" or \"service\"");
	/* SEC: a user can get a password and an authenticator; creating
	 * one falls under the grant rule (monitor.c).  A service account
	 * has no access until a role is bound to it, which does too. */
	if (strcmp(kind, "user") == 0 &&
	    (rc = core_grant_check(c, r, err)) != CF_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	if (strcmp(kind, "service") == 0) {
		/* Every service account has an owning user. */
		if (owner == NULL)
			return cf_error_set(err, CF_E_INPUT,
			    "a service account needs an \"owner\" (a user)");
		rc = cf_meta_principal_get(c->meta, owner, &o, err);
		if (rc == CF_E_NOTFOUND)
			r->errcode = "no_such_principal";
		if (rc != CF_OK)
			return rc;
		if (strcmp(o.kind, "user") != 0)
			return cf_error_set(err, CF_E_INPUT,
			    "the owner of a service account must be a user");
		p.owner_id = o.id;
	} else if (owner != NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "only service accounts have an owner");
	cf_strlcpy(p.name, name, sizeof(p.name));
	cf_strlcpy(p.kind, kind, sizeof(p.kind));
	p.created_us = cf_now_us();
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_principal_create(c->meta, &act.au, &p, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = principal_json(c, &p);
	return *out == NULL ? nomem(err) : CF_OK;
}

struct principal_list_ctx {
	struct cf_core	*c;
	json_t		*arr;
};

static cf_err
principal_list_cb(void *arg, const struct cf_principal_rec *p,
    struct cf_error *err)
{
	struct principal_list_ctx	*x = arg;

	if (json_array_append_new(x->arr, principal_json(x->c, p)) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_principal_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct principal_list_ctx	x;
	cf_err				rc;

	rc = core_authorize(c, r, "principal:list", NULL, "principal", err);
	if (rc != CF_OK)
		return rc;
	x.c = c;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_principal_list(c->meta, principal_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "principals", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

static bool
is_string_array(const json_t *a, size_t max)
{
	size_t	 i;
	json_t	*v;

	if (!json_is_array(a) || json_array_size(a) > max)
		return false;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

static bool
str_in(const json_t *a, const char *s)
{
	size_t	 i;
	json_t	*v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* Validate a scope and make it no wider than the caller's own scope
 * (SEC: a scoped token never mints a wider one).  *norm gets the
 * normalized JSON text (caller frees), or NULL for no scope. */
static cf_err
scope_normalize(const struct cf_req *r, const char *scope, char **norm,
    struct cf_error *err)
{
	const struct cf_action_def *def;
	json_t	*j = NULL, *mine = NULL, *acts, *nss, *ma, *mn, *v;
	size_t	 i;
	cf_err	 rc = CF_OK;

	*norm = NULL;
	if (scope == NULL) {
		if (r->scope[0] == '\0')
			return CF_OK;
		*norm = cf_strdup(r->scope);	/* inherit the caller's */
		return *norm == NULL ? nomem(err) : CF_OK;
	}
	j = json_loads(scope, JSON_REJECT_DUPLICATES, NULL);
	acts = json_object_get(j, "actions");
	nss = json_object_get(j, "namespaces");
	if (!json_is_object(j) || json_object_size(j) !=
	    (size_t)(acts != NULL) + (size_t)(nss != NULL) ||
	    (acts != NULL && !is_string_array(acts, 64)) ||
	    (nss != NULL && !is_string_array(nss, 64))) {
		rc = cf_error_set(err, CF_E_INPUT, "scope must be "
		    "{\"actions\":[...],\"namespaces\":[...]} (either may be "
		    "omitted)");
		goto out;
	}
	json_array_foreach(acts, i, v) {
		def = cf_action_find(json_string_value(v));
		if (def == NULL || (def->flags & CF_ACT_SCOPABLE) == 0) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "scope: unknown action \"%.64s\"",
			    json_string_value(v));
			goto out;
		}
	}
	json_array_foreach(nss, i, v)
		if (!cf_name_ns_valid(json_string_value(v))) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "scope: invalid namespace \"%.64s\"",
			    json_string_value(v));
			goto out;
		}
	if (r->scope[0] != '\0') {
		mine = json_loads(r->scope, 0, NULL);
		ma = json_object_get(mine, "actions");
		mn = json_object_get(mine, "namespaces");
		if (!json_is_object(mine) || (ma != NULL && acts == NULL) ||
		    (mn != NULL && nss == NULL)) {
			rc = cf_error_set(err, CF_E_DENIED, "the new token's "
			    "scope must be within this token's scope");
			goto out;
		}
		json_array_foreach(acts, i, v)
			if (ma != NULL && !str_in(ma, json_string_value(v)))
				rc = CF_E_DENIED;
		json_array_foreach(nss, i, v)
			if (mn != NULL && !str_in(mn, json_string_value(v)))
				rc = CF_E_DENIED;
		if (rc != CF_OK) {
			rc = cf_error_set(err, CF_E_DENIED, "the new token's "
			    "scope must be within this token's scope");
			goto out;
		}
	}
	*norm = cf_json_dumps_flags(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (*norm == NULL)
		rc = nomem(err);
	else if (strlen(*norm) >= CF_SCOPE_MAX) {
		free(*norm);
		*norm = NULL;
		rc = cf_error_set(err, CF_E_INPUT, "scope too large");
	}
out:
	json_decref(j);
	json_decref(mine);
	return rc;
}

/* SEC: an API token that mints a token for its own principal (or a
 * service account it owns) cannot outlive itself: a leaked short-lived
 * token must not turn into a permanent one.  Sessions and OIDC tokens
 * (someone signed in) and admins acting on others are not limited. */
static cf_err
mint_limit(struct cf_core *c, struct cf_req *r, uint64_t expires_in,
    struct cf_error *err)
{
	struct cf_token_rec	t;
	int64_t			left;
	cf_err			rc;

	if (r->interactive || r->token_id[0] == '\0')
		return CF_OK;
	rc = cf_meta_token_get(c->meta, r->token_id, &t, err);
	if (rc != CF_OK)
		return rc;
	if (t.expires_us == 0)
		return CF_OK;
	left = (t.expires_us - cf_now_us()) / 1000000;
	if (left < 0)
		left = 0;
	if (expires_in != 0 && expires_in <= (uint64_t)left)
		return CF_OK;
	r->allowed = false;
	cf_strlcpy(r->reasons, "outlives the calling token",
	    sizeof(r->reasons));
	return cf_error_set(err, CF_E_INPUT, "an API token can only create "
	    "tokens that expire no later than itself: give expires_in of at "
	    "most %lld seconds (or sign in)", (long long)left);
}

/* SEC: an API token is not held to mfa_admin_actions (automation).  So
 * a session or OIDC token without MFA must not mint one for a principal
 * that holds the admin role: the new token would do without MFA every
 * admin action the minting credential could not.  An API token minting
 * for itself gains nothing (mint_limit). */
static cf_err
find_admin(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	bool	*admin = arg;

	(void)err;
	if (strcmp(b->role, "admin") == 0)
		*admin = true;
	return CF_OK;
}

static cf_err
self_mint_mfa(struct cf_core *c, struct cf_req *r,
    const struct cf_principal_rec *p, struct cf_error *err)
{
	bool	admin = false;
	cf_err	rc;

	if (!r->interactive || !c->cfg.mfa_admin_actions ||
	    core_mfa_fresh(c, r, CORE_MFA_GRANT))
		return CF_OK;
	/* The minted token's principal: the caller or a service account
	 * it owns, whose own stored bindings count; for the caller also
	 * the roles of this request (OIDC group roles, which the new token
	 * would not carry, are held to the same rule so the rule reads
	 * simply: an admin without MFA mints nothing). */
	if (p->id == r->principal.id && core_can(c, r, "token:create", NULL))
		admin = true;
	/* Expired admin bindings too: the stricter answer. */
	rc = cf_meta_binding_list(c->meta, p->id, NULL, CF_META_BINDINGS_ALL,
	    find_admin, &admin, err);
	if (rc != CF_OK) {
		r->allowed = false;	/* SEC: fail closed */
		return rc;
	}
	return admin ? core_grant_check(c, r, err) : CF_OK;
}

cf_err
cf_core_token_create(struct cf_core *c, struct cf_req *r,
    const char *principal, uint64_t expires_in, const char *description,
    json_t **out, struct cf_error *err)
{
	return cf_core_token_create_scoped(c, r, principal, expires_in,
	    description, NULL, out, err);
}

cf_err
cf_core_token_create_scoped(struct cf_core *c, struct cf_req *r,
    const char *principal, uint64_t expires_in, const char *description,
    const char *scope, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct cf_token_rec	tok;
	struct core_act		act;
	char			token[CF_TOKEN_STR_MAX], res[CF_RESOURCE_MAX];
	char			*norm = NULL;
	bool			self_mint = false;
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "principal/%s/tokens", principal);
	if (!r->authenticated)
		return core_authorize(c, r, "token:create", NULL, res, err);
	/* Users may create tokens for themselves and for the service
	 * accounts they own; anything else needs admin. */
	rc = cf_meta_principal_get(c->meta, principal, &p, err);
	if (rc == CF_OK && (p.id == r->principal.id ||
	    (strcmp(p.kind, "service") == 0 &&
	    p.owner_id == r->principal.id))) {
		self_mint = true;
		rc = core_authorize_self(c, r, "token:create", res, err);
		if (rc == CF_OK && p.id != r->principal.id)
			cf_strlcpy(r->reasons, "owner", sizeof(r->reasons));
	} else {
		/* SEC: non-admins learn nothing about who exists. */
		cf_error_clear(err);
		rc = core_authorize_grant(c, r, "token:create", NULL, res,
		    err);
		if (rc == CF_OK)
			rc = cf_meta_principal_get(c->meta, principal, &p, err);
	}
	if (rc != CF_OK)
		return rc;
	if (self_mint && (rc = mint_limit(c, r, expires_in, err)) != CF_OK)
		return rc;
	if (self_mint && (rc = self_mint_mfa(c, r, &p, err)) != CF_OK)
		return rc;
	if (description != NULL && strlen(description) >= CF_DESC_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "description longer than %d bytes", CF_DESC_MAX - 1);
	if (expires_in > 10ULL * 365 * 86400)
		return cf_error_set(err, CF_E_INPUT,
		    "expires_in longer than ten years");
	if (strcmp(p.kind, "service") == 0 && expires_in == 0)
		return cf_error_set(err, CF_E_INPUT,
		    "tokens for a service account need expires_in");
	rc = scope_normalize(r, scope, &norm, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = core_token_mint(c, &act, p.id, "api", expires_in,
		    description, 0, norm, &tok, token, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:s,s:s,s:o,s:o?}", "id", tok.id, "token", token,
	    "principal", p.name, "expires", core_time_json(tok.expires_us),
	    "scope", norm != NULL ? json_loads(norm, 0, NULL) : NULL);
	cf_wipe(token, sizeof(token));
	if (*out == NULL)
		rc = nomem(err);
out:
	free(norm);
	return rc;
}

struct token_list_ctx {
	struct cf_core	*c;
	json_t		*arr;
};

static cf_err
token_list_cb(void *arg, const struct cf_token_rec *t, struct cf_error *err)
{
	struct token_list_ctx	*x = arg;
	struct cf_principal_rec	 p;
	json_t			*j;

	if (cf_meta_principal_get_id(x->c->meta, t->principal_id, &p, NULL) !=
	    CF_OK)
		cf_strlcpy(p.name, "?", sizeof(p.name));
	j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:o}", "id", t->id,
	    "principal", p.name, "description", t->description, "created",
	    core_time_json(t->created_us), "expires",
	    core_time_json(t->expires_us), "revoked",
	    core_time_json(t->revoked_us), "last_used",
	    core_time_json(t->last_used_us), "kind",
	    t->kind[0] != '\0' ? t->kind : "api", "scope",
	    t->scope[0] != '\0' ? json_loads(t->scope, 0, NULL) :
	    json_null());
	if (j == NULL || json_array_append_new(x->arr, j) != 0)
		return nomem(err);
	return CF_OK;
}

/* The caller itself, or a service account it owns: the principals whose
 * tokens it may create, list and revoke without admin.  *p gets the
 * record.  A lookup error is returned (fail closed); not found is false. */
static cf_err
own_principal(struct cf_core *c, const struct cf_req *r, int64_t pid,
    const char *name, struct cf_principal_rec *p, bool *own,
    struct cf_error *err)
{
	cf_err	rc;

	*own = false;
	if (name != NULL)
		rc = cf_meta_principal_get(c->meta, name, p, err);
	else
		rc = cf_meta_principal_get_id(c->meta, pid, p, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return CF_OK;
	}
	if (rc != CF_OK)
		return rc;
	*own = p->id == r->principal.id || (strcmp(p->kind, "service") == 0 &&
	    p->owner_id == r->principal.id);
	return CF_OK;
}

cf_err
cf_core_token_list(struct cf_core *c, struct cf_req *r, const char *principal,
    json_t **out, struct cf_error *err)
{
	struct token_list_ctx	x;
	struct cf_principal_rec	p;
	int64_t			pid = -1;
	bool			own = false;
	cf_err			rc;

	if (!r->authenticated)
		return core_authorize(c, r, "token:list", NULL, "tokens", err);
	if (core_can(c, r, "token:list", NULL)) {
		rc = core_authorize(c, r, "token:list", NULL, "tokens", err);
		if (rc != CF_OK)
			return rc;
		if (principal != NULL) {
			rc = cf_meta_principal_get(c->meta, principal, &p, err);
			if (rc != CF_OK)
				return rc;
			pid = p.id;
		}
	} else {
		/* Everyone may list their own tokens and those of the
		 * service accounts they own (they can mint them, so they
		 * must be able to see and revoke them). */
		pid = r->principal.id;
		if (principal != NULL &&
		    strcmp(principal, r->principal.name) != 0) {
			rc = own_principal(c, r, 0, principal, &p, &own, err);
			if (rc != CF_OK)
				return rc;
			/* SEC: others learn nothing about who exists. */
			if (!own)
				return core_authorize(c, r, "token:list", NULL,
				    "tokens", err);
			pid = p.id;
		}
		rc = core_authorize_self(c, r, "token:list", "tokens", err);
		if (rc != CF_OK)
			return rc;
		if (pid != r->principal.id)
			cf_strlcpy(r->reasons, "owner", sizeof(r->reasons));
	}
	x.c = c;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_token_list(c->meta, pid, token_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "tokens", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_token_revoke(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_token_rec	t;
	struct cf_principal_rec	p;
	struct core_act		act;
	char			res[CF_RESOURCE_MAX];
	bool			own = false;
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "token/%s", id);
	if (!r->authenticated)
		return core_authorize(c, r, "token:revoke", NULL, res, err);
	rc = cf_meta_token_get(c->meta, id, &t, err);
	if (rc == CF_E_NOTFOUND && !core_can(c, r, "token:revoke", NULL)) {
		/* SEC: non-admins learn nothing about others' token ids. */
		cf_error_clear(err);
		return core_authorize(c, r, "token:revoke", NULL, res, err);
	}
	if (rc != CF_OK)
		return rc;
	rc = own_principal(c, r, t.principal_id, NULL, &p, &own, err);
	if (rc != CF_OK)
		return rc;
	if (own && !core_can(c, r, "token:revoke", NULL)) {
		rc = core_authorize_self(c, r, "token:revoke", res, err);
		if (rc != CF_OK)
			return rc;
		if (t.principal_id != r->principal.id)
			cf_strlcpy(r->reasons, "owner", sizeof(r->reasons));
	} else if (t.principal_id == r->principal.id) {
		rc = core_authorize_self(c, r, "token:revoke", res, err);
		if (rc != CF_OK)
			return rc;
	} else {
		rc = core_authorize(c, r, "token:revoke", NULL, res, err);
		if (rc != CF_OK)
			return rc;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_token_revoke(c->meta, &act.au, id, cf_now_us(),
		    err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	rc = cf_meta_token_get(c->meta, id, &t, err);
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:o}", "id", id, "revoked",
	    core_time_json(t.revoked_us));
	return *out == NULL ? nomem(err) : CF_OK;
}

/* Who may change a binding: admin for global bindings and for the admin
 * role; an owner of the namespace for roles up to owner on it. */
static cf_err
binding_authorize(struct cf_core *c, struct cf_req *r, const char *action,
    const char *role, const char *ns, const char *principal,
    struct cf_error *err)
{
	char	res[CF_RESOURCE_MAX];

	if (ns != NULL && *ns != '\0')
		(void)snprintf(res, sizeof(res), "ns/%s/bindings/%s/%s", ns,
		    principal, role);
	else
		(void)snprintf(res, sizeof(res), "bindings/%s/%s", principal,
		    role);
	if (ns == NULL || *ns == '\0')
		return core_authorize(c, r, action, NULL, res, err);
	if (strcmp(role, "admin") == 0)
		return core_authorize_data(c, r, action, NULL, ns, res, err);
	return core_authorize(c, r, action, ns, res, err);
}

struct binding_count {
	const char	*role, *ns;
	size_t		 n;
	bool		 exists;
};

static cf_err
count_binding(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct binding_count	*x = arg;

	(void)err;
	x->n++;
	if (strcmp(b->role, x->role) == 0 && strcmp(b->ns, x->ns) == 0)
		x->exists = true;
	return CF_OK;
}

/* SEC: at most CF_BINDINGS_STORED_MAX bindings per principal: more would
 * make its authentication fail (an owner could otherwise lock anybody
 * out, admins included, by binding them on many namespaces). */
static cf_err
binding_room(struct cf_core *c, struct cf_req *r,
    const struct cf_principal_rec *p, const char *role, const char *ns,
    struct cf_error *err)
{
	struct binding_count	x = { role, ns != NULL ? ns : "", 0, false };
	cf_err			rc;

	rc = cf_meta_binding_list(c->meta, p->id, NULL, CF_META_BINDINGS_ALL,
	    count_binding, &x, err);
	if (rc != CF_OK || x.exists || x.n < CF_BINDINGS_STORED_MAX)
		return rc;
	r->errcode = "too_many_bindings";
	return cf_error_set(err, CF_E_INPUT, "%s already has %d bindings, "
	    "the most a principal may have: use a global role, or remove "
	    "some", p->name, CF_BINDINGS_STORED_MAX);
}

static cf_err
binding_change(struct cf_core *c, struct cf_req *r, bool add,
    const char *principal, const char *role, const char *ns,
    uint64_t expires_in, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct cf_ns_rec	nsr;
	struct core_act		act;
	int64_t			expires_us = 0;
	size_t			n;
	cf_err			rc;

	if (ns != NULL && *ns == '\0')
		ns = NULL;
	rc = binding_authorize(c, r, add ? "binding:create" : "binding:delete",
	    role, ns, principal, err);
	/* SEC: binding a role hands out access: the grant rule.  Removing
	 * one only takes access away and stays open to API tokens. */
	if (rc == CF_OK && add)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_role_valid(role) &&
	    !core_authz_role_exists(c, role, ns == NULL)) {
		r->errcode = "invalid_name";	/* as role:mfa-required */
		return cf_error_set(err, CF_E_INPUT, "invalid role (reader, "
		    "writer, owner, admin or a custom role: coffer role ls)");
	}
	if (ns != NULL && strcmp(role, "admin") == 0)
		return cf_error_set(err, CF_E_INPUT,
		    "admin is a global role (omit the namespace)");
	rc = cf_meta_principal_get(c->meta, principal, &p, err);
	if (rc != CF_OK)
		return rc;
	if (ns != NULL) {
		rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
		if (rc == CF_E_NOTFOUND) {
			/* Not the principal's 404. */
			cf_error_clear(err);
			r->errcode = "no_such_namespace";
			return cf_error_set(err, CF_E_NOTFOUND,
			    "no namespace \"%s\"", ns);
		}
		if (rc != CF_OK)
			return rc;
	}
	if (add) {
		rc = binding_room(c, r, &p, role, ns, err);
		if (rc != CF_OK)
			return rc;
	}
	/* The expiry counts by the core's clock, the one that enforces
	 * it. */
	if (add && expires_in != 0) {
		expires_us = core_now_us(c) + (int64_t)expires_in * 1000000;
		/* The record says for how long (from its own time). */
		n = strlen(r->reasons);
		(void)snprintf(r->reasons + n, sizeof(r->reasons) - n,
		    "%sexpires_in=%llu", n > 0 ? "," : "",
		    (unsigned long long)expires_in);
	}
	rc = core_act_begin(&act, c, r, add ? 201 : 200, err);
	if (rc == CF_OK && add)
		rc = cf_meta_binding_add(c->meta, &act.au, p.id, role,
		    ns != NULL ? ns : "", expires_us, err);
	else if (rc == CF_OK)
		rc = cf_meta_binding_remove(c->meta, &act.au, p.id, role,
		    ns != NULL ? ns : "", err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:s,s:s?,s:o}", "principal", p.name, "role",
	    role, "ns", ns, "expires", core_time_json(expires_us));
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_binding_create(struct cf_core *c, struct cf_req *r,
    const char *principal, const char *role, const char *ns, json_t **out,
    struct cf_error *err)
{
	return binding_change(c, r, true, principal, role, ns, 0, out, err);
}

cf_err
cf_core_binding_create_expiring(struct cf_core *c, struct cf_req *r,
    const char *principal, const char *role, const char *ns,
    uint64_t expires_in, json_t **out, struct cf_error *err)
{
	if (expires_in > CF_BINDING_EXPIRES_MAX)
		return cf_error_set(err, CF_E_INPUT, "expires_in is at most "
		    "%d seconds (10 years)", CF_BINDING_EXPIRES_MAX);
	return binding_change(c, r, true, principal, role, ns, expires_in,
	    out, err);
}

cf_err
cf_core_binding_delete(struct cf_core *c, struct cf_req *r,
    const char *principal, const char *role, const char *ns, json_t **out,
    struct cf_error *err)
{
	return binding_change(c, r, false, principal, role, ns, 0, out, err);
}

struct binding_list_ctx {
	json_t	*arr;
	int64_t	 now_us;
};

static cf_err
binding_list_cb(void *arg, const struct cf_binding_rec *b,
    struct cf_error *err)
{
	struct binding_list_ctx	*x = arg;
	json_t			*j;

	j = json_pack("{s:s,s:s,s:s?,s:o,s:b}", "principal", b->principal,
	    "role", b->role, "ns", b->ns[0] != '\0' ? b->ns : NULL,
	    "expires", core_time_json(b->expires_us), "expired",
	    b->expires_us != 0 && b->expires_us <= x->now_us);
	if (j == NULL || json_array_append_new(x->arr, j) != 0)
		return nomem(err);
	return CF_OK;
}

/* The sweep's record and deletion of one expired binding (system's act,
 * as the orphan sweep's); CF_E_NOTFOUND, silently, if it went already or
 * was granted again. */
static cf_err
binding_expire_one(struct cf_core *c, const struct cf_binding_rec *b,
    int64_t now_us, struct cf_error *err)
{
	struct cf_req	r;
	struct core_act	act;
	cf_err		rc;

	cf_req_init(&r, "local");
	r.time_us = now_us;
	r.authenticated = true;
	r.authn = "internal";
	(void)cf_strlcpy(r.principal.name, "system",
	    sizeof(r.principal.name));
	r.action = "binding:expire";
	r.allowed = true;
	if (b->ns[0] != '\0')
		(void)snprintf(r.resource, sizeof(r.resource),
		    "ns/%s/bindings/%s/%s", b->ns, b->principal, b->role);
	else
		(void)snprintf(r.resource, sizeof(r.resource),
		    "bindings/%s/%s", b->principal, b->role);
	(void)snprintf(r.reasons, sizeof(r.reasons), "expired,role:%s@%s",
	    b->role, b->ns[0] != '\0' ? b->ns : "*");
	rc = core_act_begin(&act, c, &r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_binding_remove_expired(c->meta, &act.au,
		    b->principal_id, b->role, b->ns, now_us, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = CF_OK;
	}
	return rc;
}

#define SWEEP_BATCH	256	/* expired bindings one sweep removes */

struct expired_ctx {
	struct cf_binding_rec	*v;
	size_t			 n;
	int64_t			 now_us;
};

static cf_err
expired_cb(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct expired_ctx	*x = arg;

	(void)err;
	if (b->expires_us == 0 || b->expires_us > x->now_us ||
	    x->n >= SWEEP_BATCH)
		return CF_OK;
	x->v[x->n++] = *b;
	return CF_OK;
}

cf_err
core_bindings_sweep(struct cf_core *c, struct cf_error *err)
{
	struct expired_ctx	x;
	size_t			i;
	cf_err			rc;

	memset(&x, 0, sizeof(x));
	x.now_us = core_now_us(c);
	x.v = cf_calloc(SWEEP_BATCH, sizeof(*x.v));
	if (x.v == NULL)
		return nomem(err);
	rc = cf_meta_binding_list(c->meta, -1, NULL, CF_META_BINDINGS_ALL,
	    expired_cb, &x, err);
	for (i = 0; rc == CF_OK && i < x.n; i++)
		rc = binding_expire_one(c, &x.v[i], x.now_us, err);
	if (x.n > 0)
		log_info("event=bindings_expired count=%zu", i);
	cf_free(x.v);
	return rc;
}

cf_err
cf_core_binding_list(struct cf_core *c, struct cf_req *r,
    const char *principal, const char *ns, json_t **out,
    struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct binding_list_ctx	x;
	int64_t			 pid = -1;
	char			 res[CF_RESOURCE_MAX];
	cf_err			 rc;

	if (ns != NULL && *ns == '\0')
		ns = NULL;
	(void)snprintf(res, sizeof(res), "%s%sbindings", ns ? "ns/" : "",
	    ns ? ns : "");
	if (ns != NULL && strlen(res) < sizeof(res) - 1)
		(void)snprintf(res, sizeof(res), "ns/%s/bindings", ns);
	rc = core_authorize(c, r, "binding:list", ns, res, err);
	if (rc != CF_OK)
		return rc;
	if (principal != NULL) {
		rc = cf_meta_principal_get(c->meta, principal, &p, err);
		if (rc != CF_OK)
			return rc;
		pid = p.id;
	}
	/* Expired bindings leave with their record before they are listed
	 * (a failed sweep only delays that: they grant nothing anyway). */
	if (core_bindings_sweep(c, err) != CF_OK) {
		log_warnx("event=binding_sweep_failed msg=\"%s\"",
		    err != NULL ? err->msg : "");
		cf_error_clear(err);
	}
	x.now_us = core_now_us(c);
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_binding_list(c->meta, pid, ns, CF_META_BINDINGS_ALL,
	    binding_list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "bindings", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

struct audit_ctx {
	json_t		*arr;
	uint64_t	 last;
};

static cf_err
audit_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct audit_ctx	*x = arg;
	json_t			*seq;

	seq = json_object_get(rec, "seq");
	if (json_is_integer(seq))
		x->last = (uint64_t)json_integer_value(seq);
	if (json_array_append(x->arr, rec) != 0)
		return nomem(err);
	return CF_OK;
}

cf_err
cf_core_audit_read(struct cf_core *c, struct cf_req *r, uint64_t after,
    size_t limit, size_t tail, json_t **out, struct cf_error *err)
{
	struct audit_ctx	x;
	cf_err			rc;

	rc = core_authorize(c, r, "audit:read", NULL, "audit", err);
	if (rc != CF_OK)
		return rc;
	x.arr = json_array();
	x.last = after;
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_audit_read(c->data_dir, after, limit, tail, audit_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o,s:I}", "records", x.arr, "next_after",
	    (json_int_t)x.last);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
core_mint_limit(struct cf_core *c, struct cf_req *r, uint64_t expires_in,
    struct cf_error *err)
{
	return mint_limit(c, r, expires_in, err);
}

cf_err
core_self_mint_mfa(struct cf_core *c, struct cf_req *r,
    const struct cf_principal_rec *p, struct cf_error *err)
{
	return self_mint_mfa(c, r, p, err);
}
