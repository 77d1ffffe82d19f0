/* sip: digest checks against the store, and replay protection of nonces (RFC 7616 §3.3). */
#include "../store/store_fixture.h"
#include "sip/sip_auth.h"

#include <event2/event.h>

#define REALM "ccmsipline"

static const struct sip_auth_policy policy = {REALM, "MD5"};
static const struct sip_source phone = {.kind = SIP_TP_UDP, .host = "127.0.0.1", .port = 5060};

struct auth_fixture {
	struct fixture *store;
	struct event_base *base;
	struct sip_auth *auth;
};

static int setup(void **state)
{
	struct auth_fixture *f = calloc(1, sizeof(*f));
	void *store_state = NULL;
	if (!f || fixture_setup(&store_state) != 0)
		return -1;
	f->store = store_state;
	fixture_ok(f->store, "end-users", NULL,
	           "{\"user_id\":\"tadams\",\"last_name\":\"Adams\",\"digest_credentials\":"
	           "\"Secret2026\"}");
	f->base = event_base_new();
	f->auth = sip_auth_new(f->base, f->store->store);
	*state = f;
	return f->base && f->auth ? 0 : -1;
}

static int teardown(void **state)
{
	struct auth_fixture *f = *state;
	sip_auth_free(f->auth);
	event_base_free(f->base);
	void *store_state = f->store;
	free(f);
	return fixture_teardown(&store_state);
}

/* The nonce of a challenge from auth. */
static void challenge(struct sip_auth *auth, char nonce[65])
{
	char hdrs[1024];
	sip_auth_challenge(auth, &policy, false, hdrs, sizeof(hdrs));
	const char *p = strstr(hdrs, "nonce=\"");
	assert_non_null(p);
	p += 7;
	size_t n = strcspn(p, "\"");
	assert_true(n < 65);
	memcpy(nonce, p, n);
	nonce[n] = '\0';
}

/* Checks a REGISTER answering nonce with the given password and nc (NULL: without qop). */
static enum sip_auth_result answer(struct auth_fixture *f, const char *nonce, const char *password,
                                   const char *nc)
{
	char ha1[65], response[65], text[1024];
	struct base_err err = {0};
	assert_int_equal(store_digest_ha1(f->store->store, "tadams", "MD5", ha1, &err), 0);
	if (strcmp(password, "Secret2026") != 0)
		memset(ha1, 'f', 32); /* what any other password gives: some other HA1 */
	struct sip_digest_creds c = {.username = SIP_PL("tadams"),
	                             .realm = SIP_PL(REALM),
	                             .nonce = {nonce, strlen(nonce)},
	                             .uri = SIP_PL("sip:127.0.0.1"),
	                             .cnonce = SIP_PL("0a4f113b"),
	                             .qop = nc ? SIP_PL("auth") : SIP_PL_NULL,
	                             .nc = nc ? (struct sip_pl){nc, strlen(nc)} : SIP_PL_NULL};
	assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, ha1, SIP_PL("REGISTER"), &c, response),
	                 0);
	char qop[64] = "";
	if (nc)
		snprintf(qop, sizeof(qop), ", qop=auth, nc=%s, cnonce=\"0a4f113b\"", nc);
	int len = snprintf(text, sizeof(text),
	                   "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
	                   "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
	                   "Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=a\r\n"
	                   "To: <sip:1001@127.0.0.1>\r\nCall-ID: auth-test\r\nCSeq: 1 REGISTER\r\n"
	                   "Authorization: Digest username=\"tadams\", realm=\"" REALM "\", "
	                   "nonce=\"%s\", uri=\"sip:127.0.0.1\", response=\"%s\", "
	                   "algorithm=MD5%s\r\n"
	                   "Content-Length: 0\r\n\r\n",
	                   nonce, response, qop);
	struct sip_msg msg;
	struct sip_parse_error perr;
	assert_int_equal(sip_msg_parse(&msg, strdup(text), (size_t)len, true, &perr), 0);
	char user[129] = "";
	enum sip_auth_result r =
	    sip_auth_check(f->auth, &msg, &phone, &policy, 600, user, sizeof(user));
	if (r == SIP_AUTH_OK)
		assert_string_equal(user, "tadams");
	sip_msg_free(&msg);
	return r;
}

static void test_nonce_count_must_grow(void **state)
{
	struct auth_fixture *f = *state;
	char nonce[65];
	challenge(f->auth, nonce);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000001"), SIP_AUTH_OK);
	/* The same request again is a replay; so is a lower count. */
	assert_int_equal(answer(f, nonce, "Secret2026", "00000001"), SIP_AUTH_FAILED);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000003"), SIP_AUTH_OK);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000002"), SIP_AUTH_FAILED);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000004"), SIP_AUTH_OK);
	/* Each nonce counts on its own. */
	char other[65];
	challenge(f->auth, other);
	assert_int_equal(answer(f, other, "Secret2026", "00000001"), SIP_AUTH_OK);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000005"), SIP_AUTH_OK);
	/* A wrong password does not use up a count. */
	assert_int_equal(answer(f, other, "wrong", "00000002"), SIP_AUTH_FAILED);
	assert_int_equal(answer(f, other, "Secret2026", "00000002"), SIP_AUTH_OK);
}

static void test_without_qop_once(void **state)
{
	struct auth_fixture *f = *state;
	char nonce[65];
	challenge(f->auth, nonce);
	assert_int_equal(answer(f, nonce, "Secret2026", NULL), SIP_AUTH_OK);
	assert_int_equal(answer(f, nonce, "Secret2026", NULL), SIP_AUTH_FAILED);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000002"), SIP_AUTH_FAILED);
}

static void test_foreign_nonce_is_stale(void **state)
{
	struct auth_fixture *f = *state;
	/* As after a restart: the nonce was made under another secret. The password is right,
	 * so the phone is told stale and answers the new challenge by itself. */
	struct event_base *base = event_base_new();
	struct sip_auth *before = sip_auth_new(base, f->store->store);
	char nonce[65];
	challenge(before, nonce);
	sip_auth_free(before);
	event_base_free(base);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000001"), SIP_AUTH_STALE);
	assert_int_equal(answer(f, nonce, "wrong", "00000002"), SIP_AUTH_FAILED);
}

static void test_ring_overtaken_is_stale(void **state)
{
	struct auth_fixture *f = *state;
	char first[65], nonce[65];
	challenge(f->auth, first);
	assert_int_equal(answer(f, first, "Secret2026", "00000001"), SIP_AUTH_OK);
	/* A million challenges later the first nonce's slot is the last one's: the first is
	 * stale, never mistaken for the new one, which is still fresh. */
	for (unsigned i = 0; i < (1u << 20); i++)
		challenge(f->auth, nonce);
	assert_int_equal(answer(f, first, "Secret2026", "00000002"), SIP_AUTH_STALE);
	assert_int_equal(answer(f, nonce, "Secret2026", "00000001"), SIP_AUTH_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_nonce_count_must_grow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_without_qop_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_nonce_is_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_overtaken_is_stale, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
