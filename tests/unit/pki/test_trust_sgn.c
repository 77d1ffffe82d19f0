/* Unit tests for .sgn and .enc.sgn files: the byte layouts of sgn-and-encrypted-config.md
 * §1.3 and §2.3, verification against a trust list, decryption with the phone key, and the
 * encrypted-config stub. */
#include "trust_fixture.h"

#include <openssl/ec.h>
#include <openssl/md5.h>

#define CCM_NAME   "434e3d43434d2c4f3d4578616d706c652c4f553d43434d"
#define CCM_SERIAL "D8DE32B2F949BF2A7DEADFFCF9456808"
#define SGN_NAME   "5345503030313132323333343435352e636e662e786d6c2e73676e"
#define ENC_NAME   "5345503030313132323333343435352e636e662e786d6c2e656e632e73676e"

static const char cnf_xml[] = "<device><deviceProtocol>SIP</deviceProtocol>"
                              "<sshPassword>secret</sshPassword></device>\n";

/* §1.3: the captured SEP001122334455.cnf.xml.sgn header, rebuilt. */
static void test_sgn_header_matches_worked_example(void **state)
{
	(void)state;
	struct pki_signer signer = {.hash = PKI_HASH_SHA1};
	struct pki_header_spec spec = {
	    .version = {1, 0}, .file_name = "SEP001122334455.cnf.xml.sgn", .timestamp = 0x6b024498};
	struct base_err err = {0};
	unsigned char *out = NULL;
	size_t len = 0;

	signer.cert = trust_make_cert("CCM", CCM_SERIAL, 2048, 30, &signer.key);
	assert_int_equal(pki_signed_file_build(&signer, &spec, (const unsigned char *)cnf_xml,
	                                       strlen(cnf_xml), &out, &len, &err),
	                 0);
	expect_bytes(out, "0100020100"
	                  "0200020194"
	                  "030049"
	                  "040018" CCM_NAME "00"
	                  "060018" CCM_NAME "00"
	                  "050010d8de32b2f949bf2a7deadffcf9456808"
	                  "07000f08000101090008"
	                  "0a0001000b000102"
	                  "0c0100");
	expect_bytes(out + 363, "0e001c" SGN_NAME "00"
	                        "0f00046b024498"
	                        "0d0d0d"
	                        "3c6465766963653e");
	assert_int_equal(len, 404 + strlen(cnf_xml));
	free(out);
	pki_signer_free(&signer);
}

/* §2.3: the captured .enc.sgn header with a 2048-bit phone key (a 15-byte plaintext gives
 * one byte of padding). */
static void test_enc_header_matches_worked_example(void **state)
{
	(void)state;
	struct pki_signer signer = {.hash = PKI_HASH_SHA1};
	struct base_err err = {0};
	EVP_PKEY *phone_key;
	X509 *phone = trust_make_cert("SEP001122334455", "01", 2048, 30, &phone_key);
	unsigned char *out = NULL;
	size_t len = 0;

	signer.cert = trust_make_cert("CCM", CCM_SERIAL, 2048, 30, &signer.key);
	assert_int_equal(pki_enc_file_build(&signer, "SEP001122334455.cnf.xml.enc.sgn", 0x6b024498,
	                                    (const unsigned char *)"<device></devi", 15, phone_key,
	                                    &out, &len, &err),
	                 0);
	expect_bytes(out, "0100020200");
	expect_bytes(out + 363, "0e0020" ENC_NAME "00"
	                        "0f00046b024498"
	                        "100132"
	                        "11001c"
	                        "12000100"
	                        "130010");
	expect_bytes(out + 434, "1400020001"
	                        "150110"
	                        "16000100"
	                        "1700020800"
	                        "18000101"
	                        "190100");
	expect_bytes(out + 714, "1a000101"
	                        "1b0014");
	expect_bytes(out + 741, "0d0d0d");
	assert_int_equal(len, 744 + 16);
	free(out);
	X509_free(phone);
	EVP_PKEY_free(phone_key);
	pki_signer_free(&signer);
}

