/*
 * The registry of certificates the system CA issued (LSCs of devices and of application and
 * end-user instances): what was issued to whom, which one is current, which are revoked.
 * pki signs; this file only records. Rows are read-only through the generic API
 * (/api/v1/issued-certificates); they change through the functions below.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const owner_types[] = {"device", "application_user", "end_user", NULL};
static const char *const cert_states[] = {"valid", "revoked", NULL};

const char *const store_cert_revocation_reasons[] = {
    "unspecified",     "key_compromise",         "ca_compromise",    "affiliation_changed",
    "superseded",      "cessation_of_operation", "certificate_hold", "",
    "remove_from_crl", "privilege_withdrawn",    "aa_compromise",    NULL,
};

#define COLUMNS                                                                                    \
	"serial, owner_type, owner, instance_id, subject, key_type, key_bits, not_before, "        \
	"not_after, sha256_fingerprint, status, COALESCE(revoked_at, 0), "                         \
	"COALESCE(revocation_reason, ''), issued_at, issued_by, pem"

static const struct store_field issued_certificate_fields[] = {
    {.name = "serial",
     .type = STORE_T_STRING,
     .flags = STORE_F_KEY | STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "owner_type",
     .type = STORE_T_ENUM,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .values = owner_types},
    {.name = "owner",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .description = "Device name, or user ID"},
    {.name = "instance_id",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .description = "Instance of an application or end user; empty for devices"},
    {.name = "subject", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "key_type", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "key_bits", .type = STORE_T_INTEGER, .flags = STORE_F_READ_ONLY},
    {.name = "not_before", .type = STORE_T_TIMESTAMP, .flags = STORE_F_READ_ONLY},
    {.name = "not_after", .type = STORE_T_TIMESTAMP, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {.name = "sha256_fingerprint", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "status",
     .type = STORE_T_ENUM,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .values = cert_states},
    {.name = "revoked_at", .type = STORE_T_TIMESTAMP, .flags = STORE_F_READ_ONLY},
    {.name = "revocation_reason", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {.name = "issued_at", .type = STORE_T_TIMESTAMP, .flags = STORE_F_READ_ONLY},
    {.name = "issued_by",
     .type = STORE_T_STRING,
     .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY,
     .description = "capf or est"},
    {.name = "pem", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},
    {0},
};

const struct store_kind store_kind_issued_certificates = {
    .name = "issued-certificates",
    .singular = "issued certificate",
    .table = "issued_certificate",
    .fields = issued_certificate_fields,
    .methods = STORE_M_READ,
};

void store_cert_clear(struct store_cert *c)
{
	if (c) {
		free(c->pem);
		c->pem = NULL;
	}
}

const char *store_cert_owner_type_name(enum store_cert_owner_type type)
{
	return (unsigned)type <= STORE_CERT_END_USER ? owner_types[type] : "?";
}

int store_cert_owner_type_parse(const char *name, enum store_cert_owner_type *out)
{
	for (int i = 0; owner_types[i]; i++) {
		if (strcmp(owner_types[i], name) == 0) {
			*out = (enum store_cert_owner_type)i;
			return 0;
		}
	}
	return -1;
}

static bool reason_known(const char *reason)
{
	for (int i = 0; store_cert_revocation_reasons[i]; i++)
		if (reason[0] && strcmp(store_cert_revocation_reasons[i], reason) == 0)
			return true;
	return false;
}

uint64_t store_cert_revocation_generation(const struct store *s)
{
	return s->cert_revocation_generation;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	base_strlcpy(out, v ? (const char *)v : "", size);
}

static int row_read(sqlite3_stmt *st, struct store_cert *c)
{
	memset(c, 0, sizeof(*c));
	column_copy(st, 0, c->serial, sizeof(c->serial));
	char type[24];
	column_copy(st, 1, type, sizeof(type));
	store_cert_owner_type_parse(type, &c->owner.type);
	column_copy(st, 2, c->owner.name, sizeof(c->owner.name));
	column_copy(st, 3, c->owner.instance_id, sizeof(c->owner.instance_id));
	column_copy(st, 4, c->subject, sizeof(c->subject));
	column_copy(st, 5, c->key_type, sizeof(c->key_type));
	c->key_bits = sqlite3_column_int(st, 6);
	c->not_before = sqlite3_column_int64(st, 7);
	c->not_after = sqlite3_column_int64(st, 8);
	column_copy(st, 9, c->sha256_fingerprint, sizeof(c->sha256_fingerprint));
	column_copy(st, 10, c->status, sizeof(c->status));
	c->revoked_at = sqlite3_column_int64(st, 11);
	column_copy(st, 12, c->revocation_reason, sizeof(c->revocation_reason));
	c->issued_at = sqlite3_column_int64(st, 13);
	column_copy(st, 14, c->issued_by, sizeof(c->issued_by));
	const unsigned char *pem = sqlite3_column_text(st, 15);
	c->pem = strdup(pem ? (const char *)pem : "");
	return c->pem ? 0 : -1;
}

/* Steps a prepared query for one certificate: 0 found, BASE_E_NOT_FOUND, or -1. */
static int read_one(struct store *s, sqlite3_stmt *st, const char *what, struct store_cert *out,
                    struct base_err *err)
{
	int rc = sqlite3_step(st);
	int result;
	if (rc == SQLITE_ROW) {
		result = row_read(st, out) == 0
		             ? 0
		             : base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	} else if (rc == SQLITE_DONE) {
		result = base_err_set(err, BASE_E_NOT_FOUND, NULL, "%s", what);
	} else {
		result = store_db_fail(s, err, "reading a certificate");
	}
	sqlite3_reset(st);
	return result;
}

