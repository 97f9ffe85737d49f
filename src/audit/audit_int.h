/* src/audit/audit_int.h: shared between the files of src/audit and its
 * tests and fuzzer; other modules never include it.
 *
 * The record format, the MAC rule and the checkpoint are specified in
 * docs/internals/AUDIT.md; the constants below are that specification. */
#ifndef CF_AUDIT_AUDIT_INT_H
#define CF_AUDIT_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit/audit.h"
#include "base/buf.h"

#define AUDIT_DIR		"audit"
#define AUDIT_LOG		"audit.log"
#define AUDIT_CKPT		"checkpoint"
#define AUDIT_CKPT_TMP		"checkpoint.tmp"

/* Per-field limits of the writer (bytes of the value after UTF-8 repair,
 * "..." marker included), see audit.h. */
#define AUDIT_FIELD_MAX		1024
#define AUDIT_RESOURCE_MAX	2048
#define AUDIT_CTX_MAX		8192	/* bytes of the "ctx" member */
/* The longest line the writer can produce is about 62 KiB (every byte of
 * every field escaped as \uXXXX); readers refuse lines above this. */
#define AUDIT_LINE_MAX		(128 * 1024)
#define AUDIT_CKPT_MAX		1024
/* The checkpoint as rewritten in place: its line, then NULs up to one
 * sector (the line is at most ~220 bytes). */
#define AUDIT_CKPT_SLOT		512
#define AUDIT_MAC_HEX		(2 * CF_MAC_LEN)

/* HKDF labels: the record key and the checkpoint key are derived from the
 * audit key given to cf_audit_open / cf_audit_verify. */
#define AUDIT_LABEL_REC		"coffer audit record v1"
#define AUDIT_LABEL_CKPT	"coffer audit checkpoint v1"

/* Group commits in flight at once (each one write + fdatasync), and the
 * most cf_audit_set_flushers accepts.  More than one was measured not to
 * pay on this machine (smaller batches, more syncs; AUDIT.md), so all
 * waiting appends share one commit by default. */
#define AUDIT_FLUSHERS		1
#define AUDIT_FLUSHERS_MAX	4
/* Default longest wait of a group-commit leader for more records. */
#define AUDIT_COMMIT_DELAY_US	200
/* Records nobody waits for (cf_audit_submit_later), written ahead of
 * their fdatasync, are made durable by the next commit, at the latest
 * this long after the first of them was written. */
#define AUDIT_LATER_MS		50

struct audit_keys {
	struct cf_key	*rec;
	struct cf_key	*ckpt;
};

/* Derive both keys from the audit key; on failure nothing is allocated. */
cf_err	cf_audit_keys_derive(const struct cf_key *mac_key,
	    struct audit_keys *out, struct cf_error *err);
void	cf_audit_keys_free(struct audit_keys *k);

/* --- record.c: writing ------------------------------------------------ */

/* Append the fields of rec after seq and before prev to b:
 * "time":"..","request_id":"..",..,"bytes":N (no braces).  Strings are
 * repaired (invalid UTF-8 -> U+FFFD), truncated ("...") and escaped to
 * ASCII JSON. */
cf_err	cf_audit_format_body(const struct cf_audit_rec *rec, struct cf_buf *b,
	    struct cf_error *err);

/* The same in one pass, without allocating, for the append path: the
 * string fields of a record (request_id .. result, in the order of the
 * format), what cf_audit_body_max says the body may take at most (flen
 * receives each field's length as looked at), then cf_audit_body_write
 * writes it to out (that many bytes) and returns its length.  A ctx
 * given as a jansson object (rec->ctx) is not written: the caller uses
 * cf_audit_format_body for those. */
#define AUDIT_NFIELDS		9
size_t	cf_audit_body_max(const struct cf_audit_rec *rec,
	    size_t flen[AUDIT_NFIELDS]);
size_t	cf_audit_body_write(const struct cf_audit_rec *rec,
	    const size_t flen[AUDIT_NFIELDS], char *out);

/* Repair and truncate one untrusted string: writes at most limit bytes of
 * well-formed UTF-8 to out (capacity >= limit) and returns the length.
 * limit must be >= 4. */
size_t	cf_audit_sanitize(const char *s, size_t limit, char *out);
/* Append s[0..n) (well-formed UTF-8 without NUL, as cf_audit_sanitize
 * makes it) as a JSON string, escaped exactly as jansson's json_dumps
 * with JSON_ENSURE_ASCII does, and DEL as \u007F. */
