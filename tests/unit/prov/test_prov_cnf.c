/* prov: device configuration files generated from a real store. */
#include "../store/store_fixture.h"
#include "prov/prov_int.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>

static const struct prov_servers servers = {
    .host = "192.0.2.10",
    .sip_port = 5060,
    .sip_tls_port = 5061,
    .tftp_port = 69,
    .http_port = 6970,
    .https_port = 6971,
    .capf_port = 3804,
    .tvs_port = 2445,
};

static void seed(struct fixture *f)
{
	fixture_ok(f, "enterprise-parameters", "cluster_security_mode", "{\"value\":\"mixed\"}");
	fixture_ok(f, "end-users", NULL,
	           "{\"user_id\":\"tadams\",\"first_name\":\"Tanya\",\"last_name\":\"Adams\","
	           "\"digest_credentials\":\"Secret2026\"}");
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"1001\"}");
	fixture_ok(f, "directory-numbers", NULL,
	           "{\"number\":\"1002\",\"alerting_name\":\"Front <Desk> & Co\"}");
	fixture_ok(f, "phone-security-profiles", NULL,
	           "{\"name\":\"Enc\",\"device_type\":\"cisco_sip_phone\","
	           "\"device_security_mode\":\"encrypted\",\"enable_digest_authentication\":true,"
	           "\"capf_authentication_mode\":\"by_existing_certificate_lsc\"}");
	fixture_ok(f, "phone-security-profiles", NULL,
	           "{\"name\":\"Excl\",\"device_type\":\"cisco_sip_phone\","
	           "\"exclude_digest_credentials\":true,\"transport\":\"udp\"}");
	fixture_ok(f, "phone-security-profiles", NULL,
	           "{\"name\":\"EncCfg\",\"device_type\":\"cisco_sip_phone\","
	           "\"tftp_encrypted_config\":true}");
	fixture_ok(f, "sip-profiles", NULL,
	           "{\"name\":\"Short\",\"timer_register_expires\":720,"
	           "\"timer_register_delta\":120}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP001122334455\",\"type\":\"cisco_sip_phone\",\"digest_user\":"
	           "\"tadams\",\"owner_user_id\":\"tadams\",\"phone_security_profile\":\"Enc\","
	           "\"sip_profile\":\"Short\",\"lines\":[\"1002\",\"1001\"],\"web_access\":"
	           "\"disabled\",\"disable_speakerphone\":true}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP00000000AAAA\",\"type\":\"cisco_sip_phone\",\"digest_user\":"
	           "\"tadams\",\"phone_security_profile\":\"Excl\",\"lines\":[\"1001\"]}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"SEP00000000BBBB\",\"type\":\"cisco_sip_phone\",\"digest_user\":"
	           "\"tadams\",\"phone_security_profile\":\"EncCfg\",\"lines\":[\"1001\"]}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"CSFTADAMS\",\"type\":\"csf\",\"lines\":[\"1001\"],"
	           "\"owner_user_id\":\"tadams\"}");
	fixture_ok(f, "devices", NULL,
	           "{\"name\":\"GENERIC1\",\"type\":\"generic_sip\",\"lines\":[\"1001\"]}");
}

struct doc {
	xmlDocPtr xml;
	unsigned char *text;
	size_t len;
};

static int build(struct fixture *f, const char *device, bool secrets, struct doc *d)
{
	struct base_err err = {0};
	int rc = prov_cnf_device(f->store, &servers, device, secrets, &d->text, &d->len, &err);
	if (rc != 0)
		return err.code;
	d->xml =
	    xmlReadMemory((const char *)d->text, (int)d->len, "cnf.xml", NULL, XML_PARSE_NONET);
	assert_non_null(d->xml);
	return 0;
}

static void doc_free(struct doc *d)
{
	xmlFreeDoc(d->xml);
	free(d->text);
}

/* The text of the first node at an XPath, or NULL when there is none. */
static char *at(struct doc *d, const char *path)
{
	static char out[256];
	xmlXPathContextPtr ctx = xmlXPathNewContext(d->xml);
	xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST path, ctx);
	char *ret = NULL;
	if (r && r->nodesetval && r->nodesetval->nodeNr > 0) {
		xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
		snprintf(out, sizeof(out), "%s", t ? (const char *)t : "");
		xmlFree(t);
		ret = out;
	}
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(ctx);
	return ret;
}

static void expect(struct doc *d, const char *path, const char *value)
{
	const char *got = at(d, path);
	if (!got || strcmp(got, value) != 0)
		fail_msg("%s is %s, not %s", path, got ? got : "(absent)", value);
}

