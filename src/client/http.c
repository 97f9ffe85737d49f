/* src/client/http.c: the CLI's HTTP layer over libcurl (GnuTLS).
 *
 * One easy handle per command, reset between requests so connections are
 * reused (push/pull of many files).  Bodies are streamed: uploads are read
 * from an fd by CURLOPT_READFUNCTION into curl's 2 MiB upload buffer,
 * downloads are written to an fd (and hashed) as they arrive, so memory
 * does not grow with the object size: a large body through a sink
 * (sink.c) whose own thread writes and hashes it, so that this thread is
 * left with TLS.  Only JSON bodies are buffered, up to CF_CLI_JSON_MAX.
 *
 * SEC: TLS peer and host verification are always on unless the user gave
 * --insecure, which warns.  Redirects are not followed (the token would
 * travel with them).  The token lives only in h->auth and curl's copies of
 * the header list; both of ours are wiped.  Nothing here logs headers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "client/client.h"
#include "client/client_int.h"
#include "crypto/crypto.h"

#define HTTP_UPLOAD_BUFSZ	(2L << 20)	/* CURLOPT_UPLOAD_BUFFERSIZE */
#define HTTP_RECV_BUFSZ		(512L << 10)	/* CURLOPT_BUFFERSIZE */
#define PROGRESS_INTERVAL_NS	100000000ull	/* redraw at most 10/s */

enum xfer_dir { XFER_NONE, XFER_UP, XFER_DOWN };

struct cf_http {
	CURL			*curl;
	const struct cf_cfg	*cfg;
	bool			 insecure;
	bool			 progress;	/* draw progress on stderr */
	char			*auth;		/* SEC: "Authorization: ..." */
	char			 errbuf[CURL_ERROR_SIZE];

	/* Step-up (retry after POST /v1/session/mfa). */
	bool			 stepup;	/* allowed on this handle */
	bool			 in_stepup;	/* no nested step-up */
	const char		*mfa_code;	/* --code / env, borrowed */
	bool			 code_used;	/* a code is good once */
	char			 errcode[64];	/* API code of last error */

	/* State of the current / last request. */
	long			 status;
	bool			 neterr;	/* server not reached */
	struct cf_buf		 body;		/* JSON or error body */
	bool			 body_over;	/* body exceeded its max */
	struct cf_obj_info	*info;		/* headers go here */
	struct cf_obj_info	 scratch;

	int			 out_fd;	/* download target or -1 */
	struct cf_cli_sink	*sink;		/* writes and hashes it */
	uint64_t		 got;
	int			 write_errno;	/* local write failed */

	int			 in_fd;		/* upload source or -1 */
	struct cf_sha256	*up_sha;	/* hash while uploading */
	struct stat		 up_st;		/* the source when it began */
	int64_t			 up_size;	/* to send; -1 unknown */
	uint64_t		 up_sent;	/* bytes read from in_fd */
	bool			 up_changed;	/* source changed: abort */
	bool			 up_trail;	/* digest ends the body */
	size_t			 up_hexoff;	/* of up_hex sent (trail) */
	char			 up_hex[2 * CF_SHA256_LEN + 1];
	int			 read_errno;	/* local read failed */

	enum xfer_dir		 dir;
	const char		*label;
	uint64_t		 start_ns;
	uint64_t		 last_ns;
	bool			 drawn;

	/* The digest of a version completed by reference, made as its
	 * bytes arrive (seg_*): the SHA-256 of each segment's SHA-256,
	 * segments as X-Coffer-Segments lays them out. */
	/* The layout of a version whose GET left X-Coffer-Segments out
	 * (too long for a header): asked for on its own (layout_fetch),
	 * used instead of the header; need_layout: a GET stopped, before
	 * writing a byte, for want of it. */
	char			*layout;
	bool			 need_layout;
	struct {
		bool			 on, bad;
		const char		*next;		/* rest of the runs */
		uint64_t		 size, count;	/* current run */
		uint64_t		 left;		/* of the segment */
		struct cf_sha256	*outer, *inner;
	}			 seg;
};

static void	seg_reset(struct cf_http *h);

void
cf_obj_info_clear(struct cf_obj_info *info)
{
	if (info == NULL)
		return;
	json_decref(info->meta);
	json_decref(info->labels);
	memset(info, 0, sizeof(*info));
	info->size = -1;
}

cf_err
cf_http_open(const struct cf_cfg *cfg, const struct cf_cli_opts *o,
    struct cf_http **out, struct cf_error *err)
{
	struct cf_http	*h = NULL;
	struct cf_buf	 a;
	cf_err		 rc = CF_OK;

	cf_buf_init_secret(&a, CF_CLI_TOKEN_MAX + 64);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "libcurl init failed");
		goto out;
	}
	h = cf_calloc(1, sizeof(*h));
	if (h == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
		goto out;
	}
	h->out_fd = -1;
	h->in_fd = -1;
	/* Secret: the body of token create holds a token. */
	cf_buf_init_secret(&h->body, CF_CLI_JSON_MAX);
	cf_obj_info_clear(&h->scratch);
	h->cfg = cfg;
	h->insecure = o->insecure;
	h->stepup = true;
	h->mfa_code = o->code;
	if (h->mfa_code == NULL || *h->mfa_code == '\0')
		h->mfa_code = getenv(CF_ENV_MFA_CODE);
	if (h->mfa_code != NULL && *h->mfa_code == '\0')
		h->mfa_code = NULL;
	h->progress = !o->quiet && isatty(STDERR_FILENO) == 1;
	cf_cli_signals_install();
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		rc = cf_error_set(err, CF_E_NOMEM, "libcurl: out of memory");
		goto out;
	}
	if (cfg->token != NULL) {
		rc = cf_buf_printf(&a, err, "Authorization: Bearer %s",
		    cfg->token);
		if (rc != CF_OK)
			goto out;
		h->auth = cf_buf_take(&a);
		if (h->auth == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (o->insecure)
		cf_cli_warnx("--insecure: the server's TLS certificate is NOT "
		    "verified; anyone on the network path can read your token "
		    "and data");
	if (cf_str_has_prefix(cfg->server, "http://"))
		cf_cli_warnx("%s is plain HTTP: the token and data travel "
		    "unencrypted", cfg->server);
	*out = h;
	h = NULL;
out:
	cf_buf_free(&a);
	cf_http_close(h);
	return rc;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		cf_wipe(s, strlen(s));
		cf_free(s);
	}
}

