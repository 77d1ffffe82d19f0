/*
 * The CAPF listener and its connections: TLS from the first byte (specs/capf.md §1), one
 * session per connection, messages framed by their 8-byte header. The server speaks first
 * (AUTH_REQUEST) and then only ever has one request outstanding, so a connection reads at
 * most one message at a time; each read has a deadline so a silent phone cannot hold a
 * session open.
 */
#include "pki/pki_capf_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>

#define DEFAULT_MAX_SESSIONS 256
#define DEFAULT_READ_TIMEOUT 30
#define DEFAULT_KEY_TIMEOUT  120

static void conn_free(struct capf_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->capf) {
		if (c->prev)
			c->prev->next = c->next;
		else
			c->capf->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->capf->sessions--;
	}
	/* A worker still signs for this session: its done callback frees it. */
	if (c->state == CAPF_ISSUING) {
		c->orphaned = true;
		c->capf = NULL;
		return;
	}
	free(c);
}

static void on_event(struct bufferevent *bev, short events, void *arg);

static void on_drained(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct capf_conn *c = arg;
	if (c->state == CAPF_ENDING)
		conn_free(c);
}

void capf_send(struct capf_conn *c, const unsigned char *msg, size_t len)
{
	/* One add to an empty output buffer is one chain, which bufferevent_openssl hands to
	 * one SSL_write: one TLS record for any message up to 16 KiB. */
	bufferevent_write(c->bev, msg, len);
}

void capf_end(struct capf_conn *c, enum pki_capf_reason reason)
{
	unsigned char buf[16];
	struct pki_capf_writer w;
	pki_capf_begin(&w, buf, sizeof(buf), PKI_CAPF_END_SESSION, c->session_id);
	pki_capf_put_u8(&w, PKI_CAPF_T_REASON, reason);
	long n = pki_capf_end(&w, NULL);
	c->state = CAPF_ENDING;
	bufferevent_disable(c->bev, EV_READ);
	struct timeval t = {DEFAULT_READ_TIMEOUT, 0};
	bufferevent_set_timeouts(c->bev, NULL, &t);
	bufferevent_setcb(c->bev, NULL, on_drained, on_event, c);
	capf_send(c, buf, (size_t)n);
}

void capf_expect(struct capf_conn *c, enum capf_state state, int timeout)
{
	c->state = state;
	if (!timeout) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	struct timeval t = {timeout, 0};
	bufferevent_set_timeouts(c->bev, &t, NULL);
	bufferevent_enable(c->bev, EV_READ);
}

/* One complete message, or 0 when more bytes are needed; -1 when the header is not CAPF. */
static int take_message(struct evbuffer *in, unsigned char **msg, size_t *len)
{
	unsigned char head[PKI_CAPF_HEADER_LEN];
	size_t avail = evbuffer_get_length(in), total = 0;
	ev_ssize_t n = evbuffer_copyout(in, head, avail < sizeof(head) ? avail : sizeof(head));
	int rc = pki_capf_frame(head, n > 0 ? (size_t)n : 0, &total, NULL);
	if (rc < 0)
		total = (size_t)n; /* handed over as is: the session reports the bad header */
	else if (rc > 0 || avail < total)
		return 0;
	if (!(*msg = malloc(total)))
		return -1;
	evbuffer_remove(in, *msg, total);
	*len = total;
	return 1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct capf_conn *c = arg;
	/* The phone may send REQUEST_IN_PROGRESS and its key in one burst: take every complete
	 * message while the session still reads (it stops while signing and once ending). */
	while (bufferevent_get_enabled(bev) & EV_READ) {
		unsigned char *msg;
		size_t len;
		int rc = take_message(bufferevent_get_input(bev), &msg, &len);
		if (rc == 0)
			return;
		if (rc < 0) {
			capf_session_lost(c, "out of memory");
			conn_free(c);
			return;
		}
		capf_session_message(c, msg, len);
		free(msg);
	}
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	struct capf_conn *c = arg;
	if (events & BEV_EVENT_CONNECTED)
		return;
	const char *why = events & BEV_EVENT_TIMEOUT ? "timed out"
	                  : events & BEV_EVENT_EOF   ? "the phone closed the connection"
	                                             : NULL;
	char reason[160];
	if (!why) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		snprintf(reason, sizeof(reason), "connection failed: %s",
		         e ? ERR_reason_error_string(e) : "network error");
		why = reason;
	}
	if (c->state != CAPF_ENDING)
		capf_session_lost(c, why);
	conn_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
	(void)l;
	(void)salen;
	struct pki_capf *capf = arg;
	char peer[NET_ADDR_STRLEN];
	net_addr_format(sa, peer, sizeof(peer));
	/* Over the limit the connection is closed without a word (specs/capf.md §1): the
	 * phone retries later, as after any network failure. */
	if (capf->sessions >= capf->opt.max_sessions) {
		base_log(BASE_LOG_WARN, "capf", "refused a connection from %s: %u sessions open",
		         peer, capf->sessions);
		close(fd);
		return;
	}
	struct capf_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = c ? SSL_new(capf->tls) : NULL;
	/* Deferred callbacks: a write that completes at once must not free the session in the
	 * middle of the code that wrote it. */
	/* Deferred callbacks: a write that completes at once must not free the session in the
	 * middle of the code that wrote it. */
	if (ssl)
		c->bev =
		    bufferevent_openssl_socket_new(capf->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c || !c->bev) {
		if (c && !c->bev)
			SSL_free(ssl);
		free(c);
		close(fd);
		return;
	}
	c->capf = capf;
	c->store = capf->store;
	base_strlcpy(c->peer, peer, sizeof(c->peer));
	/* Session IDs count connections from 1, like the reference server and CUCM. */
	c->session_id = ++capf->next_session_id;
	if (!c->session_id)
		c->session_id = ++capf->next_session_id;
	c->next = capf->conns;
	if (c->next)
		c->next->prev = c;
	capf->conns = c;
	capf->sessions++;
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * PKI_CAPF_MAX_MSG);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
	capf_session_begin(c);
}

