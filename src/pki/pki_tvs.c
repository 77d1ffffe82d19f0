/*
 * The TVS server (tvs.md): TLS on 2445 with the tvs certificate, no client certificate. A
 * phone sends VERIFY_REQUESTs for certificates that are not in its trust list; the answer
 * is a lookup of the certificate's SHA-256 fingerprint among the certificates this system
 * presents itself (tvs.md §5: "derive the TVS database from the server's own certificate
 * inventory"), with the roles each plays. Nothing else vouches for a certificate: not its
 * issuer, not its dates.
 *
 * A request whose header is not TVS closes the connection without an answer (as tvsd does);
 * one that is TVS but unusable (no certificate, not DER) gets STATUS=1 so that phones do not
 * retry. Several requests may follow each other on one connection.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/net.h"
#include "pki/pki_int.h"

#define MAX_CONNS    1000
#define IDLE_SECONDS 10
#define MAX_MESSAGE  (10 + 0xffff)
#define MAX_KNOWN    (PKI_ROLE_COUNT + 1)

struct known_cert {
	unsigned char sha256[32];
	uint8_t roles[PKI_TVS_MAX_ROLES];
	size_t nroles;
};

struct pki_tvs {
	struct pki *pki;
	struct event_base *base;
	SSL_CTX *ctx;
	struct evconnlistener *listener;
	struct tvs_conn *conns;
	size_t nconns;
	struct known_cert known[MAX_KNOWN];
	size_t nknown;
	uint64_t loaded_stamp; /* files_stamp() when known[] was read */
};

struct tvs_conn {
	struct pki_tvs *tvs;
	struct bufferevent *bev;
	struct tvs_conn *prev, *next;
};

/* The trust-list roles of each service's certificate, in tvsd's order. */
static size_t roles_of(enum pki_role role, uint8_t out[PKI_TVS_MAX_ROLES])
{
	switch (role) {
	case PKI_ROLE_TFTP_SIGNER:
		out[0] = PKI_TL_SAST;
		out[1] = PKI_TL_TFTP;
		return 2;
	case PKI_ROLE_SIP_TLS:
		out[0] = PKI_TL_CCM;
		return 1;
	case PKI_ROLE_HTTPS: /* HTTPS provisioning on 6971 and HTTPS services */
		out[0] = PKI_TL_TFTP;
		out[1] = PKI_TL_APP_SERVER;
		return 2;
	case PKI_ROLE_CAPF:
		out[0] = PKI_TL_CAPF;
		return 1;
	case PKI_ROLE_TVS:
		out[0] = PKI_TL_TVS;
		return 1;
	default:
		return 0;
	}
}

static void known_add(struct pki_tvs *tvs, const char *path, const uint8_t *roles, size_t n)
{
	X509 *cert = NULL;
	unsigned len = 0;

	if (tvs->nknown >= MAX_KNOWN || pki_file_exists(path, NULL) != 1 ||
	    pki_cert_load(path, &cert, NULL) < 0) {
		return;
	}
	struct known_cert *k = &tvs->known[tvs->nknown];

	if (X509_digest(cert, EVP_sha256(), k->sha256, &len) == 1 && len == 32) {
		memcpy(k->roles, roles, n);
		k->nroles = n;
		tvs->nknown++;
	}
	X509_free(cert);
	ERR_clear_error();
}

/* The certificate files TVS answers from: each role's, then the previous trust-list signer
 * (it still signs lists for a while after a renewal). */
static size_t files(const struct pki_tvs *tvs, const char *paths[MAX_KNOWN],
                    enum pki_role roles[MAX_KNOWN], char sast[PATH_MAX])
{
	size_t n = 0;
	uint8_t unused[PKI_TVS_MAX_ROLES];

	for (int r = 0; r < PKI_ROLE_COUNT; r++) {
		if (roles_of((enum pki_role)r, unused)) {
			roles[n] = (enum pki_role)r;
			paths[n++] = tvs->pki->role_cert_path[r];
		}
	}
	if (snprintf(sast, PATH_MAX, "%s/trust-list-sast.crt", tvs->pki->dir) < PATH_MAX) {
		roles[n] = PKI_ROLE_COUNT; /* SAST only */
		paths[n++] = sast;
	}
	return n;
}

