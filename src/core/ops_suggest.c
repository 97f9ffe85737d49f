/* src/core/ops_suggest.c: `coffer access suggest` (GET
 * /v1/access/suggest): for each binding in force, what it was used for
 * in a period and the narrowest role that would have allowed all of it
 * (core/suggest.h decides; docs/reviews.md).
 *
 * A use of a binding is an allowed audit record of its principal whose
 * reasons name it ("role:ROLE@NS", "role:ROLE"), as for `access stale`:
 * a request allowed by a stored policy alone used no binding and does
 * not count.  The log is read from its end, at most SUGGEST_SCAN_MAX
 * records; "complete" says whether they reach back to the period's
 * start (a use before the oldest record read is not seen, so a
 * suggestion may then be too narrow: the answer says so). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/core_int.h"
#include "core/suggest.h"
#include "policy/policy.h"

#define BUFSTR(b)	((b)->data != NULL ? (b)->data : "")
#define SUGGEST_SCAN_MAX	100000	/* audit records read, at most */
#define SUGGEST_BINDINGS_MAX	100000
#define SUGGEST_ROLES_MAX	128	/* custom roles looked at */
#define SUGGEST_PER_NS_MAX	10	/* namespaces a global binding may be
					 * split into, at most */

struct sg_binding {
	struct cf_binding_rec	 b;
	char			 id[CF_ROLE_MAX + CF_NS_NAME_MAX + 8];
	const char		*used[CF_SUGGEST_ACTIONS_MAX];
	size_t			 nused;
	uint64_t		 uses;
	int64_t			 last_us;
	json_t			*by_ns;		/* ns ("": none) -> {action} */
};

/* A custom role's actions, for global and for namespace bindings. */
struct sg_role {
	char		 name[CF_SUGGEST_NAME_MAX];
	const char	*g[CF_SUGGEST_ACTIONS_MAX];
	size_t		 ng;
	const char	*n[CF_SUGGEST_ACTIONS_MAX];
	size_t		 nn;
};

struct sg {
	struct cf_core		*c;
	const char		*only;		/* principal; NULL: all */
	struct sg_binding	*v;
	size_t			 n, cap;
	struct sg_role		*roles;
	size_t			 nroles;
	int64_t			 cutoff_us, now_us, first_us;
	uint64_t		 first_seq, scanned;
};

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static int
sb_cmp(const void *a, const void *b)
{
	const struct sg_binding	*x = a, *y = b;
	int			 d;

	d = strcmp(x->b.principal, y->b.principal);
	return d != 0 ? d : strcmp(x->id, y->id);
}

static cf_err
binding_cb(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct sg		*x = arg;
	struct sg_binding	*nv, *e;
	size_t			 ncap;

	if (x->only != NULL && strcmp(b->principal, x->only) != 0)
		return CF_OK;
	if (x->n >= SUGGEST_BINDINGS_MAX)
		return cf_error_set(err, CF_E_LIMIT, "more than %d bindings",
		    SUGGEST_BINDINGS_MAX);
	if (x->n == x->cap) {
		ncap = x->cap == 0 ? 16 : x->cap * 2;
		nv = cf_reallocarray(x->v, ncap, sizeof(*nv));
		if (nv == NULL)
			return nomem(err);
		x->v = nv;
		x->cap = ncap;
	}
	e = &x->v[x->n++];
	memset(e, 0, sizeof(*e));
	e->b = *b;
	if (b->ns[0] != '\0')
		(void)snprintf(e->id, sizeof(e->id), "role:%s@%s", b->role,
		    b->ns);
	else
		(void)snprintf(e->id, sizeof(e->id), "role:%s", b->role);
	return CF_OK;
}

/* The action of a used record, once per binding: the registry's name
 * (a pointer that lives as long as the program); and where (ns, "" for
 * an action about no namespace). */
static cf_err
add_use(struct sg_binding *e, const struct cf_action_def *def, int64_t t,
    const char *ns, struct cf_error *err)
{
	json_t	*acts;
	size_t	 i;

	e->uses++;
	if (t > e->last_us)
		e->last_us = t;
	if (e->by_ns == NULL && (e->by_ns = json_object()) == NULL)
		return nomem(err);
	acts = json_object_get(e->by_ns, ns);
	if (acts == NULL && (json_object_set_new(e->by_ns, ns,
	    json_object()) != 0 || (acts = json_object_get(e->by_ns,
	    ns)) == NULL))
		return nomem(err);
	if (json_object_set_new(acts, def->name, json_true()) != 0)
		return nomem(err);
	for (i = 0; i < e->nused; i++)
		if (e->used[i] == def->name)
			return CF_OK;
	if (e->nused < CF_SUGGEST_ACTIONS_MAX)
		e->used[e->nused++] = def->name;
	return CF_OK;
}

