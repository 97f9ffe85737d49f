/* src/core/orphans.c: reclaiming orphan blobs, and the crash test hook.
 *
 * An orphan is a committed blob that no version row references: the
 * upload path commits the blob before it writes the version row
 * (ops_object.c), and a namespace deletion removes its rows before its
 * blobs, so a crash in between leaves one.  The sweep (blob.h,
 * cf_blob_sweep) finds them; here it is given the metadata's answer and
 * the audit record, and run:
 *
 *   - at start-up, before serving: one bounded step (ORPHAN_STEP blobs
 *     examined).  If no other server has the data directory open, no
 *     upload can be in flight anywhere, so every orphan goes whatever its
 *     age;
 *   - then every orphan_interval seconds on a thread of its own, a whole
 *     pass in steps of ORPHAN_STEP (a pass the start-up step left
 *     unfinished continues at once), taking only orphans older than
 *     orphan_grace.
 *
 * SEC: every removal is recorded first, one record per batch of up to
 * CF_BLOB_SWEEP_BATCH blobs (action blob:reclaim, principal "system", the
 * ids in the resource, their size in bytes): if the record cannot be
 * written nothing is removed, and if the metadata cannot answer nothing
 * is removed either.  Details: docs/internals/STORE.md, "Orphan sweep". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/periodic.h"
#include "base/str.h"
#include "core/core_int.h"

/* Blobs examined per step: the start-up step, and each step of the
 * background pass (a stat and an index lookup each, well under a second
 * for a step on this VM's disk). */
#define ORPHAN_STEP	65536

/* The ids of one batch, comma separated, fit in one record's resource. */
_Static_assert(sizeof("blobs/") + CF_BLOB_SWEEP_BATCH * (CF_BLOB_ID_LEN + 1)
    <= CF_RESOURCE_MAX, "CF_BLOB_SWEEP_BATCH too large for CF_RESOURCE_MAX");

struct core_orphans {
	struct cf_periodic	*job;
	unsigned int		 shard;	/* where the pass goes on; the
					 * job's thread only */
};

static cf_err
orphan_refs(void *arg, const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n,
    bool *ref, struct cf_error *err)
{
	struct cf_core	*c = arg;

	return cf_meta_blobs_referenced(c->meta, ids, n, ref, err);
}

/* The record of one batch, written (durably) before its removal. */
static cf_err
orphan_reclaim(void *arg, const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n,
    uint64_t bytes, struct cf_error *err)
{
	struct cf_core	*c = arg;
	struct cf_req	 r;
	size_t		 i;

	cf_req_init(&r, "local");
	r.authenticated = true;
	r.authn = "internal";
	(void)cf_strlcpy(r.principal.name, "system",
	    sizeof(r.principal.name));
	r.action = "blob:reclaim";
	r.allowed = true;
	(void)cf_strlcpy(r.resource, "blobs/", sizeof(r.resource));
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)cf_strlcat(r.resource, ",", sizeof(r.resource));
		(void)cf_strlcat(r.resource, ids[i], sizeof(r.resource));
	}
	(void)snprintf(r.reasons, sizeof(r.reasons), "orphan-sweep,count=%zu",
	    n);
	return cf_core_audit(c, &r, 0, "ok", bytes, err);
}

/* One bounded step from *shard on; *shard is advanced. */
static cf_err
orphan_step(struct cf_core *c, bool startup, unsigned int *shard,
    struct cf_error *err)
{
	struct cf_blob_sweep	sw;
	cf_err			rc;

	memset(&sw, 0, sizeof(sw));
	sw.now_s = core_now_us(c) / 1000000;
	sw.grace_s = c->cfg.orphan_grace;
	sw.try_alone = startup;
	sw.max_scan = startup && c->cfg.orphan_interval == 0 ? 0 :
	    ORPHAN_STEP;
	sw.refs = orphan_refs;
	sw.reclaim = orphan_reclaim;
	sw.arg = c;
	sw.shard = *shard;
	rc = cf_blob_sweep(c->blobs, &sw, err);
	*shard = sw.shard;
	if (sw.removed > 0 || rc != CF_OK)
		log_info("event=orphans_reclaimed count=%llu bytes=%llu "
		    "examined=%llu young=%llu alone=%s startup=%s result=%s",
		    (unsigned long long)sw.removed,
		    (unsigned long long)sw.bytes,
		    (unsigned long long)sw.scanned,
		    (unsigned long long)sw.young, sw.alone ? "yes" : "no",
		    startup ? "yes" : "no", rc == CF_OK ? "ok" : "failed");
	return rc;
}

