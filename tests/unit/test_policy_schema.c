/* cf-link: cf_policy cf_base
 *
 * tests/unit/test_policy_schema.c: the Cedar schema parser and the strict
 * validator (src/policy/schema.c, validate.c).  The Cedar corpus in
 * tests/conformance checks verdicts broadly; these pin down the error
 * messages and locations, the limits, the API and the failure paths. */
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

static const char schema_src[] =
    "// A small application.\n"
    "namespace App {\n"
    "  type Addr = { ip: ipaddr, zip?: String };\n"
    "  @doc(\"people\")\n"
    "  entity User in [Group] = { name: String, age?: Long,\n"
    "      addr: Addr, roles: Set<Role> } tags String;\n"
    "  entity Group;\n"
    "  entity Role enum [\"admin\", \"viewer\"];\n"
    "  entity Doc { owner: User, secret: Bool };\n"
    "  action read, write in [\"all\"] appliesTo {\n"
    "    principal: [User], resource: Doc,\n"
    "    context: { mfa: Bool, when?: __cedar::datetime }\n"
    "  };\n"
    "  action \"all\";\n"
    "}\n";

static struct cf_schema *
schema(void)
{
	struct cf_schema	*s = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	if (cf_schema_parse(schema_src, sizeof(schema_src) - 1, &s, &err) !=
	    CF_OK)
		fail_msg("schema: %s", err.msg);
	return s;
}

static void
test_policy_schema_parses(void **state)
{
	struct cf_schema	*s = schema();

	(void)state;
	assert_int_equal(cf_schema_entity_type_count(s), 4);
	assert_int_equal(cf_schema_action_count(s), 3);
	assert_true(cf_schema_has_entity_type(s, "App::User"));
	assert_false(cf_schema_has_entity_type(s, "User"));
	assert_true(cf_schema_has_action(s, "App::Action", "read"));
	assert_true(cf_schema_has_action(s, "App::Action", "all"));
	assert_false(cf_schema_has_action(s, "Action", "read"));
	cf_schema_free(s);
	cf_schema_free(NULL);
}

static void
expect_schema_error(const char *src, cf_err want, const char *msg)
{
	struct cf_schema	*s = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	assert_int_equal(cf_schema_parse(src, strlen(src), &s, &err), want);
	assert_null(s);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("schema %s: got \"%s\", want \"%s\"", src, err.msg,
		    msg);
}

static void
test_policy_schema_errors(void **state)
{
	char	deep[400];
	size_t	i, n = 0;

	(void)state;
	expect_schema_error("entity A;\nentity B {", CF_E_INPUT,
	    "2:11: unexpected end of input");
	expect_schema_error("entity A { x: Nope };", CF_E_INPUT,
	    "1:15: undeclared type `Nope`");
	expect_schema_error("entity A; entity A;", CF_E_INPUT,
	    "`A` is declared twice");
	expect_schema_error("entity A { x: Long, x: String };", CF_E_INPUT,
	    "duplicate attribute `x`");
	expect_schema_error("type T = { a: U }; type U = T; entity A;",
	    CF_E_INPUT, "defined in terms of itself");
	expect_schema_error("action a in [b]; action b in [a];", CF_E_INPUT,
	    "cycle of the action hierarchy");
	expect_schema_error("action a in [nope];", CF_E_INPUT,
	    "undeclared action");
	expect_schema_error("entity A; action a appliesTo { principal: A, "
	    "resource: A, context: Long };", CF_E_INPUT,
	    "context of an action must be a record");
	expect_schema_error("action a appliesTo { principal: [Nope] };",
	    CF_E_INPUT, "undeclared entity type `Nope`");
	expect_schema_error("entity A # ;", CF_E_INPUT, "invalid character");
	n += (size_t)snprintf(deep, sizeof(deep), "entity A { x: ");
	for (i = 0; i < 70; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "Set<");
	(void)snprintf(deep + n, sizeof(deep) - n, "Long");
	expect_schema_error(deep, CF_E_LIMIT, "nested deeper than");
}

/* Validate policy src against the test schema; return the errors as one
 * "line:col: message\n" string each, in buf. */
static bool
validate(const char *src, char *buf, size_t sz)
{
	struct cf_schema	*s = schema();
	struct cf_policy_set	*ps = NULL;
	struct cf_validation	*v = NULL;
	struct cf_error		 err;
	size_t			 i, n = 0;
	bool			 ok;

	cf_error_clear(&err);
	if (cf_policy_set_parse(src, strlen(src), &ps, &err) != CF_OK)
		fail_msg("policy: %s", err.msg);
	assert_int_equal(cf_validation_new(&v, &err), CF_OK);
	assert_int_equal(cf_policy_validate(s, ps, v, &err), CF_OK);
	buf[0] = '\0';
	for (i = 0; i < cf_validation_error_count(v); i++)
		n += (size_t)snprintf(buf + n, n < sz ? sz - n : 0,
		    "%u:%u: %s: %s\n", cf_validation_error_line(v, i),
		    cf_validation_error_col(v, i),
		    cf_validation_error_policy(v, i),
		    cf_validation_error_msg(v, i));
	ok = cf_validation_ok(v);
	assert_true(ok == (cf_validation_error_count(v) == 0));
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(s);
	return ok;
}

