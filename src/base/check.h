/* src/base/check.h: invariants our own code holds, checked at run time
 * (SQLite's NEVER()): a debug build (no NDEBUG: the sanitizer build CI
 * runs) aborts at a broken one, so tests find it; a release build logs it
 * and the caller fails closed (CF_E_INTERNAL, a refusal).  Only for
 * invariants of our code: input from the network, disk or config is
 * checked and refused as CF_E_INPUT instead. */
#ifndef CF_BASE_CHECK_H
#define CF_BASE_CHECK_H

#include <stdbool.h>

/* True when the invariant is broken (cond holds).  Use as
 *	if (CF_NEVER(x == NULL)) return fail_closed();	*/
#define CF_NEVER(cond)	cf_never_hit((cond), #cond, __FILE__, __LINE__)

bool	cf_never_hit(bool cond, const char *what, const char *file, int line);

#endif
