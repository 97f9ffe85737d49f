/* src/policy/schema.c: parser for Cedar schemas in the human-readable
 * schema syntax (`.cedarschema`, Cedar 4), resolved into struct cf_schema.
 *
 * Grammar:
 *   Schema    := {Namespace | Decl}
 *   Namespace := Annot 'namespace' Path '{' {Decl} '}'
 *   Decl      := Annot (Entity | Action | TypeDecl)
 *   Entity    := 'entity' Idents ['in' EntTypes] [['='] Record]
 *                ['tags' Type] ';'
 *              | 'entity' Idents 'enum' '[' STR {',' STR} ']' ';'
 *   Action    := 'action' Names ['in' ActRefs] [AppliesTo] ';'
 *   TypeDecl  := 'type' IDENT '=' Type ';'
 *   AppliesTo := 'appliesTo' '{' [AppDecl {',' AppDecl} [',']] '}'
 *   AppDecl   := ('principal' | 'resource') ':' EntTypes
 *              | 'context' ':' (Path | Record)
 *   EntTypes  := Path | '[' [Path {',' Path}] ']'
 *   ActRefs   := ActRef | '[' [ActRef {',' ActRef}] ']'
 *   ActRef    := Name | Path '::' STR
 *   Type      := Path | 'Set' '<' Type '>' | Record
 *   Record    := '{' [Attr {',' Attr} [',']] '}'
 *   Attr      := Annot Name ['?'] ':' Type
 *   Annot     := {'@' IDENT ['(' STR ')']}
 *
 * Names resolve as Cedar resolves them: an unqualified type name T inside
 * namespace N is the common type N::T, else the entity type N::T, else
 * the common type T or entity type T of the empty namespace, else the
 * built-in T (Bool, Long, String, ipaddr, decimal, datetime, duration,
 * also spelt __cedar::T).  An unqualified action reference is an action
 * of N's Action type.
 *
 * SEC: the input is untrusted.  Its size, type nesting and the number of
 * entity types and actions are bounded (CF_SCHEMA_MAX_*), allocations come
 * from arenas freed on every path, common-type cycles are refused, and the
 * lexer never reads past src[len). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "schema_int.h"

enum stok {
	S_EOF = 0,
	S_IDENT,
	S_STR,
	S_LBRACE,
	S_RBRACE,
	S_LBRACK,
	S_RBRACK,
	S_LPAREN,
	S_RPAREN,
	S_LT,
	S_GT,
	S_COMMA,
	S_SEMI,
	S_COLON,
	S_COLONS,
	S_QUESTION,
	S_EQ,
	S_AT,
	S_BAD
};

struct stoken {
	enum stok	 t;
	const char	*p;
	size_t		 n;
	unsigned int	 line, col;
};

/* Unresolved declarations, in the parser's scratch arena. */
enum { R_PATH = 1, R_SET, R_REC };

struct rfield;

struct rty {
	uint8_t			 k;
	const char		*path;		/* R_PATH */
	size_t			 plen;
	const char		*ns;		/* namespace of the use */
	size_t			 nslen;
	struct rty		*elem;		/* R_SET */
	struct rfield		*f;		/* R_REC */
	size_t			 nf;
	unsigned int		 line, col;
};

struct rfield {
	const char	*k;
	size_t		 kn;
	bool		 req;
	struct rty	*t;
	unsigned int	 line, col;
};

struct rname {
	const char	*p;		/* path or id */
	size_t		 n;
	const char	*type;		/* action refs: NULL means N::Action */
	size_t		 tlen;
	unsigned int	 line, col;
};

struct rent {
	const char	*name;		/* fully qualified */
	size_t		 nlen;
	const char	*ns;
	size_t		 nslen;
	struct rname	*parents;
	size_t		 nparents;
	struct rty	*attrs;		/* NULL: none */
	struct rty	*tags;
	bool		 is_enum;
	const char	**enums;
	size_t		*enumlens;
	size_t		 nenums;
	unsigned int	 line, col;
};

struct ract {
	const char	*atype;		/* N::Action */
	size_t		 atlen;
	const char	*id;
	size_t		 idlen;
	const char	*ns;
	size_t		 nslen;
	struct rname	*parents;
	size_t		 nparents;
	bool		 applies;
	struct rname	*ptypes, *rtypes;
	size_t		 nptypes, nrtypes;
	struct rty	*context;	/* NULL: {} */
	unsigned int	 line, col;
};

struct rcommon {
	const char			*name;	/* fully qualified */
	size_t				 nlen;
	struct rty			*t;
	const struct cf_sch_type	*res;
	bool				 busy;
	unsigned int			 line, col;
};

struct sparser {
	const char		*src;
	size_t			 len, pos;
	unsigned int		 line;
	size_t			 linestart;
	struct stoken		 tok;
	struct cf_pol_arena	 tmp;		/* raw declarations */
	struct cf_schema	*s;
	struct cf_error		*err;
	cf_err			 rc;
	int			 depth;
	const char		*ns;		/* current namespace */
	size_t			 nslen;
	struct rent		*ents;
	size_t			 nents, capents;
	struct ract		*acts;
	size_t			 nacts, capacts;
	struct rcommon		*commons;
	size_t			 ncommons, capcommons;
};

