/*
 * The CAPF session (specs/capf.md §5) against the operation an administrator scheduled
 * (requirements security-2 §3.4-3.10): authentication by string, null string or existing
 * certificate; then install/upgrade, delete or troubleshoot. Every attempt ends with its
 * outcome on the device or CAPF profile record and in the audit log: "<operation> successful"
 * or "<operation> failed: <reason>".
 */
#include "pki/pki_capf_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#define MAX_IN_PROGRESS 16 /* REQUEST_IN_PROGRESS messages a phone may send for one key */

static struct store_actor capf_actor(const struct capf_conn *c)
{
	return (struct store_actor){"capf", c->peer};
}

/* An operation's name in statuses ("Install/Upgrade failed: ...") and in audit actions
 * ("capf-install"). */
static const struct {
	const char *op, *label, *what;
} operations[] = {
    {"install_upgrade", "Install/Upgrade", "install"},
    {"delete", "Delete", "delete"},
    {"troubleshoot", "Troubleshoot", "troubleshoot"},
    {"no_pending", "CAPF", "session"},
};

static size_t operation_index(const char *op)
{
	size_t n = sizeof(operations) / sizeof(operations[0]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(op, operations[i].op) == 0)
			return i;
	return n - 1;
}

static const char *operation_label(const char *op)
{
	return operations[operation_index(op)].label;
}

static const char *audit_what(const char *op)
{
	return operations[operation_index(op)].what;
}

/* Writes the outcome to the record and the audit log, and logs it once. */
static void record(struct capf_conn *c, const struct store_capf_outcome *o)
{
	if (!c->have_op)
		return;
	struct store_actor actor = capf_actor(c);
	struct base_err err = {0};
	base_log(BASE_LOG_INFO, "capf", "%s from %s: %s%s%s", c->op.name, c->peer,
	         o->status ? o->status : c->op.status, o->reason && *o->reason ? "; " : "",
	         o->reason ? o->reason : "");
	if (store_capf_op_record(c->store, &c->op, audit_what(c->op.operation), o, &actor, &err) !=
	    0)
		base_log(BASE_LOG_ERROR, "capf", "cannot record the outcome for %s: %s", c->op.name,
		         err.message);
	else if (o->status)
		base_strlcpy(c->op.status, o->status, sizeof(c->op.status));
}

/* "<operation> failed: <why>" on the record (the operation stays scheduled unless
 * clear_string says the string is spent), then END_SESSION. */
