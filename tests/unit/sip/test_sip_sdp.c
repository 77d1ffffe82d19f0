/* sip: SDP parsing (RFC 4566), SDES crypto lines (RFC 4568), SRTP and hold detection, and what
 * answers are made of (a=rtpmap, a=fmtp, RFC 3551 payload types). */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "sip/sip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2VsZi"

static bool pl_is(struct sip_pl pl, const char *s)
{
	return pl.l == strlen(s) && memcmp(pl.p, s, pl.l) == 0;
}

/* Parses a C string through an exact-size heap copy, so ASan sees any read past the end. */
static int parse_n(const char *text, size_t len, struct sip_sdp *sdp, struct base_err *err)
{
	static char *copy;
	free(copy);
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	base_err_clear(err);
	return sip_sdp_parse((struct sip_pl){copy, len}, sdp, err);
}

static int parse(const char *text, struct sip_sdp *sdp, struct base_err *err)
{
	return parse_n(text, strlen(text), sdp, err);
}

static void expect_error(const char *text, const char *fragment)
{
	struct sip_sdp sdp;
	struct base_err err;
	assert_int_equal(parse(text, &sdp, &err), -1);
	assert_string_equal(err.field, "sdp");
	if (!strstr(err.message, fragment))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, fragment);
}

static const char offer[] = "v=0\r\n"
                            "o=alice 2890844526 2890844527 IN IP4 host.example.com\r\n"
                            "s=-\r\n"
                            "c=IN IP4 192.0.2.10\r\n"
                            "t=0 0\r\n"
                            "m=audio 49170 RTP/AVP 0 8 101\r\n"
                            "a=rtpmap:0 PCMU/8000\r\n"
                            "a=rtpmap:101 telephone-event/8000\r\n"
                            "a=fmtp:101 0-15\r\n"
                            "m=video 51372 RTP/AVP 99\r\n"
                            "c=IN IP6 2001:db8::1\r\n"
                            "a=recvonly\r\n";

static void test_basic_offer(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	struct base_err err;
	assert_int_equal(parse(offer, &sdp, &err), 0);
	assert_true(pl_is(sdp.origin, "alice 2890844526 2890844527 IN IP4 host.example.com"));
	assert_true(pl_is(sdp.conn_addr, "192.0.2.10"));
	assert_int_equal(sdp.nmedia, 2);
	const struct sip_sdp_media *a = &sdp.media[0], *v = &sdp.media[1];
	assert_true(pl_is(a->type, "audio"));
	assert_int_equal(a->port, 49170);
	assert_true(pl_is(a->proto, "RTP/AVP"));
	assert_true(pl_is(a->formats, "0 8 101"));
	assert_true(pl_is(a->conn_addr, "192.0.2.10")); /* inherited */
	assert_int_equal(a->dir, SIP_SDP_SENDRECV);     /* default */
	assert_int_equal(a->ncrypto, 0);
	assert_true(pl_is(v->type, "video"));
	assert_int_equal(v->port, 51372);
	assert_true(pl_is(v->conn_addr, "2001:db8::1")); /* its own */
	assert_int_equal(v->dir, SIP_SDP_RECVONLY);
	assert_false(sip_sdp_is_srtp(&sdp));
	assert_false(sip_sdp_is_hold(&sdp));
}