static cf_err
record_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct sg			*x = arg;
	const struct cf_action_def	*def;
	struct sg_binding		 key, *hit;
	const char			*pname, *dec, *reasons, *ts, *p, *q;
	const char			*ns;
	json_t				*ctx;
	int64_t				 t = 0;
	size_t				 len;
	cf_err				 rc;

	x->scanned++;
	ts = json_string_value(json_object_get(rec, "time"));
	if (ts == NULL || cf_time_parse(ts, &t, NULL) != CF_OK)
		return CF_OK;
	if (x->first_seq == 0) {
		x->first_seq = (uint64_t)json_integer_value(
		    json_object_get(rec, "seq"));
		x->first_us = t;
	}
	if (t < x->cutoff_us)
		return CF_OK;
	pname = json_string_value(json_object_get(rec, "principal"));
	dec = json_string_value(json_object_get(rec, "decision"));
	reasons = json_string_value(json_object_get(rec, "reasons"));
	def = cf_action_find(json_string_value(json_object_get(rec,
	    "action")));
	/* Only actions a role decides: a record (a download's end) or a
	 * self-service action needs no role. */
	if (pname == NULL || dec == NULL || strcmp(dec, "allow") != 0 ||
	    reasons == NULL || def == NULL || def->role == CF_ROLE_NONE ||
	    (def->flags & (CF_ACT_RECORD | CF_ACT_NOAUTH)) != 0 ||
	    cf_strlcpy(key.b.principal,
	    pname, sizeof(key.b.principal)) >= sizeof(key.b.principal))
		return CF_OK;
	/* Where: the data's namespace, else the role decision's. */
	ctx = json_object_get(rec, "ctx");
	ns = json_string_value(json_object_get(ctx, "data_ns"));
	if (ns == NULL)
		ns = json_string_value(json_object_get(ctx, "ns"));
	if (ns == NULL)
		ns = "";
	for (p = reasons; *p != '\0'; p = *q == ',' ? q + 1 : q) {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		len = (size_t)(q - p);
		if (len < 6 || strncmp(p, "role:", 5) != 0 ||
		    len >= sizeof(key.id))
			continue;
		memcpy(key.id, p, len);
		key.id[len] = '\0';
		hit = bsearch(&key, x->v, x->n, sizeof(*x->v), sb_cmp);
		if (hit != NULL && (rc = add_use(hit, def, t, ns, err)) !=
		    CF_OK)
			return rc;
	}
	return CF_OK;
}

/*
 * Custom roles: the actions the templates of "role.NAME" name.
 */
struct walk {
	struct sg_role	*role;
	bool		 any_g, any_n;
	cf_err		 rc;
};

static void
add_action(const char **v, size_t *n, const char *name)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i], name) == 0)
			return;
	if (*n < CF_SUGGEST_ACTIONS_MAX)
		v[(*n)++] = name;
}

/* One action the scope of a template names: an action, or a group
 * (Action::"read"), which stands for its members. */
static void
add_ref(struct sg_role *ro, bool global, const char *id, size_t ilen)
{
	const struct cf_action_def	*defs;
	char				 name[64];
	size_t				 n, i;

	if (ilen >= sizeof(name))
		return;
	memcpy(name, id, ilen);
	name[ilen] = '\0';
	defs = cf_actions(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(defs[i].name, name) != 0 &&
		    strcmp(core_action_group(&defs[i]), name) != 0)
			continue;
		/* SEC-neutral: a namespace binding reaches only actions
		 * decided on a namespace. */
		if (!global && (defs[i].flags & CF_ACT_NS) == 0)
			continue;
		if (global)
			add_action(ro->g, &ro->ng, defs[i].name);
		else
			add_action(ro->n, &ro->nn, defs[i].name);
	}
}

static void
add_groups(struct sg_role *ro, bool global)
{
	static const char *const groups[] = { "read", "write", "manage",
	    "admin" };
	size_t	i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		add_ref(ro, global, groups[i], strlen(groups[i]));
}

