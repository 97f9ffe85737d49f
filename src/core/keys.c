/* src/core/keys.c: the key provider of a data directory (crypto/
 * keyprov.h) and its operations: opening it from the configuration,
 * KEK rotation, the background rewrap of wrapped DEKs, status and
 * retirement.  docs/keys.md is the operator's guide. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/periodic.h"
#include "base/str.h"
#include "base/testhook.h"
#include "core/core_int.h"
#include "core/datadir.h"

#define PIN_MAX		256
#define ENV_PIN		"COFFER_PKCS11_PIN"

bool
core_keys_pkcs11(const struct cf_core_config *cfg)
{
	return cfg->key_provider != NULL &&
	    strcmp(cfg->key_provider, "pkcs11") == 0;
}

/* The token's PIN: pkcs11_pin_file (no access for group or others, one
 * line), else $COFFER_PKCS11_PIN, which is then wiped from the
 * environment.  SEC: never from the command line (ps shows it). */
static cf_err
read_pin(const char *file, char pin[PIN_MAX + 2], size_t *len,
    struct cf_error *err)
{
	struct stat	 st;
	char		*env;
	ssize_t		 n;
	int		 fd;

	if (file != NULL && file[0] != '\0') {
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return cf_error_sys(err, CF_E_IO, "pkcs11_pin_file %s",
			    file);
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (st.st_mode & 077) != 0) {
			(void)close(fd);
			return cf_error_set(err, CF_E_INPUT, "pkcs11_pin_file "
			    "%s must be a regular file without access for "
			    "group or others (chmod 600)", file);
		}
		n = read(fd, pin, PIN_MAX + 1);
		(void)close(fd);
		if (n < 0)
			return cf_error_sys(err, CF_E_IO, "read %s", file);
		pin[n] = '\0';
	} else if ((env = getenv(ENV_PIN)) != NULL && env[0] != '\0') {
		if (cf_strlcpy(pin, env, PIN_MAX + 2) > PIN_MAX)
			pin[PIN_MAX + 1] = '\0';
		/* The environment stays readable in /proc while we run. */
		cf_wipe(env, strlen(env));
		(void)unsetenv(ENV_PIN);
	} else
		return cf_error_set(err, CF_E_INPUT, "key_provider pkcs11: no "
		    "PIN (set pkcs11_pin_file or %s)", ENV_PIN);
	pin[strcspn(pin, "\r\n")] = '\0';
	*len = strlen(pin);
	if (*len == 0 || *len > PIN_MAX) {
		cf_wipe(pin, PIN_MAX + 2);
		return cf_error_set(err, CF_E_INPUT, "pkcs11 PIN: 1 to %d "
		    "bytes on one line", PIN_MAX);
	}
	return CF_OK;
}

cf_err
core_keys_open(const struct cf_core_config *cfg, const char *data_dir,
    const struct cf_key *master, bool create, struct cf_keyprov **out,
    struct cf_error *err)
{
	struct cf_keyprov_pkcs11_cfg	 pc;
	char				 path[4096], pin[PIN_MAX + 2];
	cf_err				 rc;

	*out = NULL;
	rc = cf_dd_path(data_dir, CF_DD_KEYRING, path, sizeof(path), err);
	if (rc != CF_OK)
		return rc;
	if (!core_keys_pkcs11(cfg)) {
		if (cfg->key_provider != NULL && cfg->key_provider[0] != '\0' &&
		    strcmp(cfg->key_provider, "file") != 0)
			return cf_error_set(err, CF_E_INPUT, "key_provider: "
			    "file or pkcs11");
		return cf_keyprov_file_open(path, master, create &&
		    access(path, F_OK) != 0, out, err);
	}
	memset(&pc, 0, sizeof(pc));
	if ((rc = read_pin(cfg->pkcs11_pin_file, pin, &pc.pinlen, err)) !=
	    CF_OK)
		return rc;
	pc.module = cfg->pkcs11_module;
	pc.token_label = cfg->pkcs11_token_label;
	pc.pin = pin;
	pc.legacy_keyring = path;
	pc.legacy_master = master;
	rc = cf_keyprov_pkcs11_open(&pc, cfg->key_init, out, err);
	cf_wipe(pin, sizeof(pin));
	return rc;
}

/* --- rotation, rewrap, status, retirement --- */

/* Wrapped keys rewrapped per transaction (and per audit record). */
#define REWRAP_BATCH		256
/* Seconds between looks at the schedule, and before a failed pass is
 * tried again. */
