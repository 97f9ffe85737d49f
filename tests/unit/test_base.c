/* cf-link: cf_base */
/* tests/unit/test_base.c: src/base — the wiping JSON allocator (every
 * block jansson frees is wiped first, so parsed passwords and codes do
 * not linger in freed memory) and JSON parsing under every allocation
 * failure with that allocator installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/timeutil.h"
#include "base/error.h"
#include "base/check.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/membudget.h"
#include "base/netaddr.h"
#include "base/str.h"

#define SECRET	"pw-7f3a9c1e-do-not-keep"

static const void	*watch;		/* the block whose release we await */
static size_t		 freed, watched_freed, nonzero;

/* Called by the wiping free for each block, after the wipe and before
 * free(3): every byte must already be zero. */
static void
on_free(const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 i;

	freed++;
	for (i = 0; i < n; i++)
		if (b[i] != 0) {
			nonzero++;
			break;
		}
	if (p == watch && n >= sizeof(SECRET))
		watched_freed++;
}

static int
setup(void **state)
{
	(void)state;
	cf_json_alloc_install();
	cf_test_json_free_hook(on_free);
	return 0;
}

static void
test_base_json_free_wipes(void **state)
{
	const char	 body[] = "{\"user\":\"alice\",\"password\":\"" SECRET
			    "\",\"code\":\"123456\"}";
	const char	*pw = NULL;
	json_t		*v = NULL;

	(void)state;
	freed = watched_freed = nonzero = 0;
	assert_int_equal(cf_json_parse(body, sizeof(body) - 1, 4096, 8, &v,
	    NULL), CF_OK);
	assert_int_equal(cf_json_get_str(v, "password", true, &pw, NULL),
	    CF_OK);
	assert_string_equal(pw, SECRET);
	/* jansson keeps the string in a block of its own, which the
	 * allocator must wipe when the value goes. */
	watch = pw;
	json_decref(v);
	assert_true(freed > 0);
	assert_int_equal(watched_freed, 1);
	assert_int_equal(nonzero, 0);
	watch = NULL;
	/* Serialized text is wiped on release too (cf_json_free). */
	v = json_pack("{ss}", "password", SECRET);
	assert_non_null(v);
	{
		char	*s = cf_json_dumps(v);

		assert_non_null(s);
		assert_non_null(strstr(s, SECRET));
		watch = s;
		watched_freed = 0;
		cf_json_free(s);
		assert_int_equal(watched_freed, 1);
	}
	json_decref(v);
	assert_int_equal(nonzero, 0);
	watch = NULL;
}

static void
test_base_json_parse_every_alloc_failure(void **state)
{
	const char	 body[] = "{\"user\":\"alice\",\"password\":\"" SECRET
			    "\",\"list\":[1,2,{\"k\":\"v\"}],\"flag\":true}";
	json_t		*v = NULL;
	unsigned int	 n;
	cf_err		 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_json_parse(body, sizeof(body) - 1, 4096, 8, &v, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);	/* LSan: no leaks */
		assert_null(v);				/* untouched */
	}
	assert_true(n > 1);	/* jansson allocated through cf_malloc */
	json_decref(v);
	assert_int_equal(nonzero, 0);
}

/* SEC: under allocation failure a dump is either the whole, exact text
 * or an error: jansson 2.14 alone drops an object key whose write failed
 * and reports success (the "scope" key gone from a token's scope, say). */
static void
test_base_json_dump_every_alloc_failure(void **state)
{
	const char	*want = "{\"scope\":{\"actions\":[\"object:get\"]},"
			    "\"created_by\":\"admin\"}";
	json_t		*j;
	char		*out;
	unsigned int	 n;
	bool		 pending;

	(void)state;
	j = json_loads(want, JSON_PRESERVE_ORDER, NULL);
	assert_non_null(j);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		out = cf_json_dumps(j);
		pending = cf_test_fail_alloc_pending();
		cf_test_fail_alloc_after(0);
		if (out != NULL)
			assert_string_equal(out, want);
		cf_json_free(out);
		if (pending)
			break;
	}
	assert_true(n > 1);
	json_decref(j);
}

