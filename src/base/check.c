/* src/base/check.c: run-time invariants; see check.h. */
#include <stdlib.h>

#include "base/check.h"
#include "base/log.h"

bool
cf_never_hit(bool cond, const char *what, const char *file, int line)
{
	if (!cond)
		return false;
	log_warnx("event=invariant_broken what=\"%s\" at=%s:%d", what, file,
	    line);
#ifndef NDEBUG
	abort();
#endif
	return true;
}
