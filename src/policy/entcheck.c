/* src/policy/entcheck.c: entity and request validation against a schema,
 * the checks Cedar makes when it is given a schema with the entities
 * (Cedar calls it conformance) and with a request.
 *
 * For each entity of a JSON entity array: its type is declared (an enum
 * entity's id is one of the declared ids); its attributes are exactly the
 * declared ones (the required present, none undeclared) and each value has
 * its declared type, records recursively; its parents are of types the
 * schema lets it be `in` (transitively, as Cedar); it has tags only when
 * its type declares them, each of the declared tag type.  An action entity
 * must be declared, have no attributes or tags, and have exactly the
 * ancestors the schema declares.  For a request: the action is declared,
 * the principal and resource types are in its appliesTo, and the context
 * has the action's context type.
 *
 * SEC: values are read as Coffer's engine reads them, without a schema
 * (cf_entities_parse): an entity reference must be written
 * {"__entity": {"type", "id"}} and an extension value {"__extn": {"fn",
 * "arg"}}.  Cedar, given a schema, also takes the bare forms ({"type",
 * "id"}, "10.0.0.1"); the engine would see a record or a string there,
 * so they are reported.
 *
 * Every violation is listed (up to CF_ENTCHECK_MAX_ERRORS), each with the
 * entity it is about and the path of the value at fault.  The work is
 * linear in the size of the JSON (types are looked up by binary search),
 * and recursion follows the schema's types, whose nesting is bounded. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "schema_int.h"

struct echk_err {
	const char	*entity;
	const char	*path;
	const char	*msg;
};

struct cf_entity_check {
	struct cf_pol_arena	 ar;
	struct echk_err		*errs;
	size_t			 n, cap;
	size_t			 dropped;	/* beyond the limit */
};

struct tname {
	const char	*name;
	size_t		 nlen;
	uint32_t	 idx;
};

/* An action entity of the input: its direct parents (action indexes). */
struct inact {
	long		 self;		/* -1: not in the input */
	uint32_t	*par;
	size_t		 npar;
	uint8_t		 state;		/* closure: 0 new, 1 busy, 2 done */
	uint64_t	*anc;		/* closure, a bit per action */
};

struct ectx {
	const struct cf_schema	*s;
	struct cf_entity_check	*out;
	struct cf_error		*err;
	cf_err			 rc;		/* CF_E_NOMEM */
	struct tname		*order;		/* entity types by name */
	struct cf_pol_arena	 tmp;		/* reset after each value */
	struct cf_pol_arena	 keep;		/* the input's uids */
	struct cf_pol_hset	 seen;		/* the input's uids */
	struct inact		*acts;		/* by action index */
	size_t			 awords;	/* uint64_t per action set */
	char			 ent[192];	/* entity being checked */
	char			 path[256];
	size_t			 plen;
};

/*
 * Results.
 */