cf_err
cf_http_set_token(struct cf_http *h, const char *tok, struct cf_error *err)
{
	struct cf_buf	 a;
	char		*na = NULL;
	cf_err		 rc = CF_OK;

	cf_buf_init_secret(&a, CF_CLI_TOKEN_MAX + 64);
	if (tok != NULL) {
		if (!cf_cli_token_ok(tok)) {
			rc = cf_error_set(err, CF_E_INPUT, "the server sent "
			    "an invalid token");
			goto out;
		}
		rc = cf_buf_printf(&a, err, "Authorization: Bearer %s", tok);
		if (rc != CF_OK)
			goto out;
		na = cf_buf_take(&a);
		if (na == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
	}
	wipe_free(h->auth);
	h->auth = na;
out:
	cf_buf_free(&a);
	return rc;
}

cf_err
cf_http_adopt_session(struct cf_http *h, const json_t *v,
    struct cf_error *err)
{
	struct cf_cfg	*file = NULL;
	const char	*tok = json_string_value(json_object_get(v, "token"));
	const char	*old = h->cfg->token, *env = getenv(CF_ENV_TOKEN);
	char		 path[4096];
	cf_err		 rc;

	if (tok == NULL)
		return CF_OK;
	rc = cf_http_set_token(h, tok, err);
	if (rc != CF_OK)
		return rc;
	if (env != NULL && *env != '\0') {
		cf_cli_warnx("the session was replaced by one with MFA; %s "
		    "still holds the old token, which no longer works (log "
		    "in with coffer login to keep sessions in the settings)",
		    CF_ENV_TOKEN);
		return CF_OK;
	}
	/* Save it where the old one was: the settings file's token. */
	rc = cf_cfg_path(path, sizeof(path), err);
	if (rc == CF_OK)
		rc = cf_cfg_load(path, &file, err);
	if (rc != CF_OK)
		goto out;
	if (old != NULL && file->token != NULL &&
	    strlen(file->token) == strlen(old) &&
	    cf_ct_equal(file->token, old, strlen(old))) {
		rc = cf_cfg_set(&file->token, tok, err);
		if (rc == CF_OK)
			rc = cf_cfg_save(file, path, err);
	}
out:
	cf_cfg_free(file);
	return rc;
}

void
cf_http_set_stepup(struct cf_http *h, bool on)
{
	h->stepup = on;
}

const char *
cf_http_error_code(const struct cf_http *h)
{
	return h != NULL ? h->errcode : "";
}

void
cf_http_close(struct cf_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	wipe_free(h->auth);
	cf_buf_free(&h->body);
	cf_obj_info_clear(&h->scratch);
	cf_cli_sink_free(h->sink);
	cf_sha256_free(h->up_sha);
	seg_reset(h);
	cf_free(h->layout);
	cf_free(h);
}

int
cf_http_exit(const struct cf_http *h, cf_err rc)
{
	if (rc == CF_OK)
		return CF_EXIT_OK;
	if (h != NULL && h->status >= 300)
		return cf_cli_exit_for_status(h->status);
	if (h != NULL && h->neterr)
		return CF_EXIT_NETWORK;
	return cf_cli_exit_for_err(rc);
}

/* ---- callbacks ---- */

static void
fmt_eta(uint64_t secs, char *out, size_t outsz)
{
	if (secs >= 100 * 3600)
		(void)snprintf(out, outsz, "--:--");
	else if (secs >= 3600)
		(void)snprintf(out, outsz, "%llu:%02llu:%02llu",
		    (unsigned long long)(secs / 3600),
		    (unsigned long long)(secs / 60 % 60),
		    (unsigned long long)(secs % 60));
	else
		(void)snprintf(out, outsz, "%llu:%02llu",
		    (unsigned long long)(secs / 60),
		    (unsigned long long)(secs % 60));
}

static void
draw_progress(struct cf_http *h, uint64_t now_b, uint64_t total_b,
    uint64_t now_ns)
{
	char		 line[160], cur[24], tot[24], rate[24], eta[24];
	char		 lab[40];
	double		 secs, bps;
	uint64_t	 left;
	int		 n;

	secs = (double)(now_ns - h->start_ns) / 1e9;
	bps = secs > 0.0 ? (double)now_b / secs : 0.0;
	cf_cli_fmt_size(now_b, cur, sizeof(cur));
	cf_cli_fmt_size((uint64_t)bps, rate, sizeof(rate));
	cf_cli_sanitize(h->label != NULL ? h->label : "", lab, sizeof(lab));
	if (total_b > 0) {
		cf_cli_fmt_size(total_b, tot, sizeof(tot));
		left = total_b > now_b ? total_b - now_b : 0;
		/* Clamped before the cast: a double beyond UINT64_MAX
		 * converts with undefined behaviour. */
		if (bps > 0.0 && (double)left / bps < 360000.0)
			fmt_eta((uint64_t)((double)left / bps), eta,
			    sizeof(eta));
		else
			(void)snprintf(eta, sizeof(eta), "--:--");
		n = snprintf(line, sizeof(line),
		    "\r%-30s %10s / %-10s %3u%% %10s/s ETA %s\033[K", lab,
		    cur, tot, (unsigned int)(now_b * 100 / total_b), rate,
		    eta);
	} else
		n = snprintf(line, sizeof(line), "\r%-30s %10s %10s/s\033[K",
		    lab, cur, rate);
	if (n > 0)
		(void)fwrite(line, 1, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1, stderr);
	(void)fflush(stderr);
	h->drawn = true;
}

static int
xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct cf_http	*h = arg;
	uint64_t	 now;

	if (cf_cli_interrupted() != 0)
		return 1;	/* abort the transfer */
	if (!h->progress)
		return 0;
	now = cf_mono_ns();
	if (now - h->last_ns < PROGRESS_INTERVAL_NS)
		return 0;
	h->last_ns = now;
	if (h->dir == XFER_UP)
		/* A chunked upload has no total for libcurl. */
		draw_progress(h, (uint64_t)ulnow, ultotal > 0 ?
		    (uint64_t)ultotal : 0, now);
	else if (h->dir == XFER_DOWN && h->status < 300)
		draw_progress(h, (uint64_t)dlnow, (uint64_t)dltotal, now);
	return 0;
}

static void
end_progress(struct cf_http *h)
{
	if (h->drawn)
		(void)fputs("\r\033[K", stderr);
	h->drawn = false;
}

/* Store header value v (length n, untrusted) into a fixed field. */
static void
set_field(char *dst, size_t dstsz, const char *v, size_t n)
{
	size_t	i;

	if (n >= dstsz)
		n = dstsz - 1;
	for (i = 0; i < n; i++)
		dst[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' :
		    v[i];
	dst[n] = '\0';
}

void
cf_cli_parse_header(struct cf_obj_info *info, const char *buf, size_t len)
{
	size_t			 nl, vl;
	const char		*colon, *v;
	char			 num[24], mname[128], *p;
	uint64_t		 cl;
	json_t			*s;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): start over. */
		cf_obj_info_clear(info);
		return;
	}
	colon = memchr(buf, ':', len);
	if (colon == NULL)
		return;
	nl = (size_t)(colon - buf);
	v = colon + 1;
	vl = len - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
	    v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
