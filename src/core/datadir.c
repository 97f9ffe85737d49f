/* src/core/datadir.c: data directory paths and the master key; see
 * datadir.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

cf_err
cf_dd_master_key(const char *dir, bool create, struct cf_key **out,
    bool *created, struct cf_error *err)
{
	char		 path[4096];
	const char	*env;
	cf_err		 rc;

	if (created != NULL)
		*created = false;
	env = getenv(CF_ENV_MASTER_KEY_FILE);
	if (env != NULL && *env != '\0') {
		/* An operator-managed key is never created by us. */
		return cf_master_key_load(env, out, err);
	}
	rc = cf_dd_path(dir, CF_DD_MASTER_KEY, path, sizeof(path), err);
	if (rc != CF_OK)
		return rc;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		char	kr[4096];

		/* SEC: never make a new master key for a directory that
		 * already has a keyring: the old key is missing, and a new
		 * one would only hide that (and mislead as "tampered"). */
		rc = cf_dd_path(dir, CF_DD_KEYRING, kr, sizeof(kr), err);
		if (rc != CF_OK)
			return rc;
		if (access(kr, F_OK) == 0)
			return cf_error_set(err, CF_E_NOTFOUND,
			    "master key %s is missing but %s exists: restore "
			    "the master key (or set %s)", path, kr,
			    CF_ENV_MASTER_KEY_FILE);
		if (!create)
			return cf_error_set(err, CF_E_NOTFOUND,
			    "no master key at %s (set %s?)", path,
			    CF_ENV_MASTER_KEY_FILE);
		rc = cf_master_key_create(path, out, err);
		if (rc == CF_OK && created != NULL)
			*created = true;
		return rc;
	}
	return cf_master_key_load(path, out, err);
}
