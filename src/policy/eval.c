/* src/policy/eval.c: Cedar's evaluation semantics and the authorizer.
 *
 * eval() returns EV_OK with a value, EV_ERR with a message (the policy
 * errors and does not apply) or EV_NOMEM.  Values computed here live in
 * the response arena, which is reset at the start of each decision.
 *
 * SEC: the authorizer fails closed.  Any failure (even NOMEM) leaves the
 * decision at deny, and a policy that errors never grants access.
 *
 * SEC: each decision has a budget of CF_POLICY_MAX_STEPS steps: one per
 * expression evaluated, per pair of values compared (set operations and
 * equality are quadratic in the sizes of the sets, which entity data
 * controls) and per 64 bytes a `like` scans.  A policy that runs out
 * errors; a forbid that runs out is taken to apply (see eval_policy). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "policy_int.h"

#define EV_OK		0
#define EV_ERR		1
#define EV_NOMEM	2

#define DAY_MS		86400000LL

struct ectx {
	const struct cf_request		*req;
	const struct cf_entities	*es;
	/* The request's principal, action and resource in es (NULL when
	 * absent), looked up once per decision. */
	const struct cf_pol_entity	*pent, *aent, *rent;
	struct cf_pol_arena		*ar;
	const char			*msg;
	uint64_t			 budget;	/* steps left */
	bool				 spent;		/* budget ran out */
	struct cf_pol_memo		*memo;		/* NULL: none */
};

static int eval(struct ectx *, const struct cf_pol_expr *, struct cf_pol_val *);

static int
fail(struct ectx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct ectx *cx, const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cx->msg = cf_pol_arena_strdup(cx->ar, buf, strlen(buf));
	if (cx->msg == NULL)
		return EV_NOMEM;
	return EV_ERR;
}

static int
over_budget(struct ectx *cx)
{
	cx->spent = true;
	cx->budget = 0;
	return fail(cx, "evaluation step budget exceeded (%u steps per "
	    "decision)", CF_POLICY_MAX_STEPS);
}

/* Pay n steps, or fail when the budget does not cover them. */
static int
charge(struct ectx *cx, uint64_t n)
{
	if (n > cx->budget)
		return over_budget(cx);
	cx->budget -= n;
	return EV_OK;
}

static int
type_err(struct ectx *cx, const char *want, const struct cf_pol_val *got)
{
	return fail(cx, "type error: expected %s, got %s", want,
	    cf_pol_kind_name(got->kind));
}

static void
setb(struct cf_pol_val *v, bool b)
{
	v->kind = PV_BOOL;
	v->u.b = b;
}

static void
setl(struct cf_pol_val *v, int kind, int64_t i)
{
	v->kind = (uint8_t)kind;
	v->u.i = i;
}

static int
no_entity(struct ectx *cx, const struct cf_pol_uid *u)
{
	char	t[64], i[64];

	cf_pol_escape(u->type, u->tlen, t, sizeof(t));
	cf_pol_escape(u->id, u->ilen, i, sizeof(i));
	return fail(cx, "entity `%s::\"%s\"` does not exist", t, i);
}

static const struct cf_pol_entity *
lookup(struct ectx *cx, const struct cf_pol_uid *u)
{
	/* principal, action and resource evaluate to the request's own
	 * uids: most lookups are of those, answered without a probe. */
	if (cx->req == NULL)
		return cf_pol_entity_get(cx->es, u);
	if (u == cx->req->principal)
		return cx->pent;
	if (u == cx->req->resource)
		return cx->rent;
	if (u == cx->req->action)
		return cx->aent;
	return cf_pol_entity_get(cx->es, u);
}

/* Like: literal runs and single stars; see parse.c. */
static bool
like_match(const struct cf_pol_pat *pat, const char *s, size_t n)
{
	size_t		 i = 0, last, pos = 0, end = n;
	const char	*f;

	if (pat->n == 0)
		return n == 0;
	if (pat->n == 1 && !pat->el[0].star)
		return n == pat->el[0].len &&
		    memcmp(s, pat->el[0].p, n) == 0;
	if (!pat->el[0].star) {
		if (n < pat->el[0].len ||
		    memcmp(s, pat->el[0].p, pat->el[0].len) != 0)
			return false;
		pos = pat->el[0].len;
		i = 1;
	}
	last = pat->n - 1;
	if (!pat->el[last].star) {
		if (end - pos < pat->el[last].len ||
		    memcmp(s + end - pat->el[last].len, pat->el[last].p,
		    pat->el[last].len) != 0)
			return false;
		end -= pat->el[last].len;
		last--;
	}
	for (; i <= last; i++) {
		if (pat->el[i].star)
			continue;
		f = memmem(s + pos, end - pos, pat->el[i].p, pat->el[i].len);
		if (f == NULL)
			return false;
		pos = (size_t)(f - s) + pat->el[i].len;
	}
	return true;
}

/* Is v in s?  Sets store no order, so this is a linear scan. */
static int
set_contains(struct ectx *cx, const struct cf_pol_set *s,
    const struct cf_pol_val *v, bool *found)
{
	size_t	i;
	int	r;

	for (i = 0; i < s->n; i++) {
		r = cf_pol_val_eq_budget(&s->v[i], v, &cx->budget);
		if (r < 0)
			return over_budget(cx);
		if (r == 1) {
			*found = true;
			return EV_OK;
		}
	}
	*found = false;
	return EV_OK;
}

static int
values_eq(struct ectx *cx, const struct cf_pol_val *x,
    const struct cf_pol_val *y, bool *eq)
{
	int	r;

	r = cf_pol_val_eq_budget(x, y, &cx->budget);
	if (r < 0)
		return over_budget(cx);
	*eq = r == 1;
	return EV_OK;
}

static int
eval_bool(struct ectx *cx, const struct cf_pol_expr *e, bool *b)
{
	struct cf_pol_val	v;
	int			r;

	r = eval(cx, e, &v);
	if (r != EV_OK)
		return r;
	if (v.kind != PV_BOOL)
		return type_err(cx, "bool", &v);
	*b = v.u.b;
	return EV_OK;
}

static int
arith(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val	a, b;
	int64_t			r;
	bool			ovf;
	int			rc;
	const char		*opn;

	if ((rc = eval(cx, e->a, &a)) != EV_OK ||
	    (rc = eval(cx, e->b, &b)) != EV_OK)
		return rc;
	if (a.kind != PV_LONG)
		return type_err(cx, "long", &a);
	if (b.kind != PV_LONG)
		return type_err(cx, "long", &b);
	switch (e->op) {
	case X_ADD:
		ovf = __builtin_add_overflow(a.u.i, b.u.i, &r);
		opn = "add";
		break;
	case X_SUB:
		ovf = __builtin_sub_overflow(a.u.i, b.u.i, &r);
		opn = "subtract";
		break;
	default:
		ovf = __builtin_mul_overflow(a.u.i, b.u.i, &r);
		opn = "multiply";
		break;
	}
	if (ovf)
		return fail(cx, "integer overflow while attempting to %s "
		    "`%lld` with `%lld`", opn, (long long)a.u.i,
		    (long long)b.u.i);
	setl(out, PV_LONG, r);
	return EV_OK;
}

static int
compare(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val	a, b;
	int			rc;
	bool			r;

	if ((rc = eval(cx, e->a, &a)) != EV_OK ||
	    (rc = eval(cx, e->b, &b)) != EV_OK)
		return rc;
	if (a.kind != PV_LONG && a.kind != PV_DATETIME &&
	    a.kind != PV_DURATION)
		return type_err(cx, "long, datetime or duration", &a);
	if (b.kind != a.kind)
		return type_err(cx, cf_pol_kind_name(a.kind), &b);
	switch (e->op) {
	case X_LT:
		r = a.u.i < b.u.i;
		break;
	case X_LE:
		r = a.u.i <= b.u.i;
		break;
	case X_GT:
		r = a.u.i > b.u.i;
		break;
	default:
		r = a.u.i >= b.u.i;
		break;
	}
	setb(out, r);
	return EV_OK;
}

