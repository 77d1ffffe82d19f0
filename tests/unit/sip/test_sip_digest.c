/* sip: digest credentials, responses (RFC 2617, RFC 7616 vectors) and self-verifying nonces. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "sip/sip.h"

#include <stdlib.h>
#include <string.h>

static bool pl_is(struct sip_pl pl, const char *s)
{
	return pl.p && pl.l == strlen(s) && memcmp(pl.p, s, pl.l) == 0;
}

static struct sip_pl pl_of(const char *s)
{
	return (struct sip_pl){s, strlen(s)};
}

/* Parses through an exact-size heap copy, so ASan sees any read past the end. The copy stays
 * alive until the next call because creds point into it. */
static int parse(const char *text, struct sip_digest_creds *creds)
{
	static char *copy;
	free(copy);
	size_t len = strlen(text);
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	return sip_digest_creds_parse((struct sip_pl){copy, len}, creds);
}

/* RFC 2617 §3.5: HA1 = MD5("Mufasa:testrealm@host.com:Circle Of Life"). */
#define RFC2617_HA1 "939e7578ed9e3c518a452acee763bce9"
static const char rfc2617_value[] = "Digest username=\"Mufasa\",\n"
                                    "realm=\"testrealm@host.com\",\n"
                                    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\n"
                                    "uri=\"/dir/index.html\",\n"
                                    "qop=auth,\n"
                                    "nc=00000001,\n"
                                    "cnonce=\"0a4f113b\",\n"
                                    "response=\"6629fae49393a05397450978507c4ef1\",\n"
                                    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

