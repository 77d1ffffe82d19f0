/*
 * SIP over UDP, TCP and TLS.
 *
 * Each transport turns bytes into parsed messages and hands them up with their source. On a
 * stream the source names the connection, and the registrar keeps that name with the
 * binding: requests to a phone then go back over the connection it registered on, which is
 * the only way to reach a phone behind NAT or a TLS client that does not accept connections.
 * Limits (message size, connections per address, idle time) keep one peer from starving the
 * others.
 */
#include "net/net.h"
#include "sip/sip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_BUCKETS     1024
#define MAX_HEADER_BYTES 16384
#define UDP_BATCH        16 /* datagrams read by one recvmmsg */

struct sip_conn {
	struct sip_transport *tp;
	struct bufferevent *bev;
	struct sip_source src;
	bool tls_checked; /* the peer certificate has been read */
	struct sip_conn *next_in_bucket;
};

struct sip_transport {
	struct event_base *base;
	struct sip_transport_options opt;
	sip_recv_fn fn;
	void *arg;
	sip_closed_fn on_closed;
	void *closed_arg;
	int udp_fd;
	char *udp_buf; /* UDP_BATCH buffers of max_message + 1 bytes, reused for every batch */
	struct event *udp_event;
	struct evconnlistener *tcp, *tls;
	SSL_CTX *tls_ctx;
	struct net_tls_null_sha null_sha; /* read by the TLS hello callback; none set: refused */
	uint64_t next_conn_id;
	struct sip_conn *buckets[CONN_BUCKETS];
	size_t nconns;
};

const char *sip_transport_name(enum sip_transport_kind kind)
{
	return kind == SIP_TP_UDP ? "UDP" : kind == SIP_TP_TCP ? "TCP" : "TLS";
}

static void source_from_sockaddr(struct sip_source *src, const struct sockaddr *sa)
{
	char text[NET_ADDR_STRLEN];
	net_addr_format_host(sa, text, sizeof(text));
	base_strlcpy(src->host, text, sizeof(src->host));
	src->port = sa->sa_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
	                                      : ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

/* ---- connection table ---- */

static struct sip_conn **conn_slot(struct sip_transport *tp, uint64_t id)
{
	struct sip_conn **p = &tp->buckets[id % CONN_BUCKETS];
	while (*p && (*p)->src.conn_id != id)
		p = &(*p)->next_in_bucket;
	return p;
}

static size_t conns_from(struct sip_transport *tp, const char *host)
{
	size_t n = 0;
	for (size_t b = 0; b < CONN_BUCKETS; b++)
		for (struct sip_conn *c = tp->buckets[b]; c; c = c->next_in_bucket)
			n += strcmp(c->src.host, host) == 0;
	return n;
}

static void conn_close(struct sip_conn *c)
{
	struct sip_conn **slot = conn_slot(c->tp, c->src.conn_id);
	if (*slot == c)
		*slot = c->next_in_bucket;
	c->tp->nconns--;
	if (c->tp->on_closed)
		c->tp->on_closed(c->tp->closed_arg, &c->src);
	bufferevent_free(c->bev);
	free(c);
}

/* ---- receiving ---- */

/* A request that does not parse still gets its error response (RFC 4475: usually 400, 505
 * for another SIP version) when enough of it was read to address one: the top Via, Call-ID
 * and CSeq. Anything less, or a bad response, is dropped. */
static void refuse(struct sip_transport *tp, const struct sip_msg *msg,
                   const struct sip_parse_error *perr, const struct sip_source *src)
{
	if (!msg->is_request || !msg->via.host.l || !msg->call_id.l || !msg->cseq.method.l ||
	    perr->status < 400)
		return;
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, msg, perr->status, perr->reason, NULL, src->host, src->port);
	sip_buf_end_headers(&b, NULL, 0);
	if (!b.failed)
		sip_transport_send(tp, src, b.data, b.len);
	sip_buf_free(&b);
}

static void deliver(struct sip_transport *tp, char *buf, size_t len, bool datagram,
                    const struct sip_source *src)
{
	struct sip_msg *msg = malloc(sizeof(*msg));
	struct sip_parse_error perr = {0};
	if (!msg) {
		free(buf);
		return;
	}
	if (sip_msg_parse(msg, buf, len, datagram, &perr) != 0) {
		base_log(BASE_LOG_DEBUG, "sip", "refused a malformed message from %s %s:%u: %s",
		         sip_transport_name(src->kind), src->host, src->port, perr.reason);
		refuse(tp, msg, &perr, src);
		sip_msg_free(msg);
		free(msg);
		return;
	}
	tp->fn(tp->arg, msg, src);
}

