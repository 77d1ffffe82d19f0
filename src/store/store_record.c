/*
 * Reading and writing records of any kind from its field table.
 *
 * A write goes: open a transaction, load the record as it was, lay the input over it field by
 * field (type, read-only, immutability), check every field's own rule, run the kind's rules
 * that span fields and records, write the row and its links, append the audit entry, commit.
 * Any failure rolls back, so nothing is ever half-written.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX 4096

const struct store_field *store_kind_field(const struct store_kind *kind, const char *name)
{
	for (const struct store_field *f = kind->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

const struct store_field *store_kind_key(const struct store_kind *kind)
{
	for (const struct store_field *f = kind->fields; f->name; f++)
		if (f->flags & STORE_F_KEY)
			return f;
	return NULL;
}

const char *store_json_str(const json_t *rec, const char *name)
{
	const char *v = json_string_value(json_object_get(rec, name));
	return v ? v : "";
}

long long store_json_int(const json_t *rec, const char *name)
{
	return json_integer_value(json_object_get(rec, name));
}

bool store_json_bool(const json_t *rec, const char *name)
{
	return json_is_true(json_object_get(rec, name));
}

bool store_json_has(const json_t *obj, const char *name)
{
	return json_object_get(obj, name) != NULL;
}

/* Columns are the fields that are neither links, lines, virtual nor secrets. */
static bool is_column(const struct store_field *f)
{
	return f->type != STORE_T_STRING_LIST && f->type != STORE_T_LINES &&
	       !(f->flags & (STORE_F_VIRTUAL | STORE_F_WRITE_ONLY));
}

/* Limits are optional: a field with min and max both 0 (or min > max) has none. */
static bool has_limits(const struct store_field *f)
{
	return f->min <= f->max && !(f->min == 0 && f->max == 0);
}

static bool is_scalar(const struct store_field *f)
{
	return is_column(f) && f->type != STORE_T_JSON;
}

/* ---- reading ---- */

static json_t *column_json(const struct store_field *f, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	switch (f->type) {
	case STORE_T_INTEGER:
		return json_integer(sqlite3_column_int64(st, col));
	case STORE_T_BOOLEAN:
		return json_boolean(sqlite3_column_int(st, col) != 0);
	case STORE_T_TIMESTAMP: {
		char text[21];
		base_time_format(sqlite3_column_int64(st, col), text);
		return json_string(text);
	}
	case STORE_T_JSON:
		return json_loads((const char *)sqlite3_column_text(st, col), 0, NULL);
	default:
		return json_string((const char *)sqlite3_column_text(st, col));
	}
}

static int load_links(struct store *s, const struct store_field *f, const char *key, json_t *rec,
                      struct base_err *err)
{
	char sql[SQL_MAX];
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s = ?1 ORDER BY %s COLLATE NOCASE",
	         f->link->value_col, f->link->table, f->link->owner_col, f->link->value_col);
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	json_object_set_new(rec, f->name, list);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "reading links");
	return 0;
}

/* SELECT of every column plus one has_<secret> flag per write-only field. */
static void select_sql(const struct store_kind *kind, char *sql, size_t size)
{
	size_t n = (size_t)snprintf(sql, size, "SELECT ");
	const char *sep = "";
	for (const struct store_field *f = kind->fields; f->name && n < size; f++) {
		if (is_column(f))
			n += (size_t)snprintf(sql + n, size - n, "%s%s", sep, f->name);
		else if (f->flags & STORE_F_WRITE_ONLY)
			n += (size_t)snprintf(sql + n, size - n, "%s%s_secret IS NOT NULL", sep,
			                      f->name);
		else
			continue;
		sep = ", ";
	}
	if (n < size)
		snprintf(sql + n, size - n, " FROM %s WHERE %s = ?1", kind->table,
		         store_kind_key(kind)->name);
}

