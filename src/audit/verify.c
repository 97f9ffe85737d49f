/* src/audit/verify.c: checking records and checkpoints, and the offline
 * verifier (cf_audit_verify).  Everything read here is untrusted: the log
 * may have been edited by anyone with access to the disk. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/audit_int.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/timeutil.h"

static const uint8_t	zero_mac[CF_MAC_LEN];

static bool
lower_hex(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Split p[0..len) into the canonical part and its final MAC member named
 * name (with prefix ,"name":"); returns the canonical length or 0. */
static size_t
split_tail(const char *p, size_t len, const char *prefix, size_t plen,
    uint8_t mac[CF_MAC_LEN])
{
	const char	*t;
	size_t		 tl = plen + AUDIT_MAC_HEX + 2;

	if (len <= tl + 1 || p[0] != '{')
		return 0;
	t = p + len - tl;
	if (memcmp(t, prefix, plen) != 0 || t[tl - 2] != '"' ||
	    t[tl - 1] != '}' || !lower_hex(t + plen, AUDIT_MAC_HEX))
		return 0;
	if (cf_hex_decode(t + plen, AUDIT_MAC_HEX, mac, CF_MAC_LEN, NULL) !=
	    CF_OK)
		return 0;
	return len - tl;
}

/* Compare the MAC of p[0..canon) with want in constant time. */
static cf_err
mac_ok(const struct cf_key *k, const char *p, size_t canon,
    const uint8_t want[CF_MAC_LEN], bool *ok, struct cf_error *err)
{
	uint8_t	got[CF_MAC_LEN];
	cf_err	rc;

	rc = cf_audit_mac_canon(k, p, canon, got, err);
	if (rc != CF_OK)
		return rc;
	*ok = cf_ct_equal(got, want, CF_MAC_LEN);
	return CF_OK;
}

static bool
get_hex_mac(json_t *v, uint8_t out[CF_MAC_LEN])
{
	const char	*s;

	if (!json_is_string(v) || json_string_length(v) != AUDIT_MAC_HEX)
		return false;
	s = json_string_value(v);
	if (!lower_hex(s, AUDIT_MAC_HEX))
		return false;
	return cf_hex_decode(s, AUDIT_MAC_HEX, out, CF_MAC_LEN, NULL) ==
	    CF_OK;
}

enum ftype { T_UINT, T_INT, T_STR, T_BOOL, T_MAC, T_OBJ };

static const struct field {
	const char	*name;
	enum ftype	 type;
} rec_fields[] = {
	{ "seq", T_UINT }, { "time", T_STR }, { "request_id", T_STR },
	{ "principal", T_STR }, { "authn", T_STR }, { "mfa", T_BOOL },
	{ "source", T_STR }, { "action", T_STR }, { "resource", T_STR },
	{ "decision", T_STR }, { "reasons", T_STR }, { "status", T_INT },
	{ "result", T_STR }, { "bytes", T_UINT }, { "prev", T_MAC },
	{ "mac", T_MAC },
};

/* Records of decisions carry their inputs too (since the policy replay
 * tool): the same members with "ctx" before "prev". */
static const struct field rec_fields_ctx[] = {
	{ "seq", T_UINT }, { "time", T_STR }, { "request_id", T_STR },
	{ "principal", T_STR }, { "authn", T_STR }, { "mfa", T_BOOL },
	{ "source", T_STR }, { "action", T_STR }, { "resource", T_STR },
	{ "decision", T_STR }, { "reasons", T_STR }, { "status", T_INT },
	{ "result", T_STR }, { "bytes", T_UINT }, { "ctx", T_OBJ },
	{ "prev", T_MAC }, { "mac", T_MAC },
};

static bool
shape_ok(json_t *o, const struct field *f, size_t nf)
{
	void	*it;
	size_t	 i;
	json_t	*v;
	uint8_t	 m[CF_MAC_LEN];

	if (!json_is_object(o) || json_object_size(o) != nf)
		return false;
	/* jansson keeps members in document order (since 2.8). */
	for (i = 0, it = json_object_iter(o); i < nf;
	    i++, it = json_object_iter_next(o, it)) {
		if (it == NULL ||
		    strcmp(json_object_iter_key(it), f[i].name) != 0)
			return false;
		v = json_object_iter_value(it);
		switch (f[i].type) {
		case T_UINT:
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return false;
			break;
		case T_INT:
			if (!json_is_integer(v))
				return false;
			break;
		case T_STR:
			if (!json_is_string(v))
				return false;
			break;
		case T_BOOL:
			if (!json_is_boolean(v))
				return false;
			break;
		case T_MAC:
			if (!get_hex_mac(v, m))
				return false;
			break;
		case T_OBJ:
			if (!json_is_object(v))
				return false;
			break;
		}
	}
	return true;
}

