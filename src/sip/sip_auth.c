/*
 * Digest authentication of phones (RFC 3261 §22, RFC 7616, RFC 8760).
 *
 * Every challenge offers SHA-256 and MD5 side by side. Nonces are self-verifying (sip_nonce)
 * so a challenge needs no state; what needs state is replay protection: for each nonce in
 * use we keep the highest nonce-count seen, and a response without qop may use its nonce
 * once. That count sits in a fixed ring indexed by the nonce's serial number, so the memory
 * it takes does not grow with the rate of challenges: a nonce whose slot has since gone to a
 * newer one is answered as stale, and the phone simply authenticates again with a fresh one. An
 * unknown user is checked against a decoy HA1, so the answer and its timing are the same as for a
 * wrong password. Failures are counted per address; past the limit the address is refused for a
 * minute and the event is logged.
 */
#include "sip/sip_auth.h"
#include "store/store.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILURE_LIMIT  10 /* per address per minute */
#define FAILURE_WINDOW 60
#define SWEEP_SECONDS  30
/* Nonces whose nonce-count is remembered: at a thousand challenges a second, more than the
 * default validity of 600 s (4 MiB, of which only what is used gets touched). */
#define NONCE_RING (1u << 20)
#define NC_SPENT   UINT32_MAX /* a nonce used without qop: it served its one request */

struct failures {
	int count;
	int64_t window_start;
};

struct sip_auth {
	struct store *store;
	struct sip_nonce_key key;
	uint32_t *last_nc;          /* NONCE_RING entries, by nonce serial */
	uint64_t next_serial;       /* of the next nonce issued */
	struct base_hash *failures; /* address -> struct failures */
	struct event *sweep;
};

struct sweep_ctx {
	struct base_hash *h;
	int64_t cutoff;
};

static void sweep_entry(void *arg, const char *key, void *value)
{
	struct sweep_ctx *c = arg;
	if (((struct failures *)value)->window_start < c->cutoff)
		free(base_hash_remove(c->h, key));
}

/* Forgets failure windows that have passed. */
static void on_sweep(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct sip_auth *auth = arg;
	struct sweep_ctx f = {auth->failures, base_time_now() - FAILURE_WINDOW};
	base_hash_foreach(auth->failures, sweep_entry, &f);
}

struct sip_auth *sip_auth_new(struct event_base *base, struct store *store)
{
	struct sip_auth *auth = calloc(1, sizeof(*auth));
	if (!auth)
		return NULL;
	auth->store = store;
	sip_nonce_key_init(&auth->key);
	auth->last_nc = calloc(NONCE_RING, sizeof(*auth->last_nc));
	auth->failures = base_hash_new();
	auth->sweep = event_new(base, -1, EV_PERSIST, on_sweep, auth);
	struct timeval tv = {SWEEP_SECONDS, 0};
	if (!auth->last_nc || !auth->failures || !auth->sweep || event_add(auth->sweep, &tv) != 0) {
		sip_auth_free(auth);
		return NULL;
	}
	return auth;
}

void sip_auth_free(struct sip_auth *auth)
{
	if (!auth)
		return;
	if (auth->sweep)
		event_free(auth->sweep);
	free(auth->last_nc);
	base_hash_free(auth->failures, free);
	sip_nonce_key_clear(&auth->key);
	free(auth);
}

void sip_auth_challenge(struct sip_auth *auth, const struct sip_auth_policy *policy, bool stale,
                        char *out, size_t size)
{
	char nonce[65];
	uint64_t serial = auth->next_serial++;
	auth->last_nc[serial % NONCE_RING] = 0; /* the slot is this nonce's from now on */
	sip_nonce_make(&auth->key, base_time_now(), serial, nonce);
	/* One header per algorithm, put together by hand: this runs for every challenge. A
	 * challenge that does not fit is cut to nothing rather than sent half-written. */
	struct base_text t;
	base_text_init(&t, out, size);
	for (const char *algs = policy->algorithms; *algs;) {
		size_t n = strcspn(algs, ",");
		base_text_add(&t, "WWW-Authenticate: Digest realm=\"", 32);
		base_text_adds(&t, policy->realm);
		base_text_add(&t, "\", nonce=\"", 10);
		base_text_adds(&t, nonce);
		base_text_add(&t, "\", algorithm=", 13);
		base_text_add(&t, algs, n);
		base_text_add(&t, ", qop=\"auth\"", 12);
		if (stale)
			base_text_add(&t, ", stale=true", 12);
		base_text_add(&t, "\r\n", 2);
		algs += n + (algs[n] == ',');
	}
	if (t.cut)
		out[0] = '\0';
}

