/* cf-link: cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_posture.c: the posture checks that need neither the
 * store nor a request (core/posture.h): version comparison, library
 * minimums, the certificate at an injected "now", the master key's place
 * and the mode walk over a temporary directory; and that every finding
 * id they can give has its section in docs/posture.md. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/posture.h"
#include "crypto/crypto.h"

#define SRC_ROOT	CF_TEST_DATA "/../.."
#define NOW		1900000000LL	/* 2030-03-17 */
#define DAY		86400LL

/* The finding of arr with id, or NULL. */
static const json_t *
find(const json_t *arr, const char *id)
{
	const json_t	*f;
	size_t		 i;

	json_array_foreach(arr, i, f)
		if (strcmp(json_string_value(json_object_get(f, "id")), id) ==
		    0)
			return f;
	return NULL;
}

static const char *
sev(const json_t *arr, const char *id)
{
	const json_t	*f = find(arr, id);

	return f != NULL ? json_string_value(json_object_get(f, "severity")) :
	    NULL;
}

static const char *
detail(const json_t *arr, const char *id)
{
	const json_t	*f = find(arr, id);

	return f != NULL ? json_string_value(json_object_get(f, "detail")) :
	    "";
}

static void
test_posture_version_cmp(void **state)
{
	(void)state;
	assert_true(cf_posture_version_cmp("3.7.10", "3.7.9") > 0);
	assert_true(cf_posture_version_cmp("3.7.9", "3.7.10") < 0);
	assert_int_equal(cf_posture_version_cmp("3.40", "3.40.0"), 0);
	assert_int_equal(cf_posture_version_cmp("1.0.18-stable", "1.0.18"),
	    0);
	assert_true(cf_posture_version_cmp("0.9.74", "0.9.75") < 0);
	assert_true(cf_posture_version_cmp("2.9", "2.14") < 0);
	assert_true(cf_posture_version_cmp("4", "3.99.99") > 0);
	assert_true(cf_posture_version_cmp("", "1") < 0);
	assert_int_equal(cf_posture_version_cmp(NULL, ""), 0);
	/* A component too large for any number stays ordered. */
	assert_true(cf_posture_version_cmp("99999999999999999999999", "1") >
	    0);
}

static void
test_posture_libs(void **state)
{
	const struct cf_posture_lib	libs[] = {
		{ "GnuTLS", "3.7.8", "3.7.9", true },
		{ "SQLite", "3.31.1", "3.40.1", false },
		{ "jansson", "2.14", "2.14", false },
		{ "libsodium", "1.0.19", "1.0.18", false },
		{ "libmicrohttpd", NULL, "0.9.75", true },
	};
	json_t				*arr = json_array();
	const json_t			*f;
	size_t				 i, n = 0;

	(void)state;
	assert_int_equal(cf_posture_check_libs(libs, 5, arr, NULL), CF_OK);
	assert_int_equal(json_array_size(arr), 2);
	json_array_foreach(arr, i, f) {
		assert_string_equal(json_string_value(json_object_get(f, "id")),
		    "library-outdated");
		if (strstr(json_string_value(json_object_get(f, "detail")),
		    "GnuTLS 3.7.8") != NULL) {
			assert_string_equal(json_string_value(json_object_get(f,
			    "severity")), "high");
			n++;
		}
		if (strstr(json_string_value(json_object_get(f, "detail")),
		    "SQLite 3.31.1 is running; the minimum is 3.40.1") !=
		    NULL) {
			assert_string_equal(json_string_value(json_object_get(f,
			    "severity")), "medium");
			n++;
		}
	}
	assert_int_equal(n, 2);
	json_decref(arr);
}

static struct cf_tls_cert_info
cert(int64_t not_before, int64_t not_after)
{
	struct cf_tls_cert_info	ci;

	memset(&ci, 0, sizeof(ci));
	ci.not_before = (time_t)not_before;
	ci.not_after = (time_t)not_after;
	(void)snprintf(ci.key_alg, sizeof(ci.key_alg), "EC/ECDSA");
	ci.key_bits = 256;
	(void)snprintf(ci.sig_alg, sizeof(ci.sig_alg), "ECDSA-SHA256");
	return ci;
}

/* The certificate's findings at NOW. */
static json_t *
cert_findings(const struct cf_tls_cert_info *ci, bool own)
{
	json_t	*arr = json_array();

	assert_int_equal(cf_posture_check_cert(ci, "c.pem", own, NOW, arr,
	    NULL), CF_OK);
	return arr;
}

