/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * tests/unit/test_core.c: the reference monitor and the domain operations
 * on a real data directory (SQLite, blob files, audit log), and identity
 * (issue 4): logins, brute-force protection, MFA, sessions, scoped tokens,
 * service accounts and OIDC bearer tokens (keys made with rhonabwy). */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <rhonabwy.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/core.h"
#include "core/actions.h"
#include "core/anomaly.h"
#include "core/core_int.h"
#include "core/datadir.h"
#include "crypto/crypto.h"
#include "crypto/totp.h"
#include "policy/policy.h"
#include "store/store_int.h"

/* The audit obligation of a change made by the test itself (a fixture,
 * not a request): it records nothing. */
static cf_err
record_none(void *arg, struct cf_error *err)
{
	(void)arg;
	(void)err;
	return CF_OK;
}

static const struct cf_meta_audit	au_ok = { record_none, NULL };

struct fixture {
	char		 dir[256];
	struct cf_core	*core;
	char		 admin_token[128];	/* session with MFA */
	char		 admin_api[128];	/* API token, no MFA */
};

static void	as(struct fixture *f, struct cf_req *r, const char *token);

/* The master key goes to $XDG_CONFIG_HOME/coffer/keys (outside the data
 * directory); for a test, somewhere under its own temporary directory. */
static void
xdg_in(const char *dir)
{
	char	x[300];

	(void)snprintf(x, sizeof(x), "%s/xdg", dir);
	assert_int_equal(setenv("XDG_CONFIG_HOME", x, 1), 0);
}

/* Read the bootstrap file into f->admin_token.  The bootstrap credential
 * is a session without MFA; these tests act as the admin after enrolling,
 * so the session gets its MFA here, in the store (the enrollment itself
 * is tested end to end). */
static void
read_admin(struct fixture *f, const char *boot)
{
	struct cf_token_rec	 tok;
	struct cf_req		 r;
	json_t			*out = NULL;
	uint8_t			 h[CF_SHA256_LEN];
	FILE			*fp;

	fp = fopen(boot, "r");
	assert_non_null(fp);
	assert_non_null(fgets(f->admin_token, sizeof(f->admin_token), fp));
	fclose(fp);
	f->admin_token[strcspn(f->admin_token, "\n")] = '\0';
	cf_sha256(f->admin_token, strlen(f->admin_token), h);
	assert_int_equal(cf_meta_token_find(f->core->meta, h, &tok, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_token_set_mfa(f->core->meta, &au_ok, tok.id,
	    cf_now_us(), NULL), CF_OK);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_token_create(f->core, &r, "admin", 0, "api",
	    &out, NULL), CF_OK);
	cf_strlcpy(f->admin_api, json_string_value(json_object_get(out,
	    "token")), sizeof(f->admin_api));
	json_decref(out);
}

static int
setup(void **state)
{
	struct fixture		*f;
	struct cf_core_config	 cfg;
	char			 boot[4096];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cf-test-core-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = f->dir;
	cfg.max_object_size = 1 << 20;
	cfg.max_json_body = 65536;
	xdg_in(f->dir);
	assert_int_equal(cf_core_open(&cfg, &f->core, boot, NULL), CF_OK);
	assert_string_not_equal(boot, "");
	read_admin(f, boot);
	*state = f;
	return 0;
}

/* Remove a temporary tree depth-first, without a shell. */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
rm_rf(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	cf_test_clock_set(0);		/* thaw what safe_step() froze */
	cf_core_close(f->core);
	assert_int_equal(rm_rf(f->dir), 0);
	free(f);
	return 0;
}

static void
as(struct fixture *f, struct cf_req *r, const char *token)
{
	cf_req_init(r, "127.0.0.1");
	assert_int_equal(cf_core_authenticate(f->core, r, token, NULL), CF_OK);
}

/* Create principal name with role on ns and return a token for it. */
static void
make_user(struct fixture *f, const char *name, const char *role,
    const char *ns, char *token, size_t toksz)
{
	struct cf_req	 r;
	json_t		*out = NULL;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_principal_create(f->core, &r, name, "user",
	    &out, NULL), CF_OK);
	json_decref(out);
	if (role != NULL) {
		as(f, &r, f->admin_token);
		assert_int_equal(cf_core_binding_create(f->core, &r, name, role,
		    ns, &out, NULL), CF_OK);
		json_decref(out);
	}
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_token_create(f->core, &r, name, 0, "t", &out,
	    NULL), CF_OK);
	cf_strlcpy(token, json_string_value(json_object_get(out, "token")),
	    toksz);
	json_decref(out);
}

/* core_authz_context_write against json_dumps(core_authz_context),
 * byte for byte (DEL aside: jansson leaves it raw, the writer escapes it
 * as every audit string is), over contexts with every optional part. */
static void
ctx_write_matches(const struct cf_req *r)
{
	struct cf_buf	 b;
	struct cf_error	 err;
	json_t		*j;
	char		*want;
	cf_err		 rc;

	cf_buf_init(&b, 1 << 20);
	cf_error_clear(&err);
	j = core_authz_context(r);
	rc = core_authz_context_write(r, &b, &err);
	if (j == NULL) {
		/* Where the object cannot be built, no text either. */
		assert_int_not_equal(rc, CF_OK);
		cf_buf_free(&b);
		return;
	}
	assert_int_equal(rc, CF_OK);
	want = cf_json_dumps_flags(j, JSON_ENSURE_ASCII | JSON_COMPACT);
	assert_non_null(want);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	cf_json_free(want);
	json_decref(j);
	cf_buf_free(&b);
}

static void
test_core_context_text_matches_json(void **state)
{
	static struct cf_req	r;

	(void)state;
	cf_req_init(&r, "127.0.0.1");
	r.authn = "token";
	ctx_write_matches(&r);
	/* IPv6 with brackets and port; a source that is no address. */
	cf_req_init(&r, "[2001:db8::1]:443");
	ctx_write_matches(&r);
	cf_req_init(&r, "unix:/run/x");
	r.time_us = 0;
	ctx_write_matches(&r);
	/* Everything optional, with strings that need escaping. */
	cf_req_init(&r, "10.1.2.3");
	r.authn = "session";
	r.mfa = true;
	r.mfa_age = 1234;
	r.ctx_time_us = 1796601600123456LL;
	cf_strlcpy(r.purpose, "fraud-model.training:v2", sizeof(r.purpose));
	cf_strlcpy(r.user_agent, "Boto3/1.26 \"q\" \\ caf\xc3\xa9 "
	    "\xe2\x80\xae \xf0\x9f\x98\x80 \t\x01",
	    sizeof(r.user_agent));
	r.risk_set = true;
	r.risk_score = 70;
	r.risk_flags = 0x5;
	cf_strlcpy(r.op.name, "promote", sizeof(r.op.name));
	cf_strlcpy(r.op.src_ns, "dev-ml", sizeof(r.op.src_ns));
	cf_strlcpy(r.op.dst_env, "prod", sizeof(r.op.dst_env));
	cf_strlcpy(r.op.reason, "line\nbreak \"quoted\"", sizeof(r.op.reason));
	cf_strlcpy(r.scope, "{\"actions\":[\"object:get\"],"
	    "\"namespaces\":[\"ml\",\"caf\xc3\xa9\"],\"x\":1}",
	    sizeof(r.scope));
	ctx_write_matches(&r);
	/* MFA without an age; risk with no flag. */
	r.mfa_age = -1;
	r.risk_flags = 0;
	ctx_write_matches(&r);
	/* Not UTF-8: neither the object nor the text. */
	cf_strlcpy(r.user_agent, "bad \xff\xfe", sizeof(r.user_agent));
	ctx_write_matches(&r);
	/* A scope that does not parse: fails closed in both. */
	cf_strlcpy(r.user_agent, "ok", sizeof(r.user_agent));
	cf_strlcpy(r.scope, "{not json", sizeof(r.scope));
	ctx_write_matches(&r);
}

static void
test_core_names(void **state)
{
	(void)state;
	assert_true(cf_name_ns_valid("prod-fraud"));
	assert_true(cf_name_ns_valid("a.b.c"));
	assert_false(cf_name_ns_valid("ab"));
	assert_false(cf_name_ns_valid("Abc"));
	assert_false(cf_name_ns_valid("-abc"));
	assert_false(cf_name_ns_valid("abc-"));
	assert_false(cf_name_ns_valid("a..b"));
	assert_false(cf_name_ns_valid("192.168.1.1"));
	assert_false(cf_name_ns_valid(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_true(cf_name_key_valid("../../x", 7));
	assert_true(cf_name_key_valid("\xc3\xbc", 2));
	assert_false(cf_name_key_valid("\xff", 1));
	assert_false(cf_name_key_valid("", 0));
	assert_true(cf_name_principal_valid("alice"));
	assert_false(cf_name_principal_valid("Alice"));
	assert_false(cf_name_principal_valid("a b"));
	assert_true(cf_name_env_valid("prod"));
	assert_false(cf_name_env_valid("production"));
	assert_true(cf_name_role_valid("owner"));
	assert_false(cf_name_role_valid("root"));
}

/* cf_core_snapshot_begin: only for Coffer's own credentials, never
 * twice; the token's last-used time, due inside it, is written at its
 * end (a write inside would end the read transaction the request's
 * decision shares), and without one during the authentication. */
static void
test_core_snapshot_touch_after_end(void **state)
{
	struct fixture		*f = *state;
	struct cf_token_rec	 tok;
	struct cf_req		 r;
	char			 token[128], token2[128];

	make_user(f, "snap", NULL, NULL, token, sizeof(token));
	make_user(f, "snap2", NULL, NULL, token2, sizeof(token2));
	cf_req_init(&r, "127.0.0.1");
	assert_false(cf_core_snapshot_begin(f->core, &r, NULL));
	assert_false(cf_core_snapshot_begin(f->core, &r, "eyJhbGciOiJ.e30.x"));
	assert_false(r.snapshot);
	assert_true(cf_core_snapshot_begin(f->core, &r, token));
	assert_false(cf_core_snapshot_begin(f->core, &r, token));
	assert_int_equal(cf_core_authenticate(f->core, &r, token, NULL),
	    CF_OK);
	assert_true(r.authenticated);
	assert_true(r.touch_due);
	assert_int_equal(cf_meta_token_get(f->core->meta, r.token_id, &tok,
	    NULL), CF_OK);
	assert_int_equal(tok.last_used_us, 0);
	cf_core_snapshot_end(f->core, &r);
	assert_false(r.snapshot);
	assert_false(r.touch_due);
	assert_int_equal(cf_meta_token_get(f->core->meta, r.token_id, &tok,
	    NULL), CF_OK);
	assert_int_equal(tok.last_used_us, r.time_us);
	/* Ending twice is harmless. */
	cf_core_snapshot_end(f->core, &r);
	/* Without a snapshot the authentication writes it itself. */
	as(f, &r, token2);
	assert_true(r.authenticated);
	assert_false(r.touch_due);
	assert_int_equal(cf_meta_token_get(f->core->meta, r.token_id, &tok,
	    NULL), CF_OK);
	assert_int_equal(tok.last_used_us, r.time_us);
}

static void
test_core_authn_rejects_bad_tokens(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;

	as(f, &r, NULL);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "none");
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_E_AUTH);
	as(f, &r, "garbage");
	assert_false(r.authenticated);
	as(f, &r, "cft_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_false(r.authenticated);
	as(f, &r, f->admin_token);
	assert_true(r.authenticated);
	assert_string_equal(r.principal.name, "admin");
}

static void
test_core_roles(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 rd[128], wr[128], ow[128];

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "ml-dev", "dev", &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "other", "prod", &out,
	    NULL), CF_OK);
	json_decref(out);
	make_user(f, "rita", "reader", "ml-dev", rd, sizeof(rd));
	make_user(f, "will", "writer", "ml-dev", wr, sizeof(wr));
	make_user(f, "olga", "owner", "ml-dev", ow, sizeof(ow));

	as(f, &r, rd);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	assert_true(r.allowed);
	assert_string_equal(r.reasons, "role:reader@ml-dev");
	/* reader cannot delete, nor see another namespace */
	as(f, &r, rd);
	assert_int_equal(cf_core_object_delete(f->core, &r, "ml-dev", "k",
	    &out, NULL), CF_E_DENIED);
	as(f, &r, rd);
	assert_int_equal(cf_core_object_list(f->core, &r, "other", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_DENIED);
	/* writer cannot grant */
	as(f, &r, wr);
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "writer",
	    "ml-dev", &out, NULL), CF_E_DENIED);
	/* SEC: granting needs MFA, which an API token never carries (the
	 * grant rule)... */
	as(f, &r, ow);
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "writer",
	    "ml-dev", &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	assert_false(r.allowed);
	/* ...with it, an owner can grant on its namespace, not elsewhere,
	 * not admin (r.mfa stands in for a session that stepped up). */
	as(f, &r, ow);
	r.mfa = true;
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "writer",
	    "ml-dev", &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, ow);
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "reader",
	    "other", &out, NULL), CF_E_DENIED);
	as(f, &r, ow);
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "admin",
	    NULL, &out, NULL), CF_E_DENIED);
	/* only admin creates namespaces and principals */
	as(f, &r, ow);
	assert_int_equal(cf_core_ns_create(f->core, &r, "mine", "dev", &out,
	    NULL), CF_E_DENIED);
	as(f, &r, ow);
	assert_int_equal(cf_core_principal_create(f->core, &r, "x", "user",
	    &out, NULL), CF_E_DENIED);
	/* ns list is filtered */
	as(f, &r, rd);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "namespaces")),
	    1);
	json_decref(out);
}

static cf_err
count_rec(void *arg, json_t *rec, struct cf_error *err)
{
	(void)rec;
	(void)err;
	(*(size_t *)arg)++;
	return CF_OK;
}

/* The number of records in f's audit log. */
static size_t
audit_count(struct fixture *f)
{
	size_t	n = 0;

	assert_int_equal(cf_audit_read(f->dir, 0, 0, 0, count_rec, &n, NULL),
	    CF_OK);
	return n;
}

/* binding:create errors name what is wrong, and none leaves anything
 * behind for a later write. */
static void
test_core_binding_errors(void **state)
{
	struct fixture		*f = *state;
	struct cf_authfail_rec	 fr;
	struct cf_req		 r;
	json_t			*out = NULL;
	char			 tok[128], ns[32];
	const char		*roles[3] = { "reader", "writer", "owner" };
	size_t			 i, j, n;
	cf_err			 rc;

	make_user(f, "rita", NULL, NULL, tok, sizeof(tok));
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "reader",
	    "no-such-ns", &out, NULL), CF_E_NOTFOUND);
	assert_string_equal(r.errcode, "no_such_namespace");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "ghost", "reader",
	    NULL, &out, NULL), CF_E_NOTFOUND);
	assert_null(r.errcode);		/* the front end's no_such_principal */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "rita", "god",
	    NULL, &out, NULL), CF_E_INPUT);
	assert_string_equal(r.errcode, "invalid_name");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_delete(f->core, &r, "rita", "reader",
	    "no-such-ns", &out, NULL), CF_E_NOTFOUND);
	assert_string_equal(r.errcode, "no_such_namespace");
	/* Fill rita up to CF_BINDINGS_STORED_MAX, then one too many. */
	for (i = 0; i * 3 < CF_BINDINGS_STORED_MAX + 3; i++) {
		(void)snprintf(ns, sizeof(ns), "cap-%zu", i);
		as(f, &r, f->admin_token);
		assert_int_equal(cf_core_ns_create(f->core, &r, ns, "dev", &out,
		    NULL), CF_OK);
		json_decref(out);
		for (j = 0; j < 3; j++) {
			as(f, &r, f->admin_token);
			rc = cf_core_binding_create(f->core, &r, "rita",
			    roles[j], ns, &out, NULL);
			if (i * 3 + j < CF_BINDINGS_STORED_MAX) {
				assert_int_equal(rc, CF_OK);
				json_decref(out);
				continue;
			}
			assert_int_equal(rc, CF_E_INPUT);
			assert_string_equal(r.errcode, "too_many_bindings");
			/* SEC: an unrelated write on this thread afterwards
			 * writes no record left over from the refused
			 * change. */
			n = audit_count(f);
			assert_int_equal(cf_meta_authfail_add(f->core->meta,
			    "user:unrelated", cf_now_us(), 1000, 1000000, &fr,
			    NULL), CF_OK);
			assert_int_equal(audit_count(f), n);
		}
	}
}

/* Begin an act and return without ending or using it, as an early
 * return between core_act_begin and core_act_end would. */
static void
act_abandoned(struct fixture *f, struct cf_req *r)
{
	struct core_act	act;

	assert_int_equal(core_act_begin(&act, f->core, r, 201, NULL), CF_OK);
}

/* SEC: a change needs an act, an act needs an allowed decision, and an
 * act leaves nothing behind: what a later store call on this thread does
 * depends only on the obligation it is given. */
static void
test_core_act_structural(void **state)
{
	struct fixture		*f = *state;
	struct cf_ns_rec	 ns;
	struct core_act		 act;
	struct cf_req		 r;
	size_t			 n;
#ifndef NDEBUG
	pid_t			 pid;
	int			 status;
#endif
	cf_err			 rc;

	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	(void)cf_strlcpy(ns.created_by, "admin", sizeof(ns.created_by));

	/* An allowed act abandoned: no record, and a store call given no
	 * obligation afterwards is refused, not covered by it. */
	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize(f->core, &r, "ns:create", NULL,
	    "ns/left", NULL), CF_OK);
	n = audit_count(f);
	act_abandoned(f, &r);
	(void)cf_strlcpy(ns.name, "left", sizeof(ns.name));
	assert_int_equal(cf_meta_ns_create(f->core->meta, NULL, &ns, NULL),
	    CF_E_INTERNAL);
	assert_int_equal(cf_meta_ns_get(f->core->meta, "left", &ns, NULL),
	    CF_E_NOTFOUND);
	assert_int_equal(audit_count(f), n);

	/* The same request through a real act: one record, then the
	 * change; the request counts as audited. */
	assert_int_equal(core_act_begin(&act, f->core, &r, 201, NULL), CF_OK);
	rc = cf_meta_ns_create(f->core->meta, &act.au, &ns, NULL);
	assert_int_equal(core_act_end(&act, rc), CF_OK);
	assert_true(r.audited);
	assert_int_equal(audit_count(f), n + 1);
	assert_int_equal(cf_meta_ns_get(f->core->meta, "left", &ns, NULL),
	    CF_OK);

	/* A change that fails after its record: the request is left for
	 * its answer to record (the namespace exists now). */
	r.audited = false;
	assert_int_equal(core_act_begin(&act, f->core, &r, 201, NULL), CF_OK);
	assert_int_equal(core_act_record(&act, 0, NULL), CF_OK);
	rc = cf_meta_ns_create(f->core->meta, &act.au, &ns, NULL);
	assert_int_equal(core_act_end(&act, rc), CF_E_CONFLICT);
	assert_false(r.audited);

	/* A denied request gets no obligation: CF_E_INTERNAL (in a debug
	 * build the broken invariant aborts; see CF_NEVER). */
#ifdef NDEBUG
	as(f, &r, f->admin_token);
	cf_core_reject(f->core, &r, "ns:create", "denied");
	n = audit_count(f);
	assert_int_equal(core_act_begin(&act, f->core, &r, 201, NULL),
	    CF_E_INTERNAL);
	(void)cf_strlcpy(ns.name, "denied", sizeof(ns.name));
	assert_int_equal(cf_meta_ns_create(f->core->meta, &act.au, &ns,
	    NULL), CF_E_INTERNAL);
	assert_int_equal(core_act_record(&act, 0, NULL), CF_E_INTERNAL);
	assert_int_equal(audit_count(f), n);
	assert_int_equal(cf_meta_ns_get(f->core->meta, "denied", &ns, NULL),
	    CF_E_NOTFOUND);
#else
	as(f, &r, f->admin_token);
	cf_core_reject(f->core, &r, "ns:create", "denied");
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (core_act_begin(&act, f->core, &r, 201, NULL) != CF_OK)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#endif
}

static void
put_bytes(struct fixture *f, const char *token, const char *ns,
    const char *key, const void *data, size_t len, const char *sha,
    cf_err want)
{
	struct cf_req	 r;
	struct cf_put	*p = NULL;
	json_t		*out = NULL;
	cf_err		 rc;

	as(f, &r, token);
	rc = cf_core_put_begin(f->core, &r, ns, key, NULL, sha, NULL,
	    (int64_t)len, &p, NULL);
	if (rc != CF_OK) {
		assert_int_equal(rc, want);
		return;
	}
	assert_int_equal(cf_core_put_write(p, data, len, NULL), CF_OK);
	rc = cf_core_put_finish(p, token, &out, NULL);
	assert_int_equal(rc, want);
	if (rc == CF_OK) {
		assert_true(r.audited);
		assert_int_equal(json_integer_value(json_object_get(out,
		    "size")), (json_int_t)len);
	}
	json_decref(out);
}

