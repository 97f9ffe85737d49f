/* cf-link: cf_policy cf_base
 *
 * fuzz/fuzz_policy_entities_check.c: entity and request validation
 * against an arbitrary schema.  The input is the schema text, a line
 * "%%", the entities (JSON), and optionally another line "%%" and a
 * request (JSON).  Checking must never crash, hang or leak, whatever the
 * three hold.  Oracle: entities the checker finds valid are accepted by
 * the schema-less loader too, unless their hierarchy has a cycle (which
 * the checker leaves to it). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The offset of the next "\n%%\n" at or after from, or size. */
static size_t
split(const char *text, size_t size, size_t from)
{
	size_t	i;

	for (i = from; i + 4 <= size; i++)
		if (memcmp(text + i, "\n%%\n", 4) == 0)
			return i;
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_schema	*s = NULL;
	struct cf_entity_check	*ec = NULL;
	struct cf_entities	*es = NULL;
	struct cf_error		 err;
	const char		*text = (const char *)data;
	size_t			 a, b;
	json_t			*ents = NULL, *req = NULL, *j;
	cf_err			 rc;

	a = split(text, size, 0);
	b = a < size ? split(text, size, a + 4) : size;
	cf_error_clear(&err);
	if (cf_schema_parse(text, a, &s, &err) != CF_OK ||
	    cf_entity_check_new(&ec, &err) != CF_OK)
		goto out;
	if (a < size && cf_policy_json_parse(text + a + 4, b - a - 4, &ents,
	    &err) == CF_OK) {
		if (cf_schema_check_entities(s, ents, ec, &err) != CF_OK)
			goto out;
		if (cf_entity_check_ok(ec)) {
			cf_error_clear(&err);
			rc = cf_entities_from_json(ents, &es, &err);
			if (rc != CF_OK && (rc != CF_E_INPUT ||
			    strstr(err.msg, "cycle") == NULL))
				abort();
		} else if (cf_entity_check_error_count(ec) == 0)
			abort();
	}
	if (b < size && cf_policy_json_parse(text + b + 4, size - b - 4, &req,
	    &err) == CF_OK) {
		cf_entity_check_clear(ec);
		if (cf_schema_check_request_json(s, req, ec, &err) != CF_OK)
			goto out;
	}
	j = cf_entity_check_to_json(ec);
	json_decref(j);
out:
	cf_entities_free(es);
	cf_entity_check_free(ec);
	json_decref(ents);
	json_decref(req);
	cf_schema_free(s);
	return 0;
}
