/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_suggest.c: the least-privilege rule (core/suggest.h):
 * the narrowest role that allows every logged use, never one that would
 * have refused one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/actions.h"
#include "core/suggest.h"

static void
run(const char *held, bool global, const char *const *used, size_t n,
    const struct cf_suggest_role *custom, size_t ncustom,
    struct cf_suggest_out *out)
{
	struct cf_suggest_in	in;
	struct cf_error		err = { 0 };

	memset(&in, 0, sizeof(in));
	in.held = held;
	in.global = global;
	in.used = used;
	in.nused = n;
	in.custom = custom;
	in.ncustom = ncustom;
	assert_int_equal(cf_suggest(&in, out, &err), CF_OK);
}

/* Every use must be allowed by what is suggested. */
static void
assert_allows_all(const struct cf_suggest_out *o, bool global,
    const char *const *used, size_t n, const struct cf_suggest_role *cr)
{
	size_t	i, j;
	bool	ok;

	for (i = 0; i < n; i++) {
		if (cf_role_rank(o->role) != CF_ROLE_NONE) {
			assert_true(cf_suggest_builtin_allows(
			    cf_role_rank(o->role), global, used[i]));
			continue;
		}
		assert_non_null(cr);
		for (j = 0, ok = false; j < cr->nactions; j++)
			ok = ok || strcmp(cr->actions[j], used[i]) == 0;
		assert_true(ok);
	}
}

static void
test_suggest_global_admin_who_only_read_gets_reader(void **state)
{
	static const char *const used[] = { "object:get", "object:list",
	    "object:get", "ns:get" };
	struct cf_suggest_out	o;

	(void)state;
	run("admin", true, used, 4, NULL, 0, &o);
	assert_int_equal(o.kind, CF_SUGGEST_BUILTIN);
	assert_string_equal(o.role, "reader");
	assert_true(o.role_actions < o.held_actions);
	assert_int_equal(o.nused, 3);
	assert_allows_all(&o, true, used, 4, NULL);
	/* Three actions, fewer than a reader's: a custom role of them. */
	assert_int_equal(o.nproposed, 3);
	assert_string_equal(o.proposed[0], "ns:get");
	assert_string_equal(o.proposed[2], "object:list");
	assert_memory_equal(o.proposed_name, "lp-", 3);
}

static void
test_suggest_writer_use_needs_writer(void **state)
{
	static const char *const used[] = { "object:get", "object:put" };
	struct cf_suggest_out	o;

	(void)state;
	run("owner", false, used, 2, NULL, 0, &o);
	assert_int_equal(o.kind, CF_SUGGEST_BUILTIN);
	assert_string_equal(o.role, "writer");
	assert_allows_all(&o, false, used, 2, NULL);
}

static void
test_suggest_global_only_action_keeps_admin(void **state)
{
	static const char *const used[] = { "object:get",
	    "principal:create" };
	struct cf_suggest_out	o;

	(void)state;
	run("admin", true, used, 2, NULL, 0, &o);
	assert_int_equal(o.kind, CF_SUGGEST_KEEP);
	assert_string_equal(o.role, "admin");
	assert_int_equal(o.nproposed, 2);	/* 2 < an admin's */
}

static void
test_suggest_same_role_is_keep(void **state)
{
	static const char *const used[] = { "object:get" };
	struct cf_suggest_out	o;

	(void)state;
	run("reader", false, used, 1, NULL, 0, &o);
	assert_int_equal(o.kind, CF_SUGGEST_KEEP);
	assert_string_equal(o.role, "reader");
}

static void
test_suggest_unused_is_revoke(void **state)
{
	struct cf_suggest_out	o;

	(void)state;
	run("writer", false, NULL, 0, NULL, 0, &o);
	assert_int_equal(o.kind, CF_SUGGEST_REVOKE);
	assert_string_equal(o.role, "");
}

static void
test_suggest_existing_custom_role_narrower(void **state)
{
	static const char *const used[] = { "object:put", "object:list" };
	static const char *const up[] = { "object:put", "object:list" };
	static const char *const partial[] = { "object:put" };
	const struct cf_suggest_role	cr[] = {
		{ "putonly", partial, 1 },	/* refuses object:list */
		{ "uploader", up, 2 },
	};
	struct cf_suggest_out		o;

	(void)state;
	run("admin", false, used, 2, cr, 2, &o);
	assert_int_equal(o.kind, CF_SUGGEST_CUSTOM);
	assert_string_equal(o.role, "uploader");
	assert_allows_all(&o, false, used, 2, &cr[1]);
	assert_int_equal(o.nproposed, 0);	/* not narrower than it */
}

/* A use no role template allows (a share link: a policy decides) means
 * no role is suggested in its place. */
static void
test_suggest_never_one_that_refuses_a_use(void **state)
{
	static const char *const used[] = { "object:get", "object:share" };
	struct cf_suggest_out	o;

	(void)state;
	run("admin", true, used, 2, NULL, 0, &o);
	assert_int_equal(o.kind, CF_SUGGEST_KEEP);
	assert_string_equal(o.role, "");
}

/* On a namespace, the admin group's namespace actions need an admin
 * there; the actions about no namespace no binding on one gives. */
static void
test_suggest_ns_binding_rules(void **state)
{
	(void)state;
	assert_true(cf_suggest_builtin_allows(CF_ROLE_ADMIN, false,
	    "privacy:erase"));
	assert_false(cf_suggest_builtin_allows(CF_ROLE_OWNER, false,
	    "privacy:erase"));
	assert_false(cf_suggest_builtin_allows(CF_ROLE_ADMIN, false,
	    "principal:create"));
	assert_true(cf_suggest_builtin_allows(CF_ROLE_ADMIN, true,
	    "principal:create"));
	assert_false(cf_suggest_builtin_allows(CF_ROLE_ADMIN, true,
	    "object:share"));
	assert_false(cf_suggest_builtin_allows(CF_ROLE_ADMIN, true,
	    "no:such"));
}

static void
test_suggest_unknown_action_refused(void **state)
{
	static const char *const used[] = { "object:frobnicate" };
	struct cf_suggest_in	in;
	struct cf_suggest_out	o;
	struct cf_error		err = { 0 };

	(void)state;
	memset(&in, 0, sizeof(in));
	in.held = "reader";
	in.used = used;
	in.nused = 1;
	assert_int_equal(cf_suggest(&in, &o, &err), CF_E_INPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_suggest_global_admin_who_only_read_gets_reader),
		cmocka_unit_test(test_suggest_writer_use_needs_writer),
		cmocka_unit_test(test_suggest_global_only_action_keeps_admin),
		cmocka_unit_test(test_suggest_same_role_is_keep),
		cmocka_unit_test(test_suggest_unused_is_revoke),
		cmocka_unit_test(test_suggest_existing_custom_role_narrower),
		cmocka_unit_test(test_suggest_never_one_that_refuses_a_use),
		cmocka_unit_test(test_suggest_ns_binding_rules),
		cmocka_unit_test(test_suggest_unknown_action_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