int store_record_load(struct store *s, const struct store_kind *kind, const char *key, json_t **out,
                      struct base_err *err)
{
	char sql[SQL_MAX];
	select_sql(kind, sql, sizeof(sql));
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_db_fail(s, err, "reading a record");
		return base_err_set(err, BASE_E_NOT_FOUND, store_kind_key(kind)->name,
		                    "%s %s does not exist", kind->singular, key);
	}
	json_t *rec = json_object();
	int col = 0;
	for (const struct store_field *f = kind->fields; f->name; f++) {
		if (is_column(f)) {
			json_object_set_new(rec, f->name, column_json(f, st, col++));
		} else if (f->flags & STORE_F_WRITE_ONLY) {
			char has[80];
			snprintf(has, sizeof(has), "has_%s", f->name);
			json_object_set_new(rec, has, json_boolean(sqlite3_column_int(st, col++)));
		}
	}
	sqlite3_reset(st);
	const char *stored_key = store_json_str(rec, store_kind_key(kind)->name);
	char *key_copy = strdup(stored_key);
	int status = key_copy ? 0 : base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	for (const struct store_field *f = kind->fields; status == 0 && f->name; f++)
		if (f->type == STORE_T_STRING_LIST)
			status = load_links(s, f, key_copy, rec, err);
	if (status == 0 && kind->read_extra)
		status = kind->read_extra(s, rec, err);
	free(key_copy);
	if (status != 0) {
		json_decref(rec);
		return -1;
	}
	*out = rec;
	return 0;
}

int store_record_exists(struct store *s, const char *kind_name, const char *key,
                        struct base_err *err)
{
	const struct store_kind *kind = store_kind_find(kind_name);
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE %s = ?1", kind->table,
	         store_kind_key(kind)->name);
	return store_db_lookup(s, sql, key, NULL, 0, err);
}

int store_get(struct store *s, const struct store_kind *kind, const char *key, json_t **out,
              struct base_err *err)
{
	if (kind->before_read && kind->before_read(s, err) != 0)
		return -1;
	return store_record_load(s, kind, key, out, err);
}

/* ---- listing ---- */

static int bind_filter(const struct store_field *f, const char *value, sqlite3_stmt *st, int idx,
                       struct base_err *err)
{
	if (f->type == STORE_T_BOOLEAN) {
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return base_err_set(err, BASE_E_BAD_REQUEST, f->name,
			                    "filter %s takes true or false", f->name);
		sqlite3_bind_int(st, idx, strcmp(value, "true") == 0);
	} else if (f->type == STORE_T_INTEGER) {
		char *end;
		long long v = strtoll(value, &end, 10);
		if (!*value || *end)
			return base_err_set(err, BASE_E_BAD_REQUEST, f->name,
			                    "filter %s takes an integer", f->name);
		sqlite3_bind_int64(st, idx, v);
	} else {
		sqlite3_bind_text(st, idx, value, -1, SQLITE_TRANSIENT);
	}
	return 0;
}

static int list_where(const struct store_kind *kind, const struct store_query *q, char *sql,
                      size_t size, struct base_err *err)
{
	size_t n = strlen(sql);
	int nfilters = 0;
	for (const char **p = q->filters; p && p[0]; p += 2, nfilters++) {
		const struct store_field *f = store_kind_field(kind, p[0]);
		if (!f || !is_scalar(f) || f->type == STORE_T_TIMESTAMP)
			return base_err_set(err, BASE_E_BAD_REQUEST, p[0],
			                    "%s cannot be filtered by %s", kind->name, p[0]);
		n += (size_t)snprintf(sql + n, size - n, "%s %s = ?%d COLLATE NOCASE",
		                      nfilters ? " AND" : " WHERE", f->name, nfilters + 1);
	}
	return n < size ? 0 : base_err_set(err, BASE_E_BAD_REQUEST, NULL, "too many filters");
}

static int bind_filters(const struct store_kind *kind, const struct store_query *q,
                        sqlite3_stmt *st, struct base_err *err)
{
	int idx = 1;
	for (const char **p = q->filters; p && p[0]; p += 2)
		if (bind_filter(store_kind_field(kind, p[0]), p[1], st, idx++, err) != 0)
			return -1;
	return 0;
}