#define KEYS_TICK_S		3600
#define KEYS_RETRY_S		60
#define KEYS_KEKS_MAX		256

struct core_keys {
	/* the schedule's thread; NULL: none (yet, or keys_no_thread) */
	struct cf_periodic	*job;
	/* running, rewrapped, last_error, rotated_us */
	pthread_mutex_t		 mu;
	/* progress of the rewrap, for key status */
	bool			 running;
	uint64_t		 rewrapped;	/* since start */
	char			 last_error[CF_ERROR_MSG_LEN];
	size_t			 batch;	/* REWRAP_BATCH; tests: smaller */
	bool			 paused;	/* COFFER_TEST_REWRAP=off */
	/* COFFER_TEST_REWRAP_PAUSE_AFTER */
	uint64_t		 pause_after;
	int64_t			 rotated_us;	/* last rotation here,
						 * core clock */
};

/* A request of the system itself (no caller): for the records of the
 * rewrap and the scheduled rotation. */
static void
system_req(struct cf_req *r, const char *action, const char *resource)
{
	cf_req_init(r, "local");
	r->authenticated = true;
	r->authn = "internal";
	(void)cf_strlcpy(r->principal.name, "system",
	    sizeof(r->principal.name));
	r->action = action;
	r->allowed = true;
	(void)cf_strlcpy(r->resource, resource, sizeof(r->resource));
}

/* Rewrap one batch of b[0..n) under the active KEK and store it, with
 * one audit record (key:rewrap).  *done: rows changed. */
static cf_err
rewrap_batch(struct cf_core *c, struct cf_meta_wrapped *b,
    struct cf_meta_wrapped *nb, size_t n, size_t *done, struct cf_error *err)
{
	struct core_act	act;
	struct cf_req	r;
	char		ad[64], active[CF_KEK_ID_MAX];
	size_t		i;
	cf_err		rc = CF_OK;

	*done = 0;
	for (i = 0; i < n && rc == CF_OK; i++) {
		nb[i] = b[i];
		if (b[i].kind == CF_WRAPPED_S3KEY)
			core_s3key_ad(b[i].s3_key_id, b[i].principal_id, ad,
			    sizeof(ad));
		else if (b[i].kind == CF_WRAPPED_MFA)
			(void)snprintf(ad, sizeof(ad), "mfa:%lld",
			    (long long)b[i].principal_id);
		else if (b[i].kind == CF_WRAPPED_SEGMENT)
			(void)cf_segment_ad(b[i].version_id, b[i].seg_n, ad);
		else
			(void)cf_strlcpy(ad, b[i].version_id, sizeof(ad));
		rc = cf_keyprov_rewrap(c->kp, b[i].kek_id, ad, strlen(ad),
		    b[i].wrapped, nb[i].kek_id, nb[i].wrapped, err);
	}
	if (rc != CF_OK)
		goto out;
	cf_keyprov_active_id(c->kp, active);
	system_req(&r, "key:rewrap", "keys");
	(void)snprintf(r.reasons, sizeof(r.reasons), "rewrap,to=%s,count=%zu,"
	    "kind=%s", active, n, n == 0 ? "-" : b[0].kind == CF_WRAPPED_MFA ?
	    "mfa" : b[0].kind == CF_WRAPPED_S3KEY ? "s3_keys" :
	    b[0].kind == CF_WRAPPED_SEGMENT ? "segments" : "versions");
	rc = core_act_begin(&act, c, &r, 0, err);
	if (rc == CF_OK)
		rc = cf_meta_wrapped_replace(c->meta, &act.au, b, nb, n, done,
		    err);
	rc = core_act_end(&act, rc);
out:
	cf_wipe(nb, n * sizeof(*nb));
	return rc;
}

/* One pass: every wrapped key not under the active KEK moves to it.
 * Resumable by construction: the rows are the progress (a key already
 * moved is not found again), so a crash costs at most one batch, redone
 * (compare and set: a row changed meanwhile is skipped). */