static void bind_owner(sqlite3_stmt *st, const struct store_cert_owner *o)
{
	sqlite3_bind_text(st, 1, store_cert_owner_type_name(o->type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, o->instance_id, -1, SQLITE_TRANSIENT);
}

int store_cert_current(struct store *s, const struct store_cert_owner *owner,
                       struct store_cert *out, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "SELECT " COLUMNS " FROM issued_certificate WHERE "
	                                 "owner_type = ?1 AND owner = ?2 AND instance_id = ?3 AND "
	                                 "status = 'valid' AND not_after > ?4 "
	                                 "ORDER BY issued_at DESC, id DESC LIMIT 1",
	                                 err);
	if (!st)
		return -1;
	bind_owner(st, owner);
	sqlite3_bind_int64(st, 4, base_time_now());
	char what[300];
	snprintf(what, sizeof(what), "%s %s%s%s has no valid certificate",
	         store_cert_owner_type_name(owner->type), owner->name,
	         owner->instance_id[0] ? " instance " : "", owner->instance_id);
	return read_one(s, st, what, out, err);
}

int store_cert_get(struct store *s, const char *serial, struct store_cert *out,
                   struct base_err *err)
{
	sqlite3_stmt *st =
	    store_db_stmt(s, "SELECT " COLUMNS " FROM issued_certificate WHERE serial = ?1", err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
	return read_one(s, st, "no certificate with this serial was issued", out, err);
}

/* The record the audit log shows for a certificate: everything but the PEM. */
static json_t *audit_json(const struct store_cert *c, const char *status, const char *reason)
{
	char nb[21], na[21];
	base_time_format(c->not_before, nb);
	base_time_format(c->not_after, na);
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "serial",
	              c->serial, "owner_type", store_cert_owner_type_name(c->owner.type), "owner",
	              c->owner.name, "instance_id", c->owner.instance_id, "subject", c->subject,
	              "key_type", c->key_type, "key_bits", c->key_bits, "not_before", nb,
	              "not_after", na, "status", status, "issued_by", c->issued_by);
	if (j && reason)
		json_object_set_new(j, "revocation_reason", json_string(reason));
	return j;
}

/* The audit entry goes on the owner's record (devices/SEP..., capf-profiles/...), so an
 * administrator finds every outcome of a device in one place. */
static int audit(struct store *s, const struct store_actor *actor, const char *action,
                 const struct store_cert *c, const char *status, const char *reason,
                 struct base_err *err)
{
	const struct store_kind *kind = c->owner.type == STORE_CERT_DEVICE
	                                    ? &store_kind_devices
	                                    : &store_kind_issued_certificates;
	const char *key = c->owner.type == STORE_CERT_DEVICE ? c->owner.name : c->serial;
	json_t *after = audit_json(c, status, reason);
	int rc = store_audit_append(s, actor, action, kind, key, NULL, after, NULL, err);
	json_decref(after);
	return rc;
}