int store_list(struct store *s, const struct store_kind *kind, const struct store_query *q,
               json_t **items, long *total, struct base_err *err)
{
	if (q->limit < 1 || q->limit > 1000 || q->offset < 0)
		return base_err_set(err, BASE_E_BAD_REQUEST, "limit",
		                    "limit must be 1 to 1000 and offset at least 0");
	if (kind->before_read && kind->before_read(s, err) != 0)
		return -1;
	const char *key = store_kind_key(kind)->name;
	char count_sql[SQL_MAX], keys_sql[SQL_MAX];
	snprintf(count_sql, sizeof(count_sql), "SELECT COUNT(*) FROM %s", kind->table);
	snprintf(keys_sql, sizeof(keys_sql), "SELECT %s FROM %s", key, kind->table);
	if (list_where(kind, q, count_sql, sizeof(count_sql), err) != 0 ||
	    list_where(kind, q, keys_sql, sizeof(keys_sql), err) != 0)
		return -1;
	size_t n = strlen(keys_sql);
	/* Integer keys (audit log, actions) list newest first; names list alphabetically. */
	bool numeric = store_kind_key(kind)->type == STORE_T_INTEGER;
	snprintf(keys_sql + n, sizeof(keys_sql) - n, " ORDER BY %s %s LIMIT %ld OFFSET %ld", key,
	         numeric ? "DESC" : "COLLATE NOCASE", q->limit, q->offset);

	sqlite3_stmt *st = store_db_stmt(s, count_sql, err);
	if (!st || bind_filters(kind, q, st, err) != 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_db_fail(s, err, "counting records");
	}
	*total = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	st = store_db_stmt(s, keys_sql, err);
	if (!st || bind_filters(kind, q, st, err) != 0)
		return -1;
	json_t *keys = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(keys, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(keys);
		return store_db_fail(s, err, "listing records");
	}
	json_t *list = json_array();
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k)
	{
		json_t *rec;
		if (store_record_load(s, kind, json_string_value(k), &rec, err) != 0) {
			json_decref(keys);
			json_decref(list);
			return -1;
		}
		json_array_append_new(list, rec);
	}
	json_decref(keys);
	*items = list;
	return 0;
}

/* ---- checking input ---- */

static int check_type(const struct store_kind *kind, const struct store_field *f, const json_t *v,
                      struct base_err *err)
{
	bool ok;
	const char *expect;
	switch (f->type) {
	case STORE_T_INTEGER:
		ok = json_is_integer(v), expect = "an integer";
		break;
	case STORE_T_BOOLEAN:
		ok = json_is_boolean(v), expect = "true or false";
		break;
	case STORE_T_STRING_LIST:
		ok = json_is_array(v), expect = "a list of names";
		break;
	case STORE_T_LINES:
		ok = json_is_array(v), expect = "a list of lines";
		break;
	case STORE_T_JSON:
		ok = true, expect = "";
		break;
	default:
		ok = json_is_string(v), expect = "a string";
		break;
	}
	if (json_is_null(v) && !(f->flags & STORE_F_REQUIRED) && f->type == STORE_T_STRING)
		ok = true; /* null clears an optional string, e.g. a reference */
	if (!ok)
		return base_err_set(err, BASE_E_INVALID, f->name, "%s of a %s must be %s", f->name,
		                    kind->singular, expect);
	return 0;
}

static int check_string(const struct store_field *f, const char *v, struct base_err *err)
{
	size_t len = strlen(v);
	if (has_limits(f) && (len < (size_t)f->min || len > (size_t)f->max)) {
		if (f->min == f->max)
			return base_err_set(err, BASE_E_INVALID, f->name,
			                    "%s must be exactly %lld characters", f->name, f->max);
		return base_err_set(err, BASE_E_INVALID, f->name,
		                    "%s must be %lld to %lld characters long", f->name, f->min,
		                    f->max);
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return base_err_set(err, BASE_E_INVALID, f->name,
			                    "%s must not contain control characters", f->name);
	if (f->charset && !base_str_all(v, f->charset))
		return base_err_set(err, BASE_E_INVALID, f->name,
		                    "%s may contain only the characters %s", f->name, f->charset);
	return 0;
}

static int check_value(struct store *s, const struct store_kind *kind, const struct store_field *f,
                       const json_t *v, struct base_err *err)
{
	if (json_is_null(v))
		return 0;
	switch (f->type) {
	case STORE_T_INTEGER: {
		long long i = json_integer_value(v);
		if (has_limits(f) && (i < f->min || i > f->max))
			return base_err_set(err, BASE_E_INVALID, f->name,
			                    "%s must be between %lld and %lld", f->name, f->min,
			                    f->max);
		return 0;
	}
	case STORE_T_ENUM: {
		for (const char *const *e = f->values; *e; e++)
			if (strcmp(*e, json_string_value(v)) == 0)
				return 0;
		char allowed[512] = "";
		for (const char *const *e = f->values; *e; e++)
			snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed),
			         "%s%s", e == f->values ? "" : ", ", *e);
		return base_err_set(err, BASE_E_INVALID, f->name, "%s must be one of: %s", f->name,
		                    allowed);
	}
	case STORE_T_TIMESTAMP: {
		int64_t t;
		if (base_time_parse(json_string_value(v), &t) != 0)
			return base_err_set(err, BASE_E_INVALID, f->name,
			                    "%s must be a UTC time like 2026-12-31T23:59:00Z",
			                    f->name);
		return 0;
	}
	case STORE_T_STRING: {
		const char *str = json_string_value(v);
		if (check_string(f, str, err) != 0)
			return -1;
		if (f->ref && *str) {
			int found = store_record_exists(s, f->ref, str, err);
			if (found < 0)
				return -1;
			if (!found)
				return base_err_set(err, BASE_E_INVALID, f->name,
				                    "%s refers to %s %s, which does not exist",
				                    f->name, store_kind_find(f->ref)->singular,
				                    str);
		}
		return 0;
	}
	case STORE_T_STRING_LIST: {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item)
		{
			if (!json_is_string(item))
				return base_err_set(err, BASE_E_INVALID, f->name,
				                    "%s must be a list of names", f->name);
			int found =
			    store_record_exists(s, f->link->target, json_string_value(item), err);
			if (found < 0)
				return -1;
			if (!found)
				return base_err_set(err, BASE_E_INVALID, f->name,
				                    "%s lists %s %s, which does not exist", f->name,
				                    store_kind_find(f->link->target)->singular,
				                    json_string_value(item));
		}
		return 0;
	}
	default:
		(void)kind;
		return 0;
	}
}

