/* ucmctl.c: global options, the commands that are not resources, and talking to the server. */
#include "ucmctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UCMCTL_DEFAULT_SERVER "https://127.0.0.1:8443"

static void ucmctl_help(FILE *out)
{
	fputs(
	    "usage: ucmctl [OPTIONS] COMMAND ...\n"
	    "\n"
	    "The administrator's command line for ucmd's REST API.\n"
	    "\n"
	    "Options (before the command):\n"
	    "  --server URL          ucmd's API (env UCM_SERVER; default " UCMCTL_DEFAULT_SERVER
	    ")\n"
	    "  --user ID             administrator's user ID (env UCM_USER)\n"
	    "  --password-file FILE  read the password from the first line of FILE\n"
	    "                        (else env UCM_PASSWORD; else prompt on a terminal)\n"
	    "  --ca FILE             CA certificate that issued the server's certificate\n"
	    "                        (env UCM_CA; default DATA_DIR/pki/ca.crt)\n"
	    "  --data-dir DIR        ucmd's data directory (env UCM_DATA_DIR;\n"
	    "                        default " UCMCTL_DEFAULT_DATA_DIR ")\n"
	    "  --json                print the server's JSON answers, indented\n"
	    "  --help                show this help\n"
	    "\n"
	    "Commands:\n"
	    "  init [--user ID] [--password-file FILE] [--data-dir DIR]\n"
	    "                        create the first administrator (user: --user, else\n"
	    "                        UCM_USER, else admin)\n"
	    "                        with the one-time token in DATA_DIR/bootstrap.token\n"
	    "  health                check that the server answers (no login needed)\n"
	    "  resources             list the resources the server offers\n"
	    "  RESOURCE help         describe a resource's fields and options\n"
	    "  RESOURCE list [--FIELD VALUE ...] [--limit N] [--offset N]\n"
	    "  RESOURCE get KEY\n"
	    "  RESOURCE create [KEY] --FIELD VALUE ...\n"
	    "  RESOURCE update KEY --FIELD VALUE ...\n"
	    "  RESOURCE delete KEY\n"
	    "  RESOURCE ACTION KEY   e.g. devices reset SEP001122334455\n"
	    "\n"
	    "RESOURCE is a name from `ucmctl resources`, plural or singular (devices, device,\n"
	    "directory-numbers, audit-log...). FIELD options follow the server's schema; '-' and\n"
	    "'_' are alike. Secrets can be read from a file with --FIELD-file FILE.\n"
	    "\n"
	    "The server's certificate is always verified against the CA certificate.\n"
	    "\n"
	    "Exit status:\n"
	    "  0  success\n"
	    "  1  the server refused the request (4xx: invalid, not found, conflict, login...)\n"
	    "  2  usage error: unknown command, resource or option, or a bad value\n"
	    "  3  could not talk to the server: connection, TLS verification, server error\n"
	    "     (5xx) or an unreadable answer\n",
	    out);
}

int ucmctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ucmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return UCMCTL_EXIT_USAGE;
}

void ucmctl_print_json(json_t *v, FILE *out)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));

	if (s) {
		fprintf(out, "%s\n", s);
		free(s);
	}
}

/* Decides the CA file at the first request, after `init --data-dir` had its say. */
static int ucmctl_prepare_ca(struct ucmctl *ctx)
{
	const char *dir;

	if (ctx->http.ca)
		return UCMCTL_EXIT_OK;
	if (ctx->ca) {
		ctx->ca_path = ucmctl_xstrdup(ctx->ca);
	} else {
		struct ucmctl_buf b;

		dir = ctx->data_dir ? ctx->data_dir : UCMCTL_DEFAULT_DATA_DIR;
		ucmctl_buf_init(&b);
		ucmctl_buf_addf(&b, "%s/pki/ca.crt", dir);
		ctx->ca_path = ucmctl_buf_take(&b);
	}
	/* curl would only say "error setting certificate file"; say which and what to do. */
	if (access(ctx->ca_path, R_OK) != 0) {
		fprintf(stderr,
		        "ucmctl: cannot read the CA certificate %s: %s (use --ca FILE or "
		        "--data-dir DIR)\n",
		        ctx->ca_path, strerror(errno));
		return UCMCTL_EXIT_SERVER;
	}
	ctx->http.ca = ctx->ca_path;
	return UCMCTL_EXIT_OK;
}

