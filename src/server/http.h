/* src/server/http.h: the REST API v1 front end on libmicrohttpd.
 * It parses HTTP, calls the core operations and answers; it never touches
 * a store.  Every response passes through one function (respond) that
 * makes sure the request was audited first. */
#ifndef CF_SERVER_HTTP_H
#define CF_SERVER_HTTP_H

#include "base/error.h"
#include "core/core.h"
#include "server/config.h"

struct cf_http;

/* The listener settings cf_http_start would refuse: cfg->listen must be
 * a numeric ADDR:PORT (or localhost:PORT), and cfg->insecure_http is
 * allowed only on a loopback address.  `coffer server --check` and the
 * real start apply this one rule.  CF_E_INPUT with the reason. */
cf_err	cf_http_check_listen(const struct cf_config *cfg,
	    struct cf_error *err);

/* cert_pem/key_pem: NULL with cfg->insecure_http.  They are copied by
 * libmicrohttpd's TLS setup; the caller wipes its copies. */
cf_err	cf_http_start(struct cf_core *core, const struct cf_config *cfg,
	    const char *cert_pem, const char *key_pem, struct cf_http **out,
	    struct cf_error *err);
void	cf_http_stop(struct cf_http *h);

#endif
