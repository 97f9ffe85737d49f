/* src/server/sigv4.c: SigV4 parsing and canonicalisation (see sigv4.h).
 * Everything here reads untrusted bytes: every length is bounded before
 * it is used, and nothing is allocated beyond the caller's buffers and
 * one copy of the query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "server/sigv4.h"

static bool
is_unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~';
}

cf_err
cf_sigv4_uri_encode(struct cf_buf *b, const char *s, size_t len,
    bool keep_slash, struct cf_error *err)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			esc[3];
	size_t			i, run = 0;
	cf_err			rc = CF_OK;

	for (i = 0; i < len && rc == CF_OK; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (is_unreserved(ch) || (keep_slash && ch == '/')) {
			run++;
			continue;
		}
		if (run > 0)
			rc = cf_buf_append(b, s + i - run, run, err);
		run = 0;
		esc[0] = '%';
		esc[1] = hex[ch >> 4];
		esc[2] = hex[ch & 15];
		if (rc == CF_OK)
			rc = cf_buf_append(b, esc, 3, err);
	}
	if (rc == CF_OK && run > 0)
		rc = cf_buf_append(b, s + len - run, run, err);
	return rc;
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
cf_sigv4_decode(const char *s, size_t len, char *out, size_t outsz,
    size_t *outlen, struct cf_error *err)
{
	size_t	i, n = 0;
	int	hi, lo;
	char	ch;

	for (i = 0; i < len; i++) {
		ch = s[i];
		if (ch == '%') {
			if (len - i < 3)
				return cf_error_set(err, CF_E_INPUT,
				    "bad percent escape");
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return cf_error_set(err, CF_E_INPUT,
				    "bad percent escape");
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\0')
			return cf_error_set(err, CF_E_INPUT, "NUL in URL");
		if (n + 1 >= outsz)
			return cf_error_set(err, CF_E_LIMIT, "URL too long");
		out[n++] = ch;
	}
	if (outsz == 0)
		return cf_error_set(err, CF_E_LIMIT, "URL too long");
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return CF_OK;
}

void
cf_sigv4_query_free(struct cf_sigv4_query *q)
{
	if (q == NULL)
		return;
	cf_free(q->store);
	memset(q, 0, sizeof(*q));
}

cf_err
cf_sigv4_query_parse(const char *raw, struct cf_sigv4_query *q,
    struct cf_error *err)
{
	const char	*p, *amp, *eq, *end;
	size_t		 len, used = 0, n;
	cf_err		 rc;

	memset(q, 0, sizeof(*q));
	if (raw == NULL)
		raw = "";
	len = strlen(raw);
	/* Decoding never makes a part longer: one byte per byte plus the
	 * NULs fits. */
	q->store = cf_malloc(2 * len + 2);
	if (q->store == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	for (p = raw; *p != '\0'; p = *amp == '&' ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;		/* "a&&b" */
		if (q->n >= CF_SIGV4_QUERY_MAX) {
			rc = cf_error_set(err, CF_E_LIMIT,
			    "more than %d query parameters",
			    CF_SIGV4_QUERY_MAX);
			goto fail;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		end = eq != NULL ? eq : amp;
		q->name[q->n] = q->store + used;
		rc = cf_sigv4_decode(p, (size_t)(end - p), q->store + used,
		    2 * len + 2 - used, &n, err);
		if (rc != CF_OK)
			goto fail;
		used += n + 1;
		q->value[q->n] = q->store + used;
		if (eq != NULL)
			rc = cf_sigv4_decode(eq + 1, (size_t)(amp - eq - 1),
			    q->store + used, 2 * len + 2 - used, &n, err);
		else {
			q->store[used] = '\0';
			n = 0;
		}
		if (rc != CF_OK)
			goto fail;
		used += n + 1;
		q->n++;
		if (*amp == '\0')
			break;
	}
	return CF_OK;
fail:
	cf_sigv4_query_free(q);
	return rc;
}

const char *
cf_sigv4_query_get(const struct cf_sigv4_query *q, const char *name)
{
	size_t	i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->name[i], name) == 0)
			return q->value[i];
	return NULL;
}

bool
cf_sigv4_query_has(const struct cf_sigv4_query *q, const char *name)
{
	return cf_sigv4_query_get(q, name) != NULL;
}

/* Copy s[0..len) into out (outsz) or fail. */
static cf_err
copy_part(char *out, size_t outsz, const char *s, size_t len,
    const char *what, struct cf_error *err)
{
	if (len == 0 || len >= outsz)
		return cf_error_set(err, CF_E_INPUT, "bad %s", what);
	memcpy(out, s, len);
	out[len] = '\0';
	return CF_OK;
}