static void test_line_endings(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	struct base_err err;
	/* Bare LF, no final line ending, mixed endings, trailing blank lines. */
	assert_int_equal(
	    parse("v=0\no=- 1 1 IN IP4 h\ns=x\nc=IN IP4 10.0.0.1\nm=audio 1 RTP/AVP 0", &sdp, &err),
	    0);
	assert_int_equal(sdp.nmedia, 1);
	assert_true(pl_is(sdp.media[0].formats, "0"));
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\ns=x\r\nc=IN IP4 10.0.0.1\r\n"
	                       "m=audio 1 RTP/AVP 0 8\r\n\r\n\n",
	                       &sdp, &err),
	                 0);
	assert_true(pl_is(sdp.media[0].formats, "0 8"));
	/* Empty s= and no t= are tolerated; a multicast suffix is dropped from the address;
	 * a second media-level c= (layered multicast) keeps the first. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=\r\nm=audio 5004 RTP/AVP 0\r\n"
	                       "c=IN IP4 233.252.0.1/127/2\r\nc=IN IP4 233.252.0.3/127\r\n",
	                       &sdp, &err),
	                 0);
	assert_true(pl_is(sdp.media[0].conn_addr, "233.252.0.1"));
	assert_int_equal(sdp.conn_addr.l, 0);
	/* A port count, and a rejected stream without formats or connection address. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 5004/2 RTP/AVP 0\r\n"
	                       "c=IN IP4 192.0.2.1\r\nm=video 0 RTP/AVP\r\n",
	                       &sdp, &err),
	                 0);
	assert_int_equal(sdp.media[0].port, 5004);
	assert_int_equal(sdp.media[1].port, 0);
	/* No media at all is a valid description. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", &sdp, &err), 0);
	assert_int_equal(sdp.nmedia, 0);
	assert_false(sip_sdp_is_hold(&sdp));
	assert_false(sip_sdp_is_srtp(&sdp));
}

static void test_directions(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	struct base_err err;
	/* Session-level direction applies to media without their own. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "a=inactive\r\nm=audio 1 RTP/AVP 0\r\nm=video 2 RTP/AVP 96\r\n"
	                       "a=sendrecv\r\n",
	                       &sdp, &err),
	                 0);
	assert_int_equal(sdp.media[0].dir, SIP_SDP_INACTIVE);
	assert_int_equal(sdp.media[1].dir, SIP_SDP_SENDRECV);
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "m=audio 1 RTP/AVP 0\r\na=sendonly\r\n",
	                       &sdp, &err),
	                 0);
	assert_int_equal(sdp.media[0].dir, SIP_SDP_SENDONLY);
}

static const char srtp_offer[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 phone\r\n"
    "s=SIP Call\r\n"
    "c=IN IP4 192.0.2.20\r\n"
    "t=0 0\r\n"
    "m=audio 16384 RTP/SAVP 0 101\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY "|2^31|1:1\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 " KEY " KDR=1 UNENCRYPTED_SRTCP\r\n"
    "a=sendrecv\r\n"
    "m=video 0 RTP/AVP 96\r\n";

static void test_srtp(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	struct base_err err;
	assert_int_equal(parse(srtp_offer, &sdp, &err), 0);
	const struct sip_sdp_media *m = &sdp.media[0];
	assert_int_equal(m->ncrypto, 2);
	assert_int_equal(m->crypto[0].tag, 1);
	assert_true(pl_is(m->crypto[0].suite, "AES_CM_128_HMAC_SHA1_80"));
	assert_true(pl_is(m->crypto[0].key_params, KEY "|2^31|1:1"));
	assert_int_equal(m->crypto[0].session_params.l, 0);
	assert_int_equal(m->crypto[1].tag, 2);
	assert_true(pl_is(m->crypto[1].session_params, "KDR=1 UNENCRYPTED_SRTCP"));
	/* The disabled video stream does not count. */
	assert_true(sip_sdp_is_srtp(&sdp));

	/* SAVP without a key, a key on plain RTP, and SAVPF. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "m=audio 1 RTP/SAVP 0\r\n",
	                       &sdp, &err),
	                 0);
	assert_false(sip_sdp_is_srtp(&sdp));
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "m=audio 1 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY
	                       "\r\n",
	                       &sdp, &err),
	                 0);
	assert_false(sip_sdp_is_srtp(&sdp));
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "m=video 1 RTP/SAVPF 96\r\na=crypto:7 AES_CM_128_HMAC_SHA1_80 " KEY
	                       "\r\n",
	                       &sdp, &err),
	                 0);
	assert_true(sip_sdp_is_srtp(&sdp));
	/* One encrypted stream and one plain one: not an SRTP offer. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "m=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY
	                       "\r\nm=video 2 RTP/AVP 96\r\n",
	                       &sdp, &err),
	                 0);
	assert_false(sip_sdp_is_srtp(&sdp));
	/* Only disabled streams: nothing offered, so not SRTP. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 0 RTP/SAVP 0\r\n"
	                       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	                       &sdp, &err),
	                 0);
	assert_false(sip_sdp_is_srtp(&sdp));
}

static void test_crypto_limits(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	struct base_err err;
	/* Six offers: the first four are kept, the rest checked and ignored. */
	assert_int_equal(parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                       "m=audio 1 RTP/SAVP 0\r\n"
	                       "a=crypto:1 AEAD_AES_256_GCM " KEY "\r\n"
	                       "a=crypto:2 AEAD_AES_128_GCM " KEY "\r\n"
	                       "a=crypto:3 AES_256_CM_HMAC_SHA1_80 " KEY "\r\n"
	                       "a=crypto:4 AES_256_CM_HMAC_SHA1_32 " KEY "\r\n"
	                       "a=crypto:5 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n"
	                       "a=crypto:999999999\tAES_CM_128_HMAC_SHA1_32\t" KEY "\r\n",
	                       &sdp, &err),
	                 0);
	assert_int_equal(sdp.media[0].ncrypto, SIP_SDP_MAX_CRYPTO);
	assert_int_equal(sdp.media[0].crypto[3].tag, 4);
	assert_true(sip_sdp_is_srtp(&sdp));
	/* ... but an ignored line must still be well formed. */
	expect_error("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	             "m=audio 1 RTP/SAVP 0\r\n"
	             "a=crypto:1 A " KEY "\r\na=crypto:2 A " KEY "\r\na=crypto:3 A " KEY "\r\n"
	             "a=crypto:4 A " KEY "\r\na=crypto:5 A nokey\r\n",
	             "line 10");
}

