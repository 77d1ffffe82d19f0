/*
 * OpenUCM's manual-key configuration files (pki_sgn_manual.c, docs/legacy-config-
 * encryption.md): AES-128 for 7940G/7960G, RC4 for 7905G/7912G, in the .enc.sgn envelope
 * with no wrapped key.
 */
#include "trust_fixture.h"

#include <openssl/crypto.h>

static const char cnf_xml[] =
    "<device><sipProfile><authPassword>secret-digest</authPassword></sipProfile></device>\n";
static const unsigned char key128[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                         0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const unsigned char key256[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                         12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                         23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void roundtrip(struct trust_fixture *f, const unsigned char *key, size_t key_len,
                      const char *name)
{
	struct pki_trust_list *itl = trust_fixture_itl(f);
	const struct pki_trust_list *lists[] = {itl};
	struct base_err err = {0};
	unsigned char *out = NULL, *plain = NULL;
	size_t len = 0, plain_len = 0;

	for (size_t n = 0; n <= 33; n++) {
		assert_int_equal(pki_manual_sgn_build(f->pki, name, key, key_len,
		                                      (const unsigned char *)cnf_xml, n, &out, &len,
		                                      &err),
		                 0);
		if (pki_manual_sgn_open(out, len, name, lists, 1, key, key_len, &plain, &plain_len,
		                        &err) != 0)
			fail_msg("length %zu: %s", n, err.message);
		assert_int_equal(plain_len, n);
		assert_memory_equal(plain, cnf_xml, n);
		assert_int_equal(plain[n], '\0');
		free(plain);
		/* The legacy phones ignore the signature: opening without lists works too. */
		assert_int_equal(pki_manual_sgn_open(out, len, name, NULL, 0, key, key_len, &plain,
		                                     &plain_len, &err),
		                 0);
		free(plain);
		free(out);
	}
	assert_int_equal(pki_manual_sgn_build(f->pki, name, key, key_len,
	                                      (const unsigned char *)cnf_xml, strlen(cnf_xml), &out,
	                                      &len, &err),
	                 0);
	assert_null(memmem(out, len, "secret", 6));
	/* The header: our key algorithm, the key size, no wrapped key, a 64-byte MAC. */
	struct pki_header h;

	assert_int_equal(pki_header_parse(out, len, &h, &err), 0);
	assert_true(h.encrypted);
	assert_int_equal(h.version[0], 2);
	assert_string_equal(h.file_name, name);
	assert_int_equal(h.key_algorithm,
	                 key_len == 16 ? PKI_KEY_ALG_MANUAL_AES128 : PKI_KEY_ALG_MANUAL_RC4);
	assert_int_equal(h.key_size, key_len * 8);
	assert_null(h.wrapped_key);
	assert_int_equal(h.plain_digest_len, 64);
	/* A wrong key: refused, nothing returned. */
	unsigned char wrong[32];

	memcpy(wrong, key, key_len);
	wrong[key_len - 1] ^= 1;
	assert_int_equal(
	    pki_manual_sgn_open(out, len, name, lists, 1, wrong, key_len, &plain, &plain_len, &err),
	    -1);
	assert_null(plain);
	assert_int_equal(err.code, BASE_E_BAD_REQUEST);
	assert_non_null(strstr(err.message, "does not decrypt with this symmetric key"));
	/* A key of the other size: refused before decrypting. */
	assert_int_equal(pki_manual_sgn_open(out, len, name, lists, 1, key256, 48 - key_len, &plain,
	                                     &plain_len, &err),
	                 -1);
	assert_non_null(strstr(err.message, "the key given has"));
	/* Another name, or a changed byte (signature). */
	assert_int_equal(pki_manual_sgn_open(out, len, "other", lists, 1, key, key_len, &plain,
	                                     &plain_len, &err),
	                 -1);
	out[len - 1] ^= 1;
	assert_int_equal(
	    pki_manual_sgn_open(out, len, name, lists, 1, key, key_len, &plain, &plain_len, &err),
	    -1);
	/* Without the signature check, the MAC still catches it. */
	assert_int_equal(
	    pki_manual_sgn_open(out, len, name, NULL, 0, key, key_len, &plain, &plain_len, &err),
	    -1);
	assert_non_null(strstr(err.message, "does not decrypt"));
	free(out);
	/* Two builds of one file differ (fresh IV). */
	unsigned char *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	assert_int_equal(pki_manual_sgn_build(f->pki, name, key, key_len,
	                                      (const unsigned char *)"x", 1, &a, &la, &err),
	                 0);
	assert_int_equal(pki_manual_sgn_build(f->pki, name, key, key_len,
	                                      (const unsigned char *)"x", 1, &b, &lb, &err),
	                 0);
	assert_int_equal(la, lb);
	assert_memory_not_equal(a + la - 16, b + lb - 16, 16);
	free(a);
	free(b);
	pki_trust_list_free(itl);
}

static void test_aes_roundtrip(void **state)
{
	roundtrip(*state, key128, sizeof(key128), "SIP001122334455.cnf.enc.sgn");
}

static void test_rc4_roundtrip(void **state)
{
	roundtrip(*state, key256, sizeof(key256), "LD001122334455.x");
}

/* AC-E06: the body is plain AES-128-CBC under the phone's key with the header's IV. */
static void test_aes_is_plain_aes128_cbc(void **state)
{
	struct trust_fixture *f = *state;
	struct base_err err = {0};
	unsigned char *out = NULL, plain[256];
	size_t len = 0;
	struct pki_header h;
	int n1 = 0, n2 = 0;

	assert_int_equal(pki_manual_sgn_build(f->pki, "SIPAABBCCDDEEFF.cnf.enc.sgn", key128, 16,
	                                      (const unsigned char *)cnf_xml, strlen(cnf_xml), &out,
	                                      &len, &err),
	                 0);
	assert_int_equal(pki_header_parse(out, len, &h, &err), 0);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key128, h.iv), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_DecryptUpdate(ctx, plain, &n1, out + h.length, (int)(len - h.length)),
	                 1);
	assert_int_equal(EVP_DecryptFinal_ex(ctx, plain + n1, &n2), 1);
	EVP_CIPHER_CTX_free(ctx);
	assert_int_equal((size_t)(n1 + n2), strlen(cnf_xml) + h.pad_count);
	assert_memory_equal(plain, cnf_xml, strlen(cnf_xml));
	for (size_t i = strlen(cnf_xml); i < (size_t)(n1 + n2); i++)
		assert_int_equal(plain[i], 0x0D);
	free(out);
}

