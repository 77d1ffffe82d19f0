/* value.c: converting option text to typed JSON by the schema, and JSON back to text. */
#include "ucmctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool ucmctl_value_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

bool ucmctl_value_parse_int(const char *text, json_int_t *out)
{
	const char *p = text;
	char *end;
	long long v;

	/* strtoll alone accepts " 12", "+12" and "12abc" (as 12); a typo must not become a
	 * different number, so insist on [-]digits. */
	if (*p == '-')
		p++;
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == ERANGE || *end)
		return false;
	*out = (json_int_t)v;
	return true;
}

/* Strips spaces around [*s, *e); people write "a, b" as often as "a,b". */
static void ucmctl_value_trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* Splits text at sep into trimmed items, each non-empty. */
static json_t *ucmctl_value_split(const char *text, char sep, const char *what, char *err,
                                  size_t errlen)
{
	json_t *list = json_array();
	const char *p = text;

	for (;;) {
		const char *e = strchr(p, sep), *s = p;

		if (!e)
			e = p + strlen(p);
		ucmctl_value_trim(&s, &e);
		if (s == e) {
			snprintf(err, errlen, "empty %s in \"%s\"", what, text);
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, json_stringn(s, (size_t)(e - s)));
		p = strchr(p, sep);
		if (!p)
			break;
		p++;
	}
	return list;
}

json_t *ucmctl_value_parse_list(const char *text, char *err, size_t errlen)
{
	const char *s = text, *e = text + strlen(text);

	/* An empty string is how one clears a list; a lone "," is more likely a mistake. */
	ucmctl_value_trim(&s, &e);
	if (s == e)
		return json_array();
	return ucmctl_value_split(text, ',', "item", err, errlen);
}

static json_t *ucmctl_value_parse_line(const char *item, char *err, size_t errlen)
{
	const char *colon = strchr(item, ':');
	json_t *line = json_object(), *users;
	char *dn;

	dn = ucmctl_xstrdup(item);
	if (colon)
		dn[colon - item] = '\0';
	if (!*dn) {
		snprintf(err, errlen, "line \"%s\" has no directory number", item);
		goto fail;
	}
	json_object_set_new(line, "directory_number", json_string(dn));
	if (colon) {
		/* "1001:" names the line with an explicitly empty user list. */
		if (colon[1] == '\0')
			users = json_array();
		else
			users = ucmctl_value_split(colon + 1, '+', "user", err, errlen);
		if (!users)
			goto fail;
		json_object_set_new(line, "associated_users", users);
	}
	free(dn);
	return line;
fail:
	free(dn);
	json_decref(line);
	return NULL;
}

json_t *ucmctl_value_parse_lines(const char *text, char *err, size_t errlen)
{
	json_t *items = ucmctl_value_parse_list(text, err, errlen), *lines, *v;
	size_t i;

	if (!items)
		return NULL;
	lines = json_array();
	for (i = 0; i < json_array_size(items); i++) {
		v = json_array_get(items, i);
		json_t *line = ucmctl_value_parse_line(json_string_value(v), err, errlen);

		if (!line) {
			json_decref(lines);
			json_decref(items);
			return NULL;
		}
		json_array_append_new(lines, line);
	}
	json_decref(items);
	return lines;
}

static json_t *ucmctl_value_integer(const struct ucmctl_field *f, const char *text, char *err,
                                    size_t errlen)
{
	json_int_t v;

	if (!ucmctl_value_parse_int(text, &v)) {
		snprintf(err, errlen, "expected an integer, got \"%s\"", text);
		return NULL;
	}
	if (json_is_integer(f->min) && v < json_integer_value(f->min)) {
		snprintf(err, errlen, "%s is below the minimum %" JSON_INTEGER_FORMAT, text,
		         json_integer_value(f->min));
		return NULL;
	}
	if (json_is_integer(f->max) && v > json_integer_value(f->max)) {
		snprintf(err, errlen, "%s is above the maximum %" JSON_INTEGER_FORMAT, text,
		         json_integer_value(f->max));
		return NULL;
	}
	return json_integer(v);
}

static json_t *ucmctl_value_enum(const struct ucmctl_field *f, const char *text, char *err,
                                 size_t errlen)
{
	struct ucmctl_buf b;
	size_t i;
	json_t *v;

	if (!f->values)
		return json_string(text);
	for (i = 0; i < json_array_size(f->values); i++) {
		v = json_array_get(f->values, i);
		if (json_is_string(v) && strcmp(json_string_value(v), text) == 0)
			return json_string(text);
	}
	/* Forgive case, since enum values are identifiers, but send the schema's spelling. */
	for (i = 0; i < json_array_size(f->values); i++) {
		v = json_array_get(f->values, i);
		if (json_is_string(v) && strcasecmp(json_string_value(v), text) == 0)
			return json_string(json_string_value(v));
	}
	ucmctl_buf_init(&b);
	for (i = 0; i < json_array_size(f->values); i++) {
		v = json_array_get(f->values, i);
		if (json_is_string(v))
			ucmctl_buf_addf(&b, "%s%s", b.len ? ", " : "", json_string_value(v));
	}
	snprintf(err, errlen, "\"%s\" is not one of %s", text, b.s);
	ucmctl_buf_free(&b);
	return NULL;
}