static void
test_posture_cert_expiry_by_injected_clock(void **state)
{
	struct cf_tls_cert_info	 ci;
	json_t			*a;

	(void)state;
	/* A year left: nothing. */
	ci = cert(NOW - 10 * DAY, NOW + 365 * DAY);
	a = cert_findings(&ci, false);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	/* 30 days and one second: still nothing; 29 days: high. */
	ci = cert(NOW - 10 * DAY, NOW + 30 * DAY + 1);
	a = cert_findings(&ci, false);
	assert_null(find(a, "tls-cert-expiring"));
	json_decref(a);
	ci = cert(NOW - 10 * DAY, NOW + 29 * DAY);
	a = cert_findings(&ci, false);
	assert_string_equal(sev(a, "tls-cert-expiring"), "high");
	assert_non_null(strstr(detail(a, "tls-cert-expiring"),
	    "in 29 days"));
	assert_null(find(a, "tls-cert-expired"));
	json_decref(a);
	/* Ended this very second: critical, not "expiring". */
	ci = cert(NOW - 10 * DAY, NOW);
	a = cert_findings(&ci, false);
	assert_string_equal(sev(a, "tls-cert-expired"), "critical");
	assert_null(find(a, "tls-cert-expiring"));
	json_decref(a);
	/* Not valid yet. */
	ci = cert(NOW + DAY, NOW + 400 * DAY);
	a = cert_findings(&ci, false);
	assert_string_equal(sev(a, "tls-cert-not-yet-valid"), "high");
	json_decref(a);
}

static void
test_posture_cert_weak_settings(void **state)
{
	struct cf_tls_cert_info	 ci;
	json_t			*a;

	(void)state;
	ci = cert(NOW - DAY, NOW + 400 * DAY);
	(void)snprintf(ci.key_alg, sizeof(ci.key_alg), "RSA");
	ci.key_bits = 1024;
	ci.sig_weak = true;
	(void)snprintf(ci.sig_alg, sizeof(ci.sig_alg), "RSA-SHA1");
	ci.self_signed = true;
	a = cert_findings(&ci, true);
	assert_string_equal(sev(a, "tls-key-weak"), "high");
	assert_non_null(strstr(detail(a, "tls-key-weak"), "1024-bit RSA"));
	assert_string_equal(sev(a, "tls-cert-weak-signature"), "high");
	assert_string_equal(sev(a, "tls-cert-self-signed"), "info");
	json_decref(a);
	/* RSA 2048 and EC P-256 are fine; EC below 256 is not. */
	ci.key_bits = 2048;
	ci.sig_weak = false;
	ci.self_signed = false;
	a = cert_findings(&ci, false);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	ci = cert(NOW - DAY, NOW + 400 * DAY);
	ci.key_bits = 192;
	a = cert_findings(&ci, false);
	assert_string_equal(sev(a, "tls-key-weak"), "high");
	json_decref(a);
}

static void
test_posture_tls_priorities(void **state)
{
	json_t	*a = json_array();

	(void)state;
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	assert_int_equal(cf_posture_check_tls_priorities("NORMAL:-VERS-ALL:"
	    "+VERS-TLS1.3:+VERS-TLS1.2", a, NULL), CF_OK);
	assert_int_equal(json_array_size(a), 0);
	assert_int_equal(cf_posture_check_tls_priorities("NORMAL:-VERS-ALL:"
	    "+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0", a, NULL), CF_OK);
	assert_string_equal(sev(a, "tls-old-protocols"), "high");
	assert_non_null(strstr(detail(a, "tls-old-protocols"), "TLS1.1"));
	assert_int_equal(cf_posture_check_tls_priorities("NOT-A-PRIORITY", a,
	    NULL), CF_E_INPUT);
	json_decref(a);
}

static char tmpl[] = "/tmp/cf-posture-XXXXXX";