static cf_err
verr(struct ectx *x, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static cf_err
verr(struct ectx *x, const char *fmt, ...)
{
	struct cf_entity_check	*o = x->out;
	struct echk_err		*ne;
	char			 msg[512];
	va_list			 ap;

	if (x->rc != CF_OK)
		return x->rc;
	if (o->n >= CF_ENTCHECK_MAX_ERRORS) {
		o->dropped++;
		return CF_OK;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->n == o->cap) {
		ne = cf_reallocarray(o->errs, o->cap ? o->cap * 2 : 8,
		    sizeof(*ne));
		if (ne == NULL)
			goto nomem;
		o->errs = ne;
		o->cap = o->cap ? o->cap * 2 : 8;
	}
	ne = &o->errs[o->n];
	ne->entity = cf_pol_arena_strdup(&o->ar, x->ent, strlen(x->ent));
	ne->path = cf_pol_arena_strdup(&o->ar, x->path, x->plen);
	ne->msg = cf_pol_arena_strdup(&o->ar, msg, strlen(msg));
	if (ne->entity == NULL || ne->path == NULL || ne->msg == NULL)
		goto nomem;
	o->n++;
	return CF_OK;
nomem:
	x->rc = cf_error_set(x->err, CF_E_NOMEM, "out of memory");
	return x->rc;
}

/* Append a path segment: ".key" (or "key" first), or "[i]" for an
 * index (key NULL).  Returns the length to restore with path_pop. */
static size_t
path_push(struct ectx *x, const char *key, size_t kn, size_t i)
{
	size_t	old = x->plen, room = sizeof(x->path) - x->plen;
	char	buf[80];
	int	w;

	if (key != NULL) {
		cf_pol_escape(key, kn, buf, sizeof(buf));
		w = snprintf(x->path + x->plen, room, "%s%s",
		    x->plen > 0 ? "." : "", buf);
	} else
		w = snprintf(x->path + x->plen, room, "[%zu]", i);
	if (w < 0 || (size_t)w >= room)
		x->plen = sizeof(x->path) - 1;	/* truncated */
	else
		x->plen += (size_t)w;
	return old;
}

static void
path_pop(struct ectx *x, size_t old)
{
	x->plen = old;
	x->path[old] = '\0';
}

static void
set_entity(struct ectx *x, const struct cf_pol_uid *u)
{
	char	t[64], d[96];

	cf_pol_escape(u->type, u->tlen, t, sizeof(t));
	cf_pol_escape(u->id, u->ilen, d, sizeof(d));
	(void)snprintf(x->ent, sizeof(x->ent), "%s::\"%s\"", t, d);
}

/*
 * Names.
 */
static int
tname_cmp(const void *a, const void *b)
{
	const struct tname	*x = a, *y = b;

	return cf_pol_key_cmp(x->name, x->nlen, y->name, y->nlen);
}

static long
etype_find(const struct ectx *x, const char *name, size_t n)
{
	size_t	lo = 0, hi = x->s->nents, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cf_pol_key_cmp(x->order[mid].name, x->order[mid].nlen,
		    name, n);
		if (c == 0)
			return (long)x->order[mid].idx;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* As Cedar (and entities.c): action types are Action and NS::Action. */
static bool
is_action_type(const char *t, size_t n)
{
	return (n == 6 && memcmp(t, "Action", 6) == 0) ||
	    (n > 8 && memcmp(t + n - 8, "::Action", 8) == 0);
}

static bool
enum_has(const struct cf_sch_etype *e, const char *id, size_t n)
{
	size_t	i;

	for (i = 0; i < e->nenums; i++)
		if (e->enumlens[i] == n && memcmp(e->enums[i], id, n) == 0)
			return true;
	return false;
}

static void
type_name(const struct cf_schema *s, const struct cf_sch_type *t, char *buf,
    size_t sz)
{
	static const char *const ext[] = { "?", "ipaddr", "decimal",
	    "datetime", "duration" };
	char	inner[128];

	switch (t->kind) {
	case ST_BOOL:
	case ST_TRUE:
	case ST_FALSE: (void)snprintf(buf, sz, "Bool"); break;
	case ST_LONG: (void)snprintf(buf, sz, "Long"); break;
	case ST_STRING: (void)snprintf(buf, sz, "String"); break;
	case ST_SET:
		type_name(s, t->elem, inner, sizeof(inner));
		(void)snprintf(buf, sz, "Set<%s>", inner);
		break;
	case ST_RECORD: (void)snprintf(buf, sz, "a record"); break;
	case ST_ENTITY:
		(void)snprintf(buf, sz, "an entity of type %.100s",
		    s->ents[t->idx].name);
		break;
	case ST_ACTION:
		(void)snprintf(buf, sz, "an action of type %.100s",
		    s->atypes[t->idx]);
		break;
	case ST_EXT:
		(void)snprintf(buf, sz, "%s", ext[t->ext < 5 ? t->ext : 0]);
		break;
	default: (void)snprintf(buf, sz, "Never"); break;
	}
}

/* What a JSON value is, as the engine reads it. */
static const char *
found_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE: return "Bool";
	case JSON_INTEGER: return "Long";
	case JSON_STRING: return "String";
	case JSON_ARRAY: return "a set";
	case JSON_REAL: return "a number that is not an integer";
	case JSON_OBJECT:
		if (json_object_get(j, "__entity") != NULL)
			return "an entity reference";
		if (json_object_get(j, "__extn") != NULL)
			return "an extension value";
		if (json_object_get(j, "__expr") != NULL)
			return "an __expr escape (not supported)";
		return "a record";
	default: return "null";
	}
}

static bool
is_plain_object(const json_t *j)
{
	return json_is_object(j) && json_object_get(j, "__entity") == NULL &&
	    json_object_get(j, "__extn") == NULL &&
	    json_object_get(j, "__expr") == NULL;
}

/* The uid of j (borrowed from the scratch arena unless keep); NULL with a
 * violation reported when j is not an entity reference. */
static const struct cf_pol_uid *
read_uid(struct ectx *x, const json_t *j, bool keep)
{
	const struct cf_pol_uid	*u = NULL;
	struct cf_error		 e;
	cf_err			 rc;

	cf_error_clear(&e);
	rc = cf_pol_json_uid(keep ? &x->keep : &x->tmp, j, "entity", &u, &e);
	if (rc == CF_E_NOMEM) {
		x->rc = cf_error_set(x->err, CF_E_NOMEM, "out of memory");
		return NULL;
	}
	if (rc != CF_OK) {
		/* "entity: " is cf_pol_json_uid's prefix. */
		(void)verr(x, "%s", strncmp(e.msg, "entity: ", 8) == 0 ?
		    e.msg + 8 : e.msg);
		return NULL;
	}
	return u;
}

