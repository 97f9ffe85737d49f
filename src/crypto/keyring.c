/* src/crypto/keyring.c: the master key file and the sealed keyring of
 * KEKs; see keyring.h and docs/internals/CRYPTO.md ("Keyring file",
 * "Master key file", "DEK wrapping").
 *
 * SEC: the keyring payload is binary, assembled and parsed only in
 * sodium_malloc()'ed memory, so no KEK passes through a JSON library's
 * heap.  It is parsed only after its tag has verified. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/internal.h"
#include "crypto/keyring.h"

#define MK_HEX_LEN	(2 * CF_KEY_LEN)
/* A sealed master key file: one line,
 *   coffer-sealed-master-key-v1 argon2id OPS MEM SALT NONCE CT
 * CT = XChaCha20-Poly1305(key = argon2id(passphrase, SALT, OPS, MEM),
 * NONCE, the 32-byte key, ad = the magic).  docs/internals/CRYPTO.md. */
#define MK_SEALED_MAGIC	"coffer-sealed-master-key-v1"
#define MK_FILE_MAX	512
#define MK_SALT_LEN	crypto_pwhash_SALTBYTES
#define MK_NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MK_CT_LEN	(CF_KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)
/* libsodium's "interactive" argon2id costs: about 0.1 s and 64 MiB at
 * each start and offline check. */
#define MK_OPS		crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MK_MEM		crypto_pwhash_MEMLIMIT_INTERACTIVE
/* The most a sealed file may ask argon2id for (as pwhash_memory): a
 * tampered file cannot make a start allocate more. */
#define MK_MEM_MAX	((uint64_t)1 << 30)

#define KR_MAGIC	"CFKR"
#define KR_VERSION	1
#define KR_NONCE_OFF	8
#define KR_HDR_LEN	20	/* magic 4, version 1, zero 3, nonce 12 */
#define KR_NONCE_LEN	12
#define KR_TAG_LEN	16
#define KR_MAX_KEKS	4096
#define KR_ENTRY_MAX	(1 + (CF_KEK_ID_MAX - 1) + 8 + CF_KEY_LEN)
#define KR_FILE_MAX	(KR_HDR_LEN + 8 + KR_MAX_KEKS * KR_ENTRY_MAX + \
			    KR_TAG_LEN)

#define WRAP_LABEL	"coffer dek v1"
#define WRAP_NONCE_LEN	12
#define WRAP_TAG_LEN	16

_Static_assert(CF_WRAPPED_DEK_LEN == WRAP_NONCE_LEN + CF_KEY_LEN +
    WRAP_TAG_LEN, "wrapped DEK layout");

struct kek {
	char		 id[CF_KEK_ID_MAX];
	uint64_t	 num;		/* the n of "kek-n" */
	uint64_t	 created;	/* unix seconds */
	struct cf_key	*key;
};

struct cf_keyring {
	pthread_rwlock_t lock;
	char		*path;
	struct cf_key	*seal;		/* HKDF(master, CF_LABEL_KEYRING) */
	struct kek	**keks;		/* each allocated alone: ids stay put */
	size_t		 n, cap;
	size_t		 active;
};

/* --- master key file --- */

cf_err
cf_master_key_create(const char *path, struct cf_key **out,
    struct cf_error *err)
{
	struct cf_key	*k;
	char		 hex[MK_HEX_LEN + 2];
	cf_err		 rc;

	*out = NULL;
	if ((rc = cf_key_new_random(&k, err)) != CF_OK)
		return rc;
	cf_hex_encode(cf_key_bytes(k), CF_KEY_LEN, hex);
	hex[MK_HEX_LEN] = '\n';
	hex[MK_HEX_LEN + 1] = '\0';
	rc = cf_file_write_atomic(path, hex, MK_HEX_LEN + 1, 0600, false, err);
	cf_wipe(hex, sizeof(hex));
	if (rc != CF_OK) {
		cf_key_free(k);
		return rc;
	}
	*out = k;
	return CF_OK;
}

/* The passphrase of a sealed master key file, set by main before the key
 * is loaded and cleared after start-up; locked memory. */
static char	*mk_pass;
static size_t	 mk_passlen;

cf_err
cf_master_passphrase_set(const char *pw, size_t len, struct cf_error *err)
{
	cf_master_passphrase_clear();
	if (len == 0 || len > CF_MK_PASS_MAX)
		return cf_error_set(err, CF_E_INPUT, "the master key "
		    "passphrase must be 1 to %d bytes", CF_MK_PASS_MAX);
	if ((mk_pass = sodium_malloc(len + 1)) == NULL)
		return cf_error_set(err, CF_E_NOMEM,
		    "master key: out of locked memory");
	memcpy(mk_pass, pw, len);
	mk_pass[len] = '\0';
	mk_passlen = len;
	return CF_OK;
}

void
cf_master_passphrase_clear(void)
{
	if (mk_pass != NULL)
		sodium_free(mk_pass);	/* wipes */
	mk_pass = NULL;
	mk_passlen = 0;
}

