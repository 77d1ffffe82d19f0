/*
 * CAPF operations as data: the operation an administrator schedules on a device or for an
 * application instance (CAPF profile), its one-time authentication string, deadline and
 * status. The enrollment protocol that consumes them lives in pki.
 */
#include "store/store_int.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GENERATED_STRING_DIGITS 8

const char *const store_capf_authentication_modes[] = {"by_authentication_string", "by_null_string",
                                                       "by_existing_certificate_lsc",
                                                       "by_existing_certificate_mic", NULL};

const char *const store_capf_key_types[] = {"rsa", "ec_p256", "ec_p384", NULL};

int store_capf_check_key_size(const char *field, long long bits, struct base_err *err)
{
	if (bits == 512)
		return base_err_set(err, BASE_E_INVALID, field,
		                    "512-bit keys are too weak and not accepted; use 1024, 2048 "
		                    "or 3072");
	if (bits != 1024 && bits != 2048 && bits != 3072)
		return base_err_set(err, BASE_E_INVALID, field, "%s must be 1024, 2048 or 3072",
		                    field);
	return 0;
}

/* Jabber for Windows cannot enroll without a string: its registration fails (D000). */
int store_capf_check_mode(const char *field, const char *device_type, const char *mode,
                          struct base_err *err)
{
	if (strcmp(device_type, "csf") == 0 && strcmp(mode, "by_null_string") == 0)
		return base_err_set(err, BASE_E_INVALID, field,
		                    "by_null_string is not supported by Jabber for Windows (csf) "
		                    "devices: their registration would fail");
	return 0;
}

static const char *field(const char *prefix, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", prefix, name);
	return buf;
}

static const char *operation_label(const char *op)
{
	if (strcmp(op, "install_upgrade") == 0)
		return "Install/Upgrade";
	if (strcmp(op, "delete") == 0)
		return "Delete";
	return "Troubleshoot";
}

/* Is this string pending anywhere else? A string must identify one operation. */
static int string_in_use(struct store *s, const char *value, const json_t *rec,
                         struct base_err *err)
{
	const char *params[] = {value, store_json_str(rec, "name")};
	return store_db_lookup_params(
	    s,
	    "SELECT name FROM device WHERE capf_authentication_string = ?1 AND name <> ?2 "
	    "UNION ALL SELECT name FROM capf_profile WHERE capf_authentication_string = ?1 "
	    "AND name <> ?2",
	    params, 2, NULL, 0, err);
}

static int generate_string(struct store *s, const json_t *rec, char out[16], struct base_err *err)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		unsigned char bytes[GENERATED_STRING_DIGITS];
		if (RAND_bytes(bytes, sizeof(bytes)) != 1)
			return base_err_set(err, BASE_E_INTERNAL, NULL, "no randomness");
		for (int i = 0; i < GENERATED_STRING_DIGITS; i++) {
			/* 250 is the largest multiple of 10 below 256: reject above it so that
			 * every digit is equally likely. */
			while (bytes[i] >= 250)
				if (RAND_bytes(&bytes[i], 1) != 1)
					return base_err_set(err, BASE_E_INTERNAL, NULL,
					                    "no randomness");
			out[i] = (char)('0' + bytes[i] % 10);
		}
		out[GENERATED_STRING_DIGITS] = '\0';
		int used = string_in_use(s, out, rec, err);
		if (used <= 0)
			return used;
	}
	return base_err_set(err, BASE_E_INTERNAL, NULL, "could not generate a unique string");
}

static int set_string(struct store *s, json_t *rec, const json_t *input, const char *prefix,
                      struct base_err *err)
{
	char name[96], value[16];
	field(prefix, "authentication_string", name, sizeof(name));
	char gen_name[96];
	if (store_json_bool(input, field(prefix, "generate_authentication_string", gen_name,
	                                 sizeof(gen_name)))) {
		if (store_json_has(input, name))
			return base_err_set(err, BASE_E_INVALID, gen_name,
			                    "give %s or ask for one to be generated, not both",
			                    name);
		if (generate_string(s, rec, value, err) != 0)
			return -1;
		json_object_set_new(rec, name, json_string(value));
		return 0;
	}
	const char *given = store_json_str(input, name);
	if (*given) {
		int used = string_in_use(s, given, rec, err);
		if (used < 0)
			return -1;
		if (used)
			return base_err_set(err, BASE_E_INVALID, name,
			                    "this authentication string is already pending for "
			                    "another operation; choose another or generate one");
	}
	return 0;
}

