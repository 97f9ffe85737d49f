/* src/client/sink.c: where a download's body goes: written to an fd and
 * hashed with SHA-256, in order, off libcurl's thread once it is large.
 *
 * libcurl calls the write callback on the thread that also decrypts TLS;
 * hashing there (~0.67 s/GiB) made that thread the bottleneck of
 * `coffer get`.  So a body that outgrows one buffer is copied into one of
 * SINK_NBUF fixed buffers, and a consumer thread writes each full buffer
 * to the fd and then hashes it, while the caller fills the next.  The
 * caller waits when every buffer is queued, so memory is bounded and does
 * not depend on the body size.  Below one buffer (most downloads) or when
 * the thread or its buffers cannot be had, bytes are written and hashed
 * synchronously, as before.
 *
 * The ring: buffers head, head+1, ... (mod SINK_NBUF), nq of them, are
 * queued or being written by the thread; the caller fills buffer
 * (head + nq) % SINK_NBUF, which is free because nq < SINK_NBUF whenever
 * the caller runs.  head, nq, len[] and stop are guarded by mu.
 *
 * SEC: the digest covers exactly the bytes written to the fd, in order:
 * the thread hashes a buffer only after writing all of it, and after the
 * first failed write it neither writes nor hashes anything more.  The
 * caller reads the digest only after the thread has been joined. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "client/client_int.h"
#include "crypto/crypto.h"

#define SINK_NBUF	4
#define SINK_BUFSZ	((size_t)1 << 20)

struct cf_cli_sink {
	int			 fd;
	struct cf_sha256	*sha;
	uint64_t		 total;		/* bytes given to the sink */
	atomic_int		 werr;		/* errno of the first failure */

	/* The thread, set up by thr_start(). */
	bool			 thr_on;	/* thr runs; mu, cv exist */
	bool			 thr_failed;	/* could not start:
						 * synchronous */
	bool			 finished;	/* no more writes */
	uint8_t			*mem;		/* SINK_NBUF * SINK_BUFSZ */
	size_t			 cur;		/* buffer the caller fills */
	size_t			 fill;		/* bytes in it */
	pthread_t		 thr;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	size_t			 head;
	size_t			 nq;
	size_t			 len[SINK_NBUF];
	bool			 stop;
};

/* Write all of p to fd, retrying after EINTR and short writes; 0 or the
 * errno of the failure. */
static int
write_all(int fd, const uint8_t *p, size_t len)
{
	size_t	off;
	ssize_t	n;

	for (off = 0; off < len; off += (size_t)n) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1)
			return errno != 0 ? errno : EIO;
	}
	return 0;
}

/* Write, and only then hash; the first failure is kept in werr. */
static void
put_bytes(struct cf_cli_sink *s, const uint8_t *p, size_t len)
{
	int	e;

	e = write_all(s->fd, p, len);
	if (e != 0) {
		atomic_store(&s->werr, e);
		return;
	}
	cf_sha256_update(s->sha, p, len);
}

static void *
sink_main(void *arg)
{
	struct cf_cli_sink	*s = arg;
	size_t			 i, n;

	(void)pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->nq > 0) {
			i = s->head;
			n = s->len[i];
			(void)pthread_mutex_unlock(&s->mu);
			/* After a failure the rest is dropped: the digest
			 * must not cover bytes that were not written. */
			if (atomic_load(&s->werr) == 0)
				put_bytes(s, s->mem + i * SINK_BUFSZ, n);
			(void)pthread_mutex_lock(&s->mu);
			s->head = (s->head + 1) % SINK_NBUF;
			s->nq--;
			(void)pthread_cond_broadcast(&s->cv);
			continue;
		}
		if (s->stop)
			break;
		(void)pthread_cond_wait(&s->cv, &s->mu);
	}
	(void)pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Start the thread and take the buffers.  false: stay synchronous, which
 * is correct, only slower. */
static bool
thr_start(struct cf_cli_sink *s)
{
	sigset_t	all, old;
	int		e;

	if (s->thr_on)
		return true;
	if (s->thr_failed)
		return false;
	s->thr_failed = true;
	s->mem = cf_malloc(SINK_NBUF * SINK_BUFSZ);
	if (s->mem == NULL)
		return false;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		goto nomu;
	if (pthread_cond_init(&s->cv, NULL) != 0)
		goto nocv;
	/* The thread inherits this mask: SIGINT, SIGTERM and SIGHUP keep
	 * going to the main thread, whose transfer polls for them.  Signals
	 * a write raises for its own thread stay unblocked there: SIGPIPE
	 * on a closed stdout ends the process as it did before, and
	 * blocking a fault would only make the kernel kill us silently. */
	(void)sigfillset(&all);
	(void)sigdelset(&all, SIGPIPE);
	(void)sigdelset(&all, SIGXFSZ);
	(void)sigdelset(&all, SIGSEGV);
	(void)sigdelset(&all, SIGBUS);
	(void)sigdelset(&all, SIGFPE);
	(void)sigdelset(&all, SIGILL);
	(void)sigdelset(&all, SIGABRT);
	s->cur = 0;
	s->fill = 0;
	s->head = 0;
	s->nq = 0;
	s->stop = false;
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&s->thr, NULL, sink_main, s);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		goto nothr;
	s->thr_on = true;
	s->thr_failed = false;
	return true;
