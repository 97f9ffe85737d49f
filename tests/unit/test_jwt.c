/* cf-link: cf_crypto cf_base */
/* tests/unit/test_jwt.c: src/crypto/jwt.c — OIDC bearer tokens signed
 * here with rhonabwy (RS256, ES256, EdDSA) and every refusal of the issue:
 * malformed, expired, not yet valid, wrong audience or issuer, wrong or
 * disallowed algorithm, alg none, HS256 keyed with the RSA public key
 * (algorithm confusion), tampered payload or signature, JWE, oversized,
 * too many groups, unknown kid (one refresh through the pluggable
 * fetcher), the file and loopback-URL sources, and NOMEM paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <rhonabwy.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/jwt.h"

#define NOW	1700000000LL
#define ISS	"https://idp.example.com/realms/ml"
#define AUD	"coffer"

static jwk_t	*rsa_priv, *rsa_pub, *ec_priv, *ec_pub, *ed_priv, *ed_pub;
static jwk_t	*rsa2_priv, *rsa2_pub;		/* "rsa2": rotated in later */
static jwk_t	*nokid_priv, *nokid_pub;	/* EC, no kid */
static char	*jwks_main;			/* rsa1, ec1, ed1 */
static char	*jwks_rotated;			/* rsa1, ec1, ed1, rsa2 */
static char	*jwks_nokid;			/* the kid-less EC key only */

static char *
jwks_of(jwk_t *a, jwk_t *b, jwk_t *c, jwk_t *d)
{
	jwks_t	*ks = NULL;
	char	*s;

	assert_int_equal(r_jwks_init(&ks), RHN_OK);
	if (a != NULL)
		assert_int_equal(r_jwks_append_jwk(ks, a), RHN_OK);
	if (b != NULL)
		assert_int_equal(r_jwks_append_jwk(ks, b), RHN_OK);
	if (c != NULL)
		assert_int_equal(r_jwks_append_jwk(ks, c), RHN_OK);
	if (d != NULL)
		assert_int_equal(r_jwks_append_jwk(ks, d), RHN_OK);
	s = r_jwks_export_to_json_str(ks, 0);
	assert_non_null(s);
	r_jwks_free(ks);
	return s;
}

static void
pair(jwk_t **priv, jwk_t **pub, int type, unsigned int bits, const char *kid)
{
	assert_int_equal(r_jwk_init(priv), RHN_OK);
	assert_int_equal(r_jwk_init(pub), RHN_OK);
	assert_int_equal(r_jwk_generate_key_pair(*priv, *pub, type, bits,
	    kid), RHN_OK);
}

