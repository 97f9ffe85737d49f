/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_server.c: the request parsing of the HTTP front end
 * (src/server/parse.c): bodies that end with their own digest (every way
 * of cutting a body into pieces, a failing consumer), Range headers, route
 * resolution and URL unescaping; the configuration (src/server/config.c):
 * tls_names and the names of the self-signed certificate, comments.  The
 * server itself is driven end to end by tests/e2e. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/netaddr.h"
#include "base/str.h"
#include "server/config.h"
#include "server/http_int.h"
#include "server/s3copy.h"

/* ---- trailing digest ---- */

struct sink {
	char	buf[4096];
	size_t	len;
	size_t	calls;
	size_t	fail_at;	/* 0: never; n: the n-th call fails */
};

static cf_err
sink_out(void *arg, const char *p, size_t n, struct cf_error *err)
{
	struct sink	*s = arg;

	s->calls++;
	if (s->fail_at != 0 && s->calls == s->fail_at)
		return cf_error_set(err, CF_E_IO, "disk full");
	assert_true(s->len + n <= sizeof(s->buf));
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return CF_OK;
}

static void
fill(char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		b[i] = (char)('a' + (i * 7 + i / 26) % 26);
}

/* Feed body (n bytes) in pieces of the sizes in cuts (cycled), check that
 * exactly the body but its last CF_HTTP_TRAIL_LEN bytes came out, in
 * order, and that those are the digest. */
static void
feed_cut(const char *body, size_t n, const size_t *cuts, size_t ncuts)
{
	struct cf_http_trail	 t;
	struct sink		 s;
	const char		*d;
	size_t			 off, k, piece;

	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	for (off = 0, k = 0; off < n; off += piece, k++) {
		piece = cuts[k % ncuts];
		if (piece > n - off)
			piece = n - off;
		assert_int_equal(cf_http_trail_feed(&t, body + off, piece,
		    sink_out, &s, NULL), CF_OK);
		/* Never more than CF_HTTP_TRAIL_LEN bytes held. */
		assert_true(t.len <= CF_HTTP_TRAIL_LEN);
		assert_int_equal(s.len + t.len, off + piece);
	}
	d = cf_http_trail_digest(&t);
	if (n < CF_HTTP_TRAIL_LEN) {
		assert_null(d);
		assert_int_equal(s.len, 0);
		return;
	}
	assert_non_null(d);
	assert_int_equal(strlen(d), CF_HTTP_TRAIL_LEN);
	assert_memory_equal(d, body + n - CF_HTTP_TRAIL_LEN,
	    CF_HTTP_TRAIL_LEN);
	assert_int_equal(s.len, n - CF_HTTP_TRAIL_LEN);
	assert_memory_equal(s.buf, body, s.len);
}

static void
test_trail_pieces(void **state)
{
	static const size_t	sizes[] = { 0, 1, 63, 64, 65, 100, 128, 1000 };
	static const size_t	cuts[][4] = {
		{ 1 }, { 2 }, { 63 }, { 64 }, { 65 }, { 4096 },
		{ 1, 64, 3, 200 }, { 63, 1, 1, 127 }, { 30, 40, 50, 60 },
		{ 0, 5 },	/* empty pieces are allowed */
	};
	static const size_t	ncut[] = { 1, 1, 1, 1, 1, 1, 4, 4, 4, 2 };
	char			body[1000];
	size_t			i, j;

	(void)state;
	fill(body, sizeof(body));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(cuts) / sizeof(cuts[0]); j++) {
			if (cuts[j][0] == 0 && sizes[i] > 0) {
				/* a zero piece then 5-byte pieces */
				struct cf_http_trail	t;
				struct sink		s;

				memset(&t, 0, sizeof(t));
				memset(&s, 0, sizeof(s));
				assert_int_equal(cf_http_trail_feed(&t, body,
				    0, sink_out, &s, NULL), CF_OK);
				assert_int_equal(t.len, 0);
				feed_cut(body, sizes[i], cuts[j] + 1, 1);
				continue;
			}
			feed_cut(body, sizes[i], cuts[j], ncut[j]);
		}
}

