/* sip: the location service keeps bindings packed; callers get whole struct sip_binding copies. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include "sip/sip_registrar_int.h"

#include <stdlib.h>
#include <string.h>

static struct sip_binding binding(const char *contact, const char *call_id, uint32_t cseq,
                                  uint16_t port)
{
	struct sip_binding b = {.cseq = cseq};
	strcpy(b.aor, "1001");
	strcpy(b.contact, contact);
	strcpy(b.device, "SEP001122334455");
	strcpy(b.user_agent, "Cisco-CP8865/14.2.1");
	strcpy(b.call_id, call_id);
	b.flow = (struct sip_source){.kind = SIP_TP_UDP, .port = port};
	strcpy(b.flow.host, "192.0.2.10");
	b.registered_at = base_time_now();
	b.expires_at = b.registered_at + 3600;
	return b;
}

static void assert_same_binding(const struct sip_binding *got, const struct sip_binding *want)
{
	assert_string_equal(got->aor, want->aor);
	assert_string_equal(got->contact, want->contact);
	assert_string_equal(got->device, want->device);
	assert_string_equal(got->instance, want->instance);
	assert_string_equal(got->user_agent, want->user_agent);
	assert_string_equal(got->call_id, want->call_id);
	assert_int_equal(got->cseq, want->cseq);
	assert_int_equal(got->expires_at, want->expires_at);
	assert_int_equal(got->registered_at, want->registered_at);
	assert_int_equal(got->flow.kind, want->flow.kind);
	assert_string_equal(got->flow.host, want->flow.host);
	assert_int_equal(got->flow.port, want->flow.port);
	assert_int_equal(got->flow.conn_id, want->flow.conn_id);
	assert_string_equal(got->flow.tls_peer, want->flow.tls_peer);
	assert_int_equal(got->flow.tls_null_cipher, want->flow.tls_null_cipher);
}

static void test_refresh_and_remove(void **state)
{
	(void)state;
	struct sip_registrar r = {.aors = base_hash_new()};
	assert_non_null(r.aors);
	struct sip_binding out[4];

	struct sip_binding first = binding("sip:1001@192.0.2.10:5060", "a1@192.0.2.10", 1, 5060);
	assert_int_equal(sip_location_put(&r, &first), 0);
	assert_int_equal(sip_registrar_lookup(&r, "1001", out, 4), 1);
	assert_same_binding(&out[0], &first);

	/* A refresh that changes no text: only the numbers move. */
	first.cseq = 2;
	first.expires_at += 60;
	assert_int_equal(sip_location_put(&r, &first), 0);
	assert_int_equal(sip_registrar_lookup(&r, "1001", out, 4), 1);
	assert_same_binding(&out[0], &first);

	/* Same contact from a new Call-ID and NAT port, a TLS peer and an instance: repacked. */
	first.cseq = 1;
	strcpy(first.call_id, "a-much-longer-call-id-than-before@192.0.2.10");
	strcpy(first.instance, "urn:uuid:00000000-0000-1000-8000-001122334455");
	strcpy(first.flow.tls_peer, "SEP001122334455");
	first.flow.port = 40000;
	assert_int_equal(sip_location_put(&r, &first), 0);
	assert_int_equal(sip_registrar_count(&r), 1);
	assert_int_equal(sip_registrar_lookup(&r, "1001", out, 4), 1);
	assert_same_binding(&out[0], &first);

	/* A second contact, found by the flow it came from. */
	struct sip_binding second = binding("sip:1001@198.51.100.7:5062", "b2@x", 7, 5062);
	strcpy(second.flow.host, "198.51.100.7");
	assert_int_equal(sip_location_put(&r, &second), 0);
	assert_int_equal(sip_registrar_count(&r), 2);
	struct sip_binding found;
	assert_true(sip_registrar_binding_of(&r, "1001", &second.flow, &found));
	assert_same_binding(&found, &second);
	struct sip_source stranger = second.flow;
	stranger.port = 5063;
	assert_false(sip_registrar_binding_of(&r, "1001", &stranger, &found));

	struct aor_bindings *b = sip_location_aor(&r, "1001", false);
	assert_non_null(b);
	sip_location_remove(&r, b, 0);
	assert_int_equal(sip_registrar_count(&r), 1);
	assert_int_equal(sip_registrar_lookup(&r, "1001", out, 4), 1);
	assert_same_binding(&out[0], &second);

	/* The sanitizer build checks that every packed block goes with its line. */
	base_hash_free(r.aors, sip_location_aor_free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refresh_and_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
