/* src/core/ops_review.c: access review campaigns (`coffer review`;
 * docs/reviews.md, "Review campaigns").
 *
 * A campaign is a snapshot, taken at its start, of every principal's
 * effective access in its scope (one namespace, or all of them): each
 * namespace action the policies allow a principal is traced, through
 * the decision's reasons, to the grant that allows it (a binding, i.e.
 * a linked role template, or a stored policy set), and each (principal,
 * grant) becomes an item with the actions it allows, where, and its
 * last use in the audit log.  This is who-can's machinery
 * (core_authz_explain) under who-can's neutral context.
 *
 * Items close by a reviewer's decision (keep, or revoke: the binding is
 * deleted, or the policy set taken out of force, in the transaction that
 * closes the item, audited as the reviewer), or by the campaign itself
 * (the sweep, run on every access to it: principal system, record
 * review:sweep): a grant removed meanwhile, or its namespace deleted,
 * closes as "gone"; at the due date (the core's clock) open items are
 * revoked or escalated as the campaign says.
 *
 * SEC: nobody decides an item about their own access (own_access); an
 * item of the reviewer's own access goes to another reviewer at the
 * start.  The report is signed with the Ed25519 key of erasure
 * certificates, under its own context string, so that one kind of
 * document never verifies as the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/core_int.h"
#include "crypto/sign.h"
#include "policy/policy.h"

#define REVIEW_PRINCIPALS_MAX	10000	/* principals one start looks at */
#define REVIEW_NS_MAX		1000	/* namespaces one start looks at */
#define REVIEW_SCAN_MAX		100000	/* audit records read for last use */

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* A refusal after the decision allowed: recorded as denied, with why. */
static cf_err
refuse(struct cf_req *r, cf_err code, const char *errcode, const char *why,
    struct cf_error *err, const char *msg)
{
	cf_error_clear(err);
	r->allowed = false;
	r->errcode = errcode;
	cf_strlcpy(r->reasons, why, sizeof(r->reasons));
	return cf_error_set(err, code, "%s", msg);
}

/* Text a reviewer typed: at most max - 1 bytes of UTF-8 without control
 * characters. */
