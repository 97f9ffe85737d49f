/* cf-link: cf_crypto cf_base */
/* tests/unit/test_password.c: src/crypto/password.c — argon2id hash and
 * verify, refused stored strings (downgrade, absurd costs), rehash
 * detection, the dummy verification for unknown users, oversized
 * credentials, and every rule of the password policy.  Nothing here
 * measures time: the dummy's cost is checked by counting its KDF runs.
 * Hashing is slow by design: the test hashes a handful of times only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "crypto/password.h"
#include "crypto/password_int.h"

static char	stored[CF_PWHASH_STR_MAX];	/* "correct horse battery" */
#define PW	"correct horse battery"

static int
setup(void **state)
{
	(void)state;
	return cf_password_hash(PW, strlen(PW), NULL, stored, NULL) == CF_OK ?
	    0 : -1;
}

static void
test_password_hash_verify(void **state)
{
	struct cf_error	e;
	char		other[CF_PWHASH_STR_MAX];

	(void)state;
	assert_true(strncmp(stored, "$argon2id$v=19$m=19456,t=2,p=1$", 31) ==
	    0);
	assert_int_equal(cf_password_verify(stored, PW, strlen(PW), NULL),
	    CF_OK);
	cf_error_clear(&e);
	assert_int_equal(cf_password_verify(stored, "correct horse batterY",
	    strlen(PW), &e), CF_E_AUTH);
	assert_string_equal(e.msg, "wrong password");
	assert_int_equal(cf_password_verify(stored, PW, strlen(PW) - 1, NULL),
	    CF_E_AUTH);
	assert_int_equal(cf_password_verify(stored, "", 0, NULL), CF_E_AUTH);
	/* A second hash of the same password differs (random salt). */
	assert_int_equal(cf_password_hash(PW, strlen(PW), NULL, other, NULL),
	    CF_OK);
	assert_string_not_equal(stored, other);
	assert_int_equal(cf_password_verify(other, PW, strlen(PW), NULL),
	    CF_OK);
	/* Bytes after a NUL count: pw is (pointer, length). */
	assert_int_equal(cf_password_verify(stored, PW "\0x",
	    strlen(PW) + 2, NULL), CF_E_AUTH);
}

static void
test_password_params(void **state)
{
	struct cf_pwhash_params	p;
	char			out[CF_PWHASH_STR_MAX];

	(void)state;
	cf_pwhash_params_default(&p);
	assert_int_equal(p.ops, 2);
	assert_int_equal(p.mem, 19u * 1024 * 1024);
	assert_int_equal(cf_pwhash_params_check(&p, NULL), CF_OK);
	p.ops = 1;
	assert_int_equal(cf_pwhash_params_check(&p, NULL), CF_E_INVAL);
	assert_int_equal(cf_password_hash("x", 1, &p, out, NULL), CF_E_INVAL);
	p.ops = 2;
	p.mem = 8u * 1024 * 1024;
	assert_int_equal(cf_pwhash_params_check(&p, NULL), CF_E_INVAL);
	p.mem = 2048u * 1024 * 1024;
	assert_int_equal(cf_pwhash_params_check(&p, NULL), CF_E_INVAL);
	p.mem = CF_PWHASH_MEM_MIN;
	p.ops = CF_PWHASH_OPS_MAX + 1;
	assert_int_equal(cf_pwhash_params_check(&p, NULL), CF_E_INVAL);
}

static void
test_password_stored_refused(void **state)
{
	const char	*bad[] = {
		"",
		"plaintext",
		/* argon2i: a downgrade */
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		/* 4 TiB of memory, 1000 passes, 4 lanes */
		"$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=4$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHRzYWx0$x",
		"$argon2id$v=19$m=,t=2,p=1$c2FsdHNhbHRzYWx0$x",
		"$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0$x",
	};
	char		 longstr[CF_PWHASH_STR_MAX + 10];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cf_password_verify(bad[i], PW, strlen(PW),
		    NULL), CF_E_INPUT);
		assert_true(cf_password_needs_rehash(bad[i], NULL));
	}
	assert_int_equal(cf_password_verify(NULL, PW, strlen(PW), NULL),
	    CF_E_INPUT);
	memset(longstr, 'a', sizeof(longstr) - 1);
	longstr[sizeof(longstr) - 1] = '\0';
	memcpy(longstr, stored, strlen(stored));
	assert_int_equal(cf_password_verify(longstr, PW, strlen(PW), NULL),
	    CF_E_INPUT);
}

