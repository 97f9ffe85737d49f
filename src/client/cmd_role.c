/* src/client/cmd_role.c: `coffer role create|ls|show|rm`, custom roles
 * (docs/policy.md, "Custom roles").
 *
 * A custom role is a global policy set named "role.NAME" holding two
 * templates over its actions: global:NAME, linked by a global binding,
 * and ns:NAME, linked by a binding on a namespace (its ?resource).  The
 * server grants NAME like a built-in role once that set is in force;
 * this command writes the set (a policy:set, so an admin with MFA). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/actions.h"
#include "core/core.h"

#define ROLE_OPT_ACTIONS	0x301

static const char role_def_usage[] =
    "usage: coffer role create NAME --actions ACTION[,ACTION...] [--json]\n"
    "       coffer role ls [--json]\n"
    "       coffer role show NAME\n"
    "       coffer role rm NAME [--json]\n"
    "       coffer role require-mfa ROLE [--off]\n"
    "\n"
    "create  define a custom role NAME (1-15 of a-z, 0-9, '-', starting\n"
    "        with a letter) that may do exactly the listed actions (see\n"
    "        `coffer policy schema` for their names); grant it like a\n"
    "        built-in role: coffer grant NAME PRINCIPAL [--ns NS].  It is\n"
    "        the global policy set role.NAME: creating it again with other\n"
    "        actions makes a new version.  Admin, with MFA.\n"
    "ls      the built-in roles and the custom roles in force.\n"
    "show    the templates of a role.\n"
    "rm      take a custom role out of force (its bindings grant nothing\n"
    "        until it is created again).\n";

struct role_opts {
	const char	*actions;
};

static bool
role_opt(void *arg, int ch, char *val)
{
	struct role_opts	*ro = arg;

	if (ch != ROLE_OPT_ACTIONS)
		return false;
	ro->actions = val;
	return true;
}

static bool
role_name_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n >= CF_ROLE_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return cf_role_rank(s) == CF_ROLE_NONE;
}

/* The role's policy set from a comma-separated action list; false with
 * a message for an unknown or unrequestable action. */
static bool
role_text(const char *name, const char *list, struct cf_buf *out)
{
	const struct cf_action_def	*def;
	struct cf_buf			 acts;
	char				 one[64], sa[64];
	const char			*p = list, *e;
	size_t				 n;
	bool				 ok = true;

	cf_buf_init(&acts, 64 * 1024);
	while (ok && *p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n >= sizeof(one)) {
			cf_cli_errx("role create: bad --actions list");
			ok = false;
			break;
		}
		memcpy(one, p, n);
		one[n] = '\0';
		def = cf_action_find(one);
		if (def == NULL || (def->flags & (CF_ACT_NOAUTH |
		    CF_ACT_RECORD)) != 0) {
			cf_cli_sanitize(one, sa, sizeof(sa));
			cf_cli_errx("role create: no action \"%s\" a role can "
			    "give (coffer policy schema lists them)", sa);
			ok = false;
			break;
		}
		if (cf_buf_printf(&acts, NULL, "%sAction::\"%s\"",
		    acts.len > 0 ? ", " : "", one) != CF_OK)
			ok = false;
		p = e != NULL ? e + 1 : p + n;
	}
	if (ok && acts.len == 0) {
		cf_cli_errx("role create: --actions names no action");
		ok = false;
	}
	if (ok && cf_buf_printf(out, NULL,
	    "// Custom role %s (coffer role create).\n"
	    "@id(\"global:%s\")\n"
	    "permit (principal == ?principal,\n"
	    "    action in [%.*s],\n"
	    "    resource);\n"
	    "\n"
	    "@id(\"ns:%s\")\n"
	    "permit (principal == ?principal,\n"
	    "    action in [%.*s],\n"
	    "    resource in ?resource);\n", name, name, (int)acts.len,
	    acts.data, name, (int)acts.len, acts.data) != CF_OK)
		ok = false;
	cf_buf_free(&acts);
	return ok;
}

