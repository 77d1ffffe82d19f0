/*
 * The link to the server: the sip layer's stack over UDP, phone_stream over TCP and TLS,
 * behind one interface (phone_link.h).
 *
 * Two duties of a user agent core fall between the transaction layer and the dialog, and
 * are done here because only UDP needs them: our 2xx to an INVITE is resent until its ACK
 * comes (the server transaction ends with the 2xx, RFC 3261 §13.3.1.4), and a 2xx that the
 * server resends because our ACK was lost is handed up to be ACKed again (§13.2.2.4).
 */
#include "phone_link.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define T1_MS 500
#define T2_MS 4000

/* A request sent through the stack and who wants its responses. Kept after an INVITE's
 * 2xx, whose transaction goes on reporting resent 2xx responses for a while. */
struct udp_pending {
	phone_response_fn fn;
	void *arg;
	bool final_seen;
	struct phone_link *l;
	struct udp_pending *next;
};

/* Our 2xx to an INVITE over UDP, resent until the ACK with the same Call-ID and CSeq. */
struct ok_resend {
	struct phone_link *l;
	char call_id[128];
	uint32_t cseq;
	char *bytes;
	size_t len;
	int interval_ms, elapsed_ms;
	struct event *timer;
	struct ok_resend *next;
};

struct phone_incoming {
	struct phone_link *l;
	struct sip_server_tx *tx; /* UDP: the stack's server transaction */
	struct sip_msg *msg;      /* TCP, TLS: the request itself, ours */
	char to_tag[24];
	struct phone_incoming *next;
};

struct phone_link {
	struct event_base *base;
	enum sip_transport_kind kind;
	struct phone_link_handlers h;
	const struct phone_opts *o;
	struct sip_stack *stack;  /* UDP */
	struct sip_source server; /* UDP: where requests go */
	struct phone_stream *stream;
	struct udp_pending *pending;
	struct ok_resend *oks;
	struct phone_incoming *incoming; /* requests without their final response yet */
};

/* ---- requests from the server ---- */

static struct phone_incoming *incoming_new(struct phone_link *l)
{
	struct phone_incoming *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->l = l;
	in->next = l->incoming;
	l->incoming = in;
	return in;
}

static void incoming_free(struct phone_incoming *in)
{
	for (struct phone_incoming **p = &in->l->incoming; *p; p = &(*p)->next) {
		if (*p == in) {
			*p = in->next;
			break;
		}
	}
	if (in->msg) {
		sip_msg_free(in->msg);
		free(in->msg);
	}
	free(in);
}

