/*
 * net: sockets and TLS. Listening sockets, socket address parsing and printing, and the
 * OpenSSL contexts every TLS listener and client in ucmd uses, so that protocol choices are
 * made once, here, instead of in each service.
 */
#ifndef UCM_NET_H
#define UCM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "base/base.h"

/* ---- addresses --------------------------------------------------------------------------- */

/* Enough for "[" + IPv6 with scope id + "]:" + port + NUL. */
#define NET_ADDR_STRLEN 96

/*
 * Parses a listen address "host:port" into a socket address. Accepted hosts are numeric only,
 * so parsing never waits for DNS: "127.0.0.1:8443", "[::1]:8443", "[fe80::1%eth0]:5060",
 * "0.0.0.0:8443", and "*:8443" or ":8443" for every local address (IPv6 and IPv4; see
 * net_listen_tcp). Port 0 is allowed and means "any free port". Errors are BASE_E_INVALID:
 * `listen address "X" is not host:port` for bad syntax, a sentence naming the problem for a
 * host name or a bad port.
 */
int net_addr_parse(const char *addr_port, struct sockaddr_storage *ss, socklen_t *len,
                   struct base_err *err);

/* "127.0.0.1:5060", "[::1]:5060"; an IPv4-mapped IPv6 address prints as plain IPv4, which is
 * how a dual-stack listener sees IPv4 peers. Unknown families print as "?". */
void net_addr_format(const struct sockaddr *sa, char *out, size_t size);
/* The same without the port and brackets: "127.0.0.1", "::1". */
void net_addr_format_host(const struct sockaddr *sa, char *out, size_t size);

/* ---- listeners --------------------------------------------------------------------------- */

/*
 * Opens a non-blocking, close-on-exec TCP socket with SO_REUSEADDR, bound and listening on
 * addr_port (syntax as net_addr_parse); backlog <= 0 means SOMAXCONN. Returns the fd, or -1
 * with err set: `cannot listen on 127.0.0.1:8443: address already in use`.
 *
 * "*:port" binds one dual-stack IPv6 socket (IPv4 peers appear as ::ffff:a.b.c.d), falling
 * back to 0.0.0.0 when the kernel has no IPv6. An explicit "[::]:port" is IPv6 only, so it can
 * be configured next to "0.0.0.0:port".
 */
int net_listen_tcp(const char *addr_port, int backlog, struct base_err *err);

/* ---- TLS --------------------------------------------------------------------------------- */

/*
 * A server context: TLS 1.2 or later, ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2,
 * OpenSSL's TLS 1.3 suites, server cipher order, no compression, no renegotiation, no session
 * tickets. cert_path may hold the certificate followed by its chain. When ca_path is given,
 * a client certificate is requested but not required; one that is sent must verify against
 * ca_path or the handshake fails. The caller frees the context with SSL_CTX_free().
 */
SSL_CTX *net_tls_server_ctx_new(const char *cert_path, const char *key_path, const char *ca_path,
                                struct base_err *err);

/*
 * A client context with the same protocol rules that verifies the server against ca_path
 * (the system trust store when ca_path is NULL). cert_path and key_path are the client
 * certificate, both or neither. The context checks the chain only: call
 * net_tls_set_peer_name() on each connection to check the server's name too.
 */
SSL_CTX *net_tls_client_ctx_new(const char *ca_path, const char *cert_path, const char *key_path,
                                struct base_err *err);

/*
 * Replaces what verifies peer certificates on ctx from the next handshake on: store (which
 * ctx up-references) holds the trusted CAs and, with X509_V_FLAG_CRL_CHECK set on it, their
 * CRLs, so revoked certificates fail the handshake. Connections already up are untouched.
 * Call on the thread that runs ctx's handshakes (the loop).
 */
int net_tls_set_verify_store(SSL_CTX *ctx, X509_STORE *store, struct base_err *err);

/* Loads a new certificate (chain) and key into ctx for the connections made from now on;
 * connected peers keep the certificate they were shown. Checks the pair first, so a bad
 * pair leaves ctx as it was. */
int net_tls_reload_cert(SSL_CTX *ctx, const char *cert_path, const char *key_path,
                        struct base_err *err);