#define HDR_IS(name) (nl == sizeof(name) - 1 && \
	strncasecmp(buf, name, sizeof(name) - 1) == 0)
	if (HDR_IS("Content-Length")) {
		set_field(num, sizeof(num), v, vl);
		if (cf_parse_u64(num, 0, INT64_MAX, &cl, NULL) == CF_OK)
			info->size = (int64_t)cl;
	} else if (HDR_IS("X-Coffer-SHA256"))
		set_field(info->sha256, sizeof(info->sha256), v, vl);
	else if (HDR_IS("X-Coffer-SHA256-Segments"))
		set_field(info->sha256_segs, sizeof(info->sha256_segs), v, vl);
	else if (HDR_IS("X-Coffer-Segments"))
		set_field(info->segments, sizeof(info->segments), v, vl);
	else if (HDR_IS("X-Coffer-Version-Id"))
		set_field(info->version_id, sizeof(info->version_id), v, vl);
	else if (HDR_IS("Content-Type"))
		set_field(info->content_type, sizeof(info->content_type), v,
		    vl);
	else if (HDR_IS("Last-Modified"))
		set_field(info->last_modified, sizeof(info->last_modified), v,
		    vl);
	else if (HDR_IS("X-Request-Id"))
		set_field(info->request_id, sizeof(info->request_id), v, vl);
	else if (HDR_IS("Retry-After"))
		set_field(info->retry_after, sizeof(info->retry_after), v,
		    vl);
	else if (nl > 14 && nl - 14 < sizeof(mname) &&
	    strncasecmp(buf, "X-Coffer-Meta-", 14) == 0) {
		set_field(mname, sizeof(mname), buf + 14, nl - 14);
		for (p = mname; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (info->meta == NULL)
			info->meta = json_object();
		/* Checked: a value that is not UTF-8 (only a broken or
		 * hostile server sends one) would make the JSON output
		 * unprintable; it is dropped. */
		s = json_stringn(v, vl);
		if (info->meta != NULL && s != NULL)
			(void)json_object_set_new(info->meta, mname, s);
		else
			json_decref(s);
	} else if (nl > 15 && nl - 15 < sizeof(mname) &&
	    strncasecmp(buf, "X-Coffer-Label-", 15) == 0) {
		set_field(mname, sizeof(mname), buf + 15, nl - 15);
		for (p = mname; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (info->labels == NULL)
			info->labels = json_object();
		s = json_stringn(v, vl);
		if (info->labels != NULL && s != NULL)
			(void)json_object_set_new(info->labels, mname, s);
		else
			json_decref(s);
	}
#undef HDR_IS
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct cf_http	*h = arg;
	size_t		 len = size * nitems;

	cf_cli_parse_header(h->info, buf, len);
	return len;
}

/* The runs of the segments of the version being downloaded: the
 * header's, or those asked for when the header was left out. */
static const char *
seg_layout(const struct cf_http *h)
{
	return h->layout != NULL ? h->layout : h->info->segments;
}

/* A segmented version (its digest is of its segments) whose layout we
 * do not have. */
static bool
layout_missing(const struct cf_http *h)
{
	return h->info->sha256[0] == '\0' && h->info->sha256_segs[0] !=
	    '\0' && seg_layout(h)[0] == '\0';
}

static void
seg_reset(struct cf_http *h)
{
	cf_sha256_free(h->seg.outer);
	cf_sha256_free(h->seg.inner);
	memset(&h->seg, 0, sizeof(h->seg));
}

/* The next run "SIZExCOUNT" of the layout into size and count. */
static bool
seg_run(struct cf_http *h)
{
	char		 num[24];
	const char	*p = h->seg.next, *x, *e;

	if (p == NULL || *p == '\0')
		return false;
	x = strchr(p, 'x');
	e = strchr(p, ',');
	if (e == NULL)
		e = p + strlen(p);
	if (x == NULL || x > e || (size_t)(x - p) >= sizeof(num) ||
	    (size_t)(e - x - 1) >= sizeof(num))
		return false;
	memcpy(num, p, (size_t)(x - p));
	num[x - p] = '\0';
	if (cf_parse_u64(num, 0, INT64_MAX, &h->seg.size, NULL) != CF_OK)
		return false;
	memcpy(num, x + 1, (size_t)(e - x - 1));
	num[e - x - 1] = '\0';
	if (cf_parse_u64(num, 1, 10000, &h->seg.count, NULL) != CF_OK)
		return false;
	h->seg.next = *e == ',' ? e + 1 : e;
	return true;
}

/* End the segment being hashed (inner) into the composite. */
static void
seg_end(struct cf_http *h)
{
	uint8_t	d[CF_SHA256_LEN];

	cf_sha256_final(h->seg.inner, d);
	cf_sha256_free(h->seg.inner);
	h->seg.inner = NULL;
	cf_sha256_update(h->seg.outer, d, sizeof(d));
}

/* Begin the next segment holding bytes (empty ones are ended at once);
 * false when the layout has none. */
static bool
seg_begin(struct cf_http *h)
{
	for (;;) {
		if (h->seg.count == 0 && !seg_run(h))
			return false;
		h->seg.count--;
		if (cf_sha256_new(&h->seg.inner, NULL) != CF_OK)
			return false;
		h->seg.left = h->seg.size;
		if (h->seg.left > 0)
			return true;
		seg_end(h);
	}
}

static void
seg_feed(struct cf_http *h, const char *buf, size_t len)
{
	size_t	n;

	if (!h->seg.on) {
		/* Only a version completed by reference says so. */
		if (h->info->sha256[0] != '\0' ||
		    h->info->sha256_segs[0] == '\0' ||
		    seg_layout(h)[0] == '\0')
			return;
		h->seg.on = true;
		h->seg.next = seg_layout(h);
		if (cf_sha256_new(&h->seg.outer, NULL) != CF_OK)
			h->seg.bad = true;
	}
	while (!h->seg.bad && len > 0) {
		if (h->seg.inner == NULL && !seg_begin(h)) {
			h->seg.bad = true;	/* more bytes than segments */
			break;
		}
		n = (uint64_t)len < h->seg.left ? len : (size_t)h->seg.left;
		cf_sha256_update(h->seg.inner, buf, n);
		h->seg.left -= n;
		buf += n;
		len -= n;
		if (h->seg.left == 0)
			seg_end(h);
	}
}

/* The composite of the segments received against the one the server
 * vouched for. */
static cf_err
seg_check(struct cf_http *h, struct cf_error *err)
{
	uint8_t	d[CF_SHA256_LEN];
	char	hex[2 * CF_SHA256_LEN + 1];

	if (!h->seg.on) {
		/* An empty body feeds nothing. */
		h->seg.on = true;
		h->seg.next = seg_layout(h);
		if (cf_sha256_new(&h->seg.outer, NULL) != CF_OK)
			h->seg.bad = true;
	}
	/* Segments left must be empty ones. */
	while (!h->seg.bad && (h->seg.inner != NULL || h->seg.count > 0 ||
	    (h->seg.next != NULL && *h->seg.next != '\0'))) {
		if (h->seg.inner == NULL && !seg_begin(h))
			break;
		if (h->seg.left > 0)
			h->seg.bad = true;
	}
	if (h->seg.bad)
		return cf_error_set(err, CF_E_INTEGRITY, "the download does "
		    "not match its segments' layout (X-Coffer-Segments)");
	cf_sha256_final(h->seg.outer, d);
	cf_hex_encode(d, sizeof(d), hex);
	if (strcasecmp(hex, h->info->sha256_segs) != 0)
		return cf_error_set(err, CF_E_INTEGRITY, "SHA-256 of the "
		    "segments mismatch: got %s, expected %s", hex,
		    h->info->sha256_segs);
	return CF_OK;
}

static size_t
write_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct cf_http	*h = arg;
	size_t		 len = size * nitems;

	if (h->status == 0)
		(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE,
		    &h->status);
	if (h->out_fd != -1 && h->status >= 200 && h->status < 300) {
		/* SEC: nothing reaches fd that cannot be checked: without
		 * its layout the GET stops here, before its first byte, and
		 * get_fd_once asks for the layout and downloads again. */
		if (layout_missing(h)) {
			h->need_layout = true;
			return CURL_WRITEFUNC_ERROR;
		}
		if (cf_cli_sink_write(h->sink, buf, len, NULL) != CF_OK) {
			h->write_errno = cf_cli_sink_errno(h->sink);
			return CURL_WRITEFUNC_ERROR;
		}
		seg_feed(h, buf, len);
		h->got += len;
		return len;
	}
	/* JSON or an error body.  An oversized error body is cut (we only
	 * need its start); an oversized JSON body fails the request. */
	if (h->status >= 300 && h->body.len + len > CF_CLI_ERRBODY_MAX)
		return len;
	if (h->body.len + len > h->body.max) {
		h->body_over = true;
		return CURL_WRITEFUNC_ERROR;
	}
	if (cf_buf_append(&h->body, buf, len, NULL) != CF_OK)
		return CURL_WRITEFUNC_ERROR;
	return len;
}

