/* Shared by the trust-list and signed-file tests: a pki with every role certificate in a
 * temporary directory, made once per test file (RSA key generation is slow), and helpers to
 * make certificates with chosen names and serials. */
#ifndef UCM_TEST_TRUST_FIXTURE_H
#define UCM_TEST_TRUST_FIXTURE_H

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

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"
#include "store/store.h"

struct trust_fixture {
	char dir[64];
	struct pki *pki;
	struct store *store;
};

static inline struct pki *trust_pki_open(const char *dir)
{
	static const enum pki_role roles[] = {PKI_ROLE_HTTPS, PKI_ROLE_SIP_TLS,
	                                      PKI_ROLE_TFTP_SIGNER, PKI_ROLE_CAPF, PKI_ROLE_TVS};
	struct base_err err = {0};
	struct pki *pki = NULL;

	if (pki_open(&pki, dir, &err) != 0) {
		fprintf(stderr, "pki_open: %s\n", err.message);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (pki_role_ensure(pki, roles[i], &err) != 0) {
			fprintf(stderr, "pki_role_ensure: %s\n", err.message);
			pki_close(pki);
			return NULL;
		}
	}
	return pki;
}

static inline int trust_setup(void **state)
{
	struct trust_fixture *f = calloc(1, sizeof(*f));
	struct base_err err = {0};
	char db[128], key[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/ucm-trust-test-XXXXXX");
	if (!mkdtemp(f->dir) || !(f->pki = trust_pki_open(f->dir))) {
		return -1;
	}
	snprintf(db, sizeof(db), "%s/ucm.db", f->dir);
	snprintf(key, sizeof(key), "%s/store.key", f->dir);
	if (store_open(&f->store, db, key, &err) != 0) {
		fprintf(stderr, "store_open: %s\n", err.message);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int trust_teardown(void **state)
{
	struct trust_fixture *f = *state;
	char cmd[128];

	store_close(f->store);
	pki_close(f->pki);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0) {
		return -1;
	}
	free(f);
	return 0;
}

/* The installed ITL of a phone of this pki. */
static inline struct pki_trust_list *trust_fixture_itl(struct trust_fixture *f)
{
	struct base_err err = {0};
	unsigned char *data = NULL;
	size_t len = 0;
	struct pki_trust_list *list = NULL;

	assert_int_equal(pki_trust_list_build(f->pki, f->store, PKI_ITL, &data, &len, &err), 0);
	assert_int_equal(pki_trust_list_load(data, len, NULL, &list, &err), 0);
	free(data);
	return list;
}

/* A self-signed RSA certificate named like the spec's examples ("CN=SAST,O=Example,OU=SAST")
 * with the given serial (hex) and key size; *key receives the key. days < 0: expired. */
static inline X509 *trust_make_cert(const char *cn, const char *serial_hex, int bits, int days,
                                    EVP_PKEY **key)
{
	EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = NULL;

	assert_non_null(k);
	assert_non_null(x);
	assert_true(BN_hex2bn(&bn, serial_hex) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Example", -1,
	                           -1, 0);
	X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	X509_gmtime_adj(X509_getm_notBefore(x), days < 0 ? (long)days * 2 * 86400 : 0);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	*key = k;
	return x;
}

static inline void expect_bytes(const unsigned char *got, const char *hex)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		if (got[i] != v) {
			fail_msg("byte %zu: got %02x, want %02x (%s)", i, got[i], v, hex);
		}
	}
}

#endif
