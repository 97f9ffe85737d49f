/* src/store/blob_fs.c: the filesystem blob store (blob.h).
 *
 *   DIR/blobs/<first 2 hex>/<32 hex id>	committed blobs, 0600
 *   DIR/blobs/tmp/<32 hex>.tmp		blobs being written
 *   DIR/blobs/.lock			flock: shared while a store is open
 *
 * A writer owns page-aligned buffers of BUF_SIZE bytes from the server's
 * memory budget (base/membudget.h: idle ones are reused), and writes
 * whole buffers with O_DIRECT where the filesystem allows it.  Once a
 * blob outgrows one buffer, the writer starts its own I/O thread and a
 * second buffer: the thread writes one full buffer while the caller fills
 * the other, so receiving, hashing and encrypting overlap the disk
 * instead of waiting for it.  An error of the thread is reported by the
 * next write or the commit.  A long upload therefore neither grows the
 * page cache nor keeps touching fresh memory (memory given back to the
 * host costs 0.4-0.8 GB/s to fault in again).  Where O_DIRECT is refused
 * (tmpfs, some network filesystems) writes are buffered and each written
 * range is pushed out with sync_file_range and dropped with
 * posix_fadvise(DONTNEED), which bounds the page cache the same way.
 *
 * The buffers are a speed-up, never a condition: when the budget has no
 * room for the first, the writer has none and writes what it is given
 * straight through the page cache (bounded as above, every WB_STEP
 * bytes); without room for the second it stays serial.  So an upload in
 * flight costs at most two buffers, and all uploads together no more
 * than the budget allows.
 *
 * Small buffers make small direct writes, and at one write in flight the
 * disk is slower with them (a 1 GiB CompleteMultipartUpload: 5.7 s with
 * 256 KiB, 4.4 s with 4 MiB).  So a writer past BIG_AFTER bytes (a long
 * upload, a Complete) swaps its buffers for BIG_SIZE ones, one by one as
 * each comes free, when the budget is mostly idle
 * (cf_membudget_buf_get_spare): few transfers at once get the speed,
 * many get the small buffers and memory stays flat.
 *
 * Commit = write the tail, fsync, rename into place (never replacing),
 * fsync the target directory.  Until the rename nothing is visible under
 * the id; a crash leaves at most a temporary file, removed at the next
 * open.  Details: docs/internals/STORE.md. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/membudget.h"
#include "base/str.h"
#include "base/worker.h"
#include "crypto/crypto.h"
#include "store/blob.h"
#include "store/store_int.h"

#define BUF_SIZE	(256u * 1024)	/* a writer's buffer (two with its
					 * thread): bench/README.md, "Server
					 * RSS during parallel multipart
					 * uploads" */
#define BUF_ALIGN	4096u		/* O_DIRECT: covers 512 and 4K
					 * sectors */
#define WB_STEP		(1u << 20)	/* unbuffered writer: writeback
					 * every this many bytes */
#define BIG_SIZE	(4u << 20)	/* a long blob's spare buffers */
#define BIG_AFTER	(16u << 20)	/* bytes before a writer asks for
					 * them (an 8 MiB part never does) */
#define SEQ_BLOCK	(1u << 20)	/* a sequential reader's block when
					 * the budget is mostly idle: direct
					 * reads of 1 MiB ran as fast as of 4
					 * (650-700 MB/s, dd) */
#define SEQ_SMALL	(256u * 1024)	/* its block otherwise */
#define READAHEAD_MIN	(256 * 1024)	/* smaller blobs: no fadvise */
#define TMP_SUFFIX	".tmp"
#define TMPNAME_LEN	(CF_BLOB_ID_LEN + sizeof(TMP_SUFFIX))	/* + NUL */
#define RELPATH_LEN	(3 + CF_BLOB_ID_LEN + 1)	/* "ab/" id NUL */

struct cf_blobstore {
	char		*root;		/* DIR/blobs, for messages */
	int		 dfd;		/* DIR/blobs */
	int		 tfd;		/* DIR/blobs/tmp */
	int		 lockfd;	/* DIR/blobs/.lock */
	struct cf_membudget *mb;	/* buffers; NULL: unbounded */
};

struct cf_blob_writer {
	struct cf_blobstore	*bs;
	int			 fd;		/* -1 once closed */
	bool			 direct;	/* fd has O_DIRECT */
	uint8_t			*buf;		/* NULL: unbuffered */
	size_t			 cap;		/* of buf */
	size_t			 fill;
	/* The I/O thread and its second buffer.  While it has a job the
	 * thread alone uses fd, off, direct, started and dropped; the
	 * caller waits for it before touching them. */
	struct cf_worker	*io;
	bool			 io_failed;	/* could not start:
						 * stay serial */
	uint8_t			*buf2;
	size_t			 cap2;		/* of buf2 */
	uint64_t		 given;		/* bytes written to w */
	uint64_t		 off;		/* bytes in the file */
	uint64_t		 started;	/* buffered: writeback begun */
	uint64_t		 dropped;	/* buffered: evicted up to */
	cf_err			 failed;	/* sticky: CF_OK while
						 * healthy */
	char			 id[CF_BLOB_ID_LEN + 1];
	char			 tmpname[TMPNAME_LEN];
};

struct cf_blob_reader {
	int			 fd;		/* -1: mem holds it all */
	uint64_t		 size;
	/* A small blob read whole (cf_blob_open_whole): size bytes of
	 * ciphertext (the opener authenticates it: freed unwiped). */
	uint8_t			*mem;
	/* A sequential reader (cf_blob_open_seq) serves reads from two
	 * aligned blocks of SEQ_BLOCK: blk[cur] is being read from; the I/O
	 * thread fills blk[!cur] with the next block meanwhile.  While a
	 * job is in flight (ahead) the thread alone touches blk[!cur]. */
	bool			 seq;		/* false: plain pread */
	bool			 direct;	/* fd has O_DIRECT */
	struct cf_worker	*io;		/* NULL: reads stay here */
	bool			 ahead;		/* a job is in flight */
	uint64_t		 ahead_at;	/* the block it reads */
	int			 cur;
	struct cf_blobstore	*bs;		/* its budget */
	size_t			 bsz;		/* block size */
	struct {
		uint8_t		*p;		/* page aligned */
		uint64_t	 at;		/* offset held; NO_BLOCK */
		size_t		 len;
	}			 blk[2];
};
#define NO_BLOCK	UINT64_MAX

