/* Unit tests for revocation (the CRL and the verify stores it feeds into TLS contexts), role
 * certificate renewal and external-CA installs with hot reload, and the EST byte formats. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

struct fixture {
	char dir[64];
	struct pki *pki;
	struct store *store;
	struct event_base *base;
};

static const struct store_actor actor = {"tester", "unit-test"};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct base_err err = {0};
	char db[128], key[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_lsc_crl.XXXXXX");
	if (!mkdtemp(f->dir)) {
		return -1;
	}
	snprintf(db, sizeof(db), "%s/ucm.db", f->dir);
	snprintf(key, sizeof(key), "%s/store.key", f->dir);
	f->base = event_base_new();
	if (pki_open(&f->pki, f->dir, &err) != 0 || store_open(&f->store, db, key, &err) != 0 ||
	    pki_crl_start(f->pki, f->base, f->store, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	pki_close(f->pki);
	store_close(f->store);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0) {
		return -1;
	}
	free(f);
	return 0;
}

static X509 *enrolled(struct fixture *f, const char *name, struct store_cert *rec)
{
	struct base_err err = {0};
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct pki_lsc_spec spec = {.owner = {.type = STORE_CERT_DEVICE}, .validity_days = 30};
	X509 *x;

	base_strlcpy(spec.owner.name, name, sizeof(spec.owner.name));
	x = pki_lsc_issue(f->pki, &spec, key, &err);
	assert_non_null(x);
	assert_int_equal(pki_lsc_record(x, &spec.owner, "est", rec, &err), 0);
	assert_int_equal(store_cert_add(f->store, rec, &actor, &err), 0);
	EVP_PKEY_free(key);
	return x;
}

/* What a handshake on ctx would conclude about a client presenting x. */
static int verify_with(SSL_CTX *ctx, X509 *x)
{
	X509_STORE *vs = NULL;
	X509_STORE_CTX *v = X509_STORE_CTX_new();
	int result;

	assert_int_equal(SSL_CTX_get0_verify_cert_store(ctx, &vs), 1);
	assert_non_null(vs);
	X509_STORE_CTX_init(v, vs, x, NULL);
	X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_CLIENT);
	result = X509_verify_cert(v) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(v);
	X509_STORE_CTX_free(v);
	return result;
}

static void test_crl_reaches_tls_contexts(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct store_cert a, b;
	X509 *xa = enrolled(f, "SEP00000000AA01", &a), *xb = enrolled(f, "SEP00000000AA02", &b);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	size_t len;

	assert_int_equal(pki_tls_verify_attach(f->pki, ctx, &err), 0);
	assert_int_equal(verify_with(ctx, xa), X509_V_OK);
	assert_int_equal(verify_with(ctx, xb), X509_V_OK);

	assert_int_equal(store_cert_revoke(f->store, a.serial, "key_compromise", &actor, &err), 0);
	/* Nothing changes until the CRL is rebuilt (the timer, or a refresh after a revoke). */
	assert_int_equal(verify_with(ctx, xa), X509_V_OK);
	assert_int_equal(pki_crl_refresh(f->pki, &err), 0);
	assert_int_equal(verify_with(ctx, xa), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify_with(ctx, xb), X509_V_OK);

	/* The published CRL: signed by the CA, a's serial with its reason, b absent. */
	const unsigned char *der = pki_crl_der(f->pki, &len), *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(pki_ca_cert(f->pki))), 1);
	X509_REVOKED *r = NULL;
	assert_int_equal(X509_CRL_get0_by_cert(crl, &r, xa), 1);
	ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
	assert_int_equal(ASN1_ENUMERATED_get(reason), 1); /* keyCompromise */
	ASN1_ENUMERATED_free(reason);
	assert_int_equal(X509_CRL_get0_by_cert(crl, &r, xb), 0);
	assert_non_null(X509_CRL_get0_nextUpdate(crl));
	X509_CRL_free(crl);
	FILE *pem = fopen(pki_crl_path(f->pki), "r");
	assert_non_null(pem);
	fclose(pem);

	pki_tls_verify_detach(f->pki, ctx);
	SSL_CTX_free(ctx);
	store_cert_clear(&a);
	store_cert_clear(&b);
	X509_free(xa);
	X509_free(xb);
}

