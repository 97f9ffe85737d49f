/* bench/password/bench_password.c: the time of one argon2id verification
 * for a real user (cf_password_verify) against the dummy verification for
 * an unknown user (cf_password_verify_dummy), at the default costs.  The
 * unit test proves that both run the same KDF with the same costs (by
 * counting, tests/unit/test_password.c); this measures what that costs,
 * interleaved so that load on a shared host hits both alike, and reports
 * medians.  Usage: bench_password [ROUNDS] (default 15).  Built and run by
 * bench/password/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "crypto/password.h"

#define ROUNDS_MAX	1000

static double
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The time of one verification of a wrong password; exits unless the
 * answer is CF_E_AUTH (a bench that measures an error path is no bench). */
static double
time_one(const char *stored, int dummy)
{
	double	t0 = now_ms();
	cf_err	rc;

	if (dummy)
		rc = cf_password_verify_dummy("wrong guess", 11, NULL, NULL);
	else
		rc = cf_password_verify(stored, "wrong guess", 11, NULL);
	t0 = now_ms() - t0;
	if (rc != CF_E_AUTH) {
		(void)fprintf(stderr, "verification answered %d\n", rc);
		exit(1);
	}
	return t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	(void)printf("| %s | %.1f | %.1f | %.1f |\n", what, v[n / 2], v[0],
	    v[n - 1]);
}

int
main(int argc, char **argv)
{
	static double	real[ROUNDS_MAX], dummy[ROUNDS_MAX];
	char		stored[CF_PWHASH_STR_MAX];
	struct cf_error	err;
	int		i, n = 15;

	if (argc > 1)
		n = (int)strtol(argv[1], NULL, 10);
	if (n < 1 || n > ROUNDS_MAX) {
		(void)fprintf(stderr, "usage: bench_password [1..%d]\n",
		    ROUNDS_MAX);
		return 2;
	}
	cf_error_clear(&err);
	if (cf_password_hash("correct horse battery", 21, NULL, stored,
	    &err) != CF_OK) {
		(void)fprintf(stderr, "hash: %s\n", err.msg);
		return 1;
	}
	/* The first dummy call computes and caches the dummy hash. */
	(void)cf_password_verify_dummy("warm up", 7, NULL, NULL);
	for (i = 0; i < n; i++) {
		/* Alternate the order, so neither side always runs second. */
		if (i % 2 == 0)
			real[i] = time_one(stored, 0);
		dummy[i] = time_one(stored, 1);
		if (i % 2 != 0)
			real[i] = time_one(stored, 0);
	}
	*strrchr(stored, '$') = '\0';
	*strrchr(stored, '$') = '\0';	/* keep the costs, drop salt and hash */
	(void)printf("argon2id verification at the default costs (%s), "
	    "%d rounds, wall ms\n\n", stored, n);
	(void)printf("| login for | median | min | max |\n");
	(void)printf("| --- | ---: | ---: | ---: |\n");
	report("a real user (wrong password)", real, n);
	report("an unknown user (dummy)", dummy, n);
	return 0;
}
