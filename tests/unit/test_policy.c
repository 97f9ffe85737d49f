/* cf-link: cf_policy cf_base
 *
 * tests/unit/test_policy.c: unit tests for the Cedar engine (src/policy).
 * The Cedar corpus in tests/conformance covers the semantics broadly;
 * these pin down the edges, the API contracts and the failure paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/mem.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

static const char entities_json[] =
    "["
    "{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},"
    " \"attrs\":{\"age\":30,\"name\":\"Alice\",\"mfa\":true,"
    "  \"roles\":[\"admin\",\"dev\"],"
    "  \"addr\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.1.2.3\"}},"
    "  \"boss\":{\"__entity\":{\"type\":\"User\",\"id\":\"bob\"}},"
    "  \"rec\":{\"a\":{\"b\":1}}},"
    " \"parents\":[{\"type\":\"Group\",\"id\":\"eng\"}],"
    " \"tags\":{\"team\":\"ml\"}},"
    "{\"uid\":{\"type\":\"User\",\"id\":\"bob\"},\"attrs\":{},"
    " \"parents\":[{\"type\":\"Group\",\"id\":\"all\"}]},"
    "{\"uid\":{\"type\":\"Group\",\"id\":\"eng\"},\"attrs\":{},"
    " \"parents\":[{\"type\":\"Group\",\"id\":\"all\"}]},"
    "{\"uid\":{\"type\":\"Group\",\"id\":\"all\"},\"attrs\":{},"
    " \"parents\":[{\"type\":\"Org\",\"id\":\"dangling\"}]},"
    "{\"uid\":{\"type\":\"Doc\",\"id\":\"d1\"},"
    " \"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"alice\"}},"
    "  \"level\":{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"0.75\"}}},"
    " \"parents\":[{\"type\":\"Folder\",\"id\":\"f\"}]}"
    "]";

static struct cf_entities *ents;

static int
setup(void **state)
{
	struct cf_error	err;

	(void)state;
	cf_error_clear(&err);
	if (cf_entities_parse(entities_json, sizeof(entities_json) - 1, &ents,
	    &err) != CF_OK) {
		fprintf(stderr, "entities: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cf_entities_free(ents);
	return 0;
}

enum outcome { ALLOW, DENY, ERROR, PARSE };

/* Evaluate `permit(principal, action, resource) when { cond };` for
 * User::"alice" doing Action::"read" on Doc::"d1". */
static enum outcome
run_cond(const char *cond)
{
	char			 src[2048];
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	json_t			*ctx;
	enum outcome		 o = PARSE;

	(void)snprintf(src, sizeof(src),
	    "permit(principal, action, resource) when { %s };", cond);
	ctx = json_pack("{s:i, s:s, s:b}", "n", 5, "ip", "10.0.0.1",
	    "mfa", 1);
	assert_non_null(ctx);
	if (cf_policy_set_parse(src, strlen(src), &ps, NULL) != CF_OK)
		goto out;
	assert_int_equal(cf_request_new("User", "alice", "Action", "read",
	    "Doc", "d1", ctx, &req, NULL), CF_OK);
	assert_int_equal(cf_response_new(&resp, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, ents, req, resp, NULL),
	    CF_OK);
	if (cf_response_error_count(resp) > 0)
		o = ERROR;
	else
		o = cf_response_decision(resp) == CF_DECISION_ALLOW ? ALLOW :
		    DENY;
out:
	json_decref(ctx);
	cf_response_free(resp);
	cf_request_free(req);
	cf_policy_set_free(ps);
	return o;
}

#define ALLOWS(c)	assert_int_equal(run_cond(c), ALLOW)
#define DENIES(c)	assert_int_equal(run_cond(c), DENY)
#define ERRS(c)		assert_int_equal(run_cond(c), ERROR)
#define REJECTS(c)	assert_int_equal(run_cond(c), PARSE)

static void
test_policy_operators(void **state)
{
	(void)state;
	ALLOWS("true");
	DENIES("false");
	ALLOWS("1 + 2 * 3 == 7");
	ALLOWS("-1 - -2 == 1");
	ALLOWS("10 - 2 - 3 == 5");
	ALLOWS("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3");
	ALLOWS("1 != 2 && \"a\" != 1");
	ALLOWS("!false");
	ALLOWS("if 1 == 1 then true else false");
	ALLOWS("false || true");
	DENIES("false && (1 + \"a\")");	/* short circuit */
	ALLOWS("true || (1 + \"a\")");
	ERRS("true && (1 + \"a\")");
	ERRS("1 && true");
	ERRS("9223372036854775807 + 1 == 0");
	ERRS("-9223372036854775807 - 2 == 0");
	ERRS("4611686018427387904 * 2 == 0");
	ALLOWS("-9223372036854775808 < 0");
	ERRS("--9223372036854775808 < 0");
	REJECTS("9223372036854775808 > 0");
	REJECTS("1 < 2 < 3");
	REJECTS("!!!!!true");
	ALLOWS("!!!!true");
	REJECTS("!-1 == 1");			/* no mixing ! and - */
	ALLOWS("- -1 == 1");
	ALLOWS("[1, 2,].contains(1,)");		/* trailing commas */
	REJECTS("[,] == []");
	ERRS("1");			/* a condition must be a bool */
	ALLOWS("[1, 2] == [2, 1, 1]");
	ALLOWS("{a: 1, b: [true]} == {b: [true], a: 1}");
	REJECTS("{a: 1, a: 2} == {}");
	ALLOWS("{\"a b\": 1}[\"a b\"] == 1");
	ALLOWS("[1, 2, 3].contains(2)");
	ALLOWS("[1, 2, 3].containsAll([3, 1])");
	ALLOWS("[1, 2, 3].containsAny([9, 1])");
	ALLOWS("[].isEmpty()");
	ERRS("1.contains(1)");
	REJECTS("[1].contains()");
	REJECTS("[1].foo()");
	REJECTS("isIpv4(ip(\"1.2.3.4\"))");
	REJECTS("bar(1)");
	REJECTS("?principal == principal");
	REJECTS("principal.if == 1");		/* reserved identifiers */
	REJECTS("{then: 1} == {}");
	REJECTS("principal has like");
	REJECTS("principal.__cedar == 1");
	ERRS("principal.principal == 1");	/* not reserved */
}

static void
test_policy_strings_like(void **state)
{
	(void)state;
	ALLOWS("\"a\\u{1F600}b\" == \"a\xf0\x9f\x98\x80\x62\"");
	ALLOWS("\"\\x41\\n\\t\\\\\\\"\\0\" like \"A*\"");
	REJECTS("\"\\q\" == \"\"");
	REJECTS("\"\\u{D800}\" == \"\"");
	ALLOWS("\"hello world\" like \"h*o w*d\"");
	ALLOWS("\"abc\" like \"*\"");
	ALLOWS("\"a*c\" like \"a\\*c\"");
	DENIES("\"abc\" like \"a\\*c\"");
	DENIES("\"abc\" like \"abcd*\"");
	ALLOWS("\"aXbXc\" like \"*b*c\"");
	DENIES("\"ab\" like \"a*b*b\"");
	ALLOWS("\"\" like \"\"");
	ERRS("1 like \"*\"");
	ALLOWS("// comment\n true // another\n");
}

/* Which stars of a `like` pattern are wildcards.  Cedar's parser
 * (cedar-policy-core, parser/unescape.rs, to_pattern) unescapes the
 * pattern and makes every resulting `*` a wildcard, except the sequence
 * `\*`, which is a literal star.  So `\u{2a}` and `\x2a` are wildcards,
 * surprising as that is; we do the same, so that a policy means the same
 * here as in Cedar.  Write `\*` for a literal star. */
static void
test_policy_like_escapes_as_in_cedar(void **state)
{
	(void)state;
	/* \* is a literal star, and only in patterns. */
	ALLOWS("\"a*c\" like \"a\\*c\"");
	DENIES("\"abc\" like \"a\\*c\"");
	ALLOWS("\"*\" like \"\\*\" && !(\"\" like \"\\*\")");
	REJECTS("\"a\\*c\" == \"a*c\"");
	/* Escapes that unescape to `*` are wildcards, as in Cedar. */
	ALLOWS("\"abc\" like \"a\\u{2a}c\"");
	ALLOWS("\"ac\" like \"a\\u{2A}c\" && \"ac\" like \"a\\u{00002a}c\"");
	ALLOWS("\"abc\" like \"a\\x2ac\" && \"abc\" like \"a\\x2Ac\"");
	ALLOWS("\"a*c\" like \"a\\u{2a}c\"");	/* a wildcard matches a star */
	DENIES("\"abd\" like \"a\\u{2a}c\"");
	/* Outside patterns they are plain stars. */
	ALLOWS("\"a\\u{2a}c\" == \"a*c\" && \"a\\x2ac\" == \"a*c\"");
	/* An escaped backslash before a star leaves the star a wildcard. */
	ALLOWS("\"a\\\\xyz\" like \"a\\\\*\"");
	DENIES("\"a*\" like \"a\\\\*\"");
	ALLOWS("\"a\\\\*\" like \"a\\\\\\*\"");
	DENIES("\"a\\\\x\" like \"a\\\\\\*\"");
}

static void
test_policy_entities(void **state)
{
	(void)state;
	ALLOWS("principal in Group::\"eng\"");
	ALLOWS("principal in Group::\"all\"");		/* transitive */
	ALLOWS("principal in Org::\"dangling\"");	/* dangling parent */
	ALLOWS("principal in [Group::\"x\", Group::\"all\"]");
	ALLOWS("principal in principal");
	DENIES("principal in User::\"bob\"");
	ERRS("principal in [1]");
	ERRS("1 in Group::\"eng\"");
	ALLOWS("User::\"nobody\" in User::\"nobody\"");
	DENIES("User::\"nobody\" in Group::\"eng\"");
	ALLOWS("principal.age == 30 && principal.name == \"Alice\"");
	ALLOWS("principal.roles.contains(\"admin\")");
	ALLOWS("principal has age && !(principal has nope)");
	ALLOWS("principal has rec.a.b && !(principal has rec.a.c)");
	ERRS("principal.nope");
	DENIES("User::\"nobody\" has age");
	ERRS("User::\"nobody\".age == 1");
	ALLOWS("resource.owner == principal");
	ALLOWS("resource.owner.boss == User::\"bob\"");
	ALLOWS("principal is User && resource is Doc");
	ALLOWS("principal is User in Group::\"all\"");
	DENIES("principal is Doc in Group::\"all\"");
	ERRS("1 is User");
	ALLOWS("principal.hasTag(\"team\") && principal.getTag(\"team\") == "
	    "\"ml\"");
	DENIES("principal.hasTag(\"x\")");
	ERRS("principal.getTag(\"x\")");
	DENIES("User::\"nobody\".hasTag(\"x\")");
	ALLOWS("context.n == 5 && context.mfa && context has ip");
	ERRS("context.ip.isIpv4()");	/* a string, not an ip */
	ALLOWS("action == Action::\"read\"");
}

static void
test_policy_extensions(void **state)
{
	(void)state;
	ALLOWS("principal.addr.isInRange(ip(\"10.0.0.0/8\"))");
	DENIES("ip(\"192.168.1.1\").isInRange(ip(\"10.0.0.0/8\"))");
	ALLOWS("ip(\"127.0.0.1\").isLoopback() && ip(\"::1\").isLoopback()");
	ALLOWS("ip(\"224.1.1.1\").isMulticast() && ip(\"ff02::1\").isIpv6()");
	ALLOWS("ip(\"10.0.0.0/24\").isInRange(ip(\"10.0.0.0/16\"))");
	DENIES("ip(\"10.0.0.0/8\").isInRange(ip(\"10.0.0.0/16\"))");
	ALLOWS("ip(\"1.2.3.4\") == ip(\"1.2.3.4/32\")");
	ALLOWS("ip(\"::ffff:ff00:1\").isIpv6()");
	ERRS("ip(\"::ffff:1.2.3.4\").isIpv6()");
	ERRS("ip(\"01.2.3.4\").isIpv4()");
	ERRS("ip(\"1.2.3.4/33\").isIpv4()");
	ERRS("ip(\"1.2.3.4/08\").isIpv4()");
	ALLOWS("resource.level.greaterThan(decimal(\"0.5\"))");
	ALLOWS("decimal(\"1.0\") == decimal(\"1.0000\")");
	ALLOWS("decimal(\"-922337203685477.5808\").lessThan(decimal(\"0.0\"))");
	ERRS("decimal(\"922337203685477.5808\") == decimal(\"0.0\")");
	ERRS("decimal(\"1.23456\") == decimal(\"0.0\")");
	ERRS("decimal(\"1\") == decimal(\"0.0\")");
	ERRS("decimal(\"1.0\") < decimal(\"2.0\")");
	ALLOWS("datetime(\"2024-10-15\") < datetime(\"2024-10-15T00:00:01Z\")");
	ALLOWS("datetime(\"2024-10-15T11:38:02.101+1134\") == "
	    "datetime(\"2024-10-15T00:04:02.101Z\")");
	ERRS("datetime(\"2025-02-29\") == datetime(\"2025-02-28\")");
	ERRS("datetime(\"2024-01-01T00:00:60Z\") == datetime(\"2024-01-01\")");
	ALLOWS("duration(\"1d2h3m4s5ms\").toMilliseconds() == 93784005");
	ALLOWS("duration(\"-1h\").toMinutes() == -60");
	ALLOWS("duration(\"90m\").toHours() == 1 && "
	    "duration(\"36h\").toDays() == 1");
	ERRS("duration(\"1h1d\") == duration(\"1d1h\")");
	ERRS("duration(\"\") == duration(\"1h\")");
	ALLOWS("datetime(\"2024-01-01\").offset(duration(\"1d\")) == "
	    "datetime(\"2024-01-02\")");
	ALLOWS("datetime(\"2024-01-02\").durationSince("
	    "datetime(\"2024-01-01\")) == duration(\"24h\")");
	ALLOWS("datetime(\"2024-01-02T13:00:00Z\").toDate() == "
	    "datetime(\"2024-01-02\")");
	ALLOWS("datetime(\"1969-12-31T13:00:00Z\").toDate() == "
	    "datetime(\"1969-12-31\")");
	ALLOWS("datetime(\"1969-12-31T13:00:00Z\").toTime() == "
	    "duration(\"13h\")");
	ERRS("ip(\"1.2.3.4\", 1) == 1");
	ERRS("\"1.2.3.4\".isIpv4()");
	ERRS("datetime(\"9999-12-31\").offset("
	    "duration(\"9223372036854775807ms\")) == datetime(\"2024-01-01\")");
}

