/*
 * Client transactions (RFC 3261 §17.1, with the Accepted state of RFC 6026).
 *
 * The stack keeps a parsed copy of each request it sends, so that it can build the CANCEL
 * and the ACK of a non-2xx response from the very fields the request carried, and make up a
 * 408 or 503 with the right Via, From, To, Call-ID and CSeq when the peer never answers.
 */
#include "sip/sip_stack_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum client_state { CT_CALLING, CT_PROCEEDING, CT_ACCEPTED, CT_COMPLETED };

struct sip_client_tx {
	struct sip_stack *stack;
	char key[80]; /* branch|method */
	struct sip_source dst;
	struct sip_msg *req; /* parsed copy of what was sent */
	char *bytes;         /* the request as sent, for retransmissions */
	size_t len;
	bool invite;
	enum client_state state;
	int interval_ms;
	struct event *retransmit; /* Timers A and E */
	struct event *timeout;    /* Timers B, F, D, K, and the end of Accepted */
	bool cancel_wanted, cancel_sent;
	bool unreachable;  /* the request could not be sent at all */
	bool answered;     /* a 2xx reached the caller: the dialog is its own */
	bool orphan_ended; /* a 2xx nobody wanted was ACKed and its dialog ended with BYE */
	sip_response_fn fn;
	void *arg;
};

void sip_branch_new(char out[40])
{
	memcpy(out, "z9hG4bK", 7);
	sip_random_hex(out + 7, 12);
}

static bool reliable(const struct sip_client_tx *tx)
{
	return tx->dst.kind != SIP_TP_UDP;
}

static void tx_free(struct sip_client_tx *tx)
{
	if (tx->retransmit)
		event_free(tx->retransmit);
	if (tx->timeout)
		event_free(tx->timeout);
	if (tx->req) {
		sip_msg_free(tx->req);
		free(tx->req);
	}
	free(tx->bytes);
	free(tx);
}

static void tx_end(struct sip_client_tx *tx)
{
	base_hash_remove(tx->stack->clients, tx->key);
	tx_free(tx);
}

static void arm(struct event *ev, int ms)
{
	struct timeval tv;
	sip_ms_to_tv(ms, &tv);
	evtimer_add(ev, &tv);
}

static void deliver(struct sip_client_tx *tx, const struct sip_msg *resp)
{
	if (tx->fn)
		tx->fn(tx->arg, tx, resp);
}

/* A final response made up here: the peer did not answer (408) or cannot be reached (503). */
static void deliver_local(struct sip_client_tx *tx, uint16_t status)
{
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, tx->req, status, sip_reason_phrase(status), NULL, NULL, 0);
	sip_buf_end_headers(&b, NULL, 0);
	if (b.failed) {
		sip_buf_free(&b);
		return;
	}
	struct sip_msg resp;
	struct sip_parse_error perr;
	char *bytes = b.data; /* the message owns it from here on, parsed or not */
	if (sip_msg_parse(&resp, bytes, b.len, true, &perr) == 0)
		deliver(tx, &resp);
	sip_msg_free(&resp);
}

/* The ACK of a non-2xx final response: same Via branch, the response's To (§17.1.1.3). */
static void send_ack(struct sip_client_tx *tx, const struct sip_msg *resp)
{
	struct sip_buf b;
	if (sip_msg_ack_or_cancel(&b, "ACK", tx->req, resp) == 0)
		sip_transport_send(tx->stack->tp, &tx->dst, b.data, b.len);
	sip_buf_free(&b);
}

/* A request in the dialog a 2xx made (RFC 3261 §12.2.1.1), to its Contact: From as we sent it,
 * To as the 2xx gave it, our INVITE's Call-ID. `branch` receives the new branch. */