/* The wrapping key of a sealed file: argon2id(passphrase, salt). */
static cf_err
mk_kdf(const char *pw, size_t pwlen, const uint8_t salt[MK_SALT_LEN],
    uint64_t ops, size_t mem, uint8_t wk[CF_KEY_LEN], struct cf_error *err)
{
	if (crypto_pwhash(wk, CF_KEY_LEN, pw, pwlen, salt, ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return cf_error_set(err, CF_E_NOMEM, "master key: argon2id "
		    "needs %zu bytes of memory", mem);
	return CF_OK;
}

cf_err
cf_master_key_write(const char *path, const struct cf_key *k,
    struct cf_error *err)
{
	char	hex[MK_HEX_LEN + 2];
	cf_err	rc;

	cf_hex_encode(cf_key_bytes(k), CF_KEY_LEN, hex);
	hex[MK_HEX_LEN] = '\n';
	hex[MK_HEX_LEN + 1] = '\0';
	rc = cf_file_write_atomic(path, hex, MK_HEX_LEN + 1, 0600, true, err);
	cf_wipe(hex, sizeof(hex));
	return rc;
}

cf_err
cf_master_key_seal(const char *path, const struct cf_key *k, const char *pw,
    size_t pwlen, struct cf_error *err)
{
	uint8_t		 salt[MK_SALT_LEN], nonce[MK_NONCE_LEN];
	uint8_t		 ct[MK_CT_LEN], wk[CF_KEY_LEN];
	char		 sh[2 * MK_SALT_LEN + 1], nh[2 * MK_NONCE_LEN + 1];
	char		 ch[2 * MK_CT_LEN + 1], line[MK_FILE_MAX];
	unsigned long long clen = 0;
	int		 n;
	cf_err		 rc;

	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if (pwlen < CF_MK_PASS_MIN || pwlen > CF_MK_PASS_MAX)
		return cf_error_set(err, CF_E_INPUT, "the master key "
		    "passphrase must be %d to %d bytes", CF_MK_PASS_MIN,
		    CF_MK_PASS_MAX);
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	rc = mk_kdf(pw, pwlen, salt, MK_OPS, MK_MEM, wk, err);
	if (rc != CF_OK)
		goto out;
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen,
	    cf_key_bytes(k), CF_KEY_LEN, (const uint8_t *)MK_SEALED_MAGIC,
	    strlen(MK_SEALED_MAGIC), NULL, nonce, wk);
	cf_hex_encode(salt, sizeof(salt), sh);
	cf_hex_encode(nonce, sizeof(nonce), nh);
	cf_hex_encode(ct, sizeof(ct), ch);
	n = snprintf(line, sizeof(line), "%s argon2id %llu %zu %s %s %s\n",
	    MK_SEALED_MAGIC, (unsigned long long)MK_OPS, (size_t)MK_MEM, sh,
	    nh, ch);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		rc = cf_error_set(err, CF_E_INTERNAL, "sealed key too long");
		goto out;
	}
	rc = cf_file_write_atomic(path, line, (size_t)n, 0600, true, err);
out:
	cf_wipe(wk, sizeof(wk));
	cf_wipe(line, sizeof(line));
	return rc;
}

/* Next space-separated field of *p (NUL-terminated in place). */
static char *
mk_field(char **p)
{
	char	*f = *p, *e;

	if (f == NULL || *f == '\0')
		return NULL;
	e = strchr(f, ' ');
	if (e != NULL) {
		*e = '\0';
		*p = e + 1;
	} else
		*p = NULL;
	return f;
}

/* Unseal the text of a sealed file (NUL-terminated, newline removed)
 * into k with the passphrase set by cf_master_passphrase_set. */
static cf_err
mk_unseal(const char *path, char *text, struct cf_key *k,
    struct cf_error *err)
{
	uint8_t		 salt[MK_SALT_LEN], nonce[MK_NONCE_LEN];
	uint8_t		 ct[MK_CT_LEN], wk[CF_KEY_LEN];
	char		*p = text, *f[7];
	uint64_t	 ops, mem;
	unsigned long long mlen = 0;
	size_t		 i;
	cf_err		 rc;

	for (i = 0; i < 7; i++)
		if ((f[i] = mk_field(&p)) == NULL)
			break;
	if (i != 7 || p != NULL || strcmp(f[0], MK_SEALED_MAGIC) != 0 ||
	    strcmp(f[1], "argon2id") != 0 ||
	    cf_parse_u64(f[2], 1, 16, &ops, NULL) != CF_OK ||
	    cf_parse_u64(f[3], 8192, MK_MEM_MAX, &mem, NULL) != CF_OK ||
	    cf_hex_decode(f[4], strlen(f[4]), salt, sizeof(salt), NULL) !=
	    CF_OK || cf_hex_decode(f[5], strlen(f[5]), nonce, sizeof(nonce),
	    NULL) != CF_OK || cf_hex_decode(f[6], strlen(f[6]), ct,
	    sizeof(ct), NULL) != CF_OK)
		return cf_error_set(err, CF_E_INPUT, "master key file %s: "
		    "not a valid sealed key", path);
	if (mk_pass == NULL)
		return cf_error_set(err, CF_E_AUTH, "master key file %s is "
		    "sealed with a passphrase: give it (coffer server "
		    "--passphrase-fd N, master_key_passphrase_file, %s, or "
		    "at the terminal)", path, CF_ENV_MK_PASS_FILE);
	rc = mk_kdf(mk_pass, mk_passlen, salt, ops, (size_t)mem, wk, err);
	if (rc != CF_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cf_key_wbytes(k),
	    &mlen, NULL, ct, sizeof(ct), (const uint8_t *)MK_SEALED_MAGIC,
	    strlen(MK_SEALED_MAGIC), nonce, wk) != 0 || mlen != CF_KEY_LEN)
		rc = cf_error_set(err, CF_E_AUTH, "master key file %s: wrong "
		    "passphrase (or the file was altered)", path);
