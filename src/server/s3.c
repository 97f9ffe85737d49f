/* src/server/s3.c: the S3-compatible front end (docs/s3.md).
 *
 * Path-style requests (/BUCKET/KEY) on the REST listener: every path
 * outside /v1 is S3.  This file parses S3 requests and writes S3's XML;
 * it decides nothing itself.  Authentication is the reference monitor's
 * (cf_core_s3_authenticate, given the string to sign that sigv4.c
 * builds), every operation is a cf_core_* operation authorized under its
 * registry action (a bucket is a namespace, an object an object), and
 * every answer leaves through cf_http_send, audited first, with the
 * request id as x-amz-request-id.
 *
 * SEC: fail closed: an operation this file does not implement is
 * refused (501 NotImplemented) and recorded, never approximated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"
#include "crypto/checksum.h"
#include "crypto/crypto.h"
#include "server/awschunked.h"
#include "server/http_int.h"
#include "server/s3_versioning.h"
#include "server/s3acl.h"
#include "server/s3copy.h"
#include "server/s3xml.h"
#include "server/sigv4.h"

#define S3_NS		"http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_XML_MAX	(64u << 20)
#define S3_HDRS_MAX	128
#define S3_KEY_MAX	4096

enum s3_op {
	OP_NONE, OP_LIST_BUCKETS, OP_CREATE_BUCKET, OP_HEAD_BUCKET,
	OP_DELETE_BUCKET, OP_BUCKET_LOCATION, OP_LIST_V1, OP_LIST_V2,
	OP_GET, OP_HEAD, OP_PUT, OP_DELETE, OP_MP_CREATE, OP_MP_PART,
	OP_MP_COMPLETE, OP_MP_ABORT, OP_MP_PARTS, OP_MP_LIST,
	OP_DELETE_MANY, OP_LIST_VERSIONS, OP_COPY, OP_PART_COPY,
	OP_GET_TAGGING,
	/* Bucket policies and ACL answers (op_policy, op_acl). */
	OP_POLICY_GET, OP_POLICY_PUT, OP_POLICY_DELETE, OP_ACL_GET,
	OP_ACL_PUT,
	OP_VERSIONING_GET, OP_VERSIONING_PUT, OP_DELETE_VERSION,
	OP_ATTRIBUTES
};

struct cf_s3 {
	enum s3_op		 op;
	bool			 head;		/* HEAD: errors without body */
	char			 bucket[64];
	char			*key;		/* decoded; "" for none */
	struct cf_sigv4_query	 q;
	/* An upload's body: aws-chunked (streaming), its chunk signature
	 * chain (signed modes), the checksum the client gave (header or
	 * trailer) and the one computed over the decoded data. */
	bool			 streaming;
	struct cf_awsc		 dec;
	struct cf_s3_chain	*chain;
	uint64_t		 decoded_len;	/* x-amz-decoded-... */
	struct cf_cksum		*ck;
	enum cf_cksum_alg	 ck_alg;
	/* The checksum given in a header; "": in the trailer. */
	char			 ck_want[CF_AWSC_TRAILER_MAX + 1];
	/* None given: computed for a part of an upload that declared
	 * ck_alg (kept with the part, nothing to compare). */
	bool			 ck_own;
	struct cf_put		*put;		/* during cf_s3_feed */
	/* Why the body was refused: the S3 answer cf_s3_refuse gives. */
	int			 fail_status;
	const char		*fail_code;
	/* A GetObject/HeadObject authenticated in its final call
	 * (cf_s3_end): the raw path its signature covers. */
	char			*late_path;
};

/* Sub-resources of S3 that select an operation this file does not
 * implement on the URL it would otherwise serve. */
static const char *const subresources[] = {
	"accelerate", "acl", "analytics", "attributes", "cors", "delete",
	"encryption", "intelligent-tiering", "inventory", "legal-hold",
	"lifecycle", "logging", "metrics", "notification", "object-lock",
	"ownershipControls", "partNumber", "policy", "policyStatus",
	"publicAccessBlock", "replication", "requestPayment", "restore",
	"retention", "select", "tagging", "torrent", "uploadId", "uploads",
	"versioning", "versions", "website",
};

bool
cf_s3_path(const char *url)
{
	if (url == NULL)
		return false;
	return !(strncmp(url, "/v1", 3) == 0 && (url[3] == '\0' ||
	    url[3] == '/' || url[3] == '?'));
}

void
cf_s3_free(struct cf_s3 *s)
{
	if (s == NULL)
		return;
	cf_sigv4_query_free(&s->q);
	cf_awsc_free(&s->dec);
	cf_s3_chain_free(s->chain);
	cf_cksum_free(s->ck);
	cf_free(s->key);
	cf_free(s->late_path);
	cf_free(s);
}

/* ---- XML ---- */

static cf_err
xml_text(struct cf_buf *b, const char *s, struct cf_error *err)
{
	char	safe[2 * S3_KEY_MAX];
	cf_err	rc = CF_OK;
	size_t	i, run = 0;

	(void)cf_http_text_safe(s != NULL ? s : "", safe, sizeof(safe));
	for (i = 0; safe[i] != '\0' && rc == CF_OK; i++) {
		const char *e = NULL;

		switch (safe[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&apos;"; break;
		default:
			if ((unsigned char)safe[i] < 0x20)
				e = "&#xFFFD;";
			break;
		}
		if (e == NULL) {
			run++;
			continue;
		}
		if (run > 0)
			rc = cf_buf_append(b, safe + i - run, run, err);
		run = 0;
		if (rc == CF_OK)
			rc = cf_buf_append_str(b, e, err);
	}
	if (rc == CF_OK && run > 0)
		rc = cf_buf_append(b, safe + i - run, run, err);
	return rc;
}

/* <name>text</name>, the text URL-encoded when url. */
static cf_err
xml_el(struct cf_buf *b, const char *name, const char *text, bool url,
    struct cf_error *err)
{
	struct cf_buf	enc;
	cf_err		rc;

	rc = cf_buf_printf(b, err, "<%s>", name);
	if (rc == CF_OK && url) {
		cf_buf_init(&enc, 4 * S3_KEY_MAX);
		rc = cf_sigv4_uri_encode(&enc, text, strlen(text), true, err);
		if (rc == CF_OK)
			rc = xml_text(b, enc.data != NULL ? enc.data : "", err);
		cf_buf_free(&enc);
	} else if (rc == CF_OK)
		rc = xml_text(b, text, err);
	if (rc == CF_OK)
		rc = cf_buf_printf(b, err, "</%s>", name);
	return rc;
}

/* RFC 3339 with microseconds -> S3's milliseconds. */
static void
iso_ms(const char *t, char out[32])
{
	if (t == NULL || strlen(t) < 23) {
		cf_strlcpy(out, "1970-01-01T00:00:00.000Z", 32);
		return;
	}
	memcpy(out, t, 23);
	out[23] = 'Z';
	out[24] = '\0';
}

static void
http_date(int64_t us, char out[64])
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);

	(void)gmtime_r(&t, &tm);
	(void)strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- answers ---- */

static enum MHD_Result
s3_send(struct MHD_Connection *mc, struct conn *c, int status,
    struct cf_buf *body, struct MHD_Response *resp, const char *result)
{
	struct cf_req	*r = cf_http_req(c);

	if (resp == NULL) {
		resp = MHD_create_response_from_buffer(body != NULL ?
		    body->len : 0, body != NULL && body->data != NULL ?
		    body->data : (void *)(uintptr_t)"",
		    MHD_RESPMEM_MUST_COPY);
		if (resp == NULL)
			return MHD_NO;
		if (body != NULL && body->len > 0)
			(void)MHD_add_response_header(resp, "Content-Type",
			    "application/xml");
	}
	(void)MHD_add_response_header(resp, "x-amz-request-id",
	    r->request_id);
	(void)MHD_add_response_header(resp, "x-amz-id-2", r->request_id);
	(void)MHD_add_response_header(resp, "Server", "Coffer");
	if (status == 503 && r->retry_after > 0) {
		char ra[24];

		(void)snprintf(ra, sizeof(ra), "%lld",
		    (long long)r->retry_after);
		(void)MHD_add_response_header(resp, "Retry-After", ra);
	}
	return cf_http_send(mc, c, status, resp, result, 0);
}

/* An S3 error: <Error> with Code, Message, Resource, RequestId (and
 * extra, XML, e.g. <Region>); no body for HEAD. */
static enum MHD_Result
s3_error_x(struct MHD_Connection *mc, struct conn *c, int status,
    const char *code, const char *msg, const char *extra)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_buf	 b;
	char		 res[S3_KEY_MAX + 80];
	enum MHD_Result	 ret;
	cf_err		 rc;

	cf_buf_init(&b, 2 * S3_KEY_MAX + 4096);
	(void)snprintf(res, sizeof(res), "/%s%s%s", s != NULL ? s->bucket :
	    "", s != NULL && s->key != NULL && s->key[0] != '\0' ? "/" : "",
	    s != NULL && s->key != NULL ? s->key : "");
	rc = cf_buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "\n<Error>", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Code", code, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Message", msg, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Resource", res, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "RequestId", r->request_id, false, NULL);
	if (rc == CF_OK && extra != NULL)
		rc = cf_buf_append_str(&b, extra, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</Error>", NULL);
	if (rc != CF_OK) {
		cf_buf_free(&b);
		return MHD_NO;
	}
	if (s != NULL && s->head)
		b.len = 0;
	ret = s3_send(mc, c, status, &b, NULL, code);
	cf_buf_free(&b);
	return ret;
}

static enum MHD_Result
s3_error(struct MHD_Connection *mc, struct conn *c, int status,
    const char *code, const char *msg)
{
	return s3_error_x(mc, c, status, code, msg, NULL);
}

/* Deny and record a request refused before any operation (no action),
 * then answer. */
static enum MHD_Result
s3_refuse(struct MHD_Connection *mc, struct conn *c, const char *why,
    int status, const char *code, const char *msg)
{
	cf_core_reject(cf_http_core(c), cf_http_req(c), "unknown", why);
	cf_http_set_failed(c);
	return s3_error(mc, c, status, code, msg);
}

enum MHD_Result
cf_s3_refuse(struct MHD_Connection *mc, struct conn *c, int status,
    const char *code, const char *msg)
{
	struct cf_s3	*s = *cf_http_s3(c);

	if (s != NULL && s->fail_code != NULL)
		return s3_error(mc, c, s->fail_status, s->fail_code, msg);
	if (status == 413 || strcmp(code, "too_large") == 0)
		return s3_error(mc, c, 400, "EntityTooLarge", msg);
	/* Busy (a transfer limit, the request memory budget): S3's
	 * throttling answer, which clients retry after backing off. */
	if (status == 503)
		return s3_error(mc, c, 503, "SlowDown", msg);
	return s3_error(mc, c, status >= 500 ? 500 : 400, status >= 500 ?
	    "InternalError" : "InvalidRequest", msg);
}

/* A core error as S3's. */
static enum MHD_Result
s3_core_error(struct MHD_Connection *mc, struct conn *c, cf_err rc,
    const struct cf_error *err)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	const char	*ec = r->errcode != NULL ? r->errcode : "";
	const char	*msg = err->msg[0] != '\0' ? err->msg : "error";

	switch (rc) {
	case CF_E_AUTH:
	case CF_E_DENIED:
		return s3_error(mc, c, 403, "AccessDenied", msg);
	case CF_E_NOTFOUND:
		if (strcmp(ec, "no_such_bucket_policy") == 0)
			return s3_error(mc, c, 404, "NoSuchBucketPolicy", msg);
		if (strcmp(ec, "no_such_namespace") == 0 ||
		    s->key[0] == '\0')
			return s3_error(mc, c, 404, "NoSuchBucket", msg);
		if (strcmp(ec, "no_such_version") == 0)
			return s3_error(mc, c, 404, "NoSuchVersion", msg);
		if (strcmp(ec, "no_such_upload") == 0)
			return s3_error(mc, c, 404, "NoSuchUpload", msg);
		if (strcmp(ec, "erased") == 0)
			return s3_error(mc, c, 410, "ObjectErased", msg);
		return s3_error(mc, c, 404, "NoSuchKey", msg);
	case CF_E_CONFLICT:
		if (strcmp(ec, "held") == 0 || strcmp(ec, "retention") == 0)
			return s3_error(mc, c, 409, strcmp(ec, "held") == 0 ?
			    "ObjectUnderLegalHold" : "ObjectUnderRetention",
			    msg);
		if (s->op == OP_CREATE_BUCKET)
			return s3_error(mc, c, 409, "BucketAlreadyOwnedByYou",
			    msg);
		if (s->op == OP_DELETE_BUCKET)
			return s3_error(mc, c, 409, "BucketNotEmpty", msg);
		return s3_error(mc, c, 409, "OperationAborted", msg);
	case CF_E_INPUT:
		if (strcmp(ec, "invalid_part") == 0)
			return s3_error(mc, c, 400, "InvalidPart", msg);
		if (strcmp(ec, "invalid_part_order") == 0)
			return s3_error(mc, c, 400, "InvalidPartOrder", msg);
		if (strcmp(ec, "entity_too_small") == 0)
			return s3_error(mc, c, 400, "EntityTooSmall", msg);
		if (strcmp(ec, "malformed_xml") == 0)
			return s3_error(mc, c, 400, "MalformedXML", msg);
		if (strcmp(ec, "invalid_range") == 0)
			return s3_error(mc, c, 416, "InvalidRange", msg);
		if (strcmp(ec, "precondition_failed") == 0)
			return s3_error(mc, c, 412, "PreconditionFailed", msg);
		if (strcmp(ec, "malformed_policy") == 0)
			return s3_error(mc, c, 400, "MalformedPolicy", msg);
		if (strcmp(ec, "malformed_acl") == 0)
			return s3_error(mc, c, 400, "MalformedACLError", msg);
		if (strcmp(ec, "invalid_request") == 0)
			return s3_error(mc, c, 400, "InvalidRequest", msg);
		if (strcmp(ec, "bad_digest") == 0)
			return s3_error(mc, c, 400, "BadDigest", msg);
		if (strstr(msg, "namespace name") != NULL)
			return s3_error(mc, c, 400, "InvalidBucketName", msg);
		return s3_error(mc, c, 400, "InvalidArgument", msg);
	case CF_E_LIMIT:
		return s3_error(mc, c, 400, "EntityTooLarge", msg);
	case CF_E_INTEGRITY:
		if (strcmp(ec, "bad_digest") == 0)
			return s3_error(mc, c, 400, "BadDigest", msg);
		if (s->op == OP_PUT || s->op == OP_MP_PART)
			return s3_error(mc, c, 400,
			    "XAmzContentSHA256Mismatch", msg);
		break;
	default:
		break;
	}
	log_warnx("event=request_failed request=%s error=%s", r->request_id,
	    cf_err_name(rc));
	return s3_error(mc, c, 500, "InternalError",
	    "internal error (see the server log for the request id)");
}

/* ---- authentication ---- */

struct hdr_list {
	struct cf_sigv4_header	h[S3_HDRS_MAX];
	size_t			n;
	bool			over;
};

static enum MHD_Result
collect_hdr(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_list	*l = cls;

	(void)kind;
	if (l->n >= S3_HDRS_MAX) {
		l->over = true;
		return MHD_NO;
	}
	l->h[l->n].name = key;
	l->h[l->n].value = value;
	l->n++;
	return MHD_YES;
}

/* SigV4, header or presigned; CF_OK with r authenticated, or an answer
 * already made (*ret, *answered). */
