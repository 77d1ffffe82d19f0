/*
 * store: every piece of configuration, its validation rules, and the audit log.
 *
 * Records cross this API as JSON objects (jansson), shaped exactly as the REST API shows them,
 * so the admin layer, bulk import and tests all see the same fields, rules and messages.
 * Each resource ("kind") is described by a table of fields (type, limits, default, reference)
 * plus a few functions for the rules that span fields or records. Every write is one database
 * transaction that also appends the audit entry: a change and its audit record land together
 * or not at all.
 *
 * The SQLite back end is the embedded default; the API hides SQL so another back end
 * (PostgreSQL) can sit behind the same functions.
 */
#ifndef UCM_STORE_H
#define UCM_STORE_H

#include "base/base.h"

#include <jansson.h>

struct store;

/* Who asked for a change, for the audit log. */
struct store_actor {
	const char *user;   /* administrator's user ID, or "system" */
	const char *source; /* peer address, or "local" */
};

/* ---- schema ------------------------------------------------------------------------------ */

enum store_field_type {
	STORE_T_STRING,
	STORE_T_INTEGER,
	STORE_T_BOOLEAN,
	STORE_T_ENUM,
	STORE_T_STRING_LIST, /* a many-to-many link to another kind, kept in a link table */
	STORE_T_LINES,       /* a device's ordered line appearances */
	STORE_T_TIMESTAMP,   /* RFC 3339 in JSON, seconds since the epoch in the database */
	STORE_T_JSON,        /* a JSON document kept as text (audit before/after) */
};

enum store_field_flag {
	STORE_F_REQUIRED = 1 << 0,
	STORE_F_READ_ONLY = 1 << 1,  /* set by the server, refused in input */
	STORE_F_WRITE_ONLY = 1 << 2, /* a secret: accepted, never shown; shown as has_<name> */
	STORE_F_SUMMARY = 1 << 3,    /* a column of the people-facing list table */
	STORE_F_KEY = 1 << 4,        /* the record's name in URLs; unique, case-insensitive */
	STORE_F_VIRTUAL = 1 << 5,    /* input only, no column: handled by the kind's hooks */
	STORE_F_IMMUTABLE = 1 << 6,  /* may be set at creation, never changed */
	STORE_F_MASKED = 1 << 7,     /* shown to administrators, but "***" in the audit log */
};

/* A many-to-many link: rows (owner, value) in table `table`, value naming a record of
 * `target`. When the target is deleted the row goes with it, or the delete is refused. */
struct store_link {
	const char *table;
	const char *owner_col;
	const char *value_col;
	const char *target; /* kind name */
	bool restrict_target_delete;
};

struct store_field {
	const char *name; /* JSON name and column name */
	enum store_field_type type;
	unsigned flags;
	const char *def;           /* default, as text; NULL for none */
	long long min, max;        /* integer range, or string length range; min > max: no limit */
	const char *charset;       /* allowed characters of a string; NULL: any printable */
	const char *const *values; /* enum values, NULL-terminated */
	const char *ref;           /* a string naming a record of this kind */
	const struct store_link *link; /* STORE_T_STRING_LIST */
	const char *description;
};

struct store_kind;

/* The kinds, in the order the schema lists them; NULL-terminated. */
extern const struct store_kind *const store_kinds[];
const struct store_kind *store_kind_find(const char *name);
const char *store_kind_name(const struct store_kind *kind);
/* The field that names a record of the kind in URLs ("name", "user_id", ...). */
const char *store_kind_key_name(const struct store_kind *kind);
/* The schema of every kind, as GET /api/v1/schema shows it. */
json_t *store_schema_json(void);

/* ---- records ----------------------------------------------------------------------------- */

struct store_query {
	long limit;           /* 1..1000 */
	long offset;          /* >= 0 */
	const char **filters; /* field, value, field, value, ..., NULL */
};

int store_open(struct store **out, const char *db_path, const char *secret_key_path,
               struct base_err *err);
void store_close(struct store *store);

int store_list(struct store *store, const struct store_kind *kind, const struct store_query *q,
               json_t **items, long *total, struct base_err *err);
int store_get(struct store *store, const struct store_kind *kind, const char *key, json_t **out,
              struct base_err *err);
int store_create(struct store *store, const struct store_kind *kind, const json_t *in,
                 const struct store_actor *actor, json_t **out, struct base_err *err);
int store_update(struct store *store, const struct store_kind *kind, const char *key,
                 const json_t *patch, const struct store_actor *actor, json_t **out,
                 struct base_err *err);
int store_delete(struct store *store, const struct store_kind *kind, const char *key,
                 const struct store_actor *actor, struct base_err *err);
