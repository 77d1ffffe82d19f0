/*
 * The user agent: one run of register, call or answer. It registers the line first (over
 * the link that also carries the calls, as the server requires: a call must come from the
 * flow its line registered on), then hands over to the caller or the callee, and when a
 * call or answer run is over it removes its binding again so that the server does not go
 * on ringing a phone that is gone.
 */
#include "phone_ua_int.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define UNREGISTER_GRACE_SEC 3

/* A request in flight, kept so that a digest challenge can be answered with the same
 * request (and a new CSeq). */
struct ua_request {
	struct phone_ua *ua;
	struct phone_dialog *d;
	char method[16];
	char *extra, *body;
	bool challenged;
	ua_response_fn fn;
	struct ua_request *next;
};

void ua_random_hex(char *out, size_t n)
{
	unsigned char r[32];
	if (n > sizeof(r))
		n = sizeof(r);
	RAND_bytes(r, (int)n);
	base_hex(r, n, out);
}

void ua_local_host(struct phone_ua *ua, char *host, size_t size)
{
	uint16_t port;
	phone_link_local(ua->link, host, size, &port);
}

/* ---- requests ---- */

static void request_free(struct ua_request *r)
{
	for (struct ua_request **p = &r->ua->requests; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	free(r->extra);
	free(r->body);
	free(r);
}

static int request_send(struct ua_request *r);

/* A --cisco-sis phone shows the call's security when the server tells it (Call-Info with
 * Cisco's security parameter, in a 2xx to our INVITE or in an UPDATE or re-INVITE). */
static void show_call_info(struct phone_ua *ua, const struct sip_msg *msg)
{
	static const char urn[] = "<urn:x-cisco-remotecc:callinfo>";
	const struct sip_hdr *h = sip_msg_hdr_named(msg, "Call-Info");
	if (!ua->o->cisco_sis || !h || h->value.l < sizeof(urn) - 1 ||
	    memcmp(h->value.p, urn, sizeof(urn) - 1) != 0)
		return;
	struct sip_pl params = {h->value.p + sizeof(urn) - 1, h->value.l - (sizeof(urn) - 1)};
	struct sip_pl security;
	if (!sip_param_get(params, "security", &security))
		return;
	if (!msg->is_request)
		printf("call security %.*s (Call-Info in %u to %.*s)\n", (int)security.l,
		       security.p, msg->status, (int)msg->cseq.method.l, msg->cseq.method.p);
	else
		printf("call security %.*s (Call-Info in %.*s)\n", (int)security.l, security.p,
		       (int)msg->method.l, msg->method.p);
}

static void on_response(void *arg, const struct sip_msg *resp)
{
	struct ua_request *r = arg;
	struct phone_ua *ua = r->ua;
	bool challenge = resp->status == 401 || resp->status == 407;
	if (challenge && !r->challenged) {
		struct base_err err = {0};
		r->challenged = true;
		if (phone_auth_take_challenge(&ua->auth, resp, &err) == 0) {
			printf("%s: %u %.*s, answering with %s digest as %s\n", r->method,
			       resp->status, (int)resp->reason.l, resp->reason.p,
			       phone_auth_alg_name(&ua->auth), ua->o->user);
			if (request_send(r) == 0)
				return;
		} else {
			printf("%s: %u %.*s: %s\n", r->method, resp->status, (int)resp->reason.l,
			       resp->reason.p, err.message);
		}
	}
	if (!ua->link_down && resp->status >= 200 && resp->status < 300)
		show_call_info(ua, resp);
	if (!ua->link_down)
		r->fn(ua, resp);
	if (resp->status >= 200)
		request_free(r);
}

/* Sends r with the next CSeq of its dialog, with credentials once a challenge came. */
static int request_send(struct ua_request *r)
{
	struct phone_ua *ua = r->ua;
	char headers[2048] = "";
	uint32_t cseq = ++r->d->local_cseq;
	if (r->challenged && phone_auth_header(&ua->auth, r->method, r->d->remote_target, headers,
	                                       sizeof(headers)) != 0)
		return -1;
	if (r->extra)
		base_strlcpy(headers + strlen(headers), r->extra,
		             sizeof(headers) - strlen(headers));
	char branch[40];
	struct sip_buf b;
	dialog_build(ua, r->d, r->method, cseq, headers, r->body, branch, &b);
	return phone_link_request(ua->link, branch, &b, on_response, r);
}

int ua_send(struct phone_ua *ua, struct phone_dialog *d, const char *method, const char *extra,
            const char *body, ua_response_fn fn)
{
	struct ua_request *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	*r = (struct ua_request){.ua = ua, .d = d, .fn = fn, .next = ua->requests};
	ua->requests = r;
	base_strlcpy(r->method, method, sizeof(r->method));
	if ((extra && !(r->extra = strdup(extra))) || (body && !(r->body = strdup(body))) ||
	    request_send(r) != 0) {
		request_free(r);
		return -1;
	}
	return 0;
}

/* ---- timers and the end ---- */

static void stop(struct phone_ua *ua, int status)
{
	ua->status = status;
	event_base_loopbreak(ua->base);
}

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct phone_ua *ua = arg;
	void (*fn)(struct phone_ua *) = ua->timer_fn;
	ua->timer_fn = NULL;
	if (fn)
		fn(ua);
}

