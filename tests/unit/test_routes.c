/* cf-link: cf_server cf_core cf_policy cf_audit cf_store cf_crypto cf_base */
/* tests/unit/test_routes.c: the route table of the HTTP front end
 * (src/server/http.c) and its matcher (src/server/routes.c): every row
 * names a registered action and a well-formed pattern; docs/api.md
 * documents every row with the same method, pattern and action, and no
 * route the table lacks; patterns are disjoint; captures take what
 * docs/internals/HTTP.md says, within their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/actions.h"
#include "store/meta.h"
#include "server/http_int.h"

#define SRC_ROOT	CF_TEST_DATA "/../.."

static const char *const methods[] = { "GET", "HEAD", "PUT", "POST",
    "DELETE", "PATCH" };

/* The whole file at path, NUL-terminated (malloc'ed). */
static char *
slurp(const char *path)
{
	FILE	*fp = fopen(path, "rb");
	char	*buf;
	long	 n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* A row's pattern as docs/api.md writes it: "{key...}" is "{key}". */
static void
doc_form(const char *pattern, char *out, size_t outsz)
{
	const char	*k = strstr(pattern, "{key...}");

	if (k == NULL)
		(void)snprintf(out, outsz, "%s", pattern);
	else
		(void)snprintf(out, outsz, "%.*s{key}%s", (int)(k - pattern),
		    pattern, k + 8);
}

/* A path that matches pattern: every capture filled with a sample. */
static void
sample_path(const char *pattern, char *out, size_t outsz)
{
	const char	*p, *close;
	size_t		 o = 0;

	for (p = pattern; *p != '\0' && o + 8 < outsz; p++) {
		if (*p != '{') {
			out[o++] = *p;
			continue;
		}
		close = strchr(p, '}');
		assert_non_null(close);
		if (strncmp(p, "{key...}", 8) == 0) {
			memcpy(out + o, "a/b.txt", 7);
			o += 7;
		} else {
			memcpy(out + o, "x1", 2);
			o += 2;
		}
		p = close;
	}
	out[o] = '\0';
}

static void
test_routes_rows_are_well_formed(void **state)
{
	const struct cf_route		*tab;
	const struct cf_action_def	*a;
	size_t				 n, i, j, k;
	bool				 method_ok;

	(void)state;
	tab = cf_http_routes(&n);
	assert_true(n >= 35);
	for (i = 0; i < n; i++) {
		if (!cf_route_pattern_ok(tab[i].pattern))
			fail_msg("route %s %s: bad pattern", tab[i].method,
			    tab[i].pattern);
		method_ok = false;
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
			method_ok |= strcmp(tab[i].method, methods[k]) == 0;
		assert_true(method_ok);
		assert_non_null(tab[i].fn);
		/* Requested actions only: a record is never asked for. */
		a = cf_action_find(tab[i].action);
		if (a == NULL || (a->flags & CF_ACT_RECORD) != 0)
			fail_msg("route %s %s: action \"%s\" is not a "
			    "registered request action", tab[i].method,
			    tab[i].pattern, tab[i].action);
		if (tab[i].refine != NULL) {
			a = cf_action_find(tab[i].refine);
			assert_non_null(a);
			assert_int_equal(a->flags & CF_ACT_RECORD, 0);
		}
		/* Only a route with a body begins at the header block (a
		 * streamed upload, or sizing a large JSON body). */
		if (tab[i].begin != NULL)
			assert_true(strcmp(tab[i].method, "PUT") == 0 ||
			    strcmp(tab[i].method, "POST") == 0);
		for (j = 0; j < i; j++) {
			if (strcmp(tab[j].pattern, tab[i].pattern) != 0)
				continue;
			if (strcmp(tab[j].method, tab[i].method) == 0)
				fail_msg("route %s %s: twice", tab[i].method,
				    tab[i].pattern);
			/* The rows of a pattern are adjacent. */
			if (strcmp(tab[i - 1].pattern, tab[i].pattern) != 0)
				fail_msg("route %s %s: not next to the other "
				    "rows of its pattern", tab[i].method,
				    tab[i].pattern);
		}
	}
}

/* No path matches two patterns: a sample path of each row matches no
 * other pattern, so the table's order decides nothing. */
static void
test_routes_patterns_disjoint(void **state)
{
	const struct cf_route	*tab;
	struct cf_route_match	 m;
	char			 path[256];
	size_t			 n, i, j;

	(void)state;
	tab = cf_http_routes(&n);
	for (i = 0; i < n; i++) {
		sample_path(tab[i].pattern, path, sizeof(path));
		cf_route_match(tab, n, tab[i].method, path, &m);
		assert_ptr_equal(m.route, &tab[i]);
		for (j = 0; j < n; j++) {
			cf_route_match(&tab[j], 1, tab[j].method, path, &m);
			if (m.route != NULL &&
			    strcmp(tab[j].pattern, tab[i].pattern) != 0)
				fail_msg("%s matches both %s and %s", path,
				    tab[i].pattern, tab[j].pattern);
		}
	}
}

/* One "`METHOD /v1/...`" of docs/api.md, normalized: optional parts
 * ("[...]") and the query dropped. */
struct doc_route {
	char	method[8];
	char	path[160];
	char	action[48];	/* "" outside a table row */
};

#define DOC_MAX	256

/* Every route docs/api.md mentions, prose and table rows; a row's
 * " / `.../enable`" is a route of its own. */
static size_t
doc_routes(const char *api, struct doc_route *out, size_t max)
{
	const char	*p, *e, *q, *line;
	char		 raw[256];
	size_t		 n = 0, k, o, i;
	int		 depth;

	for (p = api; (p = strchr(p, '`')) != NULL; p++) {
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
			size_t ml = strlen(methods[k]);
			if (strncmp(p + 1, methods[k], ml) == 0 &&
			    strncmp(p + 1 + ml, " /v1/", 5) == 0)
				break;
		}
		if (k == sizeof(methods) / sizeof(methods[0]))
			continue;
		e = strchr(p + 1, '`');
		assert_non_null(e);
		assert_true(n < max);
		(void)snprintf(raw, sizeof(raw), "%.*s", (int)(e - p - 1),
		    p + 1);
		(void)snprintf(out[n].method, sizeof(out[n].method), "%s",
		    methods[k]);
		/* The path: up to '?', without "[...]". */
		for (i = strlen(methods[k]) + 1, o = 0, depth = 0;
		    raw[i] != '\0' && o + 1 < sizeof(out[n].path); i++) {
			if (raw[i] == '[')
				depth++;
			else if (raw[i] == ']')
				depth--;
			else if (depth == 0 && raw[i] == '?')
				break;
			else if (depth == 0)
				out[n].path[o++] = raw[i];
		}
		out[n].path[o] = '\0';
		out[n].action[0] = '\0';
		line = p;
		while (line > api && line[-1] != '\n')
			line--;
		if (strncmp(line, "| ", 2) == 0 && line + 2 == p) {
			/* A table row: "| `M /v1/..` [/ `.../alt`] | `act`" */
			q = e + 1;
			if (strncmp(q, " / `.../", 8) == 0) {
				const char *ae = strchr(q + 8, '`');
				assert_non_null(ae);
				assert_true(n + 1 < max);
				out[n + 1] = out[n];
				o = strlen(out[n].path);
				while (o > 0 && out[n].path[o - 1] != '/')
					o--;
				(void)snprintf(out[n + 1].path + o,
				    sizeof(out[n + 1].path) - o, "%.*s",
				    (int)(ae - q - 8), q + 8);
				q = ae + 1;
			}
			assert_true(strncmp(q, " | `", 4) == 0);
			q += 4;
			(void)snprintf(out[n].action, sizeof(out[n].action),
			    "%.*s", (int)strcspn(q, "`"), q);
			if (strncmp(e + 1, " / `.../", 8) == 0) {
				memcpy(out[n + 1].action, out[n].action,
				    sizeof(out[n].action));
				n++;
			}
		}
		n++;
		p = e;
	}
	return n;
}

