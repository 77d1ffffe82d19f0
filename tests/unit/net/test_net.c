/* Unit tests for src/net: address parsing and printing, listeners, TLS contexts. */
/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "net/net.h"

/* ---- addresses --------------------------------------------------------------------------- */

static void expect_parse(const char *in, int family, const char *formatted)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct base_err err = {0};
	char out[NET_ADDR_STRLEN];

	if (net_addr_parse(in, &ss, &len, &err) != 0) {
		fail_msg("\"%s\": %s", in, err.message);
	}
	assert_int_equal(ss.ss_family, family);
	assert_int_equal(len, family == AF_INET ? sizeof(struct sockaddr_in)
	                                        : sizeof(struct sockaddr_in6));
	net_addr_format((struct sockaddr *)&ss, out, sizeof(out));
	assert_string_equal(out, formatted);
}

static void test_addr_parse_good(void **state)
{
	(void)state;
	expect_parse("127.0.0.1:8443", AF_INET, "127.0.0.1:8443");
	expect_parse("0.0.0.0:8443", AF_INET, "0.0.0.0:8443");
	expect_parse("[::1]:8443", AF_INET6, "[::1]:8443");
	expect_parse("[::]:5060", AF_INET6, "[::]:5060");
	expect_parse("*:8443", AF_INET6, "[::]:8443");
	expect_parse(":8443", AF_INET6, "[::]:8443");
	expect_parse("10.1.2.3:0", AF_INET, "10.1.2.3:0");
	expect_parse("10.1.2.3:65535", AF_INET, "10.1.2.3:65535");
	expect_parse("[2001:db8::1]:5061", AF_INET6, "[2001:db8::1]:5061");

	/* A numeric scope prints as the interface's name; index 1 is "lo" on Linux, but only
	 * the shape is checked to stay independent of the machine. */
	struct sockaddr_storage ss;
	socklen_t len;
	struct base_err err = {0};
	char out[NET_ADDR_STRLEN];

	assert_int_equal(net_addr_parse("[fe80::1%1]:5060", &ss, &len, &err), 0);
	net_addr_format((struct sockaddr *)&ss, out, sizeof(out));
	assert_memory_equal(out, "[fe80::1%", 9);
	assert_string_equal(out + strlen(out) - 6, "]:5060");
}

static void expect_bad(const char *in, const char *message)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct base_err err = {0};

	if (net_addr_parse(in, &ss, &len, &err) != -1) {
		fail_msg("\"%s\" parsed", in);
	}
	assert_int_equal(err.code, BASE_E_INVALID);
	if (message) {
		assert_string_equal(err.message, message);
	}
}

static void test_addr_parse_bad(void **state)
{
	(void)state;
	expect_bad("", "listen address \"\" is not host:port");
	expect_bad("8443", "listen address \"8443\" is not host:port");
	expect_bad("127.0.0.1", "listen address \"127.0.0.1\" is not host:port");
	expect_bad("127.0.0.1:", "listen address \"127.0.0.1:\" is not host:port");
	expect_bad("::1:8443", "listen address \"::1:8443\" is not host:port");
	expect_bad("[::1]8443", "listen address \"[::1]8443\" is not host:port");
	expect_bad("[::1", "listen address \"[::1\" is not host:port");
	expect_bad("[]:80", "listen address \"[]:80\" is not host:port");
	expect_bad("127.0.0.1:65536",
	           "listen address \"127.0.0.1:65536\": port must be a number from 0 to 65535");
	expect_bad("127.0.0.1:80x", NULL);
	expect_bad("127.0.0.1:+80", NULL);
	expect_bad("127.0.0.1:-1", NULL);
	expect_bad("127.0.0.1: 80", NULL);
	expect_bad("127.0.0.1:123456", NULL);
	expect_bad("[127.0.0.1]:80", "listen address \"[127.0.0.1]:80\": not an IPv6 address");
	expect_bad("[fe80::1%nosuchif0]:80", NULL);
	expect_bad("localhost:80",
	           "listen address \"localhost:80\": host must be an IP address or *");
	expect_bad("1.2:80", NULL);
	expect_bad("0x7f.0.0.1:80", NULL);
	expect_bad(NULL, "listen address is missing");
}

