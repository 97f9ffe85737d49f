/* cf-link: cf_policy cf_base
 *
 * fuzz/fuzz_policy_validate.c: the strict validator on an arbitrary schema
 * and policy set.  The input is the schema text, a line "%%", then the
 * policy text.  Validation must never crash, hang or leak, whatever the
 * two hold. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_schema	*s = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_validation	*v = NULL;
	struct cf_error		 err;
	const char		*text = (const char *)data;
	size_t			 i, split = size, rest = size;
	json_t			*j;

	for (i = 0; i + 4 <= size; i++)
		if (memcmp(text + i, "\n%%\n", 4) == 0) {
			split = i;
			rest = i + 4;
			break;
		}
	cf_error_clear(&err);
	if (cf_schema_parse(text, split, &s, &err) != CF_OK ||
	    cf_policy_set_parse(text + rest, size - rest, &ps, &err) !=
	    CF_OK || cf_validation_new(&v, &err) != CF_OK)
		goto out;
	if (cf_policy_validate(s, ps, v, &err) == CF_OK) {
		j = cf_validation_to_json(v);
		json_decref(j);
	}
out:
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(s);
	return 0;
}