static int set_deadline(struct store *s, json_t *rec, const json_t *input, bool scheduled,
                        const char *prefix, struct base_err *err)
{
	char name[96];
	field(prefix, "operation_completes_by", name, sizeof(name));
	int64_t deadline;
	if (store_json_has(input, name) && !json_is_null(json_object_get(input, name))) {
		base_time_parse(store_json_str(rec, name), &deadline);
		if (deadline <= base_time_now())
			return base_err_set(err, BASE_E_INVALID, name, "%s must be in the future",
			                    name);
		return 0;
	}
	if (!scheduled)
		return 0;
	char days[16] = "7", text[21];
	store_param_get(s, "enterprise_parameter", "capf_operation_expires_in_days", days,
	                sizeof(days));
	base_time_format(base_time_now() + (int64_t)atoi(days) * 86400, text);
	json_object_set_new(rec, name, json_string(text));
	return 0;
}

int store_capf_validate(struct store *s, json_t *rec, const json_t *before, const json_t *input,
                        const char *prefix, struct base_err *err)
{
	char op_name[96], mode_name[96], str_name[96], status_name[96], key_name[96];
	field(prefix, "certificate_operation", op_name, sizeof(op_name));
	field(prefix, "authentication_mode", mode_name, sizeof(mode_name));
	field(prefix, "authentication_string", str_name, sizeof(str_name));
	field(prefix, "operation_status", status_name, sizeof(status_name));
	field(prefix, "key_size", key_name, sizeof(key_name));

	if (store_capf_check_key_size(key_name, store_json_int(rec, key_name), err) != 0)
		return -1;
	if (set_string(s, rec, input, prefix, err) != 0)
		return -1;

	const char *op = store_json_str(rec, op_name);
	bool pending = strcmp(op, "no_pending") != 0;
	/* Scheduling anew: the operation changed, or a new string was given or generated. */
	bool scheduled = pending && (!before || strcmp(store_json_str(before, op_name), op) != 0 ||
	                             !json_equal(json_object_get(before, str_name),
	                                         json_object_get(rec, str_name)));
	if (pending && strcmp(store_json_str(rec, mode_name), "by_authentication_string") == 0 &&
	    !*store_json_str(rec, str_name))
		return base_err_set(err, BASE_E_INVALID, str_name,
		                    "%s by authentication string needs %s; give one or set "
		                    "%sgenerate_authentication_string",
		                    op, str_name, prefix);
	if (set_deadline(s, rec, input, scheduled, prefix, err) != 0)
		return -1;
	if (scheduled) {
		char status[64];
		snprintf(status, sizeof(status), "%s pending", operation_label(op));
		json_object_set_new(rec, status_name, json_string(status));
	}
	return 0;
}

/* ---- CAPF profiles of application users and end users ---- */

static const char *const user_types[] = {"application_user", "end_user", NULL};
static const char *const profile_operations[] = {"no_pending", "install_upgrade", NULL};
static const char *const profile_modes[] = {"by_authentication_string", NULL};
#define INSTANCE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

static const struct store_field capf_profile_fields[] = {
    {.name = "name",
     .type = STORE_T_STRING,
     .flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 128,
     .charset = INSTANCE_CHARS},
    {.name = "user_type",
     .type = STORE_T_ENUM,
     .flags = STORE_F_REQUIRED | STORE_F_IMMUTABLE | STORE_F_SUMMARY,
     .values = user_types},
    {.name = "user_id",
     .type = STORE_T_STRING,
     .flags = STORE_F_REQUIRED | STORE_F_IMMUTABLE | STORE_F_SUMMARY,
     .min = 1,
     .max = 128},
    {.name = "instance_id",
     .type = STORE_T_STRING,
     .flags = STORE_F_REQUIRED | STORE_F_IMMUTABLE | STORE_F_SUMMARY,
     .min = 1,
     .max = 128,
     .charset = INSTANCE_CHARS,
     .description = "One per running instance of the application; unique for the user"},
    {.name = "capf_certificate_operation",
     .type = STORE_T_ENUM,
     .flags = STORE_F_SUMMARY,
     .values = profile_operations,
     .def = "no_pending"},
    {.name = "capf_authentication_mode",
     .type = STORE_T_ENUM,
     .values = profile_modes,
     .def = "by_authentication_string"},
    STORE_CAPF_STRING_FIELDS,
    {.name = "capf_key_size", .type = STORE_T_INTEGER, .def = "2048"},
    STORE_CAPF_KEY_TYPE_FIELD,
    {.name = "capf_operation_completes_by", .type = STORE_T_TIMESTAMP},
    {.name = "capf_operation_status",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .def = "none"},
    {0},
};