out:
	cf_wipe(wk, sizeof(wk));
	return rc;
}

bool
cf_master_key_sealed(const char *path)
{
	char	buf[sizeof(MK_SEALED_MAGIC)];
	ssize_t	n;
	int	fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	return n == (ssize_t)sizeof(buf) - 1 &&
	    memcmp(buf, MK_SEALED_MAGIC, sizeof(buf) - 1) == 0;
}

cf_err
cf_master_key_load(const char *path, struct cf_key **out,
    struct cf_error *err)
{
	struct stat	 st;
	struct cf_key	*k = NULL;
	char		*text;
	ssize_t		 n;
	size_t		 len = 0;
	bool		 sealed;
	int		 fd;
	cf_err		 rc;

	*out = NULL;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	/* Locked memory for the text too: it is the key. */
	if ((text = sodium_malloc(MK_FILE_MAX + 1)) == NULL)
		return cf_error_set(err, CF_E_NOMEM,
		    "master key: out of locked memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = errno == ENOENT ?
		    cf_error_set(err, CF_E_NOTFOUND, "master key file %s "
		    "does not exist", path) :
		    cf_error_sys(err, CF_E_IO, "open master key file %s",
		    path);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "master key file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rc = cf_error_set(err, CF_E_INPUT, "master key file %s has "
		    "mode %04o: it must not be accessible to group or others "
		    "(chmod 600)", path, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	/* Read one byte more than the longest valid file to spot excess. */
	while (len < MK_FILE_MAX) {
		n = read(fd, text + len, MK_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cf_error_sys(err, CF_E_IO, "read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	sealed = len >= strlen(MK_SEALED_MAGIC) &&
	    memcmp(text, MK_SEALED_MAGIC, strlen(MK_SEALED_MAGIC)) == 0;
	if (!sealed && len != MK_HEX_LEN) {
		rc = cf_error_set(err, CF_E_INPUT, "master key file %s: "
		    "expected %d hex digits and an optional newline, or a "
		    "sealed key", path, MK_HEX_LEN);
		goto out;
	}
	if ((rc = cf_key_alloc(&k, err)) != CF_OK)
		goto out;
	/* Decoded straight into the key's locked page. */
	if (sealed)
		rc = mk_unseal(path, text, k, err);
	else if (cf_hex_decode(text, MK_HEX_LEN, cf_key_wbytes(k), CF_KEY_LEN,
	    NULL) != CF_OK)
		rc = cf_error_set(err, CF_E_INPUT, "master key file %s: "
		    "expected %d hex digits and an optional newline", path,
		    MK_HEX_LEN);
	if (rc != CF_OK) {
		cf_key_free(k);
		goto out;
	}
	cf_key_lock(k);
	*out = k;
	rc = CF_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	sodium_free(text);
	return rc;
}

/* --- keyring payload --- */

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static void
kek_free(struct kek *e)
{
	if (e == NULL)
		return;
	cf_key_free(e->key);
	cf_free(e);
}

static void
keks_free(struct cf_keyring *kr)
{
	size_t	i;

	for (i = 0; i < kr->n; i++)
		kek_free(kr->keks[i]);
	cf_free(kr->keks);
	kr->keks = NULL;
	kr->n = kr->cap = 0;
}

static cf_err
keks_push(struct cf_keyring *kr, struct kek *e, struct cf_error *err)
{
	struct kek	**nk;
	size_t		  ncap;

	if (kr->n == kr->cap) {
		ncap = kr->cap == 0 ? 4 : 2 * kr->cap;
		nk = cf_reallocarray(kr->keks, ncap, sizeof(*nk));
		if (nk == NULL)
			return cf_error_set(err, CF_E_NOMEM,
			    "keyring: out of memory");
		kr->keks = nk;
		kr->cap = ncap;
	}
	kr->keks[kr->n++] = e;
	return CF_OK;
}

/* A new random KEK "kek-<num>". */
static cf_err
kek_new(uint64_t num, struct kek **out, struct cf_error *err)
{
	struct kek	*e;
	cf_err		 rc;

	*out = NULL;
	if ((e = cf_calloc(1, sizeof(*e))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "keyring: out of memory");
	(void)snprintf(e->id, sizeof(e->id), "kek-%llu",
	    (unsigned long long)num);
	e->num = num;
	e->created = (uint64_t)time(NULL);
	if ((rc = cf_key_new_random(&e->key, err)) != CF_OK) {
		cf_free(e);
		return rc;
	}
	*out = e;
	return CF_OK;
}

/* "kek-" followed by a decimal number without leading zeros. */
static bool
parse_kek_id(const char *id, uint64_t *num)
{
	return cf_str_has_prefix(id, "kek-") && id[4] != '0' &&
	    cf_parse_u64(id + 4, 1, UINT64_MAX / 2, num, NULL) == CF_OK;
}

static size_t
payload_len(const struct cf_keyring *kr)
{
	size_t	i, len = 8;

	for (i = 0; i < kr->n; i++)
		len += 1 + strlen(kr->keks[i]->id) + 8 + CF_KEY_LEN;
	return len;
}

/* Seal the KEKs into a file image (header, ciphertext, tag). */
static cf_err
keyring_seal(const struct cf_keyring *kr, uint8_t **img, size_t *imglen,
    struct cf_error *err)
{
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	uint8_t			*pl, *p, *file;
	size_t			 plen, flen, ctlen, i, idlen;
	cf_err			 rc = CF_OK;
	int			 grc;

	*img = NULL;
	plen = payload_len(kr);
	flen = KR_HDR_LEN + plen + KR_TAG_LEN;
	if ((pl = sodium_malloc(plen)) == NULL)
		return cf_error_set(err, CF_E_NOMEM,
		    "keyring: out of locked memory");
	if ((file = cf_malloc(flen)) == NULL) {
		sodium_free(pl);
		return cf_error_set(err, CF_E_NOMEM, "keyring: out of memory");
	}
	put_u32(pl, (uint32_t)kr->n);
	put_u32(pl + 4, (uint32_t)kr->active);
	p = pl + 8;
	for (i = 0; i < kr->n; i++) {
		idlen = strlen(kr->keks[i]->id);
		*p++ = (uint8_t)idlen;
		memcpy(p, kr->keks[i]->id, idlen);
		p += idlen;
		put_u64(p, kr->keks[i]->created);
		p += 8;
		memcpy(p, cf_key_bytes(kr->keks[i]->key), CF_KEY_LEN);
		p += CF_KEY_LEN;
	}
	memcpy(file, KR_MAGIC, 4);
	file[4] = KR_VERSION;
	file[5] = file[6] = file[7] = 0;
	if ((rc = cf_random(file + KR_NONCE_OFF, KR_NONCE_LEN, err)) != CF_OK)
		goto out;
	k = cf_datum(cf_key_bytes(kr->seal), CF_KEY_LEN);
	if ((grc = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM,
	    &k)) < 0) {
		rc = cf_gnutls_fail(err, grc, "keyring: aes-256-gcm init");
		goto out;
	}
	ctlen = plen + KR_TAG_LEN;
	grc = gnutls_aead_cipher_encrypt(h, file + KR_NONCE_OFF, KR_NONCE_LEN,
	    file, KR_HDR_LEN, KR_TAG_LEN, pl, plen, file + KR_HDR_LEN, &ctlen);
	gnutls_aead_cipher_deinit(h);
	if (grc < 0) {
		rc = cf_gnutls_fail(err, grc, "keyring: seal");
		goto out;
	}
out:
	sodium_free(pl);
	if (rc != CF_OK) {
		cf_free(file);
		return rc;
	}
	*img = file;
	*imglen = flen;
	return CF_OK;
}

static cf_err
bad_payload(struct cf_error *err, const char *why)
{
	/* Authentic but malformed: written by a buggy or newer coffer. */
	return cf_error_set(err, CF_E_INTEGRITY, "keyring: %s", why);
}

/* Parse an authenticated payload into kr's KEK list. */
static cf_err
keyring_parse(struct cf_keyring *kr, const uint8_t *pl, size_t plen,
    struct cf_error *err)
{
	const uint8_t	*p = pl, *end = pl + plen;
	struct kek	*e;
	uint32_t	 count, active, i;
	size_t		 idlen, j;
	cf_err		 rc;

	if (plen < 8)
		return bad_payload(err, "payload too short");
	count = get_u32(p);
	active = get_u32(p + 4);
	p += 8;
	if (count == 0 || count > KR_MAX_KEKS || active >= count)
		return bad_payload(err, "bad KEK count");
	for (i = 0; i < count; i++) {
		if (end - p < 1)
			return bad_payload(err, "truncated entry");
		idlen = *p++;
		if (idlen == 0 || idlen >= CF_KEK_ID_MAX ||
		    (size_t)(end - p) < idlen + 8 + CF_KEY_LEN)
			return bad_payload(err, "truncated entry");
		if ((e = cf_calloc(1, sizeof(*e))) == NULL)
			return cf_error_set(err, CF_E_NOMEM,
			    "keyring: out of memory");
		memcpy(e->id, p, idlen);
		e->id[idlen] = '\0';
		p += idlen;
		if (strlen(e->id) != idlen || !parse_kek_id(e->id, &e->num)) {
			cf_free(e);
			return bad_payload(err, "bad KEK id");
		}
		for (j = 0; j < kr->n; j++)
			if (kr->keks[j]->num == e->num) {
				cf_free(e);
				return bad_payload(err, "duplicate KEK id");
			}
		e->created = get_u64(p);
		p += 8;
		if ((rc = cf_key_from_bytes(p, &e->key, err)) != CF_OK) {
			cf_free(e);
			return rc;
		}
		p += CF_KEY_LEN;
		if ((rc = keks_push(kr, e, err)) != CF_OK) {
			kek_free(e);
			return rc;
		}
	}
	if (p != end)
		return bad_payload(err, "trailing bytes");
	kr->active = active;
	return CF_OK;
}

static cf_err
keyring_load(struct cf_keyring *kr, const uint8_t *file, size_t flen,
    struct cf_error *err)
{
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	uint8_t			*pl;
	size_t			 plen;
	cf_err			 rc;
	int			 grc;

	if (flen < KR_HDR_LEN + 8 + KR_TAG_LEN ||
	    memcmp(file, KR_MAGIC, 4) != 0 || file[4] != KR_VERSION ||
	    file[5] != 0 || file[6] != 0 || file[7] != 0)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "keyring %s: not a version %d keyring file", kr->path,
		    KR_VERSION);
	plen = flen - KR_HDR_LEN - KR_TAG_LEN;
	if ((pl = sodium_malloc(plen)) == NULL)
		return cf_error_set(err, CF_E_NOMEM,
		    "keyring: out of locked memory");
	k = cf_datum(cf_key_bytes(kr->seal), CF_KEY_LEN);
	if ((grc = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM,
	    &k)) < 0) {
		sodium_free(pl);
		return cf_gnutls_fail(err, grc, "keyring: aes-256-gcm init");
	}
	grc = gnutls_aead_cipher_decrypt(h, file + KR_NONCE_OFF, KR_NONCE_LEN,
	    file, KR_HDR_LEN, KR_TAG_LEN, file + KR_HDR_LEN,
	    plen + KR_TAG_LEN, pl, &plen);
	gnutls_aead_cipher_deinit(h);
	if (grc == GNUTLS_E_DECRYPTION_FAILED)
		rc = cf_error_set(err, CF_E_INTEGRITY, "keyring %s failed "
		    "authentication: wrong master key or tampered file",
		    kr->path);
	else if (grc < 0)
		rc = cf_gnutls_fail(err, grc, "keyring: open");
	else
		rc = keyring_parse(kr, pl, plen, err);
	sodium_free(pl);
	if (rc != CF_OK)
		keks_free(kr);
	return rc;
}

static cf_err
keyring_store(struct cf_keyring *kr, bool replace, struct cf_error *err)
{
	uint8_t	*img;
	size_t	 len = 0;
	cf_err	 rc;

	if ((rc = keyring_seal(kr, &img, &len, err)) != CF_OK)
		return rc;
	rc = cf_file_write_atomic(kr->path, img, len, 0600, replace, err);
	cf_free(img);
	return rc;
}

void
cf_keyring_close(struct cf_keyring *kr)
{
	if (kr == NULL)
		return;
	keks_free(kr);
	cf_key_free(kr->seal);
	cf_free(kr->path);
	(void)pthread_rwlock_destroy(&kr->lock);
	cf_free(kr);
}

cf_err
cf_keyring_open(const char *path, const struct cf_key *master, bool create,
    struct cf_keyring **out, struct cf_error *err)
{
	struct cf_keyring	*kr;
	struct kek		*e;
	struct cf_error		 rerr;
	char			*file = NULL;
	size_t			 flen = 0;
	cf_err			 rc;

	*out = NULL;
	if (path == NULL || master == NULL)
		return cf_error_set(err, CF_E_INVAL, "keyring: bad arguments");
	if ((kr = cf_calloc(1, sizeof(*kr))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "keyring: out of memory");
	if (pthread_rwlock_init(&kr->lock, NULL) != 0) {
		cf_free(kr);
		return cf_error_set(err, CF_E_NOMEM, "keyring: lock init");
	}
	if ((kr->path = cf_strdup(path)) == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "keyring: out of memory");
		goto fail;
	}
	if ((rc = cf_key_derive(master, CF_LABEL_KEYRING, &kr->seal, err)) !=
	    CF_OK)
		goto fail;
	cf_error_clear(&rerr);
	rc = cf_file_read(path, KR_FILE_MAX, &file, &flen, &rerr);
	if (rc == CF_OK) {
		rc = keyring_load(kr, (const uint8_t *)file, flen, err);
		cf_free(file);
		if (rc != CF_OK)
			goto fail;
	} else if (rc == CF_E_NOTFOUND && create) {
		if ((rc = kek_new(1, &e, err)) != CF_OK)
			goto fail;
		if ((rc = keks_push(kr, e, err)) != CF_OK) {
			kek_free(e);
			goto fail;
		}
		kr->active = 0;
		if ((rc = keyring_store(kr, false, err)) != CF_OK)
			goto fail;
	} else {
		rc = cf_error_set(err, rc, "keyring: %s", rerr.msg);
		goto fail;
	}
	*out = kr;
	return CF_OK;
fail:
	cf_keyring_close(kr);
	return rc;
}

/* ad of a wrapped DEK: label, 0, kek id, 0, caller ad. */
cf_err
cf_dek_wrap_ad(const char *kek_id, const void *ad, size_t adlen, uint8_t **out,
    size_t *outlen, struct cf_error *err)
{
	size_t	ll = sizeof(WRAP_LABEL), il = strlen(kek_id) + 1, len;
	uint8_t	*p;

	if (!cf_add_ok(ll + il, adlen, &len) ||
	    (p = cf_malloc(len)) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "wrap: out of memory");
	memcpy(p, WRAP_LABEL, ll);
	memcpy(p + ll, kek_id, il);
	if (adlen > 0)
		memcpy(p + ll + il, ad, adlen);
	*out = p;
	*outlen = len;
	return CF_OK;
}

cf_err
cf_keyring_wrap(struct cf_keyring *kr, const struct cf_key *dek,
    const void *ad, size_t adlen, char kek_id[CF_KEK_ID_MAX],
    uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_error *err)
{
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	const struct kek	*e;
	uint8_t			*wad = NULL;
	size_t			 wadlen, ctlen;
	cf_err			 rc;
	int			 grc;

	if (dek == NULL || (ad == NULL && adlen > 0))
		return cf_error_set(err, CF_E_INVAL, "wrap: bad arguments");
	(void)pthread_rwlock_rdlock(&kr->lock);
	e = kr->keks[kr->active];
	rc = cf_dek_wrap_ad(e->id, ad, adlen, &wad, &wadlen, err);
	if (rc != CF_OK)
		goto out;
	if ((rc = cf_random(wrapped, WRAP_NONCE_LEN, err)) != CF_OK)
		goto out;
	k = cf_datum(cf_key_bytes(e->key), CF_KEY_LEN);
	if ((grc = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM,
	    &k)) < 0) {
		rc = cf_gnutls_fail(err, grc, "wrap: aes-256-gcm init");
		goto out;
	}
	ctlen = CF_KEY_LEN + WRAP_TAG_LEN;
	grc = gnutls_aead_cipher_encrypt(h, wrapped, WRAP_NONCE_LEN, wad,
	    wadlen, WRAP_TAG_LEN, cf_key_bytes(dek), CF_KEY_LEN,
	    wrapped + WRAP_NONCE_LEN, &ctlen);
	gnutls_aead_cipher_deinit(h);
	if (grc < 0) {
		rc = cf_gnutls_fail(err, grc, "wrap");
		goto out;
	}
	(void)cf_strlcpy(kek_id, e->id, CF_KEK_ID_MAX);
out:
	(void)pthread_rwlock_unlock(&kr->lock);
	cf_free(wad);
	return rc;
}

cf_err
cf_keyring_unwrap(struct cf_keyring *kr, const char *kek_id, const void *ad,
    size_t adlen, const uint8_t wrapped[CF_WRAPPED_DEK_LEN],
    struct cf_key **dek, struct cf_error *err)
{
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	const struct kek	*e = NULL;
	struct cf_key		*d = NULL;
	uint8_t			*wad = NULL;
	size_t			 wadlen, ptlen, i;
	cf_err			 rc;
	int			 grc;

