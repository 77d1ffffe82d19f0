/*
 * The phone's TCP or TLS connection to its server, and the client transactions that run
 * over it.
 *
 * On a reliable transport a client transaction has little to do (RFC 3261 §17.1): nothing is
 * retransmitted, so it only matches responses to requests by branch and method, ACKs a
 * non-2xx final response to an INVITE, and gives up after 64*T1 with a 408. When the
 * connection goes, every transaction still waiting gets a 503. Requests from the server
 * need no server transaction here at all: over a stream they are never retransmitted.
 *
 * TLS verifies the server against --ca and its name against the --server address, and
 * presents --cert, which is how the registrar knows an authenticated or encrypted device.
 */
#include "net/net.h"
#include "phone_link.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_MESSAGE    65535
#define TX_TIMEOUT_SEC 32 /* 64*T1 */

struct stream_tx {
	struct phone_stream *s;
	char branch[40];
	struct sip_msg *req; /* parsed copy of what was sent: for ACKs and local responses */
	struct event *timeout;
	uint16_t timeout_status; /* 408, or 503 when the request could not even be sent */
	phone_response_fn fn;
	void *arg;
	struct stream_tx *next;
};

struct phone_stream {
	struct event_base *base;
	struct bufferevent *bev;
	SSL_CTX *ctx;
	bool tls;
	bool down; /* closed or failed: nothing more is sent */
	struct stream_tx *txs;
	struct phone_stream_handlers h;
};

/* ---- transactions ---- */

static void tx_free(struct stream_tx *tx)
{
	if (tx->timeout)
		event_free(tx->timeout);
	if (tx->req) {
		sip_msg_free(tx->req);
		free(tx->req);
	}
	free(tx);
}

static void tx_unlink(struct stream_tx *tx)
{
	for (struct stream_tx **p = &tx->s->txs; *p; p = &(*p)->next) {
		if (*p == tx) {
			*p = tx->next;
			return;
		}
	}
}

/* The transaction is over: unlinked before the caller hears of it, so the caller may send
 * new requests from its callback. */
static void tx_finish(struct stream_tx *tx, const struct sip_msg *resp)
{
	tx_unlink(tx);
	if (tx->fn)
		tx->fn(tx->arg, resp);
	tx_free(tx);
}

/* A final response made up here: a timeout (408) or a lost connection (503). */
static void tx_fail(struct stream_tx *tx, uint16_t status)
{
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, tx->req, status, NULL, NULL, NULL, 0);
	sip_buf_end_headers(&b, NULL, 0);
	struct sip_msg resp;
	struct sip_parse_error perr;
	if (!b.failed && sip_msg_parse(&resp, b.data, b.len, true, &perr) == 0) {
		tx_finish(tx, &resp);
		sip_msg_free(&resp);
		return;
	}
	if (!b.failed)
		sip_msg_free(&resp); /* it owns b.data, parsed or not */
	else
		sip_buf_free(&b);
	tx_unlink(tx);
	tx_free(tx);
}

static void on_tx_timeout(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct stream_tx *tx = arg;
	tx_fail(tx, tx->timeout_status);
}

/* The ACK of a non-2xx final response to an INVITE: part of the INVITE's transaction, so
 * its Via is the INVITE's and its To is the response's (§17.1.1.3). */
static void send_non2xx_ack(struct phone_stream *s, const struct sip_msg *req,
                            const struct sip_msg *resp)
{
	struct sip_buf b;
	if (sip_msg_ack_or_cancel(&b, "ACK", req, resp) == 0)
		phone_stream_send(s, b.data, b.len);
	sip_buf_free(&b);
}

static struct stream_tx *tx_find(struct phone_stream *s, const struct sip_msg *resp)
{
	for (struct stream_tx *tx = s->txs; tx; tx = tx->next)
		if (sip_pl_eq(resp->via.branch, tx->branch) &&
		    sip_pl_eq_pl_nocase(resp->cseq.method, tx->req->method))
			return tx;
	return NULL;
}

static void on_response(struct phone_stream *s, const struct sip_msg *resp)
{
	struct stream_tx *tx = tx_find(s, resp);
	bool invite = sip_pl_eq(resp->cseq.method, "INVITE");
	if (!tx) {
		if (invite && resp->status >= 200 && resp->status < 300 && s->h.late_2xx)
			s->h.late_2xx(s->h.arg, resp);
		return;
	}
	if (resp->status < 200) {
		if (tx->fn)
			tx->fn(tx->arg, resp);
		return;
	}
	if (invite && resp->status >= 300)
		send_non2xx_ack(s, tx->req, resp);
	tx_finish(tx, resp);
}