/* An S3 checksum is kept with the version only in its clean form: a
 * known algorithm and base64 (it goes back out as a header value). */
static void
test_core_put_checksum_kept_and_checked(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_put	*p = NULL;
	struct cf_get	*g = NULL;
	json_t		*out = NULL;
	size_t		 i;
	static const char *const bad[][2] = { { "md5", "AAAAAA==" },
	    { "CRC32", "AAAAAA==" }, { "crc32", "" }, { "crc32", "AA\r\nX" },
	    { "crc32", "AA AA" }, { "", "AAAAAA==" },
	    { "sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } };

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "cksum", NULL, &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_put_begin(f->core, &r, "cksum", "k", NULL,
	    NULL, NULL, 5, &p, NULL), CF_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cf_core_put_checksum(p, bad[i][0], bad[i][1],
		    NULL), CF_E_INPUT);
	assert_int_equal(cf_core_put_checksum(p, "crc64nvme", "AbC+/123AA==",
	    NULL), CF_OK);
	assert_int_equal(cf_core_put_write(p, "hello", 5, NULL), CF_OK);
	assert_int_equal(cf_core_put_finish(p, f->admin_token, &out, NULL),
	    CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_get_open(f->core, &r, "cksum", "k", NULL, true,
	    &g, NULL), CF_OK);
	assert_string_equal(cf_core_get_view(g)->checksum,
	    "crc64nvme:AbC+/123AA==");
	cf_core_get_close(g);
	/* None given: none kept. */
	put_bytes(f, f->admin_token, "cksum", "k", "plain", 5, NULL, CF_OK);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_get_open(f->core, &r, "cksum", "k", NULL, true,
	    &g, NULL), CF_OK);
	assert_string_equal(cf_core_get_view(g)->checksum, "");
	cf_core_get_close(g);
}

static void
test_core_put_get_roundtrip_and_digest(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_get	*g = NULL;
	json_t		*out = NULL;
	uint8_t		*data, *back, d[CF_SHA256_LEN];
	char		 hex[65], bad[65];
	size_t		 len = 200000, got, off;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "data", NULL, &out,
	    NULL), CF_OK);
	json_decref(out);
	data = malloc(len);
	back = malloc(len);
	for (off = 0; off < len; off++)
		data[off] = (uint8_t)(off * 7 + 3);
	cf_sha256(data, len, d);
	cf_hex_encode(d, sizeof(d), hex);
	memcpy(bad, hex, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';
	put_bytes(f, f->admin_token, "data", "../../x", data, len, bad,
	    CF_E_INTEGRITY);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_get_open(f->core, &r, "data", "../../x", NULL,
	    false, &g, NULL), CF_E_NOTFOUND);
	put_bytes(f, f->admin_token, "data", "../../x", data, len, hex, CF_OK);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_get_open(f->core, &r, "data", "../../x", NULL,
	    false, &g, NULL), CF_OK);
	assert_string_equal(cf_core_get_view(g)->sha256, hex);
	for (off = 0; off < len; off += got)
		assert_int_equal(cf_core_get_read(g, off, back + off,
		    len - off, &got, NULL), CF_OK);
	assert_memory_equal(data, back, len);
	cf_core_get_close(g);
	/* delete marker hides the latest version */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_object_delete(f->core, &r, "data", "../../x",
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_get_open(f->core, &r, "data", "../../x", NULL,
	    false, &g, NULL), CF_E_NOTFOUND);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_object_versions(f->core, &r, "data", "../../x",
	    &out, NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "versions")), 2);
	json_decref(out);
	/* size limit */
	put_bytes(f, f->admin_token, "data", "big", data, 2 << 20, NULL,
	    CF_E_LIMIT);
	free(data);
	free(back);
}

static void
test_core_audit_records_every_decision(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_key	*master = NULL, *ak = NULL;
	json_t		*out = NULL;
	uint64_t	 count = 0, bad = 0;
	json_t		*rec = NULL;
	char		 mkpath[4096];
	size_t		 i;

	as(f, &r, NULL);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_E_AUTH);
	assert_int_equal(cf_core_audit(f->core, &r, 401, "unauthenticated", 0,
	    NULL), CF_OK);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(cf_core_audit(f->core, &r, 200, "ok", 0, NULL), CF_OK);
	assert_int_equal(cf_dd_master_key(f->dir, NULL, false, &master, NULL,
	    mkpath, sizeof(mkpath), NULL), CF_OK);
	assert_int_equal(cf_key_derive(master, CF_LABEL_AUDIT, &ak, NULL),
	    CF_OK);
	assert_int_equal(cf_audit_verify(f->dir, ak, &count, &bad, NULL),
	    CF_OK);
	assert_true(count >= 2);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_audit_read(f->core, &r, 0, 10, 0, &out, NULL),
	    CF_OK);
	assert_true(json_array_size(json_object_get(out, "records")) >= 2);
	/* The unauthenticated ns:list is there, denied (the fixture's own
	 * token mint comes first). */
	json_array_foreach(json_object_get(out, "records"), i, rec)
		if (strcmp(json_string_value(json_object_get(rec, "action")),
		    "ns:list") == 0)
			break;
	assert_true(i < json_array_size(json_object_get(out, "records")));
	assert_string_equal(json_string_value(json_object_get(rec,
	    "decision")), "deny");
	json_decref(out);
	cf_key_free(ak);
	cf_key_free(master);
}

/* ---- identity (issue 4) ---- */

#define PW_ALICE	"violet-otter-harbour-42"
#define PW_BOB		"amber-falcon-lantern-17"
#define PW_ROOT		"quiet-glacier-compass-88"
#define PW_NEW		"copper-meadow-thistle-63"

/* Configuration tweaks for the next fixture opened by setup_id. */
static int64_t	 id_free_failures = 100, id_lock_failures = 1000;
static const char *id_jwks;		/* OIDC: a fixed JWKS; NULL: off */
static bool	 id_provision;
/* The injected clock of brute-force counting (0: the real one). */
static int64_t	 id_clock_now;

static int64_t
id_clock(void)
{
	return id_clock_now != 0 ? id_clock_now : cf_now_us();
}
static char	*id_oidc_file;		/* oidc_config_file; NULL: none */
static bool	 id_keys_sched;		/* key_rotate_days 30, no thread */

static int
setup_id(void **state)
{
	struct fixture		*f;
	struct cf_core_config	 cfg;
	char			 boot[4096];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cf-test-core-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	cf_core_config_defaults(&cfg);
	cfg.data_dir = f->dir;
	cfg.max_object_size = 1 << 20;
	cfg.auth_free_failures = id_free_failures;
	cfg.auth_lock_failures = id_lock_failures;
	cfg.clock_us = id_clock;
	if (id_jwks != NULL) {
		cfg.oidc_issuer = "https://idp.example.test/realms/ml";
		cfg.oidc_audience = "coffer";
		cfg.oidc_jwks_json = id_jwks;
		cfg.oidc_group_roles =
		    "ml-admins=admin,ml-readers=reader@oidc-ns";
		cfg.oidc_provision = id_provision;
	}
	cfg.oidc_config_file = id_oidc_file;
	if (id_keys_sched) {
		cfg.key_rotate_days = 30;
		cfg.keys_no_thread = true;
	}
	xdg_in(f->dir);
	assert_int_equal(cf_core_open(&cfg, &f->core, boot, NULL), CF_OK);
	read_admin(f, boot);
	*state = f;
	return 0;
}

/* Another server process sharing the store changes the policies: this
 * one loads them within CORE_AUTHZ_POLL_US of its own clock, and not
 * before (issue 11: applied without restart, on every process). */
static void
test_core_policy_poll(void **state)
{
	struct fixture		*f = *state;
	struct cf_policy_rec	 p;
	struct cf_meta		*other = NULL;
	struct cf_req		 r;
	json_t			*out = NULL;
	char			 tok[128], path[4096];
	static const char	 text[] = "@id(\"no-rita\")\n"
	    "forbid (principal == User::\"rita\", action, resource);\n";

	id_clock_now = cf_now_us() + 10 * CORE_AUTHZ_POLL_US;
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "ml-dev", "dev", &out,
	    NULL), CF_OK);
	json_decref(out);
	make_user(f, "rita", "reader", "ml-dev", tok, sizeof(tok));
	as(f, &r, tok);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);

	/* The other process: the same store, its own handle. */
	assert_int_equal(cf_dd_path(f->dir, CF_DD_META, path, sizeof(path),
	    NULL), CF_OK);
	assert_int_equal(cf_meta_open(path, &other, NULL), CF_OK);
	memset(&p, 0, sizeof(p));
	cf_strlcpy(p.name, "ext", sizeof(p.name));
	cf_strlcpy(p.created_by, "admin", sizeof(p.created_by));
	assert_int_equal(cf_meta_policy_put(other, &au_ok, &p, text,
	    strlen(text), 0, NULL, NULL), CF_OK);

	/* Not yet: the last poll is less than the interval ago. */
	as(f, &r, tok);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	/* An interval later: loaded, and the forbid decides. */
	id_clock_now += CORE_AUTHZ_POLL_US;
	as(f, &r, tok);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_DENIED);
	assert_string_equal(r.reasons, "ext/v1:no-rita");
	cf_meta_close(other);
}

static int
setup_lock(void **state)
{
	id_free_failures = 2;
	id_lock_failures = 5;
	return setup_id(state);
}

static int
teardown_id(void **state)
{
	id_free_failures = 100;
	id_clock_now = 0;
	id_lock_failures = 1000;
	id_provision = false;
	return teardown(state);
}

/* Admin: create user name (password pw, NULL for none), with role on ns
 * when role is not NULL. */
static void
id_user(struct fixture *f, const char *name, const char *pw,
    const char *role, const char *ns)
{
	struct cf_req	 r;
	json_t		*out = NULL;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_create(f->core, &r, name, pw,
	    pw != NULL ? strlen(pw) : 0, &out, NULL), CF_OK);
	json_decref(out);
	if (role != NULL) {
		as(f, &r, f->admin_token);
		assert_int_equal(cf_core_binding_create(f->core, &r, name, role,
		    ns, &out, NULL), CF_OK);
		json_decref(out);
	}
}

static void
id_ns(struct fixture *f, const char *ns)
{
	struct cf_req	 r;
	json_t		*out = NULL;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, ns, NULL, &out, NULL),
	    CF_OK);
	json_decref(out);
}

/* Log in from source src; on success tok (if not NULL) gets the session.
 * r (if not NULL) keeps the request. */
static cf_err
id_login_from(struct fixture *f, const char *src, const char *user,
    const char *pw, const char *code, const char *recovery, char *tok,
    size_t toksz, struct cf_req *rout, struct cf_error *e)
{
	struct cf_req	 r;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_req_init(&r, src);
	assert_int_equal(cf_core_authenticate(f->core, &r, NULL, NULL), CF_OK);
	if (e != NULL)
		cf_error_clear(e);
	rc = cf_core_login(f->core, &r, user, pw, pw != NULL ? strlen(pw) : 0,
	    code, recovery, &out, e);
	if (rc == CF_OK) {
		assert_true(r.allowed);
		assert_true(cf_str_has_prefix(json_string_value(
		    json_object_get(out, "token")), "cfs_"));
		if (tok != NULL)
			cf_strlcpy(tok, json_string_value(json_object_get(out,
			    "token")), toksz);
		assert_int_equal(json_is_true(json_object_get(out, "mfa")),
		    r.mfa);
		json_decref(out);
	} else
		assert_false(r.allowed);
	if (rout != NULL)
		*rout = r;
	return rc;
}

static cf_err
id_login(struct fixture *f, const char *user, const char *pw,
    const char *code, const char *recovery, char *tok, size_t toksz,
    struct cf_req *rout)
{
	return id_login_from(f, "127.0.0.1", user, pw, code, recovery, tok,
	    toksz, rout, NULL);
}

/* The TOTP step now, with the wall clock frozen (the fixture's teardown
 * thaws it), so that steps s-1, s and s+1 stay within the window of 1
 * for the rest of the test however slowly the host runs it. */
static int64_t
safe_step(void)
{
	int64_t	now = cf_now_us();

	cf_test_clock_set(now);
	return cf_totp_step(now / 1000000);
}

static void
totp_code(const char *b32, int64_t step, char code[CF_TOTP_DIGITS + 1])
{
	uint8_t	sec[64];
	size_t	n = 0;

	assert_int_equal(cf_totp_b32_decode(b32, strlen(b32), sec, sizeof(sec),
	    &n, NULL), CF_OK);
	assert_int_equal(n, CF_TOTP_SECRET_LEN);
	assert_int_equal(cf_totp_generate(sec, n, step, code, NULL), CF_OK);
}

/* Enroll the holder of session tok and confirm with the code of step;
 * b32 gets the secret, rec (if not NULL) the first two recovery codes.
 * Confirming replaces the session: tok (CF_TOKEN_STR_MAX bytes) gets the
 * new one, which has MFA; the old one is revoked. */
static void
id_enroll(struct fixture *f, char *tok, int64_t step, char *b32,
    size_t b32sz, char rec[2][CF_RECOVERY_CODE_LEN + 1])
{
	struct cf_req	 r;
	json_t		*out = NULL, *codes;
	char		 code[CF_TOTP_DIGITS + 1];

	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_enroll(f->core, &r, &out, NULL), CF_OK);
	cf_strlcpy(b32, json_string_value(json_object_get(out, "secret")),
	    b32sz);
	assert_true(cf_str_has_prefix(json_string_value(json_object_get(out,
	    "uri")), "otpauth://totp/Coffer:"));
	codes = json_object_get(out, "recovery_codes");
	assert_int_equal(json_array_size(codes), CF_RECOVERY_CODES_DEFAULT);
	if (rec != NULL) {
		cf_strlcpy(rec[0], json_string_value(json_array_get(codes, 0)),
		    CF_RECOVERY_CODE_LEN + 1);
		cf_strlcpy(rec[1], json_string_value(json_array_get(codes, 1)),
		    CF_RECOVERY_CODE_LEN + 1);
	}
	json_decref(out);
	totp_code(b32, step, code);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_confirm(f->core, &r, code, &out, NULL),
	    CF_OK);
	assert_true(json_is_true(json_object_get(out, "mfa_enabled")));
	assert_true(json_is_true(json_object_get(out, "mfa")));
	as(f, &r, tok);
	assert_false(r.authenticated);		/* SEC: the old one is dead */
	cf_strlcpy(tok, json_string_value(json_object_get(out, "token")),
	    CF_TOKEN_STR_MAX);
	json_decref(out);
	as(f, &r, tok);
	assert_true(r.authenticated && r.mfa);
}

static void
test_core_login_success_and_uniform_failures(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_error	 e1, e2, e3, e4;
	json_t		*out = NULL;
	char		 tok[CF_TOKEN_STR_MAX];

	id_user(f, "alice", PW_ALICE, NULL, NULL);
	id_user(f, "nopw", NULL, NULL, NULL);
	id_user(f, "dora", PW_BOB, NULL, NULL);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	assert_string_equal(r.authn, "password");
	assert_false(r.mfa);
	as(f, &r, tok);
	assert_true(r.authenticated);
	assert_string_equal(r.authn, "session");
	assert_true(r.interactive);
	assert_string_equal(r.principal.name, "alice");

	/* Wrong password, unknown user, no password, disabled user: the same
	 * code and the same message. */
	assert_int_equal(id_login_from(f, "127.0.0.1", "alice", "wrong-"
	    "password-123", NULL, NULL, NULL, 0, &r, &e1), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	assert_int_equal(id_login_from(f, "127.0.0.1", "nobody", PW_ALICE,
	    NULL, NULL, NULL, 0, &r, &e2), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	assert_int_equal(id_login_from(f, "127.0.0.1", "nopw", PW_ALICE, NULL,
	    NULL, NULL, 0, &r, &e3), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "dora", true, &out,
	    NULL), CF_OK);
	json_decref(out);
	assert_int_equal(id_login_from(f, "127.0.0.1", "dora", PW_BOB, NULL,
	    NULL, NULL, 0, &r, &e4), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	assert_string_equal(e1.msg, e2.msg);
	assert_string_equal(e1.msg, e3.msg);
	assert_string_equal(e1.msg, e4.msg);
	/* Not a possible name at all: the same answer. */
	assert_int_equal(id_login(f, "Not A Name", PW_ALICE, NULL, NULL, NULL,
	    0, &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	/* Enabled again, dora logs in. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "dora", false, &out,
	    NULL), CF_OK);
	json_decref(out);
	assert_int_equal(id_login(f, "dora", PW_BOB, NULL, NULL, NULL, 0, &r),
	    CF_OK);
	/* A service account cannot log in with a password. */
	assert_int_equal(id_login(f, "admin", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_E_AUTH);
}

/* The brute-force counter of key, for checks. */
static struct cf_authfail_rec
af(struct fixture *f, const char *key)
{
	struct cf_authfail_rec	rec;

	assert_int_equal(cf_meta_authfail_get(f->core->meta, key, &rec, NULL),
	    CF_OK);
	return rec;
}

/* Rewrite the counter of key: count failures, the last at last_us. */
static void
af_set(struct fixture *f, const char *key, int64_t count, int64_t last_us)
{
	struct cf_authfail_rec	rec;
	int64_t			i;

	assert_int_equal(cf_meta_authfail_clear(f->core->meta, key, NULL),
	    CF_OK);
	for (i = 0; i < count; i++)
		assert_int_equal(cf_meta_authfail_add(f->core->meta, key,
		    last_us, 0, 0, &rec, NULL), CF_OK);
}

/* SEC: every decision goes through the monitor, in the way the action
 * registry gives the action; asked another way (a bug), it is denied. */
static void
test_core_monitor_decides_by_the_registry(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;

	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize_open(f->core, &r, "ns:create", "ns/x",
	    true, NULL), CF_E_INTERNAL);
	assert_false(r.allowed);
	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize_self(f->core, &r, "ns:create", "ns/x",
	    NULL), CF_E_INTERNAL);
	assert_false(r.allowed);
	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize_listing(f->core, &r, "user:list",
	    "users", NULL), CF_E_INTERNAL);
	assert_false(r.allowed);
	/* An action the registry does not know: no role allows it. */
	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize(f->core, &r, "object:steal", NULL,
	    "x", NULL), CF_E_DENIED);
	assert_false(r.allowed);
	/* The six that decided inline: health, whoami, ns:list, token:list,
	 * token:revoke (unauthenticated), login. */
	as(f, &r, NULL);
	assert_int_equal(cf_core_health(f->core, &r, &out, NULL), CF_OK);
	assert_true(r.allowed);
	assert_string_equal(r.action, "health");
	assert_string_equal(r.reasons, "public");
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_whoami(f->core, &r, &out, NULL), CF_OK);
	assert_string_equal(r.reasons, "self");
	json_decref(out);
	as(f, &r, NULL);
	assert_int_equal(cf_core_whoami(f->core, &r, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.action, "whoami");
	as(f, &r, NULL);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.reasons, "unauthenticated");
	as(f, &r, NULL);
	assert_int_equal(cf_core_token_list(f->core, &r, NULL, &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.action, "token:list");
	as(f, &r, NULL);
	assert_int_equal(cf_core_token_revoke(f->core, &r, "abc", &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.action, "token:revoke");
	as(f, &r, NULL);
	assert_int_equal(cf_core_login(f->core, &r, "nobody", "x", 1, NULL,
	    NULL, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.action, "session:login");
	assert_false(r.allowed);
}

static void
test_core_login_lockout(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	int64_t		 now;
	int		 i;

	id_clock_now = now = 1800000000000000LL;

	/* setup_lock: 2 free failures, lock at 5, 900 s. */
	id_user(f, "alice", PW_ALICE, NULL, NULL);
	/* An unknown name: two free failures, then a delay of 1 s. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(id_login(f, "ghost", "x-wrong-password-1",
		    NULL, NULL, NULL, 0, &r), CF_E_AUTH);
		assert_string_equal(r.errcode, "invalid_credentials");
	}
	assert_int_equal(af(f, "user:ghost").count, 2);
	assert_int_equal(id_login(f, "ghost", "x-wrong-password-1", NULL, NULL,
	    NULL, 0, &r), CF_E_LIMIT);
	assert_string_equal(r.errcode, "too_many_attempts");
	assert_int_equal(r.retry_after, 1);
	/* The refused attempt is not counted. */
	assert_int_equal(af(f, "user:ghost").count, 2);
	/* The delay grows: 2 s after 3 failures, 4 s after 4. */
	af_set(f, "user:ghost", 3, now - 1500000);
	assert_int_equal(id_login(f, "ghost", "x", NULL, NULL, NULL, 0, &r),
	    CF_E_LIMIT);
	assert_string_equal(r.errcode, "too_many_attempts");
	assert_int_equal(r.retry_after, 1);
	af_set(f, "user:ghost", 4, now - 3000000);
	assert_int_equal(id_login(f, "ghost", "x", NULL, NULL, NULL, 0, &r),
	    CF_E_LIMIT);
	assert_true(r.retry_after >= 1 && r.retry_after <= 2);
	/* Waited long enough: the attempt runs, and the 5th failure locks. */
	af_set(f, "user:ghost", 4, now - 5000000);
	assert_int_equal(id_login(f, "ghost", "x", NULL, NULL, NULL, 0, &r),
	    CF_E_AUTH);
	assert_non_null(strstr(r.reasons, "locked user"));
	assert_true(af(f, "user:ghost").locked_until_us > now);
	assert_int_equal(id_login(f, "ghost", "x", NULL, NULL, NULL, 0, &r),
	    CF_E_LIMIT);
	assert_string_equal(r.errcode, "locked");
	assert_true(r.retry_after > 890 && r.retry_after <= 900);

	/* An existing user: delayed and then locked even with the right
	 * password. */
	af_set(f, "user:alice", 2, now);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_E_LIMIT);
	assert_string_equal(r.errcode, "too_many_attempts");
	af_set(f, "user:alice", 4, now - 10000000);
	assert_int_equal(id_login(f, "alice", "x-wrong-password-1", NULL, NULL,
	    NULL, 0, &r), CF_E_AUTH);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_E_LIMIT);
	assert_string_equal(r.errcode, "locked");
	/* An expired lock is a fresh start; a success resets the user's
	 * counter, and of the address's only takes back its own attempt:
	 * logging in to an account one owns must not clear it. */
	af_set(f, "user:alice", 0, 0);
	af_set(f, "addr:127.0.0.1", 3, now);
	assert_int_equal(id_login(f, "alice", "x-wrong-password-1", NULL, NULL,
	    NULL, 0, &r), CF_E_AUTH);
	assert_int_equal(af(f, "user:alice").count, 1);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_OK);
	assert_int_equal(af(f, "user:alice").count, 0);
	assert_int_equal(af(f, "addr:127.0.0.1").count, 4);
}

