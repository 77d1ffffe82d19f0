/*
 * The back-to-back user agent: from the caller's INVITE to the last BYE.
 *
 * The caller must be a registered device calling from the flow it registered on: that is how
 * we know which device (and so which security) is calling. The dialled number's registered
 * devices are all rung; the first 2xx wins and the others are cancelled. Our 2xx to the
 * caller is resent until its ACK comes (RFC 3261 §13.3.1.4). A re-INVITE (hold, resume) on
 * either leg is relayed to the other; a BYE on either leg ends both.
 */
#include "call/call_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP "application/sdp"

static void angle(struct sip_pl uri, char *out, size_t size)
{
	snprintf(out, size, "<%.*s>", (int)uri.l, uri.p);
}

/* Cisco endpoints that can show a call's security say so with the X-cisco-sis option tag
 * (SIP line messaging guide); only they get Call-Info security updates. */
static bool advertises_sis(const struct sip_msg *m)
{
	return sip_msg_supports(m, "X-cisco-sis");
}

/* ---- sending on a leg ---- */

void call_send_on_leg(struct call_service *cs, struct call_leg *leg, const char *method,
                      uint32_t cseq)
{
	char branch[40];
	struct sip_buf b;
	call_leg_request(cs, leg, method, cseq, NULL, NULL, NULL, 0, branch, &b);
	if (strcmp(method, "ACK") == 0) {
		if (!b.failed)
			sip_stack_send(cs->stack, &leg->flow, b.data, b.len);
		sip_buf_free(&b);
		return;
	}
	sip_client_tx_send(cs->stack, &leg->flow, branch, &b, NULL, NULL);
}

void call_hang_up(struct call_leg *leg, struct call_service *cs)
{
	call_send_on_leg(cs, leg, "BYE", ++leg->local_cseq);
}

/* ---- answering the caller ---- */

static uint16_t final_for_caller(const struct call *c)
{
	if (c->cancelled)
		return 487;
	return c->best_status ? c->best_status : 480;
}

/* The most telling failure wins (RFC 3261 §16.7 in spirit): a global failure, then busy,
 * then any specific answer, then "unavailable" (timeouts and unreachable devices). */
static int failure_rank(uint16_t status)
{
	return status >= 600 ? 4 : status == 486 ? 3 : status == 480 ? 1 : 2;
}

static void note_failure(struct call *c, uint16_t status)
{
	uint16_t s = status == 408 || status == 503 || status == 487 ? 480 : status;
	if (!c->best_status || failure_rank(s) > failure_rank(c->best_status))
		c->best_status = s;
}

static void on_ok_timer(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct call *c = arg;
	c->ok_elapsed_ms += c->ok_interval_ms;
	if (c->ok_elapsed_ms >= 32000) {
		/* No ACK from the caller: the call cannot go on (§13.3.1.4). */
		if (c->replace_late && c->replaced) { /* the other party awaits the answer too */
			call_replace_acked(c, NULL);
			return;
		}
		base_log(BASE_LOG_INFO, "call", "call %llu: no ACK from %s; hanging up",
		         (unsigned long long)c->id, c->ok_leg->device);
		call_hang_up(&c->a, c->cs);
		call_hang_up(&c->b, c->cs);
		call_free(c);
		return;
	}
	sip_stack_send(c->cs->stack, &c->ok_leg->flow, c->ok, c->ok_len);
	c->ok_interval_ms = c->ok_interval_ms * 2 < 4000 ? c->ok_interval_ms * 2 : 4000;
	struct timeval tv = {c->ok_interval_ms / 1000, (c->ok_interval_ms % 1000) * 1000};
	evtimer_add(c->ok_timer, &tv);
}

