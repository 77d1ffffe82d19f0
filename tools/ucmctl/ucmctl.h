/*
 * ucmctl: the administrator's command line for ucmd's REST API (docs/api.md).
 *
 * The resource commands are not written out one by one: they are built at run time from
 * GET /api/v1/schema, so a field added to the server is usable here without a new ucmctl.
 * Everything except main() lives outside ucmctl_main.c so the unit tests can link it.
 */
#ifndef UCMCTL_H
#define UCMCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes; documented in `ucmctl --help`, scripts depend on them. */
enum ucmctl_exit {
	UCMCTL_EXIT_OK = 0,
	UCMCTL_EXIT_REFUSED = 1, /* the server answered 4xx */
	UCMCTL_EXIT_USAGE = 2,   /* bad command, option or value; unknown resource */
	UCMCTL_EXIT_SERVER = 3,  /* no connection, TLS failure, 5xx, unreadable answer */
};

/* Room for one error sentence built before we know how it will be reported. */
#define UCMCTL_ERR_LEN 512

/* ---- text.c: small string helpers ------------------------------------------------------- */

/* A growing, always NUL-terminated string. Allocation failure aborts: a CLI has no better
 * way to recover, and it keeps every caller free of error paths that are never taken. */
struct ucmctl_buf {
	char *s;
	size_t len;
	size_t cap;
};