static void
put_file(const char *dir, const char *name, mode_t mode)
{
	char	path[512];
	int	fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
rm_rf(const char *dir)
{
	char	cmd[600];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_posture_walk_modes(void **state)
{
	static const char *const pub[] = { "tls/server.crt", NULL };
	char		 dir[sizeof(tmpl)], sub[600];
	json_t		*a = json_array();
	size_t		 n = 0;

	(void)state;
	memcpy(dir, tmpl, sizeof(tmpl));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0700), 0);
	put_file(dir, "private", 0600);
	put_file(dir, "readable", 0644);
	put_file(dir, "writable", 0666);
	put_file(dir, "group", 0640);
	/* A link is neither followed nor judged (its own mode is 0777). */
	(void)snprintf(sub, sizeof(sub), "%s/link", dir);
	assert_int_equal(symlink("/etc", sub), 0);
	(void)snprintf(sub, sizeof(sub), "%s/tls", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put_file(sub, "server.crt", 0644);	/* public: fine */
	put_file(sub, "server.key", 0604);	/* below the top */
	assert_int_equal(cf_posture_walk_modes(dir, pub, 1000, a, &n, NULL),
	    CF_OK);
	assert_int_equal(n, 8);
	assert_string_equal(sev(a, "data-dir-world-writable"), "critical");
	assert_string_equal(detail(a, "data-dir-world-writable"),
	    "1 entry: writable");
	assert_string_equal(sev(a, "data-dir-world-readable"), "high");
	assert_non_null(strstr(detail(a, "data-dir-world-readable"),
	    "2 entries: "));
	assert_non_null(strstr(detail(a, "data-dir-world-readable"),
	    "tls/server.key"));
	assert_null(strstr(detail(a, "data-dir-world-readable"),
	    "server.crt"));
	assert_null(strstr(detail(a, "data-dir-world-readable"), "link"));
	assert_string_equal(detail(a, "data-dir-group-access"),
	    "1 entry: group");
	assert_null(find(a, "data-dir-walk-incomplete"));
	json_decref(a);

	/* The bound: the walk stops and says so. */
	a = json_array();
	assert_int_equal(cf_posture_walk_modes(dir, pub, 3, a, &n, NULL),
	    CF_OK);
	assert_int_equal(n, 3);
	assert_string_equal(sev(a, "data-dir-walk-incomplete"), "info");
	json_decref(a);

	/* The top itself is judged too. */
	assert_int_equal(chmod(dir, 0755), 0);
	a = json_array();
	assert_int_equal(cf_posture_walk_modes(dir, pub, 1000, a, NULL, NULL),
	    CF_OK);
	assert_non_null(strstr(detail(a, "data-dir-world-readable"),
	    "3 entries: ."));
	json_decref(a);
	rm_rf(dir);

	a = json_array();
	assert_int_equal(cf_posture_walk_modes(dir, pub, 1000, a, NULL, NULL),
	    CF_E_IO);
	json_decref(a);
}

static void
test_posture_master_key_place(void **state)
{
	char	 base[sizeof(tmpl)], data[100], key[200], other[100];
	json_t	*a;

	(void)state;
	memcpy(base, tmpl, sizeof(tmpl));
	assert_non_null(mkdtemp(base));
	(void)snprintf(data, sizeof(data), "%s/data", base);
	assert_int_equal(mkdir(data, 0700), 0);
	put_file(data, "master.key", 0600);
	put_file(base, "beside.key", 0600);
	(void)snprintf(other, sizeof(other), "%s/keys", base);
	assert_int_equal(mkdir(other, 0700), 0);
	put_file(other, "apart.key", 0644);

	(void)snprintf(key, sizeof(key), "%s/master.key", data);
	a = json_array();
	assert_int_equal(cf_posture_check_master_key(data, key, false, a,
	    NULL), CF_OK);
	assert_string_equal(sev(a, "master-key-in-data-dir"), "critical");
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	a = json_array();
	assert_int_equal(cf_posture_check_master_key(data, key, true, a,
	    NULL), CF_OK);
	assert_string_equal(sev(a, "master-key-in-data-dir"), "low");
	json_decref(a);

	(void)snprintf(key, sizeof(key), "%s/beside.key", base);
	a = json_array();
	assert_int_equal(cf_posture_check_master_key(data, key, false, a,
	    NULL), CF_OK);
	assert_string_equal(sev(a, "master-key-beside-data"), "high");
	assert_null(find(a, "master-key-in-data-dir"));
	json_decref(a);

	/* Another folder of the same filesystem, and a readable file. */
	(void)snprintf(key, sizeof(key), "%s/apart.key", other);
	a = json_array();
	assert_int_equal(cf_posture_check_master_key(data, key, false, a,
	    NULL), CF_OK);
	assert_string_equal(sev(a, "master-key-same-filesystem"), "medium");
	assert_string_equal(sev(a, "master-key-file-mode"), "high");
	assert_null(find(a, "master-key-beside-data"));
	json_decref(a);

	a = json_array();
	assert_int_equal(cf_posture_check_master_key(data, "/nonexistent/k",
	    false, a, NULL), CF_OK);
	assert_string_equal(sev(a, "master-key-unknown"), "info");
	json_decref(a);
	rm_rf(base);
}

static void
test_posture_sort_and_count(void **state)
{
	json_t	*a = json_array();
	size_t	 counts[CF_SEV_N];

	(void)state;
	assert_int_equal(cf_posture_add(a, "x-low", CF_SEV_LOW, "t", "f",
	    NULL, "d"), CF_OK);
	assert_int_equal(cf_posture_add(a, "x-crit", CF_SEV_CRITICAL, "t",
	    "f", NULL, "%d", 1), CF_OK);
	assert_int_equal(cf_posture_add(a, "x-low2", CF_SEV_LOW, "t", "f",
	    NULL, "d"), CF_OK);
	assert_int_equal(cf_posture_add(a, "x-info", CF_SEV_INFO, "t", "f",
	    NULL, "d"), CF_OK);
	assert_int_equal(cf_posture_sort(a, counts, NULL), CF_OK);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    0), "id")), "x-crit");
	/* Stable within one severity. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    1), "id")), "x-low");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    2), "id")), "x-low2");
	assert_int_equal(counts[CF_SEV_CRITICAL], 1);
	assert_int_equal(counts[CF_SEV_LOW], 2);
	assert_int_equal(counts[CF_SEV_HIGH], 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    0), "doc")), "docs/posture.md#x-crit");
	json_decref(a);
}

/* Every finding id in the posture sources has a section of its own in
 * docs/posture.md ("### ID"), the anchor its doc link names. */
