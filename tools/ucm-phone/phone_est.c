/*
 * The device side of EST (RFC 7030), as any standards-based phone does it: make a key, send
 * a PKCS#10 request for it to /.well-known/est/simpleenroll (authenticated by the one-time
 * string as HTTP Basic password, or an empty one for a null-string operation), or to
 * simplereenroll with the current LSC as TLS client certificate, and keep the certificate
 * that comes back in the PKCS#7 certs-only reply.
 */
#include "phone_enroll.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_REPLY (256 * 1024)

struct reply {
	char *data;
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t add = size * n;
	char *grown;

	if (r->len + add > MAX_REPLY || !(grown = realloc(r->data, r->len + add + 1))) {
		return 0;
	}
	r->data = grown;
	memcpy(r->data + r->len, ptr, add);
	r->len += add;
	r->data[r->len] = '\0';
	return add;
}

/* The request, DER then base64 in one line (EST accepts line breaks or none). */
static char *make_request(const struct phone_enroll_opts *o, EVP_PKEY *key, struct base_err *err)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	char *b64 = NULL;
	int n = -1;

	if (req &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
	                               (const unsigned char *)o->device, -1, -1, 0) == 1 &&
	    X509_REQ_set_pubkey(req, key) == 1 && X509_REQ_sign(req, key, EVP_sha256()) > 0) {
		n = i2d_X509_REQ(req, &der);
	}
	if (n > 0 && (b64 = malloc(4 * ((size_t)n + 2) / 3 + 1))) {
		EVP_EncodeBlock((unsigned char *)b64, der, n);
	}
	OPENSSL_free(der);
	X509_REQ_free(req);
	if (!b64) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "cannot make the certificate request");
	}
	return b64;
}

static int post(const struct phone_enroll_opts *o, const char *op, const char *body,
                struct reply *r, long *status, struct base_err *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/pkcs10");
	char url[256];
	CURLcode rc;

	if (!c || !headers) {
		curl_slist_free_all(headers);
		curl_easy_cleanup(c);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	}
	snprintf(url, sizeof(url), "https://%s/.well-known/est/%s", o->server, op);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, o->ca);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	/* The device names itself as the Basic user; a null-string operation has an empty
	 * password. */
	if (o->auth == PHONE_AUTH_STRING || o->auth == PHONE_AUTH_NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, o->device);
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		                 o->auth == PHONE_AUTH_NULL ? "" : o->auth_string);
	}
	if (o->auth == PHONE_AUTH_LSC || o->auth == PHONE_AUTH_MIC) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, o->auth_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, o->auth_key);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "%s: %s", url,
		                    curl_easy_strerror(rc));
	}
	return 0;
}

/* The certificate for key among those of a base64 certs-only reply; NULL when none. */
static X509 *cert_from_reply(const struct reply *r, EVP_PKEY *key)
{
	BIO *b64 = BIO_new(BIO_f_base64());
	BIO *mem = BIO_new_mem_buf(r->data, (int)r->len);
	PKCS7 *p7;
	X509 *found = NULL;

	if (!b64 || !mem) {
		BIO_free(b64);
		BIO_free(mem);
		return NULL;
	}
	mem = BIO_push(b64, mem);
	p7 = d2i_PKCS7_bio(mem, NULL);
	BIO_free_all(mem);
	STACK_OF(X509) *certs = p7 && PKCS7_type_is_signed(p7) ? p7->d.sign->cert : NULL;
	for (int i = 0; i < sk_X509_num(certs) && !found; i++) {
		X509 *x = sk_X509_value(certs, i);

		if (EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1 && X509_up_ref(x) == 1) {
			found = x;
		}
	}
	PKCS7_free(p7);
	ERR_clear_error();
	return found;
}

/* The key in a file only its owner can read, created that way rather than narrowed after. */
static int save(const char *path, X509 *cert, EVP_PKEY *key, struct base_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, cert ? 0644 : 0600);
	BIO *bio = fd >= 0 ? BIO_new_fd(fd, BIO_CLOSE) : NULL;
	int ok = bio && (cert ? PEM_write_bio_X509(bio, cert)
	                      : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL));

	if (!bio && fd >= 0) {
		close(fd);
	}
	BIO_free(bio);
	return ok == 1 ? 0 : base_err_set(err, BASE_E_INTERNAL, NULL, "cannot write %s", path);
}

static int enroll(const struct phone_enroll_opts *o, EVP_PKEY *key, struct base_err *err)
{
	const char *op = o->auth == PHONE_AUTH_LSC ? "simplereenroll" : "simpleenroll";
	struct reply r = {0};
	long status = 0;
	char *body = make_request(o, key, err);
	X509 *cert = NULL;
	int rc = -1;

	if (!body || post(o, op, body, &r, &status, err) != 0) {
		goto out;
	}
	if (status != 200) {
		/* EST errors are plain text for a person: show them as they came. */
		base_err_set(err, BASE_E_FORBIDDEN, NULL, "%s refused (HTTP %ld): %.*s", op, status,
		             (int)(r.len && r.data[r.len - 1] == '\n' ? r.len - 1 : r.len),
		             r.data ? r.data : "");
		goto out;
	}
	cert = cert_from_reply(&r, key);
	if (!cert) {
		base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		             "the reply holds no certificate for our key");
		goto out;
	}
	if (save(o->key_out, NULL, key, err) == 0 && save(o->cert_out, cert, NULL, err) == 0) {
		char subject[256];

		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
		printf("enrolled %s over EST (%s)\n", subject, op);
		rc = 0;
	}
out:
	X509_free(cert);
	free(body);
	free(r.data);
	return rc;
}

int phone_est_enroll(const struct phone_enroll_opts *o)
{
	struct base_err err = {0};
	/* Without --key-type, the key most devices make: RSA 2048. */
	struct pki_capf_key_spec spec = {.type = PKI_CAPF_KEY_RSA, .rsa_bits = 2048};
	EVP_PKEY *key;
	int rc = -1;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "ucm-phone: cannot initialise libcurl\n");
		return 1;
	}
	key = pki_capf_keygen(o->key_forced ? &o->key : &spec, &err);
	if (key) {
		rc = enroll(o, key, &err);
	}
	if (rc != 0) {
		fprintf(stderr, "ucm-phone: %s\n", err.message);
	}
	EVP_PKEY_free(key);
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}