/* The peer's certificate identity, read once the handshake is done. Verification against the
 * device CA already happened in the handshake (net_tls_server_ctx_new). */
static void read_tls_peer(struct sip_conn *c)
{
	c->tls_checked = true;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
	if (cert && SSL_get_verify_result(ssl) == X509_V_OK)
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
		                          c->src.tls_peer, sizeof(c->src.tls_peer));
	X509_free(cert);
	c->src.tls_null_cipher = ssl && net_tls_is_null_cipher(ssl);
}

/* A client that offers nothing but NULL ciphers fails the handshake like any other without a
 * shared cipher; the administrator is told what would let it in (once per connection). */
static void log_null_offer(struct sip_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	enum net_tls_null_offer offer = ssl ? net_tls_null_offer(ssl) : NET_TLS_NULL_NOT_OFFERED;
	if (offer == NET_TLS_NULL_ONLY_OFF)
		base_log(BASE_LOG_WARN, "sip",
		         "TLS from %s:%u: client offers only NULL ciphers; set sip_tls_null_sha to "
		         "accept Authenticated devices that need them",
		         c->src.host, c->src.port);
	else if (offer == NET_TLS_NULL_ONLY_OTHER)
		base_log(BASE_LOG_WARN, "sip",
		         "TLS from %s:%u: client offers only NULL ciphers, but not NULL-SHA "
		         "(TLS_RSA_WITH_NULL_SHA), the only one accepted",
		         c->src.host, c->src.port);
}

static void on_stream_read(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->src.kind == SIP_TP_TLS && !c->tls_checked)
		read_tls_peer(c);
	for (;;) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		size_t want = len < c->tp->opt.max_message + 4 ? len : c->tp->opt.max_message + 4;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)want);
		size_t keepalive = 0;
		long n =
		    sip_msg_frame(data, want, MAX_HEADER_BYTES, c->tp->opt.max_message, &keepalive);
		if (keepalive) {
			/* RFC 5626 §4.4.1: a double-CRLF ping gets a single CRLF pong. */
			if (keepalive >= 4)
				bufferevent_write(bev, "\r\n", 2);
			evbuffer_drain(in, keepalive);
			continue;
		}
		if (n == 0 && len <= c->tp->opt.max_message)
			return; /* wait for the rest */
		if (n <= 0) {
			base_log(
			    BASE_LOG_INFO, "sip",
			    "closing %s connection from %s:%u: unframeable or oversize message",
			    sip_transport_name(c->src.kind), c->src.host, c->src.port);
			conn_close(c);
			return;
		}
		char *buf = malloc((size_t)n);
		if (!buf) {
			conn_close(c);
			return;
		}
		evbuffer_remove(in, buf, (size_t)n);
		deliver(c->tp, buf, (size_t)n, false, &c->src);
	}
}