/* The consumer's first failure is returned, whichever branch meets it. */
static void
test_trail_failure(void **state)
{
	struct cf_http_trail	 t;
	struct sink		 s;
	struct cf_error		 e;
	char			 body[300];
	size_t			 at;

	(void)state;
	fill(body, sizeof(body));
	for (at = 1; at <= 3; at++) {
		/* Long pieces: held bytes, then the piece's body part. */
		memset(&t, 0, sizeof(t));
		memset(&s, 0, sizeof(s));
		s.fail_at = at;
		cf_error_clear(&e);
		assert_int_equal(cf_http_trail_feed(&t, body, 100, sink_out,
		    &s, &e), at == 1 ? CF_E_IO : CF_OK);
		if (at > 1)
			assert_int_equal(cf_http_trail_feed(&t, body + 100,
			    100, sink_out, &s, &e), CF_E_IO);
		assert_string_equal(e.msg, "disk full");
	}
	/* Short pieces: the release of the oldest held bytes fails. */
	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	s.fail_at = 1;
	assert_int_equal(cf_http_trail_feed(&t, body, 60, sink_out, &s,
	    NULL), CF_OK);
	assert_int_equal(s.calls, 0);
	assert_int_equal(cf_http_trail_feed(&t, body + 60, 10, sink_out, &s,
	    NULL), CF_E_IO);
}

/* The digest is NUL-terminated in place, also after a long piece. */
static void
test_trail_digest(void **state)
{
	struct cf_http_trail	 t;
	struct sink		 s;
	char			 body[200];

	(void)state;
	memset(body, 'x', sizeof(body));
	memset(body + 136, 'f', 64);
	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	assert_int_equal(cf_http_trail_feed(&t, body, sizeof(body), sink_out,
	    &s, NULL), CF_OK);
	assert_string_equal(cf_http_trail_digest(&t),
	    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	assert_int_equal(s.len, 136);
}

/* ---- Range ---- */

static void
test_range(void **state)
{
	static const struct {
		const char	*h;
		uint64_t	 size;
		int		 r;
		uint64_t	 first, last;
	} cases[] = {
		{ NULL, 10, 0, 0, 0 },
		{ "bytes=0-4", 10, 1, 0, 4 },
		{ "bytes=5-", 10, 1, 5, 9 },
		{ "bytes=5-100", 10, 1, 5, 9 },
		{ "bytes=-3", 10, 1, 7, 9 },
		{ "bytes=-30", 10, 1, 0, 9 },
		{ "bytes=10-", 10, -1, 0, 0 },
		{ "bytes=-1", 0, -1, 0, 0 },
		{ "bytes=-0", 10, -1, 0, 0 },
		{ "bytes=4-2", 10, 0, 0, 0 },
		{ "bytes=0-1,3-4", 10, 0, 0, 0 },
		{ "items=0-1", 10, 0, 0, 0 },
		{ "bytes=x-1", 10, 0, 0, 0 },
		{ "bytes=", 10, 0, 0, 0 },
		{ "bytes=99999999999999999999999-", 10, 0, 0, 0 },
	};
	uint64_t	first, last;
	size_t		i;
	int		r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		first = last = 12345;
		r = cf_http_parse_range(cases[i].h, cases[i].size, &first,
		    &last);
		assert_int_equal(r, cases[i].r);
		if (r == 1) {
			assert_int_equal(first, cases[i].first);
			assert_int_equal(last, cases[i].last);
		}
	}
}

/* ---- routes and unescaping ---- */

/* The pattern a path matches under any method (NULL: none), with its
 * captures copied out. */
static const char *
route_of(const char *url, char *ns, char *rest, size_t restsz)
{
	static const char *const methods[] = { "GET", "HEAD", "PUT", "POST",
	    "DELETE", "PATCH" };
	const struct cf_route	*tab;
	struct cf_route_match	 m;
	size_t			 n, i, j;

	tab = cf_http_routes(&n);
	ns[0] = rest[0] = '\0';
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		cf_route_match(tab, n, methods[i], url, &m);
		if (m.route == NULL)
			continue;
		for (j = 0; j < m.ncap; j++)
			(void)snprintf(strcmp(m.cap[j].name, "ns") == 0 ? ns :
			    rest, restsz, "%.*s", (int)m.cap[j].len,
			    url + m.cap[j].off);
		return m.route->pattern;
	}
	return NULL;
}

/* The paths that resolved to a route before the route table, and those
 * that did not, match as they did (docs/internals/HTTP.md). */
static void
test_resolve(void **state)
{
	static const struct {
		const char	*url;
		const char	*pattern;
		const char	*ns, *rest;
	} cases[] = {
		{ "/v1/health", "/v1/health", "", "" },
		{ "/v1/ns", "/v1/ns", "", "" },
		{ "/v1/ns/models", "/v1/ns/{ns}", "models", "" },
		{ "/v1/ns/models/objects", "/v1/ns/{ns}/objects", "models",
		    "" },
		{ "/v1/ns/models/objects/a/../../x",
		    "/v1/ns/{ns}/objects/{key...}", "models", "a/../../x" },
		{ "/v1/ns/models/versions/k", "/v1/ns/{ns}/versions/{key...}",
		    "models", "k" },
		{ "/v1/tokens/abc", "/v1/tokens/{id}", "", "abc" },
		{ "/v1/users/bob/mfa-reset", "/v1/users/{name}/mfa-reset", "",
		    "bob" },
		{ "/v1/users/bob/mfa-reset/x", NULL, "", "" },
		{ "/v1/users//mfa-reset", NULL, "", "" },
		{ "/v1/tokens/a/b", NULL, "", "" },
		{ "/v1/ns//objects", NULL, "", "" },
		{ "/v1/ns/models/other", NULL, "", "" },
		{ "/v2/ns", NULL, "", "" },
		{ "/v1/", NULL, "", "" },
	};
	char		 ns[128], rest[128];
	const char	*pat;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pat = route_of(cases[i].url, ns, rest, sizeof(rest));
		if (cases[i].pattern == NULL) {
			assert_null(pat);
			continue;
		}
		assert_non_null(pat);
		assert_string_equal(pat, cases[i].pattern);
		assert_string_equal(ns, cases[i].ns);
		assert_string_equal(rest, cases[i].rest);
	}
}

