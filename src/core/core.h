/* src/core/core.h: the reference monitor and the domain operations.
 *
 * Every operation on data or metadata, whichever front end it came in by,
 * is one of the cf_core_* operations below.  Each one authorizes its own
 * action on its own resource (front ends cannot skip it: the stores are
 * reachable only through here), and every request is recorded in the audit
 * log by cf_core_audit() before its response is sent.
 *
 *   front end: cf_req_init -> cf_core_authenticate -> cf_core_<op>
 *              -> cf_core_audit (always, allowed or not) -> respond
 *
 * SEC: fail closed.  An error in authentication, authorization or audit
 * refuses the request; unknown routes go through cf_core_reject(). */
#ifndef CF_CORE_CORE_H
#define CF_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/error.h"
#include "store/meta.h"

struct cf_core;

/* Strings other than data_dir are borrowed and must outlive the core.
 * Zero values mean the defaults noted (cf_core_config_defaults fills
 * them all in), except booleans, auth_free_failures, orphan_interval
 * and the mfa_max_age_* limits. */
struct cf_core_config {
	const char	*data_dir;
	uint64_t	 max_object_size;	/* bytes per object version */
	size_t		 max_json_body;		/* bytes per JSON request */
	/* Bytes of request buffers (bodies being read, upload staging)
	 * all requests together may hold; 268435456 (256 MiB). */
	uint64_t	 request_memory_budget;
	/* identity (issue 4) */
	int64_t		 session_ttl;		/* seconds; 43200 */
	int64_t		 bootstrap_ttl;		/* seconds; 86400 */
	const char	*master_key_file;	/* NULL/"": the default place
						 * (core/datadir.h) */
	size_t		 password_min_length;	/* code points; 12 */
	size_t		 pwhash_memory;		/* bytes; 19 MiB */
	uint64_t	 pwhash_ops;		/* argon2 passes; 2 */
	int64_t		 auth_free_failures;	/* before delays; 3 */
	int64_t		 auth_lock_failures;	/* lock after; 10 */
	int64_t		 auth_lock_seconds;	/* lock time; 900 */
	int64_t		 auth_addr_free_failures; /* per address; 0: 5 x */
	int64_t		 auth_addr_lock_failures; /* per address; 0: 5 x */
	bool		 mfa_admin_actions;	/* MFA for admin-only actions
						 * with sessions and OIDC */
	bool		 mfa_restricted_data;	/* MFA for every action on a
						 * restricted namespace, for
						 * every kind of credential */
	/* The most seconds since the credential's MFA (a session's step-up
	 * or login with a code, an OIDC token's auth_time or iat) that each
	 * class of MFA requirement accepts; 0: no limit (so not defaulted
	 * from 0, like the booleans). */
	int64_t		 mfa_max_age_admin;	/* admin-only actions and the
						 * grant rule; 900 */
	int64_t		 mfa_max_age_restricted; /* restricted namespaces;
						 * 900 */
	int64_t		 mfa_max_age_flagged;	/* users and roles flagged
						 * mfa_required; 43200 */
	const char	*oidc_issuer;		/* NULL/"": OIDC off */
	const char	*oidc_audience;
	const char	*oidc_jwks_url;
	const char	*oidc_jwks_file;
	const char	*oidc_jwks_json;	/* a fixed JWKS (tests) */
	const char	*oidc_username_claim;	/* preferred_username */
	const char	*oidc_groups_claim;	/* groups */
	const char	*oidc_group_roles;	/* "g=role[@ns],..." */
	const char	*oidc_claim_attrs;	/* "claim:attr,..." */
	bool		 oidc_provision;	/* create unknown users */
	int64_t		 oidc_skew;		/* seconds; 60 */
	int64_t		 oidc_jwks_min_refresh;	/* seconds between fetches
						 * for unknown kids; 60 */
	const char	*oidc_config_file;	/* JSON array of more
						 * issuers; NULL/"": none */
	/* orphan blobs (core/orphans.c) */
	int64_t		 orphan_grace;		/* seconds an upload may take
						 * from blob commit to version
						 * row; 0: 3600 */
	int64_t		 orphan_interval;	/* seconds between sweeps;
						 * 0: only at start-up */
	/* key providers (crypto/keyprov.h, docs/keys.md) */
	const char	*key_provider;		/* "file" (NULL, "") or
						 * "pkcs11" */
	const char	*pkcs11_module;
	const char	*pkcs11_token_label;
	const char	*pkcs11_pin_file;	/* "": COFFER_PKCS11_PIN */
	int64_t		 key_rotate_days;	/* 0: no scheduled rotation */
	const char	*backup_dir;		/* where store:backup writes
						 * (NULL/"": backups off) */
	bool		 key_init;		/* pkcs11: make hsm-1 in an
						 * empty token (key init-hsm) */
	bool		 keys_no_thread;	/* no background rewrap (tests
						 * call cf_core_keys_tick) */
	/* Network isolation (core/network.c): the client networks allowed
	 * to reach a namespace of each environment, "CIDR, CIDR, ...";
	 * NULL/"": any. */
	const char	*env_allow_dev;
	const char	*env_allow_staging;
	const char	*env_allow_prod;
	/* Break-glass (core/ops_breakglass.c): the longest grant, in
	 * seconds; 14400 (4 h). */
	int64_t		 breakglass_max;
	/* Promotion (core/ops_artifact.c): the distinct approvals a
	 * promotion into each environment needs (cf_core_config_defaults:
	 * dev 0, staging 1, prod 2; taken as given, 0 included), and how
	 * long a request stays open (seconds; 0: 604800, 7 days). */
	int64_t		 promotion_approvals_dev;
	int64_t		 promotion_approvals_staging;
	int64_t		 promotion_approvals_prod;
	int64_t		 promotion_ttl;
	/* S3 multipart uploads older than this many seconds are gone
	 * (0: 7 days) */
	int64_t		 s3_multipart_expiry;
	/* The clock of brute-force counting, in microseconds since the
	 * epoch; NULL: cf_now_us.  Tests inject one, so that no test
	 * depends on how fast the machine runs. */
	int64_t		(*clock_us)(void);
	/* Alert rules (core/alert.h, docs/monitoring.md); NULL/"": none. */
	const char	*alert_rules_file;
	/* share links (core/ops_share.c; docs/sharing.md) */
	int64_t		 share_default_lifetime;	/* seconds; 86400 */
	/* The longest life of a link by its data's sensitivity (public,
	 * internal, confidential, restricted), seconds; 30 d, 7 d, 1 d,
	 * 1 d. */
	int64_t		 share_max_lifetime[4];
	int64_t		 share_guess_limit;	/* failed lookups per
						 * address; 20 */
	int64_t		 share_guess_lock_seconds;	/* 900 */
	const char	*share_url_base;	/* NULL/"": none */
	/* The purge job (core/ops_purge.c): seconds between passes; 0:
	 * only at start-up. */
	int64_t		 purge_interval;
	/* Anomaly detection (core/anomaly.h, docs/monitoring.md): on by
	 * cf_core_config_defaults; the numbers are the detector's (0: its
	 * default). */
	bool		 anomaly_detection;
	int64_t		 anomaly_max_principals;
	int64_t		 anomaly_min_events;
	int64_t		 anomaly_bulk_factor;
	int64_t		 anomaly_bulk_min_bytes;
	int64_t		 anomaly_bulk_min_objects;
	int64_t		 anomaly_enum_denials;
	int64_t		 anomaly_dormant_days;
	/* records of the audit log learned at start-up (0: none) */
	int64_t		 anomaly_rebuild_records;
	/* Access reviews (core/ops_review.c): what a campaign that does not
	 * say does at its due date, "escalate" or "revoke"; NULL/"":
	 * escalate. */
	const char	*review_on_timeout;
};

/* Fill every field with its default (data_dir NULL). */
void	cf_core_config_defaults(struct cf_core_config *cfg);

#define CF_REQ_ID_LEN		32
#define CF_SOURCE_MAX		64
#define CF_USER_AGENT_MAX	256	/* bytes kept of a User-Agent */
#define CF_PURPOSE_MAX		64	/* X-Coffer-Purpose, characters */
#define CF_RESOURCE_MAX		1200
#define CF_REASONS_MAX		256
#define CF_REQ_GROUPS_MAX	32	/* == CF_JWT_GROUPS_MAX */
#define CF_REQ_GROUP_MAX	128	/* == CF_JWT_GROUP_MAX */
#define CF_MAX_BINDINGS		64	/* per principal, for one request */
#define CF_REQ_BG_MAX		8	/* break-glass grants counted per
					 * request (the newest) */
/* Stored bindings per principal (binding:create refuses more): below
 * CF_MAX_BINDINGS, so that nobody can bind a principal into failing
 * authentication, and OIDC group roles have room. */
#define CF_BINDINGS_STORED_MAX	48

/* The artifact version an artifact action decides on (the policies'
 * resource.artifact); unset otherwise.  A read of an object version that
 * is a file of artifact versions (object:get, object:head) decides on
 * those, folded into one (cf_meta_art_of_version). */
struct cf_req_art {
	bool		set;		/* a version was found */
	int64_t		number;
	char		kind[CF_ART_KIND_MAX];
	char		sensitivity[CF_SENS_MAX];
	char		version_id[CF_VERSION_ID_LEN + 1];
	/* The stages pointing at the version (resource.artifact.stages),
	 * space-separated (cf_meta_art_version_stages). */
	char		stages[CF_ART_STAGES_TEXT];
};

/* What an operation tells the policies about itself (context.op):
 * "" members are left out.  name: "promotion" (promotion:request,
 * :approve, :reject, :withdraw), "copy" (artifact:copy), "stage"
 * (version:set-stage); "": no op. */