void call_answer_invite(struct call *c, struct call_leg *leg, struct sip_pl body)
{
	char contact[900];
	call_leg_contact(c->cs, leg, contact, sizeof(contact));
	if (leg->cisco)
		call_security_header(c, contact + strlen(contact),
		                     sizeof(contact) - strlen(contact));
	call_leg_session_header(leg, contact + strlen(contact), sizeof(contact) - strlen(contact));
	struct sip_buf sdp;
	call_sdp_for_leg(leg, body.p, body.l, &sdp);
	sip_server_tx_reply(c->invite, 200, NULL, contact, sdp.len ? SDP : NULL, sdp.data, sdp.len);
	sip_buf_free(&sdp);
	size_t len;
	const char *bytes = sip_server_tx_last_response(c->invite, &len);
	c->invite = NULL;
	c->ok_leg = leg;
	free(c->ok);
	c->ok = malloc(len);
	if (!c->ok)
		return;
	memcpy(c->ok, bytes, len);
	c->ok_len = len;
	c->ok_interval_ms = 500;
	if (c->ok_timer)
		event_free(c->ok_timer);
	c->ok_timer = evtimer_new(c->cs->base, on_ok_timer, c);
	struct timeval tv = {0, 500000};
	if (c->ok_timer)
		evtimer_add(c->ok_timer, &tv);
}

void call_cancel_branches(struct call *c, const struct call_branch *except)
{
	for (size_t i = 0; i < c->nbranches; i++)
		if (&c->branches[i] != except && !c->branches[i].done && c->branches[i].tx)
			sip_client_tx_cancel(c->branches[i].tx);
}

void call_end_unanswered(struct call *c, uint16_t status)
{
	if (c->invite)
		sip_server_tx_reply(c->invite, status, NULL, NULL, NULL, NULL, 0);
	c->invite = NULL;
	call_free(c);
}

/* The caller's INVITE is given up (its CANCEL, or its Expires): the devices still ringing are
 * cancelled and the INVITE gets 487 (RFC 3261 §9.2, §13.3.1). */
static void give_up(struct call *c)
{
	c->cancelled = true;
	call_cancel_branches(c, NULL);
	call_end_unanswered(c, 487);
}

/* ---- the callees' answers ---- */

static void take_dialog(struct call_branch *br, const struct sip_msg *resp)
{
	sip_pl_strcpy(resp->to_tag, br->leg.remote_tag, sizeof(br->leg.remote_tag));
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	struct sip_addr contact;
	if (h && sip_addr_parse(h->value, &contact) == 0 &&
	    contact.uri_text.l < sizeof(br->leg.remote_target))
		sip_pl_strcpy(contact.uri_text, br->leg.remote_target,
		              sizeof(br->leg.remote_target));
}

/* The callee's security cannot ride on the ACK (RFC 3261 forbids Call-Info there), so a
 * Cisco callee learns it from an UPDATE right after, as Unified CM does; so do both parties
 * of a joined call. */
void call_tell_security(struct call *c, struct call_leg *leg)
{
	if (!leg->cisco || leg->jabber) /* a Jabber client ignores UPDATE */
		return;
	char header[160], branch[40];
	call_security_header(c, header, sizeof(header));
	struct sip_buf b;
	call_leg_request(c->cs, leg, "UPDATE", ++leg->local_cseq, header, NULL, NULL, 0, branch,
	                 &b);
	sip_client_tx_send(c->cs->stack, &leg->flow, branch, &b, NULL, NULL);
}