/* Three policies: the forbid wins, errors are listed, ids are right. */
static void
test_policy_decision(void **state)
{
	static const char src[] =
	    "@id(\"readers\")\n"
	    "permit(principal in Group::\"eng\", action == Action::\"read\",\n"
	    "    resource);\n"
	    "forbid(principal, action, resource) when { context.n > 3 };\n"
	    "permit(principal, action in [Action::\"read\", Action::\"w\"],\n"
	    "    resource is Doc) when { principal.nope };\n"
	    "permit(principal == ?principal, action, resource in ?resource);\n";
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	json_t			*ctx, *j;
	struct cf_error		 err;

	(void)state;
	assert_int_equal(cf_policy_set_parse(src, sizeof(src) - 1, &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_policy_set_count(ps), 3);
	assert_int_equal(cf_policy_set_template_count(ps), 1);
	assert_string_equal(cf_policy_set_id(ps, 0), "readers");
	assert_string_equal(cf_policy_set_id(ps, 1), "policy1");
	assert_int_equal(cf_response_new(&resp, NULL), CF_OK);

	ctx = json_pack("{s:i}", "n", 1);
	assert_int_equal(cf_request_new("User", "alice", "Action", "read",
	    "Doc", "d1", ctx, &req, NULL), CF_OK);
	json_decref(ctx);
	assert_int_equal(cf_policy_authorize(ps, ents, req, resp, NULL),
	    CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_int_equal(cf_response_reason_count(resp), 1);
	assert_string_equal(cf_response_reason(resp, 0), "readers");
	assert_int_equal(cf_response_error_count(resp), 1);
	assert_string_equal(cf_response_error_id(resp, 0), "policy2");
	assert_non_null(strstr(cf_response_error_msg(resp, 0), "nope"));
	j = cf_response_to_json(resp);
	assert_non_null(j);
	json_decref(j);
	cf_request_free(req);

	ctx = json_pack("{s:i}", "n", 9);
	assert_int_equal(cf_request_new("User", "alice", "Action", "read",
	    "Doc", "d1", ctx, &req, NULL), CF_OK);
	json_decref(ctx);
	assert_int_equal(cf_policy_authorize(ps, ents, req, resp, NULL),
	    CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	assert_int_equal(cf_response_reason_count(resp), 1);
	assert_string_equal(cf_response_reason(resp, 0), "policy1");
	cf_request_free(req);

	/* Template links: only bob, only on things in Folder::"f". */
	cf_error_clear(&err);
	assert_int_equal(cf_policy_set_link(ps, "policy3", "share1", "User",
	    "bob", "Folder", "f", &err), CF_OK);
	assert_int_equal(cf_policy_set_link(ps, "policy3", "share1", "User",
	    "bob", "Folder", "f", NULL), CF_E_CONFLICT);
	assert_int_equal(cf_policy_set_link(ps, "nope", "share2", "User",
	    "bob", "Folder", "f", NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_policy_set_link(ps, "policy3", "share3", "User",
	    "bob", NULL, NULL, NULL), CF_E_INPUT);
	assert_int_equal(cf_request_new("User", "bob", "Action", "x", "Doc",
	    "d1", NULL, &req, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, ents, req, resp, NULL),
	    CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_string_equal(cf_response_reason(resp, 0), "share1");
	cf_request_free(req);
	assert_int_equal(cf_request_new("User", "alice", "Action", "x", "Doc",
	    "d1", NULL, &req, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, ents, req, resp, NULL),
	    CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	cf_request_free(req);

	cf_response_free(resp);
	cf_policy_set_free(ps);
}

/* Several sets decided as one (the server's built-in templates, stored
 * policy sets): ids get their part's prefix, a forbid in any part
 * denies, links are made for one decision and leave the set as it was,
 * and a strict part's erroring forbid denies. */
static void
test_policy_parts(void **state)
{
	static const char a[] =
	    "@id(\"t\")\n"
	    "permit(principal == ?principal, action, resource in ?resource);\n"
	    "permit(principal, action == Action::\"open\", resource);\n";
	static const char b[] =
	    "forbid(principal, action, resource) when { context.n > 3 };\n"
	    "forbid(principal, action, resource) when { context.nope };\n";
	struct cf_policy_set	*pa = NULL, *pb = NULL;
	struct cf_policy_part	 parts[2];
	struct cf_policy_link	 link;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	json_t			*ctx;

	(void)state;
	assert_int_equal(cf_policy_set_parse(a, sizeof(a) - 1, &pa, NULL),
	    CF_OK);
	assert_int_equal(cf_policy_set_parse(b, sizeof(b) - 1, &pb, NULL),
	    CF_OK);
	assert_int_equal(cf_response_new(&resp, NULL), CF_OK);
	memset(parts, 0, sizeof(parts));
	parts[0].ps = pa;
	parts[1].ps = pb;
	parts[1].prefix = "site/v2:";
	memset(&link, 0, sizeof(link));
	link.template_id = "t";
	link.id = "role:bob";
	link.principal_type = "User";
	link.principal_id = "bob";
	link.resource_type = "Folder";
	link.resource_id = "f";

	/* The link allows bob; the forbid with an error is skipped. */
	ctx = json_pack("{s:i}", "n", 1);
	assert_int_equal(cf_request_new("User", "bob", "Action", "x", "Doc",
	    "d1", ctx, &req, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize_parts(parts, 2, &link, 1, ents,
	    req, resp, NULL), CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_string_equal(cf_response_reason(resp, 0), "role:bob");
	assert_int_equal(cf_response_error_count(resp), 1);
	assert_string_equal(cf_response_error_id(resp, 0), "site/v2:policy1");
	/* Not linked into the set: without the link, deny. */
	assert_int_equal(cf_policy_authorize_parts(parts, 2, NULL, 0, ents,
	    req, resp, NULL), CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	assert_int_equal(cf_response_reason_count(resp), 0);
	/* Strict: the erroring forbid applies. */
	parts[1].flags = CF_POLICY_STRICT_FORBID;
	assert_int_equal(cf_policy_authorize_parts(parts, 2, &link, 1, ents,
	    req, resp, NULL), CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	assert_string_equal(cf_response_reason(resp, 0), "site/v2:policy1");
	parts[1].flags = 0;
	cf_request_free(req);
	json_decref(ctx);

	/* A forbid in the second part overrides the first part's permit. */
	ctx = json_pack("{s:i}", "n", 9);
	assert_int_equal(cf_request_new("User", "bob", "Action", "open",
	    "Doc", "d1", ctx, &req, NULL), CF_OK);
	json_decref(ctx);
	assert_int_equal(cf_policy_authorize_parts(parts, 1, NULL, 0, ents,
	    req, resp, NULL), CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_string_equal(cf_response_reason(resp, 0), "policy1");
	assert_int_equal(cf_policy_authorize_parts(parts, 2, NULL, 0, ents,
	    req, resp, NULL), CF_OK);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	assert_string_equal(cf_response_reason(resp, 0), "site/v2:policy0");

	/* Links that do not fit: refused, deny. */
	link.template_id = "nope";
	assert_int_equal(cf_policy_authorize_parts(parts, 2, &link, 1, ents,
	    req, resp, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	link.template_id = "t";
	link.resource_type = NULL;
	assert_int_equal(cf_policy_authorize_parts(parts, 2, &link, 1, ents,
	    req, resp, NULL), CF_E_INPUT);
	assert_int_equal(cf_policy_authorize_parts(parts, 0, NULL, 0, ents,
	    req, resp, NULL), CF_E_INVAL);
	cf_request_free(req);
	cf_response_free(resp);
	cf_policy_set_free(pa);
	cf_policy_set_free(pb);
}

static void
expect_parse_error(const char *src, const char *where)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	assert_int_equal(cf_policy_set_parse(src, strlen(src), &ps, &err),
	    CF_E_INPUT);
	assert_null(ps);
	if (strncmp(err.msg, where, strlen(where)) != 0)
		fail_msg("\"%s\": got \"%s\", want prefix \"%s\"", src,
		    err.msg, where);
}

static void
test_policy_parse_errors(void **state)
{
	struct cf_policy_set	*ps = NULL;

	(void)state;
	expect_parse_error("permit(principal, action, resource)", "1:36:");
	expect_parse_error("permit(principal,\n  actionx, resource);", "2:3:");
	expect_parse_error("permit(principal, action, resource) when { 1 + };",
	    "1:48:");
	expect_parse_error("permit(principal, action == User::\"a\", "
	    "resource);", "1:");
	expect_parse_error("permit(principal == ?resource, action, resource);",
	    "1:");
	expect_parse_error("permit(principal, action, resource) when "
	    "{ \"abc };", "1:44:");
	expect_parse_error("@id(\"a\") @id(\"b\") permit(principal, action, "
	    "resource);", "1:");
	expect_parse_error("@id(\"a\") permit(principal, action, resource);"
	    "@id(\"a\") forbid(principal, action, resource);", "1:");
	expect_parse_error("permit(principal, action, resource) when {};",
	    "1:");
	expect_parse_error("permit(principal, action, resource) when { "
	    "principal.x $ 1 };", "1:");
	expect_parse_error("permit(principal, action, resource) when { "
	    "\xff };", "1:");
	/* Comments, empty set, trailing whitespace are fine. */
	assert_int_equal(cf_policy_set_parse("// nothing\n  ", 13, &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_policy_set_count(ps), 0);
	cf_policy_set_free(ps);
}

static void
test_policy_deep_nesting(void **state)
{
	static char		 src[200000];
	struct cf_policy_set	*ps = NULL;
	size_t			 i, n;
	cf_err			 rc;

	(void)state;
	n = (size_t)snprintf(src, sizeof(src),
	    "permit(principal, action, resource) when { ");
	for (i = 0; i < 10000; i++)
		src[n++] = '(';
	src[n] = '\0';
	rc = cf_policy_set_parse(src, n, &ps, NULL);
	assert_true(rc == CF_E_LIMIT || rc == CF_E_INPUT);
	assert_null(ps);
	n = (size_t)snprintf(src, sizeof(src),
	    "permit(principal, action, resource) when { 1");
	for (i = 0; i < 20000; i++) {
		src[n++] = '+';
		src[n++] = '1';
	}
	memcpy(src + n, " > 0 };", 8);
	n += 7;
	rc = cf_policy_set_parse(src, n, &ps, NULL);
	assert_true(rc == CF_E_LIMIT);
	assert_null(ps);
}

/* Decide src for User::"big" (whose attribute s is a set of n longs)
 * doing Action::"read" on Doc::"d", into resp.  The reasons and errors of
 * resp name policies of the set returned, to be freed after reading them.
 */
static struct cf_policy_set *
decide_big(const char *src, size_t n, struct cf_response *resp)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	char			*json;
	size_t			 i, len = 0, cap = 64 + n * 12;

	json = cf_malloc(cap);
	assert_non_null(json);
	len += (size_t)snprintf(json + len, cap - len, "[{\"uid\":{\"type\":"
	    "\"User\",\"id\":\"big\"},\"parents\":[],\"attrs\":{\"s\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(json + len, cap - len, "%s%zu",
		    i > 0 ? "," : "", i);
	len += (size_t)snprintf(json + len, cap - len, "]}}]");
	assert_true(len < cap);
	assert_int_equal(cf_entities_parse(json, len, &es, NULL), CF_OK);
	assert_int_equal(cf_policy_set_parse(src, strlen(src), &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_request_new("User", "big", "Action", "read", "Doc",
	    "d", NULL, &req, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, es, req, resp, NULL), CF_OK);
	cf_request_free(req);
	cf_entities_free(es);
	cf_free(json);
	return ps;
}

/* Set equality is quadratic in the sizes of the sets, which entity data
 * controls: without the step budget, comparing a 3,000-element set with
 * itself took 9M comparisons (30,000 elements: 3.7 s).  Now the decision
 * stops at CF_POLICY_MAX_STEPS, a permit that runs out does not apply and
 * a forbid that runs out denies. */
static void
test_policy_step_budget(void **state)
{
	struct cf_response	*resp = NULL;
	struct cf_policy_set	*ps;

	(void)state;
	assert_int_equal(cf_response_new(&resp, NULL), CF_OK);

	/* Ordinary policies take a handful of steps. */
	ps = decide_big("permit(principal, action, resource) when "
	    "{ [1, 2, 3].containsAny([3]) && principal.s.contains(2) };", 3,
	    resp);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_true(cf_response_steps(resp) > 0);
	assert_true(cf_response_steps(resp) < 30);
	cf_policy_set_free(ps);

	/* A permit that runs out errors and does not apply. */
	ps = decide_big("permit(principal, action, resource) when "
	    "{ principal.s == principal.s };", 3000, resp);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	assert_int_equal(cf_response_reason_count(resp), 0);
	assert_int_equal(cf_response_error_count(resp), 1);
	assert_non_null(strstr(cf_response_error_msg(resp, 0), "budget"));
	assert_int_equal(cf_response_steps(resp), CF_POLICY_MAX_STEPS);
	cf_policy_set_free(ps);

	/* The same within the budget is fine. */
	ps = decide_big("permit(principal, action, resource) when "
	    "{ principal.s == principal.s };", 300, resp);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_true(cf_response_steps(resp) < CF_POLICY_MAX_STEPS);
	cf_policy_set_free(ps);

	/* An ordinary error in a forbid skips it (Cedar semantics)... */
	ps = decide_big("@id(\"p\") permit(principal, action, resource);\n"
	    "@id(\"f\") forbid(principal, action, resource) when "
	    "{ principal.nope };", 3, resp);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_int_equal(cf_response_error_count(resp), 1);
	cf_policy_set_free(ps);

	/* ...but SEC: a forbid that runs out of steps denies, and so does
	 * every later forbid with a condition, since the budget is spent. */
	ps = decide_big("@id(\"p\") permit(principal, action, resource);\n"
	    "@id(\"f\") forbid(principal, action, resource) when "
	    "{ principal.s.containsAll(principal.s) && false };\n"
	    "@id(\"g\") forbid(principal, action, resource) when "
	    "{ false };\n"
	    "@id(\"q\") permit(principal, action, resource) when "
	    "{ true };\n", 3000, resp);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_DENY);
	assert_int_equal(cf_response_reason_count(resp), 2);
	assert_string_equal(cf_response_reason(resp, 0), "f");
	assert_string_equal(cf_response_reason(resp, 1), "g");
	assert_int_equal(cf_response_error_count(resp), 3);
	assert_string_equal(cf_response_error_id(resp, 2), "q");
	cf_policy_set_free(ps);

	/* The budget is per decision. */
	ps = decide_big("permit(principal, action, resource) when "
	    "{ principal.s.contains(1) };", 3000, resp);
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	assert_true(cf_response_steps(resp) < 30);
	cf_policy_set_free(ps);
	cf_response_free(resp);
}

#define WALK_MAX	(1u << 20)

struct walk {
	const void	**seen;
	size_t		  n;
};

static void
walk_expr(struct walk *w, const struct cf_pol_expr *e)
{
	size_t	i;

	if (e == NULL || w->n >= WALK_MAX)
		return;
	w->seen[w->n++] = e;
	walk_expr(w, e->a);
	walk_expr(w, e->b);
	walk_expr(w, e->c);
	for (i = 0; i < e->nargs; i++)
		walk_expr(w, e->args[i]);
}

static int
ptr_cmp(const void *x, const void *y)
{
	uintptr_t	a = (uintptr_t)*(const void *const *)x;
	uintptr_t	b = (uintptr_t)*(const void *const *)y;

	return a < b ? -1 : a > b;
}

/* Parse src, check that its expressions are trees (every path from a
 * root reaches a different node: the walk visits each node once, and at
 * most one node per byte of text), then decide it for User::"a" (in
 * User::"g", with attribute r = {a: 1}) and return the steps taken. */
static uint64_t
check_tree(const char *src)
{
	static const char	 ents_src[] =
	    "[{\"uid\":{\"type\":\"User\",\"id\":\"a\"},"
	    "\"attrs\":{\"r\":{\"a\":1}},\"tags\":{\"t\":[1]},"
	    "\"parents\":[{\"type\":\"User\",\"id\":\"g\"}]}]";
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	struct walk		 w;
	size_t			 i, j;
	uint64_t		 steps;

	assert_int_equal(cf_policy_set_parse(src, strlen(src), &ps, NULL),
	    CF_OK);
	w.seen = cf_calloc(WALK_MAX, sizeof(*w.seen));
	assert_non_null(w.seen);
	w.n = 0;
	for (i = 0; i < ps->npols; i++)
		for (j = 0; j < ps->pols[i]->nconds; j++)
			walk_expr(&w, ps->pols[i]->conds[j].e);
	assert_true(w.n > 0);
	assert_true(w.n <= strlen(src));
	qsort(w.seen, w.n, sizeof(*w.seen), ptr_cmp);
	for (i = 1; i < w.n; i++)
		assert_ptr_not_equal(w.seen[i - 1], w.seen[i]);
	cf_free(w.seen);

	assert_int_equal(cf_entities_parse(ents_src, sizeof(ents_src) - 1,
	    &es, NULL), CF_OK);
	assert_int_equal(cf_request_new("User", "a", "Action", "r", "Doc", "d",
	    NULL, &req, NULL), CF_OK);
	assert_int_equal(cf_response_new(&resp, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, es, req, resp, NULL), CF_OK);
	if (cf_response_error_count(resp) > 0)
		fail_msg("%s", cf_response_error_msg(resp, 0));
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	steps = cf_response_steps(resp);
	cf_response_free(resp);
	cf_request_free(req);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	return steps;
}

/* A policy whose condition is inner wrapped in depth levels of
 * pre ... post, then tail. */
static char *
nest(const char *pre, const char *inner, const char *post, const char *tail,
    int depth)
{
	size_t	 n, cap;
	char	*s;
	int	 i;

	cap = strlen(inner) + (size_t)depth * (strlen(pre) + strlen(post)) +
	    strlen(tail) + 128;
	s = cf_malloc(cap);
	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "permit(principal, action, resource) "
	    "when { ");
	for (i = 0; i < depth; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s", pre);
	n += (size_t)snprintf(s + n, cap - n, "%s", inner);
	for (i = 0; i < depth; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s", post);
	(void)snprintf(s + n, cap - n, "%s };", tail);
	return s;
}

/* The reviewer's inputs: operands reachable twice made parsing (and
 * evaluation) double with each level of nesting.  28 nested contains
 * (440 bytes) took 6.9 s to check; 26 nested `is ... in` 3.4 s to check
 * and 5.8 s to evaluate; `has a.b` the same.  Now every expression is a
 * tree and a decision takes steps linear in the text. */
static void
test_policy_nesting_is_linear(void **state)
{
	/* Each level has the type of its operand, and all are true. */
	static const struct {
		const char	*pre, *inner, *post, *tail;
	} cases[] = {
		{ "[true].contains(", "true", ")", "" },
		{ "(if [1].containsAll([", "1", "]) then 1 else 2)", " == 1" },
		{ "(if [1].containsAny([", "1", "]) then 1 else 2)", " == 1" },
		{ "(if principal.hasTag(", "\"t\"", ") then \"t\" else \"u\")",
		    " == \"t\"" },
		{ "(if principal.getTag(", "\"t\"", ").contains(1) then \"t\" "
		    "else \"u\")", " == \"t\"" },
		{ "(if (", "principal", " is User in User::\"g\") then "
		    "principal else resource)", " == principal" },
		{ "(if (", "principal", " has r.a) then principal else "
		    "resource)", " == principal" },
		{ "(if (", "{r: {a: principal}}", " has r.a) then "
		    "{r: {a: principal}} else {})", " has r.a" },
		{ "(", "datetime(\"2024-01-01\")", ").offset(duration(\"1h\"))",
		    " == datetime(\"2024-01-02T04:00:00Z\")" },
	};
	char			*src;
	uint64_t		 steps;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		src = nest(cases[i].pre, cases[i].inner, cases[i].post,
		    cases[i].tail, 28);
		steps = check_tree(src);
		if (steps > 20 * 28)
			fail_msg("case %zu took %llu steps", i,
			    (unsigned long long)steps);
		cf_free(src);
	}
	/* The plain forms still evaluate as before. */
	ALLOWS("principal is User in Group::\"all\"");
	ERRS("principal is User in 1");
	DENIES("principal is Doc in 1");	/* short circuit */
	ERRS("1 is User in Group::\"all\"");
	ALLOWS("principal has rec.a.b && principal has \"rec\"");
	DENIES("principal has rec.x.b");	/* short circuit */
	ERRS("principal has rec.a.b.c");	/* `has` on 1 */
	ALLOWS("{a: {b: 1}} has a.b && !({a: 1} has b.c)");
	ERRS("{a: 1} has a.b");
	DENIES("User::\"nobody\" has a.b");
}

/* Loading was quadratic: each policy id was checked against every
 * earlier one (100,000 trivial policies, 3.5 MB: 16.5 s to check), each
 * template link likewise, and each parent that names no entity against
 * every earlier ancestor (one entity with 200,000 of them, 5 MB: 17.7 s).
 * Hash sets make each a few probes. */
static void
test_policy_loading_is_linear(void **state)
{
	static const char	 one[] =
	    "permit(principal, action, resource);\n";
	const size_t		 npol = 100000, nlink = 20000, npar = 100000;
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_error		 err;
	char			*src, id[32], *json;
	size_t			 i, n, cap;
	uint64_t		 before;

	(void)state;
	cap = npol * (sizeof(one) - 1) + 128;
	src = cf_malloc(cap);
	assert_non_null(src);
	for (i = 0, n = 0; i < npol; i++, n += sizeof(one) - 1)
		memcpy(src + n, one, sizeof(one) - 1);
	n += (size_t)snprintf(src + n, cap - n, "permit(principal == "
	    "?principal, action, resource);\n");
	assert_int_equal(cf_policy_set_parse(src, n, &ps, NULL), CF_OK);
	assert_int_equal(cf_policy_set_count(ps), npol);
	if (ps->ids.probes > 8 * npol)
		fail_msg("%llu probes for %zu ids",
		    (unsigned long long)ps->ids.probes, npol);
	/* Links, the same way; duplicates are still found. */
	before = ps->ids.probes;
	for (i = 0; i < nlink; i++) {
		(void)snprintf(id, sizeof(id), "link%zu", i);
		assert_int_equal(cf_policy_set_link(ps, "policy100000", id,
		    "User", id, NULL, NULL, NULL), CF_OK);
	}
	assert_int_equal(cf_policy_set_link(ps, "policy100000", "link0",
	    "User", "x", NULL, NULL, NULL), CF_E_CONFLICT);
	assert_int_equal(cf_policy_set_link(ps, "policy0", "l", "User", "x",
	    NULL, NULL, NULL), CF_E_NOTFOUND);	/* not a template */
	assert_int_equal(cf_policy_set_count(ps), npol + nlink);
	if (ps->ids.probes - before > 8 * nlink)
		fail_msg("%llu probes for %zu links",
		    (unsigned long long)(ps->ids.probes - before), nlink);
	cf_policy_set_free(ps);
	ps = NULL;
	/* The last policy takes the first one's default name. */
	n = npol * (sizeof(one) - 1);
	n += (size_t)snprintf(src + n, cap - n, "@id(\"policy0\")\n%s", one);
	cf_error_clear(&err);
	assert_int_equal(cf_policy_set_parse(src, n, &ps, &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "duplicate"));
	cf_free(src);

	/* One entity with npar parents that name no entity, each twice,
	 * then one with a single such parent. */
	cap = npar * 2 * 40 + 256;
	json = cf_malloc(cap);
	assert_non_null(json);
	n = (size_t)snprintf(json, cap, "[{\"uid\":{\"type\":\"U\",\"id\":"
	    "\"a\"},\"attrs\":{},\"parents\":[");
	for (i = 0; i < 2 * npar; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s{\"type\":\"G\","
		    "\"id\":\"p%zu\"}", i > 0 ? "," : "", i % npar);
	n += (size_t)snprintf(json + n, cap - n, "]},{\"uid\":{\"type\":\"U\","
	    "\"id\":\"b\"},\"attrs\":{},\"parents\":[{\"type\":\"G\","
	    "\"id\":\"p1\"}]}]");
	assert_true(n < cap);
	assert_int_equal(cf_entities_parse(json, n, &es, NULL), CF_OK);
	assert_int_equal(es->ents[0].nanc, npar);
	assert_int_equal(es->ents[1].nanc, 1);
	if (es->probes > 8 * npar)
		fail_msg("%llu probes for %zu parents",
		    (unsigned long long)es->probes, 2 * npar);
	cf_entities_free(es);
	cf_free(json);
}

static void
test_policy_json_inputs(void **state)
{
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	json_t			*j = NULL;
	struct cf_error		 err;
	static const char	 dup[] =
	    "[{\"uid\":{\"type\":\"A\",\"id\":\"x\"},\"attrs\":{},"
	    "\"parents\":[]},"
	    " {\"uid\":{\"type\":\"A\",\"id\":\"x\"},\"attrs\":{},"
	    "\"parents\":[]}]";
	static const char	 nulkey[] =
	    "[{\"uid\":{\"type\":\"A\",\"id\":\"x\\u0000y\"},"
	    "\"attrs\":{\"a\\u0000\":1},\"parents\":[]}]";
	static const char	 cyc[] =
	    "[{\"uid\":{\"type\":\"A\",\"id\":\"x\"},\"attrs\":{},"
	    "\"parents\":[{\"type\":\"A\",\"id\":\"y\"}]},"
	    " {\"uid\":{\"__entity\":{\"type\":\"A\",\"id\":\"y\"}},"
	    "\"attrs\":{},\"parents\":[{\"type\":\"A\",\"id\":\"x\"}]}]";

	static const char	*noattrs =
	    "[{\"uid\":{\"type\":\"A\",\"id\":\"x\"},\"parents\":[]}]";
	static const char	*extra =
	    "[{\"uid\":{\"type\":\"A\",\"id\":\"x\",\"z\":1},\"attrs\":"
	    "{\"e\":{\"__entity\":{\"type\":\"A\",\"id\":\"y\"},\"q\":1}},"
	    "\"parents\":[],\"tags\":{},\"other\":true}]";
	static const char	*reqjson =
	    "{\"principal\":{\"type\":\"U\","
	    "\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":\"r\"},"
	    "\"resource\":{\"type\":\"D\",\"id\":\"d\"},\"context\":{\"t\":"
	    "{\"__extn\":{\"fn\":\"offset\",\"args\":[{\"__extn\":{\"fn\":"
	    "\"datetime\",\"arg\":\"1970-01-01\"}},{\"__extn\":{\"fn\":"
	    "\"duration\",\"arg\":\"1ms\"}}]}}}}";

	(void)state;
	cf_error_clear(&err);
	assert_int_equal(cf_entities_parse(dup, sizeof(dup) - 1, &es, &err),
	    CF_E_INPUT);
	assert_null(es);
	assert_non_null(strstr(err.msg, "duplicate"));
	assert_int_equal(cf_entities_parse(nulkey, sizeof(nulkey) - 1, &es,
	    NULL), CF_OK);
	assert_int_equal(cf_entities_count(es), 1);
	assert_true(cf_entities_memory(es) > 0);
	cf_entities_free(es);
	es = NULL;
	/* As in Cedar, the hierarchy must be acyclic. */
	assert_int_equal(cf_entities_parse(cyc, sizeof(cyc) - 1, &es, NULL),
	    CF_E_INPUT);
	assert_null(es);
	assert_int_equal(cf_entities_parse("{}", 2, &es, NULL), CF_E_INPUT);
	assert_int_equal(cf_entities_parse("[1.5]", 5, &es, NULL), CF_E_INPUT);
	assert_int_equal(cf_entities_parse("[", 1, &es, NULL), CF_E_INPUT);
	assert_int_equal(cf_entities_parse("[{\"uid\":{\"type\":\"A b\","
	    "\"id\":\"x\"}}]", 31, &es, NULL), CF_E_INPUT);
	/* As in Cedar: attrs and parents are required, tags must be an
	 * object, other members are ignored. */
	assert_int_equal(cf_entities_parse(noattrs, strlen(noattrs), &es,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_entities_parse(extra, strlen(extra), &es, NULL),
	    CF_OK);
	cf_entities_free(es);
	es = NULL;

	assert_int_equal(cf_policy_json_parse(reqjson, strlen(reqjson), &j,
	    NULL), CF_OK);
	assert_int_equal(cf_request_from_json(j, &req, NULL), CF_OK);
	cf_request_free(req);
	json_decref(j);
	assert_int_equal(cf_policy_json_parse("{\"a\":1,\"a\":2}", 13, &j,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_policy_json_parse("[9223372036854775808]", 21, &j,
	    NULL), CF_E_INPUT);
	assert_int_equal(cf_policy_json_parse("\"\\ud800\"", 8, &j, NULL),
	    CF_E_INPUT);
}

static const char fault_src[] =
    "@id(\"a\") permit(principal in Group::\"eng\", action in "
    "[Action::\"r\", Action::\"w\"], resource is Doc in Folder::\"f\")\n"
    "when { context.ip.isInRange(ip(\"10.0.0.0/8\")) && "
    "{a: [1, \"x\"], b: decimal(\"1.5\")} has a && \"abc\" like \"a*\" }\n"
    "unless { principal.age > 99 };\n"
    "forbid(principal == ?principal, action, resource in ?resource);\n"
    "permit(principal, action, resource == Doc::\"d1\");\n";

static void
test_policy_parse_survives_every_alloc_failure(void **state)
{
	struct cf_policy_set	*ps = NULL;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_policy_set_parse(fault_src, sizeof(fault_src) - 1, &ps,
		    NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(ps);
	}
	assert_int_equal(cf_policy_set_count(ps), 2);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_policy_set_link(ps, "policy1", "l", "User", "bob",
		    "Folder", "f", NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
	}
	cf_policy_set_free(ps);
}

static void
test_policy_entities_survive_every_alloc_failure(void **state)
{
	struct cf_entities	*es = NULL;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_entities_parse(entities_json,
		    sizeof(entities_json) - 1, &es, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(es);
	}
	cf_entities_free(es);
}

static void
test_policy_authorize_survives_every_alloc_failure(void **state)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	json_t			*ctx;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	assert_int_equal(cf_policy_set_parse(fault_src, sizeof(fault_src) - 1,
	    &ps, NULL), CF_OK);
	ctx = json_pack("{s:{s:{s:s,s:s}}}", "ip", "__extn", "fn", "ip", "arg",
	    "10.1.1.1");
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_request_new("User", "alice", "Action", "r", "Doc", "d1",
		    ctx, &req, NULL);
		if (rc == CF_OK)
			rc = cf_response_new(&resp, NULL);
		if (rc == CF_OK)
			rc = cf_policy_authorize(ps, ents, req, resp, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		/* SEC: a failed decision is a deny. */
		if (resp != NULL)
			assert_int_equal(cf_response_decision(resp),
			    CF_DECISION_DENY);
		cf_response_free(resp);
		cf_request_free(req);
		resp = NULL;
		req = NULL;
	}
	assert_int_equal(cf_response_decision(resp), CF_DECISION_ALLOW);
	json_decref(ctx);
	cf_response_free(resp);
	cf_request_free(req);
	cf_policy_set_free(ps);
}

/*
 * Entities and requests from C values: the same store as the JSON of the
 * same data.
 */
static const char build_json[] =
    "["
    "{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},"
    " \"attrs\":{\"name\":\"Al\xc3\xaf" "ce\",\"age\":30,\"mfa\":true,"
    "  \"off\":false,"
    "  \"addr\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.1.0.0/16\"}},"
    "  \"at\":{\"__extn\":{\"fn\":\"datetime\","
    "   \"arg\":\"2026-03-01T12:30:00Z\"}},"
    "  \"rec\":{\"b\":{\"c\":-7},\"a\":\"x\"},"
    "  \"roles\":[\"admin\",1,[true]]},"
    " \"parents\":[{\"type\":\"Group\",\"id\":\"eng\"},"
    "  {\"type\":\"Org\",\"id\":\"dangling\"}],"
    " \"tags\":{\"team\":\"blue\",\"level\":\"3\",\"n\":7}},"
    "{\"uid\":{\"type\":\"Group\",\"id\":\"eng\"},\"attrs\":{},"
    " \"parents\":[{\"type\":\"Group\",\"id\":\"all\"}],"
    " \"tags\":{}},"
    "{\"uid\":{\"type\":\"Group\",\"id\":\"all\"},\"attrs\":{},"
    " \"parents\":[]},"
    "{\"uid\":{\"type\":\"Action\",\"id\":\"object:get\"},\"attrs\":{},"
    " \"parents\":[{\"type\":\"Action\",\"id\":\"read\"}]},"
    "{\"uid\":{\"type\":\"NS::Doc\",\"id\":\"\"},\"attrs\":{},"
    " \"parents\":[]}"
    "]";

struct build_fixture {
	struct cf_attr		 rec_b[1], rec[2], alice[8], tags[3];
	struct cf_entity_ref	 alice_p[2], eng_p[1], get_p[1];
	struct cf_entity_def	 defs[5];
	json_t			*roles;
};

/* build_json as C values. */
static void
build_defs(struct build_fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->rec_b[0] = (struct cf_attr){ .name = "c", .kind = CF_ATTR_LONG,
	    .i = -7 };
	f->rec[0] = (struct cf_attr){ .name = "b", .kind = CF_ATTR_RECORD,
	    .rec = f->rec_b, .n = 1 };
	f->rec[1] = (struct cf_attr){ .name = "a", .kind = CF_ATTR_STRING,
	    .s = "x" };
	f->roles = json_pack("[s,i,[b]]", "admin", 1, 1);
	assert_non_null(f->roles);
	f->alice[0] = (struct cf_attr){ .name = "name",
	    .kind = CF_ATTR_STRING, .s = "Al\xc3\xaf" "ce" };
	f->alice[1] = (struct cf_attr){ .name = "age", .kind = CF_ATTR_LONG,
	    .i = 30 };
	f->alice[2] = (struct cf_attr){ .name = "mfa", .kind = CF_ATTR_BOOL,
	    .i = 5 };
	f->alice[3] = (struct cf_attr){ .name = "off", .kind = CF_ATTR_BOOL,
	    .i = 0 };
	f->alice[4] = (struct cf_attr){ .name = "addr", .kind = CF_ATTR_IP,
	    .s = "10.1.0.0/16" };
	f->alice[5] = (struct cf_attr){ .name = "at",
	    .kind = CF_ATTR_DATETIME, .i = 1772368200000LL };
	f->alice[6] = (struct cf_attr){ .name = "rec", .kind = CF_ATTR_RECORD,
	    .rec = f->rec, .n = 2 };
	f->alice[7] = (struct cf_attr){ .name = "roles", .kind = CF_ATTR_JSON,
	    .json = f->roles };
	f->alice_p[0] = (struct cf_entity_ref){ "Group", "eng" };
	f->alice_p[1] = (struct cf_entity_ref){ "Org", "dangling" };
	f->eng_p[0] = (struct cf_entity_ref){ "Group", "all" };
	f->get_p[0] = (struct cf_entity_ref){ "Action", "read" };
	f->tags[0] = (struct cf_attr){ .name = "team", .kind = CF_ATTR_STRING,
	    .s = "blue" };
	f->tags[1] = (struct cf_attr){ .name = "level",
	    .kind = CF_ATTR_STRING, .s = "3" };
	f->tags[2] = (struct cf_attr){ .name = "n", .kind = CF_ATTR_LONG,
	    .i = 7 };
	f->defs[0] = (struct cf_entity_def){ .uid = { "User", "alice" },
	    .attrs = f->alice, .nattrs = 8, .parents = f->alice_p,
	    .nparents = 2, .tags = f->tags, .ntags = 3 };
	/* Present and empty ("tags": {}). */
	f->defs[1] = (struct cf_entity_def){ .uid = { "Group", "eng" },
	    .parents = f->eng_p, .nparents = 1, .tags = f->tags };
	f->defs[2] = (struct cf_entity_def){ .uid = { "Group", "all" } };
	f->defs[3] = (struct cf_entity_def){ .uid = { "Action",
	    "object:get" }, .parents = f->get_p, .nparents = 1 };
	f->defs[4] = (struct cf_entity_def){ .uid = { "NS::Doc", "" } };
}

static void
assert_same_store(const struct cf_entities *x, const struct cf_entities *y)
{
	const struct cf_pol_entity	*a, *b;
	struct cf_pol_val		 va, vb;
	size_t				 i, k;

	assert_int_equal(cf_entities_count(x), cf_entities_count(y));
	for (i = 0; i < x->n; i++) {
		a = &x->ents[i];
		b = cf_pol_entity_get(y, a->uid);
		assert_non_null(b);
		assert_non_null(a->attrs);
		assert_non_null(b->attrs);
		va.kind = vb.kind = PV_RECORD;
		va.u.rec = a->attrs;
		vb.u.rec = b->attrs;
		assert_true(cf_pol_val_eq(&va, &vb));
		assert_true((a->tags == NULL) == (b->tags == NULL));
		if (a->tags != NULL) {
			va.u.rec = a->tags;
			vb.u.rec = b->tags;
			assert_true(cf_pol_val_eq(&va, &vb));
		}
		assert_int_equal(a->nparents, b->nparents);
		for (k = 0; k < a->nparents; k++)
			assert_true(cf_pol_uid_eq(a->parents[k],
			    b->parents[k]));
		assert_int_equal(a->nanc, b->nanc);
		for (k = 0; k < a->nanc; k++)
			assert_true(cf_pol_entity_in(b, b->uid, a->anc[k]));
	}
}

static void
test_policy_build_matches_json(void **state)
{
	struct build_fixture	 f;
	struct cf_entities	*ej = NULL, *eb = NULL;
	struct cf_request	*rj = NULL, *rb = NULL;
	struct cf_attr		 scope[1], ctx[4];
	json_t			*jctx;

	(void)state;
	build_defs(&f);
	assert_int_equal(cf_entities_parse(build_json, sizeof(build_json) - 1,
	    &ej, NULL), CF_OK);
	assert_int_equal(cf_entities_build(f.defs, 5, &eb, NULL), CF_OK);
	assert_same_store(ej, eb);
	assert_same_store(eb, ej);
	assert_true(cf_entities_equal(ej, eb));
	assert_true(cf_entities_equal(eb, ej));
	assert_true(cf_entities_equal(eb, eb));
	assert_false(cf_entities_equal(eb, NULL));

	/* The context: each kind, a nested record, and {} when empty. */
	scope[0] = (struct cf_attr){ .name = "actions", .kind = CF_ATTR_JSON,
	    .json = f.roles };
	ctx[0] = (struct cf_attr){ .name = "time", .kind = CF_ATTR_DATETIME,
	    .i = 1772368200000LL };
	ctx[1] = (struct cf_attr){ .name = "src", .kind = CF_ATTR_IP,
	    .s = "::1" };
	ctx[2] = (struct cf_attr){ .name = "scope", .kind = CF_ATTR_RECORD,
	    .rec = scope, .n = 1 };
	ctx[3] = (struct cf_attr){ .name = "mfa", .kind = CF_ATTR_BOOL };
	jctx = json_pack("{s:{s:{s:s,s:s}}, s:{s:{s:s,s:s}}, s:{s:O}, s:b}",
	    "time", "__extn", "fn", "datetime", "arg", "2026-03-01T12:30:00Z",
	    "src", "__extn", "fn", "ip", "arg", "::1", "scope", "actions",
	    f.roles, "mfa", 0);
	assert_non_null(jctx);
	assert_int_equal(cf_request_new("User", "alice", "Action",
	    "object:get", "NS::Doc", "", jctx, &rj, NULL), CF_OK);
	assert_int_equal(cf_request_build("User", "alice", "Action",
	    "object:get", "NS::Doc", "", ctx, 4, &rb, NULL), CF_OK);
	assert_true(cf_pol_uid_eq(rj->principal, rb->principal));
	assert_true(cf_pol_uid_eq(rj->action, rb->action));
	assert_true(cf_pol_uid_eq(rj->resource, rb->resource));
	assert_true(cf_pol_val_eq(&rj->context, &rb->context));
	assert_true(cf_request_equal(rj, rb));
	cf_request_free(rb);
	rb = NULL;
	assert_int_equal(cf_request_build("User", "alice", "Action",
	    "object:get", "NS::Doc", "", NULL, 0, &rb, NULL), CF_OK);
	assert_int_equal(rb->context.kind, PV_RECORD);
	assert_int_equal(rb->context.u.rec->n, 0);

	json_decref(jctx);
	json_decref(f.roles);
	cf_request_free(rj);
	cf_request_free(rb);
	cf_entities_free(ej);
	cf_entities_free(eb);
}

/* Tags built from C values answer hasTag and getTag as JSON ones do;
 * stores or requests that differ anywhere are not equal. */
static void
test_policy_build_tags(void **state)
{
	static const char pol[] =
	    "@id(\"team\") permit (principal, action, resource) when "
	    "{ principal.hasTag(\"team\") && principal.getTag(\"team\") "
	    "== \"blue\" };\n"
	    "@id(\"n\") permit (principal, action, resource) when "
	    "{ principal.getTag(\"n\") == 7 };\n"
	    "@id(\"none\") permit (principal, action, resource) when "
	    "{ principal.hasTag(\"nope\") };\n"
	    "@id(\"grp\") permit (principal, action, resource) when "
	    "{ Group::\"eng\".hasTag(\"team\") };\n"
	    "@id(\"grperr\") permit (principal, action, resource) when "
	    "{ Group::\"all\".getTag(\"team\") == \"x\" };\n";
	struct build_fixture	 f;
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*ej = NULL, *eb = NULL, *e2 = NULL;
	struct cf_request	*req = NULL, *r2 = NULL;
	struct cf_response	*rj = NULL, *rb = NULL;
	size_t			 i;

	(void)state;
	build_defs(&f);
	assert_int_equal(cf_policy_set_parse(pol, sizeof(pol) - 1, &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_entities_parse(build_json, sizeof(build_json) - 1,
	    &ej, NULL), CF_OK);
	assert_int_equal(cf_entities_build(f.defs, 5, &eb, NULL), CF_OK);
	assert_int_equal(cf_request_build("User", "alice", "Action",
	    "object:get", "NS::Doc", "", NULL, 0, &req, NULL), CF_OK);
	assert_int_equal(cf_response_new(&rj, NULL), CF_OK);
	assert_int_equal(cf_response_new(&rb, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, ej, req, rj, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, eb, req, rb, NULL), CF_OK);
	assert_int_equal(cf_response_reason_count(rb), 2);
	assert_string_equal(cf_response_reason(rb, 0), "team");
	assert_string_equal(cf_response_reason(rb, 1), "n");
	assert_int_equal(cf_response_error_count(rb), 1);
	assert_string_equal(cf_response_error_id(rb, 0), "grperr");
	assert_int_equal(cf_response_reason_count(rj), 2);
	for (i = 0; i < 2; i++)
		assert_string_equal(cf_response_reason(rj, i),
		    cf_response_reason(rb, i));
	assert_int_equal(cf_response_error_count(rj), 1);

	/* One tag value differs: not equal. */
	f.tags[0].s = "red";
	assert_int_equal(cf_entities_build(f.defs, 5, &e2, NULL), CF_OK);
	assert_false(cf_entities_equal(eb, e2));
	cf_entities_free(e2);
	e2 = NULL;
	f.tags[0].s = "blue";
	/* A tag less: not equal; no tags at all equals empty tags. */
	f.defs[0].ntags = 2;
	assert_int_equal(cf_entities_build(f.defs, 5, &e2, NULL), CF_OK);
	assert_false(cf_entities_equal(eb, e2));
	cf_entities_free(e2);
	e2 = NULL;
	f.defs[0].ntags = 3;
	f.defs[1].tags = NULL;
	assert_int_equal(cf_entities_build(f.defs, 5, &e2, NULL), CF_OK);
	assert_true(cf_entities_equal(eb, e2));
	cf_entities_free(e2);
	e2 = NULL;
	/* A parent less, an attribute changed: not equal. */
	f.defs[0].nparents = 1;
	assert_int_equal(cf_entities_build(f.defs, 5, &e2, NULL), CF_OK);
	assert_false(cf_entities_equal(eb, e2));
	cf_entities_free(e2);
	e2 = NULL;
	f.defs[0].nparents = 2;
	f.alice[1].i = 31;
	assert_int_equal(cf_entities_build(f.defs, 5, &e2, NULL), CF_OK);
	assert_false(cf_entities_equal(eb, e2));
	assert_int_equal(cf_request_build("User", "alice", "Action",
	    "object:get", "NS::Doc", "", f.tags, 1, &r2, NULL), CF_OK);
	assert_false(cf_request_equal(req, r2));

	json_decref(f.roles);
	cf_response_free(rj);
	cf_response_free(rb);
	cf_request_free(req);
	cf_request_free(r2);
	cf_entities_free(ej);
	cf_entities_free(eb);
	cf_entities_free(e2);
	cf_policy_set_free(ps);
}

/* What the JSON reader refuses, the builder refuses, with the same
 * code; *out is untouched. */
static void
test_policy_build_rejects(void **state)
{
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	struct cf_entity_ref	 p[1];
	struct cf_entity_def	 d[2];
	struct cf_attr		 a[2], deep[200];
	struct cf_error		 err;
	size_t			 i;

	(void)state;
	memset(d, 0, sizeof(d));
	d[0].uid = (struct cf_entity_ref){ "User", "a" };
	d[1].uid = (struct cf_entity_ref){ "User", "a" };
	assert_int_equal(cf_entities_build(d, 2, &es, NULL), CF_E_INPUT);
	assert_null(es);
	d[1].uid = (struct cf_entity_ref){ "Bad Type", "b" };
	assert_int_equal(cf_entities_build(d, 2, &es, NULL), CF_E_INPUT);
	d[1].uid = (struct cf_entity_ref){ "if", "b" };
	assert_int_equal(cf_entities_build(d, 2, &es, NULL), CF_E_INPUT);
	d[1].uid = (struct cf_entity_ref){ "User", "\xff" };
	assert_int_equal(cf_entities_build(d, 2, &es, NULL), CF_E_INPUT);
	/* An action under a non-action. */
	p[0] = (struct cf_entity_ref){ "Group", "g" };
	d[1] = (struct cf_entity_def){ .uid = { "Action", "x" }, .parents = p,
	    .nparents = 1 };
	assert_int_equal(cf_entities_build(d, 2, &es, NULL), CF_E_INPUT);
	/* A cycle. */
	p[0] = (struct cf_entity_ref){ "User", "b" };
	d[0].parents = p;
	d[0].nparents = 1;
	d[1] = (struct cf_entity_def){ .uid = { "User", "b" },
	    .parents = &d[0].uid, .nparents = 1 };
	cf_error_clear(&err);
	assert_int_equal(cf_entities_build(d, 2, &es, &err), CF_E_INPUT);
	assert_non_null(strstr(err.msg, "cycle"));
	/* Attributes: a duplicate, a string that is not UTF-8, a bad IP. */
	memset(d, 0, sizeof(d));
	d[0].uid = (struct cf_entity_ref){ "User", "a" };
	d[0].attrs = a;
	d[0].nattrs = 2;
	a[0] = (struct cf_attr){ .name = "k", .kind = CF_ATTR_LONG };
	a[1] = (struct cf_attr){ .name = "k", .kind = CF_ATTR_STRING,
	    .s = "v" };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INPUT);
	a[1] = (struct cf_attr){ .name = "s", .kind = CF_ATTR_STRING,
	    .s = "\xc3(" };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INPUT);
	a[1] = (struct cf_attr){ .name = "\xc0", .kind = CF_ATTR_LONG };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INPUT);
	a[1] = (struct cf_attr){ .name = "ip", .kind = CF_ATTR_IP,
	    .s = "10.1.2" };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INPUT);
	a[1] = (struct cf_attr){ .name = "x", .kind = 99 };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INVAL);
	assert_null(es);
	/* Tags: a duplicate, a value that is not UTF-8. */
	d[0].nattrs = 0;
	d[0].tags = a;
	d[0].ntags = 2;
	a[1] = (struct cf_attr){ .name = "k", .kind = CF_ATTR_STRING,
	    .s = "v" };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INPUT);
	a[1] = (struct cf_attr){ .name = "t", .kind = CF_ATTR_STRING,
	    .s = "\xc3(" };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_E_INPUT);
	assert_null(es);
	/* Nesting deeper than JSON values may be. */
	for (i = 0; i < 200; i++)
		deep[i] = (struct cf_attr){ .name = "d",
		    .kind = i + 1 < 200 ? CF_ATTR_RECORD : CF_ATTR_LONG,
		    .rec = i + 1 < 200 ? &deep[i + 1] : NULL,
		    .n = i + 1 < 200 ? 1 : 0 };
	assert_int_equal(cf_request_build("User", "a", "Action", "r", "Doc",
	    "d", deep, 1, &req, NULL), CF_E_LIMIT);
	assert_null(req);
	a[1] = (struct cf_attr){ .name = "k", .kind = CF_ATTR_BOOL };
	assert_int_equal(cf_request_build("User", "a", "Action", "r", "Doc",
	    "d", a, 2, &req, NULL), CF_E_INPUT);
	assert_int_equal(cf_request_build("Bad Type", "a", "Action", "r",
	    "Doc", "d", NULL, 0, &req, NULL), CF_E_INPUT);
	assert_null(req);
}

static void
test_policy_build_survives_every_alloc_failure(void **state)
{
	struct build_fixture	 f;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	build_defs(&f);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_entities_build(f.defs, 5, &es, NULL);
		if (rc == CF_OK) {
			rc = cf_request_build("User", "alice", "Action",
			    "object:get", "NS::Doc", "", f.alice, 8, &req,
			    NULL);
			if (rc != CF_OK) {
				cf_entities_free(es);
				es = NULL;
			}
		}
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(es);
		assert_null(req);
	}
	assert_int_equal(cf_entities_count(es), 5);
	json_decref(f.roles);
	cf_request_free(req);
	cf_entities_free(es);
}

/* Layered stores (cf_entities_build_on): the constant entities (the
 * actions, their groups, the store) built once as a base, the rest of
 * each request's entities as a layer over it, decide every request as
 * one store of all of them does.  A randomized corpus of layers over
 * one base, against policies reading the hierarchy across both layers
 * (scope and `in` conditions, entity literals of either layer). */
static const char layer_pol[] =
    "@id(\"p-read\") permit (principal in Group::\"g1\", "
    "action in Action::\"read\", resource in Store::\"coffer\");\n"
    "@id(\"p-ns\") permit (principal, action == Action::\"get\", "
    "resource in Namespace::\"n1\");\n"
    "@id(\"f-write\") forbid (principal in Group::\"g2\", "
    "action in Action::\"write\", resource);\n"
    "@id(\"p-lit\") permit (principal, action, resource) when "
    "{ Action::\"put\" in Action::\"write\" && principal in Group::\"g0\" "
    "&& resource in Store::\"coffer\" };\n"
    "@id(\"p-attr\") permit (principal, action in Action::\"write\", "
    "resource is Object) when { resource.ns == \"n2\" && "
    "Namespace::\"n2\" in Store::\"coffer\" };\n"
    "@id(\"p-act\") permit (principal, action, resource) when "
    "{ action in Action::\"read\" && principal.n > 3 };\n"
    "@id(\"f-store\") forbid (principal, action, resource == "
    "Store::\"coffer\") unless { principal in Group::\"g3\" };\n";

static void
test_policy_build_layered(void **state)
{
	static const char *const acts[] = { "get", "list", "put", "delete" };
	static const char *const grp_of[] = { "read", "read", "write",
	    "write" };
	struct cf_entity_ref	 bpar[4], upar[4], gpar[4], nspar[1], opar[1];
	struct cf_entity_def	 bdefs[7], all[16], layer[9];
	struct cf_attr		 uattr[1], oattr[1];
	struct cf_entities	*base = NULL, *flat = NULL, *lay = NULL;
	struct cf_entities	*reuse = NULL, *pb = NULL, *nb3 = NULL;
	struct cf_entities	*over = NULL;
	const struct cf_entities *bs[CF_ENTITIES_MAX_BASES];
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL, *rreq = NULL;
	struct cf_response	*r1 = NULL, *r2 = NULL;
	struct cf_error		 err;
	char			 gname[4][8], nsname[2][8], oid[16];
	uint64_t		 x = 0x2545f4914f6cdd1dULL;
	size_t			 i, k, nb = 0, nl, round, allow = 0;

	(void)state;
	/* The base: four actions in two groups, the groups, the store. */
	for (i = 0; i < 4; i++) {
		bpar[i] = (struct cf_entity_ref){ "Action", grp_of[i] };
		bdefs[nb++] = (struct cf_entity_def){ .uid = { "Action",
		    acts[i] }, .parents = &bpar[i], .nparents = 1 };
	}
	bdefs[nb++] = (struct cf_entity_def){ .uid = { "Action", "read" } };
	bdefs[nb++] = (struct cf_entity_def){ .uid = { "Action", "write" } };
	bdefs[nb++] = (struct cf_entity_def){ .uid = { "Store", "coffer" } };
	assert_int_equal(cf_entities_build(bdefs, nb, &base, NULL), CF_OK);
	assert_int_equal(cf_policy_set_parse(layer_pol, sizeof(layer_pol) - 1,
	    &ps, NULL), CF_OK);
	assert_int_equal(cf_response_new(&r1, NULL), CF_OK);
	assert_int_equal(cf_response_new(&r2, NULL), CF_OK);
	for (round = 0; round < 2000; round++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		nl = 0;
		/* The principal, in some of four groups; some groups are
		 * defined (in a chain: g0 in g1 in ...), some dangle. */
		for (k = 0; k < 4; k++) {
			(void)snprintf(gname[k], sizeof(gname[k]), "g%zu",
			    (size_t)((x >> (4 * k)) % 4));
			upar[k] = (struct cf_entity_ref){ "Group", gname[k] };
		}
		uattr[0] = (struct cf_attr){ .name = "n", .kind = CF_ATTR_LONG,
		    .i = (int64_t)((x >> 20) % 8) };
		layer[nl++] = (struct cf_entity_def){ .uid = { "User", "u" },
		    .attrs = uattr, .nattrs = 1, .parents = upar,
		    .nparents = (size_t)((x >> 24) % 5) };
		for (k = 0; k < 3; k++) {
			if (((x >> (28 + k)) & 1) == 0)
				continue;
			gpar[k] = (struct cf_entity_ref){ "Group",
			    k == 0 ? "g1" : k == 1 ? "g2" : "g3" };
			layer[nl++] = (struct cf_entity_def){ .uid = { "Group",
			    k == 0 ? "g0" : k == 1 ? "g1" : "g2" },
			    .parents = &gpar[k], .nparents = 1 };
		}
		(void)snprintf(nsname[0], sizeof(nsname[0]), "n%zu",
		    (size_t)((x >> 32) % 3));
		nspar[0] = (struct cf_entity_ref){ "Store", "coffer" };
		layer[nl++] = (struct cf_entity_def){ .uid = { "Namespace",
		    nsname[0] }, .parents = nspar, .nparents = 1 };
		(void)snprintf(oid, sizeof(oid), "%s/k", nsname[0]);
		oattr[0] = (struct cf_attr){ .name = "ns",
		    .kind = CF_ATTR_STRING, .s = nsname[0] };
		opar[0] = (struct cf_entity_ref){ "Namespace", nsname[0] };
		layer[nl++] = (struct cf_entity_def){ .uid = { "Object", oid },
		    .attrs = oattr, .nattrs = 1, .parents = opar,
		    .nparents = 1 };
		memcpy(all, layer, nl * sizeof(all[0]));
		memcpy(all + nl, bdefs, nb * sizeof(all[0]));
		assert_int_equal(cf_entities_build(all, nl + nb, &flat, NULL),
		    CF_OK);
		assert_int_equal(cf_entities_build_on(base, layer, nl, &lay,
		    NULL), CF_OK);
		assert_int_equal(cf_entities_count(lay), nl + nb);
		assert_true(cf_entities_equal(flat, lay));
		assert_true(cf_entities_equal(lay, flat));
		k = (size_t)((x >> 40) % 3);
		assert_int_equal(cf_request_build("User", "u", "Action",
		    acts[(x >> 36) % 4], k == 0 ? "Object" : k == 1 ?
		    "Namespace" : "Store", k == 0 ? oid : k == 1 ? nsname[0] :
		    "coffer", NULL, 0, &req, NULL), CF_OK);
		assert_int_equal(cf_policy_authorize(ps, flat, req, r1, NULL),
		    CF_OK);
		assert_int_equal(cf_policy_authorize(ps, lay, req, r2, NULL),
		    CF_OK);
		assert_int_equal(cf_response_decision(r1),
		    cf_response_decision(r2));
		assert_int_equal(cf_response_reason_count(r1),
		    cf_response_reason_count(r2));
		for (i = 0; i < cf_response_reason_count(r1); i++)
			assert_string_equal(cf_response_reason(r1, i),
			    cf_response_reason(r2, i));
		/* Three bases, as the monitor shares them: the actions, the
		 * principal with its defined groups, the namespace (whose
		 * parent, the store, the actions' base defines without
		 * parents); the object is the decision's own. */
		assert_int_equal(cf_entities_build_over(NULL, 0, layer,
		    nl - 2, CF_ENTITIES_SMALL, &pb, NULL), CF_OK);
		assert_int_equal(cf_entities_build(&layer[nl - 2], 1, &nb3,
		    NULL), CF_OK);
		bs[0] = base;
		bs[1] = pb;
		bs[2] = nb3;
		assert_int_equal(cf_entities_build_over(bs, 3, &layer[nl - 1],
		    1, 0, &over, NULL), CF_OK);
		/* Its owners drop theirs: the store keeps them alive. */
		cf_entities_free(pb);
		cf_entities_free(nb3);
		pb = nb3 = NULL;
		assert_int_equal(cf_entities_base_count(over), 3);
		assert_int_equal(cf_entities_count(over), nl + nb);
		assert_true(cf_entities_equal(flat, over));
		assert_true(cf_entities_equal(over, flat));
		assert_int_equal(cf_policy_authorize(ps, over, req, r2, NULL),
		    CF_OK);
		assert_int_equal(cf_response_decision(r1),
		    cf_response_decision(r2));
		assert_int_equal(cf_response_reason_count(r1),
		    cf_response_reason_count(r2));
		for (i = 0; i < cf_response_reason_count(r1); i++)
			assert_string_equal(cf_response_reason(r1, i),
			    cf_response_reason(r2, i));
		cf_entities_free(over);
		over = NULL;
		/* The same into a store and a request reused from the
		 * rounds before (cf_entities_rebuild_on,
		 * cf_request_rebuild). */
		if (reuse == NULL)
			assert_int_equal(cf_entities_build_on(base, NULL, 0,
			    &reuse, NULL), CF_OK);
		if (rreq == NULL)
			assert_int_equal(cf_request_build("User", "x",
			    "Action", "get", "Store", "coffer", NULL, 0, &rreq,
			    NULL), CF_OK);
		assert_int_equal(cf_entities_rebuild_on(reuse, base, layer, nl,
		    NULL), CF_OK);
		assert_int_equal(cf_request_rebuild(rreq, "User", "u",
		    "Action", acts[(x >> 36) % 4], k == 0 ? "Object" : k == 1 ?
		    "Namespace" : "Store", k == 0 ? oid : k == 1 ? nsname[0] :
		    "coffer", NULL, 0, NULL), CF_OK);
		assert_true(cf_entities_equal(flat, reuse));
		assert_true(cf_request_equal(req, rreq));
		assert_int_equal(cf_policy_authorize(ps, reuse, rreq, r2,
		    NULL), CF_OK);
		assert_int_equal(cf_response_reason_count(r1),
		    cf_response_reason_count(r2));
		for (i = 0; i < cf_response_reason_count(r1); i++)
			assert_string_equal(cf_response_reason(r1, i),
			    cf_response_reason(r2, i));
		if (cf_response_decision(r1) == CF_DECISION_ALLOW)
			allow++;
		cf_request_free(req);
		req = NULL;
		cf_entities_free(flat);
		flat = NULL;
		cf_entities_free(lay);
		lay = NULL;
	}
	/* The corpus decides both ways. */
	assert_true(allow > 100 && allow < 1900);
	/* A rebuild that fails leaves nothing behind: no entity, no base;
	 * a request whose rebuild failed cannot be decided on. */
	layer[0] = (struct cf_entity_def){ .uid = { "User", "u" } };
	layer[1] = (struct cf_entity_def){ .uid = { "User", "u" } };
	assert_int_equal(cf_entities_rebuild_on(reuse, base, layer, 2, NULL),
	    CF_E_INPUT);
	assert_int_equal(cf_entities_count(reuse), 0);
	assert_null(cf_entities_base(reuse));
	assert_int_equal(cf_request_rebuild(rreq, "Bad Type", "u", "Action",
	    "get", "Store", "coffer", NULL, 0, NULL), CF_E_INPUT);
	assert_int_equal(cf_policy_authorize(ps, reuse, rreq, r2, NULL),
	    CF_E_INVAL);
	assert_int_equal(cf_response_decision(r2), CF_DECISION_DENY);
	cf_entities_free(reuse);
	cf_request_free(rreq);

	/* An entity in both layers is a duplicate, as in one store. */
	layer[0] = (struct cf_entity_def){ .uid = { "Store", "coffer" } };
	assert_int_equal(cf_entities_build_on(base, layer, 1, &lay, NULL),
	    CF_E_INPUT);
	assert_null(lay);
	/* The layer defines an ancestor of a base entity: refused (the
	 * base's closure could not know that entity's parents). */
	bpar[0] = (struct cf_entity_ref){ "Action", "all" };
	layer[0] = (struct cf_entity_def){ .uid = { "Action", "read" },
	    .parents = bpar, .nparents = 1 };
	layer[1] = (struct cf_entity_def){ .uid = { "Action", "all" } };
	assert_int_equal(cf_entities_build(layer, 2, &flat, NULL), CF_OK);
	cf_error_clear(&err);
	assert_int_equal(cf_entities_build_on(flat, &layer[1], 0, &lay,
	    &err), CF_OK);
	cf_entities_free(lay);
	lay = NULL;
	{
		struct cf_entity_def	d[1];
		struct cf_entities	*b2 = NULL, *e3 = NULL;

		/* Base {read in all}, "all" dangling there; a layer that
		 * defines "all" with a parent is refused; without one, it
		 * is what the base took it for, and allowed. */
		assert_int_equal(cf_entities_build(layer, 1, &b2, NULL),
		    CF_OK);
		d[0] = (struct cf_entity_def){ .uid = { "Action", "all" },
		    .parents = &bpar[1], .nparents = 1 };
		bpar[1] = (struct cf_entity_ref){ "Action", "top" };
		assert_int_equal(cf_entities_build_on(b2, d, 1, &lay, &err),
		    CF_E_INVAL);
		assert_null(lay);
		/* The same when another base defines it. */
		assert_int_equal(cf_entities_build(d, 1, &e3, NULL), CF_OK);
		bs[0] = b2;
		bs[1] = e3;
		assert_int_equal(cf_entities_build_over(bs, 2, NULL, 0, 0,
		    &lay, &err), CF_E_INVAL);
		assert_null(lay);
		/* Two bases that share an entity: a duplicate. */
		bs[1] = b2;
		assert_int_equal(cf_entities_build_over(bs, 2, NULL, 0, 0,
		    &lay, &err), CF_E_INPUT);
		assert_null(lay);
		cf_entities_free(e3);
		e3 = NULL;
		d[0].nparents = 0;
		assert_int_equal(cf_entities_build_on(b2, d, 1, &lay, &err),
		    CF_OK);
		cf_entities_free(lay);
		lay = NULL;
		/* A layer over a layer: refused. */
		assert_int_equal(cf_entities_build_on(flat, NULL, 0, &lay,
		    NULL), CF_OK);
		assert_int_equal(cf_entities_build_on(lay, NULL, 0, &e3,
		    NULL), CF_E_INVAL);
		assert_null(e3);
		cf_entities_free(lay);
		lay = NULL;
		cf_entities_free(b2);
	}
	cf_entities_free(flat);
	cf_response_free(r1);
	cf_response_free(r2);
	cf_policy_set_free(ps);
	cf_entities_free(base);
}

/* Shared subexpressions (eval.c): a decision answers structurally equal
 * operands of `&&` and `||` in several policies from one evaluation.
 * Random policies built from a small pool of subexpressions (so that
 * many are shared, some with errors, entity literals, patterns, sets,
 * records, extension values and a malformed literal), decided over
 * random entities with the memo and without: the same decision,
 * reasons, errors with their messages, and steps. */
static const char *const memo_pool[] = {
	"resource has env && resource.env == \"dev\"",
	"resource.sensitivity <= 1 && principal.kind == \"service\"",
	"principal.name like \"svc-*-x*\"",
	"principal.n + 1 > 3",
	"resource.missing == 1",
	"principal in Group::\"g1\" || principal in Group::\"g2\"",
	"[1, 2, principal.n].contains(2)",
	"{a: principal.n, b: \"x\"}.a == 2",
	"context.ip.isInRange(ip(\"10.0.0.0/8\"))",
	"ip(\"nonsense\").isIpv4()",
	"if principal.n > 2 then resource.env == \"prod\" else false",
	"principal.n * 4611686018427387904 > 0",
	"decimal(\"1.5\").lessThan(decimal(\"2.0\"))",
	"resource.sensitivity <= 1",
	"principal.kind == \"service\"",
};

static void
memo_cond(char *buf, size_t sz, uint64_t *x)
{
	size_t	k, n, np = sizeof(memo_pool) / sizeof(memo_pool[0]);
	size_t	o = 0;

	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	n = 1 + (size_t)(*x % 4);
	for (k = 0; k < n; k++)
		o += (size_t)snprintf(buf + o, sz - o, "%s(%s)",
		    k == 0 ? "" : (*x >> (8 + k)) & 1 ? " && " : " || ",
		    memo_pool[(*x >> (16 + 4 * k)) % np]);
}

/* The same decision with the memo and without. */
static void
memo_both(const struct cf_policy_set *ps, const struct cf_entities *es,
    const struct cf_request *req, struct cf_response *r1,
    struct cf_response *r2)
{
	size_t	i;

	cf_pol_memo_off = false;
	assert_int_equal(cf_policy_authorize(ps, es, req, r1, NULL), CF_OK);
	cf_pol_memo_off = true;
	assert_int_equal(cf_policy_authorize(ps, es, req, r2, NULL), CF_OK);
	cf_pol_memo_off = false;
	assert_int_equal(cf_response_decision(r1), cf_response_decision(r2));
	assert_int_equal(cf_response_steps(r1), cf_response_steps(r2));
	assert_int_equal(cf_response_reason_count(r1),
	    cf_response_reason_count(r2));
	for (i = 0; i < cf_response_reason_count(r1); i++)
		assert_string_equal(cf_response_reason(r1, i),
		    cf_response_reason(r2, i));
	assert_int_equal(cf_response_error_count(r1),
	    cf_response_error_count(r2));
	for (i = 0; i < cf_response_error_count(r1); i++) {
		assert_string_equal(cf_response_error_id(r1, i),
		    cf_response_error_id(r2, i));
		assert_string_equal(cf_response_error_msg(r1, i),
		    cf_response_error_msg(r2, i));
	}
}

static void
test_policy_memo_exact(void **state)
{
	struct cf_entity_ref	 par[2];
	struct cf_entity_def	 d[2];
	struct cf_attr		 pa[3], ra[2], ctx[1];
	struct cf_entities	*es = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*r1 = NULL, *r2 = NULL;
	char			*src, cond[1024];
	uint64_t		 x = 0x9e3779b97f4a7c15ULL, hits = 0;
	size_t			 round, k, o;

	(void)state;
	src = cf_malloc(64 * 1024);
	assert_non_null(src);
	assert_int_equal(cf_response_new(&r1, NULL), CF_OK);
	assert_int_equal(cf_response_new(&r2, NULL), CF_OK);
	for (round = 0; round < 300; round++) {
		/* Twenty policies from the pool, permits and forbids. */
		o = 0;
		for (k = 0; k < 20; k++) {
			memo_cond(cond, sizeof(cond), &x);
			o += (size_t)snprintf(src + o, 64 * 1024 - o,
			    "@id(\"p%zu\") %s (principal, action, resource) "
			    "when { %s };\n", k, (x >> 40) % 4 == 0 ?
			    "forbid" : "permit", cond);
		}
		assert_int_equal(cf_policy_set_parse(src, o, &ps, NULL),
		    CF_OK);
		par[0] = (struct cf_entity_ref){ "Group", (x >> 44) & 1 ?
		    "g1" : "g3" };
		pa[0] = (struct cf_attr){ .name = "kind",
		    .kind = CF_ATTR_STRING, .s = (x >> 45) & 1 ? "service" :
		    "user" };
		pa[1] = (struct cf_attr){ .name = "name",
		    .kind = CF_ATTR_STRING, .s = (x >> 46) & 1 ?
		    "svc-1-xy" : "alice" };
		pa[2] = (struct cf_attr){ .name = "n", .kind = CF_ATTR_LONG,
		    .i = (int64_t)((x >> 47) % 5) };
		ra[0] = (struct cf_attr){ .name = "env",
		    .kind = CF_ATTR_STRING, .s = (x >> 50) & 1 ? "dev" :
		    "prod" };
		ra[1] = (struct cf_attr){ .name = "sensitivity",
		    .kind = CF_ATTR_LONG, .i = (int64_t)((x >> 51) % 3) };
		d[0] = (struct cf_entity_def){ .uid = { "User", "u" },
		    .attrs = pa, .nattrs = 3, .parents = par, .nparents = 1 };
		d[1] = (struct cf_entity_def){ .uid = { "Object", "o" },
		    .attrs = ra, .nattrs = (x >> 53) & 1 ? 2 : 1 };
		assert_int_equal(cf_entities_build(d, 2, &es, NULL), CF_OK);
		ctx[0] = (struct cf_attr){ .name = "ip", .kind = CF_ATTR_IP,
		    .s = (x >> 54) & 1 ? "10.1.2.3" : "192.168.0.1" };
		assert_int_equal(cf_request_build("User", "u", "Action",
		    "get", "Object", "o", ctx, (x >> 55) & 1, &req, NULL),
		    CF_OK);
		memo_both(ps, es, req, r1, r2);
		cf_request_free(req);
		req = NULL;
		cf_entities_free(es);
		es = NULL;
		cf_policy_set_free(ps);
		ps = NULL;
	}
	/* Shared operands were answered from the memo (and none
	 * without it). */
	hits = cf_pol_memo_hits(r1);
	assert_true(hits > 1000);
	assert_int_equal(cf_pol_memo_hits(r2), 0);
	cf_free(src);
	cf_response_free(r1);
	cf_response_free(r2);
}

/* The candidates' scope filters and the indexes' blooms only skip
 * policies that could not match: every scope form, decided over a grid
 * of requests (uids in and out of the store, through nested groups and
 * action groups), gives the same reasons with them and without. */
static void
test_policy_scope_filter_exact(void **state)
{
	static const char pol[] =
	    "@id(\"p_eq\") permit (principal == User::\"u1\", action, "
	    "resource);\n"
	    "@id(\"p_in\") permit (principal in Group::\"g2\", action, "
	    "resource);\n"
	    "@id(\"p_is\") permit (principal is Service, action, resource);\n"
	    "@id(\"p_isin\") permit (principal is User in Group::\"g1\", "
	    "action, resource);\n"
	    "@id(\"a_eq\") permit (principal, action == Action::\"get\", "
	    "resource);\n"
	    "@id(\"a_in\") permit (principal, action in Action::\"read\", "
	    "resource);\n"
	    "@id(\"a_list\") permit (principal, action in [Action::\"put\", "
	    "Action::\"read\"], resource);\n"
	    "@id(\"a_none\") permit (principal, action in [], resource);\n"
	    "@id(\"r_eq\") permit (principal, action, "
	    "resource == Object::\"o1\");\n"
	    "@id(\"r_in\") permit (principal, action, "
	    "resource in Namespace::\"n1\");\n"
	    "@id(\"r_is\") permit (principal, action, resource is "
	    "Namespace);\n"
	    "@id(\"r_isin\") permit (principal, action, resource is Object "
	    "in Namespace::\"n1\");\n"
	    "@id(\"mix\") permit (principal in Group::\"g1\", "
	    "action in [Action::\"get\"], resource in Namespace::\"n2\");\n"
	    "@id(\"f\") forbid (principal == Service::\"s1\", "
	    "action in Action::\"write\", resource);\n";
	static const struct cf_entity_ref g1p = { "Group", "g1" };
	static const struct cf_entity_ref g2p = { "Group", "g2" };
	static const struct cf_entity_ref readp = { "Action", "read" };
	static const struct cf_entity_ref writep = { "Action", "write" };
	static const struct cf_entity_ref n1p = { "Namespace", "n1" };
	static const struct cf_entity_ref n2p = { "Namespace", "n2" };
	static const char *const pr[][2] = { { "User", "u1" },
	    { "User", "u2" }, { "Service", "s1" }, { "User", "nobody" } };
	static const char *const ac[] = { "get", "put", "del" };
	static const char *const rs[][2] = { { "Object", "o1" },
	    { "Object", "o2" }, { "Namespace", "n1" },
	    { "Namespace", "n2" } };
	struct cf_entity_def	 d[11];
	struct cf_entities	*es = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*r1 = NULL, *r2 = NULL;
	size_t			 i, j, k, m, allowed = 0, reasons = 0;

	(void)state;
	memset(d, 0, sizeof(d));
	d[0] = (struct cf_entity_def){ .uid = { "User", "u1" },
	    .parents = &g1p, .nparents = 1 };
	d[1] = (struct cf_entity_def){ .uid = { "Group", "g1" },
	    .parents = &g2p, .nparents = 1 };
	d[2] = (struct cf_entity_def){ .uid = { "Group", "g2" } };
	d[3] = (struct cf_entity_def){ .uid = { "User", "u2" } };
	d[4] = (struct cf_entity_def){ .uid = { "Service", "s1" },
	    .parents = &g2p, .nparents = 1 };
	d[5] = (struct cf_entity_def){ .uid = { "Action", "get" },
	    .parents = &readp, .nparents = 1 };
	d[6] = (struct cf_entity_def){ .uid = { "Action", "put" },
	    .parents = &writep, .nparents = 1 };
	d[7] = (struct cf_entity_def){ .uid = { "Object", "o1" },
	    .parents = &n1p, .nparents = 1 };
	d[8] = (struct cf_entity_def){ .uid = { "Object", "o2" },
	    .parents = &n2p, .nparents = 1 };
	d[9] = (struct cf_entity_def){ .uid = { "Namespace", "n1" } };
	d[10] = (struct cf_entity_def){ .uid = { "Namespace", "n2" } };
	assert_int_equal(cf_entities_build(d, 11, &es, NULL), CF_OK);
	assert_int_equal(cf_policy_set_parse(pol, sizeof(pol) - 1, &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_response_new(&r1, NULL), CF_OK);
	assert_int_equal(cf_response_new(&r2, NULL), CF_OK);
	for (i = 0; i < sizeof(pr) / sizeof(pr[0]); i++)
		for (j = 0; j < sizeof(ac) / sizeof(ac[0]); j++)
			for (k = 0; k < sizeof(rs) / sizeof(rs[0]); k++) {
				assert_int_equal(cf_request_build(pr[i][0],
				    pr[i][1], "Action", ac[j], rs[k][0],
				    rs[k][1], NULL, 0, &req, NULL), CF_OK);
				cf_pol_filter_off = false;
				assert_int_equal(cf_policy_authorize(ps, es,
				    req, r1, NULL), CF_OK);
				cf_pol_filter_off = true;
				assert_int_equal(cf_policy_authorize(ps, es,
				    req, r2, NULL), CF_OK);
				cf_pol_filter_off = false;
				assert_int_equal(cf_response_decision(r1),
				    cf_response_decision(r2));
				assert_int_equal(cf_response_reason_count(r1),
				    cf_response_reason_count(r2));
				for (m = 0; m < cf_response_reason_count(r1);
				    m++)
					assert_string_equal(
					    cf_response_reason(r1, m),
					    cf_response_reason(r2, m));
				if (cf_response_decision(r1) ==
				    CF_DECISION_ALLOW)
					allowed++;
				reasons += cf_response_reason_count(r1);
				cf_request_free(req);
				req = NULL;
			}
	/* Denied: Service::"s1" putting anything (the forbid), and
	 * User::"u2" (in no group) and the unknown principal deleting o2
	 * (no scope matches). */
	assert_int_equal(allowed, 48 - 4 - 2);
	assert_true(reasons > 100);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	cf_response_free(r1);
	cf_response_free(r2);
}

/* A memo hit is charged the steps of the first evaluation; when the
 * budget left cannot pay them the expression is evaluated again and
 * runs out where it would have without the memo. */
static void
test_policy_memo_budget(void **state)
{
	static const char pol[] =
	    "@id(\"a\") permit (principal, action, resource) when "
	    "{ principal.big.contains(-1) || principal.n == 1 };\n"
	    "@id(\"b\") permit (principal, action, resource) when "
	    "{ principal.big.contains(-1) || principal.n == 2 };\n"
	    "@id(\"c\") forbid (principal, action, resource) when "
	    "{ principal.big.contains(-1) || principal.n == 3 };\n";
	struct cf_entity_def	 d[1];
	struct cf_attr		 pa[2];
	struct cf_entities	*es = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*r1 = NULL, *r2 = NULL;
	json_t			*big;
	size_t			 i;

	(void)state;
	big = json_array();
	assert_non_null(big);
	for (i = 0; i < CF_POLICY_MAX_STEPS * 2 / 5; i++)
		assert_int_equal(json_array_append_new(big,
		    json_integer((json_int_t)i)), 0);
	pa[0] = (struct cf_attr){ .name = "big", .kind = CF_ATTR_JSON,
	    .json = big };
	pa[1] = (struct cf_attr){ .name = "n", .kind = CF_ATTR_LONG, .i = 2 };
	d[0] = (struct cf_entity_def){ .uid = { "User", "u" }, .attrs = pa,
	    .nattrs = 2 };
	assert_int_equal(cf_entities_build(d, 1, &es, NULL), CF_OK);
	json_decref(big);
	assert_int_equal(cf_policy_set_parse(pol, sizeof(pol) - 1, &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_request_build("User", "u", "Action", "get",
	    "Object", "o", NULL, 0, &req, NULL), CF_OK);
	assert_int_equal(cf_response_new(&r1, NULL), CF_OK);
	assert_int_equal(cf_response_new(&r2, NULL), CF_OK);
	memo_both(ps, es, req, r1, r2);
	assert_int_equal(cf_pol_memo_hits(r1), 1);
	/* a: false; b: from the memo, allows; c: the budget cannot pay
	 * the scan again, so it errors, and a forbid that runs out of
	 * steps applies. */
	assert_int_equal(cf_response_decision(r1), CF_DECISION_DENY);
	assert_int_equal(cf_response_steps(r1), CF_POLICY_MAX_STEPS);
	assert_int_equal(cf_response_error_count(r1), 1);
	assert_string_equal(cf_response_error_id(r1, 0), "c");
	cf_request_free(req);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	cf_response_free(r1);
	cf_response_free(r2);
}

/* Fields the caller vouches for (CF_ATTR_NAME_STATIC, CF_ATTR_VALUE_UTF8)
 * build the same store as unflagged ones; a string vouched for that is
 * not UTF-8 is refused in a debug build (a bug of the caller). */
static void
test_policy_build_vouched(void **state)
{
	struct cf_attr		 a[3], b[3];
	struct cf_entity_def	 d;
	struct cf_entities	*e1 = NULL, *e2 = NULL;
	struct cf_request	*q1 = NULL, *q2 = NULL;
	size_t			 i;

	(void)state;
	a[0] = (struct cf_attr){ .name = "name", .kind = CF_ATTR_STRING,
	    .s = "caf\xc3\xa9" };
	a[1] = (struct cf_attr){ .name = "ip", .kind = CF_ATTR_IP,
	    .s = "10.0.0.1" };
	a[2] = (struct cf_attr){ .name = "n", .kind = CF_ATTR_LONG, .i = 3 };
	memcpy(b, a, sizeof(a));
	for (i = 0; i < 3; i++)
		b[i].flags = CF_ATTR_NAME_STATIC | (i < 2 ?
		    CF_ATTR_VALUE_UTF8 : 0);
	d = (struct cf_entity_def){ .uid = { "User", "u" }, .attrs = a,
	    .nattrs = 3 };
	assert_int_equal(cf_entities_build(&d, 1, &e1, NULL), CF_OK);
	d.attrs = b;
	assert_int_equal(cf_entities_build(&d, 1, &e2, NULL), CF_OK);
	assert_true(cf_entities_equal(e1, e2));
	assert_int_equal(cf_request_build("User", "u", "Action", "get",
	    "User", "u", a, 3, &q1, NULL), CF_OK);
	assert_int_equal(cf_request_build("User", "u", "Action", "get",
	    "User", "u", b, 3, &q2, NULL), CF_OK);
	assert_true(cf_request_equal(q1, q2));
	cf_entities_free(e1);
	cf_entities_free(e2);
	cf_request_free(q1);
	cf_request_free(q2);
	/* Unflagged, a string that is not UTF-8 is refused as input. */
	a[0].s = "caf\xc3";
	d.attrs = a;
	e1 = NULL;
	assert_int_equal(cf_entities_build(&d, 1, &e1, NULL), CF_E_INPUT);
	assert_null(e1);
#ifndef NDEBUG
	b[0].s = "caf\xc3";
	d.attrs = b;
	assert_int_equal(cf_entities_build(&d, 1, &e1, NULL), CF_E_INVAL);
	assert_null(e1);
#endif
}

/* A layer over a base survives every allocation failure. */
static void
test_policy_build_layered_alloc_failure(void **state)
{
	struct cf_entity_ref	 p[3] = { { "Action", "read" },
				     { "Group", "g" }, { "Store", "s" } };
	struct cf_entity_def	 b[3] = {
		{ .uid = { "Action", "get" }, .parents = &p[0], .nparents = 1 },
		{ .uid = { "Action", "read" } },
		{ .uid = { "Store", "s" } } };
	struct cf_entity_def	 l[2] = {
		{ .uid = { "User", "u" }, .parents = &p[1], .nparents = 1 },
		{ .uid = { "Group", "g" }, .parents = &p[2], .nparents = 1 } };
	struct cf_entities	*base = NULL, *es = NULL;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	assert_int_equal(cf_entities_build(b, 3, &base, NULL), CF_OK);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_entities_build_on(base, l, 2, &es, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(es);
	}
	assert_int_equal(cf_entities_count(es), 5);
	assert_int_equal(cf_pol_entity_get(es, es->ents[1].uid)->nanc, 1);
	assert_int_equal(es->ents[0].nanc, 2);
	/* Over two bases (the second a small store), every failure. */
	{
		const struct cf_entities	*bs[2];
		struct cf_entities		*pb = NULL, *over = NULL;

		for (n = 1;; n++) {
			cf_test_fail_alloc_after(n);
			rc = cf_entities_build_over(NULL, 0, &l[1], 1,
			    CF_ENTITIES_SMALL, &pb, NULL);
			cf_test_fail_alloc_after(0);
			if (rc == CF_OK)
				break;
			assert_int_equal(rc, CF_E_NOMEM);
			assert_null(pb);
		}
		bs[0] = base;
		bs[1] = pb;
		for (n = 1;; n++) {
			cf_test_fail_alloc_after(n);
			rc = cf_entities_build_over(bs, 2, &l[0], 1, 0, &over,
			    NULL);
			cf_test_fail_alloc_after(0);
			if (rc == CF_OK)
				break;
			assert_int_equal(rc, CF_E_NOMEM);
			assert_null(over);
		}
		assert_true(cf_entities_equal(es, over));
		cf_entities_free(pb);
		cf_entities_free(over);
	}
	cf_entities_free(es);
	cf_entities_free(base);
}

/* inspect.c: which policies mention the context, and which could apply
 * to a request by their scope alone. */
static const char inspect_src[] =
    "@id(\"ctx\") permit (principal == User::\"a\", action, resource)\n"
    "when { context.mfa };\n"
    "@id(\"plain\") permit (principal, action, resource in "
    "Namespace::\"ml\") when { principal.name == \"a\" };\n"
    "@id(\"nested\") forbid (principal, action, resource)\n"
    "unless { [1, 2].contains(if true then context.n else 3) };\n"
    "@id(\"other\") permit (principal == User::\"b\", action, resource)\n"
    "when { context.mfa };\n"
    "@id(\"tmpl\") permit (principal == ?principal, action, resource)\n"
    "when { context has purpose };\n";

static cf_err
inspect_cb(void *arg, const char *id, bool uses_context, struct cf_error *err)
{
	char	*seen = arg;
	size_t	 n = strlen(seen);

	(void)err;
	(void)snprintf(seen + n, 256 - n, "%s%s:%d", n > 0 ? "," : "", id,
	    uses_context ? 1 : 0);
	return CF_OK;
}

static void
test_policy_inspect(void **state)
{
	static const char ents_json[] = "[{\"uid\":{\"type\":\"User\","
	    "\"id\":\"a\"},\"attrs\":{\"name\":\"a\"},\"parents\":[]},"
	    "{\"uid\":{\"type\":\"Object\",\"id\":\"ml/k\"},\"attrs\":{},"
	    "\"parents\":[{\"type\":\"Namespace\",\"id\":\"ml\"}]}]";
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	char			 seen[256] = "";

	(void)state;
	assert_int_equal(cf_policy_set_parse(inspect_src,
	    sizeof(inspect_src) - 1, &ps, NULL), CF_OK);
	assert_true(cf_policy_uses_context(ps, "ctx"));
	assert_false(cf_policy_uses_context(ps, "plain"));
	assert_true(cf_policy_uses_context(ps, "nested"));
	assert_true(cf_policy_uses_context(ps, "tmpl"));
	assert_false(cf_policy_uses_context(ps, "nonesuch"));
	assert_int_equal(cf_entities_parse(ents_json, sizeof(ents_json) - 1,
	    &es, NULL), CF_OK);
	assert_int_equal(cf_request_new("User", "a", "Action", "read",
	    "Object", "ml/k", NULL, &req, NULL), CF_OK);
	assert_int_equal(cf_policy_scope_matches(ps, es, req, inspect_cb,
	    seen, NULL), CF_OK);
	/* "other" names another principal: it cannot apply, whatever the
	 * context; templates are not in force. */
	assert_string_equal(seen, "ctx:1,plain:0,nested:1");
	cf_request_free(req);
	cf_entities_free(es);
	cf_policy_set_free(ps);
}

static bool
ptr_eq(const void *x, const void *y)
{
	return x == y;
}

/* A set in the caller's buffer allocates nothing while it fits (a
 * decision's store closes its hierarchy with one), moves to the heap
 * when it grows, and never frees the buffer. */
static void
test_policy_hset_buf(void **state)
{
	struct cf_pol_hset	s;
	struct cf_pol_hslot	buf[4];
	static int		x[200];
	size_t			i;
	bool			added;

	(void)state;
	cf_pol_hset_init_buf(&s, buf, 4);
	/* Room for two without an allocation: every one fails here. */
	cf_test_fail_alloc_after(1);
	for (i = 0; i < 2; i++) {
		assert_int_equal(cf_pol_hset_add(&s, i * 7919, &x[i], ptr_eq,
		    &added), CF_OK);
		assert_true(added);
		if (i > 0)
			continue;
		assert_int_equal(cf_pol_hset_add(&s, 0, &x[0], ptr_eq,
		    &added), CF_OK);
		assert_false(added);
	}
	assert_int_equal(cf_pol_hset_add(&s, 5, &x[5], ptr_eq, &added),
	    CF_E_NOMEM);
	cf_test_fail_alloc_after(0);
	assert_ptr_equal(s.slot, buf);
	/* Grows to the heap, keeping what it held; hashes collide. */
	for (i = 0; i < 200; i++) {
		assert_int_equal(cf_pol_hset_add(&s, i % 3 == 0 ? 42 :
		    i * 7919, &x[i], ptr_eq, &added), CF_OK);
		assert_true(added == (i >= 2 || i % 3 == 0));
	}
	assert_true(s.own);
	assert_ptr_not_equal(s.slot, buf);
	for (i = 0; i < 200; i++)
		assert_ptr_equal(cf_pol_hset_get(&s, i % 3 == 0 ? 42 :
		    i * 7919, &x[i], ptr_eq), &x[i]);
	cf_pol_hset_clear(&s);
	assert_null(cf_pol_hset_get(&s, 42, &x[0], ptr_eq));
	cf_pol_hset_free(&s);		/* frees the heap's, not buf */
	/* Cleared while still in buf, and freed from there. */
	cf_pol_hset_init_buf(&s, buf, 4);
	assert_int_equal(cf_pol_hset_add(&s, 1, &x[1], ptr_eq, &added),
	    CF_OK);
	cf_pol_hset_clear(&s);
	assert_null(cf_pol_hset_get(&s, 1, &x[1], ptr_eq));
	cf_pol_hset_free(&s);
}

/* Equal memoized operands of one set share their written-out bytes
 * (a memo hit compares two pointers, and the set keeps one copy);
 * those of two sets are equal by their bytes. */
static void
test_policy_memo_shared_bytes(void **state)
{
	static const char src[] =
	    "permit (principal, action, resource) when {\n"
	    "  resource has env && resource.env == \"dev\" &&\n"
	    "  principal.kind == \"service\" && principal.name like \"a*\"\n"
	    "};\n"
	    "permit (principal, action, resource) when {\n"
	    "  resource has env && resource.env == \"dev\" &&\n"
	    "  principal.kind == \"service\" && principal.name like \"b*\"\n"
	    "};\n"
	    "permit (principal, action, resource) when {\n"
	    "  resource has env && resource.env == \"prod\" &&\n"
	    "  principal.kind == \"service\" && principal.name like \"b*\"\n"
	    "};\n";
	struct cf_policy_set	*ps = NULL, *ps2 = NULL;
	const struct cf_pol_expr *x[3], *y;
	size_t			 i;

	(void)state;
	assert_int_equal(cf_policy_set_parse(src, sizeof(src) - 1, &ps,
	    NULL), CF_OK);
	assert_int_equal(cf_policy_set_parse(src, sizeof(src) - 1, &ps2,
	    NULL), CF_OK);
	for (i = 0; i < 3; i++) {
		/* resource has env && resource.env == "...": the
		 * operand of three &&s up (one more is over 512 bytes
		 * written out, and not memoized). */
		x[i] = ps->pols[i]->conds[0].e->a->a;
		assert_true(x[i]->memo);
	}
	assert_ptr_equal(x[0]->ser, x[1]->ser);
	assert_true(cf_pol_expr_same(x[0], x[1]));
	assert_ptr_not_equal(x[0]->ser, x[2]->ser);
	assert_false(cf_pol_expr_same(x[0], x[2]));
	y = ps2->pols[1]->conds[0].e->a->a;
	assert_ptr_not_equal(x[0]->ser, y->ser);
	assert_true(cf_pol_expr_same(x[0], y));
	assert_false(cf_pol_expr_same(x[2], y));
	cf_policy_set_free(ps);
	cf_policy_set_free(ps2);
}

/* An entity's ancestors are sorted for `in`'s binary search: by
 * insertion up to 16 of them, by qsort beyond; every ancestor is found
 * and nothing else, whatever their number. */
static void
test_policy_ancestors_sorted(void **state)
{
	struct cf_entity_ref		 par[40];
	struct cf_entity_def		 d[41];
	char				 id[40][16];
	struct cf_entities		*es = NULL;
	struct cf_pol_arena		 ar;
	const struct cf_pol_entity	*ent;
	const struct cf_pol_uid		*u, *g;
	size_t				 n, i, k;

	(void)state;
	cf_pol_arena_init(&ar);
	for (n = 0; n <= 40; n++) {
		memset(d, 0, sizeof(d));
		d[0].uid.type = "User";
		d[0].uid.id = "alice";
		for (i = 0; i < n; i++) {
			(void)snprintf(id[i], sizeof(id[i]), "g%zu",
			    (i * 37 + 11) % 1000);
			par[i].type = i % 3 == 0 ? "Role" : "Group";
			par[i].id = id[i];
			d[1 + i].uid = par[i];
		}
		d[0].parents = par;
		d[0].nparents = n;
		assert_int_equal(cf_entities_build(d, n + 1, &es, NULL), CF_OK);
		u = cf_pol_uid_new(&ar, "User", 4, "alice", 5);
		ent = cf_pol_entity_get(es, u);
		assert_non_null(ent);
		assert_int_equal(ent->nanc, n);
		for (k = 1; k < n; k++)
			assert_true(ent->anc[k - 1]->hash <= ent->anc[k]->hash);
		for (i = 0; i < n; i++) {
			g = cf_pol_uid_new(&ar, par[i].type,
			    strlen(par[i].type), par[i].id, strlen(par[i].id));
			assert_true(cf_pol_entity_in(ent, u, g));
		}
		g = cf_pol_uid_new(&ar, "Group", 5, "nobody", 6);
		assert_false(cf_pol_entity_in(ent, u, g));
		cf_entities_free(es);
		es = NULL;
	}
	cf_pol_arena_free(&ar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_inspect),
		cmocka_unit_test(test_policy_operators),
		cmocka_unit_test(test_policy_strings_like),
		cmocka_unit_test(test_policy_like_escapes_as_in_cedar),
		cmocka_unit_test(test_policy_entities),
		cmocka_unit_test(test_policy_extensions),
		cmocka_unit_test(test_policy_decision),
		cmocka_unit_test(test_policy_parts),
		cmocka_unit_test(test_policy_parse_errors),
		cmocka_unit_test(test_policy_deep_nesting),
		cmocka_unit_test(test_policy_json_inputs),
		cmocka_unit_test(test_policy_step_budget),
		cmocka_unit_test(test_policy_nesting_is_linear),
		cmocka_unit_test(test_policy_loading_is_linear),
		cmocka_unit_test(
		    test_policy_parse_survives_every_alloc_failure),
		cmocka_unit_test(
		    test_policy_entities_survive_every_alloc_failure),
		cmocka_unit_test(
		    test_policy_authorize_survives_every_alloc_failure),
		cmocka_unit_test(test_policy_build_matches_json),
		cmocka_unit_test(test_policy_build_tags),
		cmocka_unit_test(test_policy_build_rejects),
		cmocka_unit_test(
		    test_policy_build_survives_every_alloc_failure),
		cmocka_unit_test(test_policy_build_layered),
		cmocka_unit_test(test_policy_hset_buf),
		cmocka_unit_test(test_policy_ancestors_sorted),
		cmocka_unit_test(test_policy_build_layered_alloc_failure),
		cmocka_unit_test(test_policy_memo_exact),
		cmocka_unit_test(test_policy_scope_filter_exact),
		cmocka_unit_test(test_policy_memo_shared_bytes),
		cmocka_unit_test(test_policy_memo_budget),
		cmocka_unit_test(test_policy_build_vouched),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
