/* src/store/meta.h: the metadata store (namespaces, object versions,
 * principals, API tokens, role bindings).
 *
 * The embedded default is SQLite in WAL mode (meta_sqlite.c); PostgreSQL
 * will implement the same functions later, which is why nothing here
 * exposes SQL.  Safe to call from many threads at once: each call uses a
 * pooled connection; every mutating call is one transaction.  Nothing in
 * it may assume a single server process.
 *
 * Records are plain structs with fixed-size, NUL-terminated fields sized by
 * the limits below; callers validate names before calling (core/names.c),
 * and the store rejects oversize input with CF_E_INPUT rather than
 * truncating. */
#ifndef CF_STORE_META_H
#define CF_STORE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "crypto/keyring.h"

#define CF_NS_NAME_MAX		64	/* S3 bucket rules: 3..63 chars */
#define CF_ENV_MAX		16	/* "dev" | "staging" | "prod" */
#define CF_SENS_MAX		16	/* "public" | "internal" |
					 * "confidential" | "restricted" */
#define CF_OBJKEY_MAX		1025	/* 1024 bytes of UTF-8 + NUL */
#define CF_VERSION_ID_LEN	32	/* hex of 16 random bytes */
#define CF_BLOB_ID_LEN		32	/* hex of 16 random bytes */
#define CF_SHA256_HEX_LEN	64
#define CF_CTYPE_MAX		128
#define CF_CHECKSUM_TEXT_MAX	80	/* "crc64nvme:" + base64 of 32 bytes */
#define CF_USERMETA_MAX		2048	/* JSON object text */
#define CF_PRINCIPAL_MAX	64
#define CF_ROLE_MAX		16
#define CF_TOKEN_ID_LEN		16	/* hex of 8 random bytes */
#define CF_DESC_MAX		128
#define CF_SCOPE_MAX		1024	/* token scope, JSON object text */
#define CF_PWHASH_MAX		128	/* PHC string (== CF_PWHASH_STR_MAX) */
#define CF_AUTHKEY_MAX		128	/* "user:NAME" | "addr:IP" */
#define CF_RECOVERY_MAX		16	/* recovery codes per principal */
#define CF_OIDC_ISS_MAX		512	/* OIDC issuer URL + NUL */
#define CF_OIDC_SUB_MAX		256	/* OIDC subject (<= 255) + NUL */
#define CF_VERSIONING_MAX	16	/* "unversioned" | "enabled" |
					 * "suspended" */

struct cf_meta;

struct cf_ns_rec {
	int64_t	id;		/* set by the store (ignored on create): a
				 * namespace deleted and re-created under
				 * the same name gets a new one */
	char	name[CF_NS_NAME_MAX];
	char	env[CF_ENV_MAX];
	char	sensitivity[CF_SENS_MAX];	/* "" on create: "internal" */
	char	created_by[CF_PRINCIPAL_MAX];
	int64_t	created_us;
	int64_t	retain_days;	/* versions younger cannot be deleted or
				 * erased; 0: none */
	int64_t	purge_days;	/* non-current versions older are purged
				 * (meta_purge.c); 0: never */
	/* S3's versioning state: "unversioned", "enabled" or "suspended"
	 * ("" on create: "enabled"); docs/s3.md. */
	char	versioning[CF_VERSIONING_MAX];
};

/* One segment of a version completed by reference: an ordinary blob
 * (docs/internals/CRYPTO.md, "Blob format") sealed under sealed_as (the
 * multipart part id it was uploaded as), holding size bytes of
 * plaintext, its data key wrapped with the associated data
 * "seg:<version_id>:<n>" (cf_segment_ad), so that a segment row moved to
 * another version or place no longer unwraps. */
struct cf_segment_rec {
	uint32_t	n;			/* 0, 1, ...: the order */
	char		blob_id[CF_BLOB_ID_LEN + 1];
	uint64_t	size;
	char		sealed_as[CF_VERSION_ID_LEN + 1];
	char		kek_id[CF_KEK_ID_MAX];
	uint8_t		wrapped_dek[CF_WRAPPED_DEK_LEN];
	/* The S3 part it was (1..10000, ascending with n), and the
	 * checksum that part carried, verified ("ALG:BASE64"; "" for
	 * none).  part_number 0: not kept (a segment completed before
	 * the store kept it): it is read as its position, n + 1. */
	uint32_t	part_number;
	char		checksum[CF_CHECKSUM_TEXT_MAX];
};
#define CF_SEGMENTS_MAX		10000	/* S3's parts per upload */
#define CF_SEGMENT_AD_MAX	64
/* The kek_id of a version row whose keys are its segments'. */
#define CF_KEK_SEGMENTS		"segments"
/* The associated data that binds segment n's wrapped key to version
 * version_id, into ad (CF_SEGMENT_AD_MAX); its length. */
size_t	cf_segment_ad(const char *version_id, uint32_t n,
	    char ad[CF_SEGMENT_AD_MAX]);

struct cf_version_rec {
	char		version_id[CF_VERSION_ID_LEN + 1];
	char		ns[CF_NS_NAME_MAX];
	/* On put: 0, or the id of the namespace (cf_ns_rec.id) the version
	 * must go into; if ns now names another one, CF_E_CONFLICT. */
	int64_t		ns_id;
	char		key[CF_OBJKEY_MAX];
	int64_t		seq;		/* assigned by the store;
					 * orders versions */
	bool		delete_marker;	/* then no blob, size 0 */
	char		blob_id[CF_BLOB_ID_LEN + 1];
	uint64_t	size;
	char		sha256[CF_SHA256_HEX_LEN + 1];
	char		content_type[CF_CTYPE_MAX];
	char		user_meta[CF_USERMETA_MAX];	/* JSON object or "" */
	char		created_by[CF_PRINCIPAL_MAX];
	int64_t		created_us;
	char		kek_id[CF_KEK_ID_MAX];
	uint8_t		wrapped_dek[CF_WRAPPED_DEK_LEN];
	/* The version id the blob's chunks were sealed under (their
	 * associated data), when not this version's own: a promoted
	 * version shares its source's blob (docs/internals/CRYPTO.md).
	 * "": its own. */
	char		sealed_as[CF_VERSION_ID_LEN + 1];
	char		md5[48];	/* the S3 ETag: hex MD5 of the
					 * plaintext, or of a multipart
					 * upload's part MD5s + "-N"; ""
					 * when not computed */
	char		content_encoding[CF_CTYPE_MAX];	/* as given; "" */
	/* The S3 checksum its upload carried and the server verified over
	 * the plaintext, "ALG:BASE64" (ALG as in x-amz-checksum-ALG:
	 * crc32, crc32c, crc64nvme, sha1, sha256); "" when none. */
	char		checksum[CF_CHECKSUM_TEXT_MAX];
	/* On put: "" or the multipart upload this version completes: its
	 * rows go in the same transaction. */
	char		mp_upload[CF_VERSION_ID_LEN + 1];
	/* A version completed by reference (docs/internals/STORE.md,
	 * "Segments"): nsegs > 0 segments, whose plaintexts in order are
	 * the version's bytes; then blob_id is "", kek_id CF_KEK_SEGMENTS
	 * and wrapped_dek zeros, each segment carrying its own blob, data
	 * key and sealed_as.  0: one blob (blob_id), as always.  On put,
	 * segs holds the nsegs segments (borrowed; their sizes must add up
	 * to size, and with mp_upload each must still be a part of that
	 * upload); on read segs is NULL (cf_meta_segments reads them). */
	uint32_t	nsegs;
	struct cf_segment_rec *segs;
	/* Its place in S3's view, set by the store (ignored on put):
	 * s3_null 0: S3 sees its version id; 1 or 2: it is the "null"
	 * version (written while the namespace was unversioned or
	 * suspended) of a namespace that is unversioned (1: S3 answers no
	 * version id for it) or has been versioned since (2: S3 says
	 * "null").  s3_hidden: no longer in S3's view (replaced by a newer
	 * null version, or deleted through S3 by its versionId); the
	 * version itself is unchanged and still Coffer's. */
	int		s3_null;
	bool		s3_hidden;
};

struct cf_principal_rec {
	int64_t	id;
	char	name[CF_PRINCIPAL_MAX];
	char	kind[16];		/* "user" | "service" */
	int64_t	created_us;
	bool	disabled;
	bool	has_password;		/* read-only: set by password_set */
	bool	mfa_required;		/* MFA for every action */
	int64_t	owner_id;		/* service accounts: owning user; 0 */
	bool	provisioned;		/* created just in time (OIDC) */
	bool	oidc_adoptable;		/* read-only: provisioned before
					 * OIDC links existed, not linked
					 * yet (see cf_meta_oidc_link_add) */
};

struct cf_token_rec {
	char	id[CF_TOKEN_ID_LEN + 1];	/* public id, for ls/revoke */
	int64_t	principal_id;
	uint8_t	hash[32];		/* SHA-256 of the whole token */
	char	description[CF_DESC_MAX];
	int64_t	created_us;
	int64_t	expires_us;		/* 0: never */
	int64_t	revoked_us;		/* 0: not revoked */
	int64_t	last_used_us;		/* 0: never used */
	char	kind[8];		/* "api" ("" = api) | "session" */
	int64_t	mfa_at_us;		/* sessions: when MFA was done; 0 */
	char	scope[CF_SCOPE_MAX];	/* JSON object text; "" = none */
};

struct cf_binding_rec {
	int64_t	principal_id;
	char	principal[CF_PRINCIPAL_MAX];
	char	role[CF_ROLE_MAX];	/* reader | writer | owner | admin */
	char	ns[CF_NS_NAME_MAX];	/* "" for a global binding */
	int64_t	expires_us;		/* 0: never */
};

/* Open or create the store at path (SQLite file; -wal/-shm beside it),
 * creating or migrating the schema. */
cf_err	cf_meta_open(const char *path, struct cf_meta **out,
	    struct cf_error *err);
void	cf_meta_close(struct cf_meta *m);
/* The version of the database engine the process runs with (SQLite's
 * sqlite3_libversion), a static string: for the posture check. */