static enum MHD_Result
s3_authenticate(struct MHD_Connection *mc, struct conn *c, const char *method,
    const char *raw_path, bool *answered)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	struct cf_sigv4_auth	 a;
	struct cf_s3_auth	 ca;
	struct cf_error		 err;
	struct hdr_list		 hl;
	struct cf_buf		 cr, sts;
	enum cf_s3_authn	 res;
	const char		*auth, *payload, *region;
	char			 extra[128];
	bool			 presigned = false;
	int64_t			 when = 0;
	enum MHD_Result		 ret = MHD_YES;
	cf_err			 rc;

	*answered = true;
	cf_error_clear(&err);
	region = cf_http_s3_region(c);
	auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "Authorization");
	if ((auth != NULL && strncmp(auth, "AWS ", 4) == 0) ||
	    (auth == NULL && cf_sigv4_query_has(&s->q, "AWSAccessKeyId")))
		return s3_refuse(mc, c, "S3 signature version 2", 400,
		    "InvalidRequest", "the authorization mechanism you have "
		    "provided is not supported: please use AWS4-HMAC-SHA256 "
		    "(signature version 4)");
	if (auth != NULL)
		rc = cf_sigv4_parse_header(auth, &a, &err);
	else {
		rc = cf_sigv4_parse_query(&s->q, &a, &presigned, &err);
		if (rc == CF_OK && !presigned)
			return s3_refuse(mc, c, "anonymous S3 request", 403,
			    "AccessDenied", "anonymous requests are refused: "
			    "sign them with an S3 access key");
	}
	if (rc != CF_OK)
		return s3_refuse(mc, c, "malformed S3 authorization", 400,
		    "AuthorizationHeaderMalformed", err.msg);
	if (strcmp(a.region, region) != 0) {
		(void)snprintf(extra, sizeof(extra), "<Region>%s</Region>",
		    region);
		cf_core_reject(cf_http_core(c), r, "unknown",
		    "S3 request signed for another region");
		cf_http_set_failed(c);
		return s3_error_x(mc, c, 400, "AuthorizationHeaderMalformed",
		    "the authorization header is malformed; the region is "
		    "wrong", extra);
	}
	if (strcmp(a.service, "s3") != 0)
		return s3_refuse(mc, c, "S3 request signed for another "
		    "service", 400, "AuthorizationHeaderMalformed",
		    "the credential's service must be s3");
	if (!presigned) {
		const char *d = MHD_lookup_connection_value(mc,
		    MHD_HEADER_KIND, "x-amz-date");

		if (d == NULL || strlen(d) >= sizeof(a.amz_date))
			return s3_refuse(mc, c, "no x-amz-date", 403,
			    "AccessDenied", "SigV4 needs an X-Amz-Date "
			    "header");
		cf_strlcpy(a.amz_date, d, sizeof(a.amz_date));
		payload = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		    "x-amz-content-sha256");
		if (payload == NULL)
			return s3_refuse(mc, c, "no x-amz-content-sha256", 400,
			    "InvalidRequest", "missing required header for "
			    "this request: x-amz-content-sha256");
	} else {
		payload = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		    "x-amz-content-sha256");
		if (payload == NULL)
			payload = "UNSIGNED-PAYLOAD";
	}
	if (cf_sigv4_parse_date(a.amz_date, &when, &err) != CF_OK ||
	    strncmp(a.amz_date, a.date, 8) != 0)
		return s3_refuse(mc, c, "bad x-amz-date", 403, "AccessDenied",
		    "X-Amz-Date is malformed or does not match the "
		    "credential's date");
	memset(&hl, 0, sizeof(hl));
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, collect_hdr, &hl);
	if (hl.over)
		return s3_refuse(mc, c, "too many headers", 400,
		    "InvalidRequest", "too many header fields");
	cf_buf_init(&cr, 64 * 1024);
	cf_buf_init(&sts, 4096);
	rc = cf_sigv4_canonical(method, raw_path, &s->q, hl.h, hl.n, &a,
	    payload, &cr, &err);
	if (rc == CF_OK)
		rc = cf_sigv4_string_to_sign(&a, cr.data, cr.len, &sts, &err);
	if (rc != CF_OK) {
		ret = s3_refuse(mc, c, "S3 request not canonicalisable", 403,
		    rc == CF_E_NOMEM ? "InternalError" :
		    "SignatureDoesNotMatch", err.msg);
		goto out;
	}
	memset(&ca, 0, sizeof(ca));
	ca.key_id = a.key_id;
	ca.date = a.date;
	ca.region = a.region;
	ca.service = a.service;
	ca.string_to_sign = sts.data;
	ca.signature = a.signature;
	ca.signed_at = when;
	ca.expires = presigned ? a.expires : -1;
	ca.amz_date = a.amz_date;
	if (strncmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0)
		ca.chain = &s->chain;
	rc = cf_core_s3_authenticate(cf_http_core(c), r, &ca, &res, &err);
	if (rc != CF_OK) {
		ret = s3_refuse(mc, c, "S3 authentication error", 503,
		    "ServiceUnavailable", "authentication unavailable");
		goto out;
	}
	switch (res) {
	case CF_S3_AUTHN_OK:
		*answered = false;
		break;
	case CF_S3_AUTHN_UNKNOWN_KEY:
	case CF_S3_AUTHN_INACTIVE:
		ret = s3_refuse(mc, c, r->authn, 403, "InvalidAccessKeyId",
		    "the access key id does not exist, or is not active");
		break;
	case CF_S3_AUTHN_BAD_SIGNATURE:
		ret = s3_refuse(mc, c, r->authn, 403, "SignatureDoesNotMatch",
		    "the request signature we calculated does not match the "
		    "signature you provided");
		break;
	case CF_S3_AUTHN_SKEWED:
		ret = s3_refuse(mc, c, r->authn, 403, "RequestTimeTooSkewed",
		    "the difference between the request time and the "
		    "server's time is too large");
		break;
	case CF_S3_AUTHN_EXPIRED:
		ret = s3_refuse(mc, c, r->authn, 403, "AccessDenied",
		    "request has expired");
		break;
	}
out:
	cf_buf_free(&cr);
	cf_buf_free(&sts);
	return ret;
}

/* ---- operations ---- */

static bool
has_subresource(const struct cf_s3 *s)
{
	size_t	i;

	for (i = 0; i < sizeof(subresources) / sizeof(subresources[0]); i++)
		if (cf_sigv4_query_has(&s->q, subresources[i]))
			return true;
	return false;
}

static size_t
subresource_count(const struct cf_s3 *s)
{
	size_t	i, n = 0;

	for (i = 0; i < sizeof(subresources) / sizeof(subresources[0]); i++)
		if (cf_sigv4_query_has(&s->q, subresources[i]))
			n++;
	return n;
}

/* Does the query name multipart sub-resources (uploads, uploadId,
 * partNumber) and no other? */
static bool
mp_only(const struct cf_s3 *s)
{
	bool	mp;

	mp = cf_sigv4_query_has(&s->q, "uploads") ||
	    cf_sigv4_query_has(&s->q, "uploadId");
	if (!mp)
		return false;
	/* Another sub-resource alongside: not one of ours. */
	return !(cf_sigv4_query_has(&s->q, "acl") ||
	    cf_sigv4_query_has(&s->q, "tagging") ||
	    cf_sigv4_query_has(&s->q, "versionId"));
}

/* ?policy of a bucket: policy administration of its namespace. */
static enum s3_op
policy_op(const char *method, const char **action)
{
	if (strcmp(method, "GET") == 0) {
		*action = "policy:get";
		return OP_POLICY_GET;
	}
	if (strcmp(method, "PUT") == 0) {
		*action = "policy:set";
		return OP_POLICY_PUT;
	}
	if (strcmp(method, "DELETE") == 0) {
		*action = "policy:rm";
		return OP_POLICY_DELETE;
	}
	return OP_NONE;
}

/* ?acl of a bucket or an object: the owner-only ACL, read or restated
 * (cf_core_s3_acl says by whom). */
static enum s3_op
acl_op(const char *method, bool object, const char **action)
{
	if (strcmp(method, "GET") == 0) {
		*action = object ? "object:head" : "ns:get";
		return OP_ACL_GET;
	}
	if (strcmp(method, "PUT") == 0) {
		*action = object ? "object:put" : "policy:get";
		return OP_ACL_PUT;
	}
	return OP_NONE;
}

/* The operation of (method, bucket, key, query), and its action. */
static enum s3_op
classify(const struct cf_s3 *s, const char *method, const char **action)
{
	bool	bucket = s->bucket[0] != '\0', key = s->key[0] != '\0';

	*action = NULL;
	if (!bucket) {
		if (strcmp(method, "GET") == 0 && s->q.n == 0) {
			*action = "ns:list";
			return OP_LIST_BUCKETS;
		}
		return OP_NONE;
	}
	if (!key) {
		if (strcmp(method, "GET") == 0 &&
		    cf_sigv4_query_has(&s->q, "location")) {
			*action = "ns:get";
			return OP_BUCKET_LOCATION;
		}
		/* Get/PutBucketVersioning: S3's view of the namespace's
		 * versions (s3_versioning.c); history is never changed. */
		if (s->q.n == 1 && cf_sigv4_query_has(&s->q, "versioning") &&
		    strcmp(method, "GET") == 0) {
			*action = "ns:get";
			return OP_VERSIONING_GET;
		}
		if (s->q.n == 1 && cf_sigv4_query_has(&s->q, "versioning") &&
		    strcmp(method, "PUT") == 0) {
			*action = "ns:set-versioning";
			return OP_VERSIONING_PUT;
		}
		/* ListMultipartUploads: ?uploads with its parameters
		 * (prefix, markers, ...), no other sub-resource. */
		if (strcmp(method, "GET") == 0 &&
		    cf_sigv4_query_has(&s->q, "uploads") &&
		    subresource_count(s) == 1) {
			*action = "object:list";
			return OP_MP_LIST;
		}
		if (strcmp(method, "GET") == 0 &&
		    cf_sigv4_query_has(&s->q, "versions") &&
		    !cf_sigv4_query_has(&s->q, "uploads") &&
		    !cf_sigv4_query_has(&s->q, "location")) {
			*action = "object:versions";
			return OP_LIST_VERSIONS;
		}
		/* DeleteObjects: each key is decided on its own. */
		if (strcmp(method, "POST") == 0 && s->q.n == 1 &&
		    cf_sigv4_query_has(&s->q, "delete")) {
			*action = "object:delete";
			return OP_DELETE_MANY;
		}
		if (s->q.n == 1 && cf_sigv4_query_has(&s->q, "policy"))
			return policy_op(method, action);
		if (s->q.n == 1 && cf_sigv4_query_has(&s->q, "acl"))
			return acl_op(method, false, action);
		if (has_subresource(s))
			return OP_NONE;
		if (strcmp(method, "PUT") == 0) {
			*action = "ns:create";
			return OP_CREATE_BUCKET;
		}
		if (strcmp(method, "HEAD") == 0) {
			*action = "ns:get";
			return OP_HEAD_BUCKET;
		}
		if (strcmp(method, "DELETE") == 0) {
			*action = "ns:delete";
			return OP_DELETE_BUCKET;
		}
		if (strcmp(method, "GET") == 0) {
			*action = "object:list";
			return cf_sigv4_query_has(&s->q, "list-type") ?
			    OP_LIST_V2 : OP_LIST_V1;
		}
		return OP_NONE;
	}
	if (mp_only(s)) {
		*action = "object:put";
		if (strcmp(method, "POST") == 0 &&
		    cf_sigv4_query_has(&s->q, "uploads") &&
		    !cf_sigv4_query_has(&s->q, "uploadId"))
			return OP_MP_CREATE;
		if (!cf_sigv4_query_has(&s->q, "uploadId") ||
		    cf_sigv4_query_has(&s->q, "uploads"))
			return OP_NONE;
		if (strcmp(method, "PUT") == 0 &&
		    cf_sigv4_query_has(&s->q, "partNumber"))
			return OP_MP_PART;
		if (cf_sigv4_query_has(&s->q, "partNumber"))
			return OP_NONE;
		if (strcmp(method, "POST") == 0)
			return OP_MP_COMPLETE;
		if (strcmp(method, "DELETE") == 0)
			return OP_MP_ABORT;
		if (strcmp(method, "GET") == 0)
			return OP_MP_PARTS;
		return OP_NONE;
	}
	/* GetObjectTagging (awscli's bucket-to-bucket multipart cp asks):
	 * Coffer objects carry no S3 tags (PutObjectTagging is refused),
	 * so the answer is the empty set, read as object metadata. */
	if (strcmp(method, "GET") == 0 &&
	    cf_sigv4_query_has(&s->q, "tagging") && s->q.n ==
	    (cf_sigv4_query_has(&s->q, "versionId") ? 2u : 1u)) {
		*action = "object:head";
		return OP_GET_TAGGING;
	}
	if (cf_sigv4_query_has(&s->q, "acl") && (s->q.n == 1 ||
	    (s->q.n == 2 && cf_sigv4_query_has(&s->q, "versionId"))))
		return acl_op(method, true, action);
	/* GetObjectAttributes: decided as a GET of the version, whose
	 * bytes its parts and checksums describe (docs/s3.md). */
	if (strcmp(method, "GET") == 0 &&
	    cf_sigv4_query_has(&s->q, "attributes") &&
	    subresource_count(s) == 1) {
		*action = "object:get";
		return OP_ATTRIBUTES;
	}
	/* GetObject and HeadObject of one part (partNumber=N; uploadId
	 * would have made it multipart's above). */
	if (cf_sigv4_query_has(&s->q, "partNumber") &&
	    subresource_count(s) == 1) {
		if (strcmp(method, "GET") == 0) {
			*action = "object:get";
			return OP_GET;
		}
		if (strcmp(method, "HEAD") == 0) {
			*action = "object:head";
			return OP_HEAD;
		}
		return OP_NONE;
	}
	if (has_subresource(s))
		return OP_NONE;
	if (strcmp(method, "GET") == 0) {
		*action = "object:get";
		return OP_GET;
	}
	if (strcmp(method, "HEAD") == 0) {
		*action = "object:head";
		return OP_HEAD;
	}
	if (strcmp(method, "PUT") == 0) {
		*action = "object:put";
		return OP_PUT;
	}
	if (strcmp(method, "DELETE") == 0 &&
	    !cf_sigv4_query_has(&s->q, "versionId")) {
		*action = "object:delete";
		return OP_DELETE;
	}
	/* A version leaves S3's view; its row stays (op_delete_version). */
	if (strcmp(method, "DELETE") == 0 && s->q.n == 1 &&
	    cf_sigv4_query_has(&s->q, "versionId")) {
		*action = "object:delete";
		return OP_DELETE_VERSION;
	}
	return OP_NONE;
}

static const char *
str_or(const char *s)
{
	return s != NULL ? s : "";
}

static const char *
hdr(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

/* Standard base64 (Content-MD5, x-amz-checksum-*) of exactly n bytes
 * (at most 64). */
static bool
b64_std(const char *v, uint8_t *out, size_t n)
{
	return cf_b64std_decode(v, out, n);
}

static bool
md5_b64(const char *v, uint8_t out[16])
{
	return b64_std(v, out, 16);
}

/* Standard base64 (padded) of p[0..n) into out (at least 4 * (n + 2) / 3
 * + 1 bytes). */
static void
b64_std_encode(const uint8_t *p, size_t n, char *out)
{
	cf_b64std_encode(p, n, out);
}

/* Record why an upload's body is refused (cf_s3_refuse answers it). */
static cf_err
body_fail(struct cf_s3 *s, int status, const char *code, cf_err rc)
{
	if (s->fail_code == NULL) {
		s->fail_status = status;
		s->fail_code = code;
	}
	return rc;
}

/* Decoded body bytes: checksummed, then to the upload. */
static cf_err
body_sink(void *arg, const uint8_t *p, size_t n, struct cf_error *err)
{
	struct cf_s3	*s = arg;

	if (s->streaming && n > s->decoded_len - s->dec.decoded)
		return body_fail(s, 400, "IncompleteBody", cf_error_set(err,
		    CF_E_INPUT, "the body is longer than "
		    "x-amz-decoded-content-length"));
	if (s->ck != NULL)
		cf_cksum_update(s->ck, p, n);
	return cf_core_put_write(s->put, p, n, err);
}

static bool
chunk_sig(void *arg, bool trailer, const uint8_t hash[32], const char *sig)
{
	struct cf_s3	*s = arg;

	return s->chain != NULL && cf_s3_chain_next(s->chain, trailer, hash,
	    sig);
}

cf_err
cf_s3_feed(struct cf_s3 *s, struct cf_put *put, const char *data, size_t len,
    struct cf_error *err)
{
	cf_err	rc;

	s->put = put;
	if (!s->streaming)
		return body_sink(s, (const uint8_t *)data, len, err);
	rc = cf_awsc_feed(&s->dec, (const uint8_t *)data, len, err);
	if (rc == CF_OK)
		return CF_OK;
	switch (s->dec.why) {
	case CF_AWSC_SIGNATURE:
		return body_fail(s, 403, "SignatureDoesNotMatch", rc);
	case CF_AWSC_FRAMING:
	case CF_AWSC_INCOMPLETE:
		return body_fail(s, 400, "IncompleteBody", rc);
	default:
		return rc;
	}
}

/* The checksum the request asks for: one x-amz-checksum-ALG header, or
 * the trailer x-amz-trailer names.  NULL, or why it is refused. */
struct ck_scan {
	struct cf_s3	*s;
	int		 n;
};

static enum MHD_Result
scan_ck(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct ck_scan		*x = cls;
	enum cf_cksum_alg	 alg;

	(void)kind;
	if (strncasecmp(key, "x-amz-checksum-", 15) != 0)
		return MHD_YES;
	alg = cf_cksum_alg_of(key + 15);
	if (alg == CF_CKSUM_NONE)
		return MHD_YES;		/* -mode, -algorithm, -type */
	x->n++;
	x->s->ck_alg = alg;
	cf_strlcpy(x->s->ck_want, value != NULL ? value : "",
	    sizeof(x->s->ck_want));
	return MHD_YES;
}

static const char *
checksum_setup(struct MHD_Connection *mc, struct cf_s3 *s,
    const char *trailer)
{
	struct ck_scan		 x = { s, 0 };
	const char		*sdk;
	uint8_t			 tmp[CF_CKSUM_MAX];
	enum cf_cksum_alg	 talg = CF_CKSUM_NONE;

	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, scan_ck, &x);
	if (x.n > 1)
		return "give at most one x-amz-checksum-* header";
	if (x.n == 1 && !b64_std(s->ck_want, tmp, cf_cksum_len(s->ck_alg)))
		return "the x-amz-checksum-* header's value is invalid";
	if (trailer != NULL) {
		if (strncasecmp(trailer, "x-amz-checksum-", 15) == 0)
			talg = cf_cksum_alg_of(trailer + 15);
		if (talg == CF_CKSUM_NONE)
			return "x-amz-trailer must name an x-amz-checksum-* "
			    "trailer Coffer knows";
		if (x.n > 0)
			return "a checksum in a header and in a trailer";
		s->ck_alg = talg;
		s->ck_want[0] = '\0';
	}
	sdk = hdr(mc, "x-amz-sdk-checksum-algorithm");
	if (sdk != NULL && s->ck_alg != CF_CKSUM_NONE &&
	    cf_cksum_alg_of(sdk) != s->ck_alg)
		return "x-amz-sdk-checksum-algorithm names another checksum";
	if (s->ck_alg != CF_CKSUM_NONE &&
	    cf_cksum_new(s->ck_alg, &s->ck, NULL) != CF_OK)
		return "out of memory";
	return NULL;
}

