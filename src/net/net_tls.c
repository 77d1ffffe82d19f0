/* TLS contexts: one place that decides protocol versions, ciphers and verification. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/net.h"

/* TLS 1.2 only: forward secrecy and AEAD. TLS 1.3 suites are all AEAD and keep OpenSSL's
 * defaults. ECDSA first because it is cheaper for the server when the certificate allows. */
static const char tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                    "ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                    "ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                    "ECDHE-RSA-CHACHA20-POLY1305";

/* Empties OpenSSL's error queue into one short reason for a person. The queue is a stack of
 * wrappers ("PEM lib", "system lib"); the first specific entry says what actually failed. */
static void tls_reason(char *out, size_t size)
{
	unsigned long e;
	bool found = false;

	snprintf(out, size, "unknown error");
	while ((e = ERR_get_error()) != 0) {
		if (found) {
			continue;
		}
		if (ERR_SYSTEM_ERROR(e)) {
			char buf[128];

			snprintf(out, size, "%s", strerror_r(ERR_GET_REASON(e), buf, sizeof(buf)));
			found = true;
		} else if (!ERR_COMMON_ERROR(e) && ERR_reason_error_string(e)) {
			snprintf(out, size, "%s", ERR_reason_error_string(e));
			found = true;
		}
	}
}

static int tls_error(struct base_err *err, const char *what, const char *path)
{
	char reason[160];

	tls_reason(reason, sizeof(reason));
	if (path) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "tls: %s %s: %s", what, path,
		                    reason);
	}
	return base_err_set(err, BASE_E_INTERNAL, NULL, "tls: %s: %s", what, reason);
}

/* Any fixed bytes do: OpenSSL refuses to resume a session that verified a client certificate
 * unless the context names itself. Integrity-only connections name themselves differently, so
 * their sessions and the others' never resume each other (net_tls_server_null_sha). */
static const unsigned char sid_ctx[] = "openucm";
static const unsigned char sid_ctx_null[] = "openucm-null";

/* Rules shared by both ends. */
static int tls_common(SSL_CTX *ctx, struct base_err *err)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		return tls_error(err, "cannot set the minimum TLS version", NULL);
	}
	if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
		return tls_error(err, "cannot set the TLS 1.2 ciphers", NULL);
	}
	/* Compression leaks plaintext lengths (CRIME); renegotiation is a DoS lever and no
	 * phone needs it. Tickets are off because OpenSSL never rotates the ticket key, so one
	 * key would protect every session of a long-running ucmd; the session cache does
	 * resumption instead. */
	SSL_CTX_set_options(ctx,
	                    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	return 0;
}

static int use_cert_and_key(SSL_CTX *ctx, const char *cert_path, const char *key_path,
                            struct base_err *err)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		return tls_error(err, "cannot load certificate", cert_path);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_LIB(e) != ERR_LIB_X509 ||
		    ERR_GET_REASON(e) != X509_R_KEY_VALUES_MISMATCH) {
			return tls_error(err, "cannot load private key", key_path);
		}
	}
	/* Loading the key already compares it with the certificate; asking again gives one
	 * clear message for both ways a mismatch can be reported. */
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "tls: private key %s does not match certificate %s", key_path,
		                    cert_path);
	}
	return 0;
}

SSL_CTX *net_tls_server_ctx_new(const char *cert_path, const char *key_path, const char *ca_path,
                                struct base_err *err)
{
	SSL_CTX *ctx;

