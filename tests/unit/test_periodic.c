/* cf-link: cf_base */
/* tests/unit/test_periodic.c: src/base/periodic.c, the periodic job.
 *
 * No test sleeps or reads the time: the job's runs are counted under a
 * lock and waited for on a condition, and time is a number the test moves
 * (a fake clock: its wait records the deadline the job waits for, then
 * blocks until woken by the job, or by the test after it moved the time).
 * The tests on the real clock use a period of an hour, so a job that ran
 * without being kicked, or a stop that did not end the wait, would show
 * as a wrong count or a test that hangs (and times out), never as a
 * timing difference. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/periodic.h"

#define HOUR_MS		(3600LL * 1000)
#define RUNS_MAX	16

struct fake {
	pthread_mutex_t	 tmu;		/* everything below */
	pthread_cond_t	 tcv;		/* any change below */
	/* the clock */
	int64_t		 now;
	pthread_mutex_t	*jmu;		/* the job's, seen at its first wait */
	pthread_cond_t	*jcv;
	int64_t		 until;		/* the wait in progress; -1: none */
	unsigned int	 waits;		/* waits begun */
	/* the job */
	unsigned int	 runs;
	int64_t		 ran_at[RUNS_MAX];	/* the clock at each run */
	unsigned int	 waits_at[RUNS_MAX];	/* waits begun before it */
	int64_t		 next[RUNS_MAX];	/* what run i returns */
	bool		 kick_self;	/* the first run kicks its job */
	bool		 hold;		/* runs hold until stop */
	bool		 held, stopping_seen;
	/* start's out-param, which a run must already see */
	struct cf_periodic *self;
	bool		 self_seen;
};

static void
fake_init(struct fake *f, int64_t now)
{
	unsigned int	i;

	memset(f, 0, sizeof(*f));
	(void)pthread_mutex_init(&f->tmu, NULL);
	(void)pthread_cond_init(&f->tcv, NULL);
	f->now = now;
	f->until = -1;
	for (i = 0; i < RUNS_MAX; i++)
		f->next[i] = CF_PERIODIC_PERIOD;
}

static void
fake_fini(struct fake *f)
{
	(void)pthread_cond_destroy(&f->tcv);
	(void)pthread_mutex_destroy(&f->tmu);
}

static int64_t
fake_now(void *arg)
{
	struct fake	*f = arg;
	int64_t		 now;

	(void)pthread_mutex_lock(&f->tmu);
	now = f->now;
	(void)pthread_mutex_unlock(&f->tmu);
	return now;
}

/* Called with the job's lock held (lock order: the job's, then tmu). */
static int
fake_wait(void *arg, pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until)
{
	struct fake	*f = arg;
	bool		 due;

	(void)pthread_mutex_lock(&f->tmu);
	f->jmu = mu;
	f->jcv = cv;
	due = f->now >= until;
	if (!due) {
		f->until = until;
		f->waits++;
		(void)pthread_cond_broadcast(&f->tcv);
	}
	(void)pthread_mutex_unlock(&f->tmu);
	if (due)
		return ETIMEDOUT;
	(void)pthread_cond_wait(cv, mu);
	(void)pthread_mutex_lock(&f->tmu);
	f->until = -1;
	(void)pthread_mutex_unlock(&f->tmu);
	return 0;
}

static const struct cf_periodic_clock fake_clock_ops = {
	fake_now, fake_wait, NULL
};

static int64_t
job(struct cf_periodic *p, void *arg)
{
	struct fake	*f = arg;
	int64_t		 next;
	unsigned int	 n;
	bool		 kick, hold, stopping;

	(void)pthread_mutex_lock(&f->tmu);
	n = f->runs;
	if (n == 0)
		f->self_seen = f->self == p;
	if (n < RUNS_MAX) {
		f->ran_at[n] = f->now;
		f->waits_at[n] = f->waits;
	}
	next = n < RUNS_MAX ? f->next[n] : CF_PERIODIC_PERIOD;
	kick = f->kick_self && n == 0;
	hold = f->hold;
	(void)pthread_mutex_unlock(&f->tmu);
	if (kick)
		cf_periodic_kick(p);
	if (hold) {
		(void)pthread_mutex_lock(&f->tmu);
		f->held = true;
		(void)pthread_cond_broadcast(&f->tcv);
		(void)pthread_mutex_unlock(&f->tmu);
		cf_periodic_hold(p);
	}
	stopping = cf_periodic_stopping(p);
	(void)pthread_mutex_lock(&f->tmu);
	f->stopping_seen = stopping;
	f->runs++;
	(void)pthread_cond_broadcast(&f->tcv);
	(void)pthread_mutex_unlock(&f->tmu);
	return next;
}

