/*
 * End users, application users and user groups, and the administrators among them.
 *
 * Administrators are application users in the built-in group Standard CCM Super Users, as in
 * the system we model; there is no separate account table and no default account.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define USER_ID_CHARS     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-"
#define GROUP_CTI_ENABLED "Standard CTI Enabled"
#define GROUP_CTI_SECURE  "Standard CTI Secure Connection"
#define GROUP_CTI_SRTP    "Standard CTI Allow Reception of SRTP Key Material"

static const struct store_link end_user_groups_link = {"end_user_group", "user_id", "group_name",
                                                       "user-groups", false};
static const struct store_link end_user_devices_link = {"end_user_device", "user_id", "device",
                                                        "devices", false};
static const struct store_link app_user_groups_link = {"app_user_group", "user_id", "group_name",
                                                       "user-groups", false};
static const struct store_link app_user_devices_link = {"app_user_device", "user_id", "device",
                                                        "devices", false};

#define USER_ID_FIELD                                                                              \
	{                                                                                          \
		.name = "user_id", .type = STORE_T_STRING,                                         \
		.flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY, .min = 1, .max = 128,   \
		.charset = USER_ID_CHARS, .description = "Login name, unique among all users"      \
	}
#define PASSWORD_FIELD                                                                             \
	{                                                                                          \
		.name = "password", .type = STORE_T_STRING, .flags = STORE_F_WRITE_ONLY, .min = 8, \
		.max = 128, .description = "Password for the administration API and user sign-in"  \
	}
#define DIGEST_FIELD                                                                               \
	{                                                                                          \
		.name = "digest_credentials", .type = STORE_T_STRING, .flags = STORE_F_WRITE_ONLY, \
		.min = 8, .max = 128,                                                              \
		.charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",       \
		.description =                                                                     \
		    "SIP digest password (letters and digits); kept as HA1 per algorithm"          \
	}

static const struct store_field end_user_fields[] = {
    USER_ID_FIELD,
    {.name = "first_name",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "",
     .min = 0,
     .max = 64},
    {.name = "last_name",
     .type = STORE_T_STRING,
     .flags = STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 64},
    {.name = "email",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "",
     .min = 0,
     .max = 254},
    {.name = "primary_extension",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .ref = "directory-numbers",
     .description = "A directory number on one of the user's associated devices"},
    PASSWORD_FIELD,
    {.name = "pin",
     .type = STORE_T_STRING,
     .flags = STORE_F_WRITE_ONLY,
     .min = 4,
     .max = 20,
     .charset = "0123456789",
     .description = "Numeric PIN for phone services"},
    DIGEST_FIELD,
    {.name = "groups",
     .type = STORE_T_STRING_LIST,
     .def = "",
     .link = &end_user_groups_link,
     .description = "User groups the user is a member of"},
    {.name = "devices",
     .type = STORE_T_STRING_LIST,
     .def = "",
     .link = &end_user_devices_link,
     .description = "Associated devices"},
    {0},
};

static const struct store_field app_user_fields[] = {
    USER_ID_FIELD,
    {.name = "description",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "",
     .min = 0,
     .max = 128},
    PASSWORD_FIELD,
    DIGEST_FIELD,
    {.name = "groups",
     .type = STORE_T_STRING_LIST,
     .def = "",
     .link = &app_user_groups_link,
     .description = "User groups the user is a member of"},
    {.name = "controlled_devices",
     .type = STORE_T_STRING_LIST,
     .def = "",
     .link = &app_user_devices_link,
     .description = "Devices the application may control"},
    {.name = "accept_presence_subscription", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "accept_out_of_dialog_refer", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "accept_unsolicited_notification", .type = STORE_T_BOOLEAN, .def = "false"},
    {.name = "accept_replaces_header", .type = STORE_T_BOOLEAN, .def = "false"},
    {0},
};

static const struct store_field user_group_fields[] = {
    {.name = "name",
     .type = STORE_T_STRING,
     .flags = STORE_F_KEY | STORE_F_REQUIRED | STORE_F_SUMMARY,
     .min = 1,
     .max = 128},
    {.name = "description",
     .type = STORE_T_STRING,
     .flags = STORE_F_SUMMARY,
     .def = "",
     .min = 0,
     .max = 128},
    {.name = "builtin",
     .type = STORE_T_BOOLEAN,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .def = "false",
     .description = "Built-in groups cannot be changed or deleted"},
    {0},
};

static bool in_list(const json_t *list, const char *name)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
	{
		if (strcasecmp(json_string_value(item), name) == 0)
			return true;
	}
	return false;
}

/* The CTI groups build on each other (D003): secure connection needs CTI enabled, and SRTP
 * key material needs both. */
