/*
 * The location service (RFC 3261 §10): the bindings of each directory number, in memory, as
 * the registrar (sip_registrar.c) writes them through to the store. Expired bindings are swept
 * every few seconds, a stream connection's bindings go when it closes, and the stored ones are
 * loaded at start. Calls look bindings up here.
 */
#include "sip/sip_registrar_int.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void aor_key(const char *aor, char *out, size_t size)
{
	size_t i = 0;
	for (; aor[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)aor[i]);
	out[i] = '\0';
}

struct aor_bindings *sip_location_aor(struct sip_registrar *r, const char *aor, bool create)
{
	char key[64];
	aor_key(aor, key, sizeof(key));
	struct aor_bindings *b = base_hash_get(r->aors, key);
	if (!b && create && (b = calloc(1, sizeof(*b))) && base_hash_put(r->aors, key, b, NULL)) {
		free(b);
		b = NULL;
	}
	return b;
}

void sip_location_aor_free(void *value)
{
	struct aor_bindings *b = value;
	for (size_t i = 0; i < b->n; i++)
		free((char *)b->items[i].aor);
	free(b->items);
	free(b);
}

struct location_binding *sip_location_find(struct aor_bindings *b, const char *contact,
                                           const char *device, const char *instance)
{
	for (size_t i = 0; i < b->n; i++) {
		struct location_binding *x = &b->items[i];
		if (strcmp(x->contact, contact) == 0 ||
		    (*instance && strcmp(x->instance, instance) == 0 &&
		     strcasecmp(x->device, device) == 0))
			return x;
	}
	return NULL;
}

/* The texts of a binding: where struct sip_binding holds each (and in how many bytes), and
 * where struct location_binding points at its packed copy. Packing, comparing and copying
 * back all go by this one list. */
#define BINDING_TEXT(field)                                                                        \
	{                                                                                          \
		offsetof(struct sip_binding, field), sizeof(((struct sip_binding *)0)->field),     \
		    offsetof(struct location_binding, field)                                       \
	}
static const struct {
	size_t text, size, packed;
} binding_texts[] = {BINDING_TEXT(aor),       BINDING_TEXT(contact),      BINDING_TEXT(device),
                     BINDING_TEXT(instance),  BINDING_TEXT(user_agent),   BINDING_TEXT(call_id),
                     BINDING_TEXT(flow.host), BINDING_TEXT(flow.tls_peer)};
enum { BINDING_TEXTS = sizeof(binding_texts) / sizeof(binding_texts[0]) };

static const char *text_of(const struct sip_binding *b, size_t i)
{
	return (const char *)b + binding_texts[i].text;
}

static const char **packed_text(struct location_binding *x, size_t i)
{
	return (const char **)((char *)x + binding_texts[i].packed);
}

/* The texts of nb packed into one allocation, which `into` points at; -1 without memory. */
static int pack(const struct sip_binding *nb, struct location_binding *into)
{
	size_t len[BINDING_TEXTS], total = 0;
	for (size_t i = 0; i < BINDING_TEXTS; i++)
		total += (len[i] = strlen(text_of(nb, i))) + 1;
	char *p = malloc(total);
	if (!p)
		return -1;
	for (size_t i = 0; i < BINDING_TEXTS; i++) {
		memcpy(p, text_of(nb, i), len[i] + 1);
		*packed_text(into, i) = p;
		p += len[i] + 1;
	}
	return 0;
}

/* Whether a refresh keeps every text of the binding, so that only its numbers change. */
static bool same_texts(struct location_binding *x, const struct sip_binding *nb)
{
	for (size_t i = 0; i < BINDING_TEXTS; i++)
		if (strcmp(*packed_text(x, i), text_of(nb, i)) != 0)
			return false;
	return true;
}

