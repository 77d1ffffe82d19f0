/*
 * The signed header shared by trust lists (.tlv), signed files (.sgn) and encrypted
 * configurations (.enc.sgn): building it with room for the signature, signing everything but
 * the SIGNATURE TLV, and a strict parser that accepts only the known tags, each once, in the
 * container the format puts it in (trust-lists.md §2 and §4, sgn-and-encrypted-config.md).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"

#define WHAT "signed file header"

const EVP_MD *pki_hash_md(int hash)
{
	switch (hash) {
	case PKI_HASH_SHA1:
		return EVP_sha1();
	case PKI_HASH_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* SIGNATURE_MODULUS: the signature size as an index, 64 << index bytes. */
static int modulus_index(size_t sig_len)
{
	for (int i = 0; i < 4; i++) {
		if (sig_len == (size_t)64 << i) {
			return i;
		}
	}
	return -1;
}

void pki_signer_free(struct pki_signer *signer)
{
	X509_free(signer->cert);
	EVP_PKEY_free(signer->key);
	memset(signer, 0, sizeof(*signer));
}

int pki_signer_load(const struct pki *pki, struct pki_signer *signer, struct base_err *err)
{
	memset(signer, 0, sizeof(*signer));
	signer->hash = pki->sign_hash ? pki->sign_hash : PKI_HASH_SHA512;
	if (pki_cert_load(pki->role_cert_path[PKI_ROLE_TFTP_SIGNER], &signer->cert, err) < 0 ||
	    pki_key_load(pki->role_key_path[PKI_ROLE_TFTP_SIGNER], &signer->key, err) < 0) {
		pki_signer_free(signer);
		return -1;
	}
	return 0;
}

/* The header up to and without SIGNATURE, sized as if SIGNATURE were in it; *sig_at is where
 * SIGNATURE goes. */
static void header_write(struct pki_buf *b, const struct pki_signer *signer,
                         const struct pki_header_spec *spec, size_t sig_len, size_t *sig_at,
                         const char *subject, const char *issuer, const unsigned char *serial,
                         size_t serial_len)
{
	pki_tlv_put(b, PKI_H_VERSION, spec->version, 2);
	pki_tlv_u16(b, PKI_H_HEADER_LENGTH, 0);
	size_t length_at = b->len - 2;

	if (spec->signer_version) {
		pki_tlv_put(b, PKI_H_SIGNER_VERSION, spec->signer_version, 2);
	}
	size_t info = pki_tlv_open(b, PKI_H_SIGNER_INFO);

	pki_tlv_str(b, PKI_H_SIGNER_NAME, subject);
	pki_tlv_str(b, PKI_H_ISSUER_NAME, issuer);
	pki_tlv_put(b, PKI_H_SERIAL_NUMBER, serial, serial_len);
	pki_tlv_close(b, info);
	size_t sig_info = pki_tlv_open(b, PKI_H_SIGNATURE_INFO);

	pki_tlv_u8(b, PKI_H_HASH_ALGORITHM, (uint8_t)signer->hash);
	size_t alg_info = pki_tlv_open(b, PKI_H_SIGNATURE_ALGORITHM_INFO);

	pki_tlv_u8(b, PKI_H_SIGNATURE_ALGORITHM, 0);
	pki_tlv_u8(b, PKI_H_SIGNATURE_MODULUS, (uint8_t)modulus_index(sig_len));
	pki_tlv_close(b, alg_info);
	pki_tlv_close(b, sig_info);
	*sig_at = b->len;
	pki_tlv_str(b, PKI_H_FILENAME, spec->file_name);
	pki_tlv_u32(b, PKI_H_TIMESTAMP, spec->timestamp);
	pki_buf_put(b, spec->extra, spec->extra_len);
	while ((b->len + 3 + sig_len) % 4 != 0) {
		pki_buf_u8(b, PKI_H_PADDING);
	}
	size_t total = b->len + 3 + sig_len;

	if (total > PKI_TLV_MAX) {
		b->failed = true;
	}
	if (!b->failed) {
		b->data[length_at] = (unsigned char)(total >> 8);
		b->data[length_at + 1] = (unsigned char)total;
	}
}

