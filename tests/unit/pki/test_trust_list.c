/* Unit tests for ITLFile.tlv / CTLFile.tlv: the byte layout of trust-lists.md §5, what the
 * lists contain, strict loading, and the update rule across a signer renewal. */
#include "trust_fixture.h"

#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#define SAST_NAME "434e3d534153542c4f3d4578616d706c652c4f553d53415354"

static struct pki_trust_list *load_ok(const unsigned char *data, size_t len,
                                      const struct pki_trust_list *previous)
{
	struct base_err err = {0};
	struct pki_trust_list *list = NULL;

	if (pki_trust_list_load(data, len, previous, &list, &err) != 0) {
		fail_msg("pki_trust_list_load: %s", err.message);
	}
	return list;
}

static void build_ok(struct trust_fixture *f, enum pki_trust_list_kind kind, unsigned char **out,
                     size_t *len)
{
	struct base_err err = {0};

	if (pki_trust_list_build(f->pki, f->store, kind, out, len, &err) != 0) {
		fail_msg("pki_trust_list_build: %s", err.message);
	}
}

/* trust-lists.md §5: the captured ITL header, rebuilt with a certificate of the same name,
 * serial and key size, the same hash and timestamp. Only the signature bytes differ. */
static void test_itl_header_matches_worked_example(void **state)
{
	(void)state;
	static const uint8_t signer_version[2] = {1, 0};
	struct pki_signer signer = {.hash = PKI_HASH_SHA1};
	struct pki_header_spec spec = {.version = {1, 2},
	                               .signer_version = signer_version,
	                               .file_name = "ITLFile.tlv",
	                               .timestamp = 0x6b02420a};
	struct base_err err = {0};
	unsigned char *out = NULL;
	size_t len = 0;

	signer.cert =
	    trust_make_cert("SAST", "0FD796F910C5D256E93231067A05A88D", 2048, 30, &signer.key);
	assert_int_equal(pki_signed_file_build(&signer, &spec, NULL, 0, &out, &len, &err), 0);
	assert_int_equal(len, 396);
	expect_bytes(out, "0100020102"
	                  "020002018c"
	                  "1c00020100"
	                  "03004d"
	                  "04001a" SAST_NAME "00"
	                  "06001a" SAST_NAME "00"
	                  "0500100fd796f910c5d256e93231067a05a88d"
	                  "07000f08000101090008"
	                  "0a0001000b000102"
	                  "0c0100");
	expect_bytes(out + 372, "0e000c49544c46696c652e746c7600"
	                        "0f00046b02420a"
	                        "0d0d");
	/* Signed bytes = file[0:113] ‖ file[372:end], so the signature verifies over them. */
	struct pki_header h;

	assert_int_equal(pki_header_parse(out, len, &h, &err), 0);
	assert_int_equal(h.sig_offset, 113);
	assert_int_equal(h.length, 396);
	assert_int_equal(pki_header_verify(out, len, &h, signer.key, &err), 0);
	free(out);
	pki_signer_free(&signer);
}

/* The list the system builds: header as in the example (SHA-512 by default), first record a
 * SAST with the record layout of §5, and every role certificate with its role. */
