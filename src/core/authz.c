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
#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/check.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/actions.h"
#include "core/anomaly.h"
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
    "when { resource is Namespace || resource is Object };\n"
    "\n"
    "@id(\"global:writer\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\"], resource)\n"
    "when { resource is Namespace || resource is Object };\n"
    "\n"
    "@id(\"global:owner\")\n"
    "permit (principal == ?principal,\n"
    "    action in [Action::\"read\", Action::\"write\", "
    "Action::\"manage\"],\n"
    "    resource)\n"
    "when { resource is Namespace || resource is Object };\n"
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
    "    resource in ?resource);\n"
    "\n"
    "// Sharing (coffer share create: object:share) is in no role.  Whoever\n"
    "// may read an object may share it, unless it is restricted or\n"
    "// carries a pii label; a stored policy may permit more, and a forbid\n"
    "// anywhere stops it.\n"
    "@id(\"share-default\")\n"
    "permit (principal, action == Action::\"object:share\", resource)\n"
    "when { resource.sensitivity < 3 && !resource.hasTag(\"pii\") };\n";

const char *
cf_core_builtin_policies(void)
{
	return builtin_text;
}

static const char *const sens_names[] = { "public", "internal",
    "confidential", "restricted" };

/* a, b and c concatenated into buf (sz > 0), truncated as snprintf's
 * "%s%s%s" would: the decision path joins names for every request,
 * and snprintf cost about 800 instructions a call there (bench/README.md,
 * bench/authz). */
static void
join3(char *buf, size_t sz, const char *a, const char *b, const char *c)
{
	const char	*part[3];
	size_t		 i, k, n = 0;

	part[0] = a;
	part[1] = b;
	part[2] = c;
	for (i = 0; i < 3; i++) {
		k = strlen(part[i]);
		if (k > sz - 1 - n)
			k = sz - 1 - n;
		memcpy(buf + n, part[i], k);
		n += k;
	}
	buf[n] = '\0';
}

/* The group of an action: what the least role that may perform it
 * does (read, write, manage) on a namespace, admin for the rest. */
const char *
core_action_group(const struct cf_action_def *def)
{
	if ((def->flags & CF_ACT_SHARE) != 0)
		return "share";
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
	int64_t			 gen;		/* the store's, when loaded */
	struct cf_policy_set	*builtin;
	struct core_authz_part	*parts;
	size_t			 nparts;
	/* Some set in force reads tags (hasTag, getTag): only then do
	 * decisions read the principal's attributes and the labels. */
	bool			 uses_tags;
	/* The parts in decision order (snap_index): the global ones, then
	 * those attached to a namespace sorted by namespace, each group in
	 * load order, so that a decision finds its namespace's sets by
	 * binary search instead of comparing every set's namespace. */
	const struct core_authz_part **order;
	size_t			 nglobal;
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
	cf_free(s->order);
	cf_free(s);
}

static void
snap_release(struct core_authz_snap *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		snap_free(s);
}

/* Another server process sharing the store may have changed the
 * policies: at most once per CORE_AUTHZ_POLL_US (by the core's clock),
 * one thread compares the store's generation with the one in force and
 * loads the policies again when it moved.  A failed poll or reload
 * keeps the policies in force (logged) and is tried again next time. */
