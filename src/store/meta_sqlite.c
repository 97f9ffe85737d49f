/* src/store/meta_sqlite.c: the metadata store (meta.h) on SQLite.
 *
 * One database file in WAL mode with synchronous=FULL, so a version that
 * was acknowledged survives SIGKILL and power loss.  A small pool of
 * connections lets many server threads call at once: under WAL, readers
 * run in parallel with each other and with the one writer; writers are
 * serialized by SQLite (BEGIN IMMEDIATE takes the write lock up front, so
 * a write transaction never fails half-way on a lock upgrade).  Every
 * statement is prepared once per connection and cached.
 *
 * Object keys are stored as BLOBs and compared bytewise; listings use
 * range comparisons only (never LIKE/GLOB, whose case folding and
 * wildcards would be wrong for arbitrary keys).  The table `live` holds
 * the latest version of each key whose latest version is not a delete
 * marker, so a listing page is an index range scan with seeks past
 * rolled-up common prefixes.  Every change is one BEGIN IMMEDIATE
 * transaction that calls its audit obligation's record function right
 * before COMMIT (tx_commit_audited; meta.h).  Schema, durability and the
 * listing algorithm: docs/internals/STORE.md. */
#include <sys/stat.h>

#include <stdarg.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/check.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"
#include "store/meta.h"
#include "store/meta_int.h"
#include "store/store_int.h"

/* Statements a connection keeps prepared for meta_int_prep (the queries
 * of meta_artifact.c and meta_versioning.c, ~30; more are prepared once
 * per call). */
#define SC_MAX		48
#define POOL_MAX	64		/* connections kept (more only if
					 * nested); one per connection thread
					 * of a busy server */
#define BUSY_MS		10000		/* wait this long for the write lock */
#define TOUCH_US	60000000	/* last_used_us granularity: 1 min */
#define KEY_MAX		(CF_OBJKEY_MAX - 1)	/* 1024 bytes */

/* Schema migrations: migrations[i] takes user_version i to i + 1.  Append
 * only; never edit a released step. */