static void test_itl_contents(void **state)
{
	struct trust_fixture *f = *state;
	unsigned char *out = NULL;
	size_t len = 0;

	build_ok(f, PKI_ITL, &out, &len);
	expect_bytes(out, "0100020102");
	expect_bytes(out + 10, "1c00020100"
	                       "03");
	struct pki_header h;
	struct base_err err = {0};

	assert_int_equal(pki_header_parse(out, len, &h, &err), 0);
	assert_int_equal(h.hash, PKI_HASH_SHA512);
	assert_string_equal(h.file_name, "ITLFile.tlv");
	assert_int_equal(h.length % 4, 0);
	assert_true((uint32_t)time(NULL) - h.timestamp < 60);
	/* First record: length, subject, issuer, serial, ROLE = SAST, RSAPublicKey (270), the
	 * certificate's signature (256 with the 3072-bit CA: 384), the certificate. */
	const unsigned char *rec = out + h.length;

	assert_int_equal(rec[0], 1);
	assert_int_equal(rec[1] << 8 | rec[2], 2);
	size_t p = 5;

	assert_int_equal(rec[p], 3);
	p += 3 + (size_t)(rec[p + 1] << 8 | rec[p + 2]);
	assert_int_equal(rec[p], 5);
	p += 3 + (size_t)(rec[p + 1] << 8 | rec[p + 2]);
	assert_int_equal(rec[p], 6);
	p += 3 + (size_t)(rec[p + 1] << 8 | rec[p + 2]);
	expect_bytes(rec + p, "0400020000"
	                      "07010e3082010a");
	p += 5 + 3 + 270;
	assert_int_equal(rec[p], 8);
	p += 3 + (size_t)(rec[p + 1] << 8 | rec[p + 2]);
	expect_bytes(rec + p, "09");
	p += 3 + (size_t)(rec[p + 1] << 8 | rec[p + 2]);
	assert_int_equal(p, rec[3] << 8 | rec[4]);

	struct pki_trust_list *list = load_ok(out, len, NULL);
	X509 *signer = NULL, *sip = NULL, *tvs = NULL;

	assert_int_equal(
	    pki_cert_load(pki_role_cert_path(f->pki, PKI_ROLE_TFTP_SIGNER), &signer, &err), 0);
	assert_int_equal(pki_cert_load(pki_role_cert_path(f->pki, PKI_ROLE_SIP_TLS), &sip, &err),
	                 0);
	assert_int_equal(pki_cert_load(pki_role_cert_path(f->pki, PKI_ROLE_TVS), &tvs, &err), 0);
	assert_int_equal(pki_trust_list_count(list), 6);
	assert_true(pki_trust_list_has(list, PKI_TL_SAST, signer));
	assert_true(pki_trust_list_has(list, PKI_TL_TFTP, signer));
	assert_true(pki_trust_list_has(list, PKI_TL_CCM, sip));
	assert_true(pki_trust_list_has(list, PKI_TL_TVS, tvs));
	assert_false(pki_trust_list_has(list, PKI_TL_SAST, sip));
	assert_string_equal(pki_trust_list_file_name(list), "ITLFile.tlv");
	X509_free(signer);
	X509_free(sip);
	X509_free(tvs);
	pki_trust_list_free(list);
	free(out);
}

static void set_cluster_mode(struct store *store, const char *mode)
{
	const struct store_actor actor = {"tester", "unit-test"};
	struct base_err err = {0};
	json_t *patch = json_pack("{s:s}", "value", mode), *after = NULL;

	if (store_update(store, store_kind_find("enterprise-parameters"), "cluster_security_mode",
	                 patch, &actor, &after, &err) != 0) {
		fail_msg("store_update: %s", err.message);
	}
	json_decref(patch);
	json_decref(after);
}

static void test_ctl_only_in_mixed_mode(void **state)
{
	struct trust_fixture *f = *state;
	struct base_err err = {0};
	unsigned char *out = NULL;
	size_t len = 0;

	assert_int_equal(pki_trust_list_build(f->pki, f->store, PKI_CTL, &out, &len, &err), -1);
	assert_int_equal(err.code, BASE_E_NOT_FOUND);
	assert_null(out);
	set_cluster_mode(f->store, "mixed");
	build_ok(f, PKI_CTL, &out, &len);
	struct pki_trust_list *list = load_ok(out, len, NULL);

	assert_string_equal(pki_trust_list_file_name(list), "CTLFile.tlv");
	assert_int_equal(pki_trust_list_count(list), 4);
	pki_trust_list_free(list);
	free(out);
	set_cluster_mode(f->store, "non_secure");
}

