/* src/crypto/kp_pkcs11.c: the PKCS#11 key provider (keyprov.h).
 *
 * The module is loaded with dlopen and driven through its function list
 * (C_GetFunctionList); the types and constants are p11-kit's pkcs11.h
 * (Debian libp11-kit-dev), never declared here.  Tested against SoftHSM2.
 *
 * KEKs are token objects: CKO_SECRET_KEY, CKK_AES, 32 bytes, CKA_LABEL
 * "coffer:hsm-N", CKA_ID "hsm-N", generated in the token (C_GenerateKey,
 * CKM_AES_KEY_GEN; the label also carries the creation time, "coffer:hsm-N
 * SECONDS") with CKA_SENSITIVE true, CKA_EXTRACTABLE false,
 * CKA_ENCRYPT/CKA_DECRYPT true and CKA_WRAP/CKA_UNWRAP false.  The active
 * KEK is the one with the highest N.
 *
 * Wrapping is CKM_AES_GCM (C_Encrypt of the 32-byte DEK, 96-bit random
 * nonce from us, 128-bit tag, ad "coffer dek v1" 0 kek_id 0 version id):
 * the same 60-byte wrapped DEK, with the same binding to its version and
 * KEK, as the file provider.  CKM_AES_KEY_WRAP_KWP (RFC 5649) has no
 * associated data, so a wrapped DEK could be moved to another version's
 * row undetected; and C_WrapKey would need the DEK as a token object
 * (one C_CreateObject and C_DestroyObject per upload).  GCM's limit of
 * 2^32 random nonces per key is far beyond one KEK's life (rotate).
 *
 * SEC: the token refuses to reveal the KEK (CKA_SENSITIVE and not
 * CKA_EXTRACTABLE, both checked on every KEK found at open: a key
 * imported as extractable is refused).  The PIN is kept in locked memory
 * for logging in again after the token comes back.
 *
 * Sessions: a small pool (P11_SESSIONS), one operation per session at a
 * time as PKCS#11 requires; a session the token dropped (device removed,
 * session closed) is opened and logged in again at its next use, so the
 * provider recovers when the token returns. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/testhook.h"
#include "crypto/internal.h"
#include "crypto/keyprov_int.h"

#define P11_SESSIONS	8
#define P11_LABEL_PFX	"coffer:"
#define P11_ID_PFX	"hsm-"
#define P11_FIND_MAX	64	/* objects per C_FindObjects call */
#define WRAP_NONCE_LEN	12
#define WRAP_TAG_LEN	16

struct p11_kek {
	char			id[CF_KEK_ID_MAX];
	uint64_t		num;
	uint64_t		created;
	CK_OBJECT_HANDLE	h;
};

struct p11 {
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	bool			 initialized;
	CK_SLOT_ID		 slot;
	char			 label[33];
	char			*pin;		/* sodium_malloc */
	size_t			 pinlen;
	/* the session pool */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	CK_SESSION_HANDLE	 sess[P11_SESSIONS];
	bool			 open[P11_SESSIONS];
	bool			 busy[P11_SESSIONS];
	/* the KEKs, sorted by num; the last is active */
	pthread_rwlock_t	 klock;
	struct p11_kek		*keks;
	size_t			 n;
	struct cf_keyring	*legacy;	/* "kek-N"; NULL */
	char			*legacy_path;
	atomic_bool		 lost;		/* cf_keyprov_test_lose */
	char			*lost_file;	/* COFFER_TEST_HSM_LOST_FILE */
};

/* Is rv the token or its session gone (so: unavailable, retry later)? */
static bool
rv_gone(CK_RV rv)
{
	switch (rv) {
	case CKR_DEVICE_REMOVED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_SLOT_ID_INVALID:
		return true;
	default:
		return false;
	}
}

/* rv of a failed call on session i: CKR_GENERAL_ERROR and
 * CKR_FUNCTION_FAILED say nothing (SoftHSM2 answers a GCM tag mismatch
 * with CKR_GENERAL_ERROR), so the session is asked whether the token is
 * still there: if it is, the call itself failed (for a decryption, the
 * tag); if not, CKR_DEVICE_REMOVED. */
static CK_RV
rv_probe(struct p11 *p, size_t i, CK_RV rv, bool decrypt)
{
	CK_SESSION_INFO	si;

	if (rv != CKR_GENERAL_ERROR && rv != CKR_FUNCTION_FAILED &&
	    rv != CKR_DEVICE_MEMORY)
		return rv;
	if (p->f->C_GetSessionInfo(p->sess[i], &si) != CKR_OK)
		return CKR_DEVICE_REMOVED;
	return decrypt ? CKR_ENCRYPTED_DATA_INVALID : rv;
}

