/*
 * sip: the SIP protocol as the rest of the system sees it (RFC 3261 and friends).
 *
 * Messages are parsed in place: a struct sip_msg owns one buffer holding the bytes as they
 * arrived, and every field is a `struct sip_pl` (pointer + length) into it. Nothing is copied
 * or allocated per header on the hot path, and the original bytes (unknown headers, their
 * parameters and spelling) survive untouched for proxying and logging.
 */
#ifndef UCM_SIP_H
#define UCM_SIP_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/ssl.h>

/* ---- pointer-length strings ---------------------------------------------------------------- */

struct sip_pl {
	const char *p;
	size_t l;
};

#define SIP_PL(s)   ((struct sip_pl){(s), sizeof(s) - 1})
#define SIP_PL_NULL ((struct sip_pl){NULL, 0})

/* ASCII case-insensitive. Two bytes that differ match only when they differ in the case bit
 * alone and are letters; most compared bytes are equal and cost one test. */
static inline bool sip_mem_eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x != y && ((x ^ y) != 0x20 || (unsigned char)((x | 0x20) - 'a') > 'z' - 'a'))
			return false;
	}
	return true;
}

/* Inline so that, with the usual literal s, its length is known when compiling and a pl of
 * another length is told apart without a call: the parser compares names this way dozens of
 * times per message. */
static inline bool sip_pl_eq(struct sip_pl a, const char *s) /* exact */
{
	size_t n = strlen(s);
	return a.l == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

static inline bool sip_pl_eq_nocase(struct sip_pl a, const char *s) /* ASCII case-insensitive */
{
	size_t n = strlen(s);
	return a.l == n && sip_mem_eq_nocase(a.p, s, n);
}

bool sip_pl_eq_pl_nocase(struct sip_pl a, struct sip_pl b);
/* Parses a decimal unsigned number that fills the whole pl; -1 on anything else or overflow
 * past max. */
int sip_pl_u32(struct sip_pl pl, uint32_t max, uint32_t *out);
/* Copies into a NUL-terminated buffer, truncating; returns out. */
char *sip_pl_strcpy(struct sip_pl pl, char *out, size_t size);

/* ---- URIs (RFC 3261 §19.1) ------------------------------------------------------------------- */

struct sip_uri {
	struct sip_pl scheme; /* "sip", "sips", "tel" (others kept but not interpreted) */
	struct sip_pl user;   /* may be empty */
	struct sip_pl password;
	struct sip_pl host;    /* an IPv6 reference keeps its brackets */
	uint16_t port;         /* 0: not given */
	struct sip_pl params;  /* ";transport=tls;lr" without the first ';', raw */
	struct sip_pl headers; /* "?subject=x" without '?', raw */
};

int sip_uri_parse(struct sip_pl text, struct sip_uri *uri);
/* "host:port", an IPv6 host in brackets (RFC 3261 §25.1 IPv6reference). */
void sip_hostport_format(const char *host, uint16_t port, char *out, size_t size);
/* Finds a URI or header parameter by name in a raw ";a=b;c" list; value is empty for a bare
 * flag, and a quoted value keeps its quotes. Returns true when present. */
bool sip_param_get(struct sip_pl params, const char *name, struct sip_pl *value);

/* ---- headers --------------------------------------------------------------------------------- */

/* Headers the core reads, recognised by their full and compact names. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,     /* v */
	SIP_HDR_FROM,    /* f */
	SIP_HDR_TO,      /* t */
	SIP_HDR_CALL_ID, /* i */
	SIP_HDR_CSEQ,
	SIP_HDR_CONTACT, /* m */
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH, /* l */
	SIP_HDR_CONTENT_TYPE,   /* c */
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_SUPPORTED, /* k */
	SIP_HDR_ALLOW,
	SIP_HDR_USER_AGENT,
	SIP_HDR_EVENT,       /* o */
	SIP_HDR_REFER_TO,    /* r */
	SIP_HDR_REFERRED_BY, /* b */
	SIP_HDR_REPLACES,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_CONTENT_ENCODING, /* e */
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_COUNT
};

/* One header field value. A header line with several comma-separated values (Via, Contact,
 * Route, ...) yields one sip_hdr per value, in order; `name` is as written. Line folding is
 * undone in place (each CRLF + whitespace becomes spaces) so values are contiguous. */
struct sip_hdr {
	enum sip_hdr_id id;
	struct sip_pl name;
	struct sip_pl value; /* trimmed */
};

