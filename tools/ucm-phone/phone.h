/*
 * ucm-phone: what its commands are asked to do, read from the command line (phone_args.c),
 * and the entry points of the commands.
 */
#ifndef UCM_PHONE_H
#define UCM_PHONE_H

#include "sip/sip.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum phone_cmd { PHONE_REGISTER, PHONE_CALL, PHONE_ANSWER, PHONE_TRANSFER };

struct phone_opts {
	enum phone_cmd cmd;
	char server[96];      /* HOST:PORT as given */
	char server_host[64]; /* numeric, without brackets */
	uint16_t server_port;
	enum sip_transport_kind transport;
	char line[32]; /* the directory number this phone registers */
	char user[128];
	char password[256]; /* from --password-file; a secret: never printed */
	const char *cert, *key, *ca;
	int expires;
	char local[96]; /* UDP: the address to listen on; TCP/TLS: to bind before connecting */
	double timeout; /* seconds before the command gives up */
	bool verbose;

	/* call */
	char to[32];
	bool srtp, hold;
	double talk;        /* seconds each phase of a call lasts */
	char replaces[400]; /* the dialog the INVITE takes over (Replaces), or "" */
	bool late;          /* a delayed offer: no SDP in the INVITE */

	/* answer */
	double after; /* seconds of ringing before answering */
	bool busy;
	int count;
	const char *dialog_file; /* where each answered dialog is written as a Replaces value */

	/* boot (phone_boot.c) */
	bool stay; /* register: stay registered; a resync NOTIFY ends with PHONE_EXIT_RESYNC */
	bool ca_is_leaf; /* --ca holds the server certificates themselves (from a trust list) */

	/* transfer */
	char target[32]; /* the number the answered call is transferred to */
	bool attended;   /* consult the target first, then REFER with Replaces */
	bool on_ring;    /* attended, but REFER as soon as the consultation rings */

	/* call, answer, transfer: a Cisco phone that shows the call's security (Call-Info) */
	bool cisco_sis;
};

/* phone_ua_run's status when the server asked a --stay phone to fetch its config again. */
#define PHONE_EXIT_RESYNC 3

/* Fills o from argv (argv[1] is the command). -1 with err for a usage error. */
int phone_args_parse(int argc, char **argv, struct phone_opts *o, struct base_err *err);
/* Wipes the password from memory. */
void phone_args_forget(struct phone_opts *o);
void phone_usage(FILE *out);

/* `ucm-phone tls-check HOST:PORT --ca CA`. */
int phone_tls_check(const char *addr_port, const char *ca);

/* `ucm-phone boot ...` (phone_boot.c); returns the exit status. */
int phone_boot_main(int argc, char **argv);
void phone_boot_usage(FILE *out);
/* `ucm-phone tvs-query ...` (phone_tvs.c). */
int phone_tvs_query(int argc, char **argv);
void phone_tvs_usage(FILE *out);

/* Runs register, call, answer or transfer; returns the exit status. */
int phone_ua_run(const struct phone_opts *o);

#endif