static void on_answer(struct call *c, struct call_branch *br, const struct sip_msg *resp)
{
	bool first = !br->done;
	br->done = true;
	if (!first) { /* a retransmitted 2xx: our ACK was lost (or still awaits the caller's) */
		call_late_ack(c, br, resp);
		return;
	}
	take_dialog(br, resp);
	call_leg_note_session(&br->leg, resp);
	bool acked = call_late_ack(c, br, resp);
	bool wins = c->state != CALL_CONNECTED && !c->cancelled && (c->invite || c->ring_join);
	if (!acked && (c->transfer != CALL_NO_TRANSFER || !wins || c->ring_join))
		call_join_ack(c, &br->leg, SIP_PL_NULL); /* nobody to answer its offer */
	if (c->transfer != CALL_NO_TRANSFER) {
		call_transfer_answered(c, br, resp);
		return;
	}
	if (!wins) {
		/* Someone else answered first, or the caller gave up: end this one. */
		call_leg_clear(c, &br->leg, CALL_CAUSE_NORMAL_CLEARING);
		call_hang_up(&br->leg, c->cs);
		return;
	}
	c->b = br->leg;
	c->b_awaits_answer = !acked && !c->ring_join;
	c->b.cisco = advertises_sis(resp);
	call_leg_note_sdp(&c->b, resp->body);
	call_sdp_keep(&c->sdp_b, resp->body, !br->late);
	c->state = CALL_CONNECTED;
	c->answered_at = base_time_now();
	if (c->answer_timer)
		evtimer_del(c->answer_timer);
	call_leg_notify(c, &c->b, CALL_EVENT_ESTABLISHED, CALL_CONN_CONNECTED, CALL_CAUSE_NEW_CALL);
	call_index(c, c->b.call_id);
	call_cancel_branches(c, br);
	if (c->ring_join) {
		call_join_ring_answered(c);
		return;
	}
	struct sip_buf sdp;
	call_late_caller_sdp(c, br, resp->body, &sdp);
	call_answer_invite(c, &c->a, (struct sip_pl){sdp.data, sdp.failed ? 0 : sdp.len});
	sip_buf_free(&sdp);
	call_tell_security(c, &c->b);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s (%s) answered on %s, %s",
	         (unsigned long long)c->id, c->a.dn, c->a.device, c->b.device,
	         call_security_name(call_status(c)));
}

static void on_branch_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct call_branch *br = arg;
	struct call *c = br->call;
	if (resp->status < 200) {
		bool may_win = !c->cancelled &&
		               (c->state != CALL_CONNECTED || c->transfer != CALL_NO_TRANSFER);
		if (resp->status >= 180 && br->leg.conn == CALL_CONN_NULL && !br->done && may_win)
			call_leg_notify(c, &br->leg, CALL_EVENT_DELIVERED, CALL_CONN_ALERTING,
			                c->transfer != CALL_NO_TRANSFER
			                    ? CALL_CAUSE_SINGLE_STEP_TRANSFER
			                    : CALL_CAUSE_NEW_CALL);
		if (resp->status >= 180 && c->invite && c->state == CALL_SETUP) {
			char session[100];
			call_leg_session_header(&c->a, session, sizeof(session));
			c->state = CALL_RINGING;
			sip_server_tx_reply(c->invite, 180, NULL, session, NULL, NULL, 0);
		}
		return;
	}
	if (resp->status < 300) {
		on_answer(c, br, resp);
		return;
	}
	br->done = true;
	br->tx = NULL;
	note_failure(c, resp->status);
	call_leg_clear(c, &br->leg, CALL_CAUSE_NORMAL_CLEARING);
	for (size_t i = 0; i < c->nbranches; i++)
		if (!c->branches[i].done)
			return;
	if (!c->cancelled) /* the dialled number, or a transfer's target, cannot be reached */
		call_notify_failed(c, br->leg.dn, final_for_caller(c));
	if (c->transfer != CALL_NO_TRANSFER) {
		call_transfer_failed(c);
		return;
	}
	if (c->ring_join) {
		call_hang_up(&c->a, c->cs);
		call_join_ring_failed(c, c->best_status);
		return;
	}
	if (c->state != CALL_CONNECTED && c->invite) {
		if (final_for_caller(c) == 486 && call_play_busy_tone(c))
			return;
		sip_server_tx_reply(c->invite, final_for_caller(c), NULL, NULL, NULL, NULL, 0);
		c->invite = NULL;
	}
	if (c->state != CALL_CONNECTED)
		call_free(c);
}

/* ---- a new call ---- */