/* "AK/DATE/REGION/SERVICE/aws4_request" */
static cf_err
parse_credential(const char *s, size_t len, struct cf_sigv4_auth *a,
    struct cf_error *err)
{
	const char	*part[5];
	size_t		 plen[5], i = 0, j;
	const char	*p = s, *end = s + len, *slash;
	cf_err		 rc;

	/* The key id may not hold '/', so split from the start. */
	while (i < 5) {
		slash = memchr(p, '/', (size_t)(end - p));
		part[i] = p;
		if (slash == NULL || i == 4) {
			plen[i] = (size_t)(end - p);
			i++;
			break;
		}
		plen[i] = (size_t)(slash - p);
		p = slash + 1;
		i++;
	}
	if (i != 5 || plen[4] != 12 ||
	    memcmp(part[4], "aws4_request", 12) != 0)
		return cf_error_set(err, CF_E_INPUT, "the Credential must be "
		    "KEY/DATE/REGION/SERVICE/aws4_request");
	rc = copy_part(a->key_id, sizeof(a->key_id), part[0], plen[0],
	    "access key id", err);
	if (rc == CF_OK && plen[1] != 8)
		rc = cf_error_set(err, CF_E_INPUT, "bad credential date");
	if (rc == CF_OK)
		rc = copy_part(a->date, sizeof(a->date), part[1], plen[1],
		    "credential date", err);
	for (j = 0; rc == CF_OK && j < 8; j++)
		if (a->date[j] < '0' || a->date[j] > '9')
			rc = cf_error_set(err, CF_E_INPUT,
			    "bad credential date");
	if (rc == CF_OK)
		rc = copy_part(a->region, sizeof(a->region), part[2], plen[2],
		    "region", err);
	if (rc == CF_OK)
		rc = copy_part(a->service, sizeof(a->service), part[3],
		    plen[3], "service", err);
	return rc;
}

cf_err
cf_sigv4_parse_header(const char *value, struct cf_sigv4_auth *out,
    struct cf_error *err)
{
	struct cf_sigv4_auth	 a;
	const char		*p, *end, *eq;
	size_t			 alen = strlen(CF_SIGV4_ALG), n;
	bool			 cred = false, sh = false, sig = false;
	cf_err			 rc = CF_OK;

	memset(&a, 0, sizeof(a));
	a.expires = -1;
	if (value == NULL || strncmp(value, CF_SIGV4_ALG, alen) != 0 ||
	    (value[alen] != ' ' && value[alen] != '\t'))
		return cf_error_set(err, CF_E_INPUT, "the Authorization "
		    "header must start with " CF_SIGV4_ALG);
	p = value + alen;
	while (*p != '\0' && rc == CF_OK) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		end = p;
		while (*end != '\0' && *end != ',' && *end != ' ' &&
		    *end != '\t')
			end++;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL) {
			rc = cf_error_set(err, CF_E_INPUT, "bad Authorization "
			    "header component");
			break;
		}
		n = (size_t)(end - eq - 1);
		if ((size_t)(eq - p) == 10 && strncmp(p, "Credential", 10) == 0
		    && !cred) {
			cred = true;
			rc = parse_credential(eq + 1, n, &a, err);
		} else if ((size_t)(eq - p) == 13 &&
		    strncmp(p, "SignedHeaders", 13) == 0 && !sh) {
			sh = true;
			rc = copy_part(a.signed_headers,
			    sizeof(a.signed_headers), eq + 1, n,
			    "SignedHeaders", err);
		} else if ((size_t)(eq - p) == 9 &&
		    strncmp(p, "Signature", 9) == 0 && !sig) {
			sig = true;
			rc = n == 64 ? copy_part(a.signature,
			    sizeof(a.signature), eq + 1, n, "Signature", err) :
			    cf_error_set(err, CF_E_INPUT, "bad Signature");
		} else
			rc = cf_error_set(err, CF_E_INPUT, "bad Authorization "
			    "header component");
		p = end;
	}
	if (rc == CF_OK && (!cred || !sh || !sig))
		rc = cf_error_set(err, CF_E_INPUT, "the Authorization header "
		    "needs Credential, SignedHeaders and Signature");
	if (rc == CF_OK)
		*out = a;
	return rc;
}

cf_err
cf_sigv4_parse_query(const struct cf_sigv4_query *q,
    struct cf_sigv4_auth *out, bool *found, struct cf_error *err)
{
	struct cf_sigv4_auth	 a;
	const char		*alg, *cred, *date, *exp, *sh, *sig;
	uint64_t		 e;
	cf_err			 rc;

