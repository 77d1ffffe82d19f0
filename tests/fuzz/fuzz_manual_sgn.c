/*
 * libFuzzer target: the reader `ucm-phone boot --symmetric-key` runs on a downloaded
 * SIP<MAC>.cnf.enc.sgn or LD<MAC>.x (pki_manual_sgn_open): strict header parse, shape checks,
 * AES-128-CBC or RC4 decryption and the keyed check, without a trust list (as the legacy
 * phones, which ignore the signature) and with both key sizes. Any input must give a clean
 * -1 or a NUL-terminated plaintext inside the body's size, never a crash, leak or UB.
 */
#include "pki/pki_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys of the seed corpus (tests/fuzz/corpus/manual_sgn). */
static const unsigned char key[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	for (size_t key_len = 16; key_len <= 32; key_len += 16) {
		struct base_err err = {0};
		unsigned char *plain = NULL;
		size_t plain_len = 0;
		int rc = pki_manual_sgn_open(buf, size, NULL, NULL, 0, key, key_len, &plain,
		                             &plain_len, &err);
		if ((rc == 0) != (plain != NULL) ||
		    (plain && (plain_len >= size || plain[plain_len])))
			abort();
		free(plain);
	}
	free(buf);
	return 0;
}
