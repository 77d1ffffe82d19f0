/*
 * The routes of /api/v1: one generic set of handlers serves every resource the store
 * describes, so a new kind of record needs no new HTTP code.
 */
#include "admin/admin_int.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define API_PREFIX   "/api/v1/"
#define MAX_SEGMENTS 4
#define MAX_FILTERS  16

struct route {
	char *seg[MAX_SEGMENTS];
	int nseg;
};

static void route_free(struct route *r)
{
	for (int i = 0; i < r->nseg; i++)
		free(r->seg[i]);
}

/* Splits "/api/v1/devices/SEP0011.../reset" into decoded segments after the prefix. */
static int route_parse(const char *path, struct route *r)
{
	memset(r, 0, sizeof(*r));
	if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0)
		return -1;
	const char *p = path + strlen(API_PREFIX);
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || r->nseg == MAX_SEGMENTS)
			return -1;
		char *raw = strndup(p, len);
		size_t decoded_len = 0;
		char *decoded = raw ? evhttp_uridecode(raw, 0, &decoded_len) : NULL;
		free(raw);
		if (!decoded)
			return -1;
		/* "%00" would cut the key short and name another record. */
		if (strlen(decoded) != decoded_len) {
			free(decoded);
			return -1;
		}
		r->seg[r->nseg++] = decoded;
		p += len;
		if (*p == '/')
			p++;
	}
	return r->nseg > 0 ? 0 : -1;
}

static const char *method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

static int parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static void serve_list(struct admin_call *call, const struct store_kind *kind)
{
	struct base_err err = {0};
	struct evkeyvalq params;
	TAILQ_INIT(&params);
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(call->req));
	struct store_query q = {.limit = 100, .offset = 0};
	const char *filters[2 * MAX_FILTERS + 1] = {0};
	int n = 0;
	if (query && evhttp_parse_query_str(query, &params) != 0) {
		base_err_set(&err, BASE_E_BAD_REQUEST, NULL, "malformed query string");
		goto fail;
	}
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, &params, next)
	{
		if (strcmp(kv->key, "limit") == 0) {
			if (parse_long(kv->value, 1, 1000, &q.limit) != 0) {
				base_err_set(&err, BASE_E_BAD_REQUEST, "limit",
				             "limit must be 1 to 1000");
				goto fail;
			}
		} else if (strcmp(kv->key, "offset") == 0) {
			if (parse_long(kv->value, 0, 1L << 40, &q.offset) != 0) {
				base_err_set(&err, BASE_E_BAD_REQUEST, "offset",
				             "offset must be 0 or more");
				goto fail;
			}
		} else if (n == MAX_FILTERS) {
			base_err_set(&err, BASE_E_BAD_REQUEST, NULL, "at most %d filters",
			             MAX_FILTERS);
			goto fail;
		} else {
			filters[2 * n] = kv->key, filters[2 * n + 1] = kv->value, n++;
		}
	}
	q.filters = filters;
	json_t *items;
	long total;
	if (store_list(call->admin->store, kind, &q, &items, &total, &err) != 0)
		goto fail;
	evhttp_clear_headers(&params);
	admin_reply_json(call, 200,
	                 json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total",
	                           (json_int_t)total, "limit", (json_int_t)q.limit, "offset",
	                           (json_int_t)q.offset));
	return;
fail:
	evhttp_clear_headers(&params);
	admin_reply_error(call, &err);
}

static void serve_write(struct admin_call *call, const struct store_kind *kind, const char *key)
{
	struct base_err err = {0};
	struct store_actor actor = {call->user, call->source};
	json_t *body = NULL, *out = NULL;
	int rc = admin_read_body(call, &body, &err);
	if (rc == 0)
		rc = key ? store_update(call->admin->store, kind, key, body, &actor, &out, &err)
		         : store_create(call->admin->store, kind, body, &actor, &out, &err);
	json_decref(body);
	if (rc != 0) {
		admin_reply_error(call, &err);
		return;
	}
	base_log(BASE_LOG_INFO, "admin", "%s %s %s by %s from %s", key ? "updated" : "created",
	         store_kind_name(kind),
	         json_string_value(json_object_get(out, store_kind_key_name(kind))), call->user,
	         call->source);
	admin_reply_json(call, key ? 200 : 201, out);
}

static void serve_record(struct admin_call *call, const struct store_kind *kind, const char *key)
{
	struct base_err err = {0};
	enum evhttp_cmd_type cmd = evhttp_request_get_command(call->req);
	struct store_actor actor = {call->user, call->source};
	json_t *out;
	if (cmd == EVHTTP_REQ_GET && store_kind_allows(kind, "get")) {
		if (store_get(call->admin->store, kind, key, &out, &err) == 0) {
			admin_reply_json(call, 200, out);
			return;
		}
	} else if ((cmd == EVHTTP_REQ_PATCH || cmd == EVHTTP_REQ_PUT) &&
	           store_kind_allows(kind, "update")) {
		serve_write(call, kind, key);
		return;
	} else if (cmd == EVHTTP_REQ_DELETE && store_kind_allows(kind, "delete")) {
		if (store_delete(call->admin->store, kind, key, &actor, &err) == 0) {
			base_log(BASE_LOG_INFO, "admin", "deleted %s %s by %s from %s",
			         store_kind_name(kind), key, call->user, call->source);
			admin_reply_json(call, 204, NULL);
			return;
		}
	} else {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "%s is not allowed on %s",
		             method_name(call->req), store_kind_name(kind));
	}
	admin_reply_error(call, &err);
}

