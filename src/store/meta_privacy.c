/* src/store/meta_privacy.c: retention, legal holds and erasures in the
 * SQLite metadata store (meta.h, "privacy"; the tables are migration
 * 16 -> 17 of meta_sqlite.c).
 *
 * Statements are prepared per call, as in meta_share.c: none of these is
 * on a hot path but the hold lookup, which is one index seek per delete
 * or erasure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

#define HCOLS	"id, ns, key, reason, created_by, created_us"

static cf_err
fits(const char *s, size_t cap, const char *what, struct cf_error *err)
{
	if (s == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: %s is NULL", what);
	if (strnlen(s, cap) >= cap)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: %s longer than %zu bytes", what, cap - 1);
	return CF_OK;
}

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

cf_err
cf_meta_ns_set_retention(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *ns, int64_t days, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 n = 0;
	cf_err		 rc;

	rc = fits(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK && (days < 0 || days > CF_RETAIN_DAYS_MAX))
		rc = cf_error_set(err, CF_E_INVAL, "meta: bad retention");
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "UPDATE namespaces SET retain_days = ?2"
	    " WHERE name = ?1", "ti", ns, days);
	if (rc == CF_OK)
		rc = step_done(c, st, &n, "retention set", err);
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such namespace");
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_ns_youngest(struct cf_meta *m, const char *ns, int64_t *us,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT ifnull(max(v.created_us), 0)"
	    " FROM versions v JOIN namespaces n ON n.id = v.ns_id"
	    " WHERE n.name = ?1 AND v.delete_marker = 0"
	    " AND v.kek_id <> '" CF_KEK_ERASED "'", "t", ns);
	if (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_ROW)
			*us = sqlite3_column_int64(st, 0);
		else
			rc = meta_int_db_err(c, src, err, "youngest version");
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

static cf_err
read_hold(sqlite3_stmt *st, struct cf_hold_rec *h, struct cf_error *err)
{
	cf_err	rc;

	memset(h, 0, sizeof(*h));
	rc = meta_int_col_str(st, 0, h->id, sizeof(h->id), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 1, h->ns, sizeof(h->ns), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 2, h->key, sizeof(h->key), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, h->reason, sizeof(h->reason),
		    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 4, h->created_by,
		    sizeof(h->created_by), err);
	h->created_us = sqlite3_column_int64(st, 5);
	return rc;
}

cf_err
cf_meta_hold_insert(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_hold_rec *h, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	cf_err		 rc;

	rc = fits(h->id, sizeof(h->id), "hold id", err);
	if (rc == CF_OK)
		rc = fits(h->ns, sizeof(h->ns), "namespace", err);
	if (rc == CF_OK)
		rc = fits(h->key, sizeof(h->key), "key", err);
	if (rc == CF_OK)
		rc = fits(h->reason, sizeof(h->reason), "reason", err);
	if (rc == CF_OK)
		rc = fits(h->created_by, sizeof(h->created_by), "principal",
		    err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err, "INSERT INTO holds (" HCOLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "ttttti", h->id, h->ns,
	    h->key, h->reason, h->created_by, h->created_us);
	if (rc == CF_OK &&
	    sqlite3_step(st) == SQLITE_CONSTRAINT)
		rc = cf_error_set(err, CF_E_CONFLICT, "meta: hold exists");
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_hold_delete(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, struct cf_hold_rec *out, struct cf_error *err)
{
	struct cf_hold_rec	 h;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	int			 src, n = 0;
	cf_err			 rc;

	rc = fits(id, CF_HOLD_ID_LEN + 1, "hold id", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT " HCOLS " FROM holds WHERE id = ?1",
	    "t", id);
	if (rc != CF_OK)
		goto out;
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		rc = cf_error_set(err, CF_E_NOTFOUND, "no hold %s", id);
	else if (src != SQLITE_ROW)
		rc = meta_int_db_err(c, src, err, "hold get");
	else
		rc = read_hold(st, &h, err);
	meta_int_unprep(c, st);
	st = NULL;
	if (rc == CF_OK)
		rc = meta_int_prep_bind(c, &st, err,
		    "DELETE FROM holds WHERE id = ?1", "t",
		    id);
	if (rc == CF_OK)
		rc = step_done(c, st, &n, "hold delete", err);
out:
	meta_int_unprep(c, st);
	rc = meta_int_wtx_end(m, c, au, rc, err);
	if (rc == CF_OK && out != NULL)
		*out = h;
	return rc;
}

cf_err
cf_meta_hold_list(struct cf_meta *m, cf_hold_cb cb, void *arg,
    struct cf_error *err)
{
	struct cf_hold_rec	 h;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	int			 src;
	cf_err			 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err, "SELECT " HCOLS " FROM holds"
	    " ORDER BY ns, key, id", "");
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = meta_int_db_err(c, src, err, "hold list");
			break;
		}
		rc = read_hold(st, &h, err);
		if (rc == CF_OK)
			rc = cb(arg, &h, err);
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_hold_find(struct cf_meta *m, const char *ns, const char *key,
    struct cf_hold_rec *out, bool *found, struct cf_error *err)
{
	struct cf_hold_rec	 h;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	int			 src;
	cf_err			 rc;

	*found = false;
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* A hold on P covers P itself and P/anything, never P2 or Pfoo. */
	if (key == NULL)
		rc = meta_int_prep_bind(c, &st, err,
		    "SELECT " HCOLS " FROM holds"
		    " WHERE ns = ?1 ORDER BY created_us, id LIMIT 1", "t", ns);
	else
		rc = meta_int_prep_bind(c, &st, err,
		    "SELECT " HCOLS " FROM holds"
		    " WHERE ns = ?1 AND (key = '' OR key = ?2 OR"
		    " substr(?2, 1, length(key) + 1) = key || '/')"
		    " ORDER BY created_us, id LIMIT 1", "tt", ns, key);
	if (rc != CF_OK)
		goto out;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		rc = read_hold(st, &h, err);
		if (rc == CF_OK) {
			*out = h;
			*found = true;
		}
	} else if (src != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "hold find");
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

