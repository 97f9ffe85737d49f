/* src/policy/inspect.c: read-only questions about parsed policies, for
 * tools that explain decisions (which policies could apply to a
 * request, which depend on its context).  Nothing here decides. */
#include <string.h>

#include "policy_int.h"

/* Does e mention `context`?  The parser bounds the depth of the tree
 * (CF_POLICY_MAX_DEPTH), so the recursion is bounded too. */
static bool
expr_uses_context(const struct cf_pol_expr *e)
{
	size_t	i;

	if (e == NULL)
		return false;
	if (e->op == X_VAR && e->var == 3)
		return true;
	if (expr_uses_context(e->a) || expr_uses_context(e->b) ||
	    expr_uses_context(e->c))
		return true;
	for (i = 0; i < e->nargs; i++)
		if (expr_uses_context(e->args[i]))
			return true;
	return false;
}

static bool
pol_uses_context(const struct cf_pol_policy *pol)
{
	size_t	i;

	for (i = 0; i < pol->nconds; i++)
		if (expr_uses_context(pol->conds[i].e))
			return true;
	return false;
}

bool
cf_policy_uses_context(const struct cf_policy_set *ps, const char *id)
{
	size_t	i;

	if (ps == NULL || id == NULL)
		return false;
	for (i = 0; i < ps->npols; i++)
		if (strcmp(ps->pols[i]->id, id) == 0)
			return pol_uses_context(ps->pols[i]);
	for (i = 0; i < ps->ntmpls; i++)
		if (strcmp(ps->tmpls[i]->id, id) == 0)
			return pol_uses_context(ps->tmpls[i]);
	return false;
}

cf_err
cf_policy_scope_matches(const struct cf_policy_set *ps,
    const struct cf_entities *es, const struct cf_request *req,
    cf_policy_match_cb cb, void *arg, struct cf_error *err)
{
	const struct cf_pol_entity	*pent, *aent, *rent;
	const struct cf_pol_policy	*pol;
	size_t				 i;
	cf_err				 rc;

	if (ps == NULL || es == NULL || req == NULL)
		return cf_error_set(err, CF_E_INVAL, "policy: no set");
	pent = cf_pol_entity_get(es, req->principal);
	aent = cf_pol_entity_get(es, req->action);
	rent = cf_pol_entity_get(es, req->resource);
	for (i = 0; i < ps->npols; i++) {
		pol = ps->pols[i];
		if (!cf_pol_scope_match(&pol->p, req->principal, pent) ||
		    !cf_pol_scope_match(&pol->a, req->action, aent) ||
		    !cf_pol_scope_match(&pol->r, req->resource, rent))
			continue;
		rc = cb(arg, pol->id, pol_uses_context(pol), err);
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}
