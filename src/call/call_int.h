/* Private to the call layer: calls, legs, branches, and the service that holds them. */
#ifndef UCM_CALL_INT_H
#define UCM_CALL_INT_H

#include "call/call.h"

#include <event2/event.h>

#define CALL_MAX_BRANCHES 16

/* One SIP dialog of the B2BUA, seen from our side. */
struct call_leg {
	char call_id[128];
	char local_tag[24];
	char remote_tag[80];
	char local_uri[160];  /* our From in requests we send on this dialog */
	char remote_uri[160]; /* the peer's address, our To */
	char remote_target[512];
	uint32_t local_cseq;
	struct sip_source flow;
	char device[64];
	char dn[32];
	enum call_security security; /* what the device's profile allows */
	bool cisco; /* advertised X-cisco-sis: is told the call's security (Call-Info) */
	bool srtp;  /* its last SDP offered SRTP */
	bool held;  /* its last SDP put the call on hold */
	/* a Jabber client (csf, tct, bot, tab): it ignores an INVITE's SDP and offers in its 200
	 * (so it is called with a delayed offer, answered in the ACK), needs a Session-ID on
	 * the INVITE, ACK and CANCEL, and takes any re-INVITE for a new call (spec §5.5) */
	bool jabber;
	char session_id[33];     /* our Session-ID (RFC 7989) on this leg, when we send one */
	char remote_session[33]; /* the peer's, 32 zeros until it tells us */
	enum call_connection_state conn; /* what observers last heard of this connection */
};

struct call;

struct call_sdp {
	char *data;
	size_t len;
	bool
	    answer; /* it answered the other side's offer (so its direction is the other's doing) */
};

/* An INVITE towards one registered device of the dialled number. */
struct call_branch {
	struct call *call;
	struct sip_client_tx *tx; /* until its final response; an answered one lives on 32 s */
	char via_branch[40];      /* of its INVITE, to detach the transaction while it lives */
	struct call_leg leg;
	bool done;
	/* the INVITE had no SDP (delayed offer): the 2xx brings an offer, answered in the ACK
	 * with `answer` (the other party's offer), or, when that is empty, with the caller's
	 * answer from its own ACK */
	bool late;
	struct call_sdp answer;
};

/* CALL_BUSY_TONE: nobody can answer (busy), and the caller, a Jabber client, has been told to
 * play the busy tone in the early dialog; its INVITE waits for its CANCEL (call_tone.c). */
enum call_state { CALL_SETUP, CALL_RINGING, CALL_CONNECTED, CALL_BUSY_TONE };

/* Which side is transferring the other away (REFER), if any. */
enum call_transfer { CALL_NO_TRANSFER, CALL_A_TRANSFERS, CALL_B_TRANSFERS };

struct call {
	struct call_service *cs;
	uint64_t id;
	enum call_state state;
	struct call_leg a, b;
	struct sip_server_tx *invite; /* the caller's INVITE, until its final response */
	struct call_branch branches[CALL_MAX_BRANCHES];
	size_t nbranches;
	struct call_sdp sdp_a, sdp_b; /* the last SDP each side sent, for a transfer's offer */
	struct call_leg *ok_leg;      /* the leg (a, or one that replaced a leg) being answered */
	char *ok;                     /* our 2xx to the caller, resent until it ACKs */
	size_t ok_len;
	struct event *ok_timer;
	int ok_interval_ms, ok_elapsed_ms;
	bool cancelled;
	uint16_t best_status; /* the final answer to give the caller if nobody answers */
	int64_t created_at, answered_at;
	enum call_transfer transfer;
	bool reoffer_to_a;                /* which side the transfer's re-INVITE went to */
	struct sip_client_tx *reoffer_tx; /* that re-INVITE, until it is answered */
	uint32_t reoffer_cseq;            /* its CSeq, for the ACK (an INFO may follow it) */
	/* an attended transfer joining two calls: the transferee's re-INVITE without SDP, then
	 * the target's with the transferee's offer (call_join.c) */
	struct sip_client_tx *join_tx;
	bool joining, join_target_step, join_a_stays;
	struct call_leg
	    *replaced; /* a leg an INVITE with Replaces is taking over (call_replaces.c) */
	struct call_sdp replacing_sdp; /* the newcomer's SDP, kept until the takeover is done */
	bool replace_late;             /* that INVITE had no offer: its answer comes in the ACK */
	/* a transfer on ring (call_join.c): the transferee (leg a) waits for the ringing
	 * target's answer; the released transferor is still owed the REFER's final NOTIFY */
	bool ring_join;
	struct call_leg *transferor;
	/* a re-INVITE, or an UPDATE (RFC 3311, no ACK), being relayed from one leg to the other */
	struct sip_server_tx *reinvite;
	struct sip_client_tx *reinvite_out;
	bool reinvite_from_a;
	bool reinvite_is_update;
	uint32_t reinvite_cseq; /* of the request relayed, for its ACK */
	/* an INFO being relayed (call_info.c) */
	struct sip_server_tx *info;
	struct sip_client_tx *info_out;
	/* the callee's 2xx offer went to a caller that made no offer: the callee's ACK waits for
	 * the answer in the caller's ACK (call_late.c) */
	bool b_awaits_answer;
	/* when the caller's INVITE gets its final answer if nothing else gives one first: as its
	 * Expires says (RFC 3261 §13.3.1), or at the end of the busy tone (call_tone.c) */
	struct event *answer_timer;
};

