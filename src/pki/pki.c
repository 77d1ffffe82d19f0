/* The system CA: opening or creating it, and keeping each service's certificate current. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/pki_int.h"

/* RSA rather than ECDSA: older Cisco phones accept only RSA certificates. */
#define CA_KEY_BITS   3072
#define CA_YEARS      10
#define CA_ORG        "OpenUCM"
#define ROLE_KEY_BITS 2048
#define ROLE_YEARS    2
#define RENEW_DAYS    30

static const char *const role_names[PKI_ROLE_COUNT] = {
    [PKI_ROLE_HTTPS] = "https",
    [PKI_ROLE_SIP_TLS] = "sip-tls",
    [PKI_ROLE_TFTP_SIGNER] = "tftp-signer",
    [PKI_ROLE_CAPF] = "capf",
    [PKI_ROLE_TVS] = "tvs",
};

static bool role_valid(enum pki_role role)
{
	return (unsigned)role < PKI_ROLE_COUNT;
}

const char *pki_role_name(enum pki_role role)
{
	return role_valid(role) ? role_names[role] : "?";
}

const char *pki_ca_cert_path(const struct pki *pki)
{
	return pki->ca_cert_path;
}

const char *pki_role_cert_path(const struct pki *pki, enum pki_role role)
{
	return role_valid(role) ? pki->role_cert_path[role] : NULL;
}

const char *pki_role_key_path(const struct pki *pki, enum pki_role role)
{
	return role_valid(role) ? pki->role_key_path[role] : NULL;
}

static int path_join(char out[PATH_MAX], const char *dir, const char *name, const char *ext,
                     struct base_err *err)
{
	int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, name, ext);

	if (n < 0 || n >= PATH_MAX) {
		return base_err_set(err, BASE_E_INVALID, NULL, "pki: path too long under %s", dir);
	}
	return 0;
}

static int make_dir(const char *path, struct base_err *err)
{
	struct stat st;
	char buf[128];

	if (mkdir(path, 0700) == 0) {
		/* Exactly 0700 whatever the umask: the directory holds private keys. */
		if (chmod(path, 0700) < 0) {
			return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot chmod %s: %s",
			                    path, strerror_r(errno, buf, sizeof(buf)));
		}
		return 0;
	}
	if (errno != EEXIST) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot create %s: %s", path,
		                    strerror_r(errno, buf, sizeof(buf)));
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: %s is not a directory", path);
	}
	return 0;
}

/* Takes ownership of key; NULL means generate a new one. */
static int ca_create(struct pki *pki, EVP_PKEY *key, struct base_err *err)
{
	unsigned char rnd[4];
	char cn[32];
	bool new_key = key == NULL;
	X509 *cert = NULL;

	/* The random suffix tells apart the CAs of different installations in a phone's
	 * trust list and in an administrator's certificate store. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		EVP_PKEY_free(key);
		return pki_ssl_error(err, "cannot get random bytes", NULL);
	}
	snprintf(cn, sizeof(cn), "OpenUCM CA %02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	if (new_key && !(key = pki_rsa_keygen(CA_KEY_BITS, err))) {
		return -1;
	}
	const struct pki_cert_spec spec = {.cn = cn, .org = CA_ORG, .years = CA_YEARS, .ca = true};

	cert = pki_cert_issue(&spec, key, NULL, NULL, err);
	if (!cert) {
		goto fail;
	}
	/* Key first: after a crash between the two renames the next start finds ca.key alone
	 * and makes the certificate again from it. */
	if ((new_key && pki_key_save(pki->ca_key_path, key, err) < 0) ||
	    pki_cert_save(pki->ca_cert_path, cert, err) < 0) {
		goto fail;
	}
	pki->ca_key = key;
	pki->ca_cert = cert;
	base_log(BASE_LOG_INFO, "pki", "created certificate authority \"%s\" in %s", cn, pki->dir);
	return 0;

fail:
	X509_free(cert);
	EVP_PKEY_free(key);
	return -1;
}

