/* resource.c: list, get, create, update, delete, actions and help of one schema resource. */
#include "ucmctl.h"

#include "base/base.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define UCMCTL_RESOURCE_MAX_COLUMNS 6 /* the key and five more */

/* "devices/<key>" or "devices/<key>/<action>", with the key percent-encoded: keys such as
 * "Standard CCM Super Users" hold spaces, and a '/' in a key must not become a path. */
static char *ucmctl_resource_path(const struct ucmctl_resource *res, const char *key,
                                  const char *action)
{
	struct ucmctl_buf b;
	char *k;

	ucmctl_buf_init(&b);
	ucmctl_buf_add(&b, res->name);
	if (key) {
		k = ucmctl_text_urlencode(key);
		ucmctl_buf_addf(&b, "/%s", k);
		free(k);
	}
	if (action)
		ucmctl_buf_addf(&b, "/%s", action);
	return ucmctl_buf_take(&b);
}

/* The key as a placeholder in usage lines, NAME or USER_ID. A static buffer is enough: each
 * use is printed before the next. */
static const char *ucmctl_resource_placeholder(const struct ucmctl_resource *res)
{
	static char buf[64];
	char *p;

	base_strlcpy(buf, res->key, sizeof(buf));
	for (p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return buf;
}

static void ucmctl_resource_join(struct ucmctl_buf *b, json_t *array)
{
	size_t i;
	json_t *v;

	for (i = 0; i < json_array_size(array); i++) {
		v = json_array_get(array, i);
		if (json_is_string(v))
			ucmctl_buf_addf(b, "%s%s", b->len ? ", " : "", json_string_value(v));
	}
}

static int ucmctl_resource_usage(const struct ucmctl_resource *res, const char *what)
{
	struct ucmctl_buf cmds;
	int rc;

	ucmctl_buf_init(&cmds);
	ucmctl_resource_join(&cmds, res->methods);
	ucmctl_resource_join(&cmds, res->actions);
	ucmctl_buf_addf(&cmds, "%shelp", cmds.len ? ", " : "");
	if (what)
		rc = ucmctl_usage_error("%s has no command \"%s\" (commands: %s)", res->name, what,
		                        cmds.s);
	else
		rc = ucmctl_usage_error("usage: ucmctl %s COMMAND ... (commands: %s)", res->name,
		                        cmds.s);
	ucmctl_buf_free(&cmds);
	return rc;
}

static void ucmctl_resource_print_record(struct ucmctl *ctx, const struct ucmctl_resource *res,
                                         json_t *record)
{
	if (ctx->json)
		ucmctl_print_json(record, stdout);
	else if (record)
		ucmctl_table_print_record(res, record, stdout);
}

static int ucmctl_resource_list(struct ucmctl *ctx, const struct ucmctl_resource *res,
                                const struct ucmctl_args *a)
{
	const struct ucmctl_field *cols[UCMCTL_RESOURCE_MAX_COLUMNS];
	const char *cells[UCMCTL_RESOURCE_MAX_COLUMNS];
	struct ucmctl_table table;
	struct ucmctl_buf path;
	size_t ncols, i, c;
	json_t *answer, *items, *item, *v;
	void *it;
	char sep = '?';
	int rc;

	ucmctl_buf_init(&path);
	ucmctl_buf_add(&path, res->name);
	if (a->limit) {
		ucmctl_buf_addf(&path, "%climit=%s", sep, a->limit);
		sep = '&';
	}
	if (a->offset) {
		ucmctl_buf_addf(&path, "%coffset=%s", sep, a->offset);
		sep = '&';
	}
	for (it = json_object_iter(a->fields); it; it = json_object_iter_next(a->fields, it)) {
		const char *name = json_object_iter_key(it);
		json_t *val = json_object_iter_value(it);
		char *k = ucmctl_text_urlencode(name),
		     *e = ucmctl_text_urlencode(json_string_value(val));

		ucmctl_buf_addf(&path, "%c%s=%s", sep, k, e);
		sep = '&';
		free(k);
		free(e);
	}
	rc = ucmctl_call(ctx, "GET", path.s, NULL, true, &answer);
	ucmctl_buf_free(&path);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	items = json_object_get(answer, "items");
	if (!json_is_array(items)) {
		fprintf(stderr, "ucmctl: the server's list has no items\n");
		json_decref(answer);
		return UCMCTL_EXIT_SERVER;
	}
	if (ctx->json) {
		ucmctl_print_json(answer, stdout);
		json_decref(answer);
		return UCMCTL_EXIT_OK;
	}
	ncols = ucmctl_schema_columns(res, cols, UCMCTL_RESOURCE_MAX_COLUMNS);
	ucmctl_table_init(&table, ncols);
	for (c = 0; c < ncols; c++) {
		char *h = ucmctl_xstrdup(cols[c]->name), *p;

		for (p = h; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		cells[c] = h;
	}
	ucmctl_table_add(&table, cells);
	for (c = 0; c < ncols; c++)
		free((char *)cells[c]);
	for (i = 0; i < json_array_size(items); i++) {
		item = json_array_get(items, i);
		for (c = 0; c < ncols; c++)
			cells[c] =
			    ucmctl_value_to_text(cols[c], json_object_get(item, cols[c]->name));
		ucmctl_table_add(&table, cells);
		for (c = 0; c < ncols; c++)
			free((char *)cells[c]);
	}
	ucmctl_table_print(&table, stdout);
	ucmctl_table_free(&table);
	v = json_object_get(answer, "total");
	printf("%zu of %" JSON_INTEGER_FORMAT, json_array_size(items),
	       json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_array_size(items));
	v = json_object_get(answer, "offset");
	if (json_integer_value(v) > 0)
		printf(" (from offset %" JSON_INTEGER_FORMAT ")", json_integer_value(v));
	putchar('\n');
	json_decref(answer);
	return UCMCTL_EXIT_OK;
}

/* create and update: the record's fields, with an optional key word for create. */
static int ucmctl_resource_write(struct ucmctl *ctx, const struct ucmctl_resource *res,
                                 struct ucmctl_args *a, bool create)
{
	json_t *given = json_object_get(a->fields, res->key), *answer, *body;
	char *path, *opt = ucmctl_args_option_name(res->key);
	int rc;

	if (create && a->npos > 1)
		rc = ucmctl_usage_error("create takes at most one %s", res->key);
	else if (!create && a->npos != 1)
		rc = ucmctl_usage_error("usage: ucmctl %s update %s --FIELD VALUE ...", res->name,
		                        ucmctl_resource_placeholder(res));
	else if (!create && given)
		rc = ucmctl_usage_error("%s: the key cannot be changed", opt);
	else if (!create && json_object_size(a->fields) == 0)
		rc = ucmctl_usage_error("nothing to update: give at least one --FIELD VALUE");
	else if (create && a->npos == 1 && given &&
	         (!json_is_string(given) || strcmp(json_string_value(given), a->pos[0]) != 0))
		rc = ucmctl_usage_error("%s given twice, as \"%s\" and with %s", res->key,
		                        a->pos[0], opt);
	else
		rc = UCMCTL_EXIT_OK;
	free(opt);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (create && a->npos == 1 && !given) {
		const struct ucmctl_field *kf = ucmctl_schema_field(res, res->key);
		char err[UCMCTL_ERR_LEN];
		json_t *v;

		/* the key word is converted like --KEY would be (an integer id stays an integer) */
		v = kf ? ucmctl_value_from_text(kf, a->pos[0], err, sizeof(err))
		       : json_string(a->pos[0]);
		if (!v)
			return ucmctl_usage_error("%s: %s", res->key, err);
		/* key first, so the request (and the audit log) reads like the record */
		body = json_object();
		json_object_set_new(body, res->key, v);
		json_object_update(body, a->fields);
		json_decref(a->fields);
		a->fields = body;
	}
	path = ucmctl_resource_path(res, create ? NULL : a->pos[0], NULL);
	rc = ucmctl_call(ctx, create ? "POST" : "PATCH", path, a->fields, true, &answer);
	free(path);
	if (rc == UCMCTL_EXIT_OK)
		ucmctl_resource_print_record(ctx, res, answer);
	json_decref(answer);
	return rc;
}

/* get, delete and the actions: one key, no options. */
static int ucmctl_resource_keyed(struct ucmctl *ctx, const struct ucmctl_resource *res,
                                 const char *verb, const struct ucmctl_args *a)
{
	bool get = strcmp(verb, "get") == 0, del = strcmp(verb, "delete") == 0;
	json_t *answer;
	char *path;
	int rc;

	if (a->npos != 1)
		return ucmctl_usage_error("usage: ucmctl %s %s %s", res->name, verb,
		                          ucmctl_resource_placeholder(res));
	path = ucmctl_resource_path(res, a->pos[0], get || del ? NULL : verb);
	rc = ucmctl_call(ctx, get ? "GET" : del ? "DELETE" : "POST", path, NULL, true, &answer);
	free(path);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (del && !ctx->json) {
		char *key = ucmctl_xstrdup(a->pos[0]);

		ucmctl_text_sanitize(key);
		printf("%s %s deleted\n", res->singular, key);
		free(key);
	} else if (get) {
		ucmctl_resource_print_record(ctx, res, answer);
	} else {
		/* an action answers with the recorded device action, a different resource */
		ucmctl_resource_print_record(ctx, NULL, answer);
	}
	json_decref(answer);
	return UCMCTL_EXIT_OK;
}

int ucmctl_resource_run(struct ucmctl *ctx, const struct ucmctl_resource *res, int argc,
                        char **argv)
{
	char err[UCMCTL_ERR_LEN];
	enum ucmctl_args_mode mode;
	struct ucmctl_args a;
	const char *verb;
	int rc;

	if (argc < 1)
		return ucmctl_resource_usage(res, NULL);
	verb = argv[0];
	if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0) {
		if (ctx->json)
			ucmctl_print_json(res->obj, stdout);
		else
			ucmctl_resource_help(res, stdout);
		return UCMCTL_EXIT_OK;
	}
	if (strcmp(verb, "list") == 0 || strcmp(verb, "get") == 0 || strcmp(verb, "create") == 0 ||
	    strcmp(verb, "update") == 0 || strcmp(verb, "delete") == 0) {
		if (!ucmctl_schema_has_method(res, verb))
			return ucmctl_resource_usage(res, verb);
	} else if (!ucmctl_schema_has_action(res, verb)) {
		return ucmctl_resource_usage(res, verb);
	}
	if (strcmp(verb, "list") == 0)
		mode = UCMCTL_ARGS_FILTER;
	else if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0)
		mode = UCMCTL_ARGS_WRITE;
	else
		mode = UCMCTL_ARGS_NONE;
	if (ucmctl_args_parse(res, mode, argc - 1, argv + 1, &a, err, sizeof(err)) !=
	    UCMCTL_EXIT_OK) {
		ucmctl_args_free(&a);
		return ucmctl_usage_error("%s", err);
	}
	if (mode == UCMCTL_ARGS_FILTER && a.npos > 0) {
		char *opt = ucmctl_args_option_name(res->key);

		rc = ucmctl_usage_error("list takes no %s; filter with %s VALUE", res->key, opt);
		free(opt);
	} else if (mode == UCMCTL_ARGS_FILTER)
		rc = ucmctl_resource_list(ctx, res, &a);
	else if (mode == UCMCTL_ARGS_WRITE)
		rc = ucmctl_resource_write(ctx, res, &a, strcmp(verb, "create") == 0);
	else
		rc = ucmctl_resource_keyed(ctx, res, verb, &a);
	ucmctl_args_free(&a);
	return rc;
}

int ucmctl_resource_list_all(struct ucmctl *ctx)
{
	const char *cells[5] = {"RESOURCE", "SINGULAR", "KEY", "METHODS", "ACTIONS"};
	struct ucmctl_table table;
	size_t i;

	if (ctx->json) {
		ucmctl_print_json(ctx->schema.root, stdout);
		return UCMCTL_EXIT_OK;
	}
	ucmctl_table_init(&table, 5);
	ucmctl_table_add(&table, cells);
	for (i = 0; i < ctx->schema.nres; i++) {
		const struct ucmctl_resource *r = &ctx->schema.res[i];
		struct ucmctl_buf methods, actions;

		ucmctl_buf_init(&methods);
		ucmctl_buf_init(&actions);
		ucmctl_resource_join(&methods, r->methods);
		ucmctl_resource_join(&actions, r->actions);
		cells[0] = r->name;
		cells[1] = r->singular;
		cells[2] = r->key;
		cells[3] = methods.s;
		cells[4] = actions.s;
		ucmctl_table_add(&table, cells);
		ucmctl_buf_free(&methods);
		ucmctl_buf_free(&actions);
	}
	ucmctl_table_print(&table, stdout);
	ucmctl_table_free(&table);
	return UCMCTL_EXIT_OK;
}
