/*
 * SIP profiles, phone security profiles, SIP trunk security profiles, SIP trunks and
 * directory numbers: the records that devices and trunks point at.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#define NAME_FIELD(max_length)                                                                     \
	{                                                                                          \
		.name = "name", .type = STORE_T_STRING,                                            \
		.flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY, .min = 1,               \
		.max = max_length                                                                  \
	}
#define DESCRIPTION_FIELD                                                                          \
	{                                                                                          \
		.name = "description", .type = STORE_T_STRING, .flags = STORE_F_SUMMARY,           \
		.def = "", .min = 0, .max = 128                                                    \
	}
#define BUILTIN_FIELD                                                                              \
	{                                                                                          \
		.name = "builtin", .type = STORE_T_BOOLEAN,                                        \
		.flags = STORE_F_READ_ONLY | STORE_F_SUMMARY, .def = "false"                       \
	}

static const char *const security_modes[] = {"non_secure", "authenticated", "encrypted", NULL};

/* ---- SIP profiles ---- */

static const struct store_field sip_profile_fields[] = {
    NAME_FIELD(50),
    DESCRIPTION_FIELD,
    BUILTIN_FIELD,
    {.name = "timer_register_delta",
     .type = STORE_T_INTEGER,
     .def = "5",
     .min = 0,
     .max = 32767,
     .description = "Seconds before expiry at which phones re-register"},
    {.name = "timer_register_expires",
     .type = STORE_T_INTEGER,
     .def = "3600",
     .min = 1,
     .max = 2592000,
     .description = "Registration lifetime in seconds"},
    {.name = "timer_keep_alive_expires",
     .type = STORE_T_INTEGER,
     .def = "120",
     .min = 1,
     .max = 32767,
     .description = "Keep-alive interval towards backup servers, seconds"},
    {.name = "timer_subscribe_expires",
     .type = STORE_T_INTEGER,
     .def = "120",
     .min = 1,
     .max = 2592000,
     .description = "Subscription lifetime in seconds"},
    {.name = "timer_subscribe_delta",
     .type = STORE_T_INTEGER,
     .def = "5",
     .min = 1,
     .max = 32767,
     .description = "Seconds before expiry at which phones re-subscribe"},
    {0},
};

static int validate_sip_profile(struct store *s, json_t *rec, const json_t *before,
                                const json_t *input, struct base_err *err)
{
	(void)s, (void)before, (void)input;
	if (store_json_int(rec, "timer_register_delta") >=
	    store_json_int(rec, "timer_register_expires"))
		return base_err_set(err, BASE_E_INVALID, "timer_register_delta",
		                    "timer_register_delta must be less than "
		                    "timer_register_expires");
	if (store_json_int(rec, "timer_subscribe_delta") >=
	    store_json_int(rec, "timer_subscribe_expires"))
		return base_err_set(err, BASE_E_INVALID, "timer_subscribe_delta",
		                    "timer_subscribe_delta must be less than "
		                    "timer_subscribe_expires");
	return 0;
}

const struct store_kind store_kind_sip_profiles = {
    .name = "sip-profiles",
    .singular = "SIP profile",
    .table = "sip_profile",
    .fields = sip_profile_fields,
    .methods = STORE_M_ALL,
    .actions = store_profile_actions,
    .validate = validate_sip_profile,
};

/* ---- phone security profiles ---- */

static const char *const transports[] = {"tcp", "udp", "tcp_udp", "tls", NULL};

