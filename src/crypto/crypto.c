/* src/crypto/crypto.c: library init, keys in locked memory, randomness,
 * SHA-256, HMAC-SHA256, HKDF and constant-time comparison; see crypto.h.
 *
 * SEC: a key's 32 bytes live in locked memory from sodium_malloc() (guard
 * pages, mlock, MADV_DONTDUMP): a slot of a shared key arena, or, when
 * the arena is full, a region of their own (read-only once filled); wiped
 * when the key is freed.  Only struct cf_key's small header comes from
 * cf_malloc, which also makes every key constructor's NOMEM path testable
 * with cf_test_fail_alloc_after(). */
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>

#include "base/log.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"

#define CF_GNUTLS_MIN	"3.7.0"

struct cf_key {
	uint8_t	*b;		/* CF_KEY_LEN bytes of locked memory */
	int	 slot;		/* arena slot, or -1: own sodium_malloc */
};

/* A locked arena of key slots.  Every object version read or written
 * needs a short-lived DEK; giving each its own sodium_malloc() region
 * costs mmap + mprotect + mlock + munmap and a TLB shootdown on every
 * thread per request, which capped small GETs at a few hundred per
 * second.  SEC: the arena is one sodium_malloc() region (guard pages,
 * mlock, MADV_DONTDUMP) that is never freed; a slot is wiped when its key
 * is freed.  Keys beyond the arena fall back to their own region. */
#define ARENA_SLOTS	4096

static pthread_mutex_t	 arena_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t		*arena;			/* ARENA_SLOTS keys */
static int		 arena_free[ARENA_SLOTS]; /* stack of free slots */
static int		 arena_nfree = -1;		/* -1: not set up */

static int
arena_take(void)
{
	int	slot = -1, i;

	(void)pthread_mutex_lock(&arena_lock);
	if (arena_nfree < 0) {
		arena = sodium_malloc((size_t)ARENA_SLOTS * CF_KEY_LEN);
		arena_nfree = 0;
		if (arena != NULL)
			for (i = ARENA_SLOTS - 1; i >= 0; i--)
				arena_free[arena_nfree++] = i;
	}
	if (arena_nfree > 0)
		slot = arena_free[--arena_nfree];
	(void)pthread_mutex_unlock(&arena_lock);
	return slot;
}

static void
arena_give(int slot)
{
	cf_wipe(arena + (size_t)slot * CF_KEY_LEN, CF_KEY_LEN);
	(void)pthread_mutex_lock(&arena_lock);
	arena_free[arena_nfree++] = slot;
	(void)pthread_mutex_unlock(&arena_lock);
}

struct cf_sha256 {
	gnutls_hash_hd_t h;
	int		 done;
};

struct cf_hmac {
	gnutls_hmac_hd_t h;
	int		 done;
};

struct cf_md5 {
	gnutls_hash_hd_t h;
	int		 done;
};

static pthread_once_t	init_once = PTHREAD_ONCE_INIT;
static cf_err		init_rc = CF_E_INTERNAL;
static char		init_msg[128];

static void
init_libs(void)
{
	int	rc;

	if (gnutls_check_version(CF_GNUTLS_MIN) == NULL) {
		(void)snprintf(init_msg, sizeof(init_msg),
		    "GnuTLS %s is older than %s", gnutls_check_version(NULL),
		    CF_GNUTLS_MIN);
		init_rc = CF_E_CRYPTO;
		return;
	}
	if (sodium_init() < 0) {
		(void)snprintf(init_msg, sizeof(init_msg),
		    "libsodium initialization failed");
		init_rc = CF_E_CRYPTO;
		return;
	}
	if ((rc = gnutls_global_init()) < 0) {
		(void)snprintf(init_msg, sizeof(init_msg),
		    "gnutls_global_init: %s", gnutls_strerror(rc));
		init_rc = CF_E_CRYPTO;
		return;
	}
	init_rc = CF_OK;
}

