/* Describing the certificates on disk for the admin API and ucmctl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"

static void name_format(const X509_NAME *name, char *out, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	out[0] = '\0';
	if (!bio) {
		return;
	}
	/* RFC 2253, but UTF-8 left as is rather than escaped as \XX bytes. */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len > 0) {
			snprintf(out, size, "%.*s", (int)len, data);
		}
	}
	BIO_free(bio);
}

static void time_format(const ASN1_TIME *t, char out[21])
{
	struct tm tm;

	out[0] = '\0';
	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		out[0] = '\0';
	}
}

static void serial_format(const X509 *cert, char *out, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(out, size, "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void fingerprint_format(const X509 *cert, char out[96])
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t o = 0;

	out[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32) {
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (i > 0) {
			out[o++] = ':';
		}
		out[o++] = digits[md[i] >> 4];
		out[o++] = digits[md[i] & 0xf];
	}
	out[o] = '\0';
}

void pki_cert_describe(struct pki_cert_info *info, const char *name, const X509 *cert)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);

	snprintf(info->name, sizeof(info->name), "%s", name);
	name_format(X509_get_subject_name(cert), info->subject, sizeof(info->subject));
	name_format(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
	serial_format(cert, info->serial, sizeof(info->serial));
	time_format(X509_get0_notBefore(cert), info->not_before);
	time_format(X509_get0_notAfter(cert), info->not_after);
	fingerprint_format(cert, info->sha256_fingerprint);
	if (!key) {
		snprintf(info->key_type, sizeof(info->key_type), "unknown");
		info->key_bits = 0;
	} else {
		int id = EVP_PKEY_get_base_id(key);
		const char *type = id == EVP_PKEY_RSA  ? "RSA"
		                   : id == EVP_PKEY_EC ? "EC"
		                   : OBJ_nid2sn(id)    ? OBJ_nid2sn(id)
		                                       : "unknown";

		snprintf(info->key_type, sizeof(info->key_type), "%s", type);
		info->key_bits = EVP_PKEY_get_bits(key);
	}
	ERR_clear_error();
}

int pki_cert_list(const struct pki *pki, struct pki_cert_info **out, size_t *count,
                  struct base_err *err)
{
	struct pki_cert_info *list = calloc(PKI_ROLE_COUNT + 1, sizeof(*list));
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (!list) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	pki_cert_describe(&list[n++], "ca", pki->ca_cert);
	for (int r = 0; r < PKI_ROLE_COUNT; r++) {
		int have = pki_file_exists(pki->role_cert_path[r], err);
		X509 *cert;

		if (have == 0) {
			continue;
		}
		/* A file that exists but cannot be read is reported, not skipped: the
		 * administrator is looking at this list to find exactly such problems. */
		if (have < 0 || pki_cert_load(pki->role_cert_path[r], &cert, err) < 0) {
			free(list);
			return -1;
		}
		pki_cert_describe(&list[n++], pki_role_name((enum pki_role)r), cert);
		X509_free(cert);
	}
	*out = list;
	*count = n;
	return 0;
}
