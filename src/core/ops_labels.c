/* src/core/ops_labels.c: user attributes and labels (on a namespace or an
 * object key): the values that attribute-based policies read, so every
 * change is an access change.
 *
 * SEC: setting or removing either can widen access (a permit that asks
 * for an attribute, a forbid that asks for a label), so both follow the
 * grant rule: a credential with a human second factor, never an API
 * token.  Attributes are an admin's (user:attr); labels are the
 * namespace owner's (label:set, label:rm), decided as binding:create on
 * that namespace.  Each change is one store transaction with its audit
 * record made durable inside it (core_act_begin). */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/actions.h"
#include "core/core_int.h"

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* The request's changes, checked before any store call so that a bad one
 * is refused with the member that is wrong.  what: "attribute" or
 * "label". */
static cf_err
changes_check(struct cf_req *r, const json_t *changes, const char *what,
    struct cf_error *err)
{
	const char	*name;
	json_t		*v;

	if (!json_is_object(changes) || json_object_size(changes) == 0) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "give at least one %s",
		    what);
	}
	if (json_object_size(changes) > 2 * CF_ATTRS_MAX) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "at most %d %s changes "
		    "at once", 2 * CF_ATTRS_MAX, what);
	}
	json_object_foreach((json_t *)(uintptr_t)changes, name, v) {
		if (!cf_meta_attr_name_valid(name)) {
			r->errcode = "invalid_name";
			return cf_error_set(err, CF_E_INPUT, "invalid %s name "
			    "\"%.64s\" (a-z, then up to 62 of a-z 0-9 _ . -)",
			    what, name);
		}
		if (json_is_null(v))
			continue;
		if (!json_is_string(v) ||
		    !cf_meta_attr_value_valid(json_string_value(v),
		    json_string_length(v))) {
			r->errcode = "invalid_value";
			return cf_error_set(err, CF_E_INPUT, "invalid value "
			    "of %s %s: a string of at most %d bytes of UTF-8 "
			    "without control characters (null removes it)",
			    what, name, CF_ATTR_VALUE_MAX - 1);
		}
	}
	return CF_OK;
}

/* The store's answer to a change: its limit is the caller's 400. */
static cf_err
change_result(struct cf_req *r, cf_err rc, const char *what,
    struct cf_error *err)
{
	if (rc != CF_E_LIMIT)
		return rc;
	cf_error_clear(err);
	r->errcode = strcmp(what, "label") == 0 ? "too_many_labels" :
	    "too_many_attributes";
	return cf_error_set(err, CF_E_INPUT, "at most %d %ss per %s",
	    CF_ATTRS_MAX, what, strcmp(what, "label") == 0 ?
	    "namespace or object" : "user");
}

/* ---- user attributes ---- */

static cf_err
user_by_name(struct cf_core *c, struct cf_req *r, const char *name,
    struct cf_principal_rec *p, struct cf_error *err)
{
	cf_err	rc;

	if (!cf_name_principal_valid(name))
		rc = cf_error_set(err, CF_E_NOTFOUND, "no such user");
	else
		rc = cf_meta_principal_get(c->meta, name, p, err);
	if (rc == CF_OK && strcmp(p->kind, "user") != 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "no such user");
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_principal";
	return rc;
}

