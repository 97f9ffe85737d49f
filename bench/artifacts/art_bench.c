/* bench/artifacts/art_bench.c: artifact queries at scale (issue 12, 6).
 *
 * Fills one namespace through the store's own calls (cf_meta_version_put,
 * cf_meta_art_push, cf_meta_art_stage_set: one transaction each, as the
 * server makes them) with N object versions, A of them the files of A
 * artifact versions (A / 100 artifacts of 100 versions, each version
 * derived from the one before it; stage "production" on version 50),
 * the rest plain keys "dNNNN/fNNNNNNN" in directories of about 1000 keys
 * each (so that a listing's page is full at every N).  Then times,
 * over Q random picks each, the store work behind:
 *   coffer ls NS/dNNNN/         a page of 100 of a prefix with delimiter
 *   coffer versions NS/NAME     every version of one artifact
 *   coffer pull NS/NAME@production   version by stage + its manifest
 *   coffer lineage NS/NAME@N    one hop up and down; and a walk of 64
 *                               hops up (the API's depth limit)
 *
 * usage: art_bench [-n objects] [-a artifact_versions] [-q picks] [DIR]
 * (DIR default /dev/shm; the database is removed at the end), or
 *        art_bench -f META_DB [-n objects] [-a artifact_versions]
 * to fill a stopped server's metadata database (namespace "bench") and
 * keep it, for cli_bench.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/error.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "store/meta.h"

#define PER_ART	100	/* versions per artifact */

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

/* Keeps the last version seen (the lineage walk follows it). */
static cf_err
keep_art(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	(void)err;
	*(struct cf_art_rec *)arg = *v;
	return CF_OK;
}

static cf_err
count_art(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	(void)v;
	(void)err;
	(*(size_t *)arg)++;
	return CF_OK;
}

static uint64_t	rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: a fixed sequence, so runs pick the same things. */
static uint64_t
pick(uint64_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % bound;
}

static void
put_obj(struct cf_version_rec *v, const char *key, uint64_t i)
{
	memset(v, 0, sizeof(*v));
	(void)snprintf(v->version_id, sizeof(v->version_id), "%032llx",
	    (unsigned long long)i);
	(void)cf_strlcpy(v->ns, "bench", sizeof(v->ns));
	(void)cf_strlcpy(v->key, key, sizeof(v->key));
	(void)cf_strlcpy(v->blob_id, v->version_id, sizeof(v->blob_id));
	memset(v->sha256, 'a', CF_SHA256_HEX_LEN);
	v->size = 1;
	(void)cf_strlcpy(v->kek_id, "kek-1", sizeof(v->kek_id));
	(void)cf_strlcpy(v->created_by, "bench", sizeof(v->created_by));
	v->created_us = (int64_t)i;
}

static void
report(const char *what, uint64_t ns_total, uint64_t worst, uint64_t q)
{
	printf("  %-34s %9.1f us/op (worst %.1f us, %llu ops)\n", what,
	    (double)ns_total / 1e3 / (double)q, (double)worst / 1e3,
	    (unsigned long long)q);
}