static int sign(const struct pki_signer *signer, const struct pki_buf *header,
                const unsigned char *body, size_t body_len, unsigned char *sig, size_t sig_len,
                struct base_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = sig_len;
	bool ok =
	    ctx &&
	    EVP_DigestSignInit(ctx, NULL, pki_hash_md(signer->hash), NULL, signer->key) == 1 &&
	    EVP_DigestSignUpdate(ctx, header->data, header->len) == 1 &&
	    EVP_DigestSignUpdate(ctx, body, body_len) == 1 &&
	    EVP_DigestSignFinal(ctx, sig, &n) == 1 && n == sig_len;

	EVP_MD_CTX_free(ctx);
	if (!ok) {
		return pki_ssl_error(err, "cannot sign", NULL);
	}
	return 0;
}

int pki_signed_file_build(const struct pki_signer *signer, const struct pki_header_spec *spec,
                          const unsigned char *body, size_t body_len, unsigned char **out,
                          size_t *out_len, struct base_err *err)
{
	struct pki_buf header = {0};
	struct pki_buf file = {0};
	unsigned char serial[64];
	unsigned char *sig = NULL;
	char *subject = pki_tlv_name(X509_get_subject_name(signer->cert));
	char *issuer = pki_tlv_name(X509_get_issuer_name(signer->cert));
	int serial_len = pki_tlv_serial(signer->cert, serial);
	size_t sig_len = (size_t)EVP_PKEY_get_size(signer->key);
	size_t sig_at = 0;
	int rc = -1;

	*out = NULL;
	*out_len = 0;
	if (!subject || !issuer || serial_len < 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "pki: cannot read the signer certificate");
		goto done;
	}
	if (EVP_PKEY_get_base_id(signer->key) != EVP_PKEY_RSA || modulus_index(sig_len) < 0 ||
	    !pki_hash_md(signer->hash)) {
		base_err_set(err, BASE_E_INVALID, NULL,
		             "pki: files are signed with RSA keys of 512 to 4096 bits and SHA-1 or "
		             "SHA-512 only");
		goto done;
	}
	header_write(&header, signer, spec, sig_len, &sig_at, subject, issuer, serial,
	             (size_t)serial_len);
	if (header.failed || !(sig = malloc(sig_len))) {
		base_err_set(err, BASE_E_INTERNAL, NULL,
		             "pki: out of memory or a header over 65535 bytes");
		goto done;
	}
	if (sign(signer, &header, body, body_len, sig, sig_len, err) < 0) {
		goto done;
	}
	pki_buf_put(&file, header.data, sig_at);
	pki_tlv_put(&file, PKI_H_SIGNATURE, sig, sig_len);
	pki_buf_put(&file, header.data + sig_at, header.len - sig_at);
	pki_buf_put(&file, body, body_len);
	rc = pki_buf_finish(&file, out, out_len, err);
done:
	pki_buf_free(&header);
	pki_buf_free(&file);
	free(sig);
	free(subject);
	free(issuer);
	return rc;
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* The container each header tag lives in (0: the header itself); -1: not a header tag. */
static int parent_of(uint8_t tag)
{
	switch (tag) {
	case PKI_H_VERSION:
	case PKI_H_HEADER_LENGTH:
	case PKI_H_SIGNER_VERSION:
	case PKI_H_SIGNER_INFO:
	case PKI_H_SIGNATURE_INFO:
	case PKI_H_SIGNATURE:
	case PKI_H_FILENAME:
	case PKI_H_TIMESTAMP:
	case PKI_H_ENCRYPTION_INFO:
	case PKI_H_ENCRYPTION_HASH_ALGORITHM:
	case PKI_H_ENCRYPTION_HASH:
		return 0;
	case PKI_H_SIGNER_NAME:
	case PKI_H_ISSUER_NAME:
	case PKI_H_SERIAL_NUMBER:
		return PKI_H_SIGNER_INFO;
	case PKI_H_HASH_ALGORITHM:
	case PKI_H_SIGNATURE_ALGORITHM_INFO:
		return PKI_H_SIGNATURE_INFO;
	case PKI_H_SIGNATURE_ALGORITHM:
	case PKI_H_SIGNATURE_MODULUS:
		return PKI_H_SIGNATURE_ALGORITHM_INFO;
	case PKI_H_ENCRYPTION_IV_INFO:
	case PKI_H_ENCRYPTION_KEY_INFO:
		return PKI_H_ENCRYPTION_INFO;
	case PKI_H_ENCRYPTION_UNKNOWN1:
	case PKI_H_ENCRYPTION_IV:
	case PKI_H_ENCRYPTION_PADDING:
		return PKI_H_ENCRYPTION_IV_INFO;
	case PKI_H_ENCRYPTION_UNKNOWN2:
	case PKI_H_ENCRYPTION_KEY_SIZE:
	case PKI_H_ENCRYPTION_KEY_ALGORITHM:
	case PKI_H_ENCRYPTION_KEY:
		return PKI_H_ENCRYPTION_KEY_INFO;
	default:
		return -1;
	}
}

