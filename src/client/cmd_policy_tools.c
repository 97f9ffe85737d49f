/* src/client/cmd_policy_tools.c: `coffer policy explain` and `coffer
 * policy replay`, questions about the server's policies that change
 * nothing (docs/policy.md, "Testing a change before applying it").
 *
 * replay validates the draft here first, against the same schema the
 * server uses (cf_core_policy_schema), so that problems are reported as
 * FILE:LINE:COL before anything is sent; the server checks again. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/core.h"
#include "policy/policy.h"

#define DRAFT_FILES_MAX	256
#define DRAFT_FILE_MAX	(4u * 1024 * 1024)

static const char explain_usage[] =
    "usage: coffer policy explain --principal P --action A "
    "[--resource NS[/KEY[@VERSION]]]\n"
    "                             [--context JSON] [--json]\n"
    "\n"
    "How the server's policies and guard rails would decide a request of\n"
    "principal P now: the decision, the determining and errored policies,\n"
    "the guards that apply, the entities and the context.  --context sets\n"
    "or adds context members (mfa, mfa_age_s, source_ip, time, authn,\n"
    "token_scope, purpose, ...); by default: now, from this address, a\n"
    "session without MFA.  Admin only.\n";

static const char replay_usage[] =
    "usage: coffer policy replay --draft FILE_OR_DIR [--ns NS] "
    "[--since DURATION]\n"
    "                            [--limit N] [--examples N] [--json]\n"
    "\n"
    "Decide the requests recorded in the audit log again under a draft\n"
    "policy set and report those whose decision would change, without\n"
    "applying anything.  Each FILE.cedar (a file, or every *.cedar of a\n"
    "directory) is the policy set FILE, global or with --ns attached to\n"
    "NS, and replaces the stored set of that name; the others stay.  The\n"
    "draft is validated against Coffer's schema first (FILE:LINE:COL\n"
    "errors, exit 1).  DURATION: N followed by s, m, h or d (default: the\n"
    "whole window of --limit records, 10000).  Admin only.\n";

struct explain_opts {
	const char	*principal, *action, *resource, *context;
};

static bool
explain_opt(void *arg, int ch, char *val)
{
	struct explain_opts	*x = arg;

	switch (ch) {
	case 'P': x->principal = val; break;
	case 'A': x->action = val; break;
	case 'R': x->resource = val; break;
	case 'C': x->context = val; break;
	default: return false;
	}
	return true;
}

static void
print_ids(const char *label, const json_t *arr)
{
	json_t	*v;
	size_t	 i;
	char	 buf[512];

	(void)printf("%s", label);
	if (json_array_size(arr) == 0)
		(void)printf(" none");
	json_array_foreach(arr, i, v) {
		cf_cli_sanitize(json_is_string(v) ? json_string_value(v) :
		    cf_cli_jstr(v, "policy", "?"), buf, sizeof(buf));
		(void)printf("%s %s", i > 0 ? "," : "", buf);
	}
	(void)printf("\n");
}

static void
pr_explain(const json_t *v)
{
	json_t	*e, *g;
	size_t	 i;
	char	 buf[1024], *text;

	(void)printf("decision: %s (policies: %s)\n",
	    cf_cli_jstr(v, "decision", "?"),
	    cf_cli_jstr(v, "policy_decision", "?"));
	print_ids("determining policies:", json_object_get(v, "reasons"));
	json_array_foreach(json_object_get(v, "errors"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "message", ""), buf,
		    sizeof(buf));
		(void)printf("error in %s: %s\n", cf_cli_jstr(e, "policy", "?"),
		    buf);
	}
	if (json_is_true(json_object_get(v, "disabled")))
		(void)printf("principal is disabled: refused whatever the "
		    "policies say\n");
	json_array_foreach(json_object_get(v, "guards"), i, g) {
		cf_cli_sanitize(cf_cli_jstr(g, "message", ""), buf,
		    sizeof(buf));
		(void)printf("guard %s (%s): %s%s\n", cf_cli_jstr(g, "guard",
		    "?"), cf_cli_jstr(g, "when", ""),
		    json_is_true(json_object_get(g, "refuses")) ?
		    "REFUSES: " : "passes: ", buf);
	}
	if (json_array_size(json_object_get(v, "conditional")) > 0)
		print_ids("depends on the context:",
		    json_object_get(v, "conditional"));
	(void)printf("entities:\n");
	json_array_foreach(json_object_get(v, "entities"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(json_object_get(e, "uid"), "id",
		    "?"), buf, sizeof(buf));
		(void)printf("  %s::\"%s\"\n", cf_cli_jstr(json_object_get(e,
		    "uid"), "type", "?"), buf);
	}
	text = cf_json_dumps_flags(json_object_get(v, "context"),
	    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
	(void)printf("context: %s\n", text != NULL ? text : "?");
	free(text);
}

static int
run_json(const struct cf_cli_opts *o, const char *method, const char *path,
    const json_t *body, void (*pr)(const json_t *))
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
		else if (!o->quiet)
			pr(v);
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_policy_explain(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "principal", required_argument, NULL, 'P' },
		{ "action", required_argument, NULL, 'A' },
		{ "resource", required_argument, NULL, 'R' },
		{ "context", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct explain_opts	 x = { NULL, NULL, NULL, NULL };
	json_error_t		 jerr;
	json_t			*body = NULL, *ctx = NULL;
	char			**ops;
	int			 nops, ex;

	ex = cf_cli_parse(argc, argv, explain_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, explain_opt, &x, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (x.principal == NULL || x.action == NULL) {
		cf_cli_errx("policy explain: --principal and --action are "
		    "required");
		(void)fputs(explain_usage, stderr);
		return CF_EXIT_USAGE;
	}
	if (x.context != NULL) {
		ctx = json_loads(x.context, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(ctx)) {
			cf_cli_errx("policy explain: --context must be a JSON "
			    "object (%s)", ctx == NULL ? jerr.text :
			    "not an object");
			json_decref(ctx);
			return CF_EXIT_USAGE;
		}
	}
	body = json_pack("{s:s, s:s}", "principal", x.principal, "action",
	    x.action);
	if (body == NULL || (x.resource != NULL && json_object_set_new(body,
	    "resource", json_string(x.resource)) != 0) || (ctx != NULL &&
	    json_object_set(body, "context", ctx) != 0)) {
		cf_cli_errx("policy explain: arguments are not valid UTF-8");
		ex = CF_EXIT_INPUT;
		goto out;
	}
	ex = run_json(&o, "POST", "/v1/explain", body, pr_explain);
out:
	json_decref(ctx);
	json_decref(body);
	return ex;
}

/*
 * Replay.
 */
