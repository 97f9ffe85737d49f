/* src/client/cmd_user.c: local users and their passwords: `coffer user
 * create|ls|show|set|disable|enable|passwd|require-mfa|mfa-reset|
 * link-oidc|unlink-oidc` and `coffer role require-mfa` (docs/api.md
 * "Users and MFA enrollment", "OIDC single sign-on", "Attributes and
 * labels").
 *
 * SEC: passwords are read without echo from the terminal, or one line
 * each from standard input with --password-stdin; every copy (our
 * buffers, the JSON body and its serialized text) is wiped after the
 * request, and none is ever printed. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char user_usage[] =
    "usage: coffer user create NAME [--password-stdin | --no-password]\n"
    "       coffer user ls\n"
    "       coffer user show NAME\n"
    "       coffer user set NAME [--attr K=V]... [--unset K]...\n"
    "       coffer user disable NAME\n"
    "       coffer user enable NAME\n"
    "       coffer user passwd [NAME] [--password-stdin]\n"
    "       coffer user require-mfa NAME [--off]\n"
    "       coffer user mfa-reset NAME\n"
    "       coffer user link-oidc NAME --issuer ISS --subject SUB\n"
    "       coffer user unlink-oidc NAME --issuer ISS --subject SUB\n"
    "\n"
    "create makes a local user with a password, asked twice on the terminal\n"
    "(--password-stdin: one line from standard input; --no-password: none,\n"
    "for users who sign in only with OIDC or API tokens).  passwd changes\n"
    "your own password (asks the current one, then the new one twice;\n"
    "--password-stdin: current on the first line, new on the second) or,\n"
    "for an admin naming another user, resets it (asks only the new one).\n"
    "require-mfa makes every request of NAME need multi-factor\n"
    "authentication (--off: no longer).  mfa-reset turns off the\n"
    "multi-factor authentication of NAME (who lost the phone and the\n"
    "recovery codes) and ends NAME's sessions; NAME then logs in with the\n"
    "password alone and enrolls again.  link-oidc lets the OIDC identity\n"
    "whose tokens carry iss ISS and sub SUB sign in as NAME (it needs a\n"
    "session with MFA); unlink-oidc removes that link.  show prints NAME\n"
    "with its attributes; set gives NAME the attribute K with value V\n"
    "(--attr, repeatable) or removes it (--unset), all at once (it needs\n"
    "a session with MFA: attributes can widen access).  All but passwd of\n"
    "your own\n"
    "password need the admin role.  Common options: --json, --quiet,\n"
    "--server, --ca-cert, --insecure, --code.\n";

static const char role_usage[] =
    "usage: coffer role require-mfa ROLE [--off]\n"
    "       coffer role create NAME --actions ACTION[,ACTION...]\n"
    "       coffer role ls | show NAME | rm NAME\n"
    "\n"
    "require-mfa makes every action allowed through ROLE need\n"
    "multi-factor authentication (--off: no longer).  create defines a\n"
    "custom role (coffer role create --help).  Admin only.\n";

#define USER_OPT_PWSTDIN	0x201
#define USER_OPT_NOPW		0x202
#define USER_OPT_OFF		0x203
#define USER_OPT_ISSUER		0x204
#define USER_OPT_SUBJECT	0x205
#define USER_OPT_ATTR		0x206
#define USER_OPT_UNSET		0x207

struct user_ctx {
	bool		 pwstdin;
	bool		 nopw;
	bool		 off;
	const char	*issuer;	/* borrowed from argv */
	const char	*subject;
	json_t		*attrs;		/* --attr / --unset changes */
};

/* K=V (V may be empty) or, for --unset, K: into *changes (created on
 * first use).  false: a usage error, said why. */
