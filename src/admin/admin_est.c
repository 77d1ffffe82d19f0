/*
 * EST (RFC 7030) on the admin listener, for every device that is not a Cisco CAPF client:
 *   GET  /.well-known/est/cacerts         the CA, PKCS#7 certs-only
 *   POST /.well-known/est/simpleenroll    a PKCS#10 request; the device authenticates with
 *        HTTP Basic (user = device name, password = its one-time CAPF authentication string),
 *        or with a certificate over TLS, as its CAPF operation's mode says
 *   POST /.well-known/est/simplereenroll  a new key for the device whose current LSC
 *        authenticates the TLS connection
 * and GET /crl/ca.crl, the CA's CRL (DER), which issued certificates point to.
 *
 * The rules are those of CAPF (pki_enroll_authorize); every attempt's outcome lands on the
 * device record and in the audit log. Signing runs on the worker pool; the reply is sent
 * when it comes back, unless the client went away first.
 */
#include "admin/admin_int.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

#define EST_REALM "Basic realm=\"OpenUCM EST\", charset=\"UTF-8\""

/* An enrollment waiting for its signature. The request stays ours until we answer it: when
 * the client goes away first, libevent detaches the request from the dead connection instead
 * of freeing it, and answering it then frees it. (evhttp_free at shutdown would free it, so
 * the worker pool is freed before the admin: see admin_options.work.) */
struct est_job {
	struct admin *admin;
	struct evhttp_request *req;
	struct store_capf_op op;
	bool reenroll;
	char source[64];
};

static void reply_text(struct evhttp_request *req, int status, const char *text)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (status == 401) {
		evhttp_add_header(h, "WWW-Authenticate", EST_REALM);
	}
	if (status == 503) {
		evhttp_add_header(h, "Retry-After", "5");
	}
	evbuffer_add_printf(out, "%s\n", text);
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

/* EST answers errors in plain text (RFC 7030 4.2.3); the codes follow the API's, except
 * that a refused request is a 400 and a busy server a 503 with Retry-After. */
static void reply_error(struct evhttp_request *req, const struct base_err *err)
{
	int status = admin_http_status(err->code);

	if (status == 422) {
		status = 400;
	} else if (status == 429) {
		status = 503;
	}
	reply_text(req, status, err->message);
}

static void reply_certs(struct evhttp_request *req, X509 *const *certs, size_t count)
{
	struct base_err err = {0};
	size_t len;
	char *body = pki_est_certs_only(certs, count, &len, &err);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out;

	if (!body) {
		reply_error(req, &err);
		return;
	}
	out = evbuffer_new();
	evhttp_add_header(h, "Content-Type", "application/pkcs7-mime; smime-type=certs-only");
	evhttp_add_header(h, "Content-Transfer-Encoding", "base64");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, 200, NULL, out);
	evbuffer_free(out);
	free(body);
}

static void serve_cacerts(struct admin_call *call)
{
	X509 *ca = pki_ca_cert(call->admin->pki);

	reply_certs(call->req, &ca, 1);
}

void admin_crl_serve(struct admin_call *call)
{
	size_t len = 0;
	const unsigned char *der = pki_crl_der(call->admin->pki, &len);
	struct evbuffer *out;

	if (evhttp_request_get_command(call->req) != EVHTTP_REQ_GET) {
		reply_text(call->req, 405, "the CRL is read with GET");
		return;
	}
	if (!der) {
		reply_text(call->req, 503, "no CRL published yet");
		return;
	}
	out = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(call->req), "Content-Type",
	                  "application/pkix-crl");
	evbuffer_add(out, der, len);
	evhttp_send_reply(call->req, 200, NULL, out);
	evbuffer_free(out);
}

/* ---- who is asking ---- */

/* The valid LSC the client authenticated the TLS connection with, from the registry: the
 * handshake already checked the chain, dates and CRL. 1 found, 0 none. */
static int tls_peer_lsc(struct admin_call *call, struct store_cert *out)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(call->req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	struct pki_cert_info info;
	struct base_err err = {0};

	if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) {
		return 0;
	}
	pki_cert_describe(&info, "peer", peer);
	if (store_cert_get(call->admin->store, info.serial, out, &err) != 0) {
		return 0;
	}
	if (strcmp(out->status, "valid") != 0 ||
	    strcmp(out->sha256_fingerprint, info.sha256_fingerprint) != 0) {
		store_cert_clear(out);
		return 0;
	}
	return 1;
}

