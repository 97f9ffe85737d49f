/* src/core/ops_explain.c: questions about the policies, answered with the
 * decision code itself (authz.c): explain one decision, list who may act
 * on a resource, and replay the audit log under a draft policy set.
 *
 * None of them changes anything: they decide for a principal loaded from
 * the store, in a scratch request that is never audited as such (the
 * caller's own request is, as policy:explain, access:who or
 * policy:replay).  docs/policy.md, "Testing a change before applying
 * it", says what each answer covers and what it does not. */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/core_int.h"

#define WHO_LIMIT_MAX		10000	/* principals one who-can looks at */
#define REPLAY_LIMIT_MAX	100000	/* records one replay looks at */
#define REPLAY_EXAMPLES_MAX	100

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static cf_err
add_binding(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct cf_req	*r = arg;

	if (r->nbindings >= CF_MAX_BINDINGS)
		return cf_error_set(err, CF_E_LIMIT,
		    "principal has more than %d bindings", CF_MAX_BINDINGS);
	r->bindings[r->nbindings++] = *b;
	return CF_OK;
}

/* A scratch request for principal p, as authentication would make it
 * for a session without MFA from source at time_us (explain's default;
 * the callers change what they need). */
static cf_err
subject_init(struct cf_core *c, struct cf_req *sub,
    const struct cf_principal_rec *p, const char *source, int64_t time_us,
    struct cf_error *err)
{
	cf_req_init(sub, source);
	sub->time_us = time_us;
	sub->principal = *p;
	sub->authenticated = true;
	sub->authn = "session";
	sub->interactive = true;
	sub->mfa = false;
	sub->mfa_age = -1;
	/* The bindings as they stand: those in force by the core's clock. */
	return cf_meta_binding_list(c->meta, p->id, NULL, core_now_us(c),
	    add_binding, sub, err);
}

/* Where a request for def on namespace nsname (NULL: none) and object
 * key (NULL: none) is decided, as the operations call the monitor: the
 * role decision's ns, the data's namespace and the resource string. */
struct target {
	const char	*ns, *data_ns;
	char		 resource[CF_RESOURCE_MAX];
};

static cf_err
target_of(const struct cf_action_def *def, const char *nsname,
    const char *key, struct target *t, struct cf_error *err)
{
	memset(t, 0, sizeof(*t));
	if ((def->flags & (CF_ACT_NOAUTH | CF_ACT_RECORD)) != 0 ||
	    (def->role == CF_ROLE_NONE))
		return cf_error_set(err, CF_E_INPUT, "%s is not decided by "
		    "the policies (%s)", def->name,
		    (def->flags & CF_ACT_NOAUTH) != 0 ? "it needs no "
		    "credential" : (def->flags & CF_ACT_RECORD) != 0 ?
		    "it is only ever a record" : "it is self-service");
	if (strcmp(def->resource, "object") == 0 && nsname == NULL)
		return cf_error_set(err, CF_E_INPUT, "%s acts on a "
		    "namespace's objects: give the resource NS or NS/KEY",
		    def->name);
	/* Labels are on a namespace or on an object. */
	if (key != NULL && strcmp(def->resource, "object") != 0 &&
	    strcmp(def->resource, "label") != 0)
		return cf_error_set(err, CF_E_INPUT, "%s does not act on an "
		    "object: give the resource NS", def->name);
	if (nsname == NULL) {
		cf_strlcpy(t->resource, def->resource, sizeof(t->resource));
		return CF_OK;
	}
	if (key != NULL)
		(void)snprintf(t->resource, sizeof(t->resource),
		    "ns/%s/obj/%s", nsname, key);
	else
		(void)snprintf(t->resource, sizeof(t->resource), "ns/%s",
		    nsname);
	if ((def->flags & CF_ACT_NS) != 0) {
		t->ns = nsname;
		t->data_ns = nsname;
	} else if (strcmp(def->name, "ns:create") != 0)
		t->data_ns = nsname;	/* ns:delete, ns:set-sensitivity */
	return CF_OK;
}

/* Split "NS[/KEY[@VERSION]]" into its parts (in buf); "" or NULL: no
 * namespace.  The version names what an object:get would read: the
 * decision does not depend on it (policies see the object). */
