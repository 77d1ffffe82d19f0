/*
 * The registrar and location service (RFC 3261 §10).
 *
 * Only provisioned devices register, each for its own lines. Who is registering is settled
 * first: by the TLS client certificate the system CA issued to the device, else by digest
 * credentials (the device's digest user or owner), else, for a non-secure device whose
 * profile does not ask for digest, by the line itself (Cisco phones register so). The device's
 * security mode then decides what is acceptable: authenticated and encrypted devices only
 * over TLS with their own certificate, unless the cluster runs non-secure.
 *
 * Bindings live in memory for speed (sip_location.c) and are written through to the store
 * before the 200 OK leaves, so a restart or a crash loses none.
 */
#include "sip/sip_registrar_int.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_LINE_DEVICES 32
#define MAX_CONTACTS     16

/* ---- configuration the registrar reads ---- */

static void read_param(struct sip_registrar *r, const char *kind, const char *name, char *out,
                       size_t size)
{
	json_t *p = NULL;
	if (store_get(r->store, store_kind_find(kind), name, &p, NULL) == 0)
		base_strlcpy(out, json_string_value(json_object_get(p, "value")), size);
	json_decref(p);
}

/* Parameters are read again only after the configuration changed. */
static void refresh_config(struct sip_registrar *r)
{
	if (r->config_generation == store_generation(r->store) && r->realm[0])
		return;
	r->config_generation = store_generation(r->store);
	base_strlcpy(r->realm, "ccmsipline", sizeof(r->realm));
	base_strlcpy(r->algorithms, "SHA-256,MD5", sizeof(r->algorithms));
	char mode[16] = "non_secure", null_sha[8] = "false";
	read_param(r, "service-parameters", "sip_station_realm", r->realm, sizeof(r->realm));
	read_param(r, "service-parameters", "sip_digest_algorithms", r->algorithms,
	           sizeof(r->algorithms));
	read_param(r, "enterprise-parameters", "cluster_security_mode", mode, sizeof(mode));
	read_param(r, "service-parameters", "sip_tls_null_sha", null_sha, sizeof(null_sha));
	r->cluster_non_secure = strcmp(mode, "mixed") != 0;
	r->tls_null_sha = strcmp(null_sha, "true") == 0;
	r->policy = (struct sip_auth_policy){r->realm, r->algorithms};
}

/* ---- answering ---- */

static void reply(struct sip_server_tx *tx, uint16_t status, const char *reason,
                  const char *headers)
{
	sip_server_tx_reply(tx, status, reason, headers, NULL, NULL, 0);
}

static void refuse_with_warning(struct sip_registrar *r, struct sip_server_tx *tx,
                                const char *reason, const char *warning)
{
	char headers[256];
	snprintf(headers, sizeof(headers), "Warning: 399 %s \"%s\"\r\n", r->hostname, warning);
	reply(tx, 403, reason, headers);
}

/* A security refusal with the Warning text Unified CM uses, which Jabber clients act on
 * (cisco-device-config.md §5.4): "Device security mismatch: expected TLS" makes one that
 * came over TCP reconnect over TLS; "TLS authentication failure" names a refused
 * certificate. */
static void refuse_security(struct sip_registrar *r, struct sip_server_tx *tx,
                            const struct sip_source *src, const char *reason)
{
	refuse_with_warning(r, tx, reason,
	                    src->kind == SIP_TP_TLS ? "TLS authentication failure"
	                                            : "Device security mismatch: expected TLS");
}

static void challenge(struct sip_registrar *r, struct sip_server_tx *tx, bool stale)
{
	char headers[1024];
	sip_auth_challenge(r->auth, &r->policy, stale, headers, sizeof(headers));
	sip_server_tx_reply_stateless(tx, 401, headers);
}

/* ---- who is registering ---- */

struct registration_request {
	const struct sip_msg *req;
	const struct sip_source *src;
	char aor[64];
	struct store_line_device devices[MAX_LINE_DEVICES];
	size_t ndevices;
	const struct store_line_device *device; /* the one registering, once known */
	char hint[64];                          /* device name a Cisco client put in Contact */
};

