/* Unit tests for the CAPF message codec against the captured bytes of specs/capf.md §8. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <string.h>

#include "pki/pki.h"

static unsigned char out[PKI_CAPF_MAX_MSG];

/* Encodes with w and checks the result equals the expected bytes. */
static void assert_encoded(struct pki_capf_writer *w, const unsigned char *want, size_t len)
{
	struct base_err err = {0};
	long n = pki_capf_end(w, &err);
	assert_int_equal(n, (long)len);
	assert_memory_equal(out, want, len);
}

/* (1) AUTH_REQUEST: VERSION 3, AUTH_TYPE 0, session 1. */
static void test_auth_request_bytes(void **state)
{
	(void)state;
	static const unsigned char want[] = {0x55, 0x01, 0,    0,    0,    1,    0x00, 0x08,
	                                     0x07, 0x00, 0x01, 0x03, 0x08, 0x00, 0x01, 0x00};
	struct pki_capf_writer w;
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_AUTH_REQUEST, 1);
	pki_capf_put_u8(&w, PKI_CAPF_T_VERSION, 3);
	pki_capf_put_u8(&w, PKI_CAPF_T_AUTH_TYPE, 0);
	assert_encoded(&w, want, sizeof(want));
}

/* (2) AUTH_RESPONSE of capfc with the null string: decoded and re-encoded byte for byte. */
static const unsigned char auth_response[] = {
    0x55, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x1f, 0x01, 0x00, 0x01, 0x01, 0x07,
    0x00, 0x01, 0x03, 0x0b, 0x00, 0x01, 0x00, 0x0d, 0x00, 0x10, 'S',  'E',  'P',
    '0',  '0',  '1',  '1',  '2',  '2',  '3',  '3',  '4',  '4',  '5',  '5',  0x00};

static void test_auth_response_decode(void **state)
{
	(void)state;
	struct pki_capf_msg msg;
	struct base_err err = {0};
	assert_int_equal(sizeof(auth_response), 39);
	assert_int_equal(pki_capf_decode(auth_response, sizeof(auth_response), &msg, &err), 0);
	assert_int_equal(msg.command, PKI_CAPF_AUTH_RESPONSE);
	assert_int_equal(msg.session_id, 1);
	unsigned v;
	assert_int_equal(pki_capf_get_u8(&msg, PKI_CAPF_T_REASON, &v, &err), 1);
	assert_int_equal(v, 1);
	assert_int_equal(pki_capf_get_u8(&msg, PKI_CAPF_T_VERSION, &v, &err), 1);
	assert_int_equal(v, 3);
	char text[64];
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_PASSWORD, text, sizeof(text), &err), 1);
	assert_string_equal(text, "");
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_DEVICE_NAME, text, sizeof(text), &err),
	                 1);
	assert_string_equal(text, "SEP001122334455");
	assert_int_equal(pki_capf_get_u8(&msg, PKI_CAPF_T_AUTH_TYPE, &v, &err), 0);

	struct pki_capf_writer w;
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_AUTH_RESPONSE, 1);
	pki_capf_put_u8(&w, PKI_CAPF_T_REASON, 1);
	pki_capf_put_u8(&w, PKI_CAPF_T_VERSION, 3);
	pki_capf_put_text(&w, PKI_CAPF_T_PASSWORD, "");
	pki_capf_put_text(&w, PKI_CAPF_T_DEVICE_NAME, "SEP001122334455");
	assert_encoded(&w, auth_response, sizeof(auth_response));
}

/* Jabber's AUTH_RESPONSE (§8.1): VERSION 2, another element order, no PASSWORD. */
static void test_jabber_auth_response(void **state)
{
	(void)state;
	static const unsigned char msg_bytes[] = {
	    0x55, 0x02, 0x12, 0x34, 0x56, 0x78, 0x00, 0x12, 0x07, 0x00, 0x01, 0x02, 0x0d,
	    0x00, 0x07, 'C',  'S',  'F',  '1',  '2',  '3',  0x00, 0x01, 0x00, 0x01, 0x01};
	struct pki_capf_msg msg;
	struct base_err err = {0};
	assert_int_equal(pki_capf_decode(msg_bytes, sizeof(msg_bytes), &msg, &err), 0);
	assert_int_equal(msg.session_id, 0x12345678);
	unsigned v;
	assert_int_equal(pki_capf_get_u8(&msg, PKI_CAPF_T_VERSION, &v, &err), 1);
	assert_int_equal(v, 2);
	char text[16];
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_DEVICE_NAME, text, sizeof(text), &err),
	                 1);
	assert_string_equal(text, "CSF123");
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_PASSWORD, text, sizeof(text), &err), 0);
}

