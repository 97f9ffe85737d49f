/* src/audit/record.c: the audit record format on the write side: UTF-8
 * repair, truncation, JSON escaping (jansson's, see cf_audit_json_str),
 * the MAC rule and sealing.
 * The format is specified in docs/internals/AUDIT.md. */
#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit_int.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"

static const char	 ellipsis[] = "...";
static const char	 replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

cf_err
cf_audit_keys_derive(const struct cf_key *mac_key, struct audit_keys *out,
    struct cf_error *err)
{
	struct audit_keys	k = { NULL, NULL };
	cf_err			rc;

	if (mac_key == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit: no MAC key");
	/* SEC: records and checkpoints use distinct keys, so no checkpoint
	 * can ever be passed off as a record or vice versa. */
	rc = cf_key_derive(mac_key, AUDIT_LABEL_REC, &k.rec, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_key_derive(mac_key, AUDIT_LABEL_CKPT, &k.ckpt, err);
	if (rc != CF_OK)
		goto out;
	*out = k;
	k.rec = NULL;
	k.ckpt = NULL;
out:
	cf_audit_keys_free(&k);
	return rc;
}

void
cf_audit_keys_free(struct audit_keys *k)
{
	if (k == NULL)
		return;
	cf_key_free(k->rec);
	cf_key_free(k->ckpt);
	k->rec = NULL;
	k->ckpt = NULL;
}

/* Length of the well-formed UTF-8 sequence at p[0..n) (n >= 1), or 0 if
 * the bytes there are not one (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char	c = p[0];
	size_t		len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xf0 && p[1] < 0x90))
		return 0;			/* overlong */
	if (c == 0xed && p[1] > 0x9f)
		return 0;			/* UTF-16 surrogate */
	if (c == 0xf4 && p[1] > 0x8f)
		return 0;			/* above U+10FFFF */
	return len;
}

size_t
cf_audit_sanitize(const char *s, size_t limit, char *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, i = 0, o = 0, cut = 0, k, add;

	/* Look at no more than limit + 8 bytes: every input byte yields at
	 * least one output byte, so the rest would be cut anyway, and a
	 * 100 MB value costs no more than a short one. */
	n = strnlen(s, limit + 8);
	while (i < n) {
		if (o + sizeof(ellipsis) - 1 <= limit)
			cut = o;
		k = utf8_seq(p + i, n - i);
		add = k != 0 ? k : sizeof(replacement) - 1;
		if (o + add > limit) {
			memcpy(out + cut, ellipsis, sizeof(ellipsis) - 1);
			return cut + sizeof(ellipsis) - 1;
		}
		if (k != 0) {
			memcpy(out + o, p + i, k);
			i += k;
		} else {
			/* One invalid byte becomes one U+FFFD. */
			memcpy(out + o, replacement, add);
			i++;
		}
		o += add;
	}
	return o;
}

struct dump_arg {
	struct cf_buf	*b;
	cf_err		 rc;
};

/* jansson's output, with DEL (left raw by jansson) escaped too. */
static int
dump_cb(const char *p, size_t n, void *arg)
{
	struct dump_arg	*d = arg;
	const char	*del;

	while (d->rc == CF_OK && n > 0) {
		del = memchr(p, 0x7f, n);
		if (del == NULL) {
			d->rc = cf_buf_append(d->b, p, n, NULL);
			break;
		}
		d->rc = cf_buf_append(d->b, p, (size_t)(del - p), NULL);
		if (d->rc == CF_OK)
			d->rc = cf_buf_append_str(d->b, "\\u007F", NULL);
		n -= (size_t)(del - p) + 1;
		p = del + 1;
	}
	return d->rc == CF_OK ? 0 : -1;
}

/* "\uXXXX" for the UTF-16 unit u, as jansson writes it (upper case). */
static size_t
esc_u(unsigned u, char *o)
{
	static const char	hex[] = "0123456789ABCDEF";

	o[0] = '\\';
	o[1] = 'u';
	o[2] = hex[(u >> 12) & 0xf];
	o[3] = hex[(u >> 8) & 0xf];
	o[4] = hex[(u >> 4) & 0xf];
	o[5] = hex[u & 0xf];
	return 6;
}

/* JSON's two-character escape of the ASCII c, or NUL for none. */
static char
short_escape(unsigned c)
{
	switch (c) {
	case '"':
		return '"';
	case '\\':
		return '\\';
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	default:
		return '\0';
	}
}

cf_err
cf_audit_json_str(struct cf_buf *b, const char *s, size_t n,
    struct cf_error *err)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 out[512];
	size_t			 i = 0, o = 0, len;
	unsigned		 c, cp;
	char			 e;
	cf_err			 rc;

