/*
 * Unsolicited NOTIFY to a registered phone, outside any dialog: how the server tells a Cisco
 * phone to re-read its configuration, restart or reset (Event: service-control). It goes to
 * the contact the phone registered, over the flow that REGISTER came on (the phone's TCP or
 * TLS connection, or its UDP address), since a phone behind NAT is reachable only there.
 */
#include "sip/sip_stack_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[32];
	RAND_bytes(r, (int)bytes);
	base_hex(r, bytes, out);
}

struct sip_client_tx *sip_notify_binding(struct sip_stack *stack, const struct sip_binding *b,
                                         const char *event, const char *content_type,
                                         const char *body, sip_response_fn fn, void *arg)
{
	char host[64], hp[96], branch[40], call_id[33], tag[17];
	uint16_t port;
	sip_stack_local(stack, &b->flow, host, sizeof(host), &port);
	sip_hostport_format(host, port, hp, sizeof(hp));
	sip_branch_new(branch);
	random_hex(call_id, 16);
	random_hex(tag, 8);
	const char *tp = sip_transport_name(b->flow.kind);
	struct sip_buf m;
	sip_buf_init(&m);
	sip_buf_printf(&m, "NOTIFY %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n",
	               b->contact, tp, hp, branch);
	sip_buf_printf(&m, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n",
	               b->aor, host, tag, b->aor, host);
	sip_buf_printf(&m,
	               "Call-ID: %s@%s\r\nCSeq: 101 NOTIFY\r\nContact: <sip:%s;transport=%s>\r\n",
	               call_id, host, hp,
	               b->flow.kind == SIP_TP_TLS   ? "tls"
	               : b->flow.kind == SIP_TP_TCP ? "tcp"
	                                            : "udp");
	sip_buf_printf(&m, "Event: %s\r\nSubscription-State: active\r\n", event);
	size_t len = body ? strlen(body) : 0;
	if (content_type && len)
		sip_buf_printf(&m, "Content-Type: %s\r\n", content_type);
	sip_buf_end_headers(&m, body, len);
	if (m.failed) {
		sip_buf_free(&m);
		return NULL;
	}
	return sip_client_tx_send(stack, &b->flow, branch, &m, fn, arg);
}