static cf_err
p11_fail(struct cf_error *err, CK_RV rv, const char *what)
{
	cf_err	code;

	if (rv == CKR_HOST_MEMORY)
		code = CF_E_NOMEM;
	else if (rv_gone(rv))
		code = CF_E_UNAVAILABLE;
	else if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
	    rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_LOCKED ||
	    rv == CKR_PIN_EXPIRED)
		code = CF_E_AUTH;
	else if (rv == CKR_ENCRYPTED_DATA_INVALID ||
	    rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
		code = CF_E_INTEGRITY;
	else
		code = CF_E_CRYPTO;
	if (code == CF_E_UNAVAILABLE)
		return cf_error_set(err, code, "key provider pkcs11: %s: the "
		    "token is not reachable (CKR 0x%lx)", what,
		    (unsigned long)rv);
	if (code == CF_E_AUTH)
		return cf_error_set(err, code, "key provider pkcs11: the token "
		    "refused the PIN (CKR 0x%lx)", (unsigned long)rv);
	if (code == CF_E_INTEGRITY)
		return cf_error_set(err, code, "unwrap: wrapped DEK failed "
		    "authentication (tampered or wrong version)");
	return cf_error_set(err, code, "key provider pkcs11: %s failed "
	    "(CKR 0x%lx)", what, (unsigned long)rv);
}

static cf_err
lost_err(struct cf_error *err)
{
	return cf_error_set(err, CF_E_UNAVAILABLE, "key provider pkcs11: "
	    "the token is not reachable (device removed)");
}

/* Open session i and log in (the login is per application: a second
 * one answers CKR_USER_ALREADY_LOGGED_IN). */
static CK_RV
sess_open(struct p11 *p, size_t i)
{
	CK_RV	rv;

	rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &p->sess[i]);
	if (rv != CKR_OK)
		return rv;
	rv = p->f->C_Login(p->sess[i], CKU_USER, (CK_UTF8CHAR_PTR)p->pin,
	    (CK_ULONG)p->pinlen);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		(void)p->f->C_CloseSession(p->sess[i]);
		return rv;
	}
	p->open[i] = true;
	return CKR_OK;
}

/* Take a free session (waiting for one), opening it if needed. */
static cf_err
sess_get(struct p11 *p, size_t *ix, struct cf_error *err)
{
	size_t	i;
	CK_RV	rv;

	/* Tests: the token is "unplugged" while the file exists (the e2e
	 * tests cannot pull SoftHSM2 out of a running server). */
	if (atomic_load(&p->lost) ||
	    (p->lost_file != NULL && access(p->lost_file, F_OK) == 0))
		return lost_err(err);
	(void)pthread_mutex_lock(&p->mu);
	for (;;) {
		for (i = 0; i < P11_SESSIONS; i++)
			if (!p->busy[i])
				break;
		if (i < P11_SESSIONS)
			break;
		(void)pthread_cond_wait(&p->cv, &p->mu);
	}
	p->busy[i] = true;
	(void)pthread_mutex_unlock(&p->mu);
	if (!p->open[i] && (rv = sess_open(p, i)) != CKR_OK) {
		(void)pthread_mutex_lock(&p->mu);
		p->busy[i] = false;
		(void)pthread_cond_signal(&p->cv);
		(void)pthread_mutex_unlock(&p->mu);
		return p11_fail(err, rv, "open session");
	}
	*ix = i;
	return CF_OK;
}

/* Give session i back; rv the last call's result: a session the token
 * dropped is closed, to be opened again at its next use. */
