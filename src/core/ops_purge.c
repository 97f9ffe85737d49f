/* src/core/ops_purge.c: the purge job (expired non-current versions
 * crypto-shredded by the server) and the privacy report (docs/privacy.md,
 * "Purge" and "The privacy report").
 *
 * The purge job runs one pass before the server serves, then every
 * purge_interval seconds on a thread of its own, by the core's clock (so
 * a test moves that clock and restarts instead of waiting).  A pass
 * takes the versions the store's rule reaches (meta.h,
 * cf_meta_purge_candidates) in batches, and purges each in its own
 * audited transaction: one record per version (action privacy:purge,
 * principal "system"), the rule checked again inside it, so that a hold
 * or a retention set meanwhile always wins.  Then the blob goes, unless
 * another version still names it (a promoted copy); a crash in between
 * leaves a blob no version names, which the orphan sweep removes.
 *
 * SEC: the report reads personal-data rows from the store and the
 * accesses from the audit log's last records (a bounded read, as policy
 * replay's); it is an admin's (privacy:report), as the audit log is. */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/periodic.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/actions.h"
#include "core/core_int.h"

#define US_PER_DAY	(86400LL * 1000000LL)
#define PURGE_BATCH	64	/* candidates read per query */
#define REPORT_LIMIT_MAX	10000
#define REPORT_RECORDS_MAX	1000000
#define REPORT_DEFAULT_DAYS	30
#define NO_PURPOSE	"(none)"	/* not a valid X-Coffer-Purpose */
#define CUT_PURPOSE	"(not recorded)"	/* a context over 8 KiB */

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

cf_err
cf_core_ns_set_purge(struct cf_core *c, struct cf_req *r, const char *ns,
    int64_t days, json_t **out, struct cf_error *err)
{
	struct core_act	act;
	char		res[CF_RESOURCE_MAX];
	cf_err		rc;

	(void)snprintf(res, sizeof(res), "ns/%s", ns);
	/* SEC: the grant rule, as for retention: a shorter purge period
	 * lets data go. */
	rc = core_authorize_data(c, r, "ns:set-retention", NULL, ns, res, err);
	if (rc == CF_OK)
		rc = core_grant_check(c, r, err);
	if (rc != CF_OK)
		return rc;
	if (days < 0 || days > CF_PURGE_DAYS_MAX) {
		r->errcode = "bad_request";
		return cf_error_set(err, CF_E_INPUT, "purge_after_days must be "
		    "0-%d", CF_PURGE_DAYS_MAX);
	}
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = cf_meta_ns_set_purge(c->meta, &act.au, ns, days, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		r->errcode = "no_such_namespace";
		return cf_error_set(err, CF_E_NOTFOUND, "no namespace \"%s\"",
		    ns);
	}
	if (rc != CF_OK)
		return rc;
	*out = json_pack("{s:s,s:I}", "name", ns, "purge_after_days",
	    (json_int_t)days);
	return *out == NULL ? nomem(err) : CF_OK;
}

/* --- the purge job --- */

struct core_purge {
	struct cf_periodic	*job;
};

/* Purge one version, with its own record; *done: it was purged (false
 * when the rule no longer reaches it). */
