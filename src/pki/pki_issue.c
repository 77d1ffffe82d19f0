/* Key generation and certificate issuance with OpenSSL 3's EVP and X509 APIs. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/pki_int.h"

EVP_PKEY *pki_rsa_keygen(unsigned bits, struct base_err *err)
{
	EVP_PKEY *key;

	ERR_clear_error();
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (!key) {
		pki_ssl_error(err, "cannot generate an RSA key", NULL);
	}
	return key;
}

/* A random positive 128-bit serial: unpredictable serials keep a chosen-prefix collision
 * attack on the CA's signatures out of reach (CA/Browser Forum asks for 64 bits or more). */
int pki_set_random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	int ok = 0;

	if (!bn) {
		return -1;
	}
	do {
		if (BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
			goto out;
		}
	} while (BN_is_zero(bn));
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	ok = serial && X509_set_serialNumber(x, serial) == 1;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -1;
}

/* O before CN: names run from the most general part to the most specific. */
static int set_name(X509 *x, const struct pki_cert_spec *spec)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (spec->org &&
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)spec->org,
	                               -1, -1, 0) != 1) {
		return -1;
	}
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)spec->cn,
	                               -1, -1, 0) != 1) {
		return -1;
	}
	return 0;
}

/* Now plus whole calendar years, so "10 years" ends on the same date whatever leap days lie
 * between. */
static time_t years_from_now(int years)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	tm.tm_year += years;
	return timegm(&tm);
}

/* value uses openssl.cnf syntax ("critical,CA:TRUE"); ctx names subject and issuer so that
 * the key identifier extensions can be computed. */
int pki_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext) {
		return -1;
	}
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int add_san_entry(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *gen = a2i_GENERAL_NAME(NULL, NULL, NULL, type, value, 0);

	if (!gen) {
		return -1;
	}
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		GENERAL_NAME_free(gen);
		return -1;
	}
	return 0;
}

/* Built entry by entry rather than from a "DNS:a,IP:b" string, so a host name can never
 * inject extra entries. */
static int add_san(X509 *x, const char *host)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int ok = 0;

	if (!gens) {
		return -1;
	}
	if (host && strcmp(host, "localhost") != 0 && add_san_entry(gens, GEN_DNS, host) < 0) {
		goto out;
	}
	if (add_san_entry(gens, GEN_DNS, "localhost") < 0 ||
	    add_san_entry(gens, GEN_IPADD, "127.0.0.1") < 0 ||
	    add_san_entry(gens, GEN_IPADD, "::1") < 0) {
		goto out;
	}
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

static int add_extensions(X509 *x, X509 *issuer, const struct pki_cert_spec *spec)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (pki_add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0) {
		return -1;
	}
	if (spec->ca) {
		/* A self-signed root needs no authorityKeyIdentifier (RFC 5280 4.2.1.1). */
		if (pki_add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
		    pki_add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0) {
			return -1;
		}
		return 0;
	}
	/* keyEncipherment besides digitalSignature: RSA server certificates conventionally
	 * carry both, and some older TLS stacks refuse one without it even though our own
	 * contexts only negotiate ECDHE. */
	if (pki_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0 ||
	    pki_add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    pki_add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
	    pki_add_ext(x, &ctx, NID_ext_key_usage,
	                spec->client_auth ? "serverAuth,clientAuth" : "serverAuth") < 0 ||
	    add_san(x, spec->host) < 0) {
		return -1;
	}
	return 0;
}

X509 *pki_cert_new_v3(struct base_err *err)
{
	X509 *x;

	ERR_clear_error();
	x = X509_new();
	if (!x || X509_set_version(x, X509_VERSION_3) != 1 || pki_set_random_serial(x) < 0) {
		pki_ssl_error(err, "cannot start a certificate", NULL);
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *pki_cert_issue(const struct pki_cert_spec *spec, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key, struct base_err *err)
{
	X509 *x = pki_cert_new_v3(err);

	if (!x) {
		return NULL;
	}
	if (set_name(x, spec) < 0 || X509_set_pubkey(x, key) != 1) {
		goto fail;
	}
	if (X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
	                                   : X509_get_subject_name(x)) != 1) {
		goto fail;
	}
	/* Valid from an hour ago: a phone whose clock runs a little behind must not reject a
	 * certificate issued a second ago. */
	time_t not_after = years_from_now(spec->years);

	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, NULL) ||
	    !X509_time_adj(X509_getm_notAfter(x), 0, &not_after)) {
		goto fail;
	}
	if (add_extensions(x, issuer, spec) < 0) {
		goto fail;
	}
	if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0) {
		goto fail;
	}
	return x;

fail:
	pki_ssl_error(err, "cannot issue certificate for", spec->cn);
	X509_free(x);
	return NULL;
}
