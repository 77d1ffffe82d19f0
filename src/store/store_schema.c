/* The list of kinds and the schema document that GET /api/v1/schema serves. */
#include "store/store_int.h"

#include <string.h>

const struct store_kind *const store_kinds[] = {
    &store_kind_end_users,
    &store_kind_app_users,
    &store_kind_user_groups,
    &store_kind_devices,
    &store_kind_directory_numbers,
    &store_kind_sip_profiles,
    &store_kind_phone_security_profiles,
    &store_kind_sip_trunk_security_profiles,
    &store_kind_sip_trunks,
    &store_kind_capf_profiles,
    &store_kind_enterprise_parameters,
    &store_kind_service_parameters,
    &store_kind_device_actions,
    &store_kind_registrations,
    &store_kind_audit_log,
    &store_kind_issued_certificates,
    NULL,
};

const struct store_kind *store_kind_find(const char *name)
{
	for (const struct store_kind *const *k = store_kinds; *k; k++)
		if (strcmp((*k)->name, name) == 0)
			return *k;
	return NULL;
}

const char *store_kind_name(const struct store_kind *kind)
{
	return kind->name;
}

const char *store_kind_key_name(const struct store_kind *kind)
{
	return store_kind_key(kind)->name;
}

const char *const *store_kind_actions(const struct store_kind *kind)
{
	return kind->actions;
}

bool store_kind_allows(const struct store_kind *kind, const char *method)
{
	static const struct {
		const char *name;
		unsigned bit;
	} methods[] = {{"list", STORE_M_LIST},
	               {"get", STORE_M_GET},
	               {"create", STORE_M_CREATE},
	               {"update", STORE_M_UPDATE},
	               {"delete", STORE_M_DELETE}};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, method) == 0)
			return (kind->methods & methods[i].bit) != 0;
	return false;
}

static const char *type_name(enum store_field_type t)
{
	static const char *const names[] = {"string",      "integer", "boolean",   "enum",
	                                    "string_list", "lines",   "timestamp", "json"};
	return names[t];
}

static json_t *field_json(const struct store_field *f)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:s}", "name", f->name, "type",
	              type_name(f->type), "required", !!(f->flags & STORE_F_REQUIRED), "read_only",
	              !!(f->flags & STORE_F_READ_ONLY), "write_only",
	              !!(f->flags & STORE_F_WRITE_ONLY), "summary", !!(f->flags & STORE_F_SUMMARY),
	              "immutable", !!(f->flags & (STORE_F_IMMUTABLE | STORE_F_KEY)), "description",
	              f->description ? f->description : "");
	json_object_set_new(o, "default", f->def ? json_string(f->def) : json_null());
	bool limited = f->min <= f->max && !(f->min == 0 && f->max == 0);
	bool is_string = f->type == STORE_T_STRING;
	json_object_set_new(o, "min", limited && !is_string ? json_integer(f->min) : json_null());
	json_object_set_new(o, "max", limited && !is_string ? json_integer(f->max) : json_null());
	json_object_set_new(o, "min_length",
	                    limited && is_string ? json_integer(f->min) : json_null());
	json_object_set_new(o, "max_length",
	                    limited && is_string ? json_integer(f->max) : json_null());
	if (f->values) {
		json_t *values = json_array();
		for (const char *const *v = f->values; *v; v++)
			json_array_append_new(values, json_string(*v));
		json_object_set_new(o, "values", values);
	}
	if (f->ref)
		json_object_set_new(o, "refers_to", json_string(f->ref));
	if (f->link)
		json_object_set_new(o, "refers_to", json_string(f->link->target));
	return o;
}

json_t *store_schema_json(void)
{
	json_t *resources = json_array();
	for (const struct store_kind *const *k = store_kinds; *k; k++) {
		const struct store_kind *kind = *k;
		json_t *methods = json_array(), *actions = json_array(), *fields = json_array();
		static const char *const all[] = {"list", "get", "create", "update", "delete"};
		for (size_t i = 0; i < 5; i++)
			if (store_kind_allows(kind, all[i]))
				json_array_append_new(methods, json_string(all[i]));
		for (const char *const *a = kind->actions; a && *a; a++)
			json_array_append_new(actions, json_string(*a));
		for (const struct store_field *f = kind->fields; f->name; f++)
			json_array_append_new(fields, field_json(f));
		json_array_append_new(resources,
		                      json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name",
		                                kind->name, "singular", kind->singular, "key",
		                                store_kind_key(kind)->name, "methods", methods,
		                                "actions", actions, "fields", fields));
	}
	return json_pack("{s:o}", "resources", resources);
}