static void on_udp_request(void *arg, struct sip_server_tx *tx)
{
	struct phone_link *l = arg;
	struct phone_incoming *in = incoming_new(l);
	if (!in) {
		sip_server_tx_reply(tx, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	in->tx = tx;
	base_strlcpy(in->to_tag, sip_server_tx_to_tag(tx), sizeof(in->to_tag));
	l->h.request(l->h.arg, in);
}

static void stop_resending(struct phone_link *l, const struct sip_msg *ack)
{
	for (struct ok_resend **p = &l->oks; *p; p = &(*p)->next) {
		struct ok_resend *ok = *p;
		if (sip_pl_eq(ack->call_id, ok->call_id) && ack->cseq.number == ok->cseq) {
			*p = ok->next;
			event_free(ok->timer);
			free(ok->bytes);
			free(ok);
			return;
		}
	}
}

static void on_udp_ack(void *arg, const struct sip_msg *ack, const struct sip_source *src)
{
	(void)src;
	struct phone_link *l = arg;
	stop_resending(l, ack);
	l->h.ack(l->h.arg, ack);
}

static void on_stream_request(void *arg, struct sip_msg *msg)
{
	struct phone_link *l = arg;
	struct phone_incoming *in = NULL;
	if (sip_pl_eq(msg->method, "ACK"))
		l->h.ack(l->h.arg, msg);
	else
		in = incoming_new(l);
	if (!in) {
		sip_msg_free(msg);
		free(msg);
		return;
	}
	in->msg = msg;
	unsigned char r[8];
	RAND_bytes(r, sizeof(r));
	base_hex(r, sizeof(r), in->to_tag);
	l->h.request(l->h.arg, in);
}

/* ---- our 2xx responses over UDP ---- */

static void ok_drop(struct ok_resend *ok)
{
	for (struct ok_resend **p = &ok->l->oks; *p; p = &(*p)->next) {
		if (*p == ok) {
			*p = ok->next;
			break;
		}
	}
	event_free(ok->timer);
	free(ok->bytes);
	free(ok);
}

static void on_ok_timer(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct ok_resend *ok = arg;
	ok->elapsed_ms += ok->interval_ms;
	if (ok->elapsed_ms >= 64 * T1_MS) { /* no ACK: the dialog will time out upstairs */
		ok_drop(ok);
		return;
	}
	sip_stack_send(ok->l->stack, &ok->l->server, ok->bytes, ok->len);
	ok->interval_ms = ok->interval_ms * 2 < T2_MS ? ok->interval_ms * 2 : T2_MS;
	struct timeval tv = {ok->interval_ms / 1000, (ok->interval_ms % 1000) * 1000};
	evtimer_add(ok->timer, &tv);
}

static void resend_until_ack(struct phone_link *l, struct sip_server_tx *tx)
{
	const struct sip_msg *req = sip_server_tx_request(tx);
	size_t len;
	const char *bytes = sip_server_tx_last_response(tx, &len);
	struct ok_resend *ok = calloc(1, sizeof(*ok));
	if (!ok || !bytes || !(ok->bytes = malloc(len)) ||
	    !(ok->timer = evtimer_new(l->base, on_ok_timer, ok))) {
		if (ok)
			free(ok->bytes);
		free(ok);
		return;
	}
	memcpy(ok->bytes, bytes, len);
	ok->len = len;
	ok->l = l;
	sip_pl_strcpy(req->call_id, ok->call_id, sizeof(ok->call_id));
	ok->cseq = req->cseq.number;
	ok->interval_ms = T1_MS;
	struct timeval tv = {0, T1_MS * 1000};
	evtimer_add(ok->timer, &tv);
	ok->next = l->oks;
	l->oks = ok;
}

/* ---- answering ---- */

const struct sip_msg *phone_incoming_msg(const struct phone_incoming *in)
{
	return in->tx ? sip_server_tx_request(in->tx) : in->msg;
}

const char *phone_incoming_to_tag(const struct phone_incoming *in)
{
	return in->to_tag;
}

static int stream_reply(struct phone_incoming *in, uint16_t status, const char *headers,
                        const char *content_type, const char *body, size_t body_len)
{
	const struct phone_opts *o = in->l->o;
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, in->msg, status, NULL, status > 100 ? in->to_tag : NULL,
	                       o->server_host, o->server_port);
	if (headers)
		sip_buf_add(&b, headers, strlen(headers));
	if (content_type && body_len)
		sip_buf_printf(&b, "Content-Type: %s\r\n", content_type);
	sip_buf_end_headers(&b, body, body_len);
	int rc = b.failed ? -1 : phone_stream_send(in->l->stream, b.data, b.len);
	sip_buf_free(&b);
	return rc;
}

int phone_incoming_reply(struct phone_incoming *in, uint16_t status, const char *headers,
                         const char *content_type, const char *body, size_t body_len)
{
	int rc;
	if (in->tx) {
		bool invite = sip_pl_eq(sip_server_tx_request(in->tx)->method, "INVITE");
		rc = sip_server_tx_reply(in->tx, status, NULL, headers, content_type, body,
		                         body_len);
		if (rc == 0 && invite && status >= 200 && status < 300)
			resend_until_ack(in->l, in->tx);
	} else {
		rc = stream_reply(in, status, headers, content_type, body, body_len);
	}
	if (status >= 200)
		incoming_free(in);
	return rc;
}

/* ---- our requests ---- */

static void on_udp_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct udp_pending *p = arg;
	bool ok_to_invite =
	    resp->status >= 200 && resp->status < 300 && sip_pl_eq(resp->cseq.method, "INVITE");
	if (p->final_seen) {
		if (ok_to_invite && p->l->h.late_2xx)
			p->l->h.late_2xx(p->l->h.arg, resp);
		return;
	}
	if (resp->status >= 200)
		p->final_seen = true;
	if (p->fn)
		p->fn(p->arg, resp);
	if (resp->status < 200 || ok_to_invite)
		return;
	/* The transaction is over and will not call again. */
	for (struct udp_pending **pp = &p->l->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p);
}