static void test_addr_format(void **state)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(5060)};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5060)};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	char out[NET_ADDR_STRLEN];
	char tiny[6];

	(void)state;
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	net_addr_format((struct sockaddr *)&sin, out, sizeof(out));
	assert_string_equal(out, "192.0.2.7:5060");
	net_addr_format_host((struct sockaddr *)&sin, out, sizeof(out));
	assert_string_equal(out, "192.0.2.7");
	/* Every octet width, and zeros inside and at the end of one. */
	static const char *const quads[] = {"0.0.0.0", "255.255.255.255", "10.100.109.1",
	                                    "100.200.250.90"};
	for (size_t i = 0; i < sizeof(quads) / sizeof(quads[0]); i++) {
		inet_pton(AF_INET, quads[i], &sin.sin_addr);
		net_addr_format_host((struct sockaddr *)&sin, out, sizeof(out));
		assert_string_equal(out, quads[i]);
	}
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	net_addr_format((struct sockaddr *)&sin6, out, sizeof(out));
	assert_string_equal(out, "[::1]:5060");
	net_addr_format_host((struct sockaddr *)&sin6, out, sizeof(out));
	assert_string_equal(out, "::1");

	/* A dual-stack listener sees IPv4 peers as mapped addresses. */
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr);
	net_addr_format((struct sockaddr *)&sin6, out, sizeof(out));
	assert_string_equal(out, "192.0.2.9:5060");
	net_addr_format_host((struct sockaddr *)&sin6, out, sizeof(out));
	assert_string_equal(out, "192.0.2.9");

	net_addr_format(&sa, out, sizeof(out));
	assert_string_equal(out, "?");
	net_addr_format(NULL, out, sizeof(out));
	assert_string_equal(out, "?");
	net_addr_format((struct sockaddr *)&sin, tiny, sizeof(tiny));
	assert_string_equal(tiny, "192.0");
}

/* ---- listeners --------------------------------------------------------------------------- */

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6) {
		memcpy(&sin6, &ss, sizeof(sin6));
		return ntohs(sin6.sin6_port);
	}
	memcpy(&sin, &ss, sizeof(sin));
	return ntohs(sin.sin_port);
}

static void test_listen_flags(void **state)
{
	struct base_err err = {0};
	int fd = net_listen_tcp("127.0.0.1:0", 16, &err);

	(void)state;
	if (fd < 0) {
		fail_msg("%s", err.message);
	}
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	int one = 0;
	socklen_t len = sizeof(one);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, &len), 0);
	assert_int_equal(one, 1);
	assert_int_not_equal(bound_port(fd), 0);
	close(fd);
}

