/* src/base/str.c: bounded parsing, UTF-8, hex and base64url; see str.h. */
#include <string.h>

#include "str.h"

cf_err
cf_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    struct cf_error *err)
{
	uint64_t	v = 0;
	const char	*p;

	if (s == NULL || *s == '\0')
		return cf_error_set(err, CF_E_INPUT, "empty number");
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return cf_error_set(err, CF_E_INPUT,
			    "not a decimal number");
		if (p - s >= 20 || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return cf_error_set(err, CF_E_INPUT,
			    "number out of range");
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return cf_error_set(err, CF_E_INPUT,
		    "number out of range [%llu, %llu]",
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return CF_OK;
}

cf_err
cf_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
    struct cf_error *err)
{
	uint64_t	u;
	int		neg = 0;
	cf_err		rc;

	if (s != NULL && *s == '-') {
		neg = 1;
		s++;
	}
	rc = cf_parse_u64(s, 0, (uint64_t)INT64_MAX + 1, &u, err);
	if (rc != CF_OK)
		return rc;
	if (!neg && u > (uint64_t)INT64_MAX)
		return cf_error_set(err, CF_E_INPUT, "number out of range");
	if (neg) {
		if (u == (uint64_t)INT64_MAX + 1) {
			if (INT64_MIN < min)
				return cf_error_set(err, CF_E_INPUT,
				    "number out of range");
			*out = INT64_MIN;
			return CF_OK;
		}
		if (-(int64_t)u < min || -(int64_t)u > max)
			return cf_error_set(err, CF_E_INPUT,
			    "number out of range");
		*out = -(int64_t)u;
		return CF_OK;
	}
	if ((int64_t)u < min || (int64_t)u > max)
		return cf_error_set(err, CF_E_INPUT, "number out of range");
	*out = (int64_t)u;
	return CF_OK;
}

cf_err
cf_parse_duration(const char *s, uint64_t max, uint64_t *secs,
    struct cf_error *err)
{
	char		 num[24];
	size_t		 n;
	uint64_t	 v, mult = 1;
	cf_err		 rc;

	if (s == NULL || (n = strlen(s)) == 0 || n >= sizeof(num))
		return cf_error_set(err, CF_E_INPUT, "bad duration");
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': mult = 1; num[--n] = '\0'; break;
	case 'm': mult = 60; num[--n] = '\0'; break;
	case 'h': mult = 3600; num[--n] = '\0'; break;
	case 'd': mult = 86400; num[--n] = '\0'; break;
	case 'w': mult = 604800; num[--n] = '\0'; break;
	default: break;
	}
	rc = cf_parse_u64(num, 1, UINT64_MAX / mult, &v, err);
	if (rc != CF_OK)
		return cf_error_set(err, CF_E_INPUT,
		    "bad duration (use e.g. 90s, 15m, 12h, 30d)");
	if (v * mult > max)
		return cf_error_set(err, CF_E_INPUT, "duration too long");
	*secs = v * mult;
	return CF_OK;
}

