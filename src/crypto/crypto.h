/* src/crypto/crypto.h: keys, randomness, hashing, MACs, constant-time
 * comparison.  GnuTLS does the work (AES-NI / SHA-NI, ~5.7 GB/s GCM);
 * libsodium provides locked memory for key material.
 *
 * SEC: key bytes live only inside struct cf_key (sodium_malloc: guarded,
 * mlock'ed, MADV_DONTDUMP) and are wiped by cf_key_free(). */
#ifndef CF_CRYPTO_CRYPTO_H
#define CF_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define CF_KEY_LEN	32	/* AES-256 / HMAC-SHA256 keys */
#define CF_SHA256_LEN	32
#define CF_MAC_LEN	32	/* HMAC-SHA256 */

/* HKDF-SHA256 info labels for cf_key_derive(master, label): one subkey per
 * purpose, never shared (docs/internals/CRYPTO.md, "Key hierarchy").  A
 * label, once released, is frozen: changing it changes the derived key. */
#define CF_LABEL_KEYRING "coffer keyring v1"	/* seals the keyring file */
#define CF_LABEL_AUDIT	"coffer audit mac v1"	/* audit log HMAC key */
#define CF_LABEL_TLS	"coffer tls key v1"	/* TLS key PKCS#8 password */
#define CF_LABEL_CARRY	"coffer carried keys v1"	/* DIR/keys.carry */
#define CF_LABEL_ERASURE "coffer erasure sign v1"	/* Ed25519 seed of
							 * erasure
							 * certificates */

struct cf_key;		/* opaque: 32 secret bytes in locked memory */
struct cf_sha256;	/* opaque streaming SHA-256 */
struct cf_hmac;		/* opaque streaming HMAC-SHA256 */

/* Call once at program start: initializes libsodium and GnuTLS (and checks
 * the GnuTLS version).  Idempotent and thread-safe.  Library init only: it
 * changes no process-wide setting (key pages are MADV_DONTDUMP anyway). */
cf_err	cf_crypto_init(struct cf_error *err);

/* For the server (not for tests or short CLI commands): no core dumps at
 * all (RLIMIT_CORE soft and hard 0) and PR_SET_DUMPABLE 0, so neither a
 * crash nor a same-uid ptrace/process_vm_readv can copy key material out.
 * Best effort: a failure is logged as a warning. */
void	cf_crypto_harden_process(void);

/* The versions of the GnuTLS and libsodium the process runs with (their
 * runtime version functions, not the headers built against), static
 * strings: for the posture check's minimum versions. */
const char *cf_crypto_gnutls_version(void);
const char *cf_crypto_sodium_version(void);

/* Fill buf with len bytes from the system CSPRNG (GnuTLS, key level). */
cf_err	cf_random(void *buf, size_t len, struct cf_error *err);

cf_err	cf_key_new_random(struct cf_key **out, struct cf_error *err);
/* Copy CF_KEY_LEN bytes into a new key; the caller wipes its copy. */
cf_err	cf_key_from_bytes(const uint8_t b[CF_KEY_LEN], struct cf_key **out,
	    struct cf_error *err);
/* Borrowed view of the key bytes, valid until cf_key_free(). For crypto/
 * and store/ internals only; never log or persist it in the clear. */
const uint8_t *cf_key_bytes(const struct cf_key *k);
/* HKDF-SHA256(master, info = label) -> independent subkey.  Used to give
 * each purpose (keyring seal, audit MAC, TLS key seal) its own key. */
cf_err	cf_key_derive(const struct cf_key *master, const char *label,
	    struct cf_key **out, struct cf_error *err);
void	cf_key_free(struct cf_key *k);		/* wipes; NULL is a no-op */

/* One-shot and streaming SHA-256. */
void	cf_sha256(const void *p, size_t len, uint8_t out[CF_SHA256_LEN]);
cf_err	cf_sha256_new(struct cf_sha256 **out, struct cf_error *err);
void	cf_sha256_update(struct cf_sha256 *h, const void *p, size_t len);
/* Writes the digest; the context may not be updated afterwards. */
void	cf_sha256_final(struct cf_sha256 *h, uint8_t out[CF_SHA256_LEN]);
void	cf_sha256_free(struct cf_sha256 *h);

/* One-shot and streaming HMAC-SHA256 keyed by k. */
cf_err	cf_hmac_sha256(const struct cf_key *k, const void *p, size_t len,
	    uint8_t out[CF_MAC_LEN], struct cf_error *err);
cf_err	cf_hmac_new(const struct cf_key *k, struct cf_hmac **out,
	    struct cf_error *err);
void	cf_hmac_update(struct cf_hmac *h, const void *p, size_t len);
void	cf_hmac_final(struct cf_hmac *h, uint8_t out[CF_MAC_LEN]);
/* Writes the MAC of the message so far and makes h ready for the next
 * message under the same key: the key's padded state is computed once,
 * at cf_hmac_new, not per message (two SHA-256 blocks saved per MAC).
 * Not thread-safe: one user at a time (the caller's lock). */
void	cf_hmac_final_reset(struct cf_hmac *h, uint8_t out[CF_MAC_LEN]);
void	cf_hmac_free(struct cf_hmac *h);

/* HMAC-SHA256 with a key of any length (SigV4 chains HMACs whose keys are
 * the secret text and then earlier outputs).  key is borrowed. */
cf_err	cf_hmac_sha256_raw(const void *key, size_t klen, const void *p,
	    size_t len, uint8_t out[CF_MAC_LEN], struct cf_error *err);

/* Streaming MD5, for S3 ETags and Content-MD5 only (a checksum clients
 * compare, never a security decision). */
#define CF_MD5_LEN	16
struct cf_md5;
cf_err	cf_md5_new(struct cf_md5 **out, struct cf_error *err);
void	cf_md5_update(struct cf_md5 *h, const void *p, size_t len);
void	cf_md5_final(struct cf_md5 *h, uint8_t out[CF_MD5_LEN]);
void	cf_md5_free(struct cf_md5 *h);

/* SEC: constant-time equality of two n-byte buffers (gnutls_memcmp). */
bool	cf_ct_equal(const void *a, const void *b, size_t n)
	    __attribute__((warn_unused_result));

#endif