static int ucmctl_prepare_auth(struct ucmctl *ctx)
{
	char err[UCMCTL_ERR_LEN];
	char prompt[160];

	if (ctx->password)
		return UCMCTL_EXIT_OK;
	if (!ctx->user || !*ctx->user)
		return ucmctl_usage_error("no administrator given: use --user ID or UCM_USER");
	snprintf(prompt, sizeof(prompt), "Password for %s: ", ctx->user);
	ctx->password = ucmctl_secret_password(ctx->password_file, prompt, false, err, sizeof(err));
	if (!ctx->password)
		return ucmctl_usage_error("%s", err);
	return UCMCTL_EXIT_OK;
}

/* Reports a 4xx/5xx answer. The server's error object is the authority on what went wrong. */
static int ucmctl_report_error(struct ucmctl *ctx, struct ucmctl_response *resp)
{
	json_t *e = json_object_get(resp->json, "error");
	const char *message = json_string_value(json_object_get(e, "message"));
	const char *field = json_string_value(json_object_get(e, "field"));
	char *m;

	if (ctx->json && resp->json)
		ucmctl_print_json(resp->json, stdout);
	if (message) {
		m = ucmctl_xstrdup(message);
		ucmctl_text_sanitize(m);
		if (field)
			fprintf(stderr, "ucmctl: %s (field %s)\n", m, field);
		else
			fprintf(stderr, "ucmctl: %s\n", m);
		free(m);
	} else {
		fprintf(stderr, "ucmctl: the server answered HTTP %ld\n", resp->status);
	}
	return resp->status < 500 ? UCMCTL_EXIT_REFUSED : UCMCTL_EXIT_SERVER;
}

int ucmctl_call(struct ucmctl *ctx, const char *method, const char *path, json_t *body, bool auth,
                json_t **out)
{
	struct ucmctl_response resp;
	int rc;

	if (out)
		*out = NULL;
	rc = ucmctl_prepare_ca(ctx);
	if (rc == UCMCTL_EXIT_OK && auth)
		rc = ucmctl_prepare_auth(ctx);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	ctx->http.user = auth ? ctx->user : NULL;
	ctx->http.password = auth ? ctx->password : NULL;
	if (ucmctl_http_request(&ctx->http, method, path, body, &resp) < 0) {
		fprintf(stderr, "ucmctl: %s\n", resp.error);
		return UCMCTL_EXIT_SERVER;
	}
	if (resp.status >= 400) {
		rc = ucmctl_report_error(ctx, &resp);
	} else if (resp.status < 200 || resp.status >= 300) {
		fprintf(stderr, "ucmctl: unexpected answer HTTP %ld from %s\n", resp.status,
		        ctx->server);
		rc = UCMCTL_EXIT_SERVER;
	} else if (resp.length > 0 && !resp.json) {
		fprintf(stderr, "ucmctl: the server's answer is not JSON\n");
		rc = UCMCTL_EXIT_SERVER;
	} else if (out) {
		*out = resp.json;
		resp.json = NULL;
	}
	ucmctl_http_response_free(&resp);
	return rc;
}

int ucmctl_load_schema(struct ucmctl *ctx)
{
	char err[UCMCTL_ERR_LEN];
	json_t *root;
	int rc;

	if (ctx->have_schema)
		return UCMCTL_EXIT_OK;
	rc = ucmctl_call(ctx, "GET", "schema", NULL, true, &root);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (ucmctl_schema_parse(&ctx->schema, root, err, sizeof(err)) < 0) {
		fprintf(stderr, "ucmctl: %s\n", err);
		return UCMCTL_EXIT_SERVER;
	}
	ctx->have_schema = true;
	return UCMCTL_EXIT_OK;
}

static int ucmctl_health(struct ucmctl *ctx, int argc, char **argv)
{
	json_t *answer;
	int rc;

	(void)argv;
	if (argc > 0)
		return ucmctl_usage_error("health takes no arguments");
	rc = ucmctl_call(ctx, "GET", "health", NULL, false, &answer);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (ctx->json)
		ucmctl_print_json(answer, stdout);
	else if (answer)
		ucmctl_table_print_record(NULL, answer, stdout);
	else
		puts("ok");
	json_decref(answer);
	return UCMCTL_EXIT_OK;
}

int ucmctl_option_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*val = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