int pki_capf_start(struct pki_capf **out, struct event_base *base, struct pki *pki,
                   struct store *store, struct net_work_pool *pool,
                   const struct pki_capf_options *opt, struct base_err *err)
{
	struct pki_capf *capf = calloc(1, sizeof(*capf));
	if (!capf)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	*capf =
	    (struct pki_capf){.base = base, .pki = pki, .store = store, .pool = pool, .opt = *opt};
	if (!capf->opt.max_sessions)
		capf->opt.max_sessions = DEFAULT_MAX_SESSIONS;
	if (capf->opt.read_timeout <= 0)
		capf->opt.read_timeout = DEFAULT_READ_TIMEOUT;
	if (capf->opt.key_timeout <= 0)
		capf->opt.key_timeout = DEFAULT_KEY_TIMEOUT;
	int fd = -1;
	/* No client certificate is asked for: the phone proves who it is inside CAPF. */
	if (pki_role_ensure(pki, PKI_ROLE_CAPF, err) != 0 ||
	    !(capf->tls = net_tls_server_ctx_new(pki_role_cert_path(pki, PKI_ROLE_CAPF),
	                                         pki_role_key_path(pki, PKI_ROLE_CAPF), NULL, err)))
		goto fail;
	/* A renewed CAPF certificate serves the next handshake; phones connected keep theirs. */
	if (pki_tls_role_attach(pki, capf->tls, PKI_ROLE_CAPF, err) != 0) {
		SSL_CTX_free(capf->tls);
		capf->tls = NULL;
		goto fail;
	}
	capf->lsc_trust = X509_STORE_new();
	if (!capf->lsc_trust || X509_STORE_add_cert(capf->lsc_trust, pki_ca_cert(pki)) != 1) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot build the LSC trust store");
		goto fail;
	}
	if ((fd = net_listen_tcp(opt->listen, 0, err)) < 0)
		goto fail;
	capf->listener = evconnlistener_new(base, on_accept, capf, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!capf->listener) {
		close(fd);
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot accept on %s", opt->listen);
		goto fail;
	}
	base_log(BASE_LOG_INFO, "capf", "listening on %s (TLS)", opt->listen);
	*out = capf;
	return 0;
fail:
	pki_capf_stop(capf);
	return -1;
}

void pki_capf_stop(struct pki_capf *capf)
{
	if (!capf)
		return;
	if (capf->listener)
		evconnlistener_free(capf->listener);
	while (capf->conns)
		conn_free(capf->conns);
	X509_STORE_free(capf->lsc_trust);
	if (capf->tls)
		pki_tls_role_detach(capf->pki, capf->tls);
	SSL_CTX_free(capf->tls);
	free(capf);
}