static void
await_runs(struct fake *f, unsigned int n)
{
	(void)pthread_mutex_lock(&f->tmu);
	while (f->runs < n)
		(void)pthread_cond_wait(&f->tcv, &f->tmu);
	(void)pthread_mutex_unlock(&f->tmu);
}

/* Until the job waits for the deadline until (the waits-th wait begun). */
static void
await_wait(struct fake *f, unsigned int waits, int64_t until)
{
	(void)pthread_mutex_lock(&f->tmu);
	while (f->waits < waits || f->until == -1)
		(void)pthread_cond_wait(&f->tcv, &f->tmu);
	assert_int_equal(f->waits, waits);
	assert_int_equal(f->until, until);
	(void)pthread_mutex_unlock(&f->tmu);
}

/* Move the clock to now and wake the job's wait to look at it. */
static void
move_clock(struct fake *f, int64_t now)
{
	pthread_mutex_t	*jmu;
	pthread_cond_t	*jcv;

	(void)pthread_mutex_lock(&f->tmu);
	jmu = f->jmu;
	jcv = f->jcv;
	(void)pthread_mutex_unlock(&f->tmu);
	assert_non_null(jmu);
	/* The job's lock first: its wait is then inside pthread_cond_wait,
	 * so the broadcast cannot be missed. */
	(void)pthread_mutex_lock(jmu);
	(void)pthread_mutex_lock(&f->tmu);
	f->now = now;
	(void)pthread_mutex_unlock(&f->tmu);
	(void)pthread_cond_broadcast(jcv);
	(void)pthread_mutex_unlock(jmu);
}

static unsigned int
runs(struct fake *f)
{
	unsigned int	n;

	(void)pthread_mutex_lock(&f->tmu);
	n = f->runs;
	(void)pthread_mutex_unlock(&f->tmu);
	return n;
}

static struct cf_periodic *
start(struct fake *f, int64_t period, int64_t first, bool fake_clock)
{
	struct cf_periodic_clock	ck = fake_clock_ops;
	struct cf_periodic_job		j;

	ck.arg = f;
	memset(&j, 0, sizeof(j));
	j.name = "test";
	j.period_ms = period;
	j.first_ms = first;
	j.fn = job;
	j.arg = f;
	j.clock = fake_clock ? &ck : NULL;
	assert_int_equal(cf_periodic_start(&j, &f->self, NULL), CF_OK);
	assert_non_null(f->self);
	return f->self;
}

/* The first wait, the period, and what a run asks for: at once, a retry
 * sooner than the period, the period again. */
static void
test_periodic_waits_the_period(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 1000);
	f.next[0] = 0;			/* a pass left unfinished */
	f.next[1] = 250;		/* a retry */
	p = start(&f, 60000, CF_PERIODIC_PERIOD, true);
	await_wait(&f, 1, 61000);
	move_clock(&f, 60999);		/* 1 ms early: no run */
	await_wait(&f, 2, 61000);
	assert_int_equal(runs(&f), 0);
	move_clock(&f, 61000);
	await_runs(&f, 2);
	await_wait(&f, 3, 61250);
	assert_int_equal(f.ran_at[0], 61000);
	assert_int_equal(f.ran_at[1], 61000);	/* no wait between */
	assert_int_equal(f.waits_at[1], 2);
	move_clock(&f, 61250);
	await_runs(&f, 3);
	await_wait(&f, 4, 61250 + 60000);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 3);
	assert_false(f.stopping_seen);
	fake_fini(&f);
}

/* first_ms 0 runs at once, without a wait, and the run finds the job
 * that start returned (as the core's jobs find theirs through arg). */
static void
test_periodic_first_run_at_once(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 5);
	p = start(&f, 100, 0, true);
	await_runs(&f, 1);
	assert_int_equal(f.waits_at[0], 0);
	assert_true(f.self_seen);
	await_wait(&f, 1, 105);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 1);
	fake_fini(&f);
}

/* A kick ends the wait (the clock has not moved); the next wait is a
 * whole period from the kicked run. */
