/* prov: the TFTP request parser, option negotiation, error packets and name checks. */
#include "prov/prov.h"

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

/* Builds opcode + NUL-separated strings, as a client would send them. */
static size_t packet(uint8_t *out, unsigned opcode, const char *const *parts, size_t n)
{
	size_t len = 0;
	out[len++] = (uint8_t)(opcode >> 8);
	out[len++] = (uint8_t)opcode;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]) + 1;
		memcpy(out + len, parts[i], l);
		len += l;
	}
	return len;
}

static int parse(const char *const *parts, size_t n, struct prov_tftp_request *req,
                 enum prov_tftp_error *code)
{
	uint8_t pkt[1024];
	struct base_err err = {0};
	size_t len = packet(pkt, PROV_TFTP_RRQ, parts, n);
	int rc = prov_tftp_parse_request(pkt, len, req, code, &err);
	if (rc != 0)
		assert_true(err.message[0] != '\0');
	return rc;
}

static void test_plain_read(void **state)
{
	(void)state;
	struct prov_tftp_request req;
	enum prov_tftp_error code;
	const char *parts[] = {"SEP001122334455.cnf.xml", "OCTET"};
	assert_int_equal(parse(parts, 2, &req, &code), 0);
	assert_int_equal(req.opcode, PROV_TFTP_RRQ);
	assert_string_equal(req.filename, "SEP001122334455.cnf.xml");
	assert_false(req.netascii);
	assert_false(req.has_blksize || req.has_tsize || req.has_timeout || req.has_windowsize);
	const char *ascii[] = {"a.txt", "netascii"};
	assert_int_equal(parse(ascii, 2, &req, &code), 0);
	assert_true(req.netascii);
}

static void test_options(void **state)
{
	(void)state;
	struct prov_tftp_request req;
	enum prov_tftp_error code;
	const char *parts[] = {"f",       "octet", "BLKSIZE",    "1024", "tsize",   "0",
	                       "timeout", "3",     "windowsize", "8",    "unknown", "whatever"};
	assert_int_equal(parse(parts, 12, &req, &code), 0);
	assert_true(req.has_blksize && req.has_tsize && req.has_timeout && req.has_windowsize);
	assert_int_equal(req.blksize, 1024);
	assert_int_equal(req.timeout, 3);
	assert_int_equal(req.windowsize, 8);

	struct prov_tftp_limits lim = {.max_blksize = 1428, .max_windowsize = 4};
	struct prov_tftp_params p;
	uint8_t oack[512];
	size_t n = prov_tftp_negotiate(&req, 4750, &lim, 1000, &p, oack, sizeof(oack));
	assert_true(p.oack);
	assert_int_equal(p.blksize, 1024);
	assert_int_equal(p.windowsize, 4); /* negotiated down to the server's maximum */
	assert_int_equal(p.timeout_ms, 3000);
	static const uint8_t want[] = "\0\6blksize\0"
	                              "1024\0tsize\0"
	                              "4750\0timeout\0"
	                              "3\0"
	                              "windowsize\0"
	                              "4";
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(oack, want, sizeof(want));

	const char *big[] = {"f", "octet", "blksize", "65464"};
	assert_int_equal(parse(big, 4, &req, &code), 0);
	prov_tftp_negotiate(&req, 1, &lim, 1000, &p, oack, sizeof(oack));
	assert_int_equal(p.blksize, 1428);

	const char *none[] = {"f", "octet"};
	assert_int_equal(parse(none, 2, &req, &code), 0);
	assert_int_equal(prov_tftp_negotiate(&req, 1, &lim, 1000, &p, oack, sizeof(oack)), 0);
	assert_false(p.oack);
	assert_int_equal(p.blksize, 512);
	assert_int_equal(p.windowsize, 1);
}

