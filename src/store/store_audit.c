/*
 * The audit log: who changed which record, when, from where, and what it looked like before
 * and after. It is written inside the same transaction as the change it describes.
 * Records never carry secrets (write-only fields are shown as has_<name>); a secret that
 * changed appears as "***" in the after image so the change itself is visible.
 */
#include "store/store_int.h"

#include <stdlib.h>

static const struct store_field audit_fields[] = {
    {.name = "id",
     .type = STORE_T_INTEGER,
     .flags = STORE_F_KEY | STORE_F_READ_ONLY,
     .min = 1,
     .max = 0,
     .description = "Sequence number of the entry"},
    {.name = "time",
     .type = STORE_T_TIMESTAMP,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .min = 1,
     .max = 0,
     .description = "When the change was committed (UTC)"},
    {.name = "actor",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .min = 1,
     .max = 0,
     .description = "Administrator who made the change"},
    {.name = "source",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .min = 1,
     .max = 0,
     .description = "Address the request came from"},
    {.name = "action",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .min = 1,
     .max = 0,
     .description = "create, update, delete, or a device action"},
    {.name = "resource",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .min = 1,
     .max = 0,
     .description = "Kind of record changed"},
    {.name = "record_key",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .min = 1,
     .max = 0,
     .description = "Key of the record changed"},
    {.name = "before",
     .type = STORE_T_JSON,
     .flags = STORE_F_READ_ONLY,
     .min = 1,
     .max = 0,
     .description = "The record before the change (secrets masked)"},
    {.name = "after",
     .type = STORE_T_JSON,
     .flags = STORE_F_READ_ONLY,
     .min = 1,
     .max = 0,
     .description = "The record after the change (secrets masked)"},
    {0},
};

const struct store_kind store_kind_audit_log = {
    .name = "audit-log",
    .singular = "audit entry",
    .table = "audit_log",
    .fields = audit_fields,
    .methods = STORE_M_READ,
};

/* A copy of a record for the log: masked fields show only whether they are set. */
static json_t *audit_image(const struct store_kind *kind, const json_t *rec)
{
	if (!rec)
		return NULL;
	json_t *image = json_deep_copy(rec);
	for (const struct store_field *f = kind->fields; f->name; f++) {
		json_t *v = json_object_get(image, f->name);
		if ((f->flags & STORE_F_MASKED) && v && !json_is_null(v))
			json_object_set_new(image, f->name, json_string("***"));
	}
	return image;
}

int store_audit_append(struct store *s, const struct store_actor *actor, const char *action,
                       const struct store_kind *kind, const char *key, const json_t *before,
                       const json_t *after, const json_t *secrets_changed, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "INSERT INTO audit_log(time, actor, source, action, resource, record_key, before, "
	    "after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    err);
	if (!st)
		return -1;
	json_t *before_image = audit_image(kind, before);
	json_t *after_image = audit_image(kind, after);
	if (after_image && secrets_changed)
		json_object_update(after_image, (json_t *)secrets_changed);
	sqlite3_bind_int64(st, 1, base_time_now());
	sqlite3_bind_text(st, 2, actor ? actor->user : "system", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, actor ? actor->source : "local", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, kind->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, key, -1, SQLITE_TRANSIENT);
	if (before_image)
		sqlite3_bind_text(st, 7, json_dumps(before_image, JSON_COMPACT | JSON_SORT_KEYS),
		                  -1, free);
	if (after_image)
		sqlite3_bind_text(st, 8, json_dumps(after_image, JSON_COMPACT | JSON_SORT_KEYS), -1,
		                  free);
	json_decref(before_image);
	json_decref(after_image);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "writing the audit log");
	return 0;
}
