/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_actions.c: the action registry (core/actions.h) is the
 * one list of actions: sorted, every action the server's code names is in
 * it, every one in it is documented, and the docs name no other. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "core/actions.h"
#include "core/core.h"
#include "policy/policy.h"

#define SRC_ROOT	CF_TEST_DATA "/../.."

/* The whole file at path, NUL-terminated (malloc'ed). */
static char *
slurp(const char *path)
{
	FILE	*fp = fopen(path, "rb");
	char	*buf;
	long	 n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Does s[0..len) look like an action name: a-z words, ':'-separated,
 * at least one ':', '-' inside words? */
static bool
action_like(const char *s, size_t len)
{
	size_t	i, colons = 0;

	if (len < 3 || len > 40 || s[0] < 'a' || s[0] > 'z' ||
	    s[len - 1] < 'a' || s[len - 1] > 'z')
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == ':') {
			colons++;
			if (s[i + 1] < 'a' || s[i + 1] > 'z')
				return false;
		} else if ((s[i] < 'a' || s[i] > 'z') && s[i] != '-')
			return false;
	}
	return colons >= 1;
}

/* Every quoted string (delimited by q) of text that looks like an action
 * must be registered; where names the file. */
static void
check_names(const char *text, char q, const char *where)
{
	const char	*p = text, *e;
	char		 name[64];

	while ((p = strchr(p, q)) != NULL) {
		e = strchr(p + 1, q);
		if (e == NULL)
			break;
		if (action_like(p + 1, (size_t)(e - p - 1))) {
			(void)snprintf(name, sizeof(name), "%.*s",
			    (int)(e - p - 1), p + 1);
			if (cf_action_find(name) == NULL)
				fail_msg("%s names action \"%s\", which the "
				    "registry (src/core/actions.c) lacks",
				    where, name);
		}
		p = e + 1;
	}
}

static void
test_actions_sorted_and_unique(void **state)
{
	const struct cf_action_def	*a;
	size_t				 n, i;

	(void)state;
	a = cf_actions(&n);
	assert_true(n > 30);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(strcmp(a[i - 1].name, a[i].name) < 0);
		assert_ptr_equal(cf_action_find(a[i].name), &a[i]);
		assert_true(a[i].role >= CF_ROLE_NONE &&
		    a[i].role <= CF_ROLE_ADMIN);
		/* A record is never asked for, so never in a scope. */
		if (a[i].flags & CF_ACT_RECORD)
			assert_int_equal(a[i].flags & CF_ACT_SCOPABLE, 0);
		assert_non_null(a[i].resource);
		assert_non_null(a[i].summary);
	}
	assert_null(cf_action_find("object:steal"));
	assert_null(cf_action_find(""));
	assert_int_equal(cf_role_rank("owner"), CF_ROLE_OWNER);
	assert_int_equal(cf_role_rank("root"), CF_ROLE_NONE);
}

/* Every "a:b" string literal in the server and the core is registered:
 * an action added to the code but not to the registry fails here (and
 * would be denied at run time: the monitor denies unknown actions). */
static void
test_actions_code_names_only_registered_ones(void **state)
{
	static const char *const dirs[] = { "src/core", "src/server",
	    "src/audit" };
	char		 path[4096];
	struct dirent	*de;
	DIR		*d;
	char		*text;
	size_t		 i, files = 0;

	(void)state;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", SRC_ROOT, dirs[i]);
		d = opendir(path);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);
			if (l < 3 || strcmp(de->d_name + l - 2, ".c") != 0)
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s/%s",
			    SRC_ROOT, dirs[i], de->d_name);
			text = slurp(path);
			check_names(text, '"', path);
			free(text);
			files++;
		}
		closedir(d);
	}
	assert_true(files > 10);
}

/* docs/api.md names every action in the registry (in backquotes) and
 * no other. */
static void
test_actions_documented(void **state)
{
	const struct cf_action_def	*a;
	char				*api, want[80];
	size_t				 n, i;

	(void)state;
	api = slurp(SRC_ROOT "/docs/api.md");
	check_names(api, '`', "docs/api.md");
	a = cf_actions(&n);
	for (i = 0; i < n; i++) {
		(void)snprintf(want, sizeof(want), "`%s`", a[i].name);
		if (strstr(api, want) == NULL)
			fail_msg("docs/api.md does not name the action %s",
			    want);
	}
	free(api);
}

/* The Cedar schema (coffer policy schema) is generated from the
 * registry: it parses, declares every action a request can ask for in
 * its group, and the built-in role templates validate against it. */
static void
test_actions_in_schema(void **state)
{
	const struct cf_action_def	*a;
	struct cf_schema		*sc = NULL;
	struct cf_policy_set		*ps = NULL;
	struct cf_validation		*v = NULL;
	struct cf_buf			 b;
	struct cf_error			 err;
	const char			*bt;
	size_t				 n, i;

	(void)state;
	cf_error_clear(&err);
	cf_buf_init(&b, 1u << 20);
	assert_int_equal(cf_core_policy_schema(&b, &err), CF_OK);
	if (cf_schema_parse(b.data, b.len, &sc, &err) != CF_OK)
		fail_msg("coffer policy schema does not parse: %s", err.msg);
	a = cf_actions(&n);
	for (i = 0; i < n; i++) {
		bool want = (a[i].flags & (CF_ACT_NOAUTH | CF_ACT_RECORD)) == 0;
		if (cf_schema_has_action(sc, "Action", a[i].name) != want)
			fail_msg("schema and registry disagree on %s",
			    a[i].name);
	}
	for (i = 0; i < 4; i++) {
		static const char *const g[] = { "read", "write", "manage",
		    "admin" };
		assert_true(cf_schema_has_action(sc, "Action", g[i]));
	}
	bt = cf_core_builtin_policies();
	assert_int_equal(cf_policy_set_parse(bt, strlen(bt), &ps, NULL),
	    CF_OK);
	assert_int_equal(cf_validation_new(&v, NULL), CF_OK);
	assert_int_equal(cf_policy_validate(sc, ps, v, NULL), CF_OK);
	assert_true(cf_validation_ok(v));
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(sc);
	cf_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actions_sorted_and_unique),
		cmocka_unit_test(test_actions_code_names_only_registered_ones),
		cmocka_unit_test(test_actions_documented),
		cmocka_unit_test(test_actions_in_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
