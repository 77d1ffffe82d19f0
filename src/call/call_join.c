/*
 * Attended transfer (RFC 5589 §7) in a back-to-back user agent. The transferor B talks to A
 * (call 1) and has consulted C (call 2); it sends REFER on its dialog of call 1 with a
 * Refer-To whose Replaces (RFC 3891) names its dialog of call 2. A phone would have A send
 * C an INVITE with Replaces; we hold both of B's dialogs, so we do what that INVITE would
 * do: find call 2 by B's dialog (Call-ID and both tags, as seen from our side), take C's leg
 * into call 1 in place of B's, tell B (NOTIFY 200) and release both of its legs with BYE.
 *
 * A and C then learn of each other's media. Neither's last SDP will do as an offer: A's is
 * usually its answer to B's hold. So A gets a re-INVITE without SDP and makes a fresh offer
 * in its 200 (RFC 3725 flow); C gets that offer in a re-INVITE, and its answer goes to A in
 * the ACK. SDES keys follow call_sdp.c's rule on each hop.
 */
#include "call/call_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP "application/sdp"

/* The leg of another call that Replaces names, or NULL. */
static struct call_leg *replaced_leg(struct call_service *cs, const struct call *c,
                                     const struct sip_replaces *r, struct call **out)
{
	struct call *other = call_find(cs, r->call_id);
	if (!other || other == c)
		return NULL;
	*out = other;
	return call_leg_named(other, r);
}

/* Is c2 the transferor's own call still ringing its target (transfer on ring)? Its INVITE
 * is unanswered and nothing else is under way on it (a busy tone is not ringing: nobody is
 * left to answer). */
static bool ringing(const struct call *c2, const struct call_leg *named)
{
	return named == &c2->a && c2->invite && c2->state != CALL_BUSY_TONE && !c2->cancelled &&
	       !c2->replaced && !c2->ring_join && c2->transfer == CALL_NO_TRANSFER;
}

/* Why the join cannot be done, as the status a phone would answer the INVITE with Replaces
 * (RFC 3891 §3), or 0 when it can. */
static uint16_t refusal(const struct call_leg *by, const struct call *c2,
                        const struct call_leg *named, const struct sip_replaces *r)
{
	if (!named)
		return 481;
	if (strcasecmp(named->device, by->device) != 0)
		return 403; /* only one's own calls may be joined */
	if (c2->state != CALL_CONNECTED)
		return ringing(c2, named) ? 0 : 481;
	if (r->early_only)
		return 486;
	if (c2->reinvite || call_busy(c2))
		return 491;
	return 0;
}

static void end_join(struct call *c, const char *why)
{
	base_log(BASE_LOG_INFO, "call", "call %llu: transfer join failed (%s); hanging up",
	         (unsigned long long)c->id, why);
	call_hang_up(&c->a, c->cs);
	call_hang_up(&c->b, c->cs);
	call_free(c);
}

void call_join_ack(struct call *c, struct call_leg *leg, struct sip_pl answer)
{
	char branch[40];
	struct sip_buf sdp, b;
	sip_buf_init(&sdp);
	if (answer.l)
		call_sdp_for_leg(leg, answer.p, answer.l, &sdp);
	call_leg_request(c->cs, leg, "ACK", leg->local_cseq, NULL, sdp.len ? SDP : NULL, sdp.data,
	                 sdp.len, branch, &b);
	sip_buf_free(&sdp);
	if (!b.failed)
		sip_stack_send(c->cs->stack, &leg->flow, b.data, b.len);
	sip_buf_free(&b);
}

static struct call_leg *stays(struct call *c)
{
	return c->join_a_stays ? &c->a : &c->b;
}

static void on_join_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp);

bool call_join_invite(struct call *c, struct call_leg *to, struct sip_pl offer, sip_response_fn fn)
{
	if (to->jabber) /* it would take a re-INVITE for a new call */
		return false;
	char branch[40];
	struct sip_buf sdp, b;
	sip_buf_init(&sdp);
	if (offer.l)
		call_sdp_for_leg(to, offer.p, offer.l, &sdp);
	call_leg_request(c->cs, to, "INVITE", ++to->local_cseq, NULL, sdp.len ? SDP : NULL,
	                 sdp.data, sdp.len, branch, &b);
	sip_buf_free(&sdp);
	c->join_tx = sip_client_tx_send(c->cs->stack, &to->flow, branch, &b, fn, c);
	return c->join_tx != NULL;
}

static void send_invite(struct call *c, struct call_leg *to, struct sip_pl offer)
{
	if (!call_join_invite(c, to, offer, on_join_response))
		end_join(c, "cannot send re-INVITE");
}

/* The transferee's fresh offer (in its 200) goes to the target; the target's answer goes
 * back in the ACK. */
static void on_join_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct call *c = arg;
	if (resp->status < 200)
		return;
	c->join_tx = NULL;
	struct call_leg *a = stays(c), *target = call_leg_other(c, a);
	struct call_leg *leg = c->join_target_step ? target : a;
	bool ok = resp->status < 300 && resp->body.l;
	if (resp->status < 300 && (!ok || c->join_target_step))
		call_join_ack(c, leg, SIP_PL_NULL);
	if (!ok) {
		if (c->join_target_step)
			call_join_ack(c, a, SIP_PL_NULL);
		end_join(c, resp->status < 300 ? "no SDP" : sip_reason_phrase(resp->status));
		return;
	}
	call_leg_note_sdp(leg, resp->body);
	call_sdp_keep(leg == &c->a ? &c->sdp_a : &c->sdp_b, resp->body, c->join_target_step);
	if (!c->join_target_step) {
		c->join_target_step = true;
		send_invite(c, target, resp->body);
		return;
	}
	call_join_ack(c, a, resp->body);
	c->joining = false;
	/* Each party had its old peer's security; now it is the lowest of the joined legs. */
	call_tell_security(c, &c->a);
	call_tell_security(c, &c->b);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s and %s joined, %s",
	         (unsigned long long)c->id, c->a.device, c->b.device,
	         call_security_name(call_status(c)));
}

