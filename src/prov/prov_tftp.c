/*
 * The TFTP server (RFC 1350, read requests only) on the event loop.
 *
 * Requests arrive on the listening socket. Each accepted read gets its own socket, bound to
 * the address the request was sent to (so the phone hears the server it asked) and connected
 * to the client: that port is the server's transfer ID, and the kernel drops datagrams from
 * anyone else. A transfer sends a window of blocks (1 without RFC 7440's windowsize), waits
 * for the ACK of the window's last block, and resends the window from the block after the
 * highest ACK on timeout; duplicate ACKs never trigger a resend (the Sorcerer's Apprentice
 * bug of RFC 1350). Limits on transfers overall and per source address keep one client from
 * taking every socket; a transfer whose client stops answering ends after a few timeouts.
 */
#include "net/net.h"
#include "prov/prov_int.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64 /* requests read per wake-up, so transfers get their turn */

struct xfer {
	struct prov_tftp *srv;
	struct xfer *prev, *next;
	int fd;
	struct event *readable, *timer;
	struct prov_file *file;
	unsigned char *ascii; /* the netascii form, when the client asked for it */
	const unsigned char *data;
	size_t len;
	struct prov_tftp_params params;
	uint8_t oack[PROV_TFTP_MAX_REQUEST];
	size_t oack_len;
	bool waiting_oack; /* OACK sent, ACK of block 0 awaited */
	uint64_t acked;    /* highest block acknowledged, counting past 65535 */
	uint64_t sent_to;  /* highest block sent */
	uint64_t last;     /* number of the final (short) block */
	int retries;
	char source[NET_ADDR_STRLEN];
	uint8_t *pkt; /* blksize + 4 */
};

/* A read request whose file is being signed. */
struct waiting {
	struct prov_tftp *srv;
	struct waiting *prev, *next;
	struct prov_tftp_request req;
	struct sockaddr_storage local, peer;
	socklen_t peer_len;
	char source[NET_ADDR_STRLEN];
};

struct prov_tftp {
	struct event_base *base;
	struct prov_files *files;
	struct prov_tftp_options opt;
	int fd;
	struct sockaddr_storage bound;
	bool wildcard;
	struct event *readable;
	struct base_hash *per_source; /* source host -> count, stored in the pointer */
	int active;
	struct xfer *xfers;
	struct waiting *waiting; /* requests whose file is not ready */
	int nwaiting;
};

/* ---- transfers ---- */

static void count_source(struct prov_tftp *srv, const char *source, int delta)
{
	intptr_t n = (intptr_t)base_hash_get(srv->per_source, source) + delta;
	if (n > 0)
		base_hash_put(srv->per_source, source, (void *)n, NULL);
	else
		base_hash_remove(srv->per_source, source);
}

static void xfer_end(struct xfer *x, const char *why)
{
	struct prov_tftp *srv = x->srv;
	base_log(BASE_LOG_DEBUG, "prov", "tftp transfer to %s %s", x->source, why);
	if (x->prev)
		x->prev->next = x->next;
	else
		srv->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	srv->active--;
	count_source(srv, x->source, -1);
	if (x->readable)
		event_free(x->readable);
	if (x->timer)
		event_free(x->timer);
	if (x->fd >= 0)
		close(x->fd);
	prov_file_unref(x->file);
	free(x->ascii);
	free(x->pkt);
	free(x);
}

static void arm(struct xfer *x)
{
	struct timeval tv = {x->params.timeout_ms / 1000, (x->params.timeout_ms % 1000) * 1000};
	evtimer_add(x->timer, &tv);
}

static void send_block(struct xfer *x, uint64_t block)
{
	size_t off = (size_t)(block - 1) * x->params.blksize;
	size_t n = off < x->len ? x->len - off : 0;
	if (n > x->params.blksize)
		n = x->params.blksize;
	x->pkt[0] = 0, x->pkt[1] = PROV_TFTP_DATA;
	x->pkt[2] = (uint8_t)(block >> 8), x->pkt[3] = (uint8_t)block;
	memcpy(x->pkt + 4, x->data + off, n);
	/* A full socket buffer loses the datagram; the timeout resends it. */
	(void)send(x->fd, x->pkt, n + 4, 0);
}

static void send_window(struct xfer *x)
{
	uint64_t end = x->acked + x->params.windowsize;
	if (end > x->last)
		end = x->last;
	for (uint64_t b = x->acked + 1; b <= end; b++)
		send_block(x, b);
	x->sent_to = end;
	arm(x);
}