/* A User-Agent is kept as printable UTF-8 of at most 256 bytes. */
static void
test_header_text(void **state)
{
	char	out[CF_USER_AGENT_MAX + 1], in[600];
	size_t	n;

	(void)state;
	assert_int_equal(cf_http_header_text("curl/8.5.0", out, sizeof(out)),
	    10);
	assert_string_equal(out, "curl/8.5.0");
	n = cf_http_header_text("a\tb\x01" "c\x7f\x1b[31m", out,
	    sizeof(out));
	assert_int_equal(n, 11);
	assert_string_equal(out, "a?b?c??[31m");
	/* Invalid UTF-8 becomes U+FFFD. */
	assert_int_equal(cf_http_header_text("x\xffy", out, sizeof(out)), 5);
	assert_string_equal(out, "x\xef\xbf\xbdy");
	/* Cut to 256 bytes, between characters: 127 two-byte characters
	 * after one byte fill 255; the next one would not fit. */
	memset(in, 0, sizeof(in));
	in[0] = 'a';
	for (n = 0; n < 200; n++) {
		in[1 + 2 * n] = (char)0xc3;
		in[2 + 2 * n] = (char)0xa9;
	}
	n = cf_http_header_text(in, out, sizeof(out));
	assert_int_equal(n, 255);
	assert_true(cf_utf8_valid(out, n));
	memset(in, 'u', 599);
	in[599] = '\0';
	assert_int_equal(cf_http_header_text(in, out, sizeof(out)),
	    CF_USER_AGENT_MAX);
}

static void
test_purpose(void **state)
{
	static const char *const good[] = { "a", "incident:INC-4711",
	    "training.run_7", "0123456789012345678901234567890123456789"
	    "012345678901234567890123" };
	static const char *const bad[] = { "", " x", "x y", "a/b", "a\tb",
	    "caf\xc3\xa9", "a,b", "0123456789012345678901234567890123456789"
	    "0123456789012345678901234" };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(cf_http_purpose_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(cf_http_purpose_ok(bad[i]));
}

/* A share link's password form: the field's value, decoded; a bad
 * escape, a NUL or a value too long refused (and wiped). */
static void
test_form_value(void **state)
{
	static const char body[] = "a=1&password=p%40ss+w%2Bd&x=";
	char	out[16];
	size_t	n = 0;

	(void)state;
	assert_int_equal(cf_http_form_value(body, strlen(body), "password",
	    out, sizeof(out), &n), CF_OK);
	assert_string_equal(out, "p@ss w+d");
	assert_int_equal(n, 8);
	assert_int_equal(cf_http_form_value(body, strlen(body), "x", out,
	    sizeof(out), &n), CF_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cf_http_form_value(body, strlen(body), "pass", out,
	    sizeof(out), &n), CF_E_NOTFOUND);
	assert_int_equal(cf_http_form_value("password=%00", 12, "password",
	    out, sizeof(out), &n), CF_E_INPUT);
	assert_int_equal(cf_http_form_value("password=%4", 11, "password",
	    out, sizeof(out), &n), CF_E_INPUT);
	assert_int_equal(cf_http_form_value("password=0123456789abcdefg", 26,
	    "password", out, sizeof(out), &n), CF_E_INPUT);
	assert_int_equal(out[0], 0);
}

static void
test_unescape(void **state)
{
	char	s[64];

	(void)state;
	(void)snprintf(s, sizeof(s), "a%%2Fb%%20c");
	assert_int_equal(cf_http_unescape(s), 5);
	assert_string_equal(s, "a/b c");
	/* %00 never truncates: it becomes an invalid UTF-8 byte. */
	(void)snprintf(s, sizeof(s), "x%%00y");
	assert_int_equal(cf_http_unescape(s), 3);
	assert_int_equal((unsigned char)s[1], 0xff);
	/* Malformed escapes stay as they are. */
	(void)snprintf(s, sizeof(s), "%%zz%%4");
	assert_int_equal(cf_http_unescape(s), 5);
	assert_string_equal(s, "%zz%4");
}

/* Only 0-9, a-f and A-F are hex digits: the bytes between '9' and 'A'
 * (":;<=>?@") and after 'F'/'f' are not. */
static void
test_unescape_hex_digits_only(void **state)
{
	static const char *const kept[] = { "%3:", "%:3", "%3;", "%3<",
	    "%3=", "%3>", "%3?", "%3@", "%@1", "%3G", "%3g", "%g3", "%3`",
	    "%3/", "%/3", "%3 " };
	char	s[16];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		cf_strlcpy(s, kept[i], sizeof(s));
		assert_int_equal(cf_http_unescape(s), strlen(kept[i]));
		assert_string_equal(s, kept[i]);
	}
	cf_strlcpy(s, "%3a%3A%fF%09", sizeof(s));
	assert_int_equal(cf_http_unescape(s), 4);
	assert_int_equal((unsigned char)s[0], ':');
	assert_int_equal((unsigned char)s[1], ':');
	assert_int_equal((unsigned char)s[2], 0xff);
	assert_int_equal((unsigned char)s[3], '\t');
}

