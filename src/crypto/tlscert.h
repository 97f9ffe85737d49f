/* src/crypto/tlscert.h: the server's TLS certificate and key.
 *
 * A fresh data directory gets a self-signed ECDSA P-256 certificate
 * (SAN: localhost, 127.0.0.1, ::1 and any extra names given) valid for
 * 825 days.  It is made once and never replaced by Coffer: clients pin
 * it, so the server only reports names it lacks and its expiry
 * (cf_tls_cert_missing_names, cf_tls_cert_expiration).  SEC: its
 * private key is stored only as encrypted PKCS#8 (PBES2/AES-256) under a
 * password derived from the master key, so the data directory alone does
 * not give the TLS key away. */
#ifndef CF_CRYPTO_TLSCERT_H
#define CF_CRYPTO_TLSCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define CF_TLS_NAME_MAX		253	/* bytes of a DNS name */
#define CF_TLS_EXTRA_MAX	32	/* extra names of one certificate */

/* CF_OK when name is an IPv4 or IPv6 literal (inet_pton's forms: no
 * brackets, no zone) or a DNS host name: at most CF_TLS_NAME_MAX bytes of
 * dot-separated labels, each 1 to 63 ASCII letters, digits and hyphens,
 * not starting or ending with a hyphen, the last label not all digits (a
 * mistyped IPv4 address), no trailing dot, no wildcard.  Otherwise
 * CF_E_INPUT with the reason (the name is quoted escaped). */
cf_err	cf_tls_name_check(const char *name, struct cf_error *err)
	    __attribute__((warn_unused_result));
/* Whether name is an IPv4 or IPv6 literal. */
bool	cf_tls_name_is_ip(const char *name);
/* Whether a and b give the same subjectAltName: IP literals compare by
 * address ("::1" equals "0:0::1"), DNS names ignoring ASCII case. */
bool	cf_tls_name_equal(const char *a, const char *b);

/* Create cert_path (PEM, 0644) and key_path (encrypted PKCS#8 PEM, 0600).
 * extra_names: NULL-terminated list of extra DNS names/IPs, may be NULL;
 * each must pass cf_tls_name_check (else CF_E_INPUT), at most
 * CF_TLS_EXTRA_MAX (else CF_E_LIMIT); a name already in the certificate
 * (localhost, 127.0.0.1, ::1 or an earlier extra name) is skipped.
 * CF_E_CONFLICT if either file exists: nothing is ever replaced. */
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

/* Master key rotation: write out_path (atomically, 0600) as the
 * encrypted key of key_path (made by cf_tls_selfsigned_create under old)
 * encrypted again under nw.  The key pair itself does not change. */
cf_err	cf_tls_key_reseal(const char *cert_path, const char *key_path,
	    const struct cf_key *old, const struct cf_key *nw,
	    const char *out_path, struct cf_error *err);

/* Which of names (NULL-terminated, may be NULL) the subjectAltName of the
 * first certificate in cert_pem lacks, compared as cf_tls_name_equal
 * does.  On success *nmissing counts them and missing (capacity
 * missingsz > 0) holds them comma-separated ("" when none; cut short with
 * "..." when it does not fit).  CF_E_INPUT if cert_pem has no
 * certificate. */
cf_err	cf_tls_cert_missing_names(const char *cert_pem,
	    const char *const *names, char *missing, size_t missingsz,
	    size_t *nmissing, struct cf_error *err);
/* The end of the validity (notAfter) of the first certificate in
 * cert_pem.  CF_E_INPUT if there is none or it has no usable date. */
cf_err	cf_tls_cert_expiration(const char *cert_pem, time_t *out,
	    struct cf_error *err);

/* What a posture check looks at in the first certificate of cert_pem. */
struct cf_tls_cert_info {
	time_t		not_before;
	time_t		not_after;
	bool		self_signed;	/* issuer == subject and its own
					 * signature verifies */
	char		key_alg[16];	/* "RSA", "EC", "EdDSA (Ed25519)",
					 * ... (GnuTLS' name) */
	unsigned int	key_bits;	/* modulus or curve size */
	char		sig_alg[32];	/* "RSA-SHA256", "ECDSA-SHA256", ... */
	bool		sig_weak;	/* MD5 or SHA-1 signature (GnuTLS
					 * considers the algorithm
					 * insecure) */
};
/* Fill *out from the first certificate of cert_pem.  CF_E_INPUT if there
 * is none or its dates are unusable. */
cf_err	cf_tls_cert_info(const char *cert_pem, struct cf_tls_cert_info *out,
	    struct cf_error *err);
/* Does the GnuTLS priority string prio enable a protocol version older
 * than TLS 1.2 (SSL 3.0, TLS 1.0, TLS 1.1, DTLS 1.0)?  *names gets the
 * weak ones, comma-separated ("" when none).  CF_E_INPUT if GnuTLS
 * refuses the string. */
cf_err	cf_tls_priority_weak(const char *prio, bool *weak, char *names,
	    size_t namesz, struct cf_error *err);

#endif
