/* src/crypto/keyring.h: the master key and the sealed keyring of KEKs.
 *
 * The master key (32 random bytes, hex in a 0600 file) never encrypts data:
 * it only derives (HKDF) the key that seals the keyring file and the other
 * per-purpose keys.  The keyring file holds the key-encryption keys (KEKs),
 * sealed with AES-256-GCM; the active KEK wraps each object version's data
 * key (DEK).  Rotation adds a new active KEK; old KEKs stay to unwrap old
 * DEKs until they are re-wrapped.  File formats: docs/internals/CRYPTO.md.
 */
#ifndef CF_CRYPTO_KEYRING_H
#define CF_CRYPTO_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define CF_KEK_ID_MAX		32	/* incl. NUL; ids look like "kek-1" */
#define CF_WRAPPED_DEK_LEN	60	/* nonce 12 + key 32 + tag 16 */

/* Create path (O_EXCL, mode 0600) holding a fresh random master key. */
cf_err	cf_master_key_create(const char *path, struct cf_key **out,
	    struct cf_error *err);
/* Load a master key file; refuses a file readable by group or others
 * (CF_E_INPUT, naming the mode) and anything but 64 hex digits (+ newline)
 * or a sealed key.  A sealed key needs the passphrase given first with
 * cf_master_passphrase_set: without it CF_E_AUTH, and a wrong one (or an
 * altered file) is CF_E_AUTH too. */
cf_err	cf_master_key_load(const char *path, struct cf_key **out,
	    struct cf_error *err);

/* Passphrase-sealed master key files, the step between a plain key file
 * and an HSM: a copy of the file is of no use without the passphrase. */
#define CF_MK_PASS_MIN		12
#define CF_MK_PASS_MAX		1024
/* The environment variable the offline tools read a passphrase file
 * from (the server also has master_key_passphrase_file). */
#define CF_ENV_MK_PASS_FILE	"COFFER_MASTER_KEY_PASSPHRASE_FILE"
/* True when path is a sealed key file. */
bool	cf_master_key_sealed(const char *path);
/* Write path (atomically, 0600, replacing it) as k sealed under pw. */
cf_err	cf_master_key_seal(const char *path, const struct cf_key *k,
	    const char *pw, size_t pwlen, struct cf_error *err);
/* Write path (atomically, 0600, replacing it) as k in the clear. */
cf_err	cf_master_key_write(const char *path, const struct cf_key *k,
	    struct cf_error *err);
/* Keep a copy of the passphrase (locked memory) for cf_master_key_load;
 * _clear wipes it (main calls it once the keys are loaded). */
cf_err	cf_master_passphrase_set(const char *pw, size_t len,
	    struct cf_error *err);
void	cf_master_passphrase_clear(void);

struct cf_keyring;
/* Open (or with create, create with one fresh KEK) the sealed keyring at
 * path.  master is borrowed for the call.  A wrong master key or a
 * tampered file is CF_E_INTEGRITY.  With create, an existing file is
 * opened, never replaced; without it a missing file is CF_E_NOTFOUND.
 * The keyring is safe for many threads (rotate excludes wrap/unwrap). */
cf_err	cf_keyring_open(const char *path, const struct cf_key *master,
	    bool create, struct cf_keyring **out, struct cf_error *err);
void	cf_keyring_close(struct cf_keyring *kr);

/* Wrap dek under the active KEK with ad (the version id) bound in. */
cf_err	cf_keyring_wrap(struct cf_keyring *kr, const struct cf_key *dek,
	    const void *ad, size_t adlen, char kek_id[CF_KEK_ID_MAX],
	    uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_error *err);
/* Unwrap; CF_E_NOTFOUND for an unknown kek_id, CF_E_INTEGRITY on a bad tag
 * or wrong ad. */
cf_err	cf_keyring_unwrap(struct cf_keyring *kr, const char *kek_id,
	    const void *ad, size_t adlen,
	    const uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_key **dek,
	    struct cf_error *err);
/* Add a new active KEK and persist the keyring atomically. */
cf_err	cf_keyring_rotate(struct cf_keyring *kr, struct cf_error *err);
/* Id of the active KEK (borrowed until the next rotate). */
const char *cf_keyring_active_id(const struct cf_keyring *kr);
/* Remove KEK id (not the active one: CF_E_CONFLICT; unknown:
 * CF_E_NOTFOUND) and persist; its bytes are wiped.  Whatever is still
 * wrapped under it can no longer be unwrapped: the caller checks. */
cf_err	cf_keyring_retire(struct cf_keyring *kr, const char *id,
	    struct cf_error *err);
/* Call fn for every KEK in order (under the read lock: fn must not call
 * back into the keyring); stops at the first error. */
typedef cf_err (*cf_keyring_each_fn)(void *arg, const char *id,
    uint64_t created, bool active, struct cf_error *err);
cf_err	cf_keyring_each(struct cf_keyring *kr, cf_keyring_each_fn fn,
	    void *arg, struct cf_error *err);
bool	cf_keyring_has(struct cf_keyring *kr, const char *id);
/* Seal the keyring under a new master key (the KEKs stay) and persist;
 * on failure the file and memory keep the old seal. */
cf_err	cf_keyring_reseal(struct cf_keyring *kr, const struct cf_key *master,
	    struct cf_error *err);

/* Master key rotation: open the keyring at path under old and write it
 * to out_path sealed under nw (path itself is not changed). */
cf_err	cf_keyring_reseal_file(const char *path, const char *out_path,
	    const struct cf_key *old, const struct cf_key *nw,
	    struct cf_error *err);

/* The carried keys file (DIR/keys.carry, docs/keys.md "Master key
 * rotation"): the audit MAC key and the erasure signing seed of the first
 * master key, sealed (XChaCha20-Poly1305) under HKDF(master,
 * CF_LABEL_CARRY), so that they outlive a master key rotation.  read:
 * CF_E_NOTFOUND if absent, CF_E_INTEGRITY for a wrong master key or a
 * tampered file. */
cf_err	cf_carry_write(const char *path, const struct cf_key *master,
	    const struct cf_key *audit, const struct cf_key *erase,
	    struct cf_error *err);
cf_err	cf_carry_read(const char *path, const struct cf_key *master,
	    struct cf_key **audit, struct cf_key **erase,
	    struct cf_error *err);

#endif
