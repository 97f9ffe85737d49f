/* src/core/core_int.h: shared between the files of src/core only. */
#ifndef CF_CORE_CORE_INT_H
#define CF_CORE_CORE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "audit/audit.h"
#include "base/membudget.h"
#include "base/timeutil.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "crypto/keyprov.h"
#include "store/blob.h"
#include "store/meta.h"

#define CF_TOKEN_PREFIX		"cft_"
#define CF_TOKEN_RAW_LEN	32	/* 256-bit secret */
#define CF_TOKEN_STR_MAX	64
#define CF_TOKEN_TOUCH_US	(60 * 1000000LL)
#define CF_SESSION_PREFIX	"cfs_"
#define CF_GROUP_MAP_MAX	64

struct cf_jwks;
struct core_orphans;
struct core_keys;
struct core_authz_snap;
struct core_authz_scratch;
struct core_layer_cache;
struct cf_schema;
struct cf_policy_set;
struct cf_action_def;

/* One oidc_group_roles entry: members of group get role (on ns, or
 * globally when ns is ""). */
struct core_group_map {
	char	group[129];
	char	role[CF_ROLE_MAX];
	char	ns[CF_NS_NAME_MAX];
};

#define CF_OIDC_ISSUERS_MAX	8	/* oidc_issuer + oidc_config_file */
#define CF_OIDC_FILE_MAX	65536	/* bytes of oidc_config_file */

/* One trusted OIDC issuer: its keys and the rules its tokens must meet. */
struct core_issuer {
	char			 issuer[512];
	char			 audience[256];
	char			 username_claim[64];
	char			 groups_claim[64];	/* "": no groups */
	bool			 provision;
	int64_t			 skew;
	struct cf_jwks		*jwks;
	struct core_group_map	 gmap[CF_GROUP_MAP_MAX];
	size_t			 ngmap;
	/* claim_attrs: claim (a dotted path) -> user attribute */
	char			 attr_claim[CF_JWT_ATTRS_MAX][129];
	char			 attr_name[CF_JWT_ATTRS_MAX][CF_ATTR_NAME_MAX];
	const char		*attr_claim_p[CF_JWT_ATTRS_MAX];
	const char		*attr_name_p[CF_JWT_ATTRS_MAX];
	size_t			 nattr;
};

struct cf_core {
	struct cf_core_config	 cfg;
	struct core_issuer	*iss;		/* CF_OIDC_ISSUERS_MAX slots */
	size_t			 niss;		/* 0: OIDC off */
	bool			 check_only;	/* cf_core_check_identity */
	char			 data_dir[4096];
	struct cf_keyprov	*kp;		/* the key provider */
	struct core_keys	*keys;		/* rewrap state (keys.c) */
	/* Read: an upload from its last look at the active KEK to its
	 * commit; write: retiring a KEK (keys.c). */
	pthread_rwlock_t	 kek_lock;
	pthread_mutex_t		 kr_lock;	/* serializes MFA secret
						 * (un)wrapping */
	struct cf_meta		*meta;
	struct cf_blobstore	*blobs;
	struct cf_audit		*audit;
	struct core_orphans	*orphans;	/* the periodic sweep; NULL */
	char			 crash_point[32];	/* COFFER_TEST_CRASH */
	struct core_authz_snap	*authz;		/* policies in force */
	pthread_mutex_t		 authz_lock;	/* guards the pointer */
	bool			 authz_lock_init;
	_Atomic int64_t		 authz_polled_us;	/* last store poll */
	struct cf_schema	*schema;	/* Coffer's Cedar schema */
	/* The entities every decision on an action has (the action, its
	 * group, the store), one store per registry entry, built on first
	 * use and shared by all decisions as the layer below theirs
	 * (authz.c, action_base); freed by core_authz_close. */
	struct cf_entities *_Atomic *act_base;
	size_t			 nact_base;
	/* The principals' and namespaces' entities, shared by decisions
	 * as layers too, found by what they are built from (authz.c,
	 * def_layer); freed by core_authz_close. */
	struct core_layer_cache	*layers_principal;
	struct core_layer_cache	*layers_ns;
	/* Stores, requests and responses of decisions, reused (authz.c,
	 * scratch_get): a free list under its lock. */
	pthread_mutex_t		 scratch_lock;
	struct core_authz_scratch *scratch;
	size_t			 nscratch;
	/* Network isolation: the allow list of each environment (NULL:
	 * any), by core_env_index; any: some list is set. */
	struct cf_cidr_list	*env_allow[3];
	bool			 net_any;
	/* Decisions whose entities were checked against schema (debug
	 * builds only: core_authz_check_entities), for the tests. */
	atomic_ullong		 entity_checks;
	/* The global memory budget of request buffers (cf_core_mem_*,
	 * base/membudget.h; the blob store's buffers draw on it too):
	 * refusals, uploads that ran unstaged for it. */
	struct cf_membudget	*mb;
	atomic_ullong		 mem_refused;
	atomic_ullong		 mem_unstaged;
	atomic_ullong		 dl_ahead;	/* downloads read ahead */
	struct core_metrics	*metrics;	/* GET /metrics (metrics.c) */
	struct core_alerts	*alerts;	/* ops_alert.c */
	struct core_anom	*anom;		/* ops_anomaly.c; NULL: off */
	/* The Ed25519 seed of erasure certificates: HKDF(master,
	 * CF_LABEL_ERASURE), so it lasts as long as the master key
	 * (ops_privacy.c). */
	struct cf_key		*erase_seed;
	struct core_purge	*purge;		/* the purge job; NULL */
};

