/* src/store/store_int.h: shared within src/store and its unit tests only;
 * other modules never include it.
 *
 * Test hooks for fault injection into the filesystem blob store (STYLE.md
 * section 7: short write, ENOSPC, failed fsync) and a few probes the unit
 * tests use to check internal state.  The hooks are process-global and
 * thread-unsafe by design: unit tests only. */
#ifndef CF_STORE_STORE_INT_H
#define CF_STORE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "store/blob.h"
#include "store/meta.h"

/* Which system call of blob_fs.c a fault is injected into. */
enum cf_blob_fault {
	CF_BLOB_FAULT_WRITE = 0,	/* write(2) of blob data */
	CF_BLOB_FAULT_SHORT,		/* write(2) writes half, no error */
	CF_BLOB_FAULT_FSYNC,		/* fsync(2) of the blob or directory */
	CF_BLOB_FAULT_RENAME,		/* rename into place */
	CF_BLOB_FAULT_OPEN,		/* open(2) of the temporary file */
	CF_BLOB_FAULT__COUNT
};

/* The after-th call (after >= 1) of kind op from now fails with errnum
 * (for CF_BLOB_FAULT_SHORT: transfers only half its bytes); after 0
 * disarms op. */
void	cf_blob_test_fail_io(enum cf_blob_fault op, unsigned int after,
	    int errnum);
/* Disarm every injected fault. */
void	cf_blob_test_reset_faults(void);
/* With on, never try O_DIRECT (exercises the buffered-write path). */
void	cf_blob_test_no_direct(bool on);
/* Whether w currently writes with O_DIRECT. */
bool	cf_blob_writer_direct(const struct cf_blob_writer *w);
/* Size of the writer's reused buffer (bytes). */
size_t	cf_blob_buffer_size(void);

/* Number of SQLite connections the pool has open. */
size_t	cf_meta_test_conn_count(struct cf_meta *m);
/* Statements of a kind run so far, process-wide: "ns" (namespace
 * records), "attrs", "labels", "role" (role settings), "bindings" (of
 * one principal). */
unsigned long cf_meta_test_reads(const char *what);
/* The decision cache's generation (tests: a change moves it). */
uint64_t cf_meta_test_cache_gen(struct cf_meta *m);
/* The SQL cf_meta_binding_list runs for these arguments (for query-plan
 * checks). */
const char *cf_meta_test_binding_list_sql(int64_t principal_id,
	    const char *ns);

#endif