struct replay_opts {
	const char	*draft, *ns, *since, *limit, *examples;
};

static bool
replay_opt(void *arg, int ch, char *val)
{
	struct replay_opts	*x = arg;

	switch (ch) {
	case 'D': x->draft = val; break;
	case 'n': x->ns = val; break;
	case 'S': x->since = val; break;
	case 'L': x->limit = val; break;
	case 'E': x->examples = val; break;
	default: return false;
	}
	return true;
}

/* "90", "90s", "15m", "24h", "7d" in seconds; -1 if malformed. */
static int64_t
parse_duration(const char *s)
{
	uint64_t	n;
	char		num[32];
	size_t		len = strlen(s);
	int64_t		mul = 1;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': mul = 1; num[--len] = '\0'; break;
	case 'm': mul = 60; num[--len] = '\0'; break;
	case 'h': mul = 3600; num[--len] = '\0'; break;
	case 'd': mul = 86400; num[--len] = '\0'; break;
	default: break;
	}
	if (cf_parse_u64(num, 1, 36600, &n, NULL) != CF_OK &&
	    (mul != 1 || cf_parse_u64(num, 1, 3162240000u, &n,
	    NULL) != CF_OK))
		return -1;
	return (int64_t)n * mul;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The draft's files: path itself, or each *.cedar in it (sorted). */