/* --- test hooks (store_int.h) --- */

static unsigned int	fault_after[CF_BLOB_FAULT__COUNT];
static int		fault_errno[CF_BLOB_FAULT__COUNT];
static bool		no_direct;

void
cf_blob_test_fail_io(enum cf_blob_fault op, unsigned int after, int errnum)
{
	if ((unsigned int)op >= CF_BLOB_FAULT__COUNT)
		return;
	fault_after[op] = after;
	fault_errno[op] = errnum;
}

void
cf_blob_test_reset_faults(void)
{
	memset(fault_after, 0, sizeof(fault_after));
}

void
cf_blob_test_no_direct(bool on)
{
	no_direct = on;
}

bool
cf_blob_writer_direct(const struct cf_blob_writer *w)
{
	return w->direct;
}

size_t
cf_blob_buffer_size(void)
{
	return BUF_SIZE;
}

size_t
cf_blob_block_size(void)
{
	return SEQ_BLOCK;
}

/* True when an injected fault fires now (errno is then set). */
static bool
fault(enum cf_blob_fault op)
{
	if (fault_after[op] == 0)
		return false;
	if (--fault_after[op] != 0)
		return false;
	errno = fault_errno[op];
	return true;
}

/* --- helpers --- */

/* SEC: blob ids are exactly 32 lower-case hex digits.  They are made by
 * the store, never by users, but everything that turns an id into a path
 * checks it first, so no id can name another file. */
static bool
id_valid(const char *id)
{
	size_t	i;

	if (id == NULL)
		return false;
	for (i = 0; i < CF_BLOB_ID_LEN; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	}
	return id[CF_BLOB_ID_LEN] == '\0';
}

static void
relpath(const char *id, char out[RELPATH_LEN])
{
	(void)snprintf(out, RELPATH_LEN, "%.2s/%s", id, id);
}

/* mkdirat that accepts an existing directory; *created tells. */
static cf_err
ensure_dir(int dirfd, const char *name, const char *what, bool *created,
    struct cf_error *err)
{
	*created = false;
	if (mkdirat(dirfd, name, 0700) == 0) {
		*created = true;
		return CF_OK;
	}
	if (errno == EEXIST)
		return CF_OK;
	return cf_error_sys(err, CF_E_IO, "blob: mkdir %s", what);
}

static cf_err
sync_fd(int fd, const char *what, struct cf_error *err)
{
	if (fault(CF_BLOB_FAULT_FSYNC) || fsync(fd) == -1)
		return cf_error_sys(err, CF_E_IO, "blob: fsync %s", what);
	return CF_OK;
}

static void
buf_put(struct cf_blobstore *bs, uint8_t *p, size_t cap)
{
	cf_membudget_buf_put(bs->mb, p, cap);
}

/* A buffer from the budget; NULL when it has no room (or no memory):
 * the writer does without. */
static uint8_t *
buf_get(struct cf_blobstore *bs)
{
	return cf_membudget_buf_get(bs->mb, BUF_SIZE);
}

/* Remove every temporary file left by a crash. */
static cf_err
clean_tmp(struct cf_blobstore *bs, struct cf_error *err)
{
	DIR		*d = NULL;
	struct dirent	*de;
	int		 fd;
	cf_err		 rc = CF_OK;

	fd = dup(bs->tfd);
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "blob: dup");
	d = fdopendir(fd);
	if (d == NULL) {
		rc = cf_error_sys(err, CF_E_IO, "blob: opendir %s/tmp",
		    bs->root);
		(void)close(fd);
		return rc;
	}
	rewinddir(d);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = cf_error_sys(err, CF_E_IO,
				    "blob: readdir %s/tmp", bs->root);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* Not recursive: only our own flat temporary files. */
		if (unlinkat(bs->tfd, de->d_name, 0) == -1 &&
		    errno != ENOENT && errno != EISDIR && errno != EPERM) {
			rc = cf_error_sys(err, CF_E_IO,
			    "blob: unlink stale temporary file");
			break;
		}
	}
	(void)closedir(d);
	return rc;
}

/* --- store --- */

cf_err
cf_blobstore_open(const char *dir, struct cf_blobstore **out,
    struct cf_error *err)
{
	struct cf_blobstore	*bs = NULL;
	int			 top = -1;
	bool			 made = false, made2 = false;
	cf_err			 rc;

