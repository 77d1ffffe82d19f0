/*
 * sip: the RFC 4475 torture messages, one file each under rfc4475/ (CRLF line endings, the
 * bytes of the RFC; see the note on mpart01 below). Valid messages must parse and expose the
 * right values; invalid ones must be refused with the status RFC 4475 expects, except where it
 * lets a tolerant parser accept them, which is said at each such case.
 */
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

/* The data directory sits next to this file; __FILE__ is absolute in the CMake build. */
static void rfc4475_dir(char *out, size_t size)
{
	const char *slash = strrchr(__FILE__, '/');
	size_t n = slash ? (size_t)(slash - __FILE__) + 1 : 0;
	snprintf(out, size, "%.*srfc4475/", (int)n, __FILE__);
}
#define RFC4475_DIR_MAX 4096

static char *load(const char *name, size_t *len)
{
	char dir[RFC4475_DIR_MAX], path[RFC4475_DIR_MAX + 64];
	rfc4475_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s%s.dat", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(16384);
	assert_non_null(buf);
	*len = fread(buf, 1, 16384, f);
	assert_true(*len > 0 && *len < 16384);
	fclose(f);
	/* Exactly the message's size, so that ASan sees any read past its end. */
	char *exact = realloc(buf, *len);
	assert_non_null(exact);
	return exact;
}

/* Parses a torture message as a UDP datagram. */
static int parse(const char *name, struct sip_msg *msg, struct sip_parse_error *err)
{
	size_t len;
	char *buf = load(name, &len);
	return sip_msg_parse(msg, buf, len, true, err);
}

static void expect_valid(const char *name, struct sip_msg *msg)
{
	struct sip_parse_error err = {0};
	if (parse(name, msg, &err) != 0)
		fail_msg("%s: refused with %u %s", name, err.status, err.reason);
}

static void expect_invalid(const char *name, uint16_t status)
{
	struct sip_msg msg;
	struct sip_parse_error err = {0};
	int rc = parse(name, &msg, &err);
	if (rc == 0)
		fail_msg("%s: accepted", name);
	if (err.status != status)
		fail_msg("%s: %u %s, expected %u", name, err.status, err.reason, status);
	sip_msg_free(&msg);
}

#define assert_pl(pl, s)                                                                           \
	do {                                                                                       \
		struct sip_pl pl_ = (pl);                                                          \
		if (!sip_pl_eq(pl_, (s)))                                                          \
			fail_msg("%s: \"%.*s\" != \"%s\"", #pl, (int)pl_.l, pl_.p, (s));           \
	} while (0)

static size_t count(const struct sip_msg *msg, enum sip_hdr_id id)
{
	size_t n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h))
		n++;
	return n;
}

/* ---- §3.1.1 valid messages ---- */