static void
test_password_needs_rehash(void **state)
{
	struct cf_pwhash_params	p;

	(void)state;
	assert_false(cf_password_needs_rehash(stored, NULL));
	cf_pwhash_params_default(&p);
	assert_false(cf_password_needs_rehash(stored, &p));
	p.ops = 3;
	assert_true(cf_password_needs_rehash(stored, &p));
	cf_pwhash_params_default(&p);
	p.mem = 64u * 1024 * 1024;
	assert_true(cf_password_needs_rehash(stored, &p));
	assert_true(cf_password_needs_rehash(
	    "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$"
	    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", NULL));
}

/* The dummy verification for unknown users does the work of a real one:
 * one argon2id verification with the same costs, counted through the test
 * hook rather than timed (timing on a shared host is noise; the measured
 * times are in bench/password). */
static void
test_password_dummy(void **state)
{
	struct cf_pwverify_trace	t;
	struct cf_pwhash_params		p, real;
	struct cf_error			e;

	(void)state;
	memset(&t, 0, sizeof(t));
	cf_password_test_trace(&t);
	assert_int_equal(cf_password_verify(stored, "wrong guess", 11, NULL),
	    CF_E_AUTH);
	assert_int_equal(t.n, 1);
	real = t.last;
	cf_pwhash_params_default(&p);
	assert_int_equal(real.ops, p.ops);
	assert_int_equal(real.mem, p.mem);

	cf_error_clear(&e);
	assert_int_equal(cf_password_verify_dummy(PW, strlen(PW), NULL, &e),
	    CF_E_AUTH);
	assert_string_equal(e.msg, "wrong password");
	assert_int_equal(t.n, 2);
	assert_int_equal(t.last.ops, real.ops);
	assert_int_equal(t.last.mem, real.mem);
	/* Again, with the cached dummy hash: still one full verification. */
	assert_int_equal(cf_password_verify_dummy("", 0, NULL, NULL),
	    CF_E_AUTH);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.last.ops, real.ops);
	assert_int_equal(t.last.mem, real.mem);
	/* Other costs configured: the dummy follows them. */
	p.ops = 3;
	assert_int_equal(cf_password_verify_dummy("wrong guess", 11, &p,
	    NULL), CF_E_AUTH);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.last.ops, 3);
	assert_int_equal(t.last.mem, p.mem);
	/* Refused before the KDF, like a real verification. */
	assert_int_equal(cf_password_verify_dummy("x", CF_PASSWORD_MAX + 1,
	    NULL, NULL), CF_E_LIMIT);
	assert_int_equal(cf_password_verify(stored, "x", CF_PASSWORD_MAX + 1,
	    NULL), CF_E_LIMIT);
	assert_int_equal(t.n, 4);
	cf_password_test_trace(NULL);
}

static void
test_password_oversized(void **state)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static char	big[CF_PASSWORD_MAX + 1];
	char		out[CF_PWHASH_STR_MAX];
	uint32_t	x = 1;
	size_t		i;

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(cf_password_hash(big, sizeof(big), NULL, out, NULL),
	    CF_E_LIMIT);
	assert_int_equal(cf_password_verify(stored, big, sizeof(big), NULL),
	    CF_E_LIMIT);
	assert_int_equal(cf_password_verify_dummy(big, sizeof(big), NULL,
	    NULL), CF_E_LIMIT);
	assert_int_equal(cf_password_check(NULL, big, sizeof(big), NULL, NULL),
	    CF_E_LIMIT);
	assert_int_equal(cf_password_check(NULL, big, SIZE_MAX, NULL, NULL),
	    CF_E_LIMIT);
	/* Exactly the maximum is fine for the policy (random-looking
	 * text, so the strength rules pass; also the slowest input for
	 * them). */
	for (i = 0; i < CF_PASSWORD_MAX; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = alnum[(x >> 16) % (sizeof(alnum) - 1)];
	}
	assert_int_equal(cf_password_check(NULL, big, CF_PASSWORD_MAX, NULL,
	    NULL), CF_OK);
}