/* Every field but the device table, which is large (MAX_LINE_DEVICES entries) and read only
 * up to ndevices: zeroing it cost more than the rest of a REGISTER's bookkeeping. */
static void registration_request_init(struct registration_request *rr,
                                      const struct sip_server_tx *tx)
{
	rr->req = sip_server_tx_request(tx);
	rr->src = sip_server_tx_source(tx);
	rr->aor[0] = '\0';
	rr->ndevices = 0;
	rr->device = NULL;
	rr->hint[0] = '\0';
}

static const struct store_line_device *device_named(struct registration_request *rr,
                                                    const char *name)
{
	for (size_t i = 0; i < rr->ndevices; i++)
		if (strcasecmp(rr->devices[i].device, name) == 0)
			return &rr->devices[i];
	return NULL;
}

static bool is_secure(const struct sip_registrar *r, const struct store_line_device *d)
{
	return !r->cluster_non_secure && strcmp(d->security_mode, "non_secure") != 0;
}

/* A non-secure device registers over what its profile allows; TLS is always allowed. A
 * profile whose TLS comes from a secure mode that a non-secure cluster overrides allows all. */
static bool transport_allowed(const struct store_line_device *d, enum sip_transport_kind kind)
{
	if (kind == SIP_TP_TLS || strcmp(d->security_mode, "non_secure") != 0)
		return true;
	if (strcmp(d->transport, "tcp_udp") == 0)
		return true;
	return strcmp(d->transport, kind == SIP_TP_UDP ? "udp" : "tcp") == 0;
}

/* The device a digest user may register: the one it is the digest user of, else owns. */
static const struct store_line_device *device_of_user(struct registration_request *rr,
                                                      const char *user)
{
	const struct store_line_device *owned = NULL;
	for (size_t i = 0; i < rr->ndevices; i++) {
		const struct store_line_device *d = &rr->devices[i];
		if (*rr->hint && strcasecmp(d->device, rr->hint) != 0)
			continue;
		if (strcasecmp(d->digest_user, user) == 0)
			return d;
		if (!owned && strcasecmp(d->owner_user_id, user) == 0)
			owned = d;
	}
	return owned;
}

/* The device that may register without credentials: non-secure, no digest asked. */
static const struct store_line_device *device_without_digest(struct sip_registrar *r,
                                                             struct registration_request *rr)
{
	for (size_t i = 0; i < rr->ndevices; i++) {
		const struct store_line_device *d = &rr->devices[i];
		if (*rr->hint && strcasecmp(d->device, rr->hint) != 0)
			continue;
		if (!d->digest_required && !is_secure(r, d))
			return d;
	}
	return NULL;
}

static bool any_non_secure(struct sip_registrar *r, struct registration_request *rr)
{
	for (size_t i = 0; i < rr->ndevices; i++)
		if (!is_secure(r, &rr->devices[i]))
			return true;
	return false;
}

static int max_nonce_validity(const struct registration_request *rr)
{
	int v = 0;
	for (size_t i = 0; i < rr->ndevices; i++)
		if (rr->devices[i].nonce_validity > v)
			v = rr->devices[i].nonce_validity;
	return v > 0 ? v : 600;
}

/* A TLS connection that does not encrypt (NULL-SHA, see sip_tls_null_sha) carries SIP only for
 * a device that is in Authenticated mode now: an Encrypted device's signalling (and its SDES
 * keys) must be confidential, and a non-secure device has no business asking for a cipher
 * only Authenticated phones use. The Warning must not say "expected TLS": Jabber would only
 * reconnect over TLS the same way. 0 when src may carry d's requests (d NULL: a device no
 * longer on the line), else answered. */
static int check_null_cipher(struct sip_registrar *r, struct sip_server_tx *tx,
                             const struct sip_source *src, const struct store_line_device *d)
{
	if (!src->tls_null_cipher ||
	    (d && is_secure(r, d) && strcmp(d->security_mode, "authenticated") == 0))
		return 0;
	base_log(BASE_LOG_WARN, "sip",
	         "refused %s from %s: a NULL-cipher TLS connection, but the device is in %s mode",
	         d ? d->device : "a removed device", src->host,
	         !d || r->cluster_non_secure ? "non_secure" : d->security_mode);
	refuse_with_warning(r, tx, "NULL Cipher Only For Authenticated Devices",
	                    "Device security mismatch: NULL cipher is for Authenticated mode only");
	return -1;
}

