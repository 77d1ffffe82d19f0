/* The registrar and its location service (sip_registrar.c, sip_location.c): private. */
#ifndef SIP_REGISTRAR_INT_H
#define SIP_REGISTRAR_INT_H

#include "sip/sip_auth.h"
#include "store/store.h"

#include <event2/util.h>

#define SWEEP_SECONDS 5

/* How a binding's device is reached, as struct sip_source says it, with the texts packed. */
struct location_flow {
	enum sip_transport_kind kind;
	uint16_t port;
	bool tls_null_cipher;
	uint64_t conn_id;
	const char *host, *tls_peer;
};

/* A binding as the location service keeps it. The struct sip_binding that callers get copies
 * of holds each text in a fixed-size array, over a kilobyte per binding and nearly all of it
 * unused: with 100,000 bindings, most of the registrar's memory. Here the texts are packed,
 * each NUL-terminated, into one allocation, which `aor` starts. */
struct location_binding {
	const char *aor, *contact, *device, *instance, *user_agent, *call_id;
	uint32_t cseq;
	int64_t expires_at;
	int64_t registered_at;
	struct location_flow flow;
};

/* The bindings of one directory number. */
struct aor_bindings {
	struct location_binding *items;
	size_t n, cap;
};

struct sip_registrar {
	struct store *store;
	struct sip_stack *stack;
	struct sip_auth *auth;
	struct base_hash *aors; /* lower-case directory number -> struct aor_bindings */
	size_t count;
	struct event *sweep;
	uint64_t config_generation;
	char realm[128];
	char algorithms[32];
	char hostname[128]; /* the warn-agent of Warning headers */
	struct sip_auth_policy policy;
	bool cluster_non_secure;
	bool tls_null_sha; /* service parameter sip_tls_null_sha */
};

/* The bindings of aor (made empty if create and there are none), NULL if none or no memory. */
struct aor_bindings *sip_location_aor(struct sip_registrar *r, const char *aor, bool create);
void sip_location_aor_free(void *value);
/* The binding with this contact, or of this device's instance. */
struct location_binding *sip_location_find(struct aor_bindings *b, const char *contact,
                                           const char *device, const char *instance);
/* Adds nb, or replaces the binding sip_location_find gives for it. */
int sip_location_put(struct sip_registrar *r, const struct sip_binding *nb);
void sip_location_remove(struct sip_registrar *r, struct aor_bindings *b, size_t i);
/* Whether a request came the way the binding was registered: over its connection, or from its
 * UDP address and port. */
bool sip_location_same_flow(const struct location_flow *flow, const struct sip_source *src);
/* The sweep event (every SWEEP_SECONDS), the transport's close handler and the store loader. */
void sip_location_sweep(evutil_socket_t fd, short events, void *arg);
void sip_location_flow_closed(void *arg, const struct sip_source *flow);
void sip_location_load(void *arg, const struct store_registration *s);

/* The instance ID of a +sip.instance Contact parameter (RFC 5626 §4.1): the URN inside the
 * quotes and angle brackets of "<urn:uuid:...>", as clients send it. */
void sip_location_instance_id(struct sip_pl value, char *out, size_t size);

#endif