bool
cf_utf8_valid(const void *vp, size_t len)
{
	const unsigned char	*p = vp;
	size_t			 i = 0, n, k;
	uint32_t		 cp;

	while (i < len) {
		unsigned char c;
		uint64_t w;

		/* Runs of ASCII without NUL eight bytes at a time (the names
		 * and ids of every decision's entities pass here); any other
		 * byte goes the exact way below. */
		while (len - i >= 8) {
			memcpy(&w, p + i, sizeof(w));
			if ((w & 0x8080808080808080ULL) != 0 ||
			    ((w - 0x0101010101010101ULL) & ~w &
			    0x8080808080808080ULL) != 0)
				break;
			i += 8;
		}
		if (i == len)
			break;
		c = p[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3; cp = c & 0x07;
		} else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

void
cf_hex_encode(const void *vp, size_t len, char *out)
{
	static const char	 hx[] = "0123456789abcdef";
	const unsigned char	*p = vp;
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

cf_err
cf_hex_decode(const char *s, size_t slen, void *vout, size_t outlen,
    struct cf_error *err)
{
	unsigned char	*out = vout;
	size_t		 i;
	int		 h, l;

	if (slen != 2 * outlen)
		return cf_error_set(err, CF_E_INPUT,
		    "expected %zu hex digits", 2 * outlen);
	for (i = 0; i < outlen; i++) {
		h = hexval(s[2 * i]);
		l = hexval(s[2 * i + 1]);
		if (h < 0 || l < 0)
			return cf_error_set(err, CF_E_INPUT, "bad hex digit");
		out[i] = (unsigned char)(h << 4 | l);
	}
	return CF_OK;
}

static const char b64u[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
cf_b64url_len(size_t len)
{
	return (len / 3) * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

void
cf_b64url_encode(const void *vp, size_t len, char *out)
{
	const unsigned char	*p = vp;
	size_t			 i, o = 0;
	uint32_t		 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
		out[o++] = b64u[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
	}
	out[o] = '\0';
}

static int
b64val(char c)
{
	const char	*q;

	if (c == '\0')
		return -1;
	q = strchr(b64u, c);
	return q == NULL ? -1 : (int)(q - b64u);
}

cf_err
cf_b64url_decode(const char *s, size_t slen, void *vout, size_t outcap,
    size_t *outlen, struct cf_error *err)
{
	unsigned char	*out = vout;
	uint32_t	 acc = 0;
	size_t		 i, o = 0;
	int		 bits = 0, v;

	if (slen % 4 == 1)
		return cf_error_set(err, CF_E_INPUT, "bad base64url length");
	for (i = 0; i < slen; i++) {
		v = b64val(s[i]);
		if (v < 0)
			return cf_error_set(err, CF_E_INPUT,
			    "bad base64url character");
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return cf_error_set(err, CF_E_LIMIT,
				    "base64url value too long");
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return cf_error_set(err, CF_E_INPUT, "non-canonical base64url");
	*outlen = o;
	return CF_OK;
}

bool
cf_b64std_decode(const char *s, void *out, size_t n)
{
	char	tmp[96];
	size_t	i, k = 0, got = 0;

	for (i = 0; s[i] != '\0' && s[i] != '='; i++) {
		if (k + 1 >= sizeof(tmp) || s[i] == '-' || s[i] == '_')
			return false;
		tmp[k++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	}
	tmp[k] = '\0';
	return cf_b64url_decode(tmp, k, out, n, &got, NULL) == CF_OK &&
	    got == n;
}

void
cf_b64std_encode(const void *p, size_t n, char *out)
{
	size_t	len, i;

	cf_b64url_encode(p, n, out);
	len = strlen(out);
	for (i = 0; i < len; i++)
		out[i] = out[i] == '-' ? '+' : out[i] == '_' ? '/' : out[i];
	while (len % 4 != 0)
		out[len++] = '=';
	out[len] = '\0';
}

size_t
cf_strlcpy(char *dst, const char *src, size_t dstsize)
{
	size_t	n = strlen(src);

	if (dstsize > 0) {
		size_t c = n < dstsize - 1 ? n : dstsize - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t
cf_strlcat(char *dst, const char *src, size_t dstsize)
{
	size_t	d = strnlen(dst, dstsize);

	if (d == dstsize)
		return d + strlen(src);
	return d + cf_strlcpy(dst + d, src, dstsize - d);
}

bool
cf_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
cf_http_list_next(const char **p, const char **elem, size_t *len)
{
	const char	*s = *p, *e;
	size_t		 n;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (*s == '\0') {
			*p = s;
			return false;
		}
		e = s;
		while (*e != '\0' && *e != ',')
			e++;
		n = (size_t)(e - s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0)
			break;
		s = e;
	}
	*elem = s;
	*len = n;
	*p = e;
	return true;
}

bool
cf_str_field_value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}