static int check_cti_groups(const json_t *groups, struct base_err *err)
{
	bool enabled = in_list(groups, GROUP_CTI_ENABLED);
	if (in_list(groups, GROUP_CTI_SECURE) && !enabled)
		return base_err_set(err, BASE_E_INVALID, "groups", "%s needs membership of %s too",
		                    GROUP_CTI_SECURE, GROUP_CTI_ENABLED);
	if (in_list(groups, GROUP_CTI_SRTP) && !(enabled && in_list(groups, GROUP_CTI_SECURE)))
		return base_err_set(err, BASE_E_INVALID, "groups",
		                    "%s needs membership of %s and %s too", GROUP_CTI_SRTP,
		                    GROUP_CTI_ENABLED, GROUP_CTI_SECURE);
	return 0;
}

static int check_user_id_free(struct store *s, const char *other_table, const char *user_id,
                              struct base_err *err)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT user_id FROM %s WHERE user_id = ?1", other_table);
	int found = store_db_lookup(s, sql, user_id, NULL, 0, err);
	if (found < 0)
		return -1;
	if (found)
		return base_err_set(
		    err, BASE_E_CONFLICT, "user_id", "user ID %s is already taken by %s", user_id,
		    strcmp(other_table, "app_user") == 0 ? "an application user" : "an end user");
	return 0;
}

/* A Jabber user has at most one device of each Jabber type, and is never a secure CTI user:
 * Jabber connects as a plain CTI client and fails when the user is in the secure group. */
static int check_jabber_devices(struct store *s, const json_t *rec, struct base_err *err)
{
	const char *jabber_types[] = {"csf", "tct", "bot", "tab"};
	int counts[4] = {0};
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(rec, "devices"), i, item)
	{
		char type[32];
		int found = store_db_lookup(s, "SELECT type FROM device WHERE name = ?1",
		                            json_string_value(item), type, sizeof(type), err);
		if (found < 0)
			return -1;
		for (int t = 0; t < 4; t++) {
			if (!found || strcmp(type, jabber_types[t]) != 0)
				continue;
			if (++counts[t] > 1)
				return base_err_set(err, BASE_E_INVALID, "devices",
				                    "a user may have only one %s device", type);
			if (in_list(json_object_get(rec, "groups"), GROUP_CTI_SECURE))
				return base_err_set(err, BASE_E_INVALID, "groups",
				                    "a Jabber user (device %s) must not be in %s",
				                    json_string_value(item), GROUP_CTI_SECURE);
		}
	}
	return 0;
}

/* The primary extension is one of the lines of the user's associated devices. */
static int check_primary_extension(struct store *s, const json_t *rec, struct base_err *err)
{
	const char *dn = store_json_str(rec, "primary_extension");
	if (!*dn)
		return 0;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(rec, "devices"), i, item)
	{
		const char *params[] = {json_string_value(item), dn};
		int found =
		    store_db_lookup_params(s,
		                           "SELECT 1 FROM device_line WHERE device = ?1 AND "
		                           "directory_number = ?2",
		                           params, 2, NULL, 0, err);
		if (found != 0)
			return found < 0 ? -1 : 0;
	}
	return base_err_set(err, BASE_E_INVALID, "primary_extension",
	                    "primary extension %s is not a line of any device associated with "
	                    "the user",
	                    dn);
}

static int validate_end_user(struct store *s, json_t *rec, const json_t *before,
                             const json_t *input, struct base_err *err)
{
	(void)input;
	const char *email = store_json_str(rec, "email");
	const char *at = strchr(email, '@');
	if (*email && (!at || at == email || !at[1] || strchr(at + 1, '@') || strchr(email, ' ')))
		return base_err_set(err, BASE_E_INVALID, "email",
		                    "email must look like name@example.com");
	if (!before && check_user_id_free(s, "app_user", store_json_str(rec, "user_id"), err))
		return -1;
	if (in_list(json_object_get(rec, "groups"), STORE_ADMIN_GROUP))
		return base_err_set(err, BASE_E_INVALID, "groups",
		                    "administrators are application users; %s is not for end "
		                    "users",
		                    STORE_ADMIN_GROUP);
	return check_cti_groups(json_object_get(rec, "groups"), err) ||
	       check_jabber_devices(s, rec, err) || check_primary_extension(s, rec, err);
}

