/* src/core/authz.c: Cedar decides (issue 11).
 *
 * The reference monitor asks the Cedar engine (src/policy) for every role
 * decision.  What the engine sees:
 *
 *   policies  the built-in role templates (builtin_text below), each
 *             binding of the request's principal linked to its role's
 *             template for this decision only, and the policy sets
 *             stored on the server (the global ones, and those attached
 *             to the request's namespace), in one decision: a forbid
 *             anywhere denies, otherwise a permit anywhere allows;
 *   entities  the principal, the action with its group, the resource
 *             with its namespace and the store above it, built for the
 *             request from fresh store records;
 *   context   address, time, MFA and credential of the request.
 *
 * The snapshot of parsed policies is immutable and shared by every
 * thread: a change builds a new one and swaps it in (core_authz_reload);
 * a decision holds a reference to the one it started with. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/actions.h"
#include "core/core_int.h"
#include "policy/policy.h"

/* The built-in roles as Cedar templates.  A global binding links the
 * "global:" template of its role (principal only), a binding on a
 * namespace the "ns:" one (principal and the namespace).  Namespace
 * roles count only on their namespace's data; global roles below admin
 * only on namespace data, so every global action needs global admin. */
static const char builtin_text[] =
    "// Coffer's built-in roles: reader < writer < owner < admin.\n"
    "// Each binding (coffer grant ROLE PRINCIPAL [--ns NS]) links one of\n"
    "// these templates: global bindings the global: ones, namespace\n"
    "// bindings the ns: ones with ?resource = Namespace::\"NS\".\n"
    "\n"
    "@id(\"global:reader\")\n"
    "permit (principal == ?principal, action in Action::\"read\",\n"
    "    resource)\n"
    "when { resource is Namespace || resource is Object ||\n"
    "    resource is Version };\n"
    "\n"
    "@id(\"global:writer\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\"], resource)\n"
    "when { resource is Namespace || resource is Object ||\n"
    "    resource is Version };\n"
    "\n"
    "@id(\"global:owner\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\", "
    "Action::\"manage\"],\n"
    "    resource)\n"
    "when { resource is Namespace || resource is Object ||\n"
    "    resource is Version };\n"
    "\n"
    "@id(\"global:admin\")\n"
    "permit (principal == ?principal, action, resource);\n"
    "\n"
    "@id(\"ns:reader\")\n"
    "permit (principal == ?principal, action in Action::\"read\",\n"
    "    resource in ?resource);\n"
    "\n"
    "@id(\"ns:writer\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\"],\n"
    "    resource in ?resource);\n"
    "\n"
    "@id(\"ns:owner\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\", "
    "Action::\"manage\"],\n"
    "    resource in ?resource);\n"
    "\n"
    "@id(\"ns:admin\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\", "
    "Action::\"manage\"],\n"
    "    resource in ?resource);\n";

const char *
cf_core_builtin_policies(void)
{
	return builtin_text;
}

static const char *const sens_names[] = { "public", "internal",
    "confidential", "restricted" };

/* The group of an action: what the least role that may perform it
 * does (read, write, manage) on a namespace, admin for the rest. */
const char *
core_action_group(const struct cf_action_def *def)
{
	if ((def->flags & CF_ACT_NS) != 0)
		switch (def->role) {
		case CF_ROLE_READER:
			return "read";
		case CF_ROLE_WRITER:
			return "write";
		case CF_ROLE_OWNER:
			return "manage";
		default:
			break;
		}
	return "admin";
}

/*
 * The snapshot.
 */
struct core_authz_part {
	char			 name[CF_PRINCIPAL_MAX];
	char			 ns[CF_NS_NAME_MAX];	/* "": global */
	int64_t			 version;
	char			 prefix[CF_PRINCIPAL_MAX + CF_NS_NAME_MAX +
				     32];
	struct cf_policy_set	*ps;
};

struct core_authz_snap {
	atomic_int		 refs;
	struct cf_policy_set	*builtin;
	struct core_authz_part	*parts;
	size_t			 nparts;
};

static void
snap_free(struct core_authz_snap *s)
{
	size_t	i;

	if (s == NULL)
		return;
	cf_policy_set_free(s->builtin);
	for (i = 0; i < s->nparts; i++)
		cf_policy_set_free(s->parts[i].ps);
	cf_free(s->parts);
	cf_free(s);
}

static void
snap_release(struct core_authz_snap *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		snap_free(s);
}

