/* src/client/cmd_access.c: identities and access: `coffer principal`,
 * `coffer token`, `coffer grant`, `coffer revoke`, `coffer access who`.
 *
 * SEC: a token secret is printed only by `token create`, once, on stdout
 * (so it can be redirected into a file); every other output omits it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

/* Longest --expires: 10 years. */
#define TOKEN_EXPIRES_MAX	(10ull * 366 * 86400)

static int
subcommand_usage(const char *usage, int argc, char **argv)
{
	if (argc < 2) {
		(void)fputs(usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		(void)fputs(usage, stdout);
		return CF_EXIT_OK;
	}
	cf_cli_errx("%s: unknown subcommand \"%s\"", argv[0], argv[1]);
	(void)fputs(usage, stderr);
	return CF_EXIT_USAGE;
}

/* Run one JSON request and print the answer as JSON or through pr. */
static int
simple_request(const struct cf_cli_opts *o, const char *method,
    const char *path, const json_t *body, void (*pr)(const json_t *,
    const void *), const void *arg)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*v = NULL;
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, path, body, &v, &err);
	if (rc == CF_OK) {
		if (o->json)
			cf_cli_print_json(v);
		else if (!o->quiet && pr != NULL)
			pr(v, arg);
	}
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_json_wipe_token(v);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

/* ---- principal ---- */

static const char principal_usage[] =
    "usage: coffer principal create NAME [--service --owner USER] [--json]\n"
    "       coffer principal ls [--json]\n"
    "\n"
    "Create a user (or, with --service, a service account owned by USER,\n"
    "for CI jobs and pipelines) or list them.  Needs the global admin role.\n"
    "Tokens of a service account must expire (token create --expires).\n";

struct principal_ctx {
	bool		 svc;
	const char	*owner;
};

static bool
service_opt(void *arg, int ch, char *val)
{
	struct principal_ctx	*c = arg;

	if (ch == 's')
		c->svc = true;
	else if (ch == 'o')
		c->owner = val;
	else
		return false;
	return true;
}

static void
pr_principal(const json_t *v, const void *arg)
{
	char	sn[256];

	(void)arg;
	cf_cli_sanitize(cf_cli_jstr(v, "name", "?"), sn, sizeof(sn));
	(void)printf("created principal %s (%s)\n", sn,
	    cf_cli_jstr(v, "kind", "?"));
}

static void
pr_principals(const json_t *v, const void *arg)
{
	json_t	*e;
	size_t	 i;
	char	 sn[256], date[24];

	(void)arg;
	json_array_foreach(json_object_get(v, "principals"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), sn, sizeof(sn));
		cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), date,
		    sizeof(date));
		(void)printf("%-32s %-8s %19s%s\n", sn,
		    cf_cli_jstr(e, "kind", "?"), date,
		    json_is_true(json_object_get(e, "disabled")) ?
		    "  disabled" : "");
	}
}

int
cf_cmd_principal(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "service", no_argument, NULL, 's' },
		{ "owner", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct principal_ctx	 c = { 0 };
	char			**ops;
	json_t			*body;
	int			 nops, ex;

	if (argc >= 2 && strcmp(argv[1], "create") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, principal_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, service_opt, &c, 1, 1, &o,
		    &ops, &nops);
		if (ex >= 0)
			return ex;
		if (c.owner != NULL && !c.svc) {
			cf_cli_errx("principal create: --owner is for service "
			    "accounts (--service)");
			return CF_EXIT_USAGE;
		}
		body = json_pack("{s:s, s:s}", "name", ops[0], "kind",
		    c.svc ? "service" : "user");
		if (body != NULL && c.owner != NULL &&
		    json_object_set_new(body, "owner",
		    json_string(c.owner)) != 0) {
			json_decref(body);
			body = NULL;
		}
		if (body == NULL) {
			cf_cli_errx("principal create: name is not valid "
			    "UTF-8");
			return CF_EXIT_INPUT;
		}
		ex = simple_request(&o, "POST", "/v1/principals", body,
		    pr_principal, NULL);
		json_decref(body);
		return ex;
	}
	if (argc >= 2 && (strcmp(argv[1], "ls") == 0 ||
	    strcmp(argv[1], "list") == 0)) {
		ex = cf_cli_parse(argc - 1, argv + 1, principal_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 0, 0, &o, &ops,
		    &nops);
		if (ex >= 0)
			return ex;
		return simple_request(&o, "GET", "/v1/principals", NULL,
		    pr_principals, NULL);
	}
	return subcommand_usage(principal_usage, argc, argv);
}