static void test_option_values_refused(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
	    {"blksize", "7"},        {"blksize", "65465"}, {"blksize", "99999999999"},
	    {"blksize", "-1"},       {"blksize", ""},      {"blksize", "12a"},
	    {"timeout", "0"},        {"timeout", "256"},   {"windowsize", "0"},
	    {"windowsize", "65536"}, {"tsize", "x"},       {"tsize", "12345678901"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct prov_tftp_request req;
		enum prov_tftp_error code = PROV_TFTP_E_UNDEFINED;
		const char *parts[] = {"f", "octet", bad[i][0], bad[i][1]};
		assert_int_equal(parse(parts, 4, &req, &code), -1);
		assert_int_equal(code, PROV_TFTP_E_OPTION);
	}
	struct prov_tftp_request req;
	enum prov_tftp_error code;
	const char *twice[] = {"f", "octet", "blksize", "512", "blksize", "1024"};
	assert_int_equal(parse(twice, 6, &req, &code), -1);
	assert_int_equal(code, PROV_TFTP_E_OPTION);
}

static void test_malformed(void **state)
{
	(void)state;
	struct prov_tftp_request req;
	enum prov_tftp_error code;
	struct base_err err;
	uint8_t pkt[700];
	/* No NUL after the mode, unknown opcodes, short packets, bad modes, oversize. */
	static const uint8_t unterminated[] = {0, 1, 'f', 0, 'o', 'c', 't', 'e', 't'};
	assert_int_equal(
	    prov_tftp_parse_request(unterminated, sizeof(unterminated), &req, &code, &err), -1);
	assert_int_equal(code, PROV_TFTP_E_ILLEGAL);
	static const uint8_t data[] = {0, 3, 0, 1, 'x'};
	assert_int_equal(prov_tftp_parse_request(data, sizeof(data), &req, &code, &err), -1);
	assert_int_equal(prov_tftp_parse_request(data, 2, &req, &code, &err), -1);
	const char *mail[] = {"f", "mail"};
	assert_int_equal(parse(mail, 2, &req, &code), -1);
	assert_int_equal(code, PROV_TFTP_E_ILLEGAL);
	const char *empty[] = {"", "octet"};
	assert_int_equal(parse(empty, 2, &req, &code), -1);
	const char *dangling[] = {"f", "octet", "blksize"};
	assert_int_equal(parse(dangling, 3, &req, &code), -1);
	assert_int_equal(code, PROV_TFTP_E_ILLEGAL);
	memset(pkt, 'a', sizeof(pkt));
	pkt[0] = 0, pkt[1] = 1, pkt[300] = 0, pkt[306] = 0;
	memcpy(pkt + 301, "octet", 5);
	assert_int_equal(prov_tftp_parse_request(pkt, 307, &req, &code, &err), -1);
	pkt[600] = 0;
	assert_int_equal(prov_tftp_parse_request(pkt, 601, &req, &code, &err), -1);
	assert_int_equal(code, PROV_TFTP_E_ILLEGAL);
	const char *ctrl[] = {"a\tb", "octet"};
	assert_int_equal(parse(ctrl, 2, &req, &code), -1);
}

static void test_write_request(void **state)
{
	(void)state;
	uint8_t pkt[64];
	const char *parts[] = {"x", "octet"};
	size_t len = packet(pkt, PROV_TFTP_WRQ, parts, 2);
	struct prov_tftp_request req;
	enum prov_tftp_error code;
	struct base_err err;
	assert_int_equal(prov_tftp_parse_request(pkt, len, &req, &code, &err), 0);
	assert_int_equal(req.opcode, PROV_TFTP_WRQ);
}

static void test_error_packet(void **state)
{
	(void)state;
	uint8_t pkt[16];
	size_t n =
	    prov_tftp_error_packet(PROV_TFTP_E_NOT_FOUND, "File not found", pkt, sizeof(pkt));
	assert_int_equal(n, 16);
	assert_memory_equal(pkt, "\0\5\0\1File not fo", 15);
	assert_int_equal(pkt[15], 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(prov_name_is_safe("SEP001122334455.cnf.xml"));
	assert_true(prov_name_is_safe("Desktops/320x196x4/List.xml"));
	static const char *const bad[] = {
	    "",     "..", "../etc/passwd", "a/../b", "a//b",     "/a", "a/",
	    "a\\b", ".",  "a/./b",         "a b",    "%2e%2e/x", "a:b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(prov_name_is_safe(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_read),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_option_values_refused),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_write_request),
	    cmocka_unit_test(test_error_packet),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
