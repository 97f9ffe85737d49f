/* src/policy/validate.c: Cedar's policy validator in strict mode (the
 * typechecker `cedar validate` runs by default), against a schema from
 * schema.c.
 *
 * A policy is checked three ways, as Cedar does:
 *   1. every entity type, action and enum entity it names is declared;
 *   2. its scope admits at least one (principal type, action, resource
 *      type) combination that the schema's appliesTo declarations allow;
 *   3. its condition (scope && when ... && !unless ...) typechecks as a
 *      boolean in every request environment of the schema.  Where the
 *      scope (or a && chain) is statically false in an environment, what
 *      follows is not checked there, as in Cedar.
 *
 * Strict mode: operands of ==, contains, containsAll/Any, set elements and
 * if branches need a least upper bound, which for entity types means the
 * same type and for records the same attributes; optional attributes and
 * tags are read only under a `has`/`hasTag` guard (capabilities, carried
 * through &&, || and if); empty set literals and extension constructors
 * with non-literal arguments are refused.
 *
 * The schema and the policies are borrowed; types built while checking
 * one environment live in a scratch arena reset for the next. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "schema_int.h"

struct verr {
	const char	*policy;
	unsigned int	 line, col;
	const char	*msg;
};

struct cf_validation {
	struct cf_pol_arena	 ar;
	struct verr		*errs;
	size_t			 n, cap;
	bool			 incomplete;
};

/* Capabilities: attributes (e, k) and tags (e, tag) known to exist. */
struct cap {
	const struct cf_pol_expr	*e;
	const char			*k;	/* NULL for a tag */
	size_t				 kn;
	const struct cf_pol_expr	*tag;
	const struct cap		*next;
};

struct tc {
	const struct cf_sch_type	*t;	/* NULL: no type */
	const struct cap		*cap;
	bool				 ok;
};

struct vctx {
	const struct cf_schema		*s;
	const struct cf_pol_policy	*pol;
	struct cf_validation		*out;
	size_t				 first;	/* first error of pol */
	struct cf_pol_arena		 tmp;	/* one environment */
	struct cf_pol_arena		 ptmp;	/* one policy */
	cf_err				 rc;
	uint64_t			 steps;
	/* The environment. */
	const struct cf_sch_action	*act;
	const struct cf_sch_type	*pt, *rt, *at, *ct;
	const struct cf_sch_type	*pslot, *rslot;
};

static const struct cf_sch_type T_BOOL = { ST_BOOL, 0, 0, NULL, NULL };
static const struct cf_sch_type T_TRUE = { ST_TRUE, 0, 0, NULL, NULL };
static const struct cf_sch_type T_FALSE = { ST_FALSE, 0, 0, NULL, NULL };
static const struct cf_sch_type T_LONG = { ST_LONG, 0, 0, NULL, NULL };
static const struct cf_sch_type T_STR = { ST_STRING, 0, 0, NULL, NULL };
static const struct cf_sch_type T_EXT[5] = {
	{ ST_EXT, 0, 0, NULL, NULL },
	{ ST_EXT, SX_IPADDR, 0, NULL, NULL },
	{ ST_EXT, SX_DECIMAL, 0, NULL, NULL },
	{ ST_EXT, SX_DATETIME, 0, NULL, NULL },
	{ ST_EXT, SX_DURATION, 0, NULL, NULL },
};

enum want {
	W_BOOL = 1,
	W_LONG,
	W_STRING,
	W_SET,
	W_ENTITY,
	W_ENT_REC,
	W_IN_RHS,		/* an entity or a set of entities */
	W_EXT			/* + ext */
};

#define PSLOT_VAR	4	/* synthetic X_VAR for ?principal */
#define RSLOT_VAR	5

/*
 * Results.
 */
static cf_err
verror(struct vctx *v, unsigned int line, unsigned int col, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static cf_err
verror(struct vctx *v, unsigned int line, unsigned int col, const char *fmt,
    ...)
{
	struct cf_validation	*o = v->out;
	char			 msg[512];
	va_list			 ap;
	size_t			 i;
	struct verr		*ne;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = v->first; i < o->n; i++)
		if (o->errs[i].line == line && o->errs[i].col == col &&
		    strcmp(o->errs[i].msg, msg) == 0)
			return CF_OK;
	if (o->n == o->cap) {
		ne = cf_reallocarray(o->errs, o->cap ? o->cap * 2 : 8,
		    sizeof(*ne));
		if (ne == NULL)
			return v->rc = CF_E_NOMEM;
		o->errs = ne;
		o->cap = o->cap ? o->cap * 2 : 8;
	}
	o->errs[o->n].policy = v->pol->id;
	o->errs[o->n].line = line;
	o->errs[o->n].col = col;
	o->errs[o->n].msg = cf_pol_arena_strdup(&o->ar, msg, strlen(msg));
	if (o->errs[o->n].msg == NULL)
		return v->rc = CF_E_NOMEM;
	o->n++;
	return CF_OK;
}

/*
 * Types.
 */
static void
type_name(const struct vctx *v, const struct cf_sch_type *t, char *buf,
    size_t sz)
{
	static const char *const ext[] = { "?", "ipaddr", "decimal",
	    "datetime", "duration" };
	char	inner[128];

	if (t == NULL) {
		(void)snprintf(buf, sz, "?");
		return;
	}
	switch (t->kind) {
	case ST_NEVER: (void)snprintf(buf, sz, "Never"); break;
	case ST_TRUE: (void)snprintf(buf, sz, "__cedar::true"); break;
	case ST_FALSE: (void)snprintf(buf, sz, "__cedar::false"); break;
	case ST_BOOL: (void)snprintf(buf, sz, "Bool"); break;
	case ST_LONG: (void)snprintf(buf, sz, "Long"); break;
	case ST_STRING: (void)snprintf(buf, sz, "String"); break;
	case ST_SET:
		type_name(v, t->elem, inner, sizeof(inner));
		(void)snprintf(buf, sz, "Set<%s>", inner);
		break;
	case ST_RECORD: (void)snprintf(buf, sz, "{...}"); break;
	case ST_ENTITY:
		(void)snprintf(buf, sz, "%.100s", v->s->ents[t->idx].name);
		break;
	case ST_ACTION:
		(void)snprintf(buf, sz, "%.100s", v->s->atypes[t->idx]);
		break;
	default:
		(void)snprintf(buf, sz, "%s", ext[t->ext < 5 ? t->ext : 0]);
		break;
	}
}

static bool
is_bool(const struct cf_sch_type *t)
{
	return t->kind == ST_BOOL || t->kind == ST_TRUE || t->kind == ST_FALSE;
}

static bool
is_entity(const struct cf_sch_type *t)
{
	return t->kind == ST_ENTITY || t->kind == ST_ACTION;
}

static bool type_eq(const struct cf_sch_type *a, const struct cf_sch_type *b);

static bool
rec_eq(const struct cf_sch_rec *a, const struct cf_sch_rec *b)
{
	size_t	i;

	if (a == b)
		return true;
	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->a[i].req != b->a[i].req || cf_pol_key_cmp(a->a[i].k,
		    a->a[i].kn, b->a[i].k, b->a[i].kn) != 0 ||
		    !type_eq(a->a[i].t, b->a[i].t))
			return false;
	return true;
}

static bool
type_eq(const struct cf_sch_type *a, const struct cf_sch_type *b)
{
	if (a == b)
		return true;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case ST_SET:
		return type_eq(a->elem, b->elem);
	case ST_RECORD:
		return rec_eq(a->rec, b->rec);
	case ST_ENTITY:
	case ST_ACTION:
		return a->idx == b->idx;
	case ST_EXT:
		return a->ext == b->ext;
	default:
		return true;
	}
}