/* The RFC prints the value folded over lines; the message parser hands it over unfolded. */
static const char *unfolded(const char *s)
{
	static char buf[1024];
	base_strlcpy(buf, s, sizeof(buf));
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

static void test_parse_rfc2617(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	assert_int_equal(parse(unfolded(rfc2617_value), &c), 0);
	assert_true(pl_is(c.username, "Mufasa"));
	assert_true(pl_is(c.realm, "testrealm@host.com"));
	assert_true(pl_is(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093"));
	assert_true(pl_is(c.uri, "/dir/index.html"));
	assert_true(pl_is(c.qop, "auth"));
	assert_true(pl_is(c.nc, "00000001"));
	assert_true(pl_is(c.cnonce, "0a4f113b"));
	assert_true(pl_is(c.response, "6629fae49393a05397450978507c4ef1"));
	assert_true(pl_is(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41"));
	assert_null(c.algorithm.p);
	/* Folding left in place is not LWS this parser accepts. */
	assert_int_equal(parse(rfc2617_value, &c), -1);
}

static void test_parse_tolerant(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	/* Case-insensitive scheme and names, LWS around '=' and ',', tabs, quoted qop and
	 * algorithm, unknown parameters skipped. */
	assert_int_equal(parse("  dIGEST\tUserName = \"bob\" ,REALM=\"x\",  Nonce=abc,uri=\"sip:x\""
	                       "\t,\tresponse = \"00\", Algorithm=\"SHA-256\", qop=\"auth\", "
	                       "NC=0000000a, cnonce=\"c\", userhash=false, ext=\"a,b\"  ",
	                       &c),
	                 0);
	assert_true(pl_is(c.username, "bob"));
	assert_true(pl_is(c.realm, "x"));
	assert_true(pl_is(c.nonce, "abc"));
	assert_true(pl_is(c.uri, "sip:x"));
	assert_true(pl_is(c.response, "00"));
	assert_true(pl_is(c.algorithm, "SHA-256"));
	assert_true(pl_is(c.qop, "auth"));
	assert_true(pl_is(c.nc, "0000000a"));
	/* An empty quoted value is present, not absent. */
	assert_int_equal(
	    parse("Digest username=\"\", realm=\"\", nonce=\"\", uri=\"\", response=\"\"", &c), 0);
	assert_non_null(c.username.p);
	assert_int_equal(c.username.l, 0);
	assert_null(c.opaque.p);
}

static void test_parse_escapes(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	assert_int_equal(
	    parse("Digest username=\"Mu\\\"fa,sa\", realm=\"r\\\\\", nonce=\"n\\\\x\", "
	          "uri=\"sip:a\\\"b@example.com\", response=\"x\", opaque=\"\\a\"",
	          &c),
	    0);
	/* Escapes are left as written... */
	assert_true(pl_is(c.username, "Mu\\\"fa,sa"));
	assert_true(pl_is(c.realm, "r\\\\"));
	assert_true(pl_is(c.opaque, "\\a"));
	/* ... and undone while hashing: nonce n\x, uri sip:a"b@example.com. Expected value
	 * computed independently with `openssl md5`. */
	char out[65];
	assert_int_equal(
	    sip_digest_response(SIP_DIGEST_MD5, RFC2617_HA1, SIP_PL("REGISTER"), &c, out), 0);
	assert_string_equal(out, "1cc725d5edb27c055aa0b0504cd88f20");
	/* An escaped ordinary character hashes as the character itself. */
	assert_int_equal(parse("Digest username=u, realm=r, nonce=\"\\a\\bc\", uri=\"sip:x\", "
	                       "response=x",
	                       &c),
	                 0);
	assert_int_equal(
	    sip_digest_response(SIP_DIGEST_MD5, RFC2617_HA1, SIP_PL("REGISTER"), &c, out), 0);
	char out2[65];
	assert_int_equal(
	    parse("Digest username=u, realm=r, nonce=abc, uri=\"sip:x\", response=x", &c), 0);
	assert_int_equal(
	    sip_digest_response(SIP_DIGEST_MD5, RFC2617_HA1, SIP_PL("REGISTER"), &c, out2), 0);
	assert_string_equal(out, out2);
}

static void test_parse_malformed(void **state)
{
	(void)state;
#define REQ "username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"x\""
	static const char *bad[] = {
	    "",
	    "Digest",
	    "Digest ",
	    "Basic dXNlcjpwYXNz",
	    "Basic " REQ,
	    "Digestusername=\"u\"",
	    "Digest, " REQ,
	    "Digest " REQ ",",
	    "Digest " REQ ",,opaque=\"o\"",
	    "Digest " REQ ", opaque",
	    "Digest " REQ ", opaque=",
	    "Digest " REQ ", opaque=\"o",
	    "Digest " REQ ", opaque=\"o\\",
	    "Digest " REQ ", opaque=\"o\"x",
	    "Digest " REQ " opaque=\"o\"",
	    "Digest " REQ ", opaque=o\"x\"",
	    "Digest " REQ ", opaque=\"a\rb\"",
	    "Digest " REQ ", opaque=\"a\\\nb\"",
	    "Digest " REQ ", opaque=\"a\x7f\"",
	    "Digest " REQ ", =x",
	    "Digest " REQ ", a b=x",
	    "Digest " REQ "\r\n",
	    /* duplicates, whatever the case */
	    "Digest " REQ ", Username=\"v\"",
	    "Digest " REQ ", NONCE=m",
	    /* required parameters */
	    "Digest realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"x\"",
	    "Digest username=\"u\", nonce=\"n\", uri=\"sip:r\", response=\"x\"",
	    "Digest username=\"u\", realm=\"r\", uri=\"sip:r\", response=\"x\"",
	    "Digest username=\"u\", realm=\"r\", nonce=\"n\", response=\"x\"",
	    "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:r\"",
	    /* qop needs cnonce and an 8-hex-digit nc */
	    "Digest " REQ ", qop=auth, nc=00000001",
	    "Digest " REQ ", qop=auth, cnonce=\"c\"",
	    "Digest " REQ ", qop=auth, cnonce=\"\", nc=00000001",
	    "Digest " REQ ", qop=auth, cnonce=\"c\", nc=0000001",
	    "Digest " REQ ", qop=auth, cnonce=\"c\", nc=000000001",
	    "Digest " REQ ", qop=auth, cnonce=\"c\", nc=0000000g",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_digest_creds c;
		if (parse(bad[i], &c) != -1)
			fail_msg("case %zu parsed: %s", i, bad[i]);
	}
	struct sip_digest_creds c;
	assert_int_equal(sip_digest_creds_parse(SIP_PL_NULL, &c), -1);
	assert_int_equal(parse("Digest " REQ, &c), 0);
#undef REQ
}

static void test_alg_parse(void **state)
{
	(void)state;
	enum sip_digest_alg alg = SIP_DIGEST_SHA256;
	assert_int_equal(sip_digest_alg_parse(SIP_PL_NULL, &alg), 0);
	assert_int_equal(alg, SIP_DIGEST_MD5);
	alg = SIP_DIGEST_SHA256;
	assert_int_equal(sip_digest_alg_parse(SIP_PL("MD5"), &alg), 0);
	assert_int_equal(alg, SIP_DIGEST_MD5);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("md5"), &alg), 0);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("SHA-256"), &alg), 0);
	assert_int_equal(alg, SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("sha-256"), &alg), 0);
	assert_int_equal(alg, SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("MD5-sess"), &alg), -1);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("SHA-256-sess"), &alg), -1);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("SHA-512-256"), &alg), -1);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("SHA256"), &alg), -1);
	assert_int_equal(sip_digest_alg_parse(SIP_PL("MD5 "), &alg), -1);
	assert_int_equal(sip_digest_alg_parse(SIP_PL(""), &alg), -1); /* algorithm="" */
}

