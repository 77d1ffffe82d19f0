/* Private to the store layer: the kind descriptor, the database handle and helpers. */
#ifndef UCM_STORE_INT_H
#define UCM_STORE_INT_H

#include "store/store.h"

#include <sqlite3.h>

enum store_method {
	STORE_M_LIST = 1 << 0,
	STORE_M_GET = 1 << 1,
	STORE_M_CREATE = 1 << 2,
	STORE_M_UPDATE = 1 << 3,
	STORE_M_DELETE = 1 << 4,
	STORE_M_READ = STORE_M_LIST | STORE_M_GET,
	STORE_M_ALL = STORE_M_READ | STORE_M_CREATE | STORE_M_UPDATE | STORE_M_DELETE,
};

struct store_kind {
	const char *name;     /* "devices": the URL segment */
	const char *singular; /* "device": used in messages */
	const char *table;
	const struct store_field *fields; /* terminated by a field with a NULL name */
	unsigned methods;
	const char *const *actions;
	bool builtin_read_only; /* built-in records refuse updates, not only deletes */
	/* Rules that span fields or records, run on the complete record before it is written.
	 * They may fill derived fields. `before` is NULL on create; `input` is what the caller
	 * sent, including virtual fields. */
	int (*validate)(struct store *s, json_t *rec, const json_t *before, const json_t *input,
	                struct base_err *err);
	/* Writes what is not a plain column (lines), once the row exists. */
	int (*write_extra)(struct store *s, const json_t *rec, struct base_err *err);
	/* Adds what is not a plain column to a record being read. */
	int (*read_extra)(struct store *s, json_t *rec, struct base_err *err);
	/* Refuses a delete that would leave something dangling beyond the generic checks. */
	int (*check_delete)(struct store *s, const json_t *rec, struct base_err *err);
	/* Brings the table up to date before it is read (registrations: the log is folded). */
	int (*before_read)(struct store *s, struct base_err *err);
};

struct store_line_cache_slot;

struct store {
	sqlite3 *db;
	unsigned char secret_key[32]; /* seals digest credentials (they must be recoverable) */
	struct base_hash *stmts;      /* prepared statements by their SQL text */
	struct store_line_cache_slot *line_cache; /* store_sip.c; allocated on first use */
	/* store_sip.c: digest HA1s by "<algorithm>:<user>", valid for one generation */
	struct base_hash *ha1_cache;
	uint64_t ha1_cache_generation, ha1_cache_credentials;
	sqlite3_stmt *line_devices_stmt, *registration_put_stmt, *registration_delete_stmt,
	    *registration_refresh_stmt;
	struct store_reglog *reglog; /* store_reglog.c */
	uint64_t credentials_generation;
	uint64_t generation;                 /* bumped by every configuration commit */
	uint64_t cert_revocation_generation; /* bumped by every revocation (store_cert.c) */
};

/* ---- the registration log (store_reglog.c) ---- */
/* Opens the log beside the database at db_path, making it if needed, and folds what an
 * earlier run left in it. */
int store_reglog_open(struct store *s, const char *db_path, struct base_err *err);
/* Applies the logged changes to the registration table in one transaction and empties the
 * log. A log that cannot be emptied stays whole, to be folded again to the same effect. */
int store_reglog_fold(struct store *s, struct base_err *err);
/* Folds, then closes; what cannot be folded stays for the next open. */
void store_reglog_close(struct store *s);
/* Reads the record at *off of a log image of len bytes written in `epoch`: 1 and *off moved
 * past it, or 0 where the log ends (no record, a torn one, or one of another epoch). *op is
 * 1 for a binding put, 2 for its removal. */
int store_reglog_decode(const unsigned char *buf, size_t len, uint64_t epoch, size_t *off,
                        struct store_registration *r, int *op);

/* ---- database (store_db.c) ---- */
sqlite3_stmt *store_db_stmt(struct store *s, const char *sql, struct base_err *err);
/* The same for a statement of a hot path, remembered in *slot (a member of struct store) so
 * that later calls skip hashing its text. The statement still belongs to the cache. */
sqlite3_stmt *store_db_stmt_at(struct store *s, sqlite3_stmt **slot, const char *sql,
                               struct base_err *err);
int store_db_exec(struct store *s, const char *sql, struct base_err *err);
/* Starts a configuration transaction, after folding the registration log. */
int store_db_begin(struct store *s, struct base_err *err);
/* The same without the fold: for the fold itself. */
int store_db_begin_immediate(struct store *s, struct base_err *err);
int store_db_commit(struct store *s, struct base_err *err);
void store_db_rollback(struct store *s);
/* Ends the transaction store_db_begin() opened, after work that returned rc: commits on 0,
 * rolls back otherwise. When either fails, the record the work produced in *out (out may be
 * NULL) is dropped, since it was never stored. Returns 0 or -1. */
int store_db_finish(struct store *s, int rc, json_t **out, struct base_err *err);
int store_db_fail(struct store *s, struct base_err *err, const char *what);
int store_db_migrate(struct store *s, struct base_err *err);
/* Runs a query for the first column of its first row, binding the parameters as text;
 * copies it to out (may be NULL). 1 found, 0 none, -1 error. */
