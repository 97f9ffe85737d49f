/* src/base/worker.c: see worker.h. */
#include <pthread.h>
#include <stdbool.h>

#include "base/mem.h"
#include "base/worker.h"

struct cf_worker {
	cf_worker_fn	 fn;
	void		*arg;
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	/* Under mu. */
	const uint8_t	*job;
	size_t		 len;
	bool		 pending;
	bool		 stop;
	cf_err		 rc;		/* sticky */
	struct cf_error	 err;
};

static void *
worker_main(void *vw)
{
	struct cf_worker	*w = vw;
	struct cf_error		 e;
	const uint8_t		*p;
	size_t			 n;
	cf_err			 rc;

	(void)pthread_mutex_lock(&w->mu);
	for (;;) {
		if (w->pending) {
			p = w->job;
			n = w->len;
			(void)pthread_mutex_unlock(&w->mu);
			cf_error_clear(&e);
			rc = w->fn(w->arg, p, n, &e);
			(void)pthread_mutex_lock(&w->mu);
			if (rc != CF_OK && w->rc == CF_OK) {
				w->rc = rc;
				w->err = e;
			}
			w->pending = false;
			(void)pthread_cond_broadcast(&w->cv);
			continue;
		}
		if (w->stop)
			break;
		(void)pthread_cond_wait(&w->cv, &w->mu);
	}
	(void)pthread_mutex_unlock(&w->mu);
	return NULL;
}

cf_err
cf_worker_start(cf_worker_fn fn, void *arg, struct cf_worker **out,
    struct cf_error *err)
{
	struct cf_worker	*w;

	*out = NULL;
	if ((w = cf_calloc(1, sizeof(*w))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "worker: out of memory");
	w->fn = fn;
	w->arg = arg;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		goto nomu;
	if (pthread_cond_init(&w->cv, NULL) != 0)
		goto nocv;
	if (pthread_create(&w->thr, NULL, worker_main, w) != 0)
		goto nothr;
	*out = w;
	return CF_OK;
nothr:
	(void)pthread_cond_destroy(&w->cv);
nocv:
	(void)pthread_mutex_destroy(&w->mu);
nomu:
	cf_free(w);
	return cf_error_set(err, CF_E_NOMEM, "worker: cannot start a thread");
}

/* With mu held: wait for the job in flight; the sticky error. */
static cf_err
idle(struct cf_worker *w, struct cf_error *err)
{
	while (w->pending)
		(void)pthread_cond_wait(&w->cv, &w->mu);
	if (w->rc != CF_OK && err != NULL)
		*err = w->err;
	return w->rc;
}

cf_err
cf_worker_submit(struct cf_worker *w, const uint8_t *p, size_t n,
    struct cf_error *err)
{
	cf_err	rc;

	(void)pthread_mutex_lock(&w->mu);
	rc = idle(w, err);
	if (rc == CF_OK) {
		w->job = p;
		w->len = n;
		w->pending = true;
		(void)pthread_cond_signal(&w->cv);
	}
	(void)pthread_mutex_unlock(&w->mu);
	return rc;
}

cf_err
cf_worker_wait(struct cf_worker *w, struct cf_error *err)
{
	cf_err	rc;

	(void)pthread_mutex_lock(&w->mu);
	rc = idle(w, err);
	(void)pthread_mutex_unlock(&w->mu);
	return rc;
}

void
cf_worker_stop(struct cf_worker *w)
{
	if (w == NULL)
		return;
	(void)pthread_mutex_lock(&w->mu);
	w->stop = true;
	(void)pthread_cond_broadcast(&w->cv);
	(void)pthread_mutex_unlock(&w->mu);
	/* The thread finishes a pending job first. */
	(void)pthread_join(w->thr, NULL);
	(void)pthread_cond_destroy(&w->cv);
	(void)pthread_mutex_destroy(&w->mu);
	cf_free(w);
}