/* --- erasure plans --- */

struct plan {
	struct cf_erase_item	*it;
	size_t			 n, cap, max;
	bool			 seen_erased;	/* a named one was erased */
};

/* Add version id (why) to the plan unless it is there or erased. */
static cf_err
plan_add(struct conn *c, struct plan *p, const char *vid, const char *why,
    struct cf_error *err)
{
	struct cf_erase_item	*e;
	sqlite3_stmt		*st = NULL;
	char			 kek[64];
	void			*nv;
	size_t			 i;
	int			 src;
	cf_err			 rc;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->it[i].version_id, vid) == 0)
			return CF_OK;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT v.version_id, n.name, v.key, v.sha256,"
	    " v.size, v.blob_id, v.created_us, v.kek_id FROM versions v"
	    " JOIN namespaces n ON n.id = v.ns_id WHERE v.version_id = ?1"
	    " AND v.delete_marker = 0", "t", vid);
	if (rc != CF_OK)
		return rc;
	src = sqlite3_step(st);
	if (src == SQLITE_DONE)
		goto out;
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "erase plan");
		goto out;
	}
	rc = meta_int_col_str(st, 7, kek, sizeof(kek), err);
	if (rc != CF_OK)
		goto out;
	if (strcmp(kek, CF_KEK_ERASED) == 0) {
		if (strcmp(why, "named") == 0)
			p->seen_erased = true;
		goto out;
	}
	if (p->n == p->max) {
		rc = cf_error_set(err, CF_E_LIMIT, "an erasure reaches more "
		    "than %zu versions: erase in parts", p->max);
		goto out;
	}
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 16 : p->cap * 2;
		nv = cf_reallocarray(p->it, p->cap, sizeof(*p->it));
		if (nv == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
		p->it = nv;
	}
	e = &p->it[p->n];
	memset(e, 0, sizeof(*e));
	rc = meta_int_col_str(st, 0, e->version_id, sizeof(e->version_id),
	    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 1, e->ns, sizeof(e->ns), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 2, e->key, sizeof(e->key), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, e->sha256, sizeof(e->sha256),
		    err);
	e->size = (uint64_t)sqlite3_column_int64(st, 4);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 5, e->blob_id, sizeof(e->blob_id),
		    err);
	e->created_us = sqlite3_column_int64(st, 6);
	cf_strlcpy(e->why, why, sizeof(e->why));
	if (rc == CF_OK)
		p->n++;
