/*
 * The SIP stack: transports below, server transactions (RFC 3261 §17.2) in the middle, the
 * application's request handler above.
 *
 * A server transaction remembers its last response so that a retransmitted request is
 * answered with the same bytes and never reaches the application twice. Over UDP a final
 * response to an INVITE is itself retransmitted (Timer G) until the ACK comes (Timer H gives
 * up); the transaction then lingers (Timers I and J) to absorb late retransmissions.
 *
 * Timer J is the same 32 s for every non-INVITE transaction over UDP, so those transactions
 * wait it out in arrival order in one queue behind one timer: a REGISTER's answer then costs
 * no timer of its own (an allocation and a heap insertion among tens of thousands).
 */
#include "sip/sip_stack_int.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum tx_state { TX_TRYING, TX_PROCEEDING, TX_COMPLETED, TX_CONFIRMED };

struct sip_server_tx {
	struct sip_stack *stack;
	struct sip_msg *req;
	struct sip_source src;
	bool invite;
	enum tx_state state;
	char *response; /* last response sent, for retransmissions */
	size_t response_len;
	struct event *timer_g; /* INVITE over UDP: retransmit the final response */
	struct event *timer_end;
	int g_interval_ms;
	char to_tag[24];
	bool in_handler;       /* the request handler has not returned yet */
	bool stateless;        /* answered statelessly: gone once the handler returns */
	bool in_table;         /* findable by key in stack->txs */
	int64_t timer_j_at_ms; /* in the Timer J queue: when it ends */
	struct sip_server_tx *timer_j_next; /* the next one in that queue */
	char key[];                         /* RFC 3261 §17.2.3 (tx_key) */
};

static bool reliable(const struct sip_source *src)
{
	return src->kind != SIP_TP_UDP;
}

/* RFC 3261 §17.2.3: branch, sent-by and method (ACK matches its INVITE). Requests without
 * the magic cookie come from RFC 2543 clients; their key is built from the dialog fields.
 * Built by hand: it is made for every request, and snprintf cost more than the lookup. A key
 * too long for out (no real branch is) is cut, which can only make two requests share one. */
static void tx_key(const struct sip_msg *m, char *out, size_t size)
{
	struct sip_pl method = sip_pl_eq(m->method, "ACK") ? SIP_PL("INVITE") : m->method;
	struct base_text t;
	base_text_init(&t, out, size);
	if (m->via.branch.l > 7 && memcmp(m->via.branch.p, "z9hG4bK", 7) == 0) {
		base_text_add(&t, m->via.branch.p, m->via.branch.l);
		base_text_add(&t, "|", 1);
		base_text_add(&t, m->via.host.p, m->via.host.l);
		base_text_add(&t, ":", 1);
		base_text_add_uint(&t, m->via.port);
	} else {
		base_text_add(&t, "2543|", 5);
		base_text_add(&t, m->call_id.p, m->call_id.l);
		base_text_add(&t, "|", 1);
		base_text_add_uint(&t, m->cseq.number);
		base_text_add(&t, "|", 1);
		base_text_add(&t, m->from_tag.p, m->from_tag.l);
	}
	base_text_add(&t, "|", 1);
	base_text_add(&t, method.p, method.l);
}

