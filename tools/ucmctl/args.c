/* args.c: a resource command's --FIELD VALUE options, checked and typed by the schema. */
#include "ucmctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *ucmctl_args_option_name(const char *field)
{
	char *s = ucmctl_xmalloc(strlen(field) + 3), *p;

	strcpy(s, "--");
	strcpy(s + 2, field);
	for (p = s + 2; *p; p++)
		if (*p == '_')
			*p = '-';
	return s;
}

bool ucmctl_args_takes_file(const struct ucmctl_field *f)
{
	/* Only secrets need keeping off the command line; a boolean or number is no secret. */
	return f->write_only && !f->read_only &&
	       (f->type == UCMCTL_T_STRING || f->type == UCMCTL_T_OTHER);
}

/* Whether a field may appear as an option in this mode. */
static bool ucmctl_args_allowed(const struct ucmctl_field *f, enum ucmctl_args_mode mode)
{
	if (mode == UCMCTL_ARGS_WRITE)
		return !f->read_only;
	if (mode == UCMCTL_ARGS_FILTER)
		return ucmctl_schema_is_scalar(f) && !f->write_only;
	return false;
}

static void ucmctl_args_suggest(const struct ucmctl_resource *res, enum ucmctl_args_mode mode,
                                const char *typed, struct ucmctl_buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < res->nfields; i++) {
		const struct ucmctl_field *f = &res->fields[i];
		char *opt;

		if (!ucmctl_args_allowed(f, mode) || !ucmctl_text_is_close(typed, f->name))
			continue;
		opt = ucmctl_args_option_name(f->name);
		ucmctl_buf_addf(b, "%s%s", n++ ? ", " : "", opt);
		free(opt);
		if (n == 5)
			return;
	}
	if (mode == UCMCTL_ARGS_FILTER) {
		if (ucmctl_text_is_close(typed, "limit"))
			ucmctl_buf_addf(b, "%s--limit", n++ ? ", " : "");
		if (ucmctl_text_is_close(typed, "offset"))
			ucmctl_buf_addf(b, "%s--offset", n++ ? ", " : "");
	}
}

static int ucmctl_args_unknown(const struct ucmctl_resource *res, enum ucmctl_args_mode mode,
                               const char *name, char *err, size_t errlen)
{
	struct ucmctl_buf near;

	if (mode == UCMCTL_ARGS_NONE) {
		snprintf(err, errlen, "unexpected option --%s: this command takes only a key",
		         name);
		return UCMCTL_EXIT_USAGE;
	}
	ucmctl_buf_init(&near);
	ucmctl_args_suggest(res, mode, name, &near);
	if (near.len)
		snprintf(err, errlen, "unknown option --%s for %s; did you mean %s?", name,
		         res->name, near.s);
	else
		snprintf(err, errlen, "unknown option --%s for %s (see ucmctl %s help)", name,
		         res->name, res->name);
	ucmctl_buf_free(&near);
	return UCMCTL_EXIT_USAGE;
}

/* Finds the field an option names. `--FIELD-file` of a secret sets *from_file. */
static const struct ucmctl_field *ucmctl_args_field(const struct ucmctl_resource *res,
                                                    enum ucmctl_args_mode mode, const char *name,
                                                    bool *from_file)
{
	const struct ucmctl_field *f = ucmctl_schema_field(res, name);
	size_t n = strlen(name);
	char *base;

	*from_file = false;
	if (f || mode != UCMCTL_ARGS_WRITE || n <= 5 || !ucmctl_text_name_eq(name + n - 5, "-file"))
		return f;
	base = ucmctl_xstrdup(name);
	base[n - 5] = '\0';
	f = ucmctl_schema_field(res, base);
	free(base);
	if (f && ucmctl_args_takes_file(f)) {
		*from_file = true;
		return f;
	}
	return NULL;
}

/* A filter goes into the query string as text, but typed the same way as a write. */
static json_t *ucmctl_args_filter_text(json_t *v)
{
	char *s;
	json_t *out;

	if (json_is_null(v))
		return json_string("");
	s = ucmctl_value_to_text(NULL, v);
	out = json_string(s);
	free(s);
	return out;
}