/* a in b, for values a and b. */
static int
in_values(struct ectx *cx, const struct cf_pol_val *a,
    const struct cf_pol_val *b, struct cf_pol_val *out)
{
	const struct cf_pol_entity	*ent;
	size_t				 i;
	int				 rc;

	if (a->kind != PV_ENTITY)
		return type_err(cx, "entity", a);
	if (b->kind == PV_ENTITY) {
		ent = lookup(cx, a->u.e);
		setb(out, cf_pol_entity_in(ent, a->u.e, b->u.e));
		return EV_OK;
	}
	if (b->kind != PV_SET)
		return type_err(cx, "set of entities or entity", b);
	rc = charge(cx, b->u.set->n);
	if (rc != EV_OK)
		return rc;
	for (i = 0; i < b->u.set->n; i++)
		if (b->u.set->v[i].kind != PV_ENTITY)
			return type_err(cx, "entity", &b->u.set->v[i]);
	ent = lookup(cx, a->u.e);
	for (i = 0; i < b->u.set->n; i++)
		if (cf_pol_entity_in(ent, a->u.e, b->u.set->v[i].u.e)) {
			setb(out, true);
			return EV_OK;
		}
	setb(out, false);
	return EV_OK;
}

static int
eval_in(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val	a, b;
	int			rc;

	if ((rc = eval(cx, e->a, &a)) != EV_OK ||
	    (rc = eval(cx, e->b, &b)) != EV_OK)
		return rc;
	return in_values(cx, &a, &b, out);
}

/* x is T, and x is T in y: x is T && x in y, with x evaluated once. */
static int
eval_is(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val	a, b;
	bool			is;
	int			rc;

	rc = eval(cx, e->a, &a);
	if (rc != EV_OK)
		return rc;
	if (a.kind != PV_ENTITY)
		return type_err(cx, "entity", &a);
	is = a.u.e->tlen == e->nlen &&
	    memcmp(a.u.e->type, e->name, e->nlen) == 0;
	if (!is || e->op == X_IS) {
		setb(out, is);
		return EV_OK;
	}
	rc = eval(cx, e->b, &b);
	if (rc != EV_OK)
		return rc;
	return in_values(cx, &a, &b, out);
}

/* x has k0.k1...: x has k0 && x.k0 has k1 && ..., with x evaluated once.
 * As there: a missing entity has nothing, anything but an entity or a
 * record is a type error. */
static int
eval_has(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val		 v;
	const struct cf_pol_rec		*rec;
	const struct cf_pol_val		*f;
	const struct cf_pol_entity	*ent;
	size_t				 i;
	int				 rc;

	rc = eval(cx, e->a, &v);
	if (rc == EV_OK)
		rc = charge(cx, e->nkeys - 1);
	if (rc != EV_OK)
		return rc;
	for (i = 0; i < e->nkeys; i++) {
		if (v.kind == PV_ENTITY) {
			ent = lookup(cx, v.u.e);
			if (ent == NULL) {
				setb(out, false);
				return EV_OK;
			}
			rec = ent->attrs;
		} else if (v.kind == PV_RECORD)
			rec = v.u.rec;
		else
			return type_err(cx, "entity or record", &v);
		f = rec != NULL ? cf_pol_rec_get(rec, e->keys[i],
		    e->klens[i]) : NULL;
		if (f == NULL) {
			setb(out, false);
			return EV_OK;
		}
		v = *f;
	}
	setb(out, true);
	return EV_OK;
}

static int
eval_attr(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val		 a;
	const struct cf_pol_rec		*rec;
	const struct cf_pol_val		*v;
	const struct cf_pol_entity	*ent;
	int				 rc;

	if ((rc = eval(cx, e->a, &a)) != EV_OK)
		return rc;
	if (a.kind == PV_ENTITY) {
		ent = lookup(cx, a.u.e);
		if (ent == NULL)
			return no_entity(cx, a.u.e);
		rec = ent->attrs;
	} else if (a.kind == PV_RECORD)
		rec = a.u.rec;
	else
		return type_err(cx, "entity or record", &a);
	v = rec != NULL ? cf_pol_rec_get(rec, e->name, e->nlen) : NULL;
	if (v == NULL) {
		char	k[64];

		cf_pol_escape(e->name, e->nlen, k, sizeof(k));
		return fail(cx, "%s does not have the attribute `%s`",
		    a.kind == PV_ENTITY ? "entity" : "record", k);
	}
	*out = *v;
	return EV_OK;
}

static int
eval_tag(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out,
    bool has)
{
	struct cf_pol_val		 a, b;
	const struct cf_pol_val		*v;
	const struct cf_pol_entity	*ent;
	int				 rc;

	if ((rc = eval(cx, e->a, &a)) != EV_OK ||
	    (rc = eval(cx, e->b, &b)) != EV_OK)
		return rc;
	if (a.kind != PV_ENTITY)
		return type_err(cx, "entity", &a);
	if (b.kind != PV_STR)
		return type_err(cx, "string", &b);
	ent = lookup(cx, a.u.e);
	if (ent == NULL) {
		if (has) {
			setb(out, false);
			return EV_OK;
		}
		return no_entity(cx, a.u.e);
	}
	v = ent->tags != NULL ? cf_pol_rec_get(ent->tags, b.u.s.p, b.u.s.n) :
	    NULL;
	if (has) {
		setb(out, v != NULL);
		return EV_OK;
	}
	if (v == NULL) {
		char	k[64];

		cf_pol_escape(b.u.s.p, b.u.s.n, k, sizeof(k));
		return fail(cx, "entity does not have the tag `%s`", k);
	}
	*out = *v;
	return EV_OK;
}

static int
eval_setop(struct ectx *cx, const struct cf_pol_expr *e,
    struct cf_pol_val *out)
{
	struct cf_pol_val	a, b;
	size_t			i;
	int			rc;
	bool			r = false;	/* gcc cannot see that
						 * set_contains sets it */

	if ((rc = eval(cx, e->a, &a)) != EV_OK)
		return rc;
	if (e->op == X_IS_EMPTY) {
		if (a.kind != PV_SET)
			return type_err(cx, "set", &a);
		setb(out, a.u.set->n == 0);
		return EV_OK;
	}
	if ((rc = eval(cx, e->b, &b)) != EV_OK)
		return rc;
	if (a.kind != PV_SET)
		return type_err(cx, "set", &a);
	if (e->op == X_CONTAINS) {
		rc = set_contains(cx, a.u.set, &b, &r);
		if (rc != EV_OK)
			return rc;
		setb(out, r);
		return EV_OK;
	}
	if (b.kind != PV_SET)
		return type_err(cx, "set", &b);
	/* containsAll: stop at the first miss; containsAny: at a hit. */
	r = e->op == X_CONTAINS_ALL;
	for (i = 0; i < b.u.set->n && r == (e->op == X_CONTAINS_ALL); i++) {
		rc = set_contains(cx, a.u.set, &b.u.set->v[i], &r);
		if (rc != EV_OK)
			return rc;
	}
	setb(out, r);
	return EV_OK;
}