/* The checksum given (header or trailer) against the one computed; NULL
 * or the refusal's message. */
static const char *
checksum_check(struct cf_s3 *s, char *b64, size_t b64sz)
{
	uint8_t		 got[CF_CKSUM_MAX], want[CF_CKSUM_MAX];
	const char	*v;
	size_t		 n = cf_cksum_len(s->ck_alg);

	b64[0] = '\0';
	if (s->ck == NULL)
		return NULL;
	cf_cksum_final(s->ck, got);
	if (b64sz >= 4 * (CF_CKSUM_MAX + 2) / 3 + 1)
		b64_std_encode(got, n, b64);
	if (s->ck_own)
		return NULL;
	v = s->ck_want[0] != '\0' ? s->ck_want :
	    s->streaming ? cf_awsc_trailer_value(&s->dec) : NULL;
	if (v == NULL || !b64_std(v, want, n))
		return "the checksum trailer is missing or invalid";
	if (!cf_ct_equal(got, want, n))
		return "the checksum you specified did not match the "
		    "calculated checksum; nothing was stored";
	return NULL;
}

/* Content-Encoding without its aws-chunked token (which is framing, not
 * a property of the object): "gzip,aws-chunked" -> "gzip".  Was there
 * one? */
static bool
strip_aws_chunked(const char *ce, char *out, size_t outsz)
{
	const char	*p = ce != NULL ? ce : "", *t;
	size_t		 n, len = 0;
	bool		 found = false;

	out[0] = '\0';
	while (cf_http_list_next(&p, &t, &n)) {
		if (n == 11 && strncasecmp(t, "aws-chunked", 11) == 0)
			found = true;
		else if (len + n + 2 < outsz) {
			if (len > 0)
				out[len++] = ',';
			memcpy(out + len, t, n);
			len += n;
			out[len] = '\0';
		}
	}
	return found;
}

struct meta_scan {
	json_t	*obj;
	bool	 bad;
};

static enum MHD_Result
scan_meta(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct meta_scan	*m = cls;
	char			 name[128];
	size_t			 i, n;

	(void)kind;
	if (strncasecmp(key, "x-amz-meta-", 11) != 0)
		return MHD_YES;
	n = strlen(key + 11);
	if (n == 0 || n >= sizeof(name) || value == NULL ||
	    !cf_utf8_valid(value, strlen(value))) {
		m->bad = true;
		return MHD_NO;
	}
	for (i = 0; i <= n; i++) {
		char ch = key[11 + i];

		name[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	if (json_object_set_new(m->obj, name, json_string(value)) != 0)
		m->bad = true;
	return MHD_YES;
}

static enum MHD_Result
put_begin(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct meta_scan m = { NULL, false };
	struct cf_put	*put = NULL;
	enum cf_awsc_mode mode = CF_AWSC_UNSIGNED_TRAILER;
	const char	*sha, *cl, *md5h, *acl, *ce, *trailer, *why;
	char		*meta = NULL;
	char		 enc[CF_CTYPE_MAX];
	uint8_t		 md5[16];
	uint64_t	 len;
	int64_t		 clen = -1;
	enum MHD_Result	 ret;
	cf_err		 rc;

	cf_error_clear(&err);
	sha = hdr(mc, "x-amz-content-sha256");
	ce = hdr(mc, "Content-Encoding");
	trailer = hdr(mc, "x-amz-trailer");
	if (sha != NULL && strncmp(sha, "STREAMING-", 10) == 0) {
		if (!cf_awsc_mode_of(sha, &mode))
			return s3_refuse(mc, c, "unknown streaming payload",
			    400, "InvalidArgument", "x-amz-content-sha256 "
			    "names a streaming payload Coffer does not know");
		s->streaming = true;
		sha = NULL;
	}
	if (strip_aws_chunked(ce != NULL ? ce : "", enc, sizeof(enc)) &&
	    !s->streaming)
		return s3_refuse(mc, c, "aws-chunked without streaming", 400,
		    "InvalidArgument", "Content-Encoding aws-chunked needs a "
		    "STREAMING-* x-amz-content-sha256");
	acl = hdr(mc, "x-amz-acl");
	if (acl != NULL && strcmp(acl, "private") != 0)
		return s3_refuse(mc, c, "canned ACL other than private", 403,
		    "AccessDenied", "Coffer has no public objects: only the "
		    "private canned ACL is accepted");
	if (sha != NULL && strcmp(sha, "UNSIGNED-PAYLOAD") == 0)
		sha = NULL;
	if (sha != NULL && strlen(sha) != 64)
		return s3_refuse(mc, c, "bad x-amz-content-sha256", 400,
		    "InvalidArgument", "x-amz-content-sha256 must be "
		    "UNSIGNED-PAYLOAD, STREAMING-* or 64 hex digits");
	md5h = hdr(mc, "Content-MD5");
	if (md5h != NULL && !md5_b64(md5h, md5))
		return s3_refuse(mc, c, "bad Content-MD5", 400, "InvalidDigest",
		    "Content-MD5 must be the base64 of 16 bytes");
	why = checksum_setup(mc, s, s->streaming && mode !=
	    CF_AWSC_SIGNED ? trailer : NULL);
	if (why == NULL && !s->streaming && trailer != NULL)
		why = "x-amz-trailer needs a STREAMING-*-TRAILER payload";
	if (why != NULL)
		return s3_refuse(mc, c, "bad checksum request", 400,
		    "InvalidRequest", why);
	cl = s->streaming ? hdr(mc, "x-amz-decoded-content-length") :
	    hdr(mc, "Content-Length");
	if (cl == NULL)
		return s3_refuse(mc, c, "no Content-Length", 411,
		    "MissingContentLength", s->streaming ? "you must provide "
		    "x-amz-decoded-content-length with an aws-chunked body" :
		    "you must provide the Content-Length HTTP header");
	if (cf_parse_u64(cl, 0, INT64_MAX, &len, NULL) != CF_OK)
		return s3_refuse(mc, c, "bad Content-Length", 400,
		    "InvalidArgument", "bad Content-Length or "
		    "x-amz-decoded-content-length");
	clen = (int64_t)len;
	s->decoded_len = len;
	if (s->streaming && cf_awsc_init(&s->dec, mode, mode !=
	    CF_AWSC_SIGNED ? trailer : NULL, body_sink, s, chunk_sig, s,
	    &err) != CF_OK)
		return s3_refuse(mc, c, "bad aws-chunked request", 400,
		    "InvalidRequest", err.msg);
	if (s->streaming && mode != CF_AWSC_UNSIGNED_TRAILER &&
	    s->chain == NULL)
		return s3_refuse(mc, c, "signed chunks without a chain", 400,
		    "InvalidRequest", "signed chunks need a signed request");
	m.obj = json_object();
	if (m.obj == NULL)
		return MHD_NO;
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, scan_meta, &m);
	if (!m.bad && json_object_size(m.obj) > 0) {
		struct cf_buf mb;

		cf_buf_init(&mb, 64 * 1024);
		if (cf_json_dump(m.obj, JSON_COMPACT | JSON_SORT_KEYS, &mb,
		    NULL) != CF_OK || (meta = cf_buf_take(&mb)) == NULL)
			m.bad = true;
		cf_buf_free(&mb);
	}
	json_decref(m.obj);
	if (m.bad) {
		cf_free(meta);
		return s3_refuse(mc, c, "bad x-amz-meta header", 400,
		    "InvalidArgument", "x-amz-meta-* headers must be UTF-8 "
		    "with names under 128 bytes");
	}
	if (!cf_http_xfer(mc, c, true, &ret)) {
		cf_free(meta);
		return ret;
	}
	if (s->op == OP_MP_PART) {
		uint64_t pn = 0;

		cf_free(meta);
		meta = NULL;
		if (cf_parse_u64(str_or(cf_sigv4_query_get(&s->q,
		    "partNumber")), 1, CF_MP_PARTS_MAX, &pn, NULL) != CF_OK) {
			cf_core_reject(cf_http_core(c), r, "object:put",
			    "bad part number");
			cf_http_set_failed(c);
			return s3_error(mc, c, 400, "InvalidArgument",
			    "partNumber must be 1 to 10000");
		}
		rc = cf_core_mp_part_begin(cf_http_core(c), r, s->bucket,
		    s->key, cf_sigv4_query_get(&s->q, "uploadId"),
		    (int64_t)pn, clen, s->ck_alg != CF_CKSUM_NONE ?
		    cf_cksum_name(s->ck_alg) : NULL, &put, &err);
		/* The upload declared a checksum and the part carries
		 * none: computed here, as S3 does. */
		if (rc == CF_OK && s->ck_alg == CF_CKSUM_NONE &&
		    cf_core_put_part_alg(put)[0] != '\0') {
			s->ck_alg = cf_cksum_alg_of(cf_core_put_part_alg(put));
			s->ck_own = true;
			rc = cf_cksum_new(s->ck_alg, &s->ck, &err);
		}
		if (rc == CF_OK && sha != NULL)
			rc = cf_core_put_expect(put, sha, &err);
		enc[0] = '\0';
	} else
		rc = cf_core_put_begin(cf_http_core(c), r, s->bucket, s->key,
		    hdr(mc, "Content-Type"), sha, meta, clen, &put, &err);
	cf_free(meta);
	if (rc == CF_OK)
		rc = cf_core_put_md5(put, md5h != NULL ? md5 : NULL, &err);
	if (rc == CF_OK && enc[0] != '\0')
		rc = cf_core_put_encoding(put, enc, &err);
	if (rc != CF_OK) {
		cf_core_put_abort(put);
		cf_http_set_failed(c);
		return s3_core_error(mc, c, rc, &err);
	}
	cf_http_set_put(c, put);
	return MHD_YES;
}

static enum MHD_Result
put_end(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_put	*put = cf_http_take_put(c);
	struct cf_error	 err;
	struct MHD_Response *resp;
	json_t		*out = NULL;
	const char	*why, *vid;
	char		 etag[64], ck[64], name[40];
	cf_err		 rc;

	cf_error_clear(&err);
	if (put == NULL)
		return s3_error(mc, c, 500, "InternalError", "no upload");
	if (s->streaming && (cf_awsc_finish(&s->dec, &err) != CF_OK ||
	    s->dec.decoded != s->decoded_len)) {
		cf_core_put_abort(put);
		return s3_error(mc, c, 400, "IncompleteBody", err.msg[0] !=
		    '\0' ? err.msg : "the body is shorter than "
		    "x-amz-decoded-content-length; nothing was stored");
	}
	why = checksum_check(s, ck, sizeof(ck));
	if (why != NULL) {
		cf_core_put_abort(put);
		return s3_error(mc, c, 400, strstr(why, "missing") != NULL ?
		    "InvalidRequest" : "BadDigest", why);
	}
	/* Verified: kept with the version, for x-amz-checksum-mode, or
	 * with the part, for the composite checksum of its object. */
	if (ck[0] != '\0' && (s->op == OP_PUT || s->op == OP_MP_PART) &&
	    (rc = cf_core_put_checksum(put, cf_cksum_name(s->ck_alg), ck,
	    &err)) != CF_OK) {
		cf_core_put_abort(put);
		return s3_core_error(mc, c, rc, &err);
	}
	rc = cf_core_put_finish(put, NULL, &out, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		json_decref(out);
		return MHD_NO;
	}
	(void)snprintf(etag, sizeof(etag), "\"%s\"",
	    str_or(json_string_value(json_object_get(out, "md5"))));
	(void)MHD_add_response_header(resp, "ETag", etag);
	if (ck[0] != '\0') {
		(void)snprintf(name, sizeof(name), "x-amz-checksum-%s",
		    cf_cksum_name(s->ck_alg));
		(void)MHD_add_response_header(resp, name, ck);
	}
	vid = cf_s3v_header((int)json_integer_value(json_object_get(out,
	    "s3_null")), json_string_value(json_object_get(out,
	    "version_id")));
	if (vid != NULL)
		(void)MHD_add_response_header(resp, "x-amz-version-id", vid);
	json_decref(out);
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

static cf_err	xml_begin(struct cf_buf *b, const char *root,
		    struct cf_error *err);
static enum MHD_Result	send_xml(struct MHD_Connection *mc, struct conn *c,
			    int status, struct cf_buf *b, cf_err rc);

/* SEC: a request body read whole (an XML body) against what the
 * request says of it: x-amz-content-sha256 (signed: a body swapped
 * under a valid signature is refused), Content-MD5, an
 * x-amz-checksum-* header.  false: refused, recorded under action and
 * answered (*ret). */
static bool
body_check(struct MHD_Connection *mc, struct conn *c, const char *action,
    bool ck_body, enum MHD_Result *ret)
{
	struct cf_s3		*s = *cf_http_s3(c);
	const struct cf_buf	*body = cf_http_body(c);
	const uint8_t		*p = (const uint8_t *)(body->data != NULL ?
				    body->data : "");
	const char		*sha = hdr(mc, "x-amz-content-sha256");
	const char		*md5h = hdr(mc, "Content-MD5"), *why = NULL;
	const char		*code = "BadDigest";
	struct cf_md5		*h = NULL;
	uint8_t			 want[32], got[32];
	char			 hex[65], ck[64];
	int			 status = 400;

	if (sha != NULL && strncmp(sha, "STREAMING-", 10) == 0) {
		code = "InvalidRequest";
		why = "this operation takes no aws-chunked body";
	} else if (sha != NULL && strcmp(sha, "UNSIGNED-PAYLOAD") != 0) {
		cf_sha256(p, body->len, got);
		cf_hex_encode(got, 32, hex);
		if (strlen(sha) != 64 || strcasecmp(sha, hex) != 0) {
			code = "XAmzContentSHA256Mismatch";
			why = "the body's SHA-256 is not x-amz-content-sha256";
		}
	}
	if (why == NULL && md5h != NULL) {
		if (!md5_b64(md5h, want)) {
			code = "InvalidDigest";
			why = "Content-MD5 must be the base64 of 16 bytes";
		} else if (cf_md5_new(&h, NULL) != CF_OK) {
			status = 500;
			code = "InternalError";
			why = "out of memory";
		} else {
			cf_md5_update(h, p, body->len);
			cf_md5_final(h, got);
			cf_md5_free(h);
			if (!cf_ct_equal(got, want, CF_MD5_LEN))
				why = "the Content-MD5 you specified did not "
				    "match what was received";
		}
	}
	if (why == NULL && ck_body) {
		why = checksum_setup(mc, s, NULL);
		if (why != NULL)
			code = "InvalidRequest";
	}
	if (why == NULL && s->ck != NULL) {
		cf_cksum_update(s->ck, p, body->len);
		why = checksum_check(s, ck, sizeof(ck));
	}
	if (why == NULL)
		return true;
	cf_core_reject(cf_http_core(c), cf_http_req(c), action, why);
	*ret = s3_error(mc, c, status, code, why);
	return false;
}

/* A refused or failed key of DeleteObjects: its S3 code and status. */
static const char *
key_error(cf_err rc, const char *ec, int *status)
{
	*status = 400;
	switch (rc) {
	case CF_E_AUTH:
	case CF_E_DENIED:
		*status = 403;
		return "AccessDenied";
	case CF_E_NOTFOUND:
		*status = 404;
		return ec != NULL && strcmp(ec, "no_such_namespace") == 0 ?
		    "NoSuchBucket" : "NoSuchKey";
	case CF_E_INPUT:
		return "InvalidArgument";
	case CF_E_CONFLICT:
		*status = 409;
		return "OperationAborted";
	default:
		*status = 500;
		return "InternalError";
	}
}

/* One key of DeleteObjects, decided and recorded as its own request
 * (sub, a copy of the request's credential and id).  Appends its
 * <Deleted> or <Error> to b.  CF_OK, or the audit failure that stops
 * the batch. */
struct key_outcome {
	bool		 ok;
	int		 status;
	const char	*code;
	char		 msg[256];
};

static cf_err
delete_one(struct conn *c, struct cf_req *sub, const struct cf_s3xml_obj *o,
    bool quiet, struct cf_buf *b, struct key_outcome *ko)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_core	*core = cf_http_core(c);
	struct cf_error	 err;
	json_t		*out = NULL;
	const char	*code = NULL, *vid = NULL;
	const char	*msg;
	bool		 dm = false;
	int		 status = 200;
	cf_err		 rc, brc = CF_OK;

	*sub = *cf_http_req(c);
	sub->audited = false;
	sub->errcode = NULL;
	sub->allowed = false;
	sub->action = NULL;
	sub->resource[0] = '\0';
	cf_error_clear(&err);
	if (o->version_id[0] != '\0') {
		/* SEC: the version leaves S3's view, nothing is removed
		 * (op_delete_version). */
		rc = cf_core_object_version_s3_delete(core, sub, s->bucket,
		    o->key, o->version_id, &out, &err);
		if (rc == CF_E_NOTFOUND && sub->allowed &&
		    sub->errcode != NULL &&
		    strcmp(sub->errcode, "no_such_version") == 0)
			rc = CF_OK;
	} else
		rc = cf_core_object_delete(core, sub, s->bucket, o->key, &out,
		    &err);
	/* As DeleteObject: a key that is not there is deleted. */
	if (rc == CF_E_NOTFOUND && sub->allowed && (sub->errcode == NULL ||
	    strcmp(sub->errcode, "no_such_namespace") != 0))
		rc = CF_OK;
	if (rc == CF_OK && o->version_id[0] == '\0')
		vid = cf_s3v_id((int)json_integer_value(json_object_get(
		    out, "s3_null")), json_string_value(json_object_get(out,
		    "version_id")));
	else if (rc == CF_OK)
		dm = json_is_true(json_object_get(out, "delete_marker"));
	else if (code == NULL)
		code = key_error(rc, sub->errcode, &status);
	if (!sub->audited) {
		struct cf_error aerr;

		cf_error_clear(&aerr);
		brc = cf_core_audit(core, sub, status, code != NULL ? code :
		    "ok", 0, &aerr);
	}
	ko->ok = rc == CF_OK;
	ko->status = status;
	ko->code = code;
	cf_strlcpy(ko->msg, status == 500 ? "internal error (see the server "
	    "log for the request id)" : err.msg[0] != '\0' ? err.msg :
	    code != NULL ? code : "", sizeof(ko->msg));
	if (brc == CF_OK && rc == CF_OK && !quiet) {
		brc = cf_buf_append_str(b, "<Deleted>", NULL);
		if (brc == CF_OK)
			brc = xml_el(b, "Key", o->key, false, NULL);
		if (brc == CF_OK && o->version_id[0] != '\0')
			brc = xml_el(b, "VersionId", o->version_id, false,
			    NULL);
		if (brc == CF_OK && (vid != NULL || dm))
			brc = cf_buf_append_str(b, "<DeleteMarker>true"
			    "</DeleteMarker>", NULL);
		if (brc == CF_OK && vid != NULL)
			brc = xml_el(b, "DeleteMarkerVersionId", vid, false,
			    NULL);
		if (brc == CF_OK)
			brc = cf_buf_append_str(b, "</Deleted>", NULL);
	} else if (brc == CF_OK && rc != CF_OK) {
		msg = ko->msg;
		if (status == 500)
			log_warnx("event=request_failed request=%s "
			    "key_error=%s", sub->request_id, cf_err_name(rc));
		brc = cf_buf_append_str(b, "<Error>", NULL);
		if (brc == CF_OK)
			brc = xml_el(b, "Key", o->key, false, NULL);
		if (brc == CF_OK && o->version_id[0] != '\0')
			brc = xml_el(b, "VersionId", o->version_id, false,
			    NULL);
		if (brc == CF_OK)
			brc = xml_el(b, "Code", code, false, NULL);
		if (brc == CF_OK)
			brc = xml_el(b, "Message", msg, false, NULL);
		if (brc == CF_OK)
			brc = cf_buf_append_str(b, "</Error>", NULL);
	}
	json_decref(out);
	return brc;
}

/* POST /B?delete: DeleteObjects.  SEC: no decision for the batch as a
 * whole: each key is an object:delete decided, carried out and recorded
 * on its own (all records with the request's id), as if it were sent
 * alone.  The answer lists each key's outcome, and stands on the
 * decision of the first key done (the monitor's rule: a success
 * answers an allowed request); when no key was done, the first key's
 * refusal is the answer (403 AccessDenied, 404 NoSuchBucket, ...). */
static enum MHD_Result
op_delete_many(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req		*r = cf_http_req(c);
	const struct cf_buf	*body = cf_http_body(c);
	struct cf_s3xml_delete	 d;
	struct cf_req		*sub = NULL, *first = NULL;
	struct key_outcome	 ko, kfail;
	struct cf_error		 err;
	struct cf_buf		 b;
	enum MHD_Result		 ret;
	bool			 have_ok = false, have_fail = false;
	size_t			 i;
	cf_err			 rc;

	cf_error_clear(&err);
	memset(&d, 0, sizeof(d));
	memset(&kfail, 0, sizeof(kfail));
	if (!body_check(mc, c, "object:delete", true, &ret))
		return ret;
	rc = cf_s3xml_delete(body->data, body->len, 1000, &d, &err);
	if (rc != CF_OK) {
		cf_core_reject(cf_http_core(c), r, "object:delete",
		    "bad DeleteObjects body");
		return s3_error(mc, c, rc == CF_E_NOMEM ? 500 : 400,
		    rc == CF_E_NOMEM ? "InternalError" : "MalformedXML",
		    rc == CF_E_LIMIT ? "a DeleteObjects request names at "
		    "most 1000 keys" : err.msg);
	}
	sub = cf_malloc(sizeof(*sub));
	first = cf_malloc(sizeof(*first));
	cf_buf_init(&b, S3_XML_MAX);
	rc = sub == NULL || first == NULL ? CF_E_NOMEM : xml_begin(&b,
	    "DeleteResult", NULL);
	for (i = 0; i < d.n && rc == CF_OK; i++) {
		rc = delete_one(c, sub, &d.objs[i], d.quiet, &b, &ko);
		if (rc != CF_OK)
			break;
		if (ko.ok && !have_ok) {
			*first = *sub;
			have_ok = true;
		} else if (!ko.ok && !have_fail && !have_ok) {
			/* Kept while no key is done: the answer then. */
			*first = *sub;
			kfail = ko;
			have_fail = true;
		}
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</DeleteResult>", NULL);
	cf_free(sub);
	cf_s3xml_delete_free(&d);
	if (rc == CF_OK && (have_ok || have_fail)) {
		/* Every key has its record: the answer is the first done
		 * key's (or first refused key's), recorded already. */
		r->action = first->action;
		r->allowed = first->allowed;
		r->decided = first->decided;
		r->decided_allow = first->decided_allow;
		r->errcode = first->errcode;
		cf_strlcpy(r->resource, first->resource, sizeof(r->resource));
		cf_strlcpy(r->reasons, first->reasons, sizeof(r->reasons));
		r->audited = true;
	}
	cf_free(first);
	if (rc == CF_E_NOMEM && !have_ok && !have_fail)
		cf_core_reject(cf_http_core(c), r, "object:delete",
		    "out of memory");
	if (rc != CF_OK && rc != CF_E_NOMEM) {
		/* The audit log refused a key's record: stop there. */
		cf_buf_free(&b);
		cf_core_reject(cf_http_core(c), r, "object:delete",
		    "audit log unavailable");
		return s3_error(mc, c, 503, "ServiceUnavailable",
		    "the audit log is unavailable; keys after the first "
		    "failure were not touched");
	}
	if (rc == CF_OK && !have_ok) {
		cf_buf_free(&b);
		return s3_error(mc, c, kfail.status, kfail.code, kfail.msg);
	}
	return send_xml(mc, c, 200, &b, rc);
}

/* A stored checksum ("ALG:BASE64", "ALG:BASE64-N"; NULL or "": none)
 * as S3's elements: <ChecksumCRC32> etc., and with type <ChecksumType>
 * (COMPOSITE for one with "-N", else FULL_OBJECT). */
static cf_err
checksum_els(struct cf_buf *b, const char *ck, bool type)
{
	const char	*colon = ck != NULL ? strchr(ck, ':') : NULL;
	char		 name[32];
	size_t		 i, n;
	cf_err		 rc;

	if (colon == NULL || (n = (size_t)(colon - ck)) > 16)
		return CF_OK;
	memcpy(name, "Checksum", 8);
	for (i = 0; i < n; i++)
		name[8 + i] = ck[i] >= 'a' && ck[i] <= 'z' ?
		    (char)(ck[i] - 32) : ck[i];
	name[8 + n] = '\0';
	rc = xml_el(b, name, colon + 1, false, NULL);
	if (rc == CF_OK && type)
		rc = xml_el(b, "ChecksumType", strchr(colon + 1, '-') !=
		    NULL ? "COMPOSITE" : "FULL_OBJECT", false, NULL);
	return rc;
}

/* POST /B/K?uploads: CreateMultipartUpload. */
static enum MHD_Result
op_mp_create(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct meta_scan m = { NULL, false };
	struct cf_buf	 b, mb;
	json_t		*out = NULL;
	struct MHD_Response *resp;
	const char	*ce = hdr(mc, "Content-Encoding"), *acl, *ca, *ct;
	char		*meta = NULL, enc[CF_CTYPE_MAX];
	cf_err		 rc;

	cf_error_clear(&err);
	acl = hdr(mc, "x-amz-acl");
	if (acl != NULL && strcmp(acl, "private") != 0)
		return s3_refuse(mc, c, "canned ACL other than private", 403,
		    "AccessDenied", "Coffer has no public objects: only the "
		    "private canned ACL is accepted");
	(void)strip_aws_chunked(ce != NULL ? ce : "", enc, sizeof(enc));
	m.obj = json_object();
	if (m.obj == NULL)
		return MHD_NO;
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, scan_meta, &m);
	if (!m.bad && json_object_size(m.obj) > 0) {
		cf_buf_init(&mb, 64 * 1024);
		if (cf_json_dump(m.obj, JSON_COMPACT | JSON_SORT_KEYS, &mb,
		    NULL) != CF_OK || (meta = cf_buf_take(&mb)) == NULL)
			m.bad = true;
		cf_buf_free(&mb);
	}
	json_decref(m.obj);
	if (m.bad) {
		cf_free(meta);
		return s3_refuse(mc, c, "bad x-amz-meta header", 400,
		    "InvalidArgument", "x-amz-meta-* headers must be UTF-8 "
		    "with names under 128 bytes");
	}
	rc = cf_core_mp_create(cf_http_core(c), r, s->bucket, s->key,
	    hdr(mc, "Content-Type"), enc, meta,
	    hdr(mc, "x-amz-checksum-algorithm"), hdr(mc,
	    "x-amz-checksum-type"), &out, &err);
	cf_free(meta);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	ca = str_or(json_string_value(json_object_get(out,
	    "checksum_algorithm")));
	ct = str_or(json_string_value(json_object_get(out,
	    "checksum_type")));
	cf_buf_init(&b, 64 * 1024);
	rc = xml_begin(&b, "InitiateMultipartUploadResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Bucket", s->bucket, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Key", s->key, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "UploadId", str_or(json_string_value(
		    json_object_get(out, "upload_id"))), false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</InitiateMultipartUploadResult>",
		    NULL);
	if (rc != CF_OK || ca[0] == '\0') {
		json_decref(out);
		return send_xml(mc, c, 200, &b, rc);
	}
	/* The declared checksum, echoed as S3 does. */
	resp = MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY);
	cf_buf_free(&b);
	if (resp != NULL) {
		(void)MHD_add_response_header(resp, "Content-Type",
		    "application/xml");
		(void)MHD_add_response_header(resp,
		    "x-amz-checksum-algorithm", ca);
		(void)MHD_add_response_header(resp, "x-amz-checksum-type", ct);
	}
	json_decref(out);
	if (resp == NULL)
		return MHD_NO;
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* The object's checksum a CompleteMultipartUpload says, "alg:VALUE"
 * into out ("" for none): one x-amz-checksum-ALG header.  NULL, or why
 * it is refused. */
