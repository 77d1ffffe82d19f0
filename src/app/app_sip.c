/*
 * The SIP service as ucmd runs it: which requests go where. REGISTER goes to the registrar;
 * INVITE, CANCEL, BYE, REFER, INFO and UPDATE to call control; OPTIONS (used by phones and peers as
 * a ping) is answered with what we support; methods this server does not handle get 501, as RFC
 * 3261 §8.2.1 asks.
 */
#include "app/app_sip.h"

#include <stdlib.h>
#include <string.h>

#define ALLOW "Allow: REGISTER, INVITE, ACK, CANCEL, BYE, REFER, INFO, UPDATE, OPTIONS\r\n"

struct app_sip {
	struct sip_stack *stack;
	struct sip_registrar *registrar;
	struct call_service *calls;
	struct pki *pki;
	SSL_CTX *tls; /* attached to pki for CRL and certificate reloads */
};

/* Every connection event of every call, at debug level: the trace an administrator follows a
 * call by, in the words CTI reports it with (CTI observes the same events). */
static void trace_call_event(void *arg, const struct call_event *ev)
{
	(void)arg;
	base_log(BASE_LOG_DEBUG, "call", "call %llu: %s %s%s%s: %s (%s)",
	         (unsigned long long)ev->call, call_event_name(ev->kind), ev->device,
	         *ev->device ? " on " : "", ev->dn, call_connection_state_name(ev->state),
	         call_cause_name(ev->cause));
}

static void on_request(void *arg, struct sip_server_tx *tx)
{
	struct app_sip *sip = arg;
	const struct sip_msg *req = sip_server_tx_request(tx);
	if (sip_pl_eq(req->method, "REGISTER"))
		sip_registrar_handle(sip->registrar, tx);
	else if (sip_pl_eq(req->method, "INVITE") || sip_pl_eq(req->method, "CANCEL") ||
	         sip_pl_eq(req->method, "BYE") || sip_pl_eq(req->method, "REFER") ||
	         sip_pl_eq(req->method, "INFO") || sip_pl_eq(req->method, "UPDATE"))
		call_handle_request(sip->calls, tx);
	else if (sip_pl_eq(req->method, "OPTIONS"))
		sip_server_tx_reply(tx, 200, NULL, ALLOW, NULL, NULL, 0);
	else
		sip_server_tx_reply(tx, 501, NULL, ALLOW, NULL, NULL, 0);
}

int app_sip_start(struct app_sip **out, struct event_base *base, struct store *store,
                  struct pki *pki, const struct app_config *cfg, struct base_err *err)
{
	struct app_sip *sip = calloc(1, sizeof(*sip));
	if (!sip)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	if (pki_role_ensure(pki, PKI_ROLE_SIP_TLS, err) != 0) {
		free(sip);
		return -1;
	}
	struct sip_transport_options opt = {
	    .udp_listen = cfg->listen[APP_LISTEN_SIP_UDP].value,
	    .tcp_listen = cfg->listen[APP_LISTEN_SIP_TCP].value,
	    .tls_listen = cfg->listen[APP_LISTEN_SIP_TLS].value,
	    .tls_cert = pki_role_cert_path(pki, PKI_ROLE_SIP_TLS),
	    .tls_key = pki_role_key_path(pki, PKI_ROLE_SIP_TLS),
	    .tls_ca = pki_ca_cert_path(pki),
	    .max_message = 65535,
	    .max_conns_per_source = 64,
	    .idle_timeout = 900,
	};
	if (sip_stack_start(&sip->stack, base, &opt, on_request, sip, err) != 0 ||
	    sip_registrar_start(&sip->registrar, base, store, sip->stack, err) != 0 ||
	    call_service_start(&sip->calls, base, store, sip->stack, sip->registrar, err) != 0 ||
	    call_observer_add(sip->calls, trace_call_event, NULL, err) != 0) {
		app_sip_stop(sip);
		return -1;
	}
	/* Phones' certificates are checked against the CA and its CRL, reloaded when a
	 * certificate is revoked; a renewed SIP certificate serves new connections. */
	sip->pki = pki;
	sip->tls = sip_transport_tls_ctx(sip_stack_transport(sip->stack));
	if (sip->tls && (pki_tls_verify_attach(pki, sip->tls, err) != 0 ||
	                 pki_tls_role_attach(pki, sip->tls, PKI_ROLE_SIP_TLS, err) != 0)) {
		app_sip_stop(sip);
		return -1;
	}
	*out = sip;
	return 0;
}

struct call_service *app_sip_calls(struct app_sip *sip)
{
	return sip->calls;
}

struct sip_stack *app_sip_stack(struct app_sip *sip)
{
	return sip->stack;
}

struct sip_registrar *app_sip_registrar(struct app_sip *sip)
{
	return sip->registrar;
}

void app_sip_stop(struct app_sip *sip)
{
	if (!sip)
		return;
	if (sip->tls) {
		pki_tls_verify_detach(sip->pki, sip->tls);
		pki_tls_role_detach(sip->pki, sip->tls);
	}
	call_service_stop(sip->calls);
	sip_registrar_stop(sip->registrar);
	sip_stack_stop(sip->stack);
	free(sip);
}