static int
want_kind(struct ectx *cx, const struct cf_pol_val *v, int kind)
{
	if (v->kind == kind)
		return EV_OK;
	if (v->kind == PV_STR)
		return fail(cx, "type error: expected %s, got string (maybe "
		    "you forgot to apply the `%s` constructor?)",
		    cf_pol_kind_name(kind), kind == PV_IP ? "ip" :
		    cf_pol_kind_name(kind));
	return type_err(cx, cf_pol_kind_name(kind), v);
}

static bool
ip_in_range(const struct cf_pol_val *a, const struct cf_pol_val *b)
{
	uint8_t	an[16], ab[16], bn[16], bb[16];
	int	bits = a->ipv6 ? 128 : 32, i, k;
	size_t	nbytes = (size_t)bits / 8;

	if (a->ipv6 != b->ipv6)
		return false;
	for (i = 0; i < (int)nbytes; i++) {
		uint8_t	am, bm;

		k = a->prefix - i * 8;
		am = k >= 8 ? 0xff : k <= 0 ? 0 : (uint8_t)(0xff << (8 - k));
		k = b->prefix - i * 8;
		bm = k >= 8 ? 0xff : k <= 0 ? 0 : (uint8_t)(0xff << (8 - k));
		an[i] = a->u.ip[i] & am;
		ab[i] = a->u.ip[i] | (uint8_t)~am;
		bn[i] = b->u.ip[i] & bm;
		bb[i] = b->u.ip[i] | (uint8_t)~bm;
	}
	/* other_network <= self_network && self_broadcast <= other_bcast */
	return memcmp(bn, an, nbytes) <= 0 && memcmp(ab, bb, nbytes) <= 0;
}

int
cf_policy_ip_in_range(const char *addr, const char *range)
{
	struct cf_pol_val	a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (addr == NULL || range == NULL ||
	    cf_pol_parse_ip(addr, strlen(addr), &a) != 0 ||
	    cf_pol_parse_ip(range, strlen(range), &b) != 0)
		return -1;
	return ip_in_range(&a, &b) ? 1 : 0;
}

int
cf_pol_ext_arity(int fn)
{
	switch (fn) {
	case FN_IS_IN_RANGE: case FN_LESS_THAN: case FN_LESS_THAN_OR_EQUAL:
	case FN_GREATER_THAN: case FN_GREATER_THAN_OR_EQUAL: case FN_OFFSET:
	case FN_DURATION_SINCE:
		return 2;
	default:
		return 1;
	}
}

/* Apply extension function fn to args (arity already checked). */
static int
ext_apply(struct ectx *cx, int fn, const struct cf_pol_val *args,
    struct cf_pol_val *out)
{
	int		rc, r = 0;
	int64_t		t;
	const char	*name = "";

	switch (fn) {
	case FN_IP:
	case FN_DECIMAL:
	case FN_DATETIME:
	case FN_DURATION:
		if (args[0].kind != PV_STR)
			return type_err(cx, "string", &args[0]);
		memset(out, 0, sizeof(*out));
		if (fn == FN_IP) {
			r = cf_pol_parse_ip(args[0].u.s.p, args[0].u.s.n, out);
			name = "IP address";
		} else if (fn == FN_DECIMAL) {
			out->kind = PV_DECIMAL;
			r = cf_pol_parse_decimal(args[0].u.s.p, args[0].u.s.n,
			    &out->u.i);
			name = "decimal";
		} else if (fn == FN_DATETIME) {
			out->kind = PV_DATETIME;
			r = cf_pol_parse_datetime(args[0].u.s.p,
			    args[0].u.s.n, &out->u.i);
			name = "datetime";
		} else {
			out->kind = PV_DURATION;
			r = cf_pol_parse_duration(args[0].u.s.p,
			    args[0].u.s.n, &out->u.i);
			name = "duration";
		}
		if (r != 0)
			return fail(cx, "invalid %s", name);
		return EV_OK;
	case FN_IS_IPV4:
	case FN_IS_IPV6:
	case FN_IS_LOOPBACK:
	case FN_IS_MULTICAST:
		if ((rc = want_kind(cx, &args[0], PV_IP)) != EV_OK)
			return rc;
		if (fn == FN_IS_IPV4)
			setb(out, !args[0].ipv6);
		else if (fn == FN_IS_IPV6)
			setb(out, args[0].ipv6);
		else if (fn == FN_IS_LOOPBACK) {
			static const uint8_t	one[16] = { [15] = 1 };

			if (args[0].ipv6)
				setb(out, memcmp(args[0].u.ip, one, 16) == 0 &&
				    args[0].prefix >= 128);
			else
				setb(out, args[0].u.ip[0] == 127 &&
				    args[0].prefix >= 8);
		} else {
			if (args[0].ipv6)
				setb(out, args[0].u.ip[0] == 0xff &&
				    args[0].prefix >= 8);
			else
				setb(out, (args[0].u.ip[0] & 0xf0) == 0xe0 &&
				    args[0].prefix >= 4);
		}
		return EV_OK;
	case FN_IS_IN_RANGE:
		if ((rc = want_kind(cx, &args[0], PV_IP)) != EV_OK ||
		    (rc = want_kind(cx, &args[1], PV_IP)) != EV_OK)
			return rc;
		setb(out, ip_in_range(&args[0], &args[1]));
		return EV_OK;
	case FN_LESS_THAN:
	case FN_LESS_THAN_OR_EQUAL:
	case FN_GREATER_THAN:
	case FN_GREATER_THAN_OR_EQUAL:
		if ((rc = want_kind(cx, &args[0], PV_DECIMAL)) != EV_OK ||
		    (rc = want_kind(cx, &args[1], PV_DECIMAL)) != EV_OK)
			return rc;
		t = args[0].u.i;
		setb(out, fn == FN_LESS_THAN ? t < args[1].u.i :
		    fn == FN_LESS_THAN_OR_EQUAL ? t <= args[1].u.i :
		    fn == FN_GREATER_THAN ? t > args[1].u.i :
		    t >= args[1].u.i);
		return EV_OK;
	case FN_OFFSET:
		if ((rc = want_kind(cx, &args[0], PV_DATETIME)) != EV_OK ||
		    (rc = want_kind(cx, &args[1], PV_DURATION)) != EV_OK)
			return rc;
		if (__builtin_add_overflow(args[0].u.i, args[1].u.i, &t))
			return fail(cx, "overflow when adding an offset");
		setl(out, PV_DATETIME, t);
		return EV_OK;
	case FN_DURATION_SINCE:
		if ((rc = want_kind(cx, &args[0], PV_DATETIME)) != EV_OK ||
		    (rc = want_kind(cx, &args[1], PV_DATETIME)) != EV_OK)
			return rc;
		if (__builtin_sub_overflow(args[0].u.i, args[1].u.i, &t))
			return fail(cx, "overflow when computing a duration");
		setl(out, PV_DURATION, t);
		return EV_OK;
	case FN_TO_DATE:
		if ((rc = want_kind(cx, &args[0], PV_DATETIME)) != EV_OK)
			return rc;
		t = args[0].u.i;
		if (t < 0 && t % DAY_MS != 0) {
			if (__builtin_mul_overflow(t / DAY_MS - 1, DAY_MS, &t))
				return fail(cx, "overflow when computing the "
				    "date");
		} else
			t = (t / DAY_MS) * DAY_MS;
		setl(out, PV_DATETIME, t);
		return EV_OK;
	case FN_TO_TIME:
		if ((rc = want_kind(cx, &args[0], PV_DATETIME)) != EV_OK)
			return rc;
		t = args[0].u.i % DAY_MS;
		if (t < 0)
			t += DAY_MS;
		setl(out, PV_DURATION, t);
		return EV_OK;
	default:
		if ((rc = want_kind(cx, &args[0], PV_DURATION)) != EV_OK)
			return rc;
		t = args[0].u.i;
		switch (fn) {
		case FN_TO_DAYS:
			t = t / 1000 / 60 / 60 / 24;
			break;
		case FN_TO_HOURS:
			t = t / 1000 / 60 / 60;
			break;
		case FN_TO_MINUTES:
			t = t / 1000 / 60;
			break;
		case FN_TO_SECONDS:
			t = t / 1000;
			break;
		default:
			break;
		}
		setl(out, PV_LONG, t);
		return EV_OK;
	}
}


