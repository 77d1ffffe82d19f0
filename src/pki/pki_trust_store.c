/*
 * Named trust stores: sets of CA certificates an administrator trusts for one purpose, for
 * example "manufacturer", the CAs that sign phones' factory certificates (MICs), against
 * which CAPF verifies a MIC. Each store is a directory <data_dir>/pki/trust/<name>/ holding
 * one PEM file (.crt; .pem files put there by hand are read too) per certificate, named by its
 * SHA-256 fingerprint in lower-case hex, so the same certificate cannot be added twice and
 * files can be inspected with openssl.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki_int.h"

#define NAME_CHARS     "abcdefghijklmnopqrstuvwxyz0123456789-"
#define MAX_NAME       32
#define MAX_STORE_SIZE 1000
#define MAX_PEM_LEN    (64 * 1024)

static int check_name(const char *name, struct base_err *err)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > MAX_NAME || !base_str_all(name, NAME_CHARS) || name[0] == '-') {
		return base_err_set(err, BASE_E_INVALID, "store",
		                    "a trust store name is 1 to %d lower-case letters, digits and "
		                    "hyphens",
		                    MAX_NAME);
	}
	return 0;
}

static int store_dir(const struct pki *pki, const char *name, char out[PATH_MAX],
                     struct base_err *err)
{
	if (check_name(name, err) < 0) {
		return -1;
	}
	if (snprintf(out, PATH_MAX, "%s/trust/%s", pki->dir, name) >= PATH_MAX) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: path too long");
	}
	return 0;
}

static int make_dir(const char *path, struct base_err *err)
{
	char buf[128];

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot create %s: %s", path,
		                    strerror_r(errno, buf, sizeof(buf)));
	}
	return 0;
}

/* "AB:CD:..." or "abcd..." to 64 lower-case hex digits; -1 when it is neither. */
static int fingerprint_hex(const char *in, char out[65])
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == ':') {
			continue;
		}
		if (n == 64 || !strchr("0123456789abcdefABCDEF", *p)) {
			return -1;
		}
		out[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	}
	out[n] = '\0';
	return n == 64 ? 0 : -1;
}

static X509 *parse_one_cert(const char *pem, size_t len, struct base_err *err)
{
	BIO *bio;
	X509 *cert, *extra;

	if (len == 0 || len > MAX_PEM_LEN) {
		base_err_set(err, BASE_E_INVALID, "certificate",
		             "the certificate must be PEM text of at most %d bytes", MAX_PEM_LEN);
		return NULL;
	}
	ERR_clear_error();
	bio = BIO_new_mem_buf(pem, (int)len);
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	extra = cert ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (!cert) {
		base_err_set(err, BASE_E_INVALID, "certificate",
		             "not a PEM certificate (-----BEGIN CERTIFICATE-----)");
		return NULL;
	}
	if (extra) {
		X509_free(extra);
		X509_free(cert);
		base_err_set(err, BASE_E_INVALID, "certificate", "give one certificate at a time");
		return NULL;
	}
	return cert;
}

int pki_trust_add(struct pki *pki, const char *store, const char *pem, size_t len,
                  struct pki_cert_info *out, struct base_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], hex[65];
	X509 *cert;
	int rc = -1;

	if (store_dir(pki, store, dir, err) < 0 || !(cert = parse_one_cert(pem, len, err))) {
		return -1;
	}
	if (X509_check_ca(cert) < 1) {
		base_err_set(
		    err, BASE_E_INVALID, "certificate",
		    "only CA certificates (basicConstraints CA:TRUE) can be trust anchors");
		goto out;
	}
	pki_cert_describe(out, store, cert);
	fingerprint_hex(out->sha256_fingerprint, hex);
	snprintf(path, sizeof(path), "%s/%s.crt", dir, hex);
	char trust_dir[PATH_MAX + 8];
	snprintf(trust_dir, sizeof(trust_dir), "%s/trust", pki->dir);
	if (make_dir(trust_dir, err) < 0 || make_dir(dir, err) < 0) {
		goto out;
	}
	int exists = pki_file_exists(path, err);
	if (exists < 0) {
		goto out;
	}
	if (exists) {
		base_err_set(err, BASE_E_CONFLICT, "certificate",
		             "this certificate is already in trust store %s", store);
		goto out;
	}
	rc = pki_cert_save(path, cert, err);