static struct core_authz_snap *
snap_acquire(struct cf_core *c)
{
	struct core_authz_snap	*s;

	(void)pthread_mutex_lock(&c->authz_lock);
	s = c->authz;
	if (s != NULL)
		(void)atomic_fetch_add(&s->refs, 1);
	(void)pthread_mutex_unlock(&c->authz_lock);
	return s;
}

/* Install s (its reference passes to c), releasing the previous one. */
static void
snap_install(struct cf_core *c, struct core_authz_snap *s)
{
	struct core_authz_snap	*old;

	(void)pthread_mutex_lock(&c->authz_lock);
	old = c->authz;
	c->authz = s;
	(void)pthread_mutex_unlock(&c->authz_lock);
	snap_release(old);
}

struct load_ctx {
	struct core_authz_snap	*s;
	size_t			 cap;
};

/* One stored policy set into the snapshot. */
static cf_err
load_part(struct load_ctx *lc, const char *name, const char *ns,
    int64_t version, const char *text, struct cf_error *err)
{
	struct core_authz_part	*p, *np;
	cf_err			 rc;

	if (lc->s->nparts == lc->cap) {
		lc->cap = lc->cap ? lc->cap * 2 : 8;
		np = cf_realloc(lc->s->parts, lc->cap * sizeof(*np));
		if (np == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		lc->s->parts = np;
	}
	p = &lc->s->parts[lc->s->nparts];
	memset(p, 0, sizeof(*p));
	cf_strlcpy(p->name, name, sizeof(p->name));
	cf_strlcpy(p->ns, ns != NULL ? ns : "", sizeof(p->ns));
	p->version = version;
	if (p->ns[0] != '\0')
		(void)snprintf(p->prefix, sizeof(p->prefix), "%s@%s/v%lld:",
		    p->name, p->ns, (long long)version);
	else
		(void)snprintf(p->prefix, sizeof(p->prefix), "%s/v%lld:",
		    p->name, (long long)version);
	rc = cf_policy_set_parse(text, strlen(text), &p->ps, err);
	if (rc != CF_OK) {
		log_warnx("event=policy_load_failed name=%s ns=%s version=%lld",
		    name, p->ns, (long long)version);
		return rc;
	}
	lc->s->nparts++;
	return CF_OK;
}

/* Stored policy sets: none yet (policy administration, issue 11 section
 * 2, adds them through core_authz_load_part). */
static cf_err
core_authz_load_stored(struct cf_core *c, struct load_ctx *lc,
    struct cf_error *err)
{
	(void)c;
	(void)lc;
	(void)err;
	return CF_OK;
}

cf_err
core_authz_load_part(void *arg, const char *name, const char *ns,
    int64_t version, const char *text, struct cf_error *err)
{
	return load_part(arg, name, ns, version, text, err);
}

cf_err
core_authz_reload(struct cf_core *c, struct cf_error *err)
{
	struct core_authz_snap	*s;
	struct load_ctx		 lc;
	cf_err			 rc;

	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	atomic_init(&s->refs, 1);
	rc = cf_policy_set_parse(builtin_text, sizeof(builtin_text) - 1,
	    &s->builtin, err);
	if (rc != CF_OK)
		goto out;
	lc.s = s;
	lc.cap = 0;
	rc = core_authz_load_stored(c, &lc, err);
	if (rc != CF_OK)
		goto out;
	snap_install(c, s);
	s = NULL;
out:
	snap_free(s);
	return rc;
}

/* Bench only (bench/authz): core_authz_reload with more policy sets,
 * which feed hands to core_authz_load_part(lc, ...), until policy
 * administration stores them. */
cf_err
core_authz_reload_bench(struct cf_core *c,
    cf_err (*feed)(void *arg, void *lc, struct cf_error *err), void *arg,
    struct cf_error *err)
{
	struct core_authz_snap	*s;
	struct load_ctx		 lc;
	cf_err			 rc;

	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	atomic_init(&s->refs, 1);
	rc = cf_policy_set_parse(builtin_text, sizeof(builtin_text) - 1,
	    &s->builtin, err);
	if (rc != CF_OK)
		goto out;
	lc.s = s;
	lc.cap = 0;
	rc = core_authz_load_stored(c, &lc, err);
	if (rc == CF_OK)
		rc = feed(arg, &lc, err);
	if (rc != CF_OK)
		goto out;
	snap_install(c, s);
	s = NULL;
out:
	snap_free(s);
	return rc;
}

cf_err
core_authz_open(struct cf_core *c, struct cf_error *err)
{
	if (pthread_mutex_init(&c->authz_lock, NULL) != 0)
		return cf_error_set(err, CF_E_INTERNAL, "mutex");
	c->authz_lock_init = true;
	return core_authz_reload(c, err);
}

void
core_authz_close(struct cf_core *c)
{
	if (!c->authz_lock_init)
		return;
	snap_release(c->authz);
	c->authz = NULL;
	(void)pthread_mutex_destroy(&c->authz_lock);
	c->authz_lock_init = false;
}

/*
 * Entities and context.
 *
 * Built as C values (cf_entities_build, cf_request_build), not as JSON
 * text to be read back: a decision's entities cost a few hundred
 * nanoseconds that way, where building and reading JSON took several
 * microseconds (bench/authz).  Exactly what the JSON would say: the
 * same entities, attributes and context (core_authz_context renders
 * the context as JSON from the same fields).
 */
#define ENTS_MAX	6	/* principal, action, group, namespace,
				 * object, store */
#define ATTRS_MAX	16
#define CTX_MAX		8

struct ents {
	struct cf_entity_def	 d[ENTS_MAX];
	size_t			 n;
	struct cf_attr		 a[ATTRS_MAX];
	size_t			 na;
	struct cf_entity_ref	 p[ENTS_MAX];
	size_t			 np;
};

static void
attr_str(struct cf_attr *a, const char *name, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	a->kind = CF_ATTR_STRING;
	a->s = s;
}

static void
attr_long(struct cf_attr *a, const char *name, int kind, int64_t i)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	a->kind = kind;
	a->i = i;
}