static int
eval_ext(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val	args[2], tmp;
	size_t			want, i;
	int			rc;

	want = (size_t)cf_pol_ext_arity(e->fn);
	for (i = 0; i < e->nargs; i++) {
		rc = eval(cx, e->args[i], i < 2 ? &args[i] : &tmp);
		if (rc != EV_OK)
			return rc;
	}
	if (e->nargs != want)
		return fail(cx, "wrong number of arguments provided to "
		    "extension function: expected %zu, got %zu", want,
		    e->nargs);
	return ext_apply(cx, e->fn, args, out);
}

int
cf_pol_ext_call(struct cf_pol_arena *a, int fn, const struct cf_pol_val *args,
    size_t nargs, struct cf_pol_val *out, const char **msg)
{
	struct ectx	cx;
	int		r;

	memset(&cx, 0, sizeof(cx));
	cx.ar = a;
	if (nargs != (size_t)cf_pol_ext_arity(fn)) {
		*msg = "wrong number of arguments";
		return -1;
	}
	r = ext_apply(&cx, fn, args, out);
	if (r == EV_OK)
		return 0;
	*msg = r == EV_NOMEM ? "out of memory" : cx.msg;
	return r == EV_NOMEM ? -2 : -1;
}

/* e's own step and its operation (eval without the memo). */
static int
eval_op(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	struct cf_pol_val	 a;
	struct cf_pol_set	*set;
	struct cf_pol_rec	*rec;
	const struct cf_pol_uid	*u;
	size_t			 i;
	int			 rc;
	bool			 b = false;	/* gcc -O2 cannot see eval_bool
						 * sets it */

	cx->budget--;
	switch (e->op) {
	case X_LIT:
		*out = e->lit;
		return EV_OK;
	case X_ERROR:
		cx->msg = e->msg;
		return EV_ERR;
	case X_VAR:
		if (e->var == 3) {
			*out = cx->req->context;
			return EV_OK;
		}
		u = e->var == 0 ? cx->req->principal : e->var == 1 ?
		    cx->req->action : cx->req->resource;
		out->kind = PV_ENTITY;
		out->u.e = u;
		return EV_OK;
	case X_NOT:
		if ((rc = eval_bool(cx, e->a, &b)) != EV_OK)
			return rc;
		setb(out, !b);
		return EV_OK;
	case X_NEG:
		if ((rc = eval(cx, e->a, &a)) != EV_OK)
			return rc;
		if (a.kind != PV_LONG)
			return type_err(cx, "long", &a);
		if (a.u.i == INT64_MIN)
			return fail(cx, "integer overflow while attempting to "
			    "negate the value `%lld`", (long long)a.u.i);
		setl(out, PV_LONG, -a.u.i);
		return EV_OK;
	case X_AND:
	case X_OR:
		if ((rc = eval_bool(cx, e->a, &b)) != EV_OK)
			return rc;
		if (b == (e->op == X_OR)) {
			setb(out, b);
			return EV_OK;
		}
		if ((rc = eval_bool(cx, e->b, &b)) != EV_OK)
			return rc;
		setb(out, b);
		return EV_OK;
	case X_IF:
		if ((rc = eval_bool(cx, e->a, &b)) != EV_OK)
			return rc;
		return eval(cx, b ? e->b : e->c, out);
	case X_EQ:
	case X_NE:
		if ((rc = eval(cx, e->a, &a)) != EV_OK ||
		    (rc = eval(cx, e->b, out)) != EV_OK ||
		    (rc = values_eq(cx, &a, out, &b)) != EV_OK)
			return rc;
		setb(out, e->op == X_EQ ? b : !b);
		return EV_OK;
	case X_LT:
	case X_LE:
	case X_GT:
	case X_GE:
		return compare(cx, e, out);
	case X_ADD:
	case X_SUB:
	case X_MUL:
		return arith(cx, e, out);
	case X_IN:
		return eval_in(cx, e, out);
	case X_HAS:
		return eval_has(cx, e, out);
	case X_ATTR:
		return eval_attr(cx, e, out);
	case X_LIKE:
		if ((rc = eval(cx, e->a, &a)) != EV_OK)
			return rc;
		if (a.kind != PV_STR)
			return type_err(cx, "string", &a);
		rc = charge(cx, a.u.s.n / 64);
		if (rc != EV_OK)
			return rc;
		setb(out, like_match(e->pat, a.u.s.p, a.u.s.n));
		return EV_OK;
	case X_IS:
	case X_IS_IN:
		return eval_is(cx, e, out);
	case X_SET:
		set = cf_pol_arena_alloc(cx->ar, sizeof(*set) +
		    e->nargs * sizeof(set->v[0]));
		if (set == NULL)
			return EV_NOMEM;
		for (i = 0; i < e->nargs; i++)
			if ((rc = eval(cx, e->args[i], &set->v[i])) != EV_OK)
				return rc;
		set->n = e->nargs;
		out->kind = PV_SET;
		out->u.set = set;
		return EV_OK;
	case X_RECORD:
		rec = cf_pol_arena_alloc(cx->ar, sizeof(*rec) +
		    e->nargs * sizeof(rec->f[0]));
		if (rec == NULL)
			return EV_NOMEM;
		for (i = 0; i < e->nargs; i++) {
			rec->f[i].k = e->keys[i];
			rec->f[i].kn = e->klens[i];
			if ((rc = eval(cx, e->args[i], &rec->f[i].v)) != EV_OK)
				return rc;
		}
		rec->n = e->nargs;
		out->kind = PV_RECORD;
		out->u.rec = rec;
		return EV_OK;
	case X_CONTAINS:
	case X_CONTAINS_ALL:
	case X_CONTAINS_ANY:
	case X_IS_EMPTY:
		return eval_setop(cx, e, out);
	case X_HAS_TAG:
		return eval_tag(cx, e, out, true);
	case X_GET_TAG:
		return eval_tag(cx, e, out, false);
	case X_EXT:
		return eval_ext(cx, e, out);
	default:
		return fail(cx, "internal error: unknown expression");
	}
}

/*
 * Shared subexpressions.  Policies written from one pattern share
 * conditions: twenty-five permits that all begin `resource has env &&
 * resource.env == "dev" && resource.sensitivity <= 1 && principal.kind
 * == "service" && ...` evaluate that operand alike in a decision, since
 * an expression's value is a function of its structure, the request
 * and the entities alone (no node is evaluated for its identity: slots
 * live in scopes only, and literals are compared by value).  So a
 * decision keeps the outcome of each marked subexpression (an operand
 * of `&&` or `||` of at least MEMO_MIN_NODES nodes) and answers a
 * structurally equal one, in any policy of any part, from it:
 *
 * - each marked node's structure is written out when its set is
 *   parsed (operators, names, keys, patterns, literals by
 *   representation, error messages, children; never line or col); a
 *   hit needs the same bytes, not only the same hash
 *   (cf_pol_expr_same), so a hash collision costs a comparison, never
 *   a wrong value;
 * - an error is kept with its message, and a hit reports it alike;
 * - a hit is charged the steps the first evaluation took; when the
 *   budget left does not cover them, the expression is evaluated again
 *   instead, so that the steps of a decision, and where the budget runs
 *   out, are what they were without the memo;
 * - nothing is kept from an evaluation that ran out of memory or of
 *   steps, and the memo is emptied by every decision (a generation
 *   number; the table belongs to the response, one thread's).
 */
