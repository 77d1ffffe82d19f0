/*
 * Renewing role certificates while ucmd runs: a new pair from our CA, or a pair whose
 * certificate an external CA signed from our request. The old certificate is kept as
 * <role>.previous.crt with the time its overlap ends in <role>.previous.until, so trust
 * lists can carry both while phones move over. TLS contexts attached to a role are reloaded
 * in place: new handshakes present the new certificate, connected phones keep their session.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki_int.h"

#define MAX_CONTEXTS     16
#define CSR_KEY_BITS     2048
#define MAX_INSTALL_PEM  (64 * 1024)
#define MAX_OVERLAP_DAYS 365

struct role_ctx {
	SSL_CTX *ctx;
	enum pki_role role;
};

struct pki_renewal {
	struct role_ctx ctxs[MAX_CONTEXTS];
	size_t nctx;
	bool busy[PKI_ROLE_COUNT]; /* a renewal or CSR of the role is on a worker */
};

int pki_role_parse(const char *name, enum pki_role *out)
{
	for (int r = 0; r < PKI_ROLE_COUNT; r++) {
		if (name && strcmp(name, pki_role_name((enum pki_role)r)) == 0) {
			*out = (enum pki_role)r;
			return 0;
		}
	}
	return -1;
}

static struct pki_renewal *renewal(struct pki *pki)
{
	if (!pki->renewal) {
		pki->renewal = calloc(1, sizeof(*pki->renewal));
	}
	return pki->renewal;
}

void pki_renew_free(struct pki *pki)
{
	free(pki->renewal);
	pki->renewal = NULL;
}

static int check_role(enum pki_role role, struct base_err *err)
{
	if ((unsigned)role >= PKI_ROLE_COUNT) {
		return base_err_set(err, BASE_E_NOT_FOUND, "role", "no role %d", (int)role);
	}
	return 0;
}

int pki_tls_role_attach(struct pki *pki, SSL_CTX *ctx, enum pki_role role, struct base_err *err)
{
	struct pki_renewal *rn = renewal(pki);

	if (check_role(role, err) < 0) {
		return -1;
	}
	if (!rn) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	if (rn->nctx == MAX_CONTEXTS) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: too many TLS contexts");
	}
	rn->ctxs[rn->nctx++] = (struct role_ctx){ctx, role};
	return 0;
}

void pki_tls_role_detach(struct pki *pki, SSL_CTX *ctx)
{
	struct pki_renewal *rn = pki ? pki->renewal : NULL;

	for (size_t i = 0; rn && i < rn->nctx;) {
		if (rn->ctxs[i].ctx == ctx) {
			rn->ctxs[i] = rn->ctxs[--rn->nctx];
		} else {
			i++;
		}
	}
}

static int reload_contexts(struct pki *pki, enum pki_role role, struct base_err *err)
{
	struct pki_renewal *rn = pki->renewal;
	int rc = 0;

	for (size_t i = 0; rn && i < rn->nctx; i++) {
		if (rn->ctxs[i].role == role &&
		    net_tls_reload_cert(rn->ctxs[i].ctx, pki->role_cert_path[role],
		                        pki->role_key_path[role], err) < 0) {
			rc = -1;
		}
	}
	return rc;
}

static void side_path(const struct pki *pki, enum pki_role role, const char *suffix, char *out,
                      size_t size)
{
	snprintf(out, size, "%s/%s%s", pki->dir, pki_role_name(role), suffix);
}

/* Copies the role's certificate aside as the previous one, trusted until now + overlap or
 * its own expiry, whichever comes first. No current certificate: nothing to keep. */
static int keep_previous(struct pki *pki, enum pki_role role, int overlap_days,
                         struct base_err *err)
{
	char path[PATH_MAX + 32], until_text[32];
	const char *previous = pki->role_previous_path[role];
	X509 *old;
	int have = pki_file_exists(pki->role_cert_path[role], err);

	if (have <= 0) {
		return have;
	}
	if (pki_cert_load(pki->role_cert_path[role], &old, err) < 0) {
		return -1;
	}
	time_t until = time(NULL) + (time_t)overlap_days * 86400;
	if (X509_cmp_time(X509_get0_notAfter(old), &until) < 0) {
		struct tm tm;

		ASN1_TIME_to_tm(X509_get0_notAfter(old), &tm);
		until = timegm(&tm);
	}
	int rc = pki_cert_save(previous, old, err);
	X509_free(old);
	if (rc < 0) {
		return -1;
	}
	int n = snprintf(until_text, sizeof(until_text), "%lld\n", (long long)until);
	side_path(pki, role, ".previous.until", path, sizeof(path));
	return pki_file_write(path, until_text, (size_t)n, 0600, err);
}

static int check_overlap(int overlap_days, struct base_err *err)
{
	if (overlap_days < 0 || overlap_days > MAX_OVERLAP_DAYS) {
		return base_err_set(err, BASE_E_INVALID, "overlap_days",
		                    "the overlap is 0 to %d days", MAX_OVERLAP_DAYS);
	}
	return 0;
}

