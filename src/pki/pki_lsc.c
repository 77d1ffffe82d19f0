/*
 * Locally significant certificates (LSCs): checking the public key a device or application
 * instance sent, issuing its certificate with the profile of capf.md section 7, and the
 * asynchronous path that signs on a worker and records the result in the store on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki_int.h"

#define MAX_VALIDITY_DAYS 7305 /* 20 years, the service parameter's maximum */

X509 *pki_ca_cert(const struct pki *pki)
{
	return pki->ca_cert;
}

int pki_set_crl_url(struct pki *pki, const char *url, struct base_err *err)
{
	if (!url) {
		url = "";
	}
	if (strlen(url) >= sizeof(pki->crl_url)) {
		return base_err_set(err, BASE_E_INVALID, "crl_url", "the CRL URL is too long");
	}
	if (url[0] && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		return base_err_set(err, BASE_E_INVALID, "crl_url",
		                    "the CRL URL must start with http:// or https://");
	}
	base_strlcpy(pki->crl_url, url, sizeof(pki->crl_url));
	return 0;
}

/* ---- key checks ---- */

static int key_refused(struct base_err *err, const char *fmt, const char *what, int bits)
{
	char msg[200];

	snprintf(msg, sizeof(msg), fmt, what, bits);
	return base_err_set(err, BASE_E_INVALID, "public_key", "%s", msg);
}

static int check_rsa(const EVP_PKEY *key, const struct pki_key_policy *policy, struct base_err *err)
{
	int bits = EVP_PKEY_get_bits(key);
	BIGNUM *e = NULL;
	bool odd_exponent;

	if (bits < 1024) {
		return key_refused(err, "%s keys of %d bits are too weak and never accepted", "RSA",
		                   bits);
	}
	if (bits == 1024 && !policy->allow_weak_rsa) {
		return key_refused(err,
		                   "%s keys of %d bits are accepted only in the legacy mode "
		                   "(service parameter allow_weak_rsa); use 2048 or more",
		                   "RSA", bits);
	}
	if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096) {
		return key_refused(err, "%s keys must have 2048, 3072 or 4096 bits, not %d", "RSA",
		                   bits);
	}
	if (policy->rsa_bits && bits != policy->rsa_bits) {
		char msg[160];

		snprintf(msg, sizeof(msg),
		         "the key has %d bits but the operation asks for %d (key size mismatch)",
		         bits, policy->rsa_bits);
		return base_err_set(err, BASE_E_INVALID, "public_key", "%s", msg);
	}
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_INVALID, "public_key",
		                    "the RSA key has no readable public exponent");
	}
	/* An even or tiny exponent is not a usable RSA key, whatever its size. */
	odd_exponent = BN_is_odd(e) && !BN_is_one(e);
	BN_free(e);
	if (!odd_exponent) {
		return base_err_set(err, BASE_E_INVALID, "public_key",
		                    "the RSA public exponent must be odd and at least 3");
	}
	return 0;
}

static int check_ec(const EVP_PKEY *key, struct base_err *err)
{
	char group[64] = "";
	size_t len = 0;
	EVP_PKEY_CTX *ctx;
	int valid;

	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   &len) != 1) {
		ERR_clear_error();
		return base_err_set(err, BASE_E_INVALID, "public_key",
		                    "EC keys must use a named curve (P-256 or P-384)");
	}
	if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0) {
		return base_err_set(err, BASE_E_INVALID, "public_key",
		                    "EC keys must use P-256 or P-384, not %s", group);
	}
	/* A point off the curve would make every signature check meaningless. */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)key, NULL);
	valid = ctx && EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!valid) {
		return base_err_set(err, BASE_E_INVALID, "public_key",
		                    "the EC public key is not a valid point on %s", group);
	}
	return 0;
}

int pki_key_check(const EVP_PKEY *key, const struct pki_key_policy *policy, struct base_err *err)
{
	static const struct pki_key_policy strict = {0};

	if (!key) {
		return base_err_set(err, BASE_E_INVALID, "public_key", "no public key");
	}
	if (!policy) {
		policy = &strict;
	}
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return check_rsa(key, policy, err);
	case EVP_PKEY_EC:
		return check_ec(key, err);
	default:
		return base_err_set(err, BASE_E_INVALID, "public_key",
		                    "only RSA and ECDSA (P-256, P-384) keys are accepted");
	}
}

