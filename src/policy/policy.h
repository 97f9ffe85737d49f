/* src/policy/policy.h: the Cedar policy engine.
 *
 * A complete implementation of Cedar's evaluation semantics
 * (https://www.cedarpolicy.com, language version 4) with no I/O: callers
 * hand in text and JSON, and get decisions back.  Default deny, forbid
 * overrides permit, a policy whose condition errors does not apply.
 *
 * Objects:
 *   struct cf_policy_set   parsed policies, templates and template links
 *   struct cf_entities     the entity store (Cedar's JSON entity format)
 *   struct cf_request      principal, action, resource and context
 *   struct cf_response     decision, determining policies, errors
 *
 * A policy set and an entity store are immutable once built, and may be
 * shared by any number of threads evaluating at once; a response is owned
 * by one thread and reused from request to request. */
#ifndef CF_POLICY_POLICY_H
#define CF_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"

struct cf_policy_set;		/* opaque */
struct cf_entities;		/* opaque */
struct cf_request;		/* opaque */
struct cf_response;		/* opaque */

enum cf_decision {
	CF_DECISION_DENY = 0,
	CF_DECISION_ALLOW = 1
};

/* Limits on untrusted input. */
#define CF_POLICY_MAX_SRC	(64u * 1024 * 1024)	/* policy text bytes */
#define CF_POLICY_MAX_DEPTH	256	/* expression nesting in the parser */
#define CF_POLICY_MAX_JSON	(256u * 1024 * 1024)	/* JSON bytes */
#define CF_POLICY_MAX_JSON_DEPTH 128	/* JSON value nesting */
/* Evaluation steps one decision may take (an expression evaluated, a pair
 * of values compared, 64 bytes of a string matched by `like`): policies
 * of bounded size cannot make a decision take unbounded time, whatever
 * the entities hold.  Ordinary policy sets take well under 10,000. */
#define CF_POLICY_MAX_STEPS	1000000u

/* Read JSON text for the functions below.  Unlike jansson's decoder this
 * accepts NUL bytes in object keys, which Cedar values may hold.  Strict
 * RFC 8259 otherwise; duplicate keys are CF_E_INPUT, nesting is bounded.
 * On success *out owns a reference (json_decref). */
cf_err	cf_policy_json_parse(const char *json, size_t len, json_t **out,
	    struct cf_error *err);

/*
 * Policy sets.
 */

/* Parse a policy set in Cedar's human syntax from src[0..len) (need not be
 * NUL-terminated).  Policies without @id("...") are named policy0,
 * policy1, ... in file order; templates (policies with ?principal or
 * ?resource slots) are kept aside for cf_policy_set_link().  On a syntax
 * error returns CF_E_INPUT with "line:col: message" in err and *out is
 * untouched; CF_E_LIMIT beyond CF_POLICY_MAX_SRC or CF_POLICY_MAX_DEPTH. */
cf_err	cf_policy_set_parse(const char *src, size_t len,
	    struct cf_policy_set **out, struct cf_error *err);
void	cf_policy_set_free(struct cf_policy_set *ps);	/* NULL: no-op */

/* Number of policies that take part in decisions (static and linked; not
 * templates), and number of templates. */
size_t	cf_policy_set_count(const struct cf_policy_set *ps);
size_t	cf_policy_set_template_count(const struct cf_policy_set *ps);
/* True when ps has a template of that id (without touching state that
 * threads share). */
bool	cf_policy_set_has_template(const struct cf_policy_set *ps,
	    const char *id);
/* Id of the i-th policy (i < cf_policy_set_count), borrowed. */
const char *cf_policy_set_id(const struct cf_policy_set *ps, size_t i);

/* Link template template_id into a new policy new_id, filling ?principal
 * and ?resource with the given entities (type and id; pass NULL for a slot
 * the template does not have).  CF_E_NOTFOUND for an unknown template,
 * CF_E_CONFLICT if new_id is taken, CF_E_INPUT if the slots given do not
 * match the template's. */
