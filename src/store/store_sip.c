/*
 * What call control reads from and writes to the store: the devices behind a directory
 * number, digest HA1s, and SIP registrations.
 *
 * Registrations are written through the registration log (store_reglog.c) and loaded from
 * the table it folds into.
 *
 * Both REGISTERs of a digest registration, and every INVITE, ask which devices have a line.
 * The answer changes only with the configuration, so it is cached per line until the next
 * configuration commit (the store's generation) in a fixed table: a slot holds one line
 * number and at most LINE_CACHE_DEVICES devices. A line may sit in any of LINE_CACHE_PROBE
 * slots from its hash, so that two lines whose hashes collide do not keep evicting each
 * other (with one slot per line, 2000 lines missed the cache 38 % of the time); only when
 * all of them hold other current lines is the first one replaced.
 */
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_LINE_CACHE_SLOTS   8192 /* a power of two */
#define STORE_LINE_CACHE_PROBE   4
#define STORE_LINE_CACHE_DEVICES 2

uint64_t store_generation(const struct store *s)
{
	return s->generation;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	base_strlcpy(out, v ? (const char *)v : "", size);
}

struct store_line_cache_slot {
	uint64_t generation; /* the store's generation + 1 when filled; 0 empty */
	char number[64];
	size_t count;
	struct store_line_device devices[STORE_LINE_CACHE_DEVICES];
};

static bool line_cache_current(const struct store *s, const struct store_line_cache_slot *slot)
{
	return slot->generation == s->generation + 1;
}

/* The slot holding number, else the one to fill with it; NULL without memory. */
static struct store_line_cache_slot *line_cache_slot(struct store *s, const char *number)
{
	if (!s->line_cache) {
		s->line_cache = calloc(STORE_LINE_CACHE_SLOTS, sizeof(*s->line_cache));
		if (!s->line_cache)
			return NULL;
	}
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)number; *p; p++)
		h = (h ^ *p) * 16777619u;
	struct store_line_cache_slot *free_slot = NULL;
	for (uint32_t i = 0; i < STORE_LINE_CACHE_PROBE; i++) {
		struct store_line_cache_slot *slot =
		    &s->line_cache[(h + i) & (STORE_LINE_CACHE_SLOTS - 1)];
		if (!line_cache_current(s, slot)) {
			if (!free_slot)
				free_slot = slot;
		} else if (strcmp(slot->number, number) == 0) {
			return slot;
		}
	}
	return free_slot ? free_slot : &s->line_cache[h & (STORE_LINE_CACHE_SLOTS - 1)];
}

static bool line_cache_get(struct store *s, const char *number, struct store_line_device *out,
                           size_t max, size_t *count)
{
	struct store_line_cache_slot *slot = line_cache_slot(s, number);
	if (!slot || !line_cache_current(s, slot) || strcmp(slot->number, number) != 0)
		return false;
	*count = slot->count < max ? slot->count : max;
	memcpy(out, slot->devices, *count * sizeof(*out));
	return true;
}

static void line_cache_put(struct store *s, const char *number,
                           const struct store_line_device *devices, size_t count)
{
	struct store_line_cache_slot *slot = line_cache_slot(s, number);
	if (!slot || count > STORE_LINE_CACHE_DEVICES || strlen(number) >= sizeof(slot->number))
		return;
	slot->generation = s->generation + 1;
	strcpy(slot->number, number);
	slot->count = count;
	memcpy(slot->devices, devices, count * sizeof(*devices));
}

int store_line_devices(struct store *s, const char *number, struct store_line_device *out,
                       size_t max, size_t *count, struct base_err *err)
{
	if (line_cache_get(s, number, out, max, count))
		return 0;
	sqlite3_stmt *st = store_db_stmt_at(
	    s, &s->line_devices_stmt,
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
	if (rc == SQLITE_DONE) /* the whole answer, not one cut at max */
		line_cache_put(s, number, out, *count);
	return 0;
}

/* Every authenticated request reads an HA1; they change only with the configuration (a
 * commit, or new credentials after a realm change), so they are kept until it changes. */
#define HA1_CACHE_MAX 65536

static void ha1_cache_clear(void *value)
{
	OPENSSL_cleanse(value, 65);
	free(value);
}

static const char *ha1_cache_get(struct store *s, const char *key)
{
	if (s->ha1_cache && (s->ha1_cache_generation != s->generation ||
	                     s->ha1_cache_credentials != s->credentials_generation ||
	                     base_hash_count(s->ha1_cache) >= HA1_CACHE_MAX)) {
		base_hash_free(s->ha1_cache, ha1_cache_clear);
		s->ha1_cache = NULL;
	}
	return s->ha1_cache ? base_hash_get(s->ha1_cache, key) : NULL;
}

static void ha1_cache_put(struct store *s, const char *key, const char *ha1)
{
	if (!s->ha1_cache) {
		if (!(s->ha1_cache = base_hash_new()))
			return;
		s->ha1_cache_generation = s->generation;
		s->ha1_cache_credentials = s->credentials_generation;
	}
	char *copy = malloc(65);
	if (!copy)
		return;
	memcpy(copy, ha1, 65);
	void *old = NULL;
	if (base_hash_put(s->ha1_cache, key, copy, &old) != 0)
		ha1_cache_clear(copy);
	else if (old)
		ha1_cache_clear(old);
}

void store_sip_caches_free(struct store *s)
{
	if (s->ha1_cache)
		base_hash_free(s->ha1_cache, ha1_cache_clear);
	s->ha1_cache = NULL;
	free(s->line_cache);
	s->line_cache = NULL;
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
	/* "MD5:" or "SHA-256:" and the user, cut like snprintf would: asked for by every digest
	 * check, and snprintf was most of the cost of a cache hit. */
	char key[160];
	struct base_text t;
	base_text_init(&t, key, sizeof(key));
	base_text_adds(&t, md5 ? "MD5:" : "SHA-256:");
	base_text_adds(&t, user_id);
	const char *cached = ha1_cache_get(s, key);
	if (cached) {
		memcpy(out, cached, 65);
		return 0;
	}
	int found = store_db_lookup(s, sql, user_id, out, 65, err);
	if (found < 0)
		return -1;
	if (!found)
		return base_err_set(err, BASE_E_NOT_FOUND, "user_id",
		                    "no digest credentials for %s", user_id);
	ha1_cache_put(s, key, out);
	return 0;
}

int store_registration_load(struct store *s, int64_t now,
                            void (*fn)(void *arg, const struct store_registration *reg), void *arg,
                            struct base_err *err)
{
	if (store_reglog_fold(s, err) != 0)
		return -1;
	sqlite3_stmt *st = store_db_stmt(s, "DELETE FROM registration WHERE expires_at < ?1", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "expiring registrations");
	st = store_db_stmt(
	    s,
	    "SELECT aor, contact, device, instance, transport, source, user_agent, "
	    "call_id, cseq, expires_at, registered_at, id FROM registration ORDER BY id",
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
		r.id = sqlite3_column_int64(st, 11);
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
    .before_read = store_reglog_fold,
};
