/* src/core/metrics.c: counters for GET /metrics (issue 16, section 1),
 * in Prometheus' text exposition format 0.0.4.
 *
 * Everything is counted where the monitor already is: a request's audit
 * record (action, decision, status, bytes, latency), the decision
 * (Cedar's time), failed logins and locks, data-key wraps and unwraps,
 * and the audit log's own commit statistics.  Counters are atomics in
 * fixed arrays sized by the action registry at open (no allocation per
 * request, no lock).  Labels are only registered action names, decisions
 * and status codes: no principal, namespace or key ever becomes a label
 * (bounded cardinality, and nothing a scrape could learn about the
 * data).  docs/monitoring.md lists every series. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_int.h"
#include "base/buf.h"
#include "base/mem.h"
#include "core/actions.h"
#include "core/core_int.h"

/* Status codes with a series of their own; anything else is "other". */
static const int m_status[] = { 200, 201, 204, 206, 304, 400, 401, 403,
	404, 405, 408, 409, 411, 412, 413, 416, 429, 500, 501, 503 };
#define M_NSTATUS	(sizeof(m_status) / sizeof(m_status[0]) + 1)

/* Latency buckets (seconds, upper bounds; +Inf implied): the audit
 * log's (audit_int.h), so that every duration here has the same. */
#define m_le		audit_le
#define M_NLE		AUDIT_NLE

struct m_hist {
	_Atomic uint64_t b[M_NLE + 1];	/* per bucket (not cumulative) */
	_Atomic uint64_t sum_ns;
};

struct core_metrics {
	const struct cf_action_def *acts;
	size_t		 nact;
	_Atomic uint64_t *req;		/* [action][decision 2][status] */
	struct m_hist	*lat;		/* [action] */
	struct m_hist	 authz;		/* one decision of the policies */
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t login_failed;
	_Atomic uint64_t locks;
	_Atomic uint64_t key_ops[CORE_METRIC_KEY_NOPS];
	int64_t		 start_us;
};

static size_t
status_idx(int status)
{
	size_t	i;

	for (i = 0; i + 1 < M_NSTATUS; i++)
		if (m_status[i] == status)
			return i;
	return M_NSTATUS - 1;
}

