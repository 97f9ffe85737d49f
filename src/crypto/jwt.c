/* src/crypto/jwt.c: OIDC bearer token verification and JWKS handling;
 * see jwt.h and docs/internals/IDENTITY.md.
 *
 * The order of checks is deliberate: size and alphabet first (cheap, on
 * untrusted bytes), then the header, then the key choice, then the
 * signature (rhonabwy on GnuTLS), and only then is the payload decoded and
 * its claims read.  Nothing from the token ever selects a key source:
 * keys come only from the configured JWKS.
 *
 * SEC: rhonabwy is given the exact token we checked and a key we chose for
 * the algorithm we checked; its own view of the algorithm must agree with
 * ours, so a parser differential cannot swap the algorithm under us. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <rhonabwy.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/jwt.h"

#define JWKS_KEYS_MAX	32
#define JSON_DEPTH	16
#define AMR_MAX		32
#define CLAIM_PATH_MAX	128

struct jkey {
	jwk_t		*jwk;
	unsigned int	 algs;		/* CF_JWT_ALG_* this key may verify */
	char		*kid;		/* NULL when absent */
};

struct cf_jwks {
	pthread_mutex_t	 mu;
	struct jkey	*keys;
	size_t		 nkeys;
	cf_jwks_fetch_fn fn;		/* NULL for a fixed set */
	void		*arg;
	struct cf_jwks_opts o;
	char		*src;		/* owned URL or path */
	char		*ca_file;	/* owned copy of o.ca_file */
	int64_t		 fetched_at;	/* last successful fetch */
	int64_t		 tried_at;	/* last attempt */
	int		 tried;		/* an attempt was made */
	unsigned int	 nfetch;
};

static pthread_once_t	lib_once = PTHREAD_ONCE_INIT;
static int		lib_rc = -1;

static void
lib_start(void)
{
	/* Both are documented as not thread-safe: run them once. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return;
	lib_rc = r_global_init();
}

static cf_err
lib_ready(struct cf_error *err)
{
	(void)pthread_once(&lib_once, lib_start);
	if (lib_rc != RHN_OK)
		return cf_error_set(err, CF_E_CRYPTO,
		    "rhonabwy / libcurl initialization failed");
	return CF_OK;
}

void
cf_jwks_opts_default(struct cf_jwks_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ttl = 3600;
	o->min_refresh = 60;
	o->max_bytes = 256 * 1024;
	o->timeout_ms = 5000;
}

/* ---- key sets ---- */

static void
keys_free(struct jkey *keys, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		r_jwk_free(keys[i].jwk);
		cf_free(keys[i].kid);
	}
	cf_free(keys);
}

/* Modulus size of an RSA JWK in bits, from its "n" (rhonabwy 1.1.11's
 * r_jwk_key_type() reports 0 bits for RSA public keys); 0 if unreadable. */
static unsigned int
rsa_bits(jwk_t *jwk)
{
	uint8_t		 n[1024];	/* up to 8192-bit moduli */
	const char	*b64 = r_jwk_get_property_str(jwk, "n");
	size_t		 len = 0, i = 0;
	unsigned int	 bits;
	uint8_t		 top;

	if (b64 == NULL || cf_b64url_decode(b64, strlen(b64), n, sizeof(n),
	    &len, NULL) != CF_OK)
		return 0;
	while (i < len && n[i] == 0)
		i++;
	if (i == len)
		return 0;
	bits = (unsigned int)(len - i - 1) * 8;
	for (top = n[i]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* The algorithms a public key may verify, from its type and curve (and
 * its own "alg", when present); 0 when it is of no use to us. */
static unsigned int
key_algs(jwk_t *jwk)
{
	unsigned int	 bits = 0, algs = 0;
	const char	*crv, *alg, *use;
	int		 t;

	t = r_jwk_key_type(jwk, &bits, R_FLAG_IGNORE_REMOTE);
	/* SEC: public keys only; never a symmetric ("oct") key, which is
	 * what an HS256 confusion attack would need. */
	if ((t & R_KEY_TYPE_PUBLIC) == 0 || (t & (R_KEY_TYPE_PRIVATE |
	    R_KEY_TYPE_SYMMETRIC | R_KEY_TYPE_HMAC)) != 0)
		return 0;
	crv = r_jwk_get_property_str(jwk, "crv");
	if ((t & R_KEY_TYPE_RSA) != 0 && rsa_bits(jwk) >= 2048)
		algs = CF_JWT_ALG_RS256;
	else if ((t & R_KEY_TYPE_EC) != 0 && crv != NULL &&
	    strcmp(crv, "P-256") == 0)
		algs = CF_JWT_ALG_ES256;
	else if ((t & R_KEY_TYPE_EDDSA) != 0 && crv != NULL &&
	    strcmp(crv, "Ed25519") == 0)
		algs = CF_JWT_ALG_EDDSA;
	use = r_jwk_get_property_str(jwk, "use");
	if (use != NULL && strcmp(use, "sig") != 0)
		return 0;
	alg = r_jwk_get_property_str(jwk, "alg");
	if (alg != NULL) {
		if (strcmp(alg, "RS256") == 0)
			algs &= CF_JWT_ALG_RS256;
		else if (strcmp(alg, "ES256") == 0)
			algs &= CF_JWT_ALG_ES256;
		else if (strcmp(alg, "EdDSA") == 0)
			algs &= CF_JWT_ALG_EDDSA;
		else
			algs = 0;
	}
	return algs;
}

/* Parse a JWKS document into a new key array.  Unusable keys are skipped;
 * none usable is CF_E_INPUT. */
static cf_err
keys_parse(const char *doc, size_t len, size_t max, struct jkey **out,
    size_t *nout, struct cf_error *err)
{
	json_t		*root = NULL, *arr, *el;
	struct jkey	*keys = NULL;
	jwk_t		*jwk = NULL;
	const char	*kid;
	size_t		 i, n = 0;
	cf_err		 rc;

	rc = lib_ready(err);
	if (rc != CF_OK)
		goto out;
	rc = cf_json_parse(doc, len, max, JSON_DEPTH, &root, err);
	if (rc != CF_OK)
		goto out;
	arr = json_is_object(root) ? json_object_get(root, "keys") : NULL;
	if (!json_is_array(arr)) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "JWKS has no \"keys\" array");
		goto out;
	}
	if (json_array_size(arr) > JWKS_KEYS_MAX) {
		rc = cf_error_set(err, CF_E_INPUT, "JWKS has over %d keys",
		    JWKS_KEYS_MAX);
		goto out;
	}
	keys = cf_calloc(json_array_size(arr) + 1, sizeof(*keys));
	if (keys == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "JWKS keys");
		goto out;
	}
	json_array_foreach(arr, i, el) {
		if (!json_is_object(el))
			continue;
		if (r_jwk_init(&jwk) != RHN_OK) {
			rc = cf_error_set(err, CF_E_NOMEM, "JWK");
			goto out;
		}
		if (r_jwk_import_from_json_t(jwk, el) != RHN_OK ||
		    key_algs(jwk) == 0) {
			r_jwk_free(jwk);
			jwk = NULL;
			continue;
		}
		kid = r_jwk_get_property_str(jwk, "kid");
		if (kid != NULL) {
			if (strlen(kid) > CF_JWT_KID_MAX) {
				r_jwk_free(jwk);
				jwk = NULL;
				continue;
			}
			keys[n].kid = cf_strdup(kid);
			if (keys[n].kid == NULL) {
				rc = cf_error_set(err, CF_E_NOMEM, "JWK kid");
				goto out;
			}
		}
		keys[n].algs = key_algs(jwk);
		keys[n].jwk = jwk;
		jwk = NULL;
		n++;
	}
	if (n == 0) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "JWKS has no usable signature key");
		goto out;
	}
	*out = keys;
	*nout = n;
	keys = NULL;
