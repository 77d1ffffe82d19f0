/* Unit tests for src/pki: the CA on disk and the role certificates it issues. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

struct fixture {
	char data[64];
	char dir[96]; /* data/pki */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->data, sizeof(f->data), "/tmp/test_pki.XXXXXX");
	if (!mkdtemp(f->data)) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/pki", f->data);
	*state = f;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->data, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct pki *open_ok(const struct fixture *f)
{
	struct base_err err = {0};
	struct pki *pki = NULL;

	if (pki_open(&pki, f->data, &err) != 0) {
		fail_msg("pki_open: %s", err.message);
	}
	assert_non_null(pki);
	return pki;
}

static void ensure_ok(struct pki *pki, enum pki_role role)
{
	struct base_err err = {0};

	if (pki_role_ensure(pki, role, &err) != 0) {
		fail_msg("pki_role_ensure(%s): %s", pki_role_name(role), err.message);
	}
}

static void path_in(char *out, size_t size, const struct fixture *f, const char *name)
{
	snprintf(out, size, "%s/%s", f->dir, name);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static X509 *read_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	assert_non_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	return k;
}

static void write_cert(const char *path, X509 *x)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
}

static void write_key(const char *path, EVP_PKEY *k)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(fp);
	assert_true(fread(buf, 1, 65535, fp) > 0);
	fclose(fp);
	return buf;
}

/* Days from now until t (negative in the past). */
static int days_until(const ASN1_TIME *t)
{
	int days, secs;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, t), 1);
	return days;
}

static bool verifies(X509 *ca, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok;

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, cert, NULL);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void test_ca_created(void **state)
{
	struct fixture *f = *state;
	char path[160], cn[64] = "", o[64] = "";
	mode_t old = umask(0); /* the modes must not depend on the umask */
	struct pki *pki = open_ok(f);
	X509 *ca;
	EVP_PKEY *key;

	umask(old);
	assert_int_equal(mode_of(f->dir), 0700);
	path_in(path, sizeof(path), f, "ca.key");
	assert_int_equal(mode_of(path), 0600);
	key = read_key(path);
	path_in(path, sizeof(path), f, "ca.crt");
	assert_int_equal(mode_of(path), 0644);
	assert_string_equal(pki_ca_cert_path(pki), path);
	ca = read_cert(path);

	X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof(cn));
	X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_organizationName, o, sizeof(o));
	assert_int_equal(strlen(cn), strlen("OpenUCM CA ") + 8);
	assert_memory_equal(cn, "OpenUCM CA ", 11);
	assert_true(strspn(cn + 11, "0123456789abcdef") == 8);
	assert_string_equal(o, "OpenUCM");
	assert_int_equal(X509_check_ca(ca), 1);
	int i = X509_get_ext_by_NID(ca, NID_basic_constraints, -1);

	assert_true(i >= 0);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(ca, i)), 1);
	assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(ca));
	assert_int_equal(X509_get_signature_nid(ca), NID_sha256WithRSAEncryption);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(key), 3072);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(ca), key), 1);
	assert_true(days_until(X509_get0_notAfter(ca)) >= 3650);
	assert_true(days_until(X509_get0_notAfter(ca)) <= 3653);
	assert_true(X509_verify(ca, key) == 1);

	/* No temporary file is left behind. */
	path_in(path, sizeof(path), f, "ca.key.tmp");
	assert_int_equal(access(path, F_OK), -1);

	X509_free(ca);
	EVP_PKEY_free(key);
	pki_close(pki);
}

static void test_ca_reused(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct pki *pki = open_ok(f);
	char *first, *second;

	path_in(path, sizeof(path), f, "ca.crt");
	first = slurp(path);
	pki_close(pki);
	pki = open_ok(f);
	second = slurp(path);
	assert_string_equal(first, second);
	free(first);
	free(second);
	pki_close(pki);
}

static void test_ca_key_mismatch(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki *pki = open_ok(f);
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char path[160];

	pki_close(pki);
	path_in(path, sizeof(path), f, "ca.key");
	write_key(path, other);
	EVP_PKEY_free(other);
	pki = (struct pki *)1;
	assert_int_equal(pki_open(&pki, f->data, &err), -1);
	assert_null(pki);
	assert_int_equal(err.code, BASE_E_INTERNAL);
	assert_non_null(strstr(err.message, "ca.key does not match"));
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_ca_key_missing(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki *pki = open_ok(f);
	char path[160];

	pki_close(pki);
	path_in(path, sizeof(path), f, "ca.key");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pki_open(&pki, f->data, &err), -1);
	assert_non_null(strstr(err.message, "ca.key is missing"));
	/* And nothing was created in its place. */
	assert_int_equal(access(path, F_OK), -1);
}