static cf_err
action_cb(void *arg, const struct cf_policy_action_ref *ref,
    struct cf_error *err)
{
	struct walk	*w = arg;
	char		 gid[CF_SUGGEST_NAME_MAX + 8];
	char		 nid[CF_SUGGEST_NAME_MAX + 8];
	bool		 g, n;

	(void)err;
	if (!ref->is_template || !ref->in_scope)
		return CF_OK;
	(void)snprintf(gid, sizeof(gid), "global:%s", w->role->name);
	(void)snprintf(nid, sizeof(nid), "ns:%s", w->role->name);
	g = strcmp(ref->policy_id, gid) == 0;
	n = strcmp(ref->policy_id, nid) == 0;
	if (!g && !n)
		return CF_OK;
	if (ref->any) {
		if (g)
			w->any_g = true;
		else
			w->any_n = true;
		return CF_OK;
	}
	if (ref->type == NULL || ref->tlen != 6 ||
	    memcmp(ref->type, "Action", 6) != 0 || ref->id == NULL)
		return CF_OK;
	add_ref(w->role, g, ref->id, ref->ilen);
	return CF_OK;
}

static cf_err
role_cb(void *arg, const struct cf_policy_rec *p, struct cf_error *err)
{
	struct sg		*x = arg;
	struct cf_policy_rec	 rec;
	struct cf_policy_set	*ps = NULL;
	struct sg_role		*ro;
	struct walk		 w;
	char			*text = NULL;
	cf_err			 rc;

	if (strncmp(p->name, "role.", 5) != 0 || p->ns[0] != '\0' ||
	    strlen(p->name + 5) >= CF_SUGGEST_NAME_MAX ||
	    x->nroles >= SUGGEST_ROLES_MAX ||
	    !core_authz_role_exists(x->c, p->name + 5, true))
		return CF_OK;
	rc = cf_meta_policy_get(x->c->meta, p->name, "", 0, &rec, &text, err);
	if (rc != CF_OK)
		return rc;
	/* A set that no longer parses defines nothing (the engine would
	 * not have loaded it either). */
	if (cf_policy_set_parse(text, strlen(text), &ps, NULL) != CF_OK) {
		cf_free(text);
		return CF_OK;
	}
	ro = &x->roles[x->nroles];
	memset(ro, 0, sizeof(*ro));
	(void)cf_strlcpy(ro->name, p->name + 5, sizeof(ro->name));
	memset(&w, 0, sizeof(w));
	w.role = ro;
	rc = cf_policy_set_actions(ps, action_cb, &w, err);
	/* An unconstrained action scope: every group. */
	if (rc == CF_OK && w.any_g)
		add_groups(ro, true);
	if (rc == CF_OK && w.any_n)
		add_groups(ro, false);
	if (rc == CF_OK)
		x->nroles++;
	cf_policy_set_free(ps);
	cf_free(text);
	return rc;
}

