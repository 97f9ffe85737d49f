/* bench/audit/audit_bench.c: throughput and latency of cf_audit_append
 * under group commit, with 1, 8 and 32 appending threads (or the counts
 * given), against the cost of one durable append (1 thread).
 *
 * Usage: audit_bench [-d DIR] [-s SECONDS] [-c DELAY_US] [-f N]
 *	    [-w WINDOW] [THREADS...]
 *   -d  where to create the scratch logs (default $TMPDIR or /tmp; must be
 *       a real disk: fdatasync on tmpfs costs nothing)
 *   -s  seconds per run (default 3)
 *   -c  commit delay in us (default AUDIT_COMMIT_DELAY_US; 0: none)
 *   -f  group commits in flight (default AUDIT_FLUSHERS; 1..8)
 *   -w  the server's way instead (cf_audit_submit + the notifier, as the
 *       event-driven front end parks a response until its record is
 *       durable): each thread keeps WINDOW records submitted and not yet
 *       durable, like an event thread with WINDOW parked connections;
 *       latency is from submit to the notification of durability
 * Build: sh bench/audit/build.sh [BUILD_DIR]  (see docs/internals/AUDIT.md)
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"

#define MAX_THREADS	256
#define MAX_SAMPLES	(1u << 20)

struct worker {
	struct cf_audit	*a;
	uint64_t	 stop_ns;
	uint64_t	*lat;		/* ns per append */
	size_t		 n, cap;
	size_t		 window;	/* -w: records in flight; 0: append */
	unsigned	 id;
	cf_err		 rc;
};

/* -w: how far the log is durable, from the notifier. */
static pthread_mutex_t	 dur_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 dur_cv = PTHREAD_COND_INITIALIZER;
static uint64_t		 dur_seq;
static bool		 dur_broken;

static void
on_durable(void *arg, uint64_t durable_seq, bool broken)
{
	(void)arg;
	(void)pthread_mutex_lock(&dur_mu);
	if (durable_seq > dur_seq)
		dur_seq = durable_seq;
	dur_broken |= broken;
	(void)pthread_cond_broadcast(&dur_cv);
	(void)pthread_mutex_unlock(&dur_mu);
}

/* Wait until seq is durable; false when the log broke. */
static bool
wait_durable(uint64_t seq)
{
	bool	ok;

	(void)pthread_mutex_lock(&dur_mu);
	while (dur_seq < seq && !dur_broken)
		(void)pthread_cond_wait(&dur_cv, &dur_mu);
	ok = !dur_broken;
	(void)pthread_mutex_unlock(&dur_mu);
	return ok;
}

struct inflight {
	uint64_t	seq, t0;
};

/* -w: keep w->window records submitted; retire the oldest once it is
 * durable (records become durable in seq order). */
