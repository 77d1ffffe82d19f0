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

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/base.h"
#include "net/net.h"
#include "store/store.h"

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
 * with BASE_E_NOT_FOUND (the file does not exist then); store NULL means the caller has
 * checked the mode (from a worker thread, which must not touch the store). When the
 * tftp-signer certificate was renewed since the last list, the new list names both the old
 * and the new certificate as SAST and is still signed by the old key, so phones holding the
 * old list accept it; 30 days after the renewal (or when the old certificate expires, if
 * sooner) lists are signed by the new key alone.
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

/*
 * OpenUCM's manual-key file for the legacy models (docs/legacy-config-encryption.md): the
 * .enc.sgn envelope (version 2.0, signed by the tftp signer) with no wrapped key, the
 * content encrypted with the phone's stored symmetric key: 16 bytes AES-128-CBC (7940G,
 * 7960G), 32 bytes RC4 (7905G, 7912G; legacy, broken). file_name is the name served
 * ("SIP<MAC>.cnf.enc.sgn", "LD<MAC>.x").
 */
int pki_manual_sgn_build(struct pki *pki, const char *file_name, const unsigned char *key,
                         size_t key_len, const unsigned char *data, size_t len, unsigned char **out,
                         size_t *out_len, struct base_err *err);
/*
 * Checks and decrypts such a file with the symmetric key: signature as pki_sgn_verify()
 * when nlists > 0 (the legacy phones themselves ignore it), then decryption and the keyed
 * plaintext check; a wrong key is BASE_E_BAD_REQUEST. *out as pki_enc_sgn_open().
 */
int pki_manual_sgn_open(const unsigned char *data, size_t len, const char *expect_name,
                        const struct pki_trust_list *const *lists, size_t nlists,
                        const unsigned char *key, size_t key_len, unsigned char **out,
                        size_t *out_len, struct base_err *err);

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

/* Fills info from any certificate (name is copied into info->name). */
void pki_cert_describe(struct pki_cert_info *info, const char *name, const X509 *cert);

/* ---- keys that enrolling devices send ------------------------------------------------ */

struct pki_key_policy {
	/* 0: any accepted size. Otherwise an RSA key must have exactly this many bits: the
	 * key size the device's CAPF operation asks for (requirements E24). EC keys carry no
	 * RSA size and are judged by their curve alone. */
	int rsa_bits;
	/* The legacy mode of requirements 6.3 (service parameter allow_weak_rsa): RSA 1024
	 * accepted. 512 and anything else below 1024 are never accepted. */
	bool allow_weak_rsa;
};

/*
 * Checks a public key before it gets a certificate: RSA 2048, 3072 or 4096 bits with an odd
 * public exponent >= 3 (1024 only in the legacy mode), or ECDSA on P-256 or P-384 with a
 * valid point. Anything else is BASE_E_INVALID, field "public_key", with a message naming
 * what was found ("RSA 1024-bit keys are accepted only when ..."). Thread-safe.
 */
int pki_key_check(const EVP_PKEY *key, const struct pki_key_policy *policy, struct base_err *err);

/* ---- LSCs: certificates for devices and application/end-user instances ------------------- */

/*
 * The subject of an LSC, from capf.md section 7: CN = the device name (for an application
 * or end-user instance: the user ID), then the O, OU, L, ST and C of the CA's subject. The
 * subjectAltName is one URI: the device name, or "<user ID>/<instance ID>" for an instance.
 */
struct pki_lsc_spec {
	struct store_cert_owner owner;
	/* Validity in days from now, 1..7305. pki_lsc_issue_async fills 0 from the service
	 * parameter capf_certificate_validity_years. */
	int validity_days;
	struct pki_key_policy key_policy;
};