static json_t *
strs_json(const char *const *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static const char *const kind_names[] = { "keep", "builtin", "custom",
    "revoke" };

/* {ns: [action, ...]} of a binding's uses ("" for actions about no
 * namespace); a new reference, NULL on NOMEM. */
static json_t *
by_ns_json(json_t *by_ns)
{
	json_t		*o = json_object(), *acts, *v, *a;
	const char	*ns, *act;

	if (o == NULL)
		return NULL;
	json_object_foreach(by_ns, ns, acts) {
		a = json_array();
		if (a == NULL || json_object_set_new(o, ns, a) != 0) {
			json_decref(o);
			return NULL;
		}
		json_object_foreach(acts, act, v) {
			(void)v;
			if (json_array_append_new(a, json_string(act)) != 0) {
				json_decref(o);
				return NULL;
			}
		}
	}
	return o;
}

/* A global binding used only on a few namespaces, for actions about a
 * namespace: the narrowest role that allows those uses as bindings on
 * just those namespaces ({role, namespaces, command}; *out NULL when
 * there is none).  The same check as cf_suggest's: every use, with the
 * namespace binding's rules. */
static cf_err
per_ns(struct sg *x, struct sg_binding *e, json_t **out,
    struct cf_error *err)
{
	struct cf_suggest_role	 cr[SUGGEST_ROLES_MAX];
	struct cf_suggest_in	 in;
	struct cf_suggest_out	*o = NULL;
	struct cf_buf		 cmd;
	const char		*ns;
	json_t			*v, *names = NULL;
	size_t			 i;
	cf_err			 rc = CF_OK;

	*out = NULL;
	if (e->by_ns == NULL || json_object_size(e->by_ns) == 0 ||
	    json_object_size(e->by_ns) > SUGGEST_PER_NS_MAX ||
	    json_object_get(e->by_ns, "") != NULL)
		return CF_OK;
	o = cf_calloc(1, sizeof(*o));
	names = json_array();
	cf_buf_init(&cmd, 8192);
	if (o == NULL || names == NULL) {
		rc = nomem(err);
		goto out;
	}
	for (i = 0; i < x->nroles; i++) {
		cr[i].name = x->roles[i].name;
		cr[i].actions = x->roles[i].n;
		cr[i].nactions = x->roles[i].nn;
	}
	memset(&in, 0, sizeof(in));
	in.held = e->b.role;
	in.global = false;
	in.used = e->used;
	in.nused = e->nused;
	in.custom = cr;
	in.ncustom = x->nroles;
	rc = cf_suggest(&in, o, err);
	if (rc != CF_OK || o->role[0] == '\0')
		goto out;
	json_object_foreach(e->by_ns, ns, v) {
		(void)v;
		if (json_array_append_new(names, json_string(ns)) != 0) {
			rc = nomem(err);
			goto out;
		}
		rc = cf_buf_printf(&cmd, err, "coffer grant %s %s --ns %s && ",
		    o->role, e->b.principal, ns);
		if (rc != CF_OK)
			goto out;
	}
	rc = cf_buf_printf(&cmd, err, "coffer revoke %s %s", e->b.role,
	    e->b.principal);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s, s:O, s:s}", "role", o->role, "namespaces",
	    names, "command", BUFSTR(&cmd));
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(names);
	cf_buf_free(&cmd);
	cf_free(o);
	return rc;
}

/* The suggestion for binding e as JSON (a new reference). */
static cf_err
one(struct sg *x, struct sg_binding *e, json_t **out, struct cf_error *err)
{
	struct cf_suggest_role	 cr[SUGGEST_ROLES_MAX];
	struct cf_suggest_in	 in;
	struct cf_suggest_out	*o;
	struct cf_buf		 cmd, acts;
	const bool		 global = e->b.ns[0] == '\0';
	char			 where[CF_NS_NAME_MAX + 8] = "";
	json_t			*prop = json_null(), *pns = NULL;
	size_t			 i;
	cf_err			 rc;

	o = cf_calloc(1, sizeof(*o));
	if (o == NULL)
		return nomem(err);
	cf_buf_init(&cmd, 4096);
	cf_buf_init(&acts, 16384);
	for (i = 0; i < x->nroles; i++) {
		cr[i].name = x->roles[i].name;
		cr[i].actions = global ? x->roles[i].g : x->roles[i].n;
		cr[i].nactions = global ? x->roles[i].ng : x->roles[i].nn;
	}
	memset(&in, 0, sizeof(in));
	in.held = e->b.role;
	in.global = global;
	in.used = e->used;
	in.nused = e->nused;
	in.custom = cr;
	in.ncustom = x->nroles;
	rc = cf_suggest(&in, o, err);
	if (rc != CF_OK)
		goto out;
	if (!global)
		(void)snprintf(where, sizeof(where), " --ns %s", e->b.ns);
	/* Grant the narrower role before the held one goes, so that there
	 * is no moment without access. */
	if (o->kind == CF_SUGGEST_BUILTIN || o->kind == CF_SUGGEST_CUSTOM)
		rc = cf_buf_printf(&cmd, err, "coffer grant %s %s%s && "
		    "coffer revoke %s %s%s", o->role, e->b.principal, where,
		    e->b.role, e->b.principal, where);
	else if (o->kind == CF_SUGGEST_REVOKE)
		rc = cf_buf_printf(&cmd, err, "coffer revoke %s %s%s",
		    e->b.role, e->b.principal, where);
	for (i = 0; rc == CF_OK && i < o->nproposed; i++)
		rc = cf_buf_printf(&acts, err, "%s%s", i > 0 ? "," : "",
		    o->proposed[i]);
	if (rc != CF_OK)
		goto out;
	if (global && rc == CF_OK)
		rc = per_ns(x, e, &pns, err);
	if (rc != CF_OK)
		goto out;
	if (o->nproposed > 0)
		prop = json_pack("{s:s, s:o, s:s+++}", "name",
		    o->proposed_name, "actions", strs_json(o->proposed,
		    o->nproposed), "command", "coffer role create ",
		    o->proposed_name, " --actions ", BUFSTR(&acts));
	*out = json_pack("{s:s, s:s, s:s?, s:o, s:I, s:o, s:o, s:{s:s, s:s?, "
	    "s:I, s:I, s:s?}, s:o}", "principal", e->b.principal, "role",
	    e->b.role, "ns", global ? NULL : e->b.ns, "expires",
	    core_time_json(e->b.expires_us), "uses", (json_int_t)e->uses,
	    "last_used", core_time_json(e->last_us), "used",
	    strs_json(o->proposed, o->nused), "suggestion", "kind",
	    kind_names[o->kind], "role", o->role[0] != '\0' ? o->role : NULL,
	    "held_actions", (json_int_t)o->held_actions, "role_actions",
	    (json_int_t)o->role_actions, "command", cmd.len > 0 ?
	    BUFSTR(&cmd) : NULL, "proposed", prop);
	prop = NULL;
	if (*out != NULL && (json_object_set_new(*out, "by_ns",
	    by_ns_json(e->by_ns)) != 0 ||
	    json_object_set_new(*out, "per_namespace", pns != NULL ? pns :
	    json_null()) != 0)) {
		json_decref(*out);
		*out = NULL;
	}
	pns = NULL;
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(prop);
	json_decref(pns);
	cf_buf_free(&cmd);
	cf_buf_free(&acts);
	cf_free(o);
	return rc;
}

