/* schema.c: the server's description of its resources, which ucmctl's options are built from. */
#include "ucmctl.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum ucmctl_type type;
} ucmctl_schema_types[] = {
    {"string", UCMCTL_T_STRING},           {"integer", UCMCTL_T_INTEGER},
    {"boolean", UCMCTL_T_BOOLEAN},         {"enum", UCMCTL_T_ENUM},
    {"string_list", UCMCTL_T_STRING_LIST}, {"lines", UCMCTL_T_LINES},
    {"timestamp", UCMCTL_T_TIMESTAMP},     {"json", UCMCTL_T_JSON},
};

static enum ucmctl_type ucmctl_schema_type(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ucmctl_schema_types) / sizeof(ucmctl_schema_types[0]); i++)
		if (strcmp(name, ucmctl_schema_types[i].name) == 0)
			return ucmctl_schema_types[i].type;
	return UCMCTL_T_OTHER;
}

static const char *ucmctl_schema_str(json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : dflt;
}

static json_t *ucmctl_schema_opt(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int ucmctl_schema_parse_field(struct ucmctl_field *f, json_t *obj, const char *res,
                                     char *err, size_t errlen)
{
	f->name = json_string_value(json_object_get(obj, "name"));
	if (!json_is_object(obj) || !f->name || !*f->name) {
		snprintf(err, errlen, "schema of %s has a field without a name", res);
		return -1;
	}
	f->type_name = ucmctl_schema_str(obj, "type", "string");
	f->type = ucmctl_schema_type(f->type_name);
	f->required = json_is_true(json_object_get(obj, "required"));
	f->read_only = json_is_true(json_object_get(obj, "read_only"));
	f->write_only = json_is_true(json_object_get(obj, "write_only"));
	f->summary = json_is_true(json_object_get(obj, "summary"));
	f->immutable = json_is_true(json_object_get(obj, "immutable"));
	f->description = ucmctl_schema_str(obj, "description", "");
	f->def = ucmctl_schema_opt(obj, "default");
	f->min = ucmctl_schema_opt(obj, "min");
	f->max = ucmctl_schema_opt(obj, "max");
	f->min_length = ucmctl_schema_opt(obj, "min_length");
	f->max_length = ucmctl_schema_opt(obj, "max_length");
	f->values =
	    json_is_array(json_object_get(obj, "values")) ? json_object_get(obj, "values") : NULL;
	return 0;
}

static int ucmctl_schema_parse_resource(struct ucmctl_resource *r, json_t *obj, char *err,
                                        size_t errlen)
{
	json_t *fields = json_object_get(obj, "fields");
	size_t i;

	r->obj = obj;
	r->name = json_string_value(json_object_get(obj, "name"));
	if (!json_is_object(obj) || !r->name || !*r->name) {
		snprintf(err, errlen, "schema has a resource without a name");
		return -1;
	}
	r->singular = ucmctl_schema_str(obj, "singular", r->name);
	r->key = ucmctl_schema_str(obj, "key", "id");
	r->description = ucmctl_schema_str(obj, "description", "");
	r->methods = json_object_get(obj, "methods");
	r->actions = json_object_get(obj, "actions");
	if (!json_is_array(fields)) {
		snprintf(err, errlen, "schema of %s has no field list", r->name);
		return -1;
	}
	r->nfields = json_array_size(fields);
	r->fields = calloc(r->nfields ? r->nfields : 1, sizeof(*r->fields));
	if (!r->fields) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < r->nfields; i++)
		if (ucmctl_schema_parse_field(&r->fields[i], json_array_get(fields, i), r->name,
		                              err, errlen) < 0)
			return -1;
	return 0;
}

