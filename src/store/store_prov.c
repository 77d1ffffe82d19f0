/*
 * What provisioning reads and writes beyond the generic records: a digest user's password for
 * the configuration file, the device actions waiting to be carried out, and actions asked of
 * every device that uses a profile.
 */
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

const char *const store_profile_actions[] = {"apply-config", "reset", "restart", NULL};

int store_digest_password(struct store *s, const char *user_id, char *out, size_t size,
                          struct base_err *err)
{
	char sealed[1200];
	int found =
	    store_db_lookup(s,
	                    "SELECT digest_credentials_secret FROM end_user WHERE user_id = "
	                    "?1 AND digest_credentials_secret IS NOT NULL",
	                    user_id, sealed, sizeof(sealed), err);
	if (found <= 0)
		return found < 0 ? -1
		                 : base_err_set(err, BASE_E_NOT_FOUND, "digest_user",
		                                "end user %s has no digest credentials", user_id);
	int rc = store_secret_open(s, sealed, out, size, err);
	OPENSSL_cleanse(sealed, sizeof(sealed));
	return rc;
}

int store_device_actions_pending(struct store *s, struct store_device_action *out, size_t max,
                                 size_t *count, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "SELECT id, device, action FROM device_action WHERE state "
	                                 "= 'pending' ORDER BY id",
	                                 err);
	if (!st)
		return -1;
	*count = 0;
	int rc;
	while (*count < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_device_action *a = &out[(*count)++];
		a->id = sqlite3_column_int64(st, 0);
		base_strlcpy(a->device, (const char *)sqlite3_column_text(st, 1),
		             sizeof(a->device));
		base_strlcpy(a->action, (const char *)sqlite3_column_text(st, 2),
		             sizeof(a->action));
	}
	if (*count == max)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading pending device actions");
}

int store_device_action_finish(struct store *s, int64_t id, bool done, struct base_err *err)
{
	/* The outcome of an action is not configuration: it does not bump the generation. */
	sqlite3_stmt *st =
	    store_db_stmt(s, "UPDATE device_action SET state = ?1 WHERE id = ?2", err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, done ? "done" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "recording an action's outcome");
}

/* Records the action for every device that uses profile `name` of `column`. */
static int request_for_users(struct store *s, const struct store_kind *kind, const char *column,
                             const char *name, const char *action, const struct store_actor *actor,
                             json_t *devices, struct base_err *err)
{
	char sql[200];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO device_action(device, action, requested_at, requested_by) SELECT "
	         "name, ?1, ?2, ?3 FROM device WHERE %s = ?4 ORDER BY name",
	         column);
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, base_time_now());
	sqlite3_bind_text(st, 3, actor ? actor->user : "system", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "recording device actions");
	snprintf(sql, sizeof(sql), "SELECT name FROM device WHERE %s = ?1 ORDER BY name", column);
	if (!(st = store_db_stmt(s, sql, err)))
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(devices,
		                      json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "listing a profile's devices");
	json_t *after = json_pack("{s:s, s:O}", "action", action, "devices", devices);
	rc = store_audit_append(s, actor, action, kind, name, NULL, after, NULL, err);
	json_decref(after);
	return rc;
}

int store_action_request(struct store *s, const struct store_kind *kind, const char *key,
                         const char *action, const struct store_actor *actor, json_t **out,
                         struct base_err *err)
{
	if (kind == &store_kind_devices)
		return store_device_action_request(s, key, action, actor, out, err);
	const char *column = kind == &store_kind_phone_security_profiles ? "phone_security_profile"
	                     : kind == &store_kind_sip_profiles          ? "sip_profile"
	                                                                 : NULL;
	bool known = false;
	for (const char *const *a = store_profile_actions; column && *a; a++)
		known |= strcmp(*a, action) == 0;
	if (!known)
		return base_err_set(err, BASE_E_NOT_FOUND, NULL, "%s have no action %s", kind->name,
		                    action);
	*out = NULL;
	json_t *profile = NULL, *devices = json_array();
	if (store_db_begin(s, err) != 0) {
		json_decref(devices);
		return -1;
	}
	int rc = store_record_load(s, kind, key, &profile, err);
	if (rc == 0)
		rc = request_for_users(s, kind, column, store_json_str(profile, "name"), action,
		                       actor, devices, err);
	if (rc == 0)
		*out = json_pack("{s:s, s:s, s:O, s:i}", "action", action, "state", "pending",
		                 "devices", devices, "count", (json_int_t)json_array_size(devices));
	json_decref(profile);
	json_decref(devices);
	return store_db_finish(s, rc, out, err);
}