const char *cf_meta_engine_version(void);

/* Read scope: until cf_meta_scope_end, this thread's calls on m share one
 * connection and one read transaction (one snapshot, and one WAL read
 * lock instead of one per query).  A write transaction inside it ends the
 * scope's transaction first; the rest of the scope runs in autocommit
 * mode.  Scopes nest; each begin that returned CF_OK needs its end. */
cf_err	cf_meta_scope_begin(struct cf_meta *m, struct cf_error *err);
void	cf_meta_scope_end(struct cf_meta *m);

/* The audit obligation of a change.  Every function below that changes
 * data or access takes one (au), and runs as one write transaction that
 * calls au->record(au->arg, err) inside it, after the change and right
 * before COMMIT, with the write lock held.  A non-OK return rolls the
 * transaction back and is the call's result (err as record set it): no
 * change is committed unless its record was made durable first ("no
 * record, no change").  record is called at most once per store call,
 * on the caller's thread, and never for a call that fails before its
 * COMMIT (then nothing changed and nothing is recorded).  It may read
 * the store (another connection: it sees the state before the change)
 * but must not change it.
 *
 * SEC: a NULL au, or one whose record is NULL, fails with CF_E_INTERNAL
 * before anything is touched.  The reference monitor builds obligations
 * only from an allowed decision (core_act_begin, src/core/monitor.c), so
 * a change cannot be made without one: the obligation is a value passed
 * down, not state armed aside, and nothing of it outlives the call.
 *
 * A PostgreSQL store implements the same contract the same way: BEGIN
 * (ISOLATION LEVEL as fits the call), the statements, then record(),
 * then COMMIT, or ROLLBACK when record() or anything before it failed.
 * The record goes to the audit log, not to the database, so it is the
 * order that makes the guarantee: a crash between the record and COMMIT
 * leaves the record of a change that did not happen, never a change
 * without its record.  (A failed COMMIT is the same case: the call
 * fails after record() succeeded, and the caller records the outcome.)
 *
 * A few writes are no access decision and take no obligation; each says
 * so and why: cf_meta_token_touch, cf_meta_password_rehash,
 * cf_meta_mfa_use_step, cf_meta_recovery_use, cf_meta_authfail_*,
 * cf_meta_bootstrap (and the schema migrations of cf_meta_open). */
typedef cf_err (*cf_meta_record_fn)(void *arg, struct cf_error *err);
struct cf_meta_audit {
	cf_meta_record_fn	 record;
	void			*arg;
};

/* --- namespaces --- */
/* CF_E_CONFLICT if it exists. */
cf_err	cf_meta_ns_create(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_ns_rec *ns,
	    struct cf_error *err);
cf_err	cf_meta_ns_get(struct cf_meta *m, const char *name,
	    struct cf_ns_rec *out, struct cf_error *err);
/* Change a namespace's sensitivity (the caller validates the level).
 * CF_E_NOTFOUND if there is no such namespace. */
cf_err	cf_meta_ns_set_sensitivity(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *name,
	    const char *sensitivity, struct cf_error *err);
/* Calls cb for each namespace in name order; a non-OK return from cb stops
 * the walk and is returned. */
typedef cf_err (*cf_ns_cb)(void *arg, const struct cf_ns_rec *ns,
    struct cf_error *err);
cf_err	cf_meta_ns_list(struct cf_meta *m, cf_ns_cb cb, void *arg,
	    struct cf_error *err);
/* Delete a namespace that has no live object (CF_E_CONFLICT otherwise).
 * Its remaining old versions and delete markers are removed with it, and
 * their blob ids are reported through blob_cb (so the caller can delete
 * the blobs after the commit); its bindings are removed too. */
typedef cf_err (*cf_blobid_cb)(void *arg, const char *blob_id,
    struct cf_error *err);
cf_err	cf_meta_ns_delete(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *name,
	    cf_blobid_cb blob_cb, void *arg, struct cf_error *err);
/* As cf_meta_ns_delete; on success *versions (nullable) is the number
 * of versions removed with it (delete markers not counted; a version is
 * one whatever its segments or the blobs it shares). */
cf_err	cf_meta_ns_delete_counted(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *name,
	    cf_blobid_cb blob_cb, void *arg, uint64_t *versions,
	    struct cf_error *err);

/* --- object versions --- */
/* Insert a version (or delete marker); v->seq is ignored and assigned.
 * CF_E_NOTFOUND if the namespace does not exist, CF_E_CONFLICT on a
 * duplicate version id or when v->ns_id is set and the namespace named
 * v->ns is no longer that one (checked in the insert's transaction).
 * On success v->s3_null tells the version's place in S3's view (from
 * the namespace's versioning state at the insert). */
cf_err	cf_meta_version_put(struct cf_meta *m,
	    const struct cf_meta_audit *au, struct cf_version_rec *v,
	    struct cf_error *err);
/* version_id NULL: the latest version of (ns, key), which may be a delete
 * marker (the caller decides what that means); "null": S3's null version
 * of the key (the newest s3_null one still in S3's view).
 * CF_E_NOTFOUND if none. */
cf_err	cf_meta_version_get(struct cf_meta *m, const char *ns, const char *key,
	    const char *version_id, struct cf_version_rec *out,
	    struct cf_error *err);
typedef cf_err (*cf_version_cb)(void *arg, const struct cf_version_rec *v,
    struct cf_error *err);
/* All versions of one key, newest first. */
cf_err	cf_meta_version_list(struct cf_meta *m, const char *ns,
	    const char *key, cf_version_cb cb, void *arg, struct cf_error *err);

/* For each of ids[0..n-1] (blob ids), whether any version row
 * references it (ref[i]), whatever its namespace and whether or not it is
 * the latest; one read snapshot for all.  SEC: on failure every ref[i]
 * is true, so that a caller that ignores the error still removes
 * nothing (the orphan sweep). */
cf_err	cf_meta_blobs_referenced(struct cf_meta *m,
	    const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n, bool *ref,
	    struct cf_error *err);

/* List live objects (latest version not a delete marker) of ns whose key
 * starts with prefix, in key byte order, after start_after (exclusive;
 * "" from the start), S3-style: with a non-empty delimiter, keys that
 * contain it after the prefix are rolled into one common prefix each
 * (reported through prefix_cb, once).  At most max_items entries (objects
 * plus prefixes); *truncated tells whether more follow and next_after
 * (CF_OBJKEY_MAX) is then the value to pass as start_after. */
typedef cf_err (*cf_prefix_cb)(void *arg, const char *prefix,
    struct cf_error *err);
cf_err	cf_meta_object_list(struct cf_meta *m, const char *ns,
	    const char *prefix, const char *delimiter, const char *start_after,
	    size_t max_items, cf_version_cb obj_cb, cf_prefix_cb prefix_cb,
	    void *arg, bool *truncated, char next_after[CF_OBJKEY_MAX],
	    struct cf_error *err);

/* S3 ListObjectVersions: every version and delete marker in S3's view
 * (not s3_hidden) of ns's keys
 * that start with prefix, keys in byte order, each key's versions newest
 * first (latest: the key's newest); with a non-empty delimiter, keys that
 * contain it after the prefix are rolled into common prefixes
 * (prefix_cb, once) as in cf_meta_object_list.  The page starts after
 * key_marker ("" from the start) or, with vid_marker (a version of
 * key_marker, else CF_E_NOTFOUND), at key_marker's versions older than
 * it; it holds at most max_items (>= 1) entries.  *truncated tells
 * whether more follow; next_key and next_vid ("" after a common prefix)
 * are then the markers of the next page. */
typedef cf_err (*cf_version_scan_cb)(void *arg,
    const struct cf_version_rec *v, bool latest, struct cf_error *err);
cf_err	cf_meta_version_scan(struct cf_meta *m, const char *ns,
	    const char *prefix, const char *delimiter, const char *key_marker,
	    const char *vid_marker, size_t max_items, cf_version_scan_cb cb,
	    cf_prefix_cb prefix_cb, void *arg, bool *truncated,
	    char next_key[CF_OBJKEY_MAX],
	    char next_vid[CF_VERSION_ID_LEN + 1], struct cf_error *err);

/* --- S3 versioning (meta_versioning.c) --- */
/* Set a namespace's versioning state: "enabled" or "suspended" (never
 * back to "unversioned": CF_E_INPUT).  CF_E_NOTFOUND if there is no
 * such namespace. */
cf_err	cf_meta_ns_set_versioning(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *name,
	    const char *state, struct cf_error *err);
/* S3's DeleteObject?versionId=V: version vid of (ns, key), in S3's
 * view, leaves that view (s3_hidden); no row is removed.  When it is
 * the key's latest version and not a delete marker, marker (a delete
 * marker record, as for cf_meta_version_put) is inserted too, itself
 * outside S3's view, so that the key reads as deleted everywhere;
 * *marked tells whether it was.  CF_E_CONFLICT when vid is not (or no
 * longer) a version of the key in S3's view.  One transaction. */
cf_err	cf_meta_version_s3_delete(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *ns, const char *key,
	    const char *vid, struct cf_version_rec *marker, bool *marked,
	    struct cf_error *err);

/* --- principals --- */
/* p->id and created are assigned; CF_E_CONFLICT if the name exists. */
cf_err	cf_meta_principal_create(struct cf_meta *m,
	    const struct cf_meta_audit *au, struct cf_principal_rec *p,
	    struct cf_error *err);
cf_err	cf_meta_principal_get(struct cf_meta *m, const char *name,
	    struct cf_principal_rec *out, struct cf_error *err);
cf_err	cf_meta_principal_get_id(struct cf_meta *m, int64_t id,
	    struct cf_principal_rec *out, struct cf_error *err);
typedef cf_err (*cf_principal_cb)(void *arg, const struct cf_principal_rec *p,
    struct cf_error *err);
cf_err	cf_meta_principal_list(struct cf_meta *m, cf_principal_cb cb,
	    void *arg, struct cf_error *err);
size_t	cf_meta_principal_count(struct cf_meta *m);

