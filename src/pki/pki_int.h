/* Private to src/pki: the pki struct and helpers shared by its files. */
#ifndef UCM_PKI_INT_H
#define UCM_PKI_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
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
	enum pki_hash sign_hash;     /* 0: the default, PKI_HASH_SHA512 */
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

/* ---- pki_tlv.c: the Cisco TLV format (tag 1 byte, length 2 bytes big-endian) ---- */

#define PKI_TLV_MAX 0xffff

/* A growing output buffer; after a failed append it stays failed and appends do nothing. */
struct pki_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	bool failed;
};

void pki_buf_put(struct pki_buf *b, const void *data, size_t len);
void pki_buf_u8(struct pki_buf *b, uint8_t v);
void pki_buf_u16(struct pki_buf *b, uint16_t v);
void pki_buf_u32(struct pki_buf *b, uint32_t v);
/* A TLV; a value over PKI_TLV_MAX bytes fails the buffer. */
void pki_tlv_put(struct pki_buf *b, uint8_t tag, const void *value, size_t len);
void pki_tlv_u8(struct pki_buf *b, uint8_t tag, uint8_t v);
void pki_tlv_u16(struct pki_buf *b, uint8_t tag, uint16_t v);
void pki_tlv_u32(struct pki_buf *b, uint8_t tag, uint32_t v);
/* A NUL-terminated string, the NUL counted in the length. */
void pki_tlv_str(struct pki_buf *b, uint8_t tag, const char *s);
/* A container: open writes tag and a placeholder length and returns where it starts;
 * close sets the length to what was written since. */
size_t pki_tlv_open(struct pki_buf *b, uint8_t tag);
void pki_tlv_close(struct pki_buf *b, size_t start);
/* Hands the bytes over (malloc'ed) or, when the buffer failed, frees them and sets err. */
int pki_buf_finish(struct pki_buf *b, unsigned char **out, size_t *out_len, struct base_err *err);
void pki_buf_free(struct pki_buf *b);

/* Reading: a window [pos, end) of a byte string. */
struct pki_tlv_reader {
	const unsigned char *data;
	size_t pos;
	size_t end;
};

struct pki_tlv {
	uint8_t tag;
	size_t offset; /* of the tag byte, from the start of data */
	const unsigned char *value;
	size_t len;
};

/* 1: *t is the next TLV; 0: the window is used up; -1: a TLV runs past the window (err set,
 * what names the structure). */
int pki_tlv_next(struct pki_tlv_reader *r, struct pki_tlv *t, const char *what,
                 struct base_err *err);
/* Value checks: exact size, and a string that ends with its only NUL. */
int pki_tlv_want_len(const struct pki_tlv *t, size_t len, const char *what, struct base_err *err);
int pki_tlv_want_str(const struct pki_tlv *t, const char *what, struct base_err *err);
unsigned pki_tlv_get_u16(const unsigned char *p);
uint32_t pki_tlv_get_u32(const unsigned char *p);

/* A certificate Name as the format writes it: RFC 4514 attributes in certificate order,
 * comma-joined. malloc'ed; NULL on failure. */
char *pki_tlv_name(const X509_NAME *name);
/* The serial in the fewest big-endian bytes (out holds 64); returns the count, -1 if too
 * long. */
int pki_tlv_serial(const X509 *cert, unsigned char out[64]);
/* Whether cert's issuer and serial are the ones a header or record names. */
bool pki_tlv_names_cert(const X509 *cert, const char *issuer, const unsigned char *serial,
                        size_t serial_len);

/* ---- pki_tlv_header.c: the signed header of .tlv, .sgn and .enc.sgn files ---- */

/* Header tags. */
enum {
	PKI_H_VERSION = 1,
	PKI_H_HEADER_LENGTH = 2,
	PKI_H_SIGNER_INFO = 3,
	PKI_H_SIGNER_NAME = 4,
	PKI_H_SERIAL_NUMBER = 5,
	PKI_H_ISSUER_NAME = 6,
	PKI_H_SIGNATURE_INFO = 7,
	PKI_H_HASH_ALGORITHM = 8,
	PKI_H_SIGNATURE_ALGORITHM_INFO = 9,
	PKI_H_SIGNATURE_ALGORITHM = 10,
	PKI_H_SIGNATURE_MODULUS = 11,
	PKI_H_SIGNATURE = 12,
	PKI_H_PADDING = 13,
	PKI_H_FILENAME = 14,
	PKI_H_TIMESTAMP = 15,
	PKI_H_ENCRYPTION_INFO = 16,
	PKI_H_ENCRYPTION_IV_INFO = 17,
	PKI_H_ENCRYPTION_UNKNOWN1 = 18,
	PKI_H_ENCRYPTION_IV = 19,
	PKI_H_ENCRYPTION_PADDING = 20,
	PKI_H_ENCRYPTION_KEY_INFO = 21,
	PKI_H_ENCRYPTION_UNKNOWN2 = 22,
	PKI_H_ENCRYPTION_KEY_SIZE = 23,
	PKI_H_ENCRYPTION_KEY_ALGORITHM = 24,
	PKI_H_ENCRYPTION_KEY = 25,
	PKI_H_ENCRYPTION_HASH_ALGORITHM = 26,
	PKI_H_ENCRYPTION_HASH = 27,
	PKI_H_SIGNER_VERSION = 28,
};