	*dek = NULL;
	if (kek_id == NULL || (ad == NULL && adlen > 0))
		return cf_error_set(err, CF_E_INVAL, "unwrap: bad arguments");
	(void)pthread_rwlock_rdlock(&kr->lock);
	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->keks[i]->id, kek_id) == 0) {
			e = kr->keks[i];
			break;
		}
	if (e == NULL) {
		char	esc[CF_KEK_ID_MAX];

		/* The id comes from metadata: print it tamed. */
		(void)cf_strlcpy(esc, "", sizeof(esc));
		for (i = 0; kek_id[i] != '\0' && i + 1 < sizeof(esc); i++)
			esc[i] = kek_id[i] < 0x20 || kek_id[i] > 0x7e ||
			    kek_id[i] == '"' ? '?' : kek_id[i];
		esc[i] = '\0';
		rc = cf_error_set(err, CF_E_NOTFOUND, "unwrap: no KEK \"%s\" "
		    "in the keyring", esc);
		goto out;
	}
	rc = cf_dek_wrap_ad(e->id, ad, adlen, &wad, &wadlen, err);
	if (rc != CF_OK)
		goto out;
	if ((rc = cf_key_alloc(&d, err)) != CF_OK)
		goto out;
	k = cf_datum(cf_key_bytes(e->key), CF_KEY_LEN);
	if ((grc = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM,
	    &k)) < 0) {
		rc = cf_gnutls_fail(err, grc, "unwrap: aes-256-gcm init");
		goto out;
	}
	ptlen = CF_KEY_LEN;
	/* Straight into the new key's locked page, freed (wiped) on a bad
	 * tag. */
	grc = gnutls_aead_cipher_decrypt(h, wrapped, WRAP_NONCE_LEN, wad,
	    wadlen, WRAP_TAG_LEN, wrapped + WRAP_NONCE_LEN,
	    CF_KEY_LEN + WRAP_TAG_LEN, cf_key_wbytes(d), &ptlen);
	gnutls_aead_cipher_deinit(h);
	if (grc == GNUTLS_E_DECRYPTION_FAILED) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "unwrap: wrapped DEK "
		    "failed authentication (tampered or wrong version)");
		goto out;
	}
	if (grc < 0 || ptlen != CF_KEY_LEN) {
		rc = cf_gnutls_fail(err, grc < 0 ? grc :
		    GNUTLS_E_INTERNAL_ERROR, "unwrap");
		goto out;
	}
	cf_key_lock(d);
	*dek = d;
	d = NULL;