/* One step of the pass on the sweep's thread; the wait before the next:
 * none while the pass goes on, the interval once it is done. */
static int64_t
orphan_run(struct cf_periodic *p, void *arg)
{
	struct cf_core		*c = arg;
	struct core_orphans	*o = c->orphans;
	struct cf_error		 e;

	(void)p;
	/* Run after the interval's wait: a new pass. */
	if (o->shard >= CF_BLOB_SHARDS)
		o->shard = 0;
	cf_error_clear(&e);
	/* Expired bindings ride on the same timer, once a pass (and at
	 * every listing of bindings). */
	if (o->shard == 0 && core_bindings_sweep(c, &e) != CF_OK) {
		log_warnx("event=binding_sweep_failed msg=\"%s\"", e.msg);
		cf_error_clear(&e);
	}
	if (orphan_step(c, false, &o->shard, &e) != CF_OK) {
		/* Kept: retried at the next interval. */
		log_warnx("event=orphan_sweep_failed msg=\"%s\" "
		    "effect=\"nothing of the batch was removed\"", e.msg);
		o->shard = CF_BLOB_SHARDS;
	}
	/* A pass in progress goes on at once; a finished one waits for the
	 * interval. */
	return o->shard < CF_BLOB_SHARDS ? 0 : CF_PERIODIC_PERIOD;
}

cf_err
core_orphans_open(struct cf_core *c, struct cf_error *err)
{
	struct core_orphans	*o = NULL;
	struct cf_periodic_job	 job;
	struct cf_error		 e;
	cf_err			 rc;

	o = cf_calloc(1, sizeof(*o));
	if (o == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	/* Before serving.  A failure keeps every blob and does not stop
	 * the server: the next pass tries again. */
	cf_error_clear(&e);
	if (orphan_step(c, true, &o->shard, &e) != CF_OK) {
		log_warnx("event=orphan_sweep_failed startup=yes msg=\"%s\" "
		    "effect=\"nothing of the batch was removed\"", e.msg);
		o->shard = CF_BLOB_SHARDS;
	} else if (o->shard < CF_BLOB_SHARDS) {
		log_info("event=orphan_sweep_deferred msg=\"the store is "
		    "large; the rest of the pass runs in the background\"");
	}
	if (c->cfg.orphan_interval <= 0) {
		cf_free(o);
		return CF_OK;
	}
	memset(&job, 0, sizeof(job));
	job.name = "orphan sweep";
	job.period_ms = c->cfg.orphan_interval * 1000;
	job.first_ms = o->shard < CF_BLOB_SHARDS ? 0 : CF_PERIODIC_PERIOD;
	job.fn = orphan_run;
	job.arg = c;
	/* Set before the thread starts: orphan_run reads it. */
	c->orphans = o;
	rc = cf_periodic_start(&job, &o->job, err);
	if (rc != CF_OK) {
		c->orphans = NULL;
		cf_free(o);
	}
	return rc;
}

void
core_orphans_close(struct cf_core *c)
{
	struct core_orphans	*o = c->orphans;

	if (o == NULL)
		return;
	cf_periodic_stop(o->job);
	cf_free(o);
	c->orphans = NULL;
}

void
core_test_crash(const struct cf_core *c, const char *point)
{
	if (c->crash_point[0] == '\0' || strcmp(c->crash_point, point) != 0)
		return;
	log_warnx("event=test_crash point=%s msg=\"COFFER_TEST_CRASH: "
	    "exiting as a crash would\"", point);
	_exit(CORE_CRASH_STATUS);
}
