/* prov: the files of legacy manual-key phones (prov_legacy.c), with a real store and CA. */
#include "../store/store_fixture.h"
#include "pki/pki.h"
#include "prov/prov_int.h"

#define KEY "00112233445566778899AABBCCDDEEFF"

static const unsigned char key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void test_names(void **state)
{
	(void)state;
	char device[16];
	assert_int_equal(prov_legacy_name("SIP00AABBCCDDEE.cnf.enc.sgn", device), 128);
	assert_string_equal(device, "SEP00AABBCCDDEE");
	assert_int_equal(prov_legacy_name("LD00AABBCCDDEE.x", device), 256);
	assert_string_equal(device, "SEP00AABBCCDDEE");
	const char *others[] = {"SIP00aabbccddee.cnf.enc.sgn",
	                        "SIP00AABBCCDDE.cnf.enc.sgn",
	                        "SIP00AABBCCDDEEF.cnf.enc.sgn",
	                        "SEP00AABBCCDDEE.cnf.enc.sgn",
	                        "LD00AABBCCDDEE.xml",
	                        "LD00AABBCCDDEG.x",
	                        "LD.x",
	                        "",
	                        "SIP00AABBCCDDEE.cnf.xml.enc.sgn"};
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
		assert_int_equal(prov_legacy_name(others[i], device), 0);
}

static int fetch(struct prov_files *files, const char *name, struct prov_file **out)
{
	struct base_err err = {0};
	*out = NULL;
	int rc = prov_files_fetch(files, name, PROV_VIA_TFTP, "192.0.2.7", out, NULL, NULL, &err);
	return rc == 0 ? 0 : -(int)err.code;
}

static void test_files(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki *pki = NULL;
	const struct prov_servers srv = {.sip_port = 5060, .sip_tls_port = 5061};
	assert_int_equal(pki_open(&pki, f->dir, &err), 0);
	assert_int_equal(pki_role_ensure(pki, PKI_ROLE_TFTP_SIGNER, &err), 0);
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"7940\"}");
	fixture_ok(
	    f, "end-users", NULL,
	    "{\"user_id\":\"u1\",\"last_name\":\"L\",\"digest_credentials\":\"Secret7940\"}");
	fixture_ok(f, "phone-security-profiles", NULL,
	           "{\"name\":\"Enc\",\"device_type\":\"cisco_sip_phone\","
	           "\"tftp_encrypted_config\":true}");
	fixture_ok(
	    f, "devices", NULL,
	    "{\"name\":\"SEP000000007940\",\"type\":\"cisco_sip_phone\",\"model\":\"7940G\","
	    "\"lines\":[\"7940\"],\"digest_user\":\"u1\",\"phone_security_profile\":\"Enc\"}");
	struct prov_files *files = prov_files_new(f->store, pki, NULL, &srv);
	struct prov_file *file;
	/* No key yet (E27): not found; the plain name is the stub. */
	assert_int_equal(fetch(files, "SIP000000007940.cnf.enc.sgn", &file), -BASE_E_NOT_FOUND);
	assert_int_equal(fetch(files, "SEP000000007940.cnf.xml", &file), 0);
	assert_null(memmem(file->data, file->len, "Secret7940", 10));
	assert_non_null(memmem(file->data, file->len, "<encrConfig>true<", 17));
	prov_file_unref(file);
	fixture_ok(f, "devices", "SEP000000007940", "{\"symmetric_key\":\"" KEY "\"}");
	assert_int_equal(fetch(files, "SIP000000007940.cnf.enc.sgn", &file), 0);
	assert_null(memmem(file->data, file->len, "Secret7940", 10));
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	assert_int_equal(pki_manual_sgn_open(file->data, file->len, "SIP000000007940.cnf.enc.sgn",
	                                     NULL, 0, key, sizeof(key), &plain, &plain_len, &err),
	                 0);
	assert_non_null(memmem(plain, plain_len, "Secret7940", 10));
	assert_non_null(memmem(plain, plain_len, "<fullConfig>true<", 17));
	free(plain);
	prov_file_unref(file);
	/* Not the model's name, not the PKI name; the plain names still carry no secret. */
	assert_int_equal(fetch(files, "LD000000007940.x", &file), -BASE_E_NOT_FOUND);
	assert_int_equal(fetch(files, "SEP000000007940.cnf.xml.enc.sgn", &file), -BASE_E_NOT_FOUND);
	assert_int_equal(fetch(files, "SEP000000007940.cnf.xml.sgn", &file), 0);
	assert_null(memmem(file->data, file->len, "Secret7940", 10));
	prov_file_unref(file);
	/* Encryption off: no encrypted file (E30/E33). */
	fixture_ok(f, "phone-security-profiles", "Enc", "{\"tftp_encrypted_config\":false}");
	assert_int_equal(fetch(files, "SIP000000007940.cnf.enc.sgn", &file), -BASE_E_NOT_FOUND);
	prov_files_free(files);
	pki_close(pki);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_files, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
