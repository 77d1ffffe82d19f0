/* What ucm-phone reads from a SEP<MAC>.cnf.xml (cisco-device-config.md §1) to register. */
#ifndef UCM_PHONE_CNF_H
#define UCM_PHONE_CNF_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>

struct phone_cnf {
	bool full_config;      /* false: the stub of an encrypted configuration */
	bool encr_config;      /* the full configuration is served as .enc.sgn */
	char cert_hash[33];    /* MD5 of the certificate it is encrypted for */
	char call_manager[64]; /* processNodeName of the first call manager */
	unsigned sip_port, secure_sip_port;
	int security_mode; /* 1 non-secure, 2 authenticated, 3 encrypted */
	int transport;     /* 1 TCP, 2 UDP, 3 TLS, 4 TCP+UDP */
	char line[32];     /* the first line's name (its directory number) */
	char auth_name[128];
	char auth_password[256]; /* a secret: never printed */
};

/* Parses the configuration; -1 with err when it is not a <device> document. */
int phone_cnf_parse(const unsigned char *xml, size_t len, struct phone_cnf *cnf,
                    struct base_err *err);
/* Wipes the password. */
void phone_cnf_forget(struct phone_cnf *cnf);

#endif
