/* cf-link: cf_policy cf_base
 *
 * fuzz/fuzz_policy_parse.c: the Cedar policy parser on arbitrary text.
 * Parsing must never crash, hang or leak; a policy set that parses must
 * link its templates and be freed cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_policy_set	*ps = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	if (cf_policy_set_parse((const char *)data, size, &ps, &err) != CF_OK)
		return 0;
	if (cf_policy_set_template_count(ps) > 0) {
		/* Link every template under a fresh id; slot mismatches are
		 * expected errors. */
		(void)cf_policy_set_link(ps, "policy0", "fuzz-link", "User",
		    "alice", "Doc", "d", NULL);
	}
	(void)cf_policy_set_count(ps);
	cf_policy_set_free(ps);
	return 0;
}
