/* sip: strings, URIs, addresses, Via, message parsing and framing, and building responses. */
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

#define assert_pl(pl, s)                                                                           \
	do {                                                                                       \
		struct sip_pl pl_ = (pl);                                                          \
		if (!sip_pl_eq(pl_, (s)))                                                          \
			fail_msg("%s: \"%.*s\" != \"%s\"", #pl, (int)pl_.l, pl_.p, (s));           \
	} while (0)

static struct sip_pl pl(const char *s)
{
	return (struct sip_pl){s, strlen(s)};
}

/* Parses text (LF line ends turned into CRLF) from a heap copy of exactly its length. */
static int parse_ex(const char *text, bool crlf, bool datagram, struct sip_msg *msg,
                    struct sip_parse_error *err)
{
	size_t n = strlen(text), k = 0;
	char *buf = malloc(2 * n + 1);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++) {
		if (crlf && text[i] == '\n')
			buf[k++] = '\r';
		buf[k++] = text[i];
	}
	return sip_msg_parse(msg, buf, k, datagram, err);
}

static int parse(const char *text, struct sip_msg *msg, struct sip_parse_error *err)
{
	return parse_ex(text, true, true, msg, err);
}

static void expect_refused(const char *text, bool datagram, uint16_t status)
{
	struct sip_msg m;
	struct sip_parse_error err = {0};
	if (parse_ex(text, true, datagram, &m, &err) == 0)
		fail_msg("accepted:\n%s", text);
	if (err.status != status)
		fail_msg("%u %s, expected %u", err.status, err.reason, status);
	sip_msg_free(&m);
}

#define REQ_HEAD                                                                                   \
	"OPTIONS sip:bob@example.com SIP/2.0\n"                                                    \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\n"                                        \
	"To: <sip:bob@example.com>\n"                                                              \
	"From: <sip:alice@example.com>;tag=a1\n"                                                   \
	"Call-ID: c1@example.com\n"                                                                \
	"CSeq: 1 OPTIONS\n"

