/* store: the lookups call control makes, and registrations written through. */
#include "store_fixture.h"

static void seed(struct fixture *f)
{
	fixture_ok(f, "end-users", NULL,
	           "{\"user_id\":\"tadams\",\"last_name\":\"Adams\",\"digest_credentials\":"
	           "\"Secret2026\"}");
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"1001\"}");
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"1002\"}");
	fixture_ok(
	    f, "phone-security-profiles", NULL,
	    "{\"name\":\"Enc\",\"device_type\":\"cisco_sip_phone\",\"device_security_mode\":"
	    "\"encrypted\",\"enable_digest_authentication\":true,\"nonce_validity_time\":300}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP001122334455\",\"type\":\"cisco_sip_phone\",\"digest_user\":"
	           "\"tadams\",\"phone_security_profile\":\"Enc\",\"lines\":[\"1002\",\"1001\"]}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"CSFTADAMS\",\"type\":\"csf\",\"owner_user_id\":\"tadams\","
	           "\"lines\":[\"1001\"]}");
}

static void test_line_devices(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct store_line_device d[4];
	size_t n;
	struct base_err err = {0};
	assert_int_equal(store_line_devices(f->store, "1001", d, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].device, "CSFTADAMS");
	assert_string_equal(d[0].security_mode, "non_secure");
	assert_false(d[0].digest_required);
	assert_int_equal(d[0].register_expires, 3600);
	assert_string_equal(d[1].device, "SEP001122334455");
	assert_string_equal(d[1].security_mode, "encrypted");
	assert_string_equal(d[1].transport, "tls");
	assert_string_equal(d[1].digest_user, "tadams");
	assert_true(d[1].digest_required);
	assert_int_equal(d[1].nonce_validity, 300);
	assert_int_equal(d[1].line_position, 2);
	assert_int_equal(store_line_devices(f->store, "9999", d, 4, &n, &err), 0);
	assert_int_equal(n, 0);
}

/* Line numbers whose FNV-1a hashes fall on the same cache slot as 2000's (the cache has 8192
 * slots and lets a line sit in four of them), so that caching them all must evict. */
static size_t colliding_numbers(char out[][8], size_t max)
{
	uint32_t want = 0;
	size_t n = 0;
	for (unsigned v = 2000; v < 1000000 && n < max; v++) {
		char s[8];
		snprintf(s, sizeof(s), "%u", v);
		uint32_t h = 2166136261u;
		for (const char *p = s; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		if (v == 2000)
			want = h & 8191;
		if ((h & 8191) == want)
			memcpy(out[n++], s, sizeof(s));
	}
	return n;
}

/* The line cache gives each line its own devices whatever it evicts on the way: lines that
 * compete for the same slots, read over and over, and read again after a configuration change. */
static void test_line_cache_collisions(void **state)
{
	struct fixture *f = *state;
	char numbers[7][8];
	assert_int_equal(colliding_numbers(numbers, 7), 7);
	for (size_t i = 0; i < 7; i++) {
		char body[160];
		snprintf(body, sizeof(body), "{\"number\":\"%s\"}", numbers[i]);
		fixture_ok(f, "directory-numbers", NULL, body);
		snprintf(body, sizeof(body),
		         "{\"name\":\"SEP0000000000%02zu\",\"type\":\"cisco_sip_phone\",\"lines\":"
		         "[\"%s\"]}",
		         i, numbers[i]);
		fixture_ok(f, "devices", NULL, body);
	}
	struct store_line_device d[2];
	size_t n;
	struct base_err err = {0};
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < 7; i++) {
			char want[16];
			snprintf(want, sizeof(want), "SEP0000000000%02zu", i);
			assert_int_equal(store_line_devices(f->store, numbers[i], d, 2, &n, &err),
			                 0);
			assert_int_equal(n, 1);
			assert_string_equal(d[0].device, want);
		}
		if (round == 1) /* a configuration change: every cached answer is stale */
			fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"555\"}");
	}
}