static int
setup(void **state)
{
	(void)state;
	if (r_global_init() != RHN_OK)
		return -1;
	pair(&rsa_priv, &rsa_pub, R_KEY_TYPE_RSA, 2048, "rsa1");
	pair(&rsa2_priv, &rsa2_pub, R_KEY_TYPE_RSA, 2048, "rsa2");
	pair(&ec_priv, &ec_pub, R_KEY_TYPE_EC, 256, "ec1");
	pair(&ed_priv, &ed_pub, R_KEY_TYPE_EDDSA, 256, "ed1");
	pair(&nokid_priv, &nokid_pub, R_KEY_TYPE_EC, 256, NULL);
	/* rhonabwy invents a kid when given none: remove it. */
	(void)r_jwk_delete_property_str(nokid_priv, "kid");
	(void)r_jwk_delete_property_str(nokid_pub, "kid");
	jwks_main = jwks_of(rsa_pub, ec_pub, ed_pub, NULL);
	jwks_rotated = jwks_of(rsa_pub, ec_pub, ed_pub, rsa2_pub);
	jwks_nokid = jwks_of(nokid_pub, NULL, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	r_jwk_free(rsa_priv);
	r_jwk_free(rsa_pub);
	r_jwk_free(rsa2_priv);
	r_jwk_free(rsa2_pub);
	r_jwk_free(ec_priv);
	r_jwk_free(ec_pub);
	r_jwk_free(ed_priv);
	r_jwk_free(ed_pub);
	r_jwk_free(nokid_priv);
	r_jwk_free(nokid_pub);
	r_free(jwks_main);
	r_free(jwks_rotated);
	r_free(jwks_nokid);
	return 0;
}

/* A signed token: header JSON (rhonabwy adds the key's kid) and claims. */
static char *
sign(jwk_t *priv, jwa_alg alg, const char *hdr, const char *claims)
{
	jws_t	*jws = NULL;
	char	*t, *dup;

	assert_int_equal(r_jws_init(&jws), RHN_OK);
	assert_int_equal(r_jws_set_full_header_json_str(jws, hdr), RHN_OK);
	assert_int_equal(r_jws_set_alg(jws, alg), RHN_OK);
	assert_int_equal(r_jws_set_payload(jws, (const unsigned char *)claims,
	    strlen(claims)), RHN_OK);
	t = r_jws_serialize(jws, priv, 0);
	assert_non_null(t);
	dup = strdup(t);
	r_free(t);
	r_jws_free(jws);
	return dup;
}

/* Standard claims with overrides: exp/nbf/iat offsets from NOW. */
static char *
claims_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
claims_fmt(const char *fmt, ...)
{
	static char	buf[16384];
	va_list		ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static const char *
std_claims(void)
{
	return claims_fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"sub\":\"f81d4fae\",\"preferred_username\":\"alice\","
	    "\"groups\":[\"ml-eng\",\"prod-readers\"],\"amr\":[\"pwd\","
	    "\"otp\"],\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld}",
	    NOW - 10, NOW - 10, NOW + 300);
}

static void
rules_init(struct cf_jwt_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->issuer = ISS;
	r->audience = AUD;
	r->skew = 30;
	r->username_claim = "preferred_username";
	r->groups_claim = "groups";
}

static struct cf_jwks *
ks_main(void)
{
	struct cf_jwks	*ks = NULL;

	assert_int_equal(cf_jwks_new_json(jwks_main, strlen(jwks_main), &ks,
	    NULL), CF_OK);
	return ks;
}

static cf_err
verify(struct cf_jwks *ks, const char *tok, const struct cf_jwt_rules *r,
    struct cf_jwt_claims *c, struct cf_error *e)
{
	cf_error_clear(e);
	return cf_jwt_verify(ks, tok, strlen(tok), r, NOW, c, e);
}

static char *
b64(const char *s)
{
	char	*o = malloc(cf_b64url_len(strlen(s)) + 1);

	assert_non_null(o);
	cf_b64url_encode(s, strlen(s), o);
	return o;
}

/* header.payload.sig from raw JSON and a raw signature string. */
static char *
raw_token(const char *hdr, const char *payload, const char *sig)
{
	char	*h = b64(hdr), *p = b64(payload), *t;
	size_t	 n = strlen(h) + strlen(p) + strlen(sig) + 3;

	t = malloc(n);
	assert_non_null(t);
	(void)snprintf(t, n, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return t;
}

/* ---- accepted ---- */

static void
test_jwt_valid_three_algs(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;
	struct {
		jwk_t		*k;
		jwa_alg		 a;
		const char	*name, *kid;
	} v[] = {
		{ rsa_priv, R_JWA_ALG_RS256, "RS256", "rsa1" },
		{ ec_priv, R_JWA_ALG_ES256, "ES256", "ec1" },
		{ ed_priv, R_JWA_ALG_EDDSA, "EdDSA", "ed1" },
	};
	size_t			 i;

	(void)state;
	rules_init(&r);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		t = sign(v[i].k, v[i].a, "{\"typ\":\"JWT\"}", std_claims());
		memset(&c, 0, sizeof(c));
		assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
		assert_string_equal(c.username, "alice");
		assert_string_equal(c.subject, "f81d4fae");
		assert_int_equal(c.ngroups, 2);
		assert_string_equal(c.groups[0], "ml-eng");
		assert_string_equal(c.groups[1], "prod-readers");
		assert_true(c.mfa);
		assert_int_equal(c.exp, NOW + 300);
		assert_int_equal(c.iat, NOW - 10);
		assert_string_equal(c.alg, v[i].name);
		assert_string_equal(c.kid, v[i].kid);
		free(t);
	}
	cf_jwks_free(ks);
}

static void
test_jwt_claims_mapping(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;

	(void)state;
	rules_init(&r);
	/* Nested groups claim (Keycloak), no amr, aud array, no groups. */
	r.groups_claim = "realm_access.roles";
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD "\"],"
	    "\"preferred_username\":\"bob\",\"realm_access\":{\"roles\":"
	    "[\"admin\"]},\"amr\":[\"pwd\"],\"exp\":%lld}", NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
	assert_string_equal(c.username, "bob");
	assert_string_equal(c.subject, "");
	assert_int_equal(c.ngroups, 1);
	assert_string_equal(c.groups[0], "admin");
	assert_false(c.mfa);
	assert_int_equal(c.iat, 0);
	free(t);
	/* amr "mfa" also sets mfa; groups claim absent gives none. */
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "\"bob\",\"amr\":[\"mfa\"],\"exp\":%lld}", NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
	assert_true(c.mfa);
	assert_int_equal(c.ngroups, 0);
	free(t);
	/* Default user name claim is sub. */
	r.username_claim = NULL;
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
	assert_string_equal(c.username, "f81d4fae");
	free(t);
	cf_jwks_free(ks);
}

/* ---- refused: algorithm ---- */

static void
test_jwt_alg_none_refused(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	const char		*hdrs[] = {
		"{\"alg\":\"none\"}", "{\"alg\":\"None\"}",
		"{\"alg\":\"NONE\",\"kid\":\"rsa1\"}"
	};
	char			*t;
	size_t			 i;

	(void)state;
	rules_init(&r);
	for (i = 0; i < 3; i++) {
		/* Unsigned (empty signature) and with a junk signature. */
		t = raw_token(hdrs[i], std_claims(), "");
		assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
		assert_non_null(strstr(e.msg, "none"));
		free(t);
		t = raw_token(hdrs[i], std_claims(), "AAAA");
		assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
		assert_non_null(strstr(e.msg, "none"));
		free(t);
	}
	cf_jwks_free(ks);
}

static void
test_jwt_hs256_confusion_refused(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	uint8_t			 mac[32];
	char			 sig[64], *t, *h, *p, *pubjson, *in;
	unsigned char		 pem[4096];
	size_t			 pemlen = sizeof(pem), n;
	const void		*secrets[2];
	size_t			 slens[2];
	int			 i;

	(void)state;
	rules_init(&r);
	pubjson = r_jwk_export_to_json_str(rsa_pub, 0);
	assert_non_null(pubjson);
	assert_int_equal(r_jwk_export_to_pem_der(rsa_pub, R_FORMAT_PEM, pem,
	    &pemlen, 0), RHN_OK);
	secrets[0] = pubjson;
	slens[0] = strlen(pubjson);
	secrets[1] = pem;
	slens[1] = pemlen;
	for (i = 0; i < 2; i++) {
		h = b64("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}");
		p = b64(std_claims());
		n = strlen(h) + strlen(p) + 2;
		in = malloc(n);
		assert_non_null(in);
		(void)snprintf(in, n, "%s.%s", h, p);
		assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256,
		    secrets[i], slens[i], in, strlen(in), mac), 0);
		cf_b64url_encode(mac, sizeof(mac), sig);
		t = raw_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}",
		    std_claims(), sig);
		assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
		assert_non_null(strstr(e.msg, "alg"));
		free(t);
		free(in);
		free(h);
		free(p);
	}
	r_free(pubjson);
	cf_jwks_free(ks);
}

