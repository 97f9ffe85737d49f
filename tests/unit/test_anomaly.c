/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_anomaly.c: the anomaly detector (core/anomaly.h) fed
 * synthetic records on an injected clock (every event carries its
 * time; nothing sleeps): each flag with its explanation, the risk a
 * decision sees, the bounds, and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "core/anomaly.h"

#define S	1000000LL		/* a second, in microseconds */
#define H	(3600 * S)
#define D	(24 * H)
/* Monday 2026-01-05 00:00:00 UTC */
#define T0	(1767571200LL * S)

static struct cf_anom *
mk(uint64_t min_events)
{
	struct cf_anom_config	 cfg;
	struct cf_anom		*a = NULL;

	cf_anom_config_defaults(&cfg);
	cfg.min_events = min_events;
	cfg.bulk_min_objects = 20;
	cfg.bulk_min_bytes = 1000000;
	assert_int_equal(cf_anom_new(&cfg, &a, NULL), CF_OK);
	return a;
}

static size_t
ev(struct cf_anom *a, int64_t t, const char *who, const char *src,
    const char *action, const char *ns, int status, uint64_t bytes,
    struct cf_anom_flag *out, size_t max)
{
	struct cf_anom_event	e;

	memset(&e, 0, sizeof(e));
	e.time_us = t;
	e.request_id = "req";
	e.principal = who;
	e.source = src;
	e.action = action;
	e.ns = ns;
	e.status = status;
	e.allowed = status < 400 || status == 404;
	e.bytes = bytes;
	return cf_anom_observe(a, &e, out, max);
}

/* The usual requests of alice: 10 a day from 10.1.1.x, 09:00-13:00. */
static void
learn_days(struct cf_anom *a, const char *who, int days)
{
	struct cf_anom_flag	f[CF_ANOM_NKINDS];
	int			d, i;
	char			src[32];

	for (d = 0; d < days; d++)
		for (i = 0; i < 10; i++) {
			(void)snprintf(src, sizeof(src), "10.1.1.%d", i + 1);
			assert_int_equal(ev(a, T0 + d * D + 9 * H + i * 1200 *
			    S, who, src, "object:list", "ml", 200, 0, f,
			    CF_ANOM_NKINDS), 0);
		}
}

static void
test_anomaly_new_network(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	size_t			 n;

	(void)state;
	/* Not learned yet: a second network is no news. */
	assert_int_equal(ev(a, T0, "alice", "10.1.1.1", "ns:get", "ml", 200,
	    0, f, 8), 0);
	assert_int_equal(ev(a, T0 + H, "alice", "172.16.0.1", "ns:get", "ml",
	    200, 0, f, 8), 0);
	learn_days(a, "alice", 3);
	/* Another host of a known /24: nothing. */
	assert_int_equal(ev(a, T0 + 3 * D + 10 * H, "alice", "10.1.1.200",
	    "ns:get", "ml", 200, 0, f, 8), 0);
	n = ev(a, T0 + 3 * D + 11 * H, "alice", "192.0.2.7", "ns:get", "ml",
	    200, 0, f, 8);
	assert_int_equal(n, 1);
	assert_int_equal(f[0].kind, CF_ANOM_NEW_NETWORK);
	assert_string_equal(f[0].principal, "alice");
	assert_string_equal(f[0].feature, "source_network");
	assert_string_equal(f[0].observed, "192.0.2.0/24");
	assert_non_null(strstr(f[0].baseline, "10.1.1.0/24"));
	/* IPv6: its /64. */
	n = ev(a, T0 + 3 * D + 11 * H + 1800 * S, "alice",
	    "[2001:db8:1:2::5]", "ns:get", "ml", 200, 0, f, 8);
	assert_int_equal(n, 0);		/* the kind's cooldown: an hour */
	n = ev(a, T0 + 3 * D + 17 * H, "alice", "2001:db8:1:3::5", "ns:get",
	    "ml", 200, 0, f, 8);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].observed, "2001:db8:1:3::/64");
	cf_anom_free(a);
}