static void
test_core_login_address_counter(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_error	 e;
	char		 name[32];
	int		 i;

	/* setup_lock: an address gets delays after 5 x 2 = 10 failures and
	 * is locked after 5 x 5 = 25. */
	id_user(f, "alice", PW_ALICE, NULL, NULL);
	for (i = 0; i < 4; i++) {
		(void)snprintf(name, sizeof(name), "spray%d", i);
		assert_int_equal(id_login_from(f, "10.0.0.9", name, "x", NULL,
		    NULL, NULL, 0, &r, &e), CF_E_AUTH);
	}
	assert_int_equal(af(f, "addr:10.0.0.9").count, 4);
	assert_int_equal(af(f, "addr:127.0.0.1").count, 0);
	/* Past the free failures, an attempt inside the delay is refused
	 * before any password is looked at, whoever the user is. */
	af_set(f, "addr:10.0.0.9", 12, cf_now_us());
	assert_int_equal(id_login_from(f, "10.0.0.9", "spray8", "x", NULL,
	    NULL, NULL, 0, &r, &e), CF_E_LIMIT);
	assert_string_equal(r.errcode, "too_many_attempts");
	assert_string_equal(r.reasons, "delayed address");
	assert_true(r.retry_after >= 1);
	assert_int_equal(af(f, "addr:10.0.0.9").count, 12);
	/* Once the delay has passed, the 25th failure locks the address. */
	af_set(f, "addr:10.0.0.9", 24, cf_now_us() - 3600LL * 1000000);
	assert_int_equal(id_login_from(f, "10.0.0.9", "spray9", "x", NULL,
	    NULL, NULL, 0, &r, &e), CF_E_AUTH);
	assert_non_null(strstr(r.reasons, "locked address"));
	/* The right password of another user, from the locked address. */
	assert_int_equal(id_login_from(f, "10.0.0.9", "alice", PW_ALICE, NULL,
	    NULL, NULL, 0, &r, &e), CF_E_LIMIT);
	assert_string_equal(r.errcode, "locked");
	assert_string_equal(r.reasons, "locked address");
	/* From elsewhere alice is fine. */
	assert_int_equal(id_login_from(f, "10.0.0.10", "alice", PW_ALICE, NULL,
	    NULL, NULL, 0, &r, &e), CF_OK);
	/* IPv6 counts by /64: two addresses of one prefix share a counter,
	 * another prefix has its own; IPv4 counts by the address (/32). */
	assert_int_equal(id_login_from(f, "2001:db8:1:2::1", "spray20", "x",
	    NULL, NULL, NULL, 0, &r, &e), CF_E_AUTH);
	assert_int_equal(id_login_from(f, "2001:db8:1:2:ffff::9", "spray21",
	    "x", NULL, NULL, NULL, 0, &r, &e), CF_E_AUTH);
	assert_int_equal(id_login_from(f, "2001:db8:1:3::1", "spray22", "x",
	    NULL, NULL, NULL, 0, &r, &e), CF_E_AUTH);
	assert_int_equal(af(f, "addr:2001:db8:1:2::/64").count, 2);
	assert_int_equal(af(f, "addr:2001:db8:1:3::/64").count, 1);
	assert_int_equal(af(f, "addr:10.0.0.10").count, 0);
}

static void
test_core_mfa_enroll_confirm_codes(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 tok[CF_TOKEN_STR_MAX], tok2[CF_TOKEN_STR_MAX];
	char		 b32[CF_TOTP_B32_MAX], code[CF_TOTP_DIGITS + 1];
	char		 bad[CF_TOTP_DIGITS + 1];
	char		 rec[2][CF_RECOVERY_CODE_LEN + 1];
	int64_t		 s;

	id_user(f, "alice", PW_ALICE, NULL, NULL);
	id_user(f, "bob", PW_BOB, NULL, NULL);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	s = safe_step();
	/* Pending enrollment: login needs no code yet; a wrong code does
	 * not confirm. */
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_enroll(f->core, &r, &out, NULL), CF_OK);
	cf_strlcpy(b32, json_string_value(json_object_get(out, "secret")),
	    sizeof(b32));
	json_decref(out);
	totp_code(b32, s - 1, code);
	cf_strlcpy(bad, code, sizeof(bad));
	bad[0] = bad[0] == '9' ? '0' : (char)(bad[0] + 1);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_confirm(f->core, &r, bad, &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_OK);
	assert_false(r.mfa);
	/* Re-enroll (replaces the pending one), confirm for real. */
	id_enroll(f, tok, s - 1, b32, sizeof(b32), rec);
	/* SEC: confirming replaces the enrolling session by one with MFA
	 * (id_enroll checks that the old one is revoked). */
	as(f, &r, tok);
	assert_true(r.mfa);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_enroll(f->core, &r, &out, NULL),
	    CF_E_CONFLICT);
	/* Now a code is needed. */
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	/* The confirming code cannot be replayed for a login. */
	totp_code(b32, s - 1, code);
	assert_int_equal(id_login(f, "alice", PW_ALICE, code, NULL, NULL, 0,
	    &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	assert_int_equal(id_login(f, "alice", PW_ALICE, bad, NULL, NULL, 0,
	    &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	assert_int_equal(id_login(f, "alice", PW_ALICE, "12345", NULL, NULL,
	    0, &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	/* A wrong password with a good code: invalid_credentials. */
	totp_code(b32, s, code);
	assert_int_equal(id_login(f, "alice", "wrong-password-123", code, NULL,
	    NULL, 0, &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	assert_int_equal(id_login(f, "alice", PW_ALICE, code, NULL, tok2,
	    sizeof(tok2), &r), CF_OK);
	assert_true(r.mfa);
	assert_string_equal(r.reasons, "password+totp");
	as(f, &r, tok2);
	assert_true(r.mfa);
	assert_true(r.mfa_age >= 0 && r.mfa_age < 60);
	/* The same code again: refused (replay). */
	assert_int_equal(id_login(f, "alice", PW_ALICE, code, NULL, NULL, 0,
	    &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	/* A recovery code works once, in any case and with dashes. */
	for (size_t i = 0; rec[0][i] != '\0'; i++)
		if (rec[0][i] >= 'a' && rec[0][i] <= 'z')
			rec[0][i] = (char)(rec[0][i] - 'a' + 'A');
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, rec[0], NULL, 0,
	    &r), CF_OK);
	assert_true(r.mfa);
	assert_string_equal(r.reasons, "password+recovery");
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, rec[0], NULL, 0,
	    &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, rec[1], NULL, 0,
	    &r), CF_OK);
	/* Another user's recovery code is no good for bob; and bob, without
	 * MFA, is refused a code after his password checked (issue 4, 2d). */
	assert_int_equal(id_login(f, "bob", PW_BOB, "123456", NULL, NULL, 0,
	    &r), CF_E_INPUT);
	assert_null(r.errcode);
	assert_int_equal(id_login(f, "bob", PW_BOB, NULL, rec[1], NULL, 0,
	    &r), CF_E_INPUT);
	/* ... but a wrong password with a code is invalid_credentials. */
	assert_int_equal(id_login(f, "bob", "wrong-password-123", "123456",
	    NULL, NULL, 0, &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	assert_int_equal(id_login(f, "bob", PW_BOB, NULL, NULL, NULL, 0, &r),
	    CF_OK);
	/* Disabling MFA needs the password and a fresh code. */
	as(f, &r, tok2);
	totp_code(b32, s + 1, code);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, "wrong-password-1",
	    16, code, NULL, &out, NULL), CF_E_AUTH);
	as(f, &r, tok2);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, PW_ALICE,
	    strlen(PW_ALICE), code, NULL, &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_OK);
	assert_false(r.mfa);
}

/* Lost phone: a recovery code stands in for the TOTP code when turning
 * MFA off, once; then the user enrolls again. */
static void
test_core_mfa_disable_with_recovery_code(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 tok[CF_TOKEN_STR_MAX], b32[CF_TOTP_B32_MAX];
	char		 rec[2][CF_RECOVERY_CODE_LEN + 1];
	char		 pend[2][CF_RECOVERY_CODE_LEN + 1];
	char		 code[CF_TOTP_DIGITS + 1];
	char		 longer[CF_RECOVERY_CODE_LEN + 96];
	int64_t		 s;

	id_user(f, "alice", PW_ALICE, NULL, NULL);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	s = safe_step();
	id_enroll(f, tok, s - 1, b32, sizeof(b32), rec);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, rec[0], tok,
	    sizeof(tok), &r), CF_OK);
	/* The code used to log in is spent; a wrong password stays wrong. */
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, PW_ALICE,
	    strlen(PW_ALICE), NULL, rec[0], &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	assert_false(r.allowed);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, "wrong-password-1",
	    16, NULL, rec[1], &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_credentials");
	/* Padding that a cut would drop is refused, not cut. */
	(void)snprintf(longer, sizeof(longer), "%s%080d", rec[1], 0);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, PW_ALICE,
	    strlen(PW_ALICE), NULL, longer, &out, NULL), CF_E_INPUT);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, PW_ALICE,
	    strlen(PW_ALICE), NULL, rec[1], &out, NULL), CF_OK);
	assert_true(r.allowed);
	assert_string_equal(r.reasons, "self+recovery");
	assert_false(json_is_true(json_object_get(out, "mfa_enabled")));
	json_decref(out);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_OK);
	/* The codes of an enrollment not yet confirmed prove nothing. */
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_enroll(f->core, &r, &out, NULL), CF_OK);
	cf_strlcpy(pend[0], json_string_value(json_array_get(json_object_get(
	    out, "recovery_codes"), 0)), sizeof(pend[0]));
	json_decref(out);
	as(f, &r, tok);
	assert_int_equal(cf_core_mfa_disable(f->core, &r, PW_ALICE,
	    strlen(PW_ALICE), NULL, pend[0], &out, NULL), CF_E_CONFLICT);
	/* Enroll again (a new phone), and log in with it. */
	id_enroll(f, tok, s, b32, sizeof(b32), pend);
	totp_code(b32, s + 1, code);
	assert_int_equal(id_login(f, "alice", PW_ALICE, code, NULL, NULL, 0,
	    &r), CF_OK);
	assert_true(r.mfa);
}

/* No recovery code left: an admin resets the user's MFA, which ends the
 * user's sessions; the user logs in with the password and enrolls. */
static void
test_core_user_mfa_reset(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 tok[CF_TOKEN_STR_MAX], btok[CF_TOKEN_STR_MAX];
	char		 api[CF_TOKEN_STR_MAX], b32[CF_TOTP_B32_MAX];
	char		 rec[2][CF_RECOVERY_CODE_LEN + 1];
	char		 code[CF_TOTP_DIGITS + 1];
	int64_t		 s;

	id_user(f, "alice", PW_ALICE, NULL, NULL);
	id_user(f, "bob", PW_BOB, "owner", NULL);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	as(f, &r, tok);
	assert_int_equal(cf_core_token_create(f->core, &r, "alice", 0, "api",
	    &out, NULL), CF_OK);
	cf_strlcpy(api, json_string_value(json_object_get(out, "token")),
	    sizeof(api));
	json_decref(out);
	s = safe_step();
	id_enroll(f, tok, s - 1, b32, sizeof(b32), rec);
	totp_code(b32, s, code);
	assert_int_equal(id_login(f, "alice", PW_ALICE, code, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	/* Not an admin (a global owner is not): denied, nothing changes;
	 * nor may alice reset her own. */
	assert_int_equal(id_login(f, "bob", PW_BOB, NULL, NULL, btok,
	    sizeof(btok), &r), CF_OK);
	as(f, &r, btok);
	assert_int_equal(cf_core_user_mfa_reset(f->core, &r, "alice", &out,
	    NULL), CF_E_DENIED);
	assert_false(r.allowed);
	assert_string_equal(r.action, "user:mfa-reset");
	as(f, &r, tok);
	assert_int_equal(cf_core_user_mfa_reset(f->core, &r, "alice", &out,
	    NULL), CF_E_DENIED);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_mfa_reset(f->core, &r, "nobody", &out,
	    NULL), CF_E_NOTFOUND);
	/* Nor an admin their own: an admin API token alone (never MFA) must
	 * not strip its owner's second factor; that is mfa disable. */
	assert_int_equal(cf_core_user_mfa_reset(f->core, &r, "admin", &out,
	    NULL), CF_E_DENIED);
	assert_false(r.allowed);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, NULL, 0,
	    &r), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	/* The admin resets: MFA off, the session ends, the API token stays. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_mfa_reset(f->core, &r, "alice", &out,
	    NULL), CF_OK);
	assert_true(r.allowed);
	assert_string_equal(r.resource, "user/alice/mfa");
	assert_false(json_is_true(json_object_get(out, "mfa_enabled")));
	json_decref(out);
	as(f, &r, tok);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "revoked-token");
	as(f, &r, api);
	assert_true(r.authenticated);
	/* Her recovery codes went too; the password alone logs her in. */
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, rec[0], NULL, 0,
	    &r), CF_E_INPUT);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	assert_false(r.mfa);
	/* Again: no MFA is no error. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_mfa_reset(f->core, &r, "alice", &out,
	    NULL), CF_OK);
	json_decref(out);
	/* The new phone. */
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, tok,
	    sizeof(tok), &r), CF_OK);
	id_enroll(f, tok, s, b32, sizeof(b32), NULL);
	totp_code(b32, s + 1, code);
	assert_int_equal(id_login(f, "alice", PW_ALICE, code, NULL, NULL, 0,
	    &r), CF_OK);
	assert_true(r.mfa);
}

static void
test_core_mfa_required_and_stepup(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 bt[CF_TOKEN_STR_MAX], bs[CF_TOKEN_STR_MAX];
	char		 ct[CF_TOKEN_STR_MAX], rs[CF_TOKEN_STR_MAX];
	char		 rs2[CF_TOKEN_STR_MAX];
	char		 b32[CF_TOTP_B32_MAX], rb32[CF_TOTP_B32_MAX];
	char		 code[CF_TOTP_DIGITS + 1];
	int64_t		 s;

	id_ns(f, "ml-dev");
	id_user(f, "bob", PW_BOB, "writer", "ml-dev");
	id_user(f, "carl", PW_ALICE, "reader", "ml-dev");
	id_user(f, "root", PW_ROOT, "admin", NULL);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_token_create(f->core, &r, "bob", 0, "t", &out,
	    NULL), CF_OK);
	cf_strlcpy(bt, json_string_value(json_object_get(out, "token")),
	    sizeof(bt));
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_token_create(f->core, &r, "carl", 0, "t",
	    &out, NULL), CF_OK);
	cf_strlcpy(ct, json_string_value(json_object_get(out, "token")),
	    sizeof(ct));
	json_decref(out);
	assert_int_equal(id_login(f, "bob", PW_BOB, NULL, NULL, bs,
	    sizeof(bs), &r), CF_OK);
	as(f, &r, bt);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);

	/* A flagged user: API token and plain session refused. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_mfa_required(f->core, &r, "bob", true,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, bt);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	/* Step-up: not before enrolling, then with a wrong code, then ok. */
	s = safe_step();
	totp_code("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", s, code);
	as(f, &r, bs);
	assert_int_equal(cf_core_session_mfa(f->core, &r, code, &out, NULL),
	    CF_E_CONFLICT);
	id_enroll(f, bs, s - 1, b32, sizeof(b32), NULL);
	as(f, &r, bs);
	assert_int_equal(cf_core_session_mfa(f->core, &r, "000000", &out,
	    NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "invalid_code");
	totp_code(b32, s, code);
	as(f, &r, bt);		/* an API token cannot step up */
	assert_int_equal(cf_core_session_mfa(f->core, &r, code, &out, NULL),
	    CF_E_INPUT);
	as(f, &r, bs);
	assert_int_equal(cf_core_session_mfa(f->core, &r, code, &out, NULL),
	    CF_OK);
	assert_true(json_is_true(json_object_get(out, "mfa")));
	/* SEC: step-up replaces the session; the old token is dead. */
	as(f, &r, bs);
	assert_false(r.authenticated);
	cf_strlcpy(bs, json_string_value(json_object_get(out, "token")),
	    sizeof(bs));
	json_decref(out);
	as(f, &r, bs);
	assert_true(r.mfa);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, bt);		/* API tokens never carry MFA */
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_AUTH);

	/* A flagged role: writer needs MFA, reader does not. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_mfa_required(f->core, &r, "bob", false,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_role_mfa_required(f->core, &r, "writer", true,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, bt);
	assert_int_equal(cf_core_object_delete(f->core, &r, "ml-dev", "k", &out,
	    NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	as(f, &r, ct);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);

	/* mfa_admin_actions: an admin session without MFA cannot list users;
	 * the bootstrap API token can. */
	assert_int_equal(id_login(f, "root", PW_ROOT, NULL, NULL, rs,
	    sizeof(rs), &r), CF_OK);
	as(f, &r, rs);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);

	/* SEC (issue 4, 2b): flagging admin needs a request with MFA. */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_role_mfa_required(f->core, &r, "admin", true,
	    &out, NULL), CF_E_INPUT);
	assert_false(r.allowed);
	assert_string_equal(r.errcode, "bad_request");
	id_enroll(f, rs, s - 1, rb32, sizeof(rb32), NULL);
	totp_code(rb32, s, code);
	assert_int_equal(id_login(f, "root", PW_ROOT, code, NULL, rs2,
	    sizeof(rs2), &r), CF_OK);
	as(f, &r, rs2);
	assert_int_equal(cf_core_role_mfa_required(f->core, &r, "admin", true,
	    &out, NULL), CF_OK);
	json_decref(out);
	/* Now the admin API token needs MFA for admin work ... */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	/* ... and root's MFA session can still undo it. */
	as(f, &r, rs2);
	assert_int_equal(cf_core_role_mfa_required(f->core, &r, "admin", false,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
}

/* The id of the token text tok (as authenticated). */
static void
tok_id(struct fixture *f, const char *tok, char id[CF_TOKEN_ID_LEN + 1])
{
	struct cf_req	r;

	as(f, &r, tok);
	assert_true(r.authenticated);
	cf_strlcpy(id, r.token_id, CF_TOKEN_ID_LEN + 1);
}

static void
test_core_sessions(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL, *arr, *t;
	char		 s1[CF_TOKEN_STR_MAX], s2[CF_TOKEN_STR_MAX];
	char		 s3[CF_TOKEN_STR_MAX], api[CF_TOKEN_STR_MAX];
	char		 id1[CF_TOKEN_ID_LEN + 1];
	size_t		 i, nsess = 0;

	id_user(f, "alice", PW_ALICE, NULL, NULL);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, s1,
	    sizeof(s1), &r), CF_OK);
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, s2,
	    sizeof(s2), &r), CF_OK);
	as(f, &r, s1);
	assert_int_equal(cf_core_token_create(f->core, &r, "alice", 0, "api",
	    &out, NULL), CF_OK);
	cf_strlcpy(api, json_string_value(json_object_get(out, "token")),
	    sizeof(api));
	json_decref(out);
	tok_id(f, s1, id1);
	/* Kinds in the listing. */
	as(f, &r, s1);
	assert_int_equal(cf_core_token_list(f->core, &r, NULL, &out, NULL),
	    CF_OK);
	arr = json_object_get(out, "tokens");
	json_array_foreach(arr, i, t)
		if (strcmp(json_string_value(json_object_get(t, "kind")),
		    "session") == 0)
			nsess++;
		else
			assert_string_equal(json_string_value(json_object_get(t,
			    "kind")), "api");
	assert_int_equal(nsess, 2);
	assert_int_equal(json_array_size(arr), 3);
	json_decref(out);
	/* The prefix is part of the secret: a session is not an API token. */
	s1[2] = 't';
	as(f, &r, s1);
	assert_false(r.authenticated);
	s1[2] = 's';
	/* Expiry: session_ttl (12 h by default). */
	as(f, &r, s1);
	assert_true(r.authenticated);
	r.time_us += 43201LL * 1000000;
	assert_int_equal(cf_core_authenticate(f->core, &r, s1, NULL), CF_OK);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "expired-token");
	/* Logout revokes the calling session only, and only a session. */
	as(f, &r, api);
	assert_int_equal(cf_core_logout(f->core, &r, &out, NULL), CF_E_INPUT);
	as(f, &r, s1);
	assert_int_equal(cf_core_logout(f->core, &r, &out, NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(out,
	    "revoked")), id1);
	json_decref(out);
	as(f, &r, s1);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "revoked-token");
	as(f, &r, s2);
	assert_true(r.authenticated);

	/* Changing one's own password ends the other sessions, keeps this
	 * one and the API tokens (issue 4, 2c). */
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, s3,
	    sizeof(s3), &r), CF_OK);
	as(f, &r, s2);
	assert_int_equal(cf_core_user_passwd(f->core, &r, "alice", PW_NEW,
	    strlen(PW_NEW), "wrong-password-1", 16, &out, NULL), CF_E_AUTH);
	as(f, &r, s2);
	assert_int_equal(cf_core_user_passwd(f->core, &r, "alice", PW_NEW,
	    strlen(PW_NEW), PW_ALICE, strlen(PW_ALICE), &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, s3);
	assert_false(r.authenticated);
	as(f, &r, s2);
	assert_true(r.authenticated);
	as(f, &r, api);
	assert_true(r.authenticated);
	/* An admin reset ends every session; API tokens stay. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_passwd(f->core, &r, "alice", PW_ALICE,
	    strlen(PW_ALICE), NULL, 0, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, s2);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "revoked-token");
	as(f, &r, api);
	assert_true(r.authenticated);
	/* Disable: everything stops at once; after enable the sessions stay
	 * revoked, the API token works again. */
	assert_int_equal(id_login(f, "alice", PW_ALICE, NULL, NULL, s3,
	    sizeof(s3), &r), CF_OK);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "alice", true, &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, api);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "disabled-principal");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "alice", false,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, s3);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "revoked-token");
	as(f, &r, api);
	assert_true(r.authenticated);
}