static bool same_owner(const struct store_cert_owner *a, const struct store_cert_owner *b)
{
	return a->type == b->type && strcasecmp(a->name, b->name) == 0 &&
	       strcasecmp(a->instance_id, b->instance_id) == 0;
}

/* Records the outcome of an attempt on the operation; a failure to record is logged, the
 * client still gets the answer the attempt deserved. */
static void record(struct admin *a, const struct store_capf_op *op, const char *source,
                   const struct store_capf_outcome *o)
{
	struct base_err err = {0};
	const struct store_actor actor = {op->name, source};

	if (store_capf_op_record(a->store, op, "est-enroll", o, &actor, &err) != 0) {
		base_log(BASE_LOG_ERROR, "admin", "EST: cannot record the outcome for %s: %s",
		         op->name, err.message);
	}
}

/* ---- signing and the reply ---- */

static void on_issued(void *arg, X509 *cert, const struct base_err *err)
{
	struct est_job *job = arg;
	struct admin *a = job->admin;
	struct store_capf_outcome o;
	bool pending = strcmp(job->op.operation, "install_upgrade") == 0;

	if (cert) {
		pki_enroll_success(&o);
		base_log(BASE_LOG_INFO, "admin", "EST: %s %s for %s from %s",
		         job->reenroll ? "re-enrolled" : "enrolled", "an LSC", job->op.name,
		         job->source);
	} else {
		pki_enroll_failure(&o, err);
		base_log(BASE_LOG_INFO, "admin", "EST: enrollment of %s from %s refused: %s",
		         job->op.name, job->source, err->message);
	}
	/* A re-enrollment without a scheduled operation leaves the operation alone; the
	 * registry and audit log already have the new certificate. */
	if (!job->reenroll || pending) {
		record(a, &job->op, job->source, &o);
	}
	if (cert) {
		reply_certs(job->req, &cert, 1);
	} else {
		reply_error(job->req, err);
	}
	free(base_hash_remove(a->est_pending, job->op.name));
	free(job);
}

static int start_signing(struct admin_call *call, const struct store_capf_op *op, X509_REQ *req,
                         bool reenroll, struct base_err *err)
{
	struct admin *a = call->admin;
	struct pki_lsc_spec spec = {.owner = op->owner};
	EVP_PKEY *key = NULL;
	struct est_job *job;
	int rc = -1;

	if (base_hash_get(a->est_pending, op->name)) {
		return base_err_set(err, BASE_E_THROTTLED, NULL,
		                    "an enrollment of %s is already being signed", op->name);
	}
	if (pki_est_csr_check(req, op->owner.name, &key, err) < 0 ||
	    pki_enroll_key_policy(a->store, op, key, &spec.key_policy, err) < 0) {
		goto out;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	*job = (struct est_job){.admin = a, .req = call->req, .op = *op, .reenroll = reenroll};
	base_strlcpy(job->source, call->source, sizeof(job->source));
	const struct store_actor actor = {op->name, call->source};
	if (pki_lsc_issue_async(a->pki, a->work, a->store, &spec, key, "est", &actor, on_issued,
	                        job, err) < 0) {
		free(job);
		goto out;
	}
	base_hash_put(a->est_pending, op->name, strdup(op->name), NULL);
	rc = 0;
out:
	EVP_PKEY_free(key);
	return rc;
}

/* ---- the two enrollments ---- */

static int read_csr(struct admin_call *call, X509_REQ **req, struct base_err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(call->req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1);

	return pki_est_csr_decode(body ? body : "", len, req, err);
}

/* The operation of the device (or CAPF profile) named in the Basic user, or else of the
 * owner of the TLS client certificate. */
static int find_op(struct admin_call *call, const char *user, const struct store_cert *lsc,
                   bool have_lsc, struct store_capf_op *op, struct base_err *err)
{
	const char *name = user[0] ? user : have_lsc ? lsc->owner.name : NULL;

	if (!name) {
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "authenticate with the device name and authentication string, "
		                    "or with the device's certificate");
	}
	if (store_capf_op_find(call->admin->store, name, op, err) != 0) {
		if (err->code == BASE_E_NOT_FOUND) {
			/* Same answer as a wrong string: no probing for device names. */
			return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
			                    "authentication failed");
		}
		return -1;
	}
	return 0;
}