cf_err
cf_core_user_attrs_set(struct cf_core *c, struct cf_req *r, const char *name,
    const json_t *changes, json_t **out, struct cf_error *err)
{
	struct cf_principal_rec	 p;
	struct core_act		 act;
	char			 res[CF_RESOURCE_MAX];
	json_t			*attrs = NULL;
	cf_err			 rc;

	(void)snprintf(res, sizeof(res), "user/%s/attributes", name);
	/* SEC: the grant rule, for setting and removing alike. */
	rc = core_authorize_grant(c, r, "user:attr", NULL, res, err);
	if (rc == CF_OK)
		rc = changes_check(r, changes, "attribute", err);
	if (rc == CF_OK)
		rc = user_by_name(c, r, name, &p, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_attrs_set(c->meta, &act.au, p.id, changes, NULL,
		    err);
	rc = core_act_end(&act, rc);
	rc = change_result(r, rc, "attribute", err);
	if (rc == CF_OK)
		rc = cf_meta_attrs_get(c->meta, p.id, &attrs, err);
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:o}", "name", p.name, "attributes", attrs);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
core_oidc_attrs_sync(struct cf_core *c, struct cf_req *r,
    const json_t *attrs, const char *const *names, size_t n,
    struct cf_error *err)
{
	struct core_act	 act;
	json_t		*cur = NULL, *ch = NULL, *want;
	const char	*got;
	size_t		 i;
	cf_err		 rc;

	if (n == 0)
		return CF_OK;
	rc = cf_meta_attrs_get(c->meta, r->principal.id, &cur, err);
	if (rc != CF_OK)
		return rc;
	ch = json_object();
	if (ch == NULL) {
		rc = nomem(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		want = json_object_get(attrs, names[i]);
		got = json_string_value(json_object_get(cur, names[i]));
		if (want == NULL && got != NULL)
			rc = json_object_set_new(ch, names[i], json_null()) ?
			    nomem(err) : CF_OK;
		else if (want != NULL && (got == NULL ||
		    strcmp(got, json_string_value(want)) != 0))
			rc = json_object_set(ch, names[i], want) ? nomem(err) :
			    CF_OK;
		if (rc != CF_OK)
			goto out;
	}
	if (json_object_size(ch) == 0)
		goto out;
	/* Its own record, as user:provision: the request itself is
	 * decided and recorded afterwards. */
	r->authenticated = true;
	r->action = "user:oidc-attrs";
	(void)snprintf(r->resource, sizeof(r->resource), "user/%s/attributes",
	    r->principal.name);
	r->allowed = true;
	cf_strlcpy(r->reasons, "oidc claims", sizeof(r->reasons));
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_attrs_set(c->meta, &act.au, r->principal.id, ch,
		    NULL, err);
	rc = core_act_end(&act, rc);
	r->authenticated = false;
	r->action = "unknown";
	r->resource[0] = '\0';
	r->allowed = false;
	r->reasons[0] = '\0';
	r->audited = false;
	if (rc == CF_OK)
		log_info("event=oidc_attrs_changed principal=%s changed=%zu",
		    r->principal.name, json_object_size(ch));
out:
	json_decref(cur);
	json_decref(ch);
	return rc;
}

/* ---- labels ---- */

/* The resource is what the labels are on (the action says what is done
 * to it), so that policies see a Namespace or an Object with its tags. */
static void
label_resource(char *out, size_t outsz, const char *ns, const char *key)
{
	if (key[0] == '\0')
		(void)snprintf(out, outsz, "ns/%s", ns);
	else
		(void)snprintf(out, outsz, "ns/%s/obj/%s", ns, key);
}

/* Validate ns and key (NULL or "": the namespace), and find the
 * namespace (errcode no_such_namespace). */
static cf_err
label_target(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, struct cf_ns_rec *nsr, struct cf_error *err)
{
	cf_err	rc;

	if (!cf_name_ns_valid(ns)) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid namespace name");
	}
	if (key[0] != '\0' && !cf_name_key_valid(key, strlen(key))) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid object key "
		    "(1-1024 bytes of UTF-8)");
	}
	rc = cf_meta_ns_get(c->meta, ns, nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		rc = cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    ns);
	}
	return rc;
}

static json_t *
labels_json(const char *ns, const char *key, json_t *labels)
{
	return json_pack("{s:s,s:s?,s:o}", "ns", ns, "key", key[0] != '\0' ?
	    key : NULL, "labels", labels);
}

static cf_err
labels_change(struct cf_core *c, struct cf_req *r, const char *action,
    const char *ns, const char *key, const json_t *changes, json_t **out,
    struct cf_error *err)
{
	struct cf_ns_rec	 nsr;
	struct core_act		 act;
	char			 res[CF_RESOURCE_MAX];
	json_t			*labels = NULL;
	cf_err			 rc;

