/*
 * Certificate administration under /api/v1:
 *   GET    certificates                      the CA, the role certificates, the previous
 *                                            ones still in their overlap, the valid LSCs
 *   GET    certificates/<name>               one of the CA, role or previous certificates
 *   POST   certificates/<role>/renew         new key and certificate from our CA
 *   POST   certificates/<role>/csr           a request for an external CA
 *   POST   certificates/<role>/install       the external CA's signed certificate
 *   GET    trust-stores/<store>              the CA certificates of a named trust store
 *   POST   trust-stores/<store>              add one ({"certificate": PEM})
 *   DELETE trust-stores/<store>/<sha256>     remove one
 *   POST   devices/<name>/revoke-certificate, capf-profiles/<name>/revoke-certificate
 *   POST   issued-certificates/<serial>/revoke
 * Every change is audited; revocations reach the CRL and the TLS listeners at once.
 */
#include "admin/admin_int.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

static json_t *cert_json(const struct pki_cert_info *c, const char *kind)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "name", c->name,
	                 "kind", kind, "subject", c->subject, "issuer", c->issuer, "serial",
	                 c->serial, "not_before", c->not_before, "not_after", c->not_after,
	                 "sha256_fingerprint", c->sha256_fingerprint, "key_type", c->key_type,
	                 "key_bits", (json_int_t)c->key_bits);
}

static void append_all(json_t *items, const struct pki_cert_info *certs, size_t count,
                       const char *kind)
{
	for (size_t i = 0; i < count; i++) {
		const char *k = kind ? kind : strcmp(certs[i].name, "ca") == 0 ? "ca" : "role";
		json_array_append_new(items, cert_json(&certs[i], k));
	}
}

/* The LSCs in force, in the registry's own shape plus kind "lsc". */
static int append_lscs(struct admin *a, json_t *items, struct base_err *err)
{
	const char *filters[] = {"status", "valid", NULL};
	struct store_query q = {.limit = 1000, .filters = filters};
	json_t *lscs;
	long total;
	size_t i;
	json_t *v;

	if (store_list(a->store, store_kind_find("issued-certificates"), &q, &lscs, &total, err) !=
	    0) {
		return -1;
	}
	json_array_foreach(lscs, i, v)
	{
		json_object_set_new(v, "kind", json_string("lsc"));
		json_object_set(v, "name", json_object_get(v, "owner"));
		json_array_append(items, v);
	}
	json_decref(lscs);
	return 0;
}

static void list_certificates(struct admin_call *call, const char *name)
{
	struct base_err err = {0};
	struct pki_cert_info *certs = NULL, *prev = NULL;
	size_t count = 0, nprev = 0;
	json_t *items = json_array();

	if (pki_cert_list(call->admin->pki, &certs, &count, &err) != 0 ||
	    pki_role_previous_list(call->admin->pki, &prev, &nprev, &err) != 0) {
		goto fail;
	}
	append_all(items, certs, count, NULL);
	append_all(items, prev, nprev, "previous");
	if (name) {
		size_t i;
		json_t *v;

		json_array_foreach(items, i, v)
		{
			if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
				admin_reply_json(call, 200, json_incref(v));
				goto out;
			}
		}
		base_err_set(&err, BASE_E_NOT_FOUND, NULL, "no certificate %s", name);
		goto fail;
	}
	if (append_lscs(call->admin, items, &err) != 0) {
		goto fail;
	}
	admin_reply_json(
	    call, 200,
	    json_pack("{s:O, s:i}", "items", items, "total", (json_int_t)json_array_size(items)));
	goto out;
fail:
	admin_reply_error(call, &err);
out:
	json_decref(items);
	free(certs);
	free(prev);
}

static int audit(struct admin_call *call, const char *action, const char *resource, const char *key,
                 json_t *detail, struct base_err *err)
{
	const struct store_actor actor = {call->user, call->source};
	int rc = store_cert_audit(call->admin->store, &actor, action, resource, key, detail, err);

	json_decref(detail);
	return rc;
}

static int overlap_days(struct admin *a, const json_t *body)
{
	json_t *v = json_object_get(body, "overlap_days");

	if (json_is_integer(v)) {
		return (int)json_integer_value(v);
	}
	return (int)store_param_int(a->store, "certificate_overlap_days", 7);
}

static const char *body_pem(const json_t *body, struct base_err *err)
{
	const char *pem = json_string_value(json_object_get(body, "certificate"));

	if (!pem) {
		base_err_set(err, BASE_E_INVALID, "certificate",
		             "give the PEM certificate as \"certificate\"");
	}
	return pem;
}

/* What the audit, the log and the reply of a role action need, whether it finishes now
 * (install) or on the loop after a worker (renew, csr). */
