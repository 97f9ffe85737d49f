/* src/policy/policy_int.h: types shared by the files of src/policy only.
 *
 * Memory model: every object (policy set, entity store, request, response)
 * owns one arena, and everything it points to lives in that arena or in an
 * arena that outlives it.  Values are immutable, so a value computed while
 * evaluating may point into the policy set, the entity store or the
 * request; the response arena that holds the evaluation's own values is
 * reset at the start of each decision. */
#ifndef CF_POLICY_POLICY_INT_H
#define CF_POLICY_POLICY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * Arenas.
 */
struct cf_pol_chunk;

struct cf_pol_arena {
	struct cf_pol_chunk	*head;
	size_t			 total;		/* bytes held */
	size_t			 first;		/* first chunk's size, 0:
						 * the default */
};

void	 cf_pol_arena_init(struct cf_pol_arena *a);
/* Aligned to 16; NULL on NOMEM. */
void	*cf_pol_arena_alloc(struct cf_pol_arena *a, size_t n);
void	*cf_pol_arena_calloc(struct cf_pol_arena *a, size_t nmemb, size_t sz);
/* Copy of p[0..n) plus a terminating NUL. */
char	*cf_pol_arena_strdup(struct cf_pol_arena *a, const char *p, size_t n);
/* Free all but the most recent chunk and make it empty. */
void	 cf_pol_arena_reset(struct cf_pol_arena *a);
void	 cf_pol_arena_free(struct cf_pol_arena *a);

/*
 * Sets of pointers by hash (hset.c), so that loading stays linear: open
 * addressing, keyed by a 64-bit hash the caller computes, with the
 * caller's equality.  probes counts the slots looked at, so tests can
 * check that the work is linear without timing anything.
 */
typedef bool	cf_pol_hset_eq(const void *x, const void *y);

struct cf_pol_hslot {
	uint64_t	 h;
	const void	*p;
	uint32_t	 gen;		/* live when equal to the set's */
};

struct cf_pol_hset {
	struct cf_pol_hslot	*slot;
	size_t			 cap, n;
	uint32_t		 gen;
	bool			 own;		/* slot is cf_calloc'ed */
	uint64_t		 probes;
};

void	 cf_pol_hset_init(struct cf_pol_hset *s);
/* A set that starts in the caller's buf of cap slots (a power of two,
 * usually on the stack), so that a small set allocates nothing (one per
 * entity store a decision builds); it moves to the heap when it grows.
 * buf must outlive the set; cf_pol_hset_free never frees it. */
void	 cf_pol_hset_init_buf(struct cf_pol_hset *s, struct cf_pol_hslot *buf,
	    size_t cap);
void	 cf_pol_hset_free(struct cf_pol_hset *s);	/* NULL: no-op */
/* Empty the set in O(1), keeping its memory. */
void	 cf_pol_hset_clear(struct cf_pol_hset *s);
/* The element equal to key (whose hash is h), or NULL. */
const void *cf_pol_hset_get(struct cf_pol_hset *s, uint64_t h,
	    const void *key, cf_pol_hset_eq *eq);
/* Make room for more elements, so that adding them cannot fail.
 * CF_E_NOMEM, with the set unchanged, or CF_OK. */
cf_err	 cf_pol_hset_reserve(struct cf_pol_hset *s, size_t more);
/* Add p (hash h) unless an equal element is there (*added false then).
 * CF_E_NOMEM, with the set unchanged, or CF_OK. */
cf_err	 cf_pol_hset_add(struct cf_pol_hset *s, uint64_t h, const void *p,
	    cf_pol_hset_eq *eq, bool *added);

/*
 * Entity references: a type (a path such as "NS::User") and an id, both
 * counted strings that may contain NUL bytes.  The hash is precomputed so
 * equality and store lookups are cheap.
 */
struct cf_pol_uid {
	uint64_t	 hash;
	const char	*type;
	const char	*id;
	uint32_t	 tlen;
	uint32_t	 ilen;
};

uint64_t cf_pol_hash(const char *type, size_t tlen, const char *id,
	    size_t ilen);