static const char *const migrations[] = {
	/* 0 -> 1: the initial schema. */
	"CREATE TABLE namespaces ("
	"  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name        TEXT NOT NULL UNIQUE,"
	"  env         TEXT NOT NULL,"
	"  created_by  TEXT NOT NULL,"
	"  created_us  INTEGER NOT NULL"
	");"
	"CREATE TABLE versions ("
	"  seq           INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  version_id    TEXT NOT NULL UNIQUE,"
	"  ns_id         INTEGER NOT NULL REFERENCES namespaces(id),"
	"  key           BLOB NOT NULL CHECK (typeof(key) = 'blob'),"
	"  delete_marker INTEGER NOT NULL CHECK (delete_marker IN (0, 1)),"
	"  blob_id       TEXT NOT NULL,"
	"  size          INTEGER NOT NULL CHECK (size >= 0),"
	"  sha256        TEXT NOT NULL,"
	"  content_type  TEXT NOT NULL,"
	"  user_meta     TEXT NOT NULL,"
	"  created_by    TEXT NOT NULL,"
	"  created_us    INTEGER NOT NULL,"
	"  kek_id        TEXT NOT NULL,"
	"  wrapped_dek   BLOB NOT NULL"
	");"
	"CREATE INDEX versions_by_key ON versions(ns_id, key, seq);"
	/* The latest version of each key whose latest is not a marker. */
	"CREATE TABLE live ("
	"  ns_id  INTEGER NOT NULL REFERENCES namespaces(id),"
	"  key    BLOB NOT NULL CHECK (typeof(key) = 'blob'),"
	"  seq    INTEGER NOT NULL,"
	"  PRIMARY KEY (ns_id, key)"
	") WITHOUT ROWID;"
	"CREATE TABLE principals ("
	"  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name        TEXT NOT NULL UNIQUE,"
	"  kind        TEXT NOT NULL,"
	"  created_us  INTEGER NOT NULL,"
	"  disabled    INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE tokens ("
	"  id            TEXT PRIMARY KEY,"
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id),"
	"  hash          BLOB NOT NULL CHECK (length(hash) = 32),"
	"  description   TEXT NOT NULL,"
	"  created_us    INTEGER NOT NULL,"
	"  expires_us    INTEGER NOT NULL,"
	"  revoked_us    INTEGER NOT NULL,"
	"  last_used_us  INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX tokens_by_hash ON tokens(hash);"
	"CREATE INDEX tokens_by_principal ON tokens(principal_id);"
	"CREATE TABLE bindings ("
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  role          TEXT NOT NULL,"
	"  ns            TEXT NOT NULL,"
	"  PRIMARY KEY (principal_id, role, ns)"
	") WITHOUT ROWID;"
	"CREATE INDEX bindings_by_ns ON bindings(ns);",
	/* 1 -> 2: identity (issue 4): passwords, MFA, sessions, scoped
	 * tokens, service account owners, brute-force counters. */
	"ALTER TABLE principals ADD COLUMN password_hash TEXT NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE principals ADD COLUMN mfa_required INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE principals ADD COLUMN owner_id INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE principals ADD COLUMN provisioned INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';"
	"ALTER TABLE tokens ADD COLUMN mfa_at_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE mfa ("
	"  principal_id  INTEGER PRIMARY KEY REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  kek_id        TEXT NOT NULL,"
	"  wrapped       BLOB NOT NULL CHECK (length(wrapped) = 60),"
	"  enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),"
	"  last_step     INTEGER NOT NULL,"
	"  created_us    INTEGER NOT NULL"
	");"
	"CREATE TABLE recovery_codes ("
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  hash          BLOB NOT NULL CHECK (length(hash) = 32),"
	"  used_us       INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (principal_id, hash)"
	") WITHOUT ROWID;"
	"CREATE TABLE auth_failures ("
	"  key              TEXT PRIMARY KEY,"
	"  count            INTEGER NOT NULL,"
	"  last_us          INTEGER NOT NULL,"
	"  locked_until_us  INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE role_settings ("
	"  role          TEXT PRIMARY KEY,"
	"  mfa_required  INTEGER NOT NULL"
	") WITHOUT ROWID;",
	/* 2 -> 3: namespace sensitivity (issue 4: MFA for restricted
	 * data).  Existing namespaces become "internal", the default. */
	("ALTER TABLE namespaces ADD COLUMN sensitivity TEXT NOT NULL"
	"  DEFAULT 'internal';"),
	/* 3 -> 4: the orphan sweep asks, for every blob, whether a version
	 * references it (cf_meta_blobs_referenced); delete markers have no
	 * blob and stay out of the index. */
	("CREATE INDEX versions_by_blob ON versions(blob_id)"
	"  WHERE blob_id <> '';"),
	/* 4 -> 5: OIDC identities bound by (issuer, subject), never by
	 * name.  SEC: users that OIDC provisioned before links existed,
	 * and that have since got neither a password nor MFA, are marked
	 * adoptable: their next sign-in from a provisioning issuer links
	 * them once (cf_meta_oidc_link_add with adopt).  No other account
	 * can ever be taken over by a name claim. */
	("CREATE TABLE oidc_links ("
	"  issuer        TEXT NOT NULL,"
	"  subject       TEXT NOT NULL,"
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  created_us    INTEGER NOT NULL,"
	"  PRIMARY KEY (issuer, subject)"
	") WITHOUT ROWID;"
	"CREATE INDEX oidc_links_by_principal ON oidc_links(principal_id);"
	"ALTER TABLE principals ADD COLUMN oidc_adoptable INTEGER NOT NULL"
	"  DEFAULT 0;"
	"UPDATE principals SET oidc_adoptable = 1 WHERE provisioned = 1"
	"  AND kind = 'user' AND password_hash = ''"
	"  AND id NOT IN (SELECT principal_id FROM mfa);"),
	/* ---- 5 -> 6: custom policy sets (policy:set), append-only
	 * versions; ns_id NULL for a global set.  The unique key folds
	 * NULL to 0 (no namespace has id 0), since UNIQUE treats NULLs as
	 * distinct. ---- */
	("CREATE TABLE policies ("
	"  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name        TEXT NOT NULL,"
	"  ns_id       INTEGER REFERENCES namespaces(id),"
	"  version     INTEGER NOT NULL CHECK (version >= 1),"
	"  deleted     INTEGER NOT NULL CHECK (deleted IN (0, 1)),"
	"  text        TEXT NOT NULL,"
	"  sha256      TEXT NOT NULL,"
	"  created_by  TEXT NOT NULL,"
	"  created_us  INTEGER NOT NULL,"
	"  size        INTEGER NOT NULL CHECK (size >= 0)"
	");"
	"CREATE UNIQUE INDEX policies_by_key"
	"  ON policies(ifnull(ns_id, 0), name, version);"),
	/* ---- end of 5 -> 6 ---- */
	/* ---- begin: user attributes and labels ---- */
	/* 6 -> 7: user attributes (name -> value) and labels on a
	 * namespace (key '') or on an object key (not per version).  The
	 * authorizer reads them on every request: each is one primary-key
	 * range.  Labels go with their namespace (cascade) and with the
	 * last version of their key (trigger: whatever removes versions,
	 * an object that is permanently gone takes its labels along; a
	 * delete marker is a version, so it keeps them). */
	("CREATE TABLE principal_attrs ("
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  name          TEXT NOT NULL,"
	"  value         TEXT NOT NULL,"
	"  PRIMARY KEY (principal_id, name)"
	") WITHOUT ROWID;"
	"CREATE TABLE labels ("
	"  ns_id  INTEGER NOT NULL REFERENCES namespaces(id)"
	"         ON DELETE CASCADE,"
	"  key    BLOB NOT NULL CHECK (typeof(key) = 'blob'),"
	"  name   TEXT NOT NULL,"
	"  value  TEXT NOT NULL,"
	"  PRIMARY KEY (ns_id, key, name)"
	") WITHOUT ROWID;"
	"CREATE TRIGGER labels_follow_versions AFTER DELETE ON versions"
	"  WHEN NOT EXISTS (SELECT 1 FROM versions"
	"    WHERE ns_id = OLD.ns_id AND key = OLD.key)"
	"  BEGIN DELETE FROM labels"
	"    WHERE ns_id = OLD.ns_id AND key = OLD.key; END;"),
	/* ---- end: user attributes and labels ---- */
	/* 7 -> 8: the generation of what decisions read from the store and
	 * a process may cache (namespace records, role settings): bumped by
	 * triggers on every change, whoever makes it, so that a server
	 * process sees another's changes (cf_meta_cache_poll). */
	("CREATE TABLE decision_gen ("
	"  id   INTEGER PRIMARY KEY CHECK (id = 1),"
	"  gen  INTEGER NOT NULL"
	");"
	"INSERT INTO decision_gen(id, gen) VALUES (1, 0);"
	"CREATE TRIGGER dgen_ns_ins AFTER INSERT ON namespaces"
	"  BEGIN UPDATE decision_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER dgen_ns_upd AFTER UPDATE ON namespaces"
	"  BEGIN UPDATE decision_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER dgen_ns_del AFTER DELETE ON namespaces"
	"  BEGIN UPDATE decision_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER dgen_role_ins AFTER INSERT ON role_settings"
	"  BEGIN UPDATE decision_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER dgen_role_upd AFTER UPDATE ON role_settings"
	"  BEGIN UPDATE decision_gen SET gen = gen + 1; END;"
	"CREATE TRIGGER dgen_role_del AFTER DELETE ON role_settings"
	"  BEGIN UPDATE decision_gen SET gen = gen + 1; END;"),
	/* ---- begin: artifacts (meta_artifact.c) ---- */
	/* 8 -> 9: artifacts: a named set of object versions per namespace,
	 * versioned as a whole.  An artifact version is immutable but for
	 * its user metadata and sensitivity; its files (the manifest) and
	 * lineage never change.  Lineage names its sources by artifact id
	 * without a foreign key: a source deleted with its namespace
	 * leaves the link, shown as gone.  Stages point at one version
	 * each; every move is kept in stage_history. */
	("CREATE TABLE artifacts ("
	"  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ns_id       INTEGER NOT NULL REFERENCES namespaces(id)"
	"              ON DELETE CASCADE,"
	"  name        TEXT NOT NULL,"
	"  created_by  TEXT NOT NULL,"
	"  created_us  INTEGER NOT NULL,"
	"  UNIQUE (ns_id, name)"
	");"
	"CREATE TABLE artifact_versions ("
	"  artifact_id   INTEGER NOT NULL REFERENCES artifacts(id)"
	"                ON DELETE CASCADE,"
	"  number        INTEGER NOT NULL CHECK (number >= 1),"
	"  version_id    TEXT NOT NULL UNIQUE,"
	"  kind          TEXT NOT NULL,"
	"  digest        TEXT NOT NULL,"
	"  size          INTEGER NOT NULL CHECK (size >= 0),"
	"  files         INTEGER NOT NULL CHECK (files >= 0),"
	"  meta          TEXT NOT NULL,"
	"  sensitivity   TEXT NOT NULL,"
	"  declassified  TEXT NOT NULL DEFAULT '',"
	"  created_by    TEXT NOT NULL,"
	"  created_us    INTEGER NOT NULL,"
	"  PRIMARY KEY (artifact_id, number)"
	") WITHOUT ROWID;"
	"CREATE INDEX artifact_versions_by_time"
	"  ON artifact_versions(artifact_id, created_us);"
	"CREATE TABLE artifact_files ("
	"  artifact_id  INTEGER NOT NULL,"
	"  number       INTEGER NOT NULL,"
	"  path         BLOB NOT NULL,"
	"  version_id   TEXT NOT NULL,"
	"  sha256       TEXT NOT NULL,"
	"  size         INTEGER NOT NULL CHECK (size >= 0),"
	"  PRIMARY KEY (artifact_id, number, path),"
	"  FOREIGN KEY (artifact_id, number)"
	"    REFERENCES artifact_versions(artifact_id, number)"
	"    ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"CREATE TABLE artifact_lineage ("
	"  artifact_id      INTEGER NOT NULL,"
	"  number           INTEGER NOT NULL,"
	"  src_artifact_id  INTEGER NOT NULL,"
	"  src_number       INTEGER NOT NULL,"
	"  PRIMARY KEY (artifact_id, number, src_artifact_id, src_number),"
	"  FOREIGN KEY (artifact_id, number)"
	"    REFERENCES artifact_versions(artifact_id, number)"
	"    ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"CREATE INDEX artifact_lineage_by_src"
	"  ON artifact_lineage(src_artifact_id, src_number);"
	"CREATE TABLE artifact_stages ("
	"  artifact_id  INTEGER NOT NULL REFERENCES artifacts(id)"
	"               ON DELETE CASCADE,"
	"  stage        TEXT NOT NULL,"
	"  number       INTEGER NOT NULL,"
	"  set_by       TEXT NOT NULL,"
	"  set_us       INTEGER NOT NULL,"
	"  PRIMARY KEY (artifact_id, stage)"
	") WITHOUT ROWID;"
	"CREATE TABLE artifact_stage_history ("
	"  seq          INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  artifact_id  INTEGER NOT NULL REFERENCES artifacts(id)"
	"               ON DELETE CASCADE,"
	"  stage        TEXT NOT NULL,"
	"  number       INTEGER NOT NULL,"
	"  set_by       TEXT NOT NULL,"
	"  set_us       INTEGER NOT NULL"
	");"
	"CREATE INDEX artifact_stage_history_by_artifact"
	"  ON artifact_stage_history(artifact_id, seq);"),
	/* ---- end: artifacts ---- */
	/* ---- begin: S3 access keys ---- */
	/* 9 -> 10: S3 access keys (SigV4 needs the secret itself, so it is
	 * stored sealed by the keyring, never hashed: docs/internals/
	 * CRYPTO.md) and the MD5 of each version's plaintext (the S3 ETag;
	 * '' for versions uploaded without it). */
	("CREATE TABLE s3_keys ("
	"  id            TEXT PRIMARY KEY,"
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  kek_id        TEXT NOT NULL,"
	"  wrapped       BLOB NOT NULL,"
	"  description   TEXT NOT NULL DEFAULT '',"
	"  created_us    INTEGER NOT NULL,"
	"  expires_us    INTEGER NOT NULL DEFAULT 0,"
	"  revoked_us    INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX s3_keys_principal ON s3_keys(principal_id);"
	"ALTER TABLE versions ADD COLUMN md5 TEXT NOT NULL DEFAULT '';"),
	/* ---- end: S3 access keys ---- */
	/* 10 -> 11: which artifact versions name an object version (a read
	 * of an artifact's file is decided with the artifact's attributes:
	 * cf_meta_art_of_version). */
	("CREATE INDEX artifact_files_by_version"
	"  ON artifact_files(version_id);"),
	/* ---- begin: break-glass grants ---- */
	/* 11 -> 12: break-glass grants (temporary owner on one namespace).
	 * The monitor asks for a principal's active ones on every request:
	 * one range of breakglass_active. */
	("CREATE TABLE breakglass ("
	"  id            TEXT PRIMARY KEY,"
	"  principal_id  INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  ns_id         INTEGER NOT NULL REFERENCES namespaces(id)"
	"                ON DELETE CASCADE,"
	"  reason        TEXT NOT NULL,"
	"  created_us    INTEGER NOT NULL,"
	"  expires_us    INTEGER NOT NULL,"
	"  revoked_us    INTEGER NOT NULL DEFAULT 0,"
	"  revoked_by    TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX breakglass_active"
	"  ON breakglass(principal_id, revoked_us, expires_us);"),
	/* ---- end: break-glass grants ---- */
	/* ---- begin: promotions ---- */
	/* 12 -> 13: promotion requests of artifact versions and their
	 * approvals; an object version may share the blob of the version
	 * it was promoted from (sealed_as: the version id its chunks were
	 * sealed under; '': its own). */
	("ALTER TABLE versions ADD COLUMN sealed_as TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE promotions ("
	"  id               TEXT PRIMARY KEY,"
	"  src_ns           TEXT NOT NULL,"
	"  src_name         TEXT NOT NULL,"
	"  src_artifact_id  INTEGER NOT NULL,"
	"  src_number       INTEGER NOT NULL,"
	"  dst_ns_id        INTEGER NOT NULL REFERENCES namespaces(id)"
	"                   ON DELETE CASCADE,"
	"  requester        TEXT NOT NULL,"
	"  reason           TEXT NOT NULL,"
	"  required         INTEGER NOT NULL CHECK (required >= 0),"
	"  state            TEXT NOT NULL,"
	"  created_us       INTEGER NOT NULL,"
	"  expires_us       INTEGER NOT NULL,"
	"  closed_us        INTEGER NOT NULL DEFAULT 0,"
	"  closed_by        TEXT NOT NULL DEFAULT '',"
	"  dst_number       INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX promotions_by_created ON promotions(created_us);"
	"CREATE TABLE promotion_approvals ("
	"  promotion_id  TEXT NOT NULL REFERENCES promotions(id)"
	"                ON DELETE CASCADE,"
	"  principal     TEXT NOT NULL,"
	"  at_us         INTEGER NOT NULL,"
	"  PRIMARY KEY (promotion_id, principal)"
	") WITHOUT ROWID;"),
	/* ---- end: promotions ---- */
	/* ---- begin: share links ---- */
	/* 13 -> 14: share links (meta_share.c): the SHA-256 of each link's
	 * token, never the token; the object version it names; its limits
	 * and how often it was used. */
	("CREATE TABLE shares ("
	"  id            TEXT PRIMARY KEY,"
	"  hash          BLOB NOT NULL UNIQUE,"
	"  ns            TEXT NOT NULL,"
	"  key           TEXT NOT NULL,"
	"  version_id    TEXT NOT NULL,"
	"  creator_id    INTEGER NOT NULL REFERENCES principals(id)"
	"                ON DELETE CASCADE,"
	"  sensitivity   TEXT NOT NULL,"
	"  created_us    INTEGER NOT NULL,"
	"  expires_us    INTEGER NOT NULL,"
	"  max_downloads INTEGER NOT NULL DEFAULT 0,"
	"  downloads     INTEGER NOT NULL DEFAULT 0,"
	"  allow_cidr    TEXT NOT NULL DEFAULT '',"
	"  pwhash        TEXT NOT NULL DEFAULT '',"
	"  recipient     TEXT NOT NULL DEFAULT '',"
	"  revoked_us    INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX shares_creator ON shares(creator_id, created_us);"),
	/* ---- end: share links ---- */
	/* ---- begin: S3 bodies and multipart uploads ---- */
	/* 14 -> 15: each version's Content-Encoding as the client gave it
	 * (stored and echoed, never applied; '' for none). */
	"ALTER TABLE versions ADD COLUMN content_encoding TEXT NOT NULL"
	"  DEFAULT '';",
	/* 15 -> 16: multipart uploads in progress and their parts. */
	("CREATE TABLE mp_uploads ("
	"  id                TEXT PRIMARY KEY,"
	"  ns_id             INTEGER NOT NULL REFERENCES namespaces(id)"
	"                    ON DELETE CASCADE,"
	"  key               TEXT NOT NULL,"
	"  content_type      TEXT NOT NULL,"
	"  content_encoding  TEXT NOT NULL,"
	"  user_meta         TEXT NOT NULL,"
	"  created_by        TEXT NOT NULL,"
	"  created_us        INTEGER NOT NULL"
	");"
	"CREATE INDEX mp_uploads_by_ns ON mp_uploads(ns_id, key, created_us);"
	"CREATE INDEX mp_uploads_by_time ON mp_uploads(created_us);"
	"CREATE TABLE mp_parts ("
	"  upload_id    TEXT NOT NULL REFERENCES mp_uploads(id)"
	"               ON DELETE CASCADE,"
	"  number       INTEGER NOT NULL,"
	"  part_id      TEXT NOT NULL,"
	"  blob_id      TEXT NOT NULL,"
	"  size         INTEGER NOT NULL,"
	"  md5          TEXT NOT NULL,"
	"  kek_id       TEXT NOT NULL,"
	"  wrapped_dek  BLOB NOT NULL,"
	"  created_us   INTEGER NOT NULL,"
	"  PRIMARY KEY (upload_id, number)"
	") WITHOUT ROWID;"
	"CREATE INDEX mp_parts_by_blob ON mp_parts(blob_id);"),
	/* ---- end: S3 bodies and multipart uploads ---- */
	/* ---- begin: access reviews ---- */
	/* 16 -> 17: a binding's expiry (0: none); an expired binding grants
	 * nothing (the readers filter by the decision's time) until the
	 * sweep deletes it with its record. */
	"ALTER TABLE bindings ADD COLUMN expires_us INTEGER NOT NULL"
	"  DEFAULT 0;",
	/* ---- end: access reviews ---- */
	/* ---- begin: privacy ---- */
	/* 17 -> 18: retention per namespace (days, 0: none), legal holds
	 * (on a namespace, key '', or a key and everything under KEY/),
	 * and erasures: one tombstone per crypto-shredded version (who,
	 * when, why, digests) and the signed certificate of each erasure
	 * (meta_privacy.c). */
	("ALTER TABLE namespaces ADD COLUMN retain_days INTEGER NOT NULL"
	"  DEFAULT 0;"
	"CREATE TABLE holds ("
	"  id          TEXT PRIMARY KEY,"
	"  ns          TEXT NOT NULL,"
	"  key         TEXT NOT NULL,"
	"  reason      TEXT NOT NULL,"
	"  created_by  TEXT NOT NULL,"
	"  created_us  INTEGER NOT NULL"
	");"
	"CREATE INDEX holds_by_ns ON holds(ns, key);"
	"CREATE TABLE erasures ("
	"  version_id  TEXT PRIMARY KEY,"
	"  erasure_id  TEXT NOT NULL,"
	"  ns          TEXT NOT NULL,"
	"  key         TEXT NOT NULL,"
	"  sha256      TEXT NOT NULL,"
	"  size        INTEGER NOT NULL,"
	"  blob_id     TEXT NOT NULL,"
	"  why         TEXT NOT NULL,"
	"  erased_by   TEXT NOT NULL,"
	"  erased_us   INTEGER NOT NULL,"
	"  reason      TEXT NOT NULL,"
	"  request_id  TEXT NOT NULL"
	");"
	"CREATE INDEX erasures_by_id ON erasures(erasure_id);"
	"CREATE TABLE erasure_certs ("
	"  id          TEXT PRIMARY KEY,"
	"  cert        TEXT NOT NULL,"
	"  created_us  INTEGER NOT NULL"
	");"),
	/* ---- end: privacy ---- */
	/* ---- begin: purge ---- */
	/* 18 -> 19: the purge job (meta_purge.c): non-current versions of a
	 * namespace older than purge_days (0: never) are crypto-shredded
	 * by the server. */
	("ALTER TABLE namespaces ADD COLUMN purge_days INTEGER NOT NULL"
	"  DEFAULT 0;"),
	/* ---- end: purge ---- */
	/* ---- begin: S3 checksums ---- */
	/* 19 -> 20: the x-amz-checksum-* an upload carried, as verified
	 * ("ALG:BASE64"; '' for none), returned on a GET that asks. */
	"ALTER TABLE versions ADD COLUMN checksum TEXT NOT NULL DEFAULT '';",
	/* ---- end: S3 checksums ---- */
	/* ---- begin: S3 versioning ---- */
	/* 20 -> 21: S3's versioning state per namespace ('unversioned',
	 * 'enabled', 'suspended'; existing namespaces showed their real
	 * version ids, so they are 'enabled'), and each version's place in
	 * S3's view: s3_null 1 (written while unversioned) or 2 (while
	 * suspended) is the "null" version; s3_hidden 1 when it left S3's
	 * view (replaced by a newer null version, or deleted through S3
	 * by its versionId).  History is untouched: every row stays
	 * (meta_versioning.c, docs/s3.md). */
	("ALTER TABLE namespaces ADD COLUMN versioning TEXT NOT NULL"
	"  DEFAULT 'enabled' CHECK (versioning IN ('unversioned',"
	"  'enabled', 'suspended'));"
	"ALTER TABLE versions ADD COLUMN s3_null INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (s3_null IN (0, 1, 2));"
	"ALTER TABLE versions ADD COLUMN s3_hidden INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (s3_hidden IN (0, 1));"),
	/* ---- end: S3 versioning ---- */
	/* ---- begin: access review campaigns ---- */
	/* 21 -> 22: access review campaigns (meta_review.c): each a
	 * snapshot of the grants in its scope at its start, one item per
	 * (principal, grant), with the reviewer's decision. */
	("CREATE TABLE reviews ("
	"  id            TEXT PRIMARY KEY,"
	"  ns            TEXT NOT NULL,"
	"  creator       TEXT NOT NULL,"
	"  reviewer      TEXT NOT NULL,"
	"  on_timeout    TEXT NOT NULL,"
	"  created_us    INTEGER NOT NULL,"
	"  due_us        INTEGER NOT NULL,"
	"  timed_out_us  INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE review_items ("
	"  review_id     TEXT NOT NULL REFERENCES reviews(id)"
	"                ON DELETE CASCADE,"
	"  n             INTEGER NOT NULL,"
	"  principal     TEXT NOT NULL,"
	"  kind          TEXT NOT NULL,"
	"  name          TEXT NOT NULL,"
	"  ns            TEXT NOT NULL,"
	"  expires_us    INTEGER NOT NULL,"
	"  last_used_us  INTEGER NOT NULL,"
	"  reviewer      TEXT NOT NULL,"
	"  state         TEXT NOT NULL,"
	"  escalated     INTEGER NOT NULL DEFAULT 0,"
	"  decided_by    TEXT NOT NULL DEFAULT '',"
	"  decided_us    INTEGER NOT NULL DEFAULT 0,"
	"  note          TEXT NOT NULL DEFAULT '',"
	"  outcome       TEXT NOT NULL DEFAULT '',"
	"  detail        TEXT NOT NULL,"
	"  PRIMARY KEY (review_id, n)"
	") WITHOUT ROWID;"),
	/* ---- end: access review campaigns ---- */
	/* ---- begin: complete by reference ---- */
	/* 22 -> 23: a version completed from S3 multipart parts references
	 * the parts' blobs as its segments, in order, each with its own
	 * wrapped key and sealed_as (docs/internals/STORE.md, "Segments");
	 * nsegs 0 is a version of one blob as before.  Parts keep the
	 * SHA-256 of their plaintext (the version's digest is made of
	 * them). */
	("ALTER TABLE versions ADD COLUMN nsegs INTEGER NOT NULL DEFAULT 0"
	"  CHECK (nsegs >= 0);"
	"ALTER TABLE mp_parts ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE segments ("
	"  version_id   TEXT NOT NULL REFERENCES versions(version_id)"
	"               ON DELETE CASCADE,"
	"  n            INTEGER NOT NULL CHECK (n >= 0),"
	"  blob_id      TEXT NOT NULL,"
	"  size         INTEGER NOT NULL CHECK (size >= 0),"
	"  sealed_as    TEXT NOT NULL,"
	"  kek_id       TEXT NOT NULL,"
	"  wrapped_dek  BLOB NOT NULL,"
	"  UNIQUE (version_id, n)"
	");"
	"CREATE INDEX segments_by_blob ON segments(blob_id)"
	"  WHERE blob_id <> '';"),
	/* ---- end: complete by reference ---- */
	/* ---- begin: completed upload ids ---- */
	/* 23 -> 24: the id of the multipart upload a version was completed
	 * from, so that a retried CompleteMultipartUpload (its first answer
	 * lost) is answered with that version, as S3 does; kept as long as
	 * the version is.  And the x-amz-checksum-* a part carried
	 * ("ALG:BASE64", as versions.checksum; '' for none), of which the
	 * Complete makes S3's composite checksum. */
	("CREATE TABLE mp_completed ("
	"  upload_id    TEXT PRIMARY KEY,"
	"  version_id   TEXT NOT NULL REFERENCES versions(version_id)"
	"               ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"CREATE INDEX mp_completed_by_version ON mp_completed(version_id);"
	"ALTER TABLE mp_parts ADD COLUMN checksum TEXT NOT NULL DEFAULT '';"),
	/* ---- end: completed upload ids ---- */
	/* ---- begin: multipart checksums ---- */
	/* 24 -> 25: the checksum an upload declared at its creation
	 * (x-amz-checksum-algorithm and -type: "ALG:TYPE", '' for none),
	 * which its parts carry and its object gets. */
	"ALTER TABLE mp_uploads ADD COLUMN checksum TEXT NOT NULL"
	"  DEFAULT '';",
	/* ---- end: multipart checksums ---- */
	/* ---- begin: parts after completion ---- */
	/* 25 -> 26: a segment remembers the S3 part it was (its part
	 * number, and the checksum it carried: "ALG:BASE64", '' for
	 * none), so that GetObject partNumber=N and GetObjectAttributes
	 * answer for the part after the Complete.  0: a segment completed
	 * before this step (read as its position, n + 1). */
	("ALTER TABLE segments ADD COLUMN part_number INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (part_number >= 0 AND part_number <= 10000);"
	"ALTER TABLE segments ADD COLUMN checksum TEXT NOT NULL"
	"  DEFAULT '';"),
	/* ---- end: parts after completion ---- */
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

#define MPCOLS \
	"id, ns_id, key, content_type, content_encoding, user_meta," \
	" created_by, created_us, checksum"
#define VCOLS \
	"v.version_id, n.name, v.key, v.seq, v.delete_marker, v.blob_id," \
	" v.size, v.sha256, v.content_type, v.user_meta, v.created_by," \
	" v.created_us, v.kek_id, v.wrapped_dek, v.md5, v.sealed_as," \
	" v.content_encoding, v.checksum, v.s3_null, v.s3_hidden," \
	" n.versioning, v.nsegs"
#define BCOLS \
	"b.principal_id, p.name, b.role, b.ns, b.expires_us"
#define TCOLS \
	"id, principal_id, hash, description, created_us, expires_us," \
	" revoked_us, last_used_us, kind, mfa_at_us, scope"
#define S3KCOLS \
	"id, principal_id, kek_id, wrapped, description, created_us," \
	" expires_us, revoked_us"
#define POLCOLS \
	"p.name, ifnull(n.name, ''), p.version, p.deleted, p.sha256," \
	" p.created_by, p.created_us, p.size"
#define POLFROM \
	" FROM policies p LEFT JOIN namespaces n ON n.id = p.ns_id"
/* The latest version of p's set (a correlated subquery on the key). */
#define POLLATEST \
	" p.version = (SELECT max(q.version) FROM policies q" \
	" WHERE ifnull(q.ns_id, 0) = ifnull(p.ns_id, 0) AND q.name = p.name)"
#define PCOLS	"id, name, kind, created_us, disabled, password_hash <> ''," \
	" mfa_required, owner_id, provisioned, oidc_adoptable"

enum {
	ST_BEGIN_W, ST_BEGIN_R, ST_COMMIT, ST_ROLLBACK,
	ST_NS_INSERT, ST_NS_GET, ST_NS_ID, ST_NS_LIST, ST_NS_HAS_LIVE,
	ST_NS_BLOBS, ST_NS_DEL_LIVE, ST_NS_DEL_VERSIONS, ST_NS_DEL_BINDINGS,
	ST_NS_DEL, ST_NS_SET_SENS,
	ST_V_INSERT, ST_LIVE_UPSERT, ST_LIVE_DEL, ST_V_LATEST, ST_V_GET,
	ST_V_LIST, ST_OBJ_LIST, ST_V_BLOB_REF,
	ST_P_INSERT, ST_P_GET, ST_P_GET_ID, ST_P_LIST, ST_P_COUNT,
	ST_T_INSERT, ST_T_FIND, ST_T_GET, ST_T_USED, ST_T_TOUCH, ST_T_REVOKE,
	ST_T_LIST_ALL, ST_T_LIST_P, ST_T_REVOKE_SESS,
	ST_B_ADD, ST_B_REMOVE, ST_B_REMOVE_EXPIRED, ST_B_LIST, ST_B_LIST_P,
	ST_B_LIST_PU,
	ST_B_LIST_NS, ST_B_LIST_P_NS,
	ST_P_SET_DISABLED, ST_P_SET_MFAREQ, ST_P_SET_PW, ST_P_GET_PW,
	ST_T_SET_MFA,
	ST_MFA_PUT, ST_MFA_GET, ST_MFA_ENABLE, ST_MFA_DEL, ST_MFA_STEP,
	ST_RC_DEL, ST_RC_ADD, ST_RC_LIST, ST_RC_USE,
	ST_AF_GET, ST_AF_PUT, ST_AF_DEL,
	ST_ROLE_SET, ST_ROLE_GET,
	ST_L_GET, ST_L_INSERT, ST_L_DEL, ST_L_LIST, ST_P_ADOPT, ST_P_NOADOPT,
	ST_POL_LATEST, ST_POL_GET, ST_POL_HIST, ST_POL_INSERT, ST_POL_COUNT,
	ST_POL_LIST, ST_NS_DEL_POLICIES, ST_POL_COUNT_NS, ST_POL_GEN, ST_DGEN,
	ST_P_REHASH,
	ST_A_GET, ST_A_PUT, ST_A_DEL, ST_A_COUNT, ST_P_EXISTS,
	ST_LB_GET, ST_LB_GET_NS, ST_LB_PUT, ST_LB_DEL, ST_LB_COUNT,
	ST_NS_EXISTS, ST_LIVE_GET,
	ST_S3K_INSERT, ST_S3K_GET, ST_S3K_REVOKE, ST_S3K_LIST_ALL,
	ST_S3K_LIST_P,
	ST_BG_INSERT, ST_BG_GET, ST_BG_LIST, ST_BG_ACTIVE, ST_BG_ANY,
	ST_BG_REVOKE,
	ST_PR_INSERT, ST_PR_GET, ST_PR_LIST, ST_PR_APPROVERS,
	ST_PR_APPROVE, ST_PR_COUNT, ST_PR_DONE, ST_PR_CLOSE,
	ST_MP_INSERT, ST_MP_GET, ST_MP_DEL, ST_MP_PART_OLD, ST_MP_PART_PUT,
	ST_MP_PARTS, ST_MP_LIST_NS, ST_MP_LIST_OLD,
	ST_KEK_COUNT_V, ST_KEK_COUNT_M, ST_KEK_NOT_V, ST_KEK_NOT_M,
	ST_KEK_SET_V, ST_KEK_SET_M, ST_KEK_COUNT_S, ST_KEK_NOT_S, ST_KEK_SET_S,
	ST_KEK_COUNT_P,
	ST_KEY_NEXT, ST_V_LIST_ID,
	ST_V_NULL,
	ST_SEG_INSERT, ST_SEG_LIST, ST_SEG_IS_PART,
	ST_KEK_COUNT_G, ST_KEK_NOT_G, ST_KEK_SET_G,
	ST_MPD_PUT, ST_MPD_GET,
	ST_NS_NVERSIONS,
	ST__COUNT
};

#define BGCOLS \
	"b.id, b.principal_id, p.name, n.name, b.reason, b.created_us," \
	" b.expires_us, b.revoked_us, b.revoked_by FROM breakglass b" \
	" JOIN principals p ON p.id = b.principal_id" \
	" JOIN namespaces n ON n.id = b.ns_id"

#define PRCOLS \
	"p.id, p.src_ns, p.src_name, p.src_artifact_id, p.src_number," \
	" n.name, p.requester, p.reason, p.required, p.state, p.created_us," \
	" p.expires_us, p.closed_us, p.closed_by, p.dst_number" \
	" FROM promotions p" \
	" JOIN namespaces n ON n.id = p.dst_ns_id"

static const char *const stmt_sql[ST__COUNT] = {
	/* Wrapped keys by KEK (key rotation): delete markers wrap no key,
	 * nor do erased versions (kek_id CF_KEK_ERASED). */
	[ST_KEK_COUNT_V] = "SELECT kek_id, count(*) FROM versions"
	    " WHERE delete_marker = 0 AND kek_id <> '" CF_KEK_ERASED "'"
	    " AND kek_id <> '" CF_KEK_SEGMENTS "'"
	    " GROUP BY kek_id ORDER BY kek_id",
	/* A segmented version's keys are its segments' (nsegs > 0). */
	[ST_KEK_COUNT_G] = "SELECT kek_id, count(*) FROM segments"
	    " WHERE kek_id <> '" CF_KEK_ERASED "'"
	    " GROUP BY kek_id ORDER BY kek_id",
	[ST_KEK_NOT_G] = "SELECT rowid, version_id, n, kek_id, wrapped_dek"
	    " FROM segments WHERE rowid > ?1 AND kek_id <> ?2"
	    " AND kek_id <> '" CF_KEK_ERASED "' ORDER BY rowid LIMIT ?3",
	[ST_KEK_SET_G] = "UPDATE segments SET kek_id = ?4, wrapped_dek = ?5"
	    " WHERE version_id = ?1 AND n = ?2 AND kek_id = ?3"
	    " AND wrapped_dek = ?6",
	[ST_KEK_COUNT_M] = "SELECT kek_id, count(*) FROM mfa GROUP BY kek_id"
	    " ORDER BY kek_id",
	/* By seq from a cursor: a pass reads the table once, O(n). */
	[ST_KEK_NOT_V] = "SELECT seq, version_id, kek_id, wrapped_dek"
	    " FROM versions WHERE seq > ?1 AND delete_marker = 0"
	    " AND kek_id <> ?2 AND kek_id <> '" CF_KEK_ERASED "'"
	    " AND kek_id <> '" CF_KEK_SEGMENTS "' ORDER BY seq LIMIT ?3",
	[ST_KEK_NOT_M] = "SELECT principal_id, kek_id, wrapped FROM mfa"
	    " WHERE principal_id > ?1 AND kek_id <> ?2 ORDER BY principal_id"
	    " LIMIT ?3",
	/* Compare and set: a row changed meanwhile is left alone. */
	[ST_KEK_SET_V] = "UPDATE versions SET kek_id = ?3, wrapped_dek = ?4"
	    " WHERE version_id = ?1 AND kek_id = ?2 AND wrapped_dek = ?5",
	[ST_KEK_SET_M] = "UPDATE mfa SET kek_id = ?3, wrapped = ?4"
	    " WHERE principal_id = ?1 AND kek_id = ?2 AND wrapped = ?5",
	/* S3 secrets, revoked ones too (a retired KEK must not leave a row
	 * that no longer unwraps); the cursor is the rowid. */
	[ST_KEK_COUNT_S] = "SELECT kek_id, count(*) FROM s3_keys"
	    " GROUP BY kek_id ORDER BY kek_id",
	[ST_KEK_COUNT_P] = "SELECT kek_id, count(*) FROM mp_parts"
	    " GROUP BY kek_id ORDER BY kek_id",
	[ST_KEK_NOT_S] = "SELECT rowid, id, principal_id, kek_id, wrapped"
	    " FROM s3_keys WHERE rowid > ?1 AND kek_id <> ?2 ORDER BY rowid"
	    " LIMIT ?3",
	[ST_KEK_SET_S] = "UPDATE s3_keys SET kek_id = ?3, wrapped = ?4"
	    " WHERE id = ?1 AND kek_id = ?2 AND wrapped = ?5",
	[ST_PR_INSERT] = "INSERT INTO promotions(id, src_ns, src_name,"
	    " src_artifact_id, src_number, dst_ns_id, requester, reason,"
	    " required, state, created_us, expires_us) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10, ?11)",
	[ST_PR_GET] = "SELECT " PRCOLS " WHERE p.id = ?1",
	[ST_PR_LIST] = "SELECT " PRCOLS " ORDER BY p.created_us DESC, p.id"
	    " LIMIT ?1",
	[ST_PR_APPROVERS] = "SELECT principal FROM promotion_approvals"
	    " WHERE promotion_id = ?1 ORDER BY at_us, principal",
	[ST_PR_APPROVE] = "INSERT INTO promotion_approvals(promotion_id,"
	    " principal, at_us) VALUES (?1, ?2, ?3)",
	[ST_PR_COUNT] = "SELECT count(*) FROM promotion_approvals"
	    " WHERE promotion_id = ?1",
	[ST_PR_DONE] = "UPDATE promotions SET state = 'completed',"
	    " closed_us = ?2, closed_by = ?3, dst_number = ?4"
	    " WHERE id = ?1 AND state = 'open'",
	[ST_PR_CLOSE] = "UPDATE promotions SET state = ?2, closed_us = ?3,"
	    " closed_by = ?4 WHERE id = ?1 AND state = 'open'",
	[ST_BG_INSERT] = "INSERT INTO breakglass(id, principal_id, ns_id,"
	    " reason, created_us, expires_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_BG_GET] = "SELECT " BGCOLS " WHERE b.id = ?1",
	[ST_BG_LIST] = "SELECT " BGCOLS " WHERE (?1 < 0 OR b.principal_id = ?1)"
	    " AND (?2 = 0 OR (b.revoked_us = 0 AND b.expires_us > ?2))"
	    " ORDER BY b.created_us DESC, b.id",
	[ST_BG_ACTIVE] = "SELECT " BGCOLS " WHERE b.principal_id = ?1"
	    " AND b.revoked_us = 0 AND b.expires_us > ?2"
	    " ORDER BY b.created_us DESC, b.id",
	[ST_BG_ANY] = "SELECT 1 FROM breakglass WHERE principal_id = ?1"
	    " AND revoked_us = 0 AND expires_us > ?2 LIMIT 1",
	[ST_BG_REVOKE] = "UPDATE breakglass SET revoked_us = ?2,"
	    " revoked_by = ?3 WHERE id = ?1 AND revoked_us = 0",
	[ST_BEGIN_W] = "BEGIN IMMEDIATE",
	[ST_BEGIN_R] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_NS_INSERT] = "INSERT INTO namespaces(name, env, created_by,"
	    " created_us, sensitivity, versioning)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_NS_GET] = "SELECT name, env, created_by, created_us, sensitivity,"
	    " id, retain_days, purge_days, versioning FROM namespaces"
	    " WHERE name = ?1",
	[ST_NS_ID] = "SELECT id FROM namespaces WHERE name = ?1",
	[ST_NS_LIST] = "SELECT name, env, created_by, created_us, sensitivity,"
	    " id, retain_days, purge_days, versioning FROM namespaces"
	    " ORDER BY name",
	[ST_NS_SET_SENS] = "UPDATE namespaces SET sensitivity = ?2"
	    " WHERE name = ?1",
	[ST_NS_HAS_LIVE] = "SELECT 1 FROM live WHERE ns_id = ?1 LIMIT 1",
	[ST_NS_BLOBS] = "SELECT blob_id FROM versions WHERE ns_id = ?1"
	    " AND delete_marker = 0 AND blob_id <> ''"
	    " UNION SELECT s.blob_id FROM versions v JOIN segments s"
	    " ON s.version_id = v.version_id WHERE v.ns_id = ?1"
	    " AND v.nsegs > 0 AND s.blob_id <> ''",
	[ST_NS_DEL_LIVE] = "DELETE FROM live WHERE ns_id = ?1",
	[ST_NS_DEL_VERSIONS] = "DELETE FROM versions WHERE ns_id = ?1",
	[ST_NS_DEL_BINDINGS] = "DELETE FROM bindings WHERE ns = ?1",
	[ST_NS_DEL] = "DELETE FROM namespaces WHERE id = ?1",
	[ST_V_INSERT] = "INSERT INTO versions(version_id, ns_id, key,"
	    " delete_marker, blob_id, size, sha256, content_type, user_meta,"
	    " created_by, created_us, kek_id, wrapped_dek, md5, sealed_as,"
	    " content_encoding, checksum, nsegs) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
	[ST_SEG_INSERT] = "INSERT INTO segments(version_id, n, blob_id, size,"
	    " sealed_as, kek_id, wrapped_dek, part_number, checksum)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_SEG_LIST] = "SELECT n, blob_id, size, sealed_as, kek_id,"
	    " wrapped_dek, part_number, checksum FROM segments"
	    " WHERE version_id = ?1 ORDER BY n",
	/* SEC: a segment must be, in the completing transaction, a part of
	 * the upload as read (a part replaced meanwhile has its blob
	 * deleted by its replacement). */
	[ST_SEG_IS_PART] = "SELECT 1 FROM mp_parts WHERE upload_id = ?1"
	    " AND part_id = ?2 AND blob_id = ?3 AND size = ?4",
	[ST_LIVE_UPSERT] = "INSERT INTO live(ns_id, key, seq)"
	    " VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (ns_id, key) DO UPDATE SET seq = excluded.seq",
	[ST_LIVE_DEL] = "DELETE FROM live WHERE ns_id = ?1 AND key = ?2",
	[ST_V_LATEST] = "SELECT " VCOLS " FROM namespaces n"
	    " JOIN versions v ON v.ns_id = n.id"
	    " WHERE n.name = ?1 AND v.key = ?2 ORDER BY v.seq DESC LIMIT 1",
	[ST_V_GET] = "SELECT " VCOLS " FROM namespaces n"
	    " JOIN versions v ON v.ns_id = n.id"
	    " WHERE n.name = ?1 AND v.key = ?2 AND v.version_id = ?3",
	[ST_V_LIST] = "SELECT " VCOLS " FROM namespaces n"
	    " JOIN versions v ON v.ns_id = n.id"
	    " WHERE n.name = ?1 AND v.key = ?2 ORDER BY v.seq DESC",
	[ST_KEY_NEXT] = "SELECT key FROM versions"
	    " WHERE ns_id = ?1 AND key >= ?2 ORDER BY key LIMIT 1",
	/* S3's null version of a key: the newest one in S3's view. */
	[ST_V_NULL] = "SELECT " VCOLS " FROM namespaces n"
	    " JOIN versions v ON v.ns_id = n.id"
	    " WHERE n.name = ?1 AND v.key = ?2 AND v.s3_null > 0"
	    " AND v.s3_hidden = 0 ORDER BY v.seq DESC LIMIT 1",
	[ST_V_LIST_ID] = "SELECT " VCOLS " FROM versions v"
	    " JOIN namespaces n ON n.id = v.ns_id"
	    " WHERE v.ns_id = ?1 AND v.key = ?2 ORDER BY v.seq DESC",
	[ST_OBJ_LIST] = "SELECT " VCOLS " FROM live l"
	    " JOIN versions v ON v.seq = l.seq"
	    " JOIN namespaces n ON n.id = l.ns_id"
	    " WHERE l.ns_id = ?1 AND l.key >= ?2 ORDER BY l.key",
	/* "blob_id <> ''" lets SQLite use the partial index. */
	[ST_V_BLOB_REF] = "SELECT 1 FROM versions"
	    " WHERE blob_id = ?1 AND blob_id <> ''"
	    " UNION ALL SELECT 1 FROM mp_parts WHERE blob_id = ?1"
	    " UNION ALL SELECT 1 FROM segments"
	    " WHERE blob_id = ?1 AND blob_id <> '' LIMIT 1",
	[ST_P_INSERT] = "INSERT INTO principals(name, kind, created_us,"
	    " disabled, owner_id, provisioned, mfa_required)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_P_GET] = "SELECT " PCOLS " FROM principals WHERE name = ?1",
	[ST_P_GET_ID] = "SELECT " PCOLS " FROM principals WHERE id = ?1",
	[ST_P_LIST] = "SELECT " PCOLS " FROM principals ORDER BY name",
	[ST_P_COUNT] = "SELECT count(*) FROM principals",
	[ST_T_INSERT] = "INSERT INTO tokens(" TCOLS ") VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_T_FIND] = "SELECT " TCOLS " FROM tokens WHERE hash = ?1",
	[ST_T_GET] = "SELECT " TCOLS " FROM tokens WHERE id = ?1",
	[ST_T_USED] = "SELECT last_used_us FROM tokens WHERE id = ?1",
	[ST_T_TOUCH] = "UPDATE tokens SET last_used_us ="
	    " max(last_used_us, ?2) WHERE id = ?1",
	[ST_T_REVOKE] = "UPDATE tokens SET revoked_us = ?2"
	    " WHERE id = ?1 AND revoked_us = 0",
	[ST_T_LIST_ALL] = "SELECT " TCOLS " FROM tokens ORDER BY id",
	[ST_T_REVOKE_SESS] = "UPDATE tokens SET revoked_us = ?2"
	    " WHERE principal_id = ?1 AND kind = 'session' AND revoked_us = 0"
	    " AND id <> ?3",
	[ST_T_LIST_P] = "SELECT " TCOLS " FROM tokens"
	    " WHERE principal_id = ?1 ORDER BY id",
	/* Granting again sets the expiry the grant names (none: none). */
	[ST_B_ADD] = "INSERT INTO bindings(principal_id, role, ns, expires_us)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE"
	    " SET expires_us = excluded.expires_us",
	[ST_B_REMOVE_EXPIRED] = "DELETE FROM bindings"
	    " WHERE principal_id = ?1 AND role = ?2 AND ns = ?3"
	    " AND expires_us <> 0 AND expires_us <= ?4",
	[ST_B_REMOVE] = "DELETE FROM bindings"
	    " WHERE principal_id = ?1 AND role = ?2 AND ns = ?3",
	/* One statement per case, so that each is an index search (an
	 * "?1 < 0 OR" in one statement made every authentication scan the
	 * whole table): all, by principal (the primary key), by namespace
	 * (bindings_by_ns), by both. */
	[ST_B_LIST] = "SELECT " BCOLS
	    " FROM bindings b JOIN principals p ON p.id = b.principal_id"
	    " ORDER BY p.name, b.ns, b.role",
	[ST_B_LIST_PU] = "SELECT " BCOLS
	    " FROM bindings b JOIN principals p ON p.id = b.principal_id"
	    " WHERE b.principal_id = ?1",
	[ST_B_LIST_P] = "SELECT " BCOLS
	    " FROM bindings b JOIN principals p ON p.id = b.principal_id"
	    " WHERE b.principal_id = ?1"
	    " ORDER BY b.ns, b.role",
	[ST_B_LIST_NS] = "SELECT " BCOLS
	    " FROM bindings b JOIN principals p ON p.id = b.principal_id"
	    " WHERE b.ns = ?2"
	    " ORDER BY p.name, b.role",
	[ST_B_LIST_P_NS] = "SELECT " BCOLS
	    " FROM bindings b JOIN principals p ON p.id = b.principal_id"
	    " WHERE b.principal_id = ?1 AND b.ns = ?2"
	    " ORDER BY b.role",
	[ST_P_SET_DISABLED] = "UPDATE principals SET disabled = ?2"
	    " WHERE id = ?1",
	[ST_P_SET_MFAREQ] = "UPDATE principals SET mfa_required = ?2"
	    " WHERE id = ?1",
	[ST_P_SET_PW] = "UPDATE principals SET password_hash = ?2"
	    " WHERE id = ?1",
	[ST_P_GET_PW] = "SELECT password_hash FROM principals WHERE id = ?1",
	[ST_P_REHASH] = "UPDATE principals SET password_hash = ?3"
	    " WHERE id = ?1 AND password_hash = ?2",
	[ST_T_SET_MFA] = "UPDATE tokens SET mfa_at_us = ?2 WHERE id = ?1",
	[ST_MFA_PUT] = "INSERT OR REPLACE INTO mfa(principal_id, kek_id,"
	    " wrapped, enabled, last_step, created_us)"
	    " VALUES (?1, ?2, ?3, 0, -1, ?4)",
	[ST_MFA_GET] = "SELECT principal_id, kek_id, wrapped, enabled,"
	    " last_step, created_us FROM mfa WHERE principal_id = ?1",
	[ST_MFA_ENABLE] = "UPDATE mfa SET enabled = 1 WHERE principal_id = ?1",
	[ST_MFA_DEL] = "DELETE FROM mfa WHERE principal_id = ?1",
	[ST_MFA_STEP] = "UPDATE mfa SET last_step = ?2"
	    " WHERE principal_id = ?1 AND last_step < ?2",
	[ST_RC_DEL] = "DELETE FROM recovery_codes WHERE principal_id = ?1",
	[ST_RC_ADD] = "INSERT INTO recovery_codes(principal_id, hash)"
	    " VALUES (?1, ?2)",
	[ST_RC_LIST] = "SELECT hash FROM recovery_codes"
	    " WHERE principal_id = ?1 AND used_us = 0 ORDER BY hash",
	[ST_RC_USE] = "UPDATE recovery_codes SET used_us = ?3"
	    " WHERE principal_id = ?1 AND hash = ?2 AND used_us = 0",
	[ST_AF_GET] = "SELECT count, last_us, locked_until_us"
	    " FROM auth_failures WHERE key = ?1",
	[ST_AF_PUT] = "INSERT OR REPLACE INTO auth_failures(key, count,"
	    " last_us, locked_until_us) VALUES (?1, ?2, ?3, ?4)",
	[ST_AF_DEL] = "DELETE FROM auth_failures WHERE key = ?1",
	[ST_ROLE_SET] = "INSERT OR REPLACE INTO role_settings(role,"
	    " mfa_required) VALUES (?1, ?2)",
	[ST_ROLE_GET] = "SELECT mfa_required FROM role_settings"
	    " WHERE role = ?1",
	[ST_L_GET] = "SELECT principal_id FROM oidc_links"
	    " WHERE issuer = ?1 AND subject = ?2",
	[ST_L_INSERT] = "INSERT INTO oidc_links(issuer, subject, principal_id,"
	    " created_us) VALUES (?1, ?2, ?3, ?4)",
	[ST_L_DEL] = "DELETE FROM oidc_links"
	    " WHERE issuer = ?1 AND subject = ?2 AND principal_id = ?3",
	[ST_L_LIST] = "SELECT issuer, subject, principal_id, created_us"
	    " FROM oidc_links WHERE (?1 < 0 OR principal_id = ?1)"
	    " ORDER BY principal_id, issuer, subject",
	/* SEC: re-checked in the linking transaction: a password, an MFA
	 * enrollment or a disable since the upgrade ends adoptability. */
	[ST_P_ADOPT] = "UPDATE principals SET oidc_adoptable = 0"
	    " WHERE id = ?1 AND oidc_adoptable = 1 AND provisioned = 1"
	    " AND kind = 'user' AND disabled = 0 AND password_hash = ''"
	    " AND NOT EXISTS (SELECT 1 FROM mfa WHERE principal_id = ?1)",
	[ST_P_NOADOPT] = "UPDATE principals SET oidc_adoptable = 0"
	    " WHERE id = ?1",
	/* Policy sets: ?1 is the scope (a namespace id, 0 global). */
	[ST_POL_LATEST] = "SELECT " POLCOLS ", p.text" POLFROM
	    " WHERE ifnull(p.ns_id, 0) = ?1 AND p.name = ?2"
	    " ORDER BY p.version DESC LIMIT 1",
	[ST_POL_GET] = "SELECT " POLCOLS ", p.text" POLFROM
	    " WHERE ifnull(p.ns_id, 0) = ?1 AND p.name = ?2"
	    " AND p.version = ?3",
	[ST_POL_HIST] = "SELECT " POLCOLS POLFROM
	    " WHERE ifnull(p.ns_id, 0) = ?1 AND p.name = ?2"
	    " ORDER BY p.version DESC",
	[ST_POL_INSERT] = "INSERT INTO policies(name, ns_id, version,"
	    " deleted, text, sha256, created_by, created_us, size)"
	    " VALUES (?1, nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_POL_COUNT] = "SELECT count(*) FROM policies p"
	    " WHERE ifnull(p.ns_id, 0) = ?1 AND p.deleted = 0 AND" POLLATEST,
	[ST_POL_GEN] = "SELECT count(*), ifnull(max(id), 0) FROM policies",
	[ST_DGEN] = "SELECT gen FROM decision_gen WHERE id = 1",
	[ST_POL_COUNT_NS] = "SELECT count(*) FROM policies p"
	    " WHERE p.ns_id IS NOT NULL AND p.deleted = 0 AND" POLLATEST,
	/* ?1 < 0: every scope; ?2: with the text. */
	[ST_POL_LIST] = "SELECT " POLCOLS ","
	    " CASE WHEN ?2 THEN p.text ELSE '' END" POLFROM
	    " WHERE (?1 < 0 OR ifnull(p.ns_id, 0) = ?1) AND p.deleted = 0"
	    " AND" POLLATEST " ORDER BY ifnull(n.name, ''), p.name",
	[ST_NS_DEL_POLICIES] = "DELETE FROM policies"
	    " WHERE ifnull(ns_id, 0) = ?1",
	[ST_A_GET] = "SELECT name, value FROM principal_attrs"
	    " WHERE principal_id = ?1 ORDER BY name",
	[ST_A_PUT] = "INSERT INTO principal_attrs(principal_id, name, value)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (principal_id, name)"
	    " DO UPDATE SET value = excluded.value"
	    " WHERE value IS NOT excluded.value",
	[ST_A_DEL] = "DELETE FROM principal_attrs"
	    " WHERE principal_id = ?1 AND name = ?2",
	[ST_A_COUNT] = "SELECT count(*) FROM principal_attrs"
	    " WHERE principal_id = ?1",
	[ST_P_EXISTS] = "SELECT 1 FROM principals WHERE id = ?1",
	[ST_LB_GET] = "SELECT name, value FROM labels"
	    " WHERE ns_id = ?1 AND key = ?2 ORDER BY name",
	[ST_LB_GET_NS] = "SELECT l.name, l.value FROM namespaces n"
	    " JOIN labels l ON l.ns_id = n.id"
	    " WHERE n.name = ?1 AND l.key = ?2 ORDER BY l.name",
	[ST_LB_PUT] = "INSERT INTO labels(ns_id, key, name, value)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ns_id, key, name)"
	    " DO UPDATE SET value = excluded.value"
	    " WHERE value IS NOT excluded.value",
	[ST_LB_DEL] = "DELETE FROM labels"
	    " WHERE ns_id = ?1 AND key = ?2 AND name = ?3",
	[ST_LB_COUNT] = "SELECT count(*) FROM labels"
	    " WHERE ns_id = ?1 AND key = ?2",
	[ST_NS_EXISTS] = "SELECT 1 FROM namespaces WHERE id = ?1",
	[ST_LIVE_GET] = "SELECT 1 FROM live WHERE ns_id = ?1 AND key = ?2",
	[ST_MP_INSERT] = "INSERT INTO mp_uploads(id, ns_id, key, content_type,"
	    " content_encoding, user_meta, created_by, created_us, checksum)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_MP_GET] = "SELECT " MPCOLS " FROM mp_uploads WHERE id = ?1",
	[ST_MP_DEL] = "DELETE FROM mp_uploads WHERE id = ?1",
	[ST_MP_PART_OLD] = "SELECT blob_id FROM mp_parts"
	    " WHERE upload_id = ?1 AND number = ?2",
	[ST_MP_PART_PUT] = "INSERT OR REPLACE INTO mp_parts(upload_id, number,"
	    " part_id, blob_id, size, md5, kek_id, wrapped_dek, created_us,"
	    " sha256, checksum) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11 WHERE EXISTS (SELECT 1 FROM mp_uploads WHERE id = ?1)",
	[ST_MP_PARTS] = "SELECT upload_id, number, part_id, blob_id, size, md5,"
	    " kek_id, wrapped_dek, created_us, sha256, checksum FROM mp_parts"
	    " WHERE upload_id = ?1 ORDER BY number",
	[ST_MP_LIST_NS] = "SELECT " MPCOLS " FROM mp_uploads WHERE ns_id = ?1"
	    " AND key >= ?2 ORDER BY key, id",
	[ST_MP_LIST_OLD] = "SELECT " MPCOLS " FROM mp_uploads"
	    " WHERE created_us < ?1 ORDER BY created_us",
	[ST_S3K_INSERT] = "INSERT INTO s3_keys(id, principal_id, kek_id,"
	    " wrapped, description, created_us, expires_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_S3K_GET] = "SELECT " S3KCOLS " FROM s3_keys WHERE id = ?1",
	[ST_S3K_REVOKE] = "UPDATE s3_keys SET revoked_us = ?2"
	    " WHERE id = ?1 AND revoked_us = 0",
	[ST_S3K_LIST_ALL] = "SELECT " S3KCOLS " FROM s3_keys ORDER BY"
	    " created_us, id",
	[ST_S3K_LIST_P] = "SELECT " S3KCOLS " FROM s3_keys"
	    " WHERE principal_id = ?1 ORDER BY created_us, id",
	[ST_MPD_PUT] = "INSERT INTO mp_completed(upload_id, version_id)"
	    " VALUES (?1, ?2)",
	[ST_MPD_GET] = "SELECT version_id FROM mp_completed"
	    " WHERE upload_id = ?1",
	[ST_NS_NVERSIONS] = "SELECT count(*) FROM versions WHERE ns_id = ?1"
	    " AND delete_marker = 0",
};

