/* src/core/datadir.c: data directory paths and the master key; see
 * datadir.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "base/testhook.h"
#include "core/datadir.h"
#include "audit/audit.h"
#include "crypto/keyring.h"
#include "crypto/tlscert.h"

cf_err
cf_dd_path(const char *dir, const char *name, char *out, size_t outsz,
    struct cf_error *err)
{
	int	n;

	n = snprintf(out, outsz, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= outsz)
		return cf_error_set(err, CF_E_LIMIT, "path too long: %s/%s",
		    dir, name);
	return CF_OK;
}

/* The data directory's id (DIR/id: 32 hex digits), made with create. */
static cf_err
dd_id(const char *dir, bool create, char id[CF_DD_ID_LEN + 1],
    struct cf_error *err)
{
	char	path[4096], buf[CF_DD_ID_LEN + 2];
	uint8_t	raw[CF_DD_ID_LEN / 2];
	ssize_t	n;
	int	fd;
	cf_err	rc;

	rc = cf_dd_path(dir, CF_DD_ID, path, sizeof(path), err);
	if (rc != CF_OK)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		(void)close(fd);
		if (n >= CF_DD_ID_LEN && (n == CF_DD_ID_LEN ||
		    buf[CF_DD_ID_LEN] == '\n') &&
		    cf_hex_decode(buf, CF_DD_ID_LEN, raw, sizeof(raw), NULL) ==
		    CF_OK) {
			memcpy(id, buf, CF_DD_ID_LEN);
			id[CF_DD_ID_LEN] = '\0';
			return CF_OK;
		}
		return cf_error_set(err, CF_E_INPUT, "%s: expected %d hex "
		    "digits", path, CF_DD_ID_LEN);
	}
	if (errno != ENOENT)
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	if (!create)
		return cf_error_set(err, CF_E_NOTFOUND, "%s is missing", path);
	rc = cf_random(raw, sizeof(raw), err);
	if (rc != CF_OK)
		return rc;
	cf_hex_encode(raw, sizeof(raw), id);
	memcpy(buf, id, CF_DD_ID_LEN);
	buf[CF_DD_ID_LEN] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cf_error_sys(err, CF_E_IO, "create %s", path);
	if (write(fd, buf, CF_DD_ID_LEN + 1) != CF_DD_ID_LEN + 1 ||
	    fsync(fd) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "write %s", path);
		(void)close(fd);
		(void)unlink(path);
		return rc;
	}
	(void)close(fd);
	return CF_OK;
}

/* mkdir -p of the directories above path, mode 0700. */
static cf_err
mkdir_parents(const char *path, struct cf_error *err)
{
	char	tmp[4096], *p;

	if (cf_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return cf_error_sys(err, CF_E_IO, "mkdir %s", tmp);
		*p = '/';
	}
	return CF_OK;
}

bool
cf_dd_inside(const char *dir, const char *path)
{
	char	rd[PATH_MAX], rp[PATH_MAX];
	size_t	n;

	if (realpath(dir, rd) == NULL || realpath(path, rp) == NULL)
		return false;
	n = strlen(rd);
	return strncmp(rp, rd, n) == 0 && (rp[n] == '/' || rp[n] == '\0');
}