/* ---- the connection ---- */

/* Fails every waiting transaction and tells the owner, once. */
static void go_down(struct phone_stream *s, const char *why)
{
	if (s->down)
		return;
	s->down = true;
	/* The owner hears why first; the transactions' 503s then only tidy up. */
	if (s->h.closed)
		s->h.closed(s->h.arg, why);
	while (s->txs)
		tx_fail(s->txs, 503);
}

static void on_message(struct phone_stream *s, char *buf, size_t len)
{
	struct sip_msg *msg = malloc(sizeof(*msg));
	struct sip_parse_error perr;
	if (!msg) {
		free(buf);
		return;
	}
	if (sip_msg_parse(msg, buf, len, false, &perr) != 0) {
		base_log(BASE_LOG_WARN, "phone", "ignored a malformed message: %s", perr.reason);
	} else if (!msg->is_request) {
		on_response(s, msg);
	} else if (s->h.request) {
		s->h.request(s->h.arg, msg);
		return;
	}
	sip_msg_free(msg);
	free(msg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct phone_stream *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!s->down) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		size_t want = len < MAX_MESSAGE + 4 ? len : MAX_MESSAGE + 4;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)want);
		size_t keepalive = 0;
		long n = sip_msg_frame(data, want, SIP_MAX_HEADER_BYTES, MAX_MESSAGE, &keepalive);
		if (keepalive) { /* a CRLF pong to a keep-alive; nothing to do */
			evbuffer_drain(in, keepalive);
			continue;
		}
		if (n == 0 && len <= MAX_MESSAGE)
			return; /* the rest has not arrived yet */
		char *buf = n > 0 ? malloc((size_t)n) : NULL;
		if (!buf) {
			go_down(s, "the server sent something that is not a SIP message");
			return;
		}
		evbuffer_remove(in, buf, (size_t)n);
		on_message(s, buf, (size_t)n);
	}
}

static void describe_tls_failure(struct bufferevent *bev, char *out, size_t size)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = bufferevent_get_openssl_error(bev);
	if (verify != X509_V_OK)
		snprintf(out, size, "TLS handshake failed: server certificate: %s",
		         X509_verify_cert_error_string(verify));
	else if (e)
		snprintf(out, size, "TLS failed: %s", ERR_reason_error_string(e));
	else
		snprintf(out, size, "TLS connection closed by the server");
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	struct phone_stream *s = arg;
	if (events & BEV_EVENT_CONNECTED) {
		SSL *ssl = s->tls ? bufferevent_openssl_get_ssl(bev) : NULL;
		char what[160];
		if (ssl)
			snprintf(what, sizeof(what), "%s %s, server certificate verified",
			         SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		else
			snprintf(what, sizeof(what), "TCP");
		if (s->h.connected)
			s->h.connected(s->h.arg, what);
		return;
	}
	char why[256];
	if (s->tls && (events & BEV_EVENT_ERROR))
		describe_tls_failure(bev, why, sizeof(why));
	else if (events & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "connection failed: %s",
		         strerror(EVUTIL_SOCKET_ERROR() ? EVUTIL_SOCKET_ERROR() : ECONNRESET));
	else
		snprintf(why, sizeof(why), "the server closed the connection");
	go_down(s, why);
}

