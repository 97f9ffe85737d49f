/* src/core/ops_anomaly.c: the core's side of anomaly detection
 * (core/anomaly.h; docs/monitoring.md, "Anomaly detection").
 *
 *   start-up: the detector learns the last anomaly_rebuild_records
 *     records of the audit log (no flags raised), and reads back the
 *     flags recorded among them (anomaly:flag), so that `coffer
 *     anomalies` and context.risk survive a restart.
 *   request thread: every record the monitor writes is observed (a
 *     mutex, no I/O); a flag is kept for `coffer anomalies` at once and
 *     queued for the flag thread (bounded: when full, the oldest waiting
 *     is dropped and counted).  Before each policy decision the
 *     request's risk is read into context.risk.
 *   flag thread: the flag's own audit record (action anomaly:flag,
 *     principal system), which the alert rules see like any record.
 *
 * Time is the core's clock (core_now_us): tests move it.  SEC: the
 * detector never blocks a request on I/O; its verdicts reach decisions
 * only through policies that read context.risk. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/anomaly.h"
#include "core/core_int.h"

#define KEPT_MAX	10000	/* flags `coffer anomalies` can list */
#define QUEUE_MAX	1024	/* flags waiting for their record */

struct fring {
	struct cf_anom_flag	*v;
	size_t			 cap, head, n;
};

struct core_anom {
	struct cf_core		*c;
	struct cf_anom		*det;
	pthread_mutex_t		 mu;	/* everything below */
	pthread_cond_t		 cv;
	bool			 stop;
	pthread_t		 th;
	bool			 started;
	struct fring		 kept;
	struct fring		 queue;
	uint64_t		 dropped;	/* lost their record */
	uint64_t		 raised;
	uint64_t		 rebuilt;	/* records read at start */
};

