/* Unit tests for LSC issuance: key checks, the certificate profile (capf.md 7), the registry
 * of issued certificates in the store, and issuance on the worker pool. */
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

#include <event2/event.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

struct fixture {
	char dir[64];
	struct pki *pki;
	struct store *store;
};

static const struct store_actor actor = {"tester", "unit-test"};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct base_err err = {0};
	char db[128], key[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_lsc.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(db, sizeof(db), "%s/ucm.db", f->dir);
	snprintf(key, sizeof(key), "%s/store.key", f->dir);
	if (pki_open(&f->pki, f->dir, &err) != 0 || store_open(&f->store, db, key, &err) != 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
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

	store_close(f->store);
	pki_close(f->pki);
	nftw(f->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static EVP_PKEY *rsa_key(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

static void expect_refused(EVP_PKEY *key, const struct pki_key_policy *policy,
                           const char *message_part)
{
	struct base_err err = {0};

	assert_int_equal(pki_key_check(key, policy, &err), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_string_equal(err.field, "public_key");
	if (!strstr(err.message, message_part)) {
		fail_msg("\"%s\" does not say \"%s\"", err.message, message_part);
	}
}

static void expect_accepted(EVP_PKEY *key, const struct pki_key_policy *policy)
{
	struct base_err err = {0};

	if (pki_key_check(key, policy, &err) != 0) {
		fail_msg("refused: %s", err.message);
	}
}

static void test_key_check_rsa(void **state)
{
	(void)state;
	EVP_PKEY *k512 = rsa_key(512), *k1024 = rsa_key(1024), *k2048 = rsa_key(2048);
	const struct pki_key_policy strict = {0}, legacy = {.allow_weak_rsa = true};
	const struct pki_key_policy want3072 = {.rsa_bits = 3072};
	const struct pki_key_policy want2048 = {.rsa_bits = 2048};

	expect_refused(k512, &strict, "never accepted");
	expect_refused(k512, &legacy, "never accepted");
	expect_refused(k1024, &strict, "allow_weak_rsa");
	expect_accepted(k1024, &legacy);
	expect_accepted(k2048, &strict);
	expect_accepted(k2048, NULL);
	expect_accepted(k2048, &want2048);
	expect_refused(k2048, &want3072, "key size mismatch");
	EVP_PKEY_free(k512);
	EVP_PKEY_free(k1024);
	EVP_PKEY_free(k2048);
}

static void test_key_check_other_types(void **state)
{
	(void)state;
	EVP_PKEY *p256 = ec_key("P-256"), *p384 = ec_key("P-384"), *p521 = ec_key("P-521");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	const struct pki_key_policy want2048 = {.rsa_bits = 2048};

	expect_accepted(p256, NULL);
	expect_accepted(p384, NULL);
	/* The operation's RSA size does not apply to an EC key. */
	expect_accepted(p256, &want2048);
	expect_refused(p521, NULL, "P-256 or P-384");
	expect_refused(ed, NULL, "only RSA and ECDSA");
	expect_refused(NULL, NULL, "no public key");
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed);
}

static X509 *issue_ok(struct fixture *f, const struct pki_lsc_spec *spec, EVP_PKEY *key)
{
	struct base_err err = {0};
	X509 *x = pki_lsc_issue(f->pki, spec, key, &err);

	if (!x) {
		fail_msg("pki_lsc_issue: %s", err.message);
	}
	return x;
}

static const char *ext_text(X509 *x, int nid, char *buf, size_t size, int *critical)
{
	int i = X509_get_ext_by_NID(x, nid, -1);
	X509_EXTENSION *ext;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	assert_true(i >= 0);
	ext = X509_get_ext(x, i);
	*critical = X509_EXTENSION_get_critical(ext);
	assert_int_equal(X509V3_EXT_print(bio, ext, 0, 0), 1);
	len = BIO_get_mem_data(bio, &data);
	snprintf(buf, size, "%.*s", (int)len, data);
	BIO_free(bio);
	return buf;
}

static void test_lsc_profile(void **state)
{
	struct fixture *f = *state;
	struct pki_lsc_spec spec = {.owner = {.type = STORE_CERT_DEVICE, .name = "SEP001122334455"},
	                            .validity_days = 365};
	EVP_PKEY *key = rsa_key(2048);
	X509 *x = issue_ok(f, &spec, key);
	char buf[512], subject[256];
	int critical;

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	/* 128 random bits: 16 content bytes, never more than 17 with a sign byte. */
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_true(BN_num_bytes(serial) <= 16 && BN_num_bytes(serial) >= 8);
	BN_free(serial);
	X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	assert_true(strncmp(subject, "/CN=SEP001122334455/O=OpenUCM", 29) == 0);
	assert_int_equal(
	    X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(pki_ca_cert(f->pki))), 0);
	assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	assert_string_equal(ext_text(x, NID_basic_constraints, buf, sizeof(buf), &critical),
	                    "CA:FALSE");
	assert_true(critical);
	assert_string_equal(ext_text(x, NID_key_usage, buf, sizeof(buf), &critical),
	                    "Digital Signature, Key Encipherment");
	assert_true(critical);
	ext_text(x, NID_ext_key_usage, buf, sizeof(buf), &critical);
	assert_false(critical);
	assert_non_null(strstr(buf, "TLS Web Server Authentication"));
	assert_non_null(strstr(buf, "TLS Web Client Authentication"));
	assert_non_null(strstr(buf, "IPSec End System"));
	assert_string_equal(ext_text(x, NID_subject_alt_name, buf, sizeof(buf), &critical),
	                    "URI:SEP001122334455");
	assert_true(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1) < 0);
	assert_true(X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) < 0);
	/* 365 days from now. */
	int days = 0, secs = 0;
	assert_int_equal(
	    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_int_equal(days, 365);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	/* It verifies against the CA, as a TLS client certificate. */
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_add_cert(store, pki_ca_cert(f->pki));
	X509_STORE_CTX_init(ctx, store, x, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_lsc_instance_and_crl_dp(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki_lsc_spec spec = {.owner = {.type = STORE_CERT_APPLICATION_USER,
	                                      .name = "ctiapp",
	                                      .instance_id = "node1"},
	                            .validity_days = 30};
	EVP_PKEY *key = ec_key("P-384");
	char buf[512];
	int critical;

	assert_int_equal(pki_set_crl_url(f->pki, "ftp://x", &err), -1);
	assert_int_equal(pki_set_crl_url(f->pki, "https://ucm.example.com:8443/pki/crl", &err), 0);
	X509 *x = issue_ok(f, &spec, key);
	assert_string_equal(ext_text(x, NID_subject_alt_name, buf, sizeof(buf), &critical),
	                    "URI:ctiapp/node1");
	ext_text(x, NID_crl_distribution_points, buf, sizeof(buf), &critical);
	assert_non_null(strstr(buf, "URI:https://ucm.example.com:8443/pki/crl"));
	X509_free(x);

	/* A user certificate needs its instance; a device none. */
	spec.owner.instance_id[0] = '\0';
	assert_null(pki_lsc_issue(f->pki, &spec, key, &err));
	assert_string_equal(err.field, "owner");
	spec.owner.type = STORE_CERT_DEVICE;
	spec.validity_days = 0;
	assert_null(pki_lsc_issue(f->pki, &spec, key, &err));
	assert_string_equal(err.field, "validity_days");
	EVP_PKEY_free(key);
}

static void record(struct fixture *f, X509 *x, const struct store_cert_owner *owner,
                   struct store_cert *rec)
{
	struct base_err err = {0};

	assert_int_equal(pki_lsc_record(x, owner, "est", rec, &err), 0);
	if (store_cert_add(f->store, rec, &actor, &err) != 0) {
		fail_msg("store_cert_add: %s", err.message);
	}
}

struct revoked_list {
	int count;
	char serials[4][64];
};

static void collect_revoked(void *arg, const char *serial, int64_t at, const char *reason)
{
	struct revoked_list *l = arg;

	assert_true(at > 0);
	assert_true(reason[0] != '\0');
	if (l->count < 4) {
		base_strlcpy(l->serials[l->count], serial, sizeof(l->serials[0]));
	}
	l->count++;
}

static void test_registry(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki_lsc_spec spec = {.owner = {.type = STORE_CERT_DEVICE, .name = "SEPAABBCCDDEEFF"},
	                            .validity_days = 10};
	EVP_PKEY *key = ec_key("P-256");
	X509 *x1 = issue_ok(f, &spec, key), *x2 = issue_ok(f, &spec, key);
	struct store_cert r1, r2, cur;
	struct revoked_list revoked = {0};
	uint64_t gen = store_cert_revocation_generation(f->store);

	assert_int_equal(store_cert_current(f->store, &spec.owner, &cur, &err), -1);
	assert_int_equal(err.code, BASE_E_NOT_FOUND);
	record(f, x1, &spec.owner, &r1);
	assert_int_equal(store_cert_current(f->store, &spec.owner, &cur, &err), 0);
	assert_string_equal(cur.serial, r1.serial);
	assert_string_equal(cur.pem, r1.pem);
	assert_string_equal(cur.key_type, "EC");
	assert_int_equal(cur.key_bits, 256);
	assert_string_equal(cur.status, "valid");
	store_cert_clear(&cur);

	/* A new certificate supersedes the old one, which goes on the CRL. */
	record(f, x2, &spec.owner, &r2);
	assert_int_equal(store_cert_current(f->store, &spec.owner, &cur, &err), 0);
	assert_string_equal(cur.serial, r2.serial);
	store_cert_clear(&cur);
	assert_int_equal(store_cert_get(f->store, r1.serial, &cur, &err), 0);
	assert_string_equal(cur.status, "revoked");
	assert_string_equal(cur.revocation_reason, "superseded");
	store_cert_clear(&cur);
	assert_true(store_cert_revocation_generation(f->store) > gen);

	/* The same serial twice is a conflict, not a second row. */
	assert_int_equal(store_cert_add(f->store, &r2, &actor, &err), -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);

	assert_int_equal(store_cert_revoke(f->store, r2.serial, "no_such_reason", &actor, &err),
	                 -1);
	assert_string_equal(err.field, "reason");
	assert_int_equal(store_cert_revoke(f->store, r2.serial, "key_compromise", &actor, &err), 0);
	assert_int_equal(store_cert_revoke(f->store, r2.serial, "key_compromise", &actor, &err),
	                 -1);
	assert_int_equal(err.code, BASE_E_CONFLICT);
	assert_int_equal(store_cert_current(f->store, &spec.owner, &cur, &err), -1);
	assert_int_equal(
	    store_cert_revoked_each(f->store, base_time_now(), collect_revoked, &revoked, &err), 0);
	assert_int_equal(revoked.count, 2);
	assert_string_equal(revoked.serials[0], r1.serial);
	assert_string_equal(revoked.serials[1], r2.serial);
	/* Expired revoked certificates leave the CRL. */
	revoked.count = 0;
	assert_int_equal(store_cert_revoked_each(f->store, base_time_now() + 20 * 86400,
	                                         collect_revoked, &revoked, &err),
	                 0);
	assert_int_equal(revoked.count, 0);
	store_cert_clear(&r1);
	store_cert_clear(&r2);
	X509_free(x1);
	X509_free(x2);
	EVP_PKEY_free(key);
}

static void test_revoke_owner(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct pki_lsc_spec spec = {
	    .owner = {.type = STORE_CERT_END_USER, .name = "alice", .instance_id = "laptop"},
	    .validity_days = 10};
	EVP_PKEY *key = ec_key("P-256");
	X509 *x = issue_ok(f, &spec, key);
	struct store_cert r;
	int count = -1;

	record(f, x, &spec.owner, &r);
	assert_int_equal(store_cert_revoke_owner(f->store, &spec.owner, "cessation_of_operation",
	                                         &actor, &count, &err),
	                 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_cert_revoke_owner(f->store, &spec.owner, "cessation_of_operation",
	                                         &actor, &count, &err),
	                 0);
	assert_int_equal(count, 0);
	store_cert_clear(&r);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* ---- the worker pool and asynchronous issuance ---- */

struct async_state {
	struct event_base *base;
	int ok, failed, expected;
	char last_error[256];
};

static void on_issued(void *arg, X509 *cert, const struct base_err *err)
{
	struct async_state *s = arg;

	if (cert) {
		s->ok++;
	} else {
		s->failed++;
		base_strlcpy(s->last_error, err->message, sizeof(s->last_error));
	}
	if (s->ok + s->failed == s->expected) {
		event_base_loopbreak(s->base);
	}
}

static void test_issue_async(void **state)
{
	struct fixture *f = *state;
	struct base_err err = {0};
	struct event_base *base = event_base_new();
	struct net_work_pool *pool = NULL;
	struct async_state s = {.base = base, .expected = 9};
	EVP_PKEY *good = ec_key("P-256"), *weak = rsa_key(1024);

	assert_int_equal(net_work_pool_new(&pool, base, 2, 0, &err), 0);
	for (int i = 0; i < 8; i++) {
		struct pki_lsc_spec spec = {.owner = {.type = STORE_CERT_DEVICE}};
		snprintf(spec.owner.name, sizeof(spec.owner.name), "SEP0000000000%02d", i);
		assert_int_equal(pki_lsc_issue_async(f->pki, pool, f->store, &spec, good, "est",
		                                     &actor, on_issued, &s, &err),
		                 0);
	}
	struct pki_lsc_spec weak_spec = {.owner = {.type = STORE_CERT_DEVICE, .name = "SEPWEAK"}};
	assert_int_equal(pki_lsc_issue_async(f->pki, pool, f->store, &weak_spec, weak, "est",
	                                     &actor, on_issued, &s, &err),
	                 0);
	/* The caller's references may go at once. */
	EVP_PKEY_free(good);
	EVP_PKEY_free(weak);
	event_base_dispatch(base);
	assert_int_equal(s.ok, 8);
	assert_int_equal(s.failed, 1);
	assert_non_null(strstr(s.last_error, "allow_weak_rsa"));
	assert_int_equal(net_work_pending(pool), 0);

	/* Validity came from capf_certificate_validity_years (5). */
	struct store_cert_owner owner = {.type = STORE_CERT_DEVICE, .name = "SEP000000000003"};
	struct store_cert cur;
	assert_int_equal(store_cert_current(f->store, &owner, &cur, &err), 0);
	assert_int_equal((cur.not_after - cur.not_before) / 86400, 5 * 365);
	assert_string_equal(cur.issued_by, "est");
	store_cert_clear(&cur);
	net_work_pool_free(pool);
	event_base_free(base);
}

struct count_job {
	int *worked;
	int *done;
};

static void count_work(void *arg)
{
	struct count_job *j = arg;

	__atomic_add_fetch(j->worked, 1, __ATOMIC_SEQ_CST);
}

static void count_done(void *arg)
{
	struct count_job *j = arg;

	(*j->done)++;
	free(j);
}

static void test_pool_free_reports_every_job(void **state)
{
	(void)state;
	struct base_err err = {0};
	struct event_base *base = event_base_new();
	struct net_work_pool *pool = NULL;
	int worked = 0, done = 0;

	assert_int_equal(net_work_pool_new(&pool, base, 0, 0, &err), -1);
	assert_int_equal(net_work_pool_new(&pool, base, 3, 20, &err), 0);
	for (int i = 0; i < 20; i++) {
		struct count_job *j = malloc(sizeof(*j));
		j->worked = &worked;
		j->done = &done;
		assert_int_equal(net_work_submit(pool, count_work, count_done, j, &err), 0);
	}
	/* Full: the 21st is refused, not queued. */
	int dummy;
	assert_int_equal(net_work_submit(pool, count_work, count_done, &dummy, &err), -1);
	assert_int_equal(err.code, BASE_E_THROTTLED);
	/* Freed without ever running the loop: done() still runs once per job. */
	net_work_pool_free(pool);
	assert_int_equal(worked, 20);
	assert_int_equal(done, 20);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_check_rsa),
	    cmocka_unit_test(test_key_check_other_types),
	    cmocka_unit_test_setup_teardown(test_lsc_profile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lsc_instance_and_crl_dp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_issue_async, setup, teardown),
	    cmocka_unit_test(test_pool_free_reports_every_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