/*
 * Issues an LSC for key with the profile of capf.md section 7: v3, 128-bit random serial,
 * issuer = the CA's subject, SHA-256, notBefore = now, basicConstraints critical CA:FALSE,
 * keyUsage critical digitalSignature + keyEncipherment, extendedKeyUsage serverAuth,
 * clientAuth, ipsecEndSystem, subjectAltName URI, and a CRL distribution point when one is
 * set (pki_set_crl_url). Checks the key first (pki_key_check). Thread-safe: reads only the
 * CA, so call it from a worker.
 */
X509 *pki_lsc_issue(const struct pki *pki, const struct pki_lsc_spec *spec, EVP_PKEY *key,
                    struct base_err *err);

/* Describes an issued certificate for the registry (store_cert_add): serial, subject,
 * dates, fingerprint, key and PEM (out->pem malloc'd; free with store_cert_clear). */
int pki_lsc_record(const X509 *cert, const struct store_cert_owner *owner, const char *issued_by,
                   struct store_cert *out, struct base_err *err);

/*
 * The whole issuance, off the loop: on the loop thread, copies spec (filling validity from
 * the store), then checks the key and signs on a worker of pool, then back on the loop
 * records the certificate in the store (store_cert_add: supersedes the owner's previous
 * LSC, updates lsc_status, audits with actor), and finally calls
 * done(arg, cert, NULL) with the new certificate (borrowed: valid during the call; up-ref
 * it to keep it) or done(arg, NULL, err) with why it failed (BASE_E_INVALID for a refused
 * key). key is up-referenced, so the caller may free its own reference at once. Returns -1
 * (err set, done not called) when the job cannot be queued (BASE_E_THROTTLED when busy).
 * `issued_by` is the protocol: "capf" or "est".
 */
typedef void (*pki_lsc_done_fn)(void *arg, X509 *cert, const struct base_err *err);
int pki_lsc_issue_async(struct pki *pki, struct net_work_pool *pool, struct store *store,
                        const struct pki_lsc_spec *spec, EVP_PKEY *key, const char *issued_by,
                        const struct store_actor *actor, pki_lsc_done_fn done, void *arg,
                        struct base_err *err);

/* The URL put in every LSC's CRL distribution point ("" or NULL: none). Call before any
 * issuance starts; not thread-safe against running workers. */
int pki_set_crl_url(struct pki *pki, const char *url, struct base_err *err);

/* The CA itself, for chains and trust stores (borrowed; valid until pki_close). */
X509 *pki_ca_cert(const struct pki *pki);
/* ---- CAPF messages (pki_capf_msg.c) ---------------------------------------------------------
 * The binary protocol Cisco phones and Jabber speak on the CAPF port (specs/capf.md): an 8-byte
 * header (protocol ID 0x55, command, session ID, body length, all big-endian) and then
 * tag-length-value elements. The decoder checks every length against the bytes it was given
 * and leaves values in place (pointers into the caller's buffer). */

#define PKI_CAPF_PROTOCOL_ID 0x55
#define PKI_CAPF_HEADER_LEN  8
#define PKI_CAPF_MAX_BODY    65535
#define PKI_CAPF_MAX_MSG     (PKI_CAPF_HEADER_LEN + PKI_CAPF_MAX_BODY)

enum pki_capf_command {
	PKI_CAPF_AUTH_REQUEST = 1,
	PKI_CAPF_AUTH_RESPONSE = 2,
	PKI_CAPF_KEY_GENERATE_REQUEST = 3,
	PKI_CAPF_KEY_GENERATE_RESPONSE = 4,
	PKI_CAPF_STORE_CERTIFICATE_REQUEST = 9,
	PKI_CAPF_STORE_CERTIFICATE_RESPONSE = 10,
	PKI_CAPF_FETCH_CERTIFICATE_REQUEST = 11,
	PKI_CAPF_FETCH_CERTIFICATE_RESPONSE = 12,
	PKI_CAPF_DELETE_CERTIFICATE_REQUEST = 13,
	PKI_CAPF_DELETE_CERTIFICATE_RESPONSE = 14,
	PKI_CAPF_END_SESSION = 15,
	PKI_CAPF_REQUEST_IN_PROGRESS = 17,
};

