/* tests/unit/test_keyprov.c: the key providers (crypto/keyprov.h): the
 * file provider's rotate, rewrap, list and retire; the PKCS#11 provider
 * against a SoftHSM2 token made in a temporary directory (skipped when
 * softhsm2 is not installed): the same wrapped-DEK binding, rotation and
 * retirement in the token, a token gone (fail closed, then back), and a
 * keyring left from the file provider read through it.
 *
 * cf-link: cf_crypto cf_base */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "crypto/keyprov.h"
#include "crypto/keyring.h"

#define SOFTHSM	"/usr/lib/softhsm/libsofthsm2.so"
#define VER_A	"0123456789abcdef0123456789abcdef"
#define VER_B	"fedcba9876543210fedcba9876543210"

static char	tmpdir[256];

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/cf-kp-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[512];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Wrap under kp, unwrap, compare; and the version id is bound in. */
static void
roundtrip(struct cf_keyprov *kp, const char *want_kek)
{
	struct cf_key	*dek, *back = NULL;
	struct cf_error	 err;
	char		 id[CF_KEK_ID_MAX];
	uint8_t		 w[CF_WRAPPED_DEK_LEN];

	cf_error_clear(&err);
	assert_int_equal(cf_key_new_random(&dek, &err), CF_OK);
	assert_int_equal(cf_keyprov_wrap(kp, dek, VER_A, 32, id, w, &err),
	    CF_OK);
	assert_string_equal(id, want_kek);
	assert_int_equal(cf_keyprov_unwrap(kp, id, VER_A, 32, w, &back, &err),
	    CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(back), CF_KEY_LEN);
	cf_key_free(back);
	back = NULL;
	/* SoftHSM2 answers a tag mismatch with CKR_GENERAL_ERROR: still
	 * an integrity error, not a token gone. */
	if (cf_keyprov_unwrap(kp, id, VER_B, 32, w, &back, &err) !=
	    CF_E_INTEGRITY)
		fail_msg("%s", err.msg);
	assert_null(back);
	w[20] ^= 1;
	cf_error_clear(&err);
	assert_int_equal(cf_keyprov_unwrap(kp, id, VER_A, 32, w, &back, &err),
	    CF_E_INTEGRITY);
	cf_key_free(dek);
}

/* Rotate, rewrap the old DEK, retire the old KEK; the rewrapped DEK is
 * the same key. */
static void
rotation(struct cf_keyprov *kp, const char *old, const char *new)
{
	struct cf_key		*dek, *back = NULL;
	struct cf_error		 err;
	struct cf_kek_info	 ks[8];
	char			 id[CF_KEK_ID_MAX], nid[CF_KEK_ID_MAX];
	uint8_t			 w[CF_WRAPPED_DEK_LEN], nw[CF_WRAPPED_DEK_LEN];
	size_t			 n = 0;

	cf_error_clear(&err);
	assert_int_equal(cf_key_new_random(&dek, &err), CF_OK);
	assert_int_equal(cf_keyprov_wrap(kp, dek, VER_A, 32, id, w, &err),
	    CF_OK);
	assert_string_equal(id, old);
	assert_int_equal(cf_keyprov_rotate(kp, nid, &err), CF_OK);
	assert_string_equal(nid, new);
	cf_keyprov_active_id(kp, nid);
	assert_string_equal(nid, new);
	assert_int_equal(cf_keyprov_list(kp, ks, 8, &n, &err), CF_OK);
	assert_true(n >= 2);
	assert_string_equal(ks[n - 1].id, new);
	assert_true(ks[n - 1].active);
	assert_false(ks[n - 2].active);
	assert_true(ks[n - 1].created > 0);
	/* The active one cannot go. */
	assert_int_equal(cf_keyprov_retire(kp, new, &err), CF_E_CONFLICT);
	cf_error_clear(&err);
	assert_int_equal(cf_keyprov_rewrap(kp, id, VER_A, 32, w, nid, nw,
	    &err), CF_OK);
	assert_string_equal(nid, new);
	assert_int_equal(cf_keyprov_retire(kp, old, &err), CF_OK);
	assert_int_equal(cf_keyprov_unwrap(kp, old, VER_A, 32, w, &back, &err),
	    CF_E_NOTFOUND);
	cf_error_clear(&err);
	assert_int_equal(cf_keyprov_unwrap(kp, nid, VER_A, 32, nw, &back,
	    &err), CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(back), CF_KEY_LEN);
	assert_int_equal(cf_keyprov_retire(kp, old, &err), CF_E_NOTFOUND);
	cf_key_free(back);
	cf_key_free(dek);
}