/* A new uid in a (strings copied); NULL on NOMEM. */
const struct cf_pol_uid *cf_pol_uid_new(struct cf_pol_arena *a,
	    const char *type, size_t tlen, const char *id, size_t ilen);

static inline bool
cf_pol_uid_eq(const struct cf_pol_uid *x, const struct cf_pol_uid *y)
{
	return x == y || (x->hash == y->hash && x->tlen == y->tlen &&
	    x->ilen == y->ilen &&
	    (x->tlen == 0 ||
	    __builtin_memcmp(x->type, y->type, x->tlen) == 0) &&
	    (x->ilen == 0 || __builtin_memcmp(x->id, y->id, x->ilen) == 0));
}

/*
 * Values.
 */
enum cf_pol_kind {
	PV_BOOL = 1,
	PV_LONG,
	PV_STR,
	PV_ENTITY,
	PV_SET,
	PV_RECORD,
	PV_DECIMAL,	/* u.i: value * 10^4 */
	PV_IP,		/* u.ip, ipv6, prefix */
	PV_DATETIME,	/* u.i: ms since the epoch */
	PV_DURATION	/* u.i: ms */
};

struct cf_pol_set;
struct cf_pol_rec;

struct cf_pol_val {
	uint8_t		 kind;
	uint8_t		 ipv6;
	uint8_t		 prefix;
	union {
		bool		 b;
		int64_t		 i;
		struct {
			const char	*p;
			size_t		 n;
		}		 s;
		const struct cf_pol_uid	*e;
		const struct cf_pol_set	*set;
		const struct cf_pol_rec	*rec;
		uint8_t		 ip[16];
	} u;
};

struct cf_pol_set {
	size_t			 n;
	struct cf_pol_val	 v[];
};

struct cf_pol_field {
	const char		*k;
	size_t			 kn;
	struct cf_pol_val	 v;
};

/* Fields sorted by key (bytewise, shorter first on a tie), keys unique. */
struct cf_pol_rec {
	size_t			 n;
	struct cf_pol_field	 f[];
};

bool	cf_pol_val_eq(const struct cf_pol_val *x, const struct cf_pol_val *y);
/* Cedar equality at a cost: each pair of values compared takes one unit
 * of *budget.  1 equal, 0 not, -1 when *budget ran out first. */
int	cf_pol_val_eq_budget(const struct cf_pol_val *x,
	    const struct cf_pol_val *y, uint64_t *budget);
const char *cf_pol_kind_name(int kind);
const struct cf_pol_val *cf_pol_rec_get(const struct cf_pol_rec *r,
	    const char *k, size_t kn);
int	cf_pol_key_cmp(const char *a, size_t an, const char *b, size_t bn);
/* Sort fields by key; false if two keys are equal (r is then no longer
 * a record: a field may be lost; every caller refuses it). */
bool	cf_pol_rec_sort(struct cf_pol_rec *r);

/* Extension value parsers: 0 on success, -1 on a malformed string. */
int	cf_pol_parse_decimal(const char *s, size_t n, int64_t *out);
int	cf_pol_parse_ip(const char *s, size_t n, struct cf_pol_val *out);
int	cf_pol_parse_datetime(const char *s, size_t n, int64_t *out);
int	cf_pol_parse_duration(const char *s, size_t n, int64_t *out);

/* True when s[0..n) is an entity type name: IDENT ('::' IDENT)*. */
bool	cf_pol_valid_type(const char *s, size_t n);
/* Printable copy of p[0..n) for messages (\xHH escapes, truncated). */
void	cf_pol_escape(const char *p, size_t n, char *out, size_t outsz);
/* Parse JSON text as Cedar expects (NUL allowed in strings, duplicate
 * keys rejected); *out owns a reference. */
cf_err	cf_pol_json_load(const char *json, size_t len, json_t **out,
	    struct cf_error *err);

/* Extension functions by name (0 if unknown; *method tells the call
 * style), their arity, and applying one to values: 0 on success, -1 with
 * *msg on an error, -2 on NOMEM. */
int	cf_pol_fn_lookup(const char *name, size_t n, bool *method);
int	cf_pol_ext_arity(int fn);
int	cf_pol_ext_call(struct cf_pol_arena *a, int fn,
	    const struct cf_pol_val *args, size_t nargs,
	    struct cf_pol_val *out, const char **msg);

