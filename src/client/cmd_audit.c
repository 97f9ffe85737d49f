/* src/client/cmd_audit.c: `coffer audit tail` (from the server) and
 * `coffer audit verify` (offline, on a data directory). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/mem.h"
#include "base/str.h"
#include "client/client.h"
#include "client/client_int.h"
#include "core/datadir.h"
#include "crypto/crypto.h"

/* -n: beyond one API page (CF_AUDIT_PAGE_MAX) the records are fetched
 * in pages with after=; this bounds how long that may take. */
#define TAIL_MAX	1000000

static const char audit_usage[] =
    "usage: coffer audit tail [-n N] [--json]\n"
    "       coffer audit verify --data DIR [--json]\n"
    "\n"
    "tail    print the last N (default 20, at most 1000000) audit records\n"
    "        from the server, oldest first, one line each (--json: the\n"
    "        records as JSON lines).  Needs the admin role.\n"
    "verify  check the hash chain and checkpoint of the audit log in the\n"
    "        data directory DIR, offline (no server needed; the server may\n"
    "        be running).  Reads the master key from where `coffer\n"
    "        master-key path` says (asking the passphrase of a sealed\n"
    "        one).  Prints \"OK: N records verified\" or\n"
    "        \"FAILED at record S: reason\" (exit code 7).\n";

static bool
tail_opt(void *arg, int ch, char *val)
{
	uint64_t	*n = arg;
	struct cf_error	 err = { 0 };

	if (ch != 'n')
		return false;
	if (cf_parse_u64(val, 1, TAIL_MAX, n, &err) != CF_OK) {
		cf_cli_errx("audit tail: -n %s: %s", val, err.msg);
		return false;
	}
	return true;
}

static void
print_record(const json_t *r)
{
	char	t[24], p[128], src[64], act[64], res[512], dec[16], reas[128];
	char	result[64];

	cf_cli_fmt_time(cf_cli_jstr(r, "time", "-"), t, sizeof(t));
	cf_cli_sanitize(cf_cli_jstr(r, "principal", ""), p, sizeof(p));
	if (p[0] == '\0')
		(void)snprintf(p, sizeof(p), "-");
	cf_cli_sanitize(cf_cli_jstr(r, "source", "-"), src, sizeof(src));
	cf_cli_sanitize(cf_cli_jstr(r, "action", "-"), act, sizeof(act));
	cf_cli_sanitize(cf_cli_jstr(r, "resource", "-"), res, sizeof(res));
	cf_cli_sanitize(cf_cli_jstr(r, "decision", "-"), dec, sizeof(dec));
	cf_cli_sanitize(cf_cli_jstr(r, "reasons", ""), reas, sizeof(reas));
	cf_cli_sanitize(cf_cli_jstr(r, "result", "-"), result,
	    sizeof(result));
	(void)printf("%6lld %s %-12s %-15s %-16s %-5s %3lld %-16s %s%s%s\n",
	    (long long)json_integer_value(json_object_get(r, "seq")), t, p,
	    src, act, dec, (long long)json_integer_value(json_object_get(r,
	    "status")), result, res, reas[0] != '\0' ? "  by " : "", reas);
}

static void
print_records(json_t *v, bool json, uint64_t upto, uint64_t *last)
{
	json_t	*r;
	size_t	 i;
	int64_t	 seq;

	json_array_foreach(json_object_get(v, "records"), i, r) {
		seq = json_integer_value(json_object_get(r, "seq"));
		if (seq <= 0 || (upto > 0 && (uint64_t)seq > upto))
			break;
		*last = (uint64_t)seq;
		if (json)
			cf_cli_print_json(r);
		else
			print_record(r);
	}
}

/* More than one page: find the last record now, then read forward from
 * N records before it, a page at a time, up to it (records appended
 * meanwhile are not part of "the last N"). */
static cf_err
tail_paged(struct cf_cli_sess *s, uint64_t n, bool json,
    struct cf_error *err)
{
	json_t		*v = NULL, *r;
	char		 path[96];
	uint64_t	 end, from, last;
	cf_err		 rc;

	rc = cf_http_json(s->h, "GET", "/v1/audit?tail=1", NULL, &v, err);
	if (rc != CF_OK)
		return rc;
	r = json_array_get(json_object_get(v, "records"), 0);
	end = r != NULL ? (uint64_t)json_integer_value(json_object_get(r,
	    "seq")) : 0;
	json_decref(v);
	from = end > n ? end - n : 0;
	while (from < end) {
		(void)snprintf(path, sizeof(path),
		    "/v1/audit?after=%llu&limit=%d", (unsigned long long)from,
		    CF_AUDIT_PAGE_MAX);
		v = NULL;
		rc = cf_http_json(s->h, "GET", path, NULL, &v, err);
		if (rc != CF_OK)
			return rc;
		last = from;
		print_records(v, json, end, &last);
		json_decref(v);
		if (last == from)
			break;		/* nothing more (log rotated?) */
		from = last;
	}
	return CF_OK;
}

