/* src/store/meta_purge.c: the purge job's and the privacy report's
 * queries in the SQLite metadata store (meta.h, "the purge job and the
 * privacy report"; the column is migration 18 -> 19 of meta_sqlite.c).
 *
 * The purge rule is one SQL predicate (PURGEABLE), used both to find
 * candidates and again inside the write transaction that purges one, so
 * that a hold set, a stage moved or a retention raised after the
 * candidates were read always wins: the version is then left alone. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

#define US_PER_DAY_SQL	"86400000000"

/* The purge rule on v (versions) joined with n (its namespace), ?1 the
 * time now (us).  Holds: as cf_meta_hold_find (a hold on the namespace,
 * the key, or a prefix P of it with key = P/...).  Protected artifact
 * files: those of each artifact's latest version and of every version a
 * stage points at. */
#define PURGEABLE \
	" v.delete_marker = 0 AND v.kek_id <> '" CF_KEK_ERASED "'" \
	" AND n.purge_days > 0" \
	" AND v.created_us <= ?1 - n.purge_days * " US_PER_DAY_SQL \
	" AND v.created_us <= ?1 - n.retain_days * " US_PER_DAY_SQL \
	" AND EXISTS (SELECT 1 FROM versions w WHERE w.ns_id = v.ns_id" \
	" AND w.key = v.key AND w.seq > v.seq)" \
	" AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.ns = n.name" \
	" AND (h.key = '' OR h.key = CAST(v.key AS TEXT) OR" \
	" substr(CAST(v.key AS TEXT), 1, length(h.key) + 1) = h.key || '/'))" \
	" AND NOT EXISTS (SELECT 1 FROM artifact_files f" \
	" WHERE f.version_id = v.version_id AND (f.number =" \
	" (SELECT max(av.number) FROM artifact_versions av" \
	" WHERE av.artifact_id = f.artifact_id) OR EXISTS (SELECT 1" \
	" FROM artifact_stages s WHERE s.artifact_id = f.artifact_id" \
	" AND s.number = f.number)))"

#define PCOLS \
	"v.seq, v.version_id, n.name, v.key, v.sha256, v.size, v.blob_id," \
	" v.created_us, n.purge_days"

cf_err
cf_meta_ns_set_purge(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *ns, int64_t days, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc = CF_OK;

	if (ns == NULL || strnlen(ns, CF_NS_NAME_MAX) >= CF_NS_NAME_MAX ||
	    days < 0 || days > CF_PURGE_DAYS_MAX)
		return cf_error_set(err, CF_E_INVAL, "meta: bad purge period");
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "UPDATE namespaces SET purge_days = ?2"
	    " WHERE name = ?1", "ti", ns, days);
	if (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src != SQLITE_DONE)
			rc = meta_int_db_err(c, src, err, "purge set");
		else if (sqlite3_changes(meta_int_db(c)) == 0)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such namespace");
	}
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

static cf_err
read_item(sqlite3_stmt *st, struct cf_purge_item *it, struct cf_error *err)
{
	cf_err	rc;

	memset(it, 0, sizeof(*it));
	it->seq = sqlite3_column_int64(st, 0);
	rc = meta_int_col_str(st, 1, it->version_id, sizeof(it->version_id),
	    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 2, it->ns, sizeof(it->ns), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, it->key, sizeof(it->key), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 4, it->sha256, sizeof(it->sha256),
		    err);
	it->size = (uint64_t)sqlite3_column_int64(st, 5);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 6, it->blob_id, sizeof(it->blob_id),
		    err);
	it->created_us = sqlite3_column_int64(st, 7);
	it->purge_days = sqlite3_column_int64(st, 8);
	return rc;
}

