/* src/client/cmd_share.c: `coffer share create|ls|revoke` (docs/cli.md,
 * docs/sharing.md): time-limited links to one object version.
 *
 * SEC: a link password is typed (twice) on the terminal or read from
 * standard input with --password-stdin, never taken from the command
 * line; its copies are wiped.  The link itself is printed once: the
 * server keeps only its hash. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

#define SHARE_EXPIRES_MAX	(365ULL * 86400)

static const char share_usage[] =
    "usage: coffer share create NS/KEY[@VERSION] [--expires-in DURATION]\n"
    "                           [--max-downloads N] [--allow-ip CIDR]\n"
    "                           [--password | --password-stdin]\n"
    "                           [--recipient NAME] [--json]\n"
    "       coffer share ls [--json]\n"
    "       coffer share revoke ID [--json]\n"
    "       coffer share grant NS/KEY --to PRINCIPAL --for DURATION [--json]\n"
    "       coffer share grant ls [--json]\n"
    "\n"
    "grant lets one named principal read (get, head) the object for\n"
    "DURATION (e.g. 7d; at most a link's maximum for the data), as a\n"
    "stored policy share-grant.ID of the namespace; share revoke ID ends\n"
    "it early, grant ls lists your grants (admins: all).\n"
    "\n"
    "create prints an HTTPS link to one version of an object (the latest,\n"
    "or VERSION) that anyone holding it can download without an account,\n"
    "until it expires (DURATION, e.g. 30m, 24h, 7d; default and maximum\n"
    "set by the server per sensitivity), is used up (--max-downloads 1: a\n"
    "one-use link), revoked, or its creator loses read access.  --allow-ip\n"
    "binds it to an address or prefix; --password asks for a password the\n"
    "recipient must give (a browser gets a form).  ls lists your links\n"
    "(admins: all), never their tokens.\n";

struct share_ctx {
	const char	*expires;
	const char	*maxdl;
	const char	*allow_ip;
	const char	*recipient;
	const char	*to;
	const char	*dur;
	bool		 password;
	bool		 pwstdin;
};

static bool
share_opt(void *arg, int ch, char *val)
{
	struct share_ctx	*c = arg;

	switch (ch) {
	case 'x':
		c->expires = val;
		break;
	case 'm':
		c->maxdl = val;
		break;
	case 'a':
		c->allow_ip = val;
		break;
	case 'r':
		c->recipient = val;
		break;
	case 'p':
		c->password = true;
		break;
	case 'P':
		c->pwstdin = true;
		break;
	case 't':
		c->to = val;
		break;
	case 'f':
		c->dur = val;
		break;
	default:
		return false;
	}
	return true;
}

static void
pr_shares(const json_t *v, const void *arg)
{
	json_t	*e;
	size_t	 i;
	char	 sid[40], sn[1200], sc[128], sx[24], st[24], srec[160];

	(void)arg;
	(void)printf("%-16s %-8s %-19s %-9s %-16s %-16s %s\n", "ID", "STATE",
	    "EXPIRES", "DOWNLOADS", "CREATOR", "RECIPIENT", "OBJECT");
	json_array_foreach(json_object_get(v, "shares"), i, e) {
		char dl[48];

		cf_cli_sanitize(cf_cli_jstr(e, "id", "?"), sid, sizeof(sid));
		cf_cli_sanitize(cf_cli_jstr(e, "state", "?"), st, sizeof(st));
		cf_cli_fmt_time(cf_cli_jstr(e, "expires", "-"), sx,
		    sizeof(sx));
		cf_cli_sanitize(cf_cli_jstr(e, "creator", "?"), sc,
		    sizeof(sc));
		cf_cli_sanitize(cf_cli_jstr(e, "recipient", ""), srec,
		    sizeof(srec));
		(void)snprintf(sn, sizeof(sn), "%s/%s@%s", cf_cli_jstr(e, "ns",
		    "?"), cf_cli_jstr(e, "key", "?"), cf_cli_jstr(e,
		    "version_id", "?"));
		cf_cli_sanitize(sn, sn, sizeof(sn));
		if (json_integer_value(json_object_get(e, "max_downloads")) > 0)
			(void)snprintf(dl, sizeof(dl), "%lld/%lld",
			    (long long)json_integer_value(json_object_get(e,
			    "downloads")), (long long)json_integer_value(
			    json_object_get(e, "max_downloads")));
		else
			(void)snprintf(dl, sizeof(dl), "%lld",
			    (long long)json_integer_value(json_object_get(e,
			    "downloads")));
		(void)printf("%-16s %-8s %-19s %-9s %-16s %-16s %s\n", sid, st,
		    sx, dl, sc, srec, sn);
	}
}

/* Run one JSON request; create prints the link (server + path unless
 * the server names a url). */