static bool is_container(uint8_t tag)
{
	return tag == PKI_H_SIGNER_INFO || tag == PKI_H_SIGNATURE_INFO ||
	       tag == PKI_H_SIGNATURE_ALGORITHM_INFO || tag == PKI_H_ENCRYPTION_INFO ||
	       tag == PKI_H_ENCRYPTION_IV_INFO || tag == PKI_H_ENCRYPTION_KEY_INFO;
}

struct parse {
	struct pki_header *h;
	uint32_t seen; /* header tags are unique across containers: one bit each */
	int sig_alg;
	int modulus;
	int key_alg;
	struct base_err *err;
};

static int bad(struct parse *p, const struct pki_tlv *t, const char *why)
{
	return base_err_set(p->err, BASE_E_BAD_REQUEST, NULL, WHAT ": tag %u at offset %zu %s",
	                    t->tag, t->offset, why);
}

static int want_bytes(struct parse *p, const struct pki_tlv *t)
{
	return t->len == 0 ? bad(p, t, "is empty") : 0;
}

/* One leaf value into the header. */
static int leaf(struct parse *p, const struct pki_tlv *t)
{
	struct pki_header *h = p->h;
	struct base_err *err = p->err;

	switch (t->tag) {
	case PKI_H_SIGNER_VERSION:
		if (pki_tlv_want_len(t, 2, WHAT, err) < 0) {
			return -1;
		}
		h->has_signer_version = true;
		memcpy(h->signer_version, t->value, 2);
		return 0;
	case PKI_H_SIGNER_NAME:
	case PKI_H_ISSUER_NAME:
	case PKI_H_FILENAME:
		if (pki_tlv_want_str(t, WHAT, err) < 0) {
			return -1;
		}
		*(t->tag == PKI_H_SIGNER_NAME   ? &h->signer_name
		  : t->tag == PKI_H_ISSUER_NAME ? &h->issuer_name
		                                : &h->file_name) = (const char *)t->value;
		return 0;
	case PKI_H_SERIAL_NUMBER:
		h->serial = t->value;
		h->serial_len = t->len;
		return want_bytes(p, t);
	case PKI_H_HASH_ALGORITHM:
	case PKI_H_SIGNATURE_ALGORITHM:
	case PKI_H_SIGNATURE_MODULUS:
	case PKI_H_ENCRYPTION_UNKNOWN1:
	case PKI_H_ENCRYPTION_UNKNOWN2:
	case PKI_H_ENCRYPTION_KEY_ALGORITHM:
	case PKI_H_ENCRYPTION_HASH_ALGORITHM:
		if (pki_tlv_want_len(t, 1, WHAT, err) < 0) {
			return -1;
		}
		if (t->tag == PKI_H_HASH_ALGORITHM) {
			h->hash = t->value[0];
		} else if (t->tag == PKI_H_SIGNATURE_ALGORITHM) {
			p->sig_alg = t->value[0];
		} else if (t->tag == PKI_H_SIGNATURE_MODULUS) {
			p->modulus = t->value[0];
		} else if (t->tag == PKI_H_ENCRYPTION_KEY_ALGORITHM) {
			p->key_alg = t->value[0];
		} else if (t->tag == PKI_H_ENCRYPTION_HASH_ALGORITHM) {
			h->plain_hash = t->value[0];
		}
		return 0;
	case PKI_H_SIGNATURE:
		h->sig_offset = t->offset;
		h->sig = t->value;
		h->sig_len = t->len;
		return want_bytes(p, t);
	case PKI_H_TIMESTAMP:
		if (pki_tlv_want_len(t, 4, WHAT, err) < 0) {
			return -1;
		}
		h->timestamp = pki_tlv_get_u32(t->value);
		return 0;
	case PKI_H_ENCRYPTION_IV:
		h->iv = t->value;
		h->iv_len = t->len;
		return want_bytes(p, t);
	case PKI_H_ENCRYPTION_PADDING:
	case PKI_H_ENCRYPTION_KEY_SIZE:
		if (pki_tlv_want_len(t, 2, WHAT, err) < 0) {
			return -1;
		}
		*(t->tag == PKI_H_ENCRYPTION_PADDING ? &h->pad_count : &h->key_size) =
		    pki_tlv_get_u16(t->value);
		return 0;
	case PKI_H_ENCRYPTION_KEY:
		h->wrapped_key = t->value;
		h->wrapped_key_len = t->len;
		return want_bytes(p, t);
	case PKI_H_ENCRYPTION_HASH:
		h->plain_digest = t->value;
		h->plain_digest_len = t->len;
		return want_bytes(p, t);
	default:
		return bad(p, t, "is not expected here");
	}
}