/* The end of the source: with a trailing digest, finish the hash and
 * send it as the body's last 64 bytes.  SEC: a regular file that changed
 * while it was read (size, mtime or ctime) may have been sent as a mix of
 * old and new bytes that the digest would vouch for: abort instead, so
 * the server stores nothing.  Returns bytes put in buf, or
 * CURL_READFUNC_ABORT. */
static size_t
read_digest(struct cf_http *h, char *buf, size_t want)
{
	struct stat	st;
	uint8_t		d[CF_SHA256_LEN];
	size_t		n;

	if (h->up_sha != NULL) {
		/* up_size, not st_size: the upload may begin past 0. */
		if (S_ISREG(h->up_st.st_mode) && (fstat(h->in_fd, &st) == -1 ||
		    st.st_size != h->up_st.st_size ||
		    (h->up_size >= 0 && (uint64_t)h->up_size != h->up_sent) ||
		    st.st_mtim.tv_sec != h->up_st.st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != h->up_st.st_mtim.tv_nsec ||
		    st.st_ctim.tv_sec != h->up_st.st_ctim.tv_sec ||
		    st.st_ctim.tv_nsec != h->up_st.st_ctim.tv_nsec)) {
			h->up_changed = true;
			return CURL_READFUNC_ABORT;
		}
		cf_sha256_final(h->up_sha, d);
		cf_sha256_free(h->up_sha);
		h->up_sha = NULL;
		cf_hex_encode(d, sizeof(d), h->up_hex);
		h->up_hexoff = 0;
	}
	n = 2 * CF_SHA256_LEN - h->up_hexoff;
	if (n > want)
		n = want;
	memcpy(buf, h->up_hex + h->up_hexoff, n);
	h->up_hexoff += n;
	return n;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct cf_http	*h = arg;
	size_t		 want = size * nitems;
	ssize_t		 n;

	/* A file of known size is sent up to that size; the digest (and the
	 * change check) decides what follows. */
	if (h->up_trail && h->up_size >= 0 &&
	    want > (uint64_t)h->up_size - h->up_sent)
		want = (size_t)((uint64_t)h->up_size - h->up_sent);
	if (want == 0 && h->up_trail)
		return read_digest(h, buf, size * nitems);
	do
		n = read(h->in_fd, buf, want);
	while (n == -1 && errno == EINTR && cf_cli_interrupted() == 0);
	if (cf_cli_interrupted() != 0)
		return CURL_READFUNC_ABORT;
	if (n == -1) {
		h->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	if (n == 0 && h->up_trail)
		return read_digest(h, buf, size * nitems);
	if (h->up_sha != NULL)
		cf_sha256_update(h->up_sha, buf, (size_t)n);
	h->up_sent += (uint64_t)n;
	return (size_t)n;
}

/* ---- requests ---- */

/* Reset the handle and apply the settings every request shares. */
static cf_err
setup(struct cf_http *h, const char *path, struct cf_obj_info *info,
    struct cf_error *err)
{
	struct cf_buf	 url;
	CURL		*c = h->curl;
	CURLcode	 cc = CURLE_OK;
	cf_err		 rc;

	cf_buf_init(&url, CF_CLI_PATH_MAX * 4);
	curl_easy_reset(c);
	h->status = 0;
	h->neterr = false;
	h->errbuf[0] = '\0';
	h->errcode[0] = '\0';
	cf_buf_reset(&h->body);
	h->body_over = false;
	h->info = info != NULL ? info : &h->scratch;
	cf_obj_info_clear(h->info);
	h->out_fd = -1;
	h->in_fd = -1;
	h->got = 0;
	h->write_errno = 0;
	h->read_errno = 0;
	h->dir = XFER_NONE;
	h->drawn = false;
	h->start_ns = h->last_ns = cf_mono_ns();
	seg_reset(h);

	rc = cf_buf_printf(&url, err, "%s%s", h->cfg->server, path);
	if (rc != CF_OK)
		goto out;
#define SET(opt, val) do { if (cc == CURLE_OK) \
	cc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, url.data);
	/* The key is the rest of the path, taken literally ("../x"). */
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "https,http");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "coffer/" CF_CLI_VERSION);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT, 30L);
	/* Abort a transfer stalled below 1 byte/s for 5 minutes. */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, 300L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_BUFFERSIZE, HTTP_RECV_BUFSZ);
	SET(CURLOPT_UPLOAD_BUFFERSIZE, HTTP_UPLOAD_BUFSZ);
	/* SEC: TLS 1.2 at least, certificate and host name verified
	 * against --ca-cert / COFFER_CA_CERT or the system store. */
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (h->cfg->ca_cert != NULL) {
		/* Trust exactly this CA; do not also load (slowly) the
		 * system directory libcurl would add by default. */
		SET(CURLOPT_CAINFO, h->cfg->ca_cert);
		SET(CURLOPT_CAPATH, NULL);
	}
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, h);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, h);
	/* Always on: it also aborts the transfer on SIGINT. */
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	SET(CURLOPT_XFERINFODATA, h);
#undef SET
	if (cc != CURLE_OK)
		rc = cf_error_set(err, CF_E_INTERNAL, "libcurl: %s",
		    curl_easy_strerror(cc));
out:
	/* CURLOPT_URL copies the string. */
	cf_buf_free(&url);
	return rc;
}

