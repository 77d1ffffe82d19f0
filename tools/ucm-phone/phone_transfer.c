/*
 * The transferor: a phone that answers a call and hands it on, as a receptionist does.
 *
 * Like a desk phone, it first puts the answered call on hold. Blind (RFC 5589 §6): then
 * REFER on it with Refer-To the target's number. Attended (§7): call the target (the
 * consultation), talk, then REFER on the held call with Refer-To the target and, escaped
 * among the URI's headers, Replaces naming the consultation dialog (RFC 3891: its Call-ID,
 * to-tag the peer's tag, from-tag ours).
 *
 * With --on-ring the REFER goes as soon as the consultation rings (transfer on ring): its
 * Replaces names the early dialog, and the server ends our INVITE (487) itself.
 *
 * The NOTIFYs that follow tell how the transfer goes (message/sipfrag); they belong to the
 * REFER's subscription, which outlives call 1's BYE (RFC 5057). On success the server
 * releases our calls; the run ends when the last NOTIFY said 2xx and both calls are gone.
 * A failed transfer hangs up what is left of our calls and exits 1.
 */
#include "phone_ua_int.h"

#include <stdio.h>
#include <string.h>

void transfer_reset(struct phone_ua *ua)
{
	struct phone_call *x = &ua->consult;
	if (x->media_open)
		phone_media_close(&x->media);
	memset(x, 0, sizeof(*x));
}

/* Done once the transfer's outcome is known and the server released our calls. */
static void maybe_finish(struct phone_ua *ua)
{
	if (!ua->transfer_final || ua->call.state != CALL_IDLE || ua->consult.state != CALL_IDLE)
		return;
	bool ok = ua->transfer_status >= 200 && ua->transfer_status < 300;
	printf("transfer %s, our calls released\n", ok ? "succeeded" : "failed");
	ua_done(ua, ok ? 0 : 1);
}

static void ignore_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	(void)ua, (void)resp;
}

/* Something went wrong: hang up what we still have and give up. */
static void give_up(struct phone_ua *ua, const char *why)
{
	printf("transfer failed: %s; hanging up\n", why);
	if (ua->call.state == CALL_CONNECTED)
		ua_send(ua, &ua->call.d, "BYE", NULL, NULL, ignore_response);
	if (ua->consult.state == CALL_CONNECTED)
		ua_send(ua, &ua->consult.d, "BYE", NULL, NULL, ignore_response);
	ua_done(ua, 1);
}

/* Percent-escapes everything but RFC 3986 unreserved characters, for a URI header value. */
static void escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *in && n + 4 < size; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
		    strchr("-._~", c)) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

static void on_refer_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	if (resp->status < 200)
		return;
	printf("REFER: %u %.*s\n", resp->status, (int)resp->reason.l, resp->reason.p);
	if (resp->status >= 300)
		give_up(ua, "REFER refused");
}

static void refer(struct phone_ua *ua)
{
	const struct phone_opts *o = ua->o;
	char replaces[700] = "", escaped[sizeof(replaces) * 3], extra[2600];
	bool v6 = strchr(o->server_host, ':') != NULL;
	const struct phone_dialog *x = &ua->consult.d;
	if (o->attended) {
		snprintf(replaces, sizeof(replaces), "%s;to-tag=%s;from-tag=%s", x->call_id,
		         x->remote_tag, x->local_tag);
		escape(replaces, escaped, sizeof(escaped));
	}
	snprintf(extra, sizeof(extra),
	         v6 ? "Refer-To: <sip:%s@[%s]%s%s>\r\nReferred-By: <sip:%s@[%s]>\r\n"
	            : "Refer-To: <sip:%s@%s%s%s>\r\nReferred-By: <sip:%s@%s>\r\n",
	         o->target, o->server_host, o->attended ? "?Replaces=" : "",
	         o->attended ? escaped : "", o->line, o->server_host);
	printf("REFER: transferring call 1 to %s%s\n", o->target,
	       o->attended ? " (Replaces: the consultation)" : " (blind)");
	ua->referred = true;
	ua->refer_dialog = ua->call.d;
	if (ua_send(ua, &ua->call.d, "REFER", extra, NULL, on_refer_response) != 0)
		give_up(ua, "cannot send REFER");
}

/* ---- the consultation ---- */

/* Transfer on ring: the consultation's early dialog (the to-tag of the 180) is what the
 * Replaces names. */
static void refer_on_ring(struct phone_ua *ua, const struct sip_msg *resp)
{
	struct phone_call *x = &ua->consult;
	if (ua->referred || resp->status < 180 || !resp->to_tag.l)
		return;
	dialog_confirm(&x->d, resp);
	printf("consultation: %s is ringing, transferring now\n", ua->o->target);
	refer(ua);
}