static const struct store_field phone_security_profile_fields[] = {
    NAME_FIELD(100),
    DESCRIPTION_FIELD,
    BUILTIN_FIELD,
    {.name = "device_type",
     .type = STORE_T_ENUM,
     .flags = STORE_F_REQUIRED | STORE_F_IMMUTABLE | STORE_F_SUMMARY,
     .values = store_device_types,
     .description = "The device type the profile applies to"},
    {.name = "device_security_mode",
     .type = STORE_T_ENUM,
     .flags = STORE_F_SUMMARY,
     .values = security_modes,
     .def = "non_secure"},
    {.name = "transport",
     .type = STORE_T_ENUM,
     .flags = STORE_F_SUMMARY,
     .values = transports,
     .def = "tcp_udp",
     .description = "Forced to tls when the mode is authenticated or encrypted"},
    {.name = "tftp_encrypted_config",
     .type = STORE_T_BOOLEAN,
     .def = "false",
     .description = "Serve the configuration file encrypted (not for TCT/BOT/TAB)"},
    {.name = "enable_digest_authentication", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "exclude_digest_credentials",
     .type = STORE_T_BOOLEAN,
     .def = "false",
     .description = "Leave digest credentials out of the configuration file"},
    {.name = "nonce_validity_time",
     .type = STORE_T_INTEGER,
     .def = "600",
     .min = 60,
     .max = 86400,
     .description = "Seconds a digest nonce stays valid"},
    {.name = "capf_authentication_mode",
     .type = STORE_T_ENUM,
     .values = store_capf_authentication_modes,
     .def = "by_authentication_string"},
    {.name = "key_size",
     .type = STORE_T_INTEGER,
     .def = "2048",
     .description = "Key size for CAPF enrollment: 1024, 2048 or 3072"},
    {.name = "sip_phone_port",
     .type = STORE_T_INTEGER,
     .def = "5060",
     .min = 1,
     .max = 65535,
     .description = "UDP port of the phone (non-secure mode only)"},
    {0},
};

static int validate_phone_security_profile(struct store *s, json_t *rec, const json_t *before,
                                           const json_t *input, struct base_err *err)
{
	(void)s, (void)before;
	const char *type = store_json_str(rec, "device_type");
	bool secure = strcmp(store_json_str(rec, "device_security_mode"), "non_secure") != 0;
	if (secure) {
		if (store_json_has(input, "transport") &&
		    strcmp(store_json_str(input, "transport"), "tls") != 0)
			return base_err_set(err, BASE_E_INVALID, "transport",
			                    "transport must be tls when device_security_mode is "
			                    "%s",
			                    store_json_str(rec, "device_security_mode"));
		json_object_set_new(rec, "transport", json_string("tls"));
	}
	if (store_json_bool(rec, "tftp_encrypted_config") &&
	    (store_device_type_is_jabber_mobile(type) || strcmp(type, "generic_sip") == 0 ||
	     strcmp(type, "cti_remote_device") == 0 || strcmp(type, "mpp") == 0))
		return base_err_set(err, BASE_E_INVALID, "tftp_encrypted_config",
		                    "TFTP encrypted config is not supported for %s devices", type);
	if (store_capf_check_mode("capf_authentication_mode", type,
	                          store_json_str(rec, "capf_authentication_mode"), err) != 0)
		return -1;
	return store_capf_check_key_size("key_size", store_json_int(rec, "key_size"), err);
}

/* The CAPF key size of the devices mirrors their profile's (D000 §Phone security profile). */
static int propagate_key_size(struct store *s, const json_t *rec, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(
	    s, "UPDATE device SET capf_key_size = ?1 WHERE phone_security_profile = ?2", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, store_json_int(rec, "key_size"));
	sqlite3_bind_text(st, 2, store_json_str(rec, "name"), -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "updating devices' key size");
}

const struct store_kind store_kind_phone_security_profiles = {
    .name = "phone-security-profiles",
    .singular = "phone security profile",
    .table = "phone_security_profile",
    .fields = phone_security_profile_fields,
    .methods = STORE_M_ALL,
    .actions = store_profile_actions,
    .builtin_read_only = true,
    .validate = validate_phone_security_profile,
    .write_extra = propagate_key_size,
};

/* ---- SIP trunk security profiles ---- */

static const char *const incoming_transports[] = {"tcp_udp", "tls", NULL};
static const char *const outgoing_transports[] = {"tcp", "udp", "tls", NULL};