static void
test_query_args(void **state)
{
	(void)state;
	assert_int_equal(cf_http_query_args("/v1/health"), 0);
	assert_int_equal(cf_http_query_args("/v1/health?"), 0);
	assert_int_equal(cf_http_query_args("/v1/x?a=1"), 1);
	assert_int_equal(cf_http_query_args("/v1/x?a=1&b&&c=?&"), 5);
}

static void
test_text_safe(void **state)
{
	char	out[16];

	(void)state;
	assert_int_equal(cf_http_text_safe("plain", out, sizeof(out)), 5);
	assert_string_equal(out, "plain");
	/* Invalid bytes become U+FFFD; valid characters stay. */
	cf_http_text_safe("a\xff\xc3\xa9\xc3(", out, sizeof(out));
	assert_string_equal(out, "a\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd(");
	assert_true(cf_utf8_valid(out, strlen(out)));
	/* Overlong, surrogate, beyond U+10FFFF: invalid. */
	cf_http_text_safe("\xc0\xaf", out, sizeof(out));
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
	cf_http_text_safe("\xed\xa0\x80", out, sizeof(out));
	assert_true(cf_utf8_valid(out, strlen(out)));
	cf_http_text_safe("\xf4\x90\x80\x80", out, sizeof(out));
	assert_true(cf_utf8_valid(out, strlen(out)));
	/* A cut falls between characters: "\xe2\x82\xac" is 3 bytes. */
	cf_http_text_safe("abcdefghijklm\xe2\x82\xac", out, sizeof(out));
	assert_string_equal(out, "abcdefghijklm");
	cf_http_text_safe("abcdefghijkl\xe2\x82\xac", out, sizeof(out));
	assert_string_equal(out, "abcdefghijkl\xe2\x82\xac");
	cf_http_text_safe("abcdefghijklmn\xff", out, sizeof(out));
	assert_string_equal(out, "abcdefghijklmn");
	assert_int_equal(cf_http_text_safe("x", out, 1), 0);
	assert_string_equal(out, "");
}

struct field {
	const char	*name;
	const char	*value;
};

static int
framing_of(const struct field *fs, bool http10, const char **code)
{
	struct cf_http_framing	 f;
	const char		*msg = NULL;
	int			 st;

	memset(&f, 0, sizeof(f));
	for (; fs->name != NULL; fs++)
		cf_http_framing_add(&f, fs->name, fs->value);
	*code = NULL;
	st = cf_http_framing_verdict(&f, http10, code, &msg);
	if (st != 0) {
		assert_non_null(*code);
		assert_non_null(msg);
	}
	return st;
}