static const char *
complete_expect(struct MHD_Connection *mc, char *out, size_t outsz)
{
	static const char *const algs[] = { "crc32", "crc32c", "crc64nvme",
	    "sha1", "sha256" };
	const char	*v;
	char		 name[32];
	size_t		 i, k, n = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		(void)snprintf(name, sizeof(name), "x-amz-checksum-%s",
		    algs[i]);
		v = hdr(mc, name);
		if (v == NULL)
			continue;
		if (n++ > 0)
			return "give at most one x-amz-checksum-* header";
		/* SEC: compared, and echoed in an error message: base64
		 * and "-N" only. */
		for (k = 0; v[k] != '\0'; k++)
			if (!((v[k] >= 'A' && v[k] <= 'Z') || (v[k] >= 'a' &&
			    v[k] <= 'z') || (v[k] >= '0' && v[k] <= '9') ||
			    v[k] == '+' || v[k] == '/' || v[k] == '=' ||
			    v[k] == '-'))
				return "the x-amz-checksum-* header's value is "
				    "invalid";
		if (k == 0 || (size_t)snprintf(out, outsz, "%s:%s", algs[i],
		    v) >= outsz)
			return "the x-amz-checksum-* header's value is "
			    "invalid";
	}
	v = hdr(mc, "x-amz-checksum-type");
	if (v != NULL && strcasecmp(v, "COMPOSITE") != 0 &&
	    strcasecmp(v, "FULL_OBJECT") != 0)
		return "x-amz-checksum-type must be COMPOSITE or FULL_OBJECT";
	return NULL;
}

/* POST /B/K?uploadId=U: CompleteMultipartUpload. */
static enum MHD_Result
op_mp_complete(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	const struct cf_buf	*body = cf_http_body(c);
	struct cf_mp_want	*want = NULL;
	struct MHD_Response	*resp;
	struct cf_error		 err;
	struct cf_buf		 b;
	json_t			*out = NULL;
	const char		*vid, *why;
	char			 etag[64], expect[CF_CHECKSUM_TEXT_MAX];
	size_t			 n = 0;
	enum MHD_Result		 ret;
	cf_err			 rc;

	cf_error_clear(&err);
	/* x-amz-checksum-* of a Complete is the object's (S3's
	 * CompleteMultipartUpload), not its body's. */
	if (!body_check(mc, c, "object:put", false, &ret))
		return ret;
	why = complete_expect(mc, expect, sizeof(expect));
	if (why != NULL) {
		cf_core_reject(cf_http_core(c), r, "object:put", why);
		return s3_error(mc, c, 400, "InvalidRequest", why);
	}
	rc = cf_s3xml_complete(body->data, body->len, CF_MP_PARTS_MAX + 1,
	    &want, &n, &err);
	if (rc == CF_OK && n > CF_MP_PARTS_MAX)
		rc = CF_E_LIMIT;
	if (rc != CF_OK) {
		cf_free(want);
		cf_core_reject(cf_http_core(c), r, "object:put",
		    "bad CompleteMultipartUpload body");
		if (rc == CF_E_LIMIT)
			return s3_error(mc, c, 400, "InvalidArgument",
			    "an upload has at most 10000 parts");
		return s3_error(mc, c, 400, "MalformedXML", err.msg);
	}
	rc = cf_core_mp_complete(cf_http_core(c), r, s->bucket, s->key,
	    cf_sigv4_query_get(&s->q, "uploadId"), want, n,
	    expect[0] != '\0' ? expect : NULL, hdr(mc, "x-amz-checksum-type"),
	    &out, &err);
	cf_free(want);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	/* As PutObject: the new version's id as S3 shows it (none for the
	 * null version of an unversioned bucket). */
	vid = cf_s3v_header((int)json_integer_value(json_object_get(out,
	    "s3_null")), json_string_value(json_object_get(out,
	    "version_id")));
	(void)snprintf(etag, sizeof(etag), "\"%s\"",
	    str_or(json_string_value(json_object_get(out, "md5"))));
	cf_buf_init(&b, 64 * 1024);
	rc = xml_begin(&b, "CompleteMultipartUploadResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Location", s->key, true, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Bucket", s->bucket, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Key", s->key, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "ETag", etag, false, NULL);
	if (rc == CF_OK)
		rc = checksum_els(&b, json_string_value(json_object_get(out,
		    "checksum")), true);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</CompleteMultipartUploadResult>",
		    NULL);
	if (rc != CF_OK) {
		json_decref(out);
		return send_xml(mc, c, 200, &b, rc);
	}
	resp = MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY);
	cf_buf_free(&b);
	if (resp == NULL) {
		json_decref(out);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, "Content-Type", "application/xml");
	if (vid != NULL)
		(void)MHD_add_response_header(resp, "x-amz-version-id", vid);
	json_decref(out);
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* A count parameter of a listing (max-parts, part-number-marker,
 * max-uploads): absent (def), or decimal digits only, at most max
 * (more is max, as S3 takes it).  false: not a number (S3's 400
 * InvalidArgument). */
static bool
count_value(const char *v, uint64_t def, uint64_t max, uint64_t *out)
{
	uint64_t	n;

	*out = def;
	if (v == NULL)
		return true;
	if (cf_parse_u64(v, 0, UINT32_MAX, &n, NULL) != CF_OK)
		return false;
	*out = n > max ? max : n;
	return true;
}

static bool
list_count(const struct cf_s3 *s, const char *name, uint64_t def,
    uint64_t max, uint64_t *out)
{
	return count_value(cf_sigv4_query_get(&s->q, name), def, max, out);
}

/* Refuse a listing's bad parameter: 400 InvalidArgument, recorded as a
 * denied request of the operation's action. */
static enum MHD_Result
list_refuse(struct MHD_Connection *mc, struct conn *c, const char *action,
    const char *msg)
{
	cf_core_reject(cf_http_core(c), cf_http_req(c), action, msg);
	return s3_error(mc, c, 400, "InvalidArgument", msg);
}

/* GET /B/K?uploadId=U: ListParts, a page of max-parts (default and at
 * most 1000) parts after part-number-marker. */
