/* src/audit/audit.h: the tamper-evident audit log.
 *
 * One JSON line per request, allowed or denied.  Each record carries the
 * HMAC-SHA256 of its predecessor ("prev") and its own MAC ("mac") over its
 * canonical bytes, keyed by a key derived from the master key, so editing,
 * deleting, inserting or reordering records breaks the chain.  A signed
 * (MAC'ed) checkpoint file, rewritten in place in every group commit
 * before its appenders are released, names the last acknowledged record,
 * so truncating the tail is detected too.
 * Format, fsync policy and the exact guarantee: docs/internals/AUDIT.md.
 *
 * SEC: cf_audit_append() returns only once the record is durable
 * (fdatasync); concurrent appenders share one fdatasync (group commit).  If
 * the log cannot be written, every later append fails too (the log is
 * "broken") so that the server fails closed: until restarted after a
 * failed fdatasync or checkpoint write; after a write that failed for
 * lack of space (ENOSPC, EDQUOT, EFBIG), only until an append at least a
 * second later finds room again (the failed records are then written
 * under their own seq, followed by an "audit:recover" record). */
#ifndef CF_AUDIT_AUDIT_H
#define CF_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "crypto/crypto.h"

struct cf_audit;

/* One request.  All strings are NUL-terminated, may be empty (NULL is
 * taken as ""), and are untrusted: the writer escapes them (JSON; invalid
 * UTF-8 becomes U+FFFD).  time_us 0 means "now".  Fields longer than the
 * writer's per-field limit (1024 bytes; the resource 2048) are truncated
 * with a "..." marker, never rejected, so an attacker cannot avoid being
 * logged by sending a huge value. */
struct cf_audit_rec {
	int64_t		 time_us;
	const char	*request_id;
	const char	*principal;	/* "" when unauthenticated */
	const char	*authn;		/* "token" | "none" | "bad-token" ... */
	bool		 mfa;
	const char	*source;	/* client address */
	const char	*action;	/* e.g. "object:get" */
	const char	*resource;	/* e.g. "ns/prod-fraud/obj/model.bin" */
	const char	*decision;	/* "allow" | "deny" */
	const char	*reasons;	/* deciding roles/policies,
					 * comma-sep. */
	int		 status;	/* HTTP status sent */
	const char	*result;	/* "ok" or an error code name */
	uint64_t	 bytes;		/* body bytes in or out */
	/* The inputs of a policy decision, enough to decide it again
	 * (`coffer policy replay`): a JSON object written as the member
	 * "ctx" (NULL: no member, as in records of older versions).  Its
	 * strings must be valid UTF-8 (jansson's); an object longer than
	 * 8 KiB is written as {"truncated":true}. */
	const json_t	*ctx;
	/* The same, already written as a JSON object (ctx_len bytes, its
	 * strings escaped by cf_audit_json_string), used when ctx is NULL:
	 * the monitor writes a decision's context without building it. */
	const char	*ctx_text;
	size_t		 ctx_len;
};

/* Append s (a C string) to b as a JSON string, escaped as every string
 * of a record is: exactly as jansson's json_dumps with
 * JSON_ENSURE_ASCII, and DEL as \u007F.  CF_E_INVAL when s is not
 * UTF-8 (where jansson's json_string would fail too). */
struct cf_buf;
cf_err	cf_audit_json_string(struct cf_buf *b, const char *s,
	    struct cf_error *err);

/* Open or create the log in dir (DIR/audit/: audit.log, checkpoint).
 * mac_key is copied.  On open the tail is checked against the checkpoint
 * and the chain's last MAC is recovered; a torn last line from a crash
 * (never acknowledged) is truncated away and reported in the log. */
cf_err	cf_audit_open(const char *dir, const struct cf_key *mac_key,
	    struct cf_audit **out, struct cf_error *err);
void	cf_audit_close(struct cf_audit *a);

/* Append one record and wait until it is durable.  Thread-safe; assigns
 * seq.  Fails with CF_E_IO while the log is broken (see above). */