bool call_start_branch(struct call *c, const struct sip_binding *binding, const char *dn,
                       const char *from_dn, const struct call_sdp *offer)
{
	struct call_service *cs = c->cs;
	struct call_branch *br = &c->branches[c->nbranches];
	free(br->answer.data); /* a transfer reuses the slots of the call's first branches */
	memset(br, 0, sizeof(*br));
	br->call = c;
	struct call_leg *leg = &br->leg;
	sip_random_hex(leg->call_id, 16);
	sip_random_hex(leg->local_tag, 8);
	leg->flow = binding->flow;
	base_strlcpy(leg->remote_target, binding->contact, sizeof(leg->remote_target));
	base_strlcpy(leg->device, binding->device, sizeof(leg->device));
	base_strlcpy(leg->dn, dn, sizeof(leg->dn));
	call_leg_device(cs, leg);
	char host[64];
	uint16_t port;
	call_leg_local(cs, leg, host, sizeof(host), &port);
	snprintf(leg->local_uri, sizeof(leg->local_uri), "<sip:%s@%s>", from_dn, host);
	snprintf(leg->remote_uri, sizeof(leg->remote_uri), "<sip:%s@%s>", dn, host);
	leg->local_cseq = 1;
	struct sip_buf sdp;
	sip_buf_init(&sdp);
	if (leg->jabber) {
		/* Unified CM's numbering (INVITE 101), which its responses always carry anyway. */
		leg->local_cseq = 101;
		call_leg_new_session(leg);
		call_sdp_keep(&br->answer, (struct sip_pl){offer->data, offer->len}, false);
	} else {
		call_sdp_for_leg(leg, offer->data, offer->len, &sdp);
	}
	br->late = sdp.len == 0;
	struct sip_buf b;
	call_leg_request(cs, leg, "INVITE", leg->local_cseq, NULL, sdp.len ? SDP : NULL, sdp.data,
	                 sdp.len, br->via_branch, &b);
	sip_buf_free(&sdp);
	br->tx =
	    sip_client_tx_send(cs->stack, &leg->flow, br->via_branch, &b, on_branch_response, br);
	if (!br->tx) {
		free(br->answer.data);
		br->answer.data = NULL;
		return false;
	}
	call_index(c, leg->call_id);
	c->nbranches++;
	return true;
}

int call_take_caller(struct call_service *cs, struct call_leg *a, struct call_sdp *sdp,
                     struct sip_server_tx *tx, const struct sip_binding *binding)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_CONTACT);
	struct sip_addr contact;
	if (!h || sip_addr_parse(h->value, &contact) != 0 ||
	    contact.uri_text.l >= sizeof(a->remote_target) ||
	    req->call_id.l >= sizeof(a->call_id) || req->from_tag.l >= sizeof(a->remote_tag) ||
	    req->to.uri_text.l + 3 > sizeof(a->local_uri) ||
	    req->from.uri_text.l + 3 > sizeof(a->remote_uri))
		return -1;
	sip_pl_strcpy(req->call_id, a->call_id, sizeof(a->call_id));
	base_strlcpy(a->local_tag, sip_server_tx_to_tag(tx), sizeof(a->local_tag));
	sip_pl_strcpy(req->from_tag, a->remote_tag, sizeof(a->remote_tag));
	angle(req->to.uri_text, a->local_uri, sizeof(a->local_uri));
	angle(req->from.uri_text, a->remote_uri, sizeof(a->remote_uri));
	sip_pl_strcpy(contact.uri_text, a->remote_target, sizeof(a->remote_target));
	a->flow = *sip_server_tx_source(tx);
	base_strlcpy(a->device, binding->device, sizeof(a->device));
	base_strlcpy(a->dn, binding->aor, sizeof(a->dn));
	call_leg_device(cs, a);
	if (a->jabber) { /* it matches what we send it by Session-ID (RFC 7989), as it sends one */
		call_leg_new_session(a);
		call_leg_note_session(a, req);
	}
	a->cisco = advertises_sis(req);
	call_leg_note_sdp(a, req->body);
	call_sdp_keep(sdp, req->body, false);
	return 0;
}

