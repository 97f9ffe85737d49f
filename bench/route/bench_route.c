/* bench/route/bench_route.c: the cost of routing a request: matching
 * the method and path of every route of the table (a sample path each,
 * captures filled) plus unknown paths, against the real table
 * (src/server/http.c), and copying the captures out as the server does.
 * Prints ns per request, the best of ROUNDS rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/http_int.h"

#define ROUNDS	7
#define ITERS	20000

static const char *const unknown[] = { "/v1/nothing-here", "/v1/ns/x/y",
    "/v1/users/bob/mfa-reset/x", "/v2/ns", "/favicon.ico" };

static double
now_ns(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
sample(const char *pat, char *out, size_t outsz)
{
	size_t	o = 0;

	for (; *pat != '\0' && o + 24 < outsz; pat++) {
		if (*pat != '{') {
			out[o++] = *pat;
			continue;
		}
		if (strncmp(pat, "{key...}", 8) == 0) {
			memcpy(out + o, "models/churn/v3/model.bin", 25);
			o += 25;
		} else {
			memcpy(out + o, "prod-fraud", 10);
			o += 10;
		}
		pat = strchr(pat, '}');
	}
	out[o] = '\0';
}

int
main(void)
{
	const struct cf_route	*tab;
	struct cf_route_match	 m;
	char			 paths[64][128];
	const char		*meth[64];
	size_t			 n, np = 0, i, j, k, hits = 0;
	double			 t, best = 1e30;
	char			*rest;

	tab = cf_http_routes(&n);
	for (i = 0; i < n && np < 64; i++) {
		sample(tab[i].pattern, paths[np], sizeof(paths[np]));
		meth[np++] = tab[i].method;
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]) && np < 64; i++) {
		snprintf(paths[np], sizeof(paths[np]), "%s", unknown[i]);
		meth[np++] = "GET";
	}
	for (k = 0; k < ROUNDS; k++) {
		t = now_ns();
		for (j = 0; j < ITERS; j++)
			for (i = 0; i < np; i++) {
				cf_route_match(tab, n, meth[i], paths[i], &m);
				if (m.route == NULL)
					continue;
				hits++;
				/* As bind_captures: the non-ns capture is
				 * allocated. */
				if (m.ncap > 0 && strcmp(m.cap[m.ncap - 1].name,
				    "ns") != 0) {
					rest = strndup(paths[i] +
					    m.cap[m.ncap - 1].off,
					    m.cap[m.ncap - 1].len);
					free(rest);
				}
			}
		t = (now_ns() - t) / ((double)ITERS * (double)np);
		if (t < best)
			best = t;
	}
	printf("routes=%zu requests=%zu (every row + %zu unknown) "
	    "ns_per_request=%.1f hits=%zu\n", n, np,
	    sizeof(unknown) / sizeof(unknown[0]), best, hits / ROUNDS);
	return 0;
}
