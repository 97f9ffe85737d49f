/* src/store/meta_share.c: share links in the SQLite metadata store
 * (meta.h, "share links"; the table is migration 10 -> 11 of
 * meta_sqlite.c).
 *
 * Statements are prepared per call, as in meta_artifact.c: a link is
 * looked up once per download by a unique index (its token's hash), and
 * listed by its creator's index. */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

#define SCOLS \
	"s.id, s.hash, s.ns, s.key, s.version_id, s.creator_id," \
	" coalesce(p.name, ''), s.sensitivity, s.created_us, s.expires_us," \
	" s.max_downloads, s.downloads, s.allow_cidr, s.pwhash, s.recipient," \
	" s.revoked_us"
#define SFROM " FROM shares s LEFT JOIN principals p ON p.id = s.creator_id"

static cf_err
prep(struct conn *c, const char *sql, sqlite3_stmt **out,
    struct cf_error *err)
{
	int	src;

	src = sqlite3_prepare_v2(meta_int_db(c), sql, -1, out, NULL);
	if (src != SQLITE_OK)
		return meta_int_db_err(c, src, err, "prepare");
	return CF_OK;
}

static cf_err
too_long(const char *s, size_t cap, const char *what, struct cf_error *err)
{
	if (s == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: %s is NULL", what);
	if (strnlen(s, cap) >= cap)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: %s longer than %zu bytes", what, cap - 1);
	return CF_OK;
}

static cf_err
read_share(sqlite3_stmt *st, struct cf_share_rec *s, struct cf_error *err)
{
	const void	*h;
	cf_err		 rc;

	memset(s, 0, sizeof(*s));
	rc = meta_int_col_str(st, 0, s->id, sizeof(s->id), err);
	h = sqlite3_column_blob(st, 1);
	if (rc == CF_OK && (h == NULL || sqlite3_column_bytes(st, 1) != 32))
		rc = cf_error_set(err, CF_E_INTEGRITY, "meta: bad share hash");
	if (rc == CF_OK)
		memcpy(s->hash, h, 32);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 2, s->ns, sizeof(s->ns), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, s->key, sizeof(s->key), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 4, s->version_id,
		    sizeof(s->version_id), err);
	s->creator_id = sqlite3_column_int64(st, 5);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 6, s->creator, sizeof(s->creator),
		    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 7, s->sensitivity,
		    sizeof(s->sensitivity), err);
	s->created_us = sqlite3_column_int64(st, 8);
	s->expires_us = sqlite3_column_int64(st, 9);
	s->max_downloads = sqlite3_column_int64(st, 10);
	s->downloads = sqlite3_column_int64(st, 11);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 12, s->allow_cidr,
		    sizeof(s->allow_cidr), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 13, s->pwhash, sizeof(s->pwhash),
		    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 14, s->recipient,
		    sizeof(s->recipient), err);
	s->revoked_us = sqlite3_column_int64(st, 15);
	return rc;
}

static cf_err
check_share(const struct cf_share_rec *s, struct cf_error *err)
{
	cf_err	rc;

	rc = too_long(s->id, sizeof(s->id), "share id", err);
	if (rc == CF_OK)
		rc = too_long(s->ns, sizeof(s->ns), "namespace", err);
	if (rc == CF_OK)
		rc = too_long(s->key, sizeof(s->key), "key", err);
	if (rc == CF_OK)
		rc = too_long(s->version_id, sizeof(s->version_id),
		    "version id", err);
	if (rc == CF_OK)
		rc = too_long(s->sensitivity, sizeof(s->sensitivity),
		    "sensitivity", err);
	if (rc == CF_OK)
		rc = too_long(s->allow_cidr, sizeof(s->allow_cidr), "cidr",
		    err);
	if (rc == CF_OK)
		rc = too_long(s->pwhash, sizeof(s->pwhash), "password hash",
		    err);
	if (rc == CF_OK)
		rc = too_long(s->recipient, sizeof(s->recipient), "recipient",
		    err);
	if (rc == CF_OK && (s->id[0] == '\0' || s->expires_us <= 0 ||
	    s->max_downloads < 0))
		rc = cf_error_set(err, CF_E_INVAL, "meta: bad share record");
	return rc;
}

