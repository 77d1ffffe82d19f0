/*
 * Revocation: the CA's CRL, rebuilt whenever the store revokes a certificate (and daily, so
 * it never goes stale), written to <data_dir>/pki/ca.crl, served by the admin listener, and
 * pushed into every TLS context that verifies client certificates, so a revoked LSC fails
 * its next handshake without a restart. Each rebuild makes a new X509_STORE (CA + CRL,
 * CRL checking on) and hands it to the contexts; handshakes in progress keep the old one.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki_int.h"

#define CHECK_SECONDS       2           /* how often the revocation generation is looked at */
#define REBUILD_SECONDS     86400       /* a fresh CRL at least daily ... */
#define NEXT_UPDATE_SECONDS (7 * 86400) /* ... that says it is good for a week */
#define MAX_CONTEXTS        16

struct pki_revocation {
	struct pki *pki;
	struct store *store;
	struct event *timer;
	uint64_t generation; /* store_cert_revocation_generation at the last build */
	int64_t built_at;
	unsigned char *der;
	size_t der_len;
	X509_STORE *verify;
	SSL_CTX *ctxs[MAX_CONTEXTS];
	size_t nctx;
	char path[PATH_MAX + 16];
};

/* RFC 5280 5.3.1 codes are the index in store_cert_revocation_reasons. */
static int reason_code(const char *reason)
{
	for (int i = 0; store_cert_revocation_reasons[i]; i++) {
		if (reason[0] && strcmp(store_cert_revocation_reasons[i], reason) == 0) {
			return i;
		}
	}
	return 0;
}

static int add_revoked(X509_CRL *crl, const char *serial_hex, int64_t at, const char *reason)
{
	X509_REVOKED *r = X509_REVOKED_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	ASN1_ENUMERATED *code = NULL;
	int rc = -1;
	int c = reason_code(reason);

	if (!r || BN_hex2bn(&bn, serial_hex) == 0 || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    X509_REVOKED_set_serialNumber(r, serial) != 1 ||
	    !(when = ASN1_TIME_set(NULL, (time_t)at)) ||
	    X509_REVOKED_set_revocationDate(r, when) != 1) {
		goto out;
	}
	/* "unspecified" is said by leaving the reason out (RFC 5280 5.3.1). */
	if (c != 0) {
		code = ASN1_ENUMERATED_new();
		if (!code || ASN1_ENUMERATED_set(code, c) != 1 ||
		    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, code, 0, 0) != 1) {
			goto out;
		}
	}
	if (X509_CRL_add0_revoked(crl, r) == 1) {
		r = NULL;
		rc = 0;
	}
out:
	ASN1_ENUMERATED_free(code);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_REVOKED_free(r);
	return rc;
}

struct build_ctx {
	X509_CRL *crl;
	int failed;
};

static void on_revoked(void *arg, const char *serial, int64_t at, const char *reason)
{
	struct build_ctx *b = arg;

	if (add_revoked(b->crl, serial, at, reason) < 0) {
		b->failed++;
	}
}

static int set_times_and_number(X509_CRL *crl, const struct pki *pki, time_t now)
{
	ASN1_TIME *last = ASN1_TIME_set(NULL, now);
	ASN1_TIME *next = ASN1_TIME_set(NULL, now + NEXT_UPDATE_SECONDS);
	ASN1_INTEGER *number = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	X509_EXTENSION *aki = NULL;
	int ok;

	/* The issue time as CRL number: it only grows, without a counter to keep on disk. */
	ok = last && next && number && ASN1_INTEGER_set_int64(number, (int64_t)now) == 1 &&
	     X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1 &&
	     X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1;
	if (ok) {
		X509V3_set_ctx(&ctx, pki->ca_cert, NULL, NULL, crl, 0);
		aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
		ok = aki && X509_CRL_add_ext(crl, aki, -1) == 1;
	}
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(number);
	ASN1_TIME_free(next);
	ASN1_TIME_free(last);
	return ok ? 0 : -1;
}