out:
	meta_int_unprep(c, st);
	return rc;
}

/* Every version id st yields (column 0) into the plan as why. */
static cf_err
plan_rows(struct conn *c, struct plan *p, sqlite3_stmt *st, const char *why,
    size_t *rows, struct cf_error *err)
{
	char	vid[CF_VERSION_ID_LEN + 1];
	int	src;
	cf_err	rc = CF_OK;

	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW)
			return meta_int_db_err(c, src, err, "erase plan");
		rc = meta_int_col_str(st, 0, vid, sizeof(vid), err);
		if (rc == CF_OK)
			rc = plan_add(c, p, vid, why, err);
		if (rows != NULL)
			(*rows)++;
	}
	return rc;
}

/* Downstream in lineage of the artifact versions base selects: the
 * files of every artifact version derived from them, transitively. */
#define DERIVED(base) \
	"WITH RECURSIVE b(aid, num) AS (" base ")," \
	" d(aid, num) AS (SELECT l.artifact_id, l.number" \
	" FROM artifact_lineage l JOIN b ON l.src_artifact_id = b.aid" \
	" AND l.src_number = b.num UNION SELECT l.artifact_id, l.number" \
	" FROM artifact_lineage l JOIN d ON l.src_artifact_id = d.aid" \
	" AND l.src_number = d.num)" \
	" SELECT f.version_id FROM artifact_files f JOIN d" \
	" ON f.artifact_id = d.aid AND f.number = d.num"
#define ART_SEL \
	"SELECT av.artifact_id, av.number FROM artifact_versions av" \
	" JOIN artifacts a ON a.id = av.artifact_id JOIN namespaces n" \
	" ON n.id = a.ns_id WHERE n.name = ?1 AND a.name = ?2" \
	" AND (?3 = 0 OR av.number = ?3)"

cf_err
cf_meta_erase_plan(struct cf_meta *m, const char *ns, const char *key,
    const char *version_id, int64_t artnum, bool derived, size_t max,
    struct cf_erase_item **items, size_t *n, struct cf_error *err)
{
	struct plan	 p = { NULL, 0, 0, max, false };
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 rows = 0, named, i;
	char		 blob[CF_BLOB_ID_LEN + 1];
	bool		 art = false;
	cf_err		 rc;

