/* The call model: live calls indexed by the Call-IDs of their legs, and their security. */
#include "call/call_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct call *call_new(struct call_service *cs)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cs = cs;
	c->id = ++cs->next_id;
	c->created_at = base_time_now();
	return c;
}

void call_index(struct call *c, const char *call_id)
{
	base_hash_put(c->cs->by_call_id, call_id, c, NULL);
}

struct call *call_find(struct call_service *cs, struct sip_pl call_id)
{
	char key[128];
	if (call_id.l >= sizeof(key))
		return NULL;
	return base_hash_get(cs->by_call_id, sip_pl_strcpy(call_id, key, sizeof(key)));
}

void call_free(struct call *c)
{
	struct call_service *cs = c->cs;
	call_clear_connections(c);
	if (c->a.call_id[0] && base_hash_get(cs->by_call_id, c->a.call_id) == c)
		base_hash_remove(cs->by_call_id, c->a.call_id);
	if (c->b.call_id[0] && base_hash_get(cs->by_call_id, c->b.call_id) == c)
		base_hash_remove(cs->by_call_id, c->b.call_id);
	for (size_t i = 0; i < c->nbranches; i++) {
		struct call_branch *br = &c->branches[i];
		/* An answered branch's transaction outlives its answer (2xx retransmissions), and
		 * may have ended already: it is found by its branch, not by a pointer. */
		sip_client_tx_detach_branch(cs->stack, br->via_branch, "INVITE");
		free(br->answer.data);
		if (base_hash_get(cs->by_call_id, br->leg.call_id) == c)
			base_hash_remove(cs->by_call_id, br->leg.call_id);
	}
	/* Requests still being relayed get their answer here: the other party never will. */
	if (c->reinvite_out)
		sip_client_tx_detach(c->reinvite_out);
	if (c->reinvite)
		sip_server_tx_reply(c->reinvite, 481, NULL, NULL, NULL, NULL, 0);
	if (c->info_out)
		sip_client_tx_detach(c->info_out);
	if (c->info)
		sip_server_tx_reply(c->info, 481, NULL, NULL, NULL, NULL, 0);
	if (c->reoffer_tx)
		sip_client_tx_detach(c->reoffer_tx);
	if (c->join_tx)
		sip_client_tx_detach(c->join_tx);
	free(c->replaced);
	free(c->replacing_sdp.data);
	free(c->transferor);
	if (c->ok_timer)
		event_free(c->ok_timer);
	if (c->answer_timer)
		event_free(c->answer_timer);
	free(c->sdp_a.data);
	free(c->sdp_b.data);
	free(c->ok);
	free(c);
}

bool call_arm_answer_timer(struct call *c, long seconds, event_callback_fn fn)
{
	if (c->answer_timer)
		event_free(c->answer_timer);
	c->answer_timer = evtimer_new(c->cs->base, fn, c);
	struct timeval tv = {seconds, 0};
	return c->answer_timer && evtimer_add(c->answer_timer, &tv) == 0;
}

/* A dialog is its Call-ID, our tag and the peer's (RFC 3261 §12). */
static bool leg_is(const struct call_leg *leg, struct sip_pl call_id, struct sip_pl ours,
                   struct sip_pl theirs)
{
	return leg->call_id[0] && sip_pl_eq(call_id, leg->call_id) &&
	       sip_pl_eq(ours, leg->local_tag) && sip_pl_eq(theirs, leg->remote_tag);
}

static struct call_leg *leg_by_dialog(struct call *c, struct sip_pl call_id, struct sip_pl ours,
                                      struct sip_pl theirs)
{
	if (leg_is(&c->a, call_id, ours, theirs))
		return &c->a;
	if (c->state == CALL_CONNECTED && leg_is(&c->b, call_id, ours, theirs))
		return &c->b;
	return NULL;
}

struct call_leg *call_leg_match(struct call *c, const struct sip_msg *req)
{
	return leg_by_dialog(c, req->call_id, req->to_tag, req->from_tag);
}

struct call_leg *call_leg_named(struct call *c, const struct sip_replaces *r)
{
	return leg_by_dialog(c, r->call_id, r->to_tag, r->from_tag);
}

struct call_leg *call_leg_other(struct call *c, const struct call_leg *leg)
{
	return leg == &c->a ? &c->b : &c->a;
}

int call_leg_authorize(struct call_service *cs, struct sip_server_tx *tx,
                       const struct call_leg *leg)
{
	struct sip_binding b;
	memset(&b, 0, sizeof(b));
	base_strlcpy(b.aor, leg->dn, sizeof(b.aor));
	base_strlcpy(b.device, leg->device, sizeof(b.device));
	return sip_registrar_authorize(cs->registrar, tx, &b);
}

