/* bench/authz/bench_authz.c: the reference monitor's authorization, as
 * the server runs it (issue 11, section 5).
 *
 * Creates a data directory through the real core (cf_core_open) and
 * store with P principals, N namespaces, B role bindings (global and per
 * namespace, some principals with several) and K stored policies (loaded
 * through core_authz_load_part, as a stored policy set is), mints tokens
 * for a sample of principals, then times, for requests built as the
 * server builds them (cf_req_init + cf_core_authenticate with a real
 * token; the decision inside a read scope, as a GET makes it):
 *   (a) core_authorize, the whole decision (Cedar, scope, MFA rules);
 *   (b) core_authz_decide alone (entities, context and Cedar);
 *   (c) the entities and context alone (core_authz_build).
 * Then a policy change with R policies: the time core_authz_reload takes
 * to parse them and swap them in, and the memory they hold (heap, from
 * mallinfo2, and RSS).
 *
 * Usage: bench_authz [-p principals] [-n namespaces] [-b bindings]
 *   [-k policies] [-q requests per round] [-r rounds] [-R reload policies]
 *   [-d dir]
 * Output: one line per measurement, "name p50 p90 p99 mean (us)", each the
 * median over the rounds, then "key=value" lines; run.sh makes the
 * table. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/actions.h"
#include "core/core_int.h"
#include "crypto/crypto.h"
#include "policy/policy.h"

struct tok {
	char	token[CF_TOKEN_STR_MAX];
	size_t	pidx;		/* principal index */
};

struct opts {
	size_t	nprin, nns, nbind, npol, nreq, rounds, nreload;
	char	dir[4096];
};

static uint64_t	rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	uint64_t	x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static size_t
rndn(size_t n)
{
	return (size_t)(rnd() % n);
}

static int64_t
now_ns(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what, const struct cf_error *e)
{
	fprintf(stderr, "bench_authz: %s: %s\n", what,
	    e != NULL ? e->msg : "");
	exit(1);
}

static long
rss_kib(void)
{
	FILE	*fp = fopen("/proc/self/status", "r");
	char	 line[256];
	long	 v = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(fp);
	return v;
}

/*
 * The data: principal i is "u%06d" (every 20th a service, "svc-%d-%06d"),
 * namespace j "ns%04d" (env and sensitivity cycling).
 */
static const char *const envs[] = { "dev", "staging", "prod" };
static const char *const sens[] = { "public", "internal", "confidential",
    "internal", "public", "confidential", "internal", "restricted" };
static const char *const roles[] = { "reader", "reader", "reader", "writer",
    "writer", "owner", "admin" };

/* The store's writes take an audit obligation (an allowed decision's
 * record); the bench fills its own store and records nothing. */
static cf_err
bench_record(void *arg, struct cf_error *err)
{
	(void)arg;
	(void)err;
	return CF_OK;
}

static const struct cf_meta_audit bench_au = { bench_record, NULL };

static void
prin_name(size_t i, char *buf, size_t sz)
{
	if (i % 20 == 19)
		(void)snprintf(buf, sz, "svc-%zu-%06zu", i % 7, i);
	else
		(void)snprintf(buf, sz, "u%06zu", i);
}

static void
ns_name(size_t j, char *buf, size_t sz)
{
	(void)snprintf(buf, sz, "ns%04zu", j);
}

/* One policy of the generator (i-th), on namespace j: forbids by
 * network, time, MFA and sensitivity, permits by group and attribute,
 * as a team would write them. */
