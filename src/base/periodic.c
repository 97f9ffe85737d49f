/* src/base/periodic.c: see periodic.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/mem.h"
#include "base/periodic.h"

struct cf_periodic {
	cf_periodic_fn		 fn;
	void			*arg;
	int64_t			 period_ms;
	int64_t			 first_ms;
	struct cf_periodic_clock clock;
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;	/* CLOCK_MONOTONIC */
	/* Under mu. */
	bool			 stop;
	bool			 kicked;
};

static int64_t
mono_now_ms(void *arg)
{
	struct timespec	ts;

	(void)arg;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
mono_wait(void *arg, pthread_cond_t *cv, pthread_mutex_t *mu,
    int64_t until_ms)
{
	struct timespec	ts;

	(void)arg;
	ts.tv_sec = (time_t)(until_ms / 1000);
	ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
	return pthread_cond_timedwait(cv, mu, &ts);
}

static void *
periodic_main(void *arg)
{
	struct cf_periodic	*p = arg;
	int64_t			 delay = p->first_ms, now, until;
	int			 w;

	(void)pthread_mutex_lock(&p->mu);
	for (;;) {
		if (delay < 0)
			delay = p->period_ms;
		if (delay > 0) {
			/* One deadline for the whole wait: a spurious wake-up
			 * does not start the period again. */
			now = p->clock.now_ms(p->clock.arg);
			until = now > INT64_MAX - delay ? INT64_MAX :
			    now + delay;
			w = 0;
			while (!p->stop && !p->kicked && w != ETIMEDOUT)
				w = p->clock.wait(p->clock.arg, &p->cv, &p->mu,
				    until);
		}
		p->kicked = false;
		if (p->stop)
			break;
		(void)pthread_mutex_unlock(&p->mu);
		delay = p->fn(p, p->arg);
		(void)pthread_mutex_lock(&p->mu);
	}
	(void)pthread_mutex_unlock(&p->mu);
	return NULL;
}

cf_err
cf_periodic_start(const struct cf_periodic_job *job,
    struct cf_periodic **out, struct cf_error *err)
{
	struct cf_periodic	*p = NULL;
	pthread_condattr_t	 ca;
	bool			 mu = false, cv = false;
	cf_err			 rc = CF_OK;

	if (job->fn == NULL || job->period_ms <= 0)
		return cf_error_set(err, CF_E_INVAL, "periodic job %s: no "
		    "function or no period", job->name);
	if ((p = cf_calloc(1, sizeof(*p))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	p->fn = job->fn;
	p->arg = job->arg;
	p->period_ms = job->period_ms;
	p->first_ms = job->first_ms;
	if (job->clock != NULL)
		p->clock = *job->clock;
	else {
		p->clock.now_ms = mono_now_ms;
		p->clock.wait = mono_wait;
	}
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		rc = cf_error_set(err, CF_E_INTERNAL, "mutex init");
		goto out;
	}
	mu = true;
	if (pthread_condattr_init(&ca) != 0) {
		rc = cf_error_set(err, CF_E_INTERNAL, "condattr init");
		goto out;
	}
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&p->cv, &ca) != 0) {
		(void)pthread_condattr_destroy(&ca);
		rc = cf_error_set(err, CF_E_INTERNAL, "cond init");
		goto out;
	}
	(void)pthread_condattr_destroy(&ca);
	cv = true;
	/* The thread takes mu before its first run, so *out is written
	 * before fn can read it (through its arg). */
	(void)pthread_mutex_lock(&p->mu);
	if (pthread_create(&p->th, NULL, periodic_main, p) != 0) {
		(void)pthread_mutex_unlock(&p->mu);
		rc = cf_error_set(err, CF_E_NOMEM, "cannot start the %s "
		    "thread", job->name);
		goto out;
	}
	*out = p;
	(void)pthread_mutex_unlock(&p->mu);
	p = NULL;
out:
	if (p != NULL) {
		if (cv)
			(void)pthread_cond_destroy(&p->cv);
		if (mu)
			(void)pthread_mutex_destroy(&p->mu);
		cf_free(p);
	}
	return rc;
}

void
cf_periodic_kick(struct cf_periodic *p)
{
	if (p == NULL)
		return;
	(void)pthread_mutex_lock(&p->mu);
	p->kicked = true;
	(void)pthread_cond_broadcast(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
}

bool
cf_periodic_stopping(struct cf_periodic *p)
{
	bool	stop;

	if (p == NULL)
		return false;
	(void)pthread_mutex_lock(&p->mu);
	stop = p->stop;
	(void)pthread_mutex_unlock(&p->mu);
	return stop;
}

void
cf_periodic_hold(struct cf_periodic *p)
{
	if (p == NULL)
		return;
	(void)pthread_mutex_lock(&p->mu);
	while (!p->stop)
		(void)pthread_cond_wait(&p->cv, &p->mu);
	(void)pthread_mutex_unlock(&p->mu);
}

void
cf_periodic_stop(struct cf_periodic *p)
{
	if (p == NULL)
		return;
	(void)pthread_mutex_lock(&p->mu);
	p->stop = true;
	(void)pthread_cond_broadcast(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
	(void)pthread_join(p->th, NULL);
	(void)pthread_cond_destroy(&p->cv);
	(void)pthread_mutex_destroy(&p->mu);
	cf_free(p);
}
