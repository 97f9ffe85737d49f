/* src/base/membudget.c: the budget of big per-request buffers and the
 * buffers (membudget.h). */
#include <sys/mman.h>

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "mem.h"
#include "membudget.h"

#define CACHE_SLOTS	16		/* idle buffers kept, at most */
#define MMAP_THRESHOLD	(128u * 1024)	/* glibc's initial default */

struct cache_ent {
	void		*p;
	size_t		 n;
};

struct cf_membudget {
	uint64_t		 limit;
	uint64_t		 buf_limit;	/* the buffers' share */
	atomic_ullong		 used;		/* reserved + buffers */
	atomic_ullong		 bufs;		/* buffers handed out */
	atomic_ullong		 denied;	/* buffers refused */
	pthread_mutex_t		 mu;		/* guards the cache */
	struct cache_ent	 cache[CACHE_SLOTS];	/* oldest first */
	size_t			 ncache;
	atomic_ullong		 cached;	/* bytes in the cache */
};

cf_err
cf_membudget_new(uint64_t limit, struct cf_membudget **out,
    struct cf_error *err)
{
	struct cf_membudget	*b;

	if (out == NULL || limit == 0)
		return cf_error_set(err, CF_E_INVAL,
		    "membudget: bad argument");
	b = cf_calloc(1, sizeof(*b));
	if (b == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&b->mu, NULL) != 0) {
		cf_free(b);
		return cf_error_set(err, CF_E_NOMEM, "membudget: mutex");
	}
	b->limit = limit;
	b->buf_limit = limit / 4 * CF_MEMBUDGET_BUF_SHARE;
	*out = b;
	return CF_OK;
}

void
cf_membudget_free(struct cf_membudget *b)
{
	size_t	i;

	if (b == NULL)
		return;
	(void)CF_NEVER(atomic_load(&b->used) != 0);
	for (i = 0; i < b->ncache; i++)
		(void)munmap(b->cache[i].p, b->cache[i].n);
	(void)pthread_mutex_destroy(&b->mu);
	cf_free(b);
}

/* Take n of used while it stays within cap (compare-and-swap, no
 * waiting). */
static bool
take(struct cf_membudget *b, uint64_t n, uint64_t cap)
{
	unsigned long long	cur, want;

	cur = atomic_load_explicit(&b->used, memory_order_relaxed);
	do {
		if (n > cap || cur > cap - n)
			return false;
		want = cur + n;
	} while (!atomic_compare_exchange_weak_explicit(&b->used, &cur, want,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

/* SEC: the limit bounds what request bodies and transfer buffers hold
 * together, whatever the number of connections. */
bool
cf_membudget_reserve(struct cf_membudget *b, uint64_t n)
{
	return take(b, n, b->limit);
}

void
cf_membudget_release(struct cf_membudget *b, uint64_t n)
{
	unsigned long long	old;

	old = atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
	(void)CF_NEVER(old < n);
}

static size_t
page_round(size_t n)
{
	long	pg = sysconf(_SC_PAGESIZE);
	size_t	p = pg > 0 ? (size_t)pg : 4096;

	if (n > SIZE_MAX - p)
		return 0;
	return (n + p - 1) / p * p;
}

static void *
map(size_t n)
{
	void	*p;

	/* Fault injection of the unit tests reaches this allocation too. */
	if (cf_alloc_should_fail())
		return NULL;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* SEC: staging and read-ahead buffers hold plaintext. */
	(void)madvise(p, n, MADV_DONTDUMP);
	return p;
}

static void *
buf_get(struct cf_membudget *b, size_t n, bool spare)
{
	size_t	sz = page_round(n), i;
	void	*p = NULL;

	if (n == 0 || sz == 0)
		return NULL;
	if (b == NULL)
		return map(sz);
	if (spare) {
		if (!take(b, sz, b->limit / CF_MEMBUDGET_SPARE))
			return NULL;
	} else if (!take(b, sz, b->buf_limit)) {
		(void)atomic_fetch_add_explicit(&b->denied, 1,
		    memory_order_relaxed);
		return NULL;
	}
	(void)pthread_mutex_lock(&b->mu);
	for (i = 0; i < b->ncache; i++) {
		if (b->cache[i].n != sz)
			continue;
		p = b->cache[i].p;
		b->cache[i] = b->cache[--b->ncache];
		(void)atomic_fetch_sub(&b->cached, sz);
		break;
	}
	(void)pthread_mutex_unlock(&b->mu);
	if (p == NULL && (p = map(sz)) == NULL) {
		cf_membudget_release(b, sz);
		return NULL;
	}
	(void)atomic_fetch_add_explicit(&b->bufs, sz, memory_order_relaxed);
	return p;
}

void *
cf_membudget_buf_get(struct cf_membudget *b, size_t n)
{
	return buf_get(b, n, false);
}

void *
cf_membudget_buf_get_spare(struct cf_membudget *b, size_t n)
{
	return buf_get(b, n, true);
}

void
cf_membudget_buf_put(struct cf_membudget *b, void *p, size_t n)
{
	struct cache_ent	 old[CACHE_SLOTS];
	size_t			 sz = page_round(n), nold = 0, i;
	bool			 kept = false;

	if (p == NULL)
		return;
	if (b != NULL && sz <= CF_MEMBUDGET_CACHE) {
		/* The newest is kept, the oldest go: what transfers use now
		 * is what the next ones will ask for. */
		(void)pthread_mutex_lock(&b->mu);
		while (b->ncache == CACHE_SLOTS ||
		    atomic_load(&b->cached) + sz > CF_MEMBUDGET_CACHE) {
			old[nold] = b->cache[0];
			nold++;
			(void)atomic_fetch_sub(&b->cached, b->cache[0].n);
			b->ncache--;
			memmove(&b->cache[0], &b->cache[1],
			    b->ncache * sizeof(b->cache[0]));
		}
		b->cache[b->ncache].p = p;
		b->cache[b->ncache].n = sz;
		b->ncache++;
		(void)atomic_fetch_add(&b->cached, sz);
		kept = true;
		(void)pthread_mutex_unlock(&b->mu);
	}
	if (b != NULL) {
		(void)atomic_fetch_sub_explicit(&b->bufs, sz,
		    memory_order_relaxed);
		cf_membudget_release(b, sz);
	}
	if (!kept)
		(void)munmap(p, sz);
	/* Unmapped outside the lock. */
	for (i = 0; i < nold; i++)
		(void)munmap(old[i].p, old[i].n);
}

uint64_t
cf_membudget_limit(const struct cf_membudget *b)
{
	return b->limit;
}

uint64_t
cf_membudget_used(const struct cf_membudget *b)
{
	return atomic_load(&b->used);
}

uint64_t
cf_membudget_buf_bytes(const struct cf_membudget *b)
{
	return atomic_load(&b->bufs);
}

uint64_t
cf_membudget_cached(const struct cf_membudget *b)
{
	return atomic_load(&b->cached);
}

uint64_t
cf_membudget_buf_denied(const struct cf_membudget *b)
{
	return atomic_load(&b->denied);
}

void
cf_mem_tune(void)
{
#ifdef M_MMAP_THRESHOLD
	/* Setting it at all turns off glibc's dynamic threshold (and with
	 * it the trim threshold's): blocks of 128 KiB and more are mapped
	 * and unmapped on free, whatever was freed before. */
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
#endif
}