out:
	r_jwk_free(jwk);
	if (keys != NULL)
		keys_free(keys, n + 1);
	json_decref(root);
	return rc;
}

static cf_err
jwks_alloc(const struct cf_jwks_opts *o, struct cf_jwks **out,
    struct cf_error *err)
{
	struct cf_jwks	*ks;
	cf_err		 rc;

	rc = lib_ready(err);
	if (rc != CF_OK)
		return rc;
	ks = cf_calloc(1, sizeof(*ks));
	if (ks == NULL)
		return cf_error_set(err, CF_E_NOMEM, "JWKS");
	if (o != NULL)
		ks->o = *o;
	else
		cf_jwks_opts_default(&ks->o);
	if (ks->o.ttl <= 0 || ks->o.min_refresh < 0 || ks->o.max_bytes == 0 ||
	    ks->o.max_bytes > 16 * 1024 * 1024 || ks->o.timeout_ms <= 0) {
		cf_free(ks);
		return cf_error_set(err, CF_E_INVAL,
		    "JWKS options out of range");
	}
	if (ks->o.ca_file != NULL) {
		ks->ca_file = cf_strdup(ks->o.ca_file);
		if (ks->ca_file == NULL) {
			cf_free(ks);
			return cf_error_set(err, CF_E_NOMEM, "JWKS CA file");
		}
		ks->o.ca_file = ks->ca_file;
	}
	if (pthread_mutex_init(&ks->mu, NULL) != 0) {
		cf_free(ks->ca_file);
		cf_free(ks);
		return cf_error_set(err, CF_E_INTERNAL, "pthread_mutex_init");
	}
	*out = ks;
	return CF_OK;
}

void
cf_jwks_free(struct cf_jwks *ks)
{
	if (ks == NULL)
		return;
	keys_free(ks->keys, ks->nkeys);
	(void)pthread_mutex_destroy(&ks->mu);
	cf_free(ks->src);
	cf_free(ks->ca_file);
	cf_free(ks);
}

cf_err
cf_jwks_new_json(const char *json, size_t len, struct cf_jwks **out,
    struct cf_error *err)
{
	struct cf_jwks	*ks = NULL;
	cf_err		 rc;