/* ---- token ---- */

static const char token_usage[] =
    "usage: coffer token create PRINCIPAL [--expires DURATION]\n"
    "                           [--description TEXT] [--scope-action A]...\n"
    "                           [--scope-ns NS]... [--json]\n"
    "       coffer token ls [--principal NAME] [--json]\n"
    "       coffer token revoke ID [--json]\n"
    "\n"
    "create prints the new token once on standard output (store it now: the\n"
    "server keeps only its hash); DURATION is e.g. 90s, 15m, 12h, 30d (no\n"
    "--expires: the token does not expire).  ls lists token ids, never the\n"
    "secrets.  Anyone may list and revoke their own tokens.  --scope-action\n"
    "and --scope-ns (repeatable) limit the token to those actions (e.g.\n"
    "object:get) and namespaces: it can never do more than its owner.\n";

#define SCOPE_MAX	64	/* --scope-action / --scope-ns each */

struct token_ctx {
	const char	*expires;
	const char	*descr;
	const char	*principal;
	const char	*actions[SCOPE_MAX];
	size_t		 nactions;
	const char	*nss[SCOPE_MAX];
	size_t		 nnss;
	bool		 too_many;
};

static bool
token_opt(void *arg, int ch, char *val)
{
	struct token_ctx	*c = arg;

	if (ch == 'x')
		c->expires = val;
	else if (ch == 'd')
		c->descr = val;
	else if (ch == 'p')
		c->principal = val;
	else if (ch == 'A' || ch == 'N') {
		if ((ch == 'A' ? c->nactions : c->nnss) >= SCOPE_MAX) {
			cf_cli_errx("token create: at most %d --scope-%s",
			    SCOPE_MAX, ch == 'A' ? "action" : "ns");
			return false;
		}
		if (ch == 'A')
			c->actions[c->nactions++] = val;
		else
			c->nss[c->nnss++] = val;
	} else
		return false;
	return true;
}

/* The "scope" member of a token request: {"actions":[...],
 * "namespaces":[...]}, each only when given; NULL on bad UTF-8. */
static json_t *
token_scope(const struct token_ctx *c)
{
	json_t	*sc, *a;
	size_t	 i;

	sc = json_object();
	if (sc == NULL)
		return NULL;
	if (c->nactions > 0) {
		a = json_array();
		if (json_object_set_new(sc, "actions", a) != 0)
			goto fail;
		for (i = 0; i < c->nactions; i++)
			if (json_array_append_new(a,
			    json_string(c->actions[i])) != 0)
				goto fail;
	}
	if (c->nnss > 0) {
		a = json_array();
		if (json_object_set_new(sc, "namespaces", a) != 0)
			goto fail;
		for (i = 0; i < c->nnss; i++)
			if (json_array_append_new(a,
			    json_string(c->nss[i])) != 0)
				goto fail;
	}
	return sc;
fail:
	json_decref(sc);
	return NULL;
}

static void
pr_token_created(const json_t *v, const void *arg)
{
	const char	*tok;
	char		 sid[160], sp[256], se[40];

	(void)arg;
	tok = json_string_value(json_object_get(v, "token"));
	cf_cli_sanitize(cf_cli_jstr(v, "id", "?"), sid, sizeof(sid));
	cf_cli_sanitize(cf_cli_jstr(v, "principal", "?"), sp, sizeof(sp));
	cf_cli_sanitize(cf_cli_jstr(v, "expires", "never"), se, sizeof(se));
	/* SEC: the one place a token is printed, as the user asked. */
	(void)printf("%s\n", tok != NULL ? tok : "");
	(void)fflush(stdout);
	(void)fprintf(stderr, "coffer: token %s for %s, expires %s; it is "
	    "shown only this once\n", sid, sp, se);
}