/* Does the reference u name an entity the schema can have: a declared
 * type (an enum type's declared ids), or a declared action?  Reports
 * what is wrong; *idx gets the entity type index (-1 for an action). */
static bool
uid_declared(struct ectx *x, const struct cf_pol_uid *u, long *idx)
{
	char	t[64], d[96];
	long	k;

	cf_pol_escape(u->type, u->tlen, t, sizeof(t));
	cf_pol_escape(u->id, u->ilen, d, sizeof(d));
	*idx = -1;
	if (is_action_type(u->type, u->tlen)) {
		if (cf_sch_action_index(x->s, u) >= 0)
			return true;
		(void)verr(x, "action %s::\"%s\" is not declared in the schema",
		    t, d);
		return false;
	}
	k = etype_find(x, u->type, u->tlen);
	if (k < 0) {
		(void)verr(x, "entity type %s is not declared in the schema",
		    t);
		return false;
	}
	*idx = k;
	if (x->s->ents[k].is_enum && !enum_has(&x->s->ents[k], u->id,
	    u->ilen)) {
		(void)verr(x, "%s::\"%s\": \"%s\" is not one of the ids the "
		    "schema declares for the enumerated type %s", t, d, d, t);
		return false;
	}
	return true;
}

/*
 * Values.
 */
static cf_err	check_record(struct ectx *x, const json_t *j,
		    const struct cf_sch_rec *rec, int depth);

static cf_err
mismatch(struct ectx *x, const json_t *j, const struct cf_sch_type *t)
{
	char	want[160];

	type_name(x->s, t, want, sizeof(want));
	return verr(x, "type mismatch: expected %s, found %s", want,
	    found_name(j));
}

static cf_err
check_entity_ref(struct ectx *x, const json_t *j, const struct cf_sch_type *t)
{
	const struct cf_pol_uid	*u;
	const char		*want;
	size_t			 wn;
	char			 a[64], b[64];
	long			 k;

	if (!json_is_object(j) || json_object_get(j, "__entity") == NULL)
		return mismatch(x, j, t);
	u = read_uid(x, j, false);
	if (u == NULL)
		return x->rc;
	if (t->kind == ST_ENTITY) {
		want = x->s->ents[t->idx].name;
		wn = x->s->ents[t->idx].nlen;
	} else {
		want = x->s->atypes[t->idx];
		wn = x->s->atlens[t->idx];
	}
	if (u->tlen != wn || memcmp(u->type, want, wn) != 0) {
		cf_pol_escape(want, wn, a, sizeof(a));
		cf_pol_escape(u->type, u->tlen, b, sizeof(b));
		return verr(x, "type mismatch: expected an entity of type %s, "
		    "found one of type %s", a, b);
	}
	(void)uid_declared(x, u, &k);
	return x->rc;
}

static cf_err
check_ext(struct ectx *x, const json_t *j, const struct cf_sch_type *t)
{
	static const uint8_t	kind[] = { 0, PV_IP, PV_DECIMAL, PV_DATETIME,
				    PV_DURATION };
	struct cf_pol_val	 v;
	struct cf_error		 e;
	cf_err			 rc;

	if (!json_is_object(j) || json_object_get(j, "__extn") == NULL)
		return mismatch(x, j, t);
	cf_error_clear(&e);
	rc = cf_pol_json_value(&x->tmp, j, &v, 1, &e);
	if (rc == CF_E_NOMEM)
		return x->rc = cf_error_set(x->err, CF_E_NOMEM,
		    "out of memory");
	if (rc != CF_OK)
		return verr(x, "invalid extension value: %s", e.msg);
	if (t->ext >= sizeof(kind) || v.kind != kind[t->ext]) {
		char	want[32];

		type_name(x->s, t, want, sizeof(want));
		return verr(x, "type mismatch: expected %s, found %s", want,
		    cf_pol_kind_name(v.kind));
	}
	return CF_OK;
}