/* Changes whenever one of the files is written (they are replaced by rename): a stat per
 * file instead of reading and parsing them for every request. */
static uint64_t files_stamp(const struct pki_tvs *tvs)
{
	const char *paths[MAX_KNOWN];
	enum pki_role roles[MAX_KNOWN];
	char sast[PATH_MAX];
	size_t n = files(tvs, paths, roles, sast);
	uint64_t stamp = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		uint64_t v = stat(paths[i], &st) == 0
		                 ? (uint64_t)st.st_ino ^ (uint64_t)st.st_mtim.tv_sec << 20 ^
		                       (uint64_t)st.st_mtim.tv_nsec ^ (uint64_t)st.st_size << 40
		                 : 0;

		stamp = (stamp ^ v) * 1099511628211ULL;
	}
	return stamp;
}

static void known_load(struct pki_tvs *tvs)
{
	const char *paths[MAX_KNOWN];
	enum pki_role which[MAX_KNOWN];
	char sast[PATH_MAX];
	size_t n = files(tvs, paths, which, sast);
	uint8_t roles[PKI_TVS_MAX_ROLES];

	tvs->loaded_stamp = files_stamp(tvs);
	tvs->nknown = 0;
	for (size_t i = 0; i < n; i++) {
		size_t nroles = 1;

		if (which[i] == PKI_ROLE_COUNT) {
			roles[0] = PKI_TL_SAST;
		} else {
			nroles = roles_of(which[i], roles);
		}
		known_add(tvs, paths[i], roles, nroles);
	}
}

static const struct known_cert *known_find(const struct pki_tvs *tvs,
                                           const unsigned char sha256[32])
{
	for (size_t i = 0; i < tvs->nknown; i++) {
		if (memcmp(tvs->known[i].sha256, sha256, 32) == 0) {
			return &tvs->known[i];
		}
	}
	return NULL;
}

/* The answer to one request. */
static void verdict(struct pki_tvs *tvs, const struct pki_tvs_msg *req, struct pki_tvs_msg *resp)
{
	const unsigned char *p = req->cert;
	X509 *cert = req->cert ? d2i_X509(NULL, &p, (long)req->cert_len) : NULL;
	unsigned char sha256[32];
	unsigned len = 0;

	*resp = (struct pki_tvs_msg){
	    .command = PKI_TVS_VERIFY_RESPONSE, .session = req->session, .status = 1};
	if (!cert || p != req->cert + req->cert_len ||
	    X509_digest(cert, EVP_sha256(), sha256, &len) != 1) {
		base_log(BASE_LOG_INFO, "tvs", "%s: no usable certificate in the request",
		         req->device_name[0] ? req->device_name : "a device");
		X509_free(cert);
		ERR_clear_error();
		return;
	}
	X509_free(cert);
	/* Certificates are renewed and created in place: read them again when they changed. */
	if (files_stamp(tvs) != tvs->loaded_stamp) {
		known_load(tvs);
	}
	const struct known_cert *k = known_find(tvs, sha256);

	if (k) {
		resp->status = 0;
		memcpy(resp->roles, k->roles, k->nroles);
		resp->nroles = k->nroles;
		resp->ttl = PKI_TVS_TTL;
	}
	base_log(BASE_LOG_DEBUG, "tvs", "%s asked about a certificate: %s", req->device_name,
	         resp->status == 0 ? "known" : "unknown");
}

