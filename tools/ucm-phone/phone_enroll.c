/*
 * The command line of `ucm-phone enroll`: get a locally significant certificate over CAPF
 * (as a Cisco phone or Jabber does) or EST, as an administrator would check a deployment
 * and as the tests drive ucmd.
 */
#include "phone_enroll.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_PROTOCOL = 1,
	OPT_SERVER,
	OPT_CA,
	OPT_DEVICE,
	OPT_AUTH,
	OPT_AUTH_STRING,
	OPT_AUTH_CERT,
	OPT_AUTH_KEY,
	OPT_KEY_TYPE,
	OPT_KEY_SIZE,
	OPT_CERT,
	OPT_KEY,
	OPT_TIMEOUT,
	OPT_JABBER,
	OPT_KEY_FILE,
	OPT_VERBOSE,
};

static const struct option long_opts[] = {
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"server", required_argument, NULL, OPT_SERVER},
    {"ca", required_argument, NULL, OPT_CA},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"auth-string", required_argument, NULL, OPT_AUTH_STRING},
    {"auth-cert", required_argument, NULL, OPT_AUTH_CERT},
    {"auth-key", required_argument, NULL, OPT_AUTH_KEY},
    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
    {"key-size", required_argument, NULL, OPT_KEY_SIZE},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"jabber", no_argument, NULL, OPT_JABBER},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {NULL, 0, NULL, 0},
};

void phone_enroll_usage(FILE *out)
{
	fprintf(out,
	        "usage: ucm-phone enroll --protocol capf --server HOST:PORT --ca CA.crt\n"
	        "         --device NAME --auth string|null|lsc|mic [--auth-string DIGITS]\n"
	        "         [--auth-cert CRT --auth-key KEY] [--key-type rsa|ec --key-size N]\n"
	        "         --cert OUT.crt --key OUT.key [--key-file KEY] [--jabber]\n"
	        "         [--timeout S] [--verbose]\n\n"
	        "  enroll     get a locally significant certificate (LSC) the way a Cisco\n"
	        "             phone does over CAPF: authenticate with the one-time string,\n"
	        "             nothing (null string), or an existing LSC or MIC (--auth-cert,\n"
	        "             --auth-key); generate the key the server asks for (or the one\n"
	        "             --key-type/--key-size force: rsa BITS, ec 256|384) and store\n"
	        "             the certificate in --cert and its key in --key (mode 0600).\n"
	        "             A delete operation removes them; troubleshoot sends --cert.\n"
	        "             --key-file sends a key made beforehand instead of a new one\n"
	        "             (benchmarks: no key generation on the client).\n"
	        "             --jabber speaks as Jabber (VERSION 2, no PASSWORD element).\n"
	        "             Prints the END_SESSION reason: 0 nothing to do, 1 done,\n"
	        "             7 refused, 9 unknown device.\n"
	        "       ucm-phone enroll --protocol est --server ADMIN_HOST:PORT --ca CA.crt\n"
	        "         --device NAME --auth string|null|lsc [...] --cert OUT.crt --key OUT.key\n"
	        "             the same over EST (RFC 7030): simpleenroll with the string as\n"
	        "             HTTP Basic password (or nothing), simplereenroll with --auth lsc;\n"
	        "             RSA 2048 unless --key-type/--key-size say otherwise.\n\n"
	        "Exit status: 0 operation done, 1 refused or failed, 2 usage error.\n");
}

static int bad(struct base_err *err, const char *option, const char *what)
{
	return base_err_set(err, BASE_E_INVALID, option, "%s %s", option, what);
}

static int parse_auth(struct phone_enroll_opts *o, const char *text, struct base_err *err)
{
	static const char *const names[] = {[PHONE_AUTH_STRING] = "string",
	                                    [PHONE_AUTH_NULL] = "null",
	                                    [PHONE_AUTH_LSC] = "lsc",
	                                    [PHONE_AUTH_MIC] = "mic"};
	for (int i = 0; i <= PHONE_AUTH_MIC; i++)
		if (strcmp(text, names[i]) == 0) {
			o->auth = (enum phone_capf_auth)i;
			return 0;
		}
	return bad(err, "--auth", "must be string, null, lsc or mic");
}

static int parse_key_size(struct phone_enroll_opts *o, const char *text, struct base_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 256 || v > 8192)
		return bad(err, "--key-size", "must be RSA bits (2048) or an EC size (256, 384)");
	o->key.rsa_bits = (unsigned)v;
	o->key.curve = v == 384   ? PKI_CAPF_CURVE_P384
	               : v == 521 ? PKI_CAPF_CURVE_P521
	                          : PKI_CAPF_CURVE_P256;
	o->key_forced = true;
	return 0;
}