static cf_err
check_value(struct ectx *x, const json_t *j, const struct cf_sch_type *t,
    int depth)
{
	size_t	i, old;
	cf_err	rc = CF_OK;

	if (depth > CF_POLICY_MAX_JSON_DEPTH)
		return verr(x, "value nested more than %d deep",
		    CF_POLICY_MAX_JSON_DEPTH);
	switch (t->kind) {
	case ST_BOOL:
		return json_is_boolean(j) ? CF_OK : mismatch(x, j, t);
	case ST_TRUE:
		return json_is_true(j) ? CF_OK : mismatch(x, j, t);
	case ST_FALSE:
		return json_is_false(j) ? CF_OK : mismatch(x, j, t);
	case ST_LONG:
		return json_is_integer(j) ? CF_OK : mismatch(x, j, t);
	case ST_STRING:
		return json_is_string(j) ? CF_OK : mismatch(x, j, t);
	case ST_SET:
		if (!json_is_array(j))
			return mismatch(x, j, t);
		for (i = 0; i < json_array_size(j) && rc == CF_OK; i++) {
			old = path_push(x, NULL, 0, i);
			rc = check_value(x, json_array_get(j, i), t->elem,
			    depth + 1);
			path_pop(x, old);
		}
		return rc;
	case ST_RECORD:
		if (!is_plain_object(j))
			return mismatch(x, j, t);
		return check_record(x, j, t->rec, depth + 1);
	case ST_ENTITY:
	case ST_ACTION:
		rc = check_entity_ref(x, j, t);
		cf_pol_arena_reset(&x->tmp);
		return rc;
	case ST_EXT:
		rc = check_ext(x, j, t);
		cf_pol_arena_reset(&x->tmp);
		return rc;
	default:
		return mismatch(x, j, t);
	}
}

/* j (a plain object) has exactly rec's attributes: the required ones,
 * no undeclared one, each of its type. */
static cf_err
check_record(struct ectx *x, const json_t *j, const struct cf_sch_rec *rec,
    int depth)
{
	const struct cf_sch_attr	*a;
	const json_t			*v;
	const char			*k;
	size_t				 i, kn, old;
	char				 buf[80];

	for (i = 0; i < rec->n && x->rc == CF_OK; i++) {
		if (!rec->a[i].req)
			continue;
		/* Keys may hold NUL: look them up counted. */
		v = json_object_getn(j, rec->a[i].k, rec->a[i].kn);
		if (v != NULL)
			continue;
		cf_pol_escape(rec->a[i].k, rec->a[i].kn, buf, sizeof(buf));
		old = path_push(x, rec->a[i].k, rec->a[i].kn, 0);
		(void)verr(x, "required attribute %s is missing", buf);
		path_pop(x, old);
	}
	json_object_keylen_foreach((json_t *)(uintptr_t)j, k, kn, v) {
		if (x->rc != CF_OK)
			break;
		old = path_push(x, k, kn, 0);
		a = cf_sch_rec_get(rec, k, kn);
		if (a == NULL)
			(void)verr(x, "attribute not declared in the schema");
		else
			(void)check_value(x, v, a->t, depth);
		path_pop(x, old);
	}
	return x->rc;
}

/*
 * Entities.
 */

/* The entity types that may be parents of entities of type self. */
static void
allowed_parents(const struct ectx *x, long self, char *buf, size_t sz)
{
	size_t	i, o = 0;
	int	w;

	buf[0] = '\0';
	for (i = 0; i < x->s->nents && o + 1 < sz; i++) {
		if (!cf_sch_bit(x->s->ents[i].desc, (size_t)self))
			continue;
		w = snprintf(buf + o, sz - o, "%s%.60s", o > 0 ? ", " : "",
		    x->s->ents[i].name);
		if (w < 0 || (size_t)w >= sz - o)
			break;
		o += (size_t)w;
	}
	if (o == 0)
		(void)snprintf(buf, sz, "none");
}

static cf_err
check_parents(struct ectx *x, const json_t *parents, long self)
{
	const struct cf_pol_uid	*u;
	size_t			 i, old;
	long			 k;
	char			 t[64], allowed[256];

	for (i = 0; i < json_array_size(parents) && x->rc == CF_OK; i++) {
		old = path_push(x, "parents", 7, 0);
		(void)path_push(x, NULL, 0, i);
		u = read_uid(x, json_array_get(parents, i), false);
		if (u != NULL && uid_declared(x, u, &k) && (k < 0 ||
		    !cf_sch_bit(x->s->ents[k].desc, (size_t)self))) {
			cf_pol_escape(u->type, u->tlen, t, sizeof(t));
			allowed_parents(x, self, allowed, sizeof(allowed));
			(void)verr(x, "an entity of type %s may not be in one "
			    "of type %s (the schema allows: %s)",
			    x->s->ents[self].name, t, allowed);
		}
		cf_pol_arena_reset(&x->tmp);
		path_pop(x, old);
	}
	return x->rc;
}