struct cf_req_op {
	char		name[16];
	char		id[24];			/* a promotion's id */
	char		src_ns[CF_NS_NAME_MAX];
	char		src_env[CF_ENV_MAX];
	char		dst_ns[CF_NS_NAME_MAX];
	char		dst_env[CF_ENV_MAX];
	char		stage[CF_STAGE_MAX];
	/* "NAME@N": the source artifact version of a copy or promotion,
	 * once known (the decisions on the target see it). */
	char		source[CF_ART_NAME_MAX + 24];
	/* Why, as the caller said (a declassification's reason). */
	char		reason[CF_ART_REASON_MAX];
	/* The prefix a listing asks for (S3's s3:prefix). */
	char		prefix[CF_OBJKEY_MAX];
};

/* The request as the reference monitor sees it: (principal, action,
 * resource, context).  Initialized by the front end, completed by core. */
struct cf_req {
	/* context, from the front end */
	char		 request_id[CF_REQ_ID_LEN + 1];
	/* The client's address: the socket peer's, or the one trusted
	 * proxies forwarded ("unknown" when they could not say); the front
	 * end sets it before cf_core_authenticate.  peer: the socket
	 * peer's, always. */
	char		 source[CF_SOURCE_MAX];
	char		 peer[CF_SOURCE_MAX];
	int64_t		 time_us;
	/* The policies' context.time (and hour, weekday), set by the core
	 * when its clock is injected (cf_core_config.clock_us: tests), so
	 * that time-bounded policies follow the same clock as every
	 * expiry; 0: time_us. */
	int64_t		 ctx_time_us;
	/* The client's User-Agent, cut and made printable UTF-8 (control
	 * characters are '?'); "" without one.  SEC: the client's claim,
	 * for the record and for policy context, never for a decision on
	 * its own. */
	char		 user_agent[CF_USER_AGENT_MAX + 1];
	/* X-Coffer-Purpose: why the caller says it asks, 1..64 of
	 * [A-Za-z0-9_.:-] (the front end refuses anything else); "" */
	char		 purpose[CF_PURPOSE_MAX + 1];
	/* principal, from cf_core_authenticate */
	bool		 authenticated;
	const char	*authn;		/* "none", "token", "session", "oidc",
					 * "bad-token", ... */
	bool		 mfa;		/* MFA done for this credential */
	int64_t		 mfa_age;	/* seconds since MFA; -1: none, or
					 * MFA of unknown age (an OIDC token
					 * without auth_time and iat) */
	bool		 interactive;	/* session or OIDC (not an API token) */
	/* cf_core_snapshot_begin's read transaction is open; the token's
	 * last-used time waits for its end (touch_due). */
	bool		 snapshot;
	bool		 touch_due;
	char		 scope[CF_SCOPE_MAX];	/* token scope JSON; "" */
	struct cf_principal_rec principal;
	char		 token_id[CF_TOKEN_ID_LEN + 1];
	struct cf_binding_rec bindings[CF_MAX_BINDINGS];
	size_t		 nbindings;
	/* the object version a read decides on (object:get, object:head):
	 * the policies' resource.version; "" otherwise */
	char		 version_id[CF_VERSION_ID_LEN + 1];
	char		 version_sha256[CF_SHA256_HEX_LEN + 1];
	char		 version_by[CF_PRINCIPAL_MAX];
	struct cf_req_art art;
	/* OIDC groups of the credential (the policies' Group parents) */
	char		 groups[CF_REQ_GROUPS_MAX][CF_REQ_GROUP_MAX + 1];
	size_t		 ngroups;
	/* Break-glass grants of the principal in force when it was
	 * authenticated (each adds an owner binding on its namespace), and
	 * the one this request was decided under ("": none; its record
	 * says so).  bg_reason, bg_expires_us: of a grant being opened,
	 * for its record. */
	char		 bg_id[CF_REQ_BG_MAX][CF_BG_ID_LEN + 1];
	char		 bg_ns[CF_REQ_BG_MAX][CF_NS_NAME_MAX];
	size_t		 nbg;
	char		 bg_used[CF_BG_ID_LEN + 1];
	const char	*bg_reason;
	int64_t		 bg_expires_us;
	/* An operation's own facts, seen by the policies as context.op and
	 * recorded with the decision (docs/policy.md, "Context"). */
	struct cf_req_op op;
	/* decision, from the operation */
	const char	*action;	/* e.g. "object:get" */
	char		 resource[CF_RESOURCE_MAX];
	bool		 allowed;
	char		 reasons[CF_REASONS_MAX];
	/* the last decision of the policies (core_authorize_data), recorded
	 * with the request ("ctx") so that it can be decided again */
	bool		 decided;
	bool		 decided_allow;		/* Cedar's answer */
	char		 decided_ns[CF_NS_NAME_MAX];	/* "": global */
	char		 decided_data_ns[CF_NS_NAME_MAX];	/* "": none */
	/* Anomaly detection (core/anomaly.h): the risk the policies see as
	 * context.risk, set before each decision while the detector runs
	 * (risk_set false: absent); risk_flags has bit 1 << kind for each
	 * flag counted.  data_restricted: the last decision was on
	 * restricted data (a namespace or an artifact version). */
	bool		 risk_set;
	int		 risk_score;
	uint32_t	 risk_flags;
	bool		 data_restricted;
	/* outcome */
	const char	*errcode;	/* specific API error code, or NULL */
	int64_t		 retry_after;	/* seconds, for a 429; 0 */
	bool		 audited;
	/* S3 (cf_core_s3_authenticate): the access key id; "" otherwise.
	 * (The S3 request id, x-amz-request-id, is request_id.) */
	char		 s3_key_id[CF_S3_KEY_ID_LEN + 1];
};

/* Open the data directory, initializing an empty one (master key unless
 * COFFER_MASTER_KEY_FILE is set, keyring, metadata, audit log, bootstrap
 * admin and token).  *bootstrap_path is set to the token file's path when
 * one was created now (caller prints it once), else "". */
cf_err	cf_core_open(const struct cf_core_config *cfg, struct cf_core **out,
	    char bootstrap_path[4096], struct cf_error *err);
void	cf_core_close(struct cf_core *c);

/* Validate the identity settings without opening anything: password
 * hashing parameters and every OIDC issuer, oidc_config_file and JWKS
 * files included (JWKS URLs are not fetched).  For `server --check`. */
cf_err	cf_core_check_identity(const struct cf_core_config *cfg,
	    struct cf_error *err);

/* The built-in role templates, Cedar text (`coffer policy show
 * builtin`). */
const char *cf_core_builtin_policies(void);

struct cf_buf;
/* Append Coffer's Cedar schema (`coffer policy schema`), generated from
 * the action registry, to out. */
cf_err	cf_core_policy_schema(struct cf_buf *out, struct cf_error *err);

/* Fill request id, time, source (and peer: the same); every other field
 * zero, but for the contents of bindings[] and groups[], which are left
 * as they were: only their first nbindings and ngroups (now 0) are ever
 * read. */
void	cf_req_init(struct cf_req *r, const char *source);

/* Network isolation, before authentication (core/network.c): may r's
 * client (r->source) reach namespace ns for action?  CF_OK when ns is of
 * an environment without an allow list, or the address is in its list.
 * A namespace that does not exist is treated as one of every environment
 * that has a list, so that a refusal does not tell a network outside
 * them which names exist.  Otherwise CF_E_DENIED with the decision set
 * (r->action, reasons "network not allowed (env E)", errcode
 * "network_refused"): the caller audits and answers 403.  No store read
 * when no list is configured. */
cf_err	cf_core_net_check(struct cf_core *c, struct cf_req *r,
	    const char *action, const char *ns, struct cf_error *err)
	    __attribute__((warn_unused_result));
/* Validate an env.<env>.allow value (for the configuration parser). */
cf_err	cf_core_net_list_check(const char *value, struct cf_error *err);

/* One read snapshot (one read transaction) for a request that reads
 * only: its authentication, then its operation's decision and lookup,
 * instead of one transaction for each.  True if one was opened (only for
 * Coffer's own tokens and sessions: an OIDC token may write); every true
 * needs its cf_core_snapshot_end, on the same thread, before the thread
 * serves anything else.  A token's last-used time, due while the
 * snapshot is open, is written by cf_core_snapshot_end, after it.  An
 * operation that writes ends the snapshot at its first write
 * (cf_meta_scope_begin): callers open one only around reads. */
bool	cf_core_snapshot_begin(struct cf_core *c, struct cf_req *r,
	    const char *bearer);
void	cf_core_snapshot_end(struct cf_core *c, struct cf_req *r);

/* Authenticate a bearer token (NULL: none).  Never fails the request by
 * itself: on a bad token r->authenticated stays false and r->authn says
 * why; the operation then answers CF_E_AUTH. */
cf_err	cf_core_authenticate(struct cf_core *c, struct cf_req *r,
	    const char *bearer, struct cf_error *err);

/* Record the request in the audit log (decision, status, result, bytes).
 * Must be called exactly once per request before any response is sent;
 * a failure means the response must not be sent (send 503 instead).
 * result: "ok" or an error code string. */