cf_err	cf_policy_set_link(struct cf_policy_set *ps, const char *template_id,
	    const char *new_id, const char *principal_type,
	    const char *principal_id, const char *resource_type,
	    const char *resource_id, struct cf_error *err);

/*
 * Entities.
 */

/* Build an entity store from Cedar's JSON entity format (an array of
 * {"uid": {...}, "attrs": {...}, "parents": [...], "tags": {...}}), without
 * a schema, accepting exactly what Cedar accepts: duplicate entities, a
 * cyclic hierarchy and actions with non-action parents are CF_E_INPUT;
 * parents that name no entity are kept (they still count for `in`).  The
 * hierarchy is closed transitively here, so `in` is a lookup at evaluation
 * time. */
cf_err	cf_entities_parse(const char *json, size_t len,
	    struct cf_entities **out, struct cf_error *err);
/* As cf_entities_parse, from an already parsed JSON array (borrowed). */
cf_err	cf_entities_from_json(const json_t *arr, struct cf_entities **out,
	    struct cf_error *err);
/* Drops a reference (cf_entities_ref); the last frees es.  NULL: no-op */
void	cf_entities_free(struct cf_entities *es);
size_t	cf_entities_count(const struct cf_entities *es);
/* Bytes of memory held by the store. */
size_t	cf_entities_memory(const struct cf_entities *es);

/*
 * Entities and requests from C values, without JSON: for a program that
 * builds them for every decision (the reference monitor).  What they
 * accept and build is exactly what the JSON functions make of the same
 * data: the same validation, the same errors (CF_E_INPUT: an invalid
 * type name, a string or id that is not UTF-8, a duplicate entity or
 * attribute, an action with a non-action parent, a cyclic hierarchy, a
 * malformed IP address; CF_E_LIMIT: nesting deeper than
 * CF_POLICY_MAX_JSON_DEPTH).  Everything is copied: the arguments are
 * borrowed for the call.
 */
enum cf_attr_kind {
	CF_ATTR_STRING = 1,	/* s (UTF-8, NUL-terminated) */
	CF_ATTR_LONG,		/* i */
	CF_ATTR_BOOL,		/* i: 0 false, anything else true */
	CF_ATTR_DATETIME,	/* i: milliseconds since the epoch, as
				 * datetime("...") */
	CF_ATTR_IP,		/* s: an address or a prefix, as ip("...") */
	CF_ATTR_RECORD,		/* rec[0..n): the fields of a record */
	CF_ATTR_JSON		/* json: a value in Cedar's JSON format */
};

struct cf_attr {
	const char		*name;
	int			 kind;		/* enum cf_attr_kind */
	const char		*s;
	int64_t			 i;
	const struct cf_attr	*rec;
	size_t			 n;
	const json_t		*json;
	unsigned int		 flags;		/* CF_ATTR_NAME_STATIC,
						 * CF_ATTR_VALUE_UTF8 */
};

/* The field's name is a string constant of the program (a literal): it
 * outlives every store and request, is UTF-8, and is used as it is,
 * neither copied nor checked again (debug builds check it).  SEC: only
 * for names the caller writes itself, never for one it was given. */
#define CF_ATTR_NAME_STATIC	0x01
/* The string value s (CF_ATTR_STRING, CF_ATTR_IP) is UTF-8: the caller
 * checked it, or made it so, just before; it is not checked again
 * (debug builds do).  SEC: only for a string the caller checked itself
 * in the same call path, never for one it only believes valid. */
#define CF_ATTR_VALUE_UTF8	0x02

struct cf_entity_ref {
	const char	*type;
	const char	*id;
};

/* One entity: uid, attributes (a record, possibly empty), parents, and
 * tags (Cedar's "tags" member, a record read by hasTag/getTag): present
 * when tags is not NULL or ntags > 0, as "tags": {} is present in JSON
 * (no tags and empty tags decide alike). */