/* Settles rr->device, or answers the request (challenge or refusal) and returns -1. */
static int identify(struct sip_registrar *r, struct sip_server_tx *tx,
                    struct registration_request *rr)
{
	const struct sip_source *src = rr->src;
	if (*src->tls_peer) {
		rr->device = device_named(rr, src->tls_peer);
		if (!rr->device) {
			base_log(BASE_LOG_WARN, "sip", "certificate of %s used for line %s from %s",
			         src->tls_peer, rr->aor, src->host);
			refuse_security(r, tx, src, "Certificate Not For This Line");
			return -1;
		}
	}
	bool needs_digest = rr->device && rr->device->digest_required;
	if (!rr->device || needs_digest || sip_msg_hdr(rr->req, SIP_HDR_AUTHORIZATION)) {
		char user[129];
		enum sip_auth_result res =
		    sip_auth_check(r->auth, rr->req, src, &r->policy,
		                   rr->device ? rr->device->nonce_validity : max_nonce_validity(rr),
		                   user, sizeof(user));
		switch (res) {
		case SIP_AUTH_OK: {
			const struct store_line_device *d = device_of_user(rr, user);
			if (!d || (rr->device && d != rr->device)) {
				reply(tx, 403, "User Not Allowed On This Line", NULL);
				return -1;
			}
			rr->device = d;
			break;
		}
		case SIP_AUTH_THROTTLED:
			reply(tx, 403, "Too Many Failed Attempts", NULL);
			return -1;
		case SIP_AUTH_STALE:
			challenge(r, tx, true);
			return -1;
		case SIP_AUTH_FAILED:
			challenge(r, tx, false);
			return -1;
		case SIP_AUTH_CHALLENGE:
			if (!rr->device)
				rr->device = device_without_digest(r, rr);
			if (!rr->device && !any_non_secure(r, rr)) {
				/* Only a certificate can identify these devices: digest never
				 * will, so do not ask for it. */
				refuse_security(r, tx, src,
				                "Device Must Use TLS With Its Certificate");
				return -1;
			}
			if (!rr->device || rr->device->digest_required) {
				challenge(r, tx, false);
				return -1;
			}
			break;
		}
	}
	const struct store_line_device *d = rr->device;
	if (is_secure(r, d) &&
	    (src->kind != SIP_TP_TLS || strcasecmp(src->tls_peer, d->device) != 0)) {
		base_log(BASE_LOG_WARN, "sip",
		         "refused %s for line %s from %s: %s mode needs TLS with its certificate",
		         d->device, rr->aor, src->host, d->security_mode);
		refuse_security(r, tx, src, "Device Must Use TLS With Its Certificate");
		return -1;
	}
	if (check_null_cipher(r, tx, src, d) != 0)
		return -1;
	if (!is_secure(r, d) && !transport_allowed(d, src->kind)) {
		reply(tx, 403, "Transport Not Allowed By Security Profile", NULL);
		return -1;
	}
	return 0;
}

/* ---- the bindings of one request ---- */

struct contact_change {
	char contact[512];
	char instance[128];
	long expires;
};