static void test_sgn_roundtrip_and_tamper(void **state)
{
	struct trust_fixture *f = *state;
	struct pki_trust_list *itl = trust_fixture_itl(f);
	const struct pki_trust_list *lists[] = {itl};
	struct base_err err = {0};
	const unsigned char *payload = NULL;
	size_t payload_len = 0;
	unsigned char *out = NULL;
	size_t len = 0;

	assert_int_equal(pki_sgn_build(f->pki, "SEP001122334455.cnf.xml",
	                               (const unsigned char *)cnf_xml, strlen(cnf_xml), &out, &len,
	                               &err),
	                 0);
	assert_int_equal(pki_sgn_verify(out, len, "SEP001122334455.cnf.xml.sgn", lists, 1, &payload,
	                                &payload_len, &err),
	                 0);
	assert_int_equal(payload_len, strlen(cnf_xml));
	assert_memory_equal(payload, cnf_xml, payload_len);
	/* Served under another name: refused. */
	assert_int_equal(pki_sgn_verify(out, len, "SEP00112233445A.cnf.xml.sgn", lists, 1, &payload,
	                                &payload_len, &err),
	                 -1);
	/* No trust list naming the signer. */
	assert_int_equal(pki_sgn_verify(out, len, NULL, lists, 0, &payload, &payload_len, &err),
	                 -1);
	/* One changed byte of the configuration. */
	out[len - 3] ^= 0x20;
	assert_int_equal(pki_sgn_verify(out, len, NULL, lists, 1, &payload, &payload_len, &err),
	                 -1);
	assert_non_null(strstr(err.message, "does not verify"));
	assert_null(payload);
	free(out);
	/* An encrypted file is not a signed one. */
	X509 *signer_cert = NULL;

	assert_int_equal(
	    pki_cert_load(pki_role_cert_path(f->pki, PKI_ROLE_SIP_TLS), &signer_cert, &err), 0);
	assert_int_equal(pki_enc_sgn_build(f->pki, "x.cnf.xml", (const unsigned char *)"<a/>", 4,
	                                   signer_cert, &out, &len, &err),
	                 0);
	assert_int_equal(pki_sgn_verify(out, len, NULL, lists, 1, &payload, &payload_len, &err),
	                 -1);
	X509_free(signer_cert);
	free(out);
	pki_trust_list_free(itl);
}

static void test_enc_roundtrip(void **state)
{
	struct trust_fixture *f = *state;
	struct pki_trust_list *itl = trust_fixture_itl(f);
	const struct pki_trust_list *lists[] = {itl};
	struct base_err err = {0};
	EVP_PKEY *phone_key, *other_key;
	X509 *phone = trust_make_cert("SEP001122334455", "0A", 2048, 30, &phone_key);
	X509 *other = trust_make_cert("SEP0011223344AA", "0B", 2048, 30, &other_key);
	unsigned char *out = NULL, *plain = NULL;
	size_t len = 0, plain_len = 0;

	/* Every length modulo 16, including a full block of padding. */
	for (size_t n = 0; n <= 32; n++) {
		assert_int_equal(pki_enc_sgn_build(f->pki, "SEP001122334455.cnf.xml",
		                                   (const unsigned char *)cnf_xml, n, phone, &out,
		                                   &len, &err),
		                 0);
		assert_int_equal(pki_enc_sgn_open(out, len, "SEP001122334455.cnf.xml.enc.sgn",
		                                  lists, 1, phone_key, &plain, &plain_len, &err),
		                 0);
		assert_int_equal(plain_len, n);
		assert_memory_equal(plain, cnf_xml, n);
		assert_int_equal(plain[n], '\0');
		free(plain);
		free(out);
	}
	/* The plaintext is not in the file. */
	assert_int_equal(pki_enc_sgn_build(f->pki, "SEP001122334455.cnf.xml",
	                                   (const unsigned char *)cnf_xml, strlen(cnf_xml), phone,
	                                   &out, &len, &err),
	                 0);
	assert_null(memmem(out, len, "secret", 6));
	/* Another phone's key cannot open it. */
	assert_int_equal(
	    pki_enc_sgn_open(out, len, NULL, lists, 1, other_key, &plain, &plain_len, &err), -1);
	assert_null(plain);
	/* A changed ciphertext byte breaks the signature. */
	out[len - 1] ^= 1;
	assert_int_equal(
	    pki_enc_sgn_open(out, len, NULL, lists, 1, phone_key, &plain, &plain_len, &err), -1);
	free(out);
	/* Two builds of one file use different keys and IVs. */
	unsigned char *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	assert_int_equal(
	    pki_enc_sgn_build(f->pki, "a", (const unsigned char *)"x", 1, phone, &a, &la, &err), 0);
	assert_int_equal(
	    pki_enc_sgn_build(f->pki, "a", (const unsigned char *)"x", 1, phone, &b, &lb, &err), 0);
	assert_int_equal(la, lb);
	assert_memory_not_equal(a + la - 16, b + lb - 16, 16);
	free(a);
	free(b);
	X509_free(phone);
	X509_free(other);
	EVP_PKEY_free(phone_key);
	EVP_PKEY_free(other_key);
	pki_trust_list_free(itl);
}

