/* src/base/worker.h: a background thread that processes one buffer at a
 * time while its producer fills the next (double buffering).
 *
 * The producer submits a buffer; submit first waits for the previous job,
 * so at most one job is in flight and the producer may reuse any buffer
 * but the one it just submitted.  The first error of a job is sticky: it
 * is returned by every later submit and wait.  Used by the blob writer
 * (disk writes) and the upload path (hash + encrypt). */
#ifndef CF_BASE_WORKER_H
#define CF_BASE_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cf_worker;

/* Process p[0..n); runs on the worker thread. */
typedef cf_err	(*cf_worker_fn)(void *arg, const uint8_t *p, size_t n,
		    struct cf_error *err);

/* CF_E_NOMEM when the thread cannot be started (callers may then do the
 * work themselves). */
cf_err	cf_worker_start(cf_worker_fn fn, void *arg, struct cf_worker **out,
	    struct cf_error *err);
/* Wait for the job in flight, then hand p[0..n) over; p must stay valid
 * and unchanged until the next submit, wait or stop returns.  Returns the
 * sticky error, if any, without queueing. */
cf_err	cf_worker_submit(struct cf_worker *w, const uint8_t *p, size_t n,
	    struct cf_error *err);
/* Wait until the worker is idle; the sticky error, if any. */
cf_err	cf_worker_wait(struct cf_worker *w, struct cf_error *err);
/* Finish the job in flight, end the thread, free w (NULL: no-op). */
void	cf_worker_stop(struct cf_worker *w);

#endif