static void fail_with(struct capf_conn *c, enum pki_capf_reason reason, bool clear_string,
                      bool wrong_string, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail_with(struct capf_conn *c, enum pki_capf_reason reason, bool clear_string,
                      bool wrong_string, const char *fmt, ...)
{
	char why[200], status[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->have_op) {
		snprintf(status, sizeof(status), "%s failed: %s", operation_label(c->op.operation),
		         why);
		struct store_capf_outcome o = {.status = status,
		                               .reason = why,
		                               .clear_string = clear_string,
		                               .wrong_string = wrong_string};
		record(c, &o);
	} else {
		base_log(BASE_LOG_INFO, "capf", "session %u from %s refused: %s", c->session_id,
		         c->peer, why);
	}
	capf_end(c, reason);
}

#define fail(c, ...) fail_with(c, PKI_CAPF_R_INVALID_ELEMENT, false, false, __VA_ARGS__)

static void succeed(struct capf_conn *c, enum pki_capf_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void succeed(struct capf_conn *c, enum pki_capf_reason reason, const char *fmt, ...)
{
	char why[400], status[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(status, sizeof(status), "%s successful", operation_label(c->op.operation));
	struct store_capf_outcome o = {.status = status, .reason = why, .complete = true};
	record(c, &o);
	capf_end(c, reason);
}

static void publish_revocations(struct capf_conn *c)
{
	if (c->capf)
		pki_crl_publish_revocations(c->capf->pki);
}

/* Sends a request with no elements (FETCH, DELETE). */
static void send_empty(struct capf_conn *c, enum pki_capf_command command)
{
	unsigned char buf[PKI_CAPF_HEADER_LEN];
	struct pki_capf_writer w;
	pki_capf_begin(&w, buf, sizeof(buf), command, c->session_id);
	capf_send(c, buf, (size_t)pki_capf_end(&w, NULL));
}

void capf_session_begin(struct capf_conn *c)
{
	unsigned char buf[16];
	struct pki_capf_writer w;
	pki_capf_begin(&w, buf, sizeof(buf), PKI_CAPF_AUTH_REQUEST, c->session_id);
	pki_capf_put_u8(&w, PKI_CAPF_T_VERSION, PKI_CAPF_VERSION);
	pki_capf_put_u8(&w, PKI_CAPF_T_AUTH_TYPE, 0);
	capf_send(c, buf, (size_t)pki_capf_end(&w, NULL));
	capf_expect(c, CAPF_AUTH, c->capf->opt.read_timeout);
}

/* ---- authentication ---- */

/* The string check: compared in constant time; wrong strings are counted, and at the
 * service parameter's limit the string is locked until an administrator makes a new one. */
static bool check_string(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	char given[64] = "";
	struct base_err err = {0};
	int has = pki_capf_get_text(msg, PKI_CAPF_T_PASSWORD, given, sizeof(given), &err);
	if (!*c->op.auth_string) {
		fail(c, "no authentication string is set (used, locked or expired); an "
		        "administrator must generate a new one");
		return false;
	}
	size_t n = strlen(c->op.auth_string);
	bool ok = has == 1 && strlen(given) == n && base_mem_equal_ct(given, c->op.auth_string, n);
	OPENSSL_cleanse(given, sizeof(given));
	if (ok)
		return true;
	long long limit = store_param_int(c->store, "capf_wrong_authentication_string_limit", 3);
	int wrong = c->op.wrong_strings + 1;
	if (wrong >= limit)
		fail_with(c, PKI_CAPF_R_INVALID_ELEMENT, true, true,
		          "wrong authentication string (%d of %lld); the string is locked, an "
		          "administrator must generate a new one",
		          wrong, limit);
	else
		fail_with(c, PKI_CAPF_R_INVALID_ELEMENT, false, true,
		          "wrong authentication string (%d of %lld)", wrong, limit);
	return false;
}

static bool authenticate(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	const char *mode = c->op.mode;
	if (strcmp(mode, "by_authentication_string") == 0)
		return check_string(c, msg);
	if (strcmp(mode, "by_null_string") == 0) {
		base_log(BASE_LOG_WARN, "capf",
		         "%s from %s enrolls by null string: no authentication at all", c->op.name,
		         c->peer);
		return true;
	}
	struct base_err err = {0};
	if (capf_verify_certificate(c, msg, &err) != 0) {
		fail(c, "%s", err.message);
		return false;
	}
	return true;
}

/* ---- install/upgrade ---- */

static void key_spec_of(const struct store_capf_op *op, struct pki_capf_key_spec *spec)
{
	*spec = (struct pki_capf_key_spec){.type = PKI_CAPF_KEY_RSA,
	                                   .rsa_bits = (unsigned)op->key_size};
	if (strcmp(op->key_type, "ec_p256") == 0)
		*spec = (struct pki_capf_key_spec){.type = PKI_CAPF_KEY_EC,
		                                   .curve = PKI_CAPF_CURVE_P256};
	else if (strcmp(op->key_type, "ec_p384") == 0)
		*spec = (struct pki_capf_key_spec){.type = PKI_CAPF_KEY_EC,
		                                   .curve = PKI_CAPF_CURVE_P384};
}

static void request_key(struct capf_conn *c)
{
	key_spec_of(&c->op, &c->key_spec);
	unsigned char buf[32];
	struct pki_capf_writer w;
	pki_capf_begin(&w, buf, sizeof(buf), PKI_CAPF_KEY_GENERATE_REQUEST, c->session_id);
	if (c->key_spec.type == PKI_CAPF_KEY_RSA) {
		pki_capf_put_u16(&w, PKI_CAPF_T_KEY_SIZE, c->key_spec.rsa_bits);
		/* Jabber gets KEY_SIZE alone, as CUCM sends it (specs/capf.md §8.1). */
		if (!store_device_type_is_jabber(c->op.device_type))
			pki_capf_put_u8(&w, PKI_CAPF_T_KEY_TYPE, PKI_CAPF_KEY_RSA);
	} else {
		pki_capf_put_u8(&w, PKI_CAPF_T_KEY_TYPE, PKI_CAPF_KEY_EC);
		pki_capf_put_u8(&w, PKI_CAPF_T_CURVE, c->key_spec.curve);
	}
	capf_send(c, buf, (size_t)pki_capf_end(&w, NULL));
	capf_expect(c, CAPF_KEY, c->capf->opt.key_timeout);
}

static void on_issued(void *arg, X509 *cert, const struct base_err *err)
{
	struct capf_conn *c = arg;
	if (c->orphaned) {
		/* The phone left while we signed: it never got this certificate. */
		if (cert) {
			struct pki_cert_info info;
			struct store_actor actor = {"capf", c->peer};
			pki_cert_describe(&info, "lsc", cert);
			store_cert_revoke(c->store, info.serial, "cessation_of_operation", &actor,
			                  NULL);
		}
		free(c);
		return;
	}
	if (!cert) {
		fail(c, "%s", err->message);
		return;
	}
	struct pki_cert_info info;
	pki_cert_describe(&info, "lsc", cert);
	base_strlcpy(c->serial, info.serial, sizeof(c->serial));
	unsigned char *der = NULL;
	int len = i2d_X509(cert, &der);
	unsigned char *buf = malloc(PKI_CAPF_MAX_MSG);
	struct pki_capf_writer w;
	long n = -1;
	if (len > 0 && buf) {
		pki_capf_begin(&w, buf, PKI_CAPF_MAX_MSG, PKI_CAPF_STORE_CERTIFICATE_REQUEST,
		               c->session_id);
		pki_capf_put_u8(&w, PKI_CAPF_T_CERTIFICATE_TYPE, PKI_CAPF_CERT_LSC);
		pki_capf_put_cert(&w, der, (size_t)len);
		n = pki_capf_end(&w, NULL);
	}
	if (n > 0) {
		capf_send(c, buf, (size_t)n);
		capf_expect(c, CAPF_STORE, c->capf ? c->capf->opt.read_timeout : 30);
	} else {
		fail(c, "cannot encode the certificate");
	}
	OPENSSL_free(der);
	free(buf);
}

static void handle_key(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	const struct pki_capf_elem *pub = &msg->elem[PKI_CAPF_T_PUBLIC_KEY];
	struct base_err err = {0};
	unsigned reason = 0;
	if (!pub->value) {
		pki_capf_get_u8(msg, PKI_CAPF_T_REASON, &reason, &err);
		fail(c, "the phone could not generate its key (reason %u)", reason);
		return;
	}
	EVP_PKEY *key;
	if (pki_capf_public_key_parse(pub->value, pub->len, &key, &err) != 0) {
		fail(c, "%s", err.message);
		return;
	}
	char want[32], got[32];
	if (!pki_capf_key_matches(key, &c->key_spec)) {
		pki_capf_key_spec_name(&c->key_spec, want, sizeof(want));
		pki_capf_key_describe(key, got, sizeof(got));
		EVP_PKEY_free(key);
		fail(c, "key size mismatch: the phone sent an %s key, its profile asks for %s", got,
		     want);
		return;
	}
	struct pki_lsc_spec spec = {
	    .owner = c->op.owner,
	    .key_policy = {.rsa_bits =
	                       c->key_spec.type == PKI_CAPF_KEY_RSA ? (int)c->key_spec.rsa_bits : 0,
	                   .allow_weak_rsa = store_param_bool(c->store, "allow_weak_rsa", false)},
	};
	struct store_actor actor = capf_actor(c);
	capf_expect(c, CAPF_ISSUING, 0);
	int rc = pki_lsc_issue_async(c->capf->pki, c->capf->pool, c->store, &spec, key, "capf",
	                             &actor, on_issued, c, &err);
	EVP_PKEY_free(key);
	if (rc != 0) {
		c->state = CAPF_KEY;
		fail(c, "%s",
		     err.code == BASE_E_THROTTLED
		         ? "CAPF is busy signing other certificates; try again later"
		         : err.message);
	}
}

static void handle_store(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	unsigned reason = 0;
	struct base_err err = {0};
	pki_capf_get_u8(msg, PKI_CAPF_T_REASON, &reason, &err);
	if (reason == PKI_CAPF_R_UPDATE_CERTIFICATE) {
		succeed(c, PKI_CAPF_R_UPDATE_CERTIFICATE, "LSC %s installed", c->serial);
		return;
	}
	/* The phone keeps no copy: the certificate must not stay valid. */
	struct store_actor actor = capf_actor(c);
	store_cert_revoke(c->store, c->serial, "cessation_of_operation", &actor, NULL);
	publish_revocations(c);
	/* The reference answers 1 whatever the phone said (specs/capf.md §5.2 step 9). */
	fail_with(c, PKI_CAPF_R_UPDATE_CERTIFICATE, false, false,
	          "the phone could not store its certificate (reason %u)", reason);
}

/* ---- delete and troubleshoot ---- */

static void handle_delete(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	unsigned reason = 0;
	struct base_err err = {0};
	pki_capf_get_u8(msg, PKI_CAPF_T_REASON, &reason, &err);
	if (reason != PKI_CAPF_R_UPDATE_CERTIFICATE) {
		fail_with(c, PKI_CAPF_R_UPDATE_CERTIFICATE, false, false,
		          "the phone did not delete its certificate (reason %u)", reason);
		return;
	}
	struct store_actor actor = capf_actor(c);
	int count = 0;
	if (store_cert_revoke_owner(c->store, &c->op.owner, "cessation_of_operation", &actor,
	                            &count, &err) != 0) {
		fail_with(c, PKI_CAPF_R_UPDATE_CERTIFICATE, false, false,
		          "cannot revoke the deleted certificate: %s", err.message);
		return;
	}
	publish_revocations(c);
	succeed(c, PKI_CAPF_R_UPDATE_CERTIFICATE,
	        "LSC deleted from the phone; %d certificate%s revoked", count,
	        count == 1 ? "" : "s");
}

/* Troubleshoot: what the phone holds goes to the audit log (the CAPF trace). */
static void handle_fetch(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	unsigned reason = 0;
	struct base_err err = {0};
	pki_capf_get_u8(msg, PKI_CAPF_T_REASON, &reason, &err);
	const unsigned char *der;
	size_t len;
	if (reason != PKI_CAPF_R_UPDATE_CERTIFICATE) {
		fail_with(c, PKI_CAPF_R_NO_ACTION, false, false,
		          "the phone has no certificate to show (reason %u)", reason);
		return;
	}
	const unsigned char *p;
	X509 *cert = NULL;
	if (pki_capf_get_cert(msg, &der, &len, &err) == 1) {
		p = der;
		cert = d2i_X509(NULL, &p, (long)len);
		if (cert && p != der + len) {
			X509_free(cert);
			cert = NULL;
		}
	}
	if (!cert) {
		fail(c, "the phone's certificate is missing or not DER");
		return;
	}
	struct pki_cert_info info;
	pki_cert_describe(&info, "fetched", cert);
	X509_free(cert);
	succeed(c, PKI_CAPF_R_NO_ACTION,
	        "the phone holds subject %s, issuer %s, serial %s, valid %s to %s, SHA-256 %s",
	        info.subject, info.issuer, info.serial, info.not_before, info.not_after,
	        info.sha256_fingerprint);
}

/* ---- dispatch ---- */

/* After a successful operation there is nothing to do: END_SESSION 0, except for Jabber,
 * which CUCM answers with 7 ("already issued") when it has its certificate. */
static void no_operation(struct capf_conn *c)
{
	struct store_cert current;
	struct base_err err = {0};
	bool has_lsc = store_cert_current(c->store, &c->op.owner, &current, &err) == 0;
	if (has_lsc)
		store_cert_clear(&current);
	struct store_capf_outcome o = {.reason = "no certificate operation is pending"};
	record(c, &o);
	capf_end(c, store_device_type_is_jabber(c->op.device_type) && has_lsc
	                ? PKI_CAPF_R_INVALID_ELEMENT
	                : PKI_CAPF_R_NO_ACTION);
}

static void handle_auth(struct capf_conn *c, const struct pki_capf_msg *msg)
{
	unsigned version = 0;
	char name[129];
	struct base_err err = {0};
	/* Jabber answers VERSION 2, the reference phones 3. */
	if (pki_capf_get_u8(msg, PKI_CAPF_T_VERSION, &version, &err) != 1 || version < 1 ||
	    version > PKI_CAPF_VERSION) {
		fail(c, "AUTH_RESPONSE without a supported VERSION");
		return;
	}
	if (pki_capf_get_text(msg, PKI_CAPF_T_DEVICE_NAME, name, sizeof(name), &err) != 1 ||
	    !*name) {
		fail(c, "AUTH_RESPONSE without a DEVICE_NAME");
		return;
	}
	if (store_capf_op_find(c->store, name, &c->op, &err) != 0) {
		if (err.code == BASE_E_NOT_FOUND) {
			base_log(BASE_LOG_INFO, "capf", "unknown device %s from %s", name, c->peer);
			capf_end(c, PKI_CAPF_R_UNKNOWN_DEVICE);
		} else {
			fail(c, "%s", err.message);
		}
		return;
	}
	c->have_op = true;
	base_strlcpy(c->device_name, name, sizeof(c->device_name));
	const char *op = c->op.operation;
	if (strcmp(op, "no_pending") == 0) {
		no_operation(c);
		return;
	}
	if (c->op.completes_by && base_time_now() > c->op.completes_by) {
		char when[21];
		base_time_format(c->op.completes_by, when);
		fail_with(c, PKI_CAPF_R_INVALID_ELEMENT, true, false,
		          "the operation expired at %s; an administrator must schedule it again",
		          when);
		return;
	}
	if (!authenticate(c, msg))
		return;
	if (strcmp(op, "install_upgrade") == 0) {
		request_key(c);
	} else if (strcmp(op, "delete") == 0) {
		send_empty(c, PKI_CAPF_DELETE_CERTIFICATE_REQUEST);
		capf_expect(c, CAPF_DELETE, c->capf->opt.read_timeout);
	} else {
		send_empty(c, PKI_CAPF_FETCH_CERTIFICATE_REQUEST);
		capf_expect(c, CAPF_FETCH, c->capf->opt.read_timeout);
	}
}

/* Which response each state waits for. */
static const unsigned expected[] = {
    [CAPF_AUTH] = PKI_CAPF_AUTH_RESPONSE,
    [CAPF_KEY] = PKI_CAPF_KEY_GENERATE_RESPONSE,
    [CAPF_STORE] = PKI_CAPF_STORE_CERTIFICATE_RESPONSE,
    [CAPF_FETCH] = PKI_CAPF_FETCH_CERTIFICATE_RESPONSE,
    [CAPF_DELETE] = PKI_CAPF_DELETE_CERTIFICATE_RESPONSE,
};

void capf_session_message(struct capf_conn *c, const unsigned char *buf, size_t len)
{
	struct pki_capf_msg msg;
	struct base_err err = {0};
	if (c->state == CAPF_ISSUING || c->state == CAPF_ENDING)
		return;
	if (pki_capf_decode(buf, len, &msg, &err) != 0) {
		fail(c, "protocol error: %s", err.message);
		return;
	}
	/* The session ID is ours, from AUTH_REQUEST; a phone must echo it. */
	if (msg.session_id != c->session_id) {
		fail(c, "protocol error: session ID %u, expected %u", (unsigned)msg.session_id,
		     (unsigned)c->session_id);
		return;
	}
	if (c->state == CAPF_KEY && msg.command == PKI_CAPF_REQUEST_IN_PROGRESS) {
		if (++c->in_progress > MAX_IN_PROGRESS)
			fail(c, "protocol error: more than %d REQUEST_IN_PROGRESS",
			     MAX_IN_PROGRESS);
		else
			capf_expect(c, CAPF_KEY, c->capf->opt.key_timeout);
		return;
	}
	if (msg.command != expected[c->state]) {
		fail(c, "protocol error: %s while waiting for %s",
		     pki_capf_command_name(msg.command), pki_capf_command_name(expected[c->state]));
		return;
	}
	switch (c->state) {
	case CAPF_AUTH:
		handle_auth(c, &msg);
		break;
	case CAPF_KEY:
		handle_key(c, &msg);
		break;
	case CAPF_STORE:
		handle_store(c, &msg);
		break;
	case CAPF_FETCH:
		handle_fetch(c, &msg);
		break;
	case CAPF_DELETE:
		handle_delete(c, &msg);
		break;
	default:
		break;
	}
}

void capf_session_lost(struct capf_conn *c, const char *why)
{
	if (c->state == CAPF_AUTH || c->state == CAPF_ENDING || !c->have_op) {
		base_log(BASE_LOG_INFO, "capf", "session %u from %s ended: %s", c->session_id,
		         c->peer, why);
		return;
	}
	if (c->state == CAPF_STORE) {
		/* Sent, never confirmed: the phone may not have it. */
		struct store_actor actor = capf_actor(c);
		store_cert_revoke(c->store, c->serial, "cessation_of_operation", &actor, NULL);
		publish_revocations(c);
	}
	char status[256];
	snprintf(status, sizeof(status), "%s failed: %s before the operation completed",
	         operation_label(c->op.operation), why);
	struct store_capf_outcome o = {.status = status, .reason = why};
	record(c, &o);
}