static int
share_request(const struct cf_cli_opts *o, const char *method,
    const char *path, const json_t *body, bool create)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*v = NULL;
	const char		*url, *p;
	char			 sid[40], sx[24];
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, path, body, &v, &err);
	if (rc == CF_OK) {
		url = cf_cli_jstr(v, "url", NULL);
		p = cf_cli_jstr(v, "path", NULL);
		if (create && url == NULL && p != NULL &&
		    s.cfg->server != NULL) {
			struct cf_buf b;

			cf_buf_init(&b, 8192);
			if (cf_buf_printf(&b, NULL, "%s%s", s.cfg->server, p) ==
			    CF_OK)
				(void)json_object_set_new(v, "url",
				    json_string(b.data));
			cf_wipe(b.data, b.len);
			cf_buf_free(&b);
		}
		if (o->json)
			cf_cli_print_json(v);
		else if (create) {
			/* SEC: the one place the link is printed. */
			(void)printf("%s\n", cf_cli_jstr(v, "url", ""));
			(void)fflush(stdout);
			cf_cli_sanitize(cf_cli_jstr(v, "id", "?"), sid,
			    sizeof(sid));
			cf_cli_fmt_time(cf_cli_jstr(v, "expires", "-"), sx,
			    sizeof(sx));
			(void)fprintf(stderr, "coffer: share link %s, expires "
			    "%s; it is shown only this once\n", sid, sx);
		} else if (strcmp(method, "GET") == 0)
			pr_shares(v, NULL);
		else if (!o->quiet) {
			cf_cli_sanitize(cf_cli_jstr(v, "id", "?"), sid,
			    sizeof(sid));
			(void)printf("revoked share %s %s\n", strncmp(sid,
			    "share-grant.", 12) == 0 ? "grant" : "link", sid);
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_json_wipe_member(v, "token");
	cf_cli_json_wipe_member(v, "path");
	cf_cli_json_wipe_member(v, "url");
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

static int
share_create(int argc, char **argv, const struct option *lo)
{
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct share_ctx	 c = { 0 };
	json_t			*body = NULL;
	char			**ops, *ns = NULL, *key = NULL, *at;
	char			 pw[CF_CLI_SECRET_MAX];
	uint64_t		 secs, n;
	int			 nops, ex;

	memset(pw, 0, sizeof(pw));
	ex = cf_cli_parse(argc, argv, share_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, share_opt, &c, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	ex = CF_EXIT_USAGE;
	if (cf_cli_split_nskey(ops[0], true, &ns, &key, &err) != CF_OK) {
		cf_cli_errx("share create: %s", err.msg);
		goto out;
	}
	/* NS/KEY@VERSION: a version id is 32 hex digits. */
	at = strrchr(key, '@');
	if (at != NULL && strlen(at + 1) == 32)
		*at++ = '\0';
	else
		at = NULL;
	body = json_pack("{s:s,s:s}", "ns", ns, "key", key);
	if (body == NULL) {
		cf_cli_errx("share create: bad name");
		ex = CF_EXIT_INPUT;
		goto out;
	}
	if (at != NULL)
		(void)json_object_set_new(body, "version", json_string(at));
	if (c.expires != NULL) {
		if (cf_parse_duration(c.expires, SHARE_EXPIRES_MAX, &secs,
		    &err) != CF_OK || secs == 0) {
			cf_cli_errx("share create: --expires-in %s: use e.g. "
			    "30m, 24h, 7d", c.expires);
			goto out;
		}
		(void)json_object_set_new(body, "expires_in",
		    json_integer((json_int_t)secs));
	}
	if (c.maxdl != NULL) {
		if (cf_parse_u64(c.maxdl, 1, 1000000000, &n, NULL) != CF_OK) {
			cf_cli_errx("share create: --max-downloads must be a "
			    "number from 1");
			goto out;
		}
		(void)json_object_set_new(body, "max_downloads",
		    json_integer((json_int_t)n));
	}
	if ((c.allow_ip != NULL && json_object_set_new(body, "allow_ip",
	    json_string(c.allow_ip)) != 0) || (c.recipient != NULL &&
	    json_object_set_new(body, "recipient",
	    json_string(c.recipient)) != 0)) {
		cf_cli_errx("share create: --allow-ip and --recipient must be "
		    "UTF-8");
		ex = CF_EXIT_INPUT;
		goto out;
	}
	if (c.password || c.pwstdin) {
		if (cf_cli_new_password(c.pwstdin ? 0 : -1, "Link password",
		    pw, sizeof(pw), &err) != CF_OK) {
			cf_cli_errx("share create: %s", err.msg);
			ex = CF_EXIT_INPUT;
			goto out;
		}
		(void)json_object_set_new(body, "password", json_string(pw));
	}
	ex = share_request(&o, "POST", "/v1/shares", body, true);
out:
	cf_cli_json_wipe_member(body, "password");
	json_decref(body);
	cf_wipe(pw, sizeof(pw));
	cf_free(ns);
	cf_free(key);
	return ex;
}

static void
pr_grant(const json_t *e)
{
	char	sid[80], sto[128], sc[128], sx[24], sn[1200];

	cf_cli_sanitize(cf_cli_jstr(e, "id", "?"), sid, sizeof(sid));
	cf_cli_sanitize(cf_cli_jstr(e, "to", "?"), sto, sizeof(sto));
	cf_cli_sanitize(cf_cli_jstr(e, "creator", "?"), sc, sizeof(sc));
	cf_cli_fmt_time(cf_cli_jstr(e, "expires", "-"), sx, sizeof(sx));
	(void)snprintf(sn, sizeof(sn), "%s/%s", cf_cli_jstr(e, "ns", "?"),
	    cf_cli_jstr(e, "key", "?"));
	cf_cli_sanitize(sn, sn, sizeof(sn));
	(void)printf("%-28s %-16s %-19s %-16s %s\n", sid, sto, sx, sc, sn);
}

static int
grant_request(const struct cf_cli_opts *o, const char *method,
    const char *path, const json_t *body)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*v = NULL, *e;
	size_t			 i;
	char			 sid[80];
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, path, body, &v, &err);
	if (rc == CF_OK) {
		if (o->json)
			cf_cli_print_json(v);
		else if (strcmp(method, "GET") == 0) {
			(void)printf("%-28s %-16s %-19s %-16s %s\n", "ID", "TO",
			    "EXPIRES", "CREATOR", "OBJECT");
			json_array_foreach(json_object_get(v, "grants"), i, e)
				pr_grant(e);
		} else if (strcmp(method, "POST") == 0)
			pr_grant(v);
		else if (!o->quiet) {
			cf_cli_sanitize(cf_cli_jstr(v, "id", "?"), sid,
			    sizeof(sid));
			(void)printf("revoked share grant %s\n", sid);
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

static int
share_grant(int argc, char **argv, const struct option *lo)
{
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct share_ctx	 c = { 0 };
	json_t			*body = NULL;
	char			**ops, *ns = NULL, *key = NULL;
	uint64_t		 secs = 0;
	int			 nops, ex;

	if (argc >= 2 && (strcmp(argv[1], "ls") == 0 ||
	    strcmp(argv[1], "list") == 0)) {
		ex = cf_cli_parse(argc - 1, argv + 1, share_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 0, 0, &o, &ops,
		    &nops);
		if (ex < 0)
			ex = grant_request(&o, "GET", "/v1/share-grants", NULL);
		return ex;
	}
	ex = cf_cli_parse(argc, argv, share_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, share_opt, &c, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	ex = CF_EXIT_USAGE;
	if (c.to == NULL || c.dur == NULL) {
		cf_cli_errx("share grant: --to PRINCIPAL and --for DURATION "
		    "are required");
		goto out;
	}
	if (cf_parse_duration(c.dur, SHARE_EXPIRES_MAX, &secs, &err) !=
	    CF_OK || secs == 0) {
		cf_cli_errx("share grant: --for %s: use e.g. 12h, 7d", c.dur);
		goto out;
	}
	if (cf_cli_split_nskey(ops[0], true, &ns, &key, &err) != CF_OK) {
		cf_cli_errx("share grant: %s", err.msg);
		goto out;
	}
	body = json_pack("{s:s, s:s, s:s, s:I}", "ns", ns, "key", key, "to",
	    c.to, "for", (json_int_t)secs);
	if (body == NULL) {
		cf_cli_errx("share grant: names must be UTF-8");
		ex = CF_EXIT_INPUT;
		goto out;
	}
	ex = grant_request(&o, "POST", "/v1/share-grants", body);
out:
	json_decref(body);
	cf_free(ns);
	cf_free(key);
	return ex;
}

int
cf_cmd_share(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "expires-in", required_argument, NULL, 'x' },
		{ "max-downloads", required_argument, NULL, 'm' },
		{ "allow-ip", required_argument, NULL, 'a' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "password", no_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "to", required_argument, NULL, 't' },
		{ "for", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_buf		 url;
	char			**ops;
	const char		*sub = argc >= 2 ? argv[1] : "";
	int			 nops, ex;

	cf_buf_init(&url, 4096);
	if (strcmp(sub, "create") == 0)
		ex = share_create(argc - 1, argv + 1, lo);
	else if (strcmp(sub, "grant") == 0)
		ex = share_grant(argc - 1, argv + 1, lo);
	else if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, share_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 0, 0, &o, &ops,
		    &nops);
		if (ex < 0)
			ex = share_request(&o, "GET", "/v1/shares", NULL,
			    false);
	} else if (strcmp(sub, "revoke") == 0 || strcmp(sub, "rm") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, share_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		/* A share grant's id names its policy set. */
		if (cf_buf_append_str(&url, strncmp(ops[0], "share-grant.",
		    12) == 0 ? "/v1/share-grants/" : "/v1/shares/", NULL) !=
		    CF_OK ||
		    cf_cli_urlenc(&url, ops[0], false, NULL) != CF_OK) {
			cf_cli_errx("share revoke: id too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = share_request(&o, "DELETE", url.data, NULL, false);
	} else if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		(void)fputs(share_usage, stdout);
		ex = CF_EXIT_OK;
	} else {
		(void)fputs(share_usage, stderr);
		ex = CF_EXIT_USAGE;
	}
out:
	cf_buf_free(&url);
	return ex;
}
