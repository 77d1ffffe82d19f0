/* PEM files: atomic writes with the right mode, and loads that never prompt for a password. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki_int.h"

int pki_ssl_error(struct base_err *err, const char *what, const char *path)
{
	char reason[160] = "unknown error";
	unsigned long e;
	bool found = false;

	/* OpenSSL stacks wrappers ("PEM lib", "system lib") on the real cause; the first
	 * specific entry is the one a person can act on. */
	while ((e = ERR_get_error()) != 0) {
		if (found) {
			continue;
		}
		if (ERR_SYSTEM_ERROR(e)) {
			char buf[128];

			snprintf(reason, sizeof(reason), "%s",
			         strerror_r(ERR_GET_REASON(e), buf, sizeof(buf)));
			found = true;
		} else if (!ERR_COMMON_ERROR(e) && ERR_reason_error_string(e)) {
			snprintf(reason, sizeof(reason), "%s", ERR_reason_error_string(e));
			found = true;
		}
	}
	if (path) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: %s %s: %s", what, path,
		                    reason);
	}
	return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: %s: %s", what, reason);
}

static int sys_error(struct base_err *err, const char *what, const char *path, int e)
{
	char buf[128];

	return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: %s %s: %s", what, path,
	                    strerror_r(e, buf, sizeof(buf)));
}

int pki_file_exists(const char *path, struct base_err *err)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		return 1;
	}
	if (errno == ENOENT) {
		return 0;
	}
	return sys_error(err, "cannot check", path, errno);
}

/* Makes the rename that just happened survive a power cut. */
static int fsync_parent(const char *path, struct base_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return sys_error(err, "cannot open", dir, errno);
	}
	if (fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return sys_error(err, "cannot sync", dir, e);
	}
	close(fd);
	return 0;
}

/* Writes to "<path>.tmp" created 0600 with O_EXCL (so it is never someone else's file or a
 * symlink), syncs it, then renames it over path: a crash leaves the old file or the new one,
 * never half a key. */
int pki_file_write(const char *path, const char *data, size_t len, mode_t mode,
                   struct base_err *err)
{
	char tmp[PATH_MAX];
	int fd;
	int e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: path too long: %s", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a crash during an earlier write; only this process writes here. */
		if (unlink(tmp) < 0) {
			return sys_error(err, "cannot remove stale", tmp, errno);
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		return sys_error(err, "cannot create", tmp, errno);
	}
	/* fchmod, because the mode given to open() is reduced by the umask. */
	if (fchmod(fd, mode) < 0) {
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			goto fail;
		}
		data += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		goto fail;
	}
	return fsync_parent(path, err);

fail:
	e = errno;
	if (fd >= 0) {
		close(fd);
	}
	unlink(tmp);
	return sys_error(err, "cannot write", path, e);
}

static int save_bio(const char *path, BIO *bio, mode_t mode, struct base_err *err)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "pki: nothing to write to %s",
		                    path);
	}
	return pki_file_write(path, data, (size_t)len, mode, err);
}

int pki_key_save(const char *path, EVP_PKEY *key, struct base_err *err)
{
	/* The secure-memory BIO wipes its buffer when freed, so the PEM text of the key does
	 * not linger in freed heap. */
	BIO *bio = BIO_new(BIO_s_secmem());
	int rc;

	ERR_clear_error();
	if (!bio) {
		return pki_ssl_error(err, "cannot allocate a buffer for", path);
	}
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return pki_ssl_error(err, "cannot encode key for", path);
	}
	rc = save_bio(path, bio, 0600, err);
	BIO_free(bio);
	return rc;
}

int pki_cert_save(const char *path, X509 *cert, struct base_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc;

	ERR_clear_error();
	if (!bio) {
		return pki_ssl_error(err, "cannot allocate a buffer for", path);
	}
	if (PEM_write_bio_X509(bio, cert) != 1) {
		BIO_free(bio);
		return pki_ssl_error(err, "cannot encode certificate for", path);
	}
	rc = save_bio(path, bio, 0644, err);
	BIO_free(bio);
	return rc;
}

/* OpenSSL's default callback would prompt on the terminal for an encrypted key; a daemon
 * must fail instead. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Opens a PEM file for reading, with OpenSSL's error queue clear for the read that follows. */
static BIO *pem_open(const char *path, struct base_err *err)
{
	ERR_clear_error();
	BIO *bio = BIO_new_file(path, "r");
	if (!bio)
		pki_ssl_error(err, "cannot open", path);
	return bio;
}

int pki_key_load(const char *path, EVP_PKEY **out, struct base_err *err)
{
	BIO *bio = pem_open(path, err);
	if (!bio)
		return -1;
	*out = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	return *out ? 0 : pki_ssl_error(err, "cannot read private key", path);
}

int pki_cert_load(const char *path, X509 **out, struct base_err *err)
{
	BIO *bio = pem_open(path, err);
	if (!bio)
		return -1;
	*out = PEM_read_bio_X509(bio, NULL, no_password, NULL);
	BIO_free(bio);
	return *out ? 0 : pki_ssl_error(err, "cannot read certificate", path);
}
