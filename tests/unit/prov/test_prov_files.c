/* prov: the file namespace and its cache, with a real store and CA (signing on this thread). */
#include "../store/store_fixture.h"
#include "pki/pki.h"
#include "prov/prov_int.h"

static const struct prov_servers ports = {
    .sip_port = 5060, .sip_tls_port = 5061, .capf_port = 3804, .tvs_port = 2445};

struct env {
	struct fixture *f;
	struct pki *pki;
	struct prov_files *files;
};

static struct env open_env(struct fixture *f)
{
	struct env e = {.f = f};
	struct base_err err = {0};
	if (pki_open(&e.pki, f->dir, &err) != 0)
		fail_msg("pki_open: %s", err.message);
	static const enum pki_role roles[] = {PKI_ROLE_TFTP_SIGNER, PKI_ROLE_CAPF, PKI_ROLE_TVS,
	                                      PKI_ROLE_SIP_TLS, PKI_ROLE_HTTPS};
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		assert_int_equal(pki_role_ensure(e.pki, roles[i], &err), 0);
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"1001\"}");
	fixture_ok(
	    f, "devices", NULL,
	    "{\"name\":\"SEP001122334455\",\"type\":\"cisco_sip_phone\",\"lines\":[\"1001\"]}");
	e.files = prov_files_new(f->store, e.pki, NULL, &ports);
	assert_non_null(e.files);
	return e;
}

static void close_env(struct env *e)
{
	prov_files_free(e->files);
	pki_close(e->pki);
}

static int fetch(struct env *e, const char *name, enum prov_via via, struct prov_file **out)
{
	struct base_err err = {0};
	int rc = prov_files_fetch(e->files, name, via, "192.0.2.1", out, NULL, NULL, &err);
	return rc == 0 ? 0 : -(int)err.code;
}

static void test_cache(void **state)
{
	struct env e = open_env(*state);
	struct prov_file *a, *b;
	assert_int_equal(fetch(&e, "SEP001122334455.cnf.xml", PROV_VIA_TFTP, &a), 0);
	uint64_t made = prov_files_generated(e.files);
	assert_int_equal(fetch(&e, "/SEP001122334455.cnf.xml", PROV_VIA_HTTP, &b), 0);
	assert_ptr_equal(a, b); /* the same bytes, from the cache */
	assert_int_equal(prov_files_generated(e.files), made);
	assert_string_equal(a->content_type, "text/xml");
	prov_file_unref(b);
	/* A change of configuration makes it again; the old bytes live on for their holder. */
	fixture_ok(e.f, "sip-profiles", "Standard SIP Profile", "{\"timer_register_expires\":900}");
	assert_int_equal(fetch(&e, "SEP001122334455.cnf.xml", PROV_VIA_TFTP, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_non_null(memmem(b->data, b->len, "<timerRegisterExpires>900<", 26));
	assert_null(memmem(a->data, a->len, "<timerRegisterExpires>900<", 26));
	prov_file_unref(a);
	prov_file_unref(b);
	close_env(&e);
}

static void test_refusals(void **state)
{
	struct env e = open_env(*state);
	struct prov_file *f;
	assert_int_equal(fetch(&e, "SEP0000DEADBEEF.cnf.xml", PROV_VIA_TFTP, &f),
	                 -BASE_E_NOT_FOUND);
	uint64_t made = prov_files_generated(e.files);
	assert_int_equal(fetch(&e, "SEP0000DEADBEEF.cnf.xml", PROV_VIA_TFTP, &f),
	                 -BASE_E_NOT_FOUND);
	assert_int_equal(prov_files_generated(e.files), made); /* "not found" is cached too */
	assert_int_equal(fetch(&e, "../ucm.db", PROV_VIA_TFTP, &f), -BASE_E_FORBIDDEN);
	assert_int_equal(fetch(&e, "store.key", PROV_VIA_HTTP, &f), -BASE_E_NOT_FOUND);
	assert_int_equal(fetch(&e, "CTLFile.tlv", PROV_VIA_HTTP, &f), -BASE_E_NOT_FOUND);
	assert_int_equal(fetch(&e, "SEP001122334455.cnf.xml.enc.sgn", PROV_VIA_TFTP, &f),
	                 -BASE_E_NOT_FOUND);
	assert_int_equal(fetch(&e, "ITLFile.tlv.sgn", PROV_VIA_TFTP, &f), -BASE_E_NOT_FOUND);
	close_env(&e);
}

static void test_signed(void **state)
{
	struct env e = open_env(*state);
	struct prov_file *plain, *sgn, *https, *itl;
	assert_int_equal(fetch(&e, "SEP001122334455.cnf.xml", PROV_VIA_TFTP, &plain), 0);
	assert_int_equal(fetch(&e, "SEP001122334455.cnf.xml.sgn", PROV_VIA_TFTP, &sgn), 0);
	size_t header = (size_t)sgn->data[8] << 8 | sgn->data[9];
	assert_memory_equal(sgn->data, "\x01\x00\x02\x01\x00", 5);
	assert_int_equal(sgn->len, header + plain->len);
	assert_memory_equal(sgn->data + header, plain->data, plain->len);
	/* Over HTTPS the signed name gives the plain file. */
	assert_int_equal(fetch(&e, "SEP001122334455.cnf.xml.sgn", PROV_VIA_HTTPS, &https), 0);
	assert_ptr_equal(https, plain);
	assert_int_equal(fetch(&e, "ITLFile.tlv", PROV_VIA_TFTP, &itl), 0);
	assert_memory_equal(itl->data, "\x01\x00\x02\x01\x02", 5);
	fixture_ok(e.f, "enterprise-parameters", "cluster_security_mode", "{\"value\":\"mixed\"}");
	struct prov_file *ctl;
	assert_int_equal(fetch(&e, "CTLFile.tlv", PROV_VIA_TFTP, &ctl), 0);
	prov_file_unref(ctl);
	prov_file_unref(itl);
	prov_file_unref(https);
	prov_file_unref(sgn);
	prov_file_unref(plain);
	close_env(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cache, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_signed, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
