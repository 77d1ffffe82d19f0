/*
 * TVS messages (tvs.md §2-4): a 10-byte header (protocol 0x57, version 1, command, reserved,
 * session ID, length) and TLV elements. The decoder checks every length against the message
 * before it looks at a value, so a phone (or anyone) sending garbage gets a clean error.
 */
#include <stdlib.h>
#include <string.h>

#include "pki/pki_int.h"

#define TVS_PROTOCOL 0x57
#define TVS_VERSION  1
#define HEADER_LEN   10

enum {
	EL_DEVICE_NAME = 1,
	EL_CERTIFICATE = 2,
	EL_STATUS = 7,
	EL_ROLES = 8,
	EL_TTL = 9,
};

/* DEVICE_NAME: one format byte (0x01), then ASCII without NUL; trailing NULs tolerated. */
static int device_name(const struct pki_tlv *t, struct pki_tvs_msg *msg, struct base_err *err)
{
	size_t n = t->len;

	while (n > 1 && t->value[n - 1] == '\0') {
		n--;
	}
	if (n < 2 || n - 1 >= sizeof(msg->device_name)) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "TVS: device name of %zu bytes",
		                    t->len);
	}
	for (size_t i = 1; i < n; i++) {
		if (t->value[i] < 0x21 || t->value[i] > 0x7e) {
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    "TVS: device name is not printable ASCII");
		}
	}
	memcpy(msg->device_name, t->value + 1, n - 1);
	msg->device_name[n - 1] = '\0';
	return 0;
}

static int element(const struct pki_tlv *t, struct pki_tvs_msg *msg, struct base_err *err)
{
	switch (t->tag) {
	case EL_DEVICE_NAME:
		return device_name(t, msg, err);
	case EL_CERTIFICATE:
		if (t->len == 0) {
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    "TVS: empty certificate");
		}
		msg->cert = t->value;
		msg->cert_len = t->len;
		return 0;
	case EL_STATUS:
		if (pki_tlv_want_len(t, 1, "TVS", err) < 0) {
			return -1;
		}
		msg->status = t->value[0];
		return 0;
	case EL_ROLES:
		if (t->len > PKI_TVS_MAX_ROLES) {
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL, "TVS: %zu roles",
			                    t->len);
		}
		memcpy(msg->roles, t->value, t->len);
		msg->nroles = t->len;
		return 0;
	case EL_TTL:
		if (pki_tlv_want_len(t, 4, "TVS", err) < 0) {
			return -1;
		}
		msg->ttl = pki_tlv_get_u32(t->value);
		return 0;
	default:
		return 0; /* unknown elements are skipped (tvs.md §2, INFERRED) */
	}
}

long pki_tvs_decode(const unsigned char *data, size_t len, struct pki_tvs_msg *msg,
                    struct base_err *err)
{
	memset(msg, 0, sizeof(*msg));
	msg->status = -1;
	if (len >= 2 && (data[0] != TVS_PROTOCOL || data[1] != TVS_VERSION)) {
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "TVS: not protocol 0x57 version 1 (%02x %02x)", data[0],
		                    data[1]);
	}
	if (len < HEADER_LEN) {
		return 0;
	}
	size_t total = HEADER_LEN + pki_tlv_get_u16(data + 8);

	if (len < total) {
		return 0;
	}
	msg->command = data[2];
	msg->session = pki_tlv_get_u32(data + 4);

	struct pki_tlv_reader r = {data, HEADER_LEN, total};
	struct pki_tlv t;
	uint32_t seen = 0;
	int rc;

	while ((rc = pki_tlv_next(&r, &t, "TVS", err)) == 1) {
		if (t.tag < 32 && (seen & (1u << t.tag))) {
			return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
			                    "TVS: element %u repeated", t.tag);
		}
		seen |= t.tag < 32 ? 1u << t.tag : 0;
		if (element(&t, msg, err) < 0) {
			return -1;
		}
	}
	return rc < 0 ? -1 : (long)total;
}

int pki_tvs_encode(const struct pki_tvs_msg *msg, unsigned char **out, size_t *out_len,
                   struct base_err *err)
{
	struct pki_buf b = {0};

	if (msg->command == PKI_TVS_VERIFY_REQUEST && (!msg->device_name[0] || !msg->cert_len)) {
		*out = NULL;
		*out_len = 0;
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "TVS: a request needs a device name and a certificate");
	}
	pki_buf_u8(&b, TVS_PROTOCOL);
	pki_buf_u8(&b, TVS_VERSION);
	pki_buf_u8(&b, msg->command);
	pki_buf_u8(&b, 0);
	pki_buf_u32(&b, msg->session);
	pki_buf_u16(&b, 0);
	if (msg->command == PKI_TVS_VERIFY_REQUEST) {
		size_t at = pki_tlv_open(&b, EL_DEVICE_NAME);

		pki_buf_u8(&b, 1);
		pki_buf_put(&b, msg->device_name, strlen(msg->device_name));
		pki_tlv_close(&b, at);
		pki_tlv_put(&b, EL_CERTIFICATE, msg->cert, msg->cert_len);
	} else {
		pki_tlv_u8(&b, EL_STATUS, (uint8_t)msg->status);
		if (msg->status == 0) {
			pki_tlv_put(&b, EL_ROLES, msg->roles, msg->nroles);
			pki_tlv_u32(&b, EL_TTL, msg->ttl);
		}
	}
	if (!b.failed && b.len - HEADER_LEN > PKI_TLV_MAX) {
		b.failed = true;
	}
	if (!b.failed) {
		b.data[8] = (unsigned char)((b.len - HEADER_LEN) >> 8);
		b.data[9] = (unsigned char)(b.len - HEADER_LEN);
	}
	return pki_buf_finish(&b, out, out_len, err);
}