static void
test_anomaly_refused_network_not_learned(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_event	 e;
	uint32_t		 kinds;

	(void)state;
	learn_days(a, "alice", 3);
	memset(&e, 0, sizeof(e));
	e.time_us = T0 + 3 * D + 10 * H;
	e.principal = "alice";
	e.source = "192.0.2.7";
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 30);
	assert_int_equal(kinds, 1u << CF_ANOM_NEW_NETWORK);
	/* Refused (a policy on context.risk): the network stays new. */
	assert_int_equal(ev(a, e.time_us, "alice", "192.0.2.7", "object:get",
	    "ml", 403, 0, NULL, 0), 0);
	e.time_us += 2 * H;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 30);
	/* Allowed once (say, after MFA): learned. */
	assert_int_equal(ev(a, e.time_us, "alice", "192.0.2.7", "object:get",
	    "ml", 200, 0, NULL, 0), 0);
	e.time_us += 2 * H;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 0);
	assert_int_equal(kinds, 0);
	cf_anom_free(a);
}

static void
test_anomaly_bulk_download(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	size_t			 n, total = 0;
	int			 d, i;

	(void)state;
	/* Five days of 3 downloads of 100 kB an hour. */
	for (d = 0; d < 5; d++)
		for (i = 0; i < 3; i++)
			assert_int_equal(ev(a, T0 + d * D + 10 * H + i * 60 *
			    S, "bob", "10.2.0.1", "object:get", "ml", 200,
			    100000, f, 8), 0);
	/* Today: the threshold is 10 x 3 = 30 objects in an hour (the
	 * floor is 20); the 31st flags, once. */
	for (i = 0; i < 40; i++) {
		n = ev(a, T0 + 5 * D + 10 * H + i * 10 * S, "bob", "10.2.0.1",
		    "object:get", "ml", 200, 1000, f, 8);
		if (n > 0) {
			assert_int_equal(i, 30);
			assert_int_equal(f[0].kind, CF_ANOM_BULK);
			assert_string_equal(f[0].feature, "objects_per_hour");
			assert_string_equal(f[0].observed,
			    "31 objects in the last hour");
			assert_non_null(strstr(f[0].baseline,
			    "3.0 objects in the busiest hour"));
		}
		total += n;
	}
	assert_int_equal(total, 1);
	cf_anom_free(a);
}

static void
test_anomaly_bulk_bytes(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	int			 d;

	(void)state;
	for (d = 0; d < 4; d++)
		assert_int_equal(ev(a, T0 + d * D + 10 * H, "carol", "10.3.0.1",
		    "object:get", "ml", 200, 200000, f, 8), 0);
	/* Baseline 200 kB a day, x10 = 2 MB (above the 1 MB floor). */
	assert_int_equal(ev(a, T0 + 4 * D + 10 * H, "carol", "10.3.0.1",
	    "object:get", "ml", 200, 1500000, f, 8), 0);
	assert_int_equal(ev(a, T0 + 4 * D + 11 * H, "carol", "10.3.0.1",
	    "object:get", "ml", 200, 1500000, f, 8), 1);
	assert_int_equal(f[0].kind, CF_ANOM_BULK);
	assert_string_equal(f[0].feature, "bytes_per_day");
	assert_string_equal(f[0].observed, "3000000 bytes today");
	assert_non_null(strstr(f[0].baseline, "200000 bytes/day"));
	cf_anom_free(a);
}