static cf_err
gen_policy(struct cf_buf *b, size_t i, size_t j, size_t p)
{
	char	ns[CF_NS_NAME_MAX], pn[CF_PRINCIPAL_MAX];

	ns_name(j, ns, sizeof(ns));
	prin_name(p, pn, sizeof(pn));
	switch (i % 8) {
	case 0:
		return cf_buf_printf(b, NULL, "@id(\"net-%zu\")\n"
		    "forbid (principal, action in [Action::\"write\", "
		    "Action::\"manage\"],\n    resource in Namespace::\"%s\")\n"
		    "unless { context has source_ip &&\n"
		    "    context.source_ip.isInRange("
		    "ip(\"10.%zu.0.0/16\")) };\n",
		    i, ns, i % 256);
	case 1:
		return cf_buf_printf(b, NULL, "@id(\"hours-%zu\")\n"
		    "forbid (principal == %s::\"%s\", action in "
		    "Action::\"write\",\n    resource)\n"
		    "when { context.hour >= 22 || context.hour < 6 };\n", i,
		    p % 20 == 19 ? "Service" : "User", pn);
	case 2:
		return cf_buf_printf(b, NULL, "@id(\"mfa-%zu\")\n"
		    "forbid (principal, action in Action::\"manage\",\n"
		    "    resource in Namespace::\"%s\")\n"
		    "unless { context.mfa && context has mfa_age_s &&\n"
		    "    context.mfa_age_s < 900 };\n", i, ns);
	case 3:
		return cf_buf_printf(b, NULL, "@id(\"sens-%zu\")\n"
		    "forbid (principal is Service,\n"
		    "    action in Action::\"read\", resource)\n"
		    "when { resource has sensitivity && "
		    "resource.sensitivity >= 3 &&\n"
		    "    !(principal.name like \"svc-trusted-%zu-*\") };\n", i,
		    i);
	case 4:
		return cf_buf_printf(b, NULL, "@id(\"team-%zu\")\n"
		    "permit (principal in Group::\"team-%zu\",\n"
		    "    action in Action::\"read\", "
		    "resource in Namespace::\"%s\");\n", i, i % 50, ns);
	case 5:
		return cf_buf_printf(b, NULL, "@id(\"svc-dev-%zu\")\n"
		    "permit (principal, action == Action::\"object:get\", "
		    "resource)\n"
		    "when { resource has env && resource.env == \"dev\" &&\n"
		    "    resource.sensitivity <= 1 && "
		    "principal.kind == \"service\" &&\n"
		    "    principal.name like \"svc-%zu-*\" };\n", i, i % 7);
	case 6:
		return cf_buf_printf(b, NULL, "@id(\"prod-delete-%zu\")\n"
		    "forbid (principal, action == Action::\"object:delete\",\n"
		    "    resource in Namespace::\"%s\")\n"
		    "when { resource has env && resource.env == \"prod\" &&\n"
		    "    context.authn == \"token\" };\n", i, ns);
	default:
		return cf_buf_printf(b, NULL, "@id(\"office-%zu\")\n"
		    "permit (principal == %s::\"%s\", action in "
		    "Action::\"read\",\n    resource in Namespace::\"%s\")\n"
		    "when { context.hour >= 8 && context.hour < 18 &&\n"
		    "    context.weekday >= 1 && context.weekday <= 5 };\n", i,
		    p % 20 == 19 ? "Service" : "User", pn, ns);
	}
}

/* The policy sets of a scenario: half the policies in global sets of
 * 50, half in sets of 1 attached to a namespace each (the i-th set to
 * namespace i). */
struct feed_arg {
	size_t	npol, nns, nprin;
};