/* Nobody answered within the caller's INVITE's Expires: the UAS answers 487 (RFC 3261
 * §13.3.1) and the devices still ringing are cancelled. */
static void on_invite_expired(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct call *c = arg;
	if (!c->invite || c->state == CALL_CONNECTED)
		return;
	base_log(BASE_LOG_INFO, "call", "call %llu: not answered before the INVITE expired; 487",
	         (unsigned long long)c->id);
	give_up(c);
}

static void new_call(struct call_service *cs, struct sip_server_tx *tx)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	char caller[32], target[32];
	struct sip_binding from;
	if (req->from.uri.user.l >= sizeof(caller) || req->ruri.user.l == 0 ||
	    req->ruri.user.l >= sizeof(target)) {
		sip_server_tx_reply(tx, 404, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sip_pl_strcpy(req->from.uri.user, caller, sizeof(caller));
	sip_pl_strcpy(req->ruri.user, target, sizeof(target));
	if (!sip_registrar_binding_of(cs->registrar, caller, sip_server_tx_source(tx), &from)) {
		sip_server_tx_reply(tx, 403, "Caller Not Registered", NULL, NULL, NULL, 0);
		return;
	}
	if (sip_registrar_authorize(cs->registrar, tx, &from) != 0)
		return;
	if (sip_msg_hdr(req, SIP_HDR_REPLACES)) {
		call_replace_dialog(cs, tx, &from);
		return;
	}
	struct store_line_device devices[1];
	size_t ndevices = 0;
	store_line_devices(cs->store, target, devices, 1, &ndevices, NULL);
	if (ndevices == 0) {
		sip_server_tx_reply(tx, 404, NULL, NULL, NULL, NULL, 0);
		return;
	}
	struct call *c = call_new(cs);
	if (!c || call_take_caller(cs, &c->a, &c->sdp_a, tx, &from) != 0) {
		sip_server_tx_reply(tx, c ? 400 : 500, NULL, NULL, NULL, NULL, 0);
		if (c)
			call_free(c);
		return;
	}
	if (c->a.security == CALL_ENCRYPTED && c->sdp_a.len && !c->a.srtp) {
		/* An encrypted device must offer SRTP with SDES keys. */
		sip_server_tx_reply(tx, 488, "Encrypted Device Must Offer SRTP", NULL, NULL, NULL,
		                    0);
		call_free(c);
		return;
	}
	base_strlcpy(c->b.dn, target, sizeof(c->b.dn));
	c->invite = tx;
	call_index(c, c->a.call_id);
	call_leg_notify(c, &c->a, CALL_EVENT_ORIGINATED, CALL_CONN_CONNECTED, CALL_CAUSE_NEW_CALL);
	struct sip_binding targets[CALL_MAX_BRANCHES];
	size_t n = sip_registrar_lookup(cs->registrar, target, targets, CALL_MAX_BRANCHES);
	for (size_t i = 0; i < n && i < CALL_MAX_BRANCHES; i++)
		if (strcasecmp(targets[i].device, from.device) != 0)
			call_start_branch(c, &targets[i], target, c->a.dn, &c->sdp_a);
	if (c->nbranches == 0) {
		call_notify_failed(c, target, 480);
		sip_server_tx_reply(tx, 480, NULL, NULL, NULL, NULL, 0);
		call_free(c);
		return;
	}
	if (req->expires > 0 && !call_arm_answer_timer(c, req->expires, on_invite_expired))
		base_log(BASE_LOG_WARN, "call", "call %llu: out of memory for the INVITE's Expires",
		         (unsigned long long)c->id);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s (%s) calls %s, ringing %zu device(s)",
	         (unsigned long long)c->id, c->a.dn, c->a.device, target, c->nbranches);
}

/* ---- requests within a call ---- */