/* A device's lsc_status follows whether it has a valid certificate left. */
static int update_lsc_status(struct store *s, const struct store_cert_owner *owner,
                             struct base_err *err)
{
	if (owner->type != STORE_CERT_DEVICE)
		return 0;
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "UPDATE device SET lsc_status = CASE WHEN EXISTS (SELECT 1 FROM issued_certificate "
	    "WHERE owner_type = 'device' AND owner = ?1 AND status = 'valid') THEN 'installed' "
	    "ELSE 'not_installed' END WHERE name = ?1",
	    err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, owner->name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "updating the device's LSC status");
	s->generation++;
	return 0;
}

/* Marks one valid certificate revoked, inside the caller's transaction. */
static int revoke_row(struct store *s, const struct store_cert *c, const char *reason,
                      const struct store_actor *actor, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "UPDATE issued_certificate SET status = 'revoked', "
	                                 "revoked_at = ?2, revocation_reason = ?3 "
	                                 "WHERE serial = ?1 AND status = 'valid'",
	                                 err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, c->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, base_time_now());
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "revoking a certificate");
	s->cert_revocation_generation++;
	return audit(s, actor, "revoke-certificate", c, "revoked", reason, err);
}

/* Revokes every valid certificate of owner except `keep` (may be NULL). */
static int revoke_all(struct store *s, const struct store_cert_owner *owner, const char *keep,
                      const char *reason, const struct store_actor *actor, int *count,
                      struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "SELECT " COLUMNS " FROM issued_certificate WHERE "
	                                 "owner_type = ?1 AND owner = ?2 AND instance_id = ?3 AND "
	                                 "status = 'valid' AND serial <> ?4",
	                                 err);
	if (!st)
		return -1;
	bind_owner(st, owner);
	sqlite3_bind_text(st, 4, keep ? keep : "", -1, SQLITE_TRANSIENT);
	/* Collect first: revoke_row() reuses the statement cache while this one is open. */
	struct store_cert *list = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_cert *grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown)
			break;
		list = grown;
		if (row_read(st, &list[n]) != 0)
			break;
		n++;
	}
	sqlite3_reset(st);
	int result = rc == SQLITE_DONE ? 0
	                               : base_err_set(err, BASE_E_INTERNAL, NULL,
	                                              "cannot read the owner's certificates");
	for (size_t i = 0; i < n; i++) {
		if (result == 0)
			result = revoke_row(s, &list[i], reason, actor, err);
		store_cert_clear(&list[i]);
	}
	free(list);
	if (count)
		*count = (int)n;
	return result;
}

static int insert_row(struct store *s, const struct store_cert *c, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(
	    s,
	    "INSERT INTO issued_certificate(serial, owner_type, owner, instance_id, subject, "
	    "key_type, key_bits, not_before, not_after, sha256_fingerprint, issued_at, issued_by, "
	    "pem) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	    err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, c->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, store_cert_owner_type_name(c->owner.type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->owner.name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, c->owner.instance_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, c->subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, c->key_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 7, c->key_bits);
	sqlite3_bind_int64(st, 8, c->not_before);
	sqlite3_bind_int64(st, 9, c->not_after);
	sqlite3_bind_text(st, 10, c->sha256_fingerprint, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 11, c->issued_at ? c->issued_at : base_time_now());
	sqlite3_bind_text(st, 12, c->issued_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, c->pem ? c->pem : "", -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return base_err_set(err, BASE_E_CONFLICT, "serial",
		                    "a certificate with serial %s was already issued", c->serial);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "recording a certificate");
	return 0;
}

int store_cert_add(struct store *s, const struct store_cert *c, const struct store_actor *actor,
                   struct base_err *err)
{
	if (!c->serial[0] || !c->owner.name[0] || !c->pem || !c->pem[0])
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "a certificate needs a serial, an owner and its PEM");
	if (store_db_begin(s, err) != 0)
		return -1;
	bool stored = insert_row(s, c, err) == 0 &&
	              revoke_all(s, &c->owner, c->serial, "superseded", actor, NULL, err) == 0 &&
	              audit(s, actor, "issue-certificate", c, "valid", NULL, err) == 0 &&
	              update_lsc_status(s, &c->owner, err) == 0;
	return store_db_finish(s, stored ? 0 : -1, NULL, err);
}