static void set_numbers(struct location_binding *x, const struct sip_binding *nb)
{
	x->cseq = nb->cseq;
	x->expires_at = nb->expires_at;
	x->registered_at = nb->registered_at;
	x->flow.kind = nb->flow.kind;
	x->flow.port = nb->flow.port;
	x->flow.conn_id = nb->flow.conn_id;
	x->flow.tls_null_cipher = nb->flow.tls_null_cipher;
}

int sip_location_put(struct sip_registrar *r, const struct sip_binding *nb)
{
	struct aor_bindings *b = sip_location_aor(r, nb->aor, true);
	if (!b)
		return -1;
	struct location_binding *x = sip_location_find(b, nb->contact, nb->device, nb->instance);
	if (x && !same_texts(x, nb)) {
		struct location_binding packed = {0};
		if (pack(nb, &packed) != 0)
			return -1;
		free((char *)x->aor);
		*x = packed;
	} else if (!x) {
		if (b->n == b->cap) {
			/* Most lines have one binding: room for a second is held for nothing. */
			size_t cap = b->cap ? b->cap * 2 : 1;
			struct location_binding *items = realloc(b->items, cap * sizeof(*items));
			if (!items)
				return -1;
			b->items = items, b->cap = cap;
		}
		x = &b->items[b->n];
		if (pack(nb, x) != 0)
			return -1;
		b->n++;
		r->count++;
	}
	set_numbers(x, nb);
	return 0;
}

/* What callers get: a copy with every text in its own array (each fits: it came from one). */
static void view(struct location_binding *x, struct sip_binding *out)
{
	out->cseq = x->cseq;
	out->expires_at = x->expires_at;
	out->registered_at = x->registered_at;
	out->flow = (struct sip_source){.kind = x->flow.kind,
	                                .port = x->flow.port,
	                                .conn_id = x->flow.conn_id,
	                                .tls_null_cipher = x->flow.tls_null_cipher};
	for (size_t i = 0; i < BINDING_TEXTS; i++)
		base_strlcpy((char *)out + binding_texts[i].text, *packed_text(x, i),
		             binding_texts[i].size);
}

void sip_location_remove(struct sip_registrar *r, struct aor_bindings *b, size_t i)
{
	free((char *)b->items[i].aor);
	b->items[i] = b->items[--b->n];
	r->count--;
}

/* ---- expiry and closed flows ---- */

struct expiry_ctx {
	struct sip_registrar *r;
	int64_t now;
};

static void expire_aor(void *arg, const char *key, void *value)
{
	struct expiry_ctx *c = arg;
	struct aor_bindings *b = value;
	for (size_t i = 0; i < b->n;) {
		if (b->items[i].expires_at > c->now) {
			i++;
			continue;
		}
		store_registration_delete(c->r->store, b->items[i].aor, b->items[i].contact, NULL);
		sip_location_remove(c->r, b, i);
	}
	if (b->n == 0)
		sip_location_aor_free(base_hash_remove(c->r->aors, key));
}

void sip_location_sweep(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct expiry_ctx c = {arg, base_time_now()};
	base_hash_foreach(c.r->aors, expire_aor, &c);
}

struct flow_ctx {
	struct sip_registrar *r;
	uint64_t conn_id;
	size_t dropped;
};

static void drop_flow_bindings(void *arg, const char *key, void *value)
{
	struct flow_ctx *c = arg;
	struct aor_bindings *b = value;
	for (size_t i = 0; i < b->n;) {
		struct location_binding *x = &b->items[i];
		if (x->flow.kind == SIP_TP_UDP || x->flow.conn_id != c->conn_id) {
			i++;
			continue;
		}
		store_registration_delete(c->r->store, x->aor, x->contact, NULL);
		sip_location_remove(c->r, b, i);
		c->dropped++;
	}
	if (b->n == 0)
		sip_location_aor_free(base_hash_remove(c->r->aors, key));
}

/* A phone reached only through its connection is unreachable once that connection closes
 * (as a flow in RFC 5626 §5.3): drop its bindings rather than ring a dead flow. It
 * registers again when it reconnects. */