#define CRYPTO_PREFIX                                                                              \
	"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/SAVP 0\r\n"

static void test_crypto_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
	    CRYPTO_PREFIX "a=crypto:0 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	    CRYPTO_PREFIX "a=crypto:1000000000 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	    CRYPTO_PREFIX "a=crypto:0000000001 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	    CRYPTO_PREFIX "a=crypto:x AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	    CRYPTO_PREFIX "a=crypto:-1 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	    CRYPTO_PREFIX "a=crypto:1 AES-CM " KEY "\r\n",
	    CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n",
	    CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\r\n",
	    CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:http://x/key\r\n",
	    CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:k\x01y\r\n",
	    CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY " KDR=1\x7f\r\n",
	    CRYPTO_PREFIX "a=crypto\r\n",
	    CRYPTO_PREFIX "a=crypto:\r\n",
	    /* the same tag twice in one media description */
	    CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY
	                  "\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 " KEY "\r\n",
	    /* session level */
	    "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_sdp sdp;
		struct base_err err;
		if (parse(bad[i], &sdp, &err) != -1)
			fail_msg("case %zu parsed", i);
		assert_string_equal(err.field, "sdp");
		assert_int_equal(err.code, BASE_E_INVALID);
		/* The key never reaches an error message. */
		assert_null(strstr(err.message, "WVNfX19"));
		assert_null(strstr(err.message, "inline:"));
		assert_null(strstr(err.message, "uri:"));
	}
	/* The same tag in two media descriptions is fine. */
	struct sip_sdp sdp;
	struct base_err err;
	assert_int_equal(parse(CRYPTO_PREFIX "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY
	                                     "\r\nm=video 2 RTP/SAVP 96\r\n"
	                                     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
	                       &sdp, &err),
	                 0);
	assert_true(sip_sdp_is_srtp(&sdp));
}

