/* src/policy/hset.c: a set of pointers by hash, for the loaders.
 *
 * Open addressing with linear probing, at most half full, keyed by a
 * 64-bit hash the caller computes (cf_pol_hash mixes its low bits), with
 * the caller's equality.  Each slot carries the generation it was filled
 * in, so clearing is O(1): close_hierarchy clears one set per entity, and
 * clearing by sweeping the table would make one entity with many parents
 * cost as much again for every entity after it. */
#include <string.h>

#include "base/mem.h"
#include "policy_int.h"

void
cf_pol_hset_init(struct cf_pol_hset *s)
{
	memset(s, 0, sizeof(*s));
	s->gen = 1;
}

void
cf_pol_hset_init_buf(struct cf_pol_hset *s, struct cf_pol_hslot *buf,
    size_t cap)
{
	cf_pol_hset_init(s);
	/* Empty: no slot may hold the first generation. */
	memset(buf, 0, cap * sizeof(*buf));
	s->slot = buf;
	s->cap = cap;
}

void
cf_pol_hset_free(struct cf_pol_hset *s)
{
	if (s == NULL)
		return;
	if (s->own)
		cf_free(s->slot);
	cf_pol_hset_init(s);
}

void
cf_pol_hset_clear(struct cf_pol_hset *s)
{
	s->n = 0;
	if (++s->gen == 0) {
		/* Wrapped: old generations could look live again. */
		if (s->cap > 0)
			memset(s->slot, 0, s->cap * sizeof(*s->slot));
		s->gen = 1;
	}
}

/* The slot of the element equal to key, or the free slot where it would
 * go. */
static struct cf_pol_hslot *
probe(struct cf_pol_hset *s, uint64_t h, const void *key, cf_pol_hset_eq *eq)
{
	size_t			 i, mask = s->cap - 1;
	struct cf_pol_hslot	*sl;

	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		s->probes++;
		sl = &s->slot[i];
		if (sl->gen != s->gen)
			return sl;
		if (sl->h == h && eq(sl->p, key))
			return sl;
	}
}

const void *
cf_pol_hset_get(struct cf_pol_hset *s, uint64_t h, const void *key,
    cf_pol_hset_eq *eq)
{
	struct cf_pol_hslot	*sl;

	if (s->n == 0)
		return NULL;
	sl = probe(s, h, key, eq);
	return sl->gen == s->gen ? sl->p : NULL;
}

cf_err
cf_pol_hset_reserve(struct cf_pol_hset *s, size_t more)
{
	struct cf_pol_hslot	*ns, *old = s->slot;
	size_t			 ncap, i, j, ocap = s->cap;

	if (more > SIZE_MAX / 4 - s->n)
		return CF_E_NOMEM;
	if ((s->n + more) * 2 <= s->cap)
		return CF_OK;
	for (ncap = s->cap ? s->cap : 16; ncap < (s->n + more) * 2;)
		ncap *= 2;
	ns = cf_calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return CF_E_NOMEM;
	for (i = 0; i < ocap; i++) {
		if (old[i].gen != s->gen)
			continue;
		for (j = (size_t)old[i].h & (ncap - 1); ns[j].gen != 0;
		    j = (j + 1) & (ncap - 1))
			;
		ns[j] = old[i];
		ns[j].gen = 1;
	}
	if (s->own)
		cf_free(old);
	s->slot = ns;
	s->own = true;
	s->cap = ncap;
	s->gen = 1;
	return CF_OK;
}

cf_err
cf_pol_hset_add(struct cf_pol_hset *s, uint64_t h, const void *p,
    cf_pol_hset_eq *eq, bool *added)
{
	struct cf_pol_hslot	*sl;

	if (cf_pol_hset_reserve(s, 1) != CF_OK)
		return CF_E_NOMEM;
	sl = probe(s, h, p, eq);
	if (sl->gen == s->gen) {
		*added = false;
		return CF_OK;
	}
	sl->h = h;
	sl->p = p;
	sl->gen = s->gen;
	s->n++;
	*added = true;
	return CF_OK;
}