static cf_err
rewrap_pass(struct cf_core *c, struct cf_periodic *job, struct cf_error *err)
{
	struct core_keys	*k = c->keys;
	struct cf_meta_wrapped	*b = NULL, *nb = NULL;
	char			 active[CF_KEK_ID_MAX];
	int64_t			 cursor;
	size_t			 n, done;
	uint64_t		 batches = 0;
	int			 kind;
	cf_err			 rc = CF_OK;

	b = cf_reallocarray(NULL, k->batch, sizeof(*b));
	nb = cf_reallocarray(NULL, k->batch, sizeof(*nb));
	if (b == NULL || nb == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	cf_keyprov_active_id(c->kp, active);
	for (kind = 0; kind < CF_WRAPPED_NKINDS && rc == CF_OK; kind++) {
		cursor = 0;
		for (;;) {
			rc = cf_meta_wrapped_not_under(c->meta, active,
			    (enum cf_meta_wrapped_kind)kind, cursor, b,
			    k->batch, &n, err);
			if (rc != CF_OK || n == 0)
				break;
			cursor = b[n - 1].seq;
			rc = rewrap_batch(c, b, nb, n, &done, err);
			if (rc != CF_OK)
				break;
			(void)pthread_mutex_lock(&k->mu);
			k->rewrapped += done;
			(void)pthread_mutex_unlock(&k->mu);
			log_info("event=key_rewrap to=%s count=%zu", active,
			    done);
			core_test_crash(c, "rewrap_batch");
			if (++batches == k->pause_after) {
				/* Test hook: hold the pass half done, so that
				 * a test can kill the server mid-rewrap. */
				log_warnx("event=test_rewrap_paused "
				    "batches=%llu msg=\"COFFER_TEST_REWRAP_"
				    "PAUSE_AFTER\"",
				    (unsigned long long)batches);
				cf_periodic_hold(job);
			}
			if (cf_periodic_stopping(job))
				goto out;
		}
	}
out:
	if (b != NULL)
		cf_wipe(b, k->batch * sizeof(*b));
	cf_free(b);
	cf_free(nb);
	return rc;
}

/* Is a scheduled rotation due (key_rotate_days after the active KEK was
 * made, by the core's clock)? */
static bool
rotation_due(struct cf_core *c)
{
	struct cf_kek_info	*ks = NULL;
	struct cf_error		 e;
	size_t			 n = 0, i;
	bool			 due = false;
	int64_t			 now_s, last_s;

	if (c->cfg.key_rotate_days <= 0)
		return false;
	(void)pthread_mutex_lock(&c->keys->mu);
	last_s = c->keys->rotated_us / 1000000;
	(void)pthread_mutex_unlock(&c->keys->mu);
	if ((ks = cf_reallocarray(NULL, KEYS_KEKS_MAX, sizeof(*ks))) == NULL)
		return false;
	cf_error_clear(&e);
	now_s = core_now_us(c) / 1000000;
	/* The active KEK's age: from its creation, or from the last
	 * rotation this process made by the same clock as now_s. */
	if (cf_keyprov_list(c->kp, ks, KEYS_KEKS_MAX, &n, &e) == CF_OK)
		for (i = 0; i < n; i++)
			if (ks[i].active && ks[i].created > 0 &&
			    now_s - (int64_t)ks[i].created >=
			    c->cfg.key_rotate_days * 86400 &&
			    now_s - last_s >=
			    c->cfg.key_rotate_days * 86400)
				due = true;
	cf_free(ks);
	return due;
}

/* Rotate (audited: who rotates is r), then wake the rewrap. */
static cf_err
rotate_now(struct cf_core *c, struct cf_req *r, char id[CF_KEK_ID_MAX],
    struct cf_error *err)
{
	struct core_act	act;
	cf_err		rc;

	/* SEC: recorded before the change (audit, then act). */
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, 0, err);
	/* SEC: the write side of kek_lock, so that every key wrapped under
	 * the old KEK (an upload between its wrap and its row holds the
	 * read side) is committed before the KEK changes: the rewrap pass
	 * that follows then finds them all.  Without it a row committed
	 * after the pass had gone by stayed under the old KEK until the
	 * next pass, an hour later. */
	if (rc == CF_OK) {
		(void)pthread_rwlock_wrlock(&c->kek_lock);
		rc = cf_keyprov_rotate(c->kp, id, err);
		(void)pthread_rwlock_unlock(&c->kek_lock);
	}
	rc = core_act_end(&act, rc);
	if (rc != CF_OK)
		return rc;
	log_info("event=key_rotated active=%s by=%s", id, r->principal.name);
	if (c->keys != NULL) {
		(void)pthread_mutex_lock(&c->keys->mu);
		c->keys->rotated_us = core_now_us(c);
		(void)pthread_mutex_unlock(&c->keys->mu);
		cf_periodic_kick(c->keys->job);
	}
	return CF_OK;
}

