/* call: SDES keys go only to legs that may receive them, and into answers only between them. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "call/call_int.h"

#include <stdio.h>
#include <string.h>

static const char offer[] =
    "v=0\r\n"
    "o=a 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/SAVP 0\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

static char *filtered(enum sip_transport_kind kind, enum call_security security, bool null_cipher)
{
	struct call_leg leg = {.flow = {.kind = kind, .tls_null_cipher = null_cipher},
	                       .security = security};
	struct sip_buf out;
	call_sdp_for_leg(&leg, offer, strlen(offer), &out);
	sip_buf_add(&out, "", 1);
	return out.data;
}

static void test_keys_reach_an_encrypted_tls_leg(void **state)
{
	(void)state;
	char *sdp = filtered(SIP_TP_TLS, CALL_ENCRYPTED, false);
	assert_string_equal(sdp, offer);
	free(sdp);
}

static void test_keys_never_reach_other_legs(void **state)
{
	(void)state;
	const struct {
		enum sip_transport_kind kind;
		enum call_security security;
		bool null_cipher; /* TLS that does not encrypt (NULL-SHA) */
	} legs[] = {{SIP_TP_UDP, CALL_NON_SECURE, false},
	            {SIP_TP_TCP, CALL_ENCRYPTED, false},
	            {SIP_TP_TLS, CALL_AUTHENTICATED, false},
	            {SIP_TP_UDP, CALL_ENCRYPTED, false},
	            {SIP_TP_TLS, CALL_ENCRYPTED, true}};
	for (size_t i = 0; i < sizeof(legs) / sizeof(legs[0]); i++) {
		char *sdp = filtered(legs[i].kind, legs[i].security, legs[i].null_cipher);
		assert_null(strstr(sdp, "a=crypto"));
		assert_null(strstr(sdp, "inline:"));
		assert_non_null(strstr(sdp, "m=audio 4000 RTP/AVP 0\r\n"));
		assert_non_null(strstr(sdp, "a=rtpmap:0 PCMU/8000\r\n"));
		struct sip_sdp parsed;
		struct sip_pl pl = {sdp, strlen(sdp)};
		assert_int_equal(sip_sdp_parse(pl, &parsed, NULL), 0);
		assert_false(sip_sdp_is_srtp(&parsed));
		free(sdp);
	}
}

static const char other_offer[] =
    "v=0\r\n"
    "o=b 2 2 IN IP4 127.0.0.2\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.2\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/SAVP 0\r\n"
    "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVy\r\n";

/* The answer `to` gets to its offer from `from`'s SDP: a key only when both may receive keys
 * (each needs the other's), else a non-secure answer whichever of the two may not. */
static char *answered(const struct call_leg *to, const struct call_leg *from)
{
	struct sip_buf out;
	struct base_err err;
	assert_int_equal(
	    call_sdp_answer_between(to, from, SIP_PL(offer), SIP_PL(other_offer), &out, &err), 0);
	sip_buf_add(&out, "", 1);
	return out.data;
}

static void test_answer_keys_only_between_legs_that_may_receive_them(void **state)
{
	(void)state;
	struct call_leg secure = {.flow = {.kind = SIP_TP_TLS}, .security = CALL_ENCRYPTED};
	struct call_leg plain = {.flow = {.kind = SIP_TP_TCP}, .security = CALL_NON_SECURE};
	char *sdp = answered(&secure, &secure);
	assert_non_null(strstr(sdp, "m=audio 6000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:b3Ro"));
	free(sdp);
	const struct call_leg *pairs[][2] = {
	    {&secure, &plain}, {&plain, &secure}, {&plain, &plain}};
	for (size_t i = 0; i < 3; i++) {
		sdp = answered(pairs[i][0], pairs[i][1]);
		assert_non_null(strstr(sdp, "m=audio 6000 RTP/AVP 0\r\n"));
		assert_null(strstr(sdp, "a=crypto"));
		assert_null(strstr(sdp, "inline:"));
		free(sdp);
	}
}

/* The SDP a transferee sent last, offered to its new peer: an answer to the transferor's hold
 * (recvonly, inactive) is resumed; an offer of its own (its own hold) is left alone. */
static char *for_new_peer(const char *direction, bool answer)
{
	char body[256];
	snprintf(body, sizeof(body),
	         "v=0\r\nm=audio 4000 RTP/AVP 0\r\n%s\r\na=rtpmap:0 PCMU/8000\r\n", direction);
	struct call_sdp sdp = {body, strlen(body), answer};
	struct sip_buf out;
	call_sdp_for_new_peer(&sdp, &out);
	sip_buf_add(&out, "", 1);
	return out.data;
}

static void test_new_peer_not_held(void **state)
{
	(void)state;
	const char *resumed =
	    "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\na=rtpmap:0 PCMU/8000\r\n";
	char *sdp = for_new_peer("a=recvonly", true);
	assert_string_equal(sdp, resumed);
	free(sdp);
	sdp = for_new_peer("a=inactive", true);
	assert_string_equal(sdp, resumed);
	free(sdp);
	sdp = for_new_peer("a=sendonly", false); /* its own hold stays */
	assert_non_null(strstr(sdp, "a=sendonly\r\n"));
	free(sdp);
	sdp = for_new_peer("a=recvonly", false);
	assert_non_null(strstr(sdp, "a=recvonly\r\n"));
	free(sdp);
	struct call_sdp none = {NULL, 0, true};
	struct sip_buf out;
	call_sdp_for_new_peer(&none, &out);
	assert_int_equal(out.len, 0);
	sip_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_reach_an_encrypted_tls_leg),
	    cmocka_unit_test(test_keys_never_reach_other_legs),
	    cmocka_unit_test(test_new_peer_not_held),
	    cmocka_unit_test(test_answer_keys_only_between_legs_that_may_receive_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