out:
	(void)pthread_rwlock_unlock(&kr->lock);
	cf_key_free(d);
	cf_free(wad);
	return rc;
}

cf_err
cf_keyring_rotate(struct cf_keyring *kr, struct cf_error *err)
{
	struct kek	*e;
	uint64_t	 max = 0;
	size_t		 i, old_active;
	cf_err		 rc;

	(void)pthread_rwlock_wrlock(&kr->lock);
	if (kr->n >= KR_MAX_KEKS) {
		rc = cf_error_set(err, CF_E_LIMIT, "keyring: %d KEKs already",
		    KR_MAX_KEKS);
		goto out;
	}
	for (i = 0; i < kr->n; i++)
		if (kr->keks[i]->num > max)
			max = kr->keks[i]->num;
	if ((rc = kek_new(max + 1, &e, err)) != CF_OK)
		goto out;
	if ((rc = keks_push(kr, e, err)) != CF_OK) {
		kek_free(e);
		goto out;
	}
	old_active = kr->active;
	kr->active = kr->n - 1;
	if ((rc = keyring_store(kr, true, err)) != CF_OK) {
		/* Memory stays what the disk says. */
		kr->active = old_active;
		kek_free(kr->keks[--kr->n]);
	}
out:
	(void)pthread_rwlock_unlock(&kr->lock);
	return rc;
}