static void
test_core_scoped_tokens_and_service_accounts(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 dt[CF_TOKEN_STR_MAX], sc[CF_TOKEN_STR_MAX];
	char		 sc2[CF_TOKEN_STR_MAX], svc[CF_TOKEN_STR_MAX];

	id_ns(f, "ml-dev");
	id_ns(f, "ds-data");
	id_user(f, "dave", PW_ALICE, "writer", "ml-dev");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "dave", "reader",
	    "ds-data", &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_token_create(f->core, &r, "dave", 0, "t", &out,
	    NULL), CF_OK);
	cf_strlcpy(dt, json_string_value(json_object_get(out, "token")),
	    sizeof(dt));
	json_decref(out);
	/* dave makes himself a token scoped to listing, on ml and ds, and
	 * one that names an action his roles do not give him on ds. */
	as(f, &r, dt);
	assert_int_equal(cf_core_token_create_scoped(f->core, &r, "dave", 3600,
	    "s", "{\"actions\":[\"object:list\",\"object:delete\"],"
	    "\"namespaces\":[\"ml-dev\",\"ds-data\"]}", &out, NULL), CF_OK);
	cf_strlcpy(sc, json_string_value(json_object_get(out, "token")),
	    sizeof(sc));
	json_decref(out);
	as(f, &r, sc);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, sc);
	assert_int_equal(cf_core_object_list(f->core, &r, "ds-data", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	/* Outside the scope: object:put on ml, although dave may. */
	as(f, &r, sc);
	assert_int_equal(cf_core_object_versions(f->core, &r, "ml-dev", "k",
	    &out, NULL), CF_E_DENIED);
	assert_string_equal(r.reasons, "outside token scope");
	/* In the scope but beyond the owner: delete on ds (reader). */
	as(f, &r, sc);
	assert_int_equal(cf_core_object_delete(f->core, &r, "ds-data", "k",
	    &out, NULL), CF_E_DENIED);
	assert_string_equal(r.reasons, "no matching role");
	/* Global actions are out of scope too. */
	as(f, &r, sc);
	assert_int_equal(cf_core_ns_create(f->core, &r, "new-ns", NULL, &out,
	    NULL), CF_E_DENIED);
	/* A token made by a scoped token: inherits, never widens.  sc has
	 * no token:create (and namespace scopes cover no global action). */
	as(f, &r, sc);
	assert_int_equal(cf_core_token_create_scoped(f->core, &r, "dave", 600,
	    "s", NULL, &out, NULL), CF_E_DENIED);
	as(f, &r, dt);
	assert_int_equal(cf_core_token_create_scoped(f->core, &r, "dave", 3600,
	    "m", "{\"actions\":[\"object:list\",\"token:create\"]}", &out,
	    NULL), CF_OK);
	cf_strlcpy(sc, json_string_value(json_object_get(out, "token")),
	    sizeof(sc));
	json_decref(out);
	as(f, &r, sc);
	assert_int_equal(cf_core_token_create_scoped(f->core, &r, "dave", 600,
	    "s", "{\"actions\":[\"object:list\",\"object:put\"]}", &out,
	    NULL), CF_E_DENIED);
	as(f, &r, sc);
	assert_int_equal(cf_core_token_create_scoped(f->core, &r, "dave", 600,
	    "s", NULL, &out, NULL), CF_OK);
	cf_strlcpy(sc2, json_string_value(json_object_get(out, "token")),
	    sizeof(sc2));
	assert_true(json_is_object(json_object_get(out, "scope")));
	json_decref(out);
	as(f, &r, sc2);
	assert_int_equal(cf_core_object_list(f->core, &r, "ml-dev", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, sc2);
	assert_int_equal(cf_core_object_versions(f->core, &r, "ml-dev", "k",
	    &out, NULL), CF_E_DENIED);

	/* Service accounts: an owner that exists and is a user. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_principal_create_owned(f->core, &r, "ci",
	    "service", NULL, &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_principal_create_owned(f->core, &r, "ci",
	    "service", "nobody", &out, NULL), CF_E_NOTFOUND);
	assert_string_equal(r.errcode, "no_such_principal");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_principal_create_owned(f->core, &r, "ci",
	    "service", "dave", &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_principal_create_owned(f->core, &r, "ci2",
	    "service", "ci", &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "ci", "reader",
	    "ds-data", &out, NULL), CF_OK);
	json_decref(out);
	/* The owner makes its tokens; they must expire. */
	as(f, &r, dt);
	assert_int_equal(cf_core_token_create(f->core, &r, "ci", 0, "ci", &out,
	    NULL), CF_E_INPUT);
	as(f, &r, dt);
	assert_int_equal(cf_core_token_create(f->core, &r, "ci", 3600, "ci",
	    &out, NULL), CF_OK);
	cf_strlcpy(svc, json_string_value(json_object_get(out, "token")),
	    sizeof(svc));
	json_decref(out);
	as(f, &r, svc);
	assert_int_equal(cf_core_object_list(f->core, &r, "ds-data", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	/* Nobody else's users: dave cannot mint for admin. */
	as(f, &r, dt);
	assert_int_equal(cf_core_token_create(f->core, &r, "admin", 3600, "x",
	    &out, NULL), CF_E_DENIED);
	/* The service account stops while its owner is disabled. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "dave", true, &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, svc);
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "disabled-owner");
}

/* ---- OIDC ---- */

#define OIDC_ISS	"https://idp.example.test/realms/ml"

static jwk_t	*oidc_priv, *oidc_pub, *oidc_other_priv, *oidc_other_pub;
static char	*oidc_jwks_doc;

static void
oidc_keys(void)
{
	jwks_t	*ks = NULL;

	if (oidc_jwks_doc != NULL)
		return;
	assert_int_equal(r_global_init(), RHN_OK);
	assert_int_equal(r_jwk_init(&oidc_priv), RHN_OK);
	assert_int_equal(r_jwk_init(&oidc_pub), RHN_OK);
	assert_int_equal(r_jwk_generate_key_pair(oidc_priv, oidc_pub,
	    R_KEY_TYPE_EC, 256, "ec-1"), RHN_OK);
	assert_int_equal(r_jwk_init(&oidc_other_priv), RHN_OK);
	assert_int_equal(r_jwk_init(&oidc_other_pub), RHN_OK);
	assert_int_equal(r_jwk_generate_key_pair(oidc_other_priv,
	    oidc_other_pub, R_KEY_TYPE_EC, 256, "ec-1"), RHN_OK);
	assert_int_equal(r_jwks_init(&ks), RHN_OK);
	assert_int_equal(r_jwks_append_jwk(ks, oidc_pub), RHN_OK);
	oidc_jwks_doc = r_jwks_export_to_json_str(ks, 0);
	assert_non_null(oidc_jwks_doc);
	r_jwks_free(ks);
}

static int
oidc_group_teardown(void **state)
{
	(void)state;
	r_jwk_free(oidc_priv);
	r_jwk_free(oidc_pub);
	r_jwk_free(oidc_other_priv);
	r_jwk_free(oidc_other_pub);
	r_free(oidc_jwks_doc);
	if (oidc_jwks_doc != NULL)
		r_global_close();
	return 0;
}

static int
setup_oidc(void **state)
{
	oidc_keys();
	id_jwks = oidc_jwks_doc;
	return setup_id(state);
}

static int
setup_oidc_prov(void **state)
{
	id_provision = true;
	return setup_oidc(state);
}

static int
teardown_oidc(void **state)
{
	id_jwks = NULL;
	return teardown_id(state);
}

/* The claims (JSON text) signed by key (ES256). */
static char *
oidc_sign(jwk_t *key, const char *claims)
{
	jws_t	*jws = NULL;
	char	*t, *dup;

	assert_int_equal(r_jws_init(&jws), RHN_OK);
	assert_int_equal(r_jws_set_alg(jws, R_JWA_ALG_ES256), RHN_OK);
	assert_int_equal(r_jws_set_payload(jws, (const unsigned char *)claims,
	    strlen(claims)), RHN_OK);
	t = r_jws_serialize(jws, key, 0);
	assert_non_null(t);
	dup = strdup(t);
	assert_non_null(dup);
	r_free(t);
	r_jws_free(jws);
	return dup;
}

/* A token for user (sub "id-USER", or sub when not NULL) signed by key
 * (ES256), with extra claims (a JSON fragment starting with ',' or "");
 * exp offset from now. */
static char *
oidc_token_full(jwk_t *key, const char *iss, const char *aud,
    const char *user, const char *sub, int64_t exp_in, const char *extra)
{
	char	 claims[1024], subj[256];
	int64_t	 now = cf_now_us() / 1000000;

	if (sub != NULL)
		cf_strlcpy(subj, sub, sizeof(subj));
	else
		(void)snprintf(subj, sizeof(subj), "id-%s", user);
	(void)snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"aud\":\"%s\","
	    "\"sub\":\"%s\",\"preferred_username\":\"%s\",\"iat\":%lld,"
	    "\"nbf\":%lld,\"exp\":%lld%s}", iss, aud, subj, user,
	    (long long)now - 5, (long long)now - 5, (long long)(now + exp_in),
	    extra);
	return oidc_sign(key, claims);
}

/* A token for user signed by key (ES256), with extra claims (a JSON
 * fragment starting with ',' or ""); exp offset from now. */
static char *
oidc_token(jwk_t *key, const char *iss, const char *aud, const char *user,
    int64_t exp_in, const char *extra)
{
	return oidc_token_full(key, iss, aud, user, NULL, exp_in, extra);
}

static char *
oidc_token_sub(jwk_t *key, const char *user, const char *sub)
{
	return oidc_token_full(key, OIDC_ISS, "coffer", user, sub, 300, "");
}

/* Authenticate tok and expect (not) to be authenticated as user. */
static void
oidc_as(struct fixture *f, struct cf_req *r, char *tok)
{
	as(f, r, tok);
	free(tok);
}

/* Admin (MFA session): link (iss, sub) to user name. */
static void
oidc_link(struct fixture *f, const char *name, const char *iss,
    const char *sub)
{
	struct cf_req	 r;
	json_t		*out = NULL;
	bool		 created = false;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, name, iss, sub,
	    &created, &out, NULL), CF_OK);
	assert_true(created);
	assert_string_equal(r.action, "user:link-oidc");
	json_decref(out);
}

static void
test_core_oidc_bearer(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		*t, *dot;
	size_t		 i;
	bool		 found;

	id_ns(f, "oidc-ns");
	id_user(f, "alice", NULL, NULL, NULL);
	/* SEC: a user of the same name is not enough: the identity must be
	 * linked to it. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unlinked-subject");
	oidc_link(f, "alice", OIDC_ISS, "id-alice");
	/* Valid: authenticated as alice, interactive, no MFA, no roles. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ""));
	assert_true(r.authenticated);
	assert_string_equal(r.authn, "oidc");
	assert_true(r.interactive);
	assert_false(r.mfa);
	assert_string_equal(r.principal.name, "alice");
	assert_int_equal(r.nbindings, 0);
	assert_int_equal(cf_core_object_list(f->core, &r, "oidc-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_E_DENIED);
	/* Groups map to request-local roles. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ",\"groups\":[\"ml-readers\",\"unmapped\"]"));
	assert_true(r.authenticated);
	assert_int_equal(r.nbindings, 1);
	assert_string_equal(r.bindings[0].role, "reader");
	assert_string_equal(r.bindings[0].ns, "oidc-ns");
	assert_int_equal(cf_core_object_list(f->core, &r, "oidc-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	/* ... nothing is stored. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_list(f->core, &r, "alice", NULL, &out,
	    NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "bindings")), 0);
	json_decref(out);
	/* An admin group without MFA: admin actions need MFA; amr mfa does
	 * it. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ",\"groups\":[\"ml-admins\"],\"amr\":[\"pwd\"]"));
	assert_true(r.authenticated);
	assert_false(r.mfa);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ",\"groups\":[\"ml-admins\"],\"amr\":[\"pwd\",\"mfa\"]"));
	assert_true(r.mfa);
	assert_true(r.mfa_age >= 0 && r.mfa_age < 60);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	/* An unknown user without provisioning: refused, not created. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "mallory",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unlinked-subject");
	/* SEC: the bootstrap admin's name in the name claim is nothing. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "admin", 300,
	    ",\"groups\":[\"ml-admins\"],\"amr\":[\"mfa\"]"));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unlinked-subject");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	found = false;
	for (i = 0; i < json_array_size(json_object_get(out, "users")); i++)
		found = found || strcmp(json_string_value(json_object_get(
		    json_array_get(json_object_get(out, "users"), i), "name")),
		    "mallory") == 0;
	assert_false(found);
	json_decref(out);
	/* Bad tokens: the record's authn says which rule failed. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", -120,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-expired");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "other", "alice", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-wrong-audience");
	oidc_as(f, &r, oidc_token(oidc_priv, "https://evil.example", "coffer",
	    "alice", 300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unknown-issuer");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ",\"auth_time\":99999999999"));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-not-yet-valid");
	as(f, &r, "e30.e30.c2ln");		/* {}.{}: no iss */
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-wrong-issuer");
	as(f, &r, "e30.bm90IGpzb24.c2ln");	/* payload "not json" */
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-malformed");
	/* Signed by another key with the same kid. */
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS, "coffer", "alice",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-bad-signature");
	/* alg none: the header replaced, the signature kept. */
	t = oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300, "");
	dot = strchr(t, '.');
	assert_non_null(dot);
	{
		char	forged[4096];

		(void)snprintf(forged, sizeof(forged), "%s%s",
		    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", dot);
		as(f, &r, forged);
		assert_false(r.authenticated);
		assert_string_equal(r.authn, "oidc-bad-alg");
	}
	/* A tampered payload. */
	dot[3] = dot[3] == 'A' ? 'B' : 'A';
	oidc_as(f, &r, t);
	assert_false(r.authenticated);
	/* A linked subject: the name claim is only for display, so one
	 * that is no principal name (an e-mail address) is no obstacle. */
	oidc_link(f, "alice", OIDC_ISS, "id-alice@example.com");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer",
	    "alice@example.com", 300, ""));
	assert_true(r.authenticated);
	assert_string_equal(r.principal.name, "alice");
	/* A disabled user. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "alice", true, &out,
	    NULL), CF_OK);
	json_decref(out);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "disabled-principal");
}

/* Link and unlink: the grant rule, input checks, conflicts. */
static void
test_core_oidc_link_admin(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	bool		 created = true;

	id_user(f, "alice", NULL, NULL, NULL);
	id_user(f, "bob", NULL, NULL, NULL);
	/* SEC: an API token cannot hand out an account (grant rule). */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "alice", OIDC_ISS,
	    "s-1", &created, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	assert_false(r.allowed);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "x", 300,
	    ""));
	assert_false(r.authenticated);
	/* Unknown user, unconfigured issuer, bad subject. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "nobody",
	    OIDC_ISS, "s-1", &created, &out, NULL), CF_E_NOTFOUND);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "alice",
	    OIDC_ISS "/", "s-1", &created, &out, NULL), CF_E_INPUT);
	assert_false(r.allowed);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "alice", OIDC_ISS,
	    "a\nb", &created, &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "alice", OIDC_ISS,
	    "", &created, &out, NULL), CF_E_INPUT);
	/* Linked; again is no error; to another user is a conflict. */
	oidc_link(f, "alice", OIDC_ISS, "id-x");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "alice", OIDC_ISS,
	    "id-x", &created, &out, NULL), CF_OK);
	assert_false(created);
	assert_int_equal(json_array_size(json_object_get(out, "oidc_links")),
	    1);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_link(f->core, &r, "bob", OIDC_ISS,
	    "id-x", &created, &out, NULL), CF_E_CONFLICT);
	assert_string_equal(r.errcode, "already_linked");
	/* The token of sub id-x (name claim "x") is alice. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "x", 300,
	    ""));
	assert_true(r.authenticated);
	assert_string_equal(r.principal.name, "alice");
	/* Unlink: only the user's own link; then the token is refused. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_unlink(f->core, &r, "bob", OIDC_ISS,
	    "id-x", &out, NULL), CF_E_NOTFOUND);
	assert_string_equal(r.errcode, "no_such_link");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_unlink(f->core, &r, "alice",
	    OIDC_ISS, "id-x", &out, NULL), CF_OK);
	assert_string_equal(r.action, "user:unlink-oidc");
	assert_int_equal(json_array_size(json_object_get(out, "oidc_links")),
	    0);
	json_decref(out);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "x", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unlinked-subject");
}

/* Set a principal's oidc_adoptable as the 3 -> 4 migration does for a
 * user provisioned before links existed. */