struct cf_entity_def {
	struct cf_entity_ref		 uid;
	const struct cf_attr		*attrs;
	size_t				 nattrs;
	const struct cf_entity_ref	*parents;
	size_t				 nparents;
	const struct cf_attr		*tags;
	size_t				 ntags;
};

/* As cf_entities_from_json of the same entities. */
cf_err	cf_entities_build(const struct cf_entity_def *defs, size_t n,
	    struct cf_entities **out, struct cf_error *err);
/* As cf_entities_build of base's entities and defs together, without
 * copying base: the new store is a layer over base (it takes a
 * reference on it, cf_entities_ref; base may be shared by any number of
 * layers and threads at once; it may not have a base itself).  For a
 * program that decides many requests with some entities in common (the
 * actions): those are built once.  Decisions, cf_entities_count and
 * cf_entities_equal see one store.  An entity in both is a duplicate
 * (CF_E_INPUT); CF_E_INVAL when an entity of base has an ancestor that
 * defs defines with parents (base's hierarchy was closed without
 * them).  Costs up to a lookup per ancestor of base's entities: keep
 * base small. */
cf_err	cf_entities_build_on(const struct cf_entities *base,
	    const struct cf_entity_def *defs, size_t n,
	    struct cf_entities **out, struct cf_error *err);
/* As cf_entities_build_on, into es, whose previous entities are
 * discarded and whose memory is kept: for a program that builds a store
 * per decision, one store per thread reused (nothing else may use es
 * meanwhile).  On failure es holds no entity (and no base). */
cf_err	cf_entities_rebuild_on(struct cf_entities *es,
	    const struct cf_entities *base, const struct cf_entity_def *defs,
	    size_t n, struct cf_error *err);
/* Layers over several bases: a store of one decision over the
 * entities of its action, of its principal and of its namespace, each
 * built once and shared.  As cf_entities_build_on, over bases[0..nbases)
 * (none when nbases is 0; each borrowed as base is above, none with a
 * base of its own): one store of all of them and defs.  An entity in
 * two of them is a duplicate (CF_E_INPUT).  CF_E_INVAL when an entity
 * of a base has an ancestor that another base or defs defines with
 * parents of its own (that base's hierarchy was closed without them);
 * one defined there without parents is what that base took it for, a
 * parent that names no entity above, and is allowed.  The new store
 * holds a reference on each base (cf_entities_ref) until it is freed
 * or rebuilt, so a base may be freed by its owner while stores built
 * over it are in use.  flags: CF_ENTITIES_SMALL starts the store's
 * memory at 1 KiB instead of 16 (a store of a few entities kept for
 * long, many of them). */
#define CF_ENTITIES_MAX_BASES	4
#define CF_ENTITIES_SMALL	0x01
cf_err	cf_entities_build_over(const struct cf_entities *const *bases,
	    size_t nbases, const struct cf_entity_def *defs, size_t n,
	    unsigned int flags, struct cf_entities **out,
	    struct cf_error *err);
/* As cf_entities_build_over, into es (as cf_entities_rebuild_on). */
cf_err	cf_entities_rebuild_over(struct cf_entities *es,
	    const struct cf_entities *const *bases, size_t nbases,
	    const struct cf_entity_def *defs, size_t n, struct cf_error *err);
/* One more reference on es, dropped by cf_entities_free: es is freed
 * when the last is dropped.  The count is atomic and is not part of
 * the store's value: a store shared read-only by threads may be
 * referenced and freed by any of them. */
void	cf_entities_ref(const struct cf_entities *es);
/* The first store es was built on (borrowed), or NULL; the number of
 * them, and the i-th (i < cf_entities_base_count). */
const struct cf_entities *cf_entities_base(const struct cf_entities *es);
size_t	cf_entities_base_count(const struct cf_entities *es);
const struct cf_entities *cf_entities_base_at(const struct cf_entities *es,
	    size_t i);
/* True when a and b hold the same entities: the same uids, attributes
 * and tags (Cedar equality; absent tags equal empty ones), parents and
 * ancestors, whatever their order.  For tests and for checking that two
 * ways of building a store agree. */
