/* bench/anomaly/bench_anomaly.c: how well the anomaly detector
 * (core/anomaly.h) does on a month of synthetic traffic, and what it
 * costs per record (bench/README.md, "Anomaly detection").
 *
 * A deterministic generator (seeded xorshift; -s SEED) makes 30 days
 * of normal traffic for 200 principals (-p): people with a home /24,
 * some with a second network (VPN), working hours of their own on
 * weekdays, a few usual namespaces out of 60, downloads of varying
 * size, the odd 403/404, and the noise real people make: a trip (a new
 * network for a day), a late evening, a heavy day (3-5x the usual
 * downloads); and service accounts at all hours from one network.  From
 * day 8 on (the first week is learning) it injects -n instances of each
 * attack:
 *
 *   exfiltration       a principal downloads 600-2000 objects within
 *                      an hour from its usual network
 *   credential-stuffing one address tries 150 logins within 10 minutes
 *                      (401s, no principal), then uses a principal it
 *                      broke into from that address
 *   insider-browsing   a principal walks through 12 namespaces it never
 *                      used within an hour (mostly 403s, a few reads)
 *   token-theft        a principal's token is used from a foreign
 *                      network while its holder keeps using it at home
 *
 * Every record is fed to the detector in time order, with a risk query
 * before it (as the server does: one risk and one observe per
 * request).  An attack instance is detected when some flag is raised on
 * one of its records; a flag on a normal record is a false positive.
 * Prints per attack kind the recall and the flags that caught it, per
 * flag kind the precision, false positives per day (after the learning
 * week), and the CPU time per record (risk + observe). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/anomaly.h"

#define US		1000000LL
#define DAY		(86400LL * US)
#define HOUR		(3600LL * US)
#define MINUTE		(60LL * US)
#define DAYS		30
#define LEARN_DAYS	7
#define NS_COUNT	60
#define T0		(1764547200LL * US)	/* Monday 2025-12-01 */

enum attack { A_NONE, A_EXFIL, A_STUFF, A_BROWSE, A_THEFT, A_NKINDS };
static const char *const attack_name[A_NKINDS] = {
	"normal", "exfiltration", "credential-stuffing", "insider-browsing",
	"token-theft"
};

struct rec {
	int64_t		t;
	int		who;		/* principal index; -1: none */
	uint32_t	src;		/* IPv4 address */
	uint8_t		action;		/* index in actions[] */
	uint8_t		ns;
	uint16_t	status;
	uint32_t	bytes;
	int		attack;		/* instance id + 1; 0: normal */
	uint8_t		tok;		/* token 0/1 of the principal */
	uint8_t		restricted;
};

static const char *const actions[] = { "object:get", "object:list",
	"object:head", "object:put", "session:login", "ns:get" };

struct person {
	char		name[24];
	uint32_t	home, vpn;	/* /24 networks, low byte 0 */
	int		start_h, len_h;
	int		service;
	int		nss[4], nns;
	double		rate;		/* requests per working hour */
	double		mean_kb;
};

static struct rec	*recs;
static size_t		 nrecs, caprecs;
static struct person	*people;
static int		 npeople = 200;
static uint64_t		 rng = 88172645463325252ULL;
static int		 attack_kind[4096];
static int		 nattacks;

static uint64_t
xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
uni(void)
{
	return (double)(xr() >> 11) / 9007199254740992.0;
}

static int
ri(int lo, int hi)	/* [lo, hi] */
{
	return lo + (int)(xr() % (uint64_t)(hi - lo + 1));
}