/* Reads the Contact headers into changes; answers and returns -1 when they are wrong. */
static int read_contacts(struct sip_server_tx *tx, const struct registration_request *rr,
                         struct contact_change *out, size_t *n, bool *wildcard)
{
	const struct sip_msg *req = rr->req;
	*n = 0, *wildcard = false;
	const struct sip_hdr *first = sip_msg_hdr(req, SIP_HDR_CONTACT);
	for (const struct sip_hdr *h = first; h; h = sip_msg_hdr_next(req, h)) {
		/* The parser has checked every Contact and kept the first one parsed. */
		struct sip_addr later;
		const struct sip_addr *a = h == first ? &req->contact : &later;
		if (h != first && sip_addr_parse(h->value, &later) != 0) {
			reply(tx, 400, "Bad Contact", NULL);
			return -1;
		}
		if (a->wildcard) {
			if (req->expires != 0 || *n > 0 || sip_msg_hdr_next(req, h)) {
				reply(tx, 400, "Wildcard Contact Needs Expires 0 Alone", NULL);
				return -1;
			}
			*wildcard = true;
			return 0;
		}
		if (*n == MAX_CONTACTS || a->uri_text.l >= sizeof(out->contact)) {
			reply(tx, 400, "Too Many Or Too Long Contacts", NULL);
			return -1;
		}
		struct contact_change *c = &out[(*n)++];
		sip_pl_strcpy(a->uri_text, c->contact, sizeof(c->contact));
		struct sip_pl v;
		uint32_t e;
		c->instance[0] = '\0';
		if (sip_param_get(a->params, "+sip.instance", &v))
			sip_location_instance_id(v, c->instance, sizeof(c->instance));
		if (sip_param_get(a->params, "expires", &v) && sip_pl_u32(v, UINT32_MAX, &e) == 0)
			c->expires = e;
		else
			c->expires =
			    req->expires >= 0 ? req->expires : rr->device->register_expires;
		if (c->expires > 0 && c->expires < SIP_MIN_EXPIRES) {
			char headers[64];
			snprintf(headers, sizeof(headers), "Min-Expires: %d\r\n", SIP_MIN_EXPIRES);
			reply(tx, 423, NULL, headers);
			return -1;
		}
		/* The SIP profile's timer is what the device is told (and the most it gets). */
		if (c->expires > rr->device->register_expires)
			c->expires = rr->device->register_expires;
	}
	return 0;
}

/* "host:port", "[v6]:port" on IPv6: what the registrations API shows as a binding's source.
 * By hand rather than with snprintf, since every REGISTER stores one. */
static void format_source(const struct sip_source *src, char *out, size_t size)
{
	bool v6 = strchr(src->host, ':') != NULL;
	struct base_text t;
	base_text_init(&t, out, size);
	if (v6)
		base_text_add(&t, "[", 1);
	base_text_adds(&t, src->host);
	base_text_add(&t, v6 ? "]:" : ":", v6 ? 2 : 1);
	base_text_add_uint(&t, src->port);
}

static void to_store(const struct sip_binding *b, struct store_registration *s)
{
	memset(s, 0, sizeof(*s));
	base_strlcpy(s->aor, b->aor, sizeof(s->aor));
	base_strlcpy(s->contact, b->contact, sizeof(s->contact));
	base_strlcpy(s->device, b->device, sizeof(s->device));
	base_strlcpy(s->instance, b->instance, sizeof(s->instance));
	base_strlcpy(s->transport, sip_transport_name(b->flow.kind), sizeof(s->transport));
	format_source(&b->flow, s->source, sizeof(s->source));
	base_strlcpy(s->user_agent, b->user_agent, sizeof(s->user_agent));
	base_strlcpy(s->call_id, b->call_id, sizeof(s->call_id));
	s->cseq = b->cseq;
	s->expires_at = b->expires_at;
	s->registered_at = b->registered_at;
}

/* `refresh`: the binding replaces one of the same device and contact, whose row the store
 * then likely has already. */
static int store_binding(struct sip_registrar *r, const struct sip_binding *b, bool refresh,
                         struct base_err *err)
{
	struct store_registration s;
	to_store(b, &s);
	s.refresh = refresh;
	return store_registration_put(r->store, &s, err);
}