	if (dir == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "blob: NULL argument");
	bs = cf_calloc(1, sizeof(*bs));
	if (bs == NULL)
		return cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
	bs->dfd = bs->tfd = bs->lockfd = -1;
	bs->root = cf_malloc(strlen(dir) + sizeof("/blobs"));
	if (bs->root == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
		goto out;
	}
	(void)snprintf(bs->root, strlen(dir) + sizeof("/blobs"), "%s/blobs",
	    dir);

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		rc = cf_error_sys(err, CF_E_IO, "blob: mkdir %s", dir);
		goto out;
	}
	top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: open %s", dir);
		goto out;
	}
	rc = ensure_dir(top, "blobs", bs->root, &made, err);
	if (rc != CF_OK)
		goto out;
	if (made) {
		rc = sync_fd(top, dir, err);
		if (rc != CF_OK)
			goto out;
	}
	bs->dfd = openat(top, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (bs->dfd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: open %s", bs->root);
		goto out;
	}
	rc = ensure_dir(bs->dfd, "tmp", "blobs/tmp", &made2, err);
	if (rc != CF_OK)
		goto out;
	bs->tfd = openat(bs->dfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (bs->tfd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: open %s/tmp", bs->root);
		goto out;
	}
	bs->lockfd = openat(bs->dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (bs->lockfd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: open %s/.lock",
		    bs->root);
		goto out;
	}
	/* Stale temporary files may be removed only when no other store
	 * (in this or another process) has the directory open: theirs may
	 * be uploads in flight.  Each open store holds a shared lock; the
	 * one that gets it exclusively is alone and cleans up. */
	if (flock(bs->lockfd, LOCK_EX | LOCK_NB) == 0) {
		rc = clean_tmp(bs, err);
		if (rc != CF_OK)
			goto out;
	} else if (errno != EWOULDBLOCK) {
		rc = cf_error_sys(err, CF_E_IO, "blob: flock");
		goto out;
	}
	if (flock(bs->lockfd, LOCK_SH) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: flock");
		goto out;
	}
	if (made2) {
		rc = sync_fd(bs->dfd, bs->root, err);
		if (rc != CF_OK)
			goto out;
	}
	*out = bs;
	bs = NULL;
	rc = CF_OK;
out:
	if (top != -1)
		(void)close(top);
	if (bs != NULL) {
		if (bs->lockfd != -1)
			(void)close(bs->lockfd);
		if (bs->tfd != -1)
			(void)close(bs->tfd);
		if (bs->dfd != -1)
			(void)close(bs->dfd);
		cf_free(bs->root);
		cf_free(bs);
	}
	return rc;
}

void
cf_blobstore_set_budget(struct cf_blobstore *bs, struct cf_membudget *mb)
{
	bs->mb = mb;
}

void
cf_blobstore_close(struct cf_blobstore *bs)
{
	if (bs == NULL)
		return;
	(void)close(bs->lockfd);	/* releases the shared lock */
	(void)close(bs->tfd);
	(void)close(bs->dfd);
	cf_free(bs->root);
	cf_free(bs);
}

/* --- writer --- */

static int
tmp_open(struct cf_blobstore *bs, const char *name, bool direct)
{
	int	flags;

	if (fault(CF_BLOB_FAULT_OPEN))
		return -1;
	/* SEC: O_EXCL and O_NOFOLLOW: never reuse or follow an existing
	 * name; 0600: ciphertext is still nobody else's business. */
	flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
	if (direct)
		flags |= O_DIRECT;
	return openat(bs->tfd, name, flags, 0600);
}

/* Stop using O_DIRECT on w->fd (for an unaligned tail or length). */
static cf_err
drop_direct(struct cf_blob_writer *w, struct cf_error *err)
{
	int	fl;

	if (!w->direct)
		return CF_OK;
	fl = fcntl(w->fd, F_GETFL);
	if (fl == -1 || fcntl(w->fd, F_SETFL, fl & ~O_DIRECT) == -1)
		return cf_error_sys(err, CF_E_IO, "blob: fcntl");
	w->direct = false;
	return CF_OK;
}

static cf_err
write_all(struct cf_blob_writer *w, const uint8_t *p, size_t n,
    struct cf_error *err)
{
	ssize_t	r;
	cf_err	rc;

	while (n > 0) {
		if (fault(CF_BLOB_FAULT_WRITE))
			r = -1;
		else if (n > 1 && fault(CF_BLOB_FAULT_SHORT))
			r = write(w->fd, p, n / 2);
		else
			r = write(w->fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EINVAL && w->direct) {
			/* The filesystem refused this direct write. */
			rc = drop_direct(w, err);
			if (rc != CF_OK)
				return rc;
			continue;
		}
		if (r == -1)
			return cf_error_sys(err, CF_E_IO, "blob: write");
		if (r == 0)
			return cf_error_set(err, CF_E_IO,
			    "blob: write made no progress");
		p += r;
		n -= (size_t)r;
		w->off += (uint64_t)r;
		/* A short direct write leaves the rest unaligned. */
		if (n > 0) {
			rc = drop_direct(w, err);
			if (rc != CF_OK)
				return rc;
		}
	}
	return CF_OK;
}

/* Buffered mode: start writeback of the range just written, then wait for
 * the previous range and drop it from the page cache, so the cache holds
 * at most about two buffers of this blob.  Errors here are not final:
 * fsync at commit reports any failed writeback. */
static void
writeback(struct cf_blob_writer *w)
{
	if (w->off > w->started)
		(void)sync_file_range(w->fd, (off_t)w->started,
		    (off_t)(w->off - w->started), SYNC_FILE_RANGE_WRITE);
	if (w->started > w->dropped) {
		(void)sync_file_range(w->fd, (off_t)w->dropped,
		    (off_t)(w->started - w->dropped),
		    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		    SYNC_FILE_RANGE_WAIT_AFTER);
		(void)posix_fadvise(w->fd, (off_t)w->dropped,
		    (off_t)(w->started - w->dropped), POSIX_FADV_DONTNEED);
		w->dropped = w->started;
	}
	w->started = w->off;
}

/* The I/O thread's job: one full buffer. */
static cf_err
io_job(void *arg, const uint8_t *p, size_t n, struct cf_error *err)
{
	struct cf_blob_writer	*w = arg;
	cf_err			 rc;

	rc = write_all(w, p, n, err);
	if (rc == CF_OK && !w->direct)
		writeback(w);
	return rc;
}

static cf_err
io_wait(struct cf_blob_writer *w, struct cf_error *err)
{
	return w->io == NULL ? CF_OK : cf_worker_wait(w->io, err);
}

/* Start the I/O thread and take its second buffer.  false: run without
 * it (writes stay synchronous, which is correct, only slower). */
static bool
io_start(struct cf_blob_writer *w)
{
	if (w->io != NULL)
		return true;
	if (w->io_failed)
		return false;
	w->io_failed = true;
	if ((w->buf2 = buf_get(w->bs)) == NULL)
		return false;
	w->cap2 = BUF_SIZE;
	if (cf_worker_start(io_job, w, &w->io, NULL) != CF_OK) {
		buf_put(w->bs, w->buf2, w->cap2);
		w->buf2 = NULL;
		return false;
	}
	w->io_failed = false;
	return true;
}

/* Hand the full buffer to the thread and continue in the other one. */
static cf_err
io_submit(struct cf_blob_writer *w, struct cf_error *err)
{
	uint8_t	*buf, *big;
	size_t	 cap;
	cf_err	 rc;

	if ((rc = cf_worker_submit(w->io, w->buf, w->fill, err)) != CF_OK)
		return rc;
	buf = w->buf;
	cap = w->cap;
	w->buf = w->buf2;
	w->cap = w->cap2;
	w->buf2 = buf;
	w->cap2 = cap;
	w->fill = 0;
	/* w->buf is free now (the thread has the other): a long blob
	 * takes a big one instead, if the budget is mostly idle. */
	if (w->cap < BIG_SIZE && w->given >= BIG_AFTER &&
	    (big = cf_membudget_buf_get_spare(w->bs->mb, BIG_SIZE)) != NULL) {
		buf_put(w->bs, w->buf, w->cap);
		w->buf = big;
		w->cap = BIG_SIZE;
	}
	return CF_OK;
}

static void
io_stop(struct cf_blob_writer *w)
{
	cf_worker_stop(w->io);
	w->io = NULL;
}

/* Release the thread, the file, the temporary name and the buffers. */
static void
writer_discard(struct cf_blob_writer *w)
{
	io_stop(w);
	buf_put(w->bs, w->buf2, w->cap2);
	w->buf2 = NULL;
	if (w->fd != -1) {
		(void)close(w->fd);
		w->fd = -1;
	}
	if (w->tmpname[0] != '\0') {
		(void)unlinkat(w->bs->tfd, w->tmpname, 0);
		w->tmpname[0] = '\0';
	}
	buf_put(w->bs, w->buf, w->cap);
	w->buf = NULL;
}

/* Record a failure: the temporary data goes at once (an ENOSPC upload
 * should not keep holding the space), and every later call fails. */
static cf_err
writer_fail(struct cf_blob_writer *w, cf_err rc)
{
	w->failed = rc;
	writer_discard(w);
	return rc;
}

cf_err
cf_blob_create(struct cf_blobstore *bs, struct cf_blob_writer **out,
    struct cf_error *err)
{
	struct cf_blob_writer	*w = NULL;
	uint8_t			 rnd[32];
	cf_err			 rc;

	if (bs == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "blob: NULL argument");
	w = cf_calloc(1, sizeof(*w));
	if (w == NULL)
		return cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
	w->bs = bs;
	w->fd = -1;
	rc = cf_random(rnd, sizeof(rnd), err);
	if (rc != CF_OK)
		goto out;
	cf_hex_encode(rnd, CF_BLOB_ID_LEN / 2, w->id);
	cf_hex_encode(rnd + CF_BLOB_ID_LEN / 2, CF_BLOB_ID_LEN / 2,
	    w->tmpname);
	(void)cf_strlcat(w->tmpname, TMP_SUFFIX, sizeof(w->tmpname));
	/* No buffer: written as it comes, so not direct (unaligned). */
	w->buf = buf_get(bs);
	w->cap = BUF_SIZE;
	w->direct = !no_direct && w->buf != NULL;
	w->fd = tmp_open(bs, w->tmpname, w->direct);
	if (w->fd == -1 && w->direct && errno == EINVAL) {
		/* No O_DIRECT here (tmpfs...).  The failed open may have
		 * created the file: it is our random name, remove it. */
		(void)unlinkat(bs->tfd, w->tmpname, 0);
		w->direct = false;
		w->fd = tmp_open(bs, w->tmpname, false);
	}
	if (w->fd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: create %s/tmp/%s",
		    bs->root, w->tmpname);
		w->tmpname[0] = '\0';	/* not ours to unlink */
		goto out;
	}
	*out = w;
	w = NULL;
out:
	if (w != NULL) {
		writer_discard(w);
		cf_free(w);
	}
	return rc;
}