cf_err
cf_audit_check_line(const struct cf_key *rec_key, const char *line,
    size_t len, struct audit_line *out, const char **why)
{
	static const char	 prefix[] = ",\"mac\":\"";
	json_t			*o = NULL;
	json_error_t		 jerr;
	struct audit_line	 l;
	size_t			 canon;
	bool			 ok = false;
	cf_err			 rc = CF_E_INTEGRITY;

	*why = "malformed (no final mac member)";
	canon = split_tail(line, len, prefix, sizeof(prefix) - 1, l.mac);
	if (canon == 0)
		goto out;
	rc = mac_ok(rec_key, line, canon, l.mac, &ok, NULL);
	if (rc != CF_OK) {
		*why = rc == CF_E_NOMEM ? "out of memory" :
		    "cannot compute MAC";
		goto out;
	}
	rc = CF_E_INTEGRITY;
	if (!ok) {
		*why = "mac mismatch (edited or forged?)";
		goto out;
	}
	/* Authentic from here on: a failure below is a writer bug or a
	 * leaked key, not an edit. */
	*why = "authentic but malformed record";
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL || (!shape_ok(o, rec_fields,
	    sizeof(rec_fields) / sizeof(rec_fields[0])) &&
	    !shape_ok(o, rec_fields_ctx,
	    sizeof(rec_fields_ctx) / sizeof(rec_fields_ctx[0]))))
		goto out;
	l.seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	if (l.seq == 0 || !get_hex_mac(json_object_get(o, "prev"), l.prev))
		goto out;
	*out = l;
	*why = NULL;
	rc = CF_OK;
out:
	json_decref(o);
	return rc;
}

cf_err
cf_audit_ckpt_format(const struct cf_key *ckpt_key,
    const struct audit_ckpt *c, struct cf_buf *b, struct cf_error *err)
{
	struct cf_hmac	*h = NULL;
	char		 line[AUDIT_CKPT_LINE_MAX];
	size_t		 n;
	cf_err		 rc;

	rc = cf_hmac_new(ckpt_key, &h, err);
	if (rc != CF_OK)
		return rc;
	n = cf_audit_ckpt_text(h, c, line);
	cf_hmac_free(h);
	return cf_buf_append(b, line, n, err);
}

static const struct field ckpt_fields[] = {
	{ "seq", T_UINT }, { "mac", T_MAC }, { "time", T_STR },
	{ "sig", T_MAC },
};

cf_err
cf_audit_ckpt_parse(const struct cf_key *ckpt_key, const void *p, size_t len,
    struct audit_ckpt *out, struct cf_error *err)
{
	static const char	 prefix[] = ",\"sig\":\"";
	const char		*s = p;
	json_t			*o = NULL;
	json_error_t		 jerr;
	struct audit_ckpt	 c;
	uint8_t			 sig[CF_MAC_LEN];
	size_t			 canon;
	bool			 ok = false;
	cf_err			 rc;

	if (len > AUDIT_CKPT_MAX)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "checkpoint: malformed");
	/* The padding of an in-place write (AUDIT_CKPT_SLOT). */
	while (len > 0 && s[len - 1] == '\0')
		len--;
	if (len == 0 || s[len - 1] != '\n')
		return cf_error_set(err, CF_E_INTEGRITY,
		    "checkpoint: malformed");
	len--;
	canon = split_tail(s, len, prefix, sizeof(prefix) - 1, sig);
	if (canon == 0)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "checkpoint: malformed (no signature)");
	rc = mac_ok(ckpt_key, s, canon, sig, &ok, err);
	if (rc != CF_OK)
		return rc;
	if (!ok)
		return cf_error_set(err, CF_E_INTEGRITY,
		    "checkpoint: bad signature (edited or forged?)");
	rc = CF_E_INTEGRITY;
	o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL || !shape_ok(o, ckpt_fields,
	    sizeof(ckpt_fields) / sizeof(ckpt_fields[0])) ||
	    !get_hex_mac(json_object_get(o, "mac"), c.mac) ||
	    cf_time_parse(json_string_value(json_object_get(o, "time")),
	    &c.time_us, NULL) != CF_OK) {
		rc = cf_error_set(err, CF_E_INTEGRITY,
		    "checkpoint: authentic but malformed");
		goto out;
	}
	c.seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	*out = c;
	rc = CF_OK;
out:
	json_decref(o);
	return rc;
}

/* The verifier: fed one line at a time, oldest first. */
struct vstate {
	struct audit_keys	keys;
	bool			borrowed;	/* keys are the caller's */
	uint64_t		n;		/* records accepted */
	uint8_t			last[CF_MAC_LEN];
	bool			have_ckpt;	/* present and authentic */
	bool			ck_missing;	/* no checkpoint file */
	struct audit_ckpt	ck;
	struct cf_error		ck_err;		/* why it is not */
};