bool	cf_pol_memo_off;
bool	cf_pol_filter_off;

#define MEMO_MIN_NODES	4
#define MEMO_SLOTS	256	/* a power of two; full: not kept */

struct cf_pol_memo_ent {
	uint32_t			 gen;	/* != memo's: empty */
	int				 rc;	/* EV_OK, EV_ERR */
	const struct cf_pol_expr	*e;
	struct cf_pol_val		 v;
	const char			*msg;
	uint64_t			 steps;
};

struct cf_pol_memo {
	uint32_t		gen;
	uint64_t		hits;	/* for tests */
	struct cf_pol_memo_ent	ent[MEMO_SLOTS];
};

uint64_t
cf_pol_memo_hits(const struct cf_response *resp)
{
	return resp->memo != NULL ? resp->memo->hits : 0;
}

/* An expression's structure written out, for the memo's exact
 * comparison: every field but line and col, lengths before bytes, a
 * marker for an absent child, so that two trees write the same bytes
 * only when they are the same.  A literal set or record (never made by
 * the parser, but not comparable by bytes) or more than MEMO_SER_MAX
 * bytes: not written (ok false), and the node is not memoized. */
#define MEMO_SER_MAX	512

struct ser {
	unsigned char	*p;
	size_t		 n;
	bool		 ok;
};

static void
ser_put(struct ser *s, const void *d, size_t n)
{
	if (!s->ok || MEMO_SER_MAX - s->n < n) {
		s->ok = false;
		return;
	}
	if (n > 0)
		memcpy(s->p + s->n, d, n);
	s->n += n;
}

static void
ser_u64(struct ser *s, uint64_t v)
{
	ser_put(s, &v, sizeof(v));
}

static void
ser_bytes(struct ser *s, const char *p, size_t n)
{
	ser_u64(s, n);
	ser_put(s, p, n);
}

static void
ser_lit(struct ser *s, const struct cf_pol_val *v)
{
	ser_u64(s, v->kind);
	switch (v->kind) {
	case PV_BOOL:
		ser_u64(s, v->u.b);
		break;
	case PV_LONG:
	case PV_DECIMAL:
	case PV_DATETIME:
	case PV_DURATION:
		ser_u64(s, (uint64_t)v->u.i);
		break;
	case PV_STR:
		ser_bytes(s, v->u.s.p, v->u.s.n);
		break;
	case PV_ENTITY:
		ser_bytes(s, v->u.e->type, v->u.e->tlen);
		ser_bytes(s, v->u.e->id, v->u.e->ilen);
		break;
	case PV_IP:
		ser_u64(s, (uint64_t)v->ipv6 << 8 | v->prefix);
		ser_put(s, v->u.ip, 16);
		break;
	default:
		s->ok = false;
		break;
	}
}

static void
ser_expr(struct ser *s, const struct cf_pol_expr *e)
{
	size_t	i;

	if (!s->ok)
		return;
	if (e == NULL) {
		ser_u64(s, UINT64_MAX);
		return;
	}
	ser_u64(s, (uint64_t)e->op | (uint64_t)e->var << 8 |
	    (uint64_t)e->fn << 16 | (uint64_t)(e->name != NULL) << 24 |
	    (uint64_t)(e->pat != NULL) << 25 |
	    (uint64_t)(e->msg != NULL) << 26);
	ser_u64(s, e->nargs);
	ser_u64(s, e->nkeys);
	if (e->name != NULL)
		ser_bytes(s, e->name, e->nlen);
	for (i = 0; i < e->nkeys; i++)
		ser_bytes(s, e->keys[i], e->klens[i]);
	if (e->pat != NULL) {
		ser_u64(s, e->pat->n);
		for (i = 0; i < e->pat->n; i++) {
			ser_u64(s, e->pat->el[i].star);
			if (!e->pat->el[i].star)
				ser_bytes(s, e->pat->el[i].p,
				    e->pat->el[i].len);
		}
	}
	if (e->op == X_LIT)
		ser_lit(s, &e->lit);
	if (e->msg != NULL)
		ser_bytes(s, e->msg, strlen(e->msg));
	ser_expr(s, e->a);
	ser_expr(s, e->b);
	ser_expr(s, e->c);
	for (i = 0; i < e->nargs; i++)
		ser_expr(s, e->args[i]);
}