static void
test_jwt_wrong_alg_refused(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;

	(void)state;
	rules_init(&r);
	/* RS384 / PS256 with a real RSA key: not on the allowlist. */
	t = sign(rsa_priv, R_JWA_ALG_RS384, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	t = sign(rsa_priv, R_JWA_ALG_PS256, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	/* Allowed by the library but not by the configured mask. */
	r.algs = CF_JWT_ALG_ES256;
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	assert_non_null(strstr(e.msg, "configuration"));
	free(t);
	r.algs = 0;
	/* Header says ES256 and names the RSA key: no key fits. */
	t = sign(ec_priv, R_JWA_ALG_ES256, "{\"kid\":\"rsa1\"}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_NOTFOUND);
	free(t);
	/* RS256 token naming the Ed25519 key: no key fits either. */
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{\"kid\":\"ed1\"}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_NOTFOUND);
	free(t);
	cf_jwks_free(ks);
}

/* ---- refused: claims ---- */

static void
test_jwt_time_claims(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;
	const char		*base = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	    "\",\"preferred_username\":\"alice\"";
	struct {
		long long	 exp, nbf, iat;	/* 0: absent */
		cf_err		 want;
		const char	*msg;
	} v[] = {
		{ NOW - 100, 0, 0, CF_E_AUTH, "expired" },
		{ NOW - 30, 0, 0, CF_E_AUTH, "expired" },	/* edge */
		{ NOW - 29, 0, 0, CF_OK, NULL },		/* in skew */
		{ NOW + 60, NOW + 31, 0, CF_E_AUTH, "nbf" },
		{ NOW + 60, NOW + 30, 0, CF_OK, NULL },		/* edge */
		{ NOW + 60, 0, NOW + 31, CF_E_AUTH, "iat" },
		{ NOW + 60, 0, NOW + 30, CF_OK, NULL },
	};
	size_t			 i;

	(void)state;
	rules_init(&r);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char	cl[512];
		int	n;

		n = snprintf(cl, sizeof(cl), "%s,\"exp\":%lld", base,
		    v[i].exp);
		if (v[i].nbf != 0)
			n += snprintf(cl + n, sizeof(cl) - (size_t)n,
			    ",\"nbf\":%lld", v[i].nbf);
		if (v[i].iat != 0)
			n += snprintf(cl + n, sizeof(cl) - (size_t)n,
			    ",\"iat\":%lld", v[i].iat);
		(void)snprintf(cl + n, sizeof(cl) - (size_t)n, "}");
		t = sign(ed_priv, R_JWA_ALG_EDDSA, "{}", cl);
		assert_int_equal(verify(ks, t, &r, &c, &e), v[i].want);
		if (v[i].msg != NULL)
			assert_non_null(strstr(e.msg, v[i].msg));
		free(t);
	}
	/* exp missing; exp not a number; max_age. */
	t = sign(ed_priv, R_JWA_ALG_EDDSA, "{}", "{\"iss\":\"" ISS "\","
	    "\"aud\":\"" AUD "\",\"preferred_username\":\"a\"}");
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_AUTH);
	free(t);
	t = sign(ed_priv, R_JWA_ALG_EDDSA, "{}", "{\"iss\":\"" ISS "\","
	    "\"aud\":\"" AUD "\",\"preferred_username\":\"a\","
	    "\"exp\":\"soon\"}");
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	r.max_age = 600;
	t = sign(ed_priv, R_JWA_ALG_EDDSA, "{}", claims_fmt("%s,\"exp\":%lld,"
	    "\"iat\":%lld}", base, NOW + 60, NOW - 1000));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_AUTH);
	assert_non_null(strstr(e.msg, "age"));
	free(t);
	cf_jwks_free(ks);
}

static void
test_jwt_iss_aud(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;
	struct {
		const char	*iss_aud;
		cf_err		 want;
	} v[] = {
		{ "\"iss\":\"https://evil.example.com\",\"aud\":\"" AUD "\"",
		    CF_E_AUTH },
		{ "\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\"", CF_E_AUTH },
		{ "\"aud\":\"" AUD "\"", CF_E_AUTH },
		{ "\"iss\":\"" ISS "\",\"aud\":\"other\"", CF_E_AUTH },
		{ "\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"]", CF_E_AUTH },
		{ "\"iss\":\"" ISS "\",\"aud\":[]", CF_E_AUTH },
		{ "\"iss\":\"" ISS "\"", CF_E_AUTH },
		{ "\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",7]", CF_E_INPUT },
		{ "\"iss\":\"" ISS "\",\"aud\":{\"x\":1}", CF_E_INPUT },
		{ "\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"]", CF_OK },
	};
	size_t			 i;

	(void)state;
	rules_init(&r);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		t = sign(rsa_priv, R_JWA_ALG_RS256, "{}", claims_fmt(
		    "{%s,\"preferred_username\":\"alice\",\"exp\":%lld}",
		    v[i].iss_aud, NOW + 60));
		assert_int_equal(verify(ks, t, &r, &c, &e), v[i].want);
		free(t);
	}
	cf_jwks_free(ks);
}

