/*
 * CAPF message codec (specs/capf.md sections 2 and 4). Both directions: the server decodes
 * what phones send and encodes its requests; ucm-phone does the reverse. Every length read
 * from the wire is checked against the bytes actually there before it is used.
 */
#include "pki/pki.h"

#include <string.h>

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *const command_names[] = {
    [PKI_CAPF_AUTH_REQUEST] = "AUTH_REQUEST",
    [PKI_CAPF_AUTH_RESPONSE] = "AUTH_RESPONSE",
    [PKI_CAPF_KEY_GENERATE_REQUEST] = "KEY_GENERATE_REQUEST",
    [PKI_CAPF_KEY_GENERATE_RESPONSE] = "KEY_GENERATE_RESPONSE",
    [PKI_CAPF_STORE_CERTIFICATE_REQUEST] = "STORE_CERTIFICATE_REQUEST",
    [PKI_CAPF_STORE_CERTIFICATE_RESPONSE] = "STORE_CERTIFICATE_RESPONSE",
    [PKI_CAPF_FETCH_CERTIFICATE_REQUEST] = "FETCH_CERTIFICATE_REQUEST",
    [PKI_CAPF_FETCH_CERTIFICATE_RESPONSE] = "FETCH_CERTIFICATE_RESPONSE",
    [PKI_CAPF_DELETE_CERTIFICATE_REQUEST] = "DELETE_CERTIFICATE_REQUEST",
    [PKI_CAPF_DELETE_CERTIFICATE_RESPONSE] = "DELETE_CERTIFICATE_RESPONSE",
    [PKI_CAPF_END_SESSION] = "END_SESSION",
    [PKI_CAPF_REQUEST_IN_PROGRESS] = "REQUEST_IN_PROGRESS",
};

static const char *const tag_names[] = {
    [PKI_CAPF_T_REASON] = "REASON",
    [PKI_CAPF_T_REASON_INFO] = "REASON_INFO",
    [PKI_CAPF_T_CERTIFICATE_TYPE] = "CERTIFICATE_TYPE",
    [PKI_CAPF_T_CERTIFICATE] = "CERTIFICATE",
    [PKI_CAPF_T_SIGNED_DATA] = "SIGNED_DATA",
    [PKI_CAPF_T_VERSION] = "VERSION",
    [PKI_CAPF_T_AUTH_TYPE] = "AUTH_TYPE",
    [PKI_CAPF_T_PUBLIC_KEY] = "PUBLIC_KEY",
    [PKI_CAPF_T_KEY_SIZE] = "KEY_SIZE",
    [PKI_CAPF_T_PASSWORD] = "PASSWORD",
    [PKI_CAPF_T_DEVICE_NAME] = "DEVICE_NAME",
    [PKI_CAPF_T_SUDI_DATA] = "SUDI_DATA",
    [PKI_CAPF_T_KEY_TYPE] = "KEY_TYPE",
    [PKI_CAPF_T_CURVE] = "CURVE",
    [PKI_CAPF_T_SHA2_SIGNED_DATA] = "SHA2_SIGNED_DATA",
};

const char *pki_capf_command_name(unsigned command)
{
	if (command < sizeof(command_names) / sizeof(command_names[0]) && command_names[command])
		return command_names[command];
	return "unknown";
}

static const char *tag_name(unsigned tag)
{
	return tag <= PKI_CAPF_T_MAX && tag_names[tag] ? tag_names[tag] : "unknown";
}

int pki_capf_frame(const unsigned char *buf, size_t len, size_t *total, struct base_err *err)
{
	if (len >= 1 && buf[0] != PKI_CAPF_PROTOCOL_ID)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "not a CAPF message: protocol ID 0x%02x, expected 0x55",
		                    buf[0]);
	if (len < PKI_CAPF_HEADER_LEN)
		return 1;
	*total = PKI_CAPF_HEADER_LEN + get16(buf + 6);
	return 0;
}

int pki_capf_decode(const unsigned char *buf, size_t len, struct pki_capf_msg *msg,
                    struct base_err *err)
{
	size_t total = 0;
	memset(msg, 0, sizeof(*msg));
	int rc = pki_capf_frame(buf, len, &total, err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "truncated CAPF header: %zu of 8 bytes", len);
	if (total != len)
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "CAPF body length says %zu bytes, message has %zu", total - 8,
		                    len - 8);
	msg->command = buf[1];
	msg->session_id = get32(buf + 2);
	size_t pos = PKI_CAPF_HEADER_LEN;
	while (pos < len) {
		if (len - pos < 3)
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    "truncated element header at byte %zu", pos);
		unsigned tag = buf[pos];
		size_t vlen = get16(buf + pos + 1);
		pos += 3;
		if (vlen > len - pos)
			return base_err_set(
			    err, BASE_E_BAD_REQUEST, NULL,
			    "element %s (%u) of %zu bytes runs past the message end", tag_name(tag),
			    tag, vlen);
		if (tag <= PKI_CAPF_T_MAX) {
			/* Two values for one tag: which one counts is ambiguous (two passwords,
			 * two device names), so the message is refused. */
			if (msg->elem[tag].value)
				return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
				                    "element %s (%u) appears twice", tag_name(tag),
				                    tag);
			msg->elem[tag].value = buf + pos;
			msg->elem[tag].len = vlen;
		}
		pos += vlen;
	}
	return 0;
}