static cf_err
purge_one(struct cf_core *c, int64_t now, const struct cf_purge_item *it,
    bool *done, struct cf_error *err)
{
	struct cf_erasure_rec	e;
	struct core_act		act;
	struct cf_req		r;
	uint8_t			raw[7];
	char			hex[sizeof(raw) * 2 + 1];
	char			ids[1][CF_BLOB_ID_LEN + 1];
	bool			ref = true;
	struct core_blobset	segblobs = { NULL, 0, 0 };
	cf_err			rc;

	*done = false;
	rc = cf_random(raw, sizeof(raw), err);
	if (rc != CF_OK)
		return rc;
	/* A segmented version's blobs, known only until it is purged. */
	rc = core_segs_blobs_by_id(c, it->version_id, &segblobs, err);
	if (rc != CF_OK) {
		core_blobset_free(&segblobs);
		return rc;
	}
	cf_hex_encode(raw, sizeof(raw), hex);
	/* The system's own request, as the rewrap's and the sweeps'. */
	cf_req_init(&r, "local");
	r.authenticated = true;
	r.authn = "internal";
	(void)cf_strlcpy(r.principal.name, "system",
	    sizeof(r.principal.name));
	r.action = "privacy:purge";
	r.allowed = true;
	(void)snprintf(r.resource, sizeof(r.resource), "ns/%s/obj/%s",
	    it->ns, it->key);
	(void)snprintf(r.reasons, sizeof(r.reasons), "purge,version=%s,"
	    "sha256=%s,purge_after_days=%lld", it->version_id, it->sha256,
	    (long long)it->purge_days);
	memset(&e, 0, sizeof(e));
	(void)snprintf(e.id, sizeof(e.id), "purge-%s", hex);
	(void)cf_strlcpy(e.by, "system", sizeof(e.by));
	e.at_us = now;
	(void)snprintf(e.reason, sizeof(e.reason), "purge: a non-current "
	    "version older than the namespace's purge_after_days (%lld)",
	    (long long)it->purge_days);
	(void)cf_strlcpy(e.request_id, r.request_id, sizeof(e.request_id));
	rc = core_act_begin(&act, c, &r, 0, err);
	if (rc == CF_OK)
		rc = cf_meta_purge_apply(c->meta, &act.au, &e, now, it, err);
	rc = core_act_end(&act, rc);
	if (rc == CF_E_CONFLICT) {
		/* A hold, a stage or a retention came first: kept. */
		core_blobset_free(&segblobs);
		cf_error_clear(err);
		return CF_OK;
	}
	if (rc != CF_OK) {
		core_blobset_free(&segblobs);
		return rc;
	}
	*done = true;
	core_test_crash(c, "purge_committed");
	/* A copy may share the segments' blobs: those stay for it. */
	if (core_blobset_drop(&segblobs, c->meta, c->blobs) > 0)
		log_warnx("event=purge_segment_blobs_left version=%s",
		    it->version_id);
	core_blobset_free(&segblobs);
	if (it->blob_id[0] == '\0')
		return CF_OK;
	/* A promoted copy may share the blob: it stays for that one (the
	 * metadata's answer; on an error, kept for the orphan sweep). */
	(void)cf_strlcpy(ids[0], it->blob_id, sizeof(ids[0]));
	if (cf_meta_blobs_referenced(c->meta, (const char (*)[
	    CF_BLOB_ID_LEN + 1])ids, 1, &ref, NULL) == CF_OK && !ref &&
	    cf_blob_delete(c->blobs, it->blob_id, NULL) != CF_OK)
		log_warnx("event=purge_blob_left version=%s blob=%s",
		    it->version_id, it->blob_id);
	return CF_OK;
}

/* One pass; job: the purge job whose thread runs it (NULL: at start-up),
 * whose stop ends the pass between two batches. */
static cf_err
purge_pass(struct cf_core *c, struct cf_periodic *job, uint64_t *purged,
    struct cf_error *err)
{
	struct cf_purge_item	*b = NULL;
	int64_t			 now, cursor = 0;
	uint64_t		 count = 0;
	size_t			 n, i;
	bool			 done;
	cf_err			 rc = CF_OK;

	b = cf_reallocarray(NULL, PURGE_BATCH, sizeof(*b));
	if (b == NULL)
		return nomem(err);
	/* One time for the pass: a version the rule reaches at its start
	 * is purged, however long the pass takes. */
	now = core_now_us(c);
	while (rc == CF_OK && !cf_periodic_stopping(job)) {
		rc = cf_meta_purge_candidates(c->meta, now, cursor, b,
		    PURGE_BATCH, &n, err);
		if (rc != CF_OK || n == 0)
			break;
		for (i = 0; i < n && rc == CF_OK; i++) {
			rc = purge_one(c, now, &b[i], &done, err);
			if (rc == CF_OK && done)
				count++;
		}
		cursor = b[n - 1].seq;
		if (n < PURGE_BATCH)
			break;
	}
	if (count > 0 || rc != CF_OK)
		log_info("event=purge count=%llu result=%s",
		    (unsigned long long)count, rc == CF_OK ? "ok" : "failed");
	cf_free(b);
	if (purged != NULL)
		*purged = count;
	return rc;
}

cf_err
cf_core_purge_run(struct cf_core *c, uint64_t *purged, struct cf_error *err)
{
	return purge_pass(c, c->purge != NULL ? c->purge->job : NULL, purged,
	    err);
}

