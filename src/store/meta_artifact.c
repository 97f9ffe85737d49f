/* src/store/meta_artifact.c: artifacts, their versions (manifests),
 * lineage and stages in the SQLite metadata store (meta.h, "artifacts";
 * the tables are migration 7 -> 8 of meta_sqlite.c).
 *
 * Statements are prepared per call: an artifact operation runs a handful
 * of them, each an index lookup or range, so the statement cache of
 * meta_sqlite.c is not worth its coupling here.  Every lookup below is a
 * primary-key or unique-index seek (artifacts by (ns_id, name), versions
 * by (artifact_id, number), files by (artifact_id, number, path),
 * lineage by either end), so none grows with the number of versions in
 * a namespace beyond O(log n). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

#define ACOLS \
	"a.id, a.ns_id, n.name, a.name, v.number, v.version_id, v.kind," \
	" v.digest, v.size, v.files, v.meta, v.sensitivity, v.declassified," \
	" v.created_by, v.created_us"
#define AFROM \
	" FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id" \
	" JOIN namespaces n ON n.id = a.ns_id"

static cf_err
prep(struct conn *c, const char *sql, sqlite3_stmt **out,
    struct cf_error *err)
{
	return meta_int_prep(c, sql, out, err);
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
read_art(sqlite3_stmt *st, struct cf_art_rec *v, struct cf_error *err)
{
	cf_err	rc;

	memset(v, 0, sizeof(*v));
	v->artifact_id = sqlite3_column_int64(st, 0);
	v->ns_id = sqlite3_column_int64(st, 1);
	rc = meta_int_col_str(st, 2, v->ns, sizeof(v->ns), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, v->name, sizeof(v->name), err);
	v->number = sqlite3_column_int64(st, 4);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 5, v->version_id,
		    sizeof(v->version_id), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 6, v->kind, sizeof(v->kind), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 7, v->digest, sizeof(v->digest),
		    err);
	v->size = (uint64_t)sqlite3_column_int64(st, 8);
	v->files = (uint64_t)sqlite3_column_int64(st, 9);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 10, v->meta, sizeof(v->meta), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 11, v->sensitivity,
		    sizeof(v->sensitivity), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 12, v->declassified,
		    sizeof(v->declassified), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 13, v->created_by,
		    sizeof(v->created_by), err);
	v->created_us = sqlite3_column_int64(st, 14);
	return rc;
}

/* Step st once: a row into *out (CF_OK), none (CF_E_NOTFOUND). */
static cf_err
one_art(struct conn *c, sqlite3_stmt *st, struct cf_art_rec *out,
    struct cf_error *err)
{
	int	src;

	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		return read_art(st, out, err);
	if (src == SQLITE_DONE)
		return cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such artifact version");
	return meta_int_db_err(c, src, err, "artifact lookup");
}

/* Run st (no rows wanted). */
static cf_err
done(struct conn *c, sqlite3_stmt *st, const char *what,
    struct cf_error *err)
{
	int	src;

	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		return meta_int_db_err(c, src, err, what);
	return CF_OK;
}