/* JSON (Cedar's value format, no schema) to a value in a.  Returns CF_OK,
 * CF_E_NOMEM or CF_E_INPUT (with err). */
cf_err	cf_pol_json_value(struct cf_pol_arena *a, const json_t *j,
	    struct cf_pol_val *out, int depth, struct cf_error *err);
/* {"type":..,"id":..} or {"__entity": {...}} to a uid. */
cf_err	cf_pol_json_uid(struct cf_pol_arena *a, const json_t *j,
	    const char *what, const struct cf_pol_uid **out,
	    struct cf_error *err);

/*
 * Expressions.
 */
enum cf_pol_op {
	X_LIT = 1,
	X_VAR,		/* var: 0 principal, 1 action, 2 resource, 3 context */
	X_NOT,
	X_NEG,
	X_AND,
	X_OR,
	X_IF,
	X_EQ,
	X_NE,
	X_LT,
	X_LE,
	X_GT,
	X_GE,
	X_IN,
	X_ADD,
	X_SUB,
	X_MUL,
	X_HAS,		/* a has keys[0].keys[1]... (nkeys >= 1) */
	X_ATTR,		/* a.name */
	X_LIKE,		/* a like pat */
	X_IS,		/* a is name */
	X_IS_IN,	/* a is name in b: a is evaluated once */
	X_SET,		/* [args] */
	X_RECORD,	/* {keys: args} */
	X_CONTAINS,	/* a.contains(b), and so on: receiver a */
	X_CONTAINS_ALL,
	X_CONTAINS_ANY,
	X_IS_EMPTY,
	X_HAS_TAG,
	X_GET_TAG,
	X_EXT,		/* fn(args), method calls with the receiver first */
	X_ERROR		/* a constant that fails with msg (folded ext call) */
};

enum cf_pol_fn {
	FN_IP = 1,
	FN_DECIMAL,
	FN_DATETIME,
	FN_DURATION,
	FN_IS_IPV4,
	FN_IS_IPV6,
	FN_IS_LOOPBACK,
	FN_IS_MULTICAST,
	FN_IS_IN_RANGE,
	FN_LESS_THAN,
	FN_LESS_THAN_OR_EQUAL,
	FN_GREATER_THAN,
	FN_GREATER_THAN_OR_EQUAL,
	FN_OFFSET,
	FN_DURATION_SINCE,
	FN_TO_DATE,
	FN_TO_TIME,
	FN_TO_DAYS,
	FN_TO_HOURS,
	FN_TO_MINUTES,
	FN_TO_SECONDS,
	FN_TO_MILLISECONDS
};

/* A like pattern: literal runs separated by wildcards. */
struct cf_pol_pat {
	size_t		 n;		/* elements */
	struct {
		bool		 star;
		const char	*p;	/* literal when !star */
		size_t		 len;
	}		*el;
};

/* SEC: the expressions of a condition form a tree.  Every node is the
 * child (a, b, c or one of args) of exactly one parent, and an operand is
 * evaluated at most once per evaluation of its parent, so both the parser
 * (tree_depth) and the evaluator do work linear in the size of the text.
 * A node shared by two parents would double the work at each level of
 * nesting; desugarings such as `x has a.b` (x has a && x.a has b) and
 * `x is T in y` (x is T && x in y) get nodes of their own instead. */
struct cf_pol_expr {
	uint8_t			 op;
	uint8_t			 var;
	uint8_t			 fn;
	const struct cf_pol_expr *a, *b, *c;
	const struct cf_pol_expr **args;	/* X_SET, X_RECORD, X_EXT */
	size_t			 nargs;
	const char		*name;		/* attr / type */
	size_t			 nlen;
	const char		**keys;		/* X_RECORD (sorted), X_HAS */
	size_t			*klens;
	size_t			 nkeys;
	const struct cf_pol_pat	*pat;
	struct cf_pol_val	 lit;
	const char		*msg;		/* X_ERROR */
	uint32_t		 line, col;	/* where it starts */
	/* A subexpression a decision memoizes (eval.c, "Shared
	 * subexpressions"): its structure written out (everything but
	 * line and col; in the set's arena) and a hash of that. */
	bool			 memo;
	uint32_t		 slen;
	const unsigned char	*ser;
	uint64_t		 shash;
};