/* A certificate-wrapped file and a manual-key file are not each other. */
static void test_kinds_do_not_mix(void **state)
{
	struct trust_fixture *f = *state;
	struct pki_trust_list *itl = trust_fixture_itl(f);
	const struct pki_trust_list *lists[] = {itl};
	struct base_err err = {0};
	EVP_PKEY *phone_key;
	X509 *phone = trust_make_cert("SEP001122334455", "0A", 2048, 30, &phone_key);
	unsigned char *out = NULL, *plain = NULL;
	size_t len = 0, plain_len = 0;

	assert_int_equal(pki_manual_sgn_build(f->pki, "SEP001122334455.cnf.xml.enc.sgn", key128, 16,
	                                      (const unsigned char *)cnf_xml, strlen(cnf_xml), &out,
	                                      &len, &err),
	                 0);
	assert_int_equal(
	    pki_enc_sgn_open(out, len, NULL, lists, 1, phone_key, &plain, &plain_len, &err), -1);
	assert_non_null(strstr(err.message, "manual symmetric key"));
	free(out);
	assert_int_equal(pki_enc_sgn_build(f->pki, "SEP001122334455.cnf.xml",
	                                   (const unsigned char *)cnf_xml, strlen(cnf_xml), phone,
	                                   &out, &len, &err),
	                 0);
	assert_int_equal(
	    pki_manual_sgn_open(out, len, NULL, lists, 1, key128, 16, &plain, &plain_len, &err),
	    -1);
	assert_non_null(strstr(err.message, "not encrypted with a manual symmetric key"));
	free(out);
	/* Keys of other sizes are refused. */
	assert_int_equal(pki_manual_sgn_build(f->pki, "x", key128, 8, (const unsigned char *)"x", 1,
	                                      &out, &len, &err),
	                 -1);
	assert_null(out);
	X509_free(phone);
	EVP_PKEY_free(phone_key);
	pki_trust_list_free(itl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aes_roundtrip),
	    cmocka_unit_test(test_rc4_roundtrip),
	    cmocka_unit_test(test_aes_is_plain_aes128_cbc),
	    cmocka_unit_test(test_kinds_do_not_mix),
	};

	return cmocka_run_group_tests(tests, trust_setup, trust_teardown);
}