bool	cf_entities_equal(const struct cf_entities *a,
	    const struct cf_entities *b);
/* True when a and b name the same principal, action and resource and
 * have equal contexts. */
bool	cf_request_equal(const struct cf_request *a,
	    const struct cf_request *b);
/* As cf_request_new, with the context a record of the n fields ctx
 * (n 0: {}). */
cf_err	cf_request_build(const char *principal_type,
	    const char *principal_id, const char *action_type,
	    const char *action_id, const char *resource_type,
	    const char *resource_id, const struct cf_attr *ctx, size_t n,
	    struct cf_request **out, struct cf_error *err);

/* As cf_request_build, into req, whose previous request is discarded
 * and whose memory is kept.  On failure req holds no request: it may
 * not be decided on until rebuilt. */
cf_err	cf_request_rebuild(struct cf_request *req,
	    const char *principal_type, const char *principal_id,
	    const char *action_type, const char *action_id,
	    const char *resource_type, const char *resource_id,
	    const struct cf_attr *ctx, size_t n, struct cf_error *err);

/*
 * Requests.
 */

/* A request from its parts.  context is a JSON object in Cedar's value
 * format (borrowed; NULL means {}).  Strings are copied. */
cf_err	cf_request_new(const char *principal_type, const char *principal_id,
	    const char *action_type, const char *action_id,
	    const char *resource_type, const char *resource_id,
	    const json_t *context, struct cf_request **out,
	    struct cf_error *err);
/* A request from {"principal": {"type":..,"id":..}, "action": {..},
 * "resource": {..}, "context": {..}} (borrowed).  Other members are
 * ignored. */
cf_err	cf_request_from_json(const json_t *obj, struct cf_request **out,
	    struct cf_error *err);
void	cf_request_free(struct cf_request *req);	/* NULL: no-op */

/*
 * Authorization.
 */

cf_err	cf_response_new(struct cf_response **out, struct cf_error *err);
void	cf_response_free(struct cf_response *resp);	/* NULL: no-op */

/* Decide req against ps and es, filling resp (whose previous content is
 * discarded).  Policy errors are not failures: they are listed in resp.
 * Returns CF_E_NOMEM only; on failure the decision in resp is deny.
 *
 * The decision takes at most CF_POLICY_MAX_STEPS evaluation steps.  A
 * policy whose conditions need more (and so every later one with
 * conditions) errors.  A permit that errors does not apply, as in Cedar;
 * SEC: a forbid that runs out of steps is taken to apply (it is listed
 * both as an error and as a reason), so that exhausting the budget, say
 * with large entity data, can never turn a deny into an allow. */
cf_err	cf_policy_authorize(const struct cf_policy_set *ps,
	    const struct cf_entities *es, const struct cf_request *req,
	    struct cf_response *resp, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* Several policy sets decided together, as one: a forbid that applies in
 * any part denies, otherwise a permit that applies in any part allows.
 * Each part's policy ids are reported with its prefix in front (NULL or
 * "": none), so that parts may reuse ids.  links are templates of the
 * parts (of the first part that has one of that id) linked for this
 * decision only (no set is changed, so threads may share them): the
 * reference monitor links each role
 * template with the bindings of the request's principal.  A link whose
 * template does not exist is CF_E_NOTFOUND (and the decision deny). */
struct cf_policy_part {
	const struct cf_policy_set	*ps;
	const char			*prefix;
	unsigned int			 flags;		/* CF_POLICY_* */
};

/* SEC: a forbid of the part whose condition errors is taken to apply
 * (it is listed as an error and as a reason): an error can never turn
 * a deny into an allow.  Cedar itself skips such a forbid. */
#define CF_POLICY_STRICT_FORBID	0x01

struct cf_policy_link {
	const char	*template_id;
	const char	*id;		/* the linked policy's id */
	const char	*principal_type, *principal_id;	/* NULL: no slot */
	const char	*resource_type, *resource_id;	/* NULL: no slot */
};