const char *
cf_keyring_active_id(const struct cf_keyring *kr)
{
	/* The lock is not part of the keyring's value: taking it through a
	 * const pointer is sound (the object itself is never const). */
	pthread_rwlock_t	*lk = (pthread_rwlock_t *)(uintptr_t)&kr->lock;
	const char		*id;

	(void)pthread_rwlock_rdlock(lk);
	id = kr->keks[kr->active]->id;	/* entries never move: stable */
	(void)pthread_rwlock_unlock(lk);
	return id;
}

/* Find id's index; -1 if none. */
static ssize_t
kek_index(const struct cf_keyring *kr, const char *id)
{
	size_t	i;

	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->keks[i]->id, id) == 0)
			return (ssize_t)i;
	return -1;
}

cf_err
cf_keyring_retire(struct cf_keyring *kr, const char *id,
    struct cf_error *err)
{
	struct kek	*gone;
	ssize_t		 ix;
	size_t		 i, old_active;
	cf_err		 rc;

	(void)pthread_rwlock_wrlock(&kr->lock);
	ix = kek_index(kr, id);
	if (ix < 0) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "no KEK %s in the "
		    "keyring", cf_str_has_prefix(id, "kek-") ? id : "(that)");
		goto out;
	}
	if ((size_t)ix == kr->active) {
		rc = cf_error_set(err, CF_E_CONFLICT, "KEK %s is the active "
		    "one: rotate first", id);
		goto out;
	}
	gone = kr->keks[ix];
	old_active = kr->active;
	for (i = (size_t)ix; i + 1 < kr->n; i++)
		kr->keks[i] = kr->keks[i + 1];
	kr->n--;
	if (kr->active > (size_t)ix)
		kr->active--;
	if ((rc = keyring_store(kr, true, err)) != CF_OK) {
		/* Memory stays what the disk says. */
		for (i = kr->n; i > (size_t)ix; i--)
			kr->keks[i] = kr->keks[i - 1];
		kr->keks[ix] = gone;
		kr->n++;
		kr->active = old_active;
		goto out;
	}
	/* SEC: the KEK's bytes are wiped (sodium_free) here; the old
	 * keyring's file is replaced by rename, but copies in backups stay
	 * (docs/keys.md, "What to back up"). */
	kek_free(gone);
