/* src/core/datadir.h: the layout of a Coffer data directory.
 *
 *   DIR/id                the directory's random id (not secret): names
 *                         its master key file outside the directory,
 *                         ~/.config/coffer/keys/ID.key (cf_dd_master_key_path)
 *   DIR/master.key        the master key of directories made before the
 *                         key moved out (still used, with a warning)
 *   DIR/keyring           KEKs, sealed under a key derived from the master
 *   DIR/meta.db           SQLite metadata (+ -wal, -shm)
 *   DIR/blobs/            encrypted object contents (blobs/tmp: in flight)
 *   DIR/audit/            hash-chained audit log and checkpoint
 *   DIR/tls/server.crt    self-signed certificate (unless configured)
 *   DIR/tls/server.key    its key, encrypted PKCS#8
 *   DIR/keys.carry        the audit MAC key and erasure seed carried over
 *                         master key rotations (cf_dd_derived_keys)
 *   DIR/bootstrap-token   first admin session, 0600, removed when spent
 */
#ifndef CF_CORE_DATADIR_H
#define CF_CORE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define CF_DD_MASTER_KEY	"master.key"
#define CF_DD_KEYRING		"keyring"
#define CF_DD_META		"meta.db"
#define CF_DD_AUDIT		"audit"
#define CF_DD_TLS_CERT		"tls/server.crt"
#define CF_DD_TLS_KEY		"tls/server.key"
#define CF_DD_BOOTSTRAP		"bootstrap-token"
#define CF_DD_ID		"id"
#define CF_DD_CARRY		"keys.carry"
#define CF_DD_ID_LEN		32
#define CF_ENV_MASTER_KEY_FILE	"COFFER_MASTER_KEY_FILE"

/* Join dir and name into out (outsz); CF_E_LIMIT if it does not fit. */
cf_err	cf_dd_path(const char *dir, const char *name, char *out, size_t outsz,
	    struct cf_error *err);

/* Where the master key of dir is, into out: $COFFER_MASTER_KEY_FILE
 * (*managed: never created by us), else keyfile (the master_key_file
 * setting; NULL or "": none), else DIR/master.key if that exists (data
 * directories from before the key moved out), else the default outside
 * the data directory: $XDG_CONFIG_HOME/coffer/keys/ID.key (or
 * $HOME/.config/...), ID being DIR/id (made with create). */
cf_err	cf_dd_master_key_path(const char *dir, const char *keyfile,
	    bool create, char *out, size_t outsz, bool *managed,
	    struct cf_error *err);

/* Load the master key of dir from where cf_dd_master_key_path says (path
 * gets it).  With create, a missing key file is created (fresh random
 * key, parent directories 0700) unless the key is operator-managed or the
 * directory already has a keyring (then the key is missing,
 * CF_E_NOTFOUND); *created tells whether it was. */
cf_err	cf_dd_master_key(const char *dir, const char *keyfile, bool create,
	    struct cf_key **out, bool *created, char *path, size_t pathsz,
	    struct cf_error *err);

/* True when path is dir or inside it (both resolved). */
bool	cf_dd_inside(const char *dir, const char *path);

/* The audit MAC key and the erasure signing seed of dir: from
 * DIR/keys.carry (sealed under master) once the master key was rotated,
 * else HKDF(master, CF_LABEL_AUDIT / CF_LABEL_ERASURE). */
cf_err	cf_dd_derived_keys(const char *dir, const struct cf_key *master,
	    struct cf_key **audit, struct cf_key **erase,
	    struct cf_error *err);

/* `coffer key rotate-master` (offline; docs/keys.md): a new master key;
 * the keyring and the self-signed TLS key re-sealed under it, the audit
 * MAC key and erasure seed carried over (DIR/keys.carry).  New files are
 * written as *.new beside their targets (the master key's first); the
 * rename of the master key file is the commit point.  Refused
 * (CF_E_CONFLICT) while the server runs.  A sealed master key needs its
 * passphrase set (cf_master_passphrase_set) and given as pw: the new key
 * is sealed with it too (without: CF_E_AUTH).  Audited (principal: who
 * ran it). */
cf_err	cf_dd_master_rotate(const char *dir, const char *keyfile,
	    const char *pw, const char *principal, struct cf_error *err);

/* Finish (commit done: keypath.new gone) or roll back (keypath.new still
 * there) a master key rotation a crash interrupted.  cf_dd_master_key
 * calls it before loading the key. */
cf_err	cf_dd_rotate_recover(const char *dir, const char *keypath,
	    struct cf_error *err);

#endif