cf_err
cf_crypto_ready(struct cf_error *err)
{
	(void)pthread_once(&init_once, init_libs);
	if (init_rc != CF_OK)
		return cf_error_set(err, init_rc, "crypto init: %s", init_msg);
	return CF_OK;
}

cf_err
cf_crypto_init(struct cf_error *err)
{
	return cf_crypto_ready(err);
}

const char *
cf_crypto_gnutls_version(void)
{
	const char	*v = gnutls_check_version(NULL);

	return v != NULL ? v : "";
}

const char *
cf_crypto_sodium_version(void)
{
	return sodium_version_string();
}

void
cf_crypto_harden_process(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		log_warn("crypto: setrlimit(RLIMIT_CORE, 0) failed");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_warn("crypto: prctl(PR_SET_DUMPABLE, 0) failed");
}

cf_err
cf_gnutls_fail(struct cf_error *err, int rc, const char *what)
{
	cf_err	code;

	switch (rc) {
	case GNUTLS_E_MEMORY_ERROR:
		code = CF_E_NOMEM;
		break;
	case GNUTLS_E_DECRYPTION_FAILED:
		code = CF_E_INTEGRITY;
		break;
	default:
		code = CF_E_CRYPTO;
		break;
	}
	return cf_error_set(err, code, "%s: %s", what, gnutls_strerror(rc));
}

cf_err
cf_random(void *buf, size_t len, struct cf_error *err)
{
	cf_err	rc;
	int	grc;

	if (len == 0)
		return CF_OK;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((grc = gnutls_rnd(GNUTLS_RND_KEY, buf, len)) < 0)
		return cf_gnutls_fail(err, grc, "gnutls_rnd");
	return CF_OK;
}

/* --- keys --- */

cf_err
cf_key_alloc(struct cf_key **out, struct cf_error *err)
{
	struct cf_key	*k;
	cf_err		 rc;

	*out = NULL;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((k = cf_malloc(sizeof(*k))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "key: out of memory");
	k->slot = arena_take();
	if (k->slot >= 0) {
		k->b = arena + (size_t)k->slot * CF_KEY_LEN;
		*out = k;
		return CF_OK;
	}
	if ((k->b = sodium_malloc(CF_KEY_LEN)) == NULL) {
		cf_free(k);
		return cf_error_set(err, CF_E_NOMEM,
		    "key: out of locked memory");
	}
	*out = k;
	return CF_OK;
}

uint8_t *
cf_key_wbytes(struct cf_key *k)
{
	return k->b;
}

void
cf_key_lock(struct cf_key *k)
{
	/* Arena slots share pages, so only a key in its own region can be
	 * made read-only. */
	if (k->slot < 0)
		(void)sodium_mprotect_readonly(k->b);
}

cf_err
cf_key_new_random(struct cf_key **out, struct cf_error *err)
{
	struct cf_key	*k;
	cf_err		 rc;

	if ((rc = cf_key_alloc(&k, err)) != CF_OK)
		return rc;
	if ((rc = cf_random(k->b, CF_KEY_LEN, err)) != CF_OK) {
		cf_key_free(k);
		return rc;
	}
	cf_key_lock(k);
	*out = k;
	return CF_OK;
}

cf_err
cf_key_from_bytes(const uint8_t b[CF_KEY_LEN], struct cf_key **out,
    struct cf_error *err)
{
	struct cf_key	*k;
	cf_err		 rc;

	if ((rc = cf_key_alloc(&k, err)) != CF_OK)
		return rc;
	memcpy(k->b, b, CF_KEY_LEN);
	cf_key_lock(k);
	*out = k;
	return CF_OK;
}

const uint8_t *
cf_key_bytes(const struct cf_key *k)
{
	return k->b;
}

void
cf_key_free(struct cf_key *k)
{
	if (k == NULL)
		return;
	if (k->slot >= 0)
		arena_give(k->slot);	/* wipes */
	else
		sodium_free(k->b);	/* makes it writable, wipes, unlocks */
	cf_free(k);
}

cf_err
cf_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
    size_t ikmlen, const void *info, size_t infolen, uint8_t *out,
    size_t outlen, struct cf_error *err)
{
	static const uint8_t	 nosalt[1];
	uint8_t			 prk[CF_SHA256_LEN];
	gnutls_datum_t		 dk, ds, di;
	int			 rc;

	if (outlen == 0 || outlen > 255 * CF_SHA256_LEN)
		return cf_error_set(err, CF_E_INVAL, "hkdf: bad length %zu",
		    outlen);
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	dk = cf_datum(ikm, ikmlen);
	ds = cf_datum(saltlen > 0 ? salt : nosalt, saltlen);
	di = cf_datum(infolen > 0 ? info : nosalt, infolen);
	rc = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &dk, &ds, prk);
	if (rc < 0) {
		cf_wipe(prk, sizeof(prk));
		return cf_gnutls_fail(err, rc, "hkdf extract");
	}
	dk = cf_datum(prk, sizeof(prk));
	rc = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &dk, &di, out, outlen);
	cf_wipe(prk, sizeof(prk));
	if (rc < 0) {
		cf_wipe(out, outlen);
		return cf_gnutls_fail(err, rc, "hkdf expand");
	}
	return CF_OK;
}

