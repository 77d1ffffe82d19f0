/*
 * Who may use the API: HTTP Basic authentication of administrators over TLS, a short-lived
 * cache so that each request does not pay for scrypt, throttling of repeated failures from
 * one address, and the one-time bootstrap token that lets the machine's owner create the
 * first administrator (there is no default password).
 */
#include "admin/admin_int.h"

#include <errno.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define AUTH_CACHE_SECONDS 300
#define THROTTLE_WINDOW    60

static int failed_login_limit(struct admin *a)
{
	json_t *p = NULL;
	int limit = 5;
	if (store_get(a->store, store_kind_find("service-parameters"), "admin_failed_login_limit",
	              &p, NULL) == 0)
		limit = atoi(json_string_value(json_object_get(p, "value")));
	json_decref(p);
	return limit > 0 ? limit : 5;
}

/* The entry of an address with failures in the current window, or NULL. */
static struct admin_throttle_entry *throttle_find(struct admin *a, const char *source)
{
	int64_t now = base_time_now();
	for (int i = 0; i < ADMIN_THROTTLE; i++) {
		struct admin_throttle_entry *t = &a->throttle[i];
		if (t->failures > 0 && now - t->window_start < THROTTLE_WINDOW &&
		    strcmp(t->source, source) == 0)
			return t;
	}
	return NULL;
}

static bool throttled(struct admin *a, const char *source)
{
	struct admin_throttle_entry *t = throttle_find(a, source);
	return t && t->failures >= failed_login_limit(a);
}

/* Counts a failure. Only entries whose window has passed are reused, so no stream of
 * requests from other addresses can push a throttled address out of the table; when every
 * entry is live, the address with the fewest failures gives way. */
static void note_failure(struct admin *a, const char *source, const char *user)
{
	struct admin_throttle_entry *t = throttle_find(a, source);
	int64_t now = base_time_now();
	for (int i = 0; !t && i < ADMIN_THROTTLE; i++)
		if (a->throttle[i].failures == 0 ||
		    now - a->throttle[i].window_start >= THROTTLE_WINDOW)
			t = &a->throttle[i];
	if (!t) {
		t = &a->throttle[0];
		for (int i = 1; i < ADMIN_THROTTLE; i++)
			if (a->throttle[i].failures < t->failures)
				t = &a->throttle[i];
	}
	if (strcmp(t->source, source) != 0 || now - t->window_start >= THROTTLE_WINDOW) {
		memset(t, 0, sizeof(*t));
		base_strlcpy(t->source, source, sizeof(t->source));
		t->window_start = now;
	}
	t->failures++;
	base_log(BASE_LOG_WARN, "admin",
	         "failed login for \"%.64s\" from %s (%d in the last minute)", user, source,
	         t->failures);
}

static void credential_digest(const char *user, const char *password, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, user, strlen(user) + 1);
	EVP_DigestUpdate(ctx, password, strlen(password));
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

static bool cache_hit(struct admin *a, const char *user, const unsigned char digest[32])
{
	uint64_t gen = store_credentials_generation(a->store);
	for (int i = 0; i < ADMIN_AUTH_CACHE; i++) {
		struct admin_auth_entry *e = &a->auth_cache[i];
		if (e->expires > base_time_now() && e->generation == gen &&
		    strcmp(e->user, user) == 0 && base_mem_equal_ct(e->digest, digest, 32))
			return true;
	}
	return false;
}

static void cache_store(struct admin *a, const char *user, const unsigned char digest[32])
{
	struct admin_auth_entry *slot = &a->auth_cache[0];
	for (int i = 1; i < ADMIN_AUTH_CACHE; i++)
		if (a->auth_cache[i].expires < slot->expires)
			slot = &a->auth_cache[i];
	memcpy(slot->digest, digest, 32);
	base_strlcpy(slot->user, user, sizeof(slot->user));
	slot->expires = base_time_now() + AUTH_CACHE_SECONDS;
	slot->generation = store_credentials_generation(a->store);
}