/* ---- the certificate ---- */

/* CN first, then the CA's O, OU, L, ST and C in the order its subject has them, each
 * copied with its own string type (capf.md 7). */
static int set_subject(X509 *x, const char *cn, const X509 *ca)
{
	X509_NAME *name = X509_get_subject_name(x);
	const X509_NAME *ca_name = X509_get_subject_name(ca);

	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1) {
		return -1;
	}
	for (int i = 0; i < X509_NAME_entry_count(ca_name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(ca_name, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));

		if (nid != NID_organizationName && nid != NID_organizationalUnitName &&
		    nid != NID_localityName && nid != NID_stateOrProvinceName &&
		    nid != NID_countryName) {
			continue;
		}
		if (X509_NAME_add_entry(name, e, -1, 0) != 1) {
			return -1;
		}
	}
	return 0;
}

static int add_uri_san(X509 *x, const char *uri)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	int ok = 0;

	if (!gens || !ia5 || ASN1_STRING_set(ia5, uri, -1) != 1) {
		goto out;
	}
	gen = GENERAL_NAME_new();
	if (!gen) {
		goto out;
	}
	GENERAL_NAME_set0_value(gen, GEN_URI, ia5);
	ia5 = NULL;
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		GENERAL_NAME_free(gen);
		goto out;
	}
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

static int add_crl_dp(X509 *x, const char *url)
{
	char value[600];
	X509V3_CTX ctx;

	snprintf(value, sizeof(value), "URI:%s", url);
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	return pki_add_ext(x, &ctx, NID_crl_distribution_points, value);
}

/* In the order capf.md 7 lists them. */
static int add_lsc_extensions(X509 *x, const char *uri, const char *crl_url)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	if (pki_add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    pki_add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
	    pki_add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth,ipsecEndSystem") < 0 ||
	    add_uri_san(x, uri) < 0) {
		return -1;
	}
	if (crl_url[0] && add_crl_dp(x, crl_url) < 0) {
		return -1;
	}
	return 0;
}

static bool owner_name_ok(const struct store_cert_owner *o)
{
	if (!o->name[0]) {
		return false;
	}
	return o->type == STORE_CERT_DEVICE ? o->instance_id[0] == '\0' : o->instance_id[0] != '\0';
}

X509 *pki_lsc_issue(const struct pki *pki, const struct pki_lsc_spec *spec, EVP_PKEY *key,
                    struct base_err *err)
{
	char uri[300];
	X509 *x;

	if (!owner_name_ok(&spec->owner)) {
		base_err_set(err, BASE_E_INVALID, "owner",
		             "an LSC is for a device (name) or a user instance (user ID and "
		             "instance ID)");
		return NULL;
	}
	if (spec->validity_days < 1 || spec->validity_days > MAX_VALIDITY_DAYS) {
		base_err_set(err, BASE_E_INVALID, "validity_days", "validity must be 1 to %d days",
		             MAX_VALIDITY_DAYS);
		return NULL;
	}
	if (pki_key_check(key, &spec->key_policy, err) < 0) {
		return NULL;
	}
	if (spec->owner.type == STORE_CERT_DEVICE) {
		snprintf(uri, sizeof(uri), "%s", spec->owner.name);
	} else {
		snprintf(uri, sizeof(uri), "%s/%s", spec->owner.name, spec->owner.instance_id);
	}
	x = pki_cert_new_v3(err);
	if (!x) {
		return NULL;
	}
	if (set_subject(x, spec->owner.name, pki->ca_cert) < 0 ||
	    X509_set_issuer_name(x, X509_get_subject_name(pki->ca_cert)) != 1 ||
	    X509_set_pubkey(x, key) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), spec->validity_days, 0, NULL) ||
	    add_lsc_extensions(x, uri, pki->crl_url) < 0 ||
	    X509_sign(x, pki->ca_key, EVP_sha256()) <= 0) {
		pki_ssl_error(err, "cannot issue an LSC for", spec->owner.name);
		X509_free(x);
		return NULL;
	}
	return x;
}

static int64_t asn1_time_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		return 0;
	}
	return (int64_t)timegm(&tm);
}