static int64_t
purge_run(struct cf_periodic *job, void *arg)
{
	struct cf_core	*c = arg;
	struct cf_error	 e;

	cf_error_clear(&e);
	if (purge_pass(c, job, NULL, &e) != CF_OK)
		log_warnx("event=purge_failed msg=\"%s\" effect=\"the rest "
		    "waits for the next pass\"", e.msg);
	return CF_PERIODIC_PERIOD;
}

cf_err
core_purge_open(struct cf_core *c, struct cf_error *err)
{
	struct core_purge	*p = NULL;
	struct cf_periodic_job	 job;
	struct cf_error		 e;
	cf_err			 rc;

	/* Before serving.  A failure does not stop the server: the
	 * versions wait for the next pass. */
	cf_error_clear(&e);
	if (purge_pass(c, NULL, NULL, &e) != CF_OK)
		log_warnx("event=purge_failed startup=yes msg=\"%s\"", e.msg);
	if (c->cfg.purge_interval <= 0)
		return CF_OK;
	p = cf_calloc(1, sizeof(*p));
	if (p == NULL)
		return nomem(err);
	memset(&job, 0, sizeof(job));
	job.name = "purge";
	job.period_ms = c->cfg.purge_interval * 1000;
	job.first_ms = CF_PERIODIC_PERIOD;
	job.fn = purge_run;
	job.arg = c;
	rc = cf_periodic_start(&job, &p->job, err);
	if (rc != CF_OK) {
		cf_free(p);
		return rc;
	}
	c->purge = p;
	return CF_OK;
}

void
core_purge_close(struct cf_core *c)
{
	struct core_purge	*p = c->purge;

	if (p == NULL)
		return;
	cf_periodic_stop(p->job);
	cf_free(p);
	c->purge = NULL;
}

/* --- the privacy report --- */

struct report {
	struct cf_core	*c;
	json_t		*items;		/* the report's items */
	json_t		*index;		/* resource -> [item index, prefix] */
	json_t		*holds;		/* every hold */
	int64_t		 since_us, until_us;
	uint64_t	 examined, in_period;
	uint64_t	 first_seq;
	int64_t		 first_us;
};

/* "YYYY-MM-DD" (the start of that day, UTC; end: the end of it) or RFC
 * 3339 UTC into *us. */
static cf_err
parse_when(const char *s, bool end, int64_t *us, struct cf_error *err)
{
	char	buf[40];

	if (strnlen(s, 11) == 10 && s[4] == '-' && s[7] == '-') {
		(void)snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		if (cf_time_parse(buf, us, NULL) != CF_OK)
			return cf_error_set(err, CF_E_INPUT, "bad date \"%s\" "
			    "(YYYY-MM-DD or RFC 3339 UTC)", s);
		if (end)
			*us += US_PER_DAY - 1;
		return CF_OK;
	}
	if (cf_time_parse(s, us, NULL) != CF_OK)
		return cf_error_set(err, CF_E_INPUT, "bad time \"%.40s\" "
		    "(YYYY-MM-DD or RFC 3339 UTC)", s);
	return CF_OK;
}

/* Index resource res -> item i (prefix: also what is under res/). */
static cf_err
index_add(struct report *x, const char *res, size_t i, bool prefix,
    struct cf_error *err)
{
	json_t	*list;

	list = json_object_get(x->index, res);
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(x->index, res,
		    list) != 0)
			return nomem(err);
	}
	if (json_array_append_new(list, json_pack("[I,b]", (json_int_t)i,
	    prefix)) != 0)
		return nomem(err);
	return CF_OK;
}

static json_t *
lineage_json(const char *text)
{
	json_t	*j;

	if (text == NULL)
		return json_array();
	j = json_loads(text, 0, NULL);
	return json_is_array(j) ? j : (json_decref(j), json_array());
}