cf_err
cf_key_derive(const struct cf_key *master, const char *label,
    struct cf_key **out, struct cf_error *err)
{
	struct cf_key	*k;
	cf_err		 rc;

	*out = NULL;
	if (master == NULL || label == NULL || label[0] == '\0')
		return cf_error_set(err, CF_E_INVAL, "key derive: no label");
	if ((rc = cf_key_alloc(&k, err)) != CF_OK)
		return rc;
	rc = cf_hkdf_sha256(NULL, 0, master->b, CF_KEY_LEN, label,
	    strlen(label), k->b, CF_KEY_LEN, err);
	if (rc != CF_OK) {
		cf_key_free(k);
		return rc;
	}
	cf_key_lock(k);
	*out = k;
	return CF_OK;
}

/* --- SHA-256 --- */

/* The void functions below cannot report an error; GnuTLS fails them only
 * on a broken library (SHA-256 needs no allocation once the context
 * exists), so failing closed is the honest answer. */
static void
must(int rc, const char *what)
{
	if (rc < 0)
		fatalx("crypto: %s: %s", what, gnutls_strerror(rc));
}

void
cf_sha256(const void *p, size_t len, uint8_t out[CF_SHA256_LEN])
{
	static const uint8_t	empty[1];

	must(gnutls_hash_fast(GNUTLS_DIG_SHA256, len > 0 ? p : empty, len,
	    out), "sha256");
}

