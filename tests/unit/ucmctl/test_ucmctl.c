/* Unit tests of ucmctl's pure parts: value conversion, option matching, schema, tables. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucmctl.h"

static const char test_schema[] =
    "{\"resources\":[{\"name\":\"devices\",\"singular\":\"device\",\"key\":\"name\","
    "\"methods\":[\"list\",\"get\",\"create\",\"update\",\"delete\"],"
    "\"actions\":[\"apply-config\",\"reset\"],\"fields\":["
    "{\"name\":\"name\",\"type\":\"string\",\"required\":true,\"max_length\":15},"
    "{\"name\":\"type\",\"type\":\"enum\",\"values\":[\"cisco_sip_phone\",\"csf\"]},"
    "{\"name\":\"max_calls\",\"type\":\"integer\",\"min\":1,\"max\":200,\"default\":4},"
    "{\"name\":\"enabled\",\"type\":\"boolean\"},"
    "{\"name\":\"lines\",\"type\":\"lines\"},"
    "{\"name\":\"codecs\",\"type\":\"string_list\"},"
    "{\"name\":\"digest_password\",\"type\":\"string\",\"write_only\":true},"
    "{\"name\":\"extra\",\"type\":\"json\"},"
    "{\"name\":\"created_at\",\"type\":\"timestamp\",\"read_only\":true},"
    "{\"name\":\"device_pool\",\"type\":\"string\"},"
    "{\"name\":\"owner_user_id\",\"type\":\"string\"}]},"
    "{\"name\":\"directory-numbers\",\"singular\":\"directory-number\",\"key\":\"number\","
    "\"methods\":[\"list\"],\"fields\":["
    "{\"name\":\"number\",\"type\":\"string\"},"
    "{\"name\":\"partition\",\"type\":\"string\"},"
    "{\"name\":\"description\",\"type\":\"string\",\"summary\":true},"
    "{\"name\":\"alerting_name\",\"type\":\"string\"}]}]}";

static int setup_schema(void **state)
{
	struct ucmctl_schema *schema = malloc(sizeof(*schema));
	char err[UCMCTL_ERR_LEN];

	if (!schema ||
	    ucmctl_schema_parse(schema, json_loads(test_schema, 0, NULL), err, sizeof(err)) < 0) {
		free(schema);
		return -1;
	}
	*state = schema;
	return 0;
}

static int teardown_schema(void **state)
{
	ucmctl_schema_free(*state);
	free(*state);
	return 0;
}

static const struct ucmctl_resource *devices(void **state)
{
	const struct ucmctl_resource *r = ucmctl_schema_find(*state, "devices");

	assert_non_null(r);
	return r;
}

/* Compares a value with the JSON text it should equal. */
static void assert_json(json_t *v, const char *expected)
{
	json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);

	assert_non_null(v);
	assert_non_null(want);
	if (!json_equal(v, want)) {
		char *got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		fail_msg("got %s, want %s", got, expected);
	}
	json_decref(want);
	json_decref(v);
}

static void test_parse_int(void **state)
{
	json_int_t v;

	(void)state;
	assert_true(ucmctl_value_parse_int("12", &v));
	assert_int_equal(v, 12);
	assert_true(ucmctl_value_parse_int("-5", &v));
	assert_int_equal(v, -5);
	assert_true(ucmctl_value_parse_int("9223372036854775807", &v));
	assert_false(ucmctl_value_parse_int("9223372036854775808", &v));
	assert_false(ucmctl_value_parse_int("", &v));
	assert_false(ucmctl_value_parse_int("-", &v));
	assert_false(ucmctl_value_parse_int("+1", &v));
	assert_false(ucmctl_value_parse_int(" 1", &v));
	assert_false(ucmctl_value_parse_int("1 ", &v));
	assert_false(ucmctl_value_parse_int("12abc", &v));
	assert_false(ucmctl_value_parse_int("0x10", &v));
	assert_false(ucmctl_value_parse_int("1.5", &v));
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
	static const char *const no[] = {"false", "no", "off", "0", "OFF"};
	size_t i;
	bool b;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_true(ucmctl_value_parse_bool(yes[i], &b));
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_true(ucmctl_value_parse_bool(no[i], &b));
		assert_false(b);
	}
	assert_false(ucmctl_value_parse_bool("", &b));
	assert_false(ucmctl_value_parse_bool("maybe", &b));
	assert_false(ucmctl_value_parse_bool("2", &b));
}