cf_err	cf_policy_authorize_parts(const struct cf_policy_part *parts,
	    size_t nparts, const struct cf_policy_link *links, size_t nlinks,
	    const struct cf_entities *es, const struct cf_request *req,
	    struct cf_response *resp, struct cf_error *err)
	    __attribute__((warn_unused_result));

enum cf_decision cf_response_decision(const struct cf_response *resp);
/* Ids of the policies that determined the decision: the forbids that
 * applied when the decision is deny, the permits that applied when it is
 * allow.  Borrowed until the next cf_policy_authorize on resp. */
size_t	cf_response_reason_count(const struct cf_response *resp);
const char *cf_response_reason(const struct cf_response *resp, size_t i);
/* Evaluation steps the last decision took, at most CF_POLICY_MAX_STEPS. */
uint64_t cf_response_steps(const struct cf_response *resp);
/* Policies whose evaluation failed, with a message each. */
size_t	cf_response_error_count(const struct cf_response *resp);
const char *cf_response_error_id(const struct cf_response *resp, size_t i);
const char *cf_response_error_msg(const struct cf_response *resp, size_t i);
/* {"decision":"allow"|"deny","reasons":[...],"errors":[{"policy":..,
 * "message":..}]} as a new reference, NULL on NOMEM. */
json_t	*cf_response_to_json(const struct cf_response *resp);

/*
 * Schemas and validation.
 */
struct cf_schema;		/* opaque */
struct cf_validation;		/* opaque */

/* Limits on schema text. */
#define CF_SCHEMA_MAX_SRC	(4u * 1024 * 1024)	/* bytes */
#define CF_SCHEMA_MAX_DEPTH	64	/* type nesting (Set<..>, records) */
#define CF_SCHEMA_MAX_TYPES	1024	/* entity types, common types */
#define CF_SCHEMA_MAX_ACTIONS	1024
/* Typechecking steps one cf_policy_validate may take (an expression
 * typechecked in one request environment), so that a large schema times
 * a large policy set cannot take unbounded time. */
#define CF_VALIDATE_MAX_STEPS	50000000u

/* Parse a schema in Cedar's human-readable schema syntax (.cedarschema)
 * from src[0..len) and resolve every name in it.  CF_E_INPUT with
 * "line:col: message" in err on a syntax error or an unresolvable or
 * duplicate name; CF_E_LIMIT beyond the CF_SCHEMA_MAX_* limits.  On
 * failure *out is untouched.  A schema is immutable once parsed and may be
 * shared by threads. */
cf_err	cf_schema_parse(const char *src, size_t len, struct cf_schema **out,
	    struct cf_error *err);
void	cf_schema_free(struct cf_schema *s);	/* NULL: no-op */
size_t	cf_schema_entity_type_count(const struct cf_schema *s);
size_t	cf_schema_action_count(const struct cf_schema *s);
/* True when the schema declares the entity type name ("NS::User"). */
bool	cf_schema_has_entity_type(const struct cf_schema *s,
	    const char *name);
/* True when the schema declares the action type::"id" (type is the action
 * entity type, "Action" or "NS::Action"). */
bool	cf_schema_has_action(const struct cf_schema *s, const char *type,
	    const char *id);

/* Results of a validation, reused from call to call. */
cf_err	cf_validation_new(struct cf_validation **out, struct cf_error *err);
void	cf_validation_free(struct cf_validation *v);	/* NULL: no-op */

/* Validate every policy and template of ps against s as Cedar's validator
 * does in its default strict mode (Cedar 4): each policy is typechecked in
 * every request environment (principal type, action, resource type) of
 * the schema, and entity types, actions and enum entities it names must be
 * declared.  Errors are listed in out (its previous content discarded);
 * they are not failures.  Returns CF_E_NOMEM, or CF_E_LIMIT beyond
 * CF_VALIDATE_MAX_STEPS (out then lists what was found so far and is not
 * valid). */
