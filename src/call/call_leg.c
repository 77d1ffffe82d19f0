/* Requests within a leg's dialog, built from what the dialog remembers (RFC 3261 §12.2.1). */
#include "call/call_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define NO_SESSION "00000000000000000000000000000000"

static const char *transport_param(enum sip_transport_kind kind)
{
	return kind == SIP_TP_TLS ? "tls" : kind == SIP_TP_TCP ? "tcp" : "udp";
}

void call_leg_local(struct call_service *cs, struct call_leg *leg, char *host, size_t size,
                    uint16_t *port)
{
	sip_stack_local(cs->stack, &leg->flow, host, size, port);
}

void call_leg_contact(struct call_service *cs, struct call_leg *leg, char *out, size_t size)
{
	char host[64], hp[96];
	uint16_t port;
	call_leg_local(cs, leg, host, sizeof(host), &port);
	sip_hostport_format(host, port, hp, sizeof(hp));
	snprintf(out, size, "Contact: <sip:%s@%s;transport=%s>\r\n", leg->dn, hp,
	         transport_param(leg->flow.kind));
}

void call_leg_request(struct call_service *cs, struct call_leg *leg, const char *method,
                      uint32_t cseq, const char *headers, const char *content_type,
                      const char *body, size_t body_len, char branch[40], struct sip_buf *out)
{
	char host[64], hp[96], contact[700];
	uint16_t port;
	call_leg_local(cs, leg, host, sizeof(host), &port);
	sip_hostport_format(host, port, hp, sizeof(hp));
	call_leg_contact(cs, leg, contact, sizeof(contact));
	sip_branch_new(branch);
	sip_buf_init(out);
	sip_buf_printf(out, "%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n", method,
	               leg->remote_target, sip_transport_name(leg->flow.kind), hp, branch);
	sip_buf_printf(out, "Max-Forwards: 70\r\nFrom: %s;tag=%s\r\nTo: %s", leg->local_uri,
	               leg->local_tag, leg->remote_uri);
	if (leg->remote_tag[0])
		sip_buf_printf(out, ";tag=%s", leg->remote_tag);
	sip_buf_printf(out, "\r\nCall-ID: %s\r\nCSeq: %u %s\r\n%s", leg->call_id, cseq, method,
	               strcmp(method, "ACK") == 0 || strcmp(method, "BYE") == 0 ? "" : contact);
	if (strcmp(method, "INVITE") == 0)
		sip_buf_printf(out,
		               "Allow: INVITE, ACK, CANCEL, BYE, REFER, INFO, UPDATE, OPTIONS\r\n");
	char session[100];
	call_leg_session_header(leg, session, sizeof(session));
	sip_buf_add(out, session, strlen(session));
	if (headers)
		sip_buf_add(out, headers, strlen(headers));
	if (content_type && body_len)
		sip_buf_printf(out, "Content-Type: %s\r\n", content_type);
	sip_buf_end_headers(out, body, body_len);
}

void call_leg_note_sdp(struct call_leg *leg, struct sip_pl body)
{
	struct sip_sdp sdp;
	if (body.l == 0 || sip_sdp_parse(body, &sdp, NULL) != 0)
		return;
	leg->srtp = sip_sdp_is_srtp(&sdp);
	leg->held = sip_sdp_is_hold(&sdp);
}

void call_leg_session_header(const struct call_leg *leg, char *out, size_t size)
{
	if (!leg->session_id[0]) {
		out[0] = '\0';
		return;
	}
	snprintf(out, size, "Session-ID: %s;remote=%s\r\n", leg->session_id,
	         leg->remote_session[0] ? leg->remote_session : NO_SESSION);
}

void call_leg_new_session(struct call_leg *leg)
{
	sip_random_hex(leg->session_id, 16);
	leg->session_id[12] = '4'; /* version 4 (random), variant 10xx (RFC 4122 §4.4) */
	leg->session_id[16] = "89ab"[leg->session_id[16] & 3];
	leg->remote_session[0] = '\0';
}

void call_leg_note_session(struct call_leg *leg, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr_named(m, "Session-ID");
	if (!h || h->value.l < 32 || (h->value.l > 32 && h->value.p[32] != ';'))
		return;
	char uuid[33];
	for (size_t i = 0; i < 32; i++) {
		if (!isxdigit((unsigned char)h->value.p[i]))
			return;
		uuid[i] = (char)tolower((unsigned char)h->value.p[i]);
	}
	uuid[32] = '\0';
	if (strcmp(uuid, NO_SESSION) != 0)
		memcpy(leg->remote_session, uuid, sizeof(uuid));
}