static void test_parse_list(void **state)
{
	char err[UCMCTL_ERR_LEN];

	(void)state;
	assert_json(ucmctl_value_parse_list("", err, sizeof(err)), "[]");
	assert_json(ucmctl_value_parse_list("  ", err, sizeof(err)), "[]");
	assert_json(ucmctl_value_parse_list("a", err, sizeof(err)), "[\"a\"]");
	assert_json(ucmctl_value_parse_list("a, b ,c", err, sizeof(err)), "[\"a\",\"b\",\"c\"]");
	assert_null(ucmctl_value_parse_list("a,,b", err, sizeof(err)));
	assert_non_null(strstr(err, "empty item"));
	assert_null(ucmctl_value_parse_list("a,", err, sizeof(err)));
	assert_null(ucmctl_value_parse_list(",", err, sizeof(err)));
}

static void test_parse_lines(void **state)
{
	char err[UCMCTL_ERR_LEN];

	(void)state;
	assert_json(ucmctl_value_parse_lines("1001", err, sizeof(err)),
	            "[{\"directory_number\":\"1001\"}]");
	assert_json(ucmctl_value_parse_lines("1001:amckenzi, 1002:a+b, 1003:", err, sizeof(err)),
	            "[{\"directory_number\":\"1001\",\"associated_users\":[\"amckenzi\"]},"
	            "{\"directory_number\":\"1002\",\"associated_users\":[\"a\",\"b\"]},"
	            "{\"directory_number\":\"1003\",\"associated_users\":[]}]");
	assert_json(ucmctl_value_parse_lines("", err, sizeof(err)), "[]");
	assert_null(ucmctl_value_parse_lines(":amckenzi", err, sizeof(err)));
	assert_non_null(strstr(err, "no directory number"));
	assert_null(ucmctl_value_parse_lines("1001:a++b", err, sizeof(err)));
	assert_null(ucmctl_value_parse_lines("1001,,1002", err, sizeof(err)));
}

static void test_from_text(void **state)
{
	const struct ucmctl_resource *r = devices(state);
	char err[UCMCTL_ERR_LEN];

#define CONVERT(field, text)                                                                       \
	ucmctl_value_from_text(ucmctl_schema_field(r, field), text, err, sizeof(err))
	assert_json(CONVERT("max_calls", "7"), "7");
	assert_json(CONVERT("max_calls", ""), "null");
	assert_null(CONVERT("max_calls", "7x"));
	assert_non_null(strstr(err, "integer"));
	assert_null(CONVERT("max_calls", "0"));
	assert_non_null(strstr(err, "minimum 1"));
	assert_null(CONVERT("max_calls", "201"));
	assert_non_null(strstr(err, "maximum 200"));
	assert_json(CONVERT("enabled", "off"), "false");
	assert_null(CONVERT("enabled", ""));
	assert_json(CONVERT("type", "csf"), "\"csf\"");
	assert_json(CONVERT("type", "CSF"), "\"csf\"");
	assert_null(CONVERT("type", "sip"));
	assert_non_null(strstr(err, "cisco_sip_phone, csf"));
	assert_json(CONVERT("name", ""), "\"\"");
	assert_json(CONVERT("name", "SEP001122334455"), "\"SEP001122334455\"");
	assert_json(CONVERT("codecs", "g711u,g722"), "[\"g711u\",\"g722\"]");
	assert_json(CONVERT("codecs", ""), "[]");
	assert_json(CONVERT("extra", "{\"a\":[1,2]}"), "{\"a\":[1,2]}");
	assert_json(CONVERT("extra", "3"), "3");
	assert_null(CONVERT("extra", "{bad"));
	assert_json(CONVERT("created_at", "2026-11-22T01:02:03Z"), "\"2026-11-22T01:02:03Z\"");
#undef CONVERT
}

static void assert_text(const char *json, const char *expected)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	char *s = ucmctl_value_to_text(NULL, v);

	assert_string_equal(s, expected);
	free(s);
	json_decref(v);
}

static void test_to_text(void **state)
{
	(void)state;
	assert_text("null", "");
	assert_text("\"x\"", "x");
	assert_text("42", "42");
	assert_text("true", "true");
	assert_text("[\"g711u\",\"g722\"]", "g711u, g722");
	assert_text("[]", "");
	assert_text("[{\"directory_number\":\"1001\",\"associated_users\":[\"amckenzi\"]}]",
	            "1001 (amckenzi)");
	assert_text("[{\"directory_number\":\"1001\",\"associated_users\":[\"a\",\"b\"]},"
	            "{\"directory_number\":\"1002\",\"associated_users\":[]}]",
	            "1001 (a, b), 1002");
	assert_text("{\"a\":1}", "{\"a\":1}");
}

