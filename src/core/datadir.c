/* src/core/datadir.c: data directory paths and the master key; see
 * datadir.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "core/datadir.h"
#include "crypto/keyring.h"

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