void ucmctl_buf_init(struct ucmctl_buf *b);
void ucmctl_buf_add(struct ucmctl_buf *b, const char *s);
void ucmctl_buf_addn(struct ucmctl_buf *b, const char *s, size_t n);
void ucmctl_buf_addf(struct ucmctl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the string over to the caller (never NULL); b must be initialised again to reuse. */
char *ucmctl_buf_take(struct ucmctl_buf *b);
void ucmctl_buf_free(struct ucmctl_buf *b);

void *ucmctl_xmalloc(size_t n);
char *ucmctl_xstrdup(const char *s);

/* Names compare case-insensitively with '-', '_' and ' ' equal, so `--device-pool`, `--device_pool`
 * and `directory_numbers` all find what the schema spells differently. */
bool ucmctl_text_name_eq(const char *a, const char *b);
/* Edit distance under the same equivalence, for "did you mean" suggestions. */
size_t ucmctl_text_distance(const char *a, const char *b);
/* Whether `candidate` is close enough to the mistyped `typed` to be suggested. */
bool ucmctl_text_is_close(const char *typed, const char *candidate);
/* Columns a UTF-8 string takes on a terminal (one per code point; no East Asian widths). */
size_t ucmctl_text_width(const char *s);
/* Replaces terminal control characters (C0, DEL, C1) in place so that data from the server
 * can neither break table alignment nor send escape sequences to the terminal. */
void ucmctl_text_sanitize(char *s);
/* Shortens s in place to at most max columns, ending in "..." when something was cut. */
void ucmctl_text_truncate(char *s, size_t max);
/* Percent-encodes everything but RFC 3986 unreserved characters. */
char *ucmctl_text_urlencode(const char *s);
/* Reads the first line of a file without its line ending. NULL (errno set) on failure. */
char *ucmctl_text_read_first_line(const char *path);
/* Overwrites and frees a secret. */
void ucmctl_text_free_secret(char *s);

/* ---- schema.c: the resource descriptions from GET /api/v1/schema ------------------------ */

enum ucmctl_type {
	UCMCTL_T_STRING,
	UCMCTL_T_INTEGER,
	UCMCTL_T_BOOLEAN,
	UCMCTL_T_ENUM,
	UCMCTL_T_STRING_LIST,
	UCMCTL_T_LINES,
	UCMCTL_T_TIMESTAMP,
	UCMCTL_T_JSON,
	UCMCTL_T_OTHER, /* a type newer than this ucmctl: passed through as a string */
};

struct ucmctl_field {
	const char *name;
	const char *type_name;
	enum ucmctl_type type;
	bool required;
	bool read_only;
	bool write_only;
	bool summary;
	bool immutable; /* set at creation, then fixed */
	const char *description;
	json_t *def; /* borrowed from the schema; NULL or JSON null when none */
	json_t *min; /* integer limits and string length limit, likewise */
	json_t *max;
	json_t *min_length;
	json_t *max_length;
	json_t *values; /* allowed values of an enum; NULL otherwise */
};

struct ucmctl_resource {
	const char *name;     /* the path segment: "directory-numbers" */
	const char *singular; /* "directory-number" */
	const char *key;      /* field that names a record in URLs */
	const char *description;
	json_t *methods;
	json_t *actions;
	struct ucmctl_field *fields;
	size_t nfields;
	json_t *obj; /* the resource's own schema object, for --json help */
};

struct ucmctl_schema {
	json_t *root;
	struct ucmctl_resource *res;
	size_t nres;
};

/* Takes over the reference to root. On failure fills err and leaves nothing to free. */
int ucmctl_schema_parse(struct ucmctl_schema *schema, json_t *root, char *err, size_t errlen);
void ucmctl_schema_free(struct ucmctl_schema *schema);
/* Finds a resource by plural or singular name, '_' or '-' alike; NULL if none. */
const struct ucmctl_resource *ucmctl_schema_find(const struct ucmctl_schema *schema,
                                                 const char *word);
/* Appends to b the resource names close to a mistyped word ("" if none). */
void ucmctl_schema_suggest(const struct ucmctl_schema *schema, const char *word,
                           struct ucmctl_buf *b);
const struct ucmctl_field *ucmctl_schema_field(const struct ucmctl_resource *res, const char *name);
bool ucmctl_schema_has_method(const struct ucmctl_resource *res, const char *method);
bool ucmctl_schema_has_action(const struct ucmctl_resource *res, const char *action);
/* Scalar: fits in one table cell and one query parameter. */
bool ucmctl_schema_is_scalar(const struct ucmctl_field *f);
/* The list table's columns: the key, then up to five summary fields (or, when the server marks
 * none, the first five scalar fields that are not secrets). Returns how many were chosen. */
size_t ucmctl_schema_columns(const struct ucmctl_resource *res, const struct ucmctl_field **out,
                             size_t max);

/* ---- value.c: text on the command line <-> JSON values ---------------------------------- */

bool ucmctl_value_parse_bool(const char *text, bool *out);
/* Strict: optional sign, digits only, no overflow. */
bool ucmctl_value_parse_int(const char *text, json_int_t *out);
/* "1001,1002:amckenzi+bjones" -> [{"directory_number": "1001"}, {"directory_number": "1002",
 * "associated_users": ["amckenzi", "bjones"]}]. */
json_t *ucmctl_value_parse_lines(const char *text, char *err, size_t errlen);
json_t *ucmctl_value_parse_list(const char *text, char *err, size_t errlen);
/* Converts an option's text by the field's type; NULL with err filled if it does not fit. */
json_t *ucmctl_value_from_text(const struct ucmctl_field *f, const char *text, char *err,
                               size_t errlen);
/* Renders a value for people: lists joined with ", ", lines as "1001 (amckenzi)", null as "".
 * f may be NULL for fields the schema does not describe. Never NULL; free() it. */
char *ucmctl_value_to_text(const struct ucmctl_field *f, json_t *v);

/* ---- table.c: aligned columns --------------------------------------------------------- */

struct ucmctl_table {
	size_t ncols;
	size_t nrows; /* including the header */
	char **cells; /* row-major, owned */
};

void ucmctl_table_init(struct ucmctl_table *t, size_t ncols);
/* Adds a row of ncols cells; copies, sanitizes and (except in the first column, which holds
 * the key people type back in) shortens overlong cells. */
void ucmctl_table_add(struct ucmctl_table *t, const char *const *cells);
/* Column widths in terminal columns; widths has ncols entries. */
void ucmctl_table_widths(const struct ucmctl_table *t, size_t *widths);
void ucmctl_table_print(const struct ucmctl_table *t, FILE *out);
void ucmctl_table_free(struct ucmctl_table *t);
/* Prints a record as "field   value" lines. Secrets the server should never send anyway are
 * masked, so a server bug cannot make us print one. */
void ucmctl_table_print_record(const struct ucmctl_resource *res, json_t *record, FILE *out);

/* ---- args.c: a resource command's options ---------------------------------------------- */

enum ucmctl_args_mode {
	UCMCTL_ARGS_FILTER, /* list: scalar filters, --limit, --offset */
	UCMCTL_ARGS_WRITE,  /* create, update: the record's writable fields */
	UCMCTL_ARGS_NONE,   /* get, delete, actions: only the key */
};

struct ucmctl_args {
	json_t *fields;     /* field name -> value (WRITE) or JSON string (FILTER) */
	const char *pos[2]; /* positional words; only the key is expected */
	size_t npos;
	const char *limit;
	const char *offset;
};

/* "device_pool" -> "--device-pool"; free() it. */
char *ucmctl_args_option_name(const char *field);
/* Whether a field also has a --FIELD-file option: secrets, kept out of argv and history. */
bool ucmctl_args_takes_file(const struct ucmctl_field *f);
/* Returns UCMCTL_EXIT_OK or UCMCTL_EXIT_USAGE with err filled. */
int ucmctl_args_parse(const struct ucmctl_resource *res, enum ucmctl_args_mode mode, int argc,
                      char **argv, struct ucmctl_args *out, char *err, size_t errlen);
void ucmctl_args_free(struct ucmctl_args *a);

/* ---- http.c: one HTTPS exchange with ucmd ---------------------------------------------- */

struct ucmctl_http {
	void *curl; /* CURL *, reused so that one run uses one TLS connection */
	const char *server;
	const char *ca;
	const char *user;     /* NULL: no authentication */
	const char *password; /* never logged, never in a URL */
};

struct ucmctl_response {
	long status;   /* 0 when no answer arrived */
	json_t *json;  /* NULL when the body was empty or not JSON */
	size_t length; /* of the body, to tell "empty" from "not JSON" */
	char error[UCMCTL_ERR_LEN];
};

/* Checks that a server URL is https and carries no credentials. */
int ucmctl_http_check_url(const char *url, char *err, size_t errlen);
int ucmctl_http_init(struct ucmctl_http *h);
void ucmctl_http_cleanup(struct ucmctl_http *h);
/* path is below /api/v1/ and already encoded. Returns 0 when an answer arrived (any status)
 * and -1 with resp->error filled when none did. */
int ucmctl_http_request(struct ucmctl_http *h, const char *method, const char *path, json_t *body,
                        struct ucmctl_response *resp);
void ucmctl_http_response_free(struct ucmctl_response *resp);

/* ---- ucmctl.c: the run as a whole ------------------------------------------------------ */

struct ucmctl {
	const char *server;
	const char *user;
	const char *password_file;
	const char *ca;
	const char *data_dir;
	bool json;
	char *password; /* read once, when the first authenticated call needs it */
	char *ca_path;  /* owned when derived from the data directory */
	struct ucmctl_http http;
	struct ucmctl_schema schema;
	bool have_schema;
};

/* ucmd's data directory unless --data-dir or UCM_DATA_DIR says otherwise. */
#define UCMCTL_DEFAULT_DATA_DIR "/var/lib/openucm"

int ucmctl_run(int argc, char **argv);
/* Matches `--name VALUE` and `--name=VALUE` at argv[*i]. Returns 1 when matched (*i moved past
 * the value), 0 when argv[*i] is something else, -1 when the value is missing. */
int ucmctl_option_value(int argc, char **argv, int *i, const char *name, const char **val);
/* Sends one request and reports failures (stderr; stdout too with --json). On success *out (if
 * not NULL) gets the answer, possibly NULL for 204. Returns an exit code. */
int ucmctl_call(struct ucmctl *ctx, const char *method, const char *path, json_t *body, bool auth,
                json_t **out);
/* Prints a usage error and returns UCMCTL_EXIT_USAGE. */
int ucmctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ucmctl_load_schema(struct ucmctl *ctx);
/* Prints a JSON answer as --json promises: the server's document, indented. */
void ucmctl_print_json(json_t *v, FILE *out);

/* ---- secret.c: passwords ------------------------------------------------------------- */

/* The administrator password: --password-file, else UCM_PASSWORD, else a prompt without echo
 * when stdin is a terminal. NULL with err filled when there is no way to get one. With
 * confirm, a prompt asks twice (for choosing a new password). */
char *ucmctl_secret_password(const char *file, const char *prompt, bool confirm, char *err,
                             size_t errlen);

/* ---- init.c, resource.c: the commands -------------------------------------------------- */

int ucmctl_init_run(struct ucmctl *ctx, int argc, char **argv);
int ucmctl_resource_run(struct ucmctl *ctx, const struct ucmctl_resource *res, int argc,
                        char **argv);
int ucmctl_resource_list_all(struct ucmctl *ctx);
void ucmctl_resource_help(const struct ucmctl_resource *res, FILE *out);

#endif