/* Strict subtyping: depth only, same qualifiers. */
static bool
subtype(const struct cf_sch_type *a, const struct cf_sch_type *b)
{
	size_t	i;

	if (a->kind == ST_NEVER)
		return true;
	if ((a->kind == ST_TRUE || a->kind == ST_FALSE) && b->kind == ST_BOOL)
		return true;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case ST_SET:
		return subtype(a->elem, b->elem);
	case ST_RECORD:
		if (a->rec->n != b->rec->n)
			return false;
		for (i = 0; i < a->rec->n; i++)
			if (a->rec->a[i].req != b->rec->a[i].req ||
			    cf_pol_key_cmp(a->rec->a[i].k, a->rec->a[i].kn,
			    b->rec->a[i].k, b->rec->a[i].kn) != 0 ||
			    !subtype(a->rec->a[i].t, b->rec->a[i].t))
				return false;
		return true;
	default:
		return type_eq(a, b);
	}
}

/* Strict least upper bound, NULL when there is none (or on NOMEM, with
 * v->rc set). */
static const struct cf_sch_type *
lub(struct vctx *v, const struct cf_sch_type *a, const struct cf_sch_type *b)
{
	struct cf_sch_type	*t;
	struct cf_sch_rec	*r;
	size_t			 i;

	if (subtype(a, b))
		return b;
	if (subtype(b, a))
		return a;
	if (is_bool(a) && is_bool(b))
		return &T_BOOL;
	if (a->kind != b->kind)
		return NULL;
	if (a->kind == ST_SET) {
		const struct cf_sch_type	*e = lub(v, a->elem, b->elem);

		if (e == NULL)
			return NULL;
		t = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*t));
		if (t == NULL) {
			v->rc = CF_E_NOMEM;
			return NULL;
		}
		t->kind = ST_SET;
		t->elem = e;
		return t;
	}
	if (a->kind != ST_RECORD || a->rec->n != b->rec->n)
		return NULL;
	r = cf_pol_arena_alloc(&v->tmp, sizeof(*r) + a->rec->n *
	    sizeof(r->a[0]));
	t = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*t));
	if (r == NULL || t == NULL) {
		v->rc = CF_E_NOMEM;
		return NULL;
	}
	r->n = a->rec->n;
	for (i = 0; i < r->n; i++) {
		if (a->rec->a[i].req != b->rec->a[i].req ||
		    cf_pol_key_cmp(a->rec->a[i].k, a->rec->a[i].kn,
		    b->rec->a[i].k, b->rec->a[i].kn) != 0)
			return NULL;
		r->a[i] = a->rec->a[i];
		r->a[i].t = lub(v, a->rec->a[i].t, b->rec->a[i].t);
		if (r->a[i].t == NULL)
			return NULL;
	}
	t->kind = ST_RECORD;
	t->rec = r;
	return t;
}

static const struct cf_sch_type *
mk(struct vctx *v, int kind, uint32_t idx)
{
	struct cf_sch_type	*t;

	t = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*t));
	if (t == NULL) {
		v->rc = CF_E_NOMEM;
		return NULL;
	}
	t->kind = (uint8_t)kind;
	t->idx = idx;
	return t;
}

static bool
is_action_type(const char *t, size_t n)
{
	return (n == 6 && memcmp(t, "Action", 6) == 0) ||
	    (n > 8 && memcmp(t + n - 8, "::Action", 8) == 0);
}

/* The type of an entity literal, NULL when the schema does not know it
 * (reported by the literal pass). */
static const struct cf_sch_type *
uid_type(struct vctx *v, const struct cf_pol_uid *u)
{
	long	i;

	if (is_action_type(u->type, u->tlen)) {
		i = cf_sch_action_index(v->s, u);
		if (i < 0)
			return NULL;
		return mk(v, ST_ACTION, v->s->acts[i].atype);
	}
	i = cf_sch_entity_index(v->s, u->type, u->tlen);
	return i < 0 ? NULL : mk(v, ST_ENTITY, (uint32_t)i);
}

/*
 * Capabilities.
 */
static bool expr_eq(const struct cf_pol_expr *a, const struct cf_pol_expr *b);

static bool
key_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool
expr_eq(const struct cf_pol_expr *a, const struct cf_pol_expr *b)
{
	size_t	i;

	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->op != b->op || a->var != b->var ||
	    a->fn != b->fn || a->nargs != b->nargs || a->nkeys != b->nkeys)
		return false;
	if ((a->name != NULL) != (b->name != NULL) || (a->name != NULL &&
	    !key_eq(a->name, a->nlen, b->name, b->nlen)))
		return false;
	for (i = 0; i < a->nkeys; i++)
		if (!key_eq(a->keys[i], a->klens[i], b->keys[i], b->klens[i]))
			return false;
	if (a->op == X_LIT && !cf_pol_val_eq(&a->lit, &b->lit))
		return false;
	if (a->op == X_LIKE) {
		if (a->pat->n != b->pat->n)
			return false;
		for (i = 0; i < a->pat->n; i++)
			if (a->pat->el[i].star != b->pat->el[i].star ||
			    !key_eq(a->pat->el[i].p, a->pat->el[i].len,
			    b->pat->el[i].p, b->pat->el[i].len))
				return false;
	}
	if (a->op == X_ERROR && strcmp(a->msg, b->msg) != 0)
		return false;
	for (i = 0; i < a->nargs; i++)
		if (!expr_eq(a->args[i], b->args[i]))
			return false;
	return expr_eq(a->a, b->a) && expr_eq(a->b, b->b) &&
	    expr_eq(a->c, b->c);
}

static bool
cap_has(const struct cap *c, const struct cf_pol_expr *e, const char *k,
    size_t kn, const struct cf_pol_expr *tag)
{
	for (; c != NULL; c = c->next) {
		if ((k == NULL) != (c->k == NULL))
			continue;
		if (k != NULL && !key_eq(k, kn, c->k, c->kn))
			continue;
		if (k == NULL && !expr_eq(tag, c->tag))
			continue;
		if (expr_eq(e, c->e))
			return true;
	}
	return false;
}

static const struct cap *
cap_one(struct vctx *v, const struct cf_pol_expr *e, const char *k,
    size_t kn, const struct cf_pol_expr *tag)
{
	struct cap	*c;

	c = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*c));
	if (c == NULL) {
		v->rc = CF_E_NOMEM;
		return NULL;
	}
	c->e = e;
	c->k = k;
	c->kn = kn;
	c->tag = tag;
	return c;
}

static const struct cap *
cap_union(struct vctx *v, const struct cap *a, const struct cap *b)
{
	const struct cap	*r = b;
	struct cap		*c;

	for (; a != NULL; a = a->next) {
		c = cf_pol_arena_alloc(&v->tmp, sizeof(*c));
		if (c == NULL) {
			v->rc = CF_E_NOMEM;
			return b;
		}
		*c = *a;
		c->next = r;
		r = c;
	}
	return r;
}

static const struct cap *
cap_inter(struct vctx *v, const struct cap *a, const struct cap *b)
{
	const struct cap	*r = NULL;
	struct cap		*c;

	for (; a != NULL; a = a->next) {
		if (!cap_has(b, a->e, a->k, a->kn, a->tag))
			continue;
		c = cf_pol_arena_alloc(&v->tmp, sizeof(*c));
		if (c == NULL) {
			v->rc = CF_E_NOMEM;
			return NULL;
		}
		*c = *a;
		c->next = r;
		r = c;
	}
	return r;
}

/*
 * The typechecker.
 */
static struct tc typecheck(struct vctx *, const struct cap *,
	    const struct cf_pol_expr *);

static struct tc
fail(void)
{
	struct tc	r = { NULL, NULL, false };

	return r;
}

