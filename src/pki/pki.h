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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

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

/* ---- trust lists, signed and encrypted files (trust-lists.md, sgn-and-encrypted-config.md) --
 *
 * Every build function returns the complete file in *out (malloc'ed, the caller frees it) and
 * its size in *out_len; on failure *out is NULL and err says why. Signing uses the
 * tftp-signer role key (pki_role_ensure() must have run for PKI_ROLE_TFTP_SIGNER and the
 * other roles the lists name). They are CPU work (one RSA signature each): call them from a
 * worker, not the event loop. They may be called from several threads at once.
 */

struct store;

/* Digest of a signature in the Cisco format; the numbers are the format's codes. */
enum pki_hash {
	PKI_HASH_SHA1 = 1,
	PKI_HASH_SHA512 = 3,
};

/* Roles of a certificate in a trust list (two bytes there, one byte in TVS answers). */
enum pki_tl_role {
	PKI_TL_SAST = 0,       /* may sign trust lists */
	PKI_TL_CCM = 1,        /* the SIP-TLS call agent */
	PKI_TL_CCM_TFTP = 2,   /* both */
	PKI_TL_TFTP = 3,       /* signs provisioning files (RSA); HTTPS provisioning (EC) */
	PKI_TL_CAPF = 4,       /* the CAPF server */
	PKI_TL_SRST = 5,       /* survivable remote site gateway */
	PKI_TL_APP_SERVER = 7, /* HTTPS XML-service servers */
	PKI_TL_TVS = 21,       /* the TVS server */
};

enum pki_trust_list_kind {
	PKI_ITL, /* ITLFile.tlv: always served */
	PKI_CTL, /* CTLFile.tlv: served only in mixed mode */
};

/* The digest of every signature made from now on (default PKI_HASH_SHA512; SHA-1 for
 * phones whose firmware predates SHA-512). Call before the first build. */
void pki_sign_hash_set(struct pki *pki, enum pki_hash hash);

/* Whether the cluster security mode (enterprise parameter cluster_security_mode) is mixed. */
int pki_cluster_mixed_mode(struct store *store, bool *mixed, struct base_err *err);

/*
 * Builds ITLFile.tlv or CTLFile.tlv (header FILENAME is always that canonical name, also when
 * served as ITLSEP<MAC>.tlv): the system's role certificates with their trust-list roles,
 * signed with PKCS#1 v1.5 by the SAST. A CTL in a cluster that is not in mixed mode fails
 * with BASE_E_NOT_FOUND (the file does not exist then). When the tftp-signer certificate was
 * renewed since the last list, the new list names both the old and the new certificate as
 * SAST and is still signed by the old key, so phones holding the old list accept it; once the
 * old certificate has expired lists are signed by the new key alone.
 */
int pki_trust_list_build(struct pki *pki, struct store *store, enum pki_trust_list_kind kind,
                         unsigned char **out, size_t *out_len, struct base_err *err);

/*
 * <file_name>.sgn: a version 1.0 signed header naming "<file_name>.sgn", then the bytes of
 * the file unchanged. file_name is the path as served, relative to the provisioning root
 * ("SEP001122334455.cnf.xml", "Desktops/320x196x4/List.xml").
 */
int pki_sgn_build(struct pki *pki, const char *file_name, const unsigned char *data, size_t len,
                  unsigned char **out, size_t *out_len, struct base_err *err);

/*
 * <file_name>.enc.sgn: the file encrypted with a fresh AES-128 key per call, the key wrapped
 * with the RSA public key of phone_cert (its LSC, or its MIC), signed like .sgn. A
 * certificate without an RSA key is BASE_E_INVALID.
 */
int pki_enc_sgn_build(struct pki *pki, const char *file_name, const unsigned char *data, size_t len,
                      const X509 *phone_cert, unsigned char **out, size_t *out_len,
                      struct base_err *err);

/*
 * The minimal configuration served (signed, as <name>.cnf.xml.sgn) instead of the full one
 * when the device's configuration is encrypted: <fullConfig>false, copies of ipAddressMode,
 * loadInformation, capfAuthMode and capfList from the full cnf_xml, certHash of phone_cert
 * and <encrConfig>true. Returns a NUL-terminated XML document (*out_len without the NUL).
 */
int pki_enc_stub_build(const char *cnf_xml, size_t len, const X509 *phone_cert, char **out,
                       size_t *out_len, struct base_err *err);

/* <certHash> of a cnf.xml: MD5 of the certificate's DER, 32 lower-case hex digits. */
int pki_cert_hash(const X509 *cert, char out[33], struct base_err *err);

