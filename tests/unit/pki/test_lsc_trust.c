/* Unit tests for named trust stores (manufacturer CAs that sign MICs, ...). */
#include "trust_fixture.h"

#include <openssl/pem.h>

static char *pem_of(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	PEM_write_bio_X509(bio, x);
	len = BIO_get_mem_data(bio, &data);
	char *out = strndup(data, (size_t)len);
	BIO_free(bio);
	return out;
}

/* The fixture's CA plays a manufacturer: it issues a "MIC" (here an LSC-shaped leaf). */
static void test_trust_store(void **state)
{
	struct trust_fixture *f = *state;
	struct base_err err = {0};
	struct pki_cert_info info, *list = NULL;
	size_t count = 9;
	char *ca_pem = pem_of(pki_ca_cert(f->pki));
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct pki_lsc_spec spec = {.owner = {.type = STORE_CERT_DEVICE, .name = "SEP001122334455"},
	                            .validity_days = 30};
	X509 *leaf = pki_lsc_issue(f->pki, &spec, key, &err);
	char *leaf_pem = pem_of(leaf);

	/* Empty before anything is added; verification against it fails. */
	assert_int_equal(pki_trust_list(f->pki, PKI_TRUST_MANUFACTURER, &list, &count, &err), 0);
	assert_int_equal(count, 0);
	X509_STORE *xs = pki_trust_store(f->pki, PKI_TRUST_MANUFACTURER, &err);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, xs, leaf, NULL);
	assert_int_equal(X509_verify_cert(ctx), 0);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);

	assert_int_equal(pki_trust_add(f->pki, "Bad Name", ca_pem, strlen(ca_pem), &info, &err),
	                 -1);
	assert_string_equal(err.field, "store");
	assert_int_equal(
	    pki_trust_add(f->pki, PKI_TRUST_MANUFACTURER, leaf_pem, strlen(leaf_pem), &info, &err),
	    -1);
	assert_non_null(strstr(err.message, "CA certificates"));
	assert_int_equal(pki_trust_add(f->pki, PKI_TRUST_MANUFACTURER, "junk", 4, &info, &err), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_int_equal(
	    pki_trust_add(f->pki, PKI_TRUST_MANUFACTURER, ca_pem, strlen(ca_pem), &info, &err), 0);
	assert_string_equal(info.name, PKI_TRUST_MANUFACTURER);
	assert_int_equal(
	    pki_trust_add(f->pki, PKI_TRUST_MANUFACTURER, ca_pem, strlen(ca_pem), &info, &err), -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);

	assert_int_equal(pki_trust_list(f->pki, PKI_TRUST_MANUFACTURER, &list, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_string_equal(list[0].sha256_fingerprint, info.sha256_fingerprint);
	free(list);
	xs = pki_trust_store(f->pki, PKI_TRUST_MANUFACTURER, &err);
	ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, xs, leaf, NULL);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);

	assert_int_equal(pki_trust_remove(f->pki, PKI_TRUST_MANUFACTURER, "00", &err), -1);
	assert_string_equal(err.field, "fingerprint");
	assert_int_equal(
	    pki_trust_remove(f->pki, PKI_TRUST_MANUFACTURER, info.sha256_fingerprint, &err), 0);
	assert_int_equal(
	    pki_trust_remove(f->pki, PKI_TRUST_MANUFACTURER, info.sha256_fingerprint, &err), -1);
	assert_int_equal(err.code, BASE_E_NOT_FOUND);
	free(ca_pem);
	free(leaf_pem);
	X509_free(leaf);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_trust_store, trust_setup, trust_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