/* <role>.external marks a certificate installed from an external CA, so that startup keeps
 * it instead of refusing a certificate our CA did not issue. */
static void external_path(const struct pki *pki, enum pki_role role, char *out, size_t size)
{
	side_path(pki, role, ".external", out, size);
}

int pki_role_external_check(struct pki *pki, enum pki_role role, struct base_err *err)
{
	char marker[PATH_MAX + 32];
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc;

	external_path(pki, role, marker, sizeof(marker));
	rc = pki_file_exists(marker, err);
	if (rc <= 0) {
		return rc;
	}
	rc = -1;
	if (pki_cert_load(pki->role_cert_path[role], &cert, err) < 0 ||
	    pki_key_load(pki->role_key_path[role], &key, err) < 0) {
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1 ||
	    X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		base_err_set(
		    err, BASE_E_INTERNAL, NULL,
		    "pki: the externally signed %s certificate expired or does not match "
		    "its key; install a new one, or remove %s to go back to the OpenUCM CA",
		    pki_role_name(role), marker);
		goto out;
	}
	rc = 1;
out:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

/* The files of a renewal: previous kept, new pair issued, external marker gone. Touches no
 * TLS context, so a worker may run it. */
static int renew_files(struct pki *pki, enum pki_role role, int overlap_days, struct base_err *err)
{
	char host[64], marker[PATH_MAX + 32];

	if (keep_previous(pki, role, overlap_days, err) < 0) {
		return -1;
	}
	pki_local_hostname(host, sizeof(host));
	if (pki_role_issue(pki, role, host, "renewed by an administrator", err) < 0) {
		return -1;
	}
	/* Renewed by our own CA: an external certificate it replaced is no longer kept. */
	external_path(pki, role, marker, sizeof(marker));
	unlink(marker);
	return 0;
}

int pki_role_renew(struct pki *pki, enum pki_role role, int overlap_days, struct base_err *err)
{
	if (check_role(role, err) < 0 || check_overlap(overlap_days, err) < 0 ||
	    renew_files(pki, role, overlap_days, err) < 0) {
		return -1;
	}
	return reload_contexts(pki, role, err);
}

struct role_job {
	struct pki *pki;
	enum pki_role role;
	enum pki_role_op op;
	int overlap_days;
	pki_role_done_fn done;
	void *arg;
	char *csr;
	int rc;
	struct base_err err;
};

static void role_work(void *arg)
{
	struct role_job *job = arg;

	job->rc = job->op == PKI_ROLE_OP_RENEW
	              ? renew_files(job->pki, job->role, job->overlap_days, &job->err)
	              : pki_role_csr(job->pki, job->role, &job->csr, &job->err);
}

static void role_done(void *arg)
{
	struct role_job *job = arg;

	if (job->rc == 0 && job->op == PKI_ROLE_OP_RENEW) {
		job->rc = reload_contexts(job->pki, job->role, &job->err);
	}
	job->pki->renewal->busy[job->role] = false;
	job->done(job->arg, job->csr, job->rc == 0 ? NULL : &job->err);
	free(job->csr);
	free(job);
}

static int check_idle(struct pki *pki, enum pki_role role, struct base_err *err)
{
	struct pki_renewal *rn = renewal(pki);

	if (!rn) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	if (rn->busy[role]) {
		return base_err_set(err, BASE_E_CONFLICT, "role",
		                    "the %s certificate is being renewed or requested; try again",
		                    pki_role_name(role));
	}
	return 0;
}

int pki_role_op_async(struct pki *pki, struct net_work_pool *pool, enum pki_role role,
                      enum pki_role_op op, int overlap_days, pki_role_done_fn done, void *arg,
                      struct base_err *err)
{
	struct role_job *job;

	if (check_role(role, err) < 0 || check_overlap(overlap_days, err) < 0 ||
	    check_idle(pki, role, err) < 0) {
		return -1;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	*job = (struct role_job){.pki = pki,
	                         .role = role,
	                         .op = op,
	                         .overlap_days = overlap_days,
	                         .done = done,
	                         .arg = arg};
	if (net_work_submit(pool, role_work, role_done, job, err) < 0) {
		free(job);
		return -1;
	}
	pki->renewal->busy[role] = true;
	return 0;
}

const char *pki_role_previous_path(const struct pki *pki, enum pki_role role)
{
	char path[PATH_MAX + 32], text[32] = "";
	FILE *f;

	if ((unsigned)role >= PKI_ROLE_COUNT) {
		return NULL;
	}
	side_path(pki, role, ".previous.until", path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		return NULL;
	}
	if (!fgets(text, sizeof(text), f)) {
		text[0] = '\0';
	}
	fclose(f);
	return atoll(text) > (long long)base_time_now() ? pki->role_previous_path[role] : NULL;
}

int pki_role_previous_list(const struct pki *pki, struct pki_cert_info **out, size_t *count,
                           struct base_err *err)
{
	struct pki_cert_info *list = calloc(PKI_ROLE_COUNT, sizeof(*list));
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (!list) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: out of memory");
	}
	for (int r = 0; r < PKI_ROLE_COUNT; r++) {
		const char *path = pki_role_previous_path(pki, (enum pki_role)r);
		char name[48];
		X509 *cert;

		if (!path || pki_cert_load(path, &cert, err) < 0) {
			continue;
		}
		snprintf(name, sizeof(name), "%s.previous", pki_role_name((enum pki_role)r));
		pki_cert_describe(&list[n++], name, cert);
		X509_free(cert);
	}
	*out = list;
	*count = n;
	return 0;
}

/* ---- external CA ---- */

static int add_request_san(X509_REQ *req, const char *host)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	char value[160];
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok = 0;

	snprintf(value, sizeof(value), "DNS:%s", host);
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, value);
	if (exts && ext && sk_X509_EXTENSION_push(exts, ext) > 0) {
		ext = NULL;
		ok = X509_REQ_add_extensions(req, exts) == 1;
	}
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return ok ? 0 : -1;
}

