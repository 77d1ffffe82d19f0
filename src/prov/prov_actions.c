/*
 * Device actions: the admin layer records apply-config, reset and restart requests in the
 * store (one per device, also when asked of a profile); this carries them out. Whenever the
 * store's generation moves (every request commits), the pending actions are read and each
 * registered phone gets the NOTIFY that makes it act, over the flow it registered on:
 *
 *   Cisco phones and Jabber   Event: service-control, text/plain "action=apply-config|restart|
 *                             reset" with the register Call-ID and the config version stamp
 *                             (the Cisco SIP stack's service-control handler reads these keys)
 *   multiplatform phones      Event: resync (mpp-provisioning.md)
 *   other SIP phones          Event: check-sync, with ;reboot=true to restart
 *
 * An action is done once a device answered 2xx, failed when the device is not registered or
 * no contact accepted it.
 */
#include "prov/prov_int.h"
#include "sip/sip.h"
#include "store/store.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POLL_MS      200
#define MAX_PENDING  64
#define MAX_BINDINGS 16

struct prov_actions {
	struct event_base *base;
	struct store *store;
	struct sip_stack *sip;
	struct sip_registrar *registrar;
	struct prov_files *files;
	struct event *poll;
	uint64_t generation;
	struct running *running; /* actions waiting for their NOTIFY answers */
};

/* One action whose NOTIFYs are on their way. */
struct running {
	struct prov_actions *pa;
	struct running *next;
	int64_t id;
	char device[64];
	int outstanding;
	bool accepted;
	struct sip_client_tx *tx[MAX_BINDINGS]; /* NULL once answered */
};

static void finish(struct prov_actions *pa, int64_t id, const char *device, bool done,
                   const char *why)
{
	struct base_err err = {0};
	if (store_device_action_finish(pa->store, id, done, &err) != 0)
		base_log(BASE_LOG_ERROR, "prov", "action %lld on %s: %s", (long long)id, device,
		         err.message);
	base_log(BASE_LOG_INFO, "prov", "action %lld on %s %s", (long long)id, device, why);
}

