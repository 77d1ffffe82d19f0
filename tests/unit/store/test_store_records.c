/*
 * store: what records become once accepted: secrets at rest, administrators, persistence
 * across reopening, listing, references and cascades, CAPF scheduling, device actions.
 */
#include "store_fixture.h"

#include <openssl/evp.h>
#include <sqlite3.h>

static json_t *get(struct fixture *f, const char *kind, const char *key)
{
	json_t *out = NULL;
	struct base_err err = {0};
	if (store_get(f->store, store_kind_find(kind), key, &out, &err) != 0)
		fail_msg("get %s %s: %s", kind, key, err.message);
	return out;
}

/* Reads the database file as someone else would: ucmd's connection holds an exclusive lock,
 * so the store is closed around the read and opened again. */
static char *db_text(struct fixture *f, const char *sql)
{
	store_close(f->store);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(fixture_open(f), 0);
	return out;
}

static void hex_digest(const EVP_MD *md, const char *text, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n;
	EVP_Digest(text, strlen(text), d, &n, md, NULL);
	base_hex(d, n, out);
}

static void test_digest_credentials_at_rest(void **state)
{
	struct fixture *f = *state;
	fixture_ok(f, "end-users", NULL,
	           "{\"user_id\":\"tadams\",\"last_name\":\"Adams\",\"digest_credentials\":"
	           "\"Secret2026\",\"pin\":\"4321\",\"password\":\"user-password\"}");
	json_t *user = get(f, "end-users", "tadams");
	assert_true(json_is_true(json_object_get(user, "has_digest_credentials")));
	assert_true(json_is_true(json_object_get(user, "has_pin")));
	assert_null(json_object_get(user, "digest_credentials"));
	assert_null(json_object_get(user, "pin"));
	json_decref(user);

	char md5[33], sha256[65];
	hex_digest(EVP_md5(), "tadams:ccmsipline:Secret2026", md5);
	hex_digest(EVP_sha256(), "tadams:ccmsipline:Secret2026", sha256);
	char *stored = db_text(f, "SELECT digest_ha1_md5 FROM end_user");
	assert_string_equal(stored, md5);
	free(stored);
	stored = db_text(f, "SELECT digest_ha1_sha256 FROM end_user");
	assert_string_equal(stored, sha256);
	free(stored);
	/* Nothing in the database holds a secret in clear: the digest credentials are sealed,
	 * the PIN and password are scrypt hashes. (A four-digit PIN may well occur by chance
	 * inside a hash's or a ciphertext's encoding, so the PIN is checked by its form.) */
	char *row = db_text(f, "SELECT digest_credentials_secret || password_secret FROM end_user");
	assert_null(strstr(row, "Secret2026"));
	assert_null(strstr(row, "user-password"));
	free(row);
	char *pin = db_text(f, "SELECT pin_secret FROM end_user");
	assert_true(strncmp(pin, "$scrypt$", 8) == 0);
	free(pin);
	char *password = db_text(f, "SELECT password_secret FROM end_user");
	assert_true(strncmp(password, "$scrypt$", 8) == 0);
	free(password);
	char *audit = db_text(f, "SELECT after FROM audit_log ORDER BY id DESC LIMIT 1");
	assert_null(strstr(audit, "Secret2026"));
	assert_non_null(strstr(audit, "\"digest_credentials\":\"***\""));
	free(audit);
}