static char *request_pem(X509_REQ *req)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long len;

	if (bio && PEM_write_bio_X509_REQ(bio, req) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0) {
		out = strndup(data, (size_t)len);
	}
	BIO_free(bio);
	return out;
}

int pki_role_csr(struct pki *pki, enum pki_role role, char **pem, struct base_err *err)
{
	char host[64], path[PATH_MAX + 32];
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	int rc = -1;

	*pem = NULL;
	if (check_role(role, err) < 0 || !(key = pki_rsa_keygen(CSR_KEY_BITS, err))) {
		return -1;
	}
	pki_local_hostname(host, sizeof(host));
	ERR_clear_error();
	req = X509_REQ_new();
	if (!req ||
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
	                               (const unsigned char *)host, -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 || add_request_san(req, host) < 0 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 || !(*pem = request_pem(req))) {
		pki_ssl_error(err, "cannot make a certificate request for", pki_role_name(role));
		goto out;
	}
	side_path(pki, role, ".pending.key", path, sizeof(path));
	rc = pki_key_save(path, key, err);
	if (rc < 0) {
		free(*pem);
		*pem = NULL;
	}
out:
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}

static X509 *first_cert(const char *pem, size_t len, struct base_err *err)
{
	BIO *bio;
	X509 *cert;

	if (len == 0 || len > MAX_INSTALL_PEM) {
		base_err_set(err, BASE_E_INVALID, "certificate",
		             "give the signed certificate as PEM, at most %d bytes",
		             MAX_INSTALL_PEM);
		return NULL;
	}
	ERR_clear_error();
	bio = BIO_new_mem_buf(pem, (int)len);
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (!cert) {
		base_err_set(err, BASE_E_INVALID, "certificate", "not a PEM certificate");
	}
	return cert;
}

int pki_role_install(struct pki *pki, enum pki_role role, const char *pem, size_t len,
                     int overlap_days, struct base_err *err)
{
	char key_path[PATH_MAX + 32], buf[128];
	EVP_PKEY *key = NULL;
	X509 *cert;
	int rc = -1;

	if (check_role(role, err) < 0 || check_overlap(overlap_days, err) < 0 ||
	    check_idle(pki, role, err) < 0 || !(cert = first_cert(pem, len, err))) {
		return -1;
	}
	side_path(pki, role, ".pending.key", key_path, sizeof(key_path));
	int have = pki_file_exists(key_path, err);
	if (have == 0) {
		base_err_set(err, BASE_E_CONFLICT, "certificate",
		             "no request is pending for %s; generate a CSR first",
		             pki_role_name(role));
	}
	if (have <= 0 || pki_key_load(key_path, &key, err) < 0) {
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
		base_err_set(err, BASE_E_INVALID, "certificate",
		             "the certificate is not for the key of the pending request");
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		base_err_set(err, BASE_E_INVALID, "certificate",
		             "the certificate is not valid now");
		goto out;
	}
	/* Key first, as pki.c does: a crash in between leaves a mismatch that the next
	 * start notices. The PEM is stored as given, so the chain goes out with it. */
	char marker[PATH_MAX + 32];
	external_path(pki, role, marker, sizeof(marker));
	if (keep_previous(pki, role, overlap_days, err) < 0 ||
	    pki_key_save(pki->role_key_path[role], key, err) < 0 ||
	    pki_file_write(pki->role_cert_path[role], pem, len, 0644, err) < 0 ||
	    pki_file_write(marker, "external\n", 9, 0600, err) < 0) {
		goto out;
	}
	if (unlink(key_path) < 0) {
		base_log(BASE_LOG_WARN, "pki", "cannot remove %s: %s", key_path,
		         strerror_r(errno, buf, sizeof(buf)));
	}
	base_log(BASE_LOG_INFO, "pki", "installed an externally signed %s certificate",
	         pki_role_name(role));
	rc = reload_contexts(pki, role, err);
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}
