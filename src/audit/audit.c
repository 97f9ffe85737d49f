/* src/audit/audit.c: the audit writer: open and tail recovery, group
 * commit (leader/follower) with the checkpoint, the notifier, recovery
 * after a full disk, close.
 *
 * Group commit: an appender seals its record under the mutex (that is
 * where seq and prev are fixed), adds it to the pending buffer, then waits
 * until the record is durable.  If no write is in flight it becomes the
 * leader: it takes the whole pending buffer, and writes and fdatasyncs it
 * without the lock while later appenders queue up behind it; when it is
 * done it wakes everybody, and one of the waiters whose record is still
 * pending becomes the next leader.  So a burst of N appends costs about
 * one write + fdatasync, not N.
 *
 * Waking: a record queued while a commit is in flight belongs to the next
 * batch, so its appender sleeps on that batch's slot (a futex word); the
 * end of a commit wakes only the waiters of the batches it made durable,
 * and at most one waiter of the next batch to lead it.  The woken read
 * the outcome from atomics without taking the mutex: a condition variable
 * broadcast would wake every waiter, those of the next batch for nothing,
 * and all of them would queue again on the mutex (on a virtual machine a
 * context switch costs several microseconds).
 *
 * The checkpoint is part of every group commit: once the batch is
 * durable in the log, the leader overwrites the checkpoint in place (one
 * 512-byte pwrite + fdatasync) to name the batch's last record, and only
 * then are its appenders released.  So every acknowledged record is
 * covered, and cutting any of them off the log is detected.  See
 * docs/internals/AUDIT.md for the exact guarantee. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

/* Records queued behind a write in flight may take up this much. */
#define PENDING_MAX	(64u * 1024 * 1024)
/* A log whose write failed for lack of space is tried again at most this
 * often (on the log's clock), driven by the appends that keep arriving. */
#define RETRY_NS	1000000000ull

/* One commit in flight: its own open file, so that a writeback error is
 * reported to every flusher (Linux reports it once per open file), and
 * its batch. */
struct flusher {
	int			 fd;		/* audit.log,
						 * O_WRONLY|O_APPEND */
	struct cf_buf		 buf;
	off_t			 end_off;	/* log size after buf */
	bool			 busy;
};

/* Waiters sleep on slot[batch % AUDIT_SLOTS]: batches in flight plus the
 * one being gathered never alias while their waiters sleep (aliasing would
 * only cost a spurious wakeup). */
#define AUDIT_SLOTS	(AUDIT_FLUSHERS_MAX + 2)

struct cf_audit {
	int			 dirfd;		/* DIR/audit */
	int			 fd;		/* audit.log: O_APPEND, flock */
	int			 ckfd;		/* checkpoint, O_RDWR */
	struct audit_keys	 keys;

	pthread_mutex_t		 mu;
	pthread_mutex_t		 wmu;		/* orders write(2)s: mu, wmu */
	pthread_cond_t		 commit_cv;	/* a group commit ended */
	pthread_cond_t		 arrive_cv;	/* a record was queued */
	pthread_cond_t		 flush_cv;	/* wakes the notifier */
	pthread_mutex_t		 ckmu;		/* orders checkpoint writes */
	/* The keys' HMAC handles, keyed once at open (cf_hmac_final_reset):
	 * rec_h under mu (sealing), ck_h under ckmu (the checkpoint).
	 * keys.* stay for the verifier (cf_audit_verify_live), which runs
	 * on other threads. */
	struct cf_hmac		*rec_h;
	struct cf_hmac		*ck_h;
	int			 sync_init;	/* how many of the 6 exist */

	/* All below under mu. */
	uint64_t		 last_seq;	/* last sealed */
	uint8_t			 last_mac[CF_MAC_LEN];
	_Atomic uint64_t	 durable_seq;	/* last fdatasync'ed */
	/* The last record whose write(2) completed: durable, or written
	 * ahead of its fdatasync (a batch of records nobody waits for,
	 * cf_audit_submit_later), and where it ends in the file. */
	uint64_t		 written_seq;
	uint8_t			 written_mac[CF_MAC_LEN];
	uint64_t		 urgent_seq;	/* last someone waits for */
	uint64_t		 later_ns;	/* written ahead since; 0 */
	struct cf_buf		 pending;	/* sealed, not yet written */
	struct cf_buf		 scratch;	/* an audit:recover record */
	struct flusher		 fl[AUDIT_FLUSHERS_MAX];
	unsigned		 nfl;		/* flushers in use */
	unsigned		 busy;		/* commits in flight */
	uint64_t		 taken_seq;	/* last seq taken by a leader */
	bool			 gathering;	/* a leader gathers a batch */
	uint64_t		 gather_want;	/* untaken records to wake it */
	uint64_t		 last_batch;	/* records in the last commit */
	uint64_t		 last_commit_ns;
	uint64_t		 delay_ns;	/* max commit delay */
	atomic_bool		 broken;	/* SEC: fail closed */
	/* Broken by a write that failed for lack of space: appends try to
	 * recover (recover()) from retry_ns on; redo holds the batch that
	 * failed, written_off where the written log ends. */
	bool			 retryable;
	uint64_t		 retry_ns;
	uint64_t		 broken_gen;	/* times it broke */
	struct cf_buf		 redo;
	off_t			 written_off;
	off_t			 taken_off;	/* log size after last take */
	uint64_t		 takes;		/* batches taken by leaders */
	uint64_t		 done_batch;	/* batches known durable */
	_Atomic uint64_t	 lead_batch;	/* asked to lead this batch */
	_Atomic uint32_t	 slot[AUDIT_SLOTS];	/* futex words */
	char			 broken_msg[CF_ERROR_MSG_LEN];

	/* Notifier (cf_audit_set_notify); the fields under mu. */
	cf_audit_notify_fn	 notify;
	void			*notify_arg;
	pthread_t		 notify_thr;
	bool			 notify_started;
	bool			 notify_stop;
	uint64_t		 notified;
	uint64_t		 notified_gen;	/* broken_gen announced */
	uint64_t		 ckpt_seq;	/* named by it; under ckmu */

	enum audit_fail		 fail;		/* test hook */
	bool			 hold;		/* test hook: commits wait */
	cf_audit_clock_fn	 clock;		/* monotonic, ns */
	void			*clock_arg;
	struct audit_stats	 stats;
};

/* Wake up to n waiters of batch b's slot.  The word changes first, so a
 * waiter between its check and its sleep does not sleep (FUTEX_WAIT
 * returns at once when the word is no longer the value it read). */
