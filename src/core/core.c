/* src/core/core.c: opening a data directory (initializing an empty one)
 * and the small operations. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/testhook.h"
#include "base/timeutil.h"
#include "core/core_int.h"
#include "core/datadir.h"

static cf_err
mkdir_p0700(const char *path, struct cf_error *err)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cf_error_sys(err, CF_E_IO, "mkdir %s", path);
	return CF_OK;
}

/* Warn about parts of the data directory that group or others may
 * access: Coffer creates them 0700/0600, but a restore or a hand-made
 * copy may not keep that (docs/operations.md, "Backups").  The contents
 * are ciphertext, yet the metadata (names, token hashes) and the audit
 * log are not; a warning, not a refusal, as with the directory modes of
 * sshd's StrictModes it would lock out a running service on restart. */
static void
warn_modes(const char *dir)
{
	static const char *const parts[] = {
		"", CF_DD_KEYRING, CF_DD_META, CF_DD_AUDIT, "blobs",
		CF_DD_TLS_KEY, CF_DD_BOOTSTRAP,
	};
	struct cf_error	e;
	struct stat	st;
	char		path[4096];
	size_t		i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i][0] == '\0')
			(void)cf_strlcpy(path, dir, sizeof(path));
		else if (cf_dd_path(dir, parts[i], path, sizeof(path), &e) !=
		    CF_OK)
			continue;
		if (stat(path, &st) != 0 || (st.st_mode & 077) == 0)
			continue;
		log_warnx("event=insecure_mode path=%s mode=%04o msg=\"group "
		    "or others may access it: chmod go-rwx\"", path,
		    (unsigned)(st.st_mode & 07777));
	}
}

/* Write the bootstrap token file (0600, O_EXCL) and fsync it. */
static cf_err
write_secret_file(const char *path, const char *secret, struct cf_error *err)
{
	int	fd = -1;
	size_t	n = strlen(secret), off = 0;
	ssize_t	w;
	cf_err	rc = CF_OK;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return cf_error_sys(err, CF_E_IO, "create %s", path);
	while (off < n) {
		w = write(fd, secret + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = cf_error_sys(err, CF_E_IO, "write %s", path);
			goto out;
		}
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		rc = cf_error_sys(err, CF_E_IO, "write %s", path);
out:
	(void)close(fd);
	if (rc != CF_OK)
		(void)unlink(path);
	return rc;
}

static cf_err
bootstrap(struct cf_core *c, char bootstrap_path[4096], struct cf_error *err)
{
	struct cf_principal_rec	p;
	struct cf_token_rec	tok;
	char			token[CF_TOKEN_STR_MAX];
	cf_err			rc;

	if (cf_meta_principal_count(c->meta) > 0)
		return CF_OK;
	memset(&p, 0, sizeof(p));
	cf_strlcpy(p.name, "admin", sizeof(p.name));
	cf_strlcpy(p.kind, "user", sizeof(p.kind));
	/* SEC: the bootstrap credential is a session of the admin user, not
	 * an API token: it expires (bootstrap_ttl), and like any session
	 * without MFA it can do little but set the admin's password and
	 * enroll MFA (mfa_admin_actions and the grant rule).  Whoever
	 * starts the server first thus binds the admin account to their
	 * own second factor before it can create anyone or grant anything;
	 * a copy of the file taken later has expired or is a session that
	 * still needs that factor. */
	rc = core_token_make(0, "session", (uint64_t)(c->cfg.bootstrap_ttl > 0 ?
	    c->cfg.bootstrap_ttl : 86400), "bootstrap", 0, NULL, &tok, token,
	    err);
	if (rc != CF_OK)
		return rc;
	/* The admin, its binding and the session in one transaction, only
	 * on a store without principals; no request, so no audit record
	 * (store/meta.h): the log line and the file say what happened. */
	rc = cf_meta_bootstrap(c->meta, &p, "admin", &tok, err);
	if (rc == CF_E_CONFLICT) {
		/* Another process bootstrapped meanwhile. */
		cf_wipe(token, sizeof(token));
		cf_error_clear(err);
		return CF_OK;
	}
	if (rc != CF_OK) {
		cf_wipe(token, sizeof(token));
		return rc;
	}
	log_info("event=bootstrap principal=%s session=%s", p.name, tok.id);
	rc = cf_dd_path(c->data_dir, CF_DD_BOOTSTRAP, bootstrap_path, 4096,
	    err);
	if (rc == CF_OK)
		rc = write_secret_file(bootstrap_path, token, err);
	cf_wipe(token, sizeof(token));
	if (rc != CF_OK)
		bootstrap_path[0] = '\0';
	return rc;
}

void
core_bootstrap_spent(struct cf_core *c)
{
	char	path[4096];

	if (cf_dd_path(c->data_dir, CF_DD_BOOTSTRAP, path, sizeof(path),
	    NULL) != CF_OK)
		return;
	if (unlink(path) == 0)
		log_info("event=bootstrap_spent msg=\"the bootstrap session "
		    "was replaced or ended; %s removed\"", path);
	else if (errno != ENOENT)
		log_warn("event=bootstrap_unlink_failed path=%s", path);
}

/* SEC: the bootstrap file is not left on disk once its session is of no
 * use (expired, revoked, or replaced at MFA enrollment): a copy of the
 * data directory then holds no credential. */
static void
bootstrap_sweep(struct cf_core *c)
{
	struct cf_token_rec	tok;
	char			path[4096], buf[CF_TOKEN_STR_MAX + 2];
	uint8_t			h[CF_SHA256_LEN];
	ssize_t			n;
	int			fd;
	bool			live = false;
	cf_err			rc;

	if (cf_dd_path(c->data_dir, CF_DD_BOOTSTRAP, path, sizeof(path),
	    NULL) != CF_OK)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		cf_sha256(buf, strlen(buf), h);
		memset(&tok, 0, sizeof(tok));
		rc = cf_meta_token_find(c->meta, h, &tok, NULL);
		/* Only a token known to be dead removes the file: a lookup
		 * that fails keeps it (the admin's only way in). */
		live = rc != CF_E_NOTFOUND && (rc != CF_OK ||
		    (tok.revoked_us == 0 && (tok.expires_us == 0 ||
		    tok.expires_us > cf_now_us())));
		cf_wipe(&tok, sizeof(tok));
		cf_wipe(h, sizeof(h));
	}
	cf_wipe(buf, sizeof(buf));
	if (!live)
		core_bootstrap_spent(c);
}