static void
snap_poll(struct cf_core *c)
{
	struct cf_error	 err;
	int64_t		 now = core_now_us(c), last, gen;
	struct core_authz_snap *s;
	bool		 stale;

	last = atomic_load(&c->authz_polled_us);
	if (now - last < CORE_AUTHZ_POLL_US && now >= last)
		return;
	if (!atomic_compare_exchange_strong(&c->authz_polled_us, &last, now))
		return;		/* another thread polls */
	cf_error_clear(&err);
	/* The decision cache follows the same clock. */
	if (cf_meta_cache_poll(c->meta, &err) != CF_OK) {
		log_warnx("event=cache_poll_failed msg=\"%s\"", err.msg);
		cf_error_clear(&err);
	}
	if (cf_meta_policy_generation(c->meta, &gen, &err) != CF_OK) {
		log_warnx("event=policy_poll_failed msg=\"%s\"", err.msg);
		return;
	}
	(void)pthread_mutex_lock(&c->authz_lock);
	s = c->authz;
	stale = s == NULL || s->gen != gen;
	(void)pthread_mutex_unlock(&c->authz_lock);
	if (stale && core_authz_reload(c, &err) != CF_OK)
		log_warnx("event=policy_reload_failed msg=\"%s\"", err.msg);
	else if (stale)
		log_info("event=policy_reloaded reason=store_changed");
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

/* By namespace, then load order (parts is one array: address order). */
static int
part_cmp(const void *x, const void *y)
{
	const struct core_authz_part *a = *(const struct core_authz_part *
	    const *)x;
	const struct core_authz_part *b = *(const struct core_authz_part *
	    const *)y;
	int	d;

	d = strcmp(a->ns, b->ns);
	if (d != 0)
		return d;
	return a < b ? -1 : a > b;
}

/* Build s->order (see struct core_authz_snap). */
static cf_err
snap_index(struct core_authz_snap *s, struct cf_error *err)
{
	size_t	i, n = 0;

	s->order = cf_calloc(s->nparts ? s->nparts : 1, sizeof(*s->order));
	if (s->order == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (i = 0; i < s->nparts; i++)
		if (s->parts[i].ns[0] == '\0')
			s->order[n++] = &s->parts[i];
	s->nglobal = n;
	for (i = 0; i < s->nparts; i++)
		if (s->parts[i].ns[0] != '\0')
			s->order[n++] = &s->parts[i];
	qsort(s->order + s->nglobal, n - s->nglobal, sizeof(*s->order),
	    part_cmp);
	return CF_OK;
}

/* The range [*lo, *hi) of s->order attached to namespace ns. */
static void
snap_ns_range(const struct core_authz_snap *s, const char *ns, size_t *lo,
    size_t *hi)
{
	size_t	l = s->nglobal, h = s->nparts, m;

	while (l < h) {		/* the first not below ns */
		m = l + (h - l) / 2;
		if (strcmp(s->order[m]->ns, ns) < 0)
			l = m + 1;
		else
			h = m;
	}
	*lo = l;
	for (h = l; h < s->nparts && strcmp(s->order[h]->ns, ns) == 0; h++)
		;
	*hi = h;
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
	if (cf_policy_set_uses_tags(p->ps))
		lc->s->uses_tags = true;
	lc->s->nparts++;
	return CF_OK;
}

static cf_err
load_stored_cb(void *arg, const struct cf_policy_rec *p, const char *text,
    size_t len, struct cf_error *err)
{
	(void)len;
	return core_authz_load_part(arg, p->name, p->ns, p->version, text,
	    err);
}

/* The policy sets in force in the store (policy administration,
 * core/ops_policy.c), from one read snapshot: all or, on any failure,
 * none (the caller keeps the previous snapshot). */
static cf_err
core_authz_load_stored(struct cf_core *c, struct load_ctx *lc,
    struct cf_error *err)
{
	return cf_meta_policy_current(c->meta, load_stored_cb, lc, err);
}

cf_err
core_authz_load_part(void *arg, const char *name, const char *ns,
    int64_t version, const char *text, struct cf_error *err)
{
	return load_part(arg, name, ns, version, text, err);
}

/* Build the policies in force (built-in, stored, and what feed adds
 * through core_authz_load_part, when not NULL) and swap them in. */
static cf_err
reload_with(struct cf_core *c,
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
	/* The generation first: a change made while loading makes the
	 * next poll load again. */
	if (rc == CF_OK)
		rc = cf_meta_policy_generation(c->meta, &s->gen, err);
	if (rc != CF_OK)
		goto out;
	lc.s = s;
	lc.cap = 0;
	rc = core_authz_load_stored(c, &lc, err);
	if (rc == CF_OK && feed != NULL)
		rc = feed(arg, &lc, err);
	if (rc == CF_OK)
		rc = snap_index(s, err);
	if (rc != CF_OK)
		goto out;
	snap_install(c, s);
	s = NULL;
out:
	snap_free(s);
	return rc;
}

cf_err
core_authz_reload(struct cf_core *c, struct cf_error *err)
{
	return reload_with(c, NULL, NULL, err);
}

/* Bench only (bench/authz): core_authz_reload with more policy sets,
 * which feed hands to core_authz_load_part(lc, ...) after the stored
 * ones. */
cf_err
core_authz_reload_bench(struct cf_core *c,
    cf_err (*feed)(void *arg, void *lc, struct cf_error *err), void *arg,
    struct cf_error *err)
{
	if (feed == NULL)
		return cf_error_set(err, CF_E_INVAL, "no feed");
	return reload_with(c, feed, arg, err);
}

/* Coffer's schema, parsed; the built-in templates must validate
 * against it (a build that breaks either does not start). */
static cf_err
schema_open(struct cf_core *c, struct cf_error *err)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_buf		 b;
	cf_err			 rc;

	cf_buf_init(&b, 1u << 20);
	rc = cf_core_policy_schema(&b, err);
	if (rc == CF_OK)
		rc = cf_schema_parse(b.data, b.len, &c->schema, err);
	cf_buf_free(&b);
	if (rc != CF_OK)
		return rc;
	rc = cf_policy_set_parse(builtin_text, sizeof(builtin_text) - 1, &ps,
	    err);
	if (rc == CF_OK)
		rc = core_authz_validate(c, ps, err);
	cf_policy_set_free(ps);
	if (rc != CF_OK)
		log_warnx("event=builtin_policies_invalid msg=\"%s\"",
		    err != NULL ? err->msg : "");
	return rc;
}

cf_err
core_authz_validate(struct cf_core *c, const struct cf_policy_set *ps,
    struct cf_error *err)
{
	struct cf_validation	*v = NULL;
	size_t			 n;
	cf_err			 rc;

	rc = cf_validation_new(&v, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_policy_validate(c->schema, ps, v, err);
	if (rc == CF_E_LIMIT)
		rc = CF_E_INPUT;	/* too big to check: not accepted */
	if (rc == CF_OK && !cf_validation_ok(v)) {
		n = cf_validation_error_count(v);
		rc = cf_error_set(err, CF_E_INPUT, "%u:%u: policy %s: %s%s",
		    cf_validation_error_line(v, 0),
		    cf_validation_error_col(v, 0),
		    cf_validation_error_policy(v, 0),
		    cf_validation_error_msg(v, 0), n > 1 ? " (and more "
		    "errors: coffer policy validate lists them all)" : "");
	}
	cf_validation_free(v);
	return rc;
}

/* The shared layers' caches (below, def_layer): LAYER_WAYS per set;
 * 4,096 principals (a layer is about 1.3 KiB: at most about 5 MiB)
 * and 1,024 namespaces. */
#define LAYER_WAYS	2
#define LAYER_SETS_PRINCIPAL	2048
#define LAYER_SETS_NS		512

static struct core_layer_cache *layer_cache_new(size_t nsets);
static void	layer_cache_free(struct core_layer_cache *lc);

cf_err
core_authz_open(struct cf_core *c, struct cf_error *err)
{
	cf_err	rc;

	(void)cf_actions(&c->nact_base);
	c->act_base = cf_calloc(c->nact_base, sizeof(*c->act_base));
	if (c->act_base == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&c->scratch_lock, NULL) != 0)
		return cf_error_set(err, CF_E_INTERNAL, "mutex");
	if (pthread_mutex_init(&c->authz_lock, NULL) != 0) {
		(void)pthread_mutex_destroy(&c->scratch_lock);
		return cf_error_set(err, CF_E_INTERNAL, "mutex");
	}
	c->authz_lock_init = true;
	/* Sized for the principals and namespaces in use at once; a miss
	 * builds what a decision without the cache builds (def_layer). */
	c->layers_principal = layer_cache_new(LAYER_SETS_PRINCIPAL);
	c->layers_ns = layer_cache_new(LAYER_SETS_NS);
	if (c->layers_principal == NULL || c->layers_ns == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	atomic_init(&c->authz_polled_us, core_now_us(c));
	rc = schema_open(c, err);
	if (rc != CF_OK)
		return rc;
	return core_authz_reload(c, err);
}

static void	scratch_drain(struct cf_core *c);

void
core_authz_close(struct cf_core *c)
{
	size_t	i;

	for (i = 0; c->act_base != NULL && i < c->nact_base; i++)
		cf_entities_free(atomic_load(&c->act_base[i]));
	cf_free(c->act_base);
	c->act_base = NULL;
	if (!c->authz_lock_init)
		return;
	scratch_drain(c);
	(void)pthread_mutex_destroy(&c->scratch_lock);
	layer_cache_free(c->layers_principal);
	c->layers_principal = NULL;
	layer_cache_free(c->layers_ns);
	c->layers_ns = NULL;
	snap_release(c->authz);
	c->authz = NULL;
	cf_schema_free(c->schema);
	c->schema = NULL;
	(void)pthread_mutex_destroy(&c->authz_lock);
	c->authz_lock_init = false;
}

/*
 * Entities and context.
 */
static json_t *
uid(const char *type, const char *id)
{
	return json_pack("{s:s, s:s}", "type", type, "id", id);
}

static int
add_entity(json_t *arr, const char *type, const char *id, json_t *attrs,
    json_t *parents)
{
	json_t	*e;

	if (attrs == NULL)
		attrs = json_object();
	if (parents == NULL)
		parents = json_array();
	e = json_pack("{s:o, s:o, s:o}", "uid", uid(type, id), "attrs",
	    attrs, "parents", parents);
	if (e == NULL)
		return -1;
	return json_array_append_new(arr, e);
}

/* The tags of the entity added last: labels or attributes (a JSON
 * object name -> string; stolen). */
static int
add_tags(json_t *arr, json_t *tags)
{
	json_t	*e = json_array_get(arr, json_array_size(arr) - 1);

	if (tags == NULL || e == NULL) {
		json_decref(tags);
		return tags == NULL ? 0 : -1;
	}
	return json_object_set_new(e, "tags", tags);
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
 * it does not exist: creating it, or a 404 to come). */
static cf_err
add_namespace(struct cf_core *c, json_t *arr, const char *name, int *level,
    char env[CF_ENV_MAX], int64_t *ns_id, struct cf_error *err)
{
	struct cf_ns_rec	 nsr;
	json_t			*attrs, *tags = NULL;
	cf_err			 rc;

	memset(&nsr, 0, sizeof(nsr));
	rc = cf_meta_ns_get(c->meta, name, &nsr, err);
	if (rc == CF_E_NOTFOUND)
		cf_error_clear(err);	/* env "", internal: a 404 to come */
	else if (rc != CF_OK)
		return rc;
	*level = sens_level(nsr.sensitivity);
	cf_strlcpy(env, nsr.env, CF_ENV_MAX);
	attrs = json_pack("{s:s, s:s, s:I, s:s}", "name", name, "env", env,
	    "sensitivity", (json_int_t)*level, "sensitivity_name",
	    sens_names[*level]);
	if (attrs == NULL || add_entity(arr, "Namespace", name, attrs,
	    json_pack("[o]", uid("Store", "coffer"))) != 0)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	*ns_id = nsr.id;
	if (nsr.id == 0)
		return CF_OK;
	rc = cf_meta_labels_get(c->meta, nsr.id, "", &tags, err);
	if (rc == CF_OK && add_tags(arr, tags) != 0)
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	return rc;
}

static json_t *
extn(const char *fn, const char *arg)
{
	return json_pack("{s:{s:s, s:s}}", "__extn", "fn", fn, "arg", arg);
}

/* An address Cedar's ip() takes: the peer address without a port or
 * brackets; NULL when there is none. */
static const char *
peer_ip(const char *source, char *buf, size_t bufsz)
{
	const char	*p;
	size_t		 n;
	unsigned char	 a[16];

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
	} else
		cf_strlcpy(buf, source, bufsz);
	/* Only an address Cedar's ip() takes: anything else (a socket that
	 * is not IP) leaves source_ip out of the context. */
	if (inet_pton(AF_INET, buf, a) != 1 && inet_pton(AF_INET6, buf, a) != 1)
		return NULL;
	return buf;
}

#define OP_MAX		10

/* context.op's members of r (name first), into a[0..OP_MAX); their
 * number. */
static size_t
op_attrs(const struct cf_req *r, struct cf_attr *a)
{
	const struct cf_req_op	*o = &r->op;
	const char		*f[OP_MAX][2] = {
		{ "name", o->name }, { "id", o->id },
		{ "source_ns", o->src_ns }, { "source_env", o->src_env },
		{ "target_ns", o->dst_ns }, { "target_env", o->dst_env },
		{ "stage", o->stage }, { "source", o->source },
		{ "reason", o->reason }, { "prefix", o->prefix },
	};
	size_t			 i, n = 0;

	if (o->name[0] == '\0')
		return 0;
	for (i = 0; i < OP_MAX; i++) {
		if (f[i][1][0] == '\0')
			continue;
		memset(&a[n], 0, sizeof(a[n]));
		a[n].name = f[i][0];
		a[n].flags = CF_ATTR_NAME_STATIC;	/* literals above */
		a[n].kind = CF_ATTR_STRING;
		a[n++].s = f[i][1];
	}
	return n;
}

/* context.risk.flags: the names of r's risk flags (a new reference;
 * NULL on NOMEM). */
static json_t *
risk_flags_json(const struct cf_req *r)
{
	json_t	*a = json_array();
	int	 k;

	for (k = 0; a != NULL && k < CF_ANOM_NKINDS; k++)
		if ((r->risk_flags >> k & 1) != 0 &&
		    json_array_append_new(a, json_string(cf_anom_kind_name(
		    (enum cf_anom_kind)k))) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

json_t *
core_authz_context(const struct cf_req *r)
{
	json_t		*ctx, *v;
	struct tm	 tm;
	time_t		 t = (time_t)((r->ctx_time_us != 0 ? r->ctx_time_us :
			     r->time_us) / 1000000);
	char		 ts[40], ip[CF_SOURCE_MAX];
	struct cf_attr	 op[OP_MAX];
	size_t		 n_op, i;
	int		 bad = 0;
	bool		 sbad;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ctx = json_pack("{s:o, s:I, s:I, s:b, s:s}", "time",
	    extn("datetime", ts), "hour", (json_int_t)tm.tm_hour, "weekday",
	    (json_int_t)tm.tm_wday, "mfa", r->mfa ? 1 : 0, "authn",
	    r->authn != NULL ? r->authn : "none");
	if (ctx == NULL)
		return NULL;
	if (r->mfa && r->mfa_age >= 0)
		bad |= json_object_set_new(ctx, "mfa_age_s",
		    json_integer(r->mfa_age));
	if (r->purpose[0] != '\0')
		bad |= json_object_set_new(ctx, "purpose",
		    json_string(r->purpose));
	if (r->user_agent[0] != '\0')
		bad |= json_object_set_new(ctx, "user_agent",
		    json_string(r->user_agent));
	if (peer_ip(r->source, ip, sizeof(ip)) != NULL)
		bad |= json_object_set_new(ctx, "source_ip",
		    extn("ip", ip));
	if (r->risk_set) {
		v = risk_flags_json(r);
		bad |= v == NULL || json_object_set_new(ctx, "risk",
		    json_pack("{s:I, s:o}", "score", (json_int_t)r->risk_score,
		    "flags", v)) != 0;
	}
	n_op = op_attrs(r, op);
	if (n_op > 0) {
		v = json_object();
		for (i = 0; v != NULL && i < n_op; i++)
			bad |= json_object_set_new(v, op[i].name,
			    json_string(op[i].s));
		bad |= v == NULL || json_object_set_new(ctx, "op", v) != 0;
	}
	if (r->scope[0] != '\0') {
		v = core_scope_json(r->scope, &sbad);
		if (v != NULL) {
			json_t *s = json_object();
			json_t *a = json_object_get(v, "actions");
			json_t *n = json_object_get(v, "namespaces");
			if (s == NULL)
				bad = 1;
			else {
				if (json_is_array(a))
					bad |= json_object_set(s, "actions", a);
				if (json_is_array(n))
					bad |= json_object_set(s,
					    "namespaces", n);
				bad |= json_object_set_new(ctx, "token_scope",
				    s);
			}
		} else
			bad = 1;	/* SEC: unreadable scope: fail */
		json_decref(v);
	}
	if (bad) {
		json_decref(ctx);
		return NULL;
	}
	return ctx;
}

/* Append ,"key": (or "key": first) to b. */
static cf_err
ctx_key(struct cf_buf *b, bool *first, const char *key, struct cf_error *err)
{
	const char	*sep = *first ? "" : ",";

	*first = false;
	return cf_buf_append_strs(b, err, sep, "\"", key, "\":", NULL);
}

/* ,"key":"s" */
static cf_err
ctx_str(struct cf_buf *b, bool *first, const char *key, const char *s,
    struct cf_error *err)
{
	cf_err	rc;

	rc = ctx_key(b, first, key, err);
	if (rc == CF_OK)
		rc = cf_audit_json_string(b, s, err);
	return rc;
}

/* ,"key":{"__extn":{"fn":"fn","arg":"arg"}} (extn's; fn a literal) */
static cf_err
ctx_extn(struct cf_buf *b, bool *first, const char *key, const char *fn,
    const char *arg, struct cf_error *err)
{
	cf_err	rc;

	rc = ctx_key(b, first, key, err);
	if (rc == CF_OK)
		rc = cf_buf_append_strs(b, err, "{\"__extn\":{\"fn\":\"", fn,
		    "\",\"arg\":", NULL);
	if (rc == CF_OK)
		rc = cf_audit_json_string(b, arg, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "}}", 2, err);
	return rc;
}

/* context.token_scope as core_authz_context makes it (a scoped token is
 * the rare case: built as JSON, then dumped). */
static cf_err
ctx_scope(const struct cf_req *r, struct cf_buf *b, bool *first,
    struct cf_error *err)
{
	json_t	*v, *sc, *a, *n;
	bool	 sbad;
	int	 bad = 0;
	cf_err	 rc;

	v = core_scope_json(r->scope, &sbad);
	if (v == NULL)		/* SEC: unreadable scope: fail */
		return cf_error_set(err, CF_E_INVAL, "token scope");
	sc = json_object();
	a = json_object_get(v, "actions");
	n = json_object_get(v, "namespaces");
	if (sc == NULL)
		bad = 1;
	else {
		if (json_is_array(a))
			bad |= json_object_set(sc, "actions", a);
		if (json_is_array(n))
			bad |= json_object_set(sc, "namespaces", n);
	}
	json_decref(v);
	rc = bad ? cf_error_set(err, CF_E_NOMEM, "out of memory") :
	    ctx_key(b, first, "token_scope", err);
	if (rc == CF_OK)
		rc = cf_json_dump(sc, JSON_ENSURE_ASCII | JSON_COMPACT, b, err);
	json_decref(sc);
	return rc;
}

cf_err
core_authz_context_write(const struct cf_req *r, struct cf_buf *b,
    struct cf_error *err)
{
	struct tm	 tm;
	time_t		 t = (time_t)((r->ctx_time_us != 0 ? r->ctx_time_us :
			     r->time_us) / 1000000);
	char		 ts[40], ip[CF_SOURCE_MAX];
	struct cf_attr	 op[OP_MAX];
	size_t		 n_op, i;
	bool		 first = true, f2;
	int		 k;
	cf_err		 rc;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = cf_buf_append(b, "{", 1, err);
	if (rc == CF_OK)
		rc = ctx_extn(b, &first, "time", "datetime", ts, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",\"hour\":", err);
	if (rc == CF_OK)
		rc = cf_buf_append_i64(b, tm.tm_hour, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",\"weekday\":", err);
	if (rc == CF_OK)
		rc = cf_buf_append_i64(b, tm.tm_wday, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, r->mfa ? ",\"mfa\":true" :
		    ",\"mfa\":false", err);
	if (rc == CF_OK)
		rc = ctx_str(b, &first, "authn",
		    r->authn != NULL ? r->authn : "none", err);
	if (rc == CF_OK && r->mfa && r->mfa_age >= 0) {
		rc = cf_buf_append_str(b, ",\"mfa_age_s\":", err);
		if (rc == CF_OK)
			rc = cf_buf_append_i64(b, r->mfa_age, err);
	}
	if (rc == CF_OK && r->purpose[0] != '\0')
		rc = ctx_str(b, &first, "purpose", r->purpose, err);
	if (rc == CF_OK && r->user_agent[0] != '\0')
		rc = ctx_str(b, &first, "user_agent", r->user_agent, err);
	if (rc == CF_OK && peer_ip(r->source, ip, sizeof(ip)) != NULL)
		rc = ctx_extn(b, &first, "source_ip", "ip", ip, err);
	if (rc == CF_OK && r->risk_set) {
		rc = cf_buf_append_str(b, ",\"risk\":{\"score\":", err);
		if (rc == CF_OK)
			rc = cf_buf_append_i64(b, r->risk_score, err);
		if (rc == CF_OK)
			rc = cf_buf_append_str(b, ",\"flags\":[", err);
		for (k = 0, f2 = true; rc == CF_OK && k < CF_ANOM_NKINDS; k++)
			if ((r->risk_flags >> k & 1) != 0) {
				if (!f2)
					rc = cf_buf_append(b, ",", 1, err);
				f2 = false;
				if (rc == CF_OK)
					rc = cf_audit_json_string(b,
					    cf_anom_kind_name(
					    (enum cf_anom_kind)k), err);
			}
		if (rc == CF_OK)
			rc = cf_buf_append(b, "]}", 2, err);
	}
	n_op = op_attrs(r, op);
	if (rc == CF_OK && n_op > 0) {
		rc = ctx_key(b, &first, "op", err);
		if (rc == CF_OK)
			rc = cf_buf_append(b, "{", 1, err);
		for (i = 0, f2 = true; rc == CF_OK && i < n_op; i++)
			rc = ctx_str(b, &f2, op[i].name, op[i].s, err);
		if (rc == CF_OK)
			rc = cf_buf_append(b, "}", 1, err);
	}
	if (rc == CF_OK && r->scope[0] != '\0')
		rc = ctx_scope(r, b, &first, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "}", 1, err);
	return rc;
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

/* The artifact's stages (space-separated, cf_req_art) as a JSON array:
 * Cedar's JSON form of a Set<String>. */
static json_t *
stages_json(const char *text)
{
	json_t		*a = json_array();
	const char	*p = text, *q;

	while (a != NULL && *p != '\0') {
		q = strchr(p, ' ');
		if (q == NULL)
			q = p + strlen(p);
		if (json_array_append_new(a, json_stringn(p, (size_t)(q -
		    p))) != 0) {
			json_decref(a);
			return NULL;
		}
		p = *q == ' ' ? q + 1 : q;
	}
	return a;
}

/* The sensitivity level a decision on an Object sees: its namespace's,
 * or for an artifact's version (r->art), the higher of that and the
 * version's own. */
static int
object_level(const struct cf_req *r, int ns_level)
{
	int	a;

	if (!r->art.set)
		return ns_level;
	a = sens_level(r->art.sensitivity);
	return a > ns_level ? a : ns_level;
}

/* The resource entity of a decision, and the entities above it. */
static cf_err
add_resource(struct cf_core *c, const struct cf_req *r, json_t *arr,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, const char **rtype, char *rid, size_t ridsz,
    struct cf_error *err)
{
	const char	*key = NULL;
	char		 pre[CF_NS_NAME_MAX + 16], env[CF_ENV_MAX];
	char		 nbuf[3 * CF_NS_NAME_MAX], kbuf[3 * CF_RESOURCE_MAX];
	size_t		 n;
	int		 level;
	int64_t		 ns_id = 0;
	json_t		*tags = NULL;
	cf_err		 rc;

	if (ns == NULL && (data_ns == NULL || (def->flags & CF_ACT_NS) != 0))
		goto store;
	if (ns == NULL)
		ns = data_ns;
	(void)snprintf(pre, sizeof(pre), "ns/%s/obj/", ns);
	n = strlen(pre);
	/* An object action is on the object of its key ("" too: refused
	 * once decided), a listing on the namespace, whatever its prefix,
	 * as the schema says (core_action_resources). */
	if ((strcmp(def->resource, "object") == 0 ||
	    strcmp(def->resource, "label") == 0) && resource != NULL &&
	    strncmp(resource, pre, n) == 0 &&
	    strcmp(def->name, "object:list") != 0)
		key = safe_id(resource + n, kbuf, sizeof(kbuf));
	ns = safe_id(ns, nbuf, sizeof(nbuf));
	rc = add_namespace(c, arr, ns, &level, env, &ns_id, err);
	if (rc != CF_OK)
		return rc;
	if (key == NULL) {
		*rtype = "Namespace";
		cf_strlcpy(rid, ns, ridsz);
	} else {
		*rtype = "Object";
		(void)snprintf(rid, ridsz, "%s/%s", ns, key);
		level = object_level(r, level);
		if (add_entity(arr, "Object", rid, json_pack("{s:s, s:s, s:s, "
		    "s:I, s:s}", "ns", ns, "key", key, "env", env,
		    "sensitivity", (json_int_t)level, "sensitivity_name",
		    sens_names[level]), json_pack("[o]",
		    uid("Namespace", ns))) != 0)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		/* The artifact version it decides on: resource.artifact. */
		if (r->art.set && json_object_set_new(json_object_get(
		    json_array_get(arr, json_array_size(arr) - 1), "attrs"),
		    "artifact", json_pack("{s:I, s:s, s:I, s:s, s:s, s:o}",
		    "number", (json_int_t)r->art.number, "kind", r->art.kind,
		    "sensitivity", (json_int_t)sens_level(r->art.sensitivity),
		    "sensitivity_name", sens_names[sens_level(
		    r->art.sensitivity)], "version_id", r->art.version_id,
		    "stages", stages_json(r->art.stages))) != 0)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		/* The version a read decides on (the operation looked it
		 * up): resource.version. */
		if (r->version_id[0] != '\0' && (strcmp(def->name,
		    "object:get") == 0 || strcmp(def->name,
		    "object:head") == 0) && json_object_set_new(
		    json_object_get(json_array_get(arr,
		    json_array_size(arr) - 1), "attrs"), "version",
		    json_pack("{s:s, s:s, s:s}", "id", r->version_id,
		    "digest", r->version_sha256, "created_by",
		    r->version_by)) != 0)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		/* A key the store cannot hold (refused as invalid once
		 * decided; "" too, which names the namespace's own labels in
		 * the store) has no labels. */
		if (ns_id != 0 && key == resource + n && key[0] != '\0' &&
		    strlen(key) < CF_OBJKEY_MAX) {
			rc = cf_meta_labels_get(c->meta, ns_id, key, &tags,
			    err);
			if (rc != CF_OK)
				return rc;
			if (add_tags(arr, tags) != 0)
				return cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
		}
	}
	if (add_entity(arr, "Store", "coffer", NULL, NULL) != 0)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
store:
	*rtype = "Store";
	cf_strlcpy(rid, "coffer", ridsz);
	if (add_entity(arr, "Store", "coffer", NULL, NULL) != 0)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

const char *
core_principal_type(const struct cf_principal_rec *p)
{
	return strcmp(p->kind, "service") == 0 ? "Service" : "User";
}

cf_err
core_authz_check_entities(struct cf_core *c, const json_t *entities,
    const char *ptype, const char *action, const char *rtype,
    const json_t *ctx, struct cf_error *err)
{
	struct cf_entity_check		*ec = NULL;
	struct cf_entity_check_request	 rq;
	const char			*path;
	size_t				 n;
	cf_err				 rc;

	atomic_fetch_add(&c->entity_checks, 1);
	memset(&rq, 0, sizeof(rq));
	rq.principal_type = ptype;
	rq.action_type = "Action";
	rq.action_id = action;
	rq.resource_type = rtype;
	rq.context = ctx;
	rc = cf_entity_check_new(&ec, err);
	if (rc == CF_OK)
		rc = cf_schema_check_entities(c->schema, entities, ec, err);
	if (rc == CF_OK && rtype != NULL)
		rc = cf_schema_check_request(c->schema, &rq, ec, err);
	if (rc == CF_OK && !cf_entity_check_ok(ec)) {
		n = cf_entity_check_error_count(ec) +
		    cf_entity_check_dropped(ec);
		path = cf_entity_check_error_path(ec, 0);
		rc = cf_error_set(err, CF_E_INPUT, "%s: %s%s%s (%zu "
		    "violation%s of coffer policy schema)",
		    cf_entity_check_error_entity(ec, 0), path,
		    path[0] != '\0' ? ": " : "",
		    cf_entity_check_error_msg(ec, 0), n, n == 1 ? "" : "s");
	}
	cf_entity_check_free(ec);
	return rc;
}

#ifndef NDEBUG
/* SEC: the entities and context the monitor builds must be what Coffer's
 * schema, the one every stored policy is validated against, says they
 * are; otherwise a validated policy may read an attribute that is not
 * there (an error, so its permit does not apply, its forbid does) and
 * mean something else than its author checked.  The check is a second
 * pass over the entities on every decision, so only debug builds (the
 * sanitizer build the whole test suite runs in) make it: a broken
 * invariant there aborts (CF_NEVER); were it ever to return, the
 * decision fails closed.  Release builds do not compile it (a unit
 * test counts the checks: none there). */
static cf_err
self_check(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const json_t *entities,
    const char *rtype, const json_t *ctx, const char *where,
    struct cf_error *err)
{
	struct cf_error	e;
	cf_err		rc;

	cf_error_clear(&e);
	rc = core_authz_check_entities(c, entities,
	    core_principal_type(&r->principal), def->name, rtype, ctx, &e);
	if (rc == CF_E_INPUT) {
		log_warnx("event=authz_entities_off_schema in=%s action=%s "
		    "msg=\"%s\"", where, def->name, e.msg);
		if (CF_NEVER(rc == CF_E_INPUT))
			return cf_error_set(err, CF_E_INTERNAL, "the entities "
			    "of the decision do not conform to the schema");
	}
	if (rc != CF_OK)
		return cf_error_set(err, rc, "%s", e.msg);
	return CF_OK;
}
#endif

/* Forward: the entities of a decision as JSON (explain_entities). */
static cf_err explain_entities(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, json_t **arr_out, const char **rtype, char *rid,
    size_t ridsz, struct cf_error *err);

/*
 * The decision's entities and context as C values (cf_entities_build,
 * cf_request_build), not as JSON built and read back: what decides
 * every request.  Exactly the entities and context explain_entities and
 * core_authz_context say as JSON (explain shows those): the same
 * entities, attributes, parents and tags, and the same failures
 * (tests/unit/test_authz_build.c compares both for many requests).
 */
#define ENTS_MAX	6	/* principal, action, group, namespace,
				 * object, store */
#define ATTRS_MAX	16
#define CTX_MAX		16
#define PARENTS_MAX	(CF_REQ_GROUPS_MAX + CF_MAX_BINDINGS + 4)
#define TAGS_PRINCIPAL	0
#define TAGS_NS		1
#define TAGS_OBJECT	2

struct ents {
	struct cf_entity_def	 d[ENTS_MAX];
	size_t			 n;
	struct cf_attr		 a[ATTRS_MAX];
	size_t			 na;
	struct cf_entity_ref	 p[PARENTS_MAX];
	size_t			 np;
	struct cf_attr		 version[3];
	struct cf_attr		 artifact[6];	/* resource.artifact */
	json_t			*stagej;	/* its stages (owned) */
	/* Tags: the store's JSON objects (owned), their members as
	 * values (allocated). */
	json_t			*tagj[3];
	struct cf_attr		*tags[3];
	char			 roles[CF_MAX_BINDINGS][CF_ROLE_MAX +
				     CF_NS_NAME_MAX + 2];
	char			 nbuf[3 * CF_NS_NAME_MAX];
	char			 kbuf[3 * CF_RESOURCE_MAX];
	char			 env[CF_ENV_MAX];
	int			 ns_def;	/* d[] of the namespace, -1 */
	bool			 ns_shared;	/* it may be shared */
};

static void
ents_init(struct ents *e)
{
	size_t	i;

	e->n = 0;
	e->na = 0;
	e->np = 0;
	e->ns_def = -1;
	e->ns_shared = false;
	e->stagej = NULL;
	for (i = 0; i < 3; i++) {
		e->tagj[i] = NULL;
		e->tags[i] = NULL;
	}
}

static void
ents_done(struct ents *e)
{
	size_t	i;

	json_decref(e->stagej);
	e->stagej = NULL;
	for (i = 0; i < 3; i++) {
		json_decref(e->tagj[i]);
		e->tagj[i] = NULL;
		cf_free(e->tags[i]);
		e->tags[i] = NULL;
	}
}

/* A field named by name, a literal (CF_ATTR_NAME_STATIC): every name
 * below is one.  Not inlined, nor attr_long: a decision runs each of
 * their thirty-odd calls once, so a call is shorter code than another
 * copy of the 64-byte clear (fewer instruction cache misses right after
 * an authentication; bench/README.md, bench/authz). */
static __attribute__((noinline)) void
attr_str(struct cf_attr *a, const char *name, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	a->flags = CF_ATTR_NAME_STATIC;
	a->kind = CF_ATTR_STRING;
	a->s = s;
}

/* attr_str of a string this file checked to be UTF-8, or made so
 * (safe_id), on the way here (CF_ATTR_VALUE_UTF8): a literal, a name
 * from safe_id, a context field ctx_build checked. */
static void
attr_utf8(struct cf_attr *a, const char *name, const char *s)
{
	attr_str(a, name, s);
	a->flags |= CF_ATTR_VALUE_UTF8;
}

static __attribute__((noinline)) void
attr_long(struct cf_attr *a, const char *name, int kind, int64_t i)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	a->flags = CF_ATTR_NAME_STATIC;
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

/* Room for k parents of the next entity; NULL when full. */
static struct cf_entity_ref *
parents_next(struct ents *e, size_t k)
{
	struct cf_entity_ref	*p;

	if (PARENTS_MAX - e->np < k)
		return NULL;
	p = &e->p[e->np];
	e->np += k;
	return p;
}

/* An entity with attributes attrs[0..nattrs) and at most one parent
 * (ptype NULL: none).  Strings are borrowed until the store is built. */
static struct cf_entity_def *
ent_add(struct ents *e, const char *type, const char *id,
    const struct cf_attr *attrs, size_t nattrs, const char *ptype,
    const char *pid)
{
	struct cf_entity_def	*d;
	struct cf_entity_ref	*p = NULL;

	/* SEC: the sizes are ours: running out is a bug, and fails. */
	if (e->n == ENTS_MAX)
		return NULL;
	if (ptype != NULL) {
		p = parents_next(e, 1);
		if (p == NULL)
			return NULL;
		p->type = ptype;
		p->id = pid;
	}
	d = &e->d[e->n++];
	memset(d, 0, sizeof(*d));
	d->uid.type = type;
	d->uid.id = id;
	d->attrs = attrs;
	d->nattrs = nattrs;
	d->parents = p;
	d->nparents = p != NULL ? 1 : 0;
	return d;
}

static const struct cf_attr no_tags[1];

/* The tags of d from the store's JSON object j (taken): each member as
 * Cedar reads it from JSON.  present: tags even when j is empty (as
 * explain_entities sets "tags": {}). */
static cf_err
ent_tags(struct ents *e, int slot, struct cf_entity_def *d, json_t *j,
    bool present, struct cf_error *err)
{
	struct cf_attr	*t;
	const char	*k;
	json_t		*v;
	size_t		 i = 0, n;

	e->tagj[slot] = j;
	n = json_object_size(j);
	if (n == 0) {
		/* No members: an empty record when present. */
		d->tags = present ? no_tags : NULL;
		d->ntags = 0;
		return CF_OK;
	}
	t = cf_calloc(n, sizeof(*t));
	if (t == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	e->tags[slot] = t;
	json_object_foreach(j, k, v) {
		t[i].name = k;
		t[i].kind = CF_ATTR_JSON;
		t[i++].json = v;
	}
	d->tags = t;
	d->ntags = i;
	return CF_OK;
}

/* The resource's entities (add_resource's, as C values).  *nsr gets
 * the namespace record read (id 0 and *nsname NULL when none was). */
static cf_err
c_resource(struct cf_core *c, const struct cf_req *r, struct ents *e,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, bool tags, const char **rtype, char *rid,
    size_t ridsz, struct cf_ns_rec *nsr, const char **nsname,
    struct cf_error *err)
{
	struct cf_entity_def	*d;
	struct cf_attr		*a;
	const char		*key = NULL;
	char			 pre[CF_NS_NAME_MAX + 16];
	json_t			*j = NULL;
	size_t			 n, na;
	int			 level;
	cf_err			 rc;

	if (ns == NULL && (data_ns == NULL || (def->flags & CF_ACT_NS) != 0))
		goto store;
	if (ns == NULL)
		ns = data_ns;
	join3(pre, sizeof(pre), "ns/", ns, "/obj/");
	n = strlen(pre);
	/* As add_resource: an object action is on the object of its key
	 * ("" too), a listing on the namespace. */
	if ((strcmp(def->resource, "object") == 0 ||
	    strcmp(def->resource, "label") == 0) && resource != NULL &&
	    strncmp(resource, pre, n) == 0 &&
	    strcmp(def->name, "object:list") != 0)
		key = safe_id(resource + n, e->kbuf, sizeof(e->kbuf));
	ns = safe_id(ns, e->nbuf, sizeof(e->nbuf));
	/* The namespace (as add_namespace). */
	nsr->id = 0;
	nsr->env[0] = '\0';
	nsr->sensitivity[0] = '\0';
	/* From the decision cache, unless labels are to be read: those
	 * come from the request's read scope, and so does then the record
	 * whose id finds them (a namespace re-created since the scope began
	 * would otherwise lend its new id to the old labels' lookup). */
	rc = tags ? cf_meta_ns_get(c->meta, ns, nsr, err) :
	    cf_meta_ns_get_cached(c->meta, ns, nsr, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);	/* env "", internal: a 404 to come */
		nsr->id = 0;
		nsr->env[0] = '\0';
		nsr->sensitivity[0] = '\0';
	} else if (rc != CF_OK)
		return rc;
	*nsname = ns;
	level = sens_level(nsr->sensitivity);
	cf_strlcpy(e->env, nsr->env, sizeof(e->env));
	a = attrs_next(e, 4);
	d = a != NULL ? ent_add(e, "Namespace", ns, a, 4, "Store", "coffer") :
	    NULL;
	if (d == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "too many entities");
	attr_utf8(&a[0], "name", ns);		/* safe_id */
	attr_str(&a[1], "env", e->env);
	attr_long(&a[2], "sensitivity", CF_ATTR_LONG, level);
	attr_utf8(&a[3], "sensitivity_name", sens_names[level]);
	/* A namespace of the store, without its labels, is the same in
	 * every decision until its record changes: shared (def_layer). */
	e->ns_def = (int)(d - e->d);
	e->ns_shared = !tags && nsr->id != 0;
	if (tags && nsr->id != 0) {
		rc = cf_meta_labels_get(c->meta, nsr->id, "", &j, err);
		if (rc == CF_OK)
			rc = ent_tags(e, TAGS_NS, d, j, true, err);
		if (rc != CF_OK)
			return rc;
	}
	if (key == NULL) {
		*rtype = "Namespace";
		cf_strlcpy(rid, ns, ridsz);
	} else {
		*rtype = "Object";
		join3(rid, ridsz, ns, "/", key);
		a = attrs_next(e, 7);
		d = a != NULL ? ent_add(e, "Object", rid, a, 5, "Namespace",
		    ns) : NULL;
		if (d == NULL)
			return cf_error_set(err, CF_E_INTERNAL,
			    "too many entities");
		level = object_level(r, level);
		attr_utf8(&a[0], "ns", ns);		/* safe_id */
		attr_utf8(&a[1], "key", key);		/* safe_id */
		attr_str(&a[2], "env", e->env);
		attr_long(&a[3], "sensitivity", CF_ATTR_LONG, level);
		attr_utf8(&a[4], "sensitivity_name", sens_names[level]);
		na = 5;
		/* The artifact version it decides on: resource.artifact. */
		if (r->art.set) {
			int	al = sens_level(r->art.sensitivity);

			e->stagej = stages_json(r->art.stages);
			if (e->stagej == NULL)
				return cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
			attr_long(&e->artifact[0], "number", CF_ATTR_LONG,
			    r->art.number);
			attr_str(&e->artifact[1], "kind", r->art.kind);
			attr_long(&e->artifact[2], "sensitivity",
			    CF_ATTR_LONG, al);
			attr_str(&e->artifact[3], "sensitivity_name",
			    sens_names[al]);
			attr_str(&e->artifact[4], "version_id",
			    r->art.version_id);
			memset(&e->artifact[5], 0, sizeof(e->artifact[5]));
			e->artifact[5].name = "stages";
			e->artifact[5].flags = CF_ATTR_NAME_STATIC;
			e->artifact[5].kind = CF_ATTR_JSON;
			e->artifact[5].json = e->stagej;
			memset(&a[na], 0, sizeof(a[na]));
			a[na].name = "artifact";
			a[na].flags = CF_ATTR_NAME_STATIC;
			a[na].kind = CF_ATTR_RECORD;
			a[na].rec = e->artifact;
			a[na++].n = 6;
		}
		/* The version a read decides on: resource.version. */
		if (r->version_id[0] != '\0' && (strcmp(def->name,
		    "object:get") == 0 || strcmp(def->name,
		    "object:head") == 0)) {
			attr_str(&e->version[0], "id", r->version_id);
			attr_str(&e->version[1], "digest",
			    r->version_sha256);
			attr_str(&e->version[2], "created_by", r->version_by);
			memset(&a[na], 0, sizeof(a[na]));
			a[na].name = "version";
			a[na].flags = CF_ATTR_NAME_STATIC;
			a[na].kind = CF_ATTR_RECORD;
			a[na].rec = e->version;
			a[na++].n = 3;
		}
		d->nattrs = na;
		/* A key the store cannot hold has no labels ("" names the
		 * namespace's own). */
		if (tags && nsr->id != 0 && key == resource + n &&
		    key[0] != '\0' && strlen(key) < CF_OBJKEY_MAX) {
			j = NULL;
			rc = cf_meta_labels_get(c->meta, nsr->id, key, &j,
			    err);
			if (rc == CF_OK)
				rc = ent_tags(e, TAGS_OBJECT, d, j, true, err);
			if (rc != CF_OK)
				return rc;
		}
	}
	if (ent_add(e, "Store", "coffer", NULL, 0, NULL, NULL) == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "too many entities");
	return CF_OK;
store:
	*rtype = "Store";
	cf_strlcpy(rid, "coffer", ridsz);
	if (ent_add(e, "Store", "coffer", NULL, 0, NULL, NULL) == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "too many entities");
	return CF_OK;
}

/* The context's fields (core_authz_context's).  scope holds the parsed
 * token scope (released by ctx_done), whose arrays the fields borrow. */
struct ctx {
	struct cf_attr	 a[CTX_MAX];
	size_t		 n;
	struct cf_attr	 op[OP_MAX];
	struct cf_attr	 scope[2];
	json_t		*scope_json;
	struct cf_attr	 risk[2];
	json_t		*risk_json;	/* risk.flags */
	char		 ip[CF_SOURCE_MAX];
};

static void
ctx_done(struct ctx *cx)
{
	json_decref(cx->scope_json);
	cx->scope_json = NULL;
	json_decref(cx->risk_json);
	cx->risk_json = NULL;
}

/* CF_E_INTERNAL "request context" where core_authz_context fails (an
 * unreadable token scope, a string that is not UTF-8), so that a
 * request fails the same way either way. */
#define CTX_TIME_MIN	(-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define CTX_TIME_MAX	253402300799LL		/* 9999-12-31T23:59:59Z */

static cf_err
ctx_build(const struct cf_req *r, struct ctx *cx, struct cf_error *err)
{
	int64_t		 t = (r->ctx_time_us != 0 ? r->ctx_time_us :
			     r->time_us) / 1000000;
	int64_t		 days, sec, wday;
	json_t		*acts, *nss;
	size_t		 ns = 0, n_op, i;
	bool		 sbad;

	cx->n = 0;
	cx->scope_json = NULL;
	cx->risk_json = NULL;
	/* datetime() takes years 0000-9999 only (the JSON's text would
	 * not parse either): 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
	if (t < CTX_TIME_MIN || t > CTX_TIME_MAX)
		return cf_error_set(err, CF_E_INTERNAL, "request context");
	/* UTC's hour and weekday by arithmetic (POSIX time has no leap
	 * seconds; 1970-01-01 was a Thursday): gmtime_r's tm_hour and
	 * tm_wday, which core_authz_context prints, without its 300
	 * instructions (test_core_authz_build_matches_json compares). */
	days = t / 86400;
	sec = t % 86400;
	if (sec < 0) {
		sec += 86400;
		days--;
	}
	wday = (days + 4) % 7;
	if (wday < 0)
		wday += 7;
	attr_long(&cx->a[cx->n++], "time", CF_ATTR_DATETIME,
	    (int64_t)t * 1000);
	attr_long(&cx->a[cx->n++], "hour", CF_ATTR_LONG, sec / 3600);
	attr_long(&cx->a[cx->n++], "weekday", CF_ATTR_LONG, wday);
	attr_long(&cx->a[cx->n++], "mfa", CF_ATTR_BOOL, r->mfa ? 1 : 0);
	/* authn, purpose and user_agent: checked below, before any use. */
	attr_utf8(&cx->a[cx->n++], "authn", r->authn != NULL ? r->authn :
	    "none");
	if (r->mfa && r->mfa_age >= 0)
		attr_long(&cx->a[cx->n++], "mfa_age_s", CF_ATTR_LONG,
		    r->mfa_age);
	if (r->purpose[0] != '\0')
		attr_utf8(&cx->a[cx->n++], "purpose", r->purpose);
	if (r->user_agent[0] != '\0')
		attr_utf8(&cx->a[cx->n++], "user_agent", r->user_agent);
	if (!cf_utf8_valid(cx->a[4].s, strlen(cx->a[4].s)) ||
	    !cf_utf8_valid(r->purpose, strlen(r->purpose)) ||
	    !cf_utf8_valid(r->user_agent, strlen(r->user_agent)))
		return cf_error_set(err, CF_E_INTERNAL, "request context");
	if (peer_ip(r->source, cx->ip, sizeof(cx->ip)) != NULL) {
		/* An address inet_pton took: ASCII. */
		attr_utf8(&cx->a[cx->n], "source_ip", cx->ip);
		cx->a[cx->n++].kind = CF_ATTR_IP;
	}
	if (r->risk_set) {
		cx->risk_json = risk_flags_json(r);
		if (cx->risk_json == NULL)
			return cf_error_set(err, CF_E_INTERNAL,
			    "request context");
		attr_long(&cx->risk[0], "score", CF_ATTR_LONG, r->risk_score);
		memset(&cx->risk[1], 0, sizeof(cx->risk[1]));
		cx->risk[1].name = "flags";
		cx->risk[1].flags = CF_ATTR_NAME_STATIC;
		cx->risk[1].kind = CF_ATTR_JSON;
		cx->risk[1].json = cx->risk_json;
		memset(&cx->a[cx->n], 0, sizeof(cx->a[cx->n]));
		cx->a[cx->n].name = "risk";
		cx->a[cx->n].flags = CF_ATTR_NAME_STATIC;
		cx->a[cx->n].kind = CF_ATTR_RECORD;
		cx->a[cx->n].rec = cx->risk;
		cx->a[cx->n++].n = 2;
	}
	n_op = op_attrs(r, cx->op);
	if (n_op > 0) {
		for (i = 0; i < n_op; i++) {
			if (!cf_utf8_valid(cx->op[i].s, strlen(cx->op[i].s)))
				return cf_error_set(err, CF_E_INTERNAL,
				    "request context");
			cx->op[i].flags |= CF_ATTR_VALUE_UTF8;
		}
		memset(&cx->a[cx->n], 0, sizeof(cx->a[cx->n]));
		cx->a[cx->n].name = "op";
		cx->a[cx->n].flags = CF_ATTR_NAME_STATIC;
		cx->a[cx->n].kind = CF_ATTR_RECORD;
		cx->a[cx->n].rec = cx->op;
		cx->a[cx->n++].n = n_op;
	}
	if (r->scope[0] == '\0')
		return CF_OK;
	/* A scoped token: its scope, parsed once per text (a reference
	 * to the shared object, read only). */
	cx->scope_json = core_scope_json(r->scope, &sbad);
	if (cx->scope_json == NULL) {
		ctx_done(cx);	/* SEC: unreadable scope: fail */
		return cf_error_set(err, CF_E_INTERNAL, "request context");
	}
	acts = json_object_get(cx->scope_json, "actions");
	nss = json_object_get(cx->scope_json, "namespaces");
	if (json_is_array(acts)) {
		memset(&cx->scope[ns], 0, sizeof(cx->scope[ns]));
		cx->scope[ns].name = "actions";
		cx->scope[ns].flags = CF_ATTR_NAME_STATIC;
		cx->scope[ns].kind = CF_ATTR_JSON;
		cx->scope[ns++].json = acts;
	}
	if (json_is_array(nss)) {
		memset(&cx->scope[ns], 0, sizeof(cx->scope[ns]));
		cx->scope[ns].name = "namespaces";
		cx->scope[ns].flags = CF_ATTR_NAME_STATIC;
		cx->scope[ns].kind = CF_ATTR_JSON;
		cx->scope[ns++].json = nss;
	}
	memset(&cx->a[cx->n], 0, sizeof(cx->a[cx->n]));
	cx->a[cx->n].name = "token_scope";
	cx->a[cx->n].flags = CF_ATTR_NAME_STATIC;
	cx->a[cx->n].kind = CF_ATTR_RECORD;
	cx->a[cx->n].rec = cx->scope;
	cx->a[cx->n++].n = ns;
	return CF_OK;
}

#ifndef NDEBUG
/* Cedar's JSON value of fields a[0..n), as a record (debug builds: the
 * schema check of what build() made). */
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
			v = extn("datetime", ts);
			break;
		case CF_ATTR_IP:
			v = extn("ip", a[i].s);
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

/* The entities e holds, in Cedar's JSON entity format. */
static json_t *
ents_json(const struct ents *e)
{
	const struct cf_entity_def	*d;
	json_t				*arr, *ps, *o;
	size_t				 i, k;
	int				 bad = 0;

	arr = json_array();
	for (i = 0; arr != NULL && i < e->n && !bad; i++) {
		d = &e->d[i];
		ps = json_array();
		for (k = 0; ps != NULL && k < d->nparents && !bad; k++)
			bad |= json_array_append_new(ps,
			    uid(d->parents[k].type, d->parents[k].id));
		o = json_pack("{s:o, s:o, s:o}", "uid", uid(d->uid.type,
		    d->uid.id), "attrs", attrs_json(d->attrs, d->nattrs),
		    "parents", ps);
		if (o != NULL && (d->tags != NULL || d->ntags > 0))
			bad |= json_object_set_new(o, "tags",
			    attrs_json(d->tags, d->ntags));
		bad |= json_array_append_new(arr, o);
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* SEC: self_check of what build() made (the entities and context as
 * C values), through their JSON. */
static cf_err
self_check_built(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const struct ents *e,
    const struct ctx *cx, const char *rtype, struct cf_error *err)
{
	json_t	*arr, *ctx;
	cf_err	 rc;

	arr = ents_json(e);
	ctx = attrs_json(cx->a, cx->n);
	if (arr == NULL || ctx == NULL)
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	else
		rc = self_check(c, r, def, arr, rtype, ctx, "decide", err);
	json_decref(arr);
	json_decref(ctx);
	return rc;
}
#endif

/*
 * Shared layers: a decision's principal (its groups and roles) and its
 * namespace (environment and sensitivity) are the same from decision
 * to decision, so each is built once into a small store and shared by
 * every decision that has the same one, as a base below the decision's
 * own entities (cf_entities_build_over), like the action's.
 *
 * A layer is found by its inputs, not by a name: the key is every
 * string and number the entity is built from (the principal's type,
 * name, kind, groups and roles; the namespace's name, environment and
 * sensitivity), compared whole.  So a layer is used only for a
 * decision that would build exactly that entity, and nothing has to
 * invalidate it: a group membership or binding that changes (read at
 * authentication) or a namespace record that changes (the decision
 * cache follows the store's generation) makes another key, the next
 * decision builds the new entity, and the old one is evicted in time.
 * Entities with tags (the principal's attributes, the namespace's
 * labels: read per decision in the request's read scope while a set in
 * force reads tags) are never shared.
 *
 * Each cache is set-associative (LAYER_WAYS per set, the least recently
 * used replaced) under one lock, and holds a reference on each of its
 * stores; a decision's store takes its own (cf_entities_build_over), so
 * an eviction never frees a store in use.
 */
#define LAYER_KEY_MAX	4096	/* larger inputs are not shared */

struct core_layer {
	struct cf_entities	*es;
	uint64_t		 hash;
	uint64_t		 used;		/* tick of the last use */
	size_t			 keylen;
	char			 key[];
};

struct core_layer_cache {
	pthread_mutex_t		 lock;
	struct core_layer	**slot;		/* nsets * LAYER_WAYS */
	size_t			 nsets;		/* a power of two */
	uint64_t		 tick;
	unsigned long		 builds, hits;
};

static struct core_layer_cache *
layer_cache_new(size_t nsets)
{
	struct core_layer_cache	*lc;

	lc = cf_calloc(1, sizeof(*lc));
	if (lc == NULL)
		return NULL;
	lc->slot = cf_calloc(nsets * LAYER_WAYS, sizeof(*lc->slot));
	if (lc->slot == NULL || pthread_mutex_init(&lc->lock, NULL) != 0) {
		cf_free(lc->slot);
		cf_free(lc);
		return NULL;
	}
	lc->nsets = nsets;
	return lc;
}

static void
layer_cache_free(struct core_layer_cache *lc)
{
	size_t	i;

	if (lc == NULL)
		return;
	for (i = 0; i < lc->nsets * LAYER_WAYS; i++)
		if (lc->slot[i] != NULL) {
			cf_entities_free(lc->slot[i]->es);
			cf_free(lc->slot[i]);
		}
	cf_free(lc->slot);
	(void)pthread_mutex_destroy(&lc->lock);
	cf_free(lc);
}

/*
 * A layer's key is all of its def written out (def_key): the uid, each
 * attribute's name, kind and value, the parents, with the counts first,
 * so that no two defs make one key.  A lookup does not write it: it
 * compares the def with each candidate's key as it walks (the same
 * walk, comparing instead of writing), and writes it only to keep a
 * new layer.
 */
struct keyw {
	char		*buf;		/* writing: LAYER_KEY_MAX bytes */
	const char	*cmp;		/* comparing: this key */
	size_t		 cmplen;
	size_t		 n;
	bool		 ok;		/* written, or equal so far */
};

static void
kw_bytes(struct keyw *w, const void *p, size_t n)
{
	if (!w->ok)
		return;
	if (w->cmp != NULL) {
		if (w->cmplen - w->n < n || memcmp(w->cmp + w->n, p, n) != 0)
			w->ok = false;
	} else if (LAYER_KEY_MAX - w->n < n)
		w->ok = false;
	else
		memcpy(w->buf + w->n, p, n);
	w->n += n;
}

static void
kw_str(struct keyw *w, const char *s)
{
	if (s == NULL)
		w->ok = false;
	else
		kw_bytes(w, s, strlen(s) + 1);
}

static void
kw_u64(struct keyw *w, uint64_t v)
{
	kw_bytes(w, &v, sizeof(v));
}

/* Walk d as its key: ok false when d cannot be shared (tags, an
 * attribute of another kind than a string, a number or a boolean,
 * inputs beyond LAYER_KEY_MAX) or, comparing, differs from the key. */
static void
def_key(struct keyw *w, const struct cf_entity_def *d)
{
	const struct cf_attr	*a;
	size_t			 i;

	if (d->tags != NULL || d->ntags != 0 ||
	    (d->nattrs > 0 && d->attrs == NULL) ||
	    (d->nparents > 0 && d->parents == NULL)) {
		w->ok = false;
		return;
	}
	kw_u64(w, d->nattrs);
	kw_u64(w, d->nparents);
	kw_str(w, d->uid.type);
	kw_str(w, d->uid.id);
	for (i = 0; w->ok && i < d->nattrs; i++) {
		a = &d->attrs[i];
		kw_str(w, a->name);
		kw_u64(w, (uint64_t)a->kind);
		switch (a->kind) {
		case CF_ATTR_STRING:
			kw_str(w, a->s);
			break;
		case CF_ATTR_LONG:
		case CF_ATTR_BOOL:
			kw_u64(w, (uint64_t)a->i);
			break;
		default:
			w->ok = false;
			break;
		}
	}
	for (i = 0; w->ok && i < d->nparents; i++) {
		kw_str(w, d->parents[i].type);
		kw_str(w, d->parents[i].id);
	}
	if (w->cmp != NULL && w->n != w->cmplen)
		w->ok = false;
}

/* Which set d's layer is in: a hash of its id and counts (a layer is
 * found by comparing all of it, def_key). */
static uint64_t
def_hash(const struct cf_entity_def *d)
{
	const char	*k = d->uid.id;
	size_t		 n = strlen(k), i;
	uint64_t	 h = 0x9e3779b97f4a7c15ull ^ n, w;

	h = (h ^ (d->nattrs << 8 | d->nparents)) * 0xff51afd7ed558ccdull;
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, k + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, k + i, n - i);
	/* splitmix64's finalizer: every byte reaches the low bits that
	 * pick the set (names differ in their last bytes). */
	h ^= w;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* The layer of d (shareable: checked by the caller): a new reference
 * for the caller (cf_entities_free), or NULL (NOMEM, or d does not
 * build: the caller builds d in the decision's own layer and meets the
 * same error there). */
static struct cf_entities *
layer_get(struct core_layer_cache *lc, const struct cf_entity_def *d)
{
	struct core_layer	**set, *l, *nl;
	struct cf_entities	 *es = NULL;
	struct keyw		  w;
	char			  key[LAYER_KEY_MAX];
	uint64_t		  h = def_hash(d);
	size_t			  way, victim = 0;

	set = &lc->slot[(h & (lc->nsets - 1)) * LAYER_WAYS];
	(void)pthread_mutex_lock(&lc->lock);
	for (way = 0; way < LAYER_WAYS; way++) {
		l = set[way];
		if (l == NULL || l->hash != h)
			continue;
		w = (struct keyw){ NULL, l->key, l->keylen, 0, true };
		def_key(&w, d);
		if (w.ok) {
			l->used = ++lc->tick;
			lc->hits++;
			cf_entities_ref(l->es);
			es = l->es;
			break;
		}
	}
	(void)pthread_mutex_unlock(&lc->lock);
	if (es != NULL)
		return es;
	w = (struct keyw){ key, NULL, 0, 0, true };
	def_key(&w, d);
	if (!w.ok)
		return NULL;
	/* Built outside the lock; two threads may build the same one,
	 * both are correct, the later replaces the other in time. */
	if (cf_entities_build_over(NULL, 0, d, 1, CF_ENTITIES_SMALL, &es,
	    NULL) != CF_OK)
		return NULL;
	nl = cf_malloc(sizeof(*nl) + w.n);
	if (nl == NULL) {
		cf_entities_free(es);
		return NULL;
	}
	nl->es = es;
	nl->hash = h;
	nl->keylen = w.n;
	memcpy(nl->key, key, w.n);
	cf_entities_ref(es);		/* the caller's; the cache has one */
	(void)pthread_mutex_lock(&lc->lock);
	for (way = 0; way < LAYER_WAYS; way++) {
		if (set[way] == NULL) {
			victim = way;
			break;
		}
		if (set[way]->used < set[victim]->used)
			victim = way;
	}
	l = set[victim];
	nl->used = ++lc->tick;
	set[victim] = nl;
	lc->builds++;
	(void)pthread_mutex_unlock(&lc->lock);
	if (l != NULL) {
		cf_entities_free(l->es);	/* users hold their own */
		cf_free(l);
	}
	return es;
}

void
core_authz_layer_stats(struct cf_core *c, unsigned long *pbuilds,
    unsigned long *phits, unsigned long *nbuilds, unsigned long *nhits)
{
	struct core_layer_cache	*lc[2] = { c->layers_principal,
				    c->layers_ns };
	unsigned long		*b[2] = { pbuilds, nbuilds };
	unsigned long		*h[2] = { phits, nhits };
	size_t			 i;

	for (i = 0; i < 2; i++) {
		*b[i] = *h[i] = 0;
		if (lc[i] == NULL)
			continue;
		(void)pthread_mutex_lock(&lc[i]->lock);
		*b[i] = lc[i]->builds;
		*h[i] = lc[i]->hits;
		(void)pthread_mutex_unlock(&lc[i]->lock);
	}
}

/* The layer of d, found by all of d (def_key), or NULL: the caller
 * builds d with the rest (a def that cannot be shared, or NOMEM). */
static struct cf_entities *
def_layer(struct core_layer_cache *lc, const struct cf_entity_def *d)
{
	if (lc == NULL || d->tags != NULL || d->ntags != 0 ||
	    d->uid.type == NULL || d->uid.id == NULL)
		return NULL;
	return layer_get(lc, d);
}

/* The entities every decision on def has, whatever else the request
 * holds: the action in its group, the group, the store, exactly as
 * build() adds them (ent_add).  Built once per action, on first use,
 * and shared read-only by every decision as the layer below its own
 * entities (cf_entities_build_on), so that a decision builds and
 * validates only the principal and the resource.  They depend on the
 * action registry alone, never on the store, so no store generation
 * invalidates them.  NULL (the caller builds them with the rest) for a
 * def that is not a registry entry, or on NOMEM. */
static const struct cf_entities *
action_base(struct cf_core *c, const struct cf_action_def *def)
{
	const struct cf_action_def	*reg;
	struct cf_entity_def		 d[3];
	struct cf_entity_ref		 p;
	struct cf_entities		*es, *cur = NULL;
	size_t				 n, i;

	reg = cf_actions(&n);
	if (c->act_base == NULL || n != c->nact_base ||
	    (uintptr_t)def < (uintptr_t)reg ||
	    (uintptr_t)def >= (uintptr_t)(reg + n))
		return NULL;
	i = (size_t)(def - reg);
	es = atomic_load_explicit(&c->act_base[i], memory_order_acquire);
	if (es != NULL)
		return es;
	memset(d, 0, sizeof(d));
	p.type = "Action";
	p.id = core_action_group(def);
	d[0].uid.type = "Action";
	d[0].uid.id = def->name;
	d[0].parents = &p;
	d[0].nparents = 1;
	d[1].uid = p;
	d[2].uid.type = "Store";
	d[2].uid.id = "coffer";
	if (cf_entities_build(d, 3, &es, NULL) != CF_OK)
		return NULL;
	/* Two threads may build it at once: the first one's stays. */
	if (!atomic_compare_exchange_strong_explicit(&c->act_base[i], &cur,
	    es, memory_order_acq_rel, memory_order_acquire)) {
		cf_entities_free(es);
		es = cur;
	}
	return es;
}

/* The store of e's entities: those of action_base(def), of the
 * principal's layer and of the namespace's layer shared, the rest
 * built; all of them built when there is no base.  Whichever bases are
 * used, the store is the same (cf_entities_build_over). */
static cf_err
build_entities(struct cf_core *c, const struct cf_action_def *def,
    const struct ents *e, struct cf_entities *reuse, struct cf_entities **es,
    struct cf_error *err)
{
	const struct cf_entities	*base = action_base(c, def);
	const struct cf_entities	*bases[3];
	struct cf_entities		*held[2];
	struct cf_entity_def		 own[ENTS_MAX];
	bool				 skip[ENTS_MAX];
	size_t				 i, n = 0, nb = 0, nh = 0, nstore = 0;
	cf_err				 rc;

	for (i = 0; i < e->n; i++) {
		skip[i] = false;
		if (strcmp(e->d[i].uid.type, "Store") == 0)
			nstore++;
	}
	/* build() adds the action and its group second and third, the
	 * store once (c_resource); anything else, and the base is not
	 * used. */
	if (base != NULL && e->n >= 3 && nstore == 1 &&
	    strcmp(e->d[1].uid.id, def->name) == 0) {
		bases[nb++] = base;
		skip[1] = skip[2] = true;
		for (i = 0; i < e->n; i++)
			if (strcmp(e->d[i].uid.type, "Store") == 0)
				skip[i] = true;
	}
	/* The principal is first; the namespace where c_resource put it
	 * (ns_def), shared only when it exists in the store. */
	held[nh] = e->n > 0 ? def_layer(c->layers_principal, &e->d[0]) :
	    NULL;
	if (held[nh] != NULL) {
		bases[nb++] = held[nh++];
		skip[0] = true;
	}
	held[nh] = e->ns_def > 0 && (size_t)e->ns_def < e->n &&
	    e->ns_shared ? def_layer(c->layers_ns, &e->d[e->ns_def]) : NULL;
	if (held[nh] != NULL) {
		bases[nb++] = held[nh++];
		skip[e->ns_def] = true;
	}
	for (i = 0; i < e->n; i++)
		if (!skip[i])
			own[n++] = e->d[i];
	if (reuse == NULL)
		rc = cf_entities_build_over(bases, nb, own, n, 0, es, err);
	else {
		rc = cf_entities_rebuild_over(reuse, bases, nb, own, n, err);
		if (rc == CF_OK)
			*es = reuse;
	}
	/* The store holds its own references on the layers. */
	for (i = 0; i < nh; i++)
		cf_entities_free(held[i]);
	return rc;
}

/*
 * Reused stores: a decision's entities, request and response are built
 * into objects taken from a pool and returned after the decision, so
 * that a decision allocates nothing for them once the pool is warm (an
 * arena's chunk each, and the objects themselves: about 2,000
 * instructions a decision, bench/authz).  A pool, not thread-local
 * storage, so that everything is freed with the core.
 */
#define SCRATCH_MAX	64	/* kept; more are freed when returned */
#define SCRATCH_BYTES	(64u * 1024)	/* a store that grew beyond */

struct core_authz_scratch {
	struct core_authz_scratch	*next;
	struct cf_entities		*es;	/* NULL until first built */
	struct cf_request		*req;	/* NULL until first built */
	struct cf_response		*resp;
};

static void
scratch_free(struct core_authz_scratch *sc)
{
	if (sc == NULL)
		return;
	cf_entities_free(sc->es);
	cf_request_free(sc->req);
	cf_response_free(sc->resp);
	cf_free(sc);
}

/* A scratch for one decision, or NULL on NOMEM. */
static struct core_authz_scratch *
scratch_get(struct cf_core *c)
{
	struct core_authz_scratch	*sc;

	(void)pthread_mutex_lock(&c->scratch_lock);
	sc = c->scratch;
	if (sc != NULL) {
		c->scratch = sc->next;
		c->nscratch--;
	}
	(void)pthread_mutex_unlock(&c->scratch_lock);
	if (sc != NULL)
		return sc;
	sc = cf_calloc(1, sizeof(*sc));
	if (sc == NULL)
		return NULL;
	if (cf_response_new(&sc->resp, NULL) != CF_OK) {
		cf_free(sc);
		return NULL;
	}
	return sc;
}

static void
scratch_put(struct cf_core *c, struct core_authz_scratch *sc)
{
	if (sc == NULL)
		return;
	/* A store grown large (labels, attributes) is not kept: its
	 * arena would keep its last, large chunk. */
	if (sc->es != NULL && cf_entities_memory(sc->es) > SCRATCH_BYTES) {
		scratch_free(sc);
		return;
	}
	(void)pthread_mutex_lock(&c->scratch_lock);
	if (c->nscratch < SCRATCH_MAX) {
		sc->next = c->scratch;
		c->scratch = sc;
		c->nscratch++;
		sc = NULL;
	}
	(void)pthread_mutex_unlock(&c->scratch_lock);
	scratch_free(sc);
}

/* Free the pool (the core closes: no decision runs). */
static void
scratch_drain(struct cf_core *c)
{
	struct core_authz_scratch	*next;

	while (c->scratch != NULL) {
		next = c->scratch->next;
		scratch_free(c->scratch);
		c->scratch = next;
	}
	c->nscratch = 0;
}

/* The entities and request of a decision.  tags: read the principal's
 * attributes and the labels (false only when no policy in force can
 * read a tag).  seen (nullable) gets the namespace record read. */
static cf_err
build(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, bool tags, struct core_authz_scratch *sc,
    struct cf_entities **es, struct cf_request **req,
    struct core_authz_seen *seen, struct cf_error *err)
{
	struct ents		 e;
	struct ctx		 cx;
	struct cf_ns_rec	 nsr;
	struct cf_entity_def	*d;
	struct cf_entity_ref	*p;
	struct cf_attr		*a;
	const char		*ptype = core_principal_type(&r->principal);
	const char		*group = core_action_group(def);
	const char		*rtype = NULL, *nsname = NULL;
	char			 rid[CF_RESOURCE_MAX];
	json_t			*j = NULL;
	size_t			 i, ng, nb;
	cf_err			 rc;

	ents_init(&e);
	cx.scope_json = NULL;
	cx.risk_json = NULL;
	if (seen != NULL)
		seen->ns_read = false;
	/* The principal, in its groups and roles (Role::"R", "R@NS"). */
	ng = r->ngroups < CF_REQ_GROUPS_MAX ? r->ngroups : CF_REQ_GROUPS_MAX;
	nb = r->nbindings < CF_MAX_BINDINGS ? r->nbindings : CF_MAX_BINDINGS;
	a = attrs_next(&e, 2);
	d = ent_add(&e, ptype, r->principal.name, a, 2, NULL, NULL);
	p = parents_next(&e, ng + nb);
	if (a == NULL || d == NULL || p == NULL) {
		rc = cf_error_set(err, CF_E_INTERNAL, "too many entities");
		goto out;
	}
	attr_str(&a[0], "name", r->principal.name);
	attr_str(&a[1], "kind", r->principal.kind);
	for (i = 0; i < ng; i++) {
		p[i].type = "Group";
		p[i].id = r->groups[i];
	}
	for (i = 0; i < nb; i++) {
		join3(e.roles[i], sizeof(e.roles[i]), r->bindings[i].role,
		    r->bindings[i].ns[0] != '\0' ? "@" : "", r->bindings[i].ns);
		p[ng + i].type = "Role";
		p[ng + i].id = e.roles[i];
	}
	d->parents = p;
	d->nparents = ng + nb;
	/* Its attributes, as its tags. */
	if (tags && r->principal.id != 0) {
		rc = cf_meta_attrs_get(c->meta, r->principal.id, &j, err);
		if (rc == CF_OK)
			rc = ent_tags(&e, TAGS_PRINCIPAL, d, j, false, err);
		if (rc != CF_OK)
			goto out;
	}
	if (ent_add(&e, "Action", def->name, NULL, 0, "Action",
	    group) == NULL || ent_add(&e, "Action", group, NULL, 0, NULL,
	    NULL) == NULL) {
		rc = cf_error_set(err, CF_E_INTERNAL, "too many entities");
		goto out;
	}
	rc = c_resource(c, r, &e, def, ns, data_ns, resource, tags, &rtype,
	    rid, sizeof(rid), &nsr, &nsname, err);
	if (rc == CF_OK)
		rc = ctx_build(r, &cx, err);
#ifndef NDEBUG
	if (rc == CF_OK)
		rc = self_check_built(c, r, def, &e, &cx, rtype, err);
#endif
	if (rc != CF_OK)
		goto out;
	rc = build_entities(c, def, &e, sc != NULL ? sc->es : NULL, es, err);
	if (rc != CF_OK)
		goto out;
	if (sc != NULL && sc->es == NULL)
		sc->es = *es;
	if (sc != NULL && sc->req != NULL) {
		rc = cf_request_rebuild(sc->req, ptype, r->principal.name,
		    "Action", def->name, rtype, rid, cx.a, cx.n, err);
		if (rc == CF_OK)
			*req = sc->req;
	} else {
		rc = cf_request_build(ptype, r->principal.name, "Action",
		    def->name, rtype, rid, cx.a, cx.n, req, err);
		if (rc == CF_OK && sc != NULL)
			sc->req = *req;
	}
	if (rc != CF_OK) {
		if (sc == NULL)
			cf_entities_free(*es);
		*es = NULL;
		goto out;
	}
	if (seen != NULL && nsname != NULL &&
	    strlen(nsname) < sizeof(seen->ns)) {
		seen->ns_read = true;
		seen->ns_found = nsr.id != 0;
		seen->nsr = nsr;
		cf_strlcpy(seen->ns, nsname, sizeof(seen->ns));
	}
out:
	ctx_done(&cx);
	ents_done(&e);
	return rc;
}

cf_err
core_authz_build(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, struct cf_entities **es, struct cf_request **req,
    struct cf_error *err)
{
	struct core_authz_snap	*s;
	cf_err			 rc;

	s = snap_acquire(c);
	if (s == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no policies loaded");
	rc = build(c, r, def, ns, data_ns, resource, s->uses_tags ||
	    (def->flags & CF_ACT_SHARE) != 0, NULL, es, req,
	    NULL, err);
	snap_release(s);
	return rc;
}

cf_err
core_authz_build_json(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, struct cf_entities **es, struct cf_request **req,
    struct cf_error *err)
{
	json_t		*arr = NULL, *ctx = NULL;
	const char	*rtype = NULL;
	char		 rid[CF_RESOURCE_MAX];
	cf_err		 rc;

	rc = explain_entities(c, r, def, ns, data_ns, resource, &arr, &rtype,
	    rid, sizeof(rid), err);
	if (rc != CF_OK)
		return rc;
	ctx = core_authz_context(r);
	if (ctx == NULL) {
		rc = cf_error_set(err, CF_E_INTERNAL, "request context");
		goto out;
	}
	rc = cf_entities_from_json(arr, es, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_request_new(core_principal_type(&r->principal),
	    r->principal.name, "Action", def->name, rtype, rid, ctx, req, err);
	if (rc != CF_OK) {
		cf_entities_free(*es);
		*es = NULL;
	}
out:
	json_decref(ctx);
	json_decref(arr);
	return rc;
}

/* The stored set that defines custom role name: "role.NAME", global. */
static const struct core_authz_part *
role_part(const struct core_authz_snap *s, const char *name)
{
	char	set[CF_PRINCIPAL_MAX];
	size_t	i;

	(void)snprintf(set, sizeof(set), "role.%s", name);
	for (i = 0; i < s->nparts; i++)
		if (s->parts[i].ns[0] == '\0' &&
		    strcmp(s->parts[i].name, set) == 0)
			return &s->parts[i];
	return NULL;
}

/* Does role have a template for a global binding (global) or for one on
 * a namespace in s: every built-in role, and a custom role whose set
 * is in force and has that template. */
static bool
snap_has_role(const struct core_authz_snap *s, const char *role,
    bool global)
{
	const struct core_authz_part	*p;
	char				 id[CF_ROLE_MAX + 8];

	if (cf_role_rank(role) != CF_ROLE_NONE)
		return true;
	p = role_part(s, role);
	if (p == NULL)
		return false;
	(void)snprintf(id, sizeof(id), "%s:%s", global ? "global" : "ns",
	    role);
	return cf_policy_set_has_template(p->ps, id);
}

bool
core_authz_role_exists(struct cf_core *c, const char *role, bool global)
{
	struct core_authz_snap	*s = snap_acquire(c);
	bool			 ok;

	ok = s != NULL && snap_has_role(s, role, global);
	snap_release(s);
	return ok;
}

/* The links of r's bindings: ids "role:R" and "role:R@NS", as the
 * audit log has always named the binding that decided. */
static size_t
make_links(const struct core_authz_snap *s, const struct cf_req *r,
    struct cf_policy_link *links,
    char (*ids)[CF_ROLE_MAX + CF_NS_NAME_MAX + 8],
    char (*tmpl)[CF_ROLE_MAX + 8])
{
	const char	*ptype = core_principal_type(&r->principal);
	size_t		 i, n = 0;

	for (i = 0; i < r->nbindings && i < CF_MAX_BINDINGS; i++) {
		const struct cf_binding_rec *b = &r->bindings[i];
		/* A custom role removed since: the binding grants nothing. */
		if (!snap_has_role(s, b->role, b->ns[0] == '\0'))
			continue;
		memset(&links[n], 0, sizeof(links[n]));
		links[n].principal_type = ptype;
		links[n].principal_id = r->principal.name;
		if (b->ns[0] == '\0') {
			join3(tmpl[n], sizeof(tmpl[n]), "global:", b->role, "");
			join3(ids[n], sizeof(ids[n]), "role:", b->role, "");
		} else {
			join3(tmpl[n], sizeof(tmpl[n]), "ns:", b->role, "");
			join3(ids[n], sizeof(ids[n]), "role:", b->role, "@");
			cf_strlcat(ids[n], b->ns, sizeof(ids[n]));
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
 * "role:R" or "role:R@NS"), else the first custom role, else "". */
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
		if (rk == CF_ROLE_NONE)
			rk = CF_ROLE_ADMIN + 1;	/* custom: after built-ins */
		if (rk < best) {
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
		(void)cf_buf_append_strs(&b, NULL, sep ? "," : "", id, NULL);
		sep = true;
	}
	for (i = 0; i < cf_response_error_count(resp); i++)
		(void)cf_buf_append_strs(&b, NULL, i == 0 ? (sep ?
		    " errors=" : "errors=") : ",",
		    cf_response_error_id(resp, i), NULL);
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
    struct core_authz_seen *seen, struct cf_error *err)
{
	struct core_authz_snap	*s;
	struct cf_policy_part	 parts[1 + CORE_AUTHZ_MAX_PARTS];
	struct cf_policy_link	 links[CF_MAX_BINDINGS];
	char			 ids[CF_MAX_BINDINGS][CF_ROLE_MAX +
				     CF_NS_NAME_MAX + 8];
	char			 tmpl[CF_MAX_BINDINGS][CF_ROLE_MAX + 8];
	struct core_authz_scratch *sc = NULL;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	const char		*part_ns;
	size_t			 i, np = 0, nl, lo, hi;
	uint64_t		 t0;
	cf_err			 rc;

	*allow = false;
	role[0] = '\0';
	t0 = core_mono_ns();
	if (c->cfg.clock_us != NULL)
		r->ctx_time_us = core_now_us(c);
	core_anom_risk(c, r);
	snap_poll(c);
	s = snap_acquire(c);
	if (s == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no policies loaded");
	/* Tags only when a set in force can read one: the same decision
	 * (a set that calls neither hasTag nor getTag cannot tell).  The
	 * built-in share-default reads the pii label of a share. */
	sc = scratch_get(c);
	if (sc == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = build(c, r, def, ns, data_ns, resource, s->uses_tags ||
	    (def->flags & CF_ACT_SHARE) != 0, sc, &es, &req,
	    seen, err);
	if (rc != CF_OK)
		goto out;
	parts[np].ps = s->builtin;
	parts[np].prefix = NULL;
	parts[np++].flags = CF_POLICY_STRICT_FORBID;
	/* SEC: a policy set attached to a namespace takes part only in
	 * decisions on that namespace. */
	part_ns = ns != NULL ? ns : data_ns;
	/* The global sets first, so that a link finds a global role's
	 * template before anything a namespace's set may call the same;
	 * each group in load order. */
	lo = hi = s->nglobal;
	if (part_ns != NULL && *part_ns != '\0')
		snap_ns_range(s, part_ns, &lo, &hi);
	for (i = 0; i < s->nglobal + (hi - lo); i++) {
		const struct core_authz_part *sp = s->order[i < s->nglobal ?
		    i : lo + (i - s->nglobal)];
		if (np == sizeof(parts) / sizeof(parts[0])) {
			rc = cf_error_set(err, CF_E_LIMIT, "more than %d "
			    "policy sets apply", CORE_AUTHZ_MAX_PARTS);
			goto out;
		}
		parts[np].ps = sp->ps;
		parts[np].prefix = sp->prefix;
		parts[np++].flags = CF_POLICY_STRICT_FORBID;
	}
	nl = make_links(s, r, links, ids, tmpl);
	resp = sc->resp;
	rc = cf_policy_authorize_parts(parts, np, links, nl, es, req, resp,
	    err);
	if (rc != CF_OK)
		goto out;
	core_metrics_authz(c, core_mono_ns() - t0);
	*allow = cf_response_decision(resp) == CF_DECISION_ALLOW;
	if (*allow)
		weakest_role(resp, role, rolesz);
	set_reasons(r, resp, role);
out:
	if (rc != CF_OK)
		cf_strlcpy(r->reasons, "error", sizeof(r->reasons));
	/* es, req and resp are the scratch's: returned, not freed. */
	scratch_put(c, sc);
	snap_release(s);
	return rc;
}

/*
 * The schema.
 */

/* The entity types a request for def may name as its resource, as the
 * monitor builds them (add_resource): the Store for a decision on no
 * namespace, the Namespace for one on a namespace, the Object for one
 * on an object's key.  Any action whose role counts on one namespace
 * (CF_ACT_NS) may be asked on a namespace or on none (a binding, a
 * policy set: global or attached to a namespace).  Debug builds check
 * every decision against this (self_check). */
const char *
core_action_resources(const struct cf_action_def *def)
{
	/* CF_ACT_STORE: asked on the store too when it names no namespace
	 * (a global listing, an unknown promotion: c_resource decides
	 * those on the store). */
	if (strcmp(def->resource, "object") == 0)
		return strcmp(def->name, "object:list") == 0 ? "Namespace" :
		    (def->flags & CF_ACT_STORE) != 0 ? "Object, Store" :
		    "Object";
	if (strcmp(def->resource, "namespace") == 0)
		return strcmp(def->name, "ns:create") == 0 ? "Store" :
		    (def->flags & CF_ACT_STORE) != 0 ? "Namespace, Store" :
		    "Namespace";
	if (strcmp(def->resource, "label") == 0)
		return "Namespace, Object";
	if ((def->flags & CF_ACT_NS) != 0)
		return "Namespace, Store";	/* binding:*, policy:* */
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
    "// X-Coffer-Purpose header, op when the operation tells nothing of\n"
    "// itself (a promotion tells its source and target, a stage move\n"
    "// its stage, a listing its prefix: docs/policy.md), risk when\n"
    "// anomaly detection is off (its score is 0-100, its flags the\n"
    "// anomaly kinds counted: docs/monitoring.md).  hour (0-23) and\n"
    "// weekday (0 = Sunday) are those of time, in UTC.\n"
    "type Context = {\n"
    "    authn: String,\n"
    "    hour: Long,\n"
    "    mfa: Bool,\n"
    "    mfa_age_s?: Long,\n"
    "    op?: { name: String, id?: String, source_ns?: String,\n"
    "           source_env?: String, target_ns?: String,\n"
    "           target_env?: String, stage?: String,\n"
    "           source?: String, reason?: String, prefix?: String },\n"
    "    purpose?: String,\n"
    "    risk?: { score: Long, flags: Set<String> },\n"
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
    "// A role the principal holds: Role::\"R\" bound globally,\n"
    "// Role::\"R@NS\" on namespace NS.\n"
    "entity Role;\n"
    "// People and service accounts; tags are the attributes an admin\n"
    "// set (coffer user set NAME --attr k=v).\n"
    "entity User in [Group, Role] { name: String, kind: String } "
    "tags String;\n"
    "entity Service in [Group, Role] { name: String, kind: String } "
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
    "// namespace's; tags are its labels.  version: the version a read\n"
    "// (object:get, object:head) would return (digest: hex SHA-256).\n"
    "// artifact: the artifact version an artifact action decides on,\n"
    "// or for a read of an object version that is a file of artifact\n"
    "// versions, those folded: the newest's number, kind and id, the\n"
    "// highest sensitivity, the stages pointing at any; sensitivity is\n"
    "// then the higher of the namespace's and the artifact's.\n"
    "type Version = { id: String, digest: String, created_by: String };\n"
    "type Artifact = {\n"
    "    number: Long,\n"
    "    kind: String,\n"
    "    sensitivity: Long,\n"
    "    sensitivity_name: String,\n"
    "    version_id: String,\n"
    "    stages: Set<String>,\n"
    "};\n"
    "entity Object in [Namespace] {\n"
    "    ns: String,\n"
    "    key: String,\n"
    "    env: String,\n"
    "    sensitivity: Long,\n"
    "    sensitivity_name: String,\n"
    "    version?: Version,\n"
    "    artifact?: Artifact,\n"
    "} tags String;\n"
    "\n"
    "// Action groups: what reader, writer and owner do on a namespace's\n"
    "// data, everything else, and sharing (object:share: decided by\n"
    "// the built-in policy share-default and stored policies).\n"
    "action \"read\", \"write\", \"manage\", \"admin\", \"share\";\n"
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

/*
 * Explaining, who-can and replay: the decision above with its inputs and
 * details, optionally under a draft of the stored policy sets.
 */
struct core_authz_draft {
	struct core_authz_snap	*own;	/* the draft's sets; builtin NULL */
};

void
core_authz_draft_free(struct core_authz_draft *d)
{
	if (d == NULL)
		return;
	snap_free(d->own);
	cf_free(d);
}

/* Split "LINE:COL: message" (the parser's errors) into its parts. */
static void
split_pos(const char *msg, unsigned int *line, unsigned int *col,
    const char **text)
{
	unsigned long	l = 0, k = 0;
	const char	*p = msg;

	*line = 0;
	*col = 0;
	*text = msg;
	while (*p >= '0' && *p <= '9' && l < 100000000)
		l = l * 10 + (unsigned long)(*p++ - '0');
	if (p == msg || *p++ != ':')
		return;
	while (*p >= '0' && *p <= '9' && k < 100000000)
		k = k * 10 + (unsigned long)(*p++ - '0');
	if (*p != ':')
		return;
	*line = (unsigned int)l;
	*col = (unsigned int)k;
	p++;
	while (*p == ' ')
		p++;
	*text = p;
}

static int
add_problem(json_t *errors, const char *name, const char *ns,
    unsigned int line, unsigned int col, const char *policy,
    const char *msg)
{
	return json_array_append_new(errors, json_pack("{s:s, s:o, s:I, s:I, "
	    "s:o, s:s}", "set", name, "ns", ns[0] != '\0' ? json_string(ns) :
	    json_null(), "line", (json_int_t)line, "col", (json_int_t)col,
	    "policy", policy != NULL ? json_string(policy) : json_null(),
	    "message", msg));
}

/* Parse and validate one set of the draft; problems go to errors. */
static cf_err
draft_set(struct load_ctx *lc, const struct cf_schema *schema,
    struct cf_validation *v, const char *name, const char *ns,
    const char *text, json_t *errors, struct cf_error *err)
{
	struct core_authz_part	*p;
	struct cf_error		 perr;
	const char		*msg;
	unsigned int		 line, col;
	size_t			 i, before = lc->s->nparts;
	cf_err			 rc;

	cf_error_clear(&perr);
	rc = load_part(lc, name, ns, 0, text, &perr);
	if (rc == CF_E_INPUT || rc == CF_E_LIMIT) {
		split_pos(perr.msg, &line, &col, &msg);
		return add_problem(errors, name, ns != NULL ? ns : "", line,
		    col, NULL, msg) == 0 ? CF_OK : cf_error_set(err,
		    CF_E_NOMEM, "out of memory");
	}
	if (rc != CF_OK) {
		if (err != NULL)
			*err = perr;
		return rc;
	}
	p = &lc->s->parts[before];
	if (p->ns[0] != '\0')
		(void)snprintf(p->prefix, sizeof(p->prefix), "%s@%s/draft:",
		    p->name, p->ns);
	else
		(void)snprintf(p->prefix, sizeof(p->prefix), "%s/draft:",
		    p->name);
	rc = cf_policy_validate(schema, p->ps, v, err);
	if (rc != CF_OK)
		return rc;
	for (i = 0; i < cf_validation_error_count(v); i++)
		if (add_problem(errors, name, p->ns,
		    cf_validation_error_line(v, i),
		    cf_validation_error_col(v, i),
		    cf_validation_error_policy(v, i),
		    cf_validation_error_msg(v, i)) != 0)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

cf_err
core_authz_draft_new(const json_t *sets, struct core_authz_draft **out,
    json_t **problems, struct cf_error *err)
{
	struct core_authz_draft	*d = NULL;
	struct cf_schema	*schema = NULL;
	struct cf_validation	*v = NULL;
	struct load_ctx		 lc;
	struct cf_buf		 text;
	json_t			*errors = NULL, *e;
	const char		*name, *ns, *src;
	size_t			 i, j;
	cf_err			 rc;

	cf_buf_init(&text, 1u << 20);
	errors = json_array();
	d = cf_calloc(1, sizeof(*d));
	if (d != NULL)
		d->own = cf_calloc(1, sizeof(*d->own));
	if (errors == NULL || d == NULL || d->own == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	atomic_init(&d->own->refs, 1);
	/* SEC: a draft is checked against Coffer's own schema, as a
	 * stored policy set would be: a policy that names an unknown
	 * action or attribute would otherwise silently never apply. */
	rc = cf_core_policy_schema(&text, err);
	if (rc == CF_OK)
		rc = cf_schema_parse(text.data, text.len, &schema, err);
	if (rc == CF_OK)
		rc = cf_validation_new(&v, err);
	if (rc != CF_OK)
		goto out;
	lc.s = d->own;
	lc.cap = 0;
	if (!json_is_array(sets) || json_array_size(sets) >
	    CORE_AUTHZ_MAX_PARTS) {
		rc = cf_error_set(err, CF_E_INPUT, "sets must be an array of "
		    "at most %d {name, ns, text}", CORE_AUTHZ_MAX_PARTS);
		goto out;
	}
	json_array_foreach(sets, i, e) {
		name = json_string_value(json_object_get(e, "name"));
		ns = json_string_value(json_object_get(e, "ns"));
		src = json_string_value(json_object_get(e, "text"));
		if (name == NULL || src == NULL || *name == '\0' ||
		    strlen(name) >= CF_PRINCIPAL_MAX || (ns != NULL &&
		    *ns != '\0' && !cf_name_ns_valid(ns))) {
			rc = cf_error_set(err, CF_E_INPUT, "sets[%zu]: needs "
			    "a name (at most %d bytes), a text and a valid ns "
			    "or none", i, CF_PRINCIPAL_MAX - 1);
			goto out;
		}
		for (j = 0; j < d->own->nparts; j++)
			if (strcmp(d->own->parts[j].name, name) == 0 &&
			    strcmp(d->own->parts[j].ns, ns != NULL ? ns :
			    "") == 0) {
				rc = cf_error_set(err, CF_E_INPUT, "set %s "
				    "given twice", name);
				goto out;
			}
		rc = draft_set(&lc, schema, v, name, ns, src, errors, err);
		if (rc != CF_OK)
			goto out;
	}
	*out = d;
	d = NULL;
	*problems = errors;
	errors = NULL;
out:
	json_decref(errors);
	cf_validation_free(v);
	cf_schema_free(schema);
	cf_buf_free(&text);
	core_authz_draft_free(d);
	return rc;
}

void
core_authz_result_clear(struct core_authz_result *res)
{
	json_decref(res->response);
	json_decref(res->entities);
	json_decref(res->context);
	json_decref(res->conditional);
	memset(res, 0, sizeof(*res));
}

/* The entities of a decision (the principal with its groups and
 * attributes, the action and its group, the resource and what is above
 * it) as JSON, for explain: build() makes the same as C values. */
static cf_err
explain_entities(struct cf_core *c, const struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, json_t **arr_out, const char **rtype, char *rid,
    size_t ridsz, struct cf_error *err)
{
	json_t		*arr, *parents;
	const char	*ptype = core_principal_type(&r->principal);
	size_t		 i;
	cf_err		 rc;

	arr = json_array();
	parents = json_array();
	if (arr == NULL || parents == NULL) {
		json_decref(arr);
		json_decref(parents);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	for (i = 0; i < r->ngroups && i < CF_REQ_GROUPS_MAX; i++)
		if (json_array_append_new(parents, uid("Group",
		    r->groups[i])) != 0) {
			json_decref(arr);
			json_decref(parents);
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		}
	/* Its roles: Role::"R" for a global binding, Role::"R@NS" for one
	 * on a namespace (policies may ask `principal in Role::...`). */
	for (i = 0; i < r->nbindings && i < CF_MAX_BINDINGS; i++) {
		char role[CF_ROLE_MAX + CF_NS_NAME_MAX + 2];
		(void)snprintf(role, sizeof(role), "%s%s%s",
		    r->bindings[i].role, r->bindings[i].ns[0] != '\0' ? "@" :
		    "", r->bindings[i].ns);
		if (json_array_append_new(parents, uid("Role", role)) != 0) {
			json_decref(arr);
			json_decref(parents);
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		}
	}
	if (add_entity(arr, ptype, r->principal.name, json_pack("{s:s, s:s}",
	    "name", r->principal.name, "kind", r->principal.kind),
	    parents) != 0 ||
	    add_entity(arr, "Action", def->name, NULL, json_pack("[o]",
	    uid("Action", core_action_group(def)))) != 0 ||
	    add_entity(arr, "Action", core_action_group(def), NULL,
	    NULL) != 0) {
		json_decref(arr);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	/* The principal's attributes, as its tags. */
	if (r->principal.id != 0) {
		json_t *tags = NULL;
		rc = cf_meta_attrs_get(c->meta, r->principal.id, &tags, err);
		if (rc == CF_OK && json_object_size(tags) > 0 &&
		    json_object_set(json_array_get(arr, 0), "tags", tags) != 0)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		json_decref(tags);
		if (rc != CF_OK) {
			json_decref(arr);
			return rc;
		}
	}
	rc = add_resource(c, r, arr, def, ns, data_ns, resource, rtype, rid,
	    ridsz, err);
	if (rc != CF_OK) {
		json_decref(arr);
		return rc;
	}
	*arr_out = arr;
	return CF_OK;
}

struct cond_ctx {
	json_t		*ids;
	const char	*prefix;
};

static cf_err
note_conditional(void *arg, const char *id, bool uses_context,
    struct cf_error *err)
{
	struct cond_ctx	*cc = arg;
	char		 buf[512];

	if (!uses_context)
		return CF_OK;
	(void)snprintf(buf, sizeof(buf), "%s%s", cc->prefix != NULL ?
	    cc->prefix : "", id);
	if (json_array_append_new(cc->ids, json_string(buf)) != 0)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

static bool
draft_replaces(const struct core_authz_draft *d,
    const struct core_authz_part *p)
{
	size_t	i;

	if (d == NULL)
		return false;
	for (i = 0; i < d->own->nparts; i++)
		if (strcmp(d->own->parts[i].name, p->name) == 0 &&
		    strcmp(d->own->parts[i].ns, p->ns) == 0)
			return true;
	return false;
}

/* Add the global parts of s (global) or those attached to part_ns
 * that take part in a decision on part_ns. */
static cf_err
add_parts(const struct core_authz_snap *s, const struct core_authz_draft *d,
    bool global, const char *part_ns, struct cf_policy_part *parts,
    size_t *np, size_t max, struct cf_error *err)
{
	size_t	i;

	for (i = 0; i < s->nparts; i++) {
		if ((s->parts[i].ns[0] == '\0') != global)
			continue;
		if (!global && (part_ns == NULL ||
		    strcmp(s->parts[i].ns, part_ns) != 0))
			continue;
		if (draft_replaces(d, &s->parts[i]))
			continue;
		if (*np == max)
			return cf_error_set(err, CF_E_LIMIT, "more than %d "
			    "policy sets apply", CORE_AUTHZ_MAX_PARTS);
		parts[*np].ps = s->parts[i].ps;
		parts[*np].prefix = s->parts[i].prefix;
		parts[(*np)++].flags = CF_POLICY_STRICT_FORBID;
	}
	return CF_OK;
}

cf_err
core_authz_explain(struct cf_core *c, struct cf_req *r,
    const struct cf_action_def *def, const char *ns, const char *data_ns,
    const char *resource, const json_t *ctx,
    const struct core_authz_draft *draft, struct core_authz_result *res,
    struct cf_error *err)
{
	struct core_authz_snap	*s;
	struct cf_policy_part	 parts[1 + 2 * CORE_AUTHZ_MAX_PARTS];
	struct cf_policy_link	 links[CF_MAX_BINDINGS];
	char			 ids[CF_MAX_BINDINGS][CF_ROLE_MAX +
				     CF_NS_NAME_MAX + 8];
	char			 tmpl[CF_MAX_BINDINGS][CF_ROLE_MAX + 8];
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	struct cond_ctx		 cc;
	const char		*part_ns, *rtype = NULL;
	char			 rid[CF_RESOURCE_MAX];
	size_t			 i, k, np = 0, nl;
	cf_err			 rc;

	memset(res, 0, sizeof(*res));
	snap_poll(c);
	s = snap_acquire(c);
	if (s == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no policies loaded");
	rc = explain_entities(c, r, def, ns, data_ns, resource, &res->entities,
	    &rtype, rid, sizeof(rid), err);
	if (rc != CF_OK)
		goto out;
	res->context = ctx != NULL ? json_deep_copy(ctx) :
	    core_authz_context(r);
	res->conditional = json_array();
	if (res->context == NULL || res->conditional == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
#ifndef NDEBUG
	/* The entities only: the request is the caller's question (explain
	 * may ask about an object action on a whole namespace, a resource
	 * type the schema does not give it) and so is the context (explain
	 * takes it from the request, replay from the audit log). */
	rc = self_check(c, r, def, res->entities, NULL, NULL, "explain",
	    err);
	if (rc != CF_OK)
		goto out;
#endif
	rc = cf_entities_from_json(res->entities, &es, err);
	if (rc == CF_OK)
		rc = cf_request_new(core_principal_type(&r->principal),
		    r->principal.name, "Action", def->name, rtype, rid,
		    res->context, &req, err);
	if (rc != CF_OK)
		goto out;
	parts[np].ps = s->builtin;
	parts[np].prefix = NULL;
	parts[np++].flags = CF_POLICY_STRICT_FORBID;
	part_ns = ns != NULL ? ns : data_ns;
	/* As core_authz_decide: the global sets first (the draft's after
	 * the stored ones), then the namespace's. */
	for (i = 0; i < 2 && rc == CF_OK; i++) {
		rc = add_parts(s, draft, i == 0, part_ns, parts, &np,
		    sizeof(parts) / sizeof(parts[0]), err);
		if (rc == CF_OK && draft != NULL)
			rc = add_parts(draft->own, NULL, i == 0, part_ns,
			    parts, &np, sizeof(parts) / sizeof(parts[0]), err);
	}
	if (rc != CF_OK)
		goto out;
	nl = make_links(s, r, links, ids, tmpl);
	rc = cf_response_new(&resp, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_policy_authorize_parts(parts, np, links, nl, es, req, resp,
	    err);
	if (rc != CF_OK)
		goto out;
	res->allow = cf_response_decision(resp) == CF_DECISION_ALLOW;
	if (res->allow)
		weakest_role(resp, res->role, sizeof(res->role));
	res->response = cf_response_to_json(resp);
	if (res->response == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	/* What could answer otherwise under another context: the policies
	 * whose scope matches and whose conditions read the context, the
	 * linked templates that read it, and every policy that errored
	 * (an error may depend on the context too). */
	cc.ids = res->conditional;
	for (i = 0; i < np && rc == CF_OK; i++) {
		cc.prefix = parts[i].prefix;
		rc = cf_policy_scope_matches(parts[i].ps, es, req,
		    note_conditional, &cc, err);
	}
	cc.prefix = NULL;
	for (i = 0; i < nl && rc == CF_OK; i++)
		for (k = 0; k < np && rc == CF_OK; k++)
			if (cf_policy_uses_context(parts[k].ps,
			    links[i].template_id)) {
				rc = note_conditional(&cc, links[i].id, true,
				    err);
				break;
			}
	for (i = 0; i < cf_response_error_count(resp) && rc == CF_OK; i++)
		rc = note_conditional(&cc, cf_response_error_id(resp, i),
		    true, err);
out:
	if (rc != CF_OK)
		core_authz_result_clear(res);
	cf_response_free(resp);
	cf_request_free(req);
	cf_entities_free(es);
	snap_release(s);
	return rc;
}