/* The kind's actions ("apply-config", ...), NULL-terminated, or NULL. */
const char *const *store_kind_actions(const struct store_kind *kind);
/* Which methods a kind allows: "list", "get", "create", "update", "delete". */
bool store_kind_allows(const struct store_kind *kind, const char *method);

/* The name rules of each device type (D000 §Create devices; SEP<MAC> for Cisco phones). */
int store_device_validate_name(const char *type, const char *name, struct base_err *err);

/* Records a device action (apply-config, reset, restart) for the services to carry out. */
int store_device_action_request(struct store *store, const char *device, const char *action,
                                const struct store_actor *actor, json_t **out,
                                struct base_err *err);

/* Records an action of a kind that has actions: for a device, that device; for a phone
 * security profile or SIP profile, every device that uses it (one action each, in one
 * transaction). *out says what was recorded. */
int store_action_request(struct store *store, const struct store_kind *kind, const char *key,
                         const char *action, const struct store_actor *actor, json_t **out,
                         struct base_err *err);

/* ---- what provisioning reads and writes -------------------------------------------------- */

/* A device action waiting to be carried out. */
struct store_device_action {
	int64_t id;
	char device[64];
	char action[16]; /* apply-config, reset, restart */
};

/* The pending device actions, oldest first, at most max. */
int store_device_actions_pending(struct store *store, struct store_device_action *out, size_t max,
                                 size_t *count, struct base_err *err);
/* Marks an action done or failed. */
int store_device_action_finish(struct store *store, int64_t id, bool done, struct base_err *err);
/* The password of an end user's digest credentials, for the configuration file of a device
 * that uses them. A secret: never log it, and cleanse the buffer after use.
 * BASE_E_NOT_FOUND when the user has none. */
int store_digest_password(struct store *store, const char *user_id, char *out, size_t size,
                          struct base_err *err);

/* ---- what call control reads and writes -------------------------------------------------- */

/* Bumped by every committed change of configuration, so that callers can cache what they
 * read and know when to read again. */
uint64_t store_generation(const struct store *store);

/* A device that has a given directory number as one of its lines, with what the registrar
 * and call control need to know about it. */
struct store_line_device {
	char device[64];
	char type[24];
	char owner_user_id[129];
	char digest_user[129];
	char security_mode[16]; /* non_secure, authenticated, encrypted */
	char transport[8];      /* tcp, udp, tcp_udp, tls */
	bool digest_required;
	int nonce_validity; /* seconds */
	int register_expires;
	int line_position; /* 1-based */
};

/* The devices on which `number` appears, in device-name order. */
int store_line_devices(struct store *store, const char *number, struct store_line_device *out,
                       size_t max, size_t *count, struct base_err *err);

/* HA1 of an end user's or application user's digest credentials for "MD5" or "SHA-256";
 * 0 found, BASE_E_NOT_FOUND when the user or credentials do not exist. */
int store_digest_ha1(struct store *store, const char *user_id, const char *algorithm, char out[65],
                     struct base_err *err);

struct store_registration {
	char aor[64];
	char contact[512];
	char device[64];
	char instance[128];
	char transport[8];
	char source[64];
	char user_agent[128];
	char call_id[128];
	uint32_t cseq;
	int64_t expires_at;
	int64_t registered_at;
};

/* Inserts or refreshes a binding (keyed by aor and contact) in its own transaction. */
int store_registration_put(struct store *store, const struct store_registration *reg,
                           struct base_err *err);
int store_registration_delete(struct store *store, const char *aor, const char *contact,
                              struct base_err *err);
/* Deletes the bindings that expired before `now`, then calls fn for each one left. */
int store_registration_load(struct store *store, int64_t now,
                            void (*fn)(void *arg, const struct store_registration *reg), void *arg,
                            struct base_err *err);

/* ---- administrators ---------------------------------------------------------------------- */

/* The built-in group whose application users are administrators. */
#define STORE_ADMIN_GROUP "Standard CCM Super Users"

bool store_admin_exists(struct store *store);
/* Creates the first administrator; BASE_E_CONFLICT once one exists. */
int store_admin_bootstrap(struct store *store, const char *user_id, const char *password,
                          const struct store_actor *actor, struct base_err *err);
/* 0 when user_id is an administrator and password is theirs; BASE_E_UNAUTHORIZED otherwise,
 * with the same message whichever part was wrong. */
int store_admin_verify(struct store *store, const char *user_id, const char *password,
                       struct base_err *err);
/* Changes whenever any password changes, so callers can drop cached verifications. */
uint64_t store_credentials_generation(const struct store *store);

#endif