cf_err
cf_sha256_new(struct cf_sha256 **out, struct cf_error *err)
{
	struct cf_sha256	*h;
	cf_err			 rc;
	int			 grc;

	*out = NULL;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((h = cf_calloc(1, sizeof(*h))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "sha256: out of memory");
	if ((grc = gnutls_hash_init(&h->h, GNUTLS_DIG_SHA256)) < 0) {
		cf_free(h);
		return cf_gnutls_fail(err, grc, "sha256 init");
	}
	*out = h;
	return CF_OK;
}

void
cf_sha256_update(struct cf_sha256 *h, const void *p, size_t len)
{
	if (h->done)
		fatalx("crypto: sha256 update after final");
	if (len > 0)
		must(gnutls_hash(h->h, p, len), "sha256 update");
}

void
cf_sha256_final(struct cf_sha256 *h, uint8_t out[CF_SHA256_LEN])
{
	if (h->done)
		fatalx("crypto: sha256 final twice");
	gnutls_hash_output(h->h, out);
	h->done = 1;
}

void
cf_sha256_free(struct cf_sha256 *h)
{
	if (h == NULL)
		return;
	gnutls_hash_deinit(h->h, NULL);
	cf_free(h);
}

/* --- MD5 (S3 ETags) --- */

cf_err
cf_md5_new(struct cf_md5 **out, struct cf_error *err)
{
	struct cf_md5	*h;
	cf_err		 rc;
	int		 grc;

	*out = NULL;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((h = cf_calloc(1, sizeof(*h))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "md5: out of memory");
	if ((grc = gnutls_hash_init(&h->h, GNUTLS_DIG_MD5)) < 0) {
		cf_free(h);
		return cf_gnutls_fail(err, grc, "md5 init");
	}
	*out = h;
	return CF_OK;
}

void
cf_md5_update(struct cf_md5 *h, const void *p, size_t len)
{
	if (h->done)
		fatalx("crypto: md5 update after final");
	if (len > 0)
		must(gnutls_hash(h->h, p, len), "md5 update");
}

void
cf_md5_final(struct cf_md5 *h, uint8_t out[CF_MD5_LEN])
{
	if (h->done)
		fatalx("crypto: md5 final twice");
	gnutls_hash_output(h->h, out);
	h->done = 1;
}

void
cf_md5_free(struct cf_md5 *h)
{
	if (h == NULL)
		return;
	gnutls_hash_deinit(h->h, NULL);
	cf_free(h);
}

/* --- HMAC-SHA256 --- */

cf_err
cf_hmac_sha256_raw(const void *key, size_t klen, const void *p, size_t len,
    uint8_t out[CF_MAC_LEN], struct cf_error *err)
{
	static const uint8_t	empty[1];
	cf_err			rc;
	int			grc;

	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	grc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, klen > 0 ? key : empty,
	    klen, len > 0 ? p : empty, len, out);
	if (grc < 0)
		return cf_gnutls_fail(err, grc, "hmac");
	return CF_OK;
}

cf_err
cf_hmac_sha256(const struct cf_key *k, const void *p, size_t len,
    uint8_t out[CF_MAC_LEN], struct cf_error *err)
{
	static const uint8_t	empty[1];
	cf_err			rc;
	int			grc;

	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	grc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->b, CF_KEY_LEN,
	    len > 0 ? p : empty, len, out);
	if (grc < 0)
		return cf_gnutls_fail(err, grc, "hmac");
	return CF_OK;
}

cf_err
cf_hmac_new(const struct cf_key *k, struct cf_hmac **out,
    struct cf_error *err)
{
	struct cf_hmac	*h;
	cf_err		 rc;
	int		 grc;

	*out = NULL;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if ((h = cf_calloc(1, sizeof(*h))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "hmac: out of memory");
	grc = gnutls_hmac_init(&h->h, GNUTLS_MAC_SHA256, k->b, CF_KEY_LEN);
	if (grc < 0) {
		cf_free(h);
		return cf_gnutls_fail(err, grc, "hmac init");
	}
	*out = h;
	return CF_OK;
}

void
cf_hmac_update(struct cf_hmac *h, const void *p, size_t len)
{
	if (h->done)
		fatalx("crypto: hmac update after final");
	if (len > 0)
		must(gnutls_hmac(h->h, p, len), "hmac update");
}

void
cf_hmac_final(struct cf_hmac *h, uint8_t out[CF_MAC_LEN])
{
	if (h->done)
		fatalx("crypto: hmac final twice");
	gnutls_hmac_output(h->h, out);
	h->done = 1;
}

void
cf_hmac_final_reset(struct cf_hmac *h, uint8_t out[CF_MAC_LEN])
{
	if (h->done)
		fatalx("crypto: hmac final_reset after final");
	/* gnutls_hmac_output resets the context to the keyed state (its
	 * documented contract; the known-answer test checks it). */
	gnutls_hmac_output(h->h, out);
}

void
cf_hmac_free(struct cf_hmac *h)
{
	if (h == NULL)
		return;
	gnutls_hmac_deinit(h->h, NULL);
	cf_free(h);
}

bool
cf_ct_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return gnutls_memcmp(a, b, n) == 0;
}
