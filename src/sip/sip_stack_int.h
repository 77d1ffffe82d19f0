/* Private to the sip layer: the stack shared by its server and client transaction files. */
#ifndef UCM_SIP_STACK_INT_H
#define UCM_SIP_STACK_INT_H

#include "sip/sip.h"

#include <event2/event.h>

#define SIP_T1_MS 500
#define SIP_T2_MS 4000
#define SIP_T4_MS 5000

struct sip_stack {
	struct event_base *base;
	struct sip_transport *tp;
	struct base_hash *txs;     /* server transactions by RFC 3261 §17.2.3 key */
	struct base_hash *clients; /* client transactions by branch and method */
	sip_request_fn on_request;
	void *arg;
	sip_ack_fn on_ack;
	void *ack_arg;
	/* completed non-INVITE transactions over UDP, oldest first, waiting out Timer J */
	struct sip_server_tx *timer_j_head, *timer_j_tail;
	struct event *timer_j;
};

/* A response arriving: hands it to its client transaction, or drops it (§18.1.2). */
void sip_client_on_response(struct sip_stack *stack, struct sip_msg *msg);
void sip_client_free_all(struct sip_stack *stack);

void sip_ms_to_tv(int ms, struct timeval *tv);

#endif