/* The file's object version, checked against the manifest's entry. */
static cf_err
check_file(struct conn *c, const struct cf_art_rec *v,
    const struct cf_art_file *f, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	char		 key[CF_OBJKEY_MAX + CF_ART_NAME_MAX];
	const void	*k;
	int		 src, klen, n;
	cf_err		 rc;

	n = snprintf(key, sizeof(key), "%s/%s", v->name, f->path);
	if (n < 0 || (size_t)n >= CF_OBJKEY_MAX)
		return cf_error_set(err, CF_E_INPUT, "file \"%s\": key too "
		    "long", f->path);
	rc = prep(c, "SELECT ns_id, key, delete_marker, sha256, size"
	    " FROM versions WHERE version_id = ?1", &st, err);
	if (rc != CF_OK)
		return rc;
	if (sqlite3_bind_text(st, 1, f->version_id, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		rc = meta_int_db_err(c, SQLITE_NOMEM, err, "bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_INPUT, "file \"%s\": no object "
		    "version %s", f->path, f->version_id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "file lookup");
		goto out;
	}
	k = sqlite3_column_blob(st, 1);
	klen = sqlite3_column_bytes(st, 1);
	/* SEC: only an object of this namespace, at this artifact's own
	 * key for the path, can be part of it: a manifest cannot pull in
	 * data the pusher could not have written here. */
	if (sqlite3_column_int64(st, 0) != v->ns_id || klen != n ||
	    (n > 0 && (k == NULL || memcmp(k, key, (size_t)n) != 0)) ||
	    sqlite3_column_int(st, 2) != 0) {
		rc = cf_error_set(err, CF_E_INPUT, "file \"%s\": version %s "
		    "is not an object version of \"%s/%s\"", f->path,
		    f->version_id, v->ns, key);
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 3) != NULL ?
	    (const char *)sqlite3_column_text(st, 3) : "", f->sha256) != 0 ||
	    (uint64_t)sqlite3_column_int64(st, 4) != f->size) {
		rc = cf_error_set(err, CF_E_INPUT, "file \"%s\": SHA-256 or "
		    "size differs from object version %s", f->path,
		    f->version_id);
		goto out;
	}
out:
	meta_int_unprep(c, st);
	return rc;
}