static void
sess_put(struct p11 *p, size_t i, CK_RV rv)
{
	if (rv_gone(rv) && p->open[i]) {
		(void)p->f->C_CloseSession(p->sess[i]);
		p->open[i] = false;
	}
	(void)pthread_mutex_lock(&p->mu);
	p->busy[i] = false;
	(void)pthread_cond_signal(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
}

/* "hsm-" followed by a decimal number without leading zeros. */
static bool
parse_id(const char *id, uint64_t *num)
{
	return cf_str_has_prefix(id, P11_ID_PFX) && id[4] != '0' &&
	    cf_parse_u64(id + 4, 1, UINT64_MAX / 2, num, NULL) == CF_OK;
}

static int
kek_cmp(const void *a, const void *b)
{
	const struct p11_kek	*x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

/* Read every "coffer:" AES key of the token into p->keks (sorted).
 * SEC: a KEK the token would reveal (not sensitive, or extractable) is
 * refused: whoever put it there could have kept a copy. */
static cf_err
keks_load(struct p11 *p, CK_SESSION_HANDLE s, struct cf_error *err)
{
	CK_OBJECT_CLASS		 cls = CKO_SECRET_KEY;
	CK_KEY_TYPE		 kt = CKK_AES;
	CK_ATTRIBUTE		 q[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
	};
	CK_OBJECT_HANDLE	 hs[P11_FIND_MAX];
	CK_ULONG		 got = 0, i;
	struct p11_kek		*nk;
	cf_err			 rc = CF_OK;
	CK_RV			 rv;

	rv = p->f->C_FindObjectsInit(s, q, 2);
	if (rv != CKR_OK)
		return p11_fail(err, rv, "find objects");
	for (;;) {
		rv = p->f->C_FindObjects(s, hs, P11_FIND_MAX, &got);
		if (rv != CKR_OK) {
			rc = p11_fail(err, rv, "find objects");
			break;
		}
		if (got == 0)
			break;
		for (i = 0; i < got && rc == CF_OK; i++) {
			char		lab[64];
			CK_BBOOL	sens = CK_FALSE, extr = CK_TRUE;
			CK_ATTRIBUTE	a[] = {
				{ CKA_LABEL, lab, sizeof(lab) - 1 },
				{ CKA_SENSITIVE, &sens, sizeof(sens) },
				{ CKA_EXTRACTABLE, &extr, sizeof(extr) },
			};
			struct p11_kek	k;
			char		*sp;

			rv = p->f->C_GetAttributeValue(s, hs[i], a, 3);
			if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
			    rv != CKR_ATTRIBUTE_SENSITIVE)
				rc = p11_fail(err, rv, "read key attributes");
			if (rc != CF_OK ||
			    a[0].ulValueLen == (CK_ULONG)-1 ||
			    a[0].ulValueLen >= sizeof(lab))
				continue;
			lab[a[0].ulValueLen] = '\0';
			if (!cf_str_has_prefix(lab, P11_LABEL_PFX))
				continue;
			memset(&k, 0, sizeof(k));
			/* "coffer:hsm-N CREATED" (unix seconds) */
			if ((sp = strchr(lab, ' ')) != NULL) {
				*sp = '\0';
				if (cf_parse_u64(sp + 1, 0, UINT64_MAX / 2,
				    &k.created, NULL) != CF_OK)
					k.created = 0;
			}
			if (cf_strlcpy(k.id, lab + strlen(P11_LABEL_PFX),
			    sizeof(k.id)) >= sizeof(k.id) ||
			    !parse_id(k.id, &k.num))
				continue;
			if (sens != CK_TRUE || extr != CK_FALSE) {
				rc = cf_error_set(err, CF_E_INPUT, "key "
				    "provider pkcs11: KEK %s in the token is "
				    "extractable or not sensitive: refused "
				    "(generate KEKs with coffer key "
				    "init-hsm)", k.id);
				continue;
			}
			k.h = hs[i];
			nk = cf_reallocarray(p->keks, p->n + 1, sizeof(*nk));
			if (nk == NULL) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
				continue;
			}
			p->keks = nk;
			p->keks[p->n++] = k;
		}
		if (rc != CF_OK)
			break;
	}
	(void)p->f->C_FindObjectsFinal(s);
	if (rc == CF_OK && p->n > 0) {
		qsort(p->keks, p->n, sizeof(*p->keks), kek_cmp);
		for (i = 1; i < p->n; i++)
			if (p->keks[i].num == p->keks[i - 1].num)
				return cf_error_set(err, CF_E_INPUT, "key "
				    "provider pkcs11: two KEKs labelled %s in "
				    "the token", p->keks[i].id);
	}
	return rc;
}

/* Generate KEK hsm-num in the token (session s). */
static cf_err
kek_generate(struct p11 *p, CK_SESSION_HANDLE s, uint64_t num,
    struct p11_kek *out, struct cf_error *err)
{
	CK_OBJECT_CLASS		 cls = CKO_SECRET_KEY;
	CK_KEY_TYPE		 kt = CKK_AES;
	CK_ULONG		 len = CF_KEY_LEN;
	CK_BBOOL		 yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM		 m = { CKM_AES_KEY_GEN, NULL, 0 };
	time_t			 now = time(NULL);
	char			 lab[80];
	struct p11_kek		 k;
	CK_RV			 rv;