int
main(int argc, char **argv)
{
	struct cf_meta		*m = NULL;
	struct cf_error		 err = { 0 };
	struct cf_ns_rec	 ns;
	struct cf_version_rec	 v;
	struct cf_art_rec	 a, got;
	struct cf_art_file	 f;
	struct cf_art_sel	 sel;
	char			 dir[256], path[300], key[CF_OBJKEY_MAX];
	char			 name[64], next[CF_OBJKEY_MAX];
	const char		*base = "/dev/shm", *fill = NULL;
	uint64_t		 n = 1000000, na = 100000, q = 1000, i, j, k;
	uint64_t		 t0, t, tot, worst, id = 0, arts, dirs;
	int64_t			 src[1][2], aid;
	size_t			 cnt, gone;
	json_t			*man;
	bool			 trunc;
	int			 ch;

	while ((ch = getopt(argc, argv, "n:a:q:f:")) != -1) {
		if (ch == 'f') {
			fill = optarg;
			continue;
		}
		if ((ch == 'n' && cf_parse_u64(optarg, 1000, 100000000, &n,
		    NULL) == CF_OK) || (ch == 'a' && cf_parse_u64(optarg,
		    PER_ART, 10000000, &na, NULL) == CF_OK) || (ch == 'q' &&
		    cf_parse_u64(optarg, 1, 1000000, &q, NULL) == CF_OK))
			continue;
		fprintf(stderr, "usage: art_bench [-n objects] "
		    "[-a artifact_versions] [-q picks] [-f META_DB | DIR]\n");
		return 2;
	}
	if (optind < argc)
		base = argv[optind];
	na -= na % PER_ART;
	if (na > n)
		na = n - n % PER_ART;
	arts = na / PER_ART;
	dirs = (n - na) / 1000 > 0 ? (n - na) / 1000 : 1;
	(void)snprintf(dir, sizeof(dir), "%s/cf-art-bench-XXXXXX", base);
	if (fill != NULL)
		(void)cf_strlcpy(path, fill, sizeof(path));
	else if (mkdtemp(dir) == NULL)
		return 1;
	else
		(void)snprintf(path, sizeof(path), "%s/meta.db", dir);
	if (cf_meta_open(path, &m, &err) != CF_OK)
		goto fail;
	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.name, "bench", sizeof(ns.name));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	if (cf_meta_ns_create(m, &au_ok, &ns, &err) != CF_OK ||
	    cf_meta_ns_get(m, "bench", &ns, &err) != CF_OK)
		goto fail;

	t0 = cf_mono_ns();
	for (k = 0; k < arts; k++) {
		(void)snprintf(name, sizeof(name), "m%06llu",
		    (unsigned long long)k);
		(void)snprintf(key, sizeof(key), "%s/w", name);
		aid = 0;
		for (j = 1; j <= PER_ART; j++) {
			put_obj(&v, key, ++id);
			if (cf_meta_version_put(m, &au_ok, &v, &err) != CF_OK)
				goto fail;
			memset(&a, 0, sizeof(a));
			a.ns_id = ns.id;
			(void)cf_strlcpy(a.ns, "bench", sizeof(a.ns));
			(void)cf_strlcpy(a.name, name, sizeof(a.name));
			(void)snprintf(a.version_id, sizeof(a.version_id),
			    "%032llx", (unsigned long long)(id | 1ULL << 60));
			(void)cf_strlcpy(a.kind, "model", sizeof(a.kind));
			memset(a.digest, 'd', CF_SHA256_HEX_LEN);
			a.size = 1;
			a.files = 1;
			(void)cf_strlcpy(a.meta, "{}", sizeof(a.meta));
			(void)cf_strlcpy(a.sensitivity, "internal",
			    sizeof(a.sensitivity));
			(void)cf_strlcpy(a.created_by, "bench",
			    sizeof(a.created_by));
			a.created_us = (int64_t)id;
			f.path = "w";
			f.version_id = v.version_id;
			f.sha256 = v.sha256;
			f.size = 1;
			src[0][0] = aid;
			src[0][1] = (int64_t)j - 1;
			if (cf_meta_art_push(m, &au_ok, &a, &f, 1,
			    (const int64_t (*)[2])src, j > 1 ? 1 : 0, &err) !=
			    CF_OK)
				goto fail;
			aid = a.artifact_id;
		}
		if (cf_meta_art_stage_set(m, &au_ok, aid, "production",
		    PER_ART / 2, "bench", 1, &err) != CF_OK)
			goto fail;
	}
	for (i = na; i < n; i++) {
		(void)snprintf(key, sizeof(key), "d%04llu/f%07llu",
		    (unsigned long long)(i % dirs), (unsigned long long)i);
		put_obj(&v, key, ++id);
		if (cf_meta_version_put(m, &au_ok, &v, &err) != CF_OK)
			goto fail;
	}
	t = cf_mono_ns() - t0;
	printf("art_bench: %llu object versions, %llu artifact versions "
	    "(%llu artifacts) in one namespace, filled in %.1f s (in %s)\n",
	    (unsigned long long)n, (unsigned long long)na,
	    (unsigned long long)arts, (double)t / 1e9, base);

	if (fill != NULL) {
		cf_meta_close(m);
		return 0;
	}

	/* coffer ls NS/dNNN/: a page of 100 (a fixed page, so that the
	 * work does not grow with what a prefix holds). */
	tot = worst = 0;
	for (i = 0; i < q; i++) {
		(void)snprintf(key, sizeof(key), "d%04llu/",
		    (unsigned long long)pick(dirs));
		cnt = 0;
		t0 = cf_mono_ns();
		if (cf_meta_object_list(m, "bench", key, "/", "", 100,
		    count_obj, count_pfx, &cnt, &trunc, next, &err) != CF_OK)
			goto fail;
		t = cf_mono_ns() - t0;
		tot += t;
		worst = t > worst ? t : worst;
	}
	report("ls NS/dNNNN/ (a page of 100)", tot, worst, q);

	/* coffer versions NS/NAME: 100 versions. */
	tot = worst = 0;
	for (i = 0; i < q && arts > 0; i++) {
		(void)snprintf(name, sizeof(name), "m%06llu",
		    (unsigned long long)pick(arts));
		cnt = 0;
		t0 = cf_mono_ns();
		if (cf_meta_art_list(m, "bench", name, count_art, &cnt,
		    &err) != CF_OK)
			goto fail;
		t = cf_mono_ns() - t0;
		tot += t;
		worst = t > worst ? t : worst;
	}
	report("versions NS/NAME (100 versions)", tot, worst, q);

	/* coffer pull NS/NAME@production: the version and its manifest. */
	tot = worst = 0;
	memset(&sel, 0, sizeof(sel));
	sel.stage = "production";
	for (i = 0; i < q && arts > 0; i++) {
		(void)snprintf(name, sizeof(name), "m%06llu",
		    (unsigned long long)pick(arts));
		t0 = cf_mono_ns();
		if (cf_meta_art_get(m, "bench", name, &sel, &got, &err) !=
		    CF_OK || cf_meta_art_files(m, got.artifact_id, got.number,
		    &man, &err) != CF_OK)
			goto fail;
		t = cf_mono_ns() - t0;
		json_decref(man);
		tot += t;
		worst = t > worst ? t : worst;
	}
	report("pull NS/NAME@production (lookup)", tot, worst, q);

	/* coffer lineage NS/NAME@N: one hop up and down. */
	tot = worst = 0;
	memset(&sel, 0, sizeof(sel));
	for (i = 0; i < q && arts > 0; i++) {
		(void)snprintf(name, sizeof(name), "m%06llu",
		    (unsigned long long)pick(arts));
		sel.number = (int64_t)(2 + pick(PER_ART - 2));
		t0 = cf_mono_ns();
		if (cf_meta_art_get(m, "bench", name, &sel, &got, &err) !=
		    CF_OK || cf_meta_art_links(m, got.artifact_id, got.number,
		    true, keep_art, &a, &gone, &err) != CF_OK ||
		    cf_meta_art_links(m, got.artifact_id, got.number, false,
		    keep_art, &a, &gone, &err) != CF_OK)
			goto fail;
		t = cf_mono_ns() - t0;
		tot += t;
		worst = t > worst ? t : worst;
	}
	report("lineage NS/NAME@N (1 hop up+down)", tot, worst, q);

	/* coffer lineage NS/NAME@100 --up --depth 64. */
	tot = worst = 0;
	sel.number = PER_ART;
	for (i = 0; i < q && arts > 0; i++) {
		(void)snprintf(name, sizeof(name), "m%06llu",
		    (unsigned long long)pick(arts));
		t0 = cf_mono_ns();
		if (cf_meta_art_get(m, "bench", name, &sel, &got, &err) !=
		    CF_OK)
			goto fail;
		for (j = 0; j < 64; j++) {
			a.artifact_id = 0;
			if (cf_meta_art_links(m, got.artifact_id, got.number,
			    true, keep_art, &a, &gone, &err) != CF_OK)
				goto fail;
			if (a.artifact_id == 0)
				break;
			got = a;
		}
		t = cf_mono_ns() - t0;
		tot += t;
		worst = t > worst ? t : worst;
	}
	report("lineage --up --depth 64 (64 hops)", tot, worst, q);

	cf_meta_close(m);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/meta.db-wal", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/meta.db-shm", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return 0;
fail:
	fprintf(stderr, "art_bench: %s\n", err.msg);
	cf_meta_close(m);
	return 1;
}
