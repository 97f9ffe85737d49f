/* src/client/cmd_login.c: `coffer login` and `coffer whoami`. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "crypto/crypto.h"

static const char login_usage[] =
    "usage: coffer login --server URL --user NAME [--password-stdin]\n"
    "                    [--code CODE | --recovery-code CODE]\n"
    "                    [--ca-cert FILE] [--insecure] [--json] [--quiet]\n"
    "       coffer login --server URL --token-file FILE [--ca-cert FILE]\n"
    "                    [--insecure] [--json] [--quiet]\n"
    "\n"
    "With --user: ask for the password (without echo; --password-stdin\n"
    "reads one line from standard input instead) and, if the user has\n"
    "multi-factor authentication, for a code, then save the short-lived\n"
    "session token.  With --token-file: use the API token in FILE (first\n"
    "line).  Either is checked with GET /v1/whoami, then saved to the\n"
    "config file ($COFFER_CONFIG, else $XDG_CONFIG_HOME/coffer/config.json,\n"
    "else ~/.config/coffer/config.json; mode 0600).  --ca-cert names the CA\n"
    "certificate (PEM) that signs the server's certificate; its absolute\n"
    "path is saved.\n";

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
	k = json_string_value(json_object_get(v, "authn"));
	if (k != NULL) {
		cf_cli_sanitize(k, s1, sizeof(s1));
		(void)printf("authn:     %s\n", s1);
	}
	/* Whether this credential has proved a second factor: what the
	 * first session of the bootstrap admin lacks until it enrolls. */
	e = json_object_get(v, "mfa");
	if (json_is_boolean(e))
		(void)printf("mfa:       %s\n", json_is_true(e) ? "yes" : "no");
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

/* Password login (POST /v1/login): the password from stdin (one line) or
 * the terminal; when the server answers mfa_required, a code from
 * --code / --recovery-code or the terminal.  On success cfg->token holds
 * the session token, h sends it, and *out the login answer (token wiped
 * and removed). */
static cf_err
password_login(struct cf_http *h, struct cf_cfg *cfg, const char *user,
    bool pwstdin, const char *code, const char *recovery, json_t **out,
    struct cf_error *err)
{
	struct cf_error	 e1;
	char		 pw[CF_CLI_SECRET_MAX + 1],
			    typed[CF_CLI_SECRET_MAX + 1];
	char		 prompt[300], su[256];
	const char	*tok;
	json_t		*body = NULL, *v = NULL;
	cf_err		 rc;

