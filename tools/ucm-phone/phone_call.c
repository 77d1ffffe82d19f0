/*
 * The caller's script: INVITE with an offer, 1xx, 200 and ACK; talk; with --hold a re-INVITE
 * sendonly (hold), a pause, a re-INVITE sendrecv (resume); talk; BYE. Every answer is
 * checked against what we asked for (SRTP when we offered it, the direction that answers
 * ours), and a wrong one fails the call, which still ends with a BYE.
 */
#include "phone_ua_int.h"

#include <stdio.h>
#include <string.h>

static void hang_up(struct phone_ua *ua);

/* Reads the SDP answer of a 2xx and checks it; prints what it says. */
static bool answer_ok(struct phone_ua *ua, const struct sip_msg *resp, const char *what)
{
	struct phone_call *c = &ua->call;
	struct sip_sdp sdp;
	char desc[160];
	if (resp->body.l == 0 || ua_sdp_read(resp->body, &sdp, desc, sizeof(desc)) != 0) {
		printf("%s: %u %.*s without a usable SDP answer\n", what, resp->status,
		       (int)resp->reason.l, resp->reason.p);
		return false;
	}
	printf("%s: %u %.*s, answer %s\n", what, resp->status, (int)resp->reason.l, resp->reason.p,
	       desc);
	const struct sip_sdp_media *a = phone_sdp_audio(&sdp);
	enum sip_sdp_dir want = phone_sdp_answer_dir(c->offered);
	if (c->media.srtp && !sip_sdp_is_srtp(&sdp)) {
		printf("the answer to an SRTP offer is not SRTP\n");
		return false;
	}
	if (!a || (a->dir != want && a->dir != SIP_SDP_INACTIVE)) {
		printf("the answer's direction does not answer %s\n",
		       phone_sdp_dir_name(c->offered));
		return false;
	}
	return true;
}

/* Sends an INVITE (or re-INVITE) offering dir. */
static int invite(struct phone_ua *ua, enum sip_sdp_dir dir, ua_response_fn fn)
{
	struct phone_call *c = &ua->call;
	char sdp[1024];
	c->offered = dir;
	if (phone_sdp_offer(&c->media, ua->o->srtp, dir, sdp, sizeof(sdp)) < 0)
		return -1;
	return ua_send(ua, &c->d, "INVITE", NULL, sdp, fn);
}

static void on_bye_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	if (resp->status < 200)
		return;
	printf("BYE: %u %.*s, call ended\n", resp->status, (int)resp->reason.l, resp->reason.p);
	bool ok = resp->status < 300 && !ua->call.failed;
	call_reset(ua);
	ua_done(ua, ok ? 0 : 1);
}

static void hang_up(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	c->state = CALL_ENDING;
	printf("hanging up\n");
	if (ua_send(ua, &c->d, "BYE", NULL, NULL, on_bye_response) != 0) {
		call_reset(ua);
		ua_done(ua, 1);
	}
}

/* ---- hold and resume ---- */

static void resume(struct phone_ua *ua);

static void on_reinvite_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	struct phone_call *c = &ua->call;
	bool holding = c->offered == SIP_SDP_SENDONLY;
	const char *what = holding ? "hold" : "resume";
	if (resp->status < 200)
		return;
	if (resp->status >= 300) {
		printf("%s: %u %.*s\n", what, resp->status, (int)resp->reason.l, resp->reason.p);
		c->failed = true;
		hang_up(ua);
		return;
	}
	dialog_ack(ua, &c->d, resp->cseq.number);
	if (!answer_ok(ua, resp, what)) {
		c->failed = true;
		hang_up(ua);
		return;
	}
	printf("%s\n", holding ? "call on hold" : "call resumed");
	ua_after(ua, ua->o->talk, holding ? resume : hang_up);
}

static void reinvite(struct phone_ua *ua, enum sip_sdp_dir dir)
{
	printf("%s: re-INVITE %s\n", dir == SIP_SDP_SENDONLY ? "hold" : "resume",
	       phone_sdp_dir_name(dir));
	if (invite(ua, dir, on_reinvite_response) != 0) {
		ua->call.failed = true;
		hang_up(ua);
	}
}

static void hold(struct phone_ua *ua)
{
	reinvite(ua, SIP_SDP_SENDONLY);
}

static void resume(struct phone_ua *ua)
{
	reinvite(ua, SIP_SDP_SENDRECV);
}

/* ---- the call ---- */

/* Our answer (in sdp) to the offer of a 2xx, our INVITE having none (a delayed offer); false,
 * with why printed, when there is none we can give. */