static void test_response_rfc2617(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	assert_int_equal(parse(unfolded(rfc2617_value), &c), 0);
	char out[65];
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, RFC2617_HA1, SIP_PL("GET"), &c, out),
	                 0);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
	/* Upper-case HA1 from a store is normalised, not hashed as written. */
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, "939E7578ED9E3C518A452ACEE763BCE9",
	                                     SIP_PL("GET"), &c, out),
	                 0);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
	/* Without qop (RFC 2069 compatibility): H(HA1:nonce:HA2), nc and cnonce ignored.
	 * Expected value computed with `openssl md5`. */
	c.qop = SIP_PL_NULL;
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, RFC2617_HA1, SIP_PL("GET"), &c, out),
	                 0);
	assert_string_equal(out, "670fd8c2df070c60b045671b8b24ff02");
	c.nc = SIP_PL_NULL;
	c.cnonce = SIP_PL_NULL;
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, RFC2617_HA1, SIP_PL("GET"), &c, out),
	                 0);
	assert_string_equal(out, "670fd8c2df070c60b045671b8b24ff02");
}

/* RFC 7616 §3.9.1: Mufasa / "Circle of Life" / http-auth@example.org, GET /dir/index.html. */
static void rfc7616_creds(struct sip_digest_creds *c)
{
	memset(c, 0, sizeof(*c));
	c->username = SIP_PL("Mufasa");
	c->realm = SIP_PL("http-auth@example.org");
	c->uri = SIP_PL("/dir/index.html");
	c->nonce = SIP_PL("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	c->nc = SIP_PL("00000001");
	c->cnonce = SIP_PL("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	c->qop = SIP_PL("auth");
}

static void test_response_rfc7616(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	rfc7616_creds(&c);
	char out[65];
	/* HA1 = SHA-256("Mufasa:http-auth@example.org:Circle of Life") */
	assert_int_equal(
	    sip_digest_response(SIP_DIGEST_SHA256,
	                        "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
	                        SIP_PL("GET"), &c, out),
	    0);
	assert_string_equal(out,
	                    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	assert_int_equal(strlen(out), 64);
	/* The same exchange with MD5, also printed in §3.9.1. */
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, "3d78807defe7de2157e2b0b6573a855f",
	                                     SIP_PL("GET"), &c, out),
	                 0);
	assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_response_refused(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	rfc7616_creds(&c);
	char out[65];
	const char *sha_ha1 = "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232";
	/* HA1 of the wrong length for the algorithm, or not hex. */
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, sha_ha1, SIP_PL("GET"), &c, out), -1);
	assert_int_equal(
	    sip_digest_response(SIP_DIGEST_SHA256, RFC2617_HA1, SIP_PL("GET"), &c, out), -1);
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, "939e7578ed9e3c518a452acee763bceg",
	                                     SIP_PL("GET"), &c, out),
	                 -1);
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, NULL, SIP_PL("GET"), &c, out), -1);
	assert_int_equal(
	    sip_digest_response((enum sip_digest_alg)7, RFC2617_HA1, SIP_PL("GET"), &c, out), -1);
	/* Bad method. */
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL(""), &c, out), -1);
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL("G:T"), &c, out),
	                 -1);
	/* qop=auth-int needs the body; unknown qop values are refused. */
	c.qop = SIP_PL("auth-int");
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL("GET"), &c, out),
	                 -1);
	c.qop = SIP_PL("auth,auth-int");
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL("GET"), &c, out),
	                 -1);
	/* qop without nc or cnonce, or without a nonce. */
	rfc7616_creds(&c);
	c.nc = SIP_PL_NULL;
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL("GET"), &c, out),
	                 -1);
	rfc7616_creds(&c);
	c.cnonce = SIP_PL("");
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL("GET"), &c, out),
	                 -1);
	rfc7616_creds(&c);
	c.nonce = SIP_PL_NULL;
	assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, sha_ha1, SIP_PL("GET"), &c, out),
	                 -1);
}

