/* src/base/membudget.h: one bounded budget for the server's big
 * per-request buffers, and the buffers themselves.
 *
 * Two kinds of use share one limit (request_memory_budget):
 *   - reservations that a request cannot do without (a request body being
 *     read): cf_membudget_reserve, up to the whole limit; the caller
 *     refuses the request when it fails;
 *   - buffers that only make a transfer faster (upload staging, the blob
 *     writer's disk buffers, read-ahead): cf_membudget_buf_get, up to
 *     CF_MEMBUDGET_BUF_SHARE of the limit, so that uploads in any number
 *     never starve request bodies; the caller goes on with a small buffer
 *     or none when it fails (slower, never refused for it).
 *
 * Buffers are mapped with mmap(2), page aligned (enough for O_DIRECT),
 * excluded from core dumps (MADV_DONTDUMP: staging holds plaintext), and
 * unmapped when done, so their memory goes back to the system at once
 * (malloc would keep freed 2-4 MiB blocks in its arenas).  A few idle
 * buffers (CF_MEMBUDGET_CACHE bytes at most) are kept for reuse: mapping
 * fresh memory costs a page fault per 4 KiB.  Docs: operations.md,
 * "Memory". */
#ifndef CF_BASE_MEMBUDGET_H
#define CF_BASE_MEMBUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cf_membudget;

/* Buffers may hold at most this share of the limit (numerator / 4). */
#define CF_MEMBUDGET_BUF_SHARE	3
/* Spare buffers: while everything held is within limit / this. */
#define CF_MEMBUDGET_SPARE	8
/* Idle buffers kept for reuse, in bytes, outside the limit. */
#define CF_MEMBUDGET_CACHE	(4u << 20)

/* A budget of limit bytes (limit > 0).  CF_E_NOMEM. */
cf_err	cf_membudget_new(uint64_t limit, struct cf_membudget **out,
	    struct cf_error *err);
/* Unmaps the idle buffers.  Every buffer and reservation must have been
 * given back.  NULL is a no-op. */
void	cf_membudget_free(struct cf_membudget *b);

/* Reserve n bytes of the limit; false (nothing reserved) when the limit
 * cannot take n more.  Lock-free, never blocks. */
bool	cf_membudget_reserve(struct cf_membudget *b, uint64_t n);
void	cf_membudget_release(struct cf_membudget *b, uint64_t n);

/* A buffer of n bytes (n > 0), page aligned, counted against the
 * buffers' share of the limit: NULL when that share cannot take n more,
 * or the system has no memory; the caller then does without (a smaller
 * buffer, or none).  b NULL: no limit (unit tests, offline tools).
 * Give it back with cf_membudget_buf_put(b, p, n), same n.  The content
 * is unspecified (a reused buffer is not cleared): SEC: whoever puts
 * plaintext in a buffer wipes it before giving it back. */
void	*cf_membudget_buf_get(struct cf_membudget *b, size_t n);
void	 cf_membudget_buf_put(struct cf_membudget *b, void *p, size_t n);
/* As cf_membudget_buf_get, but only while the budget is mostly idle:
 * everything held stays within CF_MEMBUDGET_SPARE of the limit.  For a
 * bigger buffer that speeds up a long transfer when few run at once
 * (a refusal here is not counted as denied).  Give it back with
 * cf_membudget_buf_put. */
void	*cf_membudget_buf_get_spare(struct cf_membudget *b, size_t n);

/* For metrics and tests. */
uint64_t cf_membudget_limit(const struct cf_membudget *b);
uint64_t cf_membudget_used(const struct cf_membudget *b);	/* all */
uint64_t cf_membudget_buf_bytes(const struct cf_membudget *b); /* bufs */
uint64_t cf_membudget_cached(const struct cf_membudget *b);	/* idle */
uint64_t cf_membudget_buf_denied(const struct cf_membudget *b);

/* Make glibc's malloc return freed memory of 128 KiB and more to the
 * system at once: fixes its mmap threshold, which it otherwise raises
 * (to up to 32 MiB) after the first such block is freed, keeping later
 * ones in its arenas.  Call once at server start, before the threads. */
void	cf_mem_tune(void);

#endif
