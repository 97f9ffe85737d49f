/* src/store/blob.h: the blob store: opaque ciphertext blobs under random
 * ids.  The embedded default keeps them as files under DIR/blobs/ab/<id>
 * (blob_fs.c); an S3 backend will implement the same functions later.
 *
 * Blobs are only ever ciphertext (src/crypto/aead.h): the store never
 * sees plaintext or keys.  A blob becomes visible under its id only when
 * committed (written, fsync'ed, renamed, directory fsync'ed), so a crash
 * leaves at most a temporary file, which cf_blobstore_open() removes. */
#ifndef CF_STORE_BLOB_H
#define CF_STORE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/meta.h"

struct cf_blobstore;
struct cf_blob_writer;
struct cf_blob_reader;

/* Open (creating dir/blobs and dir/blobs/tmp as needed) and remove any
 * stale temporary files left by a crash. Safe for many threads. */
cf_err	cf_blobstore_open(const char *dir, struct cf_blobstore **out,
	    struct cf_error *err);
void	cf_blobstore_close(struct cf_blobstore *bs);
/* The budget the store's writers and sequential readers take their
 * buffers from (borrowed: must outlive the store; set before the first
 * writer).  Without one (NULL, the default) buffers are unbounded.  When
 * the budget has no room a writer goes on without buffers and a
 * sequential reader is a plain one: slower, never failed for it. */
struct cf_membudget;
void	cf_blobstore_set_budget(struct cf_blobstore *bs,
	    struct cf_membudget *mb);

/* Start a new blob with a fresh random id. */
cf_err	cf_blob_create(struct cf_blobstore *bs, struct cf_blob_writer **out,
	    struct cf_error *err);
/* Append; signature matches cf_sink_fn (arg = the writer).  Writes go
 * through one or two buffers of the budget (around the page cache) or,
 * without room in it, straight through the page cache, written back as
 * they go: either way a long upload does not grow the page cache. */
cf_err	cf_blob_write(void *w, const void *p, size_t len,
	    struct cf_error *err);
/* Make the blob durable and visible; writes its id.  The writer is freed
 * whatever the outcome (on failure the temporary data is removed). */
cf_err	cf_blob_commit(struct cf_blob_writer *w,
	    char id[CF_BLOB_ID_LEN + 1], struct cf_error *err);
/* Discard the blob and its temporary data; NULL is a no-op. */
void	cf_blob_abort(struct cf_blob_writer *w);

/* CF_E_NOTFOUND if no such blob; CF_E_INPUT for a malformed id. */
cf_err	cf_blob_open(struct cf_blobstore *bs, const char *id,
	    struct cf_blob_reader **out, struct cf_error *err);
/* As cf_blob_open, for a blob that should be expect bytes: one of at
 * most that many is read whole now (one open, one read, one close, and no
 * descriptor kept: a small download's), and reads come from memory.  A
 * longer one gets cf_blob_open's reader (whose size the caller refuses),
 * as does any expect over CF_BLOB_WHOLE_MAX. */
#define CF_BLOB_WHOLE_MAX	(64u * 1024 + 64)
cf_err	cf_blob_open_whole(struct cf_blobstore *bs, const char *id,
	    size_t expect, struct cf_blob_reader **out, struct cf_error *err);
/* As cf_blob_open, for one pass front to back (a multipart completion
 * copies its parts): reads go around the page cache (O_DIRECT where the
 * filesystem allows it) in aligned blocks of cf_blob_block_size()
 * bytes, and a thread of the reader's own reads the next block while the
 * caller uses this one; the first is asked for at once.  Holds two such
 * buffers and a thread until cf_blob_close.
 * cf_blob_pread works at any offset, but a read out of order costs a
 * block.  Without a thread, O_DIRECT or room in the budget for the
 * blocks (then it is the plain reader) it still works, only slower. */
cf_err	cf_blob_open_seq(struct cf_blobstore *bs, const char *id,
	    struct cf_blob_reader **out, struct cf_error *err);
/* Bytes of one block of a sequential reader, at most (1 MiB; 256 KiB
 * when the budget is busy). */
