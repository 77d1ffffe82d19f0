/* The provisioning service: the file namespace, its three listeners and device actions. */
#include "pki/pki.h"
#include "prov/prov_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_TRANSFERS  2000
#define DEFAULT_MAX_PER_SOURCE 16

struct prov {
	struct prov_files *files;
	struct prov_tftp *tftp;
	struct prov_http *http, *https;
	struct prov_actions *actions;
};

static bool given(const char *listen)
{
	return listen && *listen;
}

/* The port of a listen address "host:port", for configurations to name. */
static uint16_t listen_port(const char *listen, uint16_t def)
{
	const char *colon = given(listen) ? strrchr(listen, ':') : NULL;
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	return port > 0 && port <= 65535 ? (uint16_t)port : def;
}

int prov_start(struct prov **out, struct event_base *base, struct store *store, struct pki *pki,
               struct sip_stack *sip, struct sip_registrar *registrar,
               const struct prov_options *opt, struct base_err *err)
{
	struct prov *p = calloc(1, sizeof(*p));
	if (!p)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	struct prov_servers ports = {
	    .sip_port = listen_port(opt->sip_listen, 5060),
	    .sip_tls_port = listen_port(opt->sip_tls_listen, 5061),
	    .tftp_port = listen_port(opt->tftp_listen, 69),
	    .http_port = listen_port(opt->http_listen, 6970),
	    .https_port = listen_port(opt->https_listen, 6971),
	    .capf_port = listen_port(opt->capf_listen, 3804),
	    .tvs_port = listen_port(opt->tvs_listen, 2445),
	};
	struct prov_tftp_options topt = {
	    .listen = opt->tftp_listen,
	    .max_transfers = opt->max_transfers > 0 ? opt->max_transfers : DEFAULT_MAX_TRANSFERS,
	    .max_per_source = opt->max_transfers_per_source > 0 ? opt->max_transfers_per_source
	                                                        : DEFAULT_MAX_PER_SOURCE,
	    /* Blocks that fit an Ethernet frame; windows a phone's buffers can take. */
	    .limits = {.max_blksize = 1428, .max_windowsize = 64},
	    .timeout_ms = 1000,
	    .retries = 5,
	};
	/* The roles trust lists name, and the one that signs files. */
	static const enum pki_role roles[] = {PKI_ROLE_TFTP_SIGNER, PKI_ROLE_CAPF, PKI_ROLE_TVS,
	                                      PKI_ROLE_SIP_TLS, PKI_ROLE_HTTPS};
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (pki_role_ensure(pki, roles[i], err) != 0) {
			free(p);
			return -1;
		}
	if (!(p->files = prov_files_new(store, pki, opt->work, &ports))) {
		free(p);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	if ((given(opt->tftp_listen) && prov_tftp_start(&p->tftp, base, p->files, &topt, err)) ||
	    (given(opt->http_listen) && prov_http_start(&p->http, base, p->files, opt->http_listen,
	                                                PROV_VIA_HTTP, NULL, NULL, err)) ||
	    (given(opt->https_listen) &&
	     (prov_http_start(&p->https, base, p->files, opt->https_listen, PROV_VIA_HTTPS,
	                      pki_role_cert_path(pki, PKI_ROLE_HTTPS),
	                      pki_role_key_path(pki, PKI_ROLE_HTTPS), err))) ||
	    prov_actions_start(&p->actions, base, store, p->files, sip, registrar, err) != 0) {
		prov_stop(p);
		return -1;
	}
	base_log(BASE_LOG_INFO, "prov", "device files: tftp %s, http %s, https %s",
	         given(opt->tftp_listen) ? opt->tftp_listen : "-",
	         given(opt->http_listen) ? opt->http_listen : "-",
	         given(opt->https_listen) ? opt->https_listen : "-");
	*out = p;
	return 0;
}

void prov_stop(struct prov *p)
{
	if (!p)
		return;
	prov_actions_stop(p->actions);
	prov_tftp_stop(p->tftp);
	prov_http_stop(p->http);
	prov_http_stop(p->https);
	prov_files_free(p->files);
	free(p);
}
