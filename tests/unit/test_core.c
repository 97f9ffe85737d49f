/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base
 * tests/unit/test_core.c: the reference monitor and the domain operations
 * on a real data directory (SQLite, blob files, audit log). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/core.h"
#include "core/core_int.h"
#include "core/datadir.h"
#include "crypto/crypto.h"

struct fixture {
	char		 dir[256];
	struct cf_core	*core;
	char		 admin_token[128];
};

static int
setup(void **state)
{
	struct fixture		*f;
	struct cf_core_config	 cfg;
	char			 boot[4096];
	FILE			*fp;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cf-test-core-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = f->dir;
	cfg.max_object_size = 1 << 20;
	cfg.max_json_body = 65536;
	assert_int_equal(cf_core_open(&cfg, &f->core, boot, NULL), CF_OK);
	assert_string_not_equal(boot, "");
	fp = fopen(boot, "r");
	assert_non_null(fp);
	assert_non_null(fgets(f->admin_token, sizeof(f->admin_token), fp));
	fclose(fp);
	f->admin_token[strcspn(f->admin_token, "\n")] = '\0';
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[512];

	cf_core_close(f->core);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
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
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
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
	/* owner can grant on its namespace, not elsewhere, not admin */
	as(f, &r, ow);
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
	rc = cf_core_put_finish(p, &out, NULL);
	assert_int_equal(rc, want);
	if (rc == CF_OK) {
		assert_true(r.audited);
		assert_int_equal(json_integer_value(json_object_get(out,
		    "size")), (json_int_t)len);
	}
	json_decref(out);
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
	assert_string_equal(cf_core_get_version(g)->sha256, hex);
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

	as(f, &r, NULL);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_E_AUTH);
	assert_int_equal(cf_core_audit(f->core, &r, 401, "unauthenticated", 0,
	    NULL), CF_OK);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_ns_list(f->core, &r, &out, NULL), CF_OK);
	json_decref(out);
	assert_int_equal(cf_core_audit(f->core, &r, 200, "ok", 0, NULL), CF_OK);
	assert_int_equal(cf_dd_master_key(f->dir, false, &master, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_key_derive(master, CF_LABEL_AUDIT, &ak, NULL),
	    CF_OK);
	assert_int_equal(cf_audit_verify(f->dir, ak, &count, &bad, NULL),
	    CF_OK);
	assert_true(count >= 2);
	as(f, &r, f->admin_token);
	assert_int_equal(cf_core_audit_read(f->core, &r, 0, 10, 0, &out, NULL),
	    CF_OK);
	assert_true(json_array_size(json_object_get(out, "records")) >= 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(out, "records"), 0), "decision")),
	    "deny");
	json_decref(out);
	cf_key_free(ak);
	cf_key_free(master);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_names),
		cmocka_unit_test_setup_teardown(
		    test_core_authn_rejects_bad_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_roles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_put_get_roundtrip_and_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_core_audit_records_every_decision, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