nothr:
	(void)pthread_cond_destroy(&s->cv);
nocv:
	(void)pthread_mutex_destroy(&s->mu);
nomu:
	CF_FREE(s->mem);
	return false;
}

/* Queue the caller's buffer (fill > 0) and wait for a free one. */
static void
submit(struct cf_cli_sink *s)
{
	(void)pthread_mutex_lock(&s->mu);
	s->len[s->cur] = s->fill;
	s->nq++;
	(void)pthread_cond_broadcast(&s->cv);
	while (s->nq == SINK_NBUF)
		(void)pthread_cond_wait(&s->cv, &s->mu);
	s->cur = (s->head + s->nq) % SINK_NBUF;
	(void)pthread_mutex_unlock(&s->mu);
	s->fill = 0;
}

/* Stop the thread after it has written what is queued (and, if flush,
 * the caller's partial buffer), and join it. */
static void
thr_stop(struct cf_cli_sink *s, bool flush)
{
	if (!s->thr_on)
		return;
	(void)pthread_mutex_lock(&s->mu);
	if (flush && s->fill > 0) {
		s->len[s->cur] = s->fill;
		s->nq++;
	}
	s->fill = 0;
	s->stop = true;
	(void)pthread_cond_broadcast(&s->cv);
	(void)pthread_mutex_unlock(&s->mu);
	(void)pthread_join(s->thr, NULL);
	(void)pthread_cond_destroy(&s->cv);
	(void)pthread_mutex_destroy(&s->mu);
	s->thr_on = false;
	CF_FREE(s->mem);
}

static cf_err
sink_failed(const struct cf_cli_sink *s, struct cf_error *err)
{
	errno = atomic_load(&s->werr);
	return cf_error_sys(err, CF_E_IO, "cannot write the download");
}

cf_err
cf_cli_sink_new(int fd, struct cf_cli_sink **out, struct cf_error *err)
{
	struct cf_cli_sink	*s;
	cf_err			 rc;

	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	s->fd = fd;
	atomic_init(&s->werr, 0);
	rc = cf_sha256_new(&s->sha, err);
	if (rc != CF_OK) {
		cf_free(s);
		return rc;
	}
	*out = s;
	return CF_OK;
}

cf_err
cf_cli_sink_write(struct cf_cli_sink *s, const void *p, size_t len,
    struct cf_error *err)
{
	const uint8_t	*b = p;
	size_t		 n;

	if (s->finished)
		return cf_error_set(err, CF_E_INVAL, "sink: write after "
		    "finish");
	if (atomic_load(&s->werr) != 0)
		return sink_failed(s, err);
	if (len == 0)
		return CF_OK;
	/* Small bodies never pay for a thread or a copy. */
	if (!s->thr_on && (s->total + len <= SINK_BUFSZ || !thr_start(s))) {
		put_bytes(s, b, len);
		if (atomic_load(&s->werr) != 0)
			return sink_failed(s, err);
		s->total += len;
		return CF_OK;
	}
	s->total += len;
	while (len > 0) {
		n = SINK_BUFSZ - s->fill;
		if (n > len)
			n = len;
		memcpy(s->mem + s->cur * SINK_BUFSZ + s->fill, b, n);
		s->fill += n;
		b += n;
		len -= n;
		if (s->fill < SINK_BUFSZ)
			continue;
		submit(s);
		/* Report a failure of the thread now, not a call later. */
		if (atomic_load(&s->werr) != 0)
			return sink_failed(s, err);
	}
	return CF_OK;
}

cf_err
cf_cli_sink_finish(struct cf_cli_sink *s, struct cf_error *err)
{
	s->finished = true;
	thr_stop(s, atomic_load(&s->werr) == 0);
	if (atomic_load(&s->werr) != 0)
		return sink_failed(s, err);
	return CF_OK;
}

int
cf_cli_sink_errno(const struct cf_cli_sink *s)
{
	return atomic_load(&s->werr);
}

cf_err
cf_cli_sink_final(struct cf_cli_sink *s, uint8_t d[CF_SHA256_LEN],
    struct cf_error *err)
{
	cf_err	rc;

	rc = cf_cli_sink_finish(s, err);
	if (rc != CF_OK)
		return rc;
	if (s->sha == NULL)
		return cf_error_set(err, CF_E_INVAL, "sink: final twice");
	cf_sha256_final(s->sha, d);
	cf_sha256_free(s->sha);
	s->sha = NULL;
	return CF_OK;
}

void
cf_cli_sink_free(struct cf_cli_sink *s)
{
	if (s == NULL)
		return;
	thr_stop(s, false);
	cf_sha256_free(s->sha);
	cf_free(s);
}
