/* src/core/suggest.h: least-privilege suggestions (`coffer access
 * suggest`; docs/reviews.md).  Pure: given a binding and the actions it
 * was used for, the narrowest role that would have allowed every one of
 * them.  No I/O, so the rule is unit-tested on its own (ops_suggest.c
 * feeds it from the store and the audit log).
 *
 * What a role allows is what the built-in templates say (core/authz.c:
 * core_action_group): on a namespace, a reader the read group, a writer
 * also the write group, an owner also the manage group, an admin also
 * the namespace actions of the admin group; globally the same on every
 * namespace, and only a global admin the actions that are about no
 * namespace.  A custom role allows the actions its template names. */
#ifndef CF_CORE_SUGGEST_H
#define CF_CORE_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define CF_SUGGEST_ACTIONS_MAX	256	/* actions one role may name */
#define CF_SUGGEST_NAME_MAX	16	/* role names: 1..15 bytes */

/* A custom role as a binding of the same kind (global or on a
 * namespace) would use it: the actions its template allows. */
struct cf_suggest_role {
	const char		*name;
	const char *const	*actions;
	size_t			 nactions;
};

struct cf_suggest_in {
	const char			*held;		/* the binding's role */
	bool				 global;	/* a global binding */
	const char *const		*used;		/* actions used through
							 * it (any order,
							 * repeats allowed) */
	size_t				 nused;
	const struct cf_suggest_role	*custom;	/* existing custom
							 * roles */
	size_t				 ncustom;
};

enum cf_suggest_kind {
	CF_SUGGEST_KEEP,	/* nothing narrower allows all of it */
	CF_SUGGEST_BUILTIN,	/* a narrower built-in role */
	CF_SUGGEST_CUSTOM,	/* a narrower existing custom role */
	CF_SUGGEST_REVOKE	/* not used at all */
};

struct cf_suggest_out {
	enum cf_suggest_kind	kind;
	/* The narrowest role allowing every use: built-in, or custom when
	 * an existing custom role is narrower still ("" when none allows
	 * all of them: the binding is then kept). */
	char			role[CF_SUGGEST_NAME_MAX];
	size_t			held_actions;	/* how many the held role
						 * allows; 0: unknown role */
	size_t			role_actions;	/* how many role allows */
	/* The used actions, sorted, each once (nused); a proposed custom
	 * role of exactly those, when it would be narrower than role
	 * (nproposed 0: none): its name is "lp-" and 6 hex digits of
	 * their hash, so that the same set gets the same name. */
	const char		*proposed[CF_SUGGEST_ACTIONS_MAX];
	size_t			 nused;		/* distinct used actions */
	size_t			 nproposed;	/* nused, or 0 */
	char			 proposed_name[CF_SUGGEST_NAME_MAX];
};

/* The suggestion for in: out->kind says which.  SEC: never a role that
 * would have refused one of the used actions: every candidate is checked
 * against every use.  CF_E_INPUT when an action is unknown or there are
 * more than CF_SUGGEST_ACTIONS_MAX distinct ones. */
cf_err	cf_suggest(const struct cf_suggest_in *in, struct cf_suggest_out *out,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* Does built-in role (rank CF_ROLE_*) bound globally or on a namespace
 * allow action?  false for an unknown action. */
bool	cf_suggest_builtin_allows(int rank, bool global, const char *action);

#endif