/* Room for k attributes of the next entity; NULL when full. */
static struct cf_attr *
attrs_next(struct ents *e, size_t k)
{
	struct cf_attr	*a;

	if (ATTRS_MAX - e->na < k)
		return NULL;
	a = &e->a[e->na];
	e->na += k;
	return a;
}

/* An entity with attributes attrs[0..nattrs) and at most one parent
 * (ptype NULL: none).  Strings are borrowed until the store is built. */
static cf_err
add_entity(struct ents *e, const char *type, const char *id,
    const struct cf_attr *attrs, size_t nattrs, const char *ptype,
    const char *pid, struct cf_error *err)
{
	struct cf_entity_def	*d;

	/* SEC: the sizes are ours: running out is a bug, and fails. */
	if (e->n == ENTS_MAX || e->np == ENTS_MAX)
		return cf_error_set(err, CF_E_INTERNAL, "too many entities");
	d = &e->d[e->n++];
	memset(d, 0, sizeof(*d));
	d->uid.type = type;
	d->uid.id = id;
	d->attrs = attrs;
	d->nattrs = nattrs;
	if (ptype != NULL) {
		e->p[e->np].type = ptype;
		e->p[e->np].id = pid;
		d->parents = &e->p[e->np++];
		d->nparents = 1;
	}
	return CF_OK;
}

static int
sens_level(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(sens_names) / sizeof(sens_names[0]); i++)
		if (strcmp(name, sens_names[i]) == 0)
			return (int)i;
	return 1;	/* "" and unknown: the default, internal */
}

/* The Namespace entity of name (attributes from its record; none when
 * it does not exist: creating it, or a 404 to come).  name and env are
 * borrowed by the entity. */
static cf_err
add_namespace(struct cf_core *c, struct ents *e, const char *name,
    int *level, char env[CF_ENV_MAX], struct cf_error *err)
{
	struct cf_ns_rec	 nsr;
	struct cf_attr		*a;
	cf_err			 rc;

	nsr.env[0] = '\0';
	nsr.sensitivity[0] = '\0';
	rc = cf_meta_ns_get(c->meta, name, &nsr, err);
	if (rc == CF_E_NOTFOUND)
		cf_error_clear(err);	/* env "", internal: a 404 to come */
	else if (rc != CF_OK)
		return rc;
	*level = sens_level(nsr.sensitivity);
	cf_strlcpy(env, nsr.env, CF_ENV_MAX);
	a = attrs_next(e, 4);
	if (a == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "too many attributes");
	attr_str(&a[0], "name", name);
	attr_str(&a[1], "env", env);
	attr_long(&a[2], "sensitivity", CF_ATTR_LONG, *level);
	attr_str(&a[3], "sensitivity_name", sens_names[*level]);
	return add_entity(e, "Namespace", name, a, 4, "Store", "coffer", err);
}

