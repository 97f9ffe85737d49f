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

/* Start a new blob with a fresh random id. */
cf_err	cf_blob_create(struct cf_blobstore *bs, struct cf_blob_writer **out,
	    struct cf_error *err);
/* Append; signature matches cf_sink_fn (arg = the writer).  Writes go
 * through a reused, aligned buffer so a long upload does not grow the page
 * cache (issue 2, item 11). */
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

#endif