static void
test_jwt_user_and_groups(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			 groups[4096], longname[300], *t;
	size_t			 i, n = 0;

	(void)state;
	rules_init(&r);
	/* 33 groups: over CF_JWT_GROUPS_MAX. */
	n += (size_t)snprintf(groups + n, sizeof(groups) - n, "[");
	for (i = 0; i <= CF_JWT_GROUPS_MAX; i++)
		n += (size_t)snprintf(groups + n, sizeof(groups) - n,
		    "%s\"g%zu\"", i ? "," : "", i);
	(void)snprintf(groups + n, sizeof(groups) - n, "]");
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "\"a\",\"groups\":%s,\"exp\":%lld}", groups, NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_LIMIT);
	assert_non_null(strstr(e.msg, "groups"));
	free(t);
	/* Missing user name claim; over-long; control character; number. */
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}",
	    NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_AUTH);
	free(t);
	memset(longname, 'x', CF_JWT_NAME_MAX + 1);
	longname[CF_JWT_NAME_MAX + 1] = '\0';
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "\"%s\",\"exp\":%lld}", longname, NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_LIMIT);
	free(t);
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "\"a\\nb\",\"exp\":%lld}", NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "42,\"exp\":%lld}", NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	/* A group that is not a string. */
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "\"a\",\"groups\":[\"x\",{}],\"exp\":%lld}", NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	cf_jwks_free(ks);
}

/* ---- refused: form ---- */

static void
test_jwt_tampered(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t, *p, *evil, *d1, *d2, *sig;
	size_t			 i;
	jwk_t			*privs[3] = { rsa_priv, ec_priv, ed_priv };
	jwa_alg			 algs[3] = { R_JWA_ALG_RS256, R_JWA_ALG_ES256,
	    R_JWA_ALG_EDDSA };

	(void)state;
	rules_init(&r);
	for (i = 0; i < 3; i++) {
		t = sign(privs[i], algs[i], "{}", std_claims());
		d1 = strchr(t, '.');
		d2 = strchr(d1 + 1, '.');
		/* Payload replaced (alice -> admin), signature kept. */
		p = b64(claims_fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
		    "\",\"preferred_username\":\"admin\",\"exp\":%lld}",
		    NOW + 300));
		evil = malloc(strlen(t) + strlen(p) + 2);
		assert_non_null(evil);
		(void)snprintf(evil, strlen(t) + strlen(p) + 2, "%.*s%s%s",
		    (int)(d1 - t + 1), t, p, d2);
		assert_int_equal(verify(ks, evil, &r, &c, &e),
		    CF_E_INTEGRITY);
		free(evil);
		free(p);
		/* One signature character flipped. */
		sig = d2 + 1 + 5;
		*sig = *sig == 'A' ? 'B' : 'A';
		assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INTEGRITY);
		/* Signature truncated. */
		t[strlen(t) - 4] = '\0';
		assert_int_not_equal(verify(ks, t, &r, &c, &e), CF_OK);
		free(t);
	}
	cf_jwks_free(ks);
}

