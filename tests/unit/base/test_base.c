/* base: errors, strings, time and the config file reader. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_err_set_returns_minus_one(void **state)
{
	(void)state;
	struct base_err err;
	assert_int_equal(base_err_set(&err, BASE_E_INVALID, "name", "bad %d", 7), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_string_equal(err.field, "name");
	assert_string_equal(err.message, "bad 7");
	assert_int_equal(base_err_set(NULL, BASE_E_INVALID, NULL, "x"), -1);
	assert_string_equal(base_err_code_name(BASE_E_NOT_ALLOWED), "method_not_allowed");
}

static void test_strings(void **state)
{
	(void)state;
	char small[4];
	assert_int_equal(base_strlcpy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_true(base_str_is_digits("0123"));
	assert_false(base_str_is_digits(""));
	assert_false(base_str_is_digits("12a"));
	assert_true(base_mem_equal_ct("abc", "abc", 3));
	assert_false(base_mem_equal_ct("abc", "abd", 3));
	char hex[7];
	base_hex((const unsigned char *)"\x01\xab\xff", 3, hex);
	assert_string_equal(hex, "01abff");
}

/* Text put together in a fixed buffer: numbers of every width, and a cut like snprintf's. */
static void test_text(void **state)
{
	(void)state;
	char digits[20];
	assert_int_equal(base_format_uint(digits, 0), 1);
	assert_memory_equal(digits, "0", 1);
	assert_int_equal(base_format_uint(digits, 18446744073709551615ull), 20);
	assert_memory_equal(digits, "18446744073709551615", 20);

	char out[12];
	struct base_text t;
	base_text_init(&t, out, sizeof(out));
	assert_string_equal(out, "");
	base_text_adds(&t, "port ");
	base_text_add_uint(&t, 5060);
	base_text_add(&t, NULL, 0);
	assert_string_equal(out, "port 5060");
	assert_false(t.cut);
	base_text_adds(&t, ";rport");
	assert_string_equal(out, "port 5060;r");
	assert_true(t.cut);
	assert_int_equal(t.len, sizeof(out) - 1);
	base_text_add_uint(&t, 7);
	assert_string_equal(out, "port 5060;r");
}

static void test_time_round_trip(void **state)
{
	(void)state;
	char text[21];
	base_time_format(1795000000, text);
	int64_t t;
	assert_int_equal(base_time_parse(text, &t), 0);
	assert_int_equal(t, 1795000000);
	assert_int_equal(base_time_parse("2026-11-22T01:02:03+00:00", &t), 0);
	assert_int_equal(base_time_parse("2026-02-31T00:00:00Z", &t), -1);
	assert_int_equal(base_time_parse("2026-11-22 01:02:03Z", &t), -1);
	assert_int_equal(base_time_parse("2026-11-22T01:02:03+01:00", &t), -1);
	assert_int_equal(base_time_parse("tomorrow", &t), -1);
	assert_int_equal(base_time_parse("2026-11-22T01:02:03Zjunk", &t), -1);
}

static char *write_temp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/ucm-conf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_conf(void **state)
{
	(void)state;
	struct base_conf conf;
	struct base_err err = {0};
	char *path =
	    write_temp("# comment\n  data_dir = /srv/ucm  # trailing\n\nlog_level=debug\n");
	assert_int_equal(base_conf_load(&conf, path, &err), 0);
	assert_string_equal(base_conf_get(&conf, "data_dir"), "/srv/ucm");
	assert_string_equal(base_conf_get(&conf, "log_level"), "debug");
	assert_null(base_conf_get(&conf, "missing"));
	base_conf_free(&conf);
	unlink(path);

	path = write_temp("a = 1\nnot a setting\n");
	assert_int_equal(base_conf_load(&conf, path, &err), -1);
	assert_non_null(strstr(err.message, ":2: expected `key = value`"));
	unlink(path);

	path = write_temp("a = 1\na = 2\n");
	assert_int_equal(base_conf_load(&conf, path, &err), -1);
	assert_non_null(strstr(err.message, "a is set twice"));
	unlink(path);

	assert_int_equal(base_conf_load(&conf, "/nonexistent/ucmd.conf", &err), -1);
	assert_non_null(strstr(err.message, "cannot read"));
}

static void test_log_levels(void **state)
{
	(void)state;
	enum base_log_level level;
	assert_int_equal(base_log_level_parse("warn", &level), 0);
	assert_int_equal(level, BASE_LOG_WARN);
	assert_int_equal(base_log_level_parse("loud", &level), -1);
}

static void count_entry(void *arg, const char *key, void *value)
{
	(void)key;
	*(long *)arg += (long)(intptr_t)value;
}

static void test_hash(void **state)
{
	(void)state;
	struct base_hash *h = base_hash_new();
	char key[32];
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		assert_int_equal(base_hash_put(h, key, (void *)(intptr_t)(i + 1), NULL), 0);
	}
	assert_int_equal(base_hash_count(h), 5000);
	assert_ptr_equal(base_hash_get(h, "k4999"), (void *)(intptr_t)5000);
	assert_null(base_hash_get(h, "missing"));
	void *old = NULL;
	assert_int_equal(base_hash_put(h, "k0", (void *)(intptr_t)7, &old), 0);
	assert_ptr_equal(old, (void *)(intptr_t)1);
	assert_ptr_equal(base_hash_remove(h, "k1"), (void *)(intptr_t)2);
	assert_null(base_hash_remove(h, "k1"));
	long sum = 0;
	base_hash_foreach(h, count_entry, &sum);
	assert_int_equal(sum, 5000L * 5001 / 2 - 1 - 2 + 7);
	base_hash_free(h, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_set_returns_minus_one),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_time_round_trip),
	    cmocka_unit_test(test_conf),
	    cmocka_unit_test(test_log_levels),
	    cmocka_unit_test(test_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
