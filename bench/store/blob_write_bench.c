/* bench/store/blob_write_bench.c: stream a large blob through
 * cf_blob_write in 64 KiB pieces (as the upload path does) and report
 * throughput and peak RSS, next to `dd if=/dev/zero of=X bs=1M count=N
 * conv=fsync` on the same filesystem in the same run.
 *
 * usage: blob_write_bench [-b] [-n MiB] [-p piece_bytes] DIR
 *   -b	buffered writes (no O_DIRECT), to compare the fallback path
 *
 * The target: 1 GiB with RSS under 64 MiB at close to 1 GB/s. */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "crypto/crypto.h"
#include "store/blob.h"
#include "store/store_int.h"

extern char **environ;

/* VmHWM (peak RSS) in KiB from /proc/self/status; 0 if unknown. */
static long
peak_rss_kib(void)
{
	FILE	*f;
	char	 line[256];
	long	 kib = 0;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmHWM:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	}
	(void)fclose(f);
	return kib;
}

static long
cur_rss_kib(void)
{
	FILE	*f;
	char	 line[256];
	long	 kib = 0;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	}
	(void)fclose(f);
	return kib;
}

static double
run_dd(const char *dir, uint64_t mib)
{
	char		 of[4200], count[64];
	char		*argv[7];
	pid_t		 pid;
	uint64_t	 t0;
	int		 status;

	(void)snprintf(of, sizeof(of), "of=%s/dd-bench.out", dir);
	(void)snprintf(count, sizeof(count), "count=%llu",
	    (unsigned long long)mib);
	argv[0] = (char *)(uintptr_t)"dd";
	argv[1] = (char *)(uintptr_t)"if=/dev/zero";
	argv[2] = of;
	argv[3] = (char *)(uintptr_t)"bs=1M";
	argv[4] = count;
	argv[5] = (char *)(uintptr_t)"conv=fsync";
	argv[6] = NULL;
	t0 = cf_mono_ns();
	if (posix_spawnp(&pid, "dd", NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	t0 = cf_mono_ns() - t0;
	(void)unlink(of + 3);
	return (double)(mib << 20) / ((double)t0 / 1e9) / 1e6;
}

int
main(int argc, char **argv)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;
	struct cf_error		 err = { 0 };
	char			 id[CF_BLOB_ID_LEN + 1];
	uint8_t			*piece;
	uint64_t		 mib = 1024, total, off, t0, ns, v;
	size_t			 plen = 65536, i;
	long			 rss0;
	bool			 buffered = false, direct;
	double			 mbs, ddmbs;
	int			 ch;

	while ((ch = getopt(argc, argv, "bn:p:")) != -1) {
		switch (ch) {
		case 'b':
			buffered = true;
			break;
		case 'n':
			if (cf_parse_u64(optarg, 1, 1 << 20, &mib, NULL) !=
			    CF_OK)
				goto usage;
			break;
		case 'p':
			if (cf_parse_u64(optarg, 1, 64 << 20, &v, NULL) !=
			    CF_OK)
				goto usage;
			plen = (size_t)v;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	if (cf_crypto_init(&err) != CF_OK ||
	    cf_blobstore_open(argv[optind], &bs, &err) != CF_OK) {
		fprintf(stderr, "blob_write_bench: %s\n", err.msg);
		return 1;
	}
	cf_blob_test_no_direct(buffered);
	piece = malloc(plen);
	if (piece == NULL)
		return 1;
	for (i = 0; i < plen; i++)
		piece[i] = (uint8_t)(i * 131 + 7);	/* incompressible enough */

	total = mib << 20;
	rss0 = cur_rss_kib();
	t0 = cf_mono_ns();
	if (cf_blob_create(bs, &w, &err) != CF_OK)
		goto fail;
	direct = cf_blob_writer_direct(w);
	for (off = 0; off < total; off += plen) {
		if (cf_blob_write(w, piece, total - off < plen ?
		    (size_t)(total - off) : plen, &err) != CF_OK) {
			cf_blob_abort(w);
			goto fail;
		}
	}
	if (cf_blob_commit(w, id, &err) != CF_OK)
		goto fail;
	ns = cf_mono_ns() - t0;
	mbs = (double)total / ((double)ns / 1e9) / 1e6;
	(void)cf_blob_delete(bs, id, NULL);

	ddmbs = run_dd(argv[optind], mib);
	printf("blob_write_bench: %llu MiB in %zu-byte pieces, %s, "
	    "buffer %zu KiB\n", (unsigned long long)mib, plen,
	    direct ? "O_DIRECT" : "buffered", cf_blob_buffer_size() >> 10);
	printf("  cf_blob_write+commit: %8.1f MB/s  %6.2f s  "
	    "RSS before %ld KiB, peak %ld KiB\n", mbs, (double)ns / 1e9,
	    rss0, peak_rss_kib());
	if (ddmbs > 0)
		printf("  dd bs=1M conv=fsync:  %8.1f MB/s\n", ddmbs);
	else
		printf("  dd: failed to run\n");
	free(piece);
	cf_blobstore_close(bs);
	return 0;
fail:
	fprintf(stderr, "blob_write_bench: %s\n", err.msg);
	return 1;
usage:
	fprintf(stderr, "usage: blob_write_bench [-b] [-n MiB] [-p bytes] "
	    "DIR\n");
	return 2;
}