static void test_hold(void **state)
{
	(void)state;
	static const struct {
		const char *sdp;
		bool hold;
	} cases[] = {
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n"
	     "a=sendonly\r\n",
	     true},
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n"
	     "a=inactive\r\n",
	     true},
	    /* recvonly is the answer to a hold, not a hold */
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n"
	     "a=recvonly\r\n",
	     false},
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n",
	     false},
	    /* RFC 2543 hold, at session level and at media level */
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nm=audio 1 RTP/AVP 0\r\n", true},
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n"
	     "c=IN IP4 0.0.0.0\r\n",
	     true},
	    /* session-level direction */
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\na=sendonly\r\n"
	     "m=audio 1 RTP/AVP 0\r\nm=video 2 RTP/AVP 96\r\n",
	     true},
	    /* ... overridden by one stream */
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\na=sendonly\r\n"
	     "m=audio 1 RTP/AVP 0\r\nm=video 2 RTP/AVP 96\r\na=sendrecv\r\n",
	     false},
	    /* a disabled stream does not stop a hold */
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\n"
	     "a=sendonly\r\nm=video 0 RTP/AVP 96\r\n",
	     true},
	    /* only disabled streams: being torn down, not held */
	    {"v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nm=audio 0 RTP/AVP 0\r\n",
	     false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_sdp sdp;
		struct base_err err;
		if (parse(cases[i].sdp, &sdp, &err) != 0)
			fail_msg("case %zu: %s", i, err.message);
		if (sip_sdp_is_hold(&sdp) != cases[i].hold)
			fail_msg("case %zu: hold should be %d", i, cases[i].hold);
	}
}

#define HEAD "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"

static void test_malformed(void **state)
{
	(void)state;
	expect_error("", "empty");
	expect_error("\r\n", "empty");
	expect_error("\n\n\r\n", "empty");
	expect_error("o=- 1 1 IN IP4 h\r\nv=0\r\n", "start with v=");
	expect_error("v=1\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", "version");
	expect_error("v=00\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", "version");
	expect_error(" v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", "line 1");
	expect_error("v=0\r\ns=-\r\n", "no o=");
	expect_error("v=0\r\no=- 1 1 IN IP4 h\r\n", "no s=");
	expect_error(HEAD "v=0\r\n", "once");
	expect_error(HEAD "o=- 1 1 IN IP4 h\r\n", "more than one o=");
	expect_error(HEAD "s=-\r\n", "more than one s=");
	expect_error("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", "six fields");
	expect_error("v=0\r\no=- 1 1 IN IP4 h x\r\ns=-\r\n", "six fields");
	expect_error("v=0\r\no=- 1a 1 IN IP4 h\r\ns=-\r\n", "numbers");
	expect_error("v=0\r\nc=IN IP4 192.0.2.1\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", "before");
	expect_error(HEAD "x=unknown\r\n", "unknown line type");
	expect_error(HEAD "A=sendonly\r\n", "line 4");
	expect_error(HEAD "a\r\n", "line 4");
	expect_error(HEAD "t 0 0\r\n", "line 4");
	expect_error(HEAD "\r\nt=0 0\r\n", "blank line");
	expect_error(HEAD "i=a\rb\r\n", "control character");
	static const char nul[] = HEAD "i=a\0b\r\n";
	struct sip_sdp sdp;
	struct base_err err;
	assert_int_equal(parse_n(nul, sizeof(nul) - 1, &sdp, &err), -1);
	assert_non_null(strstr(err.message, "control character"));
	/* Session-only lines inside a media description. */
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\nt=0 0\r\n", "media");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\ns=-\r\n", "media");
	/* c= */
	expect_error(HEAD "c=IN IP4\r\n", "three fields");
	expect_error(HEAD "c=IN IP4 1.2.3.4 x\r\n", "three fields");
	expect_error(HEAD "c=ATM NSAP 47.0091\r\n", "network type");
	expect_error(HEAD "c=IN IPX 1.2.3.4\r\n", "address type");
	expect_error(HEAD "c=IN IP4 /127\r\n", "empty");
	expect_error(HEAD "c=IN IP4 1.2.3.4;x\r\n", "invalid characters");
	expect_error(HEAD "c=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.5\r\n", "session-level c=");
	/* m= */
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 65536 RTP/AVP 0\r\n", "port");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 000001 RTP/AVP 0\r\n", "port");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio -1 RTP/AVP 0\r\n", "port");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1/0 RTP/AVP 0\r\n", "port count");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1/ RTP/AVP 0\r\n", "port count");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1\r\n", "protocol");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP//AVP 0\r\n", "protocol");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP/ 0\r\n", "protocol");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP\r\n", "no formats");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0 \"8\"\r\n", "format");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=\"a\" 1 RTP/AVP 0\r\n", "media type");
	expect_error(HEAD "m=audio 1 RTP/AVP 0\r\n", "connection address");
	/* attributes */
	expect_error(HEAD "a=\r\n", "attribute name");
	expect_error(HEAD "a=:x\r\n", "attribute name");
	expect_error(HEAD "a=sendonly:yes\r\n", "no value");
	expect_error(HEAD "a=sendonly\r\na=inactive\r\n", "more than one direction");
	expect_error(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\na=sendonly\r\n"
	                  "a=sendonly\r\n",
	             "more than one direction");
}

