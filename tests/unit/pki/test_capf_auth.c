/* Unit tests for the CAPF proofs of possession and public keys (specs/capf.md §4.4, §6.3). */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pki/pki.h"

static const unsigned char cert_der[] = {0x30, 0x03, 0x02, 0x01, 0x05};

static void sign_and_verify(const struct pki_capf_key_spec *spec)
{
	struct base_err err = {0};
	EVP_PKEY *key = pki_capf_keygen(spec, &err);
	assert_non_null(key);
	assert_true(pki_capf_key_matches(key, spec));
	size_t len;
	unsigned char *data =
	    pki_capf_auth_data("SEP001122334455", cert_der, sizeof(cert_der), &len);
	assert_int_equal(len, 16 + sizeof(cert_der));
	assert_int_equal(data[15], 0);
	for (enum pki_capf_hash h = PKI_CAPF_HASH_SHA1; h <= PKI_CAPF_HASH_SHA512; h++) {
		unsigned char *sig;
		size_t sig_len;
		assert_int_equal(pki_capf_sign(key, h, data, len, &sig, &sig_len, &err), 0);
		assert_int_equal(pki_capf_verify(key, h, data, len, sig, sig_len, &err), 0);
		/* Another hash, other data or a changed signature do not verify. */
		enum pki_capf_hash other = h == PKI_CAPF_HASH_SHA1 ? PKI_CAPF_HASH_SHA512 : 1;
		assert_int_equal(pki_capf_verify(key, other, data, len, sig, sig_len, &err), -1);
		assert_int_equal(err.code, BASE_E_UNAUTHORIZED);
		data[0] ^= 1;
		assert_int_equal(pki_capf_verify(key, h, data, len, sig, sig_len, &err), -1);
		data[0] ^= 1;
		sig[sig_len / 2] ^= 0x40;
		assert_int_equal(pki_capf_verify(key, h, data, len, sig, sig_len, &err), -1);
		free(sig);
	}
	free(data);
	EVP_PKEY_free(key);
}

static void test_rsa_proof(void **state)
{
	(void)state;
	struct pki_capf_key_spec spec = {.type = PKI_CAPF_KEY_RSA, .rsa_bits = 2048};
	sign_and_verify(&spec);
}

static void test_ec_proof(void **state)
{
	(void)state;
	struct pki_capf_key_spec spec = {.type = PKI_CAPF_KEY_EC, .curve = PKI_CAPF_CURVE_P256};
	sign_and_verify(&spec);
}

/* The reference signs the bare digest; a phone using the standard DigestInfo form passes. */
static void test_rsa_digest_info_form(void **state)
{
	(void)state;
	struct base_err err = {0};
	struct pki_capf_key_spec spec = {.type = PKI_CAPF_KEY_RSA, .rsa_bits = 2048};
	EVP_PKEY *key = pki_capf_keygen(&spec, &err);
	unsigned char sig[256];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha512(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, cert_der, sizeof(cert_der)), 1);
	EVP_MD_CTX_free(md);
	assert_int_equal(pki_capf_verify(key, PKI_CAPF_HASH_SHA512, cert_der, sizeof(cert_der), sig,
	                                 sig_len, &err),
	                 0);
	EVP_PKEY_free(key);
}

static void test_public_keys(void **state)
{
	(void)state;
	struct base_err err = {0};
	struct pki_capf_key_spec p256 = {.type = PKI_CAPF_KEY_EC, .curve = PKI_CAPF_CURVE_P256};
	struct pki_capf_key_spec p384 = {.type = PKI_CAPF_KEY_EC, .curve = PKI_CAPF_CURVE_P384};
	struct pki_capf_key_spec rsa = {.type = PKI_CAPF_KEY_RSA, .rsa_bits = 2048};
	EVP_PKEY *key = pki_capf_keygen(&p256, &err);
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der);
	assert_int_equal(len, 91); /* §4.4: P-256 SPKI is 91 bytes */
	EVP_PKEY *parsed;
	assert_int_equal(pki_capf_public_key_parse(der, (size_t)len, &parsed, &err), 0);
	assert_true(pki_capf_key_matches(parsed, &p256));
	assert_false(pki_capf_key_matches(parsed, &p384));
	assert_false(pki_capf_key_matches(parsed, &rsa));
	char text[32];
	pki_capf_key_describe(parsed, text, sizeof(text));
	assert_string_equal(text, "EC P-256");
	pki_capf_key_spec_name(&rsa, text, sizeof(text));
	assert_string_equal(text, "RSA 2048");
	EVP_PKEY_free(parsed);
	/* Truncated, or followed by extra bytes: refused. */
	assert_int_equal(pki_capf_public_key_parse(der, (size_t)len - 1, &parsed, &err), -1);
	unsigned char longer[100];
	memcpy(longer, der, (size_t)len);
	longer[len] = 0;
	assert_int_equal(pki_capf_public_key_parse(longer, (size_t)len + 1, &parsed, &err), -1);
	assert_string_equal(err.field, "PUBLIC_KEY");
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsa_proof),
	    cmocka_unit_test(test_ec_proof),
	    cmocka_unit_test(test_rsa_digest_info_form),
	    cmocka_unit_test(test_public_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