/* --- API tokens (only SHA-256 hashes are stored) --- */
cf_err	cf_meta_token_insert(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_token_rec *t,
	    struct cf_error *err);
/* Look up by hash (the hash of a 256-bit random token is itself
 * unguessable, so an indexed lookup leaks nothing useful). */
cf_err	cf_meta_token_find(struct cf_meta *m, const uint8_t hash[32],
	    struct cf_token_rec *out, struct cf_error *err);
cf_err	cf_meta_token_get(struct cf_meta *m, const char *id,
	    struct cf_token_rec *out, struct cf_error *err);
/* Record a use at now_us.  CF_E_NOTFOUND for an unknown id.  The first use
 * is always stored; after that at most one write a minute per token (each
 * costs an fsync), and the time never goes backwards.  No audit
 * obligation: bookkeeping of a credential's use, decided by no one and
 * granting nothing (the request it serves has its own record). */
cf_err	cf_meta_token_touch(struct cf_meta *m, const char *id, int64_t now_us,
	    struct cf_error *err);
/* CF_E_NOTFOUND for an unknown id; revoking twice keeps the first time. */
cf_err	cf_meta_token_revoke(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, int64_t now_us,
	    struct cf_error *err);
typedef cf_err (*cf_token_cb)(void *arg, const struct cf_token_rec *t,
    struct cf_error *err);
/* principal_id < 0: every token. */
cf_err	cf_meta_token_list(struct cf_meta *m, int64_t principal_id,
	    cf_token_cb cb, void *arg, struct cf_error *err);

/* --- role bindings (ns "" = global) --- */
/* Idempotent; granting again sets the binding's expiry to expires_us
 * (0: none). */
cf_err	cf_meta_binding_add(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t principal_id,
	    const char *role, const char *ns, int64_t expires_us,
	    struct cf_error *err);
/* CF_E_NOTFOUND if there was no such binding. */
cf_err	cf_meta_binding_remove(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t principal_id,
	    const char *role, const char *ns, struct cf_error *err);
/* Remove the binding only if it has expired at now_us (> 0): the sweep's
 * deletion, which a grant made since cannot lose.  CF_E_NOTFOUND if there
 * is no such expired binding. */
cf_err	cf_meta_binding_remove_expired(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t principal_id,
	    const char *role, const char *ns, int64_t now_us,
	    struct cf_error *err);
typedef cf_err (*cf_binding_cb)(void *arg, const struct cf_binding_rec *b,
    struct cf_error *err);
/* principal_id < 0: all bindings; ns NULL: any namespace.  live_at_us >= 0:
 * only the bindings that grant at that time (not expired by then; every
 * decision passes its own time); CF_META_BINDINGS_ALL: expired ones too
 * (listings). */
#define CF_META_BINDINGS_ALL	((int64_t)-1)
cf_err	cf_meta_binding_list(struct cf_meta *m, int64_t principal_id,
	    const char *ns, int64_t live_at_us, cf_binding_cb cb, void *arg,
	    struct cf_error *err);

/* --- identity (issue 4) --- */
/* With revoke_us != 0, also revoke every session of id at revoke_us
 * (as cf_meta_token_revoke_sessions), in the same transaction; *n
 * (nullable) gets the number revoked. */
cf_err	cf_meta_principal_set_disabled(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t id,
	    bool disabled, int64_t revoke_us, size_t *n, struct cf_error *err);
cf_err	cf_meta_principal_set_mfa_required(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t id,
	    bool required, struct cf_error *err);
/* hash: a PHC string, or "" to remove the password.  With revoke_us != 0,
 * also revoke every session of id but except_id (NULL: none) at
 * revoke_us, in the same transaction; *n (nullable): the number revoked. */
cf_err	cf_meta_password_set(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t id, const char *hash,
	    int64_t revoke_us, const char *except_id, size_t *n,
	    struct cf_error *err);
/* Replace the password hash of id by new_hash only if it is still
 * old_hash (the same password under new parameters, after a login
 * verified it): CF_E_CONFLICT when the password changed meanwhile, which
 * then stays.  No audit obligation: no access changes, the same password
 * verifies before and after (logged as event=password_rehashed). */
cf_err	cf_meta_password_rehash(struct cf_meta *m, int64_t id,
	    const char *old_hash, const char *new_hash, struct cf_error *err);
/* out gets the PHC string ("" when the principal has no password).
 * SEC: the caller wipes out after use. */
cf_err	cf_meta_password_get(struct cf_meta *m, int64_t id,
	    char out[CF_PWHASH_MAX], struct cf_error *err);
/* Record that a session completed MFA at mfa_at_us. */
cf_err	cf_meta_token_set_mfa(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id,
	    int64_t mfa_at_us, struct cf_error *err);

/* Revoke every unrevoked session (kind "session", not API tokens) of
 * principal_id at now_us, except the one with id except_id (NULL: none).
 * *n (nullable) gets the number revoked. */
cf_err	cf_meta_token_revoke_sessions(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t principal_id,
	    const char *except_id, int64_t now_us, size_t *n,
	    struct cf_error *err);

/* TOTP enrollment: the secret is stored only wrapped by the keyring. */
struct cf_mfa_rec {
	int64_t	principal_id;
	char	kek_id[CF_KEK_ID_MAX];
	uint8_t	wrapped[CF_WRAPPED_DEK_LEN];
	bool	enabled;		/* false: pending confirmation */
	int64_t	last_step;		/* last TOTP step accepted; -1 */
	int64_t	created_us;
};
/* Replace the principal's enrollment (pending, last_step -1) and its
 * recovery codes, in one transaction.  hashes: n SHA-256 digests. */
cf_err	cf_meta_mfa_put(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_mfa_rec *rec,
	    const uint8_t (*hashes)[32], size_t n, struct cf_error *err);
/* CF_E_NOTFOUND when not enrolled (pending or enabled). */
cf_err	cf_meta_mfa_get(struct cf_meta *m, int64_t principal_id,
	    struct cf_mfa_rec *out, struct cf_error *err);
cf_err	cf_meta_mfa_enable(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t principal_id,
	    struct cf_error *err);
/* Remove the enrollment and the recovery codes.  Idempotent.  With
 * revoke_us != 0, also revoke every session of the principal at revoke_us
 * (as cf_meta_token_revoke_sessions), in the same transaction; *n
 * (nullable) gets the number revoked. */
cf_err	cf_meta_mfa_delete(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t principal_id,
	    int64_t revoke_us, size_t *n, struct cf_error *err);
/* SEC: atomically record step as used: CF_E_AUTH ("code already used")
 * when a step >= step was recorded already, so a code is accepted once
 * even by concurrent requests or several server processes.  Like
 * cf_meta_recovery_use, no audit obligation: using up a one-time code
 * is part of checking a credential, which must hold even when the
 * request then fails; the request that presented it is recorded. */
cf_err	cf_meta_mfa_use_step(struct cf_meta *m, int64_t principal_id,
	    int64_t step, struct cf_error *err);
/* The unused recovery code digests (at most max) into hashes; *n. */
cf_err	cf_meta_recovery_list(struct cf_meta *m, int64_t principal_id,
	    uint8_t (*hashes)[32], size_t max, size_t *n,
	    struct cf_error *err);
/* SEC: atomically mark one unused code used; CF_E_AUTH when it was
 * used (or removed) meanwhile. */
cf_err	cf_meta_recovery_use(struct cf_meta *m, int64_t principal_id,
	    const uint8_t hash[32], int64_t now_us, struct cf_error *err);

/* Brute-force counters, keyed "user:NAME" or "addr:IP".  The
 * cf_meta_authfail_* writes take no audit obligation: throttle state is
 * no access decision (the attempts it counts are recorded, allowed or
 * not, by their requests). */
struct cf_authfail_rec {
	int64_t	count;			/* failures since the last reset */
	int64_t	last_us;		/* time of the last failure */
	int64_t	locked_until_us;	/* 0: not locked */
	/* From cf_meta_authfail_add: the record as this failure found it
	 * (an expired lock already reset), read in the same transaction. */
	int64_t	prev_count, prev_last_us, prev_locked_until_us;
};
/* All zero when the key has no record. */
cf_err	cf_meta_authfail_get(struct cf_meta *m, const char *key,
	    struct cf_authfail_rec *out, struct cf_error *err);
/* One more failure at now_us, in one write transaction (concurrent
 * failures are all counted).  A lock that has expired starts a fresh
 * count; reaching lock_after failures locks until now_us + lock_us.
 * *out gets the new record. */
cf_err	cf_meta_authfail_add(struct cf_meta *m, const char *key,
	    int64_t now_us, int64_t lock_after, int64_t lock_us,
	    struct cf_authfail_rec *out, struct cf_error *err);
cf_err	cf_meta_authfail_clear(struct cf_meta *m, const char *key,
	    struct cf_error *err);
/* Take back one failure counted by cf_meta_authfail_add (an attempt that
 * was reserved, then succeeded or was refused unchecked): the count goes
 * down by one, never below zero, and a lock is lifted when the count
 * falls below lock_after (the failure taken back was what set it).
 * res is what that add returned: unless a later attempt has counted
 * since, the time of the last failure goes back to res->prev_last_us,
 * so that an attempt refused for coming too early does not restart the
 * delay it was refused for (Retry-After stays true).  NULL: it stays. */
cf_err	cf_meta_authfail_release(struct cf_meta *m, const char *key,
	    int64_t lock_after, const struct cf_authfail_rec *res,
	    struct cf_error *err);

/* --- OIDC links: (issuer, subject) -> principal, unique --- */
struct cf_oidc_link_rec {
	char	issuer[CF_OIDC_ISS_MAX];
	char	subject[CF_OIDC_SUB_MAX];
	int64_t	principal_id;
	int64_t	created_us;
};
/* *principal_id gets the principal (issuer, subject) is linked to;
 * CF_E_NOTFOUND when it is linked to none. */
cf_err	cf_meta_oidc_link_get(struct cf_meta *m, const char *issuer,
	    const char *subject, int64_t *principal_id, struct cf_error *err);
