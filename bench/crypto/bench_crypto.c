/* bench/crypto/bench_crypto.c: single-core throughput of the blob sealer
 * and opener (src/crypto/aead.c) with in-memory sink and reader, so the
 * numbers are the crypto layer's own (AES-256-GCM plus this layer's
 * copies), not the disk's.  Times are thread CPU time (see now()).  Usage: bench_crypto [MiB] (default 128): the blob size; a
 * small one stays in the CPU caches and shows the layer's own cost, a large
 * one adds memory bandwidth (as the page cache would).
 * Built and run by bench/crypto/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "base/error.h"
#include "base/str.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"

/* Best of RUNS: on a shared machine the best run is the one least
 * disturbed by other processes. */
#define RUNS	7

/* Each run processes at least 128 MiB: small sizes are repeated. */
static size_t	reps = 1;

struct mem {
	uint8_t		*p;
	size_t		 len, cap;
};

static cf_err
sink_mem(void *arg, const void *p, size_t len, struct cf_error *err)
{
	struct mem	*m = arg;

	if (m->len + len > m->cap)
		return cf_error_set(err, CF_E_LIMIT, "bench sink full");
	memcpy(m->p + m->len, p, len);
	m->len += len;
	return CF_OK;
}

static cf_err
sink_null(void *arg, const void *p, size_t len, struct cf_error *err)
{
	*(size_t *)arg += len;
	return CF_OK;
}

static cf_err
rd_mem(void *arg, void *buf, size_t len, uint64_t off, struct cf_error *err)
{
	struct mem	*m = arg;

	if (off > m->len || len > m->len - off)
		return cf_error_set(err, CF_E_INTEGRITY, "short blob");
	memcpy(buf, m->p + off, len);
	return CF_OK;
}

/* CPU time of this thread, not wall time: on a shared machine other
 * processes then do not count (openssl speed without -elapsed does the
 * same).  Set BENCH_WALL=1 for wall-clock time. */
static double
now(void)
{
	static int	wall = -1;
	struct timespec	ts;

	if (wall < 0)
		wall = getenv("BENCH_WALL") != NULL;
	clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, struct cf_error *err)
{
	fprintf(stderr, "bench_crypto: %s: %s\n", what, err->msg);
	exit(1);
}

/* Seal total bytes written in pieces of wsz; best of 3 runs, GB/s. */
static double
bench_seal(const struct cf_key *dek, const uint8_t *src, size_t total,
    size_t wsz, cf_sink_fn sink, void *arg, struct mem *m)
{
	struct cf_error	 err;
	struct cf_sealer *s;
	double		 best = 0, t;
	size_t		 off, n, rep;
	int		 run;

	for (run = 0; run < RUNS; run++) {
		cf_error_clear(&err);
		if (m != NULL)
			m->len = 0;
		else
			*(size_t *)arg = 0;
		t = now();
		for (rep = 0; rep < reps; rep++) {
			if (m != NULL)
				m->len = 0;
			if (cf_sealer_new(dek, "v", 1, sink, arg, &s, &err) !=
			    CF_OK)
				die("sealer_new", &err);
			for (off = 0; off < total; off += n) {
				n = total - off < wsz ? total - off : wsz;
				if (cf_sealer_write(s, src + off, n, &err) !=
				    CF_OK)
					die("sealer_write", &err);
			}
			if (cf_sealer_finish(s, &err) != CF_OK)
				die("sealer_finish", &err);
			cf_sealer_free(s);
		}
		t = now() - t;
		if ((double)total * reps / t / 1e9 > best)
			best = (double)total * reps / t / 1e9;
	}
	return best;
}

static double
bench_open(const struct cf_key *dek, struct mem *blob, size_t total,
    uint8_t *dst, size_t rsz)
{
	struct cf_error	 err;
	struct cf_opener *o;
	double		 best = 0, t;
	size_t		 got, rep;
	uint64_t	 pos;
	int		 run;

	for (run = 0; run < RUNS; run++) {
		cf_error_clear(&err);
		t = now();
		for (rep = 0; rep < reps; rep++) {
			if (cf_opener_new(dek, "v", 1, total, blob->len, rd_mem,
			    blob, &o, &err) != CF_OK)
				die("opener_new", &err);
			for (pos = 0; pos < total; pos += got) {
				size_t want = total - pos < rsz ?
				    total - pos : rsz;

				if (cf_opener_read(o, pos, dst + pos, want,
				    &got, &err) != CF_OK)
					die("opener_read", &err);
			}
			cf_opener_free(o);
		}
		t = now() - t;
		if ((double)total * reps / t / 1e9 > best)
			best = (double)total * reps / t / 1e9;
	}
	return best;
}

