/* src/store/meta_int.h: what meta_sqlite.c shares with the other SQLite
 * parts of the metadata store (meta_artifact.c).  Store-internal: no
 * other module includes it.
 *
 * A connection comes from the pool inside a transaction: a write one
 * (meta_int_wtx_begin; the change then commits with its audit record in
 * meta_int_wtx_end, or rolls back) or a read one (meta_int_rtx_begin,
 * joining the thread's read scope if one is open). */
#ifndef CF_STORE_META_INT_H
#define CF_STORE_META_INT_H

#include <sqlite3.h>

#include "store/meta.h"

struct conn;

sqlite3	*meta_int_db(struct conn *c);
/* A statement kept prepared on c for the next call with the same sql (a
 * literal: the pointer is the key, the text confirms it); give it back
 * with meta_int_unprep before the connection, never sqlite3_finalize. */
cf_err	 meta_int_prep(struct conn *c, const char *sql, sqlite3_stmt **out,
	    struct cf_error *err);
void	 meta_int_unprep(struct conn *c, sqlite3_stmt *st);
/* meta_int_prep, then bind fmt's arguments in order: 't' text, 'b' a
 * string bound as a blob (both: NULL binds SQL NULL), 'i' int64. */
cf_err	 meta_int_prep_bind(struct conn *c, sqlite3_stmt **out,
	    struct cf_error *err, const char *sql, const char *fmt, ...);
cf_err	 meta_int_db_err(struct conn *c, int src, struct cf_error *err,
	    const char *what);
cf_err	 meta_int_wtx_begin(struct cf_meta *m, const struct cf_meta_audit *au,
	    struct conn **out, struct cf_error *err);
/* With rc CF_OK: record and commit; else roll back.  Returns the
 * outcome and gives the connection back. */
cf_err	 meta_int_wtx_end(struct cf_meta *m, struct conn *c,
	    const struct cf_meta_audit *au, cf_err rc, struct cf_error *err);
cf_err	 meta_int_rtx_begin(struct cf_meta *m, struct conn **out,
	    struct cf_error *err);
void	 meta_int_rtx_end(struct cf_meta *m, struct conn *c);
/* A TEXT or BLOB column into dst[cap] (CF_E_INTEGRITY if it does not
 * fit or holds NUL). */
cf_err	 meta_int_col_str(sqlite3_stmt *st, int i, char *dst, size_t cap,
	    struct cf_error *err);

/* meta_artifact.c's commit of an artifact version, in c's write
 * transaction (cf_meta_art_push without the transaction). */
cf_err	 meta_int_art_push_on(struct conn *c, struct cf_art_rec *v,
	    const struct cf_art_file *files, size_t nfiles,
	    const int64_t (*src)[2], size_t nsrc, struct cf_error *err);

/* meta_versioning.c: in c's write transaction, right after version seq
 * of (ns_id, key) was inserted: its place in S3's view.  When the
 * namespace is not 'enabled' the version is the null one (s3_null 1:
 * unversioned, 2: suspended) and the null version before it leaves
 * S3's view (s3_hidden); its row stays.  *kind (nullable): 0, 1 or 2. */
cf_err	 meta_int_s3_view_on(struct conn *c, int64_t ns_id,
	    const uint8_t *key, size_t klen, int64_t seq, int *kind,
	    struct cf_error *err);
#endif
