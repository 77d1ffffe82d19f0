/* Private to the sip layer: digest authentication of requests from devices. */
#ifndef UCM_SIP_AUTH_H
#define UCM_SIP_AUTH_H

#include "sip/sip.h"

struct sip_auth;

enum sip_auth_result {
	SIP_AUTH_OK,        /* *user holds the authenticated user ID */
	SIP_AUTH_CHALLENGE, /* no credentials: send a challenge */
	SIP_AUTH_STALE,     /* right password, old nonce: challenge with stale=true */
	SIP_AUTH_FAILED,    /* wrong user or password, bad or replayed nonce: challenge anew */
	SIP_AUTH_THROTTLED, /* too many failures from this address: refuse */
};

struct sip_auth *sip_auth_new(struct event_base *base, struct store *store);
void sip_auth_free(struct sip_auth *auth);
/* What a challenge offers: the realm, and the algorithms most preferred first, as the service
 * parameter sip_digest_algorithms says ("SHA-256,MD5", "MD5", ...). */
struct sip_auth_policy {
	const char *realm;
	const char *algorithms;
};

/* Checks the Authorization header of req against the stored HA1 of its user. */
enum sip_auth_result sip_auth_check(struct sip_auth *auth, const struct sip_msg *req,
                                    const struct sip_source *src,
                                    const struct sip_auth_policy *policy, int nonce_validity,
                                    char *user, size_t user_size);
/* The WWW-Authenticate header lines of a challenge, one per algorithm in the policy's order
 * (RFC 8760 §2.4). */
void sip_auth_challenge(struct sip_auth *auth, const struct sip_auth_policy *policy, bool stale,
                        char *out, size_t size);

#endif
