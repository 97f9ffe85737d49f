/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 *
 * tests/unit/test_s3_policy.c: the bucket policy compiler
 * (src/core/s3_policy.c): what maps, to which Cedar (validated against
 * Coffer's own schema), what is refused and how it is named, when a
 * change only takes access away, and every allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/json.h"
#include "base/mem.h"
#include "core/core.h"
#include "core/s3_policy.h"
#include "policy/policy.h"

static cf_err
lookup(void *arg, const char *name, const char **type, struct cf_error *err)
{
	(void)arg;
	if (strcmp(name, "alice") == 0 || strcmp(name, "bob") == 0) {
		*type = "User";
		return CF_OK;
	}
	if (strcmp(name, "ci") == 0) {
		*type = "Service";
		return CF_OK;
	}
	return cf_error_set(err, CF_E_NOTFOUND, "no such principal");
}

static struct cf_s3_policy *
compile_ok(const char *json)
{
	struct cf_s3_policy	*p = NULL;
	struct cf_error		 err;
	cf_err			 rc;

	cf_error_clear(&err);
	rc = cf_s3_policy_compile("data", json, strlen(json), lookup, NULL,
	    &p, &err);
	if (rc != CF_OK)
		fail_msg("compile: %s", err.msg);
	return p;
}

/* The compiled text parses and validates against Coffer's schema. */
static void
assert_valid(const struct cf_s3_policy *p)
{
	struct cf_buf		 sb;
	struct cf_schema	*s = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_validation	*v = NULL;
	const char		*t = cf_s3_policy_cedar(p);
	struct cf_error		 err;

	cf_error_clear(&err);
	cf_buf_init(&sb, 1 << 22);
	assert_int_equal(cf_core_policy_schema(&sb, &err), CF_OK);
	assert_int_equal(cf_schema_parse(sb.data, sb.len, &s, &err), CF_OK);
	if (cf_policy_set_parse(t, strlen(t), &ps, &err) != CF_OK)
		fail_msg("parse: %s\n%s", err.msg, t);
	assert_int_equal(cf_validation_new(&v, &err), CF_OK);
	assert_int_equal(cf_policy_validate(s, ps, v, &err), CF_OK);
	if (!cf_validation_ok(v))
		fail_msg("validate: %s: %s\n%s", cf_validation_error_policy(v,
		    0), cf_validation_error_msg(v, 0), t);
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(s);
	cf_buf_free(&sb);
}

static void
refused(const char *json, cf_err want, const char *needle)
{
	struct cf_s3_policy	*p = NULL;
	struct cf_error		 err;
	cf_err			 rc;

	cf_error_clear(&err);
	rc = cf_s3_policy_compile("data", json, strlen(json), lookup, NULL,
	    &p, &err);
	if (rc != want || strstr(err.msg, needle) == NULL)
		fail_msg("%s: want %d \"%s\", got %d \"%s\"", json, (int)want,
		    needle, (int)rc, err.msg);
	assert_null(p);
}

static const char deny_prefix[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"NoSecrets\","
    "\"Effect\":\"Deny\",\"Principal\":{\"AWS\":[\"arn:aws:iam:::user/"
    "alice\",\"coffer:service/ci\"]},\"Action\":\"s3:GetObject\","
    "\"Resource\":\"arn:aws:s3:::data/secret/*\"}]}";

static void
test_s3_policy_deny_prefix(void **state)
{
	struct cf_s3_policy	*p;
	const char		*t;
	char			*j = NULL;

	(void)state;
	p = compile_ok(deny_prefix);
	t = cf_s3_policy_cedar(p);
	assert_non_null(strstr(t, "@id(\"s3.NoSecrets.object\")\nforbid"));
	assert_non_null(strstr(t, "Action::\"object:get\", "
	    "Action::\"object:head\""));
	assert_non_null(strstr(t, "resource in Namespace::\"data\""));
	assert_non_null(strstr(t, "principal == User::\"alice\""));
	assert_non_null(strstr(t, "principal == Service::\"ci\""));
	assert_non_null(strstr(t, "resource.key like \"secret/*\""));
	assert_false(cf_s3_policy_permits(p));
	assert_valid(p);
	/* The JSON comes back from the stored text, compact. */
	assert_int_equal(cf_s3_policy_stored_json(t, strlen(t), &j, NULL),
	    CF_OK);
	assert_string_equal(j, cf_s3_policy_json(p));
	assert_string_equal(j, deny_prefix);
	cf_free(j);
	cf_s3_policy_free(p);
}

static void
test_s3_policy_conditions(void **state)
{
	struct cf_s3_policy	*p;
	const char		*t;

	(void)state;
	p = compile_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":"
	    "\"*\",\"Action\":[\"s3:Get*\",\"s3:ListBucket\"],\"Resource\":"
	    "[\"arn:aws:s3:::data\",\"arn:aws:s3:::data/*\"],\"Condition\":{"
	    "\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"::1\"]},"
	    "\"NotIpAddress\":{\"aws:SourceIp\":\"10.9.0.0/16\"},"
	    "\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"},"
	    "\"DateGreaterThan\":{\"aws:CurrentTime\":\"2020-01-01\"},"
	    "\"Bool\":{\"aws:SecureTransport\":\"true\"}}}}");
	t = cf_s3_policy_cedar(p);
	assert_non_null(strstr(t, "@id(\"s3.#0.object\")\npermit"));
	assert_non_null(strstr(t, "@id(\"s3.#0.bucket\")\npermit"));
	assert_non_null(strstr(t, "Action::\"object:list\", "
	    "Action::\"ns:get\""));
	assert_non_null(strstr(t, "context has source_ip && (context."
	    "source_ip.isInRange(ip(\"10.0.0.0/8\")) || context.source_ip."
	    "isInRange(ip(\"::1/128\")))"));
	assert_non_null(strstr(t, "!(context has source_ip && (context."
	    "source_ip.isInRange(ip(\"10.9.0.0/16\"))))"));
	assert_non_null(strstr(t, "context.time < datetime(\""
	    "2030-01-01T00:00:00Z\")"));
	assert_non_null(strstr(t, "context.time > datetime(\""
	    "2020-01-01T00:00:00Z\")"));
	assert_non_null(strstr(t, "when { true }"));
	/* Any authenticated principal: no principal clause. */
	assert_null(strstr(t, "principal =="));
	assert_null(strstr(t, "resource.key"));
	assert_true(cf_s3_policy_permits(p));
	assert_valid(p);
	cf_s3_policy_free(p);
}

