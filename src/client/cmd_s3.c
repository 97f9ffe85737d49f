/* src/client/cmd_s3.c: `coffer s3 key create|ls|revoke`: S3 access keys
 * for S3 clients (boto3, awscli, MLflow, DVC, s3cmd, rclone; docs/s3.md).
 *
 * SEC: the secret access key is printed only by `s3 key create`, once,
 * on stdout; the answer holding it is wiped before it is freed. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

#define S3KEY_EXPIRES_MAX	(10ull * 365 * 86400)

static const char s3_usage[] =
    "usage: coffer s3 key create [--principal NAME] [--expires-in DURATION]\n"
    "                            [--description TEXT] [--json]\n"
    "       coffer s3 key ls [--principal NAME] [--json]\n"
    "       coffer s3 key revoke ACCESS_KEY_ID [--json]\n"
    "\n"
    "S3 access keys for S3 clients (docs/s3.md).  create prints the access\n"
    "key id, the secret access key (shown only this once) and the S3\n"
    "endpoint; a key acts as its principal and never has more access.\n"
    "Without --principal the key is the caller's; keys for others need\n"
    "admin, or ownership of the service account.  DURATION: 90s, 15m,\n"
    "12h, 30d.\n";

struct s3_ctx {
	const char	*principal;
	const char	*expires;
	const char	*descr;
};

static bool
s3_opt(void *arg, int ch, char *val)
{
	struct s3_ctx	*c = arg;

	if (ch == 'p')
		c->principal = val;
	else if (ch == 'x')
		c->expires = val;
	else if (ch == 'd')
		c->descr = val;
	else
		return false;
	return true;
}

static void
pr_created(const json_t *v, const char *endpoint)
{
	char	sid[64], sp[256], se[40], ep[1024], sk[128];

	cf_cli_sanitize(cf_cli_jstr(v, "access_key_id", "?"), sid,
	    sizeof(sid));
	cf_cli_sanitize(cf_cli_jstr(v, "principal", "?"), sp, sizeof(sp));
	cf_cli_sanitize(cf_cli_jstr(v, "expires", "never"), se, sizeof(se));
	cf_cli_sanitize(endpoint, ep, sizeof(ep));
	cf_cli_sanitize(cf_cli_jstr(v, "secret_access_key", ""), sk,
	    sizeof(sk));
	/* SEC: the one place a secret access key is printed. */
	(void)printf("access_key_id = %s\nsecret_access_key = %s\n"
	    "endpoint = %s\n", sid, sk, ep);
	cf_wipe(sk, sizeof(sk));
	(void)fflush(stdout);
	(void)fprintf(stderr, "coffer: S3 key %s for %s, expires %s; the "
	    "secret is shown only this once\n", sid, sp, se);
}

static void
pr_keys(const json_t *v)
{
	json_t	*e;
	size_t	 i;
	char	 sid[64], sp[128], sd[256], st[16], c[24], x[24];

	(void)printf("%-20s %-16s %-8s %-19s %-19s %s\n", "ACCESS KEY ID",
	    "PRINCIPAL", "STATE", "CREATED", "EXPIRES", "DESCRIPTION");
	json_array_foreach(json_object_get(v, "s3_keys"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "access_key_id", "?"), sid,
		    sizeof(sid));
		cf_cli_sanitize(cf_cli_jstr(e, "principal", "?"), sp,
		    sizeof(sp));
		cf_cli_sanitize(cf_cli_jstr(e, "state", "?"), st, sizeof(st));
		cf_cli_sanitize(cf_cli_jstr(e, "description", ""), sd,
		    sizeof(sd));
		cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), c, sizeof(c));
		cf_cli_fmt_time(cf_cli_jstr(e, "expires", "never"), x,
		    sizeof(x));
		(void)printf("%-20s %-16s %-8s %-19s %-19s %s\n", sid, sp, st,
		    c, x, sd);
	}
}

/* One request; create's answer gets the endpoint (the server's
 * s3_endpoint, else the URL this CLI reached it at) and is wiped. */
