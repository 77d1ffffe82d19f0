/*
 * The phone side of CAPF (specs/capf.md §5, §6): answer the server's requests the way a
 * Cisco phone does. Each message is written with one SSL_write, as phones do; reads loop
 * until the whole message is there.
 */
#include "net/net.h"
#include "phone_enroll.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct capf_client {
	const struct phone_enroll_opts *o;
	SSL *ssl;
	uint32_t session_id;
	EVP_PKEY *new_key;
	bool done;          /* an operation completed on this side */
	unsigned char *buf; /* PKI_CAPF_MAX_MSG bytes, for reading and writing */
};

static const char *reason_name(unsigned reason)
{
	switch (reason) {
	case PKI_CAPF_R_NO_ACTION:
		return "no action";
	case PKI_CAPF_R_UPDATE_CERTIFICATE:
		return "completed";
	case PKI_CAPF_R_INVALID_ELEMENT:
		return "refused";
	case PKI_CAPF_R_UNKNOWN_DEVICE:
		return "unknown device";
	}
	return "unknown reason";
}

static int connect_tls(struct capf_client *cc, SSL_CTX *ctx, struct base_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_addr_parse(cc->o->server, &ss, &len, err) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {(time_t)cc->o->timeout,
	                     (suseconds_t)((cc->o->timeout - (time_t)cc->o->timeout) * 1e6)};
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot connect to %s: %s",
		                    cc->o->server, strerror(e));
	}
	char host[NET_ADDR_STRLEN];
	net_addr_format_host((struct sockaddr *)&ss, host, sizeof(host));
	cc->ssl = SSL_new(ctx);
	if (!cc->ssl || net_tls_set_peer_name(cc->ssl, host, err) != 0 ||
	    SSL_set_fd(cc->ssl, fd) != 1 || SSL_connect(cc->ssl) != 1) {
		unsigned long e = ERR_get_error();
		close(fd);
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL, "TLS with %s failed: %s",
		                    cc->o->server, e ? ERR_reason_error_string(e) : "closed");
	}
	return 0;
}

static int read_exact(SSL *ssl, unsigned char *p, size_t n, struct base_err *err)
{
	while (n > 0) {
		int r = SSL_read(ssl, p, n > 16384 ? 16384 : (int)n);
		if (r <= 0)
			return base_err_set(err, BASE_E_INTERNAL, NULL,
			                    "the server closed the connection or timed out");
		p += r, n -= (size_t)r;
	}
	return 0;
}

static int receive(struct capf_client *cc, struct pki_capf_msg *msg, struct base_err *err)
{
	size_t total;
	if (read_exact(cc->ssl, cc->buf, PKI_CAPF_HEADER_LEN, err) != 0 ||
	    pki_capf_frame(cc->buf, PKI_CAPF_HEADER_LEN, &total, err) != 0 ||
	    read_exact(cc->ssl, cc->buf + PKI_CAPF_HEADER_LEN, total - PKI_CAPF_HEADER_LEN, err) !=
	        0 ||
	    pki_capf_decode(cc->buf, total, msg, err) != 0)
		return -1;
	if (cc->o->verbose)
		fprintf(stderr, "< %s (%zu bytes)\n", pki_capf_command_name(msg->command), total);
	return 0;
}

static int send_msg(struct capf_client *cc, struct pki_capf_writer *w, struct base_err *err)
{
	long n = pki_capf_end(w, err);
	if (n < 0)
		return -1;
	if (cc->o->verbose)
		fprintf(stderr, "> %s (%ld bytes)\n", pki_capf_command_name(w->buf[1]), n);
	if (SSL_write(cc->ssl, w->buf, (int)n) != (int)n)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot send to the server");
	return 0;
}

static int load_pem(const char *cert_path, const char *key_path, X509 **cert, EVP_PKEY **key,
                    struct base_err *err)
{
	FILE *f = fopen(cert_path, "r");
	*cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = key && key_path ? fopen(key_path, "r") : NULL;
	if (key)
		*key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!*cert || (key && !*key)) {
		X509_free(*cert);
		if (key)
			EVP_PKEY_free(*key);
		return base_err_set(err, BASE_E_INVALID, NULL, "cannot read %s%s%s", cert_path,
		                    key ? " and " : "", key ? key_path : "");
	}
	return 0;
}