static void test_wsinv(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("wsinv", &m);
	assert_true(m.is_request);
	assert_pl(m.method, "INVITE");
	assert_pl(m.ruri.user, "vivekg");
	assert_pl(m.ruri.host, "chair-dnrc.example.com");
	assert_pl(m.ruri.params, "unknownparam");
	assert_pl(m.to_tag, "1918181833n");
	assert_pl(m.from_tag, "98asjd8");
	assert_pl(m.from.display, "J Rosenberg \\\\\\\"");
	assert_pl(m.from.uri.user, "jdrosen");
	assert_int_equal(m.max_forwards, 68);
	assert_pl(m.call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_int_equal(m.cseq.number, 9);
	assert_pl(m.cseq.method, "INVITE");
	assert_int_equal(count(&m, SIP_HDR_VIA), 3);
	assert_pl(m.via.transport, "UDP");
	assert_pl(m.via.host, "192.0.2.2");
	assert_pl(m.via.branch, "390skdjuw");
	const struct sip_hdr *v = sip_msg_hdr_next(&m, sip_msg_hdr(&m, SIP_HDR_VIA));
	struct sip_via via;
	assert_int_equal(sip_via_parse(v->value, &via), 0);
	assert_pl(via.transport, "TCP");
	assert_pl(via.host, "spindle.example.com");
	assert_pl(via.branch, "z9hG4bK9ikj8");
	assert_int_equal(sip_via_parse(sip_msg_hdr_next(&m, v)->value, &via), 0);
	assert_pl(via.host, "192.168.255.111");
	assert_pl(via.branch, "z9hG4bK30239");
	const struct sip_hdr *s = sip_msg_hdr_named(&m, "Subject");
	assert_non_null(s);
	assert_int_equal(s->value.l, 0);
	const struct sip_hdr *nf = sip_msg_hdr_named(&m, "newfangledheader");
	assert_non_null(nf);
	assert_pl(nf->value, "newfangled value   continued newfangled value");
	assert_pl(sip_msg_hdr_named(&m, "UnknownHeaderWithUnusualValue")->value, ";;,,;;,;");
	struct sip_addr c;
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	assert_pl(c.display, "Quoted string \\\"\\\"");
	struct sip_pl q;
	assert_true(sip_param_get(c.params, "q", &q));
	assert_pl(q, "0.33");
	assert_true(sip_param_get(c.params, "newparam", &q));
	assert_pl(q, "newvalue");
	assert_true(sip_param_get(c.params, "secondparam", &q));
	assert_int_equal(q.l, 0);
	assert_int_equal(m.body.l, 150);
	assert_pl(m.content_type, "application/sdp");
	sip_msg_free(&m);
}

static void test_intmeth(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("intmeth", &m);
	assert_pl(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_pl(m.ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_pl(m.ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_pl(m.ruri.host, "example.com");
	assert_pl(m.via.branch, "z9hG4bK-.!%66*_+`'~");
	assert_int_equal(m.to.display.l, strlen("BEL:\\_ NUL:\\_ DEL:\\_"));
	assert_int_equal(m.to.display.p[12], 0); /* the quoted NUL survives */
	assert_pl(m.from.display, "token1~` token2'+_ token3*%!.-");
	assert_pl(m.from_tag, "_token~1'+`*%!-.");
	struct sip_pl v;
	assert_true(sip_param_get(m.from.params, "fromParam''~+*_!.-%", &v));
	assert_pl(v, "\"работающий\"");
	assert_pl(m.call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	assert_int_equal(m.cseq.number, 139122385);
	assert_int_equal(m.max_forwards, 255);
	const struct sip_hdr *h = sip_msg_hdr_named(&m, "extensionHeader-!.%*+_`'~");
	assert_non_null(h);
	assert_pl(h->value, "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
	sip_msg_free(&m);
}

static void test_esc01(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("esc01", &m);
	/* Escapes are kept as written; comparing them is the application's business. */
	assert_pl(m.ruri.user, "sips%3Auser%40example.com");
	assert_pl(m.ruri.host, "example.net");
	assert_pl(m.to.uri.user, "%75se%72");
	assert_pl(m.from.uri.user, "I%20have%20spaces");
	assert_pl(m.call_id, "esc01.239409asdfakjkn23onasd0-3234");
	assert_pl(m.content_type, "application/sdp");
	struct sip_addr c;
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	struct sip_pl v;
	assert_true(sip_param_get(c.uri.params, "n%61me", &v));
	assert_pl(v, "v%61lue%25%34%31");
	assert_true(sip_param_get(c.uri.params, "%6C%72", &v));
	sip_msg_free(&m);
}

static void test_escnull(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("escnull", &m);
	assert_pl(m.method, "REGISTER");
	assert_pl(m.to.uri.user, "null-%00-null");
	assert_int_equal(count(&m, SIP_HDR_CONTACT), 2);
	struct sip_addr c;
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	assert_pl(c.uri.user, "%00");
	assert_int_equal(m.body.l, 0);
	sip_msg_free(&m);
}

static void test_esc02(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("esc02", &m);
	assert_pl(m.method, "RE%47IST%45R");
	assert_pl(m.cseq.method, "RE%47IST%45R");
	assert_pl(m.to.display, "%Z%45");
	assert_pl(m.via.branch, "z9hG4bK209%fzsnel234");
	/* Two Contact values, not three: C%6Fntact is some other header. */
	assert_int_equal(count(&m, SIP_HDR_CONTACT), 2);
	assert_pl(sip_msg_hdr_named(&m, "C%6Fntact")->value, "<sip:alias2@host2.example.com>");
	sip_msg_free(&m);
}

static void test_lwsdisp(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("lwsdisp", &m);
	assert_pl(m.from.display, "caller");
	assert_pl(m.from.uri.user, "caller");
	assert_pl(m.from_tag, "323");
	sip_msg_free(&m);
}

static void test_longreq(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("longreq", &m);
	assert_int_equal(count(&m, SIP_HDR_VIA), 34);
	assert_pl(m.via.host, "sip33.example.com");
	assert_int_equal(m.to.uri.port, 6000);
	assert_true(m.to.display.l > 90);
	assert_int_equal(m.from_tag.l, 155);
	assert_int_equal(m.max_forwards, 70);
	const struct sip_hdr *last = NULL;
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_VIA); h; h = sip_msg_hdr_next(&m, h))
		last = h;
	struct sip_via via;
	assert_int_equal(sip_via_parse(last->value, &via), 0);
	assert_pl(via.received, "192.0.2.5");
	assert_int_equal(via.branch.l, 215);
	assert_memory_equal(via.branch.p + 204, "branchvalue", 11);
	assert_int_equal(m.body.l, 150);
	sip_msg_free(&m);
}

static void test_dblreq(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("dblreq", &m);
	/* The INVITE after the REGISTER's empty body is noise (RFC 3261 §18.3). */
	assert_pl(m.method, "REGISTER");
	assert_int_equal(m.body.l, 0);
	assert_pl(m.call_id, "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
	sip_msg_free(&m);
}

static void test_semiuri(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("semiuri", &m);
	assert_pl(m.ruri.user, "user;par=u%40example.net");
	assert_pl(m.ruri.host, "example.com");
	assert_int_equal(m.ruri.params.l, 0);
	/* Six Accept values over three folded lines. */
	size_t n = 0;
	const struct sip_hdr *last = NULL;
	for (size_t i = 0; i < m.nhdrs; i++)
		if (sip_pl_eq_nocase(m.hdrs[i].name, "Accept")) {
			n++;
			last = &m.hdrs[i];
		}
	assert_int_equal(n, 6);
	assert_pl(last->value, "message/sipfrag");
	sip_msg_free(&m);
}

static void test_transports(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("transports", &m);
	static const char *const want[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
	size_t i = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(&m, h), i++) {
		struct sip_via via;
		assert_int_equal(sip_via_parse(h->value, &via), 0);
		assert_pl(via.transport, want[i]);
	}
	assert_int_equal(i, 5);
	assert_pl(m.call_id, "transports.kijh4akdnaqjkwendsasfdj");
	sip_msg_free(&m);
}

/* The binary part of RFC 4475's mpart01 is a certificate blob; the file carries a stand-in of
 * the same length with the same hazards (NULs, CR, LF, high-bit bytes). */
static void test_mpart01(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("mpart01", &m);
	assert_pl(m.method, "MESSAGE");
	assert_int_equal(m.body.l, 553);
	assert_non_null(memchr(m.body.p, '\0', m.body.l));
	assert_true(m.via.has_rport);
	assert_int_equal(m.via.rport.l, 0);
	assert_int_equal(m.via.port, 5070);
	assert_pl(m.content_type, "multipart/mixed;boundary=7a9cbec02ceef655");
	assert_pl(sip_msg_hdr(&m, SIP_HDR_USER_AGENT)->value, "SIPimp.org/0.2.5 (curses)");
	assert_pl(sip_msg_hdr_named(&m, "date")->value, "Sat, 15 Oct 2005 04:44:56 GMT");
	struct sip_addr r;
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_ROUTE)->value, &r), 0);
	assert_int_equal(r.uri.port, 5080);
	sip_msg_free(&m);
}

static void test_unreason(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("unreason", &m);
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_pl(m.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
	assert_pl(m.to_tag, "2229");
	assert_int_equal(m.body.l, 154);
	sip_msg_free(&m);
}

static void test_noreason(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("noreason", &m);
	assert_int_equal(m.status, 100);
	assert_int_equal(m.reason.l, 0);
	assert_pl(m.to_tag, "902jndnke3");
	sip_msg_free(&m);
}

/* ---- §3.1.2 invalid messages ---- */

static void test_invalid(void **state)
{
	(void)state;
	expect_invalid("badinv01", 400); /* empty Via and Contact parameters */
	expect_invalid("clerr", 400);    /* Content-Length beyond the datagram */
	expect_invalid("ncl", 400);      /* negative Content-Length */
	expect_invalid("scalar02", 400); /* CSeq over 2**31-1 */
	expect_invalid("scalarlg", 400); /* a response: dropped, the status is not sent */
	expect_invalid("quotbal", 400);
	expect_invalid("ltgtruri", 400);
	expect_invalid("lwsruri", 400);
	/* lwsstart and trws: RFC 4475 allows rejecting; we hold the Request-Line to its grammar
	 * (single SP separators), which also keeps lwsruri unambiguous. */
	expect_invalid("lwsstart", 400);
	expect_invalid("trws", 400);
	expect_invalid("escruri", 400);
	expect_invalid("regbadct", 400);
	expect_invalid("badaspec", 400);
	expect_invalid("baddn", 400);
	expect_invalid("badvers", 505);
	expect_invalid("mismatch01", 400);
	expect_invalid("mismatch02", 400); /* RFC 4475 prefers 501, allows 400 */
	expect_invalid("bigcode", 400);
}

/* baddate: the parser does not interpret Date, so it accepts the message, as RFC 4475 allows
 * an element that does not use the header. */
static void test_baddate_tolerated(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("baddate", &m);
	assert_pl(sip_msg_hdr_named(&m, "Date")->value, "Fri, 01 Jan 2010 16:00:00 EST");
	sip_msg_free(&m);
}

/* ---- §3.2, §3.3, §3.4: transaction and application semantics ---- */

static void test_badbranch(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("badbranch", &m); /* must parse; the transaction layer decides */
	assert_pl(m.via.branch, "z9hG4bK");
	sip_msg_free(&m);
}

static void test_semantics_refused(void **state)
{
	(void)state;
	expect_invalid("insuf", 400);   /* no To, From, Call-ID */
	expect_invalid("multi01", 400); /* two CSeq, Call-ID, To, From, Max-Forwards */
	expect_invalid("mcl01", 400);   /* two Content-Length */
}

static void test_unknown_schemes(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("unkscm", &m);
	assert_pl(m.ruri.scheme, "nobodyKnowsThisScheme");
	assert_pl(m.ruri_text, "nobodyKnowsThisScheme:totallyopaquecontent");
	sip_msg_free(&m);
	expect_valid("novelsc", &m);
	assert_pl(m.ruri.scheme, "soap.beep");
	sip_msg_free(&m);
	expect_valid("unksm2", &m);
	assert_pl(m.to.uri.scheme, "isbn");
	assert_pl(m.from.uri.scheme, "http");
	assert_pl(m.from_tag, "3234233");
	struct sip_addr c;
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	assert_pl(c.uri.scheme, "name");
	sip_msg_free(&m);
}

static void test_semantics_parsed(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("bext01", &m);
	assert_int_equal(count(&m, SIP_HDR_REQUIRE), 2);
	assert_pl(sip_msg_hdr(&m, SIP_HDR_PROXY_REQUIRE)->value, "noProxiesSupportThis");
	sip_msg_free(&m);
	expect_valid("invut", &m);
	assert_pl(m.content_type, "application/unknownformat");
	assert_int_equal(m.body.l, 40);
	sip_msg_free(&m);
	expect_valid("regaut01", &m);
	assert_pl(sip_msg_hdr(&m, SIP_HDR_AUTHORIZATION)->value,
	          "NoOneKnowsThisScheme opaque-data=here");
	sip_msg_free(&m);
	expect_valid("bcast", &m);
	assert_int_equal(count(&m, SIP_HDR_VIA), 2);
	sip_msg_free(&m);
	expect_valid("zeromf", &m);
	assert_int_equal(m.max_forwards, 0);
	sip_msg_free(&m);
	expect_valid("cparam01", &m);
	struct sip_addr c;
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	assert_pl(c.params, "unknownparam"); /* a header parameter in addr-spec form */
	assert_int_equal(c.uri.params.l, 0);
	sip_msg_free(&m);
	expect_valid("cparam02", &m);
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	assert_pl(c.uri.params, "unknownparam");
	assert_int_equal(c.params.l, 0);
	sip_msg_free(&m);
	expect_valid("regescrt", &m);
	assert_int_equal(sip_addr_parse(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, &c), 0);
	assert_pl(c.uri.headers, "Route=%3Csip:sip.example.com%3E");
	sip_msg_free(&m);
	expect_valid("sdp01", &m);
	sip_msg_free(&m);
}

/* inv2543: RFC 2543 syntax (no Max-Forwards, no branch, no From tag, no Content-Length on
 * UDP) still parses; the body is the rest of the datagram. */
static void test_inv2543(void **state)
{
	(void)state;
	struct sip_msg m;
	expect_valid("inv2543", &m);
	assert_int_equal(m.max_forwards, -1);
	assert_int_equal(m.via.branch.l, 0);
	assert_int_equal(m.from_tag.l, 0);
	assert_pl(m.to.params, "user=phone");
	assert_int_equal(m.body.l, 105);
	sip_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wsinv),
	    cmocka_unit_test(test_intmeth),
	    cmocka_unit_test(test_esc01),
	    cmocka_unit_test(test_escnull),
	    cmocka_unit_test(test_esc02),
	    cmocka_unit_test(test_lwsdisp),
	    cmocka_unit_test(test_longreq),
	    cmocka_unit_test(test_dblreq),
	    cmocka_unit_test(test_semiuri),
	    cmocka_unit_test(test_transports),
	    cmocka_unit_test(test_mpart01),
	    cmocka_unit_test(test_unreason),
	    cmocka_unit_test(test_noreason),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_baddate_tolerated),
	    cmocka_unit_test(test_badbranch),
	    cmocka_unit_test(test_semantics_refused),
	    cmocka_unit_test(test_unknown_schemes),
	    cmocka_unit_test(test_semantics_parsed),
	    cmocka_unit_test(test_inv2543),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