static bool
text_ok(const char *s, size_t max)
{
	size_t	n, i;

	n = strnlen(s, max);
	if (n >= max || !cf_utf8_valid(s, n))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/*
 * Building the items.
 */
struct items {
	struct cf_review_item	*v;
	json_t			**acts;		/* per item: action -> true */
	json_t			**nss;		/* per item: ns -> true */
	size_t			 n, cap;
};

static void
items_free(struct items *it)
{
	size_t	i;

	for (i = 0; i < it->n; i++) {
		json_decref(it->acts[i]);
		json_decref(it->nss[i]);
	}
	cf_free(it->v);
	cf_free(it->acts);
	cf_free(it->nss);
	memset(it, 0, sizeof(*it));
}

/* The item of (principal, kind, name, ns), made if new. */
static cf_err
item_of(struct items *it, const char *principal, const char *kind,
    const char *name, const char *ns, size_t *idx, struct cf_error *err)
{
	struct cf_review_item	*nv;
	json_t			**na, **nn;
	size_t			 i, ncap;

	for (i = 0; i < it->n; i++)
		if (strcmp(it->v[i].principal, principal) == 0 &&
		    strcmp(it->v[i].kind, kind) == 0 &&
		    strcmp(it->v[i].name, name) == 0 &&
		    strcmp(it->v[i].ns, ns) == 0) {
			*idx = i;
			return CF_OK;
		}
	if (it->n >= CF_REVIEW_ITEMS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "more than %d items in "
		    "one campaign: review fewer namespaces at a time",
		    CF_REVIEW_ITEMS_MAX);
	if (it->n == it->cap) {
		ncap = it->cap == 0 ? 16 : it->cap * 2;
		nv = cf_reallocarray(it->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return nomem(err);
		it->v = nv;
		na = cf_reallocarray(it->acts, ncap, sizeof(*na));
		if (na == NULL)
			return nomem(err);
		it->acts = na;
		nn = cf_reallocarray(it->nss, ncap, sizeof(*nn));
		if (nn == NULL)
			return nomem(err);
		it->nss = nn;
		it->cap = ncap;
	}
	memset(&it->v[it->n], 0, sizeof(it->v[it->n]));
	it->acts[it->n] = json_object();
	it->nss[it->n] = json_object();
	if (it->acts[it->n] == NULL || it->nss[it->n] == NULL) {
		json_decref(it->acts[it->n]);
		json_decref(it->nss[it->n]);
		return nomem(err);
	}
	cf_strlcpy(it->v[it->n].principal, principal,
	    sizeof(it->v[it->n].principal));
	cf_strlcpy(it->v[it->n].kind, kind, sizeof(it->v[it->n].kind));
	cf_strlcpy(it->v[it->n].name, name, sizeof(it->v[it->n].name));
	cf_strlcpy(it->v[it->n].ns, ns, sizeof(it->v[it->n].ns));
	*idx = it->n++;
	return CF_OK;
}

/* The grant a reason of an allow names: "role:R@NS" / "role:R" (a
 * binding), "NAME@NS/vN:ID" / "NAME/vN:ID" (a stored policy set).
 * false for anything else (a built-in policy that is no role). */
static bool
reason_grant(const char *reason, char kind[16], char name[CF_POLICY_NAME_MAX],
    char ns[CF_NS_NAME_MAX])
{
	const char	*at, *slash, *end;
	size_t		 len;

	ns[0] = '\0';
	if (strncmp(reason, "role:", 5) == 0) {
		cf_strlcpy(kind, "binding", 16);
		reason += 5;
		at = strchr(reason, '@');
		end = at != NULL ? at : reason + strlen(reason);
	} else {
		slash = strstr(reason, "/v");
		if (slash == NULL)
			return false;
		cf_strlcpy(kind, "policy", 16);
		at = memchr(reason, '@', (size_t)(slash - reason));
		end = at != NULL ? at : slash;
	}
	len = (size_t)(end - reason);
	if (len == 0 || len >= CF_POLICY_NAME_MAX)
		return false;
	memcpy(name, reason, len);
	name[len] = '\0';
	if (at != NULL) {
		end = strcmp(kind, "policy") == 0 ? strstr(at, "/v") :
		    at + strlen(at);
		len = (size_t)(end - at - 1);
		if (len == 0 || len >= CF_NS_NAME_MAX)
			return false;
		memcpy(ns, at + 1, len);
		ns[len] = '\0';
	}
	return true;
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

/* A scratch request for p as who-can decides: now, a session with MFA
 * just done, no address, the bindings in force. */
static cf_err
subject_init(struct cf_core *c, struct cf_req *sub,
    const struct cf_principal_rec *p, int64_t time_us, struct cf_error *err)
{
	cf_req_init(sub, "");
	sub->time_us = time_us;
	sub->principal = *p;
	sub->principal.disabled = false;	/* reviewed all the same */
	sub->authenticated = true;
	sub->authn = "session";
	sub->interactive = true;
	sub->mfa = true;
	sub->mfa_age = 0;
	return cf_meta_binding_list(c->meta, p->id, NULL, core_now_us(c),
	    add_binding, sub, err);
}

/* The actions a campaign looks at: those the policies decide on one
 * namespace (who-can's, without the listing). */
static bool
reviewed_action(const struct cf_action_def *def)
{
	return def->role != CF_ROLE_NONE && (def->flags & (CF_ACT_NOAUTH |
	    CF_ACT_RECORD)) == 0 && (def->flags & CF_ACT_NS) != 0 &&
	    strcmp(def->name, "ns:list") != 0;
}

/* Every action the policies allow sub on ns, traced to its grants. */
static cf_err
scan_one(struct cf_core *c, struct cf_req *sub, const char *ns,
    struct items *it, struct cf_error *err)
{
	const struct cf_action_def	*defs;
	struct core_authz_result	 res;
	char				 resource[CF_RESOURCE_MAX];
	char				 kind[16], name[CF_POLICY_NAME_MAX];
	char				 gns[CF_NS_NAME_MAX];
	json_t				*v;
	size_t				 n, i, j, idx;
	cf_err				 rc = CF_OK;

	(void)snprintf(resource, sizeof(resource), "ns/%s", ns);
	defs = cf_actions(&n);
	for (i = 0; i < n && rc == CF_OK; i++) {
		if (!reviewed_action(&defs[i]))
			continue;
		rc = core_authz_explain(c, sub, &defs[i], ns, ns, resource,
		    NULL, NULL, &res, err);
		if (rc != CF_OK)
			break;
		json_array_foreach(json_object_get(res.response, "reasons"), j,
		    v) {
			if (!res.allow || json_string_value(v) == NULL ||
			    !reason_grant(json_string_value(v), kind, name,
			    gns))
				continue;
			rc = item_of(it, sub->principal.name, kind, name, gns,
			    &idx, err);
			if (rc == CF_OK && (json_object_set_new(it->acts[idx],
			    defs[i].name, json_true()) != 0 ||
			    json_object_set_new(it->nss[idx], ns,
			    json_true()) != 0))
				rc = nomem(err);
			if (rc != CF_OK)
				break;
		}
		core_authz_result_clear(&res);
	}
	return rc;
}

struct start_ctx {
	struct cf_core		*c;
	const char		*ns;		/* NULL: all */
	struct cf_principal_rec	*p;
	size_t			 np;
	char			(*nss)[CF_NS_NAME_MAX];
	size_t			 nns;
	struct items		 it;
	/* last use */
	int64_t			 first_us;
	uint64_t		 first_seq;
	bool			 truncated;
};

static cf_err
collect_p(void *arg, const struct cf_principal_rec *p, struct cf_error *err)
{
	struct start_ctx	*x = arg;

	if (x->np >= REVIEW_PRINCIPALS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "more than %d "
		    "principals", REVIEW_PRINCIPALS_MAX);
	x->p[x->np++] = *p;
	return CF_OK;
}

static cf_err
collect_ns(void *arg, const struct cf_ns_rec *ns, struct cf_error *err)
{
	struct start_ctx	*x = arg;

	if (x->nns >= REVIEW_NS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "more than %d "
		    "namespaces: review them one at a time (--ns)",
		    REVIEW_NS_MAX);
	cf_strlcpy(x->nss[x->nns++], ns->name, CF_NS_NAME_MAX);
	return CF_OK;
}

/* Last use: an allowed record of the item's principal whose reasons name
 * its grant. */
static cf_err
use_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct start_ctx	*x = arg;
	const char		*pname, *dec, *reasons, *ts, *p, *q;
	char			 tok[256], kind[16], name[CF_POLICY_NAME_MAX];
	char			 gns[CF_NS_NAME_MAX];
	int64_t			 t = 0;
	size_t			 len, i;

	(void)err;
	ts = json_string_value(json_object_get(rec, "time"));
	if (ts == NULL || cf_time_parse(ts, &t, NULL) != CF_OK)
		return CF_OK;
	if (x->first_seq == 0) {
		x->first_seq = (uint64_t)json_integer_value(
		    json_object_get(rec, "seq"));
		x->first_us = t;
	}
	pname = json_string_value(json_object_get(rec, "principal"));
	dec = json_string_value(json_object_get(rec, "decision"));
	reasons = json_string_value(json_object_get(rec, "reasons"));
	if (pname == NULL || dec == NULL || strcmp(dec, "allow") != 0 ||
	    reasons == NULL)
		return CF_OK;
	for (p = reasons; *p != '\0'; p = *q == ',' ? q + 1 : q) {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		len = (size_t)(q - p);
		if (len >= sizeof(tok))
			continue;
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (!reason_grant(tok, kind, name, gns))
			continue;
		for (i = 0; i < x->it.n; i++)
			if (strcmp(x->it.v[i].principal, pname) == 0 &&
			    strcmp(x->it.v[i].kind, kind) == 0 &&
			    strcmp(x->it.v[i].name, name) == 0 &&
			    strcmp(x->it.v[i].ns, gns) == 0 &&
			    t > x->it.v[i].last_used_us)
				x->it.v[i].last_used_us = t;
	}
	return CF_OK;
}

/* A global admin other than who (enabled, by name), for an escalation
 * or an item of the reviewer's own access; "" if there is none. */
struct admin_ctx {
	struct cf_core	*c;
	const char	*not1, *not2;
	char		 found[CF_PRINCIPAL_MAX];
};

static cf_err
admin_cb(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct admin_ctx	*x = arg;
	struct cf_principal_rec	 p;
	struct cf_error		 e;

	(void)err;
	if (strcmp(b->role, "admin") != 0 || b->ns[0] != '\0' ||
	    strcmp(b->principal, x->not1) == 0 || (x->not2 != NULL &&
	    strcmp(b->principal, x->not2) == 0))
		return CF_OK;
	if (cf_meta_principal_get(x->c->meta, b->principal, &p, &e) != CF_OK ||
	    p.disabled)
		return CF_OK;
	if (x->found[0] == '\0' || strcmp(b->principal, x->found) < 0)
		cf_strlcpy(x->found, b->principal, sizeof(x->found));
	return CF_OK;
}

/* Who reviews an item of principal's access instead of `instead`: the
 * campaign's creator unless it is the principal, else another global
 * admin, else "" (any admin but the principal). */
static cf_err
other_reviewer(struct cf_core *c, const char *creator, const char *principal,
    char out[CF_PRINCIPAL_MAX], struct cf_error *err)
{
	struct admin_ctx	x;
	cf_err			rc;

	if (strcmp(creator, principal) != 0) {
		cf_strlcpy(out, creator, CF_PRINCIPAL_MAX);
		return CF_OK;
	}
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.not1 = principal;
	rc = cf_meta_binding_list(c->meta, -1, "", core_now_us(c), admin_cb,
	    &x, err);
	if (rc == CF_OK)
		cf_strlcpy(out, x.found, CF_PRINCIPAL_MAX);
	return rc;
}

/* SEC: is it the binding of the last enabled global admin?  Revoking
 * it would lock everyone out of administration, so neither a decision
 * nor a due date does (the binding stays; docs/reviews.md). */
static cf_err
last_admin(struct cf_core *c, const struct cf_review_item *it, bool *yes,
    struct cf_error *err)
{
	struct admin_ctx	x;
	cf_err			rc;

	*yes = false;
	if (strcmp(it->kind, "binding") != 0 ||
	    strcmp(it->name, "admin") != 0 || it->ns[0] != '\0')
		return CF_OK;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.not1 = it->principal;
	rc = cf_meta_binding_list(c->meta, -1, "", core_now_us(c), admin_cb,
	    &x, err);
	*yes = rc == CF_OK && x.found[0] == '\0';
	return rc;
}

static json_t *
keys_json(json_t *obj)
{
	json_t		*a = json_array(), *v;
	const char	*k;

	if (a == NULL)
		return NULL;
	json_object_foreach(obj, k, v) {
		(void)v;
		if (json_array_append_new(a, json_string(k)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Bindings in scope that allow nothing now (a custom role taken out of
 * force, say) are reviewed too: they are still in the table. */
static cf_err
idle_bindings(struct start_ctx *x, struct cf_req *sub, struct cf_error *err)
{
	size_t	i, idx, k;
	bool	in;
	cf_err	rc = CF_OK;

	for (i = 0; i < sub->nbindings && rc == CF_OK; i++) {
		in = sub->bindings[i].ns[0] == '\0' ? x->ns == NULL : false;
		for (k = 0; k < x->nns && !in; k++)
			in = strcmp(x->nss[k], sub->bindings[i].ns) == 0;
		if (!in)
			continue;
		rc = item_of(&x->it, sub->principal.name, "binding",
		    sub->bindings[i].role, sub->bindings[i].ns, &idx, err);
		if (rc == CF_OK)
			x->it.v[idx].expires_us = sub->bindings[i].expires_us;
	}
	return rc;
}

/*
 * Stored policy sets that name a principal (principal == User::"P", a
 * share grant, ...) though not about a whole namespace: the decisions
 * on namespaces above do not reach them, their text does.
 */
struct named_walk {
	json_t	*acts;
	cf_err	 rc;
};

static cf_err
named_action_cb(void *arg, const struct cf_policy_action_ref *ref,
    struct cf_error *err)
{
	struct named_walk		*w = arg;
	const struct cf_action_def	*defs;
	char				 name[64];
	size_t				 n, i;

	if (ref->is_template || !ref->in_scope)
		return CF_OK;
	if (!ref->any && (ref->type == NULL || ref->tlen != 6 ||
	    memcmp(ref->type, "Action", 6) != 0 || ref->id == NULL ||
	    ref->ilen >= sizeof(name)))
		return CF_OK;
	if (!ref->any) {
		memcpy(name, ref->id, ref->ilen);
		name[ref->ilen] = '\0';
	}
	defs = cf_actions(&n);
	for (i = 0; i < n; i++) {
		if (!ref->any && strcmp(defs[i].name, name) != 0 &&
		    strcmp(core_action_group(&defs[i]), name) != 0)
			continue;
		if (json_object_set_new(w->acts, defs[i].name,
		    json_true()) != 0)
			return nomem(err);
	}
	return CF_OK;
}

static cf_err
named_cb(void *arg, const struct cf_policy_rec *pr, const char *text,
    size_t len, struct cf_error *err)
{
	struct start_ctx	*x = arg;
	struct cf_policy_set	*ps = NULL;
	struct named_walk	 w;
	char			 pat[CF_PRINCIPAL_MAX + 16];
	size_t			 i, k, idx;
	bool			 in = pr->ns[0] == '\0';
	cf_err			 rc = CF_OK;

	for (k = 0; k < x->nns && !in; k++)
		in = strcmp(x->nss[k], pr->ns) == 0;
	if (!in || strncmp(pr->name, "role.", 5) == 0)
		return CF_OK;
	for (i = 0; i < x->np && rc == CF_OK; i++) {
		(void)snprintf(pat, sizeof(pat), "%s::\"%s\"",
		    core_principal_type(&x->p[i]), x->p[i].name);
		if (strstr(text, pat) == NULL)
			continue;
		rc = item_of(&x->it, x->p[i].name, "policy", pr->name, pr->ns,
		    &idx, err);
		if (rc == CF_OK && pr->ns[0] != '\0' && json_object_set_new(
		    x->it.nss[idx], pr->ns, json_true()) != 0)
			rc = nomem(err);
		if (rc != CF_OK || json_object_size(x->it.acts[idx]) > 0)
			continue;
		/* Its actions: those the set names. */
		if (ps == NULL && cf_policy_set_parse(text, len, &ps,
		    NULL) != CF_OK)
			continue;
		w.acts = x->it.acts[idx];
		w.rc = CF_OK;
		rc = cf_policy_set_actions(ps, named_action_cb, &w, err);
	}
	cf_policy_set_free(ps);
	return rc;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct cf_review_item	*x = a, *y = b;
	int				 d;

	if ((d = strcmp(x->principal, y->principal)) != 0)
		return d;
	if ((d = strcmp(x->kind, y->kind)) != 0)
		return d;
	if ((d = strcmp(x->ns, y->ns)) != 0)
		return d;
	return strcmp(x->name, y->name);
}

static json_t *review_json(const struct cf_review_rec *rv);

cf_err
cf_core_review_start(struct cf_core *c, struct cf_req *r, const char *ns,
    const char *reviewer, int64_t due_s, const char *on_timeout,
    json_t **out, struct cf_error *err)
{
	struct start_ctx	 x;
	struct cf_review_rec	 rv;
	struct cf_principal_rec	 rp;
	struct cf_ns_rec	 nsr;
	struct cf_req		*sub = NULL;
	struct core_act		 act;
	json_t			*det;
	char			*txt;
	uint8_t			 rnd[10];
	size_t			 i, j, k;
	bool			 scope = false;
	cf_err			 rc;

	memset(&x, 0, sizeof(x));
	rc = core_authorize(c, r, "review:start", NULL, "reviews", err);
	if (rc != CF_OK)
		return rc;
	if (ns != NULL && !cf_name_ns_valid(ns)) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "invalid namespace");
	}
	if (due_s < 1 || due_s > CF_REVIEW_DUE_MAX) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "due: 1 to %d seconds "
		    "from now", CF_REVIEW_DUE_MAX);
	}
	if (on_timeout == NULL)
		on_timeout = c->cfg.review_on_timeout != NULL &&
		    c->cfg.review_on_timeout[0] != '\0' ?
		    c->cfg.review_on_timeout : "escalate";
	if (strcmp(on_timeout, "revoke") != 0 &&
	    strcmp(on_timeout, "escalate") != 0) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "on_timeout: revoke or "
		    "escalate");
	}
	if (reviewer == NULL)
		reviewer = r->principal.name;
	x.c = c;
	x.ns = ns;
	x.p = cf_calloc(REVIEW_PRINCIPALS_MAX, sizeof(*x.p));
	x.nss = cf_calloc(ns != NULL ? 1 : REVIEW_NS_MAX, sizeof(*x.nss));
	sub = cf_calloc(1, sizeof(*sub));
	if (x.p == NULL || x.nss == NULL || sub == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	scope = true;
	rc = cf_meta_principal_get(c->meta, reviewer, &rp, err);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_principal";
	else if (rc == CF_OK && rp.disabled)
		rc = cf_error_set(err, CF_E_INPUT, "reviewer %s is disabled",
		    reviewer);
	if (rc != CF_OK)
		goto out;
	if (ns != NULL) {
		rc = cf_meta_ns_get(c->meta, ns, &nsr, err);
		if (rc == CF_E_NOTFOUND)
			r->errcode = "no_such_namespace";
		if (rc != CF_OK)
			goto out;
		cf_strlcpy(x.nss[0], ns, CF_NS_NAME_MAX);
		x.nns = 1;
	} else
		rc = cf_meta_ns_list(c->meta, collect_ns, &x, err);
	if (rc == CF_OK)
		rc = cf_meta_principal_list(c->meta, collect_p, &x, err);
	for (i = 0; i < x.np && rc == CF_OK; i++) {
		rc = subject_init(c, sub, &x.p[i], r->time_us, err);
		for (j = 0; j < x.nns && rc == CF_OK; j++)
			rc = scan_one(c, sub, x.nss[j], &x.it, err);
		if (rc == CF_OK)
			rc = idle_bindings(&x, sub, err);
		/* The expiry each binding had at the start. */
		for (j = 0; j < x.it.n && rc == CF_OK; j++) {
			if (strcmp(x.it.v[j].principal, x.p[i].name) != 0 ||
			    strcmp(x.it.v[j].kind, "binding") != 0)
				continue;
			for (k = 0; k < sub->nbindings; k++)
				if (strcmp(sub->bindings[k].role,
				    x.it.v[j].name) == 0 &&
				    strcmp(sub->bindings[k].ns,
				    x.it.v[j].ns) == 0)
					x.it.v[j].expires_us =
					    sub->bindings[k].expires_us;
		}
	}
	if (rc == CF_OK)
		rc = cf_meta_policy_current(c->meta, named_cb, &x, err);
	if (rc == CF_OK)
		rc = cf_audit_read(c->data_dir, 0, 0, REVIEW_SCAN_MAX, use_cb,
		    &x, err);
	if (rc != CF_OK)
		goto out;
	x.truncated = x.first_seq > 1;
	memset(&rv, 0, sizeof(rv));
	rc = cf_random(rnd, sizeof(rnd), err);
	if (rc != CF_OK)
		goto out;
	memcpy(rv.id, "rv-", 3);
	cf_hex_encode(rnd, sizeof(rnd), rv.id + 3);
	cf_strlcpy(rv.ns, ns != NULL ? ns : "", sizeof(rv.ns));
	cf_strlcpy(rv.creator, r->principal.name, sizeof(rv.creator));
	cf_strlcpy(rv.reviewer, rp.name, sizeof(rv.reviewer));
	cf_strlcpy(rv.on_timeout, on_timeout, sizeof(rv.on_timeout));
	rv.created_us = core_now_us(c);
	rv.due_us = rv.created_us + due_s * 1000000;
	for (i = 0; i < x.it.n && rc == CF_OK; i++) {
		det = json_pack("{s:o, s:o}", "actions", keys_json(
		    x.it.acts[i]), "namespaces", keys_json(x.it.nss[i]));
		txt = det != NULL ? cf_json_dumps_flags(det, JSON_COMPACT |
		    JSON_SORT_KEYS) : NULL;
		json_decref(det);
		if (txt == NULL) {
			rc = nomem(err);
			break;
		}
		if (strlen(txt) >= sizeof(x.it.v[i].detail))
			rc = cf_error_set(err, CF_E_LIMIT, "an item grants on "
			    "too many namespaces: review them one at a time "
			    "(--ns)");
		else
			cf_strlcpy(x.it.v[i].detail, txt,
			    sizeof(x.it.v[i].detail));
		cf_json_free(txt);
		/* SEC: never one's own access: the reviewer's items go to
		 * someone else. */
		if (rc == CF_OK && strcmp(x.it.v[i].principal,
		    rv.reviewer) == 0)
			rc = other_reviewer(c, rv.creator,
			    x.it.v[i].principal, x.it.v[i].reviewer, err);
		else
			cf_strlcpy(x.it.v[i].reviewer, rv.reviewer,
			    sizeof(x.it.v[i].reviewer));
	}
	if (rc != CF_OK)
		goto out;
	/* The same order whatever the store's: by principal, then grant.
	 * (acts and nss are not needed past this point.) */
	if (x.it.n > 1)
		qsort(x.it.v, x.it.n, sizeof(*x.it.v), item_cmp);
	for (i = 0; i < x.it.n; i++) {
		cf_strlcpy(x.it.v[i].review_id, rv.id,
		    sizeof(x.it.v[i].review_id));
		x.it.v[i].n = (int64_t)i + 1;
		cf_strlcpy(x.it.v[i].state, "open", sizeof(x.it.v[i].state));
	}
	cf_meta_scope_end(c->meta);
	scope = false;
	(void)snprintf(r->resource, sizeof(r->resource), "reviews/%s",
	    rv.id);
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = cf_meta_review_create(c->meta, &act.au, &rv, x.it.v,
		    x.it.n, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		goto out;
	*out = review_json(&rv);
	if (*out == NULL || json_object_set_new(*out, "items",
	    json_integer((json_int_t)x.it.n)) != 0 ||
	    json_object_set_new(*out, "last_use_complete",
	    json_boolean(!x.truncated)) != 0)
		rc = nomem(err);
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	items_free(&x.it);
	cf_free(x.p);
	cf_free(x.nss);
	cf_free(sub);
	return rc;
}

/*
 * The campaign's own changes: the sweep.
 */

/* A system act on item it of campaign id (its record: review:sweep,
 * principal system, reasons why). */
static void
system_req(struct cf_core *c, struct cf_req *r, const char *id, int64_t n,
    const char *why)
{
	cf_req_init(r, "local");
	r->time_us = core_now_us(c);
	r->authenticated = true;
	r->authn = "internal";
	(void)cf_strlcpy(r->principal.name, "system",
	    sizeof(r->principal.name));
	r->action = "review:sweep";
	r->allowed = true;
	if (n > 0)
		(void)snprintf(r->resource, sizeof(r->resource),
		    "reviews/%s/items/%lld", id, (long long)n);
	else
		(void)snprintf(r->resource, sizeof(r->resource), "reviews/%s",
		    id);
	cf_strlcpy(r->reasons, why, sizeof(r->reasons));
}

struct open_items {
	struct cf_review_item	*v;
	size_t			 n, cap;
	const char		*only;	/* reviewer: count theirs; NULL */
	size_t			 mine;
};

static cf_err
open_cb(void *arg, const struct cf_review_item *it, struct cf_error *err)
{
	struct open_items	*o = arg;
	struct cf_review_item	*nv;
	size_t			 ncap;

	if (o->only != NULL && strcmp(it->reviewer, o->only) == 0)
		o->mine++;
	if (strcmp(it->state, "open") != 0)
		return CF_OK;
	if (o->n == o->cap) {
		ncap = o->cap == 0 ? 8 : o->cap * 2;
		nv = cf_reallocarray(o->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return nomem(err);
		o->v = nv;
		o->cap = ncap;
	}
	o->v[o->n++] = *it;
	return CF_OK;
}

struct find_binding {
	const char	*role, *ns;
	bool		 found;
	int64_t		 expires_us;
};

static cf_err
find_cb(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct find_binding	*f = arg;

	(void)err;
	if (strcmp(b->role, f->role) == 0 && strcmp(b->ns, f->ns) == 0) {
		f->found = true;
		f->expires_us = b->expires_us;
	}
	return CF_OK;
}

/* Is the grant of it still there?  *why (static text) says why not;
 * *pid the principal's id (0: gone); f (nullable) the binding now. */
static cf_err
grant_state(struct cf_core *c, const struct cf_review_item *it,
    const char **why, int64_t *pid, struct find_binding *f,
    struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct cf_policy_rec	pr;
	struct cf_ns_rec	nsr;
	struct find_binding	fb;
	cf_err			rc;

	*why = NULL;
	*pid = 0;
	if (it->ns[0] != '\0') {
		rc = cf_meta_ns_get(c->meta, it->ns, &nsr, err);
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			*why = "namespace deleted";
			return CF_OK;
		}
		if (rc != CF_OK)
			return rc;
	}
	rc = cf_meta_principal_get(c->meta, it->principal, &p, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		*why = "principal deleted";
		return CF_OK;
	}
	if (rc != CF_OK)
		return rc;
	*pid = p.id;
	if (strcmp(it->kind, "policy") == 0) {
		rc = cf_meta_policy_get(c->meta, it->name, it->ns, 0, &pr,
		    NULL, err);
		if (rc == CF_E_NOTFOUND || (rc == CF_OK && pr.deleted)) {
			cf_error_clear(err);
			*why = "policy set removed";
			return CF_OK;
		}
		return rc;
	}
	memset(&fb, 0, sizeof(fb));
	fb.role = it->name;
	fb.ns = it->ns;
	rc = cf_meta_binding_list(c->meta, p.id, it->ns, core_now_us(c),
	    find_cb, &fb, err);
	if (rc != CF_OK)
		return rc;
	if (!fb.found)
		*why = "binding removed or expired";
	if (f != NULL)
		*f = fb;
	return CF_OK;
}

/* Close items whose grant is gone; at the due date, revoke or escalate
 * those still open.  Each change is its own act (principal system). */
static cf_err
sweep(struct cf_core *c, const char *id, struct cf_error *err)
{
	struct cf_review_rec	 rv;
	struct open_items	 o;
	struct cf_req		*sr = NULL;
	struct core_act		 act;
	const char		*why;
	char			 esc[CF_PRINCIPAL_MAX], out[256];
	int64_t			 pid, now;
	size_t			 i;
	bool			 due, lastadm = false;
	cf_err			 rc;

	memset(&o, 0, sizeof(o));
	rc = cf_meta_review_get(c->meta, id, &rv, err);
	if (rc == CF_OK)
		rc = cf_meta_review_items(c->meta, id, open_cb, &o, err);
	if (rc != CF_OK || (o.n == 0 && rv.timed_out_us != 0))
		goto out;
	sr = cf_calloc(1, sizeof(*sr));
	if (sr == NULL) {
		rc = nomem(err);
		goto out;
	}
	now = core_now_us(c);
	due = rv.timed_out_us == 0 && now >= rv.due_us;
	for (i = 0; i < o.n && rc == CF_OK; i++) {
		rc = grant_state(c, &o.v[i], &why, &pid, NULL, err);
		if (rc == CF_OK && why == NULL && due)
			rc = last_admin(c, &o.v[i], &lastadm, err);
		if (rc != CF_OK)
			break;
		if (why != NULL) {
			(void)snprintf(out, sizeof(out), "gone: %s", why);
			system_req(c, sr, id, o.v[i].n, out);
			rc = core_act_begin(&act, c, sr, 200, err);
			if (rc == CF_OK)
				rc = cf_meta_review_item_close(c->meta,
				    &act.au, id, o.v[i].n, "gone", "system",
				    now, "", why, 0, err);
		} else if (due && !o.v[i].escalated &&
		    strcmp(rv.on_timeout, "revoke") == 0 &&
		    strcmp(o.v[i].kind, "binding") == 0 && !lastadm) {
			/* SEC: an unanswered item is revoked, as the
			 * campaign said. */
			(void)snprintf(out, sizeof(out), "due,revoke binding "
			    "%s@%s of %s", o.v[i].name, o.v[i].ns[0] != '\0' ?
			    o.v[i].ns : "*", o.v[i].principal);
			system_req(c, sr, id, o.v[i].n, out);
			rc = core_act_begin(&act, c, sr, 200, err);
			if (rc == CF_OK)
				rc = cf_meta_review_item_close(c->meta,
				    &act.au, id, o.v[i].n, "revoked", "system",
				    now, "", "due date passed without a "
				    "decision: revoked", pid, err);
		} else if (due && !o.v[i].escalated) {
			/* Escalated (a policy set may grant others too:
			 * never removed unanswered). */
			rc = other_reviewer(c, rv.creator, o.v[i].principal,
			    esc, err);
			if (rc != CF_OK)
				break;
			(void)snprintf(out, sizeof(out), "due,escalate to %s",
			    esc[0] != '\0' ? esc : "any admin");
			system_req(c, sr, id, o.v[i].n, out);
			rc = core_act_begin(&act, c, sr, 200, err);
			if (rc == CF_OK)
				rc = cf_meta_review_item_escalate(c->meta,
				    &act.au, id, o.v[i].n, esc, err);
		} else
			continue;
		rc = core_act_end(&act, rc);
		/* Someone else's decision or sweep got there first. */
		if (rc == CF_E_CONFLICT || rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			rc = CF_OK;
		}
	}
	if (rc == CF_OK && due) {
		system_req(c, sr, id, 0, "due");
		rc = core_act_begin(&act, c, sr, 200, err);
		if (rc == CF_OK)
			rc = cf_meta_review_timed_out(c->meta, &act.au, id, now,
			    err);
		rc = core_act_end(&act, rc);
		if (rc == CF_E_CONFLICT) {
			cf_error_clear(err);
			rc = CF_OK;
		}
	}
out:
	cf_free(sr);
	cf_free(o.v);
	return rc;
}

/*
 * Reading.
 */
static json_t *
review_json(const struct cf_review_rec *rv)
{
	return json_pack("{s:s, s:s?, s:s, s:s, s:s, s:o, s:o, s:b}", "id",
	    rv->id, "ns", rv->ns[0] != '\0' ? rv->ns : NULL, "creator",
	    rv->creator, "reviewer", rv->reviewer, "on_timeout",
	    rv->on_timeout, "created", core_time_json(rv->created_us), "due",
	    core_time_json(rv->due_us), "due_passed", rv->timed_out_us != 0);
}

/* An item as shown and reported; with c, whether its grant changed since
 * the start (a binding's expiry) is looked up too. */
static json_t *
item_json(struct cf_core *c, const struct cf_review_item *it, bool signed_)
{
	struct find_binding	 f;
	struct cf_error		 e;
	const char		*why = NULL;
	json_t			*det, *j;
	int64_t			 pid;
	bool			 binding = strcmp(it->kind, "binding") == 0;

	if (cf_json_parse(it->detail, strlen(it->detail), sizeof(it->detail),
	    8, &det, NULL) != CF_OK)
		det = json_object();
	j = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:O?, s:O?, s:o, "
	    "s:o, s:s, s:s, s:b, s:s, s:o, s:s, s:s}", "n", (json_int_t)it->n,
	    "principal", it->principal, "kind", it->kind, "role", binding ?
	    it->name : NULL, "policy", binding ? NULL : it->name, "ns",
	    it->ns[0] != '\0' ? it->ns : NULL, "actions",
	    json_object_get(det, "actions"), "namespaces",
	    json_object_get(det, "namespaces"), "expires", core_time_json(
	    it->expires_us), "last_used", core_time_json(it->last_used_us),
	    "reviewer", it->reviewer, "state", it->state, "escalated",
	    it->escalated, "decided_by", it->decided_by, "decided",
	    core_time_json(it->decided_us), "note", it->note, "outcome",
	    it->outcome);
	json_decref(det);
	if (j == NULL || c == NULL || signed_ || !binding ||
	    strcmp(it->state, "open") != 0)
		return j;
	/* A binding granted again meanwhile (another expiry) is reviewed
	 * as it is now: say so. */
	memset(&f, 0, sizeof(f));
	if (grant_state(c, it, &why, &pid, &f, &e) == CF_OK && why == NULL &&
	    f.found && f.expires_us != it->expires_us &&
	    (json_object_set_new(j, "changed", json_true()) != 0 ||
	    json_object_set_new(j, "expires_now",
	    core_time_json(f.expires_us)) != 0)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* May r see or decide in campaign rv without review:* by role?  When it
 * reviews the campaign or one of its items. */
static cf_err
reviews_it(struct cf_core *c, const struct cf_review_rec *rv,
    const char *who, bool *yes, struct cf_error *err)
{
	struct open_items	o;
	cf_err			rc;

	*yes = strcmp(rv->reviewer, who) == 0;
	if (*yes)
		return CF_OK;
	memset(&o, 0, sizeof(o));
	o.only = who;
	rc = cf_meta_review_items(c->meta, rv->id, open_cb, &o, err);
	cf_free(o.v);
	*yes = rc == CF_OK && o.mine > 0;
	return rc;
}

/* The decision on campaign id for action (show, report, decide): a
 * reviewer of it as self-service, anyone else by the policies.  *rv
 * gets the campaign.  An unknown id is decided by the policies (so that
 * a non-admin learns nothing of which ids exist), then 404. */
static cf_err
authorize_review(struct cf_core *c, struct cf_req *r, const char *action,
    const char *id, const char *resource, struct cf_review_rec *rv,
    struct cf_error *err)
{
	bool	found = false, mine = false;
	cf_err	rc;

	if (!r->authenticated)
		return core_authorize(c, r, action, NULL, resource, err);
	rc = cf_meta_review_get(c->meta, id, rv, err);
	found = rc == CF_OK;
	if (rc == CF_E_NOTFOUND)
		cf_error_clear(err);
	else if (rc != CF_OK)
		return rc;
	if (found) {
		rc = reviews_it(c, rv, r->principal.name, &mine, err);
		if (rc != CF_OK)
			return rc;
	}
	if (mine && !core_can(c, r, action, NULL))
		rc = core_authorize_self(c, r, action, resource, err);
	else
		rc = core_authorize(c, r, action, NULL, resource, err);
	if (rc != CF_OK)
		return rc;
	if (!found) {
		r->errcode = "no_such_review";
		return cf_error_set(err, CF_E_NOTFOUND, "no access review %s",
		    id);
	}
	return CF_OK;
}

struct show_ctx {
	struct cf_core	*c;
	json_t		*arr;
	bool		 signed_;
	size_t		 open, kept, revoked, gone, escalated;
};

static cf_err
show_cb(void *arg, const struct cf_review_item *it, struct cf_error *err)
{
	struct show_ctx	*x = arg;

	if (strcmp(it->state, "open") == 0)
		x->open++;
	else if (strcmp(it->state, "kept") == 0)
		x->kept++;
	else if (strcmp(it->state, "revoked") == 0)
		x->revoked++;
	else
		x->gone++;
	if (it->escalated)
		x->escalated++;
	if (json_array_append_new(x->arr, item_json(x->c, it,
	    x->signed_)) != 0)
		return nomem(err);
	return CF_OK;
}

/* The campaign with its items and their counts (a new reference). */
static cf_err
campaign_json(struct cf_core *c, const struct cf_review_rec *rv,
    bool signed_, json_t **out, struct cf_error *err)
{
	struct show_ctx	x;
	json_t		*o;
	cf_err		rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.signed_ = signed_;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_review_items(c->meta, rv->id, show_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	o = review_json(rv);
	if (o == NULL || json_object_set_new(o, "items", x.arr) != 0) {
		json_decref(o);
		return nomem(err);
	}
	if (json_object_set_new(o, "summary", json_pack("{s:I, s:I, s:I, "
	    "s:I, s:I, s:I}", "items", (json_int_t)json_array_size(x.arr),
	    "open", (json_int_t)x.open, "kept", (json_int_t)x.kept,
	    "revoked", (json_int_t)x.revoked, "gone", (json_int_t)x.gone,
	    "escalated", (json_int_t)x.escalated)) != 0 ||
	    json_object_set_new(o, "complete", json_boolean(x.open == 0)) !=
	    0) {
		json_decref(o);
		return nomem(err);
	}
	*out = o;
	return CF_OK;
}

/* The sweep of a campaign before it is read: its failure is logged and
 * the campaign read as it is (the reading is no change). */
static void
sweep_logged(struct cf_core *c, const char *id)
{
	struct cf_error	e;

	cf_error_clear(&e);
	if (sweep(c, id, &e) != CF_OK)
		log_warnx("event=review_sweep_failed review=%s msg=\"%s\"", id,
		    e.msg);
}

cf_err
cf_core_review_show(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_review_rec	rv;
	char			res[CF_RESOURCE_MAX];
	cf_err			rc;

	(void)snprintf(res, sizeof(res), "reviews/%s", id);
	rc = authorize_review(c, r, "review:show", id, res, &rv, err);
	if (rc != CF_OK)
		return rc;
	sweep_logged(c, id);
	rc = cf_meta_review_get(c->meta, id, &rv, err);
	if (rc == CF_OK)
		rc = campaign_json(c, &rv, false, out, err);
	return rc;
}

struct list_ctx {
	struct cf_core	*c;
	json_t		*arr;
	const char	*only;		/* NULL: every campaign */
	cf_err		 rc;
};

static cf_err
list_cb(void *arg, const struct cf_review_rec *rv, struct cf_error *err)
{
	struct list_ctx	*x = arg;
	bool		 mine = true;
	cf_err		 rc;

	if (x->only != NULL) {
		rc = reviews_it(x->c, rv, x->only, &mine, err);
		if (rc != CF_OK)
			return rc;
	}
	if (mine && json_array_append_new(x->arr, review_json(rv)) != 0)
		return nomem(err);
	return CF_OK;
}

/* The campaigns past their due date whose sweep has not run: swept
 * before the listing, so that it shows them as they are. */
struct due_ctx {
	int64_t	 now;
	char	(*ids)[CF_REVIEW_ID_LEN + 1];
	size_t	 n, cap;
};

static cf_err
due_cb(void *arg, const struct cf_review_rec *rv, struct cf_error *err)
{
	struct due_ctx	*d = arg;
	void		*nv;
	size_t		 ncap;

	if (rv->timed_out_us != 0 || rv->due_us > d->now)
		return CF_OK;
	if (d->n == d->cap) {
		ncap = d->cap == 0 ? 8 : d->cap * 2;
		nv = cf_reallocarray(d->ids, ncap, sizeof(*d->ids));
		if (nv == NULL)
			return nomem(err);
		d->ids = nv;
		d->cap = ncap;
	}
	cf_strlcpy(d->ids[d->n++], rv->id, sizeof(d->ids[0]));
	return CF_OK;
}

cf_err
cf_core_review_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct list_ctx	x;
	struct due_ctx	d;
	size_t		i;
	cf_err		rc;

	memset(&x, 0, sizeof(x));
	if (r->authenticated && !core_can(c, r, "review:list", NULL)) {
		x.only = r->principal.name;
		rc = core_authorize_self(c, r, "review:list", "reviews", err);
	} else
		rc = core_authorize(c, r, "review:list", NULL, "reviews",
		    err);
	if (rc != CF_OK)
		return rc;
	memset(&d, 0, sizeof(d));
	d.now = core_now_us(c);
	rc = cf_meta_review_list(c->meta, due_cb, &d, err);
	for (i = 0; rc == CF_OK && i < d.n; i++)
		sweep_logged(c, d.ids[i]);
	cf_free(d.ids);
	if (rc != CF_OK)
		return rc;
	x.c = c;
	x.arr = json_array();
	if (x.arr == NULL)
		return nomem(err);
	rc = cf_meta_review_list(c->meta, list_cb, &x, err);
	if (rc != CF_OK) {
		json_decref(x.arr);
		return rc;
	}
	*out = json_pack("{s:o}", "reviews", x.arr);
	return *out == NULL ? nomem(err) : CF_OK;
}

/*
 * Deciding.
 */
cf_err
cf_core_review_decide(struct cf_core *c, struct cf_req *r, const char *id,
    int64_t n, const char *decision, const char *note, json_t **out,
    struct cf_error *err)
{
	struct cf_review_rec	 rv;
	struct cf_review_item	*it = NULL;
	struct cf_policy_rec	 cur, put;
	struct find_binding	 fb;
	struct core_act		 act;
	const char		*why;
	char			 res[CF_RESOURCE_MAX], add[256];
	int64_t			 pid;
	bool			 revoke, lastadm = false;
	bool			 policy_changed = false;
	cf_err			 rc;

	(void)snprintf(res, sizeof(res), "reviews/%s/items/%lld", id,
	    (long long)n);
	rc = authorize_review(c, r, "review:decide", id, res, &rv, err);
	if (rc != CF_OK)
		return rc;
	it = cf_calloc(1, sizeof(*it));
	if (it == NULL)
		return nomem(err);
	sweep_logged(c, id);
	rc = cf_meta_review_item_get(c->meta, id, n, it, err);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_item";
	if (rc != CF_OK)
		goto out;
	/* SEC: nobody reviews their own access, admin or not. */
	if (strcmp(it->principal, r->principal.name) == 0) {
		rc = refuse(r, CF_E_DENIED, "own_access", "own access", err,
		    "an item about one's own access is decided by another "
		    "reviewer");
		goto out;
	}
	/* Another reviewer's item: only with review:decide by role (an
	 * admin), which authorize_review decided unless r reviews some
	 * item of the campaign. */
	if (strcmp(it->reviewer, r->principal.name) != 0 &&
	    !core_can(c, r, "review:decide", NULL)) {
		rc = refuse(r, CF_E_DENIED, "not_reviewer", "not the item's "
		    "reviewer", err, "this item is another reviewer's");
		goto out;
	}
	if (decision == NULL || (strcmp(decision, "keep") != 0 &&
	    strcmp(decision, "revoke") != 0)) {
		r->errcode = "bad_request";
		rc = cf_error_set(err, CF_E_INPUT, "decision: keep or revoke");
		goto out;
	}
	if (note == NULL)
		note = "";
	if (!text_ok(note, CF_REVIEW_NOTE_MAX)) {
		r->errcode = "bad_request";
		rc = cf_error_set(err, CF_E_INPUT, "note: at most %d bytes of "
		    "text without control characters", CF_REVIEW_NOTE_MAX - 1);
		goto out;
	}
	if (strcmp(it->state, "open") != 0) {
		r->errcode = "item_closed";
		rc = cf_error_set(err, CF_E_CONFLICT, "item %lld is closed "
		    "(%s%s%s)", (long long)n, it->state, it->outcome[0] !=
		    '\0' ? ": " : "", it->outcome);
		goto out;
	}
	revoke = strcmp(decision, "revoke") == 0;
	rc = grant_state(c, it, &why, &pid, &fb, err);
	if (rc == CF_OK && revoke)
		rc = last_admin(c, it, &lastadm, err);
	if (rc != CF_OK)
		goto out;
	if (revoke && lastadm && why == NULL) {
		r->errcode = "last_admin";
		rc = refuse(r, CF_E_CONFLICT, "last_admin", "last global "
		    "admin", err, "this is the last global admin binding: "
		    "grant admin to someone else first");
		goto out;
	}
	if (revoke && why != NULL) {
		r->errcode = "item_closed";
		rc = cf_error_set(err, CF_E_CONFLICT, "nothing to revoke: %s",
		    why);
		goto out;
	}
	if (revoke)
		(void)snprintf(add, sizeof(add), ",revoke %s %s@%s of %s",
		    it->kind, it->name, it->ns[0] != '\0' ? it->ns : "*",
		    it->principal);
	else
		(void)snprintf(add, sizeof(add), ",keep %s %s@%s of %s",
		    it->kind, it->name, it->ns[0] != '\0' ? it->ns : "*",
		    it->principal);
	(void)cf_strlcat(r->reasons, add, sizeof(r->reasons));
	if (revoke && strcmp(it->kind, "policy") == 0) {
		rc = cf_meta_policy_get(c->meta, it->name, it->ns, 0, &cur,
		    NULL, err);
		if (rc != CF_OK)
			goto out;
		memset(&put, 0, sizeof(put));
		cf_strlcpy(put.name, it->name, sizeof(put.name));
		cf_strlcpy(put.ns, it->ns, sizeof(put.ns));
		cf_strlcpy(put.created_by, r->principal.name,
		    sizeof(put.created_by));
		put.created_us = core_now_us(c);
		put.deleted = true;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	/* The policy set goes out of force in the act that closes the
	 * item; a binding in the very transaction that closes it. */
	if (rc == CF_OK && revoke && strcmp(it->kind, "policy") == 0) {
		rc = cf_meta_policy_put(c->meta, &act.au, &put, "", 0,
		    cur.version, NULL, err);
		policy_changed = rc == CF_OK;
	}
	if (rc == CF_OK)
		rc = cf_meta_review_item_close(c->meta, &act.au, id, n,
		    revoke ? "revoked" : "kept", r->principal.name,
		    core_now_us(c), note, revoke ? "revoked by the reviewer" :
		    "kept by the reviewer", revoke && strcmp(it->kind,
		    "binding") == 0 ? pid : 0, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT)
		r->errcode = "item_closed";
	if (rc == CF_E_NOTFOUND) {
		r->errcode = "item_closed";
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_CONFLICT, "the binding went "
		    "meanwhile: nothing to revoke");
	}
	if (rc == CF_OK && policy_changed)
		rc = core_authz_reload_after(c, r, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_meta_review_item_get(c->meta, id, n, it, err);
	if (rc != CF_OK)
		goto out;
	*out = item_json(c, it, false);
	if (*out == NULL)
		rc = nomem(err);
out:
	cf_free(it);
	return rc;
}

/*
 * The signed report.
 */
cf_err
cf_core_review_report(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_review_rec	 rv;
	uint8_t			 sig[CF_SIGN_SIG_LEN], pk[CF_SIGN_PK_LEN];
	char			 sighex[CF_SIGN_SIG_LEN * 2 + 1];
	char			 pkhex[CF_SIGN_PK_LEN * 2 + 1];
	char			 res[CF_RESOURCE_MAX];
	json_t			*payload = NULL;
	int64_t			 now;
	cf_err			 rc;

	(void)snprintf(res, sizeof(res), "reviews/%s/report", id);
	rc = authorize_review(c, r, "review:report", id, res, &rv, err);
	if (rc != CF_OK)
		return rc;
	if (c->erase_seed == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no report signing "
		    "key");
	sweep_logged(c, id);
	rc = cf_meta_review_get(c->meta, id, &rv, err);
	if (rc == CF_OK)
		rc = campaign_json(c, &rv, true, &payload, err);
	if (rc != CF_OK)
		return rc;
	now = core_now_us(c);
	if (json_object_set_new(payload, "type",
	    json_string("coffer-access-review")) != 0 ||
	    json_object_set_new(payload, "generated_at",
	    core_time_json(now)) != 0 || json_object_set_new(payload,
	    "request_id", json_string(r->request_id)) != 0 ||
	    json_object_set_new(payload, "scope", json_string(rv.ns[0] !=
	    '\0' ? rv.ns : "all")) != 0) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_sign_public(c->erase_seed, pk, err);
	if (rc == CF_OK)
		rc = cf_sign_doc(c->erase_seed, CF_REVIEW_REPORT_CONTEXT,
		    payload, sig, err);
	if (rc != CF_OK)
		goto out;
	cf_hex_encode(sig, sizeof(sig), sighex);
	cf_hex_encode(pk, sizeof(pk), pkhex);
	*out = json_pack("{s:O, s:{s:s, s:s, s:s}}", "report", payload,
	    "signature", "alg", "Ed25519", "public_key", pkhex, "value",
	    sighex);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(payload);
	return rc;
}