/* Seconds as given on the command line (never negative) to a timeval. */
static struct timeval to_timeval(double seconds)
{
	time_t whole = (time_t)seconds;
	return (struct timeval){whole, (suseconds_t)((seconds - (double)whole) * 1e6)};
}

void ua_after(struct phone_ua *ua, double seconds, void (*fn)(struct phone_ua *ua))
{
	struct timeval tv = to_timeval(seconds);
	ua->timer_fn = fn;
	evtimer_add(ua->timer, &tv);
}

static void on_deadline(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct phone_ua *ua = arg;
	if (ua->ending) { /* the server did not answer our un-REGISTER: leave anyway */
		stop(ua, ua->status);
		return;
	}
	printf("timed out after %g s", ua->o->timeout);
	if (ua->o->cmd == PHONE_ANSWER)
		printf(" with %d of %d call(s) done", ua->calls_done, ua->o->count);
	printf("\n");
	ua_done(ua, 1);
}

static void register_send(struct phone_ua *ua, int expires);

/* Interrupted (Ctrl-C, kill): still take the binding away, so the server stops ringing us. */
static void on_signal(evutil_socket_t sig, short events, void *arg)
{
	(void)events;
	struct phone_ua *ua = arg;
	printf("interrupted by %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	if (ua->ending)
		stop(ua, ua->status);
	else
		ua_done(ua, 1);
}

void ua_done(struct phone_ua *ua, int status)
{
	if (ua->ending)
		return;
	ua->ending = true;
	ua->status = status;
	evtimer_del(ua->timer);
	if (!ua->registered || ua->o->cmd == PHONE_REGISTER) {
		stop(ua, status);
		return;
	}
	struct timeval grace = {UNREGISTER_GRACE_SEC, 0};
	evtimer_add(ua->deadline, &grace);
	register_send(ua, 0);
}

/* ---- registration ---- */

/* The expiry the registrar granted our contact: its expires parameter in the 200, else the
 * Expires header. */
static long granted_expires(const struct phone_ua *ua, const struct sip_msg *resp)
{
	for (const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(resp, h)) {
		struct sip_addr a;
		struct sip_pl v;
		uint32_t e;
		if (sip_addr_parse(h->value, &a) == 0 && sip_pl_eq(a.uri_text, ua->contact_uri) &&
		    sip_param_get(a.params, "expires", &v) && sip_pl_u32(v, UINT32_MAX, &e) == 0)
			return e;
	}
	return resp->expires;
}

static void on_registered(struct phone_ua *ua)
{
	switch (ua->o->cmd) {
	case PHONE_REGISTER:
		if (ua->o->stay)
			printf("staying registered; waiting for the server\n");
		else
			ua_done(ua, 0);
		break;
	case PHONE_CALL:
		call_start(ua);
		break;
	case PHONE_ANSWER:
	case PHONE_TRANSFER:
		printf("waiting for calls to %s\n", ua->o->line);
		break;
	}
}

static void on_register_response(struct phone_ua *ua, const struct sip_msg *resp)
{
	if (resp->status < 200)
		return;
	if (ua->ending) { /* the un-REGISTER of ua_done */
		if (resp->status < 300)
			printf("unregistered %s\n", ua->o->line);
		else
			printf("unregistering %s failed: %u %.*s\n", ua->o->line, resp->status,
			       (int)resp->reason.l, resp->reason.p);
		stop(ua, ua->status);
		return;
	}
	if (resp->status >= 300) {
		printf("registration of %s failed: %u %.*s\n", ua->o->line, resp->status,
		       (int)resp->reason.l, resp->reason.p);
		ua_done(ua, 1);
		return;
	}
	ua->registered = true;
	printf("registered %s at %s over %s: %u %.*s, expires %ld\n", ua->o->line, ua->o->server,
	       sip_transport_name(ua->o->transport), resp->status, (int)resp->reason.l,
	       resp->reason.p, granted_expires(ua, resp));
	on_registered(ua);
}

static void register_send(struct phone_ua *ua, int expires)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Expires: %d\r\n", expires);
	if (ua_send(ua, &ua->reg, "REGISTER", extra, NULL, on_register_response) != 0) {
		printf("cannot send REGISTER\n");
		stop(ua, 1);
	}
}

