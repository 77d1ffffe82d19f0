/*
 * Devices: desk phones, Jabber softphones, CTI remote devices, multiplatform and third-party
 * SIP phones; their lines, CAPF operation, hardening settings, and the actions (apply config,
 * reset, restart) administrators ask for.
 */
#include "store/store_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define UPPER_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define ALNUM_CHARS      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define MAX_LINES        64

const char *const store_device_types[] = {"cisco_sip_phone",   "csf", "tct",         "bot", "tab",
                                          "cti_remote_device", "mpp", "generic_sip", NULL};
static const char *const capf_operations[] = {"no_pending", "install_upgrade", "delete",
                                              "troubleshoot", NULL};
static const char *const on_off[] = {"enabled", "disabled", NULL};
static const char *const lsc_states[] = {"not_installed", "installed", NULL};

bool store_device_type_is_jabber_mobile(const char *type)
{
	return strcmp(type, "tct") == 0 || strcmp(type, "bot") == 0 || strcmp(type, "tab") == 0;
}

bool store_device_type_is_jabber(const char *type)
{
	return strcmp(type, "csf") == 0 || store_device_type_is_jabber_mobile(type);
}

#define HARDENING(n, d)                                                                            \
	{                                                                                          \
		.name = n, .type = STORE_T_ENUM, .values = on_off, .def = "enabled",               \
		.description = d " (phone hardening; Cisco desk phones only)"                      \
	}

static const struct store_field device_fields[] = {
    {.name = "name",
     .type = STORE_T_STRING,
     .flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 50,
     .description = "SEP<MAC> for Cisco phones; CSF/TCT/BOT/TAB names per Jabber rules"},
    {.name = "type",
     .type = STORE_T_ENUM,
     .flags = STORE_F_REQUIRED | STORE_F_IMMUTABLE | STORE_F_SUMMARY,
     .values = store_device_types,
     .description = "Kind of device"},
    {.name = "model", .type = STORE_T_STRING, .def = "", .min = 0, .max = 64},
    {.name = "description",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "",
     .min = 0,
     .max = 128},
    {.name = "owner_user_id",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .ref = "end-users",
     .description = "End user who owns the device"},
    {.name = "phone_security_profile",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .ref = "phone-security-profiles",
     .description = "Defaults to the built-in non-secure profile of the device type"},
    {.name = "sip_profile",
     .type = STORE_T_STRING,
     .ref = "sip-profiles",
     .description = "Defaults to the standard profile (mobile profile for TCT/BOT/TAB)"},
    {.name = "digest_user",
     .type = STORE_T_STRING,
     .ref = "end-users",
     .description = "End user whose digest credentials the device uses"},
    {.name = "cisco_support_field",
     .type = STORE_T_STRING,
     .def = "",
     .min = 0,
     .max = 1024,
     .description = "Desktop client settings: names the group configuration file"},
    {.name = "lines",
     .type = STORE_T_LINES,
     .def = "",
     .description = "Ordered line appearances: [{directory_number, associated_users}]"},
    {.name = "capf_certificate_operation",
     .type = STORE_T_ENUM,
     .values = capf_operations,
     .def = "no_pending"},
    {.name = "capf_authentication_mode",
     .type = STORE_T_ENUM,
     .values = store_capf_authentication_modes,
     .description = "Defaults to the phone security profile's"},
    STORE_CAPF_STRING_FIELDS,
    {.name = "capf_key_size",
     .type = STORE_T_INTEGER,
     .description = "Must equal the phone security profile's key size"},
    STORE_CAPF_KEY_TYPE_FIELD,
    {.name = "capf_operation_completes_by",
     .type = STORE_T_TIMESTAMP,
     .description = "Deadline; defaults to now + capf_operation_expires_in_days"},
    {.name = "capf_operation_status",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY,
     .def = "none"},
    {.name = "lsc_status",
     .type = STORE_T_ENUM,
     .flags = STORE_F_READ_ONLY,
     .values = lsc_states,
     .def = "not_installed"},
    HARDENING("pc_port", "PC port"),
    HARDENING("settings_access", "Settings menu access"),
    HARDENING("gratuitous_arp", "Accept gratuitous ARP"),
    HARDENING("pc_voice_vlan_access", "Voice VLAN access from the PC port"),
    HARDENING("web_access", "Phone web server on port 80"),
    {.name = "disable_speakerphone", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "disable_speakerphone_and_headset", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "symmetric_key",
     .type = STORE_T_STRING,
     .flags = STORE_F_WRITE_ONLY,
     .charset = "0123456789ABCDEFabcdef",
     .description = "Manual config-encryption key of 7940G/7960G (32 hex digits) and "
                    "7905G/7912G (64 hex digits) SIP phones; write-only, cannot change once "
                    "set; or POST the generate-symmetric-key action"},
    {0},
};

