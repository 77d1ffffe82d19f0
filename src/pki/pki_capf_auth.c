/*
 * The cryptography of CAPF around the codec: the signatures by which a phone proves it holds
 * its existing LSC or MIC (specs/capf.md §6.3, §6.4), and the public keys it sends for its
 * new certificate (§4.4). Shared by the server and ucm-phone.
 */
#include "pki/pki_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static const EVP_MD *hash_md(enum pki_capf_hash hash)
{
	switch (hash) {
	case PKI_CAPF_HASH_SHA1:
		return EVP_sha1();
	case PKI_CAPF_HASH_SHA256:
		return EVP_sha256();
	case PKI_CAPF_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

unsigned char *pki_capf_auth_data(const char *device_name, const unsigned char *der, size_t len,
                                  size_t *out_len)
{
	size_t n = strlen(device_name) + 1;
	unsigned char *buf = malloc(n + len);
	if (!buf)
		return NULL;
	memcpy(buf, device_name, n);
	memcpy(buf + n, der, len);
	*out_len = n + len;
	return buf;
}

static int digest(enum pki_capf_hash hash, const unsigned char *data, size_t len, unsigned char *md,
                  unsigned *md_len, struct base_err *err)
{
	const EVP_MD *type = hash_md(hash);
	if (!type)
		return base_err_set(err, BASE_E_INVALID, NULL, "unknown CAPF hash code %u",
		                    (unsigned)hash);
	if (EVP_Digest(data, len, md, md_len, type, NULL) != 1)
		return pki_ssl_error(err, "cannot hash", NULL);
	return 0;
}

/* A context for key with PKCS#1 v1.5 padding for RSA; the caller has called init. */
static int set_padding(EVP_PKEY_CTX *ctx, EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "RSA"))
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 ? 0 : -1;
	return 0;
}

int pki_capf_sign(EVP_PKEY *key, enum pki_capf_hash hash, const unsigned char *data, size_t len,
                  unsigned char **sig, size_t *sig_len, struct base_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len;
	if (digest(hash, data, len, md, &md_len, err) != 0)
		return -1;
	ERR_clear_error();
	/* No signature digest set: RSA pads the bare digest (type 1), ECDSA signs it as is. */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	*sig = NULL;
	if (!ctx || EVP_PKEY_sign_init(ctx) != 1 || set_padding(ctx, key) != 0 ||
	    EVP_PKEY_sign(ctx, NULL, sig_len, md, md_len) != 1 || !(*sig = malloc(*sig_len)) ||
	    EVP_PKEY_sign(ctx, *sig, sig_len, md, md_len) != 1) {
		free(*sig);
		*sig = NULL;
		EVP_PKEY_CTX_free(ctx);
		return pki_ssl_error(err, "cannot sign the CAPF authentication data", NULL);
	}
	EVP_PKEY_CTX_free(ctx);
	return 0;
}

