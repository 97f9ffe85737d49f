/* src/policy/parse.c: lexer and recursive-descent parser for Cedar policy
 * sets in the human syntax (Cedar 4).
 *
 * Grammar (precedence from loosest to tightest):
 *   Expr     := 'if' Expr 'then' Expr 'else' Expr | Or
 *   Or       := And ('||' And)*
 *   And      := Relation ('&&' Relation)*
 *   Relation := Add [RELOP Add | 'has' (IDENT('.'IDENT)* | STR)
 *               | 'like' STR | 'is' Path ['in' Add]]   (non-associative)
 *   Add      := Mult (('+' | '-') Mult)*
 *   Mult     := Unary ('*' Unary)*
 *   Unary    := ('!' | '-'){0,4} Member
 *   Member   := Primary ('.' IDENT ['(' args ')'] | '[' STR ']')*
 *
 * SEC: the input is untrusted.  Nesting is bounded (CF_POLICY_MAX_DEPTH)
 * so neither the parser nor the evaluator can exhaust the stack, every
 * allocation comes from the set's arena so an error path cannot leak, and
 * the lexer never reads past src[len). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "policy_int.h"

enum tok {
	T_EOF = 0,
	T_IDENT,
	T_INT,
	T_STR,
	T_EQ,		/* == */
	T_NE,		/* != */
	T_LE,
	T_GE,
	T_LT,
	T_GT,
	T_AND,		/* && */
	T_OR,		/* || */
	T_COLONS,	/* :: */
	T_NOT,
	T_MINUS,
	T_PLUS,
	T_STAR,
	T_LPAREN,
	T_RPAREN,
	T_LBRACE,
	T_RBRACE,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_SEMI,
	T_COLON,
	T_DOT,
	T_AT,
	T_QUESTION,
	T_BAD
};

struct token {
	enum tok	 t;
	const char	*p;
	size_t		 n;
	unsigned int	 line, col;
};

struct parser {
	const char		*src;
	size_t			 len, pos;
	unsigned int		 line;
	size_t			 linestart;
	struct token		 tok;		/* current (lookahead) token */
	struct cf_policy_set	*ps;
	struct cf_pol_arena	*ar;
	struct cf_error		*err;
	cf_err			 rc;		/* first error */
	int			 depth;
	/* The memoized operands written out so far (eval.c): equal ones
	 * share their bytes.  Freed with the parser. */
	struct cf_pol_hset	 memo;
};

#define MAX_TREE_DEPTH	(CF_POLICY_MAX_DEPTH * 4)

static const char *const reserved[] = {
	"true", "false", "if", "then", "else", "in", "is", "like", "has",
	NULL
};

static bool
is_reserved(const char *p, size_t n)
{
	size_t	i;

	/* The first byte first: most names start like no reserved word. */
	for (i = 0; reserved[i] != NULL; i++)
		if (n > 0 && reserved[i][0] == p[0] &&
		    strlen(reserved[i]) == n && memcmp(reserved[i], p, n) == 0)
			return true;
	return false;
}