static void test_too_many_media(void **state)
{
	(void)state;
	char text[2048] = HEAD "c=IN IP4 192.0.2.1\r\n";
	for (int i = 0; i < SIP_SDP_MAX_MEDIA; i++)
		strcat(text, "m=audio 1 RTP/AVP 0\r\n");
	struct sip_sdp sdp;
	struct base_err err;
	assert_int_equal(parse(text, &sdp, &err), 0);
	assert_int_equal(sdp.nmedia, SIP_SDP_MAX_MEDIA);
	strcat(text, "m=audio 1 RTP/AVP 0\r\n");
	assert_int_equal(parse(text, &sdp, &err), -1);
	assert_int_equal(err.code, BASE_E_TOO_LARGE);
	assert_string_equal(err.field, "sdp");
}

/* ---- what answers are made of: a=rtpmap, a=fmtp, payload types (RFC 3551), the session
 * name and timing, whole c= values and a media description's own lines ---- */

static void parse_ok(const char *text, struct sip_sdp *sdp)
{
	struct base_err err;
	if (parse(text, sdp, &err) != 0)
		fail_msg("parse failed: %s", err.message);
}

static const char answerable[] = "v=0\r\n"
                                 "o=b 2 3 IN IP4 192.0.2.2\r\n"
                                 "s=Jabber session\r\n"
                                 "c=IN IP4 192.0.2.2\r\n"
                                 "t=0 0\r\n"
                                 "t=1 2\r\n"
                                 "m=audio 6000 RTP/AVP 114 0 96\r\n"
                                 "c=IN IP6 2001:db8::7\r\n"
                                 "a=rtpmap:114 opus/48000/2\r\n"
                                 "a=fmtp:114 maxplaybackrate=16000; stereo=0\r\n"
                                 "a=rtpmap:96 telephone-event/8000\r\n"
                                 "a=ptime:20\r\n"
                                 "a=rtcp-mux\r\n"
                                 "m=video 0 RTP/AVP 97\r\n"
                                 "a=rtpmap:97 H264/90000\n";

static void test_session_lines_and_conn(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	parse_ok(answerable, &sdp);
	assert_true(pl_is(sdp.session_name, "Jabber session"));
	assert_true(pl_is(sdp.timing, "0 0")); /* the first */
	assert_true(pl_is(sdp.conn, "IN IP4 192.0.2.2"));
	assert_true(pl_is(sdp.media[0].conn, "IN IP6 2001:db8::7"));
	assert_true(pl_is(sdp.media[1].conn, "IN IP4 192.0.2.2")); /* inherited */
	assert_true(pl_is(sdp.media[0].lines, "c=IN IP6 2001:db8::7\r\n"
	                                      "a=rtpmap:114 opus/48000/2\r\n"
	                                      "a=fmtp:114 maxplaybackrate=16000; stereo=0\r\n"
	                                      "a=rtpmap:96 telephone-event/8000\r\n"
	                                      "a=ptime:20\r\n"
	                                      "a=rtcp-mux\r\n"));
	assert_true(pl_is(sdp.media[1].lines, "a=rtpmap:97 H264/90000\n"));
}

