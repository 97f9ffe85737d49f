/* src/crypto/tlscert.c: the self-signed TLS certificate of a fresh data
 * directory and the loading of cert + key for the server; see tlscert.h
 * and docs/internals/CRYPTO.md ("TLS certificate and key").
 *
 * SEC: the private key exists in the clear only in memory.  On disk it is
 * PKCS#8 PBES2 (PBKDF2-SHA256 + AES-256-CBC) under a password made of the
 * hex of HKDF(master, CF_LABEL_TLS): 256 bits, so PBKDF2's iteration count
 * is not what protects it. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/internal.h"
#include "crypto/tlscert.h"

#define CERT_DAYS	825
#define CERT_BACKDATE	3600		/* tolerate clocks an hour behind */
#define CERT_FILE_MAX	(1024 * 1024)	/* a cert chain, PEM */
#define KEY_FILE_MAX	(64 * 1024)
#define PW_LEN		(2 * CF_KEY_LEN)
#define ENC_KEY_PEM	"-----BEGIN ENCRYPTED PRIVATE KEY-----"

/* The PKCS#8 password: hex of HKDF(master, CF_LABEL_TLS). */
static cf_err
key_password(const struct cf_key *master, char pw[PW_LEN + 1],
    struct cf_error *err)
{
	struct cf_key	*k;
	cf_err		 rc;

	if ((rc = cf_key_derive(master, CF_LABEL_TLS, &k, err)) != CF_OK)
		return rc;
	cf_hex_encode(cf_key_bytes(k), CF_KEY_LEN, pw);
	cf_key_free(k);
	return CF_OK;
}

/* The address of an IP literal in ip; its length (4 or 16), 0 if name is
 * not one. */