static cf_err
split_resource(const char *res, char *buf, size_t bufsz, const char **ns,
    const char **key, struct cf_error *err)
{
	char	*slash, *at;

	*ns = NULL;
	*key = NULL;
	if (res == NULL || *res == '\0')
		return CF_OK;
	if (cf_strlcpy(buf, res, bufsz) >= bufsz)
		return cf_error_set(err, CF_E_INPUT, "resource too long");
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		at = strrchr(slash + 1, '@');
		if (at != NULL)
			*at = '\0';
		if (slash[1] == '\0' ||
		    !cf_name_key_valid(slash + 1, strlen(slash + 1)))
			return cf_error_set(err, CF_E_INPUT, "invalid object "
			    "key in resource");
		*key = slash + 1;
	}
	if (!cf_name_ns_valid(buf))
		return cf_error_set(err, CF_E_INPUT, "invalid namespace in "
		    "resource");
	*ns = buf;
	return CF_OK;
}

/* The members of an explain context that set the request itself (so
 * that the guard rails see them too); others go to Cedar as given. */
static cf_err
apply_context(struct cf_req *sub, json_t *given, json_t **extra,
    struct cf_error *err)
{
	const char	*k, *s;
	json_t		*v, *ex;
	char		*text;
	cf_err		 rc = CF_OK;

	ex = json_object();
	if (ex == NULL)
		return nomem(err);
	json_object_foreach(given, k, v) {
		if (strcmp(k, "mfa") == 0) {
			if (!json_is_boolean(v))
				rc = cf_error_set(err, CF_E_INPUT, "context: "
				    "mfa must be true or false");
			sub->mfa = json_is_true(v);
			if (sub->mfa && sub->mfa_age < 0)
				sub->mfa_age = 0;
			if (!sub->mfa)
				sub->mfa_age = -1;
		} else if (strcmp(k, "mfa_age_s") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				rc = cf_error_set(err, CF_E_INPUT, "context: "
				    "mfa_age_s must be a number of seconds");
			sub->mfa = true;
			sub->mfa_age = json_integer_value(v);
		} else if (strcmp(k, "source_ip") == 0) {
			s = json_string_value(v);
			if (s == NULL || strlen(s) >= sizeof(sub->source))
				rc = cf_error_set(err, CF_E_INPUT, "context: "
				    "source_ip must be an address");
			else
				cf_strlcpy(sub->source, s,
				    sizeof(sub->source));
		} else if (strcmp(k, "time") == 0) {
			s = json_string_value(v);
			if (s == NULL || cf_time_parse(s, &sub->time_us,
			    NULL) != CF_OK)
				rc = cf_error_set(err, CF_E_INPUT, "context: "
				    "time must be RFC 3339 UTC "
				    "(2026-01-31T09:00:00Z)");
		} else if (strcmp(k, "authn") == 0) {
			s = json_string_value(v);
			if (s != NULL && strcmp(s, "session") == 0)
				sub->authn = "session";
			else if (s != NULL && strcmp(s, "oidc") == 0)
				sub->authn = "oidc";
			else if (s != NULL && strcmp(s, "token") == 0)
				sub->authn = "token";
			else
				rc = cf_error_set(err, CF_E_INPUT, "context: "
				    "authn must be session, oidc or token");
			sub->interactive = strcmp(sub->authn, "token") != 0;
		} else if (strcmp(k, "token_scope") == 0) {
			text = json_is_object(v) ? cf_json_dumps(v) : NULL;
			if (text == NULL || strlen(text) >= sizeof(sub->scope))
				rc = cf_error_set(err, CF_E_INPUT, "context: "
				    "token_scope must be an object "
				    "{actions, namespaces}");
			else
				cf_strlcpy(sub->scope, text,
				    sizeof(sub->scope));
			free(text);
		} else if (json_object_set(ex, k, v) != 0)
			rc = nomem(err);
		if (rc != CF_OK)
			break;
	}
	/* SEC-neutral but honest: API tokens never carry MFA. */
	if (rc == CF_OK && strcmp(sub->authn, "token") == 0 && sub->mfa)
		rc = cf_error_set(err, CF_E_INPUT, "context: API tokens "
		    "never carry MFA (authn token with mfa)");
	if (rc != CF_OK) {
		json_decref(ex);
		return rc;
	}
	*extra = ex;
	return CF_OK;
}

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