static void
mark_adoptable(struct fixture *f, const char *name)
{
	sqlite3	*db = NULL;
	char	 path[sizeof(f->dir) + 16], sql[512];

	(void)snprintf(path, sizeof(path), "%s/%s", f->dir, CF_DD_META);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	(void)snprintf(sql, sizeof(sql), "UPDATE principals SET "
	    "oidc_adoptable = 1, provisioned = 1 WHERE name = '%s'", name);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(db), 1);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void
test_core_oidc_provisioning(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	size_t		 nusers;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	nusers = json_array_size(json_object_get(out, "users"));
	json_decref(out);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "newbie", 300,
	    ""));
	assert_true(r.authenticated);
	assert_string_equal(r.principal.name, "newbie");
	assert_true(r.principal.provisioned);
	/* Created once; the second use finds it. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "newbie", 300,
	    ""));
	assert_true(r.authenticated);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "users")),
	    nusers + 1);
	for (size_t i = 0; i < nusers + 1; i++) {
		json_t	*u = json_array_get(json_object_get(out, "users"), i);

		assert_int_equal(json_is_true(json_object_get(u,
		    "provisioned")), strcmp(json_string_value(json_object_get(u,
		    "name")), "newbie") == 0);
	}
	json_decref(out);
	/* A bad token provisions nothing. */
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS, "coffer", "eve",
	    300, ""));
	assert_false(r.authenticated);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "users")),
	    nusers + 1);
	json_decref(out);
	/* SEC: a name claim naming an existing principal never reaches it:
	 * not the bootstrap admin, not a user with a password, not even
	 * another OIDC user (another subject named "newbie"). */
	id_user(f, "carol", "Violet kettle 93 drums", NULL, NULL);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "admin", 300,
	    ",\"groups\":[\"ml-admins\"],\"amr\":[\"mfa\"]"));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-name-taken");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "carol", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-name-taken");
	oidc_as(f, &r, oidc_token_sub(oidc_priv, "newbie", "other-newbie"));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-name-taken");
	/* A name that is not a principal name cannot be provisioned. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "Bad Name",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-bad-username");
}

/* Users provisioned before links existed: adopted once by name, on
 * their next sign-in, and only while they have no password and no MFA. */
static void
test_core_oidc_adopt_legacy(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;

	id_user(f, "legacy", NULL, NULL, NULL);
	id_user(f, "legacy2", NULL, NULL, NULL);
	id_user(f, "withpw", "Violet kettle 93 drums", NULL, NULL);
	mark_adoptable(f, "legacy");
	mark_adoptable(f, "legacy2");
	mark_adoptable(f, "withpw");	/* got a password after: no */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "legacy",
	    300, ""));
	assert_true(r.authenticated);
	assert_string_equal(r.principal.name, "legacy");
	/* The adoption is its own record, before the request's. */
	assert_true(r.principal.id > 0);
	/* Once: the same subject again is the link; another subject with
	 * that name is refused now. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "legacy",
	    300, ""));
	assert_true(r.authenticated);
	oidc_as(f, &r, oidc_token_sub(oidc_priv, "legacy", "someone-else"));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-name-taken");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_oidc_unlink(f->core, &r, "legacy",
	    OIDC_ISS, "id-legacy", &out, NULL), CF_OK);
	json_decref(out);
	/* SEC: after an unlink, no adoption by name again. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "legacy",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-name-taken");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "withpw",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-name-taken");
	/* Disabled: refused, and not adopted meanwhile. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_disable(f->core, &r, "legacy2", true,
	    &out, NULL), CF_OK);
	json_decref(out);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "legacy2",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "disabled-principal");
}

/* Issue 4: every action on a restricted namespace needs MFA, for every
 * kind of credential; API tokens cannot carry MFA, so they never reach
 * restricted data.  Creating a restricted namespace is allowed (it does
 * not exist yet). */
static void
test_core_restricted_namespace_needs_mfa(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 bt[CF_TOKEN_STR_MAX], bs[CF_TOKEN_STR_MAX];
	char		 b32[CF_TOTP_B32_MAX], code[CF_TOTP_DIGITS + 1];
	int64_t		 s;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create_sens(f->core, &r, "vault", NULL,
	    "secret", &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create_sens(f->core, &r, "vault", "prod",
	    "restricted", &out, NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(out,
	    "sensitivity")), "restricted");
	json_decref(out);
	id_ns(f, "open-ns");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_get(f->core, &r, "open-ns", &out, NULL),
	    CF_OK);
	assert_string_equal(json_string_value(json_object_get(out,
	    "sensitivity")), "internal");
	json_decref(out);
	id_user(f, "bob", PW_BOB, "writer", NULL);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_token_create(f->core, &r, "bob", 0, "t", &out,
	    NULL), CF_OK);
	cf_strlcpy(bt, json_string_value(json_object_get(out, "token")),
	    sizeof(bt));
	json_decref(out);

	/* API tokens: refused on the restricted namespace, admin included,
	 * for data, metadata, bindings, deletion and lowering it. */
	as(f, &r, bt);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	assert_false(r.allowed);
	assert_string_equal(r.reasons, "mfa required (restricted data)");
	as(f, &r, bt);
	assert_int_equal(cf_core_object_list(f->core, &r, "open-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_get(f->core, &r, "vault", &out, NULL),
	    CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_binding_create(f->core, &r, "bob", "reader",
	    "vault", &out, NULL), CF_E_AUTH);
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "vault",
	    "internal", &out, NULL), CF_E_AUTH);
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_delete(f->core, &r, "vault", &out, NULL),
	    CF_E_AUTH);
	/* Raising a namespace is not an action on restricted data. */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "open-ns",
	    "confidential", &out, NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(out,
	    "sensitivity")), "confidential");
	json_decref(out);
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "open-ns",
	    "top", &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "nope-ns",
	    "public", &out, NULL), CF_E_NOTFOUND);
	/* The listing still names it (name, env, sensitivity). */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "namespaces")),
	    2);
	json_decref(out);

	/* A session: refused until it steps up, then allowed. */
	assert_int_equal(id_login(f, "bob", PW_BOB, NULL, NULL, bs,
	    sizeof(bs), &r), CF_OK);
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	s = safe_step();
	id_enroll(f, bs, s - 1, b32, sizeof(b32), NULL);
	totp_code(b32, s, code);
	as(f, &r, bs);
	assert_int_equal(cf_core_session_mfa(f->core, &r, code, &out, NULL),
	    CF_OK);
	cf_strlcpy(bs, json_string_value(json_object_get(out, "token")),
	    sizeof(bs));
	json_decref(out);
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, bt);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_E_AUTH);

	/* mfa_restricted_data off: roles alone decide. */
	f->core->cfg.mfa_restricted_data = false;
	as(f, &r, bt);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	f->core->cfg.mfa_restricted_data = true;
}

/* Issue 4: several OIDC issuers (oidc_issuer + oidc_config_file), chosen
 * by iss, each verified with its own keys and rules.  Both keys have the
 * kid "ec-1", so only the issuer decides which key set is used. */
#define OIDC_ISS_B	"https://idp-b.example.test"

static char	oidc_multi_dir[64];

static void
write_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int
setup_oidc_multi(void **state)
{
	jwks_t	*ks = NULL;
	char	*doc, jwks_path[128], conf_path[128], conf[1024];

	oidc_keys();
	cf_strlcpy(oidc_multi_dir, "/tmp/cf-test-oidc-XXXXXX",
	    sizeof(oidc_multi_dir));
	assert_non_null(mkdtemp(oidc_multi_dir));
	assert_int_equal(r_jwks_init(&ks), RHN_OK);
	assert_int_equal(r_jwks_append_jwk(ks, oidc_other_pub), RHN_OK);
	doc = r_jwks_export_to_json_str(ks, 0);
	assert_non_null(doc);
	r_jwks_free(ks);
	(void)snprintf(jwks_path, sizeof(jwks_path), "%s/b.jwks",
	    oidc_multi_dir);
	write_file(jwks_path, doc);
	r_free(doc);
	(void)snprintf(conf, sizeof(conf), "[{\"issuer\":\"" OIDC_ISS_B "\","
	    "\"audience\":\"coffer-b\",\"jwks_file\":\"%s\",\"provision\":true,"
	    "\"group_roles\":\"b-readers=reader@oidc-ns\",\"skew\":30}]",
	    jwks_path);
	(void)snprintf(conf_path, sizeof(conf_path), "%s/issuers.json",
	    oidc_multi_dir);
	write_file(conf_path, conf);
	id_oidc_file = strdup(conf_path);
	assert_non_null(id_oidc_file);
	return setup_oidc(state);
}

static int
teardown_oidc_multi(void **state)
{
	free(id_oidc_file);
	id_oidc_file = NULL;
	assert_int_equal(rm_rf(oidc_multi_dir), 0);
	return teardown_oidc(state);
}

static void
test_core_oidc_two_issuers(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;

	id_ns(f, "oidc-ns");
	id_user(f, "alice", NULL, NULL, NULL);
	assert_int_equal(f->core->niss, 2);
	/* One user, an identity at each IdP (the same sub by chance). */
	oidc_link(f, "alice", OIDC_ISS, "id-alice");
	oidc_link(f, "alice", OIDC_ISS_B, "id-alice");
	/* Each issuer with its own key and audience. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 300,
	    ""));
	assert_true(r.authenticated);
	assert_string_equal(r.authn, "oidc");
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS_B, "coffer-b",
	    "alice", 300, ",\"groups\":[\"b-readers\"]"));
	assert_true(r.authenticated);
	assert_int_equal(cf_core_object_list(f->core, &r, "oidc-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	/* SEC: a token of issuer A signed with B's key (same kid), and the
	 * reverse, are refused. */
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS, "coffer",
	    "alice", 300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-bad-signature");
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS_B, "coffer-b", "alice",
	    300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-bad-signature");
	/* Each issuer's own audience. */
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS_B, "coffer",
	    "alice", 300, ""));
	assert_false(r.authenticated);
	/* An unknown iss. */
	oidc_as(f, &r, oidc_token(oidc_priv, "https://evil.example", "coffer",
	    "alice", 300, ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unknown-issuer");
	/* Per-issuer provisioning: B creates users, A does not. */
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "yan", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unlinked-subject");
	/* SEC: a link is per issuer: B's zed is not A's sub id-zed. */
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS_B, "coffer-b",
	    "zed", 300, ""));
	assert_true(r.authenticated);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "zed", 300,
	    ""));
	assert_false(r.authenticated);
	assert_string_equal(r.authn, "oidc-unlinked-subject");
	/* A's group mapping does not apply to B's tokens. */
	oidc_as(f, &r, oidc_token(oidc_other_priv, OIDC_ISS_B, "coffer-b",
	    "alice", 300, ",\"groups\":[\"ml-admins\"]"));
	assert_true(r.authenticated);
	assert_int_equal(r.nbindings, 0);
}

/* A bad oidc_config_file stops cf_core_open with a clear error. */
static void
test_core_oidc_config_file_refused(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[]",
		"[{\"issuer\":\"https://x\",\"audience\":\"a\","
		    "\"jwks_file\":\"/nonexistent\",\"colour\":\"red\"}]",
		"[{\"issuer\":\"https://x\",\"audience\":\"a\"}]",
		"[{\"issuer\":\"https://x\",\"audience\":\"a\","
		    "\"jwks_url\":\"https://x/j\",\"skew\":\"60\"}]",
		"[{\"issuer\":\"https://x\",\"issuer\":\"https://y\"}]",
		"[{\"audience\":\"a\",\"jwks_url\":\"https://x/j\"}]",
		"[1,2,3,4,5,6,7,8,9]",
	};
	struct cf_core_config	 cfg;
	struct cf_core		*core;
	struct cf_error		 e;
	char			 dir[64], path[128], boot[4096];
	size_t			 i;

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf_strlcpy(dir, "/tmp/cf-test-oidcf-XXXXXX", sizeof(dir));
		assert_non_null(mkdtemp(dir));
		(void)snprintf(path, sizeof(path), "%s/issuers.json", dir);
		write_file(path, bad[i]);
		cf_core_config_defaults(&cfg);
		cfg.data_dir = dir;
		cfg.max_object_size = 1 << 20;
		cfg.oidc_config_file = path;
		xdg_in(dir);
		core = NULL;
		cf_error_clear(&e);
		assert_int_not_equal(cf_core_open(&cfg, &core, boot, &e),
		    CF_OK);
		assert_null(core);
		assert_non_null(strstr(e.msg, "oidc_config_file"));
		if (i == 2)
			assert_non_null(strstr(e.msg, "unknown member"));
		assert_int_equal(rm_rf(dir), 0);
	}
}

/* ---- MFA age (issue 11) ---- */

/* Record MFA at at_us for the session tok, in the store. */
static void
mfa_at(struct fixture *f, const char *tok, int64_t at_us)
{
	char	id[CF_TOKEN_ID_LEN + 1];

	tok_id(f, tok, id);
	assert_int_equal(cf_meta_token_set_mfa(f->core->meta, &au_ok, id, at_us,
	    NULL), CF_OK);
}

/* Expect the last request to have been refused for MFA older than its
 * class allows: 401 mfa_required, the class in the audit reasons, and a
 * message that says to step up (OIDC: to sign in again). */
static void
assert_too_old(const struct cf_req *r, const struct cf_error *e,
    const char *reasons)
{
	assert_false(r->allowed);
	assert_non_null(r->errcode);
	assert_string_equal(r->errcode, "mfa_required");
	assert_string_equal(r->reasons, reasons);
	assert_int_equal(e->code, CF_E_AUTH);
	assert_non_null(strstr(e->msg, "old"));
	assert_non_null(strstr(e->msg, strcmp(r->authn, "oidc") == 0 ?
	    "sign in again" : "POST /v1/session/mfa"));
}

/* Each class of MFA requirement has its maximum age, counted from the
 * session's step-up (or login with a code); an older MFA is refused like
 * none, and a step-up makes it fresh.  The wall clock is frozen and moved
 * (cf_test_clock_set): nothing sleeps. */
