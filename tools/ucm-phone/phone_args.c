/*
 * The command line of register, call and answer. Each option says which commands take it,
 * so that a misplaced option (--busy on a call) is a usage error rather than silently
 * ignored.
 */
#include "net/net.h"
#include "phone.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define FOR_REGISTER (1u << PHONE_REGISTER)
#define FOR_CALL     (1u << PHONE_CALL)
#define FOR_ANSWER   (1u << PHONE_ANSWER)
#define FOR_TRANSFER (1u << PHONE_TRANSFER)
#define FOR_ALL      (FOR_REGISTER | FOR_CALL | FOR_ANSWER | FOR_TRANSFER)
#define FOR_TALK     (FOR_CALL | FOR_TRANSFER)
#define FOR_RING     (FOR_ANSWER | FOR_TRANSFER)
#define FOR_PHONES   (FOR_CALL | FOR_ANSWER | FOR_TRANSFER)

enum opt_id {
	OPT_SERVER = 1,
	OPT_TRANSPORT,
	OPT_LINE,
	OPT_USER,
	OPT_PASSWORD_FILE,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_EXPIRES,
	OPT_LOCAL,
	OPT_TIMEOUT,
	OPT_VERBOSE,
	OPT_TO,
	OPT_SRTP,
	OPT_TALK,
	OPT_HOLD,
	OPT_AFTER,
	OPT_BUSY,
	OPT_COUNT,
	OPT_TARGET,
	OPT_ATTENDED,
	OPT_ON_RING,
	OPT_CISCO_SIS,
	OPT_REPLACES,
	OPT_LATE,
	OPT_DIALOG_FILE,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"transport", required_argument, NULL, OPT_TRANSPORT},
    {"line", required_argument, NULL, OPT_LINE},
    {"user", required_argument, NULL, OPT_USER},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"ca", required_argument, NULL, OPT_CA},
    {"expires", required_argument, NULL, OPT_EXPIRES},
    {"local", required_argument, NULL, OPT_LOCAL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"to", required_argument, NULL, OPT_TO},
    {"srtp", no_argument, NULL, OPT_SRTP},
    {"talk", required_argument, NULL, OPT_TALK},
    {"hold", no_argument, NULL, OPT_HOLD},
    {"after", required_argument, NULL, OPT_AFTER},
    {"busy", no_argument, NULL, OPT_BUSY},
    {"count", required_argument, NULL, OPT_COUNT},
    {"target", required_argument, NULL, OPT_TARGET},
    {"attended", no_argument, NULL, OPT_ATTENDED},
    {"on-ring", no_argument, NULL, OPT_ON_RING},
    {"cisco-sis", no_argument, NULL, OPT_CISCO_SIS},
    {"replaces", required_argument, NULL, OPT_REPLACES},
    {"late", no_argument, NULL, OPT_LATE},
    {"dialog-file", required_argument, NULL, OPT_DIALOG_FILE},
    {NULL, 0, NULL, 0},
};

/* Which commands take each option, indexed by enum opt_id. */
static const unsigned opt_commands[] = {
    [OPT_SERVER] = FOR_ALL,        [OPT_TRANSPORT] = FOR_ALL,
    [OPT_LINE] = FOR_ALL,          [OPT_USER] = FOR_ALL,
    [OPT_PASSWORD_FILE] = FOR_ALL, [OPT_CERT] = FOR_ALL,
    [OPT_KEY] = FOR_ALL,           [OPT_CA] = FOR_ALL,
    [OPT_EXPIRES] = FOR_ALL,       [OPT_LOCAL] = FOR_ALL,
    [OPT_TIMEOUT] = FOR_ALL,       [OPT_VERBOSE] = FOR_ALL,
    [OPT_TO] = FOR_CALL,           [OPT_SRTP] = FOR_CALL,
    [OPT_TALK] = FOR_TALK,         [OPT_HOLD] = FOR_CALL,
    [OPT_AFTER] = FOR_RING,        [OPT_BUSY] = FOR_ANSWER,
    [OPT_COUNT] = FOR_ANSWER,      [OPT_TARGET] = FOR_TRANSFER,
    [OPT_ATTENDED] = FOR_TRANSFER, [OPT_ON_RING] = FOR_TRANSFER,
    [OPT_CISCO_SIS] = FOR_PHONES,  [OPT_REPLACES] = FOR_CALL,
    [OPT_LATE] = FOR_CALL,         [OPT_DIALOG_FILE] = FOR_ANSWER,
};

