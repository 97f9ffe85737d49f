/* cf-link: cf_policy cf_base
 *
 * fuzz/fuzz_policy_eval.c: evaluation.  The input is
 *   POLICIES \0 ENTITIES-JSON \0 REQUEST-JSON
 * (missing parts fall back to a fixed store and request), so the fuzzer
 * can reach every operator with values of every type. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char default_entities[] =
    "[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"age\":7,"
    "\"name\":\"a\",\"tags\":[\"x\",1],\"ip\":{\"__extn\":{\"fn\":\"ip\","
    "\"arg\":\"10.0.0.1\"}},\"r\":{\"a\":{\"b\":true}}},"
    "\"parents\":[{\"type\":\"Group\",\"id\":\"g\"}],\"tags\":{\"t\":1}},"
    "{\"uid\":{\"type\":\"Group\",\"id\":\"g\"},\"attrs\":{},"
    "\"parents\":[{\"type\":\"Group\",\"id\":\"h\"}]},"
    "{\"uid\":{\"type\":\"Doc\",\"id\":\"d\"},\"attrs\":{\"owner\":"
    "{\"__entity\":{\"type\":\"User\",\"id\":\"alice\"}}},\"parents\":[]}]";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *e, *r;
	size_t			 plen, elen = 0, rlen = 0;
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	struct cf_response	*resp = NULL;
	json_t			*j = NULL, *out;

	e = memchr(p, '\0', size);
	plen = e != NULL ? (size_t)(e - p) : size;
	if (e != NULL) {
		e++;
		r = memchr(e, '\0', size - plen - 1);
		elen = r != NULL ? (size_t)(r - e) : size - plen - 1;
		if (r != NULL) {
			r++;
			rlen = size - plen - elen - 2;
			if (cf_policy_json_parse(r, rlen, &j, NULL) == CF_OK)
				(void)cf_request_from_json(j, &req, NULL);
		}
		(void)cf_entities_parse(e, elen, &es, NULL);
	}
	if (cf_policy_set_parse(p, plen, &ps, NULL) != CF_OK)
		goto out;
	if (es == NULL && cf_entities_parse(default_entities,
	    sizeof(default_entities) - 1, &es, NULL) != CF_OK)
		goto out;
	if (req == NULL && cf_request_new("User", "alice", "Action", "read",
	    "Doc", "d", NULL, &req, NULL) != CF_OK)
		goto out;
	if (cf_response_new(&resp, NULL) != CF_OK)
		goto out;
	if (cf_policy_authorize(ps, es, req, resp, NULL) == CF_OK) {
		/* SEC: an allow needs a determining permit, and every policy
		 * that errored is named. */
		if (cf_response_decision(resp) == CF_DECISION_ALLOW &&
		    cf_response_reason_count(resp) == 0)
			__builtin_trap();
		out = cf_response_to_json(resp);
		json_decref(out);
	}
out:
	cf_response_free(resp);
	cf_request_free(req);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	json_decref(j);
	return 0;
}
