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

size_t
cf_audit_field_max(const char *s, size_t limit, size_t *n)
{
	*n = strnlen(s, limit + 8);
	/* Every byte looked at becomes at most 6 bytes of output (an
	 * invalid byte U+FFFD, "\uFFFD"; a control character "\u00XX";
	 * a 4-byte sequence a 12-byte surrogate pair), the output before
	 * escaping is at most limit bytes, and escaping at most multiplies
	 * it by 6; plus the quotes and the "..." marker. */
	return 6 * (*n < limit ? *n : limit) + 2 + sizeof(ellipsis) - 1;
}

size_t
cf_audit_field_write(const char *s, size_t n, size_t limit, char *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, o = 0, w = 1, cutw = 1;
	size_t			 k, add;
	unsigned		 c, cp;
	char			 e;

	/* SEC: cf_audit_sanitize then cf_audit_json_str in one pass, byte
	 * for byte: o counts the repaired bytes (what the truncation rule
	 * measures), w the escaped bytes written, and cutw is where the
	 * escaped text of the longest repaired prefix that leaves room for
	 * "..." ends, so that "..." replaces exactly what sanitize cuts. */
	out[0] = '"';
	while (i < n) {
		if (o + sizeof(ellipsis) - 1 <= limit)
			cutw = w;
		c = p[i];
		/* Printable ASCII, nearly every byte of every record. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 > limit)
				goto trunc;
			out[w++] = (char)c;
			o++;
			i++;
			continue;
		}
		if (c < 0x80) {
			if (o + 1 > limit)
				goto trunc;
			e = short_escape(c);
			if (e != '\0') {
				out[w++] = '\\';
				out[w++] = e;
			} else
				w += esc_u(c, out + w);
			o++;
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		add = k != 0 ? k : sizeof(replacement) - 1;
		if (o + add > limit)
			goto trunc;
		o += add;
		if (k == 0) {
			/* One invalid byte becomes one U+FFFD. */
			i++;
			w += esc_u(0xfffd, out + w);
			continue;
		}
		if (k == 2)
			cp = (c & 0x1fu) << 6 | (p[i + 1] & 0x3fu);
		else if (k == 3)
			cp = (c & 0x0fu) << 12 | (p[i + 1] & 0x3fu) << 6 |
			    (p[i + 2] & 0x3fu);
		else
			cp = (c & 0x07u) << 18 | (p[i + 1] & 0x3fu) << 12 |
			    (p[i + 2] & 0x3fu) << 6 | (p[i + 3] & 0x3fu);
		i += k;
		if (cp < 0x10000)
			w += esc_u(cp, out + w);
		else {
			cp -= 0x10000;
			w += esc_u(0xd800 | (cp >> 10), out + w);
			w += esc_u(0xdc00 | (cp & 0x3ff), out + w);
		}
	}
	out[w++] = '"';
	return w;
trunc:
	memcpy(out + cutw, ellipsis, sizeof(ellipsis) - 1);
	w = cutw + sizeof(ellipsis) - 1;
	out[w++] = '"';
	return w;
}

/* The fields of a record in the order of the format, and their limits. */
#define NFIELDS	AUDIT_NFIELDS
static void
rec_fields(const struct cf_audit_rec *rec, const char *v[NFIELDS])
{
	v[0] = rec->request_id;
	v[1] = rec->principal;
	v[2] = rec->authn;
	v[3] = rec->source;
	v[4] = rec->action;
	v[5] = rec->resource;
	v[6] = rec->decision;
	v[7] = rec->reasons;
	v[8] = rec->result;
}

static size_t
field_limit(size_t i)
{
	return i == 5 ? AUDIT_RESOURCE_MAX : AUDIT_FIELD_MAX;
}

static const char	trunc_ctx[] = "{\"truncated\":true}";

/* The ctx text rec carries, or NULL (none, or a jansson object); *n its
 * length as written: {"truncated":true} in place of one over
 * AUDIT_CTX_MAX bytes or not an object, as put_ctx does. */
static const char *
ctx_text(const struct cf_audit_rec *rec, size_t *n)
{
	const char	*p = rec->ctx_text;

	if (rec->ctx != NULL || p == NULL)
		return NULL;
	*n = rec->ctx_len;
	if (*n < 2 || *n > AUDIT_CTX_MAX || p[0] != '{' || p[*n - 1] != '}') {
		*n = sizeof(trunc_ctx) - 1;
		return trunc_ctx;
	}
	return p;
}

size_t
cf_audit_body_max(const struct cf_audit_rec *rec, size_t flen[NFIELDS])
{
	const char	*v[NFIELDS];
	size_t		 i, max, n;

	rec_fields(rec, v);
	/* Names, punctuation, time, mfa, two integers: under 256. */
	max = 256;
	for (i = 0; i < NFIELDS; i++)
		max += cf_audit_field_max(v[i] == NULL ? "" : v[i],
		    field_limit(i), &flen[i]);
	if (ctx_text(rec, &n) != NULL)
		max += sizeof(",\"ctx\":") - 1 + n;
	return max;
}