static int validate_capf_profile(struct store *s, json_t *rec, const json_t *before,
                                 const json_t *input, struct base_err *err)
{
	const char *user_type = store_json_str(rec, "user_type");
	const char *user_kind = strcmp(user_type, "end_user") == 0 ? "end-users" : "app-users";
	int found = store_record_exists(s, user_kind, store_json_str(rec, "user_id"), err);
	if (found < 0)
		return -1;
	if (!found)
		return base_err_set(err, BASE_E_INVALID, "user_id", "%s %s does not exist",
		                    store_kind_find(user_kind)->singular,
		                    store_json_str(rec, "user_id"));
	if (!before) {
		const char *params[] = {user_type, store_json_str(rec, "user_id"),
		                        store_json_str(rec, "instance_id")};
		found = store_db_lookup_params(s,
		                               "SELECT name FROM capf_profile WHERE user_type = ?1 "
		                               "AND user_id = ?2 AND instance_id = ?3",
		                               params, 3, NULL, 0, err);
		if (found < 0)
			return -1;
		if (found)
			return base_err_set(err, BASE_E_INVALID, "instance_id",
			                    "user %s already has a CAPF profile for instance %s",
			                    store_json_str(rec, "user_id"),
			                    store_json_str(rec, "instance_id"));
	}
	return store_capf_validate(s, rec, before, input, "capf_", err);
}

const struct store_kind store_kind_capf_profiles = {
    .name = "capf-profiles",
    .singular = "CAPF profile",
    .table = "capf_profile",
    .fields = capf_profile_fields,
    .methods = STORE_M_ALL,
    .validate = validate_capf_profile,
};

/* ---- what the CAPF server reads and writes ---- */

static const char *column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	return v ? (const char *)v : "";
}

/* The hex SHA-256 of a string, so wrong strings are counted per string without keeping it. */
static void string_digest(const char *value, char out[65])
{
	unsigned char md[32];
	unsigned len = sizeof(md);
	EVP_Digest(value, strlen(value), md, &len, EVP_sha256(), NULL);
	base_hex(md, sizeof(md), out);
}

static int read_wrong_strings(struct store *s, struct store_capf_op *op, struct base_err *err)
{
	char digest[65], count[16];
	string_digest(op->auth_string, digest);
	const char *params[] = {op->kind, op->name, digest};
	int found = store_db_lookup_params(s,
	                                   "SELECT wrong_strings FROM capf_attempt WHERE kind = ?1 "
	                                   "AND name = ?2 AND string_digest = ?3",
	                                   params, 3, count, sizeof(count), err);
	if (found < 0)
		return -1;
	op->wrong_strings = found ? atoi(count) : 0;
	return 0;
}

/* Reads one row of the columns both tables share, in this order. */
#define CAPF_COLUMNS                                                                               \
	"name, capf_certificate_operation, capf_authentication_mode, "                             \
	"coalesce(capf_authentication_string, ''), capf_key_size, capf_key_type, "                 \
	"coalesce(capf_operation_completes_by, 0), capf_operation_status"

/* The columns after CAPF_COLUMNS: device type, owner name, instance ID, user type. */
static int load_op(struct store *s, const char *sql, const char *name, struct store_capf_op *op,
                   char user_type[24], struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		base_strlcpy(op->name, column_text(st, 0), sizeof(op->name));
		base_strlcpy(op->operation, column_text(st, 1), sizeof(op->operation));
		base_strlcpy(op->mode, column_text(st, 2), sizeof(op->mode));
		base_strlcpy(op->auth_string, column_text(st, 3), sizeof(op->auth_string));
		op->key_size = sqlite3_column_int(st, 4);
		base_strlcpy(op->key_type, column_text(st, 5), sizeof(op->key_type));
		op->completes_by = sqlite3_column_int64(st, 6);
		base_strlcpy(op->status, column_text(st, 7), sizeof(op->status));
		base_strlcpy(op->device_type, column_text(st, 8), sizeof(op->device_type));
		base_strlcpy(op->owner.name, column_text(st, 9), sizeof(op->owner.name));
		base_strlcpy(op->owner.instance_id, column_text(st, 10),
		             sizeof(op->owner.instance_id));
		base_strlcpy(user_type, column_text(st, 11), 24);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading a CAPF operation");
}