out:
	(void)pthread_rwlock_unlock(&kr->lock);
	return rc;
}

cf_err
cf_keyring_each(struct cf_keyring *kr, cf_keyring_each_fn fn, void *arg,
    struct cf_error *err)
{
	size_t	i;
	cf_err	rc = CF_OK;

	(void)pthread_rwlock_rdlock(&kr->lock);
	for (i = 0; i < kr->n && rc == CF_OK; i++)
		rc = fn(arg, kr->keks[i]->id, kr->keks[i]->created,
		    i == kr->active, err);
	(void)pthread_rwlock_unlock(&kr->lock);
	return rc;
}

bool
cf_keyring_has(struct cf_keyring *kr, const char *id)
{
	bool	has;

	(void)pthread_rwlock_rdlock(&kr->lock);
	has = kek_index(kr, id) >= 0;
	(void)pthread_rwlock_unlock(&kr->lock);
	return has;
}

cf_err
cf_keyring_reseal(struct cf_keyring *kr, const struct cf_key *master,
    struct cf_error *err)
{
	struct cf_key	*seal = NULL, *old;
	cf_err		 rc;

	if ((rc = cf_key_derive(master, CF_LABEL_KEYRING, &seal, err)) !=
	    CF_OK)
		return rc;
	(void)pthread_rwlock_wrlock(&kr->lock);
	old = kr->seal;
	kr->seal = seal;
	if ((rc = keyring_store(kr, true, err)) != CF_OK) {
		kr->seal = old;
		old = seal;
	}
	(void)pthread_rwlock_unlock(&kr->lock);
	cf_key_free(old);
	return rc;
}

