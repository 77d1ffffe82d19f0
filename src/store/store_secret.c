/*
 * Secrets at rest.
 *
 * Passwords and PINs are only ever checked, so they are kept as salted scrypt hashes.
 * Digest credentials are different: the registrar needs HA1 = H(user:realm:password) for
 * each algorithm it offers (MD5 and SHA-256), and some phones must receive the password
 * itself in their configuration file, so it is also kept sealed with AES-256-GCM under a
 * key that lives in its own file (mode 0600) beside the database, never in it.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of milliseconds). */
#define SCRYPT_LOG_N 14
#define SCRYPT_R     8
#define SCRYPT_P     1
#define SALT_LEN     16
#define HASH_LEN     32

static int create_key_file(struct store *s, const char *path, struct base_err *err)
{
	if (RAND_bytes(s->secret_key, sizeof(s->secret_key)) != 1)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "no randomness for the store key");
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot create %s: %s", tmp,
		                    strerror(errno));
	bool ok = write(fd, s->secret_key, sizeof(s->secret_key)) == sizeof(s->secret_key) &&
	          fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot write %s: %s", path,
		                    strerror(errno));
	}
	return 0;
}

int store_secret_load_key(struct store *s, const char *path, struct base_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return create_key_file(s, path, err);
	if (fd < 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot read %s: %s", path,
		                    strerror(errno));
	struct stat st;
	ssize_t n = read(fd, s->secret_key, sizeof(s->secret_key));
	bool private_file = fstat(fd, &st) == 0 && (st.st_mode & 077) == 0;
	close(fd);
	if (n != (ssize_t)sizeof(s->secret_key))
		return base_err_set(err, BASE_E_INTERNAL, NULL, "%s is not a 32-byte key", path);
	if (!private_file)
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "%s is readable by others; chmod 600 it", path);
	return 0;
}

static int scrypt(const char *password, const unsigned char *salt, unsigned char *out)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint64_t n = 1ULL << SCRYPT_LOG_N;
	uint32_t r = SCRYPT_R, p = SCRYPT_P;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password,
	                                      strlen(password)),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SALT_LEN),
	    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
	    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
	    OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
	    OSSL_PARAM_construct_end(),
	};
	int rc = ctx && EVP_KDF_derive(ctx, out, HASH_LEN, params) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int store_secret_hash(const char *password, char *out, size_t size, struct base_err *err)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
	if (RAND_bytes(salt, sizeof(salt)) != 1 || scrypt(password, salt, hash) != 0)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot hash a password");
	base_hex(salt, sizeof(salt), salt_hex);
	base_hex(hash, sizeof(hash), hash_hex);
	snprintf(out, size, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P,
	         salt_hex, hash_hex);
	OPENSSL_cleanse(hash, sizeof(hash));
	return 0;
}

bool store_secret_verify(const char *password, const char *encoded)
{
	char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
	int ln, r, p;
	if (sscanf(encoded, "$scrypt$ln=%d,r=%d,p=%d$%32[0-9a-f]$%64[0-9a-f]", &ln, &r, &p,
	           salt_hex, hash_hex) != 5 ||
	    ln != SCRYPT_LOG_N || r != SCRYPT_R || p != SCRYPT_P)
		return false;
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	for (int i = 0; i < SALT_LEN; i++)
		sscanf(salt_hex + 2 * i, "%2hhx", &salt[i]);
	if (scrypt(password, salt, hash) != 0)
		return false;
	char computed[2 * HASH_LEN + 1];
	base_hex(hash, sizeof(hash), computed);
	OPENSSL_cleanse(hash, sizeof(hash));
	return base_mem_equal_ct(computed, hash_hex, sizeof(computed) - 1);
}

int store_secret_seal(struct store *s, const char *plain, char *out, size_t size,
                      struct base_err *err)
{
	unsigned char iv[12], tag[16], cipher[512];
	int len = (int)strlen(plain), n = 0, fin = 0;
	if (len > (int)sizeof(cipher) - 16 || RAND_bytes(iv, sizeof(iv)) != 1)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot seal a secret");
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->secret_key, iv) &&
	          EVP_EncryptUpdate(ctx, cipher, &n, (const unsigned char *)plain, len) &&
	          EVP_EncryptFinal_ex(ctx, cipher + n, &fin) &&
	          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag);
	EVP_CIPHER_CTX_free(ctx);
	size_t total = sizeof(iv) + (size_t)(n + fin) + sizeof(tag);
	if (!ok || size < 2 * total + 1)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot seal a secret");
	/* iv | ciphertext | tag, hex encoded */
	base_hex(iv, sizeof(iv), out);
	base_hex(cipher, (size_t)(n + fin), out + 2 * sizeof(iv));
	base_hex(tag, sizeof(tag), out + 2 * (sizeof(iv) + (size_t)(n + fin)));
	OPENSSL_cleanse(cipher, sizeof(cipher));
	return 0;
}