static size_t
ip_of(const char *name, unsigned char ip[16])
{
	if (inet_pton(AF_INET, name, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, name, ip) == 1)
		return 16;
	return 0;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of a (alen bytes) and b (NUL-ended);
 * not strcasecmp, whose folding follows the locale. */
static bool
dns_equal(const char *a, size_t alen, const char *b)
{
	size_t	i;

	if (strlen(b) != alen)
		return false;
	for (i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Why name is not a DNS host name (NULL when it is one). */
static const char *
dns_fault(const char *name)
{
	size_t		len = strlen(name), i, lab = 0;
	bool		digits = true;
	unsigned char	c;

	if (len == 0)
		return "empty name";
	if (len > CF_TLS_NAME_MAX)
		return "longer than 253 bytes";
	for (i = 0; i <= len; i++) {
		c = (unsigned char)name[i];
		if (c == '.' || c == '\0') {
			if (lab == 0)
				return c == '\0' ? "trailing dot" :
				    "empty label";
			if (name[i - 1] == '-')
				return "a label ends with '-'";
			if (c == '\0' && digits)
				return "not an IP address, and the last label "
				    "is all digits";
			lab = 0;
			digits = true;
			continue;
		}
		if (c == '*')
			return "wildcards are not allowed";
		if (!is_alnum(c) && c != '-')
			return "a DNS name has only letters, digits, '-' "
			    "and '.'";
		if (c == '-' && lab == 0)
			return "a label starts with '-'";
		if (++lab > 63)
			return "a label is longer than 63 bytes";
		if (c < '0' || c > '9')
			digits = false;
	}
	return NULL;
}

cf_err
cf_tls_name_check(const char *name, struct cf_error *err)
{
	unsigned char	 ip[16];
	const char	*why;
	char		 esc[80];

	if (name == NULL)
		return cf_error_set(err, CF_E_INVAL, "tls: NULL name");
	if (ip_of(name, ip) != 0)
		return CF_OK;
	why = dns_fault(name);
	if (why == NULL)
		return CF_OK;
	cf_log_escape(name, esc, sizeof(esc));
	return cf_error_set(err, CF_E_INPUT,
	    "\"%s\" is neither an IP address nor a DNS name (%s)", esc, why);
}

bool
cf_tls_name_is_ip(const char *name)
{
	unsigned char	ip[16];

	return name != NULL && ip_of(name, ip) != 0;
}

bool
cf_tls_name_equal(const char *a, const char *b)
{
	unsigned char	x[16], y[16];
	size_t		xl = ip_of(a, x), yl = ip_of(b, y);

	if (xl != 0 || yl != 0)
		return xl == yl && memcmp(x, y, xl) == 0;
	return dns_equal(a, strlen(a), b);
}

/* Append name to the SAN unless it is among done[0..*ndone-1] already;
 * done (capacity donemax) then records it. */
static cf_err
add_san(gnutls_x509_crt_t crt, const char *name, const char **done,
    size_t *ndone, size_t donemax, struct cf_error *err)
{
	struct cf_error	e2;
	unsigned char	ip[16];
	size_t		iplen, i;
	cf_err		rc;
	int		grc;

	cf_error_clear(&e2);
	if ((rc = cf_tls_name_check(name, &e2)) != CF_OK)
		return cf_error_set(err, rc, "tls: certificate name %s",
		    e2.msg);
	for (i = 0; i < *ndone; i++)
		if (cf_tls_name_equal(done[i], name))
			return CF_OK;
	if (*ndone >= donemax)
		return cf_error_set(err, CF_E_INTERNAL, "tls: too many names");
	iplen = ip_of(name, ip);
	if (iplen != 0)
		grc = gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_IPADDRESS, ip, (unsigned int)iplen,
		    GNUTLS_FSAN_APPEND);
	else
		grc = gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_DNSNAME, name, (unsigned int)strlen(name),
		    GNUTLS_FSAN_APPEND);
	if (grc < 0)
		return cf_gnutls_fail(err, grc, "tls: subject alt name");
	done[(*ndone)++] = name;
	return CF_OK;
}

static cf_err
make_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
    const char *const *extra_names, struct cf_error *err)
{
	static const char *const base_names[] = { "localhost", "127.0.0.1",
	    "::1", NULL };
	const char	*done[3 + CF_TLS_EXTRA_MAX];
	unsigned char	 serial[16], kid[64];
	size_t		 kidlen = sizeof(kid);
	time_t		 now = time(NULL);
	size_t		 i, ndone = 0;
	cf_err		 rc;
	int		 grc;

#define G(call, what) do {						\
	if ((grc = (call)) < 0)						\
		return cf_gnutls_fail(err, grc, "tls: " what);		\
} while (0)
	G(gnutls_x509_crt_set_version(crt, 3), "version");
	if ((rc = cf_random(serial, sizeof(serial), err)) != CF_OK)
		return rc;
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
	G(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial");
	G(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    "coffer", 6), "subject");
	G(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME,
	    0, "Coffer self-signed", 18), "subject");
	G(gnutls_x509_crt_set_activation_time(crt, now - CERT_BACKDATE),
	    "activation time");
	G(gnutls_x509_crt_set_expiration_time(crt,
	    now + (time_t)CERT_DAYS * 86400), "expiration time");
	G(gnutls_x509_crt_set_key(crt, key), "public key");
	G(gnutls_x509_crt_set_basic_constraints(crt, 0, -1),
	    "basic constraints");
	G(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
	    "key usage");
	G(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER,
	    0), "extended key usage");
	G(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid, &kidlen),
	    "key id");
	G(gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen),
	    "subject key id");
	for (i = 0; base_names[i] != NULL; i++)
		if ((rc = add_san(crt, base_names[i], done, &ndone,
		    sizeof(done) / sizeof(done[0]), err)) != CF_OK)
			return rc;
	for (i = 0; extra_names != NULL && extra_names[i] != NULL; i++)
		if ((rc = add_san(crt, extra_names[i], done, &ndone,
		    sizeof(done) / sizeof(done[0]), err)) != CF_OK)
			return rc;
	G(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "sign");
#undef G
	return CF_OK;
}

cf_err
cf_tls_selfsigned_create(const char *cert_path, const char *key_path,
    const struct cf_key *master, const char *const *extra_names,
    struct cf_error *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	gnutls_datum_t		 kpem = { NULL, 0 }, cpem = { NULL, 0 };
	char			 pw[PW_LEN + 1];
	size_t			 n;
	cf_err			 rc;
	int			 grc;

	if (cert_path == NULL || key_path == NULL || master == NULL)
		return cf_error_set(err, CF_E_INVAL, "tls: bad arguments");
	for (n = 0; extra_names != NULL && extra_names[n] != NULL; n++)
		if (n >= CF_TLS_EXTRA_MAX)
			return cf_error_set(err, CF_E_LIMIT, "tls: more than "
			    "%d extra certificate names", CF_TLS_EXTRA_MAX);
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((grc = gnutls_x509_privkey_init(&key)) < 0)
		return cf_gnutls_fail(err, grc, "tls: key init");
	if ((grc = gnutls_x509_crt_init(&crt)) < 0) {
		gnutls_x509_privkey_deinit(key);
		return cf_gnutls_fail(err, grc, "tls: cert init");
	}
	grc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (grc < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: generate P-256 key");
		goto out;
	}
	if ((rc = make_cert(crt, key, extra_names, err)) != CF_OK)
		goto out;
	if ((rc = key_password(master, pw, err)) != CF_OK)
		goto out;
	grc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, pw,
	    GNUTLS_PKCS_PBES2_AES_256, &kpem);
	cf_wipe(pw, sizeof(pw));
	if (grc < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: export encrypted key");
		goto out;
	}
	if ((grc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
	    &cpem)) < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: export certificate");
		goto out;
	}
	if ((rc = cf_file_write_atomic(key_path, kpem.data, kpem.size, 0600,
	    false, err)) != CF_OK)
		goto out;
	if ((rc = cf_file_write_atomic(cert_path, cpem.data, cpem.size, 0644,
	    false, err)) != CF_OK) {
		(void)unlink(key_path);	/* all or nothing */
		goto out;
	}
