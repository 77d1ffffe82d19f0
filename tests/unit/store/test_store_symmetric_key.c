/*
 * The manual symmetric key of legacy phones (requirements security-2 §3.13, AC-E01..E05,
 * E09, E25, E26): every rule fed a bad value fails with code, field and message and writes
 * nothing; the key is sealed at rest, never shown, masked in the audit log, immutable, and
 * survives turning TFTP encrypted config off.
 */
#include "store_fixture.h"

#include <sqlite3.h>

#define K32 "00112233445566778899aabbccddeeff"
#define K64 K32 "FFEEDDCCBBAA99887766554433221100"

struct step {
	const char *kind, *key, *body;
	enum base_err_code code;
	const char *field, *message;
};

#define OK(kind, key, body)                                                                        \
	{                                                                                          \
		kind, key, body, BASE_OK, NULL, NULL                                               \
	}
#define INVALID(kind, key, body, field, msg)                                                       \
	{                                                                                          \
		kind, key, body, BASE_E_INVALID, field, msg                                        \
	}

static const struct step steps[] = {
    OK("phone-security-profiles", NULL,
       "{\"name\":\"Legacy Encrypted\",\"device_type\":\"cisco_sip_phone\","
       "\"tftp_encrypted_config\":true}"),
    /* AC-E01: 7940G class, 32 hex digits. */
    INVALID("devices", NULL,
            "{\"name\":\"SEP000000007940\",\"type\":\"cisco_sip_phone\",\"model\":\"7940G\","
            "\"symmetric_key\":\"" K32 "0\"}",
            "symmetric_key", "must be exactly 32 hex digits (128 bits)"),
    INVALID("devices", NULL,
            "{\"name\":\"SEP000000007940\",\"type\":\"cisco_sip_phone\",\"model\":\"7940G\","
            "\"symmetric_key\":\"0011223344556677889900AABBCCDDE\"}",
            "symmetric_key", "must be exactly 32 hex digits"),
    INVALID("devices", NULL,
            "{\"name\":\"SEP000000007940\",\"type\":\"cisco_sip_phone\",\"model\":\"7940G\","
            "\"symmetric_key\":\"G0112233445566778899AABBCCDDEEFF\"}",
            "symmetric_key", "may contain only the characters 0123456789ABCDEFabcdef"),
    INVALID("devices", NULL,
            "{\"name\":\"SEP000000007940\",\"type\":\"cisco_sip_phone\",\"model\":\"7940G\","
            "\"symmetric_key\":null}",
            "symmetric_key", "cannot be cleared"),
    /* Only the manual-key models take one. */
    INVALID("devices", NULL,
            "{\"name\":\"SEP000000007961\",\"type\":\"cisco_sip_phone\",\"model\":\"7961G\","
            "\"symmetric_key\":\"" K32 "\"}",
            "symmetric_key", "applies only to cisco_sip_phone devices of the manual-key"),
    INVALID("devices", NULL,
            "{\"name\":\"CSFLEGACY\",\"type\":\"csf\",\"model\":\"7940G\","
            "\"symmetric_key\":\"" K32 "\"}",
            "symmetric_key", "applies only to cisco_sip_phone"),
    /* AC-E03: upper and lower case. */
    OK("devices", NULL,
       "{\"name\":\"SEP000000007940\",\"type\":\"cisco_sip_phone\",\"model\":\"Cisco 7940G\","
       "\"phone_security_profile\":\"Legacy Encrypted\",\"symmetric_key\":\"" K32 "\"}"),
    /* AC-E04 / E26: immutable; the same value (any case) is accepted. */
    INVALID("devices", "SEP000000007940",
            "{\"symmetric_key\":\"FFEEDDCCBBAA99887766554433221100\"}", "symmetric_key",
            "cannot be changed once set"),
    INVALID("devices", "SEP000000007940", "{\"symmetric_key\":null}", "symmetric_key",
            "cannot be cleared"),
    OK("devices", "SEP000000007940", "{\"symmetric_key\":\"00112233445566778899AABBCCDDEEFF\"}"),
    INVALID("devices", "SEP000000007940", "{\"model\":\"7905G\"}", "model",
            "while the device holds a 128-bit symmetric key"),
    INVALID("devices", "SEP000000007940", "{\"model\":\"7961G\"}", "model",
            "cannot change to \"7961G\""),
    OK("devices", "SEP000000007940", "{\"model\":\"CP-7960G\"}"),
    /* AC-E02: 7905G class, 64 hex digits. */
    INVALID("devices", NULL,
            "{\"name\":\"SEP000000007905\",\"type\":\"cisco_sip_phone\",\"model\":\"7905G\","
            "\"symmetric_key\":\"" K32 "\"}",
            "symmetric_key", "must be exactly 64 hex digits (256 bits)"),
    OK("devices", NULL,
       "{\"name\":\"SEP000000007905\",\"type\":\"cisco_sip_phone\",\"model\":\"7905G\","
       "\"symmetric_key\":\"" K64 "\"}"),
    OK("devices", NULL,
       "{\"name\":\"SEP000000007912\",\"type\":\"cisco_sip_phone\",\"model\":\"7912G\"}"),
};

