/* src/base/json.h: bounded JSON parsing and typed getters over jansson. */
#ifndef CF_BASE_JSON_H
#define CF_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"

/* Parse exactly one JSON value from buf[0..len) (not NUL-terminated),
 * rejecting inputs over max_len bytes, invalid UTF-8, duplicate object keys
 * and nesting deeper than max_depth.  On success *out owns a reference
 * (json_decref).  Errors are CF_E_INPUT / CF_E_LIMIT with "line:col: msg",
 * and CF_E_NOMEM when an allocation fails (reliably only with
 * cf_json_alloc_install(): jansson itself reports most of its allocation
 * failures as syntax errors). */
cf_err	cf_json_parse(const void *buf, size_t len, size_t max_len,
	    size_t max_depth, json_t **out, struct cf_error *err);

/* Typed member lookups.  Absent members are CF_E_NOTFOUND when required is
 * true and CF_OK with *out untouched otherwise; a member of the wrong type
 * is CF_E_INPUT naming the member. */
cf_err	cf_json_get_str(const json_t *obj, const char *name, bool required,
	    const char **out, struct cf_error *err);
cf_err	cf_json_get_int(const json_t *obj, const char *name, bool required,
	    int64_t *out, struct cf_error *err);
cf_err	cf_json_get_bool(const json_t *obj, const char *name, bool required,
	    bool *out, struct cf_error *err);

/* Serialize v (jansson flags) onto the end of b.  CF_E_NOMEM or
 * CF_E_LIMIT (b's maximum) when it does not fit; b is then as it was.
 * SEC: the only way this project serializes JSON.  jansson 2.14 ignores
 * a failed write of an object's key: json_dumps and json_dump_callback
 * then return success with the key missing from the text (a corrupt
 * scope or metadata, say).  Here the first failed write fails every
 * later one and the whole call. */
cf_err	cf_json_dump(const json_t *v, size_t flags, struct cf_buf *b,
	    struct cf_error *err);

/* Serialize v (jansson flags; JSON_ENCODE_ANY is added) into a new
 * string, by cf_json_dump: NULL only when out of memory.  Release it with
 * cf_json_free() (which wipes it; free(3) also works). */
char	*cf_json_dumps_flags(const json_t *v, size_t flags);
/* The same, compact. */
char	*cf_json_dumps(const json_t *v);

/* Make jansson allocate through cf_malloc (so cf_test_fail_alloc_after
 * reaches it) and free through cf_json_free(), which wipes every block
 * before releasing it.  SEC: jansson copies every string it parses
 * (passwords, TOTP and recovery codes in request bodies) into blocks of
 * its own and frees them unwiped; with this installed nothing it frees
 * keeps a secret.  The program calls it once, first thing in main(),
 * before any other jansson call (a block allocated before is still freed
 * correctly, only without the guarantee).  Process-wide, not
 * thread-safe with concurrent jansson use. */
void	cf_json_alloc_install(void);
/* The version of the jansson the process runs with (jansson_version_str):
 * for the posture check's minimum versions. */
const char *cf_json_lib_version(void);

/* Wipe and free a block from jansson (json_dumps text, or any block it
 * allocated); NULL is a no-op.  The size wiped is malloc_usable_size(3),
 * so any malloc(3) block may be passed. */
void	cf_json_free(void *p);

/* Test hook: fn(p, n) is called for each block cf_json_free() releases,
 * after the wipe and before free(3), so a test can check the n bytes at p
 * are zero.  NULL removes it.  For unit tests only. */
void	cf_test_json_free_hook(void (*fn)(const void *p, size_t n));

#endif
