/*
 * The SQLite back end: opening with the pragmas that make writes durable and crash-safe,
 * migrations, transactions and a cache of prepared statements.
 *
 * WAL mode. Configuration transactions commit with synchronous=FULL: a COMMIT that returned
 * is on disk, so even a power cut right after an API call answered loses nothing, and a
 * transaction that did not commit leaves no trace. Registrations reach the table through the
 * registration log (store_reglog.c), whose folds commit the same way. Outside transactions the
 * connection runs with synchronous=NORMAL. SQLite refuses to change the level inside a
 * transaction, so the start of a transaction raises it before BEGIN and its end lowers it.
 *
 * ucmd is the database's only user (several nodes share PostgreSQL, not a SQLite file), so
 * the connection holds its lock for good (locking_mode=EXCLUSIVE): no file-lock system calls
 * per transaction and no shared-memory WAL index. The flip side: the sqlite3 shell can open
 * ucm.db only while ucmd is stopped.
 */
#include "store/store_int.h"
#include "store/store_migrations.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_db_fail(struct store *s, struct base_err *err, const char *what)
{
	base_log(BASE_LOG_ERROR, "store", "%s: %s", what, sqlite3_errmsg(s->db));
	return base_err_set(err, BASE_E_INTERNAL, NULL, "database error while %s", what);
}

sqlite3_stmt *store_db_stmt(struct store *s, const char *sql, struct base_err *err)
{
	sqlite3_stmt *stmt = base_hash_get(s->stmts, sql);
	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return stmt;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
	    SQLITE_OK) {
		store_db_fail(s, err, "preparing a query");
		return NULL;
	}
	if (base_hash_put(s->stmts, sql, stmt, NULL) != 0) {
		sqlite3_finalize(stmt);
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	return stmt;
}

sqlite3_stmt *store_db_stmt_at(struct store *s, sqlite3_stmt **slot, const char *sql,
                               struct base_err *err)
{
	if (*slot) {
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
		return *slot;
	}
	return *slot = store_db_stmt(s, sql, err);
}

int store_db_exec(struct store *s, const char *sql, struct base_err *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "running a statement");
	return 0;
}

int store_db_begin_immediate(struct store *s, struct base_err *err)
{
	/* IMMEDIATE takes the write lock up front, so a transaction never fails half-way
	 * because another connection (another ucmd, the sqlite3 shell) wrote meanwhile. */
	if (store_db_exec(s, "PRAGMA synchronous=FULL; BEGIN IMMEDIATE", err) == 0)
		return 0;
	sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	return -1;
}

int store_db_begin(struct store *s, struct base_err *err)
{
	/* The registration log is folded first, so that the table holds every binding when the
	 * configuration changes: a device deleted here takes all of its bindings with it. */
	if (store_reglog_fold(s, err) != 0)
		return -1;
	return store_db_begin_immediate(s, err);
}

int store_db_commit(struct store *s, struct base_err *err)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_db_fail(s, err, "committing");
		store_db_rollback(s);
		return -1;
	}
	sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	s->generation++;
	return 0;
}

int store_db_finish(struct store *s, int rc, json_t **out, struct base_err *err)
{
	if (rc != 0)
		store_db_rollback(s);
	else if (store_db_commit(s, err) == 0)
		return 0;
	if (out) {
		json_decref(*out);
		*out = NULL;
	}
	return -1;
}

void store_db_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_db_lookup_params(struct store *s, const char *sql, const char *const *params, int nparams,
                           char *out, size_t size, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	for (int i = 0; i < nparams; i++)
		sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && out) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		base_strlcpy(out, v ? (const char *)v : "", size);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "looking up a record");
	return 0;
}

int store_db_lookup(struct store *s, const char *sql, const char *param, char *out, size_t size,
                    struct base_err *err)
{
	return store_db_lookup_params(s, sql, &param, 1, out, size, err);
}

static int schema_version(struct store *s, int *version, struct base_err *err)
{
	if (store_db_exec(s,
	                  "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY "
	                  "KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
	                  err) != 0)
		return -1;
	char text[32];
	int found =
	    store_db_lookup_params(s, "SELECT COALESCE(MAX(version), 0) FROM schema_migration",
	                           NULL, 0, text, sizeof(text), err);
	if (found < 0)
		return -1;
	*version = found ? atoi(text) : 0;
	return 0;
}

int store_db_migrate(struct store *s, struct base_err *err)
{
	int current;
	if (schema_version(s, &current, err) != 0)
		return -1;
	int newest = 0;
	for (int i = 0; i < store_migrations_count; i++) {
		const struct store_migration *m = &store_migrations[i];
		if (m->version > newest)
			newest = m->version;
		if (m->version <= current)
			continue;
		/* Each migration and its bookkeeping row commit together. */
		if (store_db_begin(s, err) != 0)
			return -1;
		if (store_db_exec(s, m->sql, err) != 0) {
			store_db_rollback(s);
			return base_err_set(err, BASE_E_INTERNAL, NULL, "migration %s failed",
			                    m->name);
		}
		char sql[256];
		snprintf(sql, sizeof(sql),
		         "INSERT INTO schema_migration(version, name, applied_at) VALUES (%d, "
		         "'%s', %lld)",
		         m->version, m->name, (long long)base_time_now());
		if (store_db_exec(s, sql, err) != 0 || store_db_commit(s, err) != 0) {
			store_db_rollback(s);
			return -1;
		}
		base_log(BASE_LOG_INFO, "store", "applied migration %s", m->name);
	}
	if (current > newest)
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "the database has schema version %d, newer than this ucmd "
		                    "knows (%d); refusing to touch it",
		                    current, newest);
	return 0;
}

int store_open(struct store **out, const char *db_path, const char *secret_key_path,
               struct base_err *err)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	if (sqlite3_open_v2(db_path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot open database %s: %s", db_path,
		             s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	s->stmts = base_hash_new();
	if (!s->stmts) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		store_close(s);
		return -1;
	}
	if (store_db_exec(s,
	                  "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; "
	                  "PRAGMA synchronous=NORMAL; "
	                  "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON",
	                  err) != 0 ||
	    store_secret_load_key(s, secret_key_path, err) != 0 || store_db_migrate(s, err) != 0 ||
	    store_reglog_open(s, db_path, err) != 0) {
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

static void finalize_statement(void *stmt)
{
	sqlite3_finalize(stmt);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_reglog_close(s);
	if (s->stmts)
		base_hash_free(s->stmts, finalize_statement);
	store_sip_caches_free(s);
	if (s->db)
		sqlite3_close(s->db);
	OPENSSL_cleanse(s->secret_key, sizeof(s->secret_key));
	free(s);
}