static void on_ack(struct xfer *x, uint16_t block)
{
	if (x->waiting_oack) {
		if (block != 0)
			return;
		x->waiting_oack = false;
		x->retries = 0;
		send_window(x);
		return;
	}
	uint64_t acked = x->acked + (uint16_t)(block - (uint16_t)x->acked);
	if (acked <= x->acked || acked > x->sent_to)
		return; /* a duplicate or stray ACK: only the timer resends */
	x->acked = acked;
	x->retries = 0;
	if (acked == x->last) {
		xfer_end(x, "complete");
		return;
	}
	send_window(x);
}

static void on_xfer_readable(evutil_socket_t fd, short events, void *arg)
{
	(void)events;
	struct xfer *x = arg;
	uint8_t buf[PROV_TFTP_MAX_REQUEST];
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return; /* EAGAIN, or ICMP unreachable: the timer decides */
		if (n < 4)
			continue;
		unsigned op = (unsigned)buf[0] << 8 | buf[1];
		if (op == PROV_TFTP_ACK) {
			on_ack(x, (uint16_t)(buf[2] << 8 | buf[3]));
		} else if (op == PROV_TFTP_ERROR) {
			xfer_end(x, "ended by the client's error");
		} else {
			uint8_t e[64];
			size_t len = prov_tftp_error_packet(
			    PROV_TFTP_E_ILLEGAL, "only ACK or ERROR expected", e, sizeof(e));
			(void)send(fd, e, len, 0);
			xfer_end(x, "ended: the client sent neither ACK nor ERROR");
		}
		return; /* x may be gone */
	}
}

static void on_timeout(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct xfer *x = arg;
	if (++x->retries > x->srv->opt.retries) {
		xfer_end(x, "abandoned: no answer");
		return;
	}
	if (x->waiting_oack) {
		(void)send(x->fd, x->oack, x->oack_len, 0);
		arm(x);
	} else {
		send_window(x);
	}
}

/* LF becomes CR LF and CR becomes CR NUL (RFC 764, as RFC 1350 asks for netascii). */
static unsigned char *to_netascii(const unsigned char *in, size_t len, size_t *out_len)
{
	unsigned char *out = malloc(2 * len + 1);
	size_t n = 0;
	for (size_t i = 0; out && i < len; i++) {
		if (in[i] == '\n')
			out[n++] = '\r', out[n++] = '\n';
		else if (in[i] == '\r')
			out[n++] = '\r', out[n++] = '\0';
		else
			out[n++] = in[i];
	}
	*out_len = n;
	return out;
}

static int xfer_start(struct prov_tftp *srv, const struct prov_tftp_request *req,
                      struct prov_file *file, const struct sockaddr_storage *local,
                      const struct sockaddr_storage *peer, socklen_t peer_len, const char *source)
{
	struct xfer *x = calloc(1, sizeof(*x));
	if (!x) {
		prov_file_unref(file);
		return -1;
	}
	x->srv = srv, x->file = file, x->fd = -1;
	base_strlcpy(x->source, source, sizeof(x->source));
	x->next = srv->xfers;
	if (srv->xfers)
		srv->xfers->prev = x;
	srv->xfers = x;
	srv->active++;
	count_source(srv, source, +1);
	x->data = file->data, x->len = file->len;
	if (req->netascii) {
		if (!(x->ascii = to_netascii(file->data, file->len, &x->len)))
			goto fail;
		x->data = x->ascii;
	}
	x->oack_len = prov_tftp_negotiate(req, x->len, &srv->opt.limits, srv->opt.timeout_ms,
	                                  &x->params, x->oack, sizeof(x->oack));
	x->last = x->len / x->params.blksize + 1;
	struct sockaddr_storage bind_to = *local;
	if (bind_to.ss_family == AF_INET)
		((struct sockaddr_in *)&bind_to)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&bind_to)->sin6_port = 0;
	socklen_t bind_len =
	    bind_to.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	x->fd = socket(bind_to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || bind(x->fd, (struct sockaddr *)&bind_to, bind_len) != 0 ||
	    connect(x->fd, (const struct sockaddr *)peer, peer_len) != 0 ||
	    !(x->pkt = malloc(x->params.blksize + 4)) ||
	    !(x->readable =
	          event_new(srv->base, x->fd, EV_READ | EV_PERSIST, on_xfer_readable, x)) ||
	    !(x->timer = evtimer_new(srv->base, on_timeout, x)) ||
	    event_add(x->readable, NULL) != 0)
		goto fail;
	if (x->oack_len) {
		x->waiting_oack = true;
		(void)send(x->fd, x->oack, x->oack_len, 0);
		arm(x);
	} else {
		send_window(x);
	}
	return 0;