static void test_pl(void **state)
{
	(void)state;
	assert_true(sip_pl_eq(pl("abc"), "abc"));
	assert_false(sip_pl_eq(pl("abc"), "ABC"));
	assert_true(sip_pl_eq_nocase(pl("Via"), "vIA"));
	assert_false(sip_pl_eq_nocase(pl("Via"), "Vias"));
	assert_true(sip_pl_eq_pl_nocase(pl("Call-ID"), pl("call-id")));
	assert_true(sip_pl_eq(SIP_PL_NULL, ""));
	uint32_t v = 0;
	assert_int_equal(sip_pl_u32(pl("0068"), 255, &v), 0);
	assert_int_equal(v, 68);
	assert_int_equal(sip_pl_u32(pl("256"), 255, &v), -1);
	assert_int_equal(sip_pl_u32(pl("4294967295"), UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(sip_pl_u32(pl("4294967296"), UINT32_MAX, &v), -1);
	assert_int_equal(sip_pl_u32(pl("99999999999999999999999"), UINT32_MAX, &v), -1);
	assert_int_equal(sip_pl_u32(pl(""), 10, &v), -1);
	assert_int_equal(sip_pl_u32(pl("-1"), 10, &v), -1);
	assert_int_equal(sip_pl_u32(pl("1 "), 10, &v), -1);
	char out[4];
	assert_string_equal(sip_pl_strcpy(pl("abcdef"), out, sizeof(out)), "abc");
	assert_string_equal(sip_pl_strcpy(SIP_PL_NULL, out, sizeof(out)), "");
}

static void test_uri(void **state)
{
	(void)state;
	struct sip_uri u;
	assert_int_equal(
	    sip_uri_parse(pl("sips:alice:secret@Example.COM:5061;transport=tls;lr?subject=hi&x=y"),
	                  &u),
	    0);
	assert_pl(u.scheme, "sips");
	assert_pl(u.user, "alice");
	assert_pl(u.password, "secret");
	assert_pl(u.host, "Example.COM");
	assert_int_equal(u.port, 5061);
	assert_pl(u.params, "transport=tls;lr");
	assert_pl(u.headers, "subject=hi&x=y");
	assert_int_equal(sip_uri_parse(pl("sip:[2001:db8::1]:5060;lr"), &u), 0);
	assert_pl(u.host, "[2001:db8::1]");
	assert_int_equal(u.port, 5060);
	assert_int_equal(u.user.l, 0);
	assert_int_equal(sip_uri_parse(pl("SIP:example.com"), &u), 0);
	assert_int_equal(u.port, 0);
	assert_int_equal(sip_uri_parse(pl("tel:+1-201-555-0123;phone-context=example.com"), &u), 0);
	assert_pl(u.user, "+1-201-555-0123");
	assert_pl(u.params, "phone-context=example.com");
	assert_int_equal(sip_uri_parse(pl("urn:service:sos"), &u), 0);
	assert_pl(u.scheme, "urn");
	assert_int_equal(u.host.l, 0);
	/* Broken ones. */
	assert_int_equal(sip_uri_parse(pl("sip:host:65536"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:host:"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:@host"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:user@"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:[::1"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:a b@host"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("sip:host>"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("<sip:host>"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("1sip:host"), &u), -1);
	assert_int_equal(sip_uri_parse(pl("nocolon"), &u), -1);
	assert_int_equal(sip_uri_parse(SIP_PL_NULL, &u), -1);
}

static void test_param_get(void **state)
{
	(void)state;
	struct sip_pl v;
	struct sip_pl params = pl("lr; Transport = TCP ;x=\"a;b=c\";tag=1;empty=");
	assert_true(sip_param_get(params, "lr", &v));
	assert_int_equal(v.l, 0);
	assert_true(sip_param_get(params, "transport", &v));
	assert_pl(v, "TCP");
	assert_true(sip_param_get(params, "x", &v));
	assert_pl(v, "\"a;b=c\"");
	assert_false(sip_param_get(params, "b", &v)); /* inside the quoted value */
	assert_true(sip_param_get(params, "tag", &v));
	assert_pl(v, "1");
	assert_true(sip_param_get(params, "empty", NULL));
	assert_false(sip_param_get(params, "ta", &v));
	assert_false(sip_param_get(SIP_PL_NULL, "lr", &v));
}

static void test_addr(void **state)
{
	(void)state;
	struct sip_addr a;
	assert_int_equal(
	    sip_addr_parse(pl(" \"A \\\"B\\\" C\" <sip:a@b.example;lr> ;tag=x ; expires=60 "), &a),
	    0);
	assert_pl(a.display, "A \\\"B\\\" C");
	assert_pl(a.uri_text, "sip:a@b.example;lr");
	assert_pl(a.uri.host, "b.example");
	assert_pl(a.params, "tag=x ; expires=60");
	assert_int_equal(sip_addr_parse(pl("Bob  Smith <sip:bob@example.com>"), &a), 0);
	assert_pl(a.display, "Bob  Smith");
	assert_int_equal(sip_addr_parse(pl("<sip:bob@example.com>"), &a), 0);
	assert_int_equal(a.display.l, 0);
	assert_int_equal(a.params.l, 0);
	assert_int_equal(sip_addr_parse(pl("sip:bob@example.com;tag=9"), &a), 0);
	assert_pl(a.uri_text, "sip:bob@example.com");
	assert_pl(a.params, "tag=9");
	assert_int_equal(sip_addr_parse(pl("*"), &a), 0);
	assert_true(a.wildcard);
	assert_int_equal(sip_addr_parse(pl("<tel:+15551234>;tag=1"), &a), 0);
	assert_pl(a.uri.user, "+15551234");
	assert_int_equal(sip_addr_parse(pl("\"unterminated <sip:a@b>"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("\"x\" sip:a@b"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("< sip:a@b>"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("<sip:a@b"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("sip:a@b?x=y"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("<sip:a@b>;"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("<sip:a@b>;tag=1;;"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("<sip:a@b>;t g=1"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("<sip:a@b>;x=\"open"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("<sip:a@b> junk"), &a), -1);
	assert_int_equal(sip_addr_parse(pl("Last, First <sip:a@b>"), &a), -1);
	assert_int_equal(sip_addr_parse(pl(""), &a), -1);
}

static void test_via(void **state)
{
	(void)state;
	struct sip_via v;
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport"), &v),
	                 0);
	assert_pl(v.transport, "UDP");
	assert_pl(v.host, "192.0.2.1");
	assert_int_equal(v.port, 5060);
	assert_pl(v.branch, "z9hG4bK1");
	assert_true(v.has_rport);
	assert_int_equal(v.rport.l, 0);
	assert_pl(v.params, "branch=z9hG4bK1;rport");
	assert_int_equal(sip_via_parse(pl("SIP / 2.0 / TLS [2001:db8::9] : 5061 ; received=[::1] ;"
	                                  "rport=1234 ; branch=z9hG4bKx"),
	                               &v),
	                 0);
	assert_pl(v.transport, "TLS");
	assert_pl(v.host, "[2001:db8::9]");
	assert_int_equal(v.port, 5061);
	assert_pl(v.received, "[::1]");
	assert_pl(v.rport, "1234");
	assert_pl(v.branch, "z9hG4bKx");
	assert_int_equal(sip_via_parse(pl("SIP/2.0/WSS df7jal23ls0d.invalid"), &v), 0);
	assert_int_equal(v.params.l, 0);
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDP"), &v), -1);
	assert_int_equal(sip_via_parse(pl("SIP/2.0 host"), &v), -1);
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDPhost"), &v), -1);
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDP host;"), &v), -1);
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDP host;;branch=1"), &v), -1);
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDP host:99999"), &v), -1);
	assert_int_equal(sip_via_parse(pl("SIP/2.0/UDP host x"), &v), -1);
	assert_int_equal(sip_via_parse(pl(""), &v), -1);
}

static void test_parse_request(void **state)
{
	(void)state;
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(parse("REGISTER sip:example.com SIP/2.0\n"
	                       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\n"
	                       "Max-Forwards: 70\n"
	                       "To: Alice <sip:alice@example.com>\n"
	                       "From: Alice <sip:alice@example.com>;tag=a1\n"
	                       "Call-ID: c1@example.com\n"
	                       "CSeq: 7 REGISTER\n"
	                       "Contact: <sip:alice@192.0.2.1:5060>;expires=60\n"
	                       "Expires: 3600\n"
	                       "X-Custom:  keep ; me,  as is \n"
	                       "Content-Length: 0\n"
	                       "\n",
	                       &m, &err),
	                 0);
	assert_true(m.is_request);
	assert_pl(m.method, "REGISTER");
	assert_pl(m.ruri_text, "sip:example.com");
	assert_pl(m.ruri.host, "example.com");
	assert_pl(m.version, "SIP/2.0");
	assert_pl(m.via.host, "192.0.2.1");
	assert_pl(m.to.display, "Alice");
	assert_int_equal(m.to_tag.l, 0);
	assert_pl(m.from_tag, "a1");
	assert_pl(m.call_id, "c1@example.com");
	assert_int_equal(m.cseq.number, 7);
	assert_pl(m.cseq.method, "REGISTER");
	assert_int_equal(m.max_forwards, 70);
	assert_int_equal(m.expires, 3600);
	assert_int_equal(m.body.l, 0);
	assert_int_equal(m.nhdrs, 10);
	const struct sip_hdr *x = sip_msg_hdr_named(&m, "x-custom");
	assert_non_null(x);
	assert_pl(x->name, "X-Custom");
	assert_pl(x->value, "keep ; me,  as is");
	assert_null(sip_msg_hdr_named(&m, "X-Other"));
	assert_null(sip_msg_hdr(&m, SIP_HDR_ROUTE));
	sip_msg_free(&m);
	sip_msg_free(&m); /* harmless twice */
}

/* Option tags: exact, or with a Cisco "-<version>"; never a longer tag that starts alike. */
static void test_supports(void **state)
{
	(void)state;
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(parse("REGISTER sip:example.com SIP/2.0\n"
	                       "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1\n"
	                       "To: <sip:1001@example.com>\n"
	                       "From: <sip:1001@example.com>;tag=a1\n"
	                       "Call-ID: c1@example.com\n"
	                       "CSeq: 101 REGISTER\n"
	                       "Supported: replaces, X-cisco-sis-7.0.0\n"
	                       "k: x-cisco-duplicate-reg, X-cisco-callinfox\n"
	                       "Content-Length: 0\n"
	                       "\n",
	                       &m, &err),
	                 0);
	assert_true(sip_msg_supports(&m, "replaces"));
	assert_true(sip_msg_supports(&m, "X-cisco-sis"));
	assert_true(sip_msg_supports(&m, "X-cisco-duplicate-reg"));
	assert_false(sip_msg_supports(&m, "X-cisco-callinfo"));
	assert_false(sip_msg_supports(&m, "timer"));
	sip_msg_free(&m);
}

static void test_compact_forms(void **state)
{
	(void)state;
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(parse("INVITE sip:bob@example.com SIP/2.0\n"
	                       "v: SIP/2.0/TCP h.example.com;branch=z9hG4bK2\n"
	                       "f: <sip:a@example.com>;tag=1\n"
	                       "t: <sip:b@example.com>\n"
	                       "i: abc\n"
	                       "CSeq: 1 INVITE\n"
	                       "m: <sip:a@h.example.com>\n"
	                       "c: text/plain\n"
	                       "k: timer, 100rel\n"
	                       "o: presence\n"
	                       "r: <sip:c@example.com>\n"
	                       "b: <sip:d@example.com>\n"
	                       "e: gzip\n"
	                       "s: hello, world\n"
	                       "u: talk, hold\n"
	                       "l: 5\n"
	                       "\n"
	                       "hello",
	                       &m, &err),
	                 0);
	static const enum sip_hdr_id ids[] = {SIP_HDR_VIA,
	                                      SIP_HDR_FROM,
	                                      SIP_HDR_TO,
	                                      SIP_HDR_CALL_ID,
	                                      SIP_HDR_CSEQ,
	                                      SIP_HDR_CONTACT,
	                                      SIP_HDR_CONTENT_TYPE,
	                                      SIP_HDR_SUPPORTED,
	                                      SIP_HDR_SUPPORTED,
	                                      SIP_HDR_EVENT,
	                                      SIP_HDR_REFER_TO,
	                                      SIP_HDR_REFERRED_BY,
	                                      SIP_HDR_CONTENT_ENCODING,
	                                      SIP_HDR_OTHER,
	                                      SIP_HDR_OTHER,
	                                      SIP_HDR_OTHER,
	                                      SIP_HDR_CONTENT_LENGTH};
	assert_int_equal(m.nhdrs, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < m.nhdrs; i++)
		assert_int_equal(m.hdrs[i].id, ids[i]);
	assert_pl(m.body, "hello");
	assert_pl(m.content_type, "text/plain");
	/* Subject is not a list; Allow-Events (u) is. */
	assert_pl(sip_msg_hdr_named(&m, "Subject")->value, "hello, world");
	assert_pl(sip_msg_hdr_named(&m, "s")->value, "hello, world");
	const struct sip_hdr *ae = sip_msg_hdr_named(&m, "allow-events");
	assert_pl(ae->value, "talk");
	assert_pl(sip_msg_hdr_next(&m, ae)->value, "hold");
	assert_null(sip_msg_hdr_next(&m, sip_msg_hdr_next(&m, ae)));
	assert_pl(sip_msg_hdr_named(&m, "k")->value, "timer");
	assert_pl(sip_msg_hdr_named(&m, "Event")->value, "presence");
	sip_msg_free(&m);
}

static void test_lists_and_folding(void **state)
{
	(void)state;
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(parse(REQ_HEAD "Contact: \"Doe, John\" <sip:j@h1;a=b,c>;q=0.5 ,\n"
	                                "  <sip:j@h2>\n"
	                                "Contact: sip:j@h3\n"
	                                "Allow: INVITE,ACK , ,BYE\n"
	                                "WWW-Authenticate: Digest realm=\"a\", nonce=\"b\"\n"
	                                "Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
	                                "Route: <sip:p1;lr>,<sip:p2;lr>\n"
	                                "X-Folded: one\n"
	                                "\ttwo\n"
	                                "   three\n"
	                                "Max-Forwards:\n"
	                                " 10\n"
	                                "\n",
	                       &m, &err),
	                 0);
	const char *contacts[] = {"\"Doe, John\" <sip:j@h1;a=b,c>;q=0.5", "<sip:j@h2>", "sip:j@h3"};
	size_t n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(&m, h))
		assert_pl(h->value, contacts[n++]);
	assert_int_equal(n, 3);
	const char *allow[] = {"INVITE", "ACK", "BYE"};
	n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_ALLOW); h;
	     h = sip_msg_hdr_next(&m, h))
		assert_pl(h->value, allow[n++]);
	assert_int_equal(n, 3);
	assert_pl(sip_msg_hdr(&m, SIP_HDR_WWW_AUTHENTICATE)->value,
	          "Digest realm=\"a\", nonce=\"b\"");
	assert_pl(sip_msg_hdr_named(&m, "Date")->value, "Sat, 13 Nov 2010 23:29:00 GMT");
	assert_pl(sip_msg_hdr_next(&m, sip_msg_hdr(&m, SIP_HDR_ROUTE))->value, "<sip:p2;lr>");
	/* Folding is undone in place: CR LF become spaces, the indentation stays. */
	assert_pl(sip_msg_hdr_named(&m, "X-Folded")->value, "one  \ttwo     three");
	assert_int_equal(m.max_forwards, 10);
	sip_msg_free(&m);
}

static void test_response_and_line_ends(void **state)
{
	(void)state;
	struct sip_msg m;
	struct sip_parse_error err;
	/* Bare LF line ends and leading CRLFs are tolerated. */
	assert_int_equal(parse_ex("\r\n\r\nSIP/2.0 486 Busy Here\n"
	                          "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	                          "To: <sip:b@example.com>;tag=t9\n"
	                          "From: <sip:a@example.com>;tag=f1\n"
	                          "Call-ID: x\n"
	                          "CSeq: 2 INVITE\n"
	                          "Content-Length: 0\n"
	                          "\n",
	                          false, true, &m, &err),
	                 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 486);
	assert_pl(m.reason, "Busy Here");
	assert_pl(m.to_tag, "t9");
	assert_int_equal(m.max_forwards, -1);
	assert_int_equal(m.expires, -1);
	sip_msg_free(&m);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("OPTIONS sip:bob@example.com SIP/2.0\n"
	               "To: <sip:bob@example.com>\n"
	               "From: <sip:alice@example.com>;tag=a1\n"
	               "Call-ID: c1\n"
	               "CSeq: 1 OPTIONS\n\n",
	               true, 400);                 /* no Via */
	expect_refused(REQ_HEAD "\n", false, 400); /* stream without Content-Length */
	expect_refused(REQ_HEAD "Content-Length: 10\n\nshort", true, 400);
	expect_refused(REQ_HEAD "Content-Length: 4294967296\n\n", true, 400);
	expect_refused(REQ_HEAD "Content-Length: 2147483648\n\n", true, 400);
	expect_refused(REQ_HEAD "Content-Length: 1x\n\n", true, 400);
	expect_refused(REQ_HEAD "Max-Forwards: 256\n\n", true, 400);
	expect_refused(REQ_HEAD "Call-ID: again\n\n", true, 400);
	expect_refused(REQ_HEAD "Bad Header: x\n\n", true, 400);
	expect_refused(REQ_HEAD ": x\n\n", true, 400);
	expect_refused(REQ_HEAD "Contact: <sip:a@b>;;\n\n", true, 400);
	expect_refused(REQ_HEAD "Via: SIP/2.0/UDP h,,\n\n", true, 400);
	expect_refused(REQ_HEAD "Route: *\n\n", true, 400);
	expect_refused(REQ_HEAD, true, 400); /* no blank line */
	expect_refused(REQ_HEAD "X: unterminated", true, 400);
	expect_refused("OPTIONS sip:bob@example.com SIP/3.0\n\n", true, 505);
	expect_refused("OPTIONS sip:bob@example.com HTTP/1.1\n\n", true, 400);
	expect_refused("OPTIONS sip:bob@example.com\n\n", true, 400);
	expect_refused("OPTIONS  SIP/2.0\n\n", true, 400);
	expect_refused("SIP/2.0 99 Low\n\n", true, 400);
	expect_refused("SIP/2.0 700 High\n\n", true, 400);
	expect_refused("SIP/2.0 2000 OK\n\n", true, 400);
	expect_refused("", true, 400);
	expect_refused("\r\n\r\n", true, 400);
	expect_refused(" OPTIONS sip:a@b SIP/2.0\n\n", true, 400);
	/* CSeq: 2**31-1 is the largest allowed (RFC 3261 §8.1.1.5). */
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(parse("OPTIONS sip:b@example.com SIP/2.0\n"
	                       "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	                       "To: <sip:b@example.com>\nFrom: <sip:a@example.com>;tag=1\n"
	                       "Call-ID: x\nCSeq: 2147483647 OPTIONS\n\n",
	                       &m, &err),
	                 0);
	assert_int_equal(m.cseq.number, 2147483647u);
	sip_msg_free(&m);
	expect_refused("OPTIONS sip:b@example.com SIP/2.0\n"
	               "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	               "To: <sip:b@example.com>\nFrom: <sip:a@example.com>;tag=1\n"
	               "Call-ID: x\nCSeq: 2147483648 OPTIONS\n\n",
	               true, 400);
	expect_refused("OPTIONS sip:b@example.com SIP/2.0\n"
	               "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
	               "To: <sip:b@example.com>\nFrom: <sip:a@example.com>;tag=1\n"
	               "Call-ID: x\nCSeq: 1 options\n\n",
	               true, 400);
}

static void test_limits(void **state)
{
	(void)state;
	/* SIP_MAX_HEADERS values, then one more: 513. */
	char *text = malloc(64 * 1024);
	assert_non_null(text);
	size_t fixed = 5; /* the headers of REQ_HEAD */
	strcpy(text, REQ_HEAD);
	for (size_t i = fixed; i < SIP_MAX_HEADERS; i++)
		strcat(text, "X: y\n");
	strcat(text, "\n");
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(parse(text, &m, &err), 0);
	assert_int_equal(m.nhdrs, SIP_MAX_HEADERS);
	sip_msg_free(&m);
	text[strlen(text) - 1] = '\0';
	strcat(text, "Allow: A, B\n\n");
	expect_refused(text, true, 513);
	/* A header section over SIP_MAX_HEADER_BYTES: 513 as well. */
	strcpy(text, REQ_HEAD "X-Big: ");
	size_t n = strlen(text);
	memset(text + n, 'a', SIP_MAX_HEADER_BYTES);
	strcpy(text + n + SIP_MAX_HEADER_BYTES, "\n\n");
	expect_refused(text, true, 513);
	free(text);
}

static void test_frame(void **state)
{
	(void)state;
	const char *msg = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n"
	                  "l: 5\r\n\r\nhelloOPTIONS sip:next";
	size_t total = strlen(msg), first = (size_t)(strstr(msg, "hello") - msg) + 5, ka = 99;
	assert_int_equal(sip_msg_frame(msg, total, 4096, 4096, &ka), (long)first);
	assert_int_equal(ka, 0);
	/* Every shorter prefix asks for more. */
	for (size_t i = 0; i < first; i++)
		assert_int_equal(sip_msg_frame(msg, i, 4096, 4096, &ka), 0);
	/* Keep-alives ahead of a message, and alone. */
	char buf[256];
	snprintf(buf, sizeof(buf), "\r\n\r\n%s", msg);
	assert_int_equal(sip_msg_frame(buf, strlen(buf), 4096, 4096, &ka), (long)first);
	assert_int_equal(ka, 4);
	assert_int_equal(sip_msg_frame("\r\n\r\n", 4, 4096, 4096, &ka), 0);
	assert_int_equal(ka, 4);
	assert_int_equal(sip_msg_frame("\r\n", 2, 4096, 4096, &ka), 0);
	assert_int_equal(ka, 2);
	/* Content-Length: mandatory, single, numeric, within max_body; folded is fine. */
	const char *nocl = "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
	assert_int_equal(sip_msg_frame(nocl, strlen(nocl), 4096, 4096, &ka), -1);
	const char *two = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 0\r\n\r\n";
	assert_int_equal(sip_msg_frame(two, strlen(two), 4096, 4096, &ka), -1);
	const char *neg = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
	assert_int_equal(sip_msg_frame(neg, strlen(neg), 4096, 4096, &ka), -1);
	const char *big = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n";
	assert_int_equal(sip_msg_frame(big, strlen(big), 4096, 4096, &ka), -1);
	const char *fold = "OPTIONS sip:a@b SIP/2.0\r\ncontent-length :\r\n  3\r\n\r\nabc";
	assert_int_equal(sip_msg_frame(fold, strlen(fold), 4096, 4096, &ka), (long)strlen(fold));
	const char *lf = "OPTIONS sip:a@b SIP/2.0\nContent-Length: 2\n\nhi";
	assert_int_equal(sip_msg_frame(lf, strlen(lf), 4096, 4096, &ka), (long)strlen(lf));
	/* Header section limit: over it without a blank line, or with one too far. */
	char hdr[300];
	memset(hdr, 'a', sizeof(hdr));
	assert_int_equal(sip_msg_frame(hdr, sizeof(hdr), 100, 4096, &ka), -1);
	assert_int_equal(sip_msg_frame(hdr, 50, 100, 4096, &ka), 0);
	assert_int_equal(sip_msg_frame(msg, total, 20, 4096, &ka), -1);
}

static int build_from(const char *text, struct sip_msg *m)
{
	struct sip_parse_error err;
	return parse(text, m, &err);
}

static void test_response_start(void **state)
{
	(void)state;
	struct sip_msg m;
	assert_int_equal(build_from("INVITE sip:b@example.com SIP/2.0\n"
	                            "Via: SIP/2.0/UDP pc.example.com:5070 ;branch=z9hG4bK1;rport;"
	                            "received=10.0.0.1\n"
	                            "Via: SIP/2.0/TCP p2.example.com;branch=z9hG4bK2, SIP/2.0/UDP "
	                            "p3.example.com;branch=z9hG4bK3\n"
	                            "v: SIP/2.0/UDP p4.example.com;branch=z9hG4bK4\n"
	                            "To: Bob <sip:b@example.com>\n"
	                            "f: <sip:a@example.com>;tag=a1\n"
	                            "Call-ID: c1\n"
	                            "CSeq: 3 INVITE\n"
	                            "l: 0\n\n",
	                            &m),
	                 0);
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, &m, 180, NULL, "t1", "192.0.2.7", 40000);
	sip_buf_end_headers(&b, NULL, 0);
	assert_false(b.failed);
	assert_string_equal(b.data, "SIP/2.0 180 Ringing\r\n"
	                            "Via: SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1;"
	                            "rport=40000;received=192.0.2.7\r\n"
	                            "Via: SIP/2.0/TCP p2.example.com;branch=z9hG4bK2\r\n"
	                            "Via: SIP/2.0/UDP p3.example.com;branch=z9hG4bK3\r\n"
	                            "Via: SIP/2.0/UDP p4.example.com;branch=z9hG4bK4\r\n"
	                            "From: <sip:a@example.com>;tag=a1\r\n"
	                            "To: Bob <sip:b@example.com>;tag=t1\r\n"
	                            "Call-ID: c1\r\n"
	                            "CSeq: 3 INVITE\r\n"
	                            "Content-Length: 0\r\n\r\n");
	sip_buf_free(&b);
	sip_msg_free(&m);

	/* Same host as sent-by and no rport: no received; an existing To tag is kept. */
	assert_int_equal(build_from("BYE sip:b@example.com SIP/2.0\n"
	                            "Via: SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK9\n"
	                            "To: <sip:b@example.com>;tag=old\n"
	                            "From: <sip:a@example.com>;tag=a1\n"
	                            "Call-ID: c2\n"
	                            "CSeq: 4 BYE\n\n",
	                            &m),
	                 0);
	sip_buf_init(&b);
	sip_msg_response_start(&b, &m, 200, "Fine", "new", "2001:db8::1", 5060);
	sip_buf_end_headers(&b, "body", 4);
	assert_string_equal(b.data, "SIP/2.0 200 Fine\r\n"
	                            "Via: SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK9\r\n"
	                            "From: <sip:a@example.com>;tag=a1\r\n"
	                            "To: <sip:b@example.com>;tag=old\r\n"
	                            "Call-ID: c2\r\n"
	                            "CSeq: 4 BYE\r\n"
	                            "Content-Length: 4\r\n\r\nbody");
	sip_buf_free(&b);
	sip_msg_free(&m);

	/* RFC 3581: a valueless rport gets received even when the host matches. */
	assert_int_equal(build_from("OPTIONS sip:b@example.com SIP/2.0\n"
	                            "Via: SIP/2.0/UDP 192.0.2.7;rport;branch=z9hG4bK5\n"
	                            "To: <sip:b@example.com>\nFrom: <sip:a@example.com>;tag=1\n"
	                            "Call-ID: c3\nCSeq: 1 OPTIONS\n\n",
	                            &m),
	                 0);
	sip_buf_init(&b);
	sip_msg_response_start(&b, &m, 404, NULL, NULL, "192.0.2.7", 5062);
	assert_non_null(strstr(b.data, "SIP/2.0 404 Not Found\r\n"
	                               "Via: SIP/2.0/UDP 192.0.2.7;rport=5062;branch=z9hG4bK5;"
	                               "received=192.0.2.7\r\n"));
	assert_non_null(strstr(b.data, "To: <sip:b@example.com>\r\n"));
	sip_buf_free(&b);
	sip_msg_free(&m);
}

/* A refused request still gets its error response; nothing it carries can split a header. */
static void test_response_to_refused(void **state)
{
	(void)state;
	const char text[] = "INVITE sip:b@example.com SIP/2.0\r\n"
	                    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	                    "To: <sip:b@example.com>\r\n"
	                    "From: <sip:a@example.com>;tag=1\r\n"
	                    "Call-ID: abc\rInjected: yes\r\n"
	                    "CSeq: 1 INVITE\r\n\r\n";
	char *buf = malloc(sizeof(text) - 1);
	assert_non_null(buf);
	memcpy(buf, text, sizeof(text) - 1);
	struct sip_msg m;
	struct sip_parse_error err;
	assert_int_equal(sip_msg_parse(&m, buf, sizeof(text) - 1, true, &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.reason, "Malformed Call-ID header");
	struct sip_buf b;
	sip_buf_init(&b);
	sip_msg_response_start(&b, &m, err.status, err.reason, "x", NULL, 0);
	sip_buf_end_headers(&b, NULL, 0);
	assert_non_null(strstr(b.data, "SIP/2.0 400 Malformed Call-ID header\r\n"
	                               "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"));
	assert_non_null(strstr(b.data, "Call-ID: abc Injected: yes\r\n"));
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\r')
			assert_int_equal(b.data[i + 1], '\n');
	sip_buf_free(&b);
	sip_msg_free(&m);
}

static void test_buf(void **state)
{
	(void)state;
	struct sip_buf b;
	sip_buf_init(&b);
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sip_buf_printf(&b, "%s-%d", big, 42);
	assert_int_equal(b.len, sizeof(big) + 2);
	assert_memory_equal(b.data + b.len - 3, "-42", 3);
	sip_buf_addpl(&b, SIP_PL("!"));
	assert_int_equal(b.data[b.len], '\0');
	assert_false(b.failed);
	for (int i = 0; i < 400 && !b.failed; i++)
		sip_buf_add(&b, big, sizeof(big));
	assert_true(b.failed); /* over the 1 MiB cap */
	sip_buf_free(&b);
	assert_string_equal(sip_reason_phrase(200), "OK");
	assert_string_equal(sip_reason_phrase(481), "Call/Transaction Does Not Exist");
	assert_string_equal(sip_reason_phrase(513), "Message Too Large");
	assert_string_equal(sip_reason_phrase(299), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pl),
	    cmocka_unit_test(test_uri),
	    cmocka_unit_test(test_param_get),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_via),
	    cmocka_unit_test(test_parse_request),
	    cmocka_unit_test(test_supports),
	    cmocka_unit_test(test_compact_forms),
	    cmocka_unit_test(test_lists_and_folding),
	    cmocka_unit_test(test_response_and_line_ends),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_frame),
	    cmocka_unit_test(test_response_start),
	    cmocka_unit_test(test_response_to_refused),
	    cmocka_unit_test(test_buf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
