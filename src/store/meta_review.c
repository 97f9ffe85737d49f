/* src/store/meta_review.c: access review campaigns in the SQLite
 * metadata store (meta.h, "access review campaigns"; the tables are
 * migration 21 -> 22 of meta_sqlite.c).
 *
 * Statements are prepared per call, as in meta_privacy.c: nothing here
 * is on a request's hot path. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "store/meta.h"
#include "store/meta_int.h"

#define RCOLS	"id, ns, creator, reviewer, on_timeout, created_us, due_us," \
	" timed_out_us"
#define ICOLS	"review_id, n, principal, kind, name, ns, expires_us," \
	" last_used_us, reviewer, state, escalated, decided_by, decided_us," \
	" note, outcome, detail"

static cf_err
fits(const char *s, size_t cap, const char *what, struct cf_error *err)
{
	if (s == NULL)
		return cf_error_set(err, CF_E_INVAL, "meta: %s is NULL", what);
	if (strnlen(s, cap) >= cap)
		return cf_error_set(err, CF_E_INPUT,
		    "meta: %s longer than %zu bytes", what, cap - 1);
	return CF_OK;
}

static cf_err
step_done(struct conn *c, sqlite3_stmt *st, int *changes, const char *what,
    struct cf_error *err)
{
	int	src;

	src = sqlite3_step(st);
	if (src != SQLITE_DONE)
		return meta_int_db_err(c, src, err, what);
	if (changes != NULL)
		*changes = sqlite3_changes(meta_int_db(c));
	return CF_OK;
}

static cf_err
read_review(sqlite3_stmt *st, struct cf_review_rec *rv, struct cf_error *err)
{
	cf_err	rc;

	memset(rv, 0, sizeof(*rv));
	rc = meta_int_col_str(st, 0, rv->id, sizeof(rv->id), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 1, rv->ns, sizeof(rv->ns), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 2, rv->creator, sizeof(rv->creator),
		    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, rv->reviewer,
		    sizeof(rv->reviewer), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 4, rv->on_timeout,
		    sizeof(rv->on_timeout), err);
	rv->created_us = sqlite3_column_int64(st, 5);
	rv->due_us = sqlite3_column_int64(st, 6);
	rv->timed_out_us = sqlite3_column_int64(st, 7);
	return rc;
}

static cf_err
read_item(sqlite3_stmt *st, struct cf_review_item *it, struct cf_error *err)
{
	cf_err	rc;

	memset(it, 0, sizeof(*it));
	rc = meta_int_col_str(st, 0, it->review_id, sizeof(it->review_id),
	    err);
	it->n = sqlite3_column_int64(st, 1);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 2, it->principal,
		    sizeof(it->principal), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 3, it->kind, sizeof(it->kind), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 4, it->name, sizeof(it->name), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 5, it->ns, sizeof(it->ns), err);
	it->expires_us = sqlite3_column_int64(st, 6);
	it->last_used_us = sqlite3_column_int64(st, 7);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 8, it->reviewer,
		    sizeof(it->reviewer), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 9, it->state, sizeof(it->state),
		    err);
	it->escalated = sqlite3_column_int64(st, 10) != 0;
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 11, it->decided_by,
		    sizeof(it->decided_by), err);
	it->decided_us = sqlite3_column_int64(st, 12);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 13, it->note, sizeof(it->note),
		    err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 14, it->outcome,
		    sizeof(it->outcome), err);
	if (rc == CF_OK)
		rc = meta_int_col_str(st, 15, it->detail, sizeof(it->detail),
		    err);
	return rc;
}

static cf_err
check_item(const struct cf_review_item *it, struct cf_error *err)
{
	cf_err	rc;

	rc = fits(it->principal, sizeof(it->principal), "principal", err);
	if (rc == CF_OK)
		rc = fits(it->kind, sizeof(it->kind), "kind", err);
	if (rc == CF_OK)
		rc = fits(it->name, sizeof(it->name), "name", err);
	if (rc == CF_OK)
		rc = fits(it->ns, sizeof(it->ns), "namespace", err);
	if (rc == CF_OK)
		rc = fits(it->reviewer, sizeof(it->reviewer), "reviewer", err);
	if (rc == CF_OK)
		rc = fits(it->state, sizeof(it->state), "state", err);
	if (rc == CF_OK)
		rc = fits(it->detail, sizeof(it->detail), "detail", err);
	if (rc == CF_OK && it->n < 1)
		rc = cf_error_set(err, CF_E_INVAL, "meta: bad item number");
	return rc;
}

cf_err
cf_meta_review_create(struct cf_meta *m, const struct cf_meta_audit *au,
    const struct cf_review_rec *rv, const struct cf_review_item *items,
    size_t n, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 i;
	cf_err		 rc;

	rc = fits(rv->id, sizeof(rv->id), "review id", err);
	if (rc == CF_OK)
		rc = fits(rv->ns, sizeof(rv->ns), "namespace", err);
	if (rc == CF_OK)
		rc = fits(rv->creator, sizeof(rv->creator), "creator", err);
	if (rc == CF_OK)
		rc = fits(rv->reviewer, sizeof(rv->reviewer), "reviewer", err);
	if (rc == CF_OK)
		rc = fits(rv->on_timeout, sizeof(rv->on_timeout),
		    "on_timeout", err);
	for (i = 0; i < n && rc == CF_OK; i++)
		rc = check_item(&items[i], err);
	if (rc == CF_OK && n > CF_REVIEW_ITEMS_MAX)
		rc = cf_error_set(err, CF_E_LIMIT, "meta: more than %d items",
		    CF_REVIEW_ITEMS_MAX);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "INSERT INTO reviews (" RCOLS ") VALUES (?1,"
	    " ?2, ?3, ?4, ?5, ?6, ?7, 0)", "tttttii", rv->id, rv->ns,
	    rv->creator, rv->reviewer, rv->on_timeout, rv->created_us,
	    rv->due_us);
	if (rc == CF_OK)
		rc = step_done(c, st, NULL, "review insert", err);
	meta_int_unprep(c, st);
	st = NULL;
	for (i = 0; i < n && rc == CF_OK; i++) {
		rc = meta_int_prep_bind(c, &st, err,
		    "INSERT INTO review_items (" ICOLS ")"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', 0,"
		    " '', 0, '', '', ?10)", "tittttiitt", rv->id, items[i].n,
		    items[i].principal, items[i].kind, items[i].name,
		    items[i].ns, items[i].expires_us, items[i].last_used_us,
		    items[i].reviewer, items[i].detail);
		if (rc == CF_OK)
			rc = step_done(c, st, NULL, "review item insert", err);
		meta_int_unprep(c, st);
		st = NULL;
	}
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_review_get(struct cf_meta *m, const char *id,
    struct cf_review_rec *out, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT " RCOLS " FROM reviews WHERE id = ?1",
	    "t", id);
	if (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_ROW)
			rc = read_review(st, out, err);
		else if (src == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such review");
		else
			rc = meta_int_db_err(c, src, err, "review get");
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_review_list(struct cf_meta *m, cf_review_cb cb, void *arg,
    struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_review_rec	 rv;
	int			 src;
	cf_err			 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err, "SELECT " RCOLS " FROM reviews"
	    " ORDER BY created_us DESC, id", "");
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = meta_int_db_err(c, src, err, "review list");
			break;
		}
		rc = read_review(st, &rv, err);
		if (rc == CF_OK)
			rc = cb(arg, &rv, err);
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_review_items(struct cf_meta *m, const char *id,
    cf_review_item_cb cb, void *arg, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_review_item	*it;
	int			 src;
	cf_err			 rc;

	it = cf_calloc(1, sizeof(*it));
	if (it == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK) {
		cf_free(it);
		return rc;
	}
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT " ICOLS " FROM review_items"
	    " WHERE review_id = ?1 ORDER BY n", "t", id);
	while (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			break;
		if (src != SQLITE_ROW) {
			rc = meta_int_db_err(c, src, err, "review items");
			break;
		}
		rc = read_item(st, it, err);
		if (rc == CF_OK)
			rc = cb(arg, it, err);
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	cf_free(it);
	return rc;
}

cf_err
cf_meta_review_item_get(struct cf_meta *m, const char *id, int64_t n,
    struct cf_review_item *out, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 src;
	cf_err		 rc;

	rc = meta_int_rtx_begin(m, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT " ICOLS " FROM review_items"
	    " WHERE review_id = ?1 AND n = ?2", "ti", id, n);
	if (rc == CF_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_ROW)
			rc = read_item(st, out, err);
		else if (src == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such review item");
		else
			rc = meta_int_db_err(c, src, err, "review item get");
	}
	meta_int_unprep(c, st);
	meta_int_rtx_end(m, c);
	return rc;
}

cf_err
cf_meta_review_item_close(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t n, const char *state, const char *by,
    int64_t at_us, const char *note, const char *outcome,
    int64_t principal_id, struct cf_error *err)
{
	struct conn		*c = NULL;
	sqlite3_stmt		*st = NULL;
	struct cf_review_item	*it = NULL;
	int			 ch = 0;
	cf_err			 rc;

	rc = fits(note, CF_REVIEW_NOTE_MAX, "note", err);
	if (rc == CF_OK)
		rc = fits(outcome, sizeof(it->outcome), "outcome", err);
	if (rc == CF_OK)
		rc = fits(by, CF_PRINCIPAL_MAX, "decided by", err);
	if (rc != CF_OK)
		return rc;
	it = cf_calloc(1, sizeof(*it));
	if (it == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK) {
		cf_free(it);
		return rc;
	}
	rc = meta_int_prep_bind(c, &st, err,
	    "SELECT " ICOLS " FROM review_items"
	    " WHERE review_id = ?1 AND n = ?2", "ti", id, n);
	if (rc == CF_OK) {
		ch = sqlite3_step(st);
		if (ch == SQLITE_ROW)
			rc = read_item(st, it, err);
		else if (ch == SQLITE_DONE)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such review item");
		else
			rc = meta_int_db_err(c, ch, err, "review item get");
	}
	meta_int_unprep(c, st);
	st = NULL;
	if (rc == CF_OK && strcmp(it->state, "open") != 0)
		rc = cf_error_set(err, CF_E_CONFLICT, "meta: item closed");
	/* The binding goes in the transaction that closes the item: a
	 * revocation is never recorded without taking effect. */
	if (rc == CF_OK && principal_id > 0) {
		rc = meta_int_prep_bind(c, &st, err,
		    "DELETE FROM bindings WHERE"
		    " principal_id = ?1 AND role = ?2 AND ns = ?3", "itt",
		    principal_id, it->name, it->ns);
		if (rc == CF_OK)
			rc = step_done(c, st, &ch, "binding delete", err);
		if (rc == CF_OK && ch == 0)
			rc = cf_error_set(err, CF_E_NOTFOUND,
			    "meta: no such binding");
		meta_int_unprep(c, st);
		st = NULL;
	}
	if (rc == CF_OK)
		rc = meta_int_prep_bind(c, &st, err,
		    "UPDATE review_items SET state = ?3,"
		    " decided_by = ?4, decided_us = ?5, note = ?6,"
		    " outcome = ?7 WHERE review_id = ?1 AND n = ?2"
		    " AND state = 'open'", "tittitt", id, n, state, by, at_us,
		    note, outcome);
	if (rc == CF_OK)
		rc = step_done(c, st, NULL, "review item close", err);
	meta_int_unprep(c, st);
	cf_free(it);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_review_item_escalate(struct cf_meta *m,
    const struct cf_meta_audit *au, const char *id, int64_t n,
    const char *reviewer, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 ch = 0;
	cf_err		 rc;

	rc = fits(reviewer, CF_PRINCIPAL_MAX, "reviewer", err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "UPDATE review_items SET reviewer = ?3,"
	    " escalated = 1 WHERE review_id = ?1 AND n = ?2"
	    " AND state = 'open'", "tit", id, n, reviewer);
	if (rc == CF_OK)
		rc = step_done(c, st, &ch, "review item escalate", err);
	if (rc == CF_OK && ch == 0)
		rc = cf_error_set(err, CF_E_CONFLICT, "meta: item closed");
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}

cf_err
cf_meta_review_timed_out(struct cf_meta *m, const struct cf_meta_audit *au,
    const char *id, int64_t at_us, struct cf_error *err)
{
	struct conn	*c = NULL;
	sqlite3_stmt	*st = NULL;
	int		 ch = 0;
	cf_err		 rc;

	rc = meta_int_wtx_begin(m, au, &c, err);
	if (rc != CF_OK)
		return rc;
	rc = meta_int_prep_bind(c, &st, err,
	    "UPDATE reviews SET timed_out_us = ?2"
	    " WHERE id = ?1 AND timed_out_us = 0", "ti", id, at_us);
	if (rc == CF_OK)
		rc = step_done(c, st, &ch, "review timed out", err);
	if (rc == CF_OK && ch == 0)
		rc = cf_error_set(err, CF_E_CONFLICT,
		    "meta: due date handled already");
	meta_int_unprep(c, st);
	return meta_int_wtx_end(m, c, au, rc, err);
}