	memset(&k, 0, sizeof(k));
	k.num = num;
	(void)snprintf(k.id, sizeof(k.id), P11_ID_PFX "%llu",
	    (unsigned long long)num);
	/* The creation time rides in the label: CKA_START_DATE is a day
	 * at best, and SoftHSM2 2.6 fails to read it back. */
	(void)snprintf(lab, sizeof(lab), P11_LABEL_PFX "%s %lld", k.id,
	    (long long)now);
	{
		CK_ATTRIBUTE	t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_KEY_TYPE, &kt, sizeof(kt) },
			{ CKA_VALUE_LEN, &len, sizeof(len) },
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &yes, sizeof(yes) },
			/* SEC: never leaves the token, in the clear or
			 * wrapped. */
			{ CKA_SENSITIVE, &yes, sizeof(yes) },
			{ CKA_EXTRACTABLE, &no, sizeof(no) },
			{ CKA_ENCRYPT, &yes, sizeof(yes) },
			{ CKA_DECRYPT, &yes, sizeof(yes) },
			{ CKA_WRAP, &no, sizeof(no) },
			{ CKA_UNWRAP, &no, sizeof(no) },
			{ CKA_SIGN, &no, sizeof(no) },
			{ CKA_VERIFY, &no, sizeof(no) },
			{ CKA_DERIVE, &no, sizeof(no) },
			{ CKA_LABEL, lab, strlen(lab) },
			{ CKA_ID, k.id, strlen(k.id) },
		};

		rv = p->f->C_GenerateKey(s, &m, t, sizeof(t) / sizeof(t[0]),
		    &k.h);
	}
	if (rv != CKR_OK)
		return p11_fail(err, rv, "generate KEK");
	k.created = (uint64_t)now;
	*out = k;
	return CF_OK;
}

static void
p11_close(void *impl)
{
	struct p11	*p = impl;
	size_t		 i;

	if (p == NULL)
		return;
	if (p->f != NULL && p->initialized) {
		for (i = 0; i < P11_SESSIONS; i++)
			if (p->open[i])
				(void)p->f->C_CloseSession(p->sess[i]);
		(void)p->f->C_Finalize(NULL);
	}
	if (p->dl != NULL)
		(void)dlclose(p->dl);
	if (p->pin != NULL)
		sodium_free(p->pin);	/* wipes */
	cf_keyring_close(p->legacy);
	cf_free(p->legacy_path);
	cf_free(p->lost_file);
	cf_free(p->keks);
	(void)pthread_rwlock_destroy(&p->klock);
	(void)pthread_cond_destroy(&p->cv);
	(void)pthread_mutex_destroy(&p->mu);
	cf_free(p);
}

/* The KEK to use: id's (or the active one with id NULL), copied out. */
static cf_err
kek_find(struct p11 *p, const char *id, struct p11_kek *out,
    struct cf_error *err)
{
	size_t	i;
	cf_err	rc = CF_OK;

	(void)pthread_rwlock_rdlock(&p->klock);
	if (id == NULL) {
		if (p->n == 0)
			rc = cf_error_set(err, CF_E_NOTFOUND, "key provider "
			    "pkcs11: no KEK in the token");
		else
			*out = p->keks[p->n - 1];
	} else {
		for (i = 0; i < p->n; i++)
			if (strcmp(p->keks[i].id, id) == 0)
				break;
		if (i < p->n)
			*out = p->keks[i];
		else
			rc = cf_error_set(err, CF_E_NOTFOUND, "unwrap: no KEK "
			    "\"%s\" in the token", parse_id(id, &(uint64_t){0})
			    ? id : "?");
	}
	(void)pthread_rwlock_unlock(&p->klock);
	return rc;
}

static cf_err
p11_wrap(void *impl, const struct cf_key *dek, const void *ad, size_t adlen,
    char kek_id[CF_KEK_ID_MAX], uint8_t wrapped[CF_WRAPPED_DEK_LEN],
    struct cf_error *err)
{
	struct p11	*p = impl;
	struct p11_kek	 k;
	uint8_t		*wad = NULL, wb[CF_WRAPPED_DEK_LEN];
	size_t		 wadlen = 0, ix;
	CK_GCM_PARAMS	 gp;
	CK_MECHANISM	 m;
	CK_ULONG	 outlen = CF_KEY_LEN + WRAP_TAG_LEN;
	CK_RV		 rv = CKR_OK;
	cf_err		 rc;