static X509 *ctx_cert(SSL_CTX *ctx)
{
	return SSL_CTX_get0_certificate(ctx);
}

static void test_renew_reloads_and_keeps_previous(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	SSL_CTX *ctx;
	struct pki_cert_info *prev = NULL;
	size_t n = 0;

	assert_int_equal(pki_role_ensure(f->pki, PKI_ROLE_HTTPS, &err), 0);
	ctx = net_tls_server_ctx_new(pki_role_cert_path(f->pki, PKI_ROLE_HTTPS),
	                             pki_role_key_path(f->pki, PKI_ROLE_HTTPS), NULL, &err);
	assert_non_null(ctx);
	/* A connection made before the renewal keeps the certificate it was shown. */
	SSL *before = SSL_new(ctx);
	X509 *old = X509_dup(ctx_cert(ctx));
	assert_int_equal(pki_tls_role_attach(f->pki, ctx, PKI_ROLE_HTTPS, &err), 0);
	assert_null(pki_role_previous_path(f->pki, PKI_ROLE_HTTPS));

	assert_int_equal(pki_role_renew(f->pki, PKI_ROLE_HTTPS, 400, &err), -1);
	assert_string_equal(err.field, "overlap_days");
	assert_int_equal(pki_role_renew(f->pki, PKI_ROLE_HTTPS, 7, &err), 0);
	assert_int_not_equal(X509_cmp(old, ctx_cert(ctx)), 0);
	assert_int_equal(X509_cmp(old, SSL_get_certificate(before)), 0);
	assert_non_null(pki_role_previous_path(f->pki, PKI_ROLE_HTTPS));
	assert_int_equal(pki_role_previous_list(f->pki, &prev, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(prev[0].name, "https.previous");
	free(prev);
	/* The renewed pair is one pki_role_ensure keeps. */
	assert_int_equal(pki_role_ensure(f->pki, PKI_ROLE_HTTPS, &err), 0);
	assert_int_equal(pki_role_renew(f->pki, PKI_ROLE_HTTPS, 0, &err), 0);
	assert_null(pki_role_previous_path(f->pki, PKI_ROLE_HTTPS));

	SSL_free(before);
	X509_free(old);
	pki_tls_role_detach(f->pki, ctx);
	SSL_CTX_free(ctx);
}

/* An "external CA" signs what pki_role_csr asked for. */
static char *external_sign(const char *csr_pem, EVP_PKEY *ca_key, bool match)
{
	BIO *in = BIO_new_mem_buf(csr_pem, -1), *out = BIO_new(BIO_s_mem());
	X509_REQ *req = PEM_read_bio_X509_REQ(in, NULL, NULL, NULL);
	X509 *x = X509_new();
	EVP_PKEY *other = match ? NULL : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *data, *pem;
	long len;

	assert_non_null(req);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 99);
	X509_set_subject_name(x, X509_REQ_get_subject_name(req));
	X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"External CA", -1, -1, 0);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30);
	X509_set_pubkey(x, match ? X509_REQ_get0_pubkey(req) : other);
	assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
	PEM_write_bio_X509(out, x);
	len = BIO_get_mem_data(out, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(in);
	BIO_free(out);
	X509_REQ_free(req);
	X509_free(x);
	EVP_PKEY_free(other);
	return pem;
}

