/* src/server/http.c: REST API v1 over libmicrohttpd (see docs/api.md).
 *
 * Each request gets a struct conn on its first callback: the route is
 * resolved, the caller authenticated, and for uploads the core operation
 * begins (and authorizes) before any body byte is read.  Every response
 * goes through respond(), which records the request in the audit log
 * first and refuses to answer (503) if that fails.
 *
 * SEC: the client address used for the record, for network isolation and
 * for policy is the socket's peer address, unless that peer is one of
 * trusted_proxies: then the address it forwarded (client_address;
 * docs/security.md, "Trusted proxies").  Forwarding headers from anyone
 * else are ignored. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/check.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/netaddr.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "core/datadir.h"
#include "server/http.h"
#include "server/http_int.h"

#define DL_BLOCK	(256 * 1024)	/* bytes per download callback */
#define SMALL_BODY	(64 * 1024)	/* served from memory up to this */
/* Per-connection buffer pool: request headers, the read buffer (one TLS
 * record at a time) and the reply headers.  libmicrohttpd 0.9.75 zeroes
 * all of it whenever a request ends (memorypool.c, MHD_pool_reset), so
 * every kept-alive connection holds all of it resident while idle: at
 * 128 KiB that was ~140 KiB per idle connection and 3.4% of a small
 * GET's CPU in memset; at 32 KiB it is ~46 KiB (bench/README.md, "Idle
 * connections").  It is also how much of an oversized request head
 * libmicrohttpd reads before refusing it: it then closes without draining
 * the rest, so a client still sending a head of more than 32 KiB may see
 * a reset instead of the 414/431 (docs/api.md, "Errors"). */
#define CONN_MEM	(32 * 1024)
/* Request line and header fields, refused above this with a JSON 431
 * (AWS S3 allows 8 KiB of headers, nginx 8 KiB per line); half of
 * CONN_MEM, so the reply's header block always fits beside it. */
#define HDR_MAX		(16 * 1024)
#define SLOW_THREADS	2		/* threads for identity requests */
/* Shutdown: how long to wait for suspended requests to be answered (an
 * identity request in SQLite's 10 s busy wait, a response waiting for its
 * audit record) before giving up on a clean stop (docs/operations.md),
 * and how often to log what is still in progress.  Requests in progress
 * get shutdown_drain_timeout (config) to finish. */
#define STOP_MAX_US	(60 * 1000000LL)
#define STOP_LOG_US	(5 * 1000000LL)
/* Exit status when the stop cannot be clean (cf_http_stop). */
#define STOP_STUCK_EXIT	3
/* An error message escaped for a log line (cf_log_escape: up to 4 bytes
 * per byte, truncated with "..."). */
#define LOG_MSG_LEN	(2 * CF_ERROR_MSG_LEN)
/* The largest body of PUT /v1/policies/{name}: a policy text of
 * CF_POLICY_TEXT_MAX bytes grows by an escape per newline, tab and quote
 * in JSON; twice its size is room for every ordinary text. */
#define POLICY_BODY_MAX	(2 * (size_t)CF_POLICY_TEXT_MAX + 65536)
/* A JSON response body (an audit read of 10000 records is a few MB). */
#define JSON_OUT_MAX	(256u << 20)
/* GnuTLS priorities: TLS 1.3 and 1.2 only; SEC: AEAD ciphers only (no
 * CBC with its SHA-1/SHA-2 MACs and their padding-oracle history), and no
 * static RSA key exchange (no forward secrecy).  Every current client
 * (curl, Python, browsers, the AWS SDKs) speaks ECDHE with AES-GCM. */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:" \
	"-MAC-ALL:+AEAD:-RSA:%SERVER_PRECEDENCE"
/* Query arguments per request (the API uses at most four).  Each costs
 * libmicrohttpd a record in the connection's pool, so a request line of
 * a few thousand "a&" would exhaust CONN_MEM before the handler runs, and
 * the connection would hang without an answer: refused with a JSON 414
 * instead (see uri_log). */
#define ARGS_MAX	64
/* Connection governance (docs/operations.md): a connection's deadline
 * once the reaper has cut it, how often the reaper looks, and the least
 * time between two log lines about refused or cut connections. */
#define HEAD_CUT	UINT64_MAX
#define REAP_TICK_NS	(200 * 1000000ULL)
#define GOV_LOG_NS	(10 * 1000000000ULL)
/* Transfer governance: a request body's state once the reaper has cut it
 * for min_upload_rate, the buckets of the per-principal transfer counts,
 * and the Retry-After of a transfer refused over its limit (a guess: the
 * client cannot know when one of its transfers ends). */
#define BODY_CUT	UINT64_MAX
#define XFER_BUCKETS	64
#define XFER_RETRY_S	5

enum xfer_kind { XFER_NONE, XFER_UP, XFER_DOWN };

/* The transfers in progress of one principal; freed when it has none. */
struct xfer {
	struct xfer	*next;
	int64_t		 principal;
	unsigned	 n[3];		/* by enum xfer_kind */
};


struct cf_http {
	struct MHD_Daemon	*d;
	struct cf_core		*core;
	const struct cf_config	*cfg;
	/* Pool mode: a response waits, its connection suspended, until the
	 * request's audit record is durable (no thread blocks on it). */
	bool			 async;
	pthread_mutex_t		 wmu;
	struct conn		*waiters;	/* under wmu */
	unsigned		 nwaiting;	/* under wmu */
	/* Identity requests (password hashing: ~0.1 s of CPU) run on their
	 * own threads, their connections suspended, so they never hold an
	 * event thread.  Queue and counts under wmu. */
	pthread_t		 slow_thr[SLOW_THREADS];
	unsigned		 nslow_thr;
	pthread_cond_t		 slow_cv;
	struct conn		*slow_head, *slow_tail;
	unsigned		 slow_jobs;	/* queued or running */
	bool			 slow_stop;
	bool			 slow_cv_ok;
	/* Shutdown (cf_http_stop), under wmu.  stopping: identity requests
	 * are refused rather than queued.  closing: nothing is suspended
	 * and nothing may be any more (libmicrohttpd aborts if stopped with
	 * a suspended connection), so a response whose record is not yet
	 * durable waits for it on its event thread, on durable_cv. */
	atomic_bool		 stopping;
	bool			 closing;
	pthread_cond_t		 durable_cv;
	bool			 durable_cv_ok;
	atomic_uint		 nreq;		/* requests in progress */
	/* Connection governance: every open connection (struct sock), for
	 * the reaper thread, which cuts those whose request head is not in
	 * by its deadline.  List and reap_stop under smu. */
	pthread_mutex_t		 smu;
	pthread_cond_t		 reap_cv;	/* CLOCK_MONOTONIC */
	pthread_t		 reaper;
	bool			 reaper_ok;
	bool			 reap_stop;
	struct sock		*socks;
	unsigned		 nsocks;
	uint64_t		 head_ns;	/* request_head_timeout */
	uint64_t		 idle_ns;	/* connection_timeout */
	atomic_uint_fast64_t	 refused;	/* for the reaper to log */
	/* Request bodies: the least bytes in a window of stall_ns
	 * (min_upload_rate x upload_stall_timeout; 0: no minimum). */
	uint64_t		 stall_ns;
	uint64_t		 stall_min;
	/* Transfers in progress per principal, under xmu. */
	pthread_mutex_t		 xmu;
	bool			 xmu_ok;
	struct xfer		*xfers[XFER_BUCKETS];
	/* trusted_proxies, and whether they speak RFC 7239 Forwarded (else
	 * X-Forwarded-For). */
	struct cf_cidr_list	 trusted;
	bool			 fwd_rfc7239;
	uint64_t		 nxfers;	/* all of them (metrics) */
	/* The certificate served (public), for the posture check; NULL
	 * with insecure_http. */
	char			*cert_pem;
};

/* One TCP connection (libmicrohttpd's socket context), from accept to
 * close.  deadline (cf_mono_ns): when the head of its current request
 * must be in; 0 while none is awaited (a request is being served, or its
 * body read); HEAD_CUT once the reaper has cut the connection.  The
 * first request's head is due request_head_timeout after the accept (TLS
 * handshake included); a later one's request line connection_timeout
 * after the previous request ended, and its headers request_head_timeout
 * after its request line. */
struct sock {
	struct sock		*prev, *next;	/* h->socks, under smu */
	int			 fd;
	_Atomic uint64_t	 deadline;
	atomic_bool		 served;	/* a request of it has ended */
	/* The body of its current request: body_gen is a number of the
	 * request while its body is read (0: none), BODY_CUT once the
	 * reaper has cut it for min_upload_rate; body_bytes counts what
	 * arrived.  win_*: the reaper's alone, its current window. */
	_Atomic uint64_t	 body_gen;
	_Atomic uint64_t	 body_bytes;
	uint64_t		 next_gen;	/* the handler's */
	uint64_t		 win_gen, win_start, win_bytes;
};

struct conn {
	struct cf_http	*h;
	struct cf_req	 req;
	const struct cf_route *rt;	/* its row of the table, or NULL */
	bool		 path_known;	/* NULL rt: a row has this path */
	char		 ns[CF_NS_NAME_MAX];	/* {ns} of the path, or "" */
	char		*rest;		/* the other capture: {key...},
					 * {id}, {name} or {role}, or NULL */
	struct cf_buf	 body;		/* JSON bodies */
	uint64_t	 mem;		/* of the request memory budget,
					 * held for body (body_reserve) */
	struct cf_put	*put;		/* streaming upload in progress */
	bool		 trail;		/* digest at the end of the body */
	struct cf_http_trail hold;	/* its last bytes, held back */
	bool		 started;	/* the handler has seen it */
	bool		 log_refused;	/* answered 503: no record possible */
	bool		 responded;
	bool		 failed;	/* refused; the body is discarded */
	bool		 close;		/* answer with Connection: close */
	bool		 too_many_args;	/* over ARGS_MAX (see uri_log) */
	bool		 authn_late;	/* authenticated at dispatch
					 * (late_read) */
	int		 pend_status;	/* answer once the body has ended */
	char		 pend_code[32];
	char		 pend_msg[CF_ERROR_MSG_LEN];
	uint64_t	 bytes_in;
	uint64_t	 drained;	/* bytes discarded after a refusal */
	struct sock	*sock;		/* its connection's, or NULL */
	enum xfer_kind	 xfer;		/* the transfer slot it holds */
	int64_t		 xfer_principal;
	char		 content_range[64];	/* for a 416 answer */
	char		 allow[CF_ROUTE_ALLOW_LEN];	/* for a 405 answer */
	/* Async audit: the response parked until the record is durable. */
	uint64_t		 audit_seq;	/* 0: none submitted */
	struct MHD_Response	*stash;
	int			 stash_status;
	int			 resp_status;	/* the answer queued */
	bool			 left_waiting;	/* the client left first */
	struct MHD_Connection	*mc;
	struct conn		*next_wait;
	bool			 waiting;	/* in h->waiters */
	/* Identity request handed to a slow thread. */
	struct conn		*next_job;
	bool			 queued;	/* in the slow queue */
	bool			 slow_dead;	/* it produced no answer */
	/* A download whose body is being sent: completed() records how it
	 * ended (the completion record, see dl_end).  dl_sent and
	 * dl_failed are written by dl_read, on the connection's thread. */
	bool			 dl;
	bool			 dl_small;	/* from memory, no reader */
	bool			 dl_failed;	/* stored data unreadable */
	int			 dl_status;
	uint64_t		 dl_len;	/* body size */
	uint64_t		 dl_sent;	/* handed to libmicrohttpd */
	bool			 dl_pend;	/* from cf_http_object_body */
	/* An S3 request (a path outside /v1/; server/s3.c): its state, the
	 * raw request URI (SigV4 signs it as sent) and the action its
	 * operation was decided under. */
	struct cf_s3		*s3;
	char			*raw_uri;
	const char		*s3_action;
	const char		*s3_refine;	/* or this (CopyObject's
						 * source read) */
};

/* Set on the slow threads: a response is stashed for the handler, which
 * alone may queue it (libmicrohttpd's rule). */
static _Thread_local bool	on_slow_thread;
/* The slow thread's current request was answered (stashed): from then on
 * its conn may be resumed, answered and freed at any time. */
static _Thread_local bool	slow_answered;

/* After refusing an upload mid-body, read and discard at most this much
 * more so the client can receive its answer; beyond it the connection is
 * cut (the request is still audited). */
#define DRAIN_MAX	(64ULL << 20)

struct dl {
	struct cf_get	*g;
	struct conn	*c;		/* counts dl_sent (dl_read only) */
	uint64_t	 start;		/* first plaintext byte */
	uint64_t	 len;
};

/* ---- responses ---- */

static const char *
default_code(cf_err rc, int *status)
{
	switch (rc) {
	case CF_E_INPUT:	*status = 400; return "bad_request";
	case CF_E_AUTH:		*status = 401; return "unauthenticated";
	case CF_E_DENIED:	*status = 403; return "access_denied";
	case CF_E_NOTFOUND:	*status = 404; return "not_found";
	case CF_E_CONFLICT:	*status = 409; return "already_exists";
	case CF_E_LIMIT:	*status = 413; return "too_large";
	case CF_E_INTEGRITY:	*status = 500; return "integrity_error";
	case CF_E_UNAVAILABLE:	*status = 503;
		return "key_provider_unavailable";
	default:		*status = 500; return "internal";
	}
}

static void
add_common_headers(struct conn *c, struct MHD_Response *resp)
{
	(void)MHD_add_response_header(resp, "X-Request-Id",
	    c->req.request_id);
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	if (!c->h->cfg->insecure_http)
		(void)MHD_add_response_header(resp,
		    "Strict-Transport-Security", "max-age=31536000");
	/* Shutting down, or a request whose framing we refused: the client
	 * should not send another request on this connection (and
	 * libmicrohttpd then reads none). */
	if (c->close ||
	    atomic_load_explicit(&c->h->stopping, memory_order_relaxed))
		(void)MHD_add_response_header(resp, "Connection", "close");
}

static enum MHD_Result	queue_unavailable(struct MHD_Connection *mc,
			    struct conn *c);

/* The action a request was decided under is its route's (or the one
 * refinement its row allows), or "unknown": a refusal before the route's
 * handler ran, or a request no row matched. */
static bool
route_action_held(const struct conn *c)
{
	const char	*a = c->req.action;

	if (strcmp(a, "unknown") == 0)
		return true;
	if (c->s3 != NULL)
		return (c->s3_action != NULL && strcmp(a, c->s3_action) ==
		    0) || (c->s3_refine != NULL && strcmp(a, c->s3_refine) ==
		    0);
	if (c->rt == NULL)
		return false;
	return strcmp(a, c->rt->action) == 0 ||
	    (c->rt->refine != NULL && strcmp(a, c->rt->refine) == 0);
}

/* SEC: the reference monitor's invariants, checked where bytes leave:
 * the request was decided (an action and a decision) under its route's
 * action, its record was written (durability is the caller's check,
 * just before), and a success answers only an allowed request.  Our own
 * code holds these; a broken one aborts a debug build and answers 503 in
 * a release build. */
static bool
monitor_held(const struct conn *c, int status)
{
	/* The 503 of a log that refused the record is the one answer
	 * without one (queue_unavailable); it says nothing but that. */
	if (c->log_refused)
		return status == 503;
	if (CF_NEVER(c->req.action == NULL) ||
	    CF_NEVER(!route_action_held(c)) ||
	    CF_NEVER(!c->req.audited) ||
	    CF_NEVER(status >= 200 && status < 300 && !c->req.allowed))
		return false;
	return true;
}

/* Queue resp now, or (async) once the request's audit record is durable:
 * SEC: nothing is sent before.  Takes resp. */
static enum MHD_Result
queue_audited(struct MHD_Connection *mc, struct conn *c, int status,
    struct MHD_Response *resp)
{
	struct cf_http	*h = c->h;
	enum MHD_Result	 ret;
	int		 st = 1;