static void
test_s3_policy_prefix_conditions(void **state)
{
	struct cf_s3_policy	*p;
	const char		*t;

	(void)state;
	p = compile_ok("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":"
	    "\"*\",\"Action\":[\"s3:ListBucket\",\"s3:ListBucketVersions\"],"
	    "\"Resource\":\"arn:aws:s3:::data\",\"Condition\":{\"StringLike\":"
	    "{\"s3:prefix\":[\"secret/*\",\"x\\\"y\"]}}},{\"Effect\":\"Allow\","
	    "\"Principal\":{\"AWS\":\"bob\"},\"Action\":\"s3:ListBucket\","
	    "\"Resource\":\"arn:aws:s3:::data\",\"Condition\":{"
	    "\"StringEquals\":{\"S3:Prefix\":\"home/bob/\"},"
	    "\"StringNotLike\":{\"s3:prefix\":\"home/bob/private*\"}}}]}");
	t = cf_s3_policy_cedar(p);
	assert_non_null(strstr(t, "when { context has op && context.op has "
	    "prefix && (context.op.prefix like \"secret/*\" || "
	    "context.op.prefix like \"x\\\"y\") }"));
	assert_non_null(strstr(t, "context.op.prefix == \"home/bob/\""));
	assert_non_null(strstr(t, "when { !(context has op && context.op has "
	    "prefix && (context.op.prefix like \"home/bob/private*\")) }"));
	assert_valid(p);
	cf_s3_policy_free(p);
}