static const struct store_field sip_trunk_security_profile_fields[] = {
    NAME_FIELD(50),
    DESCRIPTION_FIELD,
    BUILTIN_FIELD,
    {.name = "device_security_mode",
     .type = STORE_T_ENUM,
     .flags = STORE_F_SUMMARY,
     .values = security_modes,
     .def = "non_secure"},
    {.name = "incoming_transport",
     .type = STORE_T_ENUM,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .values = incoming_transports,
     .def = "tcp_udp",
     .description = "tls in the secure modes, tcp_udp otherwise"},
    {.name = "outgoing_transport",
     .type = STORE_T_ENUM,
     .values = outgoing_transports,
     .def = "tcp",
     .description = "tcp or udp when non-secure; tls in the secure modes"},
    {.name = "enable_digest_authentication", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "nonce_validity_time", .type = STORE_T_INTEGER, .def = "600", .min = 60, .max = 86400},
    {.name = "x509_subject_name",
     .type = STORE_T_STRING,
     .def = "",
     .min = 0,
     .max = 4096,
     .description = "Accepted TLS peer subjects, separated by space, comma, ; or :"},
    {.name = "incoming_port",
     .type = STORE_T_INTEGER,
     .description = "1024-65535; defaults to 5060, or 5061 in the secure modes"},
    {.name = "enable_application_level_authorization",
     .type = STORE_T_BOOLEAN,
     .def = "false",
     .description = "Needs digest authentication"},
    {.name = "accept_presence_subscription", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "accept_out_of_dialog_refer", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "accept_unsolicited_notification", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "accept_replaces_header", .type = STORE_T_BOOLEAN, .def = "false"},
    {0},
};

/* TLS and non-TLS trunks must not share an incoming port (Table 15-1). */
static int check_port_sharing(struct store *s, const json_t *rec, struct base_err *err)
{
	char port[16], other[64];
	snprintf(port, sizeof(port), "%lld", store_json_int(rec, "incoming_port"));
	const char *params[] = {port, store_json_str(rec, "incoming_transport"),
	                        store_json_str(rec, "name")};
	int found = store_db_lookup_params(s,
	                                   "SELECT name FROM sip_trunk_security_profile WHERE "
	                                   "incoming_port = ?1 AND incoming_transport <> ?2 AND "
	                                   "name <> ?3",
	                                   params, 3, other, sizeof(other), err);
	if (found > 0)
		return base_err_set(err, BASE_E_INVALID, "incoming_port",
		                    "port %s is used by profile %s with another transport; TLS "
		                    "and non-TLS trunks cannot share a port",
		                    port, other);
	return found;
}

static int validate_trunk_profile(struct store *s, json_t *rec, const json_t *before,
                                  const json_t *input, struct base_err *err)
{
	(void)before;
	bool secure = strcmp(store_json_str(rec, "device_security_mode"), "non_secure") != 0;
	json_object_set_new(rec, "incoming_transport", json_string(secure ? "tls" : "tcp_udp"));
	const char *out = store_json_str(rec, "outgoing_transport");
	if (secure && store_json_has(input, "outgoing_transport") && strcmp(out, "tls") != 0)
		return base_err_set(err, BASE_E_INVALID, "outgoing_transport",
		                    "outgoing_transport must be tls in the secure modes");
	if (!secure && strcmp(out, "tls") == 0)
		return base_err_set(err, BASE_E_INVALID, "outgoing_transport",
		                    "outgoing_transport must be tcp or udp when non-secure");
	if (secure)
		json_object_set_new(rec, "outgoing_transport", json_string("tls"));
	json_t *port = json_object_get(rec, "incoming_port");
	if (!json_is_integer(port) || (!store_json_has(input, "incoming_port") &&
	                               store_json_has(input, "device_security_mode")))
		json_object_set_new(rec, "incoming_port", json_integer(secure ? 5061 : 5060));
	long long p = store_json_int(rec, "incoming_port");
	if (p < 1024 || p > 65535)
		return base_err_set(err, BASE_E_INVALID, "incoming_port",
		                    "incoming_port must be between 1024 and 65535");
	if (store_json_bool(rec, "enable_application_level_authorization") &&
	    !store_json_bool(rec, "enable_digest_authentication"))
		return base_err_set(err, BASE_E_INVALID, "enable_application_level_authorization",
		                    "application level authorization needs "
		                    "enable_digest_authentication");
	const char *subjects = store_json_str(rec, "x509_subject_name");
	for (const char *c = subjects; *c; c++)
		if (strchr(" ,;:", *c) && strchr(" ,;:", c[1]))
			return base_err_set(err, BASE_E_INVALID, "x509_subject_name",
			                    "separate subject names with exactly one space, comma, "
			                    "semicolon or colon");
	return check_port_sharing(s, rec, err);
}