static int apply(struct phone_enroll_opts *o, int id, const char *arg, struct base_err *err)
{
	switch (id) {
	case OPT_PROTOCOL:
		if (strcmp(arg, "capf") == 0)
			o->protocol = PHONE_ENROLL_CAPF;
		else if (strcmp(arg, "est") == 0)
			o->protocol = PHONE_ENROLL_EST;
		else
			return bad(err, "--protocol", "must be capf or est");
		return 0;
	case OPT_SERVER:
		if (strlen(arg) >= sizeof(o->server))
			return bad(err, "--server", "is too long");
		base_strlcpy(o->server, arg, sizeof(o->server));
		return 0;
	case OPT_DEVICE:
		if (!*arg || strlen(arg) >= sizeof(o->device))
			return bad(err, "--device", "must be 1 to 128 characters");
		base_strlcpy(o->device, arg, sizeof(o->device));
		return 0;
	case OPT_AUTH:
		return parse_auth(o, arg, err);
	case OPT_AUTH_STRING:
		if (strlen(arg) >= sizeof(o->auth_string))
			return bad(err, "--auth-string", "is too long");
		base_strlcpy(o->auth_string, arg, sizeof(o->auth_string));
		return 0;
	case OPT_KEY_TYPE:
		if (strcmp(arg, "rsa") != 0 && strcmp(arg, "ec") != 0)
			return bad(err, "--key-type", "must be rsa or ec");
		o->key.type = strcmp(arg, "ec") == 0 ? PKI_CAPF_KEY_EC : PKI_CAPF_KEY_RSA;
		o->key_forced = true;
		return 0;
	case OPT_KEY_SIZE:
		return parse_key_size(o, arg, err);
	case OPT_TIMEOUT: {
		char *end;
		o->timeout = strtod(arg, &end);
		if (end == arg || *end || !(o->timeout > 0 && o->timeout <= 3600))
			return bad(err, "--timeout", "must be 0 to 3600 seconds");
		return 0;
	}
	case OPT_JABBER:
		o->jabber = true;
		return 0;
	case OPT_VERBOSE:
		o->verbose = true;
		return 0;
	}
	const char **paths[] = {[OPT_CA] = &o->ca,
	                        [OPT_AUTH_CERT] = &o->auth_cert,
	                        [OPT_AUTH_KEY] = &o->auth_key,
	                        [OPT_CERT] = &o->cert_out,
	                        [OPT_KEY] = &o->key_out,
	                        [OPT_KEY_FILE] = &o->key_in};
	if (id >= 0 && (size_t)id < sizeof(paths) / sizeof(paths[0]) && paths[id]) {
		*paths[id] = arg;
		return 0;
	}
	return base_err_set(err, BASE_E_INVALID, NULL, "unknown option");
}

static int check(const struct phone_enroll_opts *o, struct base_err *err)
{
	if (!o->server[0] || !o->ca || !o->device[0] || !o->cert_out || !o->key_out)
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "enroll needs --server, --ca, --device, --cert and --key");
	if (o->auth == PHONE_AUTH_STRING && !o->auth_string[0])
		return bad(err, "--auth-string", "is needed with --auth string");
	if ((o->auth == PHONE_AUTH_LSC || o->auth == PHONE_AUTH_MIC) &&
	    (!o->auth_cert || !o->auth_key))
		return bad(err, "--auth-cert", "and --auth-key are needed with --auth lsc or mic");
	if (o->key_forced && o->key.type == PKI_CAPF_KEY_EC && o->key.rsa_bits != 256 &&
	    o->key.rsa_bits != 384 && o->key.rsa_bits != 521 && o->key.rsa_bits != 0)
		return bad(err, "--key-size", "of an EC key must be 256, 384 or 521");
	return 0;
}

int phone_enroll_main(int argc, char **argv)
{
	struct phone_enroll_opts o = {.timeout = 30, .auth = PHONE_AUTH_NULL};
	struct base_err err = {0};
	int id, rc = 0;
	optind = 2; /* argv[1] is "enroll" */
	opterr = 0;
	bool protocol = false;
	while (rc == 0 && (id = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (id == '?' || id == ':')
			rc = base_err_set(&err, BASE_E_INVALID, NULL,
			                  "unknown or incomplete option %s", argv[optind - 1]);
		else
			rc = apply(&o, id, optarg, &err);
		protocol |= id == OPT_PROTOCOL;
	}
	if (rc == 0 && optind < argc)
		rc = base_err_set(&err, BASE_E_INVALID, NULL, "unexpected argument %s",
		                  argv[optind]);
	if (rc == 0 && !protocol)
		rc = bad(&err, "--protocol", "is needed: capf or est");
	if (rc == 0)
		rc = check(&o, &err);
	if (rc != 0) {
		fprintf(stderr, "ucm-phone: %s\n(ucm-phone --help for usage)\n", err.message);
		OPENSSL_cleanse(o.auth_string, sizeof(o.auth_string));
		return 2;
	}
	base_log_set_level(o.verbose ? BASE_LOG_DEBUG : BASE_LOG_WARN);
	if (o.protocol == PHONE_ENROLL_EST) {
		rc = phone_est_enroll(&o);
	} else {
		rc = phone_capf_enroll(&o);
	}
	OPENSSL_cleanse(o.auth_string, sizeof(o.auth_string));
	return rc;
}