out:
	gnutls_free(kpem.data);
	gnutls_free(cpem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);	/* wipes the key */
	return rc;
}

/* The first certificate of a PEM text, for *out (gnutls_x509_crt_deinit). */
static cf_err
first_cert(const char *pem, size_t len, gnutls_x509_crt_t *out,
    struct cf_error *err)
{
	gnutls_x509_crt_t	crt = NULL;
	gnutls_datum_t		d = cf_datum(pem, len);
	int			grc;

	if ((grc = gnutls_x509_crt_init(&crt)) < 0)
		return cf_gnutls_fail(err, grc, "tls: cert init");
	grc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (grc < 0) {
		gnutls_x509_crt_deinit(crt);
		if (grc == GNUTLS_E_MEMORY_ERROR)
			return cf_gnutls_fail(err, grc, "tls: cert import");
		return cf_error_set(err, CF_E_INPUT,
		    "tls: certificate file is not a PEM certificate: %s",
		    gnutls_strerror(grc));
	}
	*out = crt;
	return CF_OK;
}

/* The cert (first of the file) and the key must hold the same key pair. */
static cf_err
check_pair(const char *cert_pem, size_t cert_len, gnutls_x509_privkey_t key,
    struct cf_error *err)
{
	gnutls_x509_crt_t	crt = NULL;
	unsigned char		a[64], b[64];
	size_t			al = sizeof(a), bl = sizeof(b);
	cf_err			rc;
	int			grc;

	if ((rc = first_cert(cert_pem, cert_len, &crt, err)) != CF_OK)
		return rc;
	grc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &al);
	gnutls_x509_crt_deinit(crt);
	if (grc < 0)
		return cf_gnutls_fail(err, grc, "tls: cert key id");
	grc = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
	    &bl);
	if (grc < 0)
		return cf_gnutls_fail(err, grc, "tls: key id");
	if (al != bl || memcmp(a, b, al) != 0)
		return cf_error_set(err, CF_E_INPUT,
		    "tls: the certificate does not match the private key");
	return CF_OK;
}

cf_err
cf_tls_load_pem(const char *cert_path, const char *key_path,
    const struct cf_key *master, char **cert_pem, char **key_pem,
    struct cf_error *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_datum_t		 d, plain = { NULL, 0 };
	char			*cert = NULL, *kfile = NULL, *out = NULL;
	size_t			 clen = 0, klen = 0;
	char			 pw[PW_LEN + 1];
	cf_err			 rc;
	int			 grc;

	*cert_pem = NULL;
	*key_pem = NULL;
	if (cert_path == NULL || key_path == NULL)
		return cf_error_set(err, CF_E_INVAL, "tls: bad arguments");
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((rc = cf_file_read(cert_path, CERT_FILE_MAX, &cert, &clen, err)) !=
	    CF_OK)
		return rc;
	if ((rc = cf_file_read(key_path, KEY_FILE_MAX, &kfile, &klen, err)) !=
	    CF_OK)
		goto out;
	if ((grc = gnutls_x509_privkey_init(&key)) < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: key init");
		goto out;
	}
	d = cf_datum(kfile, klen);
	if (master != NULL) {
		if (strstr(kfile, ENC_KEY_PEM) == NULL) {
			rc = cf_error_set(err, CF_E_INTEGRITY, "tls: %s is not "
			    "an encrypted PKCS#8 key", key_path);
			goto out;
		}
		if ((rc = key_password(master, pw, err)) != CF_OK)
			goto out;
		grc = gnutls_x509_privkey_import_pkcs8(key, &d,
		    GNUTLS_X509_FMT_PEM, pw, 0);
		cf_wipe(pw, sizeof(pw));
		if (grc == GNUTLS_E_MEMORY_ERROR) {
			rc = cf_gnutls_fail(err, grc, "tls: import key");
			goto out;
		}
		if (grc < 0) {
			rc = cf_error_set(err, CF_E_INTEGRITY, "tls: cannot "
			    "decrypt %s (wrong master key or tampered file): "
			    "%s", key_path, gnutls_strerror(grc));
			goto out;
		}
		if ((rc = check_pair(cert, clen, key, err)) != CF_OK)
			goto out;
		grc = gnutls_x509_privkey_export2_pkcs8(key,
		    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &plain);
		if (grc < 0) {
			rc = cf_gnutls_fail(err, grc, "tls: export key");
			goto out;
		}
		if ((out = cf_memdup_str(plain.data, plain.size)) == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM,
			    "tls: out of memory");
			goto out;
		}
	} else {
		/* An operator's key: plain PEM in any format GnuTLS knows;
		 * parsed only to check it matches the certificate. */
		grc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM,
		    NULL, GNUTLS_PKCS_PLAIN);
		if (grc < 0) {
			rc = cf_error_set(err, CF_E_INPUT, "tls: %s is not an "
			    "unencrypted PEM private key: %s", key_path,
			    gnutls_strerror(grc));
			goto out;
		}
		if ((rc = check_pair(cert, clen, key, err)) != CF_OK)
			goto out;
		out = kfile;
		kfile = NULL;
	}
	*cert_pem = cert;
	*key_pem = out;
	cert = NULL;
	out = NULL;
	rc = CF_OK;