static void
slot_wake(struct cf_audit *a, uint64_t b, int n)
{
	_Atomic uint32_t	*w = &a->slot[b % AUDIT_SLOTS];

	atomic_fetch_add(w, 1);
	(void)syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Sleep until record my is durable, the log is broken, or this batch is
 * asked for a leader.  Called without the mutex. */
static void
slot_wait(struct cf_audit *a, uint64_t batch, uint64_t my)
{
	_Atomic uint32_t	*w = &a->slot[batch % AUDIT_SLOTS];
	uint64_t		 exp;
	uint32_t		 v;

	for (;;) {
		v = atomic_load(w);
		if (atomic_load(&a->durable_seq) >= my ||
		    atomic_load(&a->broken))
			return;
		/* Asked for a leader: one waiter takes the request. */
		exp = batch;
		if (atomic_load(&a->lead_batch) == batch &&
		    atomic_compare_exchange_strong(&a->lead_batch, &exp, 0))
			return;
		/* EINTR, EAGAIN (the word moved): look again. */
		(void)syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL,
		    0);
	}
}

/* A write(2) that failed for lack of space: nothing was lost that had
 * been made durable, and the write can be tried again once there is
 * room.  Any other failure, a failed fdatasync above all (the kernel may
 * have dropped the dirty pages and forgotten the error), is final. */
static bool
space_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

/* Called with the mutex held.  retryable: see recover(). */
static void
set_broken(struct cf_audit *a, const char *why, bool retryable)
{
	unsigned	i;

	if (a->broken) {
		/* A final failure wins over a retryable one. */
		if (!retryable)
			a->retryable = false;
		return;
	}
	(void)snprintf(a->broken_msg, sizeof(a->broken_msg), "%s", why);
	a->retryable = retryable;
	a->retry_ns = a->clock(a->clock_arg) + RETRY_NS;
	a->broken_gen++;
	a->broken = true;
	for (i = 0; i < AUDIT_SLOTS; i++)
		slot_wake(a, i, INT_MAX);
	/* Diagnostic only; the appenders get CF_E_IO. */
	if (retryable)
		log_warnx("audit: log broken, refusing appends until a retry "
		    "succeeds: %s", why);
	else
		log_warnx("audit: log broken, refusing further appends until "
		    "restarted: %s", why);
}

/* Write all of p[0..n) to the log (O_APPEND).  On failure *eno (if not
 * NULL) is the errno of the failed write. */
static cf_err
write_all(int fd, const char *p, size_t n, enum audit_fail fail, int *eno,
    struct cf_error *err)
{
	ssize_t	w;
	size_t	done = 0;

	if (fail == AUDIT_FAIL_WRITE) {
		errno = ENOSPC;
		goto fail;
	}
	if (fail == AUDIT_FAIL_SHORT && n > 1)
		n /= 2;
	while (done < n) {
		w = write(fd, p + done, n - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			goto fail;
		done += (size_t)w;
	}
	if (fail == AUDIT_FAIL_SHORT) {
		errno = ENOSPC;
		goto fail;
	}
	return CF_OK;
fail:
	if (eno != NULL)
		*eno = errno;
	return cf_error_sys(err, CF_E_IO, "write audit.log");
}

static cf_err
sync_log(int fd, enum audit_fail fail, struct cf_error *err)
{
	/* SEC: after a failed fdatasync Linux may have dropped the dirty
	 * pages; the caller marks the log broken rather than retry. */
	if (fail == AUDIT_FAIL_SYNC) {
		errno = EIO;
		return cf_error_sys(err, CF_E_IO, "fdatasync audit.log");
	}
	if (fdatasync(fd) == -1)
		return cf_error_sys(err, CF_E_IO, "fdatasync audit.log");
	return CF_OK;
}

static cf_err
commit(int fd, const struct cf_buf *b, enum audit_fail fail,
    struct cf_error *err)
{
	cf_err	rc;

	rc = write_all(fd, b->data, b->len, fail, NULL, err);
	if (rc != CF_OK)
		return rc;
	return sync_log(fd, fail, err);
}

/* Atomically replace the checkpoint (tmp, fdatasync, rename, fsync dir). */
static cf_err
ckpt_write(int dirfd, const struct cf_key *ckpt_key, uint64_t seq,
    const uint8_t mac[CF_MAC_LEN], bool fail, struct cf_error *err)
{
	struct cf_buf		b;
	struct audit_ckpt	c;
	ssize_t			w;
	size_t			done = 0;
	int			fd = -1;
	cf_err			rc;

	cf_buf_init(&b, AUDIT_CKPT_MAX);
	c.seq = seq;
	memcpy(c.mac, mac, CF_MAC_LEN);
	c.time_us = cf_now_us();
	rc = cf_audit_ckpt_format(ckpt_key, &c, &b, err);
	if (rc != CF_OK)
		goto out;
	if (fail) {
		errno = EIO;
		rc = cf_error_sys(err, CF_E_IO, "write checkpoint");
		goto out;
	}
	fd = openat(dirfd, AUDIT_CKPT_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "open %s", AUDIT_CKPT_TMP);
		goto out;
	}
	while (done < b.len) {
		w = write(fd, b.data + done, b.len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			rc = cf_error_sys(err, CF_E_IO, "write %s",
			    AUDIT_CKPT_TMP);
			goto out;
		}
		done += (size_t)w;
	}
	if (fdatasync(fd) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "fdatasync %s",
		    AUDIT_CKPT_TMP);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = cf_error_sys(err, CF_E_IO, "close %s", AUDIT_CKPT_TMP);
		goto out;
	}
	fd = -1;
	/* rename(2) last: a crash leaves the old or the new checkpoint,
	 * and either names a durable record. */
	if (renameat(dirfd, AUDIT_CKPT_TMP, dirfd, AUDIT_CKPT) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "rename %s", AUDIT_CKPT_TMP);
		goto out;
	}
	if (fsync(dirfd) == -1)
		rc = cf_error_sys(err, CF_E_IO, "fsync audit directory");
out:
	if (fd != -1)
		(void)close(fd);
	cf_buf_free(&b);
	return rc;
}

static uint64_t
mono_clock(void *arg)
{
	(void)arg;
	return cf_mono_ns();
}

static void
deadline(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

/* Overwrite the checkpoint in place to name record seq (mac): one
 * AUDIT_CKPT_SLOT write at offset 0, padded with NULs, then fdatasync.
 * SEC: called only once the log is durable up to seq, so the checkpoint
 * never names a record the log may lack after a crash.  The write fits
 * in one aligned sector, which disks write whole: a crash leaves the old
 * or the new checkpoint (docs/internals/AUDIT.md).  Checkpoints only move
 * forward: a commit that finishes after a later one writes nothing. */
static cf_err
ckpt_put(struct cf_audit *a, uint64_t seq, const uint8_t mac[CF_MAC_LEN],
    bool fail, struct cf_error *err)
{
	struct audit_ckpt	c;
	char			slot[AUDIT_CKPT_SLOT];
	ssize_t			w;
	size_t			n;
	cf_err			rc = CF_OK;

	/* The slot is formatted on the stack: a commit allocates nothing
	 * for it (an allocation failure there would break the log for
	 * good). */
	(void)pthread_mutex_lock(&a->ckmu);
	if (seq <= a->ckpt_seq)
		goto out;
	c.seq = seq;
	memcpy(c.mac, mac, CF_MAC_LEN);
	c.time_us = cf_now_us();
	n = cf_audit_ckpt_text(a->ck_h, &c, slot);
	memset(slot + n, 0, sizeof(slot) - n);
	if (fail) {
		errno = EIO;
		rc = cf_error_sys(err, CF_E_IO, "write checkpoint");
		goto out;
	}
	do
		w = pwrite(a->ckfd, slot, sizeof(slot), 0);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)sizeof(slot)) {
		if (w >= 0)
			errno = EIO;
		rc = cf_error_sys(err, CF_E_IO, "write checkpoint");
		goto out;
	}
	if (fdatasync(a->ckfd) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "fdatasync checkpoint");
		goto out;
	}
	a->ckpt_seq = seq;
	a->stats.ckpts++;