/* The transferee (stays) and the target exchange media: a fresh offer from the transferee,
 * given to the target (RFC 3725 flow 1). */
static void join_media(struct call *c, bool a_stays)
{
	c->joining = true;
	c->join_a_stays = a_stays;
	c->join_target_step = false;
	send_invite(c, stays(c), SIP_PL_NULL);
}

/* Moves the target's leg (and its SDP) from c2 into c in place of the transferor's. */
static void take_leg(struct call *c, struct call_leg *by, struct call *c2, struct call_leg *target)
{
	struct call_service *cs = c->cs;
	if (base_hash_get(cs->by_call_id, by->call_id) == c)
		base_hash_remove(cs->by_call_id, by->call_id);
	struct call_sdp *slot = by == &c->a ? &c->sdp_a : &c->sdp_b;
	struct call_sdp *from = target == &c2->a ? &c2->sdp_a : &c2->sdp_b;
	free(slot->data);
	*slot = *from;
	*from = (struct call_sdp){0};
	call_leg_clear(c, by, CALL_CAUSE_TRANSFER);
	*by = *target;
	call_index(c, by->call_id);
	call_leg_notify(c, by, CALL_EVENT_TRANSFERRED, CALL_CONN_CONNECTED, CALL_CAUSE_TRANSFER);
	struct call_leg *stays = call_leg_other(c, by); /* now talks to the target */
	if (stays->conn != CALL_CONN_NULL)
		call_leg_notify(c, stays, CALL_EVENT_TRANSFERRED, stays->conn, CALL_CAUSE_TRANSFER);
}

/*
 * Transfer on ring: B REFERs while its consultation call c2 still rings C. B is released at
 * once (BYE on call 1, 487 to its consultation INVITE), as a desk phone user expects; the
 * transferee A takes B's place as the caller of c2 and C goes on ringing. When C answers,
 * A's fresh offer goes to C as in any join; if nobody answers, A is released. B's REFER
 * subscription outlives its dialog's BYE (RFC 5057 §5.2): it learns the outcome in the
 * final NOTIFY.
 */
static void join_ringing(struct call *c, struct call_leg *by, struct call *c2)
{
	struct call_service *cs = c->cs;
	struct call_leg *transferee = call_leg_other(c, by);
	c2->transferor = malloc(sizeof(*c2->transferor));
	if (!c2->transferor) {
		call_refer_notify(cs, by, 500, true);
		return;
	}
	base_log(BASE_LOG_INFO, "call", "call %llu: %s transfers %s to %s of call %llu, ringing",
	         (unsigned long long)c->id, by->device, transferee->device, c2->b.dn,
	         (unsigned long long)c2->id);
	call_refer_notify(cs, by, 180, false);
	call_hang_up(by, cs);
	*c2->transferor = *by;
	sip_server_tx_reply(c2->invite, 487, NULL, NULL, NULL, NULL, 0);
	c2->invite = NULL;
	take_leg(c2, &c2->a, c, transferee);
	call_free(c);
	c2->ring_join = true;
	c2->state = CALL_RINGING;
}

void call_join_ring_answered(struct call *c)
{
	c->ring_join = false;
	call_refer_notify(c->cs, c->transferor, 200, true);
	free(c->transferor);
	c->transferor = NULL;
	base_log(BASE_LOG_INFO, "call", "call %llu: %s answered the transfer of %s",
	         (unsigned long long)c->id, c->b.device, c->a.device);
	join_media(c, true);
}

void call_join_ring_failed(struct call *c, uint16_t status)
{
	status = status ? status : 480;
	call_refer_notify(c->cs, c->transferor, status, true);
	base_log(BASE_LOG_INFO, "call", "call %llu: transfer on ring of %s failed (%u)",
	         (unsigned long long)c->id, c->a.device, status);
	call_free(c);
}

void call_join_refer(struct call_service *cs, struct sip_server_tx *tx, struct call *c,
                     struct call_leg *by, const struct sip_replaces *replaces)
{
	struct call *c2 = NULL;
	struct call_leg *named = replaced_leg(cs, c, replaces, &c2);
	uint16_t status = refusal(by, c2, named, replaces);
	/* The REFER itself is fine; what the INVITE with Replaces would meet goes in the NOTIFY
	 * (RFC 3515 §2.4.4). */
	sip_server_tx_reply(tx, 202, NULL, NULL, NULL, NULL, 0);
	if (status) {
		call_refer_notify(cs, by, status, true);
		base_log(BASE_LOG_INFO, "call", "call %llu: %s's attended transfer refused (%u)",
		         (unsigned long long)c->id, by->device, status);
		return;
	}
	if (c2->state != CALL_CONNECTED) {
		join_ringing(c, by, c2);
		return;
	}
	struct call_leg *target = call_leg_other(c2, named);
	struct call_leg *transferee = call_leg_other(c, by);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s joins %s with %s of call %llu",
	         (unsigned long long)c->id, by->device, transferee->device, target->device,
	         (unsigned long long)c2->id);
	call_refer_notify(cs, by, 200, true);
	call_hang_up(by, cs);
	call_hang_up(named, cs);
	c->join_a_stays = transferee == &c->a;
	take_leg(c, by, c2, target);
	call_free(c2);
	join_media(c, c->join_a_stays);
}
