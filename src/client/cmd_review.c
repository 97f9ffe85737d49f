/* src/client/cmd_review.c: `coffer review`: access review campaigns
 * (start, ls, show, decide, report) and the offline check of a signed
 * report (verify) (docs/cli.md, docs/reviews.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "crypto/sign.h"

#define RV_OPT_NS	0x321
#define RV_OPT_ALL	0x322
#define RV_OPT_REVIEWER	0x323
#define RV_OPT_DUE	0x324
#define RV_OPT_TIMEOUT	0x325
#define RV_OPT_NOTE	0x326
#define RV_OPT_KEY	0x327
#define RV_OPT_KEYFILE	0x328
#define RV_OPT_OUT	0x329
#define RV_DUE_MAX	(366 * 86400ULL)

static const char rv_usage[] =
    "usage: coffer review start (--ns NS | --all) [--reviewer P] [--due DUR]\n"
    "                           [--on-timeout revoke|escalate] [--json]\n"
    "       coffer review ls [--json]\n"
    "       coffer review show ID [--json]\n"
    "       coffer review decide ID ITEM keep|revoke [--note TEXT] [--json]\n"
    "       coffer review report ID [--out FILE] [--json]\n"
    "       coffer review verify REPORT_FILE [--key HEX | --key-file FILE]\n"
    "\n"
    "start   a campaign listing every principal's access to NS (or to\n"
    "        every namespace), each grant an item with its last use;\n"
    "        due in DUR (default 30d), then unanswered items are revoked\n"
    "        or escalated to an admin (default escalate).  Admin.\n"
    "decide  keep or revoke item ITEM (revoke removes the binding or\n"
    "        takes the policy set out of force).  Never one's own access.\n"
    "report  the campaign's result, signed by the server (--out FILE);\n"
    "verify  checks a report offline against --key, --key-file, else the\n"
    "        server's key (coffer erase key).\n";

struct rv_opts {
	const char	*ns, *reviewer, *due, *timeout, *note, *key;
	const char	*key_file, *out;
	bool		 all;
};

static bool
rv_opt(void *arg, int ch, char *val)
{
	struct rv_opts	*p = arg;

	switch (ch) {
	case RV_OPT_NS:
		p->ns = val;
		return true;
	case RV_OPT_ALL:
		p->all = true;
		return true;
	case RV_OPT_REVIEWER:
		p->reviewer = val;
		return true;
	case RV_OPT_DUE:
		p->due = val;
		return true;
	case RV_OPT_TIMEOUT:
		p->timeout = val;
		return true;
	case RV_OPT_NOTE:
		p->note = val;
		return true;
	case RV_OPT_KEY:
		p->key = val;
		return true;
	case RV_OPT_KEYFILE:
		p->key_file = val;
		return true;
	case RV_OPT_OUT:
		p->out = val;
		return true;
	}
	return false;
}

static void
print_review(const json_t *v)
{
	char	id[64], ns[128], rv[128], when[24];

	cf_cli_sanitize(cf_cli_jstr(v, "id", "?"), id, sizeof(id));
	cf_cli_sanitize(cf_cli_jstr(v, "ns", "(all)"), ns, sizeof(ns));
	cf_cli_sanitize(cf_cli_jstr(v, "reviewer", "?"), rv, sizeof(rv));
	cf_cli_fmt_time(cf_cli_jstr(v, "due", "-"), when, sizeof(when));
	(void)printf("%s  %-24s reviewer %-16s due %s%s\n", id, ns, rv, when,
	    json_is_true(json_object_get(v, "due_passed")) ? " (passed)" :
	    "");
}

static void
print_item(const json_t *it)
{
	char		 p[128], g[160], ns[128], st[32], when[24], rv[128];
	char		 out[300];
	const char	*role = cf_cli_jstr(it, "role", NULL);

	cf_cli_sanitize(cf_cli_jstr(it, "principal", "?"), p, sizeof(p));
	cf_cli_sanitize(role != NULL ? role : cf_cli_jstr(it, "policy", "?"),
	    g, sizeof(g));
	cf_cli_sanitize(cf_cli_jstr(it, "ns", "(global)"), ns, sizeof(ns));
	cf_cli_sanitize(cf_cli_jstr(it, "state", "?"), st, sizeof(st));
	cf_cli_sanitize(cf_cli_jstr(it, "reviewer", ""), rv, sizeof(rv));
	cf_cli_sanitize(cf_cli_jstr(it, "outcome", ""), out, sizeof(out));
	cf_cli_fmt_time(cf_cli_jstr(it, "last_used", "never"), when,
	    sizeof(when));
	(void)printf("%4lld  %-8s %-20s %-7s %-14s %-20s last used %-19s "
	    "reviewer %s%s%s%s%s\n", (long long)json_integer_value(
	    json_object_get(it, "n")), st, p, role != NULL ? "role" :
	    "policy", g, ns, when, rv[0] != '\0' ? rv : "(any admin)",
	    json_is_true(json_object_get(it, "escalated")) ? " ESCALATED" :
	    "", json_is_true(json_object_get(it, "changed")) ?
	    " (changed since the start)" : "", out[0] != '\0' ? "  " : "",
	    out);
}

static void
print_campaign(const json_t *v)
{
	const json_t	*s = json_object_get(v, "summary");
	json_t		*it;
	size_t		 i;

	print_review(v);
	(void)printf("items %lld: open %lld, kept %lld, revoked %lld, gone "
	    "%lld, escalated %lld\n",
	    (long long)json_integer_value(json_object_get(s, "items")),
	    (long long)json_integer_value(json_object_get(s, "open")),
	    (long long)json_integer_value(json_object_get(s, "kept")),
	    (long long)json_integer_value(json_object_get(s, "revoked")),
	    (long long)json_integer_value(json_object_get(s, "gone")),
	    (long long)json_integer_value(json_object_get(s, "escalated")));
	json_array_foreach(json_object_get(v, "items"), i, it)
		print_item(it);
}

static cf_err
write_file(const char *path, const json_t *v, struct cf_error *err)
{
	FILE	*fp;
	char	*txt;
	size_t	 n;
	int	 r;

	txt = cf_json_dumps_flags(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (txt == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	fp = fopen(path, "w");
	if (fp == NULL) {
		cf_json_free(txt);
		return cf_error_sys(err, CF_E_IO, "create %s", path);
	}
	n = strlen(txt);
	r = fwrite(txt, 1, n, fp) == n && fputc('\n', fp) != EOF ? 0 : -1;
	cf_json_free(txt);
	if (fclose(fp) != 0 || r != 0)
		return cf_error_sys(err, CF_E_IO, "write %s", path);
	return CF_OK;
}

static int
review_verify(const struct cf_cli_opts *o, const struct rv_opts *p,
    const char *file)
{
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	json_t			*doc = NULL, *rep;
	char			 id[64];
	int			 ex;
	cf_err			 rc;

	rc = cf_cli_verify_signed(o, &s, p->key, p->key_file, file,
	    CF_REVIEW_REPORT_CONTEXT, "report", &doc, &err);
	if (rc == CF_OK && !o->quiet) {
		rep = json_object_get(doc, "report");
		cf_cli_sanitize(cf_cli_jstr(rep, "id", ""), id, sizeof(id));
		(void)printf("report of access review %s verifies: %lld items, "
		    "%lld revoked, %lld open%s\n", id,
		    (long long)json_integer_value(json_object_get(
		    json_object_get(rep, "summary"), "items")),
		    (long long)json_integer_value(json_object_get(
		    json_object_get(rep, "summary"), "revoked")),
		    (long long)json_integer_value(json_object_get(
		    json_object_get(rep, "summary"), "open")),
		    json_is_true(json_object_get(rep, "complete")) ? "" :
		    " (not complete when signed)");
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(doc);
	cf_cli_sess_close(&s);
	return ex;
}

int
cf_cmd_review(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "ns", required_argument, NULL, RV_OPT_NS },
		{ "all", no_argument, NULL, RV_OPT_ALL },
		{ "reviewer", required_argument, NULL, RV_OPT_REVIEWER },
		{ "due", required_argument, NULL, RV_OPT_DUE },
		{ "on-timeout", required_argument, NULL, RV_OPT_TIMEOUT },
		{ "note", required_argument, NULL, RV_OPT_NOTE },
		{ "key", required_argument, NULL, RV_OPT_KEY },
		{ "key-file", required_argument, NULL, RV_OPT_KEYFILE },
		{ "out", required_argument, NULL, RV_OPT_OUT },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	struct rv_opts		 p;
	struct cf_buf		 url;
	const char		*sub, *method = "GET";
	char			**ops;
	json_t			*body = NULL, *v = NULL, *e;
	uint64_t		 secs = 30 * 86400ULL, item = 0;
	size_t			 i;
	int			 nops, ex, nmin, nmax;
	cf_err			 rc = CF_OK;

	memset(&p, 0, sizeof(p));
	cf_buf_init(&url, 4096);
	if (argc < 2 || argv[1][0] == '-') {
		ex = cf_cli_parse(argc, argv, rv_usage,
		    CF_CLI_COMMON_SHORTOPTS, lo, rv_opt, &p, 1, 1, &o, &ops,
		    &nops);
		goto out;
	}
	sub = argv[1];
	nmin = nmax = 0;
	if (strcmp(sub, "show") == 0 || strcmp(sub, "report") == 0 ||
	    strcmp(sub, "verify") == 0)
		nmin = nmax = 1;
	else if (strcmp(sub, "decide") == 0)
		nmin = nmax = 3;
	else if (strcmp(sub, "start") != 0 && strcmp(sub, "ls") != 0 &&
	    strcmp(sub, "list") != 0) {
		cf_cli_errx("review: unknown subcommand \"%s\"", sub);
		(void)fputs(rv_usage, stderr);
		ex = CF_EXIT_USAGE;
		goto out;
	}
	ex = cf_cli_parse(argc - 1, argv + 1, rv_usage,
	    CF_CLI_COMMON_SHORTOPTS, lo, rv_opt, &p, nmin, nmax, &o, &ops,
	    &nops);
	if (ex >= 0)
		goto out;
	if (strcmp(sub, "verify") == 0) {
		ex = review_verify(&o, &p, ops[0]);
		goto out;
	}
	ex = CF_EXIT_USAGE;
	if (strcmp(sub, "start") == 0) {
		if ((p.ns != NULL) == p.all) {
			cf_cli_errx("review start: give --ns NS or --all");
			goto out;
		}
		if (p.due != NULL && (cf_parse_duration(p.due, RV_DUE_MAX,
		    &secs, &err) != CF_OK || secs == 0)) {
			cf_cli_errx("review start: --due %s: use e.g. 14d, "
			    "36h (at most 366d)", p.due);
			goto out;
		}
		if (p.timeout != NULL && strcmp(p.timeout, "revoke") != 0 &&
		    strcmp(p.timeout, "escalate") != 0) {
			cf_cli_errx("review start: --on-timeout is revoke or "
			    "escalate");
			goto out;
		}
		body = json_pack("{s:I, s:s*, s:s*, s:s*}", "due_s",
		    (json_int_t)secs, "ns", p.ns, "reviewer", p.reviewer,
		    "on_timeout", p.timeout);
		if (body != NULL && p.all && json_object_set_new(body, "all",
		    json_true()) != 0)
			rc = cf_error_set(&err, CF_E_NOMEM, "out of memory");
		method = "POST";
		if (rc == CF_OK)
			rc = cf_buf_append_str(&url, "/v1/reviews", &err);
	} else if (strcmp(sub, "decide") == 0) {
		if (cf_parse_u64(ops[1], 1, 1000000, &item, &err) != CF_OK ||
		    (strcmp(ops[2], "keep") != 0 &&
		    strcmp(ops[2], "revoke") != 0)) {
			cf_cli_errx("review decide: ITEM is an item number, "
			    "then keep or revoke");
			goto out;
		}
		body = json_pack("{s:I, s:s, s:s*}", "item", (json_int_t)item,
		    "decision", ops[2], "note", p.note);
		method = "POST";
		rc = cf_buf_append_str(&url, "/v1/reviews/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[0], false, &err);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&url, "/decisions", &err);
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "report") == 0) {
		rc = cf_buf_append_str(&url, "/v1/reviews/", &err);
		if (rc == CF_OK)
			rc = cf_cli_urlenc(&url, ops[0], false, &err);
		if (rc == CF_OK && strcmp(sub, "report") == 0)
			rc = cf_buf_append_str(&url, "/report", &err);
	} else
		rc = cf_buf_append_str(&url, "/v1/reviews", &err);
	if (strcmp(method, "POST") == 0 && body == NULL && rc == CF_OK) {
		cf_cli_errx("review: arguments must be UTF-8 text");
		ex = CF_EXIT_INPUT;
		goto out;
	}
	if (rc == CF_OK)
		rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK)
		rc = cf_http_json(s.h, method, url.data, body, &v, &err);
	if (rc == CF_OK && strcmp(sub, "report") == 0 && p.out != NULL) {
		rc = write_file(p.out, v, &err);
		if (rc == CF_OK && !o.quiet && !o.json)
			(void)printf("signed report written to %s\n", p.out);
	} else if (rc == CF_OK && (o.json || strcmp(sub, "report") == 0))
		cf_cli_print_json(v);
	else if (rc == CF_OK && o.quiet)
		;
	else if (rc == CF_OK && strcmp(sub, "show") == 0)
		print_campaign(v);
	else if (rc == CF_OK && strcmp(sub, "decide") == 0)
		print_item(v);
	else if (rc == CF_OK && strcmp(sub, "start") == 0) {
		print_review(v);
		(void)printf("%lld items to review\n",
		    (long long)json_integer_value(json_object_get(v,
		    "items")));
	} else if (rc == CF_OK)
		json_array_foreach(json_object_get(v, "reviews"), i, e)
			print_review(e);
	ex = cf_cli_finish(&s, rc, &err);
out:
	json_decref(body);
	json_decref(v);
	cf_buf_free(&url);
	cf_cli_sess_close(&s);
	return ex;
}