static void
test_framing(void **state)
{
	static const struct field ok1[] = { { "Content-Length", "5" },
	    { "Host", "x" }, { NULL, NULL } };
	static const struct field ok2[] = { { "Transfer-Encoding", "chunked" },
	    { NULL, NULL } };
	static const struct field ok3[] = { { "content-length", "5" },
	    { "Content-Length", " 5 " }, { NULL, NULL } };
	static const struct field ok4[] = { { "transfer-encoding", "Chunked" },
	    { "X-Coffer-Meta-a", "b" }, { NULL, NULL } };
	static const struct field both[] = { { "Content-Length", "5" },
	    { "Transfer-Encoding", "chunked" }, { NULL, NULL } };
	static const struct field both2[] = { { "Transfer-Encoding",
	    "chunked" }, { "Content-Length", "0" }, { NULL, NULL } };
	static const struct field twocl[] = { { "Content-Length", "2" },
	    { "Content-Length", "41" }, { NULL, NULL } };
	static const struct field cllist[] = { { "Content-Length", "2, 41" },
	    { NULL, NULL } };
	static const struct field clbad[] = { { "Content-Length", "-1" },
	    { NULL, NULL } };
	static const struct field clempty[] = { { "Content-Length", "" },
	    { NULL, NULL } };
	static const struct field clhuge[] = { { "Content-Length",
	    "123456789012345678901234567890" }, { NULL, NULL } };
	static const struct field sp[] = { { "Content-Length ", "41" },
	    { "Content-Length", "2" }, { NULL, NULL } };
	static const struct field tab[] = { { "Transfer-Encoding\t",
	    "chunked" }, { NULL, NULL } };
	static const struct field inner[] = { { "X Y", "1" },
	    { NULL, NULL } };
	static const struct field empty[] = { { "", "1" }, { NULL, NULL } };
	static const struct field gz[] = { { "Transfer-Encoding",
	    "gzip, chunked" }, { NULL, NULL } };
	static const struct field twote[] = { { "Transfer-Encoding",
	    "chunked" }, { "Transfer-Encoding", "chunked" }, { NULL, NULL } };
	static const struct field last[] = { { "Transfer-Encoding",
	    "chunked, gzip" }, { NULL, NULL } };
	static const struct field only[] = { { "Transfer-Encoding", "gzip" },
	    { NULL, NULL } };
	static const struct field teempty[] = { { "Transfer-Encoding", " " },
	    { NULL, NULL } };
	const char	*code;

	(void)state;
	assert_int_equal(framing_of(ok1, false, &code), 0);
	assert_int_equal(framing_of(ok1, true, &code), 0);
	assert_int_equal(framing_of(ok2, false, &code), 0);
	assert_int_equal(framing_of(ok3, false, &code), 0);
	assert_int_equal(framing_of(ok4, false, &code), 0);
	assert_int_equal(framing_of(ok2, true, &code), 400);
	assert_int_equal(framing_of(both, false, &code), 400);
	assert_string_equal(code, "bad_framing");
	assert_int_equal(framing_of(both2, false, &code), 400);
	assert_int_equal(framing_of(twocl, false, &code), 400);
	assert_int_equal(framing_of(cllist, false, &code), 400);
	assert_int_equal(framing_of(clbad, false, &code), 400);
	assert_int_equal(framing_of(clempty, false, &code), 400);
	assert_int_equal(framing_of(clhuge, false, &code), 400);
	assert_int_equal(framing_of(sp, false, &code), 400);
	assert_int_equal(framing_of(tab, false, &code), 400);
	assert_int_equal(framing_of(inner, false, &code), 400);
	assert_int_equal(framing_of(empty, false, &code), 400);
	assert_int_equal(framing_of(last, false, &code), 400);
	assert_int_equal(framing_of(only, false, &code), 400);
	assert_int_equal(framing_of(teempty, false, &code), 400);
	assert_int_equal(framing_of(gz, false, &code), 501);
	assert_string_equal(code, "unsupported_transfer_coding");
	assert_int_equal(framing_of(twote, false, &code), 400);
}

/* ---- configuration ---- */

static void
test_config_tls_names(void **state)
{
	static const char *const bad[] = { "a,", ",a", "a,,b", "a, ,b",
	    "a_b.test", "10.1.2.300", "*.coffer.test", "[::1]",
	    "coffer.test:8443", "coffer.test.", "a b", NULL };
	static const char conf[] = "# names\n"
	    "tls_names = coffer.test, 10.1.2.3\n"
	    "tls_names = ok.test, bad_name.test\n";
	struct cf_config	cfg;
	struct cf_error		err;
	char			v[4096];
	size_t			i, o;

	(void)state;
	cf_config_defaults(&cfg);
	assert_string_equal(cfg.tls_names, "");
	cf_error_clear(&err);
	assert_int_equal(cf_config_set(&cfg, "tls_names",
	    " coffer.test ,10.1.2.3,\t::1 ", &err), CF_OK);
	assert_string_equal(cfg.tls_names, " coffer.test ,10.1.2.3,\t::1 ");
	assert_int_equal(cf_config_set(&cfg, "tls_names", "  ", &err), CF_OK);
	assert_int_equal(cf_config_set(&cfg, "tls_names", "x.test", &err),
	    CF_OK);
	for (i = 0; bad[i] != NULL; i++) {
		cf_error_clear(&err);
		if (cf_config_set(&cfg, "tls_names", bad[i], &err) !=
		    CF_E_INPUT)
			fail_msg("tls_names \"%s\" accepted", bad[i]);
		assert_true(strncmp(err.msg, "tls_names: ", 11) == 0);
		/* A refused value leaves the setting as it was. */
		assert_string_equal(cfg.tls_names, "x.test");
	}
	/* At most 16 names, each at most 253 bytes. */
	for (i = 0, o = 0; i < 16; i++)
		o += (size_t)snprintf(v + o, sizeof(v) - o, "%sn%zu.test",
		    i > 0 ? ", " : "", i);
	cf_error_clear(&err);
	assert_int_equal(cf_config_set(&cfg, "tls_names", v, &err), CF_OK);
	(void)snprintf(v + o, sizeof(v) - o, ",n16.test");
	assert_int_equal(cf_config_set(&cfg, "tls_names", v, &err),
	    CF_E_LIMIT);
	assert_non_null(strstr(err.msg, "at most 16"));
	memset(v, 'a', 254);
	v[254] = '\0';
	v[60] = v[120] = v[180] = v[240] = '.';
	cf_error_clear(&err);
	assert_int_equal(cf_config_set(&cfg, "tls_names", v, &err),
	    CF_E_INPUT);
	assert_non_null(strstr(err.msg, "253"));
	v[253] = '\0';
	cf_error_clear(&err);
	assert_int_equal(cf_config_set(&cfg, "tls_names", v, &err), CF_OK);

	/* In a file: FILE:LINE: reason. */
	cf_config_defaults(&cfg);
	cf_error_clear(&err);
	assert_int_equal(cf_config_parse(&cfg, "c.conf", conf,
	    sizeof(conf) - 1, &err), CF_E_INPUT);
	assert_true(strncmp(err.msg, "c.conf:3: tls_names: \"bad_name.test\"",
	    36) == 0);
}