	rc = fits(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = fits(key, CF_OBJKEY_MAX, "key", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT v.version_id FROM versions v"
	    " JOIN namespaces n ON n.id = v.ns_id WHERE n.name = ?1"
	    " AND v.key = ?2 AND v.delete_marker = 0"
	    " AND (?3 IS NULL OR v.version_id = ?3) ORDER BY v.seq", "tbt",
	    ns, key, version_id);
	if (rc == CF_OK)
		rc = plan_rows(c, &p, st, "named", &rows, err);
	meta_int_unprep(c, st);
	st = NULL;
	if (rc == CF_OK && rows == 0 && version_id == NULL) {
		/* Not an object: an artifact's files. */
		art = true;
		rc = meta_int_prep_bind(c, &st, err,
		    "SELECT f.version_id FROM artifact_files"
		    " f JOIN (" ART_SEL ") s ON f.artifact_id = s.artifact_id"
		    " AND f.number = s.number", "tti", ns, key, artnum);
		if (rc == CF_OK)
			rc = plan_rows(c, &p, st, "named", &rows, err);
		meta_int_unprep(c, st);
		st = NULL;
	}
	if (rc == CF_OK && rows == 0) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "no object or artifact "
		    "\"%s\" in namespace \"%s\"", key, ns);
		goto out;
	}
	named = p.n;
	if (rc == CF_OK && derived && art) {
		rc = meta_int_prep_bind(c, &st, err,
		    DERIVED(ART_SEL), "tti", ns, key,
		    artnum);
		if (rc == CF_OK)
			rc = plan_rows(c, &p, st, "derived", NULL, err);
		meta_int_unprep(c, st);
		st = NULL;
	}
	for (i = 0; rc == CF_OK && derived && !art && i < named; i++) {
		rc = meta_int_prep_bind(c, &st, err,
		    DERIVED("SELECT artifact_id, number"
		    " FROM artifact_files WHERE version_id = ?1"), "t",
		    p.it[i].version_id);
		if (rc == CF_OK)
			rc = plan_rows(c, &p, st, "derived", NULL, err);
		meta_int_unprep(c, st);
		st = NULL;
	}
	/* SEC: a promoted copy shares the blob (and the data key, wrapped
	 * for it): erasing one without the other would leave the data
	 * readable, or break the copy.  The list grows as it goes. */
	for (i = 0; rc == CF_OK && i < p.n; i++) {
		/* A copy of a segmented version shares its segments' blobs:
		 * the same rule, segment by segment. */
		rc = meta_int_prep_bind(c, &st, err,
		    "SELECT DISTINCT s2.version_id FROM segments s1"
		    " JOIN segments s2 ON s2.blob_id = s1.blob_id"
		    " WHERE s1.version_id = ?1 AND s1.blob_id <> ''"
		    " AND s2.blob_id <> ''", "t", p.it[i].version_id);
		if (rc == CF_OK)
			rc = plan_rows(c, &p, st, "copy", NULL, err);
		meta_int_unprep(c, st);
		st = NULL;
		if (rc != CF_OK)
			break;
		cf_strlcpy(blob, p.it[i].blob_id, sizeof(blob));
		if (blob[0] == '\0')
			continue;
		rc = meta_int_prep_bind(c, &st, err,
		    "SELECT version_id FROM versions"
		    " WHERE blob_id = ?1", "t", blob);
		if (rc == CF_OK)
			rc = plan_rows(c, &p, st, "copy", NULL, err);
		meta_int_unprep(c, st);
		st = NULL;
	}
	if (rc == CF_OK && p.n == 0)
		rc = cf_error_set(err, CF_E_CONFLICT, "\"%s\" in namespace "
		    "\"%s\" is erased already", key, ns);
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	if (rc != CF_OK) {
		cf_free(p.it);
		return rc;
	}
	*items = p.it;
	*n = p.n;
	return CF_OK;
}