/* Any change to a byte of the file, any truncation, any byte appended: refused. */
static void test_tampered_list_refused(void **state)
{
	struct trust_fixture *f = *state;
	struct base_err err = {0};
	struct pki_trust_list *list = NULL;
	unsigned char *out = NULL;
	size_t len = 0;

	build_ok(f, PKI_ITL, &out, &len);
	unsigned char *copy = malloc(len + 1);

	for (size_t i = 0; i < len; i += 7) {
		memcpy(copy, out, len);
		copy[i] ^= 0x01;
		assert_int_equal(pki_trust_list_load(copy, len, NULL, &list, &err), -1);
		assert_null(list);
	}
	for (size_t cut = 0; cut < len; cut += 13) {
		assert_int_equal(pki_trust_list_load(out, cut, NULL, &list, &err), -1);
	}
	memcpy(copy, out, len);
	copy[len] = 0;
	assert_int_equal(pki_trust_list_load(copy, len + 1, NULL, &list, &err), -1);
	free(copy);
	free(out);
}

/* Header strictness: unknown, repeated and misplaced tags, junk after padding. */
static void test_header_strict(void **state)
{
	(void)state;
	struct pki_signer signer = {.hash = PKI_HASH_SHA1};
	struct pki_header_spec spec = {.version = {1, 0}, .file_name = "a.sgn", .timestamp = 1};
	struct base_err err = {0};
	struct pki_header h;
	unsigned char *out = NULL;
	size_t len = 0;

	signer.cert = trust_make_cert("CCM", "01", 1024, 30, &signer.key);
	/* One of four name lengths gives three bytes of padding. */
	static const char *const names[] = {"a.sgn", "ab.sgn", "abc.sgn", "abcd.sgn"};

	for (size_t i = 0; i < 4; i++) {
		free(out);
		spec.file_name = names[i];
		assert_int_equal(pki_signed_file_build(&signer, &spec, (const unsigned char *)"x",
		                                       1, &out, &len, &err),
		                 0);
		assert_int_equal(pki_header_parse(out, len, &h, &err), 0);
		if (out[h.length - 3] == PKI_H_PADDING) {
			break;
		}
	}
	assert_int_equal(pki_header_verify(out, len, &h, signer.key, &err), 0);
	unsigned char *copy = malloc(len);
	/* Offsets: 10 SIGNER_INFO, 13 SIGNER_NAME; FILENAME right after the signature. */
	size_t fname = h.sig_offset + 3 + h.sig_len;
	const struct {
		size_t at;
		unsigned char v;
	} cases[] = {
	    {13, 0x63},                 /* unknown tag inside SIGNER_INFO */
	    {13, PKI_H_FILENAME},       /* a top-level tag inside a container */
	    {fname, PKI_H_SIGNATURE},   /* SIGNATURE twice */
	    {fname, PKI_H_SIGNER_NAME}, /* misplaced */
	    {0, 0x02},                  /* does not start with VERSION */
	    {7, 0xff},                  /* header length past the file */
	};

	/* Junk in the padding. */
	assert_int_equal(out[h.length - 3], PKI_H_PADDING);
	memcpy(copy, out, len);
	copy[h.length - 2] = 0;
	assert_int_equal(pki_header_parse(copy, len, &h, &err), -1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(copy, out, len);
		copy[cases[i].at] = cases[i].v;
		base_err_clear(&err);
		if (pki_header_parse(copy, len, &h, &err) == 0) {
			fail_msg("case %zu parsed", i);
		}
		assert_int_equal(err.code, BASE_E_BAD_REQUEST);
	}
	free(copy);
	free(out);
	pki_signer_free(&signer);
}

static void replace_signer(const char *dir, struct pki **pki)
{
	char path[256];

	pki_close(*pki);
	snprintf(path, sizeof(path), "%s/pki/tftp-signer.crt", dir);
	assert_int_equal(unlink(path), 0);
	*pki = trust_pki_open(dir);
	assert_non_null(*pki);
}