static void serve_action(struct admin_call *call, const struct store_kind *kind, const char *key,
                         const char *action)
{
	struct base_err err = {0};
	struct store_actor actor = {call->user, call->source};
	json_t *out;
	if (evhttp_request_get_command(call->req) != EVHTTP_REQ_POST)
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "actions are invoked with POST");
	else if (!store_kind_actions(kind))
		base_err_set(&err, BASE_E_NOT_FOUND, NULL, "%s have no actions",
		             store_kind_name(kind));
	else if (store_action_request(call->admin->store, kind, key, action, &actor, &out, &err) ==
	         0) {
		base_log(BASE_LOG_INFO, "admin", "%s of %s %s requested by %s from %s", action,
		         store_kind_name(kind), key, call->user, call->source);
		admin_reply_json(call, 202, out);
		return;
	}
	admin_reply_error(call, &err);
}

static json_t *cert_json(const struct pki_cert_info *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "name", c->name,
	                 "subject", c->subject, "issuer", c->issuer, "serial", c->serial,
	                 "not_before", c->not_before, "not_after", c->not_after,
	                 "sha256_fingerprint", c->sha256_fingerprint, "key_type", c->key_type,
	                 "key_bits", (json_int_t)c->key_bits);
}

static void serve_certificates(struct admin_call *call, const char *name)
{
	struct base_err err = {0};
	struct pki_cert_info *certs = NULL;
	size_t count = 0;
	if (evhttp_request_get_command(call->req) != EVHTTP_REQ_GET) {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "certificates are read-only here");
	} else if (pki_cert_list(call->admin->pki, &certs, &count, &err) == 0) {
		json_t *items = json_array();
		for (size_t i = 0; i < count; i++) {
			if (!name) {
				json_array_append_new(items, cert_json(&certs[i]));
			} else if (strcmp(certs[i].name, name) == 0) {
				json_decref(items);
				admin_reply_json(call, 200, cert_json(&certs[i]));
				free(certs);
				return;
			}
		}
		free(certs);
		if (!name) {
			admin_reply_json(call, 200,
			                 json_pack("{s:o, s:i}", "items", items, "total",
			                           (json_int_t)json_array_size(items)));
			return;
		}
		json_decref(items);
		base_err_set(&err, BASE_E_NOT_FOUND, NULL, "no certificate %s", name);
	}
	admin_reply_error(call, &err);
}

static void serve_resource(struct admin_call *call, struct route *r)
{
	struct base_err err = {0};
	enum evhttp_cmd_type cmd = evhttp_request_get_command(call->req);
	if (strcmp(r->seg[0], "schema") == 0 && r->nseg == 1 && cmd == EVHTTP_REQ_GET) {
		admin_reply_json(call, 200, store_schema_json());
		return;
	}
	if (strcmp(r->seg[0], "calls") == 0 && r->nseg == 1 && call->admin->calls) {
		if (cmd == EVHTTP_REQ_GET) {
			admin_reply_json(call, 200, call_list_json(call->admin->calls));
			return;
		}
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "calls are read-only");
		admin_reply_error(call, &err);
		return;
	}
	if (strcmp(r->seg[0], "certificates") == 0 && r->nseg <= 2) {
		serve_certificates(call, r->nseg == 2 ? r->seg[1] : NULL);
		return;
	}
	const struct store_kind *kind = store_kind_find(r->seg[0]);
	if (!kind || r->nseg > 3) {
		base_err_set(&err, BASE_E_NOT_FOUND, NULL, "no resource %s", r->seg[0]);
	} else if (r->nseg == 3) {
		serve_action(call, kind, r->seg[1], r->seg[2]);
		return;
	} else if (r->nseg == 2) {
		serve_record(call, kind, r->seg[1]);
		return;
	} else if (cmd == EVHTTP_REQ_GET && store_kind_allows(kind, "list")) {
		serve_list(call, kind);
		return;
	} else if (cmd == EVHTTP_REQ_POST && store_kind_allows(kind, "create")) {
		serve_write(call, kind, NULL);
		return;
	} else {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "%s is not allowed on %s",
		             method_name(call->req), store_kind_name(kind));
	}
	admin_reply_error(call, &err);
}

void admin_route(struct admin_call *call, const char *path)
{
	struct base_err err = {0};
	struct route r;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(call->req);
	if (route_parse(path, &r) != 0) {
		route_free(&r);
		base_err_set(&err, BASE_E_NOT_FOUND, NULL, "no such path; the API is under %s",
		             API_PREFIX);
		admin_reply_error(call, &err);
		return;
	}
	if (r.nseg == 1 && strcmp(r.seg[0], "health") == 0 && cmd == EVHTTP_REQ_GET)
		admin_reply_json(call, 200, json_pack("{s:s}", "status", "ok"));
	else if (r.nseg == 1 && strcmp(r.seg[0], "init") == 0 && cmd == EVHTTP_REQ_POST)
		admin_route_init(call);
	else if (admin_auth_check(call, &err) != 0)
		admin_reply_error(call, &err);
	else
		serve_resource(call, &r);
	route_free(&r);
}
