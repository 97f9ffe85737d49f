/* src/core/ops_alert.c: the core's side of alerts (core/alert.h): every
 * audit record the monitor writes is matched against the rules; an
 * alert that fires is recorded in the audit log and delivered to its
 * sinks, all off the request's path.
 *
 *   request thread: record written -> cf_alerts_match (a mutex, no I/O)
 *     -> the alert queued for the alert thread (bounded: when full, the
 *        oldest alert waiting is dropped and counted)
 *   alert thread: the alert's own audit record (action alert:fired,
 *     principal "system") -> one delivery per sink of the rule, queued
 *     for that sink's thread (bounded the same way, per sink)
 *   sink thread: syslog(3), or an HTTPS POST signed with HMAC-SHA256;
 *     a failed POST is tried again after retry_delay_ms, doubling up to
 *     five minutes, at most `retries` times.
 *
 * SEC: a sink that is down or slow never blocks a request (the request
 * only queues), nor another sink (each has its own thread and queue).
 * Alerts never trigger rules (cf_alerts_match skips alert:fired). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/alert.h"
#include "core/core_int.h"

#define FIRED_QUEUE	1024		/* alerts waiting for their record */
#define BACKOFF_MAX_MS	300000		/* the longest wait between tries */

/* An alert on its way: to its record, then to one sink. */
struct item {
	struct cf_alert_fire	f;
	char			id[CF_REQ_ID_LEN + 1];	/* its record's */
	int64_t			at_us;			/* when it fired */
};

struct ring {
	struct item	*v;
	size_t		 cap, head, n;
};

struct sink_rt {
	struct core_alerts	*ca;
	size_t			 idx;
	pthread_t		 th;
	bool			 started;
	pthread_cond_t		 cv;
	struct ring		 q;
	uint64_t		 sent;		/* delivered */
	uint64_t		 failures;	/* failed attempts */
	uint64_t		 gave_up;	/* out of retries */
	uint64_t		 dropped;	/* pushed out of a full queue */
	int64_t			 last_ok_us;
	char			 last_error[256];
};

struct core_alerts {
	struct cf_core		*c;
	struct cf_alerts	*rules;
	pthread_mutex_t		 mu;	/* everything below */
	pthread_cond_t		 cv;	/* the alert thread's */
	bool			 stop;
	pthread_t		 th;
	bool			 started;
	struct ring		 fired;
	uint64_t		 fired_dropped;
	uint64_t		 nfired[CF_ALERT_RULES_MAX];
	int64_t			 last_us[CF_ALERT_RULES_MAX];
	char			 last_trigger[CF_ALERT_RULES_MAX][33];
	size_t			 nsinks;
	struct sink_rt		 sinks[CF_ALERT_SINKS_MAX];
};