void sip_ms_to_tv(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static void tx_free(struct sip_server_tx *tx)
{
	if (tx->timer_g)
		event_free(tx->timer_g);
	if (tx->timer_end)
		event_free(tx->timer_end);
	sip_msg_free(tx->req);
	free(tx->req);
	free(tx->response);
	free(tx);
}

static void tx_destroy(struct sip_server_tx *tx)
{
	if (tx->in_table)
		base_hash_remove(tx->stack->txs, tx->key);
	tx_free(tx);
}

static void on_timer_end(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	tx_destroy(arg);
}

static void on_timer_g(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct sip_server_tx *tx = arg;
	if (tx->state != TX_COMPLETED)
		return;
	sip_transport_send(tx->stack->tp, &tx->src, tx->response, tx->response_len);
	tx->g_interval_ms = tx->g_interval_ms * 2 < SIP_T2_MS ? tx->g_interval_ms * 2 : SIP_T2_MS;
	struct timeval tv;
	sip_ms_to_tv(tx->g_interval_ms, &tv);
	evtimer_add(tx->timer_g, &tv);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timer_j_arm(struct sip_stack *stack)
{
	if (!stack->timer_j_head)
		return;
	int64_t wait = stack->timer_j_head->timer_j_at_ms - monotonic_ms();
	struct timeval tv;
	sip_ms_to_tv(wait > 0 ? (int)wait : 0, &tv);
	evtimer_add(stack->timer_j, &tv);
}

static void on_timer_j(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct sip_stack *stack = arg;
	int64_t now = monotonic_ms();
	struct sip_server_tx *tx;
	while ((tx = stack->timer_j_head) && tx->timer_j_at_ms <= now) {
		stack->timer_j_head = tx->timer_j_next;
		tx_destroy(tx);
	}
	if (!stack->timer_j_head)
		stack->timer_j_tail = NULL;
	timer_j_arm(stack);
}

static void timer_j_start(struct sip_server_tx *tx)
{
	struct sip_stack *stack = tx->stack;
	tx->timer_j_at_ms = monotonic_ms() + 64 * SIP_T1_MS;
	tx->timer_j_next = NULL;
	if (stack->timer_j_tail)
		stack->timer_j_tail->timer_j_next = tx;
	else
		stack->timer_j_head = tx;
	stack->timer_j_tail = tx;
	if (!evtimer_pending(stack->timer_j, NULL))
		timer_j_arm(stack);
}

/* Ends the transaction after ms (0: at once, but never from inside the caller's stack). */
static void tx_end_after(struct sip_server_tx *tx, int ms)
{
	struct timeval tv;
	sip_ms_to_tv(ms, &tv);
	if (!tx->timer_end)
		tx->timer_end = evtimer_new(tx->stack->base, on_timer_end, tx);
	evtimer_add(tx->timer_end, &tv);
}

const struct sip_msg *sip_server_tx_request(const struct sip_server_tx *tx)
{
	return tx->req;
}

const struct sip_source *sip_server_tx_source(const struct sip_server_tx *tx)
{
	return &tx->src;
}

const char *sip_server_tx_to_tag(const struct sip_server_tx *tx)
{
	return tx->to_tag;
}

const char *sip_server_tx_last_response(const struct sip_server_tx *tx, size_t *len)
{
	*len = tx->response_len;
	return tx->response;
}

int sip_server_tx_reply(struct sip_server_tx *tx, uint16_t status, const char *reason,
                        const char *headers, const char *content_type, const char *body,
                        size_t body_len)
{
	if (tx->state == TX_COMPLETED || tx->state == TX_CONFIRMED)
		return -1;
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, tx->req, status, reason ? reason : sip_reason_phrase(status),
	                       status > 100 ? tx->to_tag : NULL, tx->src.host, tx->src.port);
	if (headers)
		sip_buf_add(&b, headers, strlen(headers));
	if (content_type && body_len)
		sip_buf_printf(&b, "Content-Type: %s\r\n", content_type);
	sip_buf_end_headers(&b, body, body_len);
	if (b.failed) {
		sip_buf_free(&b);
		return -1;
	}
	int rc = sip_transport_send(tx->stack->tp, &tx->src, b.data, b.len);
	if (tx->stateless) {
		sip_buf_free(&b);
		tx->state = TX_COMPLETED;
		if (!tx->in_handler)
			tx_end_after(tx, 0);
		return rc;
	}
	free(tx->response);
	/* Kept for retransmissions, at its own size: over UDP a REGISTER's 200 is kept 32 s,
	 * tens of thousands of them at a time, and the buffer was built with room to spare. */
	char *fitted = realloc(b.data, b.len + 1);
	tx->response = fitted ? fitted : b.data;
	tx->response_len = b.len;
	if (status < 200) {
		tx->state = TX_PROCEEDING;
		return rc;
	}
	tx->state = TX_COMPLETED;
	if (tx->invite && status < 300) {
		/* A 2xx ends the INVITE transaction; the dialog layer retransmits it. */
		tx_end_after(tx, 0);
	} else if (tx->invite) {
		if (!reliable(&tx->src)) {
			tx->g_interval_ms = SIP_T1_MS;
			tx->timer_g = evtimer_new(tx->stack->base, on_timer_g, tx);
			struct timeval tv;
			sip_ms_to_tv(SIP_T1_MS, &tv);
			evtimer_add(tx->timer_g, &tv);
		}
		tx_end_after(tx, 64 * SIP_T1_MS); /* Timer H */
	} else {
		if (reliable(&tx->src))
			tx_end_after(tx, 0); /* Timer J is 0 on reliable transports */
		else
			timer_j_start(tx);
	}
	return rc;
}

int sip_server_tx_reply_stateless(struct sip_server_tx *tx, uint16_t status, const char *headers)
{
	tx->stateless = !tx->invite && status >= 200; /* an INVITE's ACK needs its transaction */
	return sip_server_tx_reply(tx, status, NULL, headers, NULL, NULL, 0);
}

/* An ACK for a non-2xx final response belongs to the INVITE transaction (§17.2.1). */
static void absorb_ack(struct sip_server_tx *tx)
{
	if (tx->state != TX_COMPLETED || !tx->invite)
		return;
	tx->state = TX_CONFIRMED;
	if (tx->timer_g)
		evtimer_del(tx->timer_g);
	tx_end_after(tx, reliable(&tx->src) ? 0 : SIP_T4_MS); /* Timer I */
}

static int tx_table_put(struct sip_server_tx *tx)
{
	if (base_hash_put(tx->stack->txs, tx->key, tx, NULL) != 0)
		return -1;
	tx->in_table = true;
	return 0;
}

/* An INVITE enters the table before its handler runs, because a CANCEL must find it while the
 * call is set up. Any other request enters once its handler has returned, which is still before
 * a retransmission can be read: one answered statelessly (a challenge) never enters it at all. */
static void new_transaction(struct sip_stack *stack, struct sip_msg *msg,
                            const struct sip_source *src, const char *key)
{
	size_t key_len = strlen(key);
	struct sip_server_tx *tx = calloc(1, sizeof(*tx) + key_len + 1);
	if (!tx) {
		sip_msg_free(msg);
		free(msg);
		return;
	}
	tx->stack = stack;
	tx->req = msg;
	tx->src = *src;
	tx->invite = sip_pl_eq(msg->method, "INVITE");
	memcpy(tx->key, key, key_len + 1);
	sip_random_hex(tx->to_tag, 8);
	if (tx->invite) {
		if (tx_table_put(tx) != 0) {
			tx_free(tx);
			return;
		}
		sip_server_tx_reply(tx, 100, NULL, NULL, NULL, NULL, 0);
	}
	tx->in_handler = true;
	stack->on_request(stack->arg, tx);
	tx->in_handler = false;
	if (tx->stateless) {
		tx_destroy(tx);
		return;
	}
	if (!tx->in_table)
		tx_table_put(tx); /* without memory, only a retransmission misses it */
	/* A non-INVITE request answered at once needs only its response from now on, for
	 * retransmissions until Timer J: on UDP the transaction lives another 32 s, and the
	 * parsed request is most of its memory. */
	if (!tx->invite && tx->state == TX_COMPLETED) {
		sip_msg_free(tx->req);
		free(tx->req);
		tx->req = NULL;
	}
}

static void on_message(void *arg, struct sip_msg *msg, const struct sip_source *src)
{
	struct sip_stack *stack = arg;
	if (!msg->is_request) {
		sip_client_on_response(stack, msg);
		return;
	}
	char key[320];
	tx_key(msg, key, sizeof(key));
	struct sip_server_tx *tx = base_hash_get(stack->txs, key);
	if (tx) {
		if (sip_pl_eq(msg->method, "ACK"))
			absorb_ack(tx);
		else if (tx->response)
			sip_transport_send(stack->tp, &tx->src, tx->response, tx->response_len);
		sip_msg_free(msg);
		free(msg);
		return;
	}
	if (sip_pl_eq(msg->method, "ACK")) {
		/* An ACK for a 2xx is end-to-end: the dialog layer's business, not a transaction's.
		 */
		if (stack->on_ack)
			stack->on_ack(stack->ack_arg, msg, src);
		sip_msg_free(msg);
		free(msg);
		return;
	}
	new_transaction(stack, msg, src, key);
}

/* What sip_stack_start made before the transport (NULL or partly made is fine). */
static void stack_free(struct sip_stack *stack)
{
	if (!stack)
		return;
	base_hash_free(stack->txs, NULL);
	base_hash_free(stack->clients, NULL);
	if (stack->timer_j)
		event_free(stack->timer_j);
	free(stack);
}

int sip_stack_start(struct sip_stack **out, struct event_base *base,
                    const struct sip_transport_options *opt, sip_request_fn on_request, void *arg,
                    struct base_err *err)
{
	struct sip_stack *stack = calloc(1, sizeof(*stack));
	if (!stack || !(stack->txs = base_hash_new()) || !(stack->clients = base_hash_new()) ||
	    !(stack->timer_j = evtimer_new(base, on_timer_j, stack))) {
		stack_free(stack);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	stack->base = base;
	stack->on_request = on_request;
	stack->arg = arg;
	if (sip_transport_start(&stack->tp, base, opt, on_message, stack, err) != 0) {
		stack_free(stack);
		return -1;
	}
	*out = stack;
	return 0;
}

static void free_tx(void *value)
{
	tx_free(value);
}

void sip_stack_stop(struct sip_stack *stack)
{
	if (!stack)
		return;
	base_hash_free(stack->txs, free_tx);
	stack->txs = NULL;
	sip_client_free_all(stack);
	stack->clients = NULL;
	sip_transport_stop(stack->tp);
	stack_free(stack);
}

void sip_stack_set_ack_handler(struct sip_stack *stack, sip_ack_fn fn, void *arg)
{
	stack->on_ack = fn;
	stack->ack_arg = arg;
}

struct sip_transport *sip_stack_transport(struct sip_stack *stack)
{
	return stack->tp;
}
