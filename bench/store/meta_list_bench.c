/* bench/store/meta_list_bench.c: S3-style listing over many keys.
 *
 * Inserts N keys "dNNN/fNNNNNN" (100 directories) plus a few flat keys
 * through cf_meta_version_put, then times: every page of a flat listing
 * (1000 per page), a delimiter listing at the root (100 common prefixes,
 * which must cost ~100 index seeks, not a scan of N keys), and a page
 * deep inside one directory.
 *
 * usage: meta_list_bench [-n keys] [DIR]   (DIR default /dev/shm) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "store/meta.h"

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

static cf_err
count_obj(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	(void)v;
	(void)err;
	(*(size_t *)arg)++;
	return CF_OK;
}

static cf_err
count_pfx(void *arg, const char *p, struct cf_error *err)
{
	(void)p;
	(void)err;
	(*(size_t *)arg)++;
	return CF_OK;
}

int
main(int argc, char **argv)
{
	struct cf_meta		*m = NULL;
	struct cf_error		 err = { 0 };
	struct cf_ns_rec	 ns;
	struct cf_version_rec	 v;
	char			 dir[256], path[300], after[CF_OBJKEY_MAX];
	char			 next[CF_OBJKEY_MAX];
	const char		*base = "/dev/shm";
	uint64_t		 n = 100000, i, t0, t, worst = 0;
	size_t			 cnt, pages;
	bool			 trunc;
	int			 ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n' || cf_parse_u64(optarg, 100, 10000000, &n,
		    NULL) != CF_OK) {
			fprintf(stderr, "usage: meta_list_bench [-n keys] "
			    "[DIR]\n");
			return 2;
		}
	}
	if (optind < argc)
		base = argv[optind];
	(void)snprintf(dir, sizeof(dir), "%s/cf-meta-bench-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(path, sizeof(path), "%s/meta.db", dir);
	if (cf_meta_open(path, &m, &err) != CF_OK)
		goto fail;
	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.name, "bench", sizeof(ns.name));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	if (cf_meta_ns_create(m, &au_ok, &ns, &err) != CF_OK)
		goto fail;

	t0 = cf_mono_ns();
	for (i = 0; i < n; i++) {
		memset(&v, 0, sizeof(v));
		(void)snprintf(v.version_id, sizeof(v.version_id), "%032llx",
		    (unsigned long long)i);
		(void)cf_strlcpy(v.ns, "bench", sizeof(v.ns));
		if (i % 1000 == 999)
			(void)snprintf(v.key, sizeof(v.key), "flat%06llu",
			    (unsigned long long)i);
		else
			(void)snprintf(v.key, sizeof(v.key), "d%03llu/f%06llu",
			    (unsigned long long)(i % 100),
			    (unsigned long long)i);
		(void)cf_strlcpy(v.blob_id, v.version_id, sizeof(v.blob_id));
		v.size = i;
		if (cf_meta_version_put(m, &au_ok, &v, &err) != CF_OK)
			goto fail;
	}
	t = cf_mono_ns() - t0;
	printf("meta_list_bench: %llu keys inserted in %.2f s "
	    "(%.1f us/put, one fsync'ed transaction each, in %s)\n",
	    (unsigned long long)n, (double)t / 1e9, (double)t / 1e3 / n,
	    base);

	/* Flat listing, every page of 1000. */
	after[0] = '\0';
	cnt = pages = 0;
	t0 = cf_mono_ns();
	do {
		uint64_t	p0 = cf_mono_ns();

		if (cf_meta_object_list(m, "bench", "", "", after, 1000,
		    count_obj, count_pfx, &cnt, &trunc, next, &err) != CF_OK)
			goto fail;
		p0 = cf_mono_ns() - p0;
		if (p0 > worst)
			worst = p0;
		(void)cf_strlcpy(after, next, sizeof(after));
		pages++;
	} while (trunc);
	t = cf_mono_ns() - t0;
	printf("  flat listing: %zu entries in %zu pages, %.2f ms/page "
	    "(worst %.2f ms)\n", cnt, pages, (double)t / 1e6 / pages,
	    (double)worst / 1e6);

	/* Delimiter at the root: 100 prefixes + flat keys, one page. */
	cnt = 0;
	t0 = cf_mono_ns();
	if (cf_meta_object_list(m, "bench", "", "/", "", 1000, count_obj,
	    count_pfx, &cnt, &trunc, next, &err) != CF_OK)
		goto fail;
	t = cf_mono_ns() - t0;
	printf("  delimiter '/' at root: %zu entries, %.2f ms "
	    "(seeks past each prefix)\n", cnt, (double)t / 1e6);

	/* Two entries per page: the roll-up must be skipped, not rescanned. */
	after[0] = '\0';
	cnt = pages = 0;
	t0 = cf_mono_ns();
	do {
		if (cf_meta_object_list(m, "bench", "", "/", after, 2,
		    count_obj, count_pfx, &cnt, &trunc, next, &err) != CF_OK)
			goto fail;
		(void)cf_strlcpy(after, next, sizeof(after));
		pages++;
	} while (trunc);
	t = cf_mono_ns() - t0;
	printf("  delimiter '/', 2 per page: %zu entries in %zu pages, "
	    "%.3f ms/page\n", cnt, pages, (double)t / 1e6 / pages);

	/* A page deep inside one directory. */
	cnt = 0;
	t0 = cf_mono_ns();
	if (cf_meta_object_list(m, "bench", "d050/", "/", "d050/f050000",
	    1000, count_obj, count_pfx, &cnt, &trunc, next, &err) != CF_OK)
		goto fail;
	t = cf_mono_ns() - t0;
	printf("  prefix d050/ after f050000: %zu entries, %.2f ms\n", cnt,
	    (double)t / 1e6);

	cf_meta_close(m);
	(void)snprintf(path, sizeof(path), "%s/meta.db", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/meta.db-wal", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/meta.db-shm", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return 0;
fail:
	fprintf(stderr, "meta_list_bench: %s\n", err.msg);
	cf_meta_close(m);
	return 1;
}