/* The schedule and one rewrap pass; job: the thread's (NULL: none),
 * whose stop ends the pass between two batches. */
static cf_err
keys_tick(struct cf_core *c, struct cf_periodic *job, struct cf_error *err)
{
	struct core_keys	*k = c->keys;
	struct cf_req		 r;
	char			 id[CF_KEK_ID_MAX];
	cf_err			 rc = CF_OK;

	if (rotation_due(c)) {
		system_req(&r, "key:rotate", "keys");
		(void)cf_strlcpy(r.reasons, "scheduled,key_rotate_days",
		    sizeof(r.reasons));
		rc = rotate_now(c, &r, id, err);
		if (rc != CF_OK)
			return rc;
	}
	(void)pthread_mutex_lock(&k->mu);
	k->running = true;
	(void)pthread_mutex_unlock(&k->mu);
	rc = rewrap_pass(c, job, err);
	(void)pthread_mutex_lock(&k->mu);
	k->running = false;
	if (rc != CF_OK)
		(void)cf_strlcpy(k->last_error, err != NULL ? err->msg : "",
		    sizeof(k->last_error));
	else
		k->last_error[0] = '\0';
	(void)pthread_mutex_unlock(&k->mu);
	return rc;
}

cf_err
cf_core_keys_tick(struct cf_core *c, struct cf_error *err)
{
	return keys_tick(c, c->keys->job, err);
}

/* On the schedule's thread: at once at start-up (a rewrap a crash or a
 * restart interrupted goes on), after a rotation (kicked), every
 * KEYS_TICK_S, and KEYS_RETRY_S after a failure. */
static int64_t
keys_run(struct cf_periodic *job, void *arg)
{
	struct cf_core		*c = arg;
	struct cf_error		 e;

	cf_error_clear(&e);
	if (c->keys->paused)
		return CF_PERIODIC_PERIOD;
	if (keys_tick(c, job, &e) != CF_OK) {
		log_warnx("event=key_rewrap_failed msg=\"%s\" "
		    "effect=\"retried in %d s; new versions use the "
		    "active KEK\"", e.msg, KEYS_RETRY_S);
		return KEYS_RETRY_S * 1000LL;
	}
	return CF_PERIODIC_PERIOD;
}

cf_err
core_keys_start(struct cf_core *c, struct cf_error *err)
{
	struct core_keys	*k;
	const char		*env;
	uint64_t		 v;

	if ((k = cf_calloc(1, sizeof(*k))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	k->batch = REWRAP_BATCH;
	env = cf_test_hook("COFFER_TEST_REWRAP_BATCH");
	if (env != NULL && cf_parse_u64(env, 1, REWRAP_BATCH, &v, NULL) ==
	    CF_OK)
		k->batch = (size_t)v;
	/* Tests: a rotation whose rewrap has not run (retire refused). */
	env = cf_test_hook("COFFER_TEST_REWRAP");
	k->paused = env != NULL && strcmp(env, "off") == 0;
	/* Tests: hold the rewrap after that many batches until shutdown. */
	env = cf_test_hook("COFFER_TEST_REWRAP_PAUSE_AFTER");
	if (env != NULL && cf_parse_u64(env, 1, UINT32_MAX, &v, NULL) ==
	    CF_OK)
		k->pause_after = v;
	if (pthread_mutex_init(&k->mu, NULL) != 0) {
		cf_free(k);
		return cf_error_set(err, CF_E_INTERNAL, "mutex init");
	}
	c->keys = k;
	return CF_OK;
}

cf_err
core_keys_run(struct cf_core *c, struct cf_error *err)
{
	struct core_keys	*k = c->keys;
	struct cf_periodic_job	 job;

	if (k == NULL || k->job != NULL)
		return CF_OK;
	memset(&job, 0, sizeof(job));
	job.name = "rewrap";
	job.period_ms = KEYS_TICK_S * 1000LL;
	job.first_ms = 0;
	job.fn = keys_run;
	job.arg = c;
	return cf_periodic_start(&job, &k->job, err);
}

void
core_keys_close(struct cf_core *c)
{
	struct core_keys	*k = c->keys;

	if (k == NULL)
		return;
	cf_periodic_stop(k->job);
	(void)pthread_mutex_destroy(&k->mu);
	cf_free(k);
	c->keys = NULL;
}

cf_err
cf_core_key_rotate(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	char	id[CF_KEK_ID_MAX];
	cf_err	rc;

	/* SEC: admin with fresh MFA (the grant rule): a rotation is cheap
	 * to undo by nobody, and retire (which destroys) has the same
	 * bar. */
	rc = core_authorize_grant(c, r, "key:rotate", NULL, "keys", err);
	if (rc != CF_OK)
		return rc;
	rc = rotate_now(c, r, id, err);
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:s,s:s}", "active", id, "provider",
	    cf_keyprov_name(c->kp), "rewrap", "started");
	return *out == NULL ? cf_error_set(err, CF_E_NOMEM, "out of memory") :
	    CF_OK;
}