static void test_ca_cert_remade_from_key(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	char crt[160], key_path[160];
	EVP_PKEY *key;
	X509 *ca;

	/* What a crash between writing ca.key and ca.crt on first start leaves. */
	pki_close(pki);
	path_in(crt, sizeof(crt), f, "ca.crt");
	path_in(key_path, sizeof(key_path), f, "ca.key");
	assert_int_equal(unlink(crt), 0);
	pki = open_ok(f);
	key = read_key(key_path);
	ca = read_cert(crt);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(ca), key), 1);
	X509_free(ca);
	EVP_PKEY_free(key);
	pki_close(pki);
}

static void test_role_certificates(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	char host[256] = "";
	X509 *ca, *https, *sip;
	EVP_PKEY *key;

	gethostname(host, sizeof(host) - 1);
	ensure_ok(pki, PKI_ROLE_HTTPS);
	ensure_ok(pki, PKI_ROLE_SIP_TLS);
	assert_int_equal(mode_of(pki_role_key_path(pki, PKI_ROLE_HTTPS)), 0600);
	assert_int_equal(mode_of(pki_role_cert_path(pki, PKI_ROLE_HTTPS)), 0644);

	ca = read_cert(pki_ca_cert_path(pki));
	https = read_cert(pki_role_cert_path(pki, PKI_ROLE_HTTPS));
	sip = read_cert(pki_role_cert_path(pki, PKI_ROLE_SIP_TLS));
	key = read_key(pki_role_key_path(pki, PKI_ROLE_HTTPS));

	assert_true(verifies(ca, https));
	assert_true(verifies(ca, sip));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(https), key), 1);
	assert_int_equal(EVP_PKEY_get_bits(key), 2048);
	assert_int_equal(X509_get_signature_nid(https), NID_sha256WithRSAEncryption);
	assert_int_equal(X509_check_host(https, host, 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(https, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(https, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(https, "::1", 0), 1);
	assert_int_equal(X509_check_host(https, "example.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ca(https), 0);

	/* serverAuth everywhere, clientAuth only for SIP over TLS. */
	assert_true(X509_get_extended_key_usage(https) & XKU_SSL_SERVER);
	assert_false(X509_get_extended_key_usage(https) & XKU_SSL_CLIENT);
	assert_true(X509_get_extended_key_usage(sip) & XKU_SSL_SERVER);
	assert_true(X509_get_extended_key_usage(sip) & XKU_SSL_CLIENT);

	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(https), NULL);

	assert_true(BN_num_bits(serial) > 96 && BN_num_bits(serial) <= 128);
	BN_free(serial);
	assert_true(days_until(X509_get0_notAfter(https)) >= 729);
	assert_true(days_until(X509_get0_notAfter(https)) <= 731);

	X509_free(ca);
	X509_free(https);
	X509_free(sip);
	EVP_PKEY_free(key);
	pki_close(pki);
}

static void test_role_reused_then_renewed(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	char ca_key_path[160];
	char *before, *after;
	X509 *cert, *renewed;
	EVP_PKEY *ca_key;

	ensure_ok(pki, PKI_ROLE_CAPF);
	before = slurp(pki_role_cert_path(pki, PKI_ROLE_CAPF));
	ensure_ok(pki, PKI_ROLE_CAPF);
	after = slurp(pki_role_cert_path(pki, PKI_ROLE_CAPF));
	assert_string_equal(before, after);
	free(after);

	/* The same certificate re-signed to expire in 10 days must be replaced. */
	path_in(ca_key_path, sizeof(ca_key_path), f, "ca.key");
	ca_key = read_key(ca_key_path);
	cert = read_cert(pki_role_cert_path(pki, PKI_ROLE_CAPF));
	X509_gmtime_adj(X509_getm_notAfter(cert), 10 * 86400);
	assert_true(X509_sign(cert, ca_key, EVP_sha256()) > 0);
	write_cert(pki_role_cert_path(pki, PKI_ROLE_CAPF), cert);
	ensure_ok(pki, PKI_ROLE_CAPF);
	renewed = read_cert(pki_role_cert_path(pki, PKI_ROLE_CAPF));
	assert_true(days_until(X509_get0_notAfter(renewed)) >= 729);
	assert_int_not_equal(
	    ASN1_INTEGER_cmp(X509_get0_serialNumber(cert), X509_get0_serialNumber(renewed)), 0);

	free(before);
	X509_free(cert);
	X509_free(renewed);
	EVP_PKEY_free(ca_key);
	pki_close(pki);
}

static void test_role_key_mismatch_reissued(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *key;
	X509 *cert;

	/* What a crash between writing a new role key and its certificate leaves. */
	ensure_ok(pki, PKI_ROLE_TFTP_SIGNER);
	write_key(pki_role_key_path(pki, PKI_ROLE_TFTP_SIGNER), other);
	ensure_ok(pki, PKI_ROLE_TFTP_SIGNER);
	key = read_key(pki_role_key_path(pki, PKI_ROLE_TFTP_SIGNER));
	cert = read_cert(pki_role_cert_path(pki, PKI_ROLE_TFTP_SIGNER));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), key), 1);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
	X509_free(cert);
	pki_close(pki);
}