/* Mark the subexpressions of the condition tree e that a decision
 * memoizes (eval.c), their structure written into a (not when out of
 * memory: such a node is not memoized).  For the parser, once per
 * condition, after tree_depth bounded its depth.  seen (nullable, the
 * parser's, empty at first): the operands marked so far, so that equal
 * ones share their written-out bytes (cf_pol_expr_same compares the
 * pointers first). */
void	cf_pol_expr_memo_mark(struct cf_pol_arena *a, struct cf_pol_hset *seen,
	    struct cf_pol_expr *e);
/* True when x and y are the same expression but for line and col: they
 * evaluate alike in every request (eval.c). */
bool	cf_pol_expr_same(const struct cf_pol_expr *x,
	    const struct cf_pol_expr *y);
/* Tests only: decide without the memo, to compare (eval.c). */
extern bool	cf_pol_memo_off;
/* Tests only: look at every candidate, as if every scope filter and
 * index bloom passed (eval.c). */
extern bool	cf_pol_filter_off;
/* Memo hits of decisions on resp so far (eval.c), for tests. */
uint64_t	cf_pol_memo_hits(const struct cf_response *resp);

/*
 * Policies.
 */
enum cf_pol_scope_op {
	SC_ANY = 0,
	SC_EQ,
	SC_IN,
	SC_IS,
	SC_IS_IN,
	SC_IN_LIST	/* action in [...] */
};

struct cf_pol_scope {
	uint8_t			 op;
	bool			 slot;		/* uid is a template slot */
	const char		*type;		/* SC_IS, SC_IS_IN */
	size_t			 tlen;
	const struct cf_pol_uid	*uid;		/* NULL while a slot */
	const struct cf_pol_uid	**list;		/* SC_IN_LIST */
	size_t			 nlist;
};

struct cf_pol_cond {
	bool			 unless;
	const struct cf_pol_expr *e;
};

struct cf_pol_policy {
	const char		*id;
	bool			 forbid;
	bool			 is_template;
	struct cf_pol_scope	 p, a, r;
	const struct cf_pol_cond *conds;
	size_t			 nconds;
	uint32_t		 line, col;	/* where it starts */
};

/* A uid hash's bit in a 64-bit bloom (a candidate's scope filter). */
#define CF_POL_BIT(h)	((uint64_t)1 << ((h) >> 58))

/* How a candidate's filter tests one scope against the request's uid
 * (cf_pol_cand_fill): a necessary condition of scope_match, read from
 * the candidate itself instead of the policy's scopes. */
enum cf_pol_filt {
	PF_ANY = 0,	/* passes (any, a slot, an operator not known) */
	PF_HASH,	/* == : key is the uid's hash */
	PF_BITS,	/* in, is-in, in [...]: key has the bloom bits of the
			 * uid(s); the request's uid or an ancestor must set
			 * one */
	PF_TLEN		/* is : key is the type's length */
};

/* A policy a request may have to look at (a set's scan list, an index
 * bucket), with what its three scope checks read first: a decision
 * reads these 32 bytes, two to a cache line, and the policy's own
 * struct (three cache lines, wherever the parse put it) only for the
 * candidates that pass.  The decisions are scope_match's: the filter
 * only skips policies it would reject. */
struct cf_pol_cand {
	uint64_t		 key[3];	/* of p, a, r */
	uint32_t		 pol;		/* index in pols */
	uint8_t			 filt[3];	/* enum cf_pol_filt */
};

/* A bucket of the scope index: policies whose principal (or resource)
 * constraint names one entity. */
struct cf_pol_bucket {
	const struct cf_pol_uid	*key;
	struct cf_pol_cand	*pol;
	size_t			 n, cap;
};

/* bloom: a bit (the hash's top 8 bits) per key, so that a request's
 * uid and its ancestors probe only the buckets that may hold them. */