/* ---- requests from the server ---- */

/* The event package of an Event header value, parameters left out. */
static bool event_is(struct sip_pl value, const char *package)
{
	struct sip_pl name = value;
	for (size_t i = 0; i < value.l; i++) {
		if (value.p[i] == ';' || value.p[i] == ' ') {
			name.l = i;
			break;
		}
	}
	return sip_pl_eq_nocase(name, package);
}

/* Event: service-control (Cisco: action=apply-config/restart/reset) or check-sync: a --stay
 * phone ends its run so that boot fetches its files again. */
static void answer_notify(struct phone_ua *ua, struct phone_incoming *in)
{
	const struct sip_msg *req = phone_incoming_msg(in);
	const struct sip_hdr *event = sip_msg_hdr(req, SIP_HDR_EVENT);
	bool resync = event && (event_is(event->value, "service-control") ||
	                        event_is(event->value, "check-sync"));
	if (resync) /* before the reply, which frees the request */
		printf("NOTIFY %.*s: %.*s\n", (int)event->value.l, event->value.p, (int)req->body.l,
		       req->body.p);
	phone_incoming_reply(in, resync ? 200 : 489, NULL, NULL, NULL, 0);
	if (resync && ua->o->stay && !ua->ending)
		ua_done(ua, PHONE_EXIT_RESYNC);
}

static void on_request(void *arg, struct phone_incoming *in)
{
	struct phone_ua *ua = arg;
	const struct sip_msg *req = phone_incoming_msg(in);
	show_call_info(ua, req);
	if (sip_pl_eq(req->method, "INVITE") && req->to_tag.l)
		answer_reinvite(ua, in);
	else if (sip_pl_eq(req->method, "UPDATE"))
		answer_update(ua, in);
	else if (sip_pl_eq(req->method, "INVITE"))
		answer_invite(ua, in);
	else if (sip_pl_eq(req->method, "BYE") && ua->o->cmd == PHONE_TRANSFER)
		transfer_bye(ua, in);
	else if (sip_pl_eq(req->method, "BYE"))
		answer_bye(ua, in);
	else if (sip_pl_eq(req->method, "NOTIFY") && ua->o->cmd == PHONE_TRANSFER)
		transfer_notify(ua, in);
	else if (sip_pl_eq(req->method, "CANCEL"))
		answer_cancel(ua, in);
	else if (sip_pl_eq(req->method, "NOTIFY"))
		answer_notify(ua, in);
	else if (sip_pl_eq(req->method, "OPTIONS"))
		phone_incoming_reply(
		    in, 200, "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, OPTIONS\r\n", NULL, NULL, 0);
	else
		phone_incoming_reply(in, 501, NULL, NULL, NULL, 0);
}

