/* src/base/error.c: cf_error recording; see error.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

void
cf_error_clear(struct cf_error *err)
{
	if (err == NULL)
		return;
	err->code = CF_OK;
	err->msg[0] = '\0';
}

static void
strip_crlf(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n')
			*s = ' ';
}

static cf_err error_vset(struct cf_error *, cf_err, const char *,
    const char *, va_list) __attribute__((format(printf, 4, 0)));

static cf_err
error_vset(struct cf_error *err, cf_err code, const char *suffix,
    const char *fmt, va_list ap)
{
	size_t	n;

	if (err == NULL || err->code != CF_OK)
		return code;
	err->code = code;
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (suffix != NULL) {
		n = strlen(err->msg);
		(void)snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
		    suffix);
	}
	strip_crlf(err->msg);
	return code;
}

cf_err
cf_error_set(struct cf_error *err, cf_err code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)error_vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

cf_err
cf_error_join(struct cf_error *err, cf_err code, ...)
{
	va_list		 ap;
	const char	*s;
	size_t		 n = 0, k, room;

	if (err == NULL || err->code != CF_OK)
		return code;
	err->code = code;
	va_start(ap, code);
	/* Cut where vsnprintf cuts: at sizeof(msg) - 1 bytes.  Runs
	 * without CR or LF are copied whole, each CR or LF made a space. */
	while ((s = va_arg(ap, const char *)) != NULL)
		while (*s != '\0' && n < sizeof(err->msg) - 1) {
			room = sizeof(err->msg) - 1 - n;
			k = strcspn(s, "\r\n");
			if (k > room)
				k = room;
			memcpy(err->msg + n, s, k);
			n += k;
			s += k;
			if (*s != '\0' && n < sizeof(err->msg) - 1) {
				err->msg[n++] = ' ';
				s++;
			}
		}
	va_end(ap);
	err->msg[n] = '\0';
	return code;
}

cf_err
cf_error_sys(struct cf_error *err, cf_err code, const char *fmt, ...)
{
	va_list	ap;
	char		 ebuf[128];
	const char	*es;
	int		 saved = errno;

	/* GNU strerror_r: the message may or may not be in ebuf. */
	es = strerror_r(saved, ebuf, sizeof(ebuf));
	va_start(ap, fmt);
	(void)error_vset(err, code, es, fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

const char *
cf_err_name(cf_err code)
{
	switch (code) {
	case CF_OK:		return "ok";
	case CF_E_NOMEM:	return "nomem";
	case CF_E_INVAL:	return "inval";
	case CF_E_INPUT:	return "input";
	case CF_E_LIMIT:	return "limit";
	case CF_E_NOTFOUND:	return "notfound";
	case CF_E_DENIED:	return "denied";
	case CF_E_AUTH:		return "auth";
	case CF_E_IO:		return "io";
	case CF_E_INTERNAL:	return "internal";
	case CF_E_INTEGRITY:	return "integrity";
	case CF_E_CONFLICT:	return "conflict";
	case CF_E_CRYPTO:	return "crypto";
	case CF_E_UNAVAILABLE:	return "unavailable";
	}
	return "unknown";
}
