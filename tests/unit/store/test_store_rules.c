/*
 * Every validation rule of the configuration plane, fed a bad value: the write must fail with
 * the right code, field and message, and nothing may change (records nor audit log).
 *
 * The steps run in order against one store; `OK` steps build the state that later rules
 * need (a user, a directory number, an encrypted profile, ...).
 */
#include "store_fixture.h"

struct step {
	const char *kind;
	const char *key; /* NULL: create */
	const char *body;
	enum base_err_code code; /* BASE_OK: must succeed */
	const char *field;
	const char *message; /* a part of the expected message */
};

#define OK(kind, key, body)                                                                        \
	{                                                                                          \
		kind, key, body, BASE_OK, NULL, NULL                                               \
	}
#define BAD(kind, key, body, code, field, msg)                                                     \
	{                                                                                          \
		kind, key, body, code, field, msg                                                  \
	}
#define INVALID(kind, key, body, field, msg) BAD(kind, key, body, BASE_E_INVALID, field, msg)

static const struct step steps[] = {
    /* ---- end users ---- */
    INVALID("end-users", NULL, "{\"last_name\":\"A\"}", "user_id", "user_id is required"),
    INVALID("end-users", NULL, "{\"user_id\":\"a b\",\"last_name\":\"A\"}", "user_id",
            "may contain only"),
    INVALID("end-users", NULL, "{\"user_id\":\"\",\"last_name\":\"A\"}", "user_id",
            "user_id is required"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\"}", "last_name", "last_name is required"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\",\"last_name\":5}", "last_name",
            "must be a string"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"email\":\"x\"}",
            "email", "email must look like"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"pin\":\"12a4\"}",
            "pin", "pin may contain only"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"pin\":\"12\"}", "pin",
            "pin must be 4 to 20 characters"),
    INVALID("end-users", NULL,
            "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"digest_credentials\":\"abc-12345\"}",
            "digest_credentials", "may contain only"),
    INVALID("end-users", NULL,
            "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"digest_credentials\":\"abc\"}",
            "digest_credentials", "8 to 128 characters"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"foo\":1}", "foo",
            "has no field foo"),
    INVALID("end-users", NULL, "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"groups\":[\"Nope\"]}",
            "groups", "user group Nope, which does not exist"),
    INVALID("end-users", NULL,
            "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"groups\":[\"Standard CTI Secure "
            "Connection\"]}",
            "groups", "needs membership of Standard CTI Enabled"),
    INVALID("end-users", NULL,
            "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"groups\":[\"Standard CTI Enabled\","
            "\"Standard CTI Allow Reception of SRTP Key Material\"]}",
            "groups", "needs membership of Standard CTI Enabled and Standard CTI Secure"),
    INVALID("end-users", NULL,
            "{\"user_id\":\"tadams\",\"last_name\":\"A\",\"groups\":[\"Standard CCM Super "
            "Users\"]}",
            "groups", "administrators are application users"),
    OK("end-users", NULL,
       "{\"user_id\":\"amckenzi\",\"first_name\":\"Adam\",\"last_name\":\"McKenzie\","
       "\"digest_credentials\":\"abcd1234\",\"groups\":[\"Standard CCM End Users\","
       "\"Standard CTI Enabled\"]}"),
    BAD("end-users", NULL, "{\"user_id\":\"AMCKENZI\",\"last_name\":\"B\"}", BASE_E_CONFLICT,
        "user_id", "end user AMCKENZI already exists"),
    INVALID("end-users", "amckenzi", "{\"user_id\":\"other\"}", "user_id", "cannot be changed"),
    OK("app-users", NULL, "{\"user_id\":\"ctiapp\",\"password\":\"longenough\"}"),
    BAD("end-users", NULL, "{\"user_id\":\"ctiapp\",\"last_name\":\"B\"}", BASE_E_CONFLICT,
        "user_id", "already taken by an application user"),
    BAD("end-users", "nobody", "{\"last_name\":\"B\"}", BASE_E_NOT_FOUND, "user_id",
        "end user nobody does not exist"),

    /* ---- application users ---- */
    INVALID("app-users", NULL, "{\"user_id\":\"app2\",\"password\":\"short\"}", "password",
            "8 to 128 characters"),
    INVALID("app-users", NULL, "{\"user_id\":\"app2\",\"controlled_devices\":[\"SEPX\"]}",
            "controlled_devices", "device SEPX, which does not exist"),
    BAD("app-users", NULL, "{\"user_id\":\"amckenzi\"}", BASE_E_CONFLICT, "user_id",
        "already taken by an end user"),
    INVALID("app-users", "ctiapp",
            "{\"groups\":[\"Standard CTI Allow Reception of SRTP Key Material\"]}", "groups",
            "needs membership"),

    /* ---- user groups ---- */
    BAD("user-groups", "Standard CTI Enabled", "{\"description\":\"x\"}", BASE_E_FORBIDDEN, NULL,
        "built in and cannot be changed"),
    INVALID("user-groups", NULL, "{\"description\":\"x\"}", "name", "name is required"),
    OK("user-groups", NULL, "{\"name\":\"Help Desk\"}"),
    BAD("user-groups", NULL, "{\"name\":\"help desk\"}", BASE_E_CONFLICT, "name", "already exists"),

    /* ---- devices: names by type ---- */
    INVALID("devices", NULL, "{\"name\":\"SEP12345\",\"type\":\"cisco_sip_phone\"}", "name",
            "SEP followed by the 12 hex digits"),
    INVALID("devices", NULL, "{\"name\":\"SEP00aabbccddee\",\"type\":\"cisco_sip_phone\"}", "name",
            "in upper case"),
    INVALID("devices", NULL, "{\"name\":\"CSF_X\",\"type\":\"csf\"}", "name",
            "csf device must be 1 to 15 letters and digits"),
    INVALID("devices", NULL, "{\"name\":\"CSFABCDEFGHIJKLM\",\"type\":\"csf\"}", "name",
            "1 to 15 letters"),
    INVALID("devices", NULL, "{\"name\":\"CSFX\",\"type\":\"phone\"}", "type",
            "type must be one of"),
    INVALID("devices", NULL, "{\"name\":\"CSFX\"}", "type", "type is required"),
    INVALID("devices", NULL, "{\"name\":\"TCTTADAMS\",\"type\":\"tct\"}", "type",
            "set the enterprise parameter organization_top_level_domain"),
    INVALID("enterprise-parameters", "organization_top_level_domain",
            "{\"value\":\"not a "
            "domain\"}",
            "value", "must be a domain name"),
    OK("enterprise-parameters", "organization_top_level_domain", "{\"value\":\"example.com\"}"),
    INVALID("devices", NULL, "{\"name\":\"TABTADAMS\",\"type\":\"tct\"}", "name",
            "must be TCT followed by"),
    INVALID("devices", NULL, "{\"name\":\"TCTtadams\",\"type\":\"tct\"}", "name", "upper case"),
    INVALID("devices", NULL, "{\"name\":\"TCTABCDEFGHIJKLM\",\"type\":\"tct\"}", "name",
            "15 characters at most"),
    INVALID("devices", NULL, "{\"name\":\"TCT\",\"type\":\"tct\"}", "name", "followed by 1"),
    INVALID("devices", NULL, "{\"name\":\"BOT+X\",\"type\":\"bot\"}", "name",
            "must be BOT followed by"),
    INVALID("devices", NULL, "{\"name\":\"BOTX\",\"type\":\"tab\"}", "name",
            "must be TAB followed by"),
    INVALID("devices", NULL, "{\"name\":\"CTI/RD\",\"type\":\"cti_remote_device\"}", "name",
            "cti_remote_device must be"),
    INVALID("devices", NULL, "{\"name\":\"CSFX\",\"type\":\"csf\",\"owner_user_id\":\"ghost\"}",
            "owner_user_id", "end user ghost, which does not exist"),
    OK("directory-numbers", NULL, "{\"number\":\"1001\"}"),
    OK("directory-numbers", NULL, "{\"number\":\"1002\"}"),
    OK("devices", NULL,
       "{\"name\":\"CSFAKenzi\",\"type\":\"csf\",\"owner_user_id\":\"amckenzi\","
       "\"lines\":[\"1001\"]}"),
    INVALID("devices", NULL,
            "{\"name\":\"CSFAKenzi2\",\"type\":\"csf\",\"owner_user_id\":\"amckenzi\"}",
            "owner_user_id", "already owns a csf device"),
    BAD("devices", NULL, "{\"name\":\"csfakenzi\",\"type\":\"csf\"}", BASE_E_CONFLICT, "name",
        "already exists"),
    INVALID("devices", "CSFAKenzi", "{\"type\":\"tct\"}", "type", "cannot be changed"),
    INVALID("devices", "CSFAKenzi", "{\"name\":\"CSFB\"}", "name", "cannot be changed"),
    INVALID("devices", "CSFAKenzi", "{\"lsc_status\":\"installed\"}", "lsc_status", "read-only"),

    /* ---- devices: profiles, CAPF, hardening, lines ---- */
    OK("phone-security-profiles", NULL,
       "{\"name\":\"CSF Encrypted\",\"device_type\":\"csf\",\"device_security_mode\":"
       "\"encrypted\"}"),
    OK("phone-security-profiles", NULL,
       "{\"name\":\"Phone Secure\",\"device_type\":\"cisco_sip_phone\",\"key_size\":1024,"
       "\"device_security_mode\":\"authenticated\"}"),
    INVALID("devices", "CSFAKenzi", "{\"phone_security_profile\":\"Phone Secure\"}",
            "phone_security_profile", "is for cisco_sip_phone devices, not csf"),
    INVALID("devices", "CSFAKenzi", "{\"phone_security_profile\":\"Nope\"}",
            "phone_security_profile", "which does not exist"),
    INVALID("devices", "CSFAKenzi", "{\"capf_key_size\":1024}", "capf_key_size",
            "must equal the key size of phone security profile"),
    INVALID("devices", "CSFAKenzi", "{\"capf_authentication_mode\":\"by_null_string\"}",
            "capf_authentication_mode", "not supported by Jabber for Windows"),
    INVALID("devices", "CSFAKenzi", "{\"capf_certificate_operation\":\"install_upgrade\"}",
            "capf_authentication_string", "needs capf_authentication_string"),
    INVALID("devices", "CSFAKenzi",
            "{\"capf_certificate_operation\":\"install_upgrade\","
            "\"capf_authentication_string\":\"123\"}",
            "capf_authentication_string", "4 to 10 characters"),
    INVALID("devices", "CSFAKenzi",
            "{\"capf_certificate_operation\":\"install_upgrade\","
            "\"capf_authentication_string\":\"12345678901\"}",
            "capf_authentication_string", "4 to 10 characters"),
    INVALID("devices", "CSFAKenzi",
            "{\"capf_certificate_operation\":\"install_upgrade\","
            "\"capf_authentication_string\":\"12ab\"}",
            "capf_authentication_string", "may contain only the characters 0123456789"),
    INVALID("devices", "CSFAKenzi",
            "{\"capf_certificate_operation\":\"install_upgrade\","
            "\"capf_authentication_string\":\"1234\","
            "\"capf_generate_authentication_string\":true}",
            "capf_generate_authentication_string", "not both"),
    INVALID("devices", "CSFAKenzi", "{\"capf_certificate_operation\":\"delete\"}",
            "capf_certificate_operation", "needs a certificate on the device"),
    INVALID("devices", "CSFAKenzi", "{\"capf_certificate_operation\":\"reinstall\"}",
            "capf_certificate_operation", "must be one of: no_pending, install_upgrade"),
    INVALID("devices", "CSFAKenzi",
            "{\"capf_certificate_operation\":\"install_upgrade\","
            "\"capf_authentication_string\":\"1234\","
            "\"capf_operation_completes_by\":\"2001-01-01T00:00:00Z\"}",
            "capf_operation_completes_by", "must be in the future"),
    INVALID("devices", "CSFAKenzi", "{\"capf_operation_completes_by\":\"tomorrow\"}",
            "capf_operation_completes_by", "must be a UTC time"),
    OK("devices", "CSFAKenzi",
       "{\"phone_security_profile\":\"CSF Encrypted\",\"capf_certificate_operation\":"
       "\"install_upgrade\",\"capf_authentication_string\":\"20261122\"}"),
    INVALID("devices", "CSFAKenzi", "{\"pc_port\":\"disabled\"}", "pc_port",
            "applies to Cisco desk phones, not csf devices"),
    INVALID("devices", NULL,
            "{\"name\":\"SEP001122334455\",\"type\":\"cisco_sip_phone\",\"web_access\":\"off\"}",
            "web_access", "must be one of: enabled, disabled"),
    INVALID("devices", "CSFAKenzi", "{\"lines\":[\"9999\"]}", "lines",
            "directory number 9999 does not exist"),
    INVALID("devices", "CSFAKenzi", "{\"lines\":[\"1001\",\"1001\"]}", "lines", "appears twice"),
    INVALID("devices", "CSFAKenzi",
            "{\"lines\":[{\"directory_number\":\"1001\",\"associated_users\":[\"ghost\"]}]}",
            "lines", "must name existing end users"),
    INVALID("devices", "CSFAKenzi", "{\"lines\":[{\"number\":\"1001\"}]}", "lines",
            "must be a directory number or"),
    INVALID("devices", "CSFAKenzi", "{\"lines\":\"1001\"}", "lines", "must be a list"),

    /* ---- end users and their devices ---- */
    INVALID("end-users", "amckenzi", "{\"primary_extension\":\"1002\"}", "primary_extension",
            "not a line of any device associated"),
    OK("end-users", "amckenzi", "{\"devices\":[\"CSFAKenzi\"],\"primary_extension\":\"1001\"}"),
    INVALID("end-users", "amckenzi",
            "{\"groups\":[\"Standard CTI Enabled\",\"Standard CTI Secure Connection\"]}", "groups",
            "Jabber user (device CSFAKenzi) must not be in"),
    OK("devices", NULL, "{\"name\":\"CSFOTHER\",\"type\":\"csf\"}"),
    INVALID("end-users", "amckenzi", "{\"devices\":[\"CSFAKenzi\",\"CSFOTHER\"]}", "devices",
            "only one csf device"),

    /* ---- directory numbers ---- */
    INVALID("directory-numbers", NULL, "{\"number\":\"12ab\"}", "number", "may contain only"),
    INVALID("directory-numbers", NULL, "{\"number\":\"12+34\"}", "number", "+ may only start"),
    INVALID("directory-numbers", NULL, "{\"number\":\"1234567890123456789012345\"}", "number",
            "1 to 24 characters"),

    /* ---- SIP profiles ---- */
    INVALID("sip-profiles", NULL,
            "{\"name\":\"Short\",\"timer_register_delta\":600,\"timer_register_expires\":300}",
            "timer_register_delta", "less than timer_register_expires"),
    INVALID("sip-profiles", NULL, "{\"name\":\"Short\",\"timer_register_expires\":0}",
            "timer_register_expires", "between 1 and 2592000"),
    INVALID("sip-profiles", NULL, "{\"name\":\"Short\",\"timer_subscribe_delta\":500}",
            "timer_subscribe_delta", "less than timer_subscribe_expires"),

    /* ---- phone security profiles ---- */
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"csf\",\"device_security_mode\":\"encrypted\","
            "\"transport\":\"tcp\"}",
            "transport", "must be tls when device_security_mode is encrypted"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"tct\",\"tftp_encrypted_config\":true}",
            "tftp_encrypted_config", "not supported for tct devices"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"bot\",\"tftp_encrypted_config\":true}",
            "tftp_encrypted_config", "not supported for bot devices"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"tab\",\"tftp_encrypted_config\":true}",
            "tftp_encrypted_config", "not supported for tab devices"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"csf\",\"capf_authentication_mode\":"
            "\"by_null_string\"}",
            "capf_authentication_mode", "not supported by Jabber for Windows"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"csf\",\"key_size\":512}", "key_size",
            "512-bit keys are too weak"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"csf\",\"key_size\":4000}", "key_size",
            "must be 1024, 2048 or 3072"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"csf\",\"nonce_validity_time\":0}",
            "nonce_validity_time", "between 60 and 86400"),
    INVALID("phone-security-profiles", NULL,
            "{\"name\":\"P1\",\"device_type\":\"csf\",\"sip_phone_port\":70000}", "sip_phone_port",
            "between 1 and 65535"),
    INVALID("phone-security-profiles", NULL, "{\"name\":\"P1\"}", "device_type",
            "device_type is required"),
    INVALID("phone-security-profiles", "CSF Encrypted", "{\"device_type\":\"tct\"}", "device_type",
            "cannot be changed"),
    BAD("phone-security-profiles",
        "Cisco Unified Client Services Framework - Standard SIP Non-Secure Profile",
        "{\"nonce_validity_time\":700}", BASE_E_FORBIDDEN, NULL, "built in"),

    /* ---- SIP trunk security profiles and trunks ---- */
    INVALID("sip-trunk-security-profiles", NULL, "{\"name\":\"T1\",\"outgoing_transport\":\"tls\"}",
            "outgoing_transport", "must be tcp or udp when non-secure"),
    INVALID("sip-trunk-security-profiles", NULL,
            "{\"name\":\"T1\",\"device_security_mode\":\"encrypted\",\"outgoing_transport\":"
            "\"tcp\"}",
            "outgoing_transport", "must be tls in the secure modes"),
    INVALID("sip-trunk-security-profiles", NULL,
            "{\"name\":\"T1\",\"enable_application_level_authorization\":true}",
            "enable_application_level_authorization", "needs enable_digest_authentication"),
    INVALID("sip-trunk-security-profiles", NULL, "{\"name\":\"T1\",\"incoming_port\":80}",
            "incoming_port", "between 1024 and 65535"),
    INVALID("sip-trunk-security-profiles", NULL,
            "{\"name\":\"T1\",\"device_security_mode\":\"authenticated\",\"incoming_port\":5060}",
            "incoming_port", "TLS and non-TLS trunks cannot share a port"),
    INVALID("sip-trunk-security-profiles", NULL,
            "{\"name\":\"T1\",\"device_security_mode\":\"authenticated\","
            "\"x509_subject_name\":\"a.example.com,,b.example.com\"}",
            "x509_subject_name", "exactly one space, comma"),
    BAD("sip-trunk-security-profiles", "Non Secure SIP Trunk Profile",
        "{\"enable_digest_authentication\":true}", BASE_E_FORBIDDEN, NULL, "built in"),
    INVALID("sip-trunks", NULL, "{\"name\":\"itsp\"}", "destination_address",
            "destination_address is required"),
    INVALID("sip-trunks", NULL,
            "{\"name\":\"itsp\",\"destination_address\":\"192.0.2.1\","
            "\"sip_trunk_security_profile\":\"Nope\"}",
            "sip_trunk_security_profile", "which does not exist"),
    INVALID("sip-trunks", NULL,
            "{\"name\":\"itsp\",\"destination_address\":\"192.0.2.1\",\"destination_port\":0}",
            "destination_port", "between 1 and 65535"),
    INVALID("sip-trunks", NULL,
            "{\"name\":\"itsp\",\"destination_address\":\"192.0.2.1\","
            "\"sip_trunk_security_profile\":\"\"}",
            "sip_trunk_security_profile", "needs a SIP trunk security profile"),

    /* ---- CAPF profiles ---- */
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ghost\","
            "\"instance_id\":\"i1\"}",
            "user_id", "application user ghost does not exist"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"robot\",\"user_id\":\"ctiapp\",\"instance_id\":"
            "\"i1\"}",
            "user_type", "must be one of: application_user, end_user"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
            "\"instance_id\":\"i 1\"}",
            "instance_id", "may contain only"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
            "\"instance_id\":\"i1\",\"capf_certificate_operation\":\"delete\"}",
            "capf_certificate_operation", "must be one of: no_pending, install_upgrade"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
            "\"instance_id\":\"i1\",\"capf_authentication_mode\":\"by_null_string\"}",
            "capf_authentication_mode", "must be one of: by_authentication_string"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
            "\"instance_id\":\"i1\",\"capf_key_size\":512}",
            "capf_key_size", "512-bit keys are too weak"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
            "\"instance_id\":\"i1\",\"capf_certificate_operation\":\"install_upgrade\","
            "\"capf_authentication_string\":\"20261122\"}",
            "capf_authentication_string", "already pending for another operation"),
    OK("capf-profiles", NULL,
       "{\"name\":\"p1\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
       "\"instance_id\":\"i1\"}"),
    INVALID("capf-profiles", NULL,
            "{\"name\":\"p2\",\"user_type\":\"application_user\",\"user_id\":\"ctiapp\","
            "\"instance_id\":\"I1\"}",
            "instance_id", "already has a CAPF profile for instance I1"),
    INVALID("capf-profiles", "p1", "{\"user_id\":\"amckenzi\"}", "user_id", "cannot be changed"),

    /* ---- parameters ---- */
    INVALID("enterprise-parameters", "cluster_security_mode", "{\"value\":\"secure\"}", "value",
            "must be non_secure or mixed"),
    INVALID("enterprise-parameters", "capf_operation_expires_in_days", "{\"value\":\"0\"}", "value",
            "from 1 to 365"),
    INVALID("enterprise-parameters", "capf_operation_expires_in_days", "{\"value\":\"7d\"}",
            "value", "whole number"),
    INVALID("enterprise-parameters", "cluster_id", "{\"name\":\"other\"}", "name", "read-only"),
    BAD("enterprise-parameters", NULL, "{\"name\":\"x\",\"value\":\"y\"}", BASE_E_INVALID, "name",
        "read-only"),
    OK("devices", NULL, "{\"name\":\"TCTTADAMS\",\"type\":\"tct\"}"),
    INVALID("enterprise-parameters", "organization_top_level_domain", "{\"value\":\"\"}", "value",
            "cannot be cleared while tct, bot or tab devices exist"),
    INVALID("service-parameters", "sip_station_realm", "{\"value\":\"otherrealm\"}", "value",
            "only change while no user has digest credentials"),
    INVALID("service-parameters", "sip_station_realm", "{\"value\":\"\"}", "value",
            "1 to 128 characters"),
};