static json_t *default_json(const struct store_field *f)
{
	if (!f->def)
		return json_null();
	switch (f->type) {
	case STORE_T_INTEGER:
		return json_integer(strtoll(f->def, NULL, 10));
	case STORE_T_BOOLEAN:
		return json_boolean(strcmp(f->def, "true") == 0);
	case STORE_T_STRING_LIST:
	case STORE_T_LINES:
		return json_array();
	default:
		return json_string(f->def);
	}
}

/* Lays `input` over `rec` (the stored record, or defaults on create). */
static int merge_input(const struct store_kind *kind, json_t *rec, const json_t *input,
                       bool creating, struct base_err *err)
{
	if (!json_is_object(input))
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "a %s must be a JSON object",
		                    kind->singular);
	const char *name;
	json_t *v;
	json_object_foreach((json_t *)input, name, v)
	{
		const struct store_field *f = store_kind_field(kind, name);
		if (!f)
			return base_err_set(err, BASE_E_INVALID, name, "%s has no field %s",
			                    kind->name, name);
		if (f->flags & STORE_F_READ_ONLY)
			return base_err_set(err, BASE_E_INVALID, name, "%s is read-only", name);
		if (check_type(kind, f, v, err) != 0)
			return -1;
		if (!creating && (f->flags & (STORE_F_KEY | STORE_F_IMMUTABLE)) &&
		    !json_equal(json_object_get(rec, name), v))
			return base_err_set(err, BASE_E_INVALID, name,
			                    "%s cannot be changed once the %s exists", name,
			                    kind->singular);
		if (!(f->flags & (STORE_F_VIRTUAL | STORE_F_WRITE_ONLY)))
			json_object_set(rec, name, v);
	}
	return 0;
}

static bool is_empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v));
}

static int check_fields(struct store *s, const struct store_kind *kind, const json_t *rec,
                        const json_t *input, struct base_err *err)
{
	for (const struct store_field *f = kind->fields; f->name; f++) {
		const json_t *v = (f->flags & (STORE_F_VIRTUAL | STORE_F_WRITE_ONLY))
		                      ? json_object_get(input, f->name)
		                      : json_object_get(rec, f->name);
		if ((f->flags & STORE_F_REQUIRED) && is_empty(v))
			return base_err_set(err, BASE_E_INVALID, f->name, "%s is required",
			                    f->name);
		if (v && check_value(s, kind, f, v, err) != 0)
			return -1;
	}
	return 0;
}

/* ---- writing ---- */

static void bind_json(const struct store_field *f, sqlite3_stmt *st, int idx, const json_t *v)
{
	if (!v || json_is_null(v) ||
	    (f->type == STORE_T_STRING && f->ref && !*json_string_value(v))) {
		sqlite3_bind_null(st, idx);
		return;
	}
	switch (f->type) {
	case STORE_T_INTEGER:
		sqlite3_bind_int64(st, idx, json_integer_value(v));
		break;
	case STORE_T_BOOLEAN:
		sqlite3_bind_int(st, idx, json_is_true(v));
		break;
	case STORE_T_TIMESTAMP: {
		int64_t t = 0;
		base_time_parse(json_string_value(v), &t);
		sqlite3_bind_int64(st, idx, t);
		break;
	}
	case STORE_T_JSON: {
		char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		sqlite3_bind_text(st, idx, text, -1, free);
		break;
	}
	default:
		sqlite3_bind_text(st, idx, json_string_value(v), -1, SQLITE_TRANSIENT);
	}
}