	if (json == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL JWKS");
	rc = jwks_alloc(NULL, &ks, err);
	if (rc != CF_OK)
		goto out;
	rc = keys_parse(json, len, ks->o.max_bytes, &ks->keys, &ks->nkeys,
	    err);
	if (rc != CF_OK)
		goto out;
	*out = ks;
	ks = NULL;
out:
	cf_jwks_free(ks);
	return rc;
}

cf_err
cf_jwks_new_fetch(cf_jwks_fetch_fn fn, void *arg,
    const struct cf_jwks_opts *o, struct cf_jwks **out, struct cf_error *err)
{
	struct cf_jwks	*ks = NULL;
	cf_err		 rc;

	if (fn == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL JWKS fetcher");
	rc = jwks_alloc(o, &ks, err);
	if (rc != CF_OK)
		return rc;
	ks->fn = fn;
	ks->arg = arg;
	*out = ks;
	return CF_OK;
}

static cf_err
file_fetch(void *arg, struct cf_buf *out, struct cf_error *err)
{
	struct cf_jwks	*ks = arg;
	FILE		*f = NULL;
	char		 chunk[4096];
	size_t		 n;
	cf_err		 rc = CF_OK;

	f = fopen(ks->src, "re");
	if (f == NULL)
		return cf_error_sys(err, CF_E_IO, "open JWKS file");
	while (rc == CF_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = cf_buf_append(out, chunk, n, err);
	if (rc == CF_OK && ferror(f))
		rc = cf_error_sys(err, CF_E_IO, "read JWKS file");
	(void)fclose(f);
	return rc;
}

cf_err
cf_jwks_new_file(const char *path, const struct cf_jwks_opts *o,
    struct cf_jwks **out, struct cf_error *err)
{
	struct cf_jwks	*ks = NULL;
	cf_err		 rc;

	if (path == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL JWKS path");
	rc = jwks_alloc(o, &ks, err);
	if (rc != CF_OK)
		goto out;
	ks->src = cf_strdup(path);
	if (ks->src == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "JWKS path");
		goto out;
	}
	ks->fn = file_fetch;
	ks->arg = ks;
	*out = ks;
	ks = NULL;
out:
	cf_jwks_free(ks);
	return rc;
}

/* https://, or http:// to a literal loopback address when allowed. */
static bool
url_ok(const char *url, bool loopback)
{
	static const char *const lo[] = {
		"http://127.0.0.1", "http://[::1]"
	};
	size_t	i, n;
	char	c;

	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	if (!loopback)
		return false;
	for (i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
		n = strlen(lo[i]);
		if (strncasecmp(url, lo[i], n) != 0)
			continue;
		c = url[n];
		if (c == ':' || c == '/' || c == '\0')
			return true;
	}
	return false;
}

struct sink {
	struct cf_buf	*b;
	cf_err		 rc;
	struct cf_error	*err;
};

static size_t
curl_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink	*s = arg;
	size_t		 n;

	if (!cf_mul_ok(size, nmemb, &n))
		return 0;
	s->rc = cf_buf_append(s->b, p, n, s->err);
	return s->rc == CF_OK ? n : 0;	/* 0 aborts the transfer */
}

cf_err
cf_jwks_fetch_url(const char *url, const struct cf_jwks_opts *o,
    struct cf_buf *out, struct cf_error *err)
{
	struct cf_jwks_opts	 def;
	struct sink		 s;
	CURL			*c = NULL;
	CURLcode		 cc;
	long			 status = 0;
	cf_err			 rc;

	if (o == NULL) {
		cf_jwks_opts_default(&def);
		o = &def;
	}
	if (url == NULL || !url_ok(url, o->allow_http_loopback))
		return cf_error_set(err, CF_E_INVAL,
		    "JWKS URL must be https://");
	rc = lib_ready(err);
	if (rc != CF_OK)
		goto out;
	c = curl_easy_init();
	if (c == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "curl_easy_init");
		goto out;
	}
	s.b = out;
	s.rc = CF_OK;
	s.err = err;
	/* SEC: no redirects (a redirect could leave https or the host), TLS
	 * peer and name verified, bounded time and size. */
	cc = curl_easy_setopt(c, CURLOPT_URL, url);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
		    o->allow_http_loopback ? "https,http" : "https");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cc == CURLE_OK && o->ca_file != NULL)
		cc = curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)out->max);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_USERAGENT, "coffer-jwks");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	if (cc != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "curl_easy_setopt: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_perform(c);
	if (s.rc != CF_OK) {
		rc = s.rc;	/* the sink recorded it (CF_E_LIMIT) */
		goto out;
	}
	if (cc == CURLE_FILESIZE_EXCEEDED) {
		rc = cf_error_set(err, CF_E_LIMIT, "JWKS over %zu bytes",
		    out->max);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = cf_error_set(err, CF_E_IO, "JWKS fetch: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		rc = cf_error_set(err, CF_E_IO, "JWKS fetch: HTTP status %ld",
		    status);
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}

static cf_err
url_fetch(void *arg, struct cf_buf *out, struct cf_error *err)
{
	struct cf_jwks	*ks = arg;

	return cf_jwks_fetch_url(ks->src, &ks->o, out, err);
}

cf_err
cf_jwks_new_url(const char *url, const struct cf_jwks_opts *o,
    struct cf_jwks **out, struct cf_error *err)
{
	struct cf_jwks	*ks = NULL;
	cf_err		 rc;

	if (url == NULL || !url_ok(url, o != NULL && o->allow_http_loopback))
		return cf_error_set(err, CF_E_INVAL,
		    "JWKS URL must be https://");
	rc = jwks_alloc(o, &ks, err);
	if (rc != CF_OK)
		goto out;
	ks->src = cf_strdup(url);
	if (ks->src == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "JWKS URL");
		goto out;
	}
	ks->fn = url_fetch;
	ks->arg = ks;
	*out = ks;
	ks = NULL;
out:
	cf_jwks_free(ks);
	return rc;
}

/* Fetch and swap in new keys.  Called with ks->mu held. */
static cf_err
refresh_locked(struct cf_jwks *ks, int64_t now, struct cf_error *err)
{
	struct cf_buf	 b;
	struct jkey	*keys = NULL;
	size_t		 n = 0;
	cf_err		 rc;

	cf_buf_init(&b, ks->o.max_bytes);
	ks->tried = 1;
	ks->tried_at = now;
	ks->nfetch++;
	rc = ks->fn(ks->arg, &b, err);
	if (rc == CF_OK)
		rc = keys_parse(b.data == NULL ? "" : b.data, b.len,
		    ks->o.max_bytes, &keys, &n, err);
	if (rc != CF_OK) {
		log_warnx("jwks refresh failed: code=%s", cf_err_name(rc));
		goto out;
	}
	keys_free(ks->keys, ks->nkeys);
	ks->keys = keys;
	ks->nkeys = n;
	ks->fetched_at = now;
out:
	cf_buf_free(&b);
	return rc;
}