static cf_err
role_url(struct cf_buf *url, const char *name, struct cf_error *err)
{
	cf_err	rc;

	cf_buf_init(url, 4096);
	rc = cf_buf_append_str(url, "/v1/policies", err);
	if (rc == CF_OK && name != NULL) {
		rc = cf_buf_append_str(url, "/role.", err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(url, name, false, err);
	}
	return rc;
}

static int
role_create(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "actions", required_argument, NULL, ROLE_OPT_ACTIONS },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct role_opts	 ro = { NULL };
	struct cf_buf		 text, url;
	char			**ops, sn[64];
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&text, 128 * 1024);
	cf_buf_init(&url, 16);
	ex = cf_cli_parse(argc, argv, role_def_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, role_opt, &ro, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	ex = CF_EXIT_USAGE;
	if (!role_name_ok(ops[0])) {
		cf_cli_sanitize(ops[0], sn, sizeof(sn));
		cf_cli_errx("role create: invalid role name \"%s\" (1-15 of "
		    "a-z, 0-9 and '-', starting with a letter; not a built-in "
		    "role)", sn);
		goto out;
	}
	if (ro.actions == NULL) {
		cf_cli_errx("role create: --actions is required");
		goto out;
	}
	if (!role_text(ops[0], ro.actions, &text))
		goto out;
	body = json_pack("{s:s%}", "text", text.data, text.len);
	rc = body == NULL ? cf_error_set(&err, CF_E_NOMEM, "out of memory") :
	    role_url(&url, ops[0], &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "PUT", url.data, body, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet)
			(void)printf("role %s: policy set role.%s version "
			    "%lld\n", ops[0], ops[0],
			    (long long)json_integer_value(json_object_get(v,
			    "version")));
	}
	ex = cf_cli_finish(&s, rc, &err);
out:
	json_decref(body);
	json_decref(v);
	cf_buf_free(&text);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* GET (ls: every set; show/rm: the role's) and print. */
static int
role_call(int argc, char **argv, const char *method, int nargs)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const char *const builtin[] = { "reader", "writer", "owner",
	    "admin" };
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, sn[128];
	json_t			*v = NULL, *e;
	const char		*name;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 16);
	ex = cf_cli_parse(argc, argv, role_def_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, NULL, NULL, nargs, nargs, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (nargs == 1 && strcmp(method, "GET") == 0 &&
	    cf_role_rank(ops[0]) != CF_ROLE_NONE)
		return fputs(cf_core_builtin_policies(), stdout) < 0 ?
		    CF_EXIT_FAIL : CF_EXIT_OK;
	rc = role_url(&url, nargs == 1 ? ops[0] : NULL, &err);
	if (rc == CF_OK && nargs == 0)
		rc = cf_buf_append_str(&url, "?ns=", &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, url.data, NULL, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && nargs == 0) {
		for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
			(void)printf("%-16s built-in\n", builtin[i]);
		json_array_foreach(json_object_get(v, "policies"), i, e) {
			name = cf_cli_jstr(e, "name", "");
			if (strncmp(name, "role.", 5) != 0)
				continue;
			cf_cli_sanitize(name + 5, sn, sizeof(sn));
			(void)printf("%-16s custom (policy set %s, version "
			    "%lld)\n", sn, name, (long long)json_integer_value(
			    json_object_get(e, "version")));
		}
	} else if (rc == CF_OK && strcmp(method, "GET") == 0)
		(void)fputs(cf_cli_jstr(v, "text", ""), stdout);
	else if (rc == CF_OK && !o.quiet) {
		cf_cli_sanitize(ops[0], sn, sizeof(sn));
		(void)printf("role %s removed (its bindings grant nothing "
		    "now)\n", sn);
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_role_def(int argc, char **argv)
{
	const char	*sub = argv[1];

	argc--;
	argv++;
	if (strcmp(sub, "create") == 0)
		return role_create(argc, argv);
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
		return role_call(argc, argv, "GET", 0);
	if (strcmp(sub, "show") == 0)
		return role_call(argc, argv, "GET", 1);
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "delete") == 0)
		return role_call(argc, argv, "DELETE", 1);
	cf_cli_errx("role: unknown subcommand \"%s\"", sub);
	(void)fputs(role_def_usage, stderr);
	return CF_EXIT_USAGE;
}
