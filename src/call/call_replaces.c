/*
 * An INVITE with Replaces (RFC 3891) from a phone: a device takes over a dialog of the call
 * in progress, as when a user moves a call to another phone of the same line. The new
 * dialog takes the named leg's place in its call, and only once the new media session is
 * set up is the replaced device released with a BYE (RFC 3891 §3: the old dialog ends once
 * the new one is set up).
 *
 * With an offer in the INVITE, the other party gets it in a re-INVITE and its answer goes
 * back in our 2xx. Without one (delayed offer, the habit of Cisco phones and Jabber), the
 * other party gets a re-INVITE without SDP and makes a fresh offer in its 200 (RFC 3725 flow
 * 1); that offer goes to the newcomer in our 2xx, and the newcomer's answer, in its ACK, to
 * the other party in our ACK. SDES keys follow call_sdp.c's rule on each hop; once the new
 * dialog is set up, a Cisco party is told the call's (possibly new) security.
 *
 * If the other party refuses the re-INVITE, its session is as it was (RFC 3261 §14.1): the
 * replaced device keeps the call and the newcomer gets the refusal. A newcomer whose ACK
 * brings no answer, or never comes, leaves the other party with an offer nobody answered:
 * all three dialogs are ended.
 *
 * Who may do this (RFC 3891 §6 leaves it to policy): a registered device on the line of the
 * named leg; anyone else gets 403.
 */
#include "call/call_int.h"

#include <stdlib.h>
#include <string.h>

static void reply(struct sip_server_tx *tx, uint16_t status, const char *reason)
{
	sip_server_tx_reply(tx, status, reason, NULL, NULL, NULL, 0);
}

static struct call_sdp *sdp_of(struct call *c, const struct call_leg *leg)
{
	return leg == &c->a ? &c->sdp_a : &c->sdp_b;
}

/* The replaced leg takes its place again: the newcomer's dialog is forgotten. */
static void restore(struct call *c)
{
	struct call_leg *leg = c->ok_leg;
	if (base_hash_get(c->cs->by_call_id, leg->call_id) == c)
		base_hash_remove(c->cs->by_call_id, leg->call_id);
	*leg = *c->replaced;
	call_index(c, leg->call_id);
	free(c->replaced);
	c->replaced = NULL;
	free(c->replacing_sdp.data);
	c->replacing_sdp = (struct call_sdp){0};
	c->joining = false;
	c->replace_late = false;
}

/* The new dialog is set up: the newcomer's SDP is its leg's, the old device gets a BYE and
 * a Cisco peer learns the call's security. */
static void take_over(struct call *c)
{
	struct call_leg *leg = c->ok_leg, *peer = call_leg_other(c, leg);
	struct call_sdp *slot = sdp_of(c, leg);
	free(slot->data);
	*slot = c->replacing_sdp;
	c->replacing_sdp = (struct call_sdp){0};
	call_hang_up(c->replaced, c->cs);
	call_leg_clear(c, c->replaced, CALL_CAUSE_TRANSFER);
	call_leg_notify(c, leg, CALL_EVENT_ESTABLISHED, CALL_CONN_CONNECTED, CALL_CAUSE_TRANSFER);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s replaces %s, talking to %s, %s%s",
	         (unsigned long long)c->id, leg->device, c->replaced->device, peer->device,
	         call_security_name(call_status(c)), c->replace_late ? " (delayed offer)" : "");
	free(c->replaced);
	c->replaced = NULL;
	c->joining = false;
	call_tell_security(c, peer);
	/* our 2xx told the newcomer what its answer was expected to make of the call */
	if (c->replace_late)
		call_tell_security(c, leg);
	c->replace_late = false;
}

/* Ends the call for all three: the newcomer, the other party and the replaced device. */
static void end_all(struct call *c, struct call_leg *newcomer)
{
	if (newcomer)
		call_hang_up(newcomer, c->cs);
	call_hang_up(call_leg_other(c, c->ok_leg), c->cs);
	call_hang_up(c->replaced, c->cs);
	call_free(c);
}

/* The peer answered the re-INVITE: with the newcomer's offer, the answer goes to the
 * newcomer and the takeover is done; without one, the peer's offer goes to the newcomer and
 * the peer's ACK waits for the newcomer's answer (call_replace_acked). */
