/* sip: Replaces (RFC 3891) and the percent-escaped headers of a Refer-To URI (RFC 3261 §19.1.1). */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "sip/sip.h"

#include <string.h>

static struct sip_pl pl(const char *s)
{
	return (struct sip_pl){s, strlen(s)};
}

static void test_replaces_header(void **state)
{
	(void)state;
	struct sip_replaces r;
	assert_int_equal(sip_replaces_parse(pl("98732@sip.example.com ; from-tag = r33th4x0r ;"
	                                       "to-tag=ff87ff;early-only;x=1"),
	                                    &r),
	                 0);
	assert_true(sip_pl_eq(r.call_id, "98732@sip.example.com"));
	assert_true(sip_pl_eq(r.from_tag, "r33th4x0r"));
	assert_true(sip_pl_eq(r.to_tag, "ff87ff"));
	assert_true(r.early_only);
}

static void test_replaces_refused(void **state)
{
	(void)state;
	struct sip_replaces r;
	const char *bad[] = {
	    "",
	    "abc",                              /* no tags */
	    "abc;to-tag=1",                     /* no from-tag */
	    ";to-tag=1;from-tag=2",             /* no Call-ID */
	    "abc;to-tag=;from-tag=2",           /* empty tag */
	    "abc;to-tag=1;from-tag=2;to-tag=3", /* twice */
	    "a b;to-tag=1;from-tag=2",          /* space in the Call-ID */
	    "abc;to-tag=1;from-tag=2;;",        /* empty parameter */
	    "abc;to-tag=\"1\";from-tag=2",      /* quoted */
	    "abc;to-tag=1;from-tag=2\x01",      /* control character */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sip_replaces_parse(pl(bad[i]), &r), -1);
}

static void test_uri_header(void **state)
{
	(void)state;
	char out[128];
	size_t len;
	struct sip_pl h =
	    pl("subject=hi&Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994");
	assert_int_equal(sip_uri_header_get(h, "replaces", out, sizeof(out), &len), 1);
	assert_string_equal(out, "12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994");
	assert_int_equal(len, strlen(out));
	struct sip_replaces r;
	assert_int_equal(sip_replaces_parse((struct sip_pl){out, len}, &r), 0);
	assert_true(sip_pl_eq(r.to_tag, "12345"));
	assert_int_equal(sip_uri_header_get(h, "subject", out, sizeof(out), &len), 1);
	assert_string_equal(out, "hi");
	assert_int_equal(sip_uri_header_get(h, "to", out, sizeof(out), &len), 0);
	assert_int_equal(sip_uri_header_get(pl("Replaces=a%4"), "Replaces", out, sizeof(out), &len),
	                 -1);
	assert_int_equal(
	    sip_uri_header_get(pl("Replaces=a%zz"), "Replaces", out, sizeof(out), &len), -1);
	assert_int_equal(
	    sip_uri_header_get(pl("Replaces=a%0Db"), "Replaces", out, sizeof(out), &len), -1);
	assert_int_equal(sip_uri_header_get(pl("Replaces=abcdef"), "Replaces", out, 4, &len), -1);
	assert_int_equal(sip_uri_header_get(pl("Replaces=abc"), "Replaces", out, 4, &len), 1);
	assert_int_equal(sip_uri_header_get(pl("Replaces=abc"), "Replaces", out, 0, &len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replaces_header),
	    cmocka_unit_test(test_replaces_refused),
	    cmocka_unit_test(test_uri_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
