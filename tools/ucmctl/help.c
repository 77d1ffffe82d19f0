/* help.c: `ucmctl RESOURCE help`, the schema of one resource written for people. */
#include "ucmctl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Widest option column; longer option names get a line of their own. */
#define UCMCTL_HELP_OPTION_WIDTH 26

/* How a value of each type is written on the command line. */
static const char *ucmctl_help_format(const struct ucmctl_field *f)
{
	switch (f->type) {
	case UCMCTL_T_INTEGER:
		return "integer";
	case UCMCTL_T_BOOLEAN:
		return "boolean: true/false, yes/no, on/off, 1/0";
	case UCMCTL_T_STRING_LIST:
		return "list: A,B,C ('' for none)";
	case UCMCTL_T_LINES:
		return "lines: DN or DN:USER+USER, comma-separated";
	case UCMCTL_T_TIMESTAMP:
		return "timestamp: YYYY-MM-DDTHH:MM:SSZ";
	case UCMCTL_T_JSON:
		return "JSON";
	default:
		return f->type_name;
	}
}

static void ucmctl_help_attributes(const struct ucmctl_field *f, bool is_key, struct ucmctl_buf *b)
{
	ucmctl_buf_add(b, ucmctl_help_format(f));
	if (f->required)
		ucmctl_buf_add(b, ", required");
	if (f->read_only)
		ucmctl_buf_add(b, ", read-only");
	if (f->write_only)
		ucmctl_buf_add(b, ", secret (never shown)");
	if (f->def) {
		char *d = ucmctl_value_to_text(f, f->def);

		/* The server sends defaults as text whatever the type; quotes only make an
		 * empty default visible. */
		if (*d)
			ucmctl_buf_addf(b, ", default %s", d);
		else
			ucmctl_buf_add(b, ", default \"\"");
		free(d);
	}
	if (json_is_integer(f->min))
		ucmctl_buf_addf(b, ", min %" JSON_INTEGER_FORMAT, json_integer_value(f->min));
	if (json_is_integer(f->max))
		ucmctl_buf_addf(b, ", max %" JSON_INTEGER_FORMAT, json_integer_value(f->max));
	if (f->immutable && !f->read_only && !is_key)
		ucmctl_buf_add(b, ", fixed after creation");
	if (json_integer_value(f->min_length) == 1)
		ucmctl_buf_add(b, ", not empty");
	else if (json_integer_value(f->min_length) > 1)
		ucmctl_buf_addf(b, ", at least %" JSON_INTEGER_FORMAT " characters",
		                json_integer_value(f->min_length));
	if (json_is_integer(f->max_length))
		ucmctl_buf_addf(b, ", at most %" JSON_INTEGER_FORMAT " characters",
		                json_integer_value(f->max_length));
}

static void ucmctl_help_commands(const struct ucmctl_resource *res, FILE *out)
{
	const char *n = res->name;
	char *k = ucmctl_xstrdup(res->key), *p;
	size_t i;
	json_t *v;

	/* the key is a placeholder here, so it is written like one: NAME, USER_ID */
	for (p = k; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	fprintf(out, "Commands:\n");
	if (ucmctl_schema_has_method(res, "list"))
		fprintf(out, "  ucmctl %s list [--FIELD VALUE ...] [--limit N] [--offset N]\n", n);
	if (ucmctl_schema_has_method(res, "get"))
		fprintf(out, "  ucmctl %s get %s\n", n, k);
	if (ucmctl_schema_has_method(res, "create"))
		fprintf(out, "  ucmctl %s create [%s] --FIELD VALUE ...\n", n, k);
	if (ucmctl_schema_has_method(res, "update"))
		fprintf(out, "  ucmctl %s update %s --FIELD VALUE ...\n", n, k);
	if (ucmctl_schema_has_method(res, "delete"))
		fprintf(out, "  ucmctl %s delete %s\n", n, k);
	for (i = 0; i < json_array_size(res->actions); i++) {
		v = json_array_get(res->actions, i);
		if (json_is_string(v))
			fprintf(out, "  ucmctl %s %s %s\n", n, json_string_value(v), k);
	}
	free(k);
}

/* One field: the option, then its type and limits, allowed values and description, all
 * indented to one column so they scan as a list. */
static void ucmctl_help_field(const struct ucmctl_field *f, bool is_key, int width, FILE *out)
{
	char *opt = ucmctl_args_option_name(f->name);
	struct ucmctl_buf b;
	size_t j;
	json_t *v;

	ucmctl_buf_init(&b);
	ucmctl_help_attributes(f, is_key, &b);
	if (strlen(opt) + 2 > (size_t)width)
		fprintf(out, "  %s\n  %-*s%s\n", opt, width, "", b.s);
	else
		fprintf(out, "  %-*s%s\n", width, opt, b.s);
	if (json_array_size(f->values) > 0) {
		b.len = 0;
		b.s[0] = '\0';
		for (j = 0; j < json_array_size(f->values); j++) {
			v = json_array_get(f->values, j);
			if (json_is_string(v))
				ucmctl_buf_addf(&b, "%s%s", b.len ? ", " : "",
				                json_string_value(v));
		}
		fprintf(out, "  %-*sone of: %s\n", width, "", b.s);
	}
	if (ucmctl_args_takes_file(f))
		fprintf(out, "  %-*sor %s-file FILE: read it from the file's first line\n", width,
		        "", opt);
	if (*f->description)
		fprintf(out, "  %-*s%s\n", width, "", f->description);
	ucmctl_buf_free(&b);
	free(opt);
}

void ucmctl_resource_help(const struct ucmctl_resource *res, FILE *out)
{
	size_t i, width = 0;

	fprintf(out, "%s (one %s, named by its %s)\n", res->name, res->singular, res->key);
	if (*res->description)
		fprintf(out, "%s\n", res->description);
	fputc('\n', out);
	ucmctl_help_commands(res, out);
	/* as wide as the options need, but long names must not push every description right */
	for (i = 0; i < res->nfields; i++)
		if (strlen(res->fields[i].name) + 4 > width)
			width = strlen(res->fields[i].name) + 4;
	if (width > UCMCTL_HELP_OPTION_WIDTH)
		width = UCMCTL_HELP_OPTION_WIDTH;
	fprintf(out, "\nFields (as options; list filters on single values):\n");
	for (i = 0; i < res->nfields; i++)
		ucmctl_help_field(&res->fields[i],
		                  ucmctl_text_name_eq(res->fields[i].name, res->key), (int)width,
		                  out);
	fprintf(out, "\nAn empty value ('') clears a field: \"\" for text, none for lists, null "
	             "otherwise.\n");
}