static char *cert_pem(const X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long len;

	if (bio && PEM_write_bio_X509(bio, (X509 *)cert) == 1) {
		len = BIO_get_mem_data(bio, &data);
		out = len > 0 ? strndup(data, (size_t)len) : NULL;
	}
	BIO_free(bio);
	return out;
}

int pki_lsc_record(const X509 *cert, const struct store_cert_owner *owner, const char *issued_by,
                   struct store_cert *out, struct base_err *err)
{
	struct pki_cert_info info;

	memset(out, 0, sizeof(*out));
	pki_cert_describe(&info, "lsc", cert);
	out->pem = cert_pem(cert);
	if (!out->pem) {
		return pki_ssl_error(err, "cannot encode the certificate", NULL);
	}
	base_strlcpy(out->serial, info.serial, sizeof(out->serial));
	out->owner = *owner;
	base_strlcpy(out->subject, info.subject, sizeof(out->subject));
	base_strlcpy(out->key_type, info.key_type, sizeof(out->key_type));
	out->key_bits = info.key_bits;
	out->not_before = asn1_time_epoch(X509_get0_notBefore(cert));
	out->not_after = asn1_time_epoch(X509_get0_notAfter(cert));
	base_strlcpy(out->sha256_fingerprint, info.sha256_fingerprint,
	             sizeof(out->sha256_fingerprint));
	base_strlcpy(out->status, "valid", sizeof(out->status));
	out->issued_at = base_time_now();
	base_strlcpy(out->issued_by, issued_by ? issued_by : "", sizeof(out->issued_by));
	return 0;
}

/* ---- off the loop ---- */

struct lsc_job {
	struct pki *pki;
	struct store *store;
	struct pki_lsc_spec spec;
	EVP_PKEY *key;
	char issued_by[16];
	char actor_user[129];
	char actor_source[64];
	pki_lsc_done_fn done;
	void *arg;
	/* Filled by the worker. */
	X509 *cert;
	struct base_err err;
};

static void lsc_work(void *arg)
{
	struct lsc_job *job = arg;

	job->cert = pki_lsc_issue(job->pki, &job->spec, job->key, &job->err);
}

static void lsc_done(void *arg)
{
	struct lsc_job *job = arg;
	struct store_cert rec = {0};
	const struct store_actor actor = {job->actor_user, job->actor_source};

	if (job->cert &&
	    (pki_lsc_record(job->cert, &job->spec.owner, job->issued_by, &rec, &job->err) < 0 ||
	     store_cert_add(job->store, &rec, &actor, &job->err) < 0)) {
		X509_free(job->cert);
		job->cert = NULL;
	}
	if (job->cert) {
		store_cert_clear(&rec);
		pki_crl_publish_revocations(job->pki); /* the owner's previous LSC, superseded */
		job->done(job->arg, job->cert, NULL);
	} else {
		store_cert_clear(&rec);
		job->done(job->arg, NULL, &job->err);
	}
	X509_free(job->cert);
	EVP_PKEY_free(job->key);
	free(job);
}

int pki_lsc_issue_async(struct pki *pki, struct net_work_pool *pool, struct store *store,
                        const struct pki_lsc_spec *spec, EVP_PKEY *key, const char *issued_by,
                        const struct store_actor *actor, pki_lsc_done_fn done, void *arg,
                        struct base_err *err)
{
	struct lsc_job *job = calloc(1, sizeof(*job));

	if (!job) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	job->pki = pki;
	job->store = store;
	job->spec = *spec;
	if (!job->spec.validity_days) {
		job->spec.validity_days =
		    (int)store_param_int(store, "capf_certificate_validity_years", 5) * 365;
	}
	if (EVP_PKEY_up_ref(key) != 1) {
		free(job);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot reference the key");
	}
	job->key = key;
	base_strlcpy(job->issued_by, issued_by ? issued_by : "", sizeof(job->issued_by));
	base_strlcpy(job->actor_user, actor && actor->user ? actor->user : "system",
	             sizeof(job->actor_user));
	base_strlcpy(job->actor_source, actor && actor->source ? actor->source : "local",
	             sizeof(job->actor_source));
	job->done = done;
	job->arg = arg;
	if (net_work_submit(pool, lsc_work, lsc_done, job, err) < 0) {
		EVP_PKEY_free(job->key);
		free(job);
		return -1;
	}
	return 0;
}
