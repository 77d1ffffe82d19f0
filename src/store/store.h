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

/* Whether a device type is a Jabber softphone: for Windows or Linux (csf), iPhone (tct), Android
 * (bot), tablets (tab). */
bool store_device_type_is_jabber(const char *type);
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

/* Manual symmetric keys of legacy phones (requirements security-2 §3.13): the key size in
 * bits of a phone model, 128 (7940G, 7960G: AES-128) or 256 (7905G, 7912G: RC4), 0 for a
 * model that takes none. The model is the device's "model" field ("7940G", "Cisco 7940G"). */
int store_device_manual_key_bits(const char *model);
/* The stored key of a device, upper-case hex. A secret: never log it, cleanse it after use.
 * BASE_E_NOT_FOUND when the device has none. */
int store_device_symmetric_key(struct store *store, const char *device, char out[65],
                               struct base_err *err);
/* The device action that fills an empty key from the CSPRNG. *out shows the key, once
 * (the administrator types it into the phone); the audit log masks it. BASE_E_CONFLICT when
 * the device already has a key, BASE_E_INVALID when its model takes none. */
#define STORE_GENERATE_SYMMETRIC_KEY "generate-symmetric-key"
int store_device_generate_symmetric_key(struct store *store, const char *device,
                                        const struct store_actor *actor, json_t **out,
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
	int64_t id; /* its row, as loaded */
	/* To put: the binding was put before for this device, aor and contact, so its row is
	 * most likely there to update in place (a refresh). Only a hint for the fold. */
	bool refresh;
};

/* Stores a binding, new or refreshed (keyed by aor and contact; reg->id is not used), or
 * removes one. Both are durable when they return: they are appended to the registration log
 * (store_reglog.c), which is folded into the table before anything reads it and before every
 * configuration transaction, so that deleting a device still takes its bindings with it. */
int store_registration_put(struct store *store, const struct store_registration *reg,
                           struct base_err *err);
int store_registration_delete(struct store *store, const char *aor, const char *contact,
                              struct base_err *err);
/* Folds the log, deletes the bindings that expired before `now`, then calls fn for each one
 * left, with its row in reg->id. */
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

/* ---- certificates the system CA issued (store_cert.c) ------------------------------------ */

/* Whose certificate: a device, or one instance of an application or end user (CAPF
 * profile). Text form "device", "application_user", "end_user" as in the API. */
enum store_cert_owner_type {
	STORE_CERT_DEVICE,
	STORE_CERT_APPLICATION_USER,
	STORE_CERT_END_USER,
};

struct store_cert_owner {
	enum store_cert_owner_type type;
	char name[129];        /* device name, or user ID */
	char instance_id[129]; /* users: the CAPF profile's instance ID; "" for devices */
};

/* One issued certificate (an LSC). Strings are NUL-terminated; pem is malloc'd. */
struct store_cert {
	char serial[64]; /* upper-case hex, no separators */
	struct store_cert_owner owner;
	char subject[256];  /* RFC 2253 */
	char key_type[16];  /* "RSA", "EC" */
	int key_bits;       /* 2048, 256, ... */
	int64_t not_before; /* seconds since the epoch */
	int64_t not_after;
	char sha256_fingerprint[96]; /* "AB:CD:..." */
	char status[16];             /* "valid" or "revoked" */
	int64_t revoked_at;          /* 0 unless revoked */
	char revocation_reason[32];  /* RFC 5280 reason in snake case: "superseded", ... */
	int64_t issued_at;
	char issued_by[16]; /* the protocol that enrolled it: "capf", "est" */
	char *pem;
};

/* Frees what a store_cert owns (its pem), not the struct itself. */
void store_cert_clear(struct store_cert *c);
const char *store_cert_owner_type_name(enum store_cert_owner_type type);
/* Parses the text form; -1 for anything else. */
int store_cert_owner_type_parse(const char *name, enum store_cert_owner_type *out);

/* The RFC 5280 CRLReason names accepted for revocation, NULL-terminated, in code order where
 * the code is the index ("unspecified" = 0, ..., "aa_compromise" = 10; 7 is unused and
 * listed as ""). */
extern const char *const store_cert_revocation_reasons[];

/*
 * Records a newly issued certificate in one transaction: every still-valid certificate of
 * the same owner is revoked as "superseded" (requirements 3.6: an upgrade replaces the LSC),
 * a device's lsc_status becomes "installed", and the audit log gets an "issue-certificate"
 * entry on the owner. c->status and revocation fields are ignored.
 */
