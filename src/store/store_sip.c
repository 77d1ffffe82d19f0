/*
 * What call control reads from and writes to the store: the devices behind a directory
 * number, digest HA1s, and SIP registrations.
 *
 * Registrations are written through one statement each (an upsert), which SQLite makes
 * atomic on its own, so a binding is either stored whole or not at all, and its 200 OK is
 * sent only after the write returned. They are written with synchronous=NORMAL: in WAL mode
 * a committed write then survives a crash or kill -9 of ucmd (what the registrar promises),
 * and only an operating-system crash could lose the latest ones, which phones re-register
 * anyway. Configuration keeps synchronous=FULL. Without this, the fdatasync of every
 * REGISTER was most of its cost and capped the registrar at ~2000 per second.
 */
#include "store/store_int.h"

#include <string.h>

uint64_t store_generation(const struct store *s)
{
	return s->generation;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	base_strlcpy(out, v ? (const char *)v : "", size);
}

int store_line_devices(struct store *s, const char *number, struct store_line_device *out,
                       size_t max, size_t *count, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "SELECT d.name, d.type, COALESCE(d.owner_user_id, ''), COALESCE(d.digest_user, ''), "
	    "p.device_security_mode, p.transport, p.enable_digest_authentication, "
	    "p.nonce_validity_time, sp.timer_register_expires, l.position "
	    "FROM device_line l JOIN device d ON d.name = l.device "
	    "JOIN phone_security_profile p ON p.name = d.phone_security_profile "
	    "JOIN sip_profile sp ON sp.name = d.sip_profile "
	    "WHERE l.directory_number = ?1 ORDER BY d.name COLLATE NOCASE",
	    err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
	*count = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *count < max) {
		struct store_line_device *d = &out[(*count)++];
		column_copy(st, 0, d->device, sizeof(d->device));
		column_copy(st, 1, d->type, sizeof(d->type));
		column_copy(st, 2, d->owner_user_id, sizeof(d->owner_user_id));
		column_copy(st, 3, d->digest_user, sizeof(d->digest_user));
		column_copy(st, 4, d->security_mode, sizeof(d->security_mode));
		column_copy(st, 5, d->transport, sizeof(d->transport));
		d->digest_required = sqlite3_column_int(st, 6) != 0;
		d->nonce_validity = sqlite3_column_int(st, 7);
		d->register_expires = sqlite3_column_int(st, 8);
		d->line_position = sqlite3_column_int(st, 9);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(s, err, "reading the devices of a line");
	return 0;
}

int store_digest_ha1(struct store *s, const char *user_id, const char *algorithm, char out[65],
                     struct base_err *err)
{
	bool md5 = strcmp(algorithm, "MD5") == 0;
	const char *sql =
	    md5 ? "SELECT digest_ha1_md5 FROM end_user WHERE user_id = ?1 AND digest_ha1_md5 IS "
	          "NOT NULL UNION ALL SELECT digest_ha1_md5 FROM app_user WHERE user_id = ?1 "
	          "AND digest_ha1_md5 IS NOT NULL"
	        : "SELECT digest_ha1_sha256 FROM end_user WHERE user_id = ?1 AND "
	          "digest_ha1_sha256 IS NOT NULL UNION ALL SELECT digest_ha1_sha256 FROM app_user "
	          "WHERE user_id = ?1 AND digest_ha1_sha256 IS NOT NULL";
	int found = store_db_lookup(s, sql, user_id, out, 65, err);
	if (found < 0)
		return -1;
	if (!found)
		return base_err_set(err, BASE_E_NOT_FOUND, "user_id",
		                    "no digest credentials for %s", user_id);
	return 0;
}

/* Runs a registration write with the lighter durability, then restores FULL. */
static int with_normal_sync(struct store *s, sqlite3_stmt *st, const char *what,
                            struct base_err *err)
{
	sqlite3_stmt *normal = store_db_stmt(s, "PRAGMA synchronous=NORMAL", err);
	if (!normal)
		return -1;
	sqlite3_step(normal);
	sqlite3_reset(normal);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_stmt *full = store_db_stmt(s, "PRAGMA synchronous=FULL", NULL);
	if (full) {
		sqlite3_step(full);
		sqlite3_reset(full);
	}
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, what);
}

int store_registration_put(struct store *s, const struct store_registration *r,
                           struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "INSERT INTO registration(aor, contact, device, instance, transport, source, "
	    "user_agent, call_id, cseq, expires_at, registered_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(aor, contact) DO UPDATE SET device = ?3, "
	    "instance = ?4, transport = ?5, source = ?6, user_agent = ?7, call_id = ?8, cseq = "
	    "?9, expires_at = ?10",
	    err);
	if (!st)
		return -1;
	const char *texts[] = {r->aor,       r->contact, r->device,     r->instance,
	                       r->transport, r->source,  r->user_agent, r->call_id};
	for (int i = 0; i < 8; i++)
		sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, r->cseq);
	sqlite3_bind_int64(st, 10, r->expires_at);
	sqlite3_bind_int64(st, 11, r->registered_at);
	return with_normal_sync(s, st, "storing a registration", err);
}

int store_registration_delete(struct store *s, const char *aor, const char *contact,
                              struct base_err *err)
{
	sqlite3_stmt *st =
	    store_db_stmt(s, "DELETE FROM registration WHERE aor = ?1 AND contact = ?2", err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, aor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, contact, -1, SQLITE_TRANSIENT);
	return with_normal_sync(s, st, "deleting a registration", err);
}

int store_registration_load(struct store *s, int64_t now,
                            void (*fn)(void *arg, const struct store_registration *reg), void *arg,
                            struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s, "DELETE FROM registration WHERE expires_at < ?1", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "expiring registrations");
	st = store_db_stmt(s,
	                   "SELECT aor, contact, device, instance, transport, source, user_agent, "
	                   "call_id, cseq, expires_at, registered_at FROM registration ORDER BY id",
	                   err);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_registration r = {0};
		column_copy(st, 0, r.aor, sizeof(r.aor));
		column_copy(st, 1, r.contact, sizeof(r.contact));
		column_copy(st, 2, r.device, sizeof(r.device));
		column_copy(st, 3, r.instance, sizeof(r.instance));
		column_copy(st, 4, r.transport, sizeof(r.transport));
		column_copy(st, 5, r.source, sizeof(r.source));
		column_copy(st, 6, r.user_agent, sizeof(r.user_agent));
		column_copy(st, 7, r.call_id, sizeof(r.call_id));
		r.cseq = (uint32_t)sqlite3_column_int64(st, 8);
		r.expires_at = sqlite3_column_int64(st, 9);
		r.registered_at = sqlite3_column_int64(st, 10);
		fn(arg, &r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "loading registrations");
}

/* ---- the read-only resource of the API ---- */

static const struct store_field registration_fields[] = {
    {.name = "id", .type = STORE_T_INTEGER, .flags = STORE_F_KEY | STORE_F_READ_ONLY},
    {.name = "aor",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .description = "Directory number registered"},
    {.name = "device", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "contact", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "transport", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "source", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "instance", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "user_agent", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "expires_at", .type = STORE_T_TIMESTAMP, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "registered_at", .type = STORE_T_TIMESTAMP, .flags = STORE_F_READ_ONLY},
    {0},
};

const struct store_kind store_kind_registrations = {
    .name = "registrations",
    .singular = "registration",
    .table = "registration",
    .fields = registration_fields,
    .methods = STORE_M_READ,
};