/* The inverse of store_secret_seal; fails on anything it did not write with this key. */
int store_secret_open(struct store *s, const char *sealed, char *out, size_t size,
                      struct base_err *err)
{
	size_t hex = strlen(sealed), n = hex / 2;
	unsigned char raw[600], plain[600];
	if (hex % 2 || n < 12 + 16 || n > sizeof(raw))
		return base_err_set(err, BASE_E_INTERNAL, NULL, "a sealed secret is damaged");
	for (size_t i = 0; i < n; i++)
		if (sscanf(sealed + 2 * i, "%2hhx", &raw[i]) != 1)
			return base_err_set(err, BASE_E_INTERNAL, NULL,
			                    "a sealed secret is damaged");
	int len = (int)(n - 12 - 16), got = 0, fin = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->secret_key, raw) &&
	          EVP_DecryptUpdate(ctx, plain, &got, raw + 12, len) &&
	          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, raw + 12 + len) &&
	          EVP_DecryptFinal_ex(ctx, plain + got, &fin) && (size_t)(got + fin) < size;
	EVP_CIPHER_CTX_free(ctx);
	if (ok) {
		memcpy(out, plain, (size_t)(got + fin));
		out[got + fin] = '\0';
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return ok ? 0 : base_err_set(err, BASE_E_INTERNAL, NULL, "a sealed secret does not open");
}

int store_secret_digest_ha1(const char *algorithm, const char *user, const char *realm,
                            const char *password, char *out, size_t size, struct base_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *type = strcmp(algorithm, "MD5") == 0 ? EVP_md5() : EVP_sha256();
	bool ok = ctx && EVP_DigestInit_ex(ctx, type, NULL) &&
	          EVP_DigestUpdate(ctx, user, strlen(user)) && EVP_DigestUpdate(ctx, ":", 1) &&
	          EVP_DigestUpdate(ctx, realm, strlen(realm)) && EVP_DigestUpdate(ctx, ":", 1) &&
	          EVP_DigestUpdate(ctx, password, strlen(password)) &&
	          EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || size < 2 * mdlen + 1)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot compute HA1");
	base_hex(md, mdlen, out);
	return 0;
}

static int update_columns(struct store *s, const struct store_kind *kind, const char *key,
                          const char *const *cols, const char *const *values, int n,
                          struct base_err *err)
{
	char sql[512];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "UPDATE %s SET ", kind->table);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s = ?%d", i ? ", " : "",
		                        cols[i], i + 1);
	snprintf(sql + len, sizeof(sql) - len, " WHERE %s = ?%d", store_kind_key(kind)->name,
	         n + 1);
	sqlite3_stmt *st = store_db_stmt(s, sql, err);
	if (!st)
		return -1;
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, values[i], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, n + 1, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "storing a secret");
}

int store_secret_write(struct store *s, const struct store_kind *kind, const char *key,
                       const struct store_field *f, const char *value, struct base_err *err)
{
	char col[80];
	snprintf(col, sizeof(col), "%s_secret", f->name);
	s->credentials_generation++;
	if (strcmp(f->name, "symmetric_key") == 0) {
		/* Provisioning encrypts with the key itself: sealed, not hashed. */
		char sealed[400];
		const char *cols[] = {col}, *values[] = {sealed};
		if (store_symkey_seal(s, value, sealed, sizeof(sealed), err) != 0)
			return -1;
		return update_columns(s, kind, key, cols, values, 1, err);
	}
	if (strcmp(f->name, "digest_credentials") != 0) {
		char hash[160];
		if (store_secret_hash(value, hash, sizeof(hash), err) != 0)
			return -1;
		const char *cols[] = {col}, *values[] = {hash};
		return update_columns(s, kind, key, cols, values, 1, err);
	}
	char realm[256] = "ccmsipline", sealed[1200], md5[33], sha256[65];
	store_param_get(s, "service_parameter", "sip_station_realm", realm, sizeof(realm));
	if (store_secret_seal(s, value, sealed, sizeof(sealed), err) != 0 ||
	    store_secret_digest_ha1("MD5", key, realm, value, md5, sizeof(md5), err) != 0 ||
	    store_secret_digest_ha1("SHA-256", key, realm, value, sha256, sizeof(sha256), err) != 0)
		return -1;
	const char *cols[] = {col, "digest_ha1_md5", "digest_ha1_sha256"};
	const char *values[] = {sealed, md5, sha256};
	return update_columns(s, kind, key, cols, values, 3, err);
}