static void
test_anomaly_enumeration(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	size_t			 total = 0, n;
	int			 i;

	(void)state;
	/* 19 in five minutes: nothing; then 20 within five minutes. */
	for (i = 0; i < 19; i++)
		total += ev(a, T0 + i * 20 * S, "dave", "10.4.0.1",
		    "object:get", "secret", 403, 0, f, 8);
	assert_int_equal(total, 0);
	for (i = 0; i < 25; i++) {
		n = ev(a, T0 + H + i * 5 * S, "dave", "10.4.0.1",
		    "object:head", "ml", i % 2 == 0 ? 404 : 403, 0, f, 8);
		if (n > 0) {
			assert_int_equal(i, 19);
			assert_int_equal(f[0].kind, CF_ANOM_ENUMERATION);
			assert_string_equal(f[0].feature, "denials");
			assert_string_equal(f[0].observed,
			    "20 401/403/404 within 95 s");
		}
		total += n;
	}
	assert_int_equal(total, 1);
	/* Unauthenticated: the address's profile ("@ADDR"). */
	for (i = 0, total = 0; i < 20; i++)
		total += ev(a, T0 + 2 * H + i * S, "", "203.0.113.9",
		    "session:login", "", 401, 0, f, 8);
	assert_int_equal(total, 1);
	assert_string_equal(f[0].principal, "@203.0.113.9");
	cf_anom_free(a);
}

static void
test_anomaly_two_networks(void **state)
{
	struct cf_anom		*a = mk(1000);
	struct cf_anom_event	 e;
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	uint32_t		 kinds;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.principal = "svc";
	e.credential = "tok1";
	e.action = "object:get";
	e.allowed = true;
	e.status = 200;
	e.source = "10.5.1.1";
	e.time_us = T0;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	/* The same /16: nothing.  Another /16 two minutes later: a flag,
	 * and the risk of a request from there says so first. */
	e.source = "10.5.200.1";
	e.time_us = T0 + 60 * S;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	e.source = "198.51.100.4";
	e.time_us = T0 + 180 * S;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 70);
	assert_int_equal(kinds, 1u << CF_ANOM_TWO_NETWORKS);
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 1);
	assert_int_equal(f[0].kind, CF_ANOM_TWO_NETWORKS);
	assert_non_null(strstr(f[0].baseline, "token 10.5.0.0/16"));
	assert_string_equal(f[0].observed, "198.51.0.0/16 120 s later");
	/* Another token of the same principal from afar: its own. */
	e.credential = "tok2";
	e.source = "10.5.1.1";
	e.time_us = T0 + 200 * S;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 70);	/* the flag */
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	/* Long after the window: an ordinary move. */
	e.credential = "tok3";
	e.source = "10.9.0.1";
	e.time_us = T0 + 3 * H;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	e.source = "192.0.2.1";
	e.time_us = T0 + 3 * H + 11 * 60 * S;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	cf_anom_free(a);
}

static void
test_anomaly_dormant(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_event	 e;
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	uint32_t		 kinds;

	(void)state;
	assert_int_equal(ev(a, T0, "erin", "10.6.0.1", "ns:list", "", 200, 0,
	    f, 8), 0);
	assert_int_equal(ev(a, T0 + 29 * D, "erin", "10.6.0.1", "ns:list",
	    "", 200, 0, f, 8), 0);
	memset(&e, 0, sizeof(e));
	e.principal = "erin";
	e.source = "10.6.0.1";
	e.time_us = T0 + 29 * D + 31 * D;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 40);
	assert_int_equal(kinds, 1u << CF_ANOM_DORMANT);
	assert_int_equal(ev(a, e.time_us, "erin", "10.6.0.1", "ns:list", "",
	    200, 0, f, 8), 1);
	assert_int_equal(f[0].kind, CF_ANOM_DORMANT);
	assert_string_equal(f[0].feature, "last_activity");
	assert_string_equal(f[0].baseline, "last active 2026-02-03T00:00:00Z");
	assert_string_equal(f[0].observed, "active again after 31 days");
	/* Awake now; the flag counts in the risk for an hour. */
	e.time_us += 30 * 60 * S;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 40);
	e.time_us += H;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 0);
	/* A principal never seen is new, not dormant. */
	assert_int_equal(ev(a, e.time_us, "frank", "10.6.0.1", "ns:list", "",
	    200, 0, f, 8), 0);
	cf_anom_free(a);
}