int store_cert_add(struct store *store, const struct store_cert *c, const struct store_actor *actor,
                   struct base_err *err);

/* The owner's current certificate: the newest valid one that has not expired.
 * BASE_E_NOT_FOUND when there is none. Fill `out` with store_cert_clear() afterwards. */
int store_cert_current(struct store *store, const struct store_cert_owner *owner,
                       struct store_cert *out, struct base_err *err);
/* By serial (hex, any case). BASE_E_NOT_FOUND when unknown. */
int store_cert_get(struct store *store, const char *serial, struct store_cert *out,
                   struct base_err *err);

/*
 * Revokes one certificate (reason from store_cert_revocation_reasons). Revoking a revoked
 * certificate is BASE_E_CONFLICT. When it was a device's last valid certificate, the device's
 * lsc_status goes back to "not_installed". Audited as "revoke-certificate" on the owner.
 */
int store_cert_revoke(struct store *store, const char *serial, const char *reason,
                      const struct store_actor *actor, struct base_err *err);
/* Revokes every valid certificate of an owner (CAPF delete, the revoke action);
 * *count says how many (0 is not an error). */
int store_cert_revoke_owner(struct store *store, const struct store_cert_owner *owner,
                            const char *reason, const struct store_actor *actor, int *count,
                            struct base_err *err);

/* Calls fn for every revoked certificate that has not expired by `now`, for the CRL. */
int store_cert_revoked_each(struct store *store, int64_t now,
                            void (*fn)(void *arg, const char *serial, int64_t revoked_at,
                                       const char *reason),
                            void *arg, struct base_err *err);
/* Bumped by every revocation, so that whoever publishes the CRL knows when to rebuild. */
uint64_t store_cert_revocation_generation(const struct store *store);

/* Appends an audit entry for an action on certificates that is not a record change (role
 * certificate renewed, trust store changed, ...): resource "certificates" or "trust-stores",
 * key the certificate or store name, detail any JSON (not taken). In its own transaction. */
int store_cert_audit(struct store *store, const struct store_actor *actor, const char *action,
                     const char *resource, const char *key, const json_t *detail,
                     struct base_err *err);

/* A service or enterprise parameter as an integer or boolean ("true"); def when missing or
 * malformed. */
long long store_param_int(struct store *store, const char *name, long long def);
bool store_param_bool(struct store *store, const char *name, bool def);

/* ---- CAPF sessions (store_capf.c) ---------------------------------------------------------
 * What the CAPF server reads about the operation an administrator scheduled, and how it
 * writes back the outcome of each attempt: status on the record, audit entry, same
 * transaction. */

struct store_capf_op {
	char kind[16];  /* "devices" or "capf-profiles" */
	char name[129]; /* device name or CAPF profile name: what the phone sends */
	struct store_cert_owner owner;
	char device_type[24]; /* "" for CAPF profiles */
	char operation[24];   /* no_pending, install_upgrade, delete, troubleshoot */
	char mode[40];        /* by_authentication_string, by_null_string, ... */
	char auth_string[16]; /* a secret: never logged; "" when none */
	int key_size;         /* RSA bits */
	char key_type[16];    /* rsa, ec_p256, ec_p384 */
	int64_t completes_by; /* 0: no deadline */
	char status[256];     /* capf_operation_status */
	int wrong_strings;    /* wrong strings given against the current string */
};

/*
 * The operation for the name a phone sent in DEVICE_NAME: a device of that name, else an
 * application or end-user CAPF profile of that name. BASE_E_NOT_FOUND when neither exists.
 */
int store_capf_op_find(struct store *store, const char *name, struct store_capf_op *op,
                       struct base_err *err);

/* What one CAPF attempt changed. */
struct store_capf_outcome {
	const char *status; /* the new capf_operation_status; NULL: unchanged */
	const char *reason; /* why, for the audit log ("" or NULL: none) */
	bool complete;      /* done: the operation returns to no_pending, the string is used up */
	bool clear_string;  /* the string may no longer be used (locked, expired) */
	bool wrong_string;  /* one more wrong string against the current string */
};

/* Writes the outcome and an audit entry "capf-<what>" (e.g. "capf-install") on the record,
 * in one transaction. */
int store_capf_op_record(struct store *store, const struct store_capf_op *op, const char *what,
                         const struct store_capf_outcome *outcome, const struct store_actor *actor,
                         struct base_err *err);

#endif
