/* src/crypto/fileio.c: atomic, durable writes and bounded reads of the
 * small files crypto/ owns (master key, keyring, TLS cert and key); see
 * internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/internal.h"

static cf_err
write_all(int fd, const void *vp, size_t len, const char *path,
    struct cf_error *err)
{
	const uint8_t	*p = vp;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cf_error_sys(err, CF_E_IO, "write %s", path);
		p += n;
		len -= (size_t)n;
	}
	return CF_OK;
}

/* fsync the directory holding path, so a rename or link survives a crash. */
static cf_err
fsync_parent(const char *path, struct cf_error *err)
{
	char	buf[PATH_MAX];
	char	*dir;
	int	fd;

	if (cf_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return cf_error_set(err, CF_E_INPUT, "path too long");
	dir = dirname(buf);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cf_error_sys(err, CF_E_IO, "open directory of %s",
		    path);
	if (fsync(fd) != 0 && errno != EINVAL) {
		(void)close(fd);
		return cf_error_sys(err, CF_E_IO, "fsync directory of %s",
		    path);
	}
	(void)close(fd);
	return CF_OK;
}

cf_err
cf_file_write_atomic(const char *path, const void *p, size_t len,
    unsigned int mode, bool replace, struct cf_error *err)
{
	char	tmp[PATH_MAX];
	int	fd;
	cf_err	rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp))
		return cf_error_set(err, CF_E_INPUT, "path too long");
	/* mkstemp creates the file 0600; fchmod sets the final mode before
	 * any byte is written, whatever the umask. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return cf_error_sys(err, CF_E_IO, "create %s", tmp);
	if (fchmod(fd, (mode_t)mode) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "chmod %s", tmp);
		goto fail;
	}
	if ((rc = write_all(fd, p, len, tmp, err)) != CF_OK)
		goto fail;
	if (fsync(fd) != 0) {
		rc = cf_error_sys(err, CF_E_IO, "fsync %s", tmp);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = cf_error_sys(err, CF_E_IO, "close %s", tmp);
		goto fail;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp, path) != 0) {
			rc = cf_error_sys(err, CF_E_IO, "rename to %s", path);
			goto fail;
		}
	} else {
		/* link() never replaces: two creators cannot both win.  On
		 * a file system without hard links, renameat2(NOREPLACE). */
		if (link(tmp, path) == 0)
			(void)unlink(tmp);
		else if (errno == EEXIST || (errno != EPERM &&
		    errno != EOPNOTSUPP) || renameat2(AT_FDCWD, tmp, AT_FDCWD,
		    path, RENAME_NOREPLACE) != 0) {
			if (errno == EEXIST)
				rc = cf_error_set(err, CF_E_CONFLICT,
				    "%s exists already", path);
			else
				rc = cf_error_sys(err, CF_E_IO, "create %s",
				    path);
			goto fail;
		}
	}
	return fsync_parent(path, err);
fail:
	if (fd >= 0)
		(void)close(fd);
	(void)unlink(tmp);
	return rc;
}

cf_err
cf_file_read(const char *path, size_t max, char **out, size_t *len,
    struct cf_error *err)
{
	struct stat	 st;
	char		*buf;
	size_t		 size, got = 0;
	ssize_t		 n;
	int		 fd;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return cf_error_set(err, CF_E_NOTFOUND,
			    "%s does not exist", path);
		return cf_error_sys(err, CF_E_IO, "open %s", path);
	}
	if (fstat(fd, &st) != 0) {
		(void)close(fd);
		return cf_error_sys(err, CF_E_IO, "stat %s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		return cf_error_set(err, CF_E_INPUT, "%s is not a regular file",
		    path);
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		(void)close(fd);
		return cf_error_set(err, CF_E_LIMIT,
		    "%s is larger than %zu bytes", path, max);
	}
	size = (size_t)st.st_size;
	if ((buf = cf_malloc(size + 1)) == NULL) {
		(void)close(fd);
		return cf_error_set(err, CF_E_NOMEM, "read %s: out of memory",
		    path);
	}
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cf_err rc = cf_error_sys(err, CF_E_IO, "read %s", path);

			(void)close(fd);
			cf_file_free_secret(buf, size);
			return rc;
		}
		if (n == 0)
			break;	/* shrank meanwhile: take what is there */
		got += (size_t)n;
	}
	(void)close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return CF_OK;
}

void
cf_file_free_secret(char *p, size_t len)
{
	if (p == NULL)
		return;
	cf_wipe(p, len + 1);
	cf_free(p);
}