cf_err
cf_core_policy_explain(struct cf_core *c, struct cf_req *r,
    const json_t *body, json_t **out, struct cf_error *err)
{
	const struct cf_action_def	*def;
	struct core_authz_result	 res;
	struct cf_principal_rec		 p;
	struct cf_req			*sub = NULL;
	struct target			 t;
	json_t				*given;
	const char			*pname, *aname, *ns, *key;
	char				 rbuf[CF_RESOURCE_MAX];
	json_t				*extra = NULL, *ctx = NULL;
	json_t				*guards = NULL, *o;
	size_t				 i;
	bool				 scope = false, allow;
	cf_err				 rc;

	memset(&res, 0, sizeof(res));
	rc = core_authorize(c, r, "policy:explain", NULL, "policies/explain",
	    err);
	if (rc != CF_OK)
		return rc;
	pname = json_string_value(json_object_get(body, "principal"));
	aname = json_string_value(json_object_get(body, "action"));
	given = json_object_get(body, "context");
	if (pname == NULL || aname == NULL || (given != NULL &&
	    !json_is_object(given)) || (json_object_get(body,
	    "resource") != NULL && !json_is_string(json_object_get(body,
	    "resource"))))
		return cf_error_set(err, CF_E_INPUT, "give principal and "
		    "action (strings), resource (\"NS\", \"NS/KEY\" or "
		    "absent) and context (an object) if any");
	def = cf_action_find(aname);
	if (def == NULL)
		return cf_error_set(err, CF_E_INPUT, "unknown action %s "
		    "(coffer policy schema lists them)", aname);
	rc = split_resource(json_string_value(json_object_get(body,
	    "resource")), rbuf, sizeof(rbuf), &ns, &key, err);
	if (rc == CF_OK)
		rc = target_of(def, ns, key, &t, err);
	if (rc != CF_OK)
		return rc;
	sub = cf_calloc(1, sizeof(*sub));
	if (sub == NULL)
		return nomem(err);
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	scope = true;
	rc = cf_meta_principal_get(c->meta, pname, &p, err);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_principal";
	if (rc == CF_OK)
		rc = subject_init(c, sub, &p, r->source, r->time_us, err);
	if (rc == CF_OK && given != NULL)
		rc = apply_context(sub, given, &extra, err);
	if (rc != CF_OK)
		goto out;
	ctx = core_authz_context(sub);
	if (ctx == NULL || (extra != NULL && json_object_update(ctx,
	    extra) != 0)) {
		rc = nomem(err);
		goto out;
	}
	rc = core_authz_explain(c, sub, def, t.ns, t.data_ns, t.resource, ctx,
	    NULL, &res, err);
	if (rc == CF_OK)
		rc = core_explain_guards(c, sub, def->name, t.ns, t.data_ns,
		    res.allow ? res.role : NULL, &guards, err);
	if (rc != CF_OK)
		goto out;
	allow = res.allow && !p.disabled;
	for (i = 0; i < json_array_size(guards); i++)
		if (json_is_true(json_object_get(json_array_get(guards, i),
		    "refuses")))
			allow = false;
	o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:O, s:O, s:s, s:b, s:O, "
	    "s:O, s:O, s:O}", "principal", p.name, "action", def->name,
	    "resource", t.resource, "namespace", jstr_or_null(t.ns != NULL ?
	    t.ns : t.data_ns), "decision", allow ? "allow" : "deny",
	    "reasons", json_object_get(res.response, "reasons"), "errors",
	    json_object_get(res.response, "errors"), "policy_decision",
	    res.allow ? "allow" : "deny", "disabled", p.disabled ? 1 : 0,
	    "guards", guards, "conditional", res.conditional, "entities",
	    res.entities, "context", res.context);
	if (o == NULL) {
		rc = nomem(err);
		goto out;
	}
	*out = o;
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	core_authz_result_clear(&res);
	json_decref(guards);
	json_decref(extra);
	json_decref(ctx);
	cf_free(sub);
	return rc;
}

/*
 * Who can.
 */
struct who_list {
	struct cf_principal_rec	*p;
	size_t			 n, limit;
	bool			 truncated;
};

static cf_err
collect_principal(void *arg, const struct cf_principal_rec *p,
    struct cf_error *err)
{
	struct who_list	*w = arg;

	(void)err;
	if (w->n == w->limit) {
		w->truncated = true;
		return CF_OK;
	}
	w->p[w->n++] = *p;
	return CF_OK;
}

/* Does def apply to a resource of type rtype ("Namespace", "Object")?
 * Object actions apply to a namespace too: decided on the namespace
 * itself, they say what holds for its objects in general. */