struct call_observer {
	call_observer_fn fn;
	void *arg;
};

struct call_service {
	struct event_base *base;
	struct store *store;
	struct sip_stack *stack;
	struct sip_registrar *registrar;
	struct base_hash *by_call_id; /* both legs' Call-IDs -> struct call */
	uint64_t next_id;
	struct call_observer *observers;
	size_t nobservers;
};

/* call_model.c */
void call_sdp_keep(struct call_sdp *slot, struct sip_pl body, bool answer);
struct call *call_new(struct call_service *cs);
void call_index(struct call *c, const char *call_id);
struct call *call_find(struct call_service *cs, struct sip_pl call_id);
/* Ends the call: forgets it, stops its timers, detaches its transactions. */
void call_free(struct call *c);
/* (Re)starts c->answer_timer to call fn in `seconds`; false without memory. */
bool call_arm_answer_timer(struct call *c, long seconds, event_callback_fn fn);
enum call_security call_status(const struct call *c);
/* The leg of c whose dialog the request belongs to: same Call-ID, its From tag the peer's
 * tag and its To tag ours (RFC 3261 §12.2.2); NULL when none matches (481). */
struct call_leg *call_leg_match(struct call *c, const struct sip_msg *req);
/* The other leg of the call. */
struct call_leg *call_leg_other(struct call *c, const struct call_leg *leg);
/* Authenticates a request within the leg's dialog when the leg's device must use digest
 * (as its INVITEs are): 0 to proceed, -1 when it has been answered (401, 403). */
int call_leg_authorize(struct call_service *cs, struct sip_server_tx *tx,
                       const struct call_leg *leg);
/* Fills the security the leg's device may reach (its profile's mode in a mixed cluster). */
void call_leg_device(struct call_service *cs, struct call_leg *leg);
/* The Call-Info header line (with CRLF) that tells a Cisco device the call's security. */
void call_security_header(const struct call *c, char *out, size_t size);

/* call_b2bua.c, for the transfer and Replaces */
/* Answers c->invite (the INVITE that made `leg`) with a 2xx carrying sdp (made fit for the
 * leg), resent until the ACK comes. */
void call_answer_invite(struct call *c, struct call_leg *leg, struct sip_pl sdp);
/* Fills a leg (and keeps its SDP) from a new INVITE of a registered device; -1 when the
 * request cannot make a dialog. */
int call_take_caller(struct call_service *cs, struct call_leg *a, struct call_sdp *sdp,
                     struct sip_server_tx *tx, const struct sip_binding *binding);
bool call_start_branch(struct call *c, const struct sip_binding *binding, const char *dn,
                       const char *from_dn, const struct call_sdp *offer);
void call_send_on_leg(struct call_service *cs, struct call_leg *leg, const char *method,
                      uint32_t cseq);
void call_hang_up(struct call_leg *leg, struct call_service *cs);
void call_cancel_branches(struct call *c, const struct call_branch *except);
/* Ends a call that never connected, answering the caller's INVITE (if still unanswered) with
 * status. */