/* Who signs: an RSA certificate and its key. */
struct pki_signer {
	X509 *cert;
	EVP_PKEY *key;
	enum pki_hash hash;
};

/* What a header says besides the signer. */
struct pki_header_spec {
	uint8_t version[2];            /* {1,2} .tlv, {1,0} .sgn, {2,0} .enc.sgn */
	const uint8_t *signer_version; /* {1,0}/{1,1} for .tlv; NULL: no tag 28 */
	const char *file_name;
	uint32_t timestamp;
	const unsigned char *extra; /* encoded TLVs after TIMESTAMP (encryption info) */
	size_t extra_len;
};

/* Header ‖ body, signed over everything but the SIGNATURE TLV (trust-lists.md §4). */
int pki_signed_file_build(const struct pki_signer *signer, const struct pki_header_spec *spec,
                          const unsigned char *body, size_t body_len, unsigned char **out,
                          size_t *out_len, struct base_err *err);

/* A parsed header: pointers into the file. */
struct pki_header {
	uint8_t version[2];
	size_t length; /* = offset of the body */
	bool has_signer_version;
	uint8_t signer_version[2];
	const char *signer_name;
	const char *issuer_name;
	const unsigned char *serial;
	size_t serial_len;
	int hash;          /* enum pki_hash */
	size_t sig_offset; /* of the SIGNATURE tag byte */
	const unsigned char *sig;
	size_t sig_len;
	const char *file_name;
	uint32_t timestamp;
	/* .enc.sgn */
	bool encrypted;
	const unsigned char *iv;
	size_t iv_len;
	unsigned pad_count;
	unsigned key_size;
	int key_algorithm; /* 1: wrapped AES key; PKI_KEY_ALG_MANUAL_*: ours, no wrapped key */
	const unsigned char *wrapped_key;
	size_t wrapped_key_len;
	int plain_hash;
	const unsigned char *plain_digest;
	size_t plain_digest_len;
};

/* Strict parse of the header at the start of data (BASE_E_BAD_REQUEST on anything off). */
int pki_header_parse(const unsigned char *data, size_t len, struct pki_header *h,
                     struct base_err *err);
/* Checks the signature of the whole file with key. */
int pki_header_verify(const unsigned char *data, size_t len, const struct pki_header *h,
                      EVP_PKEY *key, struct base_err *err);
/* The OpenSSL digest of a format hash code; NULL when unsupported. */
const EVP_MD *pki_hash_md(int hash);

/* Loads the tftp-signer certificate and key with the configured hash. */
int pki_signer_load(const struct pki *pki, struct pki_signer *signer, struct base_err *err);
void pki_signer_free(struct pki_signer *signer);

/* ---- pki_sgn.c ---- */

/* ENCRYPTION_KEY_ALGORITHM values of OpenUCM's manual-key files (docs/legacy-config-
 * encryption.md): the key is the phone's stored symmetric key, so no ENCRYPTION_KEY. */
#define PKI_KEY_ALG_MANUAL_AES128 0x80
#define PKI_KEY_ALG_MANUAL_RC4    0x81
#define PKI_ENC_PAD_BYTE          0x0D

/* AES-128-CBC without padding over len bytes (a multiple of 16). */
int pki_aes128_cbc(bool encrypt, const unsigned char key[16], const unsigned char iv[16],
                   const unsigned char *in, size_t len, unsigned char *out, struct base_err *err);
/* ENCRYPTION_INFO {IV_INFO {18, IV, PADDING}, KEY_INFO {22, KEY_SIZE, KEY_ALGORITHM[, KEY]}},
 * then the plaintext digest TLVs; wrapped NULL leaves out ENCRYPTION_KEY. */
struct pki_enc_info {
	const unsigned char *iv;
	size_t iv_len;
	unsigned pad;
	unsigned key_bits;
	int key_algorithm;
	const unsigned char *wrapped;
	size_t wrapped_len;
	int hash;
	const unsigned char *digest;
	size_t digest_len;
};
void pki_enc_info_put(struct pki_buf *b, const struct pki_enc_info *info);
/* Strict parse, version major.0, FILENAME expect_name (NULL: any), signer a TFTP certificate
 * of the lists, signature valid. */
int pki_signed_check(const unsigned char *data, size_t len, const char *expect_name, uint8_t major,
                     const struct pki_trust_list *const *lists, size_t nlists, struct pki_header *h,
                     struct base_err *err);

/* The .enc.sgn file named name (with its extension) for pub, signed by signer. */
int pki_enc_file_build(const struct pki_signer *signer, const char *name, uint32_t timestamp,
                       const unsigned char *data, size_t len, EVP_PKEY *pub, unsigned char **out,
                       size_t *out_len, struct base_err *err);

/* ---- pki_trust_list.c ---- */

/* The certificate of list with a role covering role whose issuer and serial are these
 * (how a header names its signer); NULL when none. */
const X509 *pki_trust_list_find_signer(const struct pki_trust_list *list, enum pki_tl_role role,
                                       const char *issuer, const unsigned char *serial,
                                       size_t serial_len);

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
