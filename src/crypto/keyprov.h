/* src/crypto/keyprov.h: key providers, where the KEKs live and where
 * data keys (DEKs) are wrapped and unwrapped.
 *
 * Two providers share one interface and one wrapped-DEK format (60 bytes:
 * nonce 12, AES-256-GCM ciphertext 32, tag 16; ad "coffer dek v1" 0
 * kek_id 0 caller-ad, docs/internals/CRYPTO.md):
 *
 *   file    the sealed keyring file (keyring.h), sealed by a key derived
 *           from the master key file.  The default.
 *   pkcs11  KEKs are AES-256 secret keys inside a PKCS#11 token (an HSM,
 *           SoftHSM2 for tests), created there by C_GenerateKey with
 *           CKA_SENSITIVE true and CKA_EXTRACTABLE false: the KEK bytes
 *           never leave the token.  Wrapping is C_Encrypt with
 *           CKM_AES_GCM on the DEK, unwrapping C_Decrypt, both inside the
 *           token.  A keyring file left from the file provider stays
 *           usable (read side) so that a data directory can move to an
 *           HSM by rotation and rewrap; its KEKs are "kek-N", the token's
 *           "hsm-N".
 *
 * SEC: whichever provider, the DEK is in the server's memory while an
 * object version is read or written (blobs are sealed by GnuTLS here);
 * what the HSM keeps out of memory, backups and the data directory is the
 * KEK.  All functions are safe for many threads.
 */
#ifndef CF_CRYPTO_KEYPROV_H
#define CF_CRYPTO_KEYPROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

struct cf_keyprov;

/* The PKCS#11 provider's settings; strings borrowed for the open call. */
struct cf_keyprov_pkcs11_cfg {
	const char	*module;	/* path of the PKCS#11 module (.so) */
	const char	*token_label;	/* the token's CKA_LABEL */
	const char	*pin;		/* user PIN */
	size_t		 pinlen;
	/* A keyring file of the file provider to keep unwrapping "kek-N"
	 * DEKs (NULL or a missing file: none), sealed under master. */
	const char	*legacy_keyring;
	const struct cf_key *legacy_master;
};

/* The file provider over the keyring at path (see cf_keyring_open: with
 * create, a missing keyring is created with one KEK). */
cf_err	cf_keyprov_file_open(const char *path, const struct cf_key *master,
	    bool create, struct cf_keyprov **out, struct cf_error *err);
/* The PKCS#11 provider: loads the module (dlopen), finds the token by
 * label, logs in with the PIN and lists the KEKs it holds.  With create
 * and no KEK in the token, generates "hsm-1".  Without create, a token
 * without any KEK is CF_E_NOTFOUND (run `coffer key init-hsm`).  A
 * missing module, token or wrong PIN is CF_E_UNAVAILABLE or CF_E_AUTH
 * with a message naming what is wrong. */
cf_err	cf_keyprov_pkcs11_open(const struct cf_keyprov_pkcs11_cfg *cfg,
	    bool create, struct cf_keyprov **out, struct cf_error *err);
void	cf_keyprov_close(struct cf_keyprov *kp);	/* NULL: no-op */

/* "file" or "pkcs11". */
const char *cf_keyprov_name(const struct cf_keyprov *kp);

/* Wrap dek under the active KEK with ad bound in; kek_id gets its id. */
cf_err	cf_keyprov_wrap(struct cf_keyprov *kp, const struct cf_key *dek,
	    const void *ad, size_t adlen, char kek_id[CF_KEK_ID_MAX],
	    uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_error *err);
/* Unwrap: CF_E_NOTFOUND for an unknown kek_id, CF_E_INTEGRITY on a bad
 * tag or wrong ad, CF_E_UNAVAILABLE when the token cannot be reached. */
cf_err	cf_keyprov_unwrap(struct cf_keyprov *kp, const char *kek_id,
	    const void *ad, size_t adlen,
	    const uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_key **dek,
	    struct cf_error *err);
/* Unwrap under kek_id and wrap again under the active KEK (the DEK is
 * in locked memory only in between): the rewrap after a rotation. */
cf_err	cf_keyprov_rewrap(struct cf_keyprov *kp, const char *kek_id,
	    const void *ad, size_t adlen,
	    const uint8_t wrapped[CF_WRAPPED_DEK_LEN],
	    char new_kek_id[CF_KEK_ID_MAX],
	    uint8_t new_wrapped[CF_WRAPPED_DEK_LEN], struct cf_error *err);
/* A new active KEK (persisted or generated in the token); new_id gets
 * its id.  The old ones stay until retired. */
cf_err	cf_keyprov_rotate(struct cf_keyprov *kp,
	    char new_id[CF_KEK_ID_MAX], struct cf_error *err);
/* The active KEK's id. */
void	cf_keyprov_active_id(struct cf_keyprov *kp, char id[CF_KEK_ID_MAX]);
/* Destroy KEK id (the keyring entry, or C_DestroyObject in the token).
 * The caller checks that nothing is wrapped under it any more.
 * CF_E_CONFLICT for the active KEK, CF_E_NOTFOUND for an unknown one. */
cf_err	cf_keyprov_retire(struct cf_keyprov *kp, const char *id,
	    struct cf_error *err);

struct cf_kek_info {
	char		id[CF_KEK_ID_MAX];
	uint64_t	created;	/* unix seconds */
	bool		active;
	const char	*where;		/* "keyring" or "pkcs11" */
};
#define CF_KEYPROV_LIST_MAX	4096
/* Every KEK, sorted by id number, at most max; *n gets the count. */
cf_err	cf_keyprov_list(struct cf_keyprov *kp, struct cf_kek_info *out,
	    size_t max, size_t *n, struct cf_error *err);
/* Can the provider work now?  The file provider always; the PKCS#11
 * one asks the token (C_GetSessionInfo).  CF_E_UNAVAILABLE if not. */
cf_err	cf_keyprov_check(struct cf_keyprov *kp, struct cf_error *err);

/* Tests only: make the PKCS#11 provider act as if the token were gone
 * (every call CKR_DEVICE_REMOVED) or back.  No-op for the file one. */
void	cf_keyprov_test_lose(struct cf_keyprov *kp, bool lost);

#endif
