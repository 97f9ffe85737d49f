/* src/crypto/password.c: argon2id password hashes (libsodium) and the
 * password policy; see password.h and docs/internals/IDENTITY.md.
 *
 * SEC: the password bytes are only ever read in place or copied into stack
 * buffers that are wiped at the exit label; nothing here allocates a copy
 * of a password on the heap. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/password.h"
#include "crypto/password_int.h"

_Static_assert(CF_PWHASH_STR_MAX == crypto_pwhash_argon2id_STRBYTES,
    "CF_PWHASH_STR_MAX must match libsodium");

#define PREFIX		"$argon2id$v=19$m="
#define COMMON_MAX	64	/* longer than any shipped common password */
/* The strength rules of cf_password_check (password.h has the contract;
 * docs/authentication.md the policy in words). */
#define DISTINCT_MIN	5	/* different characters */
#define UNPREDICTABLE_MIN 8	/* see unpredictable(); min_len - 2 if lower */
#define PATTERN_MIN	3	/* shortest run or repeated part counted */
#define USER_NAME_MIN	3	/* shortest name the containment rule uses */

/* The dummy hash for unknown users, one per distinct cost setting. */
static pthread_mutex_t	dummy_mu = PTHREAD_MUTEX_INITIALIZER;
static char		dummy_str[CF_PWHASH_STR_MAX];
static struct cf_pwhash_params dummy_params;
static int		dummy_set;

/* The test hook of password_int.h; NULL in production. */
static struct cf_pwverify_trace *trace;

void
cf_password_test_trace(struct cf_pwverify_trace *t)
{
	trace = t;
}

void
cf_pwhash_params_default(struct cf_pwhash_params *p)
{
	p->ops = CF_PWHASH_OPS_DEFAULT;
	p->mem = CF_PWHASH_MEM_DEFAULT;
}

cf_err
cf_pwhash_params_check(const struct cf_pwhash_params *p,
    struct cf_error *err)
{
	if (p->ops < CF_PWHASH_OPS_MIN || p->ops > CF_PWHASH_OPS_MAX)
		return cf_error_set(err, CF_E_INVAL,
		    "argon2id passes %llu outside [%d, %d]",
		    (unsigned long long)p->ops, CF_PWHASH_OPS_MIN,
		    CF_PWHASH_OPS_MAX);
	if (p->mem < CF_PWHASH_MEM_MIN || p->mem > CF_PWHASH_MEM_MAX)
		return cf_error_set(err, CF_E_INVAL,
		    "argon2id memory %zu bytes outside [%u, %u]", p->mem,
		    CF_PWHASH_MEM_MIN, CF_PWHASH_MEM_MAX);
	return CF_OK;
}

/* Resolve NULL to the defaults and check the range. */
static cf_err
params_get(const struct cf_pwhash_params *p, struct cf_pwhash_params *out,
    struct cf_error *err)
{
	if (p == NULL)
		cf_pwhash_params_default(out);
	else
		*out = *p;
	return cf_pwhash_params_check(out, err);
}

/* Parse a decimal field of at most 10 digits at *s, ending at `end`. */
static int
parse_field(const char **s, char end, uint64_t *out)
{
	const char	*q = *s;
	uint64_t	 v = 0;
	int		 n = 0;

	while (*q >= '0' && *q <= '9' && n < 10) {
		v = v * 10 + (uint64_t)(*q - '0');
		q++;
		n++;
	}
	if (n == 0 || (n > 1 && (*s)[0] == '0') || *q != end)
		return -1;
	*s = q + 1;
	*out = v;
	return 0;
}

/* SEC: accept only "$argon2id$v=19$m=M,t=T,p=1$..." with M and T inside
 * the configured maxima, so a tampered or foreign row can neither
 * downgrade to argon2i/d nor make a login allocate gigabytes. */
static cf_err
stored_check(const char *stored, struct cf_pwhash_params *costs,
    struct cf_error *err)
{
	const char	*s;
	uint64_t	 m, t, p;