static bool
applies_to(const struct cf_action_def *def, const char *rtype)
{
	const char	*types = core_action_resources(def);

	if ((def->flags & (CF_ACT_NOAUTH | CF_ACT_RECORD)) != 0 ||
	    def->role == CF_ROLE_NONE)
		return false;
	if (strcmp(def->name, "ns:create") == 0 ||
	    strcmp(def->name, "ns:list") == 0)
		return false;	/* not about one existing namespace */
	if (strcmp(rtype, "Namespace") == 0 &&
	    strcmp(def->resource, "object") == 0)
		return true;
	return strstr(types, rtype) != NULL;
}

static cf_err
who_one(struct cf_core *c, struct cf_req *sub,
    const struct cf_action_def *def, const char *ns, const char *key,
    json_t *list, struct cf_error *err)
{
	struct core_authz_result	 res;
	struct target			 t;
	json_t				*e;
	bool				 cond;
	cf_err				 rc;

	rc = target_of(def, ns, key, &t, err);
	if (rc == CF_OK)
		rc = core_authz_explain(c, sub, def, t.ns, t.data_ns,
		    t.resource, NULL, NULL, &res, err);
	if (rc != CF_OK)
		return rc;
	cond = json_array_size(res.conditional) > 0;
	if (res.allow || cond) {
		e = json_pack("{s:s, s:s, s:b, s:b, s:O, s:O}", "name",
		    sub->principal.name, "type",
		    core_principal_type(&sub->principal), "allowed",
		    res.allow ? 1 : 0, "conditional", cond ? 1 : 0,
		    "reasons", json_object_get(res.response, "reasons"),
		    "policies", res.conditional);
		if (e == NULL || json_array_append_new(list, e) != 0)
			rc = nomem(err);
	}
	core_authz_result_clear(&res);
	return rc;
}

cf_err
cf_core_access_who(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *action, size_t limit, json_t **out,
    struct cf_error *err)
{
	const struct cf_action_def	*defs, *def;
	struct who_list			 w = { NULL, 0, 0, false };
	struct cf_ns_rec		 nsr;
	struct cf_req			*sub = NULL;
	const char			*rtype;
	char				 res[CF_RESOURCE_MAX];
	json_t				*acts = NULL, *lists = NULL;
	json_t				*ctx = NULL, *list;
	size_t				 i, j, n;
	bool				 scope = false;
	cf_err				 rc;

	rtype = key != NULL ? "Object" : "Namespace";
	(void)snprintf(res, sizeof(res), "ns/%s/access", ns);
	rc = core_authorize(c, r, "access:who", ns, res, err);
	if (rc != CF_OK)
		return rc;
	if (!cf_name_ns_valid(ns) || (key != NULL &&
	    !cf_name_key_valid(key, strlen(key))))
		return cf_error_set(err, CF_E_INPUT, "invalid namespace or "
		    "key");
	if (action != NULL) {
		def = cf_action_find(action);
		if (def == NULL || !applies_to(def, rtype))
			return cf_error_set(err, CF_E_INPUT, "%s is not an "
			    "action the policies decide on a %s", action,
			    key != NULL ? "object" : "namespace");
	}
	if (limit == 0 || limit > WHO_LIMIT_MAX)
		limit = WHO_LIMIT_MAX;
	w.limit = limit;
	w.p = cf_calloc(limit, sizeof(*w.p));
	sub = cf_calloc(1, sizeof(*sub));
	acts = json_array();
	lists = json_object();
	if (w.p == NULL || sub == NULL || acts == NULL || lists == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	scope = true;
	rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_namespace";
	if (rc == CF_OK)
		rc = cf_meta_principal_list(c->meta, collect_principal, &w,
		    err);
	if (rc != CF_OK)
		goto out;
	defs = cf_actions(&n);
	for (j = 0; j < n; j++) {
		if (action != NULL ? strcmp(defs[j].name, action) != 0 :
		    !applies_to(&defs[j], rtype))
			continue;
		list = json_array();
		if (list == NULL || json_object_set_new(lists, defs[j].name,
		    list) != 0 || json_array_append_new(acts,
		    json_string(defs[j].name)) != 0) {
			rc = nomem(err);
			goto out;
		}
	}
	/* The neutral context: now, a session with MFA just done, no
	 * address, no token scope.  Policies that read the context are
	 * reported, not decided (see "conditional"). */
	for (i = 0; i < w.n && rc == CF_OK; i++) {
		if (w.p[i].disabled)
			continue;	/* can do nothing now */
		rc = subject_init(c, sub, &w.p[i], "", r->time_us, err);
		if (rc != CF_OK)
			break;
		sub->mfa = true;
		sub->mfa_age = 0;
		for (j = 0; j < json_array_size(acts) && rc == CF_OK; j++) {
			def = cf_action_find(json_string_value(
			    json_array_get(acts, j)));
			rc = who_one(c, sub, def, ns, key, json_object_get(
			    lists, def->name), err);
		}
		if (ctx == NULL && rc == CF_OK)
			ctx = core_authz_context(sub);
	}
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s, s:o, s:O, s:I, s:b, s:o}", "ns", ns, "key",
	    jstr_or_null(key), "actions", lists, "examined", (json_int_t)w.n,
	    "truncated", w.truncated ? 1 : 0, "context", ctx != NULL ? ctx :
	    json_object());
	ctx = NULL;
	if (*out == NULL)
		rc = nomem(err);
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	json_decref(ctx);
	json_decref(acts);
	json_decref(lists);
	cf_free(sub);
	cf_free(w.p);
	return rc;
}