/* Splits "Basic base64(user:password)" into its parts. */
int admin_parse_basic(const char *header, char *user, size_t user_size, char *password,
                      size_t password_size)
{
	if (!header || strncasecmp(header, "Basic ", 6) != 0)
		return -1;
	const char *b64 = header + 6;
	size_t len = strlen(b64);
	if (len == 0 || len > 1024 || len % 4 != 0)
		return -1;
	unsigned char decoded[800];
	int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes; drop them. */
	for (const char *p = b64 + len - 1; p >= b64 && *p == '='; p--)
		n--;
	decoded[n] = '\0';
	if (memchr(decoded, '\0', (size_t)n))
		return -1;
	char *colon = strchr((char *)decoded, ':');
	if (!colon || (size_t)(colon - (char *)decoded) >= user_size ||
	    strlen(colon + 1) >= password_size)
		return -1;
	*colon = '\0';
	base_strlcpy(user, (char *)decoded, user_size);
	base_strlcpy(password, colon + 1, password_size);
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return 0;
}

int admin_auth_check(struct admin_call *call, struct base_err *err)
{
	struct admin *a = call->admin;
	if (throttled(a, call->source))
		return base_err_set(err, BASE_E_THROTTLED, NULL,
		                    "too many failed logins from %s; wait a minute", call->source);
	const char *header =
	    evhttp_find_header(evhttp_request_get_input_headers(call->req), "Authorization");
	char user[129] = "", password[600] = "";
	int rc;
	if (admin_parse_basic(header, user, sizeof(user), password, sizeof(password)) != 0) {
		rc = base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                  "this call needs an administrator's user ID and password");
		if (header)
			note_failure(a, call->source, "(malformed)");
		return rc;
	}
	unsigned char digest[32];
	credential_digest(user, password, digest);
	if (cache_hit(a, user, digest)) {
		rc = 0;
	} else if ((rc = store_admin_verify(a->store, user, password, err)) == 0) {
		cache_store(a, user, digest);
	} else if (err && err->code == BASE_E_UNAUTHORIZED) {
		note_failure(a, call->source, user);
	}
	OPENSSL_cleanse(password, sizeof(password));
	if (rc == 0)
		base_strlcpy(call->user, user, sizeof(call->user));
	return rc;
}

/* ---- bootstrap ---- */

int admin_bootstrap_prepare(struct admin *a, const char *data_dir, struct base_err *err)
{
	snprintf(a->token_path, sizeof(a->token_path), "%s/bootstrap.token", data_dir);
	if (store_admin_exists(a->store)) {
		unlink(a->token_path);
		return 0;
	}
	unsigned char raw[ADMIN_TOKEN_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "no randomness for the token");
	base_hex(raw, sizeof(raw), a->token);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->token_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot write %s: %s", tmp,
		                    strerror(errno));
	bool ok = write(fd, a->token, strlen(a->token)) == (ssize_t)strlen(a->token) &&
	          write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, a->token_path) != 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot write %s: %s",
		                    a->token_path, strerror(errno));
	base_log(BASE_LOG_WARN, "admin",
	         "no administrator yet: run `ucmctl init` on this machine (it reads %s)",
	         a->token_path);
	return 0;
}

void admin_route_init(struct admin_call *call)
{
	struct admin *a = call->admin;
	struct base_err err = {0};
	json_t *body = NULL;
	if (throttled(a, call->source)) {
		base_err_set(&err, BASE_E_THROTTLED, NULL, "too many failed attempts; wait");
	} else if (admin_read_body(call, &body, &err) == 0) {
		const char *token = json_string_value(json_object_get(body, "token"));
		if (!a->token[0] || store_admin_exists(a->store)) {
			base_err_set(&err, BASE_E_CONFLICT, NULL,
			             "an administrator exists already; ask them to add you");
		} else if (!token || strlen(token) != strlen(a->token) ||
		           !base_mem_equal_ct(token, a->token, strlen(a->token))) {
			note_failure(a, call->source, "(bootstrap)");
			base_err_set(&err, BASE_E_UNAUTHORIZED, "token",
			             "wrong bootstrap token; it is in %s", a->token_path);
		} else {
			const char *user = json_string_value(json_object_get(body, "user_id"));
			const char *password = json_string_value(json_object_get(body, "password"));
			struct store_actor actor = {user ? user : "", call->source};
			if (store_admin_bootstrap(a->store, user, password, &actor, &err) == 0) {
				unlink(a->token_path);
				OPENSSL_cleanse(a->token, sizeof(a->token));
				base_log(BASE_LOG_INFO, "admin",
				         "first administrator %s created from %s", user,
				         call->source);
				admin_reply_json(call, 201, json_pack("{s:s}", "user_id", user));
				json_decref(body);
				return;
			}
		}
	}
	json_decref(body);
	admin_reply_error(call, &err);
}
