/* call: the RFC 3264 answers ucmd makes from one party's offer and the other party's SDP. */
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
#include <stdlib.h>
#include <string.h>

#define KEY80     "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xt"
#define KEY32     "inline:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2"
#define KEY_OFFER "inline:b2ZmZXJlcnNrZXlvZmZlcmVyc2tleW9mZmVyZXJza2V5b2ZmZX"

/* The caller's offer of the integration test: PCMU, G722, telephone events at 101. */
static const char caller[] = "v=0\r\n"
                             "o=caller 53655765 2353687637 IN IP4 192.0.2.1\r\n"
                             "s=-\r\n"
                             "c=IN IP4 192.0.2.1\r\n"
                             "t=0 0\r\n"
                             "m=audio 20000 RTP/AVP 0 9 101\r\n"
                             "a=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:9 G722/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=fmtp:101 0-15\r\n"
                             "a=ptime:20\r\n";

/* A Jabber client's: opus at 114, PCMU without rtpmap, telephone events at 96. */
static const char jabber[] = "v=0\r\n"
                             "o=Jabber4Linux 7781 7781 IN IP4 192.0.2.2\r\n"
                             "s=Jabber4Linux\r\n"
                             "c=IN IP4 192.0.2.2\r\n"
                             "t=0 0\r\n"
                             "m=audio 30000 RTP/AVP 114 0 96\r\n"
                             "a=rtpmap:114 opus/48000/2\r\n"
                             "a=fmtp:114 maxplaybackrate=16000\r\n"
                             "a=rtpmap:96 telephone-event/8000\r\n"
                             "a=fmtp:96 0-16\r\n"
                             "a=sendrecv\r\n";

/* The answer to `offer` made from `other` as a C string (freed by the caller); rc the
 * result. A made answer must parse and have as many m= lines as the offer. */
static char *answer(const char *offer, const char *other, int *rc)
{
	struct sip_buf out;
	struct base_err err;
	base_err_clear(&err);
	*rc = call_sdp_answer((struct sip_pl){offer, strlen(offer)},
	                      (struct sip_pl){other, other ? strlen(other) : 0}, &out, &err);
	if (*rc != 0)
		assert_true(err.message[0] != '\0');
	if (*rc >= 0) {
		struct sip_sdp a, o;
		assert_int_equal(sip_sdp_parse((struct sip_pl){out.data, out.len}, &a, NULL), 0);
		assert_int_equal(sip_sdp_parse((struct sip_pl){offer, strlen(offer)}, &o, NULL), 0);
		assert_int_equal(a.nmedia, o.nmedia);
	}
	sip_buf_add(&out, "", 1);
	assert_false(out.failed);
	return out.data;
}

static char *made(const char *offer, const char *other)
{
	int rc;
	char *sdp = answer(offer, other, &rc);
	assert_int_equal(rc, 0);
	return sdp;
}

static void expect_answer(const char *offer, const char *other, const char *expected)
{
	char *sdp = made(offer, other);
	assert_string_equal(sdp, expected);
	free(sdp);
}

/* The caller gets, in our 200, the answer to its offer made from the Jabber client's: the
 * client's codecs both have (PCMU; opus is not the caller's, G722 not the client's), its
 * numbers and telephone events at its 96, its address, o=, s= and t=. */
static void test_caller_gets_answer_from_jabber_offer(void **state)
{
	(void)state;
	expect_answer(caller, jabber,
	              "v=0\r\n"
	              "o=Jabber4Linux 7781 7781 IN IP4 192.0.2.2\r\n"
	              "s=Jabber4Linux\r\n"
	              "c=IN IP4 192.0.2.2\r\n"
	              "t=0 0\r\n"
	              "m=audio 30000 RTP/AVP 0 96\r\n"
	              "a=rtpmap:96 telephone-event/8000\r\n"
	              "a=fmtp:96 0-16\r\n"
	              "a=sendrecv\r\n");
}

/* The Jabber client gets, in the ACK, the answer to its offer made from the caller's. */
static void test_jabber_gets_answer_from_caller_offer(void **state)
{
	(void)state;
	expect_answer(jabber, caller,
	              "v=0\r\n"
	              "o=caller 53655765 2353687637 IN IP4 192.0.2.1\r\n"
	              "s=-\r\n"
	              "c=IN IP4 192.0.2.1\r\n"
	              "t=0 0\r\n"
	              "m=audio 20000 RTP/AVP 0 101\r\n"
	              "a=rtpmap:0 PCMU/8000\r\n"
	              "a=rtpmap:101 telephone-event/8000\r\n"
	              "a=fmtp:101 0-15\r\n"
	              "a=ptime:20\r\n"
	              "a=sendrecv\r\n");
}