static void
free_headers(struct curl_slist *l)
{
	struct curl_slist	*p;

	/* SEC: our copies of the Authorization header are wiped. */
	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			cf_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* Build the header list: Authorization plus extra (NULL-terminated). */
static cf_err
make_headers(struct cf_http *h, const char *const *extra,
    struct curl_slist **out, struct cf_error *err)
{
	struct curl_slist	*l = NULL, *t;
	size_t			 i;

	if (h->auth != NULL) {
		l = curl_slist_append(NULL, h->auth);
		if (l == NULL)
			goto nomem;
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		t = curl_slist_append(l, extra[i]);
		if (t == NULL)
			goto nomem;
		l = t;
	}
	*out = l;
	return CF_OK;
nomem:
	free_headers(l);
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

/* Run the prepared request; turn transport failures and error statuses
 * into err.  CF_OK means a 2xx response arrived completely. */
static cf_err
perform(struct cf_http *h, struct curl_slist *hdrs, struct cf_error *err)
{
	char		 msg[CF_ERROR_MSG_LEN];
	CURLcode	 cc;
	long		 st = 0;

	if (curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK)
		return cf_error_set(err, CF_E_INTERNAL, "libcurl setopt");
	cc = curl_easy_perform(h->curl);
	/* A download's last buffers may still be on the sink's thread:
	 * write them now (also after an abort, as a synchronous write
	 * would have), so that a late write error is reported below just
	 * like an early one. */
	if (h->sink != NULL && cf_cli_sink_finish(h->sink, NULL) != CF_OK &&
	    h->write_errno == 0)
		h->write_errno = cf_cli_sink_errno(h->sink);
	end_progress(h);
	if (cf_cli_interrupted() != 0)
		return cf_error_set(err, CF_E_IO, "interrupted");
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &st);
	h->status = st;
	if (st >= 300) {
		if (st < 400)
			return cf_error_set(err, CF_E_INPUT, "the server "
			    "answered with a redirect (HTTP %ld); check the "
			    "server URL", st);
		cf_cli_error_body(st, h->body.data, h->body.len,
		    h->info->request_id, msg, sizeof(msg));
		(void)cf_cli_error_code(h->body.data, h->body.len, h->errcode,
		    sizeof(h->errcode));
		if (st == 429 && h->info->retry_after[0] != '\0')
			return cf_error_set(err, CF_E_DENIED, "%s; retry "
			    "after %s s", msg, h->info->retry_after);
		if (st == 401 && strcmp(h->errcode, "mfa_required") == 0)
			return cf_error_set(err, CF_E_AUTH, "%s: this needs "
			    "a multi-factor code (give --code, set %s, or run "
			    "on a terminal)", msg, CF_ENV_MFA_CODE);
		return cf_error_set(err, cf_cli_err_for_status(st), "%s",
		    msg);
	}
	if (h->write_errno != 0) {
		errno = h->write_errno;
		return cf_error_sys(err, CF_E_IO, "cannot write the download");
	}
	if (h->read_errno != 0) {
		errno = h->read_errno;
		return cf_error_sys(err, CF_E_IO, "cannot read the upload");
	}
	if (cc != CURLE_OK) {
		if (st >= 200 && h->dir == XFER_DOWN)
			return cf_error_set(err, CF_E_INTEGRITY,
			    "download cut short after %llu bytes (%s)",
			    (unsigned long long)h->got, h->errbuf[0] != '\0' ?
			    h->errbuf : curl_easy_strerror(cc));
		if (h->body_over)
			return cf_error_set(err, CF_E_LIMIT, "response larger "
			    "than %u bytes", CF_CLI_JSON_MAX);
		if (st == 0)
			h->neterr = true;
		return cf_error_set(err, CF_E_IO, "%s: %s", h->cfg->server,
		    h->errbuf[0] != '\0' ? h->errbuf :
		    curl_easy_strerror(cc));
	}
	if (st < 200) {
		h->neterr = true;
		return cf_error_set(err, CF_E_IO, "%s: no final response",
		    h->cfg->server);
	}
	return CF_OK;
}

static cf_err
parse_body(struct cf_http *h, json_t **out, struct cf_error *err)
{
	json_t	*v = NULL;
	cf_err	 rc;

	if (out == NULL)
		return CF_OK;
	if (h->body.len == 0) {
		*out = NULL;
		return CF_OK;
	}
	rc = cf_json_parse(h->body.data, h->body.len, CF_CLI_JSON_MAX, 64,
	    &v, err);
	if (rc != CF_OK)
		return cf_error_set(err, CF_E_INPUT, "the server's response is "
		    "not valid JSON");
	*out = v;
	return CF_OK;
}

static cf_err
json_once(struct cf_http *h, const char *method, const char *path,
    const json_t *body, json_t **out, struct cf_error *err)
{
	static const char *const jhdr[] = {
		"Content-Type: application/json",
		"Accept: application/json", NULL };
	static const char *const ahdr[] = {
		"Accept: application/json", NULL };
	struct curl_slist	*hdrs = NULL;
	char			*text = NULL;
	bool			 body_empty = false;
	CURLcode		 cc = CURLE_OK;
	cf_err			 rc;

	rc = setup(h, path, NULL, err);
	if (rc != CF_OK)
		goto out;
	if (body != NULL) {
		text = cf_json_dumps(body);
		if (text == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
		cc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(text));
	}
	if (cc == CURLE_OK && strcmp(method, "POST") == 0 && body == NULL) {
		/* A POST without a body (logout, disable, enroll): send an
		 * empty JSON object, never curl's default GET. */
		cc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "{}");
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE,
			    2L);
		body_empty = true;
	}
	if (cc == CURLE_OK && strcmp(method, "GET") == 0 && body == NULL)
		cc = curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	else if (cc == CURLE_OK && strcmp(method, "POST") != 0)
		cc = curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
	if (cc != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "libcurl: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	rc = make_headers(h, body != NULL || body_empty ? jhdr : ahdr, &hdrs,
	    err);
	if (rc != CF_OK)
		goto out;
	rc = perform(h, hdrs, err);
	if (rc != CF_OK)
		goto out;
	rc = parse_body(h, out, err);
out:
	free_headers(hdrs);
	if (text != NULL) {
		/* SEC: the body may hold a password or a code. */
		cf_wipe(text, strlen(text));
		free(text);
	}
	return rc;
}

