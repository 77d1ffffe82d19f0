/*
 * libFuzzer target: the signed-file readers ucm-phone runs on a downloaded .sgn or .enc.sgn.
 * The header parser sees every input; the verifier and the decrypting reader then run with
 * no trust list (so they stop at the signer lookup, after the full parse) and the payload
 * pointers they return must lie inside the input. Any input must give a clean -1 or a
 * result, never a crash, a read outside the input, a leak or undefined behaviour.
 */
#include "pki/pki_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	struct base_err err = {0};
	struct pki_header h;
	const unsigned char *payload = NULL;
	unsigned char *plain = NULL;
	size_t payload_len = 0, plain_len = 0;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if (pki_header_parse(buf, size, &h, &err) == 0) {
		/* Everything the header points at is inside it. */
		if (h.length > size || h.sig_offset + 3 + h.sig_len > h.length ||
		    (h.file_name && ((const unsigned char *)h.file_name < buf ||
		                     (const unsigned char *)h.file_name >= buf + h.length)) ||
		    (h.encrypted && h.wrapped_key + h.wrapped_key_len > buf + h.length))
			abort();
	}
	if (pki_sgn_verify(buf, size, NULL, NULL, 0, &payload, &payload_len, &err) == 0)
		abort(); /* no list names a signer */
	if (pki_enc_sgn_open(buf, size, NULL, NULL, 0, NULL, &plain, &plain_len, &err) == 0)
		abort();
	if (payload || plain)
		abort();
	free(buf);
	return 0;
}