static void run_step(struct fixture *f, const struct step *s, size_t index)
{
	json_t *before = fixture_snapshot(f, s->kind);
	long audit_before = fixture_audit_count(f);
	struct base_err err = {0};
	int rc = fixture_write(f, s->kind, s->key, s->body, NULL, &err);
	if (s->code == BASE_OK) {
		if (rc != 0)
			fail_msg("step %zu (%s %s) failed: %s", index, s->kind, s->body,
			         err.message);
		assert_int_equal(fixture_audit_count(f), audit_before + 1);
		json_decref(before);
		return;
	}
	if (rc == 0)
		fail_msg("step %zu (%s %s) was accepted; expected \"%s\"", index, s->kind, s->body,
		         s->message);
	if (err.code != s->code || strcmp(err.field, s->field ? s->field : "") != 0 ||
	    !strstr(err.message, s->message))
		fail_msg("step %zu (%s %s): got %s field=\"%s\" \"%s\"; expected %s field=\"%s\" "
		         "\"...%s...\"",
		         index, s->kind, s->body, base_err_code_name(err.code), err.field,
		         err.message, base_err_code_name(s->code), s->field ? s->field : "",
		         s->message);
	/* Nothing written: the kind's records and the audit log are exactly as before. */
	json_t *after = fixture_snapshot(f, s->kind);
	if (!json_equal(before, after))
		fail_msg("step %zu (%s %s) changed records although it was refused", index, s->kind,
		         s->body);
	assert_int_equal(fixture_audit_count(f), audit_before);
	json_decref(before);
	json_decref(after);
}

static void test_every_rule(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run_step(f, &steps[i], i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_rule, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