/* (3) KEY_GENERATE_REQUEST, RSA 2048 and the EC variant; CUCM's to Jabber. */
static void test_key_generate_request_bytes(void **state)
{
	(void)state;
	static const unsigned char rsa[] = {0x55, 0x03, 0,    0,    0,    1,    0x00, 0x09, 0x0a,
	                                    0x00, 0x02, 0x08, 0x00, 0x11, 0x00, 0x01, 0x00};
	static const unsigned char ec[] = {0x55, 0x03, 0,    0,    0,    1,    0x00, 0x08,
	                                   0x11, 0x00, 0x01, 0x01, 0x12, 0x00, 0x01, 0x00};
	static const unsigned char jabber[] = {0x55, 0x03, 0,    0,    0,    7,   0x00,
	                                       0x05, 0x0a, 0x00, 0x02, 0x08, 0x00};
	struct pki_capf_writer w;
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_KEY_GENERATE_REQUEST, 1);
	pki_capf_put_u16(&w, PKI_CAPF_T_KEY_SIZE, 2048);
	pki_capf_put_u8(&w, PKI_CAPF_T_KEY_TYPE, PKI_CAPF_KEY_RSA);
	assert_encoded(&w, rsa, sizeof(rsa));
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_KEY_GENERATE_REQUEST, 1);
	pki_capf_put_u8(&w, PKI_CAPF_T_KEY_TYPE, PKI_CAPF_KEY_EC);
	pki_capf_put_u8(&w, PKI_CAPF_T_CURVE, PKI_CAPF_CURVE_P256);
	assert_encoded(&w, ec, sizeof(ec));
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_KEY_GENERATE_REQUEST, 7);
	pki_capf_put_u16(&w, PKI_CAPF_T_KEY_SIZE, 2048);
	assert_encoded(&w, jabber, sizeof(jabber));

	struct pki_capf_msg msg;
	struct base_err err = {0};
	assert_int_equal(pki_capf_decode(rsa, sizeof(rsa), &msg, &err), 0);
	unsigned v;
	assert_int_equal(pki_capf_get_u16(&msg, PKI_CAPF_T_KEY_SIZE, &v, &err), 1);
	assert_int_equal(v, 2048);
	/* A 2-byte element read as 1 byte is malformed, not silently truncated. */
	assert_int_equal(pki_capf_get_u8(&msg, PKI_CAPF_T_KEY_SIZE, &v, &err), -1);
	assert_string_equal(err.field, "KEY_SIZE");
}

/* (4) REQUEST_IN_PROGRESS, (7) STORE_CERTIFICATE_RESPONSE, (8) END_SESSION and the error
 * END_SESSIONs; the fetch and delete requests. */
static void test_short_messages(void **state)
{
	(void)state;
	static const unsigned char in_progress[] = {0x55, 0x11, 0, 0, 0, 1, 0, 0};
	static const unsigned char end_ok[] = {0x55, 0x0f, 0, 0, 0, 1, 0, 4, 1, 0, 1, 1};
	static const unsigned char end_wrong[] = {0x55, 0x0f, 0, 0, 0, 1, 0, 4, 1, 0, 1, 7};
	static const unsigned char end_unknown[] = {0x55, 0x0f, 0, 0, 0, 1, 0, 4, 1, 0, 1, 9};
	static const unsigned char end_none[] = {0x55, 0x0f, 0, 0, 0, 1, 0, 4, 1, 0, 1, 0};
	static const unsigned char store_ok[] = {0x55, 0x0a, 0, 0, 0, 1, 0, 4, 1, 0, 1, 1};
	static const unsigned char fetch[] = {0x55, 0x0b, 0, 0, 0, 1, 0, 0};
	static const unsigned char del[] = {0x55, 0x0d, 0, 0, 0, 1, 0, 0};
	struct {
		unsigned command;
		int reason;
		const unsigned char *want;
	} cases[] = {
	    {PKI_CAPF_REQUEST_IN_PROGRESS, -1, in_progress},
	    {PKI_CAPF_END_SESSION, 1, end_ok},
	    {PKI_CAPF_END_SESSION, 7, end_wrong},
	    {PKI_CAPF_END_SESSION, 9, end_unknown},
	    {PKI_CAPF_END_SESSION, 0, end_none},
	    {PKI_CAPF_STORE_CERTIFICATE_RESPONSE, 1, store_ok},
	    {PKI_CAPF_FETCH_CERTIFICATE_REQUEST, -1, fetch},
	    {PKI_CAPF_DELETE_CERTIFICATE_REQUEST, -1, del},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pki_capf_writer w;
		pki_capf_begin(&w, out, sizeof(out), cases[i].command, 1);
		if (cases[i].reason >= 0)
			pki_capf_put_u8(&w, PKI_CAPF_T_REASON, (unsigned)cases[i].reason);
		assert_encoded(&w, cases[i].want, cases[i].reason >= 0 ? 12 : 8);
	}
}

