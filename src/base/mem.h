/* src/base/mem.h: allocation with overflow checks and fault injection.
 *
 * All Coffer code allocates through these wrappers so that tests can make
 * the n-th allocation fail (cf_test_fail_alloc_after) and prove every
 * NOMEM path.  Memory is released with cf_free / CF_FREE. */
#ifndef CF_BASE_MEM_H
#define CF_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void	*cf_malloc(size_t n);
void	*cf_calloc(size_t nmemb, size_t size);	/* overflow-checked */
void	*cf_realloc(void *p, size_t n);
/* realloc of nmemb*size with overflow check; NULL on overflow or NOMEM. */
void	*cf_reallocarray(void *p, size_t nmemb, size_t size);
void	 cf_free(void *p);
char	*cf_strdup(const char *s);			/* NULL s -> NULL */
char	*cf_strndup(const char *s, size_t n);
/* Duplicate len bytes (need not be NUL-terminated); result is terminated. */
char	*cf_memdup_str(const void *p, size_t len);

#define CF_FREE(p) do { cf_free(p); (p) = NULL; } while (0)

/* *out = a * b; false (and *out untouched) on overflow. */
bool	cf_mul_ok(size_t a, size_t b, size_t *out);
bool	cf_add_ok(size_t a, size_t b, size_t *out);

/* Test hook: the n-th allocation from now, by any thread, fails
 * (n >= 1); 0 disables.  For tests only. */
void	cf_test_fail_alloc_after(unsigned int n);
/* True while the armed failure has not happened yet. */
bool	cf_test_fail_alloc_pending(void);
/* For allocators other than these wrappers (mmap'd buffers): true when
 * the armed failure falls on this allocation (counts it like cf_malloc
 * does). */
bool	cf_alloc_should_fail(void);

/* Wipe n bytes at p so the compiler cannot elide it (explicit_bzero). */
void	cf_wipe(void *p, size_t n);

#endif