static cf_err	perr(struct parser *, unsigned int, unsigned int, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* Identifiers that may not name attributes, record keys or type path
 * components (Cedar: "this identifier is reserved"). */
static bool
reserved_ident(const char *p, size_t n)
{
	return is_reserved(p, n) || (n == 7 && memcmp(p, "__cedar", 7) == 0);
}

static cf_err
reserved_err(struct parser *p, const struct token *t)
{
	return perr(p, t->line, t->col, "this identifier is reserved and "
	    "cannot be used: %.*s", (int)t->n, t->p);
}

static bool
tok_is(const struct token *t, const char *kw)
{
	return t->t == T_IDENT && strlen(kw) == t->n &&
	    memcmp(t->p, kw, t->n) == 0;
}

static bool
identc(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

bool
cf_pol_valid_type(const char *s, size_t n)
{
	size_t	i = 0, st;

	for (;;) {
		st = i;
		if (i >= n || !identc(s[i], true))
			return false;
		while (i < n && identc(s[i], false))
			i++;
		if (is_reserved(s + st, i - st) || (i - st == 7 &&
		    memcmp(s + st, "__cedar", 7) == 0))
			return false;
		if (i == n)
			return true;
		if (i + 2 > n || s[i] != ':' || s[i + 1] != ':')
			return false;
		i += 2;
	}
}

static cf_err
perr(struct parser *p, unsigned int line, unsigned int col, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static cf_err
perr(struct parser *p, unsigned int line, unsigned int col, const char *fmt,
    ...)
{
	char	msg[200];
	va_list	ap;

	if (p->rc != CF_OK)
		return p->rc;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->rc = cf_error_set(p->err, CF_E_INPUT, "%u:%u: %s", line, col, msg);
	return p->rc;
}

static cf_err
nomem(struct parser *p)
{
	if (p->rc == CF_OK)
		p->rc = cf_error_set(p->err, CF_E_NOMEM, "out of memory");
	return p->rc;
}

/* Describe a token for messages, escaping anything unprintable. */
static void
tok_desc(const struct token *t, char *out, size_t outsz)
{
	size_t	i, o = 0, n = t->n > 24 ? 24 : t->n;

	if (t->t == T_EOF) {
		(void)snprintf(out, outsz, "end of input");
		return;
	}
	if (outsz < 8)
		return;
	out[o++] = '`';
	for (i = 0; i < n && o + 6 < outsz; i++) {
		unsigned char	c = (unsigned char)t->p[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else {
			(void)snprintf(out + o, outsz - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (n < t->n && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '`';
	out[o] = '\0';
}

static cf_err
unexpected(struct parser *p, const char *expected)
{
	char	d[64];

	tok_desc(&p->tok, d, sizeof(d));
	return perr(p, p->tok.line, p->tok.col, "unexpected %s, expected %s",
	    d, expected);
}

/*
 * Lexer.
 */
static void
lex(struct parser *p)
{
	const char	*s = p->src;
	size_t		 n = p->len, i = p->pos;
	struct token	*t = &p->tok;
	char		 c, d;

	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
		    s[i] == '\r' || s[i] == '\f' || s[i] == '\v')) {
			if (s[i] == '\n') {
				p->line++;
				p->linestart = i + 1;
			}
			i++;
		}
		if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
			while (i < n && s[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	t->p = s + i;
	t->line = p->line;
	t->col = (unsigned int)(i - p->linestart + 1);
	if (i >= n) {
		t->t = T_EOF;
		t->n = 0;
		p->pos = i;
		return;
	}
	c = s[i];
	d = i + 1 < n ? s[i + 1] : '\0';
	t->n = 1;
	if (identc(c, true)) {
		while (i + t->n < n && identc(s[i + t->n], false))
			t->n++;
		t->t = T_IDENT;
	} else if (c >= '0' && c <= '9') {
		while (i + t->n < n && s[i + t->n] >= '0' && s[i + t->n] <= '9')
			t->n++;
		t->t = T_INT;
	} else if (c == '"') {
		size_t	j = i + 1;

		while (j < n && s[j] != '"') {
			if (s[j] == '\\' && j + 1 < n)
				j++;
			if (s[j] == '\n') {
				p->line++;
				p->linestart = j + 1;
			}
			j++;
		}
		if (j >= n) {
			t->t = T_BAD;
			t->n = n - i;
			(void)perr(p, t->line, t->col,
			    "unterminated string literal");
		} else {
			t->t = T_STR;
			t->n = j + 1 - i;
		}
	} else if (c == '=' && d == '=') {
		t->t = T_EQ;
		t->n = 2;
	} else if (c == '!' && d == '=') {
		t->t = T_NE;
		t->n = 2;
	} else if (c == '<' && d == '=') {
		t->t = T_LE;
		t->n = 2;
	} else if (c == '>' && d == '=') {
		t->t = T_GE;
		t->n = 2;
	} else if (c == '&' && d == '&') {
		t->t = T_AND;
		t->n = 2;
	} else if (c == '|' && d == '|') {
		t->t = T_OR;
		t->n = 2;
	} else if (c == ':' && d == ':') {
		t->t = T_COLONS;
		t->n = 2;
	} else {
		switch (c) {
		case '<': t->t = T_LT; break;
		case '>': t->t = T_GT; break;
		case '!': t->t = T_NOT; break;
		case '-': t->t = T_MINUS; break;
		case '+': t->t = T_PLUS; break;
		case '*': t->t = T_STAR; break;
		case '(': t->t = T_LPAREN; break;
		case ')': t->t = T_RPAREN; break;
		case '{': t->t = T_LBRACE; break;
		case '}': t->t = T_RBRACE; break;
		case '[': t->t = T_LBRACK; break;
		case ']': t->t = T_RBRACK; break;
		case ',': t->t = T_COMMA; break;
		case ';': t->t = T_SEMI; break;
		case ':': t->t = T_COLON; break;
		case '.': t->t = T_DOT; break;
		case '@': t->t = T_AT; break;
		case '?': t->t = T_QUESTION; break;
		default:
			t->t = T_BAD;
			break;
		}
	}
	p->pos = i + t->n;
	if (t->t == T_BAD && p->rc == CF_OK) {
		char	dsc[64];

		tok_desc(t, dsc, sizeof(dsc));
		(void)perr(p, t->line, t->col, "invalid character %s", dsc);
	}
}

static void
next(struct parser *p)
{
	if (p->rc == CF_OK)
		lex(p);
	else
		p->tok.t = T_EOF;
}

static cf_err
expect(struct parser *p, enum tok t, const char *what)
{
	if (p->rc != CF_OK)
		return p->rc;
	if (p->tok.t != t)
		return unexpected(p, what);
	next(p);
	return p->rc;
}

/*
 * String literals.
 */
static size_t
utf8_put(uint32_t c, char *o)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Unescape the string token t.  In pattern mode (like), `*` is a wildcard
 * and the output gets the list of literal runs and stars in *pat.
 *
 * As in Cedar (cedar-policy-core, parser/unescape.rs, to_pattern): every
 * character that unescapes to `*` is a wildcard, including `\x2a` and
 * `\u{2a}`; only the sequence `\*` (not an escape in other strings) is a
 * literal star. */
static cf_err
unescape(struct parser *p, const struct token *t, bool pattern,
    const char **out, size_t *outlen, const struct cf_pol_pat **patout)
{
	const char		*s = t->p + 1;
	size_t			 n = t->n - 2, i, o = 0, k, nel = 0;
	char			*buf;
	bool			*star = NULL;
	struct cf_pol_pat	*pat;

	buf = cf_pol_arena_alloc(p->ar, n + 1);
	if (buf == NULL)
		return nomem(p);
	if (pattern) {
		star = cf_pol_arena_calloc(p->ar, n + 1, sizeof(bool));
		if (star == NULL)
			return nomem(p);
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '*' && pattern) {
			star[o] = true;
			buf[o++] = '*';
			continue;
		}
		if (s[i] != '\\') {
			buf[o++] = s[i];
			continue;
		}
		if (++i >= n)
			goto bad;
		switch (s[i]) {
		case 'n': buf[o++] = '\n'; break;
		case 'r': buf[o++] = '\r'; break;
		case 't': buf[o++] = '\t'; break;
		case '\\': buf[o++] = '\\'; break;
		case '0': buf[o++] = '\0'; break;
		case '\'': buf[o++] = '\''; break;
		case '"': buf[o++] = '"'; break;
		case '*':
			if (!pattern)
				goto bad;
			buf[o++] = '*';
			break;
		case 'x': {
			int	h1, h2;

			if (i + 2 >= n)
				goto bad;
			h1 = s[i + 1];
			h2 = s[i + 2];
			h1 = (h1 >= '0' && h1 <= '7') ? h1 - '0' : -1;
			if (h2 >= '0' && h2 <= '9')
				h2 -= '0';
			else if (h2 >= 'a' && h2 <= 'f')
				h2 -= 'a' - 10;
			else if (h2 >= 'A' && h2 <= 'F')
				h2 -= 'A' - 10;
			else
				h2 = -1;
			if (h1 < 0 || h2 < 0)
				goto bad;
			if (pattern && h1 * 16 + h2 == '*')
				star[o] = true;		/* as in Cedar */
			buf[o++] = (char)(h1 * 16 + h2);
			i += 2;
			break;
		}
		case 'u': {
			uint32_t	cp = 0;
			size_t		nd = 0;

			if (i + 1 >= n || s[i + 1] != '{')
				goto bad;
			for (k = i + 2; k < n && s[k] != '}'; k++) {
				char	c = s[k];
				int	h;

				if (c == '_' && nd > 0)
					continue;
				if (c >= '0' && c <= '9')
					h = c - '0';
				else if (c >= 'a' && c <= 'f')
					h = c - 'a' + 10;
				else if (c >= 'A' && c <= 'F')
					h = c - 'A' + 10;
				else
					goto bad;
				if (++nd > 6)
					goto bad;
				cp = cp * 16 + (uint32_t)h;
			}
			if (k >= n || nd == 0 || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				goto bad;
			if (pattern && cp == '*')
				star[o] = true;		/* as in Cedar */
			o += utf8_put(cp, buf + o);
			i = k;
			break;
		}
		default:
			goto bad;
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	if (pattern) {
		pat = cf_pol_arena_calloc(p->ar, 1, sizeof(*pat));
		if (pat == NULL)
			return nomem(p);
		/* Count elements: maximal literal runs and single stars. */
		for (i = 0; i < o; i++)
			if (star[i] || i == 0 || star[i - 1])
				nel++;
		pat->el = cf_pol_arena_calloc(p->ar, nel ? nel : 1,
		    sizeof(pat->el[0]));
		if (pat->el == NULL)
			return nomem(p);
		for (i = 0; i < o; i++) {
			if (star[i]) {
				/* Consecutive stars are one. */
				if (pat->n == 0 || !pat->el[pat->n - 1].star)
					pat->el[pat->n++].star = true;
			} else if (i == 0 || star[i - 1]) {
				pat->el[pat->n].p = buf + i;
				pat->el[pat->n++].len = 1;
			} else
				pat->el[pat->n - 1].len++;
		}
		*patout = pat;
	}
	return CF_OK;
bad:
	return perr(p, t->line, t->col, "invalid escape sequence in string");
}

/*
 * Expressions.
 */
static struct cf_pol_expr *
node(struct parser *p, enum cf_pol_op op)
{
	struct cf_pol_expr	*e;

	e = cf_pol_arena_calloc(p->ar, 1, sizeof(*e));
	if (e == NULL) {
		(void)nomem(p);
		return NULL;
	}
	e->op = (uint8_t)op;
	e->line = p->tok.line;
	e->col = p->tok.col;
	return e;
}

/* Locate e where x starts (an operator node starts with its left operand,
 * a call or an accessor with its receiver). */
static void
loc_from(struct cf_pol_expr *e, const struct cf_pol_expr *x)
{
	if (e != NULL && x != NULL) {
		e->line = x->line;
		e->col = x->col;
	}
}

static void
loc_tok(struct cf_pol_expr *e, const struct token *t)
{
	if (e != NULL) {
		e->line = t->line;
		e->col = t->col;
	}
}

static struct cf_pol_expr *
binary(struct parser *p, enum cf_pol_op op, const struct cf_pol_expr *a,
    const struct cf_pol_expr *b)
{
	struct cf_pol_expr	*e;

	if (a == NULL || b == NULL)
		return NULL;
	e = node(p, op);
	if (e != NULL) {
		e->a = a;
		e->b = b;
		loc_from(e, a);
	}
	return e;
}

static const struct cf_pol_expr *parse_expr(struct parser *);

static bool
enter(struct parser *p)
{
	if (++p->depth > CF_POLICY_MAX_DEPTH) {
		if (p->rc == CF_OK) {
			p->rc = cf_error_set(p->err, CF_E_LIMIT,
			    "%u:%u: expression nested deeper than %d",
			    p->tok.line, p->tok.col, CF_POLICY_MAX_DEPTH);
		}
		return false;
	}
	return true;
}

/* Path: IDENT ('::' IDENT)*, stopping before '::' STR.  The joined name
 * goes to the arena. */
static cf_err
parse_path(struct parser *p, const char **name, size_t *nlen, bool *is_uid)
{
	struct cf_buf	b;
	cf_err		rc;

	*is_uid = false;
	cf_buf_init(&b, CF_POLICY_MAX_SRC);
	for (;;) {
		if (p->tok.t != T_IDENT) {
			rc = unexpected(p, "an identifier");
			goto out;
		}
		if (reserved_ident(p->tok.p, p->tok.n)) {
			rc = reserved_err(p, &p->tok);
			goto out;
		}
		if (cf_buf_append(&b, p->tok.p, p->tok.n, NULL) != CF_OK) {
			rc = nomem(p);
			goto out;
		}
		next(p);
		if (p->tok.t != T_COLONS)
			break;
		next(p);
		if (p->tok.t == T_STR) {
			*is_uid = true;
			break;
		}
		if (cf_buf_append(&b, "::", 2, NULL) != CF_OK) {
			rc = nomem(p);
			goto out;
		}
	}
	*name = cf_pol_arena_strdup(p->ar, b.data != NULL ? b.data : "",
	    b.len);
	*nlen = b.len;
	rc = *name == NULL ? nomem(p) : p->rc;
out:
	cf_buf_free(&b);
	return rc;
}

/* After a path and '::', the current token is the STR of a uid. */
static const struct cf_pol_uid *
finish_uid(struct parser *p, const char *type, size_t tlen)
{
	const char		*id;
	size_t			 ilen;
	const struct cf_pol_uid	*u;

	if (unescape(p, &p->tok, false, &id, &ilen, NULL) != CF_OK)
		return NULL;
	next(p);
	u = cf_pol_uid_new(p->ar, type, tlen, id, ilen);
	if (u == NULL)
		(void)nomem(p);
	return u;
}

static const struct cf_pol_uid *
parse_uid(struct parser *p)
{
	const char	*name;
	size_t		 nlen;
	bool		 is_uid;

	if (parse_path(p, &name, &nlen, &is_uid) != CF_OK)
		return NULL;
	if (!is_uid) {
		(void)unexpected(p, "`::` and an entity id string");
		return NULL;
	}
	return finish_uid(p, name, nlen);
}

static const struct {
	const char	*name;
	enum cf_pol_fn	 fn;
	bool		 method;
} fns[] = {
	{ "ip", FN_IP, false },
	{ "decimal", FN_DECIMAL, false },
	{ "datetime", FN_DATETIME, false },
	{ "duration", FN_DURATION, false },
	{ "isIpv4", FN_IS_IPV4, true },
	{ "isIpv6", FN_IS_IPV6, true },
	{ "isLoopback", FN_IS_LOOPBACK, true },
	{ "isMulticast", FN_IS_MULTICAST, true },
	{ "isInRange", FN_IS_IN_RANGE, true },
	{ "lessThan", FN_LESS_THAN, true },
	{ "lessThanOrEqual", FN_LESS_THAN_OR_EQUAL, true },
	{ "greaterThan", FN_GREATER_THAN, true },
	{ "greaterThanOrEqual", FN_GREATER_THAN_OR_EQUAL, true },
	{ "offset", FN_OFFSET, true },
	{ "durationSince", FN_DURATION_SINCE, true },
	{ "toDate", FN_TO_DATE, true },
	{ "toTime", FN_TO_TIME, true },
	{ "toDays", FN_TO_DAYS, true },
	{ "toHours", FN_TO_HOURS, true },
	{ "toMinutes", FN_TO_MINUTES, true },
	{ "toSeconds", FN_TO_SECONDS, true },
	{ "toMilliseconds", FN_TO_MILLISECONDS, true },
};

int
cf_pol_fn_lookup(const char *name, size_t n, bool *method)
{
	size_t	i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (strlen(fns[i].name) == n &&
		    memcmp(fns[i].name, name, n) == 0) {
			*method = fns[i].method;
			return (int)fns[i].fn;
		}
	return 0;
}

/* '(' [Expr (',' Expr)*] ')' or '[' ... ']'; the opener is current. */
static cf_err
parse_list(struct parser *p, enum tok close, const struct cf_pol_expr *first,
    const struct cf_pol_expr ***out, size_t *nout)
{
	const struct cf_pol_expr	**v = NULL, **nv;
	size_t				  n = 0, cap = 0;
	const struct cf_pol_expr	 *e;

	if (first != NULL) {
		v = cf_pol_arena_alloc(p->ar, 4 * sizeof(*v));
		if (v == NULL)
			return nomem(p);
		cap = 4;
		v[n++] = first;
	}
	next(p);
	if (p->tok.t != close) {
		for (;;) {
			e = parse_expr(p);
			if (e == NULL)
				return p->rc;
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				nv = cf_pol_arena_alloc(p->ar,
				    cap * sizeof(*v));
				if (nv == NULL)
					return nomem(p);
				if (n > 0)
					memcpy(nv, v, n * sizeof(*v));
				v = nv;
			}
			v[n++] = e;
			if (p->tok.t != T_COMMA)
				break;
			next(p);
			if (p->tok.t == close)	/* trailing comma */
				break;
		}
	}
	if (expect(p, close, close == T_RPAREN ? "`,` or `)`" :
	    "`,` or `]`") != CF_OK)
		return p->rc;
	*out = v;
	*nout = n;
	return CF_OK;
}

/* Evaluate a constructor call on a string literal once, at parse time. */
static void
fold_ext(struct cf_pol_expr *e)
{
	const struct cf_pol_expr	*a;
	struct cf_pol_val		 v;
	int				 r;

	if (e->nargs != 1 || e->fn > FN_DURATION)
		return;
	a = e->args[0];
	if (a->op != X_LIT || a->lit.kind != PV_STR)
		return;
	memset(&v, 0, sizeof(v));
	switch (e->fn) {
	case FN_IP:
		r = cf_pol_parse_ip(a->lit.u.s.p, a->lit.u.s.n, &v);
		break;
	case FN_DECIMAL:
		v.kind = PV_DECIMAL;
		r = cf_pol_parse_decimal(a->lit.u.s.p, a->lit.u.s.n, &v.u.i);
		break;
	case FN_DATETIME:
		v.kind = PV_DATETIME;
		r = cf_pol_parse_datetime(a->lit.u.s.p, a->lit.u.s.n, &v.u.i);
		break;
	default:
		v.kind = PV_DURATION;
		r = cf_pol_parse_duration(a->lit.u.s.p, a->lit.u.s.n, &v.u.i);
		break;
	}
	if (r == 0) {
		e->op = X_LIT;
		e->lit = v;
	} else {
		e->op = X_ERROR;
		e->msg = e->fn == FN_IP ? "invalid IP address" :
		    e->fn == FN_DECIMAL ? "invalid decimal" :
		    e->fn == FN_DATETIME ? "invalid datetime" :
		    "invalid duration";
	}
}

static const struct cf_pol_expr *
parse_record(struct parser *p, unsigned int line, unsigned int col)
{
	struct cf_pol_expr		 *e;
	struct cf_pol_rec		 *tmp = NULL;
	const struct cf_pol_expr	**vals = NULL, **nv;
	size_t				  n = 0, cap = 0, i;
	const char			 *k;
	size_t				  kn;

	e = node(p, X_RECORD);
	if (e == NULL)
		return NULL;
	next(p);		/* '{' */
	/* Collect (key, value) pairs in a scratch record, then sort. */
	while (p->tok.t != T_RBRACE) {
		if (p->tok.t == T_IDENT) {
			if (reserved_ident(p->tok.p, p->tok.n)) {
				(void)reserved_err(p, &p->tok);
				return NULL;
			}
			k = p->tok.p;
			kn = p->tok.n;
			next(p);
		} else if (p->tok.t == T_STR) {
			if (unescape(p, &p->tok, false, &k, &kn, NULL) !=
			    CF_OK)
				return NULL;
			next(p);
		} else {
			(void)unexpected(p, "a record key");
			return NULL;
		}
		if (expect(p, T_COLON, "`:`") != CF_OK)
			return NULL;
		if (n == cap) {
			struct cf_pol_rec	*nt;

			cap = cap ? cap * 2 : 4;
			nt = cf_pol_arena_alloc(p->ar, sizeof(*nt) +
			    cap * sizeof(nt->f[0]));
			nv = cf_pol_arena_alloc(p->ar, cap * sizeof(*nv));
			if (nt == NULL || nv == NULL) {
				(void)nomem(p);
				return NULL;
			}
			if (n > 0) {
				memcpy(nt->f, tmp->f, n * sizeof(nt->f[0]));
				memcpy(nv, vals, n * sizeof(*nv));
			}
			tmp = nt;
			vals = nv;
		}
		tmp->f[n].k = k;
		tmp->f[n].kn = kn;
		memset(&tmp->f[n].v, 0, sizeof(tmp->f[n].v));
		tmp->f[n].v.u.i = (int64_t)n;	/* original position */
		vals[n] = parse_expr(p);
		if (vals[n] == NULL)
			return NULL;
		n++;
		if (p->tok.t != T_COMMA)
			break;
		next(p);
	}
	if (expect(p, T_RBRACE, "`,` or `}`") != CF_OK)
		return NULL;
	if (n > 0) {
		tmp->n = n;
		if (!cf_pol_rec_sort(tmp)) {
			(void)perr(p, line, col, "duplicate key in record "
			    "literal");
			return NULL;
		}
		e->keys = cf_pol_arena_alloc(p->ar, n * sizeof(*e->keys));
		e->klens = cf_pol_arena_alloc(p->ar, n * sizeof(*e->klens));
		e->args = cf_pol_arena_alloc(p->ar, n * sizeof(*e->args));
		if (e->keys == NULL || e->klens == NULL || e->args == NULL) {
			(void)nomem(p);
			return NULL;
		}
		for (i = 0; i < n; i++) {
			e->keys[i] = tmp->f[i].k;
			e->klens[i] = tmp->f[i].kn;
			((const struct cf_pol_expr **)e->args)[i] =
			    vals[tmp->f[i].v.u.i];
		}
	}
	e->nargs = n;
	e->nkeys = n;
	return e;
}

static const struct cf_pol_expr *parse_primary_at(struct parser *p);

static const struct cf_pol_expr *
parse_primary(struct parser *p)
{
	struct token		 t = p->tok;
	struct cf_pol_expr	*e;

	e = (struct cf_pol_expr *)(uintptr_t)parse_primary_at(p);
	if (e != NULL && t.t != T_LPAREN)
		loc_tok(e, &t);
	return e;
}

static const struct cf_pol_expr *
parse_primary_at(struct parser *p)
{
	struct cf_pol_expr	*e = NULL;
	struct token		 t = p->tok;
	const char		*name;
	size_t			 nlen;
	bool			 is_uid, method;
	int			 fn;
	uint64_t		 v = 0;
	size_t			 i;

	switch (t.t) {
	case T_INT:
		for (i = 0; i < t.n; i++) {
			if (v > (uint64_t)INT64_MAX / 10 ||
			    v * 10 + (uint64_t)(t.p[i] - '0') >
			    (uint64_t)INT64_MAX) {
				(void)perr(p, t.line, t.col, "integer literal "
				    "`%.*s` is too large", (int)t.n, t.p);
				return NULL;
			}
			v = v * 10 + (uint64_t)(t.p[i] - '0');
		}
		e = node(p, X_LIT);
		if (e == NULL)
			return NULL;
		e->lit.kind = PV_LONG;
		e->lit.u.i = (int64_t)v;
		next(p);
		return e;
	case T_STR:
		e = node(p, X_LIT);
		if (e == NULL)
			return NULL;
		e->lit.kind = PV_STR;
		if (unescape(p, &t, false, &e->lit.u.s.p, &e->lit.u.s.n,
		    NULL) != CF_OK)
			return NULL;
		next(p);
		return e;
	case T_LPAREN:
		next(p);
		e = (struct cf_pol_expr *)(uintptr_t)parse_expr(p);
		if (e == NULL || expect(p, T_RPAREN, "`)`") != CF_OK)
			return NULL;
		return e;
	case T_LBRACK:
		e = node(p, X_SET);
		if (e == NULL || parse_list(p, T_RBRACK, NULL, &e->args,
		    &e->nargs) != CF_OK)
			return NULL;
		return e;
	case T_LBRACE:
		return parse_record(p, t.line, t.col);
	case T_QUESTION:
		(void)perr(p, t.line, t.col, "template slots may only appear "
		    "in the policy scope");
		return NULL;
	case T_IDENT:
		break;
	default:
		(void)unexpected(p, "an expression");
		return NULL;
	}
	if (tok_is(&t, "true") || tok_is(&t, "false")) {
		e = node(p, X_LIT);
		if (e == NULL)
			return NULL;
		e->lit.kind = PV_BOOL;
		e->lit.u.b = tok_is(&t, "true");
		next(p);
		return e;
	}
	next(p);
	if (p->tok.t != T_COLONS && p->tok.t != T_LPAREN) {
		static const char *const vars[] = { "principal", "action",
		    "resource", "context" };

		for (i = 0; i < 4; i++)
			if (tok_is(&t, vars[i])) {
				e = node(p, X_VAR);
				if (e != NULL)
					e->var = (uint8_t)i;
				return e;
			}
		(void)perr(p, t.line, t.col, "unexpected identifier `%.*s`",
		    (int)(t.n > 40 ? 40 : t.n), t.p);
		return NULL;
	}
	/* Re-parse as a path from the identifier we consumed. */
	p->pos = (size_t)(t.p - p->src) + t.n;
	p->line = t.line;
	p->linestart = (size_t)(t.p - p->src) - (t.col - 1);
	p->tok = t;
	if (parse_path(p, &name, &nlen, &is_uid) != CF_OK)
		return NULL;
	if (is_uid) {
		e = node(p, X_LIT);
		if (e == NULL)
			return NULL;
		e->lit.kind = PV_ENTITY;
		e->lit.u.e = finish_uid(p, name, nlen);
		return e->lit.u.e == NULL ? NULL : e;
	}
	if (p->tok.t != T_LPAREN) {
		(void)unexpected(p, "`::` or `(`");
		return NULL;
	}
	fn = cf_pol_fn_lookup(name, nlen, &method);
	if (fn == 0) {
		(void)perr(p, t.line, t.col, "`%.*s` is not a valid function",
		    (int)(nlen > 40 ? 40 : nlen), name);
		return NULL;
	}
	if (method) {
		(void)perr(p, t.line, t.col, "`%s` is a method, not a function",
		    name);
		return NULL;
	}
	e = node(p, X_EXT);
	if (e == NULL)
		return NULL;
	e->fn = (uint8_t)fn;
	if (parse_list(p, T_RPAREN, NULL, &e->args, &e->nargs) != CF_OK)
		return NULL;
	fold_ext(e);
	return e;
}

static const struct cf_pol_expr *
parse_accessors(struct parser *p, const struct cf_pol_expr *e)
{
	struct cf_pol_expr		*m;
	struct token			 t;
	const char			*k;
	size_t				 kn;
	bool				 method;
	int				 fn;

	while (e != NULL && (p->tok.t == T_DOT || p->tok.t == T_LBRACK)) {
		if (p->tok.t == T_LBRACK) {
			next(p);
			if (p->tok.t != T_STR) {
				(void)unexpected(p, "a string");
				return NULL;
			}
			m = node(p, X_ATTR);
			if (m == NULL || unescape(p, &p->tok, false, &m->name,
			    &m->nlen, NULL) != CF_OK)
				return NULL;
			next(p);
			if (expect(p, T_RBRACK, "`]`") != CF_OK)
				return NULL;
			m->a = e;
			loc_from(m, e);
			e = m;
			continue;
		}
		next(p);
		t = p->tok;
		if (t.t != T_IDENT) {
			(void)unexpected(p, "an attribute or method name");
			return NULL;
		}
		if (reserved_ident(t.p, t.n)) {
			(void)reserved_err(p, &t);
			return NULL;
		}
		next(p);
		if (p->tok.t != T_LPAREN) {
			m = node(p, X_ATTR);
			if (m == NULL)
				return NULL;
			m->name = cf_pol_arena_strdup(p->ar, t.p, t.n);
			if (m->name == NULL) {
				(void)nomem(p);
				return NULL;
			}
			m->nlen = t.n;
			m->a = e;
			loc_from(m, e);
			e = m;
			continue;
		}
		k = t.p;
		kn = t.n;
		m = node(p, X_EXT);
		if (m == NULL)
			return NULL;
		loc_from(m, e);
		/* The receiver e is args[0] of an extension method; the
		 * built-in methods below move it to a. */
		if (parse_list(p, T_RPAREN, e, &m->args, &m->nargs) != CF_OK)
			return NULL;
		if (kn == 8 && memcmp(k, "contains", 8) == 0)
			m->op = X_CONTAINS;
		else if (kn == 11 && memcmp(k, "containsAll", 11) == 0)
			m->op = X_CONTAINS_ALL;
		else if (kn == 11 && memcmp(k, "containsAny", 11) == 0)
			m->op = X_CONTAINS_ANY;
		else if (kn == 7 && memcmp(k, "isEmpty", 7) == 0)
			m->op = X_IS_EMPTY;
		else if (kn == 6 && memcmp(k, "hasTag", 6) == 0)
			m->op = X_HAS_TAG;
		else if (kn == 6 && memcmp(k, "getTag", 6) == 0)
			m->op = X_GET_TAG;
		if (m->op != X_EXT) {
			size_t	want = m->op == X_IS_EMPTY ? 1 : 2;

			if (m->nargs != want) {
				(void)perr(p, t.line, t.col, "call to `%.*s` "
				    "requires exactly %zu argument%s, but got "
				    "%zu", (int)kn, k, want - 1,
				    want == 2 ? "" : "s", m->nargs - 1);
				return NULL;
			}
			/* SEC: receiver in a, argument in b, and no args:
			 * each operand has one parent (see policy_int.h). */
			m->a = m->args[0];
			m->b = want == 2 ? m->args[1] : NULL;
			m->args = NULL;
			m->nargs = 0;
		} else {
			fn = cf_pol_fn_lookup(k, kn, &method);
			if (fn == 0) {
				(void)perr(p, t.line, t.col, "`%.*s` is not a "
				    "valid method", (int)(kn > 40 ? 40 : kn),
				    k);
				return NULL;
			}
			if (!method) {
				(void)perr(p, t.line, t.col, "`%.*s` is a "
				    "function, not a method", (int)kn, k);
				return NULL;
			}
			m->fn = (uint8_t)fn;
		}
		e = m;
	}
	return e;
}

static const struct cf_pol_expr *
parse_member(struct parser *p)
{
	return parse_accessors(p, parse_primary(p));
}

static const struct cf_pol_expr *
parse_unary(struct parser *p)
{
	enum tok			 ops[5];
	size_t				 nops = 0;
	const struct cf_pol_expr	*e;
	struct cf_pol_expr		*u;
	struct token			 t0 = p->tok;

	while (p->tok.t == T_NOT || p->tok.t == T_MINUS) {
		/* As in Cedar: one kind of unary operator, at most four. */
		if (nops > 0 && p->tok.t != ops[0]) {
			(void)unexpected(p, "an expression");
			return NULL;
		}
		if (nops == 4) {
			(void)perr(p, t0.line, t0.col, "too many occurrences "
			    "of `%s`", p->tok.t == T_NOT ? "!" : "-");
			return NULL;
		}
		ops[nops++] = p->tok.t;
		next(p);
	}
	if (nops > 0 && ops[nops - 1] == T_MINUS && p->tok.t == T_INT) {
		/* -N is a literal, so that INT64_MIN can be written, unless
		 * accessors follow N (then, as in Cedar, N must fit). */
		struct token	t = p->tok;
		uint64_t	v = 0, lim = (uint64_t)INT64_MAX + 1;
		size_t		i;
		bool		fold;

		next(p);
		fold = p->tok.t != T_DOT && p->tok.t != T_LBRACK;
		if (!fold)
			lim = (uint64_t)INT64_MAX;
		for (i = 0; i < t.n; i++) {
			if (v > lim / 10 ||
			    v * 10 + (uint64_t)(t.p[i] - '0') > lim) {
				(void)perr(p, t.line, t.col, "integer literal "
				    "`%s%.*s` is too large", fold ? "-" : "",
				    (int)t.n, t.p);
				return NULL;
			}
			v = v * 10 + (uint64_t)(t.p[i] - '0');
		}
		u = node(p, X_LIT);
		if (u == NULL)
			return NULL;
		u->lit.kind = PV_LONG;
		if (fold) {
			u->lit.u.i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
			    -(int64_t)v;
			nops--;
			e = u;
		} else {
			u->lit.u.i = (int64_t)v;
			e = parse_accessors(p, u);
		}
	} else
		e = parse_member(p);
	while (e != NULL && nops > 0) {
		nops--;
		u = node(p, ops[nops] == T_NOT ? X_NOT : X_NEG);
		if (u == NULL)
			return NULL;
		loc_tok(u, &t0);
		u->a = e;
		e = u;
	}
	return e;
}

static const struct cf_pol_expr *
parse_mult(struct parser *p)
{
	const struct cf_pol_expr	*e;

	e = parse_unary(p);
	while (e != NULL && p->tok.t == T_STAR) {
		next(p);
		e = binary(p, X_MUL, e, parse_unary(p));
	}
	return e;
}

static const struct cf_pol_expr *
parse_add(struct parser *p)
{
	const struct cf_pol_expr	*e;
	enum tok			 t;

	e = parse_mult(p);
	while (e != NULL && (p->tok.t == T_PLUS || p->tok.t == T_MINUS)) {
		t = p->tok.t;
		next(p);
		e = binary(p, t == T_PLUS ? X_ADD : X_SUB, e, parse_mult(p));
	}
	return e;
}

static bool
is_relop(const struct parser *p)
{
	switch (p->tok.t) {
	case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE:
		return true;
	default:
		return tok_is(&p->tok, "in") || tok_is(&p->tok, "has") ||
		    tok_is(&p->tok, "like") || tok_is(&p->tok, "is");
	}
}

static const struct cf_pol_expr *
parse_relation(struct parser *p)
{
	const struct cf_pol_expr	*e, *r;
	struct cf_pol_expr		*n;
	enum cf_pol_op			 op = 0;
	struct token			 t;

	e = parse_add(p);
	if (e == NULL || !is_relop(p))
		return e;
	t = p->tok;
	switch (t.t) {
	case T_EQ: op = X_EQ; break;
	case T_NE: op = X_NE; break;
	case T_LT: op = X_LT; break;
	case T_LE: op = X_LE; break;
	case T_GT: op = X_GT; break;
	case T_GE: op = X_GE; break;
	default: break;
	}
	next(p);
	if (op != 0 || tok_is(&t, "in")) {
		r = parse_add(p);
		e = binary(p, op != 0 ? op : X_IN, e, r);
	} else if (tok_is(&t, "has")) {
		/* e has a.b.c means e has a && e.a has b && e.a.b has c, with
		 * e evaluated once: one node holds the whole path. */
		const char	**keys = NULL, **nk;
		size_t		 *klens = NULL, *nl, cap = 0;

		n = node(p, X_HAS);
		if (n == NULL)
			return NULL;
		n->a = e;
		loc_from(n, e);
		for (;;) {
			if (n->nkeys == cap) {
				cap = cap ? cap * 2 : 4;
				nk = cf_pol_arena_alloc(p->ar,
				    cap * sizeof(*nk));
				nl = cf_pol_arena_alloc(p->ar,
				    cap * sizeof(*nl));
				if (nk == NULL || nl == NULL) {
					(void)nomem(p);
					return NULL;
				}
				if (n->nkeys > 0) {
					memcpy(nk, keys, n->nkeys *
					    sizeof(*nk));
					memcpy(nl, klens, n->nkeys *
					    sizeof(*nl));
				}
				keys = nk;
				klens = nl;
			}
			if (p->tok.t == T_STR) {
				if (unescape(p, &p->tok, false,
				    &keys[n->nkeys], &klens[n->nkeys], NULL) !=
				    CF_OK)
					return NULL;
				next(p);
			} else if (p->tok.t == T_IDENT) {
				if (reserved_ident(p->tok.p, p->tok.n)) {
					(void)reserved_err(p, &p->tok);
					return NULL;
				}
				keys[n->nkeys] = cf_pol_arena_strdup(p->ar,
				    p->tok.p, p->tok.n);
				klens[n->nkeys] = p->tok.n;
				if (keys[n->nkeys] == NULL) {
					(void)nomem(p);
					return NULL;
				}
				next(p);
			} else {
				(void)unexpected(p, "an attribute name");
				return NULL;
			}
			n->nkeys++;
			if (p->tok.t != T_DOT)
				break;
			next(p);
			if (p->tok.t != T_IDENT) {
				(void)unexpected(p, "an attribute name");
				return NULL;
			}
		}
		n->keys = keys;
		n->klens = klens;
		e = n;
	} else if (tok_is(&t, "like")) {
		if (p->tok.t != T_STR) {
			(void)unexpected(p, "a pattern string");
			return NULL;
		}
		n = node(p, X_LIKE);
		if (n == NULL)
			return NULL;
		n->a = e;
		loc_from(n, e);
		if (unescape(p, &p->tok, true, &n->name, &n->nlen,
		    &n->pat) != CF_OK)
			return NULL;
		next(p);
		e = n;
	} else {		/* is */
		bool	is_uid;

		n = node(p, X_IS);
		if (n == NULL)
			return NULL;
		n->a = e;
		loc_from(n, e);
		if (parse_path(p, &n->name, &n->nlen, &is_uid) != CF_OK)
			return NULL;
		if (is_uid) {
			(void)unexpected(p, "an entity type");
			return NULL;
		}
		e = n;
		if (tok_is(&p->tok, "in")) {
			/* x is T in y means x is T && x in y, with x
			 * evaluated once. */
			next(p);
			n->op = X_IS_IN;
			n->b = parse_add(p);
			if (n->b == NULL)
				return NULL;
		}
	}
	if (e != NULL && is_relop(p)) {
		(void)perr(p, p->tok.line, p->tok.col, "multiple relational "
		    "operators (>, ==, in, etc.) must be used with parentheses "
		    "to make ordering explicit");
		return NULL;
	}
	return e;
}

static const struct cf_pol_expr *
parse_and(struct parser *p)
{
	const struct cf_pol_expr	*e;

	e = parse_relation(p);
	while (e != NULL && p->tok.t == T_AND) {
		next(p);
		e = binary(p, X_AND, e, parse_relation(p));
	}
	return e;
}

static const struct cf_pol_expr *
parse_or(struct parser *p)
{
	const struct cf_pol_expr	*e;

	e = parse_and(p);
	while (e != NULL && p->tok.t == T_OR) {
		next(p);
		e = binary(p, X_OR, e, parse_and(p));
	}
	return e;
}

static const struct cf_pol_expr *
parse_expr(struct parser *p)
{
	const struct cf_pol_expr	*e = NULL;
	struct cf_pol_expr		*n;
	struct token			 t0 = p->tok;

	if (!enter(p))
		goto out;
	if (!tok_is(&p->tok, "if")) {
		e = parse_or(p);
		goto out;
	}
	next(p);
	n = node(p, X_IF);
	if (n == NULL)
		goto out;
	loc_tok(n, &t0);
	n->a = parse_expr(p);
	if (n->a == NULL || !tok_is(&p->tok, "then")) {
		if (p->rc == CF_OK)
			(void)unexpected(p, "`then`");
		goto out;
	}
	next(p);
	n->b = parse_expr(p);
	if (n->b == NULL || !tok_is(&p->tok, "else")) {
		if (p->rc == CF_OK)
			(void)unexpected(p, "`else`");
		goto out;
	}
	next(p);
	n->c = parse_expr(p);
	if (n->c != NULL)
		e = n;
out:
	p->depth--;
	if (e == NULL && p->rc == CF_OK)
		(void)unexpected(p, "an expression");
	return p->rc == CF_OK ? e : NULL;
}

/* Depth of a tree, to bound the evaluator's recursion (left-leaning
 * chains such as a + b + c ... are deep without deep parser recursion).
 * Each node is visited once, since no node has two parents (policy_int.h),
 * and the walk stops as soon as the depth is over limit. */
static size_t
tree_depth(const struct cf_pol_expr *e, size_t limit)
{
	size_t	d = 0, c, i;

	/* Iterate down a, recurse into the other children: a holds the
	 * long chains, and recursion is bounded by limit anyway. */
	for (; e != NULL; e = e->a) {
		if (++d > limit)
			return d;
		c = d + tree_depth(e->b, limit - d);
		if (c > limit)
			return c;
		c = d + tree_depth(e->c, limit - d);
		if (c > limit)
			return c;
		for (i = 0; i < e->nargs; i++) {
			c = d + tree_depth(e->args[i], limit - d);
			if (c > limit)
				return c;
		}
	}
	return d;
}

/*
 * Policies.
 */
static cf_err
parse_scope_entity(struct parser *p, struct cf_pol_scope *sc,
    const char *slot)
{
	if (p->tok.t == T_QUESTION) {
		next(p);
		if (!tok_is(&p->tok, slot)) {
			return perr(p, p->tok.line, p->tok.col, "expected "
			    "the slot ?%s here", slot);
		}
		next(p);
		sc->slot = true;
		return p->rc;
	}
	sc->uid = parse_uid(p);
	return p->rc;
}

static bool
is_action_type(const struct cf_pol_uid *u)
{
	return (u->tlen == 6 && memcmp(u->type, "Action", 6) == 0) ||
	    (u->tlen > 8 && memcmp(u->type + u->tlen - 8, "::Action", 8) == 0);
}

static cf_err
parse_scope(struct parser *p, struct cf_pol_policy *pol)
{
	struct cf_pol_scope	*sc;
	const char		*vars[3] = { "principal", "action",
	    "resource" };
	int			 i;
	bool			 is_uid;

	for (i = 0; i < 3; i++) {
		sc = i == 0 ? &pol->p : i == 1 ? &pol->a : &pol->r;
		if (i > 0 && expect(p, T_COMMA, "`,`") != CF_OK)
			return p->rc;
		if (!tok_is(&p->tok, vars[i]))
			return unexpected(p, vars[i]);
		next(p);
		if (p->tok.t == T_EQ) {
			next(p);
			sc->op = SC_EQ;
			if (i == 1)
				sc->uid = parse_uid(p);
			else if (parse_scope_entity(p, sc, vars[i]) != CF_OK)
				return p->rc;
		} else if (tok_is(&p->tok, "in")) {
			next(p);
			sc->op = SC_IN;
			if (i == 1 && p->tok.t == T_LBRACK) {
				const struct cf_pol_uid	**l = NULL, **nl;
				size_t			  cap = 0;

				sc->op = SC_IN_LIST;
				next(p);
				while (p->rc == CF_OK &&
				    p->tok.t != T_RBRACK) {
					if (sc->nlist == cap) {
						cap = cap ? cap * 2 : 4;
						nl = cf_pol_arena_alloc(p->ar,
						    cap * sizeof(*nl));
						if (nl == NULL)
							return nomem(p);
						if (sc->nlist > 0)
							memcpy(nl, l,
							    sc->nlist *
							    sizeof(*nl));
						l = nl;
					}
					l[sc->nlist] = parse_uid(p);
					if (l[sc->nlist] == NULL)
						return p->rc;
					if (!is_action_type(l[sc->nlist]))
						return perr(p, p->tok.line,
						    p->tok.col, "expected an "
						    "entity of type Action");
					sc->nlist++;
					if (p->tok.t != T_COMMA)
						break;
					next(p);
				}
				if (expect(p, T_RBRACK, "`]`") != CF_OK)
					return p->rc;
				sc->list = l;
			} else if (i == 1)
				sc->uid = parse_uid(p);
			else if (parse_scope_entity(p, sc, vars[i]) != CF_OK)
				return p->rc;
		} else if (tok_is(&p->tok, "is") && i != 1) {
			next(p);
			sc->op = SC_IS;
			if (parse_path(p, &sc->type, &sc->tlen, &is_uid) !=
			    CF_OK)
				return p->rc;
			if (is_uid)
				return unexpected(p, "an entity type");
			if (tok_is(&p->tok, "in")) {
				next(p);
				sc->op = SC_IS_IN;
				if (parse_scope_entity(p, sc, vars[i]) !=
				    CF_OK)
					return p->rc;
			}
		} else if (p->tok.t != T_COMMA && p->tok.t != T_RPAREN)
			return unexpected(p, i == 1 ? "`==`, `in`, `,` or `)`"
			    : "`==`, `in`, `is`, `,` or `)`");
		if (p->rc != CF_OK)
			return p->rc;
		if (i == 1 && sc->uid != NULL && !is_action_type(sc->uid))
			return perr(p, p->tok.line, p->tok.col, "expected an "
			    "entity of type Action in the action scope");
		if (sc->slot)
			pol->is_template = true;
	}
	if (p->tok.t == T_COMMA)	/* Cedar allows a trailing comma */
		next(p);
	return p->rc;
}

static cf_err
add_policy(struct cf_policy_set *ps, struct cf_pol_policy *pol);

/* Policies (in force or templates) by id, in ps->ids. */
static bool
pol_id_eq(const void *x, const void *y)
{
	return strcmp(((const struct cf_pol_policy *)x)->id,
	    ((const struct cf_pol_policy *)y)->id) == 0;
}

static uint64_t
id_hash(const char *id)
{
	return cf_pol_hash("", 0, id, strlen(id));
}

static const struct cf_pol_policy *
find_id(struct cf_policy_set *ps, const char *id)
{
	struct cf_pol_policy	key;

	key.id = id;
	return cf_pol_hset_get(&ps->ids, id_hash(id), &key, pol_id_eq);
}

static cf_err
parse_policy(struct parser *p, size_t index)
{
	struct cf_pol_policy	*pol;
	struct cf_pol_cond	*conds = NULL, *nc;
	size_t			 cap = 0, i;
	const char		*id = NULL, *val;
	size_t			 idlen = 0, vlen;
	const char		*keys[64];
	size_t			 klens[64], nkeys = 0;
	struct token		 t0 = p->tok;
	char			 defid[32];

	pol = cf_pol_arena_calloc(p->ar, 1, sizeof(*pol));
	if (pol == NULL)
		return nomem(p);
	pol->line = t0.line;
	pol->col = t0.col;
	while (p->tok.t == T_AT) {
		struct token	k;

		next(p);
		k = p->tok;
		if (k.t != T_IDENT)
			return unexpected(p, "an annotation name");
		for (i = 0; i < nkeys; i++)
			if (klens[i] == k.n && memcmp(keys[i], k.p, k.n) == 0)
				return perr(p, k.line, k.col, "duplicate "
				    "annotation `@%.*s`", (int)k.n, k.p);
		if (nkeys < 64) {
			keys[nkeys] = k.p;
			klens[nkeys++] = k.n;
		}
		next(p);
		val = NULL;
		vlen = 0;
		if (p->tok.t == T_LPAREN) {
			next(p);
			if (p->tok.t != T_STR)
				return unexpected(p, "a string");
			if (unescape(p, &p->tok, false, &val, &vlen, NULL) !=
			    CF_OK)
				return p->rc;
			next(p);
			if (expect(p, T_RPAREN, "`)`") != CF_OK)
				return p->rc;
		}
		if (tok_is(&k, "id")) {
			id = val != NULL ? val : "";
			idlen = vlen;
		}
	}
	if (tok_is(&p->tok, "forbid"))
		pol->forbid = true;
	else if (!tok_is(&p->tok, "permit"))
		return unexpected(p, "`permit` or `forbid`");
	next(p);
	if (expect(p, T_LPAREN, "`(`") != CF_OK ||
	    parse_scope(p, pol) != CF_OK ||
	    expect(p, T_RPAREN, "`)`") != CF_OK)
		return p->rc;
	while (tok_is(&p->tok, "when") || tok_is(&p->tok, "unless")) {
		bool	unless = tok_is(&p->tok, "unless");

		next(p);
		if (expect(p, T_LBRACE, "`{`") != CF_OK)
			return p->rc;
		if (pol->nconds == cap) {
			cap = cap ? cap * 2 : 2;
			nc = cf_pol_arena_alloc(p->ar, cap * sizeof(*nc));
			if (nc == NULL)
				return nomem(p);
			if (pol->nconds > 0)
				memcpy(nc, conds, pol->nconds * sizeof(*nc));
			conds = nc;
		}
		conds[pol->nconds].unless = unless;
		conds[pol->nconds].e = parse_expr(p);
		if (conds[pol->nconds].e == NULL)
			return p->rc;
		if (tree_depth(conds[pol->nconds].e, MAX_TREE_DEPTH) >
		    MAX_TREE_DEPTH)
			return cf_error_set(p->err, p->rc = CF_E_LIMIT,
			    "%u:%u: expression nested deeper than %d",
			    t0.line, t0.col, MAX_TREE_DEPTH);
		/* The tree is ours until the set is built, and its depth
		 * bounded now. */
		cf_pol_expr_memo_mark(p->ar, &p->memo, (struct cf_pol_expr *)
		    (uintptr_t)conds[pol->nconds].e);
		pol->nconds++;
		if (expect(p, T_RBRACE, "`}`") != CF_OK)
			return p->rc;
	}
	pol->conds = conds;
	if (expect(p, T_SEMI, "`;`, `when` or `unless`") != CF_OK)
		return p->rc;
	if (id == NULL) {
		(void)snprintf(defid, sizeof(defid), "policy%zu", index);
		id = defid;
		idlen = strlen(defid);
	}
	pol->id = cf_pol_arena_strdup(p->ar, id, idlen);
	if (pol->id == NULL)
		return nomem(p);
	if (strlen(pol->id) != idlen || find_id(p->ps, pol->id) != NULL)
		return perr(p, t0.line, t0.col, "duplicate or invalid "
		    "policy id \"%s\"", pol->id);
	return add_policy(p->ps, pol);
}

/*
 * The policy set and its scope index.
 */
static cf_err
grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void	*nv;
	size_t	 nc;

	if (n < *cap)
		return CF_OK;
	nc = *cap ? *cap * 2 : 8;
	nv = cf_reallocarray(*v, nc, sz);
	if (nv == NULL)
		return CF_E_NOMEM;
	*v = nv;
	*cap = nc;
	return CF_OK;
}

static struct cf_pol_bucket *
index_find(const struct cf_pol_index *ix, const struct cf_pol_uid *key)
{
	size_t	i;

	if (ix->cap == 0)
		return NULL;
	for (i = key->hash & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		if (ix->b[i].key == NULL)
			return NULL;
		if (cf_pol_uid_eq(ix->b[i].key, key))
			return &ix->b[i];
	}
}

/* The filter of one scope (struct cf_pol_cand). */
static void
cand_scope(const struct cf_pol_scope *sc, uint64_t *key, uint8_t *filt)
{
	size_t	i;

	*key = 0;
	*filt = PF_ANY;
	switch (sc->op) {
	case SC_EQ:
		if (sc->uid != NULL) {
			*key = sc->uid->hash;
			*filt = PF_HASH;
		}
		break;
	case SC_IN:
	case SC_IS_IN:
		if (sc->uid != NULL) {
			*key = CF_POL_BIT(sc->uid->hash);
			*filt = PF_BITS;
		}
		break;
	case SC_IS:
		*key = sc->tlen;
		*filt = PF_TLEN;
		break;
	case SC_IN_LIST:
		for (i = 0; i < sc->nlist; i++)
			*key |= CF_POL_BIT(sc->list[i]->hash);
		*filt = PF_BITS;	/* an empty list matches nothing */
		break;
	default:
		break;
	}
}

static struct cf_pol_cand
cand_of(const struct cf_pol_policy *pol, uint32_t idx)
{
	struct cf_pol_cand	c;

	memset(&c, 0, sizeof(c));
	c.pol = idx;
	cand_scope(&pol->p, &c.key[0], &c.filt[0]);
	cand_scope(&pol->a, &c.key[1], &c.filt[1]);
	cand_scope(&pol->r, &c.key[2], &c.filt[2]);
	return c;
}

static cf_err
index_add(struct cf_pol_index *ix, const struct cf_pol_uid *key,
    struct cf_pol_cand pol)
{
	struct cf_pol_bucket	*b, *nb;
	size_t			 i, j, ncap;

	if ((ix->used + 1) * 2 > ix->cap) {
		ncap = ix->cap ? ix->cap * 2 : 16;
		nb = cf_calloc(ncap, sizeof(*nb));
		if (nb == NULL)
			return CF_E_NOMEM;
		for (i = 0; i < ix->cap; i++) {
			if (ix->b[i].key == NULL)
				continue;
			for (j = ix->b[i].key->hash & (ncap - 1);
			    nb[j].key != NULL; j = (j + 1) & (ncap - 1))
				;
			nb[j] = ix->b[i];
		}
		cf_free(ix->b);
		ix->b = nb;
		ix->cap = ncap;
	}
	cf_pol_index_bloom_add(ix, key->hash);
	b = index_find(ix, key);
	if (b == NULL) {
		for (i = key->hash & (ix->cap - 1); ix->b[i].key != NULL;
		    i = (i + 1) & (ix->cap - 1))
			;
		b = &ix->b[i];
		b->key = key;
		ix->used++;
	}
	if (grow((void **)&b->pol, &b->cap, b->n, sizeof(*b->pol)) != CF_OK)
		return CF_E_NOMEM;
	b->pol[b->n++] = pol;
	return CF_OK;
}

static void
index_free(struct cf_pol_index *ix)
{
	size_t	i;

	for (i = 0; i < ix->cap; i++)
		cf_free(ix->b[i].pol);
	cf_free(ix->b);
}

/* Index a policy in force under the entity its principal (else resource)
 * scope names, so a request only looks at policies that can match it. */
static cf_err
add_policy(struct cf_policy_set *ps, struct cf_pol_policy *pol)
{
	uint32_t	idx;
	cf_err		rc;
	bool		added;

	/* Room first, so that once the policy is in, its id is too. */
	if (cf_pol_hset_reserve(&ps->ids, 1) != CF_OK)
		return CF_E_NOMEM;
	if (pol->is_template) {
		if (grow((void **)&ps->tmpls, &ps->captmpls, ps->ntmpls,
		    sizeof(*ps->tmpls)) != CF_OK)
			return cf_error_set(NULL, CF_E_NOMEM, "nomem");
		ps->tmpls[ps->ntmpls++] = pol;
		return cf_pol_hset_add(&ps->ids, id_hash(pol->id), pol,
		    pol_id_eq, &added);
	}
	if (ps->npols >= UINT32_MAX - 1 ||
	    grow((void **)&ps->pols, &ps->cappols, ps->npols,
	    sizeof(*ps->pols)) != CF_OK)
		return CF_E_NOMEM;
	idx = (uint32_t)ps->npols;
	if (pol->p.uid != NULL && pol->p.op != SC_ANY && pol->p.op != SC_IS)
		rc = index_add(&ps->by_principal, pol->p.uid,
		    cand_of(pol, idx));
	else if (pol->r.uid != NULL && pol->r.op != SC_ANY &&
	    pol->r.op != SC_IS)
		rc = index_add(&ps->by_resource, pol->r.uid,
		    cand_of(pol, idx));
	else {
		rc = grow((void **)&ps->scan, &ps->capscan, ps->nscan,
		    sizeof(*ps->scan));
		if (rc == CF_OK)
			ps->scan[ps->nscan++] = cand_of(pol, idx);
	}
	if (rc != CF_OK)
		return rc;
	ps->pols[ps->npols++] = pol;
	return cf_pol_hset_add(&ps->ids, id_hash(pol->id), pol, pol_id_eq,
	    &added);
}

void
cf_policy_set_free(struct cf_policy_set *ps)
{
	if (ps == NULL)
		return;
	index_free(&ps->by_principal);
	index_free(&ps->by_resource);
	cf_free(ps->pols);
	cf_free(ps->tmpls);
	cf_free(ps->scan);
	cf_pol_hset_free(&ps->ids);
	cf_pol_arena_free(&ps->ar);
	cf_free(ps);
}

/* Well-formed UTF-8 (NUL allowed: it can only be in strings). */
static bool
utf8_ok(const unsigned char *s, size_t n, size_t *bad)
{
	size_t		i = 0, k, need;
	uint32_t	c, min;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			c &= 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			goto bad;
		if (i + need >= n)
			goto bad;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			goto bad;
		i += need + 1;
	}
	return true;
bad:
	*bad = i;
	return false;
}

cf_err
cf_policy_set_parse(const char *src, size_t len, struct cf_policy_set **out,
    struct cf_error *err)
{
	struct cf_policy_set	*ps = NULL;
	struct parser		 p;
	size_t			 bad = 0, i, line = 1, col = 1, index = 0;
	cf_err			 rc;

	if (len > CF_POLICY_MAX_SRC)
		return cf_error_set(err, CF_E_LIMIT, "policy text of %zu "
		    "bytes exceeds the limit of %u", len, CF_POLICY_MAX_SRC);
	if (src == NULL && len > 0)
		return cf_error_set(err, CF_E_INVAL, "NULL policy text");
	if (!utf8_ok((const unsigned char *)src, len, &bad)) {
		for (i = 0; i < bad; i++) {
			if (src[i] == '\n') {
				line++;
				col = 1;
			} else
				col++;
		}
		return cf_error_set(err, CF_E_INPUT, "%zu:%zu: invalid UTF-8",
		    line, col);
	}
	ps = cf_calloc(1, sizeof(*ps));
	if (ps == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&ps->ar);
	cf_pol_hset_init(&ps->ids);
	memset(&p, 0, sizeof(p));
	p.src = src != NULL ? src : "";
	p.len = len;
	p.line = 1;
	p.ps = ps;
	p.ar = &ps->ar;
	p.err = err;
	cf_pol_hset_init(&p.memo);
	lex(&p);
	while (p.rc == CF_OK && p.tok.t != T_EOF) {
		rc = parse_policy(&p, index++);
		if (rc != CF_OK && p.rc == CF_OK)
			p.rc = cf_error_set(err, rc, "out of memory");
	}
	cf_pol_hset_free(&p.memo);
	rc = p.rc;
	if (rc != CF_OK) {
		cf_policy_set_free(ps);
		return rc;
	}
	*out = ps;
	return CF_OK;
}

size_t
cf_policy_set_count(const struct cf_policy_set *ps)
{
	return ps->npols;
}

size_t
cf_policy_set_template_count(const struct cf_policy_set *ps)
{
	return ps->ntmpls;
}

const char *
cf_policy_set_id(const struct cf_policy_set *ps, size_t i)
{
	return i < ps->npols ? ps->pols[i]->id : NULL;
}

cf_err
cf_policy_set_link(struct cf_policy_set *ps, const char *template_id,
    const char *new_id, const char *principal_type, const char *principal_id,
    const char *resource_type, const char *resource_id, struct cf_error *err)
{
	const struct cf_pol_policy	*t;
	struct cf_pol_policy		*pol;
	cf_err				 rc;

	if (ps == NULL || template_id == NULL || new_id == NULL)
		return cf_error_set(err, CF_E_INVAL, "NULL argument");
	t = find_id(ps, template_id);
	if (t == NULL || !t->is_template)
		return cf_error_set(err, CF_E_NOTFOUND, "no template \"%s\"",
		    template_id);
	if (find_id(ps, new_id) != NULL)
		return cf_error_set(err, CF_E_CONFLICT, "policy id \"%s\" is "
		    "already in use", new_id);
	if (t->p.slot != (principal_type != NULL && principal_id != NULL) ||
	    t->r.slot != (resource_type != NULL && resource_id != NULL))
		return cf_error_set(err, CF_E_INPUT, "the values given do not "
		    "match the slots of template \"%s\"", template_id);
	if ((principal_type != NULL &&
	    !cf_pol_valid_type(principal_type, strlen(principal_type))) ||
	    (resource_type != NULL &&
	    !cf_pol_valid_type(resource_type, strlen(resource_type))))
		return cf_error_set(err, CF_E_INPUT, "invalid entity type");
	pol = cf_pol_arena_alloc(&ps->ar, sizeof(*pol));
	if (pol == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	*pol = *t;
	pol->is_template = false;
	pol->id = cf_pol_arena_strdup(&ps->ar, new_id, strlen(new_id));
	if (pol->id == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	if (t->p.slot) {
		pol->p.slot = false;
		pol->p.uid = cf_pol_uid_new(&ps->ar, principal_type,
		    strlen(principal_type), principal_id,
		    strlen(principal_id));
		if (pol->p.uid == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	if (t->r.slot) {
		pol->r.slot = false;
		pol->r.uid = cf_pol_uid_new(&ps->ar, resource_type,
		    strlen(resource_type), resource_id, strlen(resource_id));
		if (pol->r.uid == NULL)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
	}
	rc = add_policy(ps, pol);
	if (rc != CF_OK)
		return cf_error_set(err, rc, "out of memory");
	return CF_OK;
}