/* Link (issuer, subject) to principal_id, in one transaction that also
 * clears the principal's oidc_adoptable.  Idempotent: *created (nullable)
 * is false when this very link existed.  CF_E_CONFLICT when (issuer,
 * subject) is linked to another principal; CF_E_NOTFOUND for an unknown
 * principal.  adopt: link only if the principal is still adoptable
 * (oidc_adoptable, provisioned, a user, enabled, no password, no MFA
 * enrollment), checked in the transaction; CF_E_CONFLICT otherwise. */
cf_err	cf_meta_oidc_link_add(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *issuer,
	    const char *subject, int64_t principal_id, bool adopt,
	    int64_t now_us, bool *created, struct cf_error *err);
/* Remove the link of (issuer, subject) to principal_id (and clear the
 * principal's oidc_adoptable).  CF_E_NOTFOUND when there is no such
 * link. */
cf_err	cf_meta_oidc_link_remove(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *issuer,
	    const char *subject, int64_t principal_id, struct cf_error *err);
typedef cf_err (*cf_oidc_link_cb)(void *arg, const struct cf_oidc_link_rec *l,
    struct cf_error *err);
/* principal_id < 0: every link. */
cf_err	cf_meta_oidc_link_list(struct cf_meta *m, int64_t principal_id,
	    cf_oidc_link_cb cb, void *arg, struct cf_error *err);
/* cf_meta_principal_create and a link of (issuer, subject) to the new
 * principal, in one transaction.  CF_E_CONFLICT when the name exists or
 * the subject is linked already. */
cf_err	cf_meta_principal_create_linked(struct cf_meta *m,
	    const struct cf_meta_audit *au,
	    struct cf_principal_rec *p, const char *issuer,
	    const char *subject, struct cf_error *err);

/* First start: create principal p (id and created assigned), bind it to
 * role globally and insert token tok (its principal_id set to p's id),
 * in one transaction, only if the store has no principal at all:
 * CF_E_CONFLICT otherwise (another process got there first), and nothing
 * is written.  No audit obligation: there is no request and nothing to
 * decide; the server logs event=bootstrap and whoever reads the
 * bootstrap file claims the account (see docs/security.md). */
cf_err	cf_meta_bootstrap(struct cf_meta *m, struct cf_principal_rec *p,
	    const char *role, struct cf_token_rec *tok, struct cf_error *err);

/* Per-role settings.  A role without a record is not flagged. */
cf_err	cf_meta_role_mfa_set(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *role,
	    bool required, struct cf_error *err);
cf_err	cf_meta_role_mfa_get(struct cf_meta *m, const char *role,
	    bool *required, struct cf_error *err);

/* --- custom policy sets (Cedar text), versioned ---
 * A policy set is named (name, ns): ns "" is a global set, any other a
 * set attached to that namespace.  Every change appends a version
 * (1, 2, ... per set; never reused); `rm` appends a tombstone version
 * (deleted, empty text), so the history stays readable.  Deleting a
 * namespace removes its sets with it.  The store checks sizes and
 * counts; the caller validates names and the Cedar text. */
#define CF_POLICY_NAME_MAX	64	/* [a-z0-9][a-z0-9_.-]{0,62} + NUL */
#define CF_POLICY_TEXT_MAX	(1u << 20)	/* bytes of one version */
/* Policy sets in force (latest version not a tombstone): at most
 * CF_POLICY_SETS_MAX in all, of which CF_POLICY_GLOBAL_SETS_MAX are kept
 * for the global ones (so that the owners of namespaces cannot use up the
 * admins' room), and at most CF_POLICY_NS_SETS_MAX per namespace (nor each
 * other's).  One decision evaluates the global sets and those of one
 * namespace: at most 192. */
#define CF_POLICY_SETS_MAX		1000
#define CF_POLICY_GLOBAL_SETS_MAX	128
#define CF_POLICY_NS_SETS_MAX		64

struct cf_policy_rec {
	char	name[CF_POLICY_NAME_MAX];
	char	ns[CF_NS_NAME_MAX];		/* "" for a global set */
	int64_t	version;			/* 1..n per (name, ns) */
	bool	deleted;			/* an rm tombstone */
	char	sha256[CF_SHA256_HEX_LEN + 1];	/* of the text (hex) */
	char	created_by[CF_PRINCIPAL_MAX];
	int64_t	created_us;
	size_t	text_len;			/* bytes of the text */
};

/* Append a version of set (p->name, p->ns) holding text[0..len) (valid
 * UTF-8 without NUL, checked by the caller; the store refuses a NUL),
 * by p->created_by at p->created_us; p->deleted: append a tombstone
 * instead (len must be 0).  The digest is computed here.
 * SEC: optimistic: expect is the latest version the caller saw (0: the
 * set has none), and anything else found in the write transaction is
 * CF_E_CONFLICT, so what the caller recorded as the previous version
 * (the audit record's digest) is exactly the one replaced.  A tombstone
 * of a set whose latest is missing or a tombstone is CF_E_NOTFOUND.
 * CF_E_LIMIT: text over CF_POLICY_TEXT_MAX, or a new set in force beyond
 * the counts above.  CF_E_NOTFOUND: no namespace p->ns.  *out (nullable)
 * gets the stored record (version, digest, text_len). */
cf_err	cf_meta_policy_put(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_policy_rec *p, const char *text, size_t len,
	    int64_t expect, struct cf_policy_rec *out, struct cf_error *err);
/* Version `version` of (name, ns), or its latest when version is 0 (which
 * may be a tombstone: the caller decides what that means).  text
 * (nullable) gets a new NUL-terminated copy of the text, freed by the
 * caller with cf_free.  CF_E_NOTFOUND when there is no such version or
 * namespace. */
cf_err	cf_meta_policy_get(struct cf_meta *m, const char *name, const char *ns,
	    int64_t version, struct cf_policy_rec *out, char **text,
	    struct cf_error *err);
typedef cf_err (*cf_policy_cb)(void *arg, const struct cf_policy_rec *p,
    struct cf_error *err);
/* Every version of (name, ns), newest first, tombstones included.
 * CF_E_NOTFOUND when the set has none. */
cf_err	cf_meta_policy_history(struct cf_meta *m, const char *name,
	    const char *ns, cf_policy_cb cb, void *arg, struct cf_error *err);
/* The sets in force (latest version, not a tombstone), by namespace (""
 * first) then name; ns NULL: every scope, else only that one ("":
 * global). */
cf_err	cf_meta_policy_list(struct cf_meta *m, const char *ns, cf_policy_cb cb,
	    void *arg, struct cf_error *err);
/* As cf_meta_policy_list over every scope, in one read transaction (one
 * snapshot), with each set's text: what the authorization engine loads.
 * text[0..len) is borrowed for the call (NUL-terminated). */
typedef cf_err (*cf_policy_text_cb)(void *arg, const struct cf_policy_rec *p,
    const char *text, size_t len, struct cf_error *err);
cf_err	cf_meta_policy_current(struct cf_meta *m, cf_policy_text_cb fn,
	    void *arg, struct cf_error *err);
/* A number that changes whenever a policy set version is added or a
 * namespace's sets are removed with it: servers sharing the store poll
 * it to load a change another one made. */
cf_err	cf_meta_policy_generation(struct cf_meta *m, int64_t *gen,
	    struct cf_error *err);
/* The decision cache: what every decision reads of the store and rarely
 * changes, kept in memory.  cf_meta_ns_get_cached is cf_meta_ns_get and
 * cf_meta_role_mfa_cached cf_meta_role_mfa_get, from memory while no
 * namespace or role setting has changed since the entry was read: a
 * change committed through this store ends every entry before it
 * returns; a change another process makes, at the next
 * cf_meta_cache_poll (which the caller runs on a clock).  They read
 * outside the caller's read scope (their own snapshot, never older
 * than the entry's generation), so use them only where a newer record
 * than the scope's is as good (the authorizer). */
cf_err	cf_meta_ns_get_cached(struct cf_meta *m, const char *name,
	    struct cf_ns_rec *out, struct cf_error *err);
cf_err	cf_meta_role_mfa_cached(struct cf_meta *m, const char *role,
	    bool *required, struct cf_error *err);
cf_err	cf_meta_cache_poll(struct cf_meta *m, struct cf_error *err);
/* --- user attributes and labels ---
 * Attributes of a principal and labels of a namespace or an object key
 * are name -> value strings that policies read (Cedar tags).  Names:
 * [a-z][a-z0-9_.-]{0,62}; values: 0..256 bytes of UTF-8 without control
 * characters (C0, DEL, C1); at most CF_ATTRS_MAX per principal and per
 * label target.  An object key's labels belong to the key, not to a
 * version: they survive new versions and delete markers, and go when
 * the key's last version is removed; a namespace's labels, and its
 * keys', go with the namespace. */
#define CF_ATTR_NAME_MAX	64	/* 63 bytes + NUL */
#define CF_ATTR_VALUE_MAX	257	/* 256 bytes + NUL */
#define CF_ATTRS_MAX		64

bool	cf_meta_attr_name_valid(const char *s);
/* s[0..len): len bytes (a JSON string may hold NUL, which is refused). */
bool	cf_meta_attr_value_valid(const char *s, size_t len);
/* *out gets a new JSON object name -> string (empty when none), owned by
 * the caller.  One indexed query; an unknown principal has none. */
cf_err	cf_meta_attrs_get(struct cf_meta *m, int64_t principal_id,
	    json_t **out, struct cf_error *err);
/* Apply changes (borrowed; a JSON object name -> string to set, or null
 * to remove) in one write transaction: all or nothing.  CF_E_INPUT for a
 * bad name or value, CF_E_LIMIT when the result would hold more than
 * CF_ATTRS_MAX (or changes has more than 2 * CF_ATTRS_MAX members),
 * CF_E_NOTFOUND for an unknown principal.  *changed (nullable): whether
 * anything changed (removing what is absent, or setting the same value,
 * does not). */
cf_err	cf_meta_attrs_set(struct cf_meta *m, const struct cf_meta_audit *au,
	    int64_t principal_id, const json_t *changes, bool *changed,
	    struct cf_error *err);
