/* src/core/datadir.h: the layout of a Coffer data directory.
 *
 *   DIR/master.key        master key, 0600 (unless COFFER_MASTER_KEY_FILE
 *                         names a file elsewhere, then not created here)
 *   DIR/keyring           KEKs, sealed under a key derived from the master
 *   DIR/meta.db           SQLite metadata (+ -wal, -shm)
 *   DIR/blobs/            encrypted object contents (blobs/tmp: in flight)
 *   DIR/audit/            hash-chained audit log and checkpoint
 *   DIR/tls/server.crt    self-signed certificate (unless configured)
 *   DIR/tls/server.key    its key, encrypted PKCS#8
 *   DIR/bootstrap-token   first admin token, 0600, written once
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
#define CF_ENV_MASTER_KEY_FILE	"COFFER_MASTER_KEY_FILE"

/* Join dir and name into out (outsz); CF_E_LIMIT if it does not fit. */
cf_err	cf_dd_path(const char *dir, const char *name, char *out, size_t outsz,
	    struct cf_error *err);

/* Load the master key of dir: from $COFFER_MASTER_KEY_FILE when set, else
 * DIR/master.key.  With create, a missing key file is created (fresh
 * random key) unless the directory already has a keyring (then the key is
 * missing, CF_E_NOTFOUND); *created tells whether it was. */
cf_err	cf_dd_master_key(const char *dir, bool create, struct cf_key **out,
	    bool *created, struct cf_error *err);

#endif
