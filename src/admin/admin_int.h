/* Private to the admin layer. */
#ifndef UCM_ADMIN_INT_H
#define UCM_ADMIN_INT_H

#include "admin/admin.h"

#include <event2/http.h>
#include <openssl/ssl.h>

#define ADMIN_AUTH_CACHE  64
#define ADMIN_THROTTLE    128
#define ADMIN_TOKEN_BYTES 32

struct admin_auth_entry {
	unsigned char digest[32]; /* SHA-256 of "user\0password": never the password itself */
	char user[129];
	int64_t expires;
	uint64_t generation;
};

struct admin_throttle_entry {
	char source[64];
	int failures;
	int64_t window_start;
};

struct admin {
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *tls;
	struct store *store;
	struct pki *pki;
	struct call_service *calls;
	struct net_work_pool *work;    /* signing off the loop (EST) */
	struct base_hash *est_pending; /* owners with an EST enrollment being signed */
	char token_path[4096];
	char token[2 * ADMIN_TOKEN_BYTES + 1]; /* empty once an administrator exists */
	struct admin_auth_entry auth_cache[ADMIN_AUTH_CACHE];
	struct admin_throttle_entry throttle[ADMIN_THROTTLE];
};

/* A request being served: what the routes need to know about it. */
struct admin_call {
	struct admin *admin;
	struct evhttp_request *req;
	char source[64]; /* peer address without port */
	char user[129];  /* authenticated administrator */
};

/* admin_server.c */
void admin_reply_json(struct admin_call *call, int status, json_t *body);
void admin_reply_error(struct admin_call *call, const struct base_err *err);
int admin_read_body(struct admin_call *call, json_t **out, struct base_err *err);

/* admin_auth.c */
int admin_auth_check(struct admin_call *call, struct base_err *err);
/* Splits an "Authorization: Basic ..." header; -1 when it is not one. */
int admin_parse_basic(const char *header, char *user, size_t user_size, char *password,
                      size_t password_size);
int admin_bootstrap_prepare(struct admin *admin, const char *data_dir, struct base_err *err);
void admin_route_init(struct admin_call *call);

/* admin_routes.c */
void admin_route(struct admin_call *call, const char *path);

/* admin_est.c: RFC 7030 under /.well-known/est/ (op is what follows) and the CRL. */
void admin_est_route(struct admin_call *call, const char *op);
void admin_crl_serve(struct admin_call *call);
int admin_est_start(struct admin *admin, struct base_err *err);
void admin_est_stop(struct admin *admin);

/* admin_certs.c: /api/v1/certificates, trust stores, the revoke-certificate action.
 * Returns true when it handled the request. */
bool admin_certs_route(struct admin_call *call, char *const *seg, int nseg);

#endif