static void run_step(struct fixture *f, const struct step *s, size_t index)
{
	json_t *before = fixture_snapshot(f, s->kind);
	long audit_before = fixture_audit_count(f);
	struct base_err err = {0};
	int rc = fixture_write(f, s->kind, s->key, s->body, NULL, &err);
	if (s->code == BASE_OK) {
		if (rc != 0)
			fail_msg("step %zu (%s) failed: %s", index, s->body, err.message);
		assert_int_equal(fixture_audit_count(f), audit_before + 1);
		json_decref(before);
		return;
	}
	if (rc == 0)
		fail_msg("step %zu (%s) was accepted; expected \"%s\"", index, s->body, s->message);
	if (err.code != s->code || strcmp(err.field, s->field) != 0 ||
	    !strstr(err.message, s->message))
		fail_msg("step %zu (%s): got %s field=\"%s\" \"%s\"; expected field=\"%s\" "
		         "\"...%s...\"",
		         index, s->body, base_err_code_name(err.code), err.field, err.message,
		         s->field, s->message);
	json_t *after = fixture_snapshot(f, s->kind);
	if (!json_equal(before, after))
		fail_msg("step %zu (%s) changed records although it was refused", index, s->body);
	assert_int_equal(fixture_audit_count(f), audit_before);
	json_decref(before);
	json_decref(after);
}

static void run_steps(struct fixture *f)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run_step(f, &steps[i], i);
}

static void assert_key(struct fixture *f, const char *device, const char *expect)
{
	char key[65];
	struct base_err err = {0};
	int rc = store_device_symmetric_key(f->store, device, key, &err);
	if (!expect) {
		assert_int_equal(rc, -1);
		assert_int_equal(err.code, BASE_E_NOT_FOUND);
		return;
	}
	if (rc != 0)
		fail_msg("no key for %s: %s", device, err.message);
	assert_string_equal(key, expect);
}

static void test_rules(void **state)
{
	struct fixture *f = *state;
	run_steps(f);
	/* The refused change left the first key; it is stored in upper case. */
	assert_key(f, "SEP000000007940", "00112233445566778899AABBCCDDEEFF");
	assert_key(f, "SEP000000007905",
	           "00112233445566778899AABBCCDDEEFFFFEEDDCCBBAA99887766554433221100");
	assert_key(f, "SEP000000007912", NULL);
}

/* Shown only as has_symmetric_key; "***" in the audit log; not in clear in the database. */
static void test_secret(void **state)
{
	struct fixture *f = *state;
	run_steps(f);
	json_t *dev = NULL;
	assert_int_equal(
	    store_get(f->store, store_kind_find("devices"), "SEP000000007940", &dev, NULL), 0);
	assert_true(json_is_true(json_object_get(dev, "has_symmetric_key")));
	assert_null(json_object_get(dev, "symmetric_key"));
	char *text = json_dumps(dev, 0);
	assert_null(strcasestr(text, "8899AABBCCDD"));
	free(text);
	json_decref(dev);

	struct store_query q = {.limit = 1000};
	json_t *items = NULL;
	long total = 0;
	assert_int_equal(
	    store_list(f->store, store_kind_find("audit-log"), &q, &items, &total, NULL), 0);
	text = json_dumps(items, 0);
	assert_null(strcasestr(text, "8899AABBCCDD"));
	assert_non_null(strstr(text, "\"symmetric_key\": \"***\""));
	free(text);
	json_decref(items);

	/* At rest: the column holds a sealed value, the key appears nowhere in the file. */
	store_close(f->store);
	f->store = NULL;
	FILE *db = fopen(f->db, "rb");
	assert_non_null(db);
	static char buf[4 << 20];
	size_t n = fread(buf, 1, sizeof(buf), db);
	fclose(db);
	for (size_t i = 0; i + 12 <= n; i++)
		if (strncasecmp(buf + i, "8899AABBCCDD", 12) == 0)
			fail_msg("the symmetric key is in clear in the database at byte %zu", i);
	assert_int_equal(fixture_open(f), 0);
	assert_key(f, "SEP000000007940", "00112233445566778899AABBCCDDEEFF");
}