static void
test_keyprov_file(void **state)
{
	struct cf_keyprov	*kp = NULL;
	struct cf_key		*m;
	struct cf_error		 err;
	char			 p[512];

	(void)state;
	cf_error_clear(&err);
	(void)snprintf(p, sizeof(p), "%s/keyring", tmpdir);
	assert_int_equal(cf_key_new_random(&m, &err), CF_OK);
	assert_int_equal(cf_keyprov_file_open(p, m, true, &kp, &err), CF_OK);
	assert_string_equal(cf_keyprov_name(kp), "file");
	assert_int_equal(cf_keyprov_check(kp, &err), CF_OK);
	roundtrip(kp, "kek-1");
	rotation(kp, "kek-1", "kek-2");
	cf_keyprov_close(kp);
	/* Retirement is durable. */
	assert_int_equal(cf_keyprov_file_open(p, m, false, &kp, &err), CF_OK);
	roundtrip(kp, "kek-2");
	cf_keyprov_close(kp);
	cf_key_free(m);
}

/* A fresh SoftHSM2 token in tmpdir/name; false if softhsm2 is absent. */
static bool
token(const char *name)
{
	char	conf[512], cmd[2048];
	FILE	*f;

	if (access(SOFTHSM, R_OK) != 0)
		return false;
	(void)snprintf(conf, sizeof(conf), "%s/%s.conf", tmpdir, name);
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", tmpdir, name);
	assert_int_equal(system(cmd), 0);
	f = fopen(conf, "w");
	assert_non_null(f);
	(void)fprintf(f, "directories.tokendir = %s/%s\n"
	    "objectstore.backend = file\nlog.level = ERROR\n", tmpdir, name);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	(void)snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free "
	    "--label %s --pin 1234 --so-pin 5678 >/dev/null", name);
	assert_int_equal(system(cmd), 0);
	return true;
}

static void
test_keyprov_pkcs11(void **state)
{
	struct cf_keyprov_pkcs11_cfg	 pc;
	struct cf_keyprov		*kp = NULL;
	struct cf_key			*dek, *back = NULL;
	struct cf_error			 err;
	char				 id[CF_KEK_ID_MAX];
	uint8_t				 w[CF_WRAPPED_DEK_LEN];

	(void)state;
	if (!token("unit1")) {
		skip();
		return;
	}
	cf_error_clear(&err);
	memset(&pc, 0, sizeof(pc));
	pc.module = SOFTHSM;
	pc.token_label = "unit1";
	pc.pin = "1234";
	pc.pinlen = 4;
	/* No KEK yet, and not asked to make one. */
	assert_int_equal(cf_keyprov_pkcs11_open(&pc, false, &kp, &err),
	    CF_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "init-hsm"));
	cf_error_clear(&err);
	pc.pin = "9999";
	assert_int_equal(cf_keyprov_pkcs11_open(&pc, true, &kp, &err),
	    CF_E_AUTH);
	cf_error_clear(&err);
	pc.pin = "1234";
	pc.token_label = "other";
	assert_int_equal(cf_keyprov_pkcs11_open(&pc, true, &kp, &err),
	    CF_E_UNAVAILABLE);
	cf_error_clear(&err);
	pc.token_label = "unit1";
	assert_int_equal(cf_keyprov_pkcs11_open(&pc, true, &kp, &err), CF_OK);
	assert_string_equal(cf_keyprov_name(kp), "pkcs11");
	roundtrip(kp, "hsm-1");
	rotation(kp, "hsm-1", "hsm-2");
	/* The token gone: wrap and unwrap fail closed, then it is back. */
	assert_int_equal(cf_key_new_random(&dek, &err), CF_OK);
	assert_int_equal(cf_keyprov_wrap(kp, dek, VER_A, 32, id, w, &err),
	    CF_OK);
	cf_keyprov_test_lose(kp, true);
	assert_int_equal(cf_keyprov_check(kp, &err), CF_E_UNAVAILABLE);
	cf_error_clear(&err);
	assert_int_equal(cf_keyprov_wrap(kp, dek, VER_A, 32, id, w, &err),
	    CF_E_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "not reachable"));
	cf_error_clear(&err);
	assert_int_equal(cf_keyprov_unwrap(kp, id, VER_A, 32, w, &back, &err),
	    CF_E_UNAVAILABLE);
	assert_null(back);
	cf_keyprov_test_lose(kp, false);
	cf_error_clear(&err);
	assert_int_equal(cf_keyprov_unwrap(kp, id, VER_A, 32, w, &back, &err),
	    CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(back), CF_KEY_LEN);
	cf_key_free(back);
	cf_keyprov_close(kp);
	/* A second open finds the KEKs in the token. */
	assert_int_equal(cf_keyprov_pkcs11_open(&pc, false, &kp, &err), CF_OK);
	cf_keyprov_active_id(kp, id);
	assert_string_equal(id, "hsm-2");
	cf_keyprov_close(kp);
	cf_key_free(dek);
}

