/*
 * Authentication by existing certificate (specs/capf.md §6.3, §6.4; requirements security-2
 * §3.5): the phone presents its LSC or its factory MIC and signs AUTH_DATA with it. An LSC
 * must chain to this cluster's CA and be the device's current, unrevoked certificate; a MIC
 * must chain to a manufacturer CA of the "manufacturer" trust store and name the device.
 * With precedence to LSC a device that has an LSC must present it, not its MIC.
 */
#include "pki/pki_capf_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

/* The chain of cert to a CA of store, with dates checked. */
static bool chains_to(X509 *cert, X509_STORE *store)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok =
	    ctx && X509_STORE_CTX_init(ctx, store, cert, NULL) == 1 && X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* A MIC names its device at the end of its CN: "CP-8845-SEP0CD0F8A1B2C3". */
static bool names_device(X509 *cert, const char *device)
{
	char cn[256] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	size_t n = strlen(cn), d = strlen(device);
	return strcasecmp(cn, device) == 0 ||
	       (n > d && cn[n - d - 1] == '-' && strcasecmp(cn + n - d, device) == 0);
}

static X509 *parse_der(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *cert = len < 0x10000 ? d2i_X509(NULL, &p, (long)len) : NULL;
	if (cert && p != der + len) {
		X509_free(cert);
		cert = NULL;
	}
	ERR_clear_error();
	return cert;
}

/* Both proofs over AUTH_DATA: SIGNED_DATA with SHA-1 and SHA2_SIGNED_DATA with SHA-512. */
static int check_proofs(const struct capf_conn *c, const struct pki_capf_msg *msg, X509 *cert,
                        const unsigned char *der, size_t der_len, struct base_err *err)
{
	const struct pki_capf_elem *sig1 = &msg->elem[PKI_CAPF_T_SIGNED_DATA];
	unsigned hash;
	const unsigned char *sig2;
	size_t sig2_len;
	if (!sig1->value || pki_capf_get_sha2_sig(msg, &hash, &sig2, &sig2_len, err) != 1)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the certificate comes without SIGNED_DATA and "
		                    "SHA2_SIGNED_DATA");
	if (hash != PKI_CAPF_HASH_SHA512)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "SHA2_SIGNED_DATA uses hash %u; SHA-512 (3) is required", hash);
	size_t len;
	unsigned char *data = pki_capf_auth_data(c->device_name, der, der_len, &len);
	if (!data)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	EVP_PKEY *key = X509_get0_pubkey(cert);
	int rc = key ? 0 : base_err_set(err, BASE_E_UNAUTHORIZED, NULL, "no key in certificate");
	if (rc == 0)
		rc = pki_capf_verify(key, PKI_CAPF_HASH_SHA1, data, len, sig1->value, sig1->len,
		                     err);
	if (rc == 0)
		rc = pki_capf_verify(key, PKI_CAPF_HASH_SHA512, data, len, sig2, sig2_len, err);
	free(data);
	return rc;
}

/* SUDI_DATA, when present: the factory certificate signs the session ID (little-endian, as
 * Cisco's CAPF writes it) followed by its own DER. Non-RSA SUDI is skipped, as the
 * reference does. */
static int check_sudi(const struct capf_conn *c, const struct pki_capf_msg *msg,
                      X509_STORE *manufacturers, struct base_err *err)
{
	struct pki_capf_sudi sudi;
	int has = pki_capf_get_sudi(msg, &sudi, err);
	if (has <= 0)
		return has;
	if (sudi.sig2_hash != PKI_CAPF_HASH_SHA512)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "SUDI_DATA must sign with SHA-512");
	X509 *cert = parse_der(sudi.cert, sudi.cert_len);
	if (!cert)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the SUDI certificate is not DER");
	int rc = 0;
	EVP_PKEY *key = X509_get0_pubkey(cert);
	if (key && EVP_PKEY_is_a(key, "RSA")) {
		unsigned char *data = malloc(4 + sudi.cert_len);
		if (!data) {
			X509_free(cert);
			return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		}
		for (int i = 0; i < 4; i++)
			data[i] = (unsigned char)(c->session_id >> (8 * i));
		memcpy(data + 4, sudi.cert, sudi.cert_len);
		if (!manufacturers || !chains_to(cert, manufacturers))
			rc = base_err_set(
			    err, BASE_E_UNAUTHORIZED, NULL,
			    "the SUDI certificate is not from a trusted manufacturer CA");
		if (rc == 0)
			rc = pki_capf_verify(key, PKI_CAPF_HASH_SHA1, data, 4 + sudi.cert_len,
			                     sudi.sig1, sudi.sig1_len, err);
		if (rc == 0)
			rc = pki_capf_verify(key, PKI_CAPF_HASH_SHA512, data, 4 + sudi.cert_len,
			                     sudi.sig2, sudi.sig2_len, err);
		free(data);
	}
	X509_free(cert);
	return rc;
}

/* An LSC of ours: chains to the CA, and is the owner's current certificate in the
 * registry (not revoked, not superseded). */
static int check_lsc(const struct capf_conn *c, X509 *cert, struct base_err *err)
{
	struct pki_cert_info info;
	pki_cert_describe(&info, "lsc", cert);
	struct store_cert current;
	if (store_cert_current(c->store, &c->op.owner, &current, err) != 0)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the presented LSC %s is not a current certificate of %s",
		                    info.serial, c->op.name);
	bool same = strcasecmp(current.serial, info.serial) == 0;
	store_cert_clear(&current);
	if (!same)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the presented LSC %s was revoked or replaced", info.serial);
	return 0;
}

int capf_verify_certificate(struct capf_conn *c, const struct pki_capf_msg *msg,
                            struct base_err *err)
{
	const unsigned char *der;
	size_t len;
	if (pki_capf_get_cert(msg, &der, &len, err) != 1)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "authentication by existing certificate, and the phone "
		                    "presented none");
	X509 *cert = parse_der(der, len);
	if (!cert)
		return base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                    "the presented certificate is not DER");
	struct base_err trust_err = {0};
	X509_STORE *manufacturers =
	    pki_trust_store(c->capf->pki, PKI_TRUST_MANUFACTURER, &trust_err);
	bool lsc = chains_to(cert, c->capf->lsc_trust);
	bool mic = !lsc && manufacturers && chains_to(cert, manufacturers);
	struct store_cert current;
	bool has_lsc = store_cert_current(c->store, &c->op.owner, &current, err) == 0;
	if (has_lsc)
		store_cert_clear(&current);
	int rc = 0;
	if (!lsc && !mic)
		rc = base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                  "the presented certificate is neither an LSC of this cluster nor "
		                  "a MIC from a trusted manufacturer CA (or it expired)");
	else if (mic && !names_device(cert, c->op.name))
		rc = base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                  "the presented MIC does not name %s", c->op.name);
	else if (mic && has_lsc && strcmp(c->op.mode, "by_existing_certificate_lsc") == 0)
		rc = base_err_set(err, BASE_E_UNAUTHORIZED, NULL,
		                  "the device has an LSC and authentication gives precedence to "
		                  "the LSC, but it presented its MIC");
	else if (lsc)
		rc = check_lsc(c, cert, err);
	if (rc == 0)
		rc = check_proofs(c, msg, cert, der, len, err);
	if (rc == 0)
		rc = check_sudi(c, msg, manufacturers, err);
	X509_STORE_free(manufacturers);
	X509_free(cert);
	return rc;
}
