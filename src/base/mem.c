/* src/base/mem.c: allocation wrappers with fault injection; see mem.h. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* 0: never fail.  Atomic, so that a test may arm it for allocations made
 * by a server's threads (one request at a time). */
static _Atomic unsigned int fail_after;

void
cf_test_fail_alloc_after(unsigned int n)
{
	atomic_store(&fail_after, n);
}

bool
cf_test_fail_alloc_pending(void)
{
	return atomic_load(&fail_after) != 0;
}

static int
should_fail(void)
{
	unsigned int	n = atomic_load(&fail_after);

	while (n != 0) {
		if (atomic_compare_exchange_weak(&fail_after, &n, n - 1))
			return n == 1;
	}
	return 0;
}

bool
cf_alloc_should_fail(void)
{
	return should_fail() != 0;
}

void *
cf_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *
cf_calloc(size_t nmemb, size_t size)
{
	size_t	total;

	if (!cf_mul_ok(nmemb, size, &total))
		return NULL;
	if (should_fail())
		return NULL;
	return calloc(1, total == 0 ? 1 : total);
}

void *
cf_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

void *
cf_reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t	total;

	if (!cf_mul_ok(nmemb, size, &total))
		return NULL;
	return cf_realloc(p, total);
}

void
cf_free(void *p)
{
	free(p);
}

char *
cf_strdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return cf_memdup_str(s, strlen(s));
}

char *
cf_strndup(const char *s, size_t n)
{
	if (s == NULL)
		return NULL;
	return cf_memdup_str(s, strnlen(s, n));
}

char *
cf_memdup_str(const void *p, size_t len)
{
	char	*d;

	if (len == SIZE_MAX)
		return NULL;
	d = cf_malloc(len + 1);
	if (d == NULL)
		return NULL;
	if (len > 0)
		memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

bool
cf_mul_ok(size_t a, size_t b, size_t *out)
{
	size_t	r;

	if (__builtin_mul_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

bool
cf_add_ok(size_t a, size_t b, size_t *out)
{
	size_t	r;

	if (__builtin_add_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

void
cf_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}
