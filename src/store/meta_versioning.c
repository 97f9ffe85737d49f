/* src/store/meta_versioning.c: S3's versioning state of a namespace and
 * each version's place in S3's view (meta.h, "S3 versioning"; the
 * columns are migration 20 -> 21 of meta_sqlite.c).
 *
 * S3's view is a view: the state decides how S3 clients see versions
 * (a "null" version id, a null version replaced by the next one), never
 * which versions exist.  Every row stays, so the REST API and the audit
 * log still show the whole history (docs/s3.md, "Versioning").
 *
 * Statements are prepared per call, as in meta_privacy.c. */
#include <string.h>

#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

/* Step st to its end; *changes (nullable) gets the rows changed. */
static cf_err
step_done(struct conn *c, sqlite3_stmt *st, int *changes, const char *what,
    struct cf_error *err)
{
	int	src;

	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		return meta_int_db_err(c, src, err, what);
	if (changes != NULL)
		*changes = sqlite3_changes(meta_int_db(c));
	return CF_OK;
}

static cf_err
prep(struct conn *c, const char *sql, sqlite3_stmt **out,
    struct cf_error *err)
{
	return meta_int_prep(c, sql, out, err);
}

cf_err
meta_int_s3_view_on(struct conn *c, int64_t ns_id, const uint8_t *key,
    size_t klen, int64_t seq, int *kind, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	const char	*state;
	int		 src, k = 0;
	cf_err		 rc;

	rc = prep(c, "SELECT versioning FROM namespaces WHERE id = ?1", &st,
	    err);
	if (rc != CF_OK)
		return rc;
	if (sqlite3_bind_int64(st, 1, ns_id) != SQLITE_OK) {
		rc = meta_int_db_err(c, SQLITE_MISUSE, err, "bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such namespace") : meta_int_db_err(c, src, err,
		    "versioning state");
		goto out;
	}
	state = (const char *)sqlite3_column_text(st, 0);
	/* SEC: anything but a state we know is refused (fail closed), not
	 * taken for one. */
	if (state != NULL && strcmp(state, "enabled") == 0)
		k = 0;
	else if (state != NULL && strcmp(state, "unversioned") == 0)
		k = 1;
	else if (state != NULL && strcmp(state, "suspended") == 0)
		k = 2;
	else {
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "meta: unknown versioning state");
		goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	if (k == 0)
		goto out;
	/* The new version is the null one; the null version before it
	 * leaves S3's view (its row stays: history). */
	rc = prep(c, "UPDATE versions SET s3_null = ?2 WHERE seq = ?1", &st,
	    err);
	if (rc == CF_OK && (sqlite3_bind_int64(st, 1, seq) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, k) != SQLITE_OK))
		rc = meta_int_db_err(c, SQLITE_MISUSE, err, "bind");
	if (rc == CF_OK)
		rc = step_done(c, st, NULL, "null version", err);
	meta_int_unprep(c, st);
	st = NULL;
	if (rc != CF_OK)
		goto out;
	rc = prep(c, "UPDATE versions SET s3_hidden = 1 WHERE ns_id = ?1"
	    " AND key = ?2 AND seq < ?3 AND s3_null > 0 AND s3_hidden = 0",
	    &st, err);
	if (rc == CF_OK && (sqlite3_bind_int64(st, 1, ns_id) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, klen > 0 ? (const void *)key : "",
	    (int)klen, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, seq) != SQLITE_OK))
		rc = meta_int_db_err(c, SQLITE_MISUSE, err, "bind");
	if (rc == CF_OK)
		rc = step_done(c, st, NULL, "null version replaced", err);
out:
	meta_int_unprep(c, st);
	if (rc == CF_OK && kind != NULL)
		*kind = k;
	return rc;
}

cf_err
cf_meta_ns_set_versioning(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *name, const char *state, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 n = 0;
	cf_err		 rc;

	if (name == NULL || state == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: NULL argument");
	if (strnlen(name, CF_NS_NAME_MAX) >= CF_NS_NAME_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: namespace name too long");
	/* S3: a bucket never goes back to unversioned. */
	if (strcmp(state, "enabled") != 0 && strcmp(state, "suspended") != 0)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: versioning is enabled or suspended");
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, "UPDATE namespaces SET versioning = ?2 WHERE name = ?1",
	    &st, err);
	if (rc == CF_OK && (sqlite3_bind_text(st, 1, name, -1,
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_bind_text(st, 2, state, -1,
	    SQLITE_STATIC) != SQLITE_OK))
		rc = meta_int_db_err(c, SQLITE_MISUSE, err, "bind");
	if (rc == CF_OK)
		rc = step_done(c, st, &n, "versioning set", err);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such namespace");
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}