static const char three_streams[] = "v=0\r\n"
                                    "o=a 1 1 IN IP4 192.0.2.1\r\n"
                                    "s=-\r\n"
                                    "c=IN IP4 192.0.2.1\r\n"
                                    "t=0 0\r\n"
                                    "m=audio 4000 RTP/AVP 0\r\n"
                                    "m=video 4002 RTP/AVP 97\r\n"
                                    "a=rtpmap:97 H264/90000\r\n"
                                    "m=audio 4004 RTP/AVP 8\r\n";

/* One answer line per offered one, in order; the other party's lines are taken by media type
 * in their order, and a stream nobody has is rejected with the offer's formats. */
static void test_more_streams_offered_than_the_other_has(void **state)
{
	(void)state;
	const char *other = "v=0\r\no=b 2 2 IN IP4 192.0.2.2\r\ns=b\r\nt=0 0\r\n"
	                    "m=audio 0 RTP/AVP 0\r\n" /* disabled: not taken */
	                    "m=audio 6000 RTP/AVP 8 0\r\nc=IN IP4 192.0.2.9\r\n";
	expect_answer(three_streams, other,
	              "v=0\r\n"
	              "o=b 2 2 IN IP4 192.0.2.2\r\n"
	              "s=b\r\n"
	              "c=IN IP4 192.0.2.9\r\n"
	              "t=0 0\r\n"
	              "m=audio 6000 RTP/AVP 0\r\n"
	              "a=sendrecv\r\n"
	              "m=video 0 RTP/AVP 97\r\n"
	              "m=audio 0 RTP/AVP 8\r\n");
}

/* The other party's video comes first: it still answers the offered video. Its own c= is
 * given where it differs from the session's. */
static void test_streams_paired_by_media_type(void **state)
{
	(void)state;
	const char *other = "v=0\r\no=b 2 2 IN IP4 192.0.2.2\r\ns=b\r\nc=IN IP4 192.0.2.2\r\n"
	                    "t=0 0\r\n"
	                    "m=video 7000 RTP/AVP 126\r\nc=IN IP4 192.0.2.7\r\n"
	                    "a=rtpmap:126 h264/90000\r\na=fmtp:126 profile-level-id=42e01f\r\n"
	                    "m=audio 6000 RTP/AVP 0\r\n"
	                    "m=audio 6002 RTP/AVP 8\r\n";
	expect_answer(three_streams, other,
	              "v=0\r\n"
	              "o=b 2 2 IN IP4 192.0.2.2\r\n"
	              "s=b\r\n"
	              "c=IN IP4 192.0.2.2\r\n"
	              "t=0 0\r\n"
	              "m=audio 6000 RTP/AVP 0\r\n"
	              "a=sendrecv\r\n"
	              "m=video 7000 RTP/AVP 126\r\n"
	              "c=IN IP4 192.0.2.7\r\n"
	              "a=rtpmap:126 h264/90000\r\n"
	              "a=fmtp:126 profile-level-id=42e01f\r\n"
	              "a=sendrecv\r\n"
	              "m=audio 6002 RTP/AVP 8\r\n"
	              "a=sendrecv\r\n");
}

static char *audio_pair(const char *offer_m, const char *other_m)
{
	char offer[512], other[512];
	snprintf(offer, sizeof(offer),
	         "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n%s",
	         offer_m);
	snprintf(other, sizeof(other),
	         "v=0\r\no=b 2 2 IN IP4 192.0.2.2\r\ns=b\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n%s",
	         other_m);
	return made(offer, other);
}

static void expect_media(const char *offer_m, const char *other_m, const char *media)
{
	char *sdp = audio_pair(offer_m, other_m);
	const char *m = strstr(sdp, "m=");
	assert_non_null(m);
	assert_string_equal(m, media);
	free(sdp);
}

/* Dynamic payload types match by encoding, clock rate and channels, and the answer uses the
 * other party's numbers; a static one without a=rtpmap matches its RFC 3551 name. */