/* Alerts (ops_alert.c): open loads cfg.alert_rules_file (if any) and
 * starts the alert and sink threads; close stops them (alerts waiting
 * still get their audit records), before the audit log closes.  record
 * is called with every audit record the monitor writes; it never
 * blocks on a sink.  render appends the alert series to GET
 * /metrics. */
struct core_alerts;
cf_err	core_alerts_open(struct cf_core *c, struct cf_error *err);
void	core_alerts_close(struct cf_core *c);
void	core_alerts_record(struct cf_core *c, const struct cf_audit_rec *rec);
cf_err	core_alerts_render(struct cf_core *c, struct cf_buf *o,
	    struct cf_error *err);

/* Anomaly detection (ops_anomaly.c; core/anomaly.h): open learns the
 * audit log's last records and starts the flag thread (nothing when
 * cfg.anomaly_detection is off); close stops it (the flags waiting get
 * their records), before the audit log closes.  record observes every
 * audit record the monitor writes (r is the request it is of); risk
 * sets r->risk_* for the decision about to be taken (context.risk).
 * Neither blocks on I/O. */
struct core_anom;
cf_err	core_anom_open(struct cf_core *c, struct cf_error *err);
void	core_anom_close(struct cf_core *c);
void	core_anom_record(struct cf_core *c, const struct cf_req *r,
	    const struct cf_audit_rec *rec);
void	core_anom_risk(struct cf_core *c, struct cf_req *r);
/* Append r's record (status 0, result ok) with ctx {name: v} instead
 * of a decision's: the record of an event the core raised itself (an
 * anomaly flag).  The alert rules see it; r->audited on success. */
cf_err	core_audit_extra(struct cf_core *c, struct cf_req *r,
	    const char *name, const json_t *v, struct cf_error *err);

/* Metrics (metrics.c): counted where the monitor is; rendered for GET
 * /metrics.  Every function is safe with metrics not open (no-op). */
enum core_metric_key_op {
	CORE_METRIC_KEY_WRAP,		/* a data key wrapped (a put) */
	CORE_METRIC_KEY_UNWRAP,		/* a data key unwrapped (a read) */
	CORE_METRIC_KEY_NOPS
};
cf_err	core_metrics_open(struct cf_core *c, struct cf_error *err);
void	core_metrics_close(struct cf_core *c);
/* One audit record of r (action, decision, status, response bytes,
 * latency from r->time_us by the core's clock). */
void	core_metrics_record(struct cf_core *c, const struct cf_req *r,
	    int status, uint64_t bytes);
void	core_metrics_bytes_in(struct cf_core *c, uint64_t n);
void	core_metrics_authz(struct cf_core *c, uint64_t ns);
void	core_metrics_login_failed(struct cf_core *c, bool locked);
void	core_metrics_key_op(struct cf_core *c, enum core_metric_key_op op);
cf_err	core_metrics_render(struct cf_core *c,
	    const struct cf_metrics_extra *x, struct cf_buf *o,
	    struct cf_error *err);
/* CLOCK_MONOTONIC in ns: durations that are reported, never decided on
 * (decisions take the core's clock). */
uint64_t core_mono_ns(void);

/* The key provider (keys.c). */
bool	core_keys_pkcs11(const struct cf_core_config *cfg);
/* Open the provider cfg names over data_dir's keyring (created with
 * create if missing: the file provider).  master is borrowed. */
cf_err	core_keys_open(const struct cf_core_config *cfg, const char *data_dir,
	    const struct cf_key *master, bool create, struct cf_keyprov **out,
	    struct cf_error *err);

/* The rewrap's state (start: before serving; run: its thread;
 * close: stops and joins it). */
cf_err	core_keys_start(struct cf_core *c, struct cf_error *err);
/* The associated data an S3 secret is wrapped with (ops_s3.c). */
void	core_s3key_ad(const char *id, int64_t pid, char *out, size_t outsz);
cf_err	core_keys_run(struct cf_core *c, struct cf_error *err);
void	core_keys_close(struct cf_core *c);

/* Cedar decides (authz.c). */
#define CORE_AUTHZ_MAX_PARTS	256	/* stored policy sets in one
					 * decision */
#define CORE_AUTHZ_POLL_US	1000000	/* how often a server looks for
					 * policy changes others made */
