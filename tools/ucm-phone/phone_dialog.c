/*
 * Requests within a dialog (RFC 3261 §12.2.1), and the dialog state that builds them. Every
 * request goes to the server over the one link whatever its Request-URI says: the server is
 * the phone's only peer (a B2BUA answers for every callee).
 */
#include "phone_ua_int.h"

#include <stdio.h>
#include <string.h>

static const char *transport_param(enum sip_transport_kind kind)
{
	return kind == SIP_TP_TLS ? "tls" : kind == SIP_TP_TCP ? "tcp" : "udp";
}

static void host_port(const char *host, uint16_t port, char *out, size_t size)
{
	snprintf(out, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

void ua_contact_header(const struct phone_ua *ua, char *out, size_t size)
{
	snprintf(out, size, "Contact: <%s>\r\n", ua->contact_uri);
}

const char *ua_supported(const struct phone_ua *ua)
{
	return ua->o->cisco_sis ? "Supported: X-cisco-sis-7.0.0\r\n" : "";
}

void dialog_build(struct phone_ua *ua, const struct phone_dialog *d, const char *method,
                  uint32_t cseq, const char *extra, const char *body, char branch[40],
                  struct sip_buf *out)
{
	char host[64], hp[96], contact[300] = "";
	uint16_t port;
	phone_link_local(ua->link, host, sizeof(host), &port);
	host_port(host, port, hp, sizeof(hp));
	if (strcmp(method, "ACK") != 0 && strcmp(method, "BYE") != 0)
		ua_contact_header(ua, contact, sizeof(contact));
	sip_branch_new(branch);
	sip_buf_init(out);
	sip_buf_printf(out, "%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n", method,
	               d->remote_target, sip_transport_name(phone_link_kind(ua->link)), hp, branch);
	sip_buf_printf(out, "Max-Forwards: 70\r\nFrom: %s;tag=%s\r\nTo: %s", d->local_uri,
	               d->local_tag, d->remote_uri);
	if (d->remote_tag[0])
		sip_buf_printf(out, ";tag=%s", d->remote_tag);
	sip_buf_printf(out, "\r\nCall-ID: %s\r\nCSeq: %u %s\r\n%sUser-Agent: ucm-phone\r\n%s",
	               d->call_id, cseq, method, contact,
	               strcmp(method, "INVITE") == 0 ? ua_supported(ua) : "");
	if (extra)
		sip_buf_add(out, extra, strlen(extra));
	if (body && *body)
		sip_buf_printf(out, "Content-Type: application/sdp\r\n");
	sip_buf_end_headers(out, body, body ? strlen(body) : 0);
}

void dialog_ack_sdp(struct phone_ua *ua, const struct phone_dialog *d, uint32_t cseq,
                    const char *sdp)
{
	char branch[40];
	struct sip_buf b;
	dialog_build(ua, d, "ACK", cseq, NULL, sdp, branch, &b);
	if (!b.failed)
		phone_link_send(ua->link, b.data, b.len);
	sip_buf_free(&b);
}

void dialog_ack(struct phone_ua *ua, const struct phone_dialog *d, uint32_t cseq)
{
	dialog_ack_sdp(ua, d, cseq, NULL);
}

void dialog_new(struct phone_ua *ua, struct phone_dialog *d, const char *from_user,
                const char *to_user, bool to_registrar)
{
	const struct phone_opts *o = ua->o;
	char host[64], server[96];
	memset(d, 0, sizeof(*d));
	ua_local_host(ua, host, sizeof(host));
	ua_random_hex(d->call_id, 16);
	size_t n = strlen(d->call_id);
	snprintf(d->call_id + n, sizeof(d->call_id) - n, "@%s", host);
	ua_random_hex(d->local_tag, 8);
	host_port(o->server_host, o->server_port, server, sizeof(server));
	bool v6 = strchr(o->server_host, ':') != NULL;
	snprintf(d->local_uri, sizeof(d->local_uri), v6 ? "<sip:%s@[%s]>" : "<sip:%s@%s>",
	         from_user, o->server_host);
	snprintf(d->remote_uri, sizeof(d->remote_uri), v6 ? "<sip:%s@[%s]>" : "<sip:%s@%s>",
	         to_user, o->server_host);
	if (to_registrar) /* a REGISTER's Request-URI is the registrar's domain (§10.2) */
		snprintf(d->remote_target, sizeof(d->remote_target), "sip:%s", server);
	else
		snprintf(d->remote_target, sizeof(d->remote_target), "sip:%s@%s", to_user, server);
	size_t t = strlen(d->remote_target);
	if (o->transport != SIP_TP_UDP)
		snprintf(d->remote_target + t, sizeof(d->remote_target) - t, ";transport=%s",
		         transport_param(o->transport));
}

static void copy_contact(char *out, size_t size, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr a;
	if (h && sip_addr_parse(h->value, &a) == 0 && a.uri_text.l < size)
		sip_pl_strcpy(a.uri_text, out, size);
}

void dialog_confirm(struct phone_dialog *d, const struct sip_msg *resp)
{
	sip_pl_strcpy(resp->to_tag, d->remote_tag, sizeof(d->remote_tag));
	copy_contact(d->remote_target, sizeof(d->remote_target), resp);
}

int dialog_accept(struct phone_dialog *d, const struct sip_msg *req, const char *local_tag)
{
	memset(d, 0, sizeof(*d));
	if (req->call_id.l >= sizeof(d->call_id) || req->from_tag.l >= sizeof(d->remote_tag) ||
	    req->to.uri_text.l + 3 > sizeof(d->local_uri) ||
	    req->from.uri_text.l + 3 > sizeof(d->remote_uri) || !sip_msg_hdr(req, SIP_HDR_CONTACT))
		return -1;
	sip_pl_strcpy(req->call_id, d->call_id, sizeof(d->call_id));
	sip_pl_strcpy(req->from_tag, d->remote_tag, sizeof(d->remote_tag));
	base_strlcpy(d->local_tag, local_tag, sizeof(d->local_tag));
	snprintf(d->local_uri, sizeof(d->local_uri), "<%.*s>", (int)req->to.uri_text.l,
	         req->to.uri_text.p);
	snprintf(d->remote_uri, sizeof(d->remote_uri), "<%.*s>", (int)req->from.uri_text.l,
	         req->from.uri_text.p);
	copy_contact(d->remote_target, sizeof(d->remote_target), req);
	return d->remote_target[0] ? 0 : -1;
}

bool dialog_matches(const struct phone_dialog *d, const struct sip_msg *msg)
{
	return d->call_id[0] && sip_pl_eq(msg->call_id, d->call_id);
}
