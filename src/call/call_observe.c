/*
 * Observers of calls, and the events they are told (call.h).
 *
 * Each leg remembers the state its observers last heard (conn), so that the end of a call can
 * clear exactly the connections that were announced, wherever the call ends: call_free clears
 * what is left, and the places that know better (a BYE, a transfer) clear theirs first with
 * their own cause.
 */
#include "call/call_int.h"

#include <stdlib.h>

int call_observer_add(struct call_service *cs, call_observer_fn fn, void *arg, struct base_err *err)
{
	struct call_observer *grown = realloc(cs->observers, (cs->nobservers + 1) * sizeof(*grown));
	if (!grown)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	cs->observers = grown;
	cs->observers[cs->nobservers++] = (struct call_observer){fn, arg};
	return 0;
}

void call_observer_remove(struct call_service *cs, call_observer_fn fn, void *arg)
{
	for (size_t i = 0; i < cs->nobservers; i++) {
		if (cs->observers[i].fn == fn && cs->observers[i].arg == arg) {
			cs->observers[i] = cs->observers[--cs->nobservers];
			return;
		}
	}
}

const char *call_event_name(enum call_event_kind kind)
{
	static const char *const names[] = {
	    "OriginatedEvent", "DeliveredEvent",  "EstablishedEvent", "HeldEvent",
	    "RetrievedEvent",  "TransferedEvent", "FailedEvent",      "ConnectionClearedEvent"};
	return names[kind];
}

const char *call_connection_state_name(enum call_connection_state state)
{
	static const char *const names[] = {"null", "alerting", "connected", "hold", "fail"};
	return names[state];
}

const char *call_cause_name(enum call_cause cause)
{
	static const char *const names[] = {
	    "newCall",           "normal",   "normalClearing",    "busy",
	    "destNotObtainable", "transfer", "singleStepTransfer"};
	return names[cause];
}

enum call_cause call_cause_of_status(uint16_t status)
{
	return status == 486 || status == 600 ? CALL_CAUSE_BUSY : CALL_CAUSE_DEST_NOT_OBTAINABLE;
}

static void tell(struct call *c, const char *device, const char *dn, enum call_event_kind kind,
                 enum call_connection_state state, enum call_cause cause)
{
	struct call_service *cs = c->cs;
	const struct call_event ev = {kind,    c->id,   device,        dn, state, cause,
	                              c->a.dn, c->b.dn, call_status(c)};
	for (size_t i = 0; i < cs->nobservers; i++)
		cs->observers[i].fn(cs->observers[i].arg, &ev);
}

void call_leg_notify(struct call *c, struct call_leg *leg, enum call_event_kind kind,
                     enum call_connection_state state, enum call_cause cause)
{
	leg->conn = state;
	tell(c, leg->device, leg->dn, kind, state, cause);
}

void call_leg_clear(struct call *c, struct call_leg *leg, enum call_cause cause)
{
	if (leg && leg->conn != CALL_CONN_NULL)
		call_leg_notify(c, leg, CALL_EVENT_CLEARED, CALL_CONN_NULL, cause);
}

void call_notify_failed(struct call *c, const char *dn, uint16_t status)
{
	tell(c, "", dn, CALL_EVENT_FAILED, CALL_CONN_FAIL, call_cause_of_status(status));
}

void call_clear_connections(struct call *c)
{
	call_leg_clear(c, &c->a, CALL_CAUSE_NORMAL_CLEARING);
	if (c->state == CALL_CONNECTED)
		call_leg_clear(c, &c->b, CALL_CAUSE_NORMAL_CLEARING);
	call_leg_clear(c, c->replaced, CALL_CAUSE_NORMAL_CLEARING);
	for (size_t i = 0; i < c->nbranches; i++)
		if (!c->branches[i].done)
			call_leg_clear(c, &c->branches[i].leg, CALL_CAUSE_NORMAL_CLEARING);
}