static void on_peer_answer(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	struct call *c = arg;
	if (resp->status < 200)
		return;
	/* 2xx retransmissions are not ours to handle once the call may be gone */
	sip_client_tx_detach(tx);
	c->join_tx = NULL;
	struct call_leg *leg = c->ok_leg, *peer = call_leg_other(c, leg);
	if (resp->status >= 300) {
		base_log(BASE_LOG_INFO, "call", "call %llu: %s refused the takeover by %s (%u)",
		         (unsigned long long)c->id, peer->device, leg->device, resp->status);
		reply(c->invite, resp->status, NULL);
		c->invite = NULL;
		restore(c);
		return;
	}
	if (!resp->body.l) {
		call_join_ack(c, peer, SIP_PL_NULL);
		base_log(BASE_LOG_INFO, "call", "call %llu: %s sent no SDP for the takeover",
		         (unsigned long long)c->id, peer->device);
		reply(c->invite, 488, NULL);
		c->invite = NULL;
		end_all(c, NULL);
		return;
	}
	call_leg_note_sdp(peer, resp->body);
	call_sdp_keep(sdp_of(c, peer), resp->body, !c->replace_late);
	if (c->replace_late) /* until its answer comes: SRTP if it gets the peer's keys */
		leg->srtp = peer->srtp && call_leg_may_receive_keys(leg);
	call_answer_invite(c, leg, resp->body);
	if (c->replace_late)
		return;
	call_join_ack(c, peer, SIP_PL_NULL);
	take_over(c);
}

void call_replace_acked(struct call *c, const struct sip_msg *ack)
{
	struct call_leg *leg = c->ok_leg, *peer = call_leg_other(c, leg);
	if (!ack || !ack->body.l) {
		base_log(BASE_LOG_INFO, "call", "call %llu: %s %s; hanging up",
		         (unsigned long long)c->id, leg->device,
		         ack ? "sent no SDP answer in its ACK" : "never ACKed the takeover");
		call_join_ack(c, peer, SIP_PL_NULL);
		end_all(c, leg);
		return;
	}
	call_leg_note_sdp(leg, ack->body);
	call_sdp_keep(&c->replacing_sdp, ack->body, true);
	call_join_ack(c, peer, ack->body);
	take_over(c);
}

/* Why the named dialog cannot be replaced (RFC 3891 §3), or 0. */
static uint16_t refusal(const struct call *c, const struct call_leg *leg,
                        const struct sip_replaces *r, const struct sip_binding *from)
{
	if (!leg || c->state != CALL_CONNECTED)
		return 481;
	if (r->early_only)
		return 486;
	if (strcmp(leg->dn, from->aor) != 0)
		return 403;
	if (c->reinvite || c->invite || call_busy(c))
		return 491;
	return 0;
}

void call_replace_dialog(struct call_service *cs, struct sip_server_tx *tx,
                         const struct sip_binding *from)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_REPLACES);
	struct sip_replaces r;
	if (sip_msg_hdr_next(req, h) || sip_replaces_parse(h->value, &r) != 0) {
		reply(tx, 400, "Bad Replaces");
		return;
	}
	struct call *c = call_find(cs, r.call_id);
	struct call_leg *leg = c ? call_leg_named(c, &r) : NULL;
	uint16_t status = c ? refusal(c, leg, &r, from) : 481;
	if (status) {
		reply(tx, status, NULL);
		return;
	}
	struct call_leg fresh;
	struct call_sdp offer = {0};
	memset(&fresh, 0, sizeof(fresh));
	uint16_t bad = call_take_caller(cs, &fresh, &offer, tx, from) != 0            ? 400
	               : fresh.security == CALL_ENCRYPTED && offer.len && !fresh.srtp ? 488
	               : !(c->replaced = malloc(sizeof(*c->replaced)))                ? 500
	                                                                              : 0;
	if (bad) {
		reply(tx, bad, bad == 488 ? "Encrypted Device Must Offer SRTP" : NULL);
		free(offer.data);
		return;
	}
	*c->replaced = *leg;
	if (base_hash_get(cs->by_call_id, leg->call_id) == c)
		base_hash_remove(cs->by_call_id, leg->call_id);
	*leg = fresh;
	call_index(c, leg->call_id);
	c->replacing_sdp = offer;
	c->replace_late = !offer.len;
	c->invite = tx;
	c->ok_leg = leg;
	c->joining = true;
	if (!call_join_invite(c, call_leg_other(c, leg), (struct sip_pl){offer.data, offer.len},
	                      on_peer_answer)) {
		reply(tx, 500, NULL);
		c->invite = NULL;
		restore(c);
	}
}
