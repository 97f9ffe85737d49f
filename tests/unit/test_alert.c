/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_alert.c: alert rules (core/alert.h): the rules file,
 * matching audit records with windows on an injected clock (nothing
 * sleeps), bounded tracking, the shipped example file, and what an
 * alert says (JSON, syslog line, webhook signature). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "core/alert.h"

#define SRC_ROOT	CF_TEST_DATA "/../.."
#define S		1000000LL	/* a second, in microseconds */

static char	secret_path[64];

static int
setup(void **state)
{
	int	fd;

	(void)state;
	(void)snprintf(secret_path, sizeof(secret_path),
	    "/tmp/cf-test-alert-XXXXXX");
	fd = mkstemp(secret_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef-secret\n", 24), 24);
	(void)close(fd);
	assert_int_equal(chmod(secret_path, 0600), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(secret_path);
	return 0;
}

static struct cf_alerts *
parse_ok(const char *text)
{
	struct cf_alerts	*a = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	if (cf_alerts_parse("t.conf", text, strlen(text), &a, &err) != CF_OK)
		fail_msg("parse: %s", err.msg);
	return a;
}

static void
parse_bad(const char *text, const char *want)
{
	struct cf_alerts	*a = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	assert_int_not_equal(cf_alerts_parse("t.conf", text, strlen(text), &a,
	    &err), CF_OK);
	assert_null(a);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
}

static struct cf_audit_rec
rec(const char *principal, const char *action, const char *decision,
    int status, const char *result, uint64_t bytes)
{
	struct cf_audit_rec	r;

	memset(&r, 0, sizeof(r));
	r.request_id = "0123456789abcdef0123456789abcdef";
	r.principal = principal;
	r.authn = "token";
	r.source = "192.0.2.7";
	r.action = action;
	r.resource = "ns/x";
	r.decision = decision;
	r.reasons = "";
	r.status = status;
	r.result = result;
	r.bytes = bytes;
	return r;
}

static size_t
feed(struct cf_alerts *a, const struct cf_audit_rec *r, int64_t now,
    struct cf_alert_fire *f)
{
	size_t	n;

	cf_alerts_match(a, r, now, f, 4, &n, NULL);
	return n;
}

static void
test_alert_parse_errors(void **state)
{
	(void)state;
	parse_bad("rule r1 decision=deny\n", "needs sinks=");
	parse_bad("rule r1 sinks=nope\n", "no sink \"nope\"");
	parse_bad("sink s syslog\nrule r1 sinks=s colour=red\n",
	    "t.conf:2: rule r1: colour: unknown key");
	parse_bad("sink s syslog\nrule r1 sinks=s decision=maybe\n",
	    "allow or deny");
	parse_bad("sink s syslog\nrule r1 sinks=s status=999\n",
	    "expected codes");
	parse_bad("sink s syslog\nrule r1 sinks=s count=0\n",
	    "expected a number");
	parse_bad("sink s syslog\nsink s syslog\n", "defined twice");
	parse_bad("sink s email to=x\n", "e-mail is not offered");
	parse_bad("sink Bad syslog\n", "a name is");
	parse_bad("sink w webhook url=http://x/ secret_file=/x\n",
	    "must be https://");
	parse_bad("sink w webhook url=https://x/\n", "needs secret_file=");
	parse_bad("sink w webhook url=https://x/ secret_file=/nonexistent\n",
	    "secret_file /nonexistent");
	parse_bad("sink s syslog\nrule r1 sinks=s reason=\"open\n",
	    "unterminated quote");
	parse_bad("bogus x\n", "expected \"rule\" or \"sink\"");
}

/* SEC: a secret others can read is refused. */
static void
test_alert_secret_mode(void **state)
{
	char	text[256];

	(void)state;
	(void)snprintf(text, sizeof(text), "sink w webhook url=https://x/ "
	    "secret_file=%s\n", secret_path);
	assert_int_equal(chmod(secret_path, 0644), 0);
	parse_bad(text, "readable by group or others");
	assert_int_equal(chmod(secret_path, 0600), 0);
	cf_alerts_free(parse_ok(text));
}

/* Many denials: five by one principal within 60 s fire once; more in the
 * same window do not; after the window a new one counts from zero. */
static void
test_alert_window_fires_once(void **state)
{
	struct cf_alerts	*a;
	struct cf_alert_fire	 f[4];
	struct cf_audit_rec	 d = rec("alice", "object:get", "deny", 403,
	    "forbidden", 0);
	struct cf_audit_rec	 ok = rec("alice", "object:get", "allow", 200,
	    "ok", 0);
	struct cf_audit_rec	 bob = rec("bob", "object:get", "deny", 403,
	    "forbidden", 0);
	int64_t			 t0 = 1000 * S;
	int			 i;

	(void)state;
	a = parse_ok("sink s syslog\n"
	    "rule denials sinks=s decision=deny status=4xx count=5 \\\n"
	    "    window=60 by=principal\n");
	for (i = 0; i < 4; i++)
		assert_int_equal(feed(a, &d, t0 + i * S, f), 0);
	assert_int_equal(feed(a, &ok, t0 + 4 * S, f), 0);	/* no match */
	assert_int_equal(feed(a, &bob, t0 + 4 * S, f), 0);	/* own key */
	assert_int_equal(feed(a, &d, t0 + 5 * S, f), 1);
	assert_int_equal(f[0].rule, 0);
	assert_int_equal(f[0].count, 5);
	assert_string_equal(f[0].key, "alice");
	assert_string_equal(f[0].trigger.principal, "alice");
	assert_int_equal(f[0].trigger.status, 403);
	for (i = 6; i < 20; i++)
		assert_int_equal(feed(a, &d, t0 + i * S, f), 0);
	/* The window (opened at t0) is over at t0 + 60 s. */
	for (i = 0; i < 4; i++)
		assert_int_equal(feed(a, &d, t0 + (60 + i) * S, f), 0);
	assert_int_equal(feed(a, &d, t0 + 64 * S, f), 1);
	assert_int_equal(cf_alerts_tracked(a, 0), 2);
	cf_alerts_free(a);
}

/* Bulk download: bytes add up per principal; count= alongside fires on
 * whichever comes first. */
static void
test_alert_bytes_threshold(void **state)
{
	struct cf_alerts	*a;
	struct cf_alert_fire	 f[4];
	struct cf_audit_rec	 g = rec("carol", "object:get", "allow", 200,
	    "ok", 400);
	struct cf_audit_rec	 h = rec("dave", "object:get", "allow", 200,
	    "ok", 1);

	(void)state;
	a = parse_ok("sink s syslog\n"
	    "rule bulk sinks=s action=object:get,artifact:get "
	    "decision=allow bytes=1000 count=3 window=3600\n");
	assert_int_equal(feed(a, &g, 10 * S, f), 0);
	assert_int_equal(feed(a, &g, 11 * S, f), 0);
	assert_int_equal(feed(a, &g, 12 * S, f), 1);	/* 1200 bytes */
	assert_int_equal(f[0].bytes, 1200);
	assert_int_equal(feed(a, &h, 12 * S, f), 0);
	assert_int_equal(feed(a, &h, 13 * S, f), 0);
	assert_int_equal(feed(a, &h, 14 * S, f), 1);	/* 3 objects */
	assert_int_equal(f[0].count, 3);
	cf_alerts_free(a);
}

/* Without a threshold every match fires; alert records never match. */
static void
test_alert_every_match_and_no_loop(void **state)
{
	struct cf_alerts	*a;
	struct cf_alert_fire	 f[4];
	struct cf_audit_rec	 p = rec("admin", "policy:set", "allow", 201,
	    "ok", 0);
	struct cf_audit_rec	 self = rec("system", CF_ALERT_ACTION,
	    "allow", 0, "ok", 0);
	struct cf_audit_rec	 bg = rec("eve", "breakglass:open", "allow",
	    200, "ok", 0);

	(void)state;
	a = parse_ok("sink s syslog\n"
	    "rule policy sinks=s action=policy:set,policy:rm status=2xx\n"
	    "rule glass sinks=s action=breakglass:open severity=critical\n"
	    "rule everything sinks=s\n");
	assert_int_equal(feed(a, &p, S, f), 2);
	assert_int_equal(f[0].rule, 0);
	assert_int_equal(f[1].rule, 2);
	assert_int_equal(feed(a, &p, S, f), 2);
	/* An action the registry does not know (yet) matches by name. */
	assert_int_equal(feed(a, &bg, S, f), 2);
	assert_int_equal(f[0].rule, 1);
	assert_int_equal(cf_alerts_rule_severity(a, 1), CF_ALERT_CRITICAL);
	/* SEC: an alert's own record fires nothing, not even "all". */
	assert_int_equal(feed(a, &self, S, f), 0);
	cf_alerts_free(a);
}

/* Admin actions refused for want of MFA; reasons globs (lockouts). */
static void
test_alert_admin_and_reason(void **state)
{
	struct cf_alerts	*a;
	struct cf_alert_fire	 f[4];
	struct cf_audit_rec	 adm = rec("ann", "user:create", "deny", 401,
	    "mfa_required", 0);
	struct cf_audit_rec	 rd = rec("ann", "object:get", "deny", 401,
	    "mfa_required", 0);
	struct cf_audit_rec	 lock = rec("", "session:login", "deny", 401,
	    "invalid_credentials", 0);

	(void)state;
	a = parse_ok("sink s syslog\n"
	    "rule nomfa sinks=s admin=yes result=mfa_required\n"
	    "rule lockout sinks=s action=session:login "
	    "reason=\"*; locked *\"\n");
	assert_int_equal(feed(a, &adm, S, f), 1);
	assert_int_equal(f[0].rule, 0);
	assert_int_equal(feed(a, &rd, S, f), 0);
	lock.reasons = "bad password";
	assert_int_equal(feed(a, &lock, S, f), 0);
	lock.reasons = "bad password; locked user";
	assert_int_equal(feed(a, &lock, S, f), 1);
	assert_int_equal(f[0].rule, 1);
	cf_alerts_free(a);
}

/* SEC: memory is bounded: max_keys windows per rule, the least recently
 * seen forgotten first. */
static void
test_alert_bounded_keys(void **state)
{
	struct cf_alerts	*a;
	struct cf_alert_fire	 f[4];
	struct cf_audit_rec	 r = rec("", "object:get", "deny", 403,
	    "forbidden", 0);
	char			 name[32];
	int			 i;

	(void)state;
	a = parse_ok("sink s syslog\n"
	    "rule d sinks=s decision=deny count=2 window=600 max_keys=4\n");
	r.principal = "p0";
	assert_int_equal(feed(a, &r, 1 * S, f), 0);
	for (i = 1; i <= 3; i++) {
		(void)snprintf(name, sizeof(name), "p%d", i);
		r.principal = name;
		assert_int_equal(feed(a, &r, (1 + i) * S, f), 0);
	}
	r.principal = "p0";			/* p0 is now the newest */
	assert_int_equal(feed(a, &r, 5 * S, f), 1);
	for (i = 4; i < 100; i++) {
		(void)snprintf(name, sizeof(name), "p%d", i);
		r.principal = name;
		assert_int_equal(feed(a, &r, (10 + i) * S, f), 0);
		assert_true(cf_alerts_tracked(a, 0) <= 4);
	}
	/* p99 is tracked (one denial so far); p1 was forgotten. */
	r.principal = "p99";
	assert_int_equal(feed(a, &r, 200 * S, f), 1);
	r.principal = "p1";
	assert_int_equal(feed(a, &r, 201 * S, f), 0);
	cf_alerts_free(a);
}

/* The shipped example (docs/examples/alerts.conf) parses and names every
 * example the docs promise. */
static void
test_alert_example_file(void **state)
{
	static const char *const want[] = { "break-glass-used",
	    "admin-without-mfa", "bulk-download", "many-denials",
	    "login-lockout", "policy-changed", "key-rotated", "erasure" };
	struct cf_alerts	*a;
	FILE			*fp;
	char			 buf[16384], *p, out[20000];
	size_t			 n, i;
	const char		*tag = "/etc/coffer/alert-webhook.secret";

	(void)state;
	fp = fopen(SRC_ROOT "/docs/examples/alerts.conf", "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	(void)fclose(fp);
	buf[n] = '\0';
	p = strstr(buf, tag);
	assert_non_null(p);
	*p = '\0';
	(void)snprintf(out, sizeof(out), "%s%s%s", buf, secret_path,
	    p + strlen(tag));
	a = parse_ok(out);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (cf_alerts_find(a, want[i]) < 0)
			fail_msg("example rule %s missing", want[i]);
	assert_int_equal(cf_alerts_nsinks(a), 2);
	cf_alerts_free(a);
}

static void
test_alert_formats(void **state)
{
	struct cf_alerts	*a;
	struct cf_alert_fire	 f[4];
	struct cf_audit_rec	 r = rec("mallory\n", "object:get", "deny",
	    403, "forbidden", 0);
	char			 text[256], line[2048], sig[72];
	json_t			*j;

	(void)state;
	(void)snprintf(text, sizeof(text), "sink s syslog facility=local3\n"
	    "sink w webhook url=https://h.test/x secret_file=%s\n"
	    "rule r sinks=s,w severity=critical\n", secret_path);
	a = parse_ok(text);
	r.resource = "ns/x/objects/a\" forged=1";
	assert_int_equal(feed(a, &r, 5 * S, f), 1);
	cf_alert_syslog_line(a, &f[0], "ffff", false, line, sizeof(line));
	/* SEC: one line; quotes and control bytes escaped. */
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "alert=r severity=critical id=ffff"));
	assert_non_null(strstr(line, "principal=\"mallory\\x0a\""));
	assert_non_null(strstr(line, "a\\x22 forged=1\""));
	assert_int_equal(cf_alert_syslog_pri(cf_alerts_sink(a, 0),
	    CF_ALERT_CRITICAL), LOG_LOCAL3 | LOG_CRIT);
	j = cf_alert_json(a, &f[0], "ffff", true, 5 * S);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "alert")),
	    "r");
	assert_true(json_is_true(json_object_get(j, "test")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "trigger"), "principal")), "mallory\n");
	json_decref(j);
	/* HMAC-SHA256 of the body under the secret (without its newline),
	 * as Python's hmac computes it. */
	assert_int_equal(cf_alert_signature(cf_alerts_sink(a, 1), "{\"a\":1}",
	    7, sig, NULL), CF_OK);
	assert_string_equal(sig, "sha256=f1de0b1f536cd482111880e061b09812d2"
	    "1bc2ba2051cee7add407db82395ae9");
	cf_alerts_free(a);
}

/* Every allocation failure of the parser is handled and leak-free. */
static void
test_alert_parse_alloc_failures(void **state)
{
	struct cf_alerts	*a = NULL;
	char			 text[256];
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	(void)snprintf(text, sizeof(text), "sink w webhook url=https://h/ "
	    "secret_file=%s\nrule r sinks=w count=3\n", secret_path);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_alerts_parse("t", text, strlen(text), &a, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(a);
	}
	cf_alerts_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_parse_errors),
		cmocka_unit_test(test_alert_secret_mode),
		cmocka_unit_test(test_alert_window_fires_once),
		cmocka_unit_test(test_alert_bytes_threshold),
		cmocka_unit_test(test_alert_every_match_and_no_loop),
		cmocka_unit_test(test_alert_admin_and_reason),
		cmocka_unit_test(test_alert_bounded_keys),
		cmocka_unit_test(test_alert_example_file),
		cmocka_unit_test(test_alert_formats),
		cmocka_unit_test(test_alert_parse_alloc_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
