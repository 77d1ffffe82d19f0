/* init.c: `ucmctl init`, which turns the one-time bootstrap token into the first administrator. */
#include "ucmctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UCMCTL_INIT_DEFAULT_USER "admin"

static int ucmctl_init_options(struct ucmctl *ctx, int argc, char **argv, const char **user)
{
	int i;

	for (i = 0; i < argc; i++) {
		int m = ucmctl_option_value(argc, argv, &i, "--user", user);

		if (m == 0)
			m = ucmctl_option_value(argc, argv, &i, "--password-file",
			                        &ctx->password_file);
		if (m == 0)
			m = ucmctl_option_value(argc, argv, &i, "--data-dir", &ctx->data_dir);
		if (m < 0)
			return ucmctl_usage_error("%s needs a value", argv[i]);
		if (m == 0 && argv[i][0] == '-')
			return ucmctl_usage_error("init: unknown option %s (options: --user, "
			                          "--password-file, --data-dir)",
			                          argv[i]);
		if (m == 0)
			return ucmctl_usage_error("init: unexpected argument \"%s\"", argv[i]);
	}
	if (!*user || !**user)
		return ucmctl_usage_error("init: --user needs a user ID");
	return UCMCTL_EXIT_OK;
}

int ucmctl_init_run(struct ucmctl *ctx, int argc, char **argv)
{
	const char *dir, *user = ctx->user ? ctx->user : UCMCTL_INIT_DEFAULT_USER;
	char err[UCMCTL_ERR_LEN], *token, *password;
	struct ucmctl_buf path;
	json_t *body, *answer = NULL;
	int rc;

	rc = ucmctl_init_options(ctx, argc, argv, &user);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	dir = ctx->data_dir ? ctx->data_dir : UCMCTL_DEFAULT_DATA_DIR;
	ucmctl_buf_init(&path);
	ucmctl_buf_addf(&path, "%s/bootstrap.token", dir);
	token = ucmctl_text_read_first_line(path.s);
	if (!token || !*token) {
		/* Usually either the wrong directory, not being the user ucmd runs as, or an
		 * administrator already exists (ucmd deletes the token then). */
		rc = ucmctl_usage_error(
		    "cannot read the bootstrap token %s: %s (is this ucmd's data directory, and "
		    "has no administrator been created yet?)",
		    path.s, token ? "empty file" : strerror(errno));
		ucmctl_text_free_secret(token);
		ucmctl_buf_free(&path);
		return rc;
	}
	ucmctl_buf_free(&path);
	password = ucmctl_secret_password(ctx->password_file, "New administrator password: ", true,
	                                  err, sizeof(err));
	if (!password) {
		ucmctl_text_free_secret(token);
		return ucmctl_usage_error("%s", err);
	}
	body = json_object();
	json_object_set_new(body, "token", json_string(token));
	json_object_set_new(body, "user_id", json_string(user));
	json_object_set_new(body, "password", json_string(password));
	ucmctl_text_free_secret(token);
	ucmctl_text_free_secret(password);
	rc = ucmctl_call(ctx, "POST", "init", body, false, &answer);
	/* jansson keeps its own copies of the strings; clear them before they are freed. */
	{
		json_t *v = json_object_get(body, "password");

		if (v)
			explicit_bzero((char *)json_string_value(v), json_string_length(v));
		v = json_object_get(body, "token");
		if (v)
			explicit_bzero((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(body);
	if (rc != UCMCTL_EXIT_OK)
		return rc;
	if (ctx->json && answer)
		ucmctl_print_json(answer, stdout);
	else
		printf("administrator %s created\n", user);
	json_decref(answer);
	return UCMCTL_EXIT_OK;
}
