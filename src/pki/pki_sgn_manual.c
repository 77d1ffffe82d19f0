/*
 * Configuration files encrypted with a phone's manual symmetric key: OpenUCM's own format
 * for the legacy models that cannot take a key wrapped to a certificate (requirements
 * security-2 §3.13; the Cisco format is not published). It is the .enc.sgn envelope of
 * sgn-and-encrypted-config.md §2 with these differences (docs/legacy-config-encryption.md):
 *
 *   ENCRYPTION_KEY_ALGORITHM  0x80 AES-128-CBC under the key (7940G/7960G), or
 *                             0x81 RC4 (7905G/7912G): key = HMAC-SHA-256(K, IV), the first
 *                             1536 bytes of key stream dropped (as RFC 4345 arcfour256)
 *   ENCRYPTION_KEY            absent: the phone already holds K
 *   ENCRYPTION_KEY_SIZE       bits of K (128 or 256)
 *   ENCRYPTION_PADDING        0x0D pad count for AES; 0 for RC4
 *   ENCRYPTION_HASH           HMAC-SHA-512 of the plaintext under HMAC-SHA-256(K, "mac"), not
 *                             a bare digest: a bare digest would let anyone test guesses of
 *                             the secrets inside, and legacy phones ignore the signature
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "pki/pki_int.h"

#define IV_LEN       16
#define BLOCK        16
#define RC4_DROP     1536
#define MAC_HASH     PKI_HASH_SHA512
#define MAC_KEY_INFO "OpenUCM manual-key config MAC"

static int key_algorithm(size_t key_len, struct base_err *err)
{
	if (key_len == 16) {
		return PKI_KEY_ALG_MANUAL_AES128;
	}
	if (key_len == 32) {
		return PKI_KEY_ALG_MANUAL_RC4;
	}
	return base_err_set(err, BASE_E_INVALID, "symmetric_key",
	                    "a manual symmetric key has 128 or 256 bits, not %zu", key_len * 8);
}

static int plain_mac(const unsigned char *key, size_t key_len, const unsigned char *data,
                     size_t len, unsigned char mac[64], struct base_err *err)
{
	unsigned char mac_key[32];
	unsigned n = 0, m = 0;
	bool ok = HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)MAC_KEY_INFO,
	               strlen(MAC_KEY_INFO), mac_key, &n) &&
	          n == sizeof(mac_key) &&
	          HMAC(EVP_sha512(), mac_key, sizeof(mac_key), data, len, mac, &m) && m == 64;

	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	return ok ? 0 : pki_ssl_error(err, "cannot authenticate the configuration", NULL);
}

/* RC4 lives in OpenSSL's legacy provider: loaded into a context of its own, for this call
 * only, so that nothing else in the process can pick the cipher up. */
static int rc4_crypt(const unsigned char *key, size_t key_len, const unsigned char iv[IV_LEN],
                     unsigned char *buf, size_t len, struct base_err *err)
{
	OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *legacy = lib ? OSSL_PROVIDER_load(lib, "legacy") : NULL;
	EVP_CIPHER *rc4 = legacy ? EVP_CIPHER_fetch(lib, "RC4", NULL) : NULL;
	EVP_CIPHER_CTX *ctx = rc4 ? EVP_CIPHER_CTX_new() : NULL;
	unsigned char file_key[32], drop[RC4_DROP] = {0};
	unsigned n = 0;
	int out = 0;
	bool ok = ctx && HMAC(EVP_sha256(), key, (int)key_len, iv, IV_LEN, file_key, &n) &&
	          EVP_CipherInit_ex(ctx, rc4, NULL, NULL, NULL, 1) == 1 &&
	          EVP_CIPHER_CTX_set_key_length(ctx, sizeof(file_key)) == 1 &&
	          EVP_CipherInit_ex(ctx, NULL, NULL, file_key, NULL, 1) == 1 &&
	          EVP_CipherUpdate(ctx, drop, &out, drop, sizeof(drop)) == 1 && len <= INT32_MAX &&
	          EVP_CipherUpdate(ctx, buf, &out, buf, (int)len) == 1 && (size_t)out == len;

	OPENSSL_cleanse(file_key, sizeof(file_key));
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(rc4);
	OSSL_PROVIDER_unload(legacy);
	OSSL_LIB_CTX_free(lib);
	return ok ? 0 : pki_ssl_error(err, "RC4 is not available (OpenSSL legacy provider)", NULL);
}

static int manual_encrypt(int alg, const unsigned char *key, size_t key_len,
                          const unsigned char *iv, const unsigned char *data, size_t len,
                          unsigned char **body, size_t *body_len, unsigned *pad,
                          struct base_err *err)
{
	*pad = alg == PKI_KEY_ALG_MANUAL_AES128 ? (unsigned)(BLOCK - len % BLOCK) : 0;
	if (len > SIZE_MAX - BLOCK || !(*body = malloc(len + *pad + 1))) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	*body_len = len + *pad;
	memcpy(*body, data, len);
	memset(*body + len, PKI_ENC_PAD_BYTE, *pad);
	return alg == PKI_KEY_ALG_MANUAL_AES128
	           ? pki_aes128_cbc(true, key, iv, *body, *body_len, *body, err)
	           : rc4_crypt(key, key_len, iv, *body, *body_len, err);
}

