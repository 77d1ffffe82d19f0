/*
 * admin: the REST API /api/v1 over HTTPS, administrator authentication, the bootstrap of the
 * first administrator, and the JSON codec of requests. It turns HTTP into store calls and
 * store errors into HTTP; the rules themselves live in store.
 */
#ifndef UCM_ADMIN_H
#define UCM_ADMIN_H

#include "base/base.h"
#include "call/call.h"
#include "pki/pki.h"
#include "store/store.h"

#include <event2/event.h>
#include <jansson.h>

/* Largest request body accepted; larger ones get 413. */
#define ADMIN_MAX_BODY (1024 * 1024)

struct admin;

struct admin_options {
	const char *listen;         /* "127.0.0.1:8443" */
	const char *data_dir;       /* where bootstrap.token lives */
	struct call_service *calls; /* live calls for GET /api/v1/calls; may be NULL */
	/* Signs EST enrollments off the loop. Free it before admin_stop(): its last done()
	 * callbacks still use the admin. */
	struct net_work_pool *work;
};

int admin_start(struct admin **out, struct event_base *base, struct store *store, struct pki *pki,
                const struct admin_options *opt, struct base_err *err);
void admin_stop(struct admin *admin);

/* Decodes a request body into a JSON object: well-formed UTF-8 JSON, an object at the top,
 * within the size limit. BASE_E_BAD_REQUEST or BASE_E_TOO_LARGE otherwise. */
int admin_request_decode(const char *body, size_t len, json_t **out, struct base_err *err);

/* The HTTP status of an error code. */
int admin_http_status(enum base_err_code code);

#endif