cf_err
cf_keyring_reseal_file(const char *path, const char *out_path,
    const struct cf_key *old, const struct cf_key *nw, struct cf_error *err)
{
	struct cf_keyring	*kr = NULL;
	char			*p;
	cf_err			 rc;

	if ((rc = cf_keyring_open(path, old, false, &kr, err)) != CF_OK)
		return rc;
	if ((p = cf_strdup(out_path)) == NULL) {
		cf_keyring_close(kr);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	cf_free(kr->path);
	kr->path = p;
	rc = cf_keyring_reseal(kr, nw, err);
	cf_keyring_close(kr);
	return rc;
}

/* --- carried keys (master key rotation) --- */

#define CARRY_MAGIC	"coffer-carry-v1"
#define CARRY_PT_LEN	(2 * CF_KEY_LEN)
#define CARRY_NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CARRY_CT_LEN	(CARRY_PT_LEN + \
	crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define CARRY_FILE_MAX	512

cf_err
cf_carry_write(const char *path, const struct cf_key *master,
    const struct cf_key *audit, const struct cf_key *erase,
    struct cf_error *err)
{
	struct cf_key		*k = NULL;
	uint8_t			 pt[CARRY_PT_LEN], nonce[CARRY_NONCE_LEN];
	uint8_t			 ct[CARRY_CT_LEN];
	char			 nh[2 * CARRY_NONCE_LEN + 1];
	char			 ch[2 * CARRY_CT_LEN + 1], line[CARRY_FILE_MAX];
	unsigned long long	 clen = 0;
	int			 n;
	cf_err			 rc;

	if ((rc = cf_key_derive(master, CF_LABEL_CARRY, &k, err)) != CF_OK)
		return rc;
	memcpy(pt, cf_key_bytes(audit), CF_KEY_LEN);
	memcpy(pt + CF_KEY_LEN, cf_key_bytes(erase), CF_KEY_LEN);
	randombytes_buf(nonce, sizeof(nonce));
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt,
	    sizeof(pt), (const uint8_t *)CARRY_MAGIC, strlen(CARRY_MAGIC),
	    NULL, nonce, cf_key_bytes(k));
	cf_hex_encode(nonce, sizeof(nonce), nh);
	cf_hex_encode(ct, sizeof(ct), ch);
	n = snprintf(line, sizeof(line), "%s %s %s\n", CARRY_MAGIC, nh, ch);
	if (n < 0 || (size_t)n >= sizeof(line))
		rc = cf_error_set(err, CF_E_INTERNAL, "carry file too long");
	else
		rc = cf_file_write_atomic(path, line, (size_t)n, 0600, true,
		    err);
	cf_wipe(pt, sizeof(pt));
	cf_key_free(k);
	return rc;
}

cf_err
cf_carry_read(const char *path, const struct cf_key *master,
    struct cf_key **audit, struct cf_key **erase, struct cf_error *err)
{
	struct cf_key		*k = NULL;
	uint8_t			 pt[CARRY_PT_LEN], nonce[CARRY_NONCE_LEN];
	uint8_t			 ct[CARRY_CT_LEN];
	char			*text = NULL, *p, *f[3];
	unsigned long long	 mlen = 0;
	size_t			 len = 0, i;
	cf_err			 rc;

	*audit = *erase = NULL;
	if ((rc = cf_file_read(path, CARRY_FILE_MAX, &text, &len, err)) !=
	    CF_OK)
		return rc;
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	p = text;
	for (i = 0; i < 3; i++)
		if ((f[i] = mk_field(&p)) == NULL)
			break;
	if (i != 3 || p != NULL || strcmp(f[0], CARRY_MAGIC) != 0 ||
	    cf_hex_decode(f[1], strlen(f[1]), nonce, sizeof(nonce), NULL) !=
	    CF_OK || cf_hex_decode(f[2], strlen(f[2]), ct, sizeof(ct),
	    NULL) != CF_OK) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "%s: not a carried "
		    "keys file", path);
		goto out;
	}
	if ((rc = cf_key_derive(master, CF_LABEL_CARRY, &k, err)) != CF_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL, ct,
	    sizeof(ct), (const uint8_t *)CARRY_MAGIC, strlen(CARRY_MAGIC),
	    nonce, cf_key_bytes(k)) != 0 || mlen != CARRY_PT_LEN) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "%s: cannot open "
		    "(wrong master key or tampered file)", path);
		goto out;
	}
	rc = cf_key_from_bytes(pt, audit, err);
	if (rc == CF_OK)
		rc = cf_key_from_bytes(pt + CF_KEY_LEN, erase, err);
	if (rc != CF_OK) {
		cf_key_free(*audit);
		*audit = NULL;
	}
out:
	cf_wipe(pt, sizeof(pt));
	cf_key_free(k);
	cf_file_free_secret(text, len);
	return rc;
}