cf_err
cf_jwks_refresh(struct cf_jwks *ks, int64_t now, struct cf_error *err)
{
	cf_err	rc;

	if (ks->fn == NULL)
		return CF_OK;
	(void)pthread_mutex_lock(&ks->mu);
	rc = refresh_locked(ks, now, err);
	(void)pthread_mutex_unlock(&ks->mu);
	return rc;
}

size_t
cf_jwks_count(struct cf_jwks *ks)
{
	size_t	n;

	(void)pthread_mutex_lock(&ks->mu);
	n = ks->nkeys;
	(void)pthread_mutex_unlock(&ks->mu);
	return n;
}

unsigned int
cf_jwks_fetches(struct cf_jwks *ks)
{
	unsigned int	n;

	(void)pthread_mutex_lock(&ks->mu);
	n = ks->nfetch;
	(void)pthread_mutex_unlock(&ks->mu);
	return n;
}

static bool
may_fetch(const struct cf_jwks *ks, int64_t now)
{
	return ks->fn != NULL &&
	    (!ks->tried || now - ks->tried_at >= ks->o.min_refresh ||
	    now < ks->tried_at);
}

/* Find the key for (kid, alg): exactly one key fits.  *found counts the
 * fitting keys; *idx is the first. */
static void
keys_find(const struct cf_jwks *ks, const char *kid, unsigned int alg,
    size_t *found, size_t *idx)
{
	size_t	i;

	*found = 0;
	for (i = 0; i < ks->nkeys; i++) {
		if ((ks->keys[i].algs & alg) == 0)
			continue;
		if (kid != NULL && (ks->keys[i].kid == NULL ||
		    strcmp(ks->keys[i].kid, kid) != 0))
			continue;
		if (*found == 0)
			*idx = i;
		(*found)++;
	}
}

/* A copy of the verification key for (kid, alg), refreshing the set when
 * it is stale or the kid is unknown (rate-limited). */
static cf_err
key_get(struct cf_jwks *ks, const char *kid, unsigned int alg, int64_t now,
    jwk_t **out, enum cf_jwt_fail *why, struct cf_error *err)
{
	size_t	found = 0, idx = 0, i;
	cf_err	rc = CF_OK;

	(void)pthread_mutex_lock(&ks->mu);
	if (ks->fn != NULL && (ks->fetched_at == 0 ||
	    now - ks->fetched_at >= ks->o.ttl) && may_fetch(ks, now))
		(void)refresh_locked(ks, now, NULL);	/* logged */
	if (ks->nkeys == 0) {
		*why = CF_JWT_FAIL_JWKS_UNAVAILABLE;
		rc = cf_error_set(err, CF_E_IO, "no JWKS keys available");
		goto out;
	}
	keys_find(ks, kid, alg, &found, &idx);
	if (found == 0 && kid != NULL && may_fetch(ks, now)) {
		(void)refresh_locked(ks, now, NULL);
		keys_find(ks, kid, alg, &found, &idx);
	}
	if (found == 0) {
		/* A kid we hold, but for another kind of key: the alg is
		 * what is wrong (algorithm confusion looks like this). */
		*why = kid != NULL ? CF_JWT_FAIL_UNKNOWN_KID :
		    CF_JWT_FAIL_NO_KEY;
		for (i = 0; kid != NULL && i < ks->nkeys; i++)
			if (ks->keys[i].kid != NULL &&
			    strcmp(ks->keys[i].kid, kid) == 0)
				*why = CF_JWT_FAIL_BAD_ALG;
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    kid != NULL ? "no key with the token's kid for its alg" :
		    "no key for the token's alg");
		goto out;
	}
	if (found > 1) {
		*why = CF_JWT_FAIL_NO_KEY;
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "token has no kid and several keys fit");
		goto out;
	}
	*out = r_jwk_copy(ks->keys[idx].jwk);
	if (*out == NULL)
		rc = cf_error_set(err, CF_E_NOMEM, "JWK copy");
out:
	(void)pthread_mutex_unlock(&ks->mu);
	return rc;
}

/* ---- tokens ---- */

static bool
b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Decode one base64url part and parse it as a JSON object. */
static cf_err
part_json(const char *what, const char *s, size_t slen, size_t max,
    json_t **out, struct cf_error *err)
{
	char	*buf = NULL;
	size_t	 n = 0;
	json_t	*j = NULL;
	cf_err	 rc;

	buf = cf_malloc(slen + 1);
	if (buf == NULL)
		return cf_error_set(err, CF_E_NOMEM, "JWT %s", what);
	rc = cf_b64url_decode(s, slen, buf, slen + 1, &n, err);
	if (rc != CF_OK) {
		rc = cf_error_set(err, CF_E_INPUT, "JWT %s: bad base64url",
		    what);
		goto out;
	}
	rc = cf_json_parse(buf, n, max, JSON_DEPTH, &j, err);
	if (rc != CF_OK)
		goto out;
	if (!json_is_object(j)) {
		rc = cf_error_set(err, CF_E_INPUT, "JWT %s is not an object",
		    what);
		goto out;
	}
	*out = j;
	j = NULL;
out:
	json_decref(j);
	cf_free(buf);
	return rc;
}