static int
s3_request(const struct cf_cli_opts *o, const char *method, const char *path,
    const json_t *body, int which)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*v = NULL;
	const char		*ep;
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, path, body, &v, &err);
	if (rc == CF_OK && which == 0 &&
	    json_object_get(v, "endpoint") == NULL) {
		ep = s.cfg != NULL && s.cfg->server != NULL ? s.cfg->server :
		    "";
		(void)json_object_set_new(v, "endpoint", json_string(ep));
	}
	if (rc == CF_OK) {
		if (o->json)
			cf_cli_print_json(v);
		else if (!o->quiet && which == 0)
			pr_created(v, cf_cli_jstr(v, "endpoint", ""));
		else if (!o->quiet && which == 1)
			pr_keys(v);
		else if (!o->quiet)
			(void)printf("revoked S3 key %s\n",
			    cf_cli_jstr(v, "access_key_id", "?"));
	}
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_json_wipe_member(v, "secret_access_key");
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_s3(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "expires-in", required_argument, NULL, 'x' },
		{ "description", required_argument, NULL, 'd' },
		{ "principal", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct s3_ctx		 c = { 0 };
	struct cf_buf		 url;
	char			**ops;
	const char		*sub;
	uint64_t		 secs;
	json_t			*body = NULL;
	int			 nops, ex;

	cf_buf_init(&url, 4096);
	if (argc < 2 || strcmp(argv[1], "key") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			(void)fputs(s3_usage, stdout);
			return CF_EXIT_OK;
		}
		(void)fputs(s3_usage, stderr);
		return CF_EXIT_USAGE;
	}
	argc--;
	argv++;
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "create") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, s3_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, s3_opt, &c, 0, 0, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		body = json_object();
		if (body == NULL || (c.principal != NULL &&
		    json_object_set_new(body, "principal",
		    json_string(c.principal)) != 0) || (c.descr != NULL &&
		    json_object_set_new(body, "description",
		    json_string(c.descr)) != 0)) {
			cf_cli_errx("s3 key create: bad principal or "
			    "description");
			ex = CF_EXIT_INPUT;
			goto out;
		}
		if (c.expires != NULL) {
			if (cf_parse_duration(c.expires, S3KEY_EXPIRES_MAX,
			    &secs, &err) != CF_OK) {
				cf_cli_errx("s3 key create: --expires-in %s: "
				    "%s (use e.g. 90s, 15m, 12h, 30d)",
				    c.expires, err.msg);
				ex = CF_EXIT_USAGE;
				goto out;
			}
			(void)json_object_set_new(body, "expires_in",
			    json_integer((json_int_t)secs));
		}
		ex = s3_request(&o, "POST", "/v1/s3-keys", body, 0);
	} else if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, s3_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, s3_opt, &c, 0, 0, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (cf_buf_append_str(&url, "/v1/s3-keys", NULL) != CF_OK ||
		    (c.principal != NULL && (cf_buf_append_str(&url,
		    "?principal=", NULL) != CF_OK || cf_cli_urlenc(&url,
		    c.principal, false, NULL) != CF_OK))) {
			cf_cli_errx("s3 key ls: principal name too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = s3_request(&o, "GET", url.data, NULL, 1);
	} else if (strcmp(sub, "revoke") == 0 || strcmp(sub, "rm") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, s3_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (cf_buf_append_str(&url, "/v1/s3-keys/", NULL) != CF_OK ||
		    cf_cli_urlenc(&url, ops[0], false, NULL) != CF_OK) {
			cf_cli_errx("s3 key revoke: id too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = s3_request(&o, "DELETE", url.data, NULL, 2);
	} else if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		(void)fputs(s3_usage, stdout);
		ex = CF_EXIT_OK;
	} else {
		cf_cli_errx("s3 key: unknown subcommand \"%s\"", sub);
		(void)fputs(s3_usage, stderr);
		ex = CF_EXIT_USAGE;
	}
out:
	json_decref(body);
	cf_buf_free(&url);
	return ex;
}
