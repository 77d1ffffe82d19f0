/*
 * Enterprise parameters (cluster-wide) and service parameters (per service). Their set is
 * fixed by the migrations; administrators change values, each checked by its own rule.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum param_rule { PARAM_ENUM, PARAM_INT, PARAM_DOMAIN, PARAM_TEXT };

struct param_spec {
	const char *name;
	enum param_rule rule;
	long long min, max;
	const char *const *values;
};

static const char *const cluster_modes[] = {"non_secure", "mixed", NULL};
static const char *const booleans[] = {"true", "false", NULL};
static const char *const digest_orders[] = {"SHA-256,MD5", "MD5,SHA-256", "SHA-256", "MD5", NULL};

static const struct param_spec param_specs[] = {
    {"organization_top_level_domain", PARAM_DOMAIN, 0, 0, NULL},
    {"cluster_security_mode", PARAM_ENUM, 0, 0, cluster_modes},
    {"capf_operation_expires_in_days", PARAM_INT, 1, 365, NULL},
    {"cluster_id", PARAM_TEXT, 1, 50, NULL},
    {"enable_dependency_records", PARAM_ENUM, 0, 0, booleans},
    {"sip_station_realm", PARAM_TEXT, 1, 128, NULL},
    {"sip_digest_algorithms", PARAM_ENUM, 0, 0, digest_orders},
    {"sip_dual_mode_alert_timer", PARAM_INT, 0, 60000, NULL},
    {"sip_station_udp_port_throttle_threshold", PARAM_INT, 1, 10000, NULL},
    {"capf_certificate_issuer_to_endpoint", PARAM_TEXT, 1, 128, NULL},
    {"capf_certificate_validity_years", PARAM_INT, 1, 20, NULL},
    {"capf_max_key_generation_retries", PARAM_INT, 0, 10, NULL},
    {"capf_wrong_authentication_string_limit", PARAM_INT, 1, 100, NULL},
    {"admin_failed_login_limit", PARAM_INT, 1, 1000, NULL},
    {"allow_weak_rsa", PARAM_ENUM, 0, 0, booleans},
    {"certificate_overlap_days", PARAM_INT, 0, 365, NULL},
    {"legacy_rc4_config_encryption", PARAM_ENUM, 0, 0, booleans},
    {"sip_tls_null_sha", PARAM_ENUM, 0, 0, booleans},
};

int store_param_get(struct store *s, const char *table, const char *name, char *out, size_t size)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT value FROM %s WHERE name = ?1", table);
	return store_db_lookup(s, sql, name, out, size, NULL) == 1 ? 0 : -1;
}

static bool valid_domain(const char *d)
{
	/* Labels of letters, digits and inner hyphens, separated by dots; at least two. */
	size_t label = 0;
	int labels = 1;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0, labels++;
		} else if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
		                  *p)) {
			if (++label > 63 || (label == 1 && *p == '-'))
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && labels >= 2 && strlen(d) <= 253;
}

static int check_rule(const struct param_spec *spec, const char *v, struct base_err *err)
{
	switch (spec->rule) {
	case PARAM_ENUM:
		for (const char *const *e = spec->values; *e; e++)
			if (strcmp(*e, v) == 0)
				return 0;
		return base_err_set(err, BASE_E_INVALID, "value", "%s must be %s or %s", spec->name,
		                    spec->values[0], spec->values[1]);
	case PARAM_INT: {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (!*v || *end || n < spec->min || n > spec->max)
			return base_err_set(err, BASE_E_INVALID, "value",
			                    "%s must be a whole number from %lld to %lld",
			                    spec->name, spec->min, spec->max);
		return 0;
	}
	case PARAM_DOMAIN:
		if (*v && !valid_domain(v))
			return base_err_set(err, BASE_E_INVALID, "value",
			                    "%s must be a domain name such as example.com",
			                    spec->name);
		return 0;
	case PARAM_TEXT:
		if ((long long)strlen(v) < spec->min || (long long)strlen(v) > spec->max)
			return base_err_set(err, BASE_E_INVALID, "value",
			                    "%s must be %lld to %lld characters", spec->name,
			                    spec->min, spec->max);
		return 0;
	}
	return 0;
}