/* The holds that cover an item (kind, ns, name). */
static json_t *
holds_of(struct report *x, const char *kind, const char *ns,
    const char *name)
{
	json_t		*arr, *h;
	const char	*hk;
	size_t		 i, n;

	arr = json_array();
	json_array_foreach(x->holds, i, h) {
		if (arr == NULL)
			break;
		if (strcmp(json_string_value(json_object_get(h, "ns")), ns) !=
		    0)
			continue;
		hk = json_string_value(json_object_get(h, "key"));
		n = hk != NULL ? strlen(hk) : 0;
		/* On the namespace; on the key or a prefix P of it (key
		 * P/...); for a namespace item, any hold in it. */
		if (n == 0 || strcmp(kind, "namespace") == 0 ||
		    strcmp(hk, name) == 0 || (strncmp(name, hk, n) == 0 &&
		    name[n] == '/'))
			if (json_array_append(arr, h) != 0) {
				json_decref(arr);
				return NULL;
			}
	}
	return arr;
}

static cf_err
row_cb(void *arg, const struct cf_pii_row *row, struct cf_error *err)
{
	struct report	*x = arg;
	json_t		*it, *last, *v;
	char		 res[CF_RESOURCE_MAX];
	size_t		 idx;
	bool		 art = strcmp(row->kind, "artifact") == 0;

	last = json_array_get(x->items, json_array_size(x->items) - 1);
	/* The versions of one artifact make one item. */
	if (art && last != NULL && strcmp(json_string_value(json_object_get(
	    last, "kind")), "artifact") == 0 && strcmp(json_string_value(
	    json_object_get(last, "ns")), row->ns) == 0 &&
	    strcmp(json_string_value(json_object_get(last, "name")),
	    row->name) == 0)
		it = last;
	else {
		it = json_pack("{s:s,s:s,s:s?,s:s,s:{s:I,s:I},s:o,s:o}",
		    "kind", row->kind, "ns", row->ns, "name",
		    row->name[0] != '\0' ? row->name : NULL, "pii",
		    art ? "metadata" : "label", "retention", "retain_days",
		    (json_int_t)row->retain_days, "purge_after_days",
		    (json_int_t)row->purge_days, "holds",
		    holds_of(x, row->kind, row->ns, row->name), "access",
		    json_object());
		if (it == NULL || json_array_append_new(x->items, it) != 0)
			return nomem(err);
		idx = json_array_size(x->items) - 1;
		if (strcmp(row->kind, "namespace") == 0)
			(void)snprintf(res, sizeof(res), "ns/%s", row->ns);
		else
			(void)snprintf(res, sizeof(res), "ns/%s/obj/%s",
			    row->ns, row->name);
		/* An artifact's files are objects under NAME/; a pii
		 * namespace is everything in it. */
		if (index_add(x, res, idx, strcmp(row->kind, "object") != 0,
		    err) != CF_OK)
			return CF_E_NOMEM;
	}
	if (!art)
		return CF_OK;
	/* By lineage when a direct source is pii=true: the whole item
	 * then says so if every version is. */
	v = json_pack("{s:I,s:s,s:o,s:o}", "number", (json_int_t)row->number,
	    "pii", row->inherited ? "lineage" : "metadata", "sources",
	    lineage_json(row->sources), "derived", lineage_json(row->derived));
	if (v == NULL)
		return nomem(err);
	if (json_object_get(it, "versions") == NULL &&
	    json_object_set_new(it, "versions", json_array()) != 0) {
		json_decref(v);
		return nomem(err);
	}
	if (json_array_append_new(json_object_get(it, "versions"), v) != 0)
		return nomem(err);
	if (row->inherited && json_array_size(json_object_get(it,
	    "versions")) == 1)
		(void)json_object_set_new(it, "pii", json_string("lineage"));
	else if (!row->inherited)
		(void)json_object_set_new(it, "pii", json_string("metadata"));
	return CF_OK;
}

