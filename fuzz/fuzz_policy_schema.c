/* cf-link: cf_policy cf_base
 *
 * fuzz/fuzz_policy_schema.c: the Cedar schema parser on arbitrary text.
 * Parsing must never crash, hang or leak; a schema that parses must
 * answer lookups and be freed cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_schema	*s = NULL;
	struct cf_error		 err;

	cf_error_clear(&err);
	if (cf_schema_parse((const char *)data, size, &s, &err) != CF_OK)
		return 0;
	(void)cf_schema_entity_type_count(s);
	(void)cf_schema_action_count(s);
	(void)cf_schema_has_action(s, "Action", "view");
	(void)cf_schema_has_entity_type(s, "User");
	cf_schema_free(s);
	return 0;
}