struct call_leg *call_dialog_of(struct call_service *cs, struct sip_server_tx *tx,
                                struct call **out)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	struct call *c = call_find(cs, req->call_id);
	struct call_leg *leg = c ? call_leg_match(c, req) : NULL;
	if (!leg) {
		sip_server_tx_reply(tx, 481, NULL, NULL, NULL, NULL, 0);
		return NULL;
	}
	if (call_leg_authorize(cs, tx, leg) != 0)
		return NULL;
	*out = c;
	return leg;
}

static void on_cancel(struct call_service *cs, struct sip_server_tx *tx)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	struct call *c = call_find(cs, req->call_id);
	/* the caller's INVITE, or one with Replaces taking over a leg (call_replaces.c) */
	const struct call_leg *inviting = c && c->replaced ? c->ok_leg : c ? &c->a : NULL;
	if (!c || !c->invite || !sip_pl_eq(req->call_id, inviting->call_id)) {
		sip_server_tx_reply(tx, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sip_server_tx_reply(tx, 200, NULL, NULL, NULL, NULL, 0);
	base_log(BASE_LOG_INFO, "call", "call %llu: cancelled by %s", (unsigned long long)c->id,
	         inviting->device);
	if (c->replaced) { /* the call was connected: end it for the others too */
		call_hang_up(call_leg_other(c, c->ok_leg), cs);
		call_hang_up(c->replaced, cs);
	}
	give_up(c);
}

static void on_bye(struct call_service *cs, struct sip_server_tx *tx)
{
	struct call *c;
	struct call_leg *leg = call_dialog_of(cs, tx, &c);
	if (!leg)
		return;
	if (c->ring_join) { /* the transferee gave up while the target was ringing */
		sip_server_tx_reply(tx, 200, NULL, NULL, NULL, NULL, 0);
		call_cancel_branches(c, NULL);
		call_join_ring_failed(c, 487);
		return;
	}
	if (c->state == CALL_BUSY_TONE) { /* the caller leaves the early dialog (RFC 3261 §15) */
		sip_server_tx_reply(tx, 200, NULL, NULL, NULL, NULL, 0);
		call_end_unanswered(c, 487);
		return;
	}
	if (c->state != CALL_CONNECTED) {
		sip_server_tx_reply(tx, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sip_server_tx_reply(tx, 200, NULL, NULL, NULL, NULL, 0);
	call_leg_clear(c, leg, CALL_CAUSE_NORMAL_CLEARING);
	call_hang_up(call_leg_other(c, leg), cs);
	if (c->replaced) /* a takeover under way: the device it replaces still holds a dialog */
		call_hang_up(c->replaced, cs);
	base_log(BASE_LOG_INFO, "call", "call %llu: %s hung up", (unsigned long long)c->id,
	         leg->device);
	call_free(c);
}

/* A re-INVITE that put the call on hold or took it back, as its SDP said (RFC 3264 §8.4). */
static void tell_hold(struct call *c, struct call_leg *from)
{
	if (from->held && from->conn == CALL_CONN_CONNECTED)
		call_leg_notify(c, from, CALL_EVENT_HELD, CALL_CONN_HOLD, CALL_CAUSE_NORMAL);
	else if (!from->held && from->conn == CALL_CONN_HOLD)
		call_leg_notify(c, from, CALL_EVENT_RETRIEVED, CALL_CONN_CONNECTED,
		                CALL_CAUSE_NORMAL);
}

static void on_reinvite_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct call *c = arg;
	if (resp->status < 200 || !c->reinvite)
		return;
	struct call_leg *to = c->reinvite_from_a ? &c->b : &c->a;
	struct call_leg *from = c->reinvite_from_a ? &c->a : &c->b;
	c->reinvite_out = NULL;
	if (resp->status < 300) {
		if (!c->reinvite_is_update)
			call_send_on_leg(c->cs, to, "ACK", c->reinvite_cseq);
		call_leg_note_sdp(to, resp->body);
		call_sdp_keep(c->reinvite_from_a ? &c->sdp_b : &c->sdp_a, resp->body, true);
		char contact[700];
		call_leg_contact(c->cs, from, contact, sizeof(contact));
		struct sip_buf sdp;
		call_sdp_for_leg(from, resp->body.p, resp->body.l, &sdp);
		sip_server_tx_reply(c->reinvite, 200, NULL, contact, sdp.len ? SDP : NULL, sdp.data,
		                    sdp.len);
		sip_buf_free(&sdp);
		tell_hold(c, from);
	} else {
		sip_server_tx_reply(c->reinvite, resp->status, NULL, NULL, NULL, NULL, 0);
	}
	c->reinvite = NULL;
}

/* An UPDATE in an early dialog (RFC 3311 §5.1): the caller's, or a ringing callee's (a
 * Cisco phone may send one to update its display): there is no media to renegotiate before
 * the answer, so it is answered here (200, or 488 to an offer) rather than refused. */
static void answer_early_update(struct call_service *cs, struct sip_server_tx *tx,
                                struct call_leg *leg)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	char contact[700]; /* a 2xx to UPDATE carries one (RFC 3311 §5.2) */
	call_leg_contact(cs, leg, contact, sizeof(contact));
	sip_server_tx_reply(tx, req->body.l ? 488 : 200, NULL, req->body.l ? NULL : contact, NULL,
	                    NULL, 0);
}

/* Is the UPDATE from a device still ringing, in the early dialog of its 18x? Then it is
 * answered here. */
static bool early_update_of_callee(struct call_service *cs, struct sip_server_tx *tx)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	struct call *c = call_find(cs, req->call_id);
	if (!c || call_leg_match(c, req))
		return false;
	for (size_t i = 0; i < c->nbranches; i++) {
		struct call_branch *br = &c->branches[i];
		if (!br->done && sip_pl_eq(req->call_id, br->leg.call_id) &&
		    sip_pl_eq(req->to_tag, br->leg.local_tag)) {
			answer_early_update(cs, tx, &br->leg);
			return true;
		}
	}
	return false;
}