cf_err
cf_blob_write(void *arg, const void *p, size_t len, struct cf_error *err)
{
	struct cf_blob_writer	*w = arg;
	const uint8_t		*src = p;
	size_t			 n;
	cf_err			 rc;

	if (w == NULL || (p == NULL && len > 0))
		return cf_error_set(err, CF_E_INVAL, "blob: NULL argument");
	if (w->failed != CF_OK)
		return cf_error_set(err, w->failed,
		    "blob: writer failed earlier");
	w->given += len;
	if (w->buf == NULL && len > 0) {
		rc = write_all(w, src, len, err);
		if (rc != CF_OK)
			return writer_fail(w, rc);
		if (w->off - w->started >= WB_STEP)
			writeback(w);
		return CF_OK;
	}
	while (len > 0) {
		n = w->cap - w->fill;
		if (n > len)
			n = len;
		memcpy(w->buf + w->fill, src, n);
		w->fill += n;
		src += n;
		len -= n;
		if (w->fill < w->cap)
			break;
		if (io_start(w)) {
			rc = io_submit(w, err);
			if (rc != CF_OK)
				return writer_fail(w, rc);
			continue;
		}
		rc = write_all(w, w->buf, w->fill, err);
		if (rc != CF_OK)
			return writer_fail(w, rc);
		w->fill = 0;
		if (!w->direct)
			writeback(w);
	}
	return CF_OK;
}

cf_err
cf_blob_commit(struct cf_blob_writer *w, char id[CF_BLOB_ID_LEN + 1],
    struct cf_error *err)
{
	char	 path[RELPATH_LEN], shard[3];
	int	 sfd = -1;
	bool	 made = false, renamed = false;
	cf_err	 rc;

