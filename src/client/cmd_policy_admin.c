/* src/client/cmd_policy_admin.c: `coffer policy set|ls|show|history|rm`,
 * the policy sets stored on the server (docs/api.md, "Policies").
 *
 * `set` parses the file here first, so that a syntax error is reported
 * as FILE:LINE:COL: message without a round trip (the server checks
 * again, and also what a namespace's set may name). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/s3_policy.h"
#include "policy/policy.h"

#define POLICY_TEXT_MAX	(1u << 20)	/* the server's limit per set */

static const char admin_usage[] =
    "usage: coffer policy set NAME --file FILE [--ns NS] [--json]\n"
    "       coffer policy ls [--ns NS] [--json]\n"
    "       coffer policy show NAME [--version N] [--ns NS] [--json]\n"
    "       coffer policy history NAME [--ns NS] [--json]\n"
    "       coffer policy rm NAME [--ns NS] [--json]\n"
    "\n"
    "Manage the Cedar policy sets stored on the server.  A set is global\n"
    "(admins) or, with --ns, attached to a namespace (its owners), where\n"
    "it is evaluated only for requests on that namespace and may name only\n"
    "that namespace's actions.  Every change makes a new version and needs\n"
    "MFA; `rm` takes a set out of force and keeps its history.  `ls`\n"
    "without --ns lists every set you may manage.  `show` prints the text.\n";

struct admin_opts {
	const char	*file;
	const char	*ns;
	uint64_t	 version;
};

static bool
admin_opt(void *arg, int ch, char *val)
{
	struct admin_opts	*ao = arg;

	switch (ch) {
	case 'f':
		ao->file = val;
		return true;
	case 'n':
		ao->ns = val;
		return true;
	case 'V':
		if (cf_parse_u64(val, 1, INT64_MAX, &ao->version, NULL) !=
		    CF_OK) {
			cf_cli_errx("policy: --version must be a number from "
			    "1 up");
			return false;
		}
		return true;
	default:
		return false;
	}
}