static enum MHD_Result
op_mp_parts(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct cf_buf	 b;
	json_t		*out = NULL, *e;
	const char	*id = cf_sigv4_query_get(&s->q, "uploadId"), *ca;
	char		 t[32], num[32], etag[64];
	uint64_t	 max, marker;
	size_t		 i;
	cf_err		 rc;

	cf_error_clear(&err);
	if (!list_count(s, "max-parts", 1000, 1000, &max))
		return list_refuse(mc, c, "object:put", "max-parts must be a "
		    "number from 0 to 1000");
	if (!list_count(s, "part-number-marker", 0, CF_MP_PARTS_MAX,
	    &marker))
		return list_refuse(mc, c, "object:put", "part-number-marker "
		    "must be a part number");
	rc = cf_core_mp_parts(cf_http_core(c), r, s->bucket, s->key, id,
	    (int64_t)marker, (size_t)max, &out, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	cf_buf_init(&b, S3_XML_MAX);
	rc = xml_begin(&b, "ListPartsResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Bucket", s->bucket, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Key", s->key, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "UploadId", str_or(id), false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_printf(&b, NULL, "<PartNumberMarker>%llu"
		    "</PartNumberMarker><NextPartNumberMarker>%lld"
		    "</NextPartNumberMarker><MaxParts>%llu</MaxParts>"
		    "<IsTruncated>%s</IsTruncated>",
		    (unsigned long long)marker, (long long)json_integer_value(
		    json_object_get(out, "next")), (unsigned long long)max,
		    json_is_true(json_object_get(out, "truncated")) ? "true" :
		    "false");
	ca = str_or(json_string_value(json_object_get(out,
	    "checksum_algorithm")));
	if (rc == CF_OK && ca[0] != '\0')
		rc = xml_el(&b, "ChecksumAlgorithm", ca, false, NULL);
	if (rc == CF_OK && ca[0] != '\0')
		rc = xml_el(&b, "ChecksumType", str_or(json_string_value(
		    json_object_get(out, "checksum_type"))), false, NULL);
	json_array_foreach(json_object_get(out, "parts"), i, e) {
		iso_ms(json_string_value(json_object_get(e, "created")), t);
		(void)snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(json_object_get(e, "number")));
		(void)snprintf(etag, sizeof(etag), "\"%s\"", str_or(
		    json_string_value(json_object_get(e, "md5"))));
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "<Part>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "PartNumber", num, false, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "LastModified", t, false, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "ETag", etag, false, NULL);
		(void)snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(json_object_get(e, "size")));
		if (rc == CF_OK)
			rc = xml_el(&b, "Size", num, false, NULL);
		if (rc == CF_OK)
			rc = checksum_els(&b, json_string_value(
			    json_object_get(e, "checksum")), false);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</Part>", NULL);
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</ListPartsResult>", NULL);
	json_decref(out);
	return send_xml(mc, c, 200, &b, rc);
}

/* GET /B?uploads: ListMultipartUploads, a page of max-uploads (default
 * and at most 1000) uploads and common prefixes after key-marker and
 * upload-id-marker. */