static void *
submit_loop(struct worker *w, struct cf_audit_rec *r)
{
	struct inflight	*q;
	char		 rid[40];
	size_t		 head = 0, used = 0, sub = 0;
	uint64_t	 now;

	if ((q = calloc(w->window, sizeof(*q))) == NULL) {
		w->rc = CF_E_NOMEM;
		return NULL;
	}
	for (;;) {
		now = cf_mono_ns();
		if (used < w->window && now < w->stop_ns) {
			(void)snprintf(rid, sizeof(rid), "%08x-%016zx", w->id,
			    sub++);
			r->request_id = rid;
			r->time_us = cf_now_us();
			w->rc = cf_audit_submit(w->a, r,
			    &q[(head + used) % w->window].seq, NULL);
			if (w->rc != CF_OK)
				break;
			q[(head + used) % w->window].t0 = now;
			used++;
			continue;
		}
		if (used == 0)
			break;
		if (!wait_durable(q[head].seq)) {
			w->rc = CF_E_IO;
			break;
		}
		now = cf_mono_ns();
		/* Everything at or below dur_seq is durable now. */
		while (used > 0 && cf_audit_state(w->a, q[head].seq) == 1) {
			if (w->n < w->cap)
				w->lat[w->n] = now - q[head].t0;
			w->n++;
			head = (head + 1) % w->window;
			used--;
		}
	}
	free(q);
	return NULL;
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct cf_audit_rec	 r;
	char			 rid[40];
	uint64_t		 t0, seq;

	memset(&r, 0, sizeof(r));
	/* About 200 bytes of fields, a typical request. */
	r.principal = "alice";
	r.authn = "token";
	r.mfa = true;
	r.source = "192.0.2.10";
	r.action = "object:get";
	r.resource = "ns/prod-fraud/obj/model-v17.bin";
	r.decision = "allow";
	r.reasons = "role:reader";
	r.status = 200;
	r.result = "ok";
	r.bytes = 1048576;
	if (w->window > 0)
		return submit_loop(w, &r);
	while (cf_mono_ns() < w->stop_ns) {
		(void)snprintf(rid, sizeof(rid), "%08x-%016zx", w->id, w->n);
		r.request_id = rid;
		r.time_us = cf_now_us();
		t0 = cf_mono_ns();
		w->rc = cf_audit_append(w->a, &r, &seq, NULL);
		if (w->rc != CF_OK)
			break;
		if (w->n < w->cap)
			w->lat[w->n] = cf_mono_ns() - t0;
		w->n++;
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
rmlog(const char *dir)
{
	char	p[4096 + 32];

	(void)snprintf(p, sizeof(p), "%s/audit/audit.log", dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/audit/checkpoint", dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/audit", dir);
	(void)rmdir(p);
	(void)rmdir(dir);
}

static int
run(const char *base, const struct cf_key *k, unsigned nthr, double secs,
    uint64_t delay_us, unsigned nfl, size_t window)
{
	struct worker		 w[MAX_THREADS];
	pthread_t		 th[MAX_THREADS];
	struct cf_audit		*a = NULL;
	struct audit_stats	 st;
	struct cf_error		 e;
	char			 dir[4096];
	uint64_t		*all, t0, t1, total = 0, nlat = 0, cnt, bad;
	unsigned		 i;
	size_t			 j;

	(void)snprintf(dir, sizeof(dir), "%s/cf-audit-bench-XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	cf_error_clear(&e);
	if (cf_audit_open(dir, k, &a, &e) != CF_OK) {
		fprintf(stderr, "open: %s\n", e.msg);
		return 1;
	}
	cf_audit_set_commit_delay(a, delay_us);
	cf_audit_set_flushers(a, nfl);
	dur_seq = 0;
	dur_broken = false;
	if (window > 0 && cf_audit_set_notify(a, on_durable, NULL, &e) !=
	    CF_OK) {
		fprintf(stderr, "notify: %s\n", e.msg);
		return 1;
	}
	memset(w, 0, sizeof(w));
	t0 = cf_mono_ns();
	for (i = 0; i < nthr; i++) {
		w[i].a = a;
		w[i].id = i;
		w[i].stop_ns = t0 + (uint64_t)(secs * 1e9);
		w[i].cap = MAX_SAMPLES / nthr;
		w[i].window = window;
		w[i].lat = calloc(w[i].cap, sizeof(uint64_t));
		if (w[i].lat == NULL ||
		    pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "thread: %s\n", strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < nthr; i++)
		(void)pthread_join(th[i], NULL);
	t1 = cf_mono_ns();
	if (window > 0)
		cf_audit_stop_notify(a);
	cf_audit_get_stats(a, &st);
	cf_audit_close(a);
	all = calloc(MAX_SAMPLES, sizeof(uint64_t));
	if (all == NULL)
		return 1;
	for (i = 0; i < nthr; i++) {
		if (w[i].rc != CF_OK) {
			fprintf(stderr, "append failed: %s\n",
			    cf_err_name(w[i].rc));
			return 1;
		}
		total += w[i].n;
		for (j = 0; j < w[i].n && j < w[i].cap; j++)
			all[nlat++] = w[i].lat[j];
		free(w[i].lat);
	}
	qsort(all, nlat, sizeof(all[0]), cmp_u64);
	if (window > 0)
		printf("window %4zu x ", window);
	printf("threads %3u  fl %u  delay %3" PRIu64 " us  "
	    "appends/s %7.0f  p50 %7.1f us  p99 %8.1f us  batch %5.1f  "
	    "commits/s %5.0f  ckpts %" PRIu64 "\n", nthr, nfl, delay_us,
	    (double)total / ((double)(t1 - t0) / 1e9),
	    (double)all[nlat / 2] / 1e3, (double)all[nlat * 99 / 100] / 1e3,
	    st.commits > 0 ? (double)st.appends / (double)st.commits : 0.0,
	    (double)st.commits / ((double)(t1 - t0) / 1e9), st.ckpts);
	free(all);
	/* The result must verify, or the numbers mean nothing. */
	cf_error_clear(&e);
	if (cf_audit_verify(dir, k, &cnt, &bad, &e) != CF_OK ||
	    cnt != total) {
		fprintf(stderr, "verify: %s\n", e.msg);
		return 1;
	}
	rmlog(dir);
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned	 defaults[] = { 1, 8, 32 };
	unsigned		 thr[32], nt = 0, i;
	const char		*base = getenv("TMPDIR");
	double			 secs = 3;
	uint64_t		 v;
	uint64_t		 delay_us = AUDIT_COMMIT_DELAY_US;
	uint64_t		 nfl = AUDIT_FLUSHERS;
	uint64_t		 window = 0;
	uint8_t			 kb[CF_KEY_LEN];
	struct cf_key		*k = NULL;
	int			 c;

	if (base == NULL)
		base = "/tmp";
	while ((c = getopt(argc, argv, "d:s:c:f:w:")) != -1) {
		switch (c) {
		case 'd':
			base = optarg;
			break;
		case 's':
			if (cf_parse_u64(optarg, 1, 600, &v, NULL) != CF_OK)
				goto usage;
			secs = (double)v;
			break;
		case 'f':
			if (cf_parse_u64(optarg, 1, AUDIT_FLUSHERS_MAX, &nfl,
			    NULL) != CF_OK)
				goto usage;
			break;
		case 'w':
			if (cf_parse_u64(optarg, 1, 65536, &window, NULL) !=
			    CF_OK)
				goto usage;
			break;
		case 'c':
			if (cf_parse_u64(optarg, 0, 100000, &delay_us, NULL) !=
			    CF_OK)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	for (; optind < argc && nt < 32; optind++, nt++) {
		if (cf_parse_u64(argv[optind], 1, MAX_THREADS, &v, NULL) !=
		    CF_OK)
			goto usage;
		thr[nt] = (unsigned)v;
	}
	if (nt == 0)
		for (; nt < 3; nt++)
			thr[nt] = defaults[nt];
	if (cf_crypto_init(NULL) != CF_OK ||
	    cf_random(kb, sizeof(kb), NULL) != CF_OK ||
	    cf_key_from_bytes(kb, &k, NULL) != CF_OK)
		return 1;
	for (i = 0; i < nt; i++)
		if (run(base, k, thr[i], secs, delay_us,
		    (unsigned)nfl, (size_t)window) != 0)
			return 1;
	cf_key_free(k);
	return 0;
usage:
	fprintf(stderr, "usage: audit_bench [-d DIR] [-s SECONDS] "
	    "[-c DELAY_US] [-f N] [-w WINDOW] [THREADS...]\n");
	return 2;
}