static struct tc
okt(const struct cf_sch_type *t)
{
	struct tc	r = { t, NULL, t != NULL };

	return r;
}

static bool
matches(const struct cf_sch_type *t, int w)
{
	switch (w) {
	case W_BOOL:
		return is_bool(t);
	case W_LONG:
		return t->kind == ST_LONG;
	case W_STRING:
		return t->kind == ST_STRING;
	case W_SET:
		return t->kind == ST_SET;
	case W_ENTITY:
		return is_entity(t);
	case W_ENT_REC:
		return is_entity(t) || t->kind == ST_RECORD;
	case W_IN_RHS:
		return is_entity(t) || (t->kind == ST_SET &&
		    (is_entity(t->elem) || t->elem->kind == ST_NEVER));
	default:
		return t->kind == ST_EXT && t->ext == w - W_EXT;
	}
}

static const char *
want_name(int w)
{
	static const char *const ext[] = { "?", "ipaddr", "decimal",
	    "datetime", "duration" };

	switch (w) {
	case W_BOOL: return "Bool";
	case W_LONG: return "Long";
	case W_STRING: return "String";
	case W_SET: return "a set";
	case W_ENTITY: return "an entity";
	case W_ENT_REC: return "an entity or a record";
	case W_IN_RHS: return "an entity or a set of entities";
	default: return ext[w - W_EXT < 5 ? w - W_EXT : 0];
	}
}

static struct tc
expect(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e,
    int w)
{
	struct tc	r;
	char		tn[160];

	r = typecheck(v, prior, e);
	if (r.t == NULL) {
		r.ok = false;
		return r;
	}
	if (!matches(r.t, w)) {
		type_name(v, r.t, tn, sizeof(tn));
		(void)verror(v, e->line, e->col, "unexpected type: expected "
		    "%s but saw %s", want_name(w), tn);
		r.t = NULL;
		r.ok = false;
	}
	return r;
}

static const struct cf_sch_rec *
attrs_of(const struct vctx *v, const struct cf_sch_type *t)
{
	if (t->kind == ST_RECORD)
		return t->rec;
	if (t->kind == ST_ENTITY)
		return v->s->ents[t->idx].attrs;
	return NULL;		/* actions have no attributes here */
}

static const struct cf_sch_attr *
lookup_attr(const struct vctx *v, const struct cf_sch_type *t, const char *k,
    size_t kn)
{
	const struct cf_sch_rec	*r = attrs_of(v, t);

	return r == NULL ? NULL : cf_sch_rec_get(r, k, kn);
}

static void
attr_desc(const char *k, size_t kn, char *out, size_t sz)
{
	cf_pol_escape(k, kn, out, sz);
}

/* One step of `has`: receiver x (expression xe, type xt) has k. */
static int
has_step(struct vctx *v, const struct cap *prior,
    const struct cf_pol_expr *xe, const struct cf_sch_type *xt,
    const char *k, size_t kn, const struct cap **capout)
{
	const struct cf_sch_attr	*a;

	*capout = NULL;
	a = lookup_attr(v, xt, k, kn);
	if (a == NULL)
		return ST_FALSE;	/* closed records and entity types */
	*capout = cap_one(v, xe, k, kn, NULL);
	if (cap_has(prior, xe, k, kn, NULL) ||
	    (a->req && xt->kind == ST_RECORD))
		return ST_TRUE;
	return ST_BOOL;
}

/* `x.k` where x is xe of type xt; NULL (error given) if not allowed. */
static const struct cf_sch_type *
get_step(struct vctx *v, const struct cap *prior,
    const struct cf_pol_expr *at, const struct cf_pol_expr *xe,
    const struct cf_sch_type *xt, const char *k, size_t kn)
{
	const struct cf_sch_attr	*a;
	char				 d[80], tn[160];

	a = lookup_attr(v, xt, k, kn);
	attr_desc(k, kn, d, sizeof(d));
	if (a == NULL) {
		type_name(v, xt, tn, sizeof(tn));
		(void)verror(v, at->line, at->col, "attribute `%s` not found "
		    "on %s", d, tn);
		return NULL;
	}
	if (!a->req && !cap_has(prior, xe, k, kn, NULL)) {
		(void)verror(v, at->line, at->col, "attribute `%s` is "
		    "optional: test it with `has` before reading it", d);
		return NULL;
	}
	return a->t;
}

static const struct cf_sch_type *
bool_of(int k)
{
	return k == ST_TRUE ? &T_TRUE : k == ST_FALSE ? &T_FALSE : &T_BOOL;
}

static struct tc
tc_has(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc			 x, r = { NULL, NULL, true };
	const struct cf_pol_expr	*cur = e->a;
	const struct cf_sch_type	*ct;
	struct cf_pol_expr		*g;
	const struct cap		*pc = prior, *c, *acc = NULL;
	int				 kinds[64], res;
	const struct cap		*caps[64];
	size_t				 i, n = 0;
	char				 tn[160];

	x = typecheck(v, prior, e->a);
	if (x.t == NULL)
		return fail();
	if (!matches(x.t, W_ENT_REC)) {
		type_name(v, x.t, tn, sizeof(tn));
		(void)verror(v, e->a->line, e->a->col, "unexpected type: "
		    "expected an entity or a record but saw %s", tn);
		return fail();
	}
	ct = x.t;
	for (i = 0; i < e->nkeys && i < 64; i++) {
		if (i > 0 && !matches(ct, W_ENT_REC)) {
			type_name(v, ct, tn, sizeof(tn));
			(void)verror(v, e->line, e->col, "unexpected type: "
			    "expected an entity or a record but saw %s", tn);
			return fail();
		}
		kinds[n] = has_step(v, pc, cur, ct, e->keys[i], e->klens[i],
		    &c);
		caps[n++] = c;
		if (i + 1 == e->nkeys || kinds[n - 1] == ST_FALSE)
			break;
		pc = cap_union(v, pc, c);
		ct = get_step(v, pc, e, cur, ct, e->keys[i], e->klens[i]);
		if (ct == NULL)
			return fail();
		g = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*g));
		if (g == NULL) {
			v->rc = CF_E_NOMEM;
			return fail();
		}
		g->op = X_ATTR;
		g->a = cur;
		g->name = e->keys[i];
		g->nlen = e->klens[i];
		g->line = e->line;
		g->col = e->col;
		cur = g;
	}
	/* Combine right to left, as for &&. */
	res = kinds[n - 1];
	acc = caps[n - 1];
	while (n-- > 1) {
		if (res == ST_FALSE)
			acc = NULL;
		else if (res == ST_TRUE) {
			res = kinds[n - 1];
			acc = cap_union(v, caps[n - 1], acc);
		} else
			acc = cap_union(v, caps[n - 1], acc);
	}
	r.t = bool_of(res);
	r.cap = acc;
	return r;
}

/* The uid an expression denotes statically: a literal or `action`. */
static const struct cf_pol_uid *
static_uid(const struct vctx *v, const struct cf_pol_expr *e)
{
	if (e->op == X_LIT && e->lit.kind == PV_ENTITY)
		return e->lit.u.e;
	if (e->op == X_VAR && e->var == 1)
		return v->act->uid;
	return NULL;
}

static bool
lit_like(const struct vctx *v, const struct cf_pol_expr *e,
    struct cf_pol_val *out)
{
	const struct cf_pol_uid	*u;