static cf_err
ring_init(struct ring *q, size_t cap, struct cf_error *err)
{
	q->v = cf_calloc(cap, sizeof(*q->v));
	if (q->v == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	q->cap = cap;
	q->head = q->n = 0;
	return CF_OK;
}

/* Push it; a full ring drops its oldest first (returns true then). */
static bool
ring_push(struct ring *q, const struct item *it)
{
	bool	dropped = false;

	if (q->n == q->cap) {
		q->head = (q->head + 1) % q->cap;
		q->n--;
		dropped = true;
	}
	q->v[(q->head + q->n) % q->cap] = *it;
	q->n++;
	return dropped;
}

static void
ring_pop(struct ring *q, struct item *it)
{
	*it = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

static void
cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t	ca;

	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(cv, &ca);
	(void)pthread_condattr_destroy(&ca);
}

/* ---- delivery ---- */

static pthread_once_t	curl_once = PTHREAD_ONCE_INIT;
static bool		curl_ok;

static void
curl_start(void)
{
	/* Reference counted by libcurl; the JWKS fetcher calls it too. */
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* One POST of the alert to sink k: CF_OK on a 2xx answer. */
static cf_err
post(const struct cf_alert_sink *k, const char *alert, const char *body,
    size_t len, struct cf_error *err)
{
	struct curl_slist	*h = NULL, *h2;
	CURL			*cu = NULL;
	CURLcode		 cc;
	char			 sig[7 + 64 + 1], hdr[128 + CF_ALERT_NAME_MAX];
	long			 status = 0;
	cf_err			 rc;

	(void)pthread_once(&curl_once, curl_start);
	if (!curl_ok)
		return cf_error_set(err, CF_E_INTERNAL, "libcurl "
		    "initialization failed");
	rc = cf_alert_signature(k, body, len, sig, err);
	if (rc != CF_OK)
		return rc;
	(void)snprintf(hdr, sizeof(hdr), "X-Coffer-Signature: %s", sig);
	h = curl_slist_append(NULL, "Content-Type: application/json");
	h2 = h != NULL ? curl_slist_append(h, hdr) : NULL;
	(void)snprintf(hdr, sizeof(hdr), "X-Coffer-Alert: %s", alert);
	h2 = h2 != NULL ? curl_slist_append(h2, hdr) : NULL;
	cu = h2 != NULL ? curl_easy_init() : NULL;
	if (cu == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	/* SEC: https only, no redirects, the peer and its name verified
	 * (against ca_file when set), bounded time. */
	cc = curl_easy_setopt(cu, CURLOPT_URL, k->url);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cc == CURLE_OK && k->ca_file[0] != '\0')
		cc = curl_easy_setopt(cu, CURLOPT_CAINFO, k->ca_file);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS,
		    (long)k->timeout_ms);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_USERAGENT, "coffer-alert");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h2);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, discard);
	if (cc != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "curl_easy_setopt: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	cc = curl_easy_perform(cu);
	if (cc != CURLE_OK) {
		rc = cf_error_set(err, CF_E_IO, "%s", curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		rc = cf_error_set(err, CF_E_IO, "HTTP status %ld", status);
out:
	if (cu != NULL)
		curl_easy_cleanup(cu);
	curl_slist_free_all(h2 != NULL ? h2 : h);
	cf_wipe(sig, sizeof(sig));
	return rc;
}

/* One attempt to deliver it through sink k. */
static cf_err
deliver(const struct cf_alerts *rules, const struct cf_alert_sink *k,
    const struct item *it, bool test, struct cf_error *err)
{
	json_t	*j;
	char	*body;
	char	 line[2048];
	cf_err	 rc;

	if (k->type == CF_ALERT_SYSLOG) {
		cf_alert_syslog_line(rules, &it->f, it->id, test, line,
		    sizeof(line));
		syslog(cf_alert_syslog_pri(k, cf_alerts_rule_severity(rules,
		    it->f.rule)), "%s", line);
		return CF_OK;
	}
	j = cf_alert_json(rules, &it->f, it->id, test, it->at_us);
	body = j != NULL ? cf_json_dumps_flags(j, JSON_COMPACT |
	    JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (body == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	rc = post(k, cf_alerts_rule_name(rules, it->f.rule), body,
	    strlen(body), err);
	cf_json_free(body);
	return rc;
}

static void
deadline_in(struct timespec *ts, uint64_t ms)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *
sink_main(void *arg)
{
	struct sink_rt			*s = arg;
	struct core_alerts		*ca = s->ca;
	const struct cf_alert_sink	*k = cf_alerts_sink(ca->rules, s->idx);
	struct timespec			 until;
	struct cf_error			 e;
	struct item			 it;
	uint64_t			 tries, delay;
	char				 esc[256];
	int				 w;
	cf_err				 rc;

	(void)pthread_mutex_lock(&ca->mu);
	for (;;) {
		while (!ca->stop && s->q.n == 0)
			(void)pthread_cond_wait(&s->cv, &ca->mu);
		if (ca->stop)
			break;
		ring_pop(&s->q, &it);
		for (tries = 0;; tries++) {
			(void)pthread_mutex_unlock(&ca->mu);
			cf_error_clear(&e);
			rc = deliver(ca->rules, k, &it, false, &e);
			(void)pthread_mutex_lock(&ca->mu);
			if (rc == CF_OK) {
				s->sent++;
				s->last_ok_us = core_now_us(ca->c);
				break;
			}
			s->failures++;
			cf_strlcpy(s->last_error, e.msg,
			    sizeof(s->last_error));
			cf_log_escape(e.msg, esc, sizeof(esc));
			if (tries >= k->retries) {
				s->gave_up++;
				log_warnx("event=alert_undelivered sink=%s "
				    "alert=%s id=%s tries=%" PRIu64
				    " error=\"%s\"", k->name,
				    cf_alerts_rule_name(ca->rules, it.f.rule),
				    it.id, tries + 1, esc);
				break;
			}
			log_info("event=alert_retry sink=%s id=%s try=%"
			    PRIu64 " error=\"%s\"", k->name, it.id,
			    tries + 1, esc);
			delay = k->retry_delay_ms << (tries < 20 ? tries : 20);
			if (delay > BACKOFF_MAX_MS)
				delay = BACKOFF_MAX_MS;
			deadline_in(&until, delay);
			w = 0;
			while (!ca->stop && w != ETIMEDOUT)
				w = pthread_cond_timedwait(&s->cv, &ca->mu,
				    &until);
			if (ca->stop)
				break;
		}
	}
	if (s->q.n > 0)
		log_warnx("event=alerts_not_delivered sink=%s count=%zu "
		    "reason=shutdown", k->name, s->q.n);
	(void)pthread_mutex_unlock(&ca->mu);
	return NULL;
}

/* ---- the alert thread ---- */

/* The alert's own audit record; it->id gets its request id. */
static cf_err
record_alert(struct core_alerts *ca, struct item *it, struct cf_error *err)
{
	struct cf_req	 r;
	const char	*name = cf_alerts_rule_name(ca->rules, it->f.rule);

	cf_req_init(&r, "local");
	r.authenticated = true;
	r.authn = "internal";
	cf_strlcpy(r.principal.name, "system", sizeof(r.principal.name));
	r.action = CF_ALERT_ACTION;
	r.allowed = true;
	(void)snprintf(r.resource, sizeof(r.resource), "alerts/%s", name);
	(void)snprintf(r.reasons, sizeof(r.reasons), "rule=%s,severity=%s,"
	    "trigger=%s,count=%" PRIu64 ",bytes=%" PRIu64 ",key=%.64s", name,
	    cf_alert_sev_name(cf_alerts_rule_severity(ca->rules,
	    it->f.rule)), it->f.trigger.request_id, it->f.count, it->f.bytes,
	    it->f.key);
	cf_strlcpy(it->id, r.request_id, sizeof(it->id));
	return cf_core_audit(ca->c, &r, 0, "ok", 0, err);
}

static void *
alert_main(void *arg)
{
	struct core_alerts	*ca = arg;
	struct cf_error		 e;
	struct item		 it;
	const size_t		*sinks;
	size_t			 n, i;
	bool			 stopping;

	(void)pthread_mutex_lock(&ca->mu);
	for (;;) {
		while (!ca->stop && ca->fired.n == 0)
			(void)pthread_cond_wait(&ca->cv, &ca->mu);
		/* Asked to stop: the alerts waiting still get their
		 * records (the audit log closes after this thread). */
		if (ca->fired.n == 0)
			break;
		stopping = ca->stop;
		ring_pop(&ca->fired, &it);
		(void)pthread_mutex_unlock(&ca->mu);
		cf_error_clear(&e);
		if (record_alert(ca, &it, &e) != CF_OK)
			log_warnx("event=alert_audit_failed alert=%s "
			    "trigger=%s", cf_alerts_rule_name(ca->rules,
			    it.f.rule), it.f.trigger.request_id);
		log_info("event=alert_fired alert=%s id=%s trigger=%s",
		    cf_alerts_rule_name(ca->rules, it.f.rule), it.id,
		    it.f.trigger.request_id);
		(void)pthread_mutex_lock(&ca->mu);
		if (stopping)
			continue;
		cf_alerts_rule_sinks(ca->rules, it.f.rule, &sinks, &n);
		for (i = 0; i < n; i++) {
			if (ring_push(&ca->sinks[sinks[i]].q, &it)) {
				ca->sinks[sinks[i]].dropped++;
				log_warnx("event=alert_dropped sink=%s "
				    "reason=queue_full", cf_alerts_sink(
				    ca->rules, sinks[i])->name);
			}
			(void)pthread_cond_signal(&ca->sinks[sinks[i]].cv);
		}
	}
	(void)pthread_mutex_unlock(&ca->mu);
	return NULL;
}

/* ---- open, close, the hook ---- */

void
core_alerts_close(struct cf_core *c)
{
	struct core_alerts	*ca = c->alerts;
	size_t			 i;

	if (ca == NULL)
		return;
	(void)pthread_mutex_lock(&ca->mu);
	ca->stop = true;
	(void)pthread_cond_broadcast(&ca->cv);
	for (i = 0; i < ca->nsinks; i++)
		(void)pthread_cond_broadcast(&ca->sinks[i].cv);
	(void)pthread_mutex_unlock(&ca->mu);
	if (ca->started)
		(void)pthread_join(ca->th, NULL);
	for (i = 0; i < ca->nsinks; i++) {
		if (ca->sinks[i].started)
			(void)pthread_join(ca->sinks[i].th, NULL);
		(void)pthread_cond_destroy(&ca->sinks[i].cv);
		cf_free(ca->sinks[i].q.v);
	}
	(void)pthread_cond_destroy(&ca->cv);
	(void)pthread_mutex_destroy(&ca->mu);
	cf_free(ca->fired.v);
	cf_alerts_free(ca->rules);
	cf_free(ca);
	c->alerts = NULL;
}

cf_err
core_alerts_open(struct cf_core *c, struct cf_error *err)
{
	struct core_alerts	*ca;
	size_t			 i;
	cf_err			 rc;

	ca = cf_calloc(1, sizeof(*ca));
	if (ca == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	ca->c = c;
	(void)pthread_mutex_init(&ca->mu, NULL);
	cond_init_mono(&ca->cv);
	c->alerts = ca;
	if (c->cfg.alert_rules_file == NULL ||
	    c->cfg.alert_rules_file[0] == '\0')
		return CF_OK;		/* no rules: nothing runs */
	rc = cf_alerts_load(c->cfg.alert_rules_file, &ca->rules, err);
	if (rc != CF_OK)
		goto out;
	rc = ring_init(&ca->fired, FIRED_QUEUE, err);
	for (i = 0; i < cf_alerts_nsinks(ca->rules) && rc == CF_OK; i++) {
		ca->sinks[i].ca = ca;
		ca->sinks[i].idx = i;
		cond_init_mono(&ca->sinks[i].cv);
		ca->nsinks++;
		rc = ring_init(&ca->sinks[i].q, (size_t)cf_alerts_sink(
		    ca->rules, i)->queue, err);
		if (rc == CF_OK) {
			if (pthread_create(&ca->sinks[i].th, NULL, sink_main,
			    &ca->sinks[i]) != 0)
				rc = cf_error_set(err, CF_E_INTERNAL,
				    "pthread_create");
			else
				ca->sinks[i].started = true;
		}
	}
	if (rc == CF_OK) {
		if (pthread_create(&ca->th, NULL, alert_main, ca) != 0)
			rc = cf_error_set(err, CF_E_INTERNAL,
			    "pthread_create");
		else
			ca->started = true;
	}
	if (rc == CF_OK)
		log_info("event=alerts_loaded rules=%zu sinks=%zu file=%s",
		    cf_alerts_nrules(ca->rules), cf_alerts_nsinks(ca->rules),
		    c->cfg.alert_rules_file);
out:
	if (rc != CF_OK)
		core_alerts_close(c);
	return rc;
}

cf_err
cf_core_check_alerts(const struct cf_core_config *cfg, struct cf_error *err)
{
	struct cf_alerts	*a = NULL;
	cf_err			 rc;

	if (cfg->alert_rules_file == NULL || cfg->alert_rules_file[0] == '\0')
		return CF_OK;
	rc = cf_alerts_load(cfg->alert_rules_file, &a, err);
	cf_alerts_free(a);
	return rc;
}

void
core_alerts_record(struct cf_core *c, const struct cf_audit_rec *rec)
{
	struct core_alerts	*ca = c->alerts;
	struct cf_alert_fire	 fires[8];
	struct item		 it;
	uint64_t		 lost = 0;
	int64_t			 now;
	size_t			 n, i;

	if (ca == NULL || ca->rules == NULL)
		return;
	now = core_now_us(c);
	cf_alerts_match(ca->rules, rec, now, fires, 8, &n, &lost);
	if (n == 0 && lost == 0)
		return;
	(void)pthread_mutex_lock(&ca->mu);
	ca->fired_dropped += lost;
	for (i = 0; i < n; i++) {
		memset(&it, 0, sizeof(it));
		it.f = fires[i];
		it.at_us = now;
		ca->nfired[it.f.rule]++;
		ca->last_us[it.f.rule] = now;
		cf_strlcpy(ca->last_trigger[it.f.rule],
		    it.f.trigger.request_id, sizeof(ca->last_trigger[0]));
		if (ring_push(&ca->fired, &it)) {
			ca->fired_dropped++;
			log_warnx("event=alert_dropped reason=queue_full");
		}
	}
	(void)pthread_cond_signal(&ca->cv);
	(void)pthread_mutex_unlock(&ca->mu);
}

/* ---- operations ---- */

static const char *
sink_type(const struct cf_alert_sink *k)
{
	return k->type == CF_ALERT_SYSLOG ? "syslog" : "webhook";
}

static json_t *
sink_names(const struct cf_alerts *a, size_t rule)
{
	const size_t	*sinks;
	json_t		*arr = json_array();
	size_t		 n, i;

	cf_alerts_rule_sinks(a, rule, &sinks, &n);
	for (i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, json_string(cf_alerts_sink(a,
		    sinks[i])->name)) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

cf_err
cf_core_alert_list(struct cf_core *c, struct cf_req *r, json_t **out,
    struct cf_error *err)
{
	struct core_alerts		*ca = c->alerts;
	const struct cf_alert_sink	*k;
	struct sink_rt			*s;
	json_t				*rules = NULL, *sinks = NULL, *j;
	size_t				 i;
	int				 bad = 0;
	cf_err				 rc;

	rc = core_authorize(c, r, "alert:list", NULL, "alerts", err);
	if (rc != CF_OK)
		return rc;
	rules = json_array();
	sinks = json_array();
	if (rules == NULL || sinks == NULL) {
		bad = 1;
		goto out;
	}
	(void)pthread_mutex_lock(&ca->mu);
	for (i = 0; i < cf_alerts_nrules(ca->rules); i++)
		bad |= json_array_append_new(rules, json_pack("{s:s, s:s, "
		    "s:o*, s:o*, s:I, s:o, s:o}", "name",
		    cf_alerts_rule_name(ca->rules, i), "severity",
		    cf_alert_sev_name(cf_alerts_rule_severity(ca->rules, i)),
		    "sinks", sink_names(ca->rules, i), "condition",
		    cf_alerts_rule_json(ca->rules, i), "fired",
		    (json_int_t)ca->nfired[i], "last_fired",
		    core_time_json(ca->last_us[i]), "last_trigger",
		    ca->last_trigger[i][0] != '\0' ?
		    json_string(ca->last_trigger[i]) : json_null()));
	for (i = 0; i < ca->nsinks; i++) {
		k = cf_alerts_sink(ca->rules, i);
		s = &ca->sinks[i];
		bad |= json_array_append_new(sinks, json_pack("{s:s, s:s, "
		    "s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "name",
		    k->name, "type", sink_type(k), "url", k->type ==
		    CF_ALERT_WEBHOOK ? json_string(k->url) : json_null(),
		    "queued", (json_int_t)s->q.n, "sent", (json_int_t)s->sent,
		    "failed_attempts", (json_int_t)s->failures, "gave_up",
		    (json_int_t)s->gave_up, "dropped", (json_int_t)s->dropped,
		    "last_ok", core_time_json(s->last_ok_us), "last_error",
		    s->last_error[0] != '\0' ? json_string(s->last_error) :
		    json_null()));
	}
	j = json_pack("{s:O, s:O, s:I, s:o}", "rules", rules, "sinks", sinks,
	    "dropped", (json_int_t)ca->fired_dropped, "rules_file",
	    c->cfg.alert_rules_file != NULL &&
	    c->cfg.alert_rules_file[0] != '\0' ?
	    json_string(c->cfg.alert_rules_file) : json_null());
	(void)pthread_mutex_unlock(&ca->mu);
	if (j == NULL)
		bad = 1;
	else if (bad)
		json_decref(j);
	else
		*out = j;
out:
	json_decref(rules);
	json_decref(sinks);
	if (bad)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

cf_err
cf_core_alert_test(struct cf_core *c, struct cf_req *r, const char *name,
    json_t **out, struct cf_error *err)
{
	struct core_alerts		*ca = c->alerts;
	const struct cf_alert_sink	*k;
	struct cf_audit_rec		 rec;
	struct core_act			 act;
	struct cf_error			 e;
	struct item			 it;
	const size_t			*sinks;
	json_t				*arr = NULL, *j;
	char				 res[CF_RESOURCE_MAX];
	size_t				 n, i;
	long				 rule;
	bool				 all = true;
	int				 bad = 0;
	cf_err				 rc;

	(void)snprintf(res, sizeof(res), "alerts/%s", name);
	rc = core_authorize(c, r, "alert:test", NULL, res, err);
	if (rc != CF_OK)
		return rc;
	rule = cf_alerts_find(ca->rules, name);
	if (rule < 0) {
		r->errcode = "no_such_alert";
		return cf_error_set(err, CF_E_NOTFOUND, "no alert rule named "
		    "\"%s\" (coffer alert ls)", name);
	}
	arr = json_array();
	if (arr == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	/* SEC: audit, then act: the request's record is written before
	 * anything leaves for a sink. */
	rc = core_act_begin(&act, c, r, 200, err);
	if (rc == CF_OK)
		rc = core_act_record(&act, 0, err);
	rc = core_act_end(&act, rc);
	if (rc != CF_OK) {
		json_decref(arr);
		return rc;
	}
	/* The test alert's trigger is this request. */
	memset(&rec, 0, sizeof(rec));
	rec.time_us = r->time_us;
	rec.request_id = r->request_id;
	rec.principal = r->principal.name;
	rec.source = r->source;
	rec.action = r->action;
	rec.resource = r->resource;
	rec.decision = "allow";
	rec.status = 200;
	rec.result = "ok";
	memset(&it, 0, sizeof(it));
	it.f.rule = (size_t)rule;
	it.f.count = 1;
	cf_strlcpy(it.f.key, r->principal.name, sizeof(it.f.key));
	it.f.trigger.time_us = rec.time_us;
	cf_strlcpy(it.f.trigger.request_id, rec.request_id,
	    sizeof(it.f.trigger.request_id));
	cf_strlcpy(it.f.trigger.principal, rec.principal,
	    sizeof(it.f.trigger.principal));
	cf_strlcpy(it.f.trigger.source, rec.source,
	    sizeof(it.f.trigger.source));
	cf_strlcpy(it.f.trigger.action, rec.action,
	    sizeof(it.f.trigger.action));
	cf_strlcpy(it.f.trigger.resource, rec.resource,
	    sizeof(it.f.trigger.resource));
	cf_strlcpy(it.f.trigger.decision, "allow",
	    sizeof(it.f.trigger.decision));
	it.f.trigger.status = 200;
	cf_strlcpy(it.f.trigger.result, "ok", sizeof(it.f.trigger.result));
	cf_strlcpy(it.id, r->request_id, sizeof(it.id));
	it.at_us = core_now_us(c);
	cf_alerts_rule_sinks(ca->rules, (size_t)rule, &sinks, &n);
	for (i = 0; i < n; i++) {
		k = cf_alerts_sink(ca->rules, sinks[i]);
		cf_error_clear(&e);
		rc = deliver(ca->rules, k, &it, true, &e);
		if (rc != CF_OK)
			all = false;
		bad |= json_array_append_new(arr, json_pack("{s:s, s:s, s:b, "
		    "s:o}", "sink", k->name, "type", sink_type(k), "ok",
		    rc == CF_OK, "error", rc == CF_OK ? json_null() :
		    json_string(e.msg)));
	}
	j = json_pack("{s:s, s:s, s:b, s:o}", "alert", name, "id", it.id,
	    "ok", all, "sinks", arr);
	if (j == NULL || bad) {
		json_decref(j);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	*out = j;
	return CF_OK;
}

cf_err
core_alerts_render(struct cf_core *c, struct cf_buf *o, struct cf_error *err)
{
	struct core_alerts		*ca = c->alerts;
	const struct cf_alert_sink	*k;
	struct sink_rt			*s;
	size_t				 i;
	cf_err				 rc;

	if (ca == NULL)
		return CF_OK;
	(void)pthread_mutex_lock(&ca->mu);
	rc = cf_buf_printf(o, err,
	    "# HELP coffer_alerts_fired_total Alerts fired, by rule.\n"
	    "# TYPE coffer_alerts_fired_total counter\n");
	for (i = 0; i < cf_alerts_nrules(ca->rules) && rc == CF_OK; i++)
		rc = cf_buf_printf(o, err, "coffer_alerts_fired_total{rule="
		    "\"%s\"} %" PRIu64 "\n", cf_alerts_rule_name(ca->rules, i),
		    ca->nfired[i]);
	if (rc == CF_OK)
		rc = cf_buf_printf(o, err,
		    "# HELP coffer_alerts_dropped_total Alerts dropped before "
		    "their record: the alert queue was full.\n"
		    "# TYPE coffer_alerts_dropped_total counter\n"
		    "coffer_alerts_dropped_total %" PRIu64 "\n"
		    "# HELP coffer_alert_deliveries_total Alert deliveries, by "
		    "sink and outcome (sent, failed: an attempt that failed, "
		    "gave_up: out of retries, dropped: pushed out of a full "
		    "queue).\n"
		    "# TYPE coffer_alert_deliveries_total counter\n",
		    ca->fired_dropped);
	for (i = 0; i < ca->nsinks && rc == CF_OK; i++) {
		k = cf_alerts_sink(ca->rules, i);
		s = &ca->sinks[i];
		rc = cf_buf_printf(o, err,
		    "coffer_alert_deliveries_total{sink=\"%s\",outcome="
		    "\"sent\"} %" PRIu64 "\n"
		    "coffer_alert_deliveries_total{sink=\"%s\",outcome="
		    "\"failed\"} %" PRIu64 "\n"
		    "coffer_alert_deliveries_total{sink=\"%s\",outcome="
		    "\"gave_up\"} %" PRIu64 "\n"
		    "coffer_alert_deliveries_total{sink=\"%s\",outcome="
		    "\"dropped\"} %" PRIu64 "\n", k->name, s->sent, k->name,
		    s->failures, k->name, s->gave_up, k->name, s->dropped);
	}
	(void)pthread_mutex_unlock(&ca->mu);
	return rc;
}