static cf_err
draft_files(const char *path, char ***out, size_t *n, struct cf_error *err)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		**v = NULL;
	size_t		 k = 0, len;
	cf_err		 rc = CF_OK;

	if (stat(path, &st) != 0)
		return cf_error_sys(err, CF_E_IO, "%s", path);
	v = cf_calloc(DRAFT_FILES_MAX, sizeof(*v));
	if (v == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (!S_ISDIR(st.st_mode)) {
		v[k] = cf_strdup(path);
		if (v[k++] == NULL)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	d = opendir(path);
	if (d == NULL) {
		rc = cf_error_sys(err, CF_E_IO, "%s", path);
		goto out;
	}
	while ((de = readdir(d)) != NULL && rc == CF_OK) {
		len = strlen(de->d_name);
		if (len <= 6 || strcmp(de->d_name + len - 6, ".cedar") != 0)
			continue;
		if (k == DRAFT_FILES_MAX) {
			rc = cf_error_set(err, CF_E_LIMIT, "%s: more than %d "
			    ".cedar files", path, DRAFT_FILES_MAX);
			break;
		}
		v[k] = cf_malloc(strlen(path) + len + 2);
		if (v[k] == NULL)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		else
			(void)snprintf(v[k++], strlen(path) + len + 2, "%s/%s",
			    path, de->d_name);
	}
	(void)closedir(d);
	if (rc == CF_OK && k == 0)
		rc = cf_error_set(err, CF_E_INPUT, "%s: no .cedar file", path);
	qsort(v, k, sizeof(*v), cmp_str);
out:
	if (rc != CF_OK) {
		while (k > 0)
			cf_free(v[--k]);
		cf_free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return CF_OK;
}

/* FILE's set name: its base name without .cedar. */
static void
set_name(const char *file, char *out, size_t outsz)
{
	const char	*b = strrchr(file, '/');
	size_t		 len;

	cf_strlcpy(out, b != NULL ? b + 1 : file, outsz);
	len = strlen(out);
	if (len > 6 && strcmp(out + len - 6, ".cedar") == 0)
		out[len - 6] = '\0';
}

/* Read, parse and validate one draft file, printing its problems as
 * FILE:LINE:COL: ...; *bad set when there are any. */
static cf_err
draft_check(const char *file, const struct cf_schema *sch,
    struct cf_validation *v, char **text, bool *bad, struct cf_error *err)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_error		 perr;
	FILE			*f;
	char			*buf;
	size_t			 n, i;
	cf_err			 rc;

	f = fopen(file, "rb");
	if (f == NULL)
		return cf_error_sys(err, CF_E_IO, "%s", file);
	buf = cf_malloc(DRAFT_FILE_MAX + 1);
	if (buf == NULL) {
		(void)fclose(f);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	n = fread(buf, 1, DRAFT_FILE_MAX + 1, f);
	rc = ferror(f) ? cf_error_sys(err, CF_E_IO, "%s", file) :
	    n > DRAFT_FILE_MAX ? cf_error_set(err, CF_E_LIMIT, "%s: larger "
	    "than %u bytes", file, DRAFT_FILE_MAX) : CF_OK;
	(void)fclose(f);
	if (rc != CF_OK) {
		cf_free(buf);
		return rc;
	}
	buf[n] = '\0';
	cf_error_clear(&perr);
	if (cf_policy_set_parse(buf, n, &ps, &perr) != CF_OK) {
		(void)printf("%s:%s\n", file, perr.msg);
		*bad = true;
	} else {
		rc = cf_policy_validate(sch, ps, v, err);
		for (i = 0; rc == CF_OK &&
		    i < cf_validation_error_count(v); i++) {
			(void)printf("%s:%u:%u: policy %s: %s\n", file,
			    cf_validation_error_line(v, i),
			    cf_validation_error_col(v, i),
			    cf_validation_error_policy(v, i),
			    cf_validation_error_msg(v, i));
			*bad = true;
		}
	}
	cf_policy_set_free(ps);
	if (rc != CF_OK) {
		cf_free(buf);
		return rc;
	}
	*text = buf;
	return CF_OK;
}

static void
pr_replay(const json_t *v)
{
	const json_t	*ch = json_object_get(v, "changed");
	json_t		*e, *n;
	const char	*k;
	size_t		 i;
	char		 res[512], who[256];

	(void)printf("replayed %lld of %lld records: %lld would change "
	    "(allow -> deny %lld, deny -> allow %lld), %lld unchanged\n",
	    (long long)json_integer_value(json_object_get(v, "replayed")),
	    (long long)json_integer_value(json_object_get(v, "examined")),
	    (long long)(json_integer_value(json_object_get(ch,
	    "allow_to_deny")) + json_integer_value(json_object_get(ch,
	    "deny_to_allow"))),
	    (long long)json_integer_value(json_object_get(ch,
	    "allow_to_deny")),
	    (long long)json_integer_value(json_object_get(ch,
	    "deny_to_allow")),
	    (long long)json_integer_value(json_object_get(v, "unchanged")));
	if (json_integer_value(json_object_get(v, "drift")) > 0)
		(void)printf("%lld records are decided otherwise today than "
		    "when recorded (bindings or policies changed since)\n",
		    (long long)json_integer_value(json_object_get(v,
		    "drift")));
	json_object_foreach(json_object_get(v, "skipped"), k, n)
		(void)printf("skipped %lld: %s\n",
		    (long long)json_integer_value(n), k);
	if (json_is_true(json_object_get(v, "truncated")))
		(void)printf("only the last %lld records were looked at "
		    "(--limit)\n", (long long)json_integer_value(
		    json_object_get(v, "examined")));
	json_array_foreach(json_object_get(v, "examples"), i, e) {
		cf_cli_sanitize(cf_cli_jstr(e, "resource", ""), res,
		    sizeof(res));
		cf_cli_sanitize(cf_cli_jstr(e, "principal", ""), who,
		    sizeof(who));
		(void)printf("  seq %lld %s %s %s %s: %s -> %s",
		    (long long)json_integer_value(json_object_get(e, "seq")),
		    cf_cli_jstr(e, "time", ""), who, cf_cli_jstr(e, "action",
		    ""), res, cf_cli_jstr(e, "current", "?"),
		    cf_cli_jstr(e, "draft", "?"));
		print_ids(" by", json_object_get(e, "reasons"));
	}
}

int
cf_cmd_policy_replay(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "draft", required_argument, NULL, 'D' },
		{ "ns", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'L' },
		{ "examples", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct replay_opts	 x = { NULL, NULL, NULL, NULL, NULL };
	struct cf_schema	*sch = NULL;
	struct cf_validation	*v = NULL;
	struct cf_error		 err = { 0 };
	struct cf_buf		 stext;
	json_t			*body = NULL, *sets = NULL;
	char			**files = NULL, *text, name[128];
	size_t			 nfiles = 0, i;
	uint64_t		 u;
	int64_t			 since = 0;
	bool			 bad = false;
	char			**ops;
	int			 nops, ex;

	cf_buf_init(&stext, 1u << 20);
	ex = cf_cli_parse(argc, argv, replay_usage, CF_CLI_COMMON_SHORTOPTS,
	    lo, replay_opt, &x, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		goto out;
	ex = CF_EXIT_USAGE;
	if (x.draft == NULL) {
		cf_cli_errx("policy replay: --draft is required");
		goto out;
	}
	if (x.since != NULL && (since = parse_duration(x.since)) < 0) {
		cf_cli_errx("policy replay: --since takes N[smhd]");
		goto out;
	}
	body = json_pack("{s:I}", "since_s", (json_int_t)since);
	sets = json_array();
	if (body == NULL || sets == NULL ||
	    json_object_set(body, "sets", sets) != 0) {
		ex = CF_EXIT_FAIL;
		goto out;
	}
	if (x.limit != NULL) {
		if (cf_parse_u64(x.limit, 1, 100000, &u, NULL) != CF_OK) {
			cf_cli_errx("policy replay: --limit takes 1-100000");
			goto out;
		}
		(void)json_object_set_new(body, "limit", json_integer(
		    (json_int_t)u));
	}
	if (x.examples != NULL) {
		if (cf_parse_u64(x.examples, 0, 100, &u, NULL) != CF_OK) {
			cf_cli_errx("policy replay: --examples takes 0-100");
			goto out;
		}
		(void)json_object_set_new(body, "examples", json_integer(
		    (json_int_t)u));
	}
	ex = CF_EXIT_FAIL;
	if (draft_files(x.draft, &files, &nfiles, &err) != CF_OK ||
	    cf_core_policy_schema(&stext, &err) != CF_OK ||
	    cf_schema_parse(stext.data, stext.len, &sch, &err) != CF_OK ||
	    cf_validation_new(&v, &err) != CF_OK) {
		cf_cli_errx("policy replay: %s", err.msg);
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		text = NULL;
		if (draft_check(files[i], sch, v, &text, &bad, &err) !=
		    CF_OK) {
			cf_cli_errx("policy replay: %s", err.msg);
			goto out;
		}
		set_name(files[i], name, sizeof(name));
		if (json_array_append_new(sets, json_pack("{s:s, s:o, s:s}",
		    "name", name, "ns", x.ns != NULL ? json_string(x.ns) :
		    json_null(), "text", text)) != 0) {
			cf_free(text);
			cf_cli_errx("policy replay: %s is not valid UTF-8",
			    files[i]);
			goto out;
		}
		cf_free(text);
	}
	if (bad) {
		cf_cli_errx("policy replay: the draft does not validate "
		    "against Coffer's schema (coffer policy schema); nothing "
		    "was replayed");
		goto out;
	}
	ex = run_json(&o, "POST", "/v1/replay", body, pr_replay);
out:
	for (i = 0; i < nfiles; i++)
		cf_free(files[i]);
	cf_free(files);
	cf_validation_free(v);
	cf_schema_free(sch);
	cf_buf_free(&stext);
	json_decref(sets);
	json_decref(body);
	return ex;
}