static cf_err
check_tags(struct ectx *x, const json_t *tags, long self)
{
	const json_t	*v;
	const char	*k;
	size_t		 kn, old;

	old = path_push(x, "tags", 4, 0);
	if (!is_plain_object(tags))
		(void)verr(x, "tags must be an object");
	else if (x->s->ents[self].tags == NULL && json_object_size(tags) > 0)
		(void)verr(x, "the entity has tags, but the schema declares "
		    "none for type %s", x->s->ents[self].name);
	else if (x->s->ents[self].tags != NULL)
		json_object_keylen_foreach((json_t *)(uintptr_t)tags, k, kn,
		    v) {
			size_t	o2 = path_push(x, k, kn, 0);

			(void)check_value(x, v, x->s->ents[self].tags, 1);
			path_pop(x, o2);
			if (x->rc != CF_OK)
				break;
		}
	path_pop(x, old);
	return x->rc;
}

/* An action entity: declared, no attributes or tags; its parents are
 * recorded for the ancestor check at the end (check_action_ancestors). */
static cf_err
check_action_entity(struct ectx *x, const json_t *j,
    const struct cf_pol_uid *self)
{
	const json_t		*attrs = json_object_get(j, "attrs");
	const json_t		*tags = json_object_get(j, "tags");
	const json_t		*parents = json_object_get(j, "parents");
	const struct cf_pol_uid	*u;
	struct inact		*ia;
	long			 ai, pk;
	size_t			 i, old;

	if (!uid_declared(x, self, &pk))
		return x->rc;
	ai = cf_sch_action_index(x->s, self);
	if (attrs != NULL && json_object_size(attrs) > 0) {
		old = path_push(x, "attrs", 5, 0);
		(void)verr(x, "actions have no attributes in the schema");
		path_pop(x, old);
	}
	if (tags != NULL && json_object_size(tags) > 0) {
		old = path_push(x, "tags", 4, 0);
		(void)verr(x, "actions have no tags in the schema");
		path_pop(x, old);
	}
	ia = &x->acts[ai];
	if (ia->self >= 0 || !json_is_array(parents))
		return x->rc;		/* a duplicate: reported already */
	ia->self = ai;
	ia->par = cf_pol_arena_calloc(&x->keep, json_array_size(parents) + 1,
	    sizeof(*ia->par));
	if (ia->par == NULL)
		return x->rc = cf_error_set(x->err, CF_E_NOMEM,
		    "out of memory");
	for (i = 0; i < json_array_size(parents) && x->rc == CF_OK; i++) {
		old = path_push(x, "parents", 7, 0);
		(void)path_push(x, NULL, 0, i);
		u = read_uid(x, json_array_get(parents, i), false);
		if (u != NULL && !is_action_type(u->type, u->tlen))
			(void)verr(x, "an action may only be in actions");
		else if (u != NULL && uid_declared(x, u, &pk))
			ia->par[ia->npar++] =
			    (uint32_t)cf_sch_action_index(x->s, u);
		cf_pol_arena_reset(&x->tmp);
		path_pop(x, old);
	}
	return x->rc;
}

static bool
uid_eq(const void *a, const void *b)
{
	return cf_pol_uid_eq(a, b);
}

static cf_err
check_entity(struct ectx *x, const json_t *j, size_t pos)
{
	const json_t		*attrs, *parents, *tags;
	const struct cf_pol_uid	*u;
	size_t			 old;
	long			 self;
	bool			 added;

	(void)snprintf(x->ent, sizeof(x->ent), "entities[%zu]", pos);
	path_pop(x, 0);
	if (!json_is_object(j))
		return verr(x, "an entity must be an object");
	old = path_push(x, "uid", 3, 0);
	u = json_object_get(j, "uid") == NULL ? NULL :
	    read_uid(x, json_object_get(j, "uid"), true);
	if (u == NULL && json_object_get(j, "uid") == NULL)
		(void)verr(x, "the entity has no uid");
	path_pop(x, old);
	if (u == NULL)
		return x->rc;
	set_entity(x, u);
	if (cf_pol_hset_add(&x->seen, u->hash, u, uid_eq, &added) != CF_OK)
		return x->rc = cf_error_set(x->err, CF_E_NOMEM,
		    "out of memory");
	if (!added)
		return verr(x, "the entity is listed twice");
	attrs = json_object_get(j, "attrs");
	parents = json_object_get(j, "parents");
	tags = json_object_get(j, "tags");
	/* The format (as cf_entities_parse): attrs and parents required,
	 * tags optional. */
	if (!is_plain_object(attrs)) {
		old = path_push(x, "attrs", 5, 0);
		(void)verr(x, attrs == NULL ? "the entity has no attrs" :
		    "attrs must be an object");
		path_pop(x, old);
	}
	if (!json_is_array(parents)) {
		old = path_push(x, "parents", 7, 0);
		(void)verr(x, "parents must be an array");
		path_pop(x, old);
	}
	if (x->rc != CF_OK)
		return x->rc;
	if (is_action_type(u->type, u->tlen))
		return check_action_entity(x, j, u);
	if (!uid_declared(x, u, &self))
		return x->rc;
	if (is_plain_object(attrs)) {
		old = path_push(x, "attrs", 5, 0);
		(void)check_record(x, attrs, x->s->ents[self].attrs, 1);
		path_pop(x, old);
	}
	if (json_is_array(parents))
		(void)check_parents(x, parents, self);
	if (tags != NULL)
		(void)check_tags(x, tags, self);
	return x->rc;
}