static int
audit_tail(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "lines", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_cli_sess	 s = { 0 };
	uint64_t		 n = 20, last = 0;
	char			**ops, path[64];
	json_t			*v = NULL;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, audit_usage, CF_CLI_COMMON_SHORTOPTS
	    "n:", lo, tail_opt, &n, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	(void)snprintf(path, sizeof(path), "/v1/audit?tail=%llu",
	    (unsigned long long)n);
	rc = cf_cli_sess_open(&o, true, &s, &err);
	if (rc == CF_OK && n > CF_AUDIT_PAGE_MAX)
		rc = tail_paged(&s, n, o.json, &err);
	else if (rc == CF_OK) {
		rc = cf_http_json(s.h, "GET", path, NULL, &v, &err);
		if (rc == CF_OK)
			print_records(v, o.json, 0, &last);
	}
	ex = cf_cli_finish(&s, rc, &err);
	json_decref(v);
	cf_cli_sess_close(&s);
	return ex;
}

static bool
data_opt(void *arg, int ch, char *val)
{
	const char	**dir = arg;

	if (ch != 'D')
		return false;
	*dir = val;
	return true;
}

/* "record 17: mac mismatch" -> "mac mismatch": the seq is printed
 * separately. */
static const char *
strip_record_prefix(const char *msg, uint64_t seq)
{
	char	pre[40];
	size_t	n;

	(void)snprintf(pre, sizeof(pre), "record %llu: ",
	    (unsigned long long)seq);
	n = strlen(pre);
	return strncmp(msg, pre, n) == 0 ? msg + n : msg;
}

static int
audit_verify(int argc, char **argv)
{
	static const struct option lo[] = {
		CF_CLI_COMMON_LONGOPTS,
		{ "data", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct cf_cli_opts	 o = { 0 };
	struct cf_error		 err = { 0 };
	struct cf_key		*master = NULL, *mac = NULL, *erase = NULL;
	const char		*dir = NULL, *why;
	char			**ops;
	uint64_t		 count = 0, bad = 0;
	char			 mkpath[4096];
	json_t			*v;
	int			 nops, ex;
	cf_err			 rc;

	ex = cf_cli_parse(argc, argv, audit_usage, CF_CLI_COMMON_SHORTOPTS
	    "D:", lo, data_opt, &dir, 0, 0, &o, &ops, &nops);
	if (ex >= 0)
		return ex;
	if (dir == NULL) {
		cf_cli_errx("audit verify: --data DIR is required");
		(void)fputs(audit_usage, stderr);
		return CF_EXIT_USAGE;
	}
	rc = cf_crypto_init(&err);
	if (rc == CF_OK)
		rc = cf_cli_master_key(dir, &master, mkpath, sizeof(mkpath),
		    &err);
	if (rc == CF_OK)
		rc = cf_dd_derived_keys(dir, master, &mac, &erase, &err);
	cf_key_free(erase);
	cf_key_free(master);
	master = NULL;
	if (rc != CF_OK) {
		cf_cli_errx("audit verify: %s", err.msg);
		ex = rc == CF_E_NOTFOUND ? CF_EXIT_NOTFOUND :
		    cf_cli_exit_for_err(rc);
		goto out;
	}
	/* cf_audit_verify takes the data directory and reads DIR/audit. */
	rc = cf_audit_verify(dir, mac, &count, &bad, &err);
	if (rc == CF_OK) {
		if (o.json) {
			v = json_pack("{s:b, s:I}", "ok", 1, "records",
			    (json_int_t)count);
			if (v != NULL)
				cf_cli_print_json(v);
			json_decref(v);
		} else
			(void)printf("OK: %llu records verified\n",
			    (unsigned long long)count);
		ex = CF_EXIT_OK;
	} else if (rc == CF_E_INTEGRITY) {
		why = strip_record_prefix(err.msg, bad);
		if (o.json) {
			v = json_pack("{s:b, s:I, s:s}", "ok", 0, "bad_record",
			    (json_int_t)bad, "reason", why);
			if (v != NULL)
				cf_cli_print_json(v);
			json_decref(v);
		} else
			(void)printf("FAILED at record %llu: %s\n",
			    (unsigned long long)bad, why);
		ex = CF_EXIT_INTEGRITY;
	} else {
		cf_cli_errx("audit verify: %s", err.msg);
		ex = cf_cli_exit_for_err(rc);
	}
out:
	cf_key_free(mac);
	return ex;
}

int
cf_cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "tail") == 0)
		return audit_tail(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		(void)fputs(audit_usage, stdout);
		return CF_EXIT_OK;
	}
	if (argc >= 2)
		cf_cli_errx("audit: unknown subcommand \"%s\"", argv[1]);
	(void)fputs(audit_usage, stderr);
	return CF_EXIT_USAGE;
}
