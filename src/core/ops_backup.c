/* src/core/ops_backup.c: `coffer backup` (POST /v1/backup, action
 * store:backup): an online, consistent copy of what a restore needs
 * except the master key and the blobs, written by the server into a new
 * directory under backup_dir (docs/operations.md, "Backups").
 *
 * What goes in: meta.db (SQLite's online backup API, one snapshot),
 * keyring and keys.carry (sealed; never a plaintext key), id (it names
 * the master key file), tls/ (the self-signed certificate and its
 * encrypted key), and backup.json, written last: a directory without it
 * is an incomplete backup. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/core_int.h"
#include "core/datadir.h"

#define BACKUP_NAME_MAX		128
#define BACKUP_FORMAT		"coffer-backup-v1"

/* The files copied as they are, beside meta.db; a missing one is
 * skipped (keys.carry exists only after a master key rotation, the
 * keyring not with an HSM-only directory, tls/ not with a configured
 * certificate). */
static const char *const backup_files[] = {
	CF_DD_ID, CF_DD_KEYRING, CF_DD_CARRY, CF_DD_TLS_CERT, CF_DD_TLS_KEY,
};

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

static bool
name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > BACKUP_NAME_MAX || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* The directory dest names, into out: a NAME under backup_dir, or an
 * absolute path whose parent is backup_dir.  SEC: the server writes
 * only where the operator said backups go, never where a request
 * says. */
static cf_err
backup_target(struct cf_core *c, struct cf_req *r, const char *dest,
    char *out, size_t outsz, struct cf_error *err)
{
	const char	*bd = c->cfg.backup_dir, *base = dest, *slash;
	char		 root[PATH_MAX], parent[PATH_MAX], rp[PATH_MAX];

	if (bd == NULL || bd[0] == '\0') {
		r->errcode = "backup_disabled";
		return cf_error_set(err, CF_E_CONFLICT, "backups are off: set "
		    "backup_dir in the server's configuration");
	}
	if (realpath(bd, root) == NULL) {
		r->errcode = "backup_dir_missing";
		return cf_error_sys(err, CF_E_CONFLICT, "backup_dir %s", bd);
	}
	if (cf_dd_inside(c->data_dir, root)) {
		r->errcode = "backup_dir_inside_data";
		return cf_error_set(err, CF_E_CONFLICT, "backup_dir is inside "
		    "the data directory: a copy of the data would carry its "
		    "backups");
	}
	slash = strrchr(dest, '/');
	if (slash != NULL) {
		base = slash + 1;
		if (dest[0] != '/' || (size_t)(slash - dest) >= sizeof(parent))
			goto bad;
		(void)memcpy(parent, dest, (size_t)(slash - dest));
		parent[slash - dest] = '\0';
		if (realpath(parent[0] == '\0' ? "/" : parent, rp) == NULL ||
		    strcmp(rp, root) != 0)
			goto bad;
	}
	if (!name_ok(base))
		goto bad;
	if (snprintf(out, outsz, "%s/%s", root, base) >= (int)outsz)
		goto bad;
	return CF_OK;
bad:
	r->errcode = "invalid_backup_dest";
	return cf_error_set(err, CF_E_INPUT, "the backup destination must be "
	    "a new name (letters, digits, '.', '_', '-'; at most %d) in "
	    "backup_dir, or an absolute path directly in it", BACKUP_NAME_MAX);
}

static cf_err
fsync_fd_path(const char *path, struct cf_error *err)
{
	int	fd;
	cf_err	rc = CF_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	if (fsync(fd) != 0)
		rc = cf_error_sys(err, CF_E_IO, "fsync %s", path);
	(void)close(fd);
	return rc;
}

/* Copy src (a regular file; ENOENT: *copied false) to the new file dst,
 * mode 0600, fsync'ed; *size gets its length. */
static cf_err
copy_file(const char *src, const char *dst, bool *copied, uint64_t *size,
    struct cf_error *err)
{
	char	buf[16384];
	ssize_t	n, w, off;
	int	in = -1, out = -1;
	cf_err	rc = CF_OK;