static cf_err
push_on(struct conn *c, struct cf_art_rec *v, const struct cf_art_file *files,
    size_t nfiles, const int64_t (*src)[2], size_t nsrc,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	size_t		 i;
	int		 s, b;
	cf_err		 rc;

	/* SEC: the namespace the caller was authorized on, by identity. */
	rc = prep(c, "SELECT id FROM namespaces WHERE name = ?1", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_text(st, 1, v->ns, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE) {
		rc = meta_int_db_err(c, s, err, "namespace lookup");
		goto out;
	}
	if (s == SQLITE_DONE || sqlite3_column_int64(st, 0) != v->ns_id) {
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: namespace replaced");
		goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	rc = prep(c, "INSERT INTO artifacts(ns_id, name, created_by,"
	    " created_us) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (ns_id, name) DO NOTHING", &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, v->ns_id);
	b |= sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 3, v->created_by, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 4, v->created_us);
	if (b != SQLITE_OK || (rc = done(c, st, "artifact insert", err)) !=
	    CF_OK) {
		if (rc == CF_OK)
			rc = meta_int_db_err(c, b, err, "bind");
		goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	rc = prep(c, "SELECT a.id, ifnull(max(v.number), 0) + 1"
	    " FROM artifacts a LEFT JOIN artifact_versions v"
	    " ON v.artifact_id = a.id WHERE a.ns_id = ?1 AND a.name = ?2"
	    " GROUP BY a.id", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_int64(st, 1, v->ns_id);
	(void)sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s != SQLITE_ROW) {
		rc = meta_int_db_err(c, s == SQLITE_DONE ? SQLITE_INTERNAL :
		    s, err, "artifact number");
		goto out;
	}
	v->artifact_id = sqlite3_column_int64(st, 0);
	v->number = sqlite3_column_int64(st, 1);
	meta_int_unprep(c, st);
	st = NULL;
	rc = prep(c, "INSERT INTO artifact_versions(artifact_id, number,"
	    " version_id, kind, digest, size, files, meta, sensitivity,"
	    " declassified, created_by, created_us) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, v->artifact_id);
	b |= sqlite3_bind_int64(st, 2, v->number);
	b |= sqlite3_bind_text(st, 3, v->version_id, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 4, v->kind, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 5, v->digest, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 6, (sqlite3_int64)v->size);
	b |= sqlite3_bind_int64(st, 7, (sqlite3_int64)v->files);
	b |= sqlite3_bind_text(st, 8, v->meta, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 9, v->sensitivity, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 10, v->declassified, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 11, v->created_by, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 12, v->created_us);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "bind");
		goto out;
	}
	if ((rc = done(c, st, "artifact version insert", err)) != CF_OK)
		goto out;
	meta_int_unprep(c, st);
	st = NULL;
	for (i = 0; i < nfiles; i++)
		if ((rc = check_file(c, v, &files[i], err)) != CF_OK)
			goto out;
	rc = prep(c, "INSERT INTO artifact_files(artifact_id, number, path,"
	    " version_id, sha256, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st,
	    err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < nfiles; i++) {
		(void)sqlite3_reset(st);
		b = sqlite3_bind_int64(st, 1, v->artifact_id);
		b |= sqlite3_bind_int64(st, 2, v->number);
		b |= sqlite3_bind_blob(st, 3, files[i].path,
		    (int)strlen(files[i].path), SQLITE_STATIC);
		b |= sqlite3_bind_text(st, 4, files[i].version_id, -1,
		    SQLITE_STATIC);
		b |= sqlite3_bind_text(st, 5, files[i].sha256, -1,
		    SQLITE_STATIC);
		b |= sqlite3_bind_int64(st, 6, (sqlite3_int64)files[i].size);
		if (b != SQLITE_OK) {
			rc = meta_int_db_err(c, b, err, "bind");
			goto out;
		}
		rc = done(c, st, "artifact file insert", err);
		if (rc == CF_E_CONFLICT)
			rc = cf_error_set(err, CF_E_INPUT, "file \"%s\" is "
			    "listed twice", files[i].path);
		if (rc != CF_OK)
			goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	rc = prep(c, "INSERT INTO artifact_lineage(artifact_id, number,"
	    " src_artifact_id, src_number) SELECT ?1, ?2, artifact_id,"
	    " number FROM artifact_versions WHERE artifact_id = ?3"
	    " AND number = ?4 ON CONFLICT DO NOTHING", &st, err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < nsrc; i++) {
		(void)sqlite3_reset(st);
		b = sqlite3_bind_int64(st, 1, v->artifact_id);
		b |= sqlite3_bind_int64(st, 2, v->number);
		b |= sqlite3_bind_int64(st, 3, src[i][0]);
		b |= sqlite3_bind_int64(st, 4, src[i][1]);
		if (b != SQLITE_OK) {
			rc = meta_int_db_err(c, b, err, "bind");
			goto out;
		}
		if ((rc = done(c, st, "lineage insert", err)) != CF_OK)
			goto out;
		if (sqlite3_changes(meta_int_db(c)) == 0) {
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such source version");
			goto out;
		}
	}
out:
	meta_int_unprep(c, st);
	return rc;
}

cf_err
meta_int_art_push_on(struct conn *c, struct cf_art_rec *v,
    const struct cf_art_file *files, size_t nfiles, const int64_t (*src)[2],
    size_t nsrc, struct cf_error *err)
{
	cf_err	rc;

	rc = too_long(v->name, sizeof(v->name), "artifact name", err);
	if (rc == CF_OK)
		rc = too_long(v->meta, sizeof(v->meta), "metadata", err);
	if (rc == CF_OK)
		rc = push_on(c, v, files, nfiles, src, nsrc, err);
	return rc;
}

cf_err
cf_meta_art_push(struct cf_meta *m, const struct cf_meta_audit *au,
    struct cf_art_rec *v, const struct cf_art_file *files, size_t nfiles,
    const int64_t (*src)[2], size_t nsrc, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = too_long(v->name, sizeof(v->name), "artifact name", err);
	if (rc == CF_OK)
		rc = too_long(v->meta, sizeof(v->meta), "metadata", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = push_on(c, v, files, nfiles, src, nsrc, err);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_art_get(struct cf_meta *m, const char *ns, const char *name,
    const struct cf_art_sel *sel, struct cf_art_rec *out,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*sql;
	int		 b;
	cf_err		 rc;

	rc = too_long(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = too_long(name, CF_ART_NAME_MAX, "artifact name", err);
	if (rc != CF_OK)
		return rc;
	if (sel->number > 0)
		sql = "SELECT " ACOLS AFROM " WHERE n.name = ?1"
		    " AND a.name = ?2 AND v.number = ?3";
	else if (sel->version_id != NULL)
		sql = "SELECT " ACOLS AFROM " WHERE n.name = ?1"
		    " AND a.name = ?2 AND v.version_id = ?3";
	else if (sel->stage != NULL)
		sql = "SELECT " ACOLS AFROM " JOIN artifact_stages s"
		    " ON s.artifact_id = a.id AND s.number = v.number"
		    " WHERE n.name = ?1 AND a.name = ?2 AND s.stage = ?3";
	else if (sel->as_of_us > 0)
		sql = "SELECT " ACOLS AFROM " WHERE n.name = ?1"
		    " AND a.name = ?2 AND v.created_us <= ?3"
		    " ORDER BY v.number DESC LIMIT 1";
	else
		sql = "SELECT " ACOLS AFROM " WHERE n.name = ?1"
		    " AND a.name = ?2 ORDER BY v.number DESC LIMIT 1";
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, sql, &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	b |= sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sel->number > 0)
		b |= sqlite3_bind_int64(st, 3, sel->number);
	else if (sel->version_id != NULL)
		b |= sqlite3_bind_text(st, 3, sel->version_id, -1,
		    SQLITE_STATIC);
	else if (sel->stage != NULL)
		b |= sqlite3_bind_text(st, 3, sel->stage, -1, SQLITE_STATIC);
	else if (sel->as_of_us > 0)
		b |= sqlite3_bind_int64(st, 3, sel->as_of_us);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "bind");
		goto out;
	}
	rc = one_art(c, st, out, err);
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_art_get_id(struct cf_meta *m, int64_t artifact_id, int64_t number,
    struct cf_art_rec *out, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, "SELECT " ACOLS AFROM " WHERE a.id = ?1"
	    " AND v.number = ?2", &st, err);
	if (rc == CF_OK) {
		(void)sqlite3_bind_int64(st, 1, artifact_id);
		(void)sqlite3_bind_int64(st, 2, number);
		rc = one_art(c, st, out, err);
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_art_files(struct cf_meta *m, int64_t artifact_id, int64_t number,
    json_t **out, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	json_t		*arr = NULL, *j;
	char		*path = NULL;
	char		 vid[CF_VERSION_ID_LEN + 1], sha[CF_SHA256_HEX_LEN + 1];
	int		 src;
	cf_err		 rc;

	arr = json_array();
	path = cf_malloc(CF_OBJKEY_MAX);
	if (arr == NULL || path == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = prep(c, "SELECT path, version_id, sha256, size FROM"
	    " artifact_files WHERE artifact_id = ?1 AND number = ?2"
	    " ORDER BY path", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_int64(st, 1, artifact_id);
	(void)sqlite3_bind_int64(st, 2, number);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = meta_int_col_str(st, 0, path, CF_OBJKEY_MAX, err);
		if (rc == CF_OK)
			rc = meta_int_col_str(st, 1, vid, sizeof(vid), err);
		if (rc == CF_OK)
			rc = meta_int_col_str(st, 2, sha, sizeof(sha), err);
		if (rc != CF_OK)
			goto out;
		j = json_pack("{s:s, s:s, s:s, s:I}", "path", path,
		    "version_id", vid, "sha256", sha, "size",
		    (json_int_t)sqlite3_column_int64(st, 3));
		if (j == NULL || json_array_append_new(arr, j) != 0) {
			rc = cf_error_set(err, CF_E_NOMEM,
			    "meta: out of memory or path not UTF-8");
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = meta_int_db_err(c, src, err, "artifact files");
		goto out;
	}
	*out = arr;
	arr = NULL;
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	json_decref(arr);
	cf_free(path);
	return rc;
}

/* Rows of st as records through cb; *n counts them.  The records are
 * read into one buffer and handed out after the statement is done, so
 * that cb may call the store. */
static cf_err
each_art(struct cf_meta *m, struct conn **cp, sqlite3_stmt **stp,
    cf_art_cb cb, void *arg, size_t *n, struct cf_error *err)
{
	struct cf_art_rec	*recs = NULL, *nr;
	size_t			 cnt = 0, cap = 0, i;
	int			 src;
	cf_err			 rc = CF_OK;

	while ((src = sqlite3_step(*stp)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			nr = cf_reallocarray(recs, cap, sizeof(*recs));
			if (nr == NULL) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "meta: out of memory");
				goto out;
			}
			recs = nr;
		}
		rc = read_art(*stp, &recs[cnt], err);
		if (rc != CF_OK)
			goto out;
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = meta_int_db_err(*cp, src, err, "artifact list");
		goto out;
	}
	meta_int_unprep(*cp, *stp);
	*stp = NULL;
	meta_int_rtx_end(m, *cp);
	*cp = NULL;
	for (i = 0; i < cnt && rc == CF_OK; i++)
		rc = cb(arg, &recs[i], err);
	*n = cnt;
out:
	cf_free(recs);
	return rc;
}

cf_err
cf_meta_art_list(struct cf_meta *m, const char *ns, const char *name,
    cf_art_cb cb, void *arg, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 n = 0;
	cf_err		 rc;

	rc = too_long(ns, CF_NS_NAME_MAX, "namespace", err);
	if (rc == CF_OK)
		rc = too_long(name, CF_ART_NAME_MAX, "artifact name", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, "SELECT " ACOLS AFROM " WHERE n.name = ?1"
	    " AND a.name = ?2 ORDER BY v.number DESC", &st, err);
	if (rc == CF_OK) {
		(void)sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		rc = each_art(m, &c, &st, cb, arg, &n, err);
	}
	if (rc == CF_OK && n == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND, "meta: no such artifact");
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

/* One UPDATE of a version, audited. */
static cf_err
update_version(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *sql, int64_t artifact_id, int64_t number, const char *s1,
    const char *s2, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 b;
	cf_err		 rc;

	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, sql, &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, artifact_id);
	b |= sqlite3_bind_int64(st, 2, number);
	b |= sqlite3_bind_text(st, 3, s1, -1, SQLITE_STATIC);
	if (s2 != NULL)
		b |= sqlite3_bind_text(st, 4, s2, -1, SQLITE_STATIC);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "bind");
		goto out;
	}
	rc = done(c, st, "artifact version update", err);
	if (rc == CF_OK && sqlite3_changes(meta_int_db(c)) == 0)
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such artifact version");
out:
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_art_meta_set(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t artifact_id, int64_t number, const char *meta,
    struct cf_error *err)
{
	cf_err	rc;

	rc = too_long(meta, CF_ART_META_MAX, "metadata", err);
	if (rc != CF_OK)
		return rc;
	return update_version(m, au, "UPDATE artifact_versions SET meta = ?3"
	    " WHERE artifact_id = ?1 AND number = ?2", artifact_id, number,
	    meta, NULL, err);
}

cf_err
cf_meta_art_sens_set(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t artifact_id, int64_t number, const char *sensitivity,
    const char *reason, struct cf_error *err)
{
	cf_err	rc;

	rc = too_long(sensitivity, CF_SENS_MAX, "sensitivity", err);
	if (rc == CF_OK)
		rc = too_long(reason, CF_ART_REASON_MAX, "reason", err);
	if (rc != CF_OK)
		return rc;
	return update_version(m, au, "UPDATE artifact_versions"
	    " SET sensitivity = ?3, declassified = ?4"
	    " WHERE artifact_id = ?1 AND number = ?2", artifact_id, number,
	    sensitivity, reason, err);
}

/* CF_E_LIMIT when stage is new and the artifact has all the stages it
 * may have. */
static cf_err
stage_room(struct conn *c, int64_t artifact_id, const char *stage,
    struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = prep(c, "SELECT count(*), sum(stage = ?2) FROM artifact_stages"
	    " WHERE artifact_id = ?1", &st, err);
	if (rc != CF_OK)
		return rc;
	if (sqlite3_bind_int64(st, 1, artifact_id) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = meta_int_db_err(c, SQLITE_ERROR, err, "bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "stage count");
		goto out;
	}
	if (sqlite3_column_int64(st, 1) == 0 &&
	    sqlite3_column_int64(st, 0) >= CF_ART_STAGES_MAX)
		rc = cf_error_set(err, CF_E_LIMIT, "an artifact has at most "
		    "%d stages", CF_ART_STAGES_MAX);
out:
	meta_int_unprep(c, st);
	return rc;
}

static cf_err
stage_on(struct conn *c, int64_t artifact_id, const char *stage,
    int64_t number, const char *by, int64_t at_us, struct cf_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 b;
	cf_err		 rc;

	if (number > 0) {
		rc = stage_room(c, artifact_id, stage, err);
		if (rc != CF_OK)
			return rc;
	}
	if (number > 0)
		rc = prep(c, "INSERT INTO artifact_stages(artifact_id, stage,"
		    " number, set_by, set_us) SELECT ?1, ?2, ?3, ?4, ?5"
		    " FROM artifact_versions WHERE artifact_id = ?1"
		    " AND number = ?3 ON CONFLICT (artifact_id, stage)"
		    " DO UPDATE SET number = excluded.number,"
		    " set_by = excluded.set_by, set_us = excluded.set_us",
		    &st, err);
	else
		rc = prep(c, "DELETE FROM artifact_stages WHERE"
		    " artifact_id = ?1 AND stage = ?2 AND ?3 = 0 AND ?4 = ?4"
		    " AND ?5 = ?5", &st, err);
	if (rc != CF_OK)
		return rc;
	b = sqlite3_bind_int64(st, 1, artifact_id);
	b |= sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 3, number);
	b |= sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 5, at_us);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "bind");
		goto out;
	}
	if ((rc = done(c, st, "stage", err)) != CF_OK)
		goto out;
	if (sqlite3_changes(meta_int_db(c)) == 0) {
		rc = cf_error_set(err, CF_E_NOTFOUND, number > 0 ?
		    "meta: no such artifact version" : "meta: no such stage");
		goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	rc = prep(c, "INSERT INTO artifact_stage_history(artifact_id, stage,"
	    " number, set_by, set_us) VALUES (?1, ?2, ?3, ?4, ?5)", &st, err);
	if (rc != CF_OK)
		goto out;
	b = sqlite3_bind_int64(st, 1, artifact_id);
	b |= sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 3, number);
	b |= sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
	b |= sqlite3_bind_int64(st, 5, at_us);
	if (b != SQLITE_OK) {
		rc = meta_int_db_err(c, b, err, "bind");
		goto out;
	}
	rc = done(c, st, "stage history", err);
out:
	meta_int_unprep(c, st);
	return rc;
}