cf_err
cf_meta_purge_candidates(struct cf_meta *m, int64_t now_us,
    int64_t after_seq, struct cf_purge_item *items, size_t max, size_t *n,
    struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 k = 0;
	int		 src;
	cf_err		 rc;

	if (max == 0 || max > INT32_MAX)
		return cf_error_set(err, CF_E_INVAL, "meta: bad batch size");
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err, "SELECT " PCOLS " FROM versions v"
	    " JOIN namespaces n ON n.id = v.ns_id WHERE v.seq > ?2 AND"
	    PURGEABLE " ORDER BY v.seq LIMIT ?3", "iii", now_us, after_seq,
	    (int64_t)max);
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = meta_int_db_err(c, src, err, "purge candidates");
			break;
		}
		if (CF_NEVER(k >= max))
			break;
		rc = read_item(st, &items[k], err);
		if (rc == CF_OK)
			k++;
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	if (rc == CF_OK)
		*n = k;
	return rc;
}

cf_err
cf_meta_purge_apply(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_erasure_rec *e, int64_t now_us,
    const struct cf_purge_item *it, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	if (strnlen(e->id, sizeof(e->id)) >= sizeof(e->id) ||
	    strnlen(e->reason, sizeof(e->reason)) >= sizeof(e->reason) ||
	    strnlen(e->request_id, sizeof(e->request_id)) >=
	    sizeof(e->request_id))
		return cf_error_set(err, CF_E_INVAL, "meta: bad purge record");
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: the rule again, inside the transaction: holds and
	 * retention win over a candidate list read before. */
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT 1 FROM versions v JOIN namespaces n"
	    " ON n.id = v.ns_id WHERE v.version_id = ?2 AND" PURGEABLE, "it",
	    now_us, it->version_id);
	if (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_CONFLICT, "version %s is "
			    "no longer purgeable", it->version_id);
		else if (src != SQLITE_ROW)
			rc = meta_int_db_err(c, src, err, "purge check");
	}
	meta_int_unprep(c, st);
	st = NULL;
	/* SEC: as an erasure: the wrapped data key is overwritten in
	 * place (secure_delete zeroes the freed page content too). */
	if (rc == CF_OK)
		rc = meta_int_prep_bind(c, &st, err,
		    "UPDATE versions SET kek_id = '"
		    CF_KEK_ERASED "', wrapped_dek = zeroblob(?2),"
		    " user_meta = '', blob_id = '' WHERE version_id = ?1", "ti",
		    it->version_id, (int64_t)CF_WRAPPED_DEK_LEN);
	if (rc == CF_OK && (src = sqlite3_step(st)) != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "purge");
	meta_int_unprep(c, st);
	st = NULL;
	if (rc == CF_OK)
		rc = meta_int_prep_bind(c, &st, err,
		    "UPDATE segments SET kek_id = '" CF_KEK_ERASED "',"
		    " wrapped_dek = zeroblob(?2), blob_id = ''"
		    " WHERE version_id = ?1", "ti",
		    it->version_id, (int64_t)CF_WRAPPED_DEK_LEN);
	if (rc == CF_OK && (src = sqlite3_step(st)) != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "purge segments");
	meta_int_unprep(c, st);
	st = NULL;
	if (rc == CF_OK)
		rc = meta_int_prep_bind(c, &st, err, "INSERT INTO erasures"
		    " (version_id, erasure_id, ns, key, sha256, size, blob_id,"
		    " why, erased_by, erased_us, reason, request_id) VALUES"
		    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'purge', ?8, ?9, ?10, ?11)",
		    "tttttittitt", it->version_id, e->id, it->ns, it->key,
		    it->sha256, (int64_t)it->size, it->blob_id, e->by, e->at_us,
		    e->reason, e->request_id);
	if (rc == CF_OK && (src = sqlite3_step(st)) != SQLITE_DONE)
		rc = meta_int_db_err(c, src, err, "purge tombstone");
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