	if (dek == NULL || (ad == NULL && adlen > 0))
		return cf_error_set(err, CF_E_INVAL, "wrap: bad arguments");
	if ((rc = kek_find(p, NULL, &k, err)) != CF_OK)
		return rc;
	if ((rc = cf_dek_wrap_ad(k.id, ad, adlen, &wad, &wadlen, err)) !=
	    CF_OK)
		return rc;
	if ((rc = cf_random(wb, WRAP_NONCE_LEN, err)) != CF_OK)
		goto out;
	if ((rc = sess_get(p, &ix, err)) != CF_OK)
		goto out;
	memset(&gp, 0, sizeof(gp));
	gp.pIv = wb;
	gp.ulIvLen = WRAP_NONCE_LEN;
	gp.ulIvBits = WRAP_NONCE_LEN * 8;
	gp.pAAD = wad;
	gp.ulAADLen = wadlen;
	gp.ulTagBits = WRAP_TAG_LEN * 8;
	m.mechanism = CKM_AES_GCM;
	m.pParameter = &gp;
	m.ulParameterLen = sizeof(gp);
	rv = p->f->C_EncryptInit(p->sess[ix], &m, k.h);
	if (rv == CKR_OK)
		rv = p->f->C_Encrypt(p->sess[ix],
		    (CK_BYTE_PTR)(uintptr_t)cf_key_bytes(dek), CF_KEY_LEN,
		    wb + WRAP_NONCE_LEN, &outlen);
	if (rv != CKR_OK)
		rv = rv_probe(p, ix, rv, false);
	sess_put(p, ix, rv);
	if (rv != CKR_OK)
		rc = p11_fail(err, rv, "wrap (C_Encrypt AES-GCM)");
	else if (outlen != CF_KEY_LEN + WRAP_TAG_LEN)
		rc = cf_error_set(err, CF_E_CRYPTO, "key provider pkcs11: "
		    "wrap gave %lu bytes", (unsigned long)outlen);
	else {
		/* Out-params only on success. */
		memcpy(wrapped, wb, sizeof(wb));
		(void)cf_strlcpy(kek_id, k.id, CF_KEK_ID_MAX);
	}
out:
	cf_free(wad);
	return rc;
}

static cf_err
p11_unwrap(void *impl, const char *kek_id, const void *ad, size_t adlen,
    const uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_key **dek,
    struct cf_error *err)
{
	struct p11	*p = impl;
	struct p11_kek	 k;
	struct cf_key	*d = NULL;
	uint8_t		*wad = NULL, *pt = NULL;
	size_t		 wadlen = 0, ix;
	CK_GCM_PARAMS	 gp;
	CK_MECHANISM	 m;
	CK_ULONG	 outlen;
	CK_RV		 rv = CKR_OK;
	cf_err		 rc;

	if (p->legacy != NULL && !cf_str_has_prefix(kek_id, P11_ID_PFX))
		return cf_keyring_unwrap(p->legacy, kek_id, ad, adlen, wrapped,
		    dek, err);
	if ((rc = kek_find(p, kek_id, &k, err)) != CF_OK)
		return rc;
	if ((rc = cf_dek_wrap_ad(k.id, ad, adlen, &wad, &wadlen, err)) !=
	    CF_OK)
		return rc;
	if ((rc = cf_key_alloc(&d, err)) != CF_OK)
		goto out;
	if ((pt = sodium_malloc(CF_KEY_LEN + WRAP_TAG_LEN)) == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of locked memory");
		goto out;
	}
	if ((rc = sess_get(p, &ix, err)) != CF_OK)
		goto out;
	memset(&gp, 0, sizeof(gp));
	gp.pIv = (CK_BYTE_PTR)(uintptr_t)wrapped;
	gp.ulIvLen = WRAP_NONCE_LEN;
	gp.ulIvBits = WRAP_NONCE_LEN * 8;
	gp.pAAD = wad;
	gp.ulAADLen = wadlen;
	gp.ulTagBits = WRAP_TAG_LEN * 8;
	m.mechanism = CKM_AES_GCM;
	m.pParameter = &gp;
	m.ulParameterLen = sizeof(gp);
	rv = p->f->C_DecryptInit(p->sess[ix], &m, k.h);
	/* Into locked memory (some tokens, SoftHSM2 among them, want room
	 * for the ciphertext's length), then the key's own page. */
	outlen = CF_KEY_LEN + WRAP_TAG_LEN;
	if (rv == CKR_OK)
		rv = p->f->C_Decrypt(p->sess[ix],
		    (CK_BYTE_PTR)(uintptr_t)(wrapped + WRAP_NONCE_LEN),
		    CF_KEY_LEN + WRAP_TAG_LEN, pt, &outlen);
	if (rv != CKR_OK)
		rv = rv_probe(p, ix, rv, true);
	sess_put(p, ix, rv);
	if (rv == CKR_OK && outlen == CF_KEY_LEN)
		memcpy(cf_key_wbytes(d), pt, CF_KEY_LEN);
	if (rv != CKR_OK)
		rc = p11_fail(err, rv, "unwrap (C_Decrypt AES-GCM)");
	else if (outlen != CF_KEY_LEN)
		rc = cf_error_set(err, CF_E_CRYPTO, "key provider pkcs11: "
		    "unwrap gave %lu bytes", (unsigned long)outlen);
	if (rc != CF_OK)
		goto out;
	cf_key_lock(d);
	*dek = d;
	d = NULL;
out:
	if (pt != NULL)
		sodium_free(pt);	/* wipes */
	cf_key_free(d);
	cf_free(wad);
	return rc;
}