struct role_call {
	struct admin_call call; /* req stays valid until answered: see admin_est.c */
	char role[32];
	char action[16];
};

static void role_finish(struct role_call *rc, const char *csr, const struct base_err *failed)
{
	struct admin_call *call = &rc->call;
	struct base_err err = {0};
	char what[48];

	if (failed) {
		admin_reply_error(call, failed);
		return;
	}
	snprintf(what, sizeof(what), "%s-certificate", rc->action);
	if (audit(call, what, "certificates", rc->role, json_pack("{s:s}", "role", rc->role),
	          &err) != 0) {
		admin_reply_error(call, &err);
		return;
	}
	base_log(BASE_LOG_INFO, "admin", "%s of the %s certificate by %s from %s", rc->action,
	         rc->role, call->user, call->source);
	if (csr) {
		admin_reply_json(call, 200, json_pack("{s:s, s:s}", "name", rc->role, "csr", csr));
	} else {
		list_certificates(call, rc->role);
	}
}

static void on_role_done(void *arg, const char *csr, const struct base_err *err)
{
	struct role_call *rc = arg;

	role_finish(rc, csr, err);
	free(rc);
}

static int read_optional_body(struct admin_call *call, json_t **body, struct base_err *err)
{
	if (evbuffer_get_length(evhttp_request_get_input_buffer(call->req)) == 0) {
		*body = json_object();
		return 0;
	}
	return admin_read_body(call, body, err);
}

/* POST certificates/<role>/<action>. Key generation and signing go to the workers. */
static void role_action(struct admin_call *call, const char *role_name, const char *action)
{
	struct admin *a = call->admin;
	struct base_err err = {0};
	struct role_call *rc = calloc(1, sizeof(*rc));
	enum pki_role role;
	json_t *body = NULL;
	const char *pem;
	bool renew = strcmp(action, "renew") == 0, csr = strcmp(action, "csr") == 0;

	if (!rc) {
		base_err_set(&err, BASE_E_INTERNAL, NULL, "out of memory");
		admin_reply_error(call, &err);
		return;
	}
	rc->call = *call;
	base_strlcpy(rc->role, role_name, sizeof(rc->role));
	base_strlcpy(rc->action, action, sizeof(rc->action));
	if (pki_role_parse(role_name, &role) != 0) {
		base_err_set(&err, BASE_E_NOT_FOUND, NULL, "no role certificate %s", role_name);
	} else if (evhttp_request_get_command(call->req) != EVHTTP_REQ_POST) {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "certificate actions are POSTed");
	} else if (read_optional_body(call, &body, &err) != 0) {
		/* err says why */
	} else if (renew || csr) {
		if (pki_role_op_async(
		        a->pki, a->work, role, renew ? PKI_ROLE_OP_RENEW : PKI_ROLE_OP_CSR,
		        renew ? overlap_days(a, body) : 0, on_role_done, rc, &err) == 0) {
			json_decref(body);
			return; /* answered by on_role_done */
		}
	} else if (strcmp(action, "install") == 0) {
		if ((pem = body_pem(body, &err)) &&
		    pki_role_install(a->pki, role, pem, strlen(pem), overlap_days(a, body), &err) ==
		        0) {
			role_finish(rc, NULL, NULL);
			json_decref(body);
			free(rc);
			return;
		}
	} else {
		base_err_set(&err, BASE_E_NOT_FOUND, NULL,
		             "certificates have the actions renew, csr and install");
	}
	admin_reply_error(call, &err);
	json_decref(body);
	free(rc);
}

static void trust_store(struct admin_call *call, const char *store, const char *fingerprint)
{
	struct admin *a = call->admin;
	struct base_err err = {0};
	enum evhttp_cmd_type cmd = evhttp_request_get_command(call->req);
	struct pki_cert_info info, *certs = NULL;
	size_t count = 0;
	json_t *body = NULL;
	const char *pem;

	if (cmd == EVHTTP_REQ_GET && !fingerprint) {
		if (pki_trust_list(a->pki, store, &certs, &count, &err) == 0) {
			json_t *items = json_array();

			append_all(items, certs, count, "trust-anchor");
			free(certs);
			admin_reply_json(call, 200,
			                 json_pack("{s:s, s:o, s:i}", "name", store, "items", items,
			                           "total", (json_int_t)count));
			return;
		}
	} else if (cmd == EVHTTP_REQ_POST && !fingerprint) {
		if (admin_read_body(call, &body, &err) == 0 && (pem = body_pem(body, &err)) &&
		    pki_trust_add(a->pki, store, pem, strlen(pem), &info, &err) == 0 &&
		    audit(call, "add-trust-anchor", "trust-stores", store,
		          cert_json(&info, "trust-anchor"), &err) == 0) {
			json_decref(body);
			admin_reply_json(call, 201, cert_json(&info, "trust-anchor"));
			return;
		}
		json_decref(body);
	} else if (cmd == EVHTTP_REQ_DELETE && fingerprint) {
		if (pki_trust_remove(a->pki, store, fingerprint, &err) == 0 &&
		    audit(call, "remove-trust-anchor", "trust-stores", store,
		          json_pack("{s:s}", "sha256_fingerprint", fingerprint), &err) == 0) {
			admin_reply_json(call, 204, NULL);
			return;
		}
	} else {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL,
		             "trust stores take GET and POST; anchors DELETE");
	}
	admin_reply_error(call, &err);
}