/*
 * Replay.
 */
struct replay {
	struct cf_core		*c;
	struct core_authz_draft	*draft;
	struct cf_req		*sub;
	int64_t			 cutoff_us;
	size_t			 max_examples;
	json_t			*examples, *skipped;
	uint64_t		 examined, outside, replayed, unchanged;
	uint64_t		 a2d, d2a, drift, first_seq;
	int64_t			 first_us;
};

static cf_err
skip(struct replay *x, const char *why, struct cf_error *err)
{
	json_t	*v = json_object_get(x->skipped, why);

	if (json_object_set_new(x->skipped, why, json_integer(v != NULL ?
	    json_integer_value(v) + 1 : 1)) != 0)
		return nomem(err);
	return CF_OK;
}

static cf_err
replay_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct replay			*x = arg;
	const struct cf_action_def	*def;
	struct core_authz_result	 cur, dr;
	struct cf_principal_rec		 p;
	const char			*action, *pname, *recorded, *ns, *dns;
	json_t				*ctx, *e;
	int64_t				 t = 0;
	cf_err				 rc;

	x->examined++;
	if (x->first_seq == 0) {
		x->first_seq = (uint64_t)json_integer_value(
		    json_object_get(rec, "seq"));
		(void)cf_time_parse(json_string_value(json_object_get(rec,
		    "time")) != NULL ? json_string_value(json_object_get(rec,
		    "time")) : "", &x->first_us, NULL);
	}
	if (json_string_value(json_object_get(rec, "time")) == NULL ||
	    cf_time_parse(json_string_value(json_object_get(rec, "time")),
	    &t, NULL) != CF_OK || t < x->cutoff_us) {
		x->outside++;
		return CF_OK;
	}
	action = json_string_value(json_object_get(rec, "action"));
	pname = json_string_value(json_object_get(rec, "principal"));
	ctx = json_object_get(rec, "ctx");
	def = cf_action_find(action);
	if (def == NULL)
		return skip(x, "unknown action", err);
	if ((def->flags & (CF_ACT_NOAUTH | CF_ACT_RECORD)) != 0 ||
	    def->role == CF_ROLE_NONE)
		return skip(x, "not decided by the policies (credential-free, "
		    "self-service or an event record)", err);
	if (pname == NULL || *pname == '\0')
		return skip(x, "unauthenticated", err);
	if (!json_is_object(ctx))
		return skip(x, "no decision context (decided outside the "
		    "policies: self-service, listing, a refusal before the "
		    "decision; or recorded by an older version)", err);
	recorded = json_string_value(json_object_get(ctx, "decision"));
	if (recorded == NULL || !json_is_object(json_object_get(ctx,
	    "context")))
		return skip(x, "decision context truncated", err);
	rc = cf_meta_principal_get(x->c->meta, pname, &p, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		return skip(x, "principal no longer exists", err);
	}
	if (rc == CF_OK)
		rc = subject_init(x->c, x->sub, &p, "", t, err);
	if (rc != CF_OK)
		return rc;
	ns = json_string_value(json_object_get(ctx, "ns"));
	dns = json_string_value(json_object_get(ctx, "data_ns"));
	rc = core_authz_explain(x->c, x->sub, def, ns, dns,
	    json_string_value(json_object_get(rec, "resource")),
	    json_object_get(ctx, "context"), NULL, &cur, err);
	if (rc != CF_OK)
		return rc;
	rc = core_authz_explain(x->c, x->sub, def, ns, dns,
	    json_string_value(json_object_get(rec, "resource")),
	    json_object_get(ctx, "context"), x->draft, &dr, err);
	if (rc != CF_OK) {
		core_authz_result_clear(&cur);
		return rc;
	}
	x->replayed++;
	if (cur.allow != (strcmp(recorded, "allow") == 0))
		x->drift++;
	if (cur.allow == dr.allow)
		x->unchanged++;
	else {
		if (cur.allow)
			x->a2d++;
		else
			x->d2a++;
		if (json_array_size(x->examples) < x->max_examples) {
			e = json_pack("{s:O, s:O, s:O, s:s, s:s, s:O, s:s, "
			    "s:s, s:s, s:O, s:O}", "seq", json_object_get(rec,
			    "seq"), "time", json_object_get(rec, "time"),
			    "request_id", json_object_get(rec, "request_id"),
			    "principal", pname, "action", action, "resource",
			    json_object_get(rec, "resource"), "recorded",
			    recorded, "current", cur.allow ? "allow" : "deny",
			    "draft", dr.allow ? "allow" : "deny", "reasons",
			    json_object_get(dr.response, "reasons"), "errors",
			    json_object_get(dr.response, "errors"));
			if (e == NULL ||
			    json_array_append_new(x->examples, e) != 0)
				rc = nomem(err);
		}
	}
	core_authz_result_clear(&cur);
	core_authz_result_clear(&dr);
	return rc;
}