	if (!cert_path || !key_path) {
		base_err_set(err, BASE_E_INVALID, NULL,
		             "tls: a server needs a certificate and key");
		return NULL;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		tls_error(err, "cannot create a server context", NULL);
		return NULL;
	}
	if (tls_common(ctx, err) < 0 || use_cert_and_key(ctx, cert_path, key_path, err) < 0) {
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
		tls_error(err, "cannot set the session id context", NULL);
		goto fail;
	}
	if (ca_path) {
		STACK_OF(X509_NAME) * names;

		if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
			tls_error(err, "cannot load CA certificates", ca_path);
			goto fail;
		}
		/* The CA names go in the CertificateRequest so a client holding several
		 * certificates (Jabber, Lync) picks the one our CA issued. */
		names = SSL_load_client_CA_file(ca_path);
		if (!names) {
			tls_error(err, "cannot read CA names from", ca_path);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* Request, not require: phones without a certificate yet (before CAPF or EST
		 * enrollment) must still connect; the service decides what they may do. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *net_tls_client_ctx_new(const char *ca_path, const char *cert_path, const char *key_path,
                                struct base_err *err)
{
	SSL_CTX *ctx;

	if ((cert_path == NULL) != (key_path == NULL)) {
		base_err_set(err, BASE_E_INVALID, NULL,
		             "tls: a client certificate needs its key, and a key its certificate");
		return NULL;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		tls_error(err, "cannot create a client context", NULL);
		return NULL;
	}
	if (tls_common(ctx, err) < 0) {
		goto fail;
	}
	if (ca_path) {
		if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
			tls_error(err, "cannot load CA certificates", ca_path);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_error(err, "cannot load the system CA certificates", NULL);
		goto fail;
	}
	if (cert_path && use_cert_and_key(ctx, cert_path, key_path, err) < 0) {
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int net_tls_set_peer_name(SSL *ssl, const char *host, struct base_err *err)
{
	unsigned char buf[sizeof(struct in6_addr)];
	bool is_ip;

	if (!host || host[0] == '\0') {
		return base_err_set(err, BASE_E_INVALID, NULL, "tls: empty peer name");
	}
	is_ip = inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
	ERR_clear_error();
	if (is_ip) {
		/* SNI carries names only (RFC 6066); an address is checked against the
		 * certificate's IP entries. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) {
			return tls_error(err, "cannot set the expected peer address", host);
		}
		return 0;
	}
	if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1) {
		return tls_error(err, "cannot set the expected peer name", host);
	}
	return 0;
}

struct bufferevent *net_tls_accept_bev(struct event_base *base, void *ssl_ctx)
{
	SSL *ssl = SSL_new(ssl_ctx);
	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                      BEV_OPT_CLOSE_ON_FREE);
}

int net_tls_set_verify_store(SSL_CTX *ctx, X509_STORE *store, struct base_err *err)
{
	ERR_clear_error();
	if (!store || SSL_CTX_set1_verify_cert_store(ctx, store) != 1) {
		return tls_error(err, "cannot set the certificate verification store", NULL);
	}
	return 0;
}

int net_tls_reload_cert(SSL_CTX *ctx, const char *cert_path, const char *key_path,
                        struct base_err *err)
{
	/* A scratch context first: loading into ctx directly could leave it with the new
	 * certificate and the old key when the key is bad. */
	SSL_CTX *check = SSL_CTX_new(TLS_server_method());
	int rc;

	ERR_clear_error();
	if (!check) {
		return tls_error(err, "cannot create a context", NULL);
	}
	rc = use_cert_and_key(check, cert_path, key_path, err);
	SSL_CTX_free(check);
	if (rc < 0) {
		return -1;
	}
	return use_cert_and_key(ctx, cert_path, key_path, err);
}

/* ---- NULL-SHA for the Authenticated device security mode ---- */

/* TLS_RSA_WITH_NULL_SHA (RFC 5246 appendix A.5). */
#define NULL_SHA_ID 0x0002
/* Values in the cipher list that are signals, not ciphers (RFC 5746, RFC 7507). */
#define SCSV_RENEGOTIATION 0x00ff
#define SCSV_FALLBACK      0x5600

static int null_offer_index = -1;
static pthread_once_t null_offer_once = PTHREAD_ONCE_INIT;

static void null_offer_index_new(void)
{
	null_offer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void set_null_offer(SSL *ssl, enum net_tls_null_offer offer)
{
	if (null_offer_index >= 0)
		SSL_set_ex_data(ssl, null_offer_index, (void *)(uintptr_t)offer);
}

enum net_tls_null_offer net_tls_null_offer(const SSL *ssl)
{
	if (null_offer_index < 0)
		return NET_TLS_NULL_NOT_OFFERED;
	return (enum net_tls_null_offer)(uintptr_t)SSL_get_ex_data(ssl, null_offer_index);
}

bool net_tls_is_null_cipher(const SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	return c && SSL_CIPHER_get_cipher_nid(c) == NID_undef;
}

struct hello_offer {
	bool null_sha;   /* TLS_RSA_WITH_NULL_SHA */
	bool null_any;   /* some suite that does not encrypt */
	bool encrypting; /* some suite that does, and that this listener accepts */
};

static bool accepted(SSL *ssl, const SSL_CIPHER *c)
{
	STACK_OF(SSL_CIPHER) *ours = SSL_get_ciphers(ssl);
	for (int i = 0; i < sk_SSL_CIPHER_num(ours); i++)
		if (SSL_CIPHER_get_id(sk_SSL_CIPHER_value(ours, i)) == SSL_CIPHER_get_id(c))
			return true;
	return false;
}

/* A client that offers an encrypting suite we accept gets it, even where NULL-SHA is allowed:
 * a phone in Encrypted mode may list NULL-SHA too, and must not be lowered (then refused). */
static struct hello_offer read_offer(SSL *ssl)
{
	struct hello_offer o = {false, false, false};
	const unsigned char *ids;
	size_t len = SSL_client_hello_get0_ciphers(ssl, &ids);
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned id = (unsigned)ids[i] << 8 | ids[i + 1];
		const SSL_CIPHER *c = SSL_CIPHER_find(ssl, ids + i);
		if (!c || id == SCSV_RENEGOTIATION || id == SCSV_FALLBACK)
			continue; /* GREASE and suites OpenSSL does not know tell nothing */
		if (SSL_CIPHER_get_cipher_nid(c) != NID_undef) {
			o.encrypting |= accepted(ssl, c);
		} else {
			o.null_any = true;
			o.null_sha |= id == NULL_SHA_ID;
		}
	}
	return o;
}

/* NULL-SHA's key exchange is RSA encryption to the server's key: an ECDSA key cannot do it. */
static bool server_key_is_rsa(SSL *ssl)
{
	EVP_PKEY *key = SSL_get_privatekey(ssl);
	return key && EVP_PKEY_is_a(key, "RSA");
}

/* Lowers this connection, and only it, to integrity-only TLS 1.2 with NULL-SHA. */
static int lower_to_null_sha(SSL *ssl)
{
	/* The chain of a client certificate stays checked at the level the context has (the
	 * verify parameter's auth level wins over the connection's security level). */
	X509_VERIFY_PARAM_set_auth_level(SSL_get0_param(ssl),
	                                 SSL_CTX_get_security_level(SSL_get_SSL_CTX(ssl)));
	SSL_set_security_level(ssl, 0);
	if (SSL_set_max_proto_version(ssl, TLS1_2_VERSION) != 1 ||
	    SSL_set_cipher_list(ssl, "NULL-SHA") != 1 ||
	    SSL_set_session_id_context(ssl, sid_ctx_null, sizeof(sid_ctx_null) - 1) != 1)
		return -1;
	return 0;
}

static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
	const struct net_tls_null_sha *policy = arg;
	struct hello_offer o = read_offer(ssl);
	enum net_tls_null_offer offer = NET_TLS_NULL_NOT_OFFERED;
	bool allowed = o.null_any && policy->allowed && policy->allowed(policy->arg);
	if (o.null_sha && !o.encrypting && allowed && server_key_is_rsa(ssl)) {
		if (lower_to_null_sha(ssl) != 0) {
			ERR_clear_error();
			*alert = SSL_AD_INTERNAL_ERROR;
			return SSL_CLIENT_HELLO_ERROR;
		}
		offer = NET_TLS_NULL_CHOSEN;
	} else if (o.null_any && !o.encrypting) {
		/* The handshake fails as it would without this callback; the caller can tell
		 * the administrator why. */
		offer = allowed ? NET_TLS_NULL_ONLY_OTHER : NET_TLS_NULL_ONLY_OFF;
	}
	set_null_offer(ssl, offer);
	return SSL_CLIENT_HELLO_SUCCESS;
}

void net_tls_server_null_sha(SSL_CTX *ctx, const struct net_tls_null_sha *policy)
{
	pthread_once(&null_offer_once, null_offer_index_new);
	SSL_CTX_set_client_hello_cb(ctx, on_client_hello, (void *)policy);
}
