/* src/crypto/sign.c: Ed25519 signatures with libsodium (sign.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/json.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/sign.h"

_Static_assert(CF_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES,
    "CF_SIGN_PK_LEN must match libsodium");
_Static_assert(CF_SIGN_SIG_LEN == crypto_sign_BYTES,
    "CF_SIGN_SIG_LEN must match libsodium");
_Static_assert(CF_KEY_LEN == crypto_sign_SEEDBYTES,
    "an Ed25519 seed is one cf_key");

cf_err
cf_sign_public(const struct cf_key *seed, uint8_t pk[CF_SIGN_PK_LEN],
    struct cf_error *err)
{
	uint8_t	sk[crypto_sign_SECRETKEYBYTES];
	int	r;

	r = crypto_sign_seed_keypair(pk, sk, cf_key_bytes(seed));
	cf_wipe(sk, sizeof(sk));
	if (r != 0)
		return cf_error_set(err, CF_E_CRYPTO, "ed25519 key pair");
	return CF_OK;
}

cf_err
cf_sign(const struct cf_key *seed, const void *msg, size_t len,
    uint8_t sig[CF_SIGN_SIG_LEN], struct cf_error *err)
{
	uint8_t	pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t	sk[crypto_sign_SECRETKEYBYTES];
	cf_err	rc = CF_OK;

	if (crypto_sign_seed_keypair(pk, sk, cf_key_bytes(seed)) != 0 ||
	    crypto_sign_detached(sig, NULL, msg, len, sk) != 0)
		rc = cf_error_set(err, CF_E_CRYPTO, "ed25519 signature");
	cf_wipe(sk, sizeof(sk));
	return rc;
}

cf_err
cf_sign_verify(const uint8_t pk[CF_SIGN_PK_LEN], const void *msg, size_t len,
    const uint8_t sig[CF_SIGN_SIG_LEN], struct cf_error *err)
{
	if (crypto_sign_verify_detached(sig, msg, len, pk) != 0)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "the signature does not verify");
	return CF_OK;
}

/* context "\n" payload, in *out (free) of *len bytes. */
static cf_err
doc_bytes(const char *context, const json_t *payload, char **out,
    size_t *len, struct cf_error *err)
{
	char	*dump, *b;
	size_t	 cl, dl;

	dump = cf_json_dumps_flags(payload, JSON_COMPACT | JSON_SORT_KEYS);
	if (dump == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cl = strlen(context);
	dl = strlen(dump);
	b = cf_malloc(cl + 1 + dl + 1);
	if (b == NULL) {
		cf_json_free(dump);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	memcpy(b, context, cl);
	b[cl] = '\n';
	memcpy(b + cl + 1, dump, dl + 1);
	cf_json_free(dump);
	*out = b;
	*len = cl + 1 + dl;
	return CF_OK;
}

cf_err
cf_sign_doc(const struct cf_key *seed, const char *context,
    const json_t *payload, uint8_t sig[CF_SIGN_SIG_LEN], struct cf_error *err)
{
	char	*b = NULL;
	size_t	 n = 0;
	cf_err	 rc;

	rc = doc_bytes(context, payload, &b, &n, err);
	if (rc == CF_OK)
		rc = cf_sign(seed, b, n, sig, err);
	cf_free(b);
	return rc;
}

cf_err
cf_sign_doc_verify(const uint8_t pk[CF_SIGN_PK_LEN], const char *context,
    const json_t *payload, const uint8_t sig[CF_SIGN_SIG_LEN],
    struct cf_error *err)
{
	char	*b = NULL;
	size_t	 n = 0;
	cf_err	 rc;

	rc = doc_bytes(context, payload, &b, &n, err);
	if (rc == CF_OK)
		rc = cf_sign_verify(pk, b, n, sig, err);
	cf_free(b);
	return rc;
}