static bool is_cisco_desk_phone(const char *type)
{
	return strcmp(type, "cisco_sip_phone") == 0 || strcmp(type, "mpp") == 0;
}

static bool is_upper_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("0123456789ABCDEF", s[i]))
			return false;
	return s[n] == '\0';
}

int store_device_validate_name(const char *type, const char *name, struct base_err *err)
{
	size_t len = strlen(name);
	if (is_cisco_desk_phone(type)) {
		if (strncmp(name, "SEP", 3) != 0 || !is_upper_hex(name + 3, 12))
			return base_err_set(err, BASE_E_INVALID, "name",
			                    "name of a %s device must be SEP followed by the 12 "
			                    "hex digits of its MAC address in upper case",
			                    type);
	} else if (strcmp(type, "csf") == 0) {
		if (len > 15 || !base_str_all(name, ALNUM_CHARS))
			return base_err_set(err, BASE_E_INVALID, "name",
			                    "name of a csf device must be 1 to 15 letters and "
			                    "digits");
	} else if (store_device_type_is_jabber_mobile(type)) {
		char prefix[4];
		for (int i = 0; i < 3; i++)
			prefix[i] = (char)toupper((unsigned char)type[i]);
		prefix[3] = '\0';
		if (strncmp(name, prefix, 3) != 0 || len < 4 || len > 15 ||
		    !base_str_all(name, UPPER_NAME_CHARS))
			return base_err_set(err, BASE_E_INVALID, "name",
			                    "name of a %s device must be %s followed by 1 to 12 "
			                    "of A-Z 0-9 . _ - (upper case, 15 characters at most)",
			                    type, prefix);
	} else if (strcmp(type, "cti_remote_device") == 0) {
		if (len > 15 || !base_str_all(name, ALNUM_CHARS "._-"))
			return base_err_set(err, BASE_E_INVALID, "name",
			                    "name of a cti_remote_device must be 1 to 15 of "
			                    "A-Z a-z 0-9 . _ -");
	} else if (!base_str_all(name, ALNUM_CHARS "._-")) {
		return base_err_set(err, BASE_E_INVALID, "name",
		                    "name of a %s device may contain only A-Z a-z 0-9 . _ -", type);
	}
	return 0;
}

static int check_domain_set(struct store *s, const char *type, struct base_err *err)
{
	char domain[256] = "";
	store_param_get(s, "enterprise_parameter", "organization_top_level_domain", domain,
	                sizeof(domain));
	if (store_device_type_is_jabber_mobile(type) && !*domain)
		return base_err_set(err, BASE_E_INVALID, "type",
		                    "set the enterprise parameter organization_top_level_domain "
		                    "before creating tct, bot or tab devices");
	return 0;
}

static int check_one_per_type(struct store *s, const json_t *rec, struct base_err *err)
{
	const char *type = store_json_str(rec, "type");
	const char *owner = store_json_str(rec, "owner_user_id");
	if (!*owner || (strcmp(type, "csf") != 0 && !store_device_type_is_jabber_mobile(type)))
		return 0;
	const char *params[] = {owner, type, store_json_str(rec, "name")};
	char other[64];
	int found = store_db_lookup_params(s,
	                                   "SELECT name FROM device WHERE owner_user_id = ?1 AND "
	                                   "type = ?2 AND name <> ?3",
	                                   params, 3, other, sizeof(other), err);
	if (found > 0)
		return base_err_set(err, BASE_E_INVALID, "owner_user_id",
		                    "end user %s already owns a %s device (%s); a user may have "
		                    "one device of each Jabber type",
		                    owner, type, other);
	return found;
}