enum pki_capf_tag {
	PKI_CAPF_T_REASON = 1,
	PKI_CAPF_T_REASON_INFO = 2,
	PKI_CAPF_T_CERTIFICATE_TYPE = 3,
	PKI_CAPF_T_CERTIFICATE = 4,
	PKI_CAPF_T_SIGNED_DATA = 6,
	PKI_CAPF_T_VERSION = 7,
	PKI_CAPF_T_AUTH_TYPE = 8,
	PKI_CAPF_T_PUBLIC_KEY = 9,
	PKI_CAPF_T_KEY_SIZE = 10,
	PKI_CAPF_T_PASSWORD = 11,
	PKI_CAPF_T_DEVICE_NAME = 13,
	PKI_CAPF_T_SUDI_DATA = 16,
	PKI_CAPF_T_KEY_TYPE = 17,
	PKI_CAPF_T_CURVE = 18,
	PKI_CAPF_T_SHA2_SIGNED_DATA = 20,
	PKI_CAPF_T_MAX = 20,
};

/* REASON values. 7 is the catch-all failure, as in the reference server. */
enum pki_capf_reason {
	PKI_CAPF_R_NO_ACTION = 0,
	PKI_CAPF_R_UPDATE_CERTIFICATE = 1, /* success / operation completed */
	PKI_CAPF_R_INVALID_ELEMENT = 7,
	PKI_CAPF_R_UNKNOWN_DEVICE = 9,
};

enum pki_capf_key_type { PKI_CAPF_KEY_RSA = 0, PKI_CAPF_KEY_EC = 1 };
enum pki_capf_curve { PKI_CAPF_CURVE_P256 = 0, PKI_CAPF_CURVE_P384 = 1, PKI_CAPF_CURVE_P521 = 2 };
enum pki_capf_cert_type { PKI_CAPF_CERT_LSC = 1, PKI_CAPF_CERT_MIC = 2 };
enum pki_capf_hash { PKI_CAPF_HASH_SHA1 = 1, PKI_CAPF_HASH_SHA256 = 2, PKI_CAPF_HASH_SHA512 = 3 };
#define PKI_CAPF_VERSION 3

struct pki_capf_elem {
	const unsigned char *value; /* NULL when the element is absent */
	size_t len;
};

/* A decoded message; element values point into the decoded buffer. */
struct pki_capf_msg {
	unsigned command;
	uint32_t session_id;
	struct pki_capf_elem elem[PKI_CAPF_T_MAX + 1]; /* by tag */
};

/*
 * Given the first len bytes of a stream, says how long the message they start is: 0 and
 * *total set once the 8-byte header is there, 1 when fewer than 8 bytes are, -1 (err set)
 * when the header is not a CAPF header (wrong protocol ID).
 */
int pki_capf_frame(const unsigned char *buf, size_t len, size_t *total, struct base_err *err);

/*
 * Decodes exactly one message of len bytes. Refused with err: a wrong protocol ID, a body
 * length that disagrees with len, an element running past the end, a known tag twice.
 * Unknown tags are skipped by their length (phones may add elements).
 */
int pki_capf_decode(const unsigned char *buf, size_t len, struct pki_capf_msg *msg,
                    struct base_err *err);

/* Typed element reads: 1 present and well formed, 0 absent, -1 (err set) malformed. */
int pki_capf_get_u8(const struct pki_capf_msg *msg, enum pki_capf_tag tag, unsigned *out,
                    struct base_err *err);
int pki_capf_get_u16(const struct pki_capf_msg *msg, enum pki_capf_tag tag, unsigned *out,
                     struct base_err *err);
/* Text + NUL (a missing final NUL is tolerated, an inner NUL is not); out holds size - 1
 * characters at most, longer is malformed. */
int pki_capf_get_text(const struct pki_capf_msg *msg, enum pki_capf_tag tag, char *out, size_t size,
                      struct base_err *err);
