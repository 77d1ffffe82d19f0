/*
 * A busy line, told to a Jabber client as Unified CM tells it (spec cisco-device-config §5.5).
 *
 * Jabber takes every final failure of its INVITE, 486 included, for a failed call ("Call
 * failed: 486 Busy Here"); it plays the busy tone and says the line is busy only when told so
 * within the call's early dialog. So the call is not failed: the caller gets a 183 Session
 * Progress, which makes the early dialog, and then a REFER in that dialog whose body, a
 * remotecc request, asks for the tone DtLineBusyTone. The client then hangs up with a CANCEL
 * (200, and 487 to the INVITE, as for any cancelled call). Jabber4Linux answers no REFER, so
 * the REFER's own outcome is not waited for. A client that never hangs up gets the 486 after
 * BUSY_TONE_SECONDS, so that no call waits for ever.
 *
 * Which element carries the tone (playtonereq, with a direction) is Cisco's remotecc
 * vocabulary as phones use it for their other tones; the spec only fixes the tonetype.
 */
#include "call/call_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define BUSY_TONE_SECONDS 60
#define REMOTECC          "application/x-cisco-remotecc-request+xml"

static const char busy_tone_request[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                                        "<x-cisco-remotecc-request>\r\n"
                                        "<playtonereq>\r\n"
                                        "<tonetype>DtLineBusyTone</tonetype>\r\n"
                                        "<direction>all</direction>\r\n"
                                        "</playtonereq>\r\n"
                                        "</x-cisco-remotecc-request>\r\n";

static void on_busy_tone_over(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct call *c = arg;
	base_log(BASE_LOG_INFO, "call", "call %llu: %s did not hang up on the busy tone; 486",
	         (unsigned long long)c->id, c->a.device);
	call_end_unanswered(c, 486);
}

/* The REFER asking the caller for the tone: in the early dialog of our 183, its Refer-To
 * naming its own body (RFC 2392 cid), no implicit subscription (norefersub). */
static bool send_busy_tone_refer(struct call *c)
{
	struct call_leg *a = &c->a;
	char host[64], cid[40], headers[320], branch[40];
	uint16_t port;
	call_leg_local(c->cs, a, host, sizeof(host), &port);
	sip_random_hex(cid, 8);
	snprintf(headers, sizeof(headers),
	         "Refer-To: cid:%s@%s\r\nContent-ID: <%s@%s>\r\nRequire: norefersub\r\n", cid, host,
	         cid, host);
	struct sip_buf b;
	call_leg_request(c->cs, a, "REFER", ++a->local_cseq, headers, REMOTECC, busy_tone_request,
	                 sizeof(busy_tone_request) - 1, branch, &b);
	return sip_client_tx_send(c->cs->stack, &a->flow, branch, &b, NULL, NULL) != NULL;
}

/* The caller's INVITE expires before the busy tone would end: its expiry ends the call. */
static bool expires_first(const struct call *c)
{
	struct timeval at, now;
	if (!c->answer_timer || !event_pending(c->answer_timer, EV_TIMEOUT, &at))
		return false;
	gettimeofday(&now, NULL);
	return at.tv_sec - now.tv_sec < BUSY_TONE_SECONDS;
}

bool call_play_busy_tone(struct call *c)
{
	if (!c->a.jabber || !c->invite)
		return false;
	char contact[800];
	call_leg_contact(c->cs, &c->a, contact, sizeof(contact));
	call_leg_session_header(&c->a, contact + strlen(contact),
	                        sizeof(contact) - strlen(contact));
	if (!expires_first(c) && !call_arm_answer_timer(c, BUSY_TONE_SECONDS, on_busy_tone_over))
		return false;
	if (sip_server_tx_reply(c->invite, 183, NULL, contact, NULL, NULL, 0) != 0)
		return false;
	if (!send_busy_tone_refer(c)) {
		call_end_unanswered(c, 486);
		return true;
	}
	c->state = CALL_BUSY_TONE;
	base_log(BASE_LOG_INFO, "call", "call %llu: %s is busy; busy tone to %s",
	         (unsigned long long)c->id, c->b.dn, c->a.device);
	return true;
}
