/*
 * Delayed offers towards the callee (RFC 3261 §13.2.1, RFC 3264 §5): an INVITE without SDP,
 * the callee's offer in its 2xx, our answer in the ACK.
 *
 * Jabber clients need this: they ignore an INVITE's SDP and always offer in their 200, and
 * an ACK without SDP breaks them (spec cisco-device-config §5.5). The B2BUA turns the
 * caller's early offer into a delayed one and then holds two offers: the caller's (O1) and
 * the Jabber client's (O2). Neither is an answer to the other, so each party gets an answer
 * made for it (call_answer.c): the caller, in our 200, the answer to O1 made from O2; the
 * client, in the ACK, the answer to O2 made from O1. Each hop then gets the SDP made fit for
 * it (no SDES keys but over TLS to an encrypted device).
 *
 * A caller that made no offer itself has every callee called with a delayed offer: the
 * callee's offer goes to the caller in our 200, and the callee's ACK waits for the caller's,
 * which carries the answer.
 */
#include "call/call_int.h"

#include <string.h>

/* The answer to the offer of `to` made from the SDP of `from`; when none can be made, that
 * SDP as it is, as before there were answers of our own. Logs what went wrong, never the SDP
 * (it may hold keys). */
static void answer_offer(const struct call *c, const struct call_leg *to, struct sip_pl offer,
                         const struct call_leg *from, struct sip_pl other, struct sip_buf *out)
{
	const char *offerer = to->device;
	struct base_err err;
	int rc = call_sdp_answer_between(to, from, offer, other, out, &err);
	if (rc == 0)
		return;
	if (rc > 0) {
		base_log(BASE_LOG_INFO, "call",
		         "call %llu: the SDP answering %s is unusable (%s): every stream rejected",
		         (unsigned long long)c->id, offerer, err.message);
		return;
	}
	base_log(BASE_LOG_INFO, "call", "call %llu: %s's SDP offer is unusable (%s); passed on",
	         (unsigned long long)c->id, offerer, err.message);
	sip_buf_free(out);
	sip_buf_init(out);
	sip_buf_addpl(out, other);
}

/* Whose offer a branch was rung with: the caller's, or in a blind transfer the transferee's. */
static const struct call_leg *other_party(const struct call *c)
{
	return c->transfer == CALL_A_TRANSFERS ? &c->b : &c->a;
}

bool call_late_ack(struct call *c, struct call_branch *br, const struct sip_msg *resp)
{
	if (!br->late) {
		call_send_on_leg(c->cs, &br->leg, "ACK", br->leg.local_cseq);
		return true;
	}
	if (!br->answer.len)
		return false;
	if (!br->answer.answer && resp) {
		/* Still the other party's offer: made into the answer to the callee's once, and
		 * kept for a retransmitted 2xx. */
		struct sip_buf sdp;
		answer_offer(c, &br->leg, resp->body, other_party(c),
		             (struct sip_pl){br->answer.data, br->answer.len}, &sdp);
		if (!sdp.failed)
			call_sdp_keep(&br->answer, (struct sip_pl){sdp.data, sdp.len}, true);
		sip_buf_free(&sdp);
	}
	call_join_ack(c, &br->leg, (struct sip_pl){br->answer.data, br->answer.len});
	return true;
}

void call_late_caller_sdp(const struct call *c, const struct call_branch *br,
                          struct sip_pl callee_sdp, struct sip_buf *out)
{
	if (br->late && c->sdp_a.len && !c->sdp_a.answer) {
		answer_offer(c, &c->a, (struct sip_pl){c->sdp_a.data, c->sdp_a.len}, &br->leg,
		             callee_sdp, out);
		return;
	}
	sip_buf_init(out);
	sip_buf_addpl(out, callee_sdp);
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
	call_late_ack(c, br, NULL);
}

bool call_late_refuse_reinvite(struct sip_server_tx *tx, const struct call_leg *to)
{
	if (!to->jabber)
		return false;
	/* RFC 3261 §14.1: a refused re-INVITE leaves the session as it was. */
	sip_server_tx_reply(tx, 488, "Peer Cannot Renegotiate Media", NULL, NULL, NULL, 0);
	return true;
}