	*copied = false;
	*size = 0;
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in == -1) {
		if (errno == ENOENT)
			return CF_OK;
		return cf_error_sys(err, CF_E_IO, "open %s", src);
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (out == -1) {
		rc = cf_error_sys(err, CF_E_IO, "create %s", dst);
		goto out;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = cf_error_sys(err, CF_E_IO, "read %s", src);
			goto out;
		}
		if (n == 0)
			break;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				rc = cf_error_sys(err, CF_E_IO, "write %s",
				    dst);
				goto out;
			}
		}
		*size += (uint64_t)n;
	}
	if (fchmod(out, 0600) != 0 || fsync(out) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "sync %s", dst);
		goto out;
	}
	*copied = true;
out:
	cf_wipe(buf, sizeof(buf));
	if (in != -1)
		(void)close(in);
	if (out != -1)
		(void)close(out);
	return rc;
}

/* Remove what a failed backup wrote (best effort): an incomplete
 * directory must not look like a backup. */
static void
backup_undo(const char *dir)
{
	char	p[PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(backup_files) / sizeof(backup_files[0]); i++)
		if (snprintf(p, sizeof(p), "%s/%s", dir, backup_files[i]) <
		    (int)sizeof(p))
			(void)unlink(p);
	if (snprintf(p, sizeof(p), "%s/%s", dir, CF_DD_META) < (int)sizeof(p))
		(void)unlink(p);
	if (snprintf(p, sizeof(p), "%s/backup.json.tmp", dir) < (int)sizeof(p))
		(void)unlink(p);
	if (snprintf(p, sizeof(p), "%s/tls", dir) < (int)sizeof(p))
		(void)rmdir(p);
	(void)rmdir(dir);
}

/* Write manifest m as dir/backup.json (tmp, fsync, rename, fsync dir). */
static cf_err
write_manifest(const char *dir, const json_t *m, struct cf_error *err)
{
	char	tmp[PATH_MAX], fin[PATH_MAX], *txt = NULL;
	size_t	len;
	int	fd = -1;
	cf_err	rc = CF_OK;

	if (snprintf(tmp, sizeof(tmp), "%s/backup.json.tmp", dir) >=
	    (int)sizeof(tmp) || snprintf(fin, sizeof(fin), "%s/backup.json",
	    dir) >= (int)sizeof(fin))
		return cf_error_set(err, CF_E_LIMIT, "backup path too long");
	txt = cf_json_dumps_flags(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (txt == NULL)
		return nomem(err);
	len = strlen(txt);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "create %s", tmp);
		goto out;
	}
	if (write(fd, txt, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "write %s", tmp);
		goto out;
	}
	if (rename(tmp, fin) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "rename %s", tmp);
		goto out;
	}
	rc = fsync_fd_path(dir, err);
out:
	if (fd != -1)
		(void)close(fd);
	cf_json_free(txt);
	return rc;
}

/* The snapshot: meta.db and the key files, under the read side of
 * kek_lock so that no rotation or retirement falls between the two (a
 * keyring copied before a rotation would miss the KEK that DEKs of the
 * snapshot are wrapped under; one copied after a retirement would miss
 * the KEK older DEKs of the snapshot still need).  files gets one entry
 * per file written. */
static cf_err
backup_write(struct cf_core *c, const char *dir, json_t *files,
    struct cf_error *err)
{
	char		 src[PATH_MAX], dst[PATH_MAX];
	struct stat	 sb;
	uint64_t	 size;
	size_t		 i;
	bool		 copied;
	cf_err		 rc;

