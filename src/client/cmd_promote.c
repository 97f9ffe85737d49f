/* src/client/cmd_promote.c: `coffer promote` and `coffer promotion`:
 * open, list, show, approve, reject and withdraw promotion requests;
 * `coffer cp`: a server-side copy of an artifact version (docs/cli.md;
 * docs/artifacts.md, "Promotion", "Copy"). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"

#define PR_OPT_TO	0x321
#define PR_OPT_REASON	0x322

static const char promote_usage[] =
    "usage: coffer promote NS/NAME[@VERSION] --to TARGET_NS [--reason TEXT]"
    " [--json]\n"
    "\n"
    "Ask to promote an artifact version (the latest without @VERSION)\n"
    "into TARGET_NS, a namespace of another environment.  It is completed\n"
    "when the approvals the target's environment needs are given (coffer\n"
    "promotion approve ID; by default dev 0, staging 1, prod 2, never the\n"
    "requester's own): the version then appears in TARGET_NS with the\n"
    "same digest, derived from its source.\n";

static const char promotion_usage[] =
    "usage: coffer promotion ls [--json]\n"
    "       coffer promotion show ID [--json]\n"
    "       coffer promotion approve ID [--json]\n"
    "       coffer promotion reject ID [--json]\n"
    "       coffer promotion withdraw ID [--json]\n"
    "\n"
    "ls        your requests and those into namespaces you may see\n"
    "approve   approve a request (not your own; MFA for prod)\n"
    "reject    reject an open request\n"
    "withdraw  withdraw your own open request\n";

struct pr_opts {
	const char	*to;
	const char	*reason;
};

static bool
pr_opt(void *arg, int ch, char *val)
{
	struct pr_opts	*p = arg;

	if (ch == PR_OPT_TO)
		p->to = val;
	else if (ch == PR_OPT_REASON)
		p->reason = val;
	else
		return false;
	return true;
}

static void
print_promotion(const json_t *p)
{
	char		id[64], ns[128], name[300], to[128], st[32], by[128];
	char		why[600];
	const json_t	*tv = json_object_get(p, "target_version");

	cf_cli_sanitize(cf_cli_jstr(p, "id", ""), id, sizeof(id));
	cf_cli_sanitize(cf_cli_jstr(p, "ns", ""), ns, sizeof(ns));
	cf_cli_sanitize(cf_cli_jstr(p, "name", ""), name, sizeof(name));
	cf_cli_sanitize(cf_cli_jstr(p, "to", ""), to, sizeof(to));
	cf_cli_sanitize(cf_cli_jstr(p, "state", ""), st, sizeof(st));
	cf_cli_sanitize(cf_cli_jstr(p, "requester", ""), by, sizeof(by));
	cf_cli_sanitize(cf_cli_jstr(p, "reason", ""), why, sizeof(why));
	(void)printf("%s  %-9s %s/%s@%lld -> %s", id, st, ns, name,
	    (long long)json_integer_value(json_object_get(p, "version")), to);
	if (json_is_integer(tv))
		(void)printf("@%lld", (long long)json_integer_value(tv));
	(void)printf("  approvals %zu/%lld  by %s  %s\n",
	    json_array_size(json_object_get(p, "approvals")),
	    (long long)json_integer_value(json_object_get(p, "required")), by,
	    why);
}

int
cf_cmd_promote(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "to", required_argument, NULL, PR_OPT_TO },
		{ "reason", required_argument, NULL, PR_OPT_REASON },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct pr_opts		 p = { NULL, NULL };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *name = NULL, *sel = NULL;
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, promote_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, pr_opt, &p, 1, 1, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	if (p.to == NULL) {
		cf_cli_errx("promote: --to TARGET_NS is required");
		ex = CF_EXIT_USAGE;
		goto done;
	}
	rc = cf_cli_art_ref(ops[0], &ns, &name, &sel, &err);
	if (rc == CF_OK) {
		body = json_pack("{s:s, s:s}", "to", p.to, "reason",
		    p.reason != NULL ? p.reason : "");
		if (body != NULL && sel != NULL && *sel != '\0' &&
		    json_object_set_new(body, "version", json_string(sel)) !=
		    0) {
			json_decref(body);
			body = NULL;
		}
		if (body == NULL)
			rc = cf_error_set(&err, CF_E_INPUT, "--to and --reason "
			    "must be UTF-8 text");
	}
	if (rc == CF_OK)
		rc = cf_cli_obj_path(&url, ns, "promotions", name, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "POST", url.data, body, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && !o.quiet)
		print_promotion(v);
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(name);
	cf_free(sel);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_promotion(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	const char		*method = "GET";
	char			**ops;
	json_t			*v = NULL, *e;
	size_t			 i;
	int			 nops, ex;
	bool			 ls;
	cf_err			 rc;

	cf_buf_init(&url, 4096);
	ex = cf_cli_parse(argc, argv, promotion_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, NULL, NULL, 1, 2, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	ls = strcmp(ops[0], "ls") == 0 || strcmp(ops[0], "list") == 0;
	if (!(ls && nops == 1) && !(nops == 2 &&
	    (strcmp(ops[0], "show") == 0 || strcmp(ops[0], "approve") == 0 ||
	    strcmp(ops[0], "reject") == 0 ||
	    strcmp(ops[0], "withdraw") == 0))) {
		(void)fputs(promotion_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto out;
	}
	rc = cf_buf_append_str(&url, "/v1/promotions", &err);
	if (rc == CF_OK && !ls) {
		rc = cf_buf_append_str(&url, "/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[1], false, &err);
		if (rc == CF_OK && strcmp(ops[0], "show") != 0) {
			method = "POST";
			rc = cf_buf_append_str(&url, "/", &err);
			if (rc == CF_OK)
				rc = cf_buf_append_str(&url, ops[0], &err);
		}
	}
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, url.data, NULL, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && ls)
		json_array_foreach(json_object_get(v, "promotions"), i, e)
			print_promotion(e);
	else if (rc == CF_OK && !o.quiet)
		print_promotion(v);
	ex = cf_cli_finish(&s, rc, &err);
out:
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}

static const char cp_usage[] =
    "usage: coffer cp SRC_NS/NAME[@VERSION] DST_NS/NAME [--json]\n"
    "\n"
    "Copy an artifact version (the latest without @VERSION; a number, a\n"
    "stage or a long id) into DST_NS/NAME on the server, without download:\n"
    "a new version there with the same digest, kind and metadata, derived\n"
    "from the source.  Needs read access to the source and artifact:copy\n"
    "on the target; into a prod namespace only where a policy permits it\n"
    "(otherwise use coffer promote).\n";

int
cf_cmd_cp(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct cf_buf		 url;
	char			**ops, *ns = NULL, *name = NULL, *sel = NULL;
	char			*dns = NULL, *dname = NULL, *dsel = NULL;
	char			 a[128], b[300], k[32];
	json_t			*body = NULL, *v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	ex = cf_cli_parse(argc, argv, cp_usage, CF_CLI_COMMON_SHORTOPTS, lo,
	    NULL, NULL, 2, 2, &o, &ops, &nops);
	if (ex >= 0)
		goto done;
	rc = cf_cli_art_ref(ops[0], &ns, &name, &sel, &err);
	if (rc == CF_OK)
		rc = cf_cli_art_ref(ops[1], &dns, &dname, &dsel, &err);
	if (rc == CF_OK && dsel != NULL)
		rc = cf_error_set(&err, CF_E_INPUT, "cp: the target is "
		    "DST_NS/NAME (a new version is made there)");
	if (rc == CF_OK) {
		body = json_pack("{s:s, s:s}", "from_ns", ns, "from", name);
		if (body != NULL && sel != NULL && *sel != '\0' &&
		    json_object_set_new(body, "version", json_string(sel)) !=
		    0) {
			json_decref(body);
			body = NULL;
		}
		if (body == NULL)
			rc = cf_error_set(&err, CF_E_INPUT, "cp: names must "
			    "be UTF-8 text");
	}
	if (rc == CF_OK)
		rc = cf_cli_obj_path(&url, dns, "artifact-copies", dname, &err);
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, "POST", url.data, body, &v, &err);
	if (rc == CF_OK && o.json)
		cf_cli_print_json(v);
	else if (rc == CF_OK && !o.quiet) {
		cf_cli_sanitize(cf_cli_jstr(v, "ns", ""), a, sizeof(a));
		cf_cli_sanitize(cf_cli_jstr(v, "name", ""), b, sizeof(b));
		cf_cli_sanitize(cf_cli_jstr(v, "kind", ""), k, sizeof(k));
		(void)printf("%s/%s@%lld  %s  digest %s\n", a, b,
		    (long long)json_integer_value(json_object_get(v,
		    "version")), k, cf_cli_jstr(v, "digest", "?"));
	}
	ex = cf_cli_finish(&s, rc, &err);
done:
	json_decref(body);
	json_decref(v);
	cf_free(ns);
	cf_free(name);
	cf_free(sel);
	cf_free(dns);
	cf_free(dname);
	cf_free(dsel);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}