static void
expect_valid(const char *src)
{
	char	buf[2048];

	if (!validate(src, buf, sizeof(buf)))
		fail_msg("%s: unexpected errors:\n%s", src, buf);
}

static void
expect_invalid(const char *src, const char *msg)
{
	char	buf[2048];

	if (validate(src, buf, sizeof(buf)))
		fail_msg("%s: valid, expected \"%s\"", src, msg);
	if (strstr(buf, msg) == NULL)
		fail_msg("%s: got\n%s, want \"%s\"", src, buf, msg);
}

static void
test_policy_schema_validate(void **state)
{
	(void)state;
	expect_valid("permit(principal, action, resource);");
	expect_valid("permit(principal in App::Group::\"g\", "
	    "action == App::Action::\"read\", resource is App::Doc) "
	    "when { resource.owner == principal && context.mfa };");
	/* Optional attributes need a `has` guard, through && and if. */
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal.age > 3 };", "2:3: policy0: attribute `age` is "
	    "optional");
	expect_valid("permit(principal, action, resource) when {\n"
	    "  principal has age && principal.age > 3 };");
	expect_valid("permit(principal, action, resource) when {\n"
	    "  if principal has age then principal.age > 3 else false };");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal has age || principal.age > 3 };", "is optional");
	expect_valid("permit(principal, action, resource) when {\n"
	    "  context has when && context.when < datetime(\"2024-01-01\") "
	    "};");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal.nope };", "attribute `nope` not found");
	/* Names the schema does not declare. */
	expect_invalid("permit(principal, action == App::Action::\"del\", "
	    "resource);", "unrecognized action");
	expect_invalid("permit(principal == App::Admin::\"a\", action, "
	    "resource);", "unrecognized entity type `App::Admin`");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal.roles.contains(App::Role::\"root\") };",
	    "not one of the values");
	expect_valid("permit(principal, action, resource) when {\n"
	    "  principal.roles.contains(App::Role::\"admin\") };");
	/* A scope no appliesTo admits. */
	expect_invalid("permit(principal is App::Doc, action, resource);",
	    "unable to find an applicable action");
	/* A condition that can never hold is only a warning in Cedar. */
	expect_valid("permit(principal, action, resource) when {\n"
	    "  principal == App::Group::\"g\" };");
	/* Strict typing. */
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal.name == 3 };", "incompatible types String and Long");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  [].isEmpty() };", "2:3: policy0: empty set literals");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  [1, \"a\"].isEmpty() };", "incompatible types");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  ip(\"bad\").isIpv4() };", "invalid IP address");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  ip(principal.name).isIpv4() };", "string literal");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal.name + 1 > 2 };", "expected Long but saw String");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  decimal(\"1.0\") < decimal(\"2.0\") };", "comparison");
	expect_valid("permit(principal, action, resource) when {\n"
	    "  principal.addr.ip.isInRange(ip(\"10.0.0.0/8\")) && "
	    "principal.name like \"a*\" };");
	/* Tags. */
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  principal.getTag(\"t\") == \"x\" };", "hasTag");
	expect_valid("permit(principal, action, resource) when {\n"
	    "  principal.hasTag(\"t\") && principal.getTag(\"t\") == \"x\" };");
	/* Doc has no tags: hasTag is false, so the getTag is never
	 * reached (Cedar does not check it either). */
	expect_valid("permit(principal, action, resource) when {\n"
	    "  resource.hasTag(\"t\") && resource.getTag(\"t\") == \"x\" };");
	expect_invalid("permit(principal, action, resource) when {\n"
	    "  resource.getTag(\"t\") == \"x\" };", "hasTag");
	/* Errors name their policy. */
	expect_invalid("@id(\"good\") permit(principal, action, resource);\n"
	    "@id(\"bad\") forbid(principal, action, resource) unless {\n"
	    "  resource.secret.x };", "3:3: bad: unexpected type");
}

static void
test_policy_schema_survives_every_alloc_failure(void **state)
{
	static const char pol[] = "permit(principal, action, resource) when "
	    "{ principal has age && principal.age > 3 && "
	    "[principal.name].contains(\"x\") };";
	struct cf_schema	*s = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_validation	*v = NULL;
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_schema_parse(schema_src, sizeof(schema_src) - 1, &s,
		    NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(s);
	}
	assert_int_equal(cf_policy_set_parse(pol, sizeof(pol) - 1, &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_validation_new(&v, NULL), CF_OK);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_policy_validate(s, ps, v, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_false(cf_validation_ok(v));
	}
	assert_true(cf_validation_ok(v));
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_schema_parses),
		cmocka_unit_test(test_policy_schema_errors),
		cmocka_unit_test(test_policy_schema_validate),
		cmocka_unit_test(
		    test_policy_schema_survives_every_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