/* A non-blocking socket of the server's family, bound to --local when one was given. */
static int make_socket(const struct phone_opts *o, const struct sockaddr_storage *server,
                       struct base_err *err)
{
	int fd = socket(server->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "socket: %s", strerror(errno));
	if (o->local[0]) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (net_addr_parse(o->local, &ss, &len, err) != 0 ||
		    bind(fd, (struct sockaddr *)&ss, len) != 0) {
			if (!err || !err->message[0])
				base_err_set(err, BASE_E_INTERNAL, NULL, "cannot bind %s: %s",
				             o->local, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static struct bufferevent *make_bev(struct phone_stream *s, const struct phone_opts *o, int fd,
                                    struct base_err *err)
{
	if (!s->tls)
		return bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->ctx = net_tls_client_ctx_new(o->ca, o->cert, o->key, err);
	/* Trust-list certificates are the servers' own, not their CA: accept them as anchors. */
	if (s->ctx && o->ca_is_leaf)
		X509_STORE_set_flags(SSL_CTX_get_cert_store(s->ctx), X509_V_FLAG_PARTIAL_CHAIN);
	SSL *ssl = s->ctx ? SSL_new(s->ctx) : NULL;
	if (!ssl || net_tls_set_peer_name(ssl, o->server_host, err) != 0) {
		SSL_free(ssl);
		return NULL;
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
	    s->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

int phone_stream_open(struct phone_stream **out, struct event_base *base,
                      const struct phone_opts *o, const struct phone_stream_handlers *h,
                      struct base_err *err)
{
	struct sockaddr_storage server;
	socklen_t len;
	if (net_addr_parse(o->server, &server, &len, err) != 0)
		return -1;
	struct phone_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	s->base = base, s->h = *h, s->tls = o->transport == SIP_TP_TLS;
	int fd = make_socket(o, &server, err);
	if (fd >= 0 && !(s->bev = make_bev(s, o, fd, err))) {
		close(fd);
		fd = -1;
	}
	/* connect() starts at once, so our port is known before the first request is built;
	 * what is written meanwhile waits in the buffer for the connection (and handshake). */
	if (fd >= 0 && bufferevent_socket_connect(s->bev, (struct sockaddr *)&server, len) != 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot connect to %s", o->server);
		fd = -1;
	}
	if (fd < 0) {
		if (!err || !err->message[0])
			base_err_set(err, BASE_E_INTERNAL, NULL, "cannot connect to %s", o->server);
		phone_stream_close(s);
		return -1;
	}
	bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	*out = s;
	return 0;
}

void phone_stream_close(struct phone_stream *s)
{
	if (!s)
		return;
	s->h = (struct phone_stream_handlers){0}; /* the owner is going: tell it nothing */
	while (s->txs) {
		struct stream_tx *tx = s->txs;
		s->txs = tx->next;
		tx_free(tx);
	}
	if (s->bev)
		bufferevent_free(s->bev);
	SSL_CTX_free(s->ctx);
	free(s);
}

void phone_stream_local(struct phone_stream *s, char *host, size_t size, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	host[0] = '\0';
	*port = 0;
	int fd = s->bev ? bufferevent_getfd(s->bev) : -1;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	net_addr_format_host(sa, host, size);
	*port = ss.ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
	                                 : ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

int phone_stream_send(struct phone_stream *s, const char *data, size_t len)
{
	if (s->down)
		return -1;
	return bufferevent_write(s->bev, data, len);
}

int phone_stream_request(struct phone_stream *s, const char *branch, struct sip_buf *req,
                         phone_response_fn fn, void *arg)
{
	struct stream_tx *tx = calloc(1, sizeof(*tx));
	struct sip_msg *parsed = malloc(sizeof(*parsed));
	char *copy = req->failed ? NULL : malloc(req->len);
	struct sip_parse_error perr;
	int rc = -1;
	if (!tx || !parsed || !copy) {
		free(tx), free(parsed), free(copy);
		goto out;
	}
	memcpy(copy, req->data, req->len);
	if (sip_msg_parse(parsed, copy, req->len, true, &perr) != 0) {
		base_log(BASE_LOG_ERROR, "phone", "built an unparsable request: %s", perr.reason);
		sip_msg_free(parsed);
		free(parsed), free(tx);
		goto out;
	}
	*tx =
	    (struct stream_tx){.s = s, .req = parsed, .timeout_status = 408, .fn = fn, .arg = arg};
	base_strlcpy(tx->branch, branch, sizeof(tx->branch));
	tx->timeout = evtimer_new(s->base, on_tx_timeout, tx);
	struct timeval tv = {TX_TIMEOUT_SEC, 0};
	if (!tx->timeout) {
		tx_free(tx);
		goto out;
	}
	tx->next = s->txs;
	s->txs = tx;
	/* A stream that is down already answers from the loop, never inside this call. */
	if (phone_stream_send(s, req->data, req->len) != 0) {
		tx->timeout_status = 503;
		tv.tv_sec = 0;
	}
	evtimer_add(tx->timeout, &tv);
	rc = 0;
out:
	sip_buf_free(req);
	return rc;
}