static bool answer_offer(struct phone_ua *ua, const struct sip_msg *resp, char *sdp, size_t size)
{
	struct sip_sdp offer;
	struct base_err err = {0};
	char desc[160];
	if (resp->body.l == 0 || ua_sdp_read(resp->body, &offer, desc, sizeof(desc)) != 0) {
		printf("INVITE: %u without a usable SDP offer\n", resp->status);
		return false;
	}
	printf("INVITE: %u %.*s, offer %s\n", resp->status, (int)resp->reason.l, resp->reason.p,
	       desc);
	if (ua->o->srtp && !sip_sdp_is_srtp(&offer)) {
		printf("the offer to an SRTP phone is not SRTP\n");
		return false;
	}
	if (phone_sdp_answer(&ua->call.media, &offer, sdp, size, &err) < 0) {
		printf("cannot answer the offer: %s\n", err.message);
		return false;
	}
	return true;
}

/* The ACK of the 2xx to a delayed offer, with our answer when we have one. */
static bool ack_with_answer(struct phone_ua *ua, const struct sip_msg *resp)
{
	char sdp[1024] = "", desc[160];
	struct sip_sdp mine;
	bool ok = answer_offer(ua, resp, sdp, sizeof(sdp));
	dialog_ack_sdp(ua, &ua->call.d, resp->cseq.number, ok ? sdp : NULL);
	if (ok) {
		ua_sdp_read((struct sip_pl){sdp, strlen(sdp)}, &mine, desc, sizeof(desc));
		printf("ACK sent with the answer %s\n", desc);
	}
	return ok;
}

static void on_invite_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	struct phone_call *c = &ua->call;
	if (resp->status < 200) {
		printf("INVITE: %u %.*s\n", resp->status, (int)resp->reason.l, resp->reason.p);
		return;
	}
	if (resp->status >= 300) {
		printf("call to %s failed: %u %.*s\n", ua->o->to, resp->status, (int)resp->reason.l,
		       resp->reason.p);
		call_reset(ua);
		ua_done(ua, 1);
		return;
	}
	dialog_confirm(&c->d, resp);
	c->state = CALL_CONNECTED;
	bool ok = ua->o->late ? ack_with_answer(ua, resp) : true;
	if (!ua->o->late)
		dialog_ack(ua, &c->d, resp->cseq.number);
	if (!ok || (!ua->o->late && !answer_ok(ua, resp, "INVITE"))) {
		c->failed = true;
		hang_up(ua);
		return;
	}
	printf("connected to %s, ACK sent\n", ua->o->to);
	ua_after(ua, ua->o->talk, ua->o->hold ? hold : hang_up);
}

/* The first INVITE: an offer, or none with --late; with --replaces it takes a dialog over. */
static int first_invite(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	char sdp[1024] = "", extra[440] = "";
	c->offered = SIP_SDP_SENDRECV;
	if (ua->o->replaces[0])
		snprintf(extra, sizeof(extra), "Replaces: %s\r\n", ua->o->replaces);
	if (!ua->o->late &&
	    phone_sdp_offer(&c->media, ua->o->srtp, SIP_SDP_SENDRECV, sdp, sizeof(sdp)) < 0)
		return -1;
	return ua_send(ua, &c->d, "INVITE", extra[0] ? extra : NULL, sdp, on_invite_response);
}

void call_start(struct phone_ua *ua)
{
	struct phone_call *c = &ua->call;
	struct base_err err = {0};
	char host[64];
	ua_local_host(ua, host, sizeof(host));
	if (phone_media_open(&c->media, host, &err) != 0) {
		printf("%s\n", err.message);
		ua_done(ua, 1);
		return;
	}
	c->media_open = true;
	dialog_new(ua, &c->d, ua->o->line, ua->o->to, false);
	c->number = 1;
	c->state = CALL_INVITING;
	printf("calling %s with %s%s\n", ua->o->to,
	       ua->o->late   ? "no offer (delayed offer)"
	       : ua->o->srtp ? "an RTP/SAVP (SDES " PHONE_SRTP_SUITE ") offer"
	                     : "an RTP/AVP offer",
	       ua->o->replaces[0] ? ", replacing a dialog" : "");
	if (first_invite(ua) != 0) {
		printf("cannot send INVITE\n");
		call_reset(ua);
		ua_done(ua, 1);
	}
}

void call_remote_bye(struct phone_ua *ua)
{
	printf("the other side hung up first\n");
	call_reset(ua);
	ua_done(ua, 1);
}