cf_err
cf_core_open(const struct cf_core_config *cfg, struct cf_core **out,
    char bootstrap_path[4096], struct cf_error *err)
{
	struct cf_core	*c = NULL;
	struct cf_key	*master = NULL, *audit_key = NULL;
	const char	*env;
	char		 path[4096];
	bool		 created = false;
	cf_err		 rc;

	bootstrap_path[0] = '\0';
	c = cf_calloc(1, sizeof(*c));
	if (c == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	c->cfg = *cfg;
	if (pthread_mutex_init(&c->kr_lock, NULL) != 0) {
		cf_free(c);
		return cf_error_set(err, CF_E_INTERNAL, "mutex init");
	}
	if (pthread_rwlock_init(&c->kek_lock, NULL) != 0) {
		(void)pthread_mutex_destroy(&c->kr_lock);
		cf_free(c);
		return cf_error_set(err, CF_E_INTERNAL, "rwlock init");
	}
	if (cf_strlcpy(c->data_dir, cfg->data_dir, sizeof(c->data_dir)) >=
	    sizeof(c->data_dir) - 64) {
		rc = cf_error_set(err, CF_E_LIMIT,
		    "data directory path too long");
		goto out;
	}
	c->cfg.data_dir = c->data_dir;
	if (c->cfg.orphan_grace <= 0)
		c->cfg.orphan_grace = 3600;
	if (c->cfg.request_memory_budget == 0)
		c->cfg.request_memory_budget = 256u << 20;
	if (c->cfg.breakglass_max <= 0)
		c->cfg.breakglass_max = 14400;
	if (c->cfg.promotion_ttl <= 0)
		c->cfg.promotion_ttl = 604800;
	env = cf_test_hook("COFFER_TEST_CRASH");
	if (env != NULL)
		(void)cf_strlcpy(c->crash_point, env, sizeof(c->crash_point));
	rc = core_net_open(c, err);
	if (rc != CF_OK)
		goto out;
	rc = mkdir_p0700(c->data_dir, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_dd_master_key(c->data_dir, cfg->master_key_file, true, &master,
	    &created, path, sizeof(path), err);
	if (rc != CF_OK)
		goto out;
	if (created)
		log_info("event=init msg=\"created master key\" key=%s",
		    path);
	rc = core_keys_open(&c->cfg, c->data_dir, master, true, &c->kp, err);
	if (rc != CF_OK)
		goto out;
	log_info("event=key_provider provider=%s", cf_keyprov_name(c->kp));
	rc = cf_dd_path(c->data_dir, CF_DD_META, path, sizeof(path), err);
	if (rc != CF_OK)
		goto out;
	rc = cf_meta_open(path, &c->meta, err);
	if (rc != CF_OK)
		goto out;
	rc = core_metrics_open(c, err);
	if (rc != CF_OK)
		goto out;
	rc = core_authz_open(c, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_membudget_new(c->cfg.request_memory_budget, &c->mb, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_blobstore_open(c->data_dir, &c->blobs, err);
	if (rc != CF_OK)
		goto out;
	cf_blobstore_set_budget(c->blobs, c->mb);
	/* Derived from the master key, or carried over its rotations. */
	rc = cf_dd_derived_keys(c->data_dir, master, &audit_key,
	    &c->erase_seed, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_audit_open(c->data_dir, audit_key, &c->audit, err);
	if (rc != CF_OK)
		goto out;
	rc = core_alerts_open(c, err);
	if (rc != CF_OK)
		goto out;
	rc = core_anom_open(c, err);
	if (rc != CF_OK)
		goto out;
	rc = core_identity_open(c, err);
	if (rc != CF_OK)
		goto out;
	rc = bootstrap(c, bootstrap_path, err);
	if (rc == CF_OK && bootstrap_path[0] == '\0')
		bootstrap_sweep(c);
	if (rc == CF_OK)
		warn_modes(c->data_dir);
	/* Before serving: orphan blobs a crash left (audited). */
	if (rc == CF_OK)
		rc = core_orphans_open(c, err);
	/* Before serving too: expired versions the purge rule reaches
	 * (audited, one record each). */
	if (rc == CF_OK)
		rc = core_purge_open(c, err);
	/* A rewrap a crash or a restart interrupted goes on at once. */
	if (rc == CF_OK)
		rc = core_keys_start(c, err);
	if (rc == CF_OK && !c->cfg.keys_no_thread)
		rc = core_keys_run(c, err);
out:
	cf_key_free(audit_key);
	cf_key_free(master);	/* SEC: the master key is not kept */
	if (rc != CF_OK) {
		cf_core_close(c);
		return rc;
	}
	*out = c;
	return CF_OK;
}

void
cf_core_close(struct cf_core *c)
{
	if (c == NULL)
		return;
	core_keys_close(c);
	core_purge_close(c);
	core_orphans_close(c);
	core_anom_close(c);
	core_alerts_close(c);
	core_identity_close(c);
	cf_audit_close(c->audit);
	cf_blobstore_close(c->blobs);
	cf_membudget_free(c->mb);
	core_authz_close(c);
	core_metrics_close(c);
	cf_meta_close(c->meta);
	cf_keyprov_close(c->kp);
	cf_key_free(c->erase_seed);
	(void)pthread_mutex_destroy(&c->kr_lock);
	(void)pthread_rwlock_destroy(&c->kek_lock);
	core_net_close(c);
	cf_free(c);
}

void
cf_core_config_defaults(struct cf_core_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_object_size = 1ULL << 40;
	cfg->max_json_body = 65536;
	cfg->request_memory_budget = 256u << 20;
	cfg->session_ttl = 43200;
	cfg->bootstrap_ttl = 86400;
	cfg->password_min_length = 12;
	cfg->pwhash_memory = 19u * 1024 * 1024;
	cfg->pwhash_ops = 2;
	cfg->auth_free_failures = 3;
	cfg->auth_lock_failures = 10;
	cfg->auth_lock_seconds = 900;
	cfg->mfa_admin_actions = true;
	cfg->anomaly_detection = true;
	cfg->anomaly_rebuild_records = 1000000;
	cfg->mfa_restricted_data = true;
	cfg->mfa_max_age_admin = 900;
	cfg->mfa_max_age_restricted = 900;
	cfg->mfa_max_age_flagged = 43200;
	cfg->oidc_username_claim = "preferred_username";
	cfg->oidc_groups_claim = "groups";
	cfg->oidc_skew = 60;
	cfg->oidc_jwks_min_refresh = 60;
	cfg->orphan_grace = 3600;
	cfg->orphan_interval = 3600;
	cfg->purge_interval = 3600;
	cfg->breakglass_max = 14400;
	cfg->promotion_approvals_staging = 1;
	cfg->promotion_approvals_prod = 2;
	cfg->promotion_ttl = 604800;
	cfg->share_default_lifetime = 86400;
	cfg->share_max_lifetime[0] = 30 * 86400;
	cfg->share_max_lifetime[1] = 7 * 86400;
	cfg->share_max_lifetime[2] = 86400;
	cfg->share_max_lifetime[3] = 86400;
	cfg->share_guess_limit = 20;
	cfg->share_guess_lock_seconds = 900;
}

cf_err
core_token_make(int64_t principal_id, const char *kind, uint64_t expires_in,
    const char *description, int64_t mfa_at_us, const char *scope,
    struct cf_token_rec *rec, char token[CF_TOKEN_STR_MAX],
    struct cf_error *err)
{
	uint8_t		 raw[CF_TOKEN_RAW_LEN], id[CF_TOKEN_ID_LEN / 2];
	const char	*prefix;
	cf_err		 rc;

	memset(rec, 0, sizeof(*rec));
	prefix = strcmp(kind, "session") == 0 ? CF_SESSION_PREFIX :
	    CF_TOKEN_PREFIX;
	if (scope != NULL && strlen(scope) >= sizeof(rec->scope))
		return cf_error_set(err, CF_E_INPUT, "scope too large");
	rc = cf_random(raw, sizeof(raw), err);
	if (rc == CF_OK)
		rc = cf_random(id, sizeof(id), err);
	if (rc != CF_OK)
		goto out;
	memcpy(token, prefix, 4);
	cf_b64url_encode(raw, sizeof(raw), token + 4);
	cf_strlcpy(rec->kind, kind, sizeof(rec->kind));
	rec->mfa_at_us = mfa_at_us;
	cf_strlcpy(rec->scope, scope != NULL ? scope : "", sizeof(rec->scope));
	cf_hex_encode(id, sizeof(id), rec->id);
	rec->principal_id = principal_id;
	cf_sha256(token, strlen(token), rec->hash);
	cf_strlcpy(rec->description, description != NULL ? description : "",
	    sizeof(rec->description));
	rec->created_us = cf_now_us();
	if (expires_in > 0)
		rec->expires_us = rec->created_us +
		    (int64_t)expires_in * 1000000;
out:
	cf_wipe(raw, sizeof(raw));
	if (rc != CF_OK)
		cf_wipe(token, CF_TOKEN_STR_MAX);
	return rc;
}

cf_err
core_token_mint(struct cf_core *c, struct core_act *act,
    int64_t principal_id, const char *kind, uint64_t expires_in,
    const char *description, int64_t mfa_at_us, const char *scope,
    struct cf_token_rec *rec, char token[CF_TOKEN_STR_MAX],
    struct cf_error *err)
{
	cf_err	rc;

	rc = core_token_make(principal_id, kind, expires_in, description,
	    mfa_at_us, scope, rec, token, err);
	if (rc == CF_OK)
		rc = cf_meta_token_insert(c->meta, &act->au, rec, err);
	if (rc != CF_OK)
		cf_wipe(token, CF_TOKEN_STR_MAX);
	return rc;
}

cf_err
cf_core_metrics(struct cf_core *c, struct cf_req *r,
    const struct cf_metrics_extra *x, struct cf_buf *out,
    struct cf_error *err)
{
	cf_err	rc;

	rc = core_authorize(c, r, "metrics:read", NULL, "metrics", err);
	if (rc != CF_OK)
		return rc;
	return core_metrics_render(c, x, out, err);
}

cf_err
cf_core_health(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	json_t	*j;
	cf_err	 rc;

	/* Health needs no authentication; it is still audited. */
	rc = core_authorize_open(c, r, "health", "service", true, err);
	if (rc != CF_OK)
		return rc;
	j = json_pack("{s:s,s:s}", "status", "ok", "version", "0.1.0");
	if (j == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	*out = j;
	return CF_OK;
}

/* SEC: the budget bounds what request bodies and transfer buffers hold
 * together, whatever the connection limits: a reservation that would go
 * over it fails at once (compare-and-swap, no waiting). */
bool
cf_core_mem_reserve(struct cf_core *c, uint64_t n)
{
	return cf_membudget_reserve(c->mb, n);
}

void
cf_core_mem_release(struct cf_core *c, uint64_t n)
{
	cf_membudget_release(c->mb, n);
}

void
cf_core_mem_refused(struct cf_core *c)
{
	(void)atomic_fetch_add_explicit(&c->mem_refused, 1,
	    memory_order_relaxed);
}