static void test_digest_ha1(void **state)
{
	struct fixture *f = *state;
	seed(f);
	char ha1[65];
	struct base_err err = {0};
	assert_int_equal(store_digest_ha1(f->store, "tadams", "MD5", ha1, &err), 0);
	assert_int_equal(strlen(ha1), 32);
	assert_int_equal(store_digest_ha1(f->store, "TADAMS", "SHA-256", ha1, &err), 0);
	assert_int_equal(strlen(ha1), 64);
	assert_int_equal(store_digest_ha1(f->store, "ghost", "MD5", ha1, &err), -1);
	assert_int_equal(err.code, BASE_E_NOT_FOUND);
}

static void count_cb(void *arg, const struct store_registration *r)
{
	int *n = arg;
	assert_string_equal(r->aor, "1001");
	(*n)++;
}

/* The one stored binding, as loaded at start. */
static void copy_cb(void *arg, const struct store_registration *r)
{
	*(struct store_registration *)arg = *r;
}

static void test_registrations(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct base_err err = {0};
	int64_t now = base_time_now();
	struct store_registration r = {.aor = "1001",
	                               .contact = "sip:1001@127.0.0.1:5062",
	                               .device = "CSFTADAMS",
	                               .transport = "tcp",
	                               .source = "127.0.0.1:5062",
	                               .call_id = "abc",
	                               .cseq = 1,
	                               .expires_at = now + 3600,
	                               .registered_at = now};
	uint64_t generation = store_generation(f->store);
	assert_int_equal(store_registration_put(f->store, &r, &err), 0);

	/* A refresh rewrites what changes; the binding stays one row. */
	struct store_registration refreshed = r;
	refreshed.cseq = 3;
	refreshed.expires_at = now + 7200;
	base_strlcpy(refreshed.call_id, "def", sizeof(refreshed.call_id));
	assert_int_equal(store_registration_put(f->store, &refreshed, &err), 0);
	struct store_registration loaded = {0};
	int n = 0;
	assert_int_equal(store_registration_load(f->store, now, count_cb, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_registration_load(f->store, now, copy_cb, &loaded, &err), 0);
	assert_true(loaded.id > 0);
	assert_int_equal(loaded.cseq, 3);
	assert_int_equal(loaded.expires_at, now + 7200);
	assert_string_equal(loaded.call_id, "def");
	assert_string_equal(loaded.device, "CSFTADAMS");
	/* Bindings are not configuration: folding them keeps the caches built from it. */
	assert_int_equal(store_generation(f->store), generation);
	struct store_registration old = r;
	base_strlcpy(old.contact, "sip:1001@127.0.0.1:5999", sizeof(old.contact));
	old.expires_at = now - 10;
	assert_int_equal(store_registration_put(f->store, &old, &err), 0);

	n = 0;
	assert_int_equal(store_registration_load(f->store, now, count_cb, &n, &err), 0);
	assert_int_equal(n, 1); /* the expired binding is gone */

	json_t *items = fixture_snapshot(f, "registrations");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "device")),
	                    "CSFTADAMS");
	json_decref(items);

	assert_int_equal(store_registration_delete(f->store, "1001", r.contact, &err), 0);
	n = 0;
	assert_int_equal(store_registration_load(f->store, now, count_cb, &n, &err), 0);
	assert_int_equal(n, 0);

	/* Deleting a device drops its bindings. */
	assert_int_equal(store_registration_put(f->store, &r, &err), 0);
	assert_int_equal(
	    store_delete(f->store, store_kind_find("devices"), "CSFTADAMS", &test_actor, &err), 0);
	assert_int_equal(store_registration_load(f->store, now, count_cb, &n, &err), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_line_devices),
	    T(test_line_cache_collisions),
	    T(test_digest_ha1),
	    T(test_registrations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