static void
hist_add(struct m_hist *h, uint64_t ns)
{
	(void)atomic_fetch_add_explicit(&h->b[audit_le_idx(ns)], 1,
	    memory_order_relaxed);
	(void)atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

cf_err
core_metrics_open(struct cf_core *c, struct cf_error *err)
{
	struct core_metrics	*m;

	m = cf_calloc(1, sizeof(*m));
	if (m == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	m->acts = cf_actions(&m->nact);
	m->req = cf_calloc(m->nact * 2 * M_NSTATUS, sizeof(*m->req));
	m->lat = cf_calloc(m->nact, sizeof(*m->lat));
	if (m->req == NULL || m->lat == NULL) {
		cf_free(m->req);
		cf_free(m->lat);
		cf_free(m);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	m->start_us = core_now_us(c);
	c->metrics = m;
	return CF_OK;
}

void
core_metrics_close(struct cf_core *c)
{
	struct core_metrics	*m = c->metrics;

	if (m == NULL)
		return;
	cf_free(m->req);
	cf_free(m->lat);
	cf_free(m);
	c->metrics = NULL;
}

void
core_metrics_record(struct cf_core *c, const struct cf_req *r, int status,
    uint64_t bytes)
{
	struct core_metrics		*m = c->metrics;
	const struct cf_action_def	*d;
	int64_t				 now;
	size_t				 a;

	if (m == NULL || r->action == NULL)
		return;
	d = cf_action_find(r->action);
	if (d == NULL || d < m->acts || d >= m->acts + m->nact)
		return;
	a = (size_t)(d - m->acts);
	(void)atomic_fetch_add_explicit(&m->req[(a * 2 + (r->allowed ? 1 :
	    0)) * M_NSTATUS + status_idx(status)], 1, memory_order_relaxed);
	(void)atomic_fetch_add_explicit(&m->bytes_out, bytes,
	    memory_order_relaxed);
	now = core_now_us(c);
	hist_add(&m->lat[a], now > r->time_us ?
	    (uint64_t)(now - r->time_us) * 1000u : 0);
}

void
core_metrics_bytes_in(struct cf_core *c, uint64_t n)
{
	if (c->metrics != NULL)
		(void)atomic_fetch_add_explicit(&c->metrics->bytes_in, n,
		    memory_order_relaxed);
}

void
core_metrics_authz(struct cf_core *c, uint64_t ns)
{
	if (c->metrics != NULL)
		hist_add(&c->metrics->authz, ns);
}

void
core_metrics_login_failed(struct cf_core *c, bool locked)
{
	if (c->metrics == NULL)
		return;
	(void)atomic_fetch_add_explicit(&c->metrics->login_failed, 1,
	    memory_order_relaxed);
	if (locked)
		(void)atomic_fetch_add_explicit(&c->metrics->locks, 1,
		    memory_order_relaxed);
}

void
core_metrics_key_op(struct cf_core *c, enum core_metric_key_op op)
{
	if (c->metrics != NULL && (unsigned)op < CORE_METRIC_KEY_NOPS)
		(void)atomic_fetch_add_explicit(&c->metrics->key_ops[op], 1,
		    memory_order_relaxed);
}

uint64_t
core_mono_ns(void)
{
	struct timespec	ts;

	/* For durations that are reported, never decided on. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The histogram h as name{labels,le=...} lines (labels "" or "k=\"v\","),
 * with bounds le[0..n) in seconds (scale 1e9: sums in ns) or counts
 * (scale 1). */
static cf_err
put_hist(struct cf_buf *o, const char *name, const char *labels,
    const uint64_t *b, const double *le, size_t n, uint64_t sum,
    double scale, struct cf_error *err)
{
	uint64_t	cum = 0;
	size_t		i;
	cf_err		rc = CF_OK;

	for (i = 0; i <= n && rc == CF_OK; i++) {
		cum += b[i];
		if (i < n)
			rc = cf_buf_printf(o, err, "%s_bucket{%sle=\"%g\"} %"
			    PRIu64 "\n", name, labels, le[i], cum);
		else
			rc = cf_buf_printf(o, err, "%s_bucket{%sle=\"+Inf\"} %"
			    PRIu64 "\n", name, labels, cum);
	}
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err, "%s_sum{%.*s} %.9g\n%s_count{%.*s} %"
		    PRIu64 "\n", name, labels[0] != '\0' ?
		    (int)strlen(labels) - 1 : 0, labels, (double)sum / scale,
		    name, labels[0] != '\0' ? (int)strlen(labels) - 1 : 0,
		    labels, cum);
	return rc;
}

/* A histogram of atomics as put_hist's plain counts. */
static cf_err
put_mhist(struct cf_buf *o, const char *name, const char *labels,
    struct m_hist *h, struct cf_error *err)
{
	uint64_t	b[M_NLE + 1];
	size_t		i;

	for (i = 0; i <= M_NLE; i++)
		b[i] = atomic_load_explicit(&h->b[i], memory_order_relaxed);
	return put_hist(o, name, labels, b, m_le, M_NLE,
	    atomic_load(&h->sum_ns), 1e9, err);
}

static long
rss_bytes(void)
{
	FILE	*f = fopen("/proc/self/statm", "r");
	long	 size = 0, rss = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = 0;
	(void)fclose(f);
	return rss * sysconf(_SC_PAGESIZE);
}

cf_err
core_metrics_render(struct cf_core *c, const struct cf_metrics_extra *x,
    struct cf_buf *o, struct cf_error *err)
{
	static const char *const key_ops[CORE_METRIC_KEY_NOPS] = {
		"wrap", "unwrap" };
	struct core_metrics	*m = c->metrics;
	struct audit_stats	 st;
	char			 labels[96];
	size_t			 a, d, s;
	uint64_t		 v;
	cf_err			 rc;

	if (m == NULL)
		return cf_error_set(err, CF_E_INTERNAL, "no metrics");
	rc = cf_buf_printf(o, err,
	    "# HELP coffer_requests_total Requests recorded in the audit "
	    "log, by action, decision and HTTP status.\n"
	    "# TYPE coffer_requests_total counter\n");
	for (a = 0; a < m->nact && rc == CF_OK; a++)
		for (d = 0; d < 2 && rc == CF_OK; d++)
			for (s = 0; s < M_NSTATUS && rc == CF_OK; s++) {
				v = atomic_load_explicit(&m->req[(a * 2 + d) *
				    M_NSTATUS + s], memory_order_relaxed);
				if (v == 0)
					continue;
				if (s + 1 < M_NSTATUS)
					rc = cf_buf_printf(o, err,
					    "coffer_requests_total{action="
					    "\"%s\",decision=\"%s\",code="
					    "\"%d\"} %" PRIu64 "\n",
					    m->acts[a].name, d ? "allow" :
					    "deny", m_status[s], v);
				else
					rc = cf_buf_printf(o, err,
					    "coffer_requests_total{action="
					    "\"%s\",decision=\"%s\",code="
					    "\"other\"} %" PRIu64 "\n",
					    m->acts[a].name, d ? "allow" :
					    "deny", v);
			}
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_request_duration_seconds Time from a "
		    "request's arrival to its audit record, by action.\n"
		    "# TYPE coffer_request_duration_seconds histogram\n");
	for (a = 0; a < m->nact && rc == CF_OK; a++) {
		for (v = 0, s = 0; s <= M_NLE; s++)
			v += atomic_load_explicit(&m->lat[a].b[s],
			    memory_order_relaxed);
		if (v == 0)
			continue;
		(void)snprintf(labels, sizeof(labels), "action=\"%s\",",
		    m->acts[a].name);
		rc = put_mhist(o, "coffer_request_duration_seconds", labels,
		    &m->lat[a], err);
	}
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_policy_evaluation_seconds Time of one "
		    "decision: entities, context and Cedar.\n"
		    "# TYPE coffer_policy_evaluation_seconds histogram\n");
	if (rc == CF_OK)
		rc = put_mhist(o, "coffer_policy_evaluation_seconds", "",
		    &m->authz, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_response_bytes_total Bytes of responses, "
		    "as recorded in the audit log.\n"
		    "# TYPE coffer_response_bytes_total counter\n"
		    "coffer_response_bytes_total %" PRIu64 "\n"
		    "# HELP coffer_request_bytes_total Bytes of request "
		    "bodies received.\n"
		    "# TYPE coffer_request_bytes_total counter\n"
		    "coffer_request_bytes_total %" PRIu64 "\n"
		    "# HELP coffer_login_failures_total Failed logins.\n"
		    "# TYPE coffer_login_failures_total counter\n"
		    "coffer_login_failures_total %" PRIu64 "\n"
		    "# HELP coffer_login_locks_total Failed logins that "
		    "locked a user or an address.\n"
		    "# TYPE coffer_login_locks_total counter\n"
		    "coffer_login_locks_total %" PRIu64 "\n"
		    "# HELP coffer_key_operations_total Data keys wrapped "
		    "and unwrapped.\n"
		    "# TYPE coffer_key_operations_total counter\n",
		    atomic_load(&m->bytes_out), atomic_load(&m->bytes_in),
		    atomic_load(&m->login_failed), atomic_load(&m->locks));
	for (s = 0; s < CORE_METRIC_KEY_NOPS && rc == CF_OK; s++)
		rc = cf_buf_printf(o, err, "coffer_key_operations_total{op="
		    "\"%s\"} %" PRIu64 "\n", key_ops[s],
		    atomic_load(&m->key_ops[s]));
	cf_audit_get_stats(c->audit, &st);
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_audit_records_total Audit records made "
		    "durable.\n"
		    "# TYPE coffer_audit_records_total counter\n"
		    "coffer_audit_records_total %" PRIu64 "\n"
		    "# HELP coffer_audit_commits_total Audit log commits "
		    "(write + fdatasync).\n"
		    "# TYPE coffer_audit_commits_total counter\n"
		    "coffer_audit_commits_total %" PRIu64 "\n"
		    "# HELP coffer_audit_commit_seconds Time of one audit "
		    "commit.\n"
		    "# TYPE coffer_audit_commit_seconds histogram\n",
		    st.appends, st.commits);
	if (rc == CF_OK)
		rc = put_hist(o, "coffer_audit_commit_seconds", "",
		    st.commit_b, m_le, M_NLE, st.commit_ns, 1e9, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_audit_batch_records Records per audit "
		    "commit.\n"
		    "# TYPE coffer_audit_batch_records histogram\n");
	if (rc == CF_OK)
		rc = put_hist(o, "coffer_audit_batch_records", "",
		    st.batch_b, audit_batch_le, AUDIT_NBATCH, st.appends, 1,
		    err);
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_connections_active Open client "
		    "connections.\n"
		    "# TYPE coffer_connections_active gauge\n"
		    "coffer_connections_active %" PRIu64 "\n"
		    "# HELP coffer_transfers_active Uploads and downloads "
		    "in progress.\n"
		    "# TYPE coffer_transfers_active gauge\n"
		    "coffer_transfers_active %" PRIu64 "\n"
		    "# HELP process_resident_memory_bytes Resident memory.\n"
		    "# TYPE process_resident_memory_bytes gauge\n"
		    "process_resident_memory_bytes %ld\n"
		    "# HELP process_start_time_seconds Start of the server, "
		    "seconds since the epoch.\n"
		    "# TYPE process_start_time_seconds gauge\n"
		    "process_start_time_seconds %" PRId64 "\n",
		    x->connections, x->transfers, rss_bytes(),
		    m->start_us / 1000000);
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_request_memory_bytes Request buffers held "
		    "(bodies being read, transfer buffers).\n"
		    "# TYPE coffer_request_memory_bytes gauge\n"
		    "coffer_request_memory_bytes %" PRIu64 "\n"
		    "# HELP coffer_request_memory_budget_bytes "
		    "request_memory_budget.\n"
		    "# TYPE coffer_request_memory_budget_bytes gauge\n"
		    "coffer_request_memory_budget_bytes %" PRIu64 "\n"
		    "# HELP coffer_request_memory_refusals_total Requests "
		    "refused (503) for the request memory budget.\n"
		    "# TYPE coffer_request_memory_refusals_total counter\n"
		    "coffer_request_memory_refusals_total %llu\n"
		    "# HELP coffer_uploads_unstaged_total Large uploads run "
		    "without staging for the request memory budget.\n"
		    "# TYPE coffer_uploads_unstaged_total counter\n"
		    "coffer_uploads_unstaged_total %llu\n"
		    "# HELP coffer_downloads_read_ahead_total Downloads "
		    "decrypted one block ahead on a second thread.\n"
		    "# TYPE coffer_downloads_read_ahead_total counter\n"
		    "coffer_downloads_read_ahead_total %llu\n"
		    "# HELP coffer_transfer_buffer_bytes Transfer buffers in "
		    "use (upload staging, blob writes, read-ahead), of the "
		    "budget.\n"
		    "# TYPE coffer_transfer_buffer_bytes gauge\n"
		    "coffer_transfer_buffer_bytes %" PRIu64 "\n"
		    "# HELP coffer_transfer_buffer_idle_bytes Idle transfer "
		    "buffers kept for reuse (outside the budget).\n"
		    "# TYPE coffer_transfer_buffer_idle_bytes gauge\n"
		    "coffer_transfer_buffer_idle_bytes %" PRIu64 "\n"
		    "# HELP coffer_transfer_buffers_denied_total Transfer "
		    "buffers the budget had no room for (the transfer went on "
		    "with less).\n"
		    "# TYPE coffer_transfer_buffers_denied_total counter\n"
		    "coffer_transfer_buffers_denied_total %" PRIu64 "\n",
		    cf_membudget_used(c->mb), c->cfg.request_memory_budget,
		    atomic_load(&c->mem_refused),
		    atomic_load(&c->mem_unstaged),
		    atomic_load(&c->dl_ahead), cf_membudget_buf_bytes(c->mb),
		    cf_membudget_cached(c->mb),
		    cf_membudget_buf_denied(c->mb));
	if (rc == CF_OK)
		rc = core_alerts_render(c, o, err);
	return rc;
}