/* "/v1/policies[/NAME[/SUFFIX]][?ns=NS][&version=N]", encoded. */
static cf_err
policy_url(struct cf_buf *url, const char *name, const char *suffix,
    const struct admin_opts *ao, struct cf_error *err)
{
	cf_err	rc;

	cf_buf_init(url, 4096);
	rc = cf_buf_append_str(url, "/v1/policies", err);
	if (rc == CF_OK && name != NULL) {
		rc = cf_buf_append_str(url, "/", err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(url, name, false, err);
	}
	if (rc == CF_OK && suffix != NULL)
		rc = cf_buf_printf(url, err, "/%s", suffix);
	if (rc == CF_OK && ao->ns != NULL) {
		rc = cf_buf_append_str(url, "?ns=", err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(url, ao->ns, false, err);
	}
	if (rc == CF_OK && ao->version > 0)
		rc = cf_buf_printf(url, err, "%sversion=%llu",
		    ao->ns != NULL ? "&" : "?",
		    (unsigned long long)ao->version);
	return rc;
}

/* The whole of path (at most POLICY_TEXT_MAX bytes) into a new buffer. */
static cf_err
read_policy_file(const char *path, char **out, size_t *len,
    struct cf_error *err)
{
	FILE	*f;
	char	*buf;
	size_t	 n;
	cf_err	 rc = CF_OK;

	buf = cf_malloc(POLICY_TEXT_MAX + 2);
	if (buf == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	f = fopen(path, "rb");
	if (f == NULL) {
		cf_free(buf);
		return cf_error_sys(err, CF_E_IO, "%s", path);
	}
	n = fread(buf, 1, POLICY_TEXT_MAX + 1, f);
	if (ferror(f))
		rc = cf_error_sys(err, CF_E_IO, "%s", path);
	else if (n > POLICY_TEXT_MAX)
		rc = cf_error_set(err, CF_E_LIMIT, "%s: larger than %u bytes, "
		    "the most a policy set may take", path, POLICY_TEXT_MAX);
	(void)fclose(f);
	if (rc != CF_OK) {
		cf_free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return CF_OK;
}

/* The printable name of a set's scope. */
static void
scope_name(const json_t *v, char *out, size_t outsz)
{
	const char	*ns = cf_cli_jstr(v, "ns", NULL);

	if (ns == NULL)
		cf_strlcpy(out, "(global)", outsz);
	else
		cf_cli_sanitize(ns, out, outsz);
}

static int
pol_set(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "file", required_argument, NULL, 'f' },
		{ "ns", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct admin_opts	 ao = { NULL, NULL, 0 };
	struct cf_policy_set	*ps = NULL;
	struct cf_buf		 url;
	char			**ops, *text = NULL, sn[128], sf[512];
	json_t			*body = NULL, *v = NULL, *t;
	json_int_t		 ver;
	size_t			 len = 0;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 16);
	ex = cf_cli_parse(argc, argv, admin_usage, CF_CLI_COMMON_SHORTOPTS
	    "f:n:", lo, admin_opt, &ao, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (ao.file == NULL) {
		cf_cli_errx("policy set: --file is required");
		return CF_EXIT_USAGE;
	}
	cf_cli_sanitize(ao.file, sf, sizeof(sf));
	rc = read_policy_file(ao.file, &text, &len, &err);
	/* The bucket policy's set takes IAM JSON, which the server
	 * compiles (and names what does not map): docs/s3.md. */
	if (rc == CF_OK && strcmp(ops[0], CF_S3_POLICY_NAME) != 0 &&
	    cf_policy_set_parse(text, len, &ps, &err) != CF_OK) {
		/* err.msg is "line:col: message", as `policy check`. */
		(void)fprintf(stderr, "%s:%s\n", sf, err.msg);
		ex = CF_EXIT_INPUT;
		goto out;
	}
	if (rc == CF_OK) {
		body = json_object();
		t = json_stringn(text, len);
		if (body == NULL || t == NULL ||
		    json_object_set_new(body, "text", t) != 0)
			rc = cf_error_set(&err, CF_E_INPUT, "%s: not UTF-8 "
			    "text", sf);
	}
	if (rc == CF_OK && ao.ns != NULL && json_object_set_new(body, "ns",
	    json_string(ao.ns)) != 0)
		rc = cf_error_set(&err, CF_E_INPUT, "--ns is not UTF-8");
	if (rc == CF_OK) {
		ao.ns = NULL;		/* in the body */
		rc = policy_url(&url, ops[0], NULL, &ao, &err);
	}
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "PUT", url.data, body, &v, &err);
	if (rc != CF_OK && s.h != NULL &&
	    strcmp(cf_http_error_code(s.h), "invalid_policy") == 0) {
		/* Name the file, as for a syntax error found here. */
		(void)fprintf(stderr, "%s:%s%s\n", sf, err.msg[0] >= '0' &&
		    err.msg[0] <= '9' ? "" : " ", err.msg);
		ex = cf_http_exit(s.h, rc);
		goto out;
	}
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet) {
			cf_cli_sanitize(cf_cli_jstr(v, "name", ops[0]), sn,
			    sizeof(sn));
			ver = json_integer_value(json_object_get(v,
			    "version"));
			if (json_is_true(json_object_get(v, "unchanged")))
				(void)printf("policy %s unchanged (version "
				    "%lld)\n", sn, (long long)ver);
			else
				(void)printf("policy %s is now version %lld "
				    "(%s)\n", sn, (long long)ver,
				    cf_cli_jstr(v, "digest", "-"));
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
out:
	cf_policy_set_free(ps);
	cf_free(text);
	json_decref(body);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

/* GET url into *v: the shared part of ls, show and history. */
static int
pol_get(int argc, char **argv, const char *shortopts,
    const struct option *lo, int nargs, const char *suffix,
    void (*print)(const json_t *, const struct admin_opts *))
{
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct admin_opts	 ao = { NULL, NULL, 0 };
	struct cf_buf		 url;
	char			**ops;
	json_t			*v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 16);
	ex = cf_cli_parse(argc, argv, admin_usage, shortopts, lo, admin_opt,
	    &ao, nargs, nargs, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	rc = policy_url(&url, nargs > 0 ? ops[0] : NULL, suffix, &ao, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "GET", url.data, NULL, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK)
		print(v, &ao);
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

static void
print_row(const json_t *e, bool with_scope)
{
	char	sn[128], ss[128], by[128], date[24], dg[24];

	cf_cli_sanitize(cf_cli_jstr(e, "name", "?"), sn, sizeof(sn));
	scope_name(e, ss, sizeof(ss));
	cf_cli_sanitize(cf_cli_jstr(e, "created_by", "-"), by, sizeof(by));
	cf_cli_fmt_time(cf_cli_jstr(e, "created", "-"), date, sizeof(date));
	/* "sha256:" and the first 12 hex digits; "removed" for a
	 * tombstone. */
	if (json_is_true(json_object_get(e, "deleted")))
		cf_strlcpy(dg, "(removed)", sizeof(dg));
	else
		cf_cli_sanitize(cf_cli_jstr(e, "digest", "-"), dg, 20);
	if (with_scope)
		(void)printf("%-24s %-32s %4lld  %-19s %19s  %s\n", ss, sn,
		    (long long)json_integer_value(json_object_get(e,
		    "version")), dg, date, by);
	else
		(void)printf("%4lld  %-19s %8lld %19s  %s\n",
		    (long long)json_integer_value(json_object_get(e,
		    "version")), dg, (long long)json_integer_value(
		    json_object_get(e, "size")), date, by);
}

static void
print_ls(const json_t *v, const struct admin_opts *ao)
{
	const json_t	*e;
	size_t		 i;

	(void)ao;
	json_array_foreach(json_object_get(v, "policies"), i, e)
		print_row(e, true);
}

static void
print_history(const json_t *v, const struct admin_opts *ao)
{
	const json_t	*e;
	size_t		 i;

	(void)ao;
	json_array_foreach(json_object_get(v, "versions"), i, e)
		print_row(e, false);
}

/* The text as stored, byte for byte (a policy file again). */
static void
print_text(const json_t *v, const struct admin_opts *ao)
{
	const json_t	*t = json_object_get(v, "text");

	(void)ao;
	if (json_is_true(json_object_get(v, "deleted")))
		cf_cli_warnx("policy: version %lld removes the set",
		    (long long)json_integer_value(json_object_get(v,
		    "version")));
	if (json_is_string(t))
		(void)fwrite(json_string_value(t), 1, json_string_length(t),
		    stdout);
}

static int
pol_rm(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct admin_opts	 ao = { NULL, NULL, 0 };
	struct cf_buf		 url;
	char			**ops, sn[128], ss[128];
	json_t			*v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, 16);
	ex = cf_cli_parse(argc, argv, admin_usage, CF_CLI_COMMON_SHORTOPTS
	    "n:", lo, admin_opt, &ao, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	rc = policy_url(&url, ops[0], NULL, &ao, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "DELETE", url.data, NULL, &v, &err);
	if (rc == CF_OK) {
		if (o.json)
			cf_cli_print_json(v);
		else if (!o.quiet) {
			cf_cli_sanitize(ops[0], sn, sizeof(sn));
			scope_name(v, ss, sizeof(ss));
			(void)printf("removed policy %s %s (version %lld; its "
			    "history stays)\n", sn, ss,
			    (long long)json_integer_value(json_object_get(v,
			    "version")));
		}
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_policy_admin(int argc, char **argv)
{
	static const struct option lo_ns[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option lo_show[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*sub = argv[1];

	argc--;
	argv++;
	if (strcmp(sub, "set") == 0)
		return pol_set(argc, argv);
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
		return pol_get(argc, argv, CF_CLI_COMMON_SHORTOPTS "n:", lo_ns,
		    0, NULL, print_ls);
	if (strcmp(sub, "show") == 0)
		return pol_get(argc, argv, CF_CLI_COMMON_SHORTOPTS "n:V:",
		    lo_show, 1, NULL, print_text);
	if (strcmp(sub, "history") == 0)
		return pol_get(argc, argv, CF_CLI_COMMON_SHORTOPTS "n:", lo_ns,
		    1, "history", print_history);
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "delete") == 0)
		return pol_rm(argc, argv);
	cf_cli_errx("policy: unknown subcommand \"%s\"", sub);
	(void)fputs(admin_usage, stderr);
	return CF_EXIT_USAGE;
}

bool
cf_cmd_policy_admin_has(const char *sub)
{
	static const char *const subs[] = { "set", "ls", "list", "show",
	    "history", "rm", "delete" };
	size_t	i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i]) == 0)
			return true;
	return false;
}