int phone_link_request(struct phone_link *l, const char *branch, struct sip_buf *req,
                       phone_response_fn fn, void *arg)
{
	if (l->stream)
		return phone_stream_request(l->stream, branch, req, fn, arg);
	struct udp_pending *p = calloc(1, sizeof(*p));
	if (!p) {
		sip_buf_free(req);
		return -1;
	}
	*p = (struct udp_pending){.fn = fn, .arg = arg, .l = l, .next = l->pending};
	if (!sip_client_tx_send(l->stack, &l->server, branch, req, on_udp_response, p)) {
		free(p);
		return -1;
	}
	l->pending = p;
	return 0;
}

int phone_link_send(struct phone_link *l, const char *data, size_t len)
{
	return l->stream ? phone_stream_send(l->stream, data, len)
	                 : sip_stack_send(l->stack, &l->server, data, len);
}

/* ---- the link ---- */

static void on_stream_late_2xx(void *arg, const struct sip_msg *resp)
{
	struct phone_link *l = arg;
	if (l->h.late_2xx)
		l->h.late_2xx(l->h.arg, resp);
}

static void on_stream_connected(void *arg, const char *what)
{
	struct phone_link *l = arg;
	printf("connected to %s over %s\n", l->o->server, what);
}

static void on_stream_closed(void *arg, const char *why)
{
	struct phone_link *l = arg;
	if (l->h.closed)
		l->h.closed(l->h.arg, why);
}

static int open_udp(struct phone_link *l, const struct phone_opts *o, struct base_err *err)
{
	/* Without --local: every address, so the kernel picks the one that reaches the
	 * server, and sip_stack_local names it in Via and Contact. */
	const char *listen = o->local[0]              ? o->local
	                     : strchr(o->server, '[') ? "[::]:0"
	                                              : "0.0.0.0:0";
	struct sip_transport_options topt = {
	    .udp_listen = listen,
	    .max_message = 65535,
	    .max_conns_per_source = 1,
	    .idle_timeout = 60,
	};
	l->server.kind = SIP_TP_UDP;
	base_strlcpy(l->server.host, o->server_host, sizeof(l->server.host));
	l->server.port = o->server_port;
	if (sip_stack_start(&l->stack, l->base, &topt, on_udp_request, l, err) != 0)
		return -1;
	sip_stack_set_ack_handler(l->stack, on_udp_ack, l);
	return 0;
}

int phone_link_open(struct phone_link **out, struct event_base *base, const struct phone_opts *o,
                    const struct phone_link_handlers *h, struct base_err *err)
{
	struct phone_link *l = calloc(1, sizeof(*l));
	if (!l)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	l->base = base, l->kind = o->transport, l->h = *h, l->o = o;
	struct phone_stream_handlers sh = {on_stream_request, on_stream_late_2xx,
	                                   on_stream_connected, on_stream_closed, l};
	int rc = o->transport == SIP_TP_UDP ? open_udp(l, o, err)
	                                    : phone_stream_open(&l->stream, base, o, &sh, err);
	if (rc != 0) {
		free(l);
		return -1;
	}
	*out = l;
	return 0;
}

void phone_link_close(struct phone_link *l)
{
	if (!l)
		return;
	/* Unanswered server transactions belong to the stack, which frees them. */
	while (l->incoming)
		incoming_free(l->incoming);
	while (l->oks)
		ok_drop(l->oks);
	sip_stack_stop(l->stack);
	phone_stream_close(l->stream);
	while (l->pending) {
		struct udp_pending *p = l->pending;
		l->pending = p->next;
		free(p);
	}
	free(l);
}

enum sip_transport_kind phone_link_kind(const struct phone_link *l)
{
	return l->kind;
}

void phone_link_local(struct phone_link *l, char *host, size_t size, uint16_t *port)
{
	if (l->stream)
		phone_stream_local(l->stream, host, size, port);
	else
		sip_stack_local(l->stack, &l->server, host, size, port);
}
