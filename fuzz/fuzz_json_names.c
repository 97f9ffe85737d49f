/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * fuzz/fuzz_json_names.c: the bounded JSON parser used for every request
 * body, the name validators (namespaces, keys, principals), and the
 * server configuration parser, on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/core.h"
#include "server/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_config	 cfg;
	json_t			*j = NULL;
	const char		*s;
	char			*str;

	if (cf_json_parse(data, size, 65536, 32, &j, NULL) == CF_OK) {
		if (json_is_object(j))
			(void)cf_json_get_str(j, "name", false, &s, NULL);
		json_decref(j);
	}
	str = cf_memdup_str(data, size);
	if (str == NULL)
		return 0;
	(void)cf_name_ns_valid(str);
	(void)cf_name_principal_valid(str);
	if (cf_name_key_valid((const char *)data, size) &&
	    !cf_utf8_valid(data, size))
		abort();
	cf_config_defaults(&cfg);
	(void)cf_config_parse(&cfg, "fuzz", (const char *)data, size, NULL);
	cf_free(str);
	return 0;
}
