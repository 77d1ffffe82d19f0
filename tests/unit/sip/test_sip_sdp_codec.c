/* sip: what SDP answers are made of: a=rtpmap, a=fmtp, payload types (RFC 3551), the session
 * name and timing, whole c= values and a media description's own lines. */
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

static bool pl_is(struct sip_pl pl, const char *s)
{
	return pl.l == strlen(s) && memcmp(pl.p, s, pl.l) == 0;
}

/* Parses through an exact-size heap copy (ASan sees any read past the end); the copy lives
 * until the next call. */
static void parse(const char *text, struct sip_sdp *sdp)
{
	static char *copy;
	free(copy);
	size_t len = strlen(text);
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	struct base_err err;
	base_err_clear(&err);
	if (sip_sdp_parse((struct sip_pl){copy, len}, sdp, &err) != 0)
		fail_msg("parse failed: %s", err.message);
}

static const char body[] = "v=0\r\n"
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
	parse(body, &sdp);
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
	parse(body, &sdp);
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
		parse(text, &sdp);
		if (sdp.media[0].nrtpmap || sdp.media[0].nfmtp)
			fail_msg("kept: %s", bad[i]);
	}
	struct sip_sdp sdp;
	parse("v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\na=rtpmap:0 PCMU/8000\r\n"
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
	parse(many, &sdp);
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
	parse("v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
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
	    cmocka_unit_test(test_session_lines_and_conn),
	    cmocka_unit_test(test_rtpmap_and_fmtp),
	    cmocka_unit_test(test_bad_rtpmap_ignored),
	    cmocka_unit_test(test_codecs),
	    cmocka_unit_test(test_walkers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