cf_err
cf_meta_erase_apply(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_erasure_rec *e, const struct cf_erase_item *items,
    size_t n, const char *cert, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 i;
	int		 ch = 0;
	cf_err		 rc;

	rc = fits(e->id, sizeof(e->id), "erasure id", err);
	if (rc == CF_OK)
		rc = fits(e->reason, sizeof(e->reason), "reason", err);
	if (rc == CF_OK)
		rc = fits(e->request_id, sizeof(e->request_id), "request id",
		    err);
	if (rc == CF_OK && cert == NULL)
		rc = cf_error_set(err, CF_E_INVAL, "meta: no certificate");
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	for (i = 0; rc == CF_OK && i < n; i++) {
		/* SEC: the wrapped data key is overwritten in place
		 * (secure_delete also zeroes the freed page content); the
		 * row stays as the tombstone. */
		rc = meta_int_prep_bind(c, &st, err,
		    "UPDATE versions SET kek_id = '"
		    CF_KEK_ERASED "', wrapped_dek = zeroblob(?2),"
		    " user_meta = '', blob_id = '' WHERE version_id = ?1"
		    " AND kek_id <> '" CF_KEK_ERASED "'", "ti",
		    items[i].version_id, (int64_t)CF_WRAPPED_DEK_LEN);
		if (rc == CF_OK)
			rc = step_done(c, st, &ch, "erase", err);
		if (rc == CF_OK && ch != 1)
			rc = cf_error_set(err, CF_E_CONFLICT, "version %s was "
			    "erased or removed meanwhile",
			    items[i].version_id);
		meta_int_unprep(c, st);
		st = NULL;
		/* SEC: a segmented version's keys are its segments': every
		 * one is overwritten the same way. */
		if (rc == CF_OK)
			rc = meta_int_prep_bind(c, &st, err,
			    "UPDATE segments SET kek_id = '" CF_KEK_ERASED "',"
			    " wrapped_dek = zeroblob(?2), blob_id = ''"
			    " WHERE version_id = ?1", "ti",
			    items[i].version_id, (int64_t)CF_WRAPPED_DEK_LEN);
		if (rc == CF_OK)
			rc = step_done(c, st, NULL, "erase segments", err);
		meta_int_unprep(c, st);
		st = NULL;
		if (rc == CF_OK)
			rc = meta_int_prep_bind(c, &st, err,
			    "INSERT INTO erasures"
			    " (version_id, erasure_id, ns, key, sha256, size,"
			    " blob_id, why, erased_by, erased_us, reason,"
			    " request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			    " ?8, ?9, ?10, ?11, ?12)", "tttttitttitt",
			    items[i].version_id, e->id, items[i].ns,
			    items[i].key, items[i].sha256,
			    (int64_t)items[i].size, items[i].blob_id,
			    items[i].why, e->by, e->at_us, e->reason,
			    e->request_id);
		if (rc == CF_OK)
			rc = step_done(c, st, NULL, "erasure insert", err);
		meta_int_unprep(c, st);
		st = NULL;
	}
	if (rc == CF_OK)
		rc = meta_int_prep_bind(c, &st, err,
		    "INSERT INTO erasure_certs (id, cert,"
		    " created_us) VALUES (?1, ?2, ?3)", "tti", e->id, cert,
		    e->at_us);
	if (rc == CF_OK)
		rc = step_done(c, st, NULL, "certificate insert", err);
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_erasure_get(struct cf_meta *m, const char *version_id,
    struct cf_erasure_rec *out, struct cf_error *err)
{
	struct cf_erasure_rec	 e;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	int			 src;
	cf_err			 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT erasure_id, erased_by, erased_us,"
	    " reason, request_id FROM erasures WHERE version_id = ?1", "t",
	    version_id);
	if (rc != CF_OK)
		goto out;
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "not erased");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "erasure get");
		goto out;
	}
	memset(&e, 0, sizeof(e));
	rc = meta_int_col_str(st, 0, e.id, sizeof(e.id), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 1, e.by, sizeof(e.by), err);
	e.at_us = sqlite3_column_int64(st, 2);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, e.reason, sizeof(e.reason), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 4, e.request_id,
		    sizeof(e.request_id), err);
	if (rc == CF_OK)
		*out = e;
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_erasure_cert(struct cf_meta *m, const char *id, char **out,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*t;
	int		 src;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT cert FROM erasure_certs WHERE id = ?1",
	    "t", id);
	if (rc != CF_OK)
		goto out;
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND, "no erasure %s", id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "certificate get");
		goto out;
	}
	t = (const char *)sqlite3_column_text(st, 0);
	*out = cf_strdup(t != NULL ? t : "");
	if (*out == NULL)
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}