static void test_names(void **state)
{
	(void)state;
	assert_true(ucmctl_text_name_eq("device-pool", "device_pool"));
	assert_true(ucmctl_text_name_eq("Device_Pool", "device-pool"));
	assert_false(ucmctl_text_name_eq("device", "devices"));
	assert_int_equal(ucmctl_text_distance("devcie", "device"), 2);
	assert_int_equal(ucmctl_text_distance("max-calls", "max_calls"), 0);
	assert_true(ucmctl_text_is_close("max-cals", "max_calls"));
	assert_true(ucmctl_text_is_close("pool", "device_pool"));
	assert_false(ucmctl_text_is_close("xyz", "device_pool"));
	assert_false(ucmctl_text_is_close("ab", "cabinet"));
}

static void test_schema_find(void **state)
{
	const struct ucmctl_resource *r;
	struct ucmctl_buf b;

	r = ucmctl_schema_find(*state, "directory_numbers");
	assert_non_null(r);
	assert_string_equal(r->name, "directory-numbers");
	assert_ptr_equal(ucmctl_schema_find(*state, "directory-number"), r);
	assert_ptr_equal(ucmctl_schema_find(*state, "Device"), devices(state));
	assert_null(ucmctl_schema_find(*state, "phones"));
	ucmctl_buf_init(&b);
	ucmctl_schema_suggest(*state, "devics", &b);
	assert_string_equal(b.s, "devices");
	ucmctl_buf_free(&b);
	r = devices(state);
	assert_true(ucmctl_schema_has_method(r, "delete"));
	assert_true(ucmctl_schema_has_action(r, "apply-config"));
	assert_false(ucmctl_schema_has_action(r, "restart"));
	assert_non_null(ucmctl_schema_field(r, "device-pool"));
	assert_int_equal(ucmctl_schema_field(r, "max_calls")->type, UCMCTL_T_INTEGER);
	assert_null(ucmctl_schema_field(r, "pool"));
}

static void test_columns(void **state)
{
	const struct ucmctl_field *cols[6];
	size_t n;

	/* none marked summary: the key, then the first five scalar non-secret fields */
	n = ucmctl_schema_columns(devices(state), cols, 6);
	assert_int_equal(n, 6);
	assert_string_equal(cols[0]->name, "name");
	assert_string_equal(cols[1]->name, "type");
	assert_string_equal(cols[2]->name, "max_calls");
	assert_string_equal(cols[3]->name, "enabled");
	assert_string_equal(cols[4]->name, "created_at");
	assert_string_equal(cols[5]->name, "device_pool");
	/* marked: the key and only the summary fields */
	n = ucmctl_schema_columns(ucmctl_schema_find(*state, "directory-numbers"), cols, 6);
	assert_int_equal(n, 2);
	assert_string_equal(cols[0]->name, "number");
	assert_string_equal(cols[1]->name, "description");
}

static int parse(void **state, enum ucmctl_args_mode mode, const char *const *words,
                 struct ucmctl_args *a, char *err)
{
	int argc = 0;

	while (words[argc])
		argc++;
	return ucmctl_args_parse(devices(state), mode, argc, (char **)words, a, err,
	                         UCMCTL_ERR_LEN);
}

static void test_args_write(void **state)
{
	char path[] = "/tmp/test_ucmctl_XXXXXX", err[UCMCTL_ERR_LEN];
	struct ucmctl_args a;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret pw\nsecond line\n", 22), 22);
	close(fd);
	{
		const char *words[] = {"SEP1",      "--max-calls", "7",   "--device_pool=dp",
		                       "--enabled", "--type",      "csf", "--digest-password-file",
		                       path,        NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err), UCMCTL_EXIT_OK);
		assert_int_equal(a.npos, 1);
		assert_string_equal(a.pos[0], "SEP1");
		assert_json(json_incref(a.fields),
		            "{\"max_calls\":7,\"device_pool\":\"dp\",\"enabled\":true,"
		            "\"type\":\"csf\",\"digest_password\":\"secret pw\"}");
		ucmctl_args_free(&a);
	}
	unlink(path);
	{
		const char *words[] = {"--max-calls", "7x", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		assert_non_null(strstr(err, "--max-calls"));
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--max-cals", "7", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		assert_non_null(strstr(err, "did you mean --max-calls"));
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--created-at", "2026-11-22T01:02:03Z", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		assert_non_null(strstr(err, "read-only"));
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--type", "csf", "--type", "csf", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		assert_non_null(strstr(err, "twice"));
		ucmctl_args_free(&a);
	}
	{
		/* a boolean takes the next word unless it is an option, and checks it */
		const char *words[] = {"--enabled", "hunter2", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--name", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		assert_non_null(strstr(err, "needs a value"));
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--", "--odd-key", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_WRITE, words, &a, err), UCMCTL_EXIT_OK);
		assert_string_equal(a.pos[0], "--odd-key");
		ucmctl_args_free(&a);
	}
}

static void test_args_filter(void **state)
{
	char err[UCMCTL_ERR_LEN];
	struct ucmctl_args a;

	{
		const char *words[] = {"--enabled", "yes",      "--max-calls", "3", "--limit",
		                       "10",        "--offset", "20",          NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_FILTER, words, &a, err), UCMCTL_EXIT_OK);
		assert_json(json_incref(a.fields), "{\"enabled\":\"true\",\"max_calls\":\"3\"}");
		assert_string_equal(a.limit, "10");
		assert_string_equal(a.offset, "20");
		ucmctl_args_free(&a);
	}
	{
		/* a secret never goes into a URL */
		const char *words[] = {"--digest-password", "x", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_FILTER, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		assert_non_null(strstr(err, "secret"));
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--codecs", "g722", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_FILTER, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"--limit", "ten", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_FILTER, words, &a, err),
		                 UCMCTL_EXIT_USAGE);
		ucmctl_args_free(&a);
	}
	{
		const char *words[] = {"SEP1", "--type", "csf", NULL};

		assert_int_equal(parse(state, UCMCTL_ARGS_NONE, words, &a, err), UCMCTL_EXIT_USAGE);
		ucmctl_args_free(&a);
	}
}