static cf_err
put_fd_once(struct cf_http *h, const char *path, int fd, int64_t size,
    const char *sha256_hex, const char *ctype, const char *const *meta,
    const char *label, json_t **out, struct cf_error *err)
{
	struct curl_slist	*hdrs = NULL, *t;
	char			 line[512];
	const char		*got;
	json_t			*v = NULL;
	CURLcode		 cc = CURLE_OK;
	bool			 trailer = sha256_hex == NULL;
	size_t			 i;
	cf_err			 rc;

	rc = setup(h, path, NULL, err);
	if (rc != CF_OK)
		goto out;
	h->in_fd = fd;
	h->dir = XFER_UP;
	h->label = label;
	h->up_size = size;
	h->up_sent = 0;
	h->up_changed = false;
	h->up_trail = trailer;
	h->up_hexoff = 0;
	h->up_hex[0] = '\0';
	if (trailer) {
		/* Hash while sending; the digest ends the body
		 * (X-Coffer-SHA256: trailing), so the server still stores
		 * nothing unless the bytes it got are the bytes we hashed,
		 * and the file is read once. */
		if (fstat(fd, &h->up_st) == -1) {
			rc = cf_error_sys(err, CF_E_IO, "cannot stat %s",
			    label);
			goto out;
		}
		if (!S_ISREG(h->up_st.st_mode))
			h->up_size = size = -1;
		rc = cf_sha256_new(&h->up_sha, err);
		if (rc != CF_OK)
			goto out;
	}
	cc = curl_easy_setopt(h->curl, CURLOPT_UPLOAD, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h->curl, CURLOPT_READFUNCTION, read_cb);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h->curl, CURLOPT_READDATA, h);
	/* Unknown size (a pipe): chunked. */
	if (cc == CURLE_OK && size >= 0)
		cc = curl_easy_setopt(h->curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)size + (trailer ? 2 * CF_SHA256_LEN : 0));
	if (cc != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "libcurl: %s",
		    curl_easy_strerror(cc));
		goto out;
	}
	rc = make_headers(h, meta, &hdrs, err);
	if (rc != CF_OK)
		goto out;
	for (i = 0; i < 3; i++) {
		line[0] = '\0';
		if (i == 0)
			(void)snprintf(line, sizeof(line),
			    "X-Coffer-SHA256: %s",
			    trailer ? "trailing" : sha256_hex);
		else if (i == 1)
			(void)snprintf(line, sizeof(line), "Content-Type: %s",
			    ctype != NULL ? ctype : "application/octet-stream");
		else if (i == 2)
			(void)snprintf(line, sizeof(line),
			    "Accept: application/json");
		if (line[0] == '\0')
			continue;
		t = curl_slist_append(hdrs, line);
		if (t == NULL) {
			rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
			goto out;
		}
		hdrs = t;
	}
	rc = perform(h, hdrs, err);
	if (h->up_changed) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_INTEGRITY, "%s changed while it "
		    "was being sent; nothing was stored", label);
		goto out;
	}
	if (rc != CF_OK)
		goto out;
	rc = parse_body(h, &v, err);
	if (rc != CF_OK)
		goto out;
	if (trailer) {
		/* The server checked our digest; this catches a server
		 * that ignored it. */
		got = json_string_value(json_object_get(v, "sha256"));
		if (h->up_hex[0] == '\0' || got == NULL ||
		    strcasecmp(got, h->up_hex) != 0) {
			char	gs[65];

			cf_cli_sanitize(got != NULL ? got : "none", gs,
			    sizeof(gs));
			rc = cf_error_set(err, CF_E_INTEGRITY, "the server "
			    "stored a different SHA-256 (%s) than we sent "
			    "(%s)", gs, h->up_hex);
			goto out;
		}
	}
	if (out != NULL) {
		*out = v;
		v = NULL;
	}
out:
	cf_sha256_free(h->up_sha);
	h->up_sha = NULL;
	h->in_fd = -1;
	json_decref(v);
	free_headers(hdrs);
	return rc;
}

static cf_err
get_fd_try(struct cf_http *h, const char *path, int fd,
    const char *label, struct cf_obj_info *info, struct cf_error *err)
{
	static const char *const hdr[] = { NULL };
	struct curl_slist	*hdrs = NULL;
	uint8_t			 d[CF_SHA256_LEN];
	char			 hex[2 * CF_SHA256_LEN + 1];
	cf_err			 rc;

	rc = setup(h, path, info, err);
	if (rc != CF_OK)
		goto out;
	h->out_fd = fd;
	h->dir = XFER_DOWN;
	h->label = label;
	rc = cf_cli_sink_new(fd, &h->sink, err);
	if (rc != CF_OK)
		goto out;
	if (curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "libcurl setopt");
		goto out;
	}
	rc = make_headers(h, hdr, &hdrs, err);
	if (rc != CF_OK)
		goto out;
	rc = perform(h, hdrs, err);
	if (rc != CF_OK)
		goto out;
	/* SEC: the whole body, and exactly the body the server vouched
	 * for, or an integrity failure. */
	if (h->info->size >= 0 && h->got != (uint64_t)h->info->size) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "download cut short: "
		    "%llu of %lld bytes", (unsigned long long)h->got,
		    (long long)h->info->size);
		goto out;
	}
	/* The sink was finished by perform(): this is the digest of
	 * everything written. */
	rc = cf_cli_sink_final(h->sink, d, err);
	if (rc != CF_OK)
		goto out;
	if (h->info->sha256[0] == '\0' && h->info->sha256_segs[0] != '\0' &&
	    seg_layout(h)[0] != '\0') {
		rc = seg_check(h, err);
		goto out;
	}
	if (layout_missing(h)) {
		/* An empty body: nothing was written, ask all the same. */
		h->need_layout = true;
		rc = cf_error_set(err, CF_E_INTEGRITY, "no segment layout");
		goto out;
	}
	if (h->info->sha256[0] == '\0') {
		rc = cf_error_set(err, CF_E_INTEGRITY, "the server sent no "
		    "X-Coffer-SHA256; cannot verify the download");
		goto out;
	}
	cf_hex_encode(d, sizeof(d), hex);
	if (strcasecmp(hex, h->info->sha256) != 0) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "SHA-256 mismatch: got "
		    "%s, expected %s", hex, h->info->sha256);
		goto out;
	}
out:
	seg_reset(h);
	cf_cli_sink_free(h->sink);
	h->sink = NULL;
	h->out_fd = -1;
	free_headers(hdrs);
	return rc;
}

/* The layout of version vid of the object at path ("/v1/ns/NS/objects/
 * KEY[?...]") from GET /v1/ns/NS/segments/KEY?version=VID, as runs in
 * h->layout; *pinned gets path for that version (the download again).
 * SEC: the layout only says where the segments end; the composite digest
 * the GET vouched for still decides (seg_check). */
static cf_err
layout_fetch(struct cf_http *h, const char *path, const char *vid,
    struct cf_buf *pinned, struct cf_error *err)
{
	struct cf_buf	 sp, runs;
	const char	*obj, *q;
	json_t		*v = NULL, *e;
	size_t		 i, base, n = 0;
	uint64_t	 size = 0, sz = 0;
	cf_err		 rc;

