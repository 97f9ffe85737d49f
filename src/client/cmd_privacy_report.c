/* src/client/cmd_privacy_report.c: `coffer privacy report` (docs/cli.md,
 * docs/privacy.md, "The privacy report"). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char privacy_usage[] =
    "usage: coffer privacy report [--ns NS] [--since DATE] [--until DATE]\n"
    "                             [--limit N] [--records N] [--json]\n"
    "\n"
    "Lists personal data (a pii=true label on a namespace or an object, or\n"
    "pii=true in an artifact version's metadata, set or inherited through\n"
    "lineage) with its lineage, retention, legal holds and who accessed\n"
    "it from --since to --until (YYYY-MM-DD or RFC 3339 UTC; default: the\n"
    "last 30 days), for which declared purpose (X-Coffer-Purpose).  At\n"
    "most --limit rows (1000) and the last --records audit records\n"
    "(100000) are read; a cut report says so.  Admin only.\n";

struct ropts {
	const char	*ns;
	const char	*since;
	const char	*until;
	const char	*limit;
	const char	*records;
};

static bool
ropt(void *arg, int ch, char *val)
{
	struct ropts	*p = arg;

	switch (ch) {
	case 'N':
		p->ns = val;
		return true;
	case 'S':
		p->since = val;
		return true;
	case 'U':
		p->until = val;
		return true;
	case 'L':
		p->limit = val;
		return true;
	case 'R':
		p->records = val;
		return true;
	default:
		return false;
	}
}

/* Append "&name=value" (value percent-encoded) when value is set. */
static cf_err
qarg(struct cf_buf *url, const char *name, const char *value,
    struct cf_error *err)
{
	cf_err	rc;

	if (value == NULL)
		return CF_OK;
	rc = cf_buf_printf(url, err, "%s%s=", strchr(url->data, '?') ==
	    NULL ? "?" : "&", name);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(url, value, false, err);
	return rc;
}

static void
print_item(const json_t *it)
{
	const json_t	*a, *v, *h, *n;
	const char	*k;
	char		 ns[128], name[1100], who[300], act[64], s1[64];
	size_t		 i, j;

	cf_cli_sanitize(cf_cli_jstr(it, "ns", ""), ns, sizeof(ns));
	cf_cli_sanitize(cf_cli_jstr(it, "name", ""), name, sizeof(name));
	(void)printf("%s %s%s%s  (pii: %s)\n", cf_cli_jstr(it, "kind", "?"),
	    ns, name[0] != '\0' ? "/" : "", name, cf_cli_jstr(it, "pii", "?"));
	(void)printf("  retention: %lld days, purge after: %lld days\n",
	    (long long)json_integer_value(json_object_get(json_object_get(it,
	    "retention"), "retain_days")), (long long)json_integer_value(
	    json_object_get(json_object_get(it, "retention"),
	    "purge_after_days")));
	json_array_foreach(json_object_get(it, "holds"), i, h) {
		cf_cli_sanitize(cf_cli_jstr(h, "reason", ""), who,
		    sizeof(who));
		(void)printf("  hold %s: %s\n", cf_cli_jstr(h, "id", "?"), who);
	}
	json_array_foreach(json_object_get(it, "versions"), i, v) {
		(void)printf("  @%lld (pii: %s)", (long long)json_integer_value(
		    json_object_get(v, "number")), cf_cli_jstr(v, "pii", "?"));
		json_array_foreach(json_object_get(v, "sources"), j, n) {
			cf_cli_sanitize(cf_cli_jstr(n, "ns", "(gone)"), s1,
			    sizeof(s1));
			cf_cli_sanitize(cf_cli_jstr(n, "name", ""), who,
			    sizeof(who));
			(void)printf("%s %s/%s@%lld", j == 0 ? " from" : ",",
			    s1, who, (long long)json_integer_value(
			    json_object_get(n, "number")));
		}
		json_array_foreach(json_object_get(v, "derived"), j, n) {
			cf_cli_sanitize(cf_cli_jstr(n, "ns", "(gone)"), s1,
			    sizeof(s1));
			cf_cli_sanitize(cf_cli_jstr(n, "name", ""), who,
			    sizeof(who));
			(void)printf("%s %s/%s@%lld", j == 0 ? " ->" : ",",
			    s1, who, (long long)json_integer_value(
			    json_object_get(n, "number")));
		}
		(void)printf("\n");
	}
	if (json_array_size(json_object_get(it, "access")) == 0)
		(void)printf("  no access in the period\n");
	json_array_foreach(json_object_get(it, "access"), i, a) {
		cf_cli_sanitize(cf_cli_jstr(a, "principal", ""), who,
		    sizeof(who));
		cf_cli_sanitize(cf_cli_jstr(a, "action", ""), act, sizeof(act));
		(void)printf("  %s %s: %lld (denied %lld), last %s, purposes",
		    who, act, (long long)json_integer_value(json_object_get(a,
		    "count")), (long long)json_integer_value(json_object_get(a,
		    "denied")), cf_cli_jstr(a, "last", "-"));
		json_object_foreach((json_t *)json_object_get(a, "purposes"),
		    k, n) {
			cf_cli_sanitize(k, act, sizeof(act));
			(void)printf(" %s=%lld", act,
			    (long long)json_integer_value(n));
		}
		(void)printf("\n");
	}
}

int
cf_cmd_privacy(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, 'N' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "limit", required_argument, NULL, 'L' },
		{ "records", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct ropts		 p = { 0 };
	struct cf_buf		 url;
	char			**ops;
	json_t			*v = NULL, *it;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		(void)fputs(privacy_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CF_EXIT_USAGE : CF_EXIT_OK;
	}
	if (strcmp(argv[1], "report") != 0) {
		cf_cli_errx("privacy: unknown subcommand \"%s\"", argv[1]);
		(void)fputs(privacy_usage, stderr);
		return CF_EXIT_USAGE;
	}
	ex = cf_cli_parse(argc - 1, argv + 1, privacy_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, ropt, &p, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	cf_buf_init(&url, 4096);
	rc = cf_buf_append_str(&url, "/v1/privacy/report", &err);
	if (rc == CF_OK)
		rc = qarg(&url, "ns", p.ns, &err);
	if (rc == CF_OK)
		rc = qarg(&url, "since", p.since, &err);
	if (rc == CF_OK)
		rc = qarg(&url, "until", p.until, &err);
	if (rc == CF_OK)
		rc = qarg(&url, "limit", p.limit, &err);
	if (rc == CF_OK)
		rc = qarg(&url, "records", p.records, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", url.data, NULL, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && !o.quiet) {
		(void)printf("personal data, accesses from %s to %s:\n",
		    cf_cli_jstr(json_object_get(v, "period"), "since", "?"),
		    cf_cli_jstr(json_object_get(v, "period"), "until", "?"));
		json_array_foreach(json_object_get(v, "items"), i, it)
			print_item(it);
		if (json_array_size(json_object_get(v, "items")) == 0)
			(void)printf("(none)\n");
		if (json_is_true(json_object_get(v, "truncated")))
			(void)printf("TRUNCATED: more rows than --limit\n");
		if (json_is_true(json_object_get(json_object_get(v, "audit"),
		    "truncated")))
			(void)printf("TRUNCATED: the period begins before the "
			    "audit records read (--records)\n");
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}