static int ca_load(struct pki *pki, struct base_err *err)
{
	int have_key = pki_file_exists(pki->ca_key_path, err);
	int have_cert = have_key < 0 ? -1 : pki_file_exists(pki->ca_cert_path, err);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;

	if (have_key < 0 || have_cert < 0) {
		return -1;
	}
	if (!have_key && have_cert) {
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "pki: %s is missing but %s exists; restore the key from a "
		                    "backup, or remove both files to start a new CA",
		                    pki->ca_key_path, pki->ca_cert_path);
	}
	if (!have_key) {
		return ca_create(pki, NULL, err);
	}
	if (pki_key_load(pki->ca_key_path, &key, err) < 0) {
		return -1;
	}
	if (!have_cert) {
		/* A crash between the two writes of the first start, or a deleted ca.crt: the
		 * key is what matters, so the CA gets a new certificate for it (the role
		 * certificates signed under the old name are then re-issued on demand). */
		return ca_create(pki, key, err);
	}
	if (pki_cert_load(pki->ca_cert_path, &cert, err) < 0) {
		EVP_PKEY_free(key);
		return -1;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
		base_err_set(err, BASE_E_INTERNAL, NULL,
		             "pki: %s does not match %s; restore the matching pair from a backup",
		             pki->ca_key_path, pki->ca_cert_path);
		goto fail;
	}
	if (X509_check_ca(cert) < 1) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "pki: %s is not a CA certificate",
		             pki->ca_cert_path);
		goto fail;
	}
	ERR_clear_error();
	pki->ca_key = key;
	pki->ca_cert = cert;
	return 0;

fail:
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	return -1;
}

int pki_open(struct pki **out, const char *data_dir, struct base_err *err)
{
	struct pki *pki;

	*out = NULL;
	if (!data_dir || data_dir[0] == '\0') {
		return base_err_set(err, BASE_E_INVALID, NULL, "pki: no data directory");
	}
	pki = calloc(1, sizeof(*pki));
	if (!pki) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	if (path_join(pki->dir, data_dir, "pki", "", err) < 0 ||
	    path_join(pki->ca_cert_path, pki->dir, "ca", ".crt", err) < 0 ||
	    path_join(pki->ca_key_path, pki->dir, "ca", ".key", err) < 0) {
		goto fail;
	}
	for (int r = 0; r < PKI_ROLE_COUNT; r++) {
		if (path_join(pki->role_cert_path[r], pki->dir, role_names[r], ".crt", err) < 0 ||
		    path_join(pki->role_key_path[r], pki->dir, role_names[r], ".key", err) < 0 ||
		    path_join(pki->role_previous_path[r], pki->dir, role_names[r], ".previous.crt",
		              err) < 0) {
			goto fail;
		}
	}
	if (make_dir(pki->dir, err) < 0 || ca_load(pki, err) < 0) {
		goto fail;
	}
	*out = pki;
	return 0;

fail:
	pki_close(pki);
	return -1;
}

void pki_close(struct pki *pki)
{
	if (!pki) {
		return;
	}
	pki_crl_free(pki);
	pki_renew_free(pki);
	X509_free(pki->ca_cert);
	EVP_PKEY_free(pki->ca_key);
	free(pki);
}

/* The name certificates are issued for. Falls back to "localhost" when the host name would
 * not make a valid DNS name or CN (at most 64 characters). */
void pki_local_hostname(char *out, size_t size)
{
	char buf[256] = "";
	size_t len;
	bool ok;

	if (gethostname(buf, sizeof(buf) - 1) < 0) {
		buf[0] = '\0';
	}
	len = strlen(buf);
	ok = len > 0 && len < 64 && buf[0] != '.' && buf[0] != '-' && buf[len - 1] != '.' &&
	     buf[len - 1] != '-';
	for (size_t i = 0; ok && i < len; i++) {
		char c = buf[i];

		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '-' || c == '.';
	}
	snprintf(out, size, "%s", ok ? buf : "localhost");
}

/* Whether the certificate names our organisation as issuer: a certificate from an earlier
 * OpenUCM CA of this installation (replaced by an administrator) is ours to re-issue. */
static bool issuer_is_openucm(X509 *cert)
{
	X509_NAME *issuer = X509_get_issuer_name(cert);
	int i = X509_NAME_get_index_by_NID(issuer, NID_organizationName, -1);
	const ASN1_STRING *o;

	if (i < 0) {
		return false;
	}
	o = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, i));
	return (size_t)ASN1_STRING_length(o) == strlen(CA_ORG) &&
	       memcmp(ASN1_STRING_get0_data(o), CA_ORG, strlen(CA_ORG)) == 0;
}