static void on_stream_event(struct bufferevent *bev, short events, void *arg)
{
	(void)bev;
	struct sip_conn *c = arg;
	if (events & BEV_EVENT_CONNECTED)
		return;
	if (events & BEV_EVENT_ERROR && c->src.kind == SIP_TP_TLS && !c->tls_checked)
		log_null_offer(c);
	if (events & BEV_EVENT_ERROR && c->src.kind == SIP_TP_TLS)
		base_log(BASE_LOG_INFO, "sip", "TLS connection from %s:%u failed: %s", c->src.host,
		         c->src.port, ERR_reason_error_string(bufferevent_get_openssl_error(bev)));
	conn_close(c);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	(void)salen;
	struct sip_transport *tp = arg;
	bool tls = listener == tp->tls;
	struct sip_source src = {.kind = tls ? SIP_TP_TLS : SIP_TP_TCP};
	source_from_sockaddr(&src, sa);
	if ((int)conns_from(tp, src.host) >= tp->opt.max_conns_per_source) {
		base_log(BASE_LOG_WARN, "sip", "refused a %s connection from %s: %d already open",
		         sip_transport_name(src.kind), src.host, tp->opt.max_conns_per_source);
		close(fd);
		return;
	}
	struct sip_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = tls ? SSL_new(tp->tls_ctx) : NULL;
	c->bev = !c    ? NULL
	         : tls ? bufferevent_openssl_socket_new(
	                     tp->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
	               : bufferevent_socket_new(tp->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		if (!c || !tls)
			SSL_free(ssl);
		free(c);
		close(fd);
		return;
	}
	c->tp = tp;
	c->src = src;
	c->src.conn_id = ++tp->next_conn_id;
	struct sip_conn **slot = &tp->buckets[c->src.conn_id % CONN_BUCKETS];
	c->next_in_bucket = *slot;
	*slot = c;
	tp->nconns++;
	struct timeval idle = {tp->opt.idle_timeout, 0};
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_setwatermark(c->bev, EV_READ, 0, tp->opt.max_message * 2);
	bufferevent_setcb(c->bev, on_stream_read, NULL, on_stream_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void on_datagram(struct sip_transport *tp, const char *data, size_t n,
                        const struct sockaddr *from)
{
	/* Empty or oversize (truncated) datagrams are dropped; keep-alives over UDP (CRLF,
	 * STUN) need no answer. */
	if (n == 0 || n > tp->opt.max_message || (n <= 4 && memchr("\r\n", data[0], 2)))
		return;
	char *buf = malloc(n);
	if (!buf)
		return;
	memcpy(buf, data, n);
	struct sip_source src = {.kind = SIP_TP_UDP};
	source_from_sockaddr(&src, from);
	deliver(tp, buf, n, true, &src);
}

/* One recvmmsg takes what is waiting, up to UDP_BATCH datagrams, and the loop comes back
 * when more arrives (the event is level-triggered): under load one system call reads many
 * requests, and when idle no second call is spent only to learn that the socket is empty.
 * Each datagram is copied out at its own size: a message outlives this call (its
 * transaction keeps it), and 64 KiB for every 500-byte REGISTER would be memory held for
 * nothing. */
static void on_udp_readable(evutil_socket_t fd, short events, void *arg)
{
	(void)events;
	struct sip_transport *tp = arg;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){tp->udp_buf + (size_t)i * (tp->opt.max_message + 1),
		                        tp->opt.max_message + 1};
		msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
		                                  .msg_namelen = sizeof(from[i]),
		                                  .msg_iov = &iov[i],
		                                  .msg_iovlen = 1};
	}
	int n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++)
		on_datagram(tp, iov[i].iov_base, msgs[i].msg_len,
		            (const struct sockaddr *)&from[i]);
}

/* ---- listening ---- */

static int open_udp(struct sip_transport *tp, const char *addr, struct base_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_addr_parse(addr, &ss, &len, err) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot listen on udp %s: %s", addr,
		                    e == EADDRINUSE ? "address already in use" : strerror(e));
	}
	int size = 4 * 1024 * 1024;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	tp->udp_fd = fd;
	if (!(tp->udp_buf = malloc(UDP_BATCH * (tp->opt.max_message + 1))))
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	tp->udp_event = event_new(tp->base, fd, EV_READ | EV_PERSIST, on_udp_readable, tp);
	if (!tp->udp_event || event_add(tp->udp_event, NULL) != 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot watch udp %s", addr);
	return 0;
}

static struct evconnlistener *open_stream(struct sip_transport *tp, const char *addr,
                                          struct base_err *err)
{
	int fd = net_listen_tcp(addr, 1024, err);
	if (fd < 0)
		return NULL;
	struct evconnlistener *l =
	    evconnlistener_new(tp->base, on_accept, tp, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!l) {
		close(fd);
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot accept on %s", addr);
	}
	return l;
}

int sip_transport_start(struct sip_transport **out, struct event_base *base,
                        const struct sip_transport_options *opt, sip_recv_fn fn, void *arg,
                        struct base_err *err)
{
	struct sip_transport *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	tp->base = base, tp->opt = *opt, tp->fn = fn, tp->arg = arg, tp->udp_fd = -1;
	int rc = 0;
	if (opt->udp_listen && *opt->udp_listen)
		rc = open_udp(tp, opt->udp_listen, err);
	if (rc == 0 && opt->tcp_listen && *opt->tcp_listen)
		rc = (tp->tcp = open_stream(tp, opt->tcp_listen, err)) ? 0 : -1;
	if (rc == 0 && opt->tls_listen && *opt->tls_listen) {
		tp->tls_ctx = net_tls_server_ctx_new(opt->tls_cert, opt->tls_key, opt->tls_ca, err);
		rc = tp->tls_ctx && (tp->tls = open_stream(tp, opt->tls_listen, err)) ? 0 : -1;
		if (tp->tls_ctx)
			net_tls_server_null_sha(tp->tls_ctx, &tp->null_sha);
	}
	if (rc != 0) {
		sip_transport_stop(tp);
		return -1;
	}
	base_log(BASE_LOG_INFO, "sip", "listening: udp %s, tcp %s, tls %s",
	         opt->udp_listen ? opt->udp_listen : "-", opt->tcp_listen ? opt->tcp_listen : "-",
	         opt->tls_listen ? opt->tls_listen : "-");
	*out = tp;
	return 0;
}

