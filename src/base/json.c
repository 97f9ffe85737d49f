/* src/base/json.c: bounded JSON parsing over jansson, and the wiping
 * allocator installed for it; see json.h. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

/* The test hook of cf_test_json_free_hook(); NULL in production. */
static void	(*free_hook)(const void *, size_t);

void
cf_test_json_free_hook(void (*fn)(const void *p, size_t n))
{
	free_hook = fn;
}

/* Set when an allocation for jansson fails on this thread: jansson
 * reports most of its allocation failures as syntax errors ("invalid
 * token", or no message at all), so cf_json_parse() asks here instead. */
static _Thread_local bool	alloc_failed;

static void *
json_alloc(size_t n)
{
	void	*p = cf_malloc(n);

	if (p == NULL)
		alloc_failed = true;
	return p;
}

void
cf_json_free(void *p)
{
	size_t	n;

	if (p == NULL)
		return;
	/* SEC: wipe the whole block before it goes back to the heap.  The
	 * size comes from malloc_usable_size(3) rather than a header in
	 * front of each block: blocks jansson hands out (json_dumps) are
	 * released with plain free(3) by our callers and by librhonabwy, so
	 * they must stay ordinary malloc blocks. */
	n = malloc_usable_size(p);
	cf_wipe(p, n);
	if (free_hook != NULL)
		free_hook(p, n);
	cf_free(p);
}

void
cf_json_alloc_install(void)
{
	json_set_alloc_funcs(json_alloc, cf_json_free);
}

static size_t
json_depth(json_t *v, size_t limit)
{
	size_t		 d = 0, c, i;
	const char	*k;
	json_t		*m;

	if (limit == 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, k, m) {
			c = json_depth(m, limit - 1);
			if (c > d)
				d = c;
			if (d >= limit)
				break;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			c = json_depth(m, limit - 1);
			if (c > d)
				d = c;
			if (d >= limit)
				break;
		}
		return d + 1;
	}
	return 0;
}

cf_err
cf_json_parse(const void *buf, size_t len, size_t max_len, size_t max_depth,
    json_t **out, struct cf_error *err)
{
	json_error_t	 jerr;
	json_t		*v;

	if (len > max_len)
		return cf_error_set(err, CF_E_LIMIT,
		    "JSON body of %zu bytes exceeds the limit of %zu", len,
		    max_len);
	/* jansson rejects invalid UTF-8 and \u0000 by default. */
	alloc_failed = false;
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (v == NULL) {
		/* SEC: running out of memory is our failure, never blamed on
		 * the input (a 5xx, not a 400). */
		if (alloc_failed ||
		    json_error_code(&jerr) == json_error_out_of_memory)
			return cf_error_set(err, CF_E_NOMEM, "out of memory");
		return cf_error_set(err, CF_E_INPUT, "%d:%d: %s", jerr.line,
		    jerr.column, jerr.text);
	}
	if (json_depth(v, max_depth + 1) > max_depth) {
		json_decref(v);
		return cf_error_set(err, CF_E_LIMIT,
		    "JSON nested deeper than %zu", max_depth);
	}
	*out = v;
	return CF_OK;
}

static cf_err
get_member(const json_t *obj, const char *name, bool required, json_t **m,
    struct cf_error *err)
{
	if (!json_is_object(obj))
		return cf_error_set(err, CF_E_INPUT, "expected a JSON object");
	*m = json_object_get(obj, name);
	if (*m == NULL && required)
		return cf_error_set(err, CF_E_NOTFOUND,
		    "missing member \"%s\"", name);
	return CF_OK;
}

cf_err
cf_json_get_str(const json_t *obj, const char *name, bool required,
    const char **out, struct cf_error *err)
{
	json_t	*m;
	cf_err	 rc;

	rc = get_member(obj, name, required, &m, err);
	if (rc != CF_OK || m == NULL)
		return rc;
	if (!json_is_string(m))
		return cf_error_set(err, CF_E_INPUT,
		    "member \"%s\" must be a string", name);
	*out = json_string_value(m);
	return CF_OK;
}

cf_err
cf_json_get_int(const json_t *obj, const char *name, bool required,
    int64_t *out, struct cf_error *err)
{
	json_t	*m;
	cf_err	 rc;

	rc = get_member(obj, name, required, &m, err);
	if (rc != CF_OK || m == NULL)
		return rc;
	if (!json_is_integer(m))
		return cf_error_set(err, CF_E_INPUT,
		    "member \"%s\" must be an integer", name);
	*out = (int64_t)json_integer_value(m);
	return CF_OK;
}

cf_err
cf_json_get_bool(const json_t *obj, const char *name, bool required,
    bool *out, struct cf_error *err)
{
	json_t	*m;
	cf_err	 rc;

	rc = get_member(obj, name, required, &m, err);
	if (rc != CF_OK || m == NULL)
		return rc;
	if (!json_is_boolean(m))
		return cf_error_set(err, CF_E_INPUT,
		    "member \"%s\" must be true or false", name);
	*out = json_is_true(m);
	return CF_OK;
}

struct dump_ctx {
	struct cf_buf	*b;
	cf_err		 rc;		/* the first failed write's */
};

static int
dump_out(const char *p, size_t n, void *arg)
{
	struct dump_ctx	*d = arg;

	if (d->rc == CF_OK)
		d->rc = cf_buf_append(d->b, p, n, NULL);
	return d->rc == CF_OK ? 0 : -1;	/* latched: see json.h */
}

cf_err
cf_json_dump(const json_t *v, size_t flags, struct cf_buf *b,
    struct cf_error *err)
{
	struct dump_ctx	d = { b, CF_OK };
	size_t		start = b->len;

	if (json_dump_callback(v, dump_out, &d, flags) == 0 && d.rc == CF_OK)
		return CF_OK;
	b->len = start;
	if (b->data != NULL)
		b->data[start] = '\0';
	if (d.rc == CF_E_LIMIT)
		return cf_error_set(err, CF_E_LIMIT, "JSON text too large");
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

char *
cf_json_dumps_flags(const json_t *v, size_t flags)
{
	struct cf_buf	b;

	cf_buf_init(&b, SIZE_MAX / 2);
	/* The append of nothing makes an empty text a buffer too. */
	if (cf_json_dump(v, flags | JSON_ENCODE_ANY, &b, NULL) != CF_OK ||
	    cf_buf_append(&b, "", 0, NULL) != CF_OK) {
		cf_buf_free(&b);
		return NULL;
	}
	return cf_buf_take(&b);
}

char *
cf_json_dumps(const json_t *v)
{
	return cf_json_dumps_flags(v, JSON_COMPACT);
}

const char *
cf_json_lib_version(void)
{
	return jansson_version_str();
}
