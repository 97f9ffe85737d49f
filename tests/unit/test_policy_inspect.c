/* cf-link: cf_policy cf_base
 *
 * tests/unit/test_policy_inspect.c: cf_policy_set_actions reports every
 * action a policy names (scope and condition literals), and an
 * unconstrained action scope as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "policy/policy.h"

struct seen {
	char	line[32][128];
	size_t	n;
	size_t	stop_at;	/* 0: never */
};

static cf_err
collect(void *arg, const struct cf_policy_action_ref *ref,
    struct cf_error *err)
{
	struct seen	*s = arg;

	assert_true(s->n < 32);
	if (ref->any)
		(void)snprintf(s->line[s->n], sizeof(s->line[0]), "%s%s any",
		    ref->policy_id, ref->is_template ? "(t)" : "");
	else
		(void)snprintf(s->line[s->n], sizeof(s->line[0]),
		    "%s%s %s %.*s::\"%.*s\"", ref->policy_id,
		    ref->is_template ? "(t)" : "", ref->in_scope ? "scope" :
		    "cond", (int)ref->tlen, ref->type, (int)ref->ilen, ref->id);
	s->n++;
	if (s->stop_at != 0 && s->n == s->stop_at)
		return cf_error_set(err, CF_E_DENIED, "stop");
	return CF_OK;
}

static void
walk(const char *src, struct seen *s, cf_err want)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_error		 e = { 0 };

	assert_int_equal(cf_policy_set_parse(src, strlen(src), &ps, &e),
	    CF_OK);
	assert_int_equal(cf_policy_set_actions(ps, collect, s, &e), want);
	cf_policy_set_free(ps);
}

static void
test_policy_inspect_actions(void **state)
{
	struct seen	s;

	(void)state;
	memset(&s, 0, sizeof(s));
	walk("@id(\"a\") permit(principal, action, resource);\n"
	    "@id(\"b\") permit(principal, action == Action::\"object:get\","
	    " resource);\n"
	    "@id(\"c\") forbid(principal, action in [Action::\"x:y\","
	    " NS::Action::\"z\"], resource) when { action =="
	    " Action::\"user:create\" || [Action::\"q\"].contains(action) }"
	    " unless { principal == User::\"root\" };\n"
	    "@id(\"d\") permit(principal == ?principal, action in"
	    " Action::\"grp\", resource);\n", &s, CF_OK);
	assert_int_equal(s.n, 7);
	assert_string_equal(s.line[0], "a any");
	assert_string_equal(s.line[1], "b scope Action::\"object:get\"");
	assert_string_equal(s.line[2], "c scope Action::\"x:y\"");
	assert_string_equal(s.line[3], "c scope NS::Action::\"z\"");
	/* Condition literals in no particular order. */
	assert_true(strcmp(s.line[4], "c cond Action::\"user:create\"") == 0 ||
	    strcmp(s.line[5], "c cond Action::\"user:create\"") == 0);
	assert_true(strcmp(s.line[4], "c cond Action::\"q\"") == 0 ||
	    strcmp(s.line[5], "c cond Action::\"q\"") == 0);
	/* User::"root" is not an action: not reported. */
	assert_string_equal(s.line[6], "d(t) scope Action::\"grp\"");
	/* The callback's failure stops the walk. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	walk("permit(principal, action, resource);"
	    "permit(principal, action, resource);", &s, CF_E_DENIED);
	assert_int_equal(s.n, 1);
	assert_int_equal(cf_policy_set_actions(NULL, collect, &s, NULL),
	    CF_E_INVAL);
}

static bool
uses_tags(const char *src)
{
	struct cf_policy_set	*ps = NULL;
	bool			 r;

	assert_int_equal(cf_policy_set_parse(src, strlen(src), &ps, NULL),
	    CF_OK);
	r = cf_policy_set_uses_tags(ps);
	cf_policy_set_free(ps);
	return r;
}

/* Any call of hasTag or getTag, however deep and in a template too;
 * an attribute or a context field named like one is no tag read. */
static void
test_policy_inspect_uses_tags(void **state)
{
	(void)state;
	assert_false(cf_policy_set_uses_tags(NULL));
	assert_false(uses_tags(""));
	assert_false(uses_tags("permit (principal, action, resource) when "
	    "{ principal.tags == \"x\" && context has getTag && "
	    "resource.hasTag_ == 1 };"));
	assert_true(uses_tags("permit (principal, action, resource);\n"
	    "forbid (principal, action, resource) unless { if true then "
	    "[1, {a: resource.getTag(\"k\")}].contains(2) else false };"));
	assert_true(uses_tags("permit (principal == ?principal, action, "
	    "resource) when { principal.hasTag(\"team\") };"));
	assert_true(uses_tags("permit (principal, action, resource) when "
	    "{ !Namespace::\"a\".hasTag(\"t\") };"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_inspect_actions),
		cmocka_unit_test(test_policy_inspect_uses_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