bool
cf_cli_kv_change(json_t **changes, const char *arg, bool unset)
{
	const char	*eq = unset ? NULL : strchr(arg, '=');
	json_t		*v;
	char		 name[128];
	size_t		 n;

	if (*changes == NULL)
		*changes = json_object();
	if (*changes == NULL)
		return false;
	if (!unset && (eq == NULL || eq == arg)) {
		cf_cli_errx("\"%s\": expected NAME=VALUE", arg);
		return false;
	}
	n = unset ? strlen(arg) : (size_t)(eq - arg);
	if (n == 0 || n >= sizeof(name)) {
		cf_cli_errx("\"%.64s\": bad name", arg);
		return false;
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	v = unset ? json_null() : json_string(eq + 1);
	if (v == NULL) {
		cf_cli_errx("%s: the value must be UTF-8", name);
		return false;
	}
	return json_object_set_new(*changes, name, v) == 0;
}

static bool
user_opt(void *arg, int ch, char *val)
{
	struct user_ctx	*c = arg;

	(void)val;
	if (ch == USER_OPT_PWSTDIN)
		c->pwstdin = true;
	else if (ch == USER_OPT_NOPW)
		c->nopw = true;
	else if (ch == USER_OPT_OFF)
		c->off = true;
	else if (ch == USER_OPT_ISSUER)
		c->issuer = val;
	else if (ch == USER_OPT_SUBJECT)
		c->subject = val;
	else if (ch == USER_OPT_ATTR || ch == USER_OPT_UNSET)
		return cf_cli_kv_change(&c->attrs, val, ch == USER_OPT_UNSET);
	else
		return false;
	return true;
}

/* name -> value lines of an attributes or labels object. */
void
cf_cli_pr_kv(const char *what, const json_t *obj)
{
	const char	*k;
	json_t		*v;
	char		 sv[600];

	if (json_object_size(obj) == 0)
		(void)printf("%s: none\n", what);
	json_object_foreach((json_t *)(uintptr_t)obj, k, v) {
		cf_cli_sanitize(json_string_value(v), sv, sizeof(sv));
		(void)printf("%s %s: %s\n", what, k, sv);
	}
}

static void
pr_user(const json_t *v, const void *arg)
{
	char	sn[256];

	(void)arg;
	cf_cli_sanitize(cf_cli_jstr(v, "name", "?"), sn, sizeof(sn));
	(void)printf("name:          %s\n", sn);
	if (json_object_get(v, "disabled") != NULL)
		(void)printf("state:         %s\n"
		    "password:      %s\nmfa:           %s\n"
		    "mfa required:  %s\n",
		    json_is_true(json_object_get(v, "disabled")) ?
		    "disabled" : "active",
		    json_is_true(json_object_get(v, "has_password")) ?
		    "yes" : "no",
		    json_is_true(json_object_get(v, "mfa_enabled")) ?
		    "on" : "off",
		    json_is_true(json_object_get(v, "mfa_required")) ?
		    "yes" : "no");
	cf_cli_pr_kv("attribute", json_object_get(v, "attributes"));
}

static int
sub_usage(const char *usage, int argc, char **argv)
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

/* Run one request and print the answer (JSON or through pr). */
static int
request(const struct cf_cli_opts *o, const char *method, const char *path,
    json_t *body, void (*pr)(const json_t *, const void *), const void *arg)
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
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

/* "/v1/users/{name}{suffix}" (or roles) into b. */
static bool
name_path(struct cf_buf *b, const char *coll, const char *name,
    const char *suffix)
{
	return cf_buf_append_str(b, coll, NULL) == CF_OK &&
	    cf_cli_urlenc(b, name, false, NULL) == CF_OK &&
	    cf_buf_append_str(b, suffix, NULL) == CF_OK;
}

static void
pr_msg(const json_t *v, const void *arg)
{
	(void)v;
	(void)printf("%s\n", (const char *)arg);
}

static void
pr_users(const json_t *v, const void *arg)
{
	json_t	*e;
	size_t	 i;
	char	 sn[256], date[24];

	(void)arg;
	(void)printf("%-32s %-8s %-8s %-5s %-12s %s\n", "NAME", "STATE",
	    "PASSWORD", "MFA", "MFA-REQUIRED", "CREATED");
	json_array_foreach(json_object_get(v, "users"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), sn, sizeof(sn));
		cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), date,
		    sizeof(date));
		(void)printf("%-32s %-8s %-8s %-5s %-12s %s\n", sn,
		    json_is_true(json_object_get(e, "disabled")) ?
		    "disabled" : "active",
		    json_is_true(json_object_get(e, "has_password")) ?
		    "yes" : "no",
		    json_is_true(json_object_get(e, "mfa_enabled")) ?
		    "on" : "off",
		    json_is_true(json_object_get(e, "mfa_required")) ?
		    "yes" : "no", date);
	}
}