void sip_location_flow_closed(void *arg, const struct sip_source *flow)
{
	struct flow_ctx c = {arg, flow->conn_id, 0};
	base_hash_foreach(c.r->aors, drop_flow_bindings, &c);
	if (c.dropped)
		base_log(BASE_LOG_INFO, "sip",
		         "%zu binding(s) dropped: %s connection from %s:%u closed", c.dropped,
		         sip_transport_name(flow->kind), flow->host, flow->port);
}

void sip_location_instance_id(struct sip_pl value, char *out, size_t size)
{
	if (value.l >= 2 && value.p[0] == '"' && value.p[value.l - 1] == '"')
		value = (struct sip_pl){value.p + 1, value.l - 2};
	if (value.l >= 2 && value.p[0] == '<' && value.p[value.l - 1] == '>')
		value = (struct sip_pl){value.p + 1, value.l - 2};
	sip_pl_strcpy(value, out, size);
}

void sip_location_load(void *arg, const struct store_registration *s)
{
	struct sip_registrar *r = arg;
	struct sip_binding b = {0};
	base_strlcpy(b.aor, s->aor, sizeof(b.aor));
	base_strlcpy(b.contact, s->contact, sizeof(b.contact));
	base_strlcpy(b.device, s->device, sizeof(b.device));
	base_strlcpy(b.instance, s->instance, sizeof(b.instance));
	base_strlcpy(b.user_agent, s->user_agent, sizeof(b.user_agent));
	base_strlcpy(b.call_id, s->call_id, sizeof(b.call_id));
	b.cseq = s->cseq;
	b.expires_at = s->expires_at;
	b.registered_at = s->registered_at;
	/* The flow: a stream connection did not survive the restart (conn_id 0 finds none),
	 * so the phone is reached again once it reconnects and refreshes. */
	b.flow.kind = strcmp(s->transport, "TLS") == 0   ? SIP_TP_TLS
	              : strcmp(s->transport, "TCP") == 0 ? SIP_TP_TCP
	                                                 : SIP_TP_UDP;
	const char *colon = strrchr(s->source, ':');
	if (colon) {
		const char *host = s->source[0] == '[' ? s->source + 1 : s->source;
		size_t len = (size_t)(colon - host) - (s->source[0] == '[');
		if (len < sizeof(b.flow.host)) {
			memcpy(b.flow.host, host, len);
			b.flow.host[len] = '\0';
		}
		b.flow.port = (uint16_t)atoi(colon + 1);
	}
	sip_location_put(r, &b);
}

size_t sip_registrar_lookup(struct sip_registrar *r, const char *aor, struct sip_binding *out,
                            size_t max)
{
	struct aor_bindings *b = sip_location_aor(r, aor, false);
	int64_t now = base_time_now();
	size_t n = 0;
	for (size_t i = 0; b && i < b->n; i++) {
		if (b->items[i].expires_at <= now)
			continue;
		if (n < max)
			view(&b->items[i], &out[n]);
		n++;
	}
	return n;
}

bool sip_location_same_flow(const struct location_flow *flow, const struct sip_source *src)
{
	if (flow->kind != src->kind)
		return false;
	if (flow->kind != SIP_TP_UDP)
		return flow->conn_id == src->conn_id;
	return flow->port == src->port && strcmp(flow->host, src->host) == 0;
}

bool sip_registrar_binding_of(struct sip_registrar *r, const char *aor,
                              const struct sip_source *src, struct sip_binding *out)
{
	struct aor_bindings *b = sip_location_aor(r, aor, false);
	int64_t now = base_time_now();
	for (size_t i = 0; b && i < b->n; i++) {
		if (b->items[i].expires_at > now &&
		    sip_location_same_flow(&b->items[i].flow, src)) {
			view(&b->items[i], out);
			return true;
		}
	}
	return false;
}

size_t sip_registrar_count(const struct sip_registrar *r)
{
	return r->count;
}
