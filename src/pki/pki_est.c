/*
 * The byte formats of EST (RFC 7030): a PKCS#10 request arrives base64 encoded
 * (application/pkcs10, section 4.2.1) and certificates leave as a base64 PKCS#7 certs-only
 * SignedData (application/pkcs7-mime, sections 4.1.3 and 4.2.3). The HTTP exchange and the
 * CAPF-operation rules live in admin; this file only turns bytes into checked objects and
 * back.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"

#define MAX_CSR_BASE64 (32 * 1024)

/* Strict base64 (RFC 4648 alphabet and padding) that skips the line breaks and spaces RFC
 * 7030 allows between lines. Returns the decoded length, or -1. */
static long base64_decode(const char *in, size_t len, unsigned char **out)
{
	char *clean = malloc(len + 1);
	size_t n = 0, pad = 0;
	unsigned char *buf;
	int got;

	*out = NULL;
	if (!clean) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=') ||
		    (pad && c != '=')) {
			free(clean);
			return -1;
		}
		pad += c == '=';
		clean[n++] = c;
	}
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0 || pad > 2) {
		free(clean);
		return -1;
	}
	buf = malloc(n / 4 * 3 + 1);
	got = buf ? EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n) : -1;
	free(clean);
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	return got - (long)pad;
}

int pki_est_csr_decode(const char *body, size_t len, X509_REQ **out, struct base_err *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	long n;
	X509_REQ *req;

	*out = NULL;
	if (len > MAX_CSR_BASE64) {
		return base_err_set(err, BASE_E_TOO_LARGE, "csr",
		                    "the certificate request is larger than %d bytes",
		                    MAX_CSR_BASE64);
	}
	n = base64_decode(body, len, &der);
	if (n <= 0) {
		free(der);
		return base_err_set(err, BASE_E_BAD_REQUEST, "csr",
		                    "the body must be a base64-encoded PKCS#10 request");
	}
	ERR_clear_error();
	p = der;
	req = d2i_X509_REQ(NULL, &p, n);
	/* Trailing bytes after the DER would be data nobody checked. */
	if (!req || p != der + n) {
		X509_REQ_free(req);
		free(der);
		ERR_clear_error();
		return base_err_set(err, BASE_E_BAD_REQUEST, "csr",
		                    "the body is not a DER PKCS#10 certificate request");
	}
	free(der);
	*out = req;
	return 0;
}

/* The CN of the request's subject, or "" when there is none; -1 when it is not text. */
static int subject_cn(X509_REQ *req, char *out, size_t size)
{
	X509_NAME *name = X509_REQ_get_subject_name(req);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	int n;

	out[0] = '\0';
	if (i < 0) {
		return 0;
	}
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0 || (size_t)n >= size || memchr(utf8, '\0', (size_t)n)) {
		OPENSSL_free(utf8);
		ERR_clear_error();
		return -1;
	}
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

int pki_est_csr_check(X509_REQ *req, const char *name, EVP_PKEY **key, struct base_err *err)
{
	char cn[256];
	EVP_PKEY *pub;

	*key = NULL;
	ERR_clear_error();
	pub = X509_REQ_get0_pubkey(req);
	if (!pub) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_BAD_REQUEST, "csr",
		                    "the request carries no usable public key");
	}
	/* The request signed by its own key is the proof that the client holds the private
	 * key: without it anyone could get a certificate for someone else's public key. */
	if (X509_REQ_verify(req, pub) != 1) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_BAD_REQUEST, "csr",
		                    "the request's signature does not verify with its key");
	}
	/* A proof made with a broken digest proves little: SHA-1 and MD5 collisions can be
	 * bought. Ed25519 and other digest-free signatures report NID_undef and are fine. */
	int md_nid = NID_undef, pkey_nid = NID_undef;
	if (!OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md_nid, &pkey_nid) ||
	    md_nid == NID_sha1 || md_nid == NID_md5 || md_nid == NID_md5_sha1 ||
	    md_nid == NID_md4) {
		return base_err_set(
		    err, BASE_E_BAD_REQUEST, "csr",
		    "the request is signed with %s; SHA-256 or stronger is required",
		    md_nid == NID_undef ? "an unknown algorithm" : OBJ_nid2sn(md_nid));
	}
	if (subject_cn(req, cn, sizeof(cn)) < 0) {
		return base_err_set(err, BASE_E_BAD_REQUEST, "csr",
		                    "the request's common name is not valid text");
	}
	/* The certificate names the device whatever the request asks; a request naming
	 * another device is a mistake worth refusing rather than silently correcting. */
	if (cn[0] && name && strcasecmp(cn, name) != 0) {
		return base_err_set(err, BASE_E_INVALID, "csr",
		                    "the request is for CN=%s but authenticated as %s", cn, name);
	}
	if (EVP_PKEY_up_ref(pub) != 1) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot reference the key");
	}
	*key = pub;
	return 0;
}

char *pki_est_certs_only(X509 *const *certs, size_t count, size_t *len, struct base_err *err)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	char *out = NULL;
	int n;

	*len = 0;
	ERR_clear_error();
	/* certs-only: SignedData with no content and no signers (RFC 5751 3.2.2). */
	if (!p7 || PKCS7_set_type(p7, NID_pkcs7_signed) != 1) {
		goto fail;
	}
	/* The encapsulated content is of type data and absent, as openssl crl2pkcs7 makes. */
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (size_t i = 0; i < count; i++) {
		if (PKCS7_add_certificate(p7, certs[i]) != 1) {
			goto fail;
		}
	}
	n = i2d_PKCS7(p7, &der);
	if (n <= 0) {
		goto fail;
	}
	/* 64 characters a line, as PEM does: readable and within any line limit. */
	size_t b64 = 4 * (((size_t)n + 2) / 3);
	char *flat = malloc(b64 + 1);

	out = malloc(b64 + b64 / 64 + 2);
	if (!flat || !out) {
		free(flat);
		free(out);
		out = NULL;
		goto fail;
	}
	EVP_EncodeBlock((unsigned char *)flat, der, n);
	for (size_t i = 0; i < b64; i += 64) {
		size_t chunk = b64 - i < 64 ? b64 - i : 64;

		memcpy(out + *len, flat + i, chunk);
		*len += chunk;
		out[(*len)++] = '\n';
	}
	out[*len] = '\0';
	free(flat);
	OPENSSL_free(der);
	PKCS7_free(p7);
	return out;

fail:
	OPENSSL_free(der);
	PKCS7_free(p7);
	pki_ssl_error(err, "cannot encode the certificates", NULL);
	return NULL;
}