/* As cf_meta_attrs_get for the labels of namespace ns_id (key "") or of
 * its object key. */
cf_err	cf_meta_labels_get(struct cf_meta *m, int64_t ns_id, const char *key,
	    json_t **out, struct cf_error *err);
/* As cf_meta_labels_get, the namespace by name (one query: an object
 * read takes its key's labels in the snapshot of its version).  A
 * namespace that does not exist has none. */
cf_err	cf_meta_labels_get_ns(struct cf_meta *m, const char *ns,
	    const char *key, json_t **out, struct cf_error *err);
/* As cf_meta_attrs_set for labels.  CF_E_NOTFOUND when the namespace is
 * gone (ns_id names the one the caller saw, so a namespace re-created
 * under the same name does not get them), or when a value is set on a
 * key that is no live object (its latest version missing or a delete
 * marker); removing is allowed on any key. */
cf_err	cf_meta_labels_set(struct cf_meta *m, const struct cf_meta_audit *au,
	    int64_t ns_id, const char *key, const json_t *changes,
	    bool *changed, struct cf_error *err);

/* ---- begin: break-glass grants ---- */
/* A break-glass grant (core/ops_breakglass.c): principal_id holds owner
 * on namespace ns from created_us until expires_us, unless revoked. */
#define CF_BG_ID_LEN		16	/* hex of 8 random bytes */
#define CF_BG_REASON_MAX	513	/* 512 bytes of UTF-8 + NUL */
struct cf_breakglass_rec {
	char	id[CF_BG_ID_LEN + 1];
	int64_t	principal_id;
	char	principal[CF_PRINCIPAL_MAX];	/* set by the store */
	char	ns[CF_NS_NAME_MAX];
	char	reason[CF_BG_REASON_MAX];
	int64_t	created_us;
	int64_t	expires_us;
	int64_t	revoked_us;			/* 0: not revoked */
	char	revoked_by[CF_PRINCIPAL_MAX];	/* "" */
};
/* Store a new grant (revocation fields ignored).  CF_E_NOTFOUND when
 * the namespace or the principal does not exist. */
cf_err	cf_meta_breakglass_insert(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_breakglass_rec *b,
	    struct cf_error *err);
cf_err	cf_meta_breakglass_get(struct cf_meta *m, const char *id,
	    struct cf_breakglass_rec *out, struct cf_error *err);
typedef cf_err (*cf_breakglass_cb)(void *arg,
    const struct cf_breakglass_rec *b, struct cf_error *err);
/* Grants newest first: of principal_id (< 0: every principal); with
 * active_at_us != 0, only those neither revoked nor expired then (one
 * indexed range per principal: the monitor asks on every request). */
cf_err	cf_meta_breakglass_list(struct cf_meta *m, int64_t principal_id,
	    int64_t active_at_us, cf_breakglass_cb cb, void *arg,
	    struct cf_error *err);
/* Revoke grant id at at_us by principal by.  CF_E_NOTFOUND for an
 * unknown id, CF_E_CONFLICT when it was revoked already. */
cf_err	cf_meta_breakglass_revoke(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, const char *by,
	    int64_t at_us, struct cf_error *err);
/* ---- end: break-glass grants ---- */


/* --- artifacts (meta_artifact.c; docs/artifacts.md) ---
 * An artifact is a name in a namespace whose versions, numbered 1, 2,
 * 3 ... per artifact, are immutable manifests of object versions of the
 * same namespace stored under the keys NAME/PATH.  The caller validates
 * names, kinds, stage names and metadata (core/ops_artifact.c); the store
 * checks sizes and, inside the commit's transaction, that every file of
 * a manifest is an object version it can name. */
#define CF_ART_NAME_MAX		256	/* 255 bytes + NUL */
#define CF_ART_KIND_MAX		16
#define CF_ART_META_MAX		4096	/* JSON object text + NUL */
#define CF_ART_REASON_MAX	257	/* 256 bytes + NUL */
#define CF_STAGE_MAX		33	/* 32 bytes + NUL */
/* Stages per artifact, and their names as one text: space-separated,
 * in byte order (stage names hold no space). */
#define CF_ART_STAGES_MAX	16
#define CF_ART_STAGES_TEXT	(CF_ART_STAGES_MAX * CF_STAGE_MAX)

struct cf_art_rec {
	int64_t		artifact_id;	/* assigned by the store */
	int64_t		ns_id;
	char		ns[CF_NS_NAME_MAX];
	char		name[CF_ART_NAME_MAX];
	int64_t		number;		/* assigned by the store */
	char		version_id[CF_VERSION_ID_LEN + 1];
	char		kind[CF_ART_KIND_MAX];
	char		digest[CF_SHA256_HEX_LEN + 1];
	uint64_t	size;		/* sum of the files' sizes */
	uint64_t	files;
	char		meta[CF_ART_META_MAX];	/* JSON object text */
	char		sensitivity[CF_SENS_MAX];
	char		declassified[CF_ART_REASON_MAX];	/* "" */
	char		created_by[CF_PRINCIPAL_MAX];
	int64_t		created_us;
};

/* One file of a manifest: path below the artifact, the object version
 * (of key NAME/path) that holds it, its SHA-256 and size. */
struct cf_art_file {
	const char	*path;
	const char	*version_id;
	const char	*sha256;
	uint64_t	 size;
};

/* Which version: by number (> 0), long version id, stage, or the latest
 * created at or before as_of_us (> 0); all unset: the latest. */
struct cf_art_sel {
	int64_t		 number;
	const char	*version_id;
	const char	*stage;
	int64_t		 as_of_us;
};

/* Commit version v (its number and artifact_id are assigned; the
 * artifact is created with its first version) with files[0..nfiles)
 * and the sources src[0..nsrc) (artifact id, number), in one write
 * transaction.  CF_E_INPUT (message names the file) when a file is not
 * an object version (not a delete marker) of v->ns_id at key NAME/path
 * with that SHA-256 and size; CF_E_NOTFOUND when a source version does
 * not exist;
 * CF_E_CONFLICT when v->ns no longer names v->ns_id. */
cf_err	cf_meta_art_push(struct cf_meta *m, const struct cf_meta_audit *au,
	    struct cf_art_rec *v, const struct cf_art_file *files,
	    size_t nfiles, const int64_t (*src)[2], size_t nsrc,
	    struct cf_error *err);
/* CF_E_NOTFOUND when there is no such artifact or version. */
cf_err	cf_meta_art_get(struct cf_meta *m, const char *ns, const char *name,
	    const struct cf_art_sel *sel, struct cf_art_rec *out,
	    struct cf_error *err);
/* A version by artifact id and number. */
cf_err	cf_meta_art_get_id(struct cf_meta *m, int64_t artifact_id,
	    int64_t number, struct cf_art_rec *out, struct cf_error *err);
/* *out: [{path, version_id, sha256, size}] in path byte order. */
cf_err	cf_meta_art_files(struct cf_meta *m, int64_t artifact_id,
	    int64_t number, json_t **out, struct cf_error *err);
typedef cf_err (*cf_art_cb)(void *arg, const struct cf_art_rec *v,
    struct cf_error *err);
/* Every version of (ns, name), newest first; CF_E_NOTFOUND when the
 * artifact does not exist. */
cf_err	cf_meta_art_list(struct cf_meta *m, const char *ns, const char *name,
	    cf_art_cb cb, void *arg, struct cf_error *err);
/* Replace a version's user metadata (JSON object text). */
cf_err	cf_meta_art_meta_set(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t artifact_id,
	    int64_t number, const char *meta, struct cf_error *err);
/* Set a version's sensitivity and declassification reason ("" none). */
cf_err	cf_meta_art_sens_set(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t artifact_id,
	    int64_t number, const char *sensitivity, const char *reason,
	    struct cf_error *err);
/* Point stage at version number (0: remove the stage), recorded in the
 * stage's history.  CF_E_NOTFOUND when the version (or, to remove, the
 * stage) does not exist. */
cf_err	cf_meta_art_stage_set(struct cf_meta *m,
	    const struct cf_meta_audit *au, int64_t artifact_id,
	    const char *stage, int64_t number, const char *by, int64_t at_us,
	    struct cf_error *err);
/* *current: {stage: number}; *history (nullable): [{stage, number (0:
 * removed), by, at_us}] oldest first.  A new stage beyond
 * CF_ART_STAGES_MAX on one artifact is CF_E_LIMIT. */
cf_err	cf_meta_art_stages(struct cf_meta *m, int64_t artifact_id,
	    json_t **current, json_t **history, struct cf_error *err);
/* The stages that point at version number, as CF_ART_STAGES_TEXT. */
cf_err	cf_meta_art_version_stages(struct cf_meta *m, int64_t artifact_id,
	    int64_t number, char stages[CF_ART_STAGES_TEXT],
	    struct cf_error *err);
/* The artifact versions whose manifests name object version version_id,
 * folded into one (what a read of that object version reads): the
 * newest one's record in *out, but the highest sensitivity of them all
 * in out->sensitivity, and in stages the stages that point at any of
 * them.  CF_E_NOTFOUND when it is a file of none; CF_E_LIMIT when more
 * stages than CF_ART_STAGES_MAX point at them. */
cf_err	cf_meta_art_of_version(struct cf_meta *m, const char *version_id,
	    struct cf_art_rec *out, char stages[CF_ART_STAGES_TEXT],
	    struct cf_error *err);
/* The direct lineage of a version: up, its sources; else the versions
 * derived from it.  cb gets each that exists; *gone (nullable) the
 * number of sources that no longer do. */
cf_err	cf_meta_art_links(struct cf_meta *m, int64_t artifact_id,
	    int64_t number, bool up, cf_art_cb cb, void *arg, size_t *gone,
	    struct cf_error *err);

/* --- S3 access keys.  SigV4 signs with the secret itself, so it is kept
 * sealed by the keyring (kek_id, wrapped; the wrap binds the key id and
 * principal as associated data), never in the clear. --- */