static void
pr_tokens(const json_t *v, const void *arg)
{
	json_t	*e;
	size_t	 i;
	char	 sid[160], sp[128], sd[256], c[24], x[24], r[24], u[24];

	(void)arg;
	(void)printf("%-32s %-16s %-19s %-19s %-19s %-19s %s\n", "ID",
	    "PRINCIPAL", "CREATED", "EXPIRES", "REVOKED", "LAST USED",
	    "DESCRIPTION");
	json_array_foreach(json_object_get(v, "tokens"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "id", "?"), sid, sizeof(sid));
		cf_cli_sanitize(cf_cli_jstr(e, "principal", "?"), sp,
		    sizeof(sp));
		cf_cli_sanitize(cf_cli_jstr(e, "description", ""), sd,
		    sizeof(sd));
		cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), c, sizeof(c));
		cf_cli_fmt_time(cf_cli_jstr(e, "expires", "never"), x,
		    sizeof(x));
		cf_cli_fmt_time(cf_cli_jstr(e, "revoked", "-"), r, sizeof(r));
		cf_cli_fmt_time(cf_cli_jstr(e, "last_used", "-"), u,
		    sizeof(u));
		(void)printf("%-32s %-16s %-19s %-19s %-19s %-19s %s\n", sid,
		    sp, c, x, r, u, sd);
	}
}

static void
pr_token_revoked(const json_t *v, const void *arg)
{
	char	sid[160];

	(void)arg;
	cf_cli_sanitize(cf_cli_jstr(v, "id", "?"), sid, sizeof(sid));
	(void)printf("revoked token %s\n", sid);
}

int
cf_cmd_token(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "expires", required_argument, NULL, 'x' },
		{ "description", required_argument, NULL, 'd' },
		{ "principal", required_argument, NULL, 'p' },
		{ "scope-action", required_argument, NULL, 'A' },
		{ "scope-ns", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct token_ctx	 c = { 0 };
	json_t			*scope;
	struct cf_buf		 url;
	char			**ops;
	const char		*sub;
	uint64_t		 secs;
	json_t			*body = NULL;
	int			 nops, ex;

	cf_buf_init(&url, 4096);
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "create") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, token_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, token_opt, &c, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		body = json_pack("{s:s}", "principal", ops[0]);
		if (body == NULL) {
			cf_cli_errx("token create: bad principal name");
			ex = CF_EXIT_INPUT;
			goto out;
		}
		if (c.expires != NULL) {
			if (cf_parse_duration(c.expires, TOKEN_EXPIRES_MAX,
			    &secs, &err) != CF_OK) {
				cf_cli_errx("token create: --expires %s: %s "
				    "(use e.g. 90s, 15m, 12h, 30d)", c.expires,
				    err.msg);
				ex = CF_EXIT_USAGE;
				goto out;
			}
			(void)json_object_set_new(body, "expires_in",
			    json_integer((json_int_t)secs));
		}
		if (c.descr != NULL && json_object_set_new(body,
		    "description", json_string(c.descr)) != 0) {
			cf_cli_errx("token create: bad description");
			ex = CF_EXIT_INPUT;
			goto out;
		}
		if (c.nactions > 0 || c.nnss > 0) {
			scope = token_scope(&c);
			if (scope == NULL || json_object_set_new(body, "scope",
			    scope) != 0) {
				cf_cli_errx("token create: scope is not valid "
				    "UTF-8");
				ex = CF_EXIT_INPUT;
				goto out;
			}
		}
		ex = simple_request(&o, "POST", "/v1/tokens", body,
		    pr_token_created, NULL);
	} else if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, token_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, token_opt, &c, 0, 0, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (cf_buf_append_str(&url, "/v1/tokens", NULL) != CF_OK ||
		    (c.principal != NULL && (cf_buf_append_str(&url,
		    "?principal=", NULL) != CF_OK || cf_cli_urlenc(&url,
		    c.principal, false, NULL) != CF_OK))) {
			cf_cli_errx("token ls: principal name too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = simple_request(&o, "GET", url.data, NULL, pr_tokens,
		    NULL);
	} else if (strcmp(sub, "revoke") == 0 || strcmp(sub, "rm") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, token_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (cf_buf_append_str(&url, "/v1/tokens/", NULL) != CF_OK ||
		    cf_cli_urlenc(&url, ops[0], false, NULL) != CF_OK) {
			cf_cli_errx("token revoke: id too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = simple_request(&o, "DELETE", url.data, NULL,
		    pr_token_revoked, NULL);
	} else
		ex = subcommand_usage(token_usage, argc, argv);
out:
	json_decref(body);
	cf_buf_free(&url);
	return ex;
}

