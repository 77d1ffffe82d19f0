/* The schema migrations, compiled in from migrations/NNN_name.sql (cmake/embed_migrations.cmake).
 */
#ifndef UCM_STORE_MIGRATIONS_H
#define UCM_STORE_MIGRATIONS_H

struct store_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct store_migration store_migrations[];
extern const int store_migrations_count;

#endif