int store_db_lookup_params(struct store *s, const char *sql, const char *const *params, int nparams,
                           char *out, size_t size, struct base_err *err);
/* The same with one parameter. */
int store_db_lookup(struct store *s, const char *sql, const char *param, char *out, size_t size,
                    struct base_err *err);

/* ---- store_sip.c ---- */
void store_sip_caches_free(struct store *s);

/* ---- generic records (store_record.c) ---- */
const struct store_field *store_kind_key(const struct store_kind *kind);
const struct store_field *store_kind_field(const struct store_kind *kind, const char *name);
int store_record_load(struct store *s, const struct store_kind *kind, const char *key, json_t **out,
                      struct base_err *err);
int store_record_exists(struct store *s, const char *kind_name, const char *key,
                        struct base_err *err);
const char *store_json_str(const json_t *rec, const char *name);
long long store_json_int(const json_t *rec, const char *name);
bool store_json_bool(const json_t *rec, const char *name);
bool store_json_has(const json_t *obj, const char *name);

/* ---- audit (store_audit.c) ---- */
int store_audit_append(struct store *s, const struct store_actor *actor, const char *action,
                       const struct store_kind *kind, const char *key, const json_t *before,
                       const json_t *after, const json_t *secrets_changed, struct base_err *err);

/* ---- secrets (store_secret.c) ---- */
int store_secret_load_key(struct store *s, const char *path, struct base_err *err);
/* "$scrypt$ln=..,r=..,p=..$salt$hash" for passwords and PINs. */
int store_secret_hash(const char *password, char *out, size_t size, struct base_err *err);
bool store_secret_verify(const char *password, const char *encoded);
/* AES-256-GCM with the store key, base64 text; for digest credentials. */
int store_secret_seal(struct store *s, const char *plain, char *out, size_t size,
                      struct base_err *err);
int store_secret_open(struct store *s, const char *sealed, char *out, size_t size,
                      struct base_err *err);
int store_secret_digest_ha1(const char *algorithm, const char *user, const char *realm,
                            const char *password, char *out, size_t size, struct base_err *err);
/* Stores the write-only field `name` of the record `key` (hashing or sealing it). */
int store_secret_write(struct store *s, const struct store_kind *kind, const char *key,
                       const struct store_field *f, const char *value, struct base_err *err);

/* ---- rules shared by kinds (store_capf.c) ---- */
extern const char *const store_capf_authentication_modes[];
bool store_device_type_is_jabber_mobile(const char *type);
int store_capf_check_key_size(const char *field, long long bits, struct base_err *err);
/* Refuses an authentication mode that the device type cannot enroll with. */
int store_capf_check_mode(const char *field, const char *device_type, const char *mode,
                          struct base_err *err);

/* The one-time authentication string of a CAPF operation, and the switch that generates it. */
#define STORE_CAPF_STRING_FIELDS                                                                   \
	{.name = "capf_authentication_string",                                                     \
	 .type = STORE_T_STRING,                                                                   \
	 .flags = STORE_F_MASKED,                                                                  \
	 .min = 4,                                                                                 \
	 .max = 10,                                                                                \
	 .charset = "0123456789",                                                                  \
	 .description = "One-time string of 4 to 10 digits"},                                      \
	{                                                                                          \
		.name = "capf_generate_authentication_string", .type = STORE_T_BOOLEAN,            \
		.flags = STORE_F_VIRTUAL, .description = "Set true to have a string generated"     \
	}

/* The kind of key CAPF asks for: RSA of capf_key_size bits, or EC on a curve. */
extern const char *const store_capf_key_types[];
#define STORE_CAPF_KEY_TYPE_FIELD                                                                  \
	{                                                                                          \
		.name = "capf_key_type", .type = STORE_T_ENUM, .values = store_capf_key_types,     \
		.def = "rsa", .description = "rsa (capf_key_size bits), ec_p256 or ec_p384"        \
	}

int store_capf_validate(struct store *s, json_t *rec, const json_t *before, const json_t *input,
                        const char *prefix, struct base_err *err);
int store_param_get(struct store *s, const char *table, const char *name, char *out, size_t size);

/* ---- manual symmetric keys (store_symkey.c) ---- */
/* The device rules of symmetric_key (model, length, immutability) and of model changes. */
int store_symkey_validate(struct store *s, const json_t *rec, const json_t *before,
                          const json_t *input, struct base_err *err);
/* Seals a key in upper case. */
int store_symkey_seal(struct store *s, const char *key, char *out, size_t size,
                      struct base_err *err);

/* ---- the kinds ---- */
extern const struct store_kind store_kind_end_users, store_kind_app_users, store_kind_user_groups,
    store_kind_devices, store_kind_directory_numbers, store_kind_sip_profiles,
    store_kind_phone_security_profiles, store_kind_sip_trunk_security_profiles,
    store_kind_sip_trunks, store_kind_capf_profiles, store_kind_enterprise_parameters,
    store_kind_service_parameters, store_kind_device_actions, store_kind_audit_log,
    store_kind_registrations;
extern const struct store_kind store_kind_issued_certificates;

extern const char *const store_device_types[];
/* The actions of the profile kinds, carried out on every device that uses the profile. */
extern const char *const store_profile_actions[];

#endif
