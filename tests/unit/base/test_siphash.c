/* base: SipHash-1-3 and SipHash-2-4-128, checked against OpenSSL's SipHash. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "base/base.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* OpenSSL's SipHash-c-d with an output of `size` bytes (8 or 16). */
static void openssl_siphash(unsigned int c, unsigned int d, const unsigned char key[16],
                            const unsigned char *msg, size_t len, unsigned char *out, size_t size)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	size_t out_len = 0;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
	                       OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_C_ROUNDS, &c),
	                       OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_D_ROUNDS, &d),
	                       OSSL_PARAM_construct_end()};
	assert_true(EVP_MAC_init(ctx, key, 16, params));
	assert_true(EVP_MAC_update(ctx, msg, len));
	assert_true(EVP_MAC_final(ctx, out, &out_len, size));
	assert_int_equal(out_len, size);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* Every length up to 100 bytes (all tail sizes, several blocks), each under a fresh random key
 * and message, in both forms. */
static void test_same_as_openssl(void **state)
{
	(void)state;
	unsigned char key[16], msg[100], want[16], got[16];
	for (size_t len = 0; len <= sizeof(msg); len++) {
		assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
		assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
		openssl_siphash(1, 3, key, msg, len, want, 8);
		uint64_t v = base_siphash13(key, msg, len);
		for (int i = 0; i < 8; i++) /* the 64-bit result, little-endian */
			got[i] = (unsigned char)(v >> (8 * i));
		assert_memory_equal(got, want, 8);
		openssl_siphash(2, 4, key, msg, len, want, 16);
		base_siphash24_128(key, msg, len, got);
		assert_memory_equal(got, want, 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_as_openssl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