static void
test_jwt_malformed(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t, *big;
	const char		*bad[] = {
		"", ".", "..", "abc", "a.b", "a.b.c.d", "a..c", ".b.c",
		"eyJhbGciOiJSUzI1NiJ9.e30.a b", "eyJ!.e30.c",
		"e30.e30.c",			/* header {} : no alg */
		"W10.e30.c",			/* header [] */
		"bm90IGpzb24.e30.c",		/* "not json" */
		"eyJhbGciOiJSUzI1NiJ9.e30.c=",	/* padding */
		"eyJhbGciOiJSUzI1NiJ9.e30.c\n",
		"eyJhbGciOiJSUzI1NiJ9.e30.c.d.e",	/* JWE shape */
		"eyJhbGciOjEyM30.e30.c",	/* alg 123 */
		"Zg.e30.c",			/* header "f" */
	};
	size_t			 i;

	(void)state;
	rules_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf_error_clear(&e);
		assert_int_equal(cf_jwt_verify(ks, bad[i], strlen(bad[i]), &r,
		    NOW, &c, &e), CF_E_INPUT);
	}
	/* An embedded NUL. */
	assert_int_equal(cf_jwt_verify(ks, "e30\0.e30.c", 10, &r, NOW, &c,
	    NULL), CF_E_INPUT);
	/* JWE: five parts. */
	t = raw_token("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}", "x",
	    "y.z.w");
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	assert_non_null(strstr(e.msg, "JWE"));
	free(t);
	/* enc in a 3-part token, crit, b64, duplicate header member. */
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{\"crit\":[\"exp\"],\"exp\":1}",
	    std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	t = raw_token("{\"alg\":\"RS256\",\"alg\":\"none\"}", std_claims(),
	    "AAAA");
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	/* Duplicate claim (parser differential): refused even if signed. */
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{}", claims_fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"preferred_username\":"
	    "\"alice\",\"preferred_username\":\"admin\",\"exp\":%lld}",
	    NOW + 60));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	/* Payload not an object. */
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{}", "[1,2]");
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_INPUT);
	free(t);
	/* Oversized: refused before decoding, whatever the content. */
	big = malloc(CF_JWT_MAX_DEFAULT + 2);
	assert_non_null(big);
	memset(big, 'A', CF_JWT_MAX_DEFAULT + 1);
	big[CF_JWT_MAX_DEFAULT + 1] = '\0';
	assert_int_equal(verify(ks, big, &r, &c, &e), CF_E_LIMIT);
	r.max_len = 100;
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_LIMIT);
	free(t);
	free(big);
	/* Bad rules. */
	rules_init(&r);
	r.audience = NULL;
	assert_int_equal(verify(ks, "a.b.c", &r, &c, &e), CF_E_INVAL);
	rules_init(&r);
	r.skew = CF_JWT_SKEW_MAX + 1;
	assert_int_equal(verify(ks, "a.b.c", &r, &c, &e), CF_E_INVAL);
	rules_init(&r);
	r.max_age = INT64_MAX;
	assert_int_equal(verify(ks, "a.b.c", &r, &c, &e), CF_E_INVAL);
	rules_init(&r);
	r.algs = 0x8;
	assert_int_equal(verify(ks, "a.b.c", &r, &c, &e), CF_E_INVAL);
	cf_jwks_free(ks);
}

/* ---- keys ---- */

struct fetch_state {
	const char	*doc;
	unsigned int	 calls;
	int		 fail;
};

static cf_err
fetch_cb(void *arg, struct cf_buf *out, struct cf_error *err)
{
	struct fetch_state	*fs = arg;

	fs->calls++;
	if (fs->fail)
		return cf_error_set(err, CF_E_IO, "fetch failed (test)");
	return cf_buf_append_str(out, fs->doc, err);
}