/* ---- nonces ---- */

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* sip_nonce_check, for tests that do not look at the serial. */
static enum sip_nonce_state check(const struct sip_nonce_key *key, struct sip_pl nonce, int64_t now,
                                  int64_t validity)
{
	uint64_t serial;
	return sip_nonce_check(key, nonce, now, validity, &serial);
}

static void test_nonce_round_trip(void **state)
{
	(void)state;
	struct sip_nonce_key key;
	sip_nonce_key_init(&key);
	const int64_t t0 = 1795000000;
	char a[65], b[65];
	sip_nonce_make(&key, t0, 7, a);
	sip_nonce_make(&key, t0, 8, b);
	assert_int_equal(strlen(a), 43);
	assert_true(base_str_all(a, b64url_chars));
	/* The serial makes nonces of the same second differ, and comes back from the check. */
	assert_string_not_equal(a, b);
	uint64_t serial = 0;
	assert_int_equal(sip_nonce_check(&key, pl_of(b), t0, 300, &serial), SIP_NONCE_VALID);
	assert_int_equal(serial, 8);
	assert_int_equal(sip_nonce_check(&key, pl_of(a), t0 + 301, 300, &serial), SIP_NONCE_STALE);
	assert_int_equal(serial, 7);
	sip_nonce_make(&key, t0, UINT64_MAX, b);
	assert_int_equal(sip_nonce_check(&key, pl_of(b), t0, 300, &serial), SIP_NONCE_VALID);
	assert_true(serial == UINT64_MAX);
	assert_int_equal(check(&key, pl_of(a), t0, 300), SIP_NONCE_VALID);
	assert_int_equal(check(&key, pl_of(b), t0 + 299, 300), SIP_NONCE_VALID);
	assert_int_equal(check(&key, pl_of(a), t0 + 300, 300), SIP_NONCE_VALID);
	/* Expired but genuine: stale, so the registrar can answer stale=true. */
	assert_int_equal(check(&key, pl_of(a), t0 + 301, 300), SIP_NONCE_STALE);
	assert_int_equal(check(&key, pl_of(a), INT64_MAX, 300), SIP_NONCE_STALE);
	assert_int_equal(check(&key, pl_of(a), t0, 0), SIP_NONCE_VALID);
	assert_int_equal(check(&key, pl_of(a), t0 + 1, 0), SIP_NONCE_STALE);
	assert_int_equal(check(&key, pl_of(a), t0, -1), SIP_NONCE_STALE);
	/* Issued a little in the future (clock stepped back): tolerated for a few seconds. */
	assert_int_equal(check(&key, pl_of(a), t0 - 5, 300), SIP_NONCE_VALID);
	assert_int_equal(check(&key, pl_of(a), t0 - 6, 300), SIP_NONCE_INVALID);
	assert_int_equal(check(&key, pl_of(a), INT64_MIN, 300), SIP_NONCE_INVALID);
	/* Extreme issue times still round-trip. */
	sip_nonce_make(&key, INT64_MIN, 0, a);
	assert_int_equal(check(&key, pl_of(a), INT64_MIN, 10), SIP_NONCE_VALID);
	assert_int_equal(check(&key, pl_of(a), INT64_MAX, 10), SIP_NONCE_STALE);
	sip_nonce_make(&key, 0, 1, a);
	assert_int_equal(check(&key, pl_of(a), 0, 10), SIP_NONCE_VALID);
	sip_nonce_key_clear(&key);
}

