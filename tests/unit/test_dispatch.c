/* tests/unit/test_dispatch.c: the HTTP front end and the core, in one
 * process, under allocation failure: every request answered while the
 * n-th allocation (of any thread) fails is either refused or right,
 * never served with less protection than asked for.  The server listens
 * on 127.0.0.1 over plain HTTP (loopback only) and libcurl is the client.
 *
 * A failure of the n-th allocation is injected for n = 1, 2, ... until a
 * request runs without reaching it. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/core.h"
#include "core/core_int.h"
#include "crypto/crypto.h"
#include "server/config.h"
#include "server/http.h"

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
	char		 dir[64];
	char		 url[64];
	char		 admin[128];
	struct cf_core	*core;
	struct cf_http	*http;
};

struct reply {
	char	body[8192];
	size_t	len;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	size_t		 len = size * n;

	if (len > sizeof(r->body) - 1 - r->len)
		len = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return size * n;
}

/* One request; returns the status (0: no answer). */
static long
request(struct fixture *f, const char *method, const char *path,
    const char *body, struct reply *out)
{
	struct curl_slist	*h = NULL;
	char			 url[256], auth[256];
	long			 status = 0;
	CURL			*cu;

	memset(out, 0, sizeof(*out));
	cu = curl_easy_init();
	assert_non_null(cu);
	(void)snprintf(url, sizeof(url), "%s%s", f->url, path);
	(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    f->admin);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	(void)curl_easy_setopt(cu, CURLOPT_URL, url);
	(void)curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	(void)curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(cu, CURLOPT_WRITEDATA, out);
	(void)curl_easy_setopt(cu, CURLOPT_TIMEOUT, 60L);
	if (body != NULL)
		(void)curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(cu) == CURLE_OK)
		(void)curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(cu);
	return status;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture		*f;
	struct cf_core_config	 ccfg;
	struct cf_config	 cfg;
	struct cf_token_rec	 tok;
	uint8_t			 h[CF_SHA256_LEN];
	char			 boot[4096];
	FILE			*fp;
	int			 port, tries;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cf-test-dispatch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(cf_crypto_init(NULL), CF_OK);
	cf_core_config_defaults(&ccfg);
	ccfg.data_dir = f->dir;
	ccfg.max_object_size = 1 << 20;
	ccfg.max_json_body = 65536;
	(void)snprintf(boot, sizeof(boot), "%s/xdg", f->dir);
	assert_int_equal(setenv("XDG_CONFIG_HOME", boot, 1), 0);
	assert_int_equal(cf_core_open(&ccfg, &f->core, boot, NULL), CF_OK);
	fp = fopen(boot, "r");
	assert_non_null(fp);
	assert_non_null(fgets(f->admin, sizeof(f->admin), fp));
	fclose(fp);
	f->admin[strcspn(f->admin, "\n")] = '\0';
	/* The admin as after enrolling MFA (tested end to end). */
	cf_sha256(f->admin, strlen(f->admin), h);
	assert_int_equal(cf_meta_token_find(f->core->meta, h, &tok, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_token_set_mfa(f->core->meta, &au_ok, tok.id,
	    cf_now_us(), NULL), CF_OK);
	for (tries = 0; tries < 20; tries++) {
		port = 20000 + (int)((unsigned)getpid() * 7919u +
		    (unsigned)tries * 104729u) % 40000;
		cf_config_defaults(&cfg);
		(void)snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:%d",
		    port);
		cf_strlcpy(cfg.data_dir, f->dir, sizeof(cfg.data_dir));
		cfg.insecure_http = true;
		if (cf_http_start(f->core, &cfg, NULL, NULL, &f->http, NULL) ==
		    CF_OK)
			break;
	}
	assert_non_null(f->http);
	(void)snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	cf_test_fail_alloc_after(0);
	cf_http_stop(f->http);
	cf_core_close(f->core);
	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* SEC: a token asked for with a narrow scope is created with that scope
 * or not at all; out of memory never mints one with the caller's whole
 * scope (the scope's JSON text used to be dropped when it could not be
 * made, which meant "no scope"). */