static void test_administrators(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	assert_false(store_admin_exists(f->store));
	assert_int_equal(store_admin_bootstrap(f->store, "admin", "short", &test_actor, &err), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_false(store_admin_exists(f->store));
	assert_int_equal(
	    store_admin_bootstrap(f->store, "admin", "long-enough-pw", &test_actor, &err), 0);
	assert_true(store_admin_exists(f->store));
	assert_int_equal(
	    store_admin_bootstrap(f->store, "other", "long-enough-pw", &test_actor, &err), -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);

	assert_int_equal(store_admin_verify(f->store, "admin", "long-enough-pw", &err), 0);
	assert_int_equal(store_admin_verify(f->store, "ADMIN", "long-enough-pw", &err), 0);
	struct base_err wrong = {0}, unknown = {0};
	assert_int_equal(store_admin_verify(f->store, "admin", "nope-nope", &wrong), -1);
	assert_int_equal(store_admin_verify(f->store, "ghost", "long-enough-pw", &unknown), -1);
	assert_int_equal(wrong.code, BASE_E_UNAUTHORIZED);
	assert_string_equal(wrong.message, unknown.message);

	/* An application user outside the administrators' group is no administrator. */
	fixture_ok(f, "app-users", NULL, "{\"user_id\":\"app\",\"password\":\"app-password\"}");
	assert_int_equal(store_admin_verify(f->store, "app", "app-password", &err), -1);

	uint64_t gen = store_credentials_generation(f->store);
	fixture_ok(f, "app-users", "admin", "{\"password\":\"a-new-password\"}");
	assert_true(store_credentials_generation(f->store) != gen);
	assert_int_equal(store_admin_verify(f->store, "admin", "long-enough-pw", &err), -1);
	assert_int_equal(store_admin_verify(f->store, "admin", "a-new-password", &err), 0);

	assert_int_equal(
	    store_delete(f->store, store_kind_find("app-users"), "admin", &test_actor, &err), -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);
	assert_non_null(strstr(err.message, "last administrator"));
}

static void test_survives_reopen(void **state)
{
	struct fixture *f = *state;
	fixture_ok(f, "end-users", NULL, "{\"user_id\":\"u1\",\"last_name\":\"One\"}");
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"2001\"}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP0011223344AA\",\"type\":\"cisco_sip_phone\",\"lines\":[{"
	           "\"directory_number\":\"2001\",\"associated_users\":[\"u1\"]}],\"web_access\":"
	           "\"disabled\"}");
	json_t *before = get(f, "devices", "SEP0011223344AA");
	char *migrations = db_text(f, "SELECT COUNT(*) FROM schema_migration");
	store_close(f->store);
	assert_int_equal(fixture_open(f), 0);
	json_t *after = get(f, "devices", "sep0011223344aa");
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	/* Reopening applies no migration twice. */
	char *n = db_text(f, "SELECT COUNT(*) FROM schema_migration");
	assert_string_equal(n, migrations);
	free(n);
	free(migrations);
}

/* The boolean of migration 010: there with its default, checked like the others, and an
 * administrator's value survives the next open. */
static void test_null_sha_parameter(void **state)
{
	struct fixture *f = *state;
	json_t *p = get(f, "service-parameters", "sip_tls_null_sha");
	assert_string_equal(json_string_value(json_object_get(p, "value")), "false");
	assert_string_equal(json_string_value(json_object_get(p, "default_value")), "false");
	assert_string_equal(json_string_value(json_object_get(p, "service")), "Cisco CallManager");
	json_decref(p);
	struct base_err err = {0};
	assert_int_equal(fixture_write(f, "service-parameters", "sip_tls_null_sha",
	                               "{\"value\":\"yes\"}", NULL, &err),
	                 -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	fixture_ok(f, "service-parameters", "sip_tls_null_sha", "{\"value\":\"true\"}");
	store_close(f->store);
	assert_int_equal(fixture_open(f), 0);
	assert_true(store_param_bool(f->store, "sip_tls_null_sha", false));
}

static void test_listing(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 25; i++) {
		char body[96];
		snprintf(body, sizeof(body), "{\"number\":\"%d\",\"alerting_name\":\"%s\"}",
		         3000 + i, i % 5 ? "sales" : "desk");
		fixture_ok(f, "directory-numbers", NULL, body);
	}
	const struct store_kind *dn = store_kind_find("directory-numbers");
	json_t *items;
	long total;
	struct base_err err = {0};
	struct store_query q = {.limit = 10, .offset = 20};
	assert_int_equal(store_list(f->store, dn, &q, &items, &total, &err), 0);
	assert_int_equal(total, 25);
	assert_int_equal(json_array_size(items), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "number")),
	                    "3020");
	json_decref(items);

	const char *filters[] = {"alerting_name", "DESK", NULL};
	struct store_query fq = {.limit = 100, .filters = filters};
	assert_int_equal(store_list(f->store, dn, &fq, &items, &total, &err), 0);
	assert_int_equal(total, 5);
	json_decref(items);

	const char *bad[] = {"password", "x", NULL};
	struct store_query bq = {.limit = 100, .filters = bad};
	assert_int_equal(store_list(f->store, dn, &bq, &items, &total, &err), -1);
	assert_int_equal(err.code, BASE_E_BAD_REQUEST);
	struct store_query zero = {.limit = 0};
	assert_int_equal(store_list(f->store, dn, &zero, &items, &total, &err), -1);
}