cf_err
cf_meta_share_insert(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_share_rec *s, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = check_share(s, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, "INSERT INTO shares (id, hash, ns, key, version_id,"
	    " creator_id, sensitivity, created_us, expires_us, max_downloads,"
	    " downloads, allow_cidr, pwhash, recipient, revoked_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12,"
	    " ?13, 0)", &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	b |= sqlite3_bind_blob(st, 2, s->hash, 32, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 3, s->ns, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 4, s->key, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 5, s->version_id, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 6, s->creator_id);
	b |= sqlite3_bind_text(st, 7, s->sensitivity, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 8, s->created_us);
	b |= sqlite3_bind_int64(st, 9, s->expires_us);
	b |= sqlite3_bind_int64(st, 10, s->max_downloads);
	b |= sqlite3_bind_text(st, 11, s->allow_cidr, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 12, s->pwhash, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 13, s->recipient, -1, SQLITE_STATIC);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "share insert bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "share insert");
out:
	sqlite3_finalize(st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

static cf_err
share_get(struct cf_meta *m, const uint8_t *hash, const char *id,
    struct cf_share_rec *out, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_share_rec	*rec = NULL;
	int			 src, b;
	cf_err			 rc;

	rec = cf_calloc(1, sizeof(*rec));
	if (rec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = prep(c, hash != NULL ? "SELECT " SCOLS SFROM " WHERE s.hash = ?1" :
	    "SELECT " SCOLS SFROM " WHERE s.id = ?1", &st, err);
	if (rc != CF_OK)
		goto out;
	if (hash != NULL)
		b = sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	else
		b = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "share get bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such share");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "share get");
		goto out;
	}
	rc = read_share(st, rec, err);
	if (rc == CF_OK)
		*out = *rec;
out:
	sqlite3_finalize(st);
	meta_int_rtx_end(m, c);
	if (rec != NULL)
		cf_wipe(rec, sizeof(*rec));
	cf_free(rec);
	return rc;
}

/* SEC: the lookup is an index seek on the SHA-256 of a 256-bit random
 * token: its timing tells at most how much of an unguessable digest
 * matched (the caller compares the digests in constant time anyway). */
cf_err
cf_meta_share_find(struct cf_meta *m, const uint8_t hash[32],
    struct cf_share_rec *out, struct cf_error *err)
{
	if (hash == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL hash");
	return share_get(m, hash, NULL, out, err);
}

cf_err
cf_meta_share_get(struct cf_meta *m, const char *id,
    struct cf_share_rec *out, struct cf_error *err)
{
	cf_err	rc;

	rc = too_long(id, CF_SHARE_ID_LEN + 1, "share id", err);
	if (rc != CF_OK)
		return rc;
	return share_get(m, NULL, id, out, err);
}

/* One UPDATE of shares by id with a time; *changed: a row changed. */
static cf_err
share_update(struct conn *c, const char *sql, const char *id, int64_t now_us,
    bool *changed, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src, b;
	cf_err		 rc;

	rc = prep(c, sql, &st, err);
	if (rc != CF_OK)
		return rc;
	b = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 2, now_us);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "share update bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_DONE) {
		rc = meta_int_db_err(c, src, err, "share update");
		goto out;
	}
	*changed = sqlite3_changes(meta_int_db(c)) > 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static cf_err
share_exists(struct conn *c, const char *id, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = prep(c, "SELECT 1 FROM shares WHERE id = ?1", &st, err);
	if (rc != CF_OK)
		return rc;
	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		rc = meta_int_db_err(c, SQLITE_ERROR, err, "share bind");
	else {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such share");
		else if (src != SQLITE_ROW)
			rc = meta_int_db_err(c, src, err, "share exists");
	}
	sqlite3_finalize(st);
	return rc;
}

cf_err
cf_meta_share_revoke(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t now_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	bool		 changed = false;
	cf_err		 rc;

	rc = too_long(id, CF_SHARE_ID_LEN + 1, "share id", err);
	if (rc != CF_OK)
		return rc;
	if (now_us == 0)
		return cf_error_set(err, CF_E_INVAL,
		    "meta: revocation time 0 means not revoked");
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = share_update(c, "UPDATE shares SET revoked_us = ?2"
	    " WHERE id = ?1 AND revoked_us = 0", id, now_us, &changed, err);
	/* Unknown, or revoked already (then keep that time). */
	if (rc == CF_OK && !changed)
		rc = share_exists(c, id, err);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_share_use(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t now_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	bool		 changed = false;
	cf_err		 rc;

	rc = too_long(id, CF_SHARE_ID_LEN + 1, "share id", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = share_update(c, "UPDATE shares SET downloads = downloads + 1"
	    " WHERE id = ?1 AND revoked_us = 0 AND expires_us > ?2"
	    " AND (max_downloads = 0 OR downloads < max_downloads)", id,
	    now_us, &changed, err);
	if (rc == CF_OK && !changed)
		rc = cf_error_set(err, CF_E_LIMIT,
		    "meta: share used up, revoked or expired");
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_share_list(struct cf_meta *m, int64_t creator_id, cf_share_cb cb,
    void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_share_rec	*rec = NULL;
	int			 src;
	cf_err			 rc;

	rec = cf_calloc(1, sizeof(*rec));
	if (rec == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = prep(c, creator_id < 0 ? "SELECT " SCOLS SFROM
	    " ORDER BY s.created_us DESC, s.id" : "SELECT " SCOLS SFROM
	    " WHERE s.creator_id = ?1 ORDER BY s.created_us DESC, s.id", &st,
	    err);
	if (rc != CF_OK)
		goto out;
	if (creator_id >= 0 &&
	    sqlite3_bind_int64(st, 1, creator_id) != SQLITE_OK) {
		rc = meta_int_db_err(c, SQLITE_ERROR, err, "share list bind");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_share(st, rec, err);
		if (rc == CF_OK)
			rc = cb(arg, rec, err);
		if (rc != CF_OK)
			goto out;
	}
	if (src != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "share list");
out:
	sqlite3_finalize(st);
	meta_int_rtx_end(m, c);
	if (rec != NULL)
		cf_wipe(rec, sizeof(*rec));
	cf_free(rec);
	return rc;
}
