/* src/crypto/internal.h: helpers shared by the files of src/crypto/ (and
 * its unit test).  Not part of the subsystem's interface: other
 * subsystems include crypto.h, aead.h, keyring.h and tlscert.h only. */
#ifndef CF_CRYPTO_INTERNAL_H
#define CF_CRYPTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "base/error.h"
#include "crypto/crypto.h"

/* Runs cf_crypto_init() once (pthread_once); every entry point that needs
 * libsodium or GnuTLS calls it, so a forgotten init cannot leave
 * sodium_malloc() without its page size. */
cf_err	cf_crypto_ready(struct cf_error *err);

/* Map a negative GnuTLS return code to a cf_err (MEMORY_ERROR -> NOMEM,
 * DECRYPTION_FAILED -> INTEGRITY, else CRYPTO) and record "what: reason". */
cf_err	cf_gnutls_fail(struct cf_error *err, int rc, const char *what);

/* A gnutls_datum_t viewing const bytes (GnuTLS's datum is not const). */
static inline gnutls_datum_t
cf_datum(const void *p, size_t n)
{
	gnutls_datum_t	d;

	d.data = (unsigned char *)(uintptr_t)p;
	d.size = (unsigned int)n;
	return d;
}

/* A writable key (for filling in place); cf_key_lock() then makes its
 * page read-only.  cf_key_wbytes() is valid only between the two. */
cf_err	cf_key_alloc(struct cf_key **out, struct cf_error *err);
uint8_t	*cf_key_wbytes(struct cf_key *k);
void	cf_key_lock(struct cf_key *k);

/* RFC 5869 HKDF-SHA256 (extract then expand); outlen <= 255 * 32.  An
 * empty salt means HashLen zero bytes, as in the RFC. */
cf_err	cf_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
	    size_t ikmlen, const void *info, size_t infolen, uint8_t *out,
	    size_t outlen, struct cf_error *err);

/* Write len bytes to path atomically: a mkstemp() file beside it (mode
 * `mode`), write, fsync, then rename() over path (replace) or link() to
 * path (no replace: CF_E_CONFLICT if path exists), then fsync the
 * directory.  The temporary file is removed on every failure. */
cf_err	cf_file_write_atomic(const char *path, const void *p, size_t len,
	    unsigned int mode, bool replace, struct cf_error *err);

/* Read a whole regular file of at most max bytes into one NUL-terminated
 * cf_malloc'ed buffer (sized by fstat, never grown, so a secret file
 * leaves no stray copy: free it with cf_file_free_secret, which wipes).
 * CF_E_NOTFOUND if absent, CF_E_LIMIT if larger than max. */
cf_err	cf_file_read(const char *path, size_t max, char **out, size_t *len,
	    struct cf_error *err);
void	cf_file_free_secret(char *p, size_t len);

/* The associated data of a wrapped DEK: "coffer dek v1" 0 kek_id 0 ad;
 * *out (cf_malloc) for cf_free.  Shared by every key provider. */
cf_err	cf_dek_wrap_ad(const char *kek_id, const void *ad, size_t adlen,
	    uint8_t **out, size_t *outlen, struct cf_error *err);

#endif