/* An address Cedar's ip() takes: the peer address without a port or
 * brackets; NULL when there is none. */
static const char *
peer_ip(const char *source, char *buf, size_t bufsz)
{
	const char	*p;
	size_t		 n;

	if (source == NULL || *source == '\0')
		return NULL;
	if (*source == '[') {
		p = strchr(source, ']');
		if (p == NULL)
			return NULL;
		n = (size_t)(p - source - 1);
		if (n + 1 > bufsz)
			return NULL;
		memcpy(buf, source + 1, n);
		buf[n] = '\0';
		return buf;
	}
	cf_strlcpy(buf, source, bufsz);
	return buf;
}

/* The context's fields.  scope holds the parsed token scope (released
 * by ctx_done), whose arrays the fields borrow. */
struct ctx {
	struct cf_attr	 a[CTX_MAX];
	size_t		 n;
	struct cf_attr	 scope[2];
	json_t		*scope_json;
	char		 ip[CF_SOURCE_MAX];
};

static void
ctx_done(struct ctx *cx)
{
	json_decref(cx->scope_json);
	cx->scope_json = NULL;
}

/* CF_E_INTERNAL when the context cannot be made (an unreadable token
 * scope, a time datetime() cannot say). */
static cf_err
ctx_build(const struct cf_req *r, struct ctx *cx, struct cf_error *err)
{
	struct tm	 tm;
	time_t		 t = (time_t)(r->time_us / 1000000);
	json_t		*acts, *nss;
	size_t		 ns = 0;

	cx->n = 0;
	cx->scope_json = NULL;
	/* datetime() takes years 0000-9999 only. */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return cf_error_set(err, CF_E_INTERNAL, "request context");
	attr_long(&cx->a[cx->n++], "time", CF_ATTR_DATETIME,
	    (int64_t)t * 1000);
	attr_long(&cx->a[cx->n++], "hour", CF_ATTR_LONG, tm.tm_hour);
	attr_long(&cx->a[cx->n++], "weekday", CF_ATTR_LONG, tm.tm_wday);
	attr_long(&cx->a[cx->n++], "mfa", CF_ATTR_BOOL, r->mfa ? 1 : 0);
	attr_str(&cx->a[cx->n++], "authn", r->authn != NULL ? r->authn :
	    "none");
	if (r->mfa && r->mfa_age >= 0)
		attr_long(&cx->a[cx->n++], "mfa_age_s", CF_ATTR_LONG,
		    r->mfa_age);
	if (peer_ip(r->source, cx->ip, sizeof(cx->ip)) != NULL) {
		attr_str(&cx->a[cx->n], "source_ip", cx->ip);
		cx->a[cx->n++].kind = CF_ATTR_IP;
	}
	if (r->scope[0] == '\0')
		return CF_OK;
	/* A scoped token: its scope, parsed for each request (few tokens
	 * are scoped, and the text is small). */
	cx->scope_json = json_loads(r->scope, 0, NULL);
	if (!json_is_object(cx->scope_json)) {
		ctx_done(cx);	/* SEC: unreadable scope: fail */
		return cf_error_set(err, CF_E_INTERNAL, "request context");
	}
	acts = json_object_get(cx->scope_json, "actions");
	nss = json_object_get(cx->scope_json, "namespaces");
	if (json_is_array(acts)) {
		memset(&cx->scope[ns], 0, sizeof(cx->scope[ns]));
		cx->scope[ns].name = "actions";
		cx->scope[ns].kind = CF_ATTR_JSON;
		cx->scope[ns++].json = acts;
	}
	if (json_is_array(nss)) {
		memset(&cx->scope[ns], 0, sizeof(cx->scope[ns]));
		cx->scope[ns].name = "namespaces";
		cx->scope[ns].kind = CF_ATTR_JSON;
		cx->scope[ns++].json = nss;
	}
	memset(&cx->a[cx->n], 0, sizeof(cx->a[cx->n]));
	cx->a[cx->n].name = "token_scope";
	cx->a[cx->n].kind = CF_ATTR_RECORD;
	cx->a[cx->n].rec = cx->scope;
	cx->a[cx->n++].n = ns;
	return CF_OK;
}