static void on_consult_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	struct phone_call *x = &ua->consult;
	if (resp->status < 200) {
		printf("consultation INVITE: %u %.*s\n", resp->status, (int)resp->reason.l,
		       resp->reason.p);
		if (ua->o->on_ring)
			refer_on_ring(ua, resp);
		return;
	}
	if (resp->status >= 300 && ua->referred) { /* the server ends the ringing consultation */
		printf("call 2: %u %.*s, released\n", resp->status, (int)resp->reason.l,
		       resp->reason.p);
		transfer_reset(ua);
		maybe_finish(ua);
		return;
	}
	if (resp->status >= 300) {
		printf("consultation call to %s failed: %u %.*s\n", ua->o->target, resp->status,
		       (int)resp->reason.l, resp->reason.p);
		transfer_reset(ua);
		give_up(ua, "no consultation");
		return;
	}
	dialog_confirm(&x->d, resp);
	dialog_ack(ua, &x->d, resp->cseq.number);
	x->state = CALL_CONNECTED;
	printf("consultation: connected to %s, ACK sent\n", ua->o->target);
	ua_after(ua, ua->o->talk, refer);
}

static void consult(struct phone_ua *ua)
{
	struct phone_call *x = &ua->consult;
	struct base_err err = {0};
	char host[64], sdp[1024];
	ua_local_host(ua, host, sizeof(host));
	if (phone_media_open(&x->media, host, &err) != 0) {
		give_up(ua, err.message);
		return;
	}
	x->media_open = true;
	x->number = 2;
	x->state = CALL_INVITING;
	dialog_new(ua, &x->d, ua->o->line, ua->o->target, false);
	bool srtp = ua->call.media.srtp; /* the same profile as the call we hold */
	printf("consultation: calling %s\n", ua->o->target);
	if (phone_sdp_offer(&x->media, srtp, SIP_SDP_SENDRECV, sdp, sizeof(sdp)) < 0 ||
	    ua_send(ua, &x->d, "INVITE", NULL, sdp, on_consult_response) != 0)
		give_up(ua, "cannot call the target");
}

static void on_hold_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	if (resp->status < 200)
		return;
	if (resp->status >= 300) {
		printf("hold: %u %.*s\n", resp->status, (int)resp->reason.l, resp->reason.p);
		give_up(ua, "cannot hold call 1");
		return;
	}
	dialog_ack(ua, &ua->call.d, resp->cseq.number);
	printf("call 1 on hold\n");
	if (ua->o->attended)
		consult(ua);
	else
		refer(ua);
}

static void hold(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	char sdp[1024];
	c->offered = SIP_SDP_SENDONLY;
	printf("hold: re-INVITE sendonly\n");
	if (phone_sdp_offer(&c->media, c->media.srtp, SIP_SDP_SENDONLY, sdp, sizeof(sdp)) < 0 ||
	    ua_send(ua, &c->d, "INVITE", NULL, sdp, on_hold_response) != 0)
		give_up(ua, "cannot hold call 1");
}

void transfer_answered(struct phone_ua *ua)
{
	ua_after(ua, ua->o->talk, hold);
}

/* ---- what the server tells us ---- */

void transfer_notify(struct phone_ua *ua, struct phone_incoming *in)
{
	const struct sip_msg *req = phone_incoming_msg(in);
	const struct sip_hdr *event = sip_msg_hdr(req, SIP_HDR_EVENT);
	const struct sip_hdr *state = sip_msg_hdr(req, SIP_HDR_SUBSCRIPTION_STATE);
	uint32_t status = 0;
	struct sip_pl b = req->body;
	if (!dialog_matches(&ua->refer_dialog, req) || ua->o->cmd != PHONE_TRANSFER || !event ||
	    !state || b.l < 12 || memcmp(b.p, "SIP/2.0 ", 8) != 0 ||
	    sip_pl_u32((struct sip_pl){b.p + 8, 3}, 699, &status) != 0) {
		phone_incoming_reply(in, 481, NULL, NULL, NULL, 0);
		return;
	}
	const char *eol = memchr(b.p, '\r', b.l);
	int line = eol ? (int)(eol - b.p) : (int)b.l;
	bool final = state->value.l >= 10 && strncmp(state->value.p, "terminated", 10) == 0;
	printf("NOTIFY: %.*s%s\n", line, b.p, final ? " (final)" : "");
	phone_incoming_reply(in, 200, NULL, NULL, NULL, 0); /* frees req: read it first */
	if (!final || ua->transfer_final)
		return;
	ua->transfer_final = true;
	ua->transfer_status = (int)status;
	if (status >= 300)
		give_up(ua, "the server could not connect the call");
	else
		maybe_finish(ua);
}

void transfer_bye(struct phone_ua *ua, struct phone_incoming *in)
{
	const struct sip_msg *req = phone_incoming_msg(in);
	bool first = dialog_matches(&ua->call.d, req) && ua->call.state != CALL_IDLE;
	bool second = dialog_matches(&ua->consult.d, req) && ua->consult.state != CALL_IDLE;
	if (!first && !second) {
		phone_incoming_reply(in, 481, NULL, NULL, NULL, 0);
		return;
	}
	phone_incoming_reply(in, 200, NULL, NULL, NULL, 0);
	printf("call %d: BYE, released\n", first ? 1 : 2);
	if (first) {
		call_reset(ua);
		ua->calls_done++;
	} else {
		transfer_reset(ua);
	}
	if (!ua->referred) /* released before we transferred: the transfer cannot happen */
		give_up(ua, "a call ended before the transfer");
	else
		maybe_finish(ua); /* the NOTIFY may still be on its way */
}
