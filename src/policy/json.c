/* src/policy/json.c: a strict JSON reader into jansson values.
 *
 * jansson's own decoder refuses NUL bytes in object keys, but Cedar
 * strings (and so record keys) may hold them, and the Cedar corpus has
 * them.  jansson's tree stores keys with lengths, so this small reader
 * (RFC 8259, UTF-8 checked, duplicate keys rejected, nesting bounded)
 * builds the tree itself with json_object_setn_new_nocheck(). */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/mem.h"
#include "policy_int.h"

struct jr {
	const char	*s;
	size_t		 n, i;
	int		 depth;
	struct cf_error	*err;
	cf_err		 rc;
	struct cf_buf	 b;
};

static json_t *
jfail(struct jr *r, cf_err code, const char *what)
{
	size_t	i, line = 1, col = 1;

	if (r->rc != CF_OK)
		return NULL;
	for (i = 0; i < r->i && i < r->n; i++) {
		if (r->s[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	r->rc = code == CF_E_NOMEM ?
	    cf_error_set(r->err, code, "out of memory") :
	    cf_error_set(r->err, code, "%zu:%zu: %s", line, col, what);
	return NULL;
}

static void
ws(struct jr *r)
{
	while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' ||
	    r->s[r->i] == '\n' || r->s[r->i] == '\r'))
		r->i++;
}

static int
hex4(struct jr *r, uint32_t *out)
{
	uint32_t	v = 0;
	size_t		k;
	char		c;

	if (r->i + 4 > r->n)
		return -1;
	for (k = 0; k < 4; k++) {
		c = r->s[r->i + k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	r->i += 4;
	*out = v;
	return 0;
}

/* Decode a string at r->i (on the opening quote) into r->b. */
static int
jstring(struct jr *r)
{
	char		c, o[4];
	uint32_t	cp, lo;
	size_t		st, on;

	cf_buf_reset(&r->b);
	r->i++;
	for (;;) {
		st = r->i;
		while (r->i < r->n && r->s[r->i] != '"' && r->s[r->i] != '\\' &&
		    (unsigned char)r->s[r->i] >= 0x20)
			r->i++;
		if (r->i > st) {
			if (!cf_utf8_valid(r->s + st, r->i - st)) {
				jfail(r, CF_E_INPUT, "invalid UTF-8 in string");
				return -1;
			}
			if (cf_buf_append(&r->b, r->s + st, r->i - st, NULL) !=
			    CF_OK)
				goto nomem;
		}
		if (r->i >= r->n)
			break;
		c = r->s[r->i];
		if (c == '"') {
			r->i++;
			return 0;
		}
		if (c != '\\') {
			jfail(r, CF_E_INPUT, "control character in string");
			return -1;
		}
		if (++r->i >= r->n)
			break;
		c = r->s[r->i++];
		on = 1;
		switch (c) {
		case '"': o[0] = '"'; break;
		case '\\': o[0] = '\\'; break;
		case '/': o[0] = '/'; break;
		case 'b': o[0] = '\b'; break;
		case 'f': o[0] = '\f'; break;
		case 'n': o[0] = '\n'; break;
		case 'r': o[0] = '\r'; break;
		case 't': o[0] = '\t'; break;
		case 'u':
			if (hex4(r, &cp) != 0)
				goto badesc;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto badesc;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->i + 2 > r->n || r->s[r->i] != '\\' ||
				    r->s[r->i + 1] != 'u')
					goto badesc;
				r->i += 2;
				if (hex4(r, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					goto badesc;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (cp < 0x80) {
				o[0] = (char)cp;
			} else if (cp < 0x800) {
				o[0] = (char)(0xc0 | (cp >> 6));
				o[1] = (char)(0x80 | (cp & 0x3f));
				on = 2;
			} else if (cp < 0x10000) {
				o[0] = (char)(0xe0 | (cp >> 12));
				o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				o[2] = (char)(0x80 | (cp & 0x3f));
				on = 3;
			} else {
				o[0] = (char)(0xf0 | (cp >> 18));
				o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
				o[3] = (char)(0x80 | (cp & 0x3f));
				on = 4;
			}
			break;
		default:
			goto badesc;
		}
		if (cf_buf_append(&r->b, o, on, NULL) != CF_OK)
			goto nomem;
	}
	jfail(r, CF_E_INPUT, "unterminated string");
	return -1;
badesc:
	jfail(r, CF_E_INPUT, "invalid escape in string");
	return -1;
nomem:
	jfail(r, CF_E_NOMEM, "");
	return -1;
}

static json_t *jvalue(struct jr *r);

static json_t *
jnumber(struct jr *r)
{
	size_t		st = r->i, k;
	bool		neg = false, frac = false;
	uint64_t	v = 0, lim;
	char		tmp[64];
	json_t		*j;

	if (r->s[r->i] == '-') {
		neg = true;
		r->i++;
	}
	if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
		return jfail(r, CF_E_INPUT, "invalid number");
	if (r->s[r->i] == '0' && r->i + 1 < r->n && r->s[r->i + 1] >= '0' &&
	    r->s[r->i + 1] <= '9')
		return jfail(r, CF_E_INPUT, "leading zero in number");
	while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
		r->i++;
	if (r->i < r->n && r->s[r->i] == '.') {
		frac = true;
		r->i++;
		k = r->i;
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
		if (r->i == k)
			return jfail(r, CF_E_INPUT, "invalid number");
	}
	if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		frac = true;
		r->i++;
		if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
			r->i++;
		k = r->i;
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
		if (r->i == k)
			return jfail(r, CF_E_INPUT, "invalid number");
	}
	if (frac) {
		if (r->i - st >= sizeof(tmp))
			return jfail(r, CF_E_INPUT, "number too long");
		memcpy(tmp, r->s + st, r->i - st);
		tmp[r->i - st] = '\0';
		j = json_real(strtod(tmp, NULL));
		return j != NULL ? j : jfail(r, CF_E_NOMEM, "");
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (k = st + (neg ? 1 : 0); k < r->i; k++) {
		if (v > (lim - (uint64_t)(r->s[k] - '0')) / 10)
			return jfail(r, CF_E_INPUT, "integer out of range");
		v = v * 10 + (uint64_t)(r->s[k] - '0');
	}
	j = json_integer(neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
	    -(json_int_t)v) : (json_int_t)v);
	return j != NULL ? j : jfail(r, CF_E_NOMEM, "");
}

static json_t *
jobject(struct jr *r)
{
	json_t	*o, *v;
	char	*key;
	size_t	 klen;

	o = json_object();
	if (o == NULL)
		return jfail(r, CF_E_NOMEM, "");
	r->i++;
	ws(r);
	if (r->i < r->n && r->s[r->i] == '}') {
		r->i++;
		return o;
	}
	for (;;) {
		ws(r);
		if (r->i >= r->n || r->s[r->i] != '"') {
			json_decref(o);
			return jfail(r, CF_E_INPUT, "expected a string key");
		}
		if (jstring(r) != 0) {
			json_decref(o);
			return NULL;
		}
		klen = r->b.len;
		key = cf_memdup_str(r->b.data != NULL ? r->b.data : "", klen);
		if (key == NULL) {
			json_decref(o);
			return jfail(r, CF_E_NOMEM, "");
		}
		if (json_object_getn(o, key, klen) != NULL) {
			cf_free(key);
			json_decref(o);
			return jfail(r, CF_E_INPUT, "duplicate object key");
		}
		ws(r);
		if (r->i >= r->n || r->s[r->i] != ':') {
			cf_free(key);
			json_decref(o);
			return jfail(r, CF_E_INPUT, "expected `:`");
		}
		r->i++;
		v = jvalue(r);
		if (v == NULL ||
		    json_object_setn_new_nocheck(o, key, klen, v) != 0) {
			if (v != NULL)
				(void)jfail(r, CF_E_NOMEM, "");
			cf_free(key);
			json_decref(o);
			return NULL;
		}
		cf_free(key);
		ws(r);
		if (r->i < r->n && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->n && r->s[r->i] == '}') {
			r->i++;
			return o;
		}
		json_decref(o);
		return jfail(r, CF_E_INPUT, "expected `,` or `}`");
	}
}

static json_t *
jarray(struct jr *r)
{
	json_t	*a, *v;

	a = json_array();
	if (a == NULL)
		return jfail(r, CF_E_NOMEM, "");
	r->i++;
	ws(r);
	if (r->i < r->n && r->s[r->i] == ']') {
		r->i++;
		return a;
	}
	for (;;) {
		v = jvalue(r);
		if (v == NULL || json_array_append_new(a, v) != 0) {
			if (v != NULL)
				(void)jfail(r, CF_E_NOMEM, "");
			json_decref(a);
			return NULL;
		}
		ws(r);
		if (r->i < r->n && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->n && r->s[r->i] == ']') {
			r->i++;
			return a;
		}
		json_decref(a);
		return jfail(r, CF_E_INPUT, "expected `,` or `]`");
	}
}

static json_t *
jvalue(struct jr *r)
{
	json_t	*v;

	ws(r);
	if (r->i >= r->n)
		return jfail(r, CF_E_INPUT, "unexpected end of input");
	if (++r->depth > CF_POLICY_MAX_JSON_DEPTH + 8) {
		r->depth--;
		return jfail(r, CF_E_LIMIT, "JSON nested too deeply");
	}
	switch (r->s[r->i]) {
	case '{':
		v = jobject(r);
		break;
	case '[':
		v = jarray(r);
		break;
	case '"':
		if (jstring(r) != 0) {
			v = NULL;
			break;
		}
		v = json_stringn_nocheck(r->b.data != NULL ? r->b.data : "",
		    r->b.len);
		if (v == NULL)
			(void)jfail(r, CF_E_NOMEM, "");
		break;
	case 't':
	case 'f':
	case 'n':
		if (r->n - r->i >= 4 && memcmp(r->s + r->i, "true", 4) == 0) {
			r->i += 4;
			v = json_true();
		} else if (r->n - r->i >= 5 &&
		    memcmp(r->s + r->i, "false", 5) == 0) {
			r->i += 5;
			v = json_false();
		} else if (r->n - r->i >= 4 &&
		    memcmp(r->s + r->i, "null", 4) == 0) {
			r->i += 4;
			v = json_null();
		} else
			v = jfail(r, CF_E_INPUT, "invalid literal");
		break;
	default:
		if (r->s[r->i] == '-' || (r->s[r->i] >= '0' &&
		    r->s[r->i] <= '9'))
			v = jnumber(r);
		else
			v = jfail(r, CF_E_INPUT, "unexpected character");
		break;
	}
	r->depth--;
	return v;
}

cf_err
cf_pol_json_load(const char *json, size_t len, json_t **out,
    struct cf_error *err)
{
	struct jr	 r;
	json_t		*v;

	if (len > CF_POLICY_MAX_JSON)
		return cf_error_set(err, CF_E_LIMIT, "JSON of %zu bytes "
		    "exceeds the limit", len);
	memset(&r, 0, sizeof(r));
	r.s = json != NULL ? json : "";
	r.n = len;
	r.err = err;
	cf_buf_init(&r.b, CF_POLICY_MAX_JSON);
	v = jvalue(&r);
	if (v != NULL) {
		ws(&r);
		if (r.i != r.n) {
			json_decref(v);
			v = jfail(&r, CF_E_INPUT, "trailing data after JSON");
		}
	}
	cf_buf_free(&r.b);
	if (v == NULL)
		return r.rc != CF_OK ? r.rc :
		    cf_error_set(err, CF_E_INTERNAL, "JSON reader failed");
	*out = v;
	return CF_OK;
}

cf_err
cf_policy_json_parse(const char *json, size_t len, json_t **out,
    struct cf_error *err)
{
	return cf_pol_json_load(json, len, out, err);
}