static void
test_periodic_kick_runs_now(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 0);
	p = start(&f, 500, CF_PERIODIC_PERIOD, true);
	await_wait(&f, 1, 500);
	move_clock(&f, 200);
	await_wait(&f, 2, 500);
	cf_periodic_kick(p);
	await_runs(&f, 1);
	assert_int_equal(f.ran_at[0], 200);
	await_wait(&f, 3, 700);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 1);
	fake_fini(&f);
}

/* A kick while the job runs is kept: the next wait is skipped. */
static void
test_periodic_kick_during_run_is_kept(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 0);
	f.kick_self = true;
	p = start(&f, 500, 0, true);
	await_runs(&f, 2);
	assert_int_equal(f.waits_at[1], 0);
	await_wait(&f, 1, 500);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 2);
	fake_fini(&f);
}

/* Stop ends a wait at once, the fake clock's and the real one's (an
 * hour: a stop that did not wake it would hang the test). */
static void
test_periodic_stop_while_waiting(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 0);
	p = start(&f, HOUR_MS, CF_PERIODIC_PERIOD, true);
	await_wait(&f, 1, HOUR_MS);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 0);
	fake_fini(&f);

	fake_init(&f, 0);
	p = start(&f, HOUR_MS, CF_PERIODIC_PERIOD, false);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 0);
	fake_fini(&f);
}

/* The real clock: a kick runs the job, then it waits the hour, and a
 * stop ends that wait. */
static void
test_periodic_real_clock_kick(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 0);
	p = start(&f, HOUR_MS, HOUR_MS, false);
	cf_periodic_kick(p);
	await_runs(&f, 1);
	cf_periodic_kick(p);
	await_runs(&f, 2);
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 2);
	fake_fini(&f);
}

/* A run that holds until stop is released by it, and sees it. */
static void
test_periodic_stop_during_run(void **state)
{
	struct fake		 f;
	struct cf_periodic	*p;

	(void)state;
	fake_init(&f, 0);
	f.hold = true;
	p = start(&f, HOUR_MS, 0, true);
	(void)pthread_mutex_lock(&f.tmu);
	while (!f.held)
		(void)pthread_cond_wait(&f.tcv, &f.tmu);
	(void)pthread_mutex_unlock(&f.tmu);
	assert_false(cf_periodic_stopping(p));
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 1);
	assert_true(f.stopping_seen);
	fake_fini(&f);
}

static void
test_periodic_null_and_bad_args(void **state)
{
	struct cf_periodic_job	 j;
	struct cf_periodic	*p = NULL;
	struct fake		 f;

	(void)state;
	cf_periodic_kick(NULL);
	cf_periodic_hold(NULL);
	cf_periodic_stop(NULL);
	assert_false(cf_periodic_stopping(NULL));
	fake_init(&f, 0);
	memset(&j, 0, sizeof(j));
	j.name = "test";
	j.fn = job;
	j.arg = &f;
	assert_int_equal(cf_periodic_start(&j, &p, NULL), CF_E_INVAL);
	j.period_ms = 1000;
	j.fn = NULL;
	assert_int_equal(cf_periodic_start(&j, &p, NULL), CF_E_INVAL);
	assert_null(p);
	fake_fini(&f);
}

static void
test_periodic_start_every_alloc_failure(void **state)
{
	struct cf_periodic_job	 j;
	struct cf_periodic	*p = NULL;
	struct fake		 f;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	fake_init(&f, 0);
	memset(&j, 0, sizeof(j));
	j.name = "test";
	j.period_ms = HOUR_MS;
	j.first_ms = CF_PERIODIC_PERIOD;
	j.fn = job;
	j.arg = &f;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_periodic_start(&j, &p, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(p);
	}
	cf_periodic_stop(p);
	assert_int_equal(runs(&f), 0);
	fake_fini(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periodic_waits_the_period),
		cmocka_unit_test(test_periodic_first_run_at_once),
		cmocka_unit_test(test_periodic_kick_runs_now),
		cmocka_unit_test(test_periodic_kick_during_run_is_kept),
		cmocka_unit_test(test_periodic_stop_while_waiting),
		cmocka_unit_test(test_periodic_real_clock_kick),
		cmocka_unit_test(test_periodic_stop_during_run),
		cmocka_unit_test(test_periodic_null_and_bad_args),
		cmocka_unit_test(test_periodic_start_every_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