static int ucmctl_global_options(struct ucmctl *ctx, int argc, char **argv, int *i)
{
	static const char *const names[] = {"--server", "--user", "--password-file", "--ca",
	                                    "--data-dir"};
	const char **dest[] = {&ctx->server, &ctx->user, &ctx->password_file, &ctx->ca,
	                       &ctx->data_dir};

	for (; *i < argc && argv[*i][0] == '-'; (*i)++) {
		const char *arg = argv[*i];
		size_t k;
		int m = 0;

		if (strcmp(arg, "--") == 0) {
			(*i)++;
			break;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			ucmctl_help(stdout);
			return -1;
		}
		if (strcmp(arg, "--json") == 0) {
			ctx->json = true;
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]) && m == 0; k++)
			m = ucmctl_option_value(argc, argv, i, names[k], dest[k]);
		if (m < 0)
			return ucmctl_usage_error("%s needs a value", arg);
		if (m == 0)
			return ucmctl_usage_error("unknown option %s (see ucmctl --help)", arg);
	}
	return UCMCTL_EXIT_OK;
}

static int ucmctl_dispatch(struct ucmctl *ctx, int argc, char **argv)
{
	const char *cmd = argv[0];
	const struct ucmctl_resource *res;
	struct ucmctl_buf near;
	int rc;

	if (strcmp(cmd, "help") == 0) {
		ucmctl_help(stdout);
		return UCMCTL_EXIT_OK;
	}
	if (strcmp(cmd, "init") == 0)
		return ucmctl_init_run(ctx, argc - 1, argv + 1);
	if (strcmp(cmd, "health") == 0)
		return ucmctl_health(ctx, argc - 1, argv + 1);
	rc = ucmctl_load_schema(ctx);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (strcmp(cmd, "resources") == 0) {
		if (argc > 1)
			return ucmctl_usage_error("resources takes no arguments");
		return ucmctl_resource_list_all(ctx);
	}
	res = ucmctl_schema_find(&ctx->schema, cmd);
	if (res)
		return ucmctl_resource_run(ctx, res, argc - 1, argv + 1);
	ucmctl_buf_init(&near);
	ucmctl_schema_suggest(&ctx->schema, cmd, &near);
	if (near.len)
		rc = ucmctl_usage_error("unknown command or resource \"%s\"; did you mean %s?", cmd,
		                        near.s);
	else
		rc = ucmctl_usage_error("unknown command or resource \"%s\" (see ucmctl resources)",
		                        cmd);
	ucmctl_buf_free(&near);
	return rc;
}

int ucmctl_run(int argc, char **argv)
{
	struct ucmctl ctx;
	char err[UCMCTL_ERR_LEN];
	int i = 1, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.server = getenv("UCM_SERVER");
	ctx.user = getenv("UCM_USER");
	ctx.ca = getenv("UCM_CA");
	ctx.data_dir = getenv("UCM_DATA_DIR");
	rc = ucmctl_global_options(&ctx, argc, argv, &i);
	if (rc < 0)
		return UCMCTL_EXIT_OK; /* --help */
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (!ctx.server || !*ctx.server)
		ctx.server = UCMCTL_DEFAULT_SERVER;
	if (ctx.ca && !*ctx.ca)
		ctx.ca = NULL;
	if (ctx.data_dir && !*ctx.data_dir)
		ctx.data_dir = NULL;
	if (i >= argc) {
		ucmctl_help(stderr);
		return UCMCTL_EXIT_USAGE;
	}
	if (ucmctl_http_check_url(ctx.server, err, sizeof(err)) < 0)
		return ucmctl_usage_error("%s", err);
	if (ucmctl_http_init(&ctx.http) < 0) {
		fputs("ucmctl: cannot initialise libcurl\n", stderr);
		return UCMCTL_EXIT_SERVER;
	}
	ctx.http.server = ctx.server;
	rc = ucmctl_dispatch(&ctx, argc - i, argv + i);
	/* stdout may be a closed pipe or a full disk: a script must not take that as success */
	if (fflush(stdout) != 0 && rc == UCMCTL_EXIT_OK) {
		fprintf(stderr, "ucmctl: cannot write the output: %s\n", strerror(errno));
		rc = UCMCTL_EXIT_USAGE;
	}
	ucmctl_http_cleanup(&ctx.http);
	if (ctx.have_schema)
		ucmctl_schema_free(&ctx.schema);
	ucmctl_text_free_secret(ctx.password);
	free(ctx.ca_path);
	return rc;
}
