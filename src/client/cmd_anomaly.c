/* src/client/cmd_anomaly.c: `coffer anomalies`: the flags the server's
 * anomaly detector raised (GET /v1/anomalies, docs/monitoring.md), one
 * per line with its explanation. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char anomalies_usage[] =
    "usage: coffer anomalies [--since DUR] [--principal P] [--limit N] "
    "[--json]\n"
    "\n"
    "List the anomalies the server's detector flagged: first access from a\n"
    "new network, off-hours access to restricted data, bulk downloads,\n"
    "enumeration, one credential used from two distant networks, a dormant\n"
    "account waking up, many new namespaces.  Each line says which\n"
    "feature stood out, its baseline and the value observed.  Newest\n"
    "first.  Needs the admin role.\n"
    "\n"
    "  --since DUR      how far back (e.g. 1h, 7d; default 7d)\n"
    "  --principal P    only the flags of principal P (\"@ADDR\": of an\n"
    "                   unauthenticated address)\n"
    "  --limit N        at most N flags (1-10000, default 100)\n"
    "  --json           print the server's answer as JSON\n";

#define OPT_SINCE	0x201
#define OPT_PRINCIPAL	0x202
#define OPT_LIMIT	0x203

struct anom_opts {
	uint64_t	 since;
	uint64_t	 limit;
	const char	*principal;
};

static bool
anom_opt(void *arg, int ch, char *val)
{
	struct anom_opts	*a = arg;
	struct cf_error		 err = { 0 };

	switch (ch) {
	case OPT_SINCE:
		if (cf_parse_duration(val, 10ull * 366 * 86400, &a->since,
		    &err) != CF_OK || a->since == 0) {
			cf_cli_errx("anomalies: --since %s: use e.g. 1h, 7d",
			    val);
			return false;
		}
		return true;
	case OPT_PRINCIPAL:
		a->principal = val;
		return true;
	case OPT_LIMIT:
		if (cf_parse_u64(val, 1, 10000, &a->limit, &err) != CF_OK) {
			cf_cli_errx("anomalies: --limit %s: %s", val, err.msg);
			return false;
		}
		return true;
	default:
		return false;
	}
}

static void
print_flag(const json_t *f)
{
	char	when[40], kind[32], who[96], src[80], expl[400], trig[40];

	cf_cli_sanitize(cf_cli_jstr(f, "time", "?"), when, sizeof(when));
	cf_cli_sanitize(cf_cli_jstr(f, "kind", "?"), kind, sizeof(kind));
	cf_cli_sanitize(cf_cli_jstr(f, "principal", "?"), who, sizeof(who));
	cf_cli_sanitize(cf_cli_jstr(f, "source", ""), src, sizeof(src));
	cf_cli_sanitize(cf_cli_jstr(f, "explanation", ""), expl,
	    sizeof(expl));
	cf_cli_sanitize(cf_cli_jstr(f, "trigger", ""), trig, sizeof(trig));
	(void)printf("%s  %-20s  %-16s  score %lld  from %s\n", when, kind,
	    who, (long long)json_integer_value(json_object_get(f, "score")),
	    src);
	(void)printf("    %s\n    request %s\n", expl, trig);
}

int
cf_cmd_anomalies(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "principal", required_argument, NULL, OPT_PRINCIPAL },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct anom_opts	 a = { 7ull * 86400, 100, NULL };
	struct cf_buf		 url;
	char			**ops, tmp[64];
	json_t			*v = NULL, *f;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 4096);
	ex = cf_cli_parse(argc, argv, anomalies_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, anom_opt, &a, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	(void)snprintf(tmp, sizeof(tmp), "/v1/anomalies?since=%llu&limit=%llu",
	    (unsigned long long)a.since, (unsigned long long)a.limit);
	if (cf_buf_append_str(&url, tmp, NULL) != CF_OK ||
	    (a.principal != NULL && (cf_buf_append_str(&url, "&principal=",
	    NULL) != CF_OK || cf_cli_urlenc(&url, a.principal, false,
	    NULL) != CF_OK))) {
		cf_cli_errx("anomalies: principal name too long");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", url.data, NULL, &v, &err);
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_sess_close(&s);
	if (ex != CF_EXIT_OK || v == NULL)
		goto out;
	if (o.json)
		cf_cli_print_json(v);
	else {
		if (!json_is_true(json_object_get(v, "enabled")))
			(void)printf("anomaly detection is off on the server "
			    "(anomaly_detection = no)\n");
		json_array_foreach(json_object_get(v, "anomalies"), i, f)
			print_flag(f);
		(void)printf("%zu flag(s); %lld profile(s) tracked\n",
		    json_array_size(json_object_get(v, "anomalies")),
		    (long long)json_integer_value(json_object_get(v,
		    "profiles")));
	}
out:
	json_decref(v);
	cf_buf_free(&url);
	return ex;
}
