/* bench/policy/bench_policy.c: single-thread decision throughput and
 * latency of src/policy on the ML-registry scenario (gen.mjs).
 *
 * Usage: bench_policy DIR base|links DECISIONS_OUT
 *
 * Prints one JSON line of results and writes one line per request
 * ("allow|deny reasons errors", ids sorted) to DECISIONS_OUT so run.sh can
 * check that cedar-wasm decides the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "policy/policy.h"

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char	 path[4096];
	FILE	*f;
	char	*buf;
	long	 n;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		exit(1);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
die(const char *what, const struct cf_error *err)
{
	fprintf(stderr, "bench_policy: %s: %s\n", what, err->msg);
	exit(1);
}

int
main(int argc, char **argv)
{
	struct cf_policy_set	 *ps = NULL;
	struct cf_entities	 *es = NULL;
	struct cf_response	 *resp = NULL;
	struct cf_request	**reqs;
	struct cf_error		  err;
	json_t			 *rj, *lj, *l;
	char			 *text;
	const char		 *ids[64];
	size_t			  len, n, i, k, rounds, total, nallow = 0;
	uint64_t		 *lat, t0, t1, t_parse, t_ents;
	double			  secs;
	FILE			 *out;
	int			  links;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_policy DIR base|links OUT\n");
		return 2;
	}
	links = strcmp(argv[2], "links") == 0;
	cf_error_clear(&err);

	text = slurp(argv[1], links ? "templates.cedar" : "policies.cedar",
	    &len);
	t0 = now_ns();
	if (cf_policy_set_parse(text, len, &ps, &err) != CF_OK)
		die("policies", &err);
	free(text);
	if (links) {
		text = slurp(argv[1], "links.json", &len);
		if (cf_policy_json_parse(text, len, &lj, &err) != CF_OK)
			die("links", &err);
		free(text);
		json_array_foreach(lj, i, l) {
			const json_t	*p = json_object_get(l, "principal");
			const json_t	*r = json_object_get(l, "resource");

			if (cf_policy_set_link(ps,
			    json_string_value(json_object_get(l, "template")),
			    json_string_value(json_object_get(l, "id")),
			    json_string_value(json_object_get(p, "type")),
			    json_string_value(json_object_get(p, "id")),
			    json_string_value(json_object_get(r, "type")),
			    json_string_value(json_object_get(r, "id")),
			    &err) != CF_OK)
				die("link", &err);
		}
		json_decref(lj);
	}
	t_parse = now_ns() - t0;

	text = slurp(argv[1], "entities.json", &len);
	t0 = now_ns();
	if (cf_entities_parse(text, len, &es, &err) != CF_OK)
		die("entities", &err);
	t_ents = now_ns() - t0;
	free(text);

	text = slurp(argv[1], "requests.json", &len);
	if (cf_policy_json_parse(text, len, &rj, &err) != CF_OK)
		die("requests", &err);
	free(text);
	n = json_array_size(rj);
	reqs = calloc(n, sizeof(*reqs));
	if (reqs == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (cf_request_from_json(json_array_get(rj, i), &reqs[i],
		    &err) != CF_OK)
			die("request", &err);
	json_decref(rj);
	if (cf_response_new(&resp, &err) != CF_OK)
		die("response", &err);

	/* Decisions, for the comparison with cedar-wasm (and warm-up). */
	out = fopen(argv[3], "w");
	if (out == NULL) {
		perror(argv[3]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (cf_policy_authorize(ps, es, reqs[i], resp, &err) != CF_OK)
			die("authorize", &err);
		nallow += cf_response_decision(resp) == CF_DECISION_ALLOW;
		fprintf(out, "%s", cf_response_decision(resp) ==
		    CF_DECISION_ALLOW ? "allow" : "deny");
		for (k = 0; k < cf_response_reason_count(resp) && k < 64; k++)
			ids[k] = cf_response_reason(resp, k);
		qsort(ids, k, sizeof(ids[0]), str_cmp);
		fprintf(out, " [");
		for (len = 0; len < k; len++)
			fprintf(out, "%s%s", len ? "," : "", ids[len]);
		for (k = 0; k < cf_response_error_count(resp) && k < 64; k++)
			ids[k] = cf_response_error_id(resp, k);
		qsort(ids, k, sizeof(ids[0]), str_cmp);
		fprintf(out, "] [");
		for (len = 0; len < k; len++)
			fprintf(out, "%s%s", len ? "," : "", ids[len]);
		fprintf(out, "]\n");
	}
	fclose(out);

	/* Throughput: back-to-back decisions, about a second's worth. */
	rounds = 1;
	for (;;) {
		t0 = now_ns();
		for (k = 0; k < rounds; k++)
			for (i = 0; i < n; i++)
				if (cf_policy_authorize(ps, es, reqs[i], resp,
				    &err) != CF_OK)
					die("authorize", &err);
		t1 = now_ns();
		if (t1 - t0 > 1000000000u || rounds > 1000)
			break;
		rounds *= 2;
	}
	total = rounds * n;
	secs = (double)(t1 - t0) / 1e9;

	/* Latency: each decision timed on its own. */
	lat = calloc(n * 5, sizeof(*lat));
	if (lat == NULL)
		return 1;
	for (k = 0; k < 5; k++)
		for (i = 0; i < n; i++) {
			t0 = now_ns();
			if (cf_policy_authorize(ps, es, reqs[i], resp, &err) !=
			    CF_OK)
				die("authorize", &err);
			lat[k * n + i] = now_ns() - t0;
		}
	qsort(lat, n * 5, sizeof(*lat), u64_cmp);

	printf("{\"impl\":\"coffer\",\"variant\":\"%s\",\"policies\":%zu,"
	    "\"entities\":%zu,\"requests\":%zu,\"allow\":%zu,"
	    "\"decisions_per_s\":%.0f,\"p50_us\":%.3f,\"p99_us\":%.3f,"
	    "\"entity_store_mib\":%.2f,\"entities_load_ms\":%.1f,"
	    "\"policies_load_ms\":%.1f}\n", argv[2], cf_policy_set_count(ps),
	    cf_entities_count(es), n, nallow, (double)total / secs,
	    (double)lat[n * 5 / 2] / 1e3, (double)lat[n * 5 * 99 / 100] / 1e3,
	    (double)cf_entities_memory(es) / (1024.0 * 1024.0),
	    (double)t_ents / 1e6, (double)t_parse / 1e6);
	for (i = 0; i < n; i++)
		cf_request_free(reqs[i]);
	free(reqs);
	free(lat);
	cf_response_free(resp);
	cf_entities_free(es);
	cf_policy_set_free(ps);
	return 0;
}
