/*
 * `ucm-phone boot`: what a Cisco phone does between power-on and registration.
 *
 *   1. Fetch CTLFile.tlv (mixed mode only) and ITLFile.tlv and check each the way a phone
 *      does: the first one it ever sees vouches for itself (its SAST signed it); every later
 *      one must be signed by a SAST of the list installed before. The lists it accepts are
 *      kept in --state, so a second boot checks the update against the first.
 *   2. Fetch SEP<MAC>.cnf.xml.sgn when a list names a TFTP signer (else the plain file) and
 *      check its signature. When it says the full configuration is encrypted (encrConfig)
 *      for this phone's certificate (certHash = MD5 of --cert), fetch the .enc.sgn, check
 *      it and decrypt it with --key; a server without it ("not found") leaves the .sgn.
 *   3. Register the first line with the call manager, port, transport and digest
 *      credentials the configuration names, over TLS with --cert when its security mode
 *      asks for it, trusting the call-manager certificates of the lists.
 *   4. With --stay, stay registered; a NOTIFY asking for a resync or an apply-config starts
 *      again at 1.
 *
 * Anything that does not verify stops the boot with a message saying what and exit 1.
 */
#include "phone.h"
#include "phone_cnf.h"
#include "phone_fetch.h"
#include "phone_manual.h"
#include "pki/pki.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct boot {
	char device[64];
	struct phone_fetch_src src;
	const char *state;
	const char *cert_path, *key_path;
	X509 *cert;
	EVP_PKEY *key;
	struct phone_manual_key symmetric_key; /* legacy phones: --symmetric-key */
	bool stay, verbose;
	double timeout;
	struct pki_trust_list *ctl, *itl;
	char ccm_pem[4200]; /* the call-manager certificates the lists name, for SIP-TLS */
};

static const struct option boot_opts[] = {
    {"device", required_argument, NULL, 'd'},
    {"http", required_argument, NULL, 'H'},
    {"tftp", required_argument, NULL, 'T'},
    {"state", required_argument, NULL, 's'},
    {"cert", required_argument, NULL, 'c'},
    {"key", required_argument, NULL, 'k'},
    {"stay", no_argument, NULL, 'S'},
    {"timeout", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"symmetric-key", required_argument, NULL, 'y'},
    {NULL, 0, NULL, 0},
};

void phone_boot_usage(FILE *out)
{
	fprintf(out,
	        "       ucm-phone boot --device SEP<MAC> --state DIR [--http HOST:PORT]\n"
	        "                [--tftp HOST:PORT] [--cert CRT --key KEY] [--stay]\n"
	        "                [--timeout S] [--verbose] [--symmetric-key HEX]\n"
	        "  boot       fetch and verify the trust lists (kept in DIR; updates must be\n"
	        "             signed by a key the kept list trusts), fetch the signed or\n"
	        "             encrypted configuration (HTTP first, then TFTP), verify and\n"
	        "             decrypt it with --key, and register as it says; with --stay\n"
	        "             stay registered and fetch again when the server asks to resync;\n"
	        "             with --symmetric-key (a 7940G/7960G's 32 or a 7905G/7912G's 64\n"
	        "             hex digits) fetch SIP<MAC>.cnf.enc.sgn or LD<MAC>.x and decrypt it\n"
	        "             with that key, as a legacy manual-key phone does\n");
}