	if (stored == NULL ||
	    strnlen(stored, CF_PWHASH_STR_MAX) >= CF_PWHASH_STR_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "stored password hash missing or too long");
	if (!cf_str_has_prefix(stored, PREFIX))
		return cf_error_set(err, CF_E_INPUT,
		    "stored password hash is not argon2id v19");
	s = stored + strlen(PREFIX);
	if (parse_field(&s, ',', &m) != 0 || s[0] != 't' || s[1] != '=')
		goto bad;
	s += 2;
	if (parse_field(&s, ',', &t) != 0 || s[0] != 'p' || s[1] != '=')
		goto bad;
	s += 2;
	if (parse_field(&s, '$', &p) != 0 || p != 1)
		goto bad;
	if (m < 8 || m > CF_PWHASH_MEM_MAX / 1024 || t < 1 ||
	    t > CF_PWHASH_OPS_MAX)
		return cf_error_set(err, CF_E_INPUT,
		    "stored password hash costs out of range");
	if (costs != NULL) {
		costs->mem = (size_t)m * 1024;
		costs->ops = t;
	}
	return CF_OK;
bad:
	return cf_error_set(err, CF_E_INPUT,
	    "stored password hash is malformed");
}

/* The one argon2id verification, for real users and the dummy alike, so
 * the test hook sees exactly the work a login does.  0 on a match. */
static int
kdf_verify(const char *stored, const void *pw, size_t len)
{
	struct cf_pwhash_params	costs;

	if (trace != NULL) {
		trace->n++;
		if (stored_check(stored, &costs, NULL) == CF_OK)
			trace->last = costs;
	}
	/* SEC: libsodium recomputes the hash and compares in constant time
	 * (crypto_verify_32). */
	return crypto_pwhash_str_verify(stored, pw == NULL ? "" : pw,
	    (unsigned long long)len);
}

cf_err
cf_password_hash(const void *pw, size_t len,
    const struct cf_pwhash_params *p, char out[CF_PWHASH_STR_MAX],
    struct cf_error *err)
{
	struct cf_pwhash_params	 prm;
	char			 tmp[CF_PWHASH_STR_MAX];
	cf_err			 rc;

	if (len > CF_PASSWORD_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "password longer than %d bytes", CF_PASSWORD_MAX);
	if (pw == NULL && len != 0)
		return cf_error_set(err, CF_E_INVAL, "NULL password");
	rc = params_get(p, &prm, err);
	if (rc != CF_OK)
		goto out;
	rc = cf_crypto_ready(err);
	if (rc != CF_OK)
		goto out;
	if (crypto_pwhash_str_alg(tmp, pw == NULL ? "" : pw,
	    (unsigned long long)len, prm.ops, prm.mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		/* libsodium fails here only when it cannot allocate. */
		rc = cf_error_set(err, CF_E_NOMEM,
		    "argon2id: cannot allocate %zu bytes", prm.mem);
		goto out;
	}
	memcpy(out, tmp, sizeof(tmp));
out:
	cf_wipe(tmp, sizeof(tmp));
	return rc;
}

cf_err
cf_password_verify(const char *stored, const void *pw, size_t len,
    struct cf_error *err)
{
	cf_err	rc;

	if (len > CF_PASSWORD_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "password longer than %d bytes", CF_PASSWORD_MAX);
	if (pw == NULL && len != 0)
		return cf_error_set(err, CF_E_INVAL, "NULL password");
	rc = stored_check(stored, NULL, err);
	if (rc != CF_OK)
		return rc;
	rc = cf_crypto_ready(err);
	if (rc != CF_OK)
		return rc;
	if (kdf_verify(stored, pw, len) != 0)
		return cf_error_set(err, CF_E_AUTH, "wrong password");
	return CF_OK;
}

/* Copy the dummy hash for prm into out, computing it on first use. */
static cf_err
dummy_get(const struct cf_pwhash_params *prm, char out[CF_PWHASH_STR_MAX],
    struct cf_error *err)
{
	uint8_t	rnd[32];
	cf_err	rc = CF_OK;