static void
test_password_policy(void **state)
{
	struct cf_password_policy	 pol;
	struct cf_error			 e;
	struct {
		const char	*pw, *user;
		cf_err		 want;
		const char	*msg;
	} v[] = {
		{ "", NULL, CF_E_INPUT, "shorter" },
		{ "shrt", NULL, CF_E_INPUT, "shorter" },
		{ "elevenchars", NULL, CF_E_INPUT, "shorter" },
		{ "twelve chars", NULL, CF_OK, NULL },
		{ "passwordpassword", NULL, CF_E_INPUT, "common" },
		{ "PassWordPassWord", NULL, CF_E_INPUT, "common" },
		{ "QWERTYUIOPASDFGH", NULL, CF_E_INPUT, "common" },
		{ "administrator", NULL, CF_E_INPUT, "common" },
		{ "alice.anderson", "Alice.Anderson", CF_E_INPUT, "equals" },
		{ "my-alice.anderson-pw", "alice.anderson", CF_E_INPUT,
		    "contains" },
		{ "xxALICExx-123", "alice", CF_E_INPUT, "contains" },
		/* Names of 3 characters count too, and backwards. */
		{ "xxbobxx-12345", "bob", CF_E_INPUT, "rule user_name" },
		{ "my-BOB-pw-1x9", "Bob", CF_E_INPUT, "rule user_name" },
		{ "zz-ecila-zz-99", "alice", CF_E_INPUT, "backwards" },
		{ "ZZ-Ecila-zz-99", "alice", CF_E_INPUT, "rule user_name" },
		/* ...but not 2: "al" is in too many good passwords. */
		{ "walnut-tree-42", "al", CF_OK, NULL },
		{ "al", "al", CF_E_INPUT, "shorter" },
		/* Strength: distinct characters. */
		{ "aaaaaaaaaaaa", NULL, CF_E_INPUT, "rule distinct" },
		{ "            ", NULL, CF_E_INPUT, "rule distinct" },
		{ "abcabcabcabc", NULL, CF_E_INPUT, "rule distinct" },
		{ "ab12ab12ab12", NULL, CF_E_INPUT, "rule distinct" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaab", NULL, CF_E_INPUT, "rule distinct" },
		/* Strength: predictable (repeats, sequences, keyboard runs,
		 * repeated parts), none of them in the common list. */
		{ "mnopqrstuvwx", NULL, CF_E_INPUT, "rule predictable" },
		{ "9876543210ab", NULL, CF_E_INPUT, "rule predictable" },
		{ "zaq12wsxcde3", NULL, CF_E_INPUT, "rule predictable" },
		{ "qazwsxedcrfv", NULL, CF_E_INPUT, "rule predictable" },
		{ "asdfjklasdfj", NULL, CF_E_INPUT, "rule predictable" },
		{ "hunter2hunter2", NULL, CF_E_INPUT, "rule predictable" },
		{ "aaaabbbbccccddddeeee", NULL, CF_E_INPUT,
		    "rule predictable" },
		{ "abcdefgh-1234567", NULL, CF_E_INPUT, "rule predictable" },
		/* Good ones: passphrases, random-looking, non-ASCII. */
		{ "correct horse battery", NULL, CF_OK, NULL },
		{ "Tr0ub4dor&3x", NULL, CF_OK, NULL },
		{ "Kx9#mQ2$vL7p", NULL, CF_OK, NULL },
		{ "my dog is called rex", NULL, CF_OK, NULL },
		{ "\xd0\xb6\xd1\x91\xd0\xbb\xd1\x82\xd1\x8b\xd0\xb9 "
		  "\xd0\xb4\xd0\xbe\xd0\xbc 7", NULL, CF_OK, NULL },
		{ "tab\there-is-bad", NULL, CF_E_INPUT, "control" },
		{ "del\x7fhere-is-bad", NULL, CF_E_INPUT, "control" },
		{ "c1\xc2\x85here-is-bad", NULL, CF_E_INPUT, "control" },
		{ "bad utf8 \xff\xfe here", NULL, CF_E_INPUT, "UTF-8" },
		{ "overlong \xc0\xaf slash", NULL, CF_E_INPUT, "UTF-8" },
		/* 12 code points of 2 bytes each (long enough, but one
		 * character repeated); 11 of them is short. */
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		  NULL, CF_E_INPUT, "rule distinct" },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		  NULL, CF_E_INPUT, "shorter" },
	};
	size_t				 i;
	cf_err				 rc;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cf_error_clear(&e);
		assert_int_equal(cf_password_check(NULL, v[i].pw,
		    strlen(v[i].pw), v[i].user, &e), v[i].want);
		if (v[i].msg != NULL)
			assert_non_null(strstr(e.msg, v[i].msg));
		/* Every refusal names its rule. */
		if (v[i].want != CF_OK)
			assert_non_null(strstr(e.msg, "(rule "));
		/* Never echoes the password. */
		if (strlen(v[i].pw) > 3)
			assert_null(strstr(e.msg, v[i].pw));
		/* The allocation-failure mode: the check allocates nothing,
		 * so a failing allocator changes no answer. */
		cf_test_fail_alloc_after(1);
		rc = cf_password_check(NULL, v[i].pw, strlen(v[i].pw),
		    v[i].user, NULL);
		cf_test_fail_alloc_after(0);
		assert_int_equal(rc, v[i].want);
	}
	/* An embedded NUL. */
	assert_int_equal(cf_password_check(NULL, "twelve\0chars", 12, NULL,
	    NULL), CF_E_INPUT);
	/* A custom policy. */
	cf_password_policy_default(&pol);
	pol.min_len = 8;
	assert_int_equal(cf_password_check(&pol, "x8chars!", 8, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_password_check(&pol, "sunshine", 8, NULL, NULL),
	    CF_E_INPUT);
	pol.check_common = false;
	assert_int_equal(cf_password_check(&pol, "sunshine", 8, NULL, NULL),
	    CF_OK);
	/* With min_len 8, 6 unpredictable characters are enough. */
	assert_int_equal(cf_password_check(&pol, "x8chas!q", 8, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_password_check(&pol, "x8cdefgh", 8, NULL, NULL),
	    CF_E_INPUT);
	/* The strength rules can be turned off (other rules stay). */
	pol.check_strength = false;
	assert_int_equal(cf_password_check(&pol, "aaaaaaaa", 8, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_password_check(&pol, "xxbobxxx", 8, "bob", NULL),
	    CF_E_INPUT);
	pol.check_strength = true;
	pol.max_len = 10;
	assert_int_equal(cf_password_check(&pol, "abcdefghijk", 11, NULL,
	    NULL), CF_E_LIMIT);
	pol.min_len = 4;
	assert_int_equal(cf_password_check(&pol, "abcdefgh", 8, NULL, NULL),
	    CF_E_INVAL);
	pol.min_len = 12;
	assert_int_equal(cf_password_check(&pol, "abcdefghijkl", 12, NULL,
	    NULL), CF_E_INVAL);		/* max < min */
	pol.max_len = CF_PASSWORD_MAX + 1;
	assert_int_equal(cf_password_check(&pol, "abcdefghijkl", 12, NULL,
	    NULL), CF_E_INVAL);
}

static void
test_password_common_list(void **state)
{
	size_t	i;
	const char *p;

	(void)state;
	assert_true(cf_common_passwords_n > 1000);
	for (i = 0; i < cf_common_passwords_n; i++) {
		for (p = cf_common_passwords[i]; *p != '\0'; p++)
			assert_false(*p >= 'A' && *p <= 'Z');
		if (i > 0)
			assert_true(strcmp(cf_common_passwords[i - 1],
			    cf_common_passwords[i]) < 0);
	}
	assert_true(cf_password_is_common("123456", 6));
	assert_true(cf_password_is_common("PASSWORD", 8));
	assert_true(cf_password_is_common("Trustno1", 8));
	assert_true(cf_password_is_common("p@ssw0rd1234", 12));
	assert_false(cf_password_is_common("123456x", 7));
	assert_false(cf_password_is_common("zzqxv123", 8));
	assert_false(cf_password_is_common("", 0));
	assert_false(cf_password_is_common("pass\0word", 9));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_hash_verify),
		cmocka_unit_test(test_password_params),
		cmocka_unit_test(test_password_stored_refused),
		cmocka_unit_test(test_password_needs_rehash),
		cmocka_unit_test(test_password_dummy),
		cmocka_unit_test(test_password_oversized),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_password_common_list),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