cf_err	cf_audit_append(struct cf_audit *a, const struct cf_audit_rec *rec,
	    uint64_t *seq, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* Asynchronous appends, for an event-driven front end.  set_notify starts
 * a thread that calls fn(arg, durable_seq, broken) after every commit
 * (from that thread, with no lock of the log held) and commits submitted
 * records; set it once, before the first submit.  submit queues a record
 * (seq assigned, the chain fixed) and returns at once: SEC: the caller
 * must not act on the request until cf_audit_state(seq) is 1 (durable);
 * -1 means the log broke and the record may never be durable. */
typedef void	(*cf_audit_notify_fn)(void *arg, uint64_t durable_seq,
		    bool broken);
cf_err	cf_audit_set_notify(struct cf_audit *a, cf_audit_notify_fn fn,
	    void *arg, struct cf_error *err);
/* End the notifier, once every submitted record is durable (or the log
 * is broken): no call of fn after this returns. */
void	cf_audit_stop_notify(struct cf_audit *a);
cf_err	cf_audit_submit(struct cf_audit *a, const struct cf_audit_rec *rec,
	    uint64_t *seq, struct cf_error *err)
	    __attribute__((warn_unused_result));
int	cf_audit_state(struct cf_audit *a, uint64_t seq);
/* cf_audit_submit for a record nobody waits for (the completion record
 * of a request already answered): sealed and queued the same way, but a
 * batch of such records alone is written without its fdatasync and
 * checkpoint, which the next commit does, at the latest AUDIT_LATER_MS
 * later (audit_int.h; docs/internals/AUDIT.md). */
cf_err	cf_audit_submit_later(struct cf_audit *a,
	    const struct cf_audit_rec *rec, uint64_t *seq,
	    struct cf_error *err) __attribute__((warn_unused_result));

/* Test hooks.  While held, no group commit starts (records queue up;
 * appenders wait); releasing lets the next leader take them all as one
 * batch.  test_queue: records sealed and not yet taken by a leader, and
 * whether a leader is gathering (waiting for more, the commit delay). */
void	cf_audit_test_hold(struct cf_audit *a, bool hold);
void	cf_audit_test_queue(struct cf_audit *a, uint64_t *pending,
	    bool *gathering);

/* Read records with seq > after_seq, oldest first, at most limit (0: no
 * limit), as parsed JSON objects (the lines as written; MACs are not
 * checked here).  rec is borrowed for the call (json_incref to keep it).
 * cb returns non-OK to stop; that code is returned.  With tail != 0, the
 * last `tail` records instead (after_seq and limit are then ignored).
 * Neither mode reads the whole file. */
/* The most records one read returns through the API (GET /v1/audit
 * limit= and tail=); `coffer audit tail` pages beyond it. */
#define CF_AUDIT_PAGE_MAX	10000
typedef cf_err (*cf_audit_cb)(void *arg, json_t *rec, struct cf_error *err);
cf_err	cf_audit_read(const char *dir, uint64_t after_seq, size_t limit,
	    size_t tail, cf_audit_cb cb, void *arg, struct cf_error *err);

/* Offline verification of DIR/audit with the key derived from the master
 * key.  On success *count is the number of records.  On a broken chain it
 * returns CF_E_INTEGRITY, writes the first bad record's seq (its line
 * number; 0 when the checkpoint itself is bad or missing) to *bad_seq and
 * says why in err->msg ("record 17: mac mismatch (edited or forged?)",
 * "record 9: seq 11 follows 8 (deleted, inserted or reordered?)", "log
 * ends at 120 but checkpoint says 130 (truncated?)").  CF_E_NOTFOUND if
 * there is no log at all. */
cf_err	cf_audit_verify(const char *dir, const struct cf_key *mac_key,
	    uint64_t *count, uint64_t *bad_seq, struct cf_error *err)
	    __attribute__((warn_unused_result));

/* The same check of the log a running writer a keeps in dir, with its
 * keys (the master key is not needed), and what the writer knows: for
 * the posture check.  CF_OK with *st filled when the chain and the
 * checkpoint verify; CF_E_INTEGRITY (st->bad_seq, err->msg as above)
 * when they do not; other codes when the files cannot be read.  Reads
 * the whole log, as `coffer audit verify` does. */
struct cf_audit_status {
	uint64_t	records;	/* records verified */
	uint64_t	bad_seq;	/* CF_E_INTEGRITY: the first bad one */
	uint64_t	durable_seq;	/* the writer's last durable record,
					 * read before the files */
	uint64_t	ckpt_seq;	/* the checkpoint on disk */
	int64_t		ckpt_time_us;	/* its time; 0: none */
	bool		broken;		/* the writer refuses appends */
};
cf_err	cf_audit_verify_live(struct cf_audit *a, const char *dir,
	    struct cf_audit_status *st, struct cf_error *err)
	    __attribute__((warn_unused_result));

#endif