static int boot_args(int argc, char **argv, struct boot *b, struct base_err *err)
{
	int id;
	optind = 2;
	opterr = 0;
	b->timeout = 30;
	while ((id = getopt_long(argc, argv, "", boot_opts, NULL)) != -1) {
		char *end;
		switch (id) {
		case 'd':
			if (strlen(optarg) >= sizeof(b->device) || strpbrk(optarg, "/\\ "))
				return base_err_set(err, BASE_E_INVALID, NULL,
				                    "--device: bad name");
			base_strlcpy(b->device, optarg, sizeof(b->device));
			break;
		case 'H':
			b->src.http = optarg;
			break;
		case 'T':
			b->src.tftp = optarg;
			break;
		case 's':
			b->state = optarg;
			break;
		case 'c':
			b->cert_path = optarg;
			break;
		case 'k':
			b->key_path = optarg;
			break;
		case 'S':
			b->stay = true;
			break;
		case 't':
			b->timeout = strtod(optarg, &end);
			if (*end || !(b->timeout > 0 && b->timeout <= 3600))
				return base_err_set(err, BASE_E_INVALID, NULL,
				                    "--timeout must be 0 to 3600 seconds");
			break;
		case 'v':
			b->verbose = true;
			break;
		case 'y':
			if (phone_manual_key_parse(optarg, &b->symmetric_key, err) != 0)
				return -1;
			break;
		default:
			return base_err_set(err, BASE_E_INVALID, NULL,
			                    "unknown option or missing value: %s",
			                    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return base_err_set(err, BASE_E_INVALID, NULL, "unexpected argument \"%s\"",
		                    argv[optind]);
	if (!b->device[0] || !b->state || (!b->src.http && !b->src.tftp))
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "boot needs --device, --state and --http or --tftp");
	if (!b->cert_path != !b->key_path)
		return base_err_set(err, BASE_E_INVALID, NULL, "--cert and --key go together");
	b->src.timeout = b->timeout;
	return 0;
}

/* ---- files ---- */

static int state_path(const struct boot *b, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", b->state, name);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static int read_all(const char *path, unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	*out = NULL;
	if (!f)
		return errno == ENOENT ? 0 : -1;
	int rc = -1;
	if (fstat(fileno(f), &st) == 0 && st.st_size < PHONE_FETCH_MAX &&
	    (*out = malloc((size_t)st.st_size + 1)) &&
	    fread(*out, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
		*len = (size_t)st.st_size;
		rc = 1;
	}
	fclose(f);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int write_all(const char *path, const unsigned char *data, size_t len)
{
	char tmp[4300];
	int n = snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *f = n > 0 && (size_t)n < sizeof(tmp) ? fopen(tmp, "wb") : NULL;
	if (!f)
		return -1;
	bool ok = fwrite(data, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	return ok && rename(tmp, path) == 0 ? 0 : -1;
}

/* ---- step 1: trust lists ---- */

/*
 * Fetches one list and installs it when it verifies: 1 installed, 0 the server has none
 * (the installed one, if any, stays), -1 rejected or failed (message printed).
 */
static int trust_list_step(struct boot *b, const char *name, struct pki_trust_list **installed)
{
	struct base_err err = {0};
	unsigned char *data = NULL, *old = NULL;
	size_t len = 0, old_len = 0;
	char path[4200];
	if (state_path(b, name, path, sizeof(path)) != 0)
		return -1;
	if (!*installed && read_all(path, &old, &old_len) > 0) {
		/* A list installed by an earlier boot: it was verified then. */
		if (pki_trust_list_load(old, old_len, NULL, installed, &err) != 0) {
			printf("%s: the installed list in %s is unreadable: %s\n", name, b->state,
			       err.message);
			free(old);
			return -1;
		}
	}
	free(old);
	if (phone_fetch(&b->src, name, &data, &len, &err) != 0) {
		if (err.code == BASE_E_NOT_FOUND) {
			printf("%s: not on the server%s\n", name,
			       *installed ? "; keeping the installed list" : "");
			return 0;
		}
		printf("%s: %s\n", name, err.message);
		return -1;
	}
	struct pki_trust_list *list = NULL;
	if (pki_trust_list_load(data, len, *installed, &list, &err) != 0) {
		printf("%s rejected: %s\n", name, err.message);
		free(data);
		return -1;
	}
	printf("%s: %zu certificates, signature verified %s\n", name, pki_trust_list_count(list),
	       *installed ? "against the installed list" : "(first list: trusted on first use)");
	if (write_all(path, data, len) != 0) {
		printf("%s: cannot install it in %s: %s\n", name, b->state, strerror(errno));
		pki_trust_list_free(list);
		free(data);
		return -1;
	}
	free(data);
	pki_trust_list_free(*installed);
	*installed = list;
	return 1;
}

static bool lists_name(const struct boot *b, enum pki_tl_role role)
{
	const struct pki_trust_list *lists[] = {b->ctl, b->itl};
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < pki_trust_list_count(lists[l]); i++) {
			enum pki_tl_role r;
			const X509 *cert;
			pki_trust_list_entry(lists[l], i, &r, &cert);
			if (r == role ||
			    (r == PKI_TL_CCM_TFTP && (role == PKI_TL_CCM || role == PKI_TL_TFTP)))
				return true;
		}
	}
	return false;
}

/* The CCM certificates of the lists as a PEM file: how the phone knows its call manager. */
static int write_ccm_pem(struct boot *b)
{
	const struct pki_trust_list *lists[] = {b->ctl, b->itl};
	if (state_path(b, "ccm.pem", b->ccm_pem, sizeof(b->ccm_pem)) != 0)
		return -1;
	FILE *f = fopen(b->ccm_pem, "w");
	int n = 0;
	if (!f)
		return -1;
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < pki_trust_list_count(lists[l]); i++) {
			enum pki_tl_role r;
			const X509 *cert;
			pki_trust_list_entry(lists[l], i, &r, &cert);
			if ((r == PKI_TL_CCM || r == PKI_TL_CCM_TFTP) &&
			    PEM_write_X509(f, (X509 *)cert) == 1)
				n++;
		}
	}
	return fclose(f) == 0 && n > 0 ? 0 : -1;
}

/* ---- step 2: the configuration ---- */

static int fetch_checked(struct boot *b, const char *name, bool encrypted, unsigned char **out,
                         size_t *len, struct base_err *err)
{
	const struct pki_trust_list *lists[2];
	size_t n = 0;
	unsigned char *data = NULL;
	size_t data_len = 0;
	if (b->ctl)
		lists[n++] = b->ctl;
	if (b->itl)
		lists[n++] = b->itl;
	if (phone_fetch(&b->src, name, &data, &data_len, err) != 0)
		return -1;
	int rc;
	if (encrypted) {
		rc = pki_enc_sgn_open(data, data_len, name, lists, n, b->key, out, len, err);
	} else {
		const unsigned char *payload;
		size_t payload_len;
		rc = pki_sgn_verify(data, data_len, name, lists, n, &payload, &payload_len, err);
		if (rc == 0 && (*out = malloc(payload_len + 1))) {
			memcpy(*out, payload, payload_len);
			(*out)[payload_len] = '\0';
			*len = payload_len;
		} else if (rc == 0) {
			rc = base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		}
	}
	free(data);
	return rc;
}

/* The full configuration, decrypted if it is encrypted; -1 with the reason printed. */
static int config_step(struct boot *b, struct phone_cnf *cnf)
{
	struct base_err err = {0};
	char name[128];
	unsigned char *xml = NULL;
	size_t len = 0;
	bool signed_files = lists_name(b, PKI_TL_TFTP);
	if (b->symmetric_key.len) {
		/* A phone holding a symmetric key always asks for the encrypted file. */
		const struct pki_trust_list *lists[2];
		size_t n = 0;
		if (b->ctl)
			lists[n++] = b->ctl;
		if (b->itl)
			lists[n++] = b->itl;
		return phone_manual_config(&b->src, b->device, lists, signed_files ? n : 0,
		                           &b->symmetric_key, cnf);
	}
	snprintf(name, sizeof(name), signed_files ? "%s.cnf.xml.sgn" : "%s.cnf.xml", b->device);
	int rc = signed_files ? fetch_checked(b, name, false, &xml, &len, &err)
	                      : phone_fetch(&b->src, name, &xml, &len, &err);
	if (rc != 0) {
		printf("%s %s: %s\n", name, err.code == BASE_E_BAD_REQUEST ? "rejected" : "failed",
		       err.message);
		return -1;
	}
	printf("%s: %zu bytes%s\n", name, len, signed_files ? ", signature verified" : "");
	if (phone_cnf_parse(xml, len, cnf, &err) != 0) {
		printf("%s: %s\n", name, err.message);
		free(xml);
		return -1;
	}
	free(xml);
	if (!cnf->encr_config)
		return 0;
	char own[33] = "";
	if (b->cert)
		pki_cert_hash(b->cert, own, NULL);
	if (!b->cert || strcasecmp(own, cnf->cert_hash) != 0) {
		printf("%s: the configuration is encrypted for certificate %s, not this phone's "
		       "(%s): it needs a certificate from CAPF\n",
		       name, cnf->cert_hash[0] ? cnf->cert_hash : "(none)",
		       own[0] ? own : "no --cert");
		return -1;
	}
	snprintf(name, sizeof(name), "%s.cnf.xml.enc.sgn", b->device);
	if (fetch_checked(b, name, true, &xml, &len, &err) != 0) {
		if (err.code == BASE_E_NOT_FOUND) {
			printf("%s: not on the server; using the signed configuration\n", name);
			return 0;
		}
		printf("%s rejected: %s\n", name, err.message);
		return -1;
	}
	printf("%s: %zu bytes, signature verified, decrypted with the phone key\n", name, len);
	phone_cnf_forget(cnf);
	rc = phone_cnf_parse(xml, len, cnf, &err);
	OPENSSL_cleanse(xml, len);
	free(xml);
	if (rc != 0)
		printf("%s: %s\n", name, err.message);
	return rc;
}

/* ---- step 3: registration ---- */

static int register_opts(struct boot *b, const struct phone_cnf *cnf, struct phone_opts *o)
{
	bool tls = cnf->security_mode >= 2 || cnf->transport == 3;
	*o = (struct phone_opts){.cmd = PHONE_REGISTER,
	                         .expires = 3600,
	                         .local = "127.0.0.1:0",
	                         .timeout = b->timeout,
	                         .verbose = b->verbose,
	                         .stay = b->stay};
	if (!cnf->full_config || !cnf->line[0] || !cnf->call_manager[0]) {
		printf("the configuration names no call manager or line to register\n");
		return -1;
	}
	o->transport = tls ? SIP_TP_TLS : cnf->transport == 1 ? SIP_TP_TCP : SIP_TP_UDP;
	snprintf(o->server, sizeof(o->server), strchr(cnf->call_manager, ':') ? "[%s]:%u" : "%s:%u",
	         cnf->call_manager, tls ? cnf->secure_sip_port : cnf->sip_port);
	base_strlcpy(o->server_host, cnf->call_manager, sizeof(o->server_host));
	o->server_port = (uint16_t)(tls ? cnf->secure_sip_port : cnf->sip_port);
	base_strlcpy(o->line, cnf->line, sizeof(o->line));
	if (cnf->auth_name[0] && cnf->auth_password[0]) {
		base_strlcpy(o->user, cnf->auth_name, sizeof(o->user));
		base_strlcpy(o->password, cnf->auth_password, sizeof(o->password));
	}
	if (tls) {
		if (!b->cert) {
			printf("security mode %d needs the phone's certificate (--cert, --key)\n",
			       cnf->security_mode);
			return -1;
		}
		if (write_ccm_pem(b) != 0) {
			printf("no trust list names a call manager (CCM) to check SIP-TLS with\n");
			return -1;
		}
		o->cert = b->cert_path;
		o->key = b->key_path;
		o->ca = b->ccm_pem;
		o->ca_is_leaf = true;
	}
	printf("configuration: line %s, call manager %s over %s, security mode %d%s\n", o->line,
	       o->server, sip_transport_name(o->transport), cnf->security_mode,
	       o->user[0] ? ", digest credentials" : "");
	return 0;
}

static int load_identity(struct boot *b)
{
	struct base_err err = {0};
	if (!b->cert_path)
		return 0;
	FILE *f = fopen(b->cert_path, "r");
	b->cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(b->key_path, "r");
	b->key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	ERR_clear_error();
	if (!b->cert || !b->key || EVP_PKEY_eq(X509_get0_pubkey(b->cert), b->key) != 1) {
		base_err_set(&err, BASE_E_INVALID, NULL,
		             "%s and %s are not a certificate and its key", b->cert_path,
		             b->key_path);
		fprintf(stderr, "ucm-phone: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int boot_once(struct boot *b)
{
	struct phone_cnf cnf;
	struct phone_opts o;
	if (trust_list_step(b, "CTLFile.tlv", &b->ctl) < 0 ||
	    trust_list_step(b, "ITLFile.tlv", &b->itl) < 0 || config_step(b, &cnf) != 0)
		return 1;
	int rc = register_opts(b, &cnf, &o);
	phone_cnf_forget(&cnf);
	if (rc != 0)
		return 1;
	rc = phone_ua_run(&o);
	phone_args_forget(&o);
	return rc;
}

int phone_boot_main(int argc, char **argv)
{
	struct boot b = {0};
	struct base_err err = {0};
	if (boot_args(argc, argv, &b, &err) != 0) {
		fprintf(stderr, "ucm-phone: %s\n(ucm-phone --help for usage)\n", err.message);
		return 2;
	}
	base_log_set_level(b.verbose ? BASE_LOG_DEBUG : BASE_LOG_WARN);
	if (mkdir(b.state, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "ucm-phone: cannot create %s: %s\n", b.state, strerror(errno));
		return 2;
	}
	if (load_identity(&b) != 0)
		return 2;
	int rc;
	while ((rc = boot_once(&b)) == PHONE_EXIT_RESYNC)
		printf("resync requested: fetching the trust lists and configuration again\n");
	pki_trust_list_free(b.ctl);
	pki_trust_list_free(b.itl);
	X509_free(b.cert);
	EVP_PKEY_free(b.key);
	OPENSSL_cleanse(&b.symmetric_key, sizeof(b.symmetric_key));
	return rc;
}
