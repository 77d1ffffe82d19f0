/*
 * Delayed offers towards the callee (RFC 3261 §13.2.1, RFC 3264 §5): an INVITE without SDP,
 * the callee's offer in its 2xx, our answer in the ACK.
 *
 * Jabber clients need this: they ignore an INVITE's SDP and always offer in their 200, and
 * an ACK without SDP breaks them (spec cisco-device-config §5.5). The B2BUA turns the
 * caller's early offer into a delayed one: the Jabber client's offer is the answer the caller
 * gets in our 200, and the caller's offer is the answer the client gets in the ACK. Each hop
 * gets the SDP made fit for it (no SDES keys but over TLS to an encrypted device).
 *
 * A caller that made no offer itself has every callee called with a delayed offer: the
 * callee's offer goes to the caller in our 200, and the callee's ACK waits for the caller's,
 * which carries the answer.
 */
#include "call/call_int.h"

#include <string.h>

bool call_late_ack(struct call *c, struct call_branch *br)
{
	if (!br->late) {
		call_send_on_leg(c->cs, &br->leg, "ACK", br->leg.local_cseq);
		return true;
	}
	if (!br->answer.len)
		return false;
	call_join_ack(c, &br->leg, (struct sip_pl){br->answer.data, br->answer.len});
	return true;
}

static struct call_branch *answered_branch(struct call *c)
{
	for (size_t i = 0; i < c->nbranches; i++)
		if (c->branches[i].done && strcmp(c->branches[i].leg.call_id, c->b.call_id) == 0)
			return &c->branches[i];
	return NULL;
}

void call_late_caller_acked(struct call *c, const struct sip_msg *ack)
{
	c->b_awaits_answer = false;
	struct call_branch *br = answered_branch(c);
	if (!ack->body.l || !br) {
		/* The caller did not answer the callee's offer: no session can be made. */
		base_log(BASE_LOG_INFO, "call",
		         "call %llu: %s answered no SDP in its ACK; hanging up",
		         (unsigned long long)c->id, c->a.device);
		if (!c->b.jabber) /* an ACK without SDP breaks a Jabber client: it only gets BYE */
			call_join_ack(c, &c->b, SIP_PL_NULL);
		call_hang_up(&c->a, c->cs);
		call_hang_up(&c->b, c->cs);
		call_free(c);
		return;
	}
	call_leg_note_sdp(&c->a, ack->body);
	call_sdp_keep(&c->sdp_a, ack->body, true);
	call_sdp_keep(&br->answer, ack->body, true); /* for a retransmitted 2xx of the callee */
	call_late_ack(c, br);
}

bool call_late_refuse_reinvite(struct sip_server_tx *tx, const struct call_leg *to)
{
	if (!to->jabber)
		return false;
	/* RFC 3261 §14.1: a refused re-INVITE leaves the session as it was. */
	sip_server_tx_reply(tx, 488, "Peer Cannot Renegotiate Media", NULL, NULL, NULL, 0);
	return true;
}
