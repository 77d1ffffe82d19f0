/*
 * The user agent of ucm-phone, shared by its files: phone_ua.c (the run, registration,
 * requests with digest retries, dispatch of the server's requests), phone_dialog.c
 * (building requests within a dialog), phone_call.c (the caller) and phone_answer.c (the
 * callee).
 *
 * One rule keeps lifetimes simple: nothing is freed from inside a callback. A command ends
 * with ua_done, which breaks the event loop; phone_ua_run then closes everything.
 */
#ifndef UCM_PHONE_UA_INT_H
#define UCM_PHONE_UA_INT_H

#include "phone_auth.h"
#include "phone_link.h"
#include "phone_sdp.h"

struct event;
struct ua_request;

/* What a dialog remembers to build its requests (RFC 3261 §12), and what the registration
 * remembers to refresh itself (the same fields: Call-ID, tags, URIs, CSeq). */
struct phone_dialog {
	char call_id[128];
	char local_tag[32], remote_tag[128];
	char local_uri[160], remote_uri[160]; /* "<sip:2001@127.0.0.1>" */
	char remote_target[256];              /* the Request-URI */
	uint32_t local_cseq;
};

enum phone_call_state {
	CALL_IDLE,
	CALL_INVITING, /* our INVITE is out */
	CALL_RINGING,  /* an INVITE came and we sent 180 */
	CALL_CONNECTED,
	CALL_ENDING, /* our BYE is out */
};

struct phone_call {
	enum phone_call_state state;
	struct phone_dialog d;
	struct phone_media media;
	bool media_open;
	bool acked;                    /* the ACK of our 2xx came */
	struct phone_incoming *invite; /* the INVITE we have not answered yet */
	int number;                    /* 1, 2, ... in the order calls came */
	enum sip_sdp_dir offered;      /* the direction of our last offer */
	bool failed;                   /* something went wrong: hang up and exit 1 */
};

struct phone_ua {
	const struct phone_opts *o;
	struct event_base *base;
	struct phone_link *link;
	struct phone_auth auth;
	struct phone_dialog reg;
	char contact_uri[256]; /* sip:2001@127.0.0.1:40000;transport=tcp */
	bool registered, ending;
	bool link_down; /* the connection is gone: responses made up for it are not news */
	int status;     /* the exit status */
	struct event *deadline;
	struct event *timer; /* the next step of a call */
	struct event *sigint, *sigterm;
	void (*timer_fn)(struct phone_ua *ua);
	struct phone_call call;
	int calls_done;
	/* transfer: the consultation call of an attended transfer, and how the REFER went */
	struct phone_call consult;
	bool referred;                    /* our REFER is out */
	struct phone_dialog refer_dialog; /* its subscription's: NOTIFYs may come after a BYE */
	bool transfer_final;         /* the last NOTIFY (Subscription-State: terminated) came */
	int transfer_status;         /* its sipfrag status */
	struct ua_request *requests; /* in flight, freed at the end if never answered */
};

/* ---- phone_ua.c ---- */

typedef void (*ua_response_fn)(struct phone_ua *ua, const struct sip_msg *resp);

/* Sends a request within dialog d with the next CSeq. A 401 or 407 is answered once with
 * credentials (a new CSeq); every other response goes to fn. `extra` holds header lines,
 * body an SDP (both may be NULL). */
int ua_send(struct phone_ua *ua, struct phone_dialog *d, const char *method, const char *extra,
            const char *body, ua_response_fn fn);
/* Ends the command with status: unregisters first when a call or answer registered. */
void ua_done(struct phone_ua *ua, int status);
/* Runs fn after `seconds` (one step at a time). */
void ua_after(struct phone_ua *ua, double seconds, void (*fn)(struct phone_ua *ua));
/* Random lower-case hex of n bytes into out (2n+1 bytes). */
void ua_random_hex(char *out, size_t n);
/* Our address as the server sees it. */
void ua_local_host(struct phone_ua *ua, char *host, size_t size);

/* ---- phone_dialog.c ---- */

/* Builds a request of dialog d: Via with a new branch, Max-Forwards, From, To, Call-ID,
 * CSeq, Contact (not for ACK and BYE), User-Agent, `extra`, and the SDP body if any. */
void dialog_build(struct phone_ua *ua, const struct phone_dialog *d, const char *method,
                  uint32_t cseq, const char *extra, const char *body, char branch[40],
                  struct sip_buf *out);
/* Sends the ACK of a 2xx to the INVITE with this CSeq: a request of its own (§13.2.2.4). */
void dialog_ack(struct phone_ua *ua, const struct phone_dialog *d, uint32_t cseq);
/* The ACK of a 2xx that brought an offer: it carries our answer. */
void dialog_ack_sdp(struct phone_ua *ua, const struct phone_dialog *d, uint32_t cseq,
                    const char *sdp);
/* A new dialog of ours towards to_user at the server (or the registration of from_user). */
void dialog_new(struct phone_ua *ua, struct phone_dialog *d, const char *from_user,
                const char *to_user, bool to_registrar);
/* The dialog a 2xx to our INVITE establishes: the remote tag and target. */
void dialog_confirm(struct phone_dialog *d, const struct sip_msg *resp);
/* The dialog an INVITE we answer establishes; -1 when the request cannot make one. */
int dialog_accept(struct phone_dialog *d, const struct sip_msg *req, const char *local_tag);
bool dialog_matches(const struct phone_dialog *d, const struct sip_msg *msg);
/* "Contact: <sip:...>\r\n" */
void ua_contact_header(const struct phone_ua *ua, char *out, size_t size);
/* The Supported header line a --cisco-sis phone puts in its INVITEs and their 200s, or "". */
const char *ua_supported(const struct phone_ua *ua);

/* ---- phone_call.c: the caller ---- */

void call_start(struct phone_ua *ua);
/* The other side hung up (BYE) while we were in a call. */
void call_remote_bye(struct phone_ua *ua);

/* ---- phone_answer.c: the callee, and requests within a call on either side ---- */

void answer_invite(struct phone_ua *ua, struct phone_incoming *in);
void answer_reinvite(struct phone_ua *ua, struct phone_incoming *in);
void answer_bye(struct phone_ua *ua, struct phone_incoming *in);
void answer_cancel(struct phone_ua *ua, struct phone_incoming *in);
void answer_ack(struct phone_ua *ua, const struct sip_msg *ack);
/* An UPDATE within a call (the server telling a Cisco phone the call's security). */
void answer_update(struct phone_ua *ua, struct phone_incoming *in);
/* Forgets the call: closes its media port. */
void call_reset(struct phone_ua *ua);
/* ---- phone_transfer.c: the transferor ---- */

/* The call to transfer was answered: talk, then transfer it. */
void transfer_answered(struct phone_ua *ua);
void transfer_notify(struct phone_ua *ua, struct phone_incoming *in);
/* A BYE on one of the transferor's calls: the server releasing it. */
void transfer_bye(struct phone_ua *ua, struct phone_incoming *in);
/* Forgets the consultation call: closes its media port. */
void transfer_reset(struct phone_ua *ua);

/* Parses an SDP body and describes it for printing; -1 when it is not usable SDP. */
int ua_sdp_read(struct sip_pl body, struct sip_sdp *sdp, char *desc, size_t size);

#endif