/* Append the integer v (decimal) at out; returns its length. */
static size_t
put_u64(uint64_t v, char *out)
{
	char	d[20];
	size_t	o = sizeof(d), n;

	do {
		d[--o] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	n = sizeof(d) - o;
	memcpy(out, d + o, n);
	return n;
}

#define LIT(o, s)	(memcpy((o), (s), sizeof(s) - 1), sizeof(s) - 1)

size_t
cf_audit_body_write(const struct cf_audit_rec *rec,
    const size_t flen[NFIELDS], char *out)
{
	static const char *const	 names[NFIELDS] = {
		",\"request_id\":", ",\"principal\":", ",\"authn\":",
		",\"source\":", ",\"action\":", ",\"resource\":",
		",\"decision\":", ",\"reasons\":", ",\"result\":",
	};
	const char			*v[NFIELDS], *ctx;
	char				 t[CF_TIME_STR_LEN];
	size_t				 w = 0, i, n;
	uint64_t			 bytes;

	rec_fields(rec, v);
	cf_time_format(rec->time_us, t);
	w += LIT(out + w, "\"time\":\"");
	n = strlen(t);
	memcpy(out + w, t, n);
	w += n;
	out[w++] = '"';
	for (i = 0; i < NFIELDS; i++) {
		n = strlen(names[i]);
		memcpy(out + w, names[i], n);
		w += n;
		w += cf_audit_field_write(v[i] == NULL ? "" : v[i], flen[i],
		    field_limit(i), out + w);
		if (i == 2)
			w += rec->mfa ? LIT(out + w, ",\"mfa\":true") :
			    LIT(out + w, ",\"mfa\":false");
		if (i == 7) {
			w += LIT(out + w, ",\"status\":");
			if (rec->status < 0) {
				out[w++] = '-';
				w += put_u64(-(uint64_t)(int64_t)rec->status,
				    out + w);
			} else
				w += put_u64((uint64_t)rec->status, out + w);
		}
	}
	/* JSON readers (jansson included) stop at INT64_MAX. */
	bytes = rec->bytes > INT64_MAX ? INT64_MAX : rec->bytes;
	w += LIT(out + w, ",\"bytes\":");
	w += put_u64(bytes, out + w);
	ctx = ctx_text(rec, &n);
	if (ctx != NULL) {
		w += LIT(out + w, ",\"ctx\":");
		memcpy(out + w, ctx, n);
		w += n;
	}
	return w;
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

cf_err
cf_audit_format_body(const struct cf_audit_rec *rec, struct cf_buf *b,
    struct cf_error *err)
{
	size_t	flen[NFIELDS], max, n;
	char	*tmp;
	cf_err	rc;

	max = cf_audit_body_max(rec, flen);
	tmp = cf_malloc(max);
	if (tmp == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	n = cf_audit_body_write(rec, flen, tmp);
	rc = cf_buf_append(b, tmp, n, err);
	cf_free(tmp);
	if (rc == CF_OK && rec->ctx != NULL)
		rc = put_ctx(b, rec->ctx, err);
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

void
cf_audit_mac_keyed(struct cf_hmac *h, const void *p, size_t n,
    uint8_t out[CF_MAC_LEN])
{
	cf_hmac_update(h, p, n);
	cf_hmac_update(h, "}", 1);
	cf_hmac_final_reset(h, out);
}

cf_err
cf_audit_seal(struct cf_hmac *h, uint64_t seq, const char *body,
    size_t bodylen, const uint8_t prev[CF_MAC_LEN], struct cf_buf *b,
    uint8_t mac[CF_MAC_LEN], struct cf_error *err)
{
	char	head[32], tail[128];
	size_t	start = b->len, hn = 0, tn = 0;
	cf_err	rc;

	hn += LIT(head, "{\"seq\":");
	hn += put_u64(seq, head + hn);
	head[hn++] = ',';
	tn += LIT(tail, ",\"prev\":\"");
	cf_hex_encode(prev, CF_MAC_LEN, tail + tn);
	tn += AUDIT_MAC_HEX;
	tail[tn++] = '"';
	rc = cf_buf_append(b, head, hn, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, body, bodylen, err);
	if (rc == CF_OK)
		rc = cf_buf_append(b, tail, tn, err);
	if (rc != CF_OK)
		goto fail;
	/* The canonical bytes are the line so far and "}". */
	cf_audit_mac_keyed(h, b->data + start, b->len - start, mac);
	tn = LIT(tail, ",\"mac\":\"");
	cf_hex_encode(mac, CF_MAC_LEN, tail + tn);
	tn += AUDIT_MAC_HEX;
	tn += LIT(tail + tn, "\"}\n");
	rc = cf_buf_append(b, tail, tn, err);
	if (rc == CF_OK)
		return CF_OK;
fail:
	/* Nothing of a record that failed stays queued. */
	cf_buf_truncate(b, start);
	return rc;
}

size_t
cf_audit_ckpt_text(struct cf_hmac *h, const struct audit_ckpt *c,
    char out[AUDIT_CKPT_LINE_MAX])
{
	char	t[CF_TIME_STR_LEN];
	uint8_t	sig[CF_MAC_LEN];
	size_t	w = 0, n;

	/* {"seq":N,"mac":"hex","time":"T","sig":"hex"} and a newline: at
	 * most 7 + 20 + 8 + 64 + 10 + 31 + 9 + 64 + 3 bytes. */
	cf_time_format(c->time_us, t);
	w += LIT(out + w, "{\"seq\":");
	w += put_u64(c->seq, out + w);
	w += LIT(out + w, ",\"mac\":\"");
	cf_hex_encode(c->mac, CF_MAC_LEN, out + w);
	w += AUDIT_MAC_HEX;
	w += LIT(out + w, "\",\"time\":\"");
	n = strnlen(t, sizeof(t) - 1);
	memcpy(out + w, t, n);
	w += n;
	out[w++] = '"';
	cf_audit_mac_keyed(h, out, w, sig);
	w += LIT(out + w, ",\"sig\":\"");
	cf_hex_encode(sig, CF_MAC_LEN, out + w);
	w += AUDIT_MAC_HEX;
	w += LIT(out + w, "\"}\n");
	return w;
}