struct cf_pol_index {
	struct cf_pol_bucket	*b;		/* open addressing */
	size_t			 cap, used;
	uint64_t		 bloom[4];
};

static inline void
cf_pol_index_bloom_add(struct cf_pol_index *ix, uint64_t h)
{
	ix->bloom[h >> 62] |= (uint64_t)1 << ((h >> 56) & 63);
}

static inline bool
cf_pol_index_may_hold(const struct cf_pol_index *ix, uint64_t h)
{
	uint64_t	bit = (uint64_t)1 << ((h >> 56) & 63);

	return (ix->bloom[h >> 62] & bit) != 0;
}

struct cf_policy_set {
	struct cf_pol_arena	 ar;
	struct cf_pol_policy	**pols;		/* in force: static, linked */
	size_t			 npols, cappols;
	struct cf_pol_policy	**tmpls;
	size_t			 ntmpls, captmpls;
	struct cf_pol_index	 by_principal;
	struct cf_pol_index	 by_resource;
	struct cf_pol_cand	*scan;		/* policies in no index */
	size_t			 nscan, capscan;
	struct cf_pol_hset	 ids;		/* policies and templates */
};

/*
 * Entities and requests.
 */
struct cf_pol_entity {
	const struct cf_pol_uid	 *uid;
	const struct cf_pol_rec	 *attrs;
	const struct cf_pol_rec	 *tags;
	const struct cf_pol_uid	**parents;
	size_t			  nparents;
	const struct cf_pol_uid	**anc;		/* closure, sorted by hash */
	/* anc's hashes, in anc's order, beside it: `in` searches these
	 * without reading a uid until a hash matches (the uids lie in
	 * other stores' arenas, a cache line each). */
	const uint64_t		 *anc_hash;
	size_t			  nanc;
};

struct cf_entities {
	struct cf_pol_arena	 ar;
	/* References held on this store (cf_entities_ref): freed when the
	 * last is dropped. */
	_Atomic size_t		 refs;
	/* The shared layers below (cf_entities_build_over), each holding
	 * a reference taken for this store. */
	const struct cf_entities *bases[CF_ENTITIES_MAX_BASES];
	size_t			 nbases;
	struct cf_pol_entity	*ents;		/* this layer's */
	size_t			 n;
	uint32_t		*table;		/* index + 1, 0 empty */
	/* One bit per entity of this layer (bit hash >> 58), and one per
	 * entity with parents: base_check probes a layer only for a uid
	 * whose bit it has. */
	uint64_t		 bloom, bloom_parented;
	size_t			 tcap;
	uint64_t		 probes;	/* of close_hierarchy's sets */
};

/* The entity uid of es or of one of its bases, or NULL. */
const struct cf_pol_entity *cf_pol_entity_get(const struct cf_entities *es,
	    const struct cf_pol_uid *uid);
/* True when e (an entity, may be absent from the store) is anc or has it
 * among its ancestors. */
bool	cf_pol_entity_in(const struct cf_pol_entity *ent,
	    const struct cf_pol_uid *e, const struct cf_pol_uid *anc);

/* Does uid u (entity ent, NULL when absent) meet scope constraint sc?
 * The authorizer's own test (eval.c), for inspect.c. */
bool	cf_pol_scope_match(const struct cf_pol_scope *sc,
	    const struct cf_pol_uid *u, const struct cf_pol_entity *ent);

struct cf_request {
	struct cf_pol_arena	 ar;
	const struct cf_pol_uid	*principal, *action, *resource;
	struct cf_pol_val	 context;	/* a record */
};

struct cf_pol_err {
	const char	*id;
	const char	*msg;
};

struct cf_pol_memo;

struct cf_response {
	struct cf_pol_arena	 ar;
	enum cf_decision	 decision;
	const char		**reasons;
	size_t			 nreasons, capreasons;
	struct cf_pol_err	*errors;
	size_t			 nerrors, caperrors;
	const char		**forbids;	/* scratch */
	size_t			 nforbids, capforbids;
	uint64_t		 steps;		/* taken by the decision */
	struct cf_pol_memo	*memo;		/* eval.c; NULL: none yet */
};

#endif
