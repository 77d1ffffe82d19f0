/*
 * tls-check: connect to a TLS service of ucmd, verify its certificate against the system
 * CA and its name against the address, and print what was negotiated: the first thing a
 * secure phone does, and a quick diagnosis of a certificate problem.
 */
#include "net/net.h"
#include "phone.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(const char *addr_port, struct base_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_addr_parse(addr_port, &ss, &len, err) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
		if (fd >= 0)
			close(fd);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot connect to %s", addr_port);
	}
	return fd;
}

/* HOST of HOST:PORT, without the brackets of an IPv6 address. */
static void host_of(const char *addr_port, char *host, size_t size)
{
	base_strlcpy(host, addr_port[0] == '[' ? addr_port + 1 : addr_port, size);
	char *end = strrchr(host, addr_port[0] == '[' ? ']' : ':');
	if (end)
		*end = '\0';
}

static void print_session(const char *addr_port, SSL *ssl)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	char subject[256] = "";
	if (cert)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	printf("verified %s\nprotocol %s\ncipher %s\nsubject %s\n", addr_port, SSL_get_version(ssl),
	       SSL_get_cipher_name(ssl), subject);
	X509_free(cert);
}

int phone_tls_check(const char *addr_port, const char *ca)
{
	struct base_err err = {0};
	char host[256];
	host_of(addr_port, host, sizeof(host));
	SSL_CTX *ctx = net_tls_client_ctx_new(ca, NULL, NULL, &err);
	int fd = ctx ? connect_to(addr_port, &err) : -1;
	SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
	int rc = 1;
	if (ssl && net_tls_set_peer_name(ssl, host, &err) == 0 && SSL_set_fd(ssl, fd) == 1) {
		if (SSL_connect(ssl) == 1) {
			print_session(addr_port, ssl);
			rc = 0;
		} else {
			long v = SSL_get_verify_result(ssl);
			base_err_set(&err, BASE_E_INTERNAL, NULL,
			             "TLS handshake with %s failed: %s", addr_port,
			             v != X509_V_OK ? X509_verify_cert_error_string(v)
			                            : ERR_reason_error_string(ERR_peek_error()));
		}
	}
	if (rc != 0)
		fprintf(stderr, "ucm-phone: %s\n", err.message[0] ? err.message : "TLS failed");
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return rc;
}