	if (w == NULL)
		return cf_error_set(err, CF_E_INVAL, "blob: NULL writer");
	shard[0] = w->id[0];
	shard[1] = w->id[1];
	shard[2] = '\0';
	if (w->failed != CF_OK) {
		rc = cf_error_set(err, w->failed,
		    "blob: writer failed earlier");
		goto out;
	}
	/* The thread's last buffer first: the tail follows it. */
	if ((rc = io_wait(w, err)) != CF_OK)
		goto out;
	io_stop(w);
	if (w->fill > 0) {
		if (w->fill % BUF_ALIGN != 0) {
			rc = drop_direct(w, err);
			if (rc != CF_OK)
				goto out;
		}
		rc = write_all(w, w->buf, w->fill, err);
		if (rc != CF_OK)
			goto out;
		w->fill = 0;
	}
	rc = sync_fd(w->fd, "blob", err);
	if (rc != CF_OK)
		goto out;
	/* What went through the page cache (the tail, or all of it when
	 * buffered) is clean now: drop it rather than let it pile up. */
	(void)posix_fadvise(w->fd, 0, 0, POSIX_FADV_DONTNEED);
	if (close(w->fd) == -1) {
		w->fd = -1;
		rc = cf_error_sys(err, CF_E_IO, "blob: close");
		goto out;
	}
	w->fd = -1;

	/* A new shard directory must itself be durable in blobs/. */
	rc = ensure_dir(w->bs->dfd, shard, "shard", &made, err);
	if (rc != CF_OK)
		goto out;
	if (made) {
		rc = sync_fd(w->bs->dfd, w->bs->root, err);
		if (rc != CF_OK)
			goto out;
	}
	relpath(w->id, path);
	/* SEC: RENAME_NOREPLACE: a committed blob is never overwritten. */
	if (fault(CF_BLOB_FAULT_RENAME) || renameat2(w->bs->tfd, w->tmpname,
	    w->bs->dfd, path, RENAME_NOREPLACE) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: rename into %s",
		    w->bs->root);
		goto out;
	}
	renamed = true;
	w->tmpname[0] = '\0';
	sfd = openat(w->bs->dfd, shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (sfd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: open shard");
		goto out;
	}
	rc = sync_fd(sfd, "shard directory", err);
	if (rc != CF_OK)
		goto out;
	(void)cf_strlcpy(id, w->id, CF_BLOB_ID_LEN + 1);
out:
	if (sfd != -1)
		(void)close(sfd);
	/* Not durable, so not committed: take the blob back. */
	if (rc != CF_OK && renamed)
		(void)unlinkat(w->bs->dfd, path, 0);
	writer_discard(w);
	cf_free(w);
	return rc;
}

void
cf_blob_abort(struct cf_blob_writer *w)
{
	if (w == NULL)
		return;
	writer_discard(w);
	cf_free(w);
}

/* --- reader --- */

/* Open blob id for reading (flags: more open flags); a missing blob is
 * CF_E_NOTFOUND.  O_NOFOLLOW: a link in the blob directory is refused. */
static cf_err
blob_openat(struct cf_blobstore *bs, const char *id, int flags, int *fd,
    struct cf_error *err)
{
	char	path[RELPATH_LEN];

	relpath(id, path);
	*fd = openat(bs->dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    flags);
	if (*fd != -1)
		return CF_OK;
	if (errno == ENOENT)
		return cf_error_set(err, CF_E_NOTFOUND,
		    "blob: no such blob %s", id);
	return cf_error_sys(err, CF_E_IO, "blob: open %s", id);
}

cf_err
cf_blob_open(struct cf_blobstore *bs, const char *id,
    struct cf_blob_reader **out, struct cf_error *err)
{
	struct cf_blob_reader	*r = NULL;
	struct stat		 sb;
	int			 fd = -1;
	cf_err			 rc = CF_OK;

	if (bs == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "blob: NULL argument");
	if (!id_valid(id))
		return cf_error_set(err, CF_E_INPUT, "blob: malformed id");
	if ((rc = blob_openat(bs, id, 0, &fd, err)) != CF_OK)
		goto out;
	if (fstat(fd, &sb) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: stat %s", id);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size < 0) {
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "blob: %s is not a regular file", id);
		goto out;
	}
	r = cf_calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
		goto out;
	}
	/* Downloads read front to back: ask for more readahead (a small
	 * blob is read whole in one or two calls: skip the syscall). */
	if (sb.st_size > READAHEAD_MIN)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r->fd = fd;
	r->size = (uint64_t)sb.st_size;
	fd = -1;
	*out = r;
out:
	if (fd != -1)
		(void)close(fd);
	return rc;
}

/* --- sequential reader --- */

/* Fill block b with the SEQ_BLOCK bytes at at (fewer at the end of the
 * blob).  A direct read the filesystem refuses (EINVAL: alignment it does
 * not support) goes on buffered.  SEC: the bytes are ciphertext; the
 * opener authenticates them, so nothing here needs wiping. */