json_t *ucmctl_value_from_text(const struct ucmctl_field *f, const char *text, char *err,
                               size_t errlen)
{
	json_error_t jerr;
	json_t *v;
	bool b;

	/* An empty value clears a field that cannot hold "": null for numbers, choices and
	 * times, [] for lists. Strings keep "" as typed. */
	if (!*text) {
		switch (f->type) {
		case UCMCTL_T_INTEGER:
		case UCMCTL_T_ENUM:
		case UCMCTL_T_TIMESTAMP:
		case UCMCTL_T_JSON:
			return json_null();
		default:
			break;
		}
	}
	switch (f->type) {
	case UCMCTL_T_INTEGER:
		return ucmctl_value_integer(f, text, err, errlen);
	case UCMCTL_T_BOOLEAN:
		if (!ucmctl_value_parse_bool(text, &b)) {
			snprintf(err, errlen,
			         "expected true/false, yes/no, on/off or 1/0, got \"%s\"", text);
			return NULL;
		}
		return json_boolean(b);
	case UCMCTL_T_ENUM:
		return ucmctl_value_enum(f, text, err, errlen);
	case UCMCTL_T_STRING_LIST:
		return ucmctl_value_parse_list(text, err, errlen);
	case UCMCTL_T_LINES:
		return ucmctl_value_parse_lines(text, err, errlen);
	case UCMCTL_T_JSON:
		v = json_loads(text, JSON_DECODE_ANY, &jerr);
		if (!v)
			snprintf(err, errlen, "not valid JSON: %s", jerr.text);
		return v;
	default:
		return json_string(text);
	}
}

/* Users of one line: "amckenzi, bjones". */
static void ucmctl_value_add_strings(struct ucmctl_buf *b, json_t *array)
{
	size_t i;
	json_t *v;

	for (i = 0; i < json_array_size(array); i++) {
		v = json_array_get(array, i);
		char *s = ucmctl_value_to_text(NULL, v);

		ucmctl_buf_addf(b, "%s%s", i ? ", " : "", s);
		free(s);
	}
}

/* Whether v looks like a `lines` value, so it is shown the same whatever the schema says. */
static bool ucmctl_value_is_lines(json_t *v)
{
	size_t i;
	json_t *item;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	for (i = 0; i < json_array_size(v); i++) {
		item = json_array_get(v, i);
		if (!json_is_string(json_object_get(item, "directory_number")))
			return false;
	}
	return true;
}

static bool ucmctl_value_is_scalar_list(json_t *v)
{
	size_t i;
	json_t *item;

	if (!json_is_array(v))
		return false;
	for (i = 0; i < json_array_size(v); i++) {
		item = json_array_get(v, i);
		if (json_is_object(item) || json_is_array(item))
			return false;
	}
	return true;
}

char *ucmctl_value_to_text(const struct ucmctl_field *f, json_t *v)
{
	struct ucmctl_buf b;
	size_t i;
	json_t *item;
	char *s;

	ucmctl_buf_init(&b);
	if (f && f->type == UCMCTL_T_JSON && v && !json_is_null(v)) {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		ucmctl_buf_add(&b, s ? s : "");
		free(s);
	} else if (!v || json_is_null(v)) {
		/* nothing: an unset field shows as blank */
	} else if (json_is_string(v)) {
		ucmctl_buf_addn(&b, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		ucmctl_buf_addf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		ucmctl_buf_addf(&b, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		ucmctl_buf_add(&b, json_is_true(v) ? "true" : "false");
	} else if (ucmctl_value_is_lines(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			item = json_array_get(v, i);
			json_t *users = json_object_get(item, "associated_users");

			ucmctl_buf_addf(
			    &b, "%s%s", i ? ", " : "",
			    json_string_value(json_object_get(item, "directory_number")));
			if (json_array_size(users) > 0) {
				ucmctl_buf_add(&b, " (");
				ucmctl_value_add_strings(&b, users);
				ucmctl_buf_add(&b, ")");
			}
		}
	} else if (ucmctl_value_is_scalar_list(v)) {
		ucmctl_value_add_strings(&b, v);
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		ucmctl_buf_add(&b, s ? s : "");
		free(s);
	}
	return ucmctl_buf_take(&b);
}
