/*
 * Digest authentication as a client (RFC 3261 §22, RFC 7616, RFC 8760): read the challenges
 * of a 401 or 407, choose the strongest algorithm offered, and compute the credentials.
 */
#ifndef UCM_PHONE_AUTH_H
#define UCM_PHONE_AUTH_H

#include "sip/sip.h"

struct phone_auth {
	const char *user, *password; /* the password is a secret: never printed */
	bool proxy;                  /* the challenge came in a 407 */
	enum sip_digest_alg alg;
	bool qop_auth;
	char realm[128], nonce[128], opaque[128];
	uint32_t nc; /* how many times this nonce has been used */
	bool have_challenge;
};

/* Takes the challenges of a 401 or 407. -1 with err when none can be answered (no
 * credentials, or only unknown algorithms or qop values). */
int phone_auth_take_challenge(struct phone_auth *a, const struct sip_msg *resp,
                              struct base_err *err);
const char *phone_auth_alg_name(const struct phone_auth *a);
/* The Authorization (or Proxy-Authorization) header line, CRLF included, for a request. */
int phone_auth_header(struct phone_auth *a, const char *method, const char *uri, char *out,
                      size_t size);

#endif