/* The direct lineage of artifact version av as a JSON array. */
#define LINEAGE(join_self, other_id, other_num) \
	"(SELECT json_group_array(json_object('ns', o.ns, 'name', o.name," \
	" 'number', o.number)) FROM (SELECT sn.name AS ns, sa.name AS name," \
	" l." other_num " AS number FROM artifact_lineage l" \
	" LEFT JOIN artifacts sa ON sa.id = l." other_id \
	" LEFT JOIN namespaces sn ON sn.id = sa.ns_id WHERE " join_self \
	" ORDER BY l." other_id ", l." other_num " LIMIT 50) o)"
_Static_assert(CF_PII_LINEAGE_MAX == 50, "LINEAGE's LIMIT");

#define IS_PII(meta) \
	"(json_valid(" meta ") AND json_extract(" meta ", '$.pii') = 'true')"

cf_err
cf_meta_pii_rows(struct cf_meta *m, const char *ns, size_t max,
    cf_pii_cb cb, void *arg, bool *truncated, struct cf_error *err)
{
	struct cf_pii_row	 row;
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	size_t			 k = 0;
	int			 src;
	cf_err			 rc;

	*truncated = false;
	if (max == 0 || max >= INT32_MAX)
		return cf_error_set(err, CF_E_INVAL, "meta: bad report size");
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT kind, ns, name, number, inh, src, der,"
	    " retain_days, purge_days FROM ("
	    "SELECT 'namespace' AS kind, n.name AS ns, '' AS name,"
	    " 0 AS number, 0 AS inh, NULL AS src, NULL AS der,"
	    " n.retain_days AS retain_days, n.purge_days AS purge_days"
	    " FROM labels l JOIN namespaces n ON n.id = l.ns_id"
	    " WHERE length(l.key) = 0 AND l.name = 'pii' AND l.value = 'true'"
	    " UNION ALL SELECT 'object', n.name, CAST(l.key AS TEXT), 0, 0,"
	    " NULL, NULL, n.retain_days, n.purge_days FROM labels l"
	    " JOIN namespaces n ON n.id = l.ns_id WHERE length(l.key) > 0"
	    " AND l.name = 'pii' AND l.value = 'true'"
	    " UNION ALL SELECT 'artifact', n.name, a.name, av.number,"
	    " EXISTS (SELECT 1 FROM artifact_lineage l JOIN artifact_versions"
	    " s ON s.artifact_id = l.src_artifact_id AND s.number ="
	    " l.src_number WHERE l.artifact_id = av.artifact_id AND l.number"
	    " = av.number AND " IS_PII("s.meta") "), "
	    LINEAGE("l.artifact_id = av.artifact_id AND l.number = av.number",
	    "src_artifact_id", "src_number") ", "
	    LINEAGE("l.src_artifact_id = av.artifact_id AND l.src_number ="
	    " av.number", "artifact_id", "number") ","
	    " n.retain_days, n.purge_days FROM artifact_versions av"
	    " JOIN artifacts a ON a.id = av.artifact_id JOIN namespaces n"
	    " ON n.id = a.ns_id WHERE " IS_PII("av.meta")
	    ") WHERE ?1 IS NULL OR ns = ?1"
	    " ORDER BY ns, kind, name, number LIMIT ?2", "ti", ns,
	    (int64_t)max + 1);
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = meta_int_db_err(c, src, err, "privacy report");
			break;
		}
		if (k == max) {
			*truncated = true;
			break;
		}
		memset(&row, 0, sizeof(row));
		row.kind = (const char *)sqlite3_column_text(st, 0);
		row.ns = (const char *)sqlite3_column_text(st, 1);
		row.name = (const char *)sqlite3_column_text(st, 2);
		row.number = sqlite3_column_int64(st, 3);
		row.inherited = sqlite3_column_int64(st, 4) != 0;
		row.sources = (const char *)sqlite3_column_text(st, 5);
		row.derived = (const char *)sqlite3_column_text(st, 6);
		row.retain_days = sqlite3_column_int64(st, 7);
		row.purge_days = sqlite3_column_int64(st, 8);
		if (row.kind == NULL || row.ns == NULL || row.name == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			break;
		}
		rc = cb(arg, &row, err);
		k++;
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}