	c->resp_status = status;
	if (on_slow_thread) {
		/* The connection is suspended already: stash the response;
		 * resume now if its record is durable (or the log broke:
		 * unpark answers 503), else the notifier will. */
		(void)pthread_mutex_lock(&h->wmu);
		st = c->audit_seq != 0 ?
		    cf_core_audit_state(h->core, c->audit_seq) : 1;
		c->stash = resp;
		c->stash_status = status;
		slow_answered = true;
		if (st == 0) {
			c->next_wait = h->waiters;
			h->waiters = c;
			h->nwaiting++;
			c->waiting = true;
		} else
			MHD_resume_connection(c->mc);
		(void)pthread_mutex_unlock(&h->wmu);
		return MHD_YES;
	}
	if (h->async && c->audit_seq != 0) {
		(void)pthread_mutex_lock(&h->wmu);
		st = cf_core_audit_state(h->core, c->audit_seq);
		/* Closing: no new suspension, so this event thread waits
		 * for the record itself (the notifier runs until the daemon
		 * has stopped, and wakes us after every commit). */
		while (st == 0 && h->closing) {
			(void)pthread_cond_wait(&h->durable_cv, &h->wmu);
			st = cf_core_audit_state(h->core, c->audit_seq);
		}
		if (st == 0) {
			/* The notifier resumes us (under wmu, so never
			 * before the suspension); the handler then queues
			 * the stash. */
			c->stash = resp;
			c->stash_status = status;
			c->mc = mc;
			c->next_wait = h->waiters;
			h->waiters = c;
			h->nwaiting++;
			c->waiting = true;
			MHD_suspend_connection(mc);
			(void)pthread_mutex_unlock(&h->wmu);
			return MHD_YES;
		}
		(void)pthread_mutex_unlock(&h->wmu);
	}
	if (st < 0 || !monitor_held(c, status)) {
		MHD_destroy_response(resp);
		return queue_unavailable(mc, c);
	}
	ret = MHD_queue_response(mc, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	c->responded = true;
	if (c->dl && c->dl_small && ret == MHD_YES)
		c->dl_sent = c->dl_len;		/* handed over whole */
	return ret;
}

/* SEC: JSON bodies are wiped when libmicrohttpd lets them go: some carry
 * secrets (session and API tokens, a TOTP secret, recovery codes), and
 * one more pass over bytes just written costs little.  Compact JSON
 * holds no NUL (jansson escapes it). */
static void
json_body_free(void *cls)
{
	char	*s = cls;

	cf_wipe(s, strlen(s));
	cf_free(s);
}

/* SEC: overwrite the strings of a response that carried secrets before it
 * is freed (jansson frees without wiping).  Only values held by this
 * reference alone: a shared one is not ours to overwrite. */
static void
wipe_json(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (j == NULL || j->refcount != 1)
		return;
	if (json_is_string(j))
		cf_wipe((void *)(uintptr_t)json_string_value(j),
		    json_string_length(j));
	else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			wipe_json(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			wipe_json(v);
	}
}

/* The routes whose answers hold secrets (docs/api.md): a new session
 * token, a new API token, an MFA enrolment. */
static bool
secret_reply(const struct conn *c)
{
	return c->rt != NULL && (c->rt->flags & CF_ROUTE_SECRET) != 0;
}

static enum MHD_Result
queue_json(struct MHD_Connection *mc, struct conn *c, int status, json_t *j)
{
	struct MHD_Response	*resp;
	struct cf_buf		 b;
	size_t			 len;
	char			*s;

	/* Serialized straight into a buffer that wipes what it leaves
	 * behind as it grows (json_dumps would leave copies in freed
	 * memory). */
	cf_buf_init_secret(&b, JSON_OUT_MAX);
	if (cf_json_dump(j, JSON_COMPACT, &b, NULL) != CF_OK) {
		cf_buf_free(&b);
		return MHD_NO;
	}
	len = b.len;
	if ((s = cf_buf_take(&b)) == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer_with_free_callback(len, s,
	    json_body_free);
	if (resp == NULL) {
		json_body_free(s);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, "Content-Type",
	    "application/json");
	add_common_headers(c, resp);
	if (status == 401)
		(void)MHD_add_response_header(resp, "WWW-Authenticate",
		    "Bearer realm=\"coffer\"");
	if (c->content_range[0] != '\0')
		(void)MHD_add_response_header(resp, "Content-Range",
		    c->content_range);
	if (status == 405 && c->allow[0] != '\0')
		(void)MHD_add_response_header(resp, "Allow", c->allow);
	if ((status == 429 || status == 503) && c->req.retry_after > 0) {
		char ra[24];
		(void)snprintf(ra, sizeof(ra), "%lld",
		    (long long)c->req.retry_after);
		(void)MHD_add_response_header(resp, "Retry-After", ra);
	}
	return queue_audited(mc, c, status, resp);
}

/* The audit log refused or lost the record: 503, never audited (the log
 * cannot take it), sent at once. */
static enum MHD_Result
queue_unavailable(struct MHD_Connection *mc, struct conn *c)
{
	json_t		*e;
	enum MHD_Result	 ret;

	c->audit_seq = 0;
	c->dl = false;		/* no download goes out: nothing to complete */
	c->log_refused = true;	/* the one answer without a record */
	e = json_pack("{s:{s:s,s:s,s:s}}", "error", "code",
	    "unavailable", "message",
	    "audit log unavailable; request refused", "request_id",
	    c->req.request_id);
	if (e == NULL)
		return MHD_NO;
	ret = queue_json(mc, c, 503, e);
	json_decref(e);
	return ret;
}

/* Record the request: blocking (thread per connection), or submitted and
 * awaited by queue_audited (pool). */
static cf_err
audit_req(struct conn *c, int status, const char *result, uint64_t bytes,
    struct cf_error *err)
{
	if (!c->h->async)
		return cf_core_audit(c->h->core, &c->req, status, result, bytes,
		    err);
	return cf_core_audit_submit(c->h->core, &c->req, status, result,
	    bytes, &c->audit_seq, err);
}

/* The client closed its side of the connection (or it broke): nothing
 * it could still read.  A suspended connection is not polled, so
 * libmicrohttpd learns of it only by writing, and a first write to a
 * peer that has just closed succeeds: the answer would count as sent.
 * SEC: a client that only half-closes (shutdown(SHUT_WR)) and waits for
 * its answer is taken as gone too (nginx's "client closed request");
 * HTTP clients do not do that. */
static bool
peer_gone(const struct conn *c)
{
	struct pollfd	pfd;

	if (c->sock == NULL || c->sock->fd < 0)
		return false;
	pfd.fd = c->sock->fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 1)
		return false;
	return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Resumed: the parked response goes out if its record is durable and
 * its client is still there (else completed() records that it left:
 * req_end, or a download's completion record). */
static enum MHD_Result
unpark(struct MHD_Connection *mc, struct conn *c)
{
	struct MHD_Response	*resp = c->stash;
	enum MHD_Result		 ret;

	c->stash = NULL;
	if (peer_gone(c)) {
		MHD_destroy_response(resp);
		c->left_waiting = true;
		return MHD_NO;
	}
	if (cf_core_audit_state(c->h->core, c->audit_seq) != 1 ||
	    !monitor_held(c, c->stash_status)) {
		MHD_destroy_response(resp);
		return queue_unavailable(mc, c);
	}
	ret = MHD_queue_response(mc, (unsigned int)c->stash_status, resp);
	MHD_destroy_response(resp);
	c->responded = true;
	if (c->dl && c->dl_small && ret == MHD_YES)
		c->dl_sent = c->dl_len;		/* handed over whole */
	return ret;
}

/* The audit notifier: the log is durable up to `durable` (or broken):
 * resume the connections whose records are. */
static void
audit_durable(void *arg, uint64_t durable, bool broken)
{
	struct cf_http	*h = arg;
	struct conn	**pp, *c;

	(void)pthread_mutex_lock(&h->wmu);
	for (pp = &h->waiters; (c = *pp) != NULL;) {
		if (broken || c->audit_seq <= durable) {
			*pp = c->next_wait;
			c->waiting = false;
			h->nwaiting--;
			MHD_resume_connection(c->mc);
		} else
			pp = &c->next_wait;
	}
	if (h->closing)
		(void)pthread_cond_broadcast(&h->durable_cv);
	(void)pthread_mutex_unlock(&h->wmu);
}

/* SEC: the one way out.  The request is audited before anything is
 * queued; if the audit log refuses the record, the client gets 503 and
 * nothing else. */
static enum MHD_Result
respond(struct MHD_Connection *mc, struct conn *c, int status, json_t *j,
    const char *result, uint64_t bytes)
{
	struct cf_error	 err;
	enum MHD_Result	 ret;
	/* Read now: once queued from a slow thread, c may be gone. */
	bool		 secret = secret_reply(c);

	cf_error_clear(&err);
	if (!c->req.audited &&
	    audit_req(c, status, result, bytes, &err) != CF_OK) {
		if (secret)
			wipe_json(j);
		json_decref(j);
		return queue_unavailable(mc, c);
	}
	ret = queue_json(mc, c, status, j);
	if (secret)
		wipe_json(j);
	json_decref(j);
	return ret;
}

static enum MHD_Result
respond_error(struct MHD_Connection *mc, struct conn *c, int status,
    const char *code, const char *msg)
{
	json_t	*j;
	char	 safe[2 * CF_ERROR_MSG_LEN];

	/* SEC: messages quote names, keys and resources from the request
	 * (and cf_error_set may cut one inside a character); jansson
	 * refuses a string that is not UTF-8, and a refusal must still be
	 * answered. */
	(void)cf_http_text_safe(msg, safe, sizeof(safe));
	j = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message",
	    safe, "request_id", c->req.request_id);
	if (j == NULL)
		return MHD_NO;
	return respond(mc, c, status, j, code, 0);
}

/* Map a core error to its HTTP status and API code. */
static enum MHD_Result
respond_cf_error(struct MHD_Connection *mc, struct conn *c, cf_err rc,
    const struct cf_error *err, const char *notfound_code,
    const char *conflict_code)
{
	const char	*code;
	char		 esc[LOG_MSG_LEN];
	int		 status;

	code = default_code(rc, &status);
	/* A change stored and recorded, but not yet in force. */
	if (rc == CF_E_IO && c->req.errcode != NULL &&
	    strcmp(c->req.errcode, "policy_reload_failed") == 0)
		return respond_error(mc, c, 503, c->req.errcode, err->msg);
	if (rc == CF_E_NOTFOUND && notfound_code != NULL)
		code = notfound_code;
	/* SEC: a refusal says why only where that tells nothing (the
	 * network, or a rule applied after the policies allowed). */
	if (rc == CF_E_DENIED && c->req.errcode != NULL &&
	    (strcmp(c->req.errcode, "network_refused") == 0 ||
	    strcmp(c->req.errcode, "own_request") == 0 ||
	    strcmp(c->req.errcode, "promotion_required") == 0 ||
	    strcmp(c->req.errcode, "not_requester") == 0 ||
	    strcmp(c->req.errcode, "own_access") == 0 ||
	    strcmp(c->req.errcode, "not_reviewer") == 0))
		code = c->req.errcode;
	if (rc == CF_E_CONFLICT && conflict_code != NULL)
		code = conflict_code;
	else if (rc == CF_E_CONFLICT && c->req.errcode != NULL)
		code = c->req.errcode;
	/* A legal hold or retention refuses whatever the operation, and
	 * says which. */
	if (rc == CF_E_CONFLICT && c->req.errcode != NULL &&
	    (strcmp(c->req.errcode, "held") == 0 ||
	    strcmp(c->req.errcode, "retention") == 0 ||
	    strcmp(c->req.errcode, "already_erased") == 0))
		code = c->req.errcode;
	/* The operation's specific code (no_such_key, mfa_required,
	 * weak_password, locked, ...). */
	if (c->req.errcode != NULL && (rc == CF_E_NOTFOUND || rc == CF_E_AUTH ||
	    rc == CF_E_LIMIT || rc == CF_E_INPUT))
		code = c->req.errcode;
	/* Crypto-shredded: gone for good, with its tombstone. */
	if (rc == CF_E_NOTFOUND && strcmp(code, "erased") == 0)
		status = 410;
	if (rc == CF_E_LIMIT && c->req.errcode != NULL &&
	    (strcmp(code, "too_many_attempts") == 0 ||
	    strcmp(code, "locked") == 0))
		status = 429;
	/* SEC: error messages carry names, keys and claims from the
	 * request: escaped, so they cannot forge fields or lines. */
	if (status >= 500 && rc != CF_E_INTEGRITY) {
		cf_log_escape(err->msg, esc, sizeof(esc));
		log_warnx("event=request_failed request=%s error=%s msg=\"%s\"",
		    c->req.request_id, cf_err_name(rc), esc);
		/* The client may retry later: say why, in a fixed text (the
		 * log has the token's own answer). */
		if (rc == CF_E_UNAVAILABLE)
			return respond_error(mc, c, status, code, "the key "
			    "provider (HSM) is not reachable: requests that "
			    "need a data key are refused until it is back");
		return respond_error(mc, c, status, code,
		    "internal error (see the server log for request id)");
	}
	if (rc == CF_E_INTEGRITY) {
		cf_log_escape(err->msg, esc, sizeof(esc));
		log_warnx("event=integrity_failure request=%s msg=\"%s\"",
		    c->req.request_id, esc);
	}
	return respond_error(mc, c, status, code,
	    err->msg[0] != '\0' ? err->msg : code);
}

/* ---- transfer governance ---- */

static struct xfer **
xfer_slot(struct cf_http *h, int64_t principal)
{
	struct xfer	**pp;

	pp = &h->xfers[(uint64_t)principal % XFER_BUCKETS];
	while (*pp != NULL && (*pp)->principal != principal)
		pp = &(*pp)->next;
	return pp;
}

/* The action c is decided under, for a refusal made outside its
 * handler: its route's, or its S3 operation's (an S3 request has no
 * route), or "unknown" before either is known. */
static const char *
conn_action(const struct conn *c)
{
	if (c->s3 != NULL)
		return c->s3_action != NULL ? c->s3_action : "unknown";
	return c->rt != NULL ? c->rt->action : "unknown";
}

/* Take a slot of kind k (an upload or a download) for c's principal
 * before its transfer begins.  False if refused: *ret is the answer, a
 * recorded 429 too_many_transfers over max_uploads_per_principal or
 * max_downloads_per_principal (500 out of memory: SEC: fail closed);
 * on the S3 endpoint S3's throttling answer, 503 SlowDown in XML (with
 * the same Retry-After), which S3 clients retry with backoff.
 * A request without a principal takes none: the operation refuses it.
 * The slot is c's until completed() releases it, however the request
 * ends. */
static bool
xfer_take(struct MHD_Connection *mc, struct conn *c, enum xfer_kind k,
    enum MHD_Result *ret)
{
	struct cf_http	*h = c->h;
	struct xfer	**pp, *x;
	uint64_t	 max;
	char		 why[128];
	const char	*name;
	bool		 ok = true, nomem = false;

	if (!c->req.authenticated || c->xfer != XFER_NONE)
		return true;
	max = k == XFER_UP ? h->cfg->max_uploads_per_principal :
	    h->cfg->max_downloads_per_principal;
	(void)pthread_mutex_lock(&h->xmu);
	pp = xfer_slot(h, c->req.principal.id);
	x = *pp;
	if (x == NULL) {
		x = cf_calloc(1, sizeof(*x));
		if (x == NULL)
			nomem = true;
		else {
			x->principal = c->req.principal.id;
			*pp = x;
		}
	}
	if (x != NULL && x->n[k] >= max)
		ok = false;
	else if (x != NULL) {
		x->n[k]++;
		h->nxfers++;
		c->xfer = k;
		c->xfer_principal = x->principal;
	}
	(void)pthread_mutex_unlock(&h->xmu);
	if (nomem) {
		cf_core_reject(h->core, &c->req, conn_action(c),
		    "out of memory");
		c->failed = true;
		*ret = c->s3 != NULL ? cf_s3_refuse(mc, c, 500, "internal",
		    "out of memory") : respond_error(mc, c, 500, "internal",
		    "out of memory");
		return false;
	}
	if (ok)
		return true;
	name = k == XFER_UP ? "max_uploads_per_principal" :
	    "max_downloads_per_principal";
	(void)snprintf(why, sizeof(why), "%s (%llu) reached", name,
	    (unsigned long long)max);
	cf_core_reject(h->core, &c->req, conn_action(c), why);
	c->req.retry_after = XFER_RETRY_S;
	c->failed = true;
	(void)snprintf(why, sizeof(why), "too many %s in progress for this "
	    "principal (%s %llu); retry later", k == XFER_UP ? "uploads" :
	    "downloads", name, (unsigned long long)max);
	*ret = c->s3 != NULL ? cf_s3_refuse(mc, c, 503, "SlowDown", why) :
	    respond_error(mc, c, 429, "too_many_transfers", why);
	return false;
}

static void
xfer_release(struct conn *c)
{
	struct cf_http	*h = c->h;
	struct xfer	**pp, *x;

	if (c->xfer == XFER_NONE)
		return;
	(void)pthread_mutex_lock(&h->xmu);
	pp = xfer_slot(h, c->xfer_principal);
	x = *pp;
	if (!CF_NEVER(x == NULL) && !CF_NEVER(x->n[c->xfer] == 0)) {
		x->n[c->xfer]--;
		h->nxfers--;
		if (x->n[XFER_UP] == 0 && x->n[XFER_DOWN] == 0) {
			/* Its memory goes back: the table holds only the
			 * principals with a transfer in progress. */
			*pp = x->next;
			cf_free(x);
		}
	}
	(void)pthread_mutex_unlock(&h->xmu);
	c->xfer = XFER_NONE;
}

static void
xfer_end(struct cf_http *h)
{
	struct xfer	*x, *next;
	size_t		 i;

	if (!h->xmu_ok)
		return;
	for (i = 0; i < XFER_BUCKETS; i++)
		for (x = h->xfers[i]; x != NULL; x = next) {
			next = x->next;
			cf_free(x);
		}
	(void)pthread_mutex_destroy(&h->xmu);
	h->xmu_ok = false;
}

/* ---- request parsing ---- */

static const char *
header(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

static const char *
arg(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, name);
}

static void
peer_address(struct MHD_Connection *mc, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa;

	cf_strlcpy(out, "?", outsz);
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)outsz);
}

/* "Bearer <token>"; any other Authorization value is a bad credential. */
static const char *
bearer_of(struct MHD_Connection *mc, bool *present)
{
	const char	*a;

	a = header(mc, "Authorization");
	*present = a != NULL;
	if (a == NULL)
		return NULL;
	if (strncasecmp(a, "Bearer ", 7) != 0)
		return "";
	a += 7;
	while (*a == ' ')
		a++;
	return a;
}

struct meta_ctx {
	json_t	*obj;
	bool	 bad;
};

static enum MHD_Result
collect_meta(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct meta_ctx	*m = cls;
	char		 name[128];
	size_t		 i;

	(void)kind;
	if (strncasecmp(key, "X-Coffer-Meta-", 14) != 0)
		return MHD_YES;
	if (strlen(key + 14) == 0 || strlen(key + 14) >= sizeof(name) ||
	    value == NULL || !cf_utf8_valid(value, strlen(value))) {
		m->bad = true;
		return MHD_NO;
	}
	for (i = 0; key[14 + i] != '\0'; i++) {
		char ch = key[14 + i];
		name[i] = (ch >= 'A' && ch <= 'Z') ?
		    (char)(ch - 'A' + 'a') : ch;
	}
	name[i] = '\0';
	if (json_object_set_new(m->obj, name, json_string(value)) != 0)
		m->bad = true;
	return MHD_YES;
}

/* ---- downloads ---- */