int store_capf_op_find(struct store *s, const char *name, struct store_capf_op *op,
                       struct base_err *err)
{
	memset(op, 0, sizeof(*op));
	char user_type[24] = "";
	int found =
	    load_op(s, "SELECT " CAPF_COLUMNS ", type, name, '', '' FROM device WHERE name = ?1",
	            name, op, user_type, err);
	if (found > 0) {
		base_strlcpy(op->kind, "devices", sizeof(op->kind));
		op->owner.type = STORE_CERT_DEVICE;
	} else if (found == 0) {
		found = load_op(s,
		                "SELECT " CAPF_COLUMNS ", '', user_id, instance_id, user_type "
		                "FROM capf_profile WHERE name = ?1",
		                name, op, user_type, err);
		base_strlcpy(op->kind, "capf-profiles", sizeof(op->kind));
		op->owner.type = strcmp(user_type, "end_user") == 0 ? STORE_CERT_END_USER
		                                                    : STORE_CERT_APPLICATION_USER;
	}
	if (found < 0)
		return -1;
	if (found == 0)
		return base_err_set(err, BASE_E_NOT_FOUND, "device_name",
		                    "no device or CAPF profile is named %s", name);
	return read_wrong_strings(s, op, err);
}

static int count_wrong_string(struct store *s, const struct store_capf_op *op, struct base_err *err)
{
	char digest[65];
	string_digest(op->auth_string, digest);
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "INSERT INTO capf_attempt(kind, name, string_digest, wrong_strings) "
	    "VALUES (?1, ?2, ?3, 1) ON CONFLICT(kind, name) DO UPDATE SET "
	    "wrong_strings = CASE WHEN string_digest = ?3 THEN wrong_strings + 1 ELSE 1 END, "
	    "string_digest = ?3",
	    err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "counting a wrong string");
}

static int forget_wrong_strings(struct store *s, const struct store_capf_op *op,
                                struct base_err *err)
{
	sqlite3_stmt *st =
	    store_db_stmt(s, "DELETE FROM capf_attempt WHERE kind = ?1 AND name = ?2", err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "clearing wrong strings");
}

static int update_op(struct store *s, const struct store_kind *kind, const struct store_capf_op *op,
                     const struct store_capf_outcome *o, struct base_err *err)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "UPDATE %s SET capf_operation_status = coalesce(?2, capf_operation_status), "
	         "capf_certificate_operation = CASE WHEN ?3 THEN 'no_pending' ELSE "
	         "capf_certificate_operation END, capf_authentication_string = CASE WHEN ?4 "
	         "THEN NULL ELSE capf_authentication_string END WHERE name = ?1",
	         kind->table);
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, op->name, -1, SQLITE_TRANSIENT);
	if (o->status)
		sqlite3_bind_text(st, 2, o->status, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int(st, 3, o->complete);
	sqlite3_bind_int(st, 4, o->complete || o->clear_string);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "recording a CAPF outcome");
}

int store_capf_op_record(struct store *s, const struct store_capf_op *op, const char *what,
                         const struct store_capf_outcome *o, const struct store_actor *actor,
                         struct base_err *err)
{
	const struct store_kind *kind = store_kind_find(op->kind);
	if (!kind)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "unknown CAPF record kind %s",
		                    op->kind);
	char action[48];
	snprintf(action, sizeof(action), "capf-%s", what);
	json_t *before = json_pack("{s:s, s:s}", "capf_operation_status", op->status,
	                           "capf_certificate_operation", op->operation);
	json_t *after = json_pack("{s:s, s:s, s:s}", "capf_operation_status",
	                          o->status ? o->status : op->status, "capf_certificate_operation",
	                          o->complete ? "no_pending" : op->operation, "reason",
	                          o->reason ? o->reason : "");
	if (o->wrong_string)
		json_object_set_new(after, "wrong_authentication_strings",
		                    json_integer(op->wrong_strings + 1));
	int rc = store_db_begin(s, err);
	if (rc == 0 && o->wrong_string)
		rc = count_wrong_string(s, op, err);
	/* A used or locked string is gone: its count goes with it, so the same digits set
	 * again later start afresh. */
	if (rc == 0 && (o->complete || o->clear_string))
		rc = forget_wrong_strings(s, op, err);
	if (rc == 0)
		rc = update_op(s, kind, op, o, err);
	if (rc == 0)
		rc = store_audit_append(s, actor, action, kind, op->name, before, after, NULL, err);
	rc = store_db_finish(s, rc, NULL, err);
	json_decref(before);
	json_decref(after);
	return rc;
}