void phone_usage(FILE *out)
{
	fprintf(out,
	        "usage: ucm-phone tls-check HOST:PORT --ca CA.crt\n"
	        "       ucm-phone register COMMON\n"
	        "       ucm-phone call COMMON --to DN [--srtp] [--talk S] [--hold]\n"
	        "       ucm-phone answer COMMON [--after S] [--busy] [--count N]\n"
	        "       ucm-phone transfer COMMON --target DN [--attended] [--after S]\n"
	        "                 [--talk S] [--on-ring]\n"
	        "       call, answer and transfer also take --cisco-sis; call also\n"
	        "       [--replaces DIALOG] [--late]; answer also [--dialog-file FILE]\n\n"
	        "COMMON: --server HOST:PORT --line DN [--transport udp|tcp|tls]\n"
	        "        [--user ID --password-file FILE] [--cert CRT --key KEY] [--ca CA.crt]\n"
	        "        [--expires N] [--local HOST:PORT] [--timeout S] [--verbose]\n\n"
	        "  tls-check  connect over TLS, verify the server certificate against the CA\n"
	        "             and its name against HOST, and print what was negotiated\n"
	        "  register   register the line (answering a digest challenge with the\n"
	        "             strongest algorithm offered) and print the granted expiry\n"
	        "  call       register, call DN (SDP audio offer; RTP/SAVP with an SDES key\n"
	        "             with --srtp), talk for --talk seconds (default 1), with --hold\n"
	        "             put the call on hold and resume it (each for --talk seconds),\n"
	        "             hang up and unregister\n"
	        "  answer     register, ring for --after seconds (default 0) and answer each\n"
	        "             call (or refuse it with 486 Busy Here when --busy) until --count\n"
	        "             calls (default 1) have ended, then unregister\n"
	        "  transfer   register, answer a call after --after seconds, talk --talk\n"
	        "             seconds (default 1), hold it and transfer it to DN: blind\n"
	        "             (REFER), or --attended: call DN, talk, REFER with Replaces;\n"
	        "             follow the NOTIFYs; exit 0 once the transfer succeeded and the\n"
	        "             server released our calls; --on-ring: REFER as soon as the\n"
	        "             target rings (transfer on ring)\n"
	        "  --cisco-sis  advertise X-cisco-sis (INVITE, 200 OK) as a Cisco phone does,\n"
	        "             and print the call security the server tells (Call-Info)\n"
	        "  --replaces DIALOG  call: the INVITE takes over DIALOG (RFC 3891 Replaces\n"
	        "             value, as --dialog-file writes it)\n"
	        "  --late     call: a delayed offer (INVITE without SDP; the offer comes in\n"
	        "             the 200, our answer goes in the ACK), as Cisco phones do\n"
	        "  --dialog-file FILE  answer: write each answered call's dialog to FILE as\n"
	        "             a Replaces value (Call-ID;to-tag=...;from-tag=...)\n\n"
	        "TLS verifies the server against --ca and presents --cert as the device\n"
	        "certificate. UDP listens on --local (default 127.0.0.1:0). Commands give up\n"
	        "after --timeout seconds (default 30). Passwords and keys are never printed.\n\n"
	        "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int bad(struct base_err *err, const char *option, const char *what)
{
	return base_err_set(err, BASE_E_INVALID, option, "%s %s", option, what);
}

static int parse_server(struct phone_opts *o, const char *text, struct base_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_addr_parse(text, &ss, &len, NULL) != 0)
		return bad(err, "--server",
		           "must be a numeric IP address and a port: 127.0.0.1:5060");
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	net_addr_format_host(sa, o->server_host, sizeof(o->server_host));
	o->server_port = ss.ss_family == AF_INET6
	                     ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
	                     : ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (o->server_port == 0)
		return bad(err, "--server", "needs a port");
	base_strlcpy(o->server, text, sizeof(o->server));
	return 0;
}

static int parse_transport(struct phone_opts *o, const char *text, struct base_err *err)
{
	if (strcmp(text, "udp") == 0)
		o->transport = SIP_TP_UDP;
	else if (strcmp(text, "tcp") == 0)
		o->transport = SIP_TP_TCP;
	else if (strcmp(text, "tls") == 0)
		o->transport = SIP_TP_TLS;
	else
		return bad(err, "--transport", "must be udp, tcp or tls");
	return 0;
}

/* The first line of the file, without its line end. */
static int read_password(struct phone_opts *o, const char *path, struct base_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return base_err_set(err, BASE_E_INVALID, "--password-file", "cannot read %s: %s",
		                    path, strerror(errno));
	bool ok = fgets(o->password, sizeof(o->password), f) != NULL;
	fclose(f);
	o->password[strcspn(o->password, "\r\n")] = '\0';
	if (!ok || !o->password[0])
		return base_err_set(err, BASE_E_INVALID, "--password-file", "%s holds no password",
		                    path);
	return 0;
}

static int parse_seconds(const char *text, const char *option, double max, double *out,
                         struct base_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= 0 && v <= max))
		return base_err_set(err, BASE_E_INVALID, option, "%s must be 0 to %g seconds",
		                    option, max);
	*out = v;
	return 0;
}