cf_err	cf_core_audit(struct cf_core *c, struct cf_req *r, int status,
	    const char *result, uint64_t bytes, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* The same, without waiting for the record to be durable (an event-driven
 * front end): *seq names the record.  SEC: nothing of the response may be
 * sent before cf_core_audit_state(seq) is 1; -1: the log broke, send 503.
 * cf_core_audit_notify (once, before the first submit) has fn called after
 * every commit with how far the log is durable (audit.h). */
cf_err	cf_core_audit_submit(struct cf_core *c, struct cf_req *r, int status,
	    const char *result, uint64_t bytes, uint64_t *seq,
	    struct cf_error *err) __attribute__((warn_unused_result));
int	cf_core_audit_state(struct cf_core *c, uint64_t seq);
cf_err	cf_core_audit_notify(struct cf_core *c, cf_audit_notify_fn fn,
	    void *arg, struct cf_error *err);
void	cf_core_audit_notify_stop(struct cf_core *c);
/* Test hook (the server's COFFER_TEST_AUDIT_HOLD): hold or release the
 * audit log's group commits; *pending gets the records waiting. */
void	cf_core_test_audit_hold(struct cf_core *c, bool hold,
	    uint64_t *pending);

/* Deny a request that names no operation (unknown route, bad method, a
 * request refused before it could name its resource).  Sets the decision;
 * the caller then audits and answers. */
void	cf_core_reject(struct cf_core *c, struct cf_req *r, const char *action,
	    const char *reason);

/* --- operations: each authorizes, then acts.  Results are JSON objects
 * owned by the caller (json_decref).  Errors: CF_E_AUTH (401),
 * CF_E_DENIED (403), CF_E_INPUT (400), CF_E_NOTFOUND (404),
 * CF_E_CONFLICT (409), CF_E_LIMIT (413), others (5xx). --- */

/* Alerts (core/ops_alert.c; docs/monitoring.md, "Alerts").  list
 * (alert:list, admin): {rules: [{name, severity, sinks, condition,
 * fired, last_fired, last_trigger}], sinks: [{name, type, url, queued,
 * sent, failed_attempts, gave_up, dropped, last_ok, last_error}],
 * dropped, rules_file}.  test (alert:test, admin): the request's record
 * first, then one attempt through each sink of rule name, no retries:
 * {alert, id, ok, sinks: [{sink, type, ok, error}]}; CF_E_NOTFOUND
 * (errcode no_such_alert) for an unknown rule. */
cf_err	cf_core_alert_list(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_alert_test(struct cf_core *c, struct cf_req *r,
	    const char *name, json_t **out, struct cf_error *err);
/* Parse cfg's alert rules file, reading its secret files, without
 * opening anything (`server --check`). */
cf_err	cf_core_check_alerts(const struct cf_core_config *cfg,
	    struct cf_error *err);

/* The global memory budget of request buffers (request_memory_budget):
 * reserve n bytes before holding them, release them when done.  False
 * (nothing reserved) when the budget cannot take n more: the caller
 * refuses the request (503 server_busy, Retry-After) or does without
 * (an upload runs unstaged).  Lock-free; never blocks. */
bool	cf_core_mem_reserve(struct cf_core *c, uint64_t n);
void	cf_core_mem_release(struct cf_core *c, uint64_t n);
/* Count a request refused for the budget (metrics). */
void	cf_core_mem_refused(struct cf_core *c);

/* GET /v1/metrics: what the front end knows and the core does not. */
struct cf_metrics_extra {
	uint64_t	connections;	/* open client connections */
	uint64_t	transfers;	/* uploads + downloads in progress */
};
/* The metrics in Prometheus' text format 0.0.4 into out (action
 * metrics:read: admin, or a token scoped to it). */
cf_err	cf_core_metrics(struct cf_core *c, struct cf_req *r,
	    const struct cf_metrics_extra *x, struct cf_buf *out,
	    struct cf_error *err);
/* GET /v1/posture: the deployment facts the front end owns (all
 * borrowed for the call). */
struct cf_posture_facts {
	bool		 tls;		/* false: plain HTTP (insecure_http) */
	const char	*cert_pem;	/* the certificate served; NULL: none */
	const char	*cert_path;	/* where it was read from */
	bool		 cert_own;	/* the data directory's self-signed */
	const char	*tls_priorities;	/* GnuTLS priority string */
	const char	*listen;	/* ADDR:PORT */
	const char	*http_lib_version;	/* libmicrohttpd's */
	int64_t		 unused_days;	/* a token unused this long is
					 * reported; 0: 90 */
};
#define CF_POSTURE_UNUSED_DAYS	90
/* Admin (posture:read): check the deployment against best practice
 * (docs/posture.md).  *out: {"findings":[{id, severity, title, detail,
 * fix, doc}] (highest severity first), "summary":{"critical":N, ...},
 * "checks":[{"check", "result", "detail"}], "checked_at"}.  A check that
 * cannot run is reported in checks (result "error") and as the finding
 * check-failed, never silently passed. */
cf_err	cf_core_posture(struct cf_core *c, struct cf_req *r,
	    const struct cf_posture_facts *facts, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_health(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_whoami(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);

cf_err	cf_core_ns_create(struct cf_core *c, struct cf_req *r, const char *name,
	    const char *env, json_t **out, struct cf_error *err);
/* As cf_core_ns_create; sensitivity: public, internal, confidential or
 * restricted (NULL: internal). */
cf_err	cf_core_ns_create_sens(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *env, const char *sensitivity,
	    json_t **out, struct cf_error *err);
/* Change a namespace's sensitivity (admin).  Lowering it from restricted
 * is an action on restricted data, so it needs MFA like any other. */
cf_err	cf_core_ns_set_sensitivity(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *sensitivity, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_ns_list(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* S3 CreateBucket: as cf_core_ns_create (env dev, sensitivity
 * internal), the namespace starting unversioned for S3 (docs/s3.md). */
cf_err	cf_core_s3_bucket_create(struct cf_core *c, struct cf_req *r,
	    const char *name, json_t **out, struct cf_error *err);
/* S3 PutBucketVersioning (ns:set-versioning): state "enabled" or
 * "suspended" (CF_E_INPUT otherwise: nothing goes back to
 * unversioned).  *out: {"name", "versioning"}.  A view of S3's: no
 * version is changed or removed. */
cf_err	cf_core_ns_set_versioning(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *state, json_t **out,
	    struct cf_error *err);
/* S3 DeleteObject?versionId=V (object:delete of the key): version V
 * ("null": the key's null version) leaves S3's view, its row stays;
 * when it was the current version the key reads as deleted (a marker
 * S3 does not list).  Holds and retention refuse it as a delete
 * (CF_E_CONFLICT, "held" or "retention").  No such version in S3's
 * view: CF_E_NOTFOUND, errcode "no_such_version".  *out:
 * {"version_id", "removed_from_view", "delete_marker", "s3_null",
 * "marker_version_id"?}. */
cf_err	cf_core_object_version_s3_delete(struct cf_core *c,
	    struct cf_req *r, const char *ns, const char *key,
	    const char *vid, json_t **out, struct cf_error *err);
cf_err	cf_core_ns_get(struct cf_core *c, struct cf_req *r, const char *name,
	    json_t **out, struct cf_error *err);
cf_err	cf_core_ns_delete(struct cf_core *c, struct cf_req *r,
	    const char *name, json_t **out, struct cf_error *err);

/* Streaming upload: begin authorizes and validates (before the body is
 * read); write feeds body bytes; finish checks size and digest, makes the
 * blob durable, records the audit entry and only then makes the version
 * visible.  abort (client gone, error) removes all temporary data.
 * expected_sha256: 64 hex or NULL; meta_json: JSON object text or NULL;
 * content_length: -1 when unknown. */
struct cf_put;
cf_err	cf_core_put_begin(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *content_type,
	    const char *expected_sha256, const char *meta_json,
	    int64_t content_length, struct cf_put **out, struct cf_error *err);
/* The body's expected SHA-256 (hex), known only at its end (an HTTP
 * trailer); CF_E_INPUT if malformed or unlike one given to begin. */
cf_err	cf_core_put_expect(struct cf_put *p, const char *hex,
	    struct cf_error *err);
cf_err	cf_core_put_write(struct cf_put *p, const void *data, size_t len,
	    struct cf_error *err);
/* Before the first write: also compute the MD5 of the body (stored with
 * the version: the S3 ETag); expect (16 bytes, nullable) the MD5 it must
 * have (Content-MD5): otherwise finish fails CF_E_INTEGRITY, errcode
 * "bad_digest", and nothing is stored. */
cf_err	cf_core_put_md5(struct cf_put *p, const uint8_t *expect,
	    struct cf_error *err);
/* The Content-Encoding to store with the version (echoed, never
 * applied); CF_E_INPUT if too long or not a clean header value. */
cf_err	cf_core_put_encoding(struct cf_put *p, const char *enc,
	    struct cf_error *err);
/* The checksum of the plaintext the front end verified (an S3
 * x-amz-checksum-ALG), kept with the version as "ALG:BASE64" and
 * returned on request (cf_object_view.checksum).  Call only once it
 * was compared with the body's; CF_E_INPUT for an unknown algorithm
 * or a value that is not standard base64. */
cf_err	cf_core_put_checksum(struct cf_put *p, const char *alg,
	    const char *b64, struct cf_error *err);
/* For a part of a multipart upload that declared a checksum
 * (cf_core_mp_create's ck_alg), its algorithm ("crc32", ...): the part
 * must carry it (cf_core_put_checksum; else CF_E_INPUT at finish, and
 * another algorithm CF_E_INPUT, r->errcode "invalid_request"), so a
 * front end computes it when the request carries none.  "" otherwise. */
const char	*cf_core_put_part_alg(const struct cf_put *p);
/* bearer: the request's credential (as given to cf_core_authenticate):
 * the upload is authenticated and authorized again before it commits.
 * On success the audit record is written (r->audited) and *out describes
 * the new version.  The handle is freed whatever the outcome. */
cf_err	cf_core_put_finish(struct cf_put *p, const char *bearer, json_t **out,
	    struct cf_error *err);
void	cf_core_put_abort(struct cf_put *p);

/* Streaming download.  head: metadata only (action object:head).
 * Range: want_range false for the whole object; otherwise [first, last]
 * resolved by the caller with cf_core_get_size() semantics: use
 * cf_core_get_open then cf_core_get_set_range. */
struct cf_get;
cf_err	cf_core_get_open(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *version_id, bool head,
	    struct cf_get **out, struct cf_error *err);
/* An S3 part of a version (GetObject partNumber, GetObjectAttributes):
 * a segment of a version completed by reference, or the whole of a
 * version of one blob as its part 1. */
struct cf_object_part {
	uint32_t	number;		/* 1..10000, as it was uploaded */
	uint64_t	first;		/* its first byte in the object */
	uint64_t	size;
	/* the checksum the part carried, "ALG:BASE64"; "" for none */
	char		checksum[CF_CHECKSUM_TEXT_MAX];
};
/* What the front end needs of the version being read (borrowed): no
 * blob id, no wrapped key, nothing of the store's record beyond this. */
struct cf_object_view {
	char		version_id[CF_VERSION_ID_LEN + 1];
	uint64_t	size;
	char		sha256[CF_SHA256_HEX_LEN + 1];
	char		md5[48];	/* the S3 ETag; "" when not computed */
	char		content_encoding[CF_CTYPE_MAX];	/* as given; "" */
	char		content_type[CF_CTYPE_MAX];
	char		user_meta[CF_USERMETA_MAX];	/* JSON object or "" */
	/* "ALG:BASE64" as verified on upload (cf_core_put_checksum); "" */
	char		checksum[CF_CHECKSUM_TEXT_MAX];
	int64_t		created_us;
	int		s3_null;	/* cf_version_rec's: S3's view */
	bool		s3_hidden;
	const json_t	*labels;	/* the key's labels, name -> string */
	const char	*key;		/* the object's key */
	/* Completed by reference (S3 multipart): the number of segments
	 * (0: one blob), and their plaintext sizes in order as runs
	 * "SIZExCOUNT,..." (NULL when 0, or longer than
	 * CF_SEGMENT_LAYOUT_MAX); sha256 is then the SHA-256 of the
	 * segments' SHA-256 digests (docs/api.md, "Digests"). */
	uint32_t	nsegs;
	const char	*segments;
	/* Opened for one S3 part (cf_core_get_open_part): whether the
	 * version has it, and where it lies. */
	bool		part_found;
	struct cf_object_part part;
};
#define CF_SEGMENT_LAYOUT_MAX	8192
const struct cf_object_view *cf_core_get_view(const struct cf_get *g);
/* Read plaintext at pos; every byte returned has been authenticated. */
cf_err	cf_core_get_read(struct cf_get *g, uint64_t pos, void *buf,
	    size_t max, size_t *got, struct cf_error *err);
void	cf_core_get_close(struct cf_get *g);
/* cf_core_get_open for S3's partNumber=part (1..10000, else
 * CF_E_INVAL): the same decision (object:get, or object:head with head),
 * the same version, looked up in the same snapshot.  The view's
 * part_found says whether the version has that part (a multipart
 * version: a segment completed from part number part; one of one blob:
 * part 1 only, the whole of it), and part where it lies; a GET reads
 * part's bytes.  A version completed before segments kept their part
 * numbers numbers them by position, 1, 2, .... */
cf_err	cf_core_get_open_part(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *version_id,
	    bool head, uint32_t part, struct cf_get **out,
	    struct cf_error *err);
/* S3 GetObjectAttributes: the version's metadata (the view) and its
 * parts, decided as object:get of the key (the parts and their
 * checksums describe its bytes, as a GET of them would), looked up in
 * one snapshot; no key is unwrapped and no blob opened: the handle
 * reads nothing. */
cf_err	cf_core_get_open_attrs(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *version_id,
	    struct cf_get **out, struct cf_error *err);
/* The parts of g (from cf_core_get_open_attrs) numbered above after, in
 * order, at most max of them into out; how many.  A version of one blob
 * has none (S3 lists parts of multipart objects only). */
size_t	cf_core_get_parts(const struct cf_get *g, uint32_t after,
	    struct cf_object_part *out, size_t max);
/* The segments of a version (the latest, or version_id) for a client
 * that checks a download whose X-Coffer-Segments header was left out
 * (too long): decided as object:get of the key, as the GET is, and
 * looked up in one snapshot.  *out: {"ns", "key", "version_id", "size",
 * "segment_count", "segments": [sizes in bytes, in order], and
 * "sha256_segments" (the composite, docs/api.md "Digests") or, for a
 * version of one blob (no segments), "sha256"}. */
cf_err	cf_core_object_segments(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *version_id,
	    json_t **out, struct cf_error *err);

cf_err	cf_core_object_delete(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_object_list(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *prefix, const char *delimiter, const char *after,
	    size_t limit, json_t **out, struct cf_error *err);
cf_err	cf_core_object_versions(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, json_t **out,
	    struct cf_error *err);
/* The conditions of a conditional request on a version (core/precond.c;
 * docs/s3.md, "Conditional requests").  if_match / if_none_match: NULL
 * (none), "*" or a comma-separated list of ETags, quoted or not, weak or
 * not, compared with the version's ETag (its MD5, or SHA-256 when it
 * has none); the dates in microseconds, -1 when absent (an unparseable
 * date is the caller's to ignore or refuse). */
struct cf_cond {
	const char	*if_match;
	const char	*if_none_match;
	int64_t		 if_modified_since_us;
	int64_t		 if_unmodified_since_us;
};
#define CF_COND_NONE	{ NULL, NULL, -1, -1 }
enum cf_precond {
	CF_PRECOND_HOLDS = 0,
	CF_PRECOND_FAILED,		/* 412 */
	CF_PRECOND_NOT_MODIFIED		/* 304 for GET/HEAD, else 412 */
};
/* RFC 9110 13.2.2's order and S3's precedence: If-Match (else
 * If-Unmodified-Since), then If-None-Match (else If-Modified-Since);
 * the first that fails decides.  Pure. */
enum cf_precond cf_core_precond(const struct cf_cond *cd,
	    const struct cf_object_view *v);

/* S3 CopyObject: a new version of (ns, key) with the bytes of version
 * src->version_id (NULL: the latest) of (src->ns, src->key),
 * server-side; src->ranged must be false (CF_E_INVAL: S3 copies a range
 * only into a part).  Two decisions: object:get of the source, recorded
 * on its own with r's request id (when it fails, r takes its decision
 * and the answer is its refusal; so also when src->cond does not hold
 * for the source version: r->errcode "precondition_failed",
 * CF_E_INPUT), then object:put of the target, r's.  The copy shares
 * the source's encrypted blob under a data key rewrapped for its own
 * version id.  replace: the metadata the copy gets instead of the
 * source's (NULL: copied).  *out: {"version_id", "source_version_id",
 * "created", "size", "md5"} (md5: the source's ETag). */
struct cf_copy_meta {
	const char	*content_type;		/* NULL: octet-stream */
	const char	*content_encoding;	/* NULL: none */
	const char	*user_meta;		/* JSON object text; NULL */
};
struct cf_copy_src;
cf_err	cf_core_object_copy(struct cf_core *c, struct cf_req *r,
	    const struct cf_copy_src *src, const char *ns, const char *key,
	    const struct cf_copy_meta *replace, json_t **out,
	    struct cf_error *err);
/* S3 ListObjectVersions (object:versions on the namespace): the
 * versions and delete markers of ns's keys under prefix
 * (cf_meta_version_scan), at most limit (1-1000) entries.  *out:
 * {"versions": [version...], "prefixes": [...], "truncated",
 * "next_key", "next_version_id"}.  A version id marker that is not a
 * version of the key marker is CF_E_INPUT ("bad_version_marker"). */
cf_err	cf_core_object_versions_scan(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *prefix, const char *delimiter,
	    const char *key_marker, const char *vid_marker, size_t limit,
	    json_t **out, struct cf_error *err);

cf_err	cf_core_principal_create(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *kind, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_principal_list(struct cf_core *c, struct cf_req *r,
	    json_t **out, struct cf_error *err);

/* expires_in: seconds, 0 for none. */
cf_err	cf_core_token_create(struct cf_core *c, struct cf_req *r,
	    const char *principal, uint64_t expires_in, const char *description,
	    json_t **out, struct cf_error *err);
/* principal NULL: all (admin) or own (others). */
cf_err	cf_core_token_list(struct cf_core *c, struct cf_req *r,
	    const char *principal, json_t **out, struct cf_error *err);
cf_err	cf_core_token_revoke(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);

/* ns NULL or "": a global binding. */
cf_err	cf_core_binding_create(struct cf_core *c, struct cf_req *r,
	    const char *principal, const char *role, const char *ns,
	    json_t **out, struct cf_error *err);
/* The same binding, expiring expires_in seconds (1 to
 * CF_BINDING_EXPIRES_MAX; 0: never) after the request's time: from then
 * on it grants nothing, and the sweep deletes it with a binding:expire
 * record (docs/reviews.md). */
#define CF_BINDING_EXPIRES_MAX	(10 * 366 * 86400)
cf_err	cf_core_binding_create_expiring(struct cf_core *c,
	    struct cf_req *r, const char *principal, const char *role,
	    const char *ns, uint64_t expires_in, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_binding_delete(struct cf_core *c, struct cf_req *r,
	    const char *principal, const char *role, const char *ns,
	    json_t **out, struct cf_error *err);
cf_err	cf_core_binding_list(struct cf_core *c, struct cf_req *r,
	    const char *principal, const char *ns, json_t **out,
	    struct cf_error *err);

/* As cf_core_principal_create; owner: for kind "service", the owning
 * user (NULL: the caller). */
cf_err	cf_core_principal_create_owned(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *kind, const char *owner,
	    json_t **out, struct cf_error *err);
/* As cf_core_token_create, with scope: JSON object text
 * {"actions":[...],"namespaces":[...]} or NULL. */
cf_err	cf_core_token_create_scoped(struct cf_core *c, struct cf_req *r,
	    const char *principal, uint64_t expires_in, const char *description,
	    const char *scope, json_t **out, struct cf_error *err);

/* --- identity (issue 4; core/identity.c).  Credentials are byte strings
 * borrowed for the call and never logged.  r->errcode names the API
 * error: invalid_credentials, mfa_required, invalid_code (CF_E_AUTH),
 * too_many_attempts, locked (CF_E_LIMIT, r->retry_after set),
 * weak_password (CF_E_INPUT). --- */

/* code / recovery NULL when not given. */
cf_err	cf_core_login(struct cf_core *c, struct cf_req *r, const char *user,
	    const char *password, size_t pwlen, const char *code,
	    const char *recovery, json_t **out, struct cf_error *err)
	    __attribute__((warn_unused_result));
cf_err	cf_core_logout(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_session_mfa(struct cf_core *c, struct cf_req *r,
	    const char *code, json_t **out, struct cf_error *err)
	    __attribute__((warn_unused_result));
/* password NULL: a user without a password (OIDC only). */
cf_err	cf_core_user_create(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *password, size_t pwlen,
	    json_t **out, struct cf_error *err);
cf_err	cf_core_user_list(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* current NULL for an admin reset. */
cf_err	cf_core_user_passwd(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *password, size_t pwlen,
	    const char *current, size_t curlen, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_user_disable(struct cf_core *c, struct cf_req *r,
	    const char *name, bool disable, json_t **out, struct cf_error *err);
cf_err	cf_core_user_mfa_required(struct cf_core *c, struct cf_req *r,
	    const char *name, bool required, json_t **out,
	    struct cf_error *err);
/* Admin: turn off the MFA of user name (TOTP secret, pending enrollment
 * and recovery codes removed) and end the user's sessions, so that a
 * user who lost the phone and every recovery code can enroll again.
 * CF_E_NOTFOUND for an unknown user; a user without MFA is no error. */
cf_err	cf_core_user_mfa_reset(struct cf_core *c, struct cf_req *r,
	    const char *name, json_t **out, struct cf_error *err);
/* Admin (user:link-oidc, and the grant rule): bind the OIDC identity
 * (issuer, subject) to user name, so that tokens of that issuer with that
 * sub authenticate as name.  issuer must be configured.  *created
 * (nullable): false when the link existed already.  CF_E_NOTFOUND for an
 * unknown user, CF_E_CONFLICT (errcode already_linked) when the identity
 * is linked to another user, CF_E_INPUT for bad text. */
cf_err	cf_core_user_oidc_link(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *issuer, const char *subject,
	    bool *created, json_t **out, struct cf_error *err);
/* Admin (user:unlink-oidc): remove that link; CF_E_NOTFOUND (errcode
 * no_such_link) when the user has no such link. */
cf_err	cf_core_user_oidc_unlink(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *issuer, const char *subject,
	    json_t **out, struct cf_error *err);
/* Admin (user:list): one user, as in the list, with its attributes. */
cf_err	cf_core_user_get(struct cf_core *c, struct cf_req *r,
	    const char *name, json_t **out, struct cf_error *err);
/* Admin (user:attr, and the grant rule): apply changes (borrowed: a JSON
 * object name -> string to set, or null to remove) to user name's
 * attributes, all or nothing.  *out: {"name","attributes"}.  CF_E_INPUT
 * (errcode invalid_name, invalid_value, too_many_attributes) for a bad
 * name, value or count; CF_E_NOTFOUND for an unknown user
 * (core/ops_labels.c). */
cf_err	cf_core_user_attrs_set(struct cf_core *c, struct cf_req *r,
	    const char *name, const json_t *changes, json_t **out,
	    struct cf_error *err);
/* Labels of namespace ns (key NULL or "") or of its object key.  set
 * (label:set) applies changes as cf_core_user_attrs_set; rm (label:rm)
 * removes the comma-separated names; both need owner on ns and the grant
 * rule.  A value is set only on a live object (404 no_such_key
 * otherwise); errcode too_many_labels past CF_ATTRS_MAX.  get: read as
 * ns:get (the namespace's) or object:head (a key's).  *out: {"ns","key",
 * "labels"}. */
cf_err	cf_core_labels_set(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const json_t *changes,
	    json_t **out, struct cf_error *err);
cf_err	cf_core_labels_rm(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *names, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_labels_get(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_role_mfa_required(struct cf_core *c, struct cf_req *r,
	    const char *role, bool required, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_mfa_enroll(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_mfa_confirm(struct cf_core *c, struct cf_req *r,
	    const char *code, json_t **out, struct cf_error *err);
/* Needs the password and a second factor: code (a current TOTP code) or,
 * when code is NULL, recovery (an unused recovery code, consumed).  A
 * wrong one is invalid_code and counts as a failed attempt. */
cf_err	cf_core_mfa_disable(struct cf_core *c, struct cf_req *r,
	    const char *password, size_t pwlen, const char *code,
	    const char *recovery, json_t **out, struct cf_error *err);

/* --- questions about the policies (core/ops_explain.c; docs/policy.md,
 * "Testing a change before applying it") --- */
/* Admin (policy:explain): how the policies and the monitor's guard
 * rails would decide {principal, action, resource ("NS", "NS/KEY[@V]"
 * or absent), context (object, optional)} now: the decision, the
 * determining and errored policies, the guards, the entities and the
 * context.  CF_E_INPUT for a bad body, CF_E_NOTFOUND (errcode
 * no_such_principal) for an unknown principal. */
cf_err	cf_core_policy_explain(struct cf_core *c, struct cf_req *r,
	    const json_t *body, json_t **out, struct cf_error *err);
/* Admin or an owner of ns (access:who): the principals the policies
 * allow to perform action (NULL: each action that applies) on ns or its
 * object key (NULL: the namespace) now, under a neutral context; those
 * whose answer could differ under another context are "conditional".
 * At most limit principals are looked at (0: the most, 10000). */
cf_err	cf_core_access_who(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *action, size_t limit,
	    json_t **out, struct cf_error *err);
/* Admin (access:stale): the live bindings whose principal made no allowed
 * request through them, and the live API tokens not used, in the
 * unused_s seconds (1 to CF_STALE_PERIOD_MAX) that end at the core's
 * clock.  *out: {unused_for, since, until, bindings:[{principal, role,
 * ns, last_used}], tokens:[{id, principal, description, created,
 * expires, last_used}], scanned, complete} (docs/reviews.md). */
#define CF_STALE_PERIOD_MAX	(10ull * 366 * 86400)
cf_err	cf_core_access_stale(struct cf_core *c, struct cf_req *r,
	    uint64_t unused_s, json_t **out, struct cf_error *err);
/* Admin (anomaly:list): the anomaly flags raised in the since_s seconds
 * (1 to CF_ANOM_SINCE_MAX) that end at the core's clock, of principal
 * (NULL or "": everyone's), newest first, at most limit (1 to 10000).
 * *out: {enabled, since, until, anomalies: [{kind, score, principal,
 * time, source, trigger, feature, baseline, observed, explanation}],
 * profiles, evicted, dropped} (docs/monitoring.md). */
#define CF_ANOM_SINCE_MAX	(10ull * 366 * 86400)
cf_err	cf_core_anomalies(struct cf_core *c, struct cf_req *r,
	    uint64_t since_s, const char *principal, size_t limit,
	    json_t **out, struct cf_error *err);
/* Admin (access:suggest): for each binding in force (of principal; NULL:
 * every one), the actions it was used for in the since_s seconds (1 to
 * CF_STALE_PERIOD_MAX) that end at the core's clock and the narrowest
 * role that would have allowed all of them (core/suggest.h).  *out:
 * {since_s, since, until, bindings:[{principal, role, ns, expires, uses,
 * last_used, used, suggestion:{kind, role, held_actions, role_actions,
 * command}, proposed}], scanned, complete} (docs/reviews.md).
 * CF_E_NOTFOUND (errcode no_such_principal) for an unknown principal. */
cf_err	cf_core_access_suggest(struct cf_core *c, struct cf_req *r,
	    const char *principal, uint64_t since_s, json_t **out,
	    struct cf_error *err);
/* --- access review campaigns (core/ops_review.c; docs/reviews.md).
 * r->errcode names the API error: bad_request (CF_E_INPUT),
 * no_such_namespace, no_such_principal, no_such_review, no_such_item
 * (CF_E_NOTFOUND), own_access, not_reviewer (CF_E_DENIED), item_closed
 * (CF_E_CONFLICT). --- */
#define CF_REVIEW_DUE_MAX	(366 * 86400)	/* seconds */
/* review:start (admin): a campaign over ns (NULL: every namespace),
 * reviewed by reviewer (NULL: the caller), due due_s seconds from now
 * (1 to CF_REVIEW_DUE_MAX) by the core's clock; on_timeout "revoke" or
 * "escalate" (NULL: cfg.review_on_timeout).  *out: the campaign with
 * its number of items. */
cf_err	cf_core_review_start(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *reviewer, int64_t due_s,
	    const char *on_timeout, json_t **out, struct cf_error *err);
/* review:list: every campaign (admin), or those one reviews. */
cf_err	cf_core_review_list(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* review:show: the campaign, its items and their counts (admin, or a
 * reviewer of it). */
cf_err	cf_core_review_show(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* review:decide: keep or revoke item n (its reviewer, or an admin; never
 * the item's own principal).  revoke deletes the binding, or takes the
 * policy set out of force, with the item's closing.  *out: the item. */
cf_err	cf_core_review_decide(struct cf_core *c, struct cf_req *r,
	    const char *id, int64_t n, const char *decision, const char *note,
	    json_t **out, struct cf_error *err);
/* review:report: {report, signature: {alg, public_key, value}}, the
 * report signed as cf_sign_doc with CF_REVIEW_REPORT_CONTEXT. */
cf_err	cf_core_review_report(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* Admin (policy:replay): decide the audit log's recorded decisions
 * again under a draft {sets: [{name, ns, text}], since_s, limit,
 * examples} and count those it would change.  A draft that does not
 * validate: CF_E_INPUT, errcode invalid_policy, and *problems (only
 * then) gets [{set, ns, line, col, policy, message}]. */
cf_err	cf_core_policy_replay(struct cf_core *c, struct cf_req *r,
	    const json_t *body, json_t **out, json_t **problems,
	    struct cf_error *err);

/* --- custom policy sets (core/ops_policy.c; docs/policy.md, "Managing
 * policies on the server").  ns NULL or "": a global set (admin);
 * otherwise a set attached to namespace ns (its owner, or admin), only
 * ever evaluated for requests on ns.  Changing one needs MFA (the grant
 * rule).  r->errcode names the API error: invalid_name, invalid_policy
 * (CF_E_INPUT, the message "line:col: ..." for a syntax error),
 * no_such_policy, no_such_namespace (CF_E_NOTFOUND), policy_changed
 * (CF_E_CONFLICT), policy_reload_failed (CF_E_IO: stored, but the
 * running server still decides with the previous sets). --- */

/* Store text[0..len) as the next version of (name, ns).  *created is
 * false when it equals the version in force (nothing stored). */
cf_err	cf_core_policy_set(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *ns, const char *text, size_t len,
	    bool *created, json_t **out, struct cf_error *err);
/* The sets in force: of ns when ns is non-NULL ("" global), else every
 * one the caller may manage. */
cf_err	cf_core_policy_list(struct cf_core *c, struct cf_req *r,
	    const char *ns, json_t **out, struct cf_error *err);
/* One version (0: the one in force) with its text. */
cf_err	cf_core_policy_get(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *ns, int64_t version, json_t **out,
	    struct cf_error *err);
cf_err	cf_core_policy_history(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *ns, json_t **out,
	    struct cf_error *err);
/* Take (name, ns) out of force: a tombstone version. */
cf_err	cf_core_policy_rm(struct cf_core *c, struct cf_req *r,
	    const char *name, const char *ns, json_t **out,
	    struct cf_error *err);

/* --- break-glass (core/ops_breakglass.c; docs/security.md,
 * "Break-glass") --- */
/* breakglass:open on ns: r's principal gets owner on ns for secs seconds
 * (1 .. breakglass_max), for reason (1..512 bytes of printable UTF-8).
 * Needs MFA no older than CF_BREAKGLASS_MFA_AGE (401 mfa_required), and
 * the policies' permission (admin; a policy may allow others).  *out:
 * the grant.  CF_E_INPUT (errcode bad_request) for a bad reason or
 * duration, CF_E_NOTFOUND for no such namespace. */
#define CF_BREAKGLASS_MFA_AGE	300
cf_err	cf_core_breakglass_open(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *reason, int64_t secs, json_t **out,
	    struct cf_error *err);
/* breakglass:list: every grant (admin) or one's own; all: expired and
 * revoked ones too. */
cf_err	cf_core_breakglass_list(struct cf_core *c, struct cf_req *r, bool all,
	    json_t **out, struct cf_error *err);
/* breakglass:revoke: end grant id (one's own, or any as admin).
 * CF_E_NOTFOUND for an unknown id (or another's, to a non-admin),
 * CF_E_CONFLICT when revoked already. */
cf_err	cf_core_breakglass_revoke(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);

/* --- promotion (core/ops_artifact.c; docs/api.md, "Promotion") --- */
/* promotion:request on src_ns/name (writer there): a request to bring
 * artifact version sel (as for pull; "": the latest) into dst_ns, a
 * namespace of another environment.  Completes at once when dst_ns's
 * environment needs no approval.  errcode: same_environment,
 * bad_request (CF_E_INPUT), no_such_namespace, no_such_artifact,
 * no_such_version (CF_E_NOTFOUND). */
cf_err	cf_core_promote(struct cf_core *c, struct cf_req *r,
	    const char *src_ns, const char *name, const char *sel,
	    const char *dst_ns, const char *reason, json_t **out,
	    struct cf_error *err);
/* promotion:approve on the request's target namespace (owner; MFA for
 * prod).  errcode: own_request (CF_E_DENIED), already_approved,
 * not_open, expired, source_gone (CF_E_CONFLICT), no_such_promotion. */
cf_err	cf_core_promotion_approve(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* promotion:reject on the target.  errcode not_open (CF_E_CONFLICT). */
cf_err	cf_core_promotion_reject(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* promotion:withdraw on the source artifact, by the requester only
 * (errcode not_requester, CF_E_DENIED): state "withdrawn".  errcode
 * not_open (CF_E_CONFLICT), no_such_promotion. */
cf_err	cf_core_promotion_withdraw(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* id NULL: the requests the caller may see (its own, and those into
 * namespaces it may read), newest first; else that one. */
cf_err	cf_core_promotion_list(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);

/* artifact:get on src_ns/name@sel (as for pull), then artifact:copy on
 * dst_ns/dst_name: a new version of dst_name sharing the source's blobs
 * (same digest, kind, metadata; derived from the source).  Into a prod
 * namespace only where a stored policy permits artifact:copy (errcode
 * promotion_required, CF_E_DENIED).  errcode also: no_such_namespace,
 * no_such_artifact, no_such_version, source_gone, invalid_name. */
cf_err	cf_core_art_copy(struct cf_core *c, struct cf_req *r,
	    const char *src_ns, const char *name, const char *sel,
	    const char *dst_ns, const char *dst_name, json_t **out,
	    struct cf_error *err);

/* --- keys (core/keys.c; docs/keys.md) --- */
/* Admin with MFA (key:rotate): a new active KEK; the rewrap of every
 * wrapped key under older KEKs starts in the background. */
cf_err	cf_core_key_rotate(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* Admin (key:status): the provider, KEKs with their wrapped-key counts,
 * the rewrap's progress. */
cf_err	cf_core_key_status(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* Admin with MFA (key:retire): destroy KEK id.  CF_E_CONFLICT (errcode
 * rewrap_incomplete) while anything is wrapped under it, (kek_active)
 * for the active one; CF_E_NOTFOUND (no_such_kek). */
cf_err	cf_core_key_retire(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* Offline (`coffer key init-hsm`): open the PKCS#11 provider cfg
 * names with key_init, making hsm-1 in a token without one; id gets the
 * active KEK's id. */
cf_err	cf_core_key_init(const struct cf_core_config *cfg, char *id,
	    size_t idsz, struct cf_error *err);
/* One look at the schedule (key_rotate_days, by the core's clock) and
 * one rewrap pass, now, on the caller's thread (the background thread
 * calls it; tests call it with an injected clock). */
cf_err	cf_core_keys_tick(struct cf_core *c, struct cf_error *err);

/* after/limit or tail as in cf_audit_read. */
cf_err	cf_core_audit_read(struct cf_core *c, struct cf_req *r,
	    uint64_t after, size_t limit, size_t tail, json_t **out,
	    struct cf_error *err);

/* --- validation (core/names.c) --- */
/* S3 bucket rules: 3..63 of [a-z0-9.-], alnum at both ends, no "..",
 * not an IPv4 address. */
bool	cf_name_ns_valid(const char *s);
/* 1..1024 bytes of valid UTF-8 without NUL; anything else is a name. */
bool	cf_name_key_valid(const char *s, size_t len);
/* 1..63 of [a-z0-9._-] starting with a letter or digit. */
bool	cf_name_principal_valid(const char *s);
bool	cf_name_env_valid(const char *s);
/* public, internal, confidential or restricted. */
bool	cf_name_sensitivity_valid(const char *s);
bool	cf_name_role_valid(const char *s);
/* Policy set names: 1..63 of [a-z0-9._-] starting with a letter or
 * digit. */
bool	cf_name_policy_valid(const char *s);

/* --- artifacts (core/ops_artifact.c; docs/artifacts.md).  name: an
 * artifact name (cf_art_name_valid); sel: "" / NULL (the latest),
 * "latest", a number, a 32-hex version id or a stage; as_of: RFC 3339
 * (NULL: none; not with sel).  r->errcode names the API error:
 * invalid_name, invalid_kind, invalid_metadata, metadata_too_large,
 * invalid_manifest, invalid_source, sensitivity_too_low,
 * reason_required (CF_E_INPUT); no_such_namespace, no_such_artifact,
 * no_such_version (CF_E_NOTFOUND). --- */
bool	cf_art_name_valid(const char *s);
bool	cf_art_kind_valid(const char *s);
bool	cf_art_stage_valid(const char *s);
/* artifact:push: body {"files":[{path, version_id, sha256, size}],
 * "kind", "meta", "derived_from":["NS/NAME@V"], "sensitivity"}. */
cf_err	cf_core_art_push(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *name, const json_t *body, json_t **out,
	    struct cf_error *err);
/* artifact:get: the version with its "manifest". */
cf_err	cf_core_art_get(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *name, const char *sel, const char *as_of, json_t **out,
	    struct cf_error *err);
/* artifact:versions: every version, newest first, and the stages. */
cf_err	cf_core_art_versions(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, json_t **out,
	    struct cf_error *err);
/* artifact:versions: the stages and their history. */
cf_err	cf_core_art_stages(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, json_t **out,
	    struct cf_error *err);
/* artifact:meta-set: changes as for labels (name: string or null). */
cf_err	cf_core_art_meta_set(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, const char *sel,
	    const json_t *changes, json_t **out, struct cf_error *err);
/* artifact:set-sensitivity: raising needs the action; lowering needs a
 * global admin with fresh MFA and a reason; never below the
 * namespace's. */
cf_err	cf_core_art_set_sensitivity(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, const char *sel,
	    const char *level, const char *reason, json_t **out,
	    struct cf_error *err);
/* version:set-stage: point stage at the version sel names; sel NULL:
 * remove the stage. */
cf_err	cf_core_art_stage_set(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, const char *stage,
	    const char *sel, json_t **out, struct cf_error *err);
/* artifact:lineage: direction "up", "down" or "both" (NULL); max_depth
 * 0: the most (64). */
cf_err	cf_core_art_lineage(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *name, const char *sel,
	    const char *direction, int max_depth, json_t **out,
	    struct cf_error *err);

/* --- S3 (core/ops_s3.c; docs/s3.md) --- */

/* Access keys of principal (NULL: the caller), as tokens: oneself and
 * owned service accounts without admin, others with admin and MFA (the
 * grant rule).  expires_in: seconds, 0 for none.  *out of create:
 * {access_key_id, secret_access_key, principal, expires, description}:
 * the secret is shown this once. */
cf_err	cf_core_s3key_create(struct cf_core *c, struct cf_req *r,
	    const char *principal, uint64_t expires_in,
	    const char *description, json_t **out, struct cf_error *err);
cf_err	cf_core_s3key_list(struct cf_core *c, struct cf_req *r,
	    const char *principal, json_t **out, struct cf_error *err);
cf_err	cf_core_s3key_revoke(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);

/* Bucket policies (core/ops_s3_policy.c; docs/s3.md, "Bucket
 * policies"): the IAM JSON json[0..len) compiled into namespace ns's
 * policy set "s3-bucket-policy" (policy:set of ns; MFA unless the
 * change only takes access away), its JSON (policy:get; *json is the
 * caller's, cf_free), its removal (policy:rm; none in force: CF_OK).
 * r->errcode: malformed_policy (CF_E_INPUT, the message names the
 * element), no_such_namespace, no_such_bucket_policy (CF_E_NOTFOUND),
 * mfa_required (CF_E_AUTH), and those of cf_core_policy_set. */
cf_err	cf_core_s3_policy_put(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *json, size_t len,
	    struct cf_error *err);
cf_err	cf_core_s3_policy_get(struct cf_core *c, struct cf_req *r,
	    const char *ns, char **json, struct cf_error *err);
cf_err	cf_core_s3_policy_delete(struct cf_core *c, struct cf_req *r,
	    const char *ns, struct cf_error *err);
/* The owner of a bucket (its creator), for S3's owner-only ACLs: of the
 * bucket (key NULL or ""; ns:get, or policy:get with put) or of an
 * object version (version_id NULL: the latest; object:head, or
 * object:put with put), which must exist. */
cf_err	cf_core_s3_acl(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *version_id, bool put,
	    char owner[CF_PRINCIPAL_MAX], struct cf_error *err);

/* A SigV4-signed request as the front end parsed it (server/sigv4.h
 * builds string_to_sign from the canonical request).  All borrowed. */
struct cf_s3_auth {
	const char	*key_id;	/* the credential's access key id */
	const char	*date;		/* its scope date, YYYYMMDD */
	const char	*region;
	const char	*service;	/* "s3" */
	const char	*string_to_sign;
	const char	*signature;	/* 64 hex digits */
	int64_t		 signed_at;	/* X-Amz-Date, seconds since 1970 */
	int64_t		 expires;	/* presigned: X-Amz-Expires; -1:
					 * the Authorization header */
	const char	*amz_date;	/* X-Amz-Date as sent (chain) */
	/* Non-NULL: on success, *chain gets the verifier of the body's
	 * chunk signatures (cf_s3_chain_next), seeded with signature. */
	struct cf_s3_chain **chain;
};
enum cf_s3_authn {
	CF_S3_AUTHN_OK,
	CF_S3_AUTHN_UNKNOWN_KEY,	/* InvalidAccessKeyId */
	CF_S3_AUTHN_INACTIVE,		/* revoked, expired, principal or
					 * owner disabled: InvalidAccessKeyId */
	CF_S3_AUTHN_BAD_SIGNATURE,	/* SignatureDoesNotMatch */
	CF_S3_AUTHN_SKEWED,		/* RequestTimeTooSkewed */
	CF_S3_AUTHN_EXPIRED		/* a presigned URL past its time */
};
#define CF_S3_SKEW_S		900	/* clock skew allowed, seconds */
#define CF_S3_PRESIGN_MAX_S	604800	/* X-Amz-Expires at most (7 days) */
/* Verify a's signature with the key's secret (constant time) and, if it
 * holds and the key, its principal and the time are all good, make r
 * authenticated as the key's principal (authn "s3-sigv4" or
 * "s3-presigned").  *res says what failed (r->authn too); CF_OK with
 * *res != CF_S3_AUTHN_OK is a refusal, another return a failure to
 * decide (fail closed).  The time is the core's clock (clock_us). */
cf_err	cf_core_s3_authenticate(struct cf_core *c, struct cf_req *r,
	    const struct cf_s3_auth *a, enum cf_s3_authn *res,
	    struct cf_error *err) __attribute__((warn_unused_result));
/* S3 multipart uploads (core/ops_multipart.c).  Every step is an
 * object:put of the key (ListMultipartUploads: object:list of the
 * namespace); the upload id names the upload: the time it was begun
 * (12 hex digits of milliseconds, so that the ids of a key's uploads
 * sort in the order they were begun, as S3 lists them) then 80 random
 * bits.  Parts
 * are streamed uploads like any (cf_core_put_write/finish), encrypted
 * each under a data key of its own; completing makes them, in order,
 * the segments of one version (by reference: no byte copied;
 * docs/internals/STORE.md, "Segments") whose ETag is the MD5 of the
 * parts' MD5s and "-N".  Uploads older than
 * s3_multipart_expiry are invisible and removed on the next multipart
 * request (the core's clock).  r->errcode on a refusal: no_such_upload,
 * invalid_part, invalid_part_order, entity_too_small, too_many_parts. */
#define CF_MP_PARTS_MAX	10000
#define CF_MP_PART_MIN	(5u << 20)	/* bytes; not for the last part */
/* ck_alg, ck_type: S3's x-amz-checksum-algorithm and -type (NULL:
 * none; any case): the checksum every part carries and the object gets,
 * COMPOSITE (CRC32, CRC32C, SHA1, SHA256; the default but for
 * CRC64NVME) or FULL_OBJECT (CRC32, CRC32C, CRC64NVME; CRC64NVME's
 * default); another value, a type without an algorithm or a pair S3
 * does not allow is CF_E_INPUT, r->errcode "invalid_request".  *out:
 * {"upload_id", "checksum_algorithm", "checksum_type"} (upper case as
 * S3 spells them; "" for none). */
cf_err	cf_core_mp_create(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *content_type,
	    const char *content_encoding, const char *meta_json,
	    const char *ck_alg, const char *ck_type, json_t **out,
	    struct cf_error *err);
/* Begin part number (1..CF_MP_PARTS_MAX) of upload_id; finish gives
 * {"md5", "part_number", "size"}.  ck_alg: the checksum algorithm the
 * request carries (NULL: none); another than the upload declared is
 * CF_E_INPUT, r->errcode "invalid_request". */
cf_err	cf_core_mp_part_begin(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *upload_id,
	    int64_t number, int64_t content_length, const char *ck_alg,
	    struct cf_put **out, struct cf_error *err);
struct cf_mp_want {
	int64_t	number;
	char	etag[48];	/* as the client sent it, quotes removed */
	/* the part's checksum as the client has it, "alg:BASE64"; "": not
	 * given.  One that is not the part's (when the part has one) is
	 * invalid_part. */
	char	checksum[CF_CHECKSUM_TEXT_MAX];
};
/* want[0..n): the parts, ascending; *out as an upload's finish gives,
 * with "checksum" (the object's, "ALG:BASE64[-N]", or "").  expect:
 * the object's checksum the client expects ("alg:BASE64[-N]"; NULL:
 * none), expect_type its type ("COMPOSITE", "FULL_OBJECT"; NULL: any):
 * one that is not the object's is CF_E_INPUT, r->errcode "bad_digest",
 * nothing stored. */
cf_err	cf_core_mp_complete(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *upload_id,
	    const struct cf_mp_want *want, size_t n, const char *expect,
	    const char *expect_type, json_t **out, struct cf_error *err);
cf_err	cf_core_mp_abort(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *upload_id, json_t **out,
	    struct cf_error *err);
/* The parts numbered above marker, at most max (0..1000) of them:
 * {"parts": [{"number", "md5", "size", "created", "checksum"
 * ("ALG:BASE64" or "")}], "created_by", "truncated" (more after these),
 * "next" (the last number listed, or marker), "checksum_algorithm",
 * "checksum_type" (the upload's, as cf_core_mp_create's)}. */
cf_err	cf_core_mp_parts(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *upload_id, int64_t marker,
	    size_t max, json_t **out, struct cf_error *err);
/* ListMultipartUploads' page: the uploads in progress by key, then by
 * upload id (the order they were begun in), those with a key starting
 * with prefix (NULL: any), after key_marker (with upload_id_marker:
 * also those of key_marker whose id sorts after it); with a delimiter
 * (NULL or "": none), keys with it after the prefix are rolled up into
 * one common prefix each, which counts as one entry.  At most max
 * (0..1000) entries.  *out: {"uploads": [{"key", "upload_id",
 * "created", "created_by"}], "prefixes": [...], "truncated",
 * "next_key", "next_upload_id" (the last entry listed; "" after a
 * prefix)}. */
struct cf_mp_page {
	const char	*prefix;
	const char	*delimiter;
	const char	*key_marker;
	const char	*upload_id_marker;
	size_t		 max;
};
cf_err	cf_core_mp_uploads(struct cf_core *c, struct cf_req *r,
	    const char *ns, const struct cf_mp_page *pg, json_t **out,
	    struct cf_error *err);
/* The source of a copy (CopyObject, UploadPartCopy).
 * UploadPartCopy (core/ops_partcopy.c): part number of upload_id of
 * ns/key taken from bytes [first, last] (all when !ranged) of a version
 * of another object, server-side.  Two decisions, as CopyObject's: the
 * source is read (object:get, decided and recorded on its own with the
 * request's id, first), then the part is an upload like any
 * (object:put, cf_core_mp_part_begin; decrypted and sealed again under
 * a data key of its own).  When the source is refused, missing, out of
 * range (r->errcode "invalid_range") or fails a condition
 * ("precondition_failed", CF_E_INPUT) that decision is r's: the
 * request's record.  if_match / if_none_match: NULL, "*" or a list of
 * ETags (quoted or not) compared with the source's.  *out: {"md5",
 * "part_number", "size", "source_version_id", "created"}. */
struct cf_copy_src {
	const char	*ns;
	const char	*key;
	const char	*version_id;	/* NULL: the latest */
	bool		 ranged;
	uint64_t	 first, last;	/* inclusive, when ranged */
	struct cf_cond	 cond;		/* on the source version */
};
cf_err	cf_core_mp_part_copy(struct cf_core *c, struct cf_req *r,
	    const struct cf_copy_src *src, const char *ns, const char *key,
	    const char *upload_id, int64_t number, json_t **out,
	    struct cf_error *err);

/* The chunk signatures of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
 * body: each is the HMAC, under the request's signing key, of
 * "AWS4-HMAC-SHA256-PAYLOAD" (or "-TRAILER"), the request time, the
 * scope, the previous signature (the request's own first) and the hash
 * of its chunk (after the hash of "" for a chunk).  The signing key
 * stays inside (locked memory, wiped by free). */
struct cf_s3_chain;
/* Is sig (64 hex) the next signature?  If so it becomes the previous
 * one.  SEC: constant-time comparison. */
bool	cf_s3_chain_next(struct cf_s3_chain *ch, bool trailer,
	    const uint8_t hash[32], const char *sig)
	    __attribute__((warn_unused_result));
void	cf_s3_chain_free(struct cf_s3_chain *ch);	/* NULL: no-op */
/* A chain for a's request (a->amz_date, date, region, service and
 * signature, its seed) under signing key skey (copied): made by
 * cf_core_s3_authenticate; exposed for the unit tests. */
cf_err	cf_s3_chain_new(const struct cf_s3_auth *a, const uint8_t skey[32],
	    struct cf_s3_chain **out, struct cf_error *err);

/* The SigV4 signing key for (secret, date, region, service): HMAC chain
 * of AWS's "Signature Version 4" (exposed for the unit tests, which use
 * AWS's documented example). */
cf_err	cf_s3_signing_key(const char *secret, size_t slen, const char *date,
	    const char *region, const char *service, uint8_t out[32],
	    struct cf_error *err);

/* --- share links (core/ops_share.c; docs/sharing.md).  r->errcode
 * names the API error: invalid_name, invalid_cidr, invalid_password,
 * invalid_recipient, lifetime_too_long (CF_E_INPUT); no_such_namespace,
 * no_such_key, no_such_version, no_such_link (CF_E_NOTFOUND). --- */
struct cf_share_params {
	const char	*ns;
	const char	*key;
	const char	*version_id;	/* NULL: the latest version */
	uint64_t	 expires_in;	/* seconds; 0: share_default_lifetime */
	int64_t		 max_downloads;	/* 0: no limit */
	const char	*allow_ip;	/* address or prefix; NULL: any */
	const char	*password;	/* NULL: none (borrowed, not kept) */
	size_t		 pwlen;
	const char	*recipient;	/* a note for the record; NULL */
};
/* object:share (and object:get) of the version: a new link whose token
 * is in *out ("token", "path", and "url" with share_url_base) this once;
 * only its hash is kept. */
cf_err	cf_core_share_create(struct cf_core *c, struct cf_req *r,
	    const struct cf_share_params *p, json_t **out,
	    struct cf_error *err);
/* share:list: one's own links, or (admin) every link. */
cf_err	cf_core_share_list(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* share:revoke: one's own link, or (admin) any. */
cf_err	cf_core_share_revoke(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* object:share (and object:get) of the latest version of ns/key, to the
 * principal `to` for for_s seconds (1 to a link's maximum lifetime for
 * the data): a policy set share-grant.<id> of ns permitting object:get
 * and object:head on that object to `to` until then (docs/sharing.md).
 * *out {id, ns, key, to, expires, creator, created}. */
cf_err	cf_core_share_grant(struct cf_core *c, struct cf_req *r,
	    const char *ns, const char *key, const char *to, uint64_t for_s,
	    json_t **out, struct cf_error *err);
/* share:list: one's own grants, or (admin) every grant: {grants:[..]}. */
cf_err	cf_core_share_grant_list(struct cf_core *c, struct cf_req *r,
	    json_t **out, struct cf_error *err);
/* share:revoke: one's own grant, or (admin) any: its set removed. */
cf_err	cf_core_share_grant_revoke(struct cf_core *c, struct cf_req *r,
	    const char *id, json_t **out, struct cf_error *err);
/* share:download, for anyone holding the link (no credential): the link
 * is checked (lifetime, downloads left, address, password), its creator's
 * read of the version decided again now, the download counted and
 * recorded (r->audited: the front end records nothing more unless its
 * answer then fails), and *out opened for reading.  password NULL: none
 * given.  r->errcode: no_such_link (CF_E_NOTFOUND), link_expired,
 * link_used_up, link_revoked (CF_E_DENIED, answered 410),
 * address_not_allowed (CF_E_DENIED), password_required, wrong_password
 * (CF_E_AUTH), too_many_attempts (CF_E_LIMIT, r->retry_after). */
cf_err	cf_core_share_open(struct cf_core *c, struct cf_req *r,
	    const char *token, const char *password, size_t pwlen,
	    struct cf_get **out, struct cf_error *err);

/* --- privacy (core/ops_privacy.c; docs/privacy.md).  r->errcode on a
 * refusal: held and retention (CF_E_CONFLICT), no_such_hold,
 * no_such_namespace, no_such_key (CF_E_NOTFOUND), already_erased
 * (CF_E_CONFLICT), mfa_required. --- */
/* Admin with MFA (hold:set): hold ns, or key of ns and everything under
 * key/ (key NULL or ""), for reason (1-512 bytes). */
cf_err	cf_core_hold_set(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *reason, json_t **out,
	    struct cf_error *err);
/* Admin with MFA (hold:rm). */
cf_err	cf_core_hold_rm(struct cf_core *c, struct cf_req *r, const char *id,
	    json_t **out, struct cf_error *err);
/* Admin (hold:list): {holds: [...]}. */
cf_err	cf_core_hold_list(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);
/* Admin with MFA (ns:set-retention): days 0..CF_RETAIN_DAYS_MAX. */
cf_err	cf_core_ns_set_retention(struct cf_core *c, struct cf_req *r,
	    const char *ns, int64_t days, json_t **out, struct cf_error *err);
/* privacy:erase (admin with MFA, or a policy; the grant rule always):
 * crypto-shred key of ns (version_id NULL: every version; for an
 * artifact, artnum 0: every version), with derived the versions
 * downstream in lineage.  dry_run: only the list.  *out: {erasure_id,
 * versions: [...], certificate} (or {dry_run, versions}). */
cf_err	cf_core_erase(struct cf_core *c, struct cf_req *r, const char *ns,
	    const char *key, const char *version_id, int64_t artnum,
	    const char *reason, bool derived, bool dry_run, json_t **out,
	    struct cf_error *err);
/* privacy:key (any principal): {alg, public_key} of the certificates. */
cf_err	cf_core_erasure_key(struct cf_core *c, struct cf_req *r, json_t **out,
	    struct cf_error *err);

/* --- the purge job and the privacy report (core/ops_purge.c;
 * docs/privacy.md) --- */
/* Admin with MFA (ns:set-retention, as retain_days): purge non-current
 * versions of ns older than days (0: never), 0..CF_PURGE_DAYS_MAX. */
cf_err	cf_core_ns_set_purge(struct cf_core *c, struct cf_req *r,
	    const char *ns, int64_t days, json_t **out, struct cf_error *err);
/* One pass of the purge job now (the server runs it at start-up and
 * every purge_interval seconds); *purged (nullable) gets how many
 * versions it purged. */
cf_err	cf_core_purge_run(struct cf_core *c, uint64_t *purged,
	    struct cf_error *err);
/* Admin (privacy:report): personal data in ns (NULL: all) with its
 * lineage, retention, holds and the accesses the audit log records
 * from since_us to until_us (the last `records` records read at most),
 * at most limit rows.  since/until: "YYYY-MM-DD" or RFC 3339 (NULL:
 * 30 days ago, now).  r->errcode bad_request on bad arguments. */
struct cf_privacy_report_args {
	const char	*ns;
	const char	*since;
	const char	*until;
	uint64_t	 limit;		/* 0: 1000 */
	uint64_t	 records;	/* 0: 100000 */
};
cf_err	cf_core_privacy_report(struct cf_core *c, struct cf_req *r,
	    const struct cf_privacy_report_args *a, json_t **out,
	    struct cf_error *err);

/* store:backup (admin with MFA): a consistent copy of the metadata
 * (SQLite online backup), the sealed keyring, keys.carry, id and tls/
 * into the new directory dest (a name in cfg.backup_dir, or an absolute
 * path directly in it), with backup.json written last; never a
 * plaintext key, never the master key, not the blobs.  CF_E_CONFLICT
 * when backups are off (errcode backup_disabled) or dest exists
 * (backup_exists); CF_E_INPUT for another dest.  *out: {dir,
 * created_us, created_at, files}. */
cf_err	cf_core_backup(struct cf_core *c, struct cf_req *r, const char *dest,
	    json_t **out, struct cf_error *err);

/* `coffer erase --replay-on DIR --from SRC` (offline, no server on DIR):
 * every erasure SRC's metadata records (SRC: the live data directory,
 * or a newer backup of it) whose versions still have their data keys in
 * the restored data directory DIR is applied there as the live server
 * applied it: wrapped keys zeroed, user metadata and blob ids cleared,
 * the same tombstones and certificate; every blob those erasures named
 * is deleted from DIR/blobs if present.  One audit record per erasure
 * in DIR's audit log (principal who, action privacy:erase, reasons
 * replay).  master: DIR's master key (borrowed; it gives the audit MAC
 * key).  *out: {restored, from, erasures, versions, blobs_deleted,
 * already}. */
struct cf_key;
cf_err	cf_core_erase_replay(const char *dir, const char *src,
	    const struct cf_key *master, const char *who, json_t **out,
	    struct cf_error *err);

#endif