cf_err
cf_dd_master_key_path(const char *dir, const char *keyfile, bool create,
    char *out, size_t outsz, bool *managed, struct cf_error *err)
{
	const char	*env, *base, *home;
	char		 id[CF_DD_ID_LEN + 1], legacy[4096];
	int		 n;
	cf_err		 rc;

	*managed = false;
	env = getenv(CF_ENV_MASTER_KEY_FILE);
	if (env != NULL && *env != '\0') {
		/* An operator-managed key is never created by us. */
		*managed = true;
		keyfile = env;
	}
	if (keyfile != NULL && *keyfile != '\0') {
		if (cf_strlcpy(out, keyfile, outsz) >= outsz)
			return cf_error_set(err, CF_E_LIMIT,
			    "master key path too long");
		return CF_OK;
	}
	/* An existing DIR/master.key (data directories made before the key
	 * moved out) is used where it is; the server warns about it. */
	rc = cf_dd_path(dir, CF_DD_MASTER_KEY, legacy, sizeof(legacy), err);
	if (rc != CF_OK)
		return rc;
	if (access(legacy, F_OK) == 0) {
		if (cf_strlcpy(out, legacy, outsz) >= outsz)
			return cf_error_set(err, CF_E_LIMIT,
			    "master key path too long");
		return CF_OK;
	}
	/* SEC: by default the key lives outside the data directory, so a
	 * copy of the directory (a snapshot, a backup) holds no key. */
	rc = dd_id(dir, create, id, err);
	if (rc != CF_OK)
		return rc;
	base = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	if (base != NULL && *base == '/')
		n = snprintf(out, outsz, "%s/coffer/keys/%s.key", base, id);
	else if (home != NULL && *home == '/')
		n = snprintf(out, outsz, "%s/.config/coffer/keys/%s.key",
		    home, id);
	else
		return cf_error_set(err, CF_E_INPUT, "neither HOME nor "
		    "XDG_CONFIG_HOME is set: say where the master key is "
		    "(master_key_file or %s)", CF_ENV_MASTER_KEY_FILE);
	if (n < 0 || (size_t)n >= outsz)
		return cf_error_set(err, CF_E_LIMIT,
		    "master key path too long");
	return CF_OK;
}

cf_err
cf_dd_master_key(const char *dir, const char *keyfile, bool create,
    struct cf_key **out, bool *created, char *path, size_t pathsz,
    struct cf_error *err)
{
	char	kr[4096];
	bool	managed;
	cf_err	rc;

	if (created != NULL)
		*created = false;
	rc = cf_dd_master_key_path(dir, keyfile, create, path, pathsz,
	    &managed, err);
	if (rc != CF_OK)
		return rc;
	/* A master key rotation a crash interrupted: finished or rolled
	 * back before the key is read. */
	rc = cf_dd_rotate_recover(dir, path, err);
	if (rc != CF_OK)
		return rc;
	if (managed || access(path, F_OK) == 0 || errno != ENOENT)
		return cf_master_key_load(path, out, err);
	/* SEC: never make a new master key for a directory that already has
	 * a keyring: the old key is missing, and a new one would only hide
	 * that (and mislead as "tampered"). */
	rc = cf_dd_path(dir, CF_DD_KEYRING, kr, sizeof(kr), err);
	if (rc != CF_OK)
		return rc;
	if (access(kr, F_OK) == 0)
		return cf_error_set(err, CF_E_NOTFOUND, "master key %s is "
		    "missing but %s exists: restore the master key there (or "
		    "say where it is: master_key_file or %s)", path, kr,
		    CF_ENV_MASTER_KEY_FILE);
	if (!create)
		return cf_error_set(err, CF_E_NOTFOUND, "no master key at %s "
		    "(set %s?)", path, CF_ENV_MASTER_KEY_FILE);
	rc = mkdir_parents(path, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_master_key_create(path, out, err);
	if (rc == CF_OK && created != NULL)
		*created = true;
	return rc;
}

/* The files a master key rotation writes beside their targets (*.new);
 * the master key file's own .new is the marker of an uncommitted one. */
static const char *const rot_files[] = {
	CF_DD_KEYRING, CF_DD_CARRY, CF_DD_TLS_KEY
};
#define ROT_NFILES	(sizeof(rot_files) / sizeof(rot_files[0]))

static cf_err
rot_path(const char *base, const char *name, char *out, size_t outsz,
    struct cf_error *err)
{
	int	n;