/* Clearing the domain would strand existing Jabber mobile devices (D000). */
static int check_domain_clear(struct store *s, const char *value, struct base_err *err)
{
	if (*value)
		return 0;
	char device[64];
	int found = store_db_lookup_params(
	    s, "SELECT name FROM device WHERE type IN ('tct', 'bot', 'tab') LIMIT 1", NULL, 0,
	    device, sizeof(device), err);
	if (found < 0)
		return -1;
	if (found)
		return base_err_set(err, BASE_E_INVALID, "value",
		                    "organization_top_level_domain cannot be cleared while tct, "
		                    "bot or tab devices exist (%s)",
		                    device);
	return 0;
}

/* HA1 binds the realm; changing it would silently break every digest credential. */
static int check_realm_change(struct store *s, struct base_err *err)
{
	int found = store_db_lookup_params(
	    s,
	    "SELECT user_id FROM end_user WHERE digest_credentials_secret IS NOT NULL UNION ALL "
	    "SELECT user_id FROM app_user WHERE digest_credentials_secret IS NOT NULL LIMIT 1",
	    NULL, 0, NULL, 0, err);
	if (found < 0)
		return -1;
	if (found)
		return base_err_set(err, BASE_E_INVALID, "value",
		                    "the realm can only change while no user has digest "
		                    "credentials: each stored credential is bound to the realm");
	return 0;
}

static int validate_param(struct store *s, json_t *rec, const json_t *before, const json_t *input,
                          struct base_err *err)
{
	(void)input;
	if (!before)
		return base_err_set(err, BASE_E_FORBIDDEN, NULL, "parameters cannot be created");
	const char *name = store_json_str(rec, "name"), *value = store_json_str(rec, "value");
	for (size_t i = 0; i < sizeof(param_specs) / sizeof(param_specs[0]); i++) {
		if (strcmp(param_specs[i].name, name) != 0)
			continue;
		if (check_rule(&param_specs[i], value, err) != 0)
			return -1;
		if (strcmp(name, "organization_top_level_domain") == 0)
			return check_domain_clear(s, value, err);
		if (strcmp(name, "sip_station_realm") == 0 &&
		    strcmp(value, store_json_str(before, "value")) != 0)
			return check_realm_change(s, err);
		return 0;
	}
	return base_err_set(err, BASE_E_INTERNAL, "name", "no rule for parameter %s", name);
}

#define PARAM_COMMON_FIELDS                                                                        \
	{.name = "name",                                                                           \
	 .type = STORE_T_STRING,                                                                   \
	 .flags = STORE_F_KEY | STORE_F_READ_ONLY | STORE_F_SUMMARY},                              \
	    {.name = "value",                                                                      \
	     .type = STORE_T_STRING,                                                               \
	     .flags = STORE_F_SUMMARY,                                                             \
	     .min = 0,                                                                             \
	     .max = 255},                                                                          \
	    {.name = "default_value", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY},         \
	{                                                                                          \
		.name = "description", .type = STORE_T_STRING,                                     \
		.flags = STORE_F_READ_ONLY | STORE_F_SUMMARY                                       \
	}

static const struct store_field enterprise_parameter_fields[] = {
    PARAM_COMMON_FIELDS,
    {0},
};

static const struct store_field service_parameter_fields[] = {
    PARAM_COMMON_FIELDS,
    {.name = "service", .type = STORE_T_STRING, .flags = STORE_F_READ_ONLY | STORE_F_SUMMARY},
    {0},
};

const struct store_kind store_kind_enterprise_parameters = {
    .name = "enterprise-parameters",
    .singular = "enterprise parameter",
    .table = "enterprise_parameter",
    .fields = enterprise_parameter_fields,
    .methods = STORE_M_READ | STORE_M_UPDATE,
    .validate = validate_param,
};

const struct store_kind store_kind_service_parameters = {
    .name = "service-parameters",
    .singular = "service parameter",
    .table = "service_parameter",
    .fields = service_parameter_fields,
    .methods = STORE_M_READ | STORE_M_UPDATE,
    .validate = validate_param,
};
