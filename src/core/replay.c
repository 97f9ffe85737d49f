/* src/core/replay.c: `coffer erase --replay-on DIR --from SRC`, offline
 * (docs/privacy.md, "Backups"): the erasures a restore from an older
 * backup would otherwise undo are applied to it before it serves.
 *
 * The source of truth is the erasures table of SRC's metadata: the live
 * data directory (read while its server runs: WAL readers do not block
 * it) or a newer `coffer backup` of it.  Every erasure there is applied
 * to DIR where DIR still holds a data key of one of its versions, with
 * the live server's erasure id, time, reason, tombstones and certificate,
 * so DIR afterwards explains each erased version as the live server
 * does.  Replaying twice changes nothing the second time: an erasure
 * whose versions are erased in DIR, or absent from it (uploaded after
 * the backup), has nothing left to destroy there but its blobs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/core_int.h"
#include "core/datadir.h"
#include "crypto/crypto.h"
#include "store/blob.h"
#include "store/meta.h"

#define REPLAY_BATCH	4096	/* versions of one erasure: ERASE_MAX */

struct replay {
	struct cf_meta		*dst;
	struct cf_meta		*srcm;
	struct cf_blobstore	*blobs;		/* NULL: DIR has no blobs */
	struct cf_audit		*audit;
	const char		*who;
	/* The erasure being gathered (rows come sorted by erasure id
	 * within one time). */
	struct cf_erasure_rec	 cur;
	struct cf_erase_item	*items;		/* to apply: keys held */
	size_t			 n;
	struct core_blobset	 segblobs;	/* of items' segments */
	char			(*blob_ids)[CF_BLOB_ID_LEN + 1];
	size_t			 nblobs;
	size_t			 rows;		/* rows of cur seen */
	/* totals */
	uint64_t		 erasures, versions, blobs_deleted, already;
};

/* Apply the gathered erasure cur to DIR, then delete its blobs. */
static cf_err
replay_flush(struct replay *rp, struct cf_error *err)
{
	struct core_offline_act	 act;
	struct cf_audit_rec	 rec;
	char			 res[CF_RESOURCE_MAX], why[128];
	char			*cert = NULL;
	size_t			 i;
	cf_err			 rc = CF_OK;

	if (rp->rows == 0)
		return CF_OK;
	if (rp->n == 0) {
		rp->already++;
	} else {
		(void)snprintf(res, sizeof(res), "ns/%s/obj/%s",
		    rp->items[0].ns, rp->items[0].key);
		(void)snprintf(why, sizeof(why), "offline,replay,%s",
		    rp->cur.id);
		memset(&rec, 0, sizeof(rec));
		rec.time_us = cf_now_us();
		rec.request_id = rp->cur.request_id;
		rec.principal = rp->who;
		rec.authn = "local";
		rec.source = "offline";
		rec.action = "privacy:erase";
		rec.resource = res;
		rec.decision = "allow";
		rec.reasons = why;
		rec.status = 200;
		rec.result = "ok";
		core_offline_act_begin(&act, rp->audit, &rec);
		/* The segments' blobs, read from the restored directory
		 * before the erasure forgets them there. */
		for (i = 0; i < rp->n && rp->blobs != NULL; i++) {
			rc = core_segs_blobs_meta(rp->dst,
			    rp->items[i].version_id, &rp->segblobs, err);
			if (rc != CF_OK)
				return rc;
		}
		rc = cf_meta_erasure_cert(rp->srcm, rp->cur.id, &cert, err);
		if (rc == CF_OK)
			rc = cf_meta_erase_apply(rp->dst, &act.au, &rp->cur,
			    rp->items, rp->n, cert, err);
		cf_free(cert);
		if (rc != CF_OK)
			return rc;
		rp->erasures++;
		rp->versions += rp->n;
	}
	/* The keys are gone; a blob left over is ciphertext nobody can
	 * open, removed all the same (the restore's orphan sweep would). */
	for (i = 0; rp->blobs != NULL && i < rp->nblobs; i++)
		if (cf_blob_delete(rp->blobs, rp->blob_ids[i], NULL) == CF_OK)
			rp->blobs_deleted++;
	if (rp->blobs != NULL)
		rp->blobs_deleted += rp->segblobs.n -
		    core_blobset_drop(&rp->segblobs, rp->dst, rp->blobs);
	core_blobset_free(&rp->segblobs);
	rp->n = rp->nblobs = rp->rows = 0;
	return CF_OK;
}