void call_sdp_keep(struct call_sdp *slot, struct sip_pl body, bool answer)
{
	if (body.l == 0)
		return;
	char *copy = malloc(body.l);
	if (!copy)
		return;
	memcpy(copy, body.p, body.l);
	free(slot->data);
	slot->data = copy;
	slot->len = body.l;
	slot->answer = answer;
}

const char *call_security_name(enum call_security s)
{
	return s == CALL_ENCRYPTED       ? "encrypted"
	       : s == CALL_AUTHENTICATED ? "authenticated"
	                                 : "non_secure";
}

/* A leg is encrypted only when its device may be and its media really is SRTP. */
static enum call_security leg_security(const struct call_leg *leg)
{
	if (leg->security == CALL_ENCRYPTED && !leg->srtp)
		return CALL_AUTHENTICATED;
	return leg->security;
}

enum call_security call_status(const struct call *c)
{
	enum call_security a = leg_security(&c->a);
	if (c->state != CALL_CONNECTED)
		return a;
	enum call_security b = leg_security(&c->b);
	return a < b ? a : b;
}

/* What the device may reach: its profile's mode, unless the cluster runs non-secure. */
static enum call_security mode_security(const char *mode, bool mixed)
{
	if (!mixed)
		return CALL_NON_SECURE;
	if (strcmp(mode, "encrypted") == 0)
		return CALL_ENCRYPTED;
	return strcmp(mode, "authenticated") == 0 ? CALL_AUTHENTICATED : CALL_NON_SECURE;
}

void call_leg_device(struct call_service *cs, struct call_leg *leg)
{
	json_t *p = NULL;
	bool mixed = false;
	if (store_get(cs->store, store_kind_find("enterprise-parameters"), "cluster_security_mode",
	              &p, NULL) == 0)
		mixed = strcmp(json_string_value(json_object_get(p, "value")), "mixed") == 0;
	json_decref(p);
	struct store_line_device devices[CALL_MAX_BRANCHES];
	size_t n = 0;
	leg->security = CALL_NON_SECURE;
	store_line_devices(cs->store, leg->dn, devices, CALL_MAX_BRANCHES, &n, NULL);
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(devices[i].device, leg->device) != 0)
			continue;
		leg->security = mode_security(devices[i].security_mode, mixed);
		leg->jabber = store_device_type_is_jabber(devices[i].type);
	}
}

/* Cisco's names for the levels (SIP line messaging guide, "Call Security Status"). */
void call_security_header(const struct call *c, char *out, size_t size)
{
	static const char *const names[] = {"NotAuthenticated", "Authenticated", "Encrypted"};
	snprintf(out, size, "Call-Info: <urn:x-cisco-remotecc:callinfo>;security=%s\r\n",
	         names[call_status(c)]);
}

static json_t *leg_json(const struct call_leg *leg)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b}", "device", leg->device, "directory_number",
	                 leg->dn, "transport", sip_transport_name(leg->flow.kind), "srtp",
	                 leg->srtp, "held", leg->held);
}

struct list_ctx {
	json_t *items;
	json_t *seen; /* a call is indexed under several Call-IDs: list it once */
};

static void list_call(void *arg, const char *key, void *value)
{
	(void)key;
	struct list_ctx *ctx = arg;
	struct call *c = value;
	char id[24], created[21], answered[21] = "";
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	if (json_object_get(ctx->seen, id))
		return;
	json_object_set_new(ctx->seen, id, json_true());
	base_time_format(c->created_at, created);
	if (c->answered_at)
		base_time_format(c->answered_at, answered);
	static const char *const states[] = {"setup", "ringing", "connected", "busy"};
	json_t *call = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)c->id, "state",
	                         states[c->state], "security", call_security_name(call_status(c)),
	                         "created_at", created, "caller", leg_json(&c->a));
	json_object_set_new(call, "called_number", json_string(c->b.dn[0] ? c->b.dn : ""));
	json_object_set_new(call, "callee",
	                    c->state == CALL_CONNECTED ? leg_json(&c->b) : json_null());
	json_t *alerting = json_array(); /* the line appearances ringing for this call */
	for (size_t i = 0; i < c->nbranches; i++)
		if (!c->branches[i].done && c->branches[i].leg.conn == CALL_CONN_ALERTING)
			json_array_append_new(alerting, leg_json(&c->branches[i].leg));
	json_object_set_new(call, "alerting", alerting);
	json_object_set_new(call, "answered_at", *answered ? json_string(answered) : json_null());
	json_array_append_new(ctx->items, call);
}

json_t *call_list_json(struct call_service *cs)
{
	struct list_ctx ctx = {json_array(), json_object()};
	base_hash_foreach(cs->by_call_id, list_call, &ctx);
	json_decref(ctx.seen);
	return json_pack("{s:o, s:I}", "items", ctx.items, "total",
	                 (json_int_t)json_array_size(ctx.items));
}