static void
test_s3_policy_escapes(void **state)
{
	struct cf_s3_policy	*p;

	(void)state;
	p = compile_ok("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":"
	    "{\"AWS\":\"*\"},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::"
	    "data/a\\\"b\\\\c*\"}]}");
	assert_non_null(strstr(cf_s3_policy_cedar(p),
	    "resource.key like \"a\\\"b\\\\c*\""));
	assert_valid(p);
	cf_s3_policy_free(p);
}

static void
test_s3_policy_refusals(void **state)
{
	(void)state;
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":"
	    "\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
	    "data/*\"}]}", CF_E_INPUT, "Statement[0].NotPrincipal");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"NotAction\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
	    "data/*\"}]}", CF_E_INPUT, "Statement[0].NotAction");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"NotResource\":\"arn:aws:s3:::"
	    "data/*\"}]}", CF_E_INPUT, "Statement[0].NotResource");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
	    "other/*\"}]}", CF_E_INPUT, "Statement[0].Resource");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
	    "database/*\"}]}", CF_E_INPUT, "not in this bucket");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:PutBucketPolicy\",\"Resource\":\"arn:aws:s3:::"
	    "data\"}]}", CF_E_INPUT, "Statement[0].Action");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"iam:*\",\"Resource\":\"arn:aws:s3:::data\"}]}",
	    CF_E_INPUT, "Statement[0].Action");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/*\","
	    "\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":\"1\"}}}]}",
	    CF_E_INPUT, "Statement[0].Condition.NumericLessThan");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/*\","
	    "\"Condition\":{\"IpAddress\":{\"aws:UserAgent\":\"x\"}}}]}",
	    CF_E_INPUT, "Statement[0].Condition.IpAddress.aws:UserAgent");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/*\","
	    "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.1/8\"}}}"
	    "]}", CF_E_INPUT, "not an address");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/*\","
	    "\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"1700000"
	    "000\"}}}]}", CF_E_INPUT, "not a date");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
	    "\"mallory\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:"
	    "s3:::data/*\"}]}", CF_E_INPUT, "no principal \"mallory\"");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
	    "\"coffer:user/ci\"},\"Action\":\"s3:GetObject\",\"Resource\":"
	    "\"arn:aws:s3:::data/*\"}]}", CF_E_INPUT, "is a Service");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
	    "\"Service\":\"x\"},\"Action\":\"s3:GetObject\",\"Resource\":"
	    "\"arn:aws:s3:::data/*\"}]}", CF_E_INPUT,
	    "Statement[0].Principal.Service");
	refused("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
	    "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::data/*\""
	    "}]}", CF_E_INPUT, "no action applies");
	refused("{\"Statement\":[{\"Effect\":\"Maybe\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/*\""
	    "}]}", CF_E_INPUT, "Statement[0].Effect");
	refused("{\"Statement\":[{\"Sid\":\"a\",\"Effect\":\"Deny\","
	    "\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
	    "\"arn:aws:s3:::data/*\"},{\"Sid\":\"a\",\"Effect\":\"Deny\","
	    "\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
	    "\"arn:aws:s3:::data/*\"}]}", CF_E_INPUT, "Statement[1].Sid");
	refused("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/a?"
	    "\"}]}", CF_E_INPUT, "'?'");
	refused("{\"Statement\":[]}", CF_E_INPUT, "Statement");
	refused("{\"Version\":\"2099-01-01\",\"Statement\":[]}", CF_E_INPUT,
	    "Version");
	refused("{\"Statement\":[{\"Effect\":", CF_E_INPUT, "not valid JSON");
	refused("[1,2]", CF_E_INPUT, "JSON object");
	refused("{\"Statement\":{\"Effect\":\"Deny\",\"Effect\":\"Allow\"}}",
	    CF_E_INPUT, "not valid JSON");
	refused("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
	    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/*\","
	    "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}}]}",
	    CF_E_INPUT, "true or false");
}

static void
test_s3_policy_bounded(void **state)
{
	struct cf_s3_policy	*p = NULL;
	char			*big;
	size_t			 n = CF_S3_POLICY_MAX + 1, i;
	struct cf_error		 err;

	(void)state;
	big = cf_malloc(n);
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = ' ';
	big[0] = '{';
	big[n - 1] = '}';
	cf_error_clear(&err);
	assert_int_equal(cf_s3_policy_compile("data", big, n, NULL, NULL, &p,
	    &err), CF_E_LIMIT);
	assert_null(p);
	/* Deep nesting: refused by the parser's depth bound. */
	for (i = 0; i < 4000; i++)
		big[i] = '[';
	assert_int_equal(cf_s3_policy_compile("data", big, 4000, NULL, NULL,
	    &p, &err), CF_E_INPUT);
	cf_free(big);
}

