/*
 * The callee: INVITE, 180, a pause (--after), 200 with the SDP answer, ACK; re-INVITEs are
 * answered with the direction that answers theirs (recvonly to a hold); a BYE or CANCEL
 * ends the call. With --busy every call gets 486. The requests that arrive within a call
 * are handled here for the caller too: the callee may hold, or hang up first.
 */
#include "phone_ua_int.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

int ua_sdp_read(struct sip_pl body, struct sip_sdp *sdp, char *desc, size_t size)
{
	struct base_err err = {0};
	if (sip_sdp_parse(body, sdp, &err) != 0) {
		snprintf(desc, size, "malformed SDP: %s", err.message);
		return -1;
	}
	phone_sdp_describe(sdp, desc, size);
	return phone_sdp_audio(sdp) ? 0 : -1;
}

void call_reset(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	if (c->media_open)
		phone_media_close(&c->media);
	if (ua->timer)
		evtimer_del(ua->timer);
	ua->timer_fn = NULL;
	memset(c, 0, sizeof(*c));
}

/* One more call is over; the last one ends the run. */
static void call_finished(struct phone_ua *ua)
{
	call_reset(ua);
	ua->calls_done++;
	if (ua->calls_done >= ua->o->count)
		ua_done(ua, 0);
}

static void reply_sdp(struct phone_ua *ua, struct phone_incoming *in, const char *sdp)
{
	char contact[350];
	ua_contact_header(ua, contact, sizeof(contact));
	base_strlcpy(contact + strlen(contact), ua_supported(ua),
	             sizeof(contact) - strlen(contact));
	phone_incoming_reply(in, 200, contact, "application/sdp", sdp, strlen(sdp));
}

/* Our SDP answer to the offer in req (or an offer of ours when it had none); 0 with the
 * body in out, or -1 after refusing the request with 488. */
static int make_answer(struct phone_ua *ua, struct phone_incoming *in, char *out, size_t size)
{
	struct phone_call *c = &ua->call;
	const struct sip_msg *req = phone_incoming_msg(in);
	struct sip_sdp offer;
	char desc[160];
	struct base_err err = {0};
	/* A late offer: ours (in the session's profile) goes in the 200, the answer in the ACK. */
	if (req->body.l == 0)
		return phone_sdp_offer(&c->media, c->media.srtp, SIP_SDP_SENDRECV, out, size) < 0
		           ? -1
		           : 0;
	if (ua_sdp_read(req->body, &offer, desc, sizeof(desc)) == 0 &&
	    phone_sdp_answer(&c->media, &offer, out, size, &err) >= 0)
		return 0;
	printf("call %d: cannot answer the offer (%s): 488\n", c->number,
	       err.message[0] ? err.message : desc);
	phone_incoming_reply(in, 488, NULL, NULL, NULL, 0);
	return -1;
}

/* The dialog as the Replaces value a phone taking it over sends (RFC 3891 §6.1: to-tag the
 * server's, from-tag ours), written whole (renamed into place) for a test to read. */
static void write_dialog(const char *path, const struct phone_dialog *d)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		printf("cannot write %s\n", tmp);
		return;
	}
	fprintf(f, "%s;to-tag=%s;from-tag=%s\n", d->call_id, d->remote_tag, d->local_tag);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		printf("cannot write %s\n", path);
}

static void answer_now(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	struct phone_incoming *in = c->invite;
	char sdp[1024], desc[160];
	struct sip_sdp mine;
	if (make_answer(ua, in, sdp, sizeof(sdp)) != 0) {
		c->invite = NULL;
		call_finished(ua);
		return;
	}
	ua_sdp_read((struct sip_pl){sdp, strlen(sdp)}, &mine, desc, sizeof(desc));
	c->invite = NULL;
	c->state = CALL_CONNECTED;
	reply_sdp(ua, in, sdp);
	printf("call %d: answered with 200 OK, %s\n", c->number, desc);
	if (ua->o->dialog_file)
		write_dialog(ua->o->dialog_file, &c->d);
	if (ua->o->cmd == PHONE_TRANSFER)
		transfer_answered(ua);
}

void answer_invite(struct phone_ua *ua, struct phone_incoming *in)
{
	struct phone_call *c = &ua->call;
	const struct sip_msg *req = phone_incoming_msg(in);
	bool answers = ua->o->cmd == PHONE_ANSWER || ua->o->cmd == PHONE_TRANSFER;
	bool transferred = ua->o->cmd == PHONE_TRANSFER && ua->calls_done; /* one call only */
	if (!answers || transferred || c->state != CALL_IDLE || ua->ending) {
		printf("another INVITE from %.*s while busy: 486\n", (int)req->from.uri_text.l,
		       req->from.uri_text.p);
		phone_incoming_reply(in, 486, NULL, NULL, NULL, 0);
		return;
	}
	c->number = ua->calls_done + 1;
	struct sip_sdp offer;
	char desc[160] = "none";
	if (req->body.l)
		ua_sdp_read(req->body, &offer, desc, sizeof(desc));
	printf("call %d: INVITE from %.*s, offer %s\n", c->number, (int)req->from.uri_text.l,
	       req->from.uri_text.p, desc);
	if (ua->o->busy) {
		phone_incoming_reply(in, 486, NULL, NULL, NULL, 0);
		printf("call %d: refused with 486 Busy Here\n", c->number);
		call_finished(ua);
		return;
	}
	struct base_err err = {0};
	char host[64];
	ua_local_host(ua, host, sizeof(host));
	if (dialog_accept(&c->d, req, phone_incoming_to_tag(in)) != 0 ||
	    phone_media_open(&c->media, host, &err) != 0) {
		printf("call %d: cannot take the call%s%s: 500\n", c->number,
		       err.message[0] ? ": " : "", err.message);
		phone_incoming_reply(in, 500, NULL, NULL, NULL, 0);
		call_finished(ua);
		return;
	}
	c->media_open = true;
	c->invite = in;
	c->state = CALL_RINGING;
	char contact[300];
	ua_contact_header(ua, contact, sizeof(contact));
	phone_incoming_reply(in, 180, contact, NULL, NULL, 0);
	printf("call %d: ringing (180)\n", c->number);
	ua_after(ua, ua->o->after, answer_now);
}