static X509_CRL *crl_build(struct pki *pki, struct store *store, struct base_err *err)
{
	time_t now = (time_t)base_time_now();
	struct build_ctx b = {.crl = X509_CRL_new()};

	ERR_clear_error();
	if (!b.crl || X509_CRL_set_version(b.crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(b.crl, X509_get_subject_name(pki->ca_cert)) != 1 ||
	    set_times_and_number(b.crl, pki, now) < 0) {
		goto fail;
	}
	if (store_cert_revoked_each(store, (int64_t)now, on_revoked, &b, err) < 0) {
		X509_CRL_free(b.crl);
		return NULL;
	}
	if (b.failed || X509_CRL_sort(b.crl) != 1 ||
	    X509_CRL_sign(b.crl, pki->ca_key, EVP_sha256()) <= 0) {
		goto fail;
	}
	return b.crl;
fail:
	X509_CRL_free(b.crl);
	pki_ssl_error(err, "cannot build the CRL", NULL);
	return NULL;
}

static X509_STORE *verify_store_new(const struct pki *pki, X509_CRL *crl)
{
	X509_STORE *vs = X509_STORE_new();

	if (!vs || X509_STORE_add_cert(vs, pki->ca_cert) != 1 || X509_STORE_add_crl(vs, crl) != 1 ||
	    X509_STORE_set_flags(vs, X509_V_FLAG_CRL_CHECK) != 1) {
		X509_STORE_free(vs);
		return NULL;
	}
	return vs;
}

static int crl_save(struct pki_revocation *rev, X509_CRL *crl, struct base_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (bio && PEM_write_bio_X509_CRL(bio, crl) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0) {
		rc = pki_file_write(rev->path, data, (size_t)len, 0600, err);
	} else {
		pki_ssl_error(err, "cannot encode the CRL", NULL);
	}
	BIO_free(bio);
	return rc;
}

static void push_store(struct pki_revocation *rev)
{
	for (size_t i = 0; i < rev->nctx; i++) {
		struct base_err err = {0};

		if (net_tls_set_verify_store(rev->ctxs[i], rev->verify, &err) < 0) {
			base_log(BASE_LOG_ERROR, "pki", "cannot apply the CRL: %s", err.message);
		}
	}
}

int pki_crl_refresh(struct pki *pki, struct base_err *err)
{
	struct pki_revocation *rev = pki->rev;
	uint64_t gen;
	X509_CRL *crl;
	unsigned char *der = NULL;
	int der_len;
	X509_STORE *vs;

	if (!rev) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: revocation not started");
	}
	gen = store_cert_revocation_generation(rev->store);
	crl = crl_build(pki, rev->store, err);
	if (!crl) {
		return -1;
	}
	der_len = i2d_X509_CRL(crl, &der);
	vs = der_len > 0 ? verify_store_new(pki, crl) : NULL;
	if (!vs || crl_save(rev, crl, err) < 0) {
		if (!vs) {
			pki_ssl_error(err, "cannot load the CRL into a trust store", NULL);
		}
		X509_STORE_free(vs);
		OPENSSL_free(der);
		X509_CRL_free(crl);
		return -1;
	}
	OPENSSL_free(rev->der);
	rev->der = der;
	rev->der_len = (size_t)der_len;
	X509_STORE_free(rev->verify);
	rev->verify = vs;
	rev->generation = gen;
	rev->built_at = base_time_now();
	push_store(rev);
	int revoked = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	base_log(BASE_LOG_INFO, "pki", "CRL published with %d revoked certificates",
	         revoked > 0 ? revoked : 0);
	X509_CRL_free(crl);
	return 0;
}

void pki_crl_publish_revocations(struct pki *pki)
{
	struct pki_revocation *rev = pki->rev;
	struct base_err err = {0};

	if (!rev || store_cert_revocation_generation(rev->store) == rev->generation) {
		return;
	}
	if (pki_crl_refresh(pki, &err) < 0) {
		base_log(BASE_LOG_ERROR, "pki", "cannot publish the CRL: %s", err.message);
	}
}

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
	struct pki *pki = arg;
	struct pki_revocation *rev = pki->rev;
	struct base_err err = {0};

	(void)fd;
	(void)events;
	if (store_cert_revocation_generation(rev->store) == rev->generation &&
	    base_time_now() - rev->built_at < REBUILD_SECONDS) {
		return;
	}
	if (pki_crl_refresh(pki, &err) < 0) {
		base_log(BASE_LOG_ERROR, "pki", "%s", err.message);
	}
}

int pki_crl_start(struct pki *pki, struct event_base *base, struct store *store,
                  struct base_err *err)
{
	struct pki_revocation *rev;
	const struct timeval every = {CHECK_SECONDS, 0};

	if (pki->rev) {
		return 0;
	}
	rev = calloc(1, sizeof(*rev));
	if (!rev) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	rev->pki = pki;
	rev->store = store;
	snprintf(rev->path, sizeof(rev->path), "%s/ca.crl", pki->dir);
	pki->rev = rev;
	if (pki_crl_refresh(pki, err) < 0) {
		pki_crl_free(pki);
		return -1;
	}
	rev->timer = event_new(base, -1, EV_PERSIST, on_timer, pki);
	if (!rev->timer || event_add(rev->timer, &every) != 0) {
		pki_crl_free(pki);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot start the CRL timer");
	}
	return 0;
}

void pki_crl_free(struct pki *pki)
{
	struct pki_revocation *rev = pki->rev;

	if (!rev) {
		return;
	}
	if (rev->timer) {
		event_free(rev->timer);
	}
	X509_STORE_free(rev->verify);
	OPENSSL_free(rev->der);
	free(rev);
	pki->rev = NULL;
}

int pki_tls_verify_attach(struct pki *pki, SSL_CTX *ctx, struct base_err *err)
{
	struct pki_revocation *rev = pki->rev;

	if (!rev) {
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "pki: start revocation (pki_crl_start) before attaching");
	}
	for (size_t i = 0; i < rev->nctx; i++) {
		if (rev->ctxs[i] == ctx) {
			return 0;
		}
	}
	if (rev->nctx == MAX_CONTEXTS) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: too many TLS contexts");
	}
	if (net_tls_set_verify_store(ctx, rev->verify, err) < 0) {
		return -1;
	}
	rev->ctxs[rev->nctx++] = ctx;
	return 0;
}

void pki_tls_verify_detach(struct pki *pki, SSL_CTX *ctx)
{
	struct pki_revocation *rev = pki ? pki->rev : NULL;

	for (size_t i = 0; rev && i < rev->nctx; i++) {
		if (rev->ctxs[i] == ctx) {
			rev->ctxs[i] = rev->ctxs[--rev->nctx];
			return;
		}
	}
}

const unsigned char *pki_crl_der(const struct pki *pki, size_t *len)
{
	*len = pki->rev ? pki->rev->der_len : 0;
	return pki->rev ? pki->rev->der : NULL;
}

const char *pki_crl_path(const struct pki *pki)
{
	return pki->rev ? pki->rev->path : NULL;
}
