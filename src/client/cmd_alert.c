/* src/client/cmd_alert.c: `coffer alert ls|test NAME`: the server's
 * alert rules and sinks, and a test alert through a rule's sinks
 * (docs/monitoring.md, "Alerts"; docs/api.md, "Alerts"). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char alert_usage[] =
    "usage: coffer alert ls\n"
    "       coffer alert test NAME\n"
    "\n"
    "ls lists the server's alert rules (severity, sinks, how often each\n"
    "fired and when last) and its sinks (deliveries sent, failed, given\n"
    "up, dropped).  test sends one test alert through each sink of rule\n"
    "NAME and says which sinks took it; it exits 1 if any did not.  The\n"
    "rules come from the server's alert_rules_file.  Both need admin.\n"
    "Common options: --json, --quiet, --server, --ca-cert, --insecure,\n"
    "--code.\n";

static void
pr_list(const json_t *v)
{
	json_t		*e, *k;
	size_t		 i, j;
	char		 name[80], sev[16], sinks[256], last[24], s[80], t[16];
	char		 err[256];

	(void)printf("%-24s %-9s %6s %-19s %s\n", "RULE", "SEVERITY", "FIRED",
	    "LAST FIRED", "SINKS");
	json_array_foreach(json_object_get(v, "rules"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), name,
		    sizeof(name));
		cf_cli_sanitize(cf_cli_jstr(e, "severity", "?"), sev,
		    sizeof(sev));
		cf_cli_fmt_time(cf_cli_jstr(e, "last_fired", "-"), last,
		    sizeof(last));
		sinks[0] = '\0';
		json_array_foreach(json_object_get(e, "sinks"), j, k) {
			cf_cli_sanitize(json_is_string(k) ?
			    json_string_value(k) : "?", s, sizeof(s));
			if (j > 0)
				(void)cf_strlcat(sinks, ",", sizeof(sinks));
			(void)cf_strlcat(sinks, s, sizeof(sinks));
		}
		(void)printf("%-24s %-9s %6" PRId64 " %-19s %s\n", name, sev,
		    (int64_t)json_integer_value(json_object_get(e, "fired")),
		    last, sinks);
	}
	if (json_array_size(json_object_get(v, "rules")) == 0)
		(void)printf("(no rules: set alert_rules_file on the "
		    "server)\n");
	(void)printf("\n%-16s %-8s %6s %6s %7s %7s %6s %s\n", "SINK", "TYPE",
	    "SENT", "FAILED", "GAVE_UP", "DROPPED", "QUEUED", "LAST ERROR");
	json_array_foreach(json_object_get(v, "sinks"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), name,
		    sizeof(name));
		cf_cli_sanitize(cf_cli_jstr(e, "type", "?"), t, sizeof(t));
		cf_cli_sanitize(cf_cli_jstr(e, "last_error", "-"), err,
		    sizeof(err));
		(void)printf("%-16s %-8s %6" PRId64 " %6" PRId64 " %7" PRId64
		    " %7" PRId64 " %6" PRId64 " %s\n", name, t,
		    (int64_t)json_integer_value(json_object_get(e, "sent")),
		    (int64_t)json_integer_value(json_object_get(e,
		    "failed_attempts")),
		    (int64_t)json_integer_value(json_object_get(e,
		    "gave_up")),
		    (int64_t)json_integer_value(json_object_get(e,
		    "dropped")),
		    (int64_t)json_integer_value(json_object_get(e,
		    "queued")), err);
	}
}

static bool
pr_test(const json_t *v, bool quiet)
{
	json_t	*e;
	size_t	 i;
	char	 name[80], err[256];
	bool	 ok;

	json_array_foreach(json_object_get(v, "sinks"), i, e) {
		ok = json_is_true(json_object_get(e, "ok"));
		cf_cli_sanitize(cf_cli_jstr(e, "sink", "?"), name,
		    sizeof(name));
		cf_cli_sanitize(cf_cli_jstr(e, "error", ""), err,
		    sizeof(err));
		if (!quiet)
			(void)printf("%-16s %s%s%s\n", name, ok ? "ok" :
			    "FAILED", ok ? "" : ": ", err);
	}
	return json_is_true(json_object_get(v, "ok"));
}

int
cf_cmd_alert(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	const char		*sub;
	char			**ops;
	json_t			*v = NULL;
	bool			 test, ok = true;
	int			 nops, ex;
	cf_err			 rc = CF_OK;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "ls") != 0 && strcmp(sub, "test") != 0) {
		if (argc >= 2 && (strcmp(sub, "--help") == 0 ||
		    strcmp(sub, "-h") == 0)) {
			(void)fputs(alert_usage, stdout);
			ex = CF_EXIT_OK;
			goto done;
		}
		if (argc >= 2)
			cf_cli_errx("alert: unknown subcommand \"%s\"", sub);
		(void)fputs(alert_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto done;
	}
	test = sub[0] == 't';
	ex = cf_cli_parse(argc - 1, argv + 1, alert_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, test ? 1 : 0, test ? 1 :
	    0, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	if (test) {
		rc = cf_buf_append_str(&url, "/v1/alerts/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[0], false, &err);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&url, "/test", &err);
	} else
		rc = cf_buf_append_str(&url, "/v1/alerts", &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, test ? "POST" : "GET", url.data, NULL,
		    &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		if (test)
			ok = pr_test(v, o.json || o.quiet);
		else if (!o.json && !o.quiet)
			pr_list(v);
	}
	ex = cf_cli_finish(&s, rc, &err);
	if (ex == CF_EXIT_OK && !ok) {
		cf_cli_errx("alert test: a sink did not take the alert");
		ex = CF_EXIT_FAIL;
	}
done:
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}