/* The names beyond localhost, 127.0.0.1 and ::1: tls_names, a specific
 * listen address, the host name; each once. */
static void
test_config_cert_names(void **state)
{
	static const struct {
		const char	*listen, *host, *want;
	} cases[] = {
		{ "10.0.0.5:8443", "build-7", "coffer.test,10.1.2.3,10.0.0.5,"
		    "build-7" },
		{ "0.0.0.0:8443", "build-7.corp.example", "coffer.test,"
		    "10.1.2.3,build-7.corp.example" },
		{ "[::]:8443", NULL, "coffer.test,10.1.2.3" },
		{ "127.0.0.2:8443", "", "coffer.test,10.1.2.3" },
		{ "[::1]:8443", "localhost", "coffer.test,10.1.2.3" },
		{ "localhost:8443", "COFFER.test", "coffer.test,10.1.2.3" },
		{ "[2001:db8::5]:8443", "10.1.2.4", "coffer.test,10.1.2.3,"
		    "2001:db8::5" },
		{ "10.1.2.3:8443", "bad_host", "coffer.test,10.1.2.3" },
		{ "[::ffff:10.1.2.3]:8443", "host-", "coffer.test,10.1.2.3,"
		    "::ffff:10.1.2.3" },
	};
	struct cf_config	cfg;
	struct cf_cert_names	names;
	struct cf_error		err;
	char			got[1024], v[512];
	size_t			i, j, o;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cf_config_defaults(&cfg);
		cf_error_clear(&err);
		assert_int_equal(cf_config_set(&cfg, "tls_names",
		    "coffer.test, 10.1.2.3, COFFER.TEST, localhost, 0::1, "
		    "127.0.0.1", &err), CF_OK);
		assert_int_equal(cf_config_set(&cfg, "listen",
		    cases[i].listen, &err), CF_OK);
		assert_int_equal(cf_config_cert_names(&cfg, cases[i].host,
		    &names, &err), CF_OK);
		got[0] = '\0';
		for (j = 0; names.list[j] != NULL; j++) {
			if (j > 0)
				(void)cf_strlcat(got, ",", sizeof(got));
			(void)cf_strlcat(got, names.list[j], sizeof(got));
		}
		assert_int_equal(j, names.n);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("listen %s host %s: got %s, want %s",
			    cases[i].listen, cases[i].host, got, cases[i].want);
	}
	/* Nothing configured, loopback: no extra names. */
	cf_config_defaults(&cfg);
	assert_int_equal(cf_config_cert_names(&cfg, NULL, &names, &err), CF_OK);
	assert_int_equal(names.n, 0);
	assert_null(names.list[0]);
	/* The most there can be: 16 names, the address and the host. */
	for (i = 0, o = 0; i < CF_CONFIG_TLS_NAMES_MAX; i++)
		o += (size_t)snprintf(v + o, sizeof(v) - o, "%sn%zu.test",
		    i > 0 ? "," : "", i);
	assert_int_equal(cf_config_set(&cfg, "tls_names", v, &err), CF_OK);
	assert_int_equal(cf_config_set(&cfg, "listen", "192.0.2.1:443", &err),
	    CF_OK);
	assert_int_equal(cf_config_cert_names(&cfg, "h", &names, &err), CF_OK);
	assert_int_equal(names.n, CF_CERT_NAMES_MAX);
	assert_string_equal(names.list[16], "192.0.2.1");
	assert_string_equal(names.list[17], "h");
	assert_null(names.list[18]);
}