static void
test_jwt_unknown_kid_refresh(void **state)
{
	struct fetch_state	 fs = { NULL, 0, 0 };
	struct cf_jwks		*ks = NULL;
	struct cf_jwks_opts	 o;
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t2, *t1;

	(void)state;
	rules_init(&r);
	cf_jwks_opts_default(&o);
	o.min_refresh = 60;
	o.ttl = 3600;
	fs.doc = jwks_main;
	assert_int_equal(cf_jwks_new_fetch(fetch_cb, &fs, &o, &ks, NULL),
	    CF_OK);
	assert_int_equal(cf_jwks_count(ks), 0);
	t1 = sign(rsa_priv, R_JWA_ALG_RS256, "{}", std_claims());
	t2 = sign(rsa2_priv, R_JWA_ALG_RS256, "{}", std_claims());
	/* First use fetches. */
	assert_int_equal(verify(ks, t1, &r, &c, &e), CF_OK);
	assert_int_equal(fs.calls, 1);
	assert_int_equal(cf_jwks_count(ks), 3);
	/* Unknown kid "rsa2" inside min_refresh of the first fetch: no
	 * fetch, refused. */
	assert_int_equal(verify(ks, t2, &r, &c, &e), CF_E_NOTFOUND);
	assert_int_equal(fs.calls, 1);
	/* The IdP rotates; later an unknown kid triggers exactly one
	 * fetch, and the new key verifies. */
	fs.doc = jwks_rotated;
	cf_error_clear(&e);
	assert_int_equal(cf_jwt_verify(ks, t2, strlen(t2), &r, NOW + 61, &c,
	    &e), CF_OK);
	assert_int_equal(fs.calls, 2);
	assert_string_equal(c.kid, "rsa2");
	/* A kid that never exists: at most one fetch per min_refresh. */
	free(t2);
	t2 = sign(ec_priv, R_JWA_ALG_ES256, "{\"kid\":\"nope\"}",
	    std_claims());
	cf_error_clear(&e);
	assert_int_equal(cf_jwt_verify(ks, t2, strlen(t2), &r, NOW + 200, &c,
	    &e), CF_E_NOTFOUND);
	assert_int_equal(cf_jwt_verify(ks, t2, strlen(t2), &r, NOW + 201, &c,
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_jwt_verify(ks, t2, strlen(t2), &r, NOW + 202, &c,
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(fs.calls, 3);
	/* A failing refresh keeps the old keys. */
	fs.fail = 1;
	assert_int_equal(cf_jwks_refresh(ks, NOW + 300, NULL), CF_E_IO);
	assert_int_equal(cf_jwks_count(ks), 4);
	assert_int_equal(cf_jwt_verify(ks, t1, strlen(t1), &r, NOW + 1, &c,
	    NULL), CF_OK);
	free(t1);
	free(t2);
	cf_jwks_free(ks);

	/* Nothing fetched yet and the source fails: CF_E_IO. */
	fs.calls = 0;
	assert_int_equal(cf_jwks_new_fetch(fetch_cb, &fs, &o, &ks, NULL),
	    CF_OK);
	t1 = sign(rsa_priv, R_JWA_ALG_RS256, "{}", std_claims());
	assert_int_equal(verify(ks, t1, &r, &c, &e), CF_E_IO);
	free(t1);
	cf_jwks_free(ks);
}

static void
test_jwt_kid_choice(void **state)
{
	struct cf_jwks		*ks = NULL;
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;
	jwks_t			*two = NULL;
	char			*twojson;

	(void)state;
	rules_init(&r);
	/* One kid-less key: a kid-less token uses it. */
	assert_int_equal(cf_jwks_new_json(jwks_nokid, strlen(jwks_nokid),
	    &ks, NULL), CF_OK);
	t = sign(nokid_priv, R_JWA_ALG_ES256, "{}", std_claims());
	assert_null(strstr(t, "kid"));
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
	assert_string_equal(c.kid, "");
	cf_jwks_free(ks);
	/* Two keys fit a kid-less ES256 token: refused. */
	twojson = jwks_of(nokid_pub, ec_pub, NULL, NULL);
	ks = NULL;
	assert_int_equal(cf_jwks_new_json(twojson, strlen(twojson), &ks,
	    NULL), CF_OK);
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "several"));
	cf_jwks_free(ks);
	free(t);
	r_free(twojson);
	(void)two;
}

static void
test_jwks_parse(void **state)
{
	struct cf_jwks	*ks = NULL;
	struct cf_error	 e;
	const char	*bad[] = {
		"", "{}", "[]", "{\"keys\":{}}", "{\"keys\":[]}",
		"{\"keys\":[1,2]}",
		/* symmetric key only */
		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
		/* encryption use only */
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":"
		    "\"enc\",\"x\":"
		    "\"DBgES0B_aq7BgzcraEAwd3HpH8AlX18uRXnPrczOJGI\"}]}",
		/* alg HS256 on an Ed25519 key */
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":"
		    "\"HS256\",\"x\":"
		    "\"DBgES0B_aq7BgzcraEAwd3HpH8AlX18uRXnPrczOJGI\"}]}",
	};
	char		 many[8192];
	size_t		 i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf_error_clear(&e);
		assert_int_equal(cf_jwks_new_json(bad[i], strlen(bad[i]), &ks,
		    &e), CF_E_INPUT);
		assert_null(ks);
	}
	n += (size_t)snprintf(many, sizeof(many), "{\"keys\":[");
	for (i = 0; i < 33; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s{}",
		    i ? "," : "");
	(void)snprintf(many + n, sizeof(many) - n, "]}");
	assert_int_equal(cf_jwks_new_json(many, strlen(many), &ks, NULL),
	    CF_E_INPUT);
	/* A symmetric key among good ones is skipped. */
	assert_int_equal(cf_jwks_new_json(jwks_main, strlen(jwks_main), &ks,
	    NULL), CF_OK);
	assert_int_equal(cf_jwks_count(ks), 3);
	cf_jwks_free(ks);
	cf_jwks_free(NULL);
}

