/* src/policy/schema_int.h: the resolved Cedar schema, shared by schema.c
 * (which builds it) and validate.c (which typechecks against it).
 *
 * Every name in a schema is resolved once, at parse time: attribute and
 * context types point at types, entity and action references are indexes.
 * Types live in the schema's arena and are immutable, so the validator may
 * point into them freely. */
#ifndef CF_POLICY_SCHEMA_INT_H
#define CF_POLICY_SCHEMA_INT_H

#include "policy_int.h"

enum cf_sch_kind {
	ST_NEVER = 0,
	ST_TRUE,
	ST_FALSE,
	ST_BOOL,
	ST_LONG,
	ST_STRING,
	ST_SET,		/* elem */
	ST_RECORD,	/* rec; always closed in strict validation */
	ST_ENTITY,	/* idx: entity type */
	ST_ACTION,	/* idx: action entity type (atypes) */
	ST_EXT		/* ext */
};

enum cf_sch_ext {
	SX_IPADDR = 1,
	SX_DECIMAL,
	SX_DATETIME,
	SX_DURATION
};

struct cf_sch_rec;

struct cf_sch_type {
	uint8_t				 kind;
	uint8_t				 ext;
	uint32_t			 idx;
	const struct cf_sch_type	*elem;
	const struct cf_sch_rec		*rec;
};

struct cf_sch_attr {
	const char			*k;
	size_t				 kn;
	bool				 req;
	const struct cf_sch_type	*t;
};

/* Attributes sorted by key (cf_pol_key_cmp), keys unique. */
struct cf_sch_rec {
	size_t			n;
	struct cf_sch_attr	a[];
};

/* Bit sets over entity types or actions. */
static inline bool
cf_sch_bit(const uint8_t *bits, size_t i)
{
	return (bits[i / 8] >> (i % 8)) & 1;
}

struct cf_sch_etype {
	const char			*name;
	size_t				 nlen;
	const struct cf_sch_rec		*attrs;		/* never NULL */
	const struct cf_sch_type	*tags;		/* NULL: no tags */
	bool				 is_enum;
	const char			**enums;
	size_t				*enumlens;
	size_t				 nenums;
	/* Types whose entities may be `in` an entity of this type (the
	 * transitive closure of `entity X in [this]`), self not included. */
	uint8_t				*desc;
};

struct cf_sch_action {
	const struct cf_pol_uid		*uid;
	uint32_t			 atype;		/* index in atypes */
	/* Actions that are `in` this one, transitively, self included. */
	uint8_t				*desc;
	bool				 applies;	/* has appliesTo */
	uint32_t			*ptypes, *rtypes;
	size_t				 nptypes, nrtypes;
	const struct cf_sch_type	*context;	/* a record */
};

struct cf_schema {
	struct cf_pol_arena	 ar;
	struct cf_sch_etype	*ents;
	size_t			 nents;
	struct cf_sch_action	*acts;
	size_t			 nacts;
	const char		**atypes;	/* action entity types */
	size_t			*atlens;
	size_t			 natypes;
};

/* Index of the entity type name[0..n), or -1. */
long	cf_sch_entity_index(const struct cf_schema *s, const char *name,
	    size_t n);
/* Index of the action uid, or -1. */
long	cf_sch_action_index(const struct cf_schema *s,
	    const struct cf_pol_uid *uid);
/* Index of the action entity type name[0..n), or -1. */
long	cf_sch_atype_index(const struct cf_schema *s, const char *name,
	    size_t n);
/* The attribute k of r, or NULL. */
const struct cf_sch_attr *cf_sch_rec_get(const struct cf_sch_rec *r,
	    const char *k, size_t kn);

#endif