static void
test_dispatch_token_scope_survives_every_alloc_failure(void **state)
{
	struct fixture	*f = *state;
	struct reply	 rep;
	json_t		*j, *t;
	unsigned int	 n;
	size_t		 i, created = 0;
	long		 st;
	bool		 pending;

	for (n = 1; n < 5000; n++) {
		cf_test_fail_alloc_after(n);
		st = request(f, "POST", "/v1/tokens",
		    "{\"principal\":\"admin\","
		    "\"expires_in\":600,\"description\":\"narrow\","
		    "\"scope\":{\"actions\":[\"object:get\"]}}", &rep);
		pending = cf_test_fail_alloc_pending();
		cf_test_fail_alloc_after(0);
		if (st == 201) {
			j = json_loads(rep.body, 0, NULL);
			assert_non_null(j);
			assert_true(json_is_object(json_object_get(j,
			    "scope")));
			json_decref(j);
			created++;
		} else
			/* Refused: a JSON answer or none, never a success. */
			assert_true(st == 0 || st >= 400);
		if (pending)
			break;
	}
	assert_true(n > 1 && n < 5000);
	assert_true(created >= 1);
	/* Every token made on the way has the narrow scope. */
	st = request(f, "GET", "/v1/tokens?principal=admin", NULL, &rep);
	assert_int_equal(st, 200);
	j = json_loads(rep.body, 0, NULL);
	assert_non_null(j);
	json_array_foreach(json_object_get(j, "tokens"), i, t) {
		if (strcmp(json_string_value(json_object_get(t,
		    "description")), "narrow") != 0)
			continue;
		assert_true(json_is_object(json_object_get(t, "scope")));
	}
	json_decref(j);
}

/* The same for object metadata: it is stored with the version or the
 * upload is refused; never a version without the metadata sent. */
static void
test_dispatch_upload_metadata_survives_every_alloc_failure(void **state)
{
	struct fixture		*f = *state;
	struct reply		 rep;
	struct curl_slist	*h = NULL;
	char			 url[256], auth[256];
	unsigned int		 n;
	long			 st;
	bool			 pending;
	CURL			*cu;
	json_t			*j;

	assert_int_equal(request(f, "POST", "/v1/ns", "{\"name\":\"alloc\"}",
	    &rep), 201);
	(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    f->admin);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "X-Coffer-Meta-Framework: pytorch");
	for (n = 1; n < 5000; n++) {
		memset(&rep, 0, sizeof(rep));
		(void)snprintf(url, sizeof(url), "%s/v1/ns/alloc/objects/k%u",
		    f->url, n);
		cu = curl_easy_init();
		assert_non_null(cu);
		(void)curl_easy_setopt(cu, CURLOPT_URL, url);
		(void)curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, "PUT");
		(void)curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
		(void)curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "weights");
		(void)curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
		(void)curl_easy_setopt(cu, CURLOPT_WRITEDATA, &rep);
		(void)curl_easy_setopt(cu, CURLOPT_TIMEOUT, 60L);
		st = 0;
		cf_test_fail_alloc_after(n);
		if (curl_easy_perform(cu) == CURLE_OK)
			(void)curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE,
			    &st);
		pending = cf_test_fail_alloc_pending();
		cf_test_fail_alloc_after(0);
		curl_easy_cleanup(cu);
		if (st == 201) {
			j = json_loads(rep.body, 0, NULL);
			if (j == NULL)
				fail_msg("n=%u: 201 with body '%s'", n,
				    rep.body);
			assert_string_equal(json_string_value(json_object_get(
			    json_object_get(j, "meta"), "framework")),
			    "pytorch");
			json_decref(j);
		} else
			assert_true(st == 0 || st >= 400);
		if (pending)
			break;
	}
	curl_slist_free_all(h);
	assert_true(n > 1 && n < 5000);
}