/* docs/api.md and the table agree: every route the docs mention is a
 * row (same method and pattern), a documented row's action is the row's,
 * and every row is documented. */
static void
test_routes_match_docs(void **state)
{
	const struct cf_route	*tab;
	struct doc_route	*doc;
	char			*api, form[160];
	size_t			 n, nd, i, j, rows = 0;
	bool			 found;

	(void)state;
	doc = calloc(DOC_MAX, sizeof(*doc));
	assert_non_null(doc);
	api = slurp(SRC_ROOT "/docs/api.md");
	nd = doc_routes(api, doc, DOC_MAX);
	tab = cf_http_routes(&n);
	for (j = 0; j < nd; j++) {
		found = false;
		for (i = 0; i < n && !found; i++) {
			doc_form(tab[i].pattern, form, sizeof(form));
			if (strcmp(doc[j].method, tab[i].method) != 0 ||
			    strcmp(doc[j].path, form) != 0)
				continue;
			found = true;
			if (doc[j].action[0] == '\0')
				continue;
			rows++;
			if (strcmp(doc[j].action, tab[i].action) != 0 &&
			    (tab[i].refine == NULL ||
			    strcmp(doc[j].action, tab[i].refine) != 0))
				fail_msg("docs/api.md: %s %s is `%s`, the "
				    "route table says %s", doc[j].method,
				    doc[j].path, doc[j].action,
				    tab[i].action);
		}
		if (!found)
			fail_msg("docs/api.md names %s %s, which the route "
			    "table (src/server/http.c) lacks", doc[j].method,
			    doc[j].path);
	}
	assert_true(rows >= 30);
	for (i = 0; i < n; i++) {
		doc_form(tab[i].pattern, form, sizeof(form));
		found = false;
		for (j = 0; j < nd && !found; j++)
			found = strcmp(doc[j].method, tab[i].method) == 0 &&
			    strcmp(doc[j].path, form) == 0;
		if (!found)
			fail_msg("docs/api.md does not document %s %s",
			    tab[i].method, form);
	}
	free(api);
	free(doc);
}