/* Full path validation against the CA at the current time (dates, extensions, signature). */
static bool verifies_now(const struct pki *pki, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = store && ctx && X509_STORE_add_cert(store, pki->ca_cert) == 1 &&
	          X509_STORE_CTX_init(ctx, store, cert, NULL) == 1 && X509_verify_cert(ctx) == 1;

	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

/* 1: the role's files are good; 0: issue new ones (*why says why); -1: error. */
static int role_check(const struct pki *pki, enum pki_role role, const char *host, const char **why,
                      struct base_err *err)
{
	const char *cert_path = pki->role_cert_path[role];
	const char *key_path = pki->role_key_path[role];
	int have = pki_file_exists(cert_path, err);
	time_t limit = time(NULL) + (time_t)RENEW_DAYS * 86400;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc = 0;

	if (have <= 0) {
		*why = "new";
		return have;
	}
	if (pki_cert_load(cert_path, &cert, err) < 0) {
		return -1;
	}
	bool ours = X509_check_issued(pki->ca_cert, cert) == X509_V_OK &&
	            X509_verify(cert, X509_get0_pubkey(pki->ca_cert)) == 1;

	ERR_clear_error();
	if (!ours && !issuer_is_openucm(cert)) {
		rc = base_err_set(err, BASE_E_INTERNAL, NULL,
		                  "pki: %s was not issued by the OpenUCM CA, so ucmd will not "
		                  "replace it; remove it and %s to have a new one issued",
		                  cert_path, key_path);
	} else if (!ours) {
		*why = "issued by an earlier CA";
	} else if (!verifies_now(pki, cert)) {
		*why = "no longer valid";
	} else if (X509_cmp_time(X509_get0_notAfter(cert), &limit) <= 0) {
		*why = "expires within 30 days";
	} else if (X509_check_host(cert, host, 0, 0, NULL) != 1) {
		*why = "host name changed";
	} else if (X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0) != 1 ||
	           (role == PKI_ROLE_SIP_TLS &&
	            X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0) != 1)) {
		*why = "wrong key usage";
	} else if ((have = pki_file_exists(key_path, err)) < 0) {
		rc = -1;
	} else if (!have) {
		*why = "key missing";
	} else if (pki_key_load(key_path, &key, err) < 0) {
		rc = -1;
	} else if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
		/* What a crash between writing a new key and its certificate leaves. */
		*why = "key does not match";
	} else {
		rc = 1;
	}
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

int pki_role_issue(struct pki *pki, enum pki_role role, const char *host, const char *why,
                   struct base_err *err)
{
	const struct pki_cert_spec spec = {
	    .cn = host,
	    .years = ROLE_YEARS,
	    .client_auth = role == PKI_ROLE_SIP_TLS,
	    .host = host,
	};
	EVP_PKEY *key = pki_rsa_keygen(ROLE_KEY_BITS, err);
	X509 *cert = NULL;
	int rc = -1;

	if (!key) {
		return -1;
	}
	cert = pki_cert_issue(&spec, key, pki->ca_cert, pki->ca_key, err);
	/* Key first: a crash in between leaves a key that does not match the old
	 * certificate, which the next role_check() re-issues. */
	if (cert && pki_key_save(pki->role_key_path[role], key, err) == 0 &&
	    pki_cert_save(pki->role_cert_path[role], cert, err) == 0) {
		base_log(BASE_LOG_INFO, "pki", "issued %s certificate for %s (%s)",
		         role_names[role], host, why);
		rc = 0;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int pki_role_ensure(struct pki *pki, enum pki_role role, struct base_err *err)
{
	char host[64];
	const char *why = "";
	int rc;

	if (!role_valid(role)) {
		return base_err_set(err, BASE_E_INVALID, NULL, "pki: unknown role %d", (int)role);
	}
	pki_local_hostname(host, sizeof(host));
	rc = role_check(pki, role, host, &why, err);
	if (rc != 0) {
		return rc < 0 ? -1 : 0;
	}
	return pki_role_issue(pki, role, host, why, err);
}