cf_err
cf_core_policy_replay(struct cf_core *c, struct cf_req *r,
    const json_t *body, json_t **out, json_t **problems,
    struct cf_error *err)
{
	struct replay	 x;
	json_t		*probs = NULL;
	json_int_t	 since = 0, limit = 10000, examples = 10;
	bool		 scope = false;
	cf_err		 rc;

	memset(&x, 0, sizeof(x));
	rc = core_authorize(c, r, "policy:replay", NULL, "policies/replay",
	    err);
	if (rc != CF_OK)
		return rc;
	if (json_object_get(body, "since_s") != NULL)
		since = json_integer_value(json_object_get(body, "since_s"));
	if (json_object_get(body, "limit") != NULL)
		limit = json_integer_value(json_object_get(body, "limit"));
	if (json_object_get(body, "examples") != NULL)
		examples = json_integer_value(json_object_get(body,
		    "examples"));
	if (since < 0 || since > 100LL * 366 * 86400 || limit < 1 ||
	    limit > REPLAY_LIMIT_MAX || examples < 0 ||
	    examples > REPLAY_EXAMPLES_MAX)
		return cf_error_set(err, CF_E_INPUT, "since_s (seconds, 0: "
		    "all), limit (1-%d records) and examples (0-%d) must be "
		    "numbers in range", REPLAY_LIMIT_MAX, REPLAY_EXAMPLES_MAX);
	rc = core_authz_draft_new(json_object_get(body, "sets"), &x.draft,
	    &probs, err);
	if (rc != CF_OK)
		return rc;
	if (json_array_size(probs) > 0) {
		r->errcode = "invalid_policy";
		*problems = probs;
		probs = NULL;
		rc = cf_error_set(err, CF_E_INPUT, "the draft does not "
		    "validate against Coffer's schema (coffer policy schema)");
		goto out;
	}
	x.c = c;
	x.cutoff_us = since > 0 ? r->time_us - since * 1000000 : INT64_MIN;
	x.max_examples = (size_t)examples;
	x.examples = json_array();
	x.skipped = json_object();
	x.sub = cf_calloc(1, sizeof(*x.sub));
	if (x.examples == NULL || x.skipped == NULL || x.sub == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	scope = true;
	/* The last `limit` records: a bounded read whatever the log's
	 * size (cf_audit_read's tail mode). */
	rc = cf_audit_read(c->data_dir, 0, 0, (size_t)limit, replay_cb, &x,
	    err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:I, s:I, s:I, s:{s:I, s:I}, s:I, s:I, s:O, s:O, "
	    "s:b}", "examined", (json_int_t)x.examined, "outside_window",
	    (json_int_t)x.outside, "replayed", (json_int_t)x.replayed,
	    "changed", "allow_to_deny", (json_int_t)x.a2d, "deny_to_allow",
	    (json_int_t)x.d2a, "unchanged", (json_int_t)x.unchanged,
	    "drift", (json_int_t)x.drift, "skipped", x.skipped, "examples",
	    x.examples, "truncated", x.examined == (uint64_t)limit &&
	    x.first_seq > 1 && x.first_us >= x.cutoff_us ? 1 : 0);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	json_decref(probs);
	json_decref(x.examples);
	json_decref(x.skipped);
	cf_free(x.sub);
	core_authz_draft_free(x.draft);
	return rc;
}