static uint64_t
ser_hash(const unsigned char *p, size_t n)
{
	uint64_t	h = 0x51ed270b27a8a1c5ULL ^ n, w;
	size_t		i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	w = 0;
	if (i < n)
		memcpy(&w, p + i, n - i);
	/* splitmix64's finalizer: every byte reaches the low bits that
	 * pick the slot. */
	h ^= w;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static bool
ser_eq(const void *x, const void *y)
{
	return cf_pol_expr_same(x, y);
}

/* Memoize e when it is large enough and can be written out.  seen
 * (nullable): the set's operands written out so far; an equal one's
 * bytes are shared, so that a memo hit within a set is a pointer
 * comparison, and the set keeps one copy. */
static void
memo_try(struct cf_pol_arena *a, struct cf_pol_hset *seen,
    struct cf_pol_expr *e, unsigned char *buf)
{
	struct ser		 s = { buf, 0, true };
	const struct cf_pol_expr *x = NULL;
	const unsigned char	*bytes;
	unsigned char		*p;
	uint64_t		 h;
	bool			 added;

	ser_expr(&s, e);
	if (!s.ok)
		return;
	h = ser_hash(buf, s.n);
	if (seen != NULL) {
		e->ser = buf;		/* the key, for the comparison */
		e->slen = (uint32_t)s.n;
		x = cf_pol_hset_get(seen, h, e, ser_eq);
		e->ser = NULL;
		e->slen = 0;
	}
	if (x != NULL)
		bytes = x->ser;
	else {
		p = cf_pol_arena_alloc(a, s.n);
		if (p == NULL)
			return;	/* not memoized: the same decisions */
		memcpy(p, buf, s.n);
		bytes = p;
	}
	e->ser = bytes;
	e->slen = (uint32_t)s.n;
	e->shash = h;
	e->memo = true;
	/* Out of memory: not shared, the same decisions. */
	if (seen != NULL && x == NULL)
		(void)cf_pol_hset_add(seen, h, e, ser_eq, &added);
}

/* e's nodes (at most UINT32_MAX), marking as it goes. */
static uint32_t
memo_walk(struct cf_pol_arena *a, struct cf_pol_hset *seen,
    struct cf_pol_expr *e, unsigned char *buf)
{
	struct cf_pol_expr	*kid[3];
	uint32_t		 size = 1, ks[3] = { 0, 0, 0 }, n;
	size_t			 i, k;

	kid[0] = (struct cf_pol_expr *)(uintptr_t)e->a;
	kid[1] = (struct cf_pol_expr *)(uintptr_t)e->b;
	kid[2] = (struct cf_pol_expr *)(uintptr_t)e->c;
	for (k = 0; k < 3; k++)
		if (kid[k] != NULL) {
			ks[k] = memo_walk(a, seen, kid[k], buf);
			size = size > UINT32_MAX - ks[k] ? UINT32_MAX :
			    size + ks[k];
		}
	for (i = 0; i < e->nargs; i++) {
		n = memo_walk(a, seen,
		    (struct cf_pol_expr *)(uintptr_t)e->args[i], buf);
		size = size > UINT32_MAX - n ? UINT32_MAX : size + n;
	}
	if (e->op == X_AND || e->op == X_OR)
		for (k = 0; k < 2; k++)
			if (ks[k] >= MEMO_MIN_NODES)
				memo_try(a, seen, kid[k], buf);
	return size;
}

void
cf_pol_expr_memo_mark(struct cf_pol_arena *a, struct cf_pol_hset *seen,
    struct cf_pol_expr *e)
{
	unsigned char	buf[MEMO_SER_MAX];

	if (e != NULL)
		(void)memo_walk(a, seen, e, buf);
}

bool
cf_pol_expr_same(const struct cf_pol_expr *x, const struct cf_pol_expr *y)
{
	if (x == y)
		return true;
	if (x->ser == NULL || y->ser == NULL || x->slen != y->slen)
		return false;
	/* Shared bytes (one set's equal operands): equal without reading
	 * them, which a decision's memo hits did, 512 bytes at most each. */
	return x->ser == y->ser || memcmp(x->ser, y->ser, x->slen) == 0;
}

/* eval_op of a marked e, answered from the decision's memo when a
 * structurally equal expression was evaluated before in it. */
static int
eval_memo(struct ectx *cx, const struct cf_pol_expr *e,
    struct cf_pol_val *out)
{
	struct cf_pol_memo	*m = cx->memo;
	struct cf_pol_memo_ent	*ent, *free_ent = NULL;
	size_t			 i, probes;
	uint64_t		 before;
	int			 rc;

	for (i = e->shash & (MEMO_SLOTS - 1), probes = 0;
	    probes < MEMO_SLOTS; i = (i + 1) & (MEMO_SLOTS - 1), probes++) {
		ent = &m->ent[i];
		if (ent->gen != m->gen) {
			free_ent = ent;
			break;
		}
		if (ent->e->shash != e->shash || !cf_pol_expr_same(ent->e, e))
			continue;
		/* Charged as the first evaluation was; when the budget
		 * cannot pay that, evaluated again (and failed where it
		 * fails). */
		if (ent->steps > cx->budget)
			return eval_op(cx, e, out);
		cx->budget -= ent->steps;
		m->hits++;
		if (ent->rc == EV_ERR) {
			cx->msg = ent->msg;
			return EV_ERR;
		}
		*out = ent->v;
		return EV_OK;
	}
	before = cx->budget;
	rc = eval_op(cx, e, out);
	if (free_ent == NULL || cx->spent || (rc != EV_OK && rc != EV_ERR))
		return rc;
	free_ent->gen = m->gen;
	free_ent->rc = rc;
	free_ent->e = e;
	if (rc == EV_OK)
		free_ent->v = *out;
	free_ent->msg = rc == EV_ERR ? cx->msg : NULL;
	free_ent->steps = before - cx->budget;
	return rc;
}

static int
eval(struct ectx *cx, const struct cf_pol_expr *e, struct cf_pol_val *out)
{
	if (cx->budget == 0)
		return over_budget(cx);
	if (e->memo && cx->memo != NULL && !cf_pol_memo_off)
		return eval_memo(cx, e, out);
	return eval_op(cx, e, out);
}

/*
 * Policies.
 */
static bool
scope_match(const struct cf_pol_scope *sc, const struct cf_pol_uid *u,
    const struct cf_pol_entity *ent)
{
	size_t	i;

	switch (sc->op) {
	case SC_ANY:
		return true;
	case SC_EQ:
		return cf_pol_uid_eq(u, sc->uid);
	case SC_IN:
		return cf_pol_entity_in(ent, u, sc->uid);
	case SC_IS:
		return u->tlen == sc->tlen &&
		    memcmp(u->type, sc->type, sc->tlen) == 0;
	case SC_IS_IN:
		return u->tlen == sc->tlen &&
		    memcmp(u->type, sc->type, sc->tlen) == 0 &&
		    cf_pol_entity_in(ent, u, sc->uid);
	case SC_IN_LIST:
		for (i = 0; i < sc->nlist; i++)
			if (cf_pol_entity_in(ent, u, sc->list[i]))
				return true;
		return false;
	default:
		return false;
	}
}

/* scope_match for src/policy/inspect.c. */
bool
cf_pol_scope_match(const struct cf_pol_scope *sc, const struct cf_pol_uid *u,
    const struct cf_pol_entity *ent)
{
	return scope_match(sc, u, ent);
}

struct rctx {
	struct ectx			 cx;
	const struct cf_pol_entity	*pent, *aent, *rent;
	const char			**permits;
	size_t				 npermits, cappermits;
	const char			*prefix;	/* of ids; NULL */
	bool				 strict;	/* errored forbids
							 * apply */
	/* The request's principal, action and resource as the candidates'
	 * filters read them: the uid's hash, the bloom bits of the uid and
	 * its ancestors, the type's length. */
	uint64_t			 uh[3], bits[3];
	uint64_t			 tlen[3];
};

/* Can the policy of candidate c match the request (struct cf_pol_cand)?
 * false only where scope_match is false for one of its scopes. */
static inline bool
cand_may_match(const struct rctx *rc, const struct cf_pol_cand *c)
{
	int	k;

	if (cf_pol_filter_off)
		return true;
	for (k = 0; k < 3; k++) {
		switch (c->filt[k]) {
		case PF_HASH:
			if (c->key[k] != rc->uh[k])
				return false;
			break;
		case PF_BITS:
			if ((c->key[k] & rc->bits[k]) == 0)
				return false;
			break;
		case PF_TLEN:
			if (c->key[k] != rc->tlen[k])
				return false;
			break;
		default:
			break;
		}
	}
	return true;
}

/* Every cache line of pol's struct (what scope_match and eval_policy
 * read first). */
static inline void
prefetch_policy(const struct cf_pol_policy *pol)
{
	const char	*p = (const char *)pol;

	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
	__builtin_prefetch(p + sizeof(*pol) - 1);
}

static void
cand_request(struct rctx *rc, int k, const struct cf_pol_uid *u,
    const struct cf_pol_entity *ent)
{
	uint64_t	bits = CF_POL_BIT(u->hash);
	size_t		i;

	if (ent != NULL)
		for (i = 0; i < ent->nanc; i++)
			bits |= CF_POL_BIT(ent->anc_hash[i]);
	rc->uh[k] = u->hash;
	rc->bits[k] = bits;
	rc->tlen[k] = u->tlen;
}

/* The id a response gives pol: the part's prefix, then the policy's id
 * (copied into the response's arena only when there is a prefix). */
static const char *
pol_id(struct rctx *rc, struct cf_response *resp,
    const struct cf_pol_policy *pol)
{
	size_t	 pl, il;
	char	*s;

	if (rc->prefix == NULL || rc->prefix[0] == '\0')
		return pol->id;
	pl = strlen(rc->prefix);
	il = strlen(pol->id);
	s = cf_pol_arena_alloc(&resp->ar, pl + il + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, rc->prefix, pl);
	memcpy(s + pl, pol->id, il + 1);
	return s;
}

static int
push(struct cf_pol_arena *ar, const char ***v, size_t *n, size_t *cap,
    const char *s)
{
	const char	**nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		nv = cf_pol_arena_alloc(ar, *cap * sizeof(*nv));
		if (nv == NULL)
			return EV_NOMEM;
		if (*n > 0)
			memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
	}
	(*v)[(*n)++] = s;
	return EV_OK;
}