	n = name != NULL ? snprintf(out, outsz, "%s/%s.new", base, name) :
	    snprintf(out, outsz, "%s.new", base);
	if (n < 0 || (size_t)n >= outsz)
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	return CF_OK;
}

static cf_err
fsync_parent(const char *path, struct cf_error *err)
{
	char	dir[4096], *s;
	int	fd;

	if (cf_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	s = strrchr(dir, '/');
	if (s == NULL)
		(void)cf_strlcpy(dir, ".", sizeof(dir));
	else if (s == dir)
		s[1] = '\0';
	else
		*s = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		if (fd >= 0)
			(void)close(fd);
		return cf_error_sys(err, CF_E_IO, "fsync %s", dir);
	}
	(void)close(fd);
	return CF_OK;
}

/* Move every DIR/X.new over DIR/X (commit done), or remove them all
 * (roll back). */
static cf_err
rot_finish(const char *dir, bool forward, struct cf_error *err)
{
	char	nw[4096], old[4096];
	size_t	i;
	cf_err	rc;

	for (i = 0; i < ROT_NFILES; i++) {
		if ((rc = rot_path(dir, rot_files[i], nw, sizeof(nw), err)) !=
		    CF_OK || (rc = cf_dd_path(dir, rot_files[i], old,
		    sizeof(old), err)) != CF_OK)
			return rc;
		if (access(nw, F_OK) != 0)
			continue;
		if (forward ? rename(nw, old) != 0 : unlink(nw) != 0)
			return cf_error_sys(err, CF_E_IO, "master key "
			    "rotation: %s %s", forward ? "rename" : "remove",
			    nw);
		if ((rc = fsync_parent(old, err)) != CF_OK)
			return rc;
	}
	return CF_OK;
}

static cf_err	rot_recover_locked(const char *dir, const char *nk,
		    struct cf_error *err);

/* Whether a rotation may be running now: some process (a rotate-master,
 * or a server) holds the audit log's lock.  *fd keeps the lock taken
 * here (-1: none) until the caller closes it. */
static bool
rot_busy(const char *dir, int *fd)
{
	struct cf_error	e = { 0 };
	char		path[4096];

	*fd = -1;
	if (cf_dd_path(dir, CF_DD_AUDIT "/audit.log", path, sizeof(path),
	    &e) != CF_OK)
		return false;
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return false;
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return false;
	(void)close(*fd);
	*fd = -1;
	return true;
}

cf_err
cf_dd_rotate_recover(const char *dir, const char *keypath,
    struct cf_error *err)
{
	char	nk[4096];
	int	lockfd;
	cf_err	rc;

	if ((rc = rot_path(keypath, NULL, nk, sizeof(nk), err)) != CF_OK)
		return rc;
	/* SEC: the .new files of a rotation that is running now (it holds
	 * the audit log's lock) are not a crash's: leave them. */
	if (rot_busy(dir, &lockfd))
		return CF_OK;
	rc = rot_recover_locked(dir, nk, err);
	if (lockfd >= 0)
		(void)close(lockfd);	/* releases the flock */
	return rc;
}

static cf_err
rot_recover_locked(const char *dir, const char *nk, struct cf_error *err)
{
	cf_err	rc;

	if (access(nk, F_OK) == 0) {
		/* Not committed: the old master key still rules. */
		if ((rc = rot_finish(dir, false, err)) != CF_OK)
			return rc;
		if (unlink(nk) != 0)
			return cf_error_sys(err, CF_E_IO, "remove %s", nk);
		return fsync_parent(nk, err);
	}
	return rot_finish(dir, true, err);
}

cf_err
cf_dd_derived_keys(const char *dir, const struct cf_key *master,
    struct cf_key **audit, struct cf_key **erase, struct cf_error *err)
{
	char	path[4096];
	cf_err	rc;

