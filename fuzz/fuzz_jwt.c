/* cf-link: cf_crypto cf_base
 * fuzz/fuzz_jwt.c: JWT verification and JWKS parsing on arbitrary bytes.
 * The first byte picks the mode, the rest is the input:
 *   0  a bearer token, verified against a fixed JWKS (RS256, ES256,
 *      EdDSA public keys)
 *   1  a claims document, signed here with the fixed Ed25519 key (a test
 *      key made for this harness only) so the claim checks behind the
 *      signature are reached too
 *   2  a JWKS document
 * Seeds in fuzz/corpus/jwt/ were signed with the private halves of the
 * fixed keys at NOW; the RSA and EC private keys were discarded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rhonabwy.h>

#include "base/error.h"
#include "crypto/jwt.h"

#define NOW	1700000000LL

static const char jwks_doc[] =
	    "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"3DMpI02JOcgx2IWA2Ifb0w5n"
	    "JNrrnIx0xyzlSiwfdzxbV95hhSf8b_wkB05I2qmWFUXSEWxC6eR3dwYMEuis"
	    "0t1GXGlwVgzt_r2bA9tK0TPdZbTGclu-gQKZ8t9PuiK15r9LYJY9W645Aiyu"
	    "Sa5nkx1rcJBZbVQB-1QjeosqDep3NrKIyVVTV3JcdvNCKrswSzJJ4zUuoHnh"
	    "495YNTVrxYjwwyyf1PZ7KM8nGQAldz-woA05bvLZRebE00srg9uw3jzS1yX5"
	    "x6R1ki5HCJ3X-_6sMurkrCfwRJpbIn_wKWwMPkCJEfA9JXR8vqJwS0SNJhFv"
	    "o74vw351RqntnB28Ew\",\"e\":\"AQAB\",\"kid\":\"rsa1\"},{\"kty"
	    "\":\"EC\",\"x\":\"jfX7wK1NeJDAzdHnWCbdPS3e38eOFvZEGBT46ZD1sG"
	    "E\",\"y\":\"QCrG3REUvdtOB_B6iItiNubsiq8Xy_XSx6nuCH4r8f4\",\""
	    "crv\":\"P-256\",\"kid\":\"ec1\"},{\"kty\":\"OKP\",\"x\":\"ui"
	    "cn7G2-qFenYPq01Mb0xuUm_l9KP1Yp52y9rJrSQ6c\",\"crv\":\"Ed2551"
	    "9\",\"kid\":\"ed1\"}]}";

/* SEC: a throwaway key for fuzzing only; it protects nothing. */
static const char ed_priv_doc[] =
	    "{\"kty\":\"OKP\",\"x\":\"uicn7G2-qFenYPq01Mb0xuUm_l9KP1Yp52y"
	    "9rJrSQ6c\",\"d\":\"rHGHD2SBTRvz8Z91OWiM2lcetgVvPth2SzDc_mw3n"
	    "bI\",\"crv\":\"Ed25519\",\"kid\":\"ed1\"}";

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cf_jwks	*ks;
static jwk_t		*ed_priv;

static void
init(void)
{
	if (ks != NULL)
		return;
	if (cf_jwks_new_json(jwks_doc, sizeof(jwks_doc) - 1, &ks, NULL) !=
	    CF_OK)
		abort();
	if (r_jwk_init(&ed_priv) != RHN_OK ||
	    r_jwk_import_from_json_str(ed_priv, ed_priv_doc) != RHN_OK)
		abort();
}

static void
rules_init(struct cf_jwt_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->issuer = "https://idp.example.com";
	r->audience = "coffer";
	r->skew = 60;
	r->username_claim = "preferred_username";
	r->groups_claim = "groups";
}

static void
check_claims(const struct cf_jwt_claims *c)
{
	size_t	i;

	/* Invariants of a verified token. */
	if (c->username[0] == '\0' || c->ngroups > CF_JWT_GROUPS_MAX ||
	    strlen(c->username) > CF_JWT_NAME_MAX)
		abort();
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i][0] == '\0')
			abort();
}

static void
fuzz_token(const uint8_t *p, size_t n)
{
	struct cf_jwt_rules	r;
	struct cf_jwt_claims	c;

	rules_init(&r);
	if (cf_jwt_verify(ks, (const char *)p, n, &r, NOW, &c, NULL) ==
	    CF_OK)
		check_claims(&c);
}

static void
fuzz_claims(const uint8_t *p, size_t n)
{
	struct cf_jwt_rules	 r;
	struct cf_jwt_claims	 c;
	jws_t			*jws = NULL;
	char			*t = NULL;

	if (r_jws_init(&jws) != RHN_OK)
		return;
	if (r_jws_set_full_header_json_str(jws, "{\"typ\":\"JWT\"}") ==
	    RHN_OK && r_jws_set_alg(jws, R_JWA_ALG_EDDSA) == RHN_OK &&
	    r_jws_set_payload(jws, p, n) == RHN_OK)
		t = r_jws_serialize(jws, ed_priv, 0);
	if (t != NULL) {
		rules_init(&r);
		if (cf_jwt_verify(ks, t, strlen(t), &r, NOW, &c, NULL) ==
		    CF_OK)
			check_claims(&c);
		r.groups_claim = "realm_access.roles";
		r.max_age = 30;
		if (cf_jwt_verify(ks, t, strlen(t), &r, NOW, &c, NULL) ==
		    CF_OK)
			check_claims(&c);
	}
	r_free(t);
	r_jws_free(jws);
}

static void
fuzz_jwks(const uint8_t *p, size_t n)
{
	struct cf_jwks	*k = NULL;

	if (cf_jwks_new_json((const char *)p, n, &k, NULL) == CF_OK) {
		if (cf_jwks_count(k) == 0)
			abort();
		cf_jwks_free(k);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_token(data + 1, size - 1);
		break;
	case 1:
		fuzz_claims(data + 1, size - 1);
		break;
	default:
		fuzz_jwks(data + 1, size - 1);
		break;
	}
	return 0;
}