static int
eval_policy(struct rctx *rc, struct cf_response *resp,
    const struct cf_pol_policy *pol)
{
	size_t		i;
	bool		b = false;	/* as above */
	const char	*id;
	int		r;

	if (!scope_match(&pol->p, rc->cx.req->principal, rc->pent) ||
	    !scope_match(&pol->a, rc->cx.req->action, rc->aent) ||
	    !scope_match(&pol->r, rc->cx.req->resource, rc->rent))
		return EV_OK;
	for (i = 0; i < pol->nconds; i++) {
		r = eval_bool(&rc->cx, pol->conds[i].e, &b);
		if (r == EV_NOMEM)
			return r;
		if (r == EV_ERR) {
			struct cf_pol_err	*ne;

			if (resp->nerrors == resp->caperrors) {
				resp->caperrors = resp->caperrors ?
				    resp->caperrors * 2 : 8;
				ne = cf_pol_arena_alloc(&resp->ar,
				    resp->caperrors * sizeof(*ne));
				if (ne == NULL)
					return EV_NOMEM;
				if (resp->nerrors > 0)
					memcpy(ne, resp->errors,
					    resp->nerrors * sizeof(*ne));
				resp->errors = ne;
			}
			if ((id = pol_id(rc, resp, pol)) == NULL)
				return EV_NOMEM;
			resp->errors[resp->nerrors].id = id;
			resp->errors[resp->nerrors++].msg = rc->cx.msg;
			/* SEC: running out of steps is not Cedar semantics
			 * but a limit of ours, which large entity data can
			 * reach; a forbid that cannot be evaluated within it
			 * is taken to apply, so the limit fails closed. */
			if (pol->forbid && (rc->cx.spent || rc->strict))
				return push(&resp->ar, &resp->forbids,
				    &resp->nforbids, &resp->capforbids, id);
			return EV_OK;
		}
		if (b == pol->conds[i].unless)
			return EV_OK;
	}
	if ((id = pol_id(rc, resp, pol)) == NULL)
		return EV_NOMEM;
	if (pol->forbid)
		return push(&resp->ar, &resp->forbids, &resp->nforbids,
		    &resp->capforbids, id);
	return push(&resp->ar, &rc->permits, &rc->npermits, &rc->cappermits,
	    id);
}

/* The policies of candidates c[0..n) of ps (its scan list, an index
 * bucket), in order.  The structs of those that pass their filters are
 * asked for (prefetched) before any is read, a chunk at a time: their
 * misses overlap instead of coming one policy at a time (a decision
 * right after an authentication finds none of them cached). */
#define CANDS_CHUNK	32

static int
eval_cands(struct rctx *rc, struct cf_response *resp,
    const struct cf_policy_set *ps, const struct cf_pol_cand *c, size_t n)
{
	const struct cf_pol_policy	*hit[CANDS_CHUNK];
	size_t				 i = 0, j, nh;
	int				 r;

	while (i < n) {
		for (nh = 0; i < n && nh < CANDS_CHUNK; i++)
			if (cand_may_match(rc, &c[i])) {
				hit[nh] = ps->pols[c[i].pol];
				prefetch_policy(hit[nh++]);
			}
		for (j = 0; j < nh; j++)
			if ((r = eval_policy(rc, resp, hit[j])) != EV_OK)
				return r;
	}
	return EV_OK;
}

static const struct cf_pol_bucket *
bucket_get(const struct cf_pol_index *ix, const struct cf_pol_uid *key)
{
	size_t	i;

	if (ix->cap == 0)
		return NULL;
	for (i = key->hash & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		if (ix->b[i].key == NULL)
			return NULL;
		if (cf_pol_uid_eq(ix->b[i].key, key))
			return &ix->b[i];
	}
}

static int
eval_bucket(struct rctx *rc, struct cf_response *resp,
    const struct cf_policy_set *ps, const struct cf_pol_bucket *b)
{
	return b != NULL ? eval_cands(rc, resp, ps, b->pol, b->n) : EV_OK;
}

/* Policies indexed under u or any of its ancestors. */
static int
eval_index(struct rctx *rc, struct cf_response *resp,
    const struct cf_policy_set *ps, const struct cf_pol_index *ix,
    const struct cf_pol_uid *u, const struct cf_pol_entity *ent)
{
	size_t	i;
	int	r;

	if (ix->used == 0)
		return EV_OK;
	if ((cf_pol_filter_off || cf_pol_index_may_hold(ix, u->hash)) &&
	    (r = eval_bucket(rc, resp, ps, bucket_get(ix, u))) != EV_OK)
		return r;
	if (ent == NULL)
		return EV_OK;
	/* anc_hash beside anc: the bloom skips most ancestors without
	 * reading their uids. */
	for (i = 0; i < ent->nanc; i++)
		if ((cf_pol_filter_off ||
		    cf_pol_index_may_hold(ix, ent->anc_hash[i])) &&
		    (r = eval_bucket(rc, resp, ps, bucket_get(ix,
		    ent->anc[i]))) != EV_OK)
			return r;
	return EV_OK;
}

cf_err
cf_response_new(struct cf_response **out, struct cf_error *err)
{
	struct cf_response	*r;

	r = cf_calloc(1, sizeof(*r));
	if (r == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&r->ar);
	r->decision = CF_DECISION_DENY;
	*out = r;
	return CF_OK;
}

void
cf_response_free(struct cf_response *resp)
{
	if (resp == NULL)
		return;
	cf_free(resp->memo);
	cf_pol_arena_free(&resp->ar);
	cf_free(resp);
}

/* The uid type::id: same when it is that uid (a link's principal is
 * most often the request's), else a new one in a. */
static const struct cf_pol_uid *
slot_uid(struct cf_pol_arena *a, const char *type, const char *id,
    const struct cf_pol_uid *same)
{
	size_t	tl = strlen(type), il = strlen(id);

	if (same != NULL && same->tlen == tl && same->ilen == il &&
	    memcmp(same->type, type, tl) == 0 &&
	    memcmp(same->id, id, il) == 0)
		return same;
	return cf_pol_uid_new(a, type, tl, id, il);
}

/* Evaluate the template t linked with the given slot values, as if it
 * were a policy of the set. */
static int
eval_link(struct rctx *rc, struct cf_response *resp,
    const struct cf_pol_policy *t, const struct cf_policy_link *l)
{
	struct cf_pol_policy	pol = *t;

	pol.is_template = false;
	pol.id = l->id;
	if (t->p.slot) {
		pol.p.slot = false;
		pol.p.uid = slot_uid(&resp->ar, l->principal_type,
		    l->principal_id, rc->cx.req->principal);
		if (pol.p.uid == NULL)
			return EV_NOMEM;
	}
	if (t->r.slot) {
		pol.r.slot = false;
		pol.r.uid = cf_pol_uid_new(&resp->ar, l->resource_type,
		    strlen(l->resource_type), l->resource_id,
		    strlen(l->resource_id));
		if (pol.r.uid == NULL)
			return EV_NOMEM;
	}
	return eval_policy(rc, resp, &pol);
}

/* The template named id in ps (a short scan: no shared state is
 * touched, so threads may share ps), or NULL. */
static const struct cf_pol_policy *
template_of(const struct cf_policy_set *ps, const char *id)
{
	size_t	i;

	for (i = 0; i < ps->ntmpls; i++)
		if (strcmp(ps->tmpls[i]->id, id) == 0)
			return ps->tmpls[i];
	return NULL;
}

/* The first template named id in the parts, in order, or NULL. */
static const struct cf_pol_policy *
template_in(const struct cf_policy_part *parts, size_t nparts,
    const char *id)
{
	const struct cf_pol_policy	*t;
	size_t				 k;

	for (k = 0; k < nparts; k++)
		if ((t = template_of(parts[k].ps, id)) != NULL)
			return t;
	return NULL;
}

bool
cf_policy_set_has_template(const struct cf_policy_set *ps, const char *id)
{
	return ps != NULL && id != NULL && template_of(ps, id) != NULL;
}