cf_err	cf_audit_json_str(struct cf_buf *b, const char *s, size_t n,
	    struct cf_error *err);
/* Both at once: cf_audit_field_max returns the most bytes the escaped
 * string s (its quotes included) can take with this limit and sets *n
 * to the bytes of s looked at (strnlen(s, limit + 8)); then
 * cf_audit_field_write(s, *n, limit, out) writes exactly what
 * cf_audit_sanitize followed by cf_audit_json_str would, and returns
 * its length. */
size_t	cf_audit_field_max(const char *s, size_t limit, size_t *n);
size_t	cf_audit_field_write(const char *s, size_t n, size_t limit,
	    char *out);

/* MAC of a record or checkpoint: HMAC-SHA256(k, p[0..n) || "}"), where
 * p[0..n) is the line up to (excluding) its final ,"mac":"..." or
 * ,"sig":"..." member. */
cf_err	cf_audit_mac_canon(const struct cf_key *k, const void *p, size_t n,
	    uint8_t out[CF_MAC_LEN], struct cf_error *err);
/* The same with a keyed handle, left ready for the next MAC
 * (cf_hmac_final_reset): no allocation, no key set-up per record.  The
 * caller serializes the handle's users. */
void	cf_audit_mac_keyed(struct cf_hmac *h, const void *p, size_t n,
	    uint8_t out[CF_MAC_LEN]);

/* Append one sealed line to b: {"seq":seq,body,"prev":"hex","mac":"hex"}
 * and a newline; *mac receives the record's MAC.  h is the record key's
 * handle.  On failure b is as it was. */
cf_err	cf_audit_seal(struct cf_hmac *h, uint64_t seq, const char *body,
	    size_t bodylen, const uint8_t prev[CF_MAC_LEN], struct cf_buf *b,
	    uint8_t mac[CF_MAC_LEN], struct cf_error *err);

/* --- verify.c: checking ---------------------------------------------- */

struct audit_line {
	uint64_t	seq;
	uint8_t		prev[CF_MAC_LEN];
	uint8_t		mac[CF_MAC_LEN];
};

/* Check one line (without its newline): MAC first, then the JSON shape
 * (members, order, types).  On failure returns CF_E_INTEGRITY and points
 * *why at a static reason ("mac mismatch (edited or forged?)", ...); err
 * is not touched so that callers can prefix the record number. */
cf_err	cf_audit_check_line(const struct cf_key *rec_key, const char *line,
	    size_t len, struct audit_line *out, const char **why);

struct audit_ckpt {
	uint64_t	seq;
	uint8_t		mac[CF_MAC_LEN];	/* of record seq; zeros for 0 */
	int64_t		time_us;
};

/* Format / parse-and-authenticate a checkpoint file's content (NULs
 * after its newline, the in-place padding, are ignored). */
cf_err	cf_audit_ckpt_format(const struct cf_key *ckpt_key,
	    const struct audit_ckpt *c, struct cf_buf *b, struct cf_error *err);
/* The checkpoint's line (newline included) into out, with the checkpoint
 * key's handle h (cf_audit_mac_keyed); returns its length, at most
 * AUDIT_CKPT_LINE_MAX. */
#define AUDIT_CKPT_LINE_MAX	256
size_t	cf_audit_ckpt_text(struct cf_hmac *h, const struct audit_ckpt *c,
	    char out[AUDIT_CKPT_LINE_MAX]);
cf_err	cf_audit_ckpt_parse(const struct cf_key *ckpt_key, const void *p,
	    size_t len, struct audit_ckpt *out, struct cf_error *err);

/* The verifier of cf_audit_verify over memory: log[0..loglen) is the
 * content of audit.log; ckpt is the content of the checkpoint file or NULL
 * when there is none.  Same results as cf_audit_verify (for the fuzzer and
 * the tests). */