out:
	if (plain.data != NULL) {
		cf_wipe(plain.data, plain.size);
		gnutls_free(plain.data);
	}
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	cf_free(cert);
	cf_file_free_secret(kfile, klen);
	cf_tls_pem_free(out);
	return rc;
}

void
cf_tls_pem_free(char *pem)
{
	if (pem == NULL)
		return;
	cf_wipe(pem, strlen(pem));
	cf_free(pem);
}

/* Whether the subjectAltName of crt lists name. */
static cf_err
san_has(gnutls_x509_crt_t crt, const char *name, bool *found,
    struct cf_error *err)
{
	unsigned char	ip[16];
	char		san[CF_TLS_NAME_MAX + 1];
	size_t		iplen = ip_of(name, ip), sl;
	unsigned int	i;
	int		type;

	*found = false;
	for (i = 0;; i++) {
		sl = sizeof(san);
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, san, &sl,
		    NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return CF_OK;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;	/* longer than any name we look for */
		if (type < 0)
			return cf_gnutls_fail(err, type,
			    "tls: subject alt name");
		if (iplen != 0 && type == GNUTLS_SAN_IPADDRESS &&
		    sl == iplen && memcmp(san, ip, iplen) == 0)
			break;
		if (iplen == 0 && type == GNUTLS_SAN_DNSNAME &&
		    dns_equal(san, sl, name))
			break;
	}
	*found = true;
	return CF_OK;
}

cf_err
cf_tls_cert_missing_names(const char *cert_pem, const char *const *names,
    char *missing, size_t missingsz, size_t *nmissing, struct cf_error *err)
{
	gnutls_x509_crt_t	 crt = NULL;
	size_t			 i, n = 0;
	bool			 found, cut = false;
	cf_err			 rc;

	if (cert_pem == NULL || missing == NULL || missingsz == 0)
		return cf_error_set(err, CF_E_INVAL, "tls: bad arguments");
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((rc = first_cert(cert_pem, strlen(cert_pem), &crt, err)) != CF_OK)
		return rc;
	missing[0] = '\0';
	for (i = 0; names != NULL && names[i] != NULL; i++) {
		if ((rc = san_has(crt, names[i], &found, err)) != CF_OK)
			goto out;
		if (found)
			continue;
		if (n++ > 0)
			(void)cf_strlcat(missing, ",", missingsz);
		if (cf_strlcat(missing, names[i], missingsz) >= missingsz)
			cut = true;
	}
	if (cut && missingsz >= 4)
		(void)cf_strlcpy(missing + missingsz - 4, "...", 4);
	*nmissing = n;
out:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

cf_err
cf_tls_cert_expiration(const char *cert_pem, time_t *out,
    struct cf_error *err)
{
	gnutls_x509_crt_t	crt = NULL;
	time_t			t;
	cf_err			rc;

	if (cert_pem == NULL)
		return cf_error_set(err, CF_E_INVAL, "tls: bad arguments");
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((rc = first_cert(cert_pem, strlen(cert_pem), &crt, err)) != CF_OK)
		return rc;
	t = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	if (t == (time_t)-1)
		return cf_error_set(err, CF_E_INPUT,
		    "tls: the certificate has no usable expiration time");
	*out = t;
	return CF_OK;
}

cf_err
cf_tls_cert_info(const char *cert_pem, struct cf_tls_cert_info *out,
    struct cf_error *err)
{
	struct cf_tls_cert_info	 ci;
	gnutls_x509_crt_t	 crt = NULL;
	const char		*name;
	unsigned int		 bits = 0;
	int			 pk, sig;
	cf_err			 rc;

	if (cert_pem == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "tls: bad arguments");
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((rc = first_cert(cert_pem, strlen(cert_pem), &crt, err)) != CF_OK)
		return rc;
	memset(&ci, 0, sizeof(ci));
	ci.not_before = gnutls_x509_crt_get_activation_time(crt);
	ci.not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (ci.not_before == (time_t)-1 || ci.not_after == (time_t)-1) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "tls: the certificate has no usable validity dates");
		goto out;
	}
	/* Self-issued: what a client has to be given as its own CA. */
	ci.self_signed = gnutls_x509_crt_check_issuer(crt, crt) == 1;
	pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	name = pk >= 0 ? gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : NULL;
	(void)cf_strlcpy(ci.key_alg, name != NULL ? name : "unknown",
	    sizeof(ci.key_alg));
	ci.key_bits = bits;
	sig = gnutls_x509_crt_get_signature_algorithm(crt);
	name = sig >= 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) :
	    NULL;
	(void)cf_strlcpy(ci.sig_alg, name != NULL ? name : "unknown",
	    sizeof(ci.sig_alg));
	ci.sig_weak = sig < 0 ||
	    gnutls_sign_is_secure2((gnutls_sign_algorithm_t)sig, 0) == 0;
	*out = ci;
	rc = CF_OK;
out:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

cf_err
cf_tls_priority_weak(const char *prio, bool *weak, char *names,
    size_t namesz, struct cf_error *err)
{
	gnutls_priority_t	 p = NULL;
	const unsigned int	*list = NULL;
	const char		*errpos = NULL, *name;
	size_t			 used = 0;
	int			 n, i, grc;
	cf_err			 rc;

	if (prio == NULL || weak == NULL || names == NULL || namesz == 0)
		return cf_error_set(err, CF_E_INVAL, "tls: bad arguments");
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	grc = gnutls_priority_init(&p, prio, &errpos);
	if (grc < 0)
		return cf_error_set(err, CF_E_INPUT, "tls: priority string "
		    "refused: %s", gnutls_strerror(grc));
	*weak = false;
	names[0] = '\0';
	n = gnutls_priority_protocol_list(p, &list);
	for (i = 0; i < n && list != NULL; i++) {
		switch (list[i]) {
		case GNUTLS_SSL3:
		case GNUTLS_TLS1_0:
		case GNUTLS_TLS1_1:
		case GNUTLS_DTLS0_9:
		case GNUTLS_DTLS1_0:
			break;
		default:
			continue;
		}
		*weak = true;
		name = gnutls_protocol_get_name(
		    (gnutls_protocol_t)list[i]);
		if (name == NULL)
			name = "?";
		if (used < namesz)
			used += (size_t)snprintf(names + used, namesz - used,
			    "%s%s", used > 0 ? "," : "", name);
	}
	gnutls_priority_deinit(p);
	return CF_OK;
}

cf_err
cf_tls_key_reseal(const char *cert_path, const char *key_path,
    const struct cf_key *old, const struct cf_key *nw, const char *out_path,
    struct cf_error *err)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_datum_t		 d, kpem = { NULL, 0 };
	char			*cert = NULL, *plain = NULL;
	char			 pw[PW_LEN + 1];
	int			 grc;
	cf_err			 rc;

	pw[0] = '\0';
	rc = cf_tls_load_pem(cert_path, key_path, old, &cert, &plain, err);
	if (rc != CF_OK)
		return rc;
	if ((grc = gnutls_x509_privkey_init(&key)) < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: key init");
		goto out;
	}
	d = cf_datum(plain, strlen(plain));
	grc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN);
	if (grc < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: import key");
		goto out;
	}
	if ((rc = key_password(nw, pw, err)) != CF_OK)
		goto out;
	grc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, pw,
	    GNUTLS_PKCS_PBES2_AES_256, &kpem);
	if (grc < 0) {
		rc = cf_gnutls_fail(err, grc, "tls: export encrypted key");
		goto out;
	}
	rc = cf_file_write_atomic(out_path, kpem.data, kpem.size, 0600, true,
	    err);
out:
	cf_wipe(pw, sizeof(pw));
	gnutls_free(kpem.data);
	gnutls_x509_privkey_deinit(key);
	cf_tls_pem_free(plain);
	cf_free(cert);
	return rc;
}