static cf_err
fring_init(struct fring *q, size_t cap, struct cf_error *err)
{
	q->v = cf_calloc(cap, sizeof(*q->v));
	if (q->v == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	q->cap = cap;
	q->head = q->n = 0;
	return CF_OK;
}

/* Push f; a full ring drops its oldest (returns true then). */
static bool
fring_push(struct fring *q, const struct cf_anom_flag *f)
{
	bool	dropped = false;

	if (q->n == q->cap) {
		q->head = (q->head + 1) % q->cap;
		q->n--;
		dropped = true;
	}
	q->v[(q->head + q->n) % q->cap] = *f;
	q->n++;
	return dropped;
}

static const struct cf_anom_flag *
fring_at(const struct fring *q, size_t i)
{
	return &q->v[(q->head + i) % q->cap];
}

static json_t *
flag_json(const struct cf_anom_flag *f)
{
	char	expl[3 * CF_ANOM_TEXT_MAX + 64];

	(void)snprintf(expl, sizeof(expl), "%s: baseline %s; observed %s",
	    f->feature, f->baseline, f->observed);
	return json_pack("{s:s, s:i, s:s, s:o, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}", "kind", cf_anom_kind_name(f->kind), "score", f->score,
	    "principal", f->principal, "time", core_time_json(f->time_us),
	    "source", f->source, "trigger", f->request_id, "feature",
	    f->feature, "baseline", f->baseline, "observed", f->observed,
	    "explanation", expl);
}

/* ---- the flag thread ---- */

static cf_err
record_flag(struct core_anom *ca, const struct cf_anom_flag *f,
    struct cf_error *err)
{
	struct cf_req	 r;
	json_t		*j;
	cf_err		 rc;

	cf_req_init(&r, "local");
	r.time_us = core_now_us(ca->c);
	r.authenticated = true;
	r.authn = "internal";
	cf_strlcpy(r.principal.name, "system", sizeof(r.principal.name));
	r.action = CF_ANOM_ACTION;
	r.allowed = true;
	(void)snprintf(r.resource, sizeof(r.resource), "anomalies/%s",
	    f->principal);
	(void)snprintf(r.reasons, sizeof(r.reasons), "flag=%s,principal=%s,"
	    "score=%d,trigger=%s", cf_anom_kind_name(f->kind), f->principal,
	    f->score, f->request_id);
	j = flag_json(f);
	if (j == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = core_audit_extra(ca->c, &r, "anomaly", j, err);
	json_decref(j);
	return rc;
}

static void *
flag_main(void *arg)
{
	struct core_anom	*ca = arg;
	struct cf_anom_flag	 f;
	struct cf_error		 e;

	(void)pthread_mutex_lock(&ca->mu);
	for (;;) {
		while (!ca->stop && ca->queue.n == 0)
			(void)pthread_cond_wait(&ca->cv, &ca->mu);
		/* Asked to stop: the flags waiting still get their records
		 * (the audit log closes after this thread). */
		if (ca->queue.n == 0)
			break;
		f = *fring_at(&ca->queue, 0);
		ca->queue.head = (ca->queue.head + 1) % ca->queue.cap;
		ca->queue.n--;
		(void)pthread_mutex_unlock(&ca->mu);
		cf_error_clear(&e);
		if (record_flag(ca, &f, &e) != CF_OK)
			log_warnx("event=anomaly_audit_failed flag=%s "
			    "trigger=%s", cf_anom_kind_name(f.kind),
			    f.request_id);
		log_info("event=anomaly flag=%s principal=%s trigger=%s",
		    cf_anom_kind_name(f.kind), f.principal, f.request_id);
		(void)pthread_mutex_lock(&ca->mu);
	}
	(void)pthread_mutex_unlock(&ca->mu);
	return NULL;
}

/* ---- rebuilding from the log ---- */

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* The namespace of a record: its decision's, else its resource's
 * "ns/NAME[/...]". */
static void
rec_ns(const json_t *rec, char *out, size_t outsz)
{
	const json_t	*ctx = json_object_get(rec, "ctx");
	const char	*s, *e;
	size_t		 n;

	out[0] = '\0';
	s = json_string_value(json_object_get(ctx, "data_ns"));
	if (s == NULL || *s == '\0')
		s = json_string_value(json_object_get(ctx, "ns"));
	if (s != NULL && *s != '\0') {
		(void)cf_strlcpy(out, s, outsz);
		return;
	}
	s = jstr(rec, "resource");
	if (strncmp(s, "ns/", 3) != 0)
		return;
	s += 3;
	e = strchr(s, '/');
	n = e != NULL ? (size_t)(e - s) : strlen(s);
	if (n < outsz) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
}

static void
read_flag(struct core_anom *ca, const json_t *rec, int64_t t)
{
	const json_t		*j;
	struct cf_anom_flag	 f;
	int64_t			 ft = t;
	int			 k;

	j = json_object_get(json_object_get(rec, "ctx"), "anomaly");
	k = cf_anom_kind_parse(jstr(j, "kind"));
	if (k < 0)
		return;
	memset(&f, 0, sizeof(f));
	f.kind = (enum cf_anom_kind)k;
	f.score = cf_anom_kind_weight(f.kind);
	if (cf_time_parse(jstr(j, "time"), &ft, NULL) != CF_OK)
		ft = t;
	f.time_us = ft;
	(void)cf_strlcpy(f.principal, jstr(j, "principal"),
	    sizeof(f.principal));
	(void)cf_strlcpy(f.request_id, jstr(j, "trigger"),
	    sizeof(f.request_id));
	(void)cf_strlcpy(f.source, jstr(j, "source"), sizeof(f.source));
	(void)cf_strlcpy(f.feature, jstr(j, "feature"), sizeof(f.feature));
	(void)cf_strlcpy(f.baseline, jstr(j, "baseline"),
	    sizeof(f.baseline));
	(void)cf_strlcpy(f.observed, jstr(j, "observed"),
	    sizeof(f.observed));
	cf_anom_note(ca->det, &f);
	(void)fring_push(&ca->kept, &f);
}

static cf_err
rebuild_cb(void *arg, json_t *rec, struct cf_error *err)
{
	struct core_anom	*ca = arg;
	struct cf_anom_event	 ev;
	char			 ns[CF_NS_NAME_MAX];
	int64_t			 t;
	json_int_t		 b;

	(void)err;
	if (cf_time_parse(jstr(rec, "time"), &t, NULL) != CF_OK)
		return CF_OK;
	if (strcmp(jstr(rec, "action"), CF_ANOM_ACTION) == 0) {
		read_flag(ca, rec, t);
		return CF_OK;
	}
	rec_ns(rec, ns, sizeof(ns));
	memset(&ev, 0, sizeof(ev));
	ev.time_us = t;
	ev.request_id = jstr(rec, "request_id");
	ev.principal = jstr(rec, "principal");
	ev.source = jstr(rec, "source");
	ev.action = jstr(rec, "action");
	ev.ns = ns;
	ev.allowed = strcmp(jstr(rec, "decision"), "allow") == 0;
	ev.status = (int)json_integer_value(json_object_get(rec, "status"));
	b = json_integer_value(json_object_get(rec, "bytes"));
	ev.bytes = b > 0 ? (uint64_t)b : 0;
	(void)cf_anom_observe(ca->det, &ev, NULL, 0);
	ca->rebuilt++;
	return CF_OK;
}

/* ---- open, close, the hooks ---- */

void
core_anom_close(struct cf_core *c)
{
	struct core_anom	*ca = c->anom;

	if (ca == NULL)
		return;
	(void)pthread_mutex_lock(&ca->mu);
	ca->stop = true;
	(void)pthread_cond_broadcast(&ca->cv);
	(void)pthread_mutex_unlock(&ca->mu);
	if (ca->started)
		(void)pthread_join(ca->th, NULL);
	(void)pthread_cond_destroy(&ca->cv);
	(void)pthread_mutex_destroy(&ca->mu);
	cf_free(ca->kept.v);
	cf_free(ca->queue.v);
	cf_anom_free(ca->det);
	cf_free(ca);
	c->anom = NULL;
}

cf_err
core_anom_open(struct cf_core *c, struct cf_error *err)
{
	struct cf_anom_config	 acfg;
	struct core_anom	*ca;
	cf_err			 rc;

	if (!c->cfg.anomaly_detection)
		return CF_OK;
	ca = cf_calloc(1, sizeof(*ca));
	if (ca == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	ca->c = c;
	(void)pthread_mutex_init(&ca->mu, NULL);
	(void)pthread_cond_init(&ca->cv, NULL);
	c->anom = ca;
	cf_anom_config_defaults(&acfg);
	if (c->cfg.anomaly_max_principals > 0)
		acfg.max_principals = (size_t)c->cfg.anomaly_max_principals;
	if (c->cfg.anomaly_min_events > 0)
		acfg.min_events = (uint64_t)c->cfg.anomaly_min_events;
	if (c->cfg.anomaly_bulk_factor > 0)
		acfg.bulk_factor = (uint64_t)c->cfg.anomaly_bulk_factor;
	if (c->cfg.anomaly_bulk_min_bytes > 0)
		acfg.bulk_min_bytes = (uint64_t)c->cfg.anomaly_bulk_min_bytes;
	if (c->cfg.anomaly_bulk_min_objects > 0)
		acfg.bulk_min_objects =
		    (uint64_t)c->cfg.anomaly_bulk_min_objects;
	if (c->cfg.anomaly_enum_denials > 0)
		acfg.enum_denials = (uint64_t)c->cfg.anomaly_enum_denials;
	if (c->cfg.anomaly_dormant_days > 0)
		acfg.dormant_s = c->cfg.anomaly_dormant_days * 86400;
	rc = cf_anom_new(&acfg, &ca->det, err);
	if (rc == CF_OK)
		rc = fring_init(&ca->kept, KEPT_MAX, err);
	if (rc == CF_OK)
		rc = fring_init(&ca->queue, QUEUE_MAX, err);
	/* A log that cannot be read leaves the baselines empty: the
	 * detector learns again (logged; serving goes on). */
	if (rc == CF_OK && c->cfg.anomaly_rebuild_records > 0 &&
	    cf_audit_read(c->data_dir, 0, 0,
	    (size_t)c->cfg.anomaly_rebuild_records, rebuild_cb, ca,
	    err) != CF_OK) {
		log_warnx("event=anomaly_rebuild_failed msg=\"%s\"",
		    err != NULL ? err->msg : "");
		cf_error_clear(err);
	}
	if (rc == CF_OK) {
		if (pthread_create(&ca->th, NULL, flag_main, ca) != 0)
			rc = cf_error_set(err, CF_E_INTERNAL,
			    "pthread_create");
		else
			ca->started = true;
	}
	if (rc == CF_OK)
		log_info("event=anomaly_detection records=%" PRIu64
		    " flags=%zu", ca->rebuilt, ca->kept.n);
	else
		core_anom_close(c);
	return rc;
}

static const char *
req_ns(const struct cf_req *r)
{
	return r->decided_data_ns[0] != '\0' ? r->decided_data_ns :
	    r->decided_ns;
}

void
core_anom_record(struct cf_core *c, const struct cf_req *r,
    const struct cf_audit_rec *rec)
{
	struct core_anom	*ca = c->anom;
	struct cf_anom_event	 ev;
	struct cf_anom_flag	 flags[CF_ANOM_NKINDS];
	size_t			 n, i;

	if (ca == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.time_us = core_now_us(c);
	ev.request_id = rec->request_id;
	ev.principal = rec->principal;
	ev.credential = r->authenticated ? r->token_id : "";
	ev.source = rec->source;
	ev.action = rec->action;
	ev.ns = req_ns(r);
	ev.allowed = r->allowed;
	ev.status = rec->status;
	ev.bytes = rec->bytes;
	ev.restricted = r->data_restricted;
	(void)pthread_mutex_lock(&ca->mu);
	n = cf_anom_observe(ca->det, &ev, flags, CF_ANOM_NKINDS);
	for (i = 0; i < n; i++) {
		ca->raised++;
		(void)fring_push(&ca->kept, &flags[i]);
		if (fring_push(&ca->queue, &flags[i])) {
			ca->dropped++;
			log_warnx("event=anomaly_dropped reason=queue_full");
		}
	}
	if (n > 0)
		(void)pthread_cond_signal(&ca->cv);
	(void)pthread_mutex_unlock(&ca->mu);
}

void
core_anom_risk(struct cf_core *c, struct cf_req *r)
{
	struct core_anom	*ca = c->anom;
	struct cf_anom_event	 ev;

	r->risk_set = false;
	r->risk_score = 0;
	r->risk_flags = 0;
	if (ca == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.time_us = core_now_us(c);
	ev.principal = r->authenticated ? r->principal.name : "";
	ev.credential = r->authenticated ? r->token_id : "";
	ev.source = r->source;
	(void)pthread_mutex_lock(&ca->mu);
	r->risk_score = cf_anom_risk(ca->det, &ev, &r->risk_flags);
	(void)pthread_mutex_unlock(&ca->mu);
	r->risk_set = true;
}

/* ---- GET /v1/anomalies ---- */

cf_err
cf_core_anomalies(struct cf_core *c, struct cf_req *r, uint64_t since_s,
    const char *principal, size_t limit, json_t **out,
    struct cf_error *err)
{
	struct core_anom	*ca = c->anom;
	const struct cf_anom_flag *f;
	json_t			*arr = NULL, *j;
	int64_t			 now, from;
	size_t			 i, profiles = 0;
	uint64_t		 evicted = 0, dropped = 0;
	cf_err			 rc;

	rc = core_authorize(c, r, "anomaly:list", NULL, "anomalies", err);
	if (rc != CF_OK)
		return rc;
	if (since_s < 1 || since_s > CF_ANOM_SINCE_MAX || limit < 1 ||
	    limit > KEPT_MAX)
		return cf_error_set(err, CF_E_INPUT, "since must be 1 s to "
		    "10 years and limit 1 to %d", KEPT_MAX);
	now = core_now_us(c);
	from = now - (int64_t)since_s * 1000000;
	arr = json_array();
	if (arr == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (ca != NULL) {
		(void)pthread_mutex_lock(&ca->mu);
		/* Newest first. */
		for (i = ca->kept.n; i > 0 && json_array_size(arr) < limit;
		    i--) {
			f = fring_at(&ca->kept, i - 1);
			if (f->time_us < from || (principal != NULL &&
			    *principal != '\0' &&
			    strcmp(principal, f->principal) != 0))
				continue;
			j = flag_json(f);
			if (j == NULL || json_array_append_new(arr, j) != 0) {
				rc = cf_error_set(err, CF_E_NOMEM,
				    "out of memory");
				break;
			}
		}
		cf_anom_stats(ca->det, &profiles, &evicted);
		dropped = ca->dropped;
		(void)pthread_mutex_unlock(&ca->mu);
	}
	if (rc == CF_OK) {
		*out = json_pack("{s:b, s:o, s:o, s:O, s:I, s:I, s:I}",
		    "enabled", ca != NULL, "since", core_time_json(from),
		    "until", core_time_json(now), "anomalies", arr,
		    "profiles", (json_int_t)profiles, "evicted",
		    (json_int_t)evicted, "dropped", (json_int_t)dropped);
		if (*out == NULL)
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	json_decref(arr);
	return rc;
}