static void
test_jwks_file(void **state)
{
	char			 path[] = "/tmp/cf_jwks_XXXXXX";
	struct cf_jwks		*ks = NULL;
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	char			*t;
	int			 fd;
	FILE			*f;

	(void)state;
	rules_init(&r);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(jwks_main, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cf_jwks_new_file(path, NULL, &ks, NULL), CF_OK);
	t = sign(ed_priv, R_JWA_ALG_EDDSA, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
	free(t);
	cf_jwks_free(ks);
	(void)unlink(path);
	ks = NULL;
	assert_int_equal(cf_jwks_new_file(path, NULL, &ks, NULL), CF_OK);
	assert_int_equal(cf_jwks_refresh(ks, NOW, NULL), CF_E_IO);
	cf_jwks_free(ks);
}

/* A one-shot HTTP server on 127.0.0.1 serving a fixed body. */
struct srv {
	int		 fd;
	int		 port;
	const char	*body;
	int		 status;
	pthread_t	 th;
};

static void *
srv_main(void *arg)
{
	struct srv	*s = arg;
	char		 req[4096], hdr[256];
	int		 c;
	ssize_t		 n;
	size_t		 got = 0;

	c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	while (got < sizeof(req) - 1 &&
	    (n = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	(void)snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d X\r\nContent-Length: "
	    "%zu\r\nConnection: close\r\n\r\n", s->status, strlen(s->body));
	(void)!write(c, hdr, strlen(hdr));
	(void)!write(c, s->body, strlen(s->body));
	(void)close(c);
	return NULL;
}

static void
srv_start(struct srv *s, const char *body, int status)
{
	struct sockaddr_in	a;
	socklen_t		len = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	s->body = body;
	s->status = status;
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	(void)pthread_join(s->th, NULL);
	(void)close(s->fd);
}

static void
test_jwks_url(void **state)
{
	struct srv		 s;
	struct cf_jwks		*ks = NULL;
	struct cf_jwks_opts	 o;
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	struct cf_buf		 b;
	char			 url[128], *t;

	(void)state;
	rules_init(&r);
	cf_jwks_opts_default(&o);
	/* Plain http is refused unless to loopback and allowed. */
	assert_int_equal(cf_jwks_new_url("http://idp.example.com/jwks", &o,
	    &ks, NULL), CF_E_INVAL);
	o.allow_http_loopback = true;
	assert_int_equal(cf_jwks_new_url("http://idp.example.com/jwks", &o,
	    &ks, NULL), CF_E_INVAL);
	assert_int_equal(cf_jwks_new_url("http://127.0.0.1.evil.com/", &o,
	    &ks, NULL), CF_E_INVAL);
	assert_int_equal(cf_jwks_new_url("file:///etc/passwd", &o, &ks,
	    NULL), CF_E_INVAL);
	assert_null(ks);

	srv_start(&s, jwks_main, 200);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks", s.port);
	assert_int_equal(cf_jwks_new_url(url, &o, &ks, NULL), CF_OK);
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", std_claims());
	assert_int_equal(verify(ks, t, &r, &c, &e), CF_OK);
	assert_int_equal(cf_jwks_fetches(ks), 1);
	free(t);
	cf_jwks_free(ks);
	srv_stop(&s);

	/* Over the size cap. */
	srv_start(&s, jwks_main, 200);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks", s.port);
	o.max_bytes = 64;
	cf_buf_init(&b, o.max_bytes);
	assert_int_equal(cf_jwks_fetch_url(url, &o, &b, NULL), CF_E_LIMIT);
	cf_buf_free(&b);
	srv_stop(&s);

	/* A non-200 status. */
	srv_start(&s, "{}", 404);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks", s.port);
	o.max_bytes = 4096;
	cf_buf_init(&b, o.max_bytes);
	assert_int_equal(cf_jwks_fetch_url(url, &o, &b, NULL), CF_E_IO);
	cf_buf_free(&b);
	srv_stop(&s);
}

/* ---- NOMEM ---- */

static void
test_jwt_alloc_failures(void **state)
{
	struct cf_jwks		*ks = NULL;
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	unsigned int		 n;
	char			*t;
	cf_err			 rc;

	(void)state;
	rules_init(&r);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_jwks_new_json(jwks_main, strlen(jwks_main), &ks, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(ks);
	}
	t = sign(rsa_priv, R_JWA_ALG_RS256, "{}", std_claims());
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_jwt_verify(ks, t, strlen(t), &r, NOW, &c, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
	}
	free(t);
	cf_jwks_free(ks);
	for (n = 1;; n++) {
		ks = NULL;
		cf_test_fail_alloc_after(n);
		rc = cf_jwks_new_file("/nonexistent/jwks.json", NULL, &ks,
		    NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(ks);
	}
	cf_jwks_free(ks);
	for (n = 1;; n++) {
		ks = NULL;
		cf_test_fail_alloc_after(n);
		rc = cf_jwks_new_url("https://idp.example.com/jwks", NULL,
		    &ks, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(ks);
	}
	cf_jwks_free(ks);
}

/* ---- why a token is refused ---- */

/* Each refusal names its class (enum cf_jwt_fail), which the server puts
 * into the audit record; a token refused for one reason must not be
 * reported as another. */
static void
test_jwt_failure_reasons(void **state)
{
	struct cf_jwks		*ks = ks_main();
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	struct cf_error		 e;
	enum cf_jwt_fail	 why;
	const char		*base = "\"iss\":\"" ISS "\",\"aud\":\"" AUD
	    "\",\"preferred_username\":\"alice\"";
	char			*t, *d2, cl[1024], *big;
	struct {
		char		*tok;
		enum cf_jwt_fail want;
	} v[20];
	size_t			 n = 0, i;

	(void)state;
	rules_init(&r);
	(void)snprintf(cl, sizeof(cl), "{%s,\"exp\":%lld}", base, NOW - 100);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_EXPIRED;
	(void)snprintf(cl, sizeof(cl), "{%s,\"exp\":%lld,\"nbf\":%lld}", base,
	    NOW + 600, NOW + 300);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_NOT_YET_VALID;
	(void)snprintf(cl, sizeof(cl), "{%s,\"exp\":%lld,\"iat\":%lld}", base,
	    NOW + 600, NOW + 300);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_NOT_YET_VALID;
	(void)snprintf(cl, sizeof(cl), "{\"iss\":\"" ISS "\",\"aud\":\"x\","
	    "\"preferred_username\":\"alice\",\"exp\":%lld}", NOW + 60);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_WRONG_AUDIENCE;
	(void)snprintf(cl, sizeof(cl), "{\"iss\":\"https://evil\",\"aud\":\""
	    AUD "\",\"preferred_username\":\"alice\",\"exp\":%lld}", NOW + 60);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_WRONG_ISSUER;
	v[n].tok = sign(rsa2_priv, R_JWA_ALG_RS256, "{}", std_claims());
	v[n++].want = CF_JWT_FAIL_UNKNOWN_KID;
	/* A known kid with an alg its key cannot do. */
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{\"kid\":\"rsa1\"}",
	    std_claims());
	v[n++].want = CF_JWT_FAIL_BAD_ALG;
	v[n].tok = raw_token("{\"alg\":\"none\"}", std_claims(), "");
	v[n++].want = CF_JWT_FAIL_BAD_ALG;
	v[n].tok = raw_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}",
	    std_claims(), "AAAA");
	v[n++].want = CF_JWT_FAIL_BAD_ALG;
	v[n].tok = sign(rsa_priv, R_JWA_ALG_PS256, "{}", std_claims());
	v[n++].want = CF_JWT_FAIL_BAD_ALG;
	/* Signed by another key under the kid of a known one. */
	t = sign(rsa2_priv, R_JWA_ALG_RS256, "{\"kid\":\"rsa1\"}",
	    std_claims());
	v[n].tok = t;
	v[n++].want = CF_JWT_FAIL_BAD_SIGNATURE;
	v[n].tok = strdup("e30.e30.c");
	v[n++].want = CF_JWT_FAIL_MALFORMED;
	v[n].tok = strdup("a.b");
	v[n++].want = CF_JWT_FAIL_MALFORMED;
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", std_claims());
	d2 = strrchr(t, '.');
	d2[1] = '\0';			/* signature stripped */
	v[n].tok = t;
	v[n++].want = CF_JWT_FAIL_MALFORMED;
	(void)snprintf(cl, sizeof(cl), "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	    "\",\"exp\":%lld}", NOW + 60);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_BAD_USERNAME;
	(void)snprintf(cl, sizeof(cl), "{%s}", base);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_BAD_CLAIM;	/* no exp */
	(void)snprintf(cl, sizeof(cl), "{%s,\"exp\":%lld,\"amr\":7}", base,
	    NOW + 60);
	v[n].tok = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	v[n++].want = CF_JWT_FAIL_BAD_CLAIM;
	big = malloc(CF_JWT_MAX_DEFAULT + 2);
	assert_non_null(big);
	memset(big, 'A', CF_JWT_MAX_DEFAULT + 1);
	big[CF_JWT_MAX_DEFAULT + 1] = '\0';
	v[n].tok = big;
	v[n++].want = CF_JWT_FAIL_TOO_LARGE;
	assert_true(n <= sizeof(v) / sizeof(v[0]));
	for (i = 0; i < n; i++) {
		assert_non_null(v[i].tok);
		why = CF_JWT_FAIL_NONE;
		cf_error_clear(&e);
		assert_int_not_equal(cf_jwt_verify_why(ks, v[i].tok,
		    strlen(v[i].tok), &r, NOW, &c, &why, &e), CF_OK);
		if (why != v[i].want)
			fail_msg("case %zu: reason %d, want %d (%s)", i,
			    (int)why, (int)v[i].want, e.msg);
		free(v[i].tok);
	}
	/* max_age, and a valid token leaves the reason NONE. */
	r.max_age = 600;
	(void)snprintf(cl, sizeof(cl), "{%s,\"exp\":%lld,\"iat\":%lld}", base,
	    NOW + 60, NOW - 1000);
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", cl);
	why = CF_JWT_FAIL_NONE;
	assert_int_equal(cf_jwt_verify_why(ks, t, strlen(t), &r, NOW, &c, &why,
	    NULL), CF_E_AUTH);
	assert_int_equal(why, CF_JWT_FAIL_TOO_OLD);
	free(t);
	r.max_age = 0;
	t = sign(ec_priv, R_JWA_ALG_ES256, "{}", std_claims());
	why = CF_JWT_FAIL_EXPIRED;
	assert_int_equal(cf_jwt_verify_why(ks, t, strlen(t), &r, NOW, &c, &why,
	    NULL), CF_OK);
	assert_int_equal(why, CF_JWT_FAIL_NONE);
	free(t);
	cf_jwks_free(ks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt_valid_three_algs),
		cmocka_unit_test(test_jwt_claims_mapping),
		cmocka_unit_test(test_jwt_alg_none_refused),
		cmocka_unit_test(test_jwt_hs256_confusion_refused),
		cmocka_unit_test(test_jwt_wrong_alg_refused),
		cmocka_unit_test(test_jwt_time_claims),
		cmocka_unit_test(test_jwt_iss_aud),
		cmocka_unit_test(test_jwt_user_and_groups),
		cmocka_unit_test(test_jwt_tampered),
		cmocka_unit_test(test_jwt_malformed),
		cmocka_unit_test(test_jwt_unknown_kid_refresh),
		cmocka_unit_test(test_jwt_kid_choice),
		cmocka_unit_test(test_jwks_parse),
		cmocka_unit_test(test_jwks_file),
		cmocka_unit_test(test_jwks_url),
		cmocka_unit_test(test_jwt_alloc_failures),
		cmocka_unit_test(test_jwt_failure_reasons),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