void call_end_unanswered(struct call *c, uint16_t status);

/* call_transfer.c */
void call_on_refer(struct call_service *cs, struct sip_server_tx *tx, struct call *c,
                   struct call_leg *by);
/* Tells a transferor how its REFER goes (RFC 3515 §2.4.5): a NOTIFY with the status line of
 * the new call as message/sipfrag; `final` ends the implicit subscription. */
void call_refer_notify(struct call_service *cs, struct call_leg *leg, uint16_t status, bool final);

/* call_replaces.c: an INVITE with Replaces (RFC 3891) from a device on the line of the leg it
 * names takes that leg's place in its call. Answers tx. */
void call_replace_dialog(struct call_service *cs, struct sip_server_tx *tx,
                         const struct sip_binding *from);
/* The leg of c whose dialog Replaces names (to-tag ours, from-tag the peer's), or NULL. */
struct call_leg *call_leg_named(struct call *c, const struct sip_replaces *r);
/* Sends a re-INVITE on a leg (with offer, made fit for the leg, if any) as c->join_tx; false
 * when it cannot be sent. */
bool call_join_invite(struct call *c, struct call_leg *to, struct sip_pl offer, sip_response_fn fn);
/* The ACK of the 2xx to our last INVITE on leg, with an SDP answer (made fit for the leg)
 * when answer is not empty. */
void call_join_ack(struct call *c, struct call_leg *leg, struct sip_pl answer);
/* The newcomer of a delayed-offer INVITE with Replaces ACKed our 2xx (its answer in the
 * ACK), or never did (ack NULL, the 2xx timed out): the takeover is completed or undone. */
void call_replace_acked(struct call *c, const struct sip_msg *ack);

/* call_join.c: an attended transfer (REFER with Replaces, RFC 5589 §7): the REFER on a leg of
 * c names, in `replaces`, another dialog of the same device; the two other parties are
 * joined. Answers tx. */
void call_join_refer(struct call_service *cs, struct sip_server_tx *tx, struct call *c,
                     struct call_leg *by, const struct sip_replaces *replaces);
/* Transfer on ring: the target answered (its leg is c->b, connected), or nobody will (all
 * branches failed, or the transferee hung up with `status` 487); the call is freed then. */
void call_join_ring_answered(struct call *c);
void call_join_ring_failed(struct call *c, uint16_t status);
/* Tells a Cisco device on leg the call's security in an UPDATE (Call-Info cannot ride on an
 * ACK, and a joined call's security may have changed). */
void call_tell_security(struct call *c, struct call_leg *leg);
void call_transfer_answered(struct call *c, struct call_branch *br, const struct sip_msg *resp);
void call_transfer_failed(struct call *c);
/* A request on a leg while a transfer or join is under way: 491 (RFC 3261 §14.1). */
bool call_busy(const struct call *c);

/* call_observe.c: telling observers */
/* The leg's connection is now in `state`: observers hear `kind`. */
void call_leg_notify(struct call *c, struct call_leg *leg, enum call_event_kind kind,
                     enum call_connection_state state, enum call_cause cause);
/* The leg's connection is gone, if observers had heard of it (leg may be NULL). */
void call_leg_clear(struct call *c, struct call_leg *leg, enum call_cause cause);
/* The line dn (dialled, or a transfer's target) cannot take the call: status is the final
 * answer its devices gave. */
void call_notify_failed(struct call *c, const char *dn, uint16_t status);
enum call_cause call_cause_of_status(uint16_t status);
/* Every connection of the call still announced is cleared (normalClearing): the call ends. */
void call_clear_connections(struct call *c);

/* call_tone.c: the busy tone for a Jabber caller */
/* Nobody could answer, and the best failure is busy: a Jabber caller is told to play the
 * busy tone (183, REFER) rather than given the 486; false when c is not such a call (or the
 * tone cannot be asked for), and the caller is to get its final response as usual. */
bool call_play_busy_tone(struct call *c);
/* call_late.c: delayed offers towards the callee */
/* ACKs a late branch's 2xx with the answer it is owed (made, the first time, from the other
 * party's offer and the callee's offer in resp, the 2xx); false when that answer can only
 * come from the caller's ACK (the caller made no offer). */
