/*
 * Device files over HTTP (6970) and HTTPS (6971): GET and HEAD of /<name>, answered from the
 * file namespace without copying (the response references the cached bytes). Anything else
 * is 405; names outside the namespace and unknown files are 404, as phones expect.
 */
#include "net/net.h"
#include "prov/prov_int.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct prov_http {
	struct evhttp *http;
	SSL_CTX *tls;
	struct prov_files *files;
	enum prov_via via;
};

static void release_file(const void *data, size_t len, void *arg)
{
	(void)data, (void)len;
	prov_file_unref(arg);
}

static void reply_text(struct evhttp_request *req, int status, const char *reason)
{
	struct evbuffer *out = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	if (out)
		evbuffer_add_printf(out, "%s\n", reason);
	evhttp_send_reply(req, status, reason, out);
	if (out)
		evbuffer_free(out);
}

/* The address this connection reached: configurations name it as the server. */
static void local_host(struct evhttp_request *req, char *out, size_t size)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	base_strlcpy(out, "127.0.0.1", size);
	if (bev && getsockname(bufferevent_getfd(bev), (struct sockaddr *)&ss, &len) == 0)
		net_addr_format_host((struct sockaddr *)&ss, out, size);
}

/* A request whose file is being signed. */
struct waiting {
	struct prov_http *h;
	struct evhttp_request *req;
};

static void reply_file(struct prov_http *h, struct evhttp_request *req, struct prov_file *file,
                       const struct base_err *err);

static void on_file_ready(void *arg, struct prov_file *file, const struct base_err *err)
{
	struct waiting *w = arg;
	evhttp_connection_set_closecb(evhttp_request_get_connection(w->req), NULL, NULL);
	reply_file(w->h, w->req, file ? prov_file_ref(file) : NULL, err);
	free(w);
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	struct waiting *w = arg;
	prov_files_cancel(w->h->files, on_file_ready, w);
	free(w);
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct prov_http *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed");
		return;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t len = 0;
	char *name = path ? evhttp_uridecode(path, 0, &len) : NULL;
	/* A decoded NUL would cut the name short of what was checked. */
	if (!name || len != strlen(name) || len > PROV_TFTP_MAX_NAME + 1) {
		free(name);
		reply_text(req, 404, "Not Found");
		return;
	}
	char host[NET_ADDR_STRLEN];
	local_host(req, host, sizeof(host));
	struct prov_file *file = NULL;
	struct base_err err = {0};
	struct waiting *w = calloc(1, sizeof(*w));
	int rc = w ? prov_files_fetch(h->files, name, h->via, host, &file, on_file_ready, w, &err)
	           : base_err_set(&err, BASE_E_INTERNAL, NULL, "out of memory");
	free(name);
	if (rc == 1) {
		/* Until the file is signed; if the client leaves first, forget the request. */
		w->h = h, w->req = req;
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, w);
		return;
	}
	free(w);
	reply_file(h, req, file, &err);
}

static void reply_file(struct prov_http *h, struct evhttp_request *req, struct prov_file *file,
                       const struct base_err *err)
{
	(void)h;
	if (!file) {
		if (err->code == BASE_E_INTERNAL)
			base_log(BASE_LOG_ERROR, "prov", "http %s: %s", evhttp_request_get_uri(req),
			         err->message);
		if (err->code == BASE_E_THROTTLED)
			reply_text(req, 503, "Service Unavailable");
		else
			reply_text(req, err->code == BASE_E_INTERNAL ? 500 : 404,
			           err->code == BASE_E_INTERNAL ? "Internal Server Error"
			                                        : "Not Found");
		return;
	}
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Content-Type", file->content_type);
	evhttp_add_header(headers, "Cache-Control", "no-cache");
	struct evbuffer *out = evbuffer_new();
	if (!out || evbuffer_add_reference(out, file->data, file->len, release_file, file) != 0) {
		prov_file_unref(file);
		if (out)
			evbuffer_free(out);
		reply_text(req, 500, "Internal Server Error");
		return;
	}
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

int prov_http_start(struct prov_http **out, struct event_base *base, struct prov_files *files,
                    const char *listen, enum prov_via via, const char *cert, const char *key,
                    struct base_err *err)
{
	struct prov_http *h = calloc(1, sizeof(*h));
	if (!h)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	h->files = files, h->via = via;
	int fd = -1;
	if (via == PROV_VIA_HTTPS && !(h->tls = net_tls_server_ctx_new(cert, key, NULL, err)))
		goto fail;
	if ((fd = net_listen_tcp(listen, 1024, err)) < 0)
		goto fail;
	if (!(h->http = evhttp_new(base))) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot create the HTTP server");
		goto fail;
	}
	if (h->tls)
		evhttp_set_bevcb(h->http, net_tls_accept_bev, h->tls);
	evhttp_set_max_body_size(h->http, 4096);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                                        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, handle, h);
	if (!evhttp_accept_socket_with_handle(h->http, fd)) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot serve on %s", listen);
		goto fail;
	}
	*out = h;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	prov_http_stop(h);
	return -1;
}

void prov_http_stop(struct prov_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	SSL_CTX_free(h->tls);
	free(h);
}