static ssize_t
dl_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct dl	*d = cls;
	struct cf_error	 err;
	char		 esc[LOG_MSG_LEN];
	size_t		 got = 0, want;

	if (pos >= d->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	want = d->len - pos < max ? (size_t)(d->len - pos) : max;
	cf_error_clear(&err);
	/* SEC: cf_core_get_read only returns authenticated bytes; on a tag
	 * failure the connection is cut, so the client sees a short body. */
	if (cf_core_get_read(d->g, d->start + pos, buf, want, &got, &err) !=
	    CF_OK || got == 0) {
		cf_log_escape(err.msg, esc, sizeof(esc));
		log_warnx("event=download_aborted msg=\"%s\"", esc);
		if (d->c != NULL)
			d->c->dl_failed = true;
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* An upper bound of what reached the client: libmicrohttpd sends
	 * what it is handed, but the connection may end before it has. */
	if (d->c != NULL && pos + got > d->c->dl_sent)
		d->c->dl_sent = pos + got;
	return (ssize_t)got;
}

static void
dl_free(void *cls)
{
	struct dl	*d = cls;

	cf_core_get_close(d->g);
	cf_free(d);
}

/* A small plaintext body: wiped when libmicrohttpd lets it go. */
struct small {
	size_t	len;
	char	data[];
};

static void
small_free(void *cls)
{
	struct small	*sb = cls;

	cf_wipe(sb->data, sb->len);
	cf_free(sb);
}

static cf_err
small_body(struct cf_get *g, uint64_t first, size_t len,
    struct MHD_Response **out, struct cf_error *err)
{
	struct small	*sb;
	size_t		 off, got;
	cf_err		 rc;

	if ((sb = cf_malloc(sizeof(*sb) + len)) == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	sb->len = len;
	for (off = 0; off < len; off += got) {
		rc = cf_core_get_read(g, first + off, sb->data + off,
		    len - off, &got, err);
		if (rc == CF_OK && got == 0)
			rc = cf_error_set(err, CF_E_INTEGRITY,
			    "stored data ended early");
		if (rc != CF_OK) {
			small_free(sb);
			return rc;
		}
	}
	*out = MHD_create_response_from_buffer_with_free_callback_cls(len,
	    sb->data, small_free, sb);
	if (*out == NULL) {
		small_free(sb);
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	return CF_OK;
}

/* The digest headers of a version: X-Coffer-SHA256, the SHA-256 of its
 * bytes; or for one completed by reference (nsegs > 0),
 * X-Coffer-SHA256-Segments, the SHA-256 of its segments' SHA-256
 * digests, and X-Coffer-Segments, their sizes ("SIZExCOUNT,...", when
 * short enough for a header; else GET /v1/ns/{ns}/segments/{key} gives
 * them), from which a client checks it (docs/api.md, "Digests").
 * SEC: never the composite under X-Coffer-SHA256's name: a client
 * checking that against the body would refuse it, and one that did not
 * check would be misled. */
static void
digest_headers(struct MHD_Response *resp, const char *sha256, uint32_t nsegs,
    const char *segments)
{
	char	n[24];

	if (nsegs == 0) {
		(void)MHD_add_response_header(resp, "X-Coffer-SHA256", sha256);
		return;
	}
	(void)MHD_add_response_header(resp, "X-Coffer-SHA256-Segments",
	    sha256);
	(void)snprintf(n, sizeof(n), "%u", (unsigned)nsegs);
	(void)MHD_add_response_header(resp, "X-Coffer-Segment-Count", n);
	if (segments != NULL)
		(void)MHD_add_response_header(resp, "X-Coffer-Segments",
		    segments);
}

static enum MHD_Result
serve_get(struct MHD_Connection *mc, struct conn *c, bool head)
{
	struct cf_error			 err;
	const struct cf_object_view	*v;
	struct MHD_Response		*resp = NULL;
	struct cf_get			*g = NULL, *small = NULL;
	struct dl			*d = NULL;
	uint64_t			 first = 0, last = 0, len;
	char				 hv[128], tbuf[64];
	const char			*version = arg(mc, "version");
	int				 rng, status = 200;
	enum MHD_Result			 ret;
	struct tm			 tm;
	time_t				 t;
	cf_err				 rc;

	/* SEC: before any byte is read: a principal's downloads in progress
	 * are bounded (a HEAD sends no body and takes no slot). */
	if (!head && !xfer_take(mc, c, XFER_DOWN, &ret))
		return ret;
	cf_error_clear(&err);
	rc = cf_core_get_open(c->h->core, &c->req, c->ns, c->rest, version,
	    head, &g, &err);
	if (rc != CF_OK)
		return respond_cf_error(mc, c, rc, &err, "no_such_key", NULL);
	v = cf_core_get_view(g);
	len = v->size;
	rng = head ? 0 : cf_http_parse_range(header(mc, "Range"), v->size,
	    &first, &last);
	if (rng < 0) {
		/* RFC 9110: a 416 names the current length. */
		(void)snprintf(c->content_range, sizeof(c->content_range),
		    "bytes */%llu", (unsigned long long)v->size);
		cf_core_get_close(g);
		return respond_error(mc, c, 416, "invalid_range",
		    "range not satisfiable");
	}
	if (rng > 0) {
		status = 206;
		len = last - first + 1;
	}
	if (!head && len > 0 && len <= SMALL_BODY) {
		/* A small body is read (and authenticated) whole, now: the
		 * response then comes from memory, in one piece with its
		 * headers, without a reader callback. */
		rc = small_body(g, first, (size_t)len, &resp, &err);
		if (rc != CF_OK) {
			cf_core_get_close(g);
			return respond_cf_error(mc, c, rc, &err, NULL, NULL);
		}
		small = g;	/* closed once the headers are made */
		goto headers;
	}
	if (!head && len > 0) {
		char probe;
		size_t got;
		/* Authenticate the first chunk before committing to a 2xx:
		 * a tampered small object gets a clean 500. */
		rc = cf_core_get_read(g, first, &probe, 1, &got, &err);
		if (rc != CF_OK) {
			cf_core_get_close(g);
			return respond_cf_error(mc, c, rc, &err, NULL, NULL);
		}
	}
	d = cf_calloc(1, sizeof(*d));
	if (d == NULL) {
		cf_core_get_close(g);
		return respond_error(mc, c, 500, "internal", "out of memory");
	}
	d->g = g;
	d->start = first;
	d->len = len;
	/* HEAD: libmicrohttpd sends the headers of this response without
	 * calling the reader. */
	/* A small object gets a small buffer: MHD allocates (and clears)
	 * block_size bytes per response. */
	resp = MHD_create_response_from_callback(len,
	    len < DL_BLOCK ? (size_t)len + 1 : DL_BLOCK, dl_read, d, dl_free);
	if (resp == NULL) {
		dl_free(d);
		return MHD_NO;
	}
headers:
	(void)MHD_add_response_header(resp, "Content-Type",
	    cf_str_field_value_ok(v->content_type) ? v->content_type :
	    "application/octet-stream");
	(void)snprintf(hv, sizeof(hv), "\"%s\"", v->sha256);
	(void)MHD_add_response_header(resp, "ETag", hv);
	digest_headers(resp, v->sha256, v->nsegs, v->segments);
	(void)MHD_add_response_header(resp, "X-Coffer-Version-Id",
	    v->version_id);
	(void)MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	t = (time_t)(v->created_us / 1000000);
	(void)gmtime_r(&t, &tm);
	(void)strftime(tbuf, sizeof(tbuf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	(void)MHD_add_response_header(resp, "Last-Modified", tbuf);
	if (status == 206) {
		(void)snprintf(hv, sizeof(hv), "bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)v->size);
		(void)MHD_add_response_header(resp, "Content-Range", hv);
	}
	{
		const char *k;
		json_t *val;
		char name[CF_ATTR_NAME_MAX + 16];
		/* Names are header tokens and values have no control
		 * characters (checked when set). */
		json_object_foreach((json_t *)(uintptr_t)v->labels, k, val) {
			(void)snprintf(name, sizeof(name), "X-Coffer-Label-%s",
			    k);
			if (cf_str_field_value_ok(json_string_value(val)))
				(void)MHD_add_response_header(resp, name,
				    json_string_value(val));
		}
	}
	if (v->user_meta[0] != '\0') {
		json_t *m = json_loads(v->user_meta, 0, NULL);
		const char *k;
		json_t *val;
		char name[160];
		json_object_foreach(m, k, val) {
			(void)snprintf(name, sizeof(name), "X-Coffer-Meta-%s",
			    k);
			/* Uploads refuse what cannot be a header field: this
			 * only guards against data stored before. */
			if (json_is_string(val) &&
			    cf_str_field_value_ok(name) &&
			    cf_str_field_value_ok(json_string_value(val)))
				(void)MHD_add_response_header(resp, name,
				    json_string_value(val));
		}
		json_decref(m);
	}
	add_common_headers(c, resp);
	cf_core_get_close(small);
	/* SEC: audited before the first byte is queued, as sent in full;
	 * completed() adds how the download actually ended (dl_end). */
	if (audit_req(c, status, "ok", head ? 0 : len, &err) != CF_OK) {
		MHD_destroy_response(resp);
		return queue_unavailable(mc, c);
	}
	if (!head && len > 0) {
		c->dl = true;
		c->dl_small = d == NULL;
		c->dl_status = status;
		c->dl_len = len;
		if (d != NULL)
			d->c = c;
	}
	return queue_audited(mc, c, status, resp);
}

/* ---- JSON routes ---- */

static enum MHD_Result
respond_result(struct MHD_Connection *mc, struct conn *c, cf_err rc,
    struct cf_error *err, json_t *out, int okstatus, const char *nf,
    const char *conflict)
{
	if (rc != CF_OK) {
		json_decref(out);
		return respond_cf_error(mc, c, rc, err, nf, conflict);
	}
	return respond(mc, c, okstatus, out, "ok", 0);
}

static cf_err
parse_body(struct conn *c, json_t **out, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_json_parse(c->body.data != NULL ? c->body.data : "",
	    c->body.len, c->body.max, 32, out, err);
	if (rc == CF_OK && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = cf_error_set(err, CF_E_INPUT,
		    "request body must be a JSON object");
	}
	return rc;
}

/* SEC: the JSON text of an optional part of a request (a token's scope,
 * an object's metadata): *out NULL when v is absent (or, with
 * empty_absent, an empty object), the text otherwise.  A dump answers
 * NULL on out-of-memory too, and a NULL
 * here would mean "absent": a scope dropped is the caller's whole scope,
 * metadata dropped is data lost.  So a failed dump is CF_E_NOMEM, never
 * an absent part. */
static cf_err
dump_part(const json_t *v, size_t flags, bool empty_absent, char **out,
    struct cf_error *err)
{
	*out = NULL;
	if (v == NULL || (empty_absent && json_object_size(v) == 0))
		return CF_OK;
	*out = cf_json_dumps_flags(v, flags);
	if (*out == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	return CF_OK;
}

/* Refuse an optional part that could not be copied (out of memory):
 * 503, recorded as denied under the route's action. */
static enum MHD_Result
respond_nomem(struct MHD_Connection *mc, struct conn *c)
{
	cf_core_reject(c->h->core, &c->req, c->rt->action, "out of memory");
	c->failed = true;
	return respond_error(mc, c, 503, "unavailable", "the server is out "
	    "of memory; try again");
}

/* A string member of a JSON body with its length (JSON strings may hold
 * NUL, so passwords are byte strings). */
static cf_err
get_bytes(const json_t *body, const char *name, bool required,
    const char **s, size_t *len, struct cf_error *err)
{
	json_t	*v = json_object_get(body, name);

	if (v == NULL)
		return required ? cf_error_set(err, CF_E_INPUT,
		    "\"%s\" is required", name) : CF_OK;
	if (!json_is_string(v))
		return cf_error_set(err, CF_E_INPUT, "\"%s\" must be a string",
		    name);
	*s = json_string_value(v);
	*len = json_string_length(v);
	return CF_OK;
}

/* SEC: overwrite the secrets of a parsed body (jansson frees without
 * wiping) and the raw body buffer. */
static void
wipe_body(struct conn *c, json_t *body)
{
	static const char *const secret[] = { "password", "current_password",
	    "code", "recovery_code" };
	json_t	*v;
	size_t	 i;

	for (i = 0; body != NULL && i < sizeof(secret) / sizeof(secret[0]);
	    i++) {
		v = json_object_get(body, secret[i]);
		if (json_is_string(v))
			cf_wipe((void *)(uintptr_t)json_string_value(v),
			    json_string_length(v));
	}
	if (c->body.data != NULL)
		cf_wipe(c->body.data, c->body.len);
}

/* A JSON body that does not parse or lacks a member: its secrets wiped,
 * the request refused (and audited) as its route's action without
 * reaching the core.  Takes body (may be NULL). */
static enum MHD_Result
respond_bad_body(struct MHD_Connection *mc, struct conn *c, json_t *body,
    cf_err rc, const struct cf_error *err)
{
	wipe_body(c, body);
	json_decref(body);
	cf_core_reject(c->h->core, &c->req, c->rt->action, "invalid request");
	return respond_error(mc, c, rc == CF_E_LIMIT ? 413 : 400,
	    rc == CF_E_LIMIT ? "too_large" : "invalid_json", err->msg);
}

/* ---- route handlers (one per row of the table below) ---- */

static enum MHD_Result
h_health(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_health(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* GET /v1/metrics: Prometheus' text format (docs/monitoring.md). */
static enum MHD_Result
h_metrics(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_http			*h = c->h;
	struct cf_metrics_extra		 x;
	const union MHD_DaemonInfo	*di;
	struct MHD_Response		*resp;
	struct cf_error			 err;
	struct cf_buf			 b;
	cf_err				 rc;

	cf_error_clear(&err);
	cf_buf_init(&b, 4u << 20);	/* 4 MiB: far more than all series */
	memset(&x, 0, sizeof(x));
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	if (di != NULL)
		x.connections = di->num_connections;
	(void)pthread_mutex_lock(&h->xmu);
	x.transfers = h->nxfers;
	(void)pthread_mutex_unlock(&h->xmu);
	rc = cf_core_metrics(h->core, &c->req, &x, &b, &err);
	if (rc != CF_OK) {
		cf_buf_free(&b);
		return respond_result(mc, c, rc, &err, NULL, 200, NULL, NULL);
	}
	cf_error_clear(&err);
	if (audit_req(c, 200, "ok", b.len, &err) != CF_OK) {
		cf_buf_free(&b);
		return queue_unavailable(mc, c);
	}
	resp = MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY);
	cf_buf_free(&b);
	if (resp == NULL)
		return queue_unavailable(mc, c);
	add_common_headers(c, resp);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	return queue_audited(mc, c, 200, resp);
}

/* GET /v1/posture[?unused_days=N]: the deployment checked against best
 * practice (docs/posture.md); the facts only the front end knows are
 * handed to the core, which does every check on the store. */
static enum MHD_Result
h_posture(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_posture_facts	 f;
	struct cf_error		 err;
	json_t			*out = NULL;
	const char		*days = arg(mc, "unused_days");
	char			 cert[4096];
	uint64_t		 n = 0;
	cf_err			 rc;

	cf_error_clear(&err);
	if (days != NULL && cf_parse_u64(days, 1, 3650, &n, &err) != CF_OK) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "bad query");
		return respond_error(mc, c, c->req.authenticated ? 400 : 401,
		    c->req.authenticated ? "bad_request" : "unauthenticated",
		    "unused_days must be a number of days, 1-3650");
	}
	memset(&f, 0, sizeof(f));
	f.tls = !c->h->cfg->insecure_http;
	f.cert_pem = c->h->cert_pem;
	f.cert_own = c->h->cfg->tls_cert[0] == '\0';
	if (f.cert_own) {
		if (cf_dd_path(c->h->cfg->data_dir, CF_DD_TLS_CERT, cert,
		    sizeof(cert), NULL) != CF_OK)
			(void)cf_strlcpy(cert, CF_DD_TLS_CERT, sizeof(cert));
	} else
		(void)cf_strlcpy(cert, c->h->cfg->tls_cert, sizeof(cert));
	f.cert_path = cert;
	f.tls_priorities = TLS_PRIORITIES;
	f.listen = c->h->cfg->listen;
	f.http_lib_version = MHD_get_version();
	f.unused_days = (int64_t)n;
	rc = cf_core_posture(c->h->core, &c->req, &f, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

static enum MHD_Result
h_whoami(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_whoami(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

static enum MHD_Result
h_ns_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_ns_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* POST /v1/ns {"name","env","sensitivity"}.  Unauthenticated callers are
 * refused by the operation (audited as its action) before any body is
 * looked at; so are they on every route below that reads a body. */
static enum MHD_Result
h_ns_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*name = NULL, *env = NULL, *sens = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated) {
		rc = cf_core_ns_create(c->h->core, &c->req, "", NULL, &out,
		    &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "name", true, &name, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "env", false, &env, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "sensitivity", false, &sens, &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_ns_create_sens(c->h->core, &c->req, name, env, sens,
	    &out, &err);
	json_decref(body);
	if (rc == CF_E_INPUT)
		return respond_error(mc, c, 400, "invalid_name", err.msg);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_namespace",
	    "already_exists");
}

static enum MHD_Result
h_ns_get(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_ns_get(c->h->core, &c->req, c->ns, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_namespace",
	    "namespace_not_empty");
}

static enum MHD_Result
h_ns_delete(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_ns_delete(c->h->core, &c->req, c->ns, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_namespace",
	    "namespace_not_empty");
}

/* PATCH /v1/ns/{ns} {"sensitivity"}, {"retain_days"} or
 * {"purge_after_days"} (the last two: the refinement ns:set-retention):
 * one change per request. */
static enum MHD_Result
h_ns_patch(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*sens = "";
	int64_t		 days = -1, purge = -1;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_int(body, "retain_days", false, &days,
			    &err);
		if (rc == CF_OK)
			rc = cf_json_get_int(body, "purge_after_days", false,
			    &purge, &err);
		if (rc == CF_OK && (json_object_get(body, "sensitivity") !=
		    NULL) + (json_object_get(body, "retain_days") != NULL) +
		    (json_object_get(body, "purge_after_days") != NULL) > 1)
			rc = cf_error_set(&err, CF_E_INPUT, "one change per "
			    "request: sensitivity, retain_days or "
			    "purge_after_days");
		if (rc == CF_OK && (days < -1 || purge < -1))
			rc = cf_error_set(&err, CF_E_INPUT, "retain_days and "
			    "purge_after_days are 0 or more days");
		if (rc == CF_OK && days < 0 && purge < 0)
			rc = cf_json_get_str(body, "sensitivity", true, &sens,
			    &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	if (purge >= 0)
		rc = cf_core_ns_set_purge(c->h->core, &c->req, c->ns, purge,
		    &out, &err);
	else if (days >= 0)
		rc = cf_core_ns_set_retention(c->h->core, &c->req, c->ns,
		    days, &out, &err);
	else
		rc = cf_core_ns_set_sensitivity(c->h->core, &c->req, c->ns,
		    sens, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_namespace",
	    NULL);
}

/* GET /v1/ns/{ns}/objects?prefix&delimiter&after&limit */
static enum MHD_Result
h_object_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	uint64_t	 limit = 1000;
	cf_err		 rc;

	cf_error_clear(&err);
	if (arg(mc, "limit") != NULL &&
	    cf_parse_u64(arg(mc, "limit"), 1, 1000, &limit, &err) != CF_OK) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "bad limit");
		return respond_error(mc, c, 400, "bad_request",
		    "limit must be a number from 1 to 1000");
	}
	rc = cf_core_object_list(c->h->core, &c->req, c->ns,
	    arg(mc, "prefix"), arg(mc, "delimiter"), arg(mc, "after"),
	    (size_t)limit, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_namespace",
	    NULL);
}

static enum MHD_Result
h_object_get(struct MHD_Connection *mc, struct conn *c)
{
	return serve_get(mc, c, false);
}

static enum MHD_Result
h_object_head(struct MHD_Connection *mc, struct conn *c)
{
	return serve_get(mc, c, true);
}

static enum MHD_Result
h_object_delete(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_object_delete(c->h->core, &c->req, c->ns, c->rest, &out,
	    &err);
	if (rc == CF_E_INPUT)
		return respond_error(mc, c, 400, "invalid_name", err.msg);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_key", NULL);
}

/* The end of an upload begun (and authorized) by begin_put.  A chunked
 * body may carry its digest as a trailer (the client hashed while
 * sending), or as its own last 64 bytes. */
static enum MHD_Result
h_object_put(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*digest;
	bool		 present;
	cf_err		 rc;

	cf_error_clear(&err);
	digest = MHD_lookup_connection_value(mc, MHD_FOOTER_KIND,
	    "X-Coffer-SHA256");
	if (c->trail) {
		/* The held-back end of the body. */
		digest = cf_http_trail_digest(&c->hold);
		if (digest == NULL)
			digest = "short";
	}
	if (digest != NULL &&
	    cf_core_put_expect(c->put, digest, &err) != CF_OK) {
		cf_core_put_abort(c->put);
		c->put = NULL;
		return respond_error(mc, c, 400, "bad_request", err.msg);
	}
	rc = cf_core_put_finish(c->put, bearer_of(mc, &present), &out, &err);
	c->put = NULL;
	if (rc == CF_E_INTEGRITY)
		return respond_error(mc, c, 400, "digest_mismatch", err.msg);
	if (rc == CF_OK)
		return respond(mc, c, 201, out, "ok", c->bytes_in);
	return respond_cf_error(mc, c, rc, &err, NULL, c->req.errcode);
}

static enum MHD_Result
h_versions(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_object_versions(c->h->core, &c->req, c->ns, c->rest,
	    &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_key", NULL);
}

/* GET /v1/ns/{ns}/segments/{key}[?version=ID] */
static enum MHD_Result
h_segments(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_object_segments(c->h->core, &c->req, c->ns, c->rest,
	    arg(mc, "version"), &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_key", NULL);
}

static enum MHD_Result
h_principal_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_principal_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* POST /v1/principals {"name","kind","owner"} */
static enum MHD_Result
h_principal_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*name = NULL, *kind = NULL, *owner = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated) {
		rc = cf_core_principal_create(c->h->core, &c->req, "", NULL,
		    &out, &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "name", true, &name, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "kind", false, &kind, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "owner", false, &owner, &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_principal_create_owned(c->h->core, &c->req, name, kind,
	    owner, &out, &err);
	json_decref(body);
	if (rc == CF_E_NOTFOUND)
		return respond_result(mc, c, rc, &err, out, 201,
		    "no_such_principal", NULL);
	if (rc == CF_E_INPUT)
		return respond_error(mc, c, 400, "invalid_name", err.msg);
	return respond_result(mc, c, rc, &err, out, 201, NULL,
	    "already_exists");
}

/* GET /v1/tokens[?principal=] */
static enum MHD_Result
h_token_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_token_list(c->h->core, &c->req, arg(mc, "principal"),
	    &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* POST /v1/tokens {"principal","expires_in","description","scope"} */
static enum MHD_Result
h_token_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*principal = NULL, *desc = NULL;
	char		*scope = NULL;
	int64_t		 expires_in = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated) {
		rc = cf_core_token_create(c->h->core, &c->req, "", 0, NULL,
		    &out, &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "principal", true, &principal,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_int(body, "expires_in", false, &expires_in,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "description", false, &desc, &err);
	if (rc == CF_OK && json_object_get(body, "scope") != NULL &&
	    !json_is_object(json_object_get(body, "scope")))
		rc = cf_error_set(&err, CF_E_INPUT, "scope must be an object");
	if (rc == CF_OK && json_object_get(body, "expires_in") != NULL &&
	    expires_in <= 0)
		rc = cf_error_set(&err, CF_E_INPUT,
		    "expires_in must be a positive number of seconds "
		    "(omit it for a token that does not expire)");
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	if (dump_part(json_object_get(body, "scope"), JSON_COMPACT, false,
	    &scope, &err) != CF_OK) {
		json_decref(body);
		return respond_nomem(mc, c);
	}
	rc = cf_core_token_create_scoped(c->h->core, &c->req, principal,
	    (uint64_t)expires_in, desc, scope, &out, &err);
	free(scope);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_principal",
	    NULL);
}

static enum MHD_Result
h_token_revoke(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_token_revoke(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_token",
	    NULL);
}

/* GET /v1/bindings[?principal=&ns=] */
static enum MHD_Result
h_binding_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_binding_list(c->h->core, &c->req, arg(mc, "principal"),
	    arg(mc, "ns"), &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* DELETE /v1/bindings?principal=&role=[&ns=] */
static enum MHD_Result
h_binding_delete(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*principal = arg(mc, "principal");
	const char	*role = arg(mc, "role");
	cf_err		 rc;

	cf_error_clear(&err);
	if (principal == NULL || role == NULL) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "invalid request");
		return respond_error(mc, c, c->req.authenticated ? 400 : 401,
		    c->req.authenticated ? "bad_request" : "unauthenticated",
		    "principal and role are required");
	}
	rc = cf_core_binding_delete(c->h->core, &c->req, principal, role,
	    arg(mc, "ns"), &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_binding",
	    NULL);
}

/* POST /v1/bindings {"principal","role","ns","expires_in"} */
static enum MHD_Result
h_binding_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*principal = NULL, *role = NULL, *ns = NULL;
	int64_t		 expires_in = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated) {
		rc = cf_core_binding_create(c->h->core, &c->req, "", "", NULL,
		    &out, &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "principal", true, &principal,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "role", true, &role, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "ns", false, &ns, &err);
	if (rc == CF_OK)
		rc = cf_json_get_int(body, "expires_in", false, &expires_in,
		    &err);
	if (rc == CF_OK && json_object_get(body, "expires_in") != NULL &&
	    (expires_in <= 0 || expires_in > CF_BINDING_EXPIRES_MAX))
		rc = cf_error_set(&err, CF_E_INPUT,
		    "expires_in must be 1 to %d seconds (omit it for a "
		    "binding that does not expire)", CF_BINDING_EXPIRES_MAX);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_binding_create_expiring(c->h->core, &c->req, principal,
	    role, ns, (uint64_t)expires_in, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_principal",
	    NULL);
}

/* GET /v1/audit?after=&limit= or ?tail= */
static enum MHD_Result
h_audit(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*after = arg(mc, "after"), *limit = arg(mc, "limit");
	const char	*tail = arg(mc, "tail");
	uint64_t	 from = 0, page = 100, last = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	/* tail=N is the last N records, exactly: it takes neither a start
	 * (after) nor a page size (limit). */
	if ((after != NULL && cf_parse_u64(after, 0, INT64_MAX, &from,
	    &err) != CF_OK) ||
	    (limit != NULL && cf_parse_u64(limit, 1, CF_AUDIT_PAGE_MAX, &page,
	    &err) != CF_OK) ||
	    (tail != NULL && (cf_parse_u64(tail, 1, CF_AUDIT_PAGE_MAX, &last,
	    &err) != CF_OK || after != NULL || limit != NULL))) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "bad query");
		return respond_error(mc, c, c->req.authenticated ? 400 : 401,
		    c->req.authenticated ? "bad_request" : "unauthenticated",
		    "use after (a number) with limit (1-10000), or tail "
		    "(1-10000) alone");
	}
	rc = cf_core_audit_read(c->h->core, &c->req, from,
	    last > 0 ? 0 : (size_t)page, (size_t)last, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* ---- identity routes (docs/api.md, "Identity") ----
 * SEC: their bodies hold passwords and codes: wiped (parsed and raw)
 * once the operation has them, and on every refusal (respond_bad_body).
 * Unauthenticated callers of anything but login are refused by the
 * operation before any body is looked at. */

/* The end of an identity request: the body's secrets wiped, the answer
 * with the route's success status; a missing principal is
 * no_such_principal.  Takes body and out. */
static enum MHD_Result
id_done(struct MHD_Connection *mc, struct conn *c, json_t *body, cf_err rc,
    struct cf_error *err, json_t *out, int ok)
{
	wipe_body(c, body);
	json_decref(body);
	return respond_result(mc, c, rc, err, out, ok, "no_such_principal",
	    NULL);
}

/* POST /v1/login {"user","password","code","recovery_code"} */
static enum MHD_Result
h_login(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*user = NULL, *pw = NULL, *code = NULL;
	const char	*recovery = NULL;
	size_t		 pwlen = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "user", true, &user, &err);
	if (rc == CF_OK)
		rc = get_bytes(body, "password", true, &pw, &pwlen, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "code", false, &code, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "recovery_code", false, &recovery,
		    &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_login(c->h->core, &c->req, user, pw, pwlen, code,
	    recovery, &out, &err);
	return id_done(mc, c, body, rc, &err, out, 201);
}

static enum MHD_Result
h_logout(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_logout(c->h->core, &c->req, &out, &err);
	return id_done(mc, c, NULL, rc, &err, out, 200);
}

/* POST /v1/session/mfa and /v1/mfa/confirm {"code"} */
static enum MHD_Result
h_code(struct MHD_Connection *mc, struct conn *c, bool confirm)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*code = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "code", true, &code, &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	if (confirm)
		rc = cf_core_mfa_confirm(c->h->core, &c->req, code, &out,
		    &err);
	else
		rc = cf_core_session_mfa(c->h->core, &c->req, code, &out,
		    &err);
	return id_done(mc, c, body, rc, &err, out, 200);
}

static enum MHD_Result
h_session_mfa(struct MHD_Connection *mc, struct conn *c)
{
	return h_code(mc, c, false);
}

static enum MHD_Result
h_mfa_confirm(struct MHD_Connection *mc, struct conn *c)
{
	return h_code(mc, c, true);
}

static enum MHD_Result
h_mfa_enroll(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_mfa_enroll(c->h->core, &c->req, &out, &err);
	return id_done(mc, c, NULL, rc, &err, out, 200);
}

/* POST /v1/mfa/disable {"password","code" | "recovery_code"} */
static enum MHD_Result
h_mfa_disable(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*pw = NULL, *code = NULL, *recovery = NULL;
	size_t		 pwlen = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = get_bytes(body, "password", true, &pw, &pwlen,
			    &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "code", false, &code, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "recovery_code", false,
			    &recovery, &err);
		if (rc == CF_OK && code == NULL && recovery == NULL)
			rc = cf_error_set(&err, CF_E_INPUT, "\"code\" or "
			    "\"recovery_code\" is required");
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_mfa_disable(c->h->core, &c->req, pw != NULL ? pw : "",
	    pwlen, code, recovery, &out, &err);
	return id_done(mc, c, body, rc, &err, out, 200);
}

static enum MHD_Result
h_user_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_user_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* POST /v1/users {"name","password"} */
static enum MHD_Result
h_user_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*name = NULL, *pw = NULL;
	size_t		 pwlen = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "name", true, &name, &err);
		if (rc == CF_OK)
			rc = get_bytes(body, "password", false, &pw, &pwlen,
			    &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_user_create(c->h->core, &c->req, name != NULL ? name :
	    "", pw, pwlen, &out, &err);
	wipe_body(c, body);
	json_decref(body);
	if (rc == CF_E_INPUT && c->req.errcode == NULL && c->req.allowed)
		c->req.errcode = "invalid_name";
	return respond_result(mc, c, rc, &err, out, 201, "no_such_principal",
	    "already_exists");
}

/* POST /v1/users/{name}/password {"password","current_password"} */
static enum MHD_Result
h_user_passwd(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*pw = NULL, *cur = NULL;
	size_t		 pwlen = 0, curlen = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = get_bytes(body, "password", true, &pw, &pwlen,
			    &err);
		if (rc == CF_OK)
			rc = get_bytes(body, "current_password", false, &cur,
			    &curlen, &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_user_passwd(c->h->core, &c->req, c->rest, pw != NULL ?
	    pw : "", pwlen, cur, curlen, &out, &err);
	return id_done(mc, c, body, rc, &err, out, 200);
}

static enum MHD_Result
h_user_able(struct MHD_Connection *mc, struct conn *c, bool disable)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_user_disable(c->h->core, &c->req, c->rest, disable, &out,
	    &err);
	return id_done(mc, c, NULL, rc, &err, out, 200);
}

static enum MHD_Result
h_user_disable(struct MHD_Connection *mc, struct conn *c)
{
	return h_user_able(mc, c, true);
}

static enum MHD_Result
h_user_enable(struct MHD_Connection *mc, struct conn *c)
{
	return h_user_able(mc, c, false);
}

static enum MHD_Result
h_user_mfa_reset(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_user_mfa_reset(c->h->core, &c->req, c->rest, &out, &err);
	return id_done(mc, c, NULL, rc, &err, out, 200);
}

/* POST /v1/users/{name}/mfa-required and /v1/roles/{role}/mfa-required
 * {"required"} */
static enum MHD_Result
h_mfa_required(struct MHD_Connection *mc, struct conn *c, bool role)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	bool		 required = false;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_bool(body, "required", true,
			    &required, &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	if (!role) {
		rc = cf_core_user_mfa_required(c->h->core, &c->req, c->rest,
		    required, &out, &err);
		return id_done(mc, c, body, rc, &err, out, 200);
	}
	rc = cf_core_role_mfa_required(c->h->core, &c->req, c->rest, required,
	    &out, &err);
	wipe_body(c, body);
	json_decref(body);
	if (rc == CF_E_INPUT && c->req.errcode == NULL && c->req.allowed)
		c->req.errcode = "invalid_name";
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

static enum MHD_Result
h_user_mfa_required(struct MHD_Connection *mc, struct conn *c)
{
	return h_mfa_required(mc, c, false);
}

static enum MHD_Result
h_role_mfa_required(struct MHD_Connection *mc, struct conn *c)
{
	return h_mfa_required(mc, c, true);
}

/* POST /v1/users/{name}/oidc-links {"issuer","subject"} */
static enum MHD_Result
h_oidc_link(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*iss = "", *sub = "";
	bool		 created = false;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "issuer", true, &iss, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "subject", true, &sub,
			    &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_user_oidc_link(c->h->core, &c->req, c->rest, iss, sub,
	    &created, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, created ? 201 : 200,
	    "no_such_principal", "already_linked");
}

/* DELETE /v1/users/{name}/oidc-links?issuer=&subject= */
static enum MHD_Result
h_oidc_unlink(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*iss = arg(mc, "issuer"), *sub = arg(mc, "subject");
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated && (iss == NULL || sub == NULL)) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "invalid request");
		return respond_error(mc, c, 400, "bad_request",
		    "issuer and subject are required");
	}
	rc = cf_core_user_oidc_unlink(c->h->core, &c->req, c->rest,
	    iss != NULL ? iss : "", sub != NULL ? sub : "", &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* ---- custom policy sets (docs/api.md, "Policies"): /v1/policies
 * [/{name}[/history]], the scope in ?ns= (none: global), PUT's body
 * {"text": "...", "ns": ".."} ---- */

static enum MHD_Result
h_policy_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_policy_list(c->h->core, &c->req, arg(mc, "ns"), &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_namespace",
	    NULL);
}

static enum MHD_Result
h_policy_history(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_policy_history(c->h->core, &c->req, c->rest,
	    arg(mc, "ns"), &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_policy",
	    NULL);
}

static enum MHD_Result
h_policy_get(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL;
	uint64_t	 version = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (arg(mc, "version") != NULL && cf_parse_u64(arg(mc, "version"), 1,
	    INT64_MAX, &version, &err) != CF_OK) {
		cf_core_reject(c->h->core, r, c->rt->action, "bad version");
		return respond_error(mc, c, r->authenticated ? 400 : 401,
		    r->authenticated ? "bad_request" : "unauthenticated",
		    "version must be a number from 1 up");
	}
	rc = cf_core_policy_get(c->h->core, r, c->rest, arg(mc, "ns"),
	    (int64_t)version, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_policy",
	    NULL);
}

static enum MHD_Result
h_policy_rm(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_policy_rm(c->h->core, &c->req, c->rest, arg(mc, "ns"),
	    &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_policy",
	    "policy_changed");
}

/* A policy set's text may take CF_POLICY_TEXT_MAX bytes, escaped in
 * JSON: room for it before the body arrives. */
static enum MHD_Result
begin_policy_put(struct MHD_Connection *mc, struct conn *c)
{
	(void)mc;
	if (c->h->cfg->max_json_body < POLICY_BODY_MAX)
		cf_buf_init_secret(&c->body, POLICY_BODY_MAX);
	return MHD_YES;
}

static enum MHD_Result
h_policy_put(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*ns = arg(mc, "ns"), *text = "", *bns = NULL;
	size_t		 len = 0;
	bool		 created = false;
	cf_err		 rc = CF_OK;

	cf_error_clear(&err);
	if (r->authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = get_bytes(body, "text", true, &text, &len, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "ns", false, &bns, &err);
		if (rc == CF_OK && bns != NULL && ns != NULL &&
		    strcmp(bns, ns) != 0)
			rc = cf_error_set(&err, CF_E_INPUT, "\"ns\" of the "
			    "body and ?ns= of the URL differ");
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
		if (bns != NULL)
			ns = bns;
	}
	/* Unauthenticated: the core refuses before looking at the text. */
	rc = cf_core_policy_set(c->h->core, r, c->rest, ns, text, len,
	    &created, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, created ? 201 : 200,
	    "no_such_policy", "policy_changed");
}

/* ---- attributes and labels (docs/api.md, "Attributes and labels") ---- */

/* GET /v1/users/{name} */
static enum MHD_Result
h_user_get(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_user_get(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* PUT /v1/users/{name}/attributes {name: value or null} */
static enum MHD_Result
h_user_attrs(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	cf_err		 rc = CF_OK;

	cf_error_clear(&err);
	/* Unauthenticated: refused (and audited) before the body. */
	if (c->req.authenticated)
		rc = parse_body(c, &body, &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_user_attrs_set(c->h->core, &c->req, c->rest, body, &out,
	    &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* The key of a labels route: NULL for the namespace's own. */
static const char *
labels_key(const struct conn *c)
{
	return c->rest != NULL && c->rest[0] != '\0' ? c->rest : NULL;
}

static const char *
labels_nf(const struct conn *c)
{
	return labels_key(c) != NULL ? "no_such_key" : "no_such_namespace";
}

/* GET /v1/ns/{ns}/labels[/{key...}] */
static enum MHD_Result
h_labels_get(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_labels_get(c->h->core, &c->req, c->ns, labels_key(c),
	    &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, labels_nf(c), NULL);
}

/* PUT /v1/ns/{ns}/labels[/{key...}] {name: value or null} */
static enum MHD_Result
h_labels_set(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	cf_err		 rc = CF_OK;

	cf_error_clear(&err);
	if (c->req.authenticated)
		rc = parse_body(c, &body, &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_labels_set(c->h->core, &c->req, c->ns, labels_key(c),
	    body, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, labels_nf(c), NULL);
}

/* DELETE /v1/ns/{ns}/labels[/{key...}]?names=a,b */
static enum MHD_Result
h_labels_rm(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_labels_rm(c->h->core, &c->req, c->ns, labels_key(c),
	    arg(mc, "names"), &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, labels_nf(c), NULL);
}

/* ---- questions about the policies (docs/api.md, "Policies: explain,
 * who can, replay"); they change nothing ---- */

/* GET /v1/access/who?ns=NS[&key=KEY][&action=A][&limit=N] */
static enum MHD_Result
h_access_who(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*ns = arg(mc, "ns");
	uint64_t	 limit = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (ns == NULL || (arg(mc, "limit") != NULL && cf_parse_u64(arg(mc,
	    "limit"), 1, 10000, &limit, &err) != CF_OK)) {
		cf_core_reject(c->h->core, r, c->rt->action, "bad query");
		return respond_error(mc, c, r->authenticated ? 400 : 401,
		    r->authenticated ? "bad_request" : "unauthenticated",
		    "ns is required; limit is a number from 1 to 10000");
	}
	rc = cf_core_access_who(c->h->core, r, ns, arg(mc, "key"),
	    arg(mc, "action"), (size_t)limit, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_namespace",
	    NULL);
}

/* GET /v1/access/stale[?unused_for=SECONDS] (default 90 days) */
static enum MHD_Result
h_access_stale(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*v = arg(mc, "unused_for");
	uint64_t	 secs = 90ull * 86400;
	cf_err		 rc;

	cf_error_clear(&err);
	if (v != NULL && cf_parse_u64(v, 1, CF_STALE_PERIOD_MAX, &secs,
	    &err) != CF_OK) {
		cf_core_reject(c->h->core, r, c->rt->action, "bad query");
		return respond_error(mc, c, r->authenticated ? 400 : 401,
		    r->authenticated ? "bad_request" : "unauthenticated",
		    "unused_for is a number of seconds, 1 to 10 years");
	}
	rc = cf_core_access_stale(c->h->core, r, secs, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* GET /v1/access/suggest[?principal=P][&since=SECONDS] (default 90
 * days) */
static enum MHD_Result
h_access_suggest(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*v = arg(mc, "since");
	uint64_t	 secs = 90ull * 86400;
	cf_err		 rc;

	cf_error_clear(&err);
	if (v != NULL && cf_parse_u64(v, 1, CF_STALE_PERIOD_MAX, &secs,
	    &err) != CF_OK) {
		cf_core_reject(c->h->core, r, c->rt->action, "bad query");
		return respond_error(mc, c, r->authenticated ? 400 : 401,
		    r->authenticated ? "bad_request" : "unauthenticated",
		    "since is a number of seconds, 1 to 10 years");
	}
	rc = cf_core_access_suggest(c->h->core, r, arg(mc, "principal"), secs,
	    &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* ---- access review campaigns (docs/reviews.md; core/ops_review.c) ---- */

/* POST /v1/reviews {"ns" | "all":true, "reviewer", "due_s",
 * "on_timeout"} */
static enum MHD_Result
h_review_start(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*ns = NULL, *reviewer = NULL, *ot = NULL;
	int64_t		 due = 30 * 86400;
	bool		 all = false;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "ns", false, &ns, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "reviewer", false,
			    &reviewer, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "on_timeout", false, &ot,
			    &err);
		if (rc == CF_OK)
			rc = cf_json_get_int(body, "due_s", false, &due, &err);
		all = json_is_true(json_object_get(body, "all"));
		if (rc == CF_OK && (ns != NULL) == all)
			rc = cf_error_set(&err, CF_E_INPUT, "give either ns "
			    "or \"all\": true");
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_review_start(c->h->core, &c->req, ns, reviewer, due, ot,
	    &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
}

/* GET /v1/reviews */
static enum MHD_Result
h_review_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_review_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* GET /v1/reviews/{id} */
static enum MHD_Result
h_review_show(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_review_show(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_review",
	    NULL);
}

/* POST /v1/reviews/{id}/decisions {"item", "decision", "note"} */
static enum MHD_Result
h_review_decide(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*decision = NULL, *note = NULL;
	int64_t		 item = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_int(body, "item", true, &item, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "decision", true,
			    &decision, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "note", false, &note, &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_review_decide(c->h->core, &c->req, c->rest, item,
	    decision, note, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_review",
	    NULL);
}

/* GET /v1/reviews/{id}/report */
static enum MHD_Result
h_review_report(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_review_report(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_review",
	    NULL);
}

/* POST /v1/explain and POST /v1/replay, JSON bodies. */
static enum MHD_Result
h_policy_tool(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL, *problems = NULL, *j;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!r->authenticated)
		body = json_object();
	else {
		rc = parse_body(c, &body, &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	if (body == NULL)
		return respond_nomem(mc, c);
	if (strcmp(c->rt->action, "policy:explain") == 0)
		rc = cf_core_policy_explain(c->h->core, r, body, &out, &err);
	else
		rc = cf_core_policy_replay(c->h->core, r, body, &out,
		    &problems, &err);
	json_decref(body);
	if (problems != NULL) {
		/* An invalid draft: a 400 that lists every problem. */
		j = json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code",
		    "invalid_policy", "message", err.msg, "request_id",
		    r->request_id, "problems", problems);
		if (j == NULL)
			return respond_nomem(mc, c);
		return respond(mc, c, 400, j, "invalid_policy", 0);
	}
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* ---- artifacts (docs/artifacts.md; core/ops_artifact.c) ---- */

/* The largest manifest body: about 80,000 files of ordinary paths. */
#define ART_BODY_MAX	((size_t)16 << 20)

static enum MHD_Result
begin_art_push(struct MHD_Connection *mc, struct conn *c)
{
	(void)mc;
	if (c->h->cfg->max_json_body < ART_BODY_MAX)
		cf_buf_init_secret(&c->body, ART_BODY_MAX);
	return MHD_YES;
}

/* The JSON body of an artifact request ({} unauthenticated: the core
 * answers 401 first); NULL after answering. */
static json_t *
art_body(struct MHD_Connection *mc, struct conn *c, enum MHD_Result *res)
{
	struct cf_error	 err;
	json_t		*body = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated)
		body = json_object();
	else {
		rc = parse_body(c, &body, &err);
		if (rc != CF_OK) {
			*res = respond_bad_body(mc, c, body, rc, &err);
			return NULL;
		}
	}
	if (body == NULL)
		*res = respond_nomem(mc, c);
	return body;
}

/* POST /v1/ns/{ns}/artifacts/{name} {files, kind, meta, derived_from,
 * sensitivity} */
static enum MHD_Result
h_art_push(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	enum MHD_Result	 res = MHD_NO;
	json_t		*out = NULL, *body;
	cf_err		 rc;

	cf_error_clear(&err);
	if ((body = art_body(mc, c, &res)) == NULL)
		return res;
	rc = cf_core_art_push(c->h->core, &c->req, c->ns, c->rest, body, &out,
	    &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_artifact",
	    c->req.errcode);
}

/* GET /v1/ns/{ns}/artifacts/{name}[?version=V|as_of=T] */
static enum MHD_Result
h_art_get(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_art_get(c->h->core, &c->req, c->ns, c->rest,
	    arg(mc, "version"), arg(mc, "as_of"), &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

/* PATCH /v1/ns/{ns}/artifacts/{name}?version=V {name: value or null} */
static enum MHD_Result
h_art_meta(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	enum MHD_Result	 res = MHD_NO;
	json_t		*out = NULL, *body;
	cf_err		 rc;

	cf_error_clear(&err);
	if ((body = art_body(mc, c, &res)) == NULL)
		return res;
	rc = cf_core_art_meta_set(c->h->core, &c->req, c->ns, c->rest,
	    arg(mc, "version"), body, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

static enum MHD_Result
h_art_versions(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_art_versions(c->h->core, &c->req, c->ns, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

/* PUT /v1/ns/{ns}/artifact-sensitivity/{name}?version=V {sensitivity,
 * reason} */
static enum MHD_Result
h_art_sens(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	enum MHD_Result	 res = MHD_NO;
	json_t		*out = NULL, *body;
	const char	*level = NULL, *reason = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	if ((body = art_body(mc, c, &res)) == NULL)
		return res;
	if (cf_json_get_str(body, "sensitivity", false, &level, &err) !=
	    CF_OK || cf_json_get_str(body, "reason", false, &reason, &err) !=
	    CF_OK)
		return respond_bad_body(mc, c, body, CF_E_INPUT, &err);
	rc = cf_core_art_set_sensitivity(c->h->core, &c->req, c->ns, c->rest,
	    arg(mc, "version"), level, reason, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

static enum MHD_Result
h_art_stages(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_art_stages(c->h->core, &c->req, c->ns, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

/* PUT /v1/ns/{ns}/stages/{name} {stage, version} */
static enum MHD_Result
h_art_stage_set(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	enum MHD_Result	 res = MHD_NO;
	json_t		*out = NULL, *body, *jv;
	const char	*stage = "", *ver = NULL;
	char		 num[32];
	cf_err		 rc;

	cf_error_clear(&err);
	if ((body = art_body(mc, c, &res)) == NULL)
		return res;
	jv = json_object_get(body, "version");
	if (json_is_integer(jv)) {
		(void)snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(jv));
		ver = num;
	} else
		ver = json_string_value(jv);
	if (cf_json_get_str(body, "stage", c->req.authenticated, &stage,
	    &err) != CF_OK || (c->req.authenticated && (ver == NULL ||
	    *ver == '\0'))) {
		(void)cf_error_set(&err, CF_E_INPUT, "body needs \"stage\" "
		    "and \"version\"");
		return respond_bad_body(mc, c, body, CF_E_INPUT, &err);
	}
	rc = cf_core_art_stage_set(c->h->core, &c->req, c->ns, c->rest, stage,
	    ver != NULL ? ver : "", &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

/* DELETE /v1/ns/{ns}/stages/{name}?stage=S */
static enum MHD_Result
h_art_stage_rm(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*stage = arg(mc, "stage");
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_art_stage_set(c->h->core, &c->req, c->ns, c->rest,
	    stage != NULL ? stage : "", NULL, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

/* GET /v1/ns/{ns}/lineage/{name}?version=V&direction=up|down|both&depth=N */
static enum MHD_Result
h_art_lineage(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	uint64_t	 depth = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (arg(mc, "depth") != NULL &&
	    cf_parse_u64(arg(mc, "depth"), 1, 64, &depth, &err) != CF_OK) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "bad depth");
		return respond_error(mc, c, 400, "bad_request",
		    "depth must be a number from 1 to 64");
	}
	rc = cf_core_art_lineage(c->h->core, &c->req, c->ns, c->rest,
	    arg(mc, "version"), arg(mc, "direction"), (int)depth, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_artifact",
	    NULL);
}

/* GET /v1/s3-keys[?principal=] */
static enum MHD_Result
h_s3key_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_s3key_list(c->h->core, &c->req, arg(mc, "principal"),
	    &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_principal",
	    NULL);
}

/* POST /v1/s3-keys {"principal","expires_in","description"}: the answer
 * adds "endpoint" (s3_endpoint) when one is configured. */
static enum MHD_Result
h_s3key_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*principal = NULL, *desc = NULL;
	int64_t		 expires_in = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated) {
		rc = cf_core_s3key_create(c->h->core, &c->req, NULL, 0, NULL,
		    &out, &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = c->body.len > 0 ? parse_body(c, &body, &err) : CF_OK;
	if (rc == CF_OK && body != NULL)
		rc = cf_json_get_str(body, "principal", false, &principal,
		    &err);
	if (rc == CF_OK && body != NULL)
		rc = cf_json_get_int(body, "expires_in", false, &expires_in,
		    &err);
	if (rc == CF_OK && body != NULL)
		rc = cf_json_get_str(body, "description", false, &desc, &err);
	if (rc == CF_OK && body != NULL &&
	    json_object_get(body, "expires_in") != NULL && expires_in <= 0)
		rc = cf_error_set(&err, CF_E_INPUT,
		    "expires_in must be a positive number of seconds "
		    "(omit it for a key that does not expire)");
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_s3key_create(c->h->core, &c->req, principal,
	    (uint64_t)expires_in, desc, &out, &err);
	json_decref(body);
	if (rc == CF_OK && c->h->cfg->s3_endpoint[0] != '\0' &&
	    json_object_set_new(out, "endpoint",
	    json_string(c->h->cfg->s3_endpoint)) != 0) {
		wipe_json(out);
		json_decref(out);
		return respond_nomem(mc, c);
	}
	return respond_result(mc, c, rc, &err, out, 201, "no_such_principal",
	    NULL);
}

static enum MHD_Result
h_s3key_revoke(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_s3key_revoke(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_s3_key",
	    NULL);
}

/* GET /v1/alerts: the rules and sinks with their counts. */
static enum MHD_Result
h_alert_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_alert_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* GET /v1/anomalies[?since=SECONDS][&principal=P][&limit=N]: the
 * anomaly flags (default: the last 7 days, 100). */
static enum MHD_Result
h_anomalies(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*v = arg(mc, "since"), *l = arg(mc, "limit");
	uint64_t	 since = 7ull * 86400, limit = 100;
	cf_err		 rc;

	cf_error_clear(&err);
	if ((v != NULL && cf_parse_u64(v, 1, CF_ANOM_SINCE_MAX, &since,
	    &err) != CF_OK) || (l != NULL && cf_parse_u64(l, 1, 10000,
	    &limit, &err) != CF_OK)) {
		cf_core_reject(c->h->core, r, c->rt->action, "bad query");
		return respond_error(mc, c, r->authenticated ? 400 : 401,
		    r->authenticated ? "bad_request" : "unauthenticated",
		    "since is a number of seconds, 1 to 10 years; limit 1 to "
		    "10000");
	}
	rc = cf_core_anomalies(c->h->core, r, since, arg(mc, "principal"),
	    (size_t)limit, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* POST /v1/alerts/{name}/test: one test alert through the rule's sinks;
 * 200 with "ok": false when a sink failed (the answer says which). */
static enum MHD_Result
h_alert_test(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_alert_test(c->h->core, &c->req, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_alert",
	    NULL);
}

/* ---- share links (docs/sharing.md) ---- */

/* POST /v1/shares {"ns","key","version","expires_in","max_downloads",
 * "allow_ip","password","recipient"} */
static enum MHD_Result
h_share_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_share_params	 p;
	struct cf_error		 err;
	json_t			*out = NULL, *body = NULL;
	int64_t			 expires_in = 0, maxdl = 0;
	cf_err			 rc;

	cf_error_clear(&err);
	memset(&p, 0, sizeof(p));
	if (!c->req.authenticated) {
		p.ns = "";
		p.key = "";
		rc = cf_core_share_create(c->h->core, &c->req, &p, &out, &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "ns", true, &p.ns, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "key", true, &p.key, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "version", false, &p.version_id,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_int(body, "expires_in", false, &expires_in,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_int(body, "max_downloads", false, &maxdl,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "allow_ip", false, &p.allow_ip,
		    &err);
	if (rc == CF_OK)
		rc = get_bytes(body, "password", false, &p.password, &p.pwlen,
		    &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "recipient", false, &p.recipient,
		    &err);
	if (rc == CF_OK && (expires_in < 0 || maxdl < 0))
		rc = cf_error_set(&err, CF_E_INPUT, "expires_in and "
		    "max_downloads must not be negative");
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	p.expires_in = (uint64_t)expires_in;
	p.max_downloads = maxdl;
	rc = cf_core_share_create(c->h->core, &c->req, &p, &out, &err);
	wipe_body(c, body);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_key", NULL);
}

static enum MHD_Result
h_share_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_share_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

static enum MHD_Result
h_share_revoke(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_share_revoke(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_link",
	    NULL);
}

/* POST /v1/share-grants {ns, key, to, for}: a share to a principal. */
static enum MHD_Result
h_share_grant(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*ns = "", *key = "", *to = "";
	int64_t		 secs = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!c->req.authenticated) {
		rc = cf_core_share_grant(c->h->core, &c->req, ns, key, to, 0,
		    &out, &err);
		return respond_result(mc, c, rc, &err, out, 201, NULL, NULL);
	}
	rc = parse_body(c, &body, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "ns", true, &ns, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "key", true, &key, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "to", true, &to, &err);
	if (rc == CF_OK)
		rc = cf_json_get_int(body, "for", true, &secs, &err);
	if (rc == CF_OK && secs <= 0)
		rc = cf_error_set(&err, CF_E_INPUT, "for must be a positive "
		    "number of seconds");
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_share_grant(c->h->core, &c->req, ns, key, to,
	    (uint64_t)secs, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_key", NULL);
}

static enum MHD_Result
h_share_grant_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_share_grant_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

static enum MHD_Result
h_share_grant_revoke(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_share_grant_revoke(c->h->core, &c->req, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_grant",
	    NULL);
}

/* Does the client ask for a web page (a browser following the link)? */
static bool
wants_html(struct MHD_Connection *mc)
{
	const char	*a = header(mc, "Accept");

	return a != NULL && strstr(a, "text/html") != NULL;
}

/* A share link's password page.  SEC: no script, no cookie, nothing of
 * the request echoed; the form posts to the link itself (no action), so
 * there is no state a cross-site request could ride on (the POST only
 * downloads, and needs the token and the password); the page cannot be
 * framed, and sends no Referer with the token in it. */
static enum MHD_Result
respond_password_page(struct MHD_Connection *mc, struct conn *c, int status,
    bool wrong)
{
	static const char head[] =
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<title>Coffer: password needed</title></head>\n<body>"
	    "<h1>This link needs a password</h1>\n";
	static const char tail[] =
	    "<form method=\"post\"><label>Password "
	    "<input type=\"password\" name=\"password\" autofocus required>"
	    "</label> <button type=\"submit\">Download</button></form>\n"
	    "</body></html>\n";
	struct MHD_Response	*resp;
	struct cf_error		 err;
	struct cf_buf		 b;

	cf_error_clear(&err);
	cf_buf_init(&b, 4096);
	if (cf_buf_append_str(&b, head, NULL) != CF_OK ||
	    (wrong && cf_buf_append_str(&b, "<p>Wrong password.</p>\n",
	    NULL) != CF_OK) || cf_buf_append_str(&b, tail, NULL) != CF_OK) {
		cf_buf_free(&b);
		return MHD_NO;
	}
	if (!c->req.audited && audit_req(c, status, c->req.errcode,
	    0, &err) != CF_OK) {
		cf_buf_free(&b);
		return queue_unavailable(mc, c);
	}
	resp = MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY);
	cf_buf_free(&b);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type",
	    "text/html; charset=utf-8");
	(void)MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	add_common_headers(c, resp);
	return queue_audited(mc, c, status, resp);
}

/* The file name a browser saves a shared object as: the key's last part,
 * if it is plain (letters, digits, ". _ -"), else "download". */
static void
share_filename(const char *key, char *out, size_t outsz)
{
	const char	*base = strrchr(key, '/');
	size_t		 i;

	base = base != NULL ? base + 1 : key;
	cf_strlcpy(out, "download", outsz);
	if (*base == '\0' || *base == '.' || strlen(base) >= outsz)
		return;
	for (i = 0; base[i] != '\0'; i++)
		if (!((base[i] >= 'a' && base[i] <= 'z') ||
		    (base[i] >= 'A' && base[i] <= 'Z') ||
		    (base[i] >= '0' && base[i] <= '9') || base[i] == '.' ||
		    base[i] == '_' || base[i] == '-'))
			return;
	cf_strlcpy(out, base, outsz);
}

/* A download through a share link (GET, or POST with its password). */
static enum MHD_Result
serve_share(struct MHD_Connection *mc, struct conn *c, const char *pw,
    size_t pwlen)
{
	const struct cf_object_view	*v;
	struct MHD_Response		*resp = NULL;
	struct cf_get			*g = NULL;
	struct cf_error			 err;
	struct dl			*d;
	const char			*code;
	char				 hv[192], name[128];
	char				 sha[CF_SHA256_HEX_LEN + 1];
	char				*layout = NULL;
	uint32_t			 nsegs;
	uint64_t			 size;
	int				 status;
	enum MHD_Result			 ret;
	cf_err				 rc;

	if (!xfer_take(mc, c, XFER_DOWN, &ret))
		return ret;
	cf_error_clear(&err);
	rc = cf_core_share_open(c->h->core, &c->req, c->rest, pw, pwlen, &g,
	    &err);
	if (rc != CF_OK) {
		code = c->req.errcode != NULL ? c->req.errcode : "internal";
		if ((strcmp(code, "password_required") == 0 ||
		    strcmp(code, "wrong_password") == 0) && wants_html(mc))
			return respond_password_page(mc, c, 401,
			    strcmp(code, "wrong_password") == 0);
		if (strcmp(code, "link_expired") == 0 ||
		    strcmp(code, "link_used_up") == 0 ||
		    strcmp(code, "link_revoked") == 0)
			return respond_error(mc, c, 410, code, err.msg);
		if (strcmp(code, "too_many_attempts") == 0)
			return respond_error(mc, c, 429, code, err.msg);
		if (rc == CF_E_DENIED && c->req.errcode != NULL)
			return respond_error(mc, c, 403, code, err.msg);
		return respond_cf_error(mc, c, rc, &err, "no_such_link", NULL);
	}
	/* Recorded (and counted) by the core already. */
	v = cf_core_get_view(g);
	status = 200;
	share_filename(v->key != NULL ? v->key : "", name, sizeof(name));
	(void)snprintf(sha, sizeof(sha), "%s", v->sha256);
	nsegs = v->nsegs;
	size = v->size;
	if (v->segments != NULL && (layout = cf_strdup(v->segments)) ==
	    NULL) {
		cf_core_get_close(g);
		c->req.audited = false;
		c->req.allowed = false;
		return respond_error(mc, c, 500, "internal", "out of memory");
	}
	v = NULL;
	if (size <= SMALL_BODY) {
		rc = size > 0 ? small_body(g, 0, (size_t)size, &resp,
		    &err) : CF_OK;
		if (rc == CF_OK && size == 0)
			resp = MHD_create_response_from_buffer(0, NULL,
			    MHD_RESPMEM_PERSISTENT);
		cf_core_get_close(g);
		if (rc != CF_OK || resp == NULL) {
			/* The answer is no longer the one recorded. */
			c->req.audited = false;
			c->req.allowed = false;
			cf_free(layout);
			return respond_cf_error(mc, c, rc != CF_OK ? rc :
			    CF_E_NOMEM, &err, NULL, NULL);
		}
		d = NULL;
	} else {
		d = cf_calloc(1, sizeof(*d));
		if (d == NULL) {
			cf_core_get_close(g);
			c->req.audited = false;
			c->req.allowed = false;
			cf_free(layout);
			return respond_error(mc, c, 500, "internal",
			    "out of memory");
		}
		d->g = g;
		d->len = size;
		resp = MHD_create_response_from_callback(size, DL_BLOCK,
		    dl_read, d, dl_free);
		if (resp == NULL) {
			dl_free(d);
			cf_free(layout);
			return MHD_NO;
		}
		d->c = c;
	}
	/* (A small body's g is closed: its view went with it.) */
	(void)MHD_add_response_header(resp, "Content-Type",
	    "application/octet-stream");
	digest_headers(resp, sha, nsegs, layout);
	cf_free(layout);
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)snprintf(hv, sizeof(hv), "attachment; filename=\"%s\"", name);
	(void)MHD_add_response_header(resp, "Content-Disposition", hv);
	add_common_headers(c, resp);
	if (size > 0) {
		c->dl = true;
		c->dl_small = d == NULL;
		c->dl_status = status;
		c->dl_len = size;
	}
	return queue_audited(mc, c, status, resp);
}

static enum MHD_Result
h_share_get(struct MHD_Connection *mc, struct conn *c)
{
	return serve_share(mc, c, NULL, 0);
}

/* The longest link password (crypto/password.h's CF_PASSWORD_MAX). */
#define SHARE_PW_MAX	1024

/* POST /v1/share/{id}: the password, as a form field (the page's) or
 * {"password"}. */
static enum MHD_Result
h_share_post(struct MHD_Connection *mc, struct conn *c)
{
	const char	*ct = header(mc, "Content-Type");
	struct cf_error	 err;
	json_t		*body = NULL;
	const char	*jpw = NULL;
	char		 pw[SHARE_PW_MAX + 1];
	size_t		 pwlen = 0;
	enum MHD_Result	 ret;
	cf_err		 rc;

	cf_error_clear(&err);
	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = get_bytes(body, "password", true, &jpw, &pwlen,
			    &err);
		if (rc == CF_OK && pwlen > SHARE_PW_MAX)
			rc = cf_error_set(&err, CF_E_INPUT, "password too "
			    "long");
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
		memcpy(pw, jpw, pwlen);
		pw[pwlen] = '\0';
		wipe_body(c, body);
		json_decref(body);
	} else {
		rc = cf_http_form_value(c->body.data != NULL ? c->body.data :
		    "", c->body.len, "password", pw, sizeof(pw), &pwlen);
		wipe_body(c, NULL);
		if (rc != CF_OK) {
			cf_core_reject(c->h->core, &c->req, c->rt->action,
			    "invalid request");
			return respond_error(mc, c, 400, "invalid_form",
			    "the body must be a form with a password field");
		}
	}
	ret = serve_share(mc, c, pw, pwlen);
	cf_wipe(pw, sizeof(pw));
	return ret;
}

static enum MHD_Result	begin_put(struct MHD_Connection *mc, struct conn *c);

/* ---- the route table ----
 * One row per method and path pattern (routes.c has the pattern
 * syntax): the action the request is decided and recorded under, the
 * handler, and how it runs.  docs/api.md documents every row (a unit
 * test, tests/unit/test_routes.c, checks both ways, and that every
 * action is in the registry); docs/internals/HTTP.md describes the
 * table.  Rows of one pattern are kept together.  A path that matches no
 * pattern, or a method that no row of its pattern has, is denied and
 * recorded as "unknown" (dispatch). */
#define SLOW	CF_ROUTE_SLOW
#define SECRET	CF_ROUTE_SECRET
#define READ	CF_ROUTE_READ
#define P_OBJ	"/v1/ns/{ns}/objects/{key...}"
/* POST /v1/ns/{ns}/breakglass {"reason", "seconds"} */
static enum MHD_Result
h_breakglass_open(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*reason = "";
	int64_t		 secs = 0;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "reason", true, &reason,
			    &err);
		if (rc == CF_OK)
			rc = cf_json_get_int(body, "seconds", true, &secs,
			    &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_breakglass_open(c->h->core, &c->req, c->ns, reason, secs,
	    &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_namespace",
	    NULL);
}

/* GET /v1/breakglass[?all=1] */
static enum MHD_Result
h_breakglass_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*all = arg(mc, "all");
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_breakglass_list(c->h->core, &c->req, all != NULL &&
	    strcmp(all, "0") != 0, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* DELETE /v1/breakglass/{id} */
static enum MHD_Result
h_breakglass_revoke(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_breakglass_revoke(c->h->core, &c->req, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_grant",
	    "already_revoked");
}

/* POST /v1/ns/{ns}/promotions/{name} {"to","version","reason"} */
static enum MHD_Result
h_promote(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	enum MHD_Result	 res = MHD_NO;
	json_t		*out = NULL, *body, *jv;
	const char	*to = "", *ver = NULL, *reason = "";
	char		 num[32];
	cf_err		 rc;

	cf_error_clear(&err);
	if ((body = art_body(mc, c, &res)) == NULL)
		return res;
	jv = json_object_get(body, "version");
	if (json_is_integer(jv)) {
		(void)snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(jv));
		ver = num;
	} else
		ver = json_string_value(jv);
	rc = cf_json_get_str(body, "to", c->req.authenticated, &to, &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "reason", false, &reason, &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_promote(c->h->core, &c->req, c->ns, c->rest,
	    ver != NULL ? ver : "", to, reason != NULL ? reason : "", &out,
	    &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_artifact",
	    NULL);
}

/* POST /v1/ns/{ns}/artifact-copies/{name} {"from_ns","from","version"}:
 * copy artifact version from_ns/from@version into ns/name. */
static enum MHD_Result
h_art_copy(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	enum MHD_Result	 res = MHD_NO;
	json_t		*out = NULL, *body, *jv;
	const char	*from_ns = "", *from = "", *ver = NULL;
	char		 num[32];
	cf_err		 rc;

	cf_error_clear(&err);
	if ((body = art_body(mc, c, &res)) == NULL)
		return res;
	jv = json_object_get(body, "version");
	if (json_is_integer(jv)) {
		(void)snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(jv));
		ver = num;
	} else
		ver = json_string_value(jv);
	rc = cf_json_get_str(body, "from_ns", c->req.authenticated, &from_ns,
	    &err);
	if (rc == CF_OK)
		rc = cf_json_get_str(body, "from", false, &from, &err);
	if (rc != CF_OK)
		return respond_bad_body(mc, c, body, rc, &err);
	rc = cf_core_art_copy(c->h->core, &c->req, from_ns != NULL ? from_ns :
	    "", from != NULL && *from != '\0' ? from : c->rest,
	    ver != NULL ? ver : "",
	    c->ns, c->rest, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_artifact",
	    NULL);
}

/* GET /v1/promotions, GET /v1/promotions/{id} */
static enum MHD_Result
h_promotion_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_promotion_list(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_promotion",
	    NULL);
}

/* POST /v1/promotions/{id}/approve, POST /v1/promotions/{id}/reject */
static enum MHD_Result
h_promotion_approve(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_promotion_approve(c->h->core, &c->req, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_promotion",
	    NULL);
}

static enum MHD_Result
h_promotion_reject(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_promotion_reject(c->h->core, &c->req, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_promotion",
	    NULL);
}

static enum MHD_Result
h_promotion_withdraw(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_promotion_withdraw(c->h->core, &c->req, c->rest, &out,
	    &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_promotion",
	    NULL);
}

/* GET /v1/keys */
static enum MHD_Result
h_key_status(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_key_status(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* POST /v1/keys: rotate */
static enum MHD_Result
h_key_rotate(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_key_rotate(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* DELETE /v1/keys/{id} */
static enum MHD_Result
h_key_retire(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_key_retire(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_kek",
	    c->req.errcode != NULL ? c->req.errcode : "conflict");
}

/* POST /v1/backup {"dest": NAME or PATH} */
static enum MHD_Result
h_backup(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*dest = "";
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "dest", true, &dest, &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_backup(c->h->core, &c->req, dest, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, NULL,
	    c->req.errcode != NULL ? c->req.errcode : "conflict");
}

/* GET /v1/holds */
static enum MHD_Result
h_hold_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_hold_list(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* POST /v1/holds {"ns", "key"?, "reason"} */
static enum MHD_Result
h_hold_set(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*ns = "", *key = NULL, *reason = "";
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "ns", true, &ns, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "key", false, &key, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "reason", true, &reason,
			    &err);
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_hold_set(c->h->core, &c->req, ns, key, reason, &out,
	    &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 201, "no_such_namespace",
	    NULL);
}

/* DELETE /v1/holds/{id} */
static enum MHD_Result
h_hold_rm(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_hold_rm(c->h->core, &c->req, c->rest, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_hold",
	    NULL);
}

/* POST /v1/ns/{ns}/erase/{key...} {"reason", "version"?,
 * "artifact_version"?, "with_derived"?, "dry_run"?} */
static enum MHD_Result
h_erase(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL, *body = NULL;
	const char	*reason = "", *version = NULL;
	int64_t		 artnum = 0;
	bool		 derived = false, dry = false;
	cf_err		 rc;

	cf_error_clear(&err);
	if (c->req.authenticated) {
		rc = parse_body(c, &body, &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "reason", false, &reason,
			    &err);
		if (rc == CF_OK)
			rc = cf_json_get_str(body, "version", false, &version,
			    &err);
		if (rc == CF_OK)
			rc = cf_json_get_int(body, "artifact_version", false,
			    &artnum, &err);
		if (rc == CF_OK)
			rc = cf_json_get_bool(body, "with_derived", false,
			    &derived, &err);
		if (rc == CF_OK)
			rc = cf_json_get_bool(body, "dry_run", false, &dry,
			    &err);
		if (rc == CF_OK && artnum < 0)
			rc = cf_error_set(&err, CF_E_INPUT,
			    "artifact_version must be positive");
		if (rc != CF_OK)
			return respond_bad_body(mc, c, body, rc, &err);
	}
	rc = cf_core_erase(c->h->core, &c->req, c->ns, c->rest, version,
	    artnum, reason, derived, dry, &out, &err);
	json_decref(body);
	return respond_result(mc, c, rc, &err, out, 200, "no_such_key", NULL);
}

/* GET /v1/privacy/report?ns&since&until&limit&records */
static enum MHD_Result
h_privacy_report(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_privacy_report_args	 a;
	struct cf_error			 err;
	json_t				*out = NULL;
	cf_err				 rc = CF_OK;

	cf_error_clear(&err);
	memset(&a, 0, sizeof(a));
	a.ns = arg(mc, "ns");
	a.since = arg(mc, "since");
	a.until = arg(mc, "until");
	if (arg(mc, "limit") != NULL)
		rc = cf_parse_u64(arg(mc, "limit"), 1, 10000, &a.limit, &err);
	if (rc == CF_OK && arg(mc, "records") != NULL)
		rc = cf_parse_u64(arg(mc, "records"), 1, 1000000, &a.records,
		    &err);
	if (rc != CF_OK) {
		cf_core_reject(c->h->core, &c->req, c->rt->action,
		    "bad limit");
		return respond_error(mc, c, 400, "bad_request",
		    "limit is 1-10000 rows, records 1-1000000 audit records");
	}
	rc = cf_core_privacy_report(c->h->core, &c->req, &a, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

/* GET /v1/erasure-key */
static enum MHD_Result
h_erasure_key(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_erasure_key(c->h->core, &c->req, &out, &err);
	return respond_result(mc, c, rc, &err, out, 200, NULL, NULL);
}

static const struct cf_route routes[] = {
	{ "GET", "/v1/health", "health", NULL, 0, NULL, h_health },
	{ "GET", "/v1/whoami", "whoami", NULL, 0, NULL, h_whoami },
	{ "GET", "/v1/metrics", "metrics:read", NULL, 0, NULL, h_metrics },
	{ "GET", "/v1/ns", "ns:list", NULL, 0, NULL, h_ns_list },
	{ "POST", "/v1/ns", "ns:create", NULL, 0, NULL, h_ns_create },
	{ "GET", "/v1/ns/{ns}", "ns:get", NULL, 0, NULL, h_ns_get },
	{ "PATCH", "/v1/ns/{ns}", "ns:set-sensitivity", "ns:set-retention",
	    0, NULL, h_ns_patch },
	{ "DELETE", "/v1/ns/{ns}", "ns:delete", NULL, 0, NULL, h_ns_delete },
	{ "GET", "/v1/ns/{ns}/objects", "object:list", NULL, 0, NULL,
	    h_object_list },
	{ "GET", P_OBJ, "object:get", NULL, READ, NULL, h_object_get },
	{ "HEAD", P_OBJ, "object:head", NULL, READ, NULL, h_object_head },
	/* The body streams into the core from the header block on:
	 * begin_put authorizes before any body byte is read. */
	{ "PUT", P_OBJ, "object:put", NULL, 0, begin_put, h_object_put },
	{ "DELETE", P_OBJ, "object:delete", NULL, 0, NULL, h_object_delete },
	{ "GET", "/v1/ns/{ns}/versions/{key...}", "object:versions", NULL, 0,
	    NULL, h_versions },
	{ "GET", "/v1/principals", "principal:list", NULL, 0, NULL,
	    h_principal_list },
	{ "POST", "/v1/principals", "principal:create", NULL, 0, NULL,
	    h_principal_create },
	{ "GET", "/v1/tokens", "token:list", NULL, 0, NULL, h_token_list },
	{ "POST", "/v1/tokens", "token:create", NULL, SECRET, NULL,
	    h_token_create },
	{ "DELETE", "/v1/tokens/{id}", "token:revoke", NULL, 0, NULL,
	    h_token_revoke },
	{ "GET", "/v1/bindings", "binding:list", NULL, 0, NULL,
	    h_binding_list },
	{ "POST", "/v1/bindings", "binding:create", NULL, 0, NULL,
	    h_binding_create },
	{ "DELETE", "/v1/bindings", "binding:delete", NULL, 0, NULL,
	    h_binding_delete },
	{ "GET", "/v1/audit", "audit:read", NULL, 0, NULL, h_audit },
	{ "POST", "/v1/login", "session:login", NULL, SLOW | SECRET, NULL,
	    h_login },
	{ "POST", "/v1/logout", "session:logout", NULL, SLOW, NULL,
	    h_logout },
	{ "POST", "/v1/session/mfa", "session:stepup", NULL, SLOW | SECRET,
	    NULL, h_session_mfa },
	{ "GET", "/v1/users", "user:list", NULL, SLOW, NULL, h_user_list },
	{ "POST", "/v1/users", "user:create", NULL, SLOW, NULL,
	    h_user_create },
	{ "POST", "/v1/users/{name}/password", "user:passwd", NULL, SLOW,
	    NULL, h_user_passwd },
	{ "POST", "/v1/users/{name}/disable", "user:disable", NULL, SLOW,
	    NULL, h_user_disable },
	{ "POST", "/v1/users/{name}/enable", "user:disable", NULL, SLOW,
	    NULL, h_user_enable },
	{ "POST", "/v1/users/{name}/mfa-required", "user:mfa-required", NULL,
	    SLOW, NULL, h_user_mfa_required },
	{ "POST", "/v1/users/{name}/mfa-reset", "user:mfa-reset", NULL, SLOW,
	    NULL, h_user_mfa_reset },
	{ "POST", "/v1/users/{name}/oidc-links", "user:link-oidc", NULL, 0,
	    NULL, h_oidc_link },
	{ "DELETE", "/v1/users/{name}/oidc-links", "user:unlink-oidc", NULL,
	    0, NULL, h_oidc_unlink },
	{ "POST", "/v1/roles/{role}/mfa-required", "role:mfa-required", NULL,
	    SLOW, NULL, h_role_mfa_required },
	{ "POST", "/v1/mfa/enroll", "mfa:enroll", NULL, SLOW | SECRET, NULL,
	    h_mfa_enroll },
	{ "POST", "/v1/mfa/confirm", "mfa:confirm", NULL, SLOW | SECRET, NULL,
	    h_mfa_confirm },
	{ "POST", "/v1/mfa/disable", "mfa:disable", NULL, SLOW, NULL,
	    h_mfa_disable },
	{ "GET", "/v1/users/{name}", "user:list", NULL, SLOW, NULL,
	    h_user_get },
	{ "PUT", "/v1/users/{name}/attributes", "user:attr", NULL, SLOW, NULL,
	    h_user_attrs },
	{ "GET", "/v1/ns/{ns}/labels", "ns:get", NULL, 0, NULL,
	    h_labels_get },
	{ "PUT", "/v1/ns/{ns}/labels", "label:set", NULL, 0, NULL,
	    h_labels_set },
	{ "DELETE", "/v1/ns/{ns}/labels", "label:rm", NULL, 0, NULL,
	    h_labels_rm },
	{ "GET", "/v1/ns/{ns}/labels/{key...}", "object:head", NULL, 0, NULL,
	    h_labels_get },
	{ "PUT", "/v1/ns/{ns}/labels/{key...}", "label:set", NULL, 0, NULL,
	    h_labels_set },
	{ "DELETE", "/v1/ns/{ns}/labels/{key...}", "label:rm", NULL, 0, NULL,
	    h_labels_rm },
	{ "GET", "/v1/access/who", "access:who", NULL, 0, NULL,
	    h_access_who },
	{ "GET", "/v1/access/stale", "access:stale", NULL, 0, NULL,
	    h_access_stale },
	{ "POST", "/v1/explain", "policy:explain", NULL, 0, NULL,
	    h_policy_tool },
	{ "POST", "/v1/replay", "policy:replay", NULL, SLOW,
	    begin_policy_put, h_policy_tool },
	{ "GET", "/v1/policies", "policy:get", NULL, 0, NULL, h_policy_list },
	{ "GET", "/v1/policies/{name}", "policy:get", NULL, 0, NULL,
	    h_policy_get },
	{ "PUT", "/v1/policies/{name}", "policy:set", NULL, 0,
	    begin_policy_put, h_policy_put },
	{ "DELETE", "/v1/policies/{name}", "policy:rm", NULL, 0, NULL,
	    h_policy_rm },
	{ "GET", "/v1/policies/{name}/history", "policy:get", NULL, 0, NULL,
	    h_policy_history },
	/* ---- artifacts ---- */
	{ "GET", "/v1/ns/{ns}/artifacts/{key...}", "artifact:get", NULL, 0,
	    NULL, h_art_get },
	{ "POST", "/v1/ns/{ns}/artifacts/{key...}", "artifact:push", NULL, 0,
	    begin_art_push, h_art_push },
	{ "PATCH", "/v1/ns/{ns}/artifacts/{key...}", "artifact:meta-set",
	    NULL, 0, NULL, h_art_meta },
	{ "GET", "/v1/ns/{ns}/artifact-versions/{key...}",
	    "artifact:versions", NULL, 0, NULL, h_art_versions },
	{ "PUT", "/v1/ns/{ns}/artifact-sensitivity/{key...}",
	    "artifact:set-sensitivity", NULL, 0, NULL, h_art_sens },
	{ "GET", "/v1/ns/{ns}/stages/{key...}", "artifact:versions", NULL, 0,
	    NULL, h_art_stages },
	{ "PUT", "/v1/ns/{ns}/stages/{key...}", "version:set-stage", NULL, 0,
	    NULL, h_art_stage_set },
	{ "DELETE", "/v1/ns/{ns}/stages/{key...}", "version:set-stage", NULL,
	    0, NULL, h_art_stage_rm },
	{ "GET", "/v1/ns/{ns}/lineage/{key...}", "artifact:lineage", NULL, 0,
	    NULL, h_art_lineage },
	{ "GET", "/v1/s3-keys", "s3key:list", NULL, 0, NULL, h_s3key_list },
	{ "POST", "/v1/s3-keys", "s3key:create", NULL, SECRET, NULL,
	    h_s3key_create },
	{ "DELETE", "/v1/s3-keys/{id}", "s3key:revoke", NULL, 0, NULL,
	    h_s3key_revoke },
	{ "POST", "/v1/ns/{ns}/breakglass", "breakglass:open", NULL, 0, NULL,
	    h_breakglass_open },
	{ "GET", "/v1/breakglass", "breakglass:list", NULL, 0, NULL,
	    h_breakglass_list },
	{ "DELETE", "/v1/breakglass/{id}", "breakglass:revoke", NULL, 0, NULL,
	    h_breakglass_revoke },
	/* Into an environment that needs no approval, the requester must
	 * be one who may approve there (decided first). */
	{ "POST", "/v1/ns/{ns}/promotions/{key...}", "promotion:request",
	    "promotion:approve", 0, NULL, h_promote },
	{ "POST", "/v1/ns/{ns}/artifact-copies/{key...}", "artifact:copy",
	    "artifact:get", 0, NULL, h_art_copy },
	{ "GET", "/v1/promotions", "promotion:list", NULL, 0, NULL,
	    h_promotion_list },
	{ "GET", "/v1/promotions/{id}", "promotion:list", NULL, 0, NULL,
	    h_promotion_list },
	{ "POST", "/v1/promotions/{id}/approve", "promotion:approve", NULL, 0,
	    NULL, h_promotion_approve },
	{ "POST", "/v1/promotions/{id}/reject", "promotion:reject", NULL, 0,
	    NULL, h_promotion_reject },
	{ "POST", "/v1/promotions/{id}/withdraw", "promotion:withdraw", NULL,
	    0, NULL, h_promotion_withdraw },
	{ "GET", "/v1/keys", "key:status", NULL, 0, NULL, h_key_status },
	{ "POST", "/v1/keys", "key:rotate", NULL, 0, NULL,
	    h_key_rotate },
	{ "DELETE", "/v1/keys/{id}", "key:retire", NULL, 0, NULL,
	    h_key_retire },
	/* ---- alerts ---- */
	{ "GET", "/v1/alerts", "alert:list", NULL, 0, NULL, h_alert_list },
	/* A test waits for its sinks (a webhook's timeout): not on an
	 * event thread. */
	{ "POST", "/v1/alerts/{name}/test", "alert:test", NULL, SLOW, NULL,
	    h_alert_test },
	/* ---- share links ---- */
	{ "GET", "/v1/shares", "share:list", NULL, 0, NULL, h_share_list },
	/* SLOW: a link password is hashed. */
	{ "POST", "/v1/shares", "object:share", NULL, SLOW | SECRET, NULL,
	    h_share_create },
	{ "DELETE", "/v1/shares/{id}", "share:revoke", NULL, 0, NULL,
	    h_share_revoke },
	/* No credential: the token in the path is the capability. */
	{ "GET", "/v1/share/{id}", "share:download", NULL, 0, NULL,
	    h_share_get },
	{ "POST", "/v1/share/{id}", "share:download", NULL, SLOW, NULL,
	    h_share_post },
	/* share grants: stored policies (core/ops_share.c) */
	{ "GET", "/v1/share-grants", "share:list", NULL, 0, NULL,
	    h_share_grant_list },
	{ "POST", "/v1/share-grants", "object:share", NULL, 0, NULL,
	    h_share_grant },
	{ "DELETE", "/v1/share-grants/{id}", "share:revoke", NULL, 0, NULL,
	    h_share_grant_revoke },
	{ "GET", "/v1/posture", "posture:read", NULL, 0, NULL, h_posture },
	/* ---- privacy: holds, erasure ---- */
	{ "GET", "/v1/holds", "hold:list", NULL, 0, NULL, h_hold_list },
	{ "POST", "/v1/holds", "hold:set", NULL, 0, NULL, h_hold_set },
	{ "DELETE", "/v1/holds/{id}", "hold:rm", NULL, 0, NULL, h_hold_rm },
	{ "POST", "/v1/ns/{ns}/erase/{key...}", "privacy:erase", NULL, 0,
	    NULL, h_erase },
	{ "GET", "/v1/erasure-key", "privacy:key", NULL, 0, NULL,
	    h_erasure_key },
	{ "GET", "/v1/privacy/report", "privacy:report", NULL, 0, NULL,
	    h_privacy_report },
	/* ---- backups ---- */
	/* SLOW: copies the whole metadata database. */
	{ "POST", "/v1/backup", "store:backup", NULL, SLOW, NULL, h_backup },
	/* ---- anomaly detection ---- */
	{ "GET", "/v1/anomalies", "anomaly:list", NULL, 0, NULL,
	    h_anomalies },
	/* ---- access reviews (core/ops_review.c, ops_suggest.c) ---- */
	{ "GET", "/v1/access/suggest", "access:suggest", NULL, 0, NULL,
	    h_access_suggest },
	/* SLOW: a start decides every namespace action for every
	 * principal in scope. */
	{ "POST", "/v1/reviews", "review:start", NULL, SLOW, NULL,
	    h_review_start },
	{ "GET", "/v1/reviews", "review:list", NULL, 0, NULL,
	    h_review_list },
	{ "GET", "/v1/reviews/{id}", "review:show", NULL, 0, NULL,
	    h_review_show },
	{ "POST", "/v1/reviews/{id}/decisions", "review:decide", NULL, 0,
	    NULL, h_review_decide },
	{ "GET", "/v1/reviews/{id}/report", "review:report", NULL, 0, NULL,
	    h_review_report },
	/* The segments of a version, for checking a download whose
	 * X-Coffer-Segments header was too long to send: a GET's. */
	{ "GET", "/v1/ns/{ns}/segments/{key...}", "object:get", NULL, 0, NULL,
	    h_segments },
};
#undef SLOW
#undef SECRET
#undef P_OBJ

const struct cf_route *
cf_http_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* The server is shutting down: an identity request that has not started
 * is refused (denied, audited, 503), so that no connection stays
 * suspended for it.  Its body may hold a password: wiped. */
static enum MHD_Result
refuse_stopping(struct MHD_Connection *mc, struct conn *c)
{
	wipe_body(c, NULL);
	cf_core_reject(c->h->core, &c->req, c->rt->action,
	    "server shutting down");
	return respond_error(mc, c, 503, "unavailable",
	    "the server is shutting down; retry later");
}

/* Hand an identity request to a slow thread, its connection suspended
 * (under wmu, like every suspension, so no resume can come first). */
static enum MHD_Result
slow_submit(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_http	*h = c->h;

	(void)pthread_mutex_lock(&h->wmu);
	if (atomic_load(&h->stopping)) {
		(void)pthread_mutex_unlock(&h->wmu);
		return refuse_stopping(mc, c);
	}
	c->mc = mc;
	c->next_job = NULL;
	c->queued = true;
	if (h->slow_tail != NULL)
		h->slow_tail->next_job = c;
	else
		h->slow_head = c;
	h->slow_tail = c;
	h->slow_jobs++;
	MHD_suspend_connection(mc);
	(void)pthread_cond_signal(&h->slow_cv);
	(void)pthread_mutex_unlock(&h->wmu);
	return MHD_YES;
}

/* Run a job taken off the queue, on this thread as on a slow thread (the
 * answer is stashed for the handler), then account for it.  Called
 * without wmu. */
static void
slow_run(struct cf_http *h, struct conn *c, bool refuse)
{
	bool	was = on_slow_thread;

	on_slow_thread = true;
	slow_answered = false;
	if (refuse)
		(void)refuse_stopping(c->mc, c);
	else
		(void)c->rt->fn(c->mc, c);
	(void)pthread_mutex_lock(&h->wmu);
	/* SEC: once answered, c is not ours to touch any more. */
	if (!slow_answered) {
		/* No answer (out of memory): the handler closes the
		 * connection when it runs again. */
		c->slow_dead = true;
		MHD_resume_connection(c->mc);
	}
	h->slow_jobs--;
	(void)pthread_mutex_unlock(&h->wmu);
	on_slow_thread = was;
}

static void *
slow_main(void *arg)
{
	struct cf_http	*h = arg;
	struct conn	*c;
	bool		 refuse;

	(void)pthread_mutex_lock(&h->wmu);
	for (;;) {
		if ((c = h->slow_head) == NULL) {
			if (h->slow_stop)
				break;
			(void)pthread_cond_wait(&h->slow_cv, &h->wmu);
			continue;
		}
		h->slow_head = c->next_job;
		if (h->slow_head == NULL)
			h->slow_tail = NULL;
		c->queued = false;
		refuse = atomic_load(&h->stopping);
		(void)pthread_mutex_unlock(&h->wmu);
		slow_run(h, c, refuse);
		(void)pthread_mutex_lock(&h->wmu);
	}
	(void)pthread_mutex_unlock(&h->wmu);
	return NULL;
}

static enum MHD_Result	late_read(struct MHD_Connection *mc, struct conn *c);

/* Answer a request whose body (if any) has fully arrived: its route's
 * handler, on a slow thread if the route says so. */
static enum MHD_Result
dispatch(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = &c->req;

	if (c->authn_late)
		return late_read(mc, c);
	if (c->s3 != NULL)
		return cf_s3_end(mc, c);
	if (c->rt != NULL) {
		if ((c->rt->flags & CF_ROUTE_SLOW) && c->h->nslow_thr > 0)
			return slow_submit(mc, c);
		return c->rt->fn(mc, c);
	}
	/* SEC: unknown routes and methods are denied and audited;
	 * unauthenticated callers do not learn which routes exist. */
	cf_core_reject(c->h->core, r, "unknown", c->path_known ?
	    "method not allowed" : "unknown route");
	if (!r->authenticated)
		return respond_error(mc, c, 401, "unauthenticated",
		    "authentication required");
	if (c->path_known)
		return respond_error(mc, c, 405, "method_not_allowed",
		    "method not allowed on this route");
	return respond_error(mc, c, 404, "not_found", "no such route");
}

/* Where a trailing-digest body's released bytes go. */
static cf_err
put_out(void *arg, const char *p, size_t n, struct cf_error *err)
{
	return cf_core_put_write(arg, p, n, err);
}

/* Feed upload bytes to the core.  With a trailing digest the last
 * CF_HTTP_TRAIL_LEN bytes seen so far are held back: they may be the
 * digest. */
static cf_err
put_feed(struct conn *c, const char *data, size_t len, struct cf_error *err)
{
	if (c->s3 != NULL)
		return cf_s3_feed(c->s3, c->put, data, len, err);
	if (!c->trail)
		return cf_core_put_write(c->put, data, len, err);
	return cf_http_trail_feed(&c->hold, data, len, put_out, c->put, err);
}

/* A PUT refused from its headers: denied, recorded, 400 (the body that
 * follows is discarded). */
static enum MHD_Result
put_refuse(struct MHD_Connection *mc, struct conn *c, const char *why,
    const char *msg)
{
	cf_core_reject(c->h->core, &c->req, c->rt->action, why);
	c->failed = true;
	return respond_error(mc, c, 400, "bad_request", msg);
}

/* First callback of an upload: authorize and open the encrypted blob
 * before reading any body byte. */
static enum MHD_Result
begin_put(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_error	 err;
	struct meta_ctx	 m;
	const char	*cl, *sha;
	char		*meta = NULL;
	uint64_t	 len;
	int64_t		 content_length = -1;
	enum MHD_Result	 ret;
	cf_err		 rc;

	cf_error_clear(&err);
	m.obj = json_object();
	m.bad = false;
	if (m.obj == NULL)
		return MHD_NO;
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, collect_meta, &m);
	rc = dump_part(m.obj, JSON_COMPACT | JSON_SORT_KEYS, true, &meta,
	    &err);
	json_decref(m.obj);
	if (rc != CF_OK)
		return respond_nomem(mc, c);
	cl = header(mc, "Content-Length");
	if (cl != NULL) {
		if (cf_parse_u64(cl, 0, INT64_MAX, &len, NULL) != CF_OK) {
			free(meta);
			return put_refuse(mc, c, "bad Content-Length",
			    "bad Content-Length");
		}
		content_length = (int64_t)len;
	}
	sha = header(mc, "X-Coffer-SHA256");
	if (sha != NULL && strcasecmp(sha, "trailing") == 0) {
		/* The body ends with its own hex SHA-256 (the client hashed
		 * while sending); checked before the version is committed. */
		c->trail = true;
		sha = NULL;
		if (content_length >= 0 && content_length < CF_HTTP_TRAIL_LEN) {
			free(meta);
			return put_refuse(mc, c,
			    "body shorter than its trailing digest",
			    "X-Coffer-SHA256: trailing needs a body of at "
			    "least 64 bytes");
		}
		if (content_length >= 0)
			content_length -= CF_HTTP_TRAIL_LEN;
	}
	if (m.bad) {
		free(meta);
		return put_refuse(mc, c, "bad metadata header",
		    "X-Coffer-Meta-* headers must be UTF-8 with names under "
		    "128 bytes");
	}
	/* SEC: a principal's uploads in progress are bounded. */
	if (!xfer_take(mc, c, XFER_UP, &ret)) {
		free(meta);
		return ret;
	}
	rc = cf_core_put_begin(c->h->core, &c->req, c->ns, c->rest,
	    header(mc, "Content-Type"), sha, meta, content_length, &c->put,
	    &err);
	free(meta);
	if (rc != CF_OK) {
		c->failed = true;
		if (rc == CF_E_INPUT && c->req.allowed)
			return respond_error(mc, c, 400,
			    strstr(err.msg, "key") != NULL ||
			    strstr(err.msg, "namespace name") != NULL ?
			    "invalid_name" : "bad_request", err.msg);
		return respond_cf_error(mc, c, rc, &err, "no_such_namespace",
		    NULL);
	}
	return MHD_YES;
}

/* Refuse a request whose body is still arriving: libmicrohttpd cannot
 * queue a response before the body has been read, so the answer is kept
 * and sent (after its audit record) once the body ends. */
static void
pend_error(struct conn *c, int status, const char *code, const char *msg)
{
	c->failed = true;
	c->pend_status = status;
	cf_strlcpy(c->pend_code, code, sizeof(c->pend_code));
	cf_strlcpy(c->pend_msg, msg, sizeof(c->pend_msg));
}

/* Hold enough of the request memory budget for body to grow by add
 * bytes, in 16 KiB steps; false when the budget cannot take it. */
#define BODY_MEM_STEP	(16u * 1024)
static bool
body_reserve(struct conn *c, size_t add)
{
	uint64_t	need = (uint64_t)c->body.len + add, grow;

	if (need <= c->mem)
		return true;
	grow = (need - c->mem + BODY_MEM_STEP - 1) / BODY_MEM_STEP *
	    BODY_MEM_STEP;
	if (!cf_core_mem_reserve(c->h->core, grow))
		return false;
	c->mem += grow;
	return true;
}

static struct conn *
conn_new(struct cf_http *h, struct MHD_Connection *mc)
{
	struct conn	*c;
	char		 src[CF_SOURCE_MAX];

	/* Zeroed but for req (21 KiB), which cf_req_init zeroes: not twice
	 * per request. */
	c = cf_malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	memset(c, 0, offsetof(struct conn, req));
	memset((char *)c + offsetof(struct conn, req) + sizeof(c->req), 0,
	    sizeof(*c) - offsetof(struct conn, req) - sizeof(c->req));
	c->h = h;
	/* SEC: JSON bodies carry passwords and codes: the buffer wipes its
	 * old storage as it grows, and on free. */
	cf_buf_init_secret(&c->body, h->cfg->max_json_body);
	peer_address(mc, src, sizeof(src));
	cf_req_init(&c->req, src);
	atomic_fetch_add_explicit(&h->nreq, 1, memory_order_relaxed);
	return c;
}

/* ---- connection governance ---- */

static struct sock *
sock_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* Set s's head deadline to d (0: none) unless the reaper has cut s;
 * false if it has. */
static bool
sock_deadline(struct sock *s, uint64_t d)
{
	uint64_t	cur;

	cur = atomic_load(&s->deadline);
	do {
		if (cur == HEAD_CUT)
			return false;
	} while (!atomic_compare_exchange_weak(&s->deadline, &cur, d));
	return true;
}

static bool
sock_cut(struct sock *s)
{
	return s != NULL && atomic_load(&s->deadline) == HEAD_CUT;
}

/* The head of mc's request is in: no deadline until the next one.  False
 * if the reaper has cut the connection, or it has no sock. */
static bool
sock_deadline_clear(struct MHD_Connection *mc)
{
	struct sock	*s = sock_of(mc);

	return s != NULL && sock_deadline(s, 0);
}

/* The body of c's request starts to be read: from now on it must bring
 * min_upload_rate (the reaper measures). */
static void
sock_body_begin(struct conn *c)
{
	struct sock	*s = c->sock;
	uint64_t	 cur;

	if (s == NULL || c->h->stall_min == 0)
		return;
	if (++s->next_gen == BODY_CUT)
		s->next_gen = 1;
	atomic_store(&s->body_bytes, 0);
	cur = atomic_load(&s->body_gen);
	do {
		if (cur == BODY_CUT)
			return;
	} while (!atomic_compare_exchange_weak(&s->body_gen, &cur,
	    s->next_gen));
}

static void
sock_body_feed(struct conn *c, size_t n)
{
	if (c->sock != NULL)
		atomic_fetch_add(&c->sock->body_bytes, n);
}

/* The body of c's request has ended: false if the reaper has cut it. */
static bool
sock_body_end(struct conn *c)
{
	struct sock	*s = c->sock;
	uint64_t	 cur;

	if (s == NULL)
		return true;
	cur = atomic_load(&s->body_gen);
	do {
		if (cur == BODY_CUT)
			return false;
	} while (!atomic_compare_exchange_weak(&s->body_gen, &cur, 0));
	return true;
}

static bool
sock_body_cut(const struct sock *s)
{
	return s != NULL && atomic_load(&s->body_gen) == BODY_CUT;
}

/* The reaper's look at s's request body (under smu): false if it brought
 * fewer than stall_min bytes in its last window of stall_ns, and the
 * reaper has cut it. */
static bool
body_check(struct cf_http *h, struct sock *s, uint64_t now)
{
	uint64_t	g, b;

	g = atomic_load(&s->body_gen);
	if (g == 0 || g == BODY_CUT) {
		s->win_gen = 0;
		return true;
	}
	b = atomic_load(&s->body_bytes);
	if (g != s->win_gen) {
		/* A new body: its first window starts now. */
		s->win_gen = g;
		s->win_start = now;
		s->win_bytes = b;
		return true;
	}
	if (now - s->win_start < h->stall_ns)
		return true;
	if (b - s->win_bytes >= h->stall_min) {
		s->win_start = now;
		s->win_bytes = b;
		return true;
	}
	/* SEC: lost to a handler that just saw the body end: that request
	 * is served. */
	return !atomic_compare_exchange_strong(&s->body_gen, &g, BODY_CUT);
}

/* libmicrohttpd's connection start and close: the reaper's list.  Close
 * comes before libmicrohttpd closes the descriptor, so the reaper never
 * shuts down a descriptor that has been reused. */
static void
notify_conn(void *cls, struct MHD_Connection *mc, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct cf_http			*h = cls;
	struct sock			*s = *socket_context;
	const union MHD_ConnectionInfo	*ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (s == NULL)
			return;
		(void)pthread_mutex_lock(&h->smu);
		if (s->prev != NULL)
			s->prev->next = s->next;
		else
			h->socks = s->next;
		if (s->next != NULL)
			s->next->prev = s->prev;
		h->nsocks--;
		(void)pthread_mutex_unlock(&h->smu);
		cf_free(s);
		*socket_context = NULL;
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_STARTED || s != NULL)
		return;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL) {
		/* The handler refuses a connection without its sock. */
		log_warnx("event=connection_dropped msg=\"no descriptor\"");
		return;
	}
	s = cf_calloc(1, sizeof(*s));
	if (s == NULL) {
		/* SEC: fail closed: a connection the reaper cannot see could
		 * hold its head open for ever. */
		log_warnx("event=connection_dropped msg=\"out of memory\"");
		(void)shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	s->fd = ci->connect_fd;
	atomic_init(&s->deadline, cf_mono_ns() + h->head_ns);
	atomic_init(&s->served, false);
	(void)pthread_mutex_lock(&h->smu);
	s->next = h->socks;
	if (s->next != NULL)
		s->next->prev = s;
	h->socks = s;
	h->nsocks++;
	(void)pthread_mutex_unlock(&h->smu);
	*socket_context = s;
}

/* At most one log line per GOV_LOG_NS for a kind of event: n of them
 * since the last line, which was at *at (0: none yet). */
static bool
gov_log_due(uint64_t n, uint64_t now, uint64_t *at)
{
	if (n == 0 || (*at != 0 && now - *at < GOV_LOG_NS))
		return false;
	*at = now;
	return true;
}

/* The reaper: every REAP_TICK_NS, cut the connections whose request head
 * is overdue.  shutdown() rather than close(): libmicrohttpd owns the
 * descriptor; it sees the end of the stream on its own thread and closes
 * the connection there (completed() records a request whose line had
 * come).  No answer can be sent: libmicrohttpd hands a request to the
 * handler, the only place a response can be queued, once its head is
 * complete.  Also logs the connections libmicrohttpd refused over its
 * limits (mhd_log counts them). */
static void *
reaper_main(void *arg)
{
	struct cf_http	*h = arg;
	struct sock	*s;
	struct timespec	 ts;
	uint64_t	 now, d, cut = 0, refused = 0, cut_at = 0, ref_at = 0;
	uint64_t	 stalled = 0, st_at = 0;
	unsigned	 open;

	(void)pthread_mutex_lock(&h->smu);
	while (!h->reap_stop) {
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)REAP_TICK_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&h->reap_cv, &h->smu, &ts);
		if (h->reap_stop)
			break;
		now = cf_mono_ns();
		for (s = h->socks; s != NULL; s = s->next) {
			if (h->stall_min != 0 && !body_check(h, s, now)) {
				/* completed() records it (upload_stalled) and
				 * aborts an upload: nothing is stored. */
				(void)shutdown(s->fd, SHUT_RDWR);
				stalled++;
				continue;
			}
			d = atomic_load(&s->deadline);
			if (d == 0 || d == HEAD_CUT || now < d)
				continue;
			/* SEC: lost to a handler that just took the head:
			 * that request is served. */
			if (!atomic_compare_exchange_strong(&s->deadline, &d,
			    HEAD_CUT))
				continue;
			(void)shutdown(s->fd, SHUT_RDWR);
			cut++;
		}
		open = h->nsocks;
		(void)pthread_mutex_unlock(&h->smu);
		refused += atomic_exchange(&h->refused, 0);
		if (gov_log_due(cut, now, &cut_at)) {
			log_warnx("event=request_head_timeout count=%llu "
			    "msg=\"request head not in within "
			    "request_head_timeout: connection closed\"",
			    (unsigned long long)cut);
			cut = 0;
		}
		if (gov_log_due(stalled, now, &st_at)) {
			log_warnx("event=upload_stalled count=%llu "
			    "msg=\"request body slower than min_upload_rate "
			    "over upload_stall_timeout: connection closed\"",
			    (unsigned long long)stalled);
			stalled = 0;
		}
		if (gov_log_due(refused, now, &ref_at)) {
			log_warnx("event=connection_refused count=%llu "
			    "open=%u msg=\"over max_connections_per_ip or "
			    "max_connections: closed before TLS and HTTP, not "
			    "audited\"", (unsigned long long)refused, open);
			refused = 0;
		}
		(void)pthread_mutex_lock(&h->smu);
	}
	(void)pthread_mutex_unlock(&h->smu);
	return NULL;
}

static cf_err
gov_start(struct cf_http *h, struct cf_error *err)
{
	pthread_condattr_t	ca;
	bool			ok;

	h->head_ns = h->cfg->request_head_timeout * 1000000000ULL;
	h->idle_ns = h->cfg->connection_timeout * 1000000000ULL;
	/* Bounded by the config table: no overflow. */
	h->stall_ns = h->cfg->upload_stall_timeout * 1000000000ULL;
	h->stall_min = h->cfg->min_upload_rate *
	    h->cfg->upload_stall_timeout;
	atomic_init(&h->refused, 0);
	if (pthread_mutex_init(&h->xmu, NULL) != 0)
		return cf_error_set(err, CF_E_NOMEM, "mutex init");
	h->xmu_ok = true;
	if (pthread_mutex_init(&h->smu, NULL) != 0) {
		xfer_end(h);
		return cf_error_set(err, CF_E_NOMEM, "mutex init");
	}
	ok = pthread_condattr_init(&ca) == 0;
	if (ok) {
		ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		    pthread_cond_init(&h->reap_cv, &ca) == 0;
		(void)pthread_condattr_destroy(&ca);
	}
	if (!ok) {
		(void)pthread_mutex_destroy(&h->smu);
		xfer_end(h);
		return cf_error_set(err, CF_E_NOMEM, "cond init");
	}
	/* SEC: fail closed: without the reaper nothing cuts a trickled
	 * request head. */
	if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0) {
		(void)pthread_cond_destroy(&h->reap_cv);
		(void)pthread_mutex_destroy(&h->smu);
		xfer_end(h);
		return cf_error_set(err, CF_E_NOMEM, "cannot start the "
		    "connection reaper thread");
	}
	h->reaper_ok = true;
	return CF_OK;
}

/* After the daemon has stopped (no connection left). */
static void
gov_end(struct cf_http *h)
{
	if (!h->reaper_ok)
		return;
	(void)pthread_mutex_lock(&h->smu);
	h->reap_stop = true;
	(void)pthread_cond_signal(&h->reap_cv);
	(void)pthread_mutex_unlock(&h->smu);
	(void)pthread_join(h->reaper, NULL);
	(void)pthread_cond_destroy(&h->reap_cv);
	(void)pthread_mutex_destroy(&h->smu);
	h->reaper_ok = false;
	xfer_end(h);
}

/* Called by libmicrohttpd as soon as a request line has arrived, before
 * the headers: the request context exists from here on, so a request that
 * libmicrohttpd itself refuses (headers over the limit, ...) still reaches
 * completed() and is audited. */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct cf_http	*h = cls;
	struct conn	*c;
	struct sock	*s;

	/* A later request of a kept-alive connection: its headers are due
	 * request_head_timeout from now (the first's since the accept). */
	s = sock_of(mc);
	if (s != NULL && atomic_load(&s->served))
		(void)sock_deadline(s, cf_mono_ns() + h->head_ns);
	c = conn_new(h, mc);
	if (c != NULL) {
		cf_core_reject(c->h->core, &c->req, "unknown",
		    "refused by the HTTP layer");
		/* SigV4 signs the URI as sent; libmicrohttpd decodes it. */
		if (cf_s3_path(uri))
			c->raw_uri = cf_memdup_str(uri, strlen(uri));
	}
	/* SEC: libmicrohttpd parses the query right after this call, one
	 * pool record per argument; too many would exhaust the pool and
	 * leave the connection hanging unanswered.  The query is cut here,
	 * in libmicrohttpd's own (writable) request-line buffer, so it
	 * parses none, and the handler answers 414.  Without a context the
	 * request cannot be answered anyway. */
	if (cf_http_query_args(uri) > ARGS_MAX) {
		char *q = strchr((char *)(uintptr_t)uri, '?');

		q[1] = '\0';
		if (c != NULL)
			c->too_many_args = true;
	}
	return c;
}

static enum MHD_Result
add_field_size(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	size_t	*n = cls;

	(void)kind;
	/* "key: value\r\n" */
	*n += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static enum MHD_Result
add_framing(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	cf_http_framing_add(cls, key, value);
	return MHD_YES;
}

/* The request's header block, about as received. */
static size_t
head_size(struct MHD_Connection *mc, const char *url)
{
	size_t	n = strlen(url) + 32;

	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, add_field_size,
	    &n);
	return n;
}

struct purpose_scan {
	unsigned	 n;		/* X-Coffer-Purpose fields */
	const char	*value;		/* the first one's */
};

static enum MHD_Result
scan_purpose(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct purpose_scan	*ps = cls;

	(void)kind;
	if (strcasecmp(key, "X-Coffer-Purpose") == 0 && ps->n++ == 0)
		ps->value = value;
	return MHD_YES;
}

/* The request context the header block gives (docs/api.md,
 * "Conventions"): the User-Agent, made printable, and X-Coffer-Purpose.
 * False for a purpose that is not valid, given twice or empty: the
 * caller refuses the request. */
static bool
req_context(struct MHD_Connection *mc, struct conn *c)
{
	struct purpose_scan	 ps = { 0, NULL };
	const char		*ua = header(mc, "User-Agent");

	if (ua != NULL)
		(void)cf_http_header_text(ua, c->req.user_agent,
		    sizeof(c->req.user_agent));
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, scan_purpose,
	    &ps);
	if (ps.n == 0)
		return true;
	if (ps.n > 1 || ps.value == NULL || !cf_http_purpose_ok(ps.value))
		return false;
	cf_strlcpy(c->req.purpose, ps.value, sizeof(c->req.purpose));
	return true;
}

/* What the head alone refuses, whoever sends it: too many query
 * arguments, ambiguous framing (then the connection closes: nothing after
 * this head may be read as another request), a head over HDR_MAX, a bad
 * X-Coffer-Purpose.  hr->status 0: none; else the answer and the
 * record's reason.  Reads the request context (req_context) on the way. */
struct head_refusal {
	int		 status;
	const char	*code, *msg, *why;
	bool		 close;
};

static void
head_refused(struct MHD_Connection *mc, struct conn *c, const char *url,
    const char *version, struct head_refusal *hr)
{
	struct cf_http_framing	 f;

	memset(hr, 0, sizeof(*hr));
	if (c->too_many_args) {
		hr->status = 414;
		hr->code = "too_many_arguments";
		hr->msg = "more than 64 query arguments";
		hr->why = "too many query arguments";
		return;
	}
	memset(&f, 0, sizeof(f));
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, add_framing, &f);
	hr->status = cf_http_framing_verdict(&f,
	    strcmp(version, "HTTP/1.0") == 0, &hr->code, &hr->msg);
	if (hr->status != 0) {
		hr->why = "ambiguous framing";
		hr->close = true;
		return;
	}
	if (head_size(mc, url) > HDR_MAX) {
		hr->status = 431;
		hr->code = "headers_too_large";
		hr->msg = "request line and headers exceed 16 KiB";
		hr->why = "request headers too large";
		return;
	}
	if (!req_context(mc, c)) {
		hr->status = 400;
		hr->code = "bad_purpose";
		hr->msg = "X-Coffer-Purpose must be one field of 1 to 64 "
		    "characters from A-Z a-z 0-9 _ . : -";
		hr->why = "bad X-Coffer-Purpose";
	}
}

/* Every field of one header, joined by ", " (RFC 9110 5.3). */
struct hdr_join {
	const char	*name;
	char		 buf[CF_FORWARDED_MAX + 1];
	size_t		 len;
	bool		 any, over;
};

static enum MHD_Result
join_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_join	*j = cls;
	size_t		 n;

	(void)kind;
	if (strcasecmp(key, j->name) != 0 || value == NULL)
		return MHD_YES;
	n = strlen(value);
	if (j->len + n + (j->any ? 2 : 0) >= sizeof(j->buf)) {
		j->over = true;
		return MHD_NO;
	}
	if (j->any) {
		memcpy(j->buf + j->len, ", ", 2);
		j->len += 2;
	}
	memcpy(j->buf + j->len, value, n);
	j->len += n;
	j->buf[j->len] = '\0';
	j->any = true;
	return MHD_YES;
}

/* SEC: the client is the socket peer, unless the peer is one of
 * trusted_proxies: then it is who the configured header says (the
 * rightmost hop that is not one of them).  A malformed header from a
 * trusted proxy is refused (400), never guessed at.  False: answered. */
static bool
client_address(struct MHD_Connection *mc, struct conn *c,
    enum MHD_Result *ret)
{
	struct hdr_join	 j;
	struct cf_error	 err;
	struct cf_ip	 peer;
	char		 addr[CF_IP_TEXT_MAX];
	cf_err		 rc;

	if (c->h->trusted.n == 0 || !cf_ip_parse(c->req.peer,
	    strlen(c->req.peer), &peer) ||
	    !cf_cidr_list_match(&c->h->trusted, &peer))
		return true;
	memset(&j, 0, sizeof(j));
	j.name = c->h->fwd_rfc7239 ? "Forwarded" : "X-Forwarded-For";
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, join_header,
	    &j);
	cf_error_clear(&err);
	if (j.over)
		rc = cf_error_set(&err, CF_E_LIMIT, "%s is longer than %d "
		    "bytes", j.name, CF_FORWARDED_MAX);
	else
		rc = cf_http_forwarded_client(j.any ? j.buf : NULL,
		    c->h->fwd_rfc7239, &c->h->trusted, addr, sizeof(addr),
		    &err);
	if (rc != CF_OK) {
		cf_core_reject(c->h->core, &c->req, "unknown",
		    "bad forwarding header");
		c->failed = true;
		*ret = respond_error(mc, c, 400, "bad_forwarded", err.msg);
		return false;
	}
	if (addr[0] != '\0')
		cf_strlcpy(c->req.source, addr, sizeof(c->req.source));
	return true;
}

/* SEC: network isolation, before authentication: a request addressed to
 * a namespace whose environment does not admit the client's network is
 * refused (403, audited) without looking at its credential.  False:
 * answered. */
static bool
network_allowed(struct MHD_Connection *mc, struct conn *c,
    enum MHD_Result *ret)
{
	struct cf_error	err;
	cf_err		rc;

	if (c->rt == NULL || c->ns[0] == '\0')
		return true;
	cf_error_clear(&err);
	rc = cf_core_net_check(c->h->core, &c->req, c->rt->action, c->ns,
	    &err);
	if (rc == CF_OK)
		return true;
	c->failed = true;
	if (rc == CF_E_DENIED)
		*ret = respond_error(mc, c, 403, "network_refused", err.msg);
	else
		*ret = respond_error(mc, c, 503, "unavailable",
		    "network check unavailable");
	return false;
}

/* The captures of the matched route, from the path into c: {ns} into
 * c->ns (the matcher bounded it), the other one into c->rest. */
static cf_err
bind_captures(struct conn *c, const char *url, const struct cf_route_match *m)
{
	size_t	i;

	for (i = 0; i < m->ncap; i++) {
		if (strcmp(m->cap[i].name, "ns") == 0) {
			if (CF_NEVER(m->cap[i].len >= sizeof(c->ns)))
				return CF_E_INTERNAL;
			memcpy(c->ns, url + m->cap[i].off, m->cap[i].len);
			c->ns[m->cap[i].len] = '\0';
			continue;
		}
		if (CF_NEVER(c->rest != NULL))
			return CF_E_INTERNAL;
		c->rest = cf_memdup_str(url + m->cap[i].off, m->cap[i].len);
		if (c->rest == NULL)
			return CF_E_NOMEM;
	}
	return CF_OK;
}

/* Does a body follow the head?  (Content-Length other than 0, or any
 * Transfer-Encoding: RFC 9112 6.3.) */
static bool
body_follows(struct MHD_Connection *mc)
{
	const char	*cl = header(mc, "Content-Length");

	return header(mc, "Transfer-Encoding") != NULL ||
	    (cl != NULL && strcmp(cl, "0") != 0);
}

/* Authenticate c's request; false (answered 503, *ret set) when the
 * store could not say. */
static bool
authenticate(struct MHD_Connection *mc, struct conn *c, const char *bearer,
    enum MHD_Result *ret)
{
	struct cf_error	 err;
	char		 esc[LOG_MSG_LEN];

	cf_error_clear(&err);
	if (cf_core_authenticate(c->h->core, &c->req, bearer, &err) == CF_OK)
		return true;
	/* SEC: fail closed; the store could not answer. */
	cf_log_escape(err.msg, esc, sizeof(esc));
	log_warnx("event=authn_error msg=\"%s\"", esc);
	cf_core_reject(c->h->core, &c->req, "unknown", "authentication error");
	c->failed = true;
	*ret = respond_error(mc, c, 503, "unavailable",
	    "authentication unavailable");
	return false;
}

/* A read whose authentication waited for its final call (head_in):
 * authenticated and answered there, in one read snapshot with its
 * decision and lookup (one read transaction instead of two). */
static enum MHD_Result
late_read(struct MHD_Connection *mc, struct conn *c)
{
	const char	*bearer;
	bool		 present, snap;
	enum MHD_Result	 ret;

	c->authn_late = false;
	bearer = bearer_of(mc, &present);
	snap = cf_core_snapshot_begin(c->h->core, &c->req, bearer);
	if (authenticate(mc, c, bearer, &ret))
		ret = c->rt->fn(mc, c);
	if (snap)
		cf_core_snapshot_end(c->h->core, &c->req);
	return ret;
}

/* The first call of a request: its head is in. */
static enum MHD_Result
head_in(struct cf_http *h, struct MHD_Connection *mc, struct conn *c,
    const char *url, const char *method, const char *version)
{
	struct cf_route_match	 m;
	struct head_refusal	 hr;
	const char		*bearer;
	bool			 present;
	enum MHD_Result		 ret;

	/* SEC: the head is in: no deadline until the next request.
	 * One the reaper has cut is not served (completed() records
	 * it); nor is one it cannot see. */
	if (!sock_deadline_clear(mc))
		return MHD_NO;
	c->sock = sock_of(mc);
	c->started = true;
	c->req.action = "unknown";
	c->req.reasons[0] = '\0';
	cf_route_match(routes, sizeof(routes) / sizeof(routes[0]),
	    method, url, &m);
	c->rt = m.route;
	c->path_known = m.path_known;
	if (!client_address(mc, c, &ret))
		return ret;
	if (c->rt != NULL && bind_captures(c, url, &m) != CF_OK)
		return respond_nomem(mc, c);
	if (!network_allowed(mc, c, &ret))
		return ret;
	/* RFC 9110 15.5.6: a 405 lists the methods the path has. */
	if (c->rt == NULL && c->path_known)
		(void)cf_route_allow(routes, sizeof(routes) /
		    sizeof(routes[0]), url, c->allow);
	bearer = bearer_of(mc, &present);
	head_refused(mc, c, url, version, &hr);
	/* A read without a body (CF_ROUTE_READ) that the head does not
	 * refuse is authenticated in its final call (late_read): it comes
	 * right after this one, and libmicrohttpd 0.9.75 closes the
	 * connection after an answer queued in this one.  Anything
	 * refused here is authenticated first, for its record. */
	if (hr.status == 0 && c->rt != NULL &&
	    (c->rt->flags & CF_ROUTE_READ) != 0 && !cf_s3_path(url) &&
	    !body_follows(mc)) {
		c->authn_late = true;
		sock_body_begin(c);
		return MHD_YES;
	}
	if (!authenticate(mc, c, bearer, &ret))
		return ret;
	if (hr.status != 0) {
		cf_core_reject(h->core, &c->req, "unknown", hr.why);
		c->failed = true;
		if (hr.close)
			c->close = true;
		return respond_error(mc, c, hr.status, hr.code, hr.msg);
	}
	ret = MHD_YES;
	if (cf_s3_path(url))
		ret = cf_s3_begin(mc, c, method);
	else if (c->rt != NULL && c->rt->begin != NULL)
		ret = c->rt->begin(mc, c);
	/* SEC: a body that follows must come at min_upload_rate
	 * (one answered already is only drained). */
	if (ret == MHD_YES && !c->responded)
		sock_body_begin(c);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct cf_http		*h = cls;
	struct conn		*c = *con_cls;
	struct cf_error		 err;

	if (c != NULL && c->slow_dead)
		return MHD_NO;
	if (c != NULL && c->stash != NULL) {
		/* Resumed after the audit notifier saw the record durable. */
		if (*upload_data_size > 0) {
			c->drained += *upload_data_size;
			*upload_data_size = 0;
		}
		return unpark(mc, c);
	}
	if (c == NULL || !c->started) {
		if (c == NULL && (c = conn_new(h, mc)) == NULL)
			return MHD_NO;
		*con_cls = c;
		return head_in(h, mc, c, url, method, version);
	}
	if (*upload_data_size > 0)
		sock_body_feed(c, *upload_data_size);
	else if (!sock_body_end(c))
		return MHD_NO;	/* cut: completed() records it */
	if (c->responded) {
		/* Answered in the first call: drop whatever body follows,
		 * up to DRAIN_MAX like a refusal's. */
		c->drained += *upload_data_size;
		*upload_data_size = 0;
		return c->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
	}
	if (c->failed) {
		if (*upload_data_size == 0 && c->s3 != NULL)
			return cf_s3_refuse(mc, c, c->pend_status,
			    c->pend_code, c->pend_msg);
		if (*upload_data_size == 0)
			return respond_error(mc, c, c->pend_status,
			    c->pend_code, c->pend_msg);
		c->drained += *upload_data_size;
		*upload_data_size = 0;
		return c->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
	}
	if (*upload_data_size > 0) {
		cf_error_clear(&err);
		if (c->put != NULL) {
			if (put_feed(c, upload_data, *upload_data_size,
			    &err) != CF_OK) {
				int st;
				const char *code = default_code(err.code, &st);
				cf_core_put_abort(c->put);
				c->put = NULL;
				*upload_data_size = 0;
				pend_error(c, st, code, err.msg);
				return MHD_YES;
			}
			c->bytes_in += *upload_data_size;
		} else if (*upload_data_size <= c->body.max - c->body.len &&
		    !body_reserve(c, *upload_data_size)) {
			/* SEC: past the global memory budget, a body is
			 * refused, not buffered: 503 with Retry-After. */
			cf_core_mem_refused(h->core);
			cf_core_reject(h->core, &c->req, "unknown",
			    "request memory budget");
			*upload_data_size = 0;
			c->req.retry_after = 1;
			pend_error(c, 503, c->s3 != NULL ? "SlowDown" :
			    "server_busy", "the server is holding as much "
			    "request data as request_memory_budget allows; "
			    "retry shortly");
			return MHD_YES;
		} else if (cf_buf_append(&c->body, upload_data,
		    *upload_data_size, &err) != CF_OK) {
			cf_core_reject(h->core, &c->req, "unknown",
			    "body too large");
			*upload_data_size = 0;
			pend_error(c, 413, "too_large",
			    "request body exceeds max_json_body");
			return MHD_YES;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(mc, c);
}

/* libmicrohttpd's reason for ending a request, for the completion record
 * of a download. */
static const char *
toe_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return "completed_ok";
	case MHD_REQUEST_TERMINATED_WITH_ERROR:
		return "with_error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout_reached";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "daemon_shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "read_error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client_abort";
	}
	return "unknown";
}

/* Why a request ended, for a completion record. */
static const char *
end_reason(const struct conn *c, enum MHD_RequestTerminationCode toe)
{
	return c->left_waiting ? "client_left_while_waiting" : toe_name(toe);
}

/* The completion record of a download: its first record was written (and
 * made durable) before the first byte, saying "ok" with the full size;
 * this one, under the same request id, says what was handed to the TLS
 * layer when the request ended (an upper bound of what the client got)
 * and whether the response went out whole.  Nothing waits for it: it is
 * submitted (pool mode) and made durable with the next commit; with a
 * thread per connection it is appended on the connection's own thread.
 * docs/internals/AUDIT.md, "Downloads". */
static void
dl_end(struct conn *c, enum MHD_RequestTerminationCode toe)
{
	struct cf_error	 err;
	bool		 whole;

	whole = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
	    c->dl_sent == c->dl_len && !c->dl_failed;
	c->req.action = "object:get:end";
	(void)snprintf(c->req.reasons, sizeof(c->req.reasons), "%s%s",
	    end_reason(c, toe), c->dl_failed ? ",stored_data_unreadable" :
	    "");
	c->req.time_us = cf_now_us();
	cf_error_clear(&err);
	if (audit_req(c, c->dl_status, whole ? "complete" : "incomplete",
	    c->dl_sent, &err) != CF_OK)
		log_warnx("event=audit_failed request=%s",
		    c->req.request_id);
}

/* The completion record of any other request whose record was written
 * but whose answer did not go out whole: its client left while it
 * waited (suspended, for its record's durability or an identity thread),
 * the connection broke while the answer was sent, or the server stopped
 * first.  The first record stays what was decided and done (a change it
 * records was made); this one, under the same request id, says the
 * client may not know.  Submitted like a download's (dl_end), never
 * awaited.  docs/internals/AUDIT.md, "Completion records". */
static void
req_end(struct conn *c, enum MHD_RequestTerminationCode toe)
{
	struct cf_error	 err;
	const char	*result;

	result = c->left_waiting ? "client_aborted" :
	    toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "server_shutdown" :
	    toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout" :
	    "client_aborted";
	c->req.action = "request:end";
	(void)snprintf(c->req.reasons, sizeof(c->req.reasons), "%s",
	    end_reason(c, toe));
	c->req.time_us = cf_now_us();
	cf_error_clear(&err);
	if (audit_req(c, c->resp_status, result, 0, &err) != CF_OK)
		log_warnx("event=audit_failed request=%s",
		    c->req.request_id);
}

/* Runs when a request ends, answered or not: a client that went away in
 * the middle of an upload leaves no version and no temporary data, and
 * the attempt is still recorded; so is how a download ended. */
static void
completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct cf_http	*h = cls;
	struct conn	*c = *con_cls;
	struct cf_error	 err;
	struct sock	*s;
	const char	*result;
	int		 status;
	bool		 cut;

	s = sock_of(mc);
	cut = sock_cut(s);
	if (s != NULL && !cut) {
		/* The next request line is due within connection_timeout (an
		 * idle connection is closed then anyway): a kept-alive
		 * connection cannot trickle it for ever. */
		atomic_store(&s->served, true);
		(void)sock_deadline(s, cf_mono_ns() + h->idle_ns);
	}
	if (c == NULL)
		return;
	if (c->waiting) {
		struct conn	**pp;

		(void)pthread_mutex_lock(&h->wmu);
		for (pp = &h->waiters; *pp != NULL; pp = &(*pp)->next_wait)
			if (*pp == c) {
				*pp = c->next_wait;
				h->nwaiting--;
				break;
			}
		c->waiting = false;
		(void)pthread_mutex_unlock(&h->wmu);
	}
	if (c->queued) {
		/* Not reached while the connection is suspended (and a queued
		 * request's is); but never leave a freed conn in the queue. */
		struct conn	**pp, *prev = NULL;

		(void)pthread_mutex_lock(&h->wmu);
		for (pp = &h->slow_head; *pp != NULL; pp = &(*pp)->next_job) {
			if (*pp == c) {
				*pp = c->next_job;
				if (h->slow_tail == c)
					h->slow_tail = prev;
				h->slow_jobs--;
				break;
			}
			prev = *pp;
		}
		c->queued = false;
		(void)pthread_mutex_unlock(&h->wmu);
	}
	if (c->stash != NULL) {
		/* Its answer was parked for its record and never went out:
		 * the client left while it waited, whichever way
		 * libmicrohttpd noticed (a read error on resume, or
		 * unpark's look). */
		if (toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
			c->left_waiting = true;
		MHD_destroy_response(c->stash);
		c->stash = NULL;
	}
	if (c->put != NULL) {
		/* Nothing stored: no version, the temporary blob removed. */
		cf_core_put_abort(c->put);
		c->put = NULL;
	}
	xfer_release(c);
	if (!c->req.audited && c->authn_late) {
		/* Ended between its two calls (head_in): authenticated
		 * now, so that its record names who asked, as any other's. */
		bool	present;

		c->authn_late = false;
		cf_error_clear(&err);
		(void)cf_core_authenticate(h->core, &c->req,
		    bearer_of(mc, &present), &err);
	}
	if (!c->req.audited) {
		/* Nothing more is sent: the record need not be durable
		 * before this returns, so an event thread does not wait
		 * (audit_req submits in pool mode; the notifier still
		 * commits it, before the log closes at the latest). */
		status = c->pend_status;
		result = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" :
		    !c->started ? "refused_by_http_layer" :
		    c->pend_status != 0 ? c->pend_code :
		    toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ?
		    "server_shutdown" : "client_aborted";
		if (!c->started && cut) {
			/* Its line came, its headers not by the deadline:
			 * cut by the reaper, without an answer. */
			cf_core_reject(h->core, &c->req, "unknown",
			    "request head not in by its deadline");
			status = 408;
			result = "request_head_timeout";
		} else if (c->started && sock_body_cut(s)) {
			/* Its body came slower than min_upload_rate: cut by
			 * the reaper, without an answer. */
			status = 408;
			result = "upload_stalled";
		}
		cf_error_clear(&err);
		if (audit_req(c, status, result, c->bytes_in, &err) != CF_OK)
			log_warnx("event=audit_failed request=%s",
			    c->req.request_id);
	} else if (c->dl)
		dl_end(c, toe);
	else if (!c->log_refused && (c->left_waiting ||
	    toe != MHD_REQUEST_TERMINATED_COMPLETED_OK))
		req_end(c, toe);
	/* Answered before its body ended: no longer measured. */
	(void)sock_body_end(c);
	cf_buf_free(&c->body);
	if (c->mem > 0)
		cf_core_mem_release(h->core, c->mem);
	cf_free(c->rest);
	cf_s3_free(c->s3);
	cf_free(c->raw_uri);
	cf_free(c);
	*con_cls = NULL;
	atomic_fetch_sub_explicit(&h->nreq, 1, memory_order_relaxed);
}

static size_t
mhd_unescape(void *cls, struct MHD_Connection *mc, char *s)
{
	(void)cls;
	(void)mc;
	return cf_http_unescape(s);
}

static void mhd_log(void *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	msg[512], esc[2 * sizeof(msg)];
	size_t	n;

	/* A connection over max_connections_per_ip or max_connections,
	 * closed by libmicrohttpd before our accept policy sees it: counted
	 * for the reaper's rate-limited log line (libmicrohttpd 0.9.75's
	 * wording; tests/e2e/test_slowloris.py notices if it changes). */
	if (strstr(fmt, "reached connection limit") != NULL)
		atomic_fetch_add(&((struct cf_http *)cls)->refused, 1);
	if (cf_log_level_current < CF_LOG_DEBUG)
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* libmicrohttpd's messages may quote what the peer sent. */
	cf_log_escape(msg, esc, sizeof(esc));
	log_debug("event=httpd msg=\"%s\"", esc);
}

static cf_err
parse_listen(const char *listen, struct sockaddr_storage *ss,
    bool *loopback, struct cf_error *err)
{
	char			 host[128];
	const char		*colon;
	uint64_t		 port;
	size_t			 hl;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(listen, ':');
	if (colon == NULL)
		return cf_error_set(err, CF_E_INPUT,
		    "listen address must be ADDR:PORT");
	hl = (size_t)(colon - listen);
	if (hl >= sizeof(host))
		return cf_error_set(err, CF_E_INPUT, "listen address too long");
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (cf_parse_u64(colon + 1, 1, 65535, &port, err) != CF_OK)
		return cf_error_set(err, CF_E_INPUT, "bad port in \"%s\"",
		    listen);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return cf_error_set(err, CF_E_INPUT,
			    "bad IPv6 address in \"%s\"", listen);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		return CF_OK;
	}
	if (strcmp(host, "localhost") == 0)
		cf_strlcpy(host, "127.0.0.1", sizeof(host));
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return cf_error_set(err, CF_E_INPUT,
		    "bad IPv4 address in \"%s\" (use a numeric address)",
		    listen);
	*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return CF_OK;
}

/* The listening address, with the rule on plain HTTP. */
static cf_err
listen_addr(const struct cf_config *cfg, struct sockaddr_storage *ss,
    struct cf_error *err)
{
	bool	loopback = false;
	cf_err	rc;

	rc = parse_listen(cfg->listen, ss, &loopback, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: plain HTTP only where nobody else can listen in. */
	if (cfg->insecure_http && !loopback)
		return cf_error_set(err, CF_E_INPUT,
		    "--insecure-http is allowed only on a loopback address");
	return CF_OK;
}

cf_err
cf_http_check_listen(const struct cf_config *cfg, struct cf_error *err)
{
	struct sockaddr_storage	ss;

	return listen_addr(cfg, &ss, err);
}

/* Stop the slow threads and the audit notifier: no call into h after. */
static void
async_end(struct cf_http *h)
{
	unsigned	i;

	if (h->slow_cv_ok) {
		(void)pthread_mutex_lock(&h->wmu);
		h->slow_stop = true;
		(void)pthread_cond_broadcast(&h->slow_cv);
		(void)pthread_mutex_unlock(&h->wmu);
		for (i = 0; i < h->nslow_thr; i++)
			(void)pthread_join(h->slow_thr[i], NULL);
		(void)pthread_cond_destroy(&h->slow_cv);
	}
	cf_core_audit_notify_stop(h->core);
	if (h->durable_cv_ok)
		(void)pthread_cond_destroy(&h->durable_cv);
	(void)pthread_mutex_destroy(&h->wmu);
}

/* libmicrohttpd's accept policy: none once the server is stopping (the
 * connection is closed at once; the kernel may have queued it). */
static enum MHD_Result
accept_ok(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct cf_http	*h = cls;

	(void)addr;
	(void)addrlen;
	return atomic_load(&h->stopping) ? MHD_NO : MHD_YES;
}

cf_err
cf_http_start(struct cf_core *core, const struct cf_config *cfg,
    const char *cert_pem, const char *key_pem, struct cf_http **out,
    struct cf_error *err)
{
	struct cf_http		*h;
	struct sockaddr_storage	 ss;
	unsigned int		 flags;
	cf_err			 rc;

	rc = listen_addr(cfg, &ss, err);
	if (rc != CF_OK)
		return rc;
	h = cf_calloc(1, sizeof(*h));
	if (h == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	h->core = core;
	h->cfg = cfg;
	h->fwd_rfc7239 = strcmp(cfg->forwarded_header, "forwarded") == 0;
	rc = cf_cidr_list_parse(cfg->trusted_proxies, &h->trusted, err);
	if (rc != CF_OK) {
		cf_free(h);
		return rc;
	}
	/* A pool of event threads must not block on the audit log: its
	 * responses wait suspended for the notifier (audit_durable). */
	h->async = cfg->threads > 0;
	if (h->async) {
		if (pthread_mutex_init(&h->wmu, NULL) != 0) {
			cf_free(h);
			return cf_error_set(err, CF_E_NOMEM, "mutex init");
		}
		if (pthread_cond_init(&h->durable_cv, NULL) != 0) {
			(void)pthread_mutex_destroy(&h->wmu);
			cf_free(h);
			return cf_error_set(err, CF_E_NOMEM, "cond init");
		}
		h->durable_cv_ok = true;
		rc = cf_core_audit_notify(core, audit_durable, h, err);
		if (rc != CF_OK) {
			(void)pthread_cond_destroy(&h->durable_cv);
			(void)pthread_mutex_destroy(&h->wmu);
			cf_free(h);
			return rc;
		}
		/* Without them identity requests run on the event threads
		 * (correct, only slower for everyone during a login). */
		if (pthread_cond_init(&h->slow_cv, NULL) == 0)
			h->slow_cv_ok = true;
		while (h->slow_cv_ok && h->nslow_thr < SLOW_THREADS &&
		    pthread_create(&h->slow_thr[h->nslow_thr], NULL,
		    slow_main, h) == 0)
			h->nslow_thr++;
	}
	/* threads = 0: a thread per connection (each request may block on
	 * the audit log's group commit, so every connection should be able
	 * to wait at once); otherwise a pool of event threads.
	 * SEC: poll(2), not epoll: in libmicrohttpd 0.9.75's epoll mode a
	 * connection in its TLS handshake stays on the ready list (GnuTLS
	 * reads the socket itself, so libmicrohttpd never sees the EAGAIN
	 * that clears the flag) and its thread loops without sleeping until
	 * the client's next flight: a client that stops mid-handshake held
	 * an event thread at 100 % of a core (tests/e2e/test_slowloris.py,
	 * test_stalled_tls_handshakes_do_not_spin), and every handshake
	 * cost ~5 ms of CPU instead of ~0.4 (bench/README.md, "TLS
	 * handshakes").  poll waits for what the connection asked for. */
	/* MHD_USE_ITC: suspend/resume needs it (and implies it). */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC | MHD_USE_POLL | (cfg->threads == 0 ?
	    MHD_USE_THREAD_PER_CONNECTION : 0);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (!cfg->insecure_http)
		flags |= MHD_USE_TLS;
	if (h->async)
		flags |= MHD_ALLOW_SUSPEND_RESUME;
	rc = gov_start(h, err);
	if (rc != CF_OK) {
		if (h->async)
			async_end(h);
		cf_free(h);
		return rc;
	}
	/* One option list for both listeners; the pool size only with a
	 * pool, the TLS material only with TLS. */
	{
		struct MHD_OptionItem	opts[24];
		size_t			n = 0;

#define OPT(o, v, p) do {						\
	opts[n].option = (o);						\
	opts[n].value = (intptr_t)(v);					\
	opts[n].ptr_value = (void *)(uintptr_t)(p);			\
	n++;								\
} while (0)
		OPT(MHD_OPTION_SOCK_ADDR, 0, &ss);
		if (cfg->threads > 0)
			OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
		OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL);
		/* SEC: one address cannot take every connection. */
		OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    cfg->max_connections_per_ip, NULL);
		OPT(MHD_OPTION_NOTIFY_CONNECTION, notify_conn, h);
		OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
		    NULL);
		OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEM, NULL);
		OPT(MHD_OPTION_NOTIFY_COMPLETED, completed, h);
		OPT(MHD_OPTION_URI_LOG_CALLBACK, uri_log, h);
		OPT(MHD_OPTION_UNESCAPE_CALLBACK, mhd_unescape, h);
		OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h);
		if (!cfg->insecure_http) {
			OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cert_pem);
			OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, key_pem);
			OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, TLS_PRIORITIES);
		}
		OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
		h->d = MHD_start_daemon(flags, 0, accept_ok, h, handler, h,
		    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (h->d == NULL) {
		rc = cf_error_sys(err, CF_E_IO, "cannot listen on %s",
		    cfg->listen);
		gov_end(h);
		if (h->async)
			async_end(h);
		cf_free(h);
		return rc;
	}
	/* Without the copy the posture check says it could not look at
	 * the certificate (its tls check fails), nothing worse. */
	if (cert_pem != NULL && !cfg->insecure_http)
		h->cert_pem = cf_strdup(cert_pem);
	*out = h;
	return CF_OK;
}

/* Answer every suspended request before the daemon stops: libmicrohttpd
 * aborts (MHD_PANIC) if it is stopped with a connection suspended.
 * Identity requests not yet started are refused (503, audited), running
 * ones finish (SQLite's busy wait is bounded), and parked responses go out
 * as the notifier finds their records durable.  Once none is left,
 * closing is set under the same lock, and from then on nothing suspends
 * (queue_audited waits on its thread instead; no new identity job).
 * SEC: should that take longer than STOP_MAX_US (a data directory that
 * no longer answers), the process exits at once with STOP_STUCK_EXIT,
 * without stopping the daemon or closing the audit log: every response
 * sent had its record durable, the unanswered ones get none, and the
 * next start recovers the log as after a crash. */
static void
drain(struct cf_http *h)
{
	struct conn	*c, *next;
	uint64_t	 start, now, logged;
	unsigned	 jobs, parked;

	start = logged = cf_mono_ns();
	(void)pthread_mutex_lock(&h->wmu);
	atomic_store(&h->stopping, true);
	/* The queued identity requests are refused now, here, rather than
	 * after the running ones. */
	c = h->slow_head;
	h->slow_head = h->slow_tail = NULL;
	for (next = c; next != NULL; next = next->next_job)
		next->queued = false;
	(void)pthread_mutex_unlock(&h->wmu);
	for (; c != NULL; c = next) {
		next = c->next_job;	/* c may be freed once answered */
		slow_run(h, c, true);
	}
	(void)pthread_mutex_lock(&h->wmu);
	for (;;) {
		jobs = h->slow_jobs;
		parked = h->nwaiting;
		if (jobs == 0 && parked == 0) {
			h->closing = true;
			break;
		}
		(void)pthread_mutex_unlock(&h->wmu);
		now = cf_mono_ns();
		if ((now - start) / 1000 > (uint64_t)STOP_MAX_US) {
			log_warnx("event=shutdown_stuck identity_jobs=%u "
			    "parked=%u msg=\"requests still unanswered after "
			    "%llds; exiting without the final audit "
			    "checkpoint\"", jobs, parked,
			    STOP_MAX_US / 1000000);
			_exit(STOP_STUCK_EXIT);
		}
		if ((now - logged) / 1000 >= (uint64_t)STOP_LOG_US) {
			log_info("event=shutdown_wait identity_jobs=%u "
			    "parked=%u", jobs, parked);
			logged = now;
		}
		(void)usleep(10000);
		(void)pthread_mutex_lock(&h->wmu);
	}
	(void)pthread_mutex_unlock(&h->wmu);
}

/* Let the requests in progress finish, up to shutdown_drain_timeout
 * after the signal (start): uploads still arriving, downloads still
 * leaving, answers waiting for their record (those wait on their event
 * thread now: drain() has set closing).  No new connection is accepted,
 * and every answer carries Connection: close, so a kept-alive client
 * makes at most one more request.  Whatever is left is cut by the
 * daemon's stop: completed() records each (server_shutdown; an upload
 * leaves nothing stored). */
static void
drain_requests(struct cf_http *h, uint64_t start)
{
	uint64_t	limit, now, logged;
	unsigned	n;

	limit = h->cfg->shutdown_drain_timeout * 1000000000ULL;
	logged = 0;
	for (;;) {
		n = atomic_load(&h->nreq);
		now = cf_mono_ns();
		if (n == 0)
			return;
		if (now - start >= limit) {
			log_warnx("event=shutdown_drain_timeout in_flight=%u "
			    "msg=\"requests still in progress after "
			    "shutdown_drain_timeout (%llus): cut, and "
			    "recorded as server_shutdown\"", n,
			    (unsigned long long)
			    h->cfg->shutdown_drain_timeout);
			return;
		}
		if (logged == 0 || (now - logged) / 1000 >=
		    (uint64_t)STOP_LOG_US) {
			log_info("event=shutdown_drain in_flight=%u", n);
			logged = now;
		}
		(void)usleep(10000);
	}
}

void
cf_http_stop(struct cf_http *h)
{
	uint64_t	start;

	if (h == NULL)
		return;
	start = cf_mono_ns();
	/* No new connections: accept_ok refuses them from now on.  Not
	 * MHD_quiesce_daemon: with the epoll threads Coffer used before, a
	 * worker that saw the daemon quiesced removed the listening socket
	 * from its epoll set too, unlocked; the loser of the two removals
	 * got ENOENT and libmicrohttpd 0.9.75 aborted ("Failed to remove
	 * listen FD from epoll set"): a SIGTERM right after a start died so
	 * once in CI.  The accept policy works in every mode. */
	atomic_store(&h->stopping, true);
	if (h->async)
		drain(h);
	drain_requests(h, start);
	MHD_stop_daemon(h->d);
	gov_end(h);
	if (h->async)
		async_end(h);
	cf_free(h->cert_pem);
	cf_free(h);
}

/* ---- services for the S3 front end (server/s3.c) ---- */

struct cf_req *
cf_http_req(struct conn *c)
{
	return &c->req;
}

struct cf_core *
cf_http_core(struct conn *c)
{
	return c->h->core;
}

const char *
cf_http_s3_region(const struct conn *c)
{
	return c->h->cfg->s3_region;
}

const char *
cf_http_raw_uri(const struct conn *c)
{
	return c->raw_uri;
}

struct cf_s3 **
cf_http_s3(struct conn *c)
{
	return &c->s3;
}

void
cf_http_set_action(struct conn *c, const char *action)
{
	c->s3_action = action;
}

void
cf_http_set_refine(struct conn *c, const char *action)
{
	c->s3_refine = action;
}

void
cf_http_set_put(struct conn *c, struct cf_put *p)
{
	c->put = p;
}

struct cf_put *
cf_http_take_put(struct conn *c)
{
	struct cf_put	*p = c->put;

	c->put = NULL;
	return p;
}

const struct cf_buf *
cf_http_body(const struct conn *c)
{
	return &c->body;
}

void
cf_http_body_max(struct conn *c, size_t max)
{
	if (c->h->cfg->max_json_body < max)
		cf_buf_init_secret(&c->body, max);
}

uint64_t
cf_http_bytes_in(const struct conn *c)
{
	return c->bytes_in;
}

void
cf_http_set_failed(struct conn *c)
{
	c->failed = true;
}

bool
cf_http_xfer(struct MHD_Connection *mc, struct conn *c, bool up,
    enum MHD_Result *ret)
{
	return xfer_take(mc, c, up ? XFER_UP : XFER_DOWN, ret);
}

cf_err
cf_http_object_body(struct conn *c, struct cf_get *g, uint64_t first,
    uint64_t len, struct MHD_Response **out, struct cf_error *err)
{
	struct dl	*d;
	cf_err		 rc;

	if (len > 0 && len <= SMALL_BODY) {
		rc = small_body(g, first, (size_t)len, out, err);
		cf_core_get_close(g);
		if (rc != CF_OK)
			return rc;
		c->dl_small = true;
	} else {
		d = cf_calloc(1, sizeof(*d));
		if (d == NULL) {
			cf_core_get_close(g);
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		}
		d->g = g;
		d->start = first;
		d->len = len;
		d->c = c;
		*out = MHD_create_response_from_callback(len,
		    len < DL_BLOCK ? (size_t)len + 1 : DL_BLOCK, dl_read, d,
		    dl_free);
		if (*out == NULL) {
			dl_free(d);
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		}
		c->dl_small = false;
	}
	c->dl_pend = len > 0;
	c->dl_len = len;
	return CF_OK;
}

enum MHD_Result
cf_http_send(struct MHD_Connection *mc, struct conn *c, int status,
    struct MHD_Response *resp, const char *result, uint64_t bytes)
{
	struct cf_error	err;

	add_common_headers(c, resp);
	cf_error_clear(&err);
	if (!c->req.audited &&
	    audit_req(c, status, result, bytes, &err) != CF_OK) {
		MHD_destroy_response(resp);
		c->dl_pend = false;
		return queue_unavailable(mc, c);
	}
	if (c->dl_pend) {
		c->dl = true;
		c->dl_status = status;
		c->dl_pend = false;
	}
	return queue_audited(mc, c, status, resp);
}