static int write_row(struct store *s, const struct store_kind *kind, const json_t *rec,
                     bool creating, const char *key, struct base_err *err)
{
	char sql[SQL_MAX];
	size_t n;
	int ncols = 0;
	if (creating) {
		char values[SQL_MAX] = "";
		size_t vn = 0;
		n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", kind->table);
		for (const struct store_field *f = kind->fields; f->name; f++) {
			if (!is_column(f))
				continue;
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s", ncols ? ", " : "",
			                      f->name);
			vn += (size_t)snprintf(values + vn, sizeof(values) - vn, "%s?%d",
			                       ncols ? ", " : "", ncols + 1);
			ncols++;
		}
		snprintf(sql + n, sizeof(sql) - n, ") VALUES (%s)", values);
	} else {
		n = (size_t)snprintf(sql, sizeof(sql), "UPDATE %s SET ", kind->table);
		for (const struct store_field *f = kind->fields; f->name; f++) {
			if (!is_column(f) || (f->flags & STORE_F_KEY))
				continue;
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s = ?%d",
			                      ncols ? ", " : "", f->name, ncols + 1);
			ncols++;
		}
		snprintf(sql + n, sizeof(sql) - n, " WHERE %s = ?%d", store_kind_key(kind)->name,
		         ncols + 1);
	}
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	int idx = 1;
	for (const struct store_field *f = kind->fields; f->name; f++) {
		if (!is_column(f) || (!creating && (f->flags & STORE_F_KEY)))
			continue;
		bind_json(f, st, idx++, json_object_get(rec, f->name));
	}
	if (!creating)
		sqlite3_bind_text(st, idx, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return base_err_set(err, BASE_E_CONFLICT, store_kind_key(kind)->name,
		                    "%s %s already exists", kind->singular, key);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "writing a record");
	return 0;
}

static int write_links(struct store *s, const struct store_field *f, const char *key,
                       const json_t *list, struct base_err *err)
{
	char sql[SQL_MAX];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = ?1", f->link->table,
	         f->link->owner_col);
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "replacing links");
	snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO %s (%s, %s) VALUES (?1, ?2)",
	         f->link->table, f->link->owner_col, f->link->value_col);
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
	{
		if (!(st = store_db_stmt(s, sql, err)))
			return -1;
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, json_string_value(item), -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_db_fail(s, err, "writing links");
	}
	return 0;
}

static int write_record(struct store *s, const struct store_kind *kind, const json_t *rec,
                        const json_t *input, bool creating, json_t *secrets_changed,
                        struct base_err *err)
{
	const char *key = store_json_str(rec, store_kind_key(kind)->name);
	if (write_row(s, kind, rec, creating, key, err) != 0)
		return -1;
	for (const struct store_field *f = kind->fields; f->name; f++) {
		if (f->type == STORE_T_STRING_LIST && json_object_get(input, f->name) &&
		    write_links(s, f, key, json_object_get(rec, f->name), err) != 0)
			return -1;
		const json_t *secret = json_object_get(input, f->name);
		if ((f->flags & STORE_F_WRITE_ONLY) && secret) {
			if (store_secret_write(s, kind, key, f, json_string_value(secret), err) !=
			    0)
				return -1;
			json_object_set_new(secrets_changed, f->name, json_string("***"));
		}
	}
	return kind->write_extra ? kind->write_extra(s, rec, err) : 0;
}