/* The DER of a CERTIFICATE value, after its 5-byte inner header. Like the reference parsers we
 * do not interpret that header (its meaning is not known); the DER is checked by its parser. */
int pki_capf_get_cert(const struct pki_capf_msg *msg, const unsigned char **der, size_t *len,
                      struct base_err *err);
/* SHA2_SIGNED_DATA: hash code + 16-bit length + signature, the length matching exactly. */
int pki_capf_get_sha2_sig(const struct pki_capf_msg *msg, unsigned *hash, const unsigned char **sig,
                          size_t *len, struct base_err *err);

/* SUDI_DATA: the factory certificate and its SHA-1 and SHA-512 signatures (6.4). */
struct pki_capf_sudi {
	const unsigned char *cert, *sig1, *sig2;
	size_t cert_len, sig1_len, sig2_len;
	unsigned sig2_hash; /* the third sub-element's tag: must be 3 (SHA-512) */
};
int pki_capf_get_sudi(const struct pki_capf_msg *msg, struct pki_capf_sudi *out,
                      struct base_err *err);

/*
 * Encoder: pki_capf_begin() starts a message in buf (cap bytes, PKI_CAPF_MAX_MSG is always
 * enough), the put functions append elements, pki_capf_end() writes the body length and
 * returns the message length, or -1 (err set) when it did not fit.
 */
struct pki_capf_writer {
	unsigned char *buf;
	size_t cap, len;
	bool overflow;
};
void pki_capf_begin(struct pki_capf_writer *w, unsigned char *buf, size_t cap,
                    enum pki_capf_command command, uint32_t session_id);
void pki_capf_put(struct pki_capf_writer *w, enum pki_capf_tag tag, const void *value, size_t len);
void pki_capf_put_u8(struct pki_capf_writer *w, enum pki_capf_tag tag, unsigned value);
void pki_capf_put_u16(struct pki_capf_writer *w, enum pki_capf_tag tag, unsigned value);
/* Text with its terminating NUL, which the length counts. */
void pki_capf_put_text(struct pki_capf_writer *w, enum pki_capf_tag tag, const char *text);
/* CERTIFICATE: 01, DER length + 2, 00 01, DER. */
void pki_capf_put_cert(struct pki_capf_writer *w, const unsigned char *der, size_t len);
void pki_capf_put_sha2_sig(struct pki_capf_writer *w, enum pki_capf_hash hash,
                           const unsigned char *sig, size_t len);
void pki_capf_put_sudi(struct pki_capf_writer *w, const struct pki_capf_sudi *sudi);
long pki_capf_end(struct pki_capf_writer *w, struct base_err *err);

/* Names for logs: "AUTH_RESPONSE", "KEY_SIZE"; "unknown" otherwise. */
const char *pki_capf_command_name(unsigned command);

/* ---- CAPF proofs and keys (pki_capf_auth.c) ------------------------------------------------
 * How a phone proves it holds an existing certificate (specs/capf.md §6.3): it signs
 * AUTH_DATA = device name + NUL + DER of the certificate it presents, with SHA-1 and SHA-512.
 * RSA signatures are PKCS#1 v1.5 type 1 over the bare digest (no DigestInfo); EC ones are
 * ECDSA over the digest. */

/* AUTH_DATA in a new buffer the caller frees; NULL when out of memory. */
unsigned char *pki_capf_auth_data(const char *device_name, const unsigned char *der, size_t len,
                                  size_t *out_len);
/* The signature in a new buffer (free with free()). */
int pki_capf_sign(EVP_PKEY *key, enum pki_capf_hash hash, const unsigned char *data, size_t len,
                  unsigned char **sig, size_t *sig_len, struct base_err *err);
/* 0 when sig is key's signature of data; for RSA the standard DigestInfo form is accepted
 * too. Anything else, BASE_E_UNAUTHORIZED. */
int pki_capf_verify(EVP_PKEY *key, enum pki_capf_hash hash, const unsigned char *data, size_t len,
                    const unsigned char *sig, size_t sig_len, struct base_err *err);

