/* src/base/testhook.h: the test suite's hooks (COFFER_TEST_* environment
 * variables: a clock to move, crash points, a paused rewrap, a lost HSM).
 * SEC: they exist only in a build configured with -DCF_TEST_HOOKS=ON (the
 * Makefile's test builds); in any other build, the product a packager or
 * `make run` makes, cf_test_hook() is always NULL and the variables are
 * ignored, so one left set in production cannot move expiries or stop the
 * server.  scripts/check-style.sh refuses a getenv() of a COFFER_TEST_
 * name anywhere else. */
#ifndef CF_BASE_TESTHOOK_H
#define CF_BASE_TESTHOOK_H

#include <stdbool.h>

/* The value of the test hook variable name (which starts "COFFER_TEST_"),
 * or NULL when it is unset or this build has no test hooks. */
const char	*cf_test_hook(const char *name);

/* True in a build whose test hooks are compiled in. */
bool		 cf_test_hooks_built(void);

#endif