/* keys (nullable): the record and checkpoint keys, borrowed; otherwise
 * they are derived from mac_key. */
static cf_err
vstate_init(struct vstate *v, const struct cf_key *mac_key,
    const struct audit_keys *keys, const void *ckpt, size_t ckptlen,
    struct cf_error *err)
{
	cf_err	rc;

	memset(v, 0, sizeof(*v));
	if (keys != NULL) {
		v->keys = *keys;
		v->borrowed = true;
	} else {
		rc = cf_audit_keys_derive(mac_key, &v->keys, err);
		if (rc != CF_OK)
			return rc;
	}
	if (ckpt == NULL) {
		v->ck_missing = true;
		(void)cf_error_set(&v->ck_err, CF_E_INTEGRITY,
		    "checkpoint missing (deleted?)");
		return CF_OK;
	}
	rc = cf_audit_ckpt_parse(v->keys.ckpt, ckpt, ckptlen, &v->ck,
	    &v->ck_err);
	if (rc == CF_OK)
		v->have_ckpt = true;
	else if (rc != CF_E_INTEGRITY) {
		if (!v->borrowed)
			cf_audit_keys_free(&v->keys);
		return cf_error_set(err, rc, "%s", v->ck_err.msg);
	}
	return CF_OK;
}

static cf_err
vstate_feed(struct vstate *v, const char *line, size_t len,
    uint64_t *bad_seq, struct cf_error *err)
{
	struct audit_line	 l;
	const char		*why;
	uint64_t		 no = v->n + 1;
	cf_err			 rc;

	*bad_seq = no;
	rc = cf_audit_check_line(v->keys.rec, line, len, &l, &why);
	if (rc != CF_OK)
		return cf_error_set(err, rc, "record %" PRIu64 ": %s", no,
		    why);
	if (l.seq != no) {
		if (l.seq == v->n && v->n > 0)
			return cf_error_set(err, CF_E_INTEGRITY,
			    "record %" PRIu64 ": seq %" PRIu64
			    " repeats (duplicated?)", no, l.seq);
		return cf_error_set(err, CF_E_INTEGRITY,
		    "record %" PRIu64 ": seq %" PRIu64 " follows %" PRIu64
		    " (deleted, inserted or reordered?)", no, l.seq, v->n);
	}
	if (!cf_ct_equal(l.prev, v->last, CF_MAC_LEN))
		return cf_error_set(err, CF_E_INTEGRITY,
		    "record %" PRIu64 ": prev does not match the mac of "
		    "record %" PRIu64 " (chain broken)", no, v->n);
	if (v->have_ckpt && v->ck.seq == no &&
	    !cf_ct_equal(v->ck.mac, l.mac, CF_MAC_LEN))
		return cf_error_set(err, CF_E_INTEGRITY,
		    "record %" PRIu64 ": differs from the checkpoint "
		    "(log replaced?)", no);
	memcpy(v->last, l.mac, CF_MAC_LEN);
	v->n = no;
	return CF_OK;
}

static cf_err
vstate_finish(struct vstate *v, uint64_t *count, uint64_t *bad_seq,
    struct cf_error *err)
{
	if (!v->have_ckpt) {
		/* A log without records needs no checkpoint. */
		if (v->n == 0 && v->ck_missing) {
			*count = 0;
			return CF_OK;
		}
		*bad_seq = 0;
		return cf_error_set(err, CF_E_INTEGRITY, "%s", v->ck_err.msg);
	}
	if (v->ck.seq > v->n) {
		*bad_seq = v->n + 1;
		return cf_error_set(err, CF_E_INTEGRITY,
		    "log ends at %" PRIu64 " but checkpoint says %" PRIu64
		    " (truncated?)", v->n, v->ck.seq);
	}
	if (v->ck.seq == 0 && !cf_ct_equal(v->ck.mac, zero_mac, CF_MAC_LEN)) {
		*bad_seq = 0;
		return cf_error_set(err, CF_E_INTEGRITY,
		    "checkpoint: authentic but malformed");
	}
	*count = v->n;
	return CF_OK;
}

static void
vstate_free(struct vstate *v)
{
	if (!v->borrowed)
		cf_audit_keys_free(&v->keys);
}

