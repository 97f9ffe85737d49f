/* src/crypto/tlscert.h: the server's TLS certificate and key.
 *
 * A fresh data directory gets a self-signed ECDSA P-256 certificate
 * (SAN: localhost, 127.0.0.1, ::1 and any extra names given) valid for
 * 825 days.  SEC: its private key is stored only as encrypted PKCS#8
 * (PBES2/AES-256) under a password derived from the master key, so the
 * data directory alone does not give the TLS key away. */
#ifndef CF_CRYPTO_TLSCERT_H
#define CF_CRYPTO_TLSCERT_H

#include <stddef.h>

#include "base/error.h"
#include "crypto/crypto.h"

/* Create cert_path (PEM, 0644) and key_path (encrypted PKCS#8 PEM, 0600).
 * extra_names: NULL-terminated list of extra DNS names/IPs, may be NULL. */
cf_err	cf_tls_selfsigned_create(const char *cert_path, const char *key_path,
	    const struct cf_key *master, const char *const *extra_names,
	    struct cf_error *err);

/* Load cert and key as PEM strings for the TLS server.  When master is
 * non-NULL the key is the encrypted form made above; otherwise the key
 * file is plain PEM (an operator-supplied certificate).  *key_pem is
 * secret: free it with cf_tls_pem_free(), which wipes. */
cf_err	cf_tls_load_pem(const char *cert_path, const char *key_path,
	    const struct cf_key *master, char **cert_pem, char **key_pem,
	    struct cf_error *err);
void	cf_tls_pem_free(char *pem);

#endif