	if (snprintf(dst, sizeof(dst), "%s/tls", dir) >= (int)sizeof(dst))
		return cf_error_set(err, CF_E_LIMIT, "backup path too long");
	if (mkdir(dst, 0700) != 0)
		return cf_error_sys(err, CF_E_IO, "mkdir %s", dst);
	(void)pthread_rwlock_rdlock(&c->kek_lock);
	rc = cf_dd_path(dir, CF_DD_META, dst, sizeof(dst), err);
	if (rc == CF_OK)
		rc = cf_meta_backup(c->meta, dst, err);
	if (rc == CF_OK && stat(dst, &sb) == 0 && json_array_append_new(files,
	    json_pack("{s:s,s:I}", "name", CF_DD_META, "size",
	    (json_int_t)sb.st_size)) != 0)
		rc = nomem(err);
	for (i = 0; rc == CF_OK && i < sizeof(backup_files) /
	    sizeof(backup_files[0]); i++) {
		rc = cf_dd_path(c->data_dir, backup_files[i], src, sizeof(src),
		    err);
		if (rc == CF_OK)
			rc = cf_dd_path(dir, backup_files[i], dst, sizeof(dst),
			    err);
		if (rc == CF_OK)
			rc = copy_file(src, dst, &copied, &size, err);
		if (rc == CF_OK && copied && json_array_append_new(files,
		    json_pack("{s:s,s:I}", "name", backup_files[i], "size",
		    (json_int_t)size)) != 0)
			rc = nomem(err);
	}
	(void)pthread_rwlock_unlock(&c->kek_lock);
	if (rc == CF_OK && snprintf(dst, sizeof(dst), "%s/tls", dir) <
	    (int)sizeof(dst))
		rc = fsync_fd_path(dst, err);
	return rc;
}

cf_err
cf_core_backup(struct cf_core *c, struct cf_req *r, const char *dest,
    json_t **out, struct cf_error *err)
{
	struct core_act	 act;
	char		 dir[PATH_MAX], parent[PATH_MAX], *slash;
	json_t		*man = NULL, *files = NULL;
	int64_t		 now;
	bool		 made = false;
	cf_err		 rc;

	/* SEC: the grant rule (admin, a human with fresh MFA): a backup
	 * carries every wrapped key and token hash out of the server. */
	rc = core_authorize_grant(c, r, "store:backup", NULL, "backup", err);
	if (rc != CF_OK)
		return rc;
	rc = backup_target(c, r, dest != NULL ? dest : "", dir, sizeof(dir),
	    err);
	if (rc != CF_OK)
		return rc;
	if (access(dir, F_OK) == 0) {
		r->errcode = "backup_exists";
		return cf_error_set(err, CF_E_CONFLICT, "%s exists: a backup "
		    "goes into a new directory", dir);
	}
	/* Recorded before anything is written (audit, then act). */
	rc = core_act_begin(&act, c, r, 201, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, 0, err);
	if (rc != CF_OK)
		return core_act_end(&act, rc);
	if (mkdir(dir, 0700) != 0) {
		if (errno == EEXIST)
			r->errcode = "backup_exists";
		rc = cf_error_sys(err, errno == EEXIST ? CF_E_CONFLICT :
		    CF_E_IO, "backup %s", dir);
		goto out;
	}
	made = true;
	now = core_now_us(c);
	files = json_array();
	if (files == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = backup_write(c, dir, files, err);
	if (rc != CF_OK)
		goto out;
	man = json_pack("{s:s,s:I,s:o,s:s,s:s,s:O,s:s}", "format",
	    BACKUP_FORMAT, "created_us", (json_int_t)now, "created_at",
	    core_time_json(now), "by", r->principal.name, "key_provider",
	    cf_keyprov_name(c->kp), "files", files, "blobs", "not included: "
	    "copy DATA/blobs after this backup (docs/operations.md)");
	if (man == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = write_manifest(dir, man, err);
	if (rc != CF_OK)
		goto out;
	(void)cf_strlcpy(parent, dir, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent)
		*slash = '\0';
	rc = fsync_fd_path(parent, err);
	if (rc != CF_OK)
		goto out;
	log_info("event=backup dir=%s by=%s", dir, r->principal.name);
	*out = json_pack("{s:s,s:I,s:o,s:O}", "dir", dir, "created_us",
	    (json_int_t)now, "created_at", core_time_json(now), "files",
	    files);
	if (*out == NULL)
		rc = nomem(err);
out:
	if (rc != CF_OK && made)
		backup_undo(dir);
	json_decref(man);
	json_decref(files);
	return core_act_end(&act, rc);
}