static cf_err
feed(void *arg, void *lc, struct cf_error *err)
{
	const struct feed_arg	*fa = arg;
	struct cf_buf		 b;
	size_t			 i = 0, nglobal = fa->npol / 2, k, set = 0;
	char			 name[64], ns[CF_NS_NAME_MAX];
	cf_err			 rc = CF_OK;

	cf_buf_init(&b, 64u << 20);
	while (i < nglobal && rc == CF_OK) {
		cf_buf_reset(&b);
		for (k = 0; k < 50 && i < nglobal && rc == CF_OK; k++, i++)
			rc = gen_policy(&b, i, rndn(fa->nns), rndn(fa->nprin));
		if (rc == CF_OK)
			rc = cf_buf_append(&b, "", 1, err);
		(void)snprintf(name, sizeof(name), "global-%zu", set++);
		if (rc == CF_OK)
			rc = core_authz_load_part(lc, name, NULL, 1, b.data,
			    err);
	}
	for (k = 0; i < fa->npol && rc == CF_OK; i++, k++) {
		cf_buf_reset(&b);
		ns_name(k % fa->nns, ns, sizeof(ns));
		rc = gen_policy(&b, i, k % fa->nns, rndn(fa->nprin));
		if (rc == CF_OK)
			rc = cf_buf_append(&b, "", 1, err);
		(void)snprintf(name, sizeof(name), "ns-%zu", k);
		if (rc == CF_OK)
			rc = core_authz_load_part(lc, name, ns, 1, b.data,
			    err);
	}
	cf_buf_free(&b);
	return rc;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Fill the store.  Bindings: the first principals get several (a tenth
 * of them four), then one each; 2 % of them global. */
static void
populate(struct cf_core *c, const struct opts *o, struct tok *toks,
    size_t ntok, size_t *nbound)
{
	struct cf_error		e = { 0 };
	struct cf_ns_rec	nsr;
	struct cf_principal_rec	p;
	struct cf_token_rec	rec;
	struct core_act		act;
	size_t			i, j, left = o->nbind, multi, per;
	char			ns[CF_NS_NAME_MAX], scope[256];
	int64_t			t0 = now_ns();

	for (j = 0; j < o->nns; j++) {
		memset(&nsr, 0, sizeof(nsr));
		ns_name(j, nsr.name, sizeof(nsr.name));
		cf_strlcpy(nsr.env, envs[j % 3], sizeof(nsr.env));
		cf_strlcpy(nsr.sensitivity, sens[j % 8],
		    sizeof(nsr.sensitivity));
		cf_strlcpy(nsr.created_by, "admin", sizeof(nsr.created_by));
		if (cf_meta_ns_create(c->meta, &bench_au, &nsr, &e) != CF_OK)
			die("ns_create", &e);
	}
	for (i = 0; i < o->nprin; i++) {
		memset(&p, 0, sizeof(p));
		prin_name(i, p.name, sizeof(p.name));
		cf_strlcpy(p.kind, i % 20 == 19 ? "service" : "user",
		    sizeof(p.kind));
		if (cf_meta_principal_create(c->meta, &bench_au, &p,
		    &e) != CF_OK)
			die("principal_create", &e);
	}
	/* Principal i has id i + 2 (admin is 1). */
	multi = o->nbind / 10;		/* principals with 4 bindings */
	*nbound = 0;
	for (i = 0; i < o->nprin && left > 0; i++) {
		per = i < multi / 4 ? 4 : 1;
		for (j = 0; j < per && left > 0; j++, left--) {
			if (rndn(50) == 0)
				ns[0] = '\0';
			else
				ns_name(rndn(o->nns), ns, sizeof(ns));
			if (cf_meta_binding_add(c->meta, &bench_au,
			    (int64_t)i + 2, roles[rndn(7)], ns,
			    0, &e) != CF_OK)
				die("binding_add", &e);
		}
		*nbound = i + 1;
	}
	/* Tokens: four in five for bound principals; a fifth of them
	 * sessions with MFA, a tenth scoped. */
	for (i = 0; i < ntok; i++) {
		const char	*kind = "api", *sc = NULL;
		int64_t		 mfa = 0;

		toks[i].pidx = rndn(5) != 0 ? rndn(*nbound) : rndn(o->nprin);
		if (rndn(5) == 0) {
			kind = "session";
			mfa = cf_now_us();
		} else if (rndn(10) == 0) {
			ns_name(rndn(o->nns), ns, sizeof(ns));
			(void)snprintf(scope, sizeof(scope), "{\"actions\":"
			    "[\"object:get\",\"object:head\",\"object:list\"],"
			    "\"namespaces\":[\"%s\"]}", ns);
			sc = scope;
		}
		memset(&act, 0, sizeof(act));
		act.au = bench_au;	/* only the store's obligation */
		if (core_token_mint(c, &act, (int64_t)toks[i].pidx + 2, kind,
		    0, "bench", mfa, sc, &rec, toks[i].token, &e) != CF_OK)
			die("token_mint", &e);
	}
	printf("populate_s=%.1f\n", (double)(now_ns() - t0) / 1e9);
}

static const char *const acts[] = { "object:get", "object:get",
    "object:get", "object:get", "object:get", "object:get", "object:head",
    "object:list", "object:put", "object:delete" };

struct sample {
	const char	*action;
	char		 ns[CF_NS_NAME_MAX];
	char		 res[CF_RESOURCE_MAX];
	size_t		 tok;
};

/* A request: mostly on a namespace of one of the principal's bindings
 * (the ordinary case), else on any. */
static void
make_sample(struct cf_core *c, const struct opts *o, const struct tok *toks,
    size_t ntok, struct sample *s)
{
	struct cf_req	r;
	struct cf_error	e = { 0 };
	size_t		j;

	s->tok = rndn(ntok);
	s->action = acts[rndn(10)];
	ns_name(rndn(o->nns), s->ns, sizeof(s->ns));
	cf_req_init(&r, "10.1.2.3");
	if (cf_core_authenticate(c, &r, toks[s->tok].token, &e) != CF_OK)
		die("authenticate", &e);
	if (r.nbindings > 0 && rndn(10) < 8) {
		j = rndn(r.nbindings);
		if (r.bindings[j].ns[0] != '\0')
			cf_strlcpy(s->ns, r.bindings[j].ns, sizeof(s->ns));
	}
	if (strcmp(s->action, "object:list") == 0)
		(void)snprintf(s->res, sizeof(s->res), "ns/%s/obj/", s->ns);
	else
		(void)snprintf(s->res, sizeof(s->res),
		    "ns/%s/obj/models/m%zu/weights-%zu.safetensors", s->ns,
		    rndn(100), rndn(10));
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t	a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

struct stats {
	double	p50, p90, p99, mean;
};

static struct stats
stats_of(uint32_t *ns, size_t n)
{
	struct stats	st;
	double		sum = 0;
	size_t		i;

	qsort(ns, n, sizeof(*ns), cmp_u32);
	for (i = 0; i < n; i++)
		sum += ns[i];
	st.p50 = ns[n / 2] / 1e3;
	st.p90 = ns[n * 9 / 10] / 1e3;
	st.p99 = ns[n * 99 / 100] / 1e3;
	st.mean = sum / (double)n / 1e3;
	return st;
}

static int
cmp_dbl(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define NMEAS	4
static const char *const meas_names[NMEAS] = { "core_authorize",
    "core_authz_decide", "entities_context", "ns_record" };

/* One round: every sample through (a), (b) and (c), in turn. */
static void
round_run(struct cf_core *c, const struct tok *toks,
    const struct sample *smp, size_t n, uint32_t *t[NMEAS],
    size_t *nallow)
{
	struct cf_req			 r;
	struct cf_error			 e = { 0 };
	const struct cf_action_def	*def;
	struct cf_entities		*es;
	struct cf_request		*req;
	struct cf_ns_rec		 nsr;
	char				 role[CF_ROLE_MAX];
	bool				 allow;
	int64_t				 t0;
	size_t				 i;
	cf_err				 rc;

	*nallow = 0;
	for (i = 0; i < n; i++) {
		const struct sample *s = &smp[i];

		def = cf_action_find(s->action);
		cf_req_init(&r, "10.1.2.3");
		if (cf_core_authenticate(c, &r, toks[s->tok].token, &e) !=
		    CF_OK)
			die("authenticate", &e);
		/* (a): as a GET makes it, in the request's read scope. */
		if (cf_meta_scope_begin(c->meta, &e) != CF_OK)
			die("scope", &e);
		t0 = now_ns();
		rc = core_authorize(c, &r, s->action, s->ns, s->res, &e);
		t[0][i] = (uint32_t)(now_ns() - t0);
		cf_meta_scope_end(c->meta);
		if (rc == CF_OK)
			(*nallow)++;
		else if (rc != CF_E_DENIED && rc != CF_E_AUTH)
			die("core_authorize", &e);
		cf_error_clear(&e);
		/* (b) */
		if (cf_meta_scope_begin(c->meta, &e) != CF_OK)
			die("scope", &e);
		t0 = now_ns();
		rc = core_authz_decide(c, &r, def, s->ns, s->ns, s->res, role,
		    sizeof(role), &allow, NULL, &e);
		t[1][i] = (uint32_t)(now_ns() - t0);
		cf_meta_scope_end(c->meta);
		if (rc != CF_OK)
			die("core_authz_decide", &e);
		/* (c) */
		if (cf_meta_scope_begin(c->meta, &e) != CF_OK)
			die("scope", &e);
		t0 = now_ns();
		rc = core_authz_build(c, &r, def, s->ns, s->ns, s->res, &es,
		    &req, &e);
		t[2][i] = (uint32_t)(now_ns() - t0);
		cf_meta_scope_end(c->meta);
		if (rc != CF_OK)
			die("core_authz_build", &e);
		cf_entities_free(es);
		cf_request_free(req);
		/* (d): the namespace record alone, the first read of its
		 * scope as in (c). */
		if (cf_meta_scope_begin(c->meta, &e) != CF_OK)
			die("scope", &e);
		t0 = now_ns();
		rc = cf_meta_ns_get(c->meta, s->ns, &nsr, &e);
		t[3][i] = (uint32_t)(now_ns() - t0);
		cf_meta_scope_end(c->meta);
		if (rc != CF_OK)
			die("ns_get", &e);
	}
}

static void
measure(struct cf_core *c, const struct opts *o, const struct tok *toks,
    size_t ntok)
{
	struct sample	*smp;
	uint32_t	*t[NMEAS];
	double		*v[NMEAS][4];
	struct stats	 st;
	size_t		 i, k, nallow = 0, round;

	smp = calloc(o->nreq, sizeof(*smp));
	if (smp == NULL)
		die("calloc", NULL);
	for (k = 0; k < NMEAS; k++) {
		t[k] = calloc(o->nreq, sizeof(*t[k]));
		for (i = 0; i < 4; i++)
			v[k][i] = calloc(o->rounds, sizeof(double));
	}
	for (i = 0; i < o->nreq; i++)
		make_sample(c, o, toks, ntok, &smp[i]);
	/* One unmeasured round warms the caches and prepares statements. */
	round_run(c, toks, smp, o->nreq < 2000 ? o->nreq : 2000, t, &nallow);
	for (round = 0; round < o->rounds; round++) {
		round_run(c, toks, smp, o->nreq, t, &nallow);
		for (k = 0; k < NMEAS; k++) {
			st = stats_of(t[k], o->nreq);
			v[k][0][round] = st.p50;
			v[k][1][round] = st.p90;
			v[k][2][round] = st.p99;
			v[k][3][round] = st.mean;
		}
	}
	printf("requests=%zu rounds=%zu allowed=%zu\n", o->nreq, o->rounds,
	    nallow);
	for (k = 0; k < NMEAS; k++) {
		printf("%s", meas_names[k]);
		for (i = 0; i < 4; i++)
			printf(" %.2f", median(v[k][i], o->rounds));
		printf("  (p50 over rounds %.2f-%.2f)\n", v[k][0][0],
		    v[k][0][o->rounds - 1]);
	}
	for (k = 0; k < NMEAS; k++) {
		free(t[k]);
		for (i = 0; i < 4; i++)
			free(v[k][i]);
	}
	free(smp);
}

/* A policy change of o->nreload policies: the median time of five
 * reloads, and the memory the policies hold. */
static void
reload_bench(struct cf_core *c, const struct opts *o)
{
	struct feed_arg	 none = { 0, o->nns, o->nprin };
	struct feed_arg	 big = { o->nreload, o->nns, o->nprin };
	struct cf_error	 e = { 0 };
	double		 ms[5], med;
	size_t		 h0, h1 = 0, i;
	long		 r0, r1 = 0;
	int64_t		 t0;

	if (core_authz_reload_bench(c, feed, &none, &e) != CF_OK)
		die("reload", &e);
	(void)malloc_trim(0);
	h0 = mallinfo2().uordblks;
	r0 = rss_kib();
	for (i = 0; i < 5; i++) {
		t0 = now_ns();
		if (core_authz_reload_bench(c, feed, &big, &e) != CF_OK)
			die("reload", &e);
		ms[i] = (double)(now_ns() - t0) / 1e6;
		if (i == 0) {
			h1 = mallinfo2().uordblks;
			r1 = rss_kib();
		}
	}
	med = median(ms, 5);	/* sorts ms */
	printf("reload policies=%zu sets=%zu ms_median=%.1f ms_min=%.1f "
	    "ms_max=%.1f heap_mib=%.1f rss_delta_mib=%.1f\n", o->nreload,
	    (o->nreload / 2 + 49) / 50 + (o->nreload - o->nreload / 2),
	    med, ms[0], ms[4], (double)(h1 - h0) / 1048576.0,
	    (double)(r1 - r0) / 1024.0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_authz [-p principals] [-n namespaces] "
	    "[-b bindings] [-k policies] [-q requests] [-r rounds] "
	    "[-R reload-policies] [-d dir]\n");
	exit(2);
}

static size_t
num(const char *s)
{
	uint64_t	v;

	if (cf_parse_u64(s, 1, 100000000, &v, NULL) != CF_OK)
		usage();
	return (size_t)v;
}

int
main(int argc, char **argv)
{
	struct opts		o = { 100000, 1000, 10000, 200, 20000, 5,
				    10000, "" };
	struct cf_core_config	cfg;
	struct cf_core		*c = NULL;
	struct cf_error		e = { 0 };
	struct feed_arg		fa;
	struct tok		*toks;
	char			boot[4096], key[4200];
	size_t			ntok = 2000, nbound = 0;
	bool			made = false;
	int			ch;

	while ((ch = getopt(argc, argv, "p:n:b:k:q:r:R:d:")) != -1)
		switch (ch) {
		case 'p': o.nprin = num(optarg); break;
		case 'n': o.nns = num(optarg); break;
		case 'b': o.nbind = num(optarg); break;
		case 'k': o.npol = num(optarg); break;
		case 'q': o.nreq = num(optarg); break;
		case 'r': o.rounds = num(optarg); break;
		case 'R': o.nreload = num(optarg); break;
		case 'd': cf_strlcpy(o.dir, optarg, sizeof(o.dir)); break;
		default: usage();
		}
	if (o.dir[0] == '\0') {
		/* tmpfs: 100,000 fsync'ed inserts take seconds there. */
		cf_strlcpy(o.dir, "/dev/shm/cf-bench-authz-XXXXXX",
		    sizeof(o.dir));
		if (mkdtemp(o.dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		made = true;
	}
	if (cf_crypto_init(&e) != CF_OK)
		die("crypto", &e);
	cf_core_config_defaults(&cfg);
	cfg.data_dir = o.dir;
	cfg.orphan_interval = 0;
	(void)snprintf(key, sizeof(key), "%s/master.key", o.dir);
	cfg.master_key_file = key;
	if (cf_core_open(&cfg, &c, boot, &e) != CF_OK)
		die("cf_core_open", &e);
	toks = calloc(ntok, sizeof(*toks));
	if (toks == NULL)
		die("calloc", NULL);
	populate(c, &o, toks, ntok, &nbound);
	fa.npol = o.npol;
	fa.nns = o.nns;
	fa.nprin = o.nprin;
	if (core_authz_reload_bench(c, feed, &fa, &e) != CF_OK)
		die("load policies", &e);
	printf("principals=%zu namespaces=%zu bindings=%zu bound=%zu "
	    "policies=%zu tokens=%zu\n", o.nprin, o.nns, o.nbind, nbound,
	    o.npol, ntok);
	measure(c, &o, toks, ntok);
	reload_bench(c, &o);
	cf_core_close(c);
	free(toks);
	if (made)
		(void)nftw(o.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
