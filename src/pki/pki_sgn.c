/*
 * Signed (.sgn) and encrypted (.enc.sgn) provisioning files (sgn-and-encrypted-config.md):
 * building them with the tftp-signer key, and checking and opening them as a phone does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"

#define AES_KEY_LEN  16
#define AES_IV_LEN   16
#define AES_BLOCK    16
#define ENC_PAD_BYTE PKI_ENC_PAD_BYTE /* carriage return, not PKCS#7: as the reference */

/* "<file_name><ext>" into out; file names are short paths under the provisioning root. */
static int signed_name(char out[256], const char *file_name, const char *ext, struct base_err *err)
{
	int n = snprintf(out, 256, "%s%s", file_name ? file_name : "", ext);

	if (!file_name || !file_name[0] || n < 0 || n >= 256) {
		return base_err_set(err, BASE_E_INVALID, "file_name",
		                    "a signed file needs a name of 1 to %zu characters",
		                    255 - strlen(ext));
	}
	return 0;
}

static int build(struct pki *pki, const struct pki_header_spec *spec, const unsigned char *body,
                 size_t body_len, unsigned char **out, size_t *out_len, struct base_err *err)
{
	struct pki_signer signer;
	int rc;

	if (pki_signer_load(pki, &signer, err) < 0) {
		*out = NULL;
		*out_len = 0;
		return -1;
	}
	rc = pki_signed_file_build(&signer, spec, body, body_len, out, out_len, err);
	pki_signer_free(&signer);
	return rc;
}

int pki_sgn_build(struct pki *pki, const char *file_name, const unsigned char *data, size_t len,
                  unsigned char **out, size_t *out_len, struct base_err *err)
{
	char name[256];
	struct pki_header_spec spec = {.version = {1, 0}, .file_name = name};

	*out = NULL;
	*out_len = 0;
	if (signed_name(name, file_name, ".sgn", err) < 0) {
		return -1;
	}
	spec.timestamp = (uint32_t)time(NULL);
	return build(pki, &spec, data, len, out, out_len, err);
}

/* ---- encrypting ---------------------------------------------------------------------------- */

int pki_aes128_cbc(bool encrypt, const unsigned char key[AES_KEY_LEN],
                   const unsigned char iv[AES_IV_LEN], const unsigned char *in, size_t len,
                   unsigned char *out, struct base_err *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	bool ok = ctx && len <= INT32_MAX &&
	          EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, encrypt ? 1 : 0) == 1 &&
	          EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	          EVP_CipherUpdate(ctx, out, &n1, in, (int)len) == 1 &&
	          EVP_CipherFinal_ex(ctx, out + n1, &n2) == 1 && (size_t)(n1 + n2) == len;

	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : pki_ssl_error(err, encrypt ? "cannot encrypt" : "cannot decrypt", NULL);
}

/* RSAES-PKCS1-v1_5 with the phone certificate's key. */
static int wrap_key(EVP_PKEY *pub, const unsigned char key[AES_KEY_LEN], unsigned char **out,
                    size_t *out_len, struct base_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	size_t n = 0;
	bool ok = ctx && EVP_PKEY_encrypt_init(ctx) == 1 &&
	          EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	          EVP_PKEY_encrypt(ctx, NULL, &n, key, AES_KEY_LEN) == 1 && (*out = malloc(n)) &&
	          EVP_PKEY_encrypt(ctx, *out, &n, key, AES_KEY_LEN) == 1;

	EVP_PKEY_CTX_free(ctx);
	*out_len = n;
	return ok ? 0 : pki_ssl_error(err, "cannot wrap the file key", NULL);
}

void pki_enc_info_put(struct pki_buf *b, const struct pki_enc_info *e)
{
	size_t info = pki_tlv_open(b, PKI_H_ENCRYPTION_INFO);
	size_t iv_info = pki_tlv_open(b, PKI_H_ENCRYPTION_IV_INFO);

	pki_tlv_u8(b, PKI_H_ENCRYPTION_UNKNOWN1, 0);
	pki_tlv_put(b, PKI_H_ENCRYPTION_IV, e->iv, e->iv_len);
	pki_tlv_u16(b, PKI_H_ENCRYPTION_PADDING, (uint16_t)e->pad);
	pki_tlv_close(b, iv_info);
	size_t key_info = pki_tlv_open(b, PKI_H_ENCRYPTION_KEY_INFO);

	pki_tlv_u8(b, PKI_H_ENCRYPTION_UNKNOWN2, 0);
	pki_tlv_u16(b, PKI_H_ENCRYPTION_KEY_SIZE, (uint16_t)e->key_bits);
	pki_tlv_u8(b, PKI_H_ENCRYPTION_KEY_ALGORITHM, (uint8_t)e->key_algorithm);
	if (e->wrapped) {
		pki_tlv_put(b, PKI_H_ENCRYPTION_KEY, e->wrapped, e->wrapped_len);
	}
	pki_tlv_close(b, key_info);
	pki_tlv_close(b, info);
	pki_tlv_u8(b, PKI_H_ENCRYPTION_HASH_ALGORITHM, (uint8_t)e->hash);
	pki_tlv_put(b, PKI_H_ENCRYPTION_HASH, e->digest, e->digest_len);
}

