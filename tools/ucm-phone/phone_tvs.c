/*
 * `ucm-phone tvs-query`: ask a TVS server (tvs.md) whether a certificate is trusted and for
 * which roles, as a phone does for a certificate its trust list does not name. With --raw the
 * file is sent as it is instead of a request, to see how the server takes malformed input.
 */
#include "net/net.h"
#include "phone.h"
#include "pki/pki.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tvs_query {
	const char *server, *ca, *cert_file, *raw_file;
	const char *device;
	double timeout;
};

void phone_tvs_usage(FILE *out)
{
	fprintf(out, "       ucm-phone tvs-query --server HOST:PORT --ca CA.crt\n"
	             "                (--cert-file CERT.pem [--device CP-8865-SEP<MAC>] |\n"
	             "                 --raw FILE) [--timeout S]\n"
	             "  tvs-query  ask the TVS server about a certificate; print the status,\n"
	             "             roles and TTL it answers\n");
}

static const char *role_name(uint8_t r)
{
	switch (r) {
	case PKI_TL_SAST:
		return "SAST";
	case PKI_TL_CCM:
		return "CCM";
	case PKI_TL_CCM_TFTP:
		return "CCM+TFTP";
	case PKI_TL_TFTP:
		return "TFTP";
	case PKI_TL_CAPF:
		return "CAPF";
	case PKI_TL_APP_SERVER:
		return "APP-SERVER";
	case PKI_TL_TVS:
		return "TVS";
	default:
		return "?";
	}
}

static int query_args(int argc, char **argv, struct tvs_query *q, struct base_err *err)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"ca", required_argument, NULL, 'a'},
	    {"cert-file", required_argument, NULL, 'c'},
	    {"raw", required_argument, NULL, 'r'},
	    {"device", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	int id;
	*q = (struct tvs_query){.device = "CP-0000-SEP000000000000", .timeout = 10};
	optind = 2;
	opterr = 0;
	while ((id = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (id) {
		case 's':
			q->server = optarg;
			break;
		case 'a':
			q->ca = optarg;
			break;
		case 'c':
			q->cert_file = optarg;
			break;
		case 'r':
			q->raw_file = optarg;
			break;
		case 'd':
			q->device = optarg;
			break;
		case 't':
			q->timeout = atof(optarg);
			break;
		default:
			return base_err_set(err, BASE_E_INVALID, NULL,
			                    "unknown option or missing value: %s",
			                    argv[optind - 1]);
		}
	}
	if (!q->server || !q->ca || !q->cert_file == !q->raw_file || q->timeout <= 0 ||
	    strlen(q->device) >= sizeof(((struct pki_tvs_msg *)0)->device_name))
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "tvs-query needs --server, --ca and one of --cert-file, --raw");
	return 0;
}

/* The bytes to send: a VERIFY_REQUEST for the certificate, or the raw file. */
static int request_bytes(const struct tvs_query *q, unsigned char **out, size_t *len,
                         struct base_err *err)
{
	FILE *f = fopen(q->raw_file ? q->raw_file : q->cert_file, "rb");
	if (!f)
		return base_err_set(err, BASE_E_INVALID, NULL, "cannot read %s: %s",
		                    q->raw_file ? q->raw_file : q->cert_file, strerror(errno));
	if (q->raw_file) {
		unsigned char *buf = malloc(70000);
		size_t n = buf ? fread(buf, 1, 70000, f) : 0;
		fclose(f);
		*out = buf;
		*len = n;
		return buf ? 0 : base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char *der = NULL;
	int der_len = cert ? i2d_X509(cert, &der) : -1;
	X509_free(cert);
	if (der_len <= 0) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_INVALID, NULL, "%s is not a PEM certificate",
		                    q->cert_file);
	}
	struct pki_tvs_msg msg = {.command = PKI_TVS_VERIFY_REQUEST,
	                          .session = 1,
	                          .cert = der,
	                          .cert_len = (size_t)der_len};
	base_strlcpy(msg.device_name, q->device, sizeof(msg.device_name));
	int rc = pki_tvs_encode(&msg, out, len, err);
	OPENSSL_free(der);
	return rc;
}

static SSL *tls_connect(const struct tvs_query *q, SSL_CTX *ctx, struct base_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (net_addr_parse(q->server, &ss, &sl, err) != 0)
		return NULL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {(time_t)q->timeout, 0};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot connect to %s: %s", q->server,
		             strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char host[64];
	net_addr_format_host((struct sockaddr *)&ss, host, sizeof(host));
	SSL *ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || net_tls_set_peer_name(ssl, host, err) != 0 ||
	    SSL_connect(ssl) != 1) {
		if (!err->message[0])
			base_err_set(err, BASE_E_INTERNAL, NULL, "TLS with %s failed: %s",
			             q->server, ERR_reason_error_string(ERR_get_error()));
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

/* Reads one response; 1 decoded, 0 the server closed without a (complete) answer. */
static int read_response(SSL *ssl, struct pki_tvs_msg *resp, unsigned char *buf, size_t size,
                         struct base_err *err)
{
	size_t have = 0;
	for (;;) {
		long used = pki_tvs_decode(buf, have, resp, err);
		if (used > 0)
			return 1;
		if (used < 0)
			return -1;
		int n = have < size ? SSL_read(ssl, buf + have, (int)(size - have)) : 0;
		if (n <= 0)
			return 0;
		have += (size_t)n;
	}
}

int phone_tvs_query(int argc, char **argv)
{
	struct tvs_query q;
	struct base_err err = {0};
	if (query_args(argc, argv, &q, &err) != 0) {
		fprintf(stderr, "ucm-phone: %s\n", err.message);
		return 2;
	}
	unsigned char *req = NULL, buf[1024];
	size_t req_len = 0;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int rc = 1;
	struct pki_tvs_msg resp;
	if (request_bytes(&q, &req, &req_len, &err) != 0 ||
	    !(ctx = net_tls_client_ctx_new(q.ca, NULL, NULL, &err)) ||
	    !(ssl = tls_connect(&q, ctx, &err))) {
		printf("%s\n", err.message);
		goto done;
	}
	if (SSL_write(ssl, req, (int)req_len) != (int)req_len) {
		printf("cannot send the request\n");
		goto done;
	}
	int got = read_response(ssl, &resp, buf, sizeof(buf), &err);
	if (got <= 0) {
		printf("no answer: %s\n",
		       got < 0 ? err.message : "the server closed the connection");
		goto done;
	}
	printf("session %u: status %d (%s)", resp.session, resp.status,
	       resp.status == 0 ? "trusted" : "not trusted");
	for (size_t i = 0; i < resp.nroles; i++)
		printf("%s%s", i ? "," : ", roles ", role_name(resp.roles[i]));
	if (resp.status == 0)
		printf(", ttl %u", resp.ttl);
	printf("\n");
	rc = 0;
done:
	if (ssl) {
		int fd = SSL_get_fd(ssl);
		SSL_free(ssl);
		close(fd);
	}
	SSL_CTX_free(ctx);
	free(req);
	return rc;
}