static void
test_core_mfa_max_age(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_error	 e;
	json_t		*out = NULL;
	char		 rs[CF_TOKEN_STR_MAX], bs[CF_TOKEN_STR_MAX];
	char		 old[CF_TOKEN_STR_MAX];
	char		 rb32[CF_TOTP_B32_MAX], bb32[CF_TOTP_B32_MAX];
	char		 code[CF_TOTP_DIGITS + 1];
	int64_t		 s, t0;

	s = safe_step();		/* the clock stands at t0 */
	t0 = cf_now_us();
	assert_int_equal(f->core->cfg.mfa_max_age_admin, 900);
	assert_int_equal(f->core->cfg.mfa_max_age_restricted, 900);
	assert_int_equal(f->core->cfg.mfa_max_age_flagged, 43200);
	id_ns(f, "open-ns");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create_sens(f->core, &r, "vault", NULL,
	    "restricted", &out, NULL), CF_OK);
	json_decref(out);
	id_user(f, "root", PW_ROOT, "admin", NULL);
	id_user(f, "bob", PW_BOB, "writer", "vault");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "bob", "reader",
	    "open-ns", &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(id_login(f, "root", PW_ROOT, NULL, NULL, rs,
	    sizeof(rs), &r), CF_OK);
	id_enroll(f, rs, s - 1, rb32, sizeof(rb32), NULL);
	assert_int_equal(id_login(f, "bob", PW_BOB, NULL, NULL, bs,
	    sizeof(bs), &r), CF_OK);
	id_enroll(f, bs, s, bb32, sizeof(bb32), NULL);
	mfa_at(f, rs, t0);
	mfa_at(f, bs, t0);

	/* Admin-only actions: 900 s is still fine, 901 s is not. */
	cf_test_clock_set(t0 + 900 * 1000000LL);
	as(f, &r, rs);
	assert_int_equal(r.mfa_age, 900);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	cf_test_clock_set(t0 + 901 * 1000000LL);
	as(f, &r, rs);
	assert_true(r.mfa);
	cf_error_clear(&e);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (admin)");
	/* The grant rule: binding a role on a namespace (not admin-only). */
	as(f, &r, rs);
	cf_error_clear(&e);
	assert_int_equal(cf_core_binding_create(f->core, &r, "bob", "writer",
	    "open-ns", &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (grant)");
	/* Minting an admin API token for oneself would shed the limit. */
	as(f, &r, rs);
	cf_error_clear(&e);
	assert_int_equal(cf_core_token_create(f->core, &r, "root", 0, "t",
	    &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (grant)");
	/* API tokens are not held to mfa_admin_actions: unchanged. */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	/* A step-up makes it fresh (and replaces the session). */
	totp_code(rb32, cf_totp_step(t0 / 1000000 + 901), code);
	cf_strlcpy(old, rs, sizeof(old));
	as(f, &r, rs);
	assert_int_equal(cf_core_session_mfa(f->core, &r, code, &out, NULL),
	    CF_OK);
	cf_strlcpy(rs, json_string_value(json_object_get(out, "token")),
	    sizeof(rs));
	json_decref(out);
	as(f, &r, old);
	assert_false(r.authenticated);
	as(f, &r, rs);
	assert_int_equal(r.mfa_age, 0);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, rs);
	assert_int_equal(cf_core_binding_create(f->core, &r, "bob", "writer",
	    "open-ns", &out, NULL), CF_OK);
	json_decref(out);
	/* 0: no limit. */
	f->core->cfg.mfa_max_age_admin = 0;
	cf_test_clock_set(t0 + 5000 * 1000000LL);
	as(f, &r, rs);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	f->core->cfg.mfa_max_age_admin = 900;

	/* Restricted data: its own limit. */
	cf_test_clock_set(t0 + 900 * 1000000LL);
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	cf_test_clock_set(t0 + 901 * 1000000LL);
	as(f, &r, bs);
	cf_error_clear(&e);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (restricted data)");
	/* ... which does not touch other namespaces. */
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "open-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	/* The age is taken when the request begins: an upload that began
	 * in time is decided again at its end on the same request time, so
	 * a long transfer is not refused for the time it took. */
	cf_test_clock_set(t0 + 900 * 1000000LL);
	{
		struct cf_put	*p = NULL;

		as(f, &r, bs);
		assert_int_equal(cf_core_put_begin(f->core, &r, "vault", "big",
		    NULL, NULL, NULL, 3, &p, NULL), CF_OK);
		cf_test_clock_set(t0 + 5000 * 1000000LL);
		assert_int_equal(cf_core_put_write(p, "abc", 3, NULL), CF_OK);
		assert_int_equal(cf_core_put_finish(p, bs, &out, NULL), CF_OK);
		json_decref(out);
	}
	cf_test_clock_set(t0 + 901 * 1000000LL);
	f->core->cfg.mfa_max_age_restricted = 2000;
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "vault", NULL, NULL,
	    NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	f->core->cfg.mfa_max_age_restricted = 900;

	/* A user flagged mfa_required: mfa_max_age_flagged, for data and
	 * for minting tokens and changing the own password. */
	as(f, &r, f->admin_api);
	assert_int_equal(cf_core_user_mfa_required(f->core, &r, "bob", true,
	    &out, NULL), CF_OK);
	json_decref(out);
	f->core->cfg.mfa_max_age_flagged = 1000;
	cf_test_clock_set(t0 + 1000 * 1000000LL);
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "open-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
	cf_test_clock_set(t0 + 1001 * 1000000LL);
	as(f, &r, bs);
	cf_error_clear(&e);
	assert_int_equal(cf_core_object_list(f->core, &r, "open-ns", NULL,
	    NULL, NULL, 10, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (flagged)");
	as(f, &r, bs);
	cf_error_clear(&e);
	assert_int_equal(cf_core_token_create(f->core, &r, "bob", 0, "t",
	    &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (flagged)");
	/* A flagged role: the same limit (rs stepped up 100 s ago). */
	as(f, &r, rs);
	assert_int_equal(cf_core_user_mfa_required(f->core, &r, "bob", false,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, rs);
	assert_int_equal(cf_core_role_mfa_required(f->core, &r, "reader", true,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, bs);
	cf_error_clear(&e);
	assert_int_equal(cf_core_object_list(f->core, &r, "open-ns", NULL,
	    NULL, NULL, 10, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (flagged)");
	f->core->cfg.mfa_max_age_flagged = 0;
	as(f, &r, bs);
	assert_int_equal(cf_core_object_list(f->core, &r, "open-ns", NULL,
	    NULL, NULL, 10, &out, NULL), CF_OK);
	json_decref(out);
}

/* OIDC: the MFA's age runs from auth_time (when the user signed in), else
 * from iat; a token that says neither has MFA of unknown age, which no
 * limit accepts. */
static void
test_core_oidc_mfa_max_age(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	struct cf_error	 e;
	json_t		*out = NULL;
	char		 extra[256], claims[1024];
	int64_t		 t0, now;

	(void)safe_step();
	t0 = cf_now_us();
	now = t0 / 1000000;
	id_user(f, "alice", NULL, NULL, NULL);
	oidc_link(f, "alice", OIDC_ISS, "id-alice");
	/* auth_time 901 s ago: an hour-long token refreshed from an old
	 * sign-in is refused for admin work ... */
	(void)snprintf(extra, sizeof(extra), ",\"groups\":[\"ml-admins\"],"
	    "\"amr\":[\"pwd\",\"mfa\"],\"auth_time\":%lld",
	    (long long)now - 901);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 3600,
	    extra));
	assert_true(r.authenticated && r.mfa);
	assert_int_equal(r.mfa_age, 901);
	cf_error_clear(&e);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (admin)");
	/* ... 900 s is not. */
	(void)snprintf(extra, sizeof(extra), ",\"groups\":[\"ml-admins\"],"
	    "\"amr\":[\"pwd\",\"mfa\"],\"auth_time\":%lld",
	    (long long)now - 900);
	oidc_as(f, &r, oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice", 3600,
	    extra));
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	/* No auth_time: from iat.  The token was issued 2000 s ago and
	 * lives for 3 h. */
	cf_test_clock_set(t0 - 2000 * 1000000LL);
	(void)snprintf(extra, sizeof(extra), ",\"groups\":[\"ml-admins\"],"
	    "\"amr\":[\"mfa\"]");
	{
		char	*t = oidc_token(oidc_priv, OIDC_ISS, "coffer", "alice",
		    3 * 3600, extra);

		cf_test_clock_set(t0);
		oidc_as(f, &r, t);
	}
	assert_true(r.authenticated && r.mfa);
	assert_int_equal(r.mfa_age, 2005);
	cf_error_clear(&e);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (admin)");
	/* Neither auth_time nor iat: the age is unknown. */
	(void)snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"aud\":"
	    "\"coffer\",\"sub\":\"id-alice\",\"preferred_username\":\"alice\","
	    "\"exp\":%lld,\"groups\":[\"ml-admins\"],\"amr\":[\"mfa\"]}",
	    OIDC_ISS, (long long)now + 300);
	oidc_as(f, &r, oidc_sign(oidc_priv, claims));
	assert_true(r.authenticated && r.mfa);
	assert_int_equal(r.mfa_age, -1);
	cf_error_clear(&e);
	assert_int_equal(cf_core_user_list(f->core, &r, &out, &e), CF_E_AUTH);
	assert_too_old(&r, &e, "mfa too old (admin)");
	/* ... which only a limit of 0 lets through. */
	f->core->cfg.mfa_max_age_admin = 0;
	oidc_as(f, &r, oidc_sign(oidc_priv, claims));
	assert_int_equal(cf_core_user_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
}

/*
 * The monitor builds each decision's entities and context as C values;
 * explain builds them as JSON.  Both must be the same entities and the
 * same request, and decide alike under policies that read every
 * attribute, tag, parent and context field.
 */
static const char probe_text[] =
    "@id(\"name\") permit (principal, action, resource) when "
    "{ principal.name == \"alice\" };\n"
    "@id(\"kind\") permit (principal, action, resource) when "
    "{ principal.kind == \"user\" };\n"
    "@id(\"ptag\") permit (principal, action, resource) when "
    "{ principal.hasTag(\"team\") && principal.getTag(\"team\") == "
    "\"blue\" };\n"
    "@id(\"ptagerr\") forbid (principal, action, resource) when "
    "{ principal.getTag(\"absent\") == \"x\" };\n"
    "@id(\"group\") permit (principal in Group::\"eng\", action, "
    "resource);\n"
    "@id(\"role_ns\") permit (principal in Role::\"writer@data\", action, "
    "resource);\n"
    "@id(\"role_g\") permit (principal in Role::\"reader\", action, "
    "resource);\n"
    "@id(\"act\") permit (principal, action in Action::\"read\", "
    "resource);\n"
    "@id(\"act_w\") permit (principal, action in Action::\"write\", "
    "resource);\n"
    "@id(\"ns\") permit (principal, action, resource is Namespace) when "
    "{ resource.name == \"data\" && resource.env == \"prod\" && "
    "resource.sensitivity == 2 && resource.sensitivity_name == "
    "\"confidential\" };\n"
    "@id(\"ns_tag\") permit (principal, action, resource) when "
    "{ Namespace::\"data\".hasTag(\"tier\") && "
    "Namespace::\"data\".getTag(\"tier\") == \"gold\" };\n"
    "@id(\"ns_404\") permit (principal, action, resource is Namespace) "
    "when { resource.env == \"\" && resource.sensitivity == 1 };\n"
    "@id(\"obj\") permit (principal, action, resource is Object) when "
    "{ resource.ns == \"data\" && resource.key == \"k1\" && "
    "resource.env == \"prod\" && resource.sensitivity == 2 && "
    "resource.sensitivity_name == \"confidential\" };\n"
    "@id(\"obj_tag\") permit (principal, action, resource is Object) "
    "when { resource.hasTag(\"pii\") && resource.getTag(\"pii\") == "
    "\"yes\" };\n"
    "@id(\"obj_in\") permit (principal, action, resource in "
    "Namespace::\"data\");\n"
    "@id(\"store\") permit (principal, action, resource in "
    "Store::\"coffer\");\n"
    "@id(\"version\") permit (principal, action, resource is Object) when "
    "{ resource has version && resource.version.id == \"v0001\" && "
    "resource.version.digest == \"ab12\" && "
    "resource.version.created_by == \"admin\" };\n"
    "@id(\"noversion\") permit (principal, action, resource is Object) "
    "when { !(resource has version) };\n"
    "@id(\"mfa\") permit (principal, action, resource) when "
    "{ context.mfa };\n"
    "@id(\"mfa_age\") permit (principal, action, resource) when "
    "{ context has mfa_age_s && context.mfa_age_s == 42 };\n"
    "@id(\"authn\") permit (principal, action, resource) when "
    "{ context.authn == \"session\" };\n"
    "@id(\"time\") permit (principal, action, resource) when "
    "{ context.time == datetime(\"2026-03-01T12:30:05Z\") && "
    "context.hour == 12 && context.weekday == 0 };\n"
    "@id(\"purpose\") permit (principal, action, resource) when "
    "{ context has purpose && context.purpose == \"audit\" };\n"
    "@id(\"ua\") permit (principal, action, resource) when "
    "{ context has user_agent && context.user_agent like \"curl/*\" };\n"
    "@id(\"ip\") permit (principal, action, resource) when "
    "{ context has source_ip && "
    "context.source_ip.isInRange(ip(\"10.0.0.0/8\")) };\n"
    "@id(\"scope\") permit (principal, action, resource) when "
    "{ context has token_scope && context.token_scope has actions && "
    "context.token_scope.actions.contains(\"object:get\") && "
    "context.token_scope.namespaces.contains(\"data\") };\n";

/* The ids of the policies that apply, then those that errored. */
static void
probe(const struct cf_policy_set *ps, const struct cf_entities *es,
    const struct cf_request *req, char *out, size_t outsz)
{
	struct cf_response	*resp = NULL;
	size_t			 i, o = 0;

	assert_int_equal(cf_response_new(&resp, NULL), CF_OK);
	assert_int_equal(cf_policy_authorize(ps, es, req, resp, NULL), CF_OK);
	out[0] = '\0';
	for (i = 0; i < cf_response_reason_count(resp); i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s,",
		    cf_response_reason(resp, i));
	o += (size_t)snprintf(out + o, outsz - o, "errors:");
	for (i = 0; i < cf_response_error_count(resp); i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s,",
		    cf_response_error_id(resp, i));
	assert_true(o < outsz);
	cf_response_free(resp);
}

/* Build r's decision both ways; they must agree.  *probed: what the
 * probe policies say (forbids deny: those first when any applies). */
static void
both_ways(struct fixture *f, const struct cf_policy_set *ps,
    const struct cf_req *r, const char *action, const char *ns,
    const char *data_ns, const char *resource, char *probed, size_t sz)
{
	const struct cf_action_def	*def = cf_action_find(action);
	struct cf_entities		*ec = NULL, *ej = NULL;
	struct cf_request		*rc = NULL, *rj = NULL;
	char				 pj[2048];

	assert_non_null(def);
	assert_int_equal(core_authz_build(f->core, r, def, ns, data_ns,
	    resource, &ec, &rc, NULL), CF_OK);
	assert_int_equal(core_authz_build_json(f->core, r, def, ns, data_ns,
	    resource, &ej, &rj, NULL), CF_OK);
	assert_true(cf_entities_equal(ec, ej));
	assert_true(cf_request_equal(rc, rj));
	probe(ps, ec, rc, probed, sz);
	probe(ps, ej, rj, pj, sizeof(pj));
	assert_string_equal(probed, pj);
	cf_entities_free(ec);
	cf_entities_free(ej);
	cf_request_free(rc);
	cf_request_free(rj);
}

/* context.risk, when the detector set it: the same both ways, and as
 * the schema has it ({score, flags}); absent otherwise. */
static void
test_core_authz_context_risk(void **state)
{
	struct fixture		*f = *state;
	struct cf_policy_set	*ps = NULL;
	struct cf_req		 r;
	json_t			*ctx, *risk, *ents;
	char			 got[2048];

	assert_int_equal(cf_policy_set_parse(probe_text,
	    sizeof(probe_text) - 1, &ps, NULL), CF_OK);
	as(f, &r, f->admin_token);
	r.risk_set = true;
	r.risk_score = 100;
	r.risk_flags = 1u << CF_ANOM_NEW_NETWORK |
	    1u << CF_ANOM_TWO_NETWORKS;
	both_ways(f, ps, &r, "ns:create", NULL, NULL, "ns/new", got,
	    sizeof(got));
	ctx = core_authz_context(&r);
	assert_non_null(ctx);
	risk = json_object_get(ctx, "risk");
	assert_int_equal(json_integer_value(json_object_get(risk, "score")),
	    100);
	assert_int_equal(json_array_size(json_object_get(risk, "flags")), 2);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(risk, "flags"), 0)), "new_network");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(risk, "flags"), 1)), "token_two_networks");
	/* As the schema says (the debug builds check every decision so). */
	ents = json_array();
	assert_int_equal(core_authz_check_entities(f->core, ents, "User",
	    "ns:create", "Store", ctx, NULL), CF_OK);
	json_decref(ents);
	json_decref(ctx);
	r.risk_set = false;
	ctx = core_authz_context(&r);
	assert_null(json_object_get(ctx, "risk"));
	json_decref(ctx);
	cf_policy_set_free(ps);
}

static void
test_core_authz_build_matches_json(void **state)
{
	struct fixture		*f = *state;
	struct cf_policy_set	*ps = NULL;
	struct cf_req		 r, ra;
	json_t			*out = NULL, *ch, *ctx;
	char			 alice[128], got[2048];
	const struct cf_action_def *def;
	struct cf_entities	*es = NULL;
	struct cf_request	*req = NULL;
	static const char	 tagset[] = "permit (principal, action, "
	    "resource) when { principal.hasTag(\"x\") && "
	    "principal.getTag(\"x\") == \"y\" };\n";
	bool			 created = false;

	assert_int_equal(cf_policy_set_parse(probe_text,
	    sizeof(probe_text) - 1, &ps, NULL), CF_OK);
	/* A stored set that reads tags, so that decisions build them. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_policy_set(f->core, &r, "tags", "", tagset,
	    sizeof(tagset) - 1, &created, &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create_sens(f->core, &r, "data", "prod",
	    "confidential", &out, NULL), CF_OK);
	json_decref(out);
	put_bytes(f, f->admin_token, "data", "k1", "x", 1, NULL, CF_OK);
	ch = json_pack("{s:s}", "tier", "gold");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_set(f->core, &r, "data", NULL, ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);
	ch = json_pack("{s:s, s:s}", "pii", "yes", "owner", "ops");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_set(f->core, &r, "data", "k1", ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);
	make_user(f, "alice", "writer", "data", alice, sizeof(alice));
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "alice",
	    "reader", NULL, &out, NULL), CF_OK);
	json_decref(out);
	ch = json_pack("{s:s, s:s}", "team", "blue", "level", "3");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_attrs_set(f->core, &r, "alice", ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);

	/* The admin (a session with MFA) on the namespace, on the store, on
	 * a namespace that does not exist. */
	as(f, &ra, f->admin_token);
	ra.time_us = 1772368205000000LL;	/* Sunday 2026-03-01 12:30:05 */
	both_ways(f, ps, &ra, "ns:get", "data", "data", NULL, got,
	    sizeof(got));
	assert_non_null(strstr(got, "ns,"));
	assert_non_null(strstr(got, "ns_tag,"));
	assert_non_null(strstr(got, "time,"));
	assert_non_null(strstr(got, "authn,"));
	assert_null(strstr(got, "obj,"));
	both_ways(f, ps, &ra, "ns:create", NULL, NULL, "ns/new", got,
	    sizeof(got));
	assert_non_null(strstr(got, "store,"));
	both_ways(f, ps, &ra, "ns:get", "nope", "nope", NULL, got,
	    sizeof(got));
	assert_non_null(strstr(got, "ns_404,"));
	assert_null(strstr(got, "ns_tag,"));

	/* Alice: attributes, groups, two bindings; an object with labels
	 * and the version a read returns; purpose, user agent, an address;
	 * then MFA of a known age; then a scoped token. */
	as(f, &r, alice);
	r.time_us = ra.time_us;
	assert_int_equal(r.nbindings, 2);
	cf_strlcpy(r.groups[0], "eng", sizeof(r.groups[0]));
	cf_strlcpy(r.groups[1], "ops", sizeof(r.groups[1]));
	r.ngroups = 2;
	cf_strlcpy(r.version_id, "v0001", sizeof(r.version_id));
	cf_strlcpy(r.version_sha256, "ab12", sizeof(r.version_sha256));
	cf_strlcpy(r.version_by, "admin", sizeof(r.version_by));
	cf_strlcpy(r.purpose, "audit", sizeof(r.purpose));
	cf_strlcpy(r.user_agent, "curl/8.5", sizeof(r.user_agent));
	cf_strlcpy(r.source, "10.1.2.3", sizeof(r.source));
	both_ways(f, ps, &r, "object:get", "data", "data", "ns/data/obj/k1",
	    got, sizeof(got));
	assert_string_equal(got, "name,kind,ptag,act,ns_tag,obj,obj_tag,"
	    "version,time,purpose,ua,ip,group,role_ns,role_g,store,obj_in,"
	    "errors:ptagerr,");
	/* No version on a write; labels on label:set's key too. */
	both_ways(f, ps, &r, "object:put", "data", "data", "ns/data/obj/k1",
	    got, sizeof(got));
	assert_non_null(strstr(got, "noversion,"));
	assert_non_null(strstr(got, "act_w,"));
	both_ways(f, ps, &r, "label:set", "data", "data", "ns/data/obj/k1",
	    got, sizeof(got));
	assert_non_null(strstr(got, "obj_tag,"));
	/* A key that has no labels, a key that is not UTF-8. */
	both_ways(f, ps, &r, "object:get", "data", "data", "ns/data/obj/k2",
	    got, sizeof(got));
	assert_null(strstr(got, "obj_tag,"));
	both_ways(f, ps, &r, "object:get", "data", "data",
	    "ns/data/obj/\xff\xfe", got, sizeof(got));
	/* The empty key: an object without labels; a listing with a
	 * key-like resource: the namespace. */
	both_ways(f, ps, &r, "object:get", "data", "data", "ns/data/obj/",
	    got, sizeof(got));
	assert_null(strstr(got, "obj_tag,"));
	assert_non_null(strstr(got, ",version,"));	/* an Object */
	both_ways(f, ps, &r, "object:list", "data", "data",
	    "ns/data/obj/k1", got, sizeof(got));
	assert_null(strstr(got, "version,"));
	r.mfa = true;
	r.mfa_age = 42;
	r.authn = "session";
	cf_strlcpy(r.source, "[::1]:443", sizeof(r.source));
	r.purpose[0] = '\0';
	r.user_agent[0] = '\0';
	both_ways(f, ps, &r, "object:head", "data", "data", "ns/data/obj/k1",
	    got, sizeof(got));
	assert_non_null(strstr(got, "mfa,mfa_age,authn,"));
	assert_null(strstr(got, "purpose,"));
	assert_null(strstr(got, "ip,"));
	cf_strlcpy(r.scope, "{\"actions\":[\"object:get\"],"
	    "\"namespaces\":[\"data\"]}", sizeof(r.scope));
	both_ways(f, ps, &r, "object:list", "data", "data", NULL, got,
	    sizeof(got));
	assert_non_null(strstr(got, "scope,"));
	cf_strlcpy(r.scope, "{\"namespaces\":[\"data\"]}", sizeof(r.scope));
	both_ways(f, ps, &r, "object:list", "data", "data", NULL, got,
	    sizeof(got));
	assert_null(strstr(got, "scope,"));

	/* SEC: what one way cannot build, the other cannot either. */
	def = cf_action_find("object:get");
	cf_strlcpy(r.scope, "not json", sizeof(r.scope));
	assert_int_equal(core_authz_build(f->core, &r, def, "data", "data",
	    "ns/data/obj/k1", &es, &req, NULL), CF_E_INTERNAL);
	assert_int_equal(core_authz_build_json(f->core, &r, def, "data",
	    "data", "ns/data/obj/k1", &es, &req, NULL), CF_E_INTERNAL);
	r.scope[0] = '\0';
	/* A peer that is no IP address: no source_ip, either way. */
	cf_strlcpy(r.source, "not-an-ip", sizeof(r.source));
	assert_int_equal(core_authz_build(f->core, &r, def, "data", "data",
	    "ns/data/obj/k1", &es, &req, NULL), CF_OK);
	cf_entities_free(es);
	cf_request_free(req);
	es = NULL;
	req = NULL;
	assert_int_equal(core_authz_build_json(f->core, &r, def, "data",
	    "data", "ns/data/obj/k1", &es, &req, NULL), CF_OK);
	cf_entities_free(es);
	cf_request_free(req);
	ctx = core_authz_context(&r);
	assert_non_null(ctx);
	assert_null(json_object_get(ctx, "source_ip"));
	json_decref(ctx);
	cf_policy_set_free(ps);
}

/* The entities that depend on the action alone (the action, its group,
 * the store) are built once per action and shared by its decisions, as
 * the layer below each decision's own; another action has its own. */
static void
test_core_authz_shared_action_entities(void **state)
{
	struct fixture			*f = *state;
	const struct cf_action_def	*get = cf_action_find("object:get");
	const struct cf_action_def	*list = cf_action_find("object:list");
	const struct cf_entities	*base;
	struct cf_entities		*e1 = NULL, *e2 = NULL, *e3 = NULL;
	struct cf_request		*r1 = NULL, *r2 = NULL, *r3 = NULL;
	struct cf_req			 r;

	assert_non_null(get);
	assert_non_null(list);
	as(f, &r, f->admin_token);
	assert_int_equal(core_authz_build(f->core, &r, get, "data", "data",
	    "ns/data/obj/k1", &e1, &r1, NULL), CF_OK);
	assert_int_equal(core_authz_build(f->core, &r, get, "data", "data",
	    "ns/data/obj/k2", &e2, &r2, NULL), CF_OK);
	assert_int_equal(core_authz_build(f->core, &r, list, "data", "data",
	    NULL, &e3, &r3, NULL), CF_OK);
	base = cf_entities_base(e1);
	assert_non_null(base);
	assert_ptr_equal(base, cf_entities_base(e2));
	assert_non_null(cf_entities_base(e3));
	assert_ptr_not_equal(base, cf_entities_base(e3));
	/* The action, its group, the store; the decision's own layer has
	 * the principal, the namespace and the object. */
	assert_int_equal(cf_entities_count(base), 3);
	assert_int_equal(cf_entities_count(e1), 6);
	assert_int_equal(cf_entities_count(e3), 5);
	cf_entities_free(e1);
	cf_entities_free(e2);
	cf_entities_free(e3);
	cf_request_free(r1);
	cf_request_free(r2);
	cf_request_free(r3);
}

/* context.hour and context.weekday, computed without gmtime_r: the same
 * as the JSON context's (gmtime_r) from the year 1000 (strftime writes
 * earlier years with fewer than four digits, which the JSON path cannot
 * read back) to the end of datetime()'s range, around the epoch, before
 * it and at every hour of a week; a time beyond the range fails both
 * ways. */
static void
test_core_authz_context_clock(void **state)
{
	static const int64_t	 at[] = { -30610224000LL, -30610223999LL,
				     -86401, -86400, -3601, -1, 0, 1, 3599,
				     3600, 86399, 86400, 951782400,
				     1700000000, 253402300799LL };
	struct fixture		*f = *state;
	const struct cf_action_def *def = cf_action_find("object:list");
	struct cf_entities	*ec = NULL, *ej = NULL;
	struct cf_request	*rc = NULL, *rj = NULL;
	struct cf_req		 r;
	size_t			 i, n = sizeof(at) / sizeof(at[0]);

	assert_non_null(def);
	as(f, &r, f->admin_token);
	for (i = 0; i < n + 7 * 24; i++) {
		r.ctx_time_us = (i < n ? at[i] : -400000 + 3600 *
		    (int64_t)(i - n)) * 1000000;
		if (r.ctx_time_us == 0)
			r.ctx_time_us = 1;	/* 0: "now" */
		assert_int_equal(core_authz_build(f->core, &r, def, "data",
		    "data", NULL, &ec, &rc, NULL), CF_OK);
		assert_int_equal(core_authz_build_json(f->core, &r, def,
		    "data", "data", NULL, &ej, &rj, NULL), CF_OK);
		assert_true(cf_request_equal(rc, rj));
		cf_entities_free(ec);
		cf_entities_free(ej);
		cf_request_free(rc);
		cf_request_free(rj);
		ec = ej = NULL;
		rc = rj = NULL;
	}
	r.ctx_time_us = (253402300799LL + 1) * 1000000;
	assert_int_equal(core_authz_build(f->core, &r, def, "data", "data",
	    NULL, &ec, &rc, NULL), CF_E_INTERNAL);
	assert_int_not_equal(core_authz_build_json(f->core, &r, def, "data",
	    "data", NULL, &ej, &rj, NULL), CF_OK);
	r.ctx_time_us = (-62167219200LL - 1) * 1000000;
	assert_int_equal(core_authz_build(f->core, &r, def, "data", "data",
	    NULL, &ec, &rc, NULL), CF_E_INTERNAL);
	assert_int_not_equal(core_authz_build_json(f->core, &r, def, "data",
	    "data", NULL, &ej, &rj, NULL), CF_OK);
}

/* object:list on "data" with token tok, its claims naming the group
 * grp (NULL: as the token has them). */
static cf_err
list_as(struct fixture *f, struct cf_req *r, const char *tok,
    const char *grp)
{
	as(f, r, tok);
	if (grp != NULL) {
		cf_strlcpy(r->groups[0], grp, sizeof(r->groups[0]));
		r->ngroups = 1;
	}
	return core_authorize(f->core, r, "object:list", "data", NULL, NULL);
}

/* alice's attribute team := v, set by the admin. */
static void
set_team(struct fixture *f, struct cf_req *r, const char *v)
{
	json_t	*ch, *out = NULL;

	ch = json_pack("{s:s}", "team", v);
	as(f, r, f->admin_token);
	assert_int_equal(cf_core_user_attrs_set(f->core, r, "alice", ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);
}

/* The principal's and the namespace's entities are shared by decisions
 * as layers (authz.c, def_layer), found by what they are built from:
 * a change of a group membership, a binding, a namespace's record, a
 * principal's attributes or a namespace's labels decides the very next
 * request, and an unchanged principal or namespace is not built again. */
static void
test_core_authz_layers_follow_changes(void **state)
{
	static const char grp[] =
	    "@id(\"eng-get\") permit (principal in Group::\"eng\", action in "
	    "[Action::\"object:get\", Action::\"object:list\"], resource);\n"
	    "@id(\"ns-restricted\") forbid (principal in Group::\"eng\", "
	    "action, resource is Namespace) when { resource.sensitivity_name "
	    "== \"restricted\" };\n";
	static const char tagpol[] =
	    "@id(\"red\") forbid (principal, action, resource) when "
	    "{ principal.hasTag(\"team\") && principal.getTag(\"team\") == "
	    "\"red\" };\n"
	    "@id(\"pii\") forbid (principal in Group::\"eng\", action, "
	    "resource is Namespace) when { resource.hasTag(\"pii\") };\n";
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL, *ch;
	char		 alice[128];
	unsigned long	 pb0, ph0, nb0, nh0, pb, ph, nb, nh;
	bool		 created = false;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "data", NULL, &out,
	    NULL), CF_OK);
	json_decref(out);
	make_user(f, "alice", NULL, NULL, alice, sizeof(alice));
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_policy_set(f->core, &r, "grp", "", grp,
	    sizeof(grp) - 1, &created, &out, NULL), CF_OK);
	json_decref(out);

	/* In the group: allowed; the second decision builds neither the
	 * principal nor the namespace again. */
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_OK);
	core_authz_layer_stats(f->core, &pb0, &ph0, &nb0, &nh0);
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_OK);
	core_authz_layer_stats(f->core, &pb, &ph, &nb, &nh);
	assert_int_equal(pb, pb0);
	assert_int_equal(ph, ph0 + 1);
	assert_int_equal(nb, nb0);
	assert_int_equal(nh, nh0 + 1);
	/* Out of the group (another token's claims): denied at once, by a
	 * principal built anew; back in it: allowed. */
	assert_int_equal(list_as(f, &r, alice, "ops"), CF_E_DENIED);
	core_authz_layer_stats(f->core, &pb0, &ph0, &nb0, &nh0);
	assert_int_equal(pb0, pb + 1);
	assert_int_equal(list_as(f, &r, alice, NULL), CF_E_DENIED);
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_OK);

	/* A binding granted, then taken away: the very next decision. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_create(f->core, &r, "alice",
	    "reader", "data", &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(list_as(f, &r, alice, NULL), CF_OK);
	assert_non_null(strstr(r.reasons, "role:reader@data"));
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_binding_delete(f->core, &r, "alice",
	    "reader", "data", &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(list_as(f, &r, alice, NULL), CF_E_DENIED);

	/* The namespace's record changes: the next decision sees it, by
	 * a namespace built anew; changed back, allowed again. */
	as(f, &r, f->admin_token);
	r.mfa = true;
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "data",
	    "restricted", &out, NULL), CF_OK);
	json_decref(out);
	core_authz_layer_stats(f->core, &pb0, &ph0, &nb0, &nh0);
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_E_DENIED);
	assert_non_null(strstr(r.reasons, "ns-restricted"));
	core_authz_layer_stats(f->core, &pb, &ph, &nb, &nh);
	assert_int_equal(nb, nb0 + 1);
	as(f, &r, f->admin_token);
	r.mfa = true;
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "data",
	    "internal", &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_OK);

	/* A set that reads tags: the principal's attributes and the
	 * namespace's labels decide the very next request. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_policy_set(f->core, &r, "tags", "", tagpol,
	    sizeof(tagpol) - 1, &created, &out, NULL), CF_OK);
	json_decref(out);
	set_team(f, &r, "blue");
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_OK);
	set_team(f, &r, "red");
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_E_DENIED);
	assert_non_null(strstr(r.reasons, "red"));
	set_team(f, &r, "blue");
	ch = json_pack("{s:s}", "pii", "yes");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_set(f->core, &r, "data", NULL, ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_E_DENIED);
	assert_non_null(strstr(r.reasons, "pii"));
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_rm(f->core, &r, "data", NULL, "pii",
	    &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(list_as(f, &r, alice, "eng"), CF_OK);
}

/* What one decision reads of the store: the namespace record once (the
 * restricted-data check reuses the decision's), the principal's
 * attributes and the labels only while a policy set in force reads
 * tags; and a set that does always sees them. */