/* Fills the profile defaults of the type and checks that the profile fits the device. */
static int apply_profiles(struct store *s, json_t *rec, const json_t *input, struct base_err *err)
{
	const char *type = store_json_str(rec, "type");
	if (!*store_json_str(rec, "sip_profile"))
		json_object_set_new(rec, "sip_profile",
		                    json_string(store_device_type_is_jabber_mobile(type)
		                                    ? "Standard SIP Profile for Mobile Device"
		                                    : "Standard SIP Profile"));
	if (!*store_json_str(rec, "phone_security_profile")) {
		char name[160];
		int found = store_db_lookup(s,
		                            "SELECT name FROM phone_security_profile WHERE "
		                            "device_type = ?1 AND builtin = 1",
		                            type, name, sizeof(name), err);
		if (found <= 0)
			return found < 0 ? -1
			                 : store_db_fail(s, err, "finding the default profile");
		json_object_set_new(rec, "phone_security_profile", json_string(name));
	}
	json_t *profile;
	if (store_record_load(s, &store_kind_phone_security_profiles,
	                      store_json_str(rec, "phone_security_profile"), &profile, err) != 0)
		return -1;
	int rc = 0;
	const char *profile_type = store_json_str(profile, "device_type");
	long long key_size = store_json_int(profile, "key_size");
	if (strcmp(profile_type, type) != 0) {
		rc = base_err_set(err, BASE_E_INVALID, "phone_security_profile",
		                  "phone security profile %s is for %s devices, not %s",
		                  store_json_str(profile, "name"), profile_type, type);
	} else if (!store_json_has(input, "capf_key_size")) {
		/* The device's key size mirrors its profile's (D000: they must be equal). */
		json_object_set_new(rec, "capf_key_size", json_integer(key_size));
	}
	if (rc == 0 && store_json_int(rec, "capf_key_size") != key_size)
		rc = base_err_set(err, BASE_E_INVALID, "capf_key_size",
		                  "capf_key_size must equal the key size of phone security "
		                  "profile %s (%lld)",
		                  store_json_str(profile, "name"), key_size);
	if (rc == 0 && json_is_null(json_object_get(rec, "capf_authentication_mode")))
		json_object_set(rec, "capf_authentication_mode",
		                json_object_get(profile, "capf_authentication_mode"));
	json_decref(profile);
	return rc;
}

static int check_hardening(const json_t *rec, const json_t *input, struct base_err *err)
{
	const char *type = store_json_str(rec, "type");
	if (is_cisco_desk_phone(type))
		return 0;
	static const char *const settings[] = {"pc_port", "settings_access", "gratuitous_arp",
	                                       "pc_voice_vlan_access", "web_access"};
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(store_json_str(rec, settings[i]), "enabled") != 0 &&
		    store_json_has(input, settings[i]))
			return base_err_set(err, BASE_E_INVALID, settings[i],
			                    "%s applies to Cisco desk phones, not %s devices",
			                    settings[i], type);
	return 0;
}

/* A device's CAPF rules beyond those it shares with CAPF profiles. */
static int check_device_capf(const json_t *rec, struct base_err *err)
{
	const char *type = store_json_str(rec, "type");
	const char *op = store_json_str(rec, "capf_certificate_operation");
	if (store_capf_check_mode("capf_authentication_mode", type,
	                          store_json_str(rec, "capf_authentication_mode"), err) != 0)
		return -1;
	if ((strcmp(op, "delete") == 0 || strcmp(op, "troubleshoot") == 0) &&
	    strcmp(store_json_str(rec, "lsc_status"), "installed") != 0)
		return base_err_set(err, BASE_E_INVALID, "capf_certificate_operation",
		                    "%s needs a certificate on the device, and it has none", op);
	return 0;
}

/* Lines arrive as ["1001", {"directory_number": "1002", "associated_users": [...]}]; they
 * are stored, and shown, in the object form. */
