/* admin: decoding request bodies and mapping errors to HTTP statuses. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "admin/admin.h"

#include <stdlib.h>
#include <string.h>

static int decode(const char *body, size_t len, struct base_err *err)
{
	json_t *out = NULL;
	int rc = admin_request_decode(body, len, &out, err);
	json_decref(out);
	return rc;
}

static void test_accepts_an_object(void **state)
{
	(void)state;
	json_t *out = NULL;
	struct base_err err = {0};
	const char *body = "{\"user_id\":\"tadams\",\"groups\":[\"a\"]}";
	assert_int_equal(admin_request_decode(body, strlen(body), &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "user_id")), "tadams");
	json_decref(out);
}

static void test_refuses_bad_bodies(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "{",
	    "[1,2]",
	    "\"text\"",
	    "42",
	    "{\"a\":1,\"a\":2}",
	    "{} junk",
	    "{\"a\":\"\xff\"}",
	    "{\"a\":tru}",
	    "null",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct base_err err = {0};
		assert_int_equal(decode(bad[i], strlen(bad[i]), &err), -1);
		assert_int_equal(err.code, BASE_E_BAD_REQUEST);
	}
	struct base_err err = {0};
	assert_int_equal(decode("{\"a\":\"\0\"}", 8, &err), -1);
}

static void test_refuses_oversize(void **state)
{
	(void)state;
	size_t len = ADMIN_MAX_BODY + 1;
	char *body = malloc(len);
	memset(body, ' ', len);
	body[0] = '{';
	body[len - 1] = '}';
	struct base_err err = {0};
	assert_int_equal(decode(body, len, &err), -1);
	assert_int_equal(err.code, BASE_E_TOO_LARGE);
	free(body);
}

static void test_status_codes(void **state)
{
	(void)state;
	assert_int_equal(admin_http_status(BASE_E_INVALID), 422);
	assert_int_equal(admin_http_status(BASE_E_BAD_REQUEST), 400);
	assert_int_equal(admin_http_status(BASE_E_UNAUTHORIZED), 401);
	assert_int_equal(admin_http_status(BASE_E_FORBIDDEN), 403);
	assert_int_equal(admin_http_status(BASE_E_NOT_FOUND), 404);
	assert_int_equal(admin_http_status(BASE_E_NOT_ALLOWED), 405);
	assert_int_equal(admin_http_status(BASE_E_CONFLICT), 409);
	assert_int_equal(admin_http_status(BASE_E_TOO_LARGE), 413);
	assert_int_equal(admin_http_status(BASE_E_THROTTLED), 429);
	assert_int_equal(admin_http_status(BASE_E_INTERNAL), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_an_object),
	    cmocka_unit_test(test_refuses_bad_bodies),
	    cmocka_unit_test(test_refuses_oversize),
	    cmocka_unit_test(test_status_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