	(void)pthread_mutex_lock(&dummy_mu);
	if (!dummy_set || dummy_params.ops != prm->ops ||
	    dummy_params.mem != prm->mem) {
		/* A random password nobody knows: the verification below
		 * can never succeed, yet costs what a real one costs. */
		rc = cf_random(rnd, sizeof(rnd), err);
		if (rc != CF_OK)
			goto out;
		rc = cf_password_hash(rnd, sizeof(rnd), prm, dummy_str, err);
		if (rc != CF_OK)
			goto out;
		dummy_params = *prm;
		dummy_set = 1;
	}
	memcpy(out, dummy_str, CF_PWHASH_STR_MAX);
out:
	(void)pthread_mutex_unlock(&dummy_mu);
	cf_wipe(rnd, sizeof(rnd));
	return rc;
}

cf_err
cf_password_verify_dummy(const void *pw, size_t len,
    const struct cf_pwhash_params *p, struct cf_error *err)
{
	struct cf_pwhash_params	 prm;
	char			 dummy[CF_PWHASH_STR_MAX];
	int			 vr;
	cf_err			 rc;

	if (len > CF_PASSWORD_MAX)
		return cf_error_set(err, CF_E_LIMIT,
		    "password longer than %d bytes", CF_PASSWORD_MAX);
	rc = params_get(p, &prm, err);
	if (rc != CF_OK)
		return rc;
	rc = dummy_get(&prm, dummy, err);
	if (rc != CF_OK)
		return rc;
	/* SEC: same work as cf_password_verify() for a real user; the
	 * result is ignored and the answer is always "wrong password". */
	vr = kdf_verify(dummy, pw, len);
	(void)vr;
	return cf_error_set(err, CF_E_AUTH, "wrong password");
}

bool
cf_password_needs_rehash(const char *stored, const struct cf_pwhash_params *p)
{
	struct cf_pwhash_params	prm, costs;

	if (params_get(p, &prm, NULL) != CF_OK)
		return true;
	if (stored_check(stored, &costs, NULL) != CF_OK)
		return true;
	return costs.ops != prm.ops || costs.mem != prm.mem;
}

void
cf_password_policy_default(struct cf_password_policy *pol)
{
	pol->min_len = CF_PASSWORD_MIN_DEFAULT;
	pol->max_len = CF_PASSWORD_MAX;
	pol->check_common = true;
	pol->check_strength = true;
}

static int
cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

bool
cf_password_is_common(const void *pw, size_t len)
{
	const unsigned char	*b = pw;
	char			 buf[COMMON_MAX + 1];
	bool			 found = false;
	size_t			 i;

	if (pw == NULL || len == 0 || len > COMMON_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (b[i] == '\0')
			goto out;
		buf[i] = (char)lower(b[i]);
	}
	buf[len] = '\0';
	found = bsearch(buf, cf_common_passwords, cf_common_passwords_n,
	    sizeof(cf_common_passwords[0]), cmp_word) != NULL;
out:
	cf_wipe(buf, sizeof(buf));
	return found;
}

/* True when the UTF-8 text has a C0 or C1 control character or DEL. */
static bool
has_control(const unsigned char *b, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (b[i] < 0x20 || b[i] == 0x7f)
			return true;
		/* U+0080..U+009F are encoded C2 80..C2 9F. */
		if (b[i] == 0xc2 && i + 1 < len && b[i + 1] >= 0x80 &&
		    b[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/* Decode valid UTF-8 b[0..len) into code points, ASCII lower-cased;
 * returns the count. */
static size_t
code_points(const unsigned char *b, size_t len, uint32_t *cp)
{
	size_t		i = 0, n = 0, k, more;
	uint32_t	c;

	while (i < len) {
		c = b[i];
		more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		c &= more == 3 ? 0x07 : more == 2 ? 0x0f : more == 1 ? 0x1f :
		    0x7f;
		for (k = 1; k <= more && i + k < len; k++)
			c = (c << 6) | (b[i + k] & 0x3f);
		i += more + 1;
		cp[n++] = c < 0x80 ? lower((unsigned char)c) : c;
	}
	return n;
}

/* Row and column of c on a US QWERTY keyboard, shifted or not (letters
 * are lower case by now); false when c is not on one. */
static bool
key_pos(uint32_t c, int *row, int *col)
{
	static const char *const rows[2][4] = {
		{ "1234567890-=", "qwertyuiop[]", "asdfghjkl;'",
		  "zxcvbnm,./" },
		{ "!@#$%^&*()_+", "qwertyuiop{}", "asdfghjkl:\"",
		  "zxcvbnm<>?" },
	};
	const char	*p;
	int		 s, r;

	if (c == 0 || c >= 0x80)
		return false;
	for (s = 0; s < 2; s++)
		for (r = 0; r < 4; r++) {
			p = strchr(rows[s][r], (int)c);
			if (p != NULL) {
				*row = r;
				*col = (int)(p - rows[s][r]);
				return true;
			}
		}
	return false;
}

/* The kinds of run the strength estimate knows. */
enum run_kind {
	RUN_REPEAT,		/* aaa, 111 */
	RUN_UP,			/* abc, 123 */
	RUN_DOWN,		/* cba, 321 */
	RUN_KEYS,		/* qwe, asd, 1qa, zaq: neighbouring keys */
	RUN_KINDS
};

/* True when b continues a run of kind k after a.  Keyboard rows are
 * staggered: from one row, the keys below are at the same column and one
 * to the left (q: a; s: x and z), the keys above at the same column and
 * one to the right. */
static bool
continues(uint32_t a, uint32_t b, enum run_kind k)
{
	int	ra, ca, rb, cb;
	bool	alnum;

	alnum = (a >= 'a' && a <= 'z' && b >= 'a' && b <= 'z') ||
	    (a >= '0' && a <= '9' && b >= '0' && b <= '9');
	switch (k) {
	case RUN_REPEAT:
		return a == b;
	case RUN_UP:
		return alnum && a + 1 == b;
	case RUN_DOWN:
		return alnum && b + 1 == a;
	case RUN_KEYS:
		if (a == b || !key_pos(a, &ra, &ca) || !key_pos(b, &rb, &cb))
			return false;
		if (ra == rb)
			return ca == cb + 1 || cb == ca + 1;
		if (rb == ra + 1)
			return cb == ca || cb + 1 == ca;
		if (ra == rb + 1)
			return ca == cb || ca + 1 == cb;
		return false;
	default:
		return false;
	}
}

/* The longest run of one kind starting at cp[i] (1: none). */
static size_t
run_len(const uint32_t *cp, size_t n, size_t i)
{
	size_t	best = 1, l;
	int	k;

	for (k = 0; k < RUN_KINDS; k++) {
		for (l = 1; i + l < n &&
		    continues(cp[i + l - 1], cp[i + l], (enum run_kind)k); l++)
			;
		if (l > best)
			best = l;
	}
	return best;
}

/* The longest copy of an earlier part starting at cp[i] (it may overlap
 * the part it copies). */
static size_t
copy_len(const uint32_t *cp, size_t n, size_t i)
{
	size_t	best = 0, j, l;

	for (j = 0; j < i; j++) {
		for (l = 0; i + l < n && cp[j + l] == cp[i + l]; l++)
			;
		if (l > best)
			best = l;
	}
	return best;
}

/* The strength estimate, after zxcvbn's patterns, simplified: the number
 * of characters an attacker who tries runs and repeated parts first
 * cannot predict.  Read left to right; a repeat of an earlier part of
 * PATTERN_MIN characters or more adds nothing (passpass, hunter2hunter2);
 * a run of PATTERN_MIN or more (aaa, abcd, 4321, qwerty, 1qaz) counts as
 * one character; any other character counts as one.  Shorter runs are
 * left alone: pairs such as "er", "on" or "ss" are everywhere in words.
 * O(n^2) for n code points (n <= CF_PASSWORD_MAX). */
static size_t
unpredictable(const uint32_t *cp, size_t n)
{
	size_t	i = 0, c, r, count = 0;

	while (i < n) {
		c = copy_len(cp, n, i);
		r = run_len(cp, n, i);
		if (c >= PATTERN_MIN && c >= r) {
			i += c;
			continue;
		}
		count++;
		i += r >= PATTERN_MIN ? r : 1;
	}
	return count;
}

/* The number of different code points, counting to at most `cap`. */
static size_t
distinct(const uint32_t *cp, size_t n, size_t cap)
{
	uint32_t	seen[DISTINCT_MIN];
	size_t		i, k, m = 0;

	for (i = 0; i < n && m < cap && m < DISTINCT_MIN; i++) {
		for (k = 0; k < m && seen[k] != cp[i]; k++)
			;
		if (k == m)
			seen[m++] = cp[i];
	}
	cf_wipe(seen, sizeof(seen));
	return m;
}

/* True when needle[0..nlen) occurs in hay[0..hlen) read backwards. */
static bool
contains_reversed(const char *hay, size_t hlen, const char *needle,
    size_t nlen)
{
	size_t	i, k;

	for (i = 0; i + nlen <= hlen; i++) {
		for (k = 0; k < nlen && hay[i + k] == needle[nlen - 1 - k];
		    k++)
			;
		if (k == nlen)
			return true;
	}
	return false;
}

cf_err
cf_password_check(const struct cf_password_policy *pol, const void *pw,
    size_t len, const char *username, struct cf_error *err)
{
	struct cf_password_policy	 P;
	const unsigned char		*b = pw;
	char				 low[CF_PASSWORD_MAX + 1];
	char				 ulow[CF_PASSWORD_MAX + 1];
	uint32_t			 cp[CF_PASSWORD_MAX];
	size_t				 i, ncp = 0, ulen, need;
	cf_err				 rc = CF_OK;

	if (pol == NULL)
		cf_password_policy_default(&P);
	else
		P = *pol;
	if (P.min_len < 8 || P.max_len > CF_PASSWORD_MAX ||
	    P.max_len < P.min_len)
		return cf_error_set(err, CF_E_INVAL,
		    "password policy lengths out of range");
	/* SEC: oversized credentials are refused before any byte is read. */
	if (len > P.max_len)
		return cf_error_set(err, CF_E_LIMIT,
		    "password longer than %zu bytes (rule max_length)",
		    P.max_len);
	if (pw == NULL && len != 0)
		return cf_error_set(err, CF_E_INVAL, "NULL password");
	if (len == 0)
		return cf_error_set(err, CF_E_INPUT,
		    "password shorter than %zu characters (rule min_length)",
		    P.min_len);
	if (!cf_utf8_valid(pw, len) || has_control(b, len))
		return cf_error_set(err, CF_E_INPUT,
		    "password is not valid UTF-8 text without control "
		    "characters (rule text)");
	ncp = code_points(b, len, cp);
	if (ncp < P.min_len) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "password shorter than %zu characters (rule min_length)",
		    P.min_len);
		goto out;
	}

	for (i = 0; i < len; i++)
		low[i] = (char)lower(b[i]);
	low[len] = '\0';
	ulen = 0;
	if (username != NULL) {
		ulen = strnlen(username, CF_PASSWORD_MAX + 1);
		if (ulen > CF_PASSWORD_MAX)
			ulen = 0;	/* cannot be equal or contained */
		for (i = 0; i < ulen; i++)
			ulow[i] = (char)lower((unsigned char)username[i]);
		ulow[ulen] = '\0';
	}
	if (ulen > 0 && ulen == len && memcmp(low, ulow, len) == 0) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "password equals the user name (rule user_name)");
		goto out;
	}
	/* Names of USER_NAME_MIN characters or more: shorter ones (say "al")
	 * occur in too many good passwords to refuse them all. */
	if (ulen >= USER_NAME_MIN && (memmem(low, len, ulow, ulen) != NULL ||
	    contains_reversed(low, len, ulow, ulen))) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "password contains the user name, forwards or backwards "
		    "(rule user_name)");
		goto out;
	}
	if (P.check_common && cf_password_is_common(pw, len)) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "password is in the list of common passwords "
		    "(rule common)");
		goto out;
	}
	if (!P.check_strength)
		goto out;
	if (distinct(cp, ncp, DISTINCT_MIN) < DISTINCT_MIN) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "password has fewer than %d different characters "
		    "(rule distinct)", DISTINCT_MIN);
		goto out;
	}
	need = P.min_len - 2 < UNPREDICTABLE_MIN ? P.min_len - 2 :
	    UNPREDICTABLE_MIN;
	if (unpredictable(cp, ncp) < need) {
		rc = cf_error_set(err, CF_E_INPUT,
		    "password is too predictable: repeats, sequences (abcd, "
		    "4321), keyboard runs (qwerty) or repeated parts leave "
		    "fewer than %zu characters that cannot be guessed from "
		    "the ones before (rule predictable)", need);
		goto out;
	}
out:
	cf_wipe(low, sizeof(low));
	cf_wipe(ulow, sizeof(ulow));
	cf_wipe(cp, sizeof(cp));
	return rc;
}