static void
add(int64_t t, int who, uint32_t src, int action, int ns, int status,
    uint32_t bytes, int attack, int tok)
{
	struct rec	*r;

	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 1 << 20;
		recs = realloc(recs, caprecs * sizeof(*recs));
		if (recs == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	r = &recs[nrecs++];
	r->t = t;
	r->who = who;
	r->src = src;
	r->action = (uint8_t)action;
	r->ns = (uint8_t)ns;
	r->status = (uint16_t)status;
	r->bytes = bytes;
	r->attack = attack;
	r->tok = (uint8_t)tok;
	r->restricted = ns < 6;		/* namespaces 0-5 are restricted */
}

static uint32_t
ip(int a, int b, int c, int d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |
	    (uint32_t)d;
}

static void
make_people(void)
{
	int	i, k;

	people = calloc((size_t)npeople, sizeof(*people));
	for (i = 0; i < npeople; i++) {
		struct person *p = &people[i];

		p->service = i % 5 == 0;
		(void)snprintf(p->name, sizeof(p->name), "%s%03d",
		    p->service ? "svc" : "user", i);
		p->home = ip(10, ri(1, 200), ri(0, 255), 0);
		p->vpn = ri(0, 3) == 0 ? ip(172, 16, ri(0, 255), 0) : 0;
		p->start_h = ri(6, 10);
		p->len_h = ri(7, 10);
		p->nns = ri(2, 4);
		for (k = 0; k < p->nns; k++)
			p->nss[k] = ri(0, NS_COUNT - 1);
		p->rate = p->service ? uni() * 4 + 1 : uni() * 15 + 3;
		p->mean_kb = uni() * 2000 + 20;
	}
}

/* One ordinary request of p at t from src. */
static void
normal_req(int i, int64_t t, uint32_t src, double heavy)
{
	struct person	*p = &people[i];
	double		 u = uni();
	int		 ns = p->nss[ri(0, p->nns - 1)];
	int		 act, status = 200;
	uint32_t	 bytes = 0;

	(void)heavy;
	if (u < 0.5) {
		act = 0;
		bytes = (uint32_t)(p->mean_kb * 1024 * (0.2 + uni() * 1.6));
	} else if (u < 0.7)
		act = 1;
	else if (u < 0.9)
		act = 2;
	else
		act = 3;
	if (uni() < 0.02)
		status = uni() < 0.5 ? 404 : 403;
	add(t, i, src | (uint32_t)ri(1, 254), act, ns, status,
	    status == 200 ? bytes : 0, 0, 0);
}

static void
gen_normal(void)
{
	int	i, d, h, n, k;

	for (i = 0; i < npeople; i++) {
		struct person *p = &people[i];
		int trip = ri(0, 9) == 0 ? ri(LEARN_DAYS, DAYS - 1) : -1;
		int late = ri(0, 4) == 0 ? ri(LEARN_DAYS, DAYS - 1) : -1;
		int heavy_day = ri(0, 4) == 0 ? ri(LEARN_DAYS, DAYS - 1) : -1;

		for (d = 0; d < DAYS; d++) {
			int weekday = (d % 7) < 5;
			double heavy = d == heavy_day ? 3 + uni() * 2 : 1;
			uint32_t net;

			if (!p->service && !weekday && uni() > 0.1)
				continue;
			net = d == trip ? ip(100, 64 + i % 60, ri(0, 255), 0) :
			    p->vpn != 0 && uni() < 0.1 ? p->vpn : p->home;
			for (h = 0; h < 24; h++) {
				int on = p->service || (h >= p->start_h &&
				    h < p->start_h + p->len_h) ||
				    (d == late && h >= 20 && h < 23);

				if (!on)
					continue;
				n = (int)(p->rate * heavy * (0.5 + uni()));
				for (k = 0; k < n; k++)
					normal_req(i, T0 + d * DAY + h * HOUR +
					    (int64_t)(uni() * (double)HOUR),
					    net, heavy);
			}
		}
	}
}

static int64_t
attack_time(int i, int d)
{
	struct person	*p = &people[i];

	return T0 + d * DAY + (p->start_h + 2) * HOUR +
	    (int64_t)(uni() * (double)HOUR);
}

static int
victim(void)
{
	int	i;

	do
		i = ri(0, npeople - 1);
	while (people[i].service);
	return i;
}

static void
gen_attacks(int per_kind)
{
	int	k, j, n, i, d, id, m;
	int64_t	t;

	for (k = A_EXFIL; k < A_NKINDS; k++)
		for (j = 0; j < per_kind; j++) {
			id = ++nattacks;
			attack_kind[id] = k;
			d = ri(LEARN_DAYS + 1, DAYS - 1);
			while ((d % 7) >= 5)
				d = ri(LEARN_DAYS + 1, DAYS - 1);
			i = victim();
			t = attack_time(i, d);
			switch (k) {
			case A_EXFIL:
				n = ri(600, 2000);
				for (m = 0; m < n; m++)
					add(t + m * (HOUR / n), i,
					    people[i].home | 7, 0,
					    people[i].nss[m % people[i].nns],
					    200, (uint32_t)(people[i].mean_kb *
					    1024), id, 0);
				break;
			case A_STUFF:
				for (m = 0; m < 150; m++)
					add(t + m * 4 * US, -1,
					    ip(203, 0, 113, 10 + j), 4, 0, 401,
					    0, id, 0);
				for (m = 0; m < 20; m++)
					add(t + 11 * MINUTE + m * 30 * US, i,
					    ip(203, 0, 113, 10 + j), m % 3,
					    people[i].nss[0], 200, 50000, id,
					    1);
				break;
			case A_BROWSE:
				for (m = 0; m < 12; m++) {
					int ns = (people[i].nss[0] + 7 +
					    m * 3) % NS_COUNT;
					add(t + m * 4 * MINUTE, i,
					    people[i].home | 9, 1, ns,
					    m % 4 == 0 ? 200 : 403, 0, id, 0);
				}
				break;
			case A_THEFT:
				for (m = 0; m < 30; m++) {
					add(t + m * MINUTE, i,
					    ip(198, 51, 100, 20 + j), 0,
					    people[i].nss[m % people[i].nns],
					    200, 80000, id, 0);
					add(t + m * MINUTE + 20 * US, i,
					    people[i].home | 5, 1,
					    people[i].nss[0], 200, 0, 0, 0);
				}
				break;
			default:
				break;
			}
		}
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct rec	*x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/* CPU time of the process: on a shared, loaded machine wall time
 * measures the neighbours. */
static int64_t
cpu_ns(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct cf_anom_config	 cfg;
	struct cf_anom		*a = NULL;
	struct cf_anom_event	 ev;
	struct cf_anom_flag	 fl[CF_ANOM_NKINDS];
	static int		 caught[4096], caught_by[4096];
	uint64_t		 fp_kind[CF_ANOM_NKINDS] = { 0 };
	uint64_t		 tp_kind[CF_ANOM_NKINDS] = { 0 };
	uint64_t		 fp_late = 0, inst[A_NKINDS] = { 0 };
	uint64_t		 tail_kind[CF_ANOM_NKINDS] = { 0 };
	int64_t			*last_attack;
	uint64_t		 det[A_NKINDS] = { 0 };
	uint32_t		 kinds;
	char			 src[20], tok[40], nsb[16];
	size_t			 i, n, f;
	int64_t			 t0, t1;
	int			 per_kind = 10, ch, k, id, sum = 0;

	while ((ch = getopt(argc, argv, "p:n:s:")) != -1) {
		switch (ch) {
		case 'p':
			npeople = (int)strtol(optarg, NULL, 10);
			break;
		case 'n':
			per_kind = (int)strtol(optarg, NULL, 10);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 10) *
			    0x9E3779B97F4A7C15ULL + 88172645463325252ULL;
			if (rng == 0)
				rng = 1;
			break;
		default:
			(void)fprintf(stderr, "usage: bench_anomaly [-p "
			    "PRINCIPALS] [-n ATTACKS_PER_KIND] [-s SEED]\n");
			return 2;
		}
	}
	if (npeople < 10 || npeople > 100000 || per_kind < 1 ||
	    per_kind * 4 >= 4096) {
		(void)fprintf(stderr, "bench_anomaly: bad -p or -n\n");
		return 2;
	}
	make_people();
	gen_normal();
	gen_attacks(per_kind);
	qsort(recs, nrecs, sizeof(*recs), cmp_rec);
	cf_anom_config_defaults(&cfg);
	if (cf_anom_new(&cfg, &a, NULL) != CF_OK)
		return 1;
	last_attack = calloc((size_t)npeople, sizeof(*last_attack));
	if (last_attack == NULL)
		return 1;
	t0 = cpu_ns();
	for (i = 0; i < nrecs; i++) {
		struct rec *r = &recs[i];

		(void)snprintf(src, sizeof(src), "%u.%u.%u.%u", r->src >> 24,
		    r->src >> 16 & 255, r->src >> 8 & 255, r->src & 255);
		(void)snprintf(tok, sizeof(tok), "tok-%d-%d", r->who, r->tok);
		memset(&ev, 0, sizeof(ev));
		ev.time_us = r->t;
		ev.request_id = "r";
		ev.principal = r->who >= 0 ? people[r->who].name : "";
		ev.credential = r->who >= 0 ? tok : "";
		ev.source = src;
		ev.action = actions[r->action];
		(void)snprintf(nsb, sizeof(nsb), "ns%02d", r->ns);
		ev.ns = r->action != 4 ? nsb : "";
		ev.status = r->status;
		ev.allowed = r->status < 400 || r->status == 404;
		ev.bytes = r->bytes;
		ev.restricted = r->restricted && r->action != 4;
		sum += cf_anom_risk(a, &ev, &kinds);
		n = cf_anom_observe(a, &ev, fl, CF_ANOM_NKINDS);
		if (r->attack != 0 && r->who >= 0)
			last_attack[r->who] = r->t;
		for (f = 0; f < n; f++) {
			k = (int)fl[f].kind;
			/* The victim's own records within two hours after an
			 * attack on its account: the attack's wake (a sliding
			 * hour still full of it), neither hit nor false. */
			if (r->attack == 0 && r->who >= 0 &&
			    last_attack[r->who] != 0 &&
			    r->t - last_attack[r->who] < 2 * HOUR) {
				tail_kind[k]++;
				continue;
			}
			if (r->attack != 0) {
				tp_kind[k]++;
				caught[r->attack] = 1;
				caught_by[r->attack] |= 1 << k;
			} else {
				fp_kind[k]++;
				if (r->t >= T0 + LEARN_DAYS * DAY)
					fp_late++;
			}
		}
	}
	t1 = cpu_ns();
	for (id = 1; id <= nattacks; id++) {
		inst[attack_kind[id]]++;
		det[attack_kind[id]] += (uint64_t)caught[id];
	}
	(void)printf("records %zu principals %d attacks %d seed-sum %d\n",
	    nrecs, npeople, nattacks, sum);
	(void)printf("| attack | instances | detected | recall | caught "
	    "by |\n| --- | --- | --- | --- | --- |\n");
	for (k = A_EXFIL; k < A_NKINDS; k++) {
		int by = 0, q;

		for (id = 1; id <= nattacks; id++)
			if (attack_kind[id] == k)
				by |= caught_by[id];
		(void)printf("| %s | %llu | %llu | %.2f |", attack_name[k],
		    (unsigned long long)inst[k], (unsigned long long)det[k],
		    inst[k] ? (double)det[k] / (double)inst[k] : 0.0);
		for (q = 0; q < CF_ANOM_NKINDS; q++)
			if ((by >> q & 1) != 0)
				(void)printf(" %s", cf_anom_kind_name(
				    (enum cf_anom_kind)q));
		(void)printf(" |\n");
	}
	(void)printf("\n| flag | on attacks | on normal traffic | in an "
	    "attack's wake | precision |\n| --- | --- | --- | --- | --- |\n");
	for (k = 0; k < CF_ANOM_NKINDS; k++)
		(void)printf("| %s | %llu | %llu | %llu | %s%.2f |\n",
		    cf_anom_kind_name((enum cf_anom_kind)k),
		    (unsigned long long)tp_kind[k],
		    (unsigned long long)fp_kind[k],
		    (unsigned long long)tail_kind[k],
		    tp_kind[k] + fp_kind[k] == 0 ? "n/a " : "",
		    tp_kind[k] + fp_kind[k] == 0 ? 0.0 : (double)tp_kind[k] /
		    (double)(tp_kind[k] + fp_kind[k]));
	{
		uint64_t tp = 0, fp = 0;

		for (k = 0; k < CF_ANOM_NKINDS; k++) {
			tp += tp_kind[k];
			fp += fp_kind[k];
		}
		(void)printf("\nall flags: %llu on attacks, %llu false "
		    "(precision %.2f); false positives per day after the "
		    "learning week: %.1f (%d principals)\n",
		    (unsigned long long)tp, (unsigned long long)fp,
		    tp + fp ? (double)tp / (double)(tp + fp) : 0.0,
		    (double)fp_late / (DAYS - LEARN_DAYS), npeople);
	}
	(void)printf("cost: %.0f ns CPU per record (risk + observe, and "
	    "formatting the record), %zu records\n",
	    (double)(t1 - t0) / (double)nrecs, nrecs);
	cf_anom_free(a);
	free(recs);
	free(people);
	free(last_attack);
	return 0;
}
