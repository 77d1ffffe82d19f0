/*
 * call: calls between devices. A back-to-back user agent answers the caller's INVITE as its
 * own dialog (leg A) and places a separate INVITE to each registered device of the dialled
 * directory number (shared line: the first to answer wins, the others get CANCEL); the
 * winner's dialog is leg B. The call model keeps, per call, its legs, their devices and
 * security, and the call's state, for the API, and tells observers (CTI) of every change.
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

/*
 * Observers: how CTI follows calls. A connection is one line appearance's part in a call: a
 * device, and the directory number it has the call on. Each change of a connection's state
 * is told to every observer as it happens, from the event loop, in order. An observer must
 * not call back into the call layer from its callback (it may schedule work for later); the
 * event's strings live only during the call. States, events and causes are CSTA's
 * (ECMA-269, spec csta.md §2.7 and §3.5), which CTI reports as they are.
 */
enum call_connection_state {
	CALL_CONN_NULL,
	CALL_CONN_ALERTING,
	CALL_CONN_CONNECTED,
	CALL_CONN_HOLD,
	CALL_CONN_FAIL
};

enum call_event_kind {
	CALL_EVENT_ORIGINATED,  /* a device placed the call (connected) */
	CALL_EVENT_DELIVERED,   /* a device of the called line rings (alerting) */
	CALL_EVENT_ESTABLISHED, /* a device answered (connected) */
	CALL_EVENT_HELD,        /* the device put the call on hold (hold) */
	CALL_EVENT_RETRIEVED,   /* and took it back (connected) */
	CALL_EVENT_TRANSFERRED, /* by a transfer, the connection moved into this call, or talks to
	                           another party now (connected) */
	CALL_EVENT_FAILED,      /* the called line cannot take the call (fail; device "") */
	CALL_EVENT_CLEARED      /* the connection is gone (null) */
};

enum call_cause {
	CALL_CAUSE_NEW_CALL,
	CALL_CAUSE_NORMAL, /* hold and retrieve */
	CALL_CAUSE_NORMAL_CLEARING,
	CALL_CAUSE_BUSY,                /* 486, 600 */
	CALL_CAUSE_DEST_NOT_OBTAINABLE, /* no registered device, unknown, unreachable */
	CALL_CAUSE_TRANSFER,            /* an attended transfer, or a device taking a call over */
	CALL_CAUSE_SINGLE_STEP_TRANSFER /* a blind transfer (REFER without Replaces) */
};

struct call_event {
	enum call_event_kind kind;
	uint64_t call; /* the call's id, as GET /api/v1/calls shows it */
	const char *device;
	const char *dn;
	enum call_connection_state state; /* the connection's state after the event */
	enum call_cause cause;
	const char *calling; /* the call's directory numbers: the caller's, and the dialled one */
	const char *called;
	enum call_security security; /* the call's, at the time of the event */
};

typedef void (*call_observer_fn)(void *arg, const struct call_event *ev);
int call_observer_add(struct call_service *cs, call_observer_fn fn, void *arg,
                      struct base_err *err);
void call_observer_remove(struct call_service *cs, call_observer_fn fn, void *arg);
/* CSTA's names: "DeliveredEvent", "alerting", "busy"... */
const char *call_event_name(enum call_event_kind kind);
const char *call_connection_state_name(enum call_connection_state state);
const char *call_cause_name(enum call_cause cause);

#endif