static int parse_int(const char *text, const char *option, long min, long max, int *out,
                     struct base_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return base_err_set(err, BASE_E_INVALID, option, "%s must be %ld to %ld", option,
		                    min, max);
	*out = (int)v;
	return 0;
}

static int copy_dn(char *out, size_t size, const char *text, const char *option,
                   struct base_err *err)
{
	/* Characters a SIP URI user part carries unescaped, which is all a number needs. */
	static const char charset[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ+*-._";
	if (!*text || strlen(text) >= size || !base_str_all(text, charset))
		return bad(err, option, "must be a directory number");
	base_strlcpy(out, text, size);
	return 0;
}

static int apply(struct phone_opts *o, int id, const char *arg, struct base_err *err)
{
	switch (id) {
	case OPT_SERVER:
		return parse_server(o, arg, err);
	case OPT_TRANSPORT:
		return parse_transport(o, arg, err);
	case OPT_LINE:
		return copy_dn(o->line, sizeof(o->line), arg, "--line", err);
	case OPT_USER:
		if (strlen(arg) >= sizeof(o->user) || strpbrk(arg, "\"\\\r\n"))
			return bad(err, "--user", "is not a usable user ID");
		base_strlcpy(o->user, arg, sizeof(o->user));
		return 0;
	case OPT_PASSWORD_FILE:
		return read_password(o, arg, err);
	case OPT_CERT:
		o->cert = arg;
		return 0;
	case OPT_KEY:
		o->key = arg;
		return 0;
	case OPT_CA:
		o->ca = arg;
		return 0;
	case OPT_EXPIRES:
		return parse_int(arg, "--expires", 0, 86400, &o->expires, err);
	case OPT_LOCAL:
		base_strlcpy(o->local, arg, sizeof(o->local));
		return 0;
	case OPT_TIMEOUT:
		return parse_seconds(arg, "--timeout", 3600, &o->timeout, err);
	case OPT_VERBOSE:
		o->verbose = true;
		return 0;
	case OPT_TO:
		return copy_dn(o->to, sizeof(o->to), arg, "--to", err);
	case OPT_SRTP:
		o->srtp = true;
		return 0;
	case OPT_TALK:
		return parse_seconds(arg, "--talk", 3600, &o->talk, err);
	case OPT_HOLD:
		o->hold = true;
		return 0;
	case OPT_AFTER:
		return parse_seconds(arg, "--after", 3600, &o->after, err);
	case OPT_BUSY:
		o->busy = true;
		return 0;
	case OPT_COUNT:
		return parse_int(arg, "--count", 1, 1000, &o->count, err);
	case OPT_TARGET:
		return copy_dn(o->target, sizeof(o->target), arg, "--target", err);
	case OPT_ATTENDED:
		o->attended = true;
		return 0;
	case OPT_ON_RING:
		o->on_ring = o->attended = true;
		return 0;
	case OPT_CISCO_SIS:
		o->cisco_sis = true;
		return 0;
	case OPT_REPLACES:
		if (strlen(arg) >= sizeof(o->replaces) || strpbrk(arg, "\r\n"))
			return bad(err, "--replaces", "is too long or spans lines");
		base_strlcpy(o->replaces, arg, sizeof(o->replaces));
		return 0;
	case OPT_LATE:
		o->late = true;
		return 0;
	case OPT_DIALOG_FILE:
		o->dialog_file = arg;
		return 0;
	default:
		return base_err_set(err, BASE_E_INVALID, NULL, "unknown option");
	}
}

/* What no single option can check: required options and options that go together. */
static int check(const struct phone_opts *o, struct base_err *err)
{
	if (!o->server[0])
		return bad(err, "--server", "is required");
	if (!o->line[0])
		return bad(err, "--line", "is required");
	if (o->cmd == PHONE_CALL && !o->to[0])
		return bad(err, "--to", "is required");
	if (o->cmd == PHONE_TRANSFER && !o->target[0])
		return bad(err, "--target", "is required");
	if (!o->user[0] != !o->password[0])
		return bad(err, "--user", "and --password-file go together");
	if (!o->cert != !o->key)
		return bad(err, "--cert", "and --key go together");
	if (o->transport == SIP_TP_TLS && !o->ca)
		return bad(err, "--ca", "is required with --transport tls");
	if (o->transport != SIP_TP_TLS && o->cert)
		return bad(err, "--cert", "needs --transport tls");
	return 0;
}

static int parse_command(const char *name, struct phone_opts *o, struct base_err *err)
{
	if (strcmp(name, "register") == 0)
		o->cmd = PHONE_REGISTER;
	else if (strcmp(name, "call") == 0)
		o->cmd = PHONE_CALL;
	else if (strcmp(name, "answer") == 0)
		o->cmd = PHONE_ANSWER;
	else if (strcmp(name, "transfer") == 0)
		o->cmd = PHONE_TRANSFER;
	else
		return base_err_set(err, BASE_E_INVALID, NULL, "unknown command \"%s\"", name);
	return 0;
}

int phone_args_parse(int argc, char **argv, struct phone_opts *o, struct base_err *err)
{
	*o = (struct phone_opts){.transport = SIP_TP_UDP,
	                         .expires = 3600,
	                         .local = "127.0.0.1:0",
	                         .timeout = 30,
	                         .talk = 1,
	                         .count = 1};
	if (argc < 2 || parse_command(argv[1], o, err) != 0)
		return argc < 2 ? base_err_set(err, BASE_E_INVALID, NULL, "no command") : -1;
	optind = 2;
	opterr = 0;
	int id;
	while ((id = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (id == '?' || id == ':')
			return base_err_set(err, BASE_E_INVALID, NULL,
			                    "unknown option or missing value: %s",
			                    argv[optind - 1]);
		if (!(opt_commands[id] & (1u << o->cmd)))
			return base_err_set(err, BASE_E_INVALID, NULL, "%s does not take --%s",
			                    argv[1], long_opts[id - 1].name);
		if (apply(o, id, optarg, err) != 0)
			return -1;
	}
	if (optind < argc)
		return base_err_set(err, BASE_E_INVALID, NULL, "unexpected argument \"%s\"",
		                    argv[optind]);
	return check(o, err);
}

void phone_args_forget(struct phone_opts *o)
{
	OPENSSL_cleanse(o->password, sizeof(o->password));
}