	if (key == NULL)
		key = "";
	label_resource(res, sizeof(res), ns, key);
	/* SEC: owner on the namespace and the grant rule, as
	 * binding:create on it (the restricted-data rule included). */
	rc = core_authorize_grant(c, r, action, ns, res, err);
	if (rc == CF_OK)
		rc = changes_check(r, changes, "label", err);
	if (rc == CF_OK)
		rc = label_target(c, r, ns, key, &nsr, err);
	if (rc != CF_OK)
		return rc;
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_labels_set(c->meta, &act.au, nsr.id, key, changes,
		    NULL, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND && r->errcode == NULL) {
		cf_error_clear(err);
		r->errcode = key[0] != '\0' ? "no_such_key" :
		    "no_such_namespace";
		rc = key[0] != '\0' ? cf_error_set(err, CF_E_NOTFOUND,
		    "no object \"%s\" in namespace \"%s\" (labels are set on "
		    "live objects)", key, ns) : cf_error_set(err,
		    CF_E_NOTFOUND, "no namespace \"%s\"", ns);
	}
	rc = change_result(r, rc, "label", err);
	if (rc == CF_OK)
		rc = cf_meta_labels_get(c->meta, nsr.id, key, &labels, err);
	if (rc != CF_OK)
		return rc;
	*out = labels_json(ns, key, labels);
	return *out == NULL ? nomem(err) : CF_OK;
}

cf_err
cf_core_labels_set(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const json_t *changes, json_t **out,
    struct cf_error *err)
{
	return labels_change(c, r, "label:set", ns, key, changes, out, err);
}

cf_err
cf_core_labels_rm(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, const char *names, json_t **out, struct cf_error *err)
{
	json_t		*ch;
	const char	*p, *comma;
	char		 name[CF_ATTR_NAME_MAX + 1];
	size_t		 len;
	cf_err		 rc = CF_OK;

	ch = json_object();
	if (ch == NULL)
		return nomem(err);
	/* Comma-separated: a name never holds one.  A name too long or
	 * empty is kept as something invalid for changes_check. */
	for (p = names != NULL ? names : ""; *p != '\0' && rc == CF_OK;
	    p = *comma != '\0' ? comma + 1 : comma) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		len = (size_t)(comma - p);
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, p, len);
		name[len] = '\0';
		if (len == 0)
			cf_strlcpy(name, ",", sizeof(name));
		if (json_object_set_new(ch, name, json_null()) != 0)
			rc = nomem(err);
	}
	if (rc == CF_OK)
		rc = labels_change(c, r, "label:rm", ns, key, ch, out, err);
	json_decref(ch);
	return rc;
}

cf_err
cf_core_labels_get(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *key, json_t **out, struct cf_error *err)
{
	struct cf_ns_rec	 nsr;
	struct cf_version_rec	*v = NULL;
	char			 res[CF_RESOURCE_MAX];
	json_t			*labels = NULL;
	cf_err			 rc;

	if (key == NULL)
		key = "";
	if (key[0] == '\0')
		(void)snprintf(res, sizeof(res), "ns/%s", ns);
	else
		(void)snprintf(res, sizeof(res), "ns/%s/obj/%s", ns, key);
	/* Labels are metadata of what they label: read as it is. */
	rc = core_authorize(c, r, key[0] == '\0' ? "ns:get" : "object:head",
	    ns, res, err);
	if (rc == CF_OK)
		rc = label_target(c, r, ns, key, &nsr, err);
	if (rc != CF_OK)
		return rc;
	if (key[0] != '\0') {
		/* A key that was never there answers 404, as HEAD does. */
		v = cf_calloc(1, sizeof(*v));
		if (v == NULL)
			return nomem(err);
		rc = cf_meta_version_get(c->meta, ns, key, NULL, v, err);
		cf_wipe(v, sizeof(*v));
		cf_free(v);
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			r->errcode = "no_such_key";
			return cf_error_set(err, CF_E_NOTFOUND, "no object "
			    "\"%s\" in namespace \"%s\"", key, ns);
		}
		if (rc != CF_OK)
			return rc;
	}
	rc = cf_meta_labels_get(c->meta, nsr.id, key, &labels, err);
	if (rc != CF_OK)
		return rc;
	*out = labels_json(ns, key, labels);
	return *out == NULL ? nomem(err) : CF_OK;
}
