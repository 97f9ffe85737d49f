/* cf-link: cf_policy cf_base
 *
 * tests/conformance/cedar_validate.c: runs src/policy's schema parser and
 * strict validator over the Cedar integration test corpus (corpus-tests/
 * and the handwritten tests/), comparing each test's verdict with its
 * "shouldValidate".
 *
 * Usage: cedar_validate DIR [-v] [TEST.json...]
 *
 * DIR is the extracted cedar-corpus.tar.gz.  Every schema must parse.
 * Prints the match rate and each mismatch (with -v, the errors found);
 * exit 0 only when every verdict matches. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "policy/policy.h"

struct stats {
	size_t	tests, match, fail;
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

static void
run_test(const char *root, const char *rel, struct stats *st)
{
	char			 path[4096];
	char			*text = NULL, *ptext = NULL, *stext = NULL;
	size_t			 len, plen, slen, i;
	json_t			*t = NULL;
	struct cf_policy_set	*ps = NULL;
	struct cf_schema	*s = NULL;
	struct cf_validation	*v = NULL;
	struct cf_error		 err;
	const char		*pf, *sf;
	int			 want, got;

	st->tests++;
	(void)snprintf(path, sizeof(path), "%s/%s", root, rel);
	text = read_file(path, &len);
	cf_error_clear(&err);
	if (text == NULL ||
	    cf_policy_json_parse(text, len, &t, &err) != CF_OK) {
		printf("FAIL %s: %s\n", rel, err.msg);
		st->fail++;
		goto out;
	}
	pf = json_string_value(json_object_get(t, "policies"));
	sf = json_string_value(json_object_get(t, "schema"));
	want = json_is_true(json_object_get(t, "shouldValidate"));
	(void)snprintf(path, sizeof(path), "%s/%s", root, sf ? sf : "");
	stext = read_file(path, &slen);
	cf_error_clear(&err);
	if (stext == NULL || cf_schema_parse(stext, slen, &s, &err) !=
	    CF_OK) {
		printf("FAIL %s: schema %s: %s\n", rel, sf, err.msg);
		st->fail++;
		goto out;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", root, pf ? pf : "");
	ptext = read_file(path, &plen);
	cf_error_clear(&err);
	if (ptext == NULL || cf_policy_set_parse(ptext, plen, &ps, &err) !=
	    CF_OK) {
		printf("FAIL %s: policies %s: %s\n", rel, pf, err.msg);
		st->fail++;
		goto out;
	}
	if (cf_validation_new(&v, &err) != CF_OK ||
	    cf_policy_validate(s, ps, v, &err) != CF_OK) {
		printf("FAIL %s: validate: %s\n", rel, err.msg);
		st->fail++;
		goto out;
	}
	got = cf_validation_ok(v);
	if (got == want) {
		st->match++;
		goto out;
	}
	st->fail++;
	printf("MISMATCH %s: expected %s, got %s\n", rel,
	    want ? "valid" : "invalid", got ? "valid" : "invalid");
	for (i = 0; verbose && i < cf_validation_error_count(v); i++)
		printf("  %s:%u:%u: policy %s: %s\n", pf,
		    cf_validation_error_line(v, i),
		    cf_validation_error_col(v, i),
		    cf_validation_error_policy(v, i),
		    cf_validation_error_msg(v, i));
out:
	cf_validation_free(v);
	cf_policy_set_free(ps);
	cf_schema_free(s);
	free(text);
	free(ptext);
	free(stext);
	json_decref(t);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

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
		fprintf(stderr, "usage: cedar_validate DIR [-v] "
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
		printf("%zu/%zu verdicts match\n", corpus.match, corpus.tests);
		return corpus.fail == 0 ? 0 : 1;
	}
	run_dir(argv[1], "corpus-tests", 0, &corpus);
	run_dir(argv[1], "tests", 1, &hand);
	printf("cedar validation: corpus %zu/%zu match\n", corpus.match,
	    corpus.tests);
	printf("cedar validation: handwritten %zu/%zu match\n", hand.match,
	    hand.tests);
	return corpus.fail == 0 && hand.fail == 0 ? 0 : 1;
}