static cf_err
p11_rotate(void *impl, char new_id[CF_KEK_ID_MAX], struct cf_error *err)
{
	struct p11	*p = impl;
	struct p11_kek	 k, *nk;
	uint64_t	 next;
	size_t		 ix;
	CK_RV		 rv = CKR_OK;
	cf_err		 rc;

	if ((rc = sess_get(p, &ix, err)) != CF_OK)
		return rc;
	(void)pthread_rwlock_wrlock(&p->klock);
	next = p->n > 0 ? p->keks[p->n - 1].num + 1 : 1;
	if (p->n >= CF_KEYPROV_LIST_MAX)
		rc = cf_error_set(err, CF_E_LIMIT, "%d KEKs already",
		    CF_KEYPROV_LIST_MAX);
	if (rc == CF_OK)
		rc = kek_generate(p, p->sess[ix], next, &k, err);
	if (rc == CF_OK) {
		nk = cf_reallocarray(p->keks, p->n + 1, sizeof(*nk));
		if (nk == NULL) {
			/* Not ours then: remove it again. */
			(void)p->f->C_DestroyObject(p->sess[ix], k.h);
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		} else {
			p->keks = nk;
			p->keks[p->n++] = k;
			(void)cf_strlcpy(new_id, k.id, CF_KEK_ID_MAX);
		}
	}
	(void)pthread_rwlock_unlock(&p->klock);
	if (rc == CF_E_UNAVAILABLE)
		rv = CKR_DEVICE_REMOVED;
	sess_put(p, ix, rv);
	return rc;
}

static void
p11_active_id(void *impl, char id[CF_KEK_ID_MAX])
{
	struct p11	*p = impl;

	(void)pthread_rwlock_rdlock(&p->klock);
	(void)cf_strlcpy(id, p->n > 0 ? p->keks[p->n - 1].id : "",
	    CF_KEK_ID_MAX);
	(void)pthread_rwlock_unlock(&p->klock);
}

/* The legacy keyring's KEK id goes: the last one takes the file. */
static cf_err
legacy_retire(struct p11 *p, const char *id, struct cf_error *err)
{
	struct cf_kek_info	one[2];
	size_t			n = 0;
	cf_err			rc;

	if (!cf_keyring_has(p->legacy, id))
		return cf_error_set(err, CF_E_NOTFOUND, "no KEK %s",
		    parse_id(id, &(uint64_t){0}) ||
		    cf_str_has_prefix(id, "kek-") ? id : "(that)");
	rc = cf_keyprov_keyring_list(p->legacy, one, 2, &n, false, err);
	if (rc == CF_E_LIMIT) {
		cf_error_clear(err);
		return cf_keyring_retire(p->legacy, id, err);
	}
	if (rc != CF_OK)
		return rc;
	/* SEC: the keyring file held only this KEK: removing the file is
	 * what destroys it. */
	if (unlink(p->legacy_path) != 0)
		return cf_error_sys(err, CF_E_IO, "remove %s", p->legacy_path);
	cf_keyring_close(p->legacy);
	p->legacy = NULL;
	return CF_OK;
}

static cf_err
p11_retire(void *impl, const char *id, struct cf_error *err)
{
	struct p11	*p = impl;
	size_t		 i, ix;
	CK_RV		 rv = CKR_OK;
	cf_err		 rc = CF_OK;

	if (p->legacy != NULL && !cf_str_has_prefix(id, P11_ID_PFX))
		return legacy_retire(p, id, err);
	if ((rc = sess_get(p, &ix, err)) != CF_OK)
		return rc;
	(void)pthread_rwlock_wrlock(&p->klock);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->keks[i].id, id) == 0)
			break;
	if (i == p->n)
		rc = cf_error_set(err, CF_E_NOTFOUND, "no KEK %s in the "
		    "token", parse_id(id, &(uint64_t){0}) ? id : "(that)");
	else if (i == p->n - 1)
		rc = cf_error_set(err, CF_E_CONFLICT, "KEK %s is the active "
		    "one: rotate first", id);
	else if ((rv = p->f->C_DestroyObject(p->sess[ix], p->keks[i].h)) !=
	    CKR_OK)
		rc = p11_fail(err, rv, "destroy KEK");
	else {
		memmove(&p->keks[i], &p->keks[i + 1],
		    (p->n - i - 1) * sizeof(*p->keks));
		p->n--;
	}
	(void)pthread_rwlock_unlock(&p->klock);
	sess_put(p, ix, rv);
	return rc;
}

