/*
 * libFuzzer target: the CAPF message decoder (specs/capf.md), the typed element reads the
 * server and ucm-phone apply to what they receive, and a re-encoding of what was read, which
 * must decode again to the same values. The input is copied into a buffer of exactly its
 * size, so a read past the end is caught.
 */
#include "pki/pki.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char out[PKI_CAPF_MAX_MSG];

static void reencode(const struct pki_capf_msg *msg)
{
	struct pki_capf_writer w;
	struct base_err err = {0};
	pki_capf_begin(&w, out, sizeof(out), msg->command, msg->session_id);
	for (unsigned tag = 1; tag <= PKI_CAPF_T_MAX; tag++)
		if (msg->elem[tag].value)
			pki_capf_put(&w, tag, msg->elem[tag].value, msg->elem[tag].len);
	long n = pki_capf_end(&w, &err);
	if (n < 0)
		abort(); /* what was decoded always fits again */
	struct pki_capf_msg again;
	if (pki_capf_decode(out, (size_t)n, &again, &err) != 0 || again.command != msg->command ||
	    again.session_id != msg->session_id)
		abort();
	for (unsigned tag = 1; tag <= PKI_CAPF_T_MAX; tag++)
		if (again.elem[tag].len != msg->elem[tag].len ||
		    !again.elem[tag].value != !msg->elem[tag].value ||
		    (msg->elem[tag].len &&
		     memcmp(again.elem[tag].value, msg->elem[tag].value, msg->elem[tag].len) != 0))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct base_err err = {0};
	size_t total;
	pki_capf_frame(buf, size, &total, &err);
	struct pki_capf_msg msg;
	if (pki_capf_decode(buf, size, &msg, &err) == 0) {
		unsigned v;
		char text[64];
		const unsigned char *p;
		size_t len;
		struct pki_capf_sudi sudi;
		for (unsigned tag = 1; tag <= PKI_CAPF_T_MAX; tag++) {
			pki_capf_get_u8(&msg, tag, &v, &err);
			pki_capf_get_u16(&msg, tag, &v, &err);
			pki_capf_get_text(&msg, tag, text, sizeof(text), &err);
		}
		pki_capf_get_cert(&msg, &p, &len, &err);
		pki_capf_get_sha2_sig(&msg, &v, &p, &len, &err);
		pki_capf_get_sudi(&msg, &sudi, &err);
		pki_capf_command_name(msg.command);
		reencode(&msg);
	}
	free(buf);
	return 0;
}
