/* src/crypto/sign.h: Ed25519 signatures (libsodium), for documents a
 * third party checks offline: erasure certificates (docs/privacy.md).
 *
 * The signing key is 32 seed bytes held in a struct cf_key (locked,
 * wiped on free); the secret half of the expanded key pair lives only on
 * the stack of one call and is wiped before it returns. */
#ifndef CF_CRYPTO_SIGN_H
#define CF_CRYPTO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"

#define CF_SIGN_PK_LEN	32
#define CF_SIGN_SIG_LEN	64
/* The context of erasure certificates (cf_sign_doc; docs/privacy.md). */
#define CF_ERASURE_CERT_CONTEXT	"coffer erasure certificate v1"
/* The context of access review reports (core/ops_review.c): signed with
 * the same key, never valid as the other kind of document. */
#define CF_REVIEW_REPORT_CONTEXT	"coffer access review report v1"

struct cf_key;

/* The public key of the key pair seed (CF_KEY_LEN bytes) expands to. */
cf_err	cf_sign_public(const struct cf_key *seed, uint8_t pk[CF_SIGN_PK_LEN],
	    struct cf_error *err);
/* Detached signature of msg[0..len) under seed's key pair. */
cf_err	cf_sign(const struct cf_key *seed, const void *msg, size_t len,
	    uint8_t sig[CF_SIGN_SIG_LEN], struct cf_error *err);
/* CF_OK if sig is pk's signature of msg, else CF_E_INTEGRITY. */
cf_err	cf_sign_verify(const uint8_t pk[CF_SIGN_PK_LEN], const void *msg,
	    size_t len, const uint8_t sig[CF_SIGN_SIG_LEN],
	    struct cf_error *err) __attribute__((warn_unused_result));

/* A JSON document signed: the bytes are context, "\n", then payload
 * dumped compact with sorted keys (jansson), so that any reader with
 * jansson checks the same bytes however the file was re-formatted.  The
 * payload must hold no real numbers (their text is not canonical). */
cf_err	cf_sign_doc(const struct cf_key *seed, const char *context,
	    const json_t *payload, uint8_t sig[CF_SIGN_SIG_LEN],
	    struct cf_error *err);
cf_err	cf_sign_doc_verify(const uint8_t pk[CF_SIGN_PK_LEN],
	    const char *context, const json_t *payload,
	    const uint8_t sig[CF_SIGN_SIG_LEN], struct cf_error *err)
	    __attribute__((warn_unused_result));

#endif
