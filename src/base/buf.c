/* src/base/buf.c: bounded growable buffer; see buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

void
cf_buf_init(struct cf_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->secret = 0;
}

void
cf_buf_init_secret(struct cf_buf *b, size_t max)
{
	cf_buf_init(b, max);
	b->secret = 1;
}

void
cf_buf_free(struct cf_buf *b)
{
	if (b->data != NULL && b->secret)
		cf_wipe(b->data, b->cap);
	CF_FREE(b->data);
	b->len = 0;
	b->cap = 0;
}

void
cf_buf_reset(struct cf_buf *b)
{
	if (b->data != NULL && b->secret)
		cf_wipe(b->data, b->len);
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
cf_buf_truncate(struct cf_buf *b, size_t len)
{
	if (b->data == NULL || len >= b->len)
		return;
	if (b->secret)
		cf_wipe(b->data + len, b->len - len);
	b->len = len;
	b->data[len] = '\0';
}

static cf_err
buf_reserve(struct cf_buf *b, size_t extra, struct cf_error *err)
{
	size_t	 need, ncap;
	char	*nd;

	if (!cf_add_ok(b->len, extra, &need) || need > b->max)
		return cf_error_set(err, CF_E_LIMIT,
		    "buffer would exceed its limit of %zu bytes", b->max);
	if (need + 1 <= b->cap)
		return CF_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need + 1)
		ncap = ncap > SIZE_MAX / 2 ? need + 1 : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->secret) {
		nd = cf_malloc(ncap);
		if (nd != NULL && b->data != NULL) {
			memcpy(nd, b->data, b->len + 1);
			cf_wipe(b->data, b->cap);
			cf_free(b->data);
		}
	} else
		nd = cf_realloc(b->data, ncap);
	if (nd == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	b->data = nd;
	b->cap = ncap;
	return CF_OK;
}

cf_err
cf_buf_append(struct cf_buf *b, const void *p, size_t n, struct cf_error *err)
{
	cf_err	rc;

	rc = buf_reserve(b, n, err);
	if (rc != CF_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return CF_OK;
}

cf_err
cf_buf_append_str(struct cf_buf *b, const char *s, struct cf_error *err)
{
	return cf_buf_append(b, s, strlen(s), err);
}

cf_err
cf_buf_append_strs(struct cf_buf *b, struct cf_error *err, ...)
{
	va_list		 ap;
	const char	*s;
	cf_err		 rc = CF_OK;

	va_start(ap, err);
	while (rc == CF_OK && (s = va_arg(ap, const char *)) != NULL)
		rc = cf_buf_append(b, s, strlen(s), err);
	va_end(ap);
	return rc;
}

cf_err
cf_buf_append_i64(struct cf_buf *b, int64_t v, struct cf_error *err)
{
	char		d[24];
	size_t		o = sizeof(d);
	uint64_t	u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		d[--o] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		d[--o] = '-';
	return cf_buf_append(b, d + o, sizeof(d) - o, err);
}

cf_err
cf_buf_vprintf(struct cf_buf *b, struct cf_error *err, const char *fmt,
    va_list ap)
{
	va_list	ap2;
	int	n;
	cf_err	rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return cf_error_set(err, CF_E_INVAL, "bad format");
	rc = buf_reserve(b, (size_t)n, err);
	if (rc != CF_OK)
		return rc;
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return CF_OK;
}

cf_err
cf_buf_printf(struct cf_buf *b, struct cf_error *err, const char *fmt, ...)
{
	va_list	ap;
	cf_err	rc;

	va_start(ap, fmt);
	rc = cf_buf_vprintf(b, err, fmt, ap);
	va_end(ap);
	return rc;
}

char *
cf_buf_take(struct cf_buf *b)
{
	char	*d;

	if (b->data == NULL)
		return cf_strdup("");
	d = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return d;
}