int pki_enc_file_build(const struct pki_signer *signer, const char *name, uint32_t timestamp,
                       const unsigned char *data, size_t len, EVP_PKEY *pub, unsigned char **out,
                       size_t *out_len, struct base_err *err)
{
	struct pki_buf extra = {0};
	unsigned char key[AES_KEY_LEN], iv[AES_IV_LEN], digest[EVP_MAX_MD_SIZE];
	unsigned char *wrapped = NULL, *cipher = NULL;
	size_t wrapped_len = 0, pad = AES_BLOCK - len % AES_BLOCK;
	unsigned digest_len = 0;
	int rc = -1;

	*out = NULL;
	*out_len = 0;
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		return base_err_set(err, BASE_E_INVALID, "certificate",
		                    "configurations are encrypted for phones with an RSA "
		                    "certificate only");
	}
	if (len > SIZE_MAX - AES_BLOCK || !(cipher = malloc(len + pad))) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	/* A fresh key and IV for every build: a changed configuration never reuses a key. */
	if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1 ||
	    EVP_Digest(data, len, digest, &digest_len, pki_hash_md(signer->hash), NULL) != 1) {
		pki_ssl_error(err, "cannot make the file key", NULL);
		goto done;
	}
	memcpy(cipher, data, len);
	memset(cipher + len, ENC_PAD_BYTE, pad);
	if (pki_aes128_cbc(true, key, iv, cipher, len + pad, cipher, err) < 0 ||
	    wrap_key(pub, key, &wrapped, &wrapped_len, err) < 0) {
		goto done;
	}
	/* KEY_SIZE is 8 × the wrapped key's length, as the reference writes it (the RSA size). */
	const struct pki_enc_info info = {
	    iv,     AES_IV_LEN, (unsigned)pad, (unsigned)(wrapped_len * 8),
	    1,      wrapped,    wrapped_len,   signer->hash,
	    digest, digest_len};
	pki_enc_info_put(&extra, &info);
	if (extra.failed) {
		base_err_set(err, BASE_E_INTERNAL, NULL,
		             "pki: cannot encode the encryption header");
		goto done;
	}
	const struct pki_header_spec spec = {
	    .version = {2, 0},
	    .file_name = name,
	    .timestamp = timestamp,
	    .extra = extra.data,
	    .extra_len = extra.len,
	};

	rc = pki_signed_file_build(signer, &spec, cipher, len + pad, out, out_len, err);
done:
	OPENSSL_cleanse(key, sizeof(key));
	pki_buf_free(&extra);
	free(wrapped);
	free(cipher);
	return rc;
}

int pki_enc_sgn_build(struct pki *pki, const char *file_name, const unsigned char *data, size_t len,
                      const X509 *phone_cert, unsigned char **out, size_t *out_len,
                      struct base_err *err)
{
	EVP_PKEY *pub = phone_cert ? X509_get0_pubkey(phone_cert) : NULL;
	struct pki_signer signer;
	char name[256];
	int rc;

	ERR_clear_error();
	*out = NULL;
	*out_len = 0;
	if (signed_name(name, file_name, ".enc.sgn", err) < 0 ||
	    pki_signer_load(pki, &signer, err) < 0) {
		return -1;
	}
	rc = pki_enc_file_build(&signer, name, (uint32_t)time(NULL), data, len, pub, out, out_len,
	                        err);
	pki_signer_free(&signer);
	return rc;
}

int pki_cert_hash(const X509 *cert, char out[33], struct base_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	out[0] = '\0';
	if (!cert || X509_digest(cert, EVP_md5(), md, &n) != 1 || n != 16) {
		return pki_ssl_error(err, "cannot hash the certificate", NULL);
	}
	base_hex(md, n, out);
	return 0;
}

/* ---- verifying and opening --------------------------------------------------------------- */

/* Parse, expected version and name, signer among the lists' TFTP certificates, signature. */
int pki_signed_check(const unsigned char *data, size_t len, const char *expect_name, uint8_t major,
                     const struct pki_trust_list *const *lists, size_t nlists, struct pki_header *h,
                     struct base_err *err)
{
	const X509 *signer = NULL;