#define CF_S3_KEY_ID_LEN	20	/* "CFAK" + 16 of [A-Z2-7] */
struct cf_s3key_rec {
	char	id[CF_S3_KEY_ID_LEN + 1];	/* the access key id */
	int64_t	principal_id;
	char	kek_id[CF_KEK_ID_MAX];
	uint8_t	wrapped[CF_WRAPPED_DEK_LEN];
	char	description[CF_DESC_MAX];
	int64_t	created_us;
	int64_t	expires_us;		/* 0: never */
	int64_t	revoked_us;		/* 0: not revoked */
};
/* CF_E_CONFLICT if the id exists, CF_E_NOTFOUND for an unknown
 * principal. */
cf_err	cf_meta_s3key_insert(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_s3key_rec *k,
	    struct cf_error *err);
/* CF_E_NOTFOUND for an unknown id. */
cf_err	cf_meta_s3key_get(struct cf_meta *m, const char *id,
	    struct cf_s3key_rec *out, struct cf_error *err);
/* Revoke at now_us (a key revoked already keeps its time).
 * CF_E_NOTFOUND for an unknown id. */
cf_err	cf_meta_s3key_revoke(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, int64_t now_us,
	    struct cf_error *err);
typedef cf_err (*cf_s3key_cb)(void *arg, const struct cf_s3key_rec *k,
    struct cf_error *err);
/* principal_id < 0: every key.  The wrapped secrets are passed to cb
 * too (it must not show them). */
cf_err	cf_meta_s3key_list(struct cf_meta *m, int64_t principal_id,
	    cf_s3key_cb cb, void *arg, struct cf_error *err);

/* ---- begin: promotions ---- */
/* A promotion request (core/ops_artifact.c, "Promotion"): artifact
 * version src_ns/src_name@src_number into namespace dst_ns, once
 * `required` distinct principals other than the requester approve. */
#define CF_PROMO_ID_LEN		16	/* hex of 8 random bytes */
#define CF_PROMO_REASON_MAX	513
#define CF_PROMO_APPROVERS_MAX	16
#define CF_PROMO_STATE_MAX	16	/* open | completed | rejected */
struct cf_promotion_rec {
	char	id[CF_PROMO_ID_LEN + 1];
	char	src_ns[CF_NS_NAME_MAX];
	char	src_name[CF_ART_NAME_MAX];
	int64_t	src_artifact_id;
	int64_t	src_number;
	char	dst_ns[CF_NS_NAME_MAX];
	char	requester[CF_PRINCIPAL_MAX];
	char	reason[CF_PROMO_REASON_MAX];
	int64_t	required;
	char	state[CF_PROMO_STATE_MAX];
	int64_t	created_us;
	int64_t	expires_us;
	int64_t	closed_us;			/* 0: open */
	char	closed_by[CF_PRINCIPAL_MAX];
	int64_t	dst_number;			/* 0 until completed */
	size_t	napprovals;			/* read by get only */
	char	approvers[CF_PROMO_APPROVERS_MAX][CF_PRINCIPAL_MAX];
};
/* What completing a promotion (or a copy: cf_meta_art_copy) writes, in
 * one transaction: the object versions objs[0..nobjs) in the target
 * (sharing their sources' blobs: sealed_as), then artifact version art
 * (its number assigned) with files[0..nfiles) naming them, derived from
 * the source version.  hook (nullable) is called with hook_arg inside
 * the transaction once all of it is written, before the commit (the
 * core's crash test point "art_share_written"). */
struct cf_promotion_new {
	const struct cf_version_rec	*objs;
	size_t				 nobjs;
	struct cf_art_rec		*art;
	const struct cf_art_file	*files;
	size_t				 nfiles;
	void				(*hook)(void *);
	void				*hook_arg;
};
/* Server-side copy: nv into its target namespace, derived from artifact
 * version (src_aid, src_number), in one write transaction with au's
 * record.  CF_E_NOTFOUND when the source version is gone;
 * CF_E_CONFLICT when the target namespace was replaced (ns_id). */
cf_err	cf_meta_art_copy(struct cf_meta *m, const struct cf_meta_audit *au,
	    struct cf_promotion_new *nv, int64_t src_aid, int64_t src_number,
	    struct cf_error *err);
/* Store a new request (state "open").  With nv non-NULL (no approval
 * needed), nv is written and the request completed with it, in the same
 * transaction.  CF_E_NOTFOUND: no such target namespace. */
cf_err	cf_meta_promotion_insert(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_promotion_rec *p,
	    struct cf_promotion_new *nv, struct cf_error *err);
/* The request with its approvers. */
cf_err	cf_meta_promotion_get(struct cf_meta *m, const char *id,
	    struct cf_promotion_rec *out, struct cf_error *err);
typedef cf_err (*cf_promotion_cb)(void *arg,
    const struct cf_promotion_rec *p, struct cf_error *err);
/* Requests newest first, at most limit (approvers not read). */
cf_err	cf_meta_promotion_list(struct cf_meta *m, size_t limit,
	    cf_promotion_cb cb, void *arg, struct cf_error *err);
/* One transaction: principal approves request id at at_us; when the
 * approvals then number at least its required count, nv is written and
 * the request completed with it (*done true).  CF_E_CONFLICT when the
 * request is not open or has expired by at_us, or principal approved it
 * already; CF_E_NOTFOUND for an unknown id (or a source version gone).
 * SEC: the count and the completion are decided inside the write
 * transaction, so concurrent approvals complete a request exactly once,
 * and a crash leaves it either open or completed with its version. */
cf_err	cf_meta_promotion_approve(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id,
	    const char *principal, int64_t at_us, struct cf_promotion_new *nv,
	    bool *done, struct cf_error *err);
/* Close open request id as state ("rejected") by principal at at_us.
 * CF_E_CONFLICT when it is not open; CF_E_NOTFOUND. */
cf_err	cf_meta_promotion_close(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, const char *state,
	    const char *principal, int64_t at_us, struct cf_error *err);
/* ---- end: promotions ---- */
/* --- share links (core/ops_share.c; docs/sharing.md).  Only the SHA-256
 * of a link's token is kept; a link names one object version and is
 * decided again, as its creator's access, at every download. --- */
#define CF_SHARE_ID_LEN		16	/* hex of 8 random bytes */
#define CF_SHARE_CIDR_MAX	64	/* "" or an address/prefix */
#define CF_SHARE_RECIPIENT_MAX	128
#define CF_PWHASH_MAX_SHARE	128	/* == CF_PWHASH_STR_MAX */
struct cf_share_rec {
	char	id[CF_SHARE_ID_LEN + 1];	/* public id, for ls/revoke */
	uint8_t	hash[32];		/* SHA-256 of the whole token */
	char	ns[CF_NS_NAME_MAX];
	char	key[CF_OBJKEY_MAX];
	char	version_id[CF_VERSION_ID_LEN + 1];
	int64_t	creator_id;
	char	creator[CF_PRINCIPAL_MAX];	/* read only: its name */
	char	sensitivity[CF_SENS_MAX];	/* at creation */
	int64_t	created_us;
	int64_t	expires_us;		/* always set */
	int64_t	max_downloads;		/* 0: no limit */
	int64_t	downloads;
	char	allow_cidr[CF_SHARE_CIDR_MAX];	/* "": any address */
	char	pwhash[CF_PWHASH_MAX_SHARE];	/* "": no password */
	char	recipient[CF_SHARE_RECIPIENT_MAX];
	int64_t	revoked_us;		/* 0: not revoked */
};
/* CF_E_CONFLICT if the id or hash exists. */
cf_err	cf_meta_share_insert(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_share_rec *s,
	    struct cf_error *err);
/* By hash (hash != NULL) or id; CF_E_NOTFOUND when there is none. */
cf_err	cf_meta_share_find(struct cf_meta *m, const uint8_t hash[32],
	    struct cf_share_rec *out, struct cf_error *err);
cf_err	cf_meta_share_get(struct cf_meta *m, const char *id,
	    struct cf_share_rec *out, struct cf_error *err);
/* Revoke at now_us (a link revoked already keeps its time).
 * CF_E_NOTFOUND for an unknown id. */
cf_err	cf_meta_share_revoke(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, int64_t now_us,
	    struct cf_error *err);
/* SEC: count one download, atomically: only while the link is not
 * revoked, not expired at now_us and has downloads left (one statement,
 * so two parallel downloads of a one-use link cannot both pass).
 * CF_E_LIMIT when it has none left (or was revoked or expired
 * meanwhile). */
cf_err	cf_meta_share_use(struct cf_meta *m, const struct cf_meta_audit *au,
	    const char *id, int64_t now_us, struct cf_error *err);
typedef cf_err (*cf_share_cb)(void *arg, const struct cf_share_rec *s,
    struct cf_error *err);
/* creator_id < 0: every link; newest first. */
cf_err	cf_meta_share_list(struct cf_meta *m, int64_t creator_id,
	    cf_share_cb cb, void *arg, struct cf_error *err);

/* --- wrapped keys by KEK (key rotation, core/keys.c) --- */
struct cf_meta_kek_count {
	char		kek_id[CF_KEK_ID_MAX];
	uint64_t	versions;	/* object versions (not markers) */
	uint64_t	mfa;		/* TOTP secrets */
	uint64_t	s3_keys;	/* S3 access key secrets */
	uint64_t	segments;	/* segments of versions completed
					 * by reference (rewrapped) */
	uint64_t	mp_parts;	/* parts of S3 multipart uploads in
					 * progress (not rewrapped: a KEK
					 * they use is retired once they are
					 * completed, aborted or expired) */
};
/* How many wrapped keys each KEK id in use has; at most max ids. */
cf_err	cf_meta_kek_counts(struct cf_meta *m, struct cf_meta_kek_count *out,
	    size_t max, size_t *n, struct cf_error *err);