/* Is alg one of the policy's algorithms? */
static bool offered(const struct sip_auth_policy *policy, enum sip_digest_alg alg)
{
	const char *name = alg == SIP_DIGEST_MD5 ? "MD5" : "SHA-256";
	const char *p = policy->algorithms;
	size_t len = strlen(name);
	while ((p = strstr(p, name))) {
		if ((p == policy->algorithms || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

static struct failures *failures_of(struct sip_auth *auth, const char *host)
{
	struct failures *f = base_hash_get(auth->failures, host);
	int64_t now = base_time_now();
	if (f && now - f->window_start >= FAILURE_WINDOW) {
		f->count = 0;
		f->window_start = now;
	}
	return f;
}

static void note_failure(struct sip_auth *auth, const struct sip_source *src,
                         struct sip_pl username)
{
	struct failures *f = failures_of(auth, src->host);
	if (!f && (f = calloc(1, sizeof(*f)))) {
		f->window_start = base_time_now();
		if (base_hash_put(auth->failures, src->host, f, NULL) != 0) {
			free(f);
			return;
		}
	}
	if (!f)
		return;
	f->count++;
	base_log(f->count == FAILURE_LIMIT ? BASE_LOG_WARN : BASE_LOG_INFO, "sip",
	         "digest authentication failed for \"%.*s\" from %s:%u (%d in the last minute)%s",
	         (int)(username.l < 64 ? username.l : 64), username.p ? username.p : "", src->host,
	         src->port, f->count, f->count >= FAILURE_LIMIT ? "; throttling this address" : "");
}

/* nc is exactly eight hex digits (RFC 7616 §3.4). */
static int parse_nc(struct sip_pl pl, uint32_t *out)
{
	if (pl.l != 8)
		return -1;
	uint32_t v = 0;
	for (size_t i = 0; i < 8; i++) {
		char ch = pl.p[i];
		int d = ch >= '0' && ch <= '9'   ? ch - '0'
		        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
		        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
		                                 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* Replay protection for a genuine nonce of this process: nc must grow; without qop a nonce
 * serves once. A nonce older than the ring can no longer be told from a replay: stale. */
static enum sip_auth_result nonce_use(struct sip_auth *auth, uint64_t serial,
                                      const struct sip_digest_creds *c)
{
	uint32_t nc = NC_SPENT;
	if (c->qop.l && (parse_nc(c->nc, &nc) != 0 || nc == 0 || nc == NC_SPENT))
		return SIP_AUTH_FAILED;
	if (auth->next_serial - serial > NONCE_RING)
		return SIP_AUTH_STALE;
	uint32_t *last = &auth->last_nc[serial % NONCE_RING];
	if (*last >= nc || (!c->qop.l && *last))
		return SIP_AUTH_FAILED;
	*last = nc;
	return SIP_AUTH_OK;
}

/* The digest-uri binds the credentials to a target (RFC 7616 §3.4.6). It is normally the
 * Request-URI; some clients (sipp among them) put the server's own address there instead,
 * which still names this server, so that is accepted too. */
static bool same_target(struct sip_pl digest_uri, const struct sip_msg *req)
{
	if (sip_pl_eq_pl_nocase(digest_uri, req->ruri_text))
		return true;
	struct sip_uri u;
	return sip_uri_parse(digest_uri, &u) == 0 && u.host.l &&
	       sip_pl_eq_pl_nocase(u.host, req->ruri.host) && u.port == req->ruri.port;
}

enum sip_auth_result sip_auth_check(struct sip_auth *auth, const struct sip_msg *req,
                                    const struct sip_source *src,
                                    const struct sip_auth_policy *policy, int nonce_validity,
                                    char *user, size_t user_size)
{
	struct failures *f = failures_of(auth, src->host);
	if (f && f->count >= FAILURE_LIMIT)
		return SIP_AUTH_THROTTLED;
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION);
	if (!h)
		return SIP_AUTH_CHALLENGE;
	struct sip_digest_creds c;
	enum sip_digest_alg alg;
	if (sip_digest_creds_parse(h->value, &c) != 0 || sip_digest_alg_parse(c.algorithm, &alg) ||
	    !offered(policy, alg) || !sip_pl_eq(c.realm, policy->realm) ||
	    !same_target(c.uri, req) || (c.qop.l && !sip_pl_eq_nocase(c.qop, "auth"))) {
		note_failure(auth, src, c.username);
		return SIP_AUTH_FAILED;
	}
	char name[129], ha1[65], expected[65];
	sip_pl_strcpy(c.username, name, sizeof(name));
	bool known = c.username.l < sizeof(name) &&
	             store_digest_ha1(auth->store, name, alg == SIP_DIGEST_MD5 ? "MD5" : "SHA-256",
	                              ha1, NULL) == 0;
	if (!known) { /* a decoy, so that the work and the answer do not depend on it */
		size_t n = alg == SIP_DIGEST_MD5 ? 32 : 64;
		memset(ha1, '0', n);
		ha1[n] = '\0';
	}
	bool match = sip_digest_response(alg, ha1, req->method, &c, expected) == 0 &&
	             strlen(expected) == c.response.l &&
	             CRYPTO_memcmp(expected, c.response.p, c.response.l) == 0;
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (!known || !match) {
		note_failure(auth, src, c.username);
		return SIP_AUTH_FAILED;
	}
	/* The password is proven. A nonce this run did not issue (the secret is new at every
	 * start) or one past its validity is stale (RFC 7616 §3.3): the phone answers the new
	 * challenge without the user, and a restart does not count against its address. */
	uint64_t serial = 0;
	enum sip_nonce_state ns =
	    sip_nonce_check(&auth->key, c.nonce, base_time_now(), nonce_validity, &serial);
	enum sip_auth_result r =
	    ns == SIP_NONCE_VALID ? nonce_use(auth, serial, &c) : SIP_AUTH_STALE;
	if (r == SIP_AUTH_FAILED) {
		note_failure(auth, src, c.username);
		return r;
	}
	if (r == SIP_AUTH_STALE)
		return r;
	base_strlcpy(user, name, user_size);
	return SIP_AUTH_OK;
}