/* A PUBLIC_KEY value: one DER SubjectPublicKeyInfo, nothing after it, RSA or EC on a named
 * curve. Free the key with EVP_PKEY_free(). */
int pki_capf_public_key_parse(const unsigned char *der, size_t len, EVP_PKEY **out,
                              struct base_err *err);
/* What a phone is asked to generate, and whether a key is that. */
struct pki_capf_key_spec {
	enum pki_capf_key_type type;
	unsigned rsa_bits;         /* RSA */
	enum pki_capf_curve curve; /* EC */
};
/* "RSA 2048", "EC P-256". */
void pki_capf_key_spec_name(const struct pki_capf_key_spec *spec, char *out, size_t size);
void pki_capf_key_describe(EVP_PKEY *key, char *out, size_t size);
bool pki_capf_key_matches(EVP_PKEY *key, const struct pki_capf_key_spec *spec);
/* A new key pair of that kind (slow for RSA: not on an event loop). */
EVP_PKEY *pki_capf_keygen(const struct pki_capf_key_spec *spec, struct base_err *err);

/* ---- trust stores ------------------------------------------------------------------------ */

/*
 * Named sets of CA certificates trusted for one purpose, kept under <data_dir>/pki/trust/.
 * Names are 1-32 of [a-z0-9-]; "manufacturer" holds the CAs that sign phones' factory
 * certificates (MICs), which CAPF uses to verify a MIC. A store nobody added to is empty.
 */
#define PKI_TRUST_MANUFACTURER "manufacturer"

/* Adds one PEM CA certificate (basicConstraints CA:TRUE); describes it in *out. The same
 * certificate twice is BASE_E_CONFLICT. */
int pki_trust_add(struct pki *pki, const char *store, const char *pem, size_t len,
                  struct pki_cert_info *out, struct base_err *err);
/* Removes the certificate with this SHA-256 fingerprint ("AB:CD:..." or plain hex). */
int pki_trust_remove(struct pki *pki, const char *store, const char *fingerprint,
                     struct base_err *err);
/* The certificates of a store; free *out with free(). info->name is the store name. */
int pki_trust_list(const struct pki *pki, const char *store, struct pki_cert_info **out,
                   size_t *count, struct base_err *err);
/* A new X509_STORE holding the store's certificates as it is on disk now (so an
 * administrator's change applies to the next verification); the caller frees it with
 * X509_STORE_free(). */
X509_STORE *pki_trust_store(const struct pki *pki, const char *store, struct base_err *err);

/* ---- the CAPF server (pki_capf_server.c, pki_capf_session.c) -------------------------------
 * Certificate enrollment for Cisco phones, Jabber and CTI application instances on the CAPF
 * port over TLS (specs/capf.md §5): install/upgrade, delete and troubleshoot (fetch) as an
 * administrator scheduled them on the device or CAPF profile (store_capf_op_find), each
 * attempt's outcome written to the record and the audit log. Signing runs on the worker
 * pool; the loop only moves bytes and reads the store. */

struct pki_capf;
struct event_base;

struct pki_capf_options {
	const char *listen;    /* "0.0.0.0:3804" */
	unsigned max_sessions; /* sessions at once; beyond, a connection is closed unanswered.
	                        * 0: 256 */
	int read_timeout;      /* seconds for each phone message; 0: 30 */
	int key_timeout;       /* seconds for the key (old phones are slow); 0: 120 */
};

/* Opens the listener with the "capf" role certificate (made if missing). */
int pki_capf_start(struct pki_capf **out, struct event_base *base, struct pki *pki,
                   struct store *store, struct net_work_pool *pool,
                   const struct pki_capf_options *opt, struct base_err *err);
/* Closes the listener and every session. A session whose certificate is being signed is
 * finished by the pool's done callback, so free the pool after this. */
void pki_capf_stop(struct pki_capf *capf);
/* ---- EST formats (RFC 7030) -------------------------------------------------------------- */