static int validate_app_user(struct store *s, json_t *rec, const json_t *before,
                             const json_t *input, struct base_err *err)
{
	(void)input;
	if (!before && check_user_id_free(s, "end_user", store_json_str(rec, "user_id"), err))
		return -1;
	return check_cti_groups(json_object_get(rec, "groups"), err);
}

static int check_capf_profiles(struct store *s, const json_t *rec, const char *user_type,
                               struct base_err *err)
{
	const char *params[] = {user_type, store_json_str(rec, "user_id")};
	char name[160];
	int found = store_db_lookup_params(
	    s, "SELECT name FROM capf_profile WHERE user_type = ?1 AND user_id = ?2", params, 2,
	    name, sizeof(name), err);
	if (found > 0)
		return base_err_set(err, BASE_E_CONFLICT, NULL,
		                    "user %s is in use: CAPF profile %s belongs to the user",
		                    store_json_str(rec, "user_id"), name);
	return found;
}

static int check_delete_end_user(struct store *s, const json_t *rec, struct base_err *err)
{
	return check_capf_profiles(s, rec, "end_user", err);
}

static int check_delete_app_user(struct store *s, const json_t *rec, struct base_err *err)
{
	if (in_list(json_object_get(rec, "groups"), STORE_ADMIN_GROUP)) {
		sqlite3_stmt *st = store_db_stmt(
		    s, "SELECT COUNT(*) FROM app_user_group WHERE group_name = ?1", err);
		if (!st)
			return -1;
		sqlite3_bind_text(st, 1, STORE_ADMIN_GROUP, -1, SQLITE_STATIC);
		long admins = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_reset(st);
		if (admins <= 1)
			return base_err_set(err, BASE_E_CONFLICT, NULL,
			                    "%s is the last administrator and cannot be deleted",
			                    store_json_str(rec, "user_id"));
	}
	return check_capf_profiles(s, rec, "application_user", err);
}

const struct store_kind store_kind_end_users = {
    .name = "end-users",
    .singular = "end user",
    .table = "end_user",
    .fields = end_user_fields,
    .methods = STORE_M_ALL,
    .validate = validate_end_user,
    .check_delete = check_delete_end_user,
};

const struct store_kind store_kind_app_users = {
    .name = "app-users",
    .singular = "application user",
    .table = "app_user",
    .fields = app_user_fields,
    .methods = STORE_M_ALL,
    .validate = validate_app_user,
    .check_delete = check_delete_app_user,
};

const struct store_kind store_kind_user_groups = {
    .name = "user-groups",
    .singular = "user group",
    .table = "user_group",
    .fields = user_group_fields,
    .methods = STORE_M_ALL,
    .builtin_read_only = true,
};

/* ---- administrators ---- */

bool store_admin_exists(struct store *s)
{
	return store_db_lookup(s, "SELECT 1 FROM app_user_group WHERE group_name = ?1",
	                       STORE_ADMIN_GROUP, NULL, 0, NULL) == 1;
}

int store_admin_bootstrap(struct store *s, const char *user_id, const char *password,
                          const struct store_actor *actor, struct base_err *err)
{
	if (store_admin_exists(s))
		return base_err_set(err, BASE_E_CONFLICT, NULL,
		                    "an administrator exists already; ask them to add you");
	json_t *in = json_pack("{s:s, s:s, s:s, s:[s]}", "user_id", user_id ? user_id : "",
	                       "password", password ? password : "", "description", "Administrator",
	                       "groups", STORE_ADMIN_GROUP);
	json_t *out = NULL;
	int rc = store_create(s, &store_kind_app_users, in, actor, &out, err);
	json_decref(in);
	json_decref(out);
	return rc;
}

int store_admin_verify(struct store *s, const char *user_id, const char *password,
                       struct base_err *err)
{
	/* A hash of a password nobody knows, so that an unknown user costs the same time as a
	 * wrong password and the two cannot be told apart. */
	static const char decoy[] =
	    "$scrypt$ln=14,r=8,p=1$00000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000";
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "SELECT u.password_secret FROM app_user u JOIN "
	                                 "app_user_group g ON g.user_id = u.user_id WHERE "
	                                 "u.user_id = ?1 AND g.group_name = ?2",
	                                 err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, STORE_ADMIN_GROUP, -1, SQLITE_STATIC);
	char stored[200] = "";
	bool found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0);
	if (found)
		base_strlcpy(stored, (const char *)sqlite3_column_text(st, 0), sizeof(stored));
	sqlite3_reset(st);
	bool ok = store_secret_verify(password, found ? stored : decoy) && found;
	if (!ok)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL, "wrong user ID or password");
	return 0;
}

uint64_t store_credentials_generation(const struct store *s)
{
	return s->credentials_generation;
}
