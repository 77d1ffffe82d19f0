/*
 * Blind transfer (RFC 3515 REFER, RFC 5589 §6). One side of a connected call (the transferor)
 * asks that the other (the transferee) be connected to a number. We accept with 202 and ring
 * the number's devices with the transferee's last SDP as the offer (resumed, when it only
 * answered the transferor's hold). When one answers, its leg
 * takes the transferor's place, the transferee is re-INVITEd with the new peer's SDP, and the
 * transferor is told the outcome in a NOTIFY (message/sipfrag) and released with a BYE. If
 * nobody answers, the transferor learns why and the call stays as it was.
 */
#include "call/call_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct call_leg *transferor(struct call *c)
{
	return c->transfer == CALL_A_TRANSFERS ? &c->a : &c->b;
}

static struct call_leg *transferee(struct call *c)
{
	return c->transfer == CALL_A_TRANSFERS ? &c->b : &c->a;
}

void call_refer_notify(struct call_service *cs, struct call_leg *leg, uint16_t status, bool final)
{
	char headers[128], body[96], branch[40];
	snprintf(headers, sizeof(headers), "Event: refer\r\nSubscription-State: %s\r\n",
	         final ? "terminated;reason=noresource" : "active;expires=60");
	int len =
	    snprintf(body, sizeof(body), "SIP/2.0 %u %s\r\n", status, sip_reason_phrase(status));
	struct sip_buf b;
	call_leg_request(cs, leg, "NOTIFY", ++leg->local_cseq, headers,
	                 "message/sipfrag;version=2.0", body, (size_t)len, branch, &b);
	sip_client_tx_send(cs->stack, &leg->flow, branch, &b, NULL, NULL);
}

/* Tells the transferor how the transfer goes, as the status line of the new call. */
static void notify(struct call *c, uint16_t status, bool final)
{
	call_refer_notify(c->cs, transferor(c), status, final);
}

bool call_busy(const struct call *c)
{
	return c->transfer != CALL_NO_TRANSFER || c->joining || c->reoffer_tx;
}

static void on_reoffer_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct call *c = arg;
	struct call_leg *leg = c->reoffer_to_a ? &c->a : &c->b;
	if (resp->status >= 200)
		c->reoffer_tx = NULL;
	if (resp->status >= 200 && resp->status < 300) {
		call_send_on_leg(c->cs, leg, "ACK", c->reoffer_cseq);
		call_leg_note_sdp(leg, resp->body);
		call_sdp_keep(leg == &c->a ? &c->sdp_a : &c->sdp_b, resp->body, true);
	}
}

/* Gives the transferee its new peer's media in a re-INVITE. */
static void reoffer(struct call *c, struct call_leg *to, const struct call_sdp *sdp)
{
	if (to->jabber) { /* it would take a re-INVITE for a new call: its media stays as is */
		base_log(BASE_LOG_INFO, "call", "call %llu: no re-INVITE to Jabber client %s",
		         (unsigned long long)c->id, to->device);
		return;
	}
	char branch[40];
	struct sip_buf body, b;
	call_sdp_for_leg(to, sdp->data, sdp->len, &body);
	c->reoffer_cseq = ++to->local_cseq;
	call_leg_request(c->cs, to, "INVITE", c->reoffer_cseq, NULL,
	                 body.len ? "application/sdp" : NULL, body.data, body.len, branch, &b);
	sip_buf_free(&body);
	c->reoffer_to_a = to == &c->a;
	c->reoffer_tx =
	    sip_client_tx_send(c->cs->stack, &to->flow, branch, &b, on_reoffer_response, c);
}

/* The Replaces of a Refer-To URI (an attended transfer), decoded into buf: 1 when there is
 * one, 0 when there is none (a blind transfer), -1 when it is malformed. */
static int refer_replaces(const struct sip_addr *to, char *buf, size_t size,
                          struct sip_replaces *out)
{
	size_t len;
	int found = sip_uri_header_get(to->uri.headers, "Replaces", buf, size, &len);
	if (found <= 0)
		return found;
	return sip_replaces_parse((struct sip_pl){buf, len}, out) == 0 ? 1 : -1;
}