/* Decodes an EST request body: base64 (line breaks and spaces allowed) of one DER PKCS#10
 * request and nothing after it. BASE_E_BAD_REQUEST (field "csr") for anything else,
 * BASE_E_TOO_LARGE past 32 KiB. Does not check the signature: see pki_est_csr_check. */
int pki_est_csr_decode(const char *body, size_t len, X509_REQ **out, struct base_err *err);
/* Checks the request's self-signature (proof of possession of the key) and, when the
 * subject has a CN, that it names `name` (case-insensitive). Gives the public key to issue
 * the certificate for in *key (the caller frees it). The key itself is judged later by
 * pki_key_check, inside pki_lsc_issue. */
int pki_est_csr_check(X509_REQ *req, const char *name, EVP_PKEY **key, struct base_err *err);
/* A PKCS#7 certs-only SignedData holding certs, base64 in lines of 64 (the body of an
 * application/pkcs7-mime reply); malloc'd, NUL-terminated, *len without the NUL. */
char *pki_est_certs_only(X509 *const *certs, size_t count, size_t *len, struct base_err *err);

/* ---- revocation -------------------------------------------------------------------------- */

struct event_base;

/*
 * Publishes the CA's CRL (v2, SHA-256, CRL number, authorityKeyIdentifier, reason codes,
 * nextUpdate one week on) to <data_dir>/pki/ca.crl, and keeps it current: every 2 seconds
 * on base it checks the store's revocation generation and rebuilds when a certificate was
 * revoked (by anyone: the revoke action, CAPF delete, a superseding enrollment) or the CRL
 * is a day old. Call once the store is open; pki_close stops it.
 */
int pki_crl_start(struct pki *pki, struct event_base *base, struct store *store,
                  struct base_err *err);
/* Rebuilds and pushes the CRL now. */
int pki_crl_refresh(struct pki *pki, struct base_err *err);
/* Rebuilds and pushes the CRL now if the store revoked anything since the last build, so that
 * the very next handshake refuses the certificate, not the one after the periodic check. Called
 * after every revocation: the revoke action, CAPF, and the issuing of an LSC (which supersedes
 * the owner's previous one). A failure is logged; the periodic check tries again. */
void pki_crl_publish_revocations(struct pki *pki);
/* The current CRL in DER (application/pkix-crl), borrowed until the next rebuild; NULL
 * before pki_crl_start. */
const unsigned char *pki_crl_der(const struct pki *pki, size_t *len);
const char *pki_crl_path(const struct pki *pki);

/*
 * Makes ctx verify client certificates against the CA and the current CRL, and keeps it so
 * after every rebuild: a revoked, expired or foreign certificate fails the handshake from
 * the next connection on, without a restart. For every TLS listener that takes client
 * certificates (SIP TLS, admin/EST, CAPF, CTI). Detach before freeing ctx.
 */
int pki_tls_verify_attach(struct pki *pki, SSL_CTX *ctx, struct base_err *err);
void pki_tls_verify_detach(struct pki *pki, SSL_CTX *ctx);

/* ---- renewal and hot reload of role certificates ------------------------------------------ */

/* Reloads ctx's certificate and key from the role's files whenever the role certificate is
 * renewed or replaced: new handshakes get the new one, connected peers keep theirs. Detach
 * before freeing ctx. */
int pki_tls_role_attach(struct pki *pki, SSL_CTX *ctx, enum pki_role role, struct base_err *err);
void pki_tls_role_detach(struct pki *pki, SSL_CTX *ctx);

/*
 * Issues a new key and certificate for the role now, keeps the old certificate as
 * <role>.previous.crt, trusted for overlap_days more (or until it expires, if sooner), and
 * reloads the attached contexts. For trust lists: pki_role_previous_path gives the old
 * certificate while its overlap lasts, NULL after.
 */