fail:
	xfer_end(x, "failed to start");
	return -1;
}

/* ---- requests ---- */

static void reply_error(struct prov_tftp *srv, const struct sockaddr_storage *peer,
                        socklen_t peer_len, enum prov_tftp_error code, const char *message)
{
	uint8_t pkt[256];
	size_t len = prov_tftp_error_packet(code, message, pkt, sizeof(pkt));
	(void)sendto(srv->fd, pkt, len, 0, (const struct sockaddr *)peer, peer_len);
}

/* The address the request was sent to: the listening address, or for a wildcard listener
 * the destination the kernel reports with the datagram. */
static void local_address(struct prov_tftp *srv, struct msghdr *msg, struct sockaddr_storage *out)
{
	*out = srv->bound;
	if (!srv->wildcard)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    out->ss_family == AF_INET) {
			struct in_pktinfo info;
			memcpy(&info, CMSG_DATA(c), sizeof(info));
			((struct sockaddr_in *)out)->sin_addr = info.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		           out->ss_family == AF_INET6) {
			struct in6_pktinfo info;
			memcpy(&info, CMSG_DATA(c), sizeof(info));
			((struct sockaddr_in6 *)out)->sin6_addr = info.ipi6_addr;
		}
	}
}

static enum prov_tftp_error tftp_code(enum base_err_code code)
{
	return code == BASE_E_NOT_FOUND   ? PROV_TFTP_E_NOT_FOUND
	       : code == BASE_E_FORBIDDEN ? PROV_TFTP_E_ACCESS
	                                  : PROV_TFTP_E_UNDEFINED;
}

static void refuse(struct prov_tftp *srv, const struct prov_tftp_request *req,
                   const struct sockaddr_storage *peer, socklen_t peer_len, const char *source,
                   const struct base_err *err)
{
	if (err->code != BASE_E_NOT_FOUND)
		base_log(err->code == BASE_E_INTERNAL ? BASE_LOG_ERROR : BASE_LOG_DEBUG, "prov",
		         "tftp %s for %s: %s", req->filename, source, err->message);
	reply_error(srv, peer, peer_len, tftp_code(err->code),
	            err->code == BASE_E_NOT_FOUND ? "File not found" : err->message);
}

static void waiting_unlink(struct waiting *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		w->srv->waiting = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->srv->nwaiting--;
}

/* A signed file is ready for a request that waited for it: the transfer starts (or the
 * request is refused). */
static void on_file_ready(void *arg, struct prov_file *file, const struct base_err *err)
{
	struct waiting *w = arg;
	waiting_unlink(w);
	if (file)
		xfer_start(w->srv, &w->req, prov_file_ref(file), &w->local, &w->peer, w->peer_len,
		           w->source);
	else
		refuse(w->srv, &w->req, &w->peer, w->peer_len, w->source, err);
	free(w);
}

/* Fetches the requested file; *w is the request's place in the queue of those waiting for a
 * file being signed, linked when the answer is 1. */
static int fetch(struct prov_tftp *srv, const struct prov_tftp_request *req, const char *host,
                 const struct sockaddr_storage *local, const struct sockaddr_storage *peer,
                 socklen_t peer_len, const char *source, struct prov_file **file,
                 struct base_err *err)
{
	struct waiting *w = srv->nwaiting < srv->opt.max_transfers ? calloc(1, sizeof(*w)) : NULL;
	if (!w)
		return base_err_set(err, BASE_E_THROTTLED, NULL, "too many requests waiting");
	w->srv = srv, w->req = *req, w->local = *local, w->peer = *peer, w->peer_len = peer_len;
	base_strlcpy(w->source, source, sizeof(w->source));
	int rc = prov_files_fetch(srv->files, req->filename, PROV_VIA_TFTP, host, file,
	                          on_file_ready, w, err);
	if (rc != 1) {
		free(w);
		return rc;
	}
	w->next = srv->waiting;
	if (srv->waiting)
		srv->waiting->prev = w;
	srv->waiting = w;
	srv->nwaiting++;
	return 1;
}