cf_err	core_authz_open(struct cf_core *c, struct cf_error *err);
void	core_authz_close(struct cf_core *c);
/* Build the policies in force again (built-in and stored) and swap them
 * in; decisions under way finish with the ones they started with. */
cf_err	core_authz_reload(struct cf_core *c, struct cf_error *err);
/* For a store iterator: one stored policy set into the set being built
 * (arg).  ns "" or NULL: global. */
cf_err	core_authz_load_part(void *arg, const char *name, const char *ns,
	    int64_t version, const char *text, struct cf_error *err);
/* Cedar's decision on def for r on the resource (see core_authorize):
 * *allow, the reasons in r->reasons and, for an allow, the weakest
 * built-in role among the deciding bindings in role ("" if none).  A
 * failure (CF_E_NOMEM, an unreadable record) leaves *allow false. */
struct core_authz_seen {
	bool			 ns_read;	/* nsr and ns are set */
	bool			 ns_found;	/* else: no such namespace */
	char			 ns[CF_NS_NAME_MAX];	/* the name read */
	struct cf_ns_rec	 nsr;
};
/* Layers built and layers found in the principals' and namespaces'
 * caches since the core opened (authz.c, def_layer): for tests. */
void	core_authz_layer_stats(struct cf_core *c, unsigned long *pbuilds,
	    unsigned long *phits, unsigned long *nbuilds,
	    unsigned long *nhits);
/* seen (nullable) gets what the decision read of the store, in the
 * request's read scope, for the checks after it (restricted_check). */
cf_err	core_authz_decide(struct cf_core *c, struct cf_req *r,
	    const struct cf_action_def *def, const char *ns,
	    const char *data_ns, const char *resource, char *role,
	    size_t rolesz, bool *allow, struct core_authz_seen *seen,
	    struct cf_error *err);
/* A decision explained (core_authz_explain): Cedar's answer and what
 * it was given.  Each json_t is a new reference; clear frees them. */
struct core_authz_result {
	bool		 allow;		/* Cedar's decision */
	char		 role[CF_ROLE_MAX];	/* weakest deciding role */
	json_t		*response;	/* {decision, reasons, errors} */
	json_t		*entities;	/* Cedar JSON entities */
	json_t		*context;	/* Cedar JSON context */
	json_t		*conditional;	/* ids of the policies whose scope
					 * matches and that read the
					 * context, or that errored */
};
void	core_authz_result_clear(struct core_authz_result *res);
/* Draft policy sets: each replaces the stored set of the same name and
 * namespace for the decisions it takes part in; the others stay. */
struct core_authz_draft;
/* sets: [{name, ns (null/absent: global), text}].  Each is parsed and
 * validated against Coffer's schema; *problems gets an array of
 * {set, ns, line, col, policy, message} (empty: valid).  CF_E_INPUT for
 * a malformed list. */
cf_err	core_authz_draft_new(const json_t *sets,
	    struct core_authz_draft **out, json_t **problems,
	    struct cf_error *err);
void	core_authz_draft_free(struct core_authz_draft *d);
/* core_authz_decide's decision, with its details, for principal and
 * bindings in r: ctx the Cedar context (NULL: core_authz_context(r)),
 * draft the policy sets to use instead of stored ones (NULL: none).
 * Decides nothing for r: r->reasons and r->allowed are left alone. */
cf_err	core_authz_explain(struct cf_core *c, struct cf_req *r,
	    const struct cf_action_def *def, const char *ns,
	    const char *data_ns, const char *resource, const json_t *ctx,
	    const struct core_authz_draft *draft,
	    struct core_authz_result *res, struct cf_error *err);
/* Check entities (Cedar JSON, as explain_entities builds them) and the
 * request (principal type, action name, resource type, NULL: the request
 * is not checked; ctx the Cedar context, NULL: not checked) against
 * Coffer's schema.  CF_E_INPUT with
 * the first violation, "ENTITY: PATH: message (N violations)", when the
 * schema rejects them; CF_E_NOMEM.  Decisions and explanations call it
 * in debug builds only (build(), core_authz_explain); it counts each
 * call in c->entity_checks. */
cf_err	core_authz_check_entities(struct cf_core *c, const json_t *entities,
	    const char *ptype, const char *action, const char *rtype,
	    const json_t *ctx, struct cf_error *err);
/* Validate ps against Coffer's schema: CF_E_INPUT with the first
 * error as "line:col: policy ID: message" when it is not valid. */
cf_err	core_authz_validate(struct cf_core *c, const struct cf_policy_set *ps,
	    struct cf_error *err);
/* Can a binding name role (globally, or on a namespace): a built-in
 * role, or a custom role whose policy set "role.NAME" is in force with
 * its template global:NAME or ns:NAME. */
bool	core_authz_role_exists(struct cf_core *c, const char *role,
	    bool global);
/* Bench only (bench/authz): as core_authz_reload, with the policy sets
 * feed gives core_authz_load_part (lc as its arg) after the stored
 * ones. */