/* The TLVs of one container (parent 0: the header after HEADER_LENGTH, up to padding). */
static int walk(struct parse *p, struct pki_tlv_reader *r, int parent)
{
	struct pki_tlv t;
	int rc;

	for (;;) {
		if (parent == 0 && r->pos < r->end && r->data[r->pos] == PKI_H_PADDING) {
			/* Padding ends the header: nothing but padding may follow. */
			for (size_t i = r->pos; i < r->end; i++) {
				if (r->data[i] != PKI_H_PADDING) {
					return base_err_set(p->err, BASE_E_BAD_REQUEST, NULL,
					                    WHAT ": byte %zu after the padding", i);
				}
			}
			return 0;
		}
		rc = pki_tlv_next(r, &t, WHAT, p->err);
		if (rc <= 0) {
			return rc;
		}
		if (parent_of(t.tag) != parent) {
			return bad(p, &t, parent_of(t.tag) < 0 ? "is unknown" : "is misplaced");
		}
		if (p->seen & (1u << t.tag)) {
			return bad(p, &t, "is repeated");
		}
		p->seen |= 1u << t.tag;
		if (is_container(t.tag)) {
			struct pki_tlv_reader inner = {r->data, (size_t)(t.value - r->data),
			                               (size_t)(t.value - r->data) + t.len};

			rc = walk(p, &inner, t.tag);
		} else {
			rc = leaf(p, &t);
		}
		if (rc < 0) {
			return -1;
		}
	}
}

static bool seen_all(const struct parse *p, const uint8_t *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(p->seen & (1u << tags[i]))) {
			return false;
		}
	}
	return true;
}

