/* src/base/buf.h: a growable byte buffer with a hard maximum (curl's dynbuf).
 *
 * The struct is public so buffers can live on the stack; treat the fields
 * as read-only outside buf.c.  The data is always NUL-terminated (the NUL is
 * not counted in len), so text buffers can be used as C strings. */
#ifndef CF_BASE_BUF_H
#define CF_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cf_buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* appends beyond this fail with CF_E_LIMIT */
	int	 secret;	/* wipe on growth and on free */
};

/* Initialize an empty buffer that may hold at most max bytes. */
void	cf_buf_init(struct cf_buf *b, size_t max);
/* As cf_buf_init, and wipe old storage whenever it moves or is freed. */
void	cf_buf_init_secret(struct cf_buf *b, size_t max);
/* Release storage (wiping it if secret); the buffer is empty and reusable. */
void	cf_buf_free(struct cf_buf *b);
void	cf_buf_reset(struct cf_buf *b);		/* len = 0, keep storage */
/* Drop the bytes from len on (len <= b->len), keeping storage: undoes
 * appends that must be all or nothing. */
void	cf_buf_truncate(struct cf_buf *b, size_t len);

cf_err	cf_buf_append(struct cf_buf *b, const void *p, size_t n,
	    struct cf_error *err);
cf_err	cf_buf_append_str(struct cf_buf *b, const char *s,
	    struct cf_error *err);
/* Each string in turn, up to a NULL: one call for a run of literals
 * and fields (JSON written by hand), stopping at the first error. */
cf_err	cf_buf_append_strs(struct cf_buf *b, struct cf_error *err, ...)
	    __attribute__((sentinel));
/* v in decimal ("-" first when negative), without printf. */
cf_err	cf_buf_append_i64(struct cf_buf *b, int64_t v, struct cf_error *err);
cf_err	cf_buf_printf(struct cf_buf *b, struct cf_error *err,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
cf_err	cf_buf_vprintf(struct cf_buf *b, struct cf_error *err,
	    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Hand the data to the caller (free with cf_free); the buffer is reset.
 * Returns an empty string rather than NULL for an empty buffer; NULL only
 * on NOMEM. */
char	*cf_buf_take(struct cf_buf *b);

#endif