/* `#` starts a comment only at the start of a line: elsewhere it is part
 * of the value (docs/coffer.conf.5.md), so a number with a trailing
 * comment is refused and a path keeps it. */
static void
test_config_comments(void **state)
{
	static const char ok[] = "# a comment\n   # another\n\n"
	    "data = /x # c\n";
	static const char num[] =
	    "max_object_size = 274877906944   # 256 GiB\n";
	struct cf_config	cfg;
	struct cf_error		err;

	(void)state;
	cf_config_defaults(&cfg);
	cf_error_clear(&err);
	assert_int_equal(cf_config_parse(&cfg, "a.conf", ok, sizeof(ok) - 1,
	    &err), CF_OK);
	assert_string_equal(cfg.data_dir, "/x # c");
	assert_int_equal(cf_config_parse(&cfg, "b.conf", num, sizeof(num) - 1,
	    &err), CF_E_INPUT);
	assert_string_equal(err.msg, "b.conf:1: max_object_size: expected a "
	    "number in [0, 1125899906842624] (a comment must be on a line of "
	    "its own)");
	cf_error_clear(&err);
	assert_int_equal(cf_config_set(&cfg, "threads", "abc", &err),
	    CF_E_INPUT);
	assert_string_equal(err.msg, "threads: expected a number in [0, 1024]");
	/* auto (the default): two per core, 4 to 64. */
	cf_config_defaults(&cfg);
	assert_true(cfg.threads >= 4 && cfg.threads <= 64);
	assert_int_equal(cfg.threads % 2, 0);
	assert_int_equal(cf_config_set(&cfg, "threads", "7", &err), CF_OK);
	assert_int_equal(cfg.threads, 7);
	assert_int_equal(cf_config_set(&cfg, "threads", "auto", &err), CF_OK);
	assert_true(cfg.threads >= 4 && cfg.threads <= 64);
}

/* The client behind trusted proxies: the rightmost hop not ours. */
static void
test_forwarded_client(void **state)
{
	static const struct {
		const char	*hdr;
		bool		 rfc;
		cf_err		 rc;
		const char	*client;
	} cases[] = {
		{ "10.1.2.3", false, CF_OK, "10.1.2.3" },
		{ "203.0.113.9, 10.1.2.3", false, CF_OK, "10.1.2.3" },
		{ "10.1.2.3, 127.0.0.5", false, CF_OK, "10.1.2.3" },
		{ "127.0.0.9, 127.0.0.5", false, CF_OK, "127.0.0.9" },
		{ "10.1.2.3:8080, [2001:db8::1]:99", false, CF_OK,
		    "2001:db8::1" },
		{ "10.1.2.3, unknown", false, CF_OK, "unknown" },
		{ "unknown, 127.0.0.1", false, CF_OK, "unknown" },
		{ ", ,", false, CF_OK, "" },
		{ "", false, CF_OK, "" },
		{ "for=10.1.2.3", true, CF_OK, "10.1.2.3" },
		{ "For=\"10.1.2.3:80\";proto=https, for=127.0.0.1", true,
		    CF_OK, "10.1.2.3" },
		{ "for=\"[::1]\", for=10.0.0.7", true, CF_OK, "10.0.0.7" },
		{ "for=unknown", true, CF_OK, "unknown" },
		{ "by=1.2.3.4", true, CF_OK, "unknown" },
		{ "for", true, CF_E_INPUT, NULL },
		{ "for=\"1.2.3.4", true, CF_E_INPUT, NULL },
		{ "for=1.2.3.4;for=1.2.3.5", true, CF_E_INPUT, NULL },
		{ "for=1.2.3.4 x", true, CF_E_INPUT, NULL },
		{ "=1.2.3.4", true, CF_E_INPUT, NULL },
	};
	struct cf_cidr_list	trusted;
	char			out[CF_IP_TEXT_MAX], many[400];
	size_t			i, n = 0;

	(void)state;
	assert_int_equal(cf_cidr_list_parse("127.0.0.0/8", &trusted, NULL),
	    CF_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cf_http_forwarded_client(cases[i].hdr,
		    cases[i].rfc, &trusted, out, sizeof(out), NULL),
		    cases[i].rc);
		if (cases[i].client != NULL)
			assert_string_equal(out, cases[i].client);
	}
	assert_int_equal(cf_http_forwarded_client(NULL, false, &trusted, out,
	    sizeof(out), NULL), CF_OK);
	assert_string_equal(out, "");
	for (i = 0; i <= CF_FORWARDED_HOPS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "1.2.3.4,");
	assert_int_equal(cf_http_forwarded_client(many, false, &trusted, out,
	    sizeof(out), NULL), CF_E_LIMIT);
}