/* Cedar's JSON value of fields a[0..n), as a record. */
static json_t *
attrs_json(const struct cf_attr *a, size_t n)
{
	json_t		*o, *v;
	struct tm	 tm;
	time_t		 t;
	char		 ts[40];
	size_t		 i;

	o = json_object();
	for (i = 0; o != NULL && i < n; i++) {
		switch (a[i].kind) {
		case CF_ATTR_STRING:
			v = json_string(a[i].s);
			break;
		case CF_ATTR_LONG:
			v = json_integer((json_int_t)a[i].i);
			break;
		case CF_ATTR_BOOL:
			v = json_boolean(a[i].i != 0);
			break;
		case CF_ATTR_DATETIME:
			t = (time_t)(a[i].i / 1000);
			if (gmtime_r(&t, &tm) == NULL)
				memset(&tm, 0, sizeof(tm));
			(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ",
			    &tm);
			v = json_pack("{s:{s:s, s:s}}", "__extn", "fn",
			    "datetime", "arg", ts);
			break;
		case CF_ATTR_IP:
			v = json_pack("{s:{s:s, s:s}}", "__extn", "fn", "ip",
			    "arg", a[i].s);
			break;
		case CF_ATTR_RECORD:
			v = attrs_json(a[i].rec, a[i].n);
			break;
		case CF_ATTR_JSON:
			v = json_deep_copy(a[i].json);
			break;
		default:
			v = NULL;
			break;
		}
		if (v == NULL || json_object_set_new(o, a[i].name, v) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

json_t *
core_authz_context(const struct cf_req *r)
{
	struct ctx	 cx;
	json_t		*j;

	if (ctx_build(r, &cx, NULL) != CF_OK)
		return NULL;
	j = attrs_json(cx.a, cx.n);
	ctx_done(&cx);
	return j;
}

/* s as an entity id: itself when it is UTF-8, else with each byte of
 * an invalid sequence written %XX (JSON and Cedar take only UTF-8; such
 * a name is refused as invalid once the decision is made). */
static const char *
safe_id(const char *s, char *buf, size_t bufsz)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0, len = strlen(s), k;

	if (cf_utf8_valid(s, len))
		return s;
	for (i = 0; i < len && o + 4 < bufsz; i++) {
		for (k = 4; k > 0; k--)
			if (i + k <= len && cf_utf8_valid(s + i, k))
				break;
		if (k > 0) {
			if (o + k + 1 >= bufsz)
				break;
			memcpy(buf + o, s + i, k);
			o += k;
			i += k - 1;
			continue;
		}
		buf[o++] = '%';
		buf[o++] = hex[(unsigned char)s[i] >> 4];
		buf[o++] = hex[(unsigned char)s[i] & 15];
	}
	buf[o] = '\0';
	return buf;
}

/* The strings the resource's entities borrow. */
struct res_bufs {
	char	nbuf[3 * CF_NS_NAME_MAX];
	char	kbuf[3 * CF_RESOURCE_MAX];
	char	env[CF_ENV_MAX];
};

/* The resource entity of a decision, and the entities above it. */
static cf_err
add_resource(struct cf_core *c, struct ents *e, struct res_bufs *rb,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, const char **rtype, char *rid, size_t ridsz,
    struct cf_error *err)
{
	const char	*key = NULL;
	struct cf_attr	*a;
	char		 pre[CF_NS_NAME_MAX + 16];
	size_t		 n;
	int		 level;
	cf_err		 rc;

	if (ns == NULL && (data_ns == NULL || (def->flags & CF_ACT_NS) != 0))
		goto store;
	if (ns == NULL)
		ns = data_ns;
	(void)snprintf(pre, sizeof(pre), "ns/%s/obj/", ns);
	n = strlen(pre);
	if (strcmp(def->resource, "object") == 0 && resource != NULL &&
	    strncmp(resource, pre, n) == 0 && resource[n] != '\0')
		key = safe_id(resource + n, rb->kbuf, sizeof(rb->kbuf));
	ns = safe_id(ns, rb->nbuf, sizeof(rb->nbuf));
	rc = add_namespace(c, e, ns, &level, rb->env, err);
	if (rc != CF_OK)
		return rc;
	if (key == NULL) {
		*rtype = "Namespace";
		cf_strlcpy(rid, ns, ridsz);
	} else {
		*rtype = "Object";
		(void)snprintf(rid, ridsz, "%s/%s", ns, key);
		a = attrs_next(e, 5);
		if (a == NULL)
			return cf_error_set(err, CF_E_INTERNAL,
			    "too many attributes");
		attr_str(&a[0], "ns", ns);
		attr_str(&a[1], "key", key);
		attr_str(&a[2], "env", rb->env);
		attr_long(&a[3], "sensitivity", CF_ATTR_LONG, level);
		attr_str(&a[4], "sensitivity_name", sens_names[level]);
		rc = add_entity(e, "Object", rid, a, 5, "Namespace", ns, err);
		if (rc != CF_OK)
			return rc;
	}
	return add_entity(e, "Store", "coffer", NULL, 0, NULL, NULL, err);
store:
	*rtype = "Store";
	cf_strlcpy(rid, "coffer", ridsz);
	return add_entity(e, "Store", "coffer", NULL, 0, NULL, NULL, err);
}

const char *
core_principal_type(const struct cf_principal_rec *p)
{
	return strcmp(p->kind, "service") == 0 ? "Service" : "User";
}

static cf_err
build(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, struct cf_entities **es, struct cf_request **req,
    struct cf_error *err)
{
	struct ents	 e;
	struct ctx	 cx;
	struct res_bufs	 rb;
	struct cf_attr	*a;
	const char	*ptype = core_principal_type(&r->principal);
	const char	*group = core_action_group(def);
	const char	*rtype = NULL;
	char		 rid[CF_RESOURCE_MAX];
	cf_err		 rc;

	e.n = 0;
	e.na = 0;
	e.np = 0;
	cx.scope_json = NULL;
	a = attrs_next(&e, 2);
	attr_str(&a[0], "name", r->principal.name);
	attr_str(&a[1], "kind", r->principal.kind);
	rc = add_entity(&e, ptype, r->principal.name, a, 2, NULL, NULL, err);
	if (rc == CF_OK)
		rc = add_entity(&e, "Action", def->name, NULL, 0, "Action",
		    group, err);
	if (rc == CF_OK)
		rc = add_entity(&e, "Action", group, NULL, 0, NULL, NULL, err);
	if (rc == CF_OK)
		rc = add_resource(c, &e, &rb, def, ns, data_ns, resource,
		    &rtype, rid, sizeof(rid), err);
	if (rc == CF_OK)
		rc = ctx_build(r, &cx, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_entities_build(e.d, e.n, es, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_request_build(ptype, r->principal.name, "Action", def->name,
	    rtype, rid, cx.a, cx.n, req, err);
	if (rc != CF_OK) {
		cf_entities_free(*es);
		*es = NULL;
	}
out:
	ctx_done(&cx);
	return rc;
}

cf_err
core_authz_build(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, struct cf_entities **es, struct cf_request **req,
    struct cf_error *err)
{
	return build(c, r, def, ns, data_ns, resource, es, req, err);
}

/* The links of r's bindings: ids "role:R" and "role:R@NS", as the
 * audit log has always named the binding that decided. */
static size_t
make_links(const struct cf_req *r, struct cf_policy_link *links,
    char (*ids)[CF_ROLE_MAX + CF_NS_NAME_MAX + 8],
    char (*tmpl)[CF_ROLE_MAX + 8])
{
	const char	*ptype = core_principal_type(&r->principal);
	size_t		 i, n = 0;

	for (i = 0; i < r->nbindings && i < CF_MAX_BINDINGS; i++) {
		const struct cf_binding_rec *b = &r->bindings[i];
		if (cf_role_rank(b->role) == CF_ROLE_NONE)
			continue;	/* not a built-in role: no template */
		memset(&links[n], 0, sizeof(links[n]));
		links[n].principal_type = ptype;
		links[n].principal_id = r->principal.name;
		if (b->ns[0] == '\0') {
			(void)snprintf(tmpl[n], sizeof(tmpl[n]), "global:%s",
			    b->role);
			(void)snprintf(ids[n], sizeof(ids[n]), "role:%s",
			    b->role);
		} else {
			(void)snprintf(tmpl[n], sizeof(tmpl[n]), "ns:%s",
			    b->role);
			(void)snprintf(ids[n], sizeof(ids[n]), "role:%s@%s",
			    b->role, b->ns);
			links[n].resource_type = "Namespace";
			links[n].resource_id = b->ns;
		}
		links[n].template_id = tmpl[n];
		links[n].id = ids[n];
		n++;
	}
	return n;
}

/* The weakest built-in role among the decision's reasons (a reason
 * "role:R" or "role:R@NS"), or NULL. */
static void
weakest_role(const struct cf_response *resp, char *role, size_t rolesz)
{
	size_t	i, n;
	int	best = 99, rk;
	char	buf[CF_ROLE_MAX];

	role[0] = '\0';
	for (i = 0; i < cf_response_reason_count(resp); i++) {
		const char *id = cf_response_reason(resp, i);
		if (strncmp(id, "role:", 5) != 0)
			continue;
		n = strcspn(id + 5, "@");
		if (n >= sizeof(buf))
			continue;
		memcpy(buf, id + 5, n);
		buf[n] = '\0';
		rk = cf_role_rank(buf);
		if (rk != CF_ROLE_NONE && rk < best) {
			best = rk;
			cf_strlcpy(role, buf, rolesz);
		}
	}
}

/* reasons: the determining policies, weakest built-in role first (as
 * the record named the deciding binding before Cedar decided), then
 * "errors=" and the policies that errored. */
static void
set_reasons(struct cf_req *r, const struct cf_response *resp,
    const char *role)
{
	struct cf_buf	b;
	size_t		i, n = cf_response_reason_count(resp);
	const char	*first = NULL;
	bool		sep = false;

	cf_buf_init(&b, CF_REASONS_MAX * 4);
	if (role[0] != '\0')
		for (i = 0; i < n && first == NULL; i++) {
			const char *id = cf_response_reason(resp, i);
			size_t rl = strlen(role);
			if (strncmp(id + 5, role, rl) == 0 &&
			    (id[5 + rl] == '\0' || id[5 + rl] == '@'))
				first = id;
		}
	if (first != NULL) {
		(void)cf_buf_append_str(&b, first, NULL);
		sep = true;
	}
	for (i = 0; i < n; i++) {
		const char *id = cf_response_reason(resp, i);
		if (id == first)
			continue;
		(void)cf_buf_printf(&b, NULL, "%s%s", sep ? "," : "", id);
		sep = true;
	}
	for (i = 0; i < cf_response_error_count(resp); i++)
		(void)cf_buf_printf(&b, NULL, "%s%s", i == 0 ? (sep ?
		    " errors=" : "errors=") : ",",
		    cf_response_error_id(resp, i));
	if (b.len == 0)
		cf_strlcpy(r->reasons, "no matching role", sizeof(r->reasons));
	else {
		(void)cf_buf_append(&b, "", 1, NULL);
		cf_strlcpy(r->reasons, b.data, sizeof(r->reasons));
	}
	cf_buf_free(&b);
}

cf_err
core_authz_decide(struct cf_core *c, struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, char *role, size_t rolesz, bool *allow,
    struct cf_error *err)
{
	struct core_authz_snap	*s;
	struct cf_policy_part	 parts[1 + CORE_AUTHZ_MAX_PARTS];
	struct cf_policy_link	 links[CF_MAX_BINDINGS];
	char			 ids[CF_MAX_BINDINGS][CF_ROLE_MAX +
				     CF_NS_NAME_MAX + 8];
	char			 tmpl[CF_MAX_BINDINGS][CF_ROLE_MAX + 8];
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	const char		*part_ns;
	size_t			 i, np = 0, nl;
	cf_err			 rc;

	*allow = false;
	role[0] = '\0';
	s = snap_acquire(c);
	if (s == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no policies loaded");
	rc = build(c, r, def, ns, data_ns, resource, &es, &req, err);
	if (rc != CF_OK)
		goto out;
	parts[np].ps = s->builtin;
	parts[np].prefix = NULL;
	parts[np++].flags = CF_POLICY_STRICT_FORBID;
	/* SEC: a policy set attached to a namespace takes part only in
	 * decisions on that namespace. */
	part_ns = ns != NULL ? ns : data_ns;
	for (i = 0; i < s->nparts; i++) {
		if (s->parts[i].ns[0] != '\0' && (part_ns == NULL ||
		    strcmp(s->parts[i].ns, part_ns) != 0))
			continue;
		if (np == sizeof(parts) / sizeof(parts[0])) {
			rc = cf_error_set(err, CF_E_LIMIT, "more than %d "
			    "policy sets apply", CORE_AUTHZ_MAX_PARTS);
			goto out;
		}
		parts[np].ps = s->parts[i].ps;
		parts[np].prefix = s->parts[i].prefix;
		parts[np++].flags = CF_POLICY_STRICT_FORBID;
	}
	nl = make_links(r, links, ids, tmpl);
	rc = cf_response_new(&resp, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_policy_authorize_parts(parts, np, links, nl, es, req, resp,
	    err);
	if (rc != CF_OK)
		goto out;
	*allow = cf_response_decision(resp) == CF_DECISION_ALLOW;
	if (*allow)
		weakest_role(resp, role, rolesz);
	set_reasons(r, resp, role);
out:
	if (rc != CF_OK)
		cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
	cf_response_free(resp);
	cf_request_free(req);
	cf_entities_free(es);
	snap_release(s);
	return rc;
}

/*
 * The schema.
 */

/* The entity types a request for def may name as its resource, as the
 * monitor builds them (add_resource). */
const char *
core_action_resources(const struct cf_action_def *def)
{
	if (strcmp(def->resource, "object") == 0)
		return strcmp(def->name, "object:list") == 0 ? "Namespace" :
		    "Object";
	if (strcmp(def->resource, "namespace") == 0)
		return strcmp(def->name, "ns:create") == 0 ? "Store" :
		    "Namespace";
	if (strcmp(def->resource, "binding") == 0)
		return "Namespace, Store";
	return "Store";
}

static const char schema_head[] =
    "// Coffer's Cedar schema: the entities and context the reference\n"
    "// monitor builds for every decision, and every action it decides\n"
    "// (generated from the action registry: `coffer policy schema`).\n"
    "\n"
    "// The request context.  Absent attributes: mfa_age_s without MFA\n"
    "// (or of unknown age), source_ip when the peer has no IP address,\n"
    "// token_scope for unscoped credentials, purpose without an\n"
    "// X-Coffer-Purpose header.  hour (0-23) and weekday (0 = Sunday)\n"
    "// are those of time, in UTC.\n"
    "type Context = {\n"
    "    authn: String,\n"
    "    hour: Long,\n"
    "    mfa: Bool,\n"
    "    mfa_age_s?: Long,\n"
    "    purpose?: String,\n"
    "    source_ip?: ipaddr,\n"
    "    time: datetime,\n"
    "    token_scope?: { actions?: Set<String>, namespaces?: Set<String> },\n"
    "    user_agent?: String,\n"
    "    weekday: Long,\n"
    "};\n"
    "\n"
    "// The one store: the resource of global actions, above every\n"
    "// namespace.\n"
    "entity Store;\n"
    "// A group of users (OIDC groups).\n"
    "entity Group;\n"
    "// People and service accounts; tags are the attributes an admin\n"
    "// set (coffer user set NAME --attr k=v).\n"
    "entity User in [Group] { name: String, kind: String } tags String;\n"
    "entity Service in [Group] { name: String, kind: String } "
    "tags String;\n"
    "// sensitivity: 0 public, 1 internal, 2 confidential, 3 restricted;\n"
    "// tags are the labels (coffer label set NS k=v).\n"
    "entity Namespace in [Store] {\n"
    "    name: String,\n"
    "    env: String,\n"
    "    sensitivity: Long,\n"
    "    sensitivity_name: String,\n"
    "} tags String;\n"
    "// An object (all its versions); env and sensitivity are its\n"
    "// namespace's; tags are its labels.\n"
    "entity Object in [Namespace] {\n"
    "    ns: String,\n"
    "    key: String,\n"
    "    env: String,\n"
    "    sensitivity: Long,\n"
    "    sensitivity_name: String,\n"
    "} tags String;\n"
    "// One version of an object.\n"
    "entity Version in [Object] {\n"
    "    id: String,\n"
    "    digest: String,\n"
    "    created_by: String,\n"
    "};\n"
    "\n"
    "// Action groups: what reader, writer and owner do on a namespace's\n"
    "// data, and everything else.\n"
    "action \"read\", \"write\", \"manage\", \"admin\";\n"
    "\n";

cf_err
cf_core_policy_schema(struct cf_buf *out, struct cf_error *err)
{
	const struct cf_action_def	*defs;
	size_t				 i, n;
	cf_err				 rc;

	rc = cf_buf_append_str(out, schema_head, err);
	defs = cf_actions(&n);
	for (i = 0; i < n && rc == CF_OK; i++) {
		if ((defs[i].flags & (CF_ACT_NOAUTH | CF_ACT_RECORD)) != 0)
			continue;	/* no principal, or no request */
		rc = cf_buf_printf(out, err, "// %s\naction \"%s\" in [\"%s\"] "
		    "appliesTo {\n    principal: [User, Service],\n"
		    "    resource: [%s],\n    context: Context,\n};\n",
		    defs[i].summary, defs[i].name,
		    core_action_group(&defs[i]),
		    core_action_resources(&defs[i]));
	}
	return rc;
}