static int apply_change(struct sip_registrar *r, const struct registration_request *rr,
                        const struct contact_change *c, struct base_err *err)
{
	struct aor_bindings *b = sip_location_aor(r, rr->aor, false);
	if (c->expires == 0) {
		for (size_t i = 0; b && i < b->n; i++) {
			if (strcmp(b->items[i].contact, c->contact) != 0)
				continue;
			if (store_registration_delete(r->store, rr->aor, c->contact, err) != 0)
				return -1;
			sip_location_remove(r, b, i);
			break;
		}
		return 0;
	}
	const struct sip_msg *req = rr->req;
	struct sip_binding nb = {0};
	base_strlcpy(nb.aor, rr->aor, sizeof(nb.aor));
	base_strlcpy(nb.contact, c->contact, sizeof(nb.contact));
	base_strlcpy(nb.device, rr->device->device, sizeof(nb.device));
	base_strlcpy(nb.instance, c->instance, sizeof(nb.instance));
	const struct sip_hdr *ua = sip_msg_hdr(req, SIP_HDR_USER_AGENT);
	if (ua)
		sip_pl_strcpy(ua->value, nb.user_agent, sizeof(nb.user_agent));
	sip_pl_strcpy(req->call_id, nb.call_id, sizeof(nb.call_id));
	nb.cseq = req->cseq.number;
	nb.flow = *rr->src;
	nb.registered_at = base_time_now();
	nb.expires_at = nb.registered_at + c->expires;
	const struct location_binding *old =
	    b ? sip_location_find(b, c->contact, nb.device, nb.instance) : NULL;
	/* An older request overtaken by a newer one is dropped (§10.3 step 7). An equal CSeq is
	 * a refresh, not a retransmission (the transaction layer absorbs those): Jabber sends
	 * every refresh with the same Call-ID and CSeq 101 (cisco-device-config.md §5.2). */
	if (old && strcmp(old->call_id, nb.call_id) == 0 && old->cseq > nb.cseq)
		return 0;
	if (old && strcmp(old->contact, nb.contact) != 0 &&
	    store_registration_delete(r->store, rr->aor, old->contact, err) != 0)
		return -1;
	if (old)
		nb.registered_at = old->registered_at;
	bool refresh =
	    old && strcmp(old->contact, nb.contact) == 0 && strcasecmp(old->device, nb.device) == 0;
	if (store_binding(r, &nb, refresh, err) != 0)
		return -1;
	return sip_location_put(r, &nb) == 0
	           ? 0
	           : base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
}

/* ---- one client per device ----
 *
 * Unified CM lets one client at a time register a device. A second Jabber client of the same
 * device, started on another computer while the first is still connected, is refused with the
 * Warning that makes Jabber ask its user whether to force the registration; if so, it
 * registers again with Reason "cisco-alarm:111 ... Last=Application-Requested-Destroy" (and
 * CSeq 102 and a random instance, cisco-device-config.md §5.2 and §5.4), which takes the line
 * over: the other client's bindings go, and its next refresh is refused the same way.
 *
 * Only Jabber devices whose client says it understands this (option tag X-cisco-duplicate-reg)
 * are refused. Anything else could not answer and would be locked out until the old binding
 * expired: a desk phone that restarted while its old TCP connection is not yet known dead
 * comes back from another flow with a new Call-ID too. It just registers, as RFC 3261 allows. */

static bool other_client(const struct location_binding *b, const struct sip_source *src,
                         const struct sip_msg *req)
{
	return !sip_location_same_flow(&b->flow, src) && !sip_pl_eq(req->call_id, b->call_id);
}

static bool forces_registration(const struct sip_msg *req)
{
	const struct sip_hdr *reason = sip_msg_hdr_named(req, "Reason");
	return reason && memmem(reason->value.p, reason->value.l, "cisco-alarm:111", 15);
}

/* Removes the device's bindings of the line; when `keeping` is given, only those of clients
 * other than the one that sent it. */
static int remove_device_bindings(struct sip_registrar *r, const struct registration_request *rr,
                                  const struct sip_msg *keeping, struct base_err *err)
{
	struct aor_bindings *b = sip_location_aor(r, rr->aor, false);
	for (size_t i = 0; b && i < b->n;) {
		const struct location_binding *it = &b->items[i];
		if (strcasecmp(it->device, rr->device->device) != 0 ||
		    (keeping && !other_client(it, rr->src, keeping))) {
			i++;
			continue;
		}
		if (store_registration_delete(r->store, rr->aor, it->contact, err) != 0)
			return -1;
		sip_location_remove(r, b, i);
	}
	return 0;
}

/* 0: the line is this client's to register (another client's bindings of the device gone if
 * it forced); -1: answered. */