static void test_role_foreign_cert_kept(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki *pki = open_ok(f);
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	char *before, *after;

	/* An administrator's own certificate from some other CA. */
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"tvs.example.com", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	write_cert(pki_role_cert_path(pki, PKI_ROLE_TVS), x);
	write_key(pki_role_key_path(pki, PKI_ROLE_TVS), key);
	before = slurp(pki_role_cert_path(pki, PKI_ROLE_TVS));

	assert_int_equal(pki_role_ensure(pki, PKI_ROLE_TVS, &err), -1);
	assert_non_null(strstr(err.message, "tvs.crt was not issued by the OpenUCM CA"));
	after = slurp(pki_role_cert_path(pki, PKI_ROLE_TVS));
	assert_string_equal(before, after);

	free(before);
	free(after);
	X509_free(x);
	EVP_PKEY_free(key);
	pki_close(pki);
}

static void test_stale_temp_file_replaced(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	char tmp[200];
	FILE *fp;

	/* What a kill -9 in the middle of a write leaves: a partial "<file>.tmp". */
	snprintf(tmp, sizeof(tmp), "%s.tmp", pki_role_key_path(pki, PKI_ROLE_HTTPS));
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fputs("-----BEGIN PRIVATE KEY-----\nhalf", fp);
	fclose(fp);
	ensure_ok(pki, PKI_ROLE_HTTPS);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(mode_of(pki_role_key_path(pki, PKI_ROLE_HTTPS)), 0600);
	EVP_PKEY_free(read_key(pki_role_key_path(pki, PKI_ROLE_HTTPS)));
	pki_close(pki);
}

static void test_names_and_paths(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	struct base_err err = {0};
	char path[160];

	assert_string_equal(pki_role_name(PKI_ROLE_HTTPS), "https");
	assert_string_equal(pki_role_name(PKI_ROLE_SIP_TLS), "sip-tls");
	assert_string_equal(pki_role_name(PKI_ROLE_TFTP_SIGNER), "tftp-signer");
	assert_string_equal(pki_role_name(PKI_ROLE_CAPF), "capf");
	assert_string_equal(pki_role_name(PKI_ROLE_TVS), "tvs");
	assert_string_equal(pki_role_name((enum pki_role)42), "?");
	path_in(path, sizeof(path), f, "sip-tls.crt");
	assert_string_equal(pki_role_cert_path(pki, PKI_ROLE_SIP_TLS), path);
	path_in(path, sizeof(path), f, "tftp-signer.key");
	assert_string_equal(pki_role_key_path(pki, PKI_ROLE_TFTP_SIGNER), path);
	assert_null(pki_role_cert_path(pki, (enum pki_role)42));
	assert_int_equal(pki_role_ensure(pki, (enum pki_role)42, &err), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	pki_close(pki);
}

static void test_cert_list(void **state)
{
	struct fixture *f = *state;
	struct pki *pki = open_ok(f);
	struct base_err err = {0};
	struct pki_cert_info *list = NULL;
	size_t count = 0;
	unsigned char md[32];
	unsigned int n;
	char expected[96];
	X509 *https;

	ensure_ok(pki, PKI_ROLE_CAPF);
	ensure_ok(pki, PKI_ROLE_HTTPS);
	assert_int_equal(pki_cert_list(pki, &list, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_string_equal(list[0].name, "ca");
	assert_string_equal(list[1].name, "https");
	assert_string_equal(list[2].name, "capf");

	assert_non_null(strstr(list[0].subject, "CN=OpenUCM CA "));
	assert_non_null(strstr(list[0].subject, "O=OpenUCM"));
	assert_string_equal(list[0].subject, list[0].issuer);
	assert_string_equal(list[1].issuer, list[0].subject);
	assert_string_equal(list[0].key_type, "RSA");
	assert_int_equal(list[0].key_bits, 3072);
	assert_int_equal(list[1].key_bits, 2048);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(strlen(list[i].not_before), 20);
		assert_int_equal(list[i].not_before[10], 'T');
		assert_int_equal(list[i].not_after[19], 'Z');
		assert_true(strlen(list[i].serial) > 0);
		assert_int_equal(strspn(list[i].serial, "0123456789ABCDEF"),
		                 strlen(list[i].serial));
		assert_int_equal(strlen(list[i].sha256_fingerprint), 95);
	}

	https = read_cert(pki_role_cert_path(pki, PKI_ROLE_HTTPS));
	assert_int_equal(X509_digest(https, EVP_sha256(), md, &n), 1);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(expected + 3 * i, sizeof(expected) - 3 * i, i + 1 < n ? "%02X:" : "%02X",
		         md[i]);
	}
	assert_string_equal(list[1].sha256_fingerprint, expected);

	X509_free(https);
	free(list);
	pki_close(pki);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ca_created, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_key_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_key_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ca_cert_remade_from_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_role_certificates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_role_reused_then_renewed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_role_key_mismatch_reissued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_role_foreign_cert_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_temp_file_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_and_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_list, setup, teardown),
	};

	base_log_set_level(BASE_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