	*found = false;
	alg = cf_sigv4_query_get(q, "X-Amz-Algorithm");
	if (alg == NULL)
		return CF_OK;
	*found = true;
	memset(&a, 0, sizeof(a));
	a.presigned = true;
	if (strcmp(alg, CF_SIGV4_ALG) != 0)
		return cf_error_set(err, CF_E_INPUT, "X-Amz-Algorithm must be "
		    CF_SIGV4_ALG);
	cred = cf_sigv4_query_get(q, "X-Amz-Credential");
	date = cf_sigv4_query_get(q, "X-Amz-Date");
	exp = cf_sigv4_query_get(q, "X-Amz-Expires");
	sh = cf_sigv4_query_get(q, "X-Amz-SignedHeaders");
	sig = cf_sigv4_query_get(q, "X-Amz-Signature");
	if (cred == NULL || date == NULL || exp == NULL || sh == NULL ||
	    sig == NULL)
		return cf_error_set(err, CF_E_INPUT, "a presigned URL needs "
		    "X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
		    "X-Amz-SignedHeaders and X-Amz-Signature");
	rc = parse_credential(cred, strlen(cred), &a, err);
	if (rc == CF_OK)
		rc = copy_part(a.amz_date, sizeof(a.amz_date), date,
		    strlen(date), "X-Amz-Date", err);
	if (rc == CF_OK)
		rc = cf_parse_u64(exp, 1, 604800, &e, err);
	if (rc == CF_OK)
		rc = copy_part(a.signed_headers, sizeof(a.signed_headers), sh,
		    strlen(sh), "X-Amz-SignedHeaders", err);
	if (rc == CF_OK && strlen(sig) != 64)
		rc = cf_error_set(err, CF_E_INPUT, "bad X-Amz-Signature");
	if (rc != CF_OK)
		return rc;
	cf_strlcpy(a.signature, sig, sizeof(a.signature));
	a.expires = (int64_t)e;
	*out = a;
	return CF_OK;
}

/* Append a header value trimmed, with each run of blanks made one. */
static cf_err
append_trimmed(struct cf_buf *b, const char *v, struct cf_error *err)
{
	const char	*p = v, *end;
	bool		 blank = false;
	cf_err		 rc = CF_OK;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (; p < end && rc == CF_OK; p++) {
		if (*p == ' ' || *p == '\t') {
			blank = true;
			continue;
		}
		if (blank)
			rc = cf_buf_append(b, " ", 1, err);
		blank = false;
		if (rc == CF_OK)
			rc = cf_buf_append(b, p, 1, err);
	}
	return rc;
}

static int
cmp_param(const void *a, const void *b)
{
	const char *const	*x = a, *const *y = b;
	int			 c;

	c = strcmp(x[0], y[0]);
	return c != 0 ? c : strcmp(x[1], y[1]);
}

/* The canonical query: every parameter but X-Amz-Signature, names and
 * values encoded, sorted by encoded name then value. */
static cf_err
canonical_query(const struct cf_sigv4_query *q, struct cf_buf *out,
    struct cf_error *err)
{
	struct cf_buf	 enc;
	char		*pairs[CF_SIGV4_QUERY_MAX][2];
	size_t		 i, n = 0, off[CF_SIGV4_QUERY_MAX][2];
	cf_err		 rc = CF_OK;

	cf_buf_init(&enc, 64 * 1024);
	for (i = 0; i < q->n && rc == CF_OK; i++) {
		if (strcmp(q->name[i], "X-Amz-Signature") == 0)
			continue;
		off[n][0] = enc.len;
		rc = cf_sigv4_uri_encode(&enc, q->name[i],
		    strlen(q->name[i]), false, err);
		if (rc == CF_OK)
			rc = cf_buf_append(&enc, "", 1, err);
		off[n][1] = enc.len;
		if (rc == CF_OK)
			rc = cf_sigv4_uri_encode(&enc, q->value[i],
			    strlen(q->value[i]), false, err);
		if (rc == CF_OK)
			rc = cf_buf_append(&enc, "", 1, err);
		n++;
	}
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < n; i++) {
		pairs[i][0] = enc.data + off[i][0];
		pairs[i][1] = enc.data + off[i][1];
	}
	qsort(pairs, n, sizeof(pairs[0]), cmp_param);
	for (i = 0; i < n && rc == CF_OK; i++)
		rc = cf_buf_printf(out, err, "%s%s=%s", i > 0 ? "&" : "",
		    pairs[i][0], pairs[i][1]);
out:
	cf_buf_free(&enc);
	return rc;
}

