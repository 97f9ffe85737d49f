/* src/policy/inspect.c: read-only walks over a parsed policy set (see
 * policy.h, "Inspection"): the actions each policy names, so that a
 * caller can refuse policies about actions they must not touch.  No
 * allocation, no I/O.  Also: which policies mention the context, and
 * which could apply to a request by their scope alone. */
#include <string.h>

#include "policy_int.h"

/* Is type[0..n) an action type: "Action" or "...::Action"? */
static bool
action_type(const char *type, size_t n)
{
	static const char	suffix[] = "::Action";

	if (n == 6 && memcmp(type, "Action", 6) == 0)
		return true;
	return n > sizeof(suffix) - 1 &&
	    memcmp(type + n - (sizeof(suffix) - 1), suffix,
	    sizeof(suffix) - 1) == 0;
}

static cf_err
report(const struct cf_pol_policy *pol, bool in_scope,
    const struct cf_pol_uid *uid, cf_policy_action_fn fn, void *arg,
    struct cf_error *err)
{
	struct cf_policy_action_ref	ref;

	memset(&ref, 0, sizeof(ref));
	ref.policy_id = pol->id;
	ref.is_template = pol->is_template;
	ref.in_scope = in_scope;
	if (uid == NULL)
		ref.any = true;
	else {
		ref.type = uid->type;
		ref.tlen = uid->tlen;
		ref.id = uid->id;
		ref.ilen = uid->ilen;
	}
	return fn(arg, &ref, err);
}

/* Every action literal of e.  The parser bounds a tree's depth
 * (MAX_TREE_DEPTH); like its tree_depth, iterate down a (the long
 * chains) and recurse into the other children. */
static cf_err
walk_expr(const struct cf_pol_policy *pol, const struct cf_pol_expr *e,
    cf_policy_action_fn fn, void *arg, struct cf_error *err)
{
	size_t	i;
	cf_err	rc;

	for (; e != NULL; e = e->a) {
		if (e->op == X_LIT && e->lit.kind == PV_ENTITY &&
		    e->lit.u.e != NULL &&
		    action_type(e->lit.u.e->type, e->lit.u.e->tlen)) {
			rc = report(pol, false, e->lit.u.e, fn, arg, err);
			if (rc != CF_OK)
				return rc;
		}
		if ((rc = walk_expr(pol, e->b, fn, arg, err)) != CF_OK)
			return rc;
		if ((rc = walk_expr(pol, e->c, fn, arg, err)) != CF_OK)
			return rc;
		for (i = 0; i < e->nargs; i++) {
			rc = walk_expr(pol, e->args[i], fn, arg, err);
			if (rc != CF_OK)
				return rc;
		}
	}
	return CF_OK;
}

static cf_err
walk_policy(const struct cf_pol_policy *pol, cf_policy_action_fn fn,
    void *arg, struct cf_error *err)
{
	const struct cf_pol_scope	*a = &pol->a;
	size_t				 i;
	cf_err				 rc = CF_OK;

	switch (a->op) {
	case SC_EQ:
	case SC_IN:
		rc = report(pol, true, a->uid, fn, arg, err);
		break;
	case SC_IN_LIST:
		for (i = 0; rc == CF_OK && i < a->nlist; i++)
			rc = report(pol, true, a->list[i], fn, arg, err);
		break;
	default:
		/* SEC: unconstrained, or a form an action scope cannot
		 * take: either way, about any action. */
		rc = report(pol, true, NULL, fn, arg, err);
		break;
	}
	for (i = 0; rc == CF_OK && i < pol->nconds; i++)
		rc = walk_expr(pol, pol->conds[i].e, fn, arg, err);
	return rc;
}

cf_err
cf_policy_set_actions(const struct cf_policy_set *ps, cf_policy_action_fn fn,
    void *arg, struct cf_error *err)
{
	size_t	i;
	cf_err	rc;

	if (ps == NULL || fn == NULL)
		return cf_error_set(err, CF_E_INVAL,
		    "policy: NULL set or callback");
	for (i = 0; i < ps->npols; i++) {
		rc = walk_policy(ps->pols[i], fn, arg, err);
		if (rc != CF_OK)
			return rc;
	}
	for (i = 0; i < ps->ntmpls; i++) {
		rc = walk_policy(ps->tmpls[i], fn, arg, err);
		if (rc != CF_OK)
			return rc;
	}
	return CF_OK;
}

/*
 * Context use and scope matches: which policies could apply to a request,
 * and which of them read its context.
 */

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

/* Does e call hasTag or getTag? */
static bool
expr_uses_tags(const struct cf_pol_expr *e)
{
	size_t	i;

	if (e == NULL)
		return false;
	if (e->op == X_HAS_TAG || e->op == X_GET_TAG)
		return true;
	if (expr_uses_tags(e->a) || expr_uses_tags(e->b) ||
	    expr_uses_tags(e->c))
		return true;
	for (i = 0; i < e->nargs; i++)
		if (expr_uses_tags(e->args[i]))
			return true;
	return false;
}

static bool
pol_uses_tags(const struct cf_pol_policy *pol)
{
	size_t	i;

	for (i = 0; i < pol->nconds; i++)
		if (expr_uses_tags(pol->conds[i].e))
			return true;
	return false;
}

bool
cf_policy_set_uses_tags(const struct cf_policy_set *ps)
{
	size_t	i;

	if (ps == NULL)
		return false;
	for (i = 0; i < ps->npols; i++)
		if (pol_uses_tags(ps->pols[i]))
			return true;
	for (i = 0; i < ps->ntmpls; i++)
		if (pol_uses_tags(ps->tmpls[i]))
			return true;
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