static void
test_anomaly_off_hours(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_event	 e;
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];

	(void)state;
	learn_days(a, "gina", 5);	/* 09:00-12:00 */
	memset(&e, 0, sizeof(e));
	e.principal = "gina";
	e.source = "10.1.1.1";
	e.action = "object:get";
	e.ns = "vault";
	e.allowed = true;
	e.status = 200;
	e.restricted = true;
	e.time_us = T0 + 5 * D + 10 * H;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	/* 03:00: off hours; not restricted data: nothing. */
	e.restricted = false;
	e.time_us = T0 + 5 * D + 3 * H;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 0);
	e.restricted = true;
	e.time_us = T0 + 6 * D + 3 * H;
	assert_int_equal(cf_anom_observe(a, &e, f, 8), 1);
	assert_int_equal(f[0].kind, CF_ANOM_OFF_HOURS);
	assert_string_equal(f[0].feature, "hour_of_day");
	assert_string_equal(f[0].baseline, "usual hours (UTC): 09 10 11 12");
	assert_string_equal(f[0].observed,
	    "hour 03 UTC (restricted data in vault)");
	cf_anom_free(a);
}

static void
test_anomaly_namespaces(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	char			 ns[16];
	size_t			 total = 0, n;
	int			 i;

	(void)state;
	learn_days(a, "hank", 3);
	for (i = 0; i < 8; i++) {
		(void)snprintf(ns, sizeof(ns), "team%d", i);
		n = ev(a, T0 + 3 * D + 10 * H + i * 60 * S, "hank", "10.1.1.1",
		    "object:list", ns, 200, 0, f, 8);
		if (n > 0) {
			assert_int_equal(i, 4);
			assert_int_equal(f[0].kind, CF_ANOM_NAMESPACES);
			assert_string_equal(f[0].observed, "5 new namespaces "
			    "within an hour (last team4)");
		}
		total += n;
	}
	assert_int_equal(total, 1);
	cf_anom_free(a);
}

static void
test_anomaly_skips_own_records(void **state)
{
	struct cf_anom		*a = mk(1);
	struct cf_anom_flag	 f[CF_ANOM_NKINDS];
	size_t			 np;
	uint64_t		 ev_n;

	(void)state;
	assert_int_equal(ev(a, T0, "system", "local", CF_ANOM_ACTION,
	    "", 0, 0, f, 8), 0);
	assert_int_equal(ev(a, T0, "ivan", "local", "object:get:end", "", 200,
	    1ULL << 40, f, 8), 0);
	cf_anom_stats(a, &np, &ev_n);
	assert_int_equal(np, 0);
	cf_anom_free(a);
}

static void
test_anomaly_bounded(void **state)
{
	struct cf_anom_config	 cfg;
	struct cf_anom		*a = NULL;
	char			 who[32];
	size_t			 np;
	uint64_t		 evicted;
	int			 i;

	(void)state;
	cf_anom_config_defaults(&cfg);
	cfg.max_principals = 16;
	assert_int_equal(cf_anom_new(&cfg, &a, NULL), CF_OK);
	for (i = 0; i < 100; i++) {
		(void)snprintf(who, sizeof(who), "user%d", i);
		(void)ev(a, T0 + i * S, who, "10.0.0.1", "ns:list", "", 200, 0,
		    NULL, 0);
	}
	cf_anom_stats(a, &np, &evicted);
	assert_int_equal(np, 16);
	assert_int_equal(evicted, 84);
	/* The survivors are the most recent. */
	(void)ev(a, T0 + 200 * S, "user99", "10.0.0.1", "ns:list", "", 200,
	    0, NULL, 0);
	cf_anom_stats(a, &np, &evicted);
	assert_int_equal(evicted, 84);
	cf_anom_free(a);
}