static const struct pki_capf_elem *elem(const struct pki_capf_msg *msg, enum pki_capf_tag tag)
{
	return (unsigned)tag <= PKI_CAPF_T_MAX && msg->elem[tag].value ? &msg->elem[tag] : NULL;
}

static int malformed(struct base_err *err, enum pki_capf_tag tag, const char *why)
{
	return base_err_set(err, BASE_E_BAD_REQUEST, tag_name(tag), "element %s %s", tag_name(tag),
	                    why);
}

/* An unsigned big-endian integer of exactly width bytes. */
static int get_uint(const struct pki_capf_msg *msg, enum pki_capf_tag tag, size_t width,
                    unsigned *out, struct base_err *err)
{
	const struct pki_capf_elem *e = elem(msg, tag);
	if (!e)
		return 0;
	if (e->len != width)
		return base_err_set(err, BASE_E_BAD_REQUEST, tag_name(tag),
		                    "element %s must be %zu byte%s long", tag_name(tag), width,
		                    width == 1 ? "" : "s");
	*out = width == 1 ? e->value[0] : get16(e->value);
	return 1;
}

int pki_capf_get_u8(const struct pki_capf_msg *msg, enum pki_capf_tag tag, unsigned *out,
                    struct base_err *err)
{
	return get_uint(msg, tag, 1, out, err);
}

int pki_capf_get_u16(const struct pki_capf_msg *msg, enum pki_capf_tag tag, unsigned *out,
                     struct base_err *err)
{
	return get_uint(msg, tag, 2, out, err);
}

int pki_capf_get_text(const struct pki_capf_msg *msg, enum pki_capf_tag tag, char *out, size_t size,
                      struct base_err *err)
{
	const struct pki_capf_elem *e = elem(msg, tag);
	if (!e)
		return 0;
	size_t n = e->len;
	if (n > 0 && e->value[n - 1] == '\0')
		n--;
	if (memchr(e->value, '\0', n))
		return malformed(err, tag, "has a NUL inside its text");
	if (n >= size)
		return malformed(err, tag, "is too long");
	memcpy(out, e->value, n);
	out[n] = '\0';
	return 1;
}

int pki_capf_get_cert(const struct pki_capf_msg *msg, const unsigned char **der, size_t *len,
                      struct base_err *err)
{
	const struct pki_capf_elem *e = elem(msg, PKI_CAPF_T_CERTIFICATE);
	if (!e)
		return 0;
	if (e->len <= 5)
		return malformed(err, PKI_CAPF_T_CERTIFICATE, "is too short to hold a certificate");
	*der = e->value + 5;
	*len = e->len - 5;
	return 1;
}

int pki_capf_get_sha2_sig(const struct pki_capf_msg *msg, unsigned *hash, const unsigned char **sig,
                          size_t *len, struct base_err *err)
{
	const struct pki_capf_elem *e = elem(msg, PKI_CAPF_T_SHA2_SIGNED_DATA);
	if (!e)
		return 0;
	if (e->len < 3 || get16(e->value + 1) != e->len - 3)
		return malformed(err, PKI_CAPF_T_SHA2_SIGNED_DATA,
		                 "must be a hash code, a 16-bit length and that many bytes");
	*hash = e->value[0];
	*sig = e->value + 3;
	*len = e->len - 3;
	return 1;
}

int pki_capf_get_sudi(const struct pki_capf_msg *msg, struct pki_capf_sudi *out,
                      struct base_err *err)
{
	const struct pki_capf_elem *e = elem(msg, PKI_CAPF_T_SUDI_DATA);
	if (!e)
		return 0;
	const unsigned char *p = e->value, *end = e->value + e->len;
	const unsigned char **values[3] = {&out->cert, &out->sig1, &out->sig2};
	size_t *lens[3] = {&out->cert_len, &out->sig1_len, &out->sig2_len};
	for (int i = 0; i < 3; i++) {
		if (end - p < 3 || (size_t)(end - p - 3) < get16(p + 1))
			return malformed(err, PKI_CAPF_T_SUDI_DATA,
			                 "must hold three complete sub-elements");
		if (i == 2)
			out->sig2_hash = p[0];
		*values[i] = p + 3;
		*lens[i] = get16(p + 1);
		p += 3 + *lens[i];
	}
	if (p != end)
		return malformed(err, PKI_CAPF_T_SUDI_DATA,
		                 "has bytes after its third sub-element");
	return 1;
}

/* ---- encoder ---- */