static int
user_create(const struct cf_cli_opts *o, const struct user_ctx *c,
    const char *name)
{
	char	 pw[CF_CLI_SECRET_MAX + 1], msg[320], sn[256];
	json_t	*body = NULL;
	int	 ex;
	cf_err	 rc = CF_OK;
	struct cf_error	err = { 0 };

	pw[0] = '\0';
	if (c->pwstdin && c->nopw) {
		cf_cli_errx("user create: --password-stdin and --no-password "
		    "exclude each other");
		return CF_EXIT_USAGE;
	}
	body = json_pack("{s:s}", "name", name);
	if (body == NULL) {
		cf_cli_errx("user create: the name is not valid UTF-8");
		return CF_EXIT_INPUT;
	}
	if (!c->nopw) {
		rc = cf_cli_new_password(c->pwstdin ? 0 : -1, "New password",
		    pw, sizeof(pw), &err);
		if (rc != CF_OK) {
			cf_cli_errx("user create: %s", err.msg);
			cf_cli_reraise();
			ex = cf_cli_exit_for_err(rc);
			goto out;
		}
		if (json_object_set_new(body, "password", json_string(pw)) !=
		    0) {
			cf_cli_errx("user create: the password is not valid "
			    "UTF-8");
			ex = CF_EXIT_INPUT;
			goto out;
		}
	}
	cf_cli_sanitize(name, sn, sizeof(sn));
	(void)snprintf(msg, sizeof(msg), "created user %s%s", sn,
	    c->nopw ? " (no password)" : "");
	ex = request(o, "POST", "/v1/users", body, pr_msg, msg);
out:
	cf_cli_json_wipe_member(body, "password");
	json_decref(body);
	cf_wipe(pw, sizeof(pw));
	return ex;
}

/* link-oidc (POST, body) or unlink-oidc (DELETE, query). */
static int
user_oidc_link(const struct cf_cli_opts *o, const struct user_ctx *c,
    const char *name, bool link)
{
	struct cf_buf	 url;
	json_t		*body = NULL;
	char		 msg[1400], sn[256], si[512], ss[512];
	const char	*verb = link ? "link-oidc" : "unlink-oidc";
	int		 ex;

	cf_buf_init(&url, 8192);
	if (c->issuer == NULL || c->subject == NULL || *c->issuer == '\0' ||
	    *c->subject == '\0') {
		cf_cli_errx("user %s: --issuer and --subject are required",
		    verb);
		ex = CF_EXIT_USAGE;
		goto out;
	}
	if (!name_path(&url, "/v1/users/", name, "/oidc-links") ||
	    (!link && (cf_buf_append_str(&url, "?issuer=", NULL) != CF_OK ||
	    cf_cli_urlenc(&url, c->issuer, false, NULL) != CF_OK ||
	    cf_buf_append_str(&url, "&subject=", NULL) != CF_OK ||
	    cf_cli_urlenc(&url, c->subject, false, NULL) != CF_OK))) {
		cf_cli_errx("user %s: name, issuer or subject too long", verb);
		ex = CF_EXIT_USAGE;
		goto out;
	}
	if (link) {
		body = json_pack("{s:s,s:s}", "issuer", c->issuer, "subject",
		    c->subject);
		if (body == NULL) {
			cf_cli_errx("user %s: issuer and subject must be "
			    "UTF-8", verb);
			ex = CF_EXIT_INPUT;
			goto out;
		}
	}
	cf_cli_sanitize(name, sn, sizeof(sn));
	cf_cli_sanitize(c->issuer, si, sizeof(si));
	cf_cli_sanitize(c->subject, ss, sizeof(ss));
	if (link)
		(void)snprintf(msg, sizeof(msg), "user %s: linked to OIDC "
		    "issuer %s subject %s", sn, si, ss);
	else
		(void)snprintf(msg, sizeof(msg), "user %s: unlinked from "
		    "OIDC issuer %s subject %s", sn, si, ss);
	ex = request(o, link ? "POST" : "DELETE", url.data, body, pr_msg, msg);
out:
	json_decref(body);
	cf_buf_free(&url);
	return ex;
}

/* Own password (current + new) or an admin reset (new only): own when
 * NAME is absent or is the caller (GET /v1/whoami). */