int ucmctl_schema_parse(struct ucmctl_schema *schema, json_t *root, char *err, size_t errlen)
{
	json_t *list = json_object_get(root, "resources");
	size_t i;

	memset(schema, 0, sizeof(*schema));
	schema->root = root;
	if (!json_is_array(list)) {
		snprintf(err, errlen, "the server's schema has no resource list");
		ucmctl_schema_free(schema);
		return -1;
	}
	schema->nres = json_array_size(list);
	schema->res = calloc(schema->nres ? schema->nres : 1, sizeof(*schema->res));
	if (!schema->res) {
		snprintf(err, errlen, "out of memory");
		ucmctl_schema_free(schema);
		return -1;
	}
	for (i = 0; i < schema->nres; i++) {
		if (ucmctl_schema_parse_resource(&schema->res[i], json_array_get(list, i), err,
		                                 errlen) < 0) {
			ucmctl_schema_free(schema);
			return -1;
		}
	}
	return 0;
}

void ucmctl_schema_free(struct ucmctl_schema *schema)
{
	size_t i;

	for (i = 0; schema->res && i < schema->nres; i++)
		free(schema->res[i].fields);
	free(schema->res);
	json_decref(schema->root);
	memset(schema, 0, sizeof(*schema));
}

const struct ucmctl_resource *ucmctl_schema_find(const struct ucmctl_schema *schema,
                                                 const char *word)
{
	size_t i;

	for (i = 0; i < schema->nres; i++) {
		const struct ucmctl_resource *r = &schema->res[i];

		if (ucmctl_text_name_eq(word, r->name) || ucmctl_text_name_eq(word, r->singular))
			return r;
	}
	return NULL;
}

void ucmctl_schema_suggest(const struct ucmctl_schema *schema, const char *word,
                           struct ucmctl_buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < schema->nres; i++) {
		const struct ucmctl_resource *r = &schema->res[i];

		if (ucmctl_text_is_close(word, r->name) || ucmctl_text_is_close(word, r->singular))
			ucmctl_buf_addf(b, "%s%s", n++ ? ", " : "", r->name);
	}
}

const struct ucmctl_field *ucmctl_schema_field(const struct ucmctl_resource *res, const char *name)
{
	size_t i;

	for (i = 0; i < res->nfields; i++)
		if (ucmctl_text_name_eq(name, res->fields[i].name))
			return &res->fields[i];
	return NULL;
}

static bool ucmctl_schema_in(json_t *array, const char *word)
{
	size_t i;
	json_t *v;

	for (i = 0; i < json_array_size(array); i++) {
		v = json_array_get(array, i);
		if (json_is_string(v) && ucmctl_text_name_eq(word, json_string_value(v)))
			return true;
	}
	return false;
}

bool ucmctl_schema_has_method(const struct ucmctl_resource *res, const char *method)
{
	return ucmctl_schema_in(res->methods, method);
}

bool ucmctl_schema_has_action(const struct ucmctl_resource *res, const char *action)
{
	return ucmctl_schema_in(res->actions, action);
}

bool ucmctl_schema_is_scalar(const struct ucmctl_field *f)
{
	switch (f->type) {
	case UCMCTL_T_STRING:
	case UCMCTL_T_INTEGER:
	case UCMCTL_T_BOOLEAN:
	case UCMCTL_T_ENUM:
	case UCMCTL_T_TIMESTAMP:
		return true;
	default:
		return false;
	}
}

size_t ucmctl_schema_columns(const struct ucmctl_resource *res, const struct ucmctl_field **out,
                             size_t max)
{
	const struct ucmctl_field *key = ucmctl_schema_field(res, res->key);
	size_t n = 0, i, extra = 0;
	bool any_summary = false;

	if (max == 0)
		return 0;
	if (key)
		out[n++] = key;
	for (i = 0; i < res->nfields; i++)
		if (res->fields[i].summary)
			any_summary = true;
	for (i = 0; i < res->nfields && n < max && extra < 5; i++) {
		const struct ucmctl_field *f = &res->fields[i];

		if (f == key || f->write_only || !ucmctl_schema_is_scalar(f))
			continue;
		if (any_summary && !f->summary)
			continue;
		out[n++] = f;
		extra++;
	}
	return n;
}