static cf_err
seq_fill(struct cf_blob_reader *r, int b, uint64_t at, struct cf_error *err)
{
	size_t	want, got = 0;
	ssize_t	n;
	int	fl;

	r->blk[b].at = NO_BLOCK;
	want = r->size - at < r->bsz ? (size_t)(r->size - at) : r->bsz;
	while (got < want) {
		/* A direct read asks for whole sectors, the last one past
		 * the end of the file (the kernel stops at the end). */
		n = pread(r->fd, r->blk[b].p + got, r->direct ?
		    r->bsz - got : want - got, (off_t)(at + got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EINVAL && r->direct) {
			fl = fcntl(r->fd, F_GETFL);
			if (fl == -1 ||
			    fcntl(r->fd, F_SETFL, fl & ~O_DIRECT) == -1)
				return cf_error_sys(err, CF_E_IO,
				    "blob: fcntl");
			r->direct = false;
			continue;
		}
		if (n == -1)
			return cf_error_sys(err, CF_E_IO, "blob: read");
		if (n == 0)
			return cf_error_set(err, CF_E_INTEGRITY,
			    "blob: shorter than expected");
		got += (size_t)n;
	}
	r->blk[b].at = at;
	r->blk[b].len = want;
	return CF_OK;
}

/* The I/O thread's job: fill blk[!cur] with the block at ahead_at. */
static cf_err
seq_job(void *arg, const uint8_t *p, size_t n, struct cf_error *err)
{
	struct cf_blob_reader	*r = arg;

	(void)p;
	(void)n;
	return seq_fill(r, r->cur ^ 1, r->ahead_at, err);
}

/* The thread goes for good (a failed job: the reads go on here, and the
 * next one reports the error itself, if it persists). */
static void
seq_io_stop(struct cf_blob_reader *r)
{
	cf_worker_stop(r->io);
	r->io = NULL;
	r->ahead = false;
}

/* Ask the thread for the block at at into blk[!cur]. */
static void
seq_ahead(struct cf_blob_reader *r, uint64_t at)
{
	int	b = r->cur ^ 1;

	if (r->io == NULL || r->ahead || at >= r->size ||
	    r->blk[b].at == at)
		return;
	r->blk[b].at = NO_BLOCK;
	r->ahead_at = at;
	if (cf_worker_submit(r->io, r->blk[b].p, r->bsz, NULL) != CF_OK) {
		seq_io_stop(r);
		return;
	}
	r->ahead = true;
}

/* Make blk[cur] hold the block of off, then ask for the next. */
static cf_err
seq_block(struct cf_blob_reader *r, uint64_t off, struct cf_error *err)
{
	uint64_t	at = off - off % r->bsz;
	cf_err		rc;

	if (r->blk[r->cur].at != at) {
		if (r->ahead) {
			r->ahead = false;
			if (cf_worker_wait(r->io, NULL) != CF_OK)
				seq_io_stop(r);
		}
		if (r->blk[r->cur ^ 1].at == at)
			r->cur ^= 1;
		else if ((rc = seq_fill(r, r->cur, at, err)) != CF_OK)
			return rc;
	}
	seq_ahead(r, at + r->bsz);
	return CF_OK;
}

static cf_err
seq_pread(struct cf_blob_reader *r, uint8_t *p, size_t len, uint64_t off,
    struct cf_error *err)
{
	size_t	in, n;
	cf_err	rc;

	if (off > r->size || len > r->size - off)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "blob: shorter than expected");
	while (len > 0) {
		if ((rc = seq_block(r, off, err)) != CF_OK)
			return rc;
		in = (size_t)(off - r->blk[r->cur].at);
		n = r->blk[r->cur].len - in;
		if (n > len)
			n = len;
		memcpy(p, r->blk[r->cur].p + in, n);
		p += n;
		len -= n;
		off += n;
	}
	return CF_OK;
}

/* Both blocks of bsz bytes (spare: only from a mostly idle budget), or
 * none. */
static bool
seq_bufs(struct cf_blob_reader *r, size_t bsz, bool spare)
{
	struct cf_membudget	*mb = r->bs->mb;
	int			 b;

	for (b = 0; b < 2; b++) {
		r->blk[b].p = spare ? cf_membudget_buf_get_spare(mb, bsz) :
		    cf_membudget_buf_get(mb, bsz);
		if (r->blk[b].p == NULL) {
			if (b == 1) {
				cf_membudget_buf_put(mb, r->blk[0].p, bsz);
				r->blk[0].p = NULL;
			}
			return false;
		}
	}
	r->bsz = bsz;
	return true;
}

cf_err
cf_blob_open_seq(struct cf_blobstore *bs, const char *id,
    struct cf_blob_reader **out, struct cf_error *err)
{
	struct cf_blob_reader	*r = NULL;
	char			 path[RELPATH_LEN];
	int			 fd, fl;
	cf_err			 rc;

	rc = cf_blob_open(bs, id, &r, err);
	if (rc != CF_OK)
		return rc;
	/* Both blocks from the budget, or none: without them this is the
	 * plain reader (slower, not refused).  SEC: they only ever hold
	 * ciphertext (the opener authenticates it), so they go back
	 * unwiped. */
	r->bs = bs;
	if (!seq_bufs(r, SEQ_BLOCK, true) && !seq_bufs(r, SEQ_SMALL, false)) {
		*out = r;
		return CF_OK;
	}
	r->seq = true;
	r->blk[0].at = r->blk[1].at = NO_BLOCK;
	/* Around the page cache: the blob was written around it too, so
	 * it is not there, and a buffered read of cold data costs a copy
	 * and page-cache churn (2.2 s of system time for 1 GiB here, 0.1 s
	 * direct).  Reopened, so that the name is checked the same way. */
	if (!no_direct) {
		relpath(id, path);
		fd = openat(bs->dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_DIRECT);
		if (fd != -1) {
			(void)close(r->fd);
			r->fd = fd;
		}
	}
	fl = fcntl(r->fd, F_GETFL);
	r->direct = fl != -1 && (fl & O_DIRECT) != 0;
	/* Without the thread the reads are only slower. */
	if (cf_worker_start(seq_job, r, &r->io, NULL) != CF_OK)
		r->io = NULL;
	/* The first block is asked for at once, into blk[0]; the first
	 * read finds it there. */
	r->cur = 1;
	seq_ahead(r, 0);
	*out = r;
	return CF_OK;
}

/* Up to expect + 1 bytes at offset 0 into p: the number read, or -1 on
 * an error (errno).  One pread when the file is expect bytes (a short
 * read of a regular file is its end): it stops at expect, not at the
 * end of file, which would cost a second call that returns 0. */
static ssize_t
read_whole(int fd, uint8_t *p, size_t expect)
{
	size_t	got = 0;
	ssize_t	n;

	for (;;) {
		n = pread(fd, p + got, expect + 1 - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got >= expect)
			break;
	}
	return (ssize_t)got;
}