/* The ancestors of input action a within the input (bits in ia->anc):
 * its parents, and theirs when they are in the input too.  Depth is at
 * most the number of actions; a cycle is cut where it closes. */
static cf_err
action_closure(struct ectx *x, size_t a)
{
	struct inact	*ia = &x->acts[a], *ip;
	size_t		 i, w, p;

	ia->anc = cf_pol_arena_calloc(&x->keep, x->awords,
	    sizeof(*ia->anc));
	if (ia->anc == NULL)
		return x->rc = cf_error_set(x->err, CF_E_NOMEM,
		    "out of memory");
	ia->state = 1;
	for (i = 0; i < ia->npar; i++) {
		p = ia->par[i];
		ia->anc[p / 64] |= (uint64_t)1 << (p % 64);
		ip = &x->acts[p];
		if (ip->self < 0 || ip->state == 1)
			continue;
		if (ip->state == 0 && action_closure(x, p) != CF_OK)
			return x->rc;
		for (w = 0; w < x->awords; w++)
			ia->anc[w] |= ip->anc[w];
	}
	ia->state = 2;
	return CF_OK;
}

static cf_err
check_action_ancestors(struct ectx *x)
{
	const struct cf_sch_action	*sa;
	size_t				 a, p;
	bool				 have, want;
	char				 d[96];

	path_pop(x, 0);
	for (a = 0; a < x->s->nacts && x->rc == CF_OK; a++) {
		if (x->acts[a].self < 0)
			continue;
		if (x->acts[a].state == 0 && action_closure(x, a) != CF_OK)
			return x->rc;
		set_entity(x, x->s->acts[a].uid);
		for (p = 0; p < x->s->nacts && x->rc == CF_OK; p++) {
			if (p == a)
				continue;
			sa = &x->s->acts[p];
			want = cf_sch_bit(sa->desc, a);
			have = (x->acts[a].anc[p / 64] >> (p % 64)) & 1;
			if (want == have)
				continue;
			cf_pol_escape(sa->uid->id, sa->uid->ilen, d, sizeof(d));
			(void)verr(x, want ? "the schema puts the action in "
			    "%s::\"%s\", the entities do not" : "the entities "
			    "put the action in %s::\"%s\", the schema does not",
			    sa->uid->type, d);
		}
	}
	return x->rc;
}

static cf_err
ectx_init(struct ectx *x, const struct cf_schema *s,
    struct cf_entity_check *out, struct cf_error *err)
{
	size_t	i;

	memset(x, 0, sizeof(*x));
	x->s = s;
	x->out = out;
	x->err = err;
	cf_pol_arena_init(&x->tmp);
	cf_pol_arena_init(&x->keep);
	cf_pol_hset_init(&x->seen);
	x->order = cf_calloc(s->nents + 1, sizeof(*x->order));
	x->acts = cf_calloc(s->nacts + 1, sizeof(*x->acts));
	if (x->order == NULL || x->acts == NULL)
		return x->rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (i = 0; i < s->nents; i++) {
		x->order[i].name = s->ents[i].name;
		x->order[i].nlen = s->ents[i].nlen;
		x->order[i].idx = (uint32_t)i;
	}
	qsort(x->order, s->nents, sizeof(*x->order), tname_cmp);
	for (i = 0; i < s->nacts; i++)
		x->acts[i].self = -1;
	x->awords = (s->nacts + 63) / 64;
	return CF_OK;
}

static void
ectx_fini(struct ectx *x)
{
	cf_free(x->order);
	cf_free(x->acts);
	cf_pol_hset_free(&x->seen);
	cf_pol_arena_free(&x->tmp);
	cf_pol_arena_free(&x->keep);
}

cf_err
cf_schema_check_entities(const struct cf_schema *s, const json_t *entities,
    struct cf_entity_check *out, struct cf_error *err)
{
	struct ectx	x;
	size_t		i;