int pki_role_renew(struct pki *pki, enum pki_role role, int overlap_days, struct base_err *err);
const char *pki_role_previous_path(const struct pki *pki, enum pki_role role);
/* The previous certificates still in their overlap, described as by pki_cert_list
 * (name "<role>.previous"); free *out with free(). */
int pki_role_previous_list(const struct pki *pki, struct pki_cert_info **out, size_t *count,
                           struct base_err *err);

/*
 * Certificates from an external CA: pki_role_csr makes a new key for the role (kept aside
 * as <role>.pending.key, the current pair stays in use) and gives a PEM PKCS#10 request for
 * it (CN and subjectAltName as the role's own certificate). pki_role_install takes the
 * signed PEM certificate (optionally followed by its chain), checks it matches the pending
 * key and is valid now, then installs both, keeping the old certificate for the overlap,
 * and reloads the attached contexts. Such a certificate is then kept by pki_role_ensure.
 */
int pki_role_csr(struct pki *pki, enum pki_role role, char **pem, struct base_err *err);
int pki_role_install(struct pki *pki, enum pki_role role, const char *pem, size_t len,
                     int overlap_days, struct base_err *err);
/*
 * pki_role_renew and pki_role_csr with the key generation and signing on a worker of pool:
 * done(arg, csr, NULL) follows on the loop (csr is the PEM request for PKI_ROLE_OP_CSR,
 * borrowed during the call; NULL for a renewal, whose contexts are reloaded by then), or
 * done(arg, NULL, err). While one runs, another renewal, CSR or install of the same role is
 * BASE_E_CONFLICT.
 */
enum pki_role_op { PKI_ROLE_OP_RENEW, PKI_ROLE_OP_CSR };
typedef void (*pki_role_done_fn)(void *arg, const char *csr, const struct base_err *err);
int pki_role_op_async(struct pki *pki, struct net_work_pool *pool, enum pki_role role,
                      enum pki_role_op op, int overlap_days, pki_role_done_fn done, void *arg,
                      struct base_err *err);
/* "https" -> PKI_ROLE_HTTPS ...; -1 for an unknown name. */
int pki_role_parse(const char *name, enum pki_role *out);

/* ---- enrollment rules shared by the protocols (pki_enroll.c) ----------------------------- */

/* How a client proved who it is in one install/upgrade attempt. */
struct pki_enroll_attempt {
	const char *auth_string; /* the string it gave; NULL: none */
	bool has_lsc;            /* it presented this owner's valid LSC (verified) */
	bool has_mic; /* it presented a MIC that verified against the manufacturer store */
	int64_t now;
	int wrong_string_limit; /* service parameter capf_wrong_authentication_string_limit */
};

/*
 * Decides an install/upgrade attempt against the operation: 0 when it may go on to key
 * checks and signing; otherwise -1 with err (BASE_E_UNAUTHORIZED: wrong or missing
 * credentials, BASE_E_FORBIDDEN: no operation pending, expired, locked) and *outcome filled
 * for store_capf_op_record (status "Install/Upgrade failed" where the attempt counts, a
 * wrong string counted, the string cleared when expired or at the limit). outcome->reason
 * points into err.
 */
int pki_enroll_authorize(const struct store_capf_op *op, const struct pki_enroll_attempt *attempt,
                         struct store_capf_outcome *outcome, struct base_err *err);
/* The outcomes after signing: "Install/Upgrade successful" (operation complete, string used
 * up), or "Install/Upgrade failed" with err's message as reason. */
void pki_enroll_success(struct store_capf_outcome *outcome);
void pki_enroll_failure(struct store_capf_outcome *outcome, const struct base_err *err);
/* The key the operation asks for (capf_key_type, capf_key_size): fills the policy for
 * pki_lsc_issue (RSA size, allow_weak_rsa from the store) and refuses a key of another type
 * or curve (BASE_E_INVALID, "key type mismatch"). */
int pki_enroll_key_policy(struct store *store, const struct store_capf_op *op, EVP_PKEY *key,
                          struct pki_key_policy *policy, struct base_err *err);

#endif