out:
	(void)pthread_mutex_unlock(&a->ckmu);
	return rc;
}

static void
audit_free(struct cf_audit *a)
{
	unsigned	i;

	if (a == NULL)
		return;
	cf_audit_stop_notify(a);
	if (a->sync_init >= 6)
		(void)pthread_mutex_destroy(&a->ckmu);
	if (a->sync_init >= 5)
		(void)pthread_cond_destroy(&a->flush_cv);
	if (a->sync_init >= 4)
		(void)pthread_mutex_destroy(&a->wmu);
	if (a->sync_init >= 3)
		(void)pthread_cond_destroy(&a->arrive_cv);
	if (a->sync_init >= 2)
		(void)pthread_cond_destroy(&a->commit_cv);
	if (a->sync_init >= 1)
		(void)pthread_mutex_destroy(&a->mu);
	for (i = 0; i < AUDIT_FLUSHERS_MAX; i++) {
		if (a->fl[i].fd != -1)
			(void)close(a->fl[i].fd);
		cf_buf_free(&a->fl[i].buf);
	}
	if (a->ckfd != -1)
		(void)close(a->ckfd);
	cf_hmac_free(a->rec_h);
	cf_hmac_free(a->ck_h);
	if (a->fd != -1)
		(void)close(a->fd);		/* releases the flock */
	if (a->dirfd != -1)
		(void)close(a->dirfd);
	cf_buf_free(&a->pending);
	cf_buf_free(&a->scratch);
	cf_buf_free(&a->redo);
	cf_audit_keys_free(&a->keys);
	cf_free(a);
}

cf_err
cf_audit_verify_live(struct cf_audit *a, const char *dir,
    struct cf_audit_status *st, struct cf_error *err)
{
	struct audit_ckpt	ck;
	uint64_t		count = 0, bad = 0;
	cf_err			rc;

	if (a == NULL || dir == NULL || st == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit: bad args");
	memset(st, 0, sizeof(*st));
	memset(&ck, 0, sizeof(ck));
	/* Before the files: the checkpoint read after it names at least
	 * this record, unless it was put back from an older copy. */
	st->durable_seq = atomic_load(&a->durable_seq);
	st->broken = atomic_load(&a->broken);
	rc = cf_audit_verify_keys(dir, NULL, &a->keys, &count, &bad, &ck,
	    err);
	if (rc == CF_E_INTEGRITY)
		st->bad_seq = bad;
	if (rc != CF_OK)
		return rc;
	st->records = count;
	st->ckpt_seq = ck.seq;
	st->ckpt_time_us = ck.time_us;
	return CF_OK;
}

void
cf_audit_close(struct cf_audit *a)
{
	audit_free(a);
}

/* Open DIR/audit, creating it 0700 (and syncing DIR) if needed. */
static cf_err
open_dir(const char *dir, int *dfd, struct cf_error *err)
{
	char		path[4096];
	struct stat	st;
	int		pfd = -1, fd = -1;
	cf_err		rc = CF_OK;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_DIR) >=
	    sizeof(path))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	if (mkdir(path, 0700) == 0) {
		pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd == -1 || fsync(pfd) == -1) {
			rc = cf_error_sys(err, CF_E_IO, "fsync %s", dir);
			goto out;
		}
	} else if (errno != EEXIST) {
		rc = cf_error_sys(err, errno == ENOENT ? CF_E_NOTFOUND :
		    CF_E_IO, "mkdir %s", path);
		goto out;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "open %s", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		log_warnx("audit: %s is accessible to group or others (mode "
		    "%03o)", path, (unsigned)(st.st_mode & 0777));
	*dfd = fd;
	fd = -1;
out:
	if (fd != -1)
		(void)close(fd);
	if (pfd != -1)
		(void)close(pfd);
	return rc;
}

/* Read and check the last record of fd[0..end) into *l. */
static cf_err
read_last(struct cf_audit *a, off_t end, struct audit_line *l,
    struct cf_error *err)
{
	char		*buf = NULL;
	const char	*why;
	off_t		 start;
	size_t		 len;
	ssize_t		 n;
	cf_err		 rc;

	rc = cf_audit_find_start(a->fd, end, 1, &start, err);
	if (rc != CF_OK)
		return rc;
	len = (size_t)(end - start - 1);
	if (len > AUDIT_LINE_MAX)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "audit.log: last record too long (corrupt?)");
	buf = cf_malloc(len + 1);
	if (buf == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	do
		n = pread(a->fd, buf, len, start);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)len) {
		rc = cf_error_sys(err, CF_E_IO, "read audit.log");
		goto out;
	}
	rc = cf_audit_check_line(a->keys.rec, buf, len, l, &why);
	if (rc != CF_OK)
		rc = cf_error_set(err, rc, "audit.log: last record: %s "
		    "(run coffer audit verify)", why);
out:
	cf_free(buf);
	return rc;
}

/* Find the end of the chain: the last complete line.  *torn is the size
 * of a final fragment without a newline, left for drop_torn(). */
static cf_err
find_tail(struct cf_audit *a, off_t *end, off_t *torn, struct cf_error *err)
{
	struct audit_line	l;
	struct stat		st;
	cf_err			rc;

	if (fstat(a->fd, &st) == -1)
		return cf_error_sys(err, CF_E_IO, "stat audit.log");
	if (!S_ISREG(st.st_mode))
		return cf_error_set(err, CF_E_IO, "audit.log: not a file");
	rc = cf_audit_find_end(a->fd, st.st_size, end, err);
	if (rc != CF_OK)
		return rc;
	*torn = st.st_size - *end;
	if (*end == 0)
		return CF_OK;
	rc = read_last(a, *end, &l, err);
	if (rc != CF_OK)
		return rc;
	a->last_seq = l.seq;
	memcpy(a->last_mac, l.mac, CF_MAC_LEN);
	return CF_OK;
}

/* A crash in the middle of a group commit leaves a torn final line.  That
 * batch was never acknowledged, so dropping it loses no record; the drop
 * itself is recorded, as the next record.  Everything that can run out of
 * memory happens before the file is touched, so a failed open leaves the
 * torn line for the next one to report. */