struct conn {
	sqlite3		*db;
	sqlite3_stmt	*st[ST__COUNT];
	struct conn	*next;
	/* Read scope (cf_meta_scope_begin): the thread's pinned connection
	 * and its one read transaction. */
	bool		 inuse;		/* handed out by pool_get */
	bool		 scope_tx;	/* the scope's BEGIN is open */
	unsigned	 nest;		/* tx_begin(read) inside it */
	bool		 dtouch;	/* changed decision_gen (dgen_hook) */
	/* Statements of the other store files (meta_int_prep), kept
	 * prepared for the connection's life. */
	struct sc_ent {
		const char	*sql;	/* the caller's text: the key */
		sqlite3_stmt	*st;
		bool		 inuse;	/* handed out, not yet unprep'd */
	}		 sc[SC_MAX];
	unsigned	 nsc;		/* entries of sc used */
	unsigned	 sc_next;	/* next one to evict when full */
};

/* The decision cache (cf_meta_ns_get_cached, cf_meta_role_mfa_cached):
 * an entry holds what one read found, stamped with the generation it
 * was read under; it serves only while the generation is unchanged. */
#define DC_SLOTS	4096		/* hash chains */
#define DC_MAX		65536		/* entries; then it starts over */

struct dc_ent {
	struct dc_ent	*next;
	uint64_t	 gen;
	bool		 found;
	char		 key[CF_NS_NAME_MAX + 2];	/* 'n' or 'r', then
							 * the name */
	struct cf_ns_rec ns;
	bool		 mfa;
};

struct cf_meta {
	char		*path;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct conn	*idle;		/* free list */
	size_t		 nopen;		/* idle + in use */
	/* The decision cache: dgen moves with every change of a namespace
	 * or a role setting committed through this process (dgen_hook,
	 * pool_put) or, polled, through another (cf_meta_cache_poll). */
	_Atomic uint64_t dgen;
	int64_t		 dgen_stored;	/* decision_gen.gen last polled */
	pthread_mutex_t	 dc_mu;
	struct dc_ent	*dc[DC_SLOTS];
	size_t		 dc_count;
};

static void	dc_clear_locked(struct cf_meta *m);

/* Map an SQLite result code to a cf_err and record what failed. */
static cf_err
db_err(sqlite3 *db, int src, struct cf_error *err, const char *what)
{
	cf_err		 code;
	const char	*msg;

	switch (src & 0xff) {
	case SQLITE_CONSTRAINT:
		if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
			code = CF_E_NOTFOUND;
		else
			code = CF_E_CONFLICT;
		break;
	case SQLITE_NOMEM:
		code = CF_E_NOMEM;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = CF_E_INTEGRITY;
		break;
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
	case SQLITE_PERM:
		code = CF_E_IO;
		break;
	default:
		code = CF_E_INTERNAL;
		break;
	}
	msg = db != NULL && sqlite3_errcode(db) == src ?
	    sqlite3_errmsg(db) : sqlite3_errstr(src);
	return cf_error_set(err, code, "meta: %s: %s", what, msg);
}

/* --- connections --- */

static void
conn_close(struct conn *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		(void)sqlite3_finalize(c->st[i]);
	for (i = 0; i < c->nsc; i++)
		(void)sqlite3_finalize(c->sc[i].st);
	(void)sqlite3_close_v2(c->db);
	cf_free(c);
}

/* A prepared statement for sql, kept for the next call with the same text
 * (compiling a query costs more than running it: a join of the artifact
 * tables took a quarter of a small GET's CPU).  Keyed by the caller's
 * pointer, confirmed by the text, so a text built at run time is no
 * risk; a statement in use is never handed out twice nor evicted. */
cf_err
meta_int_prep(struct conn *c, const char *sql, sqlite3_stmt **out,
    struct cf_error *err)
{
	struct sc_ent	*e = NULL;
	sqlite3_stmt	*st;
	unsigned	 i, k;
	int		 src;

	*out = NULL;
	for (i = 0; i < c->nsc; i++) {
		e = &c->sc[i];
		if (e->sql == sql && !e->inuse &&
		    strcmp(sqlite3_sql(e->st), sql) == 0) {
			e->inuse = true;
			*out = e->st;
			return CF_OK;
		}
	}
	src = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL);
	if (src != SQLITE_OK)
		return db_err(c->db, src, err, "prepare");
	e = NULL;
	if (c->nsc < SC_MAX)
		e = &c->sc[c->nsc++];
	else
		for (i = 0; i < SC_MAX && e == NULL; i++) {
			k = (c->sc_next + i) % SC_MAX;
			if (!c->sc[k].inuse) {
				e = &c->sc[k];
				(void)sqlite3_finalize(e->st);
				c->sc_next = (k + 1) % SC_MAX;
			}
		}
	if (e != NULL) {
		e->sql = sql;
		e->st = st;
		e->inuse = true;
	}
	/* else every entry is in use: st lives for this call only. */
	*out = st;
	return CF_OK;
}

/* meta_int_prep, then bind the arguments fmt names: 't' text (NULL: SQL
 * NULL), 'b' a string bound as a blob (NULL: SQL NULL), 'i' int64. */
cf_err
meta_int_prep_bind(struct conn *c, sqlite3_stmt **out, struct cf_error *err,
    const char *sql, const char *fmt, ...)
{
	sqlite3_stmt	*st = NULL;
	va_list		 ap;
	const char	*s;
	int		 b = SQLITE_OK, i;
	cf_err		 rc;

	rc = meta_int_prep(c, sql, &st, err);
	if (rc != CF_OK)
		return rc;
	va_start(ap, fmt);
	for (i = 0; fmt[i] != '\0' && b == SQLITE_OK; i++) {
		if (fmt[i] == 'i') {
			b = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			continue;
		}
		s = va_arg(ap, const char *);
		if (s == NULL)
			b = sqlite3_bind_null(st, i + 1);
		else if (fmt[i] == 'b')
			b = sqlite3_bind_blob(st, i + 1, s, (int)strlen(s),
			    SQLITE_TRANSIENT);
		else
			b = sqlite3_bind_text(st, i + 1, s, -1,
			    SQLITE_TRANSIENT);
	}
	va_end(ap);
	if (b != SQLITE_OK) {
		meta_int_unprep(c, st);
		return db_err(c->db, b, err, "bind");
	}
	*out = st;
	return CF_OK;
}

/* Done with a statement of meta_int_prep: reset for the next call, or
 * finalized if it was not kept.  NULL: no-op. */
void
meta_int_unprep(struct conn *c, sqlite3_stmt *st)
{
	unsigned	i;

	if (st == NULL)
		return;
	for (i = 0; i < c->nsc; i++)
		if (c->sc[i].st == st && c->sc[i].inuse) {
			(void)sqlite3_reset(st);
			(void)sqlite3_clear_bindings(st);
			c->sc[i].inuse = false;
			return;
		}
	(void)sqlite3_finalize(st);
}

static cf_err
conn_exec(struct conn *c, const char *sql, struct cf_error *err)
{
	int	src;

	src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if (src != SQLITE_OK)
		return db_err(c->db, src, err, "exec");
	return CF_OK;
}

/* SQLite's update hook: a write that changed the decision generation
 * (the triggers of migration 7 -> 8 update its row with every change of
 * a namespace or a role setting; the hook sees rows that triggers
 * write, and decision_gen is a rowid table). */
static void
dgen_hook(void *arg, int op, const char *db, const char *table,
    sqlite3_int64 rowid)
{
	struct conn	*c = arg;

	(void)op;
	(void)db;
	(void)rowid;
	if (strcmp(table, "decision_gen") == 0)
		c->dtouch = true;
}

static cf_err
conn_open(const char *path, struct conn **out, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*mode;
	int		 src;
	cf_err		 rc;

	c = cf_calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	/* NOMUTEX: a connection is used by one thread at a time (the pool
	 * hands it out), so SQLite's per-connection mutex is not needed. */
	src = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
	    NULL);
	if (src != SQLITE_OK) {
		rc = db_err(c->db, src, err, "open");
		goto out;
	}
	(void)sqlite3_extended_result_codes(c->db, 1);
	(void)sqlite3_busy_timeout(c->db, BUSY_MS);
	(void)sqlite3_update_hook(c->db, dgen_hook, c);
	/* SEC: defensive mode and untrusted schema: a tampered database
	 * file cannot make us run functions with side effects. */
	(void)sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    NULL);
	/* SEC: secure_delete overwrites freed content, so deleted token
	 * hashes and wrapped data keys (crypto-shredding) do not linger in
	 * free pages of the database file. */
	rc = conn_exec(c, "PRAGMA foreign_keys = ON;"
	    " PRAGMA synchronous = FULL;"
	    " PRAGMA secure_delete = ON;", err);
	if (rc != CF_OK)
		goto out;
	src = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "journal_mode");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		rc = cf_error_set(err, CF_E_IO,
		    "meta: %s: cannot use WAL journal mode", path);
		goto out;
	}
	*out = c;
	c = NULL;
	rc = CF_OK;
out:
	(void)sqlite3_finalize(st);
	conn_close(c);
	return rc;
}

/* The cached prepared statement id of c, reset and unbound. */
/* Statements run, by kind (unit tests count a decision's reads). */
static _Atomic unsigned long	stmt_runs[ST__COUNT];

unsigned long
cf_meta_test_reads(const char *what)
{
	if (strcmp(what, "ns") == 0)
		return atomic_load(&stmt_runs[ST_NS_GET]);
	if (strcmp(what, "attrs") == 0)
		return atomic_load(&stmt_runs[ST_A_GET]);
	if (strcmp(what, "labels") == 0)
		return atomic_load(&stmt_runs[ST_LB_GET]) +
		    atomic_load(&stmt_runs[ST_LB_GET_NS]);
	if (strcmp(what, "role") == 0)
		return atomic_load(&stmt_runs[ST_ROLE_GET]);
	if (strcmp(what, "bindings") == 0)
		return atomic_load(&stmt_runs[ST_B_LIST_P]) +
		    atomic_load(&stmt_runs[ST_B_LIST_PU]);
	return 0;
}