/* A re-INVITE or an UPDATE within a connected call: its offer (hold, resume, new media), or
 * for an UPDATE none (a session refresh), goes on to the other party in a request of the same
 * method, and the other party's answer comes back in our 2xx. A Jabber client takes every
 * INVITE for a new call and ignores UPDATE: it is never sent either, an offer for it is
 * refused (488) and an UPDATE without one is answered here. */
static void on_reinvite(struct call_service *cs, struct sip_server_tx *tx)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	bool update = sip_pl_eq(req->method, "UPDATE");
	if (update && early_update_of_callee(cs, tx))
		return;
	struct call *c;
	struct call_leg *leg = call_dialog_of(cs, tx, &c);
	if (!leg)
		return;
	if (c->state != CALL_CONNECTED) { /* the caller's early dialog */
		if (update)
			answer_early_update(cs, tx, leg);
		else
			sip_server_tx_reply(tx, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (c->reinvite || call_busy(c)) {
		sip_server_tx_reply(tx, 491, NULL, NULL, NULL, NULL, 0);
		return;
	}
	struct call_leg *other = call_leg_other(c, leg);
	if (update && !req->body.l && other->jabber) {
		sip_server_tx_reply(tx, 200, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (call_late_refuse_reinvite(tx, other))
		return;
	if (leg->security == CALL_ENCRYPTED && req->body.l) {
		struct sip_sdp sdp;
		if (sip_sdp_parse(req->body, &sdp, NULL) == 0 && !sip_sdp_is_srtp(&sdp)) {
			sip_server_tx_reply(tx, 488, "Encrypted Device Must Offer SRTP", NULL, NULL,
			                    NULL, 0);
			return;
		}
	}
	call_leg_note_sdp(leg, req->body);
	call_sdp_keep(leg == &c->a ? &c->sdp_a : &c->sdp_b, req->body, false);
	c->reinvite = tx;
	c->reinvite_from_a = leg == &c->a;
	c->reinvite_is_update = update;
	char branch[40];
	struct sip_buf b;
	struct sip_buf sdp;
	call_sdp_for_leg(other, req->body.p, req->body.l, &sdp);
	c->reinvite_cseq = ++other->local_cseq;
	call_leg_request(cs, other, update ? "UPDATE" : "INVITE", c->reinvite_cseq, NULL,
	                 sdp.len ? SDP : NULL, sdp.data, sdp.len, branch, &b);
	sip_buf_free(&sdp);
	c->reinvite_out =
	    sip_client_tx_send(cs->stack, &other->flow, branch, &b, on_reinvite_response, c);
	if (!c->reinvite_out) {
		sip_server_tx_reply(tx, 500, NULL, NULL, NULL, NULL, 0);
		c->reinvite = NULL;
	}
}

void call_handle_request(struct call_service *cs, struct sip_server_tx *tx)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	if (sip_pl_eq(req->method, "CANCEL")) {
		on_cancel(cs, tx);
	} else if (sip_pl_eq(req->method, "BYE")) {
		on_bye(cs, tx);
	} else if (sip_pl_eq(req->method, "REFER")) {
		struct call *c;
		struct call_leg *leg = call_dialog_of(cs, tx, &c);
		if (leg)
			call_on_refer(cs, tx, c, leg);
	} else if (sip_pl_eq(req->method, "INFO")) {
		call_on_info(cs, tx);
	} else if ((sip_pl_eq(req->method, "INVITE") && req->to_tag.l) ||
	           sip_pl_eq(req->method, "UPDATE")) {
		on_reinvite(cs, tx);
	} else if (sip_pl_eq(req->method, "INVITE")) {
		new_call(cs, tx);
	} else {
		sip_server_tx_reply(tx, 501, NULL, NULL, NULL, NULL, 0);
	}
}

static void on_ack(void *arg, const struct sip_msg *ack, const struct sip_source *src)
{
	(void)src;
	struct call *c = call_find(arg, ack->call_id);
	if (c && c->ok_timer && call_leg_match(c, ack) == c->ok_leg) {
		event_free(c->ok_timer);
		c->ok_timer = NULL;
		if (c->replace_late && c->replaced) /* it brings the answer to the peer's offer */
			call_replace_acked(c, ack);
		else if (c->b_awaits_answer && c->ok_leg == &c->a)
			call_late_caller_acked(c, ack);
	}
}

/* ---- the service ---- */

int call_service_start(struct call_service **out, struct event_base *base, struct store *store,
                       struct sip_stack *stack, struct sip_registrar *registrar,
                       struct base_err *err)
{
	struct call_service *cs = calloc(1, sizeof(*cs));
	if (!cs || !(cs->by_call_id = base_hash_new())) {
		free(cs);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	cs->base = base, cs->store = store, cs->stack = stack, cs->registrar = registrar;
	sip_stack_set_ack_handler(stack, on_ack, cs);
	*out = cs;
	return 0;
}

struct collect_ctx {
	struct call **calls;
	size_t n, cap;
};

/* A call is indexed under several Call-IDs: collect each once, free them afterwards. */
static void collect_call(void *arg, const char *key, void *value)
{
	(void)key;
	struct collect_ctx *ctx = arg;
	for (size_t i = 0; i < ctx->n; i++)
		if (ctx->calls[i] == value)
			return;
	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 16;
		struct call **grown = realloc(ctx->calls, cap * sizeof(*grown));
		if (!grown)
			return;
		ctx->calls = grown, ctx->cap = cap;
	}
	ctx->calls[ctx->n++] = value;
}

void call_service_stop(struct call_service *cs)
{
	if (!cs)
		return;
	struct collect_ctx ctx = {0};
	base_hash_foreach(cs->by_call_id, collect_call, &ctx);
	for (size_t i = 0; i < ctx.n; i++)
		call_free(ctx.calls[i]);
	free(ctx.calls);
	base_hash_free(cs->by_call_id, NULL);
	free(cs->observers);
	free(cs);
}