	if (e->op == X_LIT && (e->lit.kind == PV_BOOL ||
	    e->lit.kind == PV_LONG || e->lit.kind == PV_STR ||
	    e->lit.kind == PV_ENTITY)) {
		*out = e->lit;
		return true;
	}
	u = static_uid(v, e);
	if (u == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	out->kind = PV_ENTITY;
	out->u.e = u;
	return true;
}

/* Name of an entity or action type. */
static void
ety_name(const struct vctx *v, const struct cf_sch_type *t, const char **n,
    size_t *len)
{
	if (t->kind == ST_ENTITY) {
		*n = v->s->ents[t->idx].name;
		*len = v->s->ents[t->idx].nlen;
	} else {
		*n = v->s->atypes[t->idx];
		*len = v->s->atlens[t->idx];
	}
}

/* May an entity of type l be `in` an entity of type r? */
static bool
may_be_in(const struct vctx *v, const struct cf_sch_type *l,
    const struct cf_sch_type *r)
{
	size_t	i, j;

	if (l->kind == r->kind && l->idx == r->idx)
		return true;
	if (l->kind == ST_ENTITY && r->kind == ST_ENTITY)
		return cf_sch_bit(v->s->ents[r->idx].desc, l->idx);
	if (l->kind != ST_ACTION || r->kind != ST_ACTION)
		return false;
	for (i = 0; i < v->s->nacts; i++) {
		if (v->s->acts[i].atype != r->idx)
			continue;
		for (j = 0; j < v->s->nacts; j++)
			if (cf_sch_bit(v->s->acts[i].desc, j) &&
			    v->s->acts[j].atype == l->idx)
				return true;
	}
	return false;
}

static struct tc
tc_in(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e,
    const struct cf_pol_expr *lhs, const struct cf_pol_expr *rhs)
{
	struct tc		 l, r;
	const struct cf_pol_uid	*lu, *ru;
	const struct cf_sch_type *rt;
	size_t			 i, nact = 0;
	long			 li, ri;
	bool			 all = true, found = false;

	(void)e;
	l = expect(v, prior, lhs, W_ENTITY);
	r = expect(v, prior, rhs, W_IN_RHS);
	if (!l.ok || !r.ok || l.t == NULL || r.t == NULL)
		return fail();
	lu = static_uid(v, lhs);
	if (lu != NULL && is_action_type(lu->type, lu->tlen)) {
		/* Action literal in literals: decided by the hierarchy. */
		if (static_uid(v, rhs) != NULL) {
			ru = static_uid(v, rhs);
			nact = is_action_type(ru->type, ru->tlen);
			if (nact) {
				ri = cf_sch_action_index(v->s, ru);
				li = cf_sch_action_index(v->s, lu);
				if (ri < 0 || li < 0)
					return fail();
				return okt(cf_sch_bit(v->s->acts[ri].desc,
				    (size_t)li) ? &T_TRUE : &T_FALSE);
			}
			return okt(&T_FALSE);
		}
		if (rhs->op == X_SET) {
			for (i = 0; i < rhs->nargs; i++)
				if (static_uid(v, rhs->args[i]) == NULL)
					all = false;
			if (all) {
				li = cf_sch_action_index(v->s, lu);
				for (i = 0; i < rhs->nargs; i++) {
					ru = static_uid(v, rhs->args[i]);
					if (!is_action_type(ru->type, ru->tlen))
						continue;
					nact++;
					ri = cf_sch_action_index(v->s, ru);
					if (ri < 0 || li < 0)
						return fail();
					if (cf_sch_bit(v->s->acts[ri].desc,
					    (size_t)li))
						found = true;
				}
				return okt(found ? &T_TRUE : &T_FALSE);
			}
		}
	}
	rt = r.t->kind == ST_SET ? r.t->elem : r.t;
	if (is_entity(l.t) && is_entity(rt) && !may_be_in(v, l.t, rt))
		return okt(&T_FALSE);
	return okt(&T_BOOL);
}

static struct tc
tc_is(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc	 x;
	const char	*n;
	size_t		 len;

	x = expect(v, prior, e->a, W_ENTITY);
	if (x.t == NULL)
		return fail();
	ety_name(v, x.t, &n, &len);
	return okt(key_eq(n, len, e->name, e->nlen) ? &T_TRUE : &T_FALSE);
}

/* lhs && rhs types (both boolean). */
static const struct cf_sch_type *
and_type(const struct cf_sch_type *l, const struct cf_sch_type *r)
{
	if (l->kind == ST_FALSE || r->kind == ST_FALSE)
		return &T_FALSE;
	if (r->kind == ST_TRUE)
		return l;
	if (l->kind == ST_TRUE)
		return r;
	return &T_BOOL;
}

static struct tc
tc_eq(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc		 l, r;
	struct cf_pol_val	 lv, rv;
	const struct cf_sch_type *t = &T_BOOL;
	char			 t1[160], t2[160];

	l = typecheck(v, prior, e->a);
	r = typecheck(v, prior, e->b);
	if (l.t == NULL || r.t == NULL)
		return fail();
	if (is_entity(l.t) && is_entity(r.t) && !type_eq(l.t, r.t))
		t = &T_FALSE;
	else if (lit_like(v, e->a, &lv) && lit_like(v, e->b, &rv))
		t = cf_pol_val_eq(&lv, &rv) ? &T_TRUE : &T_FALSE;
	if (t->kind == ST_BOOL && lub(v, l.t, r.t) == NULL) {
		type_name(v, l.t, t1, sizeof(t1));
		type_name(v, r.t, t2, sizeof(t2));
		(void)verror(v, e->line, e->col, "the operands of `==` have "
		    "incompatible types %s and %s", t1, t2);
		return fail();
	}
	if (!l.ok || !r.ok)
		return fail();
	return okt(t);
}

static bool
comparable(const struct cf_sch_type *t)
{
	return t->kind == ST_LONG || (t->kind == ST_EXT &&
	    (t->ext == SX_DATETIME || t->ext == SX_DURATION));
}

static struct tc
tc_cmp(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc	l, r;
	char		t1[160], t2[160];

	l = typecheck(v, prior, e->a);
	r = typecheck(v, prior, e->b);
	if (l.t == NULL || r.t == NULL)
		return fail();
	if (!type_eq(l.t, r.t) || !comparable(l.t)) {
		type_name(v, l.t, t1, sizeof(t1));
		type_name(v, r.t, t2, sizeof(t2));
		(void)verror(v, e->line, e->col, "comparison of %s with %s: "
		    "both operands must be Long, datetime or duration, of the "
		    "same type", t1, t2);
		return fail();
	}
	return l.ok && r.ok ? okt(&T_BOOL) : fail();
}

static const struct {
	uint8_t	nargs;
	uint8_t	args[2];	/* W_EXT + ext, or W_STRING */
	uint8_t	ret;		/* ST_BOOL, ST_LONG, or SX_* + 16 */
} sig[] = {
	[FN_IP] = { 1, { W_STRING, 0 }, 16 + SX_IPADDR },
	[FN_DECIMAL] = { 1, { W_STRING, 0 }, 16 + SX_DECIMAL },
	[FN_DATETIME] = { 1, { W_STRING, 0 }, 16 + SX_DATETIME },
	[FN_DURATION] = { 1, { W_STRING, 0 }, 16 + SX_DURATION },
	[FN_IS_IPV4] = { 1, { W_EXT + SX_IPADDR, 0 }, ST_BOOL },
	[FN_IS_IPV6] = { 1, { W_EXT + SX_IPADDR, 0 }, ST_BOOL },
	[FN_IS_LOOPBACK] = { 1, { W_EXT + SX_IPADDR, 0 }, ST_BOOL },
	[FN_IS_MULTICAST] = { 1, { W_EXT + SX_IPADDR, 0 }, ST_BOOL },
	[FN_IS_IN_RANGE] = { 2, { W_EXT + SX_IPADDR, W_EXT + SX_IPADDR },
	    ST_BOOL },
	[FN_LESS_THAN] = { 2, { W_EXT + SX_DECIMAL, W_EXT + SX_DECIMAL },
	    ST_BOOL },
	[FN_LESS_THAN_OR_EQUAL] = { 2, { W_EXT + SX_DECIMAL,
	    W_EXT + SX_DECIMAL }, ST_BOOL },
	[FN_GREATER_THAN] = { 2, { W_EXT + SX_DECIMAL, W_EXT + SX_DECIMAL },
	    ST_BOOL },
	[FN_GREATER_THAN_OR_EQUAL] = { 2, { W_EXT + SX_DECIMAL,
	    W_EXT + SX_DECIMAL }, ST_BOOL },
	[FN_OFFSET] = { 2, { W_EXT + SX_DATETIME, W_EXT + SX_DURATION },
	    16 + SX_DATETIME },
	[FN_DURATION_SINCE] = { 2, { W_EXT + SX_DATETIME,
	    W_EXT + SX_DATETIME }, 16 + SX_DURATION },
	[FN_TO_DATE] = { 1, { W_EXT + SX_DATETIME, 0 }, 16 + SX_DATETIME },
	[FN_TO_TIME] = { 1, { W_EXT + SX_DATETIME, 0 }, 16 + SX_DURATION },
	[FN_TO_DAYS] = { 1, { W_EXT + SX_DURATION, 0 }, ST_LONG },
	[FN_TO_HOURS] = { 1, { W_EXT + SX_DURATION, 0 }, ST_LONG },
	[FN_TO_MINUTES] = { 1, { W_EXT + SX_DURATION, 0 }, ST_LONG },
	[FN_TO_SECONDS] = { 1, { W_EXT + SX_DURATION, 0 }, ST_LONG },
	[FN_TO_MILLISECONDS] = { 1, { W_EXT + SX_DURATION, 0 }, ST_LONG },
};

static const struct cf_sch_type *
ret_type(int fn)
{
	int	r = sig[fn].ret;

	if (r >= 16)
		return &T_EXT[r - 16];
	return r == ST_LONG ? &T_LONG : &T_BOOL;
}

static struct tc
tc_ext(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc	a;
	bool		ok = true;
	size_t		i;

	if (e->fn == 0 || e->fn > FN_TO_MILLISECONDS)
		return fail();
	if (e->nargs != sig[e->fn].nargs) {
		(void)verror(v, e->line, e->col, "wrong number of arguments: "
		    "expected %u, got %zu", sig[e->fn].nargs, e->nargs);
		ok = false;
	} else if (e->fn <= FN_DURATION) {
		/* Literal arguments were folded at parse time. */
		(void)verror(v, e->line, e->col, "extension constructors "
		    "take a string literal in strict validation");
		ok = false;
	}
	for (i = 0; i < e->nargs; i++) {
		if (ok)
			a = expect(v, prior, e->args[i], sig[e->fn].args[i]);
		else
			a = typecheck(v, prior, e->args[i]);
		if (!a.ok)
			ok = false;
	}
	return ok ? okt(ret_type(e->fn)) : fail();
}

static struct tc
tc_set(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc			 x;
	const struct cf_sch_type	*el = NULL;
	struct cf_sch_type		*t;
	bool				 ok = true;
	size_t				 i;
	char				 t1[160], t2[160];

	if (e->nargs == 0) {
		(void)verror(v, e->line, e->col, "empty set literals are "
		    "forbidden in strict validation");
		return fail();
	}
	for (i = 0; i < e->nargs; i++) {
		x = typecheck(v, prior, e->args[i]);
		if (x.t == NULL || !x.ok) {
			ok = false;
			continue;
		}
		if (!ok)
			continue;
		if (el == NULL) {
			el = x.t;
			continue;
		}
		if (lub(v, el, x.t) == NULL) {
			type_name(v, el, t1, sizeof(t1));
			type_name(v, x.t, t2, sizeof(t2));
			(void)verror(v, e->line, e->col, "set elements have "
			    "incompatible types %s and %s", t1, t2);
			ok = false;
			continue;
		}
		el = lub(v, el, x.t);
	}
	if (!ok || el == NULL)
		return fail();
	t = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*t));
	if (t == NULL) {
		v->rc = CF_E_NOMEM;
		return fail();
	}
	t->kind = ST_SET;
	t->elem = el;
	return okt(t);
}