/* name-addr / addr-spec with parameters: From, To, Contact, Route, Record-Route, Refer-To. */
struct sip_addr {
	struct sip_pl display; /* without quotes; escapes left as written */
	struct sip_pl uri_text;
	struct sip_uri uri;
	struct sip_pl params; /* header parameters after the address, raw, without first ';' */
	struct sip_pl tag;    /* the tag parameter's value (From, To); p is NULL without one */
	bool wildcard;        /* Contact: * */
};

int sip_addr_parse(struct sip_pl value, struct sip_addr *addr);

struct sip_via {
	struct sip_pl transport; /* "UDP", "TCP", "TLS", "WS"... */
	struct sip_pl host;
	uint16_t port; /* 0: not given */
	struct sip_pl params;
	struct sip_pl branch;
	struct sip_pl received;
	bool has_rport;
	struct sip_pl rport; /* empty when present without value */
};

int sip_via_parse(struct sip_pl value, struct sip_via *via);

struct sip_cseq {
	uint32_t number;
	struct sip_pl method;
};

/* ---- messages -------------------------------------------------------------------------------- */

#define SIP_MAX_HEADERS 128
/* Largest header section (start line to blank line) sip_msg_parse accepts; over it, or over
 * SIP_MAX_HEADERS values, the error status is 513 Message Too Large. */
#define SIP_MAX_HEADER_BYTES 16384

struct sip_msg {
	char *buf; /* owned; parsed in place */
	size_t len;

	bool is_request;
	struct sip_pl method; /* requests */
	struct sip_pl ruri_text;
	struct sip_uri ruri;
	uint16_t status; /* responses */
	struct sip_pl reason;
	struct sip_pl version; /* "SIP/2.0" */

	struct sip_hdr hdrs[SIP_MAX_HEADERS];
	size_t nhdrs;

	/* Filled by sip_msg_parse for the headers every layer needs. */
	struct sip_via via; /* the top Via */
	struct sip_addr from, to;
	struct sip_addr contact; /* the first Contact value; all zero without one */
	struct sip_pl from_tag, to_tag;
	struct sip_pl call_id;
	struct sip_cseq cseq;
	int max_forwards; /* -1: absent */
	long expires;     /* -1: absent */
	struct sip_pl content_type;

	struct sip_pl body;
};

/* Why a message was refused, for the 400 reason phrase and the log. */
struct sip_parse_error {
	uint16_t status; /* the response to send when it was a request: 400, 413, 505, 416... */
	char reason[96];
};

/* Parses len bytes at buf, which the message takes ownership of (free with sip_msg_free).
 * `datagram`: the whole buffer is one message (UDP); Content-Length may then be absent and a
 * body shorter than it is an error; on a stream it is mandatory.
 * Returns 0, or -1 with err filled. Messages of RFC 4475 §3.1.1 parse; those of §3.1.2 fail
 * (or parse where RFC 4475 says a tolerant parser may accept them). The message owns buf in
 * both cases, so sip_msg_free it either way; after a failure the fields parsed so far (Via,
 * From, To, Call-ID, CSeq) stay usable for sending the error response. */
int sip_msg_parse(struct sip_msg *msg, char *buf, size_t len, bool datagram,
                  struct sip_parse_error *err);
void sip_msg_free(struct sip_msg *msg);

/* On a stream: how many bytes form the first complete message in data (headers up to the
 * blank line plus Content-Length), 0 if more bytes are needed, -1 if the bytes cannot be a
 * message (no Content-Length, header section over max_header bytes, length over max_body).
 * Leading CRLFs (keep-alives, RFC 5626) are reported through *keepalive_bytes so the caller
 * can skip and answer them; the message length returned counts from data + *keepalive_bytes. */
long sip_msg_frame(const char *data, size_t len, size_t max_header, size_t max_body,
                   size_t *keepalive_bytes);

/* The first header with this id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id);
/* The next header with the same id after `prev`, or NULL. */
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg, const struct sip_hdr *prev);
/* A header by name (full or compact, case-insensitive), for those without an id. */
const struct sip_hdr *sip_msg_hdr_named(const struct sip_msg *msg, const char *name);
/* Whether the Supported header lists the option tag, alone or with the "-<version>" that Cisco
 * puts on some of its own ("X-cisco-sis-7.0.0"). */
bool sip_msg_supports(const struct sip_msg *msg, const char *tag);