cf_err
cf_core_access_suggest(struct cf_core *c, struct cf_req *r,
    const char *principal, uint64_t since_s, json_t **out,
    struct cf_error *err)
{
	struct cf_principal_rec	 p;
	struct sg		 x;
	json_t			*arr = NULL, *j;
	size_t			 i;
	bool			 scope = false;
	cf_err			 rc;

	memset(&x, 0, sizeof(x));
	rc = core_authorize(c, r, "access:suggest", NULL, "access/suggest",
	    err);
	if (rc != CF_OK)
		return rc;
	if (since_s < 1 || since_s > CF_STALE_PERIOD_MAX)
		return cf_error_set(err, CF_E_INPUT, "since must be a number "
		    "of seconds, 1-%llu",
		    (unsigned long long)CF_STALE_PERIOD_MAX);
	x.c = c;
	x.only = principal;
	x.now_us = core_now_us(c);
	x.cutoff_us = x.now_us - (int64_t)since_s * 1000000;
	x.roles = cf_calloc(SUGGEST_ROLES_MAX, sizeof(*x.roles));
	arr = json_array();
	if (x.roles == NULL || arr == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	scope = true;
	if (principal != NULL) {
		rc = cf_meta_principal_get(c->meta, principal, &p, err);
		if (rc == CF_E_NOTFOUND)
			r->errcode = "no_such_principal";
		if (rc != CF_OK)
			goto out;
	}
	rc = cf_meta_binding_list(c->meta, -1, NULL, x.now_us, binding_cb,
	    &x, err);
	if (rc == CF_OK)
		rc = cf_meta_policy_list(c->meta, "", role_cb, &x, err);
	if (rc != CF_OK)
		goto out;
	if (x.n > 1)
		qsort(x.v, x.n, sizeof(*x.v), sb_cmp);
	rc = cf_audit_read(c->data_dir, 0, 0, SUGGEST_SCAN_MAX, record_cb,
	    &x, err);
	for (i = 0; rc == CF_OK && i < x.n; i++) {
		rc = one(&x, &x.v[i], &j, err);
		if (rc == CF_OK && json_array_append_new(arr, j) != 0)
			rc = nomem(err);
	}
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:I, s:o, s:o, s:O, s:I, s:b}", "since_s",
	    (json_int_t)since_s, "since", core_time_json(x.cutoff_us),
	    "until", core_time_json(x.now_us), "bindings", arr, "scanned",
	    (json_int_t)x.scanned, "complete", x.first_seq <= 1 ||
	    x.first_us < x.cutoff_us);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (scope)
		cf_meta_scope_end(c->meta);
	json_decref(arr);
	for (i = 0; i < x.n; i++)
		json_decref(x.v[i].by_ns);
	cf_free(x.roles);
	cf_free(x.v);
	return rc;
}