static struct tc
tc_record(struct vctx *v, const struct cap *prior,
    const struct cf_pol_expr *e)
{
	struct cf_sch_rec	*r;
	struct cf_sch_type	*t;
	struct tc		 x;
	bool			 ok = true;
	size_t			 i;

	r = cf_pol_arena_alloc(&v->tmp, sizeof(*r) + e->nargs *
	    sizeof(r->a[0]));
	t = cf_pol_arena_calloc(&v->tmp, 1, sizeof(*t));
	if (r == NULL || t == NULL) {
		v->rc = CF_E_NOMEM;
		return fail();
	}
	r->n = e->nargs;
	for (i = 0; i < e->nargs; i++) {
		x = typecheck(v, prior, e->args[i]);
		if (x.t == NULL || !x.ok)
			ok = false;
		r->a[i].k = e->keys[i];
		r->a[i].kn = e->klens[i];
		r->a[i].req = true;
		r->a[i].t = x.t;
	}
	if (!ok)
		return fail();
	t->kind = ST_RECORD;
	t->rec = r;
	return okt(t);
}

static const struct cf_sch_type *
tag_type(const struct vctx *v, const struct cf_sch_type *t)
{
	return t->kind == ST_ENTITY ? v->s->ents[t->idx].tags : NULL;
}

static struct tc
tc_tag(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc			 a, b, r = { NULL, NULL, true };
	const struct cf_sch_type	*tt;

	a = expect(v, prior, e->a, W_ENTITY);
	b = expect(v, prior, e->b, W_STRING);
	if (a.t == NULL || b.t == NULL)
		return fail();
	tt = tag_type(v, a.t);
	if (e->op == X_HAS_TAG) {
		r.t = tt == NULL ? &T_FALSE : cap_has(prior, e->a, NULL, 0,
		    e->b) ? &T_TRUE : &T_BOOL;
		r.cap = cap_one(v, e->a, NULL, 0, e->b);
		r.ok = a.ok && b.ok;
		return r;
	}
	if (!cap_has(prior, e->a, NULL, 0, e->b)) {
		(void)verror(v, e->line, e->col, "tags are read only under a "
		    "`hasTag` test of the same tag");
		return fail();
	}
	if (tt == NULL) {
		(void)verror(v, e->line, e->col, "this entity type has no "
		    "tags");
		return fail();
	}
	return a.ok && b.ok ? okt(tt) : fail();
}

static struct tc
tc_var(struct vctx *v, const struct cf_pol_expr *e)
{
	switch (e->var) {
	case 0: return okt(v->pt);
	case 1: return okt(v->at);
	case 2: return okt(v->rt);
	case 3: return okt(v->ct);
	case PSLOT_VAR: return okt(v->pslot);
	default: return okt(v->rslot);
	}
}

static struct tc
tc_lit(struct vctx *v, const struct cf_pol_expr *e)
{
	switch (e->lit.kind) {
	case PV_BOOL: return okt(e->lit.u.b ? &T_TRUE : &T_FALSE);
	case PV_LONG: return okt(&T_LONG);
	case PV_STR: return okt(&T_STR);
	case PV_ENTITY: return okt(uid_type(v, e->lit.u.e));
	case PV_DECIMAL: return okt(&T_EXT[SX_DECIMAL]);
	case PV_IP: return okt(&T_EXT[SX_IPADDR]);
	case PV_DATETIME: return okt(&T_EXT[SX_DATETIME]);
	case PV_DURATION: return okt(&T_EXT[SX_DURATION]);
	default: return fail();
	}
}