const struct store_kind store_kind_sip_trunk_security_profiles = {
    .name = "sip-trunk-security-profiles",
    .singular = "SIP trunk security profile",
    .table = "sip_trunk_security_profile",
    .fields = sip_trunk_security_profile_fields,
    .methods = STORE_M_ALL,
    .builtin_read_only = true,
    .validate = validate_trunk_profile,
};

/* ---- SIP trunks ---- */

static const struct store_field sip_trunk_fields[] = {
    {.name = "name",
     .type = STORE_T_STRING,
     .flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 50,
     .charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"},
    DESCRIPTION_FIELD,
    {.name = "destination_address",
     .type = STORE_T_STRING,
     .flags = STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 255,
     .charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
     .description = "Host name or IP address of the peer"},
    {.name = "destination_port",
     .type = STORE_T_INTEGER,
     .flags = STORE_F_SUMMARY,
     .def = "5060",
     .min = 1,
     .max = 65535},
    {.name = "sip_trunk_security_profile",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "Non Secure SIP Trunk Profile",
     .ref = "sip-trunk-security-profiles"},
    {.name = "sip_profile",
     .type = STORE_T_STRING,
     .def = "Standard SIP Profile",
     .ref = "sip-profiles"},
    {0},
};

static int validate_trunk(struct store *s, json_t *rec, const json_t *before, const json_t *input,
                          struct base_err *err)
{
	(void)s, (void)before, (void)input;
	if (!*store_json_str(rec, "sip_trunk_security_profile"))
		return base_err_set(err, BASE_E_INVALID, "sip_trunk_security_profile",
		                    "every SIP trunk needs a SIP trunk security profile");
	if (!*store_json_str(rec, "sip_profile"))
		return base_err_set(err, BASE_E_INVALID, "sip_profile",
		                    "every SIP trunk needs a SIP profile");
	return 0;
}

const struct store_kind store_kind_sip_trunks = {
    .name = "sip-trunks",
    .singular = "SIP trunk",
    .table = "sip_trunk",
    .fields = sip_trunk_fields,
    .methods = STORE_M_ALL,
    .validate = validate_trunk,
};

/* ---- directory numbers ---- */

static const struct store_field directory_number_fields[] = {
    {.name = "number",
     .type = STORE_T_STRING,
     .flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 24,
     .charset = "0123456789*#+",
     .description = "Digits, * and #, optionally a leading +"},
    DESCRIPTION_FIELD,
    {.name = "alerting_name",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "",
     .min = 0,
     .max = 50,
     .description = "Name shown to the called party"},
    {0},
};

static int validate_directory_number(struct store *s, json_t *rec, const json_t *before,
                                     const json_t *input, struct base_err *err)
{
	(void)s, (void)before, (void)input;
	const char *plus = strchr(store_json_str(rec, "number"), '+');
	if (plus && plus != store_json_str(rec, "number"))
		return base_err_set(err, BASE_E_INVALID, "number",
		                    "+ may only start a directory number");
	if (plus && !plus[1])
		return base_err_set(err, BASE_E_INVALID, "number", "number needs digits after +");
	return 0;
}

static int check_delete_directory_number(struct store *s, const json_t *rec, struct base_err *err)
{
	char device[64];
	int found = store_db_lookup(s,
	                            "SELECT device FROM device_line WHERE directory_number = ?1 "
	                            "LIMIT 1",
	                            store_json_str(rec, "number"), device, sizeof(device), err);
	if (found < 0)
		return -1;
	if (found)
		return base_err_set(err, BASE_E_CONFLICT, NULL,
		                    "directory number %s is in use: it is a line of device %s",
		                    store_json_str(rec, "number"), device);
	return 0;
}

const struct store_kind store_kind_directory_numbers = {
    .name = "directory-numbers",
    .singular = "directory number",
    .table = "directory_number",
    .fields = directory_number_fields,
    .methods = STORE_M_ALL,
    .validate = validate_directory_number,
    .check_delete = check_delete_directory_number,
};
