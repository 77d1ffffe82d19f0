/* The registrar and its location service (sip_registrar.c, sip_location.c): private. */
#ifndef SIP_REGISTRAR_INT_H
#define SIP_REGISTRAR_INT_H

#include "sip/sip_auth.h"
#include "store/store.h"

#include <event2/util.h>

#define SWEEP_SECONDS 5

/* The bindings of one directory number. */
struct aor_bindings {
	struct sip_binding *items;
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
struct sip_binding *sip_location_find(struct aor_bindings *b, const char *contact,
                                      const char *device, const char *instance);
/* Adds nb, or replaces the binding sip_location_find gives for it. */
int sip_location_put(struct sip_registrar *r, const struct sip_binding *nb);
void sip_location_remove(struct sip_registrar *r, struct aor_bindings *b, size_t i);
/* Whether two requests came the same way: one connection, or one UDP address and port. */
bool sip_location_same_flow(const struct sip_source *a, const struct sip_source *b);
/* The sweep event (every SWEEP_SECONDS), the transport's close handler and the store loader. */
void sip_location_sweep(evutil_socket_t fd, short events, void *arg);
void sip_location_flow_closed(void *arg, const struct sip_source *flow);
void sip_location_load(void *arg, const struct store_registration *s);

/* The instance ID of a +sip.instance Contact parameter (RFC 5626 §4.1): the URN inside the
 * quotes and angle brackets of "<urn:uuid:...>", as clients send it. */
void sip_location_instance_id(struct sip_pl value, char *out, size_t size);

#endif