static cf_err
drop_torn(struct cf_audit *a, off_t end, off_t torn, struct cf_error *err)
{
	struct cf_audit_rec	r;
	struct cf_buf		body;
	uint8_t			mac[CF_MAC_LEN];
	cf_err			rc;

	memset(&r, 0, sizeof(r));
	r.time_us = cf_now_us();
	r.authn = "none";
	r.source = "local";
	r.action = "audit:recover";
	r.resource = AUDIT_DIR "/" AUDIT_LOG;
	r.decision = "allow";
	r.reasons = "torn final line dropped";
	r.result = "ok";
	r.bytes = (uint64_t)torn;
	cf_buf_init(&body, AUDIT_LINE_MAX);
	cf_buf_reset(&a->scratch);
	rc = cf_audit_format_body(&r, &body, err);
	if (rc == CF_OK)
		rc = cf_audit_seal(a->rec_h, a->last_seq + 1, body.data,
		    body.len, a->last_mac, &a->scratch, mac, err);
	if (rc != CF_OK)
		goto out;
	log_warnx("audit: dropping a torn final line of %jd bytes",
	    (intmax_t)torn);
	if (ftruncate(a->fd, end) == -1) {
		rc = cf_error_sys(err, CF_E_IO, "truncate audit.log");
		goto out;
	}
	rc = commit(a->fd, &a->scratch, AUDIT_FAIL_NONE, err);
	if (rc != CF_OK)
		goto out;
	a->last_seq++;
	memcpy(a->last_mac, mac, CF_MAC_LEN);
out:
	cf_buf_free(&body);
	return rc;
}

/* Load the checkpoint and open (or create) the log. */
static cf_err
open_files(struct cf_audit *a, struct cf_error *err)
{
	struct audit_ckpt	 c;
	char			*ck = NULL;
	size_t			 cklen;
	off_t			 end = 0, torn = 0;
	bool			 have = false;
	cf_err			 rc;

	memset(&c, 0, sizeof(c));
	rc = cf_audit_read_small(a->dirfd, AUDIT_CKPT, AUDIT_CKPT_MAX, &ck,
	    &cklen, err);
	if (rc != CF_OK)
		goto out;
	if (ck != NULL) {
		rc = cf_audit_ckpt_parse(a->keys.ckpt, ck, cklen, &c, err);
		if (rc != CF_OK)
			goto out;
		have = true;
	}
	a->fd = openat(a->dirfd, AUDIT_LOG,
	    O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (a->fd == -1 && errno == ENOENT) {
		if (c.seq > 0) {
			rc = cf_error_set(err, CF_E_INTEGRITY, "audit.log "
			    "missing but checkpoint says %" PRIu64
			    " (deleted?)", c.seq);
			goto out;
		}
		/* The checkpoint exists before the log does, so a log
		 * without one has lost it. */
		if (!have) {
			rc = ckpt_write(a->dirfd, a->keys.ckpt, 0, c.mac,
			    false, err);
			if (rc != CF_OK)
				goto out;
			have = true;
		}
		a->fd = openat(a->dirfd, AUDIT_LOG, O_RDWR | O_APPEND |
		    O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (a->fd != -1 && fsync(a->dirfd) == -1) {
			rc = cf_error_sys(err, CF_E_IO, "fsync audit dir");
			goto out;
		}
	}
	if (a->fd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "open audit.log");
		goto out;
	}
	/* SEC: one writer per log; two would fork the chain. */
	if (flock(a->fd, LOCK_EX | LOCK_NB) == -1) {
		rc = cf_error_sys(err, errno == EWOULDBLOCK ? CF_E_CONFLICT :
		    CF_E_IO, "audit.log is in use");
		goto out;
	}
	rc = find_tail(a, &end, &torn, err);
	if (rc != CF_OK)
		goto out;
	if (!have && a->last_seq > 0) {
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "audit checkpoint missing (deleted?)");
		goto out;
	}
	if (c.seq > a->last_seq) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "audit.log ends at %"
		    PRIu64 " but checkpoint says %" PRIu64 " (truncated?)",
		    a->last_seq, c.seq);
		goto out;
	}
	if (c.seq == a->last_seq &&
	    !cf_ct_equal(c.mac, a->last_mac, CF_MAC_LEN)) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "audit.log record %"
		    PRIu64 " differs from the checkpoint (replaced?)", c.seq);
		goto out;
	}
	if (!have) {
		rc = ckpt_write(a->dirfd, a->keys.ckpt, 0, c.mac, false, err);
		if (rc != CF_OK)
			goto out;
	}
	if (torn > 0) {
		rc = drop_torn(a, end, torn, err);
		if (rc != CF_OK)
			goto out;
	}
	a->ckfd = openat(a->dirfd, AUDIT_CKPT,
	    O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (a->ckfd == -1) {
		rc = cf_error_sys(err, CF_E_IO, "open %s", AUDIT_CKPT);
		goto out;
	}
	a->ckpt_seq = c.seq;
	/* A log left by an older writer (whose checkpoint lagged) or just
	 * extended by drop_torn: cover it to its end now. */
	if (a->last_seq > c.seq) {
		if (fdatasync(a->fd) == -1) {
			rc = cf_error_sys(err, CF_E_IO, "fdatasync audit.log");
			goto out;
		}
		rc = ckpt_put(a, a->last_seq, a->last_mac, false, err);
		if (rc != CF_OK)
			goto out;
	}
	a->durable_seq = a->written_seq = a->last_seq;
	memcpy(a->written_mac, a->last_mac, CF_MAC_LEN);
	a->written_off = a->taken_off = lseek(a->fd, 0, SEEK_END);
	if (a->written_off == -1)
		rc = cf_error_sys(err, CF_E_IO, "seek audit.log");
out:
	cf_free(ck);
	return rc;
}