static void test_nonce_tamper(void **state)
{
	(void)state;
	struct sip_nonce_key key, other;
	sip_nonce_key_init(&key);
	sip_nonce_key_init(&other);
	const int64_t t0 = 1795000000;
	char n[65];
	sip_nonce_make(&key, t0, 42, n);
	/* Another server's secret. */
	assert_int_equal(check(&other, pl_of(n), t0, 300), SIP_NONCE_INVALID);
	/* Every single-character change is caught: the time, the serial and the MAC.
	 * Changing the last character's unused low bits is caught by the canonical check. */
	for (size_t i = 0; i < 43; i++) {
		for (const char *r = b64url_chars; *r; r++) {
			if (*r == n[i])
				continue;
			char t[65];
			memcpy(t, n, sizeof(t));
			t[i] = *r;
			if (check(&key, pl_of(t), t0, 300) != SIP_NONCE_INVALID)
				fail_msg("changing character %zu to %c was not caught", i, *r);
		}
	}
	/* Wrong lengths, padding, other alphabets, nothing at all. */
	char t[70];
	memcpy(t, n, 44);
	assert_int_equal(check(&key, (struct sip_pl){n, 42}, t0, 300), SIP_NONCE_INVALID);
	strcat(t, "A");
	assert_int_equal(check(&key, pl_of(t), t0, 300), SIP_NONCE_INVALID);
	memcpy(t, n, 44);
	strcat(t, "==");
	assert_int_equal(check(&key, pl_of(t), t0, 300), SIP_NONCE_INVALID);
	memcpy(t, n, 44);
	t[10] = '+';
	assert_int_equal(check(&key, pl_of(t), t0, 300), SIP_NONCE_INVALID);
	t[10] = '/';
	assert_int_equal(check(&key, pl_of(t), t0, 300), SIP_NONCE_INVALID);
	assert_int_equal(check(&key, SIP_PL(""), t0, 300), SIP_NONCE_INVALID);
	assert_int_equal(check(&key, SIP_PL_NULL, t0, 300), SIP_NONCE_INVALID);
	assert_int_equal(check(&key, SIP_PL("dcd98b7102dd2f0e8b11d0f600bfb0c093"), t0, 300),
	                 SIP_NONCE_INVALID);
	sip_nonce_key_clear(&key);
	sip_nonce_key_clear(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_rfc2617),    cmocka_unit_test(test_parse_tolerant),
	    cmocka_unit_test(test_parse_escapes),    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_alg_parse),        cmocka_unit_test(test_response_rfc2617),
	    cmocka_unit_test(test_response_rfc7616), cmocka_unit_test(test_response_refused),
	    cmocka_unit_test(test_nonce_round_trip), cmocka_unit_test(test_nonce_tamper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
