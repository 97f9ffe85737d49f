/* src/base/testhook.c: the test suite's hooks, compiled in only with
 * CF_TEST_HOOKS (see testhook.h). */
#include <stdlib.h>
#include <string.h>

#include "testhook.h"

const char *
cf_test_hook(const char *name)
{
#ifdef CF_TEST_HOOKS
	if (strncmp(name, "COFFER_TEST_", 12) != 0)
		return NULL;
	return getenv(name);
#else
	(void)name;
	return NULL;
#endif
}

bool
cf_test_hooks_built(void)
{
#ifdef CF_TEST_HOOKS
	return true;
#else
	return false;
#endif
}
