/* src/audit/read.c: cf_audit_read, for GET /v1/audit and `coffer audit
 * tail`.  Reading does not verify MACs (that is cf_audit_verify); it may
 * run while the server appends: a final line still being written is not
 * returned.  Neither mode reads the log from the start: tail scans
 * backwards, after= bisects on the seq at line starts. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/audit_int.h"
#include "base/mem.h"
#include "base/str.h"

#define BISECT_MIN	(64 * 1024)

/* First line start at or after from (0 < from <= end), or end. */
static cf_err
next_line_start(int fd, off_t from, off_t end, off_t *s, struct cf_error *err)
{
	char		 buf[4096];
	const char	*nl;
	off_t		 pos = from - 1;
	ssize_t		 n;

	while (pos < end) {
		n = pread(fd, buf, (size_t)(end - pos < (off_t)sizeof(buf) ?
		    end - pos : (off_t)sizeof(buf)), pos);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return cf_error_sys(err, CF_E_IO, "read audit.log");
		nl = memchr(buf, '\n', (size_t)n);
		if (nl != NULL) {
			*s = pos + (nl - buf) + 1;
			return CF_OK;
		}
		pos += n;
	}
	*s = end;
	return CF_OK;
}

/* The seq of the record starting at off, from its `{"seq":N,` prefix. */
static bool
seq_at(int fd, off_t off, uint64_t *seq)
{
	static const char	 pre[] = "{\"seq\":";
	char			 buf[48], *comma;
	ssize_t			 n;

	do
		n = pread(fd, buf, sizeof(buf) - 1, off);
	while (n == -1 && errno == EINTR);
	if (n < (ssize_t)sizeof(pre))
		return false;
	buf[n] = '\0';
	if (memcmp(buf, pre, sizeof(pre) - 1) != 0)
		return false;
	comma = strchr(buf + sizeof(pre) - 1, ',');
	if (comma == NULL)
		return false;
	*comma = '\0';
	return cf_parse_u64(buf + sizeof(pre) - 1, 1, INT64_MAX, seq, NULL) ==
	    CF_OK;
}

/* A line start at or before the first record with seq > after. */
static cf_err
seek_after(int fd, off_t end, uint64_t after, off_t *out,
    struct cf_error *err)
{
	off_t		lo = 0, hi = end, mid, s = 0;
	uint64_t	q;
	cf_err		rc;

	/* Invariant: lo is 0 or starts a record with seq <= after. */
	while (after > 0 && hi - lo > BISECT_MIN) {
		mid = lo + (hi - lo) / 2;
		rc = next_line_start(fd, mid, hi, &s, err);
		if (rc != CF_OK)
			return rc;
		if (s >= hi) {
			hi = mid;
			continue;
		}
		if (!seq_at(fd, s, &q))
			break;		/* damaged: scan from lo */
		if (q <= after)
			lo = s;
		else
			hi = s;
	}
	*out = lo;
	return CF_OK;
}

cf_err
cf_audit_read(const char *dir, uint64_t after_seq, size_t limit,
    size_t tail, cf_audit_cb cb, void *arg, struct cf_error *err)
{
	struct audit_lr	 lr;
	struct stat	 st;
	json_t		*o = NULL;
	json_error_t	 jerr;
	char		 path[4096];
	const char	*line;
	size_t		 len, count = 0;
	uint64_t	 seq, lineno = 0;
	off_t		 end, start;
	bool		 nl;
	int		 fd = -1;
	cf_err		 rc;

	memset(&lr, 0, sizeof(lr));
	if (dir == NULL || cb == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit read: bad args");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", dir, AUDIT_DIR,
	    AUDIT_LOG) >= sizeof(path))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		rc = cf_error_sys(err, errno == ENOENT ? CF_E_NOTFOUND :
		    CF_E_IO, "open %s", path);
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "stat %s", path);
		goto out;
	}
	rc = cf_audit_find_end(fd, st.st_size, &end, err);
	if (rc != CF_OK)
		goto out;
	if (tail > 0)
		rc = cf_audit_find_start(fd, end, tail, &start, err);
	else
		rc = seek_after(fd, end, after_seq, &start, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_audit_lr_init(&lr, fd, start, err);
	if (rc != CF_OK)
		goto out;
	for (;;) {
		rc = cf_audit_lr_next(&lr, &line, &len, &nl, err);
		/* Stop at a line still being written. */
		if (rc != CF_OK || line == NULL || !nl)
			break;
		lineno++;
		o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (o == NULL || !json_is_integer(json_object_get(o, "seq"))) {
			rc = cf_error_set(err, CF_E_INPUT, "audit.log: line %"
			    PRIu64 " after offset %jd is not a record (run "
			    "coffer audit verify)", lineno, (intmax_t)start);
			break;
		}
		seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
		if (tail == 0 && seq <= after_seq) {
			json_decref(o);
			o = NULL;
			continue;
		}
		rc = cb(arg, o, err);
		json_decref(o);
		o = NULL;
		if (rc != CF_OK)
			break;
		count++;
		/* tail counts by itself: limit pages after= reads only. */
		if ((tail == 0 && limit > 0 && count >= limit) ||
		    (tail > 0 && count >= tail))
			break;
	}
out:
	json_decref(o);
	cf_audit_lr_free(&lr);
	if (fd != -1)
		(void)close(fd);
	return rc;
}