static void test_table(void **state)
{
	const char *header[] = {"NAME", "OWNER"};
	const char *row1[] = {"TCTÄÖÜ", "jürgen"};
	const char *row2[] = {"SEP1", "evil\x1b[31m\nline"};
	struct ucmctl_table t;
	size_t widths[2];
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	ucmctl_table_init(&t, 2);
	ucmctl_table_add(&t, header);
	ucmctl_table_add(&t, row1);
	ucmctl_table_add(&t, row2);
	ucmctl_table_widths(&t, widths);
	assert_int_equal(widths[0], 6); /* code points, not bytes */
	assert_int_equal(widths[1], 14);
	out = open_memstream(&buf, &len);
	ucmctl_table_print(&t, out);
	fclose(out);
	assert_string_equal(buf, "NAME    OWNER\n"
	                         "TCTÄÖÜ  jürgen\n"
	                         "SEP1    evil?[31m line\n");
	free(buf);
	ucmctl_table_free(&t);
}

static void test_text(void **state)
{
	char s[] = "abcdefghij", u[] = "ÄÖÜÄÖÜÄÖÜ",
	     c[] = "a\xc2\x9b"
	           "b";
	char *e;

	(void)state;
	ucmctl_text_truncate(s, 7);
	assert_string_equal(s, "abcd...");
	ucmctl_text_truncate(u, 6);
	assert_string_equal(u, "ÄÖÜ...");
	ucmctl_text_sanitize(c);
	assert_string_equal(c, "a??b");
	e = ucmctl_text_urlencode("Standard CCM Super Users/ä?&=");
	assert_string_equal(e, "Standard%20CCM%20Super%20Users%2F%C3%A4%3F%26%3D");
	free(e);
	e = ucmctl_args_option_name("owner_user_id");
	assert_string_equal(e, "--owner-user-id");
	free(e);
}

static void test_check_url(void **state)
{
	char err[UCMCTL_ERR_LEN];

	(void)state;
	assert_int_equal(ucmctl_http_check_url("https://127.0.0.1:8443", err, sizeof(err)), 0);
	assert_int_equal(ucmctl_http_check_url("HTTPS://ucm.example/", err, sizeof(err)), 0);
	assert_int_equal(ucmctl_http_check_url("http://127.0.0.1:8443", err, sizeof(err)), -1);
	assert_int_equal(ucmctl_http_check_url("https://a:b@host", err, sizeof(err)), -1);
	assert_int_equal(ucmctl_http_check_url("https://host/x@y", err, sizeof(err)), 0);
	assert_int_equal(ucmctl_http_check_url("https:///x", err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_int),   cmocka_unit_test(test_parse_bool),
	    cmocka_unit_test(test_parse_list),  cmocka_unit_test(test_parse_lines),
	    cmocka_unit_test(test_from_text),   cmocka_unit_test(test_to_text),
	    cmocka_unit_test(test_names),       cmocka_unit_test(test_schema_find),
	    cmocka_unit_test(test_columns),     cmocka_unit_test(test_args_write),
	    cmocka_unit_test(test_args_filter), cmocka_unit_test(test_table),
	    cmocka_unit_test(test_text),        cmocka_unit_test(test_check_url),
	};

	return cmocka_run_group_tests(tests, setup_schema, teardown_schema);
}