cf_err
cf_meta_art_stage_set(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t artifact_id, const char *stage, int64_t number, const char *by,
    int64_t at_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	cf_err		 rc;

	rc = too_long(stage, CF_STAGE_MAX, "stage", err);
	if (rc == CF_OK)
		rc = too_long(by, CF_PRINCIPAL_MAX, "principal", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = stage_on(c, artifact_id, stage, number, by, at_us, err);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_art_stages(struct cf_meta *m, int64_t artifact_id, json_t **current,
    json_t **history, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	json_t		*cur = NULL, *hist = NULL, *j;
	char		 stage[CF_STAGE_MAX], by[CF_PRINCIPAL_MAX];
	int		 src;
	cf_err		 rc;

	cur = json_object();
	hist = json_array();
	if (cur == NULL || hist == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "meta: out of memory");
		goto out;
	}
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		goto out;
	rc = prep(c, "SELECT stage, number FROM artifact_stages"
	    " WHERE artifact_id = ?1 ORDER BY stage", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_int64(st, 1, artifact_id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = meta_int_col_str(st, 0, stage, sizeof(stage),
		    err)) != CF_OK)
			goto out;
		if (json_object_set_new(cur, stage, json_integer(
		    sqlite3_column_int64(st, 1))) != 0) {
			rc = cf_error_set(err, CF_E_NOMEM,
			    "meta: out of memory");
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = meta_int_db_err(c, src, err, "stages");
		goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	if (history != NULL) {
		rc = prep(c, "SELECT stage, number, set_by, set_us FROM"
		    " artifact_stage_history WHERE artifact_id = ?1"
		    " ORDER BY seq", &st, err);
		if (rc != CF_OK)
			goto out;
		(void)sqlite3_bind_int64(st, 1, artifact_id);
		while ((src = sqlite3_step(st)) == SQLITE_ROW) {
			rc = meta_int_col_str(st, 0, stage, sizeof(stage),
			    err);
			if (rc == CF_OK)
				rc = meta_int_col_str(st, 2, by, sizeof(by),
				    err);
			if (rc != CF_OK)
				goto out;
			j = json_pack("{s:s, s:I, s:s, s:I}", "stage", stage,
			    "number", (json_int_t)sqlite3_column_int64(st, 1),
			    "by", by, "at_us",
			    (json_int_t)sqlite3_column_int64(st, 3));
			if (j == NULL || json_array_append_new(hist, j) != 0) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "meta: out of memory");
				goto out;
			}
		}
		if (src != SQLITE_DONE) {
			rc = meta_int_db_err(c, src, err, "stage history");
			goto out;
		}
	}
	*current = cur;
	cur = NULL;
	if (history != NULL) {
		*history = hist;
		hist = NULL;
	}
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	json_decref(cur);
	json_decref(hist);
	return rc;
}