static void put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Room for n more bytes, or the message is marked as overflowing and nothing is written. */
static unsigned char *reserve(struct pki_capf_writer *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len || w->len + n > PKI_CAPF_MAX_MSG) {
		w->overflow = true;
		return NULL;
	}
	unsigned char *p = w->buf + w->len;
	w->len += n;
	return p;
}

void pki_capf_begin(struct pki_capf_writer *w, unsigned char *buf, size_t cap,
                    enum pki_capf_command command, uint32_t session_id)
{
	*w = (struct pki_capf_writer){.buf = buf, .cap = cap};
	unsigned char *p = reserve(w, PKI_CAPF_HEADER_LEN);
	if (!p)
		return;
	p[0] = PKI_CAPF_PROTOCOL_ID;
	p[1] = (unsigned char)command;
	p[2] = (unsigned char)(session_id >> 24);
	p[3] = (unsigned char)(session_id >> 16);
	p[4] = (unsigned char)(session_id >> 8);
	p[5] = (unsigned char)session_id;
	put16(p + 6, 0);
}

/* An element header for a value of len bytes; the value follows. */
static unsigned char *put_header(struct pki_capf_writer *w, enum pki_capf_tag tag, size_t len)
{
	if (len > 0xffff) {
		w->overflow = true;
		return NULL;
	}
	unsigned char *p = reserve(w, 3 + len);
	if (!p)
		return NULL;
	p[0] = (unsigned char)tag;
	put16(p + 1, len);
	return p + 3;
}

void pki_capf_put(struct pki_capf_writer *w, enum pki_capf_tag tag, const void *value, size_t len)
{
	unsigned char *p = put_header(w, tag, len);
	if (p && len)
		memcpy(p, value, len);
}

void pki_capf_put_u8(struct pki_capf_writer *w, enum pki_capf_tag tag, unsigned value)
{
	unsigned char v = (unsigned char)value;
	pki_capf_put(w, tag, &v, 1);
}

void pki_capf_put_u16(struct pki_capf_writer *w, enum pki_capf_tag tag, unsigned value)
{
	unsigned char v[2];
	put16(v, value);
	pki_capf_put(w, tag, v, 2);
}

void pki_capf_put_text(struct pki_capf_writer *w, enum pki_capf_tag tag, const char *text)
{
	pki_capf_put(w, tag, text, strlen(text) + 1);
}

/* tag(1) + length(2) + value inside an element already reserved. */
static unsigned char *put_sub(unsigned char *p, unsigned tag, const unsigned char *v, size_t len)
{
	p[0] = (unsigned char)tag;
	put16(p + 1, len);
	if (len)
		memcpy(p + 3, v, len);
	return p + 3 + len;
}

void pki_capf_put_cert(struct pki_capf_writer *w, const unsigned char *der, size_t len)
{
	if (len > 0xffff - 5) {
		w->overflow = true;
		return;
	}
	unsigned char *p = put_header(w, PKI_CAPF_T_CERTIFICATE, len + 5);
	if (!p)
		return;
	p[0] = 0x01;
	put16(p + 1, len + 2);
	p[3] = 0x00;
	p[4] = PKI_CAPF_CERT_LSC; /* the reference writes 1 whatever the certificate is */
	memcpy(p + 5, der, len);
}

void pki_capf_put_sha2_sig(struct pki_capf_writer *w, enum pki_capf_hash hash,
                           const unsigned char *sig, size_t len)
{
	if (len > 0xffff - 3) {
		w->overflow = true;
		return;
	}
	unsigned char *p = put_header(w, PKI_CAPF_T_SHA2_SIGNED_DATA, len + 3);
	if (p) {
		unsigned char h = (unsigned char)hash;
		put_sub(p, h, sig, len);
	}
}

void pki_capf_put_sudi(struct pki_capf_writer *w, const struct pki_capf_sudi *sudi)
{
	size_t len = 9 + sudi->cert_len + sudi->sig1_len + sudi->sig2_len;
	if (sudi->cert_len > 0xffff || sudi->sig1_len > 0xffff || sudi->sig2_len > 0xffff) {
		w->overflow = true;
		return;
	}
	unsigned char *p = put_header(w, PKI_CAPF_T_SUDI_DATA, len);
	if (!p)
		return;
	p = put_sub(p, 0x00, sudi->cert, sudi->cert_len);
	p = put_sub(p, PKI_CAPF_HASH_SHA1, sudi->sig1, sudi->sig1_len);
	put_sub(p, sudi->sig2_hash, sudi->sig2, sudi->sig2_len);
}

long pki_capf_end(struct pki_capf_writer *w, struct base_err *err)
{
	if (w->overflow || w->len < PKI_CAPF_HEADER_LEN)
		return base_err_set(err, BASE_E_TOO_LARGE, NULL,
		                    "CAPF message does not fit in %zu bytes", w->cap);
	put16(w->buf + 6, w->len - PKI_CAPF_HEADER_LEN);
	return (long)w->len;
}