static void conn_free(struct tvs_conn *c)
{
	struct pki_tvs *tvs = c->tvs;

	if (c->prev) {
		c->prev->next = c->next;
	} else {
		tvs->conns = c->next;
	}
	if (c->next) {
		c->next->prev = c->prev;
	}
	tvs->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct tvs_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		size_t avail = evbuffer_get_length(in);
		unsigned char *data =
		    evbuffer_pullup(in, (ssize_t)(avail < MAX_MESSAGE ? avail : MAX_MESSAGE));
		struct pki_tvs_msg req, resp;
		struct base_err err = {0};
		long used = avail ? pki_tvs_decode(data, avail, &req, &err) : 0;

		if (used == 0) {
			return;
		}
		if (used < 0 || req.command != PKI_TVS_VERIFY_REQUEST) {
			base_log(BASE_LOG_INFO, "tvs", "dropped a connection: %s",
			         used < 0 ? err.message : "not a VERIFY_REQUEST");
			conn_free(c);
			return;
		}
		unsigned char *out = NULL;
		size_t out_len = 0;

		verdict(c->tvs, &req, &resp);
		evbuffer_drain(in, (size_t)used);
		if (pki_tvs_encode(&resp, &out, &out_len, &err) < 0 ||
		    bufferevent_write(bev, out, out_len) != 0) {
			free(out);
			conn_free(c);
			return;
		}
		free(out);
	}
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	(void)bev;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		conn_free(arg);
	}
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	(void)listener, (void)sa, (void)salen;
	struct pki_tvs *tvs = arg;
	struct tvs_conn *c = NULL;
	SSL *ssl = NULL;

	if (tvs->nconns >= MAX_CONNS || !(c = calloc(1, sizeof(*c))) ||
	    !(ssl = SSL_new(tvs->ctx)) ||
	    !(c->bev = bufferevent_openssl_socket_new(tvs->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                              BEV_OPT_CLOSE_ON_FREE))) {
		/* Over the limit: closed silently, as tvsd does. */
		if (c && !c->bev) {
			SSL_free(ssl);
		}
		free(c);
		close(fd);
		return;
	}
	struct timeval idle = {IDLE_SECONDS, 0};

	c->tvs = tvs;
	c->next = tvs->conns;
	if (c->next) {
		c->next->prev = c;
	}
	tvs->conns = c;
	tvs->nconns++;
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setwatermark(c->bev, EV_READ, 0, MAX_MESSAGE);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int pki_tvs_start(struct pki_tvs **out, struct event_base *base, struct pki *pki,
                  const char *listen, struct base_err *err)
{
	struct pki_tvs *tvs;
	int fd;

	*out = NULL;
	if (!listen || !listen[0]) {
		return 0;
	}
	if (pki_role_ensure(pki, PKI_ROLE_TVS, err) < 0) {
		return -1;
	}
	if (!(tvs = calloc(1, sizeof(*tvs)))) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	tvs->pki = pki;
	tvs->base = base;
	tvs->ctx = net_tls_server_ctx_new(pki->role_cert_path[PKI_ROLE_TVS],
	                                  pki->role_key_path[PKI_ROLE_TVS], NULL, err);
	/* A renewed tvs certificate is presented from the next handshake on. */
	if (!tvs->ctx || pki_tls_role_attach(pki, tvs->ctx, PKI_ROLE_TVS, err) < 0) {
		SSL_CTX_free(tvs->ctx);
		tvs->ctx = NULL;
		pki_tvs_stop(tvs);
		return -1;
	}
	if ((fd = net_listen_tcp(listen, 128, err)) < 0) {
		pki_tvs_stop(tvs);
		return -1;
	}
	tvs->listener = evconnlistener_new(base, on_accept, tvs, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!tvs->listener) {
		close(fd);
		pki_tvs_stop(tvs);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "tvs: cannot listen on %s", listen);
	}
	known_load(tvs);
	base_log(BASE_LOG_INFO, "tvs", "listening on %s (TLS)", listen);
	*out = tvs;
	return 0;
}

void pki_tvs_stop(struct pki_tvs *tvs)
{
	if (!tvs) {
		return;
	}
	while (tvs->conns) {
		conn_free(tvs->conns);
	}
	if (tvs->listener) {
		evconnlistener_free(tvs->listener);
	}
	if (tvs->ctx) {
		pki_tls_role_detach(tvs->pki, tvs->ctx);
		SSL_CTX_free(tvs->ctx);
	}
	free(tvs);
}
