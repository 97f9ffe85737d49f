/* src/client/xfer.c: uploading a file and downloading into a file.
 *
 * Upload reads the source once, from its current offset to its end,
 * hashing it while it is sent; the digest ends the body and the server
 * refuses a body that does not match it and stores nothing (http.c).  A
 * regular file is sent with its length known, a pipe chunked.
 *
 * Download writes into a temporary file in the target directory and
 * renames it over the target only once the body is complete and matches
 * X-Coffer-SHA256, so a reader never sees a partial or unverified file. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client_int.h"
#include "crypto/crypto.h"

cf_err
cf_cli_put_fd(struct cf_http *h, const char *ns, const char *key, int fd,
    const char *name, const char *ctype, const char *const *meta,
    bool one_pass, json_t **out, struct cf_error *err)
{
	struct cf_buf	 url;
	struct stat	 st;
	off_t		 off;
	int64_t		 size = -1;
	cf_err		 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	if (fstat(fd, &st) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "cannot stat %s", name);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = cf_error_set(err, CF_E_INPUT, "%s is a directory (use "
		    "coffer push for directories)", name);
		goto out;
	}
	rc = cf_cli_obj_path(&url, ns, "objects", key, err);
	if (rc != CF_OK)
		goto out;
	/* One pass: hashed while sent, the digest sent as a trailer and
	 * checked by the server before it commits; a regular file that
	 * changes meanwhile aborts the upload (http.c, read_digest).
	 * --one-pass, which used to select this, is now the only way. */
	(void)one_pass;
	/* What is sent is what a read would return: from the current offset
	 * to the end.  Standard input may be a file that was partly read
	 * already ("(head -c 10; coffer put ns/k -) <file").  An offset we
	 * cannot learn leaves the size unknown: chunked, like a pipe. */
	if (S_ISREG(st.st_mode)) {
		off = lseek(fd, 0, SEEK_CUR);
		if (off != -1)
			size = off < st.st_size ? (int64_t)(st.st_size - off) :
			    0;
	}
	rc = cf_http_put_fd(h, url.data, fd, size, NULL, ctype, meta, key,
	    out, err);
out:
	cf_buf_free(&url);
	return rc;
}

cf_err
cf_cli_put_file(struct cf_http *h, const char *ns, const char *key,
    const char *path, const char *ctype, const char *const *meta,
    bool one_pass, json_t **out, struct cf_error *err)
{
	int	fd;
	cf_err	rc;

	if (strcmp(path, "-") == 0)
		return cf_cli_put_fd(h, ns, key, STDIN_FILENO, "stdin", ctype,
		    meta, one_pass, out, err);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return cf_error_sys(err, errno == ENOENT || errno == ENOTDIR ?
		    CF_E_NOTFOUND : CF_E_IO, "cannot open %s", path);
	rc = cf_cli_put_fd(h, ns, key, fd, path, ctype, meta, one_pass, out,
	    err);
	(void)close(fd);
	return rc;
}

static mode_t
file_mode(void)
{
	mode_t	m;

	m = umask(0);
	(void)umask(m);
	return 0666 & ~m;
}

cf_err
cf_cli_get_to_file(struct cf_http *h, const char *ns, const char *key,
    const char *vid, int dirfd, const char *name, const char *label,
    struct cf_obj_info *info, struct cf_error *err)
{
	struct cf_buf	 url;
	uint8_t		 rnd[8];
	char		 tmp[300], rhex[17];
	int		 fd = -1;
	bool		 made = false;
	cf_err		 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	rc = cf_cli_obj_path(&url, ns, "objects", key, err);
	if (rc == CF_OK && vid != NULL) {
		rc = cf_buf_append_str(&url, "?version=", err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, vid, false, err);
	}
	if (rc != CF_OK)
		goto out;
	rc = cf_random(rnd, sizeof(rnd), err);
	if (rc != CF_OK)
		goto out;
	cf_hex_encode(rnd, sizeof(rnd), rhex);
	/* Hidden, unique, short enough for NAME_MAX whatever name is. */
	(void)snprintf(tmp, sizeof(tmp), ".%.200s.coffer-%s", name, rhex);
	/* SEC: O_EXCL|O_NOFOLLOW: never write through a planted link; the
	 * file stays 0600 until it is verified. */
	fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "cannot create a temporary "
		    "file for %s", name);
		goto out;
	}
	made = true;
	rc = cf_http_get_fd(h, url.data, fd, label, info, err);
	if (rc != CF_OK)
		goto out;
	if (fchmod(fd, file_mode()) == -1 || fdatasync(fd) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "cannot write %s", name);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = cf_error_sys(err, CF_E_IO, "cannot write %s", name);
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "cannot rename to %s", name);
		goto out;
	}
	made = false;
out:
	if (fd != -1)
		(void)close(fd);
	if (made)
		(void)unlinkat(dirfd, tmp, 0);
	cf_buf_free(&url);
	return rc;
}
