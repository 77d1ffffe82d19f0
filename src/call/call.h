/*
 * call: calls between devices. A back-to-back user agent answers the caller's INVITE as its
 * own dialog (leg A) and places a separate INVITE to each registered device of the dialled
 * directory number (shared line: the first to answer wins, the others get CANCEL); the
 * winner's dialog is leg B. The call model keeps, per call, its legs, their devices and
 * security, and the call's state, for the API and, later, for CTI observers.
 */
#ifndef UCM_CALL_H
#define UCM_CALL_H

#include "sip/sip.h"
#include "store/store.h"

#include <jansson.h>

struct call_service;

int call_service_start(struct call_service **out, struct event_base *base, struct store *store,
                       struct sip_stack *stack, struct sip_registrar *registrar,
                       struct base_err *err);
void call_service_stop(struct call_service *cs);

/* The requests call control owns: INVITE, CANCEL, BYE (and ACKs through the stack's hook). */
void call_handle_request(struct call_service *cs, struct sip_server_tx *tx);

/* The live calls, as GET /api/v1/calls shows them. */
json_t *call_list_json(struct call_service *cs);

/* Security of a call: the lowest of its legs (RFC-neutral names of the requirements). */
enum call_security { CALL_NON_SECURE, CALL_AUTHENTICATED, CALL_ENCRYPTED };
const char *call_security_name(enum call_security s);

#endif