/* A member by dotted path ("realm_access.roles"); NULL when absent. */
static json_t *
claim_get(json_t *obj, const char *path)
{
	char	 seg[CLAIM_PATH_MAX + 1];
	const char *dot;
	size_t	 n;

	if (json_object_get(obj, path) != NULL)
		return json_object_get(obj, path);
	while (obj != NULL && (dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		if (n == 0 || n > CLAIM_PATH_MAX)
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		obj = json_object_get(obj, seg);
		if (!json_is_object(obj))
			return NULL;
		path = dot + 1;
	}
	return obj == NULL ? NULL : json_object_get(obj, path);
}

/* A claim string fit to be a name: 1..max bytes of UTF-8 text without
 * control characters. */
static cf_err
name_copy(const char *what, json_t *v, char *dst, size_t max,
    cf_err absent, struct cf_error *err)
{
	const char	*s;
	size_t		 n, i;

	if (v == NULL)
		return cf_error_set(err, absent, "JWT has no %s claim", what);
	if (!json_is_string(v))
		return cf_error_set(err, CF_E_INPUT, "JWT %s is not a string",
		    what);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return cf_error_set(err, CF_E_INPUT, "JWT %s is empty", what);
	if (n > max)
		return cf_error_set(err, CF_E_LIMIT,
		    "JWT %s longer than %zu bytes", what, max);
	if (!cf_utf8_valid(s, n))
		return cf_error_set(err, CF_E_INPUT, "JWT %s is not UTF-8",
		    what);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cf_error_set(err, CF_E_INPUT,
			    "JWT %s has a control character", what);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return CF_OK;
}

/* Claims mapped to attributes: a string as it is, a number or boolean
 * as its JSON text; anything else (or a string unfit to be a value) is
 * reported as ignored, never as a reason to refuse the token. */
static void
attrs_copy(json_t *claims, const struct cf_jwt_rules *r,
    struct cf_jwt_claims *c)
{
	json_t		*v;
	char		*txt;
	size_t		 i, n = r->nattr_claims;
	struct cf_error	 e;

	if (n > CF_JWT_ATTRS_MAX)
		n = CF_JWT_ATTRS_MAX;
	for (i = 0; i < n; i++) {
		c->attr_state[i] = CF_JWT_ATTR_ABSENT;
		v = claim_get(claims, r->attr_claims[i]);
		if (v == NULL || json_is_null(v))
			continue;
		c->attr_state[i] = CF_JWT_ATTR_IGNORED;
		if (json_is_string(v)) {
			if (json_string_length(v) == 0) {
				c->attrs[i][0] = '\0';
				c->attr_state[i] = CF_JWT_ATTR_SET;
			} else if (name_copy("attribute", v, c->attrs[i],
			    CF_JWT_ATTR_MAX, CF_E_INPUT, &e) == CF_OK)
				c->attr_state[i] = CF_JWT_ATTR_SET;
			continue;
		}
		if (!json_is_number(v) && !json_is_boolean(v))
			continue;
		txt = cf_json_dumps_flags(v, JSON_ENCODE_ANY);
		if (txt != NULL && cf_strlcpy(c->attrs[i], txt,
		    sizeof(c->attrs[i])) < sizeof(c->attrs[i]))
			c->attr_state[i] = CF_JWT_ATTR_SET;
		cf_json_free(txt);
	}
}

/* A NumericDate: an integer or real in [0, 2^53]. */
static cf_err
date_get(json_t *claims, const char *name, bool required, int64_t *out,
    bool *present, struct cf_error *err)
{
	json_t	*v = json_object_get(claims, name);
	double	 d;

	*present = false;
	if (v == NULL) {
		if (required)
			return cf_error_set(err, CF_E_AUTH,
			    "JWT has no %s claim", name);
		return CF_OK;
	}
	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return cf_error_set(err, CF_E_INPUT, "JWT %s is not a number",
		    name);
	if (!(d >= 0 && d <= 9007199254740992.0))
		return cf_error_set(err, CF_E_INPUT, "JWT %s out of range",
		    name);
	*out = (int64_t)d;
	*present = true;
	return CF_OK;
}

static cf_err
rules_check(const struct cf_jwt_rules *r, struct cf_error *err)
{
	if (r == NULL || r->issuer == NULL || r->issuer[0] == '\0' ||
	    r->audience == NULL || r->audience[0] == '\0')
		return cf_error_set(err, CF_E_INVAL,
		    "JWT rules need an issuer and an audience");
	if (r->skew < 0 || r->skew > CF_JWT_SKEW_MAX || r->max_age < 0 ||
	    r->max_age > CF_JWT_MAX_AGE_MAX ||
	    (r->algs & ~CF_JWT_ALG_ALL) != 0 || r->max_len > CF_JWT_MAX_LIMIT)
		return cf_error_set(err, CF_E_INVAL, "JWT rules out of range");
	return CF_OK;
}

static cf_err
header_check(json_t *hdr, unsigned int allowed, unsigned int *alg,
    const char **kid, enum cf_jwt_fail *why, struct cf_error *err)
{
	json_t		*v;
	const char	*a;

	v = json_object_get(hdr, "alg");
	if (!json_is_string(v))
		return cf_error_set(err, CF_E_INPUT, "JWT header has no alg");
	a = json_string_value(v);
	*why = CF_JWT_FAIL_BAD_ALG;
	/* SEC: "none" in any case is refused first and unconditionally. */
	if (strcasecmp(a, "none") == 0)
		return cf_error_set(err, CF_E_INPUT,
		    "JWT alg none refused");
	if (strcmp(a, "RS256") == 0)
		*alg = CF_JWT_ALG_RS256;
	else if (strcmp(a, "ES256") == 0)
		*alg = CF_JWT_ALG_ES256;
	else if (strcmp(a, "EdDSA") == 0)
		*alg = CF_JWT_ALG_EDDSA;
	else
		return cf_error_set(err, CF_E_INPUT,
		    "JWT alg not supported (RS256, ES256, EdDSA only)");
	if ((*alg & allowed) == 0)
		return cf_error_set(err, CF_E_INPUT,
		    "JWT alg not allowed by configuration");
	*why = CF_JWT_FAIL_MALFORMED;
	if (json_object_get(hdr, "enc") != NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "encrypted JWT (JWE) refused");
	if (json_object_get(hdr, "crit") != NULL ||
	    json_object_get(hdr, "b64") != NULL ||
	    json_object_get(hdr, "zip") != NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "JWT header has crit, b64 or zip");
	v = json_object_get(hdr, "kid");
	*kid = NULL;
	if (v != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > CF_JWT_KID_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return cf_error_set(err, CF_E_INPUT, "JWT kid invalid");
		*kid = json_string_value(v);
	}
	return CF_OK;
}

static cf_err
sig_check(const char *token, size_t len, unsigned int alg, jwk_t *key,
    enum cf_jwt_fail *why, struct cf_error *err)
{
	static const jwa_alg	map[] = { R_JWA_ALG_RS256, R_JWA_ALG_ES256,
	    R_JWA_ALG_EDDSA };
	jws_t			*jws = NULL;
	jwa_alg			 want;
	int			 r;
	cf_err			 rc = CF_OK;

	want = alg == CF_JWT_ALG_RS256 ? map[0] :
	    alg == CF_JWT_ALG_ES256 ? map[1] : map[2];
	if (r_jws_init(&jws) != RHN_OK)
		return cf_error_set(err, CF_E_NOMEM, "JWS");
	/* SEC: compact form only; no keys from the header, no unsigned. */
	r = r_jws_advanced_compact_parsen(jws, token, len, R_PARSE_NONE,
	    R_FLAG_IGNORE_REMOTE);
	if (r != RHN_OK) {
		rc = cf_error_set(err, r == RHN_ERROR_MEMORY ? CF_E_NOMEM :
		    CF_E_INPUT, "JWT malformed (JWS parse)");
		goto out;
	}
	if (r_jws_get_alg(jws) != want) {
		*why = CF_JWT_FAIL_BAD_ALG;
		rc = cf_error_set(err, CF_E_INPUT, "JWT alg mismatch");
		goto out;
	}
	*why = CF_JWT_FAIL_BAD_SIGNATURE;
	r = r_jws_verify_signature(jws, key, R_FLAG_IGNORE_REMOTE);
	if (r != RHN_OK)
		rc = cf_error_set(err, r == RHN_ERROR_MEMORY ? CF_E_NOMEM :
		    CF_E_INTEGRITY, "JWT signature invalid");
out:
	r_jws_free(jws);
	return rc;
}

static cf_err
aud_check(json_t *claims, const char *audience, struct cf_error *err)
{
	json_t	*aud = json_object_get(claims, "aud"), *el;
	size_t	 i;
	bool	 ok = false;

	if (json_is_string(aud))
		ok = strcmp(json_string_value(aud), audience) == 0;
	else if (json_is_array(aud)) {
		if (json_array_size(aud) > CF_JWT_AUD_MAX)
			return cf_error_set(err, CF_E_LIMIT,
			    "JWT aud has over %d entries", CF_JWT_AUD_MAX);
		json_array_foreach(aud, i, el) {
			if (!json_is_string(el))
				return cf_error_set(err, CF_E_INPUT,
				    "JWT aud entry is not a string");
			if (strcmp(json_string_value(el), audience) == 0)
				ok = true;
		}
	} else if (aud != NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "JWT aud is not a string or array");
	if (!ok)
		return cf_error_set(err, CF_E_AUTH, "JWT audience mismatch");
	return CF_OK;
}

static cf_err
time_check(json_t *claims, const struct cf_jwt_rules *r, int64_t now,
    struct cf_jwt_claims *c, enum cf_jwt_fail *why, struct cf_error *err)
{
	int64_t	nbf = 0;
	bool	has_iat, has_nbf, has_exp, has_auth;
	cf_err	rc;

	rc = date_get(claims, "exp", true, &c->exp, &has_exp, err);
	if (rc == CF_OK)
		rc = date_get(claims, "nbf", false, &nbf, &has_nbf, err);
	if (rc == CF_OK)
		rc = date_get(claims, "iat", false, &c->iat, &has_iat, err);
	if (rc == CF_OK)
		rc = date_get(claims, "auth_time", false, &c->auth_time,
		    &has_auth, err);
	if (rc != CF_OK)
		return rc;
	*why = CF_JWT_FAIL_NOT_YET_VALID;
	if (has_auth && now + r->skew < c->auth_time)
		return cf_error_set(err, CF_E_AUTH,
		    "JWT authenticated in the future (auth_time)");
	if (now - r->skew >= c->exp) {
		*why = CF_JWT_FAIL_EXPIRED;
		return cf_error_set(err, CF_E_AUTH, "JWT expired");
	}
	if (has_nbf && now + r->skew < nbf)
		return cf_error_set(err, CF_E_AUTH, "JWT not yet valid (nbf)");
	if (has_iat && now + r->skew < c->iat)
		return cf_error_set(err, CF_E_AUTH,
		    "JWT issued in the future (iat)");
	*why = CF_JWT_FAIL_TOO_OLD;
	if (r->max_age > 0) {
		if (!has_iat)
			return cf_error_set(err, CF_E_AUTH,
			    "JWT has no iat and a maximum age is set");
		if (now - c->iat > r->max_age + r->skew)
			return cf_error_set(err, CF_E_AUTH,
			    "JWT older than the maximum age");
	}
	return CF_OK;
}

static cf_err
groups_copy(json_t *claims, const char *name, struct cf_jwt_claims *c,
    struct cf_error *err)
{
	json_t	*g, *el;
	size_t	 i;
	cf_err	 rc = CF_OK;

	g = claim_get(claims, name);
	if (g == NULL)
		return CF_OK;
	if (json_is_string(g))
		return name_copy("group", g, c->groups[c->ngroups++],
		    CF_JWT_GROUP_MAX, CF_E_INPUT, err);
	if (!json_is_array(g))
		return cf_error_set(err, CF_E_INPUT,
		    "JWT groups claim is not an array");
	if (json_array_size(g) > CF_JWT_GROUPS_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "JWT has over %d groups", CF_JWT_GROUPS_MAX);
	json_array_foreach(g, i, el) {
		rc = name_copy("group", el, c->groups[c->ngroups],
		    CF_JWT_GROUP_MAX, CF_E_INPUT, err);
		if (rc != CF_OK)
			return rc;
		c->ngroups++;
	}
	return CF_OK;
}

static cf_err
amr_read(json_t *claims, bool *mfa, struct cf_error *err)
{
	json_t		*amr = json_object_get(claims, "amr"), *el;
	const char	*s;
	size_t		 i;

	*mfa = false;
	if (amr == NULL)
		return CF_OK;
	if (!json_is_array(amr) || json_array_size(amr) > AMR_MAX)
		return cf_error_set(err, CF_E_INPUT, "JWT amr invalid");
	json_array_foreach(amr, i, el) {
		if (!json_is_string(el))
			return cf_error_set(err, CF_E_INPUT,
			    "JWT amr entry is not a string");
		s = json_string_value(el);
		if (strcmp(s, "mfa") == 0 || strcmp(s, "otp") == 0)
			*mfa = true;
	}
	return CF_OK;
}

/* Which class a failure falls in is set before each step (w), and the
 * steps with several classes refine it. */
cf_err
cf_jwt_verify_why(struct cf_jwks *ks, const char *token, size_t len,
    const struct cf_jwt_rules *rules, int64_t now, struct cf_jwt_claims *out,
    enum cf_jwt_fail *why, struct cf_error *err)
{
	struct cf_jwt_claims	*c = NULL;
	json_t			*hdr = NULL, *claims = NULL, *v;
	jwk_t			*key = NULL;
	const char		*kid = NULL, *dot1, *dot2;
	unsigned int		 alg = 0, allowed;
	size_t			 max, i, dots = 0;
	enum cf_jwt_fail	 w = CF_JWT_FAIL_ERROR;
	cf_err			 rc;

	rc = rules_check(rules, err);
	if (rc != CF_OK)
		goto out;
	if (ks == NULL || (token == NULL && len != 0)) {
		rc = cf_error_set(err, CF_E_INVAL, "NULL JWKS or token");
		goto out;
	}
	max = rules->max_len == 0 ? CF_JWT_MAX_DEFAULT : rules->max_len;
	allowed = rules->algs == 0 ? CF_JWT_ALG_ALL : rules->algs;
	/* SEC: size first, then the alphabet: nothing larger or stranger
	 * than a compact JWS reaches a decoder. */
	w = CF_JWT_FAIL_TOO_LARGE;
	if (len > max) {
		rc = cf_error_set(err, CF_E_LIMIT,
		    "JWT longer than %zu bytes", max);
		goto out;
	}
	w = CF_JWT_FAIL_MALFORMED;
	for (i = 0; i < len; i++) {
		if (token[i] == '.')
			dots++;
		else if (!b64url_char((unsigned char)token[i])) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "JWT has a byte outside base64url");
			goto out;
		}
	}
	if (dots == 4) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "encrypted JWT (JWE) refused");
		goto out;
	}
	if (dots != 2) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "JWT is not three base64url parts");
		goto out;
	}
	dot1 = memchr(token, '.', len);
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot1 == token || dot2 == dot1 + 1) {
		rc = cf_error_set(err, CF_E_INPUT, "JWT has an empty part");
		goto out;
	}

	rc = part_json("header", token, (size_t)(dot1 - token), max, &hdr,
	    err);
	if (rc != CF_OK)
		goto out;
	rc = header_check(hdr, allowed, &alg, &kid, &w, err);
	if (rc != CF_OK)
		goto out;
	w = CF_JWT_FAIL_MALFORMED;
	if (dot2 + 1 == token + len) {
		rc = cf_error_set(err, CF_E_INPUT, "JWT is unsigned");
		goto out;
	}
	rc = key_get(ks, kid, alg, now, &key, &w, err);
	if (rc != CF_OK)
		goto out;
	w = CF_JWT_FAIL_MALFORMED;
	rc = sig_check(token, len, alg, key, &w, err);
	if (rc != CF_OK)
		goto out;

	/* Authenticated from here on. */
	w = CF_JWT_FAIL_MALFORMED;
	rc = part_json("payload", dot1 + 1, (size_t)(dot2 - dot1 - 1), max,
	    &claims, err);
	if (rc != CF_OK)
		goto out;
	c = cf_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "JWT claims");
		goto out;
	}
	w = CF_JWT_FAIL_WRONG_ISSUER;
	v = json_object_get(claims, "iss");
	if (!json_is_string(v) || strcmp(json_string_value(v),
	    rules->issuer) != 0 || strlen(json_string_value(v)) !=
	    json_string_length(v)) {
		rc = cf_error_set(err, CF_E_AUTH, "JWT issuer mismatch");
		goto out;
	}
	rc = aud_check(claims, rules->audience, err);
	w = rc == CF_E_AUTH ? CF_JWT_FAIL_WRONG_AUDIENCE :
	    CF_JWT_FAIL_BAD_CLAIM;
	if (rc != CF_OK)
		goto out;
	w = CF_JWT_FAIL_BAD_CLAIM;
	rc = time_check(claims, rules, now, c, &w, err);
	if (rc != CF_OK)
		goto out;
	w = CF_JWT_FAIL_BAD_USERNAME;
	rc = name_copy("user name", claim_get(claims,
	    rules->username_claim == NULL ? "sub" : rules->username_claim),
	    c->username, CF_JWT_NAME_MAX, CF_E_AUTH, err);
	if (rc != CF_OK)
		goto out;
	w = CF_JWT_FAIL_BAD_CLAIM;
	v = json_object_get(claims, "sub");
	if (v != NULL) {
		rc = name_copy("sub", v, c->subject, CF_JWT_SUB_MAX,
		    CF_E_INPUT, err);
		if (rc != CF_OK)
			goto out;
	}
	if (rules->groups_claim != NULL) {
		rc = groups_copy(claims, rules->groups_claim, c, err);
		v = claim_get(claims, rules->groups_claim);
		if (rc != CF_OK && json_is_array(v) &&
		    json_array_size(v) > CF_JWT_GROUPS_MAX)
			w = CF_JWT_FAIL_TOO_MANY_GROUPS;
		if (rc != CF_OK)
			goto out;
	}
	rc = amr_read(claims, &c->mfa, err);
	if (rc != CF_OK)
		goto out;
	attrs_copy(claims, rules, c);
	(void)cf_strlcpy(c->alg, alg == CF_JWT_ALG_RS256 ? "RS256" :
	    alg == CF_JWT_ALG_ES256 ? "ES256" : "EdDSA", sizeof(c->alg));
	if (kid != NULL)
		(void)cf_strlcpy(c->kid, kid, sizeof(c->kid));
	memcpy(out, c, sizeof(*out));
	w = CF_JWT_FAIL_NONE;
