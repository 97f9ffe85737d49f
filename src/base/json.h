/* src/base/json.h: bounded JSON parsing and typed getters over jansson. */
#ifndef CF_BASE_JSON_H
#define CF_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

/* Parse exactly one JSON value from buf[0..len) (not NUL-terminated),
 * rejecting inputs over max_len bytes, invalid UTF-8, duplicate object keys
 * and nesting deeper than max_depth.  On success *out owns a reference
 * (json_decref).  Errors are CF_E_INPUT / CF_E_LIMIT with "line:col: msg". */
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

/* Serialize compactly into a new string (free with cf_free via free()). */
char	*cf_json_dumps(const json_t *v);

#endif