size_t	cf_blob_block_size(void);
uint64_t cf_blob_size(const struct cf_blob_reader *r);
/* Exactly len bytes at off; matches cf_pread_fn (arg = the reader).
 * Reading past the end is CF_E_INTEGRITY (the blob is shorter than its
 * metadata says). */
cf_err	cf_blob_pread(void *r, void *buf, size_t len, uint64_t off,
	    struct cf_error *err);
void	cf_blob_close(struct cf_blob_reader *r);

/* Remove a committed blob and fsync its directory, so the removal
 * survives a crash.  CF_E_NOTFOUND if absent; CF_E_IO if the unlink or
 * the fsync failed (after a failed fsync the name is gone, but may come
 * back after a crash). */
cf_err	cf_blob_delete(struct cf_blobstore *bs, const char *id,
	    struct cf_error *err);

/* --- orphan sweep ---
 * A crash between a blob's commit and its version row (or between a
 * namespace's deletion and the removal of its blobs) leaves a committed
 * blob that no version references.  cf_blob_sweep finds such orphans and
 * removes them: docs/internals/STORE.md, "Orphan sweep". */

#define CF_BLOB_SWEEP_BATCH	32	/* blobs per refs/reclaim call: the
					 * ids of one batch fit in one audit
					 * record's resource (core.h,
					 * CF_RESOURCE_MAX) */

/* Which of ids[0..n-1] some version row references: ref[i] = true for
 * each that is.  SEC: any non-OK return stops the sweep, and nothing of
 * the batch is removed. */
typedef cf_err (*cf_blob_refs_fn)(void *arg,
    const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n, bool *ref,
    struct cf_error *err);
/* Called with the n orphans (bytes in all) about to be removed, before
 * any of them is (the audit record).  SEC: a non-OK return stops the
 * sweep and none of them is removed. */
typedef cf_err (*cf_blob_reclaim_fn)(void *arg,
    const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n, uint64_t bytes,
    struct cf_error *err);

struct cf_blob_sweep {
	/* in */
	int64_t			 now_s;		/* the time, seconds since
						 * the epoch (injected) */
	int64_t			 grace_s;	/* only blobs committed at
						 * least this long ago */
	bool			 try_alone;	/* see cf_blob_sweep */
	uint64_t		 max_scan;	/* stop after the shard in
						 * which this many blobs were
						 * examined; 0: no limit */
	cf_blob_refs_fn		 refs;
	cf_blob_reclaim_fn	 reclaim;
	void			*arg;
	/* in and out: the shard (0-255) to start at; on return the next
	 * one to examine, CF_BLOB_SHARDS when the pass is complete. */
	unsigned int		 shard;
	/* out: whether this call had the store to itself (try_alone) */
	bool			 alone;
	/* out, added to (start them at 0) */
	uint64_t		 scanned;	/* blobs examined */
	uint64_t		 young;		/* skipped: inside the grace */
	uint64_t		 removed;	/* orphans removed */
	uint64_t		 bytes;		/* their size */
};
#define CF_BLOB_SHARDS		256

/* Examine the committed blobs from shard sw->shard on, in batches of up
 * to CF_BLOB_SWEEP_BATCH (across shards): blobs whose commit (file
 * ctime) is at least sw->grace_s before sw->now_s go to sw->refs; those
 * it does not mark as referenced go to sw->reclaim, and then are removed
 * (each shard directory touched fsync'ed once per batch).  Names that
 * are not blob ids, and anything but regular files, are never touched.
 *
 * try_alone: first try to take the store's lock exclusively; if no other
 * store in any process has the directory open, no upload can be in
 * flight, and the grace is not applied (sw->alone says so).  SEC: only
 * for a store that has no writer yet (start-up, before serving): taking
 * and giving back the lock briefly releases this store's shared lock.
 *
 * Returns the first error of refs, reclaim or the filesystem; the sweep
 * stops there, and sw->shard names the shard to retry. */
cf_err	cf_blob_sweep(struct cf_blobstore *bs, struct cf_blob_sweep *sw,
	    struct cf_error *err);

#endif
