/* src/client/cmd_login.c: `coffer login` and `coffer whoami`. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "client/client.h"
#include "client/client_int.h"

static const char login_usage[] =
    "usage: coffer login --server URL --token-file FILE [--ca-cert FILE]\n"
    "                    [--insecure] [--json] [--quiet]\n"
    "\n"
    "Check the server and token with GET /v1/whoami, then save them to the\n"
    "config file ($COFFER_CONFIG, else $XDG_CONFIG_HOME/coffer/config.json,\n"
    "else ~/.config/coffer/config.json; mode 0600).  The token is read from\n"
    "FILE (first line).  --ca-cert names the CA certificate (PEM) that signs\n"
    "the server's certificate; its absolute path is saved.\n";

static const char whoami_usage[] =
    "usage: coffer whoami [--json]\n"
    "\n"
    "Show the principal the configured token belongs to and its role\n"
    "bindings.\n";

static void
print_whoami(const json_t *v)
{
	const char	*p, *k, *role, *ns;
	json_t		*b, *e;
	size_t		 i;
	char		 s1[256], s2[256];

	p = json_string_value(json_object_get(v, "principal"));
	k = json_string_value(json_object_get(v, "kind"));
	cf_cli_sanitize(p != NULL ? p : "?", s1, sizeof(s1));
	cf_cli_sanitize(k != NULL ? k : "?", s2, sizeof(s2));
	(void)printf("principal: %s (%s)\n", s1, s2);
	k = json_string_value(json_object_get(v, "token_id"));
	if (k != NULL) {
		cf_cli_sanitize(k, s1, sizeof(s1));
		(void)printf("token id:  %s\n", s1);
	}
	b = json_object_get(v, "bindings");
	if (!json_is_array(b) || json_array_size(b) == 0) {
		(void)printf("bindings:  none\n");
		return;
	}
	(void)printf("bindings:\n");
	json_array_foreach(b, i, e) {
		role = json_string_value(json_object_get(e, "role"));
		ns = json_string_value(json_object_get(e, "ns"));
		cf_cli_sanitize(role != NULL ? role : "?", s1, sizeof(s1));
		if (ns != NULL) {
			cf_cli_sanitize(ns, s2, sizeof(s2));
			(void)printf("  %-8s on namespace %s\n", s1, s2);
		} else
			(void)printf("  %-8s (global)\n", s1);
	}
}

int
cf_cmd_login(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "token-file", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cfg		*cfg = NULL;
	struct cf_http		*h = NULL;
	const char		*tokfile = NULL, *server;
	char			 path[CF_CLI_PATH_MAX], ca[PATH_MAX];
	json_t			*who = NULL;
	int			 ch, ex = CF_EXIT_OK;
	cf_err			 rc = CF_OK;

	cf_cli_getopt_begin();
	for (;;) {
		ch = cf_cli_nextopt(argc, argv, CF_CLI_COMMON_SHORTOPTS "t:",
		    lo, &o);
		if (ch == -1)
			break;
		if (ch == 0)
			continue;
		if (ch == 't')
			tokfile = cf_cli_optarg();
		else {
			(void)fputs(login_usage, stderr);
			return CF_EXIT_USAGE;
		}
	}
	if (o.help) {
		(void)fputs(login_usage, stdout);
		return CF_EXIT_OK;
	}
	server = o.server != NULL ? o.server : getenv(CF_ENV_SERVER);
	if (server == NULL || *server == '\0' || tokfile == NULL ||
	    cf_cli_optind() != argc) {
		(void)fputs(login_usage, stderr);
		return CF_EXIT_USAGE;
	}
	cfg = cf_calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = cf_cli_norm_server(server, &cfg->server, &err);
	if (rc != CF_OK)
		goto out;
	rc = cf_cli_read_token_file(tokfile, &cfg->token, &err);
	if (rc != CF_OK)
		goto out;
	if (o.ca_cert == NULL)
		o.ca_cert = getenv(CF_ENV_CA_CERT);
	if (o.ca_cert != NULL && *o.ca_cert != '\0') {
		/* Saved absolute, so it works from any directory. */
		if (realpath(o.ca_cert, ca) == NULL) {
			rc = cf_error_sys(&err, CF_E_INPUT, "--ca-cert %s",
			    o.ca_cert);
			goto out;
		}
		rc = cf_cfg_set(&cfg->ca_cert, ca, &err);
		if (rc != CF_OK)
			goto out;
	}
	rc = cf_http_open(cfg, &o, &h, &err);
	if (rc != CF_OK)
		goto out;
	rc = cf_http_json(h, "GET", "/v1/whoami", NULL, &who, &err);
	if (rc != CF_OK)
		goto out;
	rc = cf_cfg_path(path, sizeof(path), &err);
	if (rc != CF_OK)
		goto out;
	rc = cf_cfg_save(cfg, path, &err);
	if (rc != CF_OK)
		goto out;
	if (o.json)
		cf_cli_print_json(who);
	else if (!o.quiet) {
		print_whoami(who);
		(void)printf("logged in to %s; settings saved in %s\n",
		    cfg->server, path);
	}
	if (getenv(CF_ENV_TOKEN) != NULL && *getenv(CF_ENV_TOKEN) != '\0')
		cf_cli_warnx("%s is set: it overrides the saved token",
		    CF_ENV_TOKEN);
	if (getenv(CF_ENV_SERVER) != NULL && *getenv(CF_ENV_SERVER) != '\0'
	    && o.server != NULL)
		cf_cli_warnx("%s is set: it overrides the saved server",
		    CF_ENV_SERVER);
out:
	if (rc != CF_OK) {
		cf_cli_errx("login: %s", err.msg);
		ex = cf_http_exit(h, rc);
	}
	json_decref(who);
	cf_http_close(h);
	cf_cfg_free(cfg);
	return ex;
}

int
cf_cmd_whoami(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*who = NULL;
	int			 ch, ex;
	cf_err			 rc;

	cf_cli_getopt_begin();
	for (;;) {
		ch = cf_cli_nextopt(argc, argv, CF_CLI_COMMON_SHORTOPTS, lo,
		    &o);
		if (ch == -1)
			break;
		if (ch != 0) {
			(void)fputs(whoami_usage, stderr);
			return CF_EXIT_USAGE;
		}
	}
	if (o.help) {
		(void)fputs(whoami_usage, stdout);
		return CF_EXIT_OK;
	}
	if (cf_cli_optind() != argc) {
		(void)fputs(whoami_usage, stderr);
		return CF_EXIT_USAGE;
	}
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", "/v1/whoami", NULL, &who, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(who);
		else
			print_whoami(who);
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(who);
	cf_cli_sess_close(&s);
	return ex;
}