static void
test_core_decision_reads(void **state)
{
	static const char tagpol[] =
	    "@id(\"pii\") forbid (principal, action, resource) when "
	    "{ resource.hasTag(\"pii\") && resource.getTag(\"pii\") == "
	    "\"yes\" && principal.hasTag(\"team\") };\n";
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL, *ch;
	char		 alice[128];
	unsigned long	 ns0, at0, lb0;
	bool		 created = false;

	f->core->cfg.mfa_restricted_data = true;
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "data", NULL, &out,
	    NULL), CF_OK);
	json_decref(out);
	put_bytes(f, f->admin_token, "data", "k1", "x", 1, NULL, CF_OK);
	ch = json_pack("{s:s}", "pii", "yes");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_set(f->core, &r, "data", "k1", ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);
	make_user(f, "alice", "reader", "data", alice, sizeof(alice));
	ch = json_pack("{s:s}", "team", "blue");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_attrs_set(f->core, &r, "alice", ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);

	/* An API token (no MFA), so the restricted-data check runs. */
	as(f, &r, alice);
	ns0 = cf_meta_test_reads("ns");
	at0 = cf_meta_test_reads("attrs");
	lb0 = cf_meta_test_reads("labels");
	assert_int_equal(core_authorize(f->core, &r, "object:get", "data",
	    "ns/data/obj/k1", NULL), CF_OK);
	/* The namespace record from the decision cache (the put above
	 * read it), once for the decision and the restricted check. */
	assert_int_equal(cf_meta_test_reads("ns") - ns0, 0);
	assert_int_equal(cf_meta_test_reads("attrs") - at0, 0);
	assert_int_equal(cf_meta_test_reads("labels") - lb0, 0);

	/* A set that reads tags: they are read, and decide. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_policy_set(f->core, &r, "pii", "", tagpol,
	    sizeof(tagpol) - 1, &created, &out, NULL), CF_OK);
	json_decref(out);
	assert_true(created);
	as(f, &r, alice);
	ns0 = cf_meta_test_reads("ns");
	at0 = cf_meta_test_reads("attrs");
	lb0 = cf_meta_test_reads("labels");
	assert_int_equal(core_authorize(f->core, &r, "object:get", "data",
	    "ns/data/obj/k1", NULL), CF_E_DENIED);
	assert_int_equal(cf_meta_test_reads("ns") - ns0, 1);
	assert_int_equal(cf_meta_test_reads("attrs") - at0, 1);
	assert_int_equal(cf_meta_test_reads("labels") - lb0, 2);
	assert_non_null(strstr(r.reasons, "pii"));

	/* Taken out of force: no tag reads again. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_policy_rm(f->core, &r, "pii", "", &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, alice);
	lb0 = cf_meta_test_reads("labels");
	assert_int_equal(core_authorize(f->core, &r, "object:get", "data",
	    "ns/data/obj/k1", NULL), CF_OK);
	assert_int_equal(cf_meta_test_reads("labels") - lb0, 0);

	/* SEC: a change of the namespace decides the very next request
	 * (the cache entry it ends is read again): restricted data and a
	 * token without MFA. */
	as(f, &r, f->admin_token);
	r.mfa = true;
	assert_int_equal(cf_core_ns_set_sensitivity(f->core, &r, "data",
	    "restricted", &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, alice);
	ns0 = cf_meta_test_reads("ns");
	assert_int_equal(core_authorize(f->core, &r, "object:get", "data",
	    "ns/data/obj/k1", NULL), CF_E_AUTH);
	assert_int_equal(cf_meta_test_reads("ns") - ns0, 1);
}

/* A set attached to a namespace takes part in decisions on it only,
 * wherever it sits among the stored sets. */
static void
test_core_ns_sets_apply_to_their_namespace(void **state)
{
	static const char deny[] = "forbid (principal, action == "
	    "Action::\"object:list\", resource);\n";
	static const char note[] = "permit (principal, action == "
	    "Action::\"object:list\", resource) when { false };\n";
	static const char *const nss[] = { "ns-c", "ns-b", "ns-a", "ns-d" };
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	bool		 created;
	char		 name[32];
	size_t		 i;

	for (i = 0; i < 4; i++) {
		as(f, &r, f->admin_token);
		assert_int_equal(cf_core_ns_create(f->core, &r, nss[i], NULL,
		    &out, NULL), CF_OK);
		json_decref(out);
	}
	/* Sets on ns-c, ns-b (the forbid, between others), ns-a; none on
	 * ns-d; one global. */
	for (i = 0; i < 3; i++) {
		(void)snprintf(name, sizeof(name), "set-%zu", i);
		as(f, &r, f->admin_token);
		assert_int_equal(cf_core_policy_set(f->core, &r, name, nss[i],
		    i == 1 ? deny : note, i == 1 ? sizeof(deny) - 1 :
		    sizeof(note) - 1, &created, &out, NULL), CF_OK);
		json_decref(out);
		as(f, &r, f->admin_token);
		assert_int_equal(cf_core_policy_set(f->core, &r, "extra",
		    nss[i], note, sizeof(note) - 1, &created, &out, NULL),
		    CF_OK);
		json_decref(out);
	}
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_policy_set(f->core, &r, "g", "", note,
	    sizeof(note) - 1, &created, &out, NULL), CF_OK);
	json_decref(out);
	for (i = 0; i < 4; i++) {
		as(f, &r, f->admin_token);
		assert_int_equal(core_authorize(f->core, &r, "object:list",
		    nss[i], NULL, NULL), i == 1 ? CF_E_DENIED : CF_OK);
		if (i == 1)
			assert_non_null(strstr(r.reasons, "set-1@ns-b/"));
	}
	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize(f->core, &r, "object:list", "ns-x",
	    NULL, NULL), CF_OK);
}

/* The entities the monitor builds for each kind of decision conform to
 * Coffer's own schema (`coffer policy schema`), and so does the
 * request: the types it names are in the action's appliesTo. */
static void
test_core_entities_conform_to_the_schema(void **state)
{
	static const struct {
		const char	*action, *ns, *data_ns, *resource, *rtype;
	} cases[] = {
		{ "object:get", "conf", NULL, "ns/conf/obj/k", "Object" },
		{ "object:put", "conf", NULL, "ns/conf/obj/new", "Object" },
		/* An empty key (refused once decided) is still an object. */
		{ "object:put", "conf", NULL, "ns/conf/obj/", "Object" },
		{ "object:list", "conf", NULL, "ns/conf", "Namespace" },
		{ "object:list", "conf", NULL, "ns/conf/obj/", "Namespace" },
		{ "object:list", "conf", NULL, "ns/conf/obj/d/", "Namespace" },
		{ "label:set", "conf", NULL, "ns/conf/obj/k", "Object" },
		{ "label:set", "conf", NULL, "ns/conf", "Namespace" },
		{ "ns:get", "conf", NULL, "ns/conf", "Namespace" },
		{ "ns:create", NULL, NULL, "ns/other", "Store" },
		{ "ns:delete", NULL, "conf", "ns/conf", "Namespace" },
		{ "binding:create", "conf", NULL, "ns/conf", "Namespace" },
		{ "binding:create", NULL, NULL, "bindings", "Store" },
		/* A policy set attached to a namespace is decided on it. */
		{ "policy:set", "conf", NULL, "policies/p", "Namespace" },
		{ "policy:set", NULL, NULL, "policies/p", "Store" },
		{ "policy:get", "conf", NULL, "policies/p", "Namespace" },
		{ "access:who", "conf", NULL, "ns/conf", "Namespace" },
		{ "user:create", NULL, NULL, "users/x", "Store" },
	};
	struct fixture			*f = *state;
	struct core_authz_result	 res;
	const struct cf_action_def	*def;
	struct cf_req			 r;
	struct cf_error			 err;
	json_t				*out = NULL, *ch;
	size_t				 i, k;
	char				 tok[128];

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "conf", "prod", &out,
	    NULL), CF_OK);
	json_decref(out);
	make_user(f, "eve", "reader", "conf", tok, sizeof(tok));
	put_bytes(f, f->admin_api, "conf", "k", "x", 1, NULL, CF_OK);
	ch = json_pack("{s:s}", "team", "ml");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_user_attrs_set(f->core, &r, "eve", ch, &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_set(f->core, &r, "conf", NULL, ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_labels_set(f->core, &r, "conf", "k", ch,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(ch);
	/* eve, with OIDC groups (the Group parents of the User). */
	as(f, &r, tok);
	cf_strlcpy(r.groups[0], "eng", sizeof(r.groups[0]));
	cf_strlcpy(r.groups[1], "ml team", sizeof(r.groups[1]));
	r.ngroups = 2;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		def = cf_action_find(cases[i].action);
		assert_non_null(def);
		cf_error_clear(&err);
		assert_int_equal(core_authz_explain(f->core, &r, def,
		    cases[i].ns, cases[i].data_ns, cases[i].resource, NULL,
		    NULL, &res, &err), CF_OK);
		/* The builder's resource is of the type given. */
		for (k = 0; k < json_array_size(res.entities); k++)
			if (strcmp(json_string_value(json_object_get(
			    json_object_get(json_array_get(res.entities, k),
			    "uid"), "type")), cases[i].rtype) == 0)
				break;
		if (k == json_array_size(res.entities))
			fail_msg("%s on %s: no %s entity", cases[i].action,
			    cases[i].resource, cases[i].rtype);
		if (core_authz_check_entities(f->core, res.entities,
		    core_principal_type(&r.principal), def->name,
		    cases[i].rtype, res.context, &err) != CF_OK)
			fail_msg("%s on %s: %s", cases[i].action,
			    cases[i].resource, err.msg);
		core_authz_result_clear(&res);
	}
	/* The check finds what is off: an attribute gone, a stray tag. */
	as(f, &r, tok);
	def = cf_action_find("object:get");
	assert_int_equal(core_authz_explain(f->core, &r, def, "conf", NULL,
	    "ns/conf/obj/k", NULL, NULL, &res, NULL), CF_OK);
	assert_int_equal(json_object_del(json_object_get(json_array_get(
	    res.entities, 0), "attrs"), "kind"), 0);
	cf_error_clear(&err);
	assert_int_equal(core_authz_check_entities(f->core, res.entities,
	    "User", "object:get", "Namespace", res.context, &err),
	    CF_E_INPUT);
	assert_non_null(strstr(err.msg, "User::\"eve\": attrs.kind: required "
	    "attribute kind is missing (2 violations"));
	core_authz_result_clear(&res);
}

/* Decisions check their entities against the schema in debug builds
 * only (the sanitizer build the suite runs in), and a decision whose
 * entities the schema rejects fails closed there (CF_NEVER aborts). */
static void
test_core_decisions_check_entities_in_debug_builds(void **state)
{
	static const char strict[] = "entity Store;\n"
	    "entity Group;\n"
	    "entity User in [Group] { name: String, kind: String,\n"
	    "    clearance: Long };\n"
	    "entity Service;\nentity Namespace in [Store];\n"
	    "action \"ns:create\" appliesTo { principal: User,\n"
	    "    resource: Store };\n";
	struct fixture		*f = *state;
	struct cf_schema	*orig, *bad = NULL;
	struct cf_req		 r;
	unsigned long long	 before;
	pid_t			 pid;
	int			 status;

	before = atomic_load(&f->core->entity_checks);
	as(f, &r, f->admin_token);
	assert_int_equal(core_authorize(f->core, &r, "ns:create", NULL,
	    "ns/dbg", NULL), CF_OK);
#ifdef NDEBUG
	/* SEC-neutral cost: release builds never run the check. */
	assert_int_equal(atomic_load(&f->core->entity_checks), before);
#else
	assert_true(atomic_load(&f->core->entity_checks) > before);
#endif
	assert_int_equal(cf_schema_parse(strict, sizeof(strict) - 1, &bad,
	    NULL), CF_OK);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		orig = f->core->schema;
		f->core->schema = bad;
		as(f, &r, f->admin_token);
		/* Release: decided as ever.  Debug: aborts. */
		_exit(core_authorize(f->core, &r, "ns:create", NULL, "ns/dbg",
		    NULL) == CF_OK && orig != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef NDEBUG
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#else
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#endif
	cf_schema_free(bad);
}

/* Break-glass: a grant gives owner on its namespace while in force by the
 * core's clock (injected: expired without waiting), marks the requests
 * made under it, needs fresh MFA to open, and can be revoked. */
static void
test_core_breakglass(void **state)
{
	struct fixture			*f = *state;
	struct cf_breakglass_rec	 b;
	struct cf_req			 r;
	json_t				*out = NULL;
	char				 tok[128], id[CF_BG_ID_LEN + 1];
	int64_t				 t0 = cf_now_us();

	id_clock_now = t0;
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "bg-prod", "prod",
	    &out, NULL), CF_OK);
	json_decref(out);
	make_user(f, "oncall", NULL, NULL, tok, sizeof(tok));
	/* Without a grant: no access. */
	put_bytes(f, tok, "bg-prod", "k", "x", 1, NULL, CF_E_DENIED);
	/* Not allowed to open one (only admin is, by default). */
	as(f, &r, tok);
	r.mfa = true;
	r.mfa_age = 1;
	assert_int_equal(cf_core_breakglass_open(f->core, &r, "bg-prod",
	    "incident", 600, &out, NULL), CF_E_DENIED);
	/* The admin needs MFA at most 5 minutes old, a reason, a bounded
	 * duration. */
	as(f, &r, f->admin_token);
	r.mfa_age = CF_BREAKGLASS_MFA_AGE + 1;
	assert_int_equal(cf_core_breakglass_open(f->core, &r, "bg-prod",
	    "incident", 600, &out, NULL), CF_E_AUTH);
	assert_string_equal(r.errcode, "mfa_required");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_breakglass_open(f->core, &r, "bg-prod", "",
	    600, &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_breakglass_open(f->core, &r, "bg-prod",
	    "incident", 14401, &out, NULL), CF_E_INPUT);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_breakglass_open(f->core, &r, "bg-nosuch",
	    "incident", 60, &out, NULL), CF_E_NOTFOUND);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_breakglass_open(f->core, &r, "bg-prod",
	    "incident", 60, &out, NULL), CF_OK);
	assert_true(r.audited);
	assert_string_equal(json_string_value(json_object_get(out, "state")),
	    "active");
	json_decref(out);
	/* A grant for oncall (as a policy allowing it would make one). */
	memset(&b, 0, sizeof(b));
	cf_strlcpy(b.id, "00112233aabbccdd", sizeof(b.id));
	as(f, &r, tok);
	b.principal_id = r.principal.id;
	cf_strlcpy(b.ns, "bg-prod", sizeof(b.ns));
	cf_strlcpy(b.reason, "INC-1", sizeof(b.reason));
	b.created_us = t0;
	b.expires_us = t0 + 600 * 1000000LL;
	assert_int_equal(cf_meta_breakglass_insert(f->core->meta, &au_ok, &b,
	    NULL), CF_OK);
	cf_strlcpy(id, b.id, sizeof(id));
	put_bytes(f, tok, "bg-prod", "k", "x", 1, NULL, CF_OK);
	as(f, &r, tok);
	assert_int_equal(r.nbg, 1);
	assert_int_equal(cf_core_object_versions(f->core, &r, "bg-prod", "k",
	    &out, NULL), CF_OK);
	json_decref(out);
	assert_string_equal(r.bg_used, id);
	/* One second before the end: still in force; at the end: gone. */
	id_clock_now = b.expires_us - 1000000;
	put_bytes(f, tok, "bg-prod", "k", "y", 1, NULL, CF_OK);
	id_clock_now = b.expires_us;
	put_bytes(f, tok, "bg-prod", "k", "z", 1, NULL, CF_E_DENIED);
	as(f, &r, tok);
	assert_int_equal(r.nbg, 0);
	/* Listing: one's own, all of them with all. */
	as(f, &r, tok);
	assert_int_equal(cf_core_breakglass_list(f->core, &r, false, &out,
	    NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "grants")), 0);
	json_decref(out);
	as(f, &r, tok);
	assert_int_equal(cf_core_breakglass_list(f->core, &r, true, &out,
	    NULL), CF_OK);
	assert_int_equal(json_array_size(json_object_get(out, "grants")), 1);
	json_decref(out);
	/* Revocation ends one early; twice is a conflict. */
	id_clock_now = t0;
	put_bytes(f, tok, "bg-prod", "k", "w", 1, NULL, CF_OK);
	as(f, &r, tok);
	assert_int_equal(cf_core_breakglass_revoke(f->core, &r, id, &out,
	    NULL), CF_OK);
	json_decref(out);
	put_bytes(f, tok, "bg-prod", "k", "v", 1, NULL, CF_E_DENIED);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_breakglass_revoke(f->core, &r, id, &out,
	    NULL), CF_E_CONFLICT);
	/* Another's or an unknown id: refused to a non-admin alike. */
	as(f, &r, tok);
	assert_int_equal(cf_core_breakglass_revoke(f->core, &r,
	    "ffffffffffffffff", &out, NULL), CF_E_DENIED);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_breakglass_revoke(f->core, &r,
	    "ffffffffffffffff", &out, NULL), CF_E_NOTFOUND);
	id_clock_now = 0;
}