/* What a wrapped key seals, and so its associated data. */
enum cf_meta_wrapped_kind {
	CF_WRAPPED_VERSION,	/* an object version's DEK (ad: version_id) */
	CF_WRAPPED_MFA,		/* a TOTP key (ad: "mfa:<principal_id>") */
	CF_WRAPPED_S3KEY,	/* an S3 secret (ad: "s3key:<id>:<pid>") */
	CF_WRAPPED_SEGMENT,	/* a segment's DEK (ad: cf_segment_ad) */
	CF_WRAPPED_NKINDS
};
struct cf_meta_wrapped {
	enum cf_meta_wrapped_kind kind;
	int64_t		seq;		/* the cursor: version seq,
					 * principal id or s3_keys rowid */
	int64_t		principal_id;	/* MFA, S3 key */
	char		version_id[CF_VERSION_ID_LEN + 1];
	char		s3_key_id[CF_S3_KEY_ID_LEN + 1];
	uint32_t	seg_n;		/* segment: its n (version_id) */
	char		kek_id[CF_KEK_ID_MAX];
	uint8_t		wrapped[CF_WRAPPED_DEK_LEN];
};
/* Up to max wrapped keys of kind whose KEK is not kek_id, after cursor
 * after (a seq, principal id or rowid), in cursor order. */
cf_err	cf_meta_wrapped_not_under(struct cf_meta *m, const char *kek_id,
	    enum cf_meta_wrapped_kind kind, int64_t after,
	    struct cf_meta_wrapped *out, size_t max, size_t *n,
	    struct cf_error *err);
/* Replace old[i]'s wrapped key by new[i]'s (kek_id, wrapped), each only
 * if the row still holds old[i]'s (compare and set), in one audited
 * transaction; *done gets the rows changed. */
cf_err	cf_meta_wrapped_replace(struct cf_meta *m,
	    const struct cf_meta_audit *au, const struct cf_meta_wrapped *old,
	    const struct cf_meta_wrapped *new, size_t n, size_t *done,
	    struct cf_error *err);
/* --- S3 multipart uploads: an upload in progress and its parts, each
 * part an encrypted blob of its own (wrapped DEK, the part id as the
 * associated data), invisible to object reads and listings; completing
 * one inserts a version (cf_version_rec.mp_upload) whose segments are the
 * parts used, and removes these rows in one transaction.  Part blobs
 * count as referenced for the orphan sweep, as segment blobs do. --- */
#define CF_MP_CKSUM_MAX	32
struct cf_mp_upload_rec {
	char	id[CF_VERSION_ID_LEN + 1];
	int64_t	ns_id;
	char	key[CF_OBJKEY_MAX];
	char	content_type[CF_CTYPE_MAX];
	char	content_encoding[CF_CTYPE_MAX];
	char	user_meta[CF_USERMETA_MAX];
	char	created_by[CF_PRINCIPAL_MAX];
	int64_t	created_us;
	/* the checksum CreateMultipartUpload declared, "ALG:TYPE"
	 * ("crc32:FULL_OBJECT", "sha256:COMPOSITE"); "" for none */
	char	checksum[CF_MP_CKSUM_MAX];
};
struct cf_mp_part_rec {
	char		upload_id[CF_VERSION_ID_LEN + 1];
	int64_t		number;			/* 1..10000 */
	char		part_id[CF_VERSION_ID_LEN + 1];	/* the AD */
	char		blob_id[CF_BLOB_ID_LEN + 1];
	uint64_t	size;
	char		md5[33];
	char		kek_id[CF_KEK_ID_MAX];
	uint8_t		wrapped_dek[CF_WRAPPED_DEK_LEN];
	int64_t		created_us;
	/* hex SHA-256 of the part's plaintext; "" for a part stored before
	 * parts kept it */
	char		sha256[CF_SHA256_HEX_LEN + 1];
	/* the x-amz-checksum-* it carried, verified: "ALG:BASE64"; "" */
	char		checksum[CF_CHECKSUM_TEXT_MAX];
};
cf_err	cf_meta_mp_create(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_mp_upload_rec *u, struct cf_error *err);
/* CF_E_NOTFOUND for none. */
cf_err	cf_meta_mp_get(struct cf_meta *m, const char *id,
	    struct cf_mp_upload_rec *out, struct cf_error *err);
/* The version completed from upload id (a version written with
 * cf_version_rec.mp_upload keeps it as long as it exists): CF_E_NOTFOUND
 * when none is. */
cf_err	cf_meta_mp_completed(struct cf_meta *m, const char *id,
	    char version_id[CF_VERSION_ID_LEN + 1], struct cf_error *err);
/* Insert or replace part (upload_id, number); old_blob gets the blob of
 * the part replaced, or "".  CF_E_NOTFOUND if the upload is gone. */
cf_err	cf_meta_mp_part_put(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_mp_part_rec *p, char old_blob[CF_BLOB_ID_LEN + 1],
	    struct cf_error *err);
typedef cf_err	(*cf_mp_part_cb)(void *arg, const struct cf_mp_part_rec *p,
	    struct cf_error *err);
/* The parts of an upload by number. */
cf_err	cf_meta_mp_parts(struct cf_meta *m, const char *upload_id,
	    cf_mp_part_cb cb, void *arg, struct cf_error *err);
typedef cf_err	(*cf_mp_upload_cb)(void *arg,
	    const struct cf_mp_upload_rec *u, struct cf_error *err);
/* The uploads of namespace ns_id whose key is at least from_key (NULL:
 * all) by key then upload id (ns_id < 0: of every namespace, created
 * before before_us, by time; from_key is ignored).  A callback's error
 * stops the walk and is returned. */
cf_err	cf_meta_mp_list(struct cf_meta *m, int64_t ns_id, int64_t before_us,
	    const char *from_key, cf_mp_upload_cb cb, void *arg,
	    struct cf_error *err);
/* The segments of version version_id in order into out (at most max;
 * CF_E_INTEGRITY if it has more, or its segments are not numbered 0,
 * 1, ... without a gap); *n gets how many.  A version without segments
 * has none (*n = 0). */
cf_err	cf_meta_segments(struct cf_meta *m, const char *version_id,
	    struct cf_segment_rec *out, size_t max, size_t *n,
	    struct cf_error *err);
/* Remove an upload and its part rows (the caller removes the blobs);
 * CF_E_NOTFOUND for none. */
cf_err	cf_meta_mp_delete(struct cf_meta *m, const struct cf_meta_audit *au,
	    const char *id, struct cf_error *err);

/* --- privacy (meta_privacy.c): retention, legal holds, erasures.
 * An erased version keeps its row (a tombstone): kek_id becomes
 * CF_KEK_ERASED, its wrapped data key zeros, its user metadata and blob
 * id empty, and a row of table erasures says who, when, why and which
 * digest; the caller then deletes the blob (or the orphan sweep does,
 * after a crash). --- */
#define CF_KEK_ERASED		"erased"
#define CF_HOLD_ID_LEN		19	/* "hold-" + 14 hex */
#define CF_ERASURE_ID_LEN	22	/* "erasure-" + 14 hex */
#define CF_PRIV_REASON_MAX	513	/* 512 bytes + NUL */
#define CF_RETAIN_DAYS_MAX	36500

/* Set ns's retention in days (0: none); CF_E_NOTFOUND for none. */
cf_err	cf_meta_ns_set_retention(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *ns, int64_t days,
	    struct cf_error *err);

/* The creation time of the youngest version (not a delete marker, not
 * erased) in ns; 0 when none. */
cf_err	cf_meta_ns_youngest(struct cf_meta *m, const char *ns, int64_t *us,
	    struct cf_error *err);

struct cf_hold_rec {
	char	id[CF_HOLD_ID_LEN + 1];
	char	ns[CF_NS_NAME_MAX];
	char	key[CF_OBJKEY_MAX];	/* "": the whole namespace */
	char	reason[CF_PRIV_REASON_MAX];
	char	created_by[CF_PRINCIPAL_MAX];
	int64_t	created_us;
};
/* CF_E_CONFLICT if the id exists. */
cf_err	cf_meta_hold_insert(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_hold_rec *h, struct cf_error *err);
/* CF_E_NOTFOUND for an unknown id; *out (nullable) gets the hold. */
cf_err	cf_meta_hold_delete(struct cf_meta *m, const struct cf_meta_audit *au,
	    const char *id, struct cf_hold_rec *out, struct cf_error *err);
typedef cf_err	(*cf_hold_cb)(void *arg, const struct cf_hold_rec *h,
	    struct cf_error *err);
/* Every hold by namespace, key, id. */
cf_err	cf_meta_hold_list(struct cf_meta *m, cf_hold_cb cb, void *arg,
	    struct cf_error *err);
/* The oldest hold that covers key of ns: one on the namespace, on the
 * key, or on a prefix P of it with key = P/...; key NULL: any hold in
 * ns at all.  *found false (and *out untouched) when none does. */
cf_err	cf_meta_hold_find(struct cf_meta *m, const char *ns, const char *key,
	    struct cf_hold_rec *out, bool *found, struct cf_error *err);

/* One version an erasure names: why is "named", "derived" (downstream
 * in artifact lineage) or "copy" (shares the blob: a promotion). */
struct cf_erase_item {
	char		version_id[CF_VERSION_ID_LEN + 1];
	char		ns[CF_NS_NAME_MAX];
	char		key[CF_OBJKEY_MAX];
	char		sha256[CF_SHA256_HEX_LEN + 1];
	uint64_t	size;
	char		blob_id[CF_BLOB_ID_LEN + 1];
	int64_t		created_us;
	char		why[8];
};
/* The versions an erasure of (ns, key[@version]) reaches, not erased
 * already: the object's versions (or the one version); else, when key
 * names an artifact, the files of its version number artnum (0: of
 * every version); with derived, the files of every artifact version
 * downstream of those in lineage; always every version sharing a blob
 * with one of them.  *items (cf_free) gets at most max; CF_E_LIMIT past
 * it; CF_E_NOTFOUND when the key names nothing. */
cf_err	cf_meta_erase_plan(struct cf_meta *m, const char *ns, const char *key,
	    const char *version_id, int64_t artnum, bool derived, size_t max,
	    struct cf_erase_item **items, size_t *n, struct cf_error *err);