/* ---- grant / revoke ---- */

static const char grant_usage[] =
    "usage: coffer grant ROLE PRINCIPAL [--ns NS] [--expires-in DUR] "
    "[--json]\n"
    "       coffer grant ls [--principal P] [--ns NS] [--json]\n"
    "       coffer revoke ROLE PRINCIPAL [--ns NS] [--json]\n"
    "\n"
    "Bind (grant) or unbind (revoke) ROLE (reader, writer, owner, admin) to\n"
    "PRINCIPAL on namespace NS, or globally without --ns.  Global bindings\n"
    "and admin need the admin role; an owner of NS may manage roles up to\n"
    "owner on NS.  --expires-in (e.g. 12h, 30d): the binding grants\n"
    "nothing from then on and is removed with a binding:expire record;\n"
    "granting again sets the new expiry (or none).  grant ls lists the\n"
    "bindings with their expiry.\n";

struct grant_opts {
	const char	*ns;
	const char	*expires;
	const char	*principal;
};

static bool
ns_opt(void *arg, int ch, char *val)
{
	struct grant_opts	*g = arg;

	if (ch == 'n')
		g->ns = val;
	else if (ch == 'E')
		g->expires = val;
	else if (ch == 'P')
		g->principal = val;
	else
		return false;
	return true;
}

struct binding_msg {
	const char	*verb;
	const char	*role;
	const char	*principal;
	const char	*ns;
};

static void
pr_binding(const json_t *v, const void *arg)
{
	const struct binding_msg	*m = arg;
	char				 sr[64], sp[256], sn[128], x[24];
	char				 until[40];

	until[0] = '\0';
	if (json_is_string(json_object_get(v, "expires"))) {
		cf_cli_fmt_time(cf_cli_jstr(v, "expires", "-"), x, sizeof(x));
		(void)snprintf(until, sizeof(until), " until %s", x);
	}
	cf_cli_sanitize(m->role, sr, sizeof(sr));
	cf_cli_sanitize(m->principal, sp, sizeof(sp));
	if (m->ns != NULL) {
		cf_cli_sanitize(m->ns, sn, sizeof(sn));
		(void)printf("%s %s %s %s on namespace %s%s\n", m->verb, sr,
		    strcmp(m->verb, "granted") == 0 ? "to" : "from", sp, sn,
		    until);
	} else
		(void)printf("%s %s %s %s globally%s\n", m->verb, sr,
		    strcmp(m->verb, "granted") == 0 ? "to" : "from", sp,
		    until);
}

static void
pr_bindings(const json_t *v, const void *arg)
{
	json_t	*e;
	size_t	 i;
	char	 sp[128], sr[64], sn[128], x[24];

	(void)arg;
	(void)printf("%-24s %-12s %-24s %-19s %s\n", "PRINCIPAL", "ROLE",
	    "NAMESPACE", "EXPIRES", "STATE");
	json_array_foreach(json_object_get(v, "bindings"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "principal", "?"), sp,
		    sizeof(sp));
		cf_cli_sanitize(cf_cli_jstr(e, "role", "?"), sr, sizeof(sr));
		cf_cli_sanitize(cf_cli_jstr(e, "ns", "*"), sn, sizeof(sn));
		cf_cli_fmt_time(cf_cli_jstr(e, "expires", "never"), x,
		    sizeof(x));
		(void)printf("%-24s %-12s %-24s %-19s %s\n", sp, sr, sn, x,
		    json_is_true(json_object_get(e, "expired")) ? "expired" :
		    "active");
	}
}

#define BINDING_EXPIRES_MAX	(10ull * 366 * 86400)