/* ---- verifying trust lists and files: what a phone does (ucm-phone) -------------------- */

/* A parsed trust list. */
struct pki_trust_list;

/*
 * Parses a trust list strictly (every length checked against its container and the file;
 * unknown tags, truncation and trailing bytes are BASE_E_BAD_REQUEST) and checks its
 * signature. previous NULL: trust on first use, the signer must be a SAST record of the file
 * itself. Otherwise the signer must be a SAST record of previous (an update must be signed by
 * a key the installed list trusts).
 */
int pki_trust_list_load(const unsigned char *data, size_t len,
                        const struct pki_trust_list *previous, struct pki_trust_list **out,
                        struct base_err *err);
void pki_trust_list_free(struct pki_trust_list *list);

size_t pki_trust_list_count(const struct pki_trust_list *list);
/* Entry i: its role and certificate (owned by the list). */
void pki_trust_list_entry(const struct pki_trust_list *list, size_t i, enum pki_tl_role *role,
                          const X509 **cert);
/* "ITLFile.tlv" or "CTLFile.tlv" as the header says. */
const char *pki_trust_list_file_name(const struct pki_trust_list *list);
/* Whether cert is listed with role (CCM_TFTP counts for CCM and for TFTP). */
bool pki_trust_list_has(const struct pki_trust_list *list, enum pki_tl_role role, const X509 *cert);

/*
 * Checks a .sgn file: strict parse, version 1.0, header FILENAME equal to expect_name (NULL:
 * not checked), signer a TFTP (or CCM+TFTP) certificate in one of the lists, signature valid.
 * *payload points into data (no copy).
 */
int pki_sgn_verify(const unsigned char *data, size_t len, const char *expect_name,
                   const struct pki_trust_list *const *lists, size_t nlists,
                   const unsigned char **payload, size_t *payload_len, struct base_err *err);

/*
 * Checks and decrypts a .enc.sgn file with the phone's private key: signature as
 * pki_sgn_verify(), then key unwrap, AES-128-CBC, padding and the plaintext digest. *out is
 * malloc'ed and NUL-terminated (*out_len without the NUL).
 */
int pki_enc_sgn_open(const unsigned char *data, size_t len, const char *expect_name,
                     const struct pki_trust_list *const *lists, size_t nlists, EVP_PKEY *phone_key,
                     unsigned char **out, size_t *out_len, struct base_err *err);

/* ---- TVS (tvs.md): trust verification on 2445/TLS ----------------------------------------- */

#define PKI_TVS_MAX_ROLES 8

enum {
	PKI_TVS_VERIFY_REQUEST = 1,
	PKI_TVS_VERIFY_RESPONSE = 2,
};

/* How long a phone may keep a verdict (tvsctl's default). */
#define PKI_TVS_TTL 86400

struct pki_tvs_msg {
	uint8_t command; /* 1 VERIFY_REQUEST, 2 VERIFY_RESPONSE */
	uint32_t session;
	/* request */
	char device_name[64];      /* "CP-8865-SEP001122334455", without the leading 0x01 */
	const unsigned char *cert; /* DER, points into the decoded buffer */
	size_t cert_len;
	/* response */
	int status; /* 0 valid, 1 invalid, -1 absent */
	uint8_t roles[PKI_TVS_MAX_ROLES];
	size_t nroles;
	uint32_t ttl;
};

/*
 * Decodes one message from the start of data. Returns the message's size when complete,
 * 0 when more bytes are needed, -1 (err set) when malformed. Unknown element tags are
 * skipped; elements must lie inside the message.
 */
long pki_tvs_decode(const unsigned char *data, size_t len, struct pki_tvs_msg *msg,
                    struct base_err *err);
/* Encodes msg (request or response by msg->command) into a malloc'ed buffer. */
int pki_tvs_encode(const struct pki_tvs_msg *msg, unsigned char **out, size_t *out_len,
                   struct base_err *err);

/*
 * The TVS server: TLS with the tvs role certificate on listen ("0.0.0.0:2445"; empty: not
 * started), answering VERIFY_REQUESTs from the system's own certificates (the CA and every
 * role certificate) on base's loop. Malformed requests are dropped with the connection.
 */
struct pki_tvs;
struct event_base;
int pki_tvs_start(struct pki_tvs **out, struct event_base *base, struct pki *pki,
                  const char *listen, struct base_err *err);
void pki_tvs_stop(struct pki_tvs *tvs);

#endif