	*audit = *erase = NULL;
	if ((rc = cf_dd_path(dir, CF_DD_CARRY, path, sizeof(path), err)) !=
	    CF_OK)
		return rc;
	if (access(path, F_OK) == 0)
		return cf_carry_read(path, master, audit, erase, err);
	rc = cf_key_derive(master, CF_LABEL_AUDIT, audit, err);
	if (rc == CF_OK)
		rc = cf_key_derive(master, CF_LABEL_ERASURE, erase, err);
	if (rc != CF_OK) {
		cf_key_free(*audit);
		*audit = NULL;
	}
	return rc;
}

static void
rot_crash(const char *point)
{
	const char	*env = cf_test_hook("COFFER_TEST_CRASH");

	if (env != NULL && strcmp(env, point) == 0)
		_exit(86);	/* CORE_CRASH_STATUS */
}

cf_err
cf_dd_master_rotate(const char *dir, const char *keyfile, const char *pw,
    const char *principal, struct cf_error *err)
{
	struct cf_key	*old = NULL, *nw = NULL, *audit = NULL, *erase = NULL;
	struct cf_audit	*au = NULL;
	struct cf_audit_rec rec;
	struct cf_error	 aerr = { 0 };
	char		 kpath[4096], nk[4096], src[4096], dst[4096];
	char		 cert[4096];
	uint64_t	 seq;
	bool		 managed;
	cf_err		 rc;

	nk[0] = '\0';
	rc = cf_dd_master_key_path(dir, keyfile, false, kpath, sizeof(kpath),
	    &managed, err);
	if (rc != CF_OK)
		return rc;
	if (cf_master_key_sealed(kpath) && pw == NULL)
		return cf_error_set(err, CF_E_AUTH, "%s is sealed with a "
		    "passphrase: give it", kpath);
	rc = cf_dd_master_key(dir, keyfile, false, &old, NULL, kpath,
	    sizeof(kpath), err);
	if (rc == CF_OK)
		rc = cf_dd_derived_keys(dir, old, &audit, &erase, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: the server holds the audit log's lock while it runs; taking
	 * it here is how a running server is refused. */
	rc = cf_audit_open(dir, audit, &au, err);
	if (rc == CF_E_CONFLICT) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_CONFLICT, "the server is running "
		    "on %s (its audit log is locked): stop it first", dir);
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	if ((rc = cf_key_new_random(&nw, err)) != CF_OK)
		goto out;
	/* 1. The new master key beside the old one: while it is there the
	 * rotation is not committed, and recovery rolls it back. */
	if ((rc = rot_path(kpath, NULL, nk, sizeof(nk), err)) != CF_OK)
		goto out;
	/* SEC: a sealed key's successor is sealed with the same
	 * passphrase: the new key is never on disk in the clear. */
	rc = cf_master_key_sealed(kpath) ? cf_master_key_seal(nk, nw, pw,
	    strlen(pw), err) : cf_master_key_write(nk, nw, err);
	if (rc != CF_OK)
		goto out;
	/* 2. Everything under the new key, as *.new. */
	if ((rc = rot_path(dir, CF_DD_CARRY, dst, sizeof(dst), err)) !=
	    CF_OK || (rc = cf_carry_write(dst, nw, audit, erase, err)) !=
	    CF_OK)
		goto out;
	if ((rc = cf_dd_path(dir, CF_DD_KEYRING, src, sizeof(src), err)) !=
	    CF_OK || (rc = rot_path(dir, CF_DD_KEYRING, dst, sizeof(dst),
	    err)) != CF_OK)
		goto out;
	if (access(src, F_OK) == 0 && (rc = cf_keyring_reseal_file(src, dst,
	    old, nw, err)) != CF_OK)
		goto out;
	rot_crash("rotate_master_prepared");
	if ((rc = cf_dd_path(dir, CF_DD_TLS_KEY, src, sizeof(src), err)) !=
	    CF_OK || (rc = cf_dd_path(dir, CF_DD_TLS_CERT, cert,
	    sizeof(cert), err)) != CF_OK || (rc = rot_path(dir,
	    CF_DD_TLS_KEY, dst, sizeof(dst), err)) != CF_OK)
		goto out;
	if (access(src, F_OK) == 0 && (rc = cf_tls_key_reseal(cert, src, old,
	    nw, dst, err)) != CF_OK)
		goto out;
	/* 3. The commit point: the new master key file replaces the old. */
	if (rename(nk, kpath) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "rename %s", nk);
		goto out;
	}
	if ((rc = fsync_parent(kpath, err)) != CF_OK)
		goto out;
	rot_crash("rotate_master_committed");
	/* 4. Roll forward (the next start does it too after a crash). */
	if ((rc = rot_finish(dir, true, err)) != CF_OK)
		goto out;
	memset(&rec, 0, sizeof(rec));
	rec.principal = principal;
	rec.authn = "local";
	rec.source = "offline";
	rec.action = "key:rotate-master";
	rec.resource = "keys/master";
	rec.decision = "allow";
	rec.reasons = "offline";
	rec.status = 200;
	rec.result = "ok";
	rc = cf_audit_append(au, &rec, &seq, err);
out:
	cf_audit_close(au);	/* its lock first: recovery takes it */
	if (rc != CF_OK && nk[0] != '\0' && access(nk, F_OK) == 0)
		/* Not committed: undo now rather than at the next start. */
		(void)cf_dd_rotate_recover(dir, kpath, &aerr);
	cf_key_free(old);
	cf_key_free(nw);
	cf_key_free(audit);
	cf_key_free(erase);
	return rc;
}
