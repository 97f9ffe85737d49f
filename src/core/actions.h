/* src/core/actions.h: the action registry, the one list of every action
 * the reference monitor decides or the audit log records.
 *
 * Each action has a name ("object:get"), the kind of resource it acts
 * on, the least built-in role that may perform it (on its namespace, or
 * globally), and flags: whether a token scope may name it, whether it is
 * the caller acting on its own account, whether it is only a record (no
 * request asks for it).  The monitor takes the role from here (an action
 * missing from the registry is denied), scope validation takes the
 * scopable ones, and a unit test checks that every action named in the
 * code and in docs/api.md is registered and every registered one is
 * documented.  The Cedar schema will be generated from it. */
#ifndef CF_CORE_ACTIONS_H
#define CF_CORE_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* The built-in roles, ordered: each includes the ones below it. */
#define CF_ROLE_NONE	0	/* not decided by a role (see flags) */
#define CF_ROLE_READER	1
#define CF_ROLE_WRITER	2
#define CF_ROLE_OWNER	3
#define CF_ROLE_ADMIN	4

#define CF_ACT_SCOPABLE	0x01	/* a token scope may list it */
#define CF_ACT_SELF	0x02	/* on the caller's own account (or an owned
				 * service account): no role needed */
#define CF_ACT_NOAUTH	0x04	/* needs no credential (health, login) */
#define CF_ACT_RECORD	0x08	/* only ever a record: no request asks for
				 * it (a completion, a sweep, a recovery) */
#define CF_ACT_NS	0x10	/* its role counts on one namespace */
#define CF_ACT_SHARE	0x20	/* in the action group "share", which no
				 * role template grants: the built-in
				 * policy share-default and stored
				 * policies decide it */
#define CF_ACT_STORE	0x40	/* a namespace or object action also asked
				 * on the store, when it names none (a
				 * global listing, an id that does not
				 * exist): its schema says Store too */

struct cf_action_def {
	const char	*name;
	const char	*resource;	/* "namespace", "object", "user", ... */
	int		 role;		/* least CF_ROLE_* (CF_ROLE_NONE: see
					 * flags) */
	unsigned int	 flags;		/* CF_ACT_* */
	const char	*summary;	/* one line, for docs and schema */
};

/* The registry entry of name, or NULL for an unknown action. */
const struct cf_action_def *cf_action_find(const char *name);

/* All entries; *n gets their number.  Sorted by name. */
const struct cf_action_def *cf_actions(size_t *n);

/* The rank of a built-in role name (CF_ROLE_READER..CF_ROLE_ADMIN), 0
 * for anything else. */
int	cf_role_rank(const char *role);

#endif