static void test_external_ca_install(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	EVP_PKEY *ext_ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *csr = NULL, *wrong, *good;
	SSL_CTX *ctx;

	assert_int_equal(pki_role_ensure(f->pki, PKI_ROLE_SIP_TLS, &err), 0);
	ctx = net_tls_server_ctx_new(pki_role_cert_path(f->pki, PKI_ROLE_SIP_TLS),
	                             pki_role_key_path(f->pki, PKI_ROLE_SIP_TLS), NULL, &err);
	assert_int_equal(pki_tls_role_attach(f->pki, ctx, PKI_ROLE_SIP_TLS, &err), 0);
	assert_int_equal(pki_role_install(f->pki, PKI_ROLE_SIP_TLS, "x", 1, 7, &err), -1);
	assert_int_equal(pki_role_csr(f->pki, PKI_ROLE_SIP_TLS, &csr, &err), 0);
	assert_non_null(strstr(csr, "BEGIN CERTIFICATE REQUEST"));

	wrong = external_sign(csr, ext_ca, false);
	assert_int_equal(pki_role_install(f->pki, PKI_ROLE_SIP_TLS, wrong, strlen(wrong), 7, &err),
	                 -1);
	assert_non_null(strstr(err.message, "pending request"));
	good = external_sign(csr, ext_ca, true);
	assert_int_equal(pki_role_install(f->pki, PKI_ROLE_SIP_TLS, good, strlen(good), 7, &err),
	                 0);
	X509_NAME *issuer = X509_get_issuer_name(ctx_cert(ctx));
	char text[128];
	X509_NAME_oneline(issuer, text, sizeof(text));
	assert_string_equal(text, "/CN=External CA");
	/* Kept at the next start instead of refused or replaced. */
	assert_int_equal(pki_role_ensure(f->pki, PKI_ROLE_SIP_TLS, &err), 0);
	X509 *on_disk = NULL;
	FILE *fp = fopen(pki_role_cert_path(f->pki, PKI_ROLE_SIP_TLS), "r");
	on_disk = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_int_equal(X509_cmp(on_disk, ctx_cert(ctx)), 0);
	X509_free(on_disk);
	/* The request was used up. */
	assert_int_equal(pki_role_install(f->pki, PKI_ROLE_SIP_TLS, good, strlen(good), 7, &err),
	                 -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);

	pki_tls_role_detach(f->pki, ctx);
	SSL_CTX_free(ctx);
	free(csr);
	free(wrong);
	free(good);
	EVP_PKEY_free(ext_ca);
}

struct role_result {
	int calls;
	bool csr;
	struct event_base *base;
};

static void on_role(void *arg, const char *csr, const struct base_err *err)
{
	struct role_result *r = arg;

	assert_null(err);
	r->calls++;
	r->csr |= csr && strstr(csr, "BEGIN CERTIFICATE REQUEST");
	if (r->calls == 2) {
		event_base_loopbreak(r->base);
	}
}

static void test_role_ops_on_workers(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct net_work_pool *pool = NULL;
	struct role_result r = {.base = f->base};
	SSL_CTX *ctx;

	assert_int_equal(pki_role_ensure(f->pki, PKI_ROLE_TVS, &err), 0);
	ctx = net_tls_server_ctx_new(pki_role_cert_path(f->pki, PKI_ROLE_TVS),
	                             pki_role_key_path(f->pki, PKI_ROLE_TVS), NULL, &err);
	X509 *old = X509_dup(ctx_cert(ctx));
	assert_int_equal(pki_tls_role_attach(f->pki, ctx, PKI_ROLE_TVS, &err), 0);
	assert_int_equal(net_work_pool_new(&pool, f->base, 2, 0, &err), 0);
	assert_int_equal(
	    pki_role_op_async(f->pki, pool, PKI_ROLE_TVS, PKI_ROLE_OP_RENEW, 1, on_role, &r, &err),
	    0);
	/* One operation per role at a time. */
	assert_int_equal(
	    pki_role_op_async(f->pki, pool, PKI_ROLE_TVS, PKI_ROLE_OP_CSR, 0, on_role, &r, &err),
	    -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);
	assert_int_equal(
	    pki_role_op_async(f->pki, pool, PKI_ROLE_CAPF, PKI_ROLE_OP_CSR, 0, on_role, &r, &err),
	    0);
	event_base_dispatch(f->base);
	assert_int_equal(r.calls, 2);
	assert_true(r.csr);
	assert_int_not_equal(X509_cmp(old, ctx_cert(ctx)), 0);
	net_work_pool_free(pool);
	pki_tls_role_detach(f->pki, ctx);
	SSL_CTX_free(ctx);
	X509_free(old);
}

/* ---- EST formats ---- */

enum spoil { INTACT, BAD_SIGNATURE, TRAILING_BYTES };