/* The copy headers are strict: what does not parse is refused, never
 * read as "the whole object" or "no condition"; HTTP dates come in
 * RFC 9110's three forms. */
static void
test_s3_copy_headers(void **state)
{
	uint64_t	a = 7, b = 7;
	int64_t		us = 0;
	size_t		i;
	static const char *const bad[] = { NULL, "", "bytes=", "bytes=1",
	    "bytes=1-", "bytes=-5", "bytes=5-3", "bytes=0-1,3-4",
	    "items=0-1", "bytes= 0-1", "bytes=0-1 ", "bytes=a-b",
	    "bytes=99999999999999999999-1", "bytes=+1-2" };
	static const char *const bad_dates[] = { NULL, "",
	    "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-94 08:49:37 UTC",
	    "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94  ",
	    "Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06 Nov 1994 08:49:37 GMT",
	    "Sun Nov  6 08:49:37 1994 GMT", "Sun Nov 06 08:49:37 1994x",
	    "Sun, 06 Nov 1994 25:49:37 GMT",
	    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
	    "1994-11-06T08:49:37Z", "Sat, 31 Feb 2024 08:49:37 GMT" };

	(void)state;
	assert_true(cf_s3_copy_range_parse("bytes=0-0", &a, &b));
	assert_true(a == 0 && b == 0);
	assert_true(cf_s3_copy_range_parse("bytes=5242880-10485759", &a, &b));
	assert_true(a == 5242880 && b == 10485759);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = b = 7;
		assert_false(cf_s3_copy_range_parse(bad[i], &a, &b));
		assert_true(a == 7 && b == 7);	/* untouched */
	}
	assert_true(cf_s3_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT",
	    &us));
	assert_true(us == 784111777LL * 1000000);
	/* The obsolete forms RFC 9110 has recipients accept. */
	us = 0;
	assert_true(cf_s3_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT",
	    &us));
	assert_true(us == 784111777LL * 1000000);
	us = 0;
	assert_true(cf_s3_http_date_parse("Sun Nov  6 08:49:37 1994", &us));
	assert_true(us == 784111777LL * 1000000);
	assert_true(cf_s3_http_date_parse("Thu Nov 16 08:49:37 2023", &us));
	assert_true(us == 1700124577LL * 1000000);
	assert_true(cf_s3_http_date_parse("Thursday, 16-Nov-23 08:49:37 GMT",
	    &us));
	assert_true(us == 1700124577LL * 1000000);
	for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++)
		assert_false(cf_s3_http_date_parse(bad_dates[i], &us));
}

/* GetObjectAttributes' x-amz-object-attributes: S3's five names, as a
 * list; anything else refused, so no attribute is silently dropped. */
static void
test_s3_object_attrs(void **state)
{
	unsigned	m;
	size_t		i;
	static const char *const bad[] = { NULL, "", " ", ",", " , ,",
	    "ETag,Size", "ETags", "ETag;Checksum", "ObjectParts,x",
	    "Object Parts", "ETag\tX" };

	(void)state;
	assert_true(cf_s3_object_attrs_parse("ETag", &m));
	assert_int_equal(m, CF_S3_ATTR_ETAG);
	assert_true(cf_s3_object_attrs_parse(
	    "ETag,Checksum,ObjectParts,StorageClass,ObjectSize", &m));
	assert_int_equal(m, CF_S3_ATTR_ETAG | CF_S3_ATTR_CHECKSUM |
	    CF_S3_ATTR_PARTS | CF_S3_ATTR_CLASS | CF_S3_ATTR_SIZE);
	/* Blanks, empty elements, repeats and any case. */
	assert_true(cf_s3_object_attrs_parse(" objectparts ,, OBJECTSIZE,"
	    "ObjectParts ", &m));
	assert_int_equal(m, CF_S3_ATTR_PARTS | CF_S3_ATTR_SIZE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = 77;
		assert_false(cf_s3_object_attrs_parse(bad[i], &m));
		assert_int_equal(m, 77);	/* untouched */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trail_pieces),
		cmocka_unit_test(test_trail_failure),
		cmocka_unit_test(test_trail_digest),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_purpose),
		cmocka_unit_test(test_form_value),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_unescape_hex_digits_only),
		cmocka_unit_test(test_query_args),
		cmocka_unit_test(test_text_safe),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_config_tls_names),
		cmocka_unit_test(test_config_cert_names),
		cmocka_unit_test(test_config_comments),
		cmocka_unit_test(test_forwarded_client),
		cmocka_unit_test(test_s3_copy_headers),
		cmocka_unit_test(test_s3_object_attrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