	typed[0] = '\0';
	cf_cli_sanitize(user, su, sizeof(su));
	if (pwstdin)
		rc = cf_cli_read_line(0, pw, sizeof(pw), err);
	else {
		(void)snprintf(prompt, sizeof(prompt), "Password for %s", su);
		rc = cf_cli_prompt_secret(prompt, pw, sizeof(pw), err);
	}
	if (rc != CF_OK)
		goto out;
	body = json_pack("{s:s, s:s}", "user", user, "password", pw);
	if (body == NULL) {
		rc = cf_error_set(err, CF_E_INPUT, "user name or password is "
		    "not valid UTF-8");
		goto out;
	}
	if (recovery != NULL)
		rc = json_object_set_new(body, "recovery_code",
		    json_string(recovery)) == 0 ? CF_OK : CF_E_INPUT;
	else if (code != NULL)
		rc = json_object_set_new(body, "code", json_string(code)) == 0 ?
		    CF_OK : CF_E_INPUT;
	if (rc != CF_OK) {
		rc = cf_error_set(err, rc, "the code is not valid UTF-8");
		goto out;
	}
	cf_http_set_stepup(h, false);
	cf_error_clear(&e1);
	rc = cf_http_json(h, "POST", "/v1/login", body, &v, &e1);
	if (rc == CF_E_AUTH && code == NULL && recovery == NULL &&
	    strcmp(cf_http_error_code(h), "mfa_required") == 0) {
		/* The password was right; the second factor is missing. */
		if (!cf_cli_have_tty()) {
			rc = cf_error_set(err, CF_E_AUTH, "%s has multi-factor "
			    "authentication: give --code (or --recovery-code)",
			    su);
			goto out;
		}
		rc = cf_cli_prompt_secret("MFA code (or a recovery code)",
		    typed, sizeof(typed), err);
		if (rc != CF_OK)
			goto out;
		if (json_object_set_new(body, cf_cli_is_totp_code(typed) ?
		    "code" : "recovery_code", json_string(typed)) != 0) {
			rc = cf_error_set(err, CF_E_INPUT, "the code is not "
			    "valid UTF-8");
			goto out;
		}
		rc = cf_http_json(h, "POST", "/v1/login", body, &v, err);
	} else if (rc != CF_OK)
		(void)cf_error_set(err, rc, "%s", e1.msg);
	if (rc != CF_OK)
		goto out;
	tok = json_string_value(json_object_get(v, "token"));
	if (tok == NULL || !cf_cli_token_ok(tok)) {
		rc = cf_error_set(err, CF_E_INPUT, "the server's answer holds "
		    "no valid session token");
		goto out;
	}
	rc = cf_cfg_set(&cfg->token, tok, err);
	if (rc == CF_OK)
		rc = cf_http_set_token(h, tok, err);
	if (rc != CF_OK)
		goto out;
	cf_cli_json_wipe_token(v);
	(void)json_object_del(v, "token");
	*out = v;
	v = NULL;
out:
	cf_cli_json_wipe_member(body, "password");
	cf_cli_json_wipe_member(body, "code");
	cf_cli_json_wipe_member(body, "recovery_code");
	json_decref(body);
	cf_cli_json_wipe_token(v);
	json_decref(v);
	cf_wipe(pw, sizeof(pw));
	cf_wipe(typed, sizeof(typed));
	return rc;
}

#define LOGIN_OPT_PWSTDIN	0x201
#define LOGIN_OPT_RECOVERY	0x202