static void test_codecs_by_name_with_the_other_partys_numbers(void **state)
{
	(void)state;
	expect_media("m=audio 4000 RTP/AVP 96 97 0\r\na=rtpmap:96 OPUS/48000/2\r\n"
	             "a=rtpmap:97 telephone-event/8000\r\n",
	             "m=audio 6000 RTP/AVP 18 111 8 0 110\r\na=rtpmap:111 opus/48000/2\r\n"
	             "a=fmtp:111 useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n"
	             "a=rtpmap:110 telephone-event/8000\r\n",
	             "m=audio 6000 RTP/AVP 111 0 110\r\n"
	             "a=rtpmap:111 opus/48000/2\r\n"
	             "a=fmtp:111 useinbandfec=1\r\n"
	             "a=rtpmap:0 PCMU/8000\r\n"
	             "a=rtpmap:110 telephone-event/8000\r\n"
	             "a=sendrecv\r\n");
	/* other channels, other clock rate, a dynamic type without rtpmap: nothing in common */
	expect_media("m=audio 4000 RTP/AVP 96 97 98\r\na=rtpmap:96 opus/48000/2\r\n"
	             "a=rtpmap:97 telephone-event/8000\r\n",
	             "m=audio 6000 RTP/AVP 96 97 98\r\na=rtpmap:96 opus/48000\r\n"
	             "a=rtpmap:97 telephone-event/16000\r\n",
	             "m=audio 0 RTP/AVP 96 97 98\r\n");
	/* an unnamed static payload type (19, reserved) matches only its own number */
	expect_media("m=audio 4000 RTP/AVP 19\r\n", "m=audio 6000 RTP/AVP 19\r\n",
	             "m=audio 6000 RTP/AVP 19\r\na=sendrecv\r\n");
}

/* No codec in common rejects the stream (port 0, the offer's formats); telephone events and
 * comfort noise alone are no codec. */
static void test_no_common_codec_rejects_the_stream(void **state)
{
	(void)state;
	expect_media("m=audio 4000 RTP/AVP 8\r\n", "m=audio 6000 RTP/AVP 0\r\n",
	             "m=audio 0 RTP/AVP 8\r\n");
	expect_media("m=audio 4000 RTP/AVP 8 13 101\r\na=rtpmap:101 telephone-event/8000\r\n",
	             "m=audio 6000 RTP/AVP 0 13 96\r\na=rtpmap:96 telephone-event/8000\r\n",
	             "m=audio 0 RTP/AVP 8 13 101\r\n");
	/* a stream the offerer disabled stays disabled, even if the other party has one */
	expect_media("m=audio 0 RTP/AVP 0\r\n", "m=audio 6000 RTP/AVP 0\r\n",
	             "m=audio 0 RTP/AVP 0\r\n");
}

static void expect_dir(const char *offered, const char *others, const char *answered)
{
	char offer_m[128], other_m[128], media[128];
	snprintf(offer_m, sizeof(offer_m), "m=audio 4000 RTP/AVP 0\r\na=%s\r\n", offered);
	snprintf(other_m, sizeof(other_m), "m=audio 6000 RTP/AVP 0\r\na=%s\r\n", others);
	snprintf(media, sizeof(media), "m=audio 6000 RTP/AVP 0\r\na=%s\r\n", answered);
	expect_media(offer_m, other_m, media);
}

/* RFC 3264 §6.1: sendonly is answered recvonly, recvonly sendonly, inactive inactive, and
 * sendrecv with the other party's own direction; a way the other party does not want
 * becomes inactive. */
static void test_direction_answers_the_offer(void **state)
{
	(void)state;
	expect_dir("sendonly", "sendrecv", "recvonly");
	expect_dir("recvonly", "sendrecv", "sendonly");
	expect_dir("inactive", "sendrecv", "inactive");
	expect_dir("sendrecv", "sendrecv", "sendrecv");
	expect_dir("sendrecv", "sendonly", "sendonly");
	expect_dir("sendrecv", "recvonly", "recvonly");
	expect_dir("sendrecv", "inactive", "inactive");
	expect_dir("sendonly", "sendonly", "inactive");
	expect_dir("recvonly", "recvonly", "inactive");
	/* session-level direction counts for the stream */
	char *sdp = made("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	                 "a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n",
	                 caller);
	assert_non_null(strstr(sdp, "a=recvonly\r\n"));
	free(sdp);
}

#define SRTP_OFFER                                                                                 \
	"m=audio 4000 RTP/SAVP 0\r\n"                                                              \
	"a=crypto:1 AES_256_CM_HMAC_SHA1_80 " KEY_OFFER "\r\n"                                     \
	"a=crypto:2 AES_CM_128_HMAC_SHA1_80 " KEY_OFFER "\r\n"                                     \
	"a=crypto:3 AES_CM_128_HMAC_SHA1_32 " KEY_OFFER "\r\n"

/* RFC 4568 §7.1.2: exactly one a=crypto, the other party's key of the best suite both have,
 * under the offer's tag; the stream stays RTP/SAVP. */
static void test_one_crypto_of_the_best_common_suite(void **state)
{
	(void)state;
	expect_media(SRTP_OFFER,
	             "m=audio 6000 RTP/SAVP 0\r\n"
	             "a=crypto:5 AES_CM_128_HMAC_SHA1_32 " KEY32 "\r\n"
	             "a=crypto:6 AES_CM_128_HMAC_SHA1_80 " KEY80 " KDR=1\r\n",
	             "m=audio 6000 RTP/SAVP 0\r\n"
	             "a=crypto:2 AES_CM_128_HMAC_SHA1_80 " KEY80 " KDR=1\r\n"
	             "a=sendrecv\r\n");
}