static int
user_passwd(const struct cf_cli_opts *o, const struct user_ctx *c,
    const char *name)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			 cur[CF_CLI_SECRET_MAX + 1];
	char			 pw[CF_CLI_SECRET_MAX + 1], sn[256];
	const char		*me;
	json_t			*who = NULL, *body = NULL, *v = NULL;
	bool			 own, first = false;
	int			 ex;
	cf_err			 rc;

	cur[0] = pw[0] = '\0';
	cf_buf_init(&url, 4096);
	rc = cf_cli_sess_open(o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", "/v1/whoami", NULL, &who, &err);
	if (rc != CF_OK)
		goto out;
	me = cf_cli_jstr(who, "principal", "");
	own = name == NULL || strcmp(name, me) == 0;
	if (name == NULL)
		name = me;
	/* A first password (the bootstrap admin's) has no current one. */
	if (own && json_is_false(json_object_get(who, "has_password"))) {
		own = false;
		first = true;
	}
	if (own) {
		if (c->pwstdin)
			rc = cf_cli_read_line(0, cur, sizeof(cur), &err);
		else
			rc = cf_cli_prompt_secret("Current password", cur,
			    sizeof(cur), &err);
		if (rc != CF_OK)
			goto out;
	}
	rc = cf_cli_new_password(c->pwstdin ? 0 : -1, "New password", pw,
	    sizeof(pw), &err);
	if (rc != CF_OK)
		goto out;
	body = json_pack("{s:s}", "password", pw);
	if (body == NULL || (own && json_object_set_new(body,
	    "current_password", json_string(cur)) != 0)) {
		rc = cf_error_set(&err, CF_E_INPUT, "the password is not "
		    "valid UTF-8");
		goto out;
	}
	if (!name_path(&url, "/v1/users/", name, "/password")) {
		rc = cf_error_set(&err, CF_E_INPUT, "user name too long");
		goto out;
	}
	rc = cf_http_json(s.h, "POST", url.data, body, &v, &err);
	if (rc != CF_OK)
		goto out;
	if (o->json)
		cf_cli_print_json(v);
	else if (!o->quiet) {
		cf_cli_sanitize(name, sn, sizeof(sn));
		(void)printf("%s for %s\n", own ? "password changed" :
		    first ? "password set" : "password reset", sn);
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
	cf_cli_json_wipe_member(body, "password");
	cf_cli_json_wipe_member(body, "current_password");
	json_decref(body);
	json_decref(who);
	json_decref(v);
	cf_wipe(cur, sizeof(cur));
	cf_wipe(pw, sizeof(pw));
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_user(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "password-stdin", no_argument, NULL, USER_OPT_PWSTDIN },
		{ "no-password", no_argument, NULL, USER_OPT_NOPW },
		{ "off", no_argument, NULL, USER_OPT_OFF },
		{ "issuer", required_argument, NULL, USER_OPT_ISSUER },
		{ "subject", required_argument, NULL, USER_OPT_SUBJECT },
		{ "attr", required_argument, NULL, USER_OPT_ATTR },
		{ "unset", required_argument, NULL, USER_OPT_UNSET },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct user_ctx		 c = { 0 };
	struct cf_buf		 url;
	char			**ops, msg[320], sn[256];
	const char		*sub;
	json_t			*body = NULL;
	int			 nops, ex;

	cf_buf_init(&url, 4096);
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "create") == 0 || strcmp(sub, "add") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, user_opt, &c, 1, 1, &o, &ops,
		    &nops);
		if (ex < 0)
			ex = user_create(&o, &c, ops[0]);
	} else if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 0, 0, &o, &ops,
		    &nops);
		if (ex < 0)
			ex = request(&o, "GET", "/v1/users", NULL, pr_users,
			    NULL);
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "set") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, user_opt, &c, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (!name_path(&url, "/v1/users/", ops[0], sub[1] == 'h' ?
		    "" : "/attributes")) {
			cf_cli_errx("user %s: name too long", sub);
			ex = CF_EXIT_USAGE;
			goto out;
		}
		if (sub[1] == 'e' && c.attrs == NULL) {
			cf_cli_errx("user set: give --attr K=V or --unset K");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		ex = request(&o, sub[1] == 'h' ? "GET" : "PUT", url.data,
		    c.attrs, pr_user, NULL);
	} else if (strcmp(sub, "disable") == 0 ||
	    strcmp(sub, "enable") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (!name_path(&url, "/v1/users/", ops[0], sub[0] == 'd' ?
		    "/disable" : "/enable")) {
			cf_cli_errx("user %s: name too long", sub);
			ex = CF_EXIT_USAGE;
			goto out;
		}
		cf_cli_sanitize(ops[0], sn, sizeof(sn));
		(void)snprintf(msg, sizeof(msg), "user %s %sd", sn, sub);
		ex = request(&o, "POST", url.data, NULL, pr_msg, msg);
	} else if (strcmp(sub, "passwd") == 0 ||
	    strcmp(sub, "password") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, user_opt, &c, 0, 1, &o, &ops,
		    &nops);
		if (ex < 0)
			ex = user_passwd(&o, &c, nops == 1 ? ops[0] : NULL);
	} else if (strcmp(sub, "mfa-reset") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		if (!name_path(&url, "/v1/users/", ops[0], "/mfa-reset")) {
			cf_cli_errx("user mfa-reset: name too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		cf_cli_sanitize(ops[0], sn, sizeof(sn));
		(void)snprintf(msg, sizeof(msg), "user %s: multi-factor "
		    "authentication reset, sessions ended", sn);
		ex = request(&o, "POST", url.data, NULL, pr_msg, msg);
	} else if (strcmp(sub, "link-oidc") == 0 ||
	    strcmp(sub, "unlink-oidc") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, user_opt, &c, 1, 1, &o, &ops,
		    &nops);
		if (ex < 0)
			ex = user_oidc_link(&o, &c, ops[0], sub[0] == 'l');
	} else if (strcmp(sub, "require-mfa") == 0) {
		ex = cf_cli_parse(argc - 1, argv + 1, user_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, user_opt, &c, 1, 1, &o, &ops,
		    &nops);
		if (ex >= 0)
			goto out;
		body = json_pack("{s:b}", "required", !c.off);
		if (body == NULL || !name_path(&url, "/v1/users/", ops[0],
		    "/mfa-required")) {
			cf_cli_errx("user require-mfa: name too long");
			ex = CF_EXIT_USAGE;
			goto out;
		}
		cf_cli_sanitize(ops[0], sn, sizeof(sn));
		(void)snprintf(msg, sizeof(msg), "user %s: multi-factor "
		    "authentication %s", sn, c.off ? "no longer required" :
		    "required");
		ex = request(&o, "POST", url.data, body, pr_msg, msg);
	} else
		ex = sub_usage(user_usage, argc, argv);
out:
	json_decref(c.attrs);
	json_decref(body);
	cf_buf_free(&url);
	return ex;
}