/* A renewed tftp-signer: the next list names both SASTs and is signed by the old key, so a
 * phone holding the old list follows; the one after (old certificate expired) is signed by
 * the new key, which the phone learnt from the transitional list. A phone still on the
 * first list refuses that one. */
static void test_update_follows_signer_renewal(void **state)
{
	struct trust_fixture *f = *state;
	struct base_err err = {0};
	unsigned char *v1 = NULL, *v2 = NULL, *v3 = NULL;
	size_t l1 = 0, l2 = 0, l3 = 0;
	struct pki_trust_list *first, *second, *third = NULL;

	build_ok(f, PKI_ITL, &v1, &l1);
	first = load_ok(v1, l1, NULL);
	replace_signer(f->dir, &f->pki);
	build_ok(f, PKI_ITL, &v2, &l2);
	second = load_ok(v2, l2, first);
	assert_int_equal(pki_trust_list_count(second), 7);

	/* Let the old signer expire: the hand-over ends. */
	char cert_path[256];
	EVP_PKEY *old_key = NULL;
	X509 *expired;

	snprintf(cert_path, sizeof(cert_path), "%s/pki/trust-list-sast.crt", f->dir);
	snprintf(cert_path + strlen(cert_path) - 3, 4, "key");
	assert_int_equal(pki_key_load(cert_path, &old_key, &err), 0);
	EVP_PKEY *unused;

	expired = trust_make_cert("old", "05", 1024, -1, &unused);
	EVP_PKEY_free(unused);
	X509_set_pubkey(expired, old_key);
	assert_true(X509_sign(expired, old_key, EVP_sha256()) > 0);
	snprintf(cert_path + strlen(cert_path) - 3, 4, "crt");
	assert_int_equal(pki_cert_save(cert_path, expired, &err), 0);
	build_ok(f, PKI_ITL, &v3, &l3);
	third = load_ok(v3, l3, second);
	assert_int_equal(pki_trust_list_count(third), 6);
	struct pki_trust_list *refused = NULL;

	assert_int_equal(pki_trust_list_load(v3, l3, first, &refused, &err), -1);
	assert_null(refused);
	assert_non_null(strstr(err.message, "update refused"));

	X509_free(expired);
	EVP_PKEY_free(old_key);
	pki_trust_list_free(first);
	pki_trust_list_free(second);
	pki_trust_list_free(third);
	free(v1);
	free(v2);
	free(v3);
}

/* A list from another installation is not an update of ours. */
static void test_foreign_list_refused(void **state)
{
	struct trust_fixture *f = *state;
	char dir[64] = "/tmp/ucm-trust-other-XXXXXX";
	struct base_err err = {0};
	struct pki *other;
	unsigned char *mine = NULL, *theirs = NULL;
	size_t lm = 0, lt = 0;
	struct pki_trust_list *installed, *list = NULL;

	assert_non_null(mkdtemp(dir));
	other = trust_pki_open(dir);
	assert_non_null(other);
	build_ok(f, PKI_ITL, &mine, &lm);
	installed = load_ok(mine, lm, NULL);
	assert_int_equal(pki_trust_list_build(other, NULL, PKI_ITL, &theirs, &lt, &err), 0);
	assert_int_equal(pki_trust_list_load(theirs, lt, installed, &list, &err), -1);
	assert_null(list);
	pki_trust_list_free(installed);
	pki_close(other);
	free(mine);
	free(theirs);
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_itl_header_matches_worked_example),
	    cmocka_unit_test(test_itl_contents),
	    cmocka_unit_test(test_ctl_only_in_mixed_mode),
	    cmocka_unit_test(test_tampered_list_refused),
	    cmocka_unit_test(test_header_strict),
	    cmocka_unit_test(test_foreign_list_refused),
	    cmocka_unit_test(test_update_follows_signer_renewal),
	};

	return cmocka_run_group_tests(tests, trust_setup, trust_teardown);
}