static void test_listen_taken_port(void **state)
{
	struct base_err err = {0};
	char addr[64];
	char expected[128];
	int fd = net_listen_tcp("127.0.0.1:0", 0, &err);
	int fd2;

	(void)state;
	assert_true(fd >= 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", bound_port(fd));
	fd2 = net_listen_tcp(addr, 0, &err);
	assert_int_equal(fd2, -1);
	snprintf(expected, sizeof(expected), "cannot listen on %s: address already in use", addr);
	assert_string_equal(err.message, expected);
	assert_int_equal(err.code, BASE_E_INTERNAL);
	close(fd);
}

static void test_listen_errors(void **state)
{
	struct base_err err = {0};

	(void)state;
	assert_int_equal(net_listen_tcp("nonsense", 0, &err), -1);
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_string_equal(err.message, "listen address \"nonsense\" is not host:port");
	/* TEST-NET-1 is never assigned to a local interface (unless the machine allows binding
	 * non-local addresses, which is not what this test is about). */
	int fd = net_listen_tcp("192.0.2.1:0", 0, &err);

	if (fd >= 0) {
		close(fd);
		return;
	}
	assert_string_equal(err.message,
	                    "cannot listen on 192.0.2.1:0: cannot assign requested address");
}

static void test_listen_wildcard_dual_stack(void **state)
{
	struct base_err err = {0};
	int fd = net_listen_tcp("*:0", 0, &err);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	(void)state;
	if (fd < 0) {
		fail_msg("%s", err.message);
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6) {
		int v6only = 1;

		len = sizeof(v6only);
		assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
		assert_int_equal(v6only, 0);
	}
	close(fd);

	/* An explicit [::] is IPv6 only, so 0.0.0.0 on the same port can coexist. */
	fd = net_listen_tcp("[::]:0", 0, &err);
	if (fd >= 0) {
		char addr[64];
		int fd4;

		snprintf(addr, sizeof(addr), "0.0.0.0:%u", bound_port(fd));
		fd4 = net_listen_tcp(addr, 0, &err);
		if (fd4 < 0) {
			fail_msg("%s", err.message);
		}
		close(fd4);
		close(fd);
	}
}

/* ---- TLS --------------------------------------------------------------------------------- */

struct tls_files {
	char dir[64];
	char ca[128], server_crt[128], server_key[128], client_crt[128], client_key[128];
	char other_ca[128], other_crt[128], other_key[128];
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* EC keys keep the tests fast; the net layer does not care about the key type. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
	X509 *x = X509_new();

	assert_non_null(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)random() + 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	if (ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign");
	} else {
		add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (cert) {
		assert_int_equal(PEM_write_X509(f, cert), 1);
	} else {
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	}
	fclose(f);
}

static void make_pair(const char *crt_path, const char *key_path, const char *cn, X509 *ca,
                      EVP_PKEY *ca_key)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *cert = make_cert(cn, key, ca, ca_key, false);

	write_pem(crt_path, cert, NULL);
	write_pem(key_path, NULL, key);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static int tls_setup(void **state)
{
	struct tls_files *f = calloc(1, sizeof(*f));
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca, *other;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_net.XXXXXX");
	if (!mkdtemp(f->dir)) {
		return -1;
	}
#define P(field, name) snprintf(f->field, sizeof(f->field), "%s/%s", f->dir, name)
	P(ca, "ca.crt");
	P(server_crt, "server.crt");
	P(server_key, "server.key");
	P(client_crt, "client.crt");
	P(client_key, "client.key");
	P(other_ca, "other-ca.crt");
	P(other_crt, "other.crt");
	P(other_key, "other.key");
#undef P
	ca = make_cert("Test CA", ca_key, NULL, NULL, true);
	other = make_cert("Other CA", other_key, NULL, NULL, true);
	write_pem(f->ca, ca, NULL);
	write_pem(f->other_ca, other, NULL);
	make_pair(f->server_crt, f->server_key, "localhost", ca, ca_key);
	make_pair(f->client_crt, f->client_key, "phone", ca, ca_key);
	make_pair(f->other_crt, f->other_key, "stranger", other, other_key);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	*state = f;
	return 0;
}

static int tls_teardown(void **state)
{
	struct tls_files *f = *state;
	const char *files[] = {f->ca,         f->server_crt, f->server_key, f->client_crt,
	                       f->client_key, f->other_ca,   f->other_crt,  f->other_key};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unlink(files[i]);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

struct conn {
	SSL *server;
	SSL *client;
	int fds[2];
	unsigned long server_error;
};

/* Drives both ends of a socketpair in one thread until both finish or one fails. */
static int handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *peer_name, struct conn *c)
{
	struct base_err err = {0};
	bool sdone = false, cdone = false;

	memset(c, 0, sizeof(*c));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->fds), 0);
	c->server = SSL_new(sctx);
	c->client = SSL_new(cctx);
	SSL_set_fd(c->server, c->fds[0]);
	SSL_set_fd(c->client, c->fds[1]);
	SSL_set_accept_state(c->server);
	SSL_set_connect_state(c->client);
	assert_int_equal(net_tls_set_peer_name(c->client, peer_name, &err), 0);
	ERR_clear_error();
	for (int i = 0; i < 100 && !(sdone && cdone); i++) {
		if (!cdone) {
			int r = SSL_do_handshake(c->client);
			int e = SSL_get_error(c->client, r);

			if (r == 1) {
				cdone = true;
			} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				return -1;
			}
		}
		if (!sdone) {
			int r = SSL_do_handshake(c->server);
			int e = SSL_get_error(c->server, r);

			if (r == 1) {
				sdone = true;
			} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				c->server_error = ERR_peek_last_error();
				return -1;
			}
		}
	}
	return sdone && cdone ? 0 : -1;
}

static void conn_close(struct conn *c)
{
	SSL_free(c->server);
	SSL_free(c->client);
	close(c->fds[0]);
	close(c->fds[1]);
	ERR_clear_error();
}

static SSL_CTX *server_ctx(const struct tls_files *f, bool with_ca)
{
	struct base_err err = {0};
	SSL_CTX *ctx =
	    net_tls_server_ctx_new(f->server_crt, f->server_key, with_ca ? f->ca : NULL, &err);

	if (!ctx) {
		fail_msg("%s", err.message);
	}
	return ctx;
}