bool call_late_ack(struct call *c, struct call_branch *br, const struct sip_msg *resp);
/* The SDP our 2xx gives the caller for the callee's SDP in the 2xx on branch br: the answer
 * to the caller's offer made from the callee's own offer when the callee was called with a
 * delayed offer, else the callee's SDP as it is (its answer, or an offer to a caller that
 * made none). */
void call_late_caller_sdp(const struct call *c, const struct call_branch *br,
                          struct sip_pl callee_sdp, struct sip_buf *out);
/* The caller's ACK of our 2xx, with the answer to the callee's offer: the callee's ACK. */
void call_late_caller_acked(struct call *c, const struct sip_msg *ack);
/* A re-INVITE that would go to `to` but must not (a Jabber client): answered 488. */
bool call_late_refuse_reinvite(struct sip_server_tx *tx, const struct call_leg *to);

/* call_answer.c: the RFC 3264 answer to `offer` made from `other`, the SDP of the party the
 * offerer will exchange media with (its addresses, codecs, keys). 0 with the answer in out;
 * 1 when `other` cannot be parsed: out rejects every offered stream, err says why; -1 when
 * the offer cannot be parsed (no answer can be made, out is empty), err says why. */
int call_sdp_answer(struct sip_pl offer, struct sip_pl other, struct sip_buf *out,
                    struct base_err *err);

/* call_leg.c */
/* Gives the leg a fresh Session-ID (RFC 7989 §6: a version 4 UUID as 32 lower-case hex
 * digits) for the requests we send on it; the peer's stays unknown (zeros). */
void call_leg_new_session(struct call_leg *leg);
/* The Session-ID header line (with CRLF) of the leg's messages, or "" when it sends none. */
void call_leg_session_header(const struct call_leg *leg, char *out, size_t size);
/* Learns the peer's Session-ID UUID from a message it sent, if it carries one. */
void call_leg_note_session(struct call_leg *leg, const struct sip_msg *m);
void call_leg_local(struct call_service *cs, struct call_leg *leg, char *host, size_t size,
                    uint16_t *port);
/* The call and leg of an in-dialog request, or NULL after answering it: 481 when no leg's
 * dialog matches (Call-ID and both tags), a challenge when the device must use digest. */
struct call_leg *call_dialog_of(struct call_service *cs, struct sip_server_tx *tx,
                                struct call **out);
/* call_info.c: an INFO within a call, relayed to the other party (RFC 6086). */
void call_on_info(struct call_service *cs, struct sip_server_tx *tx);
/* A request within the leg's dialog (or its first INVITE), complete with Via and Contact;
 * `headers` are extra header lines ending in CRLF (may be NULL); `branch` receives the new
 * branch. */
void call_leg_request(struct call_service *cs, struct call_leg *leg, const char *method,
                      uint32_t cseq, const char *headers, const char *content_type,
                      const char *body, size_t body_len, char branch[40], struct sip_buf *out);
/* The Contact header line (with CRLF) we give the peer of this leg. */
void call_leg_contact(struct call_service *cs, struct call_leg *leg, char *out, size_t size);
/* call_sdp.c: may SDES keys go to this leg (TLS to an encrypted device)? */
bool call_leg_may_receive_keys(const struct call_leg *leg);
/* The SDP to send to a leg: as is when it may receive keys, else without a=crypto and with
 * RTP/SAVP made RTP/AVP. */
void call_sdp_for_leg(const struct call_leg *to, const char *body, size_t len, struct sip_buf *out);
/* The answer to the offer of `to` made from the SDP of `from` (call_sdp_answer), with SDES
 * keys only when both may receive keys, else non-secure: fit for `to` as it is. */
int call_sdp_answer_between(const struct call_leg *to, const struct call_leg *from,
                            struct sip_pl offer, struct sip_pl other, struct sip_buf *out,
                            struct base_err *err);
/* The SDP a leg last sent, to be offered to a new peer on its behalf: when it was an answer,
 * its direction only answered the old peer (recvonly to a hold), so it becomes sendrecv. */
void call_sdp_for_new_peer(const struct call_sdp *sdp, struct sip_buf *out);
/* Remembers what the peer's SDP says of SRTP and hold. */
void call_leg_note_sdp(struct call_leg *leg, struct sip_pl body);

#endif