static cf_err	serr(struct sparser *, unsigned int, unsigned int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static cf_err
serr(struct sparser *p, unsigned int line, unsigned int col, const char *fmt,
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
snomem(struct sparser *p)
{
	if (p->rc == CF_OK)
		p->rc = cf_error_set(p->err, CF_E_NOMEM, "out of memory");
	return p->rc;
}

/* Grow an arena-held array to hold n + 1 elements of sz bytes. */
static void *
agrow(struct sparser *p, struct cf_pol_arena *a, void *v, size_t n,
    size_t *cap, size_t sz)
{
	void	*nv;
	size_t	 nc;

	if (n < *cap)
		return v;
	nc = *cap ? *cap * 2 : 4;
	if (nc > SIZE_MAX / sz) {
		(void)snomem(p);
		return NULL;
	}
	nv = cf_pol_arena_alloc(a, nc * sz);
	if (nv == NULL) {
		(void)snomem(p);
		return NULL;
	}
	if (n > 0)
		memcpy(nv, v, n * sz);
	*cap = nc;
	return nv;
}

/*
 * Lexer.
 */
static bool
sidentc(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

static void
slex(struct sparser *p)
{
	const char	*s = p->src;
	size_t		 n = p->len, i = p->pos;
	struct stoken	*t = &p->tok;
	char		 c;

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
	t->n = 1;
	if (i >= n) {
		t->t = S_EOF;
		t->n = 0;
		p->pos = i;
		return;
	}
	c = s[i];
	if (sidentc(c, true)) {
		while (i + t->n < n && sidentc(s[i + t->n], false))
			t->n++;
		t->t = S_IDENT;
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
			t->t = S_BAD;
			t->n = n - i;
			(void)serr(p, t->line, t->col,
			    "unterminated string literal");
		} else {
			t->t = S_STR;
			t->n = j + 1 - i;
		}
	} else if (c == ':' && i + 1 < n && s[i + 1] == ':') {
		t->t = S_COLONS;
		t->n = 2;
	} else {
		switch (c) {
		case '{': t->t = S_LBRACE; break;
		case '}': t->t = S_RBRACE; break;
		case '[': t->t = S_LBRACK; break;
		case ']': t->t = S_RBRACK; break;
		case '(': t->t = S_LPAREN; break;
		case ')': t->t = S_RPAREN; break;
		case '<': t->t = S_LT; break;
		case '>': t->t = S_GT; break;
		case ',': t->t = S_COMMA; break;
		case ';': t->t = S_SEMI; break;
		case ':': t->t = S_COLON; break;
		case '?': t->t = S_QUESTION; break;
		case '=': t->t = S_EQ; break;
		case '@': t->t = S_AT; break;
		default: t->t = S_BAD; break;
		}
		if (t->t == S_BAD)
			(void)serr(p, t->line, t->col, "invalid character "
			    "0x%02x", (unsigned char)c);
	}
	p->pos = i + t->n;
}

static void
snext(struct sparser *p)
{
	if (p->rc == CF_OK)
		slex(p);
	else
		p->tok.t = S_EOF;
}

static bool
stok_is(const struct stoken *t, const char *kw)
{
	return t->t == S_IDENT && strlen(kw) == t->n &&
	    memcmp(t->p, kw, t->n) == 0;
}

static cf_err
sunexpected(struct sparser *p, const char *expected)
{
	char	d[64];
	size_t	i, o = 0, n;

	if (p->tok.t == S_EOF)
		(void)snprintf(d, sizeof(d), "end of input");
	else {
		n = p->tok.n > 24 ? 24 : p->tok.n;
		d[o++] = '`';
		for (i = 0; i < n && o + 6 < sizeof(d); i++) {
			unsigned char	c = (unsigned char)p->tok.p[i];

			if (c >= 0x20 && c < 0x7f)
				d[o++] = (char)c;
			else {
				(void)snprintf(d + o, sizeof(d) - o,
				    "\\x%02x", c);
				o += 4;
			}
		}
		d[o++] = '`';
		d[o] = '\0';
	}
	return serr(p, p->tok.line, p->tok.col, "unexpected %s, expected %s",
	    d, expected);
}

static cf_err
sexpect(struct sparser *p, enum stok t, const char *what)
{
	if (p->rc != CF_OK)
		return p->rc;
	if (p->tok.t != t)
		return sunexpected(p, what);
	snext(p);
	return p->rc;
}

static size_t
put_utf8(uint32_t c, char *o)
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

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape the current string token into a (Cedar's escapes, as in
 * policies). */
static cf_err
sunescape(struct sparser *p, struct cf_pol_arena *a, const char **out,
    size_t *outlen)
{
	const char	*s = p->tok.p + 1;
	size_t		 n = p->tok.n - 2, i, o = 0, k, nd;
	char		*buf;
	uint32_t	 cp;
	int		 h1, h2;

	buf = cf_pol_arena_alloc(a, n + 1);
	if (buf == NULL)
		return snomem(p);
	for (i = 0; i < n; i++) {
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
		case 'x':
			if (i + 2 >= n)
				goto bad;
			h1 = s[i + 1] >= '0' && s[i + 1] <= '7' ?
			    s[i + 1] - '0' : -1;
			h2 = hexval(s[i + 2]);
			if (h1 < 0 || h2 < 0)
				goto bad;
			buf[o++] = (char)(h1 * 16 + h2);
			i += 2;
			break;
		case 'u':
			if (i + 1 >= n || s[i + 1] != '{')
				goto bad;
			cp = 0;
			nd = 0;
			for (k = i + 2; k < n && s[k] != '}'; k++) {
				if (s[k] == '_' && nd > 0)
					continue;
				h1 = hexval(s[k]);
				if (h1 < 0 || ++nd > 6)
					goto bad;
				cp = cp * 16 + (uint32_t)h1;
			}
			if (k >= n || nd == 0 || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				goto bad;
			o += put_utf8(cp, buf + o);
			i = k;
			break;
		default:
			goto bad;
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return CF_OK;
bad:
	return serr(p, p->tok.line, p->tok.col,
	    "invalid escape sequence in string");
}

/* Path: IDENT {'::' IDENT}, joined into tmp.  With allow_str, stops before
 * '::' STR and sets *at_str. */
static cf_err
spath(struct sparser *p, const char **out, size_t *outlen, bool allow_str,
    bool *at_str)
{
	const char	*start;
	size_t		 n;
	char		*b;

	if (at_str != NULL)
		*at_str = false;
	if (p->tok.t != S_IDENT)
		return sunexpected(p, "a name");
	start = p->tok.p;
	n = p->tok.n;
	snext(p);
	while (p->rc == CF_OK && p->tok.t == S_COLONS) {
		snext(p);
		if (p->tok.t == S_STR && allow_str) {
			*at_str = true;
			break;
		}
		if (p->tok.t != S_IDENT)
			return sunexpected(p, "a name");
		/* Joined with "::" exactly, whatever spacing was used. */
		b = cf_pol_arena_alloc(&p->tmp, n + 2 + p->tok.n + 1);
		if (b == NULL)
			return snomem(p);
		memcpy(b, start, n);
		memcpy(b + n, "::", 2);
		memcpy(b + n + 2, p->tok.p, p->tok.n);
		n += 2 + p->tok.n;
		start = b;
		snext(p);
	}
	if (p->rc != CF_OK)
		return p->rc;
	*out = cf_pol_arena_strdup(&p->tmp, start, n);
	*outlen = n;
	return *out == NULL ? snomem(p) : CF_OK;
}

/* Skip annotations: {'@' IDENT ['(' STR ')']}. */
static cf_err
sannotations(struct sparser *p)
{
	const char	*v;
	size_t		 vl;

	while (p->rc == CF_OK && p->tok.t == S_AT) {
		snext(p);
		if (p->tok.t != S_IDENT)
			return sunexpected(p, "an annotation name");
		snext(p);
		if (p->tok.t == S_LPAREN) {
			snext(p);
			if (p->tok.t != S_STR)
				return sunexpected(p, "a string");
			if (sunescape(p, &p->tmp, &v, &vl) != CF_OK)
				return p->rc;
			snext(p);
			if (sexpect(p, S_RPAREN, "`)`") != CF_OK)
				return p->rc;
		}
	}
	return p->rc;
}

static struct rty *sparse_type(struct sparser *p);

static struct rty *
rty_new(struct sparser *p, int k)
{
	struct rty	*t;

	t = cf_pol_arena_calloc(&p->tmp, 1, sizeof(*t));
	if (t == NULL) {
		(void)snomem(p);
		return NULL;
	}
	t->k = (uint8_t)k;
	t->ns = p->ns;
	t->nslen = p->nslen;
	t->line = p->tok.line;
	t->col = p->tok.col;
	return t;
}

/* Record: '{' [Attr {',' Attr} [',']] '}', the '{' current. */
static struct rty *
sparse_record(struct sparser *p)
{
	struct rty	*t;
	size_t		 cap = 0, i;
	struct rfield	*f;

	t = rty_new(p, R_REC);
	if (t == NULL)
		return NULL;
	snext(p);
	while (p->rc == CF_OK && p->tok.t != S_RBRACE) {
		if (sannotations(p) != CF_OK)
			return NULL;
		t->f = agrow(p, &p->tmp, t->f, t->nf, &cap, sizeof(*t->f));
		if (t->f == NULL)
			return NULL;
		f = &t->f[t->nf];
		memset(f, 0, sizeof(*f));
		f->line = p->tok.line;
		f->col = p->tok.col;
		if (p->tok.t == S_IDENT) {
			f->k = cf_pol_arena_strdup(&p->tmp, p->tok.p,
			    p->tok.n);
			f->kn = p->tok.n;
			if (f->k == NULL) {
				(void)snomem(p);
				return NULL;
			}
		} else if (p->tok.t == S_STR) {
			if (sunescape(p, &p->tmp, &f->k, &f->kn) != CF_OK)
				return NULL;
		} else {
			(void)sunexpected(p, "an attribute name");
			return NULL;
		}
		for (i = 0; i < t->nf; i++)
			if (cf_pol_key_cmp(t->f[i].k, t->f[i].kn, f->k,
			    f->kn) == 0) {
				(void)serr(p, f->line, f->col, "duplicate "
				    "attribute `%.*s`", (int)(f->kn > 40 ? 40 :
				    f->kn), f->k);
				return NULL;
			}
		snext(p);
		f->req = true;
		if (p->tok.t == S_QUESTION) {
			f->req = false;
			snext(p);
		}
		if (sexpect(p, S_COLON, "`:`") != CF_OK)
			return NULL;
		f->t = sparse_type(p);
		if (f->t == NULL)
			return NULL;
		t->nf++;
		if (p->tok.t != S_COMMA)
			break;
		snext(p);
	}
	if (sexpect(p, S_RBRACE, "`,` or `}`") != CF_OK)
		return NULL;
	return t;
}

static struct rty *
sparse_type(struct sparser *p)
{
	struct rty	*t = NULL;

	if (++p->depth > CF_SCHEMA_MAX_DEPTH) {
		if (p->rc == CF_OK)
			p->rc = cf_error_set(p->err, CF_E_LIMIT, "%u:%u: type "
			    "nested deeper than %d", p->tok.line, p->tok.col,
			    CF_SCHEMA_MAX_DEPTH);
		goto out;
	}
	if (p->tok.t == S_LBRACE) {
		t = sparse_record(p);
		goto out;
	}
	if (stok_is(&p->tok, "Set")) {
		/* `Set` alone would be a type named Set; Set< is a set. */
		size_t		pos = p->pos;
		unsigned int	line = p->line;
		size_t		ls = p->linestart;
		struct stoken	save = p->tok;

		snext(p);
		if (p->tok.t == S_LT) {
			t = rty_new(p, R_SET);
			if (t == NULL)
				goto out;
			t->line = save.line;
			t->col = save.col;
			snext(p);
			t->elem = sparse_type(p);
			if (t->elem == NULL ||
			    sexpect(p, S_GT, "`>`") != CF_OK)
				t = NULL;
			goto out;
		}
		p->pos = pos;
		p->line = line;
		p->linestart = ls;
		p->tok = save;
	}
	t = rty_new(p, R_PATH);
	if (t == NULL || spath(p, &t->path, &t->plen, false, NULL) != CF_OK)
		t = NULL;
out:
	p->depth--;
	return p->rc == CF_OK ? t : NULL;
}

static const char *
qualify(struct sparser *p, const char *name, size_t n, size_t *outlen)
{
	char	*b;

	if (p->nslen == 0) {
		*outlen = n;
		return cf_pol_arena_strdup(&p->tmp, name, n);
	}
	b = cf_pol_arena_alloc(&p->tmp, p->nslen + 2 + n + 1);
	if (b == NULL)
		return NULL;
	memcpy(b, p->ns, p->nslen);
	memcpy(b + p->nslen, "::", 2);
	memcpy(b + p->nslen + 2, name, n);
	b[p->nslen + 2 + n] = '\0';
	*outlen = p->nslen + 2 + n;
	return b;
}

/* EntTypes: Path | '[' [Path {',' Path}] ']' */
static cf_err
sparse_etypes(struct sparser *p, struct rname **out, size_t *nout)
{
	struct rname	*v = NULL;
	size_t		 n = 0, cap = 0;
	bool		 list = p->tok.t == S_LBRACK;

	if (list)
		snext(p);
	while (p->rc == CF_OK && (!list || p->tok.t != S_RBRACK)) {
		v = agrow(p, &p->tmp, v, n, &cap, sizeof(*v));
		if (v == NULL)
			return p->rc;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].line = p->tok.line;
		v[n].col = p->tok.col;
		if (spath(p, &v[n].p, &v[n].n, false, NULL) != CF_OK)
			return p->rc;
		n++;
		if (!list || p->tok.t != S_COMMA)
			break;
		snext(p);
	}
	if (list && sexpect(p, S_RBRACK, "`,` or `]`") != CF_OK)
		return p->rc;
	*out = v;
	*nout = n;
	return p->rc;
}

/* Name: IDENT | STR, unescaped into tmp. */
static cf_err
sname(struct sparser *p, const char **out, size_t *outlen)
{
	if (p->tok.t == S_STR)
		return sunescape(p, &p->tmp, out, outlen);
	if (p->tok.t != S_IDENT)
		return sunexpected(p, "a name or a string");
	*out = cf_pol_arena_strdup(&p->tmp, p->tok.p, p->tok.n);
	*outlen = p->tok.n;
	return *out == NULL ? snomem(p) : CF_OK;
}

/* ActRefs: ActRef | '[' [ActRef {',' ActRef}] ']' */
static cf_err
sparse_actrefs(struct sparser *p, struct rname **out, size_t *nout)
{
	struct rname	*v = NULL;
	size_t		 n = 0, cap = 0;
	bool		 list = p->tok.t == S_LBRACK, at_str;

	if (list)
		snext(p);
	while (p->rc == CF_OK && (!list || p->tok.t != S_RBRACK)) {
		v = agrow(p, &p->tmp, v, n, &cap, sizeof(*v));
		if (v == NULL)
			return p->rc;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].line = p->tok.line;
		v[n].col = p->tok.col;
		if (p->tok.t == S_STR) {
			if (sname(p, &v[n].p, &v[n].n) != CF_OK)
				return p->rc;
			snext(p);
		} else {
			if (spath(p, &v[n].type, &v[n].tlen, true, &at_str) !=
			    CF_OK)
				return p->rc;
			if (at_str) {
				if (sname(p, &v[n].p, &v[n].n) != CF_OK)
					return p->rc;
				snext(p);
			} else if (memchr(v[n].type, ':', v[n].tlen) != NULL)
				return serr(p, v[n].line, v[n].col, "expected "
				    "an action name or Type::\"id\"");
			else {
				v[n].p = v[n].type;
				v[n].n = v[n].tlen;
				v[n].type = NULL;
			}
		}
		n++;
		if (!list || p->tok.t != S_COMMA)
			break;
		snext(p);
	}
	if (list && sexpect(p, S_RBRACK, "`,` or `]`") != CF_OK)
		return p->rc;
	*out = v;
	*nout = n;
	return p->rc;
}

static cf_err
sparse_entity(struct sparser *p)
{
	struct rent	 proto, *e;
	const char	*names[256], *nm;
	size_t		 nlens[256], nnames = 0, i, cap = 0, nl;
	unsigned int	 lines[256], cols[256];

	memset(&proto, 0, sizeof(proto));
	snext(p);		/* 'entity' */
	for (;;) {
		if (p->tok.t != S_IDENT)
			return sunexpected(p, "an entity type name");
		if (nnames == 256)
			return serr(p, p->tok.line, p->tok.col, "too many "
			    "names in one declaration");
		lines[nnames] = p->tok.line;
		cols[nnames] = p->tok.col;
		names[nnames] = p->tok.p;
		nlens[nnames++] = p->tok.n;
		snext(p);
		if (p->tok.t != S_COMMA)
			break;
		snext(p);
	}
	if (stok_is(&p->tok, "in")) {
		snext(p);
		if (sparse_etypes(p, &proto.parents, &proto.nparents) != CF_OK)
			return p->rc;
	}
	if (stok_is(&p->tok, "enum")) {
		snext(p);
		proto.is_enum = true;
		if (sexpect(p, S_LBRACK, "`[`") != CF_OK)
			return p->rc;
		while (p->rc == CF_OK && p->tok.t == S_STR) {
			size_t	c2 = cap;

			proto.enums = agrow(p, &p->tmp, proto.enums,
			    proto.nenums, &cap, sizeof(*proto.enums));
			if (proto.enums == NULL)
				return p->rc;
			proto.enumlens = agrow(p, &p->tmp, proto.enumlens,
			    proto.nenums, &c2, sizeof(*proto.enumlens));
			if (proto.enumlens == NULL)
				return p->rc;
			if (sunescape(p, &p->tmp, &proto.enums[proto.nenums],
			    &proto.enumlens[proto.nenums]) != CF_OK)
				return p->rc;
			proto.nenums++;
			snext(p);
			if (p->tok.t != S_COMMA)
				break;
			snext(p);
		}
		if (proto.nenums == 0)
			return sunexpected(p, "a string");
		if (sexpect(p, S_RBRACK, "`,` or `]`") != CF_OK)
			return p->rc;
	} else {
		if (p->tok.t == S_EQ) {
			snext(p);
			if (p->tok.t != S_LBRACE)
				return sunexpected(p, "`{`");
		}
		if (p->tok.t == S_LBRACE) {
			proto.attrs = sparse_record(p);
			if (proto.attrs == NULL)
				return p->rc;
		}
		if (stok_is(&p->tok, "tags")) {
			snext(p);
			proto.tags = sparse_type(p);
			if (proto.tags == NULL)
				return p->rc;
		}
	}
	if (sexpect(p, S_SEMI, "`;`") != CF_OK)
		return p->rc;
	proto.ns = p->ns;
	proto.nslen = p->nslen;
	for (i = 0; i < nnames; i++) {
		nm = qualify(p, names[i], nlens[i], &nl);
		if (nm == NULL)
			return snomem(p);
		p->ents = agrow(p, &p->tmp, p->ents, p->nents, &p->capents,
		    sizeof(*p->ents));
		if (p->ents == NULL)
			return p->rc;
		if (p->nents >= CF_SCHEMA_MAX_TYPES)
			return p->rc = cf_error_set(p->err, CF_E_LIMIT,
			    "%u:%u: more than %d entity types", lines[i],
			    cols[i],
			    CF_SCHEMA_MAX_TYPES);
		e = &p->ents[p->nents++];
		*e = proto;
		e->name = nm;
		e->nlen = nl;
		e->line = lines[i];
		e->col = cols[i];
	}
	return p->rc;
}

static cf_err
sparse_action(struct sparser *p)
{
	struct ract	 proto, *a;
	struct rname	*names = NULL;
	size_t		 nnames = 0, cap = 0, i;
	bool		 seen_p = false, seen_r = false, seen_c = false;
	const char	*at;
	size_t		 atl;

	memset(&proto, 0, sizeof(proto));
	snext(p);		/* 'action' */
	for (;;) {
		names = agrow(p, &p->tmp, names, nnames, &cap,
		    sizeof(*names));
		if (names == NULL)
			return p->rc;
		memset(&names[nnames], 0, sizeof(names[nnames]));
		names[nnames].line = p->tok.line;
		names[nnames].col = p->tok.col;
		if (sname(p, &names[nnames].p, &names[nnames].n) != CF_OK)
			return p->rc;
		nnames++;
		snext(p);
		if (p->tok.t != S_COMMA)
			break;
		snext(p);
	}
	if (stok_is(&p->tok, "in")) {
		snext(p);
		if (sparse_actrefs(p, &proto.parents, &proto.nparents) !=
		    CF_OK)
			return p->rc;
	}
	if (stok_is(&p->tok, "appliesTo")) {
		proto.applies = true;
		snext(p);
		if (sexpect(p, S_LBRACE, "`{`") != CF_OK)
			return p->rc;
		while (p->rc == CF_OK && p->tok.t != S_RBRACE) {
			struct stoken	k = p->tok;

			snext(p);
			if (sexpect(p, S_COLON, "`:`") != CF_OK)
				return p->rc;
			if (stok_is(&k, "principal") && !seen_p) {
				seen_p = true;
				if (sparse_etypes(p, &proto.ptypes,
				    &proto.nptypes) != CF_OK)
					return p->rc;
			} else if (stok_is(&k, "resource") && !seen_r) {
				seen_r = true;
				if (sparse_etypes(p, &proto.rtypes,
				    &proto.nrtypes) != CF_OK)
					return p->rc;
			} else if (stok_is(&k, "context") && !seen_c) {
				seen_c = true;
				proto.context = sparse_type(p);
				if (proto.context == NULL)
					return p->rc;
			} else
				return serr(p, k.line, k.col, "expected "
				    "`principal`, `resource` or `context` "
				    "(each at most once)");
			if (p->tok.t != S_COMMA)
				break;
			snext(p);
		}
		if (sexpect(p, S_RBRACE, "`,` or `}`") != CF_OK)
			return p->rc;
	}
	if (sexpect(p, S_SEMI, "`;`") != CF_OK)
		return p->rc;
	at = qualify(p, "Action", 6, &atl);
	if (at == NULL)
		return snomem(p);
	proto.atype = at;
	proto.atlen = atl;
	proto.ns = p->ns;
	proto.nslen = p->nslen;
	for (i = 0; i < nnames; i++) {
		p->acts = agrow(p, &p->tmp, p->acts, p->nacts, &p->capacts,
		    sizeof(*p->acts));
		if (p->acts == NULL)
			return p->rc;
		if (p->nacts >= CF_SCHEMA_MAX_ACTIONS)
			return p->rc = cf_error_set(p->err, CF_E_LIMIT,
			    "%u:%u: more than %d actions", names[i].line,
			    names[i].col, CF_SCHEMA_MAX_ACTIONS);
		a = &p->acts[p->nacts++];
		*a = proto;
		a->id = names[i].p;
		a->idlen = names[i].n;
		a->line = names[i].line;
		a->col = names[i].col;
	}
	return p->rc;
}

static cf_err
sparse_typedecl(struct sparser *p)
{
	struct rcommon	*c;
	struct stoken	 t;

	snext(p);		/* 'type' */
	t = p->tok;
	if (t.t != S_IDENT)
		return sunexpected(p, "a type name");
	snext(p);
	if (sexpect(p, S_EQ, "`=`") != CF_OK)
		return p->rc;
	p->commons = agrow(p, &p->tmp, p->commons, p->ncommons,
	    &p->capcommons, sizeof(*p->commons));
	if (p->commons == NULL)
		return p->rc;
	if (p->ncommons >= CF_SCHEMA_MAX_TYPES)
		return cf_error_set(p->err, p->rc = CF_E_LIMIT, "%u:%u: more "
		    "than %d common types", t.line, t.col,
		    CF_SCHEMA_MAX_TYPES);
	c = &p->commons[p->ncommons];
	memset(c, 0, sizeof(*c));
	c->line = t.line;
	c->col = t.col;
	c->name = qualify(p, t.p, t.n, &c->nlen);
	if (c->name == NULL)
		return snomem(p);
	c->t = sparse_type(p);
	if (c->t == NULL)
		return p->rc;
	p->ncommons++;
	return sexpect(p, S_SEMI, "`;`");
}

static cf_err
sparse_decl(struct sparser *p)
{
	if (sannotations(p) != CF_OK)
		return p->rc;
	if (stok_is(&p->tok, "entity"))
		return sparse_entity(p);
	if (stok_is(&p->tok, "action"))
		return sparse_action(p);
	if (stok_is(&p->tok, "type"))
		return sparse_typedecl(p);
	return sunexpected(p, "`entity`, `action` or `type`");
}

/*
 * Resolution.
 */
static const struct cf_sch_type *resolve(struct sparser *p,
	    const struct rty *t, int depth);

static const struct cf_sch_type *
mktype(struct sparser *p, int kind)
{
	struct cf_sch_type	*t;

	t = cf_pol_arena_calloc(&p->s->ar, 1, sizeof(*t));
	if (t == NULL) {
		(void)snomem(p);
		return NULL;
	}
	t->kind = (uint8_t)kind;
	return t;
}

static const struct cf_sch_type *
builtin(struct sparser *p, const char *n, size_t len)
{
	static const struct {
		const char	*name;
		int		 kind, ext;
	} b[] = {
		{ "Bool", ST_BOOL, 0 }, { "Long", ST_LONG, 0 },
		{ "String", ST_STRING, 0 }, { "ipaddr", ST_EXT, SX_IPADDR },
		{ "decimal", ST_EXT, SX_DECIMAL },
		{ "datetime", ST_EXT, SX_DATETIME },
		{ "duration", ST_EXT, SX_DURATION },
	};
	struct cf_sch_type	*t;
	size_t			 i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (strlen(b[i].name) == len && memcmp(b[i].name, n, len) ==
		    0) {
			t = (struct cf_sch_type *)(uintptr_t)mktype(p,
			    b[i].kind);
			if (t != NULL)
				t->ext = (uint8_t)b[i].ext;
			return t;
		}
	return NULL;
}

static long
common_index(struct sparser *p, const char *n, size_t len)
{
	size_t	i;

	for (i = 0; i < p->ncommons; i++)
		if (p->commons[i].nlen == len &&
		    memcmp(p->commons[i].name, n, len) == 0)
			return (long)i;
	return -1;
}

static const struct cf_sch_type *
entity_type(struct sparser *p, long idx)
{
	struct cf_sch_type	*t;

	t = (struct cf_sch_type *)(uintptr_t)mktype(p, ST_ENTITY);
	if (t != NULL)
		t->idx = (uint32_t)idx;
	return t;
}

static const struct cf_sch_type *
common_type(struct sparser *p, long ci, int depth)
{
	struct rcommon	*c = &p->commons[ci];

	if (c->res != NULL)
		return c->res;
	if (c->busy) {
		(void)serr(p, c->line, c->col, "common type `%s` is defined "
		    "in terms of itself", c->name);
		return NULL;
	}
	c->busy = true;
	c->res = resolve(p, c->t, depth + 1);
	c->busy = false;
	return c->res;
}

/* Resolve the name n (used in namespace ns) as a type. */
static const struct cf_sch_type *
resolve_name(struct sparser *p, const struct rty *t, int depth)
{
	const char	*n = t->path;
	size_t		 len = t->plen;
	char		 buf[1024];
	long		 i;

	if (len > 9 && memcmp(n, "__cedar::", 9) == 0) {
		const struct cf_sch_type	*b;

		b = builtin(p, n + 9, len - 9);
		if (b == NULL && p->rc == CF_OK)
			(void)serr(p, t->line, t->col, "unknown type "
			    "`%.*s`", (int)(len > 60 ? 60 : len), n);
		return b;
	}
	if (memchr(n, ':', len) == NULL && t->nslen > 0 &&
	    t->nslen + 2 + len < sizeof(buf)) {
		(void)snprintf(buf, sizeof(buf), "%.*s::%.*s", (int)t->nslen,
		    t->ns, (int)len, n);
		i = common_index(p, buf, t->nslen + 2 + len);
		if (i >= 0)
			return common_type(p, i, depth);
		i = cf_sch_entity_index(p->s, buf, t->nslen + 2 + len);
		if (i >= 0)
			return entity_type(p, i);
	}
	i = common_index(p, n, len);
	if (i >= 0)
		return common_type(p, i, depth);
	i = cf_sch_entity_index(p->s, n, len);
	if (i >= 0)
		return entity_type(p, i);
	if (memchr(n, ':', len) == NULL) {
		const struct cf_sch_type	*b;

		b = builtin(p, n, len);
		if (b != NULL || p->rc != CF_OK)
			return b;
	}
	(void)serr(p, t->line, t->col, "undeclared type `%.*s`",
	    (int)(len > 60 ? 60 : len), n);
	return NULL;
}

static int
attr_cmp(const void *x, const void *y)
{
	const struct cf_sch_attr	*a = x, *b = y;

	return cf_pol_key_cmp(a->k, a->kn, b->k, b->kn);
}

static const struct cf_sch_rec *
resolve_record(struct sparser *p, const struct rty *t, int depth)
{
	struct cf_sch_rec	*r;
	size_t			 i;

	r = cf_pol_arena_alloc(&p->s->ar, sizeof(*r) +
	    (t != NULL ? t->nf : 0) * sizeof(r->a[0]));
	if (r == NULL) {
		(void)snomem(p);
		return NULL;
	}
	r->n = t != NULL ? t->nf : 0;
	for (i = 0; i < r->n; i++) {
		r->a[i].k = cf_pol_arena_strdup(&p->s->ar, t->f[i].k,
		    t->f[i].kn);
		r->a[i].kn = t->f[i].kn;
		r->a[i].req = t->f[i].req;
		r->a[i].t = resolve(p, t->f[i].t, depth + 1);
		if (r->a[i].k == NULL) {
			(void)snomem(p);
			return NULL;
		}
		if (r->a[i].t == NULL)
			return NULL;
	}
	qsort(r->a, r->n, sizeof(r->a[0]), attr_cmp);
	return r;
}

static const struct cf_sch_type *
resolve(struct sparser *p, const struct rty *t, int depth)
{
	struct cf_sch_type	*r;

	if (p->rc != CF_OK)
		return NULL;
	if (depth > CF_SCHEMA_MAX_DEPTH * 2) {
		p->rc = cf_error_set(p->err, CF_E_LIMIT, "%u:%u: type nested "
		    "deeper than %d", t->line, t->col, CF_SCHEMA_MAX_DEPTH * 2);
		return NULL;
	}
	switch (t->k) {
	case R_PATH:
		return resolve_name(p, t, depth);
	case R_SET:
		r = (struct cf_sch_type *)(uintptr_t)mktype(p, ST_SET);
		if (r == NULL)
			return NULL;
		r->elem = resolve(p, t->elem, depth + 1);
		return r->elem == NULL ? NULL : r;
	default:
		r = (struct cf_sch_type *)(uintptr_t)mktype(p, ST_RECORD);
		if (r == NULL)
			return NULL;
		r->rec = resolve_record(p, t, depth);
		return r->rec == NULL ? NULL : r;
	}
}

/* An entity type reference (in `in [...]` or appliesTo). */
static long
resolve_etype(struct sparser *p, const struct rname *rn, const char *ns,
    size_t nslen)
{
	char	buf[1024];
	long	i;

	if (memchr(rn->p, ':', rn->n) == NULL && nslen > 0 &&
	    nslen + 2 + rn->n < sizeof(buf)) {
		(void)snprintf(buf, sizeof(buf), "%.*s::%.*s", (int)nslen, ns,
		    (int)rn->n, rn->p);
		i = cf_sch_entity_index(p->s, buf, nslen + 2 + rn->n);
		if (i >= 0)
			return i;
	}
	i = cf_sch_entity_index(p->s, rn->p, rn->n);
	if (i < 0)
		(void)serr(p, rn->line, rn->col, "undeclared entity type "
		    "`%.*s`", (int)(rn->n > 60 ? 60 : rn->n), rn->p);
	return i;
}

static uint8_t *
bits_new(struct sparser *p, size_t n)
{
	uint8_t	*b;

	b = cf_pol_arena_calloc(&p->s->ar, n / 8 + 1, 1);
	if (b == NULL)
		(void)snomem(p);
	return b;
}

static void
bit_set(uint8_t *b, size_t i)
{
	b[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* Close a relation under transitivity (Warshall): rel[i] is the bit set of
 * the elements directly below i; afterwards, of all elements below i.
 * n^3/8 byte operations, and n is bounded (CF_SCHEMA_MAX_TYPES). */
static void
close_bits(uint8_t **rel, size_t n)
{
	size_t	i, j, k, nb = n / 8 + 1;

	for (k = 0; k < n; k++)
		for (i = 0; i < n; i++) {
			if (!cf_sch_bit(rel[i], k))
				continue;
			for (j = 0; j < nb; j++)
				rel[i][j] |= rel[k][j];
		}
}

static cf_err
build(struct sparser *p)
{
	struct cf_schema	*s = p->s;
	uint8_t			**rel = NULL;
	size_t			 i, j;
	long			 k;
	char			 buf[1024];
	cf_err			 rc;

	s->ents = cf_pol_arena_calloc(&s->ar, p->nents + 1,
	    sizeof(*s->ents));
	s->acts = cf_pol_arena_calloc(&s->ar, p->nacts + 1,
	    sizeof(*s->acts));
	s->atypes = cf_pol_arena_calloc(&s->ar, p->nacts + 1,
	    sizeof(*s->atypes));
	s->atlens = cf_pol_arena_calloc(&s->ar, p->nacts + 1,
	    sizeof(*s->atlens));
	if (s->ents == NULL || s->acts == NULL || s->atypes == NULL ||
	    s->atlens == NULL)
		return snomem(p);
	/* Names first, so that references resolve in any order. */
	for (i = 0; i < p->nents; i++) {
		if (cf_sch_entity_index(s, p->ents[i].name,
		    p->ents[i].nlen) >= 0 || common_index(p, p->ents[i].name,
		    p->ents[i].nlen) >= 0)
			return serr(p, p->ents[i].line, p->ents[i].col,
			    "`%s` is declared twice", p->ents[i].name);
		s->ents[i].name = cf_pol_arena_strdup(&s->ar, p->ents[i].name,
		    p->ents[i].nlen);
		s->ents[i].nlen = p->ents[i].nlen;
		if (s->ents[i].name == NULL)
			return snomem(p);
		s->nents = i + 1;
	}
	for (i = 0; i < p->ncommons; i++)
		if (common_index(p, p->commons[i].name, p->commons[i].nlen) !=
		    (long)i)
			return serr(p, p->commons[i].line, p->commons[i].col,
			    "`%s` is declared twice", p->commons[i].name);
	for (i = 0; i < p->nacts; i++) {
		const struct cf_pol_uid	*u;

		u = cf_pol_uid_new(&s->ar, p->acts[i].atype, p->acts[i].atlen,
		    p->acts[i].id, p->acts[i].idlen);
		if (u == NULL)
			return snomem(p);
		if (cf_sch_action_index(s, u) >= 0)
			return serr(p, p->acts[i].line, p->acts[i].col,
			    "action `%.*s` is declared twice",
			    (int)(u->ilen > 60 ? 60 : u->ilen), u->id);
		s->acts[i].uid = u;
		k = cf_sch_atype_index(s, u->type, u->tlen);
		if (k < 0) {
			k = (long)s->natypes;
			s->atypes[s->natypes] = u->type;
			s->atlens[s->natypes++] = u->tlen;
		}
		s->acts[i].atype = (uint32_t)k;
		s->nacts = i + 1;
	}
	/* Every common type resolves, used or not (a cycle is an error). */
	for (i = 0; i < p->ncommons; i++)
		if (common_type(p, (long)i, 0) == NULL)
			return p->rc;
	/* Entity types: attributes, tags, enums, hierarchy. */
	rel = cf_calloc(p->nents + 1, sizeof(*rel));
	if (rel == NULL)
		return snomem(p);
	for (i = 0; i < p->nents; i++) {
		s->ents[i].desc = bits_new(p, p->nents);
		if (s->ents[i].desc == NULL)
			goto out;
		rel[i] = s->ents[i].desc;
	}
	for (i = 0; i < p->nents; i++) {
		struct cf_sch_etype	*e = &s->ents[i];
		const struct rent	*r = &p->ents[i];

		e->attrs = resolve_record(p, r->attrs, 0);
		if (e->attrs == NULL)
			goto out;
		if (r->tags != NULL) {
			e->tags = resolve(p, r->tags, 0);
			if (e->tags == NULL)
				goto out;
		}
		e->is_enum = r->is_enum;
		e->nenums = r->nenums;
		e->enums = cf_pol_arena_calloc(&s->ar, r->nenums + 1,
		    sizeof(*e->enums));
		e->enumlens = cf_pol_arena_calloc(&s->ar, r->nenums + 1,
		    sizeof(*e->enumlens));
		if (e->enums == NULL || e->enumlens == NULL) {
			(void)snomem(p);
			goto out;
		}
		for (j = 0; j < r->nenums; j++) {
			e->enumlens[j] = r->enumlens[j];
			e->enums[j] = cf_pol_arena_strdup(&s->ar, r->enums[j],
			    r->enumlens[j]);
			if (e->enums[j] == NULL) {
				(void)snomem(p);
				goto out;
			}
		}
	}
	for (i = 0; i < p->nents; i++)
		for (j = 0; j < p->ents[i].nparents; j++) {
			k = resolve_etype(p, &p->ents[i].parents[j],
			    p->ents[i].ns, p->ents[i].nslen);
			if (k < 0)
				goto out;
			bit_set(s->ents[k].desc, i);
		}
	close_bits(rel, p->nents);
	cf_free(rel);
	rel = NULL;
	/* Actions: appliesTo, context, hierarchy. */
	rel = cf_calloc(p->nacts + 1, sizeof(*rel));
	if (rel == NULL)
		return snomem(p);
	for (i = 0; i < p->nacts; i++) {
		s->acts[i].desc = bits_new(p, p->nacts);
		if (s->acts[i].desc == NULL)
			goto out;
		rel[i] = s->acts[i].desc;
	}
	for (i = 0; i < p->nacts; i++) {
		struct cf_sch_action	*a = &s->acts[i];
		const struct ract	*r = &p->acts[i];

		a->applies = r->applies;
		a->ptypes = cf_pol_arena_calloc(&s->ar, r->nptypes + 1,
		    sizeof(*a->ptypes));
		a->rtypes = cf_pol_arena_calloc(&s->ar, r->nrtypes + 1,
		    sizeof(*a->rtypes));
		if (a->ptypes == NULL || a->rtypes == NULL) {
			(void)snomem(p);
			goto out;
		}
		for (j = 0; j < r->nptypes; j++) {
			k = resolve_etype(p, &r->ptypes[j], r->ns, r->nslen);
			if (k < 0)
				goto out;
			a->ptypes[a->nptypes++] = (uint32_t)k;
		}
		for (j = 0; j < r->nrtypes; j++) {
			k = resolve_etype(p, &r->rtypes[j], r->ns, r->nslen);
			if (k < 0)
				goto out;
			a->rtypes[a->nrtypes++] = (uint32_t)k;
		}
		if (r->context != NULL) {
			a->context = resolve(p, r->context, 0);
			if (a->context == NULL)
				goto out;
			if (a->context->kind != ST_RECORD) {
				(void)serr(p, r->context->line,
				    r->context->col, "the context of an action "
				    "must be a record type");
				goto out;
			}
		} else {
			struct cf_sch_type	*t;

			t = (struct cf_sch_type *)(uintptr_t)mktype(p,
			    ST_RECORD);
			if (t == NULL)
				goto out;
			t->rec = resolve_record(p, NULL, 0);
			if (t->rec == NULL)
				goto out;
			a->context = t;
		}
		for (j = 0; j < r->nparents; j++) {
			const struct rname	*rn = &r->parents[j];
			struct cf_pol_uid	 key;
			size_t			 tl;
			const char		*ty;

			if (rn->type == NULL) {
				ty = r->atype;
				tl = r->atlen;
			} else if (memchr(rn->type, ':', rn->tlen) == NULL &&
			    r->nslen > 0 && r->nslen + 2 + rn->tlen <
			    sizeof(buf)) {
				(void)snprintf(buf, sizeof(buf), "%.*s::%.*s",
				    (int)r->nslen, r->ns, (int)rn->tlen,
				    rn->type);
				ty = buf;
				tl = r->nslen + 2 + rn->tlen;
			} else {
				ty = rn->type;
				tl = rn->tlen;
			}
			key.type = ty;
			key.tlen = (uint32_t)tl;
			key.id = rn->p;
			key.ilen = (uint32_t)rn->n;
			key.hash = cf_pol_hash(ty, tl, rn->p, rn->n);
			k = cf_sch_action_index(s, &key);
			if (k < 0) {
				(void)serr(p, rn->line, rn->col, "undeclared "
				    "action `%.*s::\"%.*s\"`", (int)(tl > 60 ?
				    60 : tl), ty, (int)(rn->n > 60 ? 60 :
				    rn->n), rn->p);
				goto out;
			}
			bit_set(s->acts[k].desc, i);
		}
	}
	close_bits(rel, p->nacts);
	for (i = 0; i < p->nacts; i++) {
		if (cf_sch_bit(s->acts[i].desc, i)) {
			(void)serr(p, p->acts[i].line, p->acts[i].col, "action "
			    "`%.*s` is in a cycle of the action hierarchy",
			    (int)(p->acts[i].idlen > 60 ? 60 :
			    p->acts[i].idlen), p->acts[i].id);
			goto out;
		}
		bit_set(s->acts[i].desc, i);
	}
out:
	rc = p->rc;
	cf_free(rel);
	return rc;
}

long
cf_sch_entity_index(const struct cf_schema *s, const char *name, size_t n)
{
	size_t	i;

	for (i = 0; i < s->nents; i++)
		if (s->ents[i].nlen == n && memcmp(s->ents[i].name, name, n) ==
		    0)
			return (long)i;
	return -1;
}

long
cf_sch_action_index(const struct cf_schema *s, const struct cf_pol_uid *uid)
{
	size_t	i;

	for (i = 0; i < s->nacts; i++)
		if (cf_pol_uid_eq(s->acts[i].uid, uid))
			return (long)i;
	return -1;
}

long
cf_sch_atype_index(const struct cf_schema *s, const char *name, size_t n)
{
	size_t	i;

	for (i = 0; i < s->natypes; i++)
		if (s->atlens[i] == n && memcmp(s->atypes[i], name, n) == 0)
			return (long)i;
	return -1;
}

const struct cf_sch_attr *
cf_sch_rec_get(const struct cf_sch_rec *r, const char *k, size_t kn)
{
	size_t	lo = 0, hi = r->n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cf_pol_key_cmp(r->a[mid].k, r->a[mid].kn, k, kn);
		if (c == 0)
			return &r->a[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

cf_err
cf_schema_parse(const char *src, size_t len, struct cf_schema **out,
    struct cf_error *err)
{
	struct sparser	 p;
	struct cf_schema	*s = NULL;
	cf_err		 rc;

	if (len > CF_SCHEMA_MAX_SRC)
		return cf_error_set(err, CF_E_LIMIT, "schema text of %zu bytes "
		    "exceeds the limit of %u", len, CF_SCHEMA_MAX_SRC);
	if (src == NULL && len > 0)
		return cf_error_set(err, CF_E_INVAL, "NULL schema text");
	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	cf_pol_arena_init(&s->ar);
	memset(&p, 0, sizeof(p));
	cf_pol_arena_init(&p.tmp);
	p.src = src != NULL ? src : "";
	p.len = len;
	p.line = 1;
	p.s = s;
	p.err = err;
	p.ns = "";
	slex(&p);
	while (p.rc == CF_OK && p.tok.t != S_EOF) {
		if (sannotations(&p) != CF_OK)
			break;
		if (!stok_is(&p.tok, "namespace")) {
			(void)sparse_decl(&p);
			continue;
		}
		snext(&p);
		if (spath(&p, &p.ns, &p.nslen, false, NULL) != CF_OK ||
		    sexpect(&p, S_LBRACE, "`{`") != CF_OK)
			break;
		while (p.rc == CF_OK && p.tok.t != S_RBRACE &&
		    p.tok.t != S_EOF)
			(void)sparse_decl(&p);
		if (sexpect(&p, S_RBRACE, "`}`") != CF_OK)
			break;
		p.ns = "";
		p.nslen = 0;
	}
	if (p.rc == CF_OK)
		(void)build(&p);
	rc = p.rc;
	cf_pol_arena_free(&p.tmp);
	if (rc != CF_OK) {
		cf_schema_free(s);
		return rc;
	}
	*out = s;
	return CF_OK;
}

void
cf_schema_free(struct cf_schema *s)
{
	if (s == NULL)
		return;
	cf_pol_arena_free(&s->ar);
	cf_free(s);
}

size_t
cf_schema_entity_type_count(const struct cf_schema *s)
{
	return s->nents;
}

size_t
cf_schema_action_count(const struct cf_schema *s)
{
	return s->nacts;
}

bool
cf_schema_has_entity_type(const struct cf_schema *s, const char *name)
{
	return name != NULL && cf_sch_entity_index(s, name, strlen(name)) >= 0;
}

bool
cf_schema_has_action(const struct cf_schema *s, const char *type,
    const char *id)
{
	struct cf_pol_uid	key;

	if (type == NULL || id == NULL)
		return false;
	key.type = type;
	key.tlen = (uint32_t)strlen(type);
	key.id = id;
	key.ilen = (uint32_t)strlen(id);
	key.hash = cf_pol_hash(type, key.tlen, id, key.ilen);
	return cf_sch_action_index(s, &key) >= 0;
}