/* (6) STORE_CERTIFICATE_REQUEST: a 931-byte DER gives the header and wrapping of the capture. */
static void test_store_certificate_request(void **state)
{
	(void)state;
	static unsigned char der[931];
	memset(der, 0xab, sizeof(der));
	der[0] = 0x30;
	static const unsigned char head[] = {0x55, 0x09, 0,    0,    0,    1,    0x03,
	                                     0xaf, 0x03, 0x00, 0x01, 0x01, 0x04, 0x03,
	                                     0xa8, 0x01, 0x03, 0xa5, 0x00, 0x01, 0x30};
	struct pki_capf_writer w;
	struct base_err err = {0};
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_STORE_CERTIFICATE_REQUEST, 1);
	pki_capf_put_u8(&w, PKI_CAPF_T_CERTIFICATE_TYPE, PKI_CAPF_CERT_LSC);
	pki_capf_put_cert(&w, der, sizeof(der));
	assert_int_equal(pki_capf_end(&w, &err), 951);
	assert_memory_equal(out, head, sizeof(head));

	struct pki_capf_msg msg;
	assert_int_equal(pki_capf_decode(out, 951, &msg, &err), 0);
	const unsigned char *got;
	size_t len;
	assert_int_equal(pki_capf_get_cert(&msg, &got, &len, &err), 1);
	assert_int_equal(len, 931);
	assert_memory_equal(got, der, 931);
}

/* The certificate-authentication AUTH_RESPONSE layout: SHA2_SIGNED_DATA and SUDI_DATA. */
static void test_signatures_and_sudi(void **state)
{
	(void)state;
	static unsigned char cert[930], sig1[256], sig3[256];
	memset(cert, 1, sizeof(cert));
	memset(sig1, 2, sizeof(sig1));
	memset(sig3, 3, sizeof(sig3));
	struct pki_capf_writer w;
	struct base_err err = {0};
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_AUTH_RESPONSE, 1);
	pki_capf_put_sha2_sig(&w, PKI_CAPF_HASH_SHA512, sig3, sizeof(sig3));
	struct pki_capf_sudi sudi = {
	    cert, sig1, sig3, sizeof(cert), sizeof(sig1), sizeof(sig3), PKI_CAPF_HASH_SHA512};
	pki_capf_put_sudi(&w, &sudi);
	long n = pki_capf_end(&w, &err);
	assert_int_equal(n, 8 + 3 + 259 + 3 + 1451);
	static const unsigned char sha2_head[] = {0x14, 0x01, 0x03, 0x03, 0x01, 0x00};
	assert_memory_equal(out + 8, sha2_head, sizeof(sha2_head));
	static const unsigned char sudi_head[] = {0x10, 0x05, 0xab, 0x00, 0x03, 0xa2};
	assert_memory_equal(out + 8 + 262, sudi_head, sizeof(sudi_head));

	struct pki_capf_msg msg;
	assert_int_equal(pki_capf_decode(out, (size_t)n, &msg, &err), 0);
	unsigned hash;
	const unsigned char *sig;
	size_t len;
	assert_int_equal(pki_capf_get_sha2_sig(&msg, &hash, &sig, &len, &err), 1);
	assert_int_equal(hash, 3);
	assert_int_equal(len, 256);
	assert_memory_equal(sig, sig3, 256);
	struct pki_capf_sudi got;
	assert_int_equal(pki_capf_get_sudi(&msg, &got, &err), 1);
	assert_int_equal(got.cert_len, 930);
	assert_int_equal(got.sig1_len, 256);
	assert_int_equal(got.sig2_len, 256);
	assert_int_equal(got.sig2_hash, 3);
	assert_memory_equal(got.sig2, sig3, 256);
}