static void unlink_running(struct running *r)
{
	for (struct running **p = &r->pa->running; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
}

static void on_response(void *arg, struct sip_client_tx *tx, const struct sip_msg *resp)
{
	(void)tx;
	struct running *r = arg;
	if (resp->status < 200)
		return;
	for (size_t i = 0; tx && i < MAX_BINDINGS; i++)
		if (r->tx[i] == tx)
			r->tx[i] = NULL;
	r->accepted |= resp->status < 300;
	if (--r->outstanding > 0)
		return;
	finish(r->pa, r->id, r->device, r->accepted,
	       r->accepted ? "accepted by the phone" : "refused or unanswered by the phone");
	unlink_running(r);
	free(r);
}

/* The versionStamp of the configuration the device would fetch from the address it reaches
 * us at, so that the phone can tell whether it has it already; empty when there is none. */
static void version_stamp(struct prov_actions *pa, const char *device, const struct sip_binding *b,
                          char *out, size_t size)
{
	char name[96], host[64];
	uint16_t port;
	struct prov_file *f = NULL;
	*out = '\0';
	snprintf(name, sizeof(name), "%s.cnf.xml", device);
	sip_stack_local(pa->sip, &b->flow, host, sizeof(host), &port);
	struct base_err err;
	if (prov_files_fetch(pa->files, name, PROV_VIA_HTTP, host, &f, NULL, NULL, &err) != 0)
		return;
	const char *start = memmem(f->data, f->len, "<versionStamp>", 14);
	const char *end =
	    start ? memmem(start, f->len - (size_t)(start - (char *)f->data), "</versionStamp>", 15)
	          : NULL;
	if (end && (size_t)(end - start - 14) < size)
		base_strlcpy(out, start + 14, (size_t)(end - start - 14) + 1);
	prov_file_unref(f);
}

/* The event and body that ask a device of `type` to carry out `action`. */
static const char *notify_event(const char *type, const char *action, const char *call_id,
                                const char *stamp, char *body, size_t size,
                                const char **content_type)
{
	*content_type = NULL;
	*body = '\0';
	bool cisco = strcmp(type, "cisco_sip_phone") == 0 || strcmp(type, "csf") == 0 ||
	             strcmp(type, "tct") == 0 || strcmp(type, "bot") == 0 ||
	             strcmp(type, "tab") == 0;
	if (cisco) {
		*content_type = "text/plain";
		snprintf(body, size,
		         "action=%s\r\nRegisterCallId={%s}\r\nConfigVersionStamp={%s}\r\n"
		         "DialplanVersionStamp={}\r\nSoftkeyVersionStamp={}\r\n"
		         "FeatureControlVersionStamp={}\r\nCUCMResult={config_applied}\r\n"
		         "FirmwareLoadId={}\r\nInactiveFirmwareLoadId={}\r\nLoadServer={}\r\n"
		         "LogServer={}\r\nPPID={disabled}\r\n",
		         action, call_id, stamp);
		return "service-control";
	}
	if (strcmp(type, "mpp") == 0)
		return "resync";
	return strcmp(action, "apply-config") == 0 ? "check-sync" : "check-sync;reboot=true";
}

/* The live bindings of the device, one per contact and flow. */
static size_t device_bindings(struct prov_actions *pa, const json_t *device,
                              struct sip_binding *out, size_t max)
{
	size_t n = 0, i;
	json_t *line;
	const char *name = json_string_value(json_object_get(device, "name"));
	json_array_foreach(json_object_get(device, "lines"), i, line)
	{
		struct sip_binding found[MAX_BINDINGS];
		const char *dn = json_string_value(json_object_get(line, "directory_number"));
		size_t k = sip_registrar_lookup(pa->registrar, dn, found, MAX_BINDINGS);
		for (size_t j = 0; j < k && j < MAX_BINDINGS && n < max; j++) {
			if (strcasecmp(found[j].device, name) != 0)
				continue;
			bool seen = false;
			for (size_t s = 0; s < n; s++)
				seen |= strcmp(out[s].contact, found[j].contact) == 0 &&
				        out[s].flow.conn_id == found[j].flow.conn_id;
			if (!seen)
				out[n++] = found[j];
		}
	}
	return n;
}

static void carry_out(struct prov_actions *pa, const struct store_device_action *a)
{
	json_t *device = NULL;
	if (!pa->registrar || !pa->sip ||
	    store_get(pa->store, store_kind_find("devices"), a->device, &device, NULL) != 0) {
		finish(pa, a->id, a->device, false, "failed: no such device or no SIP service");
		return;
	}
	struct sip_binding b[MAX_BINDINGS];
	size_t n = device_bindings(pa, device, b, MAX_BINDINGS);
	const char *type = json_string_value(json_object_get(device, "type"));
	struct running *r = n ? calloc(1, sizeof(*r)) : NULL;
	if (!r) {
		finish(pa, a->id, a->device, false,
		       n ? "failed: out of memory" : "failed: the device is not registered");
		json_decref(device);
		return;
	}
	r->pa = pa, r->id = a->id;
	base_strlcpy(r->device, a->device, sizeof(r->device));
	r->next = pa->running;
	pa->running = r;
	r->outstanding = (int)n;
	for (size_t i = 0; i < n; i++) {
		char body[768], stamp[64];
		const char *ctype;
		version_stamp(pa, a->device, &b[i], stamp, sizeof(stamp));
		const char *event =
		    notify_event(type, a->action, b[i].call_id, stamp, body, sizeof(body), &ctype);
		base_log(BASE_LOG_INFO, "prov", "%s of %s: NOTIFY %s to %s over %s", a->action,
		         a->device, event, b[i].contact, sip_transport_name(b[i].flow.kind));
		/* A NOTIFY that cannot be sent still answers (503) through on_response. */
		r->tx[i] = sip_notify_binding(pa->sip, &b[i], event, ctype, body, on_response, r);
		if (!r->tx[i])
			on_response(r, NULL, &(struct sip_msg){.status = 503});
	}
	json_decref(device);
}

static void on_poll(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct prov_actions *pa = arg;
	if (store_generation(pa->store) != pa->generation) {
		pa->generation = store_generation(pa->store);
		struct store_device_action pending[MAX_PENDING];
		size_t n = 0;
		struct base_err err = {0};
		if (store_device_actions_pending(pa->store, pending, MAX_PENDING, &n, &err) != 0)
			base_log(BASE_LOG_ERROR, "prov", "device actions: %s", err.message);
		for (size_t i = 0; i < n; i++) {
			bool running = false;
			for (struct running *r = pa->running; r; r = r->next)
				running |= r->id == pending[i].id;
			if (!running)
				carry_out(pa, &pending[i]);
		}
		/* More than one batch waiting: look again at the next tick. */
		if (n == MAX_PENDING)
			pa->generation--;
	}
	struct timeval tv = {0, POLL_MS * 1000};
	evtimer_add(pa->poll, &tv);
}

int prov_actions_start(struct prov_actions **out, struct event_base *base, struct store *store,
                       struct prov_files *files, struct sip_stack *sip,
                       struct sip_registrar *registrar, struct base_err *err)
{
	struct prov_actions *pa = calloc(1, sizeof(*pa));
	if (!pa || !(pa->poll = evtimer_new(base, on_poll, pa))) {
		free(pa);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	pa->base = base, pa->store = store, pa->sip = sip, pa->registrar = registrar;
	pa->files = files;
	pa->generation = store_generation(store) - 1; /* look once at start */
	struct timeval tv = {0, POLL_MS * 1000};
	evtimer_add(pa->poll, &tv);
	*out = pa;
	return 0;
}

void prov_actions_stop(struct prov_actions *pa)
{
	if (!pa)
		return;
	event_free(pa->poll);
	/* Transactions still running must not report to what is gone. */
	while (pa->running) {
		struct running *r = pa->running;
		pa->running = r->next;
		for (size_t i = 0; i < MAX_BINDINGS; i++)
			if (r->tx[i])
				sip_client_tx_detach(r->tx[i]);
		free(r);
	}
	free(pa);
}