static void test_rtpmap_and_fmtp(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	parse_ok(answerable, &sdp);
	const struct sip_sdp_media *m = &sdp.media[0];
	assert_int_equal(m->nrtpmap, 2);
	const struct sip_sdp_rtpmap *opus = sip_sdp_rtpmap_of(m, 114);
	assert_non_null(opus);
	assert_true(pl_is(opus->encoding, "opus"));
	assert_int_equal(opus->clock, 48000);
	assert_int_equal(opus->channels, 2);
	assert_true(pl_is(opus->value, "opus/48000/2"));
	const struct sip_sdp_rtpmap *te = sip_sdp_rtpmap_of(m, 96);
	assert_non_null(te);
	assert_int_equal(te->channels, 0);
	assert_null(sip_sdp_rtpmap_of(m, 0));
	assert_int_equal(m->nfmtp, 1);
	assert_true(pl_is(sip_sdp_fmtp_of(m, 114)->params, "maxplaybackrate=16000; stereo=0"));
	assert_null(sip_sdp_fmtp_of(m, 96));
	assert_int_equal(sdp.media[1].nrtpmap, 1);
}

/* A malformed or repeated a=rtpmap or a=fmtp is ignored, not fatal; so are those over the
 * limit and those at session level. */
static void test_bad_rtpmap_ignored(void **state)
{
	(void)state;
	const char *bad[] = {
	    "a=rtpmap:128 PCMU/8000",
	    "a=rtpmap:x PCMU/8000",
	    "a=rtpmap:96",
	    "a=rtpmap:96 PCMU",
	    "a=rtpmap:96 PCMU/",
	    "a=rtpmap:96 PCMU/0",
	    "a=rtpmap:96 PC(MU/8000",
	    "a=rtpmap:96 PCMU/8000/0",
	    "a=rtpmap:96 PCMU/8000/x",
	    "a=rtpmap:96 PCMU/8000 x",
	    "a=rtpmap:96 PCMU/99999999999",
	    "a=rtpmap:0096 PCMU/8000",
	    "a=fmtp:96",
	    "a=fmtp:96 ",
	    "a=fmtp:300 a=b",
	    "a=fmtp:x a=b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text),
		         "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
		         "m=audio 4000 RTP/AVP 96\r\n%s\r\n",
		         bad[i]);
		struct sip_sdp sdp;
		parse_ok(text, &sdp);
		if (sdp.media[0].nrtpmap || sdp.media[0].nfmtp)
			fail_msg("kept: %s", bad[i]);
	}
	struct sip_sdp sdp;
	parse_ok("v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\na=rtpmap:0 PCMU/8000\r\n"
	         "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 A/8000\r\na=rtpmap:96 B/8000\r\n"
	         "a=fmtp:96 x=1\r\na=fmtp:96 x=2\r\n",
	         &sdp);
	assert_int_equal(sdp.media[0].nrtpmap, 1);
	assert_true(pl_is(sdp.media[0].rtpmap[0].encoding, "A"));
	assert_int_equal(sdp.media[0].nfmtp, 1);
	assert_true(pl_is(sdp.media[0].fmtp[0].params, "x=1"));

	char many[8192] = "v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	                  "m=audio 4000 RTP/AVP 0\r\n";
	for (int pt = 0; pt < 100; pt++) {
		size_t n = strlen(many);
		snprintf(many + n, sizeof(many) - n, "a=rtpmap:%d X%d/8000\r\na=fmtp:%d p=%d\r\n",
		         pt, pt, pt, pt);
	}
	parse_ok(many, &sdp);
	assert_int_equal(sdp.media[0].nrtpmap, SIP_SDP_MAX_RTPMAP);
	assert_int_equal(sdp.media[0].nfmtp, SIP_SDP_MAX_RTPMAP);
}

static struct sip_sdp_codec codec(const struct sip_sdp_media *m, const char *fmt, bool *ok)
{
	struct sip_sdp_codec c;
	memset(&c, 0, sizeof(c));
	*ok = sip_sdp_codec_of(m, (struct sip_pl){fmt, strlen(fmt)}, &c);
	return c;
}

/* Codecs by rtpmap, by RFC 3551 number for static types without one, never for a dynamic
 * type without one; compared by name (any case), clock rate and channels. */
