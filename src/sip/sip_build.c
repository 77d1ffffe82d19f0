/*
 * Building messages: a growable buffer and the start of a response built from a request
 * (RFC 3261 §8.2.6.2 for the copied headers, §18.2.1 and RFC 3581 for received and rport).
 */
#include "sip/sip_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far above any SIP message we send (UDP caps them at 64 KiB); a runaway caller stops here. */
#define SIP_BUF_MAX (1u << 20)

void sip_buf_init(struct sip_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void sip_buf_free(struct sip_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes plus a terminating NUL, so data can also be logged as a string. The
 * first 1 KiB holds a whole challenge or 200 OK to a REGISTER, which then costs no realloc. */
static bool sip_buf_reserve(struct sip_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > SIP_BUF_MAX || b->len + n + 1 > SIP_BUF_MAX) {
		b->failed = true;
		return false;
	}
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < need)
		cap *= 2;
	if (cap > SIP_BUF_MAX) /* so that sip_buf_add's room test also keeps the limit */
		cap = SIP_BUF_MAX;
	char *d = realloc(b->data, cap);
	if (!d) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void sip_buf_add_growing(struct sip_buf *b, const char *s, size_t n)
{
	if (!sip_buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sip_buf_addpl(struct sip_buf *b, struct sip_pl pl)
{
	sip_buf_add(b, pl.p, pl.l);
}

void sip_buf_adds(struct sip_buf *b, const char *s)
{
	sip_buf_add(b, s, strlen(s));
}

void sip_buf_add_uint(struct sip_buf *b, unsigned long long v)
{
	char digits[20];
	sip_buf_add(b, digits, base_format_uint(digits, v));
}

void sip_buf_printf(struct sip_buf *b, const char *fmt, ...)
{
	if (!sip_buf_reserve(b, 128))
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!sip_buf_reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* A value copied from a request. Line ends were already folded away by the parser, but a
 * bare CR may remain (even in a refused request, which still gets its 400): it becomes a
 * space so that no peer can read it as the end of the header. */
static void sip_buf_value(struct sip_buf *b, struct sip_pl value)
{
	size_t start = b->len;
	sip_buf_addpl(b, value);
	if (b->failed)
		return;
	for (char *p = b->data + start; (p = memchr(p, '\r', (size_t)(b->data + b->len - p)));)
		*p++ = ' ';
}

static void sip_buf_hdr(struct sip_buf *b, const char *name, struct sip_pl value)
{
	sip_buf_add(b, name, strlen(name));
	sip_buf_add(b, ": ", 2);
	sip_buf_value(b, value);
	sip_buf_add(b, "\r\n", 2);
}

/* Same host, ignoring case and the brackets of an IPv6 reference. */
static bool sip_host_eq(struct sip_pl a, const char *b)
{
	if (a.l >= 2 && a.p[0] == '[' && a.p[a.l - 1] == ']') {
		a.p++;
		a.l -= 2;
	}
	size_t bl = strlen(b);
	if (bl >= 2 && b[0] == '[' && b[bl - 1] == ']') {
		b++;
		bl -= 2;
	}
	return a.l == bl && sip_mem_eq_nocase(a.p, b, bl);
}

/* The top Via with received and rport filled in. The sent-protocol and sent-by are copied as
 * written, then every parameter except the ones being replaced. `parsed` is the value parsed
 * already, or NULL when it did not parse: it is then copied as it came. */
static void sip_top_via(struct sip_buf *b, struct sip_pl value, const struct sip_via *parsed,
                        const char *src_host, uint16_t src_port)
{
	if (!parsed) {
		sip_buf_hdr(b, "Via", value);
		return;
	}
	const struct sip_via via = *parsed;
	bool rport = via.has_rport && via.rport.l == 0 && src_port;
	/* RFC 3581 §4: with a valueless rport, received is added even when it equals sent-by. */
	bool received = src_host && *src_host &&
	                (!sip_host_eq(via.host, src_host) || (via.has_rport && via.rport.l == 0));
	struct sip_pl v = sip_pl_trim(value), head = v;
	if (via.params.l) {
		const char *semi = via.params.p;
		while (semi > v.p && *semi != ';')
			semi--;
		head = sip_pl_trim((struct sip_pl){v.p, (size_t)(semi - v.p)});
	}
	sip_buf_add(b, "Via: ", 5);
	sip_buf_value(b, head);
	struct sip_pl rest = via.params, elem, name, val;
	while (via.params.l && sip_list_next(&rest, ';', &elem)) {
		sip_param_split(elem, &name, &val);
		if (received && sip_pl_eq_nocase(name, "received"))
			continue;
		if (rport && sip_pl_eq_nocase(name, "rport")) {
			sip_buf_add(b, ";rport=", 7);
			sip_buf_add_uint(b, src_port);
			continue;
		}
		sip_buf_add(b, ";", 1);
		sip_buf_value(b, elem);
	}
	if (received) {
		sip_buf_add(b, ";received=", 10);
		sip_buf_adds(b, src_host);
	}
	sip_buf_add(b, "\r\n", 2);
}

void sip_msg_response_start(struct sip_buf *b, const struct sip_msg *req, uint16_t status,
                            const char *reason, const char *to_tag, const char *src_host,
                            uint16_t src_port)
{
	sip_buf_add(b, "SIP/2.0 ", 8);
	sip_buf_add_uint(b, status);
	sip_buf_add(b, " ", 1);
	sip_buf_adds(b, reason ? reason : sip_reason_phrase(status));
	sip_buf_add(b, "\r\n", 2);
	/* Every Via value in order; one line each keeps the order obvious to any reader. */
	bool top = true;
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(req, h)) {
		if (top)
			sip_top_via(b, h->value, req->via.transport.p ? &req->via : NULL, src_host,
			            src_port);
		else
			sip_buf_hdr(b, "Via", h->value);
		top = false;
	}
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_FROM);
	if (h)
		sip_buf_hdr(b, "From", h->value);
	h = sip_msg_hdr(req, SIP_HDR_TO);
	if (h) {
		sip_buf_add(b, "To: ", 4);
		sip_buf_value(b, h->value);
		if (to_tag && req->to_tag.l == 0) {
			sip_buf_add(b, ";tag=", 5);
			sip_buf_adds(b, to_tag);
		}
		sip_buf_add(b, "\r\n", 2);
	}
	h = sip_msg_hdr(req, SIP_HDR_CALL_ID);
	if (h)
		sip_buf_hdr(b, "Call-ID", h->value);
	h = sip_msg_hdr(req, SIP_HDR_CSEQ);
	if (h)
		sip_buf_hdr(b, "CSeq", h->value);
}

void sip_buf_end_headers(struct sip_buf *b, const char *body, size_t body_len)
{
	sip_buf_add(b, "Content-Length: ", 16);
	sip_buf_add_uint(b, body ? body_len : 0);
	sip_buf_add(b, "\r\n\r\n", 4);
	if (body && body_len)
		sip_buf_add(b, body, body_len);
}

const char *sip_reason_phrase(uint16_t status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 199:
		return "Early Dialog Terminated";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 204:
		return "No Notification";
	case 300:
		return "Multiple Choices";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Moved Temporarily";
	case 305:
		return "Use Proxy";
	case 380:
		return "Alternative Service";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 410:
		return "Gone";
	case 412:
		return "Conditional Request Failed";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "Request-URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 417:
		return "Unknown Resource-Priority";
	case 420:
		return "Bad Extension";
	case 421:
		return "Extension Required";
	case 422:
		return "Session Interval Too Small";
	case 423:
		return "Interval Too Brief";
	case 428:
		return "Use Identity Header";
	case 429:
		return "Provide Referrer Identity";
	case 433:
		return "Anonymity Disallowed";
	case 436:
		return "Bad Identity-Info";
	case 437:
		return "Unsupported Certificate";
	case 438:
		return "Invalid Identity Header";
	case 439:
		return "First Hop Lacks Outbound Support";
	case 440:
		return "Max-Breadth Exceeded";
	case 469:
		return "Bad Info Package";
	case 470:
		return "Consent Needed";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 484:
		return "Address Incomplete";
	case 485:
		return "Ambiguous";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 489:
		return "Bad Event";
	case 491:
		return "Request Pending";
	case 493:
		return "Undecipherable";
	case 494:
		return "Security Agreement Required";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 555:
		return "Push Notification Service Not Supported";
	case 580:
		return "Precondition Failure";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	case 604:
		return "Does Not Exist Anywhere";
	case 606:
		return "Not Acceptable";
	case 607:
		return "Unwanted";
	case 608:
		return "Rejected";
	default:
		return "Unknown";
	}
}

int sip_msg_ack_or_cancel(struct sip_buf *b, const char *method, const struct sip_msg *invite,
                          const struct sip_msg *resp)
{
	sip_buf_init(b); /* first, so callers may always sip_buf_free it */
	const struct sip_hdr *via = sip_msg_hdr(invite, SIP_HDR_VIA);
	const struct sip_hdr *from = sip_msg_hdr(invite, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp ? resp : invite, SIP_HDR_TO);
	if (!via || !from || !to)
		return -1;
	sip_buf_printf(b, "%s %.*s SIP/2.0\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s\r\n", method,
	               (int)invite->ruri_text.l, invite->ruri_text.p, (int)via->value.l,
	               via->value.p, (int)from->value.l, from->value.p, (int)to->value.l,
	               to->value.p);
	sip_buf_printf(b, "Call-ID: %.*s\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n",
	               (int)invite->call_id.l, invite->call_id.p, invite->cseq.number, method);
	/* RFC 7989 §6: the CANCEL and ACK carry the INVITE's Session-ID (a Jabber client matches
	 * them by it). */
	const struct sip_hdr *session = sip_msg_hdr_named(invite, "Session-ID");
	if (session)
		sip_buf_printf(b, "Session-ID: %.*s\r\n", (int)session->value.l, session->value.p);
	sip_buf_end_headers(b, NULL, 0);
	return b->failed ? -1 : 0;
}