static int
setup_keys(void **state)
{
	id_keys_sched = true;
	id_clock_now = 0;
	return setup_id(state);
}

static int
teardown_keys(void **state)
{
	id_keys_sched = false;
	id_clock_now = 0;
	return teardown_id(state);
}

/* The key status's active KEK and pending rewrap count. */
static void
key_state(struct fixture *f, char *active, size_t n, json_int_t *pending)
{
	struct cf_req	 r;
	json_t		*out = NULL;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_key_status(f->core, &r, &out, NULL), CF_OK);
	cf_strlcpy(active, json_string_value(json_object_get(out, "active")),
	    n);
	*pending = json_integer_value(json_object_get(json_object_get(out,
	    "rewrap"), "pending"));
	json_decref(out);
}

/* key_rotate_days by the core's clock: nothing before the day, then one
 * rotation (audited as the system's) and the rewrap of everything, in
 * one tick; no sleep, no thread. */
static void
test_core_keys_scheduled_rotation(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL;
	char		 active[CF_KEK_ID_MAX];
	json_int_t	 pending = -1;
	int64_t		 day = 86400LL * 1000000;

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "keys-ns", "dev", &out,
	    NULL), CF_OK);
	json_decref(out);
	put_bytes(f, f->admin_token, "keys-ns", "a", "hello", 5, NULL, CF_OK);
	id_clock_now = cf_now_us() + 29 * day;
	assert_int_equal(cf_core_keys_tick(f->core, NULL), CF_OK);
	key_state(f, active, sizeof(active), &pending);
	assert_string_equal(active, "kek-1");
	assert_int_equal(pending, 0);
	id_clock_now = cf_now_us() + 31 * day;
	assert_int_equal(cf_core_keys_tick(f->core, NULL), CF_OK);
	key_state(f, active, sizeof(active), &pending);
	assert_string_equal(active, "kek-2");
	assert_int_equal(pending, 0);
	/* The new KEK is young by the same clock: no second rotation. */
	assert_int_equal(cf_core_keys_tick(f->core, NULL), CF_OK);
	key_state(f, active, sizeof(active), &pending);
	assert_string_equal(active, "kek-2");
	/* Retiring the old one is allowed now that nothing uses it. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_key_retire(f->core, &r, "kek-1", &out, NULL),
	    CF_OK);
	json_decref(out);
}

/* Promotion and copy through the core: a request, its withdrawal by the
 * requester only, completion by another principal; a copy sharing the
 * source's files, refused into prod where no stored policy permits it,
 * refused on the source to one who may not read it. */
static void
test_core_promotion_and_copy(void **state)
{
	struct fixture	*f = *state;
	struct cf_req	 r;
	json_t		*out = NULL, *body;
	char		 wr[128], ow[128], id[64];

	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "pc-dev", "dev", &out,
	    NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "pc-stg", "staging",
	    &out, NULL), CF_OK);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_create(f->core, &r, "pc-prod", "prod",
	    &out, NULL), CF_OK);
	json_decref(out);
	f->core->cfg.promotion_approvals_staging = 1;	/* as by default */
	make_user(f, "pc-writer", "writer", "pc-dev", wr, sizeof(wr));
	make_user(f, "pc-owner", "owner", "pc-stg", ow, sizeof(ow));
	body = json_pack("{s:[], s:s}", "files", "kind", "model");
	assert_non_null(body);
	as(f, &r, wr);
	assert_int_equal(cf_core_art_push(f->core, &r, "pc-dev", "m", body,
	    &out, NULL), CF_OK);
	json_decref(out);
	json_decref(body);

	/* Requested by the writer; the owner may not withdraw it. */
	as(f, &r, wr);
	assert_int_equal(cf_core_promote(f->core, &r, "pc-dev", "m", "1",
	    "pc-stg", "", &out, NULL), CF_OK);
	cf_strlcpy(id, json_string_value(json_object_get(out, "id")),
	    sizeof(id));
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_promotion_withdraw(f->core, &r, id, &out,
	    NULL), CF_E_DENIED);
	assert_string_equal(r.errcode, "not_requester");
	as(f, &r, wr);
	assert_int_equal(cf_core_promotion_withdraw(f->core, &r, id, &out,
	    NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(out, "state")),
	    "withdrawn");
	json_decref(out);
	as(f, &r, ow);
	assert_int_equal(cf_core_promotion_approve(f->core, &r, id, &out,
	    NULL), CF_E_CONFLICT);
	/* A new one completes with the owner's approval. */
	as(f, &r, wr);
	assert_int_equal(cf_core_promote(f->core, &r, "pc-dev", "m", "1",
	    "pc-stg", "", &out, NULL), CF_OK);
	cf_strlcpy(id, json_string_value(json_object_get(out, "id")),
	    sizeof(id));
	json_decref(out);
	as(f, &r, ow);
	assert_int_equal(cf_core_promotion_approve(f->core, &r, id, &out,
	    NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(out, "state")),
	    "completed");
	json_decref(out);

	/* Copies. */
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_art_copy(f->core, &r, "pc-dev", "m", "",
	    "pc-prod", "m", &out, NULL), CF_E_DENIED);
	assert_string_equal(r.errcode, "promotion_required");
	as(f, &r, ow);
	assert_int_equal(cf_core_art_copy(f->core, &r, "pc-dev", "m", "",
	    "pc-stg", "m2", &out, NULL), CF_E_DENIED);
	assert_string_equal(r.action, "artifact:get");
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_art_copy(f->core, &r, "pc-dev", "m", "1",
	    "pc-stg", "m2", &out, NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(out, "name")),
	    "m2");
	assert_int_equal(json_integer_value(json_object_get(out, "version")),
	    1);
	json_decref(out);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_art_copy(f->core, &r, "pc-dev", "m", "7",
	    "pc-stg", "m2", &out, NULL), CF_E_NOTFOUND);
}

/* A token scope is parsed once per text, not in every decision
 * (core_scope_json): the same text gives the same parsed object, other
 * texts their own, and an unreadable scope fails closed every time
 * (never cached, never read as "no scope"). */
static void
test_core_scope_json_cache(void **state)
{
	static const char *const a = "{\"actions\":[\"object:get\"],"
	    "\"namespaces\":[\"ns-a\"]}";
	static const char *const b = "{\"actions\":[\"object:put\"]}";
	struct cf_req	r;
	json_t		*ja, *ja2, *jb, *jbad;
	bool		 bad;
	char		 big[CF_SCOPE_MAX];
	size_t		 i;

	(void)state;
	ja = core_scope_json(a, &bad);
	assert_non_null(ja);
	assert_false(bad);
	ja2 = core_scope_json(a, &bad);
	assert_ptr_equal(ja, ja2);
	json_decref(ja2);
	jb = core_scope_json(b, &bad);
	assert_non_null(jb);
	assert_ptr_not_equal(ja, jb);
	assert_non_null(json_object_get(jb, "actions"));
	assert_null(json_object_get(jb, "namespaces"));
	assert_non_null(json_object_get(ja, "namespaces"));
	json_decref(jb);
	/* Many texts: each still gets its own parse (the cache evicts;
	 * a reference held survives eviction). */
	for (i = 0; i < 1000; i++) {
		json_t *j;

		(void)snprintf(big, sizeof(big), "{\"namespaces\":"
		    "[\"ns-%zu\"]}", i);
		j = core_scope_json(big, &bad);
		assert_non_null(j);
		(void)snprintf(big, sizeof(big), "ns-%zu", i);
		assert_string_equal(json_string_value(json_array_get(
		    json_object_get(j, "namespaces"), 0)), big);
		json_decref(j);
	}
	assert_non_null(json_object_get(ja, "actions"));
	json_decref(ja);
	/* SEC: unreadable, or not an object: bad, every time. */
	for (i = 0; i < 2; i++) {
		jbad = core_scope_json("{\"actions\":[", &bad);
		assert_null(jbad);
		assert_true(bad);
		jbad = core_scope_json("[\"object:get\"]", &bad);
		assert_null(jbad);
		assert_true(bad);
	}
	jbad = core_scope_json("", &bad);
	assert_null(jbad);
	assert_false(bad);
	/* and the checks that read it */
	memset(&r, 0, sizeof(r));
	cf_strlcpy(r.scope, a, sizeof(r.scope));
	assert_true(core_scope_allows(&r, "object:get", "ns-a"));
	assert_true(core_scope_allows(&r, "object:get", "ns-a"));
	assert_false(core_scope_allows(&r, "object:get", "ns-b"));
	assert_false(core_scope_allows(&r, "object:put", "ns-a"));
	assert_false(core_scope_allows(&r, "object:get", NULL));
	assert_true(core_scope_has_action(&r, "object:get"));
	cf_strlcpy(r.scope, "{\"actions\":[", sizeof(r.scope));
	assert_false(core_scope_allows(&r, "object:get", "ns-a"));
	assert_false(core_scope_has_action(&r, "object:get"));
	r.scope[0] = '\0';
	assert_true(core_scope_allows(&r, "object:put", NULL));
}

/* cf_req_init zeroes every field but the bindings' and groups' arrays
 * (their counts are zeroed and bound every reader), so that a request
 * does not write 14 KiB it never reads. */
static void
test_core_req_init_zeroes(void **state)
{
	struct cf_req	*a, *z;
	const char	*pa, *pz;
	size_t		 ob = offsetof(struct cf_req, bindings);
	size_t		 onb = offsetof(struct cf_req, nbindings);
	size_t		 og = offsetof(struct cf_req, groups);
	size_t		 ong = offsetof(struct cf_req, ngroups);

	(void)state;
	a = malloc(sizeof(*a));
	z = calloc(1, sizeof(*z));
	assert_non_null(a);
	assert_non_null(z);
	memset(a, 0xa5, sizeof(*a));
	cf_req_init(a, "10.0.0.1");
	cf_req_init(z, "10.0.0.1");
	assert_int_equal(a->nbindings, 0);
	assert_int_equal(a->ngroups, 0);
	/* What differs by design: the id and the time. */
	memcpy(z->request_id, a->request_id, sizeof(z->request_id));
	z->time_us = a->time_us;
	pa = (const char *)a;
	pz = (const char *)z;
	assert_memory_equal(pa, pz, ob);
	assert_memory_equal(pa + onb, pz + onb, og - onb);
	assert_memory_equal(pa + ong, pz + ong, sizeof(*a) - ong);
	assert_string_equal(a->source, "10.0.0.1");
	assert_string_equal(a->authn, "none");
	free(a);
	free(z);
}

/* The conditions of a conditional request (core/precond.c), in RFC
 * 9110's order and with S3's precedence, on whole seconds. */
static void
test_core_precond(void **state)
{
	struct cf_object_view	v;
	struct cf_cond		cd = CF_COND_NONE;
	const int64_t		t = 1700000000LL * 1000000 + 999999;
	const int64_t		sec = 1000000;

	(void)state;
	memset(&v, 0, sizeof(v));
	cf_strlcpy(v.md5, "0123456789abcdef0123456789abcdef", sizeof(v.md5));
	v.created_us = t;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
	/* The Last-Modified sent back (whole seconds) is not modified. */
	cd.if_modified_since_us = t - 999999;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_NOT_MODIFIED);
	cd.if_modified_since_us = t - 999999 - sec;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
	cd.if_modified_since_us = -1;
	cd.if_unmodified_since_us = t - 999999;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
	cd.if_unmodified_since_us = t - 999999 - sec;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_FAILED);
	/* If-Match true + If-Unmodified-Since false: holds. */
	cd.if_match = "\"0123456789abcdef0123456789abcdef\"";
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
	cd.if_match = "\"x\", W/\"0123456789abcdef0123456789abcdef\"";
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
	cd.if_match = "other";
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_FAILED);
	/* If-None-Match false + If-Modified-Since true: not modified. */
	cd = (struct cf_cond)CF_COND_NONE;
	cd.if_none_match = "0123456789abcdef0123456789abcdef";
	cd.if_modified_since_us = 0;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_NOT_MODIFIED);
	cd.if_none_match = "*";
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_NOT_MODIFIED);
	/* If-None-Match true: If-Modified-Since is not looked at. */
	cd.if_none_match = "other";
	cd.if_modified_since_us = t;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
	/* A 412 wins over a 304. */
	cd.if_match = "other";
	cd.if_none_match = "0123456789abcdef0123456789abcdef";
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_FAILED);
	/* Without an MD5 the ETag is the SHA-256. */
	cd = (struct cf_cond)CF_COND_NONE;
	v.md5[0] = '\0';
	memset(v.sha256, 'a', 64);
	v.sha256[64] = '\0';
	cd.if_match = v.sha256;
	assert_int_equal(cf_core_precond(&cd, &v), CF_PRECOND_HOLDS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_req_init_zeroes),
		cmocka_unit_test(test_core_precond),
		cmocka_unit_test(test_core_scope_json_cache),
		cmocka_unit_test(test_core_names),
		cmocka_unit_test_setup_teardown(test_core_policy_poll,
		    setup_id, teardown_id),
		cmocka_unit_test_setup_teardown(
		    test_core_keys_scheduled_rotation, setup_keys,
		    teardown_keys),
		cmocka_unit_test_setup_teardown(
		    test_core_authn_rejects_bad_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_snapshot_touch_after_end, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_monitor_decides_by_the_registry, setup_id,
		    teardown_id),
		cmocka_unit_test_setup_teardown(test_core_roles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_authz_build_matches_json, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_authz_context_risk, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_authz_shared_action_entities, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_authz_layers_follow_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_authz_context_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_decision_reads,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_ns_sets_apply_to_their_namespace, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_core_binding_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_put_get_roundtrip_and_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_put_checksum_kept_and_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_entities_conform_to_the_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_decisions_check_entities_in_debug_builds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_audit_records_every_decision, setup, teardown),
		cmocka_unit_test(test_core_context_text_matches_json),
		cmocka_unit_test_setup_teardown(test_core_act_structural,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_login_success_and_uniform_failures, setup_id,
		    teardown_id),
		cmocka_unit_test_setup_teardown(test_core_login_lockout,
		    setup_lock, teardown_id),
		cmocka_unit_test_setup_teardown(
		    test_core_login_address_counter, setup_lock, teardown_id),
		cmocka_unit_test_setup_teardown(
		    test_core_mfa_enroll_confirm_codes, setup_id, teardown_id),
		cmocka_unit_test_setup_teardown(
		    test_core_mfa_disable_with_recovery_code, setup_id,
		    teardown_id),
		cmocka_unit_test_setup_teardown(test_core_user_mfa_reset,
		    setup_id, teardown_id),
		cmocka_unit_test_setup_teardown(
		    test_core_mfa_required_and_stepup, setup_id, teardown_id),
		cmocka_unit_test_setup_teardown(test_core_sessions, setup_id,
		    teardown_id),
		cmocka_unit_test_setup_teardown(
		    test_core_scoped_tokens_and_service_accounts, setup_id,
		    teardown_id),
		cmocka_unit_test_setup_teardown(test_core_oidc_bearer,
		    setup_oidc, teardown_oidc),
		cmocka_unit_test_setup_teardown(test_core_oidc_provisioning,
		    setup_oidc_prov, teardown_oidc),
		cmocka_unit_test_setup_teardown(test_core_oidc_link_admin,
		    setup_oidc, teardown_oidc),
		cmocka_unit_test_setup_teardown(test_core_oidc_adopt_legacy,
		    setup_oidc_prov, teardown_oidc),
		cmocka_unit_test_setup_teardown(
		    test_core_restricted_namespace_needs_mfa, setup_id,
		    teardown_id),
		cmocka_unit_test_setup_teardown(test_core_oidc_two_issuers,
		    setup_oidc_multi, teardown_oidc_multi),
		cmocka_unit_test(test_core_oidc_config_file_refused),
		cmocka_unit_test_setup_teardown(test_core_mfa_max_age,
		    setup_id, teardown_id),
		cmocka_unit_test_setup_teardown(test_core_oidc_mfa_max_age,
		    setup_oidc, teardown_oidc),
		cmocka_unit_test_setup_teardown(test_core_breakglass,
		    setup_id, teardown_id),
		cmocka_unit_test_setup_teardown(test_core_promotion_and_copy,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, oidc_group_teardown);
}