/* Count rec (an access to item i) under principal and action. */
static cf_err
count_access(struct report *x, size_t i, json_t *rec, const char *who,
    const char *action, struct cf_error *err)
{
	json_t		*acc, *e, *purposes, *ctx;
	const char	*purpose, *t, *dec;
	char		 k[CF_PRINCIPAL_MAX + 80];
	json_int_t	 n;
	bool		 allowed;

	acc = json_object_get(json_array_get(x->items, i), "access");
	(void)snprintf(k, sizeof(k), "%s %s", who, action);
	e = json_object_get(acc, k);
	if (e == NULL) {
		e = json_pack("{s:s,s:s,s:I,s:I,s:n,s:{}}", "principal", who,
		    "action", action, "count", (json_int_t)0, "denied",
		    (json_int_t)0, "last", "purposes");
		if (e == NULL || json_object_set_new(acc, k, e) != 0)
			return nomem(err);
	}
	dec = json_string_value(json_object_get(rec, "decision"));
	allowed = dec != NULL && strcmp(dec, "allow") == 0;
	if (!allowed) {
		n = json_integer_value(json_object_get(e, "denied"));
		return json_object_set_new(e, "denied", json_integer(n + 1)) ==
		    0 ? CF_OK : nomem(err);
	}
	n = json_integer_value(json_object_get(e, "count"));
	t = json_string_value(json_object_get(rec, "time"));
	/* The declared purpose is in the decision's context (every data
	 * access is a policy decision: docs/internals/AUDIT.md). */
	ctx = json_object_get(rec, "ctx");
	purpose = json_string_value(json_object_get(json_object_get(ctx,
	    "context"), "purpose"));
	if (json_is_true(json_object_get(ctx, "truncated")))
		purpose = CUT_PURPOSE;
	else if (purpose == NULL || purpose[0] == '\0')
		purpose = NO_PURPOSE;
	purposes = json_object_get(e, "purposes");
	if (json_object_set_new(e, "count", json_integer(n + 1)) != 0 ||
	    (t != NULL && json_object_set_new(e, "last",
	    json_string(t)) != 0) || json_object_set_new(purposes, purpose,
	    json_integer(json_integer_value(json_object_get(purposes,
	    purpose)) + 1)) != 0)
		return nomem(err);
	return CF_OK;
}

static cf_err
audit_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct report			*x = arg;
	const struct cf_action_def	*def;
	const char			*res, *who, *action, *ts;
	json_t				*list, *m;
	char				 buf[CF_RESOURCE_MAX];
	char				*slash;
	int64_t				 t;
	size_t				 i;
	bool				 exact = true;
	cf_err				 rc = CF_OK;

	x->examined++;
	ts = json_string_value(json_object_get(rec, "time"));
	if (ts == NULL || cf_time_parse(ts, &t, NULL) != CF_OK)
		return CF_OK;
	if (x->first_seq == 0) {
		x->first_seq = (uint64_t)json_integer_value(
		    json_object_get(rec, "seq"));
		x->first_us = t;
	}
	if (t < x->since_us || t > x->until_us)
		return CF_OK;
	x->in_period++;
	action = json_string_value(json_object_get(rec, "action"));
	who = json_string_value(json_object_get(rec, "principal"));
	res = json_string_value(json_object_get(rec, "resource"));
	def = cf_action_find(action);
	/* Records of events (a download's end, the purge's own) are not
	 * accesses by anyone; the request before them is counted. */
	if (def == NULL || (def->flags & CF_ACT_RECORD) != 0 || res == NULL ||
	    who == NULL)
		return CF_OK;
	if (who[0] == '\0')
		who = "(unauthenticated)";
	/* The resource, then each parent: ns/N/obj/a/b, ns/N/obj/a, ...,
	 * ns/N. */
	(void)cf_strlcpy(buf, res, sizeof(buf));
	for (;;) {
		list = json_object_get(x->index, buf);
		json_array_foreach(list, i, m) {
			if (!exact && !json_is_true(json_array_get(m, 1)))
				continue;
			rc = count_access(x, (size_t)json_integer_value(
			    json_array_get(m, 0)), rec, who, action, err);
			if (rc != CF_OK)
				return rc;
		}
		slash = strrchr(buf, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
		if (strcmp(buf, "ns") == 0)
			break;
		exact = false;
		/* "ns/N/obj" names nothing: on to "ns/N". */
		if (strlen(buf) > 4 && strcmp(buf + strlen(buf) - 4, "/obj") ==
		    0 && strchr(buf + 3, '/') == buf + strlen(buf) - 4)
			buf[strlen(buf) - 4] = '\0';
	}
	return CF_OK;
}

static cf_err
hold_cb(void *arg, const struct cf_hold_rec *h, struct cf_error *err)
{
	json_t	*j;

	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "id", h->id, "ns", h->ns,
	    "key", h->key, "reason", h->reason, "created_by", h->created_by,
	    "created", core_time_json(h->created_us));
	if (j == NULL || json_array_append_new(arg, j) != 0)
		return nomem(err);
	return CF_OK;
}