cf_err	core_authz_reload_bench(struct cf_core *c,
	    cf_err (*feed)(void *arg, void *lc, struct cf_error *err),
	    void *arg, struct cf_error *err);
/* The entities and request of a decision, as core_authz_decide builds
 * them (for bench/authz).  On success the caller frees both. */
struct cf_entities;
struct cf_request;
cf_err	core_authz_build(struct cf_core *c, const struct cf_req *r,
	    const struct cf_action_def *def, const char *ns,
	    const char *data_ns, const char *resource,
	    struct cf_entities **es, struct cf_request **req,
	    struct cf_error *err);
/* As core_authz_build, the entities and context built as JSON and read
 * back (explain's way), for tests that compare both. */
cf_err	core_authz_build_json(struct cf_core *c, const struct cf_req *r,
	    const struct cf_action_def *def, const char *ns,
	    const char *data_ns, const char *resource,
	    struct cf_entities **es, struct cf_request **req,
	    struct cf_error *err);
/* The request context Cedar sees (a new reference; NULL on NOMEM). */
json_t	*core_authz_context(const struct cf_req *r);
/* The same, written as compact JSON to b: byte for byte what
 * json_dumps(core_authz_context(r), JSON_ENSURE_ASCII | JSON_COMPACT)
 * gives, but DEL escaped (test_core compares them), without building
 * it: the audit record's ctx.  CF_E_INVAL where core_authz_context
 * would fail (a string that is not UTF-8, a scope that does not
 * parse). */
struct cf_buf;
cf_err	core_authz_context_write(const struct cf_req *r, struct cf_buf *b,
	    struct cf_error *err);
/* "read", "write", "manage" or "admin". */
const char *core_action_group(const struct cf_action_def *def);
/* The resource types of def's requests, for the schema ("Object",
 * "Namespace, Store", ...). */
const char *core_action_resources(const struct cf_action_def *def);
/* "User" or "Service". */
const char *core_principal_type(const struct cf_principal_rec *p);

static inline int64_t
core_now_us(const struct cf_core *c)
{
	return c->cfg.clock_us != NULL ? c->cfg.clock_us() : cf_now_us();
}

/* The reference monitor's decision for (r->principal, action, resource in
 * namespace ns (NULL: global)).  Sets r->action, r->resource, r->allowed
 * and r->reasons.  CF_OK when allowed, CF_E_AUTH when unauthenticated,
 * CF_E_DENIED otherwise. */
