/* src/client/cmd_breakglass.c: `coffer breakglass`: open, list and
 * revoke break-glass grants (docs/cli.md; docs/security.md,
 * "Break-glass"). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

#define BG_OPT_NS	0x311
#define BG_OPT_REASON	0x312
#define BG_OPT_FOR	0x313
#define BG_OPT_ALL	0x314
#define BG_FOR_MAX	(7 * 86400ULL)	/* the server says less */

static const char bg_usage[] =
    "usage: coffer breakglass --ns NS --reason TEXT --for DURATION [--json]\n"
    "       coffer breakglass ls [--all] [--json]\n"
    "       coffer breakglass revoke ID [--json]\n"
    "\n"
    "Take owner access to namespace NS for DURATION (90s, 15m, 4h; at\n"
    "most the server's breakglass_max) in an emergency.  Needs the\n"
    "breakglass:open right (admins; a policy may allow others) and MFA\n"
    "at most 5 minutes old (you are asked for a code).  Everything done\n"
    "under the grant is marked in the audit log.\n"
    "ls      the grants in force (--all: expired and revoked ones too);\n"
    "        an admin sees everyone's\n"
    "revoke  end a grant early (one's own, or any as admin)\n";

struct bg_opts {
	const char	*ns;
	const char	*reason;
	const char	*dur;
	bool		 all;
};

static bool
bg_opt(void *arg, int ch, char *val)
{
	struct bg_opts	*b = arg;

	switch (ch) {
	case BG_OPT_NS:
		b->ns = val;
		return true;
	case BG_OPT_REASON:
		b->reason = val;
		return true;
	case BG_OPT_FOR:
		b->dur = val;
		return true;
	case BG_OPT_ALL:
		b->all = true;
		return true;
	}
	return false;
}

static void
print_grant(const json_t *g)
{
	char	id[64], p[128], ns[128], st[32], exp[64], why[600];

	cf_cli_sanitize(cf_cli_jstr(g, "id", ""), id, sizeof(id));
	cf_cli_sanitize(cf_cli_jstr(g, "principal", ""), p, sizeof(p));
	cf_cli_sanitize(cf_cli_jstr(g, "ns", ""), ns, sizeof(ns));
	cf_cli_sanitize(cf_cli_jstr(g, "state", ""), st, sizeof(st));
	cf_cli_sanitize(cf_cli_jstr(g, "expires", ""), exp, sizeof(exp));
	cf_cli_sanitize(cf_cli_jstr(g, "reason", ""), why, sizeof(why));
	(void)printf("%s  %-8s %-16s %-24s until %s  %s\n", id, st, p, ns,
	    exp, why);
}

int
cf_cmd_breakglass(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, BG_OPT_NS },
		{ "reason", required_argument, NULL, BG_OPT_REASON },
		{ "for", required_argument, NULL, BG_OPT_FOR },
		{ "all", no_argument, NULL, BG_OPT_ALL },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct bg_opts		 b = { NULL, NULL, NULL, false };
	struct cf_buf		 url;
	const char		*sub = NULL, *method = "GET";
	char			**ops;
	json_t			*body = NULL, *v = NULL, *g;
	uint64_t		 secs = 0;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc = CF_OK;

	cf_buf_init(&url, 4096);
	if (argc > 1 && (strcmp(argv[1], "ls") == 0 ||
	    strcmp(argv[1], "list") == 0 || strcmp(argv[1], "revoke") == 0)) {
		sub = argv[1];
		argc--;
		argv++;
	}
	ex = cf_cli_parse(argc, argv, bg_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    bg_opt, &b, sub != NULL && strcmp(sub, "revoke") == 0 ? 1 : 0,
	    sub != NULL && strcmp(sub, "revoke") == 0 ? 1 : 0, &o, &ops,
	    &nops);
	if (ex >= 0)
		goto out;
	ex = CF_EXIT_USAGE;
	if (sub == NULL) {
		if (b.ns == NULL || b.reason == NULL || b.dur == NULL) {
			cf_cli_errx("breakglass: --ns, --reason and --for are "
			    "required");
			goto out;
		}
		if (cf_parse_duration(b.dur, BG_FOR_MAX, &secs, &err) !=
		    CF_OK) {
			cf_cli_errx("breakglass: --for: %s (use e.g. 30m, 4h)",
			    err.msg);
			goto out;
		}
		body = json_pack("{s:s, s:I}", "reason", b.reason, "seconds",
		    (json_int_t)secs);
		if (body == NULL) {
			cf_cli_errx("breakglass: --reason must be UTF-8 text");
			ex = CF_EXIT_INPUT;
			goto out;
		}
		method = "POST";
		rc = cf_buf_append_str(&url, "/v1/ns/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, b.ns, false, &err);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&url, "/breakglass", &err);
	} else if (strcmp(sub, "revoke") == 0) {
		method = "DELETE";
		rc = cf_buf_append_str(&url, "/v1/breakglass/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[0], false, &err);
	} else
		rc = cf_buf_append_str(&url, b.all ? "/v1/breakglass?all=1" :
		    "/v1/breakglass", &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, url.data, body, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && sub != NULL && strcmp(sub, "revoke") != 0)
		json_array_foreach(json_object_get(v, "grants"), i, g)
			print_grant(g);
	else if (rc == CF_OK && !o.quiet)
		print_grant(v);
	ex = cf_cli_finish(&s, rc, &err);
out:
	json_decref(body);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}