static struct tc
tc_if(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc			 c, a, b, r = { NULL, NULL, true };
	const struct cf_sch_type	*t;
	char				 t1[160], t2[160];

	c = expect(v, prior, e->a, W_BOOL);
	if (c.t == NULL)
		return fail();
	if (c.t->kind == ST_TRUE) {
		a = typecheck(v, cap_union(v, prior, c.cap), e->b);
		a.cap = cap_union(v, a.cap, c.cap);
		a.ok = a.ok && c.ok;
		return a;
	}
	if (c.t->kind == ST_FALSE) {
		b = typecheck(v, prior, e->c);
		b.ok = b.ok && c.ok;
		return b;
	}
	a = typecheck(v, cap_union(v, prior, c.cap), e->b);
	a.cap = cap_union(v, a.cap, c.cap);
	b = typecheck(v, prior, e->c);
	if (a.t == NULL || b.t == NULL)
		return fail();
	t = lub(v, a.t, b.t);
	if (t == NULL) {
		type_name(v, a.t, t1, sizeof(t1));
		type_name(v, b.t, t2, sizeof(t2));
		(void)verror(v, e->line, e->col, "the branches of `if` have "
		    "incompatible types %s and %s", t1, t2);
		return fail();
	}
	r.t = t;
	r.cap = cap_inter(v, b.cap, a.cap);
	r.ok = c.ok && a.ok && b.ok;
	return r;
}

static struct tc
tc_and(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *l,
    const struct cf_pol_expr *rr)
{
	struct tc	a, b, r = { NULL, NULL, true };

	a = expect(v, prior, l, W_BOOL);
	if (a.t != NULL && a.t->kind == ST_FALSE)
		return a;
	b = expect(v, cap_union(v, prior, a.cap), rr, W_BOOL);
	if (a.t == NULL || b.t == NULL || !a.ok || !b.ok)
		return fail();
	r.t = and_type(a.t, b.t);
	if (r.t->kind != ST_FALSE)
		r.cap = cap_union(v, a.cap, b.cap);
	return r;
}

static struct tc
tc_or(struct vctx *v, const struct cap *prior, const struct cf_pol_expr *e)
{
	struct tc	a, b, r = { NULL, NULL, true };

	a = expect(v, prior, e->a, W_BOOL);
	if (a.t != NULL && a.t->kind == ST_TRUE)
		return a;
	b = expect(v, prior, e->b, W_BOOL);
	if (a.t == NULL || b.t == NULL || !a.ok || !b.ok)
		return fail();
	if (b.t->kind == ST_TRUE) {
		r.t = &T_TRUE;
		r.cap = b.cap;
	} else if (b.t->kind == ST_FALSE) {
		r.t = a.t;
		r.cap = a.cap;
	} else if (a.t->kind == ST_FALSE) {
		r.t = b.t;
		r.cap = b.cap;
	} else {
		r.t = &T_BOOL;
		r.cap = cap_inter(v, b.cap, a.cap);
	}
	return r;
}

static struct tc
typecheck(struct vctx *v, const struct cap *prior,
    const struct cf_pol_expr *e)
{
	struct tc			 a, b, r = { NULL, NULL, true };
	const struct cf_sch_type	*t;
	char				 t1[160], t2[160];

	if (v->rc != CF_OK)
		return fail();
	if (++v->steps > CF_VALIDATE_MAX_STEPS) {
		v->rc = CF_E_LIMIT;
		return fail();
	}
	switch (e->op) {
	case X_LIT:
		return tc_lit(v, e);
	case X_VAR:
		return tc_var(v, e);
	case X_ERROR:
		(void)verror(v, e->line, e->col, "%s", e->msg);
		return fail();
	case X_NOT:
		a = expect(v, prior, e->a, W_BOOL);
		if (a.t == NULL)
			return fail();
		a.t = a.t->kind == ST_TRUE ? &T_FALSE : a.t->kind == ST_FALSE ?
		    &T_TRUE : &T_BOOL;
		a.cap = NULL;
		return a;
	case X_NEG:
		a = expect(v, prior, e->a, W_LONG);
		return a.ok ? okt(&T_LONG) : fail();
	case X_AND:
		return tc_and(v, prior, e->a, e->b);
	case X_OR:
		return tc_or(v, prior, e);
	case X_IF:
		return tc_if(v, prior, e);
	case X_EQ:
		return tc_eq(v, prior, e);
	case X_NE:
		a = tc_eq(v, prior, e);
		if (a.t == NULL)
			return a;
		a.t = a.t->kind == ST_TRUE ? &T_FALSE : a.t->kind == ST_FALSE ?
		    &T_TRUE : &T_BOOL;
		return a;
	case X_LT:
	case X_LE:
	case X_GT:
	case X_GE:
		return tc_cmp(v, prior, e);
	case X_IN:
		return tc_in(v, prior, e, e->a, e->b);
	case X_ADD:
	case X_SUB:
	case X_MUL:
		a = expect(v, prior, e->a, W_LONG);
		b = expect(v, prior, e->b, W_LONG);
		return a.ok && b.ok ? okt(&T_LONG) : fail();
	case X_HAS:
		return tc_has(v, prior, e);
	case X_ATTR:
		a = typecheck(v, prior, e->a);
		if (a.t == NULL)
			return fail();
		if (!matches(a.t, W_ENT_REC)) {
			type_name(v, a.t, t1, sizeof(t1));
			(void)verror(v, e->a->line, e->a->col, "unexpected "
			    "type: expected an entity or a record but saw %s",
			    t1);
			return fail();
		}
		t = get_step(v, prior, e, e->a, a.t, e->name, e->nlen);
		return t != NULL && a.ok ? okt(t) : fail();
	case X_LIKE:
		a = expect(v, prior, e->a, W_STRING);
		return a.ok ? okt(&T_BOOL) : fail();
	case X_IS:
		return tc_is(v, prior, e);
	case X_IS_IN:
		a = tc_is(v, prior, e);
		if (a.t == NULL || a.t->kind == ST_FALSE)
			return a;
		b = tc_in(v, prior, e, e->a, e->b);
		if (b.t == NULL || !a.ok || !b.ok)
			return fail();
		return okt(and_type(a.t, b.t));
	case X_SET:
		return tc_set(v, prior, e);
	case X_RECORD:
		return tc_record(v, prior, e);
	case X_CONTAINS:
		a = expect(v, prior, e->a, W_SET);
		b = typecheck(v, prior, e->b);
		if (a.t == NULL || b.t == NULL)
			return fail();
		if (lub(v, a.t->elem, b.t) == NULL) {
			type_name(v, a.t, t1, sizeof(t1));
			type_name(v, b.t, t2, sizeof(t2));
			(void)verror(v, e->line, e->col, "`contains` on %s "
			    "with an incompatible %s", t1, t2);
			return fail();
		}
		return a.ok && b.ok ? okt(&T_BOOL) : fail();
	case X_CONTAINS_ALL:
	case X_CONTAINS_ANY:
		a = expect(v, prior, e->a, W_SET);
		b = expect(v, prior, e->b, W_SET);
		if (a.t == NULL || b.t == NULL)
			return fail();
		if (lub(v, a.t, b.t) == NULL) {
			type_name(v, a.t, t1, sizeof(t1));
			type_name(v, b.t, t2, sizeof(t2));
			(void)verror(v, e->line, e->col, "`%s` on incompatible "
			    "sets %s and %s", e->op == X_CONTAINS_ALL ?
			    "containsAll" : "containsAny", t1, t2);
			return fail();
		}
		return a.ok && b.ok ? okt(&T_BOOL) : fail();
	case X_IS_EMPTY:
		a = expect(v, prior, e->a, W_SET);
		return a.ok ? okt(&T_BOOL) : fail();
	case X_HAS_TAG:
	case X_GET_TAG:
		return tc_tag(v, prior, e);
	case X_EXT:
		return tc_ext(v, prior, e);
	default:
		(void)r;
		return fail();
	}
}