cf_err
cf_policy_authorize(const struct cf_policy_set *ps,
    const struct cf_entities *es, const struct cf_request *req,
    struct cf_response *resp, struct cf_error *err)
{
	struct cf_policy_part	part;

	part.ps = ps;
	part.prefix = NULL;
	part.flags = 0;
	return cf_policy_authorize_parts(&part, ps != NULL ? 1 : 0, NULL, 0,
	    es, req, resp, err);
}

/* The templates of the first links, found once (they are checked before
 * any policy runs, then evaluated; a scan of strcmp each time). */
#define LINKS_KEPT	64

cf_err
cf_policy_authorize_parts(const struct cf_policy_part *parts, size_t nparts,
    const struct cf_policy_link *links, size_t nlinks,
    const struct cf_entities *es, const struct cf_request *req,
    struct cf_response *resp, struct cf_error *err)
{
	const struct cf_pol_policy	*t, *tk[LINKS_KEPT];
	const struct cf_policy_set	*ps;
	struct rctx			 rc;
	size_t				 i, k;
	int				 r = EV_OK;

	if (resp == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL response");
	cf_pol_arena_reset(&resp->ar);
	resp->decision = CF_DECISION_DENY;
	resp->reasons = resp->forbids = NULL;
	resp->nreasons = resp->capreasons = 0;
	resp->nforbids = resp->capforbids = 0;
	resp->errors = NULL;
	resp->nerrors = resp->caperrors = 0;
	resp->steps = 0;
	/* SEC: a request whose rebuild failed holds no uids: refused. */
	if (nparts == 0 || parts == NULL || req == NULL ||
	    req->principal == NULL || req->action == NULL ||
	    req->resource == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL argument");
	for (k = 0; k < nparts; k++)
		if (parts[k].ps == NULL)
			return cf_error_set(err, CF_E_INVAL, "NULL policy set");
	/* SEC: a link to a template that does not exist is a caller's bug:
	 * refused, never skipped (a skipped forbid would allow). */
	for (i = 0; i < nlinks; i++) {
		t = template_in(parts, nparts, links[i].template_id);
		if (i < LINKS_KEPT)
			tk[i] = t;
		if (t == NULL)
			return cf_error_set(err, CF_E_NOTFOUND,
			    "no template \"%s\"", links[i].template_id);
		if (links[i].id == NULL ||
		    t->p.slot != (links[i].principal_type != NULL &&
		    links[i].principal_id != NULL) ||
		    t->r.slot != (links[i].resource_type != NULL &&
		    links[i].resource_id != NULL))
			return cf_error_set(err, CF_E_INPUT, "link %zu does "
			    "not fill the slots of template \"%s\"", i,
			    links[i].template_id);
	}
	memset(&rc, 0, sizeof(rc));
	rc.cx.req = req;
	rc.cx.es = es;
	rc.cx.ar = &resp->ar;
	rc.cx.budget = CF_POLICY_MAX_STEPS;
	/* The memo of shared subexpressions: made once per response,
	 * emptied by a new generation per decision; without memory for
	 * it, decided without (the same decision). */
	if (resp->memo == NULL)
		resp->memo = cf_calloc(1, sizeof(*resp->memo));
	if (resp->memo != NULL && ++resp->memo->gen == 0) {
		memset(resp->memo->ent, 0, sizeof(resp->memo->ent));
		resp->memo->gen = 1;
	}
	rc.cx.memo = resp->memo;
	rc.pent = cf_pol_entity_get(es, req->principal);
	rc.aent = cf_pol_entity_get(es, req->action);
	rc.rent = cf_pol_entity_get(es, req->resource);
	rc.cx.pent = rc.pent;
	rc.cx.aent = rc.aent;
	rc.cx.rent = rc.rent;
	cand_request(&rc, 0, req->principal, rc.pent);
	cand_request(&rc, 1, req->action, rc.aent);
	cand_request(&rc, 2, req->resource, rc.rent);
	for (k = 0; k < nparts && r == EV_OK; k++) {
		ps = parts[k].ps;
		rc.prefix = parts[k].prefix;
		rc.strict = (parts[k].flags & CF_POLICY_STRICT_FORBID) != 0;
		r = eval_cands(&rc, resp, ps, ps->scan, ps->nscan);
		if (r == EV_OK)
			r = eval_index(&rc, resp, ps, &ps->by_principal,
			    req->principal, rc.pent);
		if (r == EV_OK)
			r = eval_index(&rc, resp, ps, &ps->by_resource,
			    req->resource, rc.rent);
	}
	rc.prefix = NULL;
	rc.strict = (parts[0].flags & CF_POLICY_STRICT_FORBID) != 0;
	for (i = 0; i < nlinks && r == EV_OK; i++) {
		t = i < LINKS_KEPT ? tk[i] : template_in(parts, nparts,
		    links[i].template_id);
		r = eval_link(&rc, resp, t, &links[i]);
	}
	resp->steps = CF_POLICY_MAX_STEPS - rc.cx.budget;
	if (r != EV_OK) {
		resp->decision = CF_DECISION_DENY;
		resp->nreasons = 0;
		resp->nerrors = 0;
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	/* SEC: forbid overrides permit; no applicable permit means deny. */
	if (resp->nforbids > 0) {
		resp->decision = CF_DECISION_DENY;
		resp->reasons = resp->forbids;
		resp->nreasons = resp->nforbids;
	} else if (rc.npermits > 0) {
		resp->decision = CF_DECISION_ALLOW;
		resp->reasons = rc.permits;
		resp->nreasons = rc.npermits;
	}
	return CF_OK;
}

enum cf_decision
cf_response_decision(const struct cf_response *resp)
{
	return resp->decision;
}

size_t
cf_response_reason_count(const struct cf_response *resp)
{
	return resp->nreasons;
}

const char *
cf_response_reason(const struct cf_response *resp, size_t i)
{
	return i < resp->nreasons ? resp->reasons[i] : NULL;
}

uint64_t
cf_response_steps(const struct cf_response *resp)
{
	return resp->steps;
}

size_t
cf_response_error_count(const struct cf_response *resp)
{
	return resp->nerrors;
}

const char *
cf_response_error_id(const struct cf_response *resp, size_t i)
{
	return i < resp->nerrors ? resp->errors[i].id : NULL;
}

const char *
cf_response_error_msg(const struct cf_response *resp, size_t i)
{
	return i < resp->nerrors ? resp->errors[i].msg : NULL;
}

json_t *
cf_response_to_json(const struct cf_response *resp)
{
	json_t	*o, *reasons, *errors, *e;
	size_t	 i;

	o = json_object();
	reasons = json_array();
	errors = json_array();
	if (o == NULL || reasons == NULL || errors == NULL)
		goto fail;
	if (json_object_set_new(o, "decision", json_string(
	    resp->decision == CF_DECISION_ALLOW ? "allow" : "deny")) != 0)
		goto fail;
	for (i = 0; i < resp->nreasons; i++)
		if (json_array_append_new(reasons,
		    json_string(resp->reasons[i])) != 0)
			goto fail;
	for (i = 0; i < resp->nerrors; i++) {
		e = json_pack("{s:s, s:s}", "policy", resp->errors[i].id,
		    "message", resp->errors[i].msg);
		if (e == NULL || json_array_append_new(errors, e) != 0)
			goto fail;
	}
	if (json_object_set(o, "reasons", reasons) != 0 ||
	    json_object_set(o, "errors", errors) != 0)
		goto fail;
	json_decref(reasons);
	json_decref(errors);
	return o;
fail:
	json_decref(o);
	json_decref(reasons);
	json_decref(errors);
	return NULL;
}