static int decode_fails(const unsigned char *b, size_t len)
{
	struct pki_capf_msg msg;
	struct base_err err = {0};
	int rc = pki_capf_decode(b, len, &msg, &err);
	if (rc != 0)
		assert_true(err.message[0] != '\0');
	return rc != 0;
}

static void test_malformed(void **state)
{
	(void)state;
	unsigned char b[64];
	memcpy(b, auth_response, sizeof(auth_response));
	/* Every truncation of a valid message is refused (the length no longer agrees). */
	for (size_t n = 0; n < sizeof(auth_response); n++)
		assert_true(decode_fails(b, n));
	/* Wrong protocol ID. */
	b[0] = 0x56;
	assert_true(decode_fails(b, sizeof(auth_response)));
	struct base_err err = {0};
	size_t total;
	assert_int_equal(pki_capf_frame(b, 1, &total, &err), -1);
	b[0] = 0x55;
	assert_int_equal(pki_capf_frame(b, 7, &total, &err), 1);
	assert_int_equal(pki_capf_frame(b, 8, &total, &err), 0);
	assert_int_equal(total, 39);
	/* An element whose length runs past the end. */
	b[8 + 2] = 0x02;
	assert_true(decode_fails(b, sizeof(auth_response)));
	b[8 + 2] = 0x01;
	/* A known tag twice: the REASON element turned into a second VERSION. */
	b[8] = 0x07;
	assert_true(decode_fails(b, sizeof(auth_response)));
	/* An unknown tag (0x30) is skipped. */
	b[8] = 0x30;
	struct pki_capf_msg msg;
	assert_int_equal(pki_capf_decode(b, sizeof(auth_response), &msg, &err), 0);
	unsigned v;
	assert_int_equal(pki_capf_get_u8(&msg, PKI_CAPF_T_REASON, &v, &err), 0);
	/* A device name with a NUL inside, and one too long for the caller's buffer. */
	memcpy(b, auth_response, sizeof(auth_response));
	b[25] = 0;
	assert_int_equal(pki_capf_decode(b, sizeof(auth_response), &msg, &err), 0);
	char text[16];
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_DEVICE_NAME, text, 32, &err), -1);
	memcpy(b, auth_response, sizeof(auth_response));
	assert_int_equal(pki_capf_decode(b, sizeof(auth_response), &msg, &err), 0);
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_DEVICE_NAME, text, 15, &err), -1);
	assert_int_equal(pki_capf_get_text(&msg, PKI_CAPF_T_DEVICE_NAME, text, 16, &err), 1);
}

/* A message that would not fit its buffer (or the 16-bit length) is an error, never
 * truncated output. */
static void test_encoder_overflow(void **state)
{
	(void)state;
	unsigned char small[16];
	struct pki_capf_writer w;
	struct base_err err = {0};
	pki_capf_begin(&w, small, sizeof(small), PKI_CAPF_AUTH_RESPONSE, 1);
	pki_capf_put_text(&w, PKI_CAPF_T_DEVICE_NAME, "SEP001122334455");
	assert_int_equal(pki_capf_end(&w, &err), -1);
	static unsigned char big[70000];
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_STORE_CERTIFICATE_REQUEST, 1);
	pki_capf_put_cert(&w, big, 65528);
	assert_int_equal(pki_capf_end(&w, &err), -1);
	pki_capf_begin(&w, out, sizeof(out), PKI_CAPF_STORE_CERTIFICATE_REQUEST, 1);
	pki_capf_put_cert(&w, big, 65527);
	assert_int_equal(pki_capf_end(&w, &err), PKI_CAPF_MAX_MSG);
	assert_string_equal(pki_capf_command_name(PKI_CAPF_END_SESSION), "END_SESSION");
	assert_string_equal(pki_capf_command_name(200), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auth_request_bytes),
	    cmocka_unit_test(test_auth_response_decode),
	    cmocka_unit_test(test_jabber_auth_response),
	    cmocka_unit_test(test_key_generate_request_bytes),
	    cmocka_unit_test(test_short_messages),
	    cmocka_unit_test(test_store_certificate_request),
	    cmocka_unit_test(test_signatures_and_sudi),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_encoder_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