out:
	X509_free(cert);
	return rc;
}

int pki_trust_remove(struct pki *pki, const char *store, const char *fingerprint,
                     struct base_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], hex[65], buf[128];

	if (store_dir(pki, store, dir, err) < 0) {
		return -1;
	}
	if (!fingerprint || fingerprint_hex(fingerprint, hex) < 0) {
		return base_err_set(err, BASE_E_INVALID, "fingerprint",
		                    "give the certificate's SHA-256 fingerprint");
	}
	snprintf(path, sizeof(path), "%s/%s.crt", dir, hex);
	int rc = unlink(path);
	if (rc < 0 && errno == ENOENT) {
		/* A certificate an administrator copied in by hand under the older name. */
		snprintf(path, sizeof(path), "%s/%s.pem", dir, hex);
		rc = unlink(path);
	}
	if (rc < 0) {
		if (errno == ENOENT) {
			return base_err_set(err, BASE_E_NOT_FOUND, "fingerprint",
			                    "trust store %s has no such certificate", store);
		}
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot remove %s: %s", path,
		                    strerror_r(errno, buf, sizeof(buf)));
	}
	return 0;
}

/* Calls fn for each certificate of the store, in directory order. A missing store is an
 * empty one. */
static int each_cert(const struct pki *pki, const char *store, int (*fn)(void *arg, X509 *cert),
                     void *arg, struct base_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], buf[128];
	DIR *d;
	struct dirent *e;
	int rc = 0, seen = 0;

	if (store_dir(pki, store, dir, err) < 0) {
		return -1;
	}
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			return 0;
		}
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot read %s: %s", dir,
		                    strerror_r(errno, buf, sizeof(buf)));
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		X509 *cert;

		if (n != 68 ||
		    (strcmp(e->d_name + 64, ".crt") != 0 && strcmp(e->d_name + 64, ".pem") != 0)) {
			continue;
		}
		if (++seen > MAX_STORE_SIZE) {
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (pki_cert_load(path, &cert, err) < 0) {
			rc = -1;
			break;
		}
		rc = fn(arg, cert);
		X509_free(cert);
		if (rc < 0) {
			base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
		}
	}
	closedir(d);
	return rc;
}

struct list_acc {
	const char *store;
	struct pki_cert_info *items;
	size_t count;
};

static int list_one(void *arg, X509 *cert)
{
	struct list_acc *acc = arg;
	struct pki_cert_info *grown = realloc(acc->items, (acc->count + 1) * sizeof(*grown));

	if (!grown) {
		return -1;
	}
	acc->items = grown;
	pki_cert_describe(&acc->items[acc->count++], acc->store, cert);
	return 0;
}

int pki_trust_list(const struct pki *pki, const char *store, struct pki_cert_info **out,
                   size_t *count, struct base_err *err)
{
	struct list_acc acc = {.store = store};

	*out = NULL;
	*count = 0;
	if (each_cert(pki, store, list_one, &acc, err) < 0) {
		free(acc.items);
		return -1;
	}
	*out = acc.items;
	*count = acc.count;
	return 0;
}

static int store_one(void *arg, X509 *cert)
{
	return X509_STORE_add_cert(arg, cert) == 1 ? 0 : -1;
}

X509_STORE *pki_trust_store(const struct pki *pki, const char *store, struct base_err *err)
{
	X509_STORE *xs = X509_STORE_new();

	if (!xs) {
		pki_ssl_error(err, "cannot allocate a trust store", NULL);
		return NULL;
	}
	if (each_cert(pki, store, store_one, xs, err) < 0) {
		X509_STORE_free(xs);
		return NULL;
	}
	return xs;
}