static SSL_CTX *client_ctx(const char *ca, const char *crt, const char *key)
{
	struct base_err err = {0};
	SSL_CTX *ctx = net_tls_client_ctx_new(ca, crt, key, &err);

	if (!ctx) {
		fail_msg("%s", err.message);
	}
	return ctx;
}

static void test_tls_handshake(void **state)
{
	struct tls_files *f = *state;
	SSL_CTX *sctx = server_ctx(f, false);
	SSL_CTX *cctx = client_ctx(f->ca, NULL, NULL);
	struct conn c;

	assert_int_equal(handshake(sctx, cctx, "localhost", &c), 0);
	assert_true(SSL_version(c.client) >= TLS1_2_VERSION);
	assert_int_equal(SSL_get_verify_result(c.client), X509_V_OK);
	conn_close(&c);

	/* The certificate's IP entry is checked when the peer is named by address. */
	assert_int_equal(handshake(sctx, cctx, "127.0.0.1", &c), 0);
	conn_close(&c);
	assert_int_equal(handshake(sctx, cctx, "wronghost", &c), -1);
	conn_close(&c);

	/* TLS 1.2 gets an ECDHE AEAD suite. */
	SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
	assert_int_equal(handshake(sctx, cctx, "localhost", &c), 0);
	assert_int_equal(SSL_version(c.client), TLS1_2_VERSION);
	const char *cipher = SSL_get_cipher_name(c.client);

	assert_non_null(strstr(cipher, "ECDHE"));
	assert_true(strstr(cipher, "GCM") || strstr(cipher, "CHACHA20"));
	conn_close(&c);

	/* A TLS 1.2 client offering only CBC suites is refused. */
	SSL_CTX_set_cipher_list(cctx, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0");
	assert_int_equal(handshake(sctx, cctx, "localhost", &c), -1);
	conn_close(&c);

	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_tls_old_client_refused(void **state)
{
	struct tls_files *f = *state;
	SSL_CTX *sctx = server_ctx(f, false);
	SSL_CTX *cctx = client_ctx(f->ca, NULL, NULL);
	struct conn c;

	/* Lower the client's own floor so it really offers TLS 1.1 and the refusal we see is
	 * the server's. */
	SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION);
	SSL_CTX_set_cipher_list(cctx, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0");
	assert_int_equal(handshake(sctx, cctx, "localhost", &c), -1);
	assert_int_equal(ERR_GET_REASON(c.server_error), SSL_R_UNSUPPORTED_PROTOCOL);
	conn_close(&c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_tls_client_certificates(void **state)
{
	struct tls_files *f = *state;
	SSL_CTX *sctx = server_ctx(f, true);
	SSL_CTX *anon = client_ctx(f->ca, NULL, NULL);
	SSL_CTX *phone = client_ctx(f->ca, f->client_crt, f->client_key);
	SSL_CTX *stranger = client_ctx(f->ca, f->other_crt, f->other_key);
	struct conn c;

	/* Requested, not required. */
	assert_int_equal(handshake(sctx, anon, "localhost", &c), 0);
	assert_null(SSL_get0_peer_certificate(c.server));
	conn_close(&c);

	assert_int_equal(handshake(sctx, phone, "localhost", &c), 0);
	assert_non_null(SSL_get0_peer_certificate(c.server));
	assert_int_equal(SSL_get_verify_result(c.server), X509_V_OK);
	conn_close(&c);

	/* A certificate from another CA is not just ignored: the handshake fails. */
	assert_int_equal(handshake(sctx, stranger, "localhost", &c), -1);
	conn_close(&c);

	SSL_CTX_free(stranger);
	SSL_CTX_free(phone);
	SSL_CTX_free(anon);
	SSL_CTX_free(sctx);
}

static void test_tls_ctx_errors(void **state)
{
	struct tls_files *f = *state;
	struct base_err err = {0};
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/missing.crt", f->dir);
	assert_null(net_tls_server_ctx_new(missing, f->server_key, NULL, &err));
	assert_int_equal(err.code, BASE_E_INTERNAL);
	assert_non_null(strstr(err.message, "cannot load certificate"));
	assert_non_null(strstr(err.message, "No such file or directory"));

	assert_null(net_tls_server_ctx_new(f->server_crt, f->client_key, NULL, &err));
	assert_non_null(strstr(err.message, "does not match"));

	assert_null(net_tls_server_ctx_new(f->server_crt, f->server_key, missing, &err));
	assert_non_null(strstr(err.message, "cannot load CA certificates"));

	assert_null(net_tls_client_ctx_new(f->ca, f->client_crt, NULL, &err));
	assert_int_equal(err.code, BASE_E_INVALID);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- NULL-SHA for the Authenticated mode ---- */

static bool null_sha_on;

static bool null_sha_policy(void *arg)
{
	return *(const bool *)arg;
}

static const struct net_tls_null_sha null_policy = {null_sha_policy, &null_sha_on};

/* The files of the NULL-SHA test: its own CA (tls_setup does not keep the CA key), an RSA
 * server (NULL-SHA's key exchange needs one), a phone, and a phone the CA signed with SHA-1,
 * which the context's security level refuses. */
enum { NF_CA, NF_RSA_CRT, NF_RSA_KEY, NF_PHONE_CRT, NF_PHONE_KEY, NF_SHA1_CRT, NF_COUNT };

static void make_null_files(const struct tls_files *f, char paths[NF_COUNT][160])
{
	static const char *const names[NF_COUNT] = {"null-ca.crt",    "rsa.crt",        "rsa.key",
	                                            "null-phone.crt", "null-phone.key", "sha1.crt"};
	for (int i = 0; i < NF_COUNT; i++)
		snprintf(paths[i], 160, "%s/%s", f->dir, names[i]);
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *phone = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = make_cert("Null CA", ca_key, NULL, NULL, true);
	X509 *server = make_cert("localhost", rsa, ca, ca_key, false);
	X509 *good = make_cert("phone", phone, ca, ca_key, false);
	X509 *weak = make_cert("phone", phone, ca, ca_key, false);
	assert_true(X509_sign(weak, ca_key, EVP_sha1()) > 0);
	write_pem(paths[NF_CA], ca, NULL);
	write_pem(paths[NF_RSA_CRT], server, NULL);
	write_pem(paths[NF_RSA_KEY], NULL, rsa);
	write_pem(paths[NF_PHONE_CRT], good, NULL);
	write_pem(paths[NF_PHONE_KEY], NULL, phone);
	write_pem(paths[NF_SHA1_CRT], weak, NULL);
	X509_free(ca);
	X509_free(server);
	X509_free(good);
	X509_free(weak);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(phone);
}

/* A TLS 1.2 client at security level 0 (through ciphers), so it can offer what a phone does
 * and present a certificate the server's level refuses. */
static SSL_CTX *null_client(const char *ca, const char *crt, const char *key, const char *ciphers)
{
	SSL_CTX *ctx = client_ctx(ca, NULL, NULL);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_set_cipher_list(ctx, ciphers), 1);
	if (crt) {
		assert_int_equal(SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	}
	return ctx;
}

static void test_tls_null_sha(void **state)
{
	struct tls_files *f = *state;
	char p[NF_COUNT][160];
	struct base_err err = {0};
	struct conn c;
	make_null_files(f, p);
	SSL_CTX *sctx = net_tls_server_ctx_new(p[NF_RSA_CRT], p[NF_RSA_KEY], p[NF_CA], &err);
	assert_non_null(sctx);
	int level = SSL_CTX_get_security_level(sctx);
	assert_true(level > 0);
	net_tls_server_null_sha(sctx, &null_policy);
	SSL_CTX *nul =
	    null_client(p[NF_CA], p[NF_PHONE_CRT], p[NF_PHONE_KEY], "NULL-SHA:@SECLEVEL=0");

	/* Off: refused as without the callback, and the reason is kept for the log. */
	null_sha_on = false;
	assert_int_equal(handshake(sctx, nul, "localhost", &c), -1);
	assert_int_equal(net_tls_null_offer(c.server), NET_TLS_NULL_ONLY_OFF);
	conn_close(&c);

	/* On: that connection alone is lowered; the phone's certificate still verifies. */
	null_sha_on = true;
	assert_int_equal(handshake(sctx, nul, "localhost", &c), 0);
	assert_string_equal(SSL_get_cipher_name(c.server), "NULL-SHA");
	assert_int_equal(SSL_version(c.server), TLS1_2_VERSION);
	assert_true(net_tls_is_null_cipher(c.server));
	assert_int_equal(net_tls_null_offer(c.server), NET_TLS_NULL_CHOSEN);
	assert_int_equal(SSL_get_verify_result(c.server), X509_V_OK);
	assert_int_equal(SSL_CTX_get_security_level(sctx), level);
	conn_close(&c);

	/* A client certificate too weak for the context stays refused on a lowered connection. */
	SSL_CTX *weak =
	    null_client(p[NF_CA], p[NF_SHA1_CRT], p[NF_PHONE_KEY], "NULL-SHA:@SECLEVEL=0");
	assert_int_equal(handshake(sctx, weak, "localhost", &c), -1);
	conn_close(&c);
	SSL_CTX_free(weak);

	/* Clients that do not offer NULL-SHA are untouched: TLS 1.3, AEAD. */
	SSL_CTX *modern = client_ctx(p[NF_CA], p[NF_PHONE_CRT], p[NF_PHONE_KEY]);
	assert_int_equal(handshake(sctx, modern, "localhost", &c), 0);
	assert_int_equal(SSL_version(c.server), TLS1_3_VERSION);
	assert_false(net_tls_is_null_cipher(c.server));
	assert_int_equal(net_tls_null_offer(c.server), NET_TLS_NULL_NOT_OFFERED);
	conn_close(&c);
	SSL_CTX_free(modern);

	/* NULL-SHA beside a suite we accept (as an Encrypted phone may list it): not lowered. */
	SSL_CTX *both = null_client(p[NF_CA], p[NF_PHONE_CRT], p[NF_PHONE_KEY],
	                            "NULL-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0");
	assert_int_equal(handshake(sctx, both, "localhost", &c), 0);
	assert_string_equal(SSL_get_cipher_name(c.server), "ECDHE-RSA-AES128-GCM-SHA256");
	assert_false(net_tls_is_null_cipher(c.server));
	assert_int_equal(net_tls_null_offer(c.server), NET_TLS_NULL_NOT_OFFERED);
	conn_close(&c);
	SSL_CTX_free(both);

	/* Only NULL-SHA is lowered to. */
	SSL_CTX *sha256 =
	    null_client(p[NF_CA], p[NF_PHONE_CRT], p[NF_PHONE_KEY], "NULL-SHA256:@SECLEVEL=0");
	assert_int_equal(handshake(sctx, sha256, "localhost", &c), -1);
	assert_int_equal(net_tls_null_offer(c.server), NET_TLS_NULL_ONLY_OTHER);
	conn_close(&c);
	SSL_CTX_free(sha256);
	SSL_CTX_free(sctx);

	/* An ECDSA server cannot do NULL-SHA's RSA key exchange: not lowered. */
	SSL_CTX *ec = server_ctx(f, true);
	net_tls_server_null_sha(ec, &null_policy);
	SSL_CTX *nul_ec = null_client(f->ca, NULL, NULL, "NULL-SHA:@SECLEVEL=0");
	assert_int_equal(handshake(ec, nul_ec, "localhost", &c), -1);
	assert_int_equal(net_tls_null_offer(c.server), NET_TLS_NULL_ONLY_OTHER);
	conn_close(&c);
	SSL_CTX_free(nul_ec);
	SSL_CTX_free(ec);
	SSL_CTX_free(nul);
	for (int i = 0; i < NF_COUNT; i++)
		unlink(p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_parse_good),
	    cmocka_unit_test(test_addr_parse_bad),
	    cmocka_unit_test(test_addr_format),
	    cmocka_unit_test(test_listen_flags),
	    cmocka_unit_test(test_listen_taken_port),
	    cmocka_unit_test(test_listen_errors),
	    cmocka_unit_test(test_listen_wildcard_dual_stack),
	    cmocka_unit_test_setup_teardown(test_tls_handshake, tls_setup, tls_teardown),
	    cmocka_unit_test_setup_teardown(test_tls_old_client_refused, tls_setup, tls_teardown),
	    cmocka_unit_test_setup_teardown(test_tls_client_certificates, tls_setup, tls_teardown),
	    cmocka_unit_test_setup_teardown(test_tls_ctx_errors, tls_setup, tls_teardown),
	    cmocka_unit_test_setup_teardown(test_tls_null_sha, tls_setup, tls_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
