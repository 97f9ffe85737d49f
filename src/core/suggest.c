/* src/core/suggest.c: the least-privilege rule (suggest.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "core/actions.h"
#include "core/suggest.h"

static const char *const builtin[] = { "reader", "writer", "owner",
    "admin" };

/* Is def decided by the role templates at all?  Share actions are in no
 * role (the share group); records and credential-free or self-service
 * actions are not decided by roles. */
static bool
role_decided(const struct cf_action_def *def)
{
	return def->role != CF_ROLE_NONE && (def->flags & (CF_ACT_RECORD |
	    CF_ACT_NOAUTH | CF_ACT_SHARE)) == 0;
}

bool
cf_suggest_builtin_allows(int rank, bool global, const char *action)
{
	const struct cf_action_def	*def = cf_action_find(action);

	if (def == NULL || !role_decided(def))
		return false;
	if ((def->flags & CF_ACT_NS) != 0)
		return def->role <= rank;
	/* About no namespace: only a global admin (the admin group). */
	return global && rank == CF_ROLE_ADMIN;
}

static size_t
builtin_count(int rank, bool global)
{
	const struct cf_action_def	*defs;
	size_t				 n, i, k = 0;

	defs = cf_actions(&n);
	for (i = 0; i < n; i++)
		if (cf_suggest_builtin_allows(rank, global, defs[i].name))
			k++;
	return k;
}

static bool
custom_allows(const struct cf_suggest_role *cr, const char *action)
{
	size_t	i;

	for (i = 0; i < cr->nactions; i++)
		if (strcmp(cr->actions[i], action) == 0)
			return true;
	return false;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* FNV-1a over the sorted names, for a stable proposed name. */
static uint32_t
names_hash(const char *const *v, size_t n)
{
	uint32_t	h = 2166136261u;
	size_t		i;
	const char	*p;

	for (i = 0; i < n; i++)
		for (p = v[i]; ; p++) {
			h ^= (unsigned char)*p;
			h *= 16777619u;
			if (*p == '\0')
				break;
		}
	return h;
}

cf_err
cf_suggest(const struct cf_suggest_in *in, struct cf_suggest_out *out,
    struct cf_error *err)
{
	const struct cf_suggest_role	*cr;
	size_t				 i, j, n = 0, best_n = 0;
	int				 held_rank, rank;
	bool				 ok;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < in->nused; i++) {
		if (cf_action_find(in->used[i]) == NULL)
			return cf_error_set(err, CF_E_INPUT,
			    "unknown action %s", in->used[i]);
		for (j = 0; j < n; j++)
			if (strcmp(out->proposed[j], in->used[i]) == 0)
				break;
		if (j < n)
			continue;
		if (n == CF_SUGGEST_ACTIONS_MAX)
			return cf_error_set(err, CF_E_INPUT, "more than %d "
			    "actions", CF_SUGGEST_ACTIONS_MAX);
		out->proposed[n++] = in->used[i];
	}
	if (n > 1)
		qsort(out->proposed, n, sizeof(out->proposed[0]), cmp_str);
	out->nused = n;
	held_rank = cf_role_rank(in->held);
	if (held_rank != CF_ROLE_NONE)
		out->held_actions = builtin_count(held_rank, in->global);
	for (i = 0; i < in->ncustom; i++)
		if (held_rank == CF_ROLE_NONE &&
		    strcmp(in->custom[i].name, in->held) == 0)
			out->held_actions = in->custom[i].nactions;
	if (n == 0) {
		out->kind = CF_SUGGEST_REVOKE;
		return CF_OK;
	}
	/* The narrowest built-in role that allows every use. */
	for (rank = CF_ROLE_READER; rank <= CF_ROLE_ADMIN; rank++) {
		for (i = 0, ok = true; i < n && ok; i++)
			ok = cf_suggest_builtin_allows(rank, in->global,
			    out->proposed[i]);
		if (ok) {
			(void)cf_strlcpy(out->role, builtin[rank -
			    CF_ROLE_READER], sizeof(out->role));
			best_n = builtin_count(rank, in->global);
			break;
		}
	}
	/* A custom role narrower still (fewer actions), allowing all. */
	for (i = 0; i < in->ncustom; i++) {
		cr = &in->custom[i];
		if (strlen(cr->name) >= sizeof(out->role) ||
		    (out->role[0] != '\0' && cr->nactions >= best_n))
			continue;
		for (j = 0, ok = true; j < n && ok; j++)
			ok = custom_allows(cr, out->proposed[j]);
		if (ok) {
			(void)cf_strlcpy(out->role, cr->name,
			    sizeof(out->role));
			best_n = cr->nactions;
		}
	}
	out->role_actions = best_n;
	out->kind = CF_SUGGEST_KEEP;
	if (out->role[0] != '\0' && strcmp(out->role, in->held) != 0 &&
	    (out->held_actions == 0 || best_n < out->held_actions))
		out->kind = cf_role_rank(out->role) != CF_ROLE_NONE ?
		    CF_SUGGEST_BUILTIN : CF_SUGGEST_CUSTOM;
	if (out->role[0] == '\0' || strcmp(out->role, in->held) == 0)
		out->role_actions = out->role[0] != '\0' ? best_n : 0;
	/* Exactly the actions used, when that is narrower than the best
	 * role found (or the held one). */
	if (n < (out->role[0] != '\0' ? best_n : out->held_actions)) {
		out->nproposed = n;
		(void)snprintf(out->proposed_name,
		    sizeof(out->proposed_name), "lp-%06x",
		    (unsigned int)(names_hash(out->proposed, n) & 0xffffff));
	}
	return CF_OK;
}