static void generate(struct fixture *f, const char *device, json_t **out, struct base_err *err)
{
	*out = NULL;
	memset(err, 0, sizeof(*err));
	store_action_request(f->store, store_kind_find("devices"), device,
	                     STORE_GENERATE_SYMMETRIC_KEY, &test_actor, out, err);
}

/* AC-E05: generated to the model's size when empty; refused when set or not a legacy model. */
static void test_generate(void **state)
{
	struct fixture *f = *state;
	run_steps(f);
	fixture_ok(
	    f, "devices", NULL,
	    "{\"name\":\"SEP000000007960\",\"type\":\"cisco_sip_phone\",\"model\":\"7960G\"}");
	fixture_ok(
	    f, "devices", NULL,
	    "{\"name\":\"SEP000000007961\",\"type\":\"cisco_sip_phone\",\"model\":\"7961G\"}");
	json_t *out;
	struct base_err err;
	const char *cases[][2] = {{"SEP000000007960", "32"}, {"SEP000000007912", "64"}};
	for (size_t i = 0; i < 2; i++) {
		long audit = fixture_audit_count(f);
		generate(f, cases[i][0], &out, &err);
		if (!out)
			fail_msg("generate for %s: %s", cases[i][0], err.message);
		const char *hex = json_string_value(json_object_get(out, "symmetric_key"));
		assert_non_null(hex);
		assert_int_equal(strlen(hex), strtol(cases[i][1], NULL, 10));
		assert_int_equal(strspn(hex, "0123456789ABCDEF"), strlen(hex));
		assert_key(f, cases[i][0], hex);
		assert_int_equal(fixture_audit_count(f), audit + 1);
		json_decref(out);
	}
	const char *refused[][3] = {
	    {"SEP000000007940", "already has a symmetric key", "CONFLICT"},
	    {"SEP000000007961", "takes no symmetric key", "INVALID"},
	};
	for (size_t i = 0; i < 2; i++) {
		long audit = fixture_audit_count(f);
		generate(f, refused[i][0], &out, &err);
		assert_null(out);
		assert_int_equal(err.code, i == 0 ? BASE_E_CONFLICT : BASE_E_INVALID);
		assert_string_equal(err.field, "symmetric_key");
		assert_non_null(strstr(err.message, refused[i][1]));
		assert_int_equal(fixture_audit_count(f), audit);
	}
	assert_key(f, "SEP000000007940", "00112233445566778899AABBCCDDEEFF");
	assert_key(f, "SEP000000007961", NULL);
}

/* AC-E09: turning encryption off keeps the key. */
static void test_kept_when_encryption_off(void **state)
{
	struct fixture *f = *state;
	run_steps(f);
	fixture_ok(f, "phone-security-profiles", "Legacy Encrypted",
	           "{\"tftp_encrypted_config\":false}");
	fixture_ok(f, "devices", "SEP000000007940",
	           "{\"phone_security_profile\":\"Cisco SIP Phone - Standard SIP "
	           "Non-Secure Profile\"}");
	assert_key(f, "SEP000000007940", "00112233445566778899AABBCCDDEEFF");
}

/* The classes of the model field. */
static void test_model_bits(void **state)
{
	(void)state;
	const char *m128[] = {"7940G", "7960G", "7940", "Cisco 7960G", "CP-7940G", "7940g"};
	const char *m256[] = {"7905G", "7912G", "Cisco 7905", "CP-7912G"};
	const char *none[] = {"", "7961G", "7941G", "79400G", "x7940G", "7940GG", "8845"};
	for (size_t i = 0; i < sizeof(m128) / sizeof(*m128); i++)
		assert_int_equal(store_device_manual_key_bits(m128[i]), 128);
	for (size_t i = 0; i < sizeof(m256) / sizeof(*m256); i++)
		assert_int_equal(store_device_manual_key_bits(m256[i]), 256);
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
		assert_int_equal(store_device_manual_key_bits(none[i]), 0);
	assert_int_equal(store_device_manual_key_bits(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rules, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_secret, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_generate, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_kept_when_encryption_off, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test(test_model_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
