/* src/client/cmd_ns.c: `coffer ns create|ls|set|rm`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

static const char ns_usage[] =
    "usage: coffer ns create NAME [--env dev|staging|prod]\n"
    "           [--sensitivity public|internal|confidential|restricted] "
    "[--json]\n"
    "       coffer ns ls [--json]\n"
    "       coffer ns set NAME --sensitivity LEVEL [--json]\n"
    "       coffer ns set NAME --retain-days N [--json]\n"
    "       coffer ns set NAME --purge-after-days N [--json]\n"
    "       coffer ns rm NAME [--json]\n"
    "\n"
    "Manage namespaces (containers of objects, like S3 buckets).  Names are\n"
    "3-63 characters of a-z, 0-9, '-' and '.'.  `rm` works only on a\n"
    "namespace without live objects; it destroys its old versions.  `set`\n"
    "changes a namespace's sensitivity, or its retention: versions younger\n"
    "than N days cannot be deleted or erased (0: none; admin with MFA),\n"
    "or its purge period: the server crypto-shreds non-current versions\n"
    "older than N days (and than the retention; not under a hold; 0:\n"
    "never; admin with MFA).\n"
    "Every action on a restricted namespace needs MFA (a session with a\n"
    "code); API tokens cannot reach restricted data at all.\n";

struct ns_create_opts {
	const char	*env;
	const char	*sens;
	const char	*retain;
	const char	*purge;
};

static bool
env_opt(void *arg, int ch, char *val)
{
	struct ns_create_opts	*no = arg;

	if (ch == 's') {
		if (strcmp(val, "public") != 0 &&
		    strcmp(val, "internal") != 0 &&
		    strcmp(val, "confidential") != 0 &&
		    strcmp(val, "restricted") != 0) {
			cf_cli_errx("ns: --sensitivity must be public, "
			    "internal, confidential or restricted");
			return false;
		}
		no->sens = val;
		return true;
	}
	if (ch == 'R') {
		no->retain = val;
		return true;
	}
	if (ch == 'P') {
		no->purge = val;
		return true;
	}
	if (ch != 'e')
		return false;
	if (strcmp(val, "dev") != 0 && strcmp(val, "staging") != 0 &&
	    strcmp(val, "prod") != 0) {
		cf_cli_errx("ns create: --env must be dev, staging or prod");
		return false;
	}
	no->env = val;
	return true;
}

static int
ns_create(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "env", required_argument, NULL, 'e' },
		{ "sensitivity", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct ns_create_opts	 no = { NULL, NULL, NULL, NULL };
	char			**ops, sn[128];
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc = CF_OK;

	ex = cf_cli_parse(argc, argv, ns_usage, CF_CLI_COMMON_SHORTOPTS "e:s:",
	    lo, env_opt, &no, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	body = json_pack("{s:s}", "name", ops[0]);
	if (body == NULL || (no.env != NULL && json_object_set_new(body,
	    "env", json_string(no.env)) != 0) || (no.sens != NULL &&
	    json_object_set_new(body, "sensitivity", json_string(no.sens)) !=
	    0)) {
		rc = cf_error_set(&err, CF_E_INPUT, "namespace name is not "
		    "valid UTF-8");
		goto out;
	}
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "POST", "/v1/ns", body, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet) {
			cf_cli_sanitize(cf_cli_jstr(v, "name", ops[0]), sn,
			    sizeof(sn));
			(void)printf("created namespace %s (env %s, "
			    "sensitivity %s)\n", sn, cf_cli_jstr(v, "env",
			    no.env != NULL ? no.env : "dev"), cf_cli_jstr(v,
			    "sensitivity", no.sens != NULL ? no.sens :
			    "internal"));
		}
	}
out:
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(body);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

static int
ns_ls(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	char			**ops, sn[128], se[32], ss[32], sb[128];
	char			 date[24];
	json_t			*v = NULL, *e;
	size_t			 i;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, ns_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    NULL, NULL, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", "/v1/ns", NULL, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK) {
		json_array_foreach(json_object_get(v, "namespaces"), i, e) {
			cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), sn,
			    sizeof(sn));
			cf_cli_sanitize(cf_cli_jstr(e, "env", "-"), se,
			    sizeof(se));
			cf_cli_sanitize(cf_cli_jstr(e, "sensitivity", "-"), ss,
			    sizeof(ss));
			cf_cli_sanitize(cf_cli_jstr(e, "created_by", "-"), sb,
			    sizeof(sb));
			cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), date,
			    sizeof(date));
			(void)printf("%-32s %-8s %-12s %19s  %s\n", sn, se, ss,
			    date, sb);
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

/* "/v1/ns/NAME" with NAME encoded. */
static cf_err
ns_url(struct cf_buf *url, const char *name, struct cf_error *err)
{
	cf_err	rc;

	cf_buf_init(url, 4096);
	rc = cf_buf_append_str(url, "/v1/ns/", err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(url, name, false, err);
	return rc;
}

static int
ns_set(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "sensitivity", required_argument, NULL, 's' },
		{ "retain-days", required_argument, NULL, 'R' },
		{ "purge-after-days", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct ns_create_opts	 no = { NULL, NULL, NULL, NULL };
	struct cf_buf		 url;
	char			**ops, sn[128];
	json_t			*body = NULL, *v = NULL;
	int64_t			 days = 0;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, ns_usage, CF_CLI_COMMON_SHORTOPTS "s:",
	    lo, env_opt, &no, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if ((no.sens != NULL) + (no.retain != NULL) + (no.purge != NULL) !=
	    1) {
		cf_cli_errx("ns set: one of --sensitivity, --retain-days or "
		    "--purge-after-days is required");
		return CF_EXIT_USAGE;
	}
	if ((no.retain != NULL || no.purge != NULL) &&
	    cf_parse_i64(no.retain != NULL ? no.retain : no.purge, 0, 36500,
	    &days, NULL) != CF_OK) {
		cf_cli_errx("ns set: --%s must be 0-36500", no.retain != NULL ?
		    "retain-days" : "purge-after-days");
		return CF_EXIT_USAGE;
	}
	rc = ns_url(&url, ops[0], &err);
	body = no.sens != NULL ? json_pack("{s:s}", "sensitivity", no.sens) :
	    json_pack("{s:I}", no.retain != NULL ? "retain_days" :
	    "purge_after_days", (json_int_t)days);
	if (rc == CF_OK && body == NULL)
		rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "PATCH", url.data, body, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet) {
			cf_cli_sanitize(cf_cli_jstr(v, "name", ops[0]), sn,
			    sizeof(sn));
			if (no.sens != NULL)
				(void)printf("namespace %s is now %s\n", sn,
				    cf_cli_jstr(v, "sensitivity", no.sens));
			else if (no.retain != NULL)
				(void)printf("namespace %s keeps versions %lld "
				    "days\n", sn, (long long)days);
			else if (days == 0)
				(void)printf("namespace %s: no purge\n", sn);
			else
				(void)printf("namespace %s: non-current "
				    "versions are purged after %lld days\n",
				    sn, (long long)days);
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(body);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

static int
ns_rm(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, sn[128];
	json_t			*v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, ns_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    NULL, NULL, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	rc = ns_url(&url, ops[0], &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "DELETE", url.data, NULL, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet) {
			cf_cli_sanitize(ops[0], sn, sizeof(sn));
			(void)printf("deleted namespace %s (%lld old versions "
			    "destroyed)\n", sn, (long long)json_integer_value(
			    json_object_get(v, "versions_destroyed")));
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_ns(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		(void)fputs(ns_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CF_EXIT_USAGE : CF_EXIT_OK;
	}
	if (strcmp(argv[1], "create") == 0)
		return ns_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0)
		return ns_ls(argc - 1, argv + 1);
	if (strcmp(argv[1], "set") == 0)
		return ns_set(argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0 || strcmp(argv[1], "delete") == 0)
		return ns_rm(argc - 1, argv + 1);
	cf_cli_errx("ns: unknown subcommand \"%s\"", argv[1]);
	(void)fputs(ns_usage, stderr);
	return CF_EXIT_USAGE;
}