static void on_ack(void *arg, const struct sip_msg *ack)
{
	answer_ack(arg, ack);
}

/* The server resent a 2xx: our ACK went missing. */
static void on_late_2xx(void *arg, const struct sip_msg *resp)
{
	struct phone_ua *ua = arg;
	if (dialog_matches(&ua->call.d, resp))
		dialog_ack(ua, &ua->call.d, resp->cseq.number);
	else if (dialog_matches(&ua->consult.d, resp))
		dialog_ack(ua, &ua->consult.d, resp->cseq.number);
}

static void on_closed(void *arg, const char *why)
{
	struct phone_ua *ua = arg;
	printf("%s\n", why);
	ua->link_down = true;
	ua->registered = false; /* the binding went with the connection */
	if (!ua->ending)
		ua_done(ua, 1);
	else
		stop(ua, ua->status);
}

/* ---- the run ---- */

static int start(struct phone_ua *ua, const struct phone_opts *o)
{
	struct base_err err = {0};
	struct phone_link_handlers h = {on_request, on_ack, on_late_2xx, on_closed, ua};
	ua->timer = evtimer_new(ua->base, on_timer, ua);
	ua->deadline = evtimer_new(ua->base, on_deadline, ua);
	ua->sigint = evsignal_new(ua->base, SIGINT, on_signal, ua);
	ua->sigterm = evsignal_new(ua->base, SIGTERM, on_signal, ua);
	if (!ua->timer || !ua->deadline || !ua->sigint || !ua->sigterm ||
	    evsignal_add(ua->sigint, NULL) != 0 || evsignal_add(ua->sigterm, NULL) != 0 ||
	    phone_link_open(&ua->link, ua->base, o, &h, &err) != 0) {
		fprintf(stderr, "ucm-phone: %s\n", err.message[0] ? err.message : "out of memory");
		return -1;
	}
	char host[64];
	uint16_t port;
	phone_link_local(ua->link, host, sizeof(host), &port);
	snprintf(ua->contact_uri, sizeof(ua->contact_uri),
	         strchr(host, ':') ? "sip:%s@[%s]:%u" : "sip:%s@%s:%u", o->line, host, port);
	if (o->transport != SIP_TP_UDP) {
		size_t n = strlen(ua->contact_uri);
		snprintf(ua->contact_uri + n, sizeof(ua->contact_uri) - n, ";transport=%s",
		         o->transport == SIP_TP_TLS ? "tls" : "tcp");
	}
	dialog_new(ua, &ua->reg, o->line, o->line, true);
	ua->auth = (struct phone_auth){.user = o->user, .password = o->password};
	struct timeval tv = to_timeval(o->timeout);
	evtimer_add(ua->deadline, &tv);
	printf("registering %s at %s over %s from %s\n", o->line, o->server,
	       sip_transport_name(o->transport), ua->contact_uri);
	register_send(ua, o->expires);
	return 0;
}

int phone_ua_run(const struct phone_opts *o)
{
	struct phone_ua ua = {.o = o, .status = 1};
	ua.base = event_base_new();
	if (ua.base && start(&ua, o) == 0)
		event_base_dispatch(ua.base);
	phone_link_close(ua.link); /* first: it may still hold requests that refer to ours */
	call_reset(&ua);
	transfer_reset(&ua);
	while (ua.requests)
		request_free(ua.requests);
	if (ua.timer)
		event_free(ua.timer);
	if (ua.deadline)
		event_free(ua.deadline);
	if (ua.sigint)
		event_free(ua.sigint);
	if (ua.sigterm)
		event_free(ua.sigterm);
	if (ua.base)
		event_base_free(ua.base);
	return ua.status;
}