static void test_references_and_cascades(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	fixture_ok(f, "end-users", NULL, "{\"user_id\":\"owner\",\"last_name\":\"O\"}");
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"4001\"}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"CSFOWNER\",\"type\":\"csf\",\"owner_user_id\":\"owner\","
	           "\"lines\":[\"4001\"]}");
	fixture_ok(f, "end-users", "owner", "{\"devices\":[\"CSFOWNER\"]}");

	assert_int_equal(
	    store_delete(f->store, store_kind_find("end-users"), "owner", &test_actor, &err), -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);
	assert_non_null(strstr(err.message, "device CSFOWNER refers to it in owner_user_id"));
	assert_int_equal(
	    store_delete(f->store, store_kind_find("directory-numbers"), "4001", &test_actor, &err),
	    -1);
	assert_non_null(strstr(err.message, "line of device CSFOWNER"));

	assert_int_equal(
	    store_delete(f->store, store_kind_find("devices"), "csfowner", &test_actor, &err), 0);
	json_t *user = get(f, "end-users", "owner");
	assert_int_equal(json_array_size(json_object_get(user, "devices")), 0);
	json_decref(user);
	assert_int_equal(
	    store_delete(f->store, store_kind_find("directory-numbers"), "4001", &test_actor, &err),
	    0);
	assert_int_equal(
	    store_delete(f->store, store_kind_find("end-users"), "owner", &test_actor, &err), 0);
	char *left = db_text(f, "SELECT (SELECT COUNT(*) FROM device_line) + (SELECT COUNT(*) "
	                        "FROM end_user_device)");
	assert_string_equal(left, "0");
	free(left);
}

static void test_capf_scheduling(void **state)
{
	struct fixture *f = *state;
	fixture_ok(f, "enterprise-parameters", "capf_operation_expires_in_days",
	           "{\"value\":\"14\"}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP00112233BBCC\",\"type\":\"cisco_sip_phone\","
	           "\"capf_authentication_mode\":\"by_authentication_string\","
	           "\"capf_certificate_operation\":\"install_upgrade\","
	           "\"capf_generate_authentication_string\":true}");
	json_t *dev = get(f, "devices", "SEP00112233BBCC");
	const char *s = json_string_value(json_object_get(dev, "capf_authentication_string"));
	assert_int_equal(strlen(s), 8);
	assert_true(base_str_is_digits(s));
	assert_string_equal(json_string_value(json_object_get(dev, "capf_operation_status")),
	                    "Install/Upgrade pending");
	int64_t deadline;
	assert_int_equal(
	    base_time_parse(json_string_value(json_object_get(dev, "capf_operation_completes_by")),
	                    &deadline),
	    0);
	int64_t expected = base_time_now() + 14 * 86400;
	assert_true(deadline >= expected - 5 && deadline <= expected + 5);
	assert_int_equal(json_integer_value(json_object_get(dev, "capf_key_size")), 2048);
	json_decref(dev);

	/* A changed profile key size is mirrored on its devices. */
	fixture_ok(f, "phone-security-profiles", NULL,
	           "{\"name\":\"Desk\",\"device_type\":\"cisco_sip_phone\",\"key_size\":2048}");
	fixture_ok(f, "devices", "SEP00112233BBCC", "{\"phone_security_profile\":\"Desk\"}");
	fixture_ok(f, "phone-security-profiles", "Desk", "{\"key_size\":3072}");
	dev = get(f, "devices", "SEP00112233BBCC");
	assert_int_equal(json_integer_value(json_object_get(dev, "capf_key_size")), 3072);
	json_decref(dev);
}

static void test_device_actions(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP00112233DDEE\",\"type\":\"cisco_sip_phone\"}");
	json_t *action = NULL;
	assert_int_equal(store_device_action_request(f->store, "SEP00112233DDEE", "reset",
	                                             &test_actor, &action, &err),
	                 0);
	assert_string_equal(json_string_value(json_object_get(action, "state")), "pending");
	assert_string_equal(json_string_value(json_object_get(action, "requested_by")), "tester");
	json_decref(action);
	assert_int_equal(store_device_action_request(f->store, "SEP00112233DDEE", "explode",
	                                             &test_actor, &action, &err),
	                 -1);
	assert_int_equal(err.code, BASE_E_NOT_FOUND);
	assert_int_equal(store_device_action_request(f->store, "SEPFFFFFFFFFFFF", "reset",
	                                             &test_actor, &action, &err),
	                 -1);
	assert_int_equal(err.code, BASE_E_NOT_FOUND);
	char *audit = db_text(f, "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1");
	assert_string_equal(audit, "reset");
	free(audit);
}

static void test_schema_describes_every_kind(void **state)
{
	(void)state;
	json_t *schema = store_schema_json();
	json_t *resources = json_object_get(schema, "resources");
	size_t n = 0;
	while (store_kinds[n])
		n++;
	assert_int_equal(json_array_size(resources), n);
	size_t i;
	json_t *r;
	json_array_foreach(resources, i, r)
	{
		assert_non_null(json_string_value(json_object_get(r, "key")));
		assert_true(json_array_size(json_object_get(r, "fields")) > 0);
	}
	json_decref(schema);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_digest_credentials_at_rest),
	    T(test_administrators),
	    T(test_survives_reopen),
	    T(test_null_sha_parameter),
	    T(test_listing),
	    T(test_references_and_cascades),
	    T(test_capf_scheduling),
	    T(test_device_actions),
	    T(test_schema_describes_every_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
