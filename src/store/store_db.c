/*
 * The SQLite back end: opening with the pragmas that make writes durable and crash-safe,
 * migrations, transactions and a cache of prepared statements.
 *
 * WAL mode with synchronous=FULL: a COMMIT that returned is on disk, so `kill -9` right after
 * an API call answered loses nothing; a transaction that did not commit leaves no trace.
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
	for (size_t i = 0; i < s->nstmts; i++) {
		if (strcmp(s->stmts[i].sql, sql) == 0) {
			sqlite3_reset(s->stmts[i].stmt);
			sqlite3_clear_bindings(s->stmts[i].stmt);
			return s->stmts[i].stmt;
		}
	}
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) !=
	    SQLITE_OK) {
		store_db_fail(s, err, "preparing a query");
		return NULL;
	}
	struct store_stmt_cache_entry *grown =
	    realloc(s->stmts, (s->nstmts + 1) * sizeof(*s->stmts));
	char *copy = strdup(sql);
	if (!grown || !copy) {
		free(copy);
		if (grown)
			s->stmts = grown;
		sqlite3_finalize(stmt);
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	s->stmts = grown;
	s->stmts[s->nstmts] = (struct store_stmt_cache_entry){copy, stmt};
	s->nstmts++;
	return stmt;
}

int store_db_exec(struct store *s, const char *sql, struct base_err *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(s, err, "running a statement");
	return 0;
}

int store_db_begin(struct store *s, struct base_err *err)
{
	/* IMMEDIATE takes the write lock up front, so a transaction never fails half-way
	 * because another connection (another ucmd, the sqlite3 shell) wrote meanwhile. */
	return store_db_exec(s, "BEGIN IMMEDIATE", err);
}

int store_db_commit(struct store *s, struct base_err *err)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_db_fail(s, err, "committing");
		store_db_rollback(s);
		return -1;
	}
	s->generation++;
	return 0;
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
	if (store_db_exec(s,
	                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	                  "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON",
	                  err) != 0 ||
	    store_secret_load_key(s, secret_key_path, err) != 0 || store_db_migrate(s, err) != 0) {
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nstmts; i++) {
		sqlite3_finalize(s->stmts[i].stmt);
		free(s->stmts[i].sql);
	}
	free(s->stmts);
	if (s->db)
		sqlite3_close(s->db);
	OPENSSL_cleanse(s->secret_key, sizeof(s->secret_key));
	free(s);
}