	if (s == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL schema or result");
	if (ectx_init(&x, s, out, err) != CF_OK)
		goto out;
	if (!json_is_array(entities)) {
		(void)snprintf(x.ent, sizeof(x.ent), "entities");
		(void)verr(&x, "the entities must be a JSON array");
		goto out;
	}
	for (i = 0; i < json_array_size(entities) && x.rc == CF_OK; i++) {
		(void)check_entity(&x, json_array_get(entities, i), i);
		cf_pol_arena_reset(&x.tmp);
	}
	if (x.rc == CF_OK)
		(void)check_action_ancestors(&x);
out:
	ectx_fini(&x);
	return x.rc;
}

/*
 * Requests.
 */
static bool
has_type(const uint32_t *types, size_t n, long k)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (types[i] == (uint32_t)k)
			return true;
	return false;
}

static void
type_list(const struct cf_schema *s, const uint32_t *types, size_t n,
    char *buf, size_t sz)
{
	size_t	i, o = 0;
	int	w;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(buf + o, sz - o, "%s%.60s", i > 0 ? ", " : "",
		    s->ents[types[i]].name);
		if (w < 0 || (size_t)w >= sz - o)
			break;
		o += (size_t)w;
	}
	if (n == 0)
		(void)snprintf(buf, sz, "none");
}

/* The principal or resource (what) of a request: a declared type (and
 * id, when given) that the action applies to. */
static void
check_party(struct ectx *x, const char *what, const char *type,
    const char *id, const uint32_t *types, size_t ntypes,
    const char *action)
{
	struct cf_pol_uid	 u;
	char			 t[64], list[256];
	long			 k;
	size_t			 old;

	old = path_push(x, what, strlen(what), 0);
	cf_pol_escape(type, strlen(type), t, sizeof(t));
	k = etype_find(x, type, strlen(type));
	if (k < 0)
		(void)verr(x, "entity type %s is not declared in the schema",
		    t);
	else if (!has_type(types, ntypes, k)) {
		type_list(x->s, types, ntypes, list, sizeof(list));
		(void)verr(x, "action %s does not apply to a %s of type %s "
		    "(its appliesTo: %s)", action, what, t, list);
	} else if (id != NULL) {
		u.type = type;
		u.tlen = (uint32_t)strlen(type);
		u.id = id;
		u.ilen = (uint32_t)strlen(id);
		u.hash = cf_pol_hash(u.type, u.tlen, u.id, u.ilen);
		(void)uid_declared(x, &u, &k);
	}
	path_pop(x, old);
}

cf_err
cf_schema_check_request(const struct cf_schema *s,
    const struct cf_entity_check_request *rq, struct cf_entity_check *out,
    struct cf_error *err)
{
	const struct cf_sch_action	*sa;
	struct cf_pol_uid		 au;
	struct ectx			 x;
	char				 t[64], d[96], action[170];
	size_t				 old;
	long				 ai;

	if (s == NULL || rq == NULL || out == NULL ||
	    rq->principal_type == NULL || rq->action_type == NULL ||
	    rq->action_id == NULL || rq->resource_type == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL request part");
	if (ectx_init(&x, s, out, err) != CF_OK)
		goto out;
	(void)snprintf(x.ent, sizeof(x.ent), "request");
	au.type = rq->action_type;
	au.tlen = (uint32_t)strlen(rq->action_type);
	au.id = rq->action_id;
	au.ilen = (uint32_t)strlen(rq->action_id);
	au.hash = cf_pol_hash(au.type, au.tlen, au.id, au.ilen);
	cf_pol_escape(au.type, au.tlen, t, sizeof(t));
	cf_pol_escape(au.id, au.ilen, d, sizeof(d));
	(void)snprintf(action, sizeof(action), "%s::\"%s\"", t, d);
	ai = cf_sch_action_index(s, &au);
	if (ai < 0) {
		old = path_push(&x, "action", 6, 0);
		(void)verr(&x, "action %s is not declared in the schema",
		    action);
		path_pop(&x, old);
		goto out;
	}
	sa = &s->acts[ai];
	/* As Cedar: an action without appliesTo applies to nothing. */
	check_party(&x, "principal", rq->principal_type, rq->principal_id,
	    sa->ptypes, sa->applies ? sa->nptypes : 0, action);
	check_party(&x, "resource", rq->resource_type, rq->resource_id,
	    sa->rtypes, sa->applies ? sa->nrtypes : 0, action);
	if (rq->context == NULL || x.rc != CF_OK)
		goto out;
	old = path_push(&x, "context", 7, 0);
	if (!is_plain_object(rq->context))
		(void)verr(&x, "the context must be a record, found %s",
		    found_name(rq->context));
	else
		(void)check_record(&x, rq->context, sa->context->rec, 1);
	path_pop(&x, old);
out:
	ectx_fini(&x);
	return x.rc;
}

/* A part of a JSON request: {"type", "id"} or {"__entity": {...}}. */
static bool
json_party(struct ectx *x, const json_t *req, const char *what,
    const char **type, const char **id)
{
	const json_t	*j = json_object_get(req, what), *t, *i;
	size_t		 old;

	if (json_is_object(j) && json_object_get(j, "__entity") != NULL)
		j = json_object_get(j, "__entity");
	t = json_object_get(j, "type");
	i = json_object_get(j, "id");
	if (json_is_string(t) && json_is_string(i) &&
	    strlen(json_string_value(t)) == json_string_length(t) &&
	    strlen(json_string_value(i)) == json_string_length(i)) {
		*type = json_string_value(t);
		*id = json_string_value(i);
		return true;
	}
	old = path_push(x, what, strlen(what), 0);
	(void)verr(x, "expected {\"type\": string, \"id\": string} (without "
	    "NUL)");
	path_pop(x, old);
	return false;
}

cf_err
cf_schema_check_request_json(const struct cf_schema *s, const json_t *req,
    struct cf_entity_check *out, struct cf_error *err)
{
	struct cf_entity_check_request	 rq;
	struct ectx			 x;
	json_t				*empty = NULL;
	bool				 ok;
	cf_err				 rc;