/* The two answers of a delayed offer name the same suite whatever order each party lists its
 * suites in: each party sends with the suite of its answer and expects the other to. */
static void test_both_answers_name_one_suite(void **state)
{
	(void)state;
	const char *caller_m = "m=audio 4000 RTP/SAVP 0\r\n"
	                       "a=crypto:1 AES_CM_128_HMAC_SHA1_32 " KEY32 "\r\n"
	                       "a=crypto:2 AES_CM_128_HMAC_SHA1_80 " KEY80 "\r\n";
	const char *jabber_m = "m=audio 6000 RTP/SAVP 0\r\n"
	                       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY80 "\r\n"
	                       "a=crypto:2 AES_CM_128_HMAC_SHA1_32 " KEY32 "\r\n";
	expect_media(caller_m, jabber_m,
	             "m=audio 6000 RTP/SAVP 0\r\n"
	             "a=crypto:2 AES_CM_128_HMAC_SHA1_80 " KEY80 "\r\n"
	             "a=sendrecv\r\n");
	expect_media(jabber_m, caller_m,
	             "m=audio 4000 RTP/SAVP 0\r\n"
	             "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY80 "\r\n"
	             "a=sendrecv\r\n");
}

/* Keys on both sides but no suite in common: rejected. No keys on the other side: answered
 * RTP/AVP without keys (non-secure, as before). No keys offered: none answered. */
static void test_crypto_without_common_suite(void **state)
{
	(void)state;
	expect_media(SRTP_OFFER,
	             "m=audio 6000 RTP/SAVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 " KEY80 "\r\n",
	             "m=audio 0 RTP/SAVP 0\r\n");
	expect_media(SRTP_OFFER, "m=audio 6000 RTP/AVP 0\r\n",
	             "m=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n");
	expect_media("m=audio 4000 RTP/AVP 0\r\n",
	             "m=audio 6000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY80 "\r\n",
	             "m=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n");
}

/* A stream that is not RTP keeps its formats by name and the other party's attributes. */
static void test_stream_that_is_not_rtp(void **state)
{
	(void)state;
	expect_media("m=application 5000 UDP/BFCP *\r\na=floorctrl:c-s\r\n",
	             "m=application 7000 UDP/BFCP *\r\na=floorctrl:s-only\r\na=confid:1\r\n"
	             "a=sendrecv\r\n",
	             "m=application 7000 UDP/BFCP *\r\n"
	             "a=floorctrl:s-only\r\n"
	             "a=confid:1\r\n"
	             "a=sendrecv\r\n");
}

/* The other party's SDP is malformed or missing: an answer rejecting every stream, said so;
 * a malformed offer: no answer at all. Never a crash. */
static void test_malformed_sdp(void **state)
{
	(void)state;
	const char *bad[] = {NULL,
	                     "",
	                     "garbage",
	                     "v=0\r\no=b\r\n",
	                     "v=0\r\ns=-\r\nm=audio x\r\n",
	                     "v=0\r\no=b 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;
		char *sdp = answer(three_streams, bad[i], &rc);
		assert_int_equal(rc, 1);
		assert_non_null(strstr(sdp, "m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 97\r\n"
		                            "m=audio 0 RTP/AVP 8\r\n"));
		free(sdp);
		struct sip_buf out;
		struct base_err err;
		const char *offer = bad[i] ? bad[i] : "";
		assert_int_equal(call_sdp_answer((struct sip_pl){offer, strlen(offer)},
		                                 SIP_PL(caller), &out, &err),
		                 -1);
		assert_int_equal(out.len, 0);
		assert_true(err.message[0] != '\0');
		sip_buf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caller_gets_answer_from_jabber_offer),
	    cmocka_unit_test(test_jabber_gets_answer_from_caller_offer),
	    cmocka_unit_test(test_more_streams_offered_than_the_other_has),
	    cmocka_unit_test(test_streams_paired_by_media_type),
	    cmocka_unit_test(test_codecs_by_name_with_the_other_partys_numbers),
	    cmocka_unit_test(test_no_common_codec_rejects_the_stream),
	    cmocka_unit_test(test_direction_answers_the_offer),
	    cmocka_unit_test(test_one_crypto_of_the_best_common_suite),
	    cmocka_unit_test(test_both_answers_name_one_suite),
	    cmocka_unit_test(test_crypto_without_common_suite),
	    cmocka_unit_test(test_stream_that_is_not_rtp),
	    cmocka_unit_test(test_malformed_sdp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