/*
 * Policies.
 */
static struct cf_pol_expr *
syn(struct vctx *v, int op, const struct cf_pol_expr *a,
    const struct cf_pol_expr *b)
{
	struct cf_pol_expr	*e;

	e = cf_pol_arena_calloc(&v->ptmp, 1, sizeof(*e));
	if (e == NULL) {
		v->rc = CF_E_NOMEM;
		return NULL;
	}
	e->op = (uint8_t)op;
	e->a = a;
	e->b = b;
	e->line = v->pol->line;
	e->col = v->pol->col;
	return e;
}

static struct cf_pol_expr *
syn_uid(struct vctx *v, const struct cf_pol_uid *u)
{
	struct cf_pol_expr	*e = syn(v, X_LIT, NULL, NULL);

	if (e != NULL) {
		e->lit.kind = PV_ENTITY;
		e->lit.u.e = u;
	}
	return e;
}

static struct cf_pol_expr *
syn_var(struct vctx *v, int var)
{
	struct cf_pol_expr	*e = syn(v, X_VAR, NULL, NULL);

	if (e != NULL)
		e->var = (uint8_t)var;
	return e;
}

/* The scope constraint on variable var as an expression, NULL for none. */
static const struct cf_pol_expr *
scope_expr(struct vctx *v, const struct cf_pol_scope *sc, int var)
{
	struct cf_pol_expr	*x, *rhs = NULL, *s;
	size_t			 i;

	if (sc->op == SC_ANY)
		return NULL;
	x = syn_var(v, var);
	if (sc->op == SC_IN_LIST) {
		s = syn(v, X_SET, NULL, NULL);
		if (s == NULL)
			return NULL;
		s->args = cf_pol_arena_calloc(&v->ptmp, sc->nlist + 1,
		    sizeof(*s->args));
		if (s->args == NULL) {
			v->rc = CF_E_NOMEM;
			return NULL;
		}
		for (i = 0; i < sc->nlist; i++) {
			((const struct cf_pol_expr **)s->args)[i] =
			    syn_uid(v, sc->list[i]);
			if (s->args[i] == NULL)
				return NULL;
		}
		s->nargs = sc->nlist;
		return syn(v, X_IN, x, s);
	}
	if (sc->op != SC_IS) {
		rhs = sc->slot ? syn_var(v, var == 0 ? PSLOT_VAR : RSLOT_VAR) :
		    syn_uid(v, sc->uid);
		if (rhs == NULL)
			return NULL;
	}
	switch (sc->op) {
	case SC_EQ:
		return syn(v, X_EQ, x, rhs);
	case SC_IN:
		return syn(v, X_IN, x, rhs);
	default:
		s = syn(v, sc->op == SC_IS ? X_IS : X_IS_IN, x, rhs);
		if (s != NULL) {
			s->name = sc->type;
			s->nlen = sc->tlen;
		}
		return s;
	}
}

static const struct cf_pol_expr *
and_of(struct vctx *v, const struct cf_pol_expr *a,
    const struct cf_pol_expr *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return syn(v, X_AND, a, b);
}

static const struct cf_pol_expr *
condition(struct vctx *v)
{
	const struct cf_pol_policy	*pol = v->pol;
	const struct cf_pol_expr	*c = NULL, *x;
	size_t				 i;

	c = and_of(v, c, scope_expr(v, &pol->p, 0));
	c = and_of(v, c, scope_expr(v, &pol->a, 1));
	c = and_of(v, c, scope_expr(v, &pol->r, 2));
	for (i = 0; i < pol->nconds && v->rc == CF_OK; i++) {
		x = pol->conds[i].e;
		if (pol->conds[i].unless)
			x = syn(v, X_NOT, x, NULL);
		c = and_of(v, c, x);
	}
	if (c == NULL) {
		struct cf_pol_expr	*t = syn(v, X_LIT, NULL, NULL);

		if (t != NULL) {
			t->lit.kind = PV_BOOL;
			t->lit.u.b = true;
		}
		c = t;
	}
	return v->rc == CF_OK ? c : NULL;
}

/* Pass 1: every entity type, action and enum entity named is declared. */
static void
check_uid(struct vctx *v, const struct cf_pol_uid *u, unsigned int line,
    unsigned int col)
{
	char	t[128], id[128];
	long	i;
	size_t	k;

	cf_pol_escape(u->type, u->tlen, t, sizeof(t));
	cf_pol_escape(u->id, u->ilen, id, sizeof(id));
	if (is_action_type(u->type, u->tlen)) {
		if (cf_sch_action_index(v->s, u) < 0)
			(void)verror(v, line, col, "unrecognized action "
			    "`%s::\"%s\"`", t, id);
		return;
	}
	i = cf_sch_entity_index(v->s, u->type, u->tlen);
	if (i < 0) {
		(void)verror(v, line, col, "unrecognized entity type `%s`", t);
		return;
	}
	if (!v->s->ents[i].is_enum)
		return;
	for (k = 0; k < v->s->ents[i].nenums; k++)
		if (key_eq(v->s->ents[i].enums[k], v->s->ents[i].enumlens[k],
		    u->id, u->ilen))
			return;
	(void)verror(v, line, col, "`%s::\"%s\"` is not one of the values of "
	    "the enumerated entity type `%s`", t, id, t);
}

static void
check_type_name(struct vctx *v, const char *n, size_t len, unsigned int line,
    unsigned int col)
{
	char	t[128];

	if (cf_sch_entity_index(v->s, n, len) >= 0 ||
	    cf_sch_atype_index(v->s, n, len) >= 0)
		return;
	cf_pol_escape(n, len, t, sizeof(t));
	(void)verror(v, line, col, "unrecognized entity type `%s`", t);
}

static void
check_names(struct vctx *v, const struct cf_pol_expr *e)
{
	size_t	i;

	for (; e != NULL && v->rc == CF_OK; e = e->a) {
		if (e->op == X_LIT && e->lit.kind == PV_ENTITY)
			check_uid(v, e->lit.u.e, e->line, e->col);
		if (e->op == X_IS || e->op == X_IS_IN)
			check_type_name(v, e->name, e->nlen, e->line, e->col);
		check_names(v, e->b);
		check_names(v, e->c);
		for (i = 0; i < e->nargs; i++)
			check_names(v, e->args[i]);
	}
}

static void
check_scope_names(struct vctx *v, const struct cf_pol_scope *sc)
{
	size_t	i;

	if (sc->uid != NULL)
		check_uid(v, sc->uid, v->pol->line, v->pol->col);
	for (i = 0; i < sc->nlist; i++)
		check_uid(v, sc->list[i], v->pol->line, v->pol->col);
	if (sc->op == SC_IS || sc->op == SC_IS_IN)
		check_type_name(v, sc->type, sc->tlen, v->pol->line,
		    v->pol->col);
}

/* May an entity of type index t satisfy the principal/resource scope? */
static bool
scope_admits(const struct vctx *v, const struct cf_pol_scope *sc, uint32_t t)
{
	long	u, is;

	if (sc->op == SC_ANY)
		return true;
	if (sc->op == SC_IS || sc->op == SC_IS_IN) {
		is = cf_sch_entity_index(v->s, sc->type, sc->tlen);
		if (is != (long)t)
			return false;
		if (sc->op == SC_IS || sc->slot)
			return true;
	} else if (sc->slot)
		return true;
	u = cf_sch_entity_index(v->s, sc->uid->type, sc->uid->tlen);
	if (u < 0)
		return false;
	if (sc->op == SC_EQ)
		return u == (long)t;
	return u == (long)t || cf_sch_bit(v->s->ents[u].desc, t);
}