out:
	/* Failures that say nothing about the token. */
	if (rc == CF_E_NOMEM || rc == CF_E_INVAL || rc == CF_E_CRYPTO ||
	    rc == CF_E_INTERNAL)
		w = CF_JWT_FAIL_ERROR;
	else if (rc == CF_E_IO)
		w = CF_JWT_FAIL_JWKS_UNAVAILABLE;
	if (why != NULL)
		*why = w;
	cf_free(c);
	r_jwk_free(key);
	json_decref(claims);
	json_decref(hdr);
	return rc;
}

cf_err
cf_jwt_verify(struct cf_jwks *ks, const char *token, size_t len,
    const struct cf_jwt_rules *rules, int64_t now, struct cf_jwt_claims *out,
    struct cf_error *err)
{
	return cf_jwt_verify_why(ks, token, len, rules, now, out, NULL, err);
}

cf_err
cf_jwt_peek_issuer(const char *token, size_t len, size_t max_len, char *iss,
    size_t isssz, enum cf_jwt_fail *why, struct cf_error *err)
{
	const char	*dot1, *dot2, *v;
	json_t		*cl = NULL;
	size_t		 i, dots = 0, max;
	enum cf_jwt_fail w = CF_JWT_FAIL_ERROR;
	cf_err		 rc;

	if (token == NULL || iss == NULL || isssz == 0) {
		rc = cf_error_set(err, CF_E_INVAL, "NULL token or buffer");
		goto out;
	}
	max = max_len == 0 ? CF_JWT_MAX_DEFAULT : max_len;
	w = CF_JWT_FAIL_TOO_LARGE;
	if (len > max) {
		rc = cf_error_set(err, CF_E_LIMIT,
		    "JWT longer than %zu bytes", max);
		goto out;
	}
	w = CF_JWT_FAIL_MALFORMED;
	for (i = 0; i < len; i++) {
		if (token[i] == '.')
			dots++;
		else if (!b64url_char((unsigned char)token[i])) {
			rc = cf_error_set(err, CF_E_INPUT,
			    "JWT has a byte outside base64url");
			goto out;
		}
	}
	if (dots != 2) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "JWT is not three base64url parts");
		goto out;
	}
	dot1 = memchr(token, '.', len);
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot1 == token || dot2 == dot1 + 1) {
		rc = cf_error_set(err, CF_E_INPUT, "JWT has an empty part");
		goto out;
	}
	rc = part_json("claims", dot1 + 1, (size_t)(dot2 - dot1 - 1), max, &cl,
	    err);
	if (rc != CF_OK)
		goto out;
	w = CF_JWT_FAIL_WRONG_ISSUER;
	v = json_string_value(json_object_get(cl, "iss"));
	if (v == NULL)
		rc = cf_error_set(err, CF_E_INPUT, "JWT has no string iss");
	else if (strlen(v) >= isssz)
		rc = cf_error_set(err, CF_E_LIMIT, "JWT iss too long");
	else {
		(void)cf_strlcpy(iss, v, isssz);
		w = CF_JWT_FAIL_NONE;
	}
out:
	if (rc == CF_E_NOMEM || rc == CF_E_INVAL)
		w = CF_JWT_FAIL_ERROR;
	if (why != NULL)
		*why = w;
	json_decref(cl);
	return rc;
}