	/* SEC: the escaping of jansson's json_dumps with JSON_ENSURE_ASCII
	 * (plus DEL, which jansson leaves raw), byte for byte (the unit test
	 * compares the two on random input), so every line stays printable
	 * ASCII: no bidi override or terminal escape survives into a
	 * viewer.  By hand only because jansson can only escape a json_t it
	 * allocated, which cost most of a record's formatting. */
	out[o++] = '"';
	while (i < n) {
		/* Room for the longest escape (a surrogate pair, 12 bytes)
		 * and the closing quote after the last one. */
		if (o + 12 + 1 > sizeof(out)) {
			if ((rc = cf_buf_append(b, out, o, err)) != CF_OK)
				return rc;
			o = 0;
		}
		c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			i++;
			if ((e = short_escape(c)) != '\0') {
				out[o++] = '\\';
				out[o++] = e;
			} else {
				o += esc_u(c, out + o);
			}
			continue;
		}
		/* Well-formed UTF-8 (the caller sanitized it): decode. */
		len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (c < 0xc2 || c > 0xf4 || i + len > n)
			return cf_error_set(err, CF_E_INTERNAL,
			    "audit: unsanitized field");
		if (len == 2)
			cp = (c & 0x1fu) << 6 | (p[i + 1] & 0x3fu);
		else if (len == 3)
			cp = (c & 0x0fu) << 12 | (p[i + 1] & 0x3fu) << 6 |
			    (p[i + 2] & 0x3fu);
		else
			cp = (c & 0x07u) << 18 | (p[i + 1] & 0x3fu) << 12 |
			    (p[i + 2] & 0x3fu) << 6 | (p[i + 3] & 0x3fu);
		i += len;
		if (cp < 0x10000) {
			o += esc_u(cp, out + o);
		} else {
			cp -= 0x10000;
			o += esc_u(0xd800 | (cp >> 10), out + o);
			o += esc_u(0xdc00 | (cp & 0x3ff), out + o);
		}
	}
	out[o++] = '"';
	return cf_buf_append(b, out, o, err);
}

/* Append "name":<escaped value>. */
static cf_err
put_str(struct cf_buf *b, const char *name, const char *s, size_t limit,
    struct cf_error *err)
{
	char	tmp[AUDIT_RESOURCE_MAX];
	size_t	n;
	cf_err	rc;

	n = cf_audit_sanitize(s == NULL ? "" : s, limit, tmp);
	rc = cf_buf_append(b, "\"", 1, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, name, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "\":", 2, err);
	/* Valid UTF-8 now, without NUL. */
	if (rc == CF_OK)
		rc = cf_audit_json_str(b, tmp, n, err);
	return rc;
}

/* Append ,"ctx":<object>, escaped as the strings are; an object over
 * AUDIT_CTX_MAX bytes becomes {"truncated":true}, so that a record never
 * fails for its size. */
static cf_err
put_ctx(struct cf_buf *b, const json_t *ctx, struct cf_error *err)
{
	struct dump_arg	d = { b, CF_OK };
	size_t		start;
	cf_err		rc;

	rc = cf_buf_append_str(b, ",\"ctx\":", err);
	if (rc != CF_OK)
		return rc;
	start = b->len;
	if (!json_is_object(ctx) || json_dump_callback(ctx, dump_cb, &d,
	    JSON_ENSURE_ASCII | JSON_COMPACT) != 0 ||
	    b->len - start > AUDIT_CTX_MAX) {
		if (d.rc == CF_E_NOMEM)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		b->len = start;
		rc = cf_buf_append_str(b, "{\"truncated\":true}", err);
	}
	return rc;
}

/* Append ,"ctx":<p[0..n)>, an object the caller wrote (its strings
 * escaped by cf_audit_json_string); over AUDIT_CTX_MAX bytes, or not
 * an object, {"truncated":true} as put_ctx does. */
static cf_err
put_ctx_text(struct cf_buf *b, const char *p, size_t n,
    struct cf_error *err)
{
	cf_err	rc;

	rc = cf_buf_append_str(b, ",\"ctx\":", err);
	if (rc != CF_OK)
		return rc;
	if (n < 2 || n > AUDIT_CTX_MAX || p[0] != '{' || p[n - 1] != '}')
		return cf_buf_append_str(b, "{\"truncated\":true}", err);
	return cf_buf_append(b, p, n, err);
}

cf_err
cf_audit_format_body(const struct cf_audit_rec *rec, struct cf_buf *b,
    struct cf_error *err)
{
	char		t[CF_TIME_STR_LEN];
	uint64_t	bytes;
	cf_err		rc;

