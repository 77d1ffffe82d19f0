/*
 * INFO within a call (RFC 6086): application data the two parties exchange inside their
 * session, most often DTMF digits as application/dtmf-relay (gateways, and clients such as
 * Linphone with DTMF by SIP INFO). ucmd has no use of its own for it; it passes the request
 * to the other party, with its body, Content-Type and Info-Package, and that party's final
 * response back, so the sender learns what became of it.
 *
 * One INFO at a time per call: another that arrives while the first is on its way gets 500
 * with Retry-After (RFC 3261 §21.5.1), which a sender answers by sending it again shortly.
 * A Jabber client answers no INFO at all (spec cisco-device-config §5.5); relayed, the request
 * would time out into a 408, which ends the sender's dialog (RFC 5057 §5.1), so ucmd refuses
 * it at once with 501, a failure of that transaction only.
 */
#include "call/call_int.h"

static void on_info_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct call *c = arg;
	if (resp->status < 200 || !c->info)
		return;
	char reason[64];
	sip_pl_strcpy(resp->reason, reason, sizeof(reason));
	sip_server_tx_reply(c->info, resp->status, reason[0] ? reason : NULL, NULL, NULL, NULL, 0);
	c->info = NULL;
	c->info_out = NULL;
}

#define DESCRIBING_MAX 256 /* bytes of one header value that says what the body is */

/* Adds "name: value" of req's header to out; false when the value is too long to relay. */
static bool copy_header(const struct sip_msg *req, const char *name, struct sip_buf *out)
{
	const struct sip_hdr *h = sip_msg_hdr_named(req, name);
	if (!h)
		return true;
	if (h->value.l > DESCRIBING_MAX)
		return false;
	sip_buf_printf(out, "%s: %.*s\r\n", name, (int)h->value.l, h->value.p);
	return true;
}

void call_on_info(struct call_service *cs, struct sip_server_tx *tx)
{
	struct call *c;
	struct call_leg *leg = call_dialog_of(cs, tx, &c);
	if (!leg)
		return;
	struct call_leg *other = call_leg_other(c, leg);
	if (c->state != CALL_CONNECTED) {
		sip_server_tx_reply(tx, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (c->info) {
		sip_server_tx_reply(tx, 500, "Previous INFO Still Pending", "Retry-After: 1\r\n",
		                    NULL, NULL, 0);
		return;
	}
	if (other->jabber) {
		sip_server_tx_reply(tx, 501, "Peer Takes No INFO", NULL, NULL, NULL, 0);
		return;
	}
	const struct sip_msg *req = sip_server_tx_request(tx);
	const struct sip_hdr *type = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	char content_type[DESCRIBING_MAX + 1] = "";
	struct sip_buf headers;
	sip_buf_init(&headers);
	bool fits = copy_header(req, "Info-Package", &headers) &&
	            copy_header(req, "Content-Disposition", &headers) &&
	            (!type || type->value.l <= DESCRIBING_MAX);
	sip_buf_add(&headers, "", 1);
	if (!fits || headers.failed) {
		sip_buf_free(&headers);
		sip_server_tx_reply(tx, 400, "INFO Header Too Long", NULL, NULL, NULL, 0);
		return;
	}
	if (type && req->body.l)
		sip_pl_strcpy(type->value, content_type, sizeof(content_type));
	char branch[40];
	struct sip_buf b;
	call_leg_request(cs, other, "INFO", ++other->local_cseq, headers.data,
	                 content_type[0] ? content_type : NULL, req->body.p, req->body.l, branch,
	                 &b);
	sip_buf_free(&headers);
	c->info_out = sip_client_tx_send(cs->stack, &other->flow, branch, &b, on_info_response, c);
	if (c->info_out)
		c->info = tx;
	else
		sip_server_tx_reply(tx, 500, NULL, NULL, NULL, NULL, 0);
}
