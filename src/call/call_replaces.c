/*
 * An INVITE with Replaces (RFC 3891) from a phone: a device takes over a dialog of the call
 * in progress, as when a user moves a call to another phone of the same line. The new
 * dialog takes the named leg's place in its call: the other party gets the newcomer's offer
 * in a re-INVITE, its answer goes back in our 2xx, and only then is the replaced device
 * released with a BYE (RFC 3891 §3: the old dialog ends once the new one is set up).
 *
 * Who may do this (RFC 3891 §6 leaves it to policy): a registered device on the line of the
 * named leg; anyone else gets 403. The newcomer must offer SDP (a delayed offer gets 488).
 */
#include "call/call_int.h"

#include <stdlib.h>
#include <string.h>

static void reply(struct sip_server_tx *tx, uint16_t status, const char *reason)
{
	sip_server_tx_reply(tx, status, reason, NULL, NULL, NULL, 0);
}

/* The peer answered the newcomer's offer: the newcomer gets the answer, the old device a BYE. */
static void on_peer_answer(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct call *c = arg;
	if (resp->status < 200)
		return;
	c->join_tx = NULL;
	struct call_leg *leg = c->ok_leg, *peer = call_leg_other(c, leg);
	if (resp->status < 300)
		call_send_on_leg(c->cs, peer, "ACK", peer->local_cseq);
	if (resp->status >= 300 || !resp->body.l) {
		base_log(BASE_LOG_INFO, "call", "call %llu: %s refused the replacing offer (%u)",
		         (unsigned long long)c->id, peer->device, resp->status);
		reply(c->invite, resp->status >= 300 ? resp->status : 488, NULL);
		c->invite = NULL;
		call_hang_up(peer, c->cs);
		call_hang_up(c->replaced, c->cs);
		call_free(c);
		return;
	}
	call_leg_note_sdp(peer, resp->body);
	call_sdp_keep(peer == &c->a ? &c->sdp_a : &c->sdp_b, resp->body, true);
	call_answer_invite(c, leg, resp);
	call_hang_up(c->replaced, c->cs);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s replaces %s, talking to %s, %s",
	         (unsigned long long)c->id, leg->device, c->replaced->device, peer->device,
	         call_security_name(call_status(c)));
	free(c->replaced);
	c->replaced = NULL;
	c->joining = false;
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
	uint16_t bad = call_take_caller(cs, &fresh, &offer, tx, from) != 0 ? 400
	               : !offer.len                                        ? 488
	               : fresh.security == CALL_ENCRYPTED && !fresh.srtp   ? 488
	               : !(c->replaced = malloc(sizeof(*c->replaced)))     ? 500
	                                                                   : 0;
	if (bad) {
		reply(tx, bad,
		      bad != 488   ? NULL
		      : !offer.len ? "Offer Required"
		                   : "Encrypted Device Must Offer SRTP");
		free(offer.data);
		return;
	}
	*c->replaced = *leg;
	if (base_hash_get(cs->by_call_id, leg->call_id) == c)
		base_hash_remove(cs->by_call_id, leg->call_id);
	*leg = fresh;
	call_index(c, leg->call_id);
	struct call_sdp *slot = leg == &c->a ? &c->sdp_a : &c->sdp_b;
	free(slot->data);
	*slot = offer;
	c->invite = tx;
	c->ok_leg = leg;
	c->joining = true;
	if (!call_join_invite(c, call_leg_other(c, leg), (struct sip_pl){offer.data, offer.len},
	                      on_peer_answer)) {
		reply(tx, 500, NULL);
		c->invite = NULL;
		call_hang_up(call_leg_other(c, leg), cs);
		call_hang_up(c->replaced, cs);
		call_free(c);
	}
}