static void test_enc_needs_rsa_certificate(void **state)
{
	struct trust_fixture *f = *state;
	struct base_err err = {0};
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *unused;
	X509 *cert = trust_make_cert("SEP001122334455", "0C", 1024, 30, &unused);
	unsigned char *out = NULL;
	size_t len = 0;

	X509_set_pubkey(cert, ec);
	assert_int_equal(
	    pki_enc_sgn_build(f->pki, "a", (const unsigned char *)"x", 1, cert, &out, &len, &err),
	    -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_null(out);
	X509_free(cert);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(unused);
}

/* §2.4: the stub keeps only what the phone needs in clear, in the reference's layout. */
static void test_enc_stub(void **state)
{
	(void)state;
	static const char full[] =
	    "<?xml version=\"1.0\"?>\n<device>\n  <fullConfig>true</fullConfig>\n"
	    "  <ipAddressMode>0</ipAddressMode>\n  <sipProfile><sipLines><line>"
	    "<authPassword>pw</authPassword></line></sipLines></sipProfile>\n"
	    "  <loadInformation>sip88xx.14-2-1</loadInformation>\n"
	    "  <capfAuthMode>2</capfAuthMode>\n"
	    "  <capfList>\n    <capf><phonePort>3804</phonePort>"
	    "<processNodeName>ucm</processNodeName></capf>\n  </capfList>\n"
	    "  <sshPassword>secret</sshPassword>\n</device>\n";
	struct base_err err = {0};
	EVP_PKEY *key;
	X509 *phone = trust_make_cert("SEP001122334455", "0D", 1024, 30, &key);
	unsigned char *der = NULL, md[MD5_DIGEST_LENGTH];
	int der_len = i2d_X509(phone, &der);
	char hash[33], want[1024], *out = NULL;
	size_t len = 0;

	EVP_Digest(der, (size_t)der_len, md, NULL, EVP_md5(), NULL);
	base_hex(md, sizeof(md), hash);
	snprintf(want, sizeof(want),
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<device>\n"
	         "  <fullConfig>false</fullConfig>\n"
	         "  <ipAddressMode>0</ipAddressMode>\n"
	         "  <loadInformation>sip88xx.14-2-1</loadInformation>\n"
	         "  <capfAuthMode>2</capfAuthMode>\n"
	         "  <capfList>\n"
	         "    <capf>\n"
	         "      <phonePort>3804</phonePort>\n"
	         "      <processNodeName>ucm</processNodeName>\n"
	         "    </capf>\n"
	         "  </capfList>\n"
	         "  <certHash>%s</certHash>\n"
	         "  <encrConfig>true</encrConfig>\n"
	         "</device>\n",
	         hash);
	assert_int_equal(pki_enc_stub_build(full, strlen(full), phone, &out, &len, &err), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	char got_hash[33];

	assert_int_equal(pki_cert_hash(phone, got_hash, &err), 0);
	assert_string_equal(got_hash, hash);
	free(out);
	assert_int_equal(pki_enc_stub_build("<phone/>", 8, phone, &out, &len, &err), -1);
	assert_int_equal(pki_enc_stub_build("<device", 7, phone, &out, &len, &err), -1);
	OPENSSL_free(der);
	X509_free(phone);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sgn_header_matches_worked_example),
	    cmocka_unit_test(test_enc_header_matches_worked_example),
	    cmocka_unit_test(test_sgn_roundtrip_and_tamper),
	    cmocka_unit_test(test_enc_roundtrip),
	    cmocka_unit_test(test_enc_needs_rsa_certificate),
	    cmocka_unit_test(test_enc_stub),
	};

	return cmocka_run_group_tests(tests, trust_setup, trust_teardown);
}