static int
binding_cmd(int argc, char **argv, bool grant)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, 'n' },
		{ "expires-in", required_argument, NULL, 'E' },
		{ "principal", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct binding_msg	 m;
	struct grant_opts	 g = { 0 };
	struct cf_buf		 url;
	const char		*ns;
	char			**ops;
	json_t			*body = NULL;
	uint64_t		 secs;
	bool			 ls;
	int			 nops, ex;

	cf_buf_init(&url, 8192);
	ls = grant && argc >= 2 && strcmp(argv[1], "ls") == 0;
	ex = cf_cli_parse(argc - (ls ? 1 : 0), argv + (ls ? 1 : 0),
	    grant_usage, CF_CLI_COMMON_SHORTOPTS, lo, ns_opt, &g, ls ? 0 : 2,
	    ls ? 0 : 2, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	ns = g.ns;
	if ((!grant || ls) && g.expires != NULL) {
		cf_cli_errx("--expires-in is for granting a role");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	if (!ls && g.principal != NULL) {
		cf_cli_errx("--principal is for grant ls");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	if (ls) {
		if (cf_buf_append_str(&url, "/v1/bindings?", NULL) != CF_OK ||
		    (g.principal != NULL && (cf_buf_append_str(&url,
		    "principal=", NULL) != CF_OK || cf_cli_urlenc(&url,
		    g.principal, false, NULL) != CF_OK ||
		    cf_buf_append_str(&url, "&", NULL) != CF_OK)) ||
		    (ns != NULL && (cf_buf_append_str(&url, "ns=", NULL) !=
		    CF_OK || cf_cli_urlenc(&url, ns, false, NULL) != CF_OK))) {
			cf_cli_errx("grant ls: arguments too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = simple_request(&o, "GET", url.data, NULL, pr_bindings,
		    NULL);
		goto out;
	}
	m.verb = grant ? "granted" : "revoked";
	m.role = ops[0];
	m.principal = ops[1];
	m.ns = ns;
	if (grant) {
		body = json_pack("{s:s, s:s}", "principal", ops[1], "role",
		    ops[0]);
		if (body == NULL || (ns != NULL && json_object_set_new(body,
		    "ns", json_string(ns)) != 0)) {
			cf_cli_errx("grant: arguments are not valid UTF-8");
			ex = CF_EXIT_INPUT;
			goto out;
		}
		if (g.expires != NULL) {
			if (cf_parse_duration(g.expires, BINDING_EXPIRES_MAX,
			    &secs, &err) != CF_OK || secs == 0) {
				cf_cli_errx("grant: --expires-in %s: use e.g. "
				    "12h, 30d", g.expires);
				ex = CF_EXIT_USAGE;
				goto out;
			}
			(void)json_object_set_new(body, "expires_in",
			    json_integer((json_int_t)secs));
		}
		ex = simple_request(&o, "POST", "/v1/bindings", body,
		    pr_binding, &m);
		goto out;
	}
	if (cf_buf_append_str(&url, "/v1/bindings?principal=", NULL) !=
	    CF_OK || cf_cli_urlenc(&url, ops[1], false, NULL) != CF_OK ||
	    cf_buf_append_str(&url, "&role=", NULL) != CF_OK ||
	    cf_cli_urlenc(&url, ops[0], false, NULL) != CF_OK ||
	    (ns != NULL && (cf_buf_append_str(&url, "&ns=", NULL) != CF_OK ||
	    cf_cli_urlenc(&url, ns, false, NULL) != CF_OK))) {
		cf_cli_errx("revoke: arguments too long");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	ex = simple_request(&o, "DELETE", url.data, NULL, pr_binding, &m);
out:
	json_decref(body);
	cf_buf_free(&url);
	return ex;
}

int
cf_cmd_grant(int argc, char **argv)
{
	return binding_cmd(argc, argv, true);
}

int
cf_cmd_revoke(int argc, char **argv)
{
	return binding_cmd(argc, argv, false);
}

/* ---- access who ---- */

static const char access_usage[] =
    "usage: coffer access who NS[/KEY] [--action A] [--limit N] [--json]\n"
    "       coffer access stale [--unused-for DUR] [--json]\n"
    "       coffer access suggest [--principal P] [--since DUR] [--json]\n"
    "\n"
    "suggest: for each binding, the actions it was used for since DUR\n"
    "ago (default 90d) and the narrowest role that would have allowed\n"
    "all of them (or a custom role to create).  Admin.\n"
    "\n"
    "stale: the bindings nobody used and the API tokens not used in the\n"
    "last DUR (default 90d; e.g. 30d, 12h) by the server's clock, from\n"
    "the audit log and the tokens' last use.  Admin.\n"
    "\n"
    "who: "
    "the principals the server's policies allow to perform A (default:\n"
    "every action on a namespace, or on an object with /KEY) now, decided\n"
    "under a neutral context (a session with MFA, no address).  Those\n"
    "marked conditional may be answered otherwise in another context (the\n"
    "policies named read it, or errored).  Guard rails of the credential\n"
    "(token scope, MFA age, restricted data) are not applied.  Admin, or\n"
    "an owner of NS.\n";

struct who_opts {
	const char	*action, *limit;
};

static bool
who_opt(void *arg, int ch, char *val)
{
	struct who_opts	*w = arg;

	if (ch == 'a')
		w->action = val;
	else if (ch == 'l')
		w->limit = val;
	else
		return false;
	return true;
}

static void
pr_who(const json_t *v, const void *arg)
{
	const char	*act;
	json_t		*list, *e, *p;
	size_t		 i, j;
	char		 sn[256], buf[512];

	(void)arg;
	json_object_foreach(json_object_get(v, "actions"), act, list) {
		(void)printf("%s\n", act);
		if (json_array_size(list) == 0)
			(void)printf("  (nobody)\n");
		json_array_foreach(list, i, e) {
			cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), sn,
			    sizeof(sn));
			(void)printf("  %-24s %-8s %s", sn, cf_cli_jstr(e,
			    "type", "?"), json_is_true(json_object_get(e,
			    "allowed")) ? "allowed" : "denied");
			json_array_foreach(json_object_get(e, "reasons"), j,
			    p) {
				cf_cli_sanitize(json_string_value(p) != NULL ?
				    json_string_value(p) : "?", buf,
				    sizeof(buf));
				(void)printf("%s%s", j == 0 ? " by " : ",",
				    buf);
			}
			if (json_is_true(json_object_get(e, "conditional"))) {
				(void)printf("  conditional:");
				json_array_foreach(json_object_get(e,
				    "policies"), j, p) {
					cf_cli_sanitize(json_string_value(p) !=
					    NULL ? json_string_value(p) : "?",
					    buf, sizeof(buf));
					(void)printf(" %s", buf);
				}
			}
			(void)printf("\n");
		}
	}
	if (json_is_true(json_object_get(v, "truncated")))
		(void)printf("(only the first %lld principals were looked "
		    "at: --limit)\n", (long long)json_integer_value(
		    json_object_get(v, "examined")));
}

static void
pr_stale(const json_t *v, const void *arg)
{
	json_t	*e;
	size_t	 i;
	char	 sn[256], ns[256], rl[64], ds[256], when[24];

	(void)arg;
	(void)printf("unused since %s:\n", cf_cli_jstr(v, "since", "?"));
	(void)printf("bindings\n");
	if (json_array_size(json_object_get(v, "bindings")) == 0)
		(void)printf("  (none)\n");
	json_array_foreach(json_object_get(v, "bindings"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "principal", "?"), sn,
		    sizeof(sn));
		cf_cli_sanitize(cf_cli_jstr(e, "role", "?"), rl, sizeof(rl));
		cf_cli_sanitize(cf_cli_jstr(e, "ns", "(global)"), ns,
		    sizeof(ns));
		cf_cli_fmt_time(cf_cli_jstr(e, "last_used", "never"), when,
		    sizeof(when));
		(void)printf("  %-24s %-8s %-24s last used %s\n", sn, rl, ns,
		    when);
	}
	(void)printf("tokens\n");
	if (json_array_size(json_object_get(v, "tokens")) == 0)
		(void)printf("  (none)\n");
	json_array_foreach(json_object_get(v, "tokens"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "principal", "?"), sn,
		    sizeof(sn));
		cf_cli_sanitize(cf_cli_jstr(e, "description", ""), ds,
		    sizeof(ds));
		cf_cli_fmt_time(cf_cli_jstr(e, "last_used", "never"), when,
		    sizeof(when));
		(void)printf("  %-16s %-24s last used %-19s %s\n",
		    cf_cli_jstr(e, "id", "?"), sn, when, ds);
	}
	if (!json_is_true(json_object_get(v, "complete")))
		(void)printf("note: the audit records read (the last %lld) do "
		    "not reach back to the period's start; a use before "
		    "them is not seen\n", (long long)json_integer_value(
		    json_object_get(v, "scanned")));
}

static bool
stale_opt(void *arg, int ch, char *val)
{
	const char	**u = arg;

	if (ch != 'u')
		return false;
	*u = val;
	return true;
}

static int
access_stale(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "unused-for", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	const char		*unused = "90d";
	char			**ops, url[96];
	uint64_t		 secs = 0;
	int			 nops, ex;

	ex = cf_cli_parse(argc, argv, access_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, stale_opt, &unused, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (cf_parse_duration(unused, BINDING_EXPIRES_MAX, &secs, &err) !=
	    CF_OK || secs == 0) {
		cf_cli_errx("access stale: --unused-for %s: use e.g. 90d, 12h",
		    unused);
		return CF_EXIT_USAGE;
	}
	(void)snprintf(url, sizeof(url), "/v1/access/stale?unused_for=%llu",
	    (unsigned long long)secs);
	return simple_request(&o, "GET", url, NULL, pr_stale, NULL);
}

static void
pr_suggest(const json_t *v, const void *arg)
{
	const json_t	*sg, *pr;
	json_t		*e, *a;
	size_t		 i, j;
	char		 sn[256], ns[256], rl[64], buf[1024], when[24];

	(void)arg;
	(void)printf("uses since %s:\n", cf_cli_jstr(v, "since", "?"));
	json_array_foreach(json_object_get(v, "bindings"), i, e) {
		sg = json_object_get(e, "suggestion");
		pr = json_object_get(e, "proposed");
		cf_cli_sanitize(cf_cli_jstr(e, "principal", "?"), sn,
		    sizeof(sn));
		cf_cli_sanitize(cf_cli_jstr(e, "role", "?"), rl, sizeof(rl));
		cf_cli_sanitize(cf_cli_jstr(e, "ns", "(global)"), ns,
		    sizeof(ns));
		cf_cli_fmt_time(cf_cli_jstr(e, "last_used", "never"), when,
		    sizeof(when));
		(void)printf("%s  %s on %s: %lld uses, last %s\n", sn, rl, ns,
		    (long long)json_integer_value(json_object_get(e, "uses")),
		    when);
		(void)printf("  used:");
		json_array_foreach(json_object_get(e, "used"), j, a)
			(void)printf(" %s", json_string_value(a) != NULL ?
			    json_string_value(a) : "?");
		(void)printf("%s\n", json_array_size(json_object_get(e,
		    "used")) == 0 ? " nothing" : "");
		cf_cli_sanitize(cf_cli_jstr(sg, "command", ""), buf,
		    sizeof(buf));
		if (strcmp(cf_cli_jstr(sg, "kind", ""), "keep") == 0)
			(void)printf("  keep: nothing narrower allows all of "
			    "it\n");
		else if (strcmp(cf_cli_jstr(sg, "kind", ""), "revoke") == 0)
			(void)printf("  unused: %s\n", buf);
		else
			(void)printf("  narrower: %s (%lld actions instead of "
			    "%lld): %s\n", cf_cli_jstr(sg, "role", "?"),
			    (long long)json_integer_value(json_object_get(sg,
			    "role_actions")), (long long)json_integer_value(
			    json_object_get(sg, "held_actions")), buf);
		if (json_is_object(json_object_get(e, "per_namespace"))) {
			cf_cli_sanitize(cf_cli_jstr(json_object_get(e,
			    "per_namespace"), "command", ""), buf,
			    sizeof(buf));
			(void)printf("  only where used: %s\n", buf);
		}
		if (json_is_object(pr)) {
			cf_cli_sanitize(cf_cli_jstr(pr, "command", ""), buf,
			    sizeof(buf));
			(void)printf("  exactly what was used: %s\n", buf);
		}
	}
	if (!json_is_true(json_object_get(v, "complete")))
		(void)printf("note: the audit records read (the last %lld) do "
		    "not reach back to the period's start; a use before "
		    "them is not seen, so a suggestion may be too narrow\n",
		    (long long)json_integer_value(json_object_get(v,
		    "scanned")));
}

struct suggest_opts {
	const char	*principal, *since;
};

static bool
suggest_opt(void *arg, int ch, char *val)
{
	struct suggest_opts	*g = arg;

	if (ch == 'p')
		g->principal = val;
	else if (ch == 's')
		g->since = val;
	else
		return false;
	return true;
}

static int
access_suggest(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "principal", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct suggest_opts	 g = { NULL, "90d" };
	struct cf_buf		 url;
	char			**ops, num[32];
	uint64_t		 secs = 0;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 4096);
	ex = cf_cli_parse(argc, argv, access_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, suggest_opt, &g, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	if (cf_parse_duration(g.since, BINDING_EXPIRES_MAX, &secs, &err) !=
	    CF_OK || secs == 0) {
		cf_cli_errx("access suggest: --since %s: use e.g. 90d, 12h",
		    g.since);
		ex = CF_EXIT_USAGE;
		goto out;
	}
	(void)snprintf(num, sizeof(num), "%llu", (unsigned long long)secs);
	rc = cf_buf_append_str(&url, "/v1/access/suggest?since=", &err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&url, num, &err);
	if (rc == CF_OK && g.principal != NULL)
		rc = cf_buf_append_str(&url, "&principal=", &err);
	if (rc == CF_OK && g.principal != NULL)
		rc = cf_cli_urlenc(&url, g.principal, false, &err);
	if (rc != CF_OK) {
		cf_cli_errx("access suggest: %s", err.msg);
		ex = CF_EXIT_USAGE;
		goto out;
	}
	ex = simple_request(&o, "GET", url.data, NULL, pr_suggest, NULL);
out:
	cf_buf_free(&url);
	return ex;
}

int
cf_cmd_access(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "action", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct who_opts		 w = { NULL, NULL };
	struct cf_buf		 url;
	const char		*slash;
	char			**ops, ns[256];
	int			 nops, ex;
	size_t			 n;

	if (argc >= 2 && strcmp(argv[1], "stale") == 0)
		return access_stale(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "suggest") == 0)
		return access_suggest(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "who") != 0)
		return subcommand_usage(access_usage, argc, argv);
	cf_buf_init(&url, 8192);
	ex = cf_cli_parse(argc - 1, argv + 1, access_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, who_opt, &w, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	slash = strchr(ops[0], '/');
	n = slash != NULL ? (size_t)(slash - ops[0]) : strlen(ops[0]);
	if (n == 0 || n >= sizeof(ns) || (slash != NULL &&
	    slash[1] == '\0')) {
		cf_cli_errx("access who: give NS or NS/KEY");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	memcpy(ns, ops[0], n);
	ns[n] = '\0';
	if (cf_buf_append_str(&url, "/v1/access/who?ns=", NULL) != CF_OK ||
	    cf_cli_urlenc(&url, ns, false, NULL) != CF_OK ||
	    (slash != NULL && (cf_buf_append_str(&url, "&key=", NULL) !=
	    CF_OK || cf_cli_urlenc(&url, slash + 1, false, NULL) != CF_OK)) ||
	    (w.action != NULL && (cf_buf_append_str(&url, "&action=",
	    NULL) != CF_OK || cf_cli_urlenc(&url, w.action, false,
	    NULL) != CF_OK)) ||
	    (w.limit != NULL && (cf_buf_append_str(&url, "&limit=", NULL) !=
	    CF_OK || cf_cli_urlenc(&url, w.limit, false, NULL) != CF_OK))) {
		cf_cli_errx("access who: arguments too long");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	ex = simple_request(&o, "GET", url.data, NULL, pr_who, NULL);
out:
	cf_buf_free(&url);
	return ex;
}