static int check_reason(const char *reason, struct base_err *err)
{
	if (!reason_known(reason))
		return base_err_set(
		    err, BASE_E_INVALID, "reason",
		    "reason must be an RFC 5280 reason: unspecified, key_compromise, "
		    "affiliation_changed, superseded, cessation_of_operation, "
		    "privilege_withdrawn, ...");
	return 0;
}

int store_cert_revoke(struct store *s, const char *serial, const char *reason,
                      const struct store_actor *actor, struct base_err *err)
{
	struct store_cert c;
	if (check_reason(reason, err) != 0 || store_cert_get(s, serial, &c, err) != 0)
		return -1;
	int rc = -1;
	if (strcmp(c.status, "valid") != 0) {
		base_err_set(err, BASE_E_CONFLICT, "serial", "certificate %s is already revoked",
		             c.serial);
	} else if (store_db_begin(s, err) == 0) {
		rc = revoke_row(s, &c, reason, actor, err);
		if (rc == 0)
			rc = update_lsc_status(s, &c.owner, err);
		rc = store_db_finish(s, rc, NULL, err);
	}
	store_cert_clear(&c);
	return rc;
}

int store_cert_revoke_owner(struct store *s, const struct store_cert_owner *owner,
                            const char *reason, const struct store_actor *actor, int *count,
                            struct base_err *err)
{
	if (check_reason(reason, err) != 0 || store_db_begin(s, err) != 0)
		return -1;
	bool revoked = revoke_all(s, owner, NULL, reason, actor, count, err) == 0 &&
	               update_lsc_status(s, owner, err) == 0;
	return store_db_finish(s, revoked ? 0 : -1, NULL, err);
}

int store_cert_revoked_each(struct store *s, int64_t now,
                            void (*fn)(void *arg, const char *serial, int64_t revoked_at,
                                       const char *reason),
                            void *arg, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s,
	                                 "SELECT serial, revoked_at, revocation_reason FROM "
	                                 "issued_certificate WHERE status = 'revoked' AND "
	                                 "not_after > ?1 ORDER BY revoked_at, id",
	                                 err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char serial[64], reason[32];
		column_copy(st, 0, serial, sizeof(serial));
		column_copy(st, 2, reason, sizeof(reason));
		fn(arg, serial, sqlite3_column_int64(st, 1), reason);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "reading revoked certificates");
}

static const struct store_field no_fields[] = {{0}};
static const struct store_kind certificates_resource = {.name = "certificates",
                                                        .fields = no_fields};
static const struct store_kind trust_stores_resource = {.name = "trust-stores",
                                                        .fields = no_fields};

int store_cert_audit(struct store *s, const struct store_actor *actor, const char *action,
                     const char *resource, const char *key, const json_t *detail,
                     struct base_err *err)
{
	const struct store_kind *kind =
	    strcmp(resource, "trust-stores") == 0 ? &trust_stores_resource : &certificates_resource;
	if (store_db_begin(s, err) != 0)
		return -1;
	return store_db_finish(
	    s, store_audit_append(s, actor, action, kind, key, NULL, detail, NULL, err), NULL, err);
}

static int param_text(struct store *s, const char *name, char *out, size_t size)
{
	if (store_param_get(s, "service_parameter", name, out, size) == 0)
		return 0;
	return store_param_get(s, "enterprise_parameter", name, out, size);
}

long long store_param_int(struct store *s, const char *name, long long def)
{
	char text[32], *end;
	if (param_text(s, name, text, sizeof(text)) != 0 || !text[0])
		return def;
	long long v = strtoll(text, &end, 10);
	return *end ? def : v;
}

bool store_param_bool(struct store *s, const char *name, bool def)
{
	char text[16];
	if (param_text(s, name, text, sizeof(text)) != 0)
		return def;
	return strcmp(text, "true") == 0 ? true : strcmp(text, "false") == 0 ? false : def;
}