/* A held invariant costs nothing; a broken one is reported (and aborts
 * a debug build, which this test therefore does not try). */
static void
test_base_never(void **state)
{
	(void)state;
	assert_false(CF_NEVER(1 + 1 == 3));
#ifdef NDEBUG
	assert_true(CF_NEVER(1 + 1 == 2));
#endif
}

static bool
in_list(const struct cf_cidr_list *l, const char *a)
{
	struct cf_ip	ip;

	assert_true(cf_ip_parse(a, strlen(a), &ip));
	return cf_cidr_list_match(l, &ip);
}

static void
test_base_cidr_list(void **state)
{
	struct cf_cidr_list	l;
	static const char *const bad[] = { "10.0.0.1/8", "10.0.0.0/33",
	    "10.0.0.0/", "example.com", "10.0.0.0/8,", ",", "1.2.3.4 5",
	    "::1/129", "10.0.0.0/08x", "1.2.3.4%eth0" };
	size_t			i;
	struct cf_ip		ip;

	(void)state;
	assert_int_equal(cf_cidr_list_parse(" 10.0.0.0/8 ,192.168.1.0/24, "
	    "2001:db8::/32, 127.0.0.1, ::ffff:172.16.0.0/108", &l, NULL),
	    CF_OK);
	assert_int_equal(l.n, 5);
	assert_true(in_list(&l, "10.255.0.1"));
	assert_true(in_list(&l, "192.168.1.77"));
	assert_false(in_list(&l, "192.168.2.1"));
	assert_true(in_list(&l, "2001:db8:1::5"));
	assert_false(in_list(&l, "2001:db9::5"));
	assert_true(in_list(&l, "127.0.0.1"));
	assert_false(in_list(&l, "127.0.0.2"));
	/* Mapped addresses are IPv4, on both sides. */
	assert_true(in_list(&l, "::ffff:10.1.1.1"));
	assert_true(in_list(&l, "172.16.9.9"));
	assert_false(in_list(&l, "172.32.0.1"));
	assert_int_equal(cf_cidr_list_parse("", &l, NULL), CF_OK);
	assert_int_equal(l.n, 0);
	assert_false(in_list(&l, "10.0.0.1"));
	assert_int_equal(cf_cidr_list_parse("0.0.0.0/0", &l, NULL), CF_OK);
	assert_true(in_list(&l, "8.8.8.8"));
	assert_false(in_list(&l, "::1"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(cf_cidr_list_parse(bad[i], &l, NULL),
		    CF_OK);
	assert_false(cf_ip_parse("1.2.3.4\0", 8, &ip));
	assert_false(cf_ip_parse("", 0, &ip));
}

static void
test_base_cidr_list_limits(void **state)
{
	struct cf_cidr_list	l;
	char			buf[CF_CIDR_TEXT_MAX + 16];
	size_t			i, n = 0;
	unsigned		k;

	(void)state;
	buf[0] = '\0';
	for (k = 0; k <= CF_CIDR_LIST_MAX; k++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "%s10.%u.0.0/16", k > 0 ? "," : "", k);
	assert_int_equal(cf_cidr_list_parse(buf, &l, NULL), CF_E_LIMIT);
	memset(buf, ' ', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(cf_cidr_list_parse(buf, &l, NULL), CF_E_LIMIT);
	for (i = 1;; i++) {
		cf_err rc;

		cf_test_fail_alloc_after(i);
		rc = cf_cidr_list_parse("10.0.0.0/8", &l, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
	}
}

/* The byte-at-a-time UTF-8 check cf_utf8_valid had before its ASCII
 * fast path: the reference it must agree with. */
static bool
utf8_ref(const unsigned char *p, size_t len)
{
	size_t		i = 0, n, k;
	uint32_t	cp;

	while (i < len) {
		if (p[i] == 0)
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* cf_utf8_valid reads ASCII a word at a time: over random strings of
 * mostly ASCII with a NUL, a high byte or a valid sequence at every
 * offset and every length, it answers as the byte-at-a-time check. */
static void
test_base_utf8_fast_path(void **state)
{
	static const char *const seqs[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\xc3", "\xed\xa0\x80", "\xff", "\x80" };
	unsigned char	buf[64];
	uint64_t	x = 0x9e3779b97f4a7c15ULL;
	size_t		len, i, k, agree = 0, valid = 0, round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = (size_t)(x % sizeof(buf));
		for (i = 0; i < len; i++)
			buf[i] = (unsigned char)(0x20 + (x >> (i % 48)) % 0x5f);
		if (len > 0 && (x >> 8) % 3 != 0) {
			const char *s = seqs[(x >> 16) % 7];
			size_t sl = strlen(s);

			i = (size_t)((x >> 24) % len);
			for (k = 0; k < sl && i + k < len; k++)
				buf[i + k] = (unsigned char)s[k];
		}
		if (len > 0 && (x >> 40) % 7 == 0)
			buf[(x >> 44) % len] = 0;
		if (cf_utf8_valid(buf, len) == utf8_ref(buf, len))
			agree++;
		if (utf8_ref(buf, len))
			valid++;
	}
	assert_int_equal(agree, round);
	/* Both answers occur often. */
	assert_true(valid > round / 10 && valid < round - round / 10);
}

/* cf_error_join writes what cf_error_set writes for "%s%s...": the same
 * text, cut at the same length, CR and LF made spaces, and a first
 * error kept (the monitor's denials use it: their text is the HTTP
 * error body and the audit's message). */
static void
test_base_error_join(void **state)
{
	struct cf_error	a, b;
	char		long1[300], long2[200];

	(void)state;
	memset(long1, 'x', sizeof(long1) - 1);
	long1[sizeof(long1) - 1] = '\0';
	memset(long2, 'y', sizeof(long2) - 1);
	long2[sizeof(long2) - 1] = '\0';
	cf_error_clear(&a);
	cf_error_clear(&b);
	assert_int_equal(cf_error_join(&a, CF_E_DENIED, "alice",
	    " is not allowed to ", "object:get", " ", "ns/k", NULL),
	    CF_E_DENIED);
	(void)cf_error_set(&b, CF_E_DENIED, "%s is not allowed to %s %s",
	    "alice", "object:get", "ns/k");
	assert_int_equal(a.code, b.code);
	assert_string_equal(a.msg, b.msg);
	/* cut where vsnprintf cuts, across a part boundary */
	cf_error_clear(&a);
	cf_error_clear(&b);
	(void)cf_error_join(&a, CF_E_DENIED, long2, "\r\n", long2, NULL);
	(void)cf_error_set(&b, CF_E_DENIED, "%s%s%s", long2, "\r\n", long2);
	assert_int_equal(strlen(a.msg), CF_ERROR_MSG_LEN - 1);
	assert_string_equal(a.msg, b.msg);
	assert_null(strchr(a.msg, '\n'));
	cf_error_clear(&a);
	cf_error_clear(&b);
	(void)cf_error_join(&a, CF_E_DENIED, long1, "tail", NULL);
	(void)cf_error_set(&b, CF_E_DENIED, "%s%s", long1, "tail");
	assert_string_equal(a.msg, b.msg);
	/* empty parts, no parts */
	cf_error_clear(&a);
	(void)cf_error_join(&a, CF_E_AUTH, "", "x", "", NULL);
	assert_string_equal(a.msg, "x");
	cf_error_clear(&a);
	(void)cf_error_join(&a, CF_E_AUTH, NULL);
	assert_int_equal(a.code, CF_E_AUTH);
	assert_string_equal(a.msg, "");
	/* the first error is kept; NULL err is a no-op */
	(void)cf_error_join(&a, CF_E_DENIED, "later", NULL);
	assert_int_equal(a.code, CF_E_AUTH);
	assert_string_equal(a.msg, "");
	assert_int_equal(cf_error_join(NULL, CF_E_INPUT, "x", NULL),
	    CF_E_INPUT);
}

/* The budget: reservations up to the limit, buffers up to their share
 * of it (so that they never starve request bodies), idle buffers reused
 * within the cache's cap, and every byte given back. */
static void
test_base_membudget(void **state)
{
	struct cf_membudget	*b = NULL;
	uint8_t			*p, *q, *r;
	unsigned int		 n;

	(void)state;
	assert_int_equal(cf_membudget_new(0, &b, NULL), CF_E_INVAL);
	assert_int_equal(cf_membudget_new(1u << 20, &b, NULL), CF_OK);
	assert_int_equal(cf_membudget_limit(b), 1u << 20);
	/* Buffers: 768 KiB of the 1 MiB at most. */
	p = cf_membudget_buf_get(b, 512 * 1024);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 4096, 0);	/* O_DIRECT */
	p[0] = 1;
	p[512 * 1024 - 1] = 2;
	assert_null(cf_membudget_buf_get(b, 512 * 1024));
	assert_int_equal(cf_membudget_buf_denied(b), 1);
	q = cf_membudget_buf_get(b, 256 * 1024 - 100);	/* page rounded */
	assert_non_null(q);
	assert_int_equal(cf_membudget_buf_bytes(b), 768 * 1024);
	assert_null(cf_membudget_buf_get(b, 1));
	/* A body may still take the rest, and no more. */
	assert_true(cf_membudget_reserve(b, 256 * 1024));
	assert_false(cf_membudget_reserve(b, 1));
	assert_int_equal(cf_membudget_used(b), 1u << 20);
	cf_membudget_release(b, 256 * 1024);
	/* Given back: kept idle (outside the budget), then reused. */
	cf_membudget_buf_put(b, q, 256 * 1024 - 100);
	assert_int_equal(cf_membudget_cached(b), 256 * 1024);
	r = cf_membudget_buf_get(b, 256 * 1024);
	assert_ptr_equal(r, q);
	assert_int_equal(cf_membudget_cached(b), 0);
	cf_membudget_buf_put(b, r, 256 * 1024);
	cf_membudget_buf_put(b, p, 512 * 1024);
	cf_membudget_buf_put(b, NULL, 10);
	assert_int_equal(cf_membudget_used(b), 0);
	assert_int_equal(cf_membudget_buf_bytes(b), 0);
	assert_true(cf_membudget_cached(b) <= CF_MEMBUDGET_CACHE);
	/* An allocation failure is a NULL with nothing held. */
	for (n = 1; n < 3; n++) {
		cf_test_fail_alloc_after(n);
		p = cf_membudget_buf_get(b, 3u << 20 >> 2);
		cf_test_fail_alloc_after(0);
		if (p != NULL)
			cf_membudget_buf_put(b, p, 3u << 20 >> 2);
		assert_int_equal(cf_membudget_used(b), 0);
	}
	cf_membudget_free(b);
	/* No budget: unbounded. */
	p = cf_membudget_buf_get(NULL, 8u << 20);
	assert_non_null(p);
	cf_membudget_buf_put(NULL, p, 8u << 20);
	cf_membudget_free(NULL);
}

/* cf_time_format (digits by hand) against strftime + the fraction, and
 * cf_buf_append_i64 against printf's %lld. */
static void
test_base_time_format_and_i64(void **state)
{
	static const int64_t	us[] = { 0, 1, 999999, 1000000,
	    1796601600123456LL, 253402300799999999LL, -1, -1000001,
	    951782400000000LL /* 2000-02-29 */ };
	static const int64_t	iv[] = { 0, 1, -1, 9, 10, -10, 1234567890,
	    INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	char			 got[CF_TIME_STR_LEN], want[64], head[32];
	struct tm		 tm;
	time_t			 t;
	long			 frac;
	struct cf_buf		 b;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		t = (time_t)(us[i] / 1000000);
		frac = (long)(us[i] % 1000000);
		if (frac < 0) {
			frac += 1000000;
			t--;
		}
		assert_non_null(gmtime_r(&t, &tm));
		assert_true(strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S",
		    &tm) > 0);
		(void)snprintf(want, sizeof(want), "%s.%06ldZ", head, frac);
		cf_time_format(us[i], got);
		assert_string_equal(got, want);
	}
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		cf_buf_init(&b, 64);
		assert_int_equal(cf_buf_append_i64(&b, iv[i], NULL), CF_OK);
		(void)snprintf(want, sizeof(want), "%lld", (long long)iv[i]);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data, want, b.len);
		cf_buf_free(&b);
	}
	/* cf_buf_append_strs: each in turn, up to NULL; a limit stops it. */
	cf_buf_init(&b, 8);
	assert_int_equal(cf_buf_append_strs(&b, NULL, "ab", "", "cd", NULL),
	    CF_OK);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "abcd", 4);
	assert_int_equal(cf_buf_append_strs(&b, NULL, "ef", "ghi", "j", NULL),
	    CF_E_LIMIT);
	cf_buf_free(&b);
}

/* Standard base64 (Content-MD5, x-amz-checksum-*): padded, RFC 4648's
 * vectors, exact lengths only. */
static void
test_base_b64std(void **state)
{
	char	out[16];
	uint8_t	d[4];

	(void)state;
	cf_b64std_encode("f", 1, out);
	assert_string_equal(out, "Zg==");
	cf_b64std_encode("foob", 4, out);
	assert_string_equal(out, "Zm9vYg==");
	cf_b64std_encode("\xfb\xff", 2, out);
	assert_string_equal(out, "+/8=");
	assert_true(cf_b64std_decode("Zm9vYg==", d, 4));
	assert_memory_equal(d, "foob", 4);
	assert_true(cf_b64std_decode("+/8=", d, 2));
	assert_memory_equal(d, "\xfb\xff", 2);
	assert_false(cf_b64std_decode("Zm9vYg==", d, 3));	/* length */
	assert_false(cf_b64std_decode("-_8=", d, 2));	/* url form */
	assert_false(cf_b64std_decode("Zm9v!g==", d, 4));
}

/* RFC 9110's #list: commas and whitespace around elements, empty
 * elements skipped, an element's inner blanks kept. */
static void
test_base_http_list(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* the elements joined by '|' */
	} cases[] = {
		{ "", "" }, { " , ,\t", "" }, { "a", "a" },
		{ "a,b", "a|b" }, { " a , b ,", "a|b" }, { ",,a,,", "a" },
		{ "\"x\", W/\"y\"", "\"x\"|W/\"y\"" },
		{ "gzip, aws-chunked", "gzip|aws-chunked" },
		{ "a b ,c\t", "a b|c" },
	};
	char		 got[64];
	const char	*p, *t;
	size_t		 i, n, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = cases[i].in;
		len = 0;
		got[0] = '\0';
		while (cf_http_list_next(&p, &t, &n)) {
			assert_true(n > 0 && len + n + 2 < sizeof(got));
			if (len > 0)
				got[len++] = '|';
			memcpy(got + len, t, n);
			len += n;
			got[len] = '\0';
		}
		assert_string_equal(got, cases[i].want);
		assert_int_equal(*p, '\0');
		assert_false(cf_http_list_next(&p, &t, &n));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_b64std),
		cmocka_unit_test(test_base_http_list),
		cmocka_unit_test(test_base_json_free_wipes),
		cmocka_unit_test(test_base_json_parse_every_alloc_failure),
		cmocka_unit_test(test_base_json_dump_every_alloc_failure),
		cmocka_unit_test(test_base_never),
		cmocka_unit_test(test_base_cidr_list),
		cmocka_unit_test(test_base_cidr_list_limits),
		cmocka_unit_test(test_base_utf8_fast_path),
		cmocka_unit_test(test_base_error_join),
		cmocka_unit_test(test_base_membudget),
		cmocka_unit_test(test_base_time_format_and_i64),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