static cf_err
replay_row(void *arg, const struct cf_erasure_row *row,
    struct cf_error *err)
{
	struct replay	*rp = arg;
	int		 st;
	cf_err		 rc;

	if (rp->rows > 0 && strcmp(rp->cur.id, row->rec.id) != 0 &&
	    (rc = replay_flush(rp, err)) != CF_OK)
		return rc;
	if (rp->rows == 0)
		rp->cur = row->rec;
	if (rp->rows >= REPLAY_BATCH)
		return cf_error_set(err, CF_E_LIMIT, "erasure %s names more "
		    "than %d versions", row->rec.id, REPLAY_BATCH);
	rp->rows++;
	if (row->item.blob_id[0] != '\0')
		(void)cf_strlcpy(rp->blob_ids[rp->nblobs++], row->item.blob_id,
		    sizeof(rp->blob_ids[0]));
	rc = cf_meta_version_keystate(rp->dst, row->item.version_id, &st,
	    err);
	if (rc != CF_OK)
		return rc;
	if (st == CF_META_KEY_HELD)
		rp->items[rp->n++] = row->item;
	return CF_OK;
}

cf_err
cf_core_erase_replay(const char *dir, const char *src,
    const struct cf_key *master, const char *who, json_t **out,
    struct cf_error *err)
{
	struct replay	 rp;
	struct cf_key	*akey = NULL, *ekey = NULL;
	char		 path[4096], rs[4096], rd[4096];
	cf_err		 rc;

	memset(&rp, 0, sizeof(rp));
	rp.who = who;
	if (realpath(dir, rd) == NULL || realpath(src, rs) == NULL)
		return cf_error_sys(err, CF_E_INPUT, "replay: %s or %s",
		    dir, src);
	/* SEC: replaying a directory onto itself would find every erasure
	 * applied; it is always a mistake in the command line. */
	if (strcmp(rd, rs) == 0)
		return cf_error_set(err, CF_E_INPUT, "replay: --from names "
		    "the restored directory itself");
	rp.items = cf_reallocarray(NULL, REPLAY_BATCH, sizeof(*rp.items));
	rp.blob_ids = cf_reallocarray(NULL, REPLAY_BATCH,
	    sizeof(*rp.blob_ids));
	if (rp.items == NULL || rp.blob_ids == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	rc = cf_dd_derived_keys(dir, master, &akey, &ekey, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: the audit log's lock is how a server running on dir is
	 * refused: a restore is replayed before it serves. */
	rc = cf_audit_open(dir, akey, &rp.audit, err);
	if (rc == CF_E_CONFLICT) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_CONFLICT, "a server is running on "
		    "%s (its audit log is locked): stop it first", dir);
	}
	if (rc != CF_OK)
		goto out;
	rc = cf_dd_path(rs, CF_DD_META, path, sizeof(path), err);
	if (rc == CF_OK && access(path, R_OK) != 0)
		rc = cf_error_sys(err, CF_E_INPUT, "replay source %s", path);
	if (rc == CF_OK)
		rc = cf_meta_open(path, &rp.srcm, err);
	if (rc == CF_OK)
		rc = cf_dd_path(dir, CF_DD_META, path, sizeof(path), err);
	if (rc == CF_OK && access(path, W_OK) != 0)
		rc = cf_error_sys(err, CF_E_INPUT, "restored metadata %s",
		    path);
	if (rc == CF_OK)
		rc = cf_meta_open(path, &rp.dst, err);
	if (rc != CF_OK)
		goto out;
	if (rc == CF_OK && cf_dd_path(dir, "blobs", path, sizeof(path),
	    NULL) == CF_OK && access(path, F_OK) == 0)
		rc = cf_blobstore_open(dir, &rp.blobs, err);
	if (rc == CF_OK)
		rc = cf_meta_erasure_list(rp.srcm, replay_row, &rp, err);
	if (rc == CF_OK)
		rc = replay_flush(&rp, err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "restored", rd, "from",
	    rs, "erasures", (json_int_t)rp.erasures, "versions",
	    (json_int_t)rp.versions, "blobs_deleted",
	    (json_int_t)rp.blobs_deleted, "already", (json_int_t)rp.already);
	if (*out == NULL)
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
out:
	cf_blobstore_close(rp.blobs);
	cf_meta_close(rp.dst);
	cf_meta_close(rp.srcm);
	cf_audit_close(rp.audit);
	cf_key_free(akey);
	cf_key_free(ekey);
	cf_free(rp.items);
	cf_free(rp.blob_ids);
	core_blobset_free(&rp.segblobs);
	return rc;
}