static void test_codecs(void **state)
{
	(void)state;
	struct sip_sdp sdp;
	parse_ok("v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	         "m=audio 4000 RTP/AVP 0 9 19 97 98 99 100 x\r\n"
	         "a=rtpmap:97 pcmu/8000\r\na=rtpmap:98 opus/48000/2\r\na=rtpmap:99 opus/48000\r\n"
	         "a=rtpmap:100 CN/8000\r\n",
	         &sdp);
	const struct sip_sdp_media *m = &sdp.media[0];
	bool ok;
	struct sip_sdp_codec pcmu = codec(m, "0", &ok);
	assert_true(ok && pl_is(pcmu.encoding, "PCMU") && pcmu.clock == 8000);
	struct sip_sdp_codec g722 = codec(m, "9", &ok);
	assert_true(ok && pl_is(g722.encoding, "G722"));
	struct sip_sdp_codec reserved = codec(m, "19", &ok);
	assert_true(ok && reserved.encoding.l == 0 && reserved.pt == 19);
	struct sip_sdp_codec pcmu97 = codec(m, "97", &ok);
	assert_true(ok);
	struct sip_sdp_codec stereo = codec(m, "98", &ok);
	struct sip_sdp_codec mono = codec(m, "99", &ok);
	struct sip_sdp_codec cn = codec(m, "100", &ok);
	codec(m, "101", &ok);
	assert_false(ok); /* dynamic, no rtpmap */
	codec(m, "x", &ok);
	assert_false(ok);
	codec(m, "128", &ok);
	assert_false(ok);
	assert_true(sip_sdp_codec_eq(&pcmu, &pcmu97));
	assert_false(sip_sdp_codec_eq(&pcmu, &g722));
	assert_false(sip_sdp_codec_eq(&stereo, &mono));
	assert_false(sip_sdp_codec_eq(&reserved, &pcmu));
	assert_true(sip_sdp_codec_eq(&reserved, &reserved));
	assert_true(sip_sdp_codec_is_aside(&cn));
	assert_false(sip_sdp_codec_is_aside(&pcmu));
	assert_true(sip_sdp_is_rtp(m));
}

static void test_walkers(void **state)
{
	(void)state;
	struct sip_pl rest = SIP_PL("  0  8\t101 "), fmt;
	const char *want[] = {"0", "8", "101"};
	for (size_t i = 0; i < 3; i++) {
		assert_true(sip_sdp_format_next(&rest, &fmt));
		assert_true(pl_is(fmt, want[i]));
	}
	assert_false(sip_sdp_format_next(&rest, &fmt));
	struct sip_pl lines = SIP_PL("c=IN IP4 h\r\na=ptime:20\r\nb=AS:64\na=rtcp-mux\r\na=x:\r\n");
	struct sip_pl name, value;
	assert_true(sip_sdp_attr_next(&lines, &name, &value));
	assert_true(pl_is(name, "ptime") && pl_is(value, "20"));
	assert_true(sip_sdp_attr_next(&lines, &name, &value));
	assert_true(pl_is(name, "rtcp-mux") && value.l == 0);
	assert_true(sip_sdp_attr_next(&lines, &name, &value));
	assert_true(pl_is(name, "x") && value.l == 0);
	assert_false(sip_sdp_attr_next(&lines, &name, &value));
	assert_string_equal(sip_sdp_dir_name(SIP_SDP_RECVONLY), "recvonly");
	assert_string_equal(sip_sdp_dir_name(SIP_SDP_INACTIVE), "inactive");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_offer),
	    cmocka_unit_test(test_line_endings),
	    cmocka_unit_test(test_directions),
	    cmocka_unit_test(test_srtp),
	    cmocka_unit_test(test_crypto_limits),
	    cmocka_unit_test(test_crypto_malformed),
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_too_many_media),
	    cmocka_unit_test(test_session_lines_and_conn),
	    cmocka_unit_test(test_rtpmap_and_fmtp),
	    cmocka_unit_test(test_bad_rtpmap_ignored),
	    cmocka_unit_test(test_codecs),
	    cmocka_unit_test(test_walkers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