	if (s == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL schema or result");
	memset(&rq, 0, sizeof(rq));
	rc = ectx_init(&x, s, out, err);
	if (rc != CF_OK)
		goto out;
	(void)snprintf(x.ent, sizeof(x.ent), "request");
	if (!json_is_object(req)) {
		rc = verr(&x, "a request must be a JSON object");
		goto out;
	}
	ok = json_party(&x, req, "principal", &rq.principal_type,
	    &rq.principal_id);
	ok = json_party(&x, req, "action", &rq.action_type, &rq.action_id) &&
	    ok;
	ok = json_party(&x, req, "resource", &rq.resource_type,
	    &rq.resource_id) && ok;
	rc = x.rc;
	if (!ok || rc != CF_OK)
		goto out;
	/* As cf_request_from_json: no context is the empty one. */
	rq.context = json_object_get(req, "context");
	if (rq.context == NULL) {
		empty = json_object();
		if (empty == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
		rq.context = empty;
	}
	rc = cf_schema_check_request(s, &rq, out, err);
out:
	ectx_fini(&x);
	json_decref(empty);
	return rc;
}

/*
 * The result object.
 */
cf_err
cf_entity_check_new(struct cf_entity_check **out, struct cf_error *err)
{
	struct cf_entity_check	*ec;

	ec = cf_calloc(1, sizeof(*ec));
	if (ec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&ec->ar);
	*out = ec;
	return CF_OK;
}

void
cf_entity_check_free(struct cf_entity_check *ec)
{
	if (ec == NULL)
		return;
	cf_pol_arena_free(&ec->ar);
	cf_free(ec->errs);
	cf_free(ec);
}

void
cf_entity_check_clear(struct cf_entity_check *ec)
{
	ec->n = 0;
	ec->dropped = 0;
	cf_pol_arena_reset(&ec->ar);
}

bool
cf_entity_check_ok(const struct cf_entity_check *ec)
{
	return ec->n == 0 && ec->dropped == 0;
}

size_t
cf_entity_check_error_count(const struct cf_entity_check *ec)
{
	return ec->n;
}

size_t
cf_entity_check_dropped(const struct cf_entity_check *ec)
{
	return ec->dropped;
}

const char *
cf_entity_check_error_entity(const struct cf_entity_check *ec, size_t i)
{
	return i < ec->n ? ec->errs[i].entity : NULL;
}

const char *
cf_entity_check_error_path(const struct cf_entity_check *ec, size_t i)
{
	return i < ec->n ? ec->errs[i].path : NULL;
}

const char *
cf_entity_check_error_msg(const struct cf_entity_check *ec, size_t i)
{
	return i < ec->n ? ec->errs[i].msg : NULL;
}

json_t *
cf_entity_check_to_json(const struct cf_entity_check *ec)
{
	json_t	*o, *arr, *e;
	size_t	 i;

	o = json_pack("{s:b, s:[], s:I}", "valid", cf_entity_check_ok(ec),
	    "errors", "more_errors", (json_int_t)ec->dropped);
	if (o == NULL)
		return NULL;
	arr = json_object_get(o, "errors");
	for (i = 0; i < ec->n; i++) {
		e = json_pack("{s:s, s:s, s:s}", "entity", ec->errs[i].entity,
		    "path", ec->errs[i].path, "message", ec->errs[i].msg);
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
