/*
 * The HTTPS server of the administration API: libevent's evhttp over OpenSSL bufferevents,
 * with limits on headers, bodies and idle time so that no client can hold it hostage.
 */
#include "admin/admin_int.h"
#include "net/net.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* evhttp itself refuses bodies past this with its own 413; between ADMIN_MAX_BODY and this we
 * answer with a JSON error. */
#define EVHTTP_BODY_LIMIT (2 * ADMIN_MAX_BODY)
#define EST_PREFIX        "/.well-known/est/"
#define CRL_PATH          "/crl/ca.crl"

void admin_reply_json(struct admin_call *call, int status, json_t *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(call->req);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
	struct evbuffer *out = evbuffer_new();
	if (body) {
		char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text) {
			evbuffer_add(out, text, strlen(text));
			evbuffer_add(out, "\n", 1);
			free(text);
		}
		json_decref(body);
	}
	evhttp_send_reply(call->req, status, NULL, out);
	evbuffer_free(out);
}

void admin_reply_error(struct admin_call *call, const struct base_err *err)
{
	int status = admin_http_status(err->code);
	if (status >= 500)
		base_log(BASE_LOG_ERROR, "admin", "%s %s from %s: %s",
		         evhttp_request_get_command(call->req) == EVHTTP_REQ_GET ? "GET" : "write",
		         evhttp_request_get_uri(call->req), call->source, err->message);
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(call->req), "WWW-Authenticate",
		                  "Basic realm=\"OpenUCM\", charset=\"UTF-8\"");
	json_t *e =
	    json_pack("{s:s, s:s}", "code", base_err_code_name(err->code), "message", err->message);
	json_object_set_new(e, "field", err->field[0] ? json_string(err->field) : json_null());
	admin_reply_json(call, status, json_pack("{s:o}", "error", e));
}

int admin_read_body(struct admin_call *call, json_t **out, struct base_err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(call->req);
	size_t len = evbuffer_get_length(in);
	if (len > ADMIN_MAX_BODY)
		return base_err_set(err, BASE_E_TOO_LARGE, NULL,
		                    "request body is larger than %d bytes", ADMIN_MAX_BODY);
	const char *body = (const char *)evbuffer_pullup(in, -1);
	return admin_request_decode(body ? body : "", len, out, err);
}

static void handle_request(struct evhttp_request *req, void *arg)
{
	struct admin_call call = {.admin = arg, .req = req};
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *peer = NULL;
	uint16_t port = 0;
	evhttp_connection_get_peer(conn, &peer, &port);
	base_strlcpy(call.source, peer ? peer : "unknown", sizeof(call.source));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path && strncmp(path, EST_PREFIX, strlen(EST_PREFIX)) == 0)
		admin_est_route(&call, path + strlen(EST_PREFIX));
	else if (path && strcmp(path, CRL_PATH) == 0)
		admin_crl_serve(&call);
	else
		admin_route(&call, path ? path : "/");
}

/* Issued certificates point at our CRL on this listener: https://<host>:<port>/crl/ca.crl,
 * with this host's name when the listener is on every address. */
static int set_crl_url(struct pki *pki, const char *listen, struct base_err *err)
{
	const char *colon = strrchr(listen, ':');
	char host[NET_ADDR_STRLEN] = "", url[300];
	if (!colon)
		return base_err_set(err, BASE_E_INVALID, "listen", "no port in %s", listen);
	size_t len = (size_t)(colon - listen);
	if (len == 0 || (len == 1 && listen[0] == '*') || strncmp(listen, "0.0.0.0", len) == 0 ||
	    strncmp(listen, "[::]", len) == 0) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			base_strlcpy(host, "localhost", sizeof(host));
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)len, listen);
	}
	snprintf(url, sizeof(url), "https://%s:%s%s", host, colon + 1, CRL_PATH);
	return pki_set_crl_url(pki, url, err);
}

int admin_start(struct admin **out, struct event_base *base, struct store *store, struct pki *pki,
                const struct admin_options *opt, struct base_err *err)
{
	struct admin *a = calloc(1, sizeof(*a));
	if (!a)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	a->base = base, a->store = store, a->pki = pki, a->calls = opt->calls, a->work = opt->work;
	int fd = -1;
	/* Client certificates are asked for (EST re-enrollment), never required, and checked
	 * against the CA and its CRL: a revoked LSC fails the handshake. */
	if (pki_role_ensure(pki, PKI_ROLE_HTTPS, err) != 0 ||
	    !(a->tls = net_tls_server_ctx_new(pki_role_cert_path(pki, PKI_ROLE_HTTPS),
	                                      pki_role_key_path(pki, PKI_ROLE_HTTPS),
	                                      pki_ca_cert_path(pki), err)) ||
	    pki_crl_start(pki, base, store, err) != 0 ||
	    pki_tls_verify_attach(pki, a->tls, err) != 0 ||
	    pki_tls_role_attach(pki, a->tls, PKI_ROLE_HTTPS, err) != 0 ||
	    admin_est_start(a, err) != 0 || set_crl_url(pki, opt->listen, err) != 0 ||
	    admin_bootstrap_prepare(a, opt->data_dir, err) != 0 ||
	    (fd = net_listen_tcp(opt->listen, 128, err)) < 0)
		goto fail;
	a->http = evhttp_new(base);
	if (!a->http) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot create the HTTP server");
		goto fail;
	}
	evhttp_set_bevcb(a->http, net_tls_accept_bev, a->tls);
	evhttp_set_max_body_size(a->http, EVHTTP_BODY_LIMIT);
	evhttp_set_max_headers_size(a->http, 16 * 1024);
	evhttp_set_timeout(a->http, 30);
	/* HEAD and OPTIONS reach the router too, so that they get a JSON 405 like any other
	 * method a resource does not have. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                        EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
	                                        EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(a->http, handle_request, a);
	if (!evhttp_accept_socket_with_handle(a->http, fd)) {
		close(fd);
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot serve on %s", opt->listen);
		goto fail;
	}
	base_log(BASE_LOG_INFO, "admin", "REST API on https://%s/api/v1", opt->listen);
	*out = a;
	return 0;
fail:
	if (fd >= 0 && !a->http)
		close(fd);
	admin_stop(a);
	return -1;
}

void admin_stop(struct admin *a)
{
	if (!a)
		return;
	if (a->http)
		evhttp_free(a->http);
	admin_est_stop(a);
	if (a->tls) {
		pki_tls_verify_detach(a->pki, a->tls);
		pki_tls_role_detach(a->pki, a->tls);
	}
	SSL_CTX_free(a->tls);
	OPENSSL_cleanse(a->token, sizeof(a->token));
	free(a);
}