cf_err
cf_audit_verify_buf(const struct cf_key *mac_key, const void *log,
    size_t loglen, const void *ckpt, size_t ckptlen, uint64_t *count,
    uint64_t *bad_seq, struct cf_error *err)
{
	struct vstate	 v;
	const char	*p = log, *end = p + loglen, *nl;
	uint64_t	 bad = 0;
	cf_err		 rc;

	rc = vstate_init(&v, mac_key, NULL, ckpt, ckptlen, err);
	if (rc != CF_OK)
		goto out;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		/* A final fragment without a newline is a write torn by a
		 * crash: never acknowledged, so not a record.  Too long a
		 * line is refused either way, as by the file reader. */
		if (nl == NULL && (size_t)(end - p) <= AUDIT_LINE_MAX)
			break;
		if ((size_t)((nl != NULL ? nl : end) - p) > AUDIT_LINE_MAX) {
			bad = v.n + 1;
			rc = cf_error_set(err, CF_E_INTEGRITY,
			    "record %" PRIu64 ": line too long", bad);
			goto out;
		}
		rc = vstate_feed(&v, p, (size_t)(nl - p), &bad, err);
		if (rc != CF_OK)
			goto out;
		p = nl + 1;
	}
	rc = vstate_finish(&v, count, &bad, err);
out:
	if (rc == CF_E_INTEGRITY && bad_seq != NULL)
		*bad_seq = bad;
	vstate_free(&v);
	return rc;
}

cf_err
cf_audit_verify(const char *dir, const struct cf_key *mac_key,
    uint64_t *count, uint64_t *bad_seq, struct cf_error *err)
{
	if (mac_key == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit verify: bad args");
	return cf_audit_verify_keys(dir, mac_key, NULL, count, bad_seq, NULL,
	    err);
}

cf_err
cf_audit_verify_keys(const char *dir, const struct cf_key *mac_key,
    const struct audit_keys *keys, uint64_t *count, uint64_t *bad_seq,
    struct audit_ckpt *ck_out, struct cf_error *err)
{
	struct vstate	 v;
	struct audit_lr	 lr;
	struct cf_error	 lerr;
	char		 path[4096];
	char		*ck = NULL;
	const char	*line;
	size_t		 cklen = 0, len;
	uint64_t	 bad = 0;
	bool		 nl, vinit = false;
	int		 dfd = -1, fd = -1;
	cf_err		 rc;

	memset(&lr, 0, sizeof(lr));
	if (dir == NULL || (mac_key == NULL && keys == NULL) || count == NULL)
		return cf_error_set(err, CF_E_INVAL, "audit verify: bad args");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_DIR) >=
	    sizeof(path))
		return cf_error_set(err, CF_E_LIMIT, "path too long");
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		rc = cf_error_sys(err, errno == ENOENT ? CF_E_NOTFOUND :
		    CF_E_IO, "open %s", path);
		goto out;
	}
	/* The checkpoint first: it only ever names durable records, so a
	 * log read after it is at least as long (with a live server). */
	rc = cf_audit_read_small(dfd, AUDIT_CKPT, AUDIT_CKPT_MAX, &ck, &cklen,
	    err);
	if (rc != CF_OK)
		goto out;
	fd = openat(dfd, AUDIT_LOG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && (errno != ENOENT || ck == NULL)) {
		rc = cf_error_sys(err, errno == ENOENT ? CF_E_NOTFOUND :
		    CF_E_IO, "open %s/%s", path, AUDIT_LOG);
		goto out;
	}
	rc = vstate_init(&v, mac_key, keys, ck, cklen, err);
	if (rc != CF_OK)
		goto out;
	vinit = true;
	if (fd != -1) {
		rc = cf_audit_lr_init(&lr, fd, 0, err);
		if (rc != CF_OK)
			goto out;
		for (;;) {
			cf_error_clear(&lerr);
			rc = cf_audit_lr_next(&lr, &line, &len, &nl, &lerr);
			if (rc == CF_E_INPUT) {
				bad = v.n + 1;
				rc = cf_error_set(err, CF_E_INTEGRITY,
				    "record %" PRIu64 ": %s", bad, lerr.msg);
			} else if (rc != CF_OK)
				rc = cf_error_set(err, rc, "%s", lerr.msg);
			/* A final fragment without a newline: see above. */
			if (rc != CF_OK || line == NULL || !nl)
				break;
			rc = vstate_feed(&v, line, len, &bad, err);
			if (rc != CF_OK)
				break;
		}
		if (rc != CF_OK)
			goto out;
	}
	rc = vstate_finish(&v, count, &bad, err);
	if (rc == CF_OK && ck_out != NULL)
		*ck_out = v.ck;		/* zeros for an empty log */
out:
	if (rc == CF_E_INTEGRITY && bad_seq != NULL)
		*bad_seq = bad;
	if (vinit)
		vstate_free(&v);
	cf_audit_lr_free(&lr);
	cf_free(ck);
	if (fd != -1)
		(void)close(fd);
	if (dfd != -1)
		(void)close(dfd);
	return rc;
}