static void test_desk_phone(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct doc d;
	assert_int_equal(build(f, "SEP001122334455", true, &d), 0);
	expect(&d, "/device/deviceSecurityMode", "3");
	expect(&d, "/device/transportLayerProtocol", "3");
	expect(&d, "/device/devicePool/callManagerGroup/members/member/callManager/processNodeName",
	       "192.0.2.10");
	expect(&d, "/device/devicePool/callManagerGroup/members/member/callManager/name",
	       "192.0.2.10");
	expect(&d, "//callManager/ports/securedSipPort", "5061");
	expect(&d, "/device/TVS/members/member/port", "2445");
	expect(&d, "/device/capfList/capf/phonePort", "3804");
	expect(&d, "/device/capfAuthMode", "3");
	expect(&d, "/device/certHash", "");
	expect(&d, "/device/encrConfig", "false");
	expect(&d, "//sipStack/timerRegisterExpires", "720");
	expect(&d, "//sipStack/timerRegisterDelta", "120");
	expect(&d, "//sipLines/line[1]/name", "1002");
	expect(&d, "//sipLines/line[1]/@button", "1");
	expect(&d, "//sipLines/line[1]/displayName", "Front <Desk> & Co");
	expect(&d, "//sipLines/line[2]/name", "1001");
	expect(&d, "//sipLines/line[2]/displayName", "Tanya Adams");
	expect(&d, "//sipLines/line[2]/port", "5061");
	expect(&d, "//sipLines/line[1]/authName", "tadams");
	expect(&d, "//sipLines/line[1]/authPassword", "Secret2026");
	expect(&d, "//sipLines/line[2]/sharedLine", "true");
	expect(&d, "/device/vendorConfig/webAccess", "1");
	expect(&d, "/device/vendorConfig/pcPort", "0");
	expect(&d, "/device/vendorConfig/settingsAccess", "1");
	expect(&d, "/device/vendorConfig/disableSpeaker", "true");
	expect(&d, "/device/userId", "tadams");
	expect(&d, "/device/userId/@serviceProfileFile", "SPDefault.cnf.xml");
	char stamp[64];
	snprintf(stamp, sizeof(stamp), "%s", at(&d, "/device/versionStamp"));
	assert_int_equal(strlen(stamp), 32);
	doc_free(&d);

	/* Without secrets: no credentials at all. */
	assert_int_equal(build(f, "SEP001122334455", false, &d), 0);
	assert_null(at(&d, "//authName"));
	assert_null(at(&d, "//authPassword"));
	assert_null(strstr((const char *)d.text, "Secret2026"));
	doc_free(&d);

	/* The same configuration has the same stamp; a change makes a new one. */
	assert_int_equal(build(f, "SEP001122334455", true, &d), 0);
	expect(&d, "/device/versionStamp", stamp);
	doc_free(&d);
	fixture_ok(f, "sip-profiles", "Short", "{\"timer_register_expires\":900}");
	assert_int_equal(build(f, "SEP001122334455", true, &d), 0);
	assert_string_not_equal(at(&d, "/device/versionStamp"), stamp);
	doc_free(&d);

	/* A non-secure cluster makes every device non-secure. */
	fixture_ok(f, "enterprise-parameters", "cluster_security_mode",
	           "{\"value\":\"non_secure\"}");
	assert_int_equal(build(f, "SEP001122334455", true, &d), 0);
	expect(&d, "/device/deviceSecurityMode", "1");
	expect(&d, "/device/transportLayerProtocol", "1");
	expect(&d, "//sipLines/line[1]/port", "5060");
	doc_free(&d);
}

static void test_excluded_credentials(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct doc d;
	assert_int_equal(build(f, "SEP00000000AAAA", true, &d), 0);
	assert_null(at(&d, "//authName"));
	assert_null(strstr((const char *)d.text, "Secret2026"));
	expect(&d, "/device/transportLayerProtocol", "2");
	expect(&d, "/device/deviceSecurityMode", "1");
	/* No owner: no service profile named. */
	assert_null(at(&d, "/device/userId/@serviceProfileFile"));
	doc_free(&d);
}

static void test_encrypted_config_stub(void **state)
{
	struct fixture *f = *state;
	seed(f);
	assert_true(prov_cnf_encrypted(f->store, "SEP00000000BBBB"));
	assert_false(prov_cnf_encrypted(f->store, "SEP001122334455"));
	unsigned char *text;
	size_t len;
	struct base_err err = {0};
	assert_int_equal(prov_cnf_stub(f->store, &servers, "SEP00000000BBBB", &text, &len, &err),
	                 0);
	struct doc d = {.text = text, .len = len};
	d.xml = xmlReadMemory((const char *)text, (int)len, "stub.xml", NULL, XML_PARSE_NONET);
	expect(&d, "/device/fullConfig", "false");
	expect(&d, "/device/encrConfig", "true");
	expect(&d, "/device/capfList/capf/processNodeName", "192.0.2.10");
	assert_null(at(&d, "//sipLines"));
	assert_null(strstr((const char *)text, "Secret2026"));
	doc_free(&d);
}

static void test_jabber_and_others(void **state)
{
	struct fixture *f = *state;
	seed(f);
	struct doc d;
	assert_int_equal(build(f, "CSFTADAMS", true, &d), 0);
	expect(&d, "/device/deviceSecurityMode", "1");
	expect(&d, "//sipLines/line[1]/contact", "1001");
	expect(&d, "/device/userId/@serviceProfileFile", "SPDefault.cnf.xml");
	assert_null(at(&d, "/device/vendorConfig"));
	doc_free(&d);
	/* Only Cisco phones and Jabber have a cnf.xml; names are exact. */
	assert_int_equal(build(f, "GENERIC1", true, &d), BASE_E_NOT_FOUND);
	assert_int_equal(build(f, "SEP0000DEADBEEF", true, &d), BASE_E_NOT_FOUND);
	assert_int_equal(build(f, "sep001122334455", true, &d), BASE_E_NOT_FOUND);
}

static void test_default(void **state)
{
	struct fixture *f = *state;
	unsigned char *text;
	size_t len;
	struct base_err err = {0};
	assert_int_equal(prov_cnf_default(f->store, &servers, &text, &len, &err), 0);
	struct doc d = {.text = text, .len = len};
	d.xml = xmlReadMemory((const char *)text, (int)len, "default.xml", NULL, XML_PARSE_NONET);
	expect(&d,
	       "/Default/devicePool/callManagerGroup/members/member/callManager/processNodeName",
	       "192.0.2.10");
	doc_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_desk_phone, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_excluded_credentials, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_encrypted_config_stub, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_jabber_and_others, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_default, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