static int normalize_lines(struct store *s, json_t *rec, struct base_err *err)
{
	json_t *in = json_object_get(rec, "lines"), *out = json_array();
	if (json_array_size(in) > MAX_LINES) {
		json_decref(out);
		return base_err_set(err, BASE_E_INVALID, "lines", "a device has at most %d lines",
		                    MAX_LINES);
	}
	size_t i;
	json_t *item;
	json_array_foreach(in, i, item)
	{
		json_t *line = json_is_string(item) ? json_pack("{s:O, s:[]}", "directory_number",
		                                                item, "associated_users")
		                                    : json_deep_copy(item);
		json_array_append_new(out, line);
		json_t *dn = json_object_get(line, "directory_number");
		json_t *users = json_object_get(line, "associated_users");
		if (!users)
			json_object_set_new(line, "associated_users", users = json_array());
		if (!json_is_object(line) || !json_is_string(dn) || !json_is_array(users) ||
		    json_object_size(line) != 2) {
			json_decref(out);
			return base_err_set(err, BASE_E_INVALID, "lines",
			                    "line %zu must be a directory number or "
			                    "{\"directory_number\", \"associated_users\"}",
			                    i + 1);
		}
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(store_json_str(json_array_get(out, j), "directory_number"),
			               json_string_value(dn)) == 0) {
				json_decref(out);
				return base_err_set(err, BASE_E_INVALID, "lines",
				                    "directory number %s appears twice on the "
				                    "device",
				                    json_string_value(dn));
			}
		int found = store_record_exists(s, "directory-numbers", json_string_value(dn), err);
		size_t u;
		json_t *user;
		json_array_foreach(users, u, user)
		{
			if (found > 0 && !json_is_string(user))
				found = -2;
			else if (found > 0 &&
			         store_record_exists(s, "end-users", json_string_value(user),
			                             err) != 1)
				found = -3;
		}
		if (found != 1) {
			json_decref(out);
			if (found == -1)
				return -1;
			return base_err_set(err, BASE_E_INVALID, "lines",
			                    found == 0 ? "line %zu: directory number %s does not "
			                                 "exist"
			                               : "line %zu: associated_users of %s must "
			                                 "name existing end users",
			                    i + 1, json_string_value(dn));
		}
	}
	json_object_set_new(rec, "lines", out);
	return 0;
}

static int validate_device(struct store *s, json_t *rec, const json_t *before, const json_t *input,
                           struct base_err *err)
{
	const char *type = store_json_str(rec, "type");
	if (store_device_validate_name(type, store_json_str(rec, "name"), err) != 0 ||
	    (!before && check_domain_set(s, type, err) != 0) ||
	    check_one_per_type(s, rec, err) != 0 || apply_profiles(s, rec, input, err) != 0 ||
	    check_hardening(rec, input, err) != 0 || normalize_lines(s, rec, err) != 0 ||
	    check_device_capf(rec, err) != 0 ||
	    store_symkey_validate(s, rec, before, input, err) != 0)
		return -1;
	return store_capf_validate(s, rec, before, input, "capf_", err);
}

static int write_lines(struct store *s, const json_t *rec, struct base_err *err)
{
	const char *name = store_json_str(rec, "name");
	sqlite3_stmt *st = store_db_stmt(s, "DELETE FROM device_line WHERE device = ?1", err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	size_t i;
	json_t *line;
	json_array_foreach(json_object_get(rec, "lines"), i, line)
	{
		if (rc != SQLITE_DONE)
			break;
		if (!(st = store_db_stmt(s,
		                         "INSERT INTO device_line(device, position, "
		                         "directory_number) VALUES (?1, ?2, ?3)",
		                         err)))
			return -1;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, (int)i + 1);
		sqlite3_bind_text(st, 3, store_json_str(line, "directory_number"), -1,
		                  SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		size_t u;
		json_t *user;
		json_array_foreach(json_object_get(line, "associated_users"), u, user)
		{
			if (rc != SQLITE_DONE)
				break;
			if (!(st = store_db_stmt(s,
			                         "INSERT OR IGNORE INTO device_line_user(device, "
			                         "position, user_id) VALUES (?1, ?2, ?3)",
			                         err)))
				return -1;
			sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 2, (int)i + 1);
			sqlite3_bind_text(st, 3, json_string_value(user), -1, SQLITE_TRANSIENT);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
		}
	}
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "writing lines");
}

