/*
 * ucm-phone: a phone simulator and diagnostics tool. It grows with the server: later issues
 * teach it to fetch configuration, enroll and register. Today it checks that a TLS service of
 * ucmd is reachable and presents a certificate that the system CA vouches for, which is the
 * first thing a secure phone does.
 */
#include "net/net.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(void)
{
	printf("usage: ucm-phone tls-check HOST:PORT --ca CA.crt\n\n"
	       "  tls-check   connect over TLS, verify the server certificate against the CA\n"
	       "              and its name against HOST, and print what was negotiated\n\n"
	       "Exit status: 0 verified, 1 connection or verification failed, 2 usage error.\n");
}

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

static int tls_check(const char *addr_port, const char *ca)
{
	struct base_err err = {0};
	char host[256];
	base_strlcpy(host, addr_port, sizeof(host));
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	char *h = host;
	if (*h == '[') {
		h++;
		h[strlen(h) - 1] = '\0';
	}
	SSL_CTX *ctx = net_tls_client_ctx_new(ca, NULL, NULL, &err);
	int fd = ctx ? connect_to(addr_port, &err) : -1;
	SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
	int rc = 1;
	if (ssl && net_tls_set_peer_name(ssl, h, &err) == 0 && SSL_set_fd(ssl, fd) == 1) {
		if (SSL_connect(ssl) == 1) {
			X509 *cert = SSL_get1_peer_certificate(ssl);
			char subject[256] = "";
			if (cert)
				X509_NAME_oneline(X509_get_subject_name(cert), subject,
				                  sizeof(subject));
			printf("verified %s\nprotocol %s\ncipher %s\nsubject %s\n", addr_port,
			       SSL_get_version(ssl), SSL_get_cipher_name(ssl), subject);
			X509_free(cert);
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

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "tls-check") == 0 && strcmp(argv[3], "--ca") == 0)
		return tls_check(argv[2], argv[4]);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage();
		return 0;
	}
	usage();
	return 2;
}