/* Makes the handshake of a client connection fail unless the server certificate is for host
 * (a DNS name or a numeric IP address); also sends host as SNI when it is a name. */
int net_tls_set_peer_name(SSL *ssl, const char *host, struct base_err *err);

/*
 * Integrity-only TLS for phones in the Authenticated device security mode, which offer
 * TLS_RSA_WITH_NULL_SHA (OpenSSL "NULL-SHA"). OpenSSL accepts NULL ciphers only at security
 * level 0, so the server context never does; instead a ClientHello callback lowers one
 * connection at a time: when the client offers NULL-SHA, the server key is RSA (the suite's
 * key exchange) and allowed(arg) says yes at that moment, that connection alone gets security
 * level 0 for its cipher choice (client certificates are still checked at the context's
 * level), TLS 1.2 at most and NULL-SHA as its only suite, and so negotiates it. A client that
 * also offers an encrypting suite the context accepts is not lowered: it gets that suite. Sessions
 * made so are never resumed by a connection that was not lowered. Every other handshake is left as
 * net_tls_server_ctx_new made it. The policy struct must outlive ctx; its owner may change it
 * at any time, and without an allowed() no connection is lowered.
 */
struct net_tls_null_sha {
	bool (*allowed)(void *arg);
	void *arg;
};
void net_tls_server_null_sha(SSL_CTX *ctx, const struct net_tls_null_sha *policy);

/* What the ClientHello of a server connection said about NULL ciphers (after the hello). */
enum net_tls_null_offer {
	NET_TLS_NULL_NOT_OFFERED, /* offered no NULL cipher, or also one that encrypts */
	NET_TLS_NULL_CHOSEN,      /* lowered to NULL-SHA as above */
	NET_TLS_NULL_ONLY_OFF,    /* offered only NULL ciphers while allowed() said no */
	NET_TLS_NULL_ONLY_OTHER,  /* only NULL ciphers, none usable (no NULL-SHA, or no RSA key) */
};
enum net_tls_null_offer net_tls_null_offer(const SSL *ssl);

/* True when the connection's cipher does not encrypt (NULL-SHA): it authenticates and
 * protects integrity, but anyone on the path reads what it carries. */
bool net_tls_is_null_cipher(const SSL *ssl);

/* For evhttp_set_bevcb on a TLS listener: a server-side OpenSSL bufferevent over a new SSL
 * of ssl_ctx (an SSL_CTX *); NULL when OpenSSL cannot make one. */
struct bufferevent;
struct event_base;
struct bufferevent *net_tls_accept_bev(struct event_base *base, void *ssl_ctx);

/* ---- worker pool ------------------------------------------------------------------------- */

/*
 * A few threads for CPU-heavy work (signing, key checks) that must not stall the event loop.
 * work(arg) runs on a worker thread; afterwards done(arg) runs on the loop thread of the
 * event_base the pool was made for, so done() may touch sockets and in-memory state. Work
 * functions must not touch the loop's state or the store: give them copies in arg.
 *
 * Every accepted job gets exactly one done() call, also when the pool is freed first (see
 * net_work_pool_free), so whoever owns arg can always free it in done().
 */
struct net_work_pool;
struct event_base;

typedef void (*net_work_fn)(void *arg);

/* threads: 1..64; queue_max: jobs waiting or running before net_work_submit refuses more
 * (BASE_E_THROTTLED), 0 for 1024. */
int net_work_pool_new(struct net_work_pool **out, struct event_base *base, unsigned threads,
                      unsigned queue_max, struct base_err *err);
/* Queues a job; call from the loop thread. BASE_E_THROTTLED when the queue is full, so a
 * burst of enrollments gets "try later" instead of unbounded memory. */
int net_work_submit(struct net_work_pool *pool, net_work_fn work, net_work_fn done, void *arg,
                    struct base_err *err);
/* Jobs queued or running, for metrics and tests. */
unsigned net_work_pending(const struct net_work_pool *pool);
/* Runs the queued jobs to the end, joins the threads, then calls the done() of every job
 * not yet reported, on the calling thread (the loop thread, at shutdown). */
void net_work_pool_free(struct net_work_pool *pool);

#endif
