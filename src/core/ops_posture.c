/* src/core/ops_posture.c: `coffer posture` (GET /v1/posture): the
 * running deployment checked against best practice (docs/posture.md).
 *
 * The checks on the store (admins, tokens, the bootstrap session, policy
 * sets, labels) run here, in one read snapshot; the front end passes
 * what it alone knows (the certificate it serves, its TLS priorities, the
 * HTTP library) in struct cf_posture_facts; the pure checks are in
 * posture.c.  SEC: a check that cannot run is said to have failed (the
 * check's result "error" and a check-failed finding), never passed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/testhook.h"
#include "core/core_int.h"
#include "core/datadir.h"
#include "core/posture.h"
#include "crypto/tlscert.h"

/* Minimum library versions: Debian 12 (bookworm)'s, the oldest release
 * Coffer is built and tested on (scripts/deps.sh). */
#define MIN_GNUTLS	"3.7.9"
#define MIN_SQLITE	"3.40.1"
#define MIN_MHD		"0.9.75"
#define MIN_JANSSON	"2.14"
#define MIN_SODIUM	"1.0.18"

#define ADMINS_MAX	256	/* global admin bindings looked at */

struct posture {
	struct cf_core			*c;
	const struct cf_posture_facts	*f;
	json_t				*findings;
	json_t				*checks;
	int64_t				 now_us;
	int64_t				 unused_days;
};

/* A list of names for a detail: the first CF_POSTURE_NAMES, then "...". */
struct names {
	size_t	n;
	char	text[CF_POSTURE_DETAIL_MAX / 2];
	size_t	used;
};