void call_on_refer(struct call_service *cs, struct sip_server_tx *tx, struct call *c,
                   struct call_leg *by)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_REFER_TO);
	struct sip_addr to;
	if (c->state != CALL_CONNECTED || call_busy(c) || c->reinvite) {
		sip_server_tx_reply(tx, 491, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!h || sip_addr_parse(h->value, &to) != 0 || to.uri.user.l == 0 || to.uri.user.l >= 32) {
		sip_server_tx_reply(tx, 400, "Bad Refer-To", NULL, NULL, NULL, 0);
		return;
	}
	char buf[512];
	struct sip_replaces replaces;
	int attended = refer_replaces(&to, buf, sizeof(buf), &replaces);
	if (attended < 0) {
		sip_server_tx_reply(tx, 400, "Bad Replaces In Refer-To", NULL, NULL, NULL, 0);
		return;
	}
	if (attended) {
		call_join_refer(cs, tx, c, by, &replaces);
		return;
	}
	char target[32];
	sip_pl_strcpy(to.uri.user, target, sizeof(target));
	bool from_a = by == &c->a;
	sip_server_tx_reply(tx, 202, NULL, NULL, NULL, NULL, 0);
	c->transfer = from_a ? CALL_A_TRANSFERS : CALL_B_TRANSFERS;
	notify(c, 100, false);
	/* The old branches are finished or cancelled; they must not reach the new ones. */
	for (size_t i = 0; i < c->nbranches; i++) {
		sip_client_tx_detach_branch(cs->stack, c->branches[i].via_branch, "INVITE");
		if (!c->branches[i].done)
			call_leg_clear(c, &c->branches[i].leg, CALL_CAUSE_NORMAL_CLEARING);
	}
	c->nbranches = 0;
	struct call_leg *stays = transferee(c);
	struct sip_buf fresh; /* the transferee's media, no longer held by the transferor */
	call_sdp_for_new_peer(from_a ? &c->sdp_b : &c->sdp_a, &fresh);
	const struct call_sdp offer = {fresh.data, fresh.failed ? 0 : fresh.len, false};
	struct sip_binding targets[CALL_MAX_BRANCHES];
	size_t n = sip_registrar_lookup(cs->registrar, target, targets, CALL_MAX_BRANCHES);
	for (size_t i = 0; i < n && i < CALL_MAX_BRANCHES; i++)
		if (strcasecmp(targets[i].device, stays->device) != 0)
			call_start_branch(c, &targets[i], target, stays->dn, &offer);
	sip_buf_free(&fresh);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s transfers %s to %s, ringing %zu device(s)",
	         (unsigned long long)c->id, transferor(c)->device, stays->device, target,
	         c->nbranches);
	if (c->nbranches == 0)
		call_transfer_failed(c);
}

void call_transfer_answered(struct call *c, struct call_branch *br, const struct sip_msg *resp)
{
	struct call_leg *old = transferor(c);
	struct call_leg *stays = transferee(c);
	call_cancel_branches(c, br);
	notify(c, 200, true);
	call_hang_up(old, c->cs);
	call_leg_clear(c, old, CALL_CAUSE_SINGLE_STEP_TRANSFER);
	if (base_hash_get(c->cs->by_call_id, old->call_id) == c)
		base_hash_remove(c->cs->by_call_id, old->call_id);
	bool a_replaced = old == &c->a;
	*old = br->leg;
	call_leg_notify(c, old, CALL_EVENT_ESTABLISHED, CALL_CONN_CONNECTED,
	                CALL_CAUSE_SINGLE_STEP_TRANSFER);
	call_leg_notify(c, stays, CALL_EVENT_TRANSFERRED, CALL_CONN_CONNECTED,
	                CALL_CAUSE_SINGLE_STEP_TRANSFER);
	call_leg_note_sdp(old, resp->body);
	struct call_sdp *slot = a_replaced ? &c->sdp_a : &c->sdp_b;
	call_sdp_keep(slot, resp->body, true);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s now talks to %s", (unsigned long long)c->id,
	         stays->device, old->device);
	c->transfer = CALL_NO_TRANSFER;
	reoffer(c, stays, slot);
}

void call_transfer_failed(struct call *c)
{
	uint16_t status = c->best_status ? c->best_status : 480;
	notify(c, status, true);
	base_log(BASE_LOG_INFO, "call", "call %llu: transfer failed (%u)",
	         (unsigned long long)c->id, status);
	c->transfer = CALL_NO_TRANSFER;
	c->best_status = 0;
}
