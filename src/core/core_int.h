/* src/core/core_int.h: shared between the files of src/core only. */
#ifndef CF_CORE_CORE_INT_H
#define CF_CORE_CORE_INT_H

#include <pthread.h>

#include "audit/audit.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "store/blob.h"
#include "store/meta.h"

#define CF_TOKEN_PREFIX		"cft_"
#define CF_TOKEN_RAW_LEN	32	/* 256-bit secret */
#define CF_TOKEN_STR_MAX	64
#define CF_TOKEN_TOUCH_US	(60 * 1000000LL)

struct cf_core {
	struct cf_core_config	 cfg;
	char			 data_dir[4096];
	struct cf_keyring	*kr;
	pthread_mutex_t		 kr_lock;	/* keyring is not thread-safe */
	struct cf_meta		*meta;
	struct cf_blobstore	*blobs;
	struct cf_audit		*audit;
};

/* The reference monitor's decision for (r->principal, action, resource in
 * namespace ns (NULL: global)).  Sets r->action, r->resource, r->allowed
 * and r->reasons.  CF_OK when allowed, CF_E_AUTH when unauthenticated,
 * CF_E_DENIED otherwise. */
cf_err	core_authorize(struct cf_core *c, struct cf_req *r, const char *action,
	    const char *ns, const char *resource, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* Does the principal hold role (or a stronger one) on ns (global counts)? */
bool	core_has_role(const struct cf_req *r, const char *role, const char *ns);

/* Make a new token for principal_id; *token (CF_TOKEN_STR_MAX) gets the
 * secret, to be shown once and wiped by the caller. */
cf_err	core_token_mint(struct cf_core *c, int64_t principal_id,
	    uint64_t expires_in, const char *description,
	    struct cf_token_rec *rec, char token[CF_TOKEN_STR_MAX],
	    struct cf_error *err);

json_t	*core_time_json(int64_t us);

#endif