int
cf_cmd_role(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "off", no_argument, NULL, USER_OPT_OFF },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct user_ctx		 c = { 0 };
	struct cf_buf		 url;
	char			**ops, msg[320], sn[256];
	json_t			*body = NULL;
	int			 nops, ex;

	cf_buf_init(&url, 4096);
	if (argc >= 2 && (strcmp(argv[1], "create") == 0 ||
	    strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0 ||
	    strcmp(argv[1], "show") == 0 || strcmp(argv[1], "rm") == 0 ||
	    strcmp(argv[1], "delete") == 0)) {
		ex = cf_cmd_role_def(argc, argv);
		goto out;
	}
	if (argc < 2 || strcmp(argv[1], "require-mfa") != 0) {
		ex = sub_usage(role_usage, argc, argv);
		goto out;
	}
	ex = cf_cli_parse(argc - 1, argv + 1, role_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, user_opt, &c, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	body = json_pack("{s:b}", "required", !c.off);
	if (body == NULL || !name_path(&url, "/v1/roles/", ops[0],
	    "/mfa-required")) {
		cf_cli_errx("role require-mfa: role name too long");
		ex = CF_EXIT_USAGE;
		goto out;
	}
	cf_cli_sanitize(ops[0], sn, sizeof(sn));
	(void)snprintf(msg, sizeof(msg), "role %s: multi-factor "
	    "authentication %s", sn, c.off ? "no longer required" :
	    "required");
	ex = request(&o, "POST", url.data, body, pr_msg, msg);
out:
	json_decref(body);
	cf_buf_free(&url);
	return ex;
}
