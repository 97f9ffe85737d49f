/* src/client/cmd_posture.c: `coffer posture`: the server's check of its
 * own deployment (GET /v1/posture, docs/posture.md), as a table sorted by
 * severity, and an exit code a script can gate on. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char posture_usage[] =
    "usage: coffer posture [--unused-days N] [--json]\n"
    "\n"
    "Check the running deployment against best practice: the master key's\n"
    "place, the bootstrap session, admins without MFA, API tokens without\n"
    "expiry or unused, the TLS certificate, the audit log, policy sets,\n"
    "personal data, the data directory's modes and library versions.\n"
    "Prints each finding (severity, what was seen, how to fix it and\n"
    "where the docs explain it), most severe first.  Needs the admin role.\n"
    "\n"
    "  --unused-days N  report API tokens unused for more than N days\n"
    "                   (1-3650, default 90)\n"
    "  --json           print the server's answer as JSON\n"
    "\n"
    "Exit codes: 0 no critical or high finding, 12 at least one (see\n"
    "docs/cli.md), others as for every command.\n";

#define OPT_UNUSED	0x201

static bool
posture_opt(void *arg, int ch, char *val)
{
	uint64_t	*days = arg;
	struct cf_error	 err = { 0 };

	if (ch != OPT_UNUSED)
		return false;
	if (cf_parse_u64(val, 1, 3650, days, &err) != CF_OK) {
		cf_cli_errx("posture: --unused-days %s: %s", val, err.msg);
		return false;
	}
	return true;
}

/* One finding: a line of severity, id and title, then the detail, the
 * fix and the doc link, indented; every text from the server
 * sanitized. */
static void
print_finding(const json_t *f)
{
	char	sev[16], id[64], title[160], detail[1100], fix[512], doc[160];

	cf_cli_sanitize(cf_cli_jstr(f, "severity", "?"), sev, sizeof(sev));
	cf_cli_sanitize(cf_cli_jstr(f, "id", "?"), id, sizeof(id));
	cf_cli_sanitize(cf_cli_jstr(f, "title", ""), title, sizeof(title));
	cf_cli_sanitize(cf_cli_jstr(f, "detail", ""), detail, sizeof(detail));
	cf_cli_sanitize(cf_cli_jstr(f, "fix", ""), fix, sizeof(fix));
	cf_cli_sanitize(cf_cli_jstr(f, "doc", ""), doc, sizeof(doc));
	(void)printf("%-8s  %-28s  %s\n", sev, id, title);
	(void)printf("          seen: %s\n", detail);
	(void)printf("          fix:  %s\n", fix);
	(void)printf("          see:  %s\n", doc);
}

static long long
count_of(const json_t *v, const char *sev)
{
	return (long long)json_integer_value(json_object_get(json_object_get(v,
	    "summary"), sev));
}

int
cf_cmd_posture(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "unused-days", required_argument, NULL, OPT_UNUSED },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	uint64_t		 days = 0;
	char			**ops, path[64];
	json_t			*v = NULL, *f;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, posture_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, posture_opt, &days, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (days > 0)
		(void)snprintf(path, sizeof(path),
		    "/v1/posture?unused_days=%llu", (unsigned long long)days);
	else
		(void)cf_strlcpy(path, "/v1/posture", sizeof(path));
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", path, NULL, &v, &err);
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_sess_close(&s);
	if (ex != CF_EXIT_OK || v == NULL) {
		json_decref(v);
		return ex;
	}
	if (o.json)
		cf_cli_print_json(v);
	else {
		/* The server sorts them, most severe first. */
		json_array_foreach(json_object_get(v, "findings"), i, f)
			print_finding(f);
		(void)printf("%s%lld critical, %lld high, %lld medium, %lld "
		    "low, %lld info\n", json_array_size(json_object_get(v,
		    "findings")) > 0 ? "\n" : "", count_of(v, "critical"),
		    count_of(v, "high"), count_of(v, "medium"),
		    count_of(v, "low"), count_of(v, "info"));
	}
	ex = count_of(v, "critical") + count_of(v, "high") > 0 ?
	    CF_EXIT_FINDINGS : CF_EXIT_OK;
	json_decref(v);
	return ex;
}
