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

#endif
