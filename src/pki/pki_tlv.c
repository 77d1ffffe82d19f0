/*
 * The Cisco TLV format of trust lists and signed files: a 1-byte tag, a 2-byte big-endian
 * length, the value. Writing appends to a growing buffer; reading walks a window of the input
 * and never trusts a length it has not checked against that window.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "pki/pki_int.h"

/* ---- writing ----------------------------------------------------------------------------- */

static bool buf_reserve(struct pki_buf *b, size_t more)
{
	if (b->failed) {
		return false;
	}
	if (more > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
	if (b->len + more <= b->cap) {
		return true;
	}
	size_t cap = b->cap ? b->cap : 256;

	while (cap < b->len + more) {
		cap *= 2;
	}
	unsigned char *p = realloc(b->data, cap);

	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void pki_buf_put(struct pki_buf *b, const void *data, size_t len)
{
	if (len && buf_reserve(b, len)) {
		memcpy(b->data + b->len, data, len);
		b->len += len;
	}
}

void pki_buf_u8(struct pki_buf *b, uint8_t v)
{
	pki_buf_put(b, &v, 1);
}

void pki_buf_u16(struct pki_buf *b, uint16_t v)
{
	unsigned char p[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	pki_buf_put(b, p, sizeof(p));
}

void pki_buf_u32(struct pki_buf *b, uint32_t v)
{
	unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};

	pki_buf_put(b, p, sizeof(p));
}

void pki_tlv_put(struct pki_buf *b, uint8_t tag, const void *value, size_t len)
{
	if (len > PKI_TLV_MAX) {
		b->failed = true;
		return;
	}
	pki_buf_u8(b, tag);
	pki_buf_u16(b, (uint16_t)len);
	pki_buf_put(b, value, len);
}

void pki_tlv_u8(struct pki_buf *b, uint8_t tag, uint8_t v)
{
	pki_tlv_put(b, tag, &v, 1);
}

void pki_tlv_u16(struct pki_buf *b, uint8_t tag, uint16_t v)
{
	unsigned char p[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	pki_tlv_put(b, tag, p, sizeof(p));
}

void pki_tlv_u32(struct pki_buf *b, uint8_t tag, uint32_t v)
{
	unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};

	pki_tlv_put(b, tag, p, sizeof(p));
}

void pki_tlv_str(struct pki_buf *b, uint8_t tag, const char *s)
{
	pki_tlv_put(b, tag, s, strlen(s) + 1);
}

size_t pki_tlv_open(struct pki_buf *b, uint8_t tag)
{
	size_t start = b->len;

	pki_buf_u8(b, tag);
	pki_buf_u16(b, 0);
	return start;
}

void pki_tlv_close(struct pki_buf *b, size_t start)
{
	if (b->failed) {
		return;
	}
	size_t len = b->len - start - 3;

	if (len > PKI_TLV_MAX) {
		b->failed = true;
		return;
	}
	b->data[start + 1] = (unsigned char)(len >> 8);
	b->data[start + 2] = (unsigned char)len;
}

void pki_buf_free(struct pki_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int pki_buf_finish(struct pki_buf *b, unsigned char **out, size_t *out_len, struct base_err *err)
{
	if (b->failed) {
		pki_buf_free(b);
		*out = NULL;
		*out_len = 0;
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "pki: out of memory or a value over 65535 bytes");
	}
	*out = b->data;
	*out_len = b->len;
	memset(b, 0, sizeof(*b));
	return 0;
}

/* ---- reading ----------------------------------------------------------------------------- */

unsigned pki_tlv_get_u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

uint32_t pki_tlv_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pki_tlv_next(struct pki_tlv_reader *r, struct pki_tlv *t, const char *what,
                 struct base_err *err)
{
	if (r->pos >= r->end) {
		return 0;
	}
	if (r->end - r->pos < 3) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: truncated TLV at offset %zu", what, r->pos);
	}
	const unsigned char *p = r->data + r->pos;
	size_t len = pki_tlv_get_u16(p + 1);

	if (len > r->end - r->pos - 3) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: tag %u at offset %zu is %zu bytes long, past the end of "
		                    "its container",
		                    what, p[0], r->pos, len);
	}
	t->tag = p[0];
	t->offset = r->pos;
	t->value = p + 3;
	t->len = len;
	r->pos += 3 + len;
	return 1;
}

int pki_tlv_want_len(const struct pki_tlv *t, size_t len, const char *what, struct base_err *err)
{
	if (t->len != len) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: tag %u at offset %zu must be %zu bytes long, not %zu",
		                    what, t->tag, t->offset, len, t->len);
	}
	return 0;
}

int pki_tlv_want_str(const struct pki_tlv *t, const char *what, struct base_err *err)
{
	if (t->len == 0 || t->value[t->len - 1] != '\0' || memchr(t->value, '\0', t->len - 1)) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "%s: tag %u at offset %zu is not a NUL-terminated string", what,
		                    t->tag, t->offset);
	}
	return 0;
}

/* ---- names and serial numbers ------------------------------------------------------------ */

char *pki_tlv_name(const X509_NAME *name)
{
	/* RFC 2253/4514 escaping and short names, but in certificate order (no reversal) and
	 * UTF-8 kept as is: "CN=SAST,O=Example,OU=SAST". */
	const unsigned long flags =
	    (XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	char *out = NULL;
	long len;

	if (!bio) {
		return NULL;
	}
	if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		out = malloc((size_t)len + 1);
		if (out) {
			memcpy(out, data, (size_t)len);
			out[len] = '\0';
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	return out;
}

int pki_tlv_serial(const X509 *cert, unsigned char out[64])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	int n = -1;

	if (bn && BN_num_bytes(bn) <= 64) {
		n = BN_bn2bin(bn, out);
	}
	BN_free(bn);
	return n;
}

bool pki_tlv_names_cert(const X509 *cert, const char *issuer, const unsigned char *serial,
                        size_t serial_len)
{
	unsigned char own[64];
	int n = pki_tlv_serial(cert, own);

	if (n < 0 || (size_t)n != serial_len || memcmp(own, serial, serial_len) != 0) {
		return false;
	}
	char *name = pki_tlv_name(X509_get_issuer_name(cert));
	bool same = name && strcmp(name, issuer) == 0;

	free(name);
	return same;
}