static void
names_add(struct names *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
names_add(struct names *l, const char *fmt, ...)
{
	va_list	ap;
	int	k;

	l->n++;
	if (l->used >= sizeof(l->text) - 1)
		return;
	if (l->n > CF_POSTURE_NAMES) {
		if (l->n == CF_POSTURE_NAMES + 1)
			(void)snprintf(l->text + l->used,
			    sizeof(l->text) - l->used, ", ...");
		l->used = strlen(l->text);
		return;
	}
	if (l->n > 1) {
		(void)snprintf(l->text + l->used, sizeof(l->text) - l->used,
		    ", ");
		l->used = strlen(l->text);
	}
	va_start(ap, fmt);
	k = vsnprintf(l->text + l->used, sizeof(l->text) - l->used, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->used = strlen(l->text);
}

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* Record that check ran: "findings" when it added any since before,
 * else "ok"; detail (nullable) says what it looked at. */
static cf_err
check_done(struct posture *x, const char *check, size_t before,
    const char *detail, struct cf_error *err)
{
	json_t	*o;

	o = json_pack("{s:s,s:s,s:s}", "check", check, "result",
	    json_array_size(x->findings) > before ? "findings" : "ok",
	    "detail", detail != NULL ? detail : "");
	if (o == NULL || json_array_append_new(x->checks, o) != 0)
		return nomem(err);
	return CF_OK;
}

/* A check that could not run: said so twice (checks and a finding). */
static cf_err
check_failed(struct posture *x, const char *check, const struct cf_error *e,
    struct cf_error *err)
{
	json_t	*o;

	o = json_pack("{s:s,s:s,s:s}", "check", check, "result", "error",
	    "detail", e->msg);
	if (o == NULL || json_array_append_new(x->checks, o) != 0)
		return nomem(err);
	return cf_posture_add(x->findings, "check-failed", CF_SEV_MEDIUM,
	    "A check could not run",
	    "Look at the server's log and the detail, fix the cause and run "
	    "the posture check again.", err, "%s: %s", check, e->msg);
}

/* Run one check: its failure (other than NOMEM) is reported, not
 * returned. */
static cf_err
run(struct posture *x, const char *check,
    cf_err (*fn)(struct posture *, char *, size_t, struct cf_error *),
    struct cf_error *err)
{
	struct cf_error	e;
	char		detail[512];
	size_t		before = json_array_size(x->findings);
	cf_err		rc;

	cf_error_clear(&e);
	detail[0] = '\0';
	rc = fn(x, detail, sizeof(detail), &e);
	if (rc == CF_E_NOMEM)
		return cf_error_set(err, rc, "%s", e.msg);
	if (rc != CF_OK)
		return check_failed(x, check, &e, err);
	return check_done(x, check, before, detail, err);
}

/* --- the master key --- */

static cf_err
chk_master_key(struct posture *x, char *detail, size_t dsz,
    struct cf_error *err)
{
	char	path[4096];
	bool	managed = false, sealed;
	cf_err	rc;

	rc = cf_dd_master_key_path(x->c->data_dir, x->c->cfg.master_key_file,
	    false, path, sizeof(path), &managed, err);
	if (rc != CF_OK)
		return rc;
	sealed = cf_master_key_sealed(path);
	(void)snprintf(detail, dsz, "%.400s%s%s", path, managed ?
	    " (COFFER_MASTER_KEY_FILE)" : "", sealed ? ", sealed" : "");
	return cf_posture_check_master_key(x->c->data_dir, path, sealed,
	    x->findings, err);
}

/* --- tokens and the bootstrap session --- */

struct tok_walk {
	struct posture	*x;
	struct names	 no_expiry, unused, boot;
	int64_t		 boot_until;
	size_t		 live;
};

static void
principal_name(struct cf_core *c, int64_t id, char out[CF_PRINCIPAL_MAX])
{
	struct cf_principal_rec	p;
	struct cf_error		e;

	if (cf_meta_principal_get_id(c->meta, id, &p, &e) == CF_OK)
		(void)cf_strlcpy(out, p.name, CF_PRINCIPAL_MAX);
	else
		(void)snprintf(out, CF_PRINCIPAL_MAX, "#%lld", (long long)id);
}

static cf_err
tok_cb(void *arg, const struct cf_token_rec *t, struct cf_error *err)
{
	struct tok_walk	*w = arg;
	struct posture	*x = w->x;
	char		 who[CF_PRINCIPAL_MAX], when[CF_TIME_STR_LEN];
	int64_t		 last;
	bool		 api;

	(void)err;
	api = t->kind[0] == '\0' || strcmp(t->kind, "api") == 0;
	if (t->revoked_us != 0 || (t->expires_us != 0 &&
	    t->expires_us <= x->now_us))
		return CF_OK;
	if (!api) {
		/* SEC: the session the first start wrote to DIR/bootstrap-
		 * token, never stepped up: whoever reads that file first
		 * becomes the admin.  (Enrolling MFA replaces it by one
		 * with mfa_at_us set, under the same description.) */
		if (strcmp(t->description, "bootstrap") == 0 &&
		    t->mfa_at_us == 0) {
			principal_name(x->c, t->principal_id, who);
			names_add(&w->boot, "session %s of %s", t->id, who);
			if (t->expires_us > w->boot_until)
				w->boot_until = t->expires_us;
		}
		return CF_OK;
	}
	w->live++;
	if (t->expires_us == 0) {
		principal_name(x->c, t->principal_id, who);
		names_add(&w->no_expiry, "%s (%s)", t->id, who);
	}
	last = t->last_used_us != 0 ? t->last_used_us : t->created_us;
	if (x->now_us - last > x->unused_days * 86400 * 1000000) {
		principal_name(x->c, t->principal_id, who);
		cf_time_format(last, when);
		names_add(&w->unused, "%s (%s, %s %.10s)", t->id, who,
		    t->last_used_us != 0 ? "last used" : "never used, made",
		    when);
	}
	return CF_OK;
}

static cf_err
chk_tokens(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	struct tok_walk	 w;
	char		 path[4096], until[CF_TIME_STR_LEN];
	bool		 file;
	cf_err		 rc;

	memset(&w, 0, sizeof(w));
	w.x = x;
	rc = cf_meta_token_list(x->c->meta, -1, tok_cb, &w, err);
	if (rc != CF_OK)
		return rc;
	(void)snprintf(detail, dsz, "%zu live API tokens; unused means "
	    "more than %lld days", w.live, (long long)x->unused_days);
	if (w.no_expiry.n > 0)
		rc = cf_posture_add(x->findings, "token-no-expiry",
		    CF_SEV_MEDIUM, "API tokens that never expire",
		    "Revoke them and mint tokens with an expiry (coffer token "
		    "create --expires-in 90d), renewed by whoever uses them.",
		    err, "%zu token%s: %s", w.no_expiry.n,
		    w.no_expiry.n == 1 ? "" : "s", w.no_expiry.text);
	if (rc == CF_OK && w.unused.n > 0)
		rc = cf_posture_add(x->findings, "token-unused", CF_SEV_LOW,
		    "API tokens that are not used",
		    "Revoke the tokens nobody uses (coffer token revoke ID).",
		    err, "%zu token%s unused for more than %lld days: %s",
		    w.unused.n, w.unused.n == 1 ? "" : "s",
		    (long long)x->unused_days, w.unused.text);
	if (rc != CF_OK)
		return rc;
	rc = cf_dd_path(x->c->data_dir, CF_DD_BOOTSTRAP, path, sizeof(path),
	    err);
	if (rc != CF_OK)
		return rc;
	file = access(path, F_OK) == 0;
	if (w.boot.n > 0) {
		cf_time_format(w.boot_until, until);
		return cf_posture_add(x->findings, "bootstrap-token-unused",
		    CF_SEV_HIGH, "The bootstrap admin session is not spent",
		    "Log in with it now and enroll MFA (coffer mfa enroll), "
		    "which replaces it and removes the file, or revoke it "
		    "(coffer token revoke ID).", err,
		    "%s, valid until %s; %s %s", w.boot.text, until, path,
		    file ? "is present" : "is gone (copied elsewhere?)");
	}
	if (file)
		return cf_posture_add(x->findings, "bootstrap-file-left",
		    CF_SEV_LOW, "The bootstrap token file is still there",
		    "Remove it (rm DATA/bootstrap-token); its session has "
		    "ended.", err, "%s is present though no bootstrap session "
		    "is valid", path);
	return CF_OK;
}

/* --- admins --- */

struct admin_walk {
	int64_t	ids[ADMINS_MAX];
	size_t	n;
	bool	cut;
};

static cf_err
admin_cb(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct admin_walk	*w = arg;
	size_t			 i;

	(void)err;
	if (b->ns[0] != '\0' || strcmp(b->role, "admin") != 0)
		return CF_OK;
	for (i = 0; i < w->n; i++)
		if (w->ids[i] == b->principal_id)
			return CF_OK;
	if (w->n == ADMINS_MAX) {
		w->cut = true;
		return CF_OK;
	}
	w->ids[w->n++] = b->principal_id;
	return CF_OK;
}

static cf_err
chk_admins(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	struct admin_walk	*w = NULL;
	struct cf_principal_rec	 p;
	struct cf_mfa_rec	 m;
	struct names		 nomfa, svc;
	size_t			 i;
	cf_err			 rc;

	memset(&nomfa, 0, sizeof(nomfa));
	memset(&svc, 0, sizeof(svc));
	memset(&m, 0, sizeof(m));
	w = cf_calloc(1, sizeof(*w));
	if (w == NULL)
		return nomem(err);
	rc = cf_meta_binding_list(x->c->meta, -1, NULL,
	    CF_META_BINDINGS_ALL, admin_cb, w, err);
	for (i = 0; rc == CF_OK && i < w->n; i++) {
		rc = cf_meta_principal_get_id(x->c->meta, w->ids[i], &p, err);
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			rc = CF_OK;
			continue;
		}
		if (rc != CF_OK || p.disabled)
			continue;
		if (strcmp(p.kind, "service") == 0) {
			names_add(&svc, "%s", p.name);
			continue;
		}
		rc = cf_meta_mfa_get(x->c->meta, p.id, &m, err);
		if (rc == CF_E_NOTFOUND) {
			cf_error_clear(err);
			rc = CF_OK;
			m.enabled = false;
		}
		cf_wipe(m.wrapped, sizeof(m.wrapped));
		if (rc == CF_OK && !m.enabled)
			names_add(&nomfa, "%s", p.name);
	}
	if (rc != CF_OK)
		goto out;
	(void)snprintf(detail, dsz, "%zu global admins%s", w->n,
	    w->cut ? " (more not looked at)" : "");
	if (nomfa.n > 0)
		rc = cf_posture_add(x->findings, "admin-without-mfa",
		    CF_SEV_HIGH, "Admins without MFA",
		    "Have each of them enroll MFA (coffer mfa enroll), or "
		    "remove their admin binding (coffer revoke NAME admin).",
		    err,
		    "%zu admin%s without MFA enrolled: %s", nomfa.n,
		    nomfa.n == 1 ? "" : "s", nomfa.text);
	if (rc == CF_OK && svc.n > 0)
		rc = cf_posture_add(x->findings, "admin-service-account",
		    CF_SEV_MEDIUM, "Service accounts with the admin role",
		    "Bind service accounts to the namespaces they work on "
		    "(owner or writer there) instead of the global admin "
		    "role.", err, "%zu service account%s: %s", svc.n,
		    svc.n == 1 ? "" : "s", svc.text);
out:
	cf_free(w);
	return rc;
}

/* --- policy sets --- */

struct pol_walk {
	struct posture	*x;
	struct names	 bad;
	size_t		 n;
};

static cf_err
pol_cb(void *arg, const struct cf_policy_rec *p, const char *text,
    size_t len, struct cf_error *err)
{
	struct pol_walk	*w = arg;
	struct cf_error	 e;
	cf_err		 rc;

	w->n++;
	cf_error_clear(&e);
	rc = core_policy_recheck(w->x->c, p->ns, text, len, &e);
	if (rc == CF_E_NOMEM)
		return cf_error_set(err, rc, "%s", e.msg);
	if (rc != CF_OK)
		names_add(&w->bad, "%s (%s%s, version %lld): %.160s", p->name,
		    p->ns[0] != '\0' ? "namespace " : "global",
		    p->ns, (long long)p->version, e.msg);
	return CF_OK;
}

static cf_err
chk_policies(struct posture *x, char *detail, size_t dsz,
    struct cf_error *err)
{
	struct pol_walk	w;
	cf_err		rc;

	memset(&w, 0, sizeof(w));
	w.x = x;
	rc = cf_meta_policy_current(x->c->meta, pol_cb, &w, err);
	if (rc != CF_OK)
		return rc;
	(void)snprintf(detail, dsz, "%zu policy sets in force; unreachable "
	    "statements are not looked for", w.n);
	if (w.bad.n == 0)
		return CF_OK;
	return cf_posture_add(x->findings, "policy-invalid", CF_SEV_HIGH,
	    "Policy sets that no longer validate",
	    "Fix each set and store it again (coffer policy set NAME --file "
	    "F), or take it out of force (coffer policy rm NAME).", err,
	    "%zu set%s: %s", w.bad.n, w.bad.n == 1 ? "" : "s", w.bad.text);
}

/* --- namespaces holding personal data --- */

static cf_err
ns_cb(void *arg, const struct cf_ns_rec *ns, struct cf_error *err)
{
	json_t	*arr = arg;

	if (json_array_append_new(arr, json_pack("{s:s,s:I}", "name",
	    ns->name, "id", (json_int_t)ns->id)) != 0)
		return nomem(err);
	return CF_OK;
}

/* A label pii is personal data unless it says it is not. */
static bool
pii_value(const json_t *labels)
{
	const char	*v;

	v = json_string_value(json_object_get(labels, "pii"));
	return v != NULL && strcmp(v, "false") != 0 && strcmp(v, "no") != 0 &&
	    strcmp(v, "0") != 0;
}

static cf_err
chk_pii(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	struct names	 pii;
	json_t		*all, *ns, *labels;
	size_t		 i;
	cf_err		 rc;

	memset(&pii, 0, sizeof(pii));
	all = json_array();
	if (all == NULL)
		return nomem(err);
	/* The names first: no store call inside another's walk. */
	rc = cf_meta_ns_list(x->c->meta, ns_cb, all, err);
	json_array_foreach(all, i, ns) {
		if (rc != CF_OK)
			break;
		labels = NULL;
		rc = cf_meta_labels_get(x->c->meta, (int64_t)json_integer_value(
		    json_object_get(ns, "id")), "", &labels, err);
		if (rc == CF_OK && pii_value(labels))
			names_add(&pii, "%s", json_string_value(
			    json_object_get(ns, "name")));
		json_decref(labels);
	}
	if (rc == CF_OK) {
		(void)snprintf(detail, dsz, "%zu namespaces; object labels "
		    "are not looked at", json_array_size(all));
		if (pii.n > 0)
			rc = cf_posture_add(x->findings,
			    "pii-without-retention", CF_SEV_MEDIUM,
			    "Personal data without a retention rule",
			    "Decide how long the data may be kept and delete "
			    "it when that ends; retention rules are planned "
			    "(docs/posture.md).", err, "%zu namespace%s "
			    "labelled pii: %s", pii.n, pii.n == 1 ? "" : "s",
			    pii.text);
	}
	json_decref(all);
	return rc;
}

/* --- the audit log --- */

static cf_err
chk_audit(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	struct cf_audit_status	st;
	struct cf_error		e;
	char			t[CF_TIME_STR_LEN];
	cf_err			rc;

	cf_error_clear(&e);
	rc = cf_audit_verify_live(x->c->audit, x->c->data_dir, &st, &e);
	if (rc == CF_E_INTEGRITY) {
		(void)snprintf(detail, dsz, "verification failed");
		return cf_posture_add(x->findings, "audit-log-tampered",
		    CF_SEV_CRITICAL, "The audit log does not verify",
		    "Keep the server running, copy DATA/audit away for "
		    "investigation, and compare it with your backups and "
		    "shipped logs (coffer audit verify --data DIR).", err,
		    "%s", e.msg);
	}
	if (rc != CF_OK)
		return cf_error_set(err, rc, "%s", e.msg);
	cf_time_format(st.ckpt_time_us, t);
	(void)snprintf(detail, dsz, "%llu records verified; checkpoint at "
	    "record %llu, %s (%lld s old)", (unsigned long long)st.records,
	    (unsigned long long)st.ckpt_seq, st.ckpt_time_us != 0 ? t : "-",
	    st.ckpt_time_us != 0 ? (long long)((x->now_us -
	    st.ckpt_time_us) / 1000000) : 0LL);
	rc = CF_OK;
	if (st.broken)
		rc = cf_posture_add(x->findings, "audit-log-failing",
		    CF_SEV_CRITICAL, "The audit log cannot be written",
		    "Free space on, or repair, the data directory's disk and "
		    "restart the server; every request is refused meanwhile.",
		    err, "the audit writer is broken (refusing appends)");
	if (rc == CF_OK && st.ckpt_seq < st.durable_seq)
		rc = cf_posture_add(x->findings, "audit-checkpoint-behind",
		    CF_SEV_CRITICAL, "The audit checkpoint is behind the log",
		    "Treat the data directory as tampered with: investigate "
		    "who replaced DATA/audit/checkpoint, and restart the "
		    "server (which rewrites it).", err,
		    "the checkpoint names record %llu, the running log has "
		    "made %llu durable", (unsigned long long)st.ckpt_seq,
		    (unsigned long long)st.durable_seq);
	return rc;
}

/* --- TLS --- */

static cf_err
chk_tls(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	const struct cf_posture_facts	*f = x->f;
	struct cf_tls_cert_info		 ci;
	char				 na[CF_TIME_STR_LEN];
	cf_err				 rc;

	if (!f->tls) {
		(void)snprintf(detail, dsz, "plain HTTP on %s", f->listen !=
		    NULL ? f->listen : "?");
		return cf_posture_add(x->findings, "plain-http",
		    CF_SEV_MEDIUM, "The server speaks plain HTTP",
		    "Serve TLS (drop insecure_http) unless a TLS-terminating "
		    "proxy on the same host is the only client.", err,
		    "insecure_http is on; %s is served without TLS",
		    f->listen != NULL ? f->listen : "the listener");
	}
	if (f->cert_pem == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no certificate given");
	rc = cf_tls_cert_info(f->cert_pem, &ci, err);
	if (rc != CF_OK)
		return rc;
	cf_time_format((int64_t)ci.not_after * 1000000, na);
	(void)snprintf(detail, dsz, "%s: %s %u-bit key, %s, until %s",
	    f->cert_path != NULL ? f->cert_path : "certificate", ci.key_alg,
	    ci.key_bits, ci.sig_alg, na);
	rc = cf_posture_check_cert(&ci, f->cert_path != NULL ? f->cert_path :
	    "the certificate", f->cert_own, x->now_us / 1000000, x->findings,
	    err);
	if (rc == CF_OK && f->tls_priorities != NULL)
		rc = cf_posture_check_tls_priorities(f->tls_priorities,
		    x->findings, err);
	return rc;
}

/* --- the data directory --- */

static cf_err
chk_modes(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	static const char *const pub[] = { CF_DD_TLS_CERT, NULL };
	size_t			 n = 0;
	cf_err			 rc;

	rc = cf_posture_walk_modes(x->c->data_dir, pub, CF_POSTURE_WALK_MAX,
	    x->findings, &n, err);
	if (rc == CF_OK)
		(void)snprintf(detail, dsz, "%zu entries of %s looked at", n,
		    x->c->data_dir);
	return rc;
}

/* --- libraries --- */

static cf_err
chk_libs(struct posture *x, char *detail, size_t dsz, struct cf_error *err)
{
	const struct cf_posture_facts	*f = x->f;
	struct cf_posture_lib		 libs[] = {
		{ "GnuTLS", cf_crypto_gnutls_version(), MIN_GNUTLS, true },
		{ "libmicrohttpd", f->http_lib_version, MIN_MHD, true },
		{ "SQLite", cf_meta_engine_version(), MIN_SQLITE, false },
		{ "jansson", cf_json_lib_version(), MIN_JANSSON, false },
		{ "libsodium", cf_crypto_sodium_version(), MIN_SODIUM, false },
	};

	(void)snprintf(detail, dsz, "GnuTLS %s, libmicrohttpd %s, SQLite %s, "
	    "jansson %s, libsodium %s", libs[0].version, libs[1].version !=
	    NULL ? libs[1].version : "-", libs[2].version, libs[3].version,
	    libs[4].version);
	return cf_posture_check_libs(libs, sizeof(libs) / sizeof(libs[0]),
	    x->findings, err);
}

/* --- settings --- */

extern char	**environ;

/* SEC: the test suite's hooks (COFFER_TEST_*: a clock to move, crash
 * points, a paused rewrap) are read from the server's environment in a
 * build made with -DCF_TEST_HOOKS=ON (base/testhook.h); one left set in
 * such a server moves expiries or stops it.  Other builds ignore them, so
 * there is nothing to find.  Names only: values are not shown. */
static cf_err
chk_test_hooks(struct posture *x, struct cf_error *err)
{
	static const char	 pre[] = "COFFER_TEST_";
	char			 names[512];
	const char		*eq;
	size_t			 i, n = 0, len = 0, k;

	names[0] = '\0';
	if (!cf_test_hooks_built())
		return CF_OK;
	for (i = 0; environ != NULL && environ[i] != NULL; i++) {
		if (strncmp(environ[i], pre, sizeof(pre) - 1) != 0)
			continue;
		eq = strchr(environ[i], '=');
		k = eq != NULL ? (size_t)(eq - environ[i]) :
		    strlen(environ[i]);
		if (len + k + 3 < sizeof(names)) {
			if (len > 0) {
				names[len++] = ',';
				names[len++] = ' ';
			}
			memcpy(names + len, environ[i], k);
			len += k;
			names[len] = '\0';
		}
		n++;
	}
	if (n == 0)
		return CF_OK;
	return cf_posture_add(x->findings, "test-hooks-set", CF_SEV_CRITICAL,
	    "Test hooks are set in the server's environment",
	    "Remove every COFFER_TEST_* variable from the server's "
	    "environment and restart it.", err, "%zu set: %s", n, names);
}

static cf_err
chk_settings(struct posture *x, char *detail, size_t dsz,
    struct cf_error *err)
{
	cf_err	rc = CF_OK;

	(void)snprintf(detail, dsz, "mfa_admin_actions %s, "
	    "mfa_restricted_data %s", x->c->cfg.mfa_admin_actions ? "yes" :
	    "no", x->c->cfg.mfa_restricted_data ? "yes" : "no");
	if (!x->c->cfg.mfa_admin_actions)
		rc = cf_posture_add(x->findings, "mfa-admin-actions-off",
		    CF_SEV_HIGH, "Admin actions do not need MFA",
		    "Set mfa_admin_actions = yes.", err,
		    "mfa_admin_actions is off: an admin's stolen password or "
		    "session does everything an admin may");
	if (rc == CF_OK && !x->c->cfg.mfa_restricted_data)
		rc = cf_posture_add(x->findings, "mfa-restricted-data-off",
		    CF_SEV_HIGH, "Restricted data does not need MFA",
		    "Set mfa_restricted_data = yes.", err,
		    "mfa_restricted_data is off: restricted namespaces are "
		    "reached with a password or an API token alone");
	if (rc == CF_OK)
		rc = chk_test_hooks(x, err);
	return rc;
}

/* --- the operation --- */

cf_err
cf_core_posture(struct cf_core *c, struct cf_req *r,
    const struct cf_posture_facts *facts, json_t **out,
    struct cf_error *err)
{
	struct posture	 x;
	size_t		 counts[CF_SEV_N];
	json_t		*summary = NULL;
	int		 s;
	cf_err		 rc;

	rc = core_authorize(c, r, "posture:read", NULL, "posture", err);
	if (rc != CF_OK)
		return rc;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.f = facts;
	x.now_us = core_now_us(c);
	x.unused_days = facts->unused_days > 0 ? facts->unused_days :
	    CF_POSTURE_UNUSED_DAYS;
	x.findings = json_array();
	x.checks = json_array();
	summary = json_object();
	if (x.findings == NULL || x.checks == NULL || summary == NULL) {
		rc = nomem(err);
		goto out;
	}
	/* The store's checks in one snapshot; the files after it, so that
	 * no read transaction is held while the audit log is read. */
	rc = cf_meta_scope_begin(c->meta, err);
	if (rc != CF_OK)
		goto out;
	rc = run(&x, "admins", chk_admins, err);
	if (rc == CF_OK)
		rc = run(&x, "tokens", chk_tokens, err);
	if (rc == CF_OK)
		rc = run(&x, "policies", chk_policies, err);
	if (rc == CF_OK)
		rc = run(&x, "pii", chk_pii, err);
	cf_meta_scope_end(c->meta);
	if (rc == CF_OK)
		rc = run(&x, "master-key", chk_master_key, err);
	if (rc == CF_OK)
		rc = run(&x, "tls", chk_tls, err);
	if (rc == CF_OK)
		rc = run(&x, "settings", chk_settings, err);
	if (rc == CF_OK)
		rc = run(&x, "audit", chk_audit, err);
	if (rc == CF_OK)
		rc = run(&x, "modes", chk_modes, err);
	if (rc == CF_OK)
		rc = run(&x, "libraries", chk_libs, err);
	if (rc == CF_OK)
		rc = cf_posture_sort(x.findings, counts, err);
	for (s = CF_SEV_N - 1; rc == CF_OK && s >= 0; s--)
		if (json_object_set_new(summary, cf_sev_name(s),
		    json_integer((json_int_t)counts[s])) != 0)
			rc = nomem(err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:O,s:O,s:O,s:o}", "findings", x.findings,
	    "summary", summary, "checks", x.checks, "checked_at",
	    core_time_json(x.now_us));
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(x.findings);
	json_decref(x.checks);
	json_decref(summary);
	return rc;
}