/* A keyring from the file provider stays readable under the PKCS#11
 * provider, is listed, rewrapped into the token and retired (its file
 * goes with its last KEK). */
static void
test_keyprov_pkcs11_legacy(void **state)
{
	struct cf_keyprov_pkcs11_cfg	 pc;
	struct cf_keyprov		*fkp = NULL, *kp = NULL;
	struct cf_kek_info		 ks[8];
	struct cf_key			*m, *dek, *back = NULL;
	struct cf_error			 err;
	char				 p[512], id[CF_KEK_ID_MAX];
	char				 nid[CF_KEK_ID_MAX];
	uint8_t				 w[CF_WRAPPED_DEK_LEN];
	uint8_t				 nw[CF_WRAPPED_DEK_LEN];
	size_t				 n = 0;

	(void)state;
	if (!token("unit2")) {
		skip();
		return;
	}
	cf_error_clear(&err);
	(void)snprintf(p, sizeof(p), "%s/legacy-keyring", tmpdir);
	assert_int_equal(cf_key_new_random(&m, &err), CF_OK);
	assert_int_equal(cf_keyprov_file_open(p, m, true, &fkp, &err), CF_OK);
	assert_int_equal(cf_key_new_random(&dek, &err), CF_OK);
	assert_int_equal(cf_keyprov_wrap(fkp, dek, VER_A, 32, id, w, &err),
	    CF_OK);
	cf_keyprov_close(fkp);
	memset(&pc, 0, sizeof(pc));
	pc.module = SOFTHSM;
	pc.token_label = "unit2";
	pc.pin = "1234";
	pc.pinlen = 4;
	pc.legacy_keyring = p;
	pc.legacy_master = m;
	assert_int_equal(cf_keyprov_pkcs11_open(&pc, true, &kp, &err), CF_OK);
	assert_int_equal(cf_keyprov_list(kp, ks, 8, &n, &err), CF_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ks[0].id, "kek-1");
	assert_string_equal(ks[0].where, "keyring");
	assert_false(ks[0].active);
	assert_string_equal(ks[1].id, "hsm-1");
	assert_true(ks[1].active);
	if (cf_keyprov_rewrap(kp, id, VER_A, 32, w, nid, nw, &err) != CF_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(nid, "hsm-1");
	assert_int_equal(cf_keyprov_retire(kp, "kek-1", &err), CF_OK);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(cf_keyprov_unwrap(kp, nid, VER_A, 32, nw, &back,
	    &err), CF_OK);
	assert_memory_equal(cf_key_bytes(dek), cf_key_bytes(back), CF_KEY_LEN);
	cf_key_free(back);
	cf_keyprov_close(kp);
	cf_key_free(dek);
	cf_key_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyprov_file),
		cmocka_unit_test(test_keyprov_pkcs11),
		cmocka_unit_test(test_keyprov_pkcs11_legacy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