static cf_err
conn_stmt(struct conn *c, int id, sqlite3_stmt **out, struct cf_error *err)
{
	int	src;

	atomic_fetch_add_explicit(&stmt_runs[id], 1, memory_order_relaxed);

	if (c->st[id] == NULL) {
		src = sqlite3_prepare_v3(c->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
		if (src != SQLITE_OK)
			return db_err(c->db, src, err, "prepare");
	}
	/* A statement that writes, outside a write transaction, ends a
	 * read scope's transaction first: an upgrade of that snapshot fails
	 * once another connection has committed.  (BEGIN, COMMIT and the
	 * like count as read-only.) */
	if (c->scope_tx && !sqlite3_stmt_readonly(c->st[id])) {
		c->scope_tx = false;
		c->nest = 0;
		src = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
		if (src != SQLITE_OK)
			return db_err(c->db, src, err, "commit");
	}
	*out = c->st[id];
	return CF_OK;
}

static void
stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

/* Connections this thread holds: a callback that calls the store again
 * must not wait for a connection that only its own caller can return. */
static _Thread_local unsigned int held;

/* The connection pinned by this thread's read scope, of store pm. */
static _Thread_local struct conn	*pinned;
static _Thread_local struct cf_meta	*pinned_m;
static _Thread_local unsigned int	 scope_depth;

static cf_err
pool_get_any(struct cf_meta *m, bool scope, struct conn **out,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	/* In a read scope the pinned connection serves every call that
	 * does not nest inside another (a callback of a running query gets
	 * a connection of its own, as outside a scope). */
	if (scope && pinned != NULL && pinned_m == m && !pinned->inuse) {
		pinned->inuse = true;
		held++;
		*out = pinned;
		return CF_OK;
	}
	(void)pthread_mutex_lock(&m->mu);
	while (m->idle == NULL && m->nopen >= POOL_MAX && held == 0)
		(void)pthread_cond_wait(&m->cv, &m->mu);
	if (m->idle != NULL) {
		c = m->idle;
		m->idle = c->next;
		c->next = NULL;
		(void)pthread_mutex_unlock(&m->mu);
		held++;
		*out = c;
		return CF_OK;
	}
	m->nopen++;		/* reserve the slot, open unlocked */
	(void)pthread_mutex_unlock(&m->mu);

	rc = conn_open(m->path, &c, err);
	if (rc != CF_OK) {
		(void)pthread_mutex_lock(&m->mu);
		m->nopen--;
		(void)pthread_cond_signal(&m->cv);
		(void)pthread_mutex_unlock(&m->mu);
		return rc;
	}
	held++;
	*out = c;
	return CF_OK;
}

static cf_err
pool_get(struct cf_meta *m, struct conn **out, struct cf_error *err)
{
	return pool_get_any(m, true, out, err);
}

static void
pool_put(struct cf_meta *m, struct conn *c)
{
	if (c == NULL)
		return;
	/* SEC: a change of what decisions cache, committed (or rolled
	 * back: harmless) on c, ends every entry read before it. */
	if (c->dtouch) {
		c->dtouch = false;
		(void)atomic_fetch_add(&m->dgen, 1);
	}
	if (c == pinned) {
		/* Stays pinned (and in its read transaction) for the
		 * rest of the scope. */
		c->inuse = false;
		held--;
		return;
	}
	/* A transaction left open by an error path must not leak into the
	 * next user of the connection. */
	if (sqlite3_get_autocommit(c->db) == 0)
		(void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	held--;
	(void)pthread_mutex_lock(&m->mu);
	if (m->nopen > POOL_MAX) {
		/* An overflow connection opened for a nested call. */
		m->nopen--;
		(void)pthread_mutex_unlock(&m->mu);
		conn_close(c);
		return;
	}
	c->next = m->idle;
	m->idle = c;
	(void)pthread_cond_signal(&m->cv);
	(void)pthread_mutex_unlock(&m->mu);
}

/* Run a statement without result rows (BEGIN, COMMIT, ...). */
static cf_err
run(struct conn *c, int id, const char *what, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = conn_stmt(c, id, &st, err);
	if (rc != CF_OK)
		return rc;
	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = db_err(c->db, src, err, what);
	stmt_done(st);
	return rc;
}

/* Inside a read scope a read transaction joins the scope's, and a write
 * transaction first ends it (the rest of the scope runs in autocommit
 * mode): a write never runs on a stale snapshot. */
static cf_err
tx_begin(struct conn *c, bool write, struct cf_error *err)
{
	cf_err	rc;

	if (c->scope_tx) {
		if (!write) {
			c->nest++;
			return CF_OK;
		}
		c->scope_tx = false;
		c->nest = 0;
		if ((rc = run(c, ST_COMMIT, "commit", err)) != CF_OK)
			return rc;
	}
	return run(c, write ? ST_BEGIN_W : ST_BEGIN_R, "begin", err);
}

static cf_err
tx_commit(struct conn *c, struct cf_error *err)
{
	if (c->scope_tx) {
		if (c->nest > 0)
			c->nest--;
		return CF_OK;
	}
	return run(c, ST_COMMIT, "commit", err);
}

static void
tx_rollback(struct conn *c)
{
	if (c->scope_tx) {
		/* A read ends with the scope; nothing to undo. */
		if (c->nest > 0)
			c->nest--;
		return;
	}
	if (sqlite3_get_autocommit(c->db) == 0)
		(void)run(c, ST_ROLLBACK, "rollback", NULL);
}

/* SEC: nothing is changed without an audit obligation (meta.h); checked
 * first, before anything is touched. */
static cf_err
audit_armed(const struct cf_meta_audit *au, struct cf_error *err)
{
	if (au == NULL || au->record == NULL)
		return cf_error_set(err, CF_E_INTERNAL,
		    "meta: a change without an audit obligation");
	return CF_OK;
}

/* Commit c's write transaction with its record: au->record runs inside
 * it, after the change, with the write lock held, and only its success
 * lets the COMMIT run.  On failure the caller rolls back (tx_rollback).
 * This is the one place a change is committed; every change goes through
 * it. */
static cf_err
tx_commit_audited(struct conn *c, const struct cf_meta_audit *au,
    struct cf_error *err)
{
	cf_err	rc;

	/* Our own invariants: an armed obligation (audit_armed ran) and an
	 * open write transaction, so that the record is inside it. */
	if (CF_NEVER(au == NULL || au->record == NULL) ||
	    CF_NEVER(c->scope_tx || sqlite3_get_autocommit(c->db) != 0))
		return cf_error_set(err, CF_E_INTERNAL,
		    "meta: a change outside an audited transaction");
	rc = au->record(au->arg, err);
	if (rc == CF_OK)
		rc = tx_commit(c, err);
	return rc;
}

/* Get a connection and begin an audited write transaction on it. */
static cf_err
wtx_begin(struct cf_meta *m, const struct cf_meta_audit *au,
    struct conn **out, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	if ((rc = audit_armed(au, err)) != CF_OK)
		return rc;
	if ((rc = pool_get(m, &c, err)) != CF_OK)
		return rc;
	if ((rc = tx_begin(c, true, err)) != CF_OK) {
		pool_put(m, c);
		return rc;
	}
	*out = c;
	return CF_OK;
}

/* End what wtx_begin began: with rc CF_OK, record and commit; otherwise
 * (or when that fails) roll back.  Returns the outcome. */
static cf_err
wtx_end(struct cf_meta *m, struct conn *c, const struct cf_meta_audit *au,
    cf_err rc, struct cf_error *err)
{
	if (rc == CF_OK)
		rc = tx_commit_audited(c, au, err);
	if (rc != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_scope_begin(struct cf_meta *m, struct cf_error *err)
{
	struct conn	*c;
	cf_err		 rc;

	if (pinned != NULL) {
		/* Nested: joins the open scope (of this store only). */
		if (pinned_m != m)
			return cf_error_set(err, CF_E_INTERNAL,
			    "meta: read scope of another store is open");
		scope_depth++;
		return CF_OK;
	}
	if ((rc = pool_get(m, &c, err)) != CF_OK)
		return rc;
	if ((rc = run(c, ST_BEGIN_R, "begin", err)) != CF_OK) {
		pool_put(m, c);
		return rc;
	}
	c->scope_tx = true;
	c->nest = 0;
	c->inuse = false;
	pinned = c;
	pinned_m = m;
	scope_depth = 1;
	return CF_OK;
}

void
cf_meta_scope_end(struct cf_meta *m)
{
	struct conn	*c = pinned;

	if (c == NULL || pinned_m != m || --scope_depth > 0)
		return;
	pinned = NULL;
	pinned_m = NULL;
	/* A write inside the scope (a best-effort token touch, say) is
	 * committed here; if that fails it is rolled back (pool_put). */
	if (c->scope_tx && run(c, ST_COMMIT, "commit", NULL) != CF_OK)
		log_warnx("meta: read scope: commit failed");
	c->scope_tx = false;
	c->nest = 0;
	c->inuse = false;
	pool_put(m, c);
}

/* --- validation and column helpers --- */

/* SEC: a string field must end within its array; the store never reads
 * past it and never truncates (CF_E_INPUT instead). */
static cf_err
check_field(const char *s, size_t cap, const char *what,
    struct cf_error *err)
{
	if (s == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: %s is NULL", what);
	if (memchr(s, '\0', cap) == NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: %s longer than %zu bytes", what, cap - 1);
	return CF_OK;
}

/* A caller's C string whose length must stay below cap. */
static cf_err
check_str(const char *s, size_t cap, const char *what, struct cf_error *err)
{
	if (s == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: %s is NULL", what);
	if (strnlen(s, cap) >= cap)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: %s longer than %zu bytes", what, cap - 1);
	return CF_OK;
}

static cf_err
col_str(sqlite3_stmt *st, int i, char *dst, size_t cap, struct cf_error *err)
{
	const void	*p;
	int		 n;

	if (sqlite3_column_type(st, i) == SQLITE_BLOB)
		p = sqlite3_column_blob(st, i);
	else
		p = sqlite3_column_text(st, i);
	n = sqlite3_column_bytes(st, i);
	if (p == NULL && n == 0 &&
	    sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	if (n < 0 || (size_t)n >= cap || (n > 0 && memchr(p, '\0', n) != NULL))
		return cf_error_set(err, CF_E_INTEGRITY,
		    "meta: stored string of %d bytes does not fit in %zu", n,
		    cap);
	if (n > 0)
		memcpy(dst, p, (size_t)n);
	dst[n] = '\0';
	return CF_OK;
}

static cf_err
col_bytes(sqlite3_stmt *st, int i, uint8_t *dst, size_t len,
    struct cf_error *err)
{
	const void	*p;
	int		 n;

	p = sqlite3_column_blob(st, i);
	n = sqlite3_column_bytes(st, i);
	if (p == NULL && n == 0 && len > 0 &&
	    sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	if (n < 0 || (size_t)n != len)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "meta: stored blob of %d bytes, expected %zu", n, len);
	if (len > 0)
		memcpy(dst, p, len);
	return CF_OK;
}

static cf_err	exec_on(struct conn *c, int id, int *changes,
		    struct cf_error *err, const char *fmt, ...);

static cf_err
read_version(sqlite3_stmt *st, struct cf_version_rec *v,
    struct cf_error *err)
{
	sqlite3_int64	size;
	cf_err		rc;

	memset(v, 0, sizeof(*v));
	rc = col_str(st, 0, v->version_id, sizeof(v->version_id), err);
	if (rc == CF_OK)
		rc = col_str(st, 1, v->ns, sizeof(v->ns), err);
	if (rc == CF_OK)
		rc = col_str(st, 2, v->key, sizeof(v->key), err);
	v->seq = sqlite3_column_int64(st, 3);
	v->delete_marker = sqlite3_column_int(st, 4) != 0;
	if (rc == CF_OK)
		rc = col_str(st, 5, v->blob_id, sizeof(v->blob_id), err);
	size = sqlite3_column_int64(st, 6);
	if (rc == CF_OK && size < 0)
		rc = cf_error_set(err, CF_E_INTEGRITY, "meta: negative size");
	v->size = (uint64_t)size;
	if (rc == CF_OK)
		rc = col_str(st, 7, v->sha256, sizeof(v->sha256), err);
	if (rc == CF_OK)
		rc = col_str(st, 8, v->content_type, sizeof(v->content_type),
		    err);
	if (rc == CF_OK)
		rc = col_str(st, 9, v->user_meta, sizeof(v->user_meta), err);
	if (rc == CF_OK)
		rc = col_str(st, 10, v->created_by, sizeof(v->created_by),
		    err);
	v->created_us = sqlite3_column_int64(st, 11);
	if (rc == CF_OK)
		rc = col_str(st, 12, v->kek_id, sizeof(v->kek_id), err);
	if (rc == CF_OK)
		rc = col_bytes(st, 13, v->wrapped_dek, sizeof(v->wrapped_dek),
		    err);
	if (rc == CF_OK)
		rc = col_str(st, 14, v->md5, sizeof(v->md5), err);
	if (rc == CF_OK)
		rc = col_str(st, 15, v->sealed_as, sizeof(v->sealed_as), err);
	if (rc == CF_OK)
		rc = col_str(st, 16, v->content_encoding,
		    sizeof(v->content_encoding), err);
	if (rc == CF_OK)
		rc = col_str(st, 17, v->checksum, sizeof(v->checksum), err);
	/* A null version reads as 1 while its namespace is unversioned
	 * (S3 then answers no version id for it), else 2 (S3 says
	 * "null"). */
	v->s3_null = sqlite3_column_int(st, 18) == 0 ? 0 :
	    sqlite3_column_text(st, 20) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 20),
	    "unversioned") == 0 ? 1 : 2;
	v->s3_hidden = sqlite3_column_int(st, 19) != 0;
	if (rc == CF_OK && (sqlite3_column_int64(st, 21) < 0 ||
	    sqlite3_column_int64(st, 21) > CF_SEGMENTS_MAX))
		rc = cf_error_set(err, CF_E_INTEGRITY, "meta: bad segment "
		    "count");
	v->nsegs = (uint32_t)sqlite3_column_int64(st, 21);
	return rc;
}

static cf_err
read_ns(sqlite3_stmt *st, struct cf_ns_rec *ns, struct cf_error *err)
{
	cf_err	rc;

	memset(ns, 0, sizeof(*ns));
	rc = col_str(st, 0, ns->name, sizeof(ns->name), err);
	if (rc == CF_OK)
		rc = col_str(st, 1, ns->env, sizeof(ns->env), err);
	if (rc == CF_OK)
		rc = col_str(st, 2, ns->created_by, sizeof(ns->created_by),
		    err);
	ns->created_us = sqlite3_column_int64(st, 3);
	if (rc == CF_OK)
		rc = col_str(st, 4, ns->sensitivity, sizeof(ns->sensitivity),
		    err);
	ns->id = sqlite3_column_int64(st, 5);
	ns->retain_days = sqlite3_column_int64(st, 6);
	ns->purge_days = sqlite3_column_int64(st, 7);
	if (rc == CF_OK)
		rc = col_str(st, 8, ns->versioning, sizeof(ns->versioning),
		    err);
	return rc;
}

static cf_err
read_principal(sqlite3_stmt *st, struct cf_principal_rec *p,
    struct cf_error *err)
{
	cf_err	rc;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	rc = col_str(st, 1, p->name, sizeof(p->name), err);
	if (rc == CF_OK)
		rc = col_str(st, 2, p->kind, sizeof(p->kind), err);
	p->created_us = sqlite3_column_int64(st, 3);
	p->disabled = sqlite3_column_int(st, 4) != 0;
	p->has_password = sqlite3_column_int(st, 5) != 0;
	p->mfa_required = sqlite3_column_int(st, 6) != 0;
	p->owner_id = sqlite3_column_int64(st, 7);
	p->provisioned = sqlite3_column_int(st, 8) != 0;
	p->oidc_adoptable = sqlite3_column_int(st, 9) != 0;
	return rc;
}

static cf_err
read_token(sqlite3_stmt *st, struct cf_token_rec *t, struct cf_error *err)
{
	cf_err	rc;

	memset(t, 0, sizeof(*t));
	rc = col_str(st, 0, t->id, sizeof(t->id), err);
	t->principal_id = sqlite3_column_int64(st, 1);
	if (rc == CF_OK)
		rc = col_bytes(st, 2, t->hash, sizeof(t->hash), err);
	if (rc == CF_OK)
		rc = col_str(st, 3, t->description, sizeof(t->description),
		    err);
	t->created_us = sqlite3_column_int64(st, 4);
	t->expires_us = sqlite3_column_int64(st, 5);
	t->revoked_us = sqlite3_column_int64(st, 6);
	t->last_used_us = sqlite3_column_int64(st, 7);
	if (rc == CF_OK)
		rc = col_str(st, 8, t->kind, sizeof(t->kind), err);
	t->mfa_at_us = sqlite3_column_int64(st, 9);
	if (rc == CF_OK)
		rc = col_str(st, 10, t->scope, sizeof(t->scope), err);
	return rc;
}

static int
bind_key(sqlite3_stmt *st, int i, const void *key, size_t len)
{
	/* Keys are always BLOBs: SQLite orders every TEXT value before
	 * every BLOB, so mixing the two would break range scans. */
	return sqlite3_bind_blob(st, i, len == 0 ? "" : key, (int)len,
	    SQLITE_STATIC);
}

static int
bind_str(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static cf_err
bind_failed(struct conn *c, struct cf_error *err)
{
	return db_err(c->db, sqlite3_extended_errcode(c->db), err, "bind");
}

/* Look up the id of namespace name inside the current transaction. */
static cf_err
ns_id_of(struct conn *c, const char *name, int64_t *id, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = conn_stmt(c, ST_NS_ID, &st, err);
	if (rc != CF_OK)
		return rc;
	if (bind_str(st, 1, name) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (src == SQLITE_DONE)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such namespace");
	else
		rc = db_err(c->db, src, err, "namespace lookup");
out:
	stmt_done(st);
	return rc;
}

/* --- open / close --- */

static cf_err
migrate(struct conn *c, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	char		 sql[64];
	int		 src, ver = 0, i;
	cf_err		 rc;

	rc = tx_begin(c, true, err);
	if (rc != CF_OK)
		goto out;
	src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "user_version");
		goto out;
	}
	ver = sqlite3_column_int(st, 0);
	if (ver < 0 || ver > SCHEMA_VERSION) {
		rc = cf_error_set(err, CF_E_INPUT, "meta: schema version %d"
		    " is newer than this program's %d", ver, SCHEMA_VERSION);
		goto out;
	}
	for (i = ver; i < SCHEMA_VERSION; i++) {
		rc = conn_exec(c, migrations[i], err);
		if (rc != CF_OK)
			goto out;
	}
	if (ver != SCHEMA_VERSION) {
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    SCHEMA_VERSION);
		rc = conn_exec(c, sql, err);
		if (rc != CF_OK)
			goto out;
	}
	rc = tx_commit(c, err);
out:
	(void)sqlite3_finalize(st);
	if (rc != CF_OK)
		tx_rollback(c);
	return rc;
}

/* SEC: the database holds token hashes and wrapped data keys; create it
 * 0600 before SQLite does (SQLite gives -wal and -shm the same mode).  A
 * new file's directory entry is made durable here: SQLite syncs the
 * directory for a new WAL but not for the main database file. */
static cf_err
precreate(const char *path, struct cf_error *err)
{
	char	*dir = NULL, *slash;
	int	 fd = -1, dfd = -1;
	cf_err	 rc = CF_OK;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 && errno == EEXIST)
		return CF_OK;
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "meta: create %s", path);
	dir = cf_strdup(path);
	if (dir == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	dfd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1)
		rc = cf_error_sys(err, CF_E_IO, "meta: sync directory of %s",
		    path);
out:
	if (dfd != -1)
		(void)close(dfd);
	(void)close(fd);
	/* An empty file is a valid new database: keeping it on failure
	 * is harmless. */
	cf_free(dir);
	return rc;
}

/* SQLite's memory statistics take a global mutex on every allocation,
 * which every connection thread then queues on; nothing here reads them.
 * Must run before SQLite initializes (a later call changes nothing). */
static pthread_once_t	sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

cf_err
cf_meta_open(const char *path, struct cf_meta **out, struct cf_error *err)
{
	struct cf_meta	*m = NULL;
	struct conn	*c = NULL;
	bool		 mu = false, cv = false, dcmu = false;
	cf_err		 rc;

	if (path == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL argument");
	if (sqlite3_threadsafe() == 0)
		return cf_error_set(err, CF_E_INTERNAL,
		    "meta: SQLite built without thread support");
	(void)pthread_once(&sqlite_once, sqlite_setup);
	m = cf_calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	m->path = cf_strdup(path);
	if (m->path == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		rc = cf_error_set(err, CF_E_INTERNAL, "meta: mutex init");
		goto out;
	}
	mu = true;
	if (pthread_cond_init(&m->cv, NULL) != 0) {
		rc = cf_error_set(err, CF_E_INTERNAL, "meta: cond init");
		goto out;
	}
	cv = true;
	if (pthread_mutex_init(&m->dc_mu, NULL) != 0) {
		rc = cf_error_set(err, CF_E_INTERNAL, "meta: mutex init");
		goto out;
	}
	dcmu = true;
	rc = precreate(path, err);
	if (rc != CF_OK)
		goto out;
	rc = conn_open(path, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = migrate(c, err);
	if (rc != CF_OK)
		goto out;
	m->idle = c;
	m->nopen = 1;
	c = NULL;
	*out = m;
	m = NULL;
out:
	conn_close(c);
	if (m != NULL) {
		if (dcmu)
			(void)pthread_mutex_destroy(&m->dc_mu);
		if (cv)
			(void)pthread_cond_destroy(&m->cv);
		if (mu)
			(void)pthread_mutex_destroy(&m->mu);
		cf_free(m->path);
		cf_free(m);
	}
	return rc;
}

const char *
cf_meta_engine_version(void)
{
	return sqlite3_libversion();
}

void
cf_meta_close(struct cf_meta *m)
{
	struct conn	*c;

	if (m == NULL)
		return;
	/* Every connection must be back in the pool: no call in flight. */
	while (m->idle != NULL) {
		c = m->idle;
		m->idle = c->next;
		conn_close(c);
	}
	dc_clear_locked(m);
	(void)pthread_mutex_destroy(&m->dc_mu);
	(void)pthread_cond_destroy(&m->cv);
	(void)pthread_mutex_destroy(&m->mu);
	cf_free(m->path);
	cf_free(m);
}

size_t
cf_meta_test_conn_count(struct cf_meta *m)
{
	size_t	n;

	(void)pthread_mutex_lock(&m->mu);
	n = m->nopen;
	(void)pthread_mutex_unlock(&m->mu);
	return n;
}

/* --- namespaces --- */

cf_err
cf_meta_ns_create(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_ns_rec *ns, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	if ((rc = audit_armed(au, err)) != CF_OK)
		return rc;
	if (ns == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL namespace");
	rc = check_field(ns->name, sizeof(ns->name), "namespace name", err);
	if (rc == CF_OK)
		rc = check_field(ns->env, sizeof(ns->env), "env", err);
	if (rc == CF_OK)
		rc = check_field(ns->created_by, sizeof(ns->created_by),
		    "created_by", err);
	if (rc == CF_OK)
		rc = check_field(ns->sensitivity, sizeof(ns->sensitivity),
		    "sensitivity", err);
	if (rc == CF_OK)
		rc = check_field(ns->versioning, sizeof(ns->versioning),
		    "versioning", err);
	if (rc == CF_OK && ns->name[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty namespace");
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_NS_INSERT, &st, err);
	if (rc != CF_OK)
		goto out;
	b = bind_str(st, 1, ns->name);
	b |= bind_str(st, 2, ns->env);
	b |= bind_str(st, 3, ns->created_by);
	b |= sqlite3_bind_int64(st, 4, ns->created_us);
	b |= bind_str(st, 5, ns->sensitivity[0] != '\0' ? ns->sensitivity :
	    "internal");
	b |= bind_str(st, 6, ns->versioning[0] != '\0' ? ns->versioning :
	    "enabled");
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_UNIQUE ||
	    src == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: namespace exists");
	else if (src != SQLITE_DONE)
		rc = db_err(c->db, src, err, "namespace insert");
out:
	stmt_done(st);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_ns_get(struct cf_meta *m, const char *name, struct cf_ns_rec *out,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	struct cf_ns_rec rec;
	int		 src;
	cf_err		 rc;

	rc = check_str(name, CF_NS_NAME_MAX, "namespace name", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_NS_GET, &st, err);
	if (rc != CF_OK)
		goto out;
	if (bind_str(st, 1, name) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such namespace");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "namespace get");
		goto out;
	}
	rc = read_ns(st, &rec, err);
	if (rc == CF_OK)
		*out = rec;
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_ns_list(struct cf_meta *m, cf_ns_cb cb, void *arg,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	struct cf_ns_rec rec;
	int		 src;
	cf_err		 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_NS_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "namespace list");
			break;
		}
		rc = read_ns(st, &rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

/* Blob ids collected inside the delete transaction, reported after it. */
struct idlist {
	char	(*ids)[CF_BLOB_ID_LEN + 1];
	size_t	  n, cap;
};

static cf_err
idlist_add(struct idlist *l, const char *id, struct cf_error *err)
{
	void	*p;
	size_t	 ncap;

	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 64 : l->cap * 2;
		p = cf_reallocarray(l->ids, ncap, sizeof(*l->ids));
		if (p == NULL)
			return cf_error_set(err, CF_E_NOMEM,
			    "meta: out of memory");
		l->ids = p;
		l->cap = ncap;
	}
	(void)cf_strlcpy(l->ids[l->n], id, sizeof(l->ids[l->n]));
	l->n++;
	return CF_OK;
}

/* Remove from l the blob ids a version still references (read in c's
 * transaction, after the deletions). */
static cf_err
drop_referenced(struct conn *c, struct idlist *l, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	size_t		 i, k = 0;
	int		 src;
	cf_err		 rc = CF_OK;

	for (i = 0; i < l->n && rc == CF_OK; i++) {
		rc = conn_stmt(c, ST_V_BLOB_REF, &st, err);
		if (rc != CF_OK)
			break;
		if (bind_str(st, 1, l->ids[i]) != SQLITE_OK) {
			rc = bind_failed(c, err);
			break;
		}
		src = sqlite3_step(st);
		if (src == SQLITE_DONE) {
			if (k != i)
				memcpy(l->ids[k], l->ids[i],
				    sizeof(l->ids[k]));
			k++;
		} else if (src != SQLITE_ROW)
			rc = db_err(c->db, src, err, "blob reference");
		stmt_done(st);
		st = NULL;
	}
	stmt_done(st);
	if (rc == CF_OK)
		l->n = k;
	return rc;
}

/* Run one of the ST_NS_DEL_* statements with a single bound value. */
static cf_err
ns_del_step(struct conn *c, int id, int64_t ns_id, const char *name,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = conn_stmt(c, id, &st, err);
	if (rc != CF_OK)
		return rc;
	if (name != NULL)
		b = bind_str(st, 1, name);
	else
		b = sqlite3_bind_int64(st, 1, ns_id);
	if (b != SQLITE_OK)
		rc = bind_failed(c, err);
	else {
		src = sqlite3_step(st);
		if (src != SQLITE_DONE)
			rc = db_err(c->db, src, err, "namespace delete");
	}
	stmt_done(st);
	return rc;
}

static cf_err	query_row(struct conn *c, int id, sqlite3_stmt **out,
		    bool *found, struct cf_error *err, const char *fmt, ...);

cf_err
cf_meta_ns_delete(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *name, cf_blobid_cb blob_cb, void *arg, struct cf_error *err)
{
	return cf_meta_ns_delete_counted(m, au, name, blob_cb, arg, NULL, err);
}

cf_err
cf_meta_ns_delete_counted(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *name, cf_blobid_cb blob_cb, void *arg, uint64_t *versions,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	struct idlist	 ids = { NULL, 0, 0 };
	char		 id[CF_BLOB_ID_LEN + 1];
	int64_t		 ns_id = 0, nv = 0;
	size_t		 i;
	int		 src;
	bool		 found = false;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(name, CF_NS_NAME_MAX, "namespace name", err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = ns_id_of(c, name, &ns_id, err);
	if (rc != CF_OK)
		goto out;

	rc = conn_stmt(c, ST_NS_HAS_LIVE, &st, err);
	if (rc != CF_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, ns_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: namespace is not empty");
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "namespace delete");
		goto out;
	}
	stmt_done(st);
	st = NULL;

	rc = conn_stmt(c, ST_NS_BLOBS, &st, err);
	if (rc != CF_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, ns_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "namespace delete");
			goto out;
		}
		rc = col_str(st, 0, id, sizeof(id), err);
		if (rc == CF_OK)
			rc = idlist_add(&ids, id, err);
		if (rc != CF_OK)
			goto out;
	}
	stmt_done(st);
	st = NULL;
	/* Versions, not blobs: a version of many segments is one, and so
	 * is a copy sharing its source's blob; delete markers hold no
	 * data and are not counted.  In the delete's transaction. */
	rc = query_row(c, ST_NS_NVERSIONS, &st, &found, err, "i", ns_id);
	if (rc == CF_OK && found)
		nv = sqlite3_column_int64(st, 0);
	stmt_done(st);
	st = NULL;
	if (rc != CF_OK)
		goto out;

	/* Children first: the foreign keys are enforced. */
	rc = ns_del_step(c, ST_NS_DEL_LIVE, ns_id, NULL, err);
	if (rc == CF_OK)
		rc = ns_del_step(c, ST_NS_DEL_VERSIONS, ns_id, NULL, err);
	if (rc == CF_OK)
		rc = ns_del_step(c, ST_NS_DEL_BINDINGS, 0, name, err);
	/* Its policy sets go with it: a namespace created later under the
	 * same name must not inherit them. */
	if (rc == CF_OK)
		rc = ns_del_step(c, ST_NS_DEL_POLICIES, ns_id, NULL, err);
	if (rc == CF_OK)
		rc = ns_del_step(c, ST_NS_DEL, ns_id, NULL, err);
	/* SEC: a blob may be shared with a version of another namespace (a
	 * promotion): only those no version references any more go. */
	if (rc == CF_OK)
		rc = drop_referenced(c, &ids, err);
	if (rc == CF_OK)
		rc = tx_commit_audited(c, au, err);
	if (rc != CF_OK)
		goto out;
	/* Committed: only now may the caller delete the blobs.  The
	 * connection goes back first so the callback may use the store. */
	pool_put(m, c);
	c = NULL;
	if (versions != NULL)
		*versions = nv > 0 ? (uint64_t)nv : 0;
	for (i = 0; i < ids.n && blob_cb != NULL; i++) {
		rc = blob_cb(arg, ids.ids[i], err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	if (c != NULL) {
		tx_rollback(c);
		pool_put(m, c);
	}
	cf_free(ids.ids);
	return rc;
}

/* --- object versions --- */

size_t
cf_segment_ad(const char *version_id, uint32_t n, char ad[CF_SEGMENT_AD_MAX])
{
	int	k;

	k = snprintf(ad, CF_SEGMENT_AD_MAX, "seg:%s:%u", version_id,
	    (unsigned)n);
	return k < 0 ? 0 : (size_t)k < CF_SEGMENT_AD_MAX ? (size_t)k :
	    CF_SEGMENT_AD_MAX - 1;
}

/* The segments of v, on put: numbered 0.. in order, each a blob with a
 * key, their sizes adding up to the version's (SEC: metadata is the
 * trusted source of a segmented version's layout, as of a blob's
 * plaintext size). */
static cf_err
check_segments(const struct cf_version_rec *v, struct cf_error *err)
{
	const struct cf_segment_rec	*g;
	uint64_t			 total = 0;
	uint32_t			 i;
	cf_err				 rc = CF_OK;

	if (v->nsegs > CF_SEGMENTS_MAX || v->segs == NULL ||
	    v->delete_marker || v->blob_id[0] != '\0' ||
	    strcmp(v->kek_id, CF_KEK_SEGMENTS) != 0 ||
	    v->sealed_as[0] != '\0')
		return cf_error_set(err, CF_E_INVAL, "meta: bad segmented "
		    "version");
	for (i = 0; i < v->nsegs && rc == CF_OK; i++) {
		g = &v->segs[i];
		rc = check_field(g->blob_id, sizeof(g->blob_id), "blob id",
		    err);
		if (rc == CF_OK)
			rc = check_field(g->sealed_as, sizeof(g->sealed_as),
			    "sealed_as", err);
		if (rc == CF_OK)
			rc = check_field(g->kek_id, sizeof(g->kek_id),
			    "kek id", err);
		if (rc == CF_OK)
			rc = check_field(g->checksum, sizeof(g->checksum),
			    "checksum", err);
		if (rc != CF_OK)
			break;
		/* Part numbers, when kept, ascend as the Complete's did. */
		if (g->part_number > CF_SEGMENTS_MAX || (i > 0 &&
		    g->part_number != 0 && g->part_number <=
		    v->segs[i - 1].part_number))
			rc = cf_error_set(err, CF_E_INVAL, "meta: segment %u: "
			    "bad part number", (unsigned)i);
		else if (g->n != i || g->blob_id[0] == '\0' ||
		    g->sealed_as[0] == '\0' || g->size > INT64_MAX ||
		    g->size > UINT64_MAX - total)
			rc = cf_error_set(err, CF_E_INVAL, "meta: bad segment "
			    "%u", (unsigned)i);
		else
			total += g->size;
	}
	if (rc == CF_OK && total != v->size)
		rc = cf_error_set(err, CF_E_INVAL, "meta: the segments hold "
		    "%llu bytes, the version %llu", (unsigned long long)total,
		    (unsigned long long)v->size);
	return rc;
}

static cf_err
check_version(const struct cf_version_rec *v, size_t *keylen,
    struct cf_error *err)
{
	cf_err	rc;

	if (v == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL version");
	rc = check_field(v->version_id, sizeof(v->version_id), "version id",
	    err);
	if (rc == CF_OK)
		rc = check_field(v->ns, sizeof(v->ns), "namespace", err);
	if (rc == CF_OK)
		rc = check_field(v->key, sizeof(v->key), "key", err);
	if (rc == CF_OK)
		rc = check_field(v->blob_id, sizeof(v->blob_id), "blob id",
		    err);
	if (rc == CF_OK)
		rc = check_field(v->sha256, sizeof(v->sha256), "sha256", err);
	if (rc == CF_OK)
		rc = check_field(v->content_type, sizeof(v->content_type),
		    "content type", err);
	if (rc == CF_OK)
		rc = check_field(v->user_meta, sizeof(v->user_meta),
		    "user metadata", err);
	if (rc == CF_OK)
		rc = check_field(v->created_by, sizeof(v->created_by),
		    "created_by", err);
	if (rc == CF_OK)
		rc = check_field(v->kek_id, sizeof(v->kek_id), "kek id", err);
	if (rc == CF_OK)
		rc = check_field(v->md5, sizeof(v->md5), "md5", err);
	if (rc == CF_OK)
		rc = check_field(v->sealed_as, sizeof(v->sealed_as),
		    "sealed_as", err);
	if (rc == CF_OK)
		rc = check_field(v->content_encoding,
		    sizeof(v->content_encoding), "content encoding", err);
	if (rc == CF_OK)
		rc = check_field(v->checksum, sizeof(v->checksum), "checksum",
		    err);
	if (rc != CF_OK)
		return rc;
	if (v->version_id[0] == '\0' || v->key[0] == '\0')
		return cf_error_set(err, CF_E_INPUT,
		    "meta: empty version id or key");
	if (v->size > INT64_MAX)
		return cf_error_set(err, CF_E_INPUT, "meta: size too large");
	if (v->delete_marker && (v->blob_id[0] != '\0' || v->size != 0))
		return cf_error_set(err, CF_E_INVAL,
		    "meta: a delete marker has no blob");
	if (v->nsegs > 0 && (rc = check_segments(v, err)) != CF_OK)
		return rc;
	*keylen = strlen(v->key);
	return CF_OK;
}

static cf_err	version_put_on(struct conn *c, const struct cf_version_rec *v,
		    size_t klen, int *s3_null, struct cf_error *err);
static cf_err	exec_on(struct conn *c, int id, int *changes,
		    struct cf_error *err, const char *fmt, ...);
static int	bind_fmt(sqlite3_stmt *st, const char *fmt, va_list ap);
static cf_err	exec_sql(struct conn *c, int *changes, struct cf_error *err,
		    const char *sql, const char *fmt, ...);

cf_err
cf_meta_version_put(struct cf_meta *m, const struct cf_meta_audit *au,
    struct cf_version_rec *v, struct cf_error *err)
{
	struct conn	*c = NULL;
	size_t		 klen = 0;
	int		 s3_null = 0;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_version(v, &klen, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = version_put_on(c, v, klen, &s3_null, err);
	rc = wtx_end(m, c, au, rc, err);
	if (rc == CF_OK)
		v->s3_null = s3_null;
	return rc;
}

/* One integer of the single-row query sql on c (binds: 't' text, 'k' key
 * blob, 'i' int64); CF_E_NOTFOUND when it has no row. */
static cf_err
query_int(struct conn *c, int64_t *out, struct cf_error *err,
    const char *sql, const char *fmt, ...)
{
	sqlite3_stmt	*st = NULL;
	va_list		 ap;
	int		 src, b;
	cf_err		 rc = CF_OK;

	src = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return db_err(c->db, src, err, "prepare");
	va_start(ap, fmt);
	b = bind_fmt(st, fmt, ap);
	va_end(ap);
	if (b != SQLITE_OK)
		rc = bind_failed(c, err);
	else {
		src = sqlite3_step(st);
		if (src == SQLITE_ROW)
			*out = sqlite3_column_int64(st, 0);
		else if (src == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no row");
		else
			rc = db_err(c->db, src, err, "query");
	}
	sqlite3_finalize(st);
	return rc;
}

cf_err
cf_meta_version_s3_delete(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *ns, const char *key, const char *vid,
    struct cf_version_rec *marker, bool *marked, struct cf_error *err)
{
	struct conn	*c = NULL;
	int64_t		 ns_id = 0, seq = 0, latest = 0, dm = 0, mseq = 0;
	size_t		 klen = 0;
	int		 n = 0;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = check_str(key, CF_OBJKEY_MAX, "key", err);
	if (rc == CF_OK)
		rc = check_str(vid, CF_VERSION_ID_LEN + 1, "version id", err);
	if (rc == CF_OK && (marker == NULL || marked == NULL))
		rc = cf_error_set(err, CF_E_INVAL, "meta: NULL argument");
	if (rc == CF_OK)
		rc = check_version(marker, &klen, err);
	if (rc == CF_OK && (!marker->delete_marker ||
	    strcmp(marker->ns, ns) != 0 || strcmp(marker->key, key) != 0))
		rc = cf_error_set(err, CF_E_INVAL,
		    "meta: not a delete marker of the key");
	if (rc != CF_OK)
		return rc;
	*marked = false;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = ns_id_of(c, ns, &ns_id, err);
	/* SEC: only the version the caller decided on, of this key and
	 * still in S3's view; anything else is a conflict, not a hide of
	 * another version. */
	if (rc == CF_OK)
		rc = query_int(c, &seq, err, "SELECT seq FROM versions"
		    " WHERE ns_id = ?1 AND key = ?2 AND version_id = ?3"
		    " AND s3_hidden = 0", "ikt", ns_id, key, vid);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: the version left S3's view already");
	}
	if (rc == CF_OK)
		rc = query_int(c, &latest, err, "SELECT max(seq) FROM versions"
		    " WHERE ns_id = ?1 AND key = ?2", "ik", ns_id, key);
	if (rc == CF_OK)
		rc = query_int(c, &dm, err, "SELECT delete_marker FROM versions"
		    " WHERE seq = ?1", "i", seq);
	if (rc == CF_OK) {
		rc = exec_sql(c, &n, err, "UPDATE versions SET s3_hidden = 1"
		    " WHERE seq = ?1", "i", seq);
	}
	if (rc == CF_OK && seq == latest && dm == 0) {
		/* The key's current version leaves S3's view: the key
		 * reads as deleted (no older version becomes current), by
		 * a marker S3 does not list. */
		rc = version_put_on(c, marker, klen, NULL, err);
		if (rc == CF_OK)
			rc = query_int(c, &mseq, err, "SELECT seq FROM versions"
			    " WHERE version_id = ?1", "t", marker->version_id);
		if (rc == CF_OK)
			rc = exec_sql(c, &n, err, "UPDATE versions"
			    " SET s3_hidden = 1 WHERE seq = ?1", "i", mseq);
		if (rc == CF_OK)
			*marked = true;
	}
	rc = wtx_end(m, c, au, rc, err);
	if (rc != CF_OK)
		*marked = false;
	return rc;
}

/* Run sql (prepared per call; no result rows) on c; *changes gets the
 * rows changed. */
static cf_err
exec_sql(struct conn *c, int *changes, struct cf_error *err, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*st = NULL;
	va_list		 ap;
	int		 src, b;
	cf_err		 rc = CF_OK;

	src = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return db_err(c->db, src, err, "prepare");
	va_start(ap, fmt);
	b = bind_fmt(st, fmt, ap);
	va_end(ap);
	if (b != SQLITE_OK)
		rc = bind_failed(c, err);
	else {
		src = sqlite3_step(st);
		if (src != SQLITE_DONE)
			rc = db_err(c->db, src, err, "update");
		else
			*changes = sqlite3_changes(c->db);
	}
	sqlite3_finalize(st);
	return rc;
}


/* With v->mp_upload: every segment of v is still the part of that
 * upload it was read as (CF_E_CONFLICT otherwise: a part was uploaded
 * again while the upload completed). */
static cf_err
segments_are_parts(struct conn *c, const struct cf_version_rec *v,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	uint32_t	 i;
	bool		 found = false;
	cf_err		 rc = CF_OK;

	for (i = 0; i < v->nsegs && rc == CF_OK; i++) {
		rc = query_row(c, ST_SEG_IS_PART, &st, &found, err, "ttti",
		    v->mp_upload, v->segs[i].sealed_as, v->segs[i].blob_id,
		    (int64_t)v->segs[i].size);
		stmt_done(st);
		st = NULL;
		if (rc == CF_OK && !found)
			rc = cf_error_set(err, CF_E_CONFLICT, "meta: part %s "
			    "changed during the completion",
			    v->segs[i].sealed_as);
	}
	return rc;
}

/* v's segments, in c's write transaction (after v's row). */
static cf_err
segments_put_on(struct conn *c, const struct cf_version_rec *v,
    struct cf_error *err)
{
	const struct cf_segment_rec	*g;
	uint32_t			 i;
	cf_err				 rc = CF_OK;

	for (i = 0; i < v->nsegs && rc == CF_OK; i++) {
		g = &v->segs[i];
		rc = exec_on(c, ST_SEG_INSERT, NULL, err, "titittwit",
		    v->version_id, (int64_t)g->n, g->blob_id,
		    (int64_t)g->size, g->sealed_as, g->kek_id,
		    g->wrapped_dek, (int64_t)g->part_number, g->checksum);
	}
	return rc;
}

/* Insert version v (klen: its key's length) in c's write transaction and
 * make it the latest of its key; *s3_null (nullable) gets its place in
 * S3's view (meta_int_s3_view_on). */
static cf_err
version_put_on(struct conn *c, const struct cf_version_rec *v, size_t klen,
    int *s3_null, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int64_t		 ns_id = 0, seq;
	int		 src, b;
	cf_err		 rc;

	rc = ns_id_of(c, v->ns, &ns_id, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: an upload is bound to the namespace it began in, not to its
	 * name: one deleted and re-created meanwhile does not receive it. */
	if (v->ns_id != 0 && v->ns_id != ns_id) {
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: namespace replaced");
		goto out;
	}
	/* A completed multipart upload: gone with its parts, or (aborted
	 * meanwhile) no version. */
	if (v->mp_upload[0] != '\0') {
		int n = 0;

		rc = segments_are_parts(c, v, err);
		if (rc == CF_OK)
			rc = exec_on(c, ST_MP_DEL, &n, err, "t", v->mp_upload);
		if (rc == CF_OK && n == 0)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such upload");
		if (rc != CF_OK)
			goto out;
	}

	rc = conn_stmt(c, ST_V_INSERT, &st, err);
	if (rc != CF_OK)
		goto out;
	b = bind_str(st, 1, v->version_id);
	b |= sqlite3_bind_int64(st, 2, ns_id);
	b |= bind_key(st, 3, v->key, klen);
	b |= sqlite3_bind_int(st, 4, v->delete_marker ? 1 : 0);
	b |= bind_str(st, 5, v->blob_id);
	b |= sqlite3_bind_int64(st, 6, (sqlite3_int64)v->size);
	b |= bind_str(st, 7, v->sha256);
	b |= bind_str(st, 8, v->content_type);
	b |= bind_str(st, 9, v->user_meta);
	b |= bind_str(st, 10, v->created_by);
	b |= sqlite3_bind_int64(st, 11, v->created_us);
	b |= bind_str(st, 12, v->kek_id);
	b |= sqlite3_bind_blob(st, 13, v->wrapped_dek,
	    (int)sizeof(v->wrapped_dek), SQLITE_STATIC);
	b |= bind_str(st, 14, v->md5);
	b |= bind_str(st, 15, v->sealed_as);
	b |= bind_str(st, 16, v->content_encoding);
	b |= bind_str(st, 17, v->checksum);
	b |= sqlite3_bind_int64(st, 18, (sqlite3_int64)v->nsegs);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_UNIQUE) {
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: duplicate version id");
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "version insert");
		goto out;
	}
	seq = sqlite3_last_insert_rowid(c->db);
	stmt_done(st);
	st = NULL;
	rc = segments_put_on(c, v, err);
	if (rc == CF_OK && v->mp_upload[0] != '\0')
		rc = exec_on(c, ST_MPD_PUT, NULL, err, "tt", v->mp_upload,
		    v->version_id);
	if (rc != CF_OK)
		goto out;

	/* The new version has the largest seq, so it is the latest. */
	rc = conn_stmt(c, v->delete_marker ? ST_LIVE_DEL : ST_LIVE_UPSERT,
	    &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, ns_id);
	b |= bind_key(st, 2, v->key, klen);
	if (!v->delete_marker)
		b |= sqlite3_bind_int64(st, 3, seq);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "version index");
		goto out;
	}
	stmt_done(st);
	st = NULL;
	/* In the same transaction as the insert, so the namespace's state
	 * and the null version it replaces are read under the write
	 * lock. */
	rc = meta_int_s3_view_on(c, ns_id, (const uint8_t *)v->key, klen,
	    seq, s3_null, err);
out:
	stmt_done(st);
	return rc;
}

cf_err
cf_meta_version_get(struct cf_meta *m, const char *ns, const char *key,
    const char *version_id, struct cf_version_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_version_rec	*rec = NULL;
	bool			 null;
	int			 src, b;
	cf_err			 rc;

	rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = check_str(key, CF_OBJKEY_MAX, "key", err);
	if (rc == CF_OK && version_id != NULL)
		rc = check_str(version_id, CF_VERSION_ID_LEN + 1,
		    "version id", err);
	if (rc != CF_OK)
		return rc;
	rec = cf_malloc(sizeof(*rec));
	if (rec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: a version id is looked up only within (ns, key), so an id
	 * from another namespace never resolves here. */
	null = version_id != NULL && strcmp(version_id, "null") == 0;
	rc = conn_stmt(c, version_id == NULL ? ST_V_LATEST : null ? ST_V_NULL :
	    ST_V_GET, &st, err);
	if (rc != CF_OK)
		goto out;
	b = bind_str(st, 1, ns);
	b |= bind_key(st, 2, key, strlen(key));
	if (version_id != NULL && !null)
		b |= bind_str(st, 3, version_id);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such version");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "version get");
		goto out;
	}
	rc = read_version(st, rec, err);
	if (rc == CF_OK)
		*out = *rec;
out:
	stmt_done(st);
	pool_put(m, c);
	cf_free(rec);
	return rc;
}

cf_err
cf_meta_blobs_referenced(struct cf_meta *m,
    const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n, bool *ref,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	bool		 tx = false;
	size_t		 i;
	int		 src;
	cf_err		 rc;

	for (i = 0; i < n; i++)
		ref[i] = true;		/* SEC: on any failure, all kept */
	for (i = 0; i < n; i++) {
		rc = check_field(ids[i], CF_BLOB_ID_LEN + 1, "blob id", err);
		if (rc != CF_OK)
			return rc;
	}
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* One snapshot for the batch. */
	if ((rc = tx_begin(c, false, err)) != CF_OK)
		goto out;
	tx = true;
	if ((rc = conn_stmt(c, ST_V_BLOB_REF, &st, err)) != CF_OK)
		goto out;
	for (i = 0; i < n; i++) {
		(void)sqlite3_reset(st);
		if (bind_str(st, 1, ids[i]) != SQLITE_OK) {
			rc = bind_failed(c, err);
			goto out;
		}
		src = sqlite3_step(st);
		if (src != SQLITE_ROW && src != SQLITE_DONE) {
			rc = db_err(c->db, src, err, "blob reference");
			goto out;
		}
		ref[i] = src == SQLITE_ROW;
	}
out:
	stmt_done(st);
	if (tx && rc == CF_OK)
		rc = tx_commit(c, err);
	else if (tx)
		tx_rollback(c);
	pool_put(m, c);
	if (rc != CF_OK)
		for (i = 0; i < n; i++)
			ref[i] = true;
	return rc;
}

cf_err
cf_meta_version_list(struct cf_meta *m, const char *ns, const char *key,
    cf_version_cb cb, void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_version_rec	*rec = NULL;
	int			 src, b;
	cf_err			 rc;

	rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = check_str(key, CF_OBJKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	rec = cf_malloc(sizeof(*rec));
	if (rec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = conn_stmt(c, ST_V_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	b = bind_str(st, 1, ns);
	b |= bind_key(st, 2, key, strlen(key));
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "version list");
			break;
		}
		rc = read_version(st, rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	cf_free(rec);
	return rc;
}

/* Bytewise comparison of two byte strings, shorter first on a tie (the
 * order SQLite uses for BLOBs). */
static int
bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int	r;

	r = memcmp(a, b, alen < blen ? alen : blen);
	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* The smallest byte string greater than every string starting with
 * p[0..*len): drop trailing 0xff bytes, increment the last.  False if
 * there is none (p is empty or all 0xff). */
static bool
successor(uint8_t *p, size_t *len)
{
	size_t	n = *len;

	while (n > 0 && p[n - 1] == 0xff)
		n--;
	if (n == 0)
		return false;
	p[n - 1]++;
	*len = n;
	return true;
}

/* Re-run the listing statement from lower (inclusive). */
static cf_err
list_seek(struct conn *c, sqlite3_stmt *st, int64_t ns_id,
    const uint8_t *lower, size_t lowlen, struct cf_error *err)
{
	int	b;

	(void)sqlite3_reset(st);
	b = sqlite3_bind_int64(st, 1, ns_id);
	b |= bind_key(st, 2, lower, lowlen);
	if (b != SQLITE_OK)
		return bind_failed(c, err);
	return CF_OK;
}

/* S3 ListObjectsV2 over the `live` table.  Entries are the live keys not
 * rolled up plus the distinct common prefixes, in byte order; a page is the
 * first max_items entries greater than start_after.  A common prefix cp
 * covers exactly the key range [cp, successor(cp)), so after reporting or
 * skipping it the scan seeks to successor(cp) instead of stepping through
 * its keys: a page costs O(max_items) seeks, whatever the number of keys.
 */
cf_err
cf_meta_object_list(struct cf_meta *m, const char *ns, const char *prefix,
    const char *delimiter, const char *start_after, size_t max_items,
    cf_version_cb obj_cb, cf_prefix_cb prefix_cb, void *arg, bool *truncated,
    char next_after[CF_OBJKEY_MAX], struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_version_rec	*rec = NULL;
	uint8_t			 lower[CF_OBJKEY_MAX + 1];
	char			*last = NULL;
	const uint8_t		*key;
	const uint8_t		*d;
	size_t			 plen, dlen, salen, lowlen, klen, cplen, count;
	int64_t			 ns_id = 0;
	bool			 more = false;
	int			 src;
	cf_err			 rc;

	if (prefix == NULL)
		prefix = "";
	if (delimiter == NULL)
		delimiter = "";
	if (start_after == NULL)
		start_after = "";
	rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = check_str(prefix, CF_OBJKEY_MAX, "prefix", err);
	if (rc == CF_OK)
		rc = check_str(delimiter, CF_OBJKEY_MAX, "delimiter", err);
	if (rc == CF_OK)
		rc = check_str(start_after, CF_OBJKEY_MAX, "start_after", err);
	if (rc != CF_OK)
		return rc;
	if (truncated == NULL || next_after == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL argument");
	plen = strlen(prefix);
	dlen = strlen(delimiter);
	salen = strlen(start_after);

	rec = cf_malloc(sizeof(*rec));
	last = cf_malloc(CF_OBJKEY_MAX);
	if (rec == NULL || last == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	last[0] = '\0';

	/* lower = max(prefix, start_after + "\0"): the smallest key after
	 * start_after is start_after with a NUL byte appended. */
	memcpy(lower, start_after, salen);
	lower[salen] = '\0';
	lowlen = salen + 1;
	if (salen == 0 || bytes_cmp(lower, lowlen, prefix, plen) < 0) {
		memcpy(lower, prefix, plen);
		lowlen = plen;
	}

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		goto out;
	/* One snapshot for the whole page, across the seeks. */
	rc = tx_begin(c, false, err);
	if (rc != CF_OK)
		goto out;
	rc = ns_id_of(c, ns, &ns_id, err);
	if (rc != CF_OK)
		goto out;
	rc = conn_stmt(c, ST_OBJ_LIST, &st, err);
	if (rc == CF_OK)
		rc = list_seek(c, st, ns_id, lower, lowlen, err);
	if (rc != CF_OK)
		goto out;

	for (count = 0; max_items > 0;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "object list");
			goto out;
		}
		key = sqlite3_column_blob(st, 2);
		klen = (size_t)sqlite3_column_bytes(st, 2);
		if (key == NULL) {
			key = (const uint8_t *)"";	/* empty BLOB */
			klen = 0;
		}
		/* SEC: a tampered database must not overflow last[]. */
		if (klen > KEY_MAX) {
			rc = cf_error_set(err, CF_E_INTEGRITY,
			    "meta: stored key of %zu bytes", klen);
			goto out;
		}
		if (klen < plen || memcmp(key, prefix, plen) != 0)
			break;			/* past the prefix range */
		d = NULL;
		if (dlen > 0)
			d = memmem(key + plen, klen - plen, delimiter, dlen);
		if (d == NULL) {
			if (count == max_items) {
				more = true;
				break;
			}
			rc = read_version(st, rec, err);
			if (rc == CF_OK && obj_cb != NULL)
				rc = obj_cb(arg, rec, err);
			if (rc != CF_OK)
				goto out;
			memcpy(last, key, klen);
			last[klen] = '\0';
			count++;
			continue;
		}
		/* Roll up into the common prefix cp = key[0..cplen). */
		cplen = (size_t)(d - key) + dlen;
		if (bytes_cmp(key, cplen, start_after, salen) > 0) {
			if (count == max_items) {
				more = true;
				break;
			}
			memcpy(last, key, cplen);
			last[cplen] = '\0';
			if (prefix_cb != NULL) {
				rc = prefix_cb(arg, last, err);
				if (rc != CF_OK)
					goto out;
			}
			count++;
		}
		/* Skip every key under cp (reported now or on an earlier
		 * page). */
		memcpy(lower, key, cplen);
		lowlen = cplen;
		if (!successor(lower, &lowlen))
			break;
		rc = list_seek(c, st, ns_id, lower, lowlen, err);
		if (rc != CF_OK)
			goto out;
	}
	stmt_done(st);
	st = NULL;
	rc = tx_commit(c, err);
	if (rc != CF_OK)
		goto out;
	*truncated = more;
	(void)cf_strlcpy(next_after, more ? last : "", CF_OBJKEY_MAX);
out:
	stmt_done(st);
	if (c != NULL && rc != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
	cf_free(rec);
	cf_free(last);
	return rc;
}

/* The versions of key (ns_id) newest first, from after the version
 * vmark ("" : from the newest), to cb while *count < max; *more when
 * one is left over, *last_vid the last one given.  CF_E_NOTFOUND when
 * vmark is not a version of key. */
static cf_err
scan_key(struct conn *c, int64_t ns_id, const uint8_t *key, size_t klen,
    const char *vmark, size_t max, size_t *count, bool *more,
    char last_vid[CF_VERSION_ID_LEN + 1], struct cf_version_rec *rec,
    cf_version_scan_cb cb, void *arg, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	bool		 skipping = vmark[0] != '\0', latest = true;
	int		 src, b;
	cf_err		 rc;

	rc = conn_stmt(c, ST_V_LIST_ID, &st, err);
	if (rc != CF_OK)
		return rc;
	b = sqlite3_bind_int64(st, 1, ns_id);
	b |= bind_key(st, 2, key, klen);
	if (b != SQLITE_OK) {
		stmt_done(st);
		return bind_failed(c, err);
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "version scan");
			break;
		}
		rc = read_version(st, rec, err);
		if (rc != CF_OK)
			break;
		if (skipping) {
			if (strcmp(rec->version_id, vmark) == 0)
				skipping = false;
			latest = false;
			continue;
		}
		/* Not in S3's view: a replaced or S3-deleted null version.
		 * Its row is history all the same. */
		if (rec->s3_hidden) {
			latest = false;
			continue;
		}
		if (*count == max) {
			*more = true;
			break;
		}
		rc = cb(arg, rec, latest, err);
		if (rc != CF_OK)
			break;
		latest = false;
		(*count)++;
		(void)cf_strlcpy(last_vid, rec->version_id,
		    CF_VERSION_ID_LEN + 1);
	}
	stmt_done(st);
	if (rc == CF_OK && skipping)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: the version id "
		    "marker is not a version of the key marker");
	return rc;
}

/* S3 ListObjectVersions: keys by seeks (each a distinct key of
 * versions), each key's versions in one indexed read; common prefixes
 * skipped by seeking past them, as cf_meta_object_list does. */
cf_err
cf_meta_version_scan(struct cf_meta *m, const char *ns, const char *prefix,
    const char *delimiter, const char *key_marker, const char *vid_marker,
    size_t max_items, cf_version_scan_cb cb, cf_prefix_cb prefix_cb,
    void *arg, bool *truncated, char next_key[CF_OBJKEY_MAX],
    char next_vid[CF_VERSION_ID_LEN + 1], struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_version_rec	*rec = NULL;
	uint8_t			 lower[CF_OBJKEY_MAX + 1];
	uint8_t			*key = NULL;
	char			*last = NULL, lvid[CF_VERSION_ID_LEN + 1];
	const uint8_t		*k, *d;
	const char		*vmark;
	size_t			 plen, dlen, kmlen, lowlen, klen, cplen;
	size_t			 count = 0, before;
	int64_t			 ns_id = 0;
	bool			 more = false, first = true;
	int			 src, b;
	cf_err			 rc;

	if (prefix == NULL)
		prefix = "";
	if (delimiter == NULL)
		delimiter = "";
	if (key_marker == NULL)
		key_marker = "";
	if (vid_marker == NULL)
		vid_marker = "";
	rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = check_str(prefix, CF_OBJKEY_MAX, "prefix", err);
	if (rc == CF_OK)
		rc = check_str(delimiter, CF_OBJKEY_MAX, "delimiter", err);
	if (rc == CF_OK)
		rc = check_str(key_marker, CF_OBJKEY_MAX, "key marker", err);
	if (rc == CF_OK)
		rc = check_str(vid_marker, CF_VERSION_ID_LEN + 1,
		    "version id marker", err);
	if (rc != CF_OK)
		return rc;
	if (truncated == NULL || next_key == NULL || next_vid == NULL ||
	    cb == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL argument");
	plen = strlen(prefix);
	dlen = strlen(delimiter);
	kmlen = strlen(key_marker);
	lvid[0] = '\0';
	rec = cf_malloc(sizeof(*rec));
	last = cf_malloc(CF_OBJKEY_MAX);
	key = cf_malloc(CF_OBJKEY_MAX);
	if (rec == NULL || last == NULL || key == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	last[0] = '\0';
	/* lower: key_marker itself with a version marker (its older
	 * versions come first), else just after it; at least prefix. */
	memcpy(lower, key_marker, kmlen);
	lowlen = kmlen;
	if (vid_marker[0] == '\0' && kmlen > 0)
		lower[lowlen++] = '\0';
	if (kmlen == 0 || bytes_cmp(lower, lowlen, prefix, plen) < 0) {
		memcpy(lower, prefix, plen);
		lowlen = plen;
	}
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = tx_begin(c, false, err);
	if (rc == CF_OK)
		rc = ns_id_of(c, ns, &ns_id, err);
	if (rc == CF_OK)
		rc = conn_stmt(c, ST_KEY_NEXT, &st, err);
	if (rc != CF_OK)
		goto out;
	while (!more && count <= max_items) {
		(void)sqlite3_reset(st);
		b = sqlite3_bind_int64(st, 1, ns_id);
		b |= bind_key(st, 2, lower, lowlen);
		if (b != SQLITE_OK) {
			rc = bind_failed(c, err);
			goto out;
		}
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "key scan");
			goto out;
		}
		k = sqlite3_column_blob(st, 0);
		klen = (size_t)sqlite3_column_bytes(st, 0);
		if (k == NULL)
			klen = 0;
		/* SEC: a tampered database must not overflow key[]. */
		if (klen > KEY_MAX) {
			rc = cf_error_set(err, CF_E_INTEGRITY,
			    "meta: stored key of %zu bytes", klen);
			goto out;
		}
		if (klen > 0)
			memcpy(key, k, klen);
		(void)sqlite3_reset(st);
		if (klen < plen || memcmp(key, prefix, plen) != 0)
			break;			/* past the prefix range */
		d = dlen > 0 ? memmem(key + plen, klen - plen, delimiter,
		    dlen) : NULL;
		if (d == NULL) {
			vmark = first && klen == kmlen && memcmp(key,
			    key_marker, klen) == 0 ? vid_marker : "";
			first = false;
			before = count;
			rc = scan_key(c, ns_id, key, klen, vmark, max_items,
			    &count, &more, lvid, rec, cb, arg, err);
			if (rc != CF_OK)
				goto out;
			/* The markers: this key and its last version given,
			 * unless the page ended before any of them. */
			if (count > before || !more) {
				memcpy(last, key, klen);
				last[klen] = '\0';
			}
			memcpy(lower, key, klen);
			lower[klen] = '\0';
			lowlen = klen + 1;
			continue;
		}
		first = false;
		cplen = (size_t)(d - key) + dlen;
		if (bytes_cmp(key, cplen, key_marker, kmlen) > 0) {
			if (count == max_items) {
				more = true;
				break;
			}
			memcpy(last, key, cplen);
			last[cplen] = '\0';
			lvid[0] = '\0';
			if (prefix_cb != NULL) {
				rc = prefix_cb(arg, last, err);
				if (rc != CF_OK)
					goto out;
			}
			count++;
		}
		memcpy(lower, key, cplen);
		lowlen = cplen;
		if (!successor(lower, &lowlen))
			break;
	}
	stmt_done(st);
	st = NULL;
	rc = tx_commit(c, err);
	if (rc != CF_OK)
		goto out;
	*truncated = more;
	(void)cf_strlcpy(next_key, more ? last : "", CF_OBJKEY_MAX);
	(void)cf_strlcpy(next_vid, more ? lvid : "", CF_VERSION_ID_LEN + 1);
out:
	stmt_done(st);
	if (c != NULL && rc != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
	cf_free(rec);
	cf_free(last);
	cf_free(key);
	return rc;
}

/* --- principals --- */

cf_err
cf_meta_principal_create(struct cf_meta *m, const struct cf_meta_audit *au,
    struct cf_principal_rec *p, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int64_t		 now, id = 0;
	int		 src, b;
	cf_err		 rc;

	if ((rc = audit_armed(au, err)) != CF_OK)
		return rc;
	if (p == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL principal");
	rc = check_field(p->name, sizeof(p->name), "principal name", err);
	if (rc == CF_OK)
		rc = check_field(p->kind, sizeof(p->kind), "kind", err);
	if (rc == CF_OK && p->name[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty principal");
	if (rc != CF_OK)
		return rc;
	now = cf_now_us();
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_P_INSERT, &st, err);
	if (rc != CF_OK)
		goto out;
	b = bind_str(st, 1, p->name);
	b |= bind_str(st, 2, p->kind);
	b |= sqlite3_bind_int64(st, 3, now);
	b |= sqlite3_bind_int(st, 4, p->disabled ? 1 : 0);
	b |= sqlite3_bind_int64(st, 5, p->owner_id);
	b |= sqlite3_bind_int(st, 6, p->provisioned ? 1 : 0);
	b |= sqlite3_bind_int(st, 7, p->mfa_required ? 1 : 0);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_UNIQUE) {
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: principal exists");
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "principal insert");
		goto out;
	}
	id = sqlite3_last_insert_rowid(c->db);
out:
	stmt_done(st);
	rc = wtx_end(m, c, au, rc, err);
	if (rc == CF_OK) {
		p->id = id;
		p->created_us = now;
	}
	return rc;
}

/* Fetch one principal by name (name != NULL) or id. */
static cf_err
principal_get(struct cf_meta *m, const char *name, int64_t id,
    struct cf_principal_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_principal_rec	 rec;
	int			 src, b;
	cf_err			 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, name != NULL ? ST_P_GET : ST_P_GET_ID, &st, err);
	if (rc != CF_OK)
		goto out;
	if (name != NULL)
		b = bind_str(st, 1, name);
	else
		b = sqlite3_bind_int64(st, 1, id);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such principal");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "principal get");
		goto out;
	}
	rc = read_principal(st, &rec, err);
	if (rc == CF_OK)
		*out = rec;
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_principal_get(struct cf_meta *m, const char *name,
    struct cf_principal_rec *out, struct cf_error *err)
{
	cf_err	rc;

	rc = check_str(name, CF_PRINCIPAL_MAX, "principal name", err);
	if (rc != CF_OK)
		return rc;
	return principal_get(m, name, 0, out, err);
}

cf_err
cf_meta_principal_get_id(struct cf_meta *m, int64_t id,
    struct cf_principal_rec *out, struct cf_error *err)
{
	return principal_get(m, NULL, id, out, err);
}

cf_err
cf_meta_principal_list(struct cf_meta *m, cf_principal_cb cb, void *arg,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_principal_rec	 rec;
	int			 src;
	cf_err			 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_P_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "principal list");
			break;
		}
		rc = read_principal(st, &rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

/* 0 on any error (the interface has no error channel here). */
size_t
cf_meta_principal_count(struct cf_meta *m)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	sqlite3_int64	 n = 0;

	if (pool_get(m, &c, NULL) != CF_OK)
		return 0;
	if (conn_stmt(c, ST_P_COUNT, &st, NULL) == CF_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	stmt_done(st);
	pool_put(m, c);
	return n < 0 ? 0 : (size_t)n;
}

/* --- API tokens --- */

static cf_err
check_token(const struct cf_token_rec *t, struct cf_error *err)
{
	cf_err	rc;

	if (t == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL token");
	rc = check_field(t->id, sizeof(t->id), "token id", err);
	if (rc == CF_OK)
		rc = check_field(t->description, sizeof(t->description),
		    "description", err);
	if (rc == CF_OK)
		rc = check_field(t->kind, sizeof(t->kind), "token kind", err);
	if (rc == CF_OK)
		rc = check_field(t->scope, sizeof(t->scope), "scope", err);
	if (rc == CF_OK && t->id[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty token id");
	return rc;
}

/* Insert t (checked) for principal pid, in c's transaction. */
static cf_err
token_insert_on(struct conn *c, const struct cf_token_rec *t, int64_t pid,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = conn_stmt(c, ST_T_INSERT, &st, err);
	if (rc != CF_OK)
		return rc;
	b = bind_str(st, 1, t->id);
	b |= sqlite3_bind_int64(st, 2, pid);
	b |= sqlite3_bind_blob(st, 3, t->hash, (int)sizeof(t->hash),
	    SQLITE_STATIC);
	b |= bind_str(st, 4, t->description);
	b |= sqlite3_bind_int64(st, 5, t->created_us);
	b |= sqlite3_bind_int64(st, 6, t->expires_us);
	b |= sqlite3_bind_int64(st, 7, t->revoked_us);
	b |= sqlite3_bind_int64(st, 8, t->last_used_us);
	b |= bind_str(st, 9, t->kind[0] != '\0' ? t->kind : "api");
	b |= sqlite3_bind_int64(st, 10, t->mfa_at_us);
	b |= bind_str(st, 11, t->scope);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such principal");
	else if (src == SQLITE_CONSTRAINT_UNIQUE ||
	    src == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = cf_error_set(err, CF_E_CONFLICT, "meta: token exists");
	else if (src != SQLITE_DONE)
		rc = db_err(c->db, src, err, "token insert");
out:
	stmt_done(st);
	return rc;
}

cf_err
cf_meta_token_insert(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_token_rec *t, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_token(t, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = token_insert_on(c, t, t->principal_id, err);
	return wtx_end(m, c, au, rc, err);
}

/* Fetch one token by hash (hash != NULL) or id. */
static cf_err
token_get(struct cf_meta *m, const uint8_t *hash, const char *id,
    struct cf_token_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_token_rec	 rec;
	int			 src, b;
	cf_err			 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, hash != NULL ? ST_T_FIND : ST_T_GET, &st, err);
	if (rc != CF_OK)
		goto out;
	if (hash != NULL)
		b = sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	else
		b = bind_str(st, 1, id);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such token");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "token get");
		goto out;
	}
	rc = read_token(st, &rec, err);
	if (rc == CF_OK)
		*out = rec;
out:
	stmt_done(st);
	pool_put(m, c);
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

/* SEC: the lookup compares SHA-256 digests of 256-bit random tokens in
 * an index; the timing reveals at most how much of an unguessable digest
 * matched, which does not help forge a token. */
cf_err
cf_meta_token_find(struct cf_meta *m, const uint8_t hash[32],
    struct cf_token_rec *out, struct cf_error *err)
{
	if (hash == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL hash");
	return token_get(m, hash, NULL, out, err);
}

cf_err
cf_meta_token_get(struct cf_meta *m, const char *id, struct cf_token_rec *out,
    struct cf_error *err)
{
	cf_err	rc;

	rc = check_str(id, CF_TOKEN_ID_LEN + 1, "token id", err);
	if (rc != CF_OK)
		return rc;
	return token_get(m, NULL, id, out, err);
}

/* Run an UPDATE of tokens by id; *changed tells whether a row changed. */
static cf_err
token_update(struct conn *c, int which, const char *id, int64_t now_us,
    bool *changed, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = conn_stmt(c, which, &st, err);
	if (rc != CF_OK)
		return rc;
	b = bind_str(st, 1, id);
	b |= sqlite3_bind_int64(st, 2, now_us);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "token update");
		goto out;
	}
	*changed = sqlite3_changes(c->db) > 0;
out:
	stmt_done(st);
	return rc;
}

/* Called on every authenticated request.  A write costs a WAL fsync, so
 * the time is recorded at most once a minute per token: a read (parallel
 * under WAL) decides whether the write is needed. */
cf_err
cf_meta_token_touch(struct cf_meta *m, const char *id, int64_t now_us,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int64_t		 last;
	bool		 changed = false;
	int		 src;
	cf_err		 rc;

	rc = check_str(id, CF_TOKEN_ID_LEN + 1, "token id", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_T_USED, &st, err);
	if (rc != CF_OK)
		goto out;
	if (bind_str(st, 1, id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such token");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "token touch");
		goto out;
	}
	last = sqlite3_column_int64(st, 0);
	stmt_done(st);
	st = NULL;
	if (last != 0 && (now_us <= last || now_us - last < TOUCH_US))
		goto out;
	rc = token_update(c, ST_T_TOUCH, id, now_us, &changed, err);
	if (rc == CF_OK && !changed)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such token");
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_token_revoke(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t now_us, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	bool			 changed = false;
	int			 src;
	cf_err			 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_TOKEN_ID_LEN + 1, "token id", err);
	if (rc != CF_OK)
		return rc;
	if (now_us == 0)
		return cf_error_set(err, CF_E_INVAL,
		    "meta: revocation time 0 means not revoked");
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = token_update(c, ST_T_REVOKE, id, now_us, &changed, err);
	if (rc != CF_OK)
		goto out;
	if (!changed) {
		/* Unknown, or revoked already (then keep that time). */
		rc = conn_stmt(c, ST_T_GET, &st, err);
		if (rc != CF_OK)
			goto out;
		if (bind_str(st, 1, id) != SQLITE_OK) {
			rc = bind_failed(c, err);
			goto out;
		}
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such token");
		else if (src != SQLITE_ROW)
			rc = db_err(c->db, src, err, "token revoke");
		stmt_done(st);
		st = NULL;
	}
out:
	stmt_done(st);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_token_list(struct cf_meta *m, int64_t principal_id, cf_token_cb cb,
    void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_token_rec	 rec;
	int			 src;
	cf_err			 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, principal_id < 0 ? ST_T_LIST_ALL : ST_T_LIST_P, &st,
	    err);
	if (rc != CF_OK)
		goto out;
	if (principal_id >= 0 &&
	    sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "token list");
			break;
		}
		rc = read_token(st, &rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

/* --- role bindings --- */

static cf_err
check_binding(const char *role, const char *ns, struct cf_error *err)
{
	cf_err	rc;

	rc = check_str(role, CF_ROLE_MAX, "role", err);
	if (rc == CF_OK)
		rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK && role[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty role");
	return rc;
}

cf_err
cf_meta_binding_add(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t principal_id, const char *role, const char *ns,
    int64_t expires_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int64_t		 ns_id = 0;
	int		 src, b;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_binding(role, ns, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	/* A namespace binding must name an existing namespace (deleting it
	 * removes its bindings, in the same transaction). */
	if (ns[0] != '\0') {
		rc = ns_id_of(c, ns, &ns_id, err);
		if (rc != CF_OK)
			goto out;
	}
	rc = conn_stmt(c, ST_B_ADD, &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, principal_id);
	b |= bind_str(st, 2, role);
	b |= bind_str(st, 3, ns);
	b |= sqlite3_bind_int64(st, 4, expires_us);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_FOREIGNKEY) {
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such principal");
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "binding add");
		goto out;
	}
out:
	stmt_done(st);
	return wtx_end(m, c, au, rc, err);
}

static cf_err
binding_remove(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t principal_id, const char *role, const char *ns,
    int64_t expired_at_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_binding(role, ns, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, expired_at_us != 0 ? ST_B_REMOVE_EXPIRED :
	    ST_B_REMOVE, &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, principal_id);
	b |= bind_str(st, 2, role);
	b |= bind_str(st, 3, ns);
	if (expired_at_us != 0)
		b |= sqlite3_bind_int64(st, 4, expired_at_us);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = db_err(c->db, src, err, "binding remove");
	else if (sqlite3_changes(c->db) == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such binding");
out:
	stmt_done(st);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_binding_remove(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t principal_id, const char *role, const char *ns,
    struct cf_error *err)
{
	return binding_remove(m, au, principal_id, role, ns, 0, err);
}

cf_err
cf_meta_binding_remove_expired(struct cf_meta *m,
    const struct cf_meta_audit *au, int64_t principal_id, const char *role,
    const char *ns, int64_t now_us, struct cf_error *err)
{
	if (now_us <= 0)
		return cf_error_set(err, CF_E_INVAL, "meta: no expiry time");
	return binding_remove(m, au, principal_id, role, ns, now_us, err);
}

/* The statement of cf_meta_binding_list's case. */
static int
binding_list_stmt(int64_t principal_id, const char *ns)
{
	if (principal_id >= 0)
		return ns != NULL ? ST_B_LIST_P_NS : ST_B_LIST_P;
	return ns != NULL ? ST_B_LIST_NS : ST_B_LIST;
}

const char *
cf_meta_test_binding_list_sql(int64_t principal_id, const char *ns)
{
	return stmt_sql[binding_list_stmt(principal_id, ns)];
}

/* One row of a binding list into rec; false (*rc set, or CF_OK for a
 * binding expired at live_at_us, which is skipped) when it is not one to
 * hand on. */
static bool
binding_row(sqlite3_stmt *st, int64_t live_at_us, struct cf_binding_rec *rec,
    cf_err *rc, struct cf_error *err)
{
	memset(rec, 0, sizeof(*rec));
	rec->principal_id = sqlite3_column_int64(st, 0);
	*rc = col_str(st, 1, rec->principal, sizeof(rec->principal), err);
	if (*rc == CF_OK)
		*rc = col_str(st, 2, rec->role, sizeof(rec->role), err);
	if (*rc == CF_OK)
		*rc = col_str(st, 3, rec->ns, sizeof(rec->ns), err);
	rec->expires_us = sqlite3_column_int64(st, 4);
	/* SEC: an expired binding grants nothing from its expiry on,
	 * whether or not the sweep has deleted it yet. */
	if (*rc == CF_OK && live_at_us >= 0 && rec->expires_us != 0 &&
	    rec->expires_us <= live_at_us)
		return false;
	return *rc == CF_OK;
}

/* A principal's bindings, read in their key's order (role, ns) and
 * sorted here by (ns, role) as ST_B_LIST_P's ORDER BY would (SQLite
 * compares text bytewise, as strcmp does): every authentication lists
 * them, and SQLite sets up a sorter for that ORDER BY (about 4,000
 * instructions of a small GET).  *done false, and nothing handed on,
 * when there are more than BL_SMALL: then the caller runs the sorted
 * statement. */
#define BL_SMALL	8
static cf_err
binding_list_small(struct conn *c, int64_t principal_id, int64_t live_at_us,
    cf_binding_cb cb, void *arg, bool *done, struct cf_error *err)
{
	struct cf_binding_rec	 v[BL_SMALL], t;
	sqlite3_stmt		*st = NULL;
	size_t			 n = 0, i, k;
	int			 src;
	cf_err			 rc;

	*done = false;
	rc = conn_stmt(c, ST_B_LIST_PU, &st, err);
	if (rc != CF_OK)
		return rc;
	if (sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "binding list");
			goto out;
		}
		if (n == BL_SMALL)
			goto out;		/* more: the sorted statement */
		if (binding_row(st, live_at_us, &v[n], &rc, err))
			n++;
		else if (rc != CF_OK)
			goto out;
	}
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && (strcmp(v[k - 1].ns, v[k].ns) > 0 ||
		    (strcmp(v[k - 1].ns, v[k].ns) == 0 &&
		    strcmp(v[k - 1].role, v[k].role) > 0)); k--) {
			t = v[k - 1];
			v[k - 1] = v[k];
			v[k] = t;
		}
	*done = true;
	for (i = 0; i < n && rc == CF_OK && cb != NULL; i++)
		rc = cb(arg, &v[i], err);
out:
	stmt_done(st);
	return rc;
}

cf_err
cf_meta_binding_list(struct cf_meta *m, int64_t principal_id, const char *ns,
    int64_t live_at_us, cf_binding_cb cb, void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_binding_rec	 rec;
	bool			 done = false;
	int			 src, b;
	cf_err			 rc;

	if (ns != NULL) {
		rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
		if (rc != CF_OK)
			return rc;
	}
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	if (principal_id >= 0 && ns == NULL) {
		rc = binding_list_small(c, principal_id, live_at_us, cb, arg,
		    &done, err);
		if (rc != CF_OK || done)
			goto out;
	}
	rc = conn_stmt(c, binding_list_stmt(principal_id, ns), &st, err);
	if (rc != CF_OK)
		goto out;
	b = SQLITE_OK;
	if (principal_id >= 0)
		b |= sqlite3_bind_int64(st, 1, principal_id);
	if (ns != NULL)
		b |= bind_str(st, 2, ns);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "binding list");
			break;
		}
		if (!binding_row(st, live_at_us, &rec, &rc, err)) {
			if (rc != CF_OK)
				break;
			continue;
		}
		if (cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

/* --- identity (issue 4) --- */

/* Bind ?1.. from fmt: 'i' int64_t, 't' C string, 'k' C string as an
 * object key (a BLOB), 'h' 32-byte blob, 'w' CF_WRAPPED_DEK_LEN-byte
 * blob. */
static int
bind_fmt(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	const char	*s;
	const uint8_t	*b;
	int		 i, rc = SQLITE_OK;

	for (i = 1; *fmt != '\0'; fmt++, i++) {
		switch (*fmt) {
		case 'i':
			rc |= sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 't':
			s = va_arg(ap, const char *);
			rc |= bind_str(st, i, s);
			break;
		case 'k':
			s = va_arg(ap, const char *);
			rc |= bind_key(st, i, s, strlen(s));
			break;
		case 'h':
			b = va_arg(ap, const uint8_t *);
			rc |= sqlite3_bind_blob(st, i, b, 32, SQLITE_STATIC);
			break;
		case 'w':
			b = va_arg(ap, const uint8_t *);
			rc |= sqlite3_bind_blob(st, i, b, CF_WRAPPED_DEK_LEN,
			    SQLITE_STATIC);
			break;
		default:
			return SQLITE_MISUSE;
		}
	}
	return rc;
}

/* Run statement id (no result rows) on c with the bound values; *changes
 * (nullable) gets the number of rows changed. */
static cf_err
exec_on_v(struct conn *c, int id, int *changes, struct cf_error *err,
    const char *fmt, va_list ap)
{
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = conn_stmt(c, id, &st, err);
	if (rc != CF_OK)
		return rc;
	b = bind_fmt(st, fmt, ap);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such principal");
	else if (src != SQLITE_DONE)
		rc = db_err(c->db, src, err, stmt_sql[id]);
	else if (changes != NULL)
		*changes = sqlite3_changes(c->db);
out:
	stmt_done(st);
	return rc;
}

static cf_err
exec_on(struct conn *c, int id, int *changes, struct cf_error *err,
    const char *fmt, ...)
{
	va_list	ap;
	cf_err	rc;

	va_start(ap, fmt);
	rc = exec_on_v(c, id, changes, err, fmt, ap);
	va_end(ap);
	return rc;
}

/* Statement id as one audited change (wtx_begin, wtx_end).  With
 * notfound, a statement that changes no row fails CF_E_NOTFOUND with
 * that message, and nothing is recorded; *changes (nullable) gets the
 * number of rows changed. */
static cf_err
exec_audited(struct cf_meta *m, const struct cf_meta_audit *au, int id,
    const char *notfound, int *changes, struct cf_error *err,
    const char *fmt, ...)
{
	struct conn	*c = NULL;
	va_list		 ap;
	int		 n = 0;
	cf_err		 rc;

	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	va_start(ap, fmt);
	rc = exec_on_v(c, id, &n, err, fmt, ap);
	va_end(ap);
	if (rc == CF_OK && n == 0 && notfound != NULL)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: %s", notfound);
	rc = wtx_end(m, c, au, rc, err);
	if (rc == CF_OK && changes != NULL)
		*changes = n;
	return rc;
}

/* In c's transaction: with revoke_us != 0, revoke every session of pid
 * at revoke_us but except_id (NULL: none); *n (nullable) gets the number
 * revoked. */
static cf_err
revoke_sessions_on(struct conn *c, int64_t pid, int64_t revoke_us,
    const char *except_id, size_t *n, struct cf_error *err)
{
	int	changed = 0;
	cf_err	rc = CF_OK;

	if (revoke_us != 0)
		rc = exec_on(c, ST_T_REVOKE_SESS, &changed, err, "iit", pid,
		    revoke_us, except_id != NULL ? except_id : "");
	if (rc == CF_OK && n != NULL)
		*n = (size_t)changed;
	return rc;
}

/* One principal column (stmt with ?1 the id and ?2 ival, or svalue when
 * it is not NULL), then revoke_sessions_on(), in one transaction;
 * CF_E_NOTFOUND for an unknown id. */
static cf_err
set_then_revoke(struct cf_meta *m, const struct cf_meta_audit *au, int stmt,
    int64_t id, int64_t ival, const char *sval, int64_t revoke_us,
    const char *except_id, size_t *n, struct cf_error *err)
{
	struct conn	*c = NULL;
	int		 changed = 0;
	cf_err		 rc;

	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = sval != NULL ? exec_on(c, stmt, &changed, err, "it", id, sval) :
	    exec_on(c, stmt, &changed, err, "ii", id, ival);
	if (rc == CF_OK && changed == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such principal");
	if (rc == CF_OK)
		rc = revoke_sessions_on(c, id, revoke_us, except_id, n, err);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_principal_set_disabled(struct cf_meta *m,
    const struct cf_meta_audit *au, int64_t id, bool disabled,
    int64_t revoke_us, size_t *n, struct cf_error *err)
{
	return set_then_revoke(m, au, ST_P_SET_DISABLED, id, disabled ? 1 : 0,
	    NULL, revoke_us, NULL, n, err);
}

cf_err
cf_meta_principal_set_mfa_required(struct cf_meta *m,
    const struct cf_meta_audit *au, int64_t id, bool required,
    struct cf_error *err)
{
	return exec_audited(m, au, ST_P_SET_MFAREQ, "no such principal",
	    NULL, err, "ii", id, (int64_t)(required ? 1 : 0));
}

cf_err
cf_meta_password_set(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t id, const char *hash, int64_t revoke_us, const char *except_id,
    size_t *n, struct cf_error *err)
{
	cf_err	rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(hash, CF_PWHASH_MAX, "password hash", err);
	if (rc != CF_OK)
		return rc;
	return set_then_revoke(m, au, ST_P_SET_PW, id, 0, hash, revoke_us,
	    except_id, n, err);
}

cf_err
cf_meta_password_rehash(struct cf_meta *m, int64_t id, const char *old_hash,
    const char *new_hash, struct cf_error *err)
{
	struct conn	*c = NULL;
	int		 n = 0;
	cf_err		 rc;

	rc = check_str(old_hash, CF_PWHASH_MAX, "password hash", err);
	if (rc == CF_OK)
		rc = check_str(new_hash, CF_PWHASH_MAX, "password hash", err);
	if (rc == CF_OK && (old_hash[0] == '\0' || new_hash[0] == '\0'))
		rc = cf_error_set(err, CF_E_INPUT,
		    "meta: a rehash replaces a password by itself");
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: one conditional UPDATE: a password changed since old_hash
	 * was read is never overwritten by a rehash of the old one. */
	rc = exec_on(c, ST_P_REHASH, &n, err, "itt", id, old_hash, new_hash);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: the password changed meanwhile");
	pool_put(m, c);
	return rc;
}

/* Run a one-row query by int key; *found tells whether it had a row.
 * The statement stays positioned on the row for the caller to read:
 * call stmt_done() after. */
static cf_err
query_row(struct conn *c, int id, sqlite3_stmt **out, bool *found,
    struct cf_error *err, const char *fmt, ...)
{
	sqlite3_stmt	*st = NULL;
	va_list		 ap;
	int		 src, b;
	cf_err		 rc;

	*found = false;
	rc = conn_stmt(c, id, &st, err);
	if (rc != CF_OK)
		return rc;
	va_start(ap, fmt);
	b = bind_fmt(st, fmt, ap);
	va_end(ap);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		stmt_done(st);
		return rc;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		*found = true;
	else if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, stmt_sql[id]);
		stmt_done(st);
		return rc;
	}
	*out = st;
	return CF_OK;
}

cf_err
cf_meta_password_get(struct cf_meta *m, int64_t id, char out[CF_PWHASH_MAX],
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	bool		 found;
	cf_err		 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_P_GET_PW, &st, &found, err, "i", id);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such principal");
	if (rc == CF_OK)
		rc = col_str(st, 0, out, CF_PWHASH_MAX, err);
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_token_set_mfa(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t mfa_at_us, struct cf_error *err)
{
	cf_err	rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_TOKEN_ID_LEN + 1, "token id", err);
	if (rc != CF_OK)
		return rc;
	return exec_audited(m, au, ST_T_SET_MFA, "no such token", NULL, err,
	    "ti", id, mfa_at_us);
}

cf_err
cf_meta_mfa_put(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_mfa_rec *rec, const uint8_t (*hashes)[32], size_t n,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	size_t		 i;
	cf_err		 rc;

	if ((rc = audit_armed(au, err)) != CF_OK)
		return rc;
	if (rec == NULL || (n > 0 && hashes == NULL))
		return cf_error_set(err, CF_E_INVAL, "meta: NULL argument");
	if (n > CF_RECOVERY_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "meta: more than %d recovery codes", CF_RECOVERY_MAX);
	rc = check_field(rec->kek_id, sizeof(rec->kek_id), "kek id", err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_MFA_PUT, NULL, err, "itwi", rec->principal_id,
	    rec->kek_id, rec->wrapped, rec->created_us);
	if (rc == CF_OK)
		rc = exec_on(c, ST_RC_DEL, NULL, err, "i", rec->principal_id);
	for (i = 0; rc == CF_OK && i < n; i++)
		rc = exec_on(c, ST_RC_ADD, NULL, err, "ih", rec->principal_id,
		    hashes[i]);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_mfa_get(struct cf_meta *m, int64_t principal_id,
    struct cf_mfa_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_mfa_rec	 rec;
	bool			 found;
	cf_err			 rc;

	memset(&rec, 0, sizeof(rec));
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_MFA_GET, &st, &found, err, "i", principal_id);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no MFA enrollment");
	if (rc == CF_OK) {
		rec.principal_id = sqlite3_column_int64(st, 0);
		rc = col_str(st, 1, rec.kek_id, sizeof(rec.kek_id), err);
	}
	if (rc == CF_OK)
		rc = col_bytes(st, 2, rec.wrapped, sizeof(rec.wrapped), err);
	if (rc == CF_OK) {
		rec.enabled = sqlite3_column_int(st, 3) != 0;
		rec.last_step = sqlite3_column_int64(st, 4);
		rec.created_us = sqlite3_column_int64(st, 5);
		*out = rec;
	}
	stmt_done(st);
	pool_put(m, c);
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

cf_err
cf_meta_mfa_enable(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t principal_id, struct cf_error *err)
{
	return exec_audited(m, au, ST_MFA_ENABLE, "no MFA enrollment", NULL,
	    err, "i", principal_id);
}

cf_err
cf_meta_mfa_delete(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t principal_id, int64_t revoke_us, size_t *n, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_MFA_DEL, NULL, err, "i", principal_id);
	if (rc == CF_OK)
		rc = exec_on(c, ST_RC_DEL, NULL, err, "i", principal_id);
	if (rc == CF_OK)
		rc = revoke_sessions_on(c, principal_id, revoke_us, NULL, n,
		    err);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_token_revoke_sessions(struct cf_meta *m,
    const struct cf_meta_audit *au, int64_t principal_id,
    const char *except_id, int64_t now_us, size_t *n, struct cf_error *err)
{
	int	changed = 0;
	cf_err	rc;

	if ((rc = audit_armed(au, err)) != CF_OK)
		return rc;
	if (now_us == 0)
		return cf_error_set(err, CF_E_INVAL,
		    "meta: revocation time 0 means not revoked");
	/* One UPDATE: every session of the principal is revoked at once. */
	rc = exec_audited(m, au, ST_T_REVOKE_SESS, NULL, &changed, err, "iit",
	    principal_id, now_us, except_id != NULL ? except_id : "");
	if (rc == CF_OK && n != NULL)
		*n = (size_t)changed;
	return rc;
}

cf_err
cf_meta_mfa_use_step(struct cf_meta *m, int64_t principal_id, int64_t step,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	int		 n = 0;
	cf_err		 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: one conditional UPDATE: of two requests with the same code,
	 * exactly one changes the row. */
	rc = exec_on(c, ST_MFA_STEP, &n, err, "ii", principal_id, step);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_AUTH, "code already used");
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_recovery_list(struct cf_meta *m, int64_t principal_id,
    uint8_t (*hashes)[32], size_t max, size_t *n, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 k = 0;
	int		 src;
	cf_err		 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_RC_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "recovery list");
			goto out;
		}
		if (k >= max)
			break;
		rc = col_bytes(st, 0, hashes[k], 32, err);
		if (rc != CF_OK)
			goto out;
		k++;
	}
	*n = k;
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_recovery_use(struct cf_meta *m, int64_t principal_id,
    const uint8_t hash[32], int64_t now_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	int		 n = 0;
	cf_err		 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_RC_USE, &n, err, "ihi", principal_id, hash,
	    now_us);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_AUTH, "recovery code already used");
	pool_put(m, c);
	return rc;
}

static cf_err
authfail_read(struct conn *c, const char *key, struct cf_authfail_rec *out,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	bool		 found;
	cf_err		 rc;

	memset(out, 0, sizeof(*out));
	rc = query_row(c, ST_AF_GET, &st, &found, err, "t", key);
	if (rc == CF_OK && found) {
		out->count = sqlite3_column_int64(st, 0);
		out->last_us = sqlite3_column_int64(st, 1);
		out->locked_until_us = sqlite3_column_int64(st, 2);
	}
	stmt_done(st);
	return rc;
}

cf_err
cf_meta_authfail_get(struct cf_meta *m, const char *key,
    struct cf_authfail_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	struct cf_authfail_rec	 rec;
	cf_err			 rc;

	rc = check_str(key, CF_AUTHKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = authfail_read(c, key, &rec, err);
	if (rc == CF_OK)
		*out = rec;
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_authfail_add(struct cf_meta *m, const char *key, int64_t now_us,
    int64_t lock_after, int64_t lock_us, struct cf_authfail_rec *out,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	struct cf_authfail_rec	 rec;
	cf_err			 rc;

	rc = check_str(key, CF_AUTHKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* BEGIN IMMEDIATE: read-modify-write under the write lock, so no
	 * concurrent failure is lost. */
	rc = tx_begin(c, true, err);
	if (rc == CF_OK)
		rc = authfail_read(c, key, &rec, err);
	if (rc == CF_OK) {
		if (rec.locked_until_us != 0 && rec.locked_until_us <= now_us) {
			rec.count = 0;
			rec.locked_until_us = 0;
		}
		rec.prev_count = rec.count;
		rec.prev_last_us = rec.last_us;
		rec.prev_locked_until_us = rec.locked_until_us;
		rec.count++;
		rec.last_us = now_us;
		if (lock_after > 0 && rec.count >= lock_after &&
		    rec.locked_until_us == 0)
			rec.locked_until_us = now_us + lock_us;
		rc = exec_on(c, ST_AF_PUT, NULL, err, "tiii", key, rec.count,
		    rec.last_us, rec.locked_until_us);
	}
	if (rc == CF_OK)
		rc = tx_commit(c, err);
	if (rc != CF_OK)
		tx_rollback(c);
	else
		*out = rec;
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_authfail_release(struct cf_meta *m, const char *key,
    int64_t lock_after, const struct cf_authfail_rec *res,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	struct cf_authfail_rec	 rec;
	cf_err			 rc;

	rc = check_str(key, CF_AUTHKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = tx_begin(c, true, err);
	if (rc == CF_OK)
		rc = authfail_read(c, key, &rec, err);
	if (rc == CF_OK && rec.count > 0) {
		rec.count--;
		if (lock_after > 0 && rec.count < lock_after)
			rec.locked_until_us = 0;
		if (res != NULL && rec.last_us == res->last_us)
			rec.last_us = res->prev_last_us;
		rc = exec_on(c, ST_AF_PUT, NULL, err, "tiii", key, rec.count,
		    rec.last_us, rec.locked_until_us);
	}
	if (rc == CF_OK)
		rc = tx_commit(c, err);
	if (rc != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_authfail_clear(struct cf_meta *m, const char *key,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = check_str(key, CF_AUTHKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_AF_DEL, NULL, err, "t", key);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_role_mfa_set(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *role, bool required, struct cf_error *err)
{
	cf_err	rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(role, CF_ROLE_MAX, "role", err);
	if (rc != CF_OK)
		return rc;
	return exec_audited(m, au, ST_ROLE_SET, NULL, NULL, err, "ti", role,
	    (int64_t)(required ? 1 : 0));
}

cf_err
cf_meta_role_mfa_get(struct cf_meta *m, const char *role, bool *required,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	bool		 found;
	cf_err		 rc;

	rc = check_str(role, CF_ROLE_MAX, "role", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_ROLE_GET, &st, &found, err, "t", role);
	if (rc == CF_OK)
		*required = found && sqlite3_column_int(st, 0) != 0;
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_ns_set_sensitivity(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *name, const char *sensitivity, struct cf_error *err)
{
	cf_err	rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(name, CF_NS_NAME_MAX, "namespace name", err);
	if (rc == CF_OK)
		rc = check_str(sensitivity, CF_SENS_MAX, "sensitivity", err);
	if (rc != CF_OK)
		return rc;
	return exec_audited(m, au, ST_NS_SET_SENS, "no such namespace", NULL,
	    err, "tt", name, sensitivity);
}

/* Insert principal p (checked) created at now, in c's transaction; *id
 * gets its id. */
static cf_err
principal_insert_on(struct conn *c, const struct cf_principal_rec *p,
    int64_t now, int64_t *id, struct cf_error *err)
{
	cf_err	rc;

	rc = exec_on(c, ST_P_INSERT, NULL, err, "ttiiiii", p->name, p->kind,
	    now, (int64_t)(p->disabled ? 1 : 0), p->owner_id,
	    (int64_t)(p->provisioned ? 1 : 0),
	    (int64_t)(p->mfa_required ? 1 : 0));
	if (rc == CF_OK)
		*id = sqlite3_last_insert_rowid(c->db);
	return rc;
}

cf_err
cf_meta_bootstrap(struct cf_meta *m, struct cf_principal_rec *p,
    const char *role, struct cf_token_rec *tok, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int64_t		 now, pid = 0;
	bool		 found;
	cf_err		 rc;

	if (p == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL principal");
	rc = check_field(p->name, sizeof(p->name), "principal name", err);
	if (rc == CF_OK)
		rc = check_field(p->kind, sizeof(p->kind), "kind", err);
	if (rc == CF_OK && p->name[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty principal");
	if (rc == CF_OK)
		rc = check_binding(role, "", err);
	if (rc == CF_OK)
		rc = check_token(tok, err);
	if (rc != CF_OK)
		return rc;
	now = cf_now_us();
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: the check and the inserts in one write transaction: of two
	 * processes starting on a new store, one bootstraps. */
	rc = tx_begin(c, true, err);
	if (rc == CF_OK)
		rc = query_row(c, ST_P_COUNT, &st, &found, err, "");
	if (rc == CF_OK && (!found || sqlite3_column_int64(st, 0) != 0))
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: the store has principals already");
	stmt_done(st);
	if (rc == CF_OK)
		rc = principal_insert_on(c, p, now, &pid, err);
	if (rc == CF_OK)
		rc = exec_on(c, ST_B_ADD, NULL, err, "itti", pid, role, "",
		    (int64_t)0);
	if (rc == CF_OK)
		rc = token_insert_on(c, tok, pid, err);
	if (rc == CF_OK)
		rc = tx_commit(c, err);
	if (rc != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
	if (rc == CF_OK) {
		p->id = pid;
		p->created_us = now;
		tok->principal_id = pid;
	}
	return rc;
}

/* --- OIDC links --- */

static cf_err
link_check(const char *issuer, const char *subject, struct cf_error *err)
{
	cf_err	rc;

	rc = check_str(issuer, CF_OIDC_ISS_MAX, "issuer", err);
	if (rc == CF_OK)
		rc = check_str(subject, CF_OIDC_SUB_MAX, "subject", err);
	if (rc == CF_OK && (*issuer == '\0' || *subject == '\0'))
		rc = cf_error_set(err, CF_E_INPUT,
		    "meta: empty issuer or subject");
	return rc;
}

/* In c's transaction: who (issuer, subject) is linked to; 0 if nobody. */
static cf_err
link_get_on(struct conn *c, const char *issuer, const char *subject,
    int64_t *pid, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	bool		 found;
	cf_err		 rc;

	*pid = 0;
	rc = query_row(c, ST_L_GET, &st, &found, err, "tt", issuer, subject);
	if (rc == CF_OK && found)
		*pid = sqlite3_column_int64(st, 0);
	stmt_done(st);
	return rc;
}

cf_err
cf_meta_oidc_link_get(struct cf_meta *m, const char *issuer,
    const char *subject, int64_t *principal_id, struct cf_error *err)
{
	struct conn	*c = NULL;
	int64_t		 pid = 0;
	cf_err		 rc;

	rc = link_check(issuer, subject, err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = link_get_on(c, issuer, subject, &pid, err);
	pool_put(m, c);
	if (rc == CF_OK && pid == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such link");
	if (rc == CF_OK)
		*principal_id = pid;
	return rc;
}

cf_err
cf_meta_oidc_link_add(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *issuer, const char *subject, int64_t principal_id,
    bool adopt, int64_t now_us, bool *created, struct cf_error *err)
{
	struct conn	*c = NULL;
	int64_t		 pid = 0;
	int		 n = 0;
	bool		 made = false;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = link_check(issuer, subject, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, adopt ? ST_P_ADOPT : ST_P_NOADOPT, &n, err, "i",
	    principal_id);
	if (rc == CF_OK && n == 0)
		rc = adopt ? cf_error_set(err, CF_E_CONFLICT,
		    "meta: principal is not adoptable") :
		    cf_error_set(err, CF_E_NOTFOUND, "meta: no such principal");
	if (rc == CF_OK)
		rc = link_get_on(c, issuer, subject, &pid, err);
	if (rc == CF_OK && pid != 0 && pid != principal_id)
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: subject linked to another principal");
	if (rc == CF_OK && pid == 0) {
		rc = exec_on(c, ST_L_INSERT, NULL, err, "ttii", issuer, subject,
		    principal_id, now_us);
		made = true;
	}
	rc = wtx_end(m, c, au, rc, err);
	if (rc == CF_OK && created != NULL)
		*created = made;
	return rc;
}

cf_err
cf_meta_oidc_link_remove(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *issuer, const char *subject, int64_t principal_id,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	int		 n = 0;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = link_check(issuer, subject, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_L_DEL, &n, err, "tti", issuer, subject,
	    principal_id);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such link");
	if (rc == CF_OK)
		rc = exec_on(c, ST_P_NOADOPT, NULL, err, "i", principal_id);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_oidc_link_list(struct cf_meta *m, int64_t principal_id,
    cf_oidc_link_cb cb, void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_oidc_link_rec	 rec;
	int			 src;
	cf_err			 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_L_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "link list");
			break;
		}
		memset(&rec, 0, sizeof(rec));
		rc = col_str(st, 0, rec.issuer, sizeof(rec.issuer), err);
		if (rc == CF_OK)
			rc = col_str(st, 1, rec.subject, sizeof(rec.subject),
			    err);
		rec.principal_id = sqlite3_column_int64(st, 2);
		rec.created_us = sqlite3_column_int64(st, 3);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_principal_create_linked(struct cf_meta *m,
    const struct cf_meta_audit *au, struct cf_principal_rec *p,
    const char *issuer, const char *subject, struct cf_error *err)
{
	struct conn	*c = NULL;
	int64_t		 now, pid = 0;
	cf_err		 rc;

	if ((rc = audit_armed(au, err)) != CF_OK)
		return rc;
	if (p == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL principal");
	rc = link_check(issuer, subject, err);
	if (rc == CF_OK)
		rc = check_field(p->name, sizeof(p->name), "principal name",
		    err);
	if (rc == CF_OK)
		rc = check_field(p->kind, sizeof(p->kind), "kind", err);
	if (rc == CF_OK && p->name[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty principal");
	if (rc != CF_OK)
		return rc;
	now = cf_now_us();
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = principal_insert_on(c, p, now, &pid, err);
	if (rc == CF_OK)
		rc = exec_on(c, ST_L_INSERT, NULL, err, "ttii", issuer, subject,
		    pid, now);
	rc = wtx_end(m, c, au, rc, err);
	if (rc == CF_OK) {
		p->id = pid;
		p->created_us = now;
		p->oidc_adoptable = false;
	}
	return rc;
}

/* --- custom policy sets --- */

static cf_err
check_policy_key(const char *name, const char *ns, struct cf_error *err)
{
	cf_err	rc;

	rc = check_str(name, CF_POLICY_NAME_MAX, "policy name", err);
	if (rc == CF_OK)
		rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK && name[0] == '\0')
		rc = cf_error_set(err, CF_E_INPUT, "meta: empty policy name");
	return rc;
}

/* The scope of ns inside c's transaction: 0 for global (""), else the
 * namespace's id; CF_E_NOTFOUND for no such namespace. */
static cf_err
policy_scope(struct conn *c, const char *ns, int64_t *scope,
    struct cf_error *err)
{
	*scope = 0;
	if (ns[0] == '\0')
		return CF_OK;
	return ns_id_of(c, ns, scope, err);
}

/* Columns 0..7 (POLCOLS) of the current row. */
static cf_err
read_policy(sqlite3_stmt *st, struct cf_policy_rec *p, struct cf_error *err)
{
	sqlite3_int64	size;
	cf_err		rc;

	memset(p, 0, sizeof(*p));
	rc = col_str(st, 0, p->name, sizeof(p->name), err);
	if (rc == CF_OK)
		rc = col_str(st, 1, p->ns, sizeof(p->ns), err);
	p->version = sqlite3_column_int64(st, 2);
	p->deleted = sqlite3_column_int(st, 3) != 0;
	if (rc == CF_OK)
		rc = col_str(st, 4, p->sha256, sizeof(p->sha256), err);
	if (rc == CF_OK)
		rc = col_str(st, 5, p->created_by, sizeof(p->created_by),
		    err);
	p->created_us = sqlite3_column_int64(st, 6);
	size = sqlite3_column_int64(st, 7);
	if (rc == CF_OK && (size < 0 || size > CF_POLICY_TEXT_MAX))
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "meta: policy text of %lld bytes", (long long)size);
	p->text_len = (size_t)size;
	return rc;
}

/* Column i (the text) of the current row: *p borrowed until the next
 * step, checked against the recorded size. */
static cf_err
col_policy_text(sqlite3_stmt *st, int i, size_t want, const char **p,
    struct cf_error *err)
{
	const unsigned char	*t;
	int			 n;

	t = sqlite3_column_text(st, i);
	n = sqlite3_column_bytes(st, i);
	if (t == NULL && sqlite3_errcode(sqlite3_db_handle(st)) ==
	    SQLITE_NOMEM)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	if (n < 0 || (size_t)n != want || (n > 0 && t == NULL))
		return cf_error_set(err, CF_E_INTEGRITY, "meta: policy text "
		    "of %d bytes, recorded %zu", n, want);
	*p = t != NULL ? (const char *)t : "";
	return CF_OK;
}

cf_err
cf_meta_policy_put(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_policy_rec *p, const char *text, size_t len,
    int64_t expect, struct cf_policy_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_policy_rec	 rec;
	uint8_t			 d[CF_SHA256_LEN];
	int64_t			 scope = 0, latest = 0, count = 0;
	bool			 found, live = false;
	int			 src, b;
	cf_err			 rc;

	rc = audit_armed(au, err);
	if (rc != CF_OK)
		return rc;
	if (p == NULL || (text == NULL && len > 0))
		return cf_error_set(err, CF_E_INVAL, "meta: NULL policy");
	rc = check_policy_key(p->name, p->ns, err);
	if (rc == CF_OK)
		rc = check_field(p->created_by, sizeof(p->created_by),
		    "created_by", err);
	if (rc != CF_OK)
		return rc;
	if (p->deleted && len != 0)
		return cf_error_set(err, CF_E_INVAL,
		    "meta: a tombstone has no text");
	if (len > CF_POLICY_TEXT_MAX)
		return cf_error_set(err, CF_E_LIMIT, "meta: policy text is %zu "
		    "bytes, limit is %u", len, CF_POLICY_TEXT_MAX);
	if (len > 0 && memchr(text, '\0', len) != NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: policy text holds a NUL byte");
	memset(&rec, 0, sizeof(rec));
	(void)cf_strlcpy(rec.name, p->name, sizeof(rec.name));
	(void)cf_strlcpy(rec.ns, p->ns, sizeof(rec.ns));
	(void)cf_strlcpy(rec.created_by, p->created_by,
	    sizeof(rec.created_by));
	rec.created_us = p->created_us;
	rec.deleted = p->deleted;
	rec.text_len = len;
	cf_sha256(len > 0 ? text : "", len, d);
	cf_hex_encode(d, sizeof(d), rec.sha256);

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = tx_begin(c, true, err);
	if (rc == CF_OK)
		rc = policy_scope(c, p->ns, &scope, err);
	if (rc == CF_OK)
		rc = query_row(c, ST_POL_LATEST, &st, &found, err, "it", scope,
		    p->name);
	if (rc != CF_OK)
		goto out;
	if (found) {
		latest = sqlite3_column_int64(st, 2);
		live = sqlite3_column_int(st, 3) == 0;
	}
	stmt_done(st);
	st = NULL;
	/* SEC: the caller recorded the version it replaces. */
	if (latest != expect) {
		rc = cf_error_set(err, CF_E_CONFLICT, "meta: policy %s changed "
		    "meanwhile (version %lld, expected %lld)", p->name,
		    (long long)latest, (long long)expect);
		goto out;
	}
	if (p->deleted && !live) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such policy");
		goto out;
	}
	if (!p->deleted && !live) {
		/* A set comes into force: room for it in its scope? */
		rc = query_row(c, ST_POL_COUNT, &st, &found, err, "i", scope);
		if (rc != CF_OK)
			goto out;
		count = found ? sqlite3_column_int64(st, 0) : 0;
		stmt_done(st);
		st = NULL;
		if (count >= (scope == 0 ? CF_POLICY_GLOBAL_SETS_MAX :
		    CF_POLICY_NS_SETS_MAX)) {
			rc = cf_error_set(err, CF_E_LIMIT, "meta: %lld policy "
			    "sets in force %s already, the most allowed",
			    (long long)count, scope == 0 ? "globally" :
			    "in this namespace");
			goto out;
		}
	}
	if (!p->deleted && !live && scope != 0) {
		rc = query_row(c, ST_POL_COUNT_NS, &st, &found, err, "");
		if (rc != CF_OK)
			goto out;
		count = found ? sqlite3_column_int64(st, 0) : 0;
		stmt_done(st);
		st = NULL;
		if (count >= CF_POLICY_SETS_MAX - CF_POLICY_GLOBAL_SETS_MAX) {
			rc = cf_error_set(err, CF_E_LIMIT, "meta: %lld policy "
			    "sets of namespaces in force already, the most "
			    "allowed", (long long)count);
			goto out;
		}
	}
	rec.version = latest + 1;
	rc = conn_stmt(c, ST_POL_INSERT, &st, err);
	if (rc != CF_OK)
		goto out;
	b = bind_str(st, 1, p->name);
	b |= sqlite3_bind_int64(st, 2, scope);
	b |= sqlite3_bind_int64(st, 3, rec.version);
	b |= sqlite3_bind_int(st, 4, p->deleted ? 1 : 0);
	b |= sqlite3_bind_text(st, 5, len > 0 ? text : "", (int)len,
	    SQLITE_STATIC);
	b |= bind_str(st, 6, rec.sha256);
	b |= bind_str(st, 7, p->created_by);
	b |= sqlite3_bind_int64(st, 8, p->created_us);
	b |= sqlite3_bind_int64(st, 9, (sqlite3_int64)len);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "policy insert");
		goto out;
	}
	stmt_done(st);
	st = NULL;
	rc = tx_commit_audited(c, au, err);
out:
	stmt_done(st);
	if (c != NULL && rc != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
	if (rc == CF_OK && out != NULL)
		*out = rec;
	return rc;
}

cf_err
cf_meta_policy_get(struct cf_meta *m, const char *name, const char *ns,
    int64_t version, struct cf_policy_rec *out, char **text,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_policy_rec	 rec;
	const char		*t = NULL;
	char			*copy = NULL;
	int64_t			 scope = 0;
	bool			 found = false;
	cf_err			 rc;

	rc = check_policy_key(name, ns, err);
	if (rc != CF_OK)
		return rc;
	if (version < 0)
		return cf_error_set(err, CF_E_INPUT, "meta: bad version");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = tx_begin(c, false, err);
	if (rc == CF_OK)
		rc = policy_scope(c, ns, &scope, err);
	if (rc == CF_OK && version == 0)
		rc = query_row(c, ST_POL_LATEST, &st, &found, err, "it", scope,
		    name);
	else if (rc == CF_OK)
		rc = query_row(c, ST_POL_GET, &st, &found, err, "iti", scope,
		    name, version);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such policy");
	if (rc == CF_OK)
		rc = read_policy(st, &rec, err);
	if (rc == CF_OK && text != NULL) {
		rc = col_policy_text(st, 8, rec.text_len, &t, err);
		if (rc == CF_OK) {
			copy = cf_memdup_str(t, rec.text_len);
			if (copy == NULL)
				rc = cf_error_set(err, CF_E_NOMEM,
				    "meta: out of memory");
		}
	}
	stmt_done(st);
	if (c != NULL) {
		if (rc == CF_OK)
			rc = tx_commit(c, err);
		else
			tx_rollback(c);
	}
	pool_put(m, c);
	if (rc != CF_OK) {
		cf_free(copy);
		return rc;
	}
	*out = rec;
	if (text != NULL)
		*text = copy;
	return CF_OK;
}

cf_err
cf_meta_policy_history(struct cf_meta *m, const char *name, const char *ns,
    cf_policy_cb cb, void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_policy_rec	 rec;
	int64_t			 scope = 0;
	size_t			 n = 0;
	bool			 found = false;
	int			 src;
	cf_err			 rc;

	rc = check_policy_key(name, ns, err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = tx_begin(c, false, err);
	if (rc == CF_OK)
		rc = policy_scope(c, ns, &scope, err);
	if (rc == CF_OK)
		rc = query_row(c, ST_POL_HIST, &st, &found, err, "it", scope,
		    name);
	while (rc == CF_OK && found) {
		rc = read_policy(st, &rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
		n++;
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW)
			rc = db_err(c->db, src, err, "policy history");
	}
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such policy");
	stmt_done(st);
	if (c != NULL) {
		if (rc == CF_OK)
			rc = tx_commit(c, err);
		else
			tx_rollback(c);
	}
	pool_put(m, c);
	return rc;
}

/* The sets in force of scope ns (NULL: all), with their text when fn. */
static cf_err
policy_walk(struct cf_meta *m, const char *ns, cf_policy_cb cb,
    cf_policy_text_cb fn, void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_policy_rec	 rec;
	const char		*t;
	int64_t			 scope = -1;
	int			 src, b;
	cf_err			 rc;

	if (ns != NULL) {
		rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
		if (rc != CF_OK)
			return rc;
	}
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = tx_begin(c, false, err);
	if (rc == CF_OK && ns != NULL)
		rc = policy_scope(c, ns, &scope, err);
	if (rc == CF_OK)
		rc = conn_stmt(c, ST_POL_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, scope);
	b |= sqlite3_bind_int(st, 2, fn != NULL ? 1 : 0);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "policy list");
			break;
		}
		rc = read_policy(st, &rec, err);
		if (rc == CF_OK && fn != NULL) {
			rc = col_policy_text(st, 8, rec.text_len, &t, err);
			if (rc == CF_OK)
				rc = fn(arg, &rec, t, rec.text_len, err);
		} else if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	if (c != NULL) {
		if (rc == CF_OK)
			rc = tx_commit(c, err);
		else
			tx_rollback(c);
	}
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_policy_list(struct cf_meta *m, const char *ns, cf_policy_cb cb,
    void *arg, struct cf_error *err)
{
	return policy_walk(m, ns, cb, NULL, arg, err);
}

cf_err
cf_meta_policy_current(struct cf_meta *m, cf_policy_text_cb fn, void *arg,
    struct cf_error *err)
{
	if (fn == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL callback");
	return policy_walk(m, NULL, NULL, fn, arg, err);
}

cf_err
cf_meta_policy_generation(struct cf_meta *m, int64_t *gen,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	bool		 found;
	cf_err		 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_POL_GEN, &st, &found, err, "");
	/* Rows only ever come (a new id) or go (a namespace's sets with
	 * it): the pair changes with every change. */
	if (rc == CF_OK)
		*gen = found ? (sqlite3_column_int64(st, 1) << 20) ^
		    sqlite3_column_int64(st, 0) : 0;
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

/* --- the decision cache --- */

static size_t
dc_slot(const char *key)
{
	uint64_t	h = 1469598103934665603ull;	/* FNV-1a */

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ull;
	return (size_t)(h % DC_SLOTS);
}

/* The entry of key under generation gen: *hit, and a copy in *out. */
static void
dc_get(struct cf_meta *m, const char *key, uint64_t gen, struct dc_ent *out,
    bool *hit)
{
	struct dc_ent	*e;

	*hit = false;
	(void)pthread_mutex_lock(&m->dc_mu);
	for (e = m->dc[dc_slot(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0) {
			if (e->gen == gen) {
				*out = *e;
				*hit = true;
			}
			break;
		}
	(void)pthread_mutex_unlock(&m->dc_mu);
}

static void
dc_clear_locked(struct cf_meta *m)
{
	struct dc_ent	*e;
	size_t		 i;

	for (i = 0; i < DC_SLOTS; i++)
		while ((e = m->dc[i]) != NULL) {
			m->dc[i] = e->next;
			cf_free(e);
		}
	m->dc_count = 0;
}

/* Keep what a read under generation v->gen found (best effort: out of
 * memory only costs the next read). */
static void
dc_put(struct cf_meta *m, const struct dc_ent *v)
{
	struct dc_ent	*e;
	size_t		 slot = dc_slot(v->key);

	(void)pthread_mutex_lock(&m->dc_mu);
	for (e = m->dc[slot]; e != NULL; e = e->next)
		if (strcmp(e->key, v->key) == 0)
			break;
	if (e == NULL) {
		if (m->dc_count >= DC_MAX)
			dc_clear_locked(m);
		e = cf_calloc(1, sizeof(*e));
		if (e == NULL)
			goto out;
		e->next = m->dc[slot];
		m->dc[slot] = e;
		m->dc_count++;
	}
	/* An older read does not replace a newer one. */
	if (e->gen <= v->gen) {
		struct dc_ent *next = e->next;

		*e = *v;
		e->next = next;
	}
out:
	(void)pthread_mutex_unlock(&m->dc_mu);
}

cf_err
cf_meta_ns_get_cached(struct cf_meta *m, const char *name,
    struct cf_ns_rec *out, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	struct dc_ent	 v;
	uint64_t	 gen;
	bool		 hit;
	int		 src;
	cf_err		 rc;

	rc = check_str(name, CF_NS_NAME_MAX, "namespace name", err);
	if (rc != CF_OK)
		return rc;
	memset(&v, 0, sizeof(v));
	v.key[0] = 'n';
	cf_strlcpy(v.key + 1, name, sizeof(v.key) - 1);
	/* SEC: the generation before the read: a change committed after
	 * this point moves it, so what the read finds is never kept past a
	 * change it may predate. */
	gen = atomic_load(&m->dgen);
	dc_get(m, v.key, gen, &v, &hit);
	if (hit)
		goto found;
	/* Not in the caller's read scope, whose snapshot may be older than
	 * gen: a statement of its own, whose snapshot is not. */
	rc = pool_get_any(m, false, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_NS_GET, &st, err);
	if (rc != CF_OK)
		goto out;
	if (bind_str(st, 1, name) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		rc = read_ns(st, &v.ns, err);
		v.found = true;
	} else if (src == SQLITE_DONE)
		v.found = false;
	else
		rc = db_err(c->db, src, err, "namespace get");
	if (rc != CF_OK)
		goto out;
	v.gen = gen;
	dc_put(m, &v);
found:
	if (!v.found)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such namespace");
	else
		*out = v.ns;
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_role_mfa_cached(struct cf_meta *m, const char *role, bool *required,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	struct dc_ent	 v;
	uint64_t	 gen;
	bool		 hit, found;
	cf_err		 rc;

	rc = check_str(role, CF_ROLE_MAX, "role", err);
	if (rc != CF_OK)
		return rc;
	memset(&v, 0, sizeof(v));
	v.key[0] = 'r';
	cf_strlcpy(v.key + 1, role, sizeof(v.key) - 1);
	gen = atomic_load(&m->dgen);	/* SEC: before the read */
	dc_get(m, v.key, gen, &v, &hit);
	if (hit) {
		*required = v.mfa;
		return CF_OK;
	}
	rc = pool_get_any(m, false, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_ROLE_GET, &st, &found, err, "t", role);
	if (rc == CF_OK) {
		v.found = found;
		v.mfa = found && sqlite3_column_int(st, 0) != 0;
		v.gen = gen;
		dc_put(m, &v);
		*required = v.mfa;
	}
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_cache_poll(struct cf_meta *m, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	bool		 found;
	int64_t		 g;
	cf_err		 rc;

	rc = pool_get_any(m, false, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_DGEN, &st, &found, err, "");
	if (rc == CF_OK) {
		g = found ? sqlite3_column_int64(st, 0) : -1;
		/* Another process's change (or this one's, seen again):
		 * every entry read before now ends. */
		(void)pthread_mutex_lock(&m->dc_mu);
		if (g != m->dgen_stored) {
			m->dgen_stored = g;
			(void)atomic_fetch_add(&m->dgen, 1);
		}
		(void)pthread_mutex_unlock(&m->dc_mu);
	}
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

uint64_t
cf_meta_test_cache_gen(struct cf_meta *m)
{
	return atomic_load(&m->dgen);
}

/* ---- begin: user attributes and labels ---- */

bool
cf_meta_attr_name_valid(const char *s)
{
	size_t	i;

	if (s == NULL || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= CF_ATTR_NAME_MAX - 1)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return false;
	}
	return true;
}

bool
cf_meta_attr_value_valid(const char *s, size_t len)
{
	size_t	i;

	if (s == NULL || len >= CF_ATTR_VALUE_MAX || !cf_utf8_valid(s, len))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char	ch = (unsigned char)s[i];

		/* C0 (NUL included), DEL, and C1 (U+0080..U+009F, which
		 * UTF-8 writes as C2 80..C2 9F). */
		if (ch < 0x20 || ch == 0x7f)
			return false;
		if (ch == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

/* SEC: every change names a valid attribute or label and sets a valid
 * value (a string) or removes it (null); anything else is refused
 * whole, so that a bad request changes nothing. */
static cf_err
check_changes(const json_t *changes, struct cf_error *err)
{
	const char	*name;
	json_t		*v;

	if (!json_is_object(changes))
		return cf_error_set(err, CF_E_INVAL,
		    "meta: changes must be a JSON object");
	if (json_object_size(changes) > 2 * CF_ATTRS_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "meta: more than %d changes at once", 2 * CF_ATTRS_MAX);
	json_object_foreach((json_t *)(uintptr_t)changes, name, v) {
		if (!cf_meta_attr_name_valid(name))
			return cf_error_set(err, CF_E_INPUT, "meta: invalid "
			    "name (a-z, then up to 62 of a-z 0-9 _ . -)");
		if (json_is_null(v))
			continue;
		if (!json_is_string(v) ||
		    !cf_meta_attr_value_valid(json_string_value(v),
		    json_string_length(v)))
			return cf_error_set(err, CF_E_INPUT, "meta: invalid "
			    "value for %s (a string of at most %d bytes of "
			    "UTF-8 without control characters, or null)",
			    name, CF_ATTR_VALUE_MAX - 1);
	}
	return CF_OK;
}

/* Where a set of name -> value pairs lives: a principal's attributes
 * (key NULL) or the labels of (ns_id, key). */
struct kv_target {
	int64_t		 id;
	const char	*key;
	const char	*ns;	/* labels only: the namespace by name, not
				 * id (kv_get) */
};

static cf_err
kv_exec(struct conn *c, const struct kv_target *t, bool put,
    const char *name, const char *value, int *changes, struct cf_error *err)
{
	if (t->key == NULL)
		return put ? exec_on(c, ST_A_PUT, changes, err, "itt", t->id,
		    name, value) : exec_on(c, ST_A_DEL, changes, err, "it",
		    t->id, name);
	return put ? exec_on(c, ST_LB_PUT, changes, err, "iktt", t->id,
	    t->key, name, value) : exec_on(c, ST_LB_DEL, changes, err, "ikt",
	    t->id, t->key, name);
}

/* CF_E_NOTFOUND unless the target exists: the principal, the
 * namespace, and for a key that gets a value, a live object (labels are
 * not set on what is deleted or was never there). */
static cf_err
kv_target_check(struct conn *c, const struct kv_target *t, bool sets,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	bool		 found = false;
	cf_err		 rc;

	if (t->key == NULL)
		rc = query_row(c, ST_P_EXISTS, &st, &found, err, "i", t->id);
	else
		rc = query_row(c, ST_NS_EXISTS, &st, &found, err, "i", t->id);
	stmt_done(st);
	st = NULL;
	if (rc != CF_OK)
		return rc;
	if (!found)
		return cf_error_set(err, CF_E_NOTFOUND, "meta: no such %s",
		    t->key == NULL ? "principal" : "namespace");
	if (t->key == NULL || t->key[0] == '\0' || !sets)
		return CF_OK;
	rc = query_row(c, ST_LIVE_GET, &st, &found, err, "ik", t->id, t->key);
	stmt_done(st);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such object");
	return rc;
}

static cf_err
kv_set(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct kv_target *t, const json_t *changes, bool *changed,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*name;
	json_t		*v;
	bool		 sets = false, any = false, found = false;
	int		 n;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_changes(changes, err);
	if (rc != CF_OK)
		return rc;
	json_object_foreach((json_t *)(uintptr_t)changes, name, v)
		if (!json_is_null(v))
			sets = true;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = tx_begin(c, true, err);
	if (rc == CF_OK)
		rc = kv_target_check(c, t, sets, err);
	json_object_foreach((json_t *)(uintptr_t)changes, name, v) {
		if (rc != CF_OK)
			break;
		n = 0;
		rc = kv_exec(c, t, !json_is_null(v), name,
		    json_is_null(v) ? NULL : json_string_value(v), &n, err);
		if (n > 0)
			any = true;
	}
	/* SEC: the bound is checked on the result, inside the
	 * transaction, so concurrent changes cannot pass it together. */
	if (rc == CF_OK && sets) {
		if (t->key == NULL)
			rc = query_row(c, ST_A_COUNT, &st, &found, err, "i",
			    t->id);
		else
			rc = query_row(c, ST_LB_COUNT, &st, &found, err, "ik",
			    t->id, t->key);
		if (rc == CF_OK && found &&
		    sqlite3_column_int64(st, 0) > CF_ATTRS_MAX)
			rc = cf_error_set(err, CF_E_LIMIT, "meta: more than "
			    "%d %s", CF_ATTRS_MAX, t->key == NULL ?
			    "attributes" : "labels");
		stmt_done(st);
	}
	if (rc == CF_OK)
		rc = tx_commit_audited(c, au, err);
	if (rc != CF_OK)
		tx_rollback(c);
	else if (changed != NULL)
		*changed = any;
	pool_put(m, c);
	return rc;
}

static cf_err
kv_get(struct cf_meta *m, const struct kv_target *t, json_t **out,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	json_t		*o = NULL, *s;
	char		 name[CF_ATTR_NAME_MAX], value[CF_ATTR_VALUE_MAX];
	int		 src, b;
	cf_err		 rc;

	o = json_object();
	if (o == NULL)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = conn_stmt(c, t->key == NULL ? ST_A_GET : t->ns != NULL ?
	    ST_LB_GET_NS : ST_LB_GET, &st, err);
	if (rc != CF_OK)
		goto out;
	b = t->ns != NULL ? bind_str(st, 1, t->ns) :
	    sqlite3_bind_int64(st, 1, t->id);
	if (t->key != NULL)
		b |= bind_key(st, 2, t->key, strlen(t->key));
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = col_str(st, 0, name, sizeof(name), err);
		if (rc == CF_OK)
			rc = col_str(st, 1, value, sizeof(value), err);
		if (rc != CF_OK)
			goto out;
		s = json_string(value);
		if (s == NULL) {
			rc = cf_error_set(err, CF_E_INTEGRITY,
			    "meta: stored value is not UTF-8");
			goto out;
		}
		if (json_object_set_new(o, name, s) != 0) {
			rc = cf_error_set(err, CF_E_NOMEM,
			    "meta: out of memory");
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = db_err(c->db, src, err, "attributes");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	stmt_done(st);
	pool_put(m, c);
	json_decref(o);
	return rc;
}

cf_err
cf_meta_attrs_get(struct cf_meta *m, int64_t principal_id, json_t **out,
    struct cf_error *err)
{
	struct kv_target	t = { principal_id, NULL, NULL };

	return kv_get(m, &t, out, err);
}

cf_err
cf_meta_attrs_set(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t principal_id, const json_t *changes, bool *changed,
    struct cf_error *err)
{
	struct kv_target	t = { principal_id, NULL, NULL };

	return kv_set(m, au, &t, changes, changed, err);
}

cf_err
cf_meta_labels_get(struct cf_meta *m, int64_t ns_id, const char *key,
    json_t **out, struct cf_error *err)
{
	struct kv_target	t = { ns_id, key, NULL };
	cf_err			rc;

	rc = check_str(key, CF_OBJKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	return kv_get(m, &t, out, err);
}

cf_err
cf_meta_labels_get_ns(struct cf_meta *m, const char *ns, const char *key,
    json_t **out, struct cf_error *err)
{
	struct kv_target	t = { 0, key, ns };
	cf_err			rc;

	rc = check_str(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = check_str(key, CF_OBJKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	return kv_get(m, &t, out, err);
}

cf_err
cf_meta_labels_set(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t ns_id, const char *key, const json_t *changes, bool *changed,
    struct cf_error *err)
{
	struct kv_target	t = { ns_id, key, NULL };
	cf_err			rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(key, CF_OBJKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	return kv_set(m, au, &t, changes, changed, err);
}
/* ---- end: user attributes and labels ---- */

/* ---- begin: for meta_artifact.c (meta_int.h) ---- */

struct sqlite3 *
meta_int_db(struct conn *c)
{
	return c->db;
}

cf_err
meta_int_db_err(struct conn *c, int src, struct cf_error *err,
    const char *what)
{
	return db_err(c->db, src, err, what);
}

cf_err
meta_int_wtx_begin(struct cf_meta *m, const struct cf_meta_audit *au,
    struct conn **out, struct cf_error *err)
{
	return wtx_begin(m, au, out, err);
}

cf_err
meta_int_wtx_end(struct cf_meta *m, struct conn *c,
    const struct cf_meta_audit *au, cf_err rc, struct cf_error *err)
{
	return wtx_end(m, c, au, rc, err);
}

cf_err
meta_int_rtx_begin(struct cf_meta *m, struct conn **out, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	if ((rc = pool_get(m, &c, err)) != CF_OK)
		return rc;
	if ((rc = tx_begin(c, false, err)) != CF_OK) {
		pool_put(m, c);
		return rc;
	}
	*out = c;
	return CF_OK;
}

void
meta_int_rtx_end(struct cf_meta *m, struct conn *c)
{
	if (c == NULL)
		return;
	if (tx_commit(c, NULL) != CF_OK)
		tx_rollback(c);
	pool_put(m, c);
}

cf_err
meta_int_col_str(sqlite3_stmt *st, int i, char *dst, size_t cap,
    struct cf_error *err)
{
	return col_str(st, i, dst, cap, err);
}
/* ---- end: for meta_artifact.c ---- */

/* --- S3 access keys --- */

static cf_err
read_s3key(sqlite3_stmt *st, struct cf_s3key_rec *k, struct cf_error *err)
{
	cf_err	rc;

	memset(k, 0, sizeof(*k));
	rc = col_str(st, 0, k->id, sizeof(k->id), err);
	k->principal_id = sqlite3_column_int64(st, 1);
	if (rc == CF_OK)
		rc = col_str(st, 2, k->kek_id, sizeof(k->kek_id), err);
	if (rc == CF_OK)
		rc = col_bytes(st, 3, k->wrapped, sizeof(k->wrapped), err);
	if (rc == CF_OK)
		rc = col_str(st, 4, k->description, sizeof(k->description),
		    err);
	k->created_us = sqlite3_column_int64(st, 5);
	k->expires_us = sqlite3_column_int64(st, 6);
	k->revoked_us = sqlite3_column_int64(st, 7);
	return rc;
}

cf_err
cf_meta_s3key_insert(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_s3key_rec *k, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK && k == NULL)
		rc = cf_error_set(err, CF_E_INVAL, "meta: NULL key");
	if (rc == CF_OK)
		rc = check_str(k->id, sizeof(k->id), "s3 key id", err);
	if (rc == CF_OK)
		rc = check_field(k->kek_id, sizeof(k->kek_id), "kek id", err);
	if (rc == CF_OK)
		rc = check_field(k->description, sizeof(k->description),
		    "description", err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_S3K_INSERT, NULL, err, "titwtii", k->id,
	    k->principal_id, k->kek_id, k->wrapped, k->description,
	    k->created_us, k->expires_us);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_s3key_get(struct cf_meta *m, const char *id, struct cf_s3key_rec *out,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_s3key_rec	 rec;
	bool			 found;
	cf_err			 rc;

	rc = check_str(id, CF_S3_KEY_ID_LEN + 1, "s3 key id", err);
	if (rc != CF_OK)
		return rc;
	memset(&rec, 0, sizeof(rec));
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_S3K_GET, &st, &found, err, "t", id);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such S3 key");
	if (rc == CF_OK)
		rc = read_s3key(st, &rec, err);
	if (rc == CF_OK)
		*out = rec;
	stmt_done(st);
	pool_put(m, c);
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

cf_err
cf_meta_s3key_revoke(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t now_us, struct cf_error *err)
{
	struct cf_s3key_rec	k;
	cf_err			rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_S3_KEY_ID_LEN + 1, "s3 key id", err);
	if (rc != CF_OK)
		return rc;
	if (now_us == 0)
		return cf_error_set(err, CF_E_INVAL,
		    "meta: revocation time 0 means not revoked");
	rc = cf_meta_s3key_get(m, id, &k, err);
	cf_wipe(&k, sizeof(k));
	if (rc != CF_OK)
		return rc;
	/* Revoked already: no change (the first time stays). */
	return exec_audited(m, au, ST_S3K_REVOKE, NULL, NULL, err, "ti", id,
	    now_us);
}

cf_err
cf_meta_s3key_list(struct cf_meta *m, int64_t principal_id, cf_s3key_cb cb,
    void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_s3key_rec	 rec;
	int			 src;
	cf_err			 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, principal_id < 0 ? ST_S3K_LIST_ALL : ST_S3K_LIST_P,
	    &st, err);
	if (rc != CF_OK)
		goto out;
	if (principal_id >= 0 &&
	    sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "s3 key list");
			break;
		}
		rc = read_s3key(st, &rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	cf_wipe(&rec, sizeof(rec));
	return rc;
}

/* ---- begin: break-glass grants ---- */

static cf_err
read_breakglass(sqlite3_stmt *st, struct cf_breakglass_rec *b,
    struct cf_error *err)
{
	cf_err	rc;

	memset(b, 0, sizeof(*b));
	rc = col_str(st, 0, b->id, sizeof(b->id), err);
	b->principal_id = sqlite3_column_int64(st, 1);
	if (rc == CF_OK)
		rc = col_str(st, 2, b->principal, sizeof(b->principal), err);
	if (rc == CF_OK)
		rc = col_str(st, 3, b->ns, sizeof(b->ns), err);
	if (rc == CF_OK)
		rc = col_str(st, 4, b->reason, sizeof(b->reason), err);
	b->created_us = sqlite3_column_int64(st, 5);
	b->expires_us = sqlite3_column_int64(st, 6);
	b->revoked_us = sqlite3_column_int64(st, 7);
	if (rc == CF_OK)
		rc = col_str(st, 8, b->revoked_by, sizeof(b->revoked_by), err);
	return rc;
}

cf_err
cf_meta_breakglass_insert(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_breakglass_rec *b, struct cf_error *err)
{
	struct conn	*c = NULL;
	int64_t		 ns_id = 0;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(b->id, sizeof(b->id), "break-glass id", err);
	if (rc == CF_OK)
		rc = check_str(b->ns, sizeof(b->ns), "namespace name", err);
	if (rc == CF_OK)
		rc = check_str(b->reason, sizeof(b->reason), "reason", err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = ns_id_of(c, b->ns, &ns_id, err);
	if (rc == CF_OK)
		rc = exec_on(c, ST_BG_INSERT, NULL, err, "tiitii", b->id,
		    b->principal_id, ns_id, b->reason, b->created_us,
		    b->expires_us);
	return wtx_end(m, c, au, rc, err);
}

/* Grant id, read on c (in its transaction, if any). */
static cf_err
bg_get_on(struct conn *c, const char *id, struct cf_breakglass_rec *out,
    struct cf_error *err)
{
	sqlite3_stmt			*st = NULL;
	struct cf_breakglass_rec	 rec;
	int				 src;
	cf_err				 rc;

	rc = conn_stmt(c, ST_BG_GET, &st, err);
	if (rc != CF_OK)
		return rc;
	if (bind_str(st, 1, id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such break-glass grant");
	else if (src != SQLITE_ROW)
		rc = db_err(c->db, src, err, "break-glass get");
	else {
		rc = read_breakglass(st, &rec, err);
		if (rc == CF_OK)
			*out = rec;
	}
out:
	stmt_done(st);
	return rc;
}

cf_err
cf_meta_breakglass_get(struct cf_meta *m, const char *id,
    struct cf_breakglass_rec *out, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = check_str(id, CF_BG_ID_LEN + 1, "break-glass id", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = bg_get_on(c, id, out, err);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_breakglass_list(struct cf_meta *m, int64_t principal_id,
    int64_t active_at_us, cf_breakglass_cb cb, void *arg,
    struct cf_error *err)
{
	struct conn			*c = NULL;
	sqlite3_stmt			*st = NULL;
	struct cf_breakglass_rec	 rec;
	int				 src;
	cf_err				 rc;

	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* Every authentication asks for the grants in force, and there
	 * are almost never any: a probe of breakglass_active says so
	 * without the ORDER BY's sorter, which SQLite sets up even for no
	 * row (about 3,000 instructions of a small GET). */
	if (principal_id >= 0 && active_at_us != 0) {
		rc = conn_stmt(c, ST_BG_ANY, &st, err);
		if (rc != CF_OK)
			goto out;
		if (sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, active_at_us) != SQLITE_OK) {
			rc = bind_failed(c, err);
			goto out;
		}
		src = sqlite3_step(st);
		stmt_done(st);
		st = NULL;
		if (src == SQLITE_DONE)
			goto out;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "break-glass probe");
			goto out;
		}
	}
	rc = conn_stmt(c, principal_id >= 0 && active_at_us != 0 ?
	    ST_BG_ACTIVE : ST_BG_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, principal_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, active_at_us) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "break-glass list");
			break;
		}
		rc = read_breakglass(st, &rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, &rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_breakglass_revoke(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, const char *by, int64_t at_us, struct cf_error *err)
{
	struct cf_breakglass_rec	rec;
	struct conn			*c = NULL;
	int				 n = 0;
	cf_err				 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_BG_ID_LEN + 1, "break-glass id", err);
	if (rc == CF_OK)
		rc = check_str(by, CF_PRINCIPAL_MAX, "principal name", err);
	if (rc != CF_OK)
		return rc;
	if (at_us == 0)
		return cf_error_set(err, CF_E_INVAL,
		    "meta: revocation time 0 means not revoked");
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_BG_REVOKE, &n, err, "tit", id, at_us, by);
	if (rc == CF_OK && n == 0) {
		/* Unknown, or revoked already: say which. */
		rc = bg_get_on(c, id, &rec, err);
		if (rc == CF_OK)
			rc = cf_error_set(err, CF_E_CONFLICT,
			    "meta: break-glass grant revoked already");
	}
	return wtx_end(m, c, au, rc, err);
}
/* ---- end: break-glass grants ---- */

/* ---- begin: promotions ---- */

static cf_err
read_promotion(sqlite3_stmt *st, struct cf_promotion_rec *p,
    struct cf_error *err)
{
	cf_err	rc;

	memset(p, 0, sizeof(*p));
	rc = col_str(st, 0, p->id, sizeof(p->id), err);
	if (rc == CF_OK)
		rc = col_str(st, 1, p->src_ns, sizeof(p->src_ns), err);
	if (rc == CF_OK)
		rc = col_str(st, 2, p->src_name, sizeof(p->src_name), err);
	p->src_artifact_id = sqlite3_column_int64(st, 3);
	p->src_number = sqlite3_column_int64(st, 4);
	if (rc == CF_OK)
		rc = col_str(st, 5, p->dst_ns, sizeof(p->dst_ns), err);
	if (rc == CF_OK)
		rc = col_str(st, 6, p->requester, sizeof(p->requester), err);
	if (rc == CF_OK)
		rc = col_str(st, 7, p->reason, sizeof(p->reason), err);
	p->required = sqlite3_column_int64(st, 8);
	if (rc == CF_OK)
		rc = col_str(st, 9, p->state, sizeof(p->state), err);
	p->created_us = sqlite3_column_int64(st, 10);
	p->expires_us = sqlite3_column_int64(st, 11);
	p->closed_us = sqlite3_column_int64(st, 12);
	if (rc == CF_OK)
		rc = col_str(st, 13, p->closed_by, sizeof(p->closed_by), err);
	p->dst_number = sqlite3_column_int64(st, 14);
	return rc;
}

/* Request id with its approvers, read on c. */
static cf_err
promotion_get_on(struct conn *c, const char *id, struct cf_promotion_rec *out,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = conn_stmt(c, ST_PR_GET, &st, err);
	if (rc != CF_OK)
		return rc;
	if (bind_str(st, 1, id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such promotion");
	else if (src != SQLITE_ROW)
		rc = db_err(c->db, src, err, "promotion get");
	else
		rc = read_promotion(st, out, err);
	stmt_done(st);
	st = NULL;
	if (rc != CF_OK)
		goto out;
	rc = conn_stmt(c, ST_PR_APPROVERS, &st, err);
	if (rc != CF_OK)
		goto out;
	if (bind_str(st, 1, id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW &&
	    out->napprovals < CF_PROMO_APPROVERS_MAX) {
		rc = col_str(st, 0, out->approvers[out->napprovals],
		    sizeof(out->approvers[0]), err);
		if (rc != CF_OK)
			goto out;
		out->napprovals++;
	}
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = db_err(c->db, src, err, "promotion approvers");
out:
	stmt_done(st);
	return rc;
}

/* In c's transaction: nv (object versions sharing their sources' blobs,
 * then the artifact version) into the target, derived from artifact
 * version (src_aid, src_number); then nv->hook, if any.  Promotion and
 * copy both write with this. */
static cf_err
art_share_on(struct conn *c, struct cf_promotion_new *nv, int64_t src_aid,
    int64_t src_number, struct cf_error *err)
{
	int64_t	src[1][2];
	size_t	klen = 0, i;
	cf_err	rc = CF_OK;

	if (nv == NULL || nv->art == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: no artifact "
		    "payload");
	for (i = 0; i < nv->nobjs && rc == CF_OK; i++) {
		rc = check_version(&nv->objs[i], &klen, err);
		if (rc == CF_OK)
			rc = version_put_on(c, &nv->objs[i], klen, NULL,
			    err);
	}
	src[0][0] = src_aid;
	src[0][1] = src_number;
	if (rc == CF_OK)
		rc = meta_int_art_push_on(c, nv->art, nv->files, nv->nfiles,
		    (const int64_t (*)[2])src, 1, err);
	if (rc == CF_OK && nv->hook != NULL)
		nv->hook(nv->hook_arg);
	return rc;
}

/* In c's transaction: nv into the target, request p completed with it
 * by principal at at_us. */
static cf_err
promotion_complete_on(struct conn *c, const struct cf_promotion_rec *p,
    struct cf_promotion_new *nv, const char *principal, int64_t at_us,
    struct cf_error *err)
{
	int	n = 0;
	cf_err	rc;

	rc = art_share_on(c, nv, p->src_artifact_id, p->src_number, err);
	if (rc == CF_OK)
		rc = exec_on(c, ST_PR_DONE, &n, err, "titi", p->id, at_us,
		    principal, nv->art->number);
	if (rc == CF_OK && n != 1)
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: promotion is not open");
	return rc;
}

cf_err
cf_meta_promotion_insert(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_promotion_rec *p, struct cf_promotion_new *nv,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	int64_t		 ns_id = 0;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(p->id, sizeof(p->id), "promotion id", err);
	if (rc == CF_OK)
		rc = check_str(p->reason, sizeof(p->reason), "reason", err);
	if (rc == CF_OK)
		rc = check_str(p->src_name, sizeof(p->src_name), "name", err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = ns_id_of(c, p->dst_ns, &ns_id, err);
	if (rc == CF_OK)
		rc = exec_on(c, ST_PR_INSERT, NULL, err, "tttiiittiii",
		    p->id, p->src_ns, p->src_name, p->src_artifact_id,
		    p->src_number, ns_id, p->requester, p->reason, p->required,
		    p->created_us, p->expires_us);
	if (rc == CF_OK && nv != NULL)
		rc = promotion_complete_on(c, p, nv, p->requester,
		    p->created_us, err);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_art_copy(struct cf_meta *m, const struct cf_meta_audit *au,
    struct cf_promotion_new *nv, int64_t src_aid, int64_t src_number,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = art_share_on(c, nv, src_aid, src_number, err);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_promotion_get(struct cf_meta *m, const char *id,
    struct cf_promotion_rec *out, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = check_str(id, CF_PROMO_ID_LEN + 1, "promotion id", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = promotion_get_on(c, id, out, err);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_promotion_list(struct cf_meta *m, size_t limit, cf_promotion_cb cb,
    void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_promotion_rec	*rec = NULL;
	int			 src;
	cf_err			 rc;

	rec = cf_malloc(sizeof(*rec));
	if (rec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = conn_stmt(c, ST_PR_LIST, &st, err);
	if (rc != CF_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)limit) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	for (;;) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "promotion list");
			break;
		}
		rc = read_promotion(st, rec, err);
		if (rc == CF_OK && cb != NULL)
			rc = cb(arg, rec, err);
		if (rc != CF_OK)
			break;
	}
out:
	stmt_done(st);
	if (c != NULL)
		pool_put(m, c);
	cf_free(rec);
	return rc;
}

cf_err
cf_meta_promotion_approve(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, const char *principal, int64_t at_us,
    struct cf_promotion_new *nv, bool *done, struct cf_error *err)
{
	struct cf_promotion_rec	*p = NULL;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	int64_t			 n = 0;
	int			 src;
	cf_err			 rc;

	*done = false;
	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_PROMO_ID_LEN + 1, "promotion id", err);
	if (rc == CF_OK)
		rc = check_str(principal, CF_PRINCIPAL_MAX, "principal", err);
	if (rc != CF_OK)
		return rc;
	p = cf_malloc(sizeof(*p));
	if (p == NULL)
		return cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK) {
		cf_free(p);
		return rc;
	}
	rc = promotion_get_on(c, id, p, err);
	if (rc != CF_OK)
		goto out;
	if (strcmp(p->state, "open") != 0 || p->expires_us <= at_us) {
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: promotion is not open");
		goto out;
	}
	rc = conn_stmt(c, ST_PR_APPROVE, &st, err);
	if (rc != CF_OK)
		goto out;
	if (bind_str(st, 1, id) != SQLITE_OK ||
	    bind_str(st, 2, principal) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, at_us) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    src == SQLITE_CONSTRAINT_UNIQUE)
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: approved already");
	else if (src != SQLITE_DONE)
		rc = db_err(c->db, src, err, "promotion approve");
	stmt_done(st);
	st = NULL;
	if (rc != CF_OK)
		goto out;
	rc = conn_stmt(c, ST_PR_COUNT, &st, err);
	if (rc != CF_OK)
		goto out;
	if (bind_str(st, 1, id) != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = db_err(c->db, src, err, "promotion count");
		goto out;
	}
	n = sqlite3_column_int64(st, 0);
	stmt_done(st);
	st = NULL;
	if (n >= p->required) {
		rc = promotion_complete_on(c, p, nv, principal, at_us, err);
		if (rc == CF_OK)
			*done = true;
	}
out:
	stmt_done(st);
	cf_free(p);
	rc = wtx_end(m, c, au, rc, err);
	if (rc != CF_OK)
		*done = false;
	return rc;
}

cf_err
cf_meta_promotion_close(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, const char *state, const char *principal, int64_t at_us,
    struct cf_error *err)
{
	struct cf_promotion_rec	*p = NULL;
	struct conn		*c = NULL;
	int			 n = 0;
	cf_err			 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_PROMO_ID_LEN + 1, "promotion id", err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_PR_CLOSE, &n, err, "ttit", id, state, at_us,
	    principal);
	if (rc == CF_OK && n == 0) {
		p = cf_malloc(sizeof(*p));
		if (p == NULL)
			rc = cf_error_set(err, CF_E_NOMEM,
			    "meta: out of memory");
		else
			rc = promotion_get_on(c, id, p, err);
		if (rc == CF_OK)
			rc = cf_error_set(err, CF_E_CONFLICT,
			    "meta: promotion is not open");
	}
	cf_free(p);
	return wtx_end(m, c, au, rc, err);
}
/* ---- end: promotions ---- */

/* --- S3 multipart uploads --- */

static cf_err
read_mp(sqlite3_stmt *st, struct cf_mp_upload_rec *u, struct cf_error *err)
{
	cf_err	rc;

	memset(u, 0, sizeof(*u));
	rc = col_str(st, 0, u->id, sizeof(u->id), err);
	u->ns_id = sqlite3_column_int64(st, 1);
	if (rc == CF_OK)
		rc = col_str(st, 2, u->key, sizeof(u->key), err);
	if (rc == CF_OK)
		rc = col_str(st, 3, u->content_type, sizeof(u->content_type),
		    err);
	if (rc == CF_OK)
		rc = col_str(st, 4, u->content_encoding,
		    sizeof(u->content_encoding), err);
	if (rc == CF_OK)
		rc = col_str(st, 5, u->user_meta, sizeof(u->user_meta), err);
	if (rc == CF_OK)
		rc = col_str(st, 6, u->created_by, sizeof(u->created_by), err);
	u->created_us = sqlite3_column_int64(st, 7);
	if (rc == CF_OK)
		rc = col_str(st, 8, u->checksum, sizeof(u->checksum), err);
	return rc;
}

static cf_err
read_part(sqlite3_stmt *st, struct cf_mp_part_rec *p, struct cf_error *err)
{
	cf_err	rc;

	memset(p, 0, sizeof(*p));
	rc = col_str(st, 0, p->upload_id, sizeof(p->upload_id), err);
	p->number = sqlite3_column_int64(st, 1);
	if (rc == CF_OK)
		rc = col_str(st, 2, p->part_id, sizeof(p->part_id), err);
	if (rc == CF_OK)
		rc = col_str(st, 3, p->blob_id, sizeof(p->blob_id), err);
	if (sqlite3_column_int64(st, 4) < 0 && rc == CF_OK)
		rc = cf_error_set(err, CF_E_INPUT, "meta: negative part size");
	p->size = (uint64_t)sqlite3_column_int64(st, 4);
	if (rc == CF_OK)
		rc = col_str(st, 5, p->md5, sizeof(p->md5), err);
	if (rc == CF_OK)
		rc = col_str(st, 6, p->kek_id, sizeof(p->kek_id), err);
	if (rc == CF_OK)
		rc = col_bytes(st, 7, p->wrapped_dek, sizeof(p->wrapped_dek),
		    err);
	p->created_us = sqlite3_column_int64(st, 8);
	if (rc == CF_OK)
		rc = col_str(st, 9, p->sha256, sizeof(p->sha256), err);
	if (rc == CF_OK)
		rc = col_str(st, 10, p->checksum, sizeof(p->checksum), err);
	return rc;
}

cf_err
cf_meta_mp_create(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_mp_upload_rec *u, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(u->id, sizeof(u->id), "upload id", err);
	if (rc == CF_OK)
		rc = check_field(u->key, sizeof(u->key), "key", err);
	if (rc == CF_OK)
		rc = check_field(u->content_type, sizeof(u->content_type),
		    "content type", err);
	if (rc == CF_OK)
		rc = check_field(u->content_encoding,
		    sizeof(u->content_encoding), "content encoding", err);
	if (rc == CF_OK)
		rc = check_field(u->user_meta, sizeof(u->user_meta),
		    "user metadata", err);
	if (rc == CF_OK)
		rc = check_field(u->created_by, sizeof(u->created_by),
		    "created_by", err);
	if (rc == CF_OK)
		rc = check_field(u->checksum, sizeof(u->checksum), "checksum",
		    err);
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = exec_on(c, ST_MP_INSERT, NULL, err, "titttttit", u->id,
	    u->ns_id, u->key, u->content_type, u->content_encoding,
	    u->user_meta, u->created_by, u->created_us, u->checksum);
	return wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_mp_completed(struct cf_meta *m, const char *id,
    char version_id[CF_VERSION_ID_LEN + 1], struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*t;
	bool		 found;
	cf_err		 rc;

	rc = check_str(id, CF_VERSION_ID_LEN + 1, "upload id", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_MPD_GET, &st, &found, err, "t", id);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no upload completed as %s", id);
	if (rc == CF_OK) {
		t = (const char *)sqlite3_column_text(st, 0);
		if (t == NULL || strlen(t) > CF_VERSION_ID_LEN)
			rc = cf_error_set(err, CF_E_INTEGRITY,
			    "meta: a completed upload's version id is bad");
		else
			cf_strlcpy(version_id, t, CF_VERSION_ID_LEN + 1);
	}
	stmt_done(st);
	pool_put(m, c);
	return rc;
}

cf_err
cf_meta_mp_get(struct cf_meta *m, const char *id, struct cf_mp_upload_rec *out,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_mp_upload_rec	*u;
	bool			 found;
	cf_err			 rc;

	rc = check_str(id, CF_VERSION_ID_LEN + 1, "upload id", err);
	if (rc != CF_OK)
		return rc;
	u = cf_malloc(sizeof(*u));
	if (u == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK) {
		cf_free(u);
		return rc;
	}
	rc = query_row(c, ST_MP_GET, &st, &found, err, "t", id);
	if (rc == CF_OK && !found)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such upload");
	if (rc == CF_OK)
		rc = read_mp(st, u, err);
	if (rc == CF_OK)
		*out = *u;
	stmt_done(st);
	pool_put(m, c);
	cf_free(u);
	return rc;
}

cf_err
cf_meta_mp_part_put(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_mp_part_rec *p, char old_blob[CF_BLOB_ID_LEN + 1],
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	bool		 found = false;
	int		 n = 0;
	cf_err		 rc;

	old_blob[0] = '\0';
	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(p->upload_id, sizeof(p->upload_id), "upload id",
		    err);
	if (rc == CF_OK)
		rc = check_str(p->blob_id, sizeof(p->blob_id), "blob id", err);
	if (rc == CF_OK)
		rc = check_field(p->md5, sizeof(p->md5), "md5", err);
	if (rc == CF_OK)
		rc = check_field(p->kek_id, sizeof(p->kek_id), "kek id", err);
	if (rc == CF_OK)
		rc = check_field(p->sha256, sizeof(p->sha256), "sha256", err);
	if (rc == CF_OK)
		rc = check_field(p->checksum, sizeof(p->checksum), "checksum",
		    err);
	if (rc == CF_OK && p->size > INT64_MAX)
		rc = cf_error_set(err, CF_E_INPUT, "meta: part too large");
	if (rc != CF_OK)
		return rc;
	rc = wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = query_row(c, ST_MP_PART_OLD, &st, &found, err, "ti",
	    p->upload_id, p->number);
	if (rc == CF_OK && found)
		rc = col_str(st, 0, old_blob, CF_BLOB_ID_LEN + 1, err);
	stmt_done(st);
	if (rc == CF_OK)
		rc = exec_on(c, ST_MP_PART_PUT, &n, err, "tittittwitt",
		    p->upload_id, p->number, p->part_id, p->blob_id,
		    (int64_t)p->size, p->md5, p->kek_id, p->wrapped_dek,
		    p->created_us, p->sha256, p->checksum);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such upload");
	rc = wtx_end(m, c, au, rc, err);
	if (rc != CF_OK)
		old_blob[0] = '\0';
	return rc;
}

cf_err
cf_meta_segments(struct cf_meta *m, const char *version_id,
    struct cf_segment_rec *out, size_t max, size_t *n, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	sqlite3_int64	 sz, pn;
	size_t		 k = 0;
	int		 src = SQLITE_DONE;
	cf_err		 rc;

	*n = 0;
	rc = check_str(version_id, CF_VERSION_ID_LEN + 1, "version id", err);
	if (rc != CF_OK)
		return rc;
	if ((rc = pool_get(m, &c, err)) != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_SEG_LIST, &st, err);
	if (rc == CF_OK && bind_str(st, 1, version_id) != SQLITE_OK)
		rc = bind_failed(c, err);
	while (rc == CF_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct cf_segment_rec	*g = &out[k];

		if (k == max) {
			rc = cf_error_set(err, CF_E_INTEGRITY, "meta: more "
			    "than %zu segments", max);
			break;
		}
		memset(g, 0, sizeof(*g));
		sz = sqlite3_column_int64(st, 2);
		if (sqlite3_column_int64(st, 0) != (sqlite3_int64)k || sz < 0)
			rc = cf_error_set(err, CF_E_INTEGRITY, "meta: segment "
			    "%zu of %s is missing or malformed", k,
			    version_id);
		g->n = (uint32_t)k;
		g->size = (uint64_t)sz;
		if (rc == CF_OK)
			rc = col_str(st, 1, g->blob_id, sizeof(g->blob_id),
			    err);
		if (rc == CF_OK)
			rc = col_str(st, 3, g->sealed_as, sizeof(g->sealed_as),
			    err);
		if (rc == CF_OK)
			rc = col_str(st, 4, g->kek_id, sizeof(g->kek_id), err);
		if (rc == CF_OK)
			rc = col_bytes(st, 5, g->wrapped_dek,
			    sizeof(g->wrapped_dek), err);
		pn = sqlite3_column_int64(st, 6);
		if (rc == CF_OK && (pn < 0 || pn > CF_SEGMENTS_MAX))
			rc = cf_error_set(err, CF_E_INTEGRITY, "meta: segment "
			    "%zu of %s has a bad part number", k, version_id);
		g->part_number = (uint32_t)pn;
		if (rc == CF_OK)
			rc = col_str(st, 7, g->checksum, sizeof(g->checksum),
			    err);
		k++;
	}
	if (rc == CF_OK && src != SQLITE_DONE)
		rc = db_err(c->db, src, err, "segments");
	stmt_done(st);
	pool_put(m, c);
	if (rc == CF_OK)
		*n = k;
	else if (k > 0)
		cf_wipe(out, k * sizeof(*out));
	return rc;
}

cf_err
cf_meta_mp_parts(struct cf_meta *m, const char *upload_id, cf_mp_part_cb cb,
    void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_mp_part_rec	 p;
	int			 src;
	cf_err			 rc;

	rc = check_str(upload_id, CF_VERSION_ID_LEN + 1, "upload id", err);
	if (rc != CF_OK)
		return rc;
	rc = pool_get(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = conn_stmt(c, ST_MP_PARTS, &st, err);
	if (rc == CF_OK && bind_str(st, 1, upload_id) != SQLITE_OK)
		rc = bind_failed(c, err);
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "part list");
			break;
		}
		rc = read_part(st, &p, err);
		if (rc == CF_OK)
			rc = cb(arg, &p, err);
	}
	stmt_done(st);
	pool_put(m, c);
	cf_wipe(&p, sizeof(p));
	return rc;
}

cf_err
cf_meta_mp_list(struct cf_meta *m, int64_t ns_id, int64_t before_us,
    const char *from_key, cf_mp_upload_cb cb, void *arg,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_mp_upload_rec	*u;
	int			 src;
	cf_err			 rc;

	u = cf_malloc(sizeof(*u));
	if (u == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = pool_get(m, &c, err);
	if (rc != CF_OK) {
		cf_free(u);
		return rc;
	}
	rc = conn_stmt(c, ns_id >= 0 ? ST_MP_LIST_NS : ST_MP_LIST_OLD, &st,
	    err);
	if (rc == CF_OK && sqlite3_bind_int64(st, 1, ns_id >= 0 ? ns_id :
	    before_us) != SQLITE_OK)
		rc = bind_failed(c, err);
	if (rc == CF_OK && ns_id >= 0 && bind_str(st, 2, from_key != NULL ?
	    from_key : "") != SQLITE_OK)
		rc = bind_failed(c, err);
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = db_err(c->db, src, err, "upload list");
			break;
		}
		rc = read_mp(st, u, err);
		if (rc == CF_OK)
			rc = cb(arg, u, err);
	}
	stmt_done(st);
	pool_put(m, c);
	cf_free(u);
	return rc;
}

cf_err
cf_meta_mp_delete(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, struct cf_error *err)
{
	cf_err	rc;

	rc = audit_armed(au, err);
	if (rc == CF_OK)
		rc = check_str(id, CF_VERSION_ID_LEN + 1, "upload id", err);
	if (rc != CF_OK)
		return rc;
	/* The parts go with it (ON DELETE CASCADE). */
	return exec_audited(m, au, ST_MP_DEL, "no such upload", NULL,
	    err, "t", id);
}

/* --- wrapped keys by KEK (key rotation) --- */

cf_err
cf_meta_kek_counts(struct cf_meta *m, struct cf_meta_kek_count *out,
    size_t max, size_t *n, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	char		 id[CF_KEK_ID_MAX];
	size_t		 i, k = 0;
	int		 q, src;
	bool		 tx = false;
	cf_err		 rc;

	*n = 0;
	if ((rc = pool_get(m, &c, err)) != CF_OK)
		return rc;
	if ((rc = tx_begin(c, false, err)) != CF_OK)
		goto out;
	tx = true;
	for (q = 0; q < 5 && rc == CF_OK; q++) {
		rc = conn_stmt(c, q == 0 ? ST_KEK_COUNT_V : q == 1 ?
		    ST_KEK_COUNT_M : q == 2 ? ST_KEK_COUNT_S : q == 3 ?
		    ST_KEK_COUNT_P : ST_KEK_COUNT_G, &st, err);
		while (rc == CF_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
			rc = col_str(st, 0, id, sizeof(id), err);
			if (rc != CF_OK)
				break;
			for (i = 0; i < k; i++)
				if (strcmp(out[i].kek_id, id) == 0)
					break;
			if (i == k) {
				if (k == max) {
					rc = cf_error_set(err, CF_E_LIMIT,
					    "meta: more than %zu KEKs in use",
					    max);
					break;
				}
				memset(&out[k], 0, sizeof(out[k]));
				(void)cf_strlcpy(out[k].kek_id, id,
				    sizeof(out[k].kek_id));
				k++;
			}
			if (q == 0)
				out[i].versions = (uint64_t)
				    sqlite3_column_int64(st, 1);
			else if (q == 1)
				out[i].mfa = (uint64_t)
				    sqlite3_column_int64(st, 1);
			else if (q == 2)
				out[i].s3_keys = (uint64_t)
				    sqlite3_column_int64(st, 1);
			else if (q == 3)
				out[i].mp_parts = (uint64_t)
				    sqlite3_column_int64(st, 1);
			else
				out[i].segments = (uint64_t)
				    sqlite3_column_int64(st, 1);
		}
		if (rc == CF_OK && src != SQLITE_DONE)
			rc = db_err(c->db, src, err, "kek counts");
		stmt_done(st);
		st = NULL;
	}
out:
	stmt_done(st);
	if (tx && rc == CF_OK)
		rc = tx_commit(c, err);
	else if (tx)
		tx_rollback(c);
	pool_put(m, c);
	if (rc == CF_OK)
		*n = k;
	return rc;
}

cf_err
cf_meta_wrapped_not_under(struct cf_meta *m, const char *kek_id,
    enum cf_meta_wrapped_kind kind, int64_t after,
    struct cf_meta_wrapped *out, size_t max, size_t *n,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 k = 0;
	int		 src = SQLITE_DONE, b;
	cf_err		 rc;

	*n = 0;
	if ((rc = check_str(kek_id, CF_KEK_ID_MAX, "kek id", err)) != CF_OK)
		return rc;
	if (kind >= CF_WRAPPED_NKINDS)
		return cf_error_set(err, CF_E_INVAL, "meta: bad wrapped kind");
	if ((rc = pool_get(m, &c, err)) != CF_OK)
		return rc;
	rc = conn_stmt(c, kind == CF_WRAPPED_MFA ? ST_KEK_NOT_M :
	    kind == CF_WRAPPED_S3KEY ? ST_KEK_NOT_S :
	    kind == CF_WRAPPED_SEGMENT ? ST_KEK_NOT_G : ST_KEK_NOT_V, &st,
	    err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, after);
	b |= bind_str(st, 2, kek_id);
	b |= sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	if (b != SQLITE_OK) {
		rc = bind_failed(c, err);
		goto out;
	}
	while (k < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct cf_meta_wrapped	*w = &out[k];

		memset(w, 0, sizeof(*w));
		w->kind = kind;
		w->seq = sqlite3_column_int64(st, 0);
		if (kind == CF_WRAPPED_S3KEY) {
			rc = col_str(st, 1, w->s3_key_id,
			    sizeof(w->s3_key_id), err);
			w->principal_id = sqlite3_column_int64(st, 2);
			if (rc == CF_OK)
				rc = col_str(st, 3, w->kek_id,
				    sizeof(w->kek_id), err);
			if (rc == CF_OK)
				rc = col_bytes(st, 4, w->wrapped,
				    sizeof(w->wrapped), err);
		} else if (kind == CF_WRAPPED_SEGMENT) {
			rc = col_str(st, 1, w->version_id,
			    sizeof(w->version_id), err);
			if (sqlite3_column_int64(st, 2) < 0 ||
			    sqlite3_column_int64(st, 2) >= CF_SEGMENTS_MAX)
				rc = cf_error_set(err, CF_E_INTEGRITY,
				    "meta: bad segment number");
			w->seg_n = (uint32_t)sqlite3_column_int64(st, 2);
			if (rc == CF_OK)
				rc = col_str(st, 3, w->kek_id,
				    sizeof(w->kek_id), err);
			if (rc == CF_OK)
				rc = col_bytes(st, 4, w->wrapped,
				    sizeof(w->wrapped), err);
		} else if (kind == CF_WRAPPED_MFA) {
			w->principal_id = w->seq;
			rc = col_str(st, 1, w->kek_id, sizeof(w->kek_id), err);
			if (rc == CF_OK)
				rc = col_bytes(st, 2, w->wrapped,
				    sizeof(w->wrapped), err);
		} else {
			rc = col_str(st, 1, w->version_id,
			    sizeof(w->version_id), err);
			if (rc == CF_OK)
				rc = col_str(st, 2, w->kek_id,
				    sizeof(w->kek_id), err);
			if (rc == CF_OK)
				rc = col_bytes(st, 3, w->wrapped,
				    sizeof(w->wrapped), err);
		}
		if (rc != CF_OK)
			goto out;
		k++;
	}
	if (k < max && src != SQLITE_DONE)
		rc = db_err(c->db, src, err, "wrapped keys");
out:
	stmt_done(st);
	pool_put(m, c);
	if (rc == CF_OK)
		*n = k;
	return rc;
}

cf_err
cf_meta_wrapped_replace(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_meta_wrapped *old, const struct cf_meta_wrapped *new,
    size_t n, size_t *done, struct cf_error *err)
{
	struct conn	*c = NULL;
	size_t		 i;
	int		 ch, total = 0;
	cf_err		 rc;

	*done = 0;
	for (i = 0; i < n; i++) {
		if (old[i].kind != new[i].kind ||
		    old[i].kind >= CF_WRAPPED_NKINDS ||
		    check_field(new[i].kek_id, sizeof(new[i].kek_id),
		    "kek id", err) != CF_OK)
			return cf_error_set(err, CF_E_INVAL, "meta: bad "
			    "rewrap batch");
	}
	if ((rc = wtx_begin(m, au, &c, err)) != CF_OK)
		return rc;
	for (i = 0; i < n && rc == CF_OK; i++) {
		ch = 0;
		if (old[i].kind == CF_WRAPPED_S3KEY)
			rc = exec_on(c, ST_KEK_SET_S, &ch, err, "tttww",
			    old[i].s3_key_id, old[i].kek_id,
			    new[i].kek_id, new[i].wrapped, old[i].wrapped);
		else if (old[i].kind == CF_WRAPPED_SEGMENT)
			rc = exec_on(c, ST_KEK_SET_G, &ch, err, "tittww",
			    old[i].version_id, (int64_t)old[i].seg_n,
			    old[i].kek_id, new[i].kek_id, new[i].wrapped,
			    old[i].wrapped);
		else if (old[i].kind == CF_WRAPPED_MFA)
			rc = exec_on(c, ST_KEK_SET_M, &ch, err, "ittww",
			    old[i].principal_id, old[i].kek_id,
			    new[i].kek_id, new[i].wrapped, old[i].wrapped);
		else
			rc = exec_on(c, ST_KEK_SET_V, &ch, err, "tttww",
			    old[i].version_id, old[i].kek_id,
			    new[i].kek_id, new[i].wrapped, old[i].wrapped);
		total += ch;
	}
	rc = wtx_end(m, c, au, rc, err);
	if (rc == CF_OK)
		*done = (size_t)total;
	return rc;
}
