/* src/server/parse.c: request parsing of the HTTP front end: Range
 * headers, URL unescaping, header values for the request context, bodies
 * ending with their digest; see http_int.h (routes: routes.c). */
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "server/http_int.h"

/* Parse a single "bytes=" range against size.  Returns 0 with no (or an
 * ignorable) Range header, 1 with a satisfiable range, -1 when it cannot
 * be satisfied (416). */
int
cf_http_parse_range(const char *h, uint64_t size, uint64_t *first,
    uint64_t *last)
{
	char		a[24], b[24];
	const char	*dash;
	uint64_t	x, y;
	size_t		la, lb;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return 0;
	h += 6;
	if (strchr(h, ',') != NULL)
		return 0;	/* multiple ranges: serve the whole object */
	dash = strchr(h, '-');
	if (dash == NULL)
		return 0;
	la = (size_t)(dash - h);
	lb = strlen(dash + 1);
	if (la >= sizeof(a) || lb >= sizeof(b))
		return 0;
	memcpy(a, h, la);
	a[la] = '\0';
	memcpy(b, dash + 1, lb + 1);
	if (la == 0) {
		/* suffix: the last N bytes */
		if (cf_parse_u64(b, 1, UINT64_MAX, &y, NULL) != CF_OK)
			return lb == 0 ? 0 : -1;
		if (size == 0)
			return -1;
		*first = y >= size ? 0 : size - y;
		*last = size - 1;
		return 1;
	}
	if (cf_parse_u64(a, 0, UINT64_MAX, &x, NULL) != CF_OK)
		return 0;
	if (lb == 0)
		y = UINT64_MAX;
	else if (cf_parse_u64(b, 0, UINT64_MAX, &y, NULL) != CF_OK || y < x)
		return 0;
	if (x >= size)
		return -1;
	*first = x;
	*last = y >= size ? size - 1 : y;
	return 1;
}

/* The value of one hex digit, or -1 (only 0-9, a-f, A-F: a range test
 * such as "c <= 'F'" would let ':' through '@' count as digits). */
static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* URL unescaping that never produces NUL (a %00 becomes an invalid UTF-8
 * byte, so names containing it are rejected instead of truncated). */