cf_err
cf_core_key_status(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct cf_kek_info		*ks = NULL;
	struct cf_meta_kek_count	*cn = NULL;
	struct cf_error			 e;
	json_t				*o = NULL, *arr, *ke;
	char				 active[CF_KEK_ID_MAX];
	size_t				 nk = 0, nc = 0, i, j;
	uint64_t			 pending = 0, total = 0, v, m, s3;
	bool				 reachable;
	cf_err				 rc;

	rc = core_authorize(c, r, "key:status", NULL, "keys", err);
	if (rc != CF_OK)
		return rc;
	ks = cf_reallocarray(NULL, KEYS_KEKS_MAX, sizeof(*ks));
	cn = cf_reallocarray(NULL, KEYS_KEKS_MAX, sizeof(*cn));
	if (ks == NULL || cn == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = cf_keyprov_list(c->kp, ks, KEYS_KEKS_MAX, &nk, err)) !=
	    CF_OK)
		goto out;
	if ((rc = cf_meta_kek_counts(c->meta, cn, KEYS_KEKS_MAX, &nc, err)) !=
	    CF_OK)
		goto out;
	cf_keyprov_active_id(c->kp, active);
	cf_error_clear(&e);
	reachable = cf_keyprov_check(c->kp, &e) == CF_OK;
	o = json_object();
	arr = json_array();
	if (o == NULL || arr == NULL || json_object_set_new(o, "keks", arr)) {
		json_decref(arr);
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nk; i++) {
		v = m = s3 = 0;
		for (j = 0; j < nc; j++)
			if (strcmp(cn[j].kek_id, ks[i].id) == 0) {
				/* a segment's key is an object data key */
				v = cn[j].versions + cn[j].segments;
				m = cn[j].mfa;
				s3 = cn[j].s3_keys;
			}
		ke = json_pack("{s:s,s:I,s:b,s:s,s:I,s:I,s:I}", "id",
		    ks[i].id, "created", (json_int_t)ks[i].created, "active",
		    ks[i].active, "where", ks[i].where, "versions",
		    (json_int_t)v, "mfa_secrets", (json_int_t)m, "s3_keys",
		    (json_int_t)s3);
		if (ke == NULL || json_array_append_new(arr, ke) != 0) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
	}
	for (j = 0; j < nc; j++) {
		total += cn[j].versions + cn[j].segments + cn[j].mfa +
		    cn[j].s3_keys;
		if (strcmp(cn[j].kek_id, active) != 0)
			pending += cn[j].versions + cn[j].segments +
			    cn[j].mfa + cn[j].s3_keys;
	}
	(void)pthread_mutex_lock(&c->keys->mu);
	ke = json_pack("{s:I,s:I,s:b,s:I,s:s}", "pending",
	    (json_int_t)pending, "total", (json_int_t)total, "running",
	    c->keys->running, "rewrapped_since_start",
	    (json_int_t)c->keys->rewrapped, "last_error",
	    c->keys->last_error);
	(void)pthread_mutex_unlock(&c->keys->mu);
	if (ke == NULL || json_object_set_new(o, "rewrap", ke) != 0 ||
	    json_object_set_new(o, "provider",
	    json_string(cf_keyprov_name(c->kp))) != 0 ||
	    json_object_set_new(o, "active", json_string(active)) != 0 ||
	    json_object_set_new(o, "reachable", json_boolean(reachable)) !=
	    0 || json_object_set_new(o, "key_rotate_days",
	    json_integer(c->cfg.key_rotate_days)) != 0) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	cf_free(ks);
	cf_free(cn);
	return rc;
}

