/* src/store/meta_backup.c: a consistent copy of the metadata database
 * (SQLite's online backup API) and the two reads `coffer erase
 * --replay-on` needs: every erasure a database records, and whether a
 * version of another still has its data key (meta.h, "backups";
 * docs/privacy.md, "Backups"). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

/* A new, empty file at path, mode 0600 whatever the umask: the copy
 * holds wrapped data keys and token hashes. */
static cf_err
create_excl(const char *path, struct cf_error *err)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return cf_error_sys(err, errno == EEXIST ? CF_E_CONFLICT :
		    CF_E_IO, "create %s", path);
	if (fchmod(fd, 0600) != 0) {
		(void)close(fd);
		return cf_error_sys(err, CF_E_IO, "chmod %s", path);
	}
	(void)close(fd);
	return CF_OK;
}

static cf_err
fsync_path(const char *path, struct cf_error *err)
{
	int	fd;
	cf_err	rc = CF_OK;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	if (fsync(fd) != 0)
		rc = cf_error_sys(err, CF_E_IO, "fsync %s", path);
	(void)close(fd);
	return rc;
}

cf_err
cf_meta_backup(struct cf_meta *m, const char *path, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3		*dst = NULL;
	sqlite3_backup	*bk = NULL;
	bool		 made = false;
	int		 src;
	cf_err		 rc;

	if (m == NULL || path == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta backup: bad args");
	rc = create_excl(path, err);
	if (rc != CF_OK)
		return rc;
	made = true;
	src = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (src != SQLITE_OK) {
		rc = cf_error_set(err, CF_E_IO, "meta backup: open %s: %s",
		    path, dst != NULL ? sqlite3_errmsg(dst) : "no memory");
		goto out;
	}
	/* One read transaction on the source, and every page copied in one
	 * step: the copy is one snapshot (under WAL, writers go on). */
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		goto out;
	bk = sqlite3_backup_init(dst, "main", meta_int_db(c), "main");
	if (bk == NULL) {
		rc = cf_error_set(err, CF_E_IO, "meta backup: %s",
		    sqlite3_errmsg(dst));
		goto out;
	}
	src = sqlite3_backup_step(bk, -1);
	(void)sqlite3_backup_finish(bk);
	bk = NULL;
	if (src != SQLITE_DONE) {
		rc = meta_int_db_err(c, src, err, "backup");
		goto out;
	}
	src = sqlite3_errcode(dst);
	if (src != SQLITE_OK) {
		rc = cf_error_set(err, CF_E_IO, "meta backup: %s",
		    sqlite3_errmsg(dst));
		goto out;
	}
out:
	meta_int_rtx_end(m, c);
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && rc == CF_OK)
		rc = cf_error_set(err, CF_E_IO, "meta backup: close %s",
		    path);
	if (rc == CF_OK)
		rc = fsync_path(path, err);
	if (rc != CF_OK && made)
		(void)unlink(path);
	return rc;
}

static cf_err
col(sqlite3_stmt *st, int i, char *dst, size_t cap, struct cf_error *err)
{
	return meta_int_col_str(st, i, dst, cap, err);
}

cf_err
cf_meta_erasure_list(struct cf_meta *m, cf_erasure_row_cb cb, void *arg,
    struct cf_error *err)
{
	struct cf_erasure_row	 row;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	int			 src;
	cf_err			 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	src = sqlite3_prepare_v2(meta_int_db(c), "SELECT erasure_id,"
	    " erased_by, erased_us, reason, request_id, version_id, ns, key,"
	    " sha256, size, blob_id, why FROM erasures ORDER BY erased_us,"
	    " erasure_id, version_id", -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = meta_int_db_err(c, src, err, "erasure list");
		goto out;
	}
	while (rc == CF_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		rc = col(st, 0, row.rec.id, sizeof(row.rec.id), err);
		if (rc == CF_OK)
			rc = col(st, 1, row.rec.by, sizeof(row.rec.by), err);
		row.rec.at_us = sqlite3_column_int64(st, 2);
		if (rc == CF_OK)
			rc = col(st, 3, row.rec.reason, sizeof(row.rec.reason),
			    err);
		if (rc == CF_OK)
			rc = col(st, 4, row.rec.request_id,
			    sizeof(row.rec.request_id), err);
		if (rc == CF_OK)
			rc = col(st, 5, row.item.version_id,
			    sizeof(row.item.version_id), err);
		if (rc == CF_OK)
			rc = col(st, 6, row.item.ns, sizeof(row.item.ns), err);
		if (rc == CF_OK)
			rc = col(st, 7, row.item.key, sizeof(row.item.key),
			    err);
		if (rc == CF_OK)
			rc = col(st, 8, row.item.sha256,
			    sizeof(row.item.sha256), err);
		row.item.size = (uint64_t)sqlite3_column_int64(st, 9);
		if (rc == CF_OK)
			rc = col(st, 10, row.item.blob_id,
			    sizeof(row.item.blob_id), err);
		if (rc == CF_OK)
			rc = col(st, 11, row.item.why, sizeof(row.item.why),
			    err);
		if (rc == CF_OK)
			rc = cb(arg, &row, err);
	}
	if (rc == CF_OK && src != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "erasure list");
out:
	sqlite3_finalize(st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_version_keystate(struct cf_meta *m, const char *version_id,
    int *state, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*kek;
	int		 src;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	src = sqlite3_prepare_v2(meta_int_db(c), "SELECT kek_id FROM versions"
	    " WHERE version_id = ?1", -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 1, version_id, -1,
		    SQLITE_TRANSIENT);
	if (src != SQLITE_OK) {
		rc = meta_int_db_err(c, src, err, "version keystate");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		*state = CF_META_KEY_ABSENT;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = meta_int_db_err(c, src, err, "version keystate");
		goto out;
	}
	kek = (const char *)sqlite3_column_text(st, 0);
	*state = kek != NULL && strcmp(kek, CF_KEK_ERASED) == 0 ?
	    CF_META_KEY_ERASED : CF_META_KEY_HELD;
out:
	sqlite3_finalize(st);
	meta_int_rtx_end(m, c);
	return rc;
}
