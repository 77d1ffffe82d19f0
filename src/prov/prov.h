/*
 * prov: device provisioning. One namespace of device files (Cisco SEP<MAC>.cnf.xml and
 * Jabber <CSF/TCT/BOT/TAB name>.cnf.xml, the default config, the CA certificate, ...) served
 * read-only over TFTP (RFC 1350 with the options of RFC 2347, 2348, 2349 and 7440), HTTP
 * (6970) and HTTPS (6971). Files are generated from the store when first asked for and kept
 * until the store changes, so a thousand phones booting at once cost one generation each.
 * It also carries out the device actions administrators ask for (apply config, reset,
 * restart) by sending registered phones the SIP NOTIFY that makes them act.
 */
#ifndef UCM_PROV_H
#define UCM_PROV_H

#include "base/base.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;
struct pki;
struct sip_stack;
struct sip_registrar;

/* ---- TFTP packets (RFC 1350, 2347, 2348, 2349, 7440) -------------------------------------- */

enum prov_tftp_opcode {
	PROV_TFTP_RRQ = 1,
	PROV_TFTP_WRQ = 2,
	PROV_TFTP_DATA = 3,
	PROV_TFTP_ACK = 4,
	PROV_TFTP_ERROR = 5,
	PROV_TFTP_OACK = 6,
};

/* The error codes of RFC 1350 §5 and RFC 2347. */
enum prov_tftp_error {
	PROV_TFTP_E_UNDEFINED = 0,
	PROV_TFTP_E_NOT_FOUND = 1,
	PROV_TFTP_E_ACCESS = 2,
	PROV_TFTP_E_DISK_FULL = 3,
	PROV_TFTP_E_ILLEGAL = 4,
	PROV_TFTP_E_UNKNOWN_TID = 5,
	PROV_TFTP_E_EXISTS = 6,
	PROV_TFTP_E_NO_USER = 7,
	PROV_TFTP_E_OPTION = 8,
};

/* Largest request RFC 2347 allows (opcode, file name, mode and options). */
#define PROV_TFTP_MAX_REQUEST 512
#define PROV_TFTP_MAX_NAME    255

/* A read or write request as it arrived. Option values are kept only when well formed. */
struct prov_tftp_request {
	enum prov_tftp_opcode opcode; /* RRQ or WRQ */
	char filename[PROV_TFTP_MAX_NAME + 1];
	bool netascii; /* mode "netascii"; otherwise "octet" */
	bool has_blksize, has_tsize, has_timeout, has_windowsize;
	uint32_t blksize, tsize, timeout, windowsize;
};

/*
 * Parses a read or write request. On failure returns -1 with *code the TFTP error to answer
 * (ILLEGAL for a malformed packet or an unsupported mode, OPTION for an option whose value is
 * outside what its RFC allows) and err saying why. Unknown options are ignored (RFC 2347).
 */
int prov_tftp_parse_request(const uint8_t *pkt, size_t len, struct prov_tftp_request *req,
                            enum prov_tftp_error *code, struct base_err *err);

/* What this server accepts of the options; requests above a maximum are negotiated down. */
struct prov_tftp_limits {
	uint32_t max_blksize;    /* 512..65464 */
	uint32_t max_windowsize; /* 1..65535 */
};

/* The parameters of a transfer after negotiation. */
struct prov_tftp_params {
	uint32_t blksize;    /* 512 without the option */
	uint32_t windowsize; /* 1 without the option */
	uint32_t timeout_ms; /* the client's timeout option, else the server default */
	bool oack;           /* at least one option was accepted: the transfer starts with OACK */
};

/*
 * Decides the transfer parameters for a parsed read request of a file of file_size bytes
 * and writes the OACK to send (when params->oack) into out, at most out_size bytes.
 * Returns the OACK length (0 when there is none).
 */
size_t prov_tftp_negotiate(const struct prov_tftp_request *req, uint64_t file_size,
                           const struct prov_tftp_limits *lim, uint32_t default_timeout_ms,
                           struct prov_tftp_params *params, uint8_t *out, size_t out_size);

/* An ERROR packet; returns its length (the message is cut to fit). */
size_t prov_tftp_error_packet(enum prov_tftp_error code, const char *message, uint8_t *out,
                              size_t out_size);

/* ---- the file namespace ------------------------------------------------------------------- */

/* Where a file request came in, which shapes some answers (the server addresses in a
 * configuration are those the phone reached). */
enum prov_via { PROV_VIA_TFTP, PROV_VIA_HTTP, PROV_VIA_HTTPS };

/* Addresses and ports of the services, as configurations name them. */
struct prov_servers {
	char host[64]; /* numeric address the phone reached */
	uint16_t sip_port, sip_tls_port, tftp_port, http_port, https_port, capf_port, tvs_port;
};

/* Checks that a requested name stays inside the namespace: relative, components of
 * A-Z a-z 0-9 . _ - separated by '/', none empty, "." or "..". */
bool prov_name_is_safe(const char *name);

/* ---- device configuration files (cnf.xml) ------------------------------------------------- */

/*
 * The configuration file of a device (SEP<MAC>.cnf.xml, CSF/TCT/BOT/TAB name.cnf.xml) as
 * cisco-device-config.md describes it: lines, call manager and TVS addresses, security
 * mode and transport from the phone security profile (non-secure for all in a non-secure
 * cluster), SIP profile timers, CAPF settings, certHash, userId with serviceProfileFile,
 * the hardening settings, and the line's digest credentials unless the profile excludes
 * them or `with_secrets` is false. *out is malloc'ed XML (free()); BASE_E_NOT_FOUND when no
 * such device exists or it is not a Cisco phone or Jabber client.
 */
int prov_cnf_device(struct store *store, const struct prov_servers *srv, const char *device,
                    bool with_secrets, unsigned char **out, size_t *len, struct base_err *err);

/* XMLDefault.cnf.xml: what a Cisco phone that has no configuration of its own reads. */
int prov_cnf_default(struct store *store, const struct prov_servers *srv, unsigned char **out,
                     size_t *len, struct base_err *err);

/* ---- the service -------------------------------------------------------------------------- */

struct prov;

struct prov_options {
	const char *tftp_listen; /* "0.0.0.0:69"; NULL or "" for none */
	const char *http_listen; /* "0.0.0.0:6970" */
	const char *https_listen;
	/* Listen addresses of the other services, whose ports configurations tell phones. */
	const char *sip_listen, *sip_tls_listen, *capf_listen, *tvs_listen;
	struct net_work_pool *work;   /* where files are signed; NULL: on the loop */
	int max_transfers;            /* TFTP transfers at once; 0: default */
	int max_transfers_per_source; /* from one address; 0: default */
};

/*
 * Opens the listeners and starts serving. sip and registrar (may be NULL) are how device
 * actions reach registered phones.
 */
int prov_start(struct prov **out, struct event_base *base, struct store *store, struct pki *pki,
               struct sip_stack *sip, struct sip_registrar *registrar,
               const struct prov_options *opt, struct base_err *err);
void prov_stop(struct prov *prov);

#endif