static int claim_device(struct sip_registrar *r, struct sip_server_tx *tx,
                        const struct registration_request *rr)
{
	if (!store_device_type_is_jabber(rr->device->type) ||
	    !sip_msg_supports(rr->req, "X-cisco-duplicate-reg"))
		return 0; /* a desk phone's REGISTER costs no more than before */
	struct aor_bindings *b = sip_location_aor(r, rr->aor, false);
	int64_t now = base_time_now();
	bool held = false;
	for (size_t i = 0; b && i < b->n && !held; i++)
		held = b->items[i].expires_at > now &&
		       strcasecmp(b->items[i].device, rr->device->device) == 0 &&
		       other_client(&b->items[i], rr->src, rr->req);
	if (!held)
		return 0;
	if (!forces_registration(rr->req)) {
		refuse_with_warning(r, tx, NULL, "Registration is active for another client");
		return -1;
	}
	struct base_err err = {0};
	if (remove_device_bindings(r, rr, rr->req, &err) != 0) {
		base_log(BASE_LOG_ERROR, "sip", "%s could not take %s over from another client: %s",
		         rr->device->device, rr->aor, err.message);
		reply(tx, 500, NULL, NULL);
		return -1;
	}
	base_log(BASE_LOG_INFO, "sip", "%s forced its registration of %s from %s",
	         rr->device->device, rr->aor, rr->src->host);
	return 0;
}

/* The 200 lists the line's bindings (RFC 3261 §10.3 step 8) and, as Unified CM does, says in an
 * Expires header what the registering contact was granted: Jabber schedules its refresh from
 * that header and fails the registration without it (cisco-device-config.md §5.4). */
static void reply_bindings(struct sip_registrar *r, struct sip_server_tx *tx, const char *aor,
                           long granted)
{
	struct sip_buf h;
	sip_buf_init(&h);
	if (granted >= 0) {
		sip_buf_add(&h, "Expires: ", 9);
		sip_buf_add_uint(&h, (unsigned long long)granted);
		sip_buf_add(&h, "\r\n", 2);
	}
	struct aor_bindings *b = sip_location_aor(r, aor, false);
	int64_t now = base_time_now();
	for (size_t i = 0; b && i < b->n; i++) {
		int64_t left = b->items[i].expires_at - now;
		sip_buf_add(&h, "Contact: <", 10);
		sip_buf_adds(&h, b->items[i].contact);
		sip_buf_add(&h, ">;expires=", 10);
		sip_buf_add_uint(&h, left > 0 ? (unsigned long long)left : 0);
		sip_buf_add(&h, "\r\n", 2);
	}
	sip_buf_add(&h, "", 1); /* NUL-terminate */
	reply(tx, 200, NULL, h.failed ? NULL : h.data);
	sip_buf_free(&h);
}

void sip_registrar_handle(struct sip_registrar *r, struct sip_server_tx *tx)
{
	struct registration_request rr;
	registration_request_init(&rr, tx);
	refresh_config(r);
	struct sip_pl user = rr.req->to.uri.user;
	if (user.l == 0 || user.l >= sizeof(rr.aor)) {
		reply(tx, 404, NULL, NULL);
		return;
	}
	sip_pl_strcpy(user, rr.aor, sizeof(rr.aor));
	struct base_err err = {0};
	if (store_line_devices(r->store, rr.aor, rr.devices, MAX_LINE_DEVICES, &rr.ndevices,
	                       &err) != 0) {
		reply(tx, 500, NULL, NULL);
		return;
	}
	if (rr.ndevices == 0) {
		reply(tx, 404, NULL, NULL); /* only provisioned lines may register */
		return;
	}
	struct sip_pl hint;
	if (sip_param_get(rr.req->contact.params, "+u.sip!devicename.ccm.cisco.com", &hint)) {
		/* Jabber quotes the value (RFC 3840 string feature tag): "SEP...". */
		if (hint.l >= 2 && hint.p[0] == '"' && hint.p[hint.l - 1] == '"')
			hint = (struct sip_pl){hint.p + 1, hint.l - 2};
		sip_pl_strcpy(hint, rr.hint, sizeof(rr.hint));
	}
	if (identify(r, tx, &rr) != 0)
		return;
	struct contact_change changes[MAX_CONTACTS];
	size_t n;
	bool wildcard;
	if (read_contacts(tx, &rr, changes, &n, &wildcard) != 0)
		return;
	if (!wildcard && n > 0 && changes[0].expires > 0 && claim_device(r, tx, &rr) != 0)
		return;
	int rc = wildcard ? remove_device_bindings(r, &rr, NULL, &err) : 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = apply_change(r, &rr, &changes[i], &err);
	if (rc != 0) {
		base_log(BASE_LOG_ERROR, "sip", "registration of %s for %s not stored: %s",
		         rr.device->device, rr.aor, err.message);
		reply(tx, 500, NULL, NULL);
		return;
	}
	reply_bindings(r, tx, rr.aor, n ? changes[0].expires : -1);
}