static void
test_anomaly_note_restores_risk(void **state)
{
	struct cf_anom		*a = mk(20);
	struct cf_anom_flag	 fl;
	struct cf_anom_event	 e;
	uint32_t		 kinds;

	(void)state;
	memset(&fl, 0, sizeof(fl));
	fl.kind = CF_ANOM_BULK;
	fl.time_us = T0;
	(void)snprintf(fl.principal, sizeof(fl.principal), "judy");
	cf_anom_note(a, &fl);
	memset(&e, 0, sizeof(e));
	e.principal = "judy";
	e.source = "10.0.0.1";
	e.time_us = T0 + 10 * 60 * S;
	assert_int_equal(cf_anom_risk(a, &e, &kinds), 60);
	assert_int_equal(kinds, 1u << CF_ANOM_BULK);
	assert_string_equal(cf_anom_kind_name(CF_ANOM_BULK), "bulk_download");
	assert_int_equal(cf_anom_kind_parse("enumeration"),
	    CF_ANOM_ENUMERATION);
	assert_int_equal(cf_anom_kind_parse("nope"), -1);
	cf_anom_free(a);
}

static void
test_anomaly_alloc_failures(void **state)
{
	struct cf_anom	*a = NULL;
	unsigned int	 n;
	cf_err		 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_anom_new(NULL, &a, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(a);
	}
	/* A profile that cannot be allocated: the event is not learned. */
	cf_test_fail_alloc_after(1);
	assert_int_equal(ev(a, T0, "kim", "10.0.0.1", "ns:list", "", 200, 0,
	    NULL, 0), 0);
	cf_test_fail_alloc_after(0);
	cf_anom_free(a);
}

/* The risk's texts are joined without snprintf (every decision makes
 * them): the same bytes as snprintf made, cut alike. */
static void
test_anomaly_texts_as_snprintf(void **state)
{
	uint8_t		a[4];
	char		got[64], want[64], cut[64];
	unsigned int	v, keep, pos;
	size_t		sz, n;
	static const char *const srcs[] = { "", "10.1.2.3",
	    "[2001:db8::1]:443", "unknown" };

	(void)state;
	for (pos = 0; pos < 4; pos++)
		for (v = 0; v < 256; v++)
			for (keep = 0; keep <= 4; keep++) {
				a[0] = (uint8_t)(pos == 0 ? v : 10 + pos);
				a[1] = (uint8_t)(pos == 1 ? v : 200);
				a[2] = (uint8_t)(pos == 2 ? v : 7);
				a[3] = (uint8_t)(pos == 3 ? v : 99);
				(void)snprintf(want, sizeof(want),
				    "%u.%u.%u.%u/%u", keep > 0 ? a[0] : 0u,
				    keep > 1 ? a[1] : 0u, keep > 2 ? a[2] : 0u,
				    keep > 3 ? a[3] : 0u, keep * 8);
				cf_anom_net4_text(a, keep, got, sizeof(got));
				assert_string_equal(got, want);
				for (sz = 1; sz < 20; sz += 3) {
					n = strlen(want) < sz - 1 ?
					    strlen(want) : sz - 1;
					memcpy(cut, want, n);
					cut[n] = '\0';
					cf_anom_net4_text(a, keep, got, sz);
					assert_string_equal(got, cut);
				}
			}
	for (pos = 0; pos < 4; pos++)
		for (sz = 1; sz < 24; sz++) {
			(void)snprintf(want, sz, "@%s", srcs[pos]);
			memset(got, 'x', sizeof(got));
			cf_anom_addr_key(srcs[pos], got, sz);
			assert_string_equal(got, want);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anomaly_new_network),
		cmocka_unit_test(test_anomaly_refused_network_not_learned),
		cmocka_unit_test(test_anomaly_bulk_download),
		cmocka_unit_test(test_anomaly_bulk_bytes),
		cmocka_unit_test(test_anomaly_enumeration),
		cmocka_unit_test(test_anomaly_two_networks),
		cmocka_unit_test(test_anomaly_dormant),
		cmocka_unit_test(test_anomaly_off_hours),
		cmocka_unit_test(test_anomaly_namespaces),
		cmocka_unit_test(test_anomaly_skips_own_records),
		cmocka_unit_test(test_anomaly_bounded),
		cmocka_unit_test(test_anomaly_note_restores_risk),
		cmocka_unit_test(test_anomaly_alloc_failures),
		cmocka_unit_test(test_anomaly_texts_as_snprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
