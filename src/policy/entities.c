/* src/policy/entities.c: the entity store and requests, from Cedar's JSON
 * formats (no schema).
 *
 * The store is a flat array of entities with an open-addressing hash
 * table over their uids.  The ancestor relation is closed transitively
 * when the store is built, and each entity keeps its ancestors sorted by
 * hash, so `in` costs one table probe and one binary search. */
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "policy_int.h"

/* A uid's bit in a layer's bloom (struct cf_entities). */
#define BLOOM_BIT(u)	((uint64_t)1 << ((u)->hash >> 58))

static int	uidp_cmp(const void *, const void *);

/* An entity's ancestors, sorted by uidp_cmp: a few (every entity a
 * decision builds) by insertion, in place, since qsort's set-up cost
 * more than the sort; the order is the same (the uids are distinct,
 * and uidp_cmp orders distinct uids totally). */
static void
anc_sort(const struct cf_pol_uid **v, size_t n)
{
	const struct cf_pol_uid	*tmp;
	size_t			 i, j;

	if (n > 16) {
		qsort(v, n, sizeof(*v), uidp_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		tmp = v[i];
		for (j = i; j > 0 && uidp_cmp(&v[j - 1], &tmp) > 0; j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
}

static int
uidp_cmp(const void *x, const void *y)
{
	const struct cf_pol_uid	*a = *(const struct cf_pol_uid *const *)x;
	const struct cf_pol_uid	*b = *(const struct cf_pol_uid *const *)y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->tlen != b->tlen)
		return a->tlen < b->tlen ? -1 : 1;
	if (a->ilen != b->ilen)
		return a->ilen < b->ilen ? -1 : 1;
	if (a->tlen > 0 && memcmp(a->type, b->type, a->tlen) != 0)
		return memcmp(a->type, b->type, a->tlen);
	return a->ilen > 0 ? memcmp(a->id, b->id, a->ilen) : 0;
}

/* The entity uid of es's own layer (not its base), or NULL. */
static const struct cf_pol_entity *
table_get(const struct cf_entities *es, const struct cf_pol_uid *uid)
{
	size_t		i, mask;
	uint32_t	k;

	if (es->tcap == 0)
		return NULL;
	mask = es->tcap - 1;
	for (i = uid->hash & mask;; i = (i + 1) & mask) {
		k = es->table[i];
		if (k == 0)
			return NULL;
		if (cf_pol_uid_eq(es->ents[k - 1].uid, uid))
			return &es->ents[k - 1];
	}
}

const struct cf_pol_entity *
cf_pol_entity_get(const struct cf_entities *es, const struct cf_pol_uid *uid)
{
	const struct cf_pol_entity	*e;
	size_t				 i;

	if (es == NULL)
		return NULL;
	e = table_get(es, uid);
	/* A uid is in one layer at most (build_into refuses the rest); a
	 * base without its bit does not have it. */
	for (i = 0; e == NULL && i < es->nbases; i++)
		if ((es->bases[i]->bloom & BLOOM_BIT(uid)) != 0)
			e = table_get(es->bases[i], uid);
	return e;
}

/* The entity uid of one of es's bases, or NULL. */
static const struct cf_pol_entity *
bases_get(const struct cf_entities *es, const struct cf_pol_uid *uid)
{
	const struct cf_pol_entity	*e = NULL;
	size_t				 i;

	for (i = 0; e == NULL && i < es->nbases; i++)
		if ((es->bases[i]->bloom & BLOOM_BIT(uid)) != 0)
			e = table_get(es->bases[i], uid);
	return e;
}

bool
cf_pol_entity_in(const struct cf_pol_entity *ent, const struct cf_pol_uid *e,
    const struct cf_pol_uid *anc)
{
	size_t	lo, hi, mid;

	if (cf_pol_uid_eq(e, anc))
		return true;
	if (ent == NULL || ent->nanc == 0)
		return false;
	lo = 0;
	hi = ent->nanc;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ent->anc_hash[mid] < anc->hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ent->nanc && ent->anc_hash[lo] == anc->hash; lo++)
		if (cf_pol_uid_eq(ent->anc[lo], anc))
			return true;
	return false;
}

static cf_err
dup_error(const struct cf_pol_uid *u, struct cf_error *err)
{
	char	t[64], d[64];

	cf_pol_escape(u->type, u->tlen, t, sizeof(t));
	cf_pol_escape(u->id, u->ilen, d, sizeof(d));
	return cf_error_set(err, CF_E_INPUT, "duplicate entity entry "
	    "%s::\"%s\"", t, d);
}

static cf_err
table_build(struct cf_entities *es, struct cf_error *err)
{
	size_t		cap = 16, i, j, mask;

	while (cap < es->n * 2)
		cap *= 2;
	/* In the arena: a store built for one decision costs one
	 * allocation, not three. */
	es->table = cf_pol_arena_calloc(&es->ar, cap, sizeof(*es->table));
	if (es->table == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	es->tcap = cap;
	mask = cap - 1;
	es->bloom = es->bloom_parented = 0;
	for (i = 0; i < es->n; i++) {
		const struct cf_pol_uid	*u = es->ents[i].uid;
		bool			 dup = false;

		es->bloom |= BLOOM_BIT(u);
		if (es->ents[i].nparents > 0)
			es->bloom_parented |= BLOOM_BIT(u);
		for (j = u->hash & mask; es->table[j] != 0 && !dup;
		    j = (j + 1) & mask)
			dup = cf_pol_uid_eq(es->ents[es->table[j] - 1].uid, u);
		/* As if all layers were one store. */
		if (!dup)
			dup = bases_get(es, u) != NULL;
		if (dup)
			return dup_error(u, err);
		es->table[j] = (uint32_t)(i + 1);
	}
	return CF_OK;
}

/* Does es's own layer or a base other than bases[skip] define uid
 * (whose hash is hash) with parents?  Layers whose bloom_parented lacks
 * its bit are not probed, and uid is not read. */
static bool
others_parented(const struct cf_entities *es, size_t skip, uint64_t hash,
    const struct cf_pol_uid *uid)
{
	const struct cf_pol_entity	*e = NULL;
	uint64_t			 bit = (uint64_t)1 << (hash >> 58);
	size_t				 i;

	if ((es->bloom_parented & bit) != 0)
		e = table_get(es, uid);
	for (i = 0; e == NULL && i < es->nbases; i++)
		if (i != skip && (es->bases[i]->bloom_parented & bit) != 0)
			e = table_get(es->bases[i], uid);
	return e != NULL && e->nparents > 0;
}

/* SEC: each base's ancestor sets were closed without the other layers,
 * so none of its entities may have an ancestor that another layer
 * defines with parents (its closure would miss that entity's own
 * ancestors, and `in` would answer otherwise than over one store).  An
 * ancestor defined elsewhere without parents closes to nothing, which
 * is what the base took it for (a parent that names no entity).  The
 * bases must not share an entity either (the layer's own are checked
 * by table_build).  Costs a lookup per entity of a base and per
 * ancestor of one in each other layer. */
static cf_err
base_check(const struct cf_entities *es, struct cf_error *err)
{
	const struct cf_entities	*b;
	const struct cf_pol_uid		*u;
	size_t				 i, k, bi, j;

	for (bi = 0; bi < es->nbases; bi++) {
		b = es->bases[bi];
		for (i = 0; i < b->n; i++) {
			u = b->ents[i].uid;
			for (j = 0; j < bi; j++)
				if ((es->bases[j]->bloom & BLOOM_BIT(u)) != 0 &&
				    table_get(es->bases[j], u) != NULL)
					return dup_error(u, err);
			for (k = 0; k < b->ents[i].nanc; k++)
				if (others_parented(es, bi,
				    b->ents[i].anc_hash[k], b->ents[i].anc[k]))
					return cf_error_set(err, CF_E_INVAL,
					    "an entity of a base store has an "
					    "ancestor in another layer");
		}
	}
	return CF_OK;
}

static bool
uid_eq(const void *x, const void *y)
{
	return cf_pol_uid_eq(x, y);
}

/* p (cap elements of sz bytes, all in use) grown to twice its size:
 * the new vector, or NULL on NOMEM (p unchanged).  A vector still in
 * the caller's stack buffer (*heap false) is copied out. */
static void *
vec_grow(void *p, size_t *cap, size_t sz, bool *heap)
{
	void	*nv;

	if (*heap)
		nv = cf_reallocarray(p, *cap * 2, sz);
	else {
		nv = cf_reallocarray(NULL, *cap * 2, sz);
		if (nv != NULL)
			memcpy(nv, p, *cap * sz);
	}
	if (nv == NULL)
		return NULL;
	*cap *= 2;
	*heap = true;
	return nv;
}

#define CLOSE_SMALL	32	/* stack room: the stores of one decision */

/* Transitive closure: a depth-first walk from each entity's parents,
 * with a per-walk mark so each ancestor is added once (cycles are safe).
 * Parents that name no entity are ancestors too, with no parents; a
 * per-walk hash set adds each of those once.  An entity of the base
 * (a closed store: base_check) brings its ancestors as they are, and
 * they are added once through the same set.  The working vectors start
 * on the stack: a store of a few entities allocates nothing here but
 * its ancestor arrays (in the arena). */
static cf_err
close_hierarchy(struct cf_entities *es, struct cf_error *err)
{
	const struct cf_pol_uid		 *stack0[CLOSE_SMALL];
	const struct cf_pol_uid		 *acc0[CLOSE_SMALL];
	uint32_t			  mark0[CLOSE_SMALL];
	const struct cf_pol_uid		**stack = stack0, **acc = acc0;
	uint32_t			 *mark = mark0;
	size_t				  nstack, cstack = CLOSE_SMALL;
	size_t				  nacc, cacc = CLOSE_SMALL;
	size_t				  i, k, j, nb;
	const struct cf_pol_entity	 *pe, *be;
	const struct cf_pol_uid		 *u;
	struct cf_pol_hset		  dangling;
	struct cf_pol_hslot		  dslot[CLOSE_SMALL / 2];
	cf_err				  rc = CF_OK;
	void				 *nv;
	bool				  added, hstack = false, hacc = false;

	/* On the stack: a decision's store closes over a few base
	 * ancestors (the namespace, the store), and a calloc and free of
	 * the set for them were a tenth of building it (bench/authz). */
	cf_pol_hset_init_buf(&dangling, dslot, CLOSE_SMALL / 2);
	if (es->n + 1 > CLOSE_SMALL) {
		mark = cf_calloc(es->n + 1, sizeof(*mark));
		if (mark == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
	} else
		memset(mark0, 0, sizeof(mark0));
	for (i = 0; i < es->n; i++) {
		struct cf_pol_entity	*ent = &es->ents[i];

		if (ent->nparents == 0)
			continue;
		nstack = 0;
		nacc = 0;
		cf_pol_hset_clear(&dangling);
		for (k = 0; k < ent->nparents; k++) {
			if (nstack == cstack) {
				nv = vec_grow(stack, &cstack, sizeof(*stack),
				    &hstack);
				if (nv == NULL)
					goto nomem;
				stack = nv;
			}
			stack[nstack++] = ent->parents[k];
		}
		while (nstack > 0) {
			u = stack[--nstack];
			pe = table_get(es, u);
			be = NULL;
			if (pe == NULL)
				be = bases_get(es, u);
			if (pe != NULL) {
				size_t	pi = (size_t)(pe - es->ents);

				/* As in Cedar: the hierarchy must be a DAG. */
				if (pi == i) {
					char	t[64], d[64];

					cf_pol_escape(ent->uid->type,
					    ent->uid->tlen, t, sizeof(t));
					cf_pol_escape(ent->uid->id,
					    ent->uid->ilen, d, sizeof(d));
					rc = cf_error_set(err, CF_E_INPUT,
					    "the entity hierarchy has a cycle "
					    "through %s::\"%s\"", t, d);
					goto out;
				}
				if (mark[pi] == (uint32_t)(i + 1))
					continue;
				mark[pi] = (uint32_t)(i + 1);
			} else {
				if (cf_pol_hset_add(&dangling, u->hash, u,
				    uid_eq, &added) != CF_OK)
					goto nomem;
				if (!added)
					continue;
			}
			nb = be != NULL ? be->nanc : 0;
			for (j = 0; j <= nb; j++) {
				const struct cf_pol_uid *x = j == 0 ? u :
				    be->anc[j - 1];

				if (j > 0) {
					if (cf_pol_hset_add(&dangling,
					    x->hash, x, uid_eq, &added) !=
					    CF_OK)
						goto nomem;
					if (!added)
						continue;
				}
				if (nacc == cacc) {
					nv = vec_grow(acc, &cacc, sizeof(*acc),
					    &hacc);
					if (nv == NULL)
						goto nomem;
					acc = nv;
				}
				acc[nacc++] = x;
			}
			if (pe == NULL)
				continue;
			for (k = 0; k < pe->nparents; k++) {
				if (nstack == cstack) {
					nv = vec_grow(stack, &cstack,
					    sizeof(*stack), &hstack);
					if (nv == NULL)
						goto nomem;
					stack = nv;
				}
				stack[nstack++] = pe->parents[k];
			}
		}
		if (nacc > 0) {
			uint64_t	*ah;

			ent->anc = cf_pol_arena_alloc(&es->ar,
			    nacc * sizeof(*ent->anc));
			ah = cf_pol_arena_alloc(&es->ar, nacc * sizeof(*ah));
			if (ent->anc == NULL || ah == NULL)
				goto nomem;
			memcpy(ent->anc, acc, nacc * sizeof(*acc));
			if (nacc > 1)
				anc_sort(ent->anc, nacc);
			for (k = 0; k < nacc; k++)
				ah[k] = ent->anc[k]->hash;
			ent->anc_hash = ah;
			ent->nanc = nacc;
		}
	}
	goto out;
nomem:
	rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
out:
	es->probes = dangling.probes;
	cf_pol_hset_free(&dangling);
	if (mark != mark0)
		cf_free(mark);
	if (hstack)
		cf_free(stack);
	if (hacc)
		cf_free(acc);
	return rc;
}

static cf_err
json_record(struct cf_pol_arena *a, const json_t *j, const char *what,
    const struct cf_pol_rec **out, struct cf_error *err)
{
	struct cf_pol_val	v;
	cf_err			rc;

	if (j == NULL) {
		*out = NULL;
		return CF_OK;
	}
	if (!json_is_object(j) || json_object_get(j, "__entity") != NULL ||
	    json_object_get(j, "__extn") != NULL)
		return cf_error_set(err, CF_E_INPUT, "%s must be an object",
		    what);
	rc = cf_pol_json_value(a, j, &v, 1, err);
	if (rc != CF_OK)
		return rc;
	*out = v.u.rec;
	return CF_OK;
}

static bool
is_action(const struct cf_pol_uid *u)
{
	return (u->tlen == 6 && memcmp(u->type, "Action", 6) == 0) ||
	    (u->tlen > 8 && memcmp(u->type + u->tlen - 8, "::Action", 8) == 0);
}

static cf_err
entity_from_json(struct cf_entities *es, const json_t *j,
    struct cf_pol_entity *ent, struct cf_error *err)
{
	const json_t	*parents, *m;
	size_t		 i;
	cf_err		 rc;

	if (!json_is_object(j))
		return cf_error_set(err, CF_E_INPUT,
		    "entity must be an object");
	/* As in Cedar: uid, attrs and parents are required, tags optional,
	 * other members ignored. */
	m = json_object_get(j, "uid");
	if (m == NULL)
		return cf_error_set(err, CF_E_INPUT, "entity without a uid");
	rc = cf_pol_json_uid(&es->ar, m, "uid", &ent->uid, err);
	if (rc != CF_OK)
		return rc;
	if (json_object_get(j, "attrs") == NULL)
		return cf_error_set(err, CF_E_INPUT, "entity without attrs");
	rc = json_record(&es->ar, json_object_get(j, "attrs"), "attrs",
	    &ent->attrs, err);
	if (rc != CF_OK)
		return rc;
	rc = json_record(&es->ar, json_object_get(j, "tags"), "tags",
	    &ent->tags, err);
	if (rc != CF_OK)
		return rc;
	parents = json_object_get(j, "parents");
	if (!json_is_array(parents))
		return cf_error_set(err, CF_E_INPUT,
		    "parents must be an array");
	ent->nparents = json_array_size(parents);
	ent->parents = cf_pol_arena_calloc(&es->ar, ent->nparents,
	    sizeof(*ent->parents));
	if (ent->parents == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (i = 0; i < ent->nparents; i++) {
		rc = cf_pol_json_uid(&es->ar, json_array_get(parents, i),
		    "parent", &ent->parents[i], err);
		if (rc != CF_OK)
			return rc;
		/* As in Cedar: actions are grouped only under actions. */
		if (is_action(ent->uid) && !is_action(ent->parents[i]))
			return cf_error_set(err, CF_E_INPUT, "an action has a "
			    "non-action parent");
	}
	return CF_OK;
}

cf_err
cf_entities_from_json(const json_t *arr, struct cf_entities **out,
    struct cf_error *err)
{
	struct cf_entities	*es;
	size_t			 i, n;
	cf_err			 rc;

	if (!json_is_array(arr))
		return cf_error_set(err, CF_E_INPUT,
		    "entities must be a JSON array");
	n = json_array_size(arr);
	if (n >= UINT32_MAX / 2)
		return cf_error_set(err, CF_E_LIMIT, "too many entities");
	es = cf_calloc(1, sizeof(*es));
	if (es == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&es->ar);
	atomic_init(&es->refs, 1);
	es->ents = cf_pol_arena_calloc(&es->ar, n ? n : 1, sizeof(*es->ents));
	if (es->ents == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = entity_from_json(es, json_array_get(arr, i), &es->ents[i],
		    err);
		if (rc != CF_OK)
			goto out;
		es->n = i + 1;
	}
	rc = table_build(es, err);
	if (rc != CF_OK)
		goto out;
	rc = close_hierarchy(es, err);
out:
	if (rc != CF_OK) {
		cf_entities_free(es);
		return rc;
	}
	*out = es;
	return CF_OK;
}

cf_err
cf_entities_parse(const char *json, size_t len, struct cf_entities **out,
    struct cf_error *err)
{
	json_t	*v = NULL;
	cf_err	 rc;

	rc = cf_pol_json_load(json, len, &v, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_entities_from_json(v, out, err);
	json_decref(v);
	return rc;
}

/* Drop the references es holds on its bases. */
static void
bases_drop(struct cf_entities *es)
{
	size_t	i;

	for (i = 0; i < es->nbases; i++)
		cf_entities_free((struct cf_entities *)(uintptr_t)
		    es->bases[i]);
	es->nbases = 0;
}

void
cf_entities_ref(const struct cf_entities *es)
{
	/* The count is not part of the store's value (policy.h): the one
	 * field a shared, read-only store changes. */
	struct cf_entities	*w = (struct cf_entities *)(uintptr_t)es;

	if (w != NULL)
		atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
}

void
cf_entities_free(struct cf_entities *es)
{
	if (es == NULL)
		return;
	/* The last reference: every other holder's use happened before
	 * its release (acq_rel), as for any reference count. */
	if (atomic_fetch_sub_explicit(&es->refs, 1, memory_order_acq_rel) !=
	    1)
		return;
	bases_drop(es);
	cf_pol_arena_free(&es->ar);
	cf_free(es);
}

size_t
cf_entities_count(const struct cf_entities *es)
{
	size_t	n = es->n, i;

	for (i = 0; i < es->nbases; i++)
		n += es->bases[i]->n;
	return n;
}

size_t
cf_entities_memory(const struct cf_entities *es)
{
	return sizeof(*es) + es->ar.total;
}

/*
 * Entities and requests from C values.  Each step mirrors the JSON
 * reader's (json_record, cf_pol_json_value, cf_pol_json_uid), so that
 * both make the same store from the same data.
 */
/* Type names already checked in this build, by address: a program
 * names its few entity types with the same constant strings, and the
 * strings are borrowed, so unchanged, for the call. */
#define TYPES_SEEN	8

struct types_seen {
	const char	*p[TYPES_SEEN];
	size_t		 n;
};

static cf_err
def_uid(struct cf_pol_arena *a, const struct cf_entity_ref *r,
    struct types_seen *ts, const char *what, const struct cf_pol_uid **out,
    struct cf_error *err)
{
	size_t	tlen, ilen, i;
	bool	seen = false;

	if (r->type == NULL || r->id == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL %s", what);
	tlen = strlen(r->type);
	ilen = strlen(r->id);
	for (i = 0; i < ts->n && !seen; i++)
		seen = ts->p[i] == r->type;
	/* JSON strings are UTF-8: so must these be. */
	if (!cf_utf8_valid(r->id, ilen) ||
	    (!seen && !cf_utf8_valid(r->type, tlen)))
		return cf_error_set(err, CF_E_INPUT, "%s: not UTF-8", what);
	if (!seen && !cf_pol_valid_type(r->type, tlen))
		return cf_error_set(err, CF_E_INPUT,
		    "%s: invalid entity type name", what);
	if (!seen && ts->n < TYPES_SEEN)
		ts->p[ts->n++] = r->type;
	*out = cf_pol_uid_new(a, r->type, tlen, r->id, ilen);
	if (*out == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

static cf_err	attrs_record(struct cf_pol_arena *a, const struct cf_attr *at,
		    size_t n, int depth, const struct cf_pol_rec **out,
		    struct cf_error *err);

static cf_err
attr_value(struct cf_pol_arena *a, const struct cf_attr *at,
    struct cf_pol_val *out, int depth, struct cf_error *err)
{
	size_t	n;

	if (depth > CF_POLICY_MAX_JSON_DEPTH)
		return cf_error_set(err, CF_E_LIMIT, "value nested too deeply");
	memset(out, 0, sizeof(*out));
	switch (at->kind) {
	case CF_ATTR_STRING:
	case CF_ATTR_IP:
		if (at->s == NULL)
			return cf_error_set(err, CF_E_INVAL, "NULL string");
		n = strlen(at->s);
		if ((at->flags & CF_ATTR_VALUE_UTF8) == 0) {
			if (!cf_utf8_valid(at->s, n))
				return cf_error_set(err, CF_E_INPUT,
				    "string is not UTF-8");
		}
#ifndef NDEBUG
		else if (!cf_utf8_valid(at->s, n))
			return cf_error_set(err, CF_E_INVAL,
			    "string vouched for is not UTF-8");
#endif
		if (at->kind == CF_ATTR_IP) {
			if (cf_pol_parse_ip(at->s, n, out) != 0)
				return cf_error_set(err, CF_E_INPUT,
				    "extension function ip: invalid IP "
				    "address");
			return CF_OK;
		}
		out->kind = PV_STR;
		out->u.s.n = n;
		out->u.s.p = cf_pol_arena_strdup(a, at->s, n);
		if (out->u.s.p == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		return CF_OK;
	case CF_ATTR_LONG:
		out->kind = PV_LONG;
		out->u.i = at->i;
		return CF_OK;
	case CF_ATTR_BOOL:
		out->kind = PV_BOOL;
		out->u.b = at->i != 0;
		return CF_OK;
	case CF_ATTR_DATETIME:
		out->kind = PV_DATETIME;
		out->u.i = at->i;
		return CF_OK;
	case CF_ATTR_RECORD:
		out->kind = PV_RECORD;
		return attrs_record(a, at->rec, at->n, depth, &out->u.rec,
		    err);
	case CF_ATTR_JSON:
		if (at->json == NULL)
			return cf_error_set(err, CF_E_INVAL, "NULL value");
		return cf_pol_json_value(a, at->json, out, depth, err);
	default:
		return cf_error_set(err, CF_E_INVAL, "unknown value kind %d",
		    at->kind);
	}
}

/* The record of fields at[0..n) (at may be NULL when n is 0). */
static cf_err
attrs_record(struct cf_pol_arena *a, const struct cf_attr *at, size_t n,
    int depth, const struct cf_pol_rec **out, struct cf_error *err)
{
	struct cf_pol_rec	*rec;
	size_t			 i, kn;
	cf_err			 rc;

	if (depth > CF_POLICY_MAX_JSON_DEPTH)
		return cf_error_set(err, CF_E_LIMIT, "value nested too deeply");
	if (n > 0 && at == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL fields");
	rec = cf_pol_arena_calloc(a, 1, sizeof(*rec) + n * sizeof(rec->f[0]));
	if (rec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (at[i].name == NULL)
			return cf_error_set(err, CF_E_INVAL, "NULL field name");
		kn = strlen(at[i].name);
		rec->f[i].kn = kn;
		if ((at[i].flags & CF_ATTR_NAME_STATIC) != 0) {
#ifndef NDEBUG
			if (!cf_utf8_valid(at[i].name, kn))
				return cf_error_set(err, CF_E_INVAL,
				    "static field name is not UTF-8");
#endif
			rec->f[i].k = at[i].name;
		} else {
			if (!cf_utf8_valid(at[i].name, kn))
				return cf_error_set(err, CF_E_INPUT,
				    "field name is not UTF-8");
			rec->f[i].k = cf_pol_arena_strdup(a, at[i].name, kn);
			if (rec->f[i].k == NULL)
				return cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
		}
		rc = attr_value(a, &at[i], &rec->f[i].v, depth + 1, err);
		if (rc != CF_OK)
			return rc;
	}
	rec->n = n;
	if (!cf_pol_rec_sort(rec))
		return cf_error_set(err, CF_E_INPUT, "duplicate key in record");
	*out = rec;
	return CF_OK;
}

static cf_err
entity_from_def(struct cf_entities *es, const struct cf_entity_def *d,
    struct types_seen *ts, struct cf_pol_entity *ent, struct cf_error *err)
{
	size_t	i;
	cf_err	rc;

	rc = def_uid(&es->ar, &d->uid, ts, "uid", &ent->uid, err);
	if (rc != CF_OK)
		return rc;
	/* json_record's depth: the attributes are a value at depth 1. */
	rc = attrs_record(&es->ar, d->attrs, d->nattrs, 1, &ent->attrs, err);
	if (rc != CF_OK)
		return rc;
	if (d->tags != NULL || d->ntags > 0) {
		rc = attrs_record(&es->ar, d->tags, d->ntags, 1, &ent->tags,
		    err);
		if (rc != CF_OK)
			return rc;
	}
	if (d->nparents > 0 && d->parents == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL parents");
	ent->nparents = d->nparents;
	ent->parents = cf_pol_arena_calloc(&es->ar, ent->nparents,
	    sizeof(*ent->parents));
	if (ent->parents == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (i = 0; i < ent->nparents; i++) {
		rc = def_uid(&es->ar, &d->parents[i], ts, "parent",
		    &ent->parents[i], err);
		if (rc != CF_OK)
			return rc;
		if (is_action(ent->uid) && !is_action(ent->parents[i]))
			return cf_error_set(err, CF_E_INPUT, "an action has a "
			    "non-action parent");
	}
	return CF_OK;
}

/* Empty es, keeping its arena's last chunk. */
static void
entities_empty(struct cf_entities *es)
{
	cf_pol_arena_reset(&es->ar);
	bases_drop(es);
	es->ents = NULL;
	es->n = 0;
	es->table = NULL;
	es->tcap = 0;
	es->bloom = es->bloom_parented = 0;
	es->probes = 0;
}

/* Build defs into es (empty, its arena ready) over bases. */
static cf_err
build_into(struct cf_entities *es, const struct cf_entities *const *bases,
    size_t nbases, const struct cf_entity_def *defs, size_t n,
    struct cf_error *err)
{
	struct types_seen	 ts;
	size_t			 i;
	cf_err			 rc;

	if (n > 0 && defs == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL entities");
	if (nbases > CF_ENTITIES_MAX_BASES || (nbases > 0 && bases == NULL))
		return cf_error_set(err, CF_E_INVAL, "bad bases");
	for (i = 0; i < nbases; i++) {
		if (bases[i] == NULL)
			return cf_error_set(err, CF_E_INVAL, "NULL base");
		if (bases[i]->nbases != 0)
			return cf_error_set(err, CF_E_INVAL, "a base store "
			    "with a base");
	}
	if (n >= UINT32_MAX / 2)
		return cf_error_set(err, CF_E_LIMIT, "too many entities");
	for (i = 0; i < nbases; i++) {
		cf_entities_ref(bases[i]);
		es->bases[es->nbases++] = bases[i];
	}
	ts.n = 0;
	es->ents = cf_pol_arena_calloc(&es->ar, n ? n : 1, sizeof(*es->ents));
	if (es->ents == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		rc = entity_from_def(es, &defs[i], &ts, &es->ents[i], err);
		if (rc != CF_OK)
			return rc;
		es->n = i + 1;
	}
	rc = table_build(es, err);
	if (rc == CF_OK && nbases > 0)
		rc = base_check(es, err);
	if (rc == CF_OK)
		rc = close_hierarchy(es, err);
	return rc;
}

cf_err
cf_entities_build_over(const struct cf_entities *const *bases, size_t nbases,
    const struct cf_entity_def *defs, size_t n, unsigned int flags,
    struct cf_entities **out, struct cf_error *err)
{
	struct cf_entities	*es;
	cf_err			 rc;

	es = cf_calloc(1, sizeof(*es));
	if (es == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&es->ar);
	if ((flags & CF_ENTITIES_SMALL) != 0)
		es->ar.first = 1024;
	atomic_init(&es->refs, 1);
	rc = build_into(es, bases, nbases, defs, n, err);
	if (rc != CF_OK) {
		cf_entities_free(es);
		return rc;
	}
	*out = es;
	return CF_OK;
}

cf_err
cf_entities_rebuild_over(struct cf_entities *es,
    const struct cf_entities *const *bases, size_t nbases,
    const struct cf_entity_def *defs, size_t n, struct cf_error *err)
{
	cf_err	rc;

	if (es == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL store");
	entities_empty(es);
	rc = build_into(es, bases, nbases, defs, n, err);
	if (rc != CF_OK)
		entities_empty(es);
	return rc;
}

cf_err
cf_entities_build_on(const struct cf_entities *base,
    const struct cf_entity_def *defs, size_t n, struct cf_entities **out,
    struct cf_error *err)
{
	return cf_entities_build_over(&base, base != NULL ? 1 : 0, defs, n,
	    0, out, err);
}

cf_err
cf_entities_rebuild_on(struct cf_entities *es, const struct cf_entities *base,
    const struct cf_entity_def *defs, size_t n, struct cf_error *err)
{
	return cf_entities_rebuild_over(es, &base, base != NULL ? 1 : 0, defs,
	    n, err);
}

cf_err
cf_entities_build(const struct cf_entity_def *defs, size_t n,
    struct cf_entities **out, struct cf_error *err)
{
	return cf_entities_build_on(NULL, defs, n, out, err);
}

const struct cf_entities *
cf_entities_base(const struct cf_entities *es)
{
	return es != NULL && es->nbases > 0 ? es->bases[0] : NULL;
}

size_t
cf_entities_base_count(const struct cf_entities *es)
{
	return es != NULL ? es->nbases : 0;
}

const struct cf_entities *
cf_entities_base_at(const struct cf_entities *es, size_t i)
{
	return es != NULL && i < es->nbases ? es->bases[i] : NULL;
}

static bool
rec_equal(const struct cf_pol_rec *x, const struct cf_pol_rec *y)
{
	struct cf_pol_val	a, b;

	if (x == NULL || y == NULL)
		return (x == NULL || x->n == 0) && (y == NULL || y->n == 0);
	a.kind = b.kind = PV_RECORD;
	a.u.rec = x;
	b.u.rec = y;
	return cf_pol_val_eq(&a, &b);
}

/* Is every entity of x's own layer in y (either layer), the same? */
static bool
layer_within(const struct cf_entities *x, const struct cf_entities *y)
{
	const struct cf_pol_entity	*a, *b;
	size_t				 i, k, j;

	for (i = 0; i < x->n; i++) {
		a = &x->ents[i];
		b = cf_pol_entity_get(y, a->uid);
		if (b == NULL || !rec_equal(a->attrs, b->attrs) ||
		    !rec_equal(a->tags, b->tags) ||
		    a->nparents != b->nparents || a->nanc != b->nanc)
			return false;
		for (k = 0; k < a->nparents; k++) {
			for (j = 0; j < b->nparents; j++)
				if (cf_pol_uid_eq(a->parents[k],
				    b->parents[j]))
					break;
			if (j == b->nparents)
				return false;
		}
		for (k = 0; k < a->nanc; k++)
			if (!cf_pol_entity_in(b, b->uid, a->anc[k]))
				return false;
	}
	return true;
}

/* Is every entity of x (all layers) in y, the same? */
static bool
entities_within(const struct cf_entities *x, const struct cf_entities *y)
{
	size_t	i;

	if (!layer_within(x, y))
		return false;
	for (i = 0; i < x->nbases; i++)
		if (!layer_within(x->bases[i], y))
			return false;
	return true;
}

bool
cf_entities_equal(const struct cf_entities *a, const struct cf_entities *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return cf_entities_count(a) == cf_entities_count(b) &&
	    entities_within(a, b) && entities_within(b, a);
}

bool
cf_request_equal(const struct cf_request *a, const struct cf_request *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return cf_pol_uid_eq(a->principal, b->principal) &&
	    cf_pol_uid_eq(a->action, b->action) &&
	    cf_pol_uid_eq(a->resource, b->resource) &&
	    cf_pol_val_eq(&a->context, &b->context);
}

/*
 * Requests.
 */
static cf_err
request_alloc(struct cf_request **out, struct cf_error *err)
{
	struct cf_request	*req;
	struct cf_pol_rec	*empty;

	req = cf_calloc(1, sizeof(*req));
	if (req == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&req->ar);
	empty = cf_pol_arena_calloc(&req->ar, 1, sizeof(*empty));
	if (empty == NULL) {
		cf_free(req);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	req->context.kind = PV_RECORD;
	req->context.u.rec = empty;
	*out = req;
	return CF_OK;
}

static cf_err
request_context(struct cf_request *req, const json_t *ctx,
    struct cf_error *err)
{
	if (ctx == NULL)
		return CF_OK;
	if (!json_is_object(ctx) || json_object_get(ctx, "__entity") != NULL ||
	    json_object_get(ctx, "__extn") != NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "context must be a JSON object");
	return cf_pol_json_value(&req->ar, ctx, &req->context, 1, err);
}

static cf_err
mkuid(struct cf_request *req, const char *t, const char *id, const char *what,
    const struct cf_pol_uid **out, struct cf_error *err)
{
	if (t == NULL || id == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL %s", what);
	if (!cf_pol_valid_type(t, strlen(t)))
		return cf_error_set(err, CF_E_INPUT, "invalid entity type for "
		    "the %s", what);
	*out = cf_pol_uid_new(&req->ar, t, strlen(t), id, strlen(id));
	if (*out == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

cf_err
cf_request_new(const char *principal_type, const char *principal_id,
    const char *action_type, const char *action_id, const char *resource_type,
    const char *resource_id, const json_t *context, struct cf_request **out,
    struct cf_error *err)
{
	struct cf_request	*req = NULL;
	cf_err			 rc;

	rc = request_alloc(&req, err);
	if (rc != CF_OK)
		return rc;
	rc = mkuid(req, principal_type, principal_id, "principal",
	    &req->principal, err);
	if (rc == CF_OK)
		rc = mkuid(req, action_type, action_id, "action", &req->action,
		    err);
	if (rc == CF_OK)
		rc = mkuid(req, resource_type, resource_id, "resource",
		    &req->resource, err);
	if (rc == CF_OK)
		rc = request_context(req, context, err);
	if (rc != CF_OK) {
		cf_request_free(req);
		return rc;
	}
	*out = req;
	return CF_OK;
}

cf_err
cf_request_build(const char *principal_type, const char *principal_id,
    const char *action_type, const char *action_id, const char *resource_type,
    const char *resource_id, const struct cf_attr *ctx, size_t n,
    struct cf_request **out, struct cf_error *err)
{
	struct cf_request	*req = NULL;
	cf_err			 rc;

	rc = request_alloc(&req, err);
	if (rc != CF_OK)
		return rc;
	rc = mkuid(req, principal_type, principal_id, "principal",
	    &req->principal, err);
	if (rc == CF_OK)
		rc = mkuid(req, action_type, action_id, "action", &req->action,
		    err);
	if (rc == CF_OK)
		rc = mkuid(req, resource_type, resource_id, "resource",
		    &req->resource, err);
	if (rc == CF_OK && n > 0) {
		req->context.kind = PV_RECORD;
		rc = attrs_record(&req->ar, ctx, n, 1, &req->context.u.rec,
		    err);
	}
	if (rc != CF_OK) {
		cf_request_free(req);
		return rc;
	}
	*out = req;
	return CF_OK;
}

cf_err
cf_request_rebuild(struct cf_request *req, const char *principal_type,
    const char *principal_id, const char *action_type, const char *action_id,
    const char *resource_type, const char *resource_id,
    const struct cf_attr *ctx, size_t n, struct cf_error *err)
{
	struct cf_pol_rec	*empty;
	cf_err			 rc;

	if (req == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL request");
	cf_pol_arena_reset(&req->ar);
	req->principal = req->action = req->resource = NULL;
	empty = cf_pol_arena_calloc(&req->ar, 1, sizeof(*empty));
	if (empty == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	req->context.kind = PV_RECORD;
	req->context.u.rec = empty;
	rc = mkuid(req, principal_type, principal_id, "principal",
	    &req->principal, err);
	if (rc == CF_OK)
		rc = mkuid(req, action_type, action_id, "action", &req->action,
		    err);
	if (rc == CF_OK)
		rc = mkuid(req, resource_type, resource_id, "resource",
		    &req->resource, err);
	if (rc == CF_OK && n > 0)
		rc = attrs_record(&req->ar, ctx, n, 1, &req->context.u.rec,
		    err);
	if (rc != CF_OK)
		req->principal = req->action = req->resource = NULL;
	return rc;
}

cf_err
cf_request_from_json(const json_t *obj, struct cf_request **out,
    struct cf_error *err)
{
	struct cf_request	*req = NULL;
	const json_t		*m;
	cf_err			 rc;

	if (!json_is_object(obj))
		return cf_error_set(err, CF_E_INPUT,
		    "request must be a JSON object");
	rc = request_alloc(&req, err);
	if (rc != CF_OK)
		return rc;
	m = json_object_get(obj, "principal");
	rc = m == NULL ? cf_error_set(err, CF_E_INPUT, "request without a "
	    "principal") : cf_pol_json_uid(&req->ar, m, "principal",
	    &req->principal, err);
	if (rc == CF_OK) {
		m = json_object_get(obj, "action");
		rc = m == NULL ? cf_error_set(err, CF_E_INPUT, "request "
		    "without an action") : cf_pol_json_uid(&req->ar, m,
		    "action", &req->action, err);
	}
	if (rc == CF_OK) {
		m = json_object_get(obj, "resource");
		rc = m == NULL ? cf_error_set(err, CF_E_INPUT, "request "
		    "without a resource") : cf_pol_json_uid(&req->ar, m,
		    "resource", &req->resource, err);
	}
	if (rc == CF_OK)
		rc = request_context(req, json_object_get(obj, "context"),
		    err);
	if (rc != CF_OK) {
		cf_request_free(req);
		return rc;
	}
	*out = req;
	return CF_OK;
}

void
cf_request_free(struct cf_request *req)
{
	if (req == NULL)
		return;
	cf_pol_arena_free(&req->ar);
	cf_free(req);
}