static int read_lines(struct store *s, json_t *rec, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "SELECT l.directory_number, u.user_id FROM device_line l LEFT JOIN "
	    "device_line_user u ON u.device = l.device AND u.position = l.position WHERE "
	    "l.device = ?1 ORDER BY l.position, u.user_id COLLATE NOCASE",
	    err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, store_json_str(rec, "name"), -1, SQLITE_TRANSIENT);
	json_t *lines = json_array(), *line = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *dn = (const char *)sqlite3_column_text(st, 0);
		if (!line || strcmp(store_json_str(line, "directory_number"), dn) != 0) {
			line = json_pack("{s:s, s:[]}", "directory_number", dn, "associated_users");
			json_array_append_new(lines, line);
		}
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			json_array_append_new(
			    json_object_get(line, "associated_users"),
			    json_string((const char *)sqlite3_column_text(st, 1)));
	}
	sqlite3_reset(st);
	json_object_set_new(rec, "lines", lines);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading lines");
}

static const char *const device_actions[] = {"apply-config", "reset", "restart", NULL};
/* What the API offers: the actions carried out on the phone, and one the store does. */
static const char *const device_kind_actions[] = {"apply-config", "reset", "restart",
                                                  STORE_GENERATE_SYMMETRIC_KEY, NULL};

const struct store_kind store_kind_devices = {
    .name = "devices",
    .singular = "device",
    .table = "device",
    .fields = device_fields,
    .methods = STORE_M_ALL,
    .actions = device_kind_actions,
    .validate = validate_device,
    .write_extra = write_lines,
    .read_extra = read_lines,
};

/* ---- device actions ---- */

static const char *const action_states[] = {"pending", "done", "failed", NULL};

static const struct store_field device_action_fields[] = {
    {.name = "id", .type = STORE_T_INTEGER, .flags = STORE_F_KEY | STORE_F_READ_ONLY},
    {.name = "device", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "action",
     .type = STORE_T_ENUM,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .values = device_actions},
    {.name = "state",
     .type = STORE_T_ENUM,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .values = action_states},
    {.name = "requested_at",
     .type = STORE_T_TIMESTAMP,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "requested_by", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {0},
};

const struct store_kind store_kind_device_actions = {
    .name = "device-actions",
    .singular = "device action",
    .table = "device_action",
    .fields = device_action_fields,
    .methods = STORE_M_READ,
};

static int record_action(struct store *s, const char *device, const char *action,
                         const struct store_actor *actor, json_t **out, struct base_err *err)
{
	json_t *dev;
	if (store_record_load(s, &store_kind_devices, device, &dev, err) != 0)
		return -1;
	const char *name = store_json_str(dev, "name");
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "INSERT INTO device_action(device, action, requested_at, "
	                                 "requested_by) VALUES (?1, ?2, ?3, ?4)",
	                                 err);
	int rc = -1;
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, base_time_now());
		sqlite3_bind_text(st, 4, actor ? actor->user : "system", -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_fail(s, err, "recording");
		sqlite3_reset(st);
	}
	if (rc == 0) {
		char id[32];
		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_last_insert_rowid(s->db));
		rc = store_record_load(s, &store_kind_device_actions, id, out, err);
	}
	if (rc == 0)
		rc = store_audit_append(s, actor, action, &store_kind_devices, name, NULL, *out,
		                        NULL, err);
	json_decref(dev);
	return rc;
}

int store_device_action_request(struct store *s, const char *device, const char *action,
                                const struct store_actor *actor, json_t **out, struct base_err *err)
{
	if (strcmp(action, STORE_GENERATE_SYMMETRIC_KEY) == 0)
		return store_device_generate_symmetric_key(s, device, actor, out, err);
	bool known = false;
	for (const char *const *a = device_actions; *a; a++)
		known |= strcmp(*a, action) == 0;
	if (!known)
		return base_err_set(err, BASE_E_NOT_FOUND, NULL, "devices have no action %s",
		                    action);
	*out = NULL;
	if (store_db_begin(s, err) != 0)
		return -1;
	return store_db_finish(s, record_action(s, device, action, actor, out, err), out, err);
}