/* Builds, checks and writes one record inside the caller's transaction. */
static int apply(struct store *s, const struct store_kind *kind, const char *key,
                 const json_t *input, const struct store_actor *actor, json_t **out,
                 struct base_err *err)
{
	bool creating = key == NULL;
	json_t *before = NULL, *rec = NULL, *after = NULL;
	json_t *secrets_changed = json_object();
	int rc = -1;
	if (creating) {
		rec = json_object();
		for (const struct store_field *f = kind->fields; f->name; f++)
			if (!(f->flags & (STORE_F_VIRTUAL | STORE_F_WRITE_ONLY)))
				json_object_set_new(rec, f->name, default_json(f));
	} else {
		if (store_record_load(s, kind, key, &before, err) != 0)
			goto out;
		if (kind->builtin_read_only && store_json_bool(before, "builtin")) {
			base_err_set(err, BASE_E_FORBIDDEN, NULL,
			             "%s %s is built in and cannot be changed; copy it instead",
			             kind->singular, key);
			goto out;
		}
		rec = json_deep_copy(before);
	}
	if (merge_input(kind, rec, input, creating, err) != 0 ||
	    check_fields(s, kind, rec, input, err) != 0 ||
	    (kind->validate && kind->validate(s, rec, before, input, err) != 0) ||
	    write_record(s, kind, rec, input, creating, secrets_changed, err) != 0)
		goto out;
	const char *stored = store_json_str(rec, store_kind_key(kind)->name);
	if (store_record_load(s, kind, stored, &after, err) != 0 ||
	    store_audit_append(s, actor, creating ? "create" : "update", kind, stored, before,
	                       after, secrets_changed, err) != 0)
		goto out;
	*out = after;
	after = NULL;
	rc = 0;
out:
	json_decref(before);
	json_decref(rec);
	json_decref(after);
	json_decref(secrets_changed);
	return rc;
}

static int transact(struct store *s, const struct store_kind *kind, const char *key,
                    const json_t *input, const struct store_actor *actor, json_t **out,
                    struct base_err *err)
{
	if (store_db_begin(s, err) != 0)
		return -1;
	return store_db_finish(s, apply(s, kind, key, input, actor, out, err), out, err);
}

int store_create(struct store *s, const struct store_kind *kind, const json_t *in,
                 const struct store_actor *actor, json_t **out, struct base_err *err)
{
	return transact(s, kind, NULL, in, actor, out, err);
}

int store_update(struct store *s, const struct store_kind *kind, const char *key,
                 const json_t *patch, const struct store_actor *actor, json_t **out,
                 struct base_err *err)
{
	return transact(s, kind, key, patch, actor, out, err);
}

/* ---- deleting ---- */

/* Refuses to delete a record that another record names in a reference or restricting link. */
static int check_references(struct store *s, const struct store_kind *kind, const char *key,
                            struct base_err *err)
{
	for (const struct store_kind *const *k = store_kinds; *k; k++) {
		for (const struct store_field *f = (*k)->fields; f->name; f++) {
			char sql[SQL_MAX];
			if (f->ref && strcmp(f->ref, kind->name) == 0 && is_column(f))
				snprintf(sql, sizeof(sql),
				         "SELECT %s FROM %s WHERE %s = ?1 LIMIT 1",
				         store_kind_key(*k)->name, (*k)->table, f->name);
			else if (f->link && f->link->restrict_target_delete &&
			         strcmp(f->link->target, kind->name) == 0)
				snprintf(sql, sizeof(sql),
				         "SELECT %s FROM %s WHERE %s = ?1 LIMIT 1",
				         f->link->owner_col, f->link->table, f->link->value_col);
			else
				continue;
			char user[128];
			int found = store_db_lookup(s, sql, key, user, sizeof(user), err);
			if (found < 0)
				return -1;
			if (found)
				return base_err_set(err, BASE_E_CONFLICT, NULL,
				                    "%s %s is in use: %s %s refers to it in %s",
				                    kind->singular, key, (*k)->singular, user,
				                    f->name);
		}
	}
	return 0;
}

static int delete_record(struct store *s, const struct store_kind *kind, const char *key,
                         const struct store_actor *actor, struct base_err *err)
{
	json_t *before;
	if (store_record_load(s, kind, key, &before, err) != 0)
		return -1;
	int rc = -1;
	const char *stored = store_json_str(before, store_kind_key(kind)->name);
	if (store_json_bool(before, "builtin")) {
		base_err_set(err, BASE_E_FORBIDDEN, NULL, "%s %s is built in and cannot be deleted",
		             kind->singular, stored);
		goto out;
	}
	if (check_references(s, kind, stored, err) != 0 ||
	    (kind->check_delete && kind->check_delete(s, before, err) != 0))
		goto out;
	char sql[SQL_MAX];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = ?1", kind->table,
	         store_kind_key(kind)->name);
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, stored, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		store_db_fail(s, err, "deleting a record");
		goto out;
	}
	rc = store_audit_append(s, actor, "delete", kind, stored, before, NULL, NULL, err);
out:
	json_decref(before);
	return rc;
}

int store_delete(struct store *s, const struct store_kind *kind, const char *key,
                 const struct store_actor *actor, struct base_err *err)
{
	if (store_db_begin(s, err) != 0)
		return -1;
	return store_db_finish(s, delete_record(s, kind, key, actor, err), NULL, err);
}
