/* cf-link: cf_policy cf_base
 *
 * fuzz/fuzz_policy_json.c: the JSON reader, the entity store builder and
 * the request builder (Cedar's JSON formats, __entity/__extn escapes). */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	json_t			*j = NULL;

	if (cf_policy_json_parse((const char *)data, size, &j, NULL) != CF_OK)
		return 0;
	if (json_is_array(j) && cf_entities_from_json(j, &es, NULL) == CF_OK) {
		(void)cf_entities_count(es);
		cf_entities_free(es);
	}
	if (json_is_object(j) && cf_request_from_json(j, &req, NULL) == CF_OK)
		cf_request_free(req);
	json_decref(j);
	return 0;
}
