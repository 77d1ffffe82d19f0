/* Unit tests for the TVS message codec against the captured exchange of tvs.md §7. */
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

#include "pki/pki.h"

static void test_response_bytes(void **state)
{
	(void)state;
	static const unsigned char known[] = {0x57, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	                                      0x10, 0x07, 0x00, 0x01, 0x00, 0x08, 0x00, 0x02, 0x01,
	                                      0x07, 0x09, 0x00, 0x04, 0x00, 0x00, 0x0e, 0x10};
	static const unsigned char unknown[] = {0x57, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
	                                        0x01, 0x00, 0x04, 0x07, 0x00, 0x01, 0x01};
	struct pki_tvs_msg m = {.command = PKI_TVS_VERIFY_RESPONSE,
	                        .session = 1,
	                        .status = 0,
	                        .roles = {PKI_TL_CCM, PKI_TL_APP_SERVER},
	                        .nroles = 2,
	                        .ttl = 3600};
	struct base_err err = {0};
	unsigned char *out = NULL;
	size_t len = 0;

	assert_int_equal(pki_tvs_encode(&m, &out, &len, &err), 0);
	assert_int_equal(len, sizeof(known));
	assert_memory_equal(out, known, len);
	free(out);
	m.status = 1;
	assert_int_equal(pki_tvs_encode(&m, &out, &len, &err), 0);
	assert_int_equal(len, sizeof(unknown));
	assert_memory_equal(out, unknown, len);
	free(out);
	/* And back. */
	struct pki_tvs_msg d;

	assert_int_equal(pki_tvs_decode(known, sizeof(known), &d, &err), (long)sizeof(known));
	assert_int_equal(d.status, 0);
	assert_int_equal(d.nroles, 2);
	assert_int_equal(d.roles[1], PKI_TL_APP_SERVER);
	assert_int_equal(d.ttl, 3600);
}

static void test_request(void **state)
{
	(void)state;
	static const unsigned char cert[] = {0x30, 0x82, 0x00, 0x00};
	struct pki_tvs_msg m = {.command = PKI_TVS_VERIFY_REQUEST,
	                        .session = 1,
	                        .device_name = "CP-8865-SEP001122334455",
	                        .cert = cert,
	                        .cert_len = sizeof(cert)};
	struct base_err err = {0};
	unsigned char *out = NULL;
	size_t len = 0;

	assert_int_equal(pki_tvs_encode(&m, &out, &len, &err), 0);
	/* §7: 57 01 01 00, session 1, then DEVICE_NAME of 24 bytes = 01 + the name. */
	static const unsigned char head[] = {0x57, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
	                                     0x01, 0x00, 0x22, 0x01, 0x00, 0x18, 0x01};
	assert_memory_equal(out, head, sizeof(head));
	assert_memory_equal(out + sizeof(head), "CP-8865-SEP001122334455", 23);
	struct pki_tvs_msg d;

	/* Every prefix is "need more"; the whole is one message. */
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(pki_tvs_decode(out, i, &d, &err), 0);
	}
	assert_int_equal(pki_tvs_decode(out, len, &d, &err), (long)len);
	assert_string_equal(d.device_name, "CP-8865-SEP001122334455");
	assert_int_equal(d.cert_len, sizeof(cert));
	/* An element running past the message is an error, not a read past it. */
	out[11] = 0x40;
	assert_int_equal(pki_tvs_decode(out, len, &d, &err), -1);
	free(out);
	/* Not TVS. */
	assert_int_equal(pki_tvs_decode((const unsigned char *)"GET / HTTP/1.0", 14, &d, &err), -1);
	m.device_name[0] = '\0';
	assert_int_equal(pki_tvs_encode(&m, &out, &len, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_response_bytes),
	    cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
