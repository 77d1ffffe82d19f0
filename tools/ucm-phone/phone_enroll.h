/* ucm-phone enroll: what to enroll for and how, from the command line (phone_enroll.c), and
 * the protocols that carry it out (phone_capf.c; EST in phone_est.c). */
#ifndef UCM_PHONE_ENROLL_H
#define UCM_PHONE_ENROLL_H

#include "pki/pki.h"

#include <stdbool.h>

enum phone_enroll_protocol { PHONE_ENROLL_CAPF, PHONE_ENROLL_EST };

/* The phone's <capfAuthMode>: what it sends in AUTH_RESPONSE. */
enum phone_capf_auth { PHONE_AUTH_STRING, PHONE_AUTH_NULL, PHONE_AUTH_LSC, PHONE_AUTH_MIC };

struct phone_enroll_opts {
	enum phone_enroll_protocol protocol;
	char server[96];  /* HOST:PORT */
	const char *ca;   /* verifies the server's certificate */
	char device[129]; /* DEVICE_NAME: SEP..., CSF..., or a CAPF profile name */
	enum phone_capf_auth auth;
	char auth_string[64];             /* a secret: never printed, wiped at exit */
	const char *auth_cert, *auth_key; /* the existing LSC or MIC for --auth lsc|mic */
	bool key_forced;                  /* generate this key whatever the server asks */
	struct pki_capf_key_spec key;
	const char *cert_out, *key_out; /* where the new LSC and its key go */
	const char *key_in;             /* a key made beforehand, sent instead of a new one */
	double timeout;                 /* seconds for the whole enrollment */
	bool jabber;                    /* speak as Jabber: VERSION 2, no PASSWORD, no
	                                   REQUEST_IN_PROGRESS */
	bool verbose;
};

/* `ucm-phone enroll ...`: parses argv and runs the protocol; returns the exit status. */
int phone_enroll_main(int argc, char **argv);
void phone_enroll_usage(FILE *out);

int phone_capf_enroll(const struct phone_enroll_opts *o);
/* EST (phone_est.c): --auth string (HTTP Basic), null (none) or lsc (simplereenroll with
 * --auth-cert/--auth-key as TLS client certificate); --server is the admin listener. */
int phone_est_enroll(const struct phone_enroll_opts *o);

#endif