/* CERTIFICATE + SIGNED_DATA (SHA-1) + SHA2_SIGNED_DATA (SHA-512) over AUTH_DATA. */
static int put_proof(struct capf_client *cc, struct pki_capf_writer *w, struct base_err *err)
{
	X509 *cert;
	EVP_PKEY *key;
	if (load_pem(cc->o->auth_cert, cc->o->auth_key, &cert, &key, err) != 0)
		return -1;
	unsigned char *der = NULL, *data = NULL, *sig1 = NULL, *sig2 = NULL;
	size_t data_len = 0, sig1_len, sig2_len;
	int der_len = i2d_X509(cert, &der);
	int rc = der_len > 0 &&
	                 (data = pki_capf_auth_data(cc->o->device, der, (size_t)der_len, &data_len))
	             ? 0
	             : base_err_set(err, BASE_E_INTERNAL, NULL, "cannot encode the certificate");
	if (rc == 0)
		rc = pki_capf_sign(key, PKI_CAPF_HASH_SHA1, data, data_len, &sig1, &sig1_len, err);
	if (rc == 0)
		rc =
		    pki_capf_sign(key, PKI_CAPF_HASH_SHA512, data, data_len, &sig2, &sig2_len, err);
	if (rc == 0) {
		pki_capf_put_cert(w, der, (size_t)der_len);
		pki_capf_put(w, PKI_CAPF_T_SIGNED_DATA, sig1, sig1_len);
		pki_capf_put_sha2_sig(w, PKI_CAPF_HASH_SHA512, sig2, sig2_len);
	}
	free(sig1);
	free(sig2);
	free(data);
	OPENSSL_free(der);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static int send_auth(struct capf_client *cc, struct base_err *err)
{
	const struct phone_enroll_opts *o = cc->o;
	struct pki_capf_writer w;
	pki_capf_begin(&w, cc->buf, PKI_CAPF_MAX_MSG, PKI_CAPF_AUTH_RESPONSE, cc->session_id);
	pki_capf_put_u8(&w, PKI_CAPF_T_REASON, PKI_CAPF_R_UPDATE_CERTIFICATE);
	if ((o->auth == PHONE_AUTH_LSC || o->auth == PHONE_AUTH_MIC) && put_proof(cc, &w, err) != 0)
		return -1;
	pki_capf_put_u8(&w, PKI_CAPF_T_VERSION, o->jabber ? 2 : PKI_CAPF_VERSION);
	if (o->auth == PHONE_AUTH_STRING)
		pki_capf_put_text(&w, PKI_CAPF_T_PASSWORD, o->auth_string);
	else if (!o->jabber)
		pki_capf_put_text(&w, PKI_CAPF_T_PASSWORD, "");
	pki_capf_put_text(&w, PKI_CAPF_T_DEVICE_NAME, o->device);
	int rc = send_msg(cc, &w, err);
	OPENSSL_cleanse(cc->buf, w.len);
	return rc;
}

/* KEY_GENERATE_REQUEST: RSA unless KEY_TYPE says EC; CUCM sends Jabber KEY_SIZE alone. */
static int answer_key(struct capf_client *cc, const struct pki_capf_msg *msg, struct base_err *err)
{
	unsigned type = PKI_CAPF_KEY_RSA, bits = 2048, curve = PKI_CAPF_CURVE_P256;
	if (pki_capf_get_u8(msg, PKI_CAPF_T_KEY_TYPE, &type, err) < 0 ||
	    pki_capf_get_u16(msg, PKI_CAPF_T_KEY_SIZE, &bits, err) < 0 ||
	    pki_capf_get_u8(msg, PKI_CAPF_T_CURVE, &curve, err) < 0)
		return -1;
	struct pki_capf_key_spec spec = {.type = type == PKI_CAPF_KEY_EC ? PKI_CAPF_KEY_EC
	                                                                 : PKI_CAPF_KEY_RSA,
	                                 .rsa_bits = bits,
	                                 .curve = (enum pki_capf_curve)curve};
	if (cc->o->key_forced)
		spec = cc->o->key;
	char name[32];
	pki_capf_key_spec_name(&spec, name, sizeof(name));
	printf("generating %s key\n", name);
	struct pki_capf_writer w;
	if (!cc->o->jabber) {
		pki_capf_begin(&w, cc->buf, PKI_CAPF_MAX_MSG, PKI_CAPF_REQUEST_IN_PROGRESS,
		               cc->session_id);
		if (send_msg(cc, &w, err) != 0)
			return -1;
	}
	EVP_PKEY_free(cc->new_key);
	cc->new_key = NULL;
	if (cc->o->key_in) {
		FILE *f = fopen(cc->o->key_in, "r");
		cc->new_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		if (!cc->new_key)
			return base_err_set(err, BASE_E_INVALID, "--key-file", "cannot read %s",
			                    cc->o->key_in);
	} else if (!(cc->new_key = pki_capf_keygen(&spec, err))) {
		return -1;
	}
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(cc->new_key, &der);
	if (len <= 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot encode the public key");
	pki_capf_begin(&w, cc->buf, PKI_CAPF_MAX_MSG, PKI_CAPF_KEY_GENERATE_RESPONSE,
	               cc->session_id);
	pki_capf_put(&w, PKI_CAPF_T_PUBLIC_KEY, der, (size_t)len);
	OPENSSL_free(der);
	return send_msg(cc, &w, err);
}

static int write_file(const char *path, int mode, X509 *cert, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	bool ok = f && (cert ? PEM_write_X509(f, cert)
	                     : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) == 1;
	if (f)
		ok = fclose(f) == 0 && ok;
	else if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* The new LSC: it must be for the key this phone just made, then it is kept. */
static int store_cert(struct capf_client *cc, const struct pki_capf_msg *msg, unsigned *reason)
{
	const unsigned char *der;
	size_t len;
	struct base_err err = {0};
	*reason = PKI_CAPF_R_INVALID_ELEMENT;
	if (pki_capf_get_cert(msg, &der, &len, &err) != 1 || !cc->new_key)
		return -1;
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	if (!cert || p != der + len || X509_check_private_key(cert, cc->new_key) != 1 ||
	    write_file(cc->o->key_out, 0600, NULL, cc->new_key) != 0 ||
	    write_file(cc->o->cert_out, 0644, cert, NULL) != 0) {
		X509_free(cert);
		return -1;
	}
	char serial[128] = "";
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex)
		base_strlcpy(serial, hex, sizeof(serial));
	OPENSSL_free(hex);
	BN_free(bn);
	printf("stored certificate serial %s in %s\n", serial, cc->o->cert_out);
	X509_free(cert);
	*reason = PKI_CAPF_R_UPDATE_CERTIFICATE;
	cc->done = true;
	return 0;
}

/* FETCH (troubleshoot): the current certificate; DELETE: forget it. */
static void fill_fetch(struct capf_client *cc, struct pki_capf_writer *w)
{
	X509 *cert;
	struct base_err err = {0};
	unsigned char *der = NULL;
	int len;
	if (load_pem(cc->o->cert_out, NULL, &cert, NULL, &err) != 0 ||
	    (len = i2d_X509(cert, &der)) <= 0) {
		pki_capf_put_u8(w, PKI_CAPF_T_REASON, PKI_CAPF_R_INVALID_ELEMENT);
		return;
	}
	pki_capf_put_u8(w, PKI_CAPF_T_REASON, PKI_CAPF_R_UPDATE_CERTIFICATE);
	pki_capf_put_cert(w, der, (size_t)len);
	OPENSSL_free(der);
	X509_free(cert);
	printf("sent certificate %s\n", cc->o->cert_out);
	cc->done = true;
}

static unsigned delete_cert(struct capf_client *cc)
{
	bool had = unlink(cc->o->cert_out) == 0;
	unlink(cc->o->key_out);
	if (had) {
		printf("deleted %s\n", cc->o->cert_out);
		cc->done = true;
	}
	return had ? PKI_CAPF_R_UPDATE_CERTIFICATE : PKI_CAPF_R_INVALID_ELEMENT;
}

/* Answers one server request; 1 when the session ended (END_SESSION), with *reason. */
static int answer(struct capf_client *cc, const struct pki_capf_msg *msg, unsigned *end_reason,
                  struct base_err *err)
{
	struct pki_capf_writer w;
	unsigned reason;
	switch (msg->command) {
	case PKI_CAPF_END_SESSION:
		*end_reason = PKI_CAPF_R_INVALID_ELEMENT;
		pki_capf_get_u8(msg, PKI_CAPF_T_REASON, end_reason, err);
		return 1;
	case PKI_CAPF_KEY_GENERATE_REQUEST:
		return answer_key(cc, msg, err);
	case PKI_CAPF_STORE_CERTIFICATE_REQUEST:
		store_cert(cc, msg, &reason);
		pki_capf_begin(&w, cc->buf, PKI_CAPF_MAX_MSG, PKI_CAPF_STORE_CERTIFICATE_RESPONSE,
		               cc->session_id);
		pki_capf_put_u8(&w, PKI_CAPF_T_REASON, reason);
		return send_msg(cc, &w, err);
	case PKI_CAPF_FETCH_CERTIFICATE_REQUEST:
		pki_capf_begin(&w, cc->buf, PKI_CAPF_MAX_MSG, PKI_CAPF_FETCH_CERTIFICATE_RESPONSE,
		               cc->session_id);
		fill_fetch(cc, &w);
		return send_msg(cc, &w, err);
	case PKI_CAPF_DELETE_CERTIFICATE_REQUEST:
		reason = delete_cert(cc);
		pki_capf_begin(&w, cc->buf, PKI_CAPF_MAX_MSG, PKI_CAPF_DELETE_CERTIFICATE_RESPONSE,
		               cc->session_id);
		pki_capf_put_u8(&w, PKI_CAPF_T_REASON, reason);
		return send_msg(cc, &w, err);
	}
	return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "unexpected %s from the server",
	                    pki_capf_command_name(msg->command));
}

static int run(struct capf_client *cc, struct base_err *err)
{
	struct pki_capf_msg msg;
	if (receive(cc, &msg, err) != 0)
		return -1;
	if (msg.command != PKI_CAPF_AUTH_REQUEST)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "the server began with %s",
		                    pki_capf_command_name(msg.command));
	cc->session_id = msg.session_id;
	printf("session %u\n", (unsigned)cc->session_id);
	if (send_auth(cc, err) != 0)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned reason;
		if (receive(cc, &msg, err) != 0 || msg.session_id != cc->session_id)
			return err->message[0] ? -1
			                       : base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                                      "the server changed the session ID");
		int rc = answer(cc, &msg, &reason, err);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			printf("end-session %u %s\n", reason, reason_name(reason));
			return cc->done && reason <= PKI_CAPF_R_UPDATE_CERTIFICATE ? 0 : 1;
		}
	}
	return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "the server never ended the session");
}

int phone_capf_enroll(const struct phone_enroll_opts *o)
{
	struct base_err err = {0};
	struct capf_client cc = {.o = o, .buf = malloc(PKI_CAPF_MAX_MSG)};
	SSL_CTX *ctx = cc.buf ? net_tls_client_ctx_new(o->ca, NULL, NULL, &err) : NULL;
	int rc = ctx && connect_tls(&cc, ctx, &err) == 0 ? run(&cc, &err) : -1;
	if (rc < 0)
		fprintf(stderr, "ucm-phone: %s\n", err.message[0] ? err.message : "out of memory");
	if (cc.ssl) {
		int fd = SSL_get_fd(cc.ssl);
		SSL_shutdown(cc.ssl);
		SSL_free(cc.ssl);
		close(fd);
	}
	SSL_CTX_free(ctx);
	EVP_PKEY_free(cc.new_key);
	free(cc.buf);
	return rc < 0 ? 1 : rc;
}