void answer_ack(struct phone_ua *ua, const struct sip_msg *ack)
{
	struct phone_call *c = &ua->call;
	if (!dialog_matches(&c->d, ack))
		return;
	if (ack->body.l) { /* the answer to the offer of our 2xx (a late-offer INVITE) */
		struct sip_sdp sdp;
		char desc[160];
		ua_sdp_read(ack->body, &sdp, desc, sizeof(desc));
		printf("call %d: ACK with the SDP answer %s\n", c->number, desc);
	}
	if (c->acked)
		return;
	c->acked = true;
	printf("call %d: ACK, connected\n", c->number);
}

void answer_reinvite(struct phone_ua *ua, struct phone_incoming *in)
{
	struct phone_call *c = &ua->call;
	const struct sip_msg *req = phone_incoming_msg(in);
	if (!dialog_matches(&c->d, req) || c->state != CALL_CONNECTED) {
		phone_incoming_reply(in, 481, NULL, NULL, NULL, 0);
		return;
	}
	struct sip_sdp offer;
	char theirs[160] = "none", sdp[1024];
	if (req->body.l)
		ua_sdp_read(req->body, &offer, theirs, sizeof(theirs));
	if (make_answer(ua, in, sdp, sizeof(sdp)) != 0)
		return;
	const struct sip_sdp_media *a = req->body.l ? phone_sdp_audio(&offer) : NULL;
	enum sip_sdp_dir dir = phone_sdp_answer_dir(a ? a->dir : SIP_SDP_SENDRECV);
	reply_sdp(ua, in, sdp);
	printf("call %d: re-INVITE offering %s, answered %s%s\n", c->number, theirs,
	       phone_sdp_dir_name(dir),
	       dir == SIP_SDP_RECVONLY   ? " (held by the other side)"
	       : dir == SIP_SDP_SENDRECV ? " (resumed)"
	                                 : "");
}

void answer_bye(struct phone_ua *ua, struct phone_incoming *in)
{
	struct phone_call *c = &ua->call;
	const struct sip_msg *req = phone_incoming_msg(in);
	if (!dialog_matches(&c->d, req) || c->state == CALL_IDLE) {
		phone_incoming_reply(in, 481, NULL, NULL, NULL, 0);
		return;
	}
	phone_incoming_reply(in, 200, NULL, NULL, NULL, 0);
	if (c->state == CALL_ENDING) /* both hung up at once; our BYE ends it */
		return;
	if (ua->o->cmd == PHONE_CALL) {
		call_remote_bye(ua);
		return;
	}
	printf("call %d: BYE, the other side hung up\n", c->number);
	call_finished(ua);
}

void answer_cancel(struct phone_ua *ua, struct phone_incoming *in)
{
	struct phone_call *c = &ua->call;
	const struct sip_msg *req = phone_incoming_msg(in);
	if (!c->invite || !dialog_matches(&c->d, req)) {
		phone_incoming_reply(in, 481, NULL, NULL, NULL, 0);
		return;
	}
	phone_incoming_reply(in, 200, NULL, NULL, NULL, 0);
	phone_incoming_reply(c->invite, 487, NULL, NULL, NULL, 0);
	c->invite = NULL;
	printf("call %d: CANCEL, stopped ringing (487)\n", c->number);
	call_finished(ua);
}

void answer_update(struct phone_ua *ua, struct phone_incoming *in)
{
	const struct sip_msg *req = phone_incoming_msg(in);
	bool ours = (dialog_matches(&ua->call.d, req) && ua->call.state != CALL_IDLE) ||
	            (dialog_matches(&ua->consult.d, req) && ua->consult.state != CALL_IDLE);
	if (!ours || req->body.l) { /* no SDP offers in UPDATE: the server sends none */
		phone_incoming_reply(in, ours ? 488 : 481, NULL, NULL, NULL, 0);
		return;
	}
	int number = dialog_matches(&ua->call.d, req) ? ua->call.number : ua->consult.number;
	phone_incoming_reply(in, 200, NULL, NULL, NULL, 0); /* frees req */
	printf("call %d: UPDATE, answered 200\n", number);
}