static int check_complete(struct parse *p)
{
	static const uint8_t required[] = {
	    PKI_H_SIGNER_NAME,         PKI_H_ISSUER_NAME,
	    PKI_H_SERIAL_NUMBER,       PKI_H_HASH_ALGORITHM,
	    PKI_H_SIGNATURE_ALGORITHM, PKI_H_SIGNATURE_MODULUS,
	    PKI_H_SIGNATURE,           PKI_H_FILENAME,
	    PKI_H_TIMESTAMP,
	};
	static const uint8_t encryption[] = {
	    PKI_H_ENCRYPTION_IV,       PKI_H_ENCRYPTION_PADDING,
	    PKI_H_ENCRYPTION_KEY_SIZE, PKI_H_ENCRYPTION_KEY_ALGORITHM,
	    PKI_H_ENCRYPTION_HASH,     PKI_H_ENCRYPTION_HASH_ALGORITHM,
	};
	struct pki_header *h = p->h;

	if (!seen_all(p, required, sizeof(required))) {
		return base_err_set(p->err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": signer, signature, file name or timestamp missing");
	}
	if (p->sig_alg != 0 || p->modulus > 3 || h->sig_len != (size_t)64 << p->modulus) {
		return base_err_set(p->err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": signature algorithm or size not RSA as announced");
	}
	h->encrypted = (p->seen & (1u << PKI_H_ENCRYPTION_INFO)) != 0;
	/* A wrapped key (algorithm 1), or our manual-key algorithms, which carry none. */
	bool wrapped = (p->seen & (1u << PKI_H_ENCRYPTION_KEY)) != 0;
	bool manual =
	    p->key_alg == PKI_KEY_ALG_MANUAL_AES128 || p->key_alg == PKI_KEY_ALG_MANUAL_RC4;
	h->key_algorithm = p->key_alg;
	if (h->encrypted && (!seen_all(p, encryption, sizeof(encryption)) ||
	                     (p->key_alg == 1 ? !wrapped : !manual || wrapped))) {
		return base_err_set(p->err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": incomplete encryption information");
	}
	if (!h->encrypted &&
	    (p->seen & (1u << PKI_H_ENCRYPTION_HASH | 1u << PKI_H_ENCRYPTION_HASH_ALGORITHM))) {
		return base_err_set(p->err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": plaintext digest without encryption");
	}
	return 0;
}

int pki_header_parse(const unsigned char *data, size_t len, struct pki_header *h,
                     struct base_err *err)
{
	struct parse p = {.h = h, .sig_alg = -1, .modulus = -1, .key_alg = -1, .err = err};
	struct pki_tlv_reader r = {data, 0, len};
	struct pki_tlv version, length;

	memset(h, 0, sizeof(*h));
	h->hash = -1;
	h->plain_hash = -1;
	/* VERSION then HEADER_LENGTH, always first; the length bounds everything else. */
	if (pki_tlv_next(&r, &version, WHAT, err) != 1 || version.tag != PKI_H_VERSION ||
	    pki_tlv_want_len(&version, 2, WHAT, err) < 0 ||
	    pki_tlv_next(&r, &length, WHAT, err) != 1 || length.tag != PKI_H_HEADER_LENGTH ||
	    pki_tlv_want_len(&length, 2, WHAT, err) < 0) {
		if (!err || err->code == BASE_OK) {
			base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			             WHAT ": does not start with VERSION and HEADER_LENGTH");
		}
		return -1;
	}
	memcpy(h->version, version.value, 2);
	h->length = pki_tlv_get_u16(length.value);
	if (h->length > len || h->length < r.pos || h->length % 4 != 0) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": header length %zu does not fit a %zu-byte file",
		                    h->length, len);
	}
	p.seen = 1u << PKI_H_VERSION | 1u << PKI_H_HEADER_LENGTH;
	r.end = h->length;
	if (walk(&p, &r, 0) < 0) {
		return -1;
	}
	return check_complete(&p);
}

int pki_header_verify(const unsigned char *data, size_t len, const struct pki_header *h,
                      EVP_PKEY *key, struct base_err *err)
{
	const EVP_MD *md = pki_hash_md(h->hash);
	size_t cut = h->sig_offset + 3 + h->sig_len;

	if (!md) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": hash algorithm %d is not supported", h->hash);
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    WHAT ": the signer's key is not RSA");
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && cut <= len && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
	          EVP_DigestVerifyUpdate(ctx, data, h->sig_offset) == 1 &&
	          EVP_DigestVerifyUpdate(ctx, data + cut, len - cut) == 1 &&
	          EVP_DigestVerifyFinal(ctx, h->sig, h->sig_len) == 1;

	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!ok) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "the signature of %s does not verify: the file was changed or "
		                    "signed by another key",
		                    h->file_name ? h->file_name : "the file");
	}
	return 0;
}

void pki_sign_hash_set(struct pki *pki, enum pki_hash hash)
{
	pki->sign_hash = hash;
}