static bool
action_admitted(const struct vctx *v, const struct cf_pol_scope *sc,
    size_t a)
{
	long	i;
	size_t	k;

	switch (sc->op) {
	case SC_ANY:
		return true;
	case SC_EQ:
		return cf_pol_uid_eq(v->s->acts[a].uid, sc->uid);
	case SC_IN:
		i = cf_sch_action_index(v->s, sc->uid);
		return i >= 0 && cf_sch_bit(v->s->acts[i].desc, a);
	default:
		for (k = 0; k < sc->nlist; k++) {
			i = cf_sch_action_index(v->s, sc->list[k]);
			if (i >= 0 && cf_sch_bit(v->s->acts[i].desc, a))
				return true;
		}
		return false;
	}
}

/* Pass 2: the scope admits some request the schema allows. */
static void
check_application(struct vctx *v)
{
	const struct cf_pol_policy	*pol = v->pol;
	size_t				 a, i, j;

	for (a = 0; a < v->s->nacts; a++) {
		const struct cf_sch_action	*act = &v->s->acts[a];

		if (!act->applies || !action_admitted(v, &pol->a, a))
			continue;
		for (i = 0; i < act->nptypes; i++) {
			if (!scope_admits(v, &pol->p, act->ptypes[i]))
				continue;
			for (j = 0; j < act->nrtypes; j++)
				if (scope_admits(v, &pol->r, act->rtypes[j]))
					return;
		}
	}
	(void)verror(v, pol->line, pol->col, "unable to find an applicable "
	    "action given the policy scope constraints");
}

/* Slot types to try for a template's slot on a variable of type t. */
static bool
slot_candidate(const struct vctx *v, const struct cf_pol_scope *sc,
    uint32_t var, uint32_t cand)
{
	if (!sc->slot)
		return cand == 0;
	if (sc->op == SC_EQ)
		return cand == var;
	return cand == var || cf_sch_bit(v->s->ents[cand].desc, var);
}

/* Pass 3: typecheck the condition in every request environment. */
static void
check_types(struct vctx *v)
{
	const struct cf_pol_expr	*cond;
	size_t				 a, i, j, ps, rs, np, nr;
	struct tc			 r;

	cond = condition(v);
	if (cond == NULL)
		return;
	for (a = 0; a < v->s->nacts && v->rc == CF_OK; a++) {
		const struct cf_sch_action	*act = &v->s->acts[a];

		if (!act->applies)
			continue;
		v->act = act;
		for (i = 0; i < act->nptypes; i++)
			for (j = 0; j < act->nrtypes; j++) {
				np = v->pol->p.slot ? v->s->nents : 1;
				nr = v->pol->r.slot ? v->s->nents : 1;
				for (ps = 0; ps < np; ps++)
					for (rs = 0; rs < nr; rs++) {
						if (v->rc != CF_OK ||
						    !slot_candidate(v,
						    &v->pol->p, act->ptypes[i],
						    (uint32_t)ps) ||
						    !slot_candidate(v,
						    &v->pol->r, act->rtypes[j],
						    (uint32_t)rs))
							continue;
						cf_pol_arena_reset(&v->tmp);
						v->pt = mk(v, ST_ENTITY,
						    act->ptypes[i]);
						v->rt = mk(v, ST_ENTITY,
						    act->rtypes[j]);
						v->at = mk(v, ST_ACTION,
						    act->atype);
						v->pslot = mk(v, ST_ENTITY,
						    (uint32_t)ps);
						v->rslot = mk(v, ST_ENTITY,
						    (uint32_t)rs);
						v->ct = act->context;
						if (v->rc != CF_OK)
							return;
						r = expect(v, NULL, cond,
						    W_BOOL);
						(void)r;
					}
			}
	}
}

static void
validate_policy(struct vctx *v, const struct cf_pol_policy *pol)
{
	size_t	i;

	v->pol = pol;
	v->first = v->out->n;
	check_scope_names(v, &pol->p);
	check_scope_names(v, &pol->a);
	check_scope_names(v, &pol->r);
	for (i = 0; i < pol->nconds; i++)
		check_names(v, pol->conds[i].e);
	check_application(v);
	cf_pol_arena_reset(&v->ptmp);
	check_types(v);
}

cf_err
cf_policy_validate(const struct cf_schema *s, const struct cf_policy_set *ps,
    struct cf_validation *out, struct cf_error *err)
{
	struct vctx	v;
	size_t		i;

	if (s == NULL || ps == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL argument");
	cf_pol_arena_reset(&out->ar);
	out->n = 0;
	out->incomplete = false;
	memset(&v, 0, sizeof(v));
	v.s = s;
	v.out = out;
	cf_pol_arena_init(&v.tmp);
	cf_pol_arena_init(&v.ptmp);
	for (i = 0; i < ps->npols && v.rc == CF_OK; i++)
		validate_policy(&v, ps->pols[i]);
	for (i = 0; i < ps->ntmpls && v.rc == CF_OK; i++)
		validate_policy(&v, ps->tmpls[i]);
	cf_pol_arena_free(&v.tmp);
	cf_pol_arena_free(&v.ptmp);
	if (v.rc == CF_E_LIMIT) {
		out->incomplete = true;
		return cf_error_set(err, CF_E_LIMIT, "validation needs more "
		    "than %u typechecking steps", CF_VALIDATE_MAX_STEPS);
	}
	if (v.rc != CF_OK) {
		out->incomplete = true;
		return cf_error_set(err, v.rc, "out of memory");
	}
	return CF_OK;
}

cf_err
cf_validation_new(struct cf_validation **out, struct cf_error *err)
{
	struct cf_validation	*v;

	v = cf_calloc(1, sizeof(*v));
	if (v == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&v->ar);
	*out = v;
	return CF_OK;
}

void
cf_validation_free(struct cf_validation *v)
{
	if (v == NULL)
		return;
	cf_pol_arena_free(&v->ar);
	cf_free(v->errs);
	cf_free(v);
}

bool
cf_validation_ok(const struct cf_validation *v)
{
	return v->n == 0 && !v->incomplete;
}

size_t
cf_validation_error_count(const struct cf_validation *v)
{
	return v->n;
}

const char *
cf_validation_error_policy(const struct cf_validation *v, size_t i)
{
	return i < v->n ? v->errs[i].policy : NULL;
}

unsigned int
cf_validation_error_line(const struct cf_validation *v, size_t i)
{
	return i < v->n ? v->errs[i].line : 0;
}

unsigned int
cf_validation_error_col(const struct cf_validation *v, size_t i)
{
	return i < v->n ? v->errs[i].col : 0;
}

const char *
cf_validation_error_msg(const struct cf_validation *v, size_t i)
{
	return i < v->n ? v->errs[i].msg : NULL;
}

json_t *
cf_validation_to_json(const struct cf_validation *v)
{
	json_t	*o = NULL, *arr, *e;
	size_t	 i;

	o = json_object();
	if (o == NULL)
		return NULL;
	arr = json_array();
	/* json_object_set_new takes the reference even when it fails. */
	if (json_object_set_new(o, "errors", arr) != 0 ||
	    json_object_set_new(o, "valid",
	    json_boolean(cf_validation_ok(v))) != 0) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < v->n; i++) {
		e = json_pack("{s:s, s:I, s:I, s:s}", "policy",
		    v->errs[i].policy, "line", (json_int_t)v->errs[i].line,
		    "col", (json_int_t)v->errs[i].col, "message",
		    v->errs[i].msg);
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
