/* src/base/periodic.h: a job that runs a function on a thread of its own,
 * every period (the core's orphan sweep, purge job and key rotation
 * schedule).
 *
 * The thread first waits first_ms, then runs fn, then waits for what fn
 * returned, and so on: CF_PERIODIC_PERIOD (any negative value) waits the
 * period, 0 runs again at once (a pass left unfinished), anything else
 * waits that long (a retry sooner than the period).  cf_periodic_kick
 * cuts the wait in progress short ("run now"); a kick while fn runs makes
 * the next wait zero, so nothing asked for is lost.  cf_periodic_stop
 * ends a wait at once but lets a run finish: a long run asks
 * cf_periodic_stopping between its steps.  fn runs without the job's
 * lock, so it may kick or ask about its own job.
 *
 * Waits are timed by CLOCK_MONOTONIC (wall-clock steps do not move them);
 * tests inject a clock of their own (struct cf_periodic_clock) to move
 * time without sleeping. */
#ifndef CF_BASE_PERIODIC_H
#define CF_BASE_PERIODIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define CF_PERIODIC_PERIOD	(-1)

struct cf_periodic;

/* One run, on the job's thread; p is the job (for cf_periodic_stopping,
 * cf_periodic_hold, cf_periodic_kick).  Returns the wait before the next
 * run, in milliseconds, as above. */
typedef int64_t	(*cf_periodic_fn)(struct cf_periodic *p, void *arg);

/* The clock the waits are timed by.  now_ms: milliseconds, never going
 * back.  wait: pthread_cond_timedwait's contract with the deadline in
 * now_ms's milliseconds: called with mu held, it waits on cv (which kick
 * and stop signal), and returns 0 when woken (spuriously too) or
 * ETIMEDOUT once now_ms() >= until_ms, with mu held again. */
struct cf_periodic_clock {
	int64_t	 (*now_ms)(void *arg);
	int	 (*wait)(void *arg, pthread_cond_t *cv, pthread_mutex_t *mu,
		    int64_t until_ms);
	void	 *arg;
};

struct cf_periodic_job {
	const char	*name;		/* in messages: "cannot start the
					 * <name> thread" */
	int64_t		 period_ms;	/* > 0 */
	int64_t		 first_ms;	/* the first wait: 0 runs at once;
					 * CF_PERIODIC_PERIOD */
	cf_periodic_fn	 fn;
	void		*arg;		/* fn's; must outlive the job */
	/* NULL: CLOCK_MONOTONIC.  Copied; its arg must outlive the job. */
	const struct cf_periodic_clock *clock;
};

/* Start the job's thread.  job is copied (name is borrowed for the
 * call).  On success *out owns the job, for cf_periodic_stop, and is
 * written before fn first runs (so fn may find it through its arg); on
 * failure *out is untouched: CF_E_INVAL for a period <= 0 or no fn, CF_E_NOMEM
 * when the memory or the thread cannot be had, CF_E_INTERNAL when the
 * lock cannot be made. */
cf_err	cf_periodic_start(const struct cf_periodic_job *job,
	    struct cf_periodic **out, struct cf_error *err);
/* Run now: end the wait in progress, or skip the next one if fn is
 * running.  Any thread; NULL is a no-op. */
void	cf_periodic_kick(struct cf_periodic *p);
/* Has cf_periodic_stop been called?  Any thread; NULL: false. */
bool	cf_periodic_stopping(struct cf_periodic *p);
/* Block until cf_periodic_stop is called (a test hook that holds a run
 * half done until shutdown).  From fn; NULL returns at once, as there is
 * then no stop to wait for. */
void	cf_periodic_hold(struct cf_periodic *p);
/* Stop: end the wait (or a hold), let the run in progress finish, join
 * the thread and free p.  Not from fn.  NULL is a no-op. */
void	cf_periodic_stop(struct cf_periodic *p);

#endif