int
cf_cmd_login(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "token-file", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-stdin", no_argument, NULL, LOGIN_OPT_PWSTDIN },
		{ "recovery-code", required_argument, NULL,
		    LOGIN_OPT_RECOVERY },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cfg		*cfg = NULL;
	struct cf_http		*h = NULL;
	const char		*tokfile = NULL, *server, *user = NULL;
	const char		*recovery = NULL, *code;
	char			 path[CF_CLI_PATH_MAX], ca[PATH_MAX];
	char			 s1[256], s2[64];
	json_t			*who = NULL, *sess = NULL;
	bool			 pwstdin = false;
	int			 ch, ex = CF_EXIT_OK;
	cf_err			 rc = CF_OK;

	cf_cli_getopt_begin();
	for (;;) {
		ch = cf_cli_nextopt(argc, argv, CF_CLI_COMMON_SHORTOPTS
		    "t:u:", lo, &o);
		if (ch == -1)
			break;
		if (ch == 0)
			continue;
		if (ch == 't')
			tokfile = cf_cli_optarg();
		else if (ch == 'u')
			user = cf_cli_optarg();
		else if (ch == LOGIN_OPT_PWSTDIN)
			pwstdin = true;
		else if (ch == LOGIN_OPT_RECOVERY)
			recovery = cf_cli_optarg();
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
	if (server == NULL || *server == '\0' || cf_cli_optind() != argc ||
	    (tokfile == NULL) == (user == NULL) ||
	    (tokfile != NULL && (pwstdin || recovery != NULL)) ||
	    (recovery != NULL && o.code != NULL)) {
		(void)fputs(login_usage, stderr);
		return CF_EXIT_USAGE;
	}
	code = o.code;
	if (user != NULL && code == NULL && getenv(CF_ENV_MFA_CODE) != NULL &&
	    *getenv(CF_ENV_MFA_CODE) != '\0' && recovery == NULL)
		code = getenv(CF_ENV_MFA_CODE);
	/* A code given to login is for login only, not a later step-up. */
	o.code = NULL;
	cfg = cf_calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = cf_cli_norm_server(server, &cfg->server, &err);
	if (rc != CF_OK)
		goto out;
	if (tokfile != NULL) {
		rc = cf_cli_read_token_file(tokfile, &cfg->token, &err);
		if (rc != CF_OK)
			goto out;
	}
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
	if (user != NULL) {
		rc = password_login(h, cfg, user, pwstdin, code, recovery,
		    &sess, &err);
		if (rc != CF_OK)
			goto out;
	}
	cf_http_set_stepup(h, false);
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
		cf_cli_print_json(sess != NULL ? sess : who);
	else if (!o.quiet) {
		print_whoami(who);
		if (sess != NULL) {
			cf_cli_fmt_time(cf_cli_jstr(sess, "expires", "-"), s1,
			    sizeof(s1));
			(void)snprintf(s2, sizeof(s2), "%s", json_is_true(
			    json_object_get(sess, "mfa")) ? "with" :
			    "without");
			(void)printf("session expires %s UTC (%s multi-factor "
			    "authentication)\n", s1, s2);
		}
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
		cf_cli_reraise();
		ex = cf_http_exit(h, rc);
	}
	json_decref(who);
	json_decref(sess);
	cf_http_close(h);
	cf_cfg_free(cfg);
	return ex;
}

static const char logout_usage[] =
    "usage: coffer logout [--json] [--quiet]\n"
    "\n"
    "Revoke the saved session (a cfs_ token from a password login) on the\n"
    "server and remove the token from the config file.  A saved API token\n"
    "(cft_) is only removed from the file, not revoked (use coffer token\n"
    "revoke ID for that).\n";

int
cf_cmd_logout(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_cfg		*file = NULL;
	char			 path[CF_CLI_PATH_MAX], sid[160];
	char			**ops;
	json_t			*v = NULL;
	bool			 session, gone = false, forget;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, logout_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, NULL, NULL, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	sid[0] = '\0';
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc != CF_OK)
		goto out;
	session = cf_str_has_prefix(s.cfg->token, "cfs_");
	if (session) {
		cf_http_set_stepup(s.h, false);
		rc = cf_http_json(s.h, "POST", "/v1/logout", NULL, &v, &err);
		if (rc == CF_E_AUTH) {
			/* Expired or already revoked: nothing left to do on
			 * the server. */
			gone = true;
			rc = CF_OK;
		}
		if (rc != CF_OK)
			goto out;
		cf_cli_sanitize(cf_cli_jstr(v, "revoked", ""), sid,
		    sizeof(sid));
	}
	rc = cf_cfg_path(path, sizeof(path), &err);
	if (rc == CF_OK)
		rc = cf_cfg_load(path, &file, &err);
	if (rc != CF_OK)
		goto out;
	/* Forget the file's token when it is the one we used (or when
	 * COFFER_TOKEN did not override it). */
	forget = file->token != NULL && (getenv(CF_ENV_TOKEN) == NULL ||
	    *getenv(CF_ENV_TOKEN) == '\0' ||
	    (strlen(file->token) == strlen(s.cfg->token) &&
	    cf_ct_equal(file->token, s.cfg->token, strlen(file->token))));
	if (forget) {
		rc = cf_cfg_set(&file->token, NULL, &err);
		if (rc == CF_OK)
			rc = cf_cfg_save(file, path, &err);
		if (rc != CF_OK)
			goto out;
	}
	if (o.json) {
		json_t *r = json_pack("{s:b, s:b, s:s?}", "revoked",
		    session && !gone, "forgotten", forget, "session",
		    sid[0] != '\0' ? sid : NULL);
		cf_cli_print_json(r);
		json_decref(r);
	} else if (!o.quiet) {
		if (session && !gone)
			(void)printf("session %s revoked\n", sid);
		else if (gone)
			(void)printf("the session had already expired or been "
			    "revoked\n");
		else
			(void)printf("the saved API token was not revoked "
			    "(coffer token revoke ID does that)\n");
		if (forget)
			(void)printf("token removed from %s\n", path);
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_cfg_free(file);
	cf_cli_sess_close(&s);
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