/* tmpl with its '@' replaced by n. */
static void
fill(char *out, size_t outsz, const char *tmpl, unsigned int n)
{
	const char	*at = strchr(tmpl, '@');

	assert_non_null(at);
	(void)snprintf(out, outsz, "%.*s%u%s", (int)(at - tmpl), tmpl, n,
	    at + 1);
}

/* Every kind of request, under a failure of each of its allocations in
 * turn: refused (or no answer), or a success whose answer is whole JSON.
 * A unique name per attempt keeps creations from turning into conflicts
 * (a conflict would be an answer too, but the loop should walk the
 * success path). */
static void
test_dispatch_requests_survive_every_alloc_failure(void **state)
{
	static const struct {
		const char	*method, *path, *body;
	} reqs[] = {
		{ "GET", "/v1/whoami", NULL },
		{ "POST", "/v1/ns", "{\"name\":\"ns-@\"}" },
		{ "GET", "/v1/ns", NULL },
		{ "POST", "/v1/users", "{\"name\":\"u-@\","
		    "\"password\":\"Violet kettle 93 drums\"}" },
		{ "POST", "/v1/principals", "{\"name\":\"svc-@\","
		    "\"kind\":\"service\",\"owner\":\"admin\"}" },
		{ "POST", "/v1/bindings", "{\"principal\":\"reader1\","
		    "\"role\":\"reader\",\"ns\":\"ns-@\"}" },
		{ "GET", "/v1/tokens", NULL },
		{ "GET", "/v1/users", NULL },
		{ "GET", "/v1/audit?tail=5", NULL },
		{ "POST", "/v1/login", "{\"user\":\"nobody-@\","
		    "\"password\":\"wrong wrong wrong\"}" },
	};
	struct fixture	*f = *state;
	struct reply	 rep;
	char		 body[512];
	json_t		*j;
	unsigned int	 n;
	size_t		 i;
	long		 st;
	bool		 pending;

	assert_int_equal(request(f, "POST", "/v1/users",
	    "{\"name\":\"reader1\"}", &rep), 201);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		for (n = 1; n < 5000; n++) {
			if (reqs[i].body != NULL)
				fill(body, sizeof(body), reqs[i].body, n);
			/* The binding's namespace must exist. */
			if (strstr(reqs[i].path, "bindings") != NULL) {
				(void)snprintf(rep.body, sizeof(rep.body),
				    "{\"name\":\"ns-%u\"}", n);
				(void)request(f, "POST", "/v1/ns", rep.body,
				    &rep);
			}
			cf_test_fail_alloc_after(n);
			st = request(f, reqs[i].method, reqs[i].path,
			    reqs[i].body != NULL ? body : NULL, &rep);
			pending = cf_test_fail_alloc_pending();
			cf_test_fail_alloc_after(0);
			if (st >= 200 && st < 300) {
				j = json_loads(rep.body, 0, NULL);
				if (j == NULL)
					fail_msg("%s %s, n=%u: %ld with '%s'",
					    reqs[i].method, reqs[i].path, n, st,
					    rep.body);
				json_decref(j);
			} else
				assert_true(st == 0 || st >= 400);
			if (pending)
				break;
		}
		assert_true(n > 1 && n < 5000);
	}
	/* And the server still serves: no failure broke it for good (the
	 * audit log, say). */
	assert_int_equal(request(f, "GET", "/v1/whoami", NULL, &rep), 200);
	assert_int_equal(request(f, "POST", "/v1/ns", "{\"name\":\"after\"}",
	    &rep), 201);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_dispatch_token_scope_survives_every_alloc_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dispatch_upload_metadata_survives_every_alloc_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dispatch_requests_survive_every_alloc_failure,
		    setup, teardown),
	};

	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