static int dialog_request(const struct sip_client_tx *tx, const struct sip_msg *resp,
                          const char *method, uint32_t cseq, char branch[40], struct sip_buf *b)
{
	const struct sip_hdr *contact_hdr = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	const struct sip_hdr *from = sip_msg_hdr(tx->req, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct sip_addr contact;
	sip_buf_init(b);
	if (!contact_hdr || !from || !to || sip_addr_parse(contact_hdr->value, &contact) != 0)
		return -1;
	char host[64], hp[96];
	uint16_t port;
	sip_transport_local(tx->stack->tp, &tx->dst, host, sizeof(host), &port);
	sip_hostport_format(host, port, hp, sizeof(hp));
	sip_branch_new(branch);
	sip_buf_printf(b, "%s %.*s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n", method,
	               (int)contact.uri_text.l, contact.uri_text.p,
	               sip_transport_name(tx->dst.kind), hp, branch);
	sip_buf_printf(b, "Max-Forwards: 70\r\nFrom: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\n",
	               (int)from->value.l, from->value.p, (int)to->value.l, to->value.p,
	               (int)tx->req->call_id.l, tx->req->call_id.p);
	sip_buf_printf(b, "CSeq: %u %s\r\n", cseq, method);
	sip_buf_end_headers(b, NULL, 0);
	return b->failed ? -1 : 0;
}

/* A 2xx to an INVITE nobody wants any more: the call ended, was cancelled or expired while the
 * device answered (the 200 crossed the CANCEL, RFC 3261 §9.1). The device must not be left
 * off-hook in a call nobody is in: every 2xx gets its ACK, and the dialog a BYE (§15), once.
 * A transaction whose 2xx its caller did get is not an orphan: the dialog lives on there. */
static void end_orphan_dialog(struct sip_client_tx *tx, const struct sip_msg *resp)
{
	char branch[40];
	struct sip_buf b;
	/* A 2xx offering media to our INVITE without SDP wants its answer in the ACK, which we
	 * do not have: an ACK without one would break the client (a Jabber client's receive loop
	 * dies on it), so that dialog gets only the BYE. */
	if (tx->req->body.l || !resp->body.l) {
		if (dialog_request(tx, resp, "ACK", tx->req->cseq.number, branch, &b) == 0)
			sip_transport_send(tx->stack->tp, &tx->dst, b.data, b.len);
		sip_buf_free(&b);
	}
	if (tx->orphan_ended)
		return;
	tx->orphan_ended = true;
	base_log(BASE_LOG_INFO, "sip",
	         "a 2xx to an INVITE no longer wanted (Call-ID %.*s): ACK, BYE",
	         (int)tx->req->call_id.l, tx->req->call_id.p);
	if (dialog_request(tx, resp, "BYE", tx->req->cseq.number + 1, branch, &b) == 0)
		sip_client_tx_send(tx->stack, &tx->dst, branch, &b, NULL, NULL);
	else
		sip_buf_free(&b);
}

static void on_retransmit(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct sip_client_tx *tx = arg;
	if (tx->state != CT_CALLING && !(tx->state == CT_PROCEEDING && !tx->invite))
		return;
	sip_transport_send(tx->stack->tp, &tx->dst, tx->bytes, tx->len);
	tx->interval_ms *= 2;
	if (!tx->invite && tx->interval_ms > SIP_T2_MS)
		tx->interval_ms = SIP_T2_MS;
	arm(tx->retransmit, tx->interval_ms);
}

static void on_timeout(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct sip_client_tx *tx = arg;
	if (tx->state == CT_CALLING || tx->state == CT_PROCEEDING)
		deliver_local(tx, tx->unreachable ? 503 : 408); /* Timer B or F */
	tx_end(tx);
}

static void send_cancel(struct sip_client_tx *tx)
{
	struct sip_buf b;
	if (tx->cancel_sent || sip_msg_ack_or_cancel(&b, "CANCEL", tx->req, NULL) != 0)
		return;
	tx->cancel_sent = true;
	char branch[40];
	sip_pl_strcpy(tx->req->via.branch, branch, sizeof(branch));
	/* Its own non-INVITE transaction; nobody needs its answer. */
	sip_client_tx_send(tx->stack, &tx->dst, branch, &b, NULL, NULL);
}

void sip_client_tx_cancel(struct sip_client_tx *tx)
{
	if (!tx->invite || tx->state == CT_ACCEPTED || tx->state == CT_COMPLETED)
		return;
	/* §9.1: a CANCEL may only follow a provisional response. */
	if (tx->state == CT_PROCEEDING)
		send_cancel(tx);
	else
		tx->cancel_wanted = true;
}

void sip_client_tx_detach(struct sip_client_tx *tx)
{
	tx->fn = NULL;
	tx->arg = NULL;
}

void sip_client_tx_detach_branch(struct sip_stack *stack, const char *branch, const char *method)
{
	char key[80];
	snprintf(key, sizeof(key), "%s|%s", branch, method);
	struct sip_client_tx *tx = base_hash_get(stack->clients, key);
	if (tx)
		sip_client_tx_detach(tx);
}

static void on_provisional(struct sip_client_tx *tx, const struct sip_msg *resp)
{
	if (tx->state == CT_CALLING)
		tx->state = CT_PROCEEDING;
	if (tx->invite && tx->retransmit)
		evtimer_del(tx->retransmit); /* Timer A stops; B still runs */
	deliver(tx, resp);
	if (tx->cancel_wanted)
		send_cancel(tx);
}

static void on_final(struct sip_client_tx *tx, const struct sip_msg *resp)
{
	if (tx->retransmit)
		evtimer_del(tx->retransmit);
	bool success = resp->status < 300;
	if (tx->invite && success) {
		/* Accepted (RFC 6026): later 2xx retransmissions still reach the caller, who
		 * must ACK each, until 64*T1 has passed. */
		bool first = tx->state != CT_ACCEPTED;
		tx->state = CT_ACCEPTED;
		if (first)
			arm(tx->timeout, 64 * SIP_T1_MS);
		if (tx->fn) {
			tx->answered = true;
			deliver(tx, resp);
		} else if (!tx->answered) {
			end_orphan_dialog(tx, resp);
		}
		return;
	}
	if (tx->state == CT_COMPLETED) { /* a retransmitted final response */
		if (tx->invite)
			send_ack(tx, resp);
		return;
	}
	tx->state = CT_COMPLETED;
	if (tx->invite)
		send_ack(tx, resp);
	deliver(tx, resp);
	/* Timer D (INVITE) or K: absorb retransmissions, then go. */
	arm(tx->timeout, reliable(tx) ? 0 : tx->invite ? 32000 : SIP_T4_MS);
}

void sip_client_on_response(struct sip_stack *stack, struct sip_msg *msg)
{
	char key[80];
	snprintf(key, sizeof(key), "%.*s|%.*s", (int)msg->via.branch.l, msg->via.branch.p,
	         (int)msg->cseq.method.l, msg->cseq.method.p);
	struct sip_client_tx *tx = base_hash_get(stack->clients, key);
	if (tx && msg->status >= 100 && msg->status < 200)
		on_provisional(tx, msg);
	else if (tx && msg->status >= 200)
		on_final(tx, msg);
	sip_msg_free(msg);
	free(msg);
}

struct sip_client_tx *sip_client_tx_send(struct sip_stack *stack, const struct sip_source *dst,
                                         const char *branch, struct sip_buf *request,
                                         sip_response_fn fn, void *arg)
{
	struct sip_client_tx *tx = calloc(1, sizeof(*tx));
	char *copy = request->failed ? NULL : malloc(request->len);
	struct sip_msg *req = malloc(sizeof(*req));
	struct sip_parse_error perr;
	if (!tx || !copy || !req) {
		free(tx), free(copy), free(req);
		sip_buf_free(request);
		return NULL;
	}
	memcpy(copy, request->data, request->len);
	if (sip_msg_parse(req, copy, request->len, true, &perr) != 0) {
		base_log(BASE_LOG_ERROR, "sip", "built an unparsable request: %s", perr.reason);
		sip_msg_free(req);
		free(tx), free(req);
		sip_buf_free(request);
		return NULL;
	}
	tx->stack = stack, tx->dst = *dst, tx->req = req, tx->fn = fn, tx->arg = arg;
	tx->bytes = request->data, tx->len = request->len;
	request->data = NULL;
	sip_buf_free(request);
	tx->invite = sip_pl_eq(req->method, "INVITE");
	snprintf(tx->key, sizeof(tx->key), "%s|%.*s", branch, (int)req->method.l, req->method.p);
	tx->retransmit = evtimer_new(stack->base, on_retransmit, tx);
	tx->timeout = evtimer_new(stack->base, on_timeout, tx);
	if (!tx->retransmit || !tx->timeout || base_hash_put(stack->clients, tx->key, tx, NULL)) {
		tx_free(tx);
		return NULL;
	}
	if (sip_transport_send(stack->tp, dst, tx->bytes, tx->len) != 0) {
		/* Reported from the loop, never from inside the caller's own call. */
		tx->unreachable = true;
		arm(tx->timeout, 0);
		base_log(BASE_LOG_INFO, "sip", "cannot send %.*s to %s:%u", (int)req->method.l,
		         req->method.p, dst->host, dst->port);
		return tx;
	}
	if (!reliable(tx)) {
		tx->interval_ms = SIP_T1_MS;
		arm(tx->retransmit, SIP_T1_MS);
	}
	arm(tx->timeout, 64 * SIP_T1_MS); /* Timer B or F */
	return tx;
}

static void free_client(void *value)
{
	tx_free(value);
}

void sip_client_free_all(struct sip_stack *stack)
{
	base_hash_free(stack->clients, free_client);
}

void sip_stack_local(struct sip_stack *stack, const struct sip_source *dst, char *host, size_t size,
                     uint16_t *port)
{
	sip_transport_local(stack->tp, dst, host, size, port);
}

int sip_stack_send(struct sip_stack *stack, const struct sip_source *dst, const char *data,
                   size_t len)
{
	return sip_transport_send(stack->tp, dst, data, len);
}