int pki_manual_sgn_build(struct pki *pki, const char *file_name, const unsigned char *key,
                         size_t key_len, const unsigned char *data, size_t len, unsigned char **out,
                         size_t *out_len, struct base_err *err)
{
	struct pki_buf extra = {0};
	struct pki_signer signer;
	unsigned char iv[IV_LEN], mac[64], *body = NULL;
	size_t body_len = 0;
	unsigned pad = 0;
	int alg = key_algorithm(key_len, err), rc = -1;

	*out = NULL;
	*out_len = 0;
	if (alg < 0 || !file_name || !*file_name || strlen(file_name) > 255) {
		return alg < 0 ? -1
		               : base_err_set(err, BASE_E_INVALID, "file_name",
		                              "a signed file needs a name of 1 to 255 characters");
	}
	ERR_clear_error();
	if (pki_signer_load(pki, &signer, err) < 0) {
		return -1;
	}
	/* A fresh IV per build: the same configuration never encrypts the same way twice. */
	if (RAND_bytes(iv, sizeof(iv)) != 1) {
		pki_ssl_error(err, "no randomness for the IV", NULL);
		goto done;
	}
	if (plain_mac(key, key_len, data, len, mac, err) < 0 ||
	    manual_encrypt(alg, key, key_len, iv, data, len, &body, &body_len, &pad, err) < 0) {
		goto done;
	}
	const struct pki_enc_info info = {
	    iv, IV_LEN, pad, (unsigned)(key_len * 8), alg, NULL, 0, MAC_HASH, mac, 64};
	pki_enc_info_put(&extra, &info);
	if (extra.failed) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot encode the encryption header");
		goto done;
	}
	const struct pki_header_spec spec = {
	    .version = {2, 0},
	    .file_name = file_name,
	    .timestamp = (uint32_t)time(NULL),
	    .extra = extra.data,
	    .extra_len = extra.len,
	};
	rc = pki_signed_file_build(&signer, &spec, body, body_len, out, out_len, err);
done:
	pki_signer_free(&signer);
	pki_buf_free(&extra);
	free(body);
	return rc;
}

static int parse(const unsigned char *data, size_t len, const char *expect_name,
                 const struct pki_trust_list *const *lists, size_t nlists, struct pki_header *h,
                 struct base_err *err)
{
	if (nlists > 0) {
		return pki_signed_check(data, len, expect_name, 2, lists, nlists, h, err);
	}
	if (pki_header_parse(data, len, h, err) < 0) {
		return -1;
	}
	if (!h->encrypted || (expect_name && strcmp(expect_name, h->file_name) != 0)) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s is not the encrypted file %s", h->file_name,
		                    expect_name ? expect_name : "asked for");
	}
	return 0;
}

static int check_shape(const struct pki_header *h, int alg, size_t key_len, size_t body_len,
                       struct base_err *err)
{
	if (h->key_algorithm != PKI_KEY_ALG_MANUAL_AES128 &&
	    h->key_algorithm != PKI_KEY_ALG_MANUAL_RC4) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s is not encrypted with a manual symmetric key (it is for a "
		                    "phone certificate)",
		                    h->file_name);
	}
	if (h->key_algorithm != alg || h->key_size != key_len * 8) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s is encrypted with a %u-bit key (%s), the key given has %zu "
		                    "bits",
		                    h->file_name, h->key_size,
		                    h->key_algorithm == PKI_KEY_ALG_MANUAL_RC4 ? "RC4" : "AES-128",
		                    key_len * 8);
	}
	bool aes = alg == PKI_KEY_ALG_MANUAL_AES128;
	if (h->iv_len != IV_LEN || h->plain_hash != MAC_HASH || h->plain_digest_len != 64 ||
	    (aes &&
	     (body_len == 0 || body_len % BLOCK || h->pad_count < 1 || h->pad_count > BLOCK)) ||
	    (!aes && h->pad_count != 0)) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: IV, padding, MAC or ciphertext size do not fit its cipher",
		                    h->file_name);
	}
	return 0;
}

int pki_manual_sgn_open(const unsigned char *data, size_t len, const char *expect_name,
                        const struct pki_trust_list *const *lists, size_t nlists,
                        const unsigned char *key, size_t key_len, unsigned char **out,
                        size_t *out_len, struct base_err *err)
{
	struct pki_header h;
	unsigned char mac[64], *plain = NULL;
	int alg = key_algorithm(key_len, err);

	*out = NULL;
	*out_len = 0;
	if (alg < 0 || parse(data, len, expect_name, lists, nlists, &h, err) < 0 ||
	    check_shape(&h, alg, key_len, len - h.length, err) < 0) {
		return -1;
	}
	size_t body_len = len - h.length, plain_len = body_len - h.pad_count;
	if (!(plain = malloc(body_len + 1))) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	memcpy(plain, data + h.length, body_len);
	int rc = alg == PKI_KEY_ALG_MANUAL_AES128
	             ? pki_aes128_cbc(false, key, h.iv, plain, body_len, plain, err)
	             : rc4_crypt(key, key_len, h.iv, plain, body_len, err);
	if (rc == 0) {
		rc = plain_mac(key, key_len, plain, plain_len, mac, err);
	}
	if (rc == 0 && !base_mem_equal_ct(mac, h.plain_digest, sizeof(mac))) {
		rc = base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                  "%s does not decrypt with this symmetric key (wrong key?): the "
		                  "configuration is not applied",
		                  h.file_name);
	}
	if (rc < 0) {
		OPENSSL_cleanse(plain, body_len);
		free(plain);
		return -1;
	}
	plain[plain_len] = '\0';
	*out = plain;
	*out_len = plain_len;
	return 0;
}