cf_err	core_authorize(struct cf_core *c, struct cf_req *r, const char *action,
	    const char *ns, const char *resource, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* As core_authorize, where the action is about data in namespace
 * data_ns (NULL: none) while the role decision uses ns: ns:delete and
 * ns:set-sensitivity need a global admin but touch one namespace.  The
 * restricted-data MFA rule applies to data_ns. */
cf_err	core_authorize_data(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *ns, const char *data_ns,
	    const char *resource, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* The monitor's guard rails after the policies (token scope, MFA age
 * classes, restricted data, the grant rule) for r doing action on ns /
 * data_ns, the policies having allowed with role (NULL or "": none):
 * *out gets [{guard, when, refuses, message}], one per rail that
 * applies.  For explanations: r is a scratch request (its reasons are
 * overwritten). */
cf_err	core_explain_guards(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *ns, const char *data_ns,
	    const char *role, json_t **out, struct cf_error *err);

/* Legal holds and retention (ops_privacy.c): may the version of
 * (ns, key) created at created_us (0: no version to check) go, by a
 * delete or an erasure?  key NULL: the whole namespace (every hold in
 * it, its youngest version).  CF_E_CONFLICT with r->errcode "held" or
 * "retention", r->allowed false and the reason recorded, when not. */
cf_err	core_privacy_guard(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, int64_t created_us,
	    struct cf_error *err);

/* Would the policies allow action on ns (NULL: global) for r (monitor.c)? */
bool	core_can(struct cf_core *c, struct cf_req *r, const char *action,
	    const char *ns);

/* A state change is audited before it happens (audit, then act).  An
 * act is the one way to get the audit obligation (au) that every
 * changing store call takes (store/meta.h): core_act_begin makes it from
 * the request's decision, and refuses (CF_E_INTERNAL, an unarmed au that
 * the store refuses too) unless the request was allowed and names its
 * action.  The act's record (the allow, with the answer's status and
 * bytes) is written once: by the first store call of the act, inside its
 * transaction right before COMMIT (so if the log refuses it, the change
 * is rolled back), or earlier by core_act_record; every later store call
 * with the same au is covered by it.  core_act_end, after the store
 * call(s), passes rc through and marks the request audited when the
 * record was written and rc is CF_OK; after a failure (or without the
 * end) the answer gets a record of its own, saying what happened.
 * Nothing of an act lives outside the caller's frame, so a return
 * between begin and end leaves nothing behind.  Use:
 *
 *	rc = core_act_begin(&act, c, r, 201, err);
 *	if (rc == CF_OK)
 *		rc = cf_meta_x(c->meta, &act.au, ..., err);
 *	rc = core_act_end(&act, rc);
 */
struct core_act {
	struct cf_meta_audit	 au;	/* what the store calls */
	struct cf_core		*c;
	struct cf_req		*r;
	int			 status;
	uint64_t		 bytes;
	bool			 recorded;
	/* Test: the crash point (core_test_crash) right after the record
	 * is durable, before the store commits; NULL: none. */
	const char		*crash_recorded;
};
cf_err	core_act_begin(struct core_act *a, struct cf_core *c,
	    struct cf_req *r, int status, struct cf_error *err)
	    __attribute__((warn_unused_result));
/* Write the act's record now (bytes: the body bytes it reports), before
 * the store call: for a change whose transaction must not wait for the
 * audit log's fdatasync while it holds the store's write lock (object
 * versions: concurrent uploads then share one fdatasync). */
cf_err	core_act_record(struct core_act *a, uint64_t bytes,
	    struct cf_error *err) __attribute__((warn_unused_result));
cf_err	core_act_end(struct core_act *a, cf_err rc)
	    __attribute__((warn_unused_result));

/* An offline change: a command run on a data directory with no server
 * (`coffer erase --replay-on`), whose authority is access to the
 * directory and its master key, not a decision.  Its obligation appends
 * *rec (borrowed until the store call returns) to the directory's audit
 * log audit, once, inside the store's transaction; as with an act, no
 * record, no change. */
struct core_offline_act {
	struct cf_meta_audit	 au;	/* what the store calls */
	struct cf_audit		*audit;
	const struct cf_audit_rec *rec;
	bool			 recorded;
};
void	core_offline_act_begin(struct core_offline_act *a,
	    struct cf_audit *audit, const struct cf_audit_rec *rec);

/* Make a new token for principal_id, not stored yet: *token
 * (CF_TOKEN_STR_MAX) gets the secret, to be shown once and wiped by the
 * caller, rec its record.  kind "api" (cft_) or "session" (cfs_); scope
 * JSON text or NULL. */
cf_err	core_token_make(int64_t principal_id, const char *kind,
	    uint64_t expires_in, const char *description, int64_t mfa_at_us,
	    const char *scope, struct cf_token_rec *rec,
	    char token[CF_TOKEN_STR_MAX], struct cf_error *err);
/* core_token_make, then store it as a change of act. */
cf_err	core_token_mint(struct cf_core *c, struct core_act *act,
	    int64_t principal_id, const char *kind, uint64_t expires_in,
	    const char *description, int64_t mfa_at_us, const char *scope,
	    struct cf_token_rec *rec, char token[CF_TOKEN_STR_MAX],
	    struct cf_error *err);

/* The token scope text (a cf_req's scope) parsed: a new reference to
 * its JSON object (json_decref it), read only (shared with other
 * threads).  NULL with *bad false for "" (no scope); NULL with *bad
 * true when text is not a JSON object (SEC: the caller fails closed).
 * Each text is parsed once, not in every decision: the parsed objects
 * of recent texts are kept in a small table shared by all cores. */
json_t	*core_scope_json(const char *text, bool *bad);

/* Does the request's token scope (if any) allow action on ns (NULL:
 * global)?  No scope: true. */
bool	core_scope_allows(const struct cf_req *r, const char *action,
	    const char *ns);

/* Does the request's token scope (if any) list action?  Its namespace
 * restriction is not looked at (ns:list filters per namespace). */
bool	core_scope_has_action(const struct cf_req *r, const char *action);

/* As core_authorize, then the grant rule: the credential must carry
 * MFA (API tokens never do).  For actions that create credentials or
 * hand out access.  CF_E_AUTH with errcode "mfa_required" otherwise. */
/* Remove the bootstrap token file (its session was replaced or ended). */
void	core_bootstrap_spent(struct cf_core *c);
cf_err	core_authorize_grant(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *ns, const char *resource,
	    struct cf_error *err) __attribute__((warn_unused_result));
/* The grant rule alone, for an action already authorized (r->action
 * set): CF_OK when the credential carries MFA no older than
 * mfa_max_age_admin. */
cf_err	core_grant_check(struct cf_core *c, struct cf_req *r,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* A fresh random version id (32 hex digits). */
cf_err	core_new_version_id(char id[CF_VERSION_ID_LEN + 1],
	    struct cf_error *err) __attribute__((warn_unused_result));
/* The data key of src rebound to dst, a version that shares src's blob
 * (a promotion, an artifact copy, an S3 CopyObject): unwrapped under
 * src's id, dst gets a new id and the key wrapped under it by the active
 * KEK, and in sealed_as the id the blob's chunks were sealed under (src's
 * own, or src's sealed_as).  src may be dst.  The caller holds kek_lock's
 * read side until dst's row is written (docs/internals/CRYPTO.md). */
cf_err	core_dek_rebind(struct cf_core *c, const struct cf_version_rec *src,
	    struct cf_version_rec *dst, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* v as the REST API shows a version (latest: its "latest"); NULL when out
 * of memory. */
json_t	*core_version_json(const struct cf_version_rec *v, bool latest);
/* Insert v, decided already as r's object:put (ns_id set), with r's
 * record first; *out: the version as JSON (ops_object.c). */
cf_err	core_version_insert(struct cf_core *c, struct cf_req *r,
	    struct cf_version_rec *v, json_t **out, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* --- versions completed by reference (segments.c) --- */
/* The nsegs segments of version_id, in order, into *out (free with
 * core_segs_free); CF_E_INTEGRITY when the store holds another number
 * of them. */
cf_err	core_segs_load(struct cf_core *c, const char *version_id,
	    uint32_t nsegs, struct cf_segment_rec **out, size_t *n,
	    struct cf_error *err) __attribute__((warn_unused_result));
void	core_segs_free(struct cf_segment_rec *v, size_t n); /* wipes */
/* A reader of segmented version ver's plaintext (ver->nsegs > 0); the
 * segments are opened one at a time as reads reach them.  Reads fill
 * max bytes across segment boundaries (less only at the end); every
 * byte returned has been authenticated. */
struct core_segs;
cf_err	core_segs_open(struct cf_core *c, const struct cf_version_rec *ver,
	    struct core_segs **out, struct cf_error *err)
	    __attribute__((warn_unused_result));
cf_err	core_segs_read(struct core_segs *s, uint64_t pos, void *buf,
	    size_t max, size_t *got, struct cf_error *err)
	    __attribute__((warn_unused_result));
void	core_segs_close(struct core_segs *s);
/* The plaintext sizes of segments v[0..n) as runs "SIZExCOUNT,...",
 * into *out (cf_free), or NULL when longer than CF_SEGMENT_LAYOUT_MAX
 * (docs/api.md, "Digests"). */
cf_err	core_segs_layout(const struct cf_segment_rec *v, size_t n, char **out,
	    struct cf_error *err);
cf_err	core_segs_layout_of(const struct core_segs *s, char **out,
	    struct cf_error *err);
/* The segments reader s reads (borrowed, until core_segs_close); *n
 * gets how many. */
const struct cf_segment_rec *core_segs_recs(const struct core_segs *s,
	    size_t *n);
/* The nsegs segments of version src_id with their keys unwrapped and
 * wrapped again for version dst_id (a copy sharing their blobs) by the
 * active KEK, into *out (nsegs of them; free with core_segs_free).  The
 * caller holds kek_lock's read side until the row is written. */
cf_err	core_segs_rebind(struct cf_core *c, const char *src_id,
	    uint32_t nsegs, const char *dst_id, struct cf_segment_rec **out,
	    struct cf_error *err) __attribute__((warn_unused_result));
/* A set of blob ids to remove once unreferenced. */
struct core_blobset {
	char	(*ids)[CF_BLOB_ID_LEN + 1];
	size_t	 n, cap;
};
cf_err	core_blobset_add(struct core_blobset *bs, const char *id,
	    struct cf_error *err);
/* Add ver's blobs: its one blob, or its segments' (read from the store:
 * call before the change that forgets them). */
cf_err	core_segs_blobs(struct cf_core *c, const struct cf_version_rec *ver,
	    struct core_blobset *bs, struct cf_error *err);
/* Add the blobs of version_id's segments, if any (read from c's store,
 * or m: call before the change that forgets them). */
cf_err	core_segs_blobs_by_id(struct cf_core *c, const char *version_id,
	    struct core_blobset *bs, struct cf_error *err);
cf_err	core_segs_blobs_meta(struct cf_meta *m, const char *version_id,
	    struct core_blobset *bs, struct cf_error *err);
/* Delete the blobs of bs no version, segment or part references any
 * more; the number left (referenced, or not removed). */
size_t	core_blobset_drop(struct core_blobset *bs, struct cf_meta *m,
	    struct cf_blobstore *blobs);
void	core_blobset_free(struct core_blobset *bs);

/* r->art for a read of object version version_id: the artifact
 * versions it is a file of, folded (cf_meta_art_of_version); unset when
 * it is a file of none (ops_artifact.c). */
cf_err	core_art_of_object(struct cf_core *c, struct cf_req *r,
	    const char *version_id, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* The classes of MFA requirement, each with its maximum MFA age
 * (cfg.mfa_max_age_*; issue 11). */
enum core_mfa_class {
	CORE_MFA_ADMIN,		/* admin-only actions (mfa_admin_actions) */
	CORE_MFA_GRANT,		/* the grant rule; the admin limit */
	CORE_MFA_RESTRICTED,	/* restricted namespaces */
	CORE_MFA_FLAGGED	/* users and roles flagged mfa_required */
};
/* Does r carry MFA young enough for class k? */
bool	core_mfa_fresh(const struct cf_core *c, const struct cf_req *r,
	    enum core_mfa_class k) __attribute__((warn_unused_result));
/* Allow a self-service action (on the caller's own account): sets the
 * decision with reason "self" after checking authentication and the
 * token scope.  CF_E_AUTH / CF_E_DENIED like core_authorize. */
/* An action that needs no credential (the registry's CF_ACT_NOAUTH:
 * health, login): allowed now with allow, else left to the credential
 * check that follows (which sets r->allowed).  Any other action is
 * CF_E_INTERNAL, denied. */
cf_err	core_authorize_open(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *resource, bool allow,
	    struct cf_error *err) __attribute__((warn_unused_result));
/* A listing filtered per namespace afterwards (ns:list): authenticated,
 * and a scoped token's scope must name the action.  Only for the
 * registry's per-namespace actions; others are CF_E_INTERNAL. */
cf_err	core_authorize_listing(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *resource, struct cf_error *err)
	    __attribute__((warn_unused_result));
cf_err	core_authorize_self(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *resource, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* core_authz_reload after a change to what the sets in force are (a
 * policy set changed, a namespace and its sets deleted), committed and
 * recorded already: on failure it is logged, and r gets CF_E_IO with
 * errcode "policy_reload_failed" (503) and a record of its own for the
 * answer (core/ops_policy.c). */
cf_err	core_authz_reload_after(struct cf_core *c, struct cf_req *r,
	    struct cf_error *err) __attribute__((warn_unused_result));
/* The checks a policy set must pass to be stored for ns (NULL or "":
 * global), run again on text[0..len) (the posture check: a stored set
 * that no longer validates against the schema).  CF_E_INPUT with the
 * first problem ("line:col: ..."); other codes: no verdict. */
cf_err	core_policy_recheck(struct cf_core *c, const char *ns,
	    const char *text, size_t len, struct cf_error *err);
/* Make the attributes names[0..n) of r->principal (an OIDC user being
 * authenticated) what attrs (name -> string; a name absent: removed)
 * says, as its own audited change (user:oidc-attrs) when anything
 * differs; nothing is written otherwise (core/ops_labels.c). */
cf_err	core_oidc_attrs_sync(struct cf_core *c, struct cf_req *r,
	    const json_t *attrs, const char *const *names, size_t n,
	    struct cf_error *err);

/* Network isolation (core/network.c).  open parses the env.*.allow
 * lists of c->cfg; close frees them. */
cf_err	core_net_open(struct cf_core *c, struct cf_error *err);
void	core_net_close(struct cf_core *c);
/* After authentication: the same rule as cf_core_net_check for
 * namespace ns, whose record is nsr (NULL: no such namespace).
 * CF_E_DENIED with the reasons set when r's client may not reach it. */
cf_err	core_net_ns_check(struct cf_core *c, struct cf_req *r, const char *ns,
	    const struct cf_ns_rec *nsr, struct cf_error *err)
	    __attribute__((warn_unused_result));
/* The principal pid of a credential being authenticated (in the
 * caller's read scope): into r->principal with its bindings, *ok true;
 * *ok false (r->authn says why) when it, or the owner of a service
 * account, is disabled.  A lookup failure is returned (fail closed). */
cf_err	core_authn_principal(struct cf_core *c, struct cf_req *r, int64_t pid,
	    bool *ok, struct cf_error *err);
/* Authenticate r again by its S3 access key (r->s3_key_id), at the end
 * of a streamed upload: the key, its principal and bindings as they are
 * now (core/ops_s3.c).  The signature was checked at the start. */
/* ---- S3 multipart (ops_multipart.c) on the upload path (ops_object.c) */
struct cf_mp_part_rec;
/* object_authorize / ns_must_exist of ops_object.c. */
cf_err	core_object_authorize(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *ns, const char *key,
	    struct cf_error *err);
cf_err	core_ns_must_exist(struct cf_core *c, struct cf_req *r,
	    const char *ns, struct cf_ns_rec *out, struct cf_error *err);
/* cf_core_put_begin after its decision: into namespace ns_id. */
cf_err	core_put_new(struct cf_core *c, struct cf_req *r, int64_t ns_id,
	    const char *ns, const char *key, const char *content_type,
	    const char *expected_sha256, const char *meta_json,
	    int64_t content_length, struct cf_put **out, struct cf_error *err);
/* The upload is part->number of part->upload_id (takes part): its
 * finish stores a part row, not a version. */
/* alg: the checksum algorithm the upload declared ("crc32", ...; NULL
 * or "": none), which the part must carry (cf_core_put_checksum). */
void	core_put_set_part(struct cf_put *p, struct cf_mp_part_rec *part,
	    const char *alg);
/* The upload completes multipart upload `upload` with ETag etag. */
void	core_put_set_etag(struct cf_put *p, const char *etag,
	    const char *upload);
/* A part's plaintext for reading with core_part_read, authenticated;
 * the blob is read once front to back (cf_blob_open_seq) when the
 * request memory budget has room for its blocks.  Close with
 * cf_core_get_close. */
cf_err	core_part_open(struct cf_core *c, const struct cf_mp_part_rec *pr,
	    struct cf_get **out, struct cf_error *err);
/* cf_opener_read of a part: authenticated plaintext only, no read-ahead
 * thread of the get (the blob reader has its own). */
cf_err	core_part_read(struct cf_get *g, uint64_t pos, void *buf,
	    size_t max, size_t *got, struct cf_error *err);
/* Fill a staged upload in place, without cf_core_put_write's copy: *at
 * is where the next bytes go, *room how many fit; write n <= *room bytes
 * there, then core_put_stage_fill(p, n).  false: the upload is not
 * staged (a body that fits one stage, no memory budget or thread left):
 * use cf_core_put_write.  SEC: the stage is plaintext, wiped when the
 * upload ends, whatever the outcome. */
bool	core_put_stage_room(struct cf_put *p, uint8_t **at, size_t *room);
cf_err	core_put_stage_fill(struct cf_put *p, size_t n,
	    struct cf_error *err);
cf_err	core_s3_reauth(struct cf_core *c, struct cf_req *r,
	    struct cf_error *err);
/* ops_admin.c's rules for minting credentials, shared with S3 keys. */
cf_err	core_mint_limit(struct cf_core *c, struct cf_req *r,
	    uint64_t expires_in, struct cf_error *err);
cf_err	core_self_mint_mfa(struct cf_core *c, struct cf_req *r,
	    const struct cf_principal_rec *p, struct cf_error *err);

/* The password hashing costs of the configuration (core/identity.c). */
struct cf_pwhash_params;
void	core_pw_params(const struct cf_core *c, struct cf_pwhash_params *p);
/* The brute-force key of a source address: "addr:IP", an IPv6 address
 * by its /64 (core/identity.c). */
void	core_addr_key(const char *source, char *out, size_t outsz);
/* Open version_id (NULL: the latest) of ns/key for reading, for a
 * request the caller has decided and allowed already (a share link);
 * as cf_core_get_open otherwise (core/ops_object.c). */
cf_err	core_get_open_decided(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *version_id,
	    struct cf_get **out, struct cf_error *err);

/* Authenticate a JWT bearer (core/identity.c). */
cf_err	core_authn_jwt(struct cf_core *c, struct cf_req *r, const char *jwt,
	    struct cf_error *err);
/* Set up / tear down OIDC from c->cfg (core/identity.c). */
cf_err	core_identity_open(struct cf_core *c, struct cf_error *err);
void	core_identity_close(struct cf_core *c);

json_t	*core_time_json(int64_t us);
/* Share grants (ops_share.c) are policy sets named PREFIX<hex id>; the
 * name is reserved (ops_policy.c refuses it for policy:set). */
#define CORE_SHARE_GRANT_PREFIX	"share-grant."
cf_err	core_policy_put_internal(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, const char *text, int status,
	    struct cf_policy_rec *out, struct cf_error *err);
/* The same, when the version in force (0: none) is still expect (-1:
 * whatever it is); else CF_E_CONFLICT, r->errcode "policy_changed". */
cf_err	core_policy_put_internal_at(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, const char *text, int status,
	    int64_t expect, struct cf_policy_rec *out, struct cf_error *err);
/* The bucket policy json[0..len) of namespace ns (NULL: refused, a
 * bucket policy is a namespace's) compiled (ops_s3_policy.c); CF_E_INPUT
 * with r->errcode "malformed_policy" for what does not map. */
struct cf_s3_policy;
cf_err	core_s3_policy_compile(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *json, size_t len,
	    struct cf_s3_policy **out, struct cf_error *err);

/* The orphan sweep (core/orphans.c): open runs the start-up step (its
 * failure is logged, never fatal: nothing is removed then) and starts
 * the periodic sweep when orphan_interval > 0; close stops it. */
cf_err	core_orphans_open(struct cf_core *c, struct cf_error *err);
void	core_orphans_close(struct cf_core *c);

/* Test hook: when the environment variable COFFER_TEST_CRASH named point
 * at cf_core_open, _exit(CORE_CRASH_STATUS) here, as a crash (SIGKILL,
 * power loss) would leave things.  Points: "after_blob_commit" (an
 * upload's blob is durable, its audit record and version row are not
 * written), "rewrap_batch", "art_share_written" (a promotion's
 * completion or a copy: its rows are written in the open transaction,
 * not committed).  Harmless otherwise: whoever sets a server's environment
 * can stop it anyway. */
#define CORE_CRASH_STATUS	86
void	core_test_crash(const struct cf_core *c, const char *point);
/* The purge job (ops_purge.c): open runs one pass before serving and
 * starts the periodic one when purge_interval > 0; close stops it. */
cf_err	core_purge_open(struct cf_core *c, struct cf_error *err);
void	core_purge_close(struct cf_core *c);

/* Delete the bindings expired by the core's clock, each with its
 * binding:expire record (principal system).  Enforcement never waits for
 * it: the decisions skip expired bindings themselves. */
cf_err	core_bindings_sweep(struct cf_core *c, struct cf_error *err);

#endif