/* The ceiling: GnuTLS AES-256-GCM on one 64 KiB chunk in cache, in place
 * (decrypt) or into a second buffer (encrypt), no blob layer at all. */
static void
bench_raw(const struct cf_key *dek)
{
	static uint8_t		 a[65536 + 16], b[65536 + 16];
	gnutls_aead_cipher_hd_t	 h;
	gnutls_datum_t		 k;
	uint8_t			 nonce[12] = { 0 };
	size_t			 len, i, n = 4096;
	double			 t, best;
	int			 run;

	k.data = (unsigned char *)(uintptr_t)cf_key_bytes(dek);
	k.size = CF_KEY_LEN;
	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k) < 0)
		exit(1);
	for (best = 0, run = 0; run < RUNS; run++) {
		t = now();
		for (i = 0; i < n; i++) {
			len = sizeof(b);
			nonce[11] = (uint8_t)i;
			(void)gnutls_aead_cipher_encrypt(h, nonce, 12, "ad", 2,
			    16, a, 65536, b, &len);
		}
		t = now() - t;
		if (65536.0 * n / t / 1e9 > best)
			best = 65536.0 * n / t / 1e9;
	}
	printf("raw gnutls encrypt 64 KiB chunks:      %6.2f GB/s\n", best);
	nonce[11] = 0;
	len = sizeof(b);
	(void)gnutls_aead_cipher_encrypt(h, nonce, 12, "ad", 2, 16, a, 65536,
	    b, &len);
	for (best = 0, run = 0; run < RUNS; run++) {
		t = now();
		for (i = 0; i < n; i++) {
			memcpy(a, b, sizeof(b));
			len = 65536;
			if (gnutls_aead_cipher_decrypt(h, nonce, 12, "ad", 2, 16,
			    a, sizeof(a), a, &len) < 0)
				exit(1);
		}
		t = now() - t;
		if (65536.0 * n / t / 1e9 > best)
			best = 65536.0 * n / t / 1e9;
	}
	printf("raw gnutls copy+decrypt 64 KiB chunks: %6.2f GB/s\n", best);
	gnutls_aead_cipher_deinit(h);
}

int
main(int argc, char **argv)
{
	struct cf_error	 err;
	struct cf_key	*dek;
	struct mem	 blob;
	uint8_t		*src, *dst;
	size_t		 total, i, nul;
	static const size_t sizes[] = { 16384, 65536, 1048576 };

	{
		uint64_t mib = 128;
		if (argc > 1 && cf_parse_u64(argv[1], 1, 1 << 20, &mib, NULL) !=
		    CF_OK)
			return 2;
		total = (size_t)mib << 20;
	}
	reps = total >= (128u << 20) ? 1 : (128u << 20) / total;
	cf_error_clear(&err);
	if (cf_crypto_init(&err) != CF_OK ||
	    cf_key_new_random(&dek, &err) != CF_OK)
		die("init", &err);
	src = malloc(total);
	dst = malloc(total);
	blob.cap = (size_t)cf_aead_blob_size(total);
	blob.p = malloc(blob.cap);
	blob.len = 0;
	if (src == NULL || dst == NULL || blob.p == NULL)
		return 1;
	for (i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 12));
	memset(dst, 0, total);
	memset(blob.p, 0, blob.cap);
	printf("coffer blob layer, %zu MiB blob (x%zu per run), one core, best "
	    "of %d (GB/s = 1e9 plaintext bytes per CPU second)\n",
	    total >> 20, reps, RUNS);
	bench_raw(dek);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		printf("seal  writes of %7zu B, null sink:    %6.2f GB/s\n",
		    sizes[i], bench_seal(dek, src, total, sizes[i], sink_null,
		    &nul, NULL));
	printf("seal  writes of %7d B, memory sink:  %6.2f GB/s\n", 65536,
	    bench_seal(dek, src, total, 65536, sink_mem, &blob, &blob));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		printf("open  reads  of %7zu B, memory blob: %6.2f GB/s\n",
		    sizes[i], bench_open(dek, &blob, total, dst, sizes[i]));
	if (memcmp(src, dst, total) != 0) {
		fprintf(stderr, "bench_crypto: round trip mismatch\n");
		return 1;
	}
	cf_key_free(dek);
	free(src);
	free(dst);
	free(blob.p);
	return 0;
}