cf_err
cf_blob_open_whole(struct cf_blobstore *bs, const char *id, size_t expect,
    struct cf_blob_reader **out, struct cf_error *err)
{
	struct cf_blob_reader	*r = NULL;
	uint8_t			*mem = NULL;
	ssize_t			 n;
	int			 fd = -1;
	cf_err			 rc = CF_OK;

	if (bs == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "blob: NULL argument");
	if (expect > CF_BLOB_WHOLE_MAX)
		return cf_blob_open(bs, id, out, err);
	if (!id_valid(id))
		return cf_error_set(err, CF_E_INPUT, "blob: malformed id");
	/* One byte over, to see that the blob ends where it should. */
	if ((mem = cf_malloc(expect + 1)) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
	/* SEC: no fstat for S_ISREG here: O_NOFOLLOW refuses a link,
	 * O_NONBLOCK keeps a FIFO from holding the thread, and anything
	 * but a regular file fails the read or the opener's tag check. */
	if ((rc = blob_openat(bs, id, O_NONBLOCK, &fd, err)) != CF_OK)
		goto out;
	if ((n = read_whole(fd, mem, expect)) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: read %s", id);
		goto out;
	}
	if ((size_t)n > expect) {
		/* Longer than its metadata says: the ordinary reader, whose
		 * size the opener refuses with the usual message. */
		(void)close(fd);
		fd = -1;
		rc = cf_blob_open(bs, id, out, err);
		goto out;
	}
	if ((r = cf_calloc(1, sizeof(*r))) == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
		goto out;
	}
	r->fd = -1;
	r->size = (uint64_t)n;
	r->mem = mem;
	mem = NULL;
	*out = r;
out:
	if (fd != -1)
		(void)close(fd);
	cf_free(mem);
	return rc;
}

uint64_t
cf_blob_size(const struct cf_blob_reader *r)
{
	return r->size;
}

cf_err
cf_blob_pread(void *arg, void *buf, size_t len, uint64_t off,
    struct cf_error *err)
{
	struct cf_blob_reader	*r = arg;
	uint8_t			*p = buf;
	ssize_t			 n;