/* The pattern a path and method match in the real table, or NULL. */
static const struct cf_route *
match(const char *method, const char *path, struct cf_route_match *m)
{
	const struct cf_route	*tab;
	size_t			 n;

	tab = cf_http_routes(&n);
	cf_route_match(tab, n, method, path, m);
	return m->route;
}

/* The capture named name of a match, as a string (static). */
static const char *
cap(const struct cf_route_match *m, const char *path, const char *name)
{
	static char	buf[1024];
	size_t		i;

	for (i = 0; i < m->ncap; i++)
		if (strcmp(m->cap[i].name, name) == 0) {
			(void)snprintf(buf, sizeof(buf), "%.*s",
			    (int)m->cap[i].len, path + m->cap[i].off);
			return buf;
		}
	return NULL;
}

static void
test_routes_captures(void **state)
{
	struct cf_route_match	 m;
	char			 path[512], name[128];
	const char		*p;

	(void)state;
	/* The key is the rest of the path, literal, and may be empty (the
	 * core refuses an empty key, as before the table). */
	p = "/v1/ns/ml-dev/objects/a/../%zz/\xff";
	assert_non_null(match("GET", p, &m));
	assert_string_equal(m.route->action, "object:get");
	assert_string_equal(cap(&m, p, "ns"), "ml-dev");
	assert_string_equal(cap(&m, p, "key..."), "a/../%zz/\xff");
	p = "/v1/ns/ml-dev/objects/";
	assert_non_null(match("PUT", p, &m));
	assert_string_equal(cap(&m, p, "key..."), "");
	/* HEAD and GET are rows of their own. */
	assert_string_equal(match("HEAD", "/v1/ns/a/objects/k", &m)->action,
	    "object:head");
	/* One segment, non-empty, under the store's limit. */
	(void)snprintf(name, sizeof(name), "%.*s", CF_NS_NAME_MAX - 1,
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnn");
	(void)snprintf(path, sizeof(path), "/v1/ns/%s", name);
	assert_non_null(match("GET", path, &m));
	(void)snprintf(path, sizeof(path), "/v1/ns/%sn", name);
	assert_null(match("GET", path, &m));
	assert_false(m.path_known);
	(void)snprintf(path, sizeof(path), "/v1/users/%.*s/password",
	    CF_PRINCIPAL_MAX - 1, name);
	assert_non_null(match("POST", path, &m));
	(void)snprintf(path, sizeof(path), "/v1/users/%.*sn/password",
	    CF_PRINCIPAL_MAX - 1, name);
	assert_null(match("POST", path, &m));
	assert_null(match("GET", "/v1/ns/", &m));
	assert_null(match("GET", "/v1/ns//objects", &m));
	assert_null(match("POST", "/v1/roles//mfa-required", &m));
	/* A token id is one segment of any length. */
	memset(path, 'i', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memcpy(path, "/v1/tokens/", 11);
	assert_non_null(match("DELETE", path, &m));
	assert_int_equal(m.cap[0].len, sizeof(path) - 12);
	/* Exact literals: no trailing slash, no double slash, no case
	 * folding, nothing outside /v1/. */
	assert_null(match("GET", "/v1/health/", &m));
	assert_null(match("GET", "/v1//health", &m));
	assert_null(match("GET", "/V1/health", &m));
	assert_null(match("GET", "/v1/Health", &m));
	assert_null(match("GET", "", &m));
	assert_null(match("GET", "/", &m));
	/* A known path under a method it lacks: no row, but known (405). */
	assert_null(match("PATCH", "/v1/tokens", &m));
	assert_true(m.path_known);
	assert_null(match("get", "/v1/health", &m));
	assert_true(m.path_known);
	assert_null(match("GET", "/v1/login", &m));
	assert_true(m.path_known);
	assert_null(match("POST", "/v1/ns/x/y", &m));
	assert_false(m.path_known);
}

/* The matcher's rules on a table of its own: the first matching row
 * wins (precedence is table order), at most CF_ROUTE_CAPS captures, and
 * the pattern checker refuses what the matcher cannot serve. */
static void
test_routes_matcher_rules(void **state)
{
	static const struct cf_route	tab[] = {
		{ "GET", "/v1/a/{name}", "ns:get", NULL, 0, NULL, NULL },
		{ "GET", "/v1/a/special", "ns:list", NULL, 0, NULL, NULL },
		{ "POST", "/v1/a/special", "ns:create", NULL, 0, NULL, NULL },
	};
	static const char *const bad[] = { "v1/a", "/v2/a", "/v1/{ns",
	    "/v1/ns}", "/v1/{nope}", "/v1/x{ns}", "/v1/{ns}x",
	    "/v1/{key...}/x", "/v1/{ns}/{name}/{id}" };
	struct cf_route_match	m;
	size_t			i;

	(void)state;
	cf_route_match(tab, 3, "GET", "/v1/a/special", &m);
	assert_ptr_equal(m.route, &tab[0]);
	assert_int_equal(m.ncap, 1);
	cf_route_match(tab, 3, "POST", "/v1/a/special", &m);
	assert_ptr_equal(m.route, &tab[2]);
	assert_int_equal(m.ncap, 0);
	cf_route_match(tab, 3, "DELETE", "/v1/a/x", &m);
	assert_null(m.route);
	assert_true(m.path_known);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cf_route_pattern_ok(bad[i]))
			fail_msg("pattern %s accepted", bad[i]);
	assert_true(cf_route_pattern_ok("/v1/ns/{ns}/objects/{key...}"));
	assert_true(cf_route_pattern_ok("/v1/{ns}/{name}"));
}

/* A 405's Allow: the methods of every row whose pattern takes the path,
 * each once, in table order; none for a path no row takes. */
static void
test_routes_allow(void **state)
{
	static const struct cf_route	tab[] = {
		{ "GET", "/v1/a/{name}", "ns:get", NULL, 0, NULL, NULL },
		{ "GET", "/v1/a/special", "ns:list", NULL, 0, NULL, NULL },
		{ "POST", "/v1/a/special", "ns:create", NULL, 0, NULL, NULL },
		{ "DELETE", "/v1/a/{name}", "ns:delete", NULL, 0, NULL, NULL },
	};
	const struct cf_route	*rt;
	char			 out[CF_ROUTE_ALLOW_LEN];
	size_t			 n, i;
	bool			 get = false, head = false, put = false;
	bool			 del = false;

	(void)state;
	assert_int_equal(cf_route_allow(tab, 4, "/v1/a/special", out), 3);
	assert_string_equal(out, "GET, POST, DELETE");
	assert_int_equal(cf_route_allow(tab, 4, "/v1/a/x", out), 2);
	assert_string_equal(out, "GET, DELETE");
	assert_int_equal(cf_route_allow(tab, 4, "/v1/b", out), 0);
	assert_string_equal(out, "");
	/* The real table: an object's path, and a namespace's. */
	rt = cf_http_routes(&n);
	assert_true(cf_route_allow(rt, n, "/v1/ns/x/objects/k/y", out) > 0);
	for (i = 0; i < n; i++) {
		if (strcmp(rt[i].pattern, "/v1/ns/{ns}/objects/{key...}") != 0)
			continue;
		get |= strcmp(rt[i].method, "GET") == 0;
		head |= strcmp(rt[i].method, "HEAD") == 0;
		put |= strcmp(rt[i].method, "PUT") == 0;
		del |= strcmp(rt[i].method, "DELETE") == 0;
	}
	assert_true(get && head && put && del);
	assert_non_null(strstr(out, "GET"));
	assert_non_null(strstr(out, "HEAD"));
	assert_non_null(strstr(out, "PUT"));
	assert_non_null(strstr(out, "DELETE"));
	assert_null(strstr(out, "POST"));
	assert_true(cf_route_allow(rt, n, "/v1/ns/x", out) >= 3);
	assert_null(strstr(out, "PUT"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_rows_are_well_formed),
		cmocka_unit_test(test_routes_patterns_disjoint),
		cmocka_unit_test(test_routes_match_docs),
		cmocka_unit_test(test_routes_captures),
		cmocka_unit_test(test_routes_matcher_rules),
		cmocka_unit_test(test_routes_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
