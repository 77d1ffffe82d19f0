/* Private to src/pki: the pki struct and helpers shared by its files. */
#ifndef UCM_PKI_INT_H
#define UCM_PKI_INT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define PKI_ROLE_COUNT (PKI_ROLE_TVS + 1)

struct pki {
	char dir[PATH_MAX];
	char ca_cert_path[PATH_MAX];
	char ca_key_path[PATH_MAX];
	char role_cert_path[PKI_ROLE_COUNT][PATH_MAX];
	char role_key_path[PKI_ROLE_COUNT][PATH_MAX];
	char role_previous_path[PKI_ROLE_COUNT][PATH_MAX]; /* pki_renew.c: after a renewal */
	X509 *ca_cert;
	EVP_PKEY *ca_key;
	char crl_url[512];           /* CRL distribution point of issued LSCs; "" for none */
	struct pki_revocation *rev;  /* pki_crl.c: the CRL and the TLS contexts that use it */
	struct pki_renewal *renewal; /* pki_renew.c: attached role contexts, previous certs */
};

/* ---- pki_file.c: PEM files on disk ---- */

/* Fills err with what + OpenSSL's reason, emptying its error queue; returns -1. */
int pki_ssl_error(struct base_err *err, const char *what, const char *path);
/* 1 when path exists, 0 when it does not, -1 (err set) when it cannot be checked. */
int pki_file_exists(const char *path, struct base_err *err);
/* Atomic: the file at path is either the old one or the complete new one, even after a crash.
 * Keys get mode 0600, certificates 0644. */
int pki_key_save(const char *path, EVP_PKEY *key, struct base_err *err);
int pki_cert_save(const char *path, X509 *cert, struct base_err *err);
int pki_key_load(const char *path, EVP_PKEY **out, struct base_err *err);
int pki_cert_load(const char *path, X509 **out, struct base_err *err);
/* The atomic write behind the two saves, for other files (the CRL). */
int pki_file_write(const char *path, const char *data, size_t len, mode_t mode,
                   struct base_err *err);

/* ---- pki_issue.c: keys and certificates ---- */

EVP_PKEY *pki_rsa_keygen(unsigned bits, struct base_err *err);

struct pki_cert_spec {
	const char *cn;
	const char *org;  /* NULL: no O */
	int years;        /* validity from now, in calendar years */
	bool ca;          /* a CA certificate (keyCertSign, cRLSign) or a service one */
	bool client_auth; /* service: add clientAuth to serverAuth */
	const char *host; /* service: the DNS name for subjectAltName, besides localhost */
};

/* Issues a certificate for key. issuer and issuer_key NULL mean self-signed with key. */
X509 *pki_cert_issue(const struct pki_cert_spec *spec, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key, struct base_err *err);

/* Exported from pki_issue.c for pki_lsc.c. */
int pki_set_random_serial(X509 *x);
/* A new v3 certificate with a random 128-bit serial, nothing else; NULL with err set. */
X509 *pki_cert_new_v3(struct base_err *err);
/* value in openssl.cnf syntax ("critical,CA:FALSE"). */
int pki_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value);

/* pki.c, for renewals: the host name role certificates are for, and issuing a new key and
 * certificate for a role whatever the state of the old ones. */
void pki_local_hostname(char *out, size_t size);
int pki_role_issue(struct pki *pki, enum pki_role role, const char *host, const char *why,
                   struct base_err *err);

/* pki_renew.c: 1 when the role has a certificate an administrator installed from an external
 * CA (pki_role_install) that still matches its key and is valid, 0 when it has none, -1
 * (err set) when it has one that no longer works. */
int pki_role_external_check(struct pki *pki, enum pki_role role, struct base_err *err);

/* pki_crl.c, pki_renew.c: release what pki_crl_start / pki_tls_attach set up. */
void pki_crl_free(struct pki *pki);
void pki_renew_free(struct pki *pki);

#endif