static void
test_s3_policy_narrows(void **state)
{
	struct cf_s3_policy	*deny, *deny2, *allow;

	(void)state;
	deny = compile_ok(deny_prefix);
	deny2 = compile_ok("{\"Statement\":[{\"Sid\":\"NoSecrets\","
	    "\"Effect\":\"Deny\",\"Principal\":{\"AWS\":[\"arn:aws:iam:::user/"
	    "alice\",\"coffer:service/ci\"]},\"Action\":\"s3:GetObject\","
	    "\"Resource\":\"arn:aws:s3:::data/secret/*\"},{\"Effect\":\"Deny\","
	    "\"Principal\":\"*\",\"Action\":\"s3:PutObject\",\"Resource\":"
	    "\"arn:aws:s3:::data/*\"}]}");
	allow = compile_ok("{\"Statement\":[{\"Effect\":\"Allow\","
	    "\"Principal\":{\"AWS\":\"bob\"},\"Action\":\"s3:GetObject\","
	    "\"Resource\":\"arn:aws:s3:::data/*\"}]}");
	assert_true(cf_s3_policy_narrows(NULL, deny));	/* a first deny */
	assert_true(cf_s3_policy_narrows(deny, deny2));	/* one more */
	assert_false(cf_s3_policy_narrows(deny2, deny));	/* one less */
	assert_false(cf_s3_policy_narrows(deny, NULL));	/* removed */
	assert_false(cf_s3_policy_narrows(NULL, allow));	/* a grant */
	assert_true(cf_s3_policy_narrows(allow, NULL));	/* grant removed */
	assert_true(cf_s3_policy_narrows(allow, allow));
	cf_s3_policy_free(deny);
	cf_s3_policy_free(deny2);
	cf_s3_policy_free(allow);
}

static void
test_s3_policy_survives_every_alloc_failure(void **state)
{
	struct cf_s3_policy	*p = NULL;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_s3_policy_compile("data", deny_prefix,
		    strlen(deny_prefix), lookup, NULL, &p, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		/* jansson reports some of its failures as syntax errors. */
		assert_true(rc == CF_E_NOMEM || rc == CF_E_INPUT);
		assert_null(p);
	}
	cf_s3_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_policy_deny_prefix),
		cmocka_unit_test(test_s3_policy_conditions),
		cmocka_unit_test(test_s3_policy_prefix_conditions),
		cmocka_unit_test(test_s3_policy_escapes),
		cmocka_unit_test(test_s3_policy_refusals),
		cmocka_unit_test(test_s3_policy_bounded),
		cmocka_unit_test(test_s3_policy_narrows),
		cmocka_unit_test(test_s3_policy_survives_every_alloc_failure),
	};

	cf_json_alloc_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