static void handle_request(struct prov_tftp *srv, const uint8_t *pkt, size_t len,
                           const struct sockaddr_storage *peer, socklen_t peer_len,
                           const struct sockaddr_storage *local)
{
	char source[NET_ADDR_STRLEN], host[NET_ADDR_STRLEN];
	net_addr_format_host((const struct sockaddr *)peer, source, sizeof(source));
	struct prov_tftp_request req;
	enum prov_tftp_error code;
	struct base_err err = {0};
	if (prov_tftp_parse_request(pkt, len, &req, &code, &err) != 0) {
		base_log(BASE_LOG_DEBUG, "prov", "tftp request from %s refused: %s", source,
		         err.message);
		reply_error(srv, peer, peer_len, code, err.message);
		return;
	}
	if (req.opcode == PROV_TFTP_WRQ) {
		reply_error(srv, peer, peer_len, PROV_TFTP_E_ACCESS, "this server is read-only");
		return;
	}
	if (srv->active >= srv->opt.max_transfers ||
	    (intptr_t)base_hash_get(srv->per_source, source) >= srv->opt.max_per_source) {
		reply_error(srv, peer, peer_len, PROV_TFTP_E_UNDEFINED,
		            "too many transfers; try again later");
		return;
	}
	net_addr_format_host((const struct sockaddr *)local, host, sizeof(host));
	struct prov_file *file = NULL;
	int rc = fetch(srv, &req, host, local, peer, peer_len, source, &file, &err);
	if (rc < 0)
		refuse(srv, &req, peer, peer_len, source, &err);
	if (rc != 0)
		return;
	base_log(BASE_LOG_DEBUG, "prov", "tftp %s to %s", req.filename, source);
	xfer_start(srv, &req, file, local, peer, peer_len, source);
}

static void on_readable(evutil_socket_t fd, short events, void *arg)
{
	(void)events;
	struct prov_tftp *srv = arg;
	for (int i = 0; i < BATCH; i++) {
		/* One byte more than a request may have, to see that it is too long. */
		uint8_t pkt[PROV_TFTP_MAX_REQUEST + 1];
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			         CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} control;
		struct sockaddr_storage peer;
		struct iovec iov = {pkt, sizeof(pkt)};
		struct msghdr msg = {.msg_name = &peer,
		                     .msg_namelen = sizeof(peer),
		                     .msg_iov = &iov,
		                     .msg_iovlen = 1,
		                     .msg_control = control.buf,
		                     .msg_controllen = sizeof(control.buf)};
		ssize_t n = recvmsg(fd, &msg, 0);
		if (n < 0)
			return;
		struct sockaddr_storage local;
		local_address(srv, &msg, &local);
		handle_request(srv, pkt, (size_t)n, &peer, msg.msg_namelen, &local);
	}
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int prov_tftp_start(struct prov_tftp **out, struct event_base *base, struct prov_files *files,
                    const struct prov_tftp_options *opt, struct base_err *err)
{
	struct prov_tftp *srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->per_source = base_hash_new())) {
		free(srv);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	srv->base = base, srv->files = files, srv->opt = *opt, srv->fd = -1;
	socklen_t len;
	if (net_addr_parse(opt->listen, &srv->bound, &len, err) != 0)
		goto fail;
	srv->wildcard = is_wildcard(&srv->bound);
	srv->fd = socket(srv->bound.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1;
	if (srv->fd >= 0) {
		if (srv->bound.ss_family == AF_INET)
			setsockopt(srv->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		else
			setsockopt(srv->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	}
	if (srv->fd < 0 || bind(srv->fd, (struct sockaddr *)&srv->bound, len) != 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot listen on udp %s: %s", opt->listen,
		             errno == EADDRINUSE ? "address already in use" : strerror(errno));
		goto fail;
	}
	int size = 4 * 1024 * 1024;
	setsockopt(srv->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	srv->readable = event_new(base, srv->fd, EV_READ | EV_PERSIST, on_readable, srv);
	if (!srv->readable || event_add(srv->readable, NULL) != 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot watch udp %s", opt->listen);
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	prov_tftp_stop(srv);
	return -1;
}

void prov_tftp_stop(struct prov_tftp *srv)
{
	if (!srv)
		return;
	while (srv->xfers)
		xfer_end(srv->xfers, "stopped");
	while (srv->waiting) {
		struct waiting *w = srv->waiting;
		prov_files_cancel(srv->files, on_file_ready, w);
		waiting_unlink(w);
		free(w);
	}
	if (srv->readable)
		event_free(srv->readable);
	if (srv->fd >= 0)
		close(srv->fd);
	base_hash_free(srv->per_source, NULL);
	free(srv);
}