/* Handles one --option (with its value); *i is left on the last word used. */
static int ucmctl_args_option(const struct ucmctl_resource *res, enum ucmctl_args_mode mode,
                              int argc, char **argv, int *i, struct ucmctl_args *out, char *err,
                              size_t errlen)
{
	char *name = ucmctl_xstrdup(argv[*i] + 2), *eq = strchr(name, '=');
	const char *value = NULL;
	const struct ucmctl_field *f;
	json_int_t ignored;
	char *secret = NULL, why[UCMCTL_ERR_LEN];
	bool from_file;
	json_t *v;
	int rc = UCMCTL_EXIT_USAGE;

	if (eq) {
		*eq = '\0';
		value = eq + 1;
	}
	f = ucmctl_args_field(res, mode, name, &from_file);
	if (!f && mode == UCMCTL_ARGS_FILTER &&
	    (strcmp(name, "limit") == 0 || strcmp(name, "offset") == 0)) {
		if (!value && *i + 1 < argc)
			value = argv[++*i];
		if (!value || !ucmctl_value_parse_int(value, &ignored) || ignored < 0) {
			snprintf(err, errlen, "--%s needs a number", name);
			goto done;
		}
		if (name[0] == 'l')
			out->limit = value;
		else
			out->offset = value;
		rc = UCMCTL_EXIT_OK;
		goto done;
	}
	if (!f || mode == UCMCTL_ARGS_NONE) {
		rc = ucmctl_args_unknown(res, mode, name, err, errlen);
		goto done;
	}
	if (!ucmctl_args_allowed(f, mode)) {
		if (mode == UCMCTL_ARGS_WRITE)
			snprintf(err, errlen, "--%s is read-only", name);
		else if (f->write_only)
			snprintf(err, errlen, "cannot filter on the secret --%s", name);
		else
			snprintf(err, errlen,
			         "cannot filter on --%s (a %s field): only single values filter",
			         name, f->type_name);
		goto done;
	}
	if (json_object_get(out->fields, f->name)) {
		snprintf(err, errlen, "--%s is given twice", name);
		goto done;
	}
	if (!value) {
		/* A bare boolean option means true: `--capf-generate-authentication-string`. */
		if (f->type == UCMCTL_T_BOOLEAN && !from_file &&
		    (*i + 1 >= argc || argv[*i + 1][0] == '-'))
			value = "true";
		else if (*i + 1 < argc)
			value = argv[++*i];
		else {
			snprintf(err, errlen, "--%s needs a value", name);
			goto done;
		}
	}
	if (from_file) {
		secret = ucmctl_text_read_first_line(value);
		if (!secret) {
			snprintf(err, errlen, "--%s: cannot read %s: %s", name, value,
			         strerror(errno));
			goto done;
		}
		value = secret;
	}
	v = ucmctl_value_from_text(f, value, why, sizeof(why));
	if (!v) {
		/* The value itself is left out: it may be a secret from a file. */
		snprintf(err, errlen, "--%s: %s", name, f->write_only ? "not a valid value" : why);
		goto done;
	}
	if (mode == UCMCTL_ARGS_FILTER) {
		json_t *text = ucmctl_args_filter_text(v);

		json_decref(v);
		v = text;
	}
	json_object_set_new(out->fields, f->name, v);
	rc = UCMCTL_EXIT_OK;
done:
	ucmctl_text_free_secret(secret);
	free(name);
	return rc;
}

int ucmctl_args_parse(const struct ucmctl_resource *res, enum ucmctl_args_mode mode, int argc,
                      char **argv, struct ucmctl_args *out, char *err, size_t errlen)
{
	bool options = true;
	int i, rc;

	memset(out, 0, sizeof(*out));
	out->fields = json_object();
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (options && strcmp(arg, "--") == 0) {
			options = false;
			continue;
		}
		if (options && arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
			rc = ucmctl_args_option(res, mode, argc, argv, &i, out, err, errlen);
			if (rc != UCMCTL_EXIT_OK)
				return rc;
			continue;
		}
		if (options && arg[0] == '-' && arg[1] != '\0') {
			snprintf(err, errlen, "unknown option %s (options are spelt --FIELD)", arg);
			return UCMCTL_EXIT_USAGE;
		}
		if (out->npos == sizeof(out->pos) / sizeof(out->pos[0])) {
			snprintf(err, errlen, "unexpected argument \"%s\"", arg);
			return UCMCTL_EXIT_USAGE;
		}
		out->pos[out->npos++] = arg;
	}
	return UCMCTL_EXIT_OK;
}

void ucmctl_args_free(struct ucmctl_args *a)
{
	void *it;

	/* Some values are passwords and PINs; wipe every string rather than sort them out. */
	for (it = json_object_iter(a->fields); it; it = json_object_iter_next(a->fields, it)) {
		json_t *v = json_object_iter_value(it);

		if (json_is_string(v))
			explicit_bzero((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(a->fields);
	a->fields = NULL;
}
