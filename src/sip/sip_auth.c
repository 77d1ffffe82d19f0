/*
 * Digest authentication of phones (RFC 3261 §22, RFC 7616, RFC 8760).
 *
 * Every challenge offers SHA-256 and MD5 side by side. Nonces are self-verifying (sip_nonce)
 * so a challenge needs no state; what needs state is replay protection: for each nonce in
 * use we keep the highest nonce-count seen, and a response without qop may use its nonce
 * once. An unknown user is checked against a decoy HA1, so the answer and its timing are the
 * same as for a wrong password. Failures are counted per address; past the limit the address
 * is refused for a minute and the event is logged.
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

struct nonce_use {
	uint32_t last_nc;
	int64_t first_seen;
};

struct failures {
	int count;
	int64_t window_start;
};

struct sip_auth {
	struct store *store;
	struct sip_nonce_key key;
	struct base_hash *nonces;   /* nonce -> struct nonce_use */
	struct base_hash *failures; /* address -> struct failures */
	struct event *sweep;
};

struct sweep_ctx {
	struct base_hash *h;
	int64_t cutoff;
	bool nonces;
};

static void sweep_entry(void *arg, const char *key, void *value)
{
	struct sweep_ctx *c = arg;
	int64_t t = c->nonces ? ((struct nonce_use *)value)->first_seen
	                      : ((struct failures *)value)->window_start;
	if (t < c->cutoff)
		free(base_hash_remove(c->h, key));
}

/* Forgets nonces too old to be accepted anyway, and failure windows that have passed. */
static void on_sweep(evutil_socket_t fd, short events, void *arg)
{
	(void)fd, (void)events;
	struct sip_auth *auth = arg;
	int64_t now = base_time_now();
	struct sweep_ctx n = {auth->nonces, now - 86400, true};
	base_hash_foreach(auth->nonces, sweep_entry, &n);
	struct sweep_ctx f = {auth->failures, now - FAILURE_WINDOW, false};
	base_hash_foreach(auth->failures, sweep_entry, &f);
}

struct sip_auth *sip_auth_new(struct event_base *base, struct store *store)
{
	struct sip_auth *auth = calloc(1, sizeof(*auth));
	if (!auth)
		return NULL;
	auth->store = store;
	sip_nonce_key_init(&auth->key);
	auth->nonces = base_hash_new();
	auth->failures = base_hash_new();
	auth->sweep = event_new(base, -1, EV_PERSIST, on_sweep, auth);
	struct timeval tv = {SWEEP_SECONDS, 0};
	if (!auth->nonces || !auth->failures || !auth->sweep || event_add(auth->sweep, &tv) != 0) {
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
	base_hash_free(auth->nonces, free);
	base_hash_free(auth->failures, free);
	sip_nonce_key_clear(&auth->key);
	free(auth);
}

void sip_auth_challenge(struct sip_auth *auth, const struct sip_auth_policy *policy, bool stale,
                        char *out, size_t size)
{
	char nonce[65];
	sip_nonce_make(&auth->key, base_time_now(), nonce);
	size_t len = 0;
	out[0] = '\0';
	const char *algs = policy->algorithms;
	while (*algs && len < size) {
		size_t n = strcspn(algs, ",");
		len += (size_t)snprintf(out + len, size - len,
		                        "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
		                        "algorithm=%.*s, qop=\"auth\"%s\r\n",
		                        policy->realm, nonce, (int)n, algs,
		                        stale ? ", stale=true" : "");
		algs += n + (algs[n] == ',');
	}
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

/* Replay protection: nc must grow for a nonce; without qop a nonce serves once. */
static bool fresh_use(struct sip_auth *auth, const struct sip_digest_creds *c)
{
	char nonce[72];
	sip_pl_strcpy(c->nonce, nonce, sizeof(nonce));
	uint32_t nc = 0;
	if (c->qop.l && (parse_nc(c->nc, &nc) != 0 || nc == 0))
		return false;
	struct nonce_use *u = base_hash_get(auth->nonces, nonce);
	if (u)
		return c->qop.l && nc > u->last_nc ? (u->last_nc = nc, true) : false;
	if (!(u = calloc(1, sizeof(*u))))
		return false;
	u->last_nc = nc;
	u->first_seen = base_time_now();
	if (base_hash_put(auth->nonces, nonce, u, NULL) != 0) {
		free(u);
		return false;
	}
	return true;
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
	enum sip_nonce_state ns =
	    sip_nonce_check(&auth->key, c.nonce, base_time_now(), nonce_validity);
	if (ns == SIP_NONCE_STALE)
		return SIP_AUTH_STALE;
	if (ns != SIP_NONCE_VALID || !fresh_use(auth, &c)) {
		note_failure(auth, src, c.username);
		return SIP_AUTH_FAILED;
	}
	base_strlcpy(user, name, user_size);
	return SIP_AUTH_OK;
}