/* The RSA block recovered from sig equals the bare digest. */
static bool rsa_bare_digest_ok(EVP_PKEY *key, const unsigned char *md, unsigned md_len,
                               const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	unsigned char out[1024];
	size_t out_len = sizeof(out);
	bool ok = ctx && (size_t)EVP_PKEY_get_size(key) <= sizeof(out) &&
	          EVP_PKEY_verify_recover_init(ctx) == 1 && set_padding(ctx, key) == 0 &&
	          EVP_PKEY_verify_recover(ctx, out, &out_len, sig, sig_len) == 1 &&
	          out_len == md_len && memcmp(out, md, md_len) == 0;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* ECDSA over the digest, or RSA with a DigestInfo naming the hash. */
static bool standard_ok(EVP_PKEY *key, enum pki_capf_hash hash, const unsigned char *md,
                        unsigned md_len, const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	bool rsa = EVP_PKEY_is_a(key, "RSA");
	bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 && set_padding(ctx, key) == 0 &&
	          (!rsa || EVP_PKEY_CTX_set_signature_md(ctx, hash_md(hash)) > 0) &&
	          EVP_PKEY_verify(ctx, sig, sig_len, md, md_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int pki_capf_verify(EVP_PKEY *key, enum pki_capf_hash hash, const unsigned char *data, size_t len,
                    const unsigned char *sig, size_t sig_len, struct base_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len;
	if (digest(hash, data, len, md, &md_len, err) != 0)
		return -1;
	bool ok =
	    (EVP_PKEY_is_a(key, "RSA") && rsa_bare_digest_ok(key, md, md_len, sig, sig_len)) ||
	    standard_ok(key, hash, md, md_len, sig, sig_len);
	ERR_clear_error();
	if (!ok)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the signature does not verify with the certificate's key");
	return 0;
}

/* ---- public keys ---- */

static const char *const curve_names[] = {
    [PKI_CAPF_CURVE_P256] = "P-256",
    [PKI_CAPF_CURVE_P384] = "P-384",
    [PKI_CAPF_CURVE_P521] = "P-521",
};
static const char *const curve_groups[] = {
    [PKI_CAPF_CURVE_P256] = "prime256v1",
    [PKI_CAPF_CURVE_P384] = "secp384r1",
    [PKI_CAPF_CURVE_P521] = "secp521r1",
};

static bool curve_valid(enum pki_capf_curve curve)
{
	return (unsigned)curve <= PKI_CAPF_CURVE_P521;
}

int pki_capf_public_key_parse(const unsigned char *der, size_t len, EVP_PKEY **out,
                              struct base_err *err)
{
	const unsigned char *p = der;
	ERR_clear_error();
	EVP_PKEY *key = len <= 0x7fffffff ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;
	ERR_clear_error();
	if (!key)
		return base_err_set(err, BASE_E_BAD_REQUEST, "PUBLIC_KEY",
		                    "the public key is not a DER SubjectPublicKeyInfo");
	if (p != der + len) {
		EVP_PKEY_free(key);
		return base_err_set(err, BASE_E_BAD_REQUEST, "PUBLIC_KEY",
		                    "%zu bytes follow the public key", (size_t)(der + len - p));
	}
	if (!EVP_PKEY_is_a(key, "RSA") && !EVP_PKEY_is_a(key, "EC")) {
		EVP_PKEY_free(key);
		return base_err_set(err, BASE_E_INVALID, "PUBLIC_KEY",
		                    "the public key is neither RSA nor EC");
	}
	*out = key;
	return 0;
}

void pki_capf_key_spec_name(const struct pki_capf_key_spec *spec, char *out, size_t size)
{
	if (spec->type == PKI_CAPF_KEY_RSA)
		snprintf(out, size, "RSA %u", spec->rsa_bits);
	else
		snprintf(out, size, "EC %s",
		         curve_valid(spec->curve) ? curve_names[spec->curve] : "?");
}

/* The curve of an EC key, or -1. */
static int key_curve(EVP_PKEY *key)
{
	char group[64];
	if (!EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   NULL) != 1)
		return -1;
	for (int c = 0; c <= PKI_CAPF_CURVE_P521; c++)
		if (strcmp(group, curve_groups[c]) == 0)
			return c;
	return -1;
}

void pki_capf_key_describe(EVP_PKEY *key, char *out, size_t size)
{
	int curve = key_curve(key);
	if (EVP_PKEY_is_a(key, "RSA"))
		snprintf(out, size, "RSA %d", EVP_PKEY_get_bits(key));
	else if (curve >= 0)
		snprintf(out, size, "EC %s", curve_names[curve]);
	else
		snprintf(out, size, "%s %d", EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key));
}

bool pki_capf_key_matches(EVP_PKEY *key, const struct pki_capf_key_spec *spec)
{
	if (spec->type == PKI_CAPF_KEY_RSA)
		return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) == (int)spec->rsa_bits;
	return key_curve(key) == (int)spec->curve;
}

EVP_PKEY *pki_capf_keygen(const struct pki_capf_key_spec *spec, struct base_err *err)
{
	if (spec->type == PKI_CAPF_KEY_RSA)
		return pki_rsa_keygen(spec->rsa_bits, err);
	if (!curve_valid(spec->curve)) {
		base_err_set(err, BASE_E_INVALID, NULL, "unknown CAPF curve %u",
		             (unsigned)spec->curve);
		return NULL;
	}
	ERR_clear_error();
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_groups[spec->curve]);
	if (!key)
		pki_ssl_error(err, "cannot generate an EC key", NULL);
	return key;
}