	if (r == NULL || (buf == NULL && len > 0))
		return cf_error_set(err, CF_E_INVAL, "blob: NULL argument");
	if (r->seq)
		return seq_pread(r, p, len, off, err);
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "blob: read beyond any blob");
	if (r->mem != NULL) {
		if (off > r->size || len > r->size - off)
			return cf_error_set(err, CF_E_INTEGRITY,
			    "blob: shorter than expected");
		memcpy(p, r->mem + off, len);
		return CF_OK;
	}
	while (len > 0) {
		n = pread(r->fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return cf_error_sys(err, CF_E_IO, "blob: read");
		if (n == 0)
			return cf_error_set(err, CF_E_INTEGRITY,
			    "blob: shorter than expected");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return CF_OK;
}

void
cf_blob_close(struct cf_blob_reader *r)
{
	int	b;

	if (r == NULL)
		return;
	/* The thread first: it may be filling a block. */
	if (r->io != NULL)
		seq_io_stop(r);
	for (b = 0; b < 2; b++)
		if (r->blk[b].p != NULL)
			cf_membudget_buf_put(r->bs->mb, r->blk[b].p, r->bsz);
	if (r->fd != -1)
		(void)close(r->fd);
	cf_free(r->mem);
	cf_free(r);
}

/* fsync the shard directory of id (the removal must last, as
 * cf_blob_delete's does). */
static cf_err
sync_shard(struct cf_blobstore *bs, const char *id, struct cf_error *err)
{
	char	shard[3];
	int	sfd;
	cf_err	rc;

	(void)snprintf(shard, sizeof(shard), "%.2s", id);
	sfd = openat(bs->dfd, shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (sfd == -1)
		return cf_error_sys(err, CF_E_IO, "blob: open shard");
	rc = sync_fd(sfd, "shard directory", err);
	(void)close(sfd);
	return rc;
}

cf_err
cf_blob_delete(struct cf_blobstore *bs, const char *id, struct cf_error *err)
{
	char	path[RELPATH_LEN];

	if (bs == NULL)
		return cf_error_set(err, CF_E_INVAL, "blob: NULL store");
	if (!id_valid(id))
		return cf_error_set(err, CF_E_INPUT, "blob: malformed id");
	relpath(id, path);
	if (unlinkat(bs->dfd, path, 0) == -1) {
		if (errno == ENOENT)
			return cf_error_set(err, CF_E_NOTFOUND,
			    "blob: no such blob %s", id);
		return cf_error_sys(err, CF_E_IO, "blob: unlink %s", id);
	}
	/* Make the removal durable, as commit makes the name durable: a
	 * blob whose metadata is gone must not come back after a crash (it
	 * could never be read or deleted again, only take space). */
	return sync_shard(bs, id, err);
}

/* --- orphan sweep --- */

struct sweep_batch {
	char		ids[CF_BLOB_SWEEP_BATCH][CF_BLOB_ID_LEN + 1];
	uint64_t	size[CF_BLOB_SWEEP_BATCH];
	bool		ref[CF_BLOB_SWEEP_BATCH];
	size_t		n;
};

/* Ask which blobs of b are referenced, record the others, then remove
 * them and fsync each shard directory touched once.  Ids are in shard
 * order, so the shards touched are runs. */
static cf_err
sweep_batch(struct cf_blobstore *bs, struct cf_blob_sweep *sw,
    struct sweep_batch *b, struct cf_error *err)
{
	char		orphans[CF_BLOB_SWEEP_BATCH][CF_BLOB_ID_LEN + 1];
	char		path[RELPATH_LEN];
	uint64_t	bytes = 0, gone = 0;
	size_t		i, k = 0, last = SIZE_MAX;
	cf_err		rc, rc2 = CF_OK;

	if (b->n == 0)
		return CF_OK;
	for (i = 0; i < b->n; i++)
		b->ref[i] = true;	/* SEC: unanswered means kept */
	rc = sw->refs(sw->arg, (const char (*)[CF_BLOB_ID_LEN + 1])b->ids,
	    b->n, b->ref, err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < b->n; i++) {
		if (b->ref[i])
			continue;
		(void)memcpy(orphans[k], b->ids[i], sizeof(orphans[k]));
		bytes += b->size[i];
		k++;
	}
	if (k == 0)
		goto out;
	/* SEC: the record first; no record, no removal. */
	rc = sw->reclaim(sw->arg, (const char (*)[CF_BLOB_ID_LEN + 1])orphans,
	    k, bytes, err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < b->n; i++) {
		if (b->ref[i])
			continue;
		relpath(b->ids[i], path);
		if (unlinkat(bs->dfd, path, 0) == 0) {
			sw->removed++;
			gone += b->size[i];
			if (last != SIZE_MAX && memcmp(b->ids[last],
			    b->ids[i], 2) != 0 && rc2 == CF_OK)
				rc2 = sync_shard(bs, b->ids[last], err);
			last = i;
		} else if (errno != ENOENT && rc2 == CF_OK) {
			/* Removed by someone else (another sweep, the
			 * namespace deletion that left it) is no error. */
			rc2 = cf_error_sys(err, CF_E_IO, "blob: unlink %s",
			    b->ids[i]);
		}
	}
	sw->bytes += gone;
	if (last != SIZE_MAX && rc2 == CF_OK)
		rc2 = sync_shard(bs, b->ids[last], err);
	rc = rc2;
out:
	b->n = 0;
	return rc;
}

/* Is name a blob id that belongs in shard sh ("ab")? */
static bool
sweep_name_ok(const char *name, const char sh[3])
{
	return id_valid(name) && name[0] == sh[0] && name[1] == sh[1];
}

static cf_err
sweep_shard(struct cf_blobstore *bs, struct cf_blob_sweep *sw,
    unsigned int shard, bool alone, struct sweep_batch *b,
    struct cf_error *err)
{
	DIR		*d = NULL;
	struct dirent	*de;
	struct stat	 st;
	char		 sh[3];
	int		 sfd = -1, dfd = -1;
	cf_err		 rc = CF_OK;

	(void)snprintf(sh, sizeof(sh), "%02x", shard);
	sfd = openat(bs->dfd, sh, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (sfd == -1) {
		if (errno == ENOENT)
			return CF_OK;
		return cf_error_sys(err, CF_E_IO, "blob: open shard %s", sh);
	}
	dfd = dup(sfd);
	if (dfd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "blob: dup");
		goto out;
	}
	d = fdopendir(dfd);
	if (d == NULL) {
		rc = cf_error_sys(err, CF_E_IO, "blob: opendir shard %s", sh);
		(void)close(dfd);
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = cf_error_sys(err, CF_E_IO,
				    "blob: readdir shard %s", sh);
			break;
		}
		if (!sweep_name_ok(de->d_name, sh))
			continue;
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* deleted meanwhile */
			rc = cf_error_sys(err, CF_E_IO, "blob: stat %s",
			    de->d_name);
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		sw->scanned++;
		/* SEC: the ctime is set by the rename that commits the blob
		 * (and is never older than its last write), so an upload
		 * whose version row is not written yet is at most
		 * orphan_grace old: it is never taken for an orphan. */
		if (!alone && (int64_t)st.st_ctim.tv_sec >
		    sw->now_s - sw->grace_s) {
			sw->young++;
			continue;
		}
		(void)memcpy(b->ids[b->n], de->d_name, CF_BLOB_ID_LEN + 1);
		b->size[b->n] = st.st_size > 0 ? (uint64_t)st.st_size : 0;
		if (++b->n == CF_BLOB_SWEEP_BATCH &&
		    (rc = sweep_batch(bs, sw, b, err)) != CF_OK)
			break;
	}
	(void)closedir(d);
out:
	(void)close(sfd);
	return rc;
}

cf_err
cf_blob_sweep(struct cf_blobstore *bs, struct cf_blob_sweep *sw,
    struct cf_error *err)
{
	struct sweep_batch	*b = NULL;
	uint64_t		 start;
	bool			 excl = false;
	cf_err			 rc = CF_OK;

	if (bs == NULL || sw == NULL || sw->refs == NULL ||
	    sw->reclaim == NULL || sw->grace_s < 0)
		return cf_error_set(err, CF_E_INVAL, "blob: sweep arguments");
	b = cf_calloc(1, sizeof(*b));
	if (b == NULL)
		return cf_error_set(err, CF_E_NOMEM, "blob: out of memory");
	sw->alone = false;
	if (sw->try_alone) {
		/* Converting the shared lock: Linux drops it before
		 * trying, so on failure it is taken again. */
		if (flock(bs->lockfd, LOCK_EX | LOCK_NB) == 0) {
			excl = true;
		} else if (flock(bs->lockfd, LOCK_SH) == -1) {
			rc = cf_error_sys(err, CF_E_IO, "blob: flock");
			goto out;
		}
	}
	sw->alone = excl;
	start = sw->scanned;
	for (; sw->shard < CF_BLOB_SHARDS; sw->shard++) {
		if (sw->max_scan != 0 && sw->scanned - start >= sw->max_scan)
			break;
		rc = sweep_shard(bs, sw, sw->shard, excl, b, err);
		if (rc != CF_OK)
			break;
	}
	/* A batch spans shards: the last one of the step is due now. */
	if (rc == CF_OK)
		rc = sweep_batch(bs, sw, b, err);
out:
	if (excl && flock(bs->lockfd, LOCK_SH) == -1 && rc == CF_OK)
		rc = cf_error_sys(err, CF_E_IO, "blob: flock");
	cf_free(b);
	return rc;
}