	if (pki_header_parse(data, len, h, err) < 0) {
		return -1;
	}
	if (h->version[0] != major || h->version[1] != 0 || h->encrypted != (major == 2)) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: version %u.%u, expected %u.0 for a %s file", h->file_name,
		                    h->version[0], h->version[1], major,
		                    major == 2 ? "encrypted" : "signed");
	}
	if (expect_name && strcmp(expect_name, h->file_name) != 0) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "the file names itself %s, not %s", h->file_name, expect_name);
	}
	for (size_t i = 0; !signer && i < nlists; i++) {
		signer = pki_trust_list_find_signer(lists[i], PKI_TL_TFTP, h->issuer_name,
		                                    h->serial, h->serial_len);
	}
	if (!signer) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s is signed by %s (issuer %s), which no trust list names as "
		                    "TFTP",
		                    h->file_name, h->signer_name, h->issuer_name);
	}
	return pki_header_verify(data, len, h, X509_get0_pubkey(signer), err);
}

int pki_sgn_verify(const unsigned char *data, size_t len, const char *expect_name,
                   const struct pki_trust_list *const *lists, size_t nlists,
                   const unsigned char **payload, size_t *payload_len, struct base_err *err)
{
	struct pki_header h;

	*payload = NULL;
	*payload_len = 0;
	if (pki_signed_check(data, len, expect_name, 1, lists, nlists, &h, err) < 0) {
		return -1;
	}
	*payload = data + h.length;
	*payload_len = len - h.length;
	return 0;
}

static int unwrap_key(EVP_PKEY *key, const struct pki_header *h, unsigned char out[AES_KEY_LEN],
                      struct base_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	unsigned char buf[1024];
	size_t n = sizeof(buf);
	bool ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1 &&
	          EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	          EVP_PKEY_decrypt(ctx, NULL, &n, h->wrapped_key, h->wrapped_key_len) == 1 &&
	          n <= sizeof(buf) &&
	          EVP_PKEY_decrypt(ctx, buf, &n, h->wrapped_key, h->wrapped_key_len) == 1 &&
	          n == AES_KEY_LEN;

	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (ok) {
		memcpy(out, buf, AES_KEY_LEN);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ok) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: the file key cannot be unwrapped with this phone's key",
		                    h->file_name);
	}
	return 0;
}

/* Pad bytes and the plaintext digest; *plain_len is the length without the pad. */
static int plain_check(const struct pki_header *h, const unsigned char *plain, size_t len,
                       size_t *plain_len, struct base_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	const EVP_MD *type = pki_hash_md(h->plain_hash);

	for (size_t i = len - h->pad_count; i < len; i++) {
		if (plain[i] != ENC_PAD_BYTE) {
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    "%s: wrong padding after decryption (wrong key?)",
			                    h->file_name);
		}
	}
	*plain_len = len - h->pad_count;
	if (!type || EVP_Digest(plain, *plain_len, md, &md_len, type, NULL) != 1 ||
	    md_len != h->plain_digest_len || !base_mem_equal_ct(md, h->plain_digest, md_len)) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: the decrypted file does not match its digest",
		                    h->file_name);
	}
	return 0;
}

int pki_enc_sgn_open(const unsigned char *data, size_t len, const char *expect_name,
                     const struct pki_trust_list *const *lists, size_t nlists, EVP_PKEY *phone_key,
                     unsigned char **out, size_t *out_len, struct base_err *err)
{
	struct pki_header h;
	unsigned char key[AES_KEY_LEN];
	unsigned char *plain = NULL;
	size_t body_len, plain_len = 0;

	*out = NULL;
	*out_len = 0;
	if (pki_signed_check(data, len, expect_name, 2, lists, nlists, &h, err) < 0) {
		return -1;
	}
	body_len = len - h.length;
	if (h.key_algorithm != 1) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s is encrypted with a manual symmetric key, not for a phone "
		                    "certificate",
		                    h.file_name);
	}
	if (h.iv_len != AES_IV_LEN || body_len == 0 || body_len % AES_BLOCK != 0 ||
	    h.pad_count < 1 || h.pad_count > AES_BLOCK) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: IV, padding or ciphertext size is not AES-128-CBC",
		                    h.file_name);
	}
	if (unwrap_key(phone_key, &h, key, err) < 0) {
		return -1;
	}
	if (!(plain = malloc(body_len + 1))) {
		OPENSSL_cleanse(key, sizeof(key));
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	int rc = pki_aes128_cbc(false, key, h.iv, data + h.length, body_len, plain, err);

	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0 || plain_check(&h, plain, body_len, &plain_len, err) < 0) {
		OPENSSL_cleanse(plain, body_len);
		free(plain);
		return -1;
	}
	plain[plain_len] = '\0';
	*out = plain;
	*out_len = plain_len;
	return 0;
}