static char *csr_b64(EVP_PKEY *key, const char *cn, bool newlines, enum spoil spoil)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int n;
	BIO *b64 = BIO_new(BIO_f_base64()), *mem = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	if (cn) {
		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
		                           (const unsigned char *)cn, -1, -1, 0);
	}
	X509_REQ_set_pubkey(req, key);
	X509_REQ_sign(req, key, EVP_sha256());
	n = i2d_X509_REQ(req, &der);
	if (spoil == BAD_SIGNATURE) {
		der[n - 3] ^= 1; /* inside the signature */
	}
	if (!newlines) {
		BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
	}
	mem = BIO_push(b64, mem);
	BIO_write(mem, der, n);
	if (spoil == TRAILING_BYTES) {
		BIO_write(mem, "\0\0\0", 3);
	}
	BIO_flush(mem);
	len = BIO_get_mem_data(BIO_next(mem), &data);
	out = strndup(data, (size_t)len);
	BIO_free_all(mem);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return out;
}

static void test_est_csr(void **state)
{
	(void)state;
	struct base_err err = {0};
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *got = NULL;
	X509_REQ *req = NULL;
	char *lines = csr_b64(key, "SEP001122334455", true, INTACT);
	char *flat = csr_b64(key, NULL, false, INTACT);
	char *tampered = csr_b64(key, "SEP001122334455", false, BAD_SIGNATURE);
	char *trailing = csr_b64(key, "SEP001122334455", false, TRAILING_BYTES);

	assert_int_equal(pki_est_csr_decode(lines, strlen(lines), &req, &err), 0);
	assert_int_equal(pki_est_csr_check(req, "sep001122334455", &got, &err), 0);
	assert_int_equal(EVP_PKEY_eq(got, key), 1);
	EVP_PKEY_free(got);
	assert_int_equal(pki_est_csr_check(req, "SEP001122334466", &got, &err), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	X509_REQ_free(req);

	/* No CN: the certificate names the authenticated device anyway. */
	assert_int_equal(pki_est_csr_decode(flat, strlen(flat), &req, &err), 0);
	assert_int_equal(pki_est_csr_check(req, "SEP001122334455", &got, &err), 0);
	EVP_PKEY_free(got);
	X509_REQ_free(req);

	assert_int_equal(pki_est_csr_decode(tampered, strlen(tampered), &req, &err), 0);
	assert_int_equal(pki_est_csr_check(req, "SEP001122334455", &got, &err), -1);
	assert_int_equal(err.code, BASE_E_BAD_REQUEST);
	assert_null(got);
	X509_REQ_free(req);

	/* Not base64, base64 of junk, padding in the middle, only padding; DER with bytes after
	 * it; too big. */
	const char *bad[] = {"", "@@@@", "AAAA", "QUJD=QUJD", "====", NULL};
	for (int i = 0; bad[i]; i++) {
		assert_int_equal(pki_est_csr_decode(bad[i], strlen(bad[i]), &req, &err), -1);
		assert_int_equal(err.code, BASE_E_BAD_REQUEST);
		assert_null(req);
	}
	assert_int_equal(pki_est_csr_decode(trailing, strlen(trailing), &req, &err), -1);
	assert_int_equal(err.code, BASE_E_BAD_REQUEST);
	free(trailing);
	char *big = malloc(40000);
	memset(big, 'A', 40000);
	assert_int_equal(pki_est_csr_decode(big, 40000, &req, &err), -1);
	assert_int_equal(err.code, BASE_E_TOO_LARGE);
	free(big);
	free(lines);
	free(flat);
	free(tampered);
	EVP_PKEY_free(key);
}

static void test_est_certs_only(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	X509 *ca = pki_ca_cert(f->pki);
	size_t len;
	char *b64 = pki_est_certs_only(&ca, 1, &len, &err);
	BIO *mem = BIO_new_mem_buf(b64, (int)len), *dec = BIO_new(BIO_f_base64());
	PKCS7 *p7;

	assert_non_null(b64);
	assert_int_equal(strlen(b64), len);
	for (char *line = b64; *line; line = strchr(line, '\n') + 1) {
		assert_true(strchr(line, '\n') - line <= 64);
	}
	mem = BIO_push(dec, mem);
	p7 = d2i_PKCS7_bio(mem, NULL);
	assert_non_null(p7);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 1);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 0), ca), 0);
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	PKCS7_free(p7);
	BIO_free_all(mem);
	free(b64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_crl_reaches_tls_contexts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_renew_reloads_and_keeps_previous, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_external_ca_install, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_role_ops_on_workers, setup, teardown),
	    cmocka_unit_test(test_est_csr),
	    cmocka_unit_test_setup_teardown(test_est_certs_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