	cf_time_format(rec->time_us, t);
	rc = cf_buf_append(b, "\"time\":\"", 8, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, t, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "\",", 2, err);
	if (rc == CF_OK)
		rc = put_str(b, "request_id", rec->request_id,
		    AUDIT_FIELD_MAX, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",", err);
	if (rc == CF_OK)
		rc = put_str(b, "principal", rec->principal, AUDIT_FIELD_MAX,
		    err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",", err);
	if (rc == CF_OK)
		rc = put_str(b, "authn", rec->authn, AUDIT_FIELD_MAX, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, rec->mfa ? ",\"mfa\":true," :
		    ",\"mfa\":false,", err);
	if (rc == CF_OK)
		rc = put_str(b, "source", rec->source, AUDIT_FIELD_MAX, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",", err);
	if (rc == CF_OK)
		rc = put_str(b, "action", rec->action, AUDIT_FIELD_MAX, err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",", err);
	if (rc == CF_OK)
		rc = put_str(b, "resource", rec->resource, AUDIT_RESOURCE_MAX,
		    err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",", err);
	if (rc == CF_OK)
		rc = put_str(b, "decision", rec->decision, AUDIT_FIELD_MAX,
		    err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, ",", err);
	if (rc == CF_OK)
		rc = put_str(b, "reasons", rec->reasons, AUDIT_FIELD_MAX, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, ",\"status\":", 10, err);
	if (rc == CF_OK)
		rc = cf_buf_append_i64(b, rec->status, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, ",", 1, err);
	if (rc == CF_OK)
		rc = put_str(b, "result", rec->result, AUDIT_FIELD_MAX, err);
	/* JSON readers (jansson included) stop at INT64_MAX. */
	bytes = rec->bytes > INT64_MAX ? INT64_MAX : rec->bytes;
	if (rc == CF_OK)
		rc = cf_buf_append(b, ",\"bytes\":", 9, err);
	if (rc == CF_OK)
		rc = cf_buf_append_i64(b, (int64_t)bytes, err);
	if (rc == CF_OK && rec->ctx != NULL)
		rc = put_ctx(b, rec->ctx, err);
	else if (rc == CF_OK && rec->ctx_text != NULL)
		rc = put_ctx_text(b, rec->ctx_text, rec->ctx_len, err);
	return rc;
}

cf_err
cf_audit_json_string(struct cf_buf *b, const char *s, struct cf_error *err)
{
	size_t	n = strlen(s);

	if (!cf_utf8_valid(s, n))
		return cf_error_set(err, CF_E_INVAL, "audit: not UTF-8");
	return cf_audit_json_str(b, s, n, err);
}

cf_err
cf_audit_mac_canon(const struct cf_key *k, const void *p, size_t n,
    uint8_t out[CF_MAC_LEN], struct cf_error *err)
{
	struct cf_hmac	*h = NULL;
	cf_err		 rc;

	rc = cf_hmac_new(k, &h, err);
	if (rc != CF_OK)
		return rc;
	cf_hmac_update(h, p, n);
	cf_hmac_update(h, "}", 1);
	cf_hmac_final(h, out);
	cf_hmac_free(h);
	return CF_OK;
}

cf_err
cf_audit_mac_buf(const struct cf_key *k, struct cf_buf *b, size_t start,
    uint8_t out[CF_MAC_LEN], struct cf_error *err)
{
	cf_err	rc;

	rc = cf_buf_append(b, "}", 1, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_hmac_sha256(k, b->data + start, b->len - start, out, err);
	b->len--;
	return rc;
}

cf_err
cf_audit_seal(const struct cf_key *k, uint64_t seq, const char *body,
    size_t bodylen, const uint8_t prev[CF_MAC_LEN], struct cf_buf *b,
    uint8_t mac[CF_MAC_LEN], struct cf_error *err)
{
	char	hex[AUDIT_MAC_HEX + 1];
	size_t	start = b->len;
	cf_err	rc;

	cf_hex_encode(prev, CF_MAC_LEN, hex);
	rc = cf_buf_append(b, "{\"seq\":", 7, err);
	if (rc == CF_OK)
		rc = cf_buf_append_i64(b, (int64_t)seq, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, ",", 1, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, body, bodylen, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, ",\"prev\":\"", 9, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, hex, AUDIT_MAC_HEX, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "\"", 1, err);
	if (rc == CF_OK)
		rc = cf_audit_mac_buf(k, b, start, mac, err);
	if (rc != CF_OK)
		return rc;
	cf_hex_encode(mac, CF_MAC_LEN, hex);
	rc = cf_buf_append(b, ",\"mac\":\"", 8, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, hex, AUDIT_MAC_HEX, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, "\"}\n", 3, err);
	return rc;
}