	cf_buf_init(&sp, CF_CLI_PATH_MAX * 4);
	cf_buf_init(&runs, (size_t)CF_CLI_JSON_MAX);
	base = strlen("/v1/ns/");
	obj = strncmp(path, "/v1/ns/", base) == 0 ? strstr(path + base,
	    "/objects/") : NULL;
	if (obj == NULL) {
		rc = cf_error_set(err, CF_E_INVAL, "not an object path");
		goto out;
	}
	q = strchr(obj, '?');
	if (q == NULL)
		q = obj + strlen(obj);
	rc = cf_buf_append(&sp, path, (size_t)(obj - path), err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&sp, "/segments/", err);
	if (rc == CF_OK)
		rc = cf_buf_append(&sp, obj + strlen("/objects/"),
		    (size_t)(q - obj) - strlen("/objects/"), err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&sp, "?version=", err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(&sp, vid, false, err);
	if (rc == CF_OK)
		rc = cf_buf_append(pinned, path, (size_t)(q - path), err);
	if (rc == CF_OK)
		rc = cf_buf_append_str(pinned, "?version=", err);
	if (rc == CF_OK)
		rc = cf_cli_urlenc(pinned, vid, false, err);
	if (rc == CF_OK)
		rc = cf_http_json(h, "GET", sp.data, NULL, &v, err);
	if (rc != CF_OK)
		goto out;
	e = json_object_get(v, "segments");
	if (!json_is_array(e) || json_array_size(e) == 0 ||
	    json_array_size(e) > 10000 || json_object_get(v, "version_id") ==
	    NULL || strcmp(cf_cli_jstr(v, "version_id", ""), vid) != 0) {
		rc = cf_error_set(err, CF_E_INTEGRITY, "the server's segment "
		    "layout of version %s is not one", vid);
		goto out;
	}
	/* Runs of equal sizes, as X-Coffer-Segments writes them. */
	for (i = 0; rc == CF_OK && i <= json_array_size(e); i++) {
		if (i < json_array_size(e)) {
			if (!json_is_integer(json_array_get(e, i)) ||
			    json_integer_value(json_array_get(e, i)) < 0) {
				rc = cf_error_set(err, CF_E_INTEGRITY, "a "
				    "segment size is not a size");
				break;
			}
			sz = (uint64_t)json_integer_value(json_array_get(e, i));
			if (n > 0 && sz == size) {
				n++;
				continue;
			}
		}
		if (n > 0)
			rc = cf_buf_printf(&runs, err, "%s%llux%zu",
			    runs.len > 0 ? "," : "",
			    (unsigned long long)size, n);
		if (i < json_array_size(e)) {
			size = sz;
			n = 1;
		}
	}
	if (rc != CF_OK)
		goto out;
	h->layout = cf_buf_take(&runs);
	if (h->layout == NULL)
		rc = cf_error_set(err, CF_E_NOMEM, "out of memory");
out:
	json_decref(v);
	cf_buf_free(&sp);
	cf_buf_free(&runs);
	return rc;
}

static cf_err
get_fd_once(struct cf_http *h, const char *path, int fd,
    const char *label, struct cf_obj_info *info, struct cf_error *err)
{
	struct cf_buf	pinned;
	char		vid[sizeof(info->version_id)];
	cf_err		rc;

	CF_FREE(h->layout);
	h->need_layout = false;
	rc = get_fd_try(h, path, fd, label, info, err);
	if (!h->need_layout)
		return rc;
	/* The version's layout did not fit a header: ask for it, then
	 * download exactly that version again (nothing was written). */
	cf_error_clear(err);
	h->need_layout = false;
	cf_strlcpy(vid, info->version_id, sizeof(vid));
	if (vid[0] == '\0')
		return cf_error_set(err, CF_E_INTEGRITY, "the server sent "
		    "neither the segments' layout nor the version id; cannot "
		    "verify the download");
	cf_buf_init(&pinned, CF_CLI_PATH_MAX * 4);
	rc = layout_fetch(h, path, vid, &pinned, err);
	if (rc == CF_OK)
		rc = get_fd_try(h, pinned.data, fd, label, info, err);
	if (rc == CF_OK && h->need_layout)
		rc = cf_error_set(err, CF_E_INTEGRITY, "no segment layout for "
		    "version %s", vid);
	if (rc == CF_OK && strcmp(info->version_id, vid) != 0)
		rc = cf_error_set(err, CF_E_INTEGRITY, "the server sent "
		    "another version than asked for");
	h->need_layout = false;
	CF_FREE(h->layout);
	cf_buf_free(&pinned);
	return rc;
}

/* ---- step-up ---- */

static bool
stepup_wanted(const struct cf_http *h, cf_err rc)
{
	return rc == CF_E_AUTH && h->status == 401 && h->stepup &&
	    !h->in_stepup && h->auth != NULL &&
	    strcmp(h->errcode, "mfa_required") == 0;
}

/* POST /v1/session/mfa with a code from --code / COFFER_MFA_CODE (once)
 * or the terminal.  why: the refusal's message; the server names an
 * mfa_max_age_* setting when the session has MFA, but too old. */
static cf_err
do_stepup(struct cf_http *h, const char *why, struct cf_error *err)
{
	const char	*need;
	char		 code[CF_CLI_SECRET_MAX + 1];
	json_t		*body = NULL, *v = NULL;
	cf_err		 rc;

	need = strstr(why, "mfa_max_age_") != NULL ? "a new multi-factor "
	    "authentication (the session's is older than the server allows "
	    "for it)" : "multi-factor authentication";
	code[0] = '\0';
	if (h->mfa_code != NULL && !h->code_used) {
		h->code_used = true;
		if (cf_strlcpy(code, h->mfa_code, sizeof(code)) >=
		    sizeof(code)) {
			rc = cf_error_set(err, CF_E_LIMIT, "the MFA code is "
			    "too long");
			goto out;
		}
	} else if (cf_cli_have_tty()) {
		(void)fprintf(stderr, "coffer: this request needs %s\n",
		    need);
		rc = cf_cli_prompt_secret("MFA code", code, sizeof(code), err);
		if (rc != CF_OK)
			goto out;
	} else {
		rc = cf_error_set(err, CF_E_AUTH, "this request needs %s "
		    "(mfa_required): give --code or set %s", need,
		    CF_ENV_MFA_CODE);
		goto out;
	}
	body = json_pack("{s:s}", "code", code);
	if (body == NULL) {
		rc = cf_error_set(err, CF_E_INPUT, "the MFA code is not "
		    "valid UTF-8");
		goto out;
	}
	h->in_stepup = true;
	rc = json_once(h, "POST", "/v1/session/mfa", body, &v, err);
	h->in_stepup = false;
	if (rc == CF_OK)
		rc = cf_http_adopt_session(h, v, err);
out:
	cf_cli_json_wipe_member(body, "code");
	json_decref(body);
	json_decref(v);
	cf_wipe(code, sizeof(code));
	return rc;
}

/* ---- busy servers: 429 with Retry-After ---- */

bool
cf_cli_retry_wanted(long status, const char *errcode,
    const char *retry_after, unsigned done, unsigned max, unsigned *secs)
{
	uint64_t	v;

	if (status != 429 || done >= max || retry_after == NULL ||
	    retry_after[0] == '\0' || strcmp(errcode, "locked") == 0)
		return false;
	/* delta-seconds only; an HTTP-date is not waited for. */
	if (cf_parse_u64(retry_after, 0, CF_CLI_RETRY_AFTER_MAX, &v, NULL) !=
	    CF_OK)
		return false;
	*secs = (unsigned)v;
	return true;
}

unsigned
cf_cli_retries(void)
{
	const char	*env = getenv(CF_ENV_RETRIES);
	uint64_t	 v;

	if (env == NULL || cf_parse_u64(env, 0, CF_CLI_RETRIES_MAX, &v,
	    NULL) != CF_OK)
		return CF_CLI_RETRIES_DEFAULT;
	return (unsigned)v;
}

static void
sleep_interruptible(unsigned secs)
{
	struct timespec	ts = { 0, 100000000L };	/* 0.1 s */
	unsigned	i;

	for (i = 0; i < secs * 10 && cf_cli_interrupted() == 0; i++)
		(void)nanosleep(&ts, NULL);
}

static cf_cli_sleep_fn	retry_sleep = sleep_interruptible;

void
cf_cli_set_retry_sleep(cf_cli_sleep_fn fn)
{
	retry_sleep = fn != NULL ? fn : sleep_interruptible;
}

/* The last request was refused with 429: should it be sent again (done
 * retries made)?  *secs: how long to wait first. */
static bool
retry_due(const struct cf_http *h, cf_err rc, unsigned done, unsigned *secs)
{
	return rc != CF_OK && cf_cli_interrupted() == 0 &&
	    cf_cli_retry_wanted(h->status, h->errcode, h->info != NULL ?
	    h->info->retry_after : NULL, done, cf_cli_retries(), secs);
}

/* Say so, and wait. */
static void
retry_wait(const struct cf_http *h, unsigned secs, unsigned done)
{
	(void)fprintf(stderr, "coffer: the server is busy (HTTP 429 %s): "
	    "retrying in %u s (retry %u of %u)\n", h->errcode[0] != '\0' ?
	    h->errcode : "too_many_requests", secs, done + 1,
	    cf_cli_retries());
	retry_sleep(secs);
}

cf_err
cf_http_json(struct cf_http *h, const char *method, const char *path,
    const json_t *body, json_t **out, struct cf_error *err)
{
	struct cf_error	e1;
	unsigned	tries, secs;
	cf_err		rc;

	for (tries = 0;; tries++) {
		cf_error_clear(&e1);
		rc = json_once(h, method, path, body, out, &e1);
		if (!retry_due(h, rc, tries, &secs))
			break;
		retry_wait(h, secs, tries);
	}
	if (stepup_wanted(h, rc)) {
		rc = do_stepup(h, e1.msg, err);
		if (rc == CF_OK)
			rc = json_once(h, method, path, body, out, err);
		return rc;
	}
	if (rc != CF_OK)
		(void)cf_error_set(err, rc, "%s", e1.msg);
	return rc;
}

cf_err
cf_http_get_fd(struct cf_http *h, const char *path, int fd,
    const char *label, struct cf_obj_info *info, struct cf_error *err)
{
	struct cf_error	e1;
	unsigned	tries, secs;
	cf_err		rc;

	/* Nothing reaches fd unless the status is 2xx: a retry is safe. */
	for (tries = 0;; tries++) {
		cf_error_clear(&e1);
		rc = get_fd_once(h, path, fd, label, info, &e1);
		if (!retry_due(h, rc, tries, &secs))
			break;
		retry_wait(h, secs, tries);
	}
	if (stepup_wanted(h, rc)) {
		rc = do_stepup(h, e1.msg, err);
		if (rc == CF_OK)
			rc = get_fd_once(h, path, fd, label, info, err);
		return rc;
	}
	if (rc != CF_OK)
		(void)cf_error_set(err, rc, "%s", e1.msg);
	return rc;
}

cf_err
cf_http_put_fd(struct cf_http *h, const char *path, int fd, int64_t size,
    const char *sha256_hex, const char *ctype, const char *const *meta,
    const char *label, json_t **out, struct cf_error *err)
{
	struct cf_error	e1;
	struct stat	st;
	off_t		start;
	bool		replay;
	unsigned	tries, secs;
	cf_err		rc;

	start = lseek(fd, 0, SEEK_CUR);		/* -1 for a pipe */
	replay = start != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	for (tries = 0;; tries++) {
		cf_error_clear(&e1);
		rc = put_fd_once(h, path, fd, size, sha256_hex, ctype, meta,
		    label, out, &e1);
		/* Data from a pipe cannot be sent again. */
		if (!replay || !retry_due(h, rc, tries, &secs))
			break;
		retry_wait(h, secs, tries);
		if (lseek(fd, start, SEEK_SET) != start)
			break;
	}
	if (!stepup_wanted(h, rc)) {
		if (rc != CF_OK)
			(void)cf_error_set(err, rc, "%s", e1.msg);
		return rc;
	}
	/* Only a regular file can be sent again, from where the upload
	 * began: not necessarily 0 (standard input partly read). */
	replay = start != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(fd, start, SEEK_SET) == start;
	rc = do_stepup(h, e1.msg, err);
	if (rc != CF_OK)
		return rc;
	if (!replay)
		return cf_error_set(err, CF_E_AUTH, "this upload needs "
		    "multi-factor authentication; your session now has it, "
		    "but the data came from a pipe and cannot be sent again: "
		    "run the command again");
	return put_fd_once(h, path, fd, size, sha256_hex, ctype, meta, label,
	    out, err);
}

cf_err
cf_http_head(struct cf_http *h, const char *path, struct cf_obj_info *info,
    struct cf_error *err)
{
	static const char *const hdr[] = { NULL };
	struct curl_slist	*hdrs = NULL;
	cf_err			 rc;

