/*
 * pki: the system's own certificate authority and the certificates it issues to ucmd's
 * services. Everything lives in <data_dir>/pki/ as PEM files: ca.key and ca.crt, and one
 * <role>.key / <role>.crt pair per service. Keys are written atomically and readable only
 * by the service user.
 *
 * Key generation takes a noticeable fraction of a second (RSA 3072 for the CA): call these
 * at startup or from a worker, never on the event loop.
 */
#ifndef UCM_PKI_H
#define UCM_PKI_H

#include <stddef.h>

#include "base/base.h"

struct pki;

/* The services that present a certificate. File names use pki_role_name(). */
enum pki_role {
	PKI_ROLE_HTTPS,       /* "https": admin API and device files over HTTPS */
	PKI_ROLE_SIP_TLS,     /* "sip-tls": SIP over TLS, also as a client to trunks */
	PKI_ROLE_TFTP_SIGNER, /* "tftp-signer": signs configuration files and trust lists */
	PKI_ROLE_CAPF,        /* "capf": certificate enrollment for Cisco phones */
	PKI_ROLE_TVS,         /* "tvs": trust verification for Cisco phones */
};

/*
 * Opens the CA in <data_dir>/pki/, creating the directory (0700) and, on first start, the CA:
 * ca.key (RSA 3072, 0600) and a self-signed ca.crt (0644, SHA-256, 10 years,
 * CN "OpenUCM CA <8 hex>", O "OpenUCM"). Later starts load the pair and fail with a clear
 * error when the key does not match the certificate or ca.key is missing: a new CA would
 * silently orphan every certificate and trust list the old one signed.
 */
int pki_open(struct pki **out, const char *data_dir, struct base_err *err);
void pki_close(struct pki *pki);

/*
 * Makes sure <role>.key (RSA 2048, 0600) and <role>.crt (0644) exist, were issued by the CA,
 * match each other, name this host and are valid for at least 30 more days; otherwise issues
 * a new pair: CN = gethostname(), subjectAltName DNS:<host>, DNS:localhost, IP:127.0.0.1,
 * IP:::1, extendedKeyUsage serverAuth (and clientAuth for SIP_TLS), 2 years, random 128-bit
 * serial. A certificate some other CA issued (an administrator's own) is never overwritten:
 * that is an error naming the files to remove.
 */
int pki_role_ensure(struct pki *pki, enum pki_role role, struct base_err *err);

/* "https", "sip-tls", "tftp-signer", "capf", "tvs"; "?" for anything else. */
const char *pki_role_name(enum pki_role role);

/* File paths, valid until pki_close(); the role files may not exist before
 * pki_role_ensure(). NULL for an unknown role. */
const char *pki_ca_cert_path(const struct pki *pki);
const char *pki_role_cert_path(const struct pki *pki, enum pki_role role);
const char *pki_role_key_path(const struct pki *pki, enum pki_role role);

/* What an administrator needs to recognise a certificate. Strings are NUL-terminated. */
struct pki_cert_info {
	char name[32];               /* "ca" or a role name */
	char subject[256];           /* RFC 2253: "CN=OpenUCM CA 1f2e3d4c,O=OpenUCM" */
	char issuer[256];            /* same form */
	char serial[64];             /* upper-case hex */
	char not_before[21];         /* RFC 3339 UTC: "2026-11-22T01:02:03Z" */
	char not_after[21];          /* same form */
	char sha256_fingerprint[96]; /* "AB:CD:...", 32 bytes */
	char key_type[16];           /* "RSA", "EC", ... */
	int key_bits;
};

/* The CA followed by every role certificate present on disk, in enum order. The caller
 * frees *out with free(); *out is NULL when *count is 0 (never, today: the CA is there). */
int pki_cert_list(const struct pki *pki, struct pki_cert_info **out, size_t *count,
                  struct base_err *err);

#endif
