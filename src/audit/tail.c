/* src/audit/tail.c: reading the log file: a bounded line reader, and
 * backward scans that find the last lines without reading a (possibly
 * multi-GB) log from the start. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit_int.h"
#include "base/mem.h"

#define CHUNK	(64 * 1024)

cf_err
cf_audit_lr_init(struct audit_lr *lr, int fd, off_t off, struct cf_error *err)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->off = off;
	lr->cap = AUDIT_LINE_MAX + CHUNK;
	lr->buf = cf_malloc(lr->cap);
	if (lr->buf == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

void
cf_audit_lr_free(struct audit_lr *lr)
{
	if (lr == NULL)
		return;
	CF_FREE(lr->buf);
}

cf_err
cf_audit_lr_next(struct audit_lr *lr, const char **line, size_t *len,
    bool *nl, struct cf_error *err)
{
	char	*p;
	ssize_t	 n;
	size_t	 scanned = 0;

	for (;;) {
		p = memchr(lr->buf + lr->pos + scanned, '\n',
		    lr->len - lr->pos - scanned);
		if (p != NULL) {
			*line = lr->buf + lr->pos;
			*len = (size_t)(p - *line);
			*nl = true;
			lr->pos += *len + 1;
			if (*len > AUDIT_LINE_MAX)
				return cf_error_set(err, CF_E_INPUT,
				    "line of %zu bytes is too long", *len);
			return CF_OK;
		}
		scanned = lr->len - lr->pos;
		/* Checked before the end of file, so that the result does
		 * not depend on how the reads were cut. */
		if (scanned > AUDIT_LINE_MAX)
			return cf_error_set(err, CF_E_INPUT,
			    "line of more than %d bytes is too long",
			    AUDIT_LINE_MAX);
		if (lr->eof) {
			*line = NULL;
			*len = 0;
			*nl = false;
			if (scanned == 0)
				return CF_OK;
			*line = lr->buf + lr->pos;
			*len = scanned;
			lr->pos = lr->len;
			return CF_OK;
		}
		if (lr->pos > 0) {
			memmove(lr->buf, lr->buf + lr->pos, scanned);
			lr->len = scanned;
			lr->pos = 0;
		}
		n = pread(lr->fd, lr->buf + lr->len, lr->cap - lr->len,
		    lr->off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return cf_error_sys(err, CF_E_IO, "read audit log");
		}
		if (n == 0)
			lr->eof = true;
		lr->len += (size_t)n;
		lr->off += n;
	}
}

cf_err
cf_audit_find_end(int fd, off_t size, off_t *end, struct cf_error *err)
{
	char	buf[4096];
	off_t	pos = size, from;
	ssize_t	n, i;

	while (pos > 0) {
		from = pos > (off_t)sizeof(buf) ? pos - (off_t)sizeof(buf) : 0;
		n = pread(fd, buf, (size_t)(pos - from), from);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != pos - from)
			return cf_error_sys(err, CF_E_IO,
			    "read audit log tail");
		for (i = n - 1; i >= 0; i--) {
			if (buf[i] == '\n') {
				*end = from + i + 1;
				return CF_OK;
			}
		}
		pos = from;
	}
	*end = 0;
	return CF_OK;
}

cf_err
cf_audit_find_start(int fd, off_t end, size_t n, off_t *start,
    struct cf_error *err)
{
	char	*buf = NULL;
	off_t	 pos, from;
	ssize_t	 got, i;
	size_t	 seen = 0;
	cf_err	 rc = CF_OK;

	if (end == 0 || n == 0) {
		*start = end;
		return CF_OK;
	}
	buf = cf_malloc(CHUNK);
	if (buf == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	/* Count newlines backwards; the byte at end - 1 is the newline of
	 * the last line, so the n-th line starts after the (n+1)-th. */
	pos = end;
	while (pos > 0) {
		from = pos > CHUNK ? pos - CHUNK : 0;
		got = pread(fd, buf, (size_t)(pos - from), from);
		if (got == -1 && errno == EINTR)
			continue;
		if (got != pos - from) {
			rc = cf_error_sys(err, CF_E_IO, "read audit log tail");
			goto out;
		}
		for (i = got - 1; i >= 0; i--) {
			if (buf[i] != '\n')
				continue;
			if (seen++ == n) {
				*start = from + i + 1;
				goto out;
			}
		}
		pos = from;
	}
	*start = 0;
out:
	cf_free(buf);
	return rc;
}

/* Read a small file whole; *p is NULL (and CF_OK) if it does not exist. */
cf_err
cf_audit_read_small(int dirfd, const char *name, size_t max, char **p,
    size_t *len, struct cf_error *err)
{
	char	*buf = NULL;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd = -1;
	cf_err	 rc = CF_OK;

	*p = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			rc = cf_error_sys(err, CF_E_IO, "open %s", name);
		goto out;
	}
	/* One byte more than allowed, so an oversized file is seen. */
	buf = cf_malloc(max + 2);
	if (buf == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	while (got < max + 1) {
		n = read(fd, buf + got, max + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = cf_error_sys(err, CF_E_IO, "read %s", name);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*p = buf;
	*len = got;
	buf = NULL;
out:
	if (fd != -1)
		(void)close(fd);
	cf_free(buf);
	return rc;
}
