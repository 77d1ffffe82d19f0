/*
 * The phone's one link to its server, whatever the transport, so the user agent above never
 * asks which it is.
 *
 * Over UDP the SIP stack of the sip layer does the work: it listens on the phone's address,
 * runs client and server transactions and their retransmissions. The stack's TCP and TLS
 * transports only accept connections, and a phone must connect out (it is the phone's own
 * connection that the registrar keeps as the flow to reach it), so for TCP and TLS the link
 * runs a client connection of its own (phone_stream.c) with the little transaction
 * handling a reliable transport needs.
 */
#ifndef UCM_PHONE_LINK_H
#define UCM_PHONE_LINK_H

#include "phone.h"

struct event_base;
struct phone_link;
struct phone_incoming;

/* Each response to a request: provisional ones, then one final (a 408 or 503 made up
 * locally when the server does not answer or cannot be reached). */
typedef void (*phone_response_fn)(void *arg, const struct sip_msg *resp);

struct phone_link_handlers {
	/* A new request from the server, answered with phone_incoming_reply. */
	void (*request)(void *arg, struct phone_incoming *in);
	/* An ACK for a 2xx we sent. */
	void (*ack)(void *arg, const struct sip_msg *ack);
	/* A 2xx to an INVITE whose transaction already had its final response: our ACK was
	 * lost and must be sent again (RFC 3261 §13.2.2.4). */
	void (*late_2xx)(void *arg, const struct sip_msg *resp);
	/* The connection to the server closed (TCP and TLS). */
	void (*closed)(void *arg, const char *why);
	void *arg;
};

int phone_link_open(struct phone_link **out, struct event_base *base, const struct phone_opts *o,
                    const struct phone_link_handlers *h, struct base_err *err);
void phone_link_close(struct phone_link *l);
enum sip_transport_kind phone_link_kind(const struct phone_link *l);
/* Our address and port as the server sees them, for Via and Contact. */
void phone_link_local(struct phone_link *l, char *host, size_t size, uint16_t *port);
/* Sends a request in a transaction; its top Via must carry branch. Takes the buffer. */
int phone_link_request(struct phone_link *l, const char *branch, struct sip_buf *req,
                       phone_response_fn fn, void *arg);
/* Sends bytes outside any transaction: the ACK of a 2xx. */
int phone_link_send(struct phone_link *l, const char *data, size_t len);

const struct sip_msg *phone_incoming_msg(const struct phone_incoming *in);
/* The To tag of our responses: the local tag of the dialog a request creates. */
const char *phone_incoming_to_tag(const struct phone_incoming *in);
/* Answers; `headers` are complete lines (may be NULL). A final response releases `in`. A 2xx
 * to an INVITE over UDP is resent until its ACK comes (§13.3.1.4). */
int phone_incoming_reply(struct phone_incoming *in, uint16_t status, const char *headers,
                         const char *content_type, const char *body, size_t body_len);

/* ---- the TCP and TLS client connection (phone_stream.c) ---- */

struct phone_stream;

struct phone_stream_handlers {
	void (*request)(void *arg, struct sip_msg *msg); /* the callee owns msg */
	void (*late_2xx)(void *arg, const struct sip_msg *resp);
	void (*connected)(void *arg, const char *what); /* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
	void (*closed)(void *arg, const char *why);
	void *arg;
};

int phone_stream_open(struct phone_stream **out, struct event_base *base,
                      const struct phone_opts *o, const struct phone_stream_handlers *h,
                      struct base_err *err);
void phone_stream_close(struct phone_stream *s);
void phone_stream_local(struct phone_stream *s, char *host, size_t size, uint16_t *port);
int phone_stream_request(struct phone_stream *s, const char *branch, struct sip_buf *req,
                         phone_response_fn fn, void *arg);
int phone_stream_send(struct phone_stream *s, const char *data, size_t len);

#endif