/* Erase items[0..n) in one transaction (see above), recorded as
 * erasure id by, at, reason, request_id, with its certificate cert.
 * CF_E_CONFLICT (nothing changed) if one was erased meanwhile. */
struct cf_erasure_rec {
	char	id[CF_ERASURE_ID_LEN + 1];
	char	by[CF_PRINCIPAL_MAX];
	int64_t	at_us;
	char	reason[CF_PRIV_REASON_MAX];
	char	request_id[64];
};
cf_err	cf_meta_erase_apply(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_erasure_rec *e, const struct cf_erase_item *items,
	    size_t n, const char *cert, struct cf_error *err);
/* The tombstone of an erased version: CF_E_NOTFOUND if not erased. */
cf_err	cf_meta_erasure_get(struct cf_meta *m, const char *version_id,
	    struct cf_erasure_rec *out, struct cf_error *err);
/* An erasure's certificate (*out: cf_free). */
cf_err	cf_meta_erasure_cert(struct cf_meta *m, const char *id, char **out,
	    struct cf_error *err);

/* --- the purge job and the privacy report (meta_purge.c) --- */
#define CF_PURGE_DAYS_MAX	36500

/* Set ns's purge period in days (0: never); CF_E_NOTFOUND for none. */
cf_err	cf_meta_ns_set_purge(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *ns, int64_t days,
	    struct cf_error *err);

/* A version the purge rule reaches at now_us: not a delete marker, not
 * erased, not the latest version of its key, in a namespace with
 * purge_days > 0, older than both purge_days and retain_days, under no
 * legal hold (as cf_meta_hold_find), and not a file of an artifact's
 * latest version or of a version a stage points at. */
struct cf_purge_item {
	int64_t		seq;
	char		version_id[CF_VERSION_ID_LEN + 1];
	char		ns[CF_NS_NAME_MAX];
	char		key[CF_OBJKEY_MAX];
	char		sha256[CF_SHA256_HEX_LEN + 1];
	uint64_t	size;
	char		blob_id[CF_BLOB_ID_LEN + 1];
	int64_t		created_us;
	int64_t		purge_days;
};
/* The versions the rule reaches at now_us with seq > after_seq, by seq,
 * into items[0..max); *n gets their number (< max: no more). */
cf_err	cf_meta_purge_candidates(struct cf_meta *m, int64_t now_us,
	    int64_t after_seq, struct cf_purge_item *items, size_t max,
	    size_t *n, struct cf_error *err);
/* Purge it (as an erasure: the wrapped key zeroed, kek_id
 * CF_KEK_ERASED, user metadata and blob id cleared, a tombstone with
 * why "purge" recorded as e), if the rule still reaches it at now_us,
 * checked inside the write transaction: CF_E_CONFLICT (nothing
 * changed, nothing recorded) when it no longer does (a hold set, a
 * stage moved, retention raised meanwhile). */
cf_err	cf_meta_purge_apply(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_erasure_rec *e, int64_t now_us,
	    const struct cf_purge_item *it, struct cf_error *err);

/* One row of the privacy report: personal data by its pii=true label
 * (kind "namespace": on the namespace, name ""; "object": on a key) or
 * by an artifact version's metadata (kind "artifact", number > 0;
 * inherited: a direct source is pii=true too, so lineage made it so).
 * sources and derived: JSON arrays of {ns, name, number} (ns and name
 * null for a source that is gone), the direct lineage of an artifact
 * version, at most CF_PII_LINEAGE_MAX each (NULL for other kinds). */
#define CF_PII_LINEAGE_MAX	50
struct cf_pii_row {
	const char	*kind;
	const char	*ns;
	const char	*name;
	int64_t		 number;
	bool		 inherited;
	const char	*sources;
	const char	*derived;
	int64_t		 retain_days;
	int64_t		 purge_days;
};
typedef cf_err	(*cf_pii_cb)(void *arg, const struct cf_pii_row *row,
	    struct cf_error *err);
/* The rows in ns (NULL: every namespace) by ns, kind, name, number, at
 * most max (the row is borrowed for the call); *truncated when there
 * are more. */
cf_err	cf_meta_pii_rows(struct cf_meta *m, const char *ns, size_t max,
	    cf_pii_cb cb, void *arg, bool *truncated, struct cf_error *err);
/* --- backups (meta_backup.c) --- */
/* A consistent copy of the whole database into path, a new file made
 * mode 0600 (CF_E_CONFLICT if it exists), with SQLite's online backup
 * API from one read snapshot: writers are not blocked (WAL).  The copy
 * is fsync'ed (its directory is the caller's); on failure it is
 * removed. */
cf_err	cf_meta_backup(struct cf_meta *m, const char *path,
	    struct cf_error *err);
/* One erased version, as its erasure recorded it (blob_id: the blob it
 * had). */
struct cf_erasure_row {
	struct cf_erasure_rec	rec;
	struct cf_erase_item	item;
};
typedef cf_err	(*cf_erasure_row_cb)(void *arg,
	    const struct cf_erasure_row *row, struct cf_error *err);
/* Every erased version, by erasure time, erasure id, version id; a
 * non-OK return from cb stops the walk and is returned. */
cf_err	cf_meta_erasure_list(struct cf_meta *m, cf_erasure_row_cb cb,
	    void *arg, struct cf_error *err);
#define CF_META_KEY_ABSENT	0	/* no such version */
#define CF_META_KEY_HELD	1	/* the version has its wrapped key */
#define CF_META_KEY_ERASED	2	/* crypto-shredded */
/* The state of version_id's data key into *state (CF_META_KEY_*). */
cf_err	cf_meta_version_keystate(struct cf_meta *m, const char *version_id,
	    int *state, struct cf_error *err);

/* --- access review campaigns (meta_review.c; core/ops_review.c;
 * docs/reviews.md).  A campaign is a snapshot of the grants in its scope
 * taken at its start, one item per (principal, grant); items are closed
 * by a reviewer's decision, or by the campaign's own sweep (the grant is
 * gone, or the due date passed). --- */
#define CF_REVIEW_ID_LEN	24	/* "rv-" + 20 hex digits */
#define CF_REVIEW_NOTE_MAX	513	/* bytes of a decision's note + NUL */
#define CF_REVIEW_DETAIL_MAX	16384	/* bytes of an item's snapshot */
#define CF_REVIEW_ITEMS_MAX	10000	/* items of one campaign */
struct cf_review_rec {
	char	id[CF_REVIEW_ID_LEN + 1];
	char	ns[CF_NS_NAME_MAX];		/* "": every namespace */
	char	creator[CF_PRINCIPAL_MAX];
	char	reviewer[CF_PRINCIPAL_MAX];
	char	on_timeout[16];			/* "revoke" | "escalate" */
	int64_t	created_us;
	int64_t	due_us;
	int64_t	timed_out_us;			/* 0: not yet */
};
struct cf_review_item {
	char	review_id[CF_REVIEW_ID_LEN + 1];
	int64_t	n;				/* 1.. in the campaign */
	char	principal[CF_PRINCIPAL_MAX];
	char	kind[16];			/* "binding" | "policy" */
	/* binding: its role and namespace ("" global); policy: the set's
	 * name and namespace ("" global) */
	char	name[CF_POLICY_NAME_MAX];
	char	ns[CF_NS_NAME_MAX];
	int64_t	expires_us;			/* the binding's at the start */
	int64_t	last_used_us;			/* 0: no use seen */
	char	reviewer[CF_PRINCIPAL_MAX];	/* "": any admin but the
						 * principal */
	/* "open", "kept", "revoked", "gone" */
	char	state[16];
	bool	escalated;
	char	decided_by[CF_PRINCIPAL_MAX];
	int64_t	decided_us;
	char	note[CF_REVIEW_NOTE_MAX];
	char	outcome[256];			/* why it closed as it did */
	char	detail[CF_REVIEW_DETAIL_MAX];	/* JSON object: actions,
						 * namespaces, ... */
};
/* The campaign and its items[0..n), in one transaction. */
cf_err	cf_meta_review_create(struct cf_meta *m, const struct cf_meta_audit *au,
	    const struct cf_review_rec *rv, const struct cf_review_item *items,
	    size_t n, struct cf_error *err);
/* CF_E_NOTFOUND if there is no such campaign. */
cf_err	cf_meta_review_get(struct cf_meta *m, const char *id,
	    struct cf_review_rec *out, struct cf_error *err);
typedef cf_err (*cf_review_cb)(void *arg, const struct cf_review_rec *rv,
    struct cf_error *err);
/* Every campaign, newest first. */
cf_err	cf_meta_review_list(struct cf_meta *m, cf_review_cb cb, void *arg,
	    struct cf_error *err);
typedef cf_err (*cf_review_item_cb)(void *arg,
    const struct cf_review_item *it, struct cf_error *err);
/* The items of campaign id, by number. */
cf_err	cf_meta_review_items(struct cf_meta *m, const char *id,
	    cf_review_item_cb cb, void *arg, struct cf_error *err);
cf_err	cf_meta_review_item_get(struct cf_meta *m, const char *id, int64_t n,
	    struct cf_review_item *out, struct cf_error *err);
/* Close open item (id, n) as state, by, at, with note and outcome; with
 * principal_id > 0 also delete the binding (principal_id, its name as
 * role, its ns), in the same transaction.  CF_E_CONFLICT (nothing
 * changed) if the item is not open; CF_E_NOTFOUND (nothing changed) if
 * the binding to delete is gone. */
cf_err	cf_meta_review_item_close(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, int64_t n,
	    const char *state, const char *by, int64_t at_us, const char *note,
	    const char *outcome, int64_t principal_id, struct cf_error *err);
/* Give open item (id, n) to reviewer and flag it escalated.
 * CF_E_CONFLICT if the item is not open. */
cf_err	cf_meta_review_item_escalate(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, int64_t n,
	    const char *reviewer, struct cf_error *err);
/* Mark the campaign's due date handled at at_us. */
cf_err	cf_meta_review_timed_out(struct cf_meta *m,
	    const struct cf_meta_audit *au, const char *id, int64_t at_us,
	    struct cf_error *err);

#endif