cf_err	cf_audit_verify_buf(const struct cf_key *mac_key, const void *log,
	    size_t loglen, const void *ckpt, size_t ckptlen, uint64_t *count,
	    uint64_t *bad_seq, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* cf_audit_verify with the derived keys (keys, borrowed) or, when keys
 * is NULL, keys derived from mac_key; ck_out (nullable) gets the
 * checkpoint the verification was checked against (on success). */
cf_err	cf_audit_verify_keys(const char *dir, const struct cf_key *mac_key,
	    const struct audit_keys *keys, uint64_t *count, uint64_t *bad_seq,
	    struct audit_ckpt *ck_out, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* --- tail.c: reading files ------------------------------------------- */

/* A buffered reader of the lines of fd from offset off. */
struct audit_lr {
	int	 fd;
	off_t	 off;		/* file offset of buf[len] */
	char	*buf;
	size_t	 cap, pos, len;
	bool	 eof;
};

cf_err	cf_audit_lr_init(struct audit_lr *lr, int fd, off_t off,
	    struct cf_error *err);
/* Next line without its newline in *line, *len (borrowed until the next
 * call); *line is NULL at the end.  A final fragment without a newline is
 * returned with *nl false.  Lines over AUDIT_LINE_MAX: CF_E_INPUT. */
cf_err	cf_audit_lr_next(struct audit_lr *lr, const char **line, size_t *len,
	    bool *nl, struct cf_error *err);
void	cf_audit_lr_free(struct audit_lr *lr);

/* Offset just past the last newline in fd[0..size) (0 if none). */
cf_err	cf_audit_find_end(int fd, off_t size, off_t *end,
	    struct cf_error *err);
/* Start of the last n lines of fd[0..end), where end is 0 or just past a
 * newline (0 if there are fewer than n lines). */
cf_err	cf_audit_find_start(int fd, off_t end, size_t n, off_t *start,
	    struct cf_error *err);

/* Read the small file name in dirfd whole (at most max + 1 bytes are read,
 * so a caller sees an oversized file), NUL-terminated; *p is NULL and the
 * result CF_OK when the file does not exist.  Free *p with cf_free. */
cf_err	cf_audit_read_small(int dirfd, const char *name, size_t max, char **p,
	    size_t *len, struct cf_error *err);

/* --- audit.c: test hooks and tuning ---------------------------------- */

enum audit_fail {
	AUDIT_FAIL_NONE = 0,
	AUDIT_FAIL_WRITE,	/* the next write(2) fails with ENOSPC */
	AUDIT_FAIL_SHORT,	/* writes half the batch, then ENOSPC */
	AUDIT_FAIL_SYNC,	/* the next fdatasync(2) fails with EIO */
	AUDIT_FAIL_CKPT		/* the next commit's checkpoint write fails */
};

/* Test hook: make the next log write / sync / checkpoint fail. */
void	cf_audit_test_fail(struct cf_audit *a, enum audit_fail what);

/* The monotonic clock (nanoseconds) of the commit delay, the commit
 * timing and the retry of a full disk; NULL: the real one (cf_mono_ns).
 * Tests inject one so that nothing they check depends on wall time.
 * fn is called with the log's mutex held: it must not call back. */
typedef uint64_t	(*cf_audit_clock_fn)(void *arg);
void	cf_audit_set_clock(struct cf_audit *a, cf_audit_clock_fn fn,
	    void *arg);

/* cf_audit_test_hold and cf_audit_test_queue are in audit.h (the
 * server's test hook uses them too). */

/* How many group commits may be in flight at once (1..4). */
void	cf_audit_set_flushers(struct cf_audit *a, unsigned n);

/* Longest time a commit leader waits for more records (0: never). */
void	cf_audit_set_commit_delay(struct cf_audit *a, uint64_t us);

/* Histogram buckets of the statistics (upper bounds; one more bucket
 * above the last): a commit's duration in seconds, and its records. */
static const double audit_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define AUDIT_NLE	(sizeof(audit_le) / sizeof(audit_le[0]))
static const double audit_batch_le[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256,
	512, 1024 };
#define AUDIT_NBATCH	(sizeof(audit_batch_le) / sizeof(audit_batch_le[0]))

/* The bucket of a duration of ns nanoseconds. */
static inline size_t
audit_le_idx(uint64_t ns)
{
	double	s = (double)ns / 1e9;
	size_t	i;

	for (i = 0; i < AUDIT_NLE && s > audit_le[i]; i++)
		;
	return i;
}

struct audit_stats {
	uint64_t	appends;	/* records made durable */
	uint64_t	commits;	/* write + fdatasync rounds */
	uint64_t	ckpts;		/* checkpoint writes */
	uint64_t	deferred;	/* batches written ahead */
	uint64_t	commit_ns;	/* sum of the commits' durations */
	uint64_t	commit_b[AUDIT_NLE + 1];	/* by duration */
	uint64_t	batch_b[AUDIT_NBATCH + 1];	/* by records */
};
void	cf_audit_get_stats(struct cf_audit *a, struct audit_stats *st);

#endif