static int simpleenroll(struct admin_call *call, X509_REQ *req, struct base_err *err)
{
	const char *header =
	    evhttp_find_header(evhttp_request_get_input_headers(call->req), "Authorization");
	char user[129] = "", password[64] = "";
	struct store_cert lsc = {0};
	struct store_capf_op op;
	struct store_capf_outcome outcome;
	int rc = -1;

	if (header && admin_parse_basic(header, user, sizeof(user), password, sizeof(password))) {
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL, "malformed Authorization");
	}
	bool have_lsc = tls_peer_lsc(call, &lsc) == 1;
	if (find_op(call, user, &lsc, have_lsc, &op, err) < 0) {
		goto out;
	}
	const struct pki_enroll_attempt attempt = {
	    .auth_string = header ? password : NULL,
	    .has_lsc = have_lsc && same_owner(&lsc.owner, &op.owner),
	    .now = base_time_now(),
	    .wrong_string_limit = (int)store_param_int(call->admin->store,
	                                               "capf_wrong_authentication_string_limit", 3),
	};
	if (pki_enroll_authorize(&op, &attempt, &outcome, err) < 0) {
		if (outcome.status || outcome.wrong_string || outcome.clear_string) {
			record(call->admin, &op, call->source, &outcome);
		}
		base_log(BASE_LOG_INFO, "admin", "EST: enrollment of %s from %s refused: %s",
		         op.name, call->source, err->message);
		goto out;
	}
	rc = start_signing(call, &op, req, false, err);
	if (rc < 0 && err->code != BASE_E_THROTTLED) {
		pki_enroll_failure(&outcome, err);
		record(call->admin, &op, call->source, &outcome);
	}
out:
	OPENSSL_cleanse(password, sizeof(password));
	store_cert_clear(&lsc);
	return rc;
}

static int simplereenroll(struct admin_call *call, X509_REQ *req, struct base_err *err)
{
	struct store_cert lsc = {0};
	struct store_capf_op op;
	int rc = -1;

	if (tls_peer_lsc(call, &lsc) != 1) {
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "re-enrollment needs the current certificate as the TLS client "
		                    "certificate");
	}
	if (find_op(call, "", &lsc, true, &op, err) == 0) {
		if (!same_owner(&lsc.owner, &op.owner)) {
			base_err_set(err, BASE_E_UNAUTHORIZED, NULL, "authentication failed");
		} else {
			rc = start_signing(call, &op, req, true, err);
		}
	}
	store_cert_clear(&lsc);
	return rc;
}

void admin_est_route(struct admin_call *call, const char *op)
{
	struct base_err err = {0};
	enum evhttp_cmd_type cmd = evhttp_request_get_command(call->req);
	bool enroll = strcmp(op, "simpleenroll") == 0, reenroll = strcmp(op, "simplereenroll") == 0;
	X509_REQ *req = NULL;

	if (strcmp(op, "cacerts") == 0) {
		if (cmd == EVHTTP_REQ_GET) {
			serve_cacerts(call);
		} else {
			reply_text(call->req, 405, "cacerts is read with GET");
		}
		return;
	}
	if (!enroll && !reenroll) {
		reply_text(call->req, 404,
		           "EST here offers cacerts, simpleenroll and simplereenroll");
		return;
	}
	if (cmd != EVHTTP_REQ_POST) {
		reply_text(call->req, 405, "enrollment is a POST of a PKCS#10 request");
		return;
	}
	if (read_csr(call, &req, &err) == 0 &&
	    (enroll ? simpleenroll(call, req, &err) : simplereenroll(call, req, &err)) == 0) {
		X509_REQ_free(req);
		return; /* the reply comes when the signature does */
	}
	X509_REQ_free(req);
	reply_error(call->req, &err);
}

int admin_est_start(struct admin *a, struct base_err *err)
{
	a->est_pending = base_hash_new();
	if (!a->est_pending) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	return 0;
}

void admin_est_stop(struct admin *a)
{
	base_hash_free(a->est_pending, free);
	a->est_pending = NULL;
}