void sip_transport_set_null_sha_policy(struct sip_transport *tp, bool (*allowed)(void *arg),
                                       void *arg)
{
	tp->null_sha = (struct net_tls_null_sha){allowed, arg};
}

void sip_transport_set_close_handler(struct sip_transport *tp, sip_closed_fn fn, void *arg)
{
	tp->on_closed = fn;
	tp->closed_arg = arg;
}

void sip_transport_stop(struct sip_transport *tp)
{
	if (!tp)
		return;
	tp->on_closed = NULL; /* those who listened may be gone already */
	for (size_t b = 0; b < CONN_BUCKETS; b++)
		while (tp->buckets[b])
			conn_close(tp->buckets[b]);
	if (tp->tcp)
		evconnlistener_free(tp->tcp);
	if (tp->tls)
		evconnlistener_free(tp->tls);
	if (tp->udp_event)
		event_free(tp->udp_event);
	if (tp->udp_fd >= 0)
		close(tp->udp_fd);
	SSL_CTX_free(tp->tls_ctx);
	free(tp->udp_buf);
	free(tp);
}

/* The bound address of a socket; a wildcard one is resolved to the address the kernel would
 * use towards dst, found by connecting a throwaway UDP socket (nothing is sent). */
static void local_of(int fd, const struct sip_source *dst, char *host, size_t size, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	host[0] = '\0';
	*port = 0;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	struct sip_source me;
	source_from_sockaddr(&me, (struct sockaddr *)&ss);
	*port = me.port;
	base_strlcpy(host, me.host, size);
	if (strcmp(me.host, "0.0.0.0") != 0 && strcmp(me.host, "::") != 0)
		return;
	char addr[96];
	sip_hostport_format(dst->host, dst->port ? dst->port : 5060, addr, sizeof(addr));
	struct sockaddr_storage peer;
	socklen_t pl;
	if (net_addr_parse(addr, &peer, &pl, NULL) != 0)
		return;
	int probe = socket(peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sl = sizeof(ss);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&peer, pl) == 0 &&
	    getsockname(probe, (struct sockaddr *)&ss, &sl) == 0) {
		source_from_sockaddr(&me, (struct sockaddr *)&ss);
		base_strlcpy(host, me.host, size);
	}
	if (probe >= 0)
		close(probe);
}

void sip_transport_local(struct sip_transport *tp, const struct sip_source *dst, char *host,
                         size_t size, uint16_t *port)
{
	struct evconnlistener *l = dst->kind == SIP_TP_TLS ? tp->tls : tp->tcp;
	int fd = dst->kind == SIP_TP_UDP ? tp->udp_fd : l ? evconnlistener_get_fd(l) : -1;
	local_of(fd, dst, host, size, port);
}

/* The numeric host of a source as a socket address: inet_pton directly on the hot path, the
 * general parser only for what it cannot take (an IPv6 scope). */
static int udp_destination(const struct sip_source *dst, struct sockaddr_storage *ss,
                           socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, dst->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(dst->port);
		*len = sizeof(*v4);
		return 0;
	}
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, dst->host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(dst->port);
		*len = sizeof(*v6);
		return 0;
	}
	char addr[96];
	snprintf(addr, sizeof(addr), "[%s]:%u", dst->host, dst->port);
	return net_addr_parse(addr, ss, len, NULL);
}

int sip_transport_send(struct sip_transport *tp, const struct sip_source *dst, const char *data,
                       size_t len)
{
	if (dst->kind != SIP_TP_UDP) {
		struct sip_conn *c = *conn_slot(tp, dst->conn_id);
		if (!c)
			return -1;
		return bufferevent_write(c->bev, data, len);
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	if (tp->udp_fd < 0 || udp_destination(dst, &ss, &sl) != 0)
		return -1;
	return sendto(tp->udp_fd, data, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len ? 0
	                                                                                    : -1;
}

SSL_CTX *sip_transport_tls_ctx(struct sip_transport *tp)
{
	return tp->tls_ctx;
}