/* Append the stage names st yields (column 0) to stages, space-
 * separated; CF_E_LIMIT past CF_ART_STAGES_MAX. */
static cf_err
stage_names(struct conn *c, sqlite3_stmt *st, char stages[CF_ART_STAGES_TEXT],
    struct cf_error *err)
{
	char	name[CF_STAGE_MAX];
	size_t	n = 0, len = 0, k;
	int	src;
	cf_err	rc;

	stages[0] = '\0';
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (++n > CF_ART_STAGES_MAX)
			return cf_error_set(err, CF_E_LIMIT, "more than %d "
			    "stages point at the version", CF_ART_STAGES_MAX);
		rc = meta_int_col_str(st, 0, name, sizeof(name), err);
		if (rc != CF_OK)
			return rc;
		k = strlen(name);
		if (len + k + 2 > CF_ART_STAGES_TEXT)
			return cf_error_set(err, CF_E_LIMIT, "stage names "
			    "too long");
		if (len > 0)
			stages[len++] = ' ';
		memcpy(stages + len, name, k + 1);
		len += k;
	}
	if (src != SQLITE_DONE)
		return meta_int_db_err(c, src, err, "stages");
	return CF_OK;
}

cf_err
cf_meta_art_version_stages(struct cf_meta *m, int64_t artifact_id,
    int64_t number, char stages[CF_ART_STAGES_TEXT], struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	cf_err		 rc;

	stages[0] = '\0';
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = prep(c, "SELECT stage FROM artifact_stages WHERE"
	    " artifact_id = ?1 AND number = ?2 ORDER BY stage", &st, err);
	if (rc == CF_OK) {
		(void)sqlite3_bind_int64(st, 1, artifact_id);
		(void)sqlite3_bind_int64(st, 2, number);
		rc = stage_names(c, st, stages, err);
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_art_of_version(struct cf_meta *m, const char *version_id,
    struct cf_art_rec *out, char stages[CF_ART_STAGES_TEXT],
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	stages[0] = '\0';
	rc = too_long(version_id, CF_VERSION_ID_LEN + 1, "version id", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	/* Most objects are in no artifact: one probe of the covering index
	 * says so without the join and its sort (about 3 % of a small GET's
	 * server CPU went to that sort's set-up for no row at all). */
	rc = prep(c, "SELECT 1 FROM artifact_files WHERE version_id = ?1"
	    " LIMIT 1", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_text(st, 1, version_id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = cf_error_set(err, CF_E_NOTFOUND,
		    "meta: no such artifact version");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "artifact lookup");
		goto out;
	}
	meta_int_unprep(c, st);
	st = NULL;
	/* The newest version naming it... */
	rc = prep(c, "SELECT " ACOLS AFROM " JOIN artifact_files f"
	    " ON f.artifact_id = v.artifact_id AND f.number = v.number"
	    " WHERE f.version_id = ?1"
	    " ORDER BY v.created_us DESC, v.number DESC LIMIT 1", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_text(st, 1, version_id, -1, SQLITE_STATIC);
	if ((rc = one_art(c, st, out, err)) != CF_OK)
		goto out;
	meta_int_unprep(c, st);
	st = NULL;
	/* ...the highest sensitivity of any... */
	rc = prep(c, "SELECT v.sensitivity FROM artifact_files f"
	    " JOIN artifact_versions v ON v.artifact_id = f.artifact_id"
	    " AND v.number = f.number WHERE f.version_id = ?1"
	    " ORDER BY CASE v.sensitivity WHEN 'restricted' THEN 3"
	    " WHEN 'confidential' THEN 2 WHEN 'internal' THEN 1 ELSE 0 END"
	    " DESC LIMIT 1", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_text(st, 1, version_id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "artifact sensitivity");
		goto out;
	}
	rc = meta_int_col_str(st, 0, out->sensitivity,
	    sizeof(out->sensitivity), err);
	if (rc != CF_OK)
		goto out;
	meta_int_unprep(c, st);
	st = NULL;
	/* ...and the stages of all. */
	rc = prep(c, "SELECT DISTINCT s.stage FROM artifact_files f"
	    " JOIN artifact_stages s ON s.artifact_id = f.artifact_id"
	    " AND s.number = f.number WHERE f.version_id = ?1"
	    " ORDER BY s.stage", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_text(st, 1, version_id, -1, SQLITE_STATIC);
	rc = stage_names(c, st, stages, err);
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_art_links(struct cf_meta *m, int64_t artifact_id, int64_t number,
    bool up, cf_art_cb cb, void *arg, size_t *gone, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 n = 0;
	int64_t		 links = 0;
	int		 src;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	if (gone != NULL) {
		rc = prep(c, up ? "SELECT count(*) FROM artifact_lineage"
		    " WHERE artifact_id = ?1 AND number = ?2" :
		    "SELECT count(*) FROM artifact_lineage"
		    " WHERE src_artifact_id = ?1 AND src_number = ?2", &st,
		    err);
		if (rc != CF_OK)
			goto out;
		(void)sqlite3_bind_int64(st, 1, artifact_id);
		(void)sqlite3_bind_int64(st, 2, number);
		src = sqlite3_step(st);
		if (src != SQLITE_ROW) {
			rc = meta_int_db_err(c, src, err, "lineage count");
			goto out;
		}
		links = sqlite3_column_int64(st, 0);
		meta_int_unprep(c, st);
		st = NULL;
	}
	rc = prep(c, up ? "SELECT " ACOLS " FROM artifact_lineage l"
	    " JOIN artifact_versions v ON v.artifact_id = l.src_artifact_id"
	    " AND v.number = l.src_number"
	    " JOIN artifacts a ON a.id = v.artifact_id"
	    " JOIN namespaces n ON n.id = a.ns_id"
	    " WHERE l.artifact_id = ?1 AND l.number = ?2"
	    " ORDER BY n.name, a.name, v.number" :
	    "SELECT " ACOLS " FROM artifact_lineage l"
	    " JOIN artifact_versions v ON v.artifact_id = l.artifact_id"
	    " AND v.number = l.number"
	    " JOIN artifacts a ON a.id = v.artifact_id"
	    " JOIN namespaces n ON n.id = a.ns_id"
	    " WHERE l.src_artifact_id = ?1 AND l.src_number = ?2"
	    " ORDER BY n.name, a.name, v.number", &st, err);
	if (rc != CF_OK)
		goto out;
	(void)sqlite3_bind_int64(st, 1, artifact_id);
	(void)sqlite3_bind_int64(st, 2, number);
	rc = each_art(m, &c, &st, cb, arg, &n, err);
	if (rc == CF_OK && gone != NULL)
		*gone = links > (int64_t)n ? (size_t)(links - (int64_t)n) : 0;
out:
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}