/* ---- start and stop ---- */

/* Asked by the TLS listener at a ClientHello that offers NULL-SHA. */
static bool null_sha_allowed(void *arg)
{
	struct sip_registrar *r = arg;
	refresh_config(r);
	return r->tls_null_sha;
}

int sip_registrar_start(struct sip_registrar **out, struct event_base *base, struct store *store,
                        struct sip_stack *stack, struct base_err *err)
{
	struct sip_registrar *r = calloc(1, sizeof(*r));
	if (!r)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	r->store = store, r->stack = stack;
	if (gethostname(r->hostname, sizeof(r->hostname)) != 0 || !r->hostname[0])
		base_strlcpy(r->hostname, "ucmd", sizeof(r->hostname));
	r->hostname[sizeof(r->hostname) - 1] = '\0';
	r->aors = base_hash_new();
	r->auth = sip_auth_new(base, store);
	r->sweep = event_new(base, -1, EV_PERSIST, sip_location_sweep, r);
	struct timeval tv = {SWEEP_SECONDS, 0};
	if (!r->aors || !r->auth || !r->sweep || event_add(r->sweep, &tv) != 0) {
		sip_registrar_stop(r);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	sip_transport_set_close_handler(sip_stack_transport(stack), sip_location_flow_closed, r);
	sip_transport_set_null_sha_policy(sip_stack_transport(stack), null_sha_allowed, r);
	if (store_registration_load(store, base_time_now(), sip_location_load, r, err) != 0) {
		sip_registrar_stop(r);
		return -1;
	}
	base_log(BASE_LOG_INFO, "sip", "registrar started with %zu bindings", r->count);
	*out = r;
	return 0;
}

void sip_registrar_stop(struct sip_registrar *r)
{
	if (!r)
		return;
	if (r->stack)
		sip_transport_set_null_sha_policy(sip_stack_transport(r->stack), NULL, NULL);
	if (r->sweep)
		event_free(r->sweep);
	sip_auth_free(r->auth);
	base_hash_free(r->aors, sip_location_aor_free);
	free(r);
}

int sip_registrar_authorize(struct sip_registrar *r, struct sip_server_tx *tx,
                            const struct sip_binding *b)
{
	refresh_config(r);
	struct registration_request rr;
	registration_request_init(&rr, tx);
	base_strlcpy(rr.aor, b->aor, sizeof(rr.aor));
	if (store_line_devices(r->store, rr.aor, rr.devices, MAX_LINE_DEVICES, &rr.ndevices,
	                       NULL) != 0) {
		reply(tx, 500, NULL, NULL);
		return -1;
	}
	const struct store_line_device *d = device_named(&rr, b->device);
	if (check_null_cipher(r, tx, rr.src, d) != 0)
		return -1;
	if (!d || !d->digest_required)
		return 0;
	char user[129];
	switch (sip_auth_check(r->auth, rr.req, rr.src, &r->policy, d->nonce_validity, user,
	                       sizeof(user))) {
	case SIP_AUTH_OK:
		if (strcasecmp(d->digest_user, user) == 0 ||
		    strcasecmp(d->owner_user_id, user) == 0)
			return 0;
		reply(tx, 403, "User Not Allowed On This Device", NULL);
		return -1;
	case SIP_AUTH_THROTTLED:
		reply(tx, 403, "Too Many Failed Attempts", NULL);
		return -1;
	case SIP_AUTH_STALE:
		challenge(r, tx, true);
		return -1;
	default:
		challenge(r, tx, false);
		return -1;
	}
}