cf_err	cf_policy_validate(const struct cf_schema *s,
	    const struct cf_policy_set *ps, struct cf_validation *out,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* True when the last validation found no error. */
bool	cf_validation_ok(const struct cf_validation *v);
/* Errors in policy order, each once.  Borrowed until the next
 * cf_policy_validate on v.  Lines and columns count from 1 and locate
 * the expression at fault (or the policy). */
size_t	cf_validation_error_count(const struct cf_validation *v);
const char *cf_validation_error_policy(const struct cf_validation *v,
	    size_t i);
unsigned int cf_validation_error_line(const struct cf_validation *v,
	    size_t i);
unsigned int cf_validation_error_col(const struct cf_validation *v,
	    size_t i);
const char *cf_validation_error_msg(const struct cf_validation *v,
	    size_t i);
/* {"valid":bool,"errors":[{"policy":..,"line":..,"col":..,"message":..}]}
 * as a new reference, NULL on NOMEM. */
json_t	*cf_validation_to_json(const struct cf_validation *v);

/*
 * Inspection (inspect.c): what the policies of a set name, for callers
 * that restrict what a policy may be about.
 */

/* One action a policy names.  Strings are borrowed for the call; the
 * type and id are counted (Cedar strings may hold NUL). */
struct cf_policy_action_ref {
	const char	*policy_id;
	bool		 is_template;
	bool		 any;		/* the action scope is unconstrained:
					 * no type or id */
	bool		 in_scope;	/* named by the action scope (else by
					 * a literal in a condition) */
	const char	*type;		/* "Action", "NS::Action", ... */
	size_t		 tlen;
	const char	*id;
	size_t		 ilen;
};
typedef cf_err (*cf_policy_action_fn)(void *arg,
    const struct cf_policy_action_ref *ref, struct cf_error *err);

/* For each policy, then each template, of ps: fn once with any set when
 * its action scope is unconstrained, else once per action of the scope
 * (action == A, action in A, action in [A, ...]); then once per entity
 * literal of an action type (Action, or a type ending in ::Action)
 * anywhere in its conditions.  A non-OK return of fn stops the walk and
 * is returned. */
cf_err	cf_policy_set_actions(const struct cf_policy_set *ps,
	    cf_policy_action_fn fn, void *arg, struct cf_error *err);

/* Context use and scope matches (inspect.c). */

/* True when a condition (when/unless) of the policy or template id of
 * ps mentions `context`; false for an unknown id.  Such a policy may
 * apply under one request context and not under another. */
bool	cf_policy_uses_context(const struct cf_policy_set *ps,
	    const char *id);

/* True when a condition of a policy or template of ps calls hasTag or
 * getTag (the only ways to read an entity's tags): a caller may leave
 * out the tags of the entities it builds for a set that reads none. */
bool	cf_policy_set_uses_tags(const struct cf_policy_set *ps);

/* For each policy of ps in force (static and linked, not templates)
 * whose scope (its principal, action and resource constraints) matches
 * req in es, call cb with the policy's id and whether its conditions
 * mention `context`.  The scope does not depend on the context: a policy
 * not reported can apply to req under no context at all.  cb returns
 * non-OK to stop; that code is returned. */
typedef cf_err (*cf_policy_match_cb)(void *arg, const char *id,
    bool uses_context, struct cf_error *err);
cf_err	cf_policy_scope_matches(const struct cf_policy_set *ps,
	    const struct cf_entities *es, const struct cf_request *req,
	    cf_policy_match_cb cb, void *arg, struct cf_error *err);

/*
 * Entity and request validation (entcheck.c): do entities and a request
 * conform to a schema, as Cedar checks them when it is given one?
 */
struct cf_entity_check;		/* opaque: the violations found */

/* Violations kept by one result; more are only counted. */
#define CF_ENTCHECK_MAX_ERRORS	1000

cf_err	cf_entity_check_new(struct cf_entity_check **out,
	    struct cf_error *err);
void	cf_entity_check_free(struct cf_entity_check *ec);	/* NULL ok */
/* Forget the violations found so far (the checks below add to them). */
void	cf_entity_check_clear(struct cf_entity_check *ec);

/* Check a JSON entity array (Cedar's format, as cf_entities_parse takes,
 * borrowed) against s, adding a violation to out for each: an entity
 * whose type is not declared (or whose id is not one of an enum type's),
 * a required attribute missing, an attribute not declared, a value not of
 * its declared type (records recursively, sets, entity references of the
 * declared type, extension values {"__extn": {"fn", "arg"}} that are valid
 * and of the declared extension type), a parent of a type the schema does
 * not let the entity be in, tags on a type without tags or not of the
 * declared tag type, an entity listed twice, an action that is not
 * declared, has attributes or tags, or whose ancestors differ from the
 * schema's.  Malformed entries (no uid, attrs not an object ...) are
 * violations too; hierarchy cycles are left to cf_entities_parse.
 * Violations are not failures: returns CF_E_NOMEM, or CF_E_INVAL for
 * NULL arguments. */
cf_err	cf_schema_check_entities(const struct cf_schema *s,
	    const json_t *entities, struct cf_entity_check *out,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* A request to check: types and ids are NUL-terminated; the ids may be
 * NULL (not checked: they matter only for enum types); context NULL is
 * not checked (give an empty object for Cedar's default, {}). */
struct cf_entity_check_request {
	const char	*principal_type, *principal_id;
	const char	*action_type, *action_id;	/* "Action", "read" */
	const char	*resource_type, *resource_id;
	const json_t	*context;
};

/* Check a request against s, adding to out: the action is not declared,
 * the principal or resource type is not declared or not in the action's
 * appliesTo (an action without appliesTo applies to nothing), an enum
 * id is not declared, the context does not have the action's context
 * type.  Returns as cf_schema_check_entities. */
cf_err	cf_schema_check_request(const struct cf_schema *s,
	    const struct cf_entity_check_request *rq,
	    struct cf_entity_check *out, struct cf_error *err)
	    __attribute__((warn_unused_result));
/* The same for a request in JSON (borrowed): {"principal": {"type",
 * "id"}, "action": {..}, "resource": {..}, "context": {..}} as
 * cf_request_from_json takes it (no context: {}); a malformed one is a
 * violation. */
cf_err	cf_schema_check_request_json(const struct cf_schema *s,
	    const json_t *req, struct cf_entity_check *out,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* True when no violation was found. */
bool	cf_entity_check_ok(const struct cf_entity_check *ec);
/* Violations in the order found, borrowed until the next check or
 * clear on ec: the entity (Type::"id" printable with \xHH escapes,
 * "entities[N]" for an entry without a readable uid, "request"), the
 * path of the value at fault in it ("attrs.address.city", "tags.env",
 * "parents[0]", "context.mfa"; "" for the entity itself) and a message. */
size_t	cf_entity_check_error_count(const struct cf_entity_check *ec);
const char *cf_entity_check_error_entity(const struct cf_entity_check *ec,
	    size_t i);
const char *cf_entity_check_error_path(const struct cf_entity_check *ec,
	    size_t i);
const char *cf_entity_check_error_msg(const struct cf_entity_check *ec,
	    size_t i);
/* Violations found beyond CF_ENTCHECK_MAX_ERRORS, not kept. */
size_t	cf_entity_check_dropped(const struct cf_entity_check *ec);
/* {"valid": bool, "errors": [{"entity", "path", "message"}],
 * "more_errors": N} as a new reference, NULL on NOMEM. */
json_t	*cf_entity_check_to_json(const struct cf_entity_check *ec);

/* Cedar's ip() and isInRange() for the rest of Coffer (the address
 * binding of share links): 1 when addr (an address, or a prefix) lies in
 * range (an address or a prefix, "10.0.0.0/8", "2001:db8::/32"), 0 when
 * it does not, -1 when either is not what Cedar's ip() accepts. */
int	cf_policy_ip_in_range(const char *addr, const char *range);

#endif