/* The access maps become arrays, most accesses first. */
static cf_err
finish_items(struct report *x, struct cf_error *err)
{
	json_t		*it, *acc, *arr, *e;
	const char	*k;
	size_t		 i, j, a, b;

	json_array_foreach(x->items, i, it) {
		acc = json_object_get(it, "access");
		arr = json_array();
		if (arr == NULL)
			return nomem(err);
		json_object_foreach(acc, k, e) {
			for (j = 0; j < json_array_size(arr); j++) {
				a = (size_t)json_integer_value(json_object_get(
				    json_array_get(arr, j), "count"));
				b = (size_t)json_integer_value(json_object_get(
				    e, "count"));
				if (b > a)
					break;
			}
			if (json_array_insert(arr, j, e) != 0) {
				json_decref(arr);
				return nomem(err);
			}
		}
		if (json_object_set_new(it, "access", arr) != 0)
			return nomem(err);
	}
	return CF_OK;
}

cf_err
cf_core_privacy_report(struct cf_core *c, struct cf_req *r,
    const struct cf_privacy_report_args *a, json_t **out,
    struct cf_error *err)
{
	struct report	 x;
	uint64_t	 limit, records;
	bool		 truncated = false;
	cf_err		 rc;

	memset(&x, 0, sizeof(x));
	rc = core_authorize(c, r, "privacy:report", NULL, "privacy/report",
	    err);
	if (rc != CF_OK)
		return rc;
	limit = a->limit != 0 ? a->limit : 1000;
	records = a->records != 0 ? a->records : 100000;
	x.until_us = core_now_us(c);
	x.since_us = x.until_us - REPORT_DEFAULT_DAYS * US_PER_DAY;
	if (limit > REPORT_LIMIT_MAX || records > REPORT_RECORDS_MAX)
		rc = cf_error_set(err, CF_E_INPUT, "limit is 1-%d rows, "
		    "records 1-%d audit records", REPORT_LIMIT_MAX,
		    REPORT_RECORDS_MAX);
	if (rc == CF_OK && a->ns != NULL && !cf_name_ns_valid(a->ns))
		rc = cf_error_set(err, CF_E_INPUT, "invalid namespace name");
	if (rc == CF_OK && a->since != NULL)
		rc = parse_when(a->since, false, &x.since_us, err);
	if (rc == CF_OK && a->until != NULL)
		rc = parse_when(a->until, true, &x.until_us, err);
	if (rc == CF_OK && x.since_us > x.until_us)
		rc = cf_error_set(err, CF_E_INPUT, "since is after until");
	if (rc != CF_OK) {
		r->errcode = "bad_request";
		return rc;
	}
	x.c = c;
	x.items = json_array();
	x.index = json_object();
	x.holds = json_array();
	if (x.items == NULL || x.index == NULL || x.holds == NULL) {
		rc = nomem(err);
		goto out;
	}
	rc = cf_meta_hold_list(c->meta, hold_cb, x.holds, err);
	if (rc == CF_OK)
		rc = cf_meta_pii_rows(c->meta, a->ns, (size_t)limit, row_cb,
		    &x, &truncated, err);
	/* The last `records` records: a bounded read whatever the log's
	 * size (the tail mode, as policy replay). */
	if (rc == CF_OK)
		rc = cf_audit_read(c->data_dir, 0, 0, (size_t)records,
		    audit_cb, &x, err);
	if (rc == CF_OK)
		rc = finish_items(&x, err);
	if (rc != CF_OK)
		goto out;
	*out = json_pack("{s:{s:o,s:o},s:O,s:b,s:{s:I,s:I,s:b}}", "period",
	    "since", core_time_json(x.since_us), "until",
	    core_time_json(x.until_us), "items", x.items, "truncated",
	    truncated, "audit", "examined", (json_int_t)x.examined,
	    "in_period", (json_int_t)x.in_period, "truncated",
	    x.examined == records && x.first_seq > 1 &&
	    x.first_us > x.since_us);
	if (*out == NULL)
		rc = nomem(err);
out:
	json_decref(x.items);
	json_decref(x.index);
	json_decref(x.holds);
	return rc;
}