static cf_err
p11_list(void *impl, struct cf_kek_info *out, size_t max, size_t *n,
    struct cf_error *err)
{
	struct p11	*p = impl;
	size_t		 i;
	cf_err		 rc = CF_OK;

	if (p->legacy != NULL)
		rc = cf_keyprov_keyring_list(p->legacy, out, max, n, false,
		    err);
	if (rc != CF_OK)
		return rc;
	(void)pthread_rwlock_rdlock(&p->klock);
	for (i = 0; i < p->n && rc == CF_OK; i++) {
		if (*n >= max) {
			rc = cf_error_set(err, CF_E_LIMIT, "more than %zu "
			    "KEKs", max);
			break;
		}
		(void)cf_strlcpy(out[*n].id, p->keks[i].id,
		    sizeof(out[*n].id));
		out[*n].created = p->keks[i].created;
		out[*n].active = i == p->n - 1;
		out[*n].where = "pkcs11";
		(*n)++;
	}
	(void)pthread_rwlock_unlock(&p->klock);
	return rc;
}

static cf_err
p11_check(void *impl, struct cf_error *err)
{
	struct p11	*p = impl;
	CK_SESSION_INFO	 si;
	size_t		 ix;
	CK_RV		 rv;
	cf_err		 rc;

	if ((rc = sess_get(p, &ix, err)) != CF_OK)
		return rc;
	rv = p->f->C_GetSessionInfo(p->sess[ix], &si);
	sess_put(p, ix, rv);
	if (rv != CKR_OK)
		return p11_fail(err, rv, "session info");
	return CF_OK;
}

static void
p11_lose(void *impl, bool lost)
{
	struct p11	*p = impl;

	atomic_store(&p->lost, lost);
}

static const struct kp_ops p11_ops = {
	"pkcs11", p11_wrap, p11_unwrap, p11_rotate, p11_active_id,
	p11_retire, p11_list, p11_check, p11_lose, p11_close,
};