/* One open file per flusher, on the very file the writer locked. */
static cf_err
open_flushers(struct cf_audit *a, struct cf_error *err)
{
	struct stat	st, fst;
	unsigned	i;

	if (fstat(a->fd, &st) == -1)
		return cf_error_sys(err, CF_E_IO, "stat audit.log");
	for (i = 0; i < AUDIT_FLUSHERS_MAX; i++) {
		a->fl[i].fd = openat(a->dirfd, AUDIT_LOG,
		    O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (a->fl[i].fd == -1 || fstat(a->fl[i].fd, &fst) == -1)
			return cf_error_sys(err, CF_E_IO, "open audit.log");
		if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
			return cf_error_set(err, CF_E_IO,
			    "audit.log was replaced while opening");
	}
	return CF_OK;
}

static cf_err
start_sync(struct cf_audit *a, struct cf_error *err)
{
	pthread_condattr_t	ca;
	int			e;

	if (pthread_mutex_init(&a->mu, NULL) != 0)
		return cf_error_set(err, CF_E_NOMEM, "pthread_mutex_init");
	a->sync_init = 1;
	if (pthread_cond_init(&a->commit_cv, NULL) != 0)
		return cf_error_set(err, CF_E_NOMEM, "pthread_cond_init");
	a->sync_init = 2;
	if (pthread_condattr_init(&ca) != 0)
		return cf_error_set(err, CF_E_NOMEM, "pthread_condattr_init");
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	e = pthread_cond_init(&a->arrive_cv, &ca);
	if (e != 0) {
		(void)pthread_condattr_destroy(&ca);
		return cf_error_set(err, CF_E_NOMEM, "pthread_cond_init");
	}
	a->sync_init = 3;
	if (pthread_mutex_init(&a->wmu, NULL) != 0) {
		(void)pthread_condattr_destroy(&ca);
		return cf_error_set(err, CF_E_NOMEM, "pthread_mutex_init");
	}
	a->sync_init = 4;
	/* Monotonic too: the notifier's deadline for records written
	 * ahead. */
	e = pthread_cond_init(&a->flush_cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	if (e != 0)
		return cf_error_set(err, CF_E_NOMEM, "pthread_cond_init");
	a->sync_init = 5;
	if (pthread_mutex_init(&a->ckmu, NULL) != 0)
		return cf_error_set(err, CF_E_NOMEM, "pthread_mutex_init");
	a->sync_init = 6;
	return CF_OK;
}

cf_err
cf_audit_open(const char *dir, const struct cf_key *mac_key,
    struct cf_audit **out, struct cf_error *err)
{
	struct cf_audit	*a = NULL;
	unsigned	 i;
	cf_err		 rc;

	if (dir == NULL || mac_key == NULL || out == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit open: bad args");
	a = cf_calloc(1, sizeof(*a));
	if (a == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	a->dirfd = -1;
	a->fd = -1;
	a->ckfd = -1;
	cf_buf_init(&a->pending, PENDING_MAX);
	cf_buf_init(&a->scratch, AUDIT_LINE_MAX);
	/* A failed batch: swapped with a flusher's buffer, so the same
	 * bound. */
	cf_buf_init(&a->redo, PENDING_MAX);
	for (i = 0; i < AUDIT_FLUSHERS_MAX; i++) {
		a->fl[i].fd = -1;
		cf_buf_init(&a->fl[i].buf, PENDING_MAX);
	}
	a->nfl = AUDIT_FLUSHERS;
	a->delay_ns = AUDIT_COMMIT_DELAY_US * 1000ull;
	a->clock = mono_clock;
	rc = cf_audit_keys_derive(mac_key, &a->keys, err);
	if (rc == CF_OK)
		rc = cf_hmac_new(a->keys.rec, &a->rec_h, err);
	if (rc == CF_OK)
		rc = cf_hmac_new(a->keys.ckpt, &a->ck_h, err);
	if (rc != CF_OK)
		goto out;
	rc = start_sync(a, err);
	if (rc != CF_OK)
		goto out;
	rc = open_dir(dir, &a->dirfd, err);
	if (rc != CF_OK)
		goto out;
	rc = open_files(a, err);
	if (rc != CF_OK)
		goto out;
	rc = open_flushers(a, err);
	if (rc != CF_OK)
		goto out;
	*out = a;
	a = NULL;
out:
	audit_free(a);
	return rc;
}

/* Commit delay (PostgreSQL's commit_delay, made adaptive): when the last
 * commit carried more than one record, appenders are running
 * concurrently, and the ones just released by that commit are about to
 * append again.  Waiting a little for them (until the batch is as large
 * as the last one, at most delay_ns and half a commit time) roughly
 * doubles the batch of a saturated log.  A lone appender (last batch 1)
 * never waits.  Called by the leader with the mutex held and gathering
 * set. */
static void
gather(struct cf_audit *a)
{
	struct timespec	ts;
	uint64_t	max, end, now;

	max = a->delay_ns;
	if (max > a->last_commit_ns / 2)
		max = a->last_commit_ns / 2;
	if (a->last_batch <= 1 || max == 0)
		return;
	/* One wakeup: once the batch is as large as the last one, or at
	 * the deadline (waking the leader at every arrival cost a context
	 * switch per record). */
	a->gather_want = a->last_batch;
	end = a->clock(a->clock_arg) + max;
	while (!a->broken && a->last_seq - a->taken_seq < a->gather_want) {
		/* The injected clock says when the deadline has passed; the
		 * sleep until it is in real time. */
		now = a->clock(a->clock_arg);
		if (now >= end)
			break;
		deadline(cf_mono_ns() + (end - now), &ts);
		(void)pthread_cond_timedwait(&a->arrive_cv, &a->mu, &ts);
	}
}

/* Try again to write a log broken by a write that failed for lack of
 * space (set_broken, retryable), at most every RETRY_NS on the log's
 * clock.  Called by an appender with the mutex held (appends are refused
 * while broken anyway), with no commit in flight.
 *
 * SEC: the log is cut back to the end of the last durable batch, whose
 * last record must still be the one made durable (seq and MAC); then the
 * failed batch and the records queued behind it are written again, as
 * they were sealed (their seq and chain were fixed then: no number is
 * reused or skipped, so cf_audit_state never calls durable a record the
 * log lacks), followed by an audit:recover record; fdatasync, checkpoint,
 * and only then is the log whole again.  A failed fdatasync or checkpoint
 * write, or a log changed behind our back, makes the failure final. */
static void
recover(struct cf_audit *a)
{
	struct cf_audit_rec	 r;
	struct cf_buf		 body;
	struct audit_line	 l;
	struct cf_error		 e;
	struct stat		 st;
	uint8_t			 mac[CF_MAC_LEN];
	char			 why[AUDIT_FIELD_MAX];
	uint64_t		 now, first, last;
	enum audit_fail		 fail;
	int			 fd = a->fl[0].fd, eno = 0;
	bool			 final = false;
	cf_err			 rc;

	now = a->clock(a->clock_arg);
	if (!a->broken || !a->retryable || a->busy > 0 || now < a->retry_ns)
		return;
	a->retry_ns = now + RETRY_NS;
	cf_buf_init(&body, AUDIT_LINE_MAX);
	cf_error_clear(&e);
	fail = a->fail;
	a->fail = AUDIT_FAIL_NONE;
	first = a->written_seq + 1;
	last = a->last_seq;
	(void)pthread_mutex_lock(&a->wmu);
	if (fstat(a->fd, &st) == -1) {
		rc = cf_error_sys(&e, CF_E_IO, "stat audit.log");
		goto out;
	}
	final = true;
	if (st.st_size < a->written_off) {
		rc = cf_error_set(&e, CF_E_INTEGRITY, "audit.log is shorter "
		    "than its written part (truncated?)");
		goto out;
	}
	if (a->written_seq > 0) {
		rc = read_last(a, a->written_off, &l, &e);
		if (rc == CF_OK && (l.seq != a->written_seq ||
		    !cf_ct_equal(l.mac, a->written_mac, CF_MAC_LEN)))
			rc = cf_error_set(&e, CF_E_INTEGRITY, "audit.log "
			    "record %" PRIu64 " changed while the log was "
			    "broken", a->written_seq);
		if (rc != CF_OK) {
			final = rc != CF_E_NOMEM;
			goto out;
		}
	}
	final = false;
	memset(&r, 0, sizeof(r));
	r.time_us = cf_now_us();
	r.authn = "none";
	r.source = "local";
	r.action = "audit:recover";
	r.resource = AUDIT_DIR "/" AUDIT_LOG;
	r.decision = "allow";
	(void)snprintf(why, sizeof(why), "appends resumed after a failed "
	    "write (%s): records %" PRIu64 "-%" PRIu64 " written late, "
	    "their requests may have been refused", a->broken_msg, first,
	    last);
	r.reasons = why;
	r.result = "ok";
	r.bytes = (uint64_t)(st.st_size - a->written_off);	/* cut */
	rc = cf_audit_format_body(&r, &body, &e);
	cf_buf_reset(&a->scratch);
	if (rc == CF_OK)
		rc = cf_audit_seal(a->rec_h, last + 1, body.data, body.len,
		    a->last_mac, &a->scratch, mac, &e);
	if (rc != CF_OK)
		goto out;
	if (ftruncate(a->fd, a->written_off) == -1) {
		rc = cf_error_sys(&e, CF_E_IO, "truncate audit.log");
		goto out;
	}
	rc = write_all(fd, a->redo.data, a->redo.len, fail, &eno, &e);
	if (rc == CF_OK)
		rc = write_all(fd, a->pending.data, a->pending.len,
		    AUDIT_FAIL_NONE, &eno, &e);
	if (rc == CF_OK)
		rc = write_all(fd, a->scratch.data, a->scratch.len,
		    AUDIT_FAIL_NONE, &eno, &e);
	if (rc != CF_OK) {
		final = !space_errno(eno);
		goto out;
	}
	final = true;
	rc = sync_log(fd, fail, &e);
	if (rc == CF_OK)
		rc = ckpt_put(a, last + 1, mac, fail == AUDIT_FAIL_CKPT, &e);
	if (rc != CF_OK)
		goto out;
	a->last_seq = last + 1;
	memcpy(a->last_mac, mac, CF_MAC_LEN);
	a->stats.appends += a->last_seq - a->durable_seq;
	a->stats.commits++;
	memcpy(a->written_mac, mac, CF_MAC_LEN);
	a->written_off += (off_t)(a->redo.len + a->pending.len +
	    a->scratch.len);
	a->taken_off = a->written_off;
	a->taken_seq = a->written_seq = a->urgent_seq = a->last_seq;
	a->later_ns = 0;
	a->durable_seq = a->last_seq;
	a->done_batch = ++a->takes;
	a->lead_batch = 0;
	cf_buf_reset(&a->redo);
	cf_buf_reset(&a->pending);
	a->retryable = false;
	a->broken = false;
	log_warnx("audit: log writable again, appends resumed after record "
	    "%" PRIu64, a->last_seq);
	if (a->notify != NULL)
		(void)pthread_cond_signal(&a->flush_cv);
	(void)pthread_cond_broadcast(&a->commit_cv);
out:
	(void)pthread_mutex_unlock(&a->wmu);
	if (rc != CF_OK && final) {
		a->retryable = false;
		(void)snprintf(a->broken_msg, sizeof(a->broken_msg), "%s",
		    e.msg);
		log_warnx("audit: recovery failed, refusing further appends "
		    "until restarted: %s", e.msg);
	} else if (rc != CF_OK)
		log_warnx("audit: still cannot write the log: %s", e.msg);
	cf_buf_free(&body);
}

/* A record's body (its fields, escaped) is written here when it fits,
 * so that the append path allocates nothing but the queue's growth. */
#define BODY_STACK	8192

/* Format, seal and queue rec.  On success the mutex is held and *my is
 * the record's seq, *batch the batch that will carry it, and *wake says
 * that the gathering leader waits for this very record: the caller
 * signals arrive_cv (after dropping the mutex, if it drops it). */
static cf_err
queue_rec(struct cf_audit *a, const struct cf_audit_rec *rec, bool later,
    uint64_t *my, uint64_t *batch, bool *wake, struct cf_error *err)
{
	struct cf_audit_rec	 r;
	struct cf_buf		 heap;
	size_t			 flen[AUDIT_NFIELDS], bodylen;
	uint8_t			 mac[CF_MAC_LEN];
	char			 stk[BODY_STACK];
	const char		*body;
	cf_err			 rc;

	if (a == NULL || rec == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit append: bad args");
	r = *rec;
	if (r.time_us == 0)
		r.time_us = cf_now_us();
	/* Escaping and UTF-8 repair need no lock. */
	cf_buf_init(&heap, AUDIT_LINE_MAX);
	if (r.ctx == NULL && cf_audit_body_max(&r, flen) <= sizeof(stk)) {
		bodylen = cf_audit_body_write(&r, flen, stk);
		body = stk;
	} else {
		rc = cf_audit_format_body(&r, &heap, err);
		if (rc != CF_OK)
			goto out;
		body = heap.data;
		bodylen = heap.len;
	}

	(void)pthread_mutex_lock(&a->mu);
	if (a->broken)
		recover(a);
	/* Bound the queue behind a slow disk: wait for the commits in
	 * flight rather than grow without limit. */
	while (!a->broken && a->busy > 0 &&
	    a->pending.len + bodylen + 512 > a->pending.max)
		(void)pthread_cond_wait(&a->commit_cv, &a->mu);
	if (a->broken) {
		rc = cf_error_set(err, CF_E_IO, "audit log broken: %s",
		    a->broken_msg);
		goto unlock;
	}
	/* seq and prev are fixed here; only once the record is queued is
	 * the seq consumed, so a failure leaves no gap in the chain (and
	 * the seal leaves nothing of the record in the queue). */
	rc = cf_audit_seal(a->rec_h, a->last_seq + 1, body, bodylen,
	    a->last_mac, &a->pending, mac, err);
	if (rc != CF_OK)
		goto unlock;
	*my = ++a->last_seq;
	memcpy(a->last_mac, mac, CF_MAC_LEN);
	if (!later)
		a->urgent_seq = *my;
	/* The next take takes every pending record, this one included. */
	*batch = a->takes + 1;
	*wake = a->gathering && a->last_seq - a->taken_seq == a->gather_want;
	cf_buf_free(&heap);
	return CF_OK;
unlock:
	(void)pthread_mutex_unlock(&a->mu);
out:
	cf_buf_free(&heap);
	return rc;
}

/* Commit everything pending as one batch: the leader's work.  Called
 * with the mutex held when a flusher is free and nobody gathers; returns
 * with it held, the batch durable (or the log broken) and its waiters
 * woken.  With may_defer (the notifier, one flusher), a batch of records
 * nobody waits for (cf_audit_submit_later) is only written: readers see
 * it at once, and the next commit's fdatasync and checkpoint, at most
 * AUDIT_LATER_MS later, make it durable (the fdatasync covers every write
 * completed before it).  SEC: nothing is acknowledged by such a write,
 * so the checkpoint guarantee is untouched. */
static void
lead(struct cf_audit *a, bool may_defer)
{
	struct cf_buf		 tmp;
	struct flusher		*f;
	struct cf_error		 e;
	uint8_t			 bmac[CF_MAC_LEN];
	uint64_t		 bseq, t0, b, nb, first;
	enum audit_fail		 fail;
	int			 eno = 0;
	bool			 retry, defer;
	cf_err			 rc;

	for (f = &a->fl[0]; f->busy; f++)
		;
	f->busy = true;
	a->busy++;
	/* Nobody waits for any record of the batch: write it ahead. */
	defer = may_defer && a->nfl == 1 && a->urgent_seq <= a->taken_seq &&
	    a->last_seq > a->taken_seq;
	if (a->busy == 1 && !defer) {
		a->gathering = true;
		gather(a);
		a->gathering = false;
	}
	tmp = f->buf;
	f->buf = a->pending;
	a->pending = tmp;
	a->taken_off += (off_t)f->buf.len;
	f->end_off = a->taken_off;
	first = a->taken_seq;
	bseq = a->taken_seq = a->last_seq;
	b = ++a->takes;
	if (a->lead_batch == b)
		a->lead_batch = 0;	/* asked and answered */
	memcpy(bmac, a->last_mac, CF_MAC_LEN);
	fail = a->fail;
	a->fail = AUDIT_FAIL_NONE;
	/* Batches reach the file in the order they were taken: wmu is taken
	 * before mu is dropped. */
	(void)pthread_mutex_lock(&a->wmu);
	(void)pthread_mutex_unlock(&a->mu);

	t0 = a->clock(a->clock_arg);
	cf_error_clear(&e);
	rc = write_all(f->fd, f->buf.data, f->buf.len, fail, &eno, &e);
	retry = rc != CF_OK && space_errno(eno);
	(void)pthread_mutex_unlock(&a->wmu);
	/* fdatasync makes durable every write completed before it, the
	 * batches of earlier leaders included. */
	if (rc == CF_OK && !defer)
		rc = sync_log(f->fd, fail, &e);
	/* SEC: the checkpoint names the batch before anyone is told it is
	 * durable: an acknowledged record cannot be cut off unseen. */
	if (rc == CF_OK && !defer)
		rc = ckpt_put(a, bseq, bmac, fail == AUDIT_FAIL_CKPT, &e);

	(void)pthread_mutex_lock(&a->mu);
	if (rc != CF_OK) {
		/* A write short of space can be tried again: keep the batch
		 * (recover()).  Only with one commit in flight, so that the
		 * batch is exactly what follows the written end. */
		retry = retry && a->nfl == 1 && a->busy == 1 && !a->broken &&
		    a->redo.len == 0;
		if (retry) {
			tmp = a->redo;
			a->redo = f->buf;
			f->buf = tmp;
		}
		set_broken(a, e.msg, retry);
	}
	cf_buf_reset(&f->buf);
	f->busy = false;
	a->busy--;
	if (rc == CF_OK && !a->broken && bseq > a->written_seq) {
		a->written_seq = bseq;
		memcpy(a->written_mac, bmac, CF_MAC_LEN);
		a->written_off = f->end_off;
	}
	if (defer) {
		if (rc == CF_OK && a->later_ns == 0)
			a->later_ns = a->clock(a->clock_arg);
		a->stats.deferred++;
		goto wake;
	}
	a->last_commit_ns = a->clock(a->clock_arg) - t0;
	/* The commit delay's measure: the records this commit took, not
	 * those written ahead before it (one flusher: the previous commit
	 * ended where this one took from); with several in flight, those
	 * of the commits still running too. */
	if (a->nfl > 1)
		first = a->durable_seq;
	a->last_batch = bseq - (first < bseq ? first : bseq);
	a->stats.commits++;
	a->stats.commit_ns += a->last_commit_ns;
	a->stats.commit_b[audit_le_idx(a->last_commit_ns)]++;
	for (nb = 0; nb < AUDIT_NBATCH &&
	    (double)a->last_batch > audit_batch_le[nb]; nb++)
		;
	a->stats.batch_b[nb]++;
	if (rc == CF_OK && !a->broken && bseq > a->durable_seq) {
		a->stats.appends += bseq - a->durable_seq;
		a->durable_seq = bseq;
		if (bseq >= a->written_seq)
			a->later_ns = 0;
		/* Batches up to b are durable: wake their waiters (at most
		 * AUDIT_SLOTS slots cover them all). */
		for (nb = 0; a->done_batch < b && nb < AUDIT_SLOTS; nb++)
			slot_wake(a, ++a->done_batch, INT_MAX);
		a->done_batch = b;
	}
wake:
	/* Records queued meanwhile need a leader: wake one of their waiters
	 * (an appender arriving now may lead first), and the notifier, which
	 * leads for records nobody waits on (cf_audit_submit). */
	if (!a->broken && a->last_seq > a->taken_seq && a->busy < a->nfl &&
	    !a->gathering) {
		a->lead_batch = a->takes + 1;
		slot_wake(a, a->takes + 1, 1);
	}
	if (a->notify != NULL)
		(void)pthread_cond_signal(&a->flush_cv);
	(void)pthread_cond_broadcast(&a->commit_cv);
}

cf_err
cf_audit_append(struct cf_audit *a, const struct cf_audit_rec *rec,
    uint64_t *seq, struct cf_error *err)
{
	uint64_t	my, batch;
	bool		wake;
	cf_err		rc;

	if ((rc = queue_rec(a, rec, false, &my, &batch, &wake, err)) != CF_OK)
		return rc;
	if (wake)
		(void)pthread_cond_signal(&a->arrive_cv);
	/* SEC: do not return before the record is durable. */
	while (a->durable_seq < my && !a->broken) {
		if (a->hold) {
			(void)pthread_cond_wait(&a->commit_cv, &a->mu);
			continue;
		}
		if (my <= a->taken_seq || a->gathering || a->busy >= a->nfl) {
			(void)pthread_mutex_unlock(&a->mu);
			slot_wait(a, batch, my);
			/* Durable: done, without the mutex. */
			if (atomic_load(&a->durable_seq) >= my) {
				if (seq != NULL)
					*seq = my;
				return CF_OK;
			}
			(void)pthread_mutex_lock(&a->mu);
			continue;
		}
		lead(a, false);
	}
	if (a->durable_seq >= my) {
		rc = CF_OK;
		if (seq != NULL)
			*seq = my;
	} else
		rc = cf_error_set(err, CF_E_IO, "audit log broken: %s",
		    a->broken_msg);
	(void)pthread_mutex_unlock(&a->mu);
	return rc;
}

static cf_err
submit(struct cf_audit *a, const struct cf_audit_rec *rec, bool later,
    uint64_t *seq, struct cf_error *err)
{
	uint64_t	my, batch;
	bool		wake;
	cf_err		rc;

	if (a != NULL && a->notify == NULL)
		return cf_error_set(err, CF_E_INVAL,
		    "audit submit: no notifier set");
	rc = queue_rec(a, rec, later, &my, &batch, &wake, err);
	if (rc != CF_OK)
		return rc;
	(void)pthread_mutex_unlock(&a->mu);
	/* The notifier thread leads the commit if nobody else does, or
	 * gathers it.  Woken after the unlock, so that it does not wake
	 * only to block on the mutex this thread still holds (it checks
	 * the queue under the mutex before it sleeps: no wakeup is lost). */
	if (wake)
		(void)pthread_cond_signal(&a->arrive_cv);
	(void)pthread_cond_signal(&a->flush_cv);
	*seq = my;
	return CF_OK;
}

cf_err
cf_audit_submit(struct cf_audit *a, const struct cf_audit_rec *rec,
    uint64_t *seq, struct cf_error *err)
{
	return submit(a, rec, false, seq, err);
}

cf_err
cf_audit_submit_later(struct cf_audit *a, const struct cf_audit_rec *rec,
    uint64_t *seq, struct cf_error *err)
{
	return submit(a, rec, true, seq, err);
}

int
cf_audit_state(struct cf_audit *a, uint64_t seq)
{
	if (atomic_load(&a->durable_seq) >= seq)
		return 1;
	return atomic_load(&a->broken) ? -1 : 0;
}

/* The notifier thread: tells the owner (cf_audit_set_notify) how far the
 * log is durable after every commit, and leads commits of records that
 * were submitted, not appended (no appender waits to lead them).  Asked
 * to stop, it first makes every submitted record durable. */
static void *
notify_main(void *arg)
{
	struct cf_audit	*a = arg;
	struct timespec	 ts;
	uint64_t	 d, g, now, end;
	bool		 b, idle;

	(void)pthread_mutex_lock(&a->mu);
	for (;;) {
		/* Each break is announced (a log that recovered may
		 * break again). */
		if (a->durable_seq > a->notified ||
		    (a->broken && a->notified_gen != a->broken_gen)) {
			d = a->durable_seq;
			b = a->broken;
			g = a->broken_gen;
			(void)pthread_mutex_unlock(&a->mu);
			a->notify(a->notify_arg, d, b);
			(void)pthread_mutex_lock(&a->mu);
			a->notified = d;
			if (b)
				a->notified_gen = g;
			continue;
		}
		idle = !a->broken && !a->hold && !a->gathering &&
		    a->busy < a->nfl;
		if (idle && a->last_seq > a->taken_seq) {
			lead(a, !a->notify_stop);
			continue;
		}
		/* Records written ahead (lead()) are made durable at the
		 * latest AUDIT_LATER_MS after the first of them. */
		if (idle && a->written_seq > a->durable_seq &&
		    a->later_ns != 0) {
			now = a->clock(a->clock_arg);
			end = a->later_ns + AUDIT_LATER_MS * 1000000ull;
			if (a->notify_stop || now >= end) {
				lead(a, false);
				continue;
			}
			deadline(cf_mono_ns() + (end - now), &ts);
			(void)pthread_cond_timedwait(&a->flush_cv, &a->mu,
			    &ts);
			continue;
		}
		/* Stopping: only once every submitted record is durable
		 * (or can never be). */
		if (a->notify_stop &&
		    (a->broken || a->durable_seq >= a->last_seq))
			break;
		(void)pthread_cond_wait(&a->flush_cv, &a->mu);
	}
	(void)pthread_mutex_unlock(&a->mu);
	return NULL;
}

void
cf_audit_stop_notify(struct cf_audit *a)
{
	if (a == NULL || !a->notify_started)
		return;
	(void)pthread_mutex_lock(&a->mu);
	a->notify_stop = true;
	(void)pthread_cond_signal(&a->flush_cv);
	(void)pthread_mutex_unlock(&a->mu);
	(void)pthread_join(a->notify_thr, NULL);
	a->notify_started = false;
	/* Submitting is over: appends lead their own commits. */
	(void)pthread_mutex_lock(&a->mu);
	a->notify = NULL;
	a->notify_stop = false;
	(void)pthread_mutex_unlock(&a->mu);
}

cf_err
cf_audit_set_notify(struct cf_audit *a, cf_audit_notify_fn fn, void *arg,
    struct cf_error *err)
{
	if (a->notify != NULL || fn == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit notify: set once");
	(void)pthread_mutex_lock(&a->mu);
	a->notify = fn;
	a->notify_arg = arg;
	a->notified = a->durable_seq;
	a->notified_gen = a->broken_gen;
	(void)pthread_mutex_unlock(&a->mu);
	if (pthread_create(&a->notify_thr, NULL, notify_main, a) != 0) {
		a->notify = NULL;
		return cf_error_set(err, CF_E_NOMEM,
		    "audit notify: cannot start a thread");
	}
	a->notify_started = true;
	return CF_OK;
}

void
cf_audit_test_fail(struct cf_audit *a, enum audit_fail what)
{
	(void)pthread_mutex_lock(&a->mu);
	a->fail = what;
	(void)pthread_mutex_unlock(&a->mu);
}

void
cf_audit_set_clock(struct cf_audit *a, cf_audit_clock_fn fn, void *arg)
{
	(void)pthread_mutex_lock(&a->mu);
	a->clock = fn != NULL ? fn : mono_clock;
	a->clock_arg = arg;
	(void)pthread_mutex_unlock(&a->mu);
}

void
cf_audit_test_hold(struct cf_audit *a, bool hold)
{
	(void)pthread_mutex_lock(&a->mu);
	a->hold = hold;
	if (!hold) {
		(void)pthread_cond_broadcast(&a->commit_cv);
		(void)pthread_cond_signal(&a->flush_cv);
	}
	(void)pthread_mutex_unlock(&a->mu);
}

void
cf_audit_test_queue(struct cf_audit *a, uint64_t *pending, bool *gathering)
{
	(void)pthread_mutex_lock(&a->mu);
	*pending = a->last_seq - a->taken_seq;
	*gathering = a->gathering;
	(void)pthread_mutex_unlock(&a->mu);
}

void
cf_audit_set_flushers(struct cf_audit *a, unsigned n)
{
	(void)pthread_mutex_lock(&a->mu);
	a->nfl = n < 1 ? 1 : n > AUDIT_FLUSHERS_MAX ? AUDIT_FLUSHERS_MAX : n;
	(void)pthread_mutex_unlock(&a->mu);
}

void
cf_audit_set_commit_delay(struct cf_audit *a, uint64_t us)
{
	(void)pthread_mutex_lock(&a->mu);
	a->delay_ns = us * 1000ull;
	(void)pthread_mutex_unlock(&a->mu);
}

void
cf_audit_get_stats(struct cf_audit *a, struct audit_stats *st)
{
	(void)pthread_mutex_lock(&a->mu);
	*st = a->stats;
	(void)pthread_mutex_unlock(&a->mu);
}
