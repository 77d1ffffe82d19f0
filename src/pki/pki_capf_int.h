/* Private to the CAPF server: one TLS connection and its session (pki_capf_server.c owns the
 * bytes, pki_capf_session.c the protocol, pki_capf_verify.c the certificate proofs). */
#ifndef UCM_PKI_CAPF_INT_H
#define UCM_PKI_CAPF_INT_H

#include "pki/pki_int.h"

#include <event2/bufferevent.h>

#include "net/net.h"

enum capf_state {
	CAPF_AUTH,    /* AUTH_REQUEST sent; waiting for AUTH_RESPONSE */
	CAPF_KEY,     /* KEY_GENERATE_REQUEST sent */
	CAPF_ISSUING, /* a worker signs the certificate; reading is paused */
	CAPF_STORE,   /* STORE_CERTIFICATE_REQUEST sent */
	CAPF_FETCH,   /* FETCH_CERTIFICATE_REQUEST sent */
	CAPF_DELETE,  /* DELETE_CERTIFICATE_REQUEST sent */
	CAPF_ENDING,  /* END_SESSION sent; closing once it is written */
};

struct pki_capf {
	struct event_base *base;
	struct pki *pki;
	struct store *store;
	struct net_work_pool *pool;
	struct pki_capf_options opt;
	SSL_CTX *tls;
	struct evconnlistener *listener;
	X509_STORE *lsc_trust; /* the system CA: LSCs this cluster issued */
	uint32_t next_session_id;
	unsigned sessions;
	struct capf_conn *conns; /* open sessions, to close them at stop */
};

struct capf_conn {
	struct pki_capf *capf; /* NULL once the server stopped while a worker signed */
	struct store *store;
	struct bufferevent *bev;
	struct capf_conn *prev, *next;
	char peer[NET_ADDR_STRLEN];
	uint32_t session_id;
	enum capf_state state;
	bool have_op;    /* op was found: outcomes are recorded on it */
	bool orphaned;   /* the connection went away while a worker signed */
	int in_progress; /* REQUEST_IN_PROGRESS messages seen */
	struct store_capf_op op;
	char device_name[129]; /* as the phone sent it: what its proofs sign */
	struct pki_capf_key_spec key_spec;
	char serial[64]; /* of the certificate issued in this session */
};

/* ---- pki_capf_server.c ---- */
/* Sends one message (a single write: phones stall on a message split across records). */
void capf_send(struct capf_conn *c, const unsigned char *msg, size_t len);
/* Sends END_SESSION with reason and closes once it is written. */
void capf_end(struct capf_conn *c, enum pki_capf_reason reason);
/* Seconds the next phone message may take; pauses reading when 0. */
void capf_expect(struct capf_conn *c, enum capf_state state, int timeout);

/* ---- pki_capf_session.c ---- */
void capf_session_begin(struct capf_conn *c);
void capf_session_message(struct capf_conn *c, const unsigned char *buf, size_t len);
/* The phone closed, timed out or broke TLS in the middle of an operation. */
void capf_session_lost(struct capf_conn *c, const char *why);

/* ---- pki_capf_verify.c ---- */
/* Checks an AUTH_RESPONSE's proof by existing certificate against the operation's mode
 * (LSC or MIC precedence). 0 when it holds; else err says why, for the status. */
int capf_verify_certificate(struct capf_conn *c, const struct pki_capf_msg *msg,
                            struct base_err *err);

#endif