size_t
cf_http_unescape(char *s)
{
	char	*r = s, *w = s;
	int	 hi, lo;

	while (*r != '\0') {
		if (*r == '%' && r[1] != '\0' && r[2] != '\0') {
			hi = hexval(r[1]);
			lo = hexval(r[2]);
			if (hi >= 0 && lo >= 0) {
				int v = hi * 16 + lo;
				*w++ = v == 0 ? (char)0xff : (char)v;
				r += 3;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

cf_err
cf_http_form_value(const char *body, size_t len, const char *name,
    char *out, size_t outsz, size_t *outlen)
{
	const char	*p = body, *end = body + len, *amp, *eq;
	size_t		 nlen = strlen(name), w;
	int		 hi, lo;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0)
			break;
		p = amp + 1;
	}
	if (p >= end)
		return CF_E_NOTFOUND;
	for (p = eq + 1, w = 0; p < amp; p++) {
		char ch = *p;

		if (ch == '+')
			ch = ' ';
		else if (ch == '%') {
			if (amp - p < 3)
				goto bad;
			hi = hexval(p[1]);
			lo = hexval(p[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			ch = (char)(hi * 16 + lo);
			p += 2;
		} else if (ch == '\0')
			goto bad;
		if (w + 1 >= outsz)
			goto bad;
		out[w++] = ch;
	}
	out[w] = '\0';
	*outlen = w;
	return CF_OK;
bad:
	/* SEC: the value may be a password: nothing of it is left. */
	cf_wipe(out, outsz);
	return CF_E_INPUT;
}

size_t
cf_http_query_args(const char *uri)
{
	const char	*q = strchr(uri, '?');
	size_t		 n;

	if (q == NULL || q[1] == '\0')
		return 0;
	for (n = 1, q++; *q != '\0'; q++)
		if (*q == '&')
			n++;
	return n;
}

/* The length of the UTF-8 sequence at p (at most avail bytes), or 0 if
 * it is not a valid one. */
static size_t
utf8_seq(const char *p, size_t avail)
{
	unsigned char	c = (unsigned char)p[0];
	size_t		n;

	if (c < 0x80)
		n = 1;
	else if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > avail || !cf_utf8_valid(p, n))
		return 0;
	return n;
}

size_t
cf_http_text_safe(const char *in, char *out, size_t outsz)
{
	static const char	repl[] = "\xef\xbf\xbd";	/* U+FFFD */
	size_t			i = 0, o = 0, len, n;

	if (outsz == 0)
		return 0;
	len = strlen(in);
	while (i < len) {
		n = utf8_seq(in + i, len - i);
		if (n == 0) {
			if (o + sizeof(repl) - 1 >= outsz)
				break;
			memcpy(out + o, repl, sizeof(repl) - 1);
			o += sizeof(repl) - 1;
			i++;
			continue;
		}
		/* Whole characters only: a cut never makes a new invalid
		 * sequence. */
		if (o + n >= outsz)
			break;
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t
cf_http_header_text(const char *in, char *out, size_t outsz)
{
	size_t	n, i;

	n = cf_http_text_safe(in, out, outsz);
	/* SEC: a header value may hold HTAB and other control bytes (not
	 * CR, LF or NUL: libmicrohttpd refuses those); whoever displays
	 * the context later gets printable text. */
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return n;
}

bool
cf_http_purpose_ok(const char *s)
{
	size_t	n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.:-");
	return n >= 1 && n <= CF_PURPOSE_MAX && s[n] == '\0';
}

/* RFC 9110 5.6.2 token characters: a field name is one token. */
static bool
tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Optional whitespace (RFC 9110 5.6.3). */
static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The next element of a comma-separated list starting at *p: its start
 * and length, OWS trimmed; *p moves past it.  False at the end. */
static bool
list_next(const char **p, const char **elem, size_t *len)
{
	const char	*s = *p, *e;

	while (ows(*s) || *s == ',')
		s++;
	if (*s == '\0')
		return false;
	e = s;
	while (*e != '\0' && *e != ',')
		e++;
	*p = e;
	while (e > s && ows(e[-1]))
		e--;
	*elem = s;
	*len = (size_t)(e - s);
	return true;
}

void
cf_http_framing_add(struct cf_http_framing *f, const char *name,
    const char *value)
{
	const char	*p, *el;
	size_t		 i, n;

	for (i = 0; name[i] != '\0'; i++)
		if (!tchar((unsigned char)name[i]))
			f->bad_name = true;
	if (i == 0)
		f->bad_name = true;
	if (value == NULL)
		value = "";
	if (strcasecmp(name, "Content-Length") == 0) {
		p = value;
		if (!list_next(&p, &el, &n)) {
			f->cl_bad = true;
			return;
		}
		/* Every value of every Content-Length field must be the
		 * same number (RFC 9112 6.3 item 5). */
		do {
			if (n == 0 || n >= sizeof(f->cl) ||
			    strspn(el, "0123456789") < n) {
				f->cl_bad = true;
				break;
			}
			if (f->ncl == 0) {
				memcpy(f->cl, el, n);
				f->cl[n] = '\0';
			} else if (strlen(f->cl) != n ||
			    memcmp(f->cl, el, n) != 0)
				f->cl_bad = true;
			f->ncl++;
		} while (list_next(&p, &el, &n));
		return;
	}
	if (strcasecmp(name, "Transfer-Encoding") != 0)
		return;
	/* The codings of every Transfer-Encoding field, in order: only
	 * "chunked", and last. */
	for (p = value; list_next(&p, &el, &n);) {
		if (f->te_chunked)
			f->te_after_chunked = true;
		if (n == 7 && strncasecmp(el, "chunked", 7) == 0)
			f->te_chunked = true;
		else
			f->te_other = true;
		f->nte++;
	}
	if (f->nte == 0)
		f->te_after_chunked = true;	/* an empty field */
}

int
cf_http_framing_verdict(const struct cf_http_framing *f, bool http10,
    const char **code, const char **msg)
{
	*code = "bad_framing";
	if (f->bad_name) {
		*msg = "a header field name is not a token (whitespace before "
		    "the colon?)";
		return 400;
	}
	if (f->cl_bad) {
		*msg = "Content-Length must be one number (repeated fields "
		    "must agree)";
		return 400;
	}
	if (f->nte == 0 && !f->te_after_chunked)
		return 0;
	if (f->ncl > 0) {
		*msg = "Content-Length and Transfer-Encoding together";
		return 400;
	}
	if (http10) {
		*msg = "Transfer-Encoding in an HTTP/1.0 request";
		return 400;
	}
	if (!f->te_chunked || f->te_after_chunked) {
		*msg = "Transfer-Encoding must end with chunked";
		return 400;
	}
	if (f->te_other || f->nte > 1) {
		*code = "unsupported_transfer_coding";
		*msg = "only Transfer-Encoding: chunked is supported";
		return 501;
	}
	return 0;
}


cf_err
cf_http_trail_feed(struct cf_http_trail *t, const char *data, size_t len,
    cf_http_trail_out out, void *arg, struct cf_error *err)
{
	size_t	over;
	cf_err	rc;

	if (len >= CF_HTTP_TRAIL_LEN) {
		/* Everything held, and all of this piece but its end, is
		 * body. */
		if (t->len > 0) {
			rc = out(arg, t->held, t->len, err);
			if (rc != CF_OK)
				return rc;
		}
		rc = out(arg, data, len - CF_HTTP_TRAIL_LEN, err);
		if (rc != CF_OK)
			return rc;
		memcpy(t->held, data + len - CF_HTTP_TRAIL_LEN,
		    CF_HTTP_TRAIL_LEN);
		t->len = CF_HTTP_TRAIL_LEN;
		return CF_OK;
	}
	/* A short piece: release the oldest held bytes beyond
	 * CF_HTTP_TRAIL_LEN (fewer than t->len, since len is short). */
	if (t->len + len > CF_HTTP_TRAIL_LEN) {
		over = t->len + len - CF_HTTP_TRAIL_LEN;
		rc = out(arg, t->held, over, err);
		if (rc != CF_OK)
			return rc;
		memmove(t->held, t->held + over, t->len - over);
		t->len -= over;
	}
	memcpy(t->held + t->len, data, len);
	t->len += len;
	return CF_OK;
}

const char *
cf_http_trail_digest(struct cf_http_trail *t)
{
	if (t->len != CF_HTTP_TRAIL_LEN)
		return NULL;
	t->held[CF_HTTP_TRAIL_LEN] = '\0';
	return t->held;
}