cf_err
cf_sigv4_canonical(const char *method, const char *raw_path,
    const struct cf_sigv4_query *q, const struct cf_sigv4_header *h,
    size_t nh, const struct cf_sigv4_auth *a, const char *payload_hash,
    struct cf_buf *out, struct cf_error *err)
{
	char		 path[4096], name[128], prev[128];
	const char	*p, *semi;
	size_t		 plen = 0, i, len, found, nnames = 0;
	bool		 host = false;
	cf_err		 rc;

	rc = cf_sigv4_decode(raw_path, strlen(raw_path), path, sizeof(path),
	    &plen, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_buf_printf(out, err, "%s\n", method);
	if (rc == CF_OK)
		rc = cf_sigv4_uri_encode(out, path, plen, true, err);
	if (rc == CF_OK)
		rc = cf_buf_append(out, "\n", 1, err);
	if (rc == CF_OK)
		rc = canonical_query(q, out, err);
	if (rc == CF_OK)
		rc = cf_buf_append(out, "\n", 1, err);
	prev[0] = '\0';
	for (p = a->signed_headers; rc == CF_OK && *p != '\0';
	    p = *semi == ';' ? semi + 1 : semi) {
		semi = strchr(p, ';');
		if (semi == NULL)
			semi = p + strlen(p);
		len = (size_t)(semi - p);
		if (len == 0 || len >= sizeof(name) ||
		    ++nnames > CF_SIGV4_HEADERS_MAX)
			return cf_error_set(err, CF_E_INPUT,
			    "bad SignedHeaders");
		memcpy(name, p, len);
		name[len] = '\0';
		for (i = 0; i < len; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				return cf_error_set(err, CF_E_INPUT,
				    "SignedHeaders must be lower case");
		if (prev[0] != '\0' && strcmp(prev, name) >= 0)
			return cf_error_set(err, CF_E_INPUT,
			    "SignedHeaders must be sorted");
		cf_strlcpy(prev, name, sizeof(prev));
		if (strcmp(name, "host") == 0)
			host = true;
		rc = cf_buf_printf(out, err, "%s:", name);
		found = 0;
		for (i = 0; i < nh && rc == CF_OK; i++) {
			if (strcasecmp(h[i].name, name) != 0)
				continue;
			if (found++ > 0)
				rc = cf_buf_append(out, ",", 1, err);
			if (rc == CF_OK)
				rc = append_trimmed(out, h[i].value != NULL ?
				    h[i].value : "", err);
		}
		if (rc == CF_OK && found == 0)
			return cf_error_set(err, CF_E_INPUT,
			    "signed header %s is missing", name);
		if (rc == CF_OK)
			rc = cf_buf_append(out, "\n", 1, err);
		if (*semi == '\0')
			break;
	}
	if (rc == CF_OK && !host)
		return cf_error_set(err, CF_E_INPUT,
		    "SignedHeaders must include host");
	if (rc == CF_OK)
		rc = cf_buf_printf(out, err, "\n%s\n%s", a->signed_headers,
		    payload_hash);
	return rc;
}

cf_err
cf_sigv4_string_to_sign(const struct cf_sigv4_auth *a, const char *cr,
    size_t len, struct cf_buf *out, struct cf_error *err)
{
	uint8_t	d[CF_SHA256_LEN];
	char	hex[2 * CF_SHA256_LEN + 1];

	cf_sha256(cr, len, d);
	cf_hex_encode(d, sizeof(d), hex);
	return cf_buf_printf(out, err, CF_SIGV4_ALG "\n%s\n%s/%s/%s/"
	    "aws4_request\n%s", a->amz_date, a->date, a->region, a->service,
	    hex);
}

cf_err
cf_sigv4_parse_date(const char *s, int64_t *out, struct cf_error *err)
{
	struct tm	tm;
	int		v[6], i, k;
	static const int	pos[6] = { 0, 4, 6, 9, 11, 13 };
	static const int	wid[6] = { 4, 2, 2, 2, 2, 2 };
	time_t		t;

	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return cf_error_set(err, CF_E_INPUT,
		    "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (k = 0; k < wid[i]; k++) {
			char ch = s[pos[i] + k];

			if (ch < '0' || ch > '9')
				return cf_error_set(err, CF_E_INPUT,
				    "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
			v[i] = v[i] * 10 + (ch - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60 || v[0] < 1970)
		return cf_error_set(err, CF_E_INPUT, "X-Amz-Date out of range");
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	t = timegm(&tm);
	if (t == (time_t)-1)
		return cf_error_set(err, CF_E_INPUT, "X-Amz-Date out of range");
	*out = (int64_t)t;
	return CF_OK;
}