static const char *body_reason(struct admin_call *call, json_t **body, struct base_err *err)
{
	const char *reason;

	*body = NULL;
	if (evbuffer_get_length(evhttp_request_get_input_buffer(call->req)) == 0) {
		return "unspecified";
	}
	if (admin_read_body(call, body, err) != 0) {
		return NULL;
	}
	reason = json_string_value(json_object_get(*body, "reason"));
	return reason ? reason : "unspecified";
}

/* POST devices/<name>/revoke-certificate and capf-profiles/<name>/revoke-certificate. */
static void revoke_owner(struct admin_call *call, const char *name)
{
	struct admin *a = call->admin;
	struct base_err err = {0};
	const struct store_actor actor = {call->user, call->source};
	struct store_capf_op op;
	json_t *body;
	const char *reason = body_reason(call, &body, &err);
	int count = 0;

	if (evhttp_request_get_command(call->req) != EVHTTP_REQ_POST) {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "actions are invoked with POST");
	} else if (reason && store_capf_op_find(a->store, name, &op, &err) == 0 &&
	           store_cert_revoke_owner(a->store, &op.owner, reason, &actor, &count, &err) ==
	               0) {
		if (count == 0) {
			base_err_set(&err, BASE_E_CONFLICT, NULL, "%s has no valid certificate",
			             op.name);
		} else {
			pki_crl_publish_revocations(a->pki);
			base_log(BASE_LOG_INFO, "admin", "revoked %d certificate(s) of %s by %s",
			         count, op.name, call->user);
			json_t *reply = json_pack("{s:s, s:i, s:s}", "owner", op.name, "revoked",
			                          (json_int_t)count, "reason", reason);
			json_decref(body); /* reason points into it */
			admin_reply_json(call, 200, reply);
			return;
		}
	}
	json_decref(body);
	admin_reply_error(call, &err);
}

static void revoke_serial(struct admin_call *call, const char *serial)
{
	struct admin *a = call->admin;
	struct base_err err = {0};
	const struct store_actor actor = {call->user, call->source};
	json_t *body, *out;
	const char *reason = body_reason(call, &body, &err);

	if (evhttp_request_get_command(call->req) != EVHTTP_REQ_POST) {
		base_err_set(&err, BASE_E_NOT_ALLOWED, NULL, "actions are invoked with POST");
	} else if (reason && store_cert_revoke(a->store, serial, reason, &actor, &err) == 0) {
		pki_crl_publish_revocations(a->pki);
		json_decref(body);
		if (store_get(a->store, store_kind_find("issued-certificates"), serial, &out,
		              &err) == 0) {
			admin_reply_json(call, 200, out);
			return;
		}
	}
	json_decref(body);
	admin_reply_error(call, &err);
}

bool admin_certs_route(struct admin_call *call, char *const *seg, int nseg)
{
	bool get = evhttp_request_get_command(call->req) == EVHTTP_REQ_GET;

	if (strcmp(seg[0], "certificates") == 0) {
		if (nseg <= 2 && get) {
			list_certificates(call, nseg == 2 ? seg[1] : NULL);
		} else if (nseg == 3) {
			role_action(call, seg[1], seg[2]);
		} else {
			struct base_err err = {0};

			base_err_set(&err, BASE_E_NOT_ALLOWED, NULL,
			             "certificates are read with GET; renew, csr and install are "
			             "actions");
			admin_reply_error(call, &err);
		}
		return true;
	}
	if (strcmp(seg[0], "trust-stores") == 0 && (nseg == 2 || nseg == 3)) {
		trust_store(call, seg[1], nseg == 3 ? seg[2] : NULL);
		return true;
	}
	if (nseg == 3 && strcmp(seg[2], "revoke-certificate") == 0 &&
	    (strcmp(seg[0], "devices") == 0 || strcmp(seg[0], "capf-profiles") == 0)) {
		revoke_owner(call, seg[1]);
		return true;
	}
	if (nseg == 3 && strcmp(seg[0], "issued-certificates") == 0 &&
	    strcmp(seg[2], "revoke") == 0) {
		revoke_serial(call, seg[1]);
		return true;
	}
	return false;
}