/* ---- building messages ----------------------------------------------------------------------- */

/* A growable output buffer for building messages. */
struct sip_buf {
	char *data;
	size_t len, cap;
	bool failed; /* out of memory or over the limit: the message must not be sent */
};

void sip_buf_init(struct sip_buf *b);
void sip_buf_free(struct sip_buf *b);
/* Appends with growth, for when sip_buf_add's room does not suffice. */
void sip_buf_add_growing(struct sip_buf *b, const char *s, size_t n);
/* Inline so that a response's forty-odd small appends, most of known length, cost a copy
 * each and no call. */
static inline void sip_buf_add(struct sip_buf *b, const char *s, size_t n)
{
	if (n < b->cap - b->len && !b->failed) { /* room for the bytes and the NUL */
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	sip_buf_add_growing(b, s, n);
}
void sip_buf_addpl(struct sip_buf *b, struct sip_pl pl);
void sip_buf_adds(struct sip_buf *b, const char *s);
/* Decimal digits of v: the hot paths' numbers without a format string to interpret. */
void sip_buf_add_uint(struct sip_buf *b, unsigned long long v);
void sip_buf_printf(struct sip_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts a response to `req`: status line, the request's Via headers (all of them, in order,
 * with `received` and `rport` filled from src_host/src_port when given per RFC 3261 §18.2.1
 * and RFC 3581), From, To (with to_tag added when the request's To has none and to_tag is
 * not NULL), Call-ID and CSeq. The caller adds its headers and then sip_buf_end_headers. */
void sip_msg_response_start(struct sip_buf *b, const struct sip_msg *req, uint16_t status,
                            const char *reason, const char *to_tag, const char *src_host,
                            uint16_t src_port);
/* The ACK of a non-2xx final response (RFC 3261 §17.1.1.3) or the CANCEL (§9.1) of an
 * INVITE: the INVITE's Request-URI, top Via, From, Call-ID and CSeq number with `method`; the To
 * of `resp` for an ACK, the INVITE's for a CANCEL (resp NULL). -1 when a field is missing. */
int sip_msg_ack_or_cancel(struct sip_buf *b, const char *method, const struct sip_msg *invite,
                          const struct sip_msg *resp);
/* Adds Content-Length (and the body, if any) and the blank line. */
void sip_buf_end_headers(struct sip_buf *b, const char *body, size_t body_len);

/* The standard reason phrase of a status code ("Not Found"), or "Unknown". */
const char *sip_reason_phrase(uint16_t status);

/* ---- transports: UDP, TCP, TLS -----------------------------------------------------------------
 */

enum sip_transport_kind { SIP_TP_UDP, SIP_TP_TCP, SIP_TP_TLS };

/* Where a message came from, and so how to answer it: for TCP and TLS the connection it
 * arrived on (RFC 5626 flow), which is also how requests reach a phone behind NAT. */
struct sip_source {
	enum sip_transport_kind kind;
	char host[64]; /* numeric address */
	uint16_t port;
	uint64_t conn_id;   /* 0 for UDP */
	char tls_peer[128]; /* CN of the verified client certificate; empty without one */
	/* TLS that does not encrypt (NULL-SHA, Authenticated mode only): no secrets over it */
	bool tls_null_cipher;
};

const char *sip_transport_name(enum sip_transport_kind kind); /* "UDP", "TCP", "TLS" */

struct sip_transport;
struct event_base;

/* A parsed message arriving; the callee takes ownership of msg (sip_msg_free). */
typedef void (*sip_recv_fn)(void *arg, struct sip_msg *msg, const struct sip_source *src);

struct sip_transport_options {
	const char *udp_listen; /* "127.0.0.1:5060"; NULL or "" for none */
	const char *tcp_listen;
	const char *tls_listen;
	const char *tls_cert, *tls_key; /* the SIP TLS server certificate */
	const char *tls_ca;             /* CA that issued device certificates */
	size_t max_message;             /* bytes; larger messages are refused */
	int max_conns_per_source;       /* TCP/TLS connections from one address */
	int idle_timeout;               /* seconds without traffic before a connection closes */
};

int sip_transport_start(struct sip_transport **out, struct event_base *base,
                        const struct sip_transport_options *opt, sip_recv_fn fn, void *arg,
                        struct base_err *err);
void sip_transport_stop(struct sip_transport *tp);
/* A TCP or TLS connection closed: what was reachable only through it no longer is. */
typedef void (*sip_closed_fn)(void *arg, const struct sip_source *flow);
void sip_transport_set_close_handler(struct sip_transport *tp, sip_closed_fn fn, void *arg);
/* Whether the TLS listener may lower a connection that offers NULL-SHA to it (service parameter
 * sip_tls_null_sha; see net_tls_server_null_sha): asked at each such ClientHello, so a change
 * applies to the next handshake. Without a policy it may not. */
void sip_transport_set_null_sha_policy(struct sip_transport *tp, bool (*allowed)(void *arg),
                                       void *arg);
/* The address and listening port of this transport as seen from dst (for Via and Contact). */
void sip_transport_local(struct sip_transport *tp, const struct sip_source *dst, char *host,
                         size_t size, uint16_t *port);
/* The TLS server context of the listener (NULL without TLS), for reloading its certificate
 * and the CRL that checks phones' certificates while it runs. */
SSL_CTX *sip_transport_tls_ctx(struct sip_transport *tp);
/* Sends to where `dst` says: over its connection for TCP/TLS (-1 when it has closed), or as
 * a datagram. */
int sip_transport_send(struct sip_transport *tp, const struct sip_source *dst, const char *data,
                       size_t len);

/* ---- the stack: transports, server transactions, dispatch (RFC 3261 §17.2) ------------------ */

struct sip_stack;
struct sip_server_tx;

/* A new request, in its server transaction. Retransmissions and ACKs to non-2xx responses
 * are absorbed by the transaction layer and never reach this function. */
typedef void (*sip_request_fn)(void *arg, struct sip_server_tx *tx);

int sip_stack_start(struct sip_stack **out, struct event_base *base,
                    const struct sip_transport_options *opt, sip_request_fn on_request, void *arg,
                    struct base_err *err);
void sip_stack_stop(struct sip_stack *stack);
struct sip_transport *sip_stack_transport(struct sip_stack *stack);
/* Where ACKs for 2xx responses go: they belong to a dialog, not to a transaction. */
typedef void (*sip_ack_fn)(void *arg, const struct sip_msg *ack, const struct sip_source *src);
void sip_stack_set_ack_handler(struct sip_stack *stack, sip_ack_fn fn, void *arg);

const struct sip_msg *sip_server_tx_request(const struct sip_server_tx *tx);
const struct sip_source *sip_server_tx_source(const struct sip_server_tx *tx);
/* The To tag this transaction puts in its responses (the local tag of a new dialog). */
const char *sip_server_tx_to_tag(const struct sip_server_tx *tx);
/* The bytes of the response just sent, valid until control returns to the event loop: a
 * dialog keeps a copy of its 2xx to resend until the ACK comes. */
const char *sip_server_tx_last_response(const struct sip_server_tx *tx, size_t *len);
/* Answers the request. `headers` are extra header lines, each ending in CRLF (may be NULL).
 * After a final response the transaction is the layer's: it answers retransmissions with the
 * same bytes and goes away on its own timers; the caller must not use tx again. */
int sip_server_tx_reply(struct sip_server_tx *tx, uint16_t status, const char *reason,
                        const char *headers, const char *content_type, const char *body,
                        size_t body_len);
/* Answers a non-INVITE request with a final response and forgets it at once (an INVITE is
 * answered as by sip_server_tx_reply), as a stateless
 * UAS does (RFC 3261 §8.2.7, typically to challenge): a retransmission of the request is
 * handled again as a new one. It keeps nothing for the 32 s of Timer J. */
int sip_server_tx_reply_stateless(struct sip_server_tx *tx, uint16_t status, const char *headers);

/* ---- client transactions (RFC 3261 §17.1)
 * -------------------------------------------------------- */

struct sip_client_tx;

/* Each response to a request we sent: provisional ones, then one final. When no final
 * response comes in time, or the request cannot be sent, a 408 or 503 made up locally is
 * delivered instead (resp->buf then holds only that status line). After a final response
 * the transaction is gone: do not use it again. */
typedef void (*sip_response_fn)(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp);

/* A fresh branch parameter (with the RFC 3261 magic cookie); out needs 40 bytes. */
void sip_branch_new(char out[40]);
/* Unguessable bytes for tags, branches, Call-IDs and nonces (OpenSSL's generator, drawn a
 * pool at a time); sip_random_hex() writes 2 * bytes hex digits and a NUL. */
void sip_random(void *out, size_t len);
void sip_random_hex(char *out, size_t bytes);
/* The address and port this stack puts in Via and Contact when it talks to dst. */
void sip_stack_local(struct sip_stack *stack, const struct sip_source *dst, char *host, size_t size,
                     uint16_t *port);

/* Sends a request and runs its transaction: retransmissions over UDP (Timers A and E),
 * timeouts (B and F), the ACK of a non-2xx final response to an INVITE. `request` holds the
 * complete message; its top Via must carry `branch`. The stack takes the buffer. */
struct sip_client_tx *sip_client_tx_send(struct sip_stack *stack, const struct sip_source *dst,
                                         const char *branch, struct sip_buf *request,
                                         sip_response_fn fn, void *arg);
/* Cancels a pending INVITE (RFC 3261 §9.1): sends CANCEL once a provisional response came,
 * or as soon as one does. The INVITE then ends with its final response (487 normally). */
void sip_client_tx_cancel(struct sip_client_tx *tx);
/* Stops reporting to the caller, which is going away; the transaction finishes on its own.
 * An INVITE whose 2xx the caller never got ends the dialog that 2xx makes (ACK, BYE); one it
 * already got finishes quietly. */
void sip_client_tx_detach(struct sip_client_tx *tx);
/* The same for the transaction of the request sent with this Via branch and method, if it
 * still exists (the caller's pointer may have outlived it). */
void sip_client_tx_detach_branch(struct sip_stack *stack, const char *branch, const char *method);
/* Sends a message outside any transaction (an ACK for a 2xx, a 2xx retransmission). */
int sip_stack_send(struct sip_stack *stack, const struct sip_source *dst, const char *data,
                   size_t len);

/* ---- registrar and location service ------------------------------------------------------------
 */

struct store;
struct sip_registrar;

/* A contact registered for a directory number, and how to reach it. The location service keeps
 * it packed (struct location_binding): a new field must be added there too. */
struct sip_binding {
	char aor[64];
	char contact[512];
	char device[64];
	char instance[128];
	char user_agent[128];
	char call_id[128];
	uint32_t cseq;
	struct sip_source flow; /* where the REGISTER came from: requests go back the same way */
	int64_t expires_at;
	int64_t registered_at;
};

#define SIP_MIN_EXPIRES 60 /* shorter registrations get 423 Interval Too Brief */

/* Loads the bindings that survived a restart from the store. */
int sip_registrar_start(struct sip_registrar **out, struct event_base *base, struct store *store,
                        struct sip_stack *stack, struct base_err *err);
void sip_registrar_stop(struct sip_registrar *reg);
/* Handles a REGISTER request and answers it. */
void sip_registrar_handle(struct sip_registrar *reg, struct sip_server_tx *tx);
/* The live bindings of a directory number; returns how many (at most max were copied). */
size_t sip_registrar_lookup(struct sip_registrar *reg, const char *aor, struct sip_binding *out,
                            size_t max);
size_t sip_registrar_count(const struct sip_registrar *reg);
/* Authenticates a new request (an INVITE) from the device of binding b when its phone security
 * profile asks for digest. 0: it may proceed. -1: it has been answered (401 with a challenge,
 * or 403) and must be left alone. */
int sip_registrar_authorize(struct sip_registrar *reg, struct sip_server_tx *tx,
                            const struct sip_binding *b);
/* The binding of `aor` that `src` registered from (same connection, or same UDP address):
 * how call control knows which device sent a request. */
bool sip_registrar_binding_of(struct sip_registrar *reg, const char *aor,
                              const struct sip_source *src, struct sip_binding *out);

/* ---- unsolicited NOTIFY (sip_notify.c) -------------------------------------------------------
 */

/* Sends a NOTIFY with `event` (and a body, if any) outside any dialog to the contact of a
 * binding, over the flow it registered on, and runs its client transaction. NULL when it
 * could not be sent. */
struct sip_client_tx *sip_notify_binding(struct sip_stack *stack, const struct sip_binding *b,
                                         const char *event, const char *content_type,
                                         const char *body, sip_response_fn fn, void *arg);

/* ---- SDP (RFC 4566), the parts call control reads ---------------------------------------------
 */

#define SIP_SDP_MAX_MEDIA  8
#define SIP_SDP_MAX_CRYPTO 4
#define SIP_SDP_MAX_RTPMAP 32 /* per media description; so is the number of a=fmtp lines */

enum sip_sdp_dir { SIP_SDP_SENDRECV, SIP_SDP_SENDONLY, SIP_SDP_RECVONLY, SIP_SDP_INACTIVE };

/* a=crypto (RFC 4568): one SDES offer. The key material is a secret: never log it. */
struct sip_sdp_crypto {
	uint32_t tag;
	struct sip_pl suite;          /* "AES_CM_128_HMAC_SHA1_80" */
	struct sip_pl key_params;     /* "inline:base64...|2^31|1:1" */
	struct sip_pl session_params; /* may be empty */
};

/* a=rtpmap (RFC 4566 §6): the encoding an RTP payload type stands for. */
struct sip_sdp_rtpmap {
	uint8_t pt;             /* 0-127 */
	struct sip_pl encoding; /* "PCMU", "telephone-event" */
	uint32_t clock;         /* 8000 */
	uint32_t channels;      /* the encoding parameters of audio; 0 when not given */
	struct sip_pl value;    /* what follows the payload type: "opus/48000/2" */
};

/* a=fmtp (RFC 4566 §6): the parameters of an RTP payload type. */
struct sip_sdp_fmtp {
	uint8_t pt;
	struct sip_pl params; /* "0-16" */
};

struct sip_sdp_media {
	struct sip_pl type;  /* "audio", "video", ... */
	uint16_t port;       /* 0: rejected or disabled stream */
	struct sip_pl proto; /* "RTP/AVP", "RTP/SAVP", ... */
	struct sip_pl formats;
	struct sip_pl conn_addr; /* media-level c= address, else the session's */
	struct sip_pl conn;      /* the whole c= value ("IN IP4 192.0.2.1") it comes from */
	enum sip_sdp_dir dir;    /* media-level, else session-level, else sendrecv */
	struct sip_sdp_crypto crypto[SIP_SDP_MAX_CRYPTO];
	size_t ncrypto;
	struct sip_sdp_rtpmap rtpmap[SIP_SDP_MAX_RTPMAP];
	size_t nrtpmap;
	struct sip_sdp_fmtp fmtp[SIP_SDP_MAX_RTPMAP];
	size_t nfmtp;
	struct sip_pl lines; /* the description's lines after its m= line, as they came */
};

struct sip_sdp {
	struct sip_pl origin;       /* o= value */
	struct sip_pl session_name; /* s= value (may be empty) */
	struct sip_pl timing;       /* the first t= value; empty when there is none */
	struct sip_pl conn_addr;    /* session-level c= address */
	struct sip_pl conn;         /* session-level c= value */
	struct sip_sdp_media media[SIP_SDP_MAX_MEDIA];
	size_t nmedia;
};

/* Parses an SDP body in place (the body of a parsed message). -1 with err on malformed SDP. */
int sip_sdp_parse(struct sip_pl body, struct sip_sdp *sdp, struct base_err *err);
/* True when every active (port != 0) media stream is RTP/SAVP with at least one crypto line:
 * what an encrypted device must offer. */
bool sip_sdp_is_srtp(const struct sip_sdp *sdp);
/* True when the stream is SDES-keyed SRTP: RTP/SAVP or RTP/SAVPF with a crypto line. */
bool sip_sdp_media_is_sdes(const struct sip_sdp_media *m);
/* True when the SDP puts the call on hold: every active stream sendonly or inactive, or a
 * connection address of 0.0.0.0 (RFC 2543 hold). */
bool sip_sdp_is_hold(const struct sip_sdp *sdp);
/* The attribute name of a direction ("sendonly"). */
const char *sip_sdp_dir_name(enum sip_sdp_dir dir);
/* Splits the next format off an m= line's format list (*rest moves past it); false when none
 * is left. */
bool sip_sdp_format_next(struct sip_pl *rest, struct sip_pl *fmt);
/* Walks the a= lines of a media description's `lines` (*rest moves past each): the
 * attribute's name and its value (empty when it has none); false when none is left. */
bool sip_sdp_attr_next(struct sip_pl *rest, struct sip_pl *name, struct sip_pl *value);

/* sip_sdp_codec.c: what an RTP format stands for. */
struct sip_sdp_codec {
	struct sip_pl encoding; /* empty for a static payload type RFC 3551 leaves unnamed */
	uint32_t clock, channels;
	uint8_t pt;
};

/* Is the m= line's transport RTP ("RTP/AVP", "RTP/SAVPF", ...), its formats payload types? */
bool sip_sdp_is_rtp(const struct sip_sdp_media *m);
/* The codec a format of an RTP m= line stands for: its a=rtpmap, or for a static payload type
 * (0-95) without one, RFC 3551's assignment. False for a dynamic payload type without
 * a=rtpmap and for anything that is not a payload type. */
bool sip_sdp_codec_of(const struct sip_sdp_media *m, struct sip_pl fmt, struct sip_sdp_codec *out);
/* Same encoding (case-insensitive), clock rate and channels (absent is one); unnamed static
 * payload types match by number. */
bool sip_sdp_codec_eq(const struct sip_sdp_codec *a, const struct sip_sdp_codec *b);
/* Comfort noise (RFC 3389) and telephone events (RFC 4733): carried beside a codec, no codec
 * on their own. */
bool sip_sdp_codec_is_aside(const struct sip_sdp_codec *c);
/* The a=rtpmap or a=fmtp of a payload type in a media description, or NULL. */
const struct sip_sdp_rtpmap *sip_sdp_rtpmap_of(const struct sip_sdp_media *m, uint8_t pt);
const struct sip_sdp_fmtp *sip_sdp_fmtp_of(const struct sip_sdp_media *m, uint8_t pt);

/* ---- digest authentication (RFC 3261 §22, RFC 7616, RFC 8760) ----------------------------------
 */

enum sip_digest_alg { SIP_DIGEST_MD5, SIP_DIGEST_SHA256 };

/* The parameters of an Authorization or Proxy-Authorization value ("Digest username=...,"). */
struct sip_digest_creds {
	struct sip_pl username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc;
};

int sip_digest_creds_parse(struct sip_pl value, struct sip_digest_creds *creds);
/* Maps the algorithm parameter ("MD5" or absent, "SHA-256"); -1 for anything else. */
int sip_digest_alg_parse(struct sip_pl algorithm, enum sip_digest_alg *alg);
/* The expected response, lower-case hex, from HA1 (hex) and the request's method and the
 * credentials (qop=auth or none). out needs 65 bytes. */
int sip_digest_response(enum sip_digest_alg alg, const char *ha1_hex, struct sip_pl method,
                        const struct sip_digest_creds *creds, char *out);

/* Nonces: self-contained, so no per-nonce state is needed to check them. A nonce carries its
 * issue time and a MAC under a server secret; it is valid for `validity` seconds. */
struct sip_nonce_key {
	unsigned char secret[16]; /* the MAC's key (SipHash-2-4, 128 bits), random at every start */
};

void sip_nonce_key_init(struct sip_nonce_key *key); /* random secret */
void sip_nonce_key_clear(struct sip_nonce_key *key);
/* Writes a new nonce (NUL-terminated, at most 64 bytes) into out. The serial is the caller's
 * number for this nonce, unique among those it issues; sip_nonce_check gives it back, for
 * per-nonce state such as the highest nonce-count seen. */
void sip_nonce_make(const struct sip_nonce_key *key, int64_t now, uint64_t serial, char out[65]);
enum sip_nonce_state { SIP_NONCE_VALID, SIP_NONCE_STALE, SIP_NONCE_INVALID };
/* *serial is set for a VALID or STALE nonce. */
enum sip_nonce_state sip_nonce_check(const struct sip_nonce_key *key, struct sip_pl nonce,
                                     int64_t now, int64_t validity, uint64_t *serial);

/* ---- Replaces (RFC 3891) ------------------------------------------------------------------------
 */

/* The dialog to replace, as its recipient sees it: to-tag is the recipient's own tag. */
struct sip_replaces {
	struct sip_pl call_id, to_tag, from_tag;
	bool early_only;
};

/* Parses a Replaces value ("callid;to-tag=a;from-tag=b"); -1 unless the Call-ID and both tags
 * are there and well formed. The pls point into value. */
int sip_replaces_parse(struct sip_pl value, struct sip_replaces *out);
/* Finds header `name` (case-insensitive) among a URI's headers ("a=b&c=d", RFC 3261 §19.1.1)
 * and percent-decodes its value into out (NUL-terminated, *len bytes): 1. 0 when absent; -1
 * when badly escaped, holding control characters, or too long for out. */
int sip_uri_header_get(struct sip_pl headers, const char *name, char *out, size_t size,
                       size_t *len);

#endif