static enum MHD_Result
op_mp_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	struct cf_mp_page	 pg;
	struct cf_error		 err;
	struct cf_buf		 b;
	json_t			*out = NULL, *e;
	const char		*et, *nk, *nu;
	char			 t[32];
	uint64_t		 max;
	size_t			 i;
	bool			 url, trunc;
	cf_err			 rc;

	cf_error_clear(&err);
	memset(&pg, 0, sizeof(pg));
	if (!list_count(s, "max-uploads", 1000, 1000, &max))
		return list_refuse(mc, c, "object:list", "max-uploads must be "
		    "a number from 0 to 1000");
	et = cf_sigv4_query_get(&s->q, "encoding-type");
	if (et != NULL && strcmp(et, "url") != 0)
		return list_refuse(mc, c, "object:list", "encoding-type must "
		    "be url");
	url = et != NULL;
	pg.max = (size_t)max;
	pg.prefix = cf_sigv4_query_get(&s->q, "prefix");
	pg.delimiter = cf_sigv4_query_get(&s->q, "delimiter");
	if (pg.delimiter != NULL && pg.delimiter[0] == '\0')
		pg.delimiter = NULL;
	pg.key_marker = cf_sigv4_query_get(&s->q, "key-marker");
	if (pg.key_marker != NULL && pg.key_marker[0] == '\0')
		pg.key_marker = NULL;
	/* Without key-marker, upload-id-marker is ignored (as on S3). */
	pg.upload_id_marker = pg.key_marker != NULL ?
	    cf_sigv4_query_get(&s->q, "upload-id-marker") : NULL;
	if (pg.upload_id_marker != NULL && pg.upload_id_marker[0] == '\0')
		pg.upload_id_marker = NULL;
	rc = cf_core_mp_uploads(cf_http_core(c), r, s->bucket, &pg, &out,
	    &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	trunc = json_is_true(json_object_get(out, "truncated"));
	nk = str_or(json_string_value(json_object_get(out, "next_key")));
	nu = str_or(json_string_value(json_object_get(out,
	    "next_upload_id")));
	cf_buf_init(&b, S3_XML_MAX);
	rc = xml_begin(&b, "ListMultipartUploadsResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Bucket", s->bucket, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "KeyMarker", str_or(pg.key_marker), url, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "UploadIdMarker", str_or(cf_sigv4_query_get(
		    &s->q, "upload-id-marker")), false, NULL);
	if (rc == CF_OK && trunc)
		rc = xml_el(&b, "NextKeyMarker", nk, url, NULL);
	if (rc == CF_OK && trunc)
		rc = xml_el(&b, "NextUploadIdMarker", nu, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Prefix", str_or(pg.prefix), url, NULL);
	if (rc == CF_OK && pg.delimiter != NULL)
		rc = xml_el(&b, "Delimiter", pg.delimiter, url, NULL);
	if (rc == CF_OK && url)
		rc = xml_el(&b, "EncodingType", "url", false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_printf(&b, NULL, "<MaxUploads>%llu</MaxUploads>"
		    "<IsTruncated>%s</IsTruncated>", (unsigned long long)max,
		    trunc ? "true" : "false");
	json_array_foreach(json_object_get(out, "uploads"), i, e) {
		iso_ms(json_string_value(json_object_get(e, "created")), t);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "<Upload>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Key", str_or(json_string_value(
			    json_object_get(e, "key"))), url, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "UploadId", str_or(json_string_value(
			    json_object_get(e, "upload_id"))), false, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Initiated", t, false, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "<StorageClass>STANDARD"
			    "</StorageClass></Upload>", NULL);
	}
	json_array_foreach(json_object_get(out, "prefixes"), i, e) {
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "<CommonPrefixes>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Prefix", str_or(json_string_value(e)),
			    url, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</CommonPrefixes>", NULL);
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</ListMultipartUploadsResult>",
		    NULL);
	json_decref(out);
	return send_xml(mc, c, 200, &b, rc);
}

/* DELETE /B/K?uploadId=U: AbortMultipartUpload. */
static enum MHD_Result
op_mp_abort(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct MHD_Response *resp;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_mp_abort(cf_http_core(c), r, s->bucket, s->key,
	    cf_sigv4_query_get(&s->q, "uploadId"), &out, &err);
	json_decref(out);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	return s3_send(mc, c, 204, NULL, resp, "ok");
}

static cf_err
xml_begin(struct cf_buf *b, const char *root, struct cf_error *err)
{
	return cf_buf_printf(b, err, "<?xml version=\"1.0\" encoding=\"UTF-8\""
	    "?>\n<%s xmlns=\"" S3_NS "\">", root);
}

static enum MHD_Result
send_xml(struct MHD_Connection *mc, struct conn *c, int status,
    struct cf_buf *b, cf_err rc)
{
	enum MHD_Result	ret;

	if (rc != CF_OK) {
		cf_buf_free(b);
		return s3_error(mc, c, 500, "InternalError", "out of memory");
	}
	ret = s3_send(mc, c, status, b, NULL, "ok");
	cf_buf_free(b);
	return ret;
}

static enum MHD_Result
op_list_buckets(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct cf_buf	 b;
	json_t		*out = NULL, *e;
	char		 t[32];
	size_t		 i;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_ns_list(cf_http_core(c), r, &out, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	cf_buf_init(&b, S3_XML_MAX);
	rc = xml_begin(&b, "ListAllMyBucketsResult", NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "<Owner>", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "ID", r->principal.name, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "DisplayName", r->principal.name, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</Owner><Buckets>", NULL);
	json_array_foreach(json_object_get(out, "namespaces"), i, e) {
		iso_ms(json_string_value(json_object_get(e, "created")), t);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "<Bucket>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Name", str_or(json_string_value(
			    json_object_get(e, "name"))), false, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "CreationDate", t, false, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</Bucket>", NULL);
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b,
		    "</Buckets></ListAllMyBucketsResult>", NULL);
	json_decref(out);
	return send_xml(mc, c, 200, &b, rc);
}

static enum MHD_Result
op_bucket(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct cf_buf	 b;
	struct MHD_Response *resp;
	json_t		*out = NULL;
	char		 loc[80];
	int		 status = 200;
	cf_err		 rc;

	cf_error_clear(&err);
	switch (s->op) {
	case OP_CREATE_BUCKET:
		rc = cf_core_s3_bucket_create(cf_http_core(c), r, s->bucket,
		    &out, &err);
		break;
	case OP_DELETE_BUCKET:
		rc = cf_core_ns_delete(cf_http_core(c), r, s->bucket, &out,
		    &err);
		status = 204;
		break;
	default:
		rc = cf_core_ns_get(cf_http_core(c), r, s->bucket, &out, &err);
		break;
	}
	json_decref(out);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	if (s->op == OP_BUCKET_LOCATION) {
		cf_buf_init(&b, 4096);
		rc = cf_buf_printf(&b, NULL, "<?xml version=\"1.0\" encoding="
		    "\"UTF-8\"?>\n<LocationConstraint xmlns=\"" S3_NS "\">");
		if (rc == CF_OK && strcmp(cf_http_s3_region(c),
		    "us-east-1") != 0)
			rc = xml_text(&b, cf_http_s3_region(c), NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</LocationConstraint>",
			    NULL);
		return send_xml(mc, c, 200, &b, rc);
	}
	resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (s->op == OP_CREATE_BUCKET) {
		(void)snprintf(loc, sizeof(loc), "/%s", s->bucket);
		(void)MHD_add_response_header(resp, "Location", loc);
	}
	/* s3fs builds its client for the region this names. */
	(void)MHD_add_response_header(resp, "x-amz-bucket-region",
	    cf_http_s3_region(c));
	return s3_send(mc, c, status, NULL, resp, "ok");
}

static enum MHD_Result
op_list(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct cf_buf	 b;
	json_t		*out = NULL, *e;
	const char	*prefix, *delim, *mk, *tok, *sa, *marker, *next;
	const char	*et, *md5;
	char		 after[S3_KEY_MAX], t[32], num[32], etag[80];
	char		 tokbuf[2 * S3_KEY_MAX];
	uint64_t	 maxkeys = 1000;
	size_t		 i, n, count = 0;
	bool		 v2 = s->op == OP_LIST_V2, url, trunc;
	cf_err		 rc = CF_OK;

	cf_error_clear(&err);
	prefix = cf_sigv4_query_get(&s->q, "prefix");
	delim = cf_sigv4_query_get(&s->q, "delimiter");
	if (delim != NULL && delim[0] == '\0')
		delim = NULL;		/* rclone: an empty one is none */
	et = cf_sigv4_query_get(&s->q, "encoding-type");
	if (et != NULL && strcmp(et, "url") != 0)
		return s3_error(mc, c, 400, "InvalidArgument",
		    "encoding-type must be url");
	url = et != NULL;
	mk = cf_sigv4_query_get(&s->q, "max-keys");
	if (mk != NULL && cf_parse_u64(mk, 0, INT32_MAX, &maxkeys, NULL) !=
	    CF_OK)
		return s3_error(mc, c, 400, "InvalidArgument",
		    "max-keys must be a number");
	if (maxkeys > 1000)
		maxkeys = 1000;
	tok = v2 ? cf_sigv4_query_get(&s->q, "continuation-token") : NULL;
	sa = v2 ? cf_sigv4_query_get(&s->q, "start-after") : NULL;
	marker = v2 ? NULL : cf_sigv4_query_get(&s->q, "marker");
	after[0] = '\0';
	if (tok != NULL) {
		if (cf_b64url_decode(tok, strlen(tok), after,
		    sizeof(after) - 1, &n, NULL) != CF_OK)
			return s3_error(mc, c, 400, "InvalidArgument",
			    "the continuation token is not valid");
		after[n] = '\0';
	} else if (sa != NULL)
		cf_strlcpy(after, sa, sizeof(after));
	else if (marker != NULL)
		cf_strlcpy(after, marker, sizeof(after));
	rc = cf_core_object_list(cf_http_core(c), r, s->bucket, prefix, delim,
	    after, maxkeys == 0 ? 1 : (size_t)maxkeys, &out, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	trunc = maxkeys > 0 && json_is_true(json_object_get(out, "truncated"));
	next = json_string_value(json_object_get(out, "next"));
	cf_buf_init(&b, S3_XML_MAX);
	rc = xml_begin(&b, "ListBucketResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Name", s->bucket, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Prefix", str_or(prefix), url, NULL);
	if (rc == CF_OK && delim != NULL)
		rc = xml_el(&b, "Delimiter", delim, url, NULL);
	(void)snprintf(num, sizeof(num), "%llu", (unsigned long long)maxkeys);
	if (rc == CF_OK)
		rc = xml_el(&b, "MaxKeys", num, false, NULL);
	if (rc == CF_OK && url)
		rc = xml_el(&b, "EncodingType", "url", false, NULL);
	if (rc == CF_OK && !v2)
		rc = xml_el(&b, "Marker", str_or(marker), url, NULL);
	if (rc == CF_OK && tok != NULL)
		rc = xml_el(&b, "ContinuationToken", tok, false, NULL);
	if (rc == CF_OK && sa != NULL)
		rc = xml_el(&b, "StartAfter", sa, url, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "IsTruncated", trunc ? "true" : "false", false,
		    NULL);
	if (rc == CF_OK && trunc && next != NULL) {
		if (v2) {
			cf_b64url_encode(next, strlen(next), tokbuf);
			rc = xml_el(&b, "NextContinuationToken", tokbuf, false,
			    NULL);
		} else
			rc = xml_el(&b, "NextMarker", next, url, NULL);
	}
	json_array_foreach(json_object_get(out, "objects"), i, e) {
		if (maxkeys == 0 || rc != CF_OK)
			break;
		count++;
		md5 = json_string_value(json_object_get(e, "md5"));
		(void)snprintf(etag, sizeof(etag), "\"%s\"", md5 != NULL &&
		    md5[0] != '\0' ? md5 : str_or(json_string_value(
		    json_object_get(e, "sha256"))));
		iso_ms(json_string_value(json_object_get(e, "created")), t);
		(void)snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(json_object_get(e, "size")));
		rc = cf_buf_append_str(&b, "<Contents>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Key", str_or(json_string_value(
			    json_object_get(e, "key"))), url, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "LastModified", t, false, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "ETag", etag, false, NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Size", num, false, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "<StorageClass>STANDARD"
			    "</StorageClass></Contents>", NULL);
	}
	json_array_foreach(json_object_get(out, "prefixes"), i, e) {
		if (maxkeys == 0 || rc != CF_OK)
			break;
		count++;
		rc = cf_buf_append_str(&b, "<CommonPrefixes>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Prefix", str_or(json_string_value(e)),
			    url, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</CommonPrefixes>", NULL);
	}
	(void)snprintf(num, sizeof(num), "%zu", count);
	if (rc == CF_OK && v2)
		rc = xml_el(&b, "KeyCount", num, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</ListBucketResult>", NULL);
	json_decref(out);
	return send_xml(mc, c, 200, &b, rc);
}

/* One <Version> or <DeleteMarker> of ListObjectVersions. */
static cf_err
version_el(struct cf_buf *b, json_t *e, bool url)
{
	bool		 dm = json_is_true(json_object_get(e, "delete_marker"));
	const char	*md5 = json_string_value(json_object_get(e, "md5"));
	const char	*by = str_or(json_string_value(json_object_get(e,
			    "created_by")));
	char		 t[32], num[32], etag[80];
	cf_err		 rc;

	iso_ms(json_string_value(json_object_get(e, "created")), t);
	rc = cf_buf_append_str(b, dm ? "<DeleteMarker>" : "<Version>", NULL);
	if (rc == CF_OK)
		rc = xml_el(b, "Key", str_or(json_string_value(
		    json_object_get(e, "key"))), url, NULL);
	if (rc == CF_OK)
		rc = xml_el(b, "VersionId", str_or(cf_s3v_id((int)
		    json_integer_value(json_object_get(e, "s3_null")),
		    json_string_value(json_object_get(e, "version_id")))),
		    false, NULL);
	if (rc == CF_OK)
		rc = xml_el(b, "IsLatest", json_is_true(json_object_get(e,
		    "latest")) ? "true" : "false", false, NULL);
	if (rc == CF_OK)
		rc = xml_el(b, "LastModified", t, false, NULL);
	if (rc == CF_OK && !dm) {
		(void)snprintf(etag, sizeof(etag), "\"%s\"", md5 != NULL &&
		    md5[0] != '\0' ? md5 : str_or(json_string_value(
		    json_object_get(e, "sha256"))));
		(void)snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(json_object_get(e, "size")));
		rc = xml_el(b, "ETag", etag, false, NULL);
		if (rc == CF_OK)
			rc = xml_el(b, "Size", num, false, NULL);
		if (rc == CF_OK)
			rc = xml_el(b, "StorageClass", "STANDARD", false,
			    NULL);
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, "<Owner>", NULL);
	if (rc == CF_OK)
		rc = xml_el(b, "ID", by, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(b, "DisplayName", by, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, dm ? "</Owner></DeleteMarker>" :
		    "</Owner></Version>", NULL);
	return rc;
}

/* GET /B?versions: ListObjectVersions.  Coffer's versions are S3's:
 * every version and delete marker, newest first per key. */
static enum MHD_Result
op_list_versions(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct cf_buf	 b;
	json_t		*out = NULL, *e;
	const char	*prefix, *delim, *mk, *km, *vm, *et, *nk, *nv;
	char		 num[32];
	uint64_t	 maxkeys = 1000;
	size_t		 i;
	bool		 url, trunc;
	cf_err		 rc;

	cf_error_clear(&err);
	prefix = cf_sigv4_query_get(&s->q, "prefix");
	delim = cf_sigv4_query_get(&s->q, "delimiter");
	if (delim != NULL && delim[0] == '\0')
		delim = NULL;
	km = cf_sigv4_query_get(&s->q, "key-marker");
	vm = cf_sigv4_query_get(&s->q, "version-id-marker");
	if (vm != NULL && vm[0] == '\0')
		vm = NULL;
	et = cf_sigv4_query_get(&s->q, "encoding-type");
	if (et != NULL && strcmp(et, "url") != 0)
		return s3_error(mc, c, 400, "InvalidArgument",
		    "encoding-type must be url");
	url = et != NULL;
	mk = cf_sigv4_query_get(&s->q, "max-keys");
	if (mk != NULL && cf_parse_u64(mk, 0, INT32_MAX, &maxkeys, NULL) !=
	    CF_OK)
		return s3_error(mc, c, 400, "InvalidArgument",
		    "max-keys must be a number");
	if (maxkeys > 1000)
		maxkeys = 1000;
	rc = cf_core_object_versions_scan(cf_http_core(c), r, s->bucket,
	    prefix, delim, km, vm, maxkeys == 0 ? 1 : (size_t)maxkeys, &out,
	    &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	trunc = maxkeys > 0 && json_is_true(json_object_get(out, "truncated"));
	nk = json_string_value(json_object_get(out, "next_key"));
	nv = json_string_value(json_object_get(out, "next_version_id"));
	cf_buf_init(&b, S3_XML_MAX);
	rc = xml_begin(&b, "ListVersionsResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Name", s->bucket, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "Prefix", str_or(prefix), url, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "KeyMarker", str_or(km), url, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "VersionIdMarker", str_or(vm), false, NULL);
	if (rc == CF_OK && trunc && nk != NULL)
		rc = xml_el(&b, "NextKeyMarker", nk, url, NULL);
	if (rc == CF_OK && trunc && nv != NULL)
		rc = xml_el(&b, "NextVersionIdMarker", nv, false, NULL);
	(void)snprintf(num, sizeof(num), "%llu", (unsigned long long)maxkeys);
	if (rc == CF_OK)
		rc = xml_el(&b, "MaxKeys", num, false, NULL);
	if (rc == CF_OK && delim != NULL)
		rc = xml_el(&b, "Delimiter", delim, url, NULL);
	if (rc == CF_OK && url)
		rc = xml_el(&b, "EncodingType", "url", false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "IsTruncated", trunc ? "true" : "false", false,
		    NULL);
	json_array_foreach(json_object_get(out, "versions"), i, e) {
		if (maxkeys == 0 || rc != CF_OK)
			break;
		rc = version_el(&b, e, url);
	}
	json_array_foreach(json_object_get(out, "prefixes"), i, e) {
		if (maxkeys == 0 || rc != CF_OK)
			break;
		rc = cf_buf_append_str(&b, "<CommonPrefixes>", NULL);
		if (rc == CF_OK)
			rc = xml_el(&b, "Prefix", str_or(json_string_value(e)),
			    url, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</CommonPrefixes>", NULL);
	}
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</ListVersionsResult>", NULL);
	json_decref(out);
	return send_xml(mc, c, 200, &b, rc);
}

/* x-amz-copy-source: "[/]BUCKET/KEY[?versionId=V]", percent-encoded.
 * false: not valid. */
static bool
copy_source(const char *v, char bucket[64], char **key, char vid[64])
{
	const char	*q, *sl, *p = v;
	size_t		 n;

	*key = NULL;
	vid[0] = '\0';
	if (p[0] == '/')
		p++;
	q = strstr(p, "?versionId=");
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	if (q != NULL && (strlen(q + 11) == 0 || strlen(q + 11) >= 64 ||
	    cf_sigv4_decode(q + 11, strlen(q + 11), vid, 64, NULL, NULL) !=
	    CF_OK))
		return false;
	sl = memchr(p, '/', n);
	if (sl == NULL || sl == p || sl + 1 == p + n ||
	    (size_t)(sl - p) >= 64 || cf_sigv4_decode(p, (size_t)(sl - p),
	    bucket, 64, NULL, NULL) != CF_OK)
		return false;
	n -= (size_t)(sl + 1 - p);
	*key = cf_malloc(n + 1);
	if (*key == NULL)
		return false;
	if (cf_sigv4_decode(sl + 1, n, *key, n + 1, NULL, NULL) != CF_OK) {
		CF_FREE(*key);
		return false;
	}
	return true;
}

/* The x-amz-meta-* headers as a JSON object text (*meta, NULL: none);
 * false: not acceptable. */
static bool
meta_of(struct MHD_Connection *mc, char **meta)
{
	struct meta_scan m = { NULL, false };
	struct cf_buf	 mb;

	*meta = NULL;
	m.obj = json_object();
	if (m.obj == NULL)
		return false;
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, scan_meta, &m);
	if (!m.bad && json_object_size(m.obj) > 0) {
		cf_buf_init(&mb, 64 * 1024);
		if (cf_json_dump(m.obj, JSON_COMPACT | JSON_SORT_KEYS, &mb,
		    NULL) != CF_OK || (*meta = cf_buf_take(&mb)) == NULL)
			m.bad = true;
		cf_buf_free(&mb);
	}
	json_decref(m.obj);
	if (m.bad)
		CF_FREE(*meta);
	return !m.bad;
}

/* A copy-source date condition: *us -1 when absent; false: given but
 * not an HTTP date. */
static bool
copy_date(struct MHD_Connection *mc, const char *name, int64_t *us)
{
	const char	*v = hdr(mc, name);

	*us = -1;
	return v == NULL || cf_s3_http_date_parse(v, us);
}

/* The x-amz-copy-source-if-* of a copy (CopyObject, UploadPartCopy)
 * into *cd; false: a date that is not an HTTP date. */
static bool
copy_conditions(struct MHD_Connection *mc, struct cf_cond *cd)
{
	cd->if_match = hdr(mc, "x-amz-copy-source-if-match");
	cd->if_none_match = hdr(mc, "x-amz-copy-source-if-none-match");
	return copy_date(mc, "x-amz-copy-source-if-modified-since",
	    &cd->if_modified_since_us) && copy_date(mc,
	    "x-amz-copy-source-if-unmodified-since",
	    &cd->if_unmodified_since_us);
}

/* PUT /B/K with x-amz-copy-source: CopyObject, server-side. */
static enum MHD_Result
op_copy(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	struct cf_copy_meta	 cm;
	struct cf_copy_src	 src;
	struct cf_error		 err;
	struct cf_buf		 b;
	struct MHD_Response	*resp;
	json_t			*out = NULL;
	const char		*dir = hdr(mc, "x-amz-metadata-directive");
	const char		*acl = hdr(mc, "x-amz-acl");
	const char		*ce = hdr(mc, "Content-Encoding"), *vh;
	char			 sb[64], vid[64], t[32], etag[80];
	char			 enc[CF_CTYPE_MAX];
	char			*skey = NULL, *meta = NULL;
	bool			 replace;
	enum MHD_Result		 ret;
	cf_err			 rc;

	cf_error_clear(&err);
	memset(&src, 0, sizeof(src));
	if (!body_check(mc, c, "object:put", true, &ret))
		return ret;
	if (acl != NULL && strcmp(acl, "private") != 0)
		return s3_refuse(mc, c, "canned ACL other than private", 403,
		    "AccessDenied", "Coffer has no public objects: only the "
		    "private canned ACL is accepted");
	/* S3 copies a range only into a part (UploadPartCopy); a
	 * CopyObject that asks for one is refused, never answered with a
	 * copy of the whole object the client did not ask for. */
	if (hdr(mc, "x-amz-copy-source-range") != NULL)
		return s3_refuse(mc, c, "x-amz-copy-source-range on CopyObject",
		    400, "InvalidArgument", "x-amz-copy-source-range applies "
		    "to UploadPartCopy only: CopyObject copies a whole object");
	if (!copy_conditions(mc, &src.cond))
		return s3_refuse(mc, c, "bad copy-source date", 400,
		    "InvalidArgument", "x-amz-copy-source-if-*-since must be "
		    "an HTTP date (Sun, 06 Nov 1994 08:49:37 GMT)");
	if (dir != NULL && strcmp(dir, "COPY") != 0 &&
	    strcmp(dir, "REPLACE") != 0)
		return s3_refuse(mc, c, "bad metadata directive", 400,
		    "InvalidArgument", "x-amz-metadata-directive must be COPY "
		    "or REPLACE");
	replace = dir != NULL && strcmp(dir, "REPLACE") == 0;
	if (!copy_source(hdr(mc, "x-amz-copy-source"), sb, &skey, vid))
		return s3_refuse(mc, c, "bad x-amz-copy-source", 400,
		    "InvalidArgument", "x-amz-copy-source must be "
		    "BUCKET/KEY[?versionId=ID], percent-encoded");
	if (!replace && vid[0] == '\0' && strcmp(sb, s->bucket) == 0 &&
	    strcmp(skey, s->key) == 0) {
		cf_free(skey);
		return s3_refuse(mc, c, "copy onto itself", 400,
		    "InvalidRequest", "this copy request is illegal because "
		    "it is trying to copy an object to itself without "
		    "changing the object's metadata");
	}
	if (replace && !meta_of(mc, &meta)) {
		cf_free(skey);
		return s3_refuse(mc, c, "bad x-amz-meta header", 400,
		    "InvalidArgument", "x-amz-meta-* headers must be UTF-8 "
		    "with names under 128 bytes");
	}
	(void)strip_aws_chunked(ce != NULL ? ce : "", enc, sizeof(enc));
	memset(&cm, 0, sizeof(cm));
	cm.content_type = hdr(mc, "Content-Type");
	cm.content_encoding = enc;
	cm.user_meta = meta;
	src.ns = sb;
	src.key = skey;
	src.version_id = vid[0] != '\0' ? vid : NULL;
	rc = cf_core_object_copy(cf_http_core(c), r, &src, s->bucket, s->key,
	    replace ? &cm : NULL, &out, &err);
	cf_free(skey);
	cf_free(meta);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	iso_ms(json_string_value(json_object_get(out, "created")), t);
	(void)snprintf(etag, sizeof(etag), "\"%s\"",
	    str_or(json_string_value(json_object_get(out, "md5"))));
	cf_buf_init(&b, 4096);
	rc = xml_begin(&b, "CopyObjectResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "LastModified", t, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "ETag", etag, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</CopyObjectResult>", NULL);
	resp = rc == CF_OK ? MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY) : NULL;
	cf_buf_free(&b);
	if (resp == NULL) {
		json_decref(out);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, "Content-Type", "application/xml");
	vh = cf_s3v_header((int)json_integer_value(json_object_get(out,
	    "s3_null")), json_string_value(json_object_get(out,
	    "version_id")));
	if (vh != NULL)
		(void)MHD_add_response_header(resp, "x-amz-version-id", vh);
	vh = cf_s3v_header((int)json_integer_value(json_object_get(out,
	    "source_s3_null")), json_string_value(json_object_get(out,
	    "source_version_id")));
	if (vh != NULL)
		(void)MHD_add_response_header(resp,
		    "x-amz-copy-source-version-id", vh);
	json_decref(out);
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* PUT /B/K?partNumber=N&uploadId=U with x-amz-copy-source:
 * UploadPartCopy, server-side (core/ops_partcopy.c). */
static enum MHD_Result
op_part_copy(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	struct cf_copy_src	 src;
	struct cf_error		 err;
	struct cf_buf		 b;
	struct MHD_Response	*resp;
	json_t			*out = NULL;
	const char		*rng = hdr(mc, "x-amz-copy-source-range");
	char			 sb[64], vid[64], t[32], etag[80];
	char			*skey = NULL;
	uint64_t		 pn = 0;
	enum MHD_Result		 ret;
	cf_err			 rc;

	cf_error_clear(&err);
	if (!body_check(mc, c, "object:put", true, &ret))
		return ret;
	memset(&src, 0, sizeof(src));
	if (cf_parse_u64(str_or(cf_sigv4_query_get(&s->q, "partNumber")), 1,
	    CF_MP_PARTS_MAX, &pn, NULL) != CF_OK)
		return s3_refuse(mc, c, "bad part number", 400,
		    "InvalidArgument", "partNumber must be 1 to 10000");
	if (rng != NULL && !cf_s3_copy_range_parse(rng, &src.first,
	    &src.last))
		return s3_refuse(mc, c, "bad x-amz-copy-source-range", 400,
		    "InvalidArgument", "x-amz-copy-source-range must be "
		    "bytes=FIRST-LAST with FIRST <= LAST");
	if (!copy_conditions(mc, &src.cond))
		return s3_refuse(mc, c, "bad copy-source date", 400,
		    "InvalidArgument", "x-amz-copy-source-if-*-since must be "
		    "an HTTP date (Sun, 06 Nov 1994 08:49:37 GMT)");
	if (!copy_source(hdr(mc, "x-amz-copy-source"), sb, &skey, vid))
		return s3_refuse(mc, c, "bad x-amz-copy-source", 400,
		    "InvalidArgument", "x-amz-copy-source must be "
		    "BUCKET/KEY[?versionId=ID], percent-encoded");
	src.ns = sb;
	src.key = skey;
	src.version_id = vid[0] != '\0' ? vid : NULL;
	src.ranged = rng != NULL;
	rc = cf_core_mp_part_copy(cf_http_core(c), r, &src, s->bucket, s->key,
	    cf_sigv4_query_get(&s->q, "uploadId"), (int64_t)pn, &out, &err);
	cf_free(skey);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	iso_ms(json_string_value(json_object_get(out, "created")), t);
	(void)snprintf(etag, sizeof(etag), "\"%s\"",
	    str_or(json_string_value(json_object_get(out, "md5"))));
	cf_buf_init(&b, 4096);
	rc = xml_begin(&b, "CopyPartResult", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "LastModified", t, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "ETag", etag, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</CopyPartResult>", NULL);
	resp = rc == CF_OK ? MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY) : NULL;
	cf_buf_free(&b);
	if (resp == NULL) {
		json_decref(out);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, "Content-Type", "application/xml");
	(void)MHD_add_response_header(resp, "x-amz-copy-source-version-id",
	    str_or(json_string_value(json_object_get(out,
	    "source_version_id"))));
	json_decref(out);
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* GET /B/K?tagging: the empty TagSet of an object that exists. */
static enum MHD_Result
op_get_tagging(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_error		 err;
	struct cf_buf		 b;
	struct MHD_Response	*resp;
	struct cf_get		*g = NULL;
	char			 vid[CF_VERSION_ID_LEN + 1];
	cf_err			 rc;

	cf_error_clear(&err);
	rc = cf_core_get_open(cf_http_core(c), cf_http_req(c), s->bucket,
	    s->key, cf_sigv4_query_get(&s->q, "versionId"), true, &g, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	cf_strlcpy(vid, cf_core_get_view(g)->version_id, sizeof(vid));
	cf_core_get_close(g);
	cf_buf_init(&b, 4096);
	rc = xml_begin(&b, "Tagging", NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "<TagSet></TagSet></Tagging>", NULL);
	resp = rc == CF_OK ? MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY) : NULL;
	cf_buf_free(&b);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type", "application/xml");
	(void)MHD_add_response_header(resp, "x-amz-version-id", vid);
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* A count header of GetObjectAttributes (x-amz-max-parts,
 * x-amz-part-number-marker), as list_count takes a parameter. */
static bool
hdr_count(struct MHD_Connection *mc, const char *name, uint64_t def,
    uint64_t max, uint64_t *out)
{
	return count_value(hdr(mc, name), def, max, out);
}

static int	preconditions(struct MHD_Connection *mc,
		    const struct cf_object_view *v);

#define ATTR_PARTS_MAX	1000	/* S3's default and most per page */

/* <ObjectParts> of a multipart version: the count, and a page of parts
 * after marker (at most max) when the object has a checksum (S3 lists
 * no Part of an object without one). */
static cf_err
attr_parts(struct cf_buf *b, const struct cf_get *g, uint64_t marker,
    uint64_t max)
{
	const struct cf_object_view	*v = cf_core_get_view(g);
	struct cf_object_part		*p;
	size_t				 n, i;
	bool				 more;
	cf_err				 rc;

	rc = cf_buf_printf(b, NULL, "<ObjectParts><PartsCount>%u"
	    "</PartsCount>", (unsigned)v->nsegs);
	if (rc != CF_OK || v->checksum[0] == '\0')
		return rc == CF_OK ? cf_buf_append_str(b, "</ObjectParts>",
		    NULL) : rc;
	p = cf_calloc(max + 1, sizeof(*p));
	if (p == NULL)
		return CF_E_NOMEM;
	n = cf_core_get_parts(g, (uint32_t)marker, p, (size_t)max + 1);
	more = n > max;
	if (more)
		n = (size_t)max;
	rc = cf_buf_printf(b, NULL, "<PartNumberMarker>%llu"
	    "</PartNumberMarker>", (unsigned long long)marker);
	if (rc == CF_OK && n > 0)
		rc = cf_buf_printf(b, NULL, "<NextPartNumberMarker>%u"
		    "</NextPartNumberMarker>", (unsigned)p[n - 1].number);
	if (rc == CF_OK)
		rc = cf_buf_printf(b, NULL, "<MaxParts>%llu</MaxParts>"
		    "<IsTruncated>%s</IsTruncated>", (unsigned long long)max,
		    more ? "true" : "false");
	for (i = 0; rc == CF_OK && i < n; i++) {
		rc = cf_buf_printf(b, NULL, "<Part><PartNumber>%u"
		    "</PartNumber><Size>%llu</Size>", (unsigned)p[i].number,
		    (unsigned long long)p[i].size);
		if (rc == CF_OK)
			rc = checksum_els(b, p[i].checksum, false);
		if (rc == CF_OK)
			rc = cf_buf_append_str(b, "</Part>", NULL);
	}
	cf_free(p);
	if (rc == CF_OK)
		rc = cf_buf_append_str(b, "</ObjectParts>", NULL);
	return rc;
}

/* GET /B/K?attributes: GetObjectAttributes, the attributes
 * x-amz-object-attributes names, of the latest version or versionId. */
static enum MHD_Result
op_attributes(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3			*s = *cf_http_s3(c);
	struct cf_error			 err;
	struct cf_buf			 b;
	struct MHD_Response		*resp;
	struct cf_get			*g = NULL;
	const struct cf_object_view	*v;
	uint64_t			 max, marker;
	unsigned			 want = 0;
	char				 hv[64], *dash;
	char				 ck[CF_CHECKSUM_TEXT_MAX];
	int				 pre;
	cf_err				 rc;

	if (!cf_s3_object_attrs_parse(hdr(mc, "x-amz-object-attributes"),
	    &want))
		return list_refuse(mc, c, "object:get", "Invalid attribute "
		    "name specified (x-amz-object-attributes: ETag, "
		    "Checksum, ObjectParts, StorageClass, ObjectSize)");
	if (!hdr_count(mc, "x-amz-max-parts", ATTR_PARTS_MAX,
	    ATTR_PARTS_MAX, &max))
		return list_refuse(mc, c, "object:get", "x-amz-max-parts "
		    "must be a number from 0 to 1000");
	if (!hdr_count(mc, "x-amz-part-number-marker", 0, CF_MP_PARTS_MAX,
	    &marker))
		return list_refuse(mc, c, "object:get",
		    "x-amz-part-number-marker must be a part number");
	cf_error_clear(&err);
	rc = cf_core_get_open_attrs(cf_http_core(c), cf_http_req(c),
	    s->bucket, s->key, cf_sigv4_query_get(&s->q, "versionId"), &g,
	    &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	v = cf_core_get_view(g);
	if (v->s3_hidden) {
		cf_core_get_close(g);
		return s3_error(mc, c, 404, "NoSuchVersion", "the specified "
		    "version does not exist (in S3's view)");
	}
	/* The conditions of a GET hold here too (a HEAD's, as S3 has
	 * them: If-None-Match and If-Modified-Since answer 304). */
	pre = preconditions(mc, v);
	if (pre != 0) {
		cf_core_get_close(g);
		if (pre == 412)
			return s3_error(mc, c, 412, "PreconditionFailed",
			    "at least one of the preconditions you specified "
			    "did not hold");
		return s3_send(mc, c, 304, NULL, NULL, "ok");
	}
	cf_buf_init(&b, S3_XML_MAX);
	rc = xml_begin(&b, "GetObjectAttributesOutput", NULL);
	/* S3 gives the ETag unquoted here. */
	if (rc == CF_OK && (want & CF_S3_ATTR_ETAG) != 0)
		rc = xml_el(&b, "ETag", v->md5[0] != '\0' ? v->md5 :
		    v->sha256, false, NULL);
	/* The object's checksum, a composite without its "-N" (the count
	 * is ObjectParts'), as S3 gives it here. */
	if (rc == CF_OK && (want & CF_S3_ATTR_CHECKSUM) != 0 &&
	    v->checksum[0] != '\0') {
		cf_strlcpy(ck, v->checksum, sizeof(ck));
		dash = strchr(ck, '-');
		if (dash != NULL)
			*dash = '\0';
		rc = cf_buf_append_str(&b, "<Checksum>", NULL);
		if (rc == CF_OK)
			rc = checksum_els(&b, ck, false);
		if (rc == CF_OK)
			rc = xml_el(&b, "ChecksumType", dash != NULL ?
			    "COMPOSITE" : "FULL_OBJECT", false, NULL);
		if (rc == CF_OK)
			rc = cf_buf_append_str(&b, "</Checksum>", NULL);
	}
	if (rc == CF_OK && (want & CF_S3_ATTR_PARTS) != 0 && v->nsegs > 0)
		rc = attr_parts(&b, g, marker, max);
	if (rc == CF_OK && (want & CF_S3_ATTR_CLASS) != 0)
		rc = xml_el(&b, "StorageClass", "STANDARD", false, NULL);
	if (rc == CF_OK && (want & CF_S3_ATTR_SIZE) != 0)
		rc = cf_buf_printf(&b, NULL, "<ObjectSize>%llu</ObjectSize>",
		    (unsigned long long)v->size);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</GetObjectAttributesOutput>",
		    NULL);
	if (rc != CF_OK) {
		cf_buf_free(&b);
		cf_core_get_close(g);
		return s3_error(mc, c, 500, "InternalError", "out of memory");
	}
	resp = MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY);
	cf_buf_free(&b);
	if (resp == NULL) {
		cf_core_get_close(g);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, "Content-Type", "application/xml");
	if (cf_s3v_header(v->s3_null, v->version_id) != NULL)
		(void)MHD_add_response_header(resp, "x-amz-version-id",
		    cf_s3v_header(v->s3_null, v->version_id));
	http_date(v->created_us, hv);
	(void)MHD_add_response_header(resp, "Last-Modified", hv);
	cf_core_get_close(g);
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* A GET's or HEAD's If-Modified-Since / If-Unmodified-Since: -1 when
 * absent, and also when not an HTTP date, which RFC 9110 (13.1.3,
 * 13.1.4) and S3 ignore rather than refuse. */
static int64_t
get_date(struct MHD_Connection *mc, const char *name)
{
	int64_t	us;

	return cf_s3_http_date_parse(hdr(mc, name), &us) ? us : -1;
}

/* The conditions of a GET or HEAD against the version (core/precond.c,
 * shared with the copies): 0 (go on), 412 or 304. */
static int
preconditions(struct MHD_Connection *mc, const struct cf_object_view *v)
{
	struct cf_cond	cd = CF_COND_NONE;

	cd.if_match = hdr(mc, "If-Match");
	cd.if_none_match = hdr(mc, "If-None-Match");
	cd.if_modified_since_us = get_date(mc, "If-Modified-Since");
	cd.if_unmodified_since_us = get_date(mc, "If-Unmodified-Since");
	switch (cf_core_precond(&cd, v)) {
	case CF_PRECOND_HOLDS:
		return 0;
	case CF_PRECOND_NOT_MODIFIED:
		return 304;
	default:
		return 412;
	}
}

static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* x-amz-checksum-mode: ENABLED on a GET or HEAD of the whole object
 * (not a range, not a 304): the checksum the upload carried, as S3
 * gives it; for a multipart object S3's composite of its parts'
 * ("BASE64-N", type COMPOSITE).  None was kept for a REST upload, or a
 * multipart one whose parts did not all carry one of one algorithm. */
static void
checksum_headers(struct MHD_Connection *mc, struct MHD_Response *resp,
    const struct cf_object_view *v, int status)
{
	const char	*mode = hdr(mc, "x-amz-checksum-mode");
	const char	*ck = v->checksum, *colon, *type = NULL;
	char		 name[48];

	if (mode == NULL || strcasecmp(mode, "ENABLED") != 0)
		return;
	if (v->part.number != 0) {
		/* One part (status 206): its own checksum, as S3 gives it,
		 * of a composite (or unnamed) object's parts; a
		 * FULL_OBJECT CRC has none per part but for its only
		 * part, whose is the object's.  A version of one blob is
		 * its part 1, whole. */
		if (status != 206)
			return;
		ck = v->part.checksum;
		colon = strchr(v->checksum, ':');
		if (v->nsegs == 0)
			type = "FULL_OBJECT";
		else if (colon != NULL && strchr(colon, '-') == NULL)
			type = v->nsegs == 1 ? "FULL_OBJECT" : NULL;
		else
			type = "COMPOSITE";
		if (type == NULL)
			return;
	} else if (status != 200)
		return;
	colon = strchr(ck, ':');
	if (colon == NULL || (size_t)(colon - ck) > 16 ||
	    !cf_str_field_value_ok(colon + 1))
		return;
	(void)snprintf(name, sizeof(name), "x-amz-checksum-%.*s",
	    (int)(colon - ck), ck);
	(void)MHD_add_response_header(resp, name, colon + 1);
	(void)MHD_add_response_header(resp, "x-amz-checksum-type",
	    type != NULL ? type : strchr(colon + 1, '-') != NULL ?
	    "COMPOSITE" : "FULL_OBJECT");
}

static enum MHD_Result
op_get(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3			*s = *cf_http_s3(c);
	struct cf_req			*r = cf_http_req(c);
	struct cf_error			 err;
	struct cf_object_view		 vv;
	const struct cf_object_view	*v = &vv;
	struct MHD_Response		*resp = NULL;
	struct cf_get			*g = NULL;
	uint64_t			 first = 0, last = 0, len;
	char				 etag[80], hv[160], name[160];
	int				 rng, status = 200, pre;
	enum MHD_Result			 ret;
	json_t				*m, *val;
	const char			*k, *action;
	uint64_t			 pn = 0;
	bool				 part;
	cf_err				 rc;

	/* partNumber=N: the bytes of part N, as S3 gives them; refused
	 * (and recorded) before any transfer is counted. */
	part = cf_sigv4_query_has(&s->q, "partNumber");
	action = s->head ? "object:head" : "object:get";
	if (part && cf_parse_u64(str_or(cf_sigv4_query_get(&s->q,
	    "partNumber")), 1, CF_MP_PARTS_MAX, &pn, NULL) != CF_OK)
		return list_refuse(mc, c, action, "Part number must be an "
		    "integer between 1 and 10000, inclusive");
	if (part && hdr(mc, "Range") != NULL) {
		cf_core_reject(cf_http_core(c), r, action,
		    "range with partNumber");
		return s3_error(mc, c, 400, "InvalidRequest", "Cannot specify "
		    "both Range header and partNumber query parameter");
	}
	if (!s->head && !cf_http_xfer(mc, c, false, &ret))
		return ret;
	cf_error_clear(&err);
	rc = part ? cf_core_get_open_part(cf_http_core(c), r, s->bucket,
	    s->key, cf_sigv4_query_get(&s->q, "versionId"), s->head,
	    (uint32_t)pn, &g, &err) : cf_core_get_open(cf_http_core(c), r,
	    s->bucket, s->key, cf_sigv4_query_get(&s->q, "versionId"),
	    s->head, &g, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	/* A copy: g goes with the response body (or is closed). */
	vv = *cf_core_get_view(g);
	vv.labels = NULL;
	/* A version out of S3's view is Coffer's history, not S3's. */
	if (vv.s3_hidden) {
		cf_core_get_close(g);
		return s3_error(mc, c, 404, "NoSuchVersion", "the specified "
		    "version does not exist (in S3's view)");
	}
	(void)snprintf(etag, sizeof(etag), "\"%.64s\"", v->md5[0] != '\0' ?
	    v->md5 : v->sha256);
	pre = preconditions(mc, v);
	if (pre == 412) {
		cf_core_get_close(g);
		return s3_error(mc, c, 412, "PreconditionFailed",
		    "at least one of the preconditions you specified did not "
		    "hold");
	}
	len = v->size;
	if (part && !v->part_found) {
		cf_core_get_close(g);
		return s3_error(mc, c, 416, "InvalidPartNumber",
		    "The requested partnumber is not satisfiable");
	}
	rng = s->head || pre != 0 || part ? 0 :
	    cf_http_parse_range(hdr(mc, "Range"), v->size, &first, &last);
	if (rng < 0) {
		cf_core_get_close(g);
		return s3_error(mc, c, 416, "InvalidRange",
		    "the requested range is not satisfiable");
	}
	if (rng > 0) {
		status = 206;
		len = last - first + 1;
	}
	/* A part: its bytes as a range of the object (an empty one, the
	 * empty whole of an empty object, as a 200 without a range). */
	if (part && v->part.size > 0) {
		status = 206;
		first = v->part.first;
		last = first + v->part.size - 1;
		len = v->part.size;
	} else if (part)
		len = 0;
	if (pre == 304) {
		status = 304;
		len = 0;
	}
	if (s->head || len == 0) {
		/* HEAD: the headers of the whole object, no body (for a
		 * HEAD libmicrohttpd sends the size given, never calling
		 * the reader). */
		resp = s->head ? MHD_create_response_from_callback(part &&
		    status != 304 ? len : v->size, 1, no_body, NULL, NULL) :
		    MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
		    MHD_RESPMEM_PERSISTENT);
		cf_core_get_close(g);
		g = NULL;
		if (resp == NULL)
			return MHD_NO;
	} else {
		rc = cf_http_object_body(c, g, first, len, &resp, &err);
		if (rc != CF_OK)
			return s3_core_error(mc, c, rc, &err);
	}
	(void)MHD_add_response_header(resp, "ETag", etag);
	if (status != 304) {
		(void)MHD_add_response_header(resp, "Content-Type",
		    cf_str_field_value_ok(v->content_type) ? v->content_type :
		    "application/octet-stream");
		/* Stored and echoed, never applied (MLflow's .gz). */
		if (v->content_encoding[0] != '\0' &&
		    cf_str_field_value_ok(v->content_encoding))
			(void)MHD_add_response_header(resp,
			    "Content-Encoding", v->content_encoding);
	}
	(void)MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if (cf_s3v_header(v->s3_null, v->version_id) != NULL)
		(void)MHD_add_response_header(resp, "x-amz-version-id",
		    cf_s3v_header(v->s3_null, v->version_id));
	http_date(v->created_us, hv);
	(void)MHD_add_response_header(resp, "Last-Modified", hv);
	if (status == 206) {
		(void)snprintf(hv, sizeof(hv), "bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)v->size);
		(void)MHD_add_response_header(resp, "Content-Range", hv);
	}
	/* S3 counts the parts of a multipart object only. */
	if (part && v->nsegs > 0) {
		(void)snprintf(hv, sizeof(hv), "%u", (unsigned)v->nsegs);
		(void)MHD_add_response_header(resp, "x-amz-mp-parts-count",
		    hv);
	}
	m = v->user_meta[0] != '\0' ? json_loads(v->user_meta, 0, NULL) :
	    NULL;
	json_object_foreach(m, k, val) {
		(void)snprintf(name, sizeof(name), "x-amz-meta-%s", k);
		if (json_is_string(val) && cf_str_field_value_ok(name) &&
		    cf_str_field_value_ok(json_string_value(val)))
			(void)MHD_add_response_header(resp, name,
			    json_string_value(val));
	}
	json_decref(m);
	checksum_headers(mc, resp, v, status);
	/* The view is g's: g is closed by the response now (or above). */
	return s3_send(mc, c, status, NULL, resp, "ok");
}

static enum MHD_Result
op_delete(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct MHD_Response *resp;
	json_t		*out = NULL;
	const char	*vid;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_object_delete(cf_http_core(c), r, s->bucket, s->key,
	    &out, &err);
	/* S3 answers 204 for a key that does not exist. */
	if (rc == CF_E_NOTFOUND && r->allowed && (r->errcode == NULL ||
	    strcmp(r->errcode, "no_such_namespace") != 0))
		rc = CF_OK;
	if (rc != CF_OK) {
		json_decref(out);
		return s3_core_error(mc, c, rc, &err);
	}
	resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		json_decref(out);
		return MHD_NO;
	}
	/* A delete marker, "null" unless the bucket is versioned. */
	vid = cf_s3v_id((int)json_integer_value(json_object_get(out,
	    "s3_null")), json_string_value(json_object_get(out,
	    "version_id")));
	if (vid != NULL) {
		(void)MHD_add_response_header(resp, "x-amz-version-id", vid);
		(void)MHD_add_response_header(resp, "x-amz-delete-marker",
		    "true");
	}
	json_decref(out);
	return s3_send(mc, c, 204, NULL, resp, "ok");
}

/* ---- bucket policies and ACLs (docs/s3.md, "Bucket policies") ---- */

static enum MHD_Result
op_policy(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	const struct cf_buf	*body = cf_http_body(c);
	struct MHD_Response	*resp;
	struct cf_error		 err;
	enum MHD_Result		 ret;
	char			*json = NULL;
	cf_err			 rc;

	cf_error_clear(&err);
	switch (s->op) {
	case OP_POLICY_PUT:
		if (!body_check(mc, c, "policy:set", true, &ret))
			return ret;
		rc = cf_core_s3_policy_put(cf_http_core(c), r, s->bucket,
		    body->data != NULL ? body->data : "", body->len, &err);
		break;
	case OP_POLICY_DELETE:
		rc = cf_core_s3_policy_delete(cf_http_core(c), r, s->bucket,
		    &err);
		break;
	default:
		rc = cf_core_s3_policy_get(cf_http_core(c), r, s->bucket,
		    &json, &err);
		break;
	}
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	if (json == NULL) {
		resp = MHD_create_response_from_buffer(0,
		    (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
		return resp == NULL ? MHD_NO : s3_send(mc, c, 204, NULL, resp,
		    "ok");
	}
	resp = MHD_create_response_from_buffer(strlen(json), json,
	    MHD_RESPMEM_MUST_COPY);
	cf_free(json);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type",
	    "application/json");
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* The request asks for an ACL other than the owner-only one in its
 * headers (a canned ACL other than private, an x-amz-grant-*). */
static enum MHD_Result
scan_grant(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	bool	*other = cls;

	(void)kind;
	(void)value;
	if (strncasecmp(key, "x-amz-grant-", 12) == 0)
		*other = true;
	return MHD_YES;
}

static const char *
acl_headers_refused(struct MHD_Connection *mc)
{
	const char	*acl = hdr(mc, "x-amz-acl");
	bool		 grant = false;

	if (acl != NULL && strcmp(acl, "private") != 0)
		return "only the private canned ACL is accepted: Coffer has "
		    "no public buckets or objects";
	(void)MHD_get_connection_values(mc, MHD_HEADER_KIND, scan_grant,
	    &grant);
	if (grant)
		return "x-amz-grant-* headers are refused: the owner's "
		    "FULL_CONTROL is the only ACL";
	return NULL;
}

static enum MHD_Result
op_acl(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	const struct cf_buf	*body = cf_http_body(c);
	const char		*vid = cf_sigv4_query_get(&s->q, "versionId");
	const char		*action = s->key[0] != '\0' ? (s->op ==
				    OP_ACL_PUT ? "object:put" : "object:head") :
				    (s->op == OP_ACL_PUT ? "policy:get" :
				    "ns:get");
	char			 owner[CF_PRINCIPAL_MAX];
	struct cf_error		 err;
	struct cf_buf		 b;
	enum MHD_Result		 ret;
	bool			 only = true;
	cf_err			 rc;

	cf_error_clear(&err);
	if (s->op == OP_ACL_PUT && !body_check(mc, c, action, true, &ret))
		return ret;
	rc = cf_core_s3_acl(cf_http_core(c), r, s->bucket, s->key, vid,
	    s->op == OP_ACL_PUT, owner, &err);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	if (s->op == OP_ACL_PUT && body->len > 0) {
		rc = cf_s3acl_owner_only(body->data, body->len, owner, &only,
		    &err);
		if (rc == CF_E_NOMEM)
			return s3_error(mc, c, 500, "InternalError",
			    "out of memory");
		if (rc != CF_OK) {
			/* SEC: the decision allowed the request; its answer
			 * is the refusal, and the record says so. */
			cf_core_reject(cf_http_core(c), r, action,
			    "malformed ACL");
			return s3_error(mc, c, 400, "MalformedACLError",
			    err.msg);
		}
	}
	if (!only) {
		cf_core_reject(cf_http_core(c), r, action, "ACL other than "
		    "the owner's");
		return s3_error(mc, c, 403, "AccessDenied", "Coffer has no "
		    "ACLs beyond the owner's FULL_CONTROL: only a private, "
		    "owner-only ACL is accepted");
	}
	if (s->op == OP_ACL_PUT) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(0,
		    (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);

		return resp == NULL ? MHD_NO : s3_send(mc, c, 200, NULL, resp,
		    "ok");
	}
	cf_buf_init(&b, 4096 + 4 * CF_PRINCIPAL_MAX);
	rc = xml_begin(&b, "AccessControlPolicy", NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "<Owner>", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "ID", owner, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "DisplayName", owner, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</Owner><AccessControlList><Grant>"
		    "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-"
		    "instance\" xsi:type=\"CanonicalUser\">", NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "ID", owner, false, NULL);
	if (rc == CF_OK)
		rc = xml_el(&b, "DisplayName", owner, false, NULL);
	if (rc == CF_OK)
		rc = cf_buf_append_str(&b, "</Grantee><Permission>FULL_CONTROL"
		    "</Permission></Grant></AccessControlList>"
		    "</AccessControlPolicy>", NULL);
	return send_xml(mc, c, 200, &b, rc);
}

/* DELETE /B/K?versionId=V: the version (V null: the null version)
 * leaves S3's view; its row, and the key's history, stay
 * (cf_core_object_version_s3_delete). */
static enum MHD_Result
op_delete_version(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_req	*r = cf_http_req(c);
	struct cf_error	 err;
	struct MHD_Response *resp;
	json_t		*out = NULL;
	cf_err		 rc;

	cf_error_clear(&err);
	rc = cf_core_object_version_s3_delete(cf_http_core(c), r, s->bucket,
	    s->key, cf_sigv4_query_get(&s->q, "versionId"), &out, &err);
	/* As S3: deleting a version that is not there is done. */
	if (rc == CF_E_NOTFOUND && r->allowed && r->errcode != NULL &&
	    strcmp(r->errcode, "no_such_version") == 0)
		rc = CF_OK;
	if (rc != CF_OK) {
		json_decref(out);
		return s3_core_error(mc, c, rc, &err);
	}
	resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		json_decref(out);
		return MHD_NO;
	}
	/* S3's id of the version (none when there was none to remove). */
	if (out != NULL)
		(void)MHD_add_response_header(resp, "x-amz-version-id",
		    cf_s3v_id((int)json_integer_value(json_object_get(out,
		    "s3_null")), str_or(json_string_value(json_object_get(
		    out, "version_id")))));
	if (json_is_true(json_object_get(out, "delete_marker")))
		(void)MHD_add_response_header(resp, "x-amz-delete-marker",
		    "true");
	json_decref(out);
	return s3_send(mc, c, 204, NULL, resp, "ok");
}

/* GET /B?versioning, PUT /B?versioning: S3's versioning state of the
 * namespace.  PUT's body is checked (body_check), parsed with expat,
 * then decided (ns:set-versioning) and recorded; every refusal is
 * recorded under that action. */
static enum MHD_Result
op_versioning(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3		*s = *cf_http_s3(c);
	struct cf_req		*r = cf_http_req(c);
	const struct cf_buf	*body = cf_http_body(c);
	struct cf_s3v_conf	 conf;
	struct cf_error		 err;
	struct cf_buf		 b;
	struct MHD_Response	*resp;
	json_t			*out = NULL;
	const char		*why = NULL;
	enum MHD_Result		 ret;
	cf_err			 rc;

	cf_error_clear(&err);
	if (s->op == OP_VERSIONING_GET) {
		rc = cf_core_ns_get(cf_http_core(c), r, s->bucket, &out, &err);
		if (rc != CF_OK)
			return s3_core_error(mc, c, rc, &err);
		cf_buf_init(&b, 4096);
		rc = cf_s3v_answer(&b, json_string_value(json_object_get(out,
		    "versioning")), NULL);
		json_decref(out);
		return send_xml(mc, c, 200, &b, rc);
	}
	if (!body_check(mc, c, "ns:set-versioning", true, &ret))
		return ret;
	rc = cf_s3v_parse(body->data, body->len, &conf, &why, &err);
	if (rc == CF_OK && conf.status[0] == '\0') {
		rc = CF_E_INPUT;
		why = "IllegalVersioningConfigurationException";
		cf_strlcpy(err.msg, "give a Status (Enabled or Suspended)",
		    sizeof(err.msg));
	}
	if (rc != CF_OK) {
		cf_core_reject(cf_http_core(c), r, "ns:set-versioning",
		    "bad PutBucketVersioning body");
		return s3_error(mc, c, rc == CF_E_NOMEM ? 500 : 400,
		    rc == CF_E_NOMEM ? "InternalError" : why, err.msg);
	}
	/* SEC: MFA Delete guards deleting versions, which S3 never may
	 * here: refused rather than pretended. */
	if (strcmp(conf.mfa_delete, "Enabled") == 0) {
		cf_core_reject(cf_http_core(c), r, "ns:set-versioning",
		    "MFA Delete asked");
		return s3_error(mc, c, 501, "NotImplemented", "MfaDelete "
		    "Enabled is not supported: no version is ever deleted "
		    "through S3 in Coffer (history is immutable), so there "
		    "is nothing for MFA Delete to guard; send MfaDelete "
		    "Disabled or leave it out");
	}
	rc = cf_core_ns_set_versioning(cf_http_core(c), r, s->bucket,
	    conf.status, &out, &err);
	json_decref(out);
	if (rc != CF_OK)
		return s3_core_error(mc, c, rc, &err);
	resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	return s3_send(mc, c, 200, NULL, resp, "ok");
}

/* ---- entry points ---- */

enum MHD_Result
cf_s3_begin(struct MHD_Connection *mc, struct conn *c, const char *method)
{
	struct cf_s3	*s;
	const char	*raw = cf_http_raw_uri(c), *qm, *p, *slash;
	char		*path = NULL;
	size_t		 plen, n;
	const char	*action;
	bool		 answered;
	enum MHD_Result	 ret;
	struct cf_error	 err;
	cf_err		 rc;

	cf_error_clear(&err);
	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return MHD_NO;
	*cf_http_s3(c) = s;
	s->head = strcmp(method, "HEAD") == 0;
	s->key = cf_calloc(1, 1);
	if (s->key == NULL || raw == NULL)
		return s3_refuse(mc, c, "out of memory", 500, "InternalError",
		    "out of memory");
	qm = strchr(raw, '?');
	plen = qm != NULL ? (size_t)(qm - raw) : strlen(raw);
	if (cf_sigv4_query_parse(qm != NULL ? qm + 1 : "", &s->q, &err) !=
	    CF_OK)
		return s3_refuse(mc, c, "bad S3 query", 400, "InvalidArgument",
		    err.msg);
	path = cf_malloc(plen + 1);
	if (path == NULL)
		return s3_refuse(mc, c, "out of memory", 500, "InternalError",
		    "out of memory");
	memcpy(path, raw, plen);
	path[plen] = '\0';
	/* /BUCKET[/KEY]: the bucket is one segment, the key the rest. */
	p = path[0] == '/' ? path + 1 : path;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n >= sizeof(s->bucket) || cf_sigv4_decode(p, n, s->bucket,
	    sizeof(s->bucket), NULL, NULL) != CF_OK) {
		cf_free(path);
		return s3_refuse(mc, c, "bad S3 bucket", 400,
		    "InvalidBucketName", "the bucket name is not valid");
	}
	if (slash != NULL && slash[1] != '\0') {
		cf_free(s->key);
		s->key = cf_malloc(strlen(slash + 1) + 1);
		if (s->key == NULL || cf_sigv4_decode(slash + 1,
		    strlen(slash + 1), s->key, strlen(slash + 1) + 1, NULL,
		    NULL) != CF_OK) {
			cf_free(path);
			if (s->key == NULL)
				s->key = cf_calloc(1, 1);
			return s3_refuse(mc, c, "bad S3 key", 400,
			    "InvalidArgument", "the object key is not valid");
		}
	}
	/* SEC: network isolation before the signature, as on REST
	 * (http.c, network_allowed): from a network the bucket's
	 * environment does not admit, an unknown key, a wrong secret and a
	 * good key all get the same refusal, audited unauthenticated. */
	if (s->bucket[0] != '\0') {
		s->op = classify(s, method, &action);
		cf_http_set_action(c, action);
		rc = cf_core_net_check(cf_http_core(c), cf_http_req(c),
		    action != NULL ? action : "unknown", s->bucket, &err);
		if (rc != CF_OK) {
			cf_free(path);
			cf_http_set_failed(c);
			if (rc == CF_E_DENIED)
				return s3_error(mc, c, 403, "AccessDenied",
				    err.msg);
			return s3_error(mc, c, 503, "ServiceUnavailable",
			    "network check unavailable");
		}
	}
	/* A GetObject or HeadObject without a body is authenticated in its
	 * final call, which comes right after this one (cf_s3_end): there
	 * its signature's key, principal and bindings, the decision and
	 * the version are read in one snapshot, one read transaction
	 * instead of two, as REST's reads are (http.c, late_read).  Should
	 * it end before that call (the server stopping), its record is an
	 * unauthenticated one: nothing was read or sent for it. */
	if (s->key[0] != '\0' && (s->op == OP_GET || s->op == OP_HEAD) &&
	    !cf_http_body_follows(mc)) {
		/* Its action was set with the network check above. */
		s->late_path = path;
		return MHD_YES;
	}
	ret = s3_authenticate(mc, c, method, path, &answered);
	cf_free(path);
	if (answered)
		return ret;
	s->op = classify(s, method, &action);
	if (s->op == OP_NONE)
		return s3_refuse(mc, c, "S3 operation not implemented", 501,
		    "NotImplemented", "a header or query you provided "
		    "requests functionality that is not implemented");
	cf_http_set_action(c, action);
	if (s->op == OP_PUT && hdr(mc, "x-amz-copy-source") != NULL) {
		/* CopyObject: object:put of the target, object:get of the
		 * source (when that is refused, the answer's decision). */
		s->op = OP_COPY;
		cf_http_set_refine(c, "object:get");
		return MHD_YES;
	}
	if (s->op == OP_MP_PART && hdr(mc, "x-amz-copy-source") != NULL) {
		/* UploadPartCopy: decided as CopyObject is, both sides. */
		s->op = OP_PART_COPY;
		cf_http_set_refine(c, "object:get");
		return MHD_YES;
	}
	if (s->op == OP_PUT || s->op == OP_MP_PART)
		return put_begin(mc, c);
	if (s->op == OP_DELETE_MANY || s->op == OP_MP_COMPLETE ||
	    s->op == OP_VERSIONING_PUT)
		cf_http_body_max(c, CF_S3XML_MAX);
	if (s->op == OP_ACL_PUT) {
		const char *why = acl_headers_refused(mc);

		if (why != NULL) {
			cf_core_reject(cf_http_core(c), cf_http_req(c), action,
			    "ACL other than the owner's");
			cf_http_set_failed(c);
			return s3_error(mc, c, 403, "AccessDenied", why);
		}
	}
	if (s->op == OP_CREATE_BUCKET) {
		const char *acl = hdr(mc, "x-amz-acl");

		if (acl != NULL && strcmp(acl, "private") != 0)
			return s3_refuse(mc, c, "canned ACL other than "
			    "private", 403, "AccessDenied", "Coffer has no "
			    "public buckets: only the private canned ACL is "
			    "accepted");
	}
	return MHD_YES;
}

static enum MHD_Result	s3_end_op(struct MHD_Connection *mc,
			    struct conn *c);

enum MHD_Result
cf_s3_end(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);
	struct cf_core	*core = cf_http_core(c);
	struct cf_req	*r = cf_http_req(c);
	enum MHD_Result	 ret;
	char		*path;
	bool		 answered, snap;

	if (s->late_path == NULL)
		return s3_end_op(mc, c);
	/* SEC: authenticated here, then decided: the same s3_authenticate
	 * and operation as when the first call authenticates. */
	path = s->late_path;
	s->late_path = NULL;
	snap = cf_core_snapshot_begin_s3(core, r);
	ret = s3_authenticate(mc, c, s->head ? "HEAD" : "GET", path,
	    &answered);
	cf_free(path);
	if (!answered)
		ret = s3_end_op(mc, c);
	if (snap)
		cf_core_snapshot_end(core, r);
	return ret;
}

static enum MHD_Result
s3_end_op(struct MHD_Connection *mc, struct conn *c)
{
	struct cf_s3	*s = *cf_http_s3(c);

	switch (s->op) {
	case OP_LIST_BUCKETS:
		return op_list_buckets(mc, c);
	case OP_CREATE_BUCKET:
	case OP_HEAD_BUCKET:
	case OP_DELETE_BUCKET:
	case OP_BUCKET_LOCATION:
		return op_bucket(mc, c);
	case OP_LIST_V1:
	case OP_LIST_V2:
		return op_list(mc, c);
	case OP_GET:
	case OP_HEAD:
		return op_get(mc, c);
	case OP_PUT:
	case OP_MP_PART:
		return put_end(mc, c);
	case OP_MP_CREATE:
		return op_mp_create(mc, c);
	case OP_MP_COMPLETE:
		return op_mp_complete(mc, c);
	case OP_MP_ABORT:
		return op_mp_abort(mc, c);
	case OP_MP_PARTS:
		return op_mp_parts(mc, c);
	case OP_MP_LIST:
		return op_mp_list(mc, c);
	case OP_DELETE:
		return op_delete(mc, c);
	case OP_DELETE_MANY:
		return op_delete_many(mc, c);
	case OP_LIST_VERSIONS:
		return op_list_versions(mc, c);
	case OP_COPY:
		return op_copy(mc, c);
	case OP_PART_COPY:
		return op_part_copy(mc, c);
	case OP_GET_TAGGING:
		return op_get_tagging(mc, c);
	case OP_POLICY_GET:
	case OP_POLICY_PUT:
	case OP_POLICY_DELETE:
		return op_policy(mc, c);
	case OP_ACL_GET:
	case OP_ACL_PUT:
		return op_acl(mc, c);
	case OP_VERSIONING_GET:
	case OP_VERSIONING_PUT:
		return op_versioning(mc, c);
	case OP_DELETE_VERSION:
		return op_delete_version(mc, c);
	case OP_ATTRIBUTES:
		return op_attributes(mc, c);
	case OP_NONE:
		break;
	}
	return s3_refuse(mc, c, "S3 operation not implemented", 501,
	    "NotImplemented", "not implemented");
}