/* The slot whose token's label is label (space padded to 32). */
static cf_err
find_slot(struct p11 *p, const char *label, struct cf_error *err)
{
	CK_SLOT_ID	*slots = NULL;
	CK_ULONG	 ns = 0, i;
	CK_TOKEN_INFO	 ti;
	char		 want[32];
	size_t		 ll = strlen(label);
	cf_err		 rc = CF_OK;
	CK_RV		 rv;

	if (ll == 0 || ll > 32)
		return cf_error_set(err, CF_E_INPUT, "pkcs11_token_label must "
		    "be 1 to 32 bytes");
	memset(want, ' ', sizeof(want));
	memcpy(want, label, ll);
	rv = p->f->C_GetSlotList(CK_TRUE, NULL, &ns);
	if (rv != CKR_OK)
		return p11_fail(err, rv, "list slots");
	if (ns == 0)
		return cf_error_set(err, CF_E_UNAVAILABLE, "key provider "
		    "pkcs11: no token present (looked for \"%s\")", label);
	if ((slots = cf_reallocarray(NULL, ns, sizeof(*slots))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rv = p->f->C_GetSlotList(CK_TRUE, slots, &ns);
	if (rv != CKR_OK) {
		rc = p11_fail(err, rv, "list slots");
		goto out;
	}
	for (i = 0; i < ns; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (memcmp(ti.label, want, sizeof(want)) == 0)
			break;
	}
	if (i == ns) {
		rc = cf_error_set(err, CF_E_UNAVAILABLE, "key provider "
		    "pkcs11: no token labelled \"%s\" (pkcs11_token_label)",
		    label);
		goto out;
	}
	p->slot = slots[i];
out:
	cf_free(slots);
	return rc;
}

cf_err
cf_keyprov_pkcs11_open(const struct cf_keyprov_pkcs11_cfg *cfg, bool create,
    struct cf_keyprov **out, struct cf_error *err)
{
	CK_C_INITIALIZE_ARGS	 ia;
	CK_C_GetFunctionList	 gfl;
	struct p11		*p = NULL;
	struct p11_kek		 k;
	struct stat		 st;
	const char		*lost;
	size_t			 ix;
	cf_err			 rc = CF_OK;
	CK_RV			 rv;

	*out = NULL;
	if ((rc = cf_crypto_ready(err)) != CF_OK)
		return rc;
	if (cfg->module == NULL || cfg->module[0] == '\0')
		return cf_error_set(err, CF_E_INPUT, "key_provider pkcs11 "
		    "needs pkcs11_module");
	if (cfg->token_label == NULL || cfg->token_label[0] == '\0')
		return cf_error_set(err, CF_E_INPUT, "key_provider pkcs11 "
		    "needs pkcs11_token_label");
	if (cfg->pin == NULL || cfg->pinlen == 0 || cfg->pinlen > 256)
		return cf_error_set(err, CF_E_INPUT, "key_provider pkcs11 "
		    "needs a PIN (pkcs11_pin_file or COFFER_PKCS11_PIN)");
	if ((p = cf_calloc(1, sizeof(*p))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&p->mu, NULL) != 0 ||
	    pthread_cond_init(&p->cv, NULL) != 0 ||
	    pthread_rwlock_init(&p->klock, NULL) != 0) {
		cf_free(p);
		return cf_error_set(err, CF_E_INTERNAL, "lock init");
	}
	if ((p->pin = sodium_malloc(cfg->pinlen + 1)) == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of locked memory");
		goto out;
	}
	lost = cf_test_hook("COFFER_TEST_HSM_LOST_FILE");
	if (lost != NULL && (p->lost_file = cf_strdup(lost)) == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(p->pin, cfg->pin, cfg->pinlen);
	p->pin[cfg->pinlen] = '\0';
	p->pinlen = cfg->pinlen;
	if (stat(cfg->module, &st) != 0) {
		rc = cf_error_sys(err, CF_E_UNAVAILABLE, "key provider "
		    "pkcs11: module %s", cfg->module);
		goto out;
	}
	p->dl = dlopen(cfg->module, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		rc = cf_error_set(err, CF_E_UNAVAILABLE, "key provider "
		    "pkcs11: cannot load module %s: %s", cfg->module,
		    dlerror());
		goto out;
	}
	*(void **)&gfl = dlsym(p->dl, "C_GetFunctionList");
	if (gfl == NULL) {
		rc = cf_error_set(err, CF_E_UNAVAILABLE, "key provider "
		    "pkcs11: %s is not a PKCS#11 module (no "
		    "C_GetFunctionList)", cfg->module);
		goto out;
	}
	if ((rv = gfl(&p->f)) != CKR_OK || p->f == NULL) {
		rc = p11_fail(err, rv, "C_GetFunctionList");
		p->f = NULL;
		goto out;
	}
	memset(&ia, 0, sizeof(ia));
	ia.flags = CKF_OS_LOCKING_OK;	/* we call it from many threads */
	rv = p->f->C_Initialize(&ia);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rc = p11_fail(err, rv, "C_Initialize");
		goto out;
	}
	p->initialized = rv == CKR_OK;
	if ((rc = find_slot(p, cfg->token_label, err)) != CF_OK)
		goto out;
	(void)cf_strlcpy(p->label, cfg->token_label, sizeof(p->label));
	if ((rc = sess_get(p, &ix, err)) != CF_OK) {
		if (rc == CF_E_AUTH)
			cf_error_set(err, rc, "key provider pkcs11: the token "
			    "refused the PIN");
		goto out;
	}
	rc = keks_load(p, p->sess[ix], err);
	if (rc == CF_OK && p->n == 0 && create) {
		rc = kek_generate(p, p->sess[ix], 1, &k, err);
		if (rc == CF_OK &&
		    (p->keks = cf_calloc(1, sizeof(*p->keks))) == NULL)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		if (rc == CF_OK)
			p->keks[p->n++] = k;
	}
	sess_put(p, ix, rc == CF_E_UNAVAILABLE ? CKR_DEVICE_REMOVED : CKR_OK);
	if (rc != CF_OK)
		goto out;
	if (p->n == 0) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "key provider pkcs11: "
		    "token \"%s\" holds no Coffer KEK (run coffer key "
		    "init-hsm)", cfg->token_label);
		goto out;
	}
	if (cfg->legacy_keyring != NULL && cfg->legacy_master != NULL &&
	    access(cfg->legacy_keyring, F_OK) == 0) {
		if ((p->legacy_path = cf_strdup(cfg->legacy_keyring)) ==
		    NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
		rc = cf_keyring_open(cfg->legacy_keyring, cfg->legacy_master,
		    false, &p->legacy, err);
		if (rc != CF_OK)
			goto out;
	}
	rc = cf_keyprov_make(&p11_ops, p, out, err);
	p = NULL;	/* owned by the facade, or closed by it */
out:
	p11_close(p);
	return rc;
}