static void
test_posture_every_id_documented(void **state)
{
	static const char *const srcs[] = {
		SRC_ROOT "/src/core/posture.c",
		SRC_ROOT "/src/core/ops_posture.c",
	};
	char	 doc[1 << 17], src[1 << 16], head[96];
	char	*p, *q;
	size_t	 i, n, seen = 0;
	FILE	*fp;

	(void)state;
	fp = fopen(SRC_ROOT "/docs/posture.md", "rb");
	assert_non_null(fp);
	n = fread(doc, 1, sizeof(doc) - 1, fp);
	doc[n] = '\0';
	(void)fclose(fp);
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		fp = fopen(srcs[i], "rb");
		assert_non_null(fp);
		n = fread(src, 1, sizeof(src) - 1, fp);
		src[n] = '\0';
		(void)fclose(fp);
		/* Finding ids are the quoted kebab-case words given to
		 * cf_posture_add or in the walk's table. */
		for (p = src; (p = strchr(p, '"')) != NULL; p = q + 1) {
			q = strchr(p + 1, '"');
			if (q == NULL)
				break;
			if ((size_t)(q - p) > 60 || q - p < 4 ||
			    strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0-") !=
			    (size_t)(q - p - 1) || strchr(p + 1, '-') > q ||
			    strchr(p + 1, '-') == NULL)
				continue;
			if (strncmp(p + 1, "master-key-", 11) != 0 &&
			    strncmp(p + 1, "tls-", 4) != 0 &&
			    strncmp(p + 1, "data-dir-", 9) != 0 &&
			    strncmp(p + 1, "token-", 6) != 0 &&
			    strncmp(p + 1, "bootstrap-", 10) != 0 &&
			    strncmp(p + 1, "admin-", 6) != 0 &&
			    strncmp(p + 1, "audit-", 6) != 0 &&
			    strncmp(p + 1, "policy-", 7) != 0 &&
			    strncmp(p + 1, "pii-", 4) != 0 &&
			    strncmp(p + 1, "mfa-", 4) != 0 &&
			    strncmp(p + 1, "library-", 8) != 0 &&
			    strncmp(p + 1, "plain-", 6) != 0 &&
			    strncmp(p + 1, "check-", 6) != 0)
				continue;
			(void)snprintf(head, sizeof(head), "\n### %.*s\n",
			    (int)(q - p - 1), p + 1);
			if (strstr(doc, head) == NULL)
				fail_msg("docs/posture.md has no section "
				    "\"### %.*s\"", (int)(q - p - 1), p + 1);
			seen++;
		}
	}
	assert_true(seen >= 25);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_posture_version_cmp),
		cmocka_unit_test(test_posture_libs),
		cmocka_unit_test(test_posture_cert_expiry_by_injected_clock),
		cmocka_unit_test(test_posture_cert_weak_settings),
		cmocka_unit_test(test_posture_tls_priorities),
		cmocka_unit_test(test_posture_walk_modes),
		cmocka_unit_test(test_posture_master_key_place),
		cmocka_unit_test(test_posture_sort_and_count),
		cmocka_unit_test(test_posture_every_id_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
