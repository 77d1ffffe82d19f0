/*
 * libFuzzer target: the TVS message decoder, which reads what anyone connecting to port 2445
 * sends. Whatever decodes is re-encoded and decoded again and must come back the same; any
 * input must give a clean -1, 0 (more bytes needed) or a message inside the input, never a
 * crash, a read outside the input or undefined behaviour.
 */
#include "pki/pki.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	struct pki_tvs_msg msg, again;
	struct base_err err = {0};
	unsigned char *out = NULL;
	size_t out_len = 0;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	long used = pki_tvs_decode(buf, size, &msg, &err);
	if (used > (long)size)
		abort();
	if (used > 0 && (msg.command == PKI_TVS_VERIFY_REQUEST ? msg.cert != NULL : true)) {
		if (msg.cert && (msg.cert < buf || msg.cert + msg.cert_len > buf + used))
			abort();
		if (msg.command != PKI_TVS_VERIFY_REQUEST && msg.status < 0)
			msg.status = 1;
		if (pki_tvs_encode(&msg, &out, &out_len, &err) == 0) {
			if (pki_tvs_decode(out, out_len, &again, &err) != (long)out_len ||
			    again.session != msg.session)
				abort();
			free(out);
		}
	}
	free(buf);
	return 0;
}