cf_err
cf_core_key_retire(struct cf_core *c, struct cf_req *r, const char *id,
    json_t **out, struct cf_error *err)
{
	struct cf_meta_kek_count	*cn = NULL;
	struct core_act			 act;
	char				 res[CF_RESOURCE_MAX];
	char				 active[CF_KEK_ID_MAX];
	size_t				 nc = 0, j;
	uint64_t			 v = 0, m = 0, s3 = 0, parts = 0;
	bool				 locked = false;
	cf_err				 rc;

	(void)snprintf(res, sizeof(res), "keys/%.*s", CF_KEK_ID_MAX, id);
	rc = core_authorize_grant(c, r, "key:retire", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	if (id[0] == '\0' || strlen(id) >= CF_KEK_ID_MAX ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(id)) {
		r->errcode = "invalid_name";
		return cf_error_set(err, CF_E_INPUT, "invalid KEK id");
	}
	if ((cn = cf_reallocarray(NULL, KEYS_KEKS_MAX, sizeof(*cn))) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	/* SEC: no upload may commit a key wrapped under id between the
	 * count below and the destruction (put_finish holds the read
	 * side from its last look at the active KEK to its commit). */
	(void)pthread_rwlock_wrlock(&c->kek_lock);
	locked = true;
	cf_keyprov_active_id(c->kp, active);
	if (strcmp(active, id) == 0) {
		r->errcode = "kek_active";
		rc = cf_error_set(err, CF_E_CONFLICT, "KEK %s is the active "
		    "one: rotate first (coffer key rotate)", id);
		goto out;
	}
	if ((rc = cf_meta_kek_counts(c->meta, cn, KEYS_KEKS_MAX, &nc, err)) !=
	    CF_OK)
		goto out;
	for (j = 0; j < nc; j++)
		if (strcmp(cn[j].kek_id, id) == 0) {
			v = cn[j].versions + cn[j].segments;
			m = cn[j].mfa;
			s3 = cn[j].s3_keys;
			parts = cn[j].mp_parts;
		}
	/* Parts of multipart uploads in progress are not rewrapped: they
	 * live days at most (s3_multipart_expiry). */
	if (v + m + s3 == 0 && parts > 0) {
		r->errcode = "rewrap_incomplete";
		rc = cf_error_set(err, CF_E_CONFLICT, "KEK %s still wraps the "
		    "keys of %llu parts of S3 multipart uploads in progress: "
		    "retire it once they are completed, aborted or expired "
		    "(s3_multipart_expiry)", id, (unsigned long long)parts);
		goto out;
	}
	if (v + m + s3 > 0) {
		r->errcode = "rewrap_incomplete";
		rc = cf_error_set(err, CF_E_CONFLICT, "KEK %s still wraps %llu "
		    "object version keys, %llu MFA secrets and %llu S3 "
		    "secrets: retire it once the rewrap is complete (coffer "
		    "key status)", id, (unsigned long long)v,
		    (unsigned long long)m, (unsigned long long)s3);
		goto out;
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, 0, err);
	if (rc == CF_OK)
		rc = cf_keyprov_retire(c->kp, id, err);
	if (rc == CF_E_NOTFOUND)
		r->errcode = "no_such_kek";
	rc = core_act_end(&act, rc);
	if (rc == CF_OK)
		log_info("event=key_retired kek=%s by=%s", id,
		    r->principal.name);
out:
	if (locked)
		(void)pthread_rwlock_unlock(&c->kek_lock);
	cf_free(cn);
	if (rc == CF_OK) {
		*out = json_pack("{s:s,s:b}", "id", id, "retired", 1);
		if (*out == NULL)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	return rc;
}

cf_err
cf_core_key_init(const struct cf_core_config *cfg, char *id, size_t idsz,
    struct cf_error *err)
{
	struct cf_keyprov	*kp = NULL;
	char			 a[CF_KEK_ID_MAX];
	cf_err			 rc;

	if (!core_keys_pkcs11(cfg))
		return cf_error_set(err, CF_E_INPUT, "init-hsm needs "
		    "key_provider pkcs11 (the file provider makes its keyring "
		    "at the first start)");
	rc = core_keys_open(cfg, cfg->data_dir, NULL, true, &kp, err);
	if (rc != CF_OK)
		return rc;
	cf_keyprov_active_id(kp, a);
	(void)cf_strlcpy(id, a, idsz);
	cf_keyprov_close(kp);
	return CF_OK;
}
