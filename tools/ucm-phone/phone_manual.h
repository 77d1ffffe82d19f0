/*
 * `ucm-phone boot --symmetric-key HEX`: a legacy phone (7940G/7960G, 7905G/7912G SIP) that
 * holds a manual symmetric key asks only for its encrypted configuration (requirements
 * security-2 §3.13): SIP<MAC>.cnf.enc.sgn for a 128-bit key, LD<MAC>.x for a 256-bit one.
 */
#ifndef UCM_PHONE_MANUAL_H
#define UCM_PHONE_MANUAL_H

#include "phone_cnf.h"
#include "phone_fetch.h"

struct pki_trust_list;

/* A parsed --symmetric-key: 32 or 64 hex digits. */
struct phone_manual_key {
	unsigned char key[32];
	size_t len; /* 0: none given */
};

int phone_manual_key_parse(const char *hex, struct phone_manual_key *out, struct base_err *err);

/* Fetches, checks (signature when lists are given) and decrypts the device's encrypted
 * configuration, then parses it into cnf; -1 with the reason printed (a phone whose file
 * does not decrypt does not apply it, and cannot register). */
int phone_manual_config(const struct phone_fetch_src *src, const char *device,
                        const struct pki_trust_list *const *lists, size_t nlists,
                        const struct phone_manual_key *key, struct phone_cnf *cnf);

#endif