	rc = setup(h, path, info, err);
	if (rc != CF_OK)
		goto out;
	if (curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L) != CURLE_OK) {
		rc = cf_error_set(err, CF_E_INTERNAL, "libcurl setopt");
		goto out;
	}
	rc = make_headers(h, hdr, &hdrs, err);
	if (rc != CF_OK)
		goto out;
	rc = perform(h, hdrs, err);
	if (rc == CF_OK && info != NULL)
		info->status = h->status;
out:
	free_headers(hdrs);
	return rc;
}

cf_err
cf_cli_sess_open(const struct cf_cli_opts *o, bool need_token,
    struct cf_cli_sess *s, struct cf_error *err)
{
	cf_err	rc;

	rc = cf_cli_effective_cfg(o, need_token, &s->cfg, err);
	if (rc == CF_OK)
		rc = cf_http_open(s->cfg, o, &s->h, err);
	return rc;
}

void
cf_cli_sess_close(struct cf_cli_sess *s)
{
	cf_http_close(s->h);
	s->h = NULL;
	cf_cfg_free(s->cfg);
	s->cfg = NULL;
}

int
cf_cli_finish(const struct cf_cli_sess *s, cf_err rc,
    const struct cf_error *err)
{
	if (rc == CF_OK)
		return CF_EXIT_OK;
	cf_cli_errx("%s", err->msg[0] != '\0' ? err->msg : cf_err_name(rc));
	cf_cli_reraise();
	return cf_http_exit(s != NULL ? s->h : NULL, rc);
}
